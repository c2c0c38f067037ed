/*
 * control: the server half of the control socket of a running `mailvault
 * serve` or daemon (the CLI has the client half).
 *
 * A UNIX stream socket at daemon_ctl_path() of the store it serves (one
 * socket per store, so the daemons of two stores run side by side), in a
 * folder of mode 0700, itself 0600. One thread accepts a connection at a time, checks with
 * SO_PEERCRED that the peer runs as our own uid (the modes already say
 * so; the check is there for when they are loosened), reads one command
 * line of at most DAEMON_CTL_LINE_MAX bytes and answers, then closes:
 *
 *	STATUS [JSON]	"* " data lines (the status as text, or one JSON
 *			line), then "OK"
 *	STATE		"OK locked" or "OK unlocked"
 *	SYNC [ACCOUNT]	wake the account's sync thread (every one's without
 *			a name) and stream "* " progress lines until its run
 *			ends: "* NAME: done" or "* NAME: FAILED: why", then
 *			"OK" or "ERR"
 *	UNLOCK		followed by a second line, the passphrase (at most
 *			DAEMON_PASS_MAX bytes; wiped once used): "OK unlocked",
 *			or "ERR wrong passphrase: ..." and still locked
 *	LOCK		"OK locked": sessions ended, sync stopped, keys gone
 *	RELOAD		re-read poll-interval, log-level, pop3-delete from
 *			the store: "OK " and what is in force
 *	STORE		"OK /the/store/path" (is it the store I mean?)
 *	ACCOUNTS [NAME]	the accounts changed in the store: start, stop or
 *			rename their sync threads to match, and sync NAME
 *			again at once (its connection settings changed):
 *			"OK " and what is synced now
 *	PORTS		"OK IMAP IMAPS POP3 POP3S ADDR": the ports bound (0:
 *			off) and the address, for mail clients' settings
 *	STOP		"OK stopping", then the process gets SIGTERM and
 *			stops as `daemon stop` makes it
 *
 * Anything else is "ERR ...". One thread is enough: only the CLI talks
 * here, and a slow SYNC simply makes the next command wait. This file
 * knows the socket and the protocol's words, not the service: each
 * command calls one of the hooks the service gave at start, and words
 * its answer. SYNC's progress lines go out as they come.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "lib/buf.h"
#include "lib/net.h"
#include "lib/util.h"

#define CTL_IO_MS	5000		/* per read or write on a connection */

struct daemon_ctl {
	pthread_t	 thread;
	int		 lfd;		/* the listening socket */
	int		 stop[2];	/* [1] closed: the thread returns */
	char		*path;		/* the socket's path, unlinked at stop */
	char		*store;		/* the store's absolute path */
	struct daemon_ctl_hooks hooks;
};

/*
 * FNV-1a, 64 bits, of the store's absolute path: a short name, not a
 * secret or a proof. The folder is private to its user whatever the name,
 * and the CLI asks the daemon which store it serves (STORE) before it
 * acts, so even a collision could not make it steer the wrong daemon.
 */
static uint64_t
path_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

char *
daemon_ctl_path(const char *store)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	unsigned long long h = (unsigned long long)path_hash(store);

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/mailvault/ctl-%016llx", xdg, h);
	return xasprintf("/tmp/mailvault-%lu/ctl-%016llx",
	    (unsigned long)geteuid(), h);
}

/* Make the socket's folder: ours, a real folder, mode 0700. */
static int
make_dir(const char *dir, char *err, size_t errlen)
{
	char *parent = xstrdup(dir), *slash = strrchr(parent, '/');
	struct stat sb;

	/* $XDG_RUNTIME_DIR should exist; make it if it does not. */
	if (slash != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) < 0 && errno != EEXIST) {
			free(parent);
			return seterr(err, errlen, -1, "cannot create %s: %s",
			    dir, strerror(errno));
		}
	}
	free(parent);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return seterr(err, errlen, -1, "cannot create %s: %s", dir,
		    strerror(errno));
	if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != geteuid())
		return seterr(err, errlen, -1, "%s is not a folder of ours; "
		    "remove it or set XDG_RUNTIME_DIR", dir);
	if ((sb.st_mode & 0777) != 0700 && chmod(dir, 0700) < 0)
		return seterr(err, errlen, -1, "cannot make %s private: %s",
		    dir, strerror(errno));
	return 0;
}

