/*
 * syncd: the background sync of `mailvault serve`. One thread per account
 * that has an upstream, each with its own store handle, runs the sync
 * engine's watch loop: sync at start, then again when IDLE reports new
 * mail or the poll interval passes, with backoff after failures. Stopping
 * writes to a pipe every loop polls, so in-flight batches finish or roll
 * back and nothing is lost.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

struct syncd_worker {
	pthread_t	 thread;
	struct store	*st;		/* the thread's own handle */
	int64_t		 acct;
	char		*name;
	int		 cancel_fd;
};

struct cli_syncd {
	struct syncd_worker *w;
	size_t		 n;
	int		 pipe[2];	/* [1] closed to stop every worker */
};

static void
worker_log(void *arg, int level, const char *msg)
{
	struct syncd_worker *w = arg;

	if (level == SYNC_LOG_LVL_DEBUG)
		return;
	fprintf(stderr, "mailvault: sync %s: %s\n", w->name, msg);
}

static void *
worker_run(void *arg)
{
	struct syncd_worker *w = arg;
	struct sync_opts o = { NULL, worker_log, w, w->cancel_fd, 0 };

	sync_account_watch(w->st, w->acct, &o);
	return NULL;
}

int
cli_syncd_start(struct store *st, struct cli_syncd **d_r)
{
	struct cli_syncd *d = xcalloc(1, sizeof(*d));
	struct store_account *accts;
	struct syncd_worker *w;
	size_t n, i;

	if (pipe(d->pipe) < 0) {
		free(d);
		return cli_error("cannot start the sync threads: out of file "
		    "descriptors"), -1;
	}
	if (store_account_list(st, &accts, &n) < 0) {
		cli_error("%s", store_errmsg(st));
		cli_syncd_stop(&d);
		return -1;
	}
	d->w = xcalloc(n + 1, sizeof(*d->w));
	for (i = 0; i < n; i++) {
		if (!sync_account_has_upstream(st, accts[i].id))
			continue;
		w = &d->w[d->n];
		if (store_open_shared(st, &w->st) < 0) {
			cli_error("%s", store_errmsg(st));
			continue;
		}
		w->acct = accts[i].id;
		w->name = xstrdup(accts[i].name);
		w->cancel_fd = d->pipe[0];
		if (pthread_create(&w->thread, NULL, worker_run, w) != 0) {
			cli_error("cannot start the sync of %s", w->name);
			store_close(&w->st);
			free(w->name);
			continue;
		}
		fprintf(stderr, "mailvault: syncing %s in the background\n",
		    w->name);
		d->n++;
	}
	store_account_list_free(&accts, n);
	*d_r = d;
	return 0;
}

void
cli_syncd_stop(struct cli_syncd **dp)
{
	struct cli_syncd *d = *dp;
	size_t i;

	if (d == NULL)
		return;
	/* A closed write end makes the read end readable for every poller. */
	close(d->pipe[1]);
	for (i = 0; i < d->n; i++) {
		pthread_join(d->w[i].thread, NULL);
		store_close(&d->w[i].st);
		free(d->w[i].name);
	}
	close(d->pipe[0]);
	free(d->w);
	free(d);
	*dp = NULL;
}
