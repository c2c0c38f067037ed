/*
 * search_norm: the normal form IMAP SEARCH compares text in, and the way
 * a header key's field value is brought to it.
 *
 * Text matching follows Dovecot 2.3: both the key and the text are
 * brought to one normal form (UTF-8, Latin letters decomposed into base
 * letter and combining mark, then case-folded), and the key must be a
 * substring. Header keys match any occurrence of their field after RFC
 * 2047 decoding; address fields (FROM, TO, CC, BCC) are first parsed and
 * written back the way Dovecot normalises them (comments dropped, display
 * names quoted), SUBJECT has its runs of white space squeezed.
 *
 * The server's SEARCH (server/imap/search.c) and the per-content summary
 * built at ingest (lib/msg_summary.c) both use these functions, so a
 * summary's texts are exactly what SEARCH would have computed. The normal
 * form never contains a NUL byte (NUL in the input becomes U+FFFD), so
 * NUL can separate texts that a key must not match across.
 */
#ifndef MAILVAULT_LIB_SEARCH_NORM_H
#define MAILVAULT_LIB_SEARCH_NORM_H

#include <stddef.h>

#include "lib/buf.h"

/* Bytes of normal form that n bytes of input can give at most (U+FFFD
 * for one bad byte is the worst case). */
#define SEARCH_NORM_MAX(n)	(3 * (n) + 4)

/* U+FFFD in UTF-8, what a byte that is not UTF-8 becomes. */
#define SEARCH_NORM_REPLACEMENT	"\xef\xbf\xbd"

/*
 * Write the normal form of UTF-8 text at d, which has room for
 * SEARCH_NORM_MAX(n) bytes; NUL and bytes that are not UTF-8 become
 * U+FFFD. If last is 0, a sequence cut off at the end is left for the
 * next piece: *used_r says how many bytes were taken. Returns the bytes
 * written.
 */
size_t	search_norm_utf8(char *d, const unsigned char *p, size_t n, int last,
	    size_t *used_r);

/* Append the normal form of UTF-8 text to out. 0, or -1 at out's limit
 * (out then holds what fit). */
int	search_norm_append(struct buf *out, const char *s, size_t n);

/* How a header key reads its field. */
enum search_norm_mode {
	SEARCH_NORM_PLAIN,	/* HEADER name value: the value as it is */
	SEARCH_NORM_ADDRESS,	/* FROM TO CC BCC: parsed and written back */
	SEARCH_NORM_LWSP,	/* SUBJECT: unfolded, white space squeezed */
};

/*
 * Append to out the normal form of one raw header field value v (n
 * bytes) as a header key of this mode compares it: written back (mode),
 * RFC 2047-decoded, normalised. t1 and t2 are the caller's scratch
 * buffers (emptied here; their limits bound the work). 0; or -1 if a
 * limit cut the text short: out then holds the part that fit, or, when
 * an address list could not be written back whole, nothing new.
 */
int	search_norm_field(enum search_norm_mode mode, const char *v, size_t n,
	    struct buf *out, struct buf *t1, struct buf *t2);

#endif