static int
fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* 1 if something answers on path, 0 if not. */
static int
socket_alive(const char *path)
{
	struct sockaddr_un sa;
	int fd, ok;

	if (fill_addr(&sa, path) < 0)
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Read one line (without its end) into line; 0, or -1 (EOF, timeout,
 * too long). */
static int
read_line(int fd, char *line, size_t max)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 >= max)
			return -1;
		line[n++] = c;
	}
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return 0;
}

/* Prefix every line of text with "* " into out. */
static void
add_data(struct buf *out, const char *text)
{
	const char *nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		buf_adds(out, "* ");
		buf_add(out, text, nl ? (size_t)(nl - text) : strlen(text));
		buf_addc(out, '\n');
		if (nl == NULL)
			break;
		text = nl + 1;
	}
}

/* Write all of p, or give up on a peer that does not read. */
static int
send_all(int fd, const char *p, size_t n)
{
	return net_write_all(fd, p, n, CTL_IO_MS, -1) == 0 ? 0 : -1;
}

/* A connection being answered line by line (SYNC's progress). */
struct ctl_conn {
	int	 fd;
	int	 broken;
};

static void
conn_line(void *arg, const char *text)
{
	struct ctl_conn *cc = arg;
	char line[700];
	int n;

	if (cc->broken)
		return;
	n = snprintf(line, sizeof(line), DAEMON_CTL_DATA "%s\n", text);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	if (send_all(cc->fd, line, (size_t)n) < 0)
		cc->broken = 1;
}

static void
do_status(struct daemon_ctl *c, int json, struct buf *out)
{
	struct buf text;
	char err[512];

	buf_init(&text, DAEMON_CTL_REPLY_MAX / 2);
	err[0] = '\0';
	if (c->hooks.status(c->hooks.arg, json, &text, err, sizeof(err)) < 0)
		buf_printf(out, DAEMON_CTL_ERR "%s\n", err);
	else {
		add_data(out, text.data != NULL ? text.data : "");
		buf_adds(out, DAEMON_CTL_OK "\n");
	}
	buf_free(&text);
}

static void
do_sync(struct daemon_ctl *c, const char *name, struct ctl_conn *cc,
    struct buf *out)
{
	char err[512];

	err[0] = '\0';
	if (c->hooks.sync(c->hooks.arg, name, c->stop[0], conn_line, cc, err,
	    sizeof(err)) < 0)
		buf_printf(out, DAEMON_CTL_ERR "%s\n", err);
	else
		buf_adds(out, DAEMON_CTL_OK "\n");
}

/* UNLOCK: the passphrase is the next line; it never leaves this
 * function unwiped. */
static void
do_unlock(struct daemon_ctl *c, int fd, struct buf *out)
{
	char *pass = xmalloc(DAEMON_PASS_MAX + 1), err[512];
	int rc;

	if (read_line(fd, pass, DAEMON_PASS_MAX + 1) < 0 || pass[0] == '\0') {
		buf_adds(out, DAEMON_CTL_ERR "UNLOCK wants the passphrase on "
		    "the next line\n");
		goto out;
	}
	err[0] = '\0';
	rc = c->hooks.unlock(c->hooks.arg, pass, strlen(pass), err,
	    sizeof(err));
	if (rc == 1)
		buf_adds(out, DAEMON_CTL_OK " already unlocked\n");
	else if (rc == DAEMON_EBADPASS)
		buf_printf(out, DAEMON_CTL_ERR "wrong passphrase: mailvault "
		    "stays locked (%s)\n", err);
	else if (rc < 0)
		buf_printf(out, DAEMON_CTL_ERR "%s; mailvault stays locked\n",
		    err);
	else
		buf_adds(out, DAEMON_CTL_UNLOCKED "\n");
out:
	explicit_bzero(pass, DAEMON_PASS_MAX + 1);
	free(pass);
}

