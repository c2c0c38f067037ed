/*
 * engine: one account's sync, from its settings to its summary.
 *
 * sync_account() reads the account's sealed settings, makes the driver
 * for its protocol and hands over to sync_account_with(), which unit
 * tests call with the fake driver (tests/unit/sync_fake.h). For IMAP the
 * run is: connect; follow folder creates, renames and deletes both ways
 * (below); then each paired folder in turn, INBOX first
 * (sync/engine_folder.c). For POP3 it is sync/engine_pop3.c. The run ends
 * by saving last-sync and last-error in the account's settings for
 * `mailvault status`.
 *
 * Folders are paired by name (struct store_sync_folder, whose sealed name
 * is the remote name as last synced), which tells every case apart:
 *  - a pair whose local mailbox is gone: deleted here, delete upstream
 *    what came from here (deleted_here());
 *  - a pair whose mailbox has another name: renamed here, rename upstream
 *    (or, if upstream already has the new name, a rename a crash
 *    interrupted before it was recorded);
 *  - a pair whose remote name has disappeared: renamed upstream if a new
 *    remote folder has its UIDVALIDITY (servers keep it across RENAME)
 *    and its messages under their UIDs, and no other vanished folder's
 *    (renamed_to), so rename here and keep every message; else, once
 *    SELECT confirms it is gone, deleted upstream: delete here what came
 *    from it (delete_local()); a pair never synced (no UIDVALIDITY yet)
 *    had nothing from upstream, so it is only forgotten, never deleted;
 *  - a remote folder without a pair: new upstream, make it here (or pair
 *    it with a local mailbox of that name, on a first sync);
 *  - a local mailbox without a pair: new here, create it upstream.
 * Every step is idempotent (a create that finds the folder is done, a
 * delete that finds none is done), so a crash anywhere resumes cleanly.
 *
 * THE LAST-COPY RULE. No local message is deleted because of something
 * upstream unless the engine has seen that message's own upstream copy
 * removed; no upstream message is expunged because of something local
 * unless it was deleted here; anything else is said in the log and left
 * alone. Every path of sync/ that deletes, and the evidence it needs:
 *
 *  here, for something upstream
 *  - remote_gone() (engine_folder.c) expunges a message whose bound
 *    remote UID, under the folder's current UIDVALIDITY, the server
 *    reported expunged: VANISHED (QRESYNC), or absent from a complete
 *    UID listing (UID SEARCH ALL; a FLAGS scan that misses a UID is
 *    confirmed by one first).
 *  - delete_local() (here) expunges, in a folder not listed and that
 *    SELECT says is gone and no rename explains, only the messages bound
 *    to that pair under its UIDVALIDITY; a message made, moved or copied
 *    here since has no other copy and stays, with the mailbox, which is
 *    made upstream again. A remote rename onto a name taken here deletes
 *    nothing (rename_blocked()).
 *  - A UIDVALIDITY change deletes nothing: messages are matched again by
 *    Message-ID and size, then by content; the rest are sent again.
 *
 *  upstream, for something here
 *  - push_expunges() (engine_folder.c) expunges bound remote UIDs (same
 *    UIDVALIDITY) whose local message was expunged here since the last
 *    push (its tombstone); not while its content waits in another paired
 *    mailbox to be moved there (the MOVE takes it, or the next push).
 *  - move_group() MOVEs a source whose local copy is gone (moved away
 *    here) into the folder that holds its content; a moved source the
 *    server did not copy (expunge_uncopied()), and one whose destination
 *    the pull bound by content (retire_sources()), are expunged: their
 *    local copies were deleted here.
 *  - deleted_here() (here), for a mailbox deleted here: SELECT first;
 *    expunges the UIDs below the pair's uidnext (pulled from or pushed
 *    to it, so deleted here with it; less messages the server refused to
 *    give, never fetched) and DELETEs the folder only if nothing else is
 *    in it. Mail that arrived since stays, and the folder comes back
 *    here; a folder renumbered since, or never synced, stays whole.
 *  - engine_pop3.c DELEs only a UIDL whose message was committed here in
 *    the same transaction as the UIDL, and only as the account's policy
 *    says (keep no, delete-after-days); DELE takes effect at QUIT.
 *  - The IMAP driver (up_imap_ops.c), without UIDPLUS, sends a plain
 *    EXPUNGE only when no other message is marked \Deleted.
 * RENAME, CREATE, APPEND, COPY and flag changes destroy nothing. The
 * unit tests (tests/unit/test_sync_engine.c, "lastcopy") show each path,
 * also cut at every step; tests/integration/test_sync_history.py checks
 * the whole contract against Dovecot and Cyrus with random histories.
 *
 * Failures are handled by their class alone: message and folder scope are
 * logged, counted and left for the next run; account scope ends the run.
 *
 * A resync with nothing to do must cost little: with LIST-STATUS the one
 * LIST tells each folder's UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and count,
 * and a folder where they match the last sync and nothing changed locally
 * is not selected at all; nothing is written to the store either.
 */
#include "sync/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

#define PROGRESS_MS	200
#define BACKOFF_MIN_MS	(30 * 1000)
#define BACKOFF_MAX_MS	(30 * 60 * 1000)
#define POLL_DEFAULT_S	300

/* ---- settings -------------------------------------------------------------- */

static const char *const settable[] = {
	SYNC_KEY_HOST, SYNC_KEY_PORT, SYNC_KEY_USER, SYNC_KEY_TLS,
	SYNC_KEY_PIN, SYNC_KEY_CA_FILE, SYNC_KEY_OAUTH_CMD, SYNC_KEY_KEEP,
	SYNC_KEY_DELETE_DAYS, SYNC_KEY_SKIP, SYNC_KEY_POLL,
};

int
sync_setting_is_secret(const char *key)
{
	return strcmp(key, SYNC_KEY_PASSWORD) == 0;
}

int
sync_setting_check(const char *key, const char *value, char *err,
    size_t errlen)
{
	uint64_t n;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(settable); i++)
		if (strcmp(key, settable[i]) == 0)
			break;
	if (i == ARRAY_SIZE(settable))
		return seterr(err, errlen, -1, "'%s' is not a setting that "
		    "can be changed; settable: password (asked for, never "
		    "on the command line), host, port, user, tls, pin-sha256, "
		    "ca-file, oauth-token-command, keep, delete-after-days, "
		    "skip-folders, poll-interval", key);
	if (strcmp(key, SYNC_KEY_PORT) == 0 &&
	    (parse_u64(value, 65535, &n) != 0 || n == 0))
		return seterr(err, errlen, -1, "port needs a number from 1 to "
		    "65535, not '%s'", value);
	if (strcmp(key, SYNC_KEY_TLS) == 0 && strcmp(value, "implicit") != 0 &&
	    strcmp(value, "starttls") != 0 && strcmp(value, "none") != 0)
		return seterr(err, errlen, -1, "tls is implicit, starttls or "
		    "none, not '%s'", value);
	if (strcmp(key, SYNC_KEY_KEEP) == 0 && strcmp(value, "yes") != 0 &&
	    strcmp(value, "no") != 0)
		return seterr(err, errlen, -1, "keep is yes (leave messages "
		    "on the server) or no (delete them once fetched), not "
		    "'%s'", value);
	if (strcmp(key, SYNC_KEY_DELETE_DAYS) == 0 &&
	    parse_u64(value, 36500, &n) != 0)
		return seterr(err, errlen, -1, "delete-after-days needs a "
		    "number of days (0: never), not '%s'", value);
	if (strcmp(key, SYNC_KEY_POLL) == 0 &&
	    (parse_u64(value, 86400 * 7, &n) != 0 || n < 10))
		return seterr(err, errlen, -1, "poll-interval needs a number "
		    "of seconds, at least 10, not '%s'", value);
	return 0;
}

