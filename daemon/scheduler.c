/*
 * scheduler: the daemon's background sync. One thread per account
 * that has an upstream, each with its own store handle, runs the sync
 * engine's watch loop: sync at start, then again when IDLE reports new
 * mail or the poll interval passes, with backoff after failures.
 *
 * Each worker's watch loop is given a pipe of its own as its cancel
 * descriptor. A byte in it makes the loop return (a nap or an IDLE wait
 * ends at once; a run in progress finishes or rolls back its batch); the
 * worker then empties the pipe and, unless the whole set is stopping,
 * enters the loop again, which starts with a sync. That is how "sync
 * now" (the control socket's SYNC) and a poll interval shorter than the
 * engine's own reach a worker without a second sync beside it.
 *
 * What a worker does is seen through the engine's callbacks: progress
 * means a run is going on; the progress call without a folder is the
 * last one of every run (the result is then in the account's last-error
 * setting); a warning outside a run is a run that failed before it could
 * start (bad settings). From that the worker keeps, under the set's
 * mutex, its state, the runs so far and when it will sync next, for
 * `mailvault status`. The engine asks the daemon's poll-interval
 * (`mailvault config`, live) before each wait; a scheduler thread wakes a
 * worker when a shorter interval set during a wait comes due first.
 *
 * The set follows the store's accounts while it runs: daemon_sched_
 * accounts() (the control socket's ACCOUNTS, which the CLI sends after
 * `account add|remove|rename|set`) starts a worker for an account that
 * gained an upstream, stops the worker of one that was removed or lost
 * it, renames a worker whose account was renamed, and restarts the one
 * whose connection settings changed: its wait or run is cut (as a "sync
 * now" cuts it) and its backoff forgotten, so a new password is tried at
 * once. Workers are allocated one by one and the set holds pointers, so
 * a worker's own struct never moves while its thread runs. The set
 * changes only on the thread that calls the daemon's operations (one at
 * a time), under d->mu; a stopped worker is joined and freed outside the
 * mutex, which its thread needs to finish.
 *
 * A `serve --no-sync` has no workers; its SYNC is daemon_sync_here(),
 * one run on the caller's thread and handle.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

#define POLL_DEFAULT_S	300	/* when neither daemon nor account sets one */
#define BACKOFF_MIN_S	30	/* the engine's backoff after a failure */
#define BACKOFF_MAX_S	1800
#define LINE_EVERY_MS	250	/* progress lines to a waiting client */

struct sched_worker {
	pthread_t	 thread;
	struct daemon_sched *d;
	struct store	*st;		/* the thread's own handle */
	int64_t		 acct;
	int		 wake[2];	/* the watch loop's cancel pipe */
	/* Under d->mu. */
	char		*name;		/* replaced at a rename */
	int		 quit;		/* leave the loop: the account went */
	int		 running;	/* a run is going on */
	unsigned	 runs;		/* runs ended so far */
	unsigned	 failures;	/* in a row */
	int		 warn_due;	/* the loop will log the failure */
	int		 own_poll;	/* the account's poll-interval, 0: none */
	int64_t		 next;		/* next sync, epoch seconds; 0: unknown */
	int		 next_by_us;	/* the scheduler will wake it at next */
	int		 engine_wait_s;	/* the interval the engine waits now */
	int		 woken;		/* we cut its wait (or a run that had
					 * not yet said so) to sync at once */
	char		 folder[256];
	uint64_t	 msgs_done, msgs_total, bytes_done, bytes_total;
	unsigned	 seq;		/* bumped at every progress */
	unsigned	 prog_seq;	/* bumped at progress in a folder */
	uint64_t	 pulled;	/* messages the last run brought */
	char		 last_err[SYNC_ERRMSG_LEN];	/* "" after a good run */
};

struct daemon_sched {
	struct sched_worker **w;	/* under mu; each one owned here */
	size_t		 n;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a worker's state changed */
	pthread_cond_t	 sched_cv;	/* the scheduler's plan changed */
	pthread_t	 sched;
	int		 sched_started;
	int		 stopping;
	int		 poll_s;	/* the daemon's poll-interval */
};

