/*
 * detach: the service in the background, `mailvault daemon
 * start|stop|status`.
 *
 * start takes an flock on "<store>.daemon.lock" (held by the daemon for
 * its whole life, so a second daemon on the store is refused at once,
 * and the lock disappears with the process however it ends), then asks
 * the passphrase (while a terminal may still be there to ask it on), then
 * detaches: fork, setsid, fork again (the daemon can never get a terminal
 * back), stdin from /dev/null, cwd /, umask 077, stdout to the log file
 * ($XDG_STATE_HOME/mailvault/mailvault.log, appended, through log.c's
 * logger). The daemon has the passphrase from the fork itself, opens the
 * store with it and wipes it; the parent wipes its copy at once. Until it
 * serves, the daemon's stderr is a pipe to the waiting parent, which thus
 * shows the daemon's own error (a busy port, a wrong passphrase) and
 * fails; once it serves, ready() sends a marker line, moves stderr to
 * the log and the parent returns.
 *
 * The lock file holds "PID SINCE" (SINCE in seconds since the epoch),
 * which stop and status read; the pid file beside the log holds the same
 * for other tools. stop sends SIGTERM (the service says BYE to every
 * session and stops the sync threads) and waits until the lock is free.
 * SIGHUP makes the daemon reopen its log file (for logrotate). Under
 * systemd (JOURNAL_STREAM or INVOCATION_ID set) or with log_stderr the
 * lines go to the daemon's own stderr as they are: the journal stamps
 * them itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "lib/buf.h"
#include "lib/util.h"

#define READY_MARK	"\001ready "
#define START_WAIT_MS	120000	/* the KDF and a certificate may take time */
#define STOP_WAIT_MS	60000	/* sessions get BYE, sync batches finish */
#define EXIT_FAIL	1

/* The daemon's own state, in the daemon process. */
static struct {
	int	 lock_fd;
	int	 ready;
	int	 log_stderr;	/* lines go to err_fd as they are */
	int	 err_fd;	/* the daemon's own stderr (log_stderr) */
	int	 log_pipe;	/* the logger's write end, or -1 */
	char	*log_path;
	char	*pid_path;
	int64_t	 since;
} dmn = { -1, 0, 0, -1, -1, NULL, NULL, 0 };

