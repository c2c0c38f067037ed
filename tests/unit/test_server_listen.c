/*
 * Unit tests for server/listen: loopback listeners on ephemeral ports run
 * the handler per connection with the right tag, non-loopback addresses
 * and busy ports are refused with their sentences, the session limit
 * closes extra connections at once, and listen_stop() signals sessions
 * and waits for them (or hands the set to a straggler).
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/net.h"
#include "lib/util.h"
#include "server/listen.h"

/* What the handlers saw; shared by the test and the session threads. */
struct seen {
	pthread_mutex_t		 mu;
	int			 calls;
	int			 finished;
	int			 tags[8];
	int			 non_loopback;
	int			 linger_ms;	/* ignore the shutdown
						 * this long */
	struct listen_set	*ls;		/* written by listen_start */
};

static struct seen seen = { PTHREAD_MUTEX_INITIALIZER, 0, 0, { 0 }, 0, 0,
    NULL };

/* Say the tag, then wait for the client to close or the server to stop. */
static void
handler(void *arg, int fd, int tag, const struct sockaddr *peer)
{
	struct seen *sn = arg;
	char c = (char)('0' + tag), buf[16];
	int shut = listen_shutdown_fd(sn->ls);

	pthread_mutex_lock(&sn->mu);
	if (sn->calls < 8)
		sn->tags[sn->calls] = tag;
	sn->calls++;
	if (!net_is_loopback_addr(peer))
		sn->non_loopback++;
	pthread_mutex_unlock(&sn->mu);
	(void)net_write_all(fd, &c, 1, 1000, -1);
	if (sn->linger_ms > 0)
		usleep((useconds_t)sn->linger_ms * 1000);
	else
		(void)net_read(fd, buf, sizeof(buf), 10000, -1, shut);
	close(fd);
	pthread_mutex_lock(&sn->mu);
	sn->finished++;
	pthread_mutex_unlock(&sn->mu);
}

static void
seen_reset(int linger_ms)
{
	pthread_mutex_lock(&seen.mu);
	seen.calls = seen.finished = seen.non_loopback = 0;
	memset(seen.tags, 0, sizeof(seen.tags));
	seen.linger_ms = linger_ms;
	pthread_mutex_unlock(&seen.mu);
}

static int
seen_get(const int *field)
{
	int v;

	pthread_mutex_lock(&seen.mu);
	v = *field;
	pthread_mutex_unlock(&seen.mu);
	return v;
}

static int
dial(const char *host, int port)
{
	char err[256];
	int fd = net_connect(host, (unsigned)port, 2000, err, sizeof(err));

	ck_assert_msg(fd >= 0, "%s", err);
	return fd;
}

/* Read the one byte a handler sends: its tag, or 0 for a closed door. */
static char
hello(int fd)
{
	char c = 0;
	long n = net_read(fd, &c, 1, 5000, -1, -1);

	return n == 1 ? c : 0;
}

static void
wait_live(struct listen_set *ls, size_t n)
{
	int i;

	for (i = 0; i < 500 && listen_live_sessions(ls) != n; i++)
		usleep(10 * 1000);
	ck_assert_uint_eq(listen_live_sessions(ls), n);
}

