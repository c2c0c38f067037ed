/*
 * utf7: modified UTF-7 (RFC 3501 section 5.1.3), the encoding of IMAP
 * mailbox names on the wire when UTF8=ACCEPT is not enabled.
 *
 * Printable ASCII stands for itself, except '&', which is "&-"; every
 * other character is UTF-16BE in a modified BASE64 run ('+' and ',' as the
 * last two digits, no padding) between '&' and '-'. The store keeps names
 * in UTF-8; these two functions convert at the edges.
 *
 * Decoding is strict, so a name has one meaning: bytes outside printable
 * ASCII, an unterminated run, a bad digit, non-zero or too many padding
 * bits, a lone or reversed surrogate, a printable ASCII character encoded
 * in BASE64, and U+0000 are all refused. (Two runs in a row, as in
 * "&AOk-&AOk-", are accepted: not shortest, but not ambiguous.) Encoding
 * refuses invalid UTF-8 (overlong forms, surrogates, beyond U+10FFFF, cut
 * off sequences) and U+0000.
 */
#ifndef MAILVAULT_LIB_UTF7_H
#define MAILVAULT_LIB_UTF7_H

#include <stddef.h>

#include "lib/buf.h"

#define UTF7_EINVAL	(-1)	/* the input is not valid */
#define UTF7_ELIMIT	(-2)	/* the output would exceed out's maximum */

/*
 * Append the modified UTF-7 form of the UTF-8 string s (len bytes) to out.
 * 0, or UTF7_EINVAL / UTF7_ELIMIT with out left as it was.
 */
int	utf7_encode(const char *s, size_t len, struct buf *out);

/*
 * Append the UTF-8 form of the modified UTF-7 string s (len bytes) to out.
 * 0, or UTF7_EINVAL / UTF7_ELIMIT with out left as it was.
 */
int	utf7_decode(const char *s, size_t len, struct buf *out);

#endif
