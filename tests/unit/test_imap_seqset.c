/*
 * Tests for lib/imap_seqset: parse vectors (rendered back in the compact
 * form, which shows sorting, merging and '*' resolution), garbage refused,
 * membership against a plain bitmap, iteration, and formatting of uid
 * lists for COPYUID / ESEARCH / VANISHED.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/imap_seqset.h"
#include "lib/util.h"

struct pvec {
	const char	*in;
	uint32_t	 star;
	const char	*want;		/* formatted back */
};

static const struct pvec good[] = {
	{ "1", 10, "1" },
	{ "1:5,7,9:*", 12, "1:5,7,9:12" },
	{ "*", 12, "12" },
	{ "1:*", 12, "1:12" },
	{ "*:3", 12, "3:12" },
	{ "20:*", 12, "12:20" },		/* UID n:* above the max */
	{ "5:1", 12, "1:5" },
	{ "9,1,5,3", 12, "1,3,5,9" },
	{ "1:3,4:6,2", 12, "1:6" },		/* touching and overlapping */
	{ "1,2,3,5,6", 12, "1:3,5:6" },
	{ "4294967295", 0, "4294967295" },
	{ "1:4294967295", 5, "1:4294967295" },
	{ "*", 0, "" },				/* empty mailbox */
	{ "5:*", 0, "1:5" },
	{ "3,3,3", 9, "3" },
};

START_TEST(test_imap_seqset_parse_vectors)
{
	const struct pvec *v = &good[_i];
	struct imap_seqset *set = NULL;
	char err[128] = "";
	struct buf out;

	ck_assert_msg(imap_seqset_parse(v->in, v->star, &set, err,
	    sizeof(err)) == 0, "%s: %s", v->in, err);
	buf_init(&out, 1024);
	ck_assert_int_eq(imap_seqset_format_set(set, &out), 0);
	ck_assert_str_eq(out.data ? out.data : "", v->want);
	buf_free(&out);
	imap_seqset_free(&set);
	ck_assert_ptr_null(set);
}
END_TEST

static const char *const bad[] = {
	"", "0", "0:5", "5:0", "01", "1:", ":1", "1,", ",1", "1,,2", "1::2",
	"4294967296", "99999999999999999999", "1 2", "a", "1:*x", "**", "-1",
	"+1", "1.2", "$1", "$,1",
};

START_TEST(test_imap_seqset_rejects_garbage)
{
	struct imap_seqset *set = NULL;
	char err[128] = "";

	ck_assert_msg(imap_seqset_parse(bad[_i], 10, &set, err,
	    sizeof(err)) == -1, "accepted \"%s\"", bad[_i]);
	ck_assert_ptr_null(set);
	ck_assert_str_ne(err, "");
	/* err may be NULL */
	ck_assert_int_eq(imap_seqset_parse(bad[_i], 10, &set, NULL, 0), -1);
}
END_TEST

START_TEST(test_imap_seqset_dollar)
{
	struct imap_seqset *set = NULL;

	ck_assert_int_eq(imap_seqset_parse("$", 10, &set, NULL, 0), 1);
	ck_assert_ptr_null(set);
}
END_TEST

