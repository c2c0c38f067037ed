/*
 * Unit tests for lib/net: which listen addresses are loopback, how
 * addresses print, the sentences a failed connect gives, and waits that a
 * wake-up or cancel descriptor cuts short.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/net.h"
#include "lib/util.h"

struct addr_vector {
	const char	*addr;
	int		 ok;
	int		 family;	/* when ok */
	const char	*msg;		/* part of the error when not ok */
};

static const struct addr_vector addr_vectors[] = {
	{ "127.0.0.1", 1, AF_INET, NULL },
	{ "127.0.0.2", 1, AF_INET, NULL },
	{ "127.255.255.254", 1, AF_INET, NULL },
	{ "::1", 1, AF_INET6, NULL },
	{ "[::1]", 1, AF_INET6, NULL },
	{ "localhost", 1, AF_INET, NULL },
	{ "LocalHost", 1, AF_INET, NULL },
	{ "0.0.0.0", 0, 0, "mailvault only listens on loopback; 0.0.0.0 is "
	    "not a loopback address" },
	{ "::", 0, 0, ":: is not a loopback address" },
	{ "192.168.1.10", 0, 0, "192.168.1.10 is not a loopback address" },
	{ "128.0.0.1", 0, 0, "not a loopback address" },
	{ "126.255.255.255", 0, 0, "not a loopback address" },
	{ "::2", 0, 0, "not a loopback address" },
	{ "mail.example.com", 0, 0, "\"mail.example.com\" is not a loopback "
	    "address (use 127.0.0.1, ::1 or localhost)" },
	{ "", 0, 0, "is not a loopback address" },
	{ "127.0.0.1 ", 0, 0, "is not a loopback address" },
	{ "[127.0.0.1", 0, 0, "is not a loopback address" },
};

