/*
 * listen: loopback listeners, the accept thread and the session threads.
 * See server/listen.h for the model.
 *
 * One pipe does all the signalling: the accept thread and every session
 * poll its read end, and listen_stop() closes its write end, which makes
 * the read end readable (end of file) for everybody at once and for ever,
 * with no per-session bookkeeping. Session threads are detached; the set
 * counts them under a mutex and a condition variable tells listen_stop()
 * when the count falls. If the wait runs out, the set is handed to the
 * sessions still running and the last one frees it.
 *
 * The accept thread and the sessions block every asynchronous signal, so
 * signals reach the thread that manages the daemon.
 */
#include "server/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/net.h"
#include "lib/util.h"

#define BACKLOG		64
#define ACCEPT_PAUSE_MS	100	/* after EMFILE and friends */

struct listener {
	int	 fd;		/* -1 when the spec is off */
	int	 port;		/* as bound */
	int	 tag;
	int	 implicit_tls;
	char	 addr[NET_ADDRSTRLEN];	/* as bound, "127.0.0.1:1143" */
};

struct listen_set {
	struct listener		*l;
	size_t			 nl;
	listen_handler_fn	*handler;
	void			*arg;
	size_t			 max;
	int			 shut[2];	/* pipe; [1] closed at stop */
	pthread_t		 accepter;
	int			 accepting;	/* accepter was started */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* live went down */
	size_t			 live;		/* under mu */
	size_t			 refused;	/* under mu */
	int			 orphaned;	/* under mu: the last
						 * session frees the set */
};

struct session {
	struct listen_set	*ls;
	int			 fd;
	int			 tag;
	struct sockaddr_storage	 peer;
};

static void
set_free(struct listen_set *ls)
{
	size_t i;

	for (i = 0; i < ls->nl; i++)
		if (ls->l[i].fd >= 0)
			close(ls->l[i].fd);
	if (ls->shut[0] >= 0)
		close(ls->shut[0]);
	if (ls->shut[1] >= 0)
		close(ls->shut[1]);
	pthread_mutex_destroy(&ls->mu);
	pthread_cond_destroy(&ls->cv);
	free(ls->l);
	free(ls);
}

/* ---- binding ------------------------------------------------------------- */

static int
bind_error(const struct listen_spec *sp, int port, int e, char *err,
    size_t errlen)
{
	const char *opt = sp->option != NULL ? sp->option : "its option";

	switch (e) {
	case EADDRINUSE:
		return seterr(err, errlen, -1, "port %d on %s is in use "
		    "(another mailvault or Dovecot?); choose another with %s",
		    port, sp->addr, opt);
	case EACCES:
		return seterr(err, errlen, -1, "port %d on %s needs root "
		    "privileges; choose one above 1023 with %s", port,
		    sp->addr, opt);
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
		return seterr(err, errlen, -1, "cannot listen on %s: this "
		    "system does not have that address (is IPv6 turned off?)",
		    sp->addr);
	default:
		return seterr(err, errlen, -1, "cannot listen on port %d on "
		    "%s: %s", port, sp->addr, strerror(e));
	}
}

/* Bind and listen for one spec into *l. 0 or -1 with err. */
static int
bind_one(const struct listen_spec *sp, struct listener *l, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, e;
	unsigned port = sp->port == LISTEN_PORT_ANY ? 0 : (unsigned)sp->port;

	if (sp->port < LISTEN_PORT_ANY || sp->port > 65535)
		return seterr(err, errlen, -1, "%d is not a TCP port number",
		    sp->port);
	if (net_parse_listen_addr(sp->addr, port, &ss, &len, err, errlen) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return bind_error(sp, (int)port, errno, err, errlen);
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, BACKLOG) < 0) {
		e = errno;
		close(fd);
		return bind_error(sp, (int)port, e, err, errlen);
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		e = errno;
		close(fd);
		return bind_error(sp, (int)port, e, err, errlen);
	}
	l->fd = fd;
	l->port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)(void *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
	net_format_addr((struct sockaddr *)&ss, l->addr, sizeof(l->addr));
	return 0;
}

