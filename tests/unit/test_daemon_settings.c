/*
 * Unit tests for daemon/settings.c: each key's rule takes and refuses
 * the values it should, with a sentence; a value is its default until
 * set and a refused value is not saved; the ports file that a locked
 * start reads says what the settings say.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"

static const struct {
	const char	*name;
	const char	*value;
	int		 ok;
} rule_vectors[] = {
	{ "imap-port", "1143", 1 },
	{ "imap-port", "0", 1 },
	{ "imaps-port", "65535", 1 },
	{ "pop3-port", "65536", 0 },
	{ "pop3s-port", "port", 0 },
	{ "pop3s-port", "", 0 },
	{ "poll-interval", "10", 1 },
	{ "poll-interval", "9", 0 },
	{ "poll-interval", "86400", 1 },
	{ "poll-interval", "86401", 0 },
	{ "log-level", "debug", 1 },
	{ "log-level", "deb", 0 },
	{ "log-level", "debugx", 0 },
	{ "pop3-delete", "expunge", 1 },
	{ "pop3-delete", "delete", 0 },
	{ "listen", "127.0.0.1", 1 },
	{ "listen", "192.0.2.1", 0 },
};

/* Each value is taken or refused by its key's rule, with a sentence. */
START_TEST(test_daemon_setting_values_follow_their_rule)
{
	const struct daemon_setting *s =
	    daemon_setting_find(rule_vectors[_i].name);
	char err[256] = "";
	int rc;

	ck_assert_ptr_nonnull(s);
	rc = daemon_setting_check(s, rule_vectors[_i].value, err, sizeof(err));
	ck_assert_int_eq(rc, rule_vectors[_i].ok ? 0 : -1);
	if (!rule_vectors[_i].ok)
		ck_assert_msg(err[0] != '\0', "no reason for %s=%s",
		    rule_vectors[_i].name, rule_vectors[_i].value);
}
END_TEST

START_TEST(test_daemon_setting_table_is_complete_and_findable)
{
	const struct daemon_setting *s;
	size_t i;

	for (i = 0; (s = daemon_setting_at(i)) != NULL; i++) {
		ck_assert_ptr_eq(daemon_setting_find(s->name), s);
		ck_assert_int_eq(daemon_setting_check(s, s->def, NULL, 0), 0);
		ck_assert_ptr_nonnull(s->help);
	}
	ck_assert_uint_eq(i, 8);
	ck_assert_ptr_null(daemon_setting_find("imap"));
	ck_assert_int_eq(daemon_setting_find("poll-interval")->live, 1);
	ck_assert_int_eq(daemon_setting_find("imap-port")->live, 0);
}
END_TEST

START_TEST(test_daemon_setting_default_until_set_and_bad_values_not_saved)
{
	const struct daemon_setting *s = daemon_setting_find("poll-interval");
	char err[256], *v = NULL;
	struct fx f;

	fx_setup(&f);
	ck_assert_int_eq(daemon_setting_get(f.st, "poll-interval", &v), 0);
	ck_assert_str_eq(v, "300");
	free(v);
	ck_assert_int_eq(daemon_setting_set(f.st, s, "45", err, sizeof(err)),
	    0);
	ck_assert_int_eq(daemon_setting_set(f.st, s, "5", err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "poll-interval"));
	fx_reopen(&f);
	ck_assert_int_eq(daemon_setting_get(f.st, "poll-interval", &v), 0);
	ck_assert_str_eq(v, "45");
	free(v);
	ck_assert_int_eq(daemon_setting_get(f.st, "no-such", &v), -1);
	fx_teardown(&f);
}
END_TEST

/* The ports file says what the settings say, for a locked start. */
START_TEST(test_daemon_ports_file_round_trip)
{
	int ports[4] = { 0, 0, 0, 0 };
	char err[256], *listen = NULL;
	struct fx f;

	fx_setup(&f);
	ck_assert_int_eq(daemon_ports_read(f.path, ports, &listen), -1);
	ck_assert_int_eq(daemon_setting_set(f.st,
	    daemon_setting_find("imap-port"), "2143", err, sizeof(err)), 0);
	ck_assert_int_eq(daemon_setting_set(f.st,
	    daemon_setting_find("pop3s-port"), "0", err, sizeof(err)), 0);
	ck_assert_int_eq(daemon_setting_set(f.st,
	    daemon_setting_find("listen"), "127.0.0.2", err, sizeof(err)), 0);
	ck_assert_int_eq(daemon_ports_save(f.st), 0);
	ck_assert_int_eq(daemon_ports_read(f.path, ports, &listen), 0);
	ck_assert_int_eq(ports[0], 2143);
	ck_assert_int_eq(ports[1], 1993);
	ck_assert_int_eq(ports[2], 1110);
	ck_assert_int_eq(ports[3], 0);
	ck_assert_str_eq(listen, "127.0.0.2");
	free(listen);
	fx_teardown(&f);
}
END_TEST

static Suite *
daemon_suite(void)
{
	Suite *s = suite_create("daemon_settings");
	TCase *tc = tcase_create("settings");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_daemon_setting_values_follow_their_rule,
	    0, (int)ARRAY_SIZE(rule_vectors));
	tcase_add_test(tc, test_daemon_setting_table_is_complete_and_findable);
	tcase_add_test(tc,
	    test_daemon_setting_default_until_set_and_bad_values_not_saved);
	tcase_add_test(tc, test_daemon_ports_file_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(daemon_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