static void
do_reload(struct daemon_ctl *c, struct buf *out)
{
	char msg[512];

	msg[0] = '\0';
	c->hooks.reload(c->hooks.arg, msg, sizeof(msg));
	buf_printf(out, DAEMON_CTL_OK " %s\n", msg);
}

static void
do_accounts(struct daemon_ctl *c, const char *changed, struct buf *out)
{
	char msg[512];

	msg[0] = '\0';
	if (c->hooks.accounts(c->hooks.arg, changed, msg, sizeof(msg)) < 0)
		buf_printf(out, DAEMON_CTL_ERR "%s\n", msg);
	else
		buf_printf(out, DAEMON_CTL_OK " %s\n", msg);
}

static void
do_ports(struct daemon_ctl *c, struct buf *out)
{
	char addr[128];
	int p[4];

	c->hooks.ports(c->hooks.arg, p, addr, sizeof(addr));
	buf_printf(out, DAEMON_CTL_OK " %d %d %d %d %s\n", p[0], p[1], p[2],
	    p[3], addr);
}

static void
dispatch(struct daemon_ctl *c, char *line, struct ctl_conn *cc,
    struct buf *out)
{
	if (strcmp(line, DAEMON_CTL_STATUS) == 0)
		do_status(c, 0, out);
	else if (strcmp(line, DAEMON_CTL_STATUS_JSON) == 0)
		do_status(c, 1, out);
	else if (strcmp(line, DAEMON_CTL_STATE) == 0)
		buf_adds(out, c->hooks.locked(c->hooks.arg) ?
		    DAEMON_CTL_LOCKED "\n" : DAEMON_CTL_UNLOCKED "\n");
	else if (strcmp(line, DAEMON_CTL_SYNC) == 0)
		do_sync(c, NULL, cc, out);
	else if (strncmp(line, DAEMON_CTL_SYNC " ", 5) == 0 &&
	    line[5] != '\0')
		do_sync(c, line + 5, cc, out);
	else if (strcmp(line, DAEMON_CTL_UNLOCK) == 0)
		do_unlock(c, cc->fd, out);
	else if (strcmp(line, DAEMON_CTL_LOCK) == 0)
		buf_adds(out, c->hooks.lock(c->hooks.arg) == 1 ?
		    DAEMON_CTL_OK " already locked\n" : DAEMON_CTL_LOCKED "\n");
	else if (strcmp(line, DAEMON_CTL_RELOAD) == 0)
		do_reload(c, out);
	else if (strcmp(line, DAEMON_CTL_STORE) == 0)
		buf_printf(out, DAEMON_CTL_OK " %s\n", c->store);
	else if (strcmp(line, DAEMON_CTL_ACCOUNTS) == 0)
		do_accounts(c, NULL, out);
	else if (strncmp(line, DAEMON_CTL_ACCOUNTS " ", 9) == 0 &&
	    line[9] != '\0')
		do_accounts(c, line + 9, out);
	else if (strcmp(line, DAEMON_CTL_PORTS) == 0)
		do_ports(c, out);
	else if (strcmp(line, DAEMON_CTL_STOP) == 0) {
		buf_adds(out, DAEMON_CTL_OK " stopping\n");
		c->hooks.shutdown(c->hooks.arg);
	} else
		buf_adds(out, DAEMON_CTL_ERR "unknown command; try STATUS, "
		    "STATE, SYNC [ACCOUNT], UNLOCK, LOCK, RELOAD, ACCOUNTS "
		    "[ACCOUNT], PORTS, STORE or STOP\n");
}

