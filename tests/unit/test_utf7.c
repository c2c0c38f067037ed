/*
 * Tests for lib/utf7: modified UTF-7 vectors in both directions (RFC 3501
 * section 5.1.3 among them), every kind of invalid input refused, and a
 * failed call leaving the output buffer as it was.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/utf7.h"
#include "lib/util.h"

struct pair {
	const char	*utf8;
	const char	*mutf7;
};

static const struct pair pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "&", "&-" },
	{ "Tom & Jerry", "Tom &- Jerry" },
	{ "&&", "&-&-" },
	{ "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
	{ "\xc3\xa9", "&AOk-" },
	{ "\xc3\xa9\xc3\xa9", "&AOkA6Q-" },
	{ "\xc3\xa9\xc3\xa9\xc3\xa9", "&AOkA6QDp-" },
	{ "a\tb", "a&AAk-b" },			/* a control is encoded */
	{ "\x7f", "&AH8-" },
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },	/* U+1F600, a surrogate pair */
	{ "\xe2\x82\xac-", "&IKw--" },		/* '-' right after a run */
	{ "[Gmail]/Gesendet", "[Gmail]/Gesendet" },
};

START_TEST(test_utf7_encode_vectors)
{
	struct buf out;

	buf_init(&out, 1024);
	ck_assert_int_eq(utf7_encode(pairs[_i].utf8, strlen(pairs[_i].utf8),
	    &out), 0);
	ck_assert_str_eq(out.data ? out.data : "", pairs[_i].mutf7);
	buf_free(&out);
}
END_TEST

START_TEST(test_utf7_decode_vectors)
{
	struct buf out;

	buf_init(&out, 1024);
	ck_assert_int_eq(utf7_decode(pairs[_i].mutf7,
	    strlen(pairs[_i].mutf7), &out), 0);
	ck_assert_str_eq(out.data ? out.data : "", pairs[_i].utf8);
	buf_free(&out);
}
END_TEST

static const char *const bad_mutf7[] = {
	"&",			/* run never starts */
	"&AOk",			/* run not ended */
	"&AO!-",		/* bad digit */
	"&AO/-",		/* '/' is standard BASE64, not modified */
	"&AOk=-",		/* padding is not used */
	"&AOl-",		/* non-zero padding bits */
	"&AOkA-",		/* a whole digit of padding */
	"&A-",			/* fewer bits than one unit */
	"&AGE-",		/* 'a' encoded: it can represent itself */
	"&ACY-",		/* '&' encoded */
	"&AAA-",		/* U+0000 */
	"&2D0-",		/* a lone high surrogate */
	"&3gA-",		/* a lone low surrogate */
	"&3gDYPQ-",		/* low then high */
	"&2D0AYQ-",		/* high then not a low */
	"caf\xc3\xa9",		/* raw 8-bit */
	"a\tb",			/* a raw control */
	"a\x7f",
};

START_TEST(test_utf7_decode_rejects_invalid)
{
	struct buf out;

	buf_init(&out, 1024);
	buf_adds(&out, "keep");
	ck_assert_msg(utf7_decode(bad_mutf7[_i], strlen(bad_mutf7[_i]),
	    &out) == UTF7_EINVAL, "accepted %s", bad_mutf7[_i]);
	ck_assert_str_eq(out.data, "keep");
	buf_free(&out);
}
END_TEST

static const char *const bad_utf8[] = {
	"\xc3",			/* cut off */
	"\xc3(",		/* bad continuation */
	"\xc0\xaf",		/* overlong '/' */
	"\xe0\x80\xaf",		/* overlong, 3 bytes */
	"\xed\xa0\x80",		/* a surrogate */
	"\xf4\x90\x80\x80",	/* beyond U+10FFFF */
	"\xff",
	"\x80",
	"a\xf0\x9f\x98",	/* cut off 4-byte form */
};

START_TEST(test_utf7_encode_rejects_invalid_utf8)
{
	struct buf out;

	buf_init(&out, 1024);
	buf_adds(&out, "keep");
	ck_assert_int_eq(utf7_encode(bad_utf8[_i], strlen(bad_utf8[_i]),
	    &out), UTF7_EINVAL);
	ck_assert_str_eq(out.data, "keep");
	buf_free(&out);
}
END_TEST