/* A line for the log about a worker that did not start; returns -1. */
static int __attribute__((format(printf, 1, 2)))
log_failure(const char *fmt, ...)
{
	va_list ap;

	fputs("mailvault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Cut the worker's wait (or its run) so it syncs at once (under d->mu). */
static void
wake(struct sched_worker *w)
{
	ssize_t r;

	w->woken = 1;
	do
		r = write(w->wake[1], "w", 1);
	while (r < 0 && errno == EINTR);
}

/* The account's own poll-interval setting, 0 when unset. */
static int
own_poll(struct store *st, int64_t acct)
{
	char *v = NULL;
	uint64_t n = 0;

	if (store_account_get(st, acct, SYNC_KEY_POLL, &v, NULL) != 0)
		return 0;
	if (parse_u64(v, 86400 * 7, &n) < 0 || n < 10)
		n = 0;
	free(v);
	return (int)n;
}

/* Plan the next sync after a run ended (under d->mu). */
static void
plan_next(struct sched_worker *w)
{
	struct daemon_sched *d = w->d;
	int64_t now = (int64_t)time(NULL), secs;
	unsigned shift;

	w->next_by_us = 0;
	if (w->failures > 0) {
		shift = w->failures - 1 > 6 ? 6 : w->failures - 1;
		secs = (int64_t)BACKOFF_MIN_S << shift;
		w->next = now + (secs > BACKOFF_MAX_S ? BACKOFF_MAX_S : secs);
		return;
	}
	secs = w->own_poll > 0 ? w->own_poll : d->poll_s > 0 ? d->poll_s :
	    POLL_DEFAULT_S;
	/* The engine waits the interval it read before its wait began; a
	 * shorter one set since then is ours to keep. */
	w->next_by_us = w->engine_wait_s > 0 && secs < w->engine_wait_s;
	w->next = now + secs;
	pthread_cond_signal(&d->sched_cv);
}

/* A run ended: record it (on the worker's thread, under no lock). */
static void
run_ended(struct sched_worker *w, const char *failed, uint64_t pulled)
{
	char *err = NULL;
	int own;

	pthread_mutex_lock(&w->d->mu);
	if (w->woken) {
		/* A run our wake cut short (it began just before the wake):
		 * not a result; the loop starts the wanted one at once. */
		w->running = 0;
		pthread_mutex_unlock(&w->d->mu);
		return;
	}
	pthread_mutex_unlock(&w->d->mu);
	if (failed == NULL &&
	    store_account_get(w->st, w->acct, SYNC_KEY_LAST_ERROR, &err,
	    NULL) != 0)
		err = NULL;
	own = own_poll(w->st, w->acct);
	pthread_mutex_lock(&w->d->mu);
	snprintf(w->last_err, sizeof(w->last_err), "%s", failed != NULL ?
	    failed : err != NULL ? err : "");
	w->failures = w->last_err[0] != '\0' ? w->failures + 1 : 0;
	w->warn_due = failed == NULL && w->last_err[0] != '\0';
	w->own_poll = own;
	w->running = 0;
	w->pulled = pulled;
	w->runs++;
	w->seq++;
	plan_next(w);
	pthread_cond_broadcast(&w->d->cv);
	pthread_mutex_unlock(&w->d->mu);
	free(err);
}

static void
worker_progress(void *arg, const struct sync_progress *p)
{
	struct sched_worker *w = arg;

	if (p->folder == NULL) {	/* the last call of every run */
		run_ended(w, NULL, p->msgs_done);
		return;
	}
	pthread_mutex_lock(&w->d->mu);
	w->running = 1;
	w->next = 0;
	snprintf(w->folder, sizeof(w->folder), "%s", p->folder);
	w->msgs_done = p->msgs_done;
	w->msgs_total = p->msgs_total;
	w->bytes_done = p->bytes_done;
	w->bytes_total = p->bytes_total;
	w->seq++;
	w->prog_seq++;
	pthread_cond_broadcast(&w->d->cv);
	pthread_mutex_unlock(&w->d->mu);
}

static void
worker_log(void *arg, int level, const char *msg)
{
	struct sched_worker *w = arg;
	int running, due;
	char *name;

	pthread_mutex_lock(&w->d->mu);
	running = w->running;
	due = w->warn_due;
	if (!running && level >= SYNC_LOG_LVL_WARN)
		w->warn_due = 0;
	name = xstrdup(w->name);	/* a rename may replace it */
	pthread_mutex_unlock(&w->d->mu);
	if (daemon_log_wanted(level == SYNC_LOG_LVL_DEBUG ? DAEMON_LOG_DEBUG :
	    level == SYNC_LOG_LVL_INFO ? DAEMON_LOG_INFO :
	    level == SYNC_LOG_LVL_WARN ? DAEMON_LOG_WARN : DAEMON_LOG_ERROR))
		fprintf(stderr, "mailvault: sync %s: %s\n", name, msg);
	free(name);
	/* The watch loop's warning about a run that never started (its
	 * settings do not load): no progress call says it ended. */
	if (!running && !due && level >= SYNC_LOG_LVL_WARN)
		run_ended(w, msg, 0);
}

static void
drain(int fd)
{
	char sink[64];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

/* The engine asks before each wait: the daemon's poll-interval. */
static int
worker_poll_default(void *arg)
{
	struct sched_worker *w = arg;
	int secs;

	pthread_mutex_lock(&w->d->mu);
	secs = w->d->poll_s > 0 ? w->d->poll_s : POLL_DEFAULT_S;
	w->engine_wait_s = w->own_poll > 0 ? w->own_poll : secs;
	w->next_by_us = 0;
	pthread_mutex_unlock(&w->d->mu);
	return secs;
}

static void *
worker_run(void *arg)
{
	struct sched_worker *w = arg;
	struct sync_opts o = { worker_progress, worker_log, w, w->wake[0], 0,
	    worker_poll_default };
	int stopping;

	for (;;) {
		sync_account_watch(w->st, w->acct, &o);
		drain(w->wake[0]);
		pthread_mutex_lock(&w->d->mu);
		stopping = w->d->stopping || w->quit;
		w->woken = 0;
		if (w->running) {	/* cancelled mid-run: it ended */
			w->running = 0;
			w->runs++;
			pthread_cond_broadcast(&w->d->cv);
		}
		pthread_mutex_unlock(&w->d->mu);
		if (stopping)
			break;
	}
	return NULL;
}

/* Wake workers whose planned sync (by the daemon's interval) is due. */
static void *
sched_run(void *arg)
{
	struct daemon_sched *d = arg;
	struct timespec ts;
	int64_t now, soonest;
	size_t i;

	pthread_mutex_lock(&d->mu);
	while (!d->stopping) {
		now = (int64_t)time(NULL);
		soonest = 0;
		for (i = 0; i < d->n; i++) {
			struct sched_worker *w = d->w[i];

			if (!w->next_by_us || w->running || w->next <= 0)
				continue;
			if (w->next <= now) {
				w->next_by_us = 0;
				wake(w);
			} else if (soonest == 0 || w->next < soonest)
				soonest = w->next;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += soonest > 0 ? (time_t)(soonest - now) : 3600;
		pthread_cond_timedwait(&d->sched_cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Start a worker for account a, added to the set (under d->mu). 0, or
 * -1 after logging why. */
static int
worker_start(struct daemon_sched *d, struct store *st,
    const struct store_account *a)
{
	struct sched_worker *w = xcalloc(1, sizeof(*w));

	w->d = d;
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(w);
		return log_failure("cannot start the sync of %s: %s", a->name,
		    strerror(errno));
	}
	if (store_open_shared(st, &w->st) < 0) {
		log_failure("cannot start the sync of %s: %s", a->name,
		    store_errmsg(st));
		close(w->wake[0]);
		close(w->wake[1]);
		free(w);
		return -1;
	}
	w->acct = a->id;
	w->name = xstrdup(a->name);
	w->own_poll = own_poll(st, a->id);
	if (pthread_create(&w->thread, NULL, worker_run, w) != 0) {
		log_failure("cannot start the sync of %s", w->name);
		store_close(&w->st);
		free(w->name);
		close(w->wake[0]);
		close(w->wake[1]);
		free(w);
		return -1;
	}
	d->w = xreallocarray(d->w, d->n + 1, sizeof(*d->w));
	d->w[d->n++] = w;
	fprintf(stderr, "mailvault: syncing %s in the background\n", a->name);
	return 0;
}

/* Wait for a worker that was told to quit (not under d->mu: its thread
 * takes it to finish) and free it. */
static void
worker_free(struct sched_worker *w)
{
	pthread_join(w->thread, NULL);
	store_close(&w->st);
	free(w->name);
	close(w->wake[0]);
	close(w->wake[1]);
	free(w);
}

int
daemon_sched_start(struct store *st, int poll_s, struct daemon_sched **d_r,
    char *err, size_t errlen)
{
	struct daemon_sched *d = xcalloc(1, sizeof(*d));
	struct store_account *accts;
	size_t n, i;

	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	pthread_cond_init(&d->sched_cv, NULL);
	d->poll_s = poll_s;
	if (store_account_list(st, &accts, &n) < 0) {
		seterr(err, errlen, -1, "%s", store_errmsg(st));
		daemon_sched_stop(&d);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!sync_account_has_upstream(st, accts[i].id))
			continue;
		/* The set's lock: the scheduler thread may read the set. */
		pthread_mutex_lock(&d->mu);
		worker_start(d, st, &accts[i]);
		pthread_mutex_unlock(&d->mu);
	}
	store_account_list_free(&accts, n);
	if (pthread_create(&d->sched, NULL, sched_run, d) == 0)
		d->sched_started = 1;
	*d_r = d;
	return 0;
}

void
daemon_sched_stop(struct daemon_sched **dp)
{
	struct daemon_sched *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = 1;
	for (i = 0; i < d->n; i++)
		wake(d->w[i]);
	pthread_cond_broadcast(&d->sched_cv);
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	if (d->sched_started)
		pthread_join(d->sched, NULL);
	for (i = 0; i < d->n; i++)
		worker_free(d->w[i]);
	pthread_cond_destroy(&d->sched_cv);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d->w);
	free(d);
	*dp = NULL;
}

/* ---- following the accounts ---- */

/* An account as the store has it now, read before d->mu is taken. */
struct acct_now {
	const struct store_account *a;
	int	 upstream;	/* it has an upstream to sync with */
	int	 poll;		/* its own poll-interval, 0: none */
};

/* What a reconciliation did, for the answer. */
struct changes {
	unsigned started, stopped, renamed, restarted;
};

/* The account with id acct in now[], or NULL. */
static const struct acct_now *
find_id(const struct acct_now *now, size_t n, int64_t acct)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (now[i].a->id == acct)
			return &now[i];
	return NULL;
}

/* Take the workers whose account is gone or has no upstream any more
 * out of the set (under d->mu): told to quit, and put in gone[] for the
 * caller to free. */
static void
take_gone(struct daemon_sched *d, const struct acct_now *now, size_t n,
    struct sched_worker **gone, struct changes *c)
{
	const struct acct_now *a;
	size_t i, kept = 0;

	for (i = 0; i < d->n; i++) {
		struct sched_worker *w = d->w[i];

		a = find_id(now, n, w->acct);
		if (a != NULL && a->upstream) {
			d->w[kept++] = w;
			continue;
		}
		fprintf(stderr, "mailvault: no longer syncing %s\n", w->name);
		w->quit = 1;
		wake(w);
		gone[c->stopped++] = w;
	}
	d->n = kept;
}

/* Follow renames and poll-intervals, start new workers (under d->mu). */
static void
follow(struct daemon_sched *d, struct store *st, const struct acct_now *now,
    size_t n, struct changes *c)
{
	const struct acct_now *a;
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct sched_worker *w = d->w[i];

		a = find_id(now, n, w->acct);
		if (strcmp(a->a->name, w->name) != 0) {
			fprintf(stderr, "mailvault: sync %s: the account is "
			    "now called %s\n", w->name, a->a->name);
			free(w->name);
			w->name = xstrdup(a->a->name);
			c->renamed++;
		}
		w->own_poll = a->poll;
		if (!w->running && w->runs > 0 && w->failures == 0)
			plan_next(w);
	}
	for (i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < d->n; j++)
			if (d->w[j]->acct == now[i].a->id)
				break;
		if (j == d->n && now[i].upstream &&
		    worker_start(d, st, now[i].a) == 0)
			c->started++;
	}
}

/* Cut the wait or run of the worker of the account named changed, and
 * forget its failures: it syncs again at once (under d->mu). */
static void
restart(struct daemon_sched *d, const char *changed, struct changes *c)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		struct sched_worker *w = d->w[i];

		if (strcmp(w->name, changed) != 0)
			continue;
		fprintf(stderr, "mailvault: sync %s: its settings changed; "
		    "syncing again now\n", w->name);
		w->failures = 0;
		w->last_err[0] = '\0';
		wake(w);
		c->restarted++;
	}
}

