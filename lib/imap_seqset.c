/*
 * imap_seqset: parse, query and format IMAP sequence sets.
 *
 * Parsing collects the ranges as written, then sorts and merges them once,
 * so every query afterwards sees the invariant the header states: ranges
 * ascending, non-empty, neither overlapping nor touching.
 */
#include "lib/imap_seqset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

struct range {
	uint32_t	lo, hi;
};

struct imap_seqset {
	struct range	*r;	/* owned; n ranges, sorted and merged */
	size_t		 n;
};

/* Read a seq-number at *p: nz-number or '*'. 0 or -1. */
static int
parse_number(const char **p, uint32_t star, int *is_star, uint32_t *v_r,
    char *err, size_t errlen)
{
	const char *s = *p;
	uint64_t v = 0;

	*is_star = 0;
	if (*s == '*') {
		*is_star = 1;
		*v_r = star;
		*p = s + 1;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return seterr(err, errlen, -1, "Sequence set: expected a "
		    "number from 1 or '*'");
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return seterr(err, errlen, -1, "Sequence set: number "
			    "larger than 4294967295");
	}
	*v_r = (uint32_t)v;
	*p = s;
	return 0;
}

static int
cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

/* Sort and merge overlapping or touching ranges in place. */
static void
normalize(struct imap_seqset *set)
{
	size_t i, k = 0;

	if (set->n == 0)
		return;
	qsort(set->r, set->n, sizeof(set->r[0]), cmp_range);
	for (i = 1; i < set->n; i++) {
		if ((uint64_t)set->r[i].lo <= (uint64_t)set->r[k].hi + 1) {
			if (set->r[i].hi > set->r[k].hi)
				set->r[k].hi = set->r[i].hi;
		} else
			set->r[++k] = set->r[i];
	}
	set->n = k + 1;
}

static void
add_range(struct imap_seqset *set, size_t *cap, uint32_t a, uint32_t b)
{
	if (a > b) {
		uint32_t t = a;

		a = b;
		b = t;
	}
	if (a == 0)
		a = 1;		/* only '*' in an empty mailbox gives 0 */
	if (b == 0)
		return;
	if (set->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		set->r = xreallocarray(set->r, *cap, sizeof(set->r[0]));
	}
	set->r[set->n].lo = a;
	set->r[set->n].hi = b;
	set->n++;
}

static int
parse_ranges(struct imap_seqset *set, const char *s, uint32_t star,
    char *err, size_t errlen)
{
	size_t cap = 0, elems = 0;
	uint32_t a, b;
	int sa, sb;

	for (;;) {
		if (++elems > IMAP_SEQSET_MAX_RANGES)
			return seterr(err, errlen, -1, "Sequence set: more "
			    "than %d ranges", IMAP_SEQSET_MAX_RANGES);
		if (parse_number(&s, star, &sa, &a, err, errlen) < 0)
			return -1;
		b = a;
		if (*s == ':') {
			s++;
			if (parse_number(&s, star, &sb, &b, err, errlen) < 0)
				return -1;
		}
		add_range(set, &cap, a, b);
		if (*s == '\0')
			return 0;
		if (*s != ',')
			return seterr(err, errlen, -1, "Sequence set: "
			    "unexpected character");
		s++;
	}
}

int
imap_seqset_parse(const char *s, uint32_t star, struct imap_seqset **set_r,
    char *err, size_t errlen)
{
	struct imap_seqset *set;

	if (strcmp(s, "$") == 0)
		return 1;
	set = xcalloc(1, sizeof(*set));
	if (parse_ranges(set, s, star, err, errlen) < 0) {
		imap_seqset_free(&set);
		return -1;
	}
	normalize(set);
	*set_r = set;
	return 0;
}

void
imap_seqset_free(struct imap_seqset **setp)
{
	if (*setp == NULL)
		return;
	free((*setp)->r);
	free(*setp);
	*setp = NULL;
}

int
imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (n < set->r[mid].lo)
			hi = mid;
		else if (n > set->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

uint64_t
imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t c = 0;
	size_t i;

	for (i = 0; i < set->n; i++)
		c += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return c;
}

size_t
imap_seqset_nranges(const struct imap_seqset *set)
{
	return set->n;
}

void
imap_seqset_range(const struct imap_seqset *set, size_t i, uint32_t *lo_r,
    uint32_t *hi_r)
{
	assert(i < set->n);
	*lo_r = set->r[i].lo;
	*hi_r = set->r[i].hi;
}

void
imap_seqset_iter_init(struct imap_seqset_iter *it,
    const struct imap_seqset *set)
{
	it->set = set;
	it->range = 0;
	it->next = set->n > 0 ? set->r[0].lo : 0;
}

int
imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_r)
{
	const struct imap_seqset *set = it->set;

	if (it->range >= set->n)
		return 0;
	*n_r = (uint32_t)it->next;
	if (it->next < set->r[it->range].hi)
		it->next++;
	else if (++it->range < set->n)
		it->next = set->r[it->range].lo;
	return 1;
}

static int
put_range(struct buf *out, int first, uint32_t lo, uint32_t hi)
{
	const char *sep = first ? "" : ",";

	if (lo == hi)
		return buf_printf(out, "%s%u", sep, lo);
	return buf_printf(out, "%s%u:%u", sep, lo, hi);
}

static int
put_back(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
	return -1;
}

int
imap_seqset_format(const uint32_t *v, size_t n, struct buf *out)
{
	size_t start = out->len, i;
	uint32_t lo, hi;
	int first = 1;

	if (n == 0)
		return 0;
	lo = hi = v[0];
	for (i = 1; i <= n; i++) {
		if (i < n) {
			assert(v[i] >= hi);
			if (v[i] == hi || v[i] == hi + 1) {
				hi = v[i];
				continue;
			}
		}
		if (put_range(out, first, lo, hi) < 0)
			return put_back(out, start);
		first = 0;
		if (i < n)
			lo = hi = v[i];
	}
	return 0;
}

int
imap_seqset_format_set(const struct imap_seqset *set, struct buf *out)
{
	size_t start = out->len, i;

	for (i = 0; i < set->n; i++)
		if (put_range(out, i == 0, set->r[i].lo, set->r[i].hi) < 0)
			return put_back(out, start);
	return 0;
}
