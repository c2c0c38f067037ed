/*
 * engine_folder: one remote folder and its local mailbox, both ways.
 *
 * The order of a folder's sync, and why:
 *
 *  1. SELECT. A new UIDVALIDITY marks every identity of the folder stale;
 *     they are re-matched (by Message-ID and size without downloading,
 *     then by content as the folder is pulled again) and only those left
 *     over are forgotten, so a reset upstream duplicates nothing, loses
 *     nothing and changes no local UID.
 *  2. Pull new messages: UIDs from the folder's uidnext on, streamed into
 *     the store, and those the server refused to give on earlier runs
 *     (a few times, then the engine gives up on them and says so). A
 *     message, its identity and the new uidnext are committed
 *     together, in batches (BATCH_* below) so 20,000 messages are not
 *     20,000 commits, and never across a large download, so the write
 *     lock is not held while the network is slow. A pulled message whose
 *     bytes are already in the mailbox without a settled identity (an
 *     APPEND cut short by a crash, a re-match after a reset) is bound to
 *     that local message instead of stored twice.
 *  3. Remote flag changes and expunges for the messages known before:
 *     CHANGEDSINCE (and VANISHED under QRESYNC) when the folder has
 *     MODSEQs, so a resync with no change reads no flags at all; a FLAGS
 *     scan otherwise. Conflicts: a per-flag three-way merge against the
 *     last synced flags (a flag changed on one side takes that side's
 *     value; changed on both, both agree). Expunged on either side wins
 *     over a flag change on the other.
 *  4. Push local changes since the folder's local_modseq: moves and
 *     copies made locally become MOVE/COPY upstream (a new local message
 *     whose content belongs to a remote message elsewhere; one command per
 *     source folder, and the copies' flags read back and merged, since
 *     upstream may have changed them after the last sync: a moved message
 *     merges like the message it is, a copy keeps the flags it has here),
 *     then flag changes (grouped, so marking 500 messages read is one
 *     STORE per group), expunges, and APPENDs of new local messages. An
 *     APPEND is announced in the store (state APPENDING) before it is
 *     sent, so a crash never makes it twice: the next pull binds the
 *     server's copy by content, and a message recorded as sent that the
 *     pull does not find is sent again (resend_lost()). A source the
 *     server would not copy (gone upstream, or its folder renumbered)
 *     goes up as an APPEND instead.
 *  5. Catch up: after a push that put messages here, pull from uidnext
 *     again, so uidnext passes our own messages and every UID below it
 *     is one this engine knows (what a mailbox deleted here takes
 *     upstream with it: sync/engine.c, deleted_here()).
 *
 * What may be deleted on either side, and on what evidence, is the
 * last-copy rule written at the top of sync/engine.c.
 */
#include "sync/engine_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"
#include "sync/sync.h"

#define BATCH_MSGS	200		/* messages per pull transaction */
#define BATCH_BYTES	(4u << 20)	/* bytes per pull transaction */
#define BATCH_MS	500		/* longest a pull transaction stays
					 * open while waiting for the network */
#define BIG_MESSAGE	(256u << 10)	/* commit before downloading this */
#define FLAG_BATCH	500		/* flag merges per transaction */

struct uidv {
	uint32_t	*v;
	size_t		 n, cap;
};