static char *
setting(struct store *st, int64_t acct, const char *key)
{
	char *v = NULL;

	if (store_account_get(st, acct, key, &v, NULL) != 0)
		return NULL;
	return v;
}

int
sync_account_has_upstream(struct store *st, int64_t acct)
{
	char *v = setting(st, acct, SYNC_KEY_PROTO);
	int yes = v != NULL && v[0] != '\0';

	free(v);
	return yes;
}

/* The account's settings as a driver configuration; strings owned here. */
struct cfg_hold {
	struct sync_account_cfg cfg;
	char	*name, *proto, *host, *port, *user, *password, *tls, *ca,
		*pin, *oauth;
};

static void
cfg_free(struct cfg_hold *h)
{
	free(h->name);
	free(h->proto);
	free(h->host);
	free(h->port);
	free(h->user);
	store_secret_free(&h->password);
	free(h->tls);
	free(h->ca);
	free(h->pin);
	free(h->oauth);
}

static int
cfg_load(struct store *st, int64_t acct, const char *name,
    const struct sync_opts *o, struct cfg_hold *h, char *err, size_t errlen)
{
	uint64_t port = 0;

	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	h->proto = setting(st, acct, SYNC_KEY_PROTO);
	h->host = setting(st, acct, SYNC_KEY_HOST);
	h->port = setting(st, acct, SYNC_KEY_PORT);
	h->user = setting(st, acct, SYNC_KEY_USER);
	h->password = setting(st, acct, SYNC_KEY_PASSWORD);
	h->tls = setting(st, acct, SYNC_KEY_TLS);
	h->ca = setting(st, acct, SYNC_KEY_CA_FILE);
	h->pin = setting(st, acct, SYNC_KEY_PIN);
	h->oauth = setting(st, acct, SYNC_KEY_OAUTH_CMD);
	if (h->proto == NULL || h->host == NULL || h->user == NULL)
		return seterr(err, errlen, -1, "account %s has no upstream "
		    "server: add one with 'mailvault account add'", name);
	if (h->port != NULL && parse_u64(h->port, 65535, &port) != 0)
		return seterr(err, errlen, -1, "account %s: the port '%s' is "
		    "not a number", name, h->port);
	h->cfg.name = h->name;
	h->cfg.proto = strcmp(h->proto, "pop3") == 0 ? SYNC_PROTO_POP3 :
	    SYNC_PROTO_IMAP;
	h->cfg.host = h->host;
	h->cfg.port = (unsigned)port;
	h->cfg.tls = h->tls == NULL || strcmp(h->tls, "implicit") == 0 ?
	    SYNC_TLS_IMPLICIT : strcmp(h->tls, "starttls") == 0 ?
	    SYNC_TLS_STARTTLS : SYNC_TLS_NONE;
	h->cfg.user = h->user;
	h->cfg.password = h->password;
	h->cfg.ca_file = h->ca;
	h->cfg.pin_sha256 = h->pin;
	h->cfg.oauth_token_command = h->oauth;
	h->cfg.timeout_ms = o->timeout_ms;
	h->cfg.cancel_fd = o->cancel_fd;
	h->cfg.log = o->log;
	h->cfg.log_arg = o->arg;
	if (h->password == NULL && h->oauth == NULL)
		return seterr(err, errlen, -1, "account %s has no password "
		    "or oauth-token-command", name);
	return 0;
}

/* ---- the run's helpers -------------------------------------------------------- */

void
sync_run_progress(struct sync_run *r, int force)
{
	struct sync_progress p;
	int64_t now;

	if (r->o->progress == NULL)
		return;
	now = now_ms();
	if (!force && now - r->prog.last_ms < PROGRESS_MS)
		return;
	r->prog.last_ms = now;
	memset(&p, 0, sizeof(p));
	p.account = r->acct_name;
	p.folder = r->prog.folder;
	p.msgs_done = r->prog.msgs_done;
	p.msgs_total = r->prog.msgs_total;
	p.bytes_done = r->prog.bytes_done;
	p.bytes_total = r->prog.bytes_total;
	r->o->progress(r->o->arg, &p);
}

void
sync_run_log(struct sync_run *r, int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (r->o->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->o->log(r->o->arg, level, line);
}

int
sync_run_store_err(struct sync_run *r, const char *doing)
{
	return sync_error_set(&r->err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
	    SYNC_EK_LOCAL, "could not %s in the store: %s", doing,
	    store_errmsg(r->st));
}

int
sync_run_cancelled(struct sync_run *r)
{
	struct pollfd pfd;

	if (r->o->cancel_fd < 0)
		return 0;
	pfd.fd = r->o->cancel_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) == 1) {
		sync_error_set(&r->err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    SYNC_EK_CANCELLED, "the sync was cancelled");
		return 1;
	}
	return 0;
}

/* ---- folders ------------------------------------------------------------------ */

static int
skipped(struct sync_run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nskip; i++)
		if (strcmp(r->skip[i], name) == 0)
			return 1;
	return 0;
}

static void
load_skip(struct sync_run *r)
{
	char *v = setting(r->st, r->acct, SYNC_KEY_SKIP), *p, *e;

	if (v == NULL)
		return;
	for (p = v; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		while (p < e && *p == ' ')
			p++;
		if (e > p) {
			r->skip = xreallocarray(r->skip, r->nskip + 1,
			    sizeof(*r->skip));
			r->skip[r->nskip] = xstrndup(p, (size_t)(e - p));
			while (r->skip[r->nskip][0] != '\0' &&
			    r->skip[r->nskip][strlen(r->skip[r->nskip]) - 1]
			    == ' ')
				r->skip[r->nskip][strlen(r->skip[r->nskip]) -
				    1] = '\0';
			r->nskip++;
		}
	}
	free(v);
}

/* What the folder phase works from. */
struct fview {
	struct sync_folder *remote;
	size_t		 nremote;
	char		*rpaired;	/* per remote folder: has a pair */
	char		*contested;	/* per remote folder: two vanished
					 * pairs' messages are in it */
	struct store_mailbox *local;
	size_t		 nlocal;
	char		*lpaired;
	int		 looked;	/* statuses asked for (renames) */
};

