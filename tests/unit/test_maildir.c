/*
 * test_maildir: Maildir names, Maildir++ folder names and line-end
 * conversion (lib/maildir.c).
 *
 * Tables of names and what they mean, both directions where there are two,
 * and the line-end converters fed at every split point.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/maildir.h"
#include "lib/util.h"

static const struct {
	const char	*name;
	unsigned	 flags;
	uint32_t	 kw;
	size_t		 ulen;
} names[] = {
	{ "1700000000.M1P2Q3.host:2,", 0, 0, 22 },
	{ "1700000000.M1P2Q3.host:2,S", MAILDIR_SEEN, 0, 22 },
	{ "1700000000.M1P2Q3.host:2,RS", MAILDIR_REPLIED | MAILDIR_SEEN, 0, 22 },
	{ "u:2,DFPRST", MAILDIR_DRAFT | MAILDIR_FLAGGED | MAILDIR_PASSED |
	    MAILDIR_REPLIED | MAILDIR_SEEN | MAILDIR_TRASHED, 0, 1 },
	{ "u:2,T", MAILDIR_TRASHED, 0, 1 },
	{ "u:2,P", MAILDIR_PASSED, 0, 1 },
	{ "u:2,Sac", MAILDIR_SEEN, (1u << 0) | (1u << 2), 1 },
	{ "u:2,az", 0, (1u << 0) | (1u << 25), 1 },
	{ "u:2,SXY", MAILDIR_SEEN, 0, 1 },		/* unknown letters */
	{ "u:2,S,x", MAILDIR_SEEN, (1u << ('x' - 'a')), 1 },
	{ "newfile", 0, 0, 7 },				/* new/: no info */
	{ "u:1,experimental", 0, 0, 1 },
	{ "u:", 0, 0, 1 },
	{ "1.M2P3Q4.h,S=1234,W=1260:2,FS", MAILDIR_FLAGGED | MAILDIR_SEEN,
	    0, 24 },
};