static int
mkdir_p(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* $XDG_STATE_HOME/mailvault, created; the caller frees. NULL and a
 * sentence in err. */
static char *
state_dir(char *err, size_t errlen)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home;
	char *dir;

	if (xdg != NULL && xdg[0] == '/')
		dir = xasprintf("%s/mailvault", xdg);
	else {
		home = getenv("HOME");
		if (home == NULL || home[0] != '/')
			home = "/tmp";
		dir = xasprintf("%s/.local/state/mailvault", home);
	}
	if (mkdir_p(dir) < 0) {
		seterr(err, errlen, -1, "cannot create %s: %s", dir,
		    strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The store's absolute path into *store_r and its lock file's path;
 * NULL and a sentence in err when there is no store. */
static char *
lock_path(const char *path, char **store_r, char *err, size_t errlen)
{
	char *abs = realpath(path, NULL);

	if (abs == NULL) {
		seterr(err, errlen, -1, "there is no store at %s: create one "
		    "with 'mailvault init', or name another with --store",
		    path);
		return NULL;
	}
	*store_r = abs;
	return xasprintf("%s.daemon.lock", abs);
}

/* Read "PID SINCE" from the lock file. */
static void
read_pid(int fd, long *pid_r, int64_t *since_r)
{
	char text[64];
	long long since = 0;
	ssize_t n;

	*pid_r = 0;
	*since_r = 0;
	n = pread(fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return;
	text[n] = '\0';
	if (sscanf(text, "%ld %lld", pid_r, &since) < 1)
		*pid_r = 0;
	*since_r = since;
}

/*
 * Is a daemon running on the store? 1 (with its pid and start), 0, or -1
 * and a sentence in err. *fd_r (if not NULL) keeps the lock file open.
 */
static int
probe(const char *path, long *pid_r, int64_t *since_r, int *fd_r,
    char **store_r, char *err, size_t errlen)
{
	char *lp, *store = NULL;
	int fd, running;

	*pid_r = 0;
	*since_r = 0;
	if ((lp = lock_path(path, &store, err, errlen)) == NULL)
		return -1;
	fd = open(lp, O_RDWR | O_CLOEXEC);
	free(lp);
	if (store_r != NULL)
		*store_r = store;
	else
		free(store);
	if (fd < 0)
		return 0;
	running = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	if (!running)
		flock(fd, LOCK_UN);
	read_pid(fd, pid_r, since_r);
	if (fd_r != NULL)
		*fd_r = fd;
	else
		close(fd);
	return running;
}

int
daemon_probe(const char *path, long *pid_r, int64_t *since_r, char **abs_r,
    char *err, size_t errlen)
{
	return probe(path, pid_r, since_r, NULL, abs_r, err, errlen);
}

/* ---- in the daemon ---- */

static void
write_pid(void)
{
	char text[64];
	int n, fd;

	n = snprintf(text, sizeof(text), "%ld %lld\n", (long)getpid(),
	    (long long)dmn.since);
	if (ftruncate(dmn.lock_fd, 0) < 0 ||
	    pwrite(dmn.lock_fd, text, (size_t)n, 0) != n)
		fprintf(stderr, "mailvault: cannot write the lock file\n");
	fd = open(dmn.pid_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd >= 0) {
		if (write(fd, text, (size_t)n) != n)
			fprintf(stderr, "mailvault: cannot write %s\n",
			    dmn.pid_path);
		close(fd);
	}
}

/* The daemon serves: tell the waiting parent (which then returns) and
 * log from now on. */
static void
ready(struct daemon *d)
{
	char when[32];
	time_t t;
	struct tm tm;
	int fd;

	write_pid();
	dmn.ready = 1;
	fprintf(stderr, READY_MARK "%ld %s%s\n", (long)getpid(),
	    daemon_listening(d), daemon_locked(d) ? "; locked: 'mailvault "
	    "unlock' unlocks it" : "");
	fflush(stderr);
	fd = dmn.log_stderr ? dmn.err_fd : dmn.log_pipe;
	if (fd >= 0)
		dup2(fd, STDERR_FILENO);
	t = (time_t)dmn.since;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "mailvault: daemon started at %s, pid %ld\n", when,
	    (long)getpid());
}

/* Before exit: the pid file goes, the logger writes what is left. */
static void
finish(void)
{
	if (dmn.ready) {
		unlink(dmn.pid_path);
		fprintf(stderr, "mailvault: daemon stopped\n");
	}
	daemon_log_stop();
}

/* Close every descriptor the caller left open to us, but stdio, the lock
 * and the pipe to the parent: a daemon must not hold its starter's
 * pipes. */
static void
close_others(int rep_fd)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = STDERR_FILENO + 1; fd < max; fd++)
		if (fd != dmn.lock_fd && fd != rep_fd)
			close(fd);
}

/* Detach stdio: stdin from /dev/null, stdout to the log (or our stderr),
 * stderr to the parent. 0, or -1. */
static int
redirect(int rep_fd)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		return -1;
	close(fd);
	if (dmn.log_stderr) {
		dmn.err_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		fd = dmn.err_fd;
	} else
		fd = dmn.log_pipe = daemon_log_start(dmn.log_path);
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(rep_fd, STDERR_FILENO) < 0)
		return -1;
	close(rep_fd);
	return 0;
}

/* The grandchild: detach and serve. Never returns: exit() (not _exit)
 * so that stdio is flushed and leak checkers run. */