int
daemon_sched_accounts(struct daemon_sched *d, struct store *st,
    const char *changed, char *msg, size_t msglen)
{
	struct store_account *list = NULL;
	struct sched_worker **gone;
	struct changes c = { 0, 0, 0, 0 };
	struct acct_now *now;
	size_t n = 0, i;

	if (store_account_list(st, &list, &n) < 0)
		return seterr(msg, msglen, -1, "cannot read the accounts: %s",
		    store_errmsg(st));
	now = xcalloc(n + 1, sizeof(*now));
	for (i = 0; i < n; i++) {
		now[i].a = &list[i];
		now[i].upstream = sync_account_has_upstream(st, list[i].id);
		now[i].poll = own_poll(st, list[i].id);
	}
	pthread_mutex_lock(&d->mu);
	gone = xcalloc(d->n + 1, sizeof(*gone));
	take_gone(d, now, n, gone, &c);
	follow(d, st, now, n, &c);
	if (changed != NULL)
		restart(d, changed, &c);
	snprintf(msg, msglen, "syncing %zu account%s in the background "
	    "(%u started, %u stopped, %u renamed, %u restarted)", d->n,
	    d->n == 1 ? "" : "s", c.started, c.stopped, c.renamed,
	    c.restarted);
	pthread_cond_signal(&d->sched_cv);
	pthread_mutex_unlock(&d->mu);
	for (i = 0; i < c.stopped; i++)
		worker_free(gone[i]);
	free(gone);
	free(now);
	store_account_list_free(&list, n);
	return 0;
}

