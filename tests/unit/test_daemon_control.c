/*
 * Unit tests for daemon/control.c: the control socket's protocol, spoken
 * over a real socket (in a runtime folder of the test's own) to the
 * control thread with stub hooks in place of the service, so every
 * answer's wording is pinned without a store or a server: STATE, UNLOCK
 * (with and without its passphrase line), LOCK, data lines then OK or
 * ERR, ACCOUNTS and PORTS, unknown and over-long lines, STOP, one
 * listener per store and one socket per store.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "lib/buf.h"
#include "lib/util.h"

struct stub {
	int	 locked;
	int	 shutdowns;
	char	 pass[64];
};

static struct stub stub;
static char runtime[64];
static struct daemon_ctl *ctl;

#define STUB(d)	((struct stub *)(void *)(d))

static int
stub_locked(struct daemon *d)
{
	return STUB(d)->locked;
}

static int
stub_status(struct daemon *d, int json, struct buf *out, char *err,
    size_t errlen)
{
	buf_adds(out, json ? "{\"x\":1}\n" : "line one\nline two\n");
	return 0;
}

static int
stub_sync(struct daemon *d, const char *account, int cancel_fd,
    void (*line)(void *arg, const char *text), void *arg, char *err,
    size_t errlen)
{
	if (account == NULL || strcmp(account, "acc") != 0)
		return seterr(err, errlen, -1, "there is no account named %s",
		    account != NULL ? account : "(all)");
	line(arg, "acc: INBOX: 1/2 messages");
	line(arg, "acc: done: 2 new");
	return 0;
}

static int
stub_unlock(struct daemon *d, const char *pass, size_t len, char *err,
    size_t errlen)
{
	struct stub *s = STUB(d);

	if (!s->locked)
		return 1;
	snprintf(s->pass, sizeof(s->pass), "%.*s", (int)len, pass);
	if (strcmp(s->pass, "right") != 0)
		return seterr(err, errlen, DAEMON_EBADPASS, "no key opens");
	s->locked = 0;
	return 0;
}

static int
stub_lock(struct daemon *d)
{
	struct stub *s = STUB(d);

	if (s->locked)
		return 1;
	s->locked = 1;
	return 0;
}

static void
stub_reload(struct daemon *d, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "poll-interval 45 s");
}

static int
stub_accounts(struct daemon *d, const char *changed, char *msg,
    size_t msglen)
{
	if (changed != NULL && strcmp(changed, "bad") == 0)
		return seterr(msg, msglen, -1, "cannot read the accounts");
	snprintf(msg, msglen, "syncing 1 account (changed: %s)",
	    changed != NULL ? changed : "none");
	return 0;
}

static void
stub_ports(struct daemon *d, int ports_r[4], char *addr, size_t addrlen)
{
	ports_r[0] = 1143;
	ports_r[1] = 0;
	ports_r[2] = 1110;
	ports_r[3] = 1995;
	snprintf(addr, addrlen, "127.0.0.1");
}

static void
stub_shutdown(struct daemon *d)
{
	STUB(d)->shutdowns++;
}

static void
ctl_setup(void)
{
	struct daemon_ctl_hooks h = { (struct daemon *)(void *)&stub,
	    stub_locked, stub_status, stub_sync, stub_unlock, stub_lock,
	    stub_reload, stub_accounts, stub_ports, stub_shutdown };
	char err[256];

	memset(&stub, 0, sizeof(stub));
	stub.locked = 1;
	snprintf(runtime, sizeof(runtime), "/tmp/mvctl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(runtime));
	setenv("XDG_RUNTIME_DIR", runtime, 1);
	ck_assert_msg(daemon_ctl_start("/the/store", &h, &ctl, err,
	    sizeof(err)) == 0, "start: %s", err);
}

static void
ctl_teardown(void)
{
	char *cmd;

	daemon_ctl_stop(&ctl);
	cmd = xasprintf("rm -rf '%s'", runtime);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Send req as it is and end the request; the whole answer, until the
 * daemon closes. */
