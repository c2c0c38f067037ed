/*
 * test_base64: RFC 4648 vectors, strict rejection, and the incremental
 * decoder cut at every offset.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/util.h"

static const struct {
	const char	*plain, *enc;
} vecs[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	{ "\0user\0pass", "AHVzZXIAcGFzcw==" },
};

START_TEST(test_base64_rfc4648_vectors)
{
	const char *pl = vecs[_i].plain, *en = vecs[_i].enc;
	size_t plen = _i == 7 ? 10 : strlen(pl);
	struct buf b;

	buf_init(&b, 1024);
	ck_assert_int_eq(base64_encode(pl, plen, &b), 0);
	ck_assert_str_eq(b.len ? b.data : "", en);
	ck_assert_uint_eq(b.len, BASE64_ENCODED_LEN(plen));
	buf_reset(&b);
	ck_assert_int_eq(base64_decode(en, strlen(en), &b), 0);
	ck_assert_uint_eq(b.len, plen);
	if (plen > 0)
		ck_assert_mem_eq(b.data, pl, plen);
	buf_free(&b);
}
END_TEST

START_TEST(test_base64_strict_rejects)
{
	static const char *bad[] = { "Zg=", "Zg", "Z===", "=Zg=", "Zm9v\r\n",
	    "Zh==", "Zm9=", "Zg==Zg==", "Zm 9v", "Zm9*" };
	struct buf b;
	size_t i;

	buf_init(&b, 1024);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		buf_reset(&b);
		ck_assert_msg(base64_decode(bad[i], strlen(bad[i]), &b) == -1,
		    "%s accepted", bad[i]);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_base64_limit)
{
	struct buf b;

	buf_init(&b, 3);
	ck_assert_int_eq(base64_encode("abcd", 4, &b), -1);
	buf_free(&b);
}
END_TEST

/* Cut the input at every offset _i: the bytes must not change. */
START_TEST(test_base64_incremental_split_anywhere)
{
	static const char in[] = "Zm9v\r\nYmFy\r\n YmF6!\r\nZg==\r\nignored";
	size_t len = sizeof(in) - 1;
	struct base64_dec d;
	struct buf b;

	buf_init(&b, 1024);
	base64_dec_init(&d);
	ck_assert_int_eq(base64_dec_feed(&d, in, (size_t)_i, &b), 0);
	ck_assert_int_eq(base64_dec_feed(&d, in + _i, len - (size_t)_i, &b), 0);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_mem_eq(b.data, "foobarbazf", 10);
	buf_free(&b);
}
END_TEST

static Suite *
base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("base64");

	tcase_add_loop_test(tc, test_base64_rfc4648_vectors, 0, (int)ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_base64_strict_rejects);
	tcase_add_test(tc, test_base64_limit);
	tcase_add_loop_test(tc, test_base64_incremental_split_anywhere, 0, 36);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(base64_suite());
	int nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