static void
uidv_add(struct uidv *u, uint32_t x)
{
	if (u->n == u->cap) {
		u->cap = u->cap == 0 ? 64 : 2 * u->cap;
		u->v = xreallocarray(u->v, u->cap, sizeof(*u->v));
	}
	u->v[u->n++] = x;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
uidv_has(const struct uidv *u, uint32_t x)
{
	return u32_sorted_has(u->v, u->n, x);
}

/* The state of one folder's sync. */
struct fsync {
	struct sync_run	*r;
	struct store	*st;
	struct store_sync_folder *p;
	struct sync_folder_status rs;
	uint32_t	 known_below;	/* above every UID known before the
					 * pull: p->uidnext then, or past
					 * our own APPENDs and MOVEs */

	/* The open pull/merge transaction. */
	int		 in_txn;
	unsigned	 txn_msgs;
	uint64_t	 txn_bytes;
	int64_t		 txn_start;
	struct store_sync_folder saved;	/* p as last committed */

	/* The message being pulled. */
	struct store_append *ap;
	int		 skip;
	uint32_t	 ruid, rflags;
	uint64_t	 rsize;
	uint32_t	 rkw[STORE_MAX_KEYWORDS];
	size_t		 nrkw;

	struct uidv	 seen;		/* UIDs a FLAGS scan reported */
	struct uidv	 got;		/* UIDs pulled whole */
	struct uidv	 dirty;		/* local UIDs whose merged flags the
					 * server lacks, changed or not */
	struct uidv	 bound;		/* local UIDs the pull bound by
					 * content (see retire_sources) */
	struct uidv	 inflight;	/* local UIDs sent upstream before
					 * this run, remote UID unknown */
	unsigned	 added;		/* messages the push put here since
					 * this folder's last SELECT */
	int		 moved_here;	/* the push made MOVEs or COPYs */
	int		 pending_moves;	/* local moves out of here that
					 * another folder's push makes */
	int		 failed;	/* a callback failed: r->err says why */
};

/* ---- small helpers ------------------------------------------------------- */

static int
local_fail(struct fsync *fs, const char *doing)
{
	fs->failed = 1;
	return sync_run_store_err(fs->r, doing);
}

static int
remote_fail(struct fsync *fs, const struct sync_error *err)
{
	fs->r->err = *err;
	return -1;
}

static int
txn_open(struct fsync *fs)
{
	if (fs->in_txn)
		return 0;
	if (store_txn_begin(fs->st) != 0)
		return local_fail(fs, "start a transaction");
	fs->in_txn = 1;
	fs->txn_msgs = 0;
	fs->txn_bytes = 0;
	fs->txn_start = now_ms();
	return 0;
}

/* Commit the open transaction with the folder's position in it. */
static int
txn_close(struct fsync *fs)
{
	if (!fs->in_txn)
		return 0;
	if (store_sync_folder_set_state(fs->st, fs->p) != 0) {
		store_txn_rollback(fs->st);
		fs->in_txn = 0;
		*fs->p = fs->saved;
		return local_fail(fs, "save the sync position");
	}
	fs->in_txn = 0;
	if (store_txn_commit(fs->st) != 0) {
		*fs->p = fs->saved;
		return local_fail(fs, "save fetched messages");
	}
	fs->saved = *fs->p;
	return 0;
}

static void
txn_abort(struct fsync *fs)
{
	store_append_abort(&fs->ap);
	if (fs->in_txn) {
		store_txn_rollback(fs->st);
		fs->in_txn = 0;
	}
	*fs->p = fs->saved;
}

/* Save the folder's position if it moved (a no-change resync writes
 * nothing at all). */
static int
save_position(struct fsync *fs)
{
	const struct store_sync_folder *a = fs->p, *b = &fs->saved;

	if (!fs->in_txn && a->uidvalidity == b->uidvalidity &&
	    a->uidnext == b->uidnext && a->highestmodseq == b->highestmodseq &&
	    a->local_modseq == b->local_modseq)
		return 0;
	if (txn_open(fs) != 0)
		return -1;
	return txn_close(fs);
}

static int
txn_due(const struct fsync *fs)
{
	return fs->in_txn && (fs->txn_msgs >= BATCH_MSGS ||
	    fs->txn_bytes >= BATCH_BYTES ||
	    now_ms() - fs->txn_start >= BATCH_MS);
}

/* Keyword names to sorted local ids; names the store refuses are left
 * out (a server may use keywords we cannot keep, but must not stop us). */
static size_t
kw_ids(struct fsync *fs, const char *const *names, size_t n, uint32_t *ids)
{
	size_t i, k = 0;
	uint32_t id;

	for (i = 0; i < n && k < STORE_MAX_KEYWORDS; i++)
		if (store_keyword_id(fs->st, fs->r->acct, names[i], 1,
		    &id) == 0)
			ids[k++] = id;
	if (k > 0)
		qsort(ids, k, sizeof(*ids), cmp_u32);
	for (i = 0, n = 0; i < k; i++)
		if (n == 0 || ids[n - 1] != ids[i])
			ids[n++] = ids[i];
	return n;
}

static int
kw_has(const uint32_t *v, size_t n, uint32_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

static int
kw_equal(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	return na == nb && memcmp(a, b, na * sizeof(*a)) == 0;
}

/*
 * The three-way merge. A flag or keyword changed on one side since the
 * base takes that side's value; changed on both, both agree (there are
 * only two values). So: set in the base, it stays only if both kept it;
 * not in the base, it is there if either side added it.
 */
static uint32_t
merge_flags(uint32_t base, uint32_t l, uint32_t r)
{
	return (base & l & r) | (~base & (l | r));
}

static size_t
merge_kw(const uint32_t *b, size_t nb, const uint32_t *l, size_t nl,
    const uint32_t *r, size_t nr, uint32_t *out)
{
	uint32_t all[3 * STORE_MAX_KEYWORDS];
	size_t n = 0, i, k = 0;

	if (nb > 0)
		memcpy(all, b, nb * sizeof(*b));
	if (nl > 0)
		memcpy(all + nb, l, nl * sizeof(*l));
	if (nr > 0)
		memcpy(all + nb + nl, r, nr * sizeof(*r));
	n = nb + nl + nr;
	if (n > 0)
		qsort(all, n, sizeof(*all), cmp_u32);
	for (i = 0; i < n && k < STORE_MAX_KEYWORDS; i++) {
		uint32_t x = all[i];
		int inl = kw_has(l, nl, x), inr = kw_has(r, nr, x);

		if (i > 0 && all[i - 1] == x)
			continue;
		if (kw_has(b, nb, x) ? (inl && inr) : (inl || inr))
			out[k++] = x;
	}
	return k;
}

/* Set a local message's flags and keywords exactly. */
static int
set_local(struct fsync *fs, uint32_t uid, uint32_t flags, const uint32_t *kw,
    size_t nkw)
{
	struct store_flag_change ch = { STORE_FLAGS_SET, flags, NULL, 0, 0 };
	const char *names[STORE_MAX_KEYWORDS];
	char *owned[STORE_MAX_KEYWORDS];
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < nkw; i++)
		if (store_keyword_name(fs->st, fs->r->acct, kw[i],
		    &owned[n]) == 0) {
			names[n] = owned[n];
			n++;
		}
	ch.keywords = names;
	ch.nkeywords = n;
	if (store_msg_set_flags(fs->st, fs->p->mailbox, &uid, 1, &ch, NULL,
	    NULL, NULL, NULL) != 0)
		rc = local_fail(fs, "change a message's flags");
	for (i = 0; i < n; i++)
		free(owned[i]);
	return rc;
}

/*
 * Bind local message uid to remote UID ruid whose flags are rflags/rkw,
 * merging with the local flags against base (the old identity's flags, or
 * nothing when there was none: then a flag set on either side stays).
 */
static int
bind_identity(struct fsync *fs, uint32_t uid, uint32_t ruid, uint32_t rflags,
    const uint32_t *rkw, size_t nrkw, const struct store_sync_msg *old)
{
	struct store_sync_msg m;
	struct store_msg lm;
	uint32_t mkw[STORE_MAX_KEYWORDS], mflags;
	size_t nmkw;

	if (store_msg_get(fs->st, fs->p->mailbox, uid, &lm) != 0)
		return local_fail(fs, "read a message");
	mflags = merge_flags(old != NULL ? old->flags : 0, lm.flags, rflags);
	nmkw = merge_kw(old != NULL ? old->kw : NULL, old != NULL ?
	    old->nkw : 0, lm.kw, lm.nkw, rkw, nrkw, mkw);
	memset(&m, 0, sizeof(m));
	m.mailbox = fs->p->mailbox;
	m.uid = uid;
	m.folder = fs->p->id;
	m.ruidvalidity = fs->p->uidvalidity;
	m.ruid = ruid;
	m.state = STORE_SYNC_BOUND;
	m.flags = rflags;
	m.content = lm.content;
	m.nkw = (uint32_t)nrkw;
	memcpy(m.kw, rkw, nrkw * sizeof(*rkw));
	if ((mflags != lm.flags || !kw_equal(mkw, nmkw, lm.kw, lm.nkw)) &&
	    set_local(fs, uid, mflags, mkw, nmkw) != 0)
		return -1;
	if (mflags != rflags || !kw_equal(mkw, nmkw, rkw, nrkw))
		uidv_add(&fs->dirty, uid);
	if (store_sync_msg_put(fs->st, &m) != 0)
		return local_fail(fs, "save a remote identity");
	return 0;
}

/* ---- 1. UIDVALIDITY ------------------------------------------------------- */

/* The Message-ID of a local message, read from its header; 0 if found. */
static int
local_msgid(struct store *st, int64_t content, char *out, size_t outlen)
{
	struct store_reader *rd;
	char buf[16384], *p, *end, *e;
	ssize_t n;

	if (store_reader_open(st, content, &rd) != 0)
		return -1;
	n = store_reader_read(rd, buf, sizeof(buf) - 1);
	store_reader_close(&rd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf, end = buf + n; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			return -1;	/* the blank line: end of header */
		if (ascii_strncasecmp(p, "Message-ID:", 11) == 0) {
			p += 11;
			while (p < end && (*p == ' ' || *p == '\t' ||
			    *p == '\r' || *p == '\n'))
				p++;
			for (e = p; e < end && *e != '\r' && *e != '\n' &&
			    *e != ' '; e++)
				;
			if (e == p || (size_t)(e - p) >= outlen)
				return -1;
			memcpy(out, p, (size_t)(e - p));
			out[e - p] = '\0';
			return 0;
		}
		while (p < end && *p != '\n')
			p++;
	}
	return -1;
}

struct stale {
	struct store_sync_msg m;
	char	 msgid[256];
	uint64_t size;
	int	 used;
};

struct rematch {
	struct fsync	*fs;
	struct stale	*v;
	size_t		 n;
};

static int
rematch_msg(void *arg, const struct sync_msg_info *mi)
{
	struct rematch *rm = arg;
	struct fsync *fs = rm->fs;
	uint32_t kw[STORE_MAX_KEYWORDS];
	size_t i, nkw;

	if (mi->message_id == NULL)
		return 0;
	for (i = 0; i < rm->n; i++) {
		struct stale *s = &rm->v[i];

		if (s->used || s->size != mi->size ||
		    strcmp(s->msgid, mi->message_id) != 0)
			continue;
		s->used = 1;
		if (txn_open(fs) != 0)
			return -1;
		nkw = kw_ids(fs, mi->keywords, mi->nkeywords, kw);
		if (bind_identity(fs, s->m.uid, mi->uid, mi->flags, kw, nkw, &s->m) != 0)
			return -1;
		fs->r->stats->matched++;
		fs->txn_msgs++;
		if (txn_due(fs))
			return txn_close(fs);
		return 0;
	}
	return 0;
}

/*
 * After a UIDVALIDITY change: bind stale identities to remote messages
 * with the same Message-ID and size, without downloading anything. The
 * rest is matched by content during the pull.
 */
static int
rematch_by_msgid(struct fsync *fs)
{
	struct sync_run *r = fs->r;
	struct store_sync_msg *v = NULL;
	struct sync_uidrange all = { 1, UINT32_MAX };
	struct sync_fetch_req req = { &all, 1, SYNC_FETCH_FLAGS |
	    SYNC_FETCH_SIZE | SYNC_FETCH_MSGID, 0, 0 };
	struct sync_fetch_cb cb = { 0 };
	struct rematch rm = { fs, NULL, 0 };
	struct store_msg lm;
	struct sync_error err;
	size_t n, i;
	int rc;

	if (store_sync_msg_unsettled(fs->st, fs->p->id, fs->p->uidvalidity,
	    &v, &n) != 0)
		return sync_run_store_err(r, "list stale identities");
	rm.v = xcalloc(n + 1, sizeof(*rm.v));
	for (i = 0; i < n; i++) {
		if (v[i].state != STORE_SYNC_BOUND ||
		    store_msg_get(fs->st, v[i].mailbox, v[i].uid, &lm) != 0 ||
		    local_msgid(fs->st, lm.content, rm.v[rm.n].msgid,
		    sizeof(rm.v[rm.n].msgid)) != 0)
			continue;
		rm.v[rm.n].m = v[i];
		rm.v[rm.n].size = lm.size;
		rm.n++;
	}
	free(v);
	rc = 0;
	if (rm.n > 0 && fs->rs.exists > 0) {
		cb.arg = &rm;
		cb.msg = rematch_msg;
		rc = r->d->ops->fetch(r->d, &req, &cb, &err);
		if (rc != 0 && !fs->failed)
			remote_fail(fs, &err);
		if (rc == 0)
			rc = txn_close(fs);
		else
			txn_abort(fs);
	}
	free(rm.v);
	return rc;
}

static int
check_uidvalidity(struct fsync *fs)
{
	struct store_sync_folder *p = fs->p;

	if (p->uidvalidity == fs->rs.uidvalidity)
		return 0;
	if (p->uidvalidity != 0)
		sync_run_log(fs->r, SYNC_LOG_WARN, "%s: the server renumbered "
		    "the folder (UIDVALIDITY %u, was %u): matching its "
		    "messages again", p->name, fs->rs.uidvalidity,
		    p->uidvalidity);
	/* Local messages whose identity no re-match claims are sent again,
	 * so the push looks at every message once. */
	if (p->uidvalidity != 0)
		p->local_modseq = 0;
	p->uidvalidity = fs->rs.uidvalidity;
	p->uidnext = 1;
	p->highestmodseq = 0;
	if (store_sync_refused_forget(fs->st, p->id, p->uidvalidity, 0) != 0 ||
	    store_sync_folder_set_state(fs->st, p) != 0) {
		*p = fs->saved;
		return sync_run_store_err(fs->r, "save the folder's state");
	}
	fs->saved = *p;
	return rematch_by_msgid(fs);
}

/* ---- rename evidence (for sync/engine.c) ------------------------------------ */

#define EVIDENCE_MAX	16	/* known messages compared per candidate */

struct known {
	uint32_t	 ruid;
	uint64_t	 size;
	int64_t		 date;
	char		 msgid[256];	/* "" when none was found */
};

struct evidence {
	struct known	*k;
	size_t		 n;
	unsigned	 same, differ;
};

static int
evidence_msg(void *arg, const struct sync_msg_info *mi)
{
	struct evidence *e = arg;
	size_t i;

	for (i = 0; i < e->n; i++) {
		const struct known *k = &e->k[i];

		if (k->ruid != mi->uid)
			continue;
		if (k->size == mi->size && k->date == mi->internaldate &&
		    (k->msgid[0] == '\0' || mi->message_id == NULL ||
		    strcmp(k->msgid, mi->message_id) == 0))
			e->same++;
		else
			e->differ++;
		break;
	}
	return 0;
}

/* Up to EVIDENCE_MAX messages of pair p whose local copies are here,
 * spread over its UIDs. */
static int
known_sample(struct sync_run *r, const struct store_sync_folder *p,
    struct evidence *e)
{
	struct store_sync_msg m;
	struct store_msg lm;
	uint32_t *ruids;
	size_t n, i, step;

	if (store_sync_msg_ruids(r->st, p->id, p->uidvalidity, &ruids,
	    &n) != 0)
		return sync_run_store_err(r, "list remote UIDs");
	e->k = xcalloc(EVIDENCE_MAX, sizeof(*e->k));
	step = n / EVIDENCE_MAX + 1;
	for (i = 0; i < n && e->n < EVIDENCE_MAX; i += step) {
		struct known *k = &e->k[e->n];

		if (store_sync_msg_find_remote(r->st, p->id, p->uidvalidity,
		    ruids[i], &m) != 0 || m.state != STORE_SYNC_BOUND ||
		    store_msg_get(r->st, m.mailbox, m.uid, &lm) != 0)
			continue;
		k->ruid = ruids[i];
		k->size = lm.size;
		k->date = lm.internaldate;
		if (local_msgid(r->st, lm.content, k->msgid,
		    sizeof(k->msgid)) != 0)
			k->msgid[0] = '\0';
		e->n++;
	}
	free(ruids);
	return 0;
}

static int
cmp_known(const void *a, const void *b)
{
	const struct known *x = a, *y = b;

	return x->ruid < y->ruid ? -1 : x->ruid > y->ruid;
}

int
sync_folder_same(struct sync_run *r, const struct store_sync_folder *p,
    const char *name)
{
	struct evidence e = { NULL, 0, 0, 0 };
	struct sync_uidrange rg[EVIDENCE_MAX];
	struct sync_fetch_req req = { rg, 0, SYNC_FETCH_SIZE |
	    SYNC_FETCH_DATE | SYNC_FETCH_MSGID, 0, 0 };
	struct sync_fetch_cb cb = { &e, evidence_msg, NULL, NULL, NULL };
	struct sync_folder_status st;
	struct sync_error err;
	size_t i;
	int rc = 0;

	if (known_sample(r, p, &e) != 0)
		return -2;
	if (e.n == 0)
		goto done;
	qsort(e.k, e.n, sizeof(*e.k), cmp_known);
	for (i = 0; i < e.n; i++)
		rg[i].lo = rg[i].hi = e.k[i].ruid;
	req.nranges = e.n;
	if (r->d->ops->select(r->d, name, &st, &err) != 0 ||
	    r->d->ops->fetch(r->d, &req, &cb, &err) != 0) {
		if (err.scope == SYNC_SCOPE_ACCOUNT) {
			r->err = err;
			rc = -2;
		}
		goto done;
	}
	if (st.uidvalidity != p->uidvalidity)
		goto done;
	rc = e.differ > 0 ? -1 : e.same > 0;
done:
	free(e.k);
	return rc;
}

/* ---- 2. pull new messages ----------------------------------------------- */

static int
pull_msg(void *arg, const struct sync_msg_info *mi)
{
	struct fsync *fs = arg;
	struct store_sync_msg old;
	struct store_append_opts o;

	if (sync_run_cancelled(fs->r))
		return -1;
	fs->ruid = mi->uid;
	fs->rflags = mi->flags;
	fs->rsize = mi->size;
	fs->skip = store_sync_msg_find_remote(fs->st, fs->p->id,
	    fs->p->uidvalidity, mi->uid, &old) == 0;
	if (fs->skip)
		return 0;	/* known already (APPENDUID, COPYUID) */
	if (txn_due(fs) || (fs->in_txn && mi->size >= BIG_MESSAGE))
		if (txn_close(fs) != 0)
			return -1;
	fs->nrkw = 0;
	memset(&o, 0, sizeof(o));
	o.flags = mi->flags;
	o.keywords = mi->keywords;
	o.nkeywords = mi->nkeywords < STORE_MAX_KEYWORDS ? mi->nkeywords :
	    STORE_MAX_KEYWORDS;
	o.internaldate = mi->internaldate;
	o.tzoff = mi->tzoff;
	o.skip_duplicate = 1;
	if (store_append_begin(fs->st, fs->p->mailbox, &o, &fs->ap) != 0) {
		/* A keyword the store refuses: store the message without. */
		o.nkeywords = 0;
		if (store_append_begin(fs->st, fs->p->mailbox, &o,
		    &fs->ap) != 0)
			return local_fail(fs, "store a message");
	}
	/* Keyword ids now; a new keyword commits on its own (or with the
	 * open batch). */
	fs->nrkw = kw_ids(fs, mi->keywords, mi->nkeywords, fs->rkw);
	return 0;
}

static int
pull_body(void *arg, const void *data, size_t n)
{
	struct fsync *fs = arg;
	struct sync_run *r = fs->r;

	if (fs->skip || fs->ap == NULL)
		return 0;
	if (store_append_write(fs->ap, data, n) != 0)
		return local_fail(fs, "store a message");
	/* A slow download must not keep the store's write lock: commit
	 * what is complete (and this message's chunks so far). */
	if (fs->in_txn && now_ms() - fs->txn_start >= BATCH_MS &&
	    txn_close(fs) != 0)
		return -1;
	r->prog.bytes_done += n;
	fs->txn_bytes += n;
	sync_run_progress(r, 0);
	return 0;
}

/* A pulled message had bytes the mailbox holds already (dupuid). */
static int
pull_dup(struct fsync *fs, uint32_t dupuid)
{
	struct store_sync_msg old;
	struct store_msg lm;
	uint32_t uid, newuid = 0;

	if (store_msg_get(fs->st, fs->p->mailbox, dupuid, &lm) != 0)
		return local_fail(fs, "read a message");
	if (store_sync_msg_unbound(fs->st, fs->p->mailbox, lm.content,
	    fs->p->uidvalidity, &uid) == 0) {
		int had = store_sync_msg_get(fs->st, fs->p->mailbox, uid,
		    &old) == 0;

		fs->r->stats->matched++;
		uidv_add(&fs->bound, uid);
		return bind_identity(fs, uid, fs->ruid, fs->rflags, fs->rkw,
		    fs->nrkw, had ? &old : NULL);
	}
	/* The same bytes twice upstream: a second local message, sharing
	 * the content, not fetched again. */
	if (store_msg_copy(fs->st, fs->p->mailbox, &dupuid, 1,
	    fs->p->mailbox, &newuid) != 0 || newuid == 0)
		return local_fail(fs, "store a message");
	if (set_local(fs, newuid, fs->rflags, fs->rkw, fs->nrkw) != 0)
		return -1;
	fs->r->stats->pulled++;
	return bind_identity(fs, newuid, fs->ruid, fs->rflags, fs->rkw, fs->nrkw, NULL);
}

static int
pull_end(void *arg)
{
	struct fsync *fs = arg;
	struct sync_run *r = fs->r;
	uint32_t uid = 0;
	int rc;

	uidv_add(&fs->got, fs->ruid);
	if (fs->skip)
		goto done;
	if (txn_open(fs) != 0)
		return -1;
	rc = store_append_commit(&fs->ap, &uid);
	if (rc == STORE_EEXIST)
		rc = pull_dup(fs, uid);
	else if (rc == 0) {
		r->stats->pulled++;
		r->stats->pulled_bytes += fs->rsize;
		rc = bind_identity(fs, uid, fs->ruid, fs->rflags, fs->rkw, fs->nrkw,
		    NULL);
	} else
		rc = local_fail(fs, "store a message");
	if (rc != 0)
		return -1;
	fs->txn_msgs++;
done:
	if (fs->ruid >= fs->p->uidnext)
		fs->p->uidnext = fs->ruid + 1;
	r->prog.msgs_done++;
	sync_run_progress(r, 0);
	return 0;
}

struct sizes {
	struct uidv	 uids;
	uint64_t	 bytes;
	struct fsync	*fs;
};

static int
size_msg(void *arg, const struct sync_msg_info *mi)
{
	struct sizes *sz = arg;
	struct store_sync_msg old;

	if (store_sync_msg_find_remote(sz->fs->st, sz->fs->p->id,
	    sz->fs->p->uidvalidity, mi->uid, &old) == 0)
		return 0;
	uidv_add(&sz->uids, mi->uid);
	sz->bytes += mi->size;
	return 0;
}

/* Ranges covering the sorted UIDs v (consecutive runs merged). */
static struct sync_uidrange *
ranges_of(const uint32_t *v, size_t n, size_t *nr_r)
{
	struct sync_uidrange *rg = xcalloc(n + 1, sizeof(*rg));
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (k > 0 && rg[k - 1].hi + 1 == v[i])
			rg[k - 1].hi = v[i];
		else {
			rg[k].lo = rg[k].hi = v[i];
			k++;
		}
	}
	*nr_r = k;
	return rg;
}

