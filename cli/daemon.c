/*
 * daemon: `mailvault daemon start|stop|status`, `serve` in the background.
 *
 * start reads the passphrase first, while a terminal may still be there
 * to ask it on, and hands it to the daemon through a pipe. It takes an
 * flock on "<store>.daemon.lock" (held by the daemon for its whole life,
 * so a second daemon on the store is refused at once, and the lock
 * disappears with the process however it ends), then detaches: fork,
 * setsid, fork again (the daemon can never get a terminal back), stdin
 * from /dev/null, cwd /, umask 077, stdout to the log file
 * ($XDG_STATE_HOME/mailvault/mailvault.log, appended). Until it serves,
 * the daemon's stderr is a pipe to the waiting parent, which thus prints
 * the daemon's own error (a busy port, a wrong passphrase) and exits
 * non-zero; once it serves, cli_daemon_ready() sends a marker line, moves
 * stderr to the log and the parent returns.
 *
 * The lock file holds "PID SINCE" (SINCE in seconds since the epoch),
 * which stop and status read; the pid file beside the log holds the same
 * for other tools. stop sends SIGTERM (cmd_serve says BYE to every
 * session and stops the sync threads) and waits until the lock is free.
 * SIGHUP makes the daemon reopen its log file (for logrotate).
 *
 * Locked or not: with a passphrase at hand (--passphrase-fd,
 * --passphrase-file, $MAILVAULT_PASSPHRASE_FILE) or a terminal to ask it
 * on, the daemon unlocks at start; with neither, or with --locked, it
 * starts locked (serve --locked) and waits for `mailvault unlock`.
 *
 * Logging: the daemon's stdout and stderr go into a pipe read by a
 * logger thread, which writes each line to the log file behind a UTC
 * timestamp. Under systemd (JOURNAL_STREAM or INVOCATION_ID set) or with
 * --log-stderr the lines go to the daemon's own stderr as they are: the
 * journal stamps them itself. The log level (`config set log-level`) is
 * kept here for the callers that log.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/util.h"

#define READY_MARK	"\001ready "
#define START_WAIT_MS	120000	/* the KDF and a certificate may take time */
#define STOP_WAIT_MS	60000	/* sessions get BYE, sync batches finish */

/* The daemon's own state, in the daemon process only. */
static struct {
	int	 active;
	int	 ready;
	int	 lock_fd;
	int	 pass_fd;
	char	*log_path;
	char	*pid_path;
	int64_t	 since;
	int	 log_stderr;	/* lines go to err_fd as they are */
	int	 err_fd;	/* the daemon's own stderr (log_stderr) */
	int	 log_pipe;	/* the logger's write end, or -1 */
	int	 log_fd;	/* the log file, under log_mu */
	pthread_t logger;
	int	 logger_started;
} dmn = { 0, 0, -1, -1, NULL, NULL, 0, 0, -1, -1, -1, 0, 0 };

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int log_level = CLI_LOG_INFO;

