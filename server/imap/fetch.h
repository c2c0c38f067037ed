/*
 * fetch: the IMAP FETCH command (RFC 3501 6.4.5, 7.4.2; RFC 7162 MODSEQ,
 * CHANGEDSINCE, VANISHED): parsing the fetch attributes and writing one
 * "* n FETCH (...)" response per message.
 *
 * Pure with respect to the session: the parser pulls tokens from an
 * imapd_toksrc and the writer pushes bytes into an imapd_out, so a unit
 * test drives both from strings and buffers. The session resolves the
 * sequence set, sets \Seen when imapd_fetch_needs() asks for it, builds the
 * FLAGS text (it knows \Recent and keyword names) and calls
 * imapd_fetch_write() once per message.
 *
 * Output follows Dovecot 2.3 byte for byte where a client could notice:
 * item order (UID first, then FLAGS, then the others in request order),
 * ENVELOPE and BODYSTRUCTURE strings (quoted, or literal when a string has
 * 8-bit or special bytes, NIL when absent), section names echoed upper-case.
 * Message content is streamed from the store one chunk at a time, so a
 * FETCH of a 100 MB message uses a bounded amount of memory.
 */
#ifndef MAILVAULT_SERVER_IMAP_FETCH_H
#define MAILVAULT_SERVER_IMAP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/mime.h"
#include "server/imap/imapd_io.h"
#include "store/store.h"

/* Limits on a request: items in a list, header field names per section. */
#define IMAPD_FETCH_MAX_ITEMS	100
#define IMAPD_FETCH_MAX_FIELDS	100

/* imapd_fetch_needs() bits. */
#define IMAPD_FETCH_MIME	0x01	/* the cached MIME tree is read */
#define IMAPD_FETCH_CONTENT	0x02	/* message content is read */
#define IMAPD_FETCH_SETS_SEEN	0x04	/* a non-PEEK BODY[...], RFC822 or
					 * RFC822.TEXT: set \Seen first if the
					 * mailbox is read-write */
#define IMAPD_FETCH_MODSEQ	0x08	/* MODSEQ asked, or CHANGEDSINCE */

/* A parsed fetch request. */
struct imapd_fetch;

/*
 * Parse the arguments of FETCH / UID FETCH after the sequence set and its
 * SP: a macro (ALL, FAST, FULL), one att, or a parenthesised list; then
 * the optional modifier list "(CHANGEDSINCE n)" or "(CHANGEDSINCE n
 * VANISHED)" (RFC 7162), through the CRLF that ends the line: the token
 * source cannot look ahead, so the parser must read the token after an
 * att to know whether a section, a partial or a modifier list follows.
 * When 0 is returned the line is used up (the caller must not read a
 * CRLF); on failure the rest of the line may be unread, and the session
 * calls imap_lex_skip_line(), a no-op if the CRLF was read already.
 * uid_cmd: a UID FETCH (UID is always returned; VANISHED is allowed; the
 * session still checks that QRESYNC is enabled). 0 and *f_r (free it with
 * imapd_fetch_free()), or -1 with a sentence for a BAD reply in err (the
 * text Dovecot gives after "Error in IMAP command FETCH: "); a lexer
 * error or a lost connection from src also gives -1, and err then says
 * only that the arguments could not be read.
 */
int	imapd_fetch_parse(struct imapd_toksrc *src, int uid_cmd,
	    struct imapd_fetch **f_r, char *err, size_t errlen);
/* Free a request; accepts NULL and clears *f. */
void	imapd_fetch_free(struct imapd_fetch **f);

/* What the caller must prepare: IMAPD_FETCH_* bits. */
unsigned imapd_fetch_needs(const struct imapd_fetch *f);
/* The CHANGEDSINCE value, 0 if none ("CHANGEDSINCE 0" is accepted, as by
 * Dovecot: it filters nothing but still adds MODSEQ to every response). */
uint64_t imapd_fetch_changedsince(const struct imapd_fetch *f);
/* 1 if VANISHED was given (only with CHANGEDSINCE, only in UID FETCH). */
int	imapd_fetch_vanished(const struct imapd_fetch *f);

/* One message to answer for; everything is borrowed for the call. */
struct imapd_fetch_msg {
	uint32_t	 seq;
	const struct store_msg *msg;	/* uid, flags, modseq, internaldate,
					 * tzoff, size, content */
	const char	*flags;		/* the FLAGS list text without the
					 * parens, e.g. "\\Seen \\Recent $A" */
	int		 include_flags;	/* add FLAGS though not asked (\Seen
					 * was just set by this FETCH) */
	int		 include_modseq; /* add MODSEQ though not asked, after
					 * the cheap items and before an added
					 * FLAGS. Dovecot never sets it for a
					 * plain FETCH after ENABLE CONDSTORE:
					 * it reports the MODSEQ of a \Seen
					 * it set in a later untagged FETCH */
	struct store	*st;		/* content and MIME tree */
};

/*
 * A store failure that has no code of its own (STORE_ERR is -1, which
 * imapd_fetch_write() keeps for a lost connection).
 */
#define IMAPD_FETCH_ESTORE	(-100)

/*
 * Write one "* seq FETCH (...)\r\n" response to out, streaming content
 * from the store (memory bounded by a chunk, whatever the message size).
 * Returns 0; -1 if out failed (the connection is gone); or, when the store
 * fails, its negative STORE_E* code (IMAPD_FETCH_ESTORE for STORE_ERR)
 * with store_errmsg(m->st) saying why, and the session answers NO. The
 * MIME tree, the reader and every HEADER.FIELDS text are prepared before
 * the first byte, so such a failure normally leaves nothing written for
 * this message. If the store fails in the middle of a literal, the
 * response cannot be taken back: the literal is padded with spaces to its
 * announced size, the response is ended, and the store code returned.
 */
int	imapd_fetch_write(struct imapd_fetch *f,
	    const struct imapd_fetch_msg *m, struct imapd_out *out);

/*
 * The bulk path. A request that asks only for what the view holds (UID,
 * FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ: imapd_fetch_in_view() is 1)
 * can have its responses written by imapd_fetch_format() instead: the
 * same bytes as imapd_fetch_write() for the same message (the same item
 * writers make both), into memory the caller owns, with no store, no
 * output sink and no set-up per message, so the session can answer
 * "UID FETCH 1:* (UID FLAGS)" on a big mailbox in large pieces.
 * m->flags is flagslen bytes (it need not end in a NUL) and m->st is not
 * read. p has room for IMAPD_FETCH_VIEW_MAX + flagslen bytes; returns
 * the end of what was written.
 */
#define IMAPD_FETCH_VIEW_MAX	256
int	imapd_fetch_in_view(const struct imapd_fetch *f);
char	*imapd_fetch_format(const struct imapd_fetch *f,
	    const struct imapd_fetch_msg *m, size_t flagslen, char *p);

/*
 * Pure formatters (no store, no I/O), byte for byte as Dovecot 2.3.
 * imapd_bodystructure: the BODY (extended 0) or BODYSTRUCTURE (extended 1)
 * list "(...)" of a part. The ENVELOPE writer is lib/imap_envelope.h.
 * Append to out: 0, or -1 if out's limit was hit (out then holds a
 * prefix).
 */
int	imapd_bodystructure(struct buf *out, const struct mime_part *part,
	    int extended);

#endif