void
daemon_sched_set_poll(struct daemon_sched *d, int poll_s)
{
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	d->poll_s = poll_s;
	for (i = 0; i < d->n; i++)
		if (!d->w[i]->running && d->w[i]->runs > 0 &&
		    d->w[i]->failures == 0)
			plan_next(d->w[i]);
	pthread_cond_signal(&d->sched_cv);
	pthread_mutex_unlock(&d->mu);
}

void
daemon_sched_plans(struct daemon_sched *d, struct daemon_plan **plans_r,
    size_t *n_r)
{
	struct daemon_plan *p = NULL;
	size_t i;

	*plans_r = NULL;
	*n_r = 0;
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->mu);
	if (d->n > 0)
		p = xcalloc(d->n, sizeof(*p));
	for (i = 0; i < d->n; i++) {
		p[i].acct = d->w[i]->acct;
		p[i].next = d->w[i]->next;
		p[i].running = d->w[i]->running;
	}
	*n_r = d->n;
	pthread_mutex_unlock(&d->mu);
	*plans_r = p;
}

/* A progress line for w (under d->mu): DAEMON_CTL_PROGRESS's numbers. */
static void
progress_line(struct sched_worker *w, char *out, size_t len)
{
	snprintf(out, len, DAEMON_CTL_PROGRESS " %llu %llu %llu %llu %s\t%s",
	    (unsigned long long)w->msgs_done,
	    (unsigned long long)w->msgs_total,
	    (unsigned long long)w->bytes_done,
	    (unsigned long long)w->bytes_total, w->name, w->folder);
}

