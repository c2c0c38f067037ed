/*
 * imapd_io: the two small interfaces through which the IMAP command parsers
 * and writers (fetch.c, search.c) talk to a session without knowing it.
 *
 * A token source hands out the tokens of the command line being executed,
 * reading the socket as needed; an output sink takes response bytes (the
 * session buffers them and flushes them in large writes). This keeps
 * FETCH and SEARCH testable on their own: a unit test feeds tokens from a
 * string and collects the output in a buffer.
 */
#ifndef MAILVAULT_SERVER_IMAP_IMAPD_IO_H
#define MAILVAULT_SERVER_IMAP_IMAPD_IO_H

#include <stddef.h>

#include "lib/imap_lex.h"

struct imapd_toksrc {
	/*
	 * The next token, as imap_lex_next() (next) or imap_lex_astring()
	 * (astring), except that they never return 0: the source reads
	 * more input itself. 1: *tok is filled. -1: a lexer error (the
	 * session answers BAD with imap_lex_error()) or the connection is
	 * gone.
	 */
	int	(*next)(void *arg, struct imap_tok *tok);
	int	(*astring)(void *arg, struct imap_tok *tok);
	/*
	 * After a LITERAL_START token: take the literal whole (at most max
	 * bytes), sending the "+" continuation for a synchronizing one; the
	 * next call to next() returns it as a LITERAL token. 0, or -1 if it
	 * is larger than max (the parser then fails the command).
	 */
	int	(*collect)(void *arg, size_t max);
	void	*arg;
};

struct imapd_out {
	/* Append response bytes. 0, or -1 when the connection is gone. */
	int	(*write)(void *arg, const void *p, size_t n);
	void	*arg;
};

#endif
