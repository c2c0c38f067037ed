/*
 * ctl: the control socket of a running `mailvault serve` or daemon, and
 * the CLI's side of it.
 *
 * A UNIX stream socket at $XDG_RUNTIME_DIR/mailvault/ctl (or
 * /tmp/mailvault-UID/ctl), in a folder of mode 0700, itself 0600. One
 * thread accepts a connection at a time, checks with SO_PEERCRED that the
 * peer runs as our own uid (the modes already say so; the check is there
 * for when they are loosened), reads one command line of at most
 * CTL_LINE_MAX bytes and answers, then closes:
 *
 *	STATUS [JSON]	"* " data lines (the status as text, or one JSON
 *			line), then "OK"
 *	STATE		"OK locked" or "OK unlocked"
 *	SYNC [ACCOUNT]	wake the account's sync thread (every one's without
 *			a name) and stream "* " progress lines until its run
 *			ends: "* NAME: done" or "* NAME: FAILED: why", then
 *			"OK" or "ERR"
 *	UNLOCK		followed by a second line, the passphrase (at most
 *			CTL_PASS_MAX bytes; wiped once used): "OK unlocked",
 *			or "ERR wrong passphrase: ..." and still locked
 *	LOCK		"OK locked": sessions ended, sync stopped, keys gone
 *	RELOAD		re-read poll-interval, log-level, pop3-delete from
 *			the store: "OK " and what is in force
 *	STORE		"OK /the/store/path" (is it the store I mean?)
 *	STOP		"OK stopping", then the process gets SIGTERM and
 *			stops as `daemon stop` makes it
 *
 * Anything else is "ERR ...". One thread is enough: only the CLI talks
 * here, and a slow SYNC simply makes the next command wait. The serving
 * process's store handle is used here, on this thread only, while the
 * thread runs; UNLOCK and LOCK change it through the hooks, also on this
 * thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

#define CTL_LINE_MAX	256		/* a command line, with its LF */
#define CTL_REPLY_MAX	(4u << 20)	/* a reply, as the client takes it */
#define CTL_IO_SECS	5		/* per read or write on a connection */
#define CTL_PASS_MAX	4096		/* UNLOCK's passphrase line */

struct cli_ctl {
	pthread_t	 thread;
	int		 lfd;		/* the listening socket */
	int		 stop[2];	/* [1] closed: the thread returns */
	char		*path;		/* the socket's path, unlinked at stop */
	char		*store;		/* the store's absolute path */
	struct cli_ctl_hooks hooks;
	pthread_mutex_t	 mu;		/* guards the fields below */
	struct store	*st;		/* borrowed; NULL while locked */
	struct cli_syncd *syncd;	/* borrowed; NULL: none */
	struct cli_status_daemon info;
	char		 desc[256];
};

char *
cli_ctl_dir(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/mailvault", xdg);
	return xasprintf("/tmp/mailvault-%lu", (unsigned long)geteuid());
}

char *
cli_ctl_path(void)
{
	char *dir = cli_ctl_dir(), *p;

	p = xasprintf("%s/ctl", dir);
	free(dir);
	return p;
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

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
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

static void
do_status(struct cli_ctl *c, int json, struct buf *out)
{
	struct cli_status_daemon info;
	struct buf text;
	struct store *st;

	pthread_mutex_lock(&c->mu);
	info = c->info;
	st = c->st;
	info.locked = st == NULL;
	info.syncd = c->syncd;
	pthread_mutex_unlock(&c->mu);
	info.listening = c->desc;
	info.store = c->store;
	buf_init(&text, CTL_REPLY_MAX / 2);
	if (cli_status_render(st, &info, json, &text) < 0) {
		buf_printf(out, "ERR %s\n", store_errmsg(st));
	} else {
		add_data(out, text.data != NULL ? text.data : "");
		buf_adds(out, "OK\n");
	}
	buf_free(&text);
}

static void
ctl_sync_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level >= SYNC_LOG_LVL_INFO)
		fprintf(stderr, "mailvault: sync (asked): %s\n", msg);
}

/* Sync one account here (serve --no-sync has no threads); 0 if it went
 * well. */