/* 1 if cancel_fd is readable (the client asked to stop waiting). */
static int
cancelled(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return fd >= 0 && poll(&p, 1, 0) > 0;
}

int
daemon_sched_sync_now(struct daemon_sched *d, const char *name, int cancel_fd,
    void (*line)(void *arg, const char *text), void *arg)
{
	unsigned *want, *seen, *prog0;
	char text[600];
	struct timespec ts;
	int64_t last_line = 0;
	size_t i, left = 0;
	int failed = 0, any = 0;

	/* Indexes into the set stay valid while this waits: only
	 * daemon_sched_accounts() changes it, and the daemon runs one
	 * operation at a time (service.c). */
	want = xcalloc(d->n + 1, sizeof(*want));
	seen = xcalloc(d->n + 1, sizeof(*seen));
	prog0 = xcalloc(d->n + 1, sizeof(*prog0));
	pthread_mutex_lock(&d->mu);
	for (i = 0; i < d->n; i++) {
		if (name != NULL && strcmp(d->w[i]->name, name) != 0)
			continue;
		any = 1;
		/* The run going on counts; else a new one starts now. */
		want[i] = d->w[i]->runs + 1;
		prog0[i] = d->w[i]->prog_seq;
		if (!d->w[i]->running)
			wake(d->w[i]);
		left++;
	}
	while (left > 0 && !d->stopping && !cancelled(cancel_fd)) {
		left = 0;
		for (i = 0; i < d->n; i++) {
			struct sched_worker *w = d->w[i];

			if (want[i] == 0)
				continue;
			if (w->runs >= want[i]) {
				/* The run's last numbers (if it got as far
				 * as a folder), then the sentence. */
				if (w->prog_seq != prog0[i]) {
					progress_line(w, text, sizeof(text));
					line(arg, text);
				}
				if (w->last_err[0] != '\0')
					snprintf(text, sizeof(text), "%s: FAILED: "
					    "%s", w->name, w->last_err);
				else
					snprintf(text, sizeof(text), "%s: done: "
					    "%llu new", w->name,
					    (unsigned long long)w->pulled);
				failed |= w->last_err[0] != '\0';
				want[i] = 0;
				line(arg, text);
				continue;
			}
			left++;
			if (w->seq != seen[i] && w->running &&
			    now_ms() - last_line >= LINE_EVERY_MS) {
				seen[i] = w->seq;
				last_line = now_ms();
				progress_line(w, text, sizeof(text));
				line(arg, text);
			}
		}
		if (left == 0)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&d->cv, &d->mu, &ts);
	}
	pthread_mutex_unlock(&d->mu);
	free(want);
	free(seen);
	free(prog0);
	if (!any)
		return DAEMON_SCHED_NOACCT;
	return failed || left > 0 ? -1 : 0;
}

