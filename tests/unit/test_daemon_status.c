/*
 * Unit tests for daemon/status.c: `mailvault status` without a daemon
 * (with and without the store), and with a daemon's snapshot: its state,
 * ports, and each account's next sync or running one, in words and as
 * one JSON line.
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

static char *
render(struct store *st, const struct daemon_snapshot *s, int json)
{
	struct buf out;
	char *text;

	buf_init(&out, 1u << 20);
	ck_assert_int_eq(daemon_status_render(st, s, json, &out), 0);
	text = buf_steal(&out, NULL);
	return text != NULL ? text : xstrdup("");
}

START_TEST(test_daemon_status_without_daemon_or_store)
{
	char *t = render(NULL, NULL, 0);

	ck_assert_str_eq(t, "daemon: not running\n");
	free(t);
	t = render(NULL, NULL, 1);
	ck_assert_str_eq(t, "{\"state\":\"not running\"}\n");
	free(t);
}
END_TEST

START_TEST(test_daemon_status_shows_accounts_and_plans)
{
	struct daemon_plan plan;
	struct daemon_snapshot s;
	struct fx f;
	char *t;

	fx_setup(&f);
	t = render(f.st, NULL, 0);
	ck_assert_ptr_nonnull(strstr(t, "account me@example.org\n"
	    "  upstream: none (a local account)\n"));
	ck_assert_ptr_nonnull(strstr(t, "  INBOX: 0 messages, 0 unread\n"));
	ck_assert_ptr_null(strstr(t, "next sync"));
	free(t);
	memset(&s, 0, sizeof(s));
	s.state = "running";
	s.pid = 42;
	s.since = 1;
	s.ports[0] = 1143;
	s.store = "/s";
	plan.acct = f.acct;
	plan.next = 1893456000;		/* 2030-01-01 */
	plan.running = 0;
	s.plans = &plan;
	s.nplans = 1;
	t = render(f.st, &s, 0);
	ck_assert_ptr_nonnull(strstr(t, "daemon: running, pid 42, since "
	    "1970-01-01T00:00:01Z\nstate: unlocked\nstore: /s\n"));
	ck_assert_ptr_nonnull(strstr(t,
	    "  next sync: by 2030-01-01T00:00:00Z"));
	free(t);
	plan.running = 1;
	t = render(f.st, &s, 1);
	ck_assert_ptr_nonnull(strstr(t, "\"ports\":{\"imap\":1143,"));
	ck_assert_ptr_nonnull(strstr(t, "\"syncing\":true,\"next_sync\":"
	    "\"2030-01-01T00:00:00Z\""));
	ck_assert_ptr_eq(strchr(t, '\n'), t + strlen(t) - 1);
	free(t);
	fx_teardown(&f);
}
END_TEST

static Suite *
daemon_suite(void)
{
	Suite *s = suite_create("daemon_status");
	TCase *tc = tcase_create("status");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_daemon_status_without_daemon_or_store);
	tcase_add_test(tc, test_daemon_status_shows_accounts_and_plans);
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
