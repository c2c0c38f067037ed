/*
 * test_utf8: the strict UTF-8 decoder shared by MIME, modified UTF-7 and
 * SEARCH: every length, and every way a sequence can be invalid; and the
 * display widths the CLI lines its columns up by.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/util.h"

struct vec {
	const char	*in;
	size_t		 avail;		/* bytes given; 0: strlen */
	size_t		 want_len;	/* 0: invalid */
	uint32_t	 want_cp;
};

static const struct vec vecs[] = {
	{ "A", 0, 1, 'A' },
	{ "\xc3\xa9", 0, 2, 0xe9 },			/* é */
	{ "\xe2\x82\xac", 0, 3, 0x20ac },		/* € */
	{ "\xf0\x9f\x98\x80", 0, 4, 0x1f600 },		/* 😀 */
	{ "\xf4\x8f\xbf\xbf", 0, 4, 0x10ffff },		/* the last one */
	{ "\xc0\xaf", 0, 0, 0xc0 },			/* overlong '/' */
	{ "\xe0\x80\xaf", 0, 0, 0xe0 },			/* overlong, 3 */
	{ "\xf0\x80\x80\xaf", 0, 0, 0xf0 },		/* overlong, 4 */
	{ "\xed\xa0\x80", 0, 0, 0xed },			/* surrogate */
	{ "\xf4\x90\x80\x80", 0, 0, 0xf4 },		/* above U+10FFFF */
	{ "\xf5\x80\x80\x80", 0, 0, 0xf5 },		/* bad lead */
	{ "\x80", 0, 0, 0x80 },				/* lone continuation */
	{ "\xc3(", 0, 0, 0xc3 },			/* bad continuation */
	{ "\xe2\x82\xac", 2, 0, 0xe2 },			/* cut off */
};

START_TEST(test_utf8_decode_vectors)
{
	const struct vec *v = &vecs[_i];
	size_t n = v->avail ? v->avail : strlen(v->in);
	uint32_t cp = 0;

	ck_assert_uint_eq(utf8_decode((const unsigned char *)v->in, n, &cp),
	    v->want_len);
	ck_assert_uint_eq(cp, v->want_cp);
}
END_TEST

START_TEST(test_utf8_lead_lengths)
{
	ck_assert_uint_eq(utf8_lead_len('a'), 1);
	ck_assert_uint_eq(utf8_lead_len(0xc1), 0);
	ck_assert_uint_eq(utf8_lead_len(0xc2), 2);
	ck_assert_uint_eq(utf8_lead_len(0xef), 3);
	ck_assert_uint_eq(utf8_lead_len(0xf4), 4);
	ck_assert_uint_eq(utf8_lead_len(0xf5), 0);
	ck_assert_uint_eq(utf8_lead_len(0x80), 0);
}
END_TEST

/* Widths: ASCII and Latin 1, Cyrillic one column, CJK, Hangul,
 * fullwidth forms and emoji two, combining marks none. */
START_TEST(test_utf8_cp_width_table)
{
	ck_assert_int_eq(utf8_cp_width('a'), 1);
	ck_assert_int_eq(utf8_cp_width(0xe9), 1);	/* é */
	ck_assert_int_eq(utf8_cp_width(0x0412), 1);	/* В */
	ck_assert_int_eq(utf8_cp_width(0x4e2d), 2);	/* 中 */
	ck_assert_int_eq(utf8_cp_width(0xac00), 2);	/* 가 */
	ck_assert_int_eq(utf8_cp_width(0x3042), 2);	/* あ */
	ck_assert_int_eq(utf8_cp_width(0xff21), 2);	/* Ａ */
	ck_assert_int_eq(utf8_cp_width(0x1f600), 2);	/* 😀 */
	ck_assert_int_eq(utf8_cp_width(0x0301), 0);	/* combining acute */
	ck_assert_int_eq(utf8_cp_width(0x200b), 0);	/* zero width space */
	ck_assert_int_eq(utf8_cp_width(0xfe0f), 0);	/* VS16 */
	ck_assert_int_eq(utf8_cp_width(0x2f00), 2);	/* ⼀ radical */
	ck_assert_int_eq(utf8_cp_width(0x20ac), 1);	/* € */
}
END_TEST

/* Fitting text into columns never cuts a character, and counts wide
 * ones twice. */
START_TEST(test_utf8_fit_by_columns)
{
	/* "Волконский" (20 bytes, 10 columns) into 7 columns: 7 letters,
	 * 14 bytes, never 13. */
	const char *ru = "\xd0\x92\xd0\xbe\xd0\xbb\xd0\xba\xd0\xbe"
	    "\xd0\xbd\xd1\x81\xd0\xba\xd0\xb8\xd0\xb9";
	/* "中文ab" into 3 columns: one wide character (an odd column left
	 * over), into 5: both and 'a'. */
	const char *zh = "\xe4\xb8\xad\xe6\x96\x87" "ab";
	/* "e" + combining acute + "x": the mark goes with its letter. */
	const char *mark = "e\xcc\x81x";
	size_t w;

	ck_assert_uint_eq(utf8_fit(ru, strlen(ru), 7, &w), 14);
	ck_assert_uint_eq(w, 7);
	ck_assert_uint_eq(utf8_fit(ru, strlen(ru), 80, &w), 20);
	ck_assert_uint_eq(w, 10);
	ck_assert_uint_eq(utf8_fit(zh, strlen(zh), 3, &w), 3);
	ck_assert_uint_eq(w, 2);
	ck_assert_uint_eq(utf8_fit(zh, strlen(zh), 5, &w), 7);
	ck_assert_uint_eq(w, 5);
	ck_assert_uint_eq(utf8_fit(mark, strlen(mark), 1, &w), 3);
	ck_assert_uint_eq(w, 1);
	/* An invalid byte is one column, and still never split further. */
	ck_assert_uint_eq(utf8_fit("\xff\xfe" "ab", 4, 3, &w), 3);
	ck_assert_uint_eq(w, 3);
	ck_assert_uint_eq(utf8_fit("", 0, 3, &w), 0);
	ck_assert_uint_eq(w, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("decode");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_utf8_decode_vectors, 0,
	    (int)ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_utf8_lead_lengths);
	tcase_add_test(tc, test_utf8_cp_width_table);
	tcase_add_test(tc, test_utf8_fit_by_columns);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