static void
run_daemon(const struct daemon_opts *o, char *store, char *pass,
    size_t len, int rep_fd)
{
	struct daemon_opts o2 = *o;
	struct daemon *d = NULL;
	char err[512];
	int rc = EXIT_FAIL;

	umask(077);
	if (chdir("/") < 0)
		_exit(EXIT_FAIL);
	close_others(rep_fd);
	if (redirect(rep_fd) < 0)
		_exit(EXIT_FAIL);
	dmn.since = (int64_t)time(NULL);
	o2.store_path = store;
	o2.passphrase = NULL;
	err[0] = '\0';
	rc = daemon_open_detached(&o2, pass, len, dmn.since, &d, err,
	    sizeof(err));
	if (pass != NULL)
		explicit_bzero(pass, DAEMON_PASS_MAX + 1);
	if (rc == 0) {
		ready(d);
		daemon_run(d);
	} else if (err[0] != '\0')
		fprintf(stderr, "mailvault: %s\n", err);
	daemon_close(&d);
	finish();
	free(pass);
	free(store);
	exit(rc == 0 ? 0 : EXIT_FAIL);
}

/* ---- in the process that starts it ---- */

/* After a failed start: wait until the daemon has let go of the lock,
 * so that whatever runs next (`daemon status`, another start) finds the
 * store free and not "starting". */
static void
wait_gone(const char *store)
{
	int64_t end = now_ms() + STOP_WAIT_MS;
	char *lp = xasprintf("%s.daemon.lock", store);
	int fd;

	fd = open(lp, O_RDWR | O_CLOEXEC);
	free(lp);
	if (fd < 0)
		return;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK &&
	    now_ms() < end)
		usleep(20 * 1000);
	close(fd);
}

/* Read what the daemon says until it serves (or gives up): 0 with its
 * pid and what it serves, or -1 and a sentence in err. */
static int
wait_ready(int fd, long *pid_r, char **serving_r, char *err, size_t errlen)
{
	struct pollfd p = { fd, POLLIN, 0 };
	struct buf in;
	char chunk[1024], *mark, *desc;
	int64_t end = now_ms() + START_WAIT_MS;
	ssize_t r;
	int rc = -1;

	buf_init(&in, 1u << 20);
	for (;;) {
		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			break;
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || buf_add(&in, chunk, (size_t)r) < 0)
			break;
	}
	mark = in.data != NULL ? strstr(in.data, READY_MARK) : NULL;
	if (mark != NULL) {
		*mark = '\0';
		*pid_r = strtol(mark + strlen(READY_MARK), &desc, 10);
		desc += *desc == ' ';
		desc[strcspn(desc, "\n")] = '\0';
		*serving_r = xstrdup(desc);
		rc = 0;
	} else
		seterr(err, errlen, -1, "the daemon did not start%s; see "
		    "above and %s", now_ms() >= end ? " in time" : "",
		    dmn.log_path);
	if (in.data != NULL)
		fputs(in.data, stderr);
	buf_free(&in);
	return rc;
}

/* Take the store's daemon lock into dmn.lock_fd: 0, or -1 and a
 * sentence in err (another daemon holds it). */
static int
take_lock(const char *path, char **store_r, char *err, size_t errlen)
{
	char *store = NULL, *lp;
	int64_t since;
	long other;
	int fd;

	if ((lp = lock_path(path, &store, err, errlen)) == NULL)
		return -1;
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		seterr(err, errlen, -1, "cannot open %s: %s", lp,
		    strerror(errno));
	else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		read_pid(fd, &other, &since);
		if (other > 0)
			seterr(err, errlen, -1, "a mailvault daemon already "
			    "runs on the store %s (pid %ld); 'mailvault daemon "
			    "stop' ends it", store, other);
		else
			seterr(err, errlen, -1, "a mailvault daemon is "
			    "starting on the store %s", store);
		close(fd);
		fd = -1;
	}
	free(lp);
	if (fd < 0) {
		free(store);
		return -1;
	}
	dmn.lock_fd = fd;
	*store_r = store;
	return 0;
}

/* The lock is held: the log's place and the passphrase. 0, or -1 and a
 * sentence in err (empty when the callback said why). */
