/*
 * utf8: decoding one UTF-8 sequence, strictly (shortest form only, no
 * surrogates, nothing above U+10FFFF). Shared by the MIME decoder, modified
 * UTF-7 and SEARCH, which each decide what to do with invalid bytes.
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

#endif
