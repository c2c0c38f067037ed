/*
 * imap_resp: the IMAP response parser of the sync client, built on
 * lib/imap_lex.
 *
 * Pure, like the lexer under it: the caller feeds the bytes it read from
 * the server and pulls events; nothing here does I/O. The state between
 * tokens is an explicit enum and the lexer keeps the state inside a
 * token, so the parser resumes at any byte: fed all at once or one byte at
 * a time, it gives the same events. A call that returns 0 has used up the
 * input; feed more and call again.
 *
 * One event per response line, given when the line has ended (so every
 * field is there), except for message bodies: BODY[] (and RFC822, BINARY[]
 * and sections such as BODY[HEADER.FIELDS (Message-ID)]) are streamed as IMAP_RESP_FETCH_BODY pieces straight out of the lexer
 * while the FETCH line is still open, so a 100 MB message never sits in
 * memory; the closing IMAP_RESP_FETCH then has every other attribute.
 * Servers send UID and FLAGS before the body when asked in that order, and
 * the pieces carry the attributes seen so far.
 *
 * What is understood: status responses (tagged, or untagged OK NO BAD
 * PREAUTH BYE) with their response codes (RFC 3501, 4315, 7162, 5530),
 * continuation requests, CAPABILITY, ENABLED, LIST/LSUB/XLIST, STATUS,
 * FLAGS, EXISTS, RECENT, EXPUNGE, FETCH (UID FLAGS INTERNALDATE MODSEQ
 * RFC822.SIZE and the body; other items are skipped), SEARCH (with its
 * MODSEQ), ESEARCH, VANISHED (EARLIER), NAMESPACE (its first personal
 * namespace). Any other untagged response is read over, literals and
 * all, and given as IMAP_RESP_OTHER.
 *
 * Errors: -1 when the server's bytes are not IMAP or break a limit;
 * imap_resp_error() says where, in a sentence. The parser then stays
 * failed: a client cannot trust what follows and drops the connection.
 *
 * Bounds: a line (literal data not counted) is at most max_line bytes, a
 * literal at most max_literal, a list at most IMAP_RESP_ITEMS_MAX items;
 * strings given as literals (a mailbox name) are collected only up to
 * max_line. Memory is therefore bounded by a few times max_line.
 */
#ifndef MAILVAULT_LIB_IMAP_RESP_H
#define MAILVAULT_LIB_IMAP_RESP_H

#include <stddef.h>
#include <stdint.h>

/* Defaults for a client: long SEARCH and VANISHED lines, big messages. */
#define IMAP_RESP_LINE_MAX	(4 * 1024 * 1024)
#define IMAP_RESP_LITERAL_MAX	(1024ULL * 1024 * 1024)
/* Most items in one list: capabilities, flags, mailbox attributes. */
#define IMAP_RESP_ITEMS_MAX	10000

struct imap_resp_parser;

enum imap_resp_kind {
	IMAP_RESP_STATUS,	/* tagged, or untagged OK NO BAD PREAUTH BYE */
	IMAP_RESP_CONTINUE,	/* "+ text": text */
	IMAP_RESP_CAPABILITY,	/* items */
	IMAP_RESP_ENABLED,	/* items */
	IMAP_RESP_LIST,		/* items (attributes), delim, mailbox, lsub */
	IMAP_RESP_STATUS_DATA,	/* mailbox, st */
	IMAP_RESP_FLAGS,	/* items */
	IMAP_RESP_EXISTS,	/* num */
	IMAP_RESP_RECENT,	/* num */
	IMAP_RESP_EXPUNGE,	/* num: the sequence number */
	IMAP_RESP_SEARCH,	/* nums, nnums, modseq */
	IMAP_RESP_ESEARCH,	/* es */
	IMAP_RESP_VANISHED,	/* earlier, set */
	IMAP_RESP_FETCH_BODY,	/* fetch: one piece of the body */
	IMAP_RESP_FETCH,	/* fetch: the whole response, body excepted */
	IMAP_RESP_OTHER,	/* text: the response's name; read over */
	IMAP_RESP_NAMESPACE,	/* num 1, mailbox (the prefix) and delim of
				 * the first personal namespace; num 0
				 * when there is none (NIL). The others
				 * are read over. */
};

