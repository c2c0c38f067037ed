/*
 * Unit tests for lib/digest.c, the EVP wrapper behind APOP and CRAM-MD5:
 * known-answer vectors from the RFCs that define what we hash. RFC 1321's
 * MD5 test suite (whole and fed a byte at a time), RFC 2202's HMAC-MD5
 * test cases (which include RFC 2104's), the CRAM-MD5 exchange of RFC
 * 2195 and the APOP example of RFC 1939, and the hex form both send.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"
#include "lib/util.h"

/* The hex MD5 of p, whole. */
static void
md5_hex_of(const void *p, size_t n, char out[DIGEST_MD5_HEX_LEN])
{
	unsigned char md[DIGEST_MD5_LEN];

	ck_assert_int_eq(digest_md5(p, n, md), 0);
	digest_hex(md, sizeof(md), out);
}

/* The hex MD5 of p, fed in pieces of step bytes. */
static void
md5_hex_stepped(const char *p, size_t n, size_t step,
    char out[DIGEST_MD5_HEX_LEN])
{
	unsigned char md[DIGEST_MD5_LEN];
	struct digest_md5 *d = digest_md5_new();
	size_t i;

	ck_assert_ptr_nonnull(d);
	for (i = 0; i < n; i += step)
		digest_md5_update(d, p + i, n - i < step ? n - i : step);
	ck_assert_int_eq(digest_md5_final(&d, md), 0);
	ck_assert_ptr_null(d);
	digest_hex(md, sizeof(md), out);
}

/* RFC 1321 appendix A.5. */
static const char *const rfc1321[][2] = {
	{ "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a", "0cc175b9c0f1b6a831c399e269772661" },
	{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	  "d174ab98d277d9f5a5611c2c9f419d9f" },
	{ "1234567890123456789012345678901234567890123456789012345678901234"
	  "5678901234567890", "57edf4a22be3c955ac49da2e2107b67a" },
};

START_TEST(test_digest_md5_rfc1321_suite)
{
	const char *in = rfc1321[_i][0], *want = rfc1321[_i][1];
	char hex[DIGEST_MD5_HEX_LEN];

	md5_hex_of(in, strlen(in), hex);
	ck_assert_str_eq(hex, want);
}
END_TEST

/* Whatever the pieces, the same digest as the whole. */
START_TEST(test_digest_md5_in_pieces_equals_whole)
{
	const char *in = rfc1321[_i][0], *want = rfc1321[_i][1];
	char hex[DIGEST_MD5_HEX_LEN];
	size_t step;

	for (step = 1; step <= 65; step += 7) {
		md5_hex_stepped(in, strlen(in), step, hex);
		ck_assert_str_eq(hex, want);
	}
}
END_TEST

/* A context that was never made fails at the end, and says so. */
START_TEST(test_digest_md5_final_without_context_fails)
{
	unsigned char md[DIGEST_MD5_LEN];
	struct digest_md5 *d = NULL;

	digest_md5_update(d, "x", 1);
	ck_assert_int_eq(digest_md5_final(&d, md), -1);
}
END_TEST

/* RFC 2202 section 2, test cases 1 to 7. */
struct hmac_case {
	unsigned char	 key_byte;	/* the key: keylen times this; or
					 * 0: key_text, or 0x01, 0x02, ...
					 * when that is NULL */
	size_t		 keylen;
	const char	*key_text;
	unsigned char	 data_byte;	/* 0: the data is data_text */
	size_t		 datalen;
	const char	*data_text;
	const char	*want;
};

static const struct hmac_case rfc2202[] = {
	{ 0x0b, 16, NULL, 0, 8, "Hi There",
	  "9294727a3638bb1c13f48ef8158bfc9d" },
	{ 0, 4, "Jefe", 0, 28, "what do ya want for nothing?",
	  "750c783e6ab0b503eaa86e310a5db738" },
	{ 0xaa, 16, NULL, 0xdd, 50, NULL,
	  "56be34521d144c88dbb8c733f0e8b3f6" },
	{ 0, 25, NULL, 0xcd, 50, NULL,		/* key 0x01, 0x02, ..., 0x19 */
	  "697eaf0aca3a3aea3a75164746ffaa79" },
	{ 0x0c, 16, NULL, 0, 20, "Test With Truncation",
	  "56461ef2342edc00f9bab995690efd4c" },
	{ 0xaa, 80, NULL, 0, 54,
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
	{ 0xaa, 80, NULL, 0, 73, "Test Using Larger Than Block-Size Key and "
	  "Larger Than One Block-Size Data",
	  "6f630fad67cda0ee1fb1f562db3aa53e" },
};

START_TEST(test_digest_hmac_md5_rfc2202_cases)
{
	const struct hmac_case *hc = &rfc2202[_i];
	unsigned char key[80], data[80], md[DIGEST_MD5_LEN];
	char hex[DIGEST_MD5_HEX_LEN];
	size_t i;

	for (i = 0; i < hc->keylen; i++)
		key[i] = hc->key_byte != 0 ? hc->key_byte :
		    hc->key_text != NULL ? (unsigned char)hc->key_text[i] :
		    (unsigned char)(i + 1);
	for (i = 0; i < hc->datalen; i++)
		data[i] = hc->data_text != NULL ?
		    (unsigned char)hc->data_text[i] : hc->data_byte;
	ck_assert_int_eq(digest_hmac_md5(key, hc->keylen, data, hc->datalen,
	    md), 0);
	digest_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, hc->want);
}
END_TEST

