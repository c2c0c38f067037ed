/*
 * utf8: decoding one UTF-8 sequence, strictly (shortest form only, no
 * surrogates, nothing above U+10FFFF). Shared by the MIME decoder, modified
 * UTF-7 and SEARCH, which each decide what to do with invalid bytes. And
 * the width text takes on a terminal, for the CLI's columns.
 */
#ifndef MAILVAULT_LIB_UTF8_H
#define MAILVAULT_LIB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The sequence at s (n > 0 bytes available): its length, 1 to 4, with the
 * code point in *cp; or 0 when the bytes do not start a valid sequence
 * (also when it is cut off by n), with *cp set to s[0].
 */
size_t	utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* The length a lead byte announces, 1 to 4, or 0 if it cannot lead. */
size_t	utf8_lead_len(unsigned char c);

/*
 * Columns a code point takes on a terminal: 2 for East Asian wide and
 * fullwidth characters and wide emoji, 0 for combining marks and
 * zero-width characters, else 1 (control characters included: the
 * caller replaces them before display). From a table of our own, the
 * same in every locale.
 */
int	utf8_cp_width(uint32_t cp);

/*
 * How many bytes of s[0..n) fit in cols columns without cutting a
 * character (an invalid byte counts as one column); *width_r (may be
 * NULL) gets the columns they take, which a caller pads up to cols.
 */
size_t	utf8_fit(const char *s, size_t n, size_t cols, size_t *width_r);

#endif