START_TEST(test_maildir_name_parse_table)
{
	unsigned flags;
	uint32_t kw;
	size_t ulen;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		ck_assert_msg(maildir_name_parse(names[i].name, &flags, &kw,
		    &ulen) == 0, "%s", names[i].name);
		ck_assert_msg(flags == names[i].flags, "%s", names[i].name);
		ck_assert_msg(kw == names[i].kw, "%s", names[i].name);
		ck_assert_msg(ulen == names[i].ulen, "%s", names[i].name);
	}
	ck_assert_int_eq(maildir_name_parse("", NULL, NULL, NULL),
	    MAILDIR_EINVAL);
	ck_assert_int_eq(maildir_name_parse(".hidden:2,S", NULL, NULL, NULL),
	    MAILDIR_EINVAL);
	ck_assert_int_eq(maildir_name_parse("a/b:2,S", NULL, NULL, NULL),
	    MAILDIR_EINVAL);
	ck_assert_int_eq(maildir_name_parse("x", NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(test_maildir_flags_format_sorted)
{
	static const struct {
		unsigned	 flags;
		uint32_t	 kw;
		const char	*want;
	} t[] = {
		{ 0, 0, "" },
		{ MAILDIR_SEEN, 0, "S" },
		{ MAILDIR_TRASHED | MAILDIR_DRAFT, 0, "DT" },
		{ MAILDIR_SEEN | MAILDIR_REPLIED | MAILDIR_FLAGGED, 0, "FRS" },
		{ 0x3f, 0x3ffffff, "DFPRSTabcdefghijklmnopqrstuvwxyz" },
		{ MAILDIR_PASSED, 1u << 3, "Pd" },
	};
	char out[MAILDIR_FLAGS_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ck_assert_uint_eq(maildir_flags_format(t[i].flags, t[i].kw, out),
		    strlen(t[i].want));
		ck_assert_str_eq(out, t[i].want);
	}
}
END_TEST

/* Every flag combination survives format -> parse. */
START_TEST(test_maildir_flags_round_trip)
{
	unsigned flags = (unsigned)_i & 0x3f, got;
	uint32_t kw = ((uint32_t)_i * 2654435761u) & 0x3ffffff, gkw;
	char *name = maildir_name_with_flags("1.M2P3Q4.host", flags, kw);

	ck_assert_int_eq(maildir_name_parse(name, &got, &gkw, NULL), 0);
	ck_assert_uint_eq(got, flags);
	ck_assert_uint_eq(gkw, kw);
	free(name);
}
END_TEST

START_TEST(test_maildir_name_new_and_with_flags)
{
	char *s;
	uint64_t v;

	s = maildir_name_new(1700000000, 12345, 678, 9, "mail.example", 4321,
	    1, MAILDIR_SEEN | MAILDIR_FLAGGED, 1u << 1);
	ck_assert_str_eq(s, "1700000000.M12345P678Q9.mail.example,S=4321:2,FSb");
	ck_assert_int_eq(maildir_name_size(s, 'S', &v), 0);
	ck_assert_uint_eq(v, 4321);
	ck_assert_int_eq(maildir_name_size(s, 'W', &v), -1);
	free(s);

	s = maildir_name_new(5, 0, 1, 2, "a/b:c,d", (uint64_t)-1, 0, 0, 0);
	ck_assert_str_eq(s, "5.M0P1Q2.a\\057b\\072c\\054d");
	free(s);

	s = maildir_name_new(5, 0, 1, 2, "", (uint64_t)-1, 1, 0, 0);
	ck_assert_str_eq(s, "5.M0P1Q2.localhost:2,");
	free(s);

	s = maildir_name_with_flags("1.M2P3Q4.h,S=10:2,FSx", MAILDIR_TRASHED, 0);
	ck_assert_str_eq(s, "1.M2P3Q4.h,S=10:2,T");
	free(s);
	s = maildir_name_with_flags("new-one", MAILDIR_SEEN, 0);
	ck_assert_str_eq(s, "new-one:2,S");
	free(s);
}
END_TEST

START_TEST(test_maildir_name_size_fields)
{
	uint64_t v;

	ck_assert_int_eq(maildir_name_size("1.M2.h,S=1234,W=1260:2,S", 'S', &v), 0);
	ck_assert_uint_eq(v, 1234);
	ck_assert_int_eq(maildir_name_size("1.M2.h,S=1234,W=1260:2,S", 'W', &v), 0);
	ck_assert_uint_eq(v, 1260);
	ck_assert_int_eq(maildir_name_size("1.M2.h,S=:2,S", 'S', &v), -1);
	ck_assert_int_eq(maildir_name_size("1.M2.h,S=12x:2,S", 'S', &v), -1);
	ck_assert_int_eq(maildir_name_size("1.M2.h:2,S=12", 'S', &v), -1);
	ck_assert_int_eq(maildir_name_size("1.M2.h,S=99999999999999999999",
	    'S', &v), -1);
}
END_TEST

static const struct {
	const char	*dir, *mailbox;
} folders[] = {
	{ ".Sent", "Sent" },
	{ ".Work.Projects", "Work/Projects" },
	{ ".INBOX.sub", "INBOX/sub" },
	{ ".a.b.c.d", "a/b/c/d" },
	{ ".Entw&APw-rfe", "Entw\xc3\xbc" "rfe" },
	{ ".&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-", "\xd0\x9e\xd1\x82\xd0\xbf"
	    "\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b"
	    "\xd0\xb5" },
	{ ".Tom &- Jerry", "Tom & Jerry" },
	{ ".&ZeVnLIqe-.&ZeVnLA-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/"
	    "\xe6\x97\xa5\xe6\x9c\xac" },
};

START_TEST(test_maildir_folder_names_both_ways)
{
	char *s;

	for (size_t i = 0; i < ARRAY_SIZE(folders); i++) {
		ck_assert_int_eq(maildir_folder_to_mailbox(folders[i].dir, &s), 0);
		ck_assert_str_eq(s, folders[i].mailbox);
		free(s);
		ck_assert_int_eq(maildir_mailbox_to_folder(folders[i].mailbox,
		    &s), 0);
		ck_assert_str_eq(s, folders[i].dir);
		free(s);
	}
}
END_TEST

START_TEST(test_maildir_folder_names_refused)
{
	static const char *const bad_dirs[] = {
		"", ".", "..", "Sent", ".Sent.", "..Sent", ".a..b", ".a/b",
		".&AOk", ".&AGE-", ".caf\xc3\xa9",
	};
	static const char *const bad_mailboxes[] = {
		"", "/", "a/", "/a", "a//b", "a.b", "caf\xc3", "x\xff",
	};
	char *s = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad_dirs); i++)
		ck_assert_msg(maildir_folder_to_mailbox(bad_dirs[i], &s) ==
		    MAILDIR_EINVAL, "%s", bad_dirs[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad_mailboxes); i++)
		ck_assert_msg(maildir_mailbox_to_folder(bad_mailboxes[i], &s) ==
		    MAILDIR_EINVAL, "%s", bad_mailboxes[i]);
	ck_assert_ptr_null(s);
}
END_TEST

