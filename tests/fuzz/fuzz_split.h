/*
 * fuzz_split: what the parser targets share (fuzz_imap_lex.c,
 * fuzz_imap_resp.c, fuzz_pop3_resp.c). An input's first 8 bytes seed the
 * target's choices and the rest is the data; a target runs its parser
 * over the data twice, fed whole and fed in pieces cut where the seed
 * says, and both runs must give the same digest of what came out: a
 * parser resumes at any byte.
 *
 * Header-only (static inline): each target is a program of its own.
 */
#ifndef MAILVAULT_TESTS_FUZZ_SPLIT_H
#define MAILVAULT_TESTS_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_FNV_INIT	0xcbf29ce484222325ULL

/* A 64-bit mixer (splitmix's finaliser): the next choice from the last. */
static inline uint64_t
fuzz_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* FNV-1a over n bytes, continuing from h (FUZZ_FNV_INIT to start). */
static inline uint64_t
fuzz_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * The length of the next piece to feed when left bytes remain: all of
 * them, or with cut set 1 to 4 bytes or 1 to maxcut bytes (half and
 * half, as *h says; *h moves on), never more than left.
 */
static inline size_t
fuzz_piece(uint64_t *h, size_t left, int cut, size_t maxcut)
{
	size_t len;

	if (!cut)
		return left;
	*h = fuzz_mix(*h);
	len = 1 + (size_t)(*h % (*h & 1 ? 4 : maxcut));
	return len < left ? len : left;
}

/* Take the seed off the front of an input: 0, or -1 if it is shorter. */
static inline int
fuzz_seed(const uint8_t **data, size_t *size, uint64_t *seed_r)
{
	if (*size < 8)
		return -1;
	memcpy(seed_r, *data, 8);
	*data += 8;
	*size -= 8;
	return 0;
}

#endif
