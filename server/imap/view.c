/*
 * view: the selected mailbox as this session has shown it to its client.
 *
 * Opening lists the mailbox once (one store_msg_list) inside one
 * transaction with the \Recent claim, so the messages claimed are exactly
 * those listed. Catching up (imapd_view_sync) first asks the store the
 * cheap question "is HIGHESTMODSEQ still ours?"; only when it is not
 * does it read, again in one transaction, the messages whose MODSEQ went
 * up and the tombstones of those expunged since, and folds them in:
 *
 *   - a tombstone for a message in the view marks it IMAPD_V_GONE; it
 *     keeps its sequence number until the EXPUNGE (or VANISHED) is sent,
 *     which RFC 3501 7.4.1 forbids during FETCH, STORE and SEARCH;
 *   - a known UID whose flags differ gets IMAPD_V_FLAGS and is reported
 *     as an untagged FETCH (or folded into the reply of the command that
 *     changed it: STORE and FETCH clear the mark themselves);
 *   - a new UID is appended (UIDs only grow), \Recent if claimed.
 *
 * Reporting compares with what was told (told_exists, told_recent), so a
 * change read twice is reported once.
 *
 * Keyword ids are borrowed by a struct store_msg: those of the messages
 * listed at open live in that list's allocation (v->base, maybe shared
 * with the server's list cache and other views), kept until the view is
 * freed; a message whose keywords change later gets its own copy
 * (v->kwown[i]), since the list it came from is freed at once.
 */
#include "server/imap/imapd_int.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imap_seqset.h"
#include "lib/util.h"

#define RESP_MAX	(1024 * 1024)	/* one FLAGS / VANISHED line */

/* ---- keywords in FLAGS -------------------------------------------------- */

static void
kw_note(struct imapd_view *v, const uint32_t *kw, uint32_t nkw, int tell)
{
	size_t lo, i;
	uint32_t k;

	for (i = 0; i < nkw; i++) {
		k = kw[i];
		lo = u32_lower_bound(v->kw, v->nkw, k);
		if (lo < v->nkw && v->kw[lo] == k)
			continue;
		v->kw = xreallocarray(v->kw, v->nkw + 1, sizeof(*v->kw));
		memmove(v->kw + lo + 1, v->kw + lo,
		    (v->nkw - lo) * sizeof(*v->kw));
		v->kw[lo] = k;
		v->nkw++;
		if (tell)
			v->kw_changed = 1;
	}
}

int
imapd_view_write_flags(struct imapd_session *s)
{
	struct imapd_view *v = s->view;
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, RESP_MAX);
	buf_adds(&b, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (i = 0; i < v->nkw; i++) {
		const char *name = imapd_keyword_name(s, v->kw[i]);

		if (name != NULL) {
			buf_addc(&b, ' ');
			buf_adds(&b, name);
		}
	}
	buf_adds(&b, ")\r\n");
	if (v->readonly)
		buf_adds(&b, "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n");
	else {
		buf_adds(&b, "* OK [PERMANENTFLAGS (\\Answered \\Flagged "
		    "\\Deleted \\Seen \\Draft");
		for (i = 0; i < v->nkw; i++) {
			const char *name = imapd_keyword_name(s, v->kw[i]);

			if (name != NULL) {
				buf_addc(&b, ' ');
				buf_adds(&b, name);
			}
		}
		buf_adds(&b, " \\*)] Flags permitted.\r\n");
	}
	rc = imapd_write(s, b.data, b.len);
	buf_free(&b);
	v->kw_changed = 0;
	return rc;
}

/* ---- the server's list cache ------------------------------------------------ */

/*
 * Listing 100,000 messages from SQLite takes tens of milliseconds; a
 * client selects the same big mailbox again and again (and opens several
 * connections to it). So the server keeps the last lists of big
 * mailboxes, keyed by mailbox, UIDVALIDITY and HIGHESTMODSEQ: every
 * change to a mailbox's messages raises its HIGHESTMODSEQ in the same
 * transaction, so an equal key is an equal list. A list is shared, not
 * copied: the cache and every view opened from it hold a reference, and
 * a view copies the message array (not the keyword ids it points to)
 * before its first change (view_private), so ten clients on one big
 * mailbox hold it once.
 */