static const char lf_text[] = "a\nb\r\n\nc\rd\r\r\n\r\n\n\re";
static const char crlf_text[] = "a\r\nb\r\n\r\nc\rd\r\r\n\r\n\r\n\re";
static const char back_text[] = "a\nb\n\nc\rd\r\n\n\n\re";

/* LF -> CRLF and back, cut at every offset _i. */
START_TEST(test_maildir_eol_split_anywhere)
{
	struct maildir_eol st;
	struct buf out;
	size_t at = (size_t)_i, len = sizeof(lf_text) - 1;

	buf_init(&out, 1024);
	memset(&st, 0, sizeof(st));
	if (at > len)
		at = len;
	ck_assert_int_eq(maildir_to_crlf(&st, lf_text, at, &out), 0);
	ck_assert_int_eq(maildir_to_crlf(&st, lf_text + at, len - at, &out), 0);
	ck_assert_uint_eq(out.len, sizeof(crlf_text) - 1);
	ck_assert_mem_eq(out.data, crlf_text, out.len);

	buf_reset(&out);
	memset(&st, 0, sizeof(st));
	len = sizeof(crlf_text) - 1;
	at = (size_t)_i;
	ck_assert_int_eq(maildir_to_lf(&st, crlf_text, at, &out), 0);
	ck_assert_int_eq(maildir_to_lf(&st, crlf_text + at, len - at, &out), 0);
	ck_assert_int_eq(maildir_to_lf_end(&st, &out), 0);
	ck_assert_uint_eq(out.len, sizeof(back_text) - 1);
	ck_assert_mem_eq(out.data, back_text, out.len);

	/* a CR at the very end is held and then flushed */
	buf_reset(&out);
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(maildir_to_lf(&st, "x\r", 2, &out), 0);
	ck_assert_uint_eq(out.len, 1);
	ck_assert_int_eq(maildir_to_lf_end(&st, &out), 0);
	ck_assert_uint_eq(out.len, 2);
	ck_assert_mem_eq(out.data, "x\r", 2);
	buf_free(&out);
}
END_TEST

START_TEST(test_maildir_eol_limit)
{
	struct maildir_eol st = { 0 };
	struct buf out;

	buf_init(&out, 4);
	ck_assert_int_eq(maildir_to_crlf(&st, "ab\n", 3, &out), 0);
	ck_assert_int_eq(maildir_to_crlf(&st, "\n", 1, &out), -1);
	buf_free(&out);
}
END_TEST

static Suite *
maildir_suite(void)
{
	Suite *s = suite_create("maildir");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_maildir_name_parse_table);
	tcase_add_test(tc, test_maildir_flags_format_sorted);
	tcase_add_loop_test(tc, test_maildir_flags_round_trip, 0, 256);
	tcase_add_test(tc, test_maildir_name_new_and_with_flags);
	tcase_add_test(tc, test_maildir_name_size_fields);
	tcase_add_test(tc, test_maildir_folder_names_both_ways);
	tcase_add_test(tc, test_maildir_folder_names_refused);
	tcase_add_loop_test(tc, test_maildir_eol_split_anywhere, 0,
	    (int)sizeof(crlf_text));
	tcase_add_test(tc, test_maildir_eol_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(maildir_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
