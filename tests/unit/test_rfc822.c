/*
 * test_rfc822: header lookup, address lists and dates.
 *
 * The address vectors are what Dovecot 2.3 answers in ENVELOPE for the
 * same header values (checked by hand), written as IMAP address lists.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/rfc822.h"
#include "lib/util.h"

static const char hdr[] =
    "Subject:   hi  there  \r\n"
    " folded \r\n"
    "X-Empty:\r\n"
    "received: one\r\n"
    "no colon line\r\n"
    "Received: two\r\n"
    "\tcontinued\r\n"
    "\r\n"
    "Body: not a header\r\n";

START_TEST(test_rfc822_header_get_first)
{
	char *v = rfc822_header_get(hdr, sizeof(hdr) - 1, "SUBJECT");

	ck_assert_str_eq(v, "hi  there   folded ");
	free(v);
	v = rfc822_header_get(hdr, sizeof(hdr) - 1, "x-empty");
	ck_assert_str_eq(v, "");
	free(v);
	ck_assert_ptr_null(rfc822_header_get(hdr, sizeof(hdr) - 1, "Body"));
	ck_assert_ptr_null(rfc822_header_get(hdr, sizeof(hdr) - 1, "no colon line"));
}
END_TEST

START_TEST(test_rfc822_header_get_all)
{
	char **v;
	size_t n = rfc822_header_get_all(hdr, sizeof(hdr) - 1, "Received", &v);

	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0], "one");
	ck_assert_str_eq(v[1], "two\tcontinued");
	ck_assert_ptr_null(v[2]);
	rfc822_strv_free(&v);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(rfc822_header_get_all(hdr, sizeof(hdr) - 1, "X-None", &v), 0);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_rfc822_header_unterminated)
{
	static const char h[] = "A: 1\nB: 2";
	char *v = rfc822_header_get(h, sizeof(h) - 1, "b");

	ck_assert_str_eq(v, "2");
	free(v);
}
END_TEST

struct avec {
	const char	*in, *want;
};

static const struct avec avecs[] = {
	{ "Foo Bar <a@b.c>", "(\"Foo Bar\" NIL \"a\" \"b.c\")" },
	{ "c@d (Com Ment)", "(\"Com Ment\" NIL \"c\" \"d\")" },
	{ "\"Q \\\"x\\\"\" <@r1,@r2:e@f>", "(\"Q \"x\"\" \"@r1,@r2\" \"e\" \"f\")" },
	{ "undisclosed:;", "(NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)" },
	{ "g", "(NIL NIL \"g\" \"MISSING_DOMAIN\")" },
	{ "<>", "(NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")" },
	{ "h@", "(NIL NIL \"h\" \"MISSING_DOMAIN\")" },
	{ "@i", "(NIL NIL \"MISSING_MAILBOX\" \"i\")" },
	{ "grp: j@k, l@m;", "(NIL NIL \"grp\" NIL)(NIL NIL \"j\" \"k\")"
	  "(NIL NIL \"l\" \"m\")(NIL NIL NIL NIL)" },
	{ "=?utf-8?q?x?= <n@o>", "(\"=?utf-8?q?x?=\" NIL \"n\" \"o\")" },
	{ "\"\" <p@q>, r@s.t.", "(NIL NIL \"p\" \"q\")(NIL NIL \"r\" \"MISSING_DOMAIN\")" },
	{ "\"a b\"@c.d", "(NIL NIL \"a b\" \"c.d\")" },
	{ "x.y@[1.2.3.4]", "(NIL NIL \"x.y\" \"[1.2.3.4]\")" },
	{ "John Q. Public <jqp@e.f>", "(\"John Q. Public\" NIL \"jqp\" \"e.f\")" },
	{ "a@b (c) (d)", "(\"d\" NIL \"a\" \"b\")" },
	{ "\"x\" y <q@r>", "(\"x y\" NIL \"q\" \"r\")" },
	{ "<@r:s@t>", "(NIL \"@r\" \"s\" \"t\")" },
	{ "k@l m@n, o@p", "(NIL NIL \"k\" \"l\")" },
	{ "a (comm) <b@c>", "(\"a\" NIL \"b\" \"c\")" },
	{ "(lead) d@e", "(NIL NIL \"d\" \"e\")" },
	{ "A <a@b>,\r\n\tB <b@c>", "(\"A\" NIL \"a\" \"b\")(\"B\" NIL \"b\" \"c\")" },
	{ "", "" },
	{ " , ,", "" },
};

static void
nstr(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_adds(b, "NIL");
	else
		buf_printf(b, "\"%s\"", s);
}

START_TEST(test_rfc822_addr_vectors)
{
	const struct avec *v = &avecs[_i];
	struct rfc822_addr *a;
	size_t n = rfc822_addr_parse(v->in, strlen(v->in), &a), i;
	struct buf b;

	buf_init(&b, 4096);
	buf_adds(&b, "");
	for (i = 0; i < n; i++) {
		buf_addc(&b, '(');
		nstr(&b, a[i].name);
		buf_addc(&b, ' ');
		nstr(&b, a[i].route);
		buf_addc(&b, ' ');
		nstr(&b, a[i].mailbox);
		buf_addc(&b, ' ');
		nstr(&b, a[i].host);
		buf_addc(&b, ')');
	}
	ck_assert_msg(strcmp(b.data, v->want) == 0, "%s:\n got  %s\n want %s",
	    v->in, b.data, v->want);
	rfc822_addr_free(&a, n);
	ck_assert_ptr_null(a);
	buf_free(&b);
}
END_TEST

struct dvec {
	const char	*in;
	long long	 t;
	int		 tz;	/* 9999: must fail */
};