enum imap_resp_status {
	IMAP_RESP_OK,
	IMAP_RESP_NO,
	IMAP_RESP_BAD,
	IMAP_RESP_PREAUTH,
	IMAP_RESP_BYE,
};

/* Response codes ("[UIDVALIDITY 3857529045]"). */
enum imap_resp_code {
	IMAP_CODE_NONE,		/* no code */
	IMAP_CODE_OTHER,	/* not known here: code_name, code_arg */
	IMAP_CODE_ALERT,
	IMAP_CODE_PARSE,
	IMAP_CODE_READ_ONLY,
	IMAP_CODE_READ_WRITE,
	IMAP_CODE_TRYCREATE,
	IMAP_CODE_UIDVALIDITY,	/* code_num */
	IMAP_CODE_UIDNEXT,	/* code_num */
	IMAP_CODE_UNSEEN,	/* code_num */
	IMAP_CODE_HIGHESTMODSEQ, /* code_num */
	IMAP_CODE_NOMODSEQ,
	IMAP_CODE_MODIFIED,	/* code_set: the UIDs or numbers not stored */
	IMAP_CODE_PERMANENTFLAGS, /* items */
	IMAP_CODE_CAPABILITY,	/* items */
	IMAP_CODE_BADCHARSET,	/* items (maybe none) */
	IMAP_CODE_APPENDUID,	/* code_num (UIDVALIDITY), code_set (UIDs) */
	IMAP_CODE_COPYUID,	/* code_num, code_set (from), code_set2 (to) */
	IMAP_CODE_UIDNOTSTICKY,
	IMAP_CODE_CLOSED,
	/* RFC 5530 */
	IMAP_CODE_UNAVAILABLE,
	IMAP_CODE_AUTHENTICATIONFAILED,
	IMAP_CODE_AUTHORIZATIONFAILED,
	IMAP_CODE_EXPIRED,
	IMAP_CODE_PRIVACYREQUIRED,
	IMAP_CODE_CONTACTADMIN,
	IMAP_CODE_NOPERM,
	IMAP_CODE_INUSE,
	IMAP_CODE_EXPUNGEISSUED,
	IMAP_CODE_CORRUPTION,
	IMAP_CODE_SERVERBUG,
	IMAP_CODE_CLIENTBUG,
	IMAP_CODE_CANNOT,
	IMAP_CODE_LIMIT,
	IMAP_CODE_OVERQUOTA,
	IMAP_CODE_ALREADYEXISTS,
	IMAP_CODE_NONEXISTENT,
};

/* Which FETCH attributes a response had (fetch.have). */
#define IMAP_FETCH_UID		0x01u
#define IMAP_FETCH_FLAGS	0x02u
#define IMAP_FETCH_DATE		0x04u
#define IMAP_FETCH_SIZE		0x08u
#define IMAP_FETCH_MODSEQ	0x10u
#define IMAP_FETCH_BODY		0x20u	/* the whole body was there (maybe
					 * NIL); sections do not count */

struct imap_resp_fetch {
	uint32_t	 seq;
	unsigned	 have;
	uint32_t	 uid;
	int64_t		 internaldate;	/* seconds since the epoch, UTC */
	int32_t		 tzoff;		/* its zone, minutes east of UTC */
	uint64_t	 size;		/* RFC822.SIZE */
	uint64_t	 modseq;
	/* FETCH_BODY: which part: "" for the whole message (BODY[],
	 * RFC822, BINARY[]), else the section as sent, tokens joined by
	 * one space ("HEADER.FIELDS (MESSAGE-ID)"; RFC822.HEADER is
	 * "HEADER"). A partial fetch (<origin>) is skipped, not given. */
	const char	*section;
	/* FETCH_BODY: a piece, borrowed until the next call */
	const char	*data;
	size_t		 len;
	uint64_t	 body_size;	/* the literal's announced size */
	uint64_t	 body_left;	/* bytes after this piece; 0: the last */
	int		 body_nil;	/* FETCH: the body was NIL */
};

/* Which STATUS items came (st.have). */
#define IMAP_STATUS_MESSAGES	0x01u
#define IMAP_STATUS_UIDNEXT	0x02u
#define IMAP_STATUS_UIDVALIDITY	0x04u
#define IMAP_STATUS_UNSEEN	0x08u
#define IMAP_STATUS_RECENT	0x10u
#define IMAP_STATUS_HIGHESTMODSEQ 0x20u