/* An empty key and an empty message are valid input too. */
START_TEST(test_digest_hmac_md5_of_nothing)
{
	unsigned char md[DIGEST_MD5_LEN];
	char hex[DIGEST_MD5_HEX_LEN];

	ck_assert_int_eq(digest_hmac_md5("", 0, "", 0, md), 0);
	digest_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, "74e6f7298a9c2d168935f58c001bad88");
}
END_TEST

/* RFC 2195 section 2: the server's challenge, tim's password, his reply. */
START_TEST(test_digest_cram_md5_rfc2195_example)
{
	static const char challenge[] =
	    "<1896.697170952@postoffice.reston.mci.net>";
	static const char pw[] = "tanstaaftanstaaf";
	unsigned char md[DIGEST_MD5_LEN];
	char hex[DIGEST_MD5_HEX_LEN];

	ck_assert_int_eq(digest_hmac_md5(pw, strlen(pw), challenge,
	    strlen(challenge), md), 0);
	digest_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, "b913a602c7eda7a495b4e6e7334d3890");
}
END_TEST

/* RFC 1939 section 7: MD5 of the greeting's timestamp, then the secret,
 * hashed as the server does, in two pieces. */
START_TEST(test_digest_apop_rfc1939_example)
{
	static const char ts[] = "<1896.697170952@dbc.mtview.ca.us>";
	static const char pw[] = "tanstaaf";
	unsigned char md[DIGEST_MD5_LEN];
	char hex[DIGEST_MD5_HEX_LEN], *joined;
	struct digest_md5 *d = digest_md5_new();

	digest_md5_update(d, ts, strlen(ts));
	digest_md5_update(d, pw, strlen(pw));
	ck_assert_int_eq(digest_md5_final(&d, md), 0);
	digest_hex(md, sizeof(md), hex);
	ck_assert_str_eq(hex, "c4c9334bac560ecc979e58001b3e22fb");
	joined = xasprintf("%s%s", ts, pw);
	md5_hex_of(joined, strlen(joined), hex);
	ck_assert_str_eq(hex, "c4c9334bac560ecc979e58001b3e22fb");
	free(joined);
}
END_TEST

START_TEST(test_digest_hex_is_lowercase_and_terminated)
{
	static const unsigned char in[] = { 0x00, 0x09, 0x0a, 0x7f, 0x80,
	    0xab, 0xff };
	char out[2 * sizeof(in) + 2];

	memset(out, 'X', sizeof(out));
	digest_hex(in, sizeof(in), out);
	ck_assert_str_eq(out, "00090a7f80abff");
	ck_assert_int_eq(out[sizeof(out) - 1], 'X');
}
END_TEST

static Suite *
digest_suite(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("vectors");

	tcase_add_loop_test(tc, test_digest_md5_rfc1321_suite, 0,
	    (int)ARRAY_SIZE(rfc1321));
	tcase_add_loop_test(tc, test_digest_md5_in_pieces_equals_whole, 0,
	    (int)ARRAY_SIZE(rfc1321));
	tcase_add_test(tc, test_digest_md5_final_without_context_fails);
	tcase_add_loop_test(tc, test_digest_hmac_md5_rfc2202_cases, 0,
	    (int)ARRAY_SIZE(rfc2202));
	tcase_add_test(tc, test_digest_hmac_md5_of_nothing);
	tcase_add_test(tc, test_digest_cram_md5_rfc2195_example);
	tcase_add_test(tc, test_digest_apop_rfc1939_example);
	tcase_add_test(tc, test_digest_hex_is_lowercase_and_terminated);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(digest_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