static int
sync_here(struct cli_ctl *c, int64_t acct, const char *name, struct buf *out)
{
	struct sync_opts so = { NULL, ctl_sync_log, NULL, c->stop[0], 0,
	    NULL };
	struct sync_stats stats;
	char err[SYNC_ERRMSG_LEN];

	memset(&stats, 0, sizeof(stats));
	err[0] = '\0';
	if (sync_account(c->st, acct, &so, &stats, err, sizeof(err)) !=
	    SYNC_OK) {
		buf_printf(out, "* %s: FAILED: %s\n", name,
		    err[0] ? err : "the sync failed");
		return -1;
	}
	buf_printf(out, "* %s: done: %llu new, %llu flag changes in, %llu "
	    "out\n", name, (unsigned long long)stats.pulled,
	    (unsigned long long)stats.flags_in,
	    (unsigned long long)stats.flags_out);
	return 0;
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
	n = snprintf(line, sizeof(line), "* %s\n", text);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	if (send_all(cc->fd, line, (size_t)n) < 0)
		cc->broken = 1;
}

static void
do_sync(struct cli_ctl *c, const char *name, struct ctl_conn *cc,
    struct buf *out)
{
	struct store_account *list = NULL;
	size_t n = 0, i;
	int64_t acct;
	int failed = 0, any = 0, rc;

	if (c->st == NULL) {
		buf_adds(out, "ERR mailvault is locked: run 'mailvault "
		    "unlock' first\n");
		return;
	}
	if (name != NULL) {
		if (store_account_find(c->st, name, &acct) != 0) {
			buf_printf(out, "ERR there is no account named %s\n",
			    name);
			return;
		}
		if (!sync_account_has_upstream(c->st, acct)) {
			buf_printf(out, "ERR account %s has no upstream "
			    "server to sync with\n", name);
			return;
		}
	}
	if (c->syncd != NULL) {
		rc = cli_syncd_sync_now(c->syncd, name, c->stop[0], conn_line,
		    cc);
		if (rc == CLI_SYNCD_NOACCT && name == NULL)
			buf_adds(out, "* no account has an upstream server\n"
			    "OK\n");
		else if (rc == CLI_SYNCD_NOACCT)
			buf_printf(out, "ERR the daemon does not sync %s (its "
			    "thread did not start; see the log)\n", name);
		else
			buf_adds(out, rc < 0 ? "ERR the sync failed\n" :
			    "OK\n");
		return;
	}
	if (name != NULL) {
		failed = sync_here(c, acct, name, out) < 0;
		buf_adds(out, failed ? "ERR the sync failed\n" : "OK\n");
		return;
	}
	if (store_account_list(c->st, &list, &n) != 0) {
		buf_printf(out, "ERR %s\n", store_errmsg(c->st));
		return;
	}
	for (i = 0; i < n; i++) {
		if (!sync_account_has_upstream(c->st, list[i].id))
			continue;
		any = 1;
		failed |= sync_here(c, list[i].id, list[i].name, out) < 0;
	}
	store_account_list_free(&list, n);
	if (!any)
		buf_adds(out, "* no account has an upstream server\n");
	buf_adds(out, failed ? "ERR a sync failed\n" : "OK\n");
}

/* UNLOCK: the passphrase is the next line; it never leaves this
 * function unwiped. */
static void
do_unlock(struct cli_ctl *c, int fd, struct buf *out)
{
	char *pass = xmalloc(CTL_PASS_MAX + 1), err[512];
	size_t len;
	int rc;

	if (read_line(fd, pass, CTL_PASS_MAX + 1) < 0 || pass[0] == '\0') {
		buf_adds(out, "ERR UNLOCK wants the passphrase on the next "
		    "line\n");
		goto out;
	}
	if (c->st != NULL) {
		buf_adds(out, "OK already unlocked\n");
		goto out;
	}
	len = strlen(pass);
	err[0] = '\0';
	rc = c->hooks.unlock(c->hooks.arg, pass, len, err, sizeof(err));
	if (rc == CLI_CTL_BADPASS)
		buf_printf(out, "ERR wrong passphrase: mailvault stays locked "
		    "(%s)\n", err);
	else if (rc < 0)
		buf_printf(out, "ERR %s; mailvault stays locked\n", err);
	else
		buf_adds(out, "OK unlocked\n");
out:
	explicit_bzero(pass, CTL_PASS_MAX + 1);
	free(pass);
}

static void
do_lock(struct cli_ctl *c, struct buf *out)
{
	char err[512];

	if (c->st == NULL) {
		buf_adds(out, "OK already locked\n");
		return;
	}
	err[0] = '\0';
	if (c->hooks.lock(c->hooks.arg, err, sizeof(err)) < 0)
		buf_printf(out, "ERR %s\n", err);
	else
		buf_adds(out, "OK locked\n");
}