/* The retry list (those below uidnext: the tail has the rest) plus the
 * tail from uidnext on, as ascending ranges. */
static struct sync_uidrange *
wanted_ranges(const struct uidv *retry, uint32_t uidnext, size_t *nr_r)
{
	size_t below = 0;
	struct sync_uidrange *rg;

	while (below < retry->n && retry->v[below] < uidnext)
		below++;
	rg = ranges_of(retry->v, below, nr_r);
	rg[*nr_r].lo = uidnext;
	rg[*nr_r].hi = UINT32_MAX;
	(*nr_r)++;
	return rg;
}

/*
 * After the pull: a UID that was asked for and did not arrive was refused
 * by the server (a NO for it, no body); count the try, and say so. One
 * that was refused before and arrived now, or is gone from the folder,
 * is forgotten. Runs inside the pull's last transaction.
 */
static int
settle_refused(struct fsync *fs, const struct uidv *wanted,
    const struct uidv *retry)
{
	struct sync_run *r = fs->r;
	const char *name = fs->p->name;
	unsigned tries;
	size_t i;

	if (fs->got.n > 0)
		qsort(fs->got.v, fs->got.n, sizeof(*fs->got.v), cmp_u32);
	for (i = 0; i < retry->n; i++)
		if ((uidv_has(&fs->got, retry->v[i]) || !uidv_has(wanted,
		    retry->v[i])) && store_sync_refused_forget(fs->st,
		    fs->p->id, fs->p->uidvalidity, retry->v[i]) != 0)
			return local_fail(fs, "forget a refused message");
	for (i = 0; i < wanted->n; i++) {
		if (uidv_has(&fs->got, wanted->v[i]))
			continue;
		if (store_sync_refused_note(fs->st, fs->p->id,
		    fs->p->uidvalidity, wanted->v[i], &tries) != 0)
			return local_fail(fs, "count a refused message");
		r->stats->refused++;
		r->stats->errors++;
		if (tries >= SYNC_REFUSED_TRIES)
			sync_run_log(r, SYNC_LOG_WARN, "%s: the server refused "
			    "to give message UID %u %u times; giving up on it "
			    "(it stays on the server only)", name,
			    wanted->v[i], tries);
		else
			sync_run_log(r, SYNC_LOG_WARN, "%s: the server would "
			    "not give message UID %u; it is asked for again on "
			    "the next sync (try %u of %u)", name, wanted->v[i],
			    tries, SYNC_REFUSED_TRIES);
	}
	return 0;
}