START_TEST(test_utf7_nul_refused_both_ways)
{
	struct buf out;

	buf_init(&out, 64);
	ck_assert_int_eq(utf7_encode("a\0b", 3, &out), UTF7_EINVAL);
	ck_assert_int_eq(utf7_decode("a\0b", 3, &out), UTF7_EINVAL);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_utf7_output_bounded)
{
	const char *u = "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97";
	struct buf out;
	size_t max;

	/* "~peter/mail/&U,BTFw-" is 20 bytes: every smaller max fails whole */
	for (max = 0; max < 20; max++) {
		buf_init(&out, max);
		ck_assert_int_eq(utf7_encode(u, strlen(u), &out), UTF7_ELIMIT);
		ck_assert_uint_eq(out.len, 0);
		buf_free(&out);
	}
	buf_init(&out, 20);
	ck_assert_int_eq(utf7_encode(u, strlen(u), &out), 0);
	ck_assert_str_eq(out.data, "~peter/mail/&U,BTFw-");
	buf_free(&out);
	for (max = 0; max < strlen(u); max++) {
		buf_init(&out, max);
		ck_assert_int_eq(utf7_decode("~peter/mail/&U,BTFw-", 20, &out),
		    UTF7_ELIMIT);
		ck_assert_uint_eq(out.len, 0);
		buf_free(&out);
	}
}
END_TEST

/* Adjacent runs are refused: "&AOkA6Q-" is the one encoding of "éé", so
 * two names that decode alike can never both exist (found by fuzzing). */
START_TEST(test_utf7_adjacent_runs_refused)
{
	struct buf out;

	buf_init(&out, 64);
	ck_assert_int_eq(utf7_decode("&AOk-&AOk-", 10, &out), UTF7_EINVAL);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(utf7_decode("&AOk-&-", 7, &out), 0);
	ck_assert_str_eq(out.data, "\xc3\xa9&");
	buf_free(&out);
}
END_TEST

/* Every BMP character and a few astral ones survive a round trip. */
START_TEST(test_utf7_round_trip_all_bmp)
{
	struct buf u, m, back;
	uint32_t c;

	buf_init(&u, 16);
	buf_init(&m, 64);
	buf_init(&back, 16);
	for (c = 1; c < 0x110000; c += (c < 0x10000 ? 1 : 0x1001)) {
		char s[5];
		size_t n;

		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		if (c < 0x80) {
			s[0] = (char)c;
			n = 1;
		} else if (c < 0x800) {
			s[0] = (char)(0xc0 | (c >> 6));
			s[1] = (char)(0x80 | (c & 0x3f));
			n = 2;
		} else if (c < 0x10000) {
			s[0] = (char)(0xe0 | (c >> 12));
			s[1] = (char)(0x80 | ((c >> 6) & 0x3f));
			s[2] = (char)(0x80 | (c & 0x3f));
			n = 3;
		} else {
			s[0] = (char)(0xf0 | (c >> 18));
			s[1] = (char)(0x80 | ((c >> 12) & 0x3f));
			s[2] = (char)(0x80 | ((c >> 6) & 0x3f));
			s[3] = (char)(0x80 | (c & 0x3f));
			n = 4;
		}
		buf_reset(&m);
		buf_reset(&back);
		ck_assert_int_eq(utf7_encode(s, n, &m), 0);
		ck_assert_int_eq(utf7_decode(m.data, m.len, &back), 0);
		ck_assert_uint_eq(back.len, n);
		ck_assert_mem_eq(back.data, s, n);
	}
	buf_free(&u);
	buf_free(&m);
	buf_free(&back);
}
END_TEST

static Suite *
utf7_suite(void)
{
	Suite *s = suite_create("utf7");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_utf7_encode_vectors, 0, ARRAY_SIZE(pairs));
	tcase_add_loop_test(tc, test_utf7_decode_vectors, 0, ARRAY_SIZE(pairs));
	tcase_add_loop_test(tc, test_utf7_decode_rejects_invalid, 0,
	    ARRAY_SIZE(bad_mutf7));
	tcase_add_loop_test(tc, test_utf7_encode_rejects_invalid_utf8, 0,
	    ARRAY_SIZE(bad_utf8));
	tcase_add_test(tc, test_utf7_nul_refused_both_ways);
	tcase_add_test(tc, test_utf7_output_bounded);
	tcase_add_test(tc, test_utf7_adjacent_runs_refused);
	tcase_add_test(tc, test_utf7_round_trip_all_bmp);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(utf7_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