#define CACHE_SLOTS	2
#define CACHE_MIN_MSGS	2000	/* smaller lists are cheap to read */

struct imapd_msglist {
	unsigned	 refs;		/* atomic */
	struct store_msg *msgs;		/* as store_msg_list() made it */
	size_t		 n;
};

struct cache_slot {
	int64_t		 mbox;
	uint32_t	 uidvalidity;
	uint64_t	 modseq;
	struct imapd_msglist *list;
	uint64_t	 used;
};

struct imapd_listcache {
	struct cache_slot slot[CACHE_SLOTS];
	uint64_t	 clock;
};

/* A new list holding msgs (taken over) with one reference. */
static struct imapd_msglist *
msglist_new(struct store_msg *msgs, size_t n)
{
	struct imapd_msglist *l = xmalloc(sizeof(*l));

	l->refs = 1;
	l->msgs = msgs;
	l->n = n;
	return l;
}

static struct imapd_msglist *
msglist_ref(struct imapd_msglist *l)
{
	__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
	return l;
}

/* Drop a reference; the last one frees. NULL is fine. */
static void
msglist_unref(struct imapd_msglist **lp)
{
	struct imapd_msglist *l = *lp;

	*lp = NULL;
	if (l == NULL || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(l->msgs);
	free(l);
}

void
imapd_config_clear(struct imapd_config *cfg)
{
	struct imapd_listcache *c = cfg->cache;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		msglist_unref(&c->slot[i].list);
	free(c);
	cfg->cache = NULL;
}

/* A reference to the cached list for mb, or NULL. */
static struct imapd_msglist *
cache_get(struct imapd_config *cfg, const struct store_mailbox *mb)
{
	struct imapd_msglist *out = NULL;
	struct cache_slot *sl;
	size_t i;

	pthread_mutex_lock(&cfg->sh->lock);
	for (i = 0; cfg->cache != NULL && i < CACHE_SLOTS; i++) {
		sl = &cfg->cache->slot[i];
		if (sl->list == NULL || sl->mbox != mb->id ||
		    sl->uidvalidity != mb->uidvalidity ||
		    sl->modseq != mb->highestmodseq)
			continue;
		sl->used = ++cfg->cache->clock;
		out = msglist_ref(sl->list);
		break;
	}
	pthread_mutex_unlock(&cfg->sh->lock);
	return out;
}

static void
cache_put(struct imapd_config *cfg, const struct store_mailbox *mb,
    struct imapd_msglist *list)
{
	struct cache_slot *sl, *old;
	struct imapd_msglist *drop;
	size_t i;

	if (list->n < CACHE_MIN_MSGS)
		return;
	pthread_mutex_lock(&cfg->sh->lock);
	if (cfg->cache == NULL)
		cfg->cache = xcalloc(1, sizeof(*cfg->cache));
	/* The same mailbox's slot, else the least recently used. */
	old = &cfg->cache->slot[0];
	for (i = 0; i < CACHE_SLOTS; i++) {
		sl = &cfg->cache->slot[i];
		if (sl->list != NULL && sl->mbox == mb->id) {
			old = sl;
			break;
		}
		if (sl->used < old->used)
			old = sl;
	}
	drop = old->list;
	old->mbox = mb->id;
	old->uidvalidity = mb->uidvalidity;
	old->modseq = mb->highestmodseq;
	old->list = msglist_ref(list);
	old->used = ++cfg->cache->clock;
	pthread_mutex_unlock(&cfg->sh->lock);
	msglist_unref(&drop);
}

/* The messages of mb as read in the caller's transaction: a reference. */
static int
list_messages(struct imapd_session *s, const struct store_mailbox *mb,
    struct imapd_msglist **list_r)
{
	struct store_msg *msgs;
	size_t n;
	int rc;

	if ((*list_r = cache_get(s->cfg, mb)) != NULL)
		return 0;
	if ((rc = store_msg_list(s->st, mb->id, 0, &msgs, &n)) != 0)
		return rc;
	*list_r = msglist_new(msgs, n);
	cache_put(s->cfg, mb, *list_r);
	return 0;
}

/* ---- opening -------------------------------------------------------------- */

static void
view_fill(struct imapd_view *v, struct imapd_msglist *list)
{
	struct store_msg *msgs = list->msgs;
	size_t i, n = list->n;

	v->base = list;
	v->msgs = msgs;
	v->n = n;
	v->cap = n;
	v->mark = xcalloc(n + 1, 1);
	for (i = 0; i < n; i++)
		kw_note(v, msgs[i].kw, msgs[i].nkw, 0);
}

/*
 * Before the view's first change: its own copy of the message array,
 * which may be shared with the cache and other views. Keyword ids stay
 * where they are (the shared list is kept until the view goes).
 */
static void
view_private(struct imapd_view *v)
{
	struct store_msg *msgs;

	if (v->msgs != v->base->msgs)
		return;
	msgs = xreallocarray(NULL, v->cap + 1, sizeof(*msgs));
	memcpy(msgs, v->msgs, v->n * sizeof(*msgs));
	v->msgs = msgs;
}

/* Give message i its own copy of keyword ids kw (nkw of them). */
static void
set_keywords(struct imapd_view *v, size_t i, const uint32_t *kw, uint32_t nkw)
{
	uint32_t *own = NULL;

	view_private(v);
	if (v->kwown == NULL)
		v->kwown = xcalloc(v->cap + 1, sizeof(*v->kwown));
	if (nkw > 0) {
		own = xreallocarray(NULL, nkw, sizeof(*own));
		memcpy(own, kw, nkw * sizeof(*own));
	}
	free(v->kwown[i]);
	v->kwown[i] = own;
	v->msgs[i].kw = own;
	v->msgs[i].nkw = nkw;
}

/*
 * A mailbox's UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ without counting its
 * messages: looked up by name, or by id (which counts) if the name went
 * (another session renamed it).
 */
static int
mailbox_numbers(struct imapd_session *s, int64_t id, const char *name,
    struct store_mailbox *mb)
{
	int rc = store_mailbox_find(s->st, s->acct, name, mb);

	if (rc == 0 && mb->id == id)
		return 0;
	if (rc == 0)
		store_mailbox_clear(mb);
	else if (rc != STORE_ENOENT)
		return rc;
	return store_mailbox_status(s->st, id, mb);
}

int
imapd_view_open(struct imapd_session *s, const struct store_mailbox *mb,
    int readonly, struct imapd_view **v_r)
{
	struct store_mailbox now;
	struct imapd_msglist *list = NULL;
	struct imapd_view *v;
	uint32_t first = 0;
	size_t i;
	int rc;

	if ((rc = store_txn_begin(s->st)) != 0)
		return rc;
	/* SELECT claims the recent messages; EXAMINE only learns which
	 * they are (from first up: the unclaimed ones, recent for all). */
	rc = readonly ? store_mailbox_recent_mark(s->st, mb->id, &first) :
	    store_mailbox_claim_recent(s->st, mb->id, &first);
	/* The numbers, in the same transaction as the list (by name is
	 * cheap; status would count every message). */
	if (rc == 0)
		rc = mailbox_numbers(s, mb->id, mb->name, &now);
	if (rc == 0 && (rc = list_messages(s, &now, &list)) != 0)
		store_mailbox_clear(&now);
	if (rc != 0) {
		store_txn_rollback(s->st);
		return rc;
	}
	if ((rc = store_txn_commit(s->st)) != 0) {
		store_mailbox_clear(&now);
		msglist_unref(&list);
		return rc;
	}
	v = xcalloc(1, sizeof(*v));
	v->mbox = mb->id;
	v->name = xstrdup(mb->name);
	v->readonly = readonly;
	v->uidvalidity = now.uidvalidity;
	v->uidnext = now.uidnext;
	v->modseq = now.highestmodseq;
	view_fill(v, list);
	for (i = 0; i < v->n; i++)
		if (first != 0 && v->msgs[i].uid >= first) {
			v->mark[i] |= IMAPD_V_RECENT;
			v->nrecent++;
		}
	v->told_exists = (uint32_t)v->n;
	v->told_recent = v->nrecent;
	store_mailbox_clear(&now);
	*v_r = v;
	return 0;
}

void
imapd_view_free(struct imapd_view **vp)
{
	struct imapd_view *v = *vp;
	size_t i;

	if (v == NULL)
		return;
	if (v->kwown != NULL)
		for (i = 0; i < v->n; i++)
			free(v->kwown[i]);
	free(v->kwown);
	if (v->msgs != v->base->msgs)
		free(v->msgs);
	msglist_unref(&v->base);
	free(v->name);
	free(v->mark);
	free(v->kw);
	free(v);
	*vp = NULL;
}

void
imapd_unselect(struct imapd_session *s)
{
	imapd_view_free(&s->view);
	if (s->state == IMAPD_S_SELECTED)
		s->state = IMAPD_S_AUTH;
}

/* ---- lookups ---------------------------------------------------------------- */

/* The first index whose UID is >= uid. */
static size_t
lower_bound(const struct imapd_view *v, uint32_t uid)
{
	size_t lo = 0, hi = v->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (v->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long
imapd_view_find(const struct imapd_view *v, uint32_t uid)
{
	size_t i = lower_bound(v, uid);

	return i < v->n && v->msgs[i].uid == uid ? (long)i : -1;
}

uint32_t
imapd_view_first_recent(const struct imapd_view *v)
{
	size_t i;

	if (v->nrecent == 0)
		return 0;
	for (i = 0; i < v->n; i++)
		if (v->mark[i] & IMAPD_V_RECENT)
			return v->msgs[i].uid;
	return 0;
}

int
imapd_view_resolve(struct imapd_view *v, const char *text, int uid,
    size_t **idx_r, size_t *n_r, char *err, size_t errlen)
{
	struct imap_seqset *set;
	uint32_t star, lo, hi;
	size_t *idx, n = 0, r, i;
	int rc;

	star = uid ? (v->n > 0 ? v->msgs[v->n - 1].uid : 0) : (uint32_t)v->n;
	rc = imap_seqset_parse(text, star, &set, err, errlen);
	if (rc == 1)
		return seterr(err, errlen, -1, "$ (a saved search result) is "
		    "not supported.");
	if (rc < 0)
		return -1;
	if (!uid && imap_seqset_nranges(set) > 0) {
		imap_seqset_range(set, imap_seqset_nranges(set) - 1, &lo, &hi);
		if (hi > v->n || v->n == 0) {
			imap_seqset_free(&set);
			return seterr(err, errlen, -1, "Invalid messageset: "
			    "there are %zu messages.", v->n);
		}
	}
	idx = xreallocarray(NULL, v->n + 1, sizeof(*idx));
	for (r = 0; r < imap_seqset_nranges(set); r++) {
		imap_seqset_range(set, r, &lo, &hi);
		if (!uid) {
			for (i = lo - 1; i < hi; i++)
				idx[n++] = i;
			continue;
		}
		for (i = lower_bound(v, lo); i < v->n && v->msgs[i].uid <= hi;
		    i++)
			idx[n++] = i;
	}
	imap_seqset_free(&set);
	*idx_r = idx;
	*n_r = n;
	return 0;
}

/* ---- catching up ---------------------------------------------------------- */

/* Make room for one more message. The first list's allocation stays
 * where it is (its keyword ids are pointed to), so growing copies. */
static void
view_grow(struct imapd_view *v)
{
	struct store_msg *msgs;
	size_t cap = v->cap < 64 ? 64 : 2 * v->cap;

	msgs = xreallocarray(NULL, cap, sizeof(*msgs));
	memcpy(msgs, v->msgs, v->n * sizeof(*msgs));
	if (v->msgs != v->base->msgs)
		free(v->msgs);
	v->msgs = msgs;
	v->mark = xrealloc(v->mark, cap);
	if (v->kwown != NULL) {
		v->kwown = xreallocarray(v->kwown, cap + 1, sizeof(*v->kwown));
		memset(v->kwown + v->cap, 0, (cap + 1 - v->cap) *
		    sizeof(*v->kwown));
	}
	v->cap = cap;
}

static void
view_append(struct imapd_view *v, const struct store_msg *m, int recent)
{
	if (v->n == v->cap)
		view_grow(v);
	v->msgs[v->n] = *m;
	v->msgs[v->n].kw = NULL;
	v->msgs[v->n].nkw = 0;
	v->mark[v->n] = recent ? IMAPD_V_RECENT : 0;
	if (v->kwown != NULL)
		v->kwown[v->n] = NULL;
	if (recent)
		v->nrecent++;
	v->n++;
	if (m->nkw > 0)
		set_keywords(v, v->n - 1, m->kw, m->nkw);
	kw_note(v, m->kw, m->nkw, 1);
}

static int
same_flags(const struct store_msg *a, const struct store_msg *b)
{
	return a->flags == b->flags && a->nkw == b->nkw && (a->nkw == 0 ||
	    memcmp(a->kw, b->kw, a->nkw * sizeof(a->kw[0])) == 0);
}

static void
fold_changes(struct imapd_view *v, const struct store_msg *msgs, size_t n,
    const uint32_t *gone, size_t ngone, uint32_t first_recent,
    uint32_t uidnext)
{
	size_t i;
	long at;

	if (n > 0)
		view_private(v);
	for (i = 0; i < ngone; i++) {
		at = imapd_view_find(v, gone[i]);
		if (at >= 0 && !(v->mark[at] & IMAPD_V_GONE)) {
			v->mark[at] |= IMAPD_V_GONE;
			v->ngone++;
		}
	}
	for (i = 0; i < n; i++) {
		const struct store_msg *m = &msgs[i];

		at = imapd_view_find(v, m->uid);
		if (at >= 0) {
			if (v->mark[at] & IMAPD_V_GONE)
				continue;
			if (!same_flags(&v->msgs[at], m)) {
				if (!(v->mark[at] & IMAPD_V_FLAGS))
					v->nflags++;
				v->mark[at] |= IMAPD_V_FLAGS;
				set_keywords(v, (size_t)at, m->kw, m->nkw);
				kw_note(v, m->kw, m->nkw, 1);
			}
			v->msgs[at].flags = m->flags;
			v->msgs[at].modseq = m->modseq;
			continue;
		}
		if (m->uid >= uidnext || u32_sorted_has(gone, ngone, m->uid) ||
		    (v->n > 0 && m->uid < v->msgs[v->n - 1].uid))
			continue;
		view_append(v, m, first_recent != 0 && m->uid >= first_recent);
	}
}

/*
 * Could the mailbox have changed since the last sync? Cheap: a commit in
 * this process made the handle's change descriptor readable, or one in
 * another process moved SQLite's data_version. The notice is taken
 * before the store is read, so a commit made meanwhile is noticed next
 * time rather than lost.
 */
static int
view_changed(struct imapd_session *s)
{
	struct pollfd pfd;
	int changed = s->view->dirty;

	s->view->dirty = 0;
	pfd.fd = store_change_fd(s->st);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) > 0) {
		store_change_ack(s->st);
		changed = 1;
	}
	if (store_changed_elsewhere(s->st))
		changed = 1;
	return changed;
}

int
imapd_view_sync(struct imapd_session *s)
{
	struct imapd_view *v = s->view;
	struct store_mailbox now;
	struct store_msg *msgs = NULL;
	uint32_t *gone = NULL, first = 0;
	size_t n = 0, ngone = 0;
	int rc;

	if (v == NULL || !view_changed(s))
		return 0;
	if ((rc = store_txn_begin(s->st)) != 0) {
		v->dirty = 1;	/* try again next time */
		return rc;
	}
	rc = mailbox_numbers(s, v->mbox, v->name, &now);
	if (rc != 0) {
		store_txn_rollback(s->st);
		return rc;
	}
	if (now.uidnext != v->uidnext) {
		if (v->readonly)
			first = v->uidnext;	/* unclaimed: recent to all */
		else
			rc = store_mailbox_claim_recent(s->st, v->mbox, &first);
	}
	if (rc == 0)
		rc = store_msg_list(s->st, v->mbox, v->modseq, &msgs, &n);
	if (rc == 0)
		rc = store_msg_vanished(s->st, v->mbox, v->modseq, &gone,
		    &ngone);
	if (rc == 0)
		rc = store_txn_commit(s->st);
	else
		store_txn_rollback(s->st);
	if (rc == 0) {
		fold_changes(v, msgs, n, gone, ngone, first, now.uidnext);
		v->modseq = now.highestmodseq;
		v->uidnext = now.uidnext;
		if (strcmp(now.name, v->name) != 0) {
			free(v->name);
			v->name = xstrdup(now.name);
		}
	} else
		v->dirty = 1;
	store_mailbox_clear(&now);
	free(msgs);
	free(gone);
	return rc;
}

/* ---- reporting -------------------------------------------------------------- */

static int
report_expunges(struct imapd_session *s)
{
	struct imapd_view *v = s->view;
	uint32_t *uids = NULL;
	size_t i, j = 0, k = 0;
	struct buf b;
	int rc = 0;

	if (s->qresync)
		uids = xreallocarray(NULL, v->ngone, sizeof(*uids));
	view_private(v);	/* the survivors move down */
	for (i = 0; i < v->n; i++) {
		if (v->mark[i] & IMAPD_V_GONE) {
			if (uids != NULL)
				uids[k++] = v->msgs[i].uid;
			else if (imapd_printf(s, "* %zu EXPUNGE\r\n", j + 1) < 0)
				rc = -1;
			if (v->mark[i] & IMAPD_V_RECENT)
				v->nrecent--;
			if (v->mark[i] & IMAPD_V_FLAGS)
				v->nflags--;
			if (v->kwown != NULL) {
				free(v->kwown[i]);
				v->kwown[i] = NULL;
			}
			continue;
		}
		if (i != j) {
			v->msgs[j] = v->msgs[i];
			v->mark[j] = v->mark[i];
			if (v->kwown != NULL) {
				v->kwown[j] = v->kwown[i];
				v->kwown[i] = NULL;
			}
		}
		j++;
	}
	v->told_exists -= (uint32_t)(v->n - j);
	v->n = j;
	v->ngone = 0;
	if (uids != NULL) {
		buf_init(&b, RESP_MAX * 16);
		buf_adds(&b, "* VANISHED ");
		if (imap_seqset_format(uids, k, &b) == 0 && k > 0) {
			buf_adds(&b, "\r\n");
			rc = imapd_write(s, b.data, b.len);
		}
		buf_free(&b);
		free(uids);
	}
	return rc;
}

int
imapd_view_fetch_flags(struct imapd_session *s, size_t i, unsigned how)
{
	struct imapd_view *v = s->view;
	const struct store_msg *m = &v->msgs[i];
	int modseq = s->condstore, flags = !(how & IMAPD_FF_NOFLAGS);
	struct buf b;
	int rc;

	if (v->mark[i] & IMAPD_V_FLAGS) {
		v->mark[i] &= (unsigned char)~IMAPD_V_FLAGS;
		v->nflags--;
	}
	buf_init(&b, RESP_MAX);
	buf_printf(&b, "* %zu FETCH (", i + 1);
	if ((how & IMAPD_FF_UID) || s->qresync)
		buf_printf(&b, "UID %u ", m->uid);
	/* Dovecot's orders: UID MODSEQ FLAGS for changes, UID FLAGS MODSEQ
	 * in a QRESYNC SELECT. */
	if (modseq && !(how & IMAPD_FF_FLAGS_FIRST))
		buf_printf(&b, "MODSEQ (%llu) ", (unsigned long long)m->modseq);
	if (flags) {
		buf_adds(&b, "FLAGS (");
		imapd_add_flags(s, &b, m->flags, m->kw, m->nkw,
		    (v->mark[i] & IMAPD_V_RECENT) != 0);
		buf_adds(&b, ") ");
	}
	if (modseq && (how & IMAPD_FF_FLAGS_FIRST))
		buf_printf(&b, "MODSEQ (%llu) ", (unsigned long long)m->modseq);
	if (b.data[b.len - 1] == ' ')
		b.len--;
	buf_adds(&b, ")\r\n");
	rc = imapd_write(s, b.data, b.len);
	buf_free(&b);
	return rc;
}

/* 1 if an expunged message has not been told to exist yet. */
static int
gone_untold(const struct imapd_view *v)
{
	size_t i;

	for (i = v->told_exists; i < v->n; i++)
		if (v->mark[i] & IMAPD_V_GONE)
			return 1;
	return 0;
}

static int
report_exists(struct imapd_session *s)
{
	struct imapd_view *v = s->view;

	if (imapd_printf(s, "* %zu EXISTS\r\n", v->n) < 0)
		return -1;
	v->told_exists = (uint32_t)v->n;
	if (v->nrecent != v->told_recent) {
		if (imapd_printf(s, "* %u RECENT\r\n", v->nrecent) < 0)
			return -1;
		v->told_recent = v->nrecent;
	}
	return 0;
}

int
imapd_view_report(struct imapd_session *s, int allow_expunge)
{
	struct imapd_view *v = s->view;
	size_t i;
	int rc;

	if (v == NULL)
		return 0;
	rc = imapd_view_sync(s);
	if (rc == STORE_ENOENT) {
		imapd_log(s, "the selected mailbox was deleted");
		imapd_bye(s, "Selected mailbox was deleted, have to "
		    "disconnect.");
		s->dead = 1;
		return -1;
	}
	/* Another store error: report what is known; the next command
	 * tries again. A message must be told to exist before it can be
	 * told to be expunged. */
	if (allow_expunge && v->ngone > 0) {
		if (gone_untold(v) && report_exists(s) < 0)
			return -1;
		if (report_expunges(s) < 0)
			return -1;
		/* Dovecot tells the new \Recent count after expunges. */
		if (v->told_recent != v->nrecent) {
			if (imapd_printf(s, "* %u RECENT\r\n", v->nrecent) < 0)
				return -1;
			v->told_recent = v->nrecent;
		}
	}
	if (v->kw_changed && imapd_view_write_flags(s) < 0)
		return -1;
	if (v->n != v->told_exists && report_exists(s) < 0)
		return -1;
	for (i = 0; i < v->n && v->nflags > 0; i++) {
		if ((v->mark[i] & IMAPD_V_FLAGS) &&
		    !(v->mark[i] & IMAPD_V_GONE) &&
		    imapd_view_fetch_flags(s, i, 0) < 0)
			return -1;
	}
	return s->dead ? -1 : 0;
}

int
imapd_enable_condstore(struct imapd_session *s)
{
	if (s->condstore)
		return 0;
	s->condstore = 1;
	if (s->view == NULL)
		return 0;
	return imapd_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	    (unsigned long long)s->view->modseq);
}