static int
pull_new(struct fsync *fs, int retry_refused)
{
	struct sync_run *r = fs->r;
	struct sync_fetch_req req = { NULL, 0, SYNC_FETCH_SIZE, 0, 0 };
	struct sync_fetch_cb cb = { 0 };
	struct sizes sz = { { NULL, 0, 0 }, 0, fs };
	struct uidv retry = { NULL, 0, 0 };
	struct sync_uidrange *rg;
	struct sync_error err;
	size_t nr;
	int rc;

	/* Messages this engine appended or moved here lie above the uidnext
	 * pulled up to, until a pull passes them: their flag changes and
	 * expunges upstream count as much as the others'. */
	if (store_sync_msg_max_ruid(fs->st, fs->p->id, fs->p->uidvalidity,
	    &fs->known_below) != 0)
		return sync_run_store_err(r, "read remote UIDs");
	fs->known_below = fs->known_below >= fs->p->uidnext ?
	    fs->known_below + 1 : fs->p->uidnext;
	if (retry_refused && store_sync_refused_pending(fs->st, fs->p->id,
	    fs->p->uidvalidity, SYNC_REFUSED_TRIES, &retry.v, &retry.n) != 0)
		return sync_run_store_err(r, "list refused messages");
	if (retry.n == 0 && (fs->rs.exists == 0 || (fs->rs.uidnext != 0 &&
	    fs->rs.uidnext <= fs->p->uidnext)))
		goto done;
	/* Sizes first: the progress bar's total, and the exact UIDs. */
	rg = wanted_ranges(&retry, fs->p->uidnext, &nr);
	req.ranges = rg;
	req.nranges = nr;
	cb.arg = &sz;
	cb.msg = size_msg;
	rc = r->d->ops->fetch(r->d, &req, &cb, &err);
	free(rg);
	if (rc != 0) {
		free(sz.uids.v);
		free(retry.v);
		return remote_fail(fs, &err);
	}
	if (sz.uids.n == 0) {
		rc = settle_refused(fs, &sz.uids, &retry);
		free(retry.v);
		if (rc != 0)
			return -1;
		goto done;
	}
	qsort(sz.uids.v, sz.uids.n, sizeof(*sz.uids.v), cmp_u32);
	r->prog.msgs_total += sz.uids.n;
	r->prog.bytes_total += sz.bytes;
	sync_run_progress(r, 1);
	rg = ranges_of(sz.uids.v, sz.uids.n, &nr);
	req.ranges = rg;
	req.nranges = nr;
	req.what = SYNC_FETCH_FLAGS | SYNC_FETCH_DATE | SYNC_FETCH_SIZE |
	    SYNC_FETCH_BODY;
	memset(&cb, 0, sizeof(cb));
	cb.arg = fs;
	cb.msg = pull_msg;
	cb.body = pull_body;
	cb.end = pull_end;
	rc = r->d->ops->fetch(r->d, &req, &cb, &err);
	free(rg);
	/* What arrived whole is kept, even when the connection broke. */
	store_append_abort(&fs->ap);
	if (rc == 0)
		rc = settle_refused(fs, &sz.uids, &retry);
	else if (!fs->failed) {
		remote_fail(fs, &err);
		txn_close(fs);
		rc = -1;
	}
	free(sz.uids.v);
	free(retry.v);
	if (rc != 0) {
		txn_abort(fs);
		return -1;
	}
done:
	/* Every UID below the server's UIDNEXT has been seen now. */
	if (fs->rs.uidnext > fs->p->uidnext)
		fs->p->uidnext = fs->rs.uidnext;
	return save_position(fs);
}

/* ---- 3. remote flag changes and expunges ---------------------------------- */

static int
remote_gone(struct fsync *fs, uint32_t ruid)
{
	struct store_sync_msg m;
	struct store_msg lm;

	if (store_sync_msg_find_remote(fs->st, fs->p->id, fs->p->uidvalidity,
	    ruid, &m) != 0)
		return 0;
	if (txn_open(fs) != 0)
		return -1;
	if (store_msg_get(fs->st, m.mailbox, m.uid, &lm) == 0) {
		if (store_msg_expunge(fs->st, m.mailbox, &m.uid, 1) != 0)
			return local_fail(fs, "expunge a message");
		fs->r->stats->expunged_in++;
	}
	if (store_sync_msg_delete(fs->st, m.mailbox, m.uid) != 0)
		return local_fail(fs, "forget a remote identity");
	fs->txn_msgs++;
	return 0;
}

static int
flags_vanished(void *arg, const uint32_t *uids, size_t n)
{
	struct fsync *fs = arg;
	size_t i;

	for (i = 0; i < n; i++)
		if (uids[i] < fs->known_below && remote_gone(fs, uids[i]) != 0)
			return -1;
	return 0;
}

static int
flags_msg(void *arg, const struct sync_msg_info *mi)
{
	struct fsync *fs = arg;
	struct store_sync_msg m;
	struct store_msg lm;
	uint32_t rkw[STORE_MAX_KEYWORDS], mkw[STORE_MAX_KEYWORDS], mflags;
	size_t nrkw, nmkw;

	uidv_add(&fs->seen, mi->uid);
	if (store_sync_msg_find_remote(fs->st, fs->p->id, fs->p->uidvalidity,
	    mi->uid, &m) != 0)
		return 0;
	if (store_msg_get(fs->st, m.mailbox, m.uid, &lm) != 0)
		return 0;	/* expunged locally: the push removes it */
	nrkw = kw_ids(fs, mi->keywords, mi->nkeywords, rkw);
	if (mi->flags == m.flags && kw_equal(rkw, nrkw, m.kw, m.nkw))
		return 0;	/* unchanged upstream */
	if (txn_open(fs) != 0)
		return -1;
	mflags = merge_flags(m.flags, lm.flags, mi->flags);
	nmkw = merge_kw(m.kw, m.nkw, lm.kw, lm.nkw, rkw, nrkw, mkw);
	if ((mflags != lm.flags || !kw_equal(mkw, nmkw, lm.kw, lm.nkw)) &&
	    set_local(fs, m.uid, mflags, mkw, nmkw) != 0)
		return -1;
	if (mflags != mi->flags || !kw_equal(mkw, nmkw, rkw, nrkw))
		uidv_add(&fs->dirty, m.uid);
	/* The base is the server's state now; the push sends the rest. */
	m.flags = mi->flags;
	m.nkw = (uint32_t)nrkw;
	memcpy(m.kw, rkw, nrkw * sizeof(*rkw));
	if (store_sync_msg_put(fs->st, &m) != 0)
		return local_fail(fs, "save a remote identity");
	fs->r->stats->flags_in++;
	if (++fs->txn_msgs >= FLAG_BATCH)
		return txn_close(fs);
	return 0;
}

/* Known UIDs (below known_below) missing from the sorted list have gone. */
static int
expunged_by_diff(struct fsync *fs, const struct uidv *present)
{
	uint32_t *known;
	size_t n, i;
	int rc = 0;

	if (store_sync_msg_ruids(fs->st, fs->p->id, fs->p->uidvalidity,
	    &known, &n) != 0)
		return sync_run_store_err(fs->r, "list remote UIDs");
	for (i = 0; i < n && rc == 0; i++)
		if (known[i] < fs->known_below && !uidv_has(present, known[i]))
			rc = remote_gone(fs, known[i]);
	free(known);
	return rc;
}

/* 1 if a known UID (below known_below) is missing from the sorted list,
 * 0 if not, -1 with r->err set. */
static int
missing_any(struct fsync *fs, const struct uidv *present)
{
	uint32_t *known;
	size_t n, i;
	int missing = 0;

	if (store_sync_msg_ruids(fs->st, fs->p->id, fs->p->uidvalidity,
	    &known, &n) != 0)
		return sync_run_store_err(fs->r, "list remote UIDs");
	for (i = 0; i < n && !missing; i++)
		missing = known[i] < fs->known_below &&
		    !uidv_has(present, known[i]);
	free(known);
	return missing;
}

/* Expunges by a complete listing of the folder's UIDs (UID SEARCH ALL). */
static int
expunged_by_listing(struct fsync *fs)
{
	struct sync_error err;
	struct uidv all = { NULL, 0, 0 };
	int rc;

	if (fs->r->d->ops->list_uids(fs->r->d, &all.v, &all.n, &err) != 0)
		return remote_fail(fs, &err);
	rc = expunged_by_diff(fs, &all);
	free(all.v);
	return rc;
}

/* With MODSEQs but no VANISHED: compare counts, list UIDs if they differ. */
static int
expunged_by_count(struct fsync *fs)
{
	size_t known;

	if (store_sync_msg_count(fs->st, fs->p->id, fs->p->uidvalidity,
	    &known) != 0)
		return sync_run_store_err(fs->r, "count identities");
	if (known == fs->rs.exists)
		return 0;
	return expunged_by_listing(fs);
}

static int
pull_flags(struct fsync *fs)
{
	struct sync_run *r = fs->r;
	struct sync_uidrange known = { 1, fs->known_below - 1 };
	struct sync_fetch_req req = { &known, 1, SYNC_FETCH_FLAGS, 0, 0 };
	struct sync_fetch_cb cb = { 0 };
	struct sync_error err;
	int modseqs, rc;

	modseqs = (r->d->caps & SYNC_CAP_CONDSTORE) &&
	    fs->rs.highestmodseq != 0 && fs->p->highestmodseq != 0;
	if (fs->known_below <= 1)
		goto done;
	if (modseqs && fs->rs.highestmodseq == fs->p->highestmodseq) {
		/* Nothing changed upstream; only an expunge without
		 * QRESYNC could hide, and the count shows it. */
		if (fs->rs.highestmodseq != 0 &&
		    !(r->d->caps & SYNC_CAP_QRESYNC) &&
		    expunged_by_count(fs) != 0)
			goto fail;
		goto done;
	}
	cb.arg = fs;
	cb.msg = flags_msg;
	cb.vanished = flags_vanished;
	if (modseqs) {
		req.changedsince = fs->p->highestmodseq;
		req.what |= SYNC_FETCH_MODSEQ;
		req.vanished = (r->d->caps & SYNC_CAP_QRESYNC) != 0;
	}
	rc = r->d->ops->fetch(r->d, &req, &cb, &err);
	if (rc != 0) {
		if (!fs->failed)
			remote_fail(fs, &err);
		goto fail;
	}
	if (!modseqs) {
		/* A message the scan did not report may still be there (a
		 * server that skips one it cannot read now): only a complete
		 * listing is evidence that it was expunged. */
		if (fs->seen.n > 0)
			qsort(fs->seen.v, fs->seen.n, sizeof(*fs->seen.v),
			    cmp_u32);
		if ((rc = missing_any(fs, &fs->seen)) < 0 ||
		    (rc > 0 && expunged_by_listing(fs) != 0))
			goto fail;
	} else if (!(r->d->caps & SYNC_CAP_QRESYNC) &&
	    expunged_by_count(fs) != 0)
		goto fail;
done:
	fs->p->highestmodseq = fs->rs.highestmodseq;
	return save_position(fs);
fail:
	txn_abort(fs);
	return -1;
}

