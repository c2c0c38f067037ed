/*
 * engine_pop3: fetching from a POP3 maildrop into the account's INBOX.
 *
 * A message is known by its UIDL (or the driver's header-hash stand-in).
 * Each new one is streamed into INBOX and committed together with its
 * UIDL, so a crash between the two cannot happen and nothing is fetched
 * twice. The delete policy is applied to known messages: keep (the
 * default), delete once fetched (keep = no), or delete N days after the
 * fetch (delete-after-days). DELE takes effect at QUIT only, so a
 * connection lost before QUIT deletes nothing and the next run deletes
 * again. UIDLs the server no longer lists are forgotten, but only those:
 * a message deleted in a session whose QUIT failed is still listed, still
 * known, and not fetched again.
 */
#include "sync/engine_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

#define DAY	86400

struct pop3_fetch {
	struct sync_run	*r;
	int64_t		 inbox;
	const char	*uidl;
	struct store_append *ap;
	uint64_t	 size;
	int		 failed;
};

static int
p_msg(void *arg, const struct sync_msg_info *mi)
{
	struct pop3_fetch *pf = arg;
	struct store_append_opts o;

	if (sync_run_cancelled(pf->r))
		return -1;
	memset(&o, 0, sizeof(o));
	pf->size = mi->size;
	if (store_append_begin(pf->r->st, pf->inbox, &o, &pf->ap) != 0) {
		pf->failed = 1;
		return sync_run_store_err(pf->r, "store a message");
	}
	return 0;
}

static int
p_body(void *arg, const void *data, size_t n)
{
	struct pop3_fetch *pf = arg;

	if (store_append_write(pf->ap, data, n) != 0) {
		pf->failed = 1;
		return sync_run_store_err(pf->r, "store a message");
	}
	pf->r->prog.bytes_done += n;
	sync_run_progress(pf->r, 0);
	return 0;
}

/* The message and its UIDL, in one transaction. */
static int
p_end(void *arg)
{
	struct pop3_fetch *pf = arg;
	struct sync_run *r = pf->r;
	uint32_t uid;

	if (store_txn_begin(r->st) != 0 ||
	    store_append_commit(&pf->ap, &uid) != 0 ||
	    store_sync_pop3_put(r->st, r->acct, pf->uidl,
	    (int64_t)time(NULL)) != 0 ||
	    store_txn_commit(r->st) != 0) {
		store_txn_rollback(r->st);
		pf->failed = 1;
		return sync_run_store_err(r, "store a message");
	}
	r->stats->pulled++;
	r->stats->pulled_bytes += pf->size;
	r->prog.msgs_done++;
	sync_run_progress(r, 0);
	return 0;
}

/* A message-scope error is skipped; anything wider ends the run. */
static int
msg_error(struct sync_run *r, const struct sync_error *err, const char *what)
{
	if (err->scope != SYNC_SCOPE_MESSAGE) {
		r->err = *err;
		return -1;
	}
	sync_run_log(r, SYNC_LOG_WARN, "%s: %s", what, err->msg);
	r->stats->errors++;
	return 0;
}

static int
fetch_one(struct sync_run *r, int64_t inbox, const struct sync_pop3_msg *m)
{
	struct pop3_fetch pf = { r, inbox, m->uidl, NULL, 0, 0 };
	struct sync_fetch_cb cb = { &pf, p_msg, p_body, p_end, NULL };
	struct sync_error err;
	int rc;

	rc = r->d->ops->pop3_retr(r->d, m->msgno, &cb, &err);
	store_append_abort(&pf.ap);
	if (rc == 0)
		return 0;
	if (pf.failed)
		return -1;
	return msg_error(r, &err, m->uidl);
}

struct policy {
	int	 keep;
	uint64_t days;
};

static void
load_policy(struct sync_run *r, struct policy *pol)
{
	char *v = NULL;

	pol->keep = 1;
	pol->days = 0;
	if (store_account_get(r->st, r->acct, SYNC_KEY_KEEP, &v, NULL) == 0 &&
	    strcmp(v, "no") == 0)
		pol->keep = 0;
	free(v);
	v = NULL;
	if (store_account_get(r->st, r->acct, SYNC_KEY_DELETE_DAYS, &v,
	    NULL) == 0 && parse_u64(v, 36500, &pol->days) != 0)
		pol->days = 0;
	free(v);
}

static int
dele(struct sync_run *r, const struct sync_pop3_msg *m)
{
	struct sync_error err;

	if (r->d->ops->pop3_dele(r->d, m->msgno, &err) != 0)
		return msg_error(r, &err, m->uidl);
	r->stats->deleted_pop3++;
	return 0;
}

int
sync_pop3_run(struct sync_run *r)
{
	struct sync_pop3_msg *list = NULL;
	struct store_mailbox mb;
	struct sync_error err;
	struct policy pol;
	const char **present;
	char *isnew;
	int64_t fetched, now = (int64_t)time(NULL);
	size_t n = 0, i;
	int rc = 0;

	if (store_mailbox_find(r->st, r->acct, "INBOX", &mb) != 0)
		return sync_run_store_err(r, "find INBOX");
	store_mailbox_clear(&mb);
	load_policy(r, &pol);
	r->prog.folder = "INBOX";
	if (r->d->ops->pop3_list(r->d, &list, &n, &err) != 0) {
		r->err = err;
		return -1;
	}
	isnew = xcalloc(n + 1, 1);
	present = xcalloc(n + 1, sizeof(*present));
	for (i = 0; i < n; i++) {
		present[i] = list[i].uidl;
		if (store_sync_pop3_get(r->st, r->acct, list[i].uidl,
		    NULL) == STORE_ENOENT) {
			isnew[i] = 1;
			r->prog.msgs_total++;
			r->prog.bytes_total += list[i].size;
		}
	}
	sync_run_progress(r, 1);
	for (i = 0; i < n && rc == 0; i++) {
		if (isnew[i]) {
			rc = fetch_one(r, mb.id, &list[i]);
			if (rc == 0 && !pol.keep &&
			    store_sync_pop3_get(r->st, r->acct, list[i].uidl,
			    NULL) == 0)
				rc = dele(r, &list[i]);
			continue;
		}
		if (store_sync_pop3_get(r->st, r->acct, list[i].uidl,
		    &fetched) != 0)
			continue;
		if (!pol.keep || (pol.days > 0 &&
		    now - fetched >= (int64_t)pol.days * DAY))
			rc = dele(r, &list[i]);
	}
	if (rc == 0 && store_sync_pop3_prune(r->st, r->acct, present, n) != 0)
		rc = sync_run_store_err(r, "forget old UIDLs");
	free(present);
	free(isnew);
	sync_pop3_list_free(&list, n);
	r->prog.folder = NULL;
	return rc;
}
