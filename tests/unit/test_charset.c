/*
 * test_charset: lib/charset, text in a MIME charset to UTF-8.
 *
 * Table-driven: each vector is a charset, its input and the UTF-8 that
 * must come out. Every vector is converted whole, then cut at every
 * offset into two pieces, then fed one byte at a time: the output must
 * not change, whatever the cut (a multi-byte or stateful charset holds a
 * cut-off character back). Then: the names read as UTF-8 without iconv,
 * an unknown charset, and out's limit.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/charset.h"
#include "lib/util.h"

#define FFFD	"\xef\xbf\xbd"

/* "日本語のテキスト, ok" in UTF-8 */
#define JA_UTF8	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83" \
		"\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88\x2c\x20\x6f\x6b"

struct vec {
	const char	*charset;
	const char	*in;
	size_t		 inlen;		/* 0: strlen(in) */
	const char	*want;
};

static const struct vec vecs[] = {
	/* UTF-8 as it is, each bad byte (and NUL) one U+FFFD */
	{ "utf-8", "caf\xc3\xa9 \xf0\x9d\x84\x9e", 0,
	  "caf\xc3\xa9 \xf0\x9d\x84\x9e" },
	{ "UTF-8", "a\xff" "b\xc3" "c", 0, "a" FFFD "b" FFFD "c" },
	{ "utf-8", "x\xe2\x82", 0, "x" FFFD FFFD },
	{ "utf-8", "\xc0\xaf", 0, FFFD FFFD },			/* overlong */
	{ "utf-8", "\xed\xa0\x80", 0, FFFD FFFD FFFD },		/* surrogate */
	{ "utf-8", "\xf4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD },
	{ "utf-8", "a\0b", 3, "a" FFFD "b" },
	{ "utf-8", "\xe2\x82" "A\xe2\x82\xac", 0, FFFD FFFD "A\xe2\x82\xac" },
	{ NULL, "plain ascii, long enough for the eight-byte steps", 0,
	  "plain ascii, long enough for the eight-byte steps" },
	/* single-byte charsets */
	{ "ISO-8859-1", "caf\xe9 \xa3" "5", 0, "caf\xc3\xa9 \xc2\xa3" "5" },
	{ "latin1", "\xe9t\xe9", 0, "\xc3\xa9t\xc3\xa9" },
	{ "windows-1252", "\x80 \x93q\x94", 0,
	  "\xe2\x82\xac \xe2\x80\x9cq\xe2\x80\x9d" },
	{ "iso-8859-1", "a\0b", 3, "a" FFFD "b" },
	/* multi-byte charsets */
	{ "Shift_JIS", "\x93\xfa\x96\x7b\x8c\xea\x82\xcc\x83\x65\x83\x4c\x83"
	  "\x58\x83\x67\x2c\x20\x6f\x6b", 0, JA_UTF8 },
	{ "EUC-JP", "\xc6\xfc\xcb\xdc\xb8\xec\xa4\xce\xa5\xc6\xa5\xad\xa5\xb9"
	  "\xa5\xc8\x2c\x20\x6f\x6b", 0, JA_UTF8 },
	{ "UTF-16LE", "\xe5\x65\x2c\x67\x9e\x8a\x6e\x30\xc6\x30\xad\x30\xb9"
	  "\x30\xc8\x30\x2c\x00\x20\x00\x6f\x00\x6b\x00", 24, JA_UTF8 },
	{ "UTF-16BE", "\x65\xe5\x67\x2c\x8a\x9e\x30\x6e\x30\xc6\x30\xad\x30"
	  "\xb9\x30\xc8\x00\x2c\x00\x20\x00\x6f\x00\x6b", 24, JA_UTF8 },
	{ "GB18030", "\xd6\xd0\xce\xc4\x20\xa2\xe3\x31\x20\x94\x32\xbe\x34",
	  0, "\xe4\xb8\xad\xe6\x96\x87\x20\xe2\x82\xac\x31\x20\xf0\x9d\x84"
	  "\x9e" },
	/* stateful: escape sequences switch the character set */
	{ "ISO-2022-JP", "\x1b\x24\x42\x46\x7c\x4b\x5c\x38\x6c\x24\x4e\x25\x46"
	  "\x25\x2d\x25\x39\x25\x48\x1b\x28\x42\x2c\x20\x6f\x6b", 0, JA_UTF8 },
	/* a bad sequence, and a character cut off at the very end */
	{ "Shift_JIS", "a\x93\xfa\xff" "b\x93", 0,
	  "a\xe6\x97\xa5" FFFD "b" FFFD },
	/* a lone surrogate: one U+FFFD, and on from the next byte */
	{ "UTF-16LE", "a\x00\x00\xd8" "b", 5, "a" FFFD "\xe6\x8b\x98" },
	/* an unknown charset is read as UTF-8 */
	{ "x-no-such-charset", "caf\xc3\xa9\xff", 0, "caf\xc3\xa9" FFFD },
	{ "", "caf\xc3\xa9", 0, "caf\xc3\xa9" },
};

static size_t
in_len(const struct vec *v)
{
	return v->inlen != 0 ? v->inlen : strlen(v->in);
}

static void
assert_out(const struct vec *v, const struct buf *b, const char *how)
{
	ck_assert_msg(b->len == strlen(v->want) &&
	    memcmp(b->data, v->want, b->len) == 0,
	    "%s %s: got %zu bytes '%.*s', want '%s'", v->charset ?
	    v->charset : "(none)", how, b->len, (int)b->len,
	    b->data != NULL ? b->data : "", v->want);
}

START_TEST(test_charset_whole)
{
	const struct vec *v = &vecs[_i];
	struct buf b;

	buf_init(&b, 4096);
	ck_assert_int_eq(charset_to_utf8(v->charset, v->in, in_len(v), &b), 0);
	assert_out(v, &b, "whole");
	buf_free(&b);
}
END_TEST

/* Cut at every offset, and one byte at a time: the same output. */
START_TEST(test_charset_split_anywhere)
{
	const struct vec *v = &vecs[_i];
	size_t n = in_len(v), cut, i;
	struct charset_conv *cv;
	struct buf b;

	buf_init(&b, 4096);
	for (cut = 0; cut <= n; cut++) {
		buf_reset(&b);
		cv = charset_conv_new(v->charset);
		ck_assert_int_eq(charset_conv_feed(cv, v->in, cut, 0, &b), 0);
		ck_assert_int_eq(charset_conv_feed(cv, v->in + cut, n - cut, 1,
		    &b), 0);
		assert_out(v, &b, "cut in two");
		/* used again after the last piece: a new text */
		buf_reset(&b);
		ck_assert_int_eq(charset_conv_feed(cv, v->in, n, 1, &b), 0);
		assert_out(v, &b, "again");
		charset_conv_free(&cv);
		ck_assert_ptr_null(cv);
	}
	buf_reset(&b);
	cv = charset_conv_new(v->charset);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(charset_conv_feed(cv, v->in + i, 1, 0, &b), 0);
	ck_assert_int_eq(charset_conv_feed(cv, "", 0, 1, &b), 0);
	assert_out(v, &b, "byte by byte");
	charset_conv_free(&cv);
	charset_conv_free(&cv);		/* NULL is fine */
	buf_free(&b);
}
END_TEST

/* These names are UTF-8 without iconv: iconv's ASCII would refuse 8-bit
 * bytes, and these keep them. */
START_TEST(test_charset_utf8_names)
{
	static const char *const names[] = {
		NULL, "", "utf-8", "UTF-8", "utf8", "US-ASCII", "ascii",
		"Ascii",
	};
	struct buf b;
	size_t i;

	buf_init(&b, 64);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		buf_reset(&b);
		ck_assert_int_eq(charset_to_utf8(names[i], "caf\xc3\xa9", 5,
		    &b), 0);
		ck_assert_str_eq(b.data, "caf\xc3\xa9");
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_charset_out_limit)
{
	struct buf b;

	/* out holds a prefix: what fit before the piece that did not */
	buf_init(&b, 4);
	ck_assert_int_eq(charset_to_utf8("latin1", "abc\xe9\xe9", 5, &b), -1);
	ck_assert_uint_le(b.len, 4);
	buf_free(&b);
	buf_init(&b, 4);
	ck_assert_int_eq(charset_to_utf8(NULL, "ab\xff" "cdef", 7, &b), -1);
	ck_assert_str_eq(b.data, "ab");
	buf_free(&b);
}
END_TEST

static Suite *
charset_suite(void)
{
	Suite *s = suite_create("charset");
	TCase *tc = tcase_create("charset");

	tcase_add_loop_test(tc, test_charset_whole, 0, (int)ARRAY_SIZE(vecs));
	tcase_add_loop_test(tc, test_charset_split_anywhere, 0,
	    (int)ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_charset_utf8_names);
	tcase_add_test(tc, test_charset_out_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(charset_suite());
	int nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