START_TEST(test_net_listen_addr_vectors)
{
	const struct addr_vector *v = &addr_vectors[_i];
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[256] = "";
	int r;

	r = net_parse_listen_addr(v->addr, 1143, &ss, &len, err, sizeof(err));
	if (v->ok) {
		ck_assert_msg(r == 0, "%s: %s", v->addr, err);
		ck_assert_int_eq(ss.ss_family, v->family);
		ck_assert(net_is_loopback_addr((struct sockaddr *)&ss));
		ck_assert_uint_eq(len, v->family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	} else {
		ck_assert_int_eq(r, -1);
		ck_assert_msg(strstr(err, v->msg) != NULL, "%s: got \"%s\"",
		    v->addr, err);
	}
}
END_TEST

START_TEST(test_net_listen_addr_keeps_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char out[NET_ADDRSTRLEN];

	ck_assert_int_eq(net_parse_listen_addr("localhost", 1993, &ss, &len,
	    NULL, 0), 0);
	net_format_addr((struct sockaddr *)&ss, out, sizeof(out));
	ck_assert_str_eq(out, "127.0.0.1:1993");
	ck_assert_int_eq(net_parse_listen_addr("[::1]", 1110, &ss, &len,
	    NULL, 0), 0);
	net_format_addr((struct sockaddr *)&ss, out, sizeof(out));
	ck_assert_str_eq(out, "[::1]:1110");
	ck_assert_int_eq(net_parse_listen_addr("127.0.0.1", 70000, &ss, &len,
	    NULL, 0), -1);
}
END_TEST

START_TEST(test_net_loopback_check)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.8.9.10", &sin.sin_addr);
	ck_assert(net_is_loopback_addr((struct sockaddr *)&sin));
	inet_pton(AF_INET, "10.0.0.1", &sin.sin_addr);
	ck_assert(!net_is_loopback_addr((struct sockaddr *)&sin));
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	ck_assert(net_is_loopback_addr((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "::ffff:192.0.2.1", &sin6.sin6_addr);
	ck_assert(!net_is_loopback_addr((struct sockaddr *)&sin6));
	inet_pton(AF_INET6, "fe80::1", &sin6.sin6_addr);
	ck_assert(!net_is_loopback_addr((struct sockaddr *)&sin6));
	ck_assert(!net_is_loopback_addr(NULL));
}
END_TEST

/* A port on 127.0.0.1 that nothing listens on. */
static unsigned
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

START_TEST(test_net_connect_refused_message)
{
	char err[256], want[128];
	unsigned port = closed_port();

	ck_assert_int_eq(net_connect("127.0.0.1", port, 2000, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1:%u",
	    port);
	ck_assert_str_eq(err, want);
}
END_TEST

/*
 * A listener whose accept queue is full drops further SYNs, so a connect
 * to it hangs until our timeout.
 */
START_TEST(test_net_connect_timeout_message)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[256], want[128];
	int lfd, fds[16], n = 0, fd = 0;
	int64_t t0;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 0), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	while (n < 16) {
		t0 = now_ms();
		fd = net_connect("127.0.0.1", ntohs(sin.sin_port), 300, err,
		    sizeof(err));
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	ck_assert_msg(fd < 0, "the accept queue never filled");
	ck_assert_int_ge(now_ms() - t0, 290);
	snprintf(want, sizeof(want), "timed out connecting to 127.0.0.1:%u "
	    "after 300 ms", ntohs(sin.sin_port));
	ck_assert_str_eq(err, want);
	while (n > 0)
		close(fds[--n]);
	close(lfd);
}
END_TEST

START_TEST(test_net_connect_unknown_host_message)
{
	char err[256];

	ck_assert_int_eq(net_connect("no-such-host.invalid", 993, 2000, err,
	    sizeof(err)), -1);
	/* Without a resolver the lookup fails differently, but it names
	 * the host either way. */
	ck_assert_msg(strstr(err, "no-such-host.invalid") != NULL, "%s", err);
	ck_assert_int_eq(net_connect("127.0.0.1", 0, 2000, err,
	    sizeof(err)), -1);
}
END_TEST

START_TEST(test_net_connect_and_talk)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[256], buf[16];
	int lfd, cfd, afd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	cfd = net_connect("localhost", ntohs(sin.sin_port), 2000, err,
	    sizeof(err));
	ck_assert_msg(cfd >= 0, "%s", err);
	afd = accept(lfd, NULL, NULL);
	ck_assert_int_eq(net_write_all(afd, "hello", 5, 1000, -1), 0);
	ck_assert_int_eq(net_read(cfd, buf, sizeof(buf), 1000, -1, -1), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	close(afd);
	ck_assert_int_eq(net_read(cfd, buf, sizeof(buf), 1000, -1, -1), 0);
	/* Writing to a closed peer is an error code, not SIGPIPE. */
	(void)net_write_all(cfd, "x", 1, 1000, -1);
	ck_assert_int_eq(net_write_all(cfd, "x", 1, 1000, -1), NET_EIO);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(test_net_read_wake_cancel_timeout)
{
	int sp[2], wake[2], cancel[2];
	char buf[8];
	int64_t t0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	ck_assert_int_eq(pipe(wake), 0);
	ck_assert_int_eq(pipe(cancel), 0);
	t0 = now_ms();
	ck_assert_int_eq(net_read(sp[0], buf, sizeof(buf), 100, wake[0],
	    cancel[0]), NET_ETIMEOUT);
	ck_assert_int_ge(now_ms() - t0, 95);
	ck_assert_int_eq(write(wake[1], "w", 1), 1);
	ck_assert_int_eq(net_read(sp[0], buf, sizeof(buf), 5000, wake[0],
	    cancel[0]), NET_EWAKE);
	/* Data wins over the wake-up, cancel over both. */
	ck_assert_int_eq(write(sp[1], "d", 1), 1);
	ck_assert_int_eq(net_read(sp[0], buf, sizeof(buf), 5000, wake[0],
	    cancel[0]), 1);
	close(cancel[1]);
	ck_assert_int_eq(write(sp[1], "d", 1), 1);
	ck_assert_int_eq(net_read(sp[0], buf, sizeof(buf), 5000, wake[0],
	    cancel[0]), NET_ECANCEL);
	ck_assert_int_eq(net_wait(sp[0], POLLIN, 0, -1, -1), 1);
	close(sp[0]);
	close(sp[1]);
	close(wake[0]);
	close(wake[1]);
	close(cancel[0]);
}
END_TEST

static Suite *
net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_net_listen_addr_vectors, 0,
	    (int)ARRAY_SIZE(addr_vectors));
	tcase_add_test(tc, test_net_listen_addr_keeps_port);
	tcase_add_test(tc, test_net_loopback_check);
	tcase_add_test(tc, test_net_connect_refused_message);
	tcase_add_test(tc, test_net_connect_timeout_message);
	tcase_add_test(tc, test_net_connect_unknown_host_message);
	tcase_add_test(tc, test_net_connect_and_talk);
	tcase_add_test(tc, test_net_read_wake_cancel_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(net_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