static void
here_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level >= SYNC_LOG_LVL_INFO)
		fprintf(stderr, "mailvault: sync (asked): %s\n", msg);
}

/* A sync run in the control thread passes its numbers on as it goes. */
struct here_arg {
	void		(*line)(void *arg, const char *text);
	void		*arg;
	const char	*name;
};

static void
here_progress(void *arg, const struct sync_progress *p)
{
	struct here_arg *h = arg;
	char text[600];

	snprintf(text, sizeof(text), DAEMON_CTL_PROGRESS " %llu %llu %llu "
	    "%llu %s\t%s", (unsigned long long)p->msgs_done,
	    (unsigned long long)p->msgs_total,
	    (unsigned long long)p->bytes_done,
	    (unsigned long long)p->bytes_total, h->name,
	    p->folder != NULL ? p->folder : "");
	h->line(h->arg, text);
}

int
daemon_sync_here(struct store *st, int64_t acct, const char *name,
    int cancel_fd, void (*line)(void *arg, const char *text), void *arg)
{
	struct here_arg h = { line, arg, name };
	struct sync_opts so = { here_progress, here_log, &h, cancel_fd, 0,
	    NULL };
	struct sync_stats stats;
	char err[SYNC_ERRMSG_LEN], text[700];

	memset(&stats, 0, sizeof(stats));
	err[0] = '\0';
	if (sync_account(st, acct, &so, &stats, err, sizeof(err)) !=
	    SYNC_OK) {
		snprintf(text, sizeof(text), "%s: FAILED: %s", name,
		    err[0] ? err : "the sync failed");
		line(arg, text);
		return -1;
	}
	snprintf(text, sizeof(text), "%s: done: %llu new, %llu flag changes "
	    "in, %llu out", name, (unsigned long long)stats.pulled,
	    (unsigned long long)stats.flags_in,
	    (unsigned long long)stats.flags_out);
	line(arg, text);
	return 0;
}