static int
gather(const struct daemon_opts *o, char **pass_r, size_t *len_r,
    char *err, size_t errlen)
{
	char *dir;

	if ((dir = state_dir(err, errlen)) == NULL)
		return -1;
	dmn.log_path = xasprintf("%s/mailvault.log", dir);
	dmn.pid_path = xasprintf("%s/mailvault.pid", dir);
	free(dir);
	*pass_r = NULL;
	*len_r = 0;
	if (o->passphrase == NULL)
		return 0;
	*pass_r = xmalloc(DAEMON_PASS_MAX + 1);
	if (o->passphrase(o->passphrase_arg, *pass_r, DAEMON_PASS_MAX,
	    len_r) == 0)
		return 0;
	free(*pass_r);
	*pass_r = NULL;
	if (errlen > 0)
		err[0] = '\0';
	return -1;
}

/* Fork twice: the grandchild is the daemon. The child's pid, or -1. */
static pid_t
spawn(const struct daemon_opts *o, char *store, char *pass, size_t len,
    int rep[2])
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) != 0)
		return pid;
	close(rep[0]);
	if (setsid() < 0)
		_exit(EXIT_FAIL);
	pid = fork();
	if (pid != 0)
		_exit(pid < 0 ? EXIT_FAIL : 0);
	run_daemon(o, store, pass, len, rep[1]);
	return -1;	/* not reached */
}

int
daemon_start(const struct daemon_opts *o, long *pid_r, char **serving_r,
    char **log_r, char *err, size_t errlen)
{
	char *store = NULL, *pass = NULL;
	int rep[2] = { -1, -1 }, status, rc = -1;
	size_t len = 0;
	pid_t pid = -1;

	if (take_lock(o->store_path, &store, err, errlen) < 0)
		return -1;
	dmn.log_stderr = o->log_stderr || getenv("JOURNAL_STREAM") != NULL ||
	    getenv("INVOCATION_ID") != NULL;
	if (gather(o, &pass, &len, err, errlen) == 0 &&
	    (pipe2(rep, O_CLOEXEC) < 0 || (pid = spawn(o, store, pass, len,
	    rep)) < 0))
		seterr(err, errlen, -1, "cannot start the daemon: %s",
		    strerror(errno));
	if (pass != NULL) {
		explicit_bzero(pass, DAEMON_PASS_MAX + 1);
		free(pass);
	}
	close(dmn.lock_fd);	/* the daemon holds the lock now, if any */
	if (rep[1] >= 0)
		close(rep[1]);
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		rc = wait_ready(rep[0], pid_r, serving_r, err, errlen);
		if (rc < 0)
			wait_gone(store);
		else
			*log_r = xstrdup(dmn.log_path);
	}
	if (rep[0] >= 0)
		close(rep[0]);
	free(dmn.log_path);
	free(dmn.pid_path);
	dmn.log_path = dmn.pid_path = NULL;
	free(store);
	return rc;
}

int
daemon_stop(const char *path, long *pid_r, char *err, size_t errlen)
{
	int64_t since, end = now_ms() + STOP_WAIT_MS;
	long pid = 0;
	int fd = -1, running;

	running = probe(path, &pid, &since, &fd, NULL, err, errlen);
	if (running < 0)
		return -1;
	if (!running || pid <= 0) {
		if (fd >= 0)
			close(fd);
		return seterr(err, errlen, -1, running ? "the daemon is still "
		    "starting; try again in a moment" : "the daemon is not "
		    "running");
	}
	if (kill((pid_t)pid, SIGTERM) < 0) {
		close(fd);
		return seterr(err, errlen, -1, "cannot stop the daemon (pid "
		    "%ld): %s", pid, strerror(errno));
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (now_ms() > end) {
			close(fd);
			return seterr(err, errlen, -1, "the daemon (pid %ld) "
			    "did not stop within %d s; see its log", pid,
			    STOP_WAIT_MS / 1000);
		}
		usleep(50 * 1000);
	}
	close(fd);
	*pid_r = pid;
	return 0;
}