/* ---- sessions ------------------------------------------------------------ */

static void *
session_main(void *p)
{
	struct session *se = p;
	struct listen_set *ls = se->ls;
	int last;

	ls->handler(ls->arg, se->fd, se->tag,
	    (const struct sockaddr *)&se->peer);
	free(se);
	pthread_mutex_lock(&ls->mu);
	ls->live--;
	last = ls->orphaned && ls->live == 0;
	pthread_cond_broadcast(&ls->cv);
	pthread_mutex_unlock(&ls->mu);
	if (last)
		set_free(ls);
	return NULL;
}

/* Count a refused connection and close it. */
static void
refuse(struct listen_set *ls, int fd)
{
	pthread_mutex_lock(&ls->mu);
	ls->refused++;
	pthread_mutex_unlock(&ls->mu);
	close(fd);
}

static void
start_session(struct listen_set *ls, const struct listener *l, int fd,
    const struct sockaddr_storage *peer)
{
	struct session *se;
	pthread_attr_t attr;
	pthread_t t;
	int full, r;

	pthread_mutex_lock(&ls->mu);
	full = ls->live >= ls->max;
	if (!full)
		ls->live++;
	pthread_mutex_unlock(&ls->mu);
	if (full) {
		refuse(ls, fd);
		return;
	}
	se = xcalloc(1, sizeof(*se));
	se->ls = ls;
	se->fd = fd;
	se->tag = l->tag;
	se->peer = *peer;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, session_main, se);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		free(se);
		pthread_mutex_lock(&ls->mu);
		ls->live--;
		pthread_cond_broadcast(&ls->cv);
		pthread_mutex_unlock(&ls->mu);
		refuse(ls, fd);
	}
}

/* Accept what is waiting on one listener. 0, or -1 to pause a moment. */
static int
accept_one(struct listen_set *ls, const struct listener *l)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd;

	fd = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
	if (fd < 0) {
		/* Out of descriptors or memory: try again shortly rather
		 * than spin on a listener that stays readable. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM)
			return -1;
		return 0;	/* EAGAIN, ECONNABORTED, EINTR, ... */
	}
	/* The listener is loopback, so this cannot fail; but the rule is
	 * that every peer is checked. */
	if (!net_is_loopback_addr((struct sockaddr *)&peer)) {
		refuse(ls, fd);
		return 0;
	}
	start_session(ls, l, fd, &peer);
	return 0;
}

static void *
accept_main(void *p)
{
	struct listen_set *ls = p;
	struct pollfd *pf = xcalloc(ls->nl + 1, sizeof(*pf));
	size_t i, n;
	int pause;

	for (;;) {
		n = 0;
		pf[n].fd = ls->shut[0];
		pf[n++].events = POLLIN;
		for (i = 0; i < ls->nl; i++) {
			pf[n].fd = ls->l[i].fd;	/* -1 is ignored by poll */
			pf[n].events = POLLIN;
			pf[n++].revents = 0;
		}
		pf[0].revents = 0;
		if (poll(pf, n, -1) < 0)
			continue;	/* EINTR */
		if (pf[0].revents != 0)
			break;
		pause = 0;
		for (i = 0; i < ls->nl; i++)
			if (pf[i + 1].revents != 0 &&
			    accept_one(ls, &ls->l[i]) < 0)
				pause = 1;
		if (pause)
			(void)poll(pf, 1, ACCEPT_PAUSE_MS);
	}
	free(pf);
	return NULL;
}

/* ---- the set ------------------------------------------------------------- */

int
listen_start(const struct listen_spec *specs, size_t nspecs,
    listen_handler_fn *handler, void *arg, size_t max_sessions,
    struct listen_set **ls_r, char *err, size_t errlen)
{
	struct listen_set *ls = xcalloc(1, sizeof(*ls));
	pthread_condattr_t ca;
	sigset_t all, old;
	size_t i;
	int r;

