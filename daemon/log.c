/*
 * log: where the daemon's lines go, and how many of them.
 *
 * Every part of the daemon logs by writing a line to stderr. In the
 * foreground that is the terminal; a detached daemon (detach.c) makes its
 * stdout and stderr the write end of a pipe read by the logger thread
 * here, which writes each line to the log file behind a UTC timestamp.
 * The file is opened once at start and again on SIGHUP (logrotate moves
 * the old one away first); a line is written whole, under one mutex, so
 * a reopen never cuts one. Under systemd the daemon logs to its stderr
 * as it is, without this thread: the journal stamps lines itself.
 *
 * The level (`config set log-level`) is one atomic integer, read by the
 * threads that log often (the sync workers) without a lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_int.h"

static struct {
	pthread_mutex_t	 mu;		/* guards fd */
	char		 path[4096];
	int		 fd;		/* the log file, or -1 */
	int		 pipe;		/* the logger's write end, or -1 */
	pthread_t	 thread;
	int		 started;
	int		 level;		/* atomic */
} lg = { PTHREAD_MUTEX_INITIALIZER, "", -1, -1, 0, 0, DAEMON_LOG_INFO };

int
daemon_log_wanted(int level)
{
	return level <= __atomic_load_n(&lg.level, __ATOMIC_RELAXED);
}

int
daemon_log_set_level(const char *name)
{
	static const char *const names[] = { "error", "warn", "info",
	    "debug" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0) {
			__atomic_store_n(&lg.level, i, __ATOMIC_RELAXED);
			return 0;
		}
	return -1;
}

static int
open_log(void)
{
	return open(lg.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

/* Write one line to the log file behind a UTC timestamp. */
static void
log_write(const char *line, size_t n)
{
	char stamp[40];
	struct tm tm;
	time_t t = time(NULL);
	size_t m;

	gmtime_r(&t, &tm);
	m = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	pthread_mutex_lock(&lg.mu);
	/* A failed write has nowhere left to be reported. */
	if (lg.fd >= 0 && write(lg.fd, stamp, m) == (ssize_t)m)
		(void)!write(lg.fd, line, n);
	pthread_mutex_unlock(&lg.mu);
}

/* The logger thread: lines from the pipe into the log file, stamped. */
static void *
logger_run(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[8192];
	size_t have = 0, start, i;
	ssize_t r;

	for (;;) {
		r = read(fd, buf + have, sizeof(buf) - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		start = 0;
		for (i = 0; i < have; i++)
			if (buf[i] == '\n') {
				log_write(buf + start, i + 1 - start);
				start = i + 1;
			}
		if (start == 0 && have == sizeof(buf)) {
			log_write(buf, have);	/* an endless line: cut it */
			log_write("\n", 1);
			have = 0;
			continue;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	if (have > 0) {
		log_write(buf, have);
		log_write("\n", 1);
	}
	close(fd);
	return NULL;
}

int
daemon_log_start(const char *path)
{
	sigset_t all, old;
	int p[2], rc;

	if ((size_t)snprintf(lg.path, sizeof(lg.path), "%s", path) >=
	    sizeof(lg.path) || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	lg.fd = open_log();
	/* The logger never takes a signal: the service's sigwait() does. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&lg.thread, NULL, logger_run,
	    (void *)(intptr_t)p[0]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	lg.started = 1;
	lg.pipe = p[1];
	return p[1];
}

void
daemon_log_reopen(void)
{
	int fd, old;

	if (!lg.started)
		return;
	fflush(stdout);
	fflush(stderr);
	if ((fd = open_log()) < 0)
		return;		/* keep writing to the old one */
	pthread_mutex_lock(&lg.mu);
	old = lg.fd;
	lg.fd = fd;
	pthread_mutex_unlock(&lg.mu);
	if (old >= 0)
		close(old);
	fprintf(stderr, "mailvault: log file reopened\n");
}

void
daemon_log_stop(void)
{
	int fd;

	fflush(stdout);
	fflush(stderr);
	if (!lg.started)
		return;
	/* The last write end closes: the logger writes what is left. */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	close(lg.pipe);
	lg.pipe = -1;
	pthread_join(lg.thread, NULL);
	lg.started = 0;
	if (lg.fd >= 0) {
		dup2(lg.fd, STDOUT_FILENO);
		dup2(lg.fd, STDERR_FILENO);
		close(lg.fd);
	}
	lg.fd = -1;
}