/* ---- 4. push local changes -------------------------------------------- */

/* A set of flag changes that share one STORE. */
struct fgroup {
	uint32_t	 addf, remf;
	uint32_t	 addkw[STORE_MAX_KEYWORDS], remkw[STORE_MAX_KEYWORDS];
	size_t		 nadd, nrem;
	struct uidv	 ruids;
	struct store_sync_msg *rows;	/* new bases, parallel to ruids */
	size_t		 nrows;
};

static struct fgroup *
group_for(struct fgroup **g, size_t *ng, uint32_t addf, uint32_t remf,
    const uint32_t *addkw, size_t nadd, const uint32_t *remkw, size_t nrem)
{
	size_t i;

	for (i = 0; i < *ng; i++) {
		struct fgroup *x = &(*g)[i];

		if (x->addf == addf && x->remf == remf &&
		    kw_equal(x->addkw, x->nadd, addkw, nadd) &&
		    kw_equal(x->remkw, x->nrem, remkw, nrem))
			return x;
	}
	*g = xreallocarray(*g, *ng + 1, sizeof(**g));
	memset(&(*g)[*ng], 0, sizeof(**g));
	(*g)[*ng].addf = addf;
	(*g)[*ng].remf = remf;
	memcpy((*g)[*ng].addkw, addkw, nadd * sizeof(*addkw));
	memcpy((*g)[*ng].remkw, remkw, nrem * sizeof(*remkw));
	(*g)[*ng].nadd = nadd;
	(*g)[*ng].nrem = nrem;
	return &(*g)[(*ng)++];
}

/* Keyword ids to names for the driver; the caller frees with kw_free. */
static size_t
kw_names(struct fsync *fs, const uint32_t *ids, size_t n, char **names)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (store_keyword_name(fs->st, fs->r->acct, ids[i],
		    &names[k]) == 0)
			k++;
	return k;
}

static void
kw_free(char **names, size_t n)
{
	while (n-- > 0)
		free(names[n]);
}

static int
store_group(struct fsync *fs, const struct fgroup *g)
{
	struct sync_run *r = fs->r;
	struct sync_flag_change ch;
	struct sync_error err;
	char *names[STORE_MAX_KEYWORDS];
	size_t n, i;
	int rc = 0;

	if (g->addf != 0 || g->nadd > 0) {
		n = kw_names(fs, g->addkw, g->nadd, names);
		ch.op = SYNC_FLAGS_ADD;
		ch.flags = g->addf;
		ch.keywords = (const char *const *)names;
		ch.nkeywords = n;
		rc = r->d->ops->store_flags(r->d, g->ruids.v, g->ruids.n, &ch,
		    &err);
		kw_free(names, n);
	}
	if (rc == 0 && (g->remf != 0 || g->nrem > 0)) {
		n = kw_names(fs, g->remkw, g->nrem, names);
		ch.op = SYNC_FLAGS_REMOVE;
		ch.flags = g->remf;
		ch.keywords = (const char *const *)names;
		ch.nkeywords = n;
		rc = r->d->ops->store_flags(r->d, g->ruids.v, g->ruids.n, &ch,
		    &err);
		kw_free(names, n);
	}
	if (rc != 0)
		return remote_fail(fs, &err);
	if (txn_open(fs) != 0)
		return -1;
	for (i = 0; i < g->nrows; i++)
		if (store_sync_msg_put(fs->st, &g->rows[i]) != 0)
			return local_fail(fs, "save a remote identity");
	r->stats->flags_out += g->nrows;
	return txn_close(fs);
}

/* Differences local - base, as additions and removals. */
static void
diff_kw(const uint32_t *from, size_t nfrom, const uint32_t *to, size_t nto,
    uint32_t *out, size_t *n_r)
{
	size_t i, n = 0;

	for (i = 0; i < nto; i++)
		if (!kw_has(from, nfrom, to[i]))
			out[n++] = to[i];
	*n_r = n;
}

/* Is content c, now without a settled identity, in another paired
 * mailbox of the account? Then a local expunge here is half of a move,
 * which that folder's push makes a MOVE upstream. */
static int
moved_elsewhere(struct fsync *fs, int64_t content)
{
	struct sync_run *r = fs->r;
	uint32_t uid;
	size_t i;

	for (i = 0; i < r->npairs; i++) {
		struct store_sync_folder *q = &r->pairs[i];

		if (q->id == fs->p->id || q->mailbox == 0)
			continue;
		if (store_sync_msg_unbound(fs->st, q->mailbox, content,
		    q->uidvalidity, &uid) == 0)
			return 1;
	}
	return 0;
}

static struct store_sync_folder *
pair_by_id(struct sync_run *r, int64_t folder)
{
	size_t i;

	for (i = 0; i < r->npairs; i++)
		if (r->pairs[i].id == folder)
			return &r->pairs[i];
	return NULL;
}

/*
 * Local moves and copies. A new local message whose content a remote
 * message of another paired folder has is a local move (that message's
 * local copy is gone) or copy, and goes up as MOVE / COPY from there,
 * never as an APPEND of the bytes. All such messages of a push are
 * grouped by source folder and verb: one SELECT and one command per
 * group, however many messages.
 */
struct mplan {
	uint32_t	 uid;		/* the new local message */
	int64_t		 content;
	struct store_sync_folder *q;	/* the source pair */
	struct store_sync_msg src;	/* the source message's identity:
					 * its UID, and the flags the copy
					 * is merged against */
	int		 move;
	uint32_t	 newuid;	/* in this folder, 0 if unknown */
	int		 copied;	/* the server made the copy, or gave
					 * no COPYUID to tell (no UIDPLUS,
					 * or nothing copied at all) */
};

/* 1 if identity (mailbox, uid) is already some plan's source. */
static int
planned(const struct mplan *pl, size_t n, const struct store_sync_msg *m)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pl[i].src.mailbox == m->mailbox && pl[i].src.uid == m->uid)
			return 1;
	return 0;
}

/*
 * Plan lm as a move or copy into pl[*n] if a remote message elsewhere
 * has its content (each remote message is the source of one plan at
 * most: a second local copy is appended). A source whose local copy is
 * gone (moved away here) comes first: that is where the message came
 * from, and a copy of it elsewhere (pulled meanwhile, say) must not
 * leave it upstream. 0, or -1 with r->err set.
 */
static int
plan_move(struct fsync *fs, const struct store_msg *lm, struct mplan *pl,
    size_t *n)
{
	struct sync_run *r = fs->r;
	struct store_sync_msg *v = NULL;
	struct store_sync_folder *q, *pick = NULL;
	struct store_msg other;
	size_t nv, i, at = 0;
	int move, best = -1;

	if (store_sync_msg_by_content(fs->st, r->acct, lm->content, &v,
	    &nv) != 0)
		return sync_run_store_err(r, "look up a message's content");
	for (i = 0; i < nv && best < 1; i++) {
		q = pair_by_id(r, v[i].folder);
		if (v[i].state != STORE_SYNC_BOUND || q == NULL ||
		    q->mailbox == 0 || q->id == fs->p->id ||
		    v[i].ruidvalidity != q->uidvalidity ||
		    planned(pl, *n, &v[i]))
			continue;
		move = store_msg_get(fs->st, v[i].mailbox, v[i].uid,
		    &other) != 0;
		if (!move && !(r->d->caps & SYNC_CAP_UIDPLUS))
			continue;	/* a copy we could not bind: APPEND */
		if (move > best) {
			best = move;
			pick = q;
			at = i;
		}
	}
	if (pick != NULL) {
		memset(&pl[*n], 0, sizeof(pl[*n]));
		pl[*n].uid = lm->uid;
		pl[*n].content = lm->content;
		pl[*n].q = pick;
		pl[*n].src = v[at];
		pl[*n].move = best;
		(*n)++;
	}
	free(v);
	return 0;
}

static int
cmp_plan(const void *a, const void *b)
{
	const struct mplan *x = a, *y = b;

	if (x->q->id != y->q->id)
		return x->q->id < y->q->id ? -1 : 1;
	if (x->move != y->move)
		return x->move - y->move;
	return x->src.ruid < y->src.ruid ? -1 : x->src.ruid > y->src.ruid;
}

/* Plans and the fsync, for the fetch callbacks below. */
struct moved_flags {
	struct fsync	*fs;
	struct mplan	*pl;
	size_t		 n;
};

/* Record the new copies of one group, and forget moved sources (also
 * those the server did not copy: they were expunged, and their local
 * copies go up as APPENDs). */
