/*
 * base64: RFC 4648 base64, one-shot and incremental.
 *
 * The one-shot functions serve SASL (AUTHENTICATE PLAIN, CRAM-MD5), where
 * the input is small and malformed input must be rejected. The incremental
 * decoder serves SEARCH BODY/TEXT over Content-Transfer-Encoding: base64
 * bodies of any size: it is lenient like a mail reader (line breaks and
 * other non-alphabet bytes are skipped, decoding stops at '=' padding) and
 * keeps only a few bytes of state between chunks.
 */
#ifndef MAILVAULT_LIB_BASE64_H
#define MAILVAULT_LIB_BASE64_H

#include <stddef.h>

#include "lib/buf.h"

/* Length of the encoding of n bytes (without a NUL). */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Append the base64 encoding of src to out. 0, or -1 if out's limit hit. */
int	base64_encode(const void *src, size_t n, struct buf *out);

/*
 * Strictly decode src (no whitespace, correct padding) and append the
 * bytes to out. 0, or -1 on a malformed input or out's limit (out may
 * hold part of the output then).
 */
int	base64_decode(const char *src, size_t n, struct buf *out);

/* Incremental lenient decoder; zero it with base64_dec_init(). */
struct base64_dec {
	unsigned int	 acc;	/* bits collected so far */
	int		 nbits;
	int		 done;	/* padding seen: the rest is ignored */
};

void	base64_dec_init(struct base64_dec *d);
/*
 * Decode the next chunk and append the bytes to out. Any split of the
 * input gives the same output. 0, or -1 if out's limit was hit.
 */
int	base64_dec_feed(struct base64_dec *d, const void *src, size_t n,
	    struct buf *out);

#endif