static void
dispatch(struct cli_ctl *c, char *line, struct ctl_conn *cc, struct buf *out)
{
	char msg[512];

	if (strcmp(line, "STATUS") == 0 || strcmp(line, "STATUS JSON") == 0)
		do_status(c, line[6] != '\0', out);
	else if (strcmp(line, "STATE") == 0)
		buf_adds(out, c->st == NULL ? "OK locked\n" : "OK unlocked\n");
	else if (strcmp(line, "SYNC") == 0)
		do_sync(c, NULL, cc, out);
	else if (strncmp(line, "SYNC ", 5) == 0 && line[5] != '\0')
		do_sync(c, line + 5, cc, out);
	else if (strcmp(line, "UNLOCK") == 0)
		do_unlock(c, cc->fd, out);
	else if (strcmp(line, "LOCK") == 0)
		do_lock(c, out);
	else if (strcmp(line, "RELOAD") == 0) {
		if (c->st == NULL)
			buf_adds(out, "OK locked: the settings are read at "
			    "unlock\n");
		else {
			msg[0] = '\0';
			c->hooks.reload(c->hooks.arg, msg, sizeof(msg));
			buf_printf(out, "OK %s\n", msg);
		}
	} else if (strcmp(line, "STORE") == 0)
		buf_printf(out, "OK %s\n", c->store);
	else if (strcmp(line, "STOP") == 0) {
		buf_adds(out, "OK stopping\n");
		/* Every thread blocks it; cmd_serve's sigwait() takes it. */
		kill(getpid(), SIGTERM);
	} else
		buf_adds(out, "ERR unknown command; try STATUS, STATE, SYNC "
		    "[ACCOUNT], UNLOCK, LOCK, RELOAD or STOP\n");
}

static void
serve_conn(struct cli_ctl *c, int fd)
{
	struct timeval tv = { CTL_IO_SECS, 0 };
	char line[CTL_LINE_MAX];
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_conn cc = { fd, 0 };
	struct buf out;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.uid != geteuid()) {
		fprintf(stderr, "mailvault: control: refused a connection "
		    "from uid %ld\n", (long)cred.uid);
		send_all(fd, "ERR permission denied: this socket serves its "
		    "owner only\n", 56);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (read_line(fd, line, sizeof(line)) < 0) {
		send_all(fd, "ERR a command is one line of at most 255 "
		    "bytes\n", 47);
		return;
	}
	buf_init(&out, CTL_REPLY_MAX);
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
	struct cli_ctl *c = arg;
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
ctl_bind(struct cli_ctl *c, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	char *dir = cli_ctl_dir();
	int rc;

	rc = make_dir(dir, err, errlen);
	free(dir);
	if (rc < 0)
		return -1;
	if (fill_addr(&sa, c->path) < 0)
		return seterr(err, errlen, -1, "the control socket path %s "
		    "is too long", c->path);
	if (socket_alive(c->path))
		return seterr(err, errlen, -1, "another mailvault serve or "
		    "daemon already listens on %s; 'mailvault daemon stop' "
		    "or Ctrl-C in its terminal ends it", c->path);
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
ctl_free(struct cli_ctl *c)
{
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->stop[0] >= 0)
		close(c->stop[0]);
	if (c->stop[1] >= 0)
		close(c->stop[1]);
	pthread_mutex_destroy(&c->mu);
	free(c->path);
	free(c->store);
	free(c);
}

int
cli_ctl_start(const char *store_path, struct store *st,
    struct cli_syncd *syncd, const struct cli_ctl_hooks *hooks,
    struct cli_ctl **c_r, char *err, size_t errlen)
{
	struct cli_ctl *c = xcalloc(1, sizeof(*c));

	c->lfd = c->stop[0] = c->stop[1] = -1;
	pthread_mutex_init(&c->mu, NULL);
	c->path = cli_ctl_path();
	c->hooks = *hooks;
	c->st = st;
	c->syncd = syncd;
	/* Now, before a daemon's chdir("/") could change what it means. */
	c->store = realpath(store_path, NULL);
	if (c->store == NULL)
		c->store = xstrdup(store_path);
	c->info.state = "starting";
	c->info.pid = (long)getpid();
	c->info.since = (int64_t)time(NULL);
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
cli_ctl_unlocked(struct cli_ctl *c, struct store *st, struct cli_syncd *syncd)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->st = st;
	c->syncd = syncd;
	pthread_mutex_unlock(&c->mu);
}

void
cli_ctl_serving(struct cli_ctl *c, const struct cli_status_daemon *info,
    const char *desc)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->info.state = info->state;
	c->info.since = info->since;
	memcpy(c->info.ports, info->ports, sizeof(c->info.ports));
	snprintf(c->desc, sizeof(c->desc), "%s", desc);
	pthread_mutex_unlock(&c->mu);
}