int
cli_log_wanted(int level)
{
	return level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int
cli_log_set_level(const char *name)
{
	static const char *const names[] = { "error", "warn", "info",
	    "debug" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0) {
			__atomic_store_n(&log_level, i, __ATOMIC_RELAXED);
			return 0;
		}
	return -1;
}

int
cli_daemon_active(void)
{
	return dmn.active;
}

int64_t
cli_daemon_since(void)
{
	return dmn.since;
}

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

/* $XDG_STATE_HOME/mailvault, created; the caller frees. NULL after
 * printing why. */
static char *
state_dir(void)
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
		cli_error("cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The store's absolute path and its lock file's; NULL after printing. */
static char *
lock_path(const struct cli_opts *o, char **store_r)
{
	char *path = cli_store_path(o), *abs;

	abs = realpath(path, NULL);
	if (abs == NULL) {
		cli_error("there is no store at %s: create one with "
		    "'mailvault init', or name another with --store", path);
		free(path);
		return NULL;
	}
	free(path);
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
 * after printing why. *fd_r (if not NULL) keeps the lock file open.
 */
static int
probe(const struct cli_opts *o, long *pid_r, int64_t *since_r, int *fd_r,
    char **store_r)
{
	char *lp, *store = NULL;
	int fd, running;

	if ((lp = lock_path(o, &store)) == NULL)
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

static int
open_log(void)
{
	return open(dmn.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600);
}

void
cli_daemon_ready(const char *desc)
{
	char when[32];
	time_t t;
	struct tm tm;
	int fd;

	if (!dmn.active)
		return;
	write_pid();
	dmn.ready = 1;
	fprintf(stderr, READY_MARK "%ld %s\n", (long)getpid(), desc);
	fflush(stderr);
	fd = dmn.log_stderr ? dmn.err_fd : dmn.log_pipe;
	if (fd >= 0)
		dup2(fd, STDERR_FILENO);
	if (dmn.pass_fd >= 0)
		close(dmn.pass_fd);
	dmn.pass_fd = -1;
	t = (time_t)dmn.since;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "mailvault: daemon started at %s, pid %ld\n", when,
	    (long)getpid());
}

void
cli_daemon_reopen_log(void)
{
	int fd, old;

	if (!dmn.active || dmn.log_stderr)
		return;
	fflush(stdout);
	fflush(stderr);
	if ((fd = open_log()) < 0)
		return;		/* keep writing to the old one */
	pthread_mutex_lock(&log_mu);
	old = dmn.log_fd;
	dmn.log_fd = fd;
	pthread_mutex_unlock(&log_mu);
	if (old >= 0)
		close(old);
	fprintf(stderr, "mailvault: log file reopened\n");
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
	pthread_mutex_lock(&log_mu);
	/* A failed write has nowhere left to be reported. */
	if (dmn.log_fd >= 0 && write(dmn.log_fd, stamp, m) == (ssize_t)m)
		(void)!write(dmn.log_fd, line, n);
	pthread_mutex_unlock(&log_mu);
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

/* Start the logger; the pipe's write end goes to dmn.log_pipe. 0 or -1. */
static int
logger_start(void)
{
	sigset_t all, old;
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	dmn.log_fd = open_log();
	/* The logger never takes a signal: cmd_serve's sigwait() does. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&dmn.logger, NULL, logger_run,
	    (void *)(intptr_t)p[0]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	dmn.logger_started = 1;
	dmn.log_pipe = p[1];
	return 0;
}

void
cli_daemon_exit(void)
{
	int fd;

	if (dmn.ready) {
		unlink(dmn.pid_path);
		fprintf(stderr, "mailvault: daemon stopped\n");
	}
	fflush(stdout);
	fflush(stderr);
	if (!dmn.logger_started)
		return;
	/* The last write ends close: the logger writes what is left. */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	close(dmn.log_pipe);
	dmn.log_pipe = -1;
	pthread_join(dmn.logger, NULL);
	dmn.logger_started = 0;
	/* What is said at exit (a sanitizer's report) goes to the log as
	 * it is. */
	if (dmn.log_fd >= 0) {
		dup2(dmn.log_fd, STDOUT_FILENO);
		dup2(dmn.log_fd, STDERR_FILENO);
		close(dmn.log_fd);
	}
	dmn.log_fd = -1;
}

/* Close every descriptor the caller left open to us, but stdio, the lock
 * and the passphrase pipe: a daemon must not hold its starter's pipes. */
static void
close_others(int pass_fd, int rep_fd)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = STDERR_FILENO + 1; fd < max; fd++)
		if (fd != pass_fd && fd != dmn.lock_fd && fd != rep_fd)
			close(fd);
}

static int
has_arg(int argc, char **argv, const char *name)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

/* The grandchild: detach and run serve. Never returns: exit() (not
 * _exit) so that stdio is flushed and leak checkers run. */
static void
run_daemon(const struct cli_opts *o, char *store, int pass_fd, int rep_fd,
    int argc, char **argv)
{
	struct cli_opts o2 = *o;
	char **av = xcalloc((size_t)argc + 2, sizeof(*av));
	int fd, i, rc;

	umask(077);
	if (chdir("/") < 0)
		_exit(CLI_FAIL);
	close_others(pass_fd, rep_fd);
	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
		_exit(CLI_FAIL);
	close(fd);
	if (dmn.log_stderr) {
		dmn.err_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		fd = dmn.err_fd;
	} else
		fd = logger_start() == 0 ? dmn.log_pipe : -1;
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
	    dup2(rep_fd, STDERR_FILENO) < 0)
		_exit(CLI_FAIL);
	close(rep_fd);
	dmn.active = 1;
	dmn.pass_fd = pass_fd;
	dmn.since = (int64_t)time(NULL);
	o2.store_path = store;
	o2.pass_file = NULL;
	o2.pass_fd = pass_fd;
	av[0] = "serve";
	for (i = 1; i < argc; i++)
		av[i] = argv[i];
	if (pass_fd < 0 && !has_arg(argc, argv, "--locked"))
		av[argc++] = "--locked";
	rc = cli_cmd_serve(&o2, argc, av);
	cli_daemon_exit();
	free(av);
	free(store);
	exit(rc);
}

/* After a failed start: wait until the daemon has let go of the lock,
 * so that whatever runs next (`daemon status`, another start) finds the
 * store free and not "starting". */
static void
wait_gone(const struct cli_opts *o)
{
	int64_t end = now_ms() + STOP_WAIT_MS;
	char *store = NULL, *lp;
	int fd;

	if ((lp = lock_path(o, &store)) == NULL)
		return;
	fd = open(lp, O_RDWR | O_CLOEXEC);
	free(lp);
	free(store);
	if (fd < 0)
		return;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK &&
	    now_ms() < end)
		usleep(20 * 1000);
	close(fd);
}