static void
serve_conn(struct daemon_ctl *c, int fd)
{
	static const char denied[] = DAEMON_CTL_ERR "permission denied: this "
	    "socket serves its owner only\n";
	static const char too_long[] = DAEMON_CTL_ERR "a command is one line "
	    "of at most 255 bytes\n";
	struct timeval tv = { CTL_IO_MS / 1000, 0 };
	char line[DAEMON_CTL_LINE_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_conn cc = { fd, 0 };
	struct buf out;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.uid != geteuid()) {
		fprintf(stderr, "mailvault: control: refused a connection "
		    "from uid %ld\n", (long)cred.uid);
		send_all(fd, denied, sizeof(denied) - 1);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_line(fd, line, sizeof(line)) < 0) {
		send_all(fd, too_long, sizeof(too_long) - 1);
		return;
	}
	buf_init(&out, DAEMON_CTL_REPLY_MAX);
	dispatch(c, line, &cc, &out);
	if (out.len > 0 && !cc.broken)
		send_all(fd, out.data, out.len);
	buf_free(&out);
}

/*
 * End a connection without a reset: closing with unread input would make
 * the client lose our answer, so say we are done and read what is left
 * (a bounded amount, for a second at most).
 */
static void
close_conn(int fd)
{
	struct timeval tv = { 1, 0 };
	char sink[4096];
	size_t total = 0;
	ssize_t r;

	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (total < 64 * 1024 && (r = read(fd, sink, sizeof(sink))) > 0)
		total += (size_t)r;
	close(fd);
}

static void *
ctl_run(void *arg)
{
	struct daemon_ctl *c = arg;
	struct pollfd p[2];
	int fd;

	for (;;) {
		p[0].fd = c->lfd;
		p[0].events = POLLIN;
		p[1].fd = c->stop[0];
		p[1].events = POLLIN;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents != 0)
			break;
		fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_conn(c, fd);
		close_conn(fd);
	}
	return NULL;
}

/* Bind the socket; 0, or -1 with a sentence in err. */
static int
ctl_bind(struct daemon_ctl *c, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	char *dir = xstrdup(c->path);
	int rc;

	*strrchr(dir, '/') = '\0';
	rc = make_dir(dir, err, errlen);
	free(dir);
	if (rc < 0)
		return -1;
	if (fill_addr(&sa, c->path) < 0)
		return seterr(err, errlen, -1, "the control socket path %s "
		    "is too long", c->path);
	if (socket_alive(c->path))
		return seterr(err, errlen, -1, "another mailvault serve or "
		    "daemon of this store already listens on %s; 'mailvault "
		    "daemon stop' or Ctrl-C in its terminal ends it", c->path);
	unlink(c->path);	/* a stale socket of a process that died */
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0 || chmod(c->path, 0600) < 0 ||
	    listen(c->lfd, 8) < 0)
		return seterr(err, errlen, -1, "cannot listen on %s: %s",
		    c->path, strerror(errno));
	return 0;
}

static void
ctl_free(struct daemon_ctl *c)
{
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->stop[0] >= 0)
		close(c->stop[0]);
	if (c->stop[1] >= 0)
		close(c->stop[1]);
	free(c->path);
	free(c->store);
	free(c);
}

int
daemon_ctl_start(const char *store, const struct daemon_ctl_hooks *h,
    struct daemon_ctl **c_r, char *err, size_t errlen)
{
	struct daemon_ctl *c = xcalloc(1, sizeof(*c));

	c->lfd = c->stop[0] = c->stop[1] = -1;
	c->path = daemon_ctl_path(store);
	c->store = xstrdup(store);
	c->hooks = *h;
	if (ctl_bind(c, err, errlen) < 0) {
		if (c->lfd >= 0)	/* bound: ours to remove */
			unlink(c->path);
		ctl_free(c);
		return -1;
	}
	if (pipe2(c->stop, O_CLOEXEC) < 0 ||
	    pthread_create(&c->thread, NULL, ctl_run, c) != 0) {
		seterr(err, errlen, -1, "cannot start the control socket's "
		    "thread");
		unlink(c->path);
		ctl_free(c);
		return -1;
	}
	*c_r = c;
	return 0;
}

void
daemon_ctl_stop(struct daemon_ctl **cp)
{
	struct daemon_ctl *c = *cp;

	if (c == NULL)
		return;
	/* A closed write end wakes the poll and cancels a running SYNC. */
	close(c->stop[1]);
	c->stop[1] = -1;
	pthread_join(c->thread, NULL);
	unlink(c->path);
	ctl_free(c);
	*cp = NULL;
}
