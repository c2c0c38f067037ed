/*
 * net: connect with a deadline, the loopback rules, and poll()-based waits
 * that a wake-up or cancel descriptor can cut short.
 *
 * Every wait keeps an absolute deadline on the monotonic clock, so EINTR
 * and spurious wake-ups never stretch a timeout. Sockets are read with
 * MSG_DONTWAIT after poll() said readable, so the same code serves blocking
 * and non-blocking descriptors, and written with MSG_NOSIGNAL so a peer
 * that hangs up is an error code, not a signal.
 */
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"

/* Deadline for a timeout: -1 means none. */
static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Milliseconds left until deadline, for poll(): -1 forever, >= 0 else. */
static int
remaining(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - now_ms();
	if (left <= 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

int
net_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

static int
wait_until(int fd, short events, int64_t deadline, int wake_fd, int cancel_fd)
{
	struct pollfd p[3];
	nfds_t n = 0;
	int iw = -1, ic = -1, r;

	p[n].fd = fd;
	p[n].events = events;
	p[n++].revents = 0;
	if (wake_fd >= 0) {
		iw = (int)n;
		p[n].fd = wake_fd;
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	if (cancel_fd >= 0) {
		ic = (int)n;
		p[n].fd = cancel_fd;
		p[n].events = POLLIN;
		p[n++].revents = 0;
	}
	for (;;) {
		r = poll(p, n, remaining(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return NET_EIO;
		if (r == 0) {
			if (deadline >= 0 && remaining(deadline) == 0)
				return NET_ETIMEOUT;
			continue;
		}
		/* A closed pipe end reads as POLLHUP: that is readable too. */
		if (ic >= 0 && p[ic].revents != 0)
			return NET_ECANCEL;
		if (p[0].revents != 0)
			return 1;
		if (iw >= 0 && p[iw].revents != 0)
			return NET_EWAKE;
	}
}

int
net_wait(int fd, short events, int timeout_ms, int wake_fd, int cancel_fd)
{
	return wait_until(fd, events, deadline_of(timeout_ms), wake_fd,
	    cancel_fd);
}

long
net_read(int fd, void *buf, size_t n, int timeout_ms, int wake_fd,
    int cancel_fd)
{
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t got;
	int r;

	for (;;) {
		r = wait_until(fd, POLLIN, deadline, wake_fd, cancel_fd);
		if (r != 1)
			return r;
		got = recv(fd, buf, n, MSG_DONTWAIT);
		if (got < 0 && errno == ENOTSOCK)
			got = read(fd, buf, n);
		if (got >= 0)
			return (long)got;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return NET_EIO;
	}
}

int
net_write_all(int fd, const void *buf, size_t n, int timeout_ms,
    int cancel_fd)
{
	int64_t deadline = deadline_of(timeout_ms);
	const char *p = buf;
	ssize_t put;
	int r;

	while (n > 0) {
		put = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (put < 0 && errno == ENOTSOCK)
			put = write(fd, p, n);
		if (put > 0) {
			p += put;
			n -= (size_t)put;
			continue;
		}
		if (put < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return NET_EIO;
		r = wait_until(fd, POLLOUT, deadline, -1, cancel_fd);
		if (r != 1)
			return r;
	}
	return 0;
}

/* ---- connect ------------------------------------------------------------- */

/*
 * One connect attempt on one address. 0 and *fd_r, or the errno of the
 * failure (ETIMEDOUT when the deadline passed).
 */
static int
connect_one(const struct addrinfo *ai, int64_t deadline, int *fd_r)
{
	socklen_t len;
	int fd, e, r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			e = errno;
			close(fd);
			return e;
		}
		r = wait_until(fd, POLLOUT, deadline, -1, -1);
		if (r != 1) {
			close(fd);
			return r == NET_ETIMEOUT ? ETIMEDOUT : EIO;
		}
		len = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
			e = errno;
		if (e != 0) {
			close(fd);
			return e;
		}
	}
	if (net_set_nonblock(fd, 0) < 0) {
		e = errno;
		close(fd);
		return e;
	}
	*fd_r = fd;
	return 0;
}

/* A sentence for a failed connect to host:port. */
static int
connect_error(int e, const char *host, unsigned port, int timeout_ms,
    char *err, size_t errlen)
{
	switch (e) {
	case ECONNREFUSED:
		return seterr(err, errlen, -1, "connection refused by %s:%u",
		    host, port);
	case ETIMEDOUT:
		if (timeout_ms < 0)
			return seterr(err, errlen, -1, "timed out connecting "
			    "to %s:%u", host, port);
		if (timeout_ms % 1000 == 0)
			return seterr(err, errlen, -1, "timed out connecting "
			    "to %s:%u after %d s", host, port,
			    timeout_ms / 1000);
		return seterr(err, errlen, -1, "timed out connecting to "
		    "%s:%u after %d ms", host, port, timeout_ms);
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
		return seterr(err, errlen, -1, "%s:%u is unreachable (is the "
		    "network up?)", host, port);
	default:
		return seterr(err, errlen, -1, "cannot connect to %s:%u: %s",
		    host, port, strerror(e));
	}
}

int
net_connect(const char *host, unsigned port, int timeout_ms,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char service[16];
	int64_t deadline = deadline_of(timeout_ms);
	int r, e = ETIMEDOUT, fd = -1;

	if (port == 0 || port > 65535)
		return seterr(err, errlen, -1, "%u is not a TCP port number",
		    port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &res);
	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_FAIL)
		return seterr(err, errlen, -1, "host not found: %s", host);
	if (r == EAI_AGAIN)
		return seterr(err, errlen, -1, "cannot look up %s right now "
		    "(is the network up?)", host);
	if (r != 0)
		return seterr(err, errlen, -1, "cannot look up %s: %s", host,
		    gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (deadline >= 0 && remaining(deadline) == 0) {
			e = ETIMEDOUT;
			break;
		}
		e = connect_one(ai, deadline, &fd);
		if (e == 0)
			break;
	}
	freeaddrinfo(res);
	if (e != 0)
		return connect_error(e, host, port, timeout_ms, err, errlen);
	return fd;
}

/* ---- loopback ------------------------------------------------------------ */

int
net_is_loopback_addr(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	const unsigned char *b;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return 1;
	b = sin6->sin6_addr.s6_addr;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127;
}

int
net_parse_listen_addr(const char *addr, unsigned port,
    struct sockaddr_storage *ss_r, socklen_t *len_r, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)&ss;
	char host[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(addr);
	socklen_t len;

	if (port > 65535)
		return seterr(err, errlen, -1, "%u is not a TCP port number",
		    port);
	/* "[::1]" as in URLs: drop the brackets. */
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']' &&
	    n - 2 < sizeof(host)) {
		memcpy(host, addr + 1, n - 2);
		host[n - 2] = '\0';
	} else if (n < sizeof(host)) {
		memcpy(host, addr, n + 1);
	} else {
		host[0] = '\0';
	}
	memset(&ss, 0, sizeof(ss));
	if (ascii_strcasecmp(host, "localhost") == 0) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons((unsigned short)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		len = sizeof(*sin6);
	} else {
		return seterr(err, errlen, -1, "mailvault only listens on "
		    "loopback; \"%s\" is not a loopback address (use "
		    "127.0.0.1, ::1 or localhost)", addr);
	}
	if (!net_is_loopback_addr((struct sockaddr *)&ss))
		return seterr(err, errlen, -1, "mailvault only listens on "
		    "loopback; %s is not a loopback address", addr);
	*ss_r = ss;
	*len_r = len;
	return 0;
}

void
net_format_addr(const struct sockaddr *sa, char *out, size_t outlen)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;
	char a[INET6_ADDRSTRLEN];
	unsigned port;

	if (outlen == 0)
		return;
	if (sa != NULL && sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		port = ntohs(sin->sin_port);
		if (port != 0)
			snprintf(out, outlen, "%s:%u", a, port);
		else
			snprintf(out, outlen, "%s", a);
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		port = ntohs(sin6->sin6_port);
		if (port != 0)
			snprintf(out, outlen, "[%s]:%u", a, port);
		else
			snprintf(out, outlen, "%s", a);
	} else if (sa != NULL && sa->sa_family == AF_UNIX) {
		snprintf(out, outlen, "local socket");
	} else {
		snprintf(out, outlen, "unknown address");
	}
}
