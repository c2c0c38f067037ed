/*
 * Unit tests for the POP3 command parser (lib/pop3_cmd.c): a table of
 * command lines with what each must parse to (keyword, arguments,
 * numbers, or the error), the printable form of an unknown keyword, and
 * the split of a SASL PLAIN message into its three parts.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "lib/pop3_cmd.h"
#include "lib/util.h"

struct parse_case {
	const char	*line;
	int		 rc;
	enum pop3_cmd_id id;
	size_t		 nargs;
	const char	*arg0, *arg1;
	uint32_t	 num0, num1;
};

static const struct parse_case parse_cases[] = {
	{ "STAT\r\n", POP3_CMD_OK, POP3_CMD_STAT, 0, NULL, NULL, 0, 0 },
	{ "stat", POP3_CMD_OK, POP3_CMD_STAT, 0, NULL, NULL, 0, 0 },
	{ "LIST\n", POP3_CMD_OK, POP3_CMD_LIST, 0, NULL, NULL, 0, 0 },
	{ "LIST 12", POP3_CMD_OK, POP3_CMD_LIST, 1, "12", NULL, 12, 0 },
	{ "LIST 12 ", POP3_CMD_OK, POP3_CMD_LIST, 1, "12", NULL, 12, 0 },
	{ "LIST 1 2", POP3_CMD_ESYNTAX, POP3_CMD_LIST, 2, "1", "2", 0, 0 },
	{ "LIST -1", POP3_CMD_ESYNTAX, POP3_CMD_LIST, 1, "-1", NULL, 0, 0 },
	{ "LIST 4294967295", POP3_CMD_OK, POP3_CMD_LIST, 1, "4294967295",
	  NULL, 4294967295u, 0 },
	{ "LIST 4294967296", POP3_CMD_ESYNTAX, POP3_CMD_LIST, 1, "4294967296",
	  NULL, 0, 0 },
	{ "TOP 3 0", POP3_CMD_OK, POP3_CMD_TOP, 2, "3", "0", 3, 0 },
	{ "top  3  10", POP3_CMD_OK, POP3_CMD_TOP, 2, "3", "10", 3, 10 },
	{ "TOP 3", POP3_CMD_ESYNTAX, POP3_CMD_TOP, 1, "3", NULL, 3, 0 },
	{ "RETR", POP3_CMD_ESYNTAX, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
	{ "DELE 7", POP3_CMD_OK, POP3_CMD_DELE, 1, "7", NULL, 7, 0 },
	{ "UIDL", POP3_CMD_OK, POP3_CMD_UIDL, 0, NULL, NULL, 0, 0 },
	{ "USER john smith", POP3_CMD_OK, POP3_CMD_USER, 1, "john smith",
	  NULL, 0, 0 },
	{ "PASS  secret with spaces ", POP3_CMD_OK, POP3_CMD_PASS, 1,
	  " secret with spaces ", NULL, 0, 0 },
	{ "PASS", POP3_CMD_ESYNTAX, POP3_CMD_PASS, 0, NULL, NULL, 0, 0 },
	{ "PASS ", POP3_CMD_ESYNTAX, POP3_CMD_PASS, 1, "", NULL, 0, 0 },
	{ "APOP mrose c4c9334bac560ecc979e58001b3e22fb", POP3_CMD_OK,
	  POP3_CMD_APOP, 2, "mrose", "c4c9334bac560ecc979e58001b3e22fb", 0,
	  0 },
	{ "APOP mrose c4c9334bac560ecc979e58001b3e22f", POP3_CMD_ESYNTAX,
	  POP3_CMD_APOP, 2, "mrose", "c4c9334bac560ecc979e58001b3e22f", 0, 0 },
	{ "APOP mrose c4c9334bac560ecc979e58001b3e22fx", POP3_CMD_ESYNTAX,
	  POP3_CMD_APOP, 2, "mrose", "c4c9334bac560ecc979e58001b3e22fx", 0,
	  0 },
	{ "AUTH", POP3_CMD_OK, POP3_CMD_AUTH, 0, NULL, NULL, 0, 0 },
	{ "AUTH PLAIN dGVzdA==", POP3_CMD_OK, POP3_CMD_AUTH, 2, "PLAIN",
	  "dGVzdA==", 0, 0 },
	{ "CAPA x", POP3_CMD_ESYNTAX, POP3_CMD_CAPA, 1, "x", NULL, 0, 0 },
	{ "QUIT", POP3_CMD_OK, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0 },
	{ "STLS", POP3_CMD_OK, POP3_CMD_STLS, 0, NULL, NULL, 0, 0 },
	{ "XTND XMIT", POP3_CMD_EUNKNOWN, POP3_CMD_UNKNOWN, 0, NULL, NULL, 0,
	  0 },
	{ "", POP3_CMD_EUNKNOWN, POP3_CMD_UNKNOWN, 0, NULL, NULL, 0, 0 },
	{ " STAT", POP3_CMD_EUNKNOWN, POP3_CMD_UNKNOWN, 0, NULL, NULL, 0, 0 },
};

START_TEST(test_pop3_cmd_parse_vectors)
{
	const struct parse_case *pc = &parse_cases[_i];
	struct pop3_cmd cmd;
	const char *why;
	char line[POP3_CMD_LINE_MAX + 1];
	size_t len = strlen(pc->line);
	int rc;

	memcpy(line, pc->line, len);
	rc = pop3_cmd_parse(line, len, &cmd, &why);
	ck_assert_msg(rc == pc->rc, "'%s': rc %d", pc->line, rc);
	if (rc != POP3_CMD_OK)
		ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(cmd.id, pc->id);
	if (rc == POP3_CMD_EUNKNOWN)
		return;
	ck_assert_uint_eq(cmd.nargs, pc->nargs);
	if (pc->nargs > 0 && rc == POP3_CMD_OK)
		ck_assert_str_eq(cmd.arg[0], pc->arg0);
	if (pc->nargs > 1 && rc == POP3_CMD_OK)
		ck_assert_str_eq(cmd.arg[1], pc->arg1);
	if (rc == POP3_CMD_OK) {
		ck_assert_uint_eq(cmd.num[0], pc->num0);
		ck_assert_uint_eq(cmd.num[1], pc->num1);
	}
}
END_TEST

START_TEST(test_pop3_cmd_unknown_keyword_is_shown_printable)
{
	struct pop3_cmd cmd;
	const char *why;
	char line[] = "x\001yzw arg";

	ck_assert_int_eq(pop3_cmd_parse(line, strlen(line), &cmd, &why),
	    POP3_CMD_EUNKNOWN);
	ck_assert_str_eq(cmd.keyword, "X?YZ");
	ck_assert_str_eq(pop3_cmd_name(POP3_CMD_RETR), "RETR");
}
END_TEST

START_TEST(test_pop3_cmd_sasl_plain_split)
{
	struct pop3_cmd_plain pl;

	ck_assert_int_eq(pop3_cmd_sasl_plain("\0u\0p", 4, &pl), 0);
	ck_assert_uint_eq(pl.authzid_len, 0);
	ck_assert_mem_eq(pl.authcid, "u", 1);
	ck_assert_mem_eq(pl.passwd, "p", 1);
	ck_assert_int_eq(pop3_cmd_sasl_plain("a\0u\0pw", 6, &pl), 0);
	ck_assert_uint_eq(pl.passwd_len, 2);
	ck_assert_int_eq(pop3_cmd_sasl_plain("\0u\0p\0", 5, &pl), -1);
	ck_assert_int_eq(pop3_cmd_sasl_plain("\0\0p", 3, &pl), -1);
	ck_assert_int_eq(pop3_cmd_sasl_plain("\0u\0", 3, &pl), -1);
	ck_assert_int_eq(pop3_cmd_sasl_plain("u\0p", 3, &pl), -1);
}
END_TEST

static Suite *
pop3_cmd_suite(void)
{
	Suite *s = suite_create("pop3_cmd");
	TCase *tc = tcase_create("parser");

	tcase_add_loop_test(tc, test_pop3_cmd_parse_vectors, 0,
	    (int)ARRAY_SIZE(parse_cases));
	tcase_add_test(tc, test_pop3_cmd_unknown_keyword_is_shown_printable);
	tcase_add_test(tc, test_pop3_cmd_sasl_plain_split);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pop3_cmd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
