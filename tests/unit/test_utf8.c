/*
 * test_utf8: the strict UTF-8 decoder shared by MIME, modified UTF-7 and
 * SEARCH: every length, and every way a sequence can be invalid.
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