START_TEST(test_listen_runs_handler_with_tag)
{
	struct listen_spec specs[] = {
		{ "127.0.0.1", LISTEN_PORT_ANY, 1, 0, "--imap-port" },
		{ "127.0.0.1", 0, 2, 1, "--imaps-port" },	/* off */
		{ "localhost", LISTEN_PORT_ANY, 3, 1, "--pop3s-port" },
	};
	char err[256], desc[128], want[128];
	int a, b;

	seen_reset(0);
	ck_assert_msg(listen_start(specs, 3, handler, &seen, 0, &seen.ls,
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_gt(listen_port(seen.ls, 0), 0);
	ck_assert_int_eq(listen_port(seen.ls, 1), 0);
	ck_assert_int_gt(listen_port(seen.ls, 2), 0);
	ck_assert_int_ne(listen_port(seen.ls, 0), listen_port(seen.ls, 2));
	listen_describe(seen.ls, 2, "POP3S", desc, sizeof(desc));
	snprintf(want, sizeof(want), "POP3S 127.0.0.1:%d (TLS)",
	    listen_port(seen.ls, 2));
	ck_assert_str_eq(desc, want);
	listen_describe(seen.ls, 1, "IMAPS", desc, sizeof(desc));
	ck_assert_str_eq(desc, "");

	a = dial("127.0.0.1", listen_port(seen.ls, 0));
	b = dial("127.0.0.1", listen_port(seen.ls, 2));
	ck_assert_int_eq(hello(a), '1');
	ck_assert_int_eq(hello(b), '3');
	wait_live(seen.ls, 2);
	close(a);
	wait_live(seen.ls, 1);
	ck_assert_int_eq(seen_get(&seen.non_loopback), 0);
	ck_assert_int_eq(listen_stop(&seen.ls, 5000), 0);
	ck_assert_ptr_null(seen.ls);
	ck_assert_int_eq(seen_get(&seen.finished), 2);
	close(b);
}
END_TEST

START_TEST(test_listen_refuses_non_loopback)
{
	struct listen_spec specs[] = {
		{ "127.0.0.1", LISTEN_PORT_ANY, 1, 0, "--imap-port" },
		{ "0.0.0.0", 1143, 1, 0, "--imap-port" },
	};
	struct listen_set *ls = NULL;
	char err[256];

	ck_assert_int_eq(listen_start(specs, 2, handler, &seen, 0, &ls, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(ls);
	ck_assert_str_eq(err, "mailvault only listens on loopback; 0.0.0.0 "
	    "is not a loopback address");
	specs[1].addr = "mail.example.com";
	ck_assert_int_eq(listen_start(specs, 2, handler, &seen, 0, &ls, err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "is not a loopback address") != NULL);
}
END_TEST

START_TEST(test_listen_port_in_use_message)
{
	struct listen_spec spec = { "127.0.0.1", LISTEN_PORT_ANY, 1, 0,
	    "--imap-port" };
	struct listen_set *ls = NULL, *ls2 = NULL;
	char err[256], want[256];

	ck_assert_int_eq(listen_start(&spec, 1, handler, &seen, 0, &ls, err,
	    sizeof(err)), 0);
	spec.port = listen_port(ls, 0);
	ck_assert_int_eq(listen_start(&spec, 1, handler, &seen, 0, &ls2, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "port %d on 127.0.0.1 is in use "
	    "(another mailvault or Dovecot?); choose another with "
	    "--imap-port", spec.port);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(listen_stop(&ls, 1000), 0);
	/* Once stopped, the port is free again at once (SO_REUSEADDR). */
	ck_assert_int_eq(listen_start(&spec, 1, handler, &seen, 0, &ls, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(listen_stop(&ls, 1000), 0);
}
END_TEST

START_TEST(test_listen_ipv6_loopback)
{
	struct listen_spec spec = { "::1", LISTEN_PORT_ANY, 6, 0, NULL };
	char err[256];
	int fd;

	seen_reset(0);
	if (listen_start(&spec, 1, handler, &seen, 0, &seen.ls, err,
	    sizeof(err)) < 0) {
		ck_assert_msg(strstr(err, "IPv6") != NULL, "%s", err);
		return;		/* no IPv6 here */
	}
	fd = dial("::1", listen_port(seen.ls, 0));
	ck_assert_int_eq(hello(fd), '6');
	close(fd);
	ck_assert_int_eq(listen_stop(&seen.ls, 5000), 0);
}
END_TEST

START_TEST(test_listen_limit_closes_extra)
{
	struct listen_spec spec = { "127.0.0.1", LISTEN_PORT_ANY, 1, 0, NULL };
	char err[256];
	int fds[3], i, port;

	seen_reset(0);
	ck_assert_int_eq(listen_start(&spec, 1, handler, &seen, 2, &seen.ls,
	    err, sizeof(err)), 0);
	port = listen_port(seen.ls, 0);
	for (i = 0; i < 2; i++) {
		fds[i] = dial("127.0.0.1", port);
		ck_assert_int_eq(hello(fds[i]), '1');
	}
	fds[2] = dial("127.0.0.1", port);
	ck_assert_int_eq(hello(fds[2]), 0);	/* closed at once */
	ck_assert_uint_eq(listen_refused(seen.ls), 1);
	ck_assert_uint_eq(listen_live_sessions(seen.ls), 2);
	/* A place frees up, and the next connection is served. */
	close(fds[0]);
	wait_live(seen.ls, 1);
	close(fds[2]);
	fds[2] = dial("127.0.0.1", port);
	ck_assert_int_eq(hello(fds[2]), '1');
	ck_assert_int_eq(listen_stop(&seen.ls, 5000), 0);
	close(fds[1]);
	close(fds[2]);
}
END_TEST

/* Sessions blocked on their socket end promptly when the server stops. */
START_TEST(test_listen_stop_joins_sessions)
{
	struct listen_spec spec = { "127.0.0.1", LISTEN_PORT_ANY, 1, 0, NULL };
	char err[256];
	int fds[4], i, port;
	int64_t t0;

	seen_reset(0);
	ck_assert_int_eq(listen_start(&spec, 1, handler, &seen, 0, &seen.ls,
	    err, sizeof(err)), 0);
	port = listen_port(seen.ls, 0);
	for (i = 0; i < 4; i++) {
		fds[i] = dial("127.0.0.1", port);
		ck_assert_int_eq(hello(fds[i]), '1');
	}
	wait_live(seen.ls, 4);
	t0 = now_ms();
	ck_assert_int_eq(listen_stop(&seen.ls, 5000), 0);
	ck_assert_int_lt(now_ms() - t0, 2000);
	ck_assert_int_eq(seen_get(&seen.finished), 4);
	/* Nothing listens any more. */
	ck_assert_int_eq(net_connect("127.0.0.1", (unsigned)port, 1000, err,
	    sizeof(err)), -1);
	ck_assert(strstr(err, "connection refused") != NULL);
	for (i = 0; i < 4; i++)
		close(fds[i]);
	ck_assert_int_eq(listen_stop(&seen.ls, 0), 0);	/* NULL is fine */
}
END_TEST

/* A session that ignores the shutdown outlives the wait; it then frees
 * the set itself (the sanitizer run checks there is no leak or use after
 * free). */
START_TEST(test_listen_stop_bounded_wait)
{
	struct listen_spec spec = { "127.0.0.1", LISTEN_PORT_ANY, 1, 0, NULL };
	char err[256];
	int fd, i;
	int64_t t0;

	seen_reset(400);
	ck_assert_int_eq(listen_start(&spec, 1, handler, &seen, 0, &seen.ls,
	    err, sizeof(err)), 0);
	fd = dial("127.0.0.1", listen_port(seen.ls, 0));
	ck_assert_int_eq(hello(fd), '1');
	t0 = now_ms();
	ck_assert_int_eq(listen_stop(&seen.ls, 50), 1);
	ck_assert_int_lt(now_ms() - t0, 300);
	for (i = 0; i < 200 && seen_get(&seen.finished) == 0; i++)
		usleep(10 * 1000);
	ck_assert_int_eq(seen_get(&seen.finished), 1);
	usleep(50 * 1000);	/* let it free the set */
	close(fd);
}
END_TEST

static Suite *
listen_suite(void)
{
	Suite *s = suite_create("listen");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_listen_runs_handler_with_tag);
	tcase_add_test(tc, test_listen_refuses_non_loopback);
	tcase_add_test(tc, test_listen_port_in_use_message);
	tcase_add_test(tc, test_listen_ipv6_loopback);
	tcase_add_test(tc, test_listen_limit_closes_extra);
	tcase_add_test(tc, test_listen_stop_joins_sessions);
	tcase_add_test(tc, test_listen_stop_bounded_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(listen_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