/* The parent: what the daemon says until it serves. */
static int
wait_ready(int fd, const char *log_path)
{
	struct pollfd p = { fd, POLLIN, 0 };
	struct buf in;
	char chunk[1024], *mark, *desc;
	int64_t end = now_ms() + START_WAIT_MS;
	ssize_t r;
	long pid;
	int rc = CLI_FAIL;

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
		pid = strtol(mark + strlen(READY_MARK), &desc, 10);
		desc[strcspn(desc, "\n")] = '\0';
		fputs(in.data, stderr);
		printf("mailvault: daemon started (pid %ld), serving%s\n"
		    "mailvault: log: %s\n", pid, desc, log_path);
		rc = CLI_OK;
	} else {
		if (in.data != NULL)
			fputs(in.data, stderr);
		cli_error("the daemon did not start%s; see above and %s",
		    now_ms() >= end ? " in time" : "", log_path);
	}
	buf_free(&in);
	return rc;
}

/* Give the passphrase to the daemon through a pipe; its read end, or -1
 * after printing why. */
static int
pass_pipe(const struct cli_opts *o)
{
	char *pass = NULL;
	size_t len = 0;
	int p[2], ok;

	if (cli_read_passphrase(o, "Passphrase: ", 0, &pass, &len) < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		cli_passphrase_free(&pass, len);
		return cli_error("cannot make a pipe: %s", strerror(errno)), -1;
	}
	/* At most 4 KB: it fits in the pipe, nobody need read it yet. */
	ok = write(p[1], pass, len) == (ssize_t)len && write(p[1], "\n", 1) == 1;
	cli_passphrase_free(&pass, len);
	close(p[1]);
	if (!ok) {
		close(p[0]);
		return cli_error("cannot hand the passphrase on"), -1;
	}
	return p[0];
}

/* Take the store's daemon lock: its descriptor, or -1 after printing
 * why (another daemon holds it). */
static int
take_lock(const struct cli_opts *o, char **store_r)
{
	char *store = NULL, *lp;
	int64_t since;
	long other;
	int fd;

	if ((lp = lock_path(o, &store)) == NULL)
		return -1;
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		cli_error("cannot open %s: %s", lp, strerror(errno));
	else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		read_pid(fd, &other, &since);
		if (other > 0)
			cli_error("a mailvault daemon already runs on the store "
			    "%s (pid %ld); 'mailvault daemon stop' ends it",
			    store, other);
		else
			cli_error("a mailvault daemon is starting on the store "
			    "%s", store);
		close(fd);
		fd = -1;
	}
	free(lp);
	if (fd < 0)
		free(store);
	else
		*store_r = store;
	return fd;
}

/* Start locked: asked to, or no passphrase and nobody to ask. */
static int
start_locked(const struct cli_opts *o, int argc, char **argv)
{
	return has_arg(argc, argv, "--locked") || !cli_passphrase_available(o);
}