static char *
ask(const char *req)
{
	struct sockaddr_un sa;
	char *path = daemon_ctl_path("/the/store"), chunk[4096];
	struct buf in;
	ssize_t r;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	free(path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	shutdown(fd, SHUT_WR);	/* nothing more: a missing line is EOF */
	buf_init(&in, 1u << 20);
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		ck_assert_int_eq(buf_add(&in, chunk, (size_t)r), 0);
	close(fd);
	return buf_steal(&in, NULL);
}

static void
expect_answer(const char *req, const char *want)
{
	char *got = ask(req);

	ck_assert_msg(got != NULL && strcmp(got, want) == 0,
	    "%s -> '%s', not '%s'", req, got != NULL ? got : "(nothing)", want);
	free(got);
}

START_TEST(test_daemon_ctl_socket_is_private)
{
	char *path = daemon_ctl_path("/the/store"), *dir = xstrdup(path);
	struct stat sb;

	*strrchr(dir, '/') = '\0';
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	free(dir);
	free(path);
}
END_TEST

START_TEST(test_daemon_ctl_unlock_state_lock)
{
	expect_answer("STATE\n", "OK locked\n");
	expect_answer("UNLOCK\n", "ERR UNLOCK wants the passphrase on the "
	    "next line\n");
	expect_answer("UNLOCK\nwrong\n", "ERR wrong passphrase: mailvault "
	    "stays locked (no key opens)\n");
	ck_assert_str_eq(stub.pass, "wrong");
	expect_answer("UNLOCK\r\nright\r\n", "OK unlocked\n");
	expect_answer("STATE\n", "OK unlocked\n");
	expect_answer("UNLOCK\nright\n", "OK already unlocked\n");
	expect_answer("LOCK\n", "OK locked\n");
	expect_answer("LOCK\n", "OK already locked\n");
}
END_TEST

START_TEST(test_daemon_ctl_data_lines_then_ok_or_err)
{
	expect_answer("STATUS\n", "* line one\n* line two\nOK\n");
	expect_answer("STATUS JSON\n", "* {\"x\":1}\nOK\n");
	expect_answer("SYNC acc\n", "* acc: INBOX: 1/2 messages\n"
	    "* acc: done: 2 new\nOK\n");
	expect_answer("SYNC nosuch\n", "ERR there is no account named "
	    "nosuch\n");
	expect_answer("SYNC\n", "ERR there is no account named (all)\n");
	expect_answer("RELOAD\n", "OK poll-interval 45 s\n");
	expect_answer("STORE\n", "OK /the/store\n");
	expect_answer("ACCOUNTS\n", "OK syncing 1 account (changed: none)\n");
	expect_answer("ACCOUNTS work\n", "OK syncing 1 account (changed: "
	    "work)\n");
	expect_answer("ACCOUNTS bad\n", "ERR cannot read the accounts\n");
	expect_answer("PORTS\n", "OK 1143 0 1110 1995 127.0.0.1\n");
}
END_TEST

START_TEST(test_daemon_ctl_refuses_unknown_and_long_lines)
{
	char line[400];

	memset(line, 'A', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = '\0';
	expect_answer(line, "ERR a command is one line of at most 255 "
	    "bytes\n");
	expect_answer("STATUSX\n", "ERR unknown command; try STATUS, STATE, "
	    "SYNC [ACCOUNT], UNLOCK, LOCK, RELOAD, ACCOUNTS [ACCOUNT], PORTS, "
	    "STORE or STOP\n");
	expect_answer("SYNC \n", "ERR unknown command; try STATUS, STATE, "
	    "SYNC [ACCOUNT], UNLOCK, LOCK, RELOAD, ACCOUNTS [ACCOUNT], PORTS, "
	    "STORE or STOP\n");
}
END_TEST

START_TEST(test_daemon_ctl_stop_asks_the_service)
{
	expect_answer("STOP\n", "OK stopping\n");
	ck_assert_int_eq(stub.shutdowns, 1);
}
END_TEST

/* A second service of the same store is refused; the first one's socket
 * goes when it stops. */
START_TEST(test_daemon_ctl_one_listener_and_cleanup)
{
	struct daemon_ctl_hooks h = { NULL, stub_locked, stub_status,
	    stub_sync, stub_unlock, stub_lock, stub_reload, stub_accounts,
	    stub_ports, stub_shutdown };
	struct daemon_ctl *other = NULL;
	char err[256], *path = daemon_ctl_path("/the/store");

	ck_assert_int_eq(daemon_ctl_start("/the/store", &h, &other, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "already listens"));
	ck_assert_ptr_null(other);
	daemon_ctl_stop(&ctl);
	ck_assert_ptr_null(ctl);
	ck_assert_int_eq(access(path, F_OK), -1);
	free(path);
}
END_TEST

/* Two stores, two sockets in the same folder: each service listens on
 * its own, and the names differ only by the store. */
START_TEST(test_daemon_ctl_one_socket_per_store)
{
	struct daemon_ctl_hooks h = { NULL, stub_locked, stub_status,
	    stub_sync, stub_unlock, stub_lock, stub_reload, stub_accounts,
	    stub_ports, stub_shutdown };
	struct daemon_ctl *other = NULL;
	char err[256], *a = daemon_ctl_path("/the/store");
	char *b = daemon_ctl_path("/another/store");
	char *a2 = daemon_ctl_path("/the/store");

	ck_assert_str_ne(a, b);
	ck_assert_str_eq(a, a2);
	ck_assert_ptr_nonnull(strstr(a, "/mailvault/ctl-"));
	ck_assert_msg(daemon_ctl_start("/another/store", &h, &other, err,
	    sizeof(err)) == 0, "second store: %s", err);
	ck_assert_int_eq(access(a, F_OK), 0);
	ck_assert_int_eq(access(b, F_OK), 0);
	expect_answer("STORE\n", "OK /the/store\n");
	daemon_ctl_stop(&other);
	ck_assert_int_eq(access(b, F_OK), -1);
	ck_assert_int_eq(access(a, F_OK), 0);
	unsetenv("XDG_RUNTIME_DIR");
	free(b);
	b = daemon_ctl_path("/the/store");
	free(a2);
	a2 = xasprintf("/tmp/mailvault-%lu/ctl-", (unsigned long)geteuid());
	ck_assert_msg(strncmp(b, a2, strlen(a2)) == 0, "%s", b);
	setenv("XDG_RUNTIME_DIR", runtime, 1);
	free(a);
	free(b);
	free(a2);
}
END_TEST

static Suite *
daemon_suite(void)
{
	Suite *s = suite_create("daemon_control");
	TCase *tc = tcase_create("control");

	tcase_add_checked_fixture(tc, ctl_setup, ctl_teardown);
	tcase_add_test(tc, test_daemon_ctl_socket_is_private);
	tcase_add_test(tc, test_daemon_ctl_unlock_state_lock);
	tcase_add_test(tc, test_daemon_ctl_data_lines_then_ok_or_err);
	tcase_add_test(tc, test_daemon_ctl_refuses_unknown_and_long_lines);
	tcase_add_test(tc, test_daemon_ctl_stop_asks_the_service);
	tcase_add_test(tc, test_daemon_ctl_one_listener_and_cleanup);
	tcase_add_test(tc, test_daemon_ctl_one_socket_per_store);
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
