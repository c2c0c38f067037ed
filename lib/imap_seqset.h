/*
 * imap_seqset: IMAP sequence sets ("1:5,7,9:*"), for message sequence
 * numbers and UIDs alike.
 *
 * A parsed set is kept as sorted, merged, non-overlapping ranges, so
 * membership is a binary search and iteration is in ascending order
 * whatever order the client wrote. '*' is resolved at parse time to the
 * number the caller gives (the highest sequence number or UID in use), as
 * RFC 3501 says; "n:m" and "m:n" are the same range. Parsing is bounded
 * (IMAP_SEQSET_MAX_RANGES ranges) and strict: 0, leading zeros, numbers
 * above 2^32-1, empty elements and stray characters are refused.
 *
 * Formatting goes the other way: a sorted list of numbers becomes the
 * compact form ("1:3,5,7:9") that COPYUID, ESEARCH and VANISHED send.
 */
#ifndef MAILVAULT_LIB_IMAP_SEQSET_H
#define MAILVAULT_LIB_IMAP_SEQSET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define IMAP_SEQSET_MAX_RANGES	100000

struct imap_seqset;

/*
 * Parse s (NUL-terminated) with '*' standing for star. 0 and *set_r is a
 * new set (free with imap_seqset_free), 1 if s is "$" (RFC 5182: the
 * caller uses its saved search result; *set_r untouched), -1 if s is not a
 * sequence set or is too large (err says why; err may be NULL). When star
 * is 0 (an empty mailbox), '*' matches nothing: "*" alone gives an empty
 * set and "5:*" gives 1:5.
 */
int	imap_seqset_parse(const char *s, uint32_t star,
	    struct imap_seqset **set_r, char *err, size_t errlen);
void	imap_seqset_free(struct imap_seqset **set);

/* 1 if n is in set, else 0. O(log ranges). */
int	imap_seqset_contains(const struct imap_seqset *set, uint32_t n);

/* The number of members (up to 2^32 - 1), and of ranges. */
uint64_t imap_seqset_count(const struct imap_seqset *set);
size_t	imap_seqset_nranges(const struct imap_seqset *set);
/* Range i (< nranges), ascending: lo <= hi, and hi + 1 < the next lo. */
void	imap_seqset_range(const struct imap_seqset *set, size_t i,
	    uint32_t *lo_r, uint32_t *hi_r);

/*
 * Ascending iteration over every member:
 *	struct imap_seqset_iter it;
 *	imap_seqset_iter_init(&it, set);
 *	while (imap_seqset_iter_next(&it, &n)) ...
 * The set must not be freed meanwhile.
 */
struct imap_seqset_iter {
	const struct imap_seqset *set;
	size_t		range;
	uint64_t	next;
};
void	imap_seqset_iter_init(struct imap_seqset_iter *it,
	    const struct imap_seqset *set);
/* 1 and *n_r set, or 0 at the end. */
int	imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_r);

/*
 * Append the compact form of n numbers, ascending (equal neighbours are
 * allowed and written once), to out. Nothing is appended for n == 0.
 * 0, or -1 if out would exceed its maximum (out left as it was).
 */
int	imap_seqset_format(const uint32_t *v, size_t n, struct buf *out);
/* The same for a set. */
int	imap_seqset_format_set(const struct imap_seqset *set, struct buf *out);

#endif
