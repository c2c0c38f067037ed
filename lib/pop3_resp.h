/*
 * pop3_resp: the POP3 response parser of the sync client (RFC 1939, RFC
 * 2449 response codes, RFC 5034 SASL continuations).
 *
 * Pure: the caller feeds the bytes read from the server and pulls events;
 * no I/O. Every byte is looked at once by an explicit state machine, so
 * the parser resumes at any byte and gives the same events however the
 * input was cut.
 *
 * Whether a response has more lines after its "+OK" depends on the
 * command, which only the caller knows, so it says what it expects with
 * pop3_resp_expect() before (or while) the response arrives. The
 * expectations form a queue, so commands can be pipelined (RFC 2449
 * PIPELINING): expect, send; expect, send; then read the events in order.
 *
 *   POP3_EXPECT_GREETING	one line; the APOP timestamp is picked out
 *   POP3_EXPECT_SINGLE		one line: USER, PASS, APOP, STAT, DELE, QUIT
 *   POP3_EXPECT_LINES		+OK, then lines up to ".": CAPA, UIDL, LIST;
 *				each line is one event, dot-unstuffed, with
 *				its leading number split off
 *   POP3_EXPECT_DATA		+OK, then a message up to ".": RETR, TOP;
 *				streamed in pieces, dot-unstuffed, bytes
 *				(CRLF included) exactly as they were before
 *				the server stuffed them
 *   POP3_EXPECT_SASL		"+ base64" continuations until +OK or -ERR
 *
 * A -ERR ends a response whatever was expected. Errors (-1): a status
 * line that is neither +OK nor -ERR, a line longer than the limit, input
 * with nothing expected; pop3_resp_error() says which, and the parser
 * stays failed (the connection cannot be trusted any more).
 *
 * Bounds: a status line, and each line of a LINES response, is at most
 * max_line bytes; message lines are not limited (they are streamed); at
 * most POP3_RESP_FEED_MAX bytes wait unread and POP3_RESP_QUEUE_MAX
 * expectations wait in the queue.
 */
#ifndef MAILVAULT_LIB_POP3_RESP_H
#define MAILVAULT_LIB_POP3_RESP_H

#include <stddef.h>
#include <stdint.h>

#define POP3_RESP_LINE_MAX	8192	/* a sane default for max_line */
#define POP3_RESP_FEED_MAX	(1024 * 1024)
#define POP3_RESP_QUEUE_MAX	1024

struct pop3_resp_parser;

enum pop3_expect {
	POP3_EXPECT_GREETING,
	POP3_EXPECT_SINGLE,
	POP3_EXPECT_LINES,
	POP3_EXPECT_DATA,
	POP3_EXPECT_SASL,
};

enum pop3_resp_kind {
	POP3_RESP_OK,		/* text, code, apop; multi: lines follow */
	POP3_RESP_ERR,		/* text, code: the response is over */
	POP3_RESP_CONT,		/* text: a SASL challenge (base64) */
	POP3_RESP_LINE,		/* text, msg, arg, num */
	POP3_RESP_DATA,		/* data, len: a piece of the message */
	POP3_RESP_END,		/* the "." of a multi-line response */
};

/*
 * An event. Pointers are borrowed from the parser and valid until the
 * next call on it; strings are NUL-terminated, data is not.
 */
struct pop3_resp {
	enum pop3_resp_kind kind;
	/* OK, ERR, CONT: the text after the status, code removed. LINE:
	 * the whole line, unstuffed, without its CRLF. */
	const char	*text;
	/* OK, ERR: the RFC 2449 code without brackets ("IN-USE",
	 * "SYS/TEMP"), or "" */
	const char	*code;
	/* OK of a greeting: the APOP timestamp "<...@...>", or NULL */
	const char	*apop;
	int		 multi;		/* OK: a LINES or DATA body follows */
	/* LINE: "n rest" splits into msg = n and arg = "rest"; a line that
	 * does not start with a number has msg 0 and arg = text. num is arg
	 * as a number when it is one (a LIST size), else 0. */
	uint32_t	 msg;
	const char	*arg;
	uint64_t	 num;
	/* DATA */
	const char	*data;
	size_t		 len;
};

/* A new parser with an empty queue; max_line >= 64. */
struct pop3_resp_parser *pop3_resp_new(size_t max_line);
/* Free (NULL is fine) and clear the pointer. */
void	pop3_resp_free(struct pop3_resp_parser **p);

/*
 * Queue what the next response not yet expected will be. 0, or -1 when
 * POP3_RESP_QUEUE_MAX responses are already expected.
 */
int	pop3_resp_expect(struct pop3_resp_parser *p, enum pop3_expect e);
/* Responses expected and not yet ended (the one being read included). */
size_t	pop3_resp_pending(const struct pop3_resp_parser *p);

/*
 * Append n bytes read from the server (copied). 0, or -1 when more than
 * POP3_RESP_FEED_MAX bytes would wait unread: feed after next() gave 0.
 */
int	pop3_resp_feed(struct pop3_resp_parser *p, const void *data, size_t n);

/*
 * The next event. 1: *ev is filled. 0: feed more input (or, with nothing
 * expected and no input, nothing to do). -1: see the top of this file.
 */
int	pop3_resp_next(struct pop3_resp_parser *p, struct pop3_resp *ev);

/*
 * Bytes fed and not yet parsed. A client checks it is 0 right after the
 * +OK to STLS: bytes there came in the clear and must not be trusted.
 */
size_t	pop3_resp_unread(const struct pop3_resp_parser *p);

/* The error as a sentence; lives as long as the parser. */
const char *pop3_resp_error(const struct pop3_resp_parser *p);

#endif