static int
record_group(struct fsync *fs, const struct mplan *pl, size_t n,
    uint32_t uv)
{
	struct store_sync_msg nm;
	size_t i;
	int rc = txn_open(fs);

	for (i = 0; i < n && rc == 0; i++) {
		if (pl[i].move && store_sync_msg_delete(fs->st,
		    pl[i].src.mailbox, pl[i].src.uid) != 0)
			rc = local_fail(fs, "forget a remote identity");
		if (!pl[i].copied || rc != 0)
			continue;
		memset(&nm, 0, sizeof(nm));
		nm.mailbox = fs->p->mailbox;
		nm.uid = pl[i].uid;
		nm.folder = fs->p->id;
		nm.ruidvalidity = fs->p->uidvalidity;
		nm.content = pl[i].content;
		/* The copy upstream has the source's flags: the base. */
		nm.flags = pl[i].src.flags;
		nm.nkw = pl[i].src.nkw;
		memcpy(nm.kw, pl[i].src.kw, nm.nkw * sizeof(*nm.kw));
		if (pl[i].newuid != 0 && uv == fs->p->uidvalidity) {
			nm.ruid = pl[i].newuid;
			nm.state = STORE_SYNC_BOUND;
		} else
			nm.state = STORE_SYNC_APPENDED;	/* the pull binds it */
		if (store_sync_msg_put(fs->st, &nm) != 0)
			rc = local_fail(fs, "save a remote identity");
	}
	if (rc == 0)
		return txn_close(fs);
	txn_abort(fs);
	return -1;
}

/* A source's flags as the server has them now, into its plan. */
static int
source_flags_msg(void *arg, const struct sync_msg_info *mi)
{
	struct moved_flags *mf = arg;
	size_t i;

	for (i = 0; i < mf->n; i++)
		if (mf->pl[i].src.ruid == mi->uid) {
			mf->pl[i].src.flags = mi->flags;
			mf->pl[i].src.nkw = (uint32_t)kw_ids(mf->fs,
			    mi->keywords, mi->nkeywords, mf->pl[i].src.kw);
		}
	return 0;
}

/*
 * A local copy is a new message with the flags it has here, whatever the
 * source's upstream flags: its merge base is the source's upstream flags
 * read now, before the COPY (which carries them), so the merge after it
 * (and after a crash, the next pull's) gives the local flags. Its
 * source's own flags merge as usual. Run with the source selected.
 */
static int
source_flags(struct fsync *fs, struct mplan *pl, size_t n,
    const uint32_t *sorted, struct sync_error *err)
{
	struct moved_flags mf = { fs, pl, n };
	struct sync_fetch_req req = { NULL, 0, SYNC_FETCH_FLAGS, 0, 0 };
	struct sync_fetch_cb cb = { &mf, source_flags_msg, NULL, NULL, NULL };
	int rc;

	req.ranges = ranges_of(sorted, n, &req.nranges);
	rc = fs->r->d->ops->fetch(fs->r->d, &req, &cb, err);
	free((void *)req.ranges);
	return rc;
}

/* Moved sources the server did not copy (its COPYUID left them out):
 * gone upstream meanwhile, or left there; their local copies are gone
 * (moved away), so they are expunged, and the moved messages go up as
 * APPENDs. Run with the source selected. */
static int
expunge_uncopied(struct fsync *fs, const struct mplan *pl, size_t n,
    struct sync_error *err)
{
	struct uidv v = { NULL, 0, 0 };
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (pl[i].move && !pl[i].copied)
			uidv_add(&v, pl[i].src.ruid);
	if (v.n > 0)
		rc = fs->r->d->ops->expunge(fs->r->d, v.v, v.n, err);
	free(v.v);
	return rc;
}

/* One SELECT of the source and one MOVE or COPY for n plans. */
static int
move_group(struct fsync *fs, struct mplan *pl, size_t n)
{
	struct sync_run *r = fs->r;
	struct store_sync_folder *src = pl[0].q;
	struct sync_folder_status ss;
	struct sync_error err;
	uint32_t *ruids = xcalloc(n, sizeof(*ruids));
	uint32_t *newuids = xcalloc(n, sizeof(*newuids)), uv = 0;
	size_t i, copied = 0;
	int rc;

	for (i = 0; i < n; i++)
		ruids[i] = pl[i].src.ruid;
	rc = r->d->ops->select(r->d, src->name, &ss, &err);
	if (rc == 0 && ss.uidvalidity != src->uidvalidity) {
		/* Renumbered upstream since the last sync: its UIDs name
		 * nothing now, so these go up as new messages (APPEND), and
		 * the source folder's own sync matches its messages again. */
		free(ruids);
		free(newuids);
		sync_run_log(r, SYNC_LOG_INFO, "%s: renumbered upstream; %zu "
		    "message%s moved or copied from it here %s sent as new",
		    src->name, n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
		return 0;
	}
	if (rc == 0 && !pl[0].move)
		rc = source_flags(fs, pl, n, ruids, &err);
	if (rc == 0)
		rc = r->d->ops->copy(r->d, ruids, n, fs->p->name, pl[0].move,
		    newuids, &uv, &err);
	/* Without a COPYUID (no UIDPLUS; or a server that copied nothing
	 * and so said nothing) the copies are looked up by Message-ID once
	 * this folder is selected again (find_copies()). */
	for (i = 0; i < n && rc == 0; i++) {
		pl[i].newuid = newuids[i];
		pl[i].copied = newuids[i] != 0 || uv == 0;
		copied += pl[i].copied;
	}
	if (rc == 0 && uv != 0)
		rc = expunge_uncopied(fs, pl, n, &err);
	free(ruids);
	free(newuids);
	if (rc != 0)
		return remote_fail(fs, &err);
	if (record_group(fs, pl, n, uv) != 0)
		return -1;
	r->stats->moved += copied;
	fs->added += copied;
	fs->moved_here = 1;
	return 0;
}

static int
moved_flags_msg(void *arg, const struct sync_msg_info *mi)
{
	struct moved_flags *mf = arg;
	uint32_t kw[STORE_MAX_KEYWORDS];
	size_t i, nkw;

	for (i = 0; i < mf->n; i++)
		if (mf->pl[i].newuid == mi->uid)
			break;
	if (i == mf->n)
		return 0;
	nkw = kw_ids(mf->fs, mi->keywords, mi->nkeywords, kw);
	return bind_identity(mf->fs, mf->pl[i].uid, mi->uid, mi->flags, kw,
	    nkw, &mf->pl[i].src);
}

/*
 * The moved copies' flags as the server has them now, merged three-way
 * with the local ones against the source's last synced flags: a flag
 * changed upstream on the source after the last sync (and so never
 * pulled: its local copy had moved away) reaches the local copy, and a
 * local change since then still goes up. Run with this folder selected.
 */
static int
merge_moved(struct fsync *fs, struct mplan *pl, size_t n)
{
	struct sync_run *r = fs->r;
	struct moved_flags mf = { fs, pl, n };
	struct sync_fetch_req req = { NULL, 0, SYNC_FETCH_FLAGS, 0, 0 };
	struct sync_fetch_cb cb = { &mf, moved_flags_msg, NULL, NULL, NULL };
	struct store_sync_msg m;
	struct sync_error err;
	struct uidv uids = { NULL, 0, 0 };
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if (store_sync_msg_get(fs->st, fs->p->mailbox, pl[i].uid,
		    &m) == 0 && m.state == STORE_SYNC_BOUND)
			uidv_add(&uids, m.ruid);
	if (uids.n == 0)
		return 0;
	qsort(uids.v, uids.n, sizeof(*uids.v), cmp_u32);
	req.ranges = ranges_of(uids.v, uids.n, &req.nranges);
	rc = txn_open(fs);
	if (rc == 0 && r->d->ops->fetch(r->d, &req, &cb, &err) != 0) {
		if (!fs->failed)
			remote_fail(fs, &err);
		rc = -1;
	}
	free((void *)req.ranges);
	free(uids.v);
	if (rc == 0)
		return txn_close(fs);
	txn_abort(fs);
	return -1;
}

struct append_src {
	struct store_reader *rd;
};

static ssize_t
append_read(void *arg, void *buf, size_t n)
{
	struct append_src *a = arg;

	return store_reader_read(a->rd, buf, n);
}

/*
 * After an APPEND or a MOVE/COPY that gave no UID (no UIDPLUS): find the
 * copy of content by its Message-ID (UID SEARCH HEADER) among the UIDs
 * the pull has not seen, so the next pull need not download our own
 * message again to bind it. Only a single candidate is taken. Returns
 * the UID; 0 if the search found none; -2 if it cannot tell (no
 * Message-ID, no search, a folder error, several candidates); -1 after
 * an account-scope failure.
 */
static int64_t
find_copy(struct fsync *fs, int64_t content)
{
	struct sync_run *r = fs->r;
	struct store_sync_msg old;
	struct sync_error err;
	char msgid[256];
	uint32_t *uids = NULL, pick = 0;
	size_t n = 0, i, found = 0;

	if (r->d->ops->search_msgid == NULL ||
	    local_msgid(fs->st, content, msgid, sizeof(msgid)) != 0)
		return -2;
	if (r->d->ops->search_msgid(r->d, msgid, &uids, &n, &err) != 0) {
		if (err.scope == SYNC_SCOPE_ACCOUNT) {
			r->err = err;
			return -1;
		}
		return -2;
	}
	for (i = 0; i < n; i++)
		if (uids[i] >= fs->p->uidnext &&
		    store_sync_msg_find_remote(fs->st, fs->p->id,
		    fs->p->uidvalidity, uids[i], &old) != 0) {
			pick = uids[i];
			found++;
		}
	free(uids);
	return found == 1 ? (int64_t)pick : found == 0 ? 0 : -2;
}

/* APPEND a local message, announced in the store first. */
static int
push_append(struct fsync *fs, const struct store_msg *lm)
{
	struct sync_run *r = fs->r;
	struct store_sync_msg m;
	struct sync_append_src src;
	struct append_src a = { NULL };
	struct sync_error err;
	char *names[STORE_MAX_KEYWORDS];
	size_t nk;
	uint32_t ruid = 0, uv = 0;
	int64_t found;
	int rc;

	memset(&m, 0, sizeof(m));
	m.mailbox = fs->p->mailbox;
	m.uid = lm->uid;
	m.folder = fs->p->id;
	m.ruidvalidity = fs->p->uidvalidity;
	m.state = STORE_SYNC_APPENDING;
	m.flags = lm->flags;
	m.content = lm->content;
	m.nkw = lm->nkw;
	memcpy(m.kw, lm->kw, lm->nkw * sizeof(*lm->kw));
	if (store_sync_msg_put(fs->st, &m) != 0)
		return sync_run_store_err(r, "save a remote identity");
	if (store_reader_open(fs->st, lm->content, &a.rd) != 0)
		return sync_run_store_err(r, "read a message");
	nk = kw_names(fs, lm->kw, lm->nkw, names);
	memset(&src, 0, sizeof(src));
	src.size = store_reader_size(a.rd);
	src.flags = lm->flags;
	src.keywords = (const char *const *)names;
	src.nkeywords = nk;
	src.internaldate = lm->internaldate;
	src.tzoff = lm->tzoff;
	src.arg = &a;
	src.read = append_read;
	rc = r->d->ops->append(r->d, fs->p->name, &src, &ruid, &uv, &err);
	store_reader_close(&a.rd);
	kw_free(names, nk);
	if (rc != 0)
		return remote_fail(fs, &err);
	m.flags = src.flags;
	if (ruid != 0 && uv == fs->p->uidvalidity) {
		m.ruid = ruid;
		m.state = STORE_SYNC_BOUND;
	} else
		m.state = STORE_SYNC_APPENDED;
	if (store_sync_msg_put(fs->st, &m) != 0)
		return sync_run_store_err(r, "save a remote identity");
	r->stats->appended++;
	fs->added++;
	if (m.state == STORE_SYNC_BOUND || uv != 0)
		return 0;
	/* No APPENDUID: look the copy up, recorded as APPENDED first so a
	 * failure here leaves the pull to bind it. */
	found = find_copy(fs, lm->content);
	if (found == -1)
		return -1;
	if (found > 0) {
		m.ruid = (uint32_t)found;
		m.state = STORE_SYNC_BOUND;
		if (store_sync_msg_put(fs->st, &m) != 0)
			return sync_run_store_err(r, "save a remote identity");
	}
	return 0;
}

/* Expunge upstream the messages expunged here since the last push. */
static int
push_expunges(struct fsync *fs)
{
	struct sync_run *r = fs->r;
	struct store_sync_msg m;
	struct sync_error err;
	struct uidv ruids = { NULL, 0, 0 }, locals = { NULL, 0, 0 };
	uint32_t *gone;
	size_t n, i;
	int rc = 0;

	if (store_msg_vanished(fs->st, fs->p->mailbox, fs->p->local_modseq,
	    &gone, &n) != 0)
		return sync_run_store_err(r, "list expunged messages");
	for (i = 0; i < n; i++) {
		if (store_sync_msg_get(fs->st, fs->p->mailbox, gone[i],
		    &m) != 0)
			continue;
		if (m.state == STORE_SYNC_BOUND &&
		    m.ruidvalidity == fs->p->uidvalidity) {
			if (moved_elsewhere(fs, m.content)) {
				fs->pending_moves++;
				continue;
			}
			uidv_add(&ruids, m.ruid);
		}
		uidv_add(&locals, gone[i]);
	}
	free(gone);
	if (ruids.n > 0 && r->d->ops->expunge(r->d, ruids.v, ruids.n,
	    &err) != 0)
		rc = remote_fail(fs, &err);
	if (rc == 0 && locals.n > 0) {
		rc = txn_open(fs);
		for (i = 0; i < locals.n && rc == 0; i++)
			if (store_sync_msg_delete(fs->st, fs->p->mailbox,
			    locals.v[i]) != 0)
				rc = local_fail(fs, "forget a remote identity");
		if (rc == 0)
			rc = txn_close(fs);
		else
			txn_abort(fs);
	}
	r->stats->expunged_out += rc == 0 ? ruids.n : 0;
	free(ruids.v);
	free(locals.v);
	return rc;
}

static void
groups_free(struct fgroup *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(g[i].ruids.v);
		free(g[i].rows);
	}
	free(g);
}

