/*
 * charset: text in a MIME charset to UTF-8; the one place that calls
 * iconv.
 *
 * Mail is full of wrong charsets, broken bytes and raw 8-bit headers, and
 * SEARCH, the MIME header decoders and `mailvault ls` must still show
 * text, so the conversion is lenient and its output always valid UTF-8:
 * a byte that is not valid in its charset, and a NUL, becomes U+FFFD (one
 * per byte) and conversion goes on. No charset, and the names "utf-8",
 * "utf8", "us-ascii" and "ascii" in any case, are read as UTF-8 without
 * iconv; so is a charset iconv does not know. Everything else is iconv's
 * (glibc knows the aliases: "latin1", "cp1252", "iso-2022-jp", ...).
 *
 * A converter takes its input in pieces of any size, so a message body is
 * converted as it streams from the store: a character cut by the end of
 * a piece is held back until the next, and any split of the input gives
 * the same output as the whole.
 */
#ifndef MAILVAULT_LIB_CHARSET_H
#define MAILVAULT_LIB_CHARSET_H

#include <stddef.h>

#include "lib/buf.h"

struct charset_conv;

/*
 * A converter from charset (NULL or "": UTF-8) to UTF-8. Never fails
 * (an unknown charset is read as UTF-8); free it with charset_conv_free().
 */
struct charset_conv *charset_conv_new(const char *charset);

/*
 * Convert the next n bytes and append their UTF-8 to out. last: nothing
 * follows (a character cut off at the end then becomes U+FFFD, and the
 * converter is ready for a new text); otherwise a cut-off character waits
 * for the next call. 0, or -1 if out's limit was hit (out then holds a
 * prefix of the text).
 */
int	charset_conv_feed(struct charset_conv *cv, const void *src, size_t n,
	    int last, struct buf *out);

/* Free a converter; accepts NULL and clears *cv. */
void	charset_conv_free(struct charset_conv **cv);

/* All of a text at once: charset_conv_feed() with last set. 0 or -1. */
int	charset_to_utf8(const char *charset, const void *src, size_t n,
	    struct buf *out);

#endif