static ssize_t
remote_index(const struct fview *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nremote; i++)
		if (strcmp(v->remote[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
local_index_by_id(const struct fview *v, int64_t id)
{
	size_t i;

	for (i = 0; i < v->nlocal; i++)
		if (v->local[i].id == id)
			return (ssize_t)i;
	return -1;
}

static ssize_t
local_index_by_name(const struct fview *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->nlocal; i++)
		if (strcmp(v->local[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* 1 if some remote folder lies below name. */
static int
remote_has_child(const struct fview *v, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < v->nremote; i++)
		if (strncmp(v->remote[i].name, name, n) == 0 &&
		    v->remote[i].name[n] == '/')
			return 1;
	return 0;
}

/* name after renaming from (children included) to to: a new string
 * the caller frees, or NULL when the rename does not touch name. */
static char *
renamed(const char *name, const char *from, const char *to)
{
	size_t n = strlen(from);

	if (strcmp(name, from) == 0)
		return xstrdup(to);
	if (strncmp(name, from, n) == 0 && name[n] == '/')
		return xasprintf("%s%s", to, name + n);
	return NULL;
}

/* A remote rename of from to to, children included, in our view. */
static void
view_rename(struct fview *v, const char *from, const char *to)
{
	size_t i;
	char *nn;

	for (i = 0; i < v->nremote; i++)
		if ((nn = renamed(v->remote[i].name, from, to)) != NULL) {
			free(v->remote[i].name);
			v->remote[i].name = nn;
		}
}

/* A folder-scope failure: logged and counted; the run goes on. Account
 * scope: the run stops. */
static int
folder_error(struct sync_run *r, const struct sync_error *err,
    const char *what)
{
	if (err->scope == SYNC_SCOPE_ACCOUNT) {
		r->err = *err;
		return -1;
	}
	sync_run_log(r, SYNC_LOG_WARN, "%s: %s", what, err->msg);
	r->stats->errors++;
	return 0;
}

/*
 * Expunge the messages of pair p's mailbox whose upstream copies went
 * with its folder (bound in p under its UIDVALIDITY), unless that is all
 * of them (the caller then deletes the mailbox). *kept_r: how many have
 * no such copy. 0, or -1 with r->err set.
 */
static int
expunge_synced(struct sync_run *r, const struct store_sync_folder *p,
    size_t *kept_r)
{
	struct store_msg *msgs;
	struct store_sync_msg m;
	uint32_t *gone;
	size_t n, i, ngone = 0;
	int rc = 0;

	*kept_r = 0;
	if (store_msg_list(r->st, p->mailbox, 0, &msgs, &n) != 0)
		return sync_run_store_err(r, "list a mailbox");
	gone = xcalloc(n + 1, sizeof(*gone));
	for (i = 0; i < n; i++)
		if (store_sync_msg_get(r->st, p->mailbox, msgs[i].uid,
		    &m) == 0 && m.state == STORE_SYNC_BOUND &&
		    m.folder == p->id && m.ruidvalidity == p->uidvalidity)
			gone[ngone++] = msgs[i].uid;
		else
			(*kept_r)++;
	free(msgs);
	if (*kept_r > 0 && ngone > 0 &&
	    store_msg_expunge(r->st, p->mailbox, gone, ngone) != 0)
		rc = sync_run_store_err(r, "expunge messages");
	r->stats->expunged_in += rc == 0 && *kept_r > 0 ? ngone : 0;
	free(gone);
	return rc;
}

/*
 * Pair p's folder was deleted upstream. The last-copy rule: a message
 * whose upstream copy went with the folder goes here too, but one made,
 * copied or moved here since the last sync has no other copy, so it
 * stays, and with it the mailbox: the pair is forgotten and the mailbox
 * made upstream again as a new folder by follow_new().
 */
static int
delete_local(struct sync_run *r, struct fview *v, struct store_sync_folder *p,
    ssize_t li, const char *name)
{
	size_t kept = 0;

	if (strcmp(name, "INBOX") != 0 && expunge_synced(r, p, &kept) != 0)
		return -1;
	if (strcmp(name, "INBOX") != 0 && kept == 0 &&
	    store_mailbox_delete(r->st, p->mailbox) != 0)
		return sync_run_store_err(r, "delete a mailbox");
	if (store_sync_folder_delete(r->st, p->id) != 0)
		return sync_run_store_err(r, "forget a folder");
	if (kept > 0) {
		v->lpaired[li] = 0;
		sync_run_log(r, SYNC_LOG_WARN, "%s: gone upstream; %zu "
		    "message%s made here since the last sync %s kept, and the "
		    "folder is made there again", name, kept, kept == 1 ? "" :
		    "s", kept == 1 ? "is" : "are");
	} else
		sync_run_log(r, SYNC_LOG_INFO, "%s: gone upstream, deleted "
		    "here", name);
	r->stats->folders_in++;
	return 0;
}

/*
 * Pair p's folder is not upstream, and no sync of it ever saw it there
 * (no UIDVALIDITY): a CREATE that a server claimed and did not do, or a
 * new remote folder gone before its first sync. Nothing of the local
 * mailbox came from upstream, so nothing is deleted: the pair is
 * forgotten and the mailbox is made upstream again as a new one.
 */
static int
never_synced(struct sync_run *r, struct fview *v, struct store_sync_folder *p,
    ssize_t li)
{
	if (store_sync_folder_delete(r->st, p->id) != 0)
		return sync_run_store_err(r, "forget a folder");
	v->lpaired[li] = 0;
	sync_run_log(r, SYNC_LOG_WARN, "%s: not upstream, and never synced "
	    "with it; kept here, to be created there again", p->name);
	return 0;
}

/* 1 if some pair of the run has this remote name. */
static int
pair_named(const struct sync_run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->npairs; i++)
		if (strcmp(r->pairs[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Learn the status of every remote folder that no pair claims, for
 * telling renames from deletes: free with LIST-STATUS, else one SELECT
 * each (only on a run where some paired folder disappeared). 0, or -1
 * with r->err set for an account-scope failure.
 */
static int
look_at_new(struct sync_run *r, struct fview *v)
{
	struct sync_folder_status fst;
	struct sync_error err;
	size_t i;

	if (v->looked)
		return 0;
	v->looked = 1;
	for (i = 0; i < v->nremote; i++) {
		struct sync_folder *f = &v->remote[i];

		if (f->status_ok || v->rpaired[i] ||
		    (f->attrs & SYNC_FA_NOSELECT) || pair_named(r, f->name))
			continue;
		if (r->d->ops->select(r->d, f->name, &fst, &err) != 0) {
			if (err.scope == SYNC_SCOPE_ACCOUNT) {
				r->err = err;
				return -1;
			}
			continue;
		}
		f->status_ok = 1;
		f->uidvalidity = fst.uidvalidity;
		f->uidnext = fst.uidnext;
		f->messages = fst.exists;
		f->highestmodseq = fst.highestmodseq;
	}
	return 0;
}

/* 1 if remote folder i could be pair p's folder under a new name: not
 * claimed, selectable, p's UIDVALIDITY, a UIDNEXT not behind p's. */
static int
candidate(struct sync_run *r, const struct fview *v, size_t i,
    const struct store_sync_folder *p)
{
	const struct sync_folder *f = &v->remote[i];

	return f->status_ok && !v->rpaired[i] && !v->contested[i] &&
	    !(f->attrs & SYNC_FA_NOSELECT) && !skipped(r, f->name) &&
	    !pair_named(r, f->name) &&
	    ascii_strcasecmp(f->name, "INBOX") != 0 &&
	    f->uidvalidity == p->uidvalidity &&
	    (f->uidnext == 0 || f->uidnext >= p->uidnext);
}

/* 1 if another pair whose folder is gone too has messages in remote
 * folder name; 0 if none; -1 account-scope failure. */
static int
claimed_by_other(struct sync_run *r, const struct fview *v,
    const struct store_sync_folder *p, const char *name)
{
	size_t i;
	int same;

	for (i = 0; i < r->npairs; i++) {
		const struct store_sync_folder *q = &r->pairs[i];

		if (q->id == p->id || q->mailbox == 0 ||
		    q->uidvalidity != p->uidvalidity ||
		    remote_index(v, q->name) >= 0)
			continue;
		if ((same = sync_folder_same(r, q, name)) == -2)
			return -1;
		if (same == 1)
			return 1;
	}
	return 0;
}

/*
 * The remote folder that pair p's folder was renamed to, or -1. IMAP has
 * no rename notice. Servers keep a folder's UIDVALIDITY and UIDs across
 * RENAME (Dovecot, Cyrus; RFC 3501 allows it) and UIDNEXT never goes
 * back, but a UIDVALIDITY alone can collide: Cyrus gives folders made in
 * the same second the same one. So a candidate must also hold p's own
 * messages under their UIDs (sync_folder_same), be the only one that
 * does, and hold no messages of another pair that is gone too (then it
 * stays contested for the rest of the run); otherwise it is no rename.
 * -2: account-scope failure.
 */
static ssize_t
renamed_to(struct sync_run *r, struct fview *v,
    const struct store_sync_folder *p)
{
	ssize_t found = -1;
	size_t i;
	int same;

	if (p->uidvalidity == 0 || ascii_strcasecmp(p->name, "INBOX") == 0)
		return -1;
	if (look_at_new(r, v) != 0)
		return -2;
	for (i = 0; i < v->nremote; i++) {
		if (!candidate(r, v, i, p))
			continue;
		if ((same = sync_folder_same(r, p, v->remote[i].name)) == -2)
			return -2;
		if (same != 1)
			continue;
		if (found >= 0)
			return -1;	/* two candidates: cannot tell */
		found = (ssize_t)i;
	}
	if (found < 0)
		return -1;
	same = claimed_by_other(r, v, p, v->remote[found].name);
	if (same < 0)
		return -2;
	if (same > 0) {
		/* Nor may the other pair take it once p is gone. */
		v->contested[found] = 1;
		return -1;
	}
	return found;
}

/* Rename local view entries from and its children to to. */
static void
local_view_rename(struct fview *v, const char *from, const char *to)
{
	size_t i;
	char *nn;

	for (i = 0; i < v->nlocal; i++)
		if ((nn = renamed(v->local[i].name, from, to)) != NULL) {
			free(v->local[i].name);
			v->local[i].name = nn;
		}
}

/*
 * Pair p's folder is not listed upstream: before anything here is deleted
 * for it, SELECT says it is really gone (a LIST may leave a folder out: a
 * name the driver cannot express here, a server's quirk). 1: gone; 0: it
 * is there after all, or cannot be told now (said; the pair stays and
 * its folder syncs as usual); -1: account-scope failure.
 */
static int
really_gone(struct sync_run *r, const struct store_sync_folder *p)
{
	struct sync_folder_status fst;
	struct sync_error err;

	if (r->d->ops->select(r->d, p->name, &fst, &err) != 0) {
		if (err.kind == SYNC_EK_NONEXISTENT)
			return 1;
		return folder_error(r, &err, p->name);
	}
	sync_run_log(r, SYNC_LOG_WARN, "%s: not listed by the server, but "
	    "there; nothing is deleted here", p->name);
	return 0;
}

/*
 * A remote rename that cannot be followed here (the new name is taken by
 * a local mailbox): both stay. The pair is forgotten, so follow_new()
 * makes this mailbox upstream again under its own name with its
 * messages; nothing here is deleted for a folder that was not.
 */
static int
rename_blocked(struct sync_run *r, struct fview *v,
    struct store_sync_folder *p, ssize_t li, const char *from,
    const char *to)
{
	if (store_sync_folder_delete(r->st, p->id) != 0)
		return sync_run_store_err(r, "forget a folder");
	v->lpaired[li] = 0;
	sync_run_log(r, SYNC_LOG_WARN, "%s: renamed upstream to %s, which is "
	    "taken here; both are kept, and %s is made upstream again with "
	    "its messages", from, to, from);
	return 0;
}

/*
 * Pair p's remote folder is gone: follow a rename upstream by renaming the
 * local mailbox (its messages, identities and UIDs stay, nothing is
 * fetched again); else, once SELECT confirms it is gone, it was deleted
 * upstream, so delete it here (but keep what has no other copy:
 * delete_local()).
 */
static int
gone_upstream(struct sync_run *r, struct fview *v, struct store_sync_folder *p,
    ssize_t li)
{
	ssize_t ci = renamed_to(r, v, p);
	char *from, *to;
	int rc;

	if (ci == -2)
		return -1;
	if (ci < 0 && p->uidvalidity == 0)
		return never_synced(r, v, p, li);
	if (ci < 0) {
		if ((rc = really_gone(r, p)) <= 0)
			return rc;
		return delete_local(r, v, p, li, v->local[li].name);
	}
	from = xstrdup(v->local[li].name);
	to = xstrdup(v->remote[ci].name);
	/* Both names together (a crash between them would only look like
	 * a local rename the next run finishes, but one commit is neater). */
	if (store_txn_begin(r->st) != 0) {
		free(from);
		free(to);
		return sync_run_store_err(r, "start a transaction");
	}
	rc = store_mailbox_rename(r->st, r->acct, from, to);
	if (rc == 0 && store_sync_folder_set_name(r->st, p->id, to) != 0)
		rc = STORE_ERR;
	if (rc == 0 && store_txn_commit(r->st) != 0)
		rc = STORE_ERR;
	if (rc != 0) {
		if (rc != STORE_EEXIST)
			sync_run_log(r, SYNC_LOG_WARN, "%s: renamed upstream "
			    "to %s, but cannot rename it here: %s", from, to,
			    store_errmsg(r->st));
		store_txn_rollback(r->st);
		rc = rc == STORE_EEXIST ? rename_blocked(r, v, p, li, from,
		    to) : sync_run_store_err(r, "rename a mailbox");
		free(from);
		free(to);
		return rc;
	}
	local_view_rename(v, from, to);
	v->rpaired[ci] = 1;
	sync_run_log(r, SYNC_LOG_INFO, "%s: renamed upstream to %s; renamed "
	    "here too (nothing to download)", from, to);
	free(p->name);
	p->name = to;
	free(from);
	r->stats->folders_in++;
	r->stats->renamed_in++;
	return 0;
}

/* The remote UIDs of the selected folder below p->uidnext, less those
 * the server refused to give (never fetched, so never deleted here):
 * what a mailbox deleted here takes with it upstream. *rest_r: how many
 * other messages the folder holds. 0, or -1 with r->err set. */
static int
known_uids(struct sync_run *r, const struct store_sync_folder *p,
    uint32_t **v_r, size_t *n_r, size_t *rest_r)
{
	struct sync_error err;
	uint32_t *all = NULL, *refused = NULL;
	size_t n = 0, nref = 0, i, j, k = 0;

	if (r->d->ops->list_uids(r->d, &all, &n, &err) != 0) {
		r->err = err;
		return -1;
	}
	if (store_sync_refused_pending(r->st, p->id, p->uidvalidity, UINT_MAX,
	    &refused, &nref) != 0) {
		free(all);
		return sync_run_store_err(r, "list refused messages");
	}
	for (i = 0, j = 0; i < n; i++) {
		while (j < nref && refused[j] < all[i])
			j++;
		if (all[i] < p->uidnext && (j == nref || refused[j] != all[i]))
			all[k++] = all[i];
	}
	free(refused);
	*v_r = all;
	*n_r = k;
	*rest_r = n - k;
	return 0;
}

/* 1 if a DELETE answered as if name were gone (a NO without a code reads
 * so) left it there after all: Cyrus refuses a second DELETE of a name
 * within a second. *err then says so; the pair stays for the next run. */
static int
still_there(struct sync_run *r, const char *name, struct sync_error *err)
{
	struct sync_folder_status fst;
	struct sync_error serr;
	char why[SYNC_ERRMSG_MAX];

	if (r->d->ops->select(r->d, name, &fst, &serr) != 0)
		return 0;
	snprintf(why, sizeof(why), "%s", err->msg);
	sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_LATER, SYNC_EK_OTHER,
	    "the server would not delete the folder (%s); the next sync tries "
	    "again", why);
	return 1;
}

/*
 * Pair p's local mailbox was deleted here: the last-copy rule says only
 * what came from here may go upstream, so SELECT tells what that is.
 * Gone already: the pair is forgotten. Empty: DELETE. Renumbered since
 * the last sync (another UIDVALIDITY), or never synced: nothing in it
 * can be told from mail that arrived since, so it stays whole. Else every
 * UID below p->uidnext was pulled from it or pushed to it (the catch-up
 * after a push sees to our own), and was deleted here with the mailbox:
 * those are expunged, and the folder is deleted if nothing else is in
 * it. What stays upstream comes here again: the pair is forgotten and
 * follow_new() makes the mailbox again for it (said).
 */
static int
deleted_here(struct sync_run *r, struct fview *v, struct store_sync_folder *p,
    ssize_t ri)
{
	struct sync_driver *d = r->d;
	struct sync_folder_status fst;
	struct sync_error err;
	uint32_t *gone = NULL;
	size_t ngone = 0, rest = 0;
	int whole = 0;

	if (ri >= 0 && d->ops->select(d, p->name, &fst, &err) != 0) {
		if (err.kind != SYNC_EK_NONEXISTENT) {
			v->rpaired[ri] = 1;
			return folder_error(r, &err, p->name);
		}
		ri = -1;
	}
	if (ri >= 0 && fst.exists > 0 && (p->uidvalidity == 0 ||
	    fst.uidvalidity != p->uidvalidity)) {
		rest = fst.exists;
		whole = 1;
	} else if (ri >= 0 && fst.exists > 0 &&
	    known_uids(r, p, &gone, &ngone, &rest) != 0)
		return -1;
	if (ngone > 0 && d->ops->expunge(d, gone, ngone, &err) != 0) {
		free(gone);
		v->rpaired[ri] = 1;
		return folder_error(r, &err, p->name);
	}
	free(gone);
	r->stats->expunged_out += ngone;
	if (ri >= 0 && rest == 0) {
		v->rpaired[ri] = 1;	/* gone: do not recreate */
		if (d->ops->delete_folder(d, p->name, &err) != 0 &&
		    (err.kind != SYNC_EK_NONEXISTENT ||
		    still_there(r, p->name, &err)))
			return folder_error(r, &err, p->name);
		r->stats->folders_out++;
	}
	if (store_sync_folder_delete(r->st, p->id) != 0)
		return sync_run_store_err(r, "forget a folder");
	if (ri >= 0 && rest > 0 && whole)
		sync_run_log(r, SYNC_LOG_WARN, "%s: deleted here, but the "
		    "server renumbered it since the last sync, so which of its "
		    "%zu message%s came from here cannot be told; it is kept "
		    "whole, and made here again", p->name, rest, rest == 1 ? "" :
		    "s");
	else if (ri >= 0 && rest > 0)
		sync_run_log(r, SYNC_LOG_WARN, "%s: deleted here, but %zu "
		    "message%s upstream did not come from here (new there "
		    "since the last sync); %s kept, and the folder is made here "
		    "again", p->name, rest, rest == 1 ? "" : "s", rest == 1 ?
		    "it is" : "they are");
	return 0;
}

/* A pair: see the file comment for the cases. */
static int
follow_pair(struct sync_run *r, struct fview *v, struct store_sync_folder *p)
{
	struct sync_driver *d = r->d;
	struct sync_error err;
	ssize_t ri = remote_index(v, p->name), li;
	const char *lname;

	if (p->mailbox == 0)
		return deleted_here(r, v, p, ri);
	if ((li = local_index_by_id(v, p->mailbox)) < 0)
		return 0;
	v->lpaired[li] = 1;
	lname = v->local[li].name;
	if (strcmp(lname, p->name) != 0) {
		if (ri >= 0) {
			if (d->ops->rename_folder(d, p->name, lname,
			    &err) != 0) {
				v->rpaired[ri] = 1;
				return folder_error(r, &err, p->name);
			}
			view_rename(v, p->name, lname);
			r->stats->folders_out++;
		} else if (remote_index(v, lname) < 0)
			return gone_upstream(r, v, p, li);
		if (store_sync_folder_set_name(r->st, p->id, lname) != 0)
			return sync_run_store_err(r, "rename a folder");
		free(p->name);
		p->name = xstrdup(lname);
		ri = remote_index(v, lname);
	} else if (ri < 0)
		return gone_upstream(r, v, p, li);
	if (ri >= 0)
		v->rpaired[ri] = 1;
	return 0;
}

static int
cmp_pair(const void *a, const void *b)
{
	const struct store_sync_folder *x = a, *y = b;
	int xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX")
	    == 0;

	if (xi != yi)
		return yi - xi;
	return strcmp(x->name, y->name);
}

static int
load_pairs(struct sync_run *r)
{
	store_sync_folder_list_free(&r->pairs, r->npairs);
	r->npairs = 0;
	if (store_sync_folder_list(r->st, r->acct, &r->pairs, &r->npairs) != 0)
		return sync_run_store_err(r, "list folders");
	if (r->npairs > 0)
		qsort(r->pairs, r->npairs, sizeof(*r->pairs), cmp_pair);
	return 0;
}

/* Make a local mailbox for a new remote folder (or find the one that a
 * child's creation already made as its parent). */
static int
create_local(struct sync_run *r, const struct sync_folder *f, int64_t *id_r)
{
	struct store_mailbox mb;
	int rc;

	rc = store_mailbox_create(r->st, r->acct, f->name, f->special_use,
	    id_r);
	if (rc == STORE_EEXIST &&
	    store_mailbox_find(r->st, r->acct, f->name, &mb) == 0) {
		*id_r = mb.id;
		store_mailbox_clear(&mb);
		return 0;
	}
	if (rc != 0)
		return sync_run_store_err(r, "create a mailbox");
	r->stats->folders_in++;
	return 0;
}

/* 1 if a local mailbox holds no message (read only when it matters: the
 * count costs a pass over the mailbox). */
static int
local_empty(struct sync_run *r, int64_t id)
{
	struct store_mailbox mb;
	int empty;

	if (store_mailbox_status(r->st, id, &mb) != 0)
		return 0;
	empty = mb.messages == 0;
	store_mailbox_clear(&mb);
	return empty;
}

/* New remote folders here, new local mailboxes there. */
static int
follow_new(struct sync_run *r, struct fview *v)
{
	struct sync_driver *d = r->d;
	struct sync_error err;
	int64_t id;
	ssize_t li;
	size_t i;

	for (i = 0; i < v->nremote; i++) {
		struct sync_folder *f = &v->remote[i];

		if (v->rpaired[i] || skipped(r, f->name) ||
		    (f->attrs & SYNC_FA_NOSELECT))
			continue;
		li = local_index_by_name(v, f->name);
		if (li >= 0 && v->lpaired[li])
			continue;	/* paired under another name */
		if (li >= 0)
			id = v->local[li].id;
		else if (create_local(r, f, &id) != 0)
			return -1;
		if (store_sync_folder_add(r->st, r->acct, id, f->name,
		    NULL) != 0)
			return sync_run_store_err(r, "pair a folder");
		if (li >= 0)
			v->lpaired[li] = 1;
	}
	for (i = 0; i < v->nlocal; i++) {
		struct store_mailbox *mb = &v->local[i];

		ssize_t ri = remote_index(v, mb->name);

		if (v->lpaired[i] || skipped(r, mb->name))
			continue;
		/* A parent that exists upstream only as a level of the
		 * hierarchy holds no messages: nothing to pair. Nor does
		 * an empty local parent that the store made for a remote
		 * folder's children. */
		if (ri >= 0 && (v->remote[ri].attrs & SYNC_FA_NOSELECT))
			continue;
		if (ri < 0 && remote_has_child(v, mb->name) &&
		    local_empty(r, mb->id))
			continue;
		if (ri < 0) {
			if (d->ops->create_folder(d, mb->name, &err) != 0 &&
			    err.kind != SYNC_EK_EXISTS) {
				/* Never paired: a pair whose folder is not
				 * upstream would read as deleted there. */
				if (folder_error(r, &err, mb->name) != 0)
					return -1;
				sync_run_log(r, SYNC_LOG_WARN, "%s: the server "
				    "would not create it; it stays here only, "
				    "and the next sync tries again", mb->name);
				continue;
			}
			r->stats->folders_out++;
		}
		if (store_sync_folder_add(r->st, r->acct, mb->id, mb->name,
		    NULL) != 0)
			return sync_run_store_err(r, "pair a folder");
	}
	return 0;
}

static int
follow_folders(struct sync_run *r)
{
	struct fview v;
	struct sync_error err;
	size_t i;
	int rc = 0;

	memset(&v, 0, sizeof(v));
	if (r->d->ops->list_folders(r->d, &v.remote, &v.nremote, &err) != 0) {
		r->err = err;
		return -1;
	}
	if (store_mailbox_list(r->st, r->acct, 0, &v.local, &v.nlocal) != 0) {
		sync_folder_list_free(&v.remote, v.nremote);
		return sync_run_store_err(r, "list mailboxes");
	}
	v.rpaired = xcalloc(v.nremote + 1, 1);
	v.contested = xcalloc(v.nremote + 1, 1);
	v.lpaired = xcalloc(v.nlocal + 1, 1);
	rc = load_pairs(r);
	for (i = 0; i < r->npairs && rc == 0; i++)
		if (!skipped(r, r->pairs[i].name))
			rc = follow_pair(r, &v, &r->pairs[i]);
		else if (remote_index(&v, r->pairs[i].name) >= 0)
			v.rpaired[remote_index(&v, r->pairs[i].name)] = 1;
	if (rc == 0)
		rc = follow_new(r, &v);
	if (rc == 0)
		rc = load_pairs(r);
	/* Kept for the run: the statuses LIST-STATUS gave. */
	sync_folder_list_free(&r->remote, r->nremote);
	r->remote = v.remote;
	r->nremote = v.nremote;
	store_mailbox_list_free(&v.local, v.nlocal);
	free(v.rpaired);
	free(v.contested);
	free(v.lpaired);
	return rc;
}

/* The remote folder of this name as listed this run, or NULL. */
static const struct sync_folder *
listed(const struct sync_run *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nremote; i++)
		if (strcmp(r->remote[i].name, name) == 0)
			return &r->remote[i];
	return NULL;
}

/*
 * 1 if folder p needs no SELECT: its listed status is what the last sync
 * left (same UIDVALIDITY and UIDNEXT: no new mail; same HIGHESTMODSEQ: no
 * flag change; the same number of messages as identities: no expunge,
 * which a server without QRESYNC need not show in HIGHESTMODSEQ), nothing
 * changed in the mailbox since the last push, and no refused message
 * waits for another try. Without MODSEQs flag changes are invisible, so
 * such a folder is always selected.
 */
static int
unchanged(struct sync_run *r, const struct store_sync_folder *p)
{
	const struct sync_folder *f = listed(r, p->name);
	uint32_t *pend = NULL;
	uint64_t modseq;
	size_t known, n;

	if (f == NULL || !f->status_ok || !(r->d->caps & SYNC_CAP_CONDSTORE) ||
	    f->highestmodseq == 0 || f->uidvalidity != p->uidvalidity ||
	    f->uidnext != p->uidnext || f->highestmodseq != p->highestmodseq)
		return 0;
	if (store_sync_mailbox_modseq(r->st, p->mailbox, &modseq) != 0 ||
	    modseq != p->local_modseq)
		return 0;
	if (store_sync_refused_pending(r->st, p->id, p->uidvalidity,
	    SYNC_REFUSED_TRIES, &pend, &n) != 0)
		return 0;
	free(pend);
	if (n != 0 || store_sync_msg_count(r->st, p->id, p->uidvalidity,
	    &known) != 0)
		return 0;
	if (known != f->messages) {
		/* Messages given up on are upstream without an identity. */
		if (store_sync_refused_pending(r->st, p->id, p->uidvalidity,
		    UINT_MAX, &pend, &n) != 0)
			return 0;
		free(pend);
		known += n;
	}
	return known == f->messages;
}

static int
imap_run(struct sync_run *r)
{
	size_t i;

	if (follow_folders(r) != 0)
		return -1;
	for (i = 0; i < r->npairs; i++) {
		struct store_sync_folder *p = &r->pairs[i];

		if (p->mailbox == 0 || skipped(r, p->name))
			continue;
		if (sync_run_cancelled(r))
			return -1;
		if (unchanged(r, p)) {
			r->stats->folders++;
			r->stats->unselected++;
			continue;
		}
		if (sync_folder_run(r, p) != 0 &&
		    folder_error(r, &r->err, p->name) != 0)
			return -1;
	}
	return 0;
}

/* ---- the account ------------------------------------------------------------ */

static char *
account_name(struct store *st, int64_t acct)
{
	struct store_account *list = NULL;
	size_t n = 0, i;
	char *name = NULL;

	if (store_account_list(st, &list, &n) != 0)
		return NULL;
	for (i = 0; i < n; i++)
		if (list[i].id == acct)
			name = xstrdup(list[i].name);
	store_account_list_free(&list, n);
	return name;
}

static enum sync_outcome
outcome_of(const struct sync_error *err)
{
	switch (err->kind) {
	case SYNC_EK_TLS:
	case SYNC_EK_AUTH:
	case SYNC_EK_UNSUPPORTED:
		return SYNC_FAIL_CONFIG;
	default:
		return err->retry == SYNC_RETRY_NEVER ? SYNC_FAIL_CONFIG :
		    SYNC_FAIL_RETRY;
	}
}

/* 1 if the run changed nothing on either side. */
static int
idle_run(const struct sync_stats *s)
{
	return s->pulled == 0 && s->matched == 0 && s->flags_in == 0 &&
	    s->flags_out == 0 && s->expunged_in == 0 && s->expunged_out == 0 &&
	    s->appended == 0 && s->moved == 0 && s->folders_in == 0 &&
	    s->folders_out == 0 && s->deleted_pop3 == 0 && s->errors == 0;
}

/*
 * The run's result for `mailvault status`, in one transaction. A run that
 * changed nothing and ended as the last one did rewrites nothing for a
 * minute: in a store whose log was checkpointed, the first write of a
 * process costs four fsyncs, more than the rest of such a run.
 */
static void
save_result(struct store *st, int64_t acct, const char *msg,
    const struct sync_stats *stats)
{
	char when[32], *last = NULL, *lasterr = NULL;
	uint64_t t = 0;
	int64_t now = (int64_t)time(NULL);
	int txn, same;

	if (idle_run(stats) && store_account_get(st, acct,
	    SYNC_KEY_LAST_SYNC, &last, NULL) == 0 && store_account_get(st, acct,
	    SYNC_KEY_LAST_ERROR, &lasterr, NULL) == 0) {
		same = strcmp(lasterr, msg) == 0 && parse_u64(last,
		    UINT64_MAX, &t) == 0 && (int64_t)t <= now &&
		    now - (int64_t)t < 60;
		free(last);
		free(lasterr);
		if (same)
			return;
	} else {
		free(last);
		free(lasterr);
	}
	txn = store_txn_begin(st) == 0;
	snprintf(when, sizeof(when), "%lld", (long long)now);
	store_account_set(st, acct, SYNC_KEY_LAST_SYNC, when, strlen(when));
	store_account_set(st, acct, SYNC_KEY_LAST_ERROR, msg, strlen(msg));
	if (txn && store_txn_commit(st) != 0)
		store_txn_rollback(st);
}

/*
 * A refused login is the one failure a person fixes with one command:
 * say which, in the error every place shows (the CLI, the daemon's log
 * and SYNC answer, `status` through last-error).
 */
static void
auth_hint(struct sync_run *r)
{
	char *oauth = setting(r->st, r->acct, SYNC_KEY_OAUTH_CMD);
	size_t n = strlen(r->err.msg);

	if (r->err.kind != SYNC_EK_AUTH)
		return;
	snprintf(r->err.msg + n, sizeof(r->err.msg) - n, oauth != NULL ?
	    "; check the account's oauth-token-command ('mailvault account "
	    "set %s oauth-token-command CMD')" : "; if the password changed, "
	    "give the new one with 'mailvault account set %s password'",
	    r->acct_name);
	free(oauth);
}

int
sync_account_with(struct store *st, int64_t acct, struct sync_driver *d,
    const struct sync_opts *o, struct sync_stats *stats_r, char *err,
    size_t errlen)
{
	struct sync_stats stats;
	struct sync_run r;
	enum sync_outcome out = SYNC_OK;
	size_t i;
	int rc;

	memset(&stats, 0, sizeof(stats));
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.acct = acct;
	r.d = d;
	r.o = o;
	r.stats = &stats;
	r.acct_name = account_name(st, acct);
	if (r.acct_name == NULL)
		r.acct_name = xstrdup("?");
	load_skip(&r);
	rc = d->ops->connect(d, &r.err);
	if (rc == 0)
		rc = d->proto == SYNC_PROTO_POP3 ? sync_pop3_run(&r) :
		    imap_run(&r);
	/* A clean LOGOUT / QUIT; a POP3 server applies DELE only now. */
	d->ops->disconnect(d);
	if (rc != 0) {
		out = outcome_of(&r.err);
		auth_hint(&r);
		seterr(err, errlen, -1, "%s: %s", r.acct_name, r.err.msg);
	} else if (err != NULL && errlen > 0)
		err[0] = '\0';
	save_result(st, acct, rc != 0 ? r.err.msg : "", &stats);
	r.prog.folder = NULL;
	sync_run_progress(&r, 1);
	for (i = 0; i < r.nskip; i++)
		free(r.skip[i]);
	free(r.skip);
	store_sync_folder_list_free(&r.pairs, r.npairs);
	sync_folder_list_free(&r.remote, r.nremote);
	free((char *)r.acct_name);
	if (stats_r != NULL)
		*stats_r = stats;
	return (int)out;
}

/*
 * One sync of an account at a time, across processes: `mailvault sync`
 * beside a running `serve` waits for the daemon's run to end instead of
 * pulling the same messages beside it. flock() on a file per account next
 * to the store (its folder is 0700) is per open file, so it also keeps two
 * threads apart. Returns the locked descriptor (close it to unlock), or -1.
 */
static int
account_lock(struct store *st, int64_t acct, const struct sync_opts *o,
    const char *name)
{
	char *path = xasprintf("%s.sync-%lld.lock", store_path(st),
	    (long long)acct);
	char msg[256];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (o != NULL && o->log != NULL) {
		snprintf(msg, sizeof(msg), "%s is being synced by another "
		    "mailvault (a running serve?); waiting for it to finish",
		    name);
		o->log(o->arg, SYNC_LOG_LVL_INFO, msg);
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

enum sync_outcome
sync_account(struct store *st, int64_t acct, const struct sync_opts *o,
    struct sync_stats *stats_r, char *err, size_t errlen)
{
	struct cfg_hold h;
	struct sync_driver *d = NULL;
	char *name = account_name(st, acct);
	int rc, lockfd;

	if (stats_r != NULL)
		memset(stats_r, 0, sizeof(*stats_r));
	rc = cfg_load(st, acct, name != NULL ? name : "?", o, &h, err, errlen);
	free(name);
	if (rc != 0) {
		cfg_free(&h);
		return SYNC_FAIL_CONFIG;
	}
	if (h.cfg.proto == SYNC_PROTO_IMAP)
		d = sync_driver_imap(&h.cfg);
	else if (h.cfg.proto == SYNC_PROTO_POP3)
		d = sync_driver_pop3(&h.cfg);
	if (d == NULL) {
		seterr(err, errlen, -1, "%s: this build has no %s driver",
		    h.name, h.proto);
		cfg_free(&h);
		return SYNC_FAIL_CONFIG;
	}
	if ((lockfd = account_lock(st, acct, o, h.name)) < 0) {
		seterr(err, errlen, -1, "%s: cannot lock the account for "
		    "syncing next to the store: %s", h.name, strerror(errno));
		d->ops->free(&d);
		cfg_free(&h);
		return SYNC_FAIL_RETRY;
	}
	rc = sync_account_with(st, acct, d, o, stats_r, err, errlen);
	close(lockfd);
	d->ops->free(&d);
	cfg_free(&h);
	return (enum sync_outcome)rc;
}

/* ---- the daemon's loop -------------------------------------------------------- */

/* Sleep ms or until the cancel descriptor is readable; 1 if cancelled. */
static int
nap(int cancel_fd, int64_t ms)
{
	struct pollfd pfd = { cancel_fd, POLLIN, 0 };

	while (ms > 0) {
		int slice = ms > 60000 ? 60000 : (int)ms;
		int64_t t0 = now_ms();

		if (poll(&pfd, 1, slice) == 1)
			return 1;
		ms -= now_ms() - t0;
	}
	return 0;
}

/*
 * Wait for news on the INBOX with IDLE over a connection of its own, for
 * at most ms. 0 when it is time to sync (news, or the time is up), 1 if
 * cancelled, -1 if IDLE is not possible (the caller then just sleeps).
 */
/* 1 if the remote INBOX has moved on from what the last sync pulled. */
static int
inbox_moved(struct store *st, int64_t acct,
    const struct sync_folder_status *fs)
{
	struct store_sync_folder *f;
	size_t n, i;
	int moved = 0;

	if (store_sync_folder_list(st, acct, &f, &n) != 0)
		return 1;
	for (i = 0; i < n; i++)
		if (ascii_strcasecmp(f[i].name, "INBOX") == 0)
			moved = f[i].uidvalidity != fs->uidvalidity ||
			    (fs->uidnext != 0 && f[i].uidnext != fs->uidnext);
	store_sync_folder_list_free(&f, n);
	return moved;
}

static int
idle_wait(struct store *st, int64_t acct, const struct sync_opts *o,
    int64_t ms)
{
	struct sync_folder_status fs;
	struct sync_error err;
	struct cfg_hold h;
	struct sync_driver *d = NULL;
	char msg[SYNC_ERRMSG_MAX];
	int rc = -1;

	/* The name is what the driver's log lines begin with: this
	 * connection watches INBOX ("sync work: INBOX: connected to ..."). */
	if (cfg_load(st, acct, "INBOX", o, &h, msg, sizeof(msg)) != 0 ||
	    h.cfg.proto != SYNC_PROTO_IMAP) {
		cfg_free(&h);
		return -1;
	}
	d = sync_driver_imap(&h.cfg);
	if (d->ops->connect(d, &err) == 0 && (d->caps & SYNC_CAP_IDLE) &&
	    d->ops->select(d, "INBOX", &fs, &err) == 0) {
		/* Mail that came between the sync's look at INBOX and this
		 * SELECT is counted in it and IDLE would never announce it. */
		if (inbox_moved(st, acct, &fs))
			rc = 0;
		else
			rc = d->ops->idle(d, (int)ms, o->cancel_fd, &err);
		if (rc < 0 && err.kind == SYNC_EK_CANCELLED)
			rc = 1;
		else if (rc >= 0)
			rc = 0;	/* news or timeout: sync now */
	}
	d->ops->free(&d);
	cfg_free(&h);
	return rc;
}

static int64_t
jitter(int64_t ms, unsigned *seed)
{
	/* Up to a fifth more, so many accounts do not retry in step. */
	return ms + (int64_t)((uint64_t)rand_r(seed) % (uint64_t)(ms / 5 + 1));
}

/* The account's poll-interval, else the caller's default, else 300 s. */
static uint64_t
poll_interval(struct store *st, int64_t acct, const struct sync_opts *o)
{
	char *v = setting(st, acct, SYNC_KEY_POLL);
	uint64_t s;
	int d;

	if (v == NULL || parse_u64(v, 86400 * 7, &s) != 0 || s < 10) {
		d = o->poll_default != NULL ? o->poll_default(o->arg) : 0;
		s = d > 0 ? (uint64_t)d : POLL_DEFAULT_S;
	}
	free(v);
	return s;
}

void
sync_account_watch(struct store *st, int64_t acct, const struct sync_opts *o)
{
	char err[SYNC_ERRMSG_LEN];
	struct sync_stats stats;
	enum sync_outcome out;
	uint64_t poll_s;
	int64_t backoff = 0;
	unsigned seed = (unsigned)(now_ms() ^ (acct << 16));
	int rc;

	for (;;) {
		out = sync_account(st, acct, o, &stats, err, sizeof(err));
		if (o->cancel_fd >= 0 && nap(o->cancel_fd, 0))
			return;
		poll_s = poll_interval(st, acct, o);
		if (out != SYNC_OK) {
			backoff = out == SYNC_FAIL_CONFIG ? BACKOFF_MAX_MS :
			    backoff == 0 ? BACKOFF_MIN_MS : 2 * backoff;
			if (backoff > BACKOFF_MAX_MS)
				backoff = BACKOFF_MAX_MS;
			if (o->log != NULL)
				o->log(o->arg, SYNC_LOG_WARN, err);
			if (nap(o->cancel_fd, jitter(backoff, &seed)))
				return;
			continue;
		}
		backoff = 0;
		rc = idle_wait(st, acct, o, (int64_t)poll_s * 1000);
		if (rc == 1)
			return;
		if (rc < 0 && nap(o->cancel_fd, (int64_t)poll_s * 1000))
			return;
	}
}