/* Sort one changed local message into flag groups or the new list. */
static void
classify(struct fsync *fs, const struct store_msg *lm, struct fgroup **g,
    size_t *ng, struct uidv *fresh)
{
	struct store_sync_msg m;
	struct fgroup *x;
	uint32_t add[STORE_MAX_KEYWORDS], rem[STORE_MAX_KEYWORDS];
	size_t nadd, nrem;
	uint32_t addf, remf;

	if (store_sync_msg_get(fs->st, fs->p->mailbox, lm->uid, &m) != 0) {
		uidv_add(fresh, lm->uid);
		return;
	}
	if (m.state == STORE_SYNC_APPENDING &&
	    m.ruidvalidity == fs->p->uidvalidity) {
		/* Announced by a run that died before or during the
		 * APPEND, and not found upstream by this run's pull: it
		 * was not made. */
		uidv_add(fresh, lm->uid);
		return;
	}
	if (m.state != STORE_SYNC_BOUND || m.ruidvalidity !=
	    fs->p->uidvalidity)
		return;
	addf = lm->flags & ~m.flags;
	remf = m.flags & ~lm->flags;
	diff_kw(m.kw, m.nkw, lm->kw, lm->nkw, add, &nadd);
	diff_kw(lm->kw, lm->nkw, m.kw, m.nkw, rem, &nrem);
	if (addf == 0 && remf == 0 && nadd == 0 && nrem == 0)
		return;
	x = group_for(g, ng, addf, remf, add, nadd, rem, nrem);
	uidv_add(&x->ruids, m.ruid);
	x->rows = xreallocarray(x->rows, x->nrows + 1, sizeof(*x->rows));
	m.flags = lm->flags;
	m.nkw = lm->nkw;
	memcpy(m.kw, lm->kw, lm->nkw * sizeof(*lm->kw));
	x->rows[x->nrows++] = m;
}

/*
 * Copies the server gave no UIDs for (no COPYUID): each is looked up by
 * its Message-ID in this folder (selected). Found: bound now, so its
 * flags merge below. Found nowhere: the server did not copy it (its
 * source was gone), so its identity is dropped and it goes up as an
 * APPEND. Cannot tell: the pull after the push binds it by content, or
 * the next run sends it again (resend_lost()).
 */
static int
find_copies(struct fsync *fs, struct mplan *pl, size_t n)
{
	struct store_sync_msg m;
	int64_t found;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!pl[i].copied || pl[i].newuid != 0)
			continue;
		if ((found = find_copy(fs, pl[i].content)) == -1)
			return -1;
		if (found == -2 || store_sync_msg_get(fs->st, fs->p->mailbox,
		    pl[i].uid, &m) != 0)
			continue;
		if (found == 0) {
			pl[i].copied = 0;
			if (store_sync_msg_delete(fs->st, fs->p->mailbox,
			    pl[i].uid) != 0)
				return local_fail(fs, "forget a remote "
				    "identity");
			continue;
		}
		pl[i].newuid = m.ruid = (uint32_t)found;
		m.state = STORE_SYNC_BOUND;
		if (store_sync_msg_put(fs->st, &m) != 0)
			return local_fail(fs, "save a remote identity");
	}
	return 0;
}

/* A moved-away source to expunge (retire_sources). */
struct retire {
	struct store_sync_folder *q;
	struct store_sync_msg m;
};

static int
cmp_retire(const void *a, const void *b)
{
	const struct retire *x = a, *y = b;

	if (x->q->id != y->q->id)
		return x->q->id < y->q->id ? -1 : 1;
	return x->m.ruid < y->m.ruid ? -1 : x->m.ruid > y->m.ruid;
}

/* The moved-away sources of content c: bound upstream in another pair,
 * their local copies gone. */
static int
sources_of(struct fsync *fs, int64_t c, struct retire **v, size_t *n)
{
	struct sync_run *r = fs->r;
	struct store_sync_msg *ids = NULL;
	struct store_msg lm;
	size_t nid, i;

	if (store_sync_msg_by_content(fs->st, r->acct, c, &ids, &nid) != 0)
		return sync_run_store_err(r, "look up a message's content");
	for (i = 0; i < nid; i++) {
		struct store_sync_folder *q = pair_by_id(r, ids[i].folder);

		if (ids[i].state != STORE_SYNC_BOUND || q == NULL ||
		    q->mailbox == 0 || q->id == fs->p->id ||
		    ids[i].ruidvalidity != q->uidvalidity ||
		    store_msg_get(fs->st, ids[i].mailbox, ids[i].uid, &lm) == 0)
			continue;
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[*n].q = q;
		(*v)[*n].m = ids[i];
		(*n)++;
	}
	free(ids);
	return 0;
}

/* Expunge one source folder's retired messages and forget them. */
static int
retire_group(struct fsync *fs, const struct retire *v, size_t n)
{
	struct sync_run *r = fs->r;
	struct sync_folder_status ss;
	struct sync_error err;
	uint32_t *ruids = xcalloc(n, sizeof(*ruids));
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		ruids[i] = v[i].m.ruid;
	rc = r->d->ops->select(r->d, v[0].q->name, &ss, &err);
	if (rc == 0 && ss.uidvalidity != v[0].q->uidvalidity)
		rc = sync_error_set(&err, SYNC_SCOPE_FOLDER, SYNC_RETRY_LATER,
		    SYNC_EK_OTHER, "%s was renumbered meanwhile",
		    v[0].q->name);
	if (rc == 0)
		rc = r->d->ops->expunge(r->d, ruids, n, &err);
	free(ruids);
	if (rc != 0)
		return remote_fail(fs, &err);
	if (txn_open(fs) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (store_sync_msg_delete(fs->st, v[i].m.mailbox,
		    v[i].m.uid) != 0) {
			txn_abort(fs);
			return local_fail(fs, "forget a remote identity");
		}
	r->stats->expunged_out += n;
	return txn_close(fs);
}

/*
 * A local message the pull bound by content (the same bytes arrived here
 * upstream: another client moved the message here too) may be a local
 * move whose source is still upstream: bound there, its local copy gone.
 * No MOVE is made for it then, so the source is expunged, as its local
 * copy was deleted here (moved away); one SELECT per source folder. *n_r:
 * how many. 0, or -1 with r->err set.
 */
static int
retire_sources(struct fsync *fs, size_t *n_r)
{
	struct retire *v = NULL;
	struct store_msg lm;
	size_t n = 0, i, j;
	int rc = 0;

	for (i = 0; i < fs->bound.n && rc == 0; i++)
		if (store_msg_get(fs->st, fs->p->mailbox, fs->bound.v[i],
		    &lm) == 0)
			rc = sources_of(fs, lm.content, &v, &n);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_retire);
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i + 1; j < n && v[j].q == v[i].q; j++)
			;
		rc = retire_group(fs, &v[i], j - i);
	}
	free(v);
	*n_r = n;
	return rc;
}