void
cli_ctl_stop(struct cli_ctl **cp)
{
	struct cli_ctl *c = *cp;

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

/* ---- the client's side ---- */

/* Print the complete "* " lines at the start of in and drop them. */
static void
print_data(struct buf *in)
{
	char *nl;
	size_t used = 0;

	while (used < in->len && (nl = memchr(in->data + used, '\n',
	    in->len - used)) != NULL && strncmp(in->data + used, "* ",
	    2) == 0) {
		fwrite(in->data + used + 2, 1, (size_t)(nl - in->data) - used -
		    1, stdout);
		used = (size_t)(nl - in->data) + 1;
	}
	fflush(stdout);
	if (used > 0) {
		memmove(in->data, in->data + used, in->len - used);
		in->len -= used;
		in->data[in->len] = '\0';
	}
}

int
cli_ctl_request_data(const char *cmd, const char *data, size_t len,
    int timeout_secs, int stream, char **reply_r)
{
	struct timeval tv = { timeout_secs, 0 };
	struct sockaddr_un sa;
	char *path = cli_ctl_path(), chunk[4096];
	struct buf in;
	ssize_t r;
	int fd, rc = 0;

	if (fill_addr(&sa, path) < 0) {
		free(path);
		return CLI_CTL_DOWN;
	}
	free(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = (errno == ENOENT || errno == ECONNREFUSED) ?
		    CLI_CTL_DOWN : -1;
		close(fd);
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send_all(fd, cmd, strlen(cmd)) < 0 || send_all(fd, "\n", 1) < 0 ||
	    (data != NULL && (send_all(fd, data, len) < 0 ||
	    send_all(fd, "\n", 1) < 0))) {
		close(fd);
		return -1;
	}
	buf_init(&in, CTL_REPLY_MAX);
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf_add(&in, chunk, (size_t)r) < 0) {
			rc = -1;
			break;
		}
		if (stream)
			print_data(&in);
	}
	close(fd);
	if (r < 0 || in.len == 0)
		rc = -1;
	if (rc < 0) {
		buf_free(&in);
		return -1;
	}
	*reply_r = buf_steal(&in, NULL);
	return 0;
}

int
cli_ctl_request(const char *cmd, int timeout_secs, char **reply_r)
{
	return cli_ctl_request_data(cmd, NULL, 0, timeout_secs, 0, reply_r);
}

int
cli_ctl_print_reply(const char *reply)
{
	const char *line = reply, *nl;
	int ok = 0;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (strncmp(line, "* ", 2) == 0)
			printf("%.*s\n", (int)(nl ? nl - line - 2 :
			    (long)strlen(line + 2)), line + 2);
		else if (strncmp(line, "OK", 2) == 0)
			ok = 1;
		else if (strncmp(line, "ERR ", 4) == 0)
			cli_error("%.*s", (int)(nl ? nl - line - 4 :
			    (long)strlen(line + 4)), line + 4);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return ok ? 0 : -1;
}

int
cli_ctl_same_store(const struct cli_opts *o)
{
	char *path = cli_store_path(o), *abs, *reply = NULL;
	int rc;

	abs = realpath(path, NULL);
	free(path);
	rc = cli_ctl_request("STORE", 10, &reply);
	if (rc < 0 || abs == NULL) {
		free(abs);
		return rc == CLI_CTL_DOWN ? CLI_CTL_DOWN : 0;
	}
	reply[strcspn(reply, "\n")] = '\0';
	rc = strncmp(reply, "OK ", 3) == 0 && strcmp(reply + 3, abs) == 0;
	free(reply);
	free(abs);
	return rc;
}

int
cli_ctl_sync(const struct cli_opts *o, int argc, char **argv)
{
	char cmd[CTL_LINE_MAX], *reply = NULL;
	int i, n = argc > 1 ? argc - 1 : 1, failed = 0, rc;

	if (cli_ctl_same_store(o) != 1)
		return -1;
	for (i = 0; i < n; i++) {
		if (argc <= 1)
			snprintf(cmd, sizeof(cmd), "SYNC");
		else if (strpbrk(argv[i + 1], "\r\n") != NULL ||
		    (size_t)snprintf(cmd, sizeof(cmd), "SYNC %s",
		    argv[i + 1]) >= sizeof(cmd)) {
			cli_error("there is no account named %s", argv[i + 1]);
			failed = 1;
			continue;
		}
		/* No read timeout: a first sync may take hours. The
		 * daemon's progress lines are shown as they come. */
		rc = cli_ctl_request_data(cmd, NULL, 0, 0, 1, &reply);
		if (rc < 0)
			return cli_error("the daemon did not answer the sync "
			    "request; see its log");
		failed |= cli_ctl_print_reply(reply) < 0;
		free(reply);
		reply = NULL;
	}
	return failed ? CLI_FAIL : CLI_OK;
}