static int
daemon_start(const struct cli_opts *o, int argc, char **argv)
{
	char *store = NULL, *dir;
	int pass_fd, rep[2], status, rc;
	pid_t pid;

	if ((dmn.lock_fd = take_lock(o, &store)) < 0)
		return CLI_FAIL;
	dmn.log_stderr = has_arg(argc, argv, "--log-stderr") ||
	    getenv("JOURNAL_STREAM") != NULL || getenv("INVOCATION_ID") != NULL;
	pass_fd = -1;
	if ((dir = state_dir()) == NULL || (!start_locked(o, argc, argv) &&
	    (pass_fd = pass_pipe(o)) < 0)) {
		free(dir);
		free(store);
		close(dmn.lock_fd);
		return CLI_FAIL;
	}
	dmn.log_path = xasprintf("%s/mailvault.log", dir);
	dmn.pid_path = xasprintf("%s/mailvault.pid", dir);
	free(dir);
	fflush(NULL);
	if (pipe2(rep, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		/* The process ends now: it closes what is open. */
		return cli_error("cannot start the daemon: %s",
		    strerror(errno));
	}
	if (pid == 0) {
		close(rep[0]);
		if (setsid() < 0)
			_exit(CLI_FAIL);
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? CLI_FAIL : CLI_OK);
		run_daemon(o, store, pass_fd, rep[1], argc, argv);
	}
	close(rep[1]);
	if (pass_fd >= 0)
		close(pass_fd);
	close(dmn.lock_fd);	/* the daemon holds the lock now */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rc = wait_ready(rep[0], dmn.log_path);
	close(rep[0]);
	free(store);
	if (rc != CLI_OK)
		wait_gone(o);
	return rc;
}

static int
daemon_stop(const struct cli_opts *o)
{
	int64_t since, end = now_ms() + STOP_WAIT_MS;
	long pid = 0;
	int fd = -1, running;

	running = probe(o, &pid, &since, &fd, NULL);
	if (running < 0)
		return CLI_FAIL;
	if (!running || pid <= 0) {
		if (fd >= 0)
			close(fd);
		return cli_error(running ? "the daemon is still starting; try "
		    "again in a moment" : "the daemon is not running");
	}
	if (kill((pid_t)pid, SIGTERM) < 0) {
		close(fd);
		return cli_error("cannot stop the daemon (pid %ld): %s", pid,
		    strerror(errno));
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (now_ms() > end) {
			close(fd);
			return cli_error("the daemon (pid %ld) did not stop "
			    "within %d s; see its log", pid,
			    STOP_WAIT_MS / 1000);
		}
		usleep(50 * 1000);
	}
	close(fd);
	if (!o->quiet)
		printf("mailvault: the daemon (pid %ld) stopped\n", pid);
	return CLI_OK;
}

/* "locked", "unlocked", or NULL when the daemon does not say. */
static const char *
daemon_state(void)
{
	char *reply = NULL;
	const char *state = NULL;

	if (cli_ctl_request("STATE", 5, &reply) != 0)
		return NULL;
	if (strncmp(reply, "OK locked", 9) == 0)
		state = "locked";
	else if (strncmp(reply, "OK unlocked", 11) == 0)
		state = "unlocked";
	free(reply);
	return state;
}

static int
daemon_status(const struct cli_opts *o)
{
	char when[32] = "", *store = NULL;
	const char *state = NULL;
	int64_t since = 0;
	time_t t;
	struct tm tm;
	long pid = 0;
	int running;

	running = probe(o, &pid, &since, NULL, &store);
	if (running < 0)
		return CLI_FAIL;
	t = (time_t)since;
	if (since > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (running)
		state = daemon_state();
	if (o->json) {
		fputs("{\"running\":", stdout);
		if (running) {
			printf("true,\"pid\":%ld,\"since\":\"%s\",", pid,
			    when);
			if (state != NULL)
				printf("\"locked\":%s,", strcmp(state,
				    "locked") == 0 ? "true" : "false");
			fputs("\"store\":", stdout);
		} else
			fputs("false,\"store\":", stdout);
		cli_json_string(store);
		fputs("}\n", stdout);
	} else if (running && pid <= 0)
		printf("starting (store %s)\n", store);
	else if (running)
		printf("running, pid %ld, since %s, store %s%s%s\n", pid, when,
		    store, state != NULL ? ", " : "", state != NULL ? state :
		    "");
	else
		printf("not running (store %s)\n", store);
	free(store);
	return running ? CLI_OK : CLI_NOT_RUNNING;
}

int
cli_cmd_daemon(const struct cli_opts *o, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage("daemon", "say start, stop or status");
	if (strcmp(argv[1], "start") == 0)
		return daemon_start(o, argc - 1, argv + 1);
	if (argc > 2)
		return cli_usage("daemon", "unexpected '%s'", argv[2]);
	if (strcmp(argv[1], "stop") == 0)
		return daemon_stop(o);
	if (strcmp(argv[1], "status") == 0)
		return daemon_status(o);
	return cli_usage("daemon", "unknown daemon command '%s'; say start, "
	    "stop or status", argv[1]);
}