	ls->l = xcalloc(nspecs ? nspecs : 1, sizeof(*ls->l));
	ls->nl = nspecs;
	ls->handler = handler;
	ls->arg = arg;
	ls->max = max_sessions ? max_sessions : LISTEN_MAX_SESSIONS;
	ls->shut[0] = ls->shut[1] = -1;
	pthread_mutex_init(&ls->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ls->cv, &ca);
	pthread_condattr_destroy(&ca);
	for (i = 0; i < nspecs; i++) {
		ls->l[i].fd = -1;
		ls->l[i].tag = specs[i].tag;
		ls->l[i].implicit_tls = specs[i].implicit_tls;
	}
	for (i = 0; i < nspecs; i++) {
		if (specs[i].port == 0)
			continue;
		if (bind_one(&specs[i], &ls->l[i], err, errlen) < 0) {
			set_free(ls);
			return -1;
		}
	}
	if (pipe2(ls->shut, O_CLOEXEC) < 0) {
		r = errno;
		set_free(ls);
		return seterr(err, errlen, -1, "cannot make a pipe: %s",
		    strerror(r));
	}
	*ls_r = ls;
	/* The accept thread, and so every session, blocks signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&ls->accepter, NULL, accept_main, ls);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		*ls_r = NULL;
		set_free(ls);
		return seterr(err, errlen, -1, "cannot start a thread: %s",
		    strerror(r));
	}
	ls->accepting = 1;
	return 0;
}

int
listen_shutdown_fd(const struct listen_set *ls)
{
	return ls->shut[0];
}

size_t
listen_live_sessions(struct listen_set *ls)
{
	size_t n;

	pthread_mutex_lock(&ls->mu);
	n = ls->live;
	pthread_mutex_unlock(&ls->mu);
	return n;
}

size_t
listen_refused(struct listen_set *ls)
{
	size_t n;

	pthread_mutex_lock(&ls->mu);
	n = ls->refused;
	pthread_mutex_unlock(&ls->mu);
	return n;
}

int
listen_port(const struct listen_set *ls, size_t i)
{
	if (i >= ls->nl || ls->l[i].fd < 0)
		return 0;
	return ls->l[i].port;
}

void
listen_describe(const struct listen_set *ls, size_t i, const char *proto,
    char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if (i >= ls->nl || ls->l[i].fd < 0) {
		out[0] = '\0';
		return;
	}
	snprintf(out, outlen, "%s %s%s", proto, ls->l[i].addr,
	    ls->l[i].implicit_tls ? " (TLS)" : "");
}

/* Wait for live to reach 0, at most wait_ms. Called with mu held. */
static void
wait_sessions(struct listen_set *ls, int wait_ms)
{
	struct timespec ts;
	int64_t ns;

	if (wait_ms < 0) {
		while (ls->live > 0)
			pthread_cond_wait(&ls->cv, &ls->mu);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = ts.tv_nsec + (int64_t)(wait_ms % 1000) * 1000000;
	ts.tv_sec += wait_ms / 1000 + ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	while (ls->live > 0)
		if (pthread_cond_timedwait(&ls->cv, &ls->mu, &ts) == ETIMEDOUT)
			break;
}

int
listen_stop(struct listen_set **lsp, int wait_ms)
{
	struct listen_set *ls;
	size_t i, left;

	if (lsp == NULL || *lsp == NULL)
		return 0;
	ls = *lsp;
	*lsp = NULL;
	/* Everybody polling the read end wakes up now. */
	close(ls->shut[1]);
	ls->shut[1] = -1;
	if (ls->accepting)
		pthread_join(ls->accepter, NULL);
	for (i = 0; i < ls->nl; i++) {
		if (ls->l[i].fd >= 0)
			close(ls->l[i].fd);
		ls->l[i].fd = -1;
	}
	pthread_mutex_lock(&ls->mu);
	wait_sessions(ls, wait_ms);
	left = ls->live;
	if (left > 0)
		ls->orphaned = 1;
	pthread_mutex_unlock(&ls->mu);
	if (left == 0)
		set_free(ls);
	return (int)left;
}
