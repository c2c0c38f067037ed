/*
 * search: the IMAP SEARCH command (RFC 3501 6.4.4), with ESEARCH's RETURN
 * options (RFC 4731) and CONDSTORE's MODSEQ key (RFC 7162 3.1.5).
 *
 * Pure with respect to the session, like fetch.h: the parser pulls tokens
 * from an imapd_toksrc, the evaluator reads the store, and the writer
 * pushes the untagged reply into an imapd_out; the session sends the
 * tagged OK/NO/BAD. Three steps:
 *
 *	parse	the arguments into a tree of keys (bounded: depth, number of
 *		keys, string length); sequence sets are resolved against the
 *		session's view then, '*' included;
 *	run	evaluate the tree over the view, cheap keys (flags, UIDs,
 *		sizes, dates) before expensive ones (headers, then body), so
 *		the MIME tree and content are read only for messages that
 *		still could match, and content only for BODY and TEXT;
 *	write	"* SEARCH ..." or "* ESEARCH ...".
 *
 * Text keys match like Dovecot: a case-insensitive substring test on
 * UTF-8 after decoding (RFC 2047 header words, transfer encodings and
 * charsets of text parts), with Unicode simple case folding.
 */
#ifndef MAILVAULT_SERVER_IMAP_SEARCH_H
#define MAILVAULT_SERVER_IMAP_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "server/imap/imapd_io.h"
#include "store/store.h"

/* Bounds on one SEARCH command. */
#define IMAPD_SEARCH_MAX_DEPTH	32		/* nested (), NOT, OR */
#define IMAPD_SEARCH_MAX_KEYS	1000		/* keys in the whole tree */
#define IMAPD_SEARCH_MAX_STRING	(64 * 1024)	/* bytes in one string */

/* imapd_search_parse() results besides 0. */
enum {
	IMAPD_SEARCH_EBAD = -1,		/* syntax or limit: BAD with err */
	IMAPD_SEARCH_EBADCHARSET = -2,	/* NO [BADCHARSET (UTF-8 US-ASCII)] */
	IMAPD_SEARCH_ELEX = -3,		/* src failed (lexer error or lost
					 * connection): the session answers
					 * from its lexer, or hangs up */
};

/* A parsed SEARCH. */
struct imapd_search;

/* What a search is evaluated against; borrowed for each call. */
struct imapd_search_ctx {
	struct store	*st;
	int64_t		 acct;		/* for keyword names */
	int64_t		 mbox;
	const struct store_msg *msgs;	/* the session's view: seq =
					 * index + 1, UIDs ascending */
	size_t		 nmsgs;
	uint32_t	 first_recent;	/* UIDs >= this are \Recent for this
					 * session (0: none) */
};

/*
 * Parse the arguments of SEARCH / UID SEARCH, from the token right after
 * the command name through the CRLF that ends the line (SEARCH's grammar
 * has no end marker but the CRLF, so the parser reads it: when 0 is
 * returned the line is used up). Accepted: an optional
 * "RETURN (MIN MAX ALL COUNT)" (RFC 4731; "RETURN ()" means ALL), an
 * optional "CHARSET name", then one or more search keys. UTF-8 and
 * US-ASCII are the charsets known; another gives IMAPD_SEARCH_EBADCHARSET
 * and the session answers NO [BADCHARSET (UTF-8 US-ASCII)]. Keywords are
 * looked up (never created) in ctx's account, and sequence sets resolved
 * against ctx's view. 0 and *s_r (free it with imapd_search_free()), or
 * IMAPD_SEARCH_EBAD with a sentence for the BAD reply in err, or
 * IMAPD_SEARCH_EBADCHARSET, or IMAPD_SEARCH_ELEX. On failure the rest of
 * the line may be unread: the session calls imap_lex_skip_line(), which
 * is a no-op if the CRLF was read already.
 */
int	imapd_search_parse(struct imapd_toksrc *src,
	    const struct imapd_search_ctx *ctx, struct imapd_search **s_r,
	    char *err, size_t errlen);

/* Free a search; accepts NULL and clears *s. */
void	imapd_search_free(struct imapd_search **s);

/*
 * 1 if the search has a MODSEQ key: the client thereby enables CONDSTORE
 * (RFC 7162 3.1), and the reply carries the highest MODSEQ.
 */
int	imapd_search_uses_modseq(const struct imapd_search *s);
/* 1 if the search had RETURN (...), so the reply is an ESEARCH. */
int	imapd_search_is_esearch(const struct imapd_search *s);

/*
 * Evaluate over ctx (the same view the search was parsed against, or the
 * same view later: sequence sets then keep their parsed numbers). 0 and
 * the matching messages as ascending indexes into ctx->msgs in *idx_r (the
 * caller frees it; NULL when *n_r is 0), and in *highestmodseq_r the
 * highest MODSEQ among them when the search used MODSEQ, else 0. A
 * message whose content has gone from the store (expunged by another
 * session, not yet reported to this one) does not match. Otherwise a
 * negative STORE_E* code with store_errmsg(ctx->st).
 */
int	imapd_search_run(struct imapd_search *s,
	    const struct imapd_search_ctx *ctx, size_t **idx_r, size_t *n_r,
	    uint64_t *highestmodseq_r);

/*
 * Write the untagged reply for the result of imapd_search_run(), CRLF
 * included: "* SEARCH 2 5 9", with " (MODSEQ n)" at the end when the
 * search used MODSEQ and something matched (RFC 7162 3.1.5); or, after
 * RETURN (...), "* ESEARCH (TAG \"a1\") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9"
 * as RFC 4731 and Dovecot write it (items absent when nothing matched,
 * except COUNT 0; " MODSEQ n" last when MODSEQ was used). uid_cmd: UID
 * SEARCH (UIDs, and the "UID" marker in ESEARCH) rather than SEARCH
 * (sequence numbers). 0, or -1 if out failed.
 */
int	imapd_search_write(const struct imapd_search *s,
	    const struct imapd_search_ctx *ctx, const char *tag, int uid_cmd,
	    const size_t *idx, size_t n, uint64_t highestmodseq,
	    struct imapd_out *out);

#endif