struct imap_resp_statusdata {
	unsigned	 have;
	uint64_t	 messages, uidnext, uidvalidity, unseen, recent;
	uint64_t	 highestmodseq;
};

/* Which ESEARCH results came (es.have). */
#define IMAP_ESEARCH_MIN	0x01u
#define IMAP_ESEARCH_MAX	0x02u
#define IMAP_ESEARCH_COUNT	0x04u
#define IMAP_ESEARCH_ALL	0x08u
#define IMAP_ESEARCH_MODSEQ	0x10u

struct imap_resp_esearch {
	const char	*tag;		/* the command's tag, or NULL */
	int		 uid;		/* 1: the numbers are UIDs */
	unsigned	 have;
	uint32_t	 min, max;
	uint64_t	 count;
	const char	*all;		/* a sequence set, "" without ALL */
	uint64_t	 modseq;
};

/*
 * An event. Only the fields its kind names (see enum imap_resp_kind) mean
 * anything. Every pointer is borrowed from the parser and valid until the
 * next call on it; strings are NUL-terminated.
 */
struct imap_resp {
	enum imap_resp_kind kind;
	/* STATUS */
	const char	*tag;		/* NULL for an untagged response */
	enum imap_resp_status status;
	enum imap_resp_code code;
	const char	*code_name;	/* as sent ("UIDVALIDITY"), "" if none */
	const char	*code_arg;	/* the code's raw argument, "" if none */
	uint64_t	 code_num;
	const char	*code_set;	/* "" unless the code has one */
	const char	*code_set2;
	/* STATUS, CONTINUE, OTHER */
	const char	*text;
	/* CAPABILITY, ENABLED, FLAGS, LIST, codes with a list */
	const char *const *items;
	size_t		 nitems;
	/* EXISTS, RECENT, EXPUNGE */
	uint64_t	 num;
	/* LIST, STATUS_DATA: the name as sent (modified UTF-7 or UTF-8) */
	const char	*mailbox;
	char		 delim;		/* LIST: '\0' for NIL */
	int		 lsub;		/* LIST: 1 for LSUB */
	struct imap_resp_statusdata st;
	/* SEARCH */
	const uint32_t	*nums;
	size_t		 nnums;
	uint64_t	 modseq;	/* SEARCH: its (MODSEQ n), else 0 */
	struct imap_resp_esearch es;
	/* VANISHED */
	int		 earlier;
	const char	*set;
	/* FETCH, FETCH_BODY */
	struct imap_resp_fetch fetch;
};

struct imap_resp_limits {
	size_t		 max_line;	/* >= 64 */
	uint64_t	 max_literal;
};

/* A new parser at the start of a response; NULL lim for the defaults. */
struct imap_resp_parser *imap_resp_new(const struct imap_resp_limits *lim);
/* Free (NULL is fine) and clear the pointer. */
void	imap_resp_free(struct imap_resp_parser **p);

/*
 * Append n bytes read from the server (copied). 0, or -1 when more than
 * IMAP_LEX_FEED_MAX bytes would wait unread: feed after a call returned 0.
 */
int	imap_resp_feed(struct imap_resp_parser *p, const void *data, size_t n);

/*
 * The next event. 1: *ev is filled. 0: feed more bytes first. -1: the
 * server broke the grammar or a limit; imap_resp_error() says how, and
 * every later call returns -1 too.
 */
int	imap_resp_next(struct imap_resp_parser *p, struct imap_resp *ev);

/*
 * Bytes fed and not yet parsed. A client checks it is 0 right after the
 * OK to STARTTLS: bytes there came in the clear and must not be trusted.
 */
size_t	imap_resp_pending(const struct imap_resp_parser *p);

/* 1 between responses: the last event ended a line (or none came yet). */
int	imap_resp_at_line_start(const struct imap_resp_parser *p);

/* The error as a sentence; lives as long as the parser. */
const char *imap_resp_error(const struct imap_resp_parser *p);

/* "OK", "NO", ... and a code's name, for messages. */
const char *imap_resp_status_name(enum imap_resp_status st);

#endif