static const struct dvec dvecs[] = {
	{ "Wed, 17 Jul 1996 02:44:25 -0700", 837596665, -420 },
	{ "17 Jul 1996 02:44:25 -0700", 837596665, -420 },
	{ "Wed, 17 Jul 96 09:44:25 GMT", 837596665, 0 },
	{ "Wed, 17 Jul 1996 05:44:25 EDT", 837596665, -240 },
	{ "Wed, 17 Jul 1996 02:44 -0700 (PDT)", 837596640, -420 },
	{ "Wed , 17 Jul 1996 09:44:25 +0000", 837596665, 0 },
	{ "1 Jan 2000 00:00:00 +0100", 946681200, 60 },
	{ "1 Jan 49 00:00:00 +0000", 2493072000LL, 0 },
	{ "1 Jan 50 00:00:00 Z", -631152000LL, 0 },
	{ "Thu, 1 Jan 1970 00:00:00 A", 0, 0 },
	{ "29 Feb 2024 12:00:00 +0530", 1709188200, 330 },
	{ "", 0, 9999 },
	{ "garbage", 0, 9999 },
	{ "32 Jan 2000 00:00:00 +0000", 0, 9999 },
	{ "1 Foo 2000 00:00:00 +0000", 0, 9999 },
	{ "1 Jan 2000 25:00:00 +0000", 0, 9999 },
	{ "1 Jan 2000 00:00:00 +07", 0, 9999 },
};

START_TEST(test_rfc822_date_vectors)
{
	const struct dvec *v = &dvecs[_i];
	time_t t = 12345;
	int tz = 777, rc = rfc822_date_parse(v->in, strlen(v->in), &t, &tz);

	if (v->tz == 9999) {
		ck_assert_int_eq(rc, -1);
		return;
	}
	ck_assert_msg(rc == 0, "%s failed", v->in);
	ck_assert_msg((long long)t == v->t, "%s: %lld", v->in, (long long)t);
	ck_assert_int_eq(tz, v->tz);
}
END_TEST

static Suite *
rfc822_suite(void)
{
	Suite *s = suite_create("rfc822");
	TCase *tc = tcase_create("rfc822");

	tcase_add_test(tc, test_rfc822_header_get_first);
	tcase_add_test(tc, test_rfc822_header_get_all);
	tcase_add_test(tc, test_rfc822_header_unterminated);
	tcase_add_loop_test(tc, test_rfc822_addr_vectors, 0, (int)ARRAY_SIZE(avecs));
	tcase_add_loop_test(tc, test_rfc822_date_vectors, 0, (int)ARRAY_SIZE(dvecs));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rfc822_suite());
	int nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