/* Local MOVEs and COPYs first: what they bind is then pushed like the
 * rest. The local UIDs they bound go into *done and the dirty list, so
 * their flags are read afresh (the merge may have changed them); those
 * the server did not copy are left out, to go up as APPENDs. 0, or -1
 * with r->err set. */
static int
push_moves(struct fsync *fs, const struct store_msg *msgs, size_t n,
    struct uidv *done)
{
	struct sync_run *r = fs->r;
	struct store_sync_msg m;
	struct sync_folder_status ss;
	struct sync_error err;
	struct mplan *pl = xcalloc(n + 1, sizeof(*pl));
	size_t npl = 0, away = 0, i, j;
	int rc = retire_sources(fs, &away);

	for (i = 0; i < n && rc == 0; i++)
		if (store_sync_msg_get(fs->st, fs->p->mailbox, msgs[i].uid,
		    &m) != 0)
			rc = plan_move(fs, &msgs[i], pl, &npl);
	if (npl > 0)
		qsort(pl, npl, sizeof(*pl), cmp_plan);
	for (i = 0; i < npl && rc == 0; i = j) {
		for (j = i + 1; j < npl && pl[j].q == pl[i].q &&
		    pl[j].move == pl[i].move; j++)
			;
		rc = move_group(fs, &pl[i], j - i);
	}
	if (rc == 0 && (npl > 0 || away > 0)) {
		if (r->d->ops->select(r->d, fs->p->name, &ss, &err) != 0)
			rc = remote_fail(fs, &err);
		else if (ss.uidvalidity == fs->p->uidvalidity) {
			/* The status catch_up() starts from. */
			fs->rs = ss;
			fs->added = 0;
		}
		if (rc == 0 && ss.uidvalidity == fs->p->uidvalidity &&
		    npl > 0) {
			rc = find_copies(fs, pl, npl);
			if (rc == 0)
				rc = merge_moved(fs, pl, npl);
		}
	}
	for (i = 0; i < npl && rc == 0; i++)
		if (pl[i].copied) {
			uidv_add(done, pl[i].uid);
			uidv_add(&fs->dirty, pl[i].uid);
		}
	if (done->n > 0)
		qsort(done->v, done->n, sizeof(*done->v), cmp_u32);
	free(pl);
	return rc;
}

/*
 * Local messages an earlier run sent (APPEND, or a MOVE or COPY without
 * UIDPLUS) whose copy upstream this run's pull did not find: every UID a
 * copy could have got was pulled from, so it is not there (its source
 * was gone, it was expunged before we learnt its UID, or the run died
 * before sending it). They go into *fresh to be sent again: the last copy
 * is here, and a message recorded as sent must be upstream.
 */
static int
resend_lost(struct fsync *fs, struct uidv *fresh)
{
	struct store_sync_msg m;
	struct store_msg lm;
	size_t i, j, n = 0;

	for (i = 0; i < fs->inflight.n; i++) {
		if (store_sync_msg_get(fs->st, fs->p->mailbox,
		    fs->inflight.v[i], &m) != 0 || m.state == STORE_SYNC_BOUND ||
		    m.ruidvalidity != fs->p->uidvalidity ||
		    store_msg_get(fs->st, fs->p->mailbox, fs->inflight.v[i],
		    &lm) != 0)
			continue;
		for (j = 0; j < fresh->n && fresh->v[j] != lm.uid; j++)
			;
		if (j == fresh->n) {
			uidv_add(fresh, lm.uid);
			n++;
		}
	}
	if (n > 0)
		sync_run_log(fs->r, SYNC_LOG_INFO, "%s: %zu message%s sent by an "
		    "earlier sync %s not upstream; sending again", fs->p->name,
		    n, n == 1 ? "" : "s", n == 1 ? "is" : "are");
	return 0;
}

static int
push_local(struct fsync *fs)
{
	struct sync_run *r = fs->r;
	struct store_msg *msgs = NULL, lm;
	struct fgroup *g = NULL;
	struct uidv fresh = { NULL, 0, 0 }, listed = { NULL, 0, 0 };
	struct uidv moved = { NULL, 0, 0 };
	size_t n = 0, ng = 0, i;
	uint64_t upto;
	int rc = 0;

	if (store_sync_mailbox_modseq(fs->st, fs->p->mailbox, &upto) != 0)
		return sync_run_store_err(r, "read the mailbox");
	if (upto == fs->p->local_modseq && fs->dirty.n == 0 &&
	    fs->inflight.n == 0)
		return 0;
	if (store_msg_list(fs->st, fs->p->mailbox, fs->p->local_modseq, &msgs,
	    &n) != 0)
		return sync_run_store_err(r, "list changed messages");
	rc = push_moves(fs, msgs, n, &moved);
	/* A moved message's flags changed in its merge: the dirty list
	 * below reads them again. */
	for (i = 0; i < n && rc == 0; i++) {
		if (uidv_has(&moved, msgs[i].uid))
			continue;
		classify(fs, &msgs[i], &g, &ng, &fresh);
		uidv_add(&listed, msgs[i].uid);
	}
	free(moved.v);
	free(msgs);
	/* Messages whose merge left the server behind, changed here or not. */
	if (fs->dirty.n > 0)
		qsort(fs->dirty.v, fs->dirty.n, sizeof(*fs->dirty.v),
		    cmp_u32);
	for (i = 0; i < fs->dirty.n && rc == 0; i++) {
		if ((i > 0 && fs->dirty.v[i] == fs->dirty.v[i - 1]) ||
		    uidv_has(&listed, fs->dirty.v[i]))
			continue;
		if (store_msg_get(fs->st, fs->p->mailbox, fs->dirty.v[i],
		    &lm) == 0)
			classify(fs, &lm, &g, &ng, &fresh);
	}
	free(listed.v);
	if (rc == 0)
		rc = resend_lost(fs, &fresh);
	for (i = 0; i < ng && rc == 0; i++)
		rc = store_group(fs, &g[i]);
	groups_free(g, ng);
	if (rc == 0)
		rc = push_expunges(fs);
	for (i = 0; i < fresh.n && rc == 0; i++) {
		if (store_msg_get(fs->st, fs->p->mailbox, fresh.v[i], &lm) != 0)
			continue;	/* expunged meanwhile */
		rc = push_append(fs, &lm);
	}
	free(fresh.v);
	if (rc != 0)
		return -1;
	/* A local move out of here that another folder's push is to make
	 * keeps this push's mark where it was: should that push never make
	 * it (its copy deleted here first, say), the next run sees the
	 * expunge again and sends it. Pushing again is idempotent. */
	if (fs->pending_moves == 0)
		fs->p->local_modseq = upto;
	return save_position(fs);
}

/*
 * After a push that put messages here (APPEND, MOVE, COPY): pull from
 * uidnext on, so uidnext passes our own messages (known: skipped, not
 * fetched) and whatever arrived meanwhile (pulled). Then every UID below
 * it is one the engine knows, which is what a mailbox deleted here takes
 * upstream with it (engine.c, deleted_here()). The folder is selected
 * again unless the push's last SELECT of it came after all it added.
 */
static int
catch_up(struct fsync *fs)
{
	struct sync_error err;

	if (fs->added > 0 && fs->r->d->ops->select(fs->r->d, fs->p->name,
	    &fs->rs, &err) != 0)
		return remote_fail(fs, &err);
	if (fs->rs.uidvalidity != fs->p->uidvalidity)
		return 0;	/* renumbered meanwhile: the next run sees it */
	return pull_new(fs, 0);
}

/* ---- the folder ------------------------------------------------------------ */

/* The messages sent upstream by earlier runs whose remote UID is not
 * known yet, before the pull binds what it finds (resend_lost()). */
static int
note_inflight(struct fsync *fs)
{
	struct store_sync_msg *v = NULL;
	size_t n = 0, i;

	if (store_sync_msg_inflight(fs->st, fs->p->id, fs->p->uidvalidity, &v,
	    &n) != 0)
		return sync_run_store_err(fs->r, "list messages in flight");
	for (i = 0; i < n; i++)
		if (v[i].mailbox == fs->p->mailbox)
			uidv_add(&fs->inflight, v[i].uid);
	free(v);
	return 0;
}

int
sync_folder_run(struct sync_run *r, struct store_sync_folder *p)
{
	struct fsync fs;
	struct sync_error err;
	int rc;

	memset(&fs, 0, sizeof(fs));
	fs.r = r;
	fs.st = r->st;
	fs.p = p;
	fs.saved = *p;
	r->prog.folder = p->name;
	sync_run_progress(r, 1);
	if (r->d->ops->select(r->d, p->name, &fs.rs, &err) != 0)
		return remote_fail(&fs, &err);
	rc = check_uidvalidity(&fs);
	if (rc == 0)
		rc = note_inflight(&fs);
	if (rc == 0)
		rc = pull_new(&fs, 1);
	if (rc == 0)
		rc = pull_flags(&fs);
	/* Identities a re-match did not claim belong to messages that are
	 * gone upstream; their local messages are sent again. */
	if (rc == 0 && store_sync_msg_drop_stale(fs.st, p->id,
	    p->uidvalidity) != 0)
		rc = sync_run_store_err(r, "forget stale identities");
	if (rc == 0)
		rc = push_local(&fs);
	if (rc == 0 && (fs.added > 0 || fs.moved_here))
		rc = catch_up(&fs);
	txn_abort(&fs);
	free(fs.seen.v);
	free(fs.got.v);
	free(fs.dirty.v);
	free(fs.bound.v);
	free(fs.inflight.v);
	r->stats->folders++;
	r->prog.folder = NULL;
	return rc;
}