START_TEST(test_imap_seqset_range_limit)
{
	struct buf in;
	struct imap_seqset *set = NULL;
	char err[128];
	uint32_t i;

	buf_init(&in, 4 << 20);
	for (i = 1; i <= IMAP_SEQSET_MAX_RANGES; i++)
		buf_printf(&in, "%s%u", i > 1 ? "," : "", i * 2);
	ck_assert_int_eq(imap_seqset_parse(in.data, 0, &set, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(imap_seqset_nranges(set), IMAP_SEQSET_MAX_RANGES);
	ck_assert_uint_eq(imap_seqset_count(set), IMAP_SEQSET_MAX_RANGES);
	imap_seqset_free(&set);
	buf_adds(&in, ",1");
	ck_assert_int_eq(imap_seqset_parse(in.data, 0, &set, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "ranges"));
	buf_free(&in);
}
END_TEST

/* Membership agrees with a bitmap, at every number up to 200. */
START_TEST(test_imap_seqset_contains_matches_bitmap)
{
	const char *in = "150:140,1,3:5,7,9:12,100:*,13,60:50,199";
	struct imap_seqset *set = NULL;
	unsigned char want[260] = { 0 };
	uint32_t n, lo, hi;
	size_t i, count = 0;
	struct imap_seqset_iter it;

	ck_assert_int_eq(imap_seqset_parse(in, 120, &set, NULL, 0), 0);
	want[1] = 1;
	for (n = 3; n <= 5; n++)
		want[n] = 1;
	want[7] = 1;
	for (n = 9; n <= 13; n++)
		want[n] = 1;
	for (n = 50; n <= 60; n++)
		want[n] = 1;
	for (n = 100; n <= 120; n++)
		want[n] = 1;
	for (n = 140; n <= 150; n++)
		want[n] = 1;
	want[199] = 1;
	for (n = 0; n < 260; n++) {
		ck_assert_msg(imap_seqset_contains(set, n) == want[n],
		    "%u", n);
		count += want[n];
	}
	ck_assert_uint_eq(imap_seqset_count(set), count);
	ck_assert(!imap_seqset_contains(set, UINT32_MAX));
	/* ranges ascending, neither overlapping nor touching */
	ck_assert_uint_eq(imap_seqset_nranges(set), 8);
	for (i = 0; i < imap_seqset_nranges(set); i++) {
		imap_seqset_range(set, i, &lo, &hi);
		ck_assert_uint_le(lo, hi);
		ck_assert(want[lo] && want[hi] && !want[lo - 1] &&
		    !want[hi + 1]);
	}
	/* iteration gives exactly the members, ascending */
	imap_seqset_iter_init(&it, set);
	lo = 0;
	i = 0;
	while (imap_seqset_iter_next(&it, &n)) {
		ck_assert_uint_gt(n, lo);
		ck_assert(want[n]);
		lo = n;
		i++;
	}
	ck_assert_uint_eq(i, count);
	ck_assert_int_eq(imap_seqset_iter_next(&it, &n), 0);
	imap_seqset_free(&set);
}
END_TEST

/* Iterating up to 2^32-1 stops instead of wrapping around. */
START_TEST(test_imap_seqset_iter_at_top)
{
	struct imap_seqset *set = NULL;
	struct imap_seqset_iter it;
	uint32_t n, k = 0;

	ck_assert_int_eq(imap_seqset_parse("4294967293:*", UINT32_MAX, &set,
	    NULL, 0), 0);
	imap_seqset_iter_init(&it, set);
	while (imap_seqset_iter_next(&it, &n))
		ck_assert_uint_eq(n, 4294967293u + k++);
	ck_assert_uint_eq(k, 3);
	ck_assert_uint_eq(imap_seqset_count(set), 3);
	imap_seqset_free(&set);
	imap_seqset_free(&set);	/* NULL is fine */
}
END_TEST

START_TEST(test_imap_seqset_format_uids)
{
	static const uint32_t a[] = { 1, 2, 3, 5, 7, 8, 9 };
	static const uint32_t b[] = { 4, 4, 5, 9, 4294967294u, 4294967295u };
	static const uint32_t c[] = { 42 };
	struct buf out;

	buf_init(&out, 64);
	ck_assert_int_eq(imap_seqset_format(a, ARRAY_SIZE(a), &out), 0);
	ck_assert_str_eq(out.data, "1:3,5,7:9");
	buf_reset(&out);
	ck_assert_int_eq(imap_seqset_format(b, ARRAY_SIZE(b), &out), 0);
	ck_assert_str_eq(out.data, "4:5,9,4294967294:4294967295");
	buf_reset(&out);
	ck_assert_int_eq(imap_seqset_format(c, 1, &out), 0);
	ck_assert_str_eq(out.data, "42");
	buf_reset(&out);
	ck_assert_int_eq(imap_seqset_format(c, 0, &out), 0);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	/* too small: nothing is left behind */
	buf_init(&out, 8);
	buf_adds(&out, "x ");
	ck_assert_int_eq(imap_seqset_format(a, ARRAY_SIZE(a), &out), -1);
	ck_assert_str_eq(out.data, "x ");
	buf_free(&out);
}
END_TEST

static Suite *
imap_seqset_suite(void)
{
	Suite *s = suite_create("imap_seqset");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_imap_seqset_parse_vectors, 0,
	    ARRAY_SIZE(good));
	tcase_add_loop_test(tc, test_imap_seqset_rejects_garbage, 0,
	    ARRAY_SIZE(bad));
	tcase_add_test(tc, test_imap_seqset_dollar);
	tcase_add_test(tc, test_imap_seqset_range_limit);
	tcase_add_test(tc, test_imap_seqset_contains_matches_bitmap);
	tcase_add_test(tc, test_imap_seqset_iter_at_top);
	tcase_add_test(tc, test_imap_seqset_format_uids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(imap_seqset_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
