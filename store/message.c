/*
 * message: the messages of a mailbox: listing, flags and keywords, copy,
 * move and expunge.
 *
 * A message row is keyed (mailbox, uid) in a WITHOUT ROWID table, so a
 * mailbox's messages in UID order are one range of one b-tree: listing
 * 100,000 of them is a single indexed scan. Each change to a mailbox's
 * messages takes a new MODSEQ from the mailbox's HIGHESTMODSEQ (one per
 * flags or expunge call, one per appended or copied message), so CONDSTORE
 * and QRESYNC can ask "what changed since". Expunged UIDs leave a
 * tombstone carrying the MODSEQ of their removal. Content that no message
 * refers to any more is deleted by the triggers in schema.sql.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define MSG_COLS "uid, flags, modseq, internaldate, tzoff, size, content, " \
	"keywords"

static const char SQL_LIST_ALL[] =
    "SELECT " MSG_COLS " FROM message WHERE mailbox = ? ORDER BY uid";
static const char SQL_LIST_SINCE[] =
    "SELECT " MSG_COLS " FROM message WHERE mailbox = ? AND modseq > ? "
    "ORDER BY uid";
static const char SQL_COUNT_ALL[] =
    "SELECT count(*), total(length(keywords)) FROM message "
    "WHERE mailbox = ?";
static const char SQL_COUNT_SINCE[] =
    "SELECT count(*), total(length(keywords)) FROM message "
    "WHERE mailbox = ? AND modseq > ?";
static const char SQL_GET[] =
    "SELECT " MSG_COLS " FROM message WHERE mailbox = ? AND uid = ?";
static const char SQL_VANISHED[] =
    "SELECT uid FROM expunged WHERE mailbox = ? AND modseq > ? ORDER BY uid";
static const char SQL_SET_FLAGS[] =
    "UPDATE message SET flags = ?, keywords = ?, modseq = ? "
    "WHERE mailbox = ? AND uid = ?";
static const char SQL_DELETE[] =
    "DELETE FROM message WHERE mailbox = ? AND uid = ?";
static const char SQL_TOMBSTONE[] =
    "INSERT OR REPLACE INTO expunged (mailbox, uid, modseq) VALUES (?, ?, ?)";

/* A message row with room for its keywords, for code that changes them. */
struct msg_row {
	struct store_msg m;
	uint32_t	 kw[STORE_MAX_KEYWORDS];
};

/* Fill m from a row; its keyword ids go to kw (room for
 * STORE_MAX_KEYWORDS), which m->kw then points to. */
static void
row_msg(sqlite3_stmt *s, struct store_msg *m, uint32_t *kw)
{
	m->uid = (uint32_t)sqlite3_column_int64(s, 0);
	m->flags = (uint32_t)sqlite3_column_int64(s, 1);
	m->modseq = (uint64_t)sqlite3_column_int64(s, 2);
	m->internaldate = sqlite3_column_int64(s, 3);
	m->tzoff = (int32_t)sqlite3_column_int64(s, 4);
	m->size = (uint64_t)sqlite3_column_int64(s, 5);
	m->content = sqlite3_column_int64(s, 6);
	m->nkw = store_kw_decode(sqlite3_column_blob(s, 7),
	    (size_t)sqlite3_column_bytes(s, 7), kw);
	m->kw = kw;
}

/*
 * How many rows and keyword ids the list will have, so the array and the
 * ids it points to are one allocation made once.
 */
static int
list_count(struct store *st, int64_t mbox, uint64_t since, size_t *n_r,
    size_t *nkw_r)
{
	sqlite3_stmt *s = store_stmt(st, since == 0 ? SQL_COUNT_ALL :
	    SQL_COUNT_SINCE);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, (int64_t)since);
	rc = sqlite3_step(s);
	*n_r = rc == SQLITE_ROW ? (size_t)sqlite3_column_int64(s, 0) : 0;
	*nkw_r = rc == SQLITE_ROW ?
	    (size_t)sqlite3_column_double(s, 1) / 4 : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_dberr(st, rc, "count the messages");
}

int
store_msg_list(struct store *st, int64_t mbox, uint64_t since,
    struct store_msg **msgs_r, size_t *n_r)
{
	struct store_msg *v;
	uint32_t *kw, *kwend;
	size_t n = 0, cap, kwcap;
	sqlite3_stmt *s;
	int64_t acct;
	int rc;

	if ((rc = store_mailbox_account(st, mbox, &acct)) != 0)
		return rc;
	/* One read transaction, so the count and the rows agree. */
	if ((rc = store_read_begin(st)) != 0)
		return rc;
	rc = list_count(st, mbox, since, &cap, &kwcap);
	s = rc == 0 ? store_stmt(st, since == 0 ? SQL_LIST_ALL :
	    SQL_LIST_SINCE) : NULL;
	if (s == NULL) {
		store_read_end(st);
		return rc != 0 ? rc : STORE_ERR;
	}
	/* The ids go after the array; a row whose ids would not fit (the
	 * count and the rows come from one read transaction, so only a
	 * corrupt blob could do that) ends the list early. */
	v = xmalloc((cap + 1) * sizeof(*v) +
	    (kwcap + STORE_MAX_KEYWORDS) * sizeof(uint32_t));
	kw = (uint32_t *)(v + cap + 1);
	kwend = kw + kwcap + STORE_MAX_KEYWORDS;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, (int64_t)since);
	while (n < cap && kwend - kw >= STORE_MAX_KEYWORDS &&
	    (rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_msg(s, &v[n], kw);
		kw += v[n++].nkw;
	}
	if (n == cap)
		rc = SQLITE_DONE;
	sqlite3_reset(s);
	store_read_end(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_dberr(st, rc, "list the messages");
	}
	*msgs_r = v;
	*n_r = n;
	return 0;
}

/* One message: 0, STORE_ENOENT (no error text set), or an error. */
static int
get_row(struct store *st, int64_t mbox, uint32_t uid, struct msg_row *r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_GET);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, uid);
	if ((rc = store_step_row(st, s, "read the message")) != 0)
		return rc;
	row_msg(s, &r->m, r->kw);
	sqlite3_reset(s);
	return 0;
}

int
store_msg_get(struct store *st, int64_t mbox, uint32_t uid,
    struct store_msg *msg_r)
{
	struct msg_row r;
	int rc = get_row(st, mbox, uid, &r);

	if (rc == STORE_ENOENT)
		return store_err(st, rc, "there is no message with UID %u", uid);
	if (rc == 0) {
		memcpy(st->get_kw, r.kw, r.m.nkw * sizeof(*r.kw));
		*msg_r = r.m;
		msg_r->kw = st->get_kw;
	}
	return rc;
}

int
store_msg_vanished(struct store *st, int64_t mbox, uint64_t since,
    uint32_t **uids_r, size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_VANISHED);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, (int64_t)since);
	return store_collect_u32(st, s, "list expunged messages", uids_r, n_r);
}

/* ---- flags ------------------------------------------------------------ */

/* Apply op to (flags, kw); returns 0 or STORE_EINVAL if too many. */
static int
apply_change(struct store *st, const struct store_flag_change *ch,
    const uint32_t *ids, size_t nids, uint32_t *flags, uint32_t *kw,
    uint32_t *nkw)
{
	uint32_t out[2 * STORE_MAX_KEYWORDS];
	size_t n = 0, i, j;

	switch (ch->op) {
	case STORE_FLAGS_SET:
		*flags = ch->flags & 0x1f;
		memcpy(kw, ids, nids * sizeof(*kw));
		*nkw = (uint32_t)nids;
		return 0;
	case STORE_FLAGS_ADD:
		*flags |= ch->flags & 0x1f;
		memcpy(out, kw, *nkw * sizeof(*kw));
		memcpy(out + *nkw, ids, nids * sizeof(*ids));
		n = store_kw_normalize(out, *nkw + nids);
		if (n > STORE_MAX_KEYWORDS)
			return store_err(st, STORE_EINVAL, "too many keywords "
			    "(at most %d on a message)", STORE_MAX_KEYWORDS);
		memcpy(kw, out, n * sizeof(*kw));
		*nkw = (uint32_t)n;
		return 0;
	case STORE_FLAGS_REMOVE:
		*flags &= ~(ch->flags & 0x1f);
		for (i = 0, j = 0; i < *nkw; i++) {
			while (j < nids && ids[j] < kw[i])
				j++;
			if (j == nids || ids[j] != kw[i])
				out[n++] = kw[i];
		}
		memcpy(kw, out, n * sizeof(*kw));
		*nkw = (uint32_t)n;
		return 0;
	}
	return store_err(st, STORE_EINVAL, "unknown flag operation");
}

struct uidvec {
	uint32_t *v;
	size_t	 n;
};

static void
uidvec_add(struct uidvec *u, size_t cap, uint32_t uid)
{
	if (u->v == NULL)
		u->v = xreallocarray(NULL, cap, sizeof(*u->v));
	u->v[u->n++] = uid;
}

static int
update_flags(struct store *st, int64_t mbox, const struct store_msg *m,
    uint64_t modseq)
{
	unsigned char blob[4 * STORE_MAX_KEYWORDS];
	sqlite3_stmt *s = store_stmt(st, SQL_SET_FLAGS);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, m->flags);
	if (m->nkw > 0)
		sqlite3_bind_blob(s, 2, blob,
		    (int)store_kw_encode(m->kw, m->nkw, blob), SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_int64(s, 3, (int64_t)modseq);
	sqlite3_bind_int64(s, 4, mbox);
	sqlite3_bind_int64(s, 5, m->uid);
	return store_step_done(st, s, "change flags");
}

static int
flags_locked(struct store *st, int64_t mbox, const uint32_t *uids, size_t n,
    const struct store_flag_change *ch, const uint32_t *ids, size_t nids,
    struct uidvec *changed, struct uidvec *failed)
{
	struct msg_row r, old;
	struct store_msg *m = &r.m;
	uint64_t modseq = 0;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = get_row(st, mbox, uids[i], &r);
		if (rc == STORE_ENOENT)
			continue;
		if (rc != 0)
			return rc;
		if (ch->unchangedsince != 0 && m->modseq > ch->unchangedsince) {
			uidvec_add(failed, n, m->uid);
			continue;
		}
		old = r;
		if ((rc = apply_change(st, ch, ids, nids, &m->flags, r.kw,
		    &m->nkw)) != 0)
			return rc;
		if (m->flags == old.m.flags && m->nkw == old.m.nkw &&
		    memcmp(r.kw, old.kw, m->nkw * sizeof(*r.kw)) == 0)
			continue;
		if (modseq == 0 && (rc = store_mailbox_bump(st, mbox,
		    &modseq)) != 0)
			return rc;
		if ((rc = update_flags(st, mbox, m, modseq)) != 0)
			return rc;
		uidvec_add(changed, n, m->uid);
	}
	return 0;
}

int
store_msg_set_flags(struct store *st, int64_t mbox, const uint32_t *uids,
    size_t n, const struct store_flag_change *ch, uint32_t **changed_r,
    size_t *nchanged_r, uint32_t **failed_r, size_t *nfailed_r)
{
	struct uidvec changed = { NULL, 0 }, failed = { NULL, 0 };
	uint32_t ids[STORE_MAX_KEYWORDS];
	size_t nids = 0;
	int64_t acct;
	int rc;

	if ((rc = store_mailbox_account(st, mbox, &acct)) != 0)
		return rc;
	rc = store_wbegin(st);
	if (rc != 0)
		return rc;
	rc = store_kw_resolve(st, acct, ch->keywords, ch->nkeywords,
	    ch->op != STORE_FLAGS_REMOVE, ids, &nids);
	if (rc == 0)
		rc = flags_locked(st, mbox, uids, n, ch, ids, nids, &changed,
		    &failed);
	rc = store_wend(st, rc);
	if (rc != 0) {
		free(changed.v);
		free(failed.v);
		return rc;
	}
	if (changed_r != NULL) {
		*changed_r = changed.v;
		*nchanged_r = changed.n;
	} else
		free(changed.v);
	if (failed_r != NULL) {
		*failed_r = failed.v;
		*nfailed_r = failed.n;
	} else
		free(failed.v);
	return 0;
}

/* ---- copy, move, expunge ------------------------------------------------- */

/* Keyword ids of one account as ids of another, by name. */
static int
map_keywords(struct store *st, int64_t from, int64_t to, struct msg_row *r)
{
	uint32_t i, id;
	char *name;
	int rc;

	for (i = 0; i < r->m.nkw; i++) {
		if ((rc = store_keyword_name(st, from, r->kw[i], &name)) != 0)
			return rc;
		rc = store_keyword_id(st, to, name, 1, &id);
		free(name);
		if (rc != 0)
			return rc;
		r->kw[i] = id;
	}
	r->m.nkw = (uint32_t)store_kw_normalize(r->kw, r->m.nkw);
	return 0;
}

static int
copy_locked(struct store *st, int64_t from, const uint32_t *uids, size_t n,
    int64_t to, uint32_t *newuids)
{
	struct msg_row r;
	int64_t afrom, ato;
	size_t i;
	int rc;

	if ((rc = store_mailbox_account(st, from, &afrom)) != 0 ||
	    (rc = store_mailbox_account(st, to, &ato)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		newuids[i] = 0;
		rc = get_row(st, from, uids[i], &r);
		if (rc == STORE_ENOENT)
			continue;
		if (rc != 0)
			return rc;
		if (afrom != ato && (rc = map_keywords(st, afrom, ato, &r)) != 0)
			return rc;
		if ((rc = store_msg_insert(st, to, &r.m, &newuids[i])) != 0)
			return rc;
	}
	return 0;
}

static int
expunge_locked(struct store *st, int64_t mbox, const uint32_t *uids, size_t n)
{
	uint64_t modseq = 0;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if ((s = store_stmt(st, SQL_DELETE)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(s, 1, mbox);
		sqlite3_bind_int64(s, 2, uids[i]);
		if ((rc = store_step_done(st, s, "expunge a message")) != 0)
			return rc;
		if (sqlite3_changes(st->db) == 0)
			continue;
		if (modseq == 0 &&
		    (rc = store_mailbox_bump(st, mbox, &modseq)) != 0)
			return rc;
		if ((s = store_stmt(st, SQL_TOMBSTONE)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(s, 1, mbox);
		sqlite3_bind_int64(s, 2, uids[i]);
		sqlite3_bind_int64(s, 3, (int64_t)modseq);
		if ((rc = store_step_done(st, s, "expunge a message")) != 0)
			return rc;
	}
	return 0;
}

int
store_msg_copy(struct store *st, int64_t from, const uint32_t *uids, size_t n,
    int64_t to, uint32_t *newuids)
{
	int rc = store_wbegin(st);

	if (rc != 0)
		return rc;
	return store_wend(st, copy_locked(st, from, uids, n, to, newuids));
}

int
store_msg_move(struct store *st, int64_t from, const uint32_t *uids, size_t n,
    int64_t to, uint32_t *newuids)
{
	int rc = store_wbegin(st);

	if (rc != 0)
		return rc;
	/* from == to is allowed: the messages get new UIDs, as with
	 * COPY and EXPUNGE. */
	rc = copy_locked(st, from, uids, n, to, newuids);
	if (rc == 0)
		rc = expunge_locked(st, from, uids, n);
	return store_wend(st, rc);
}

int
store_msg_expunge(struct store *st, int64_t mbox, const uint32_t *uids,
    size_t n)
{
	int64_t acct;
	int rc;

	if ((rc = store_mailbox_account(st, mbox, &acct)) != 0)
		return rc;
	if ((rc = store_wbegin(st)) != 0)
		return rc;
	return store_wend(st, expunge_locked(st, mbox, uids, n));
}

/* ---- POP3's hidden messages -------------------------------------------- */

static const char SQL_POP3_HIDE[] =
    "INSERT OR IGNORE INTO pop3_hidden (mailbox, uid) "
    "SELECT mailbox, uid FROM message WHERE mailbox = ? AND uid = ?";
static const char SQL_POP3_HIDDEN[] =
    "SELECT uid FROM pop3_hidden WHERE mailbox = ? ORDER BY uid";

int
store_pop3_hide(struct store *st, int64_t mbox, const uint32_t *uids,
    size_t n)
{
	sqlite3_stmt *s;
	size_t i;
	int rc;

	if ((rc = store_wbegin(st)) != 0)
		return rc;
	/* No mailbox changes in a way IMAP can see: wake nobody. */
	st->quiet++;
	for (i = 0; i < n && rc == 0; i++) {
		/* Only a message that is there: a row for a UID already
		 * expunged would never be forgotten by the trigger. */
		if ((s = store_stmt(st, SQL_POP3_HIDE)) == NULL) {
			rc = STORE_ERR;
			break;
		}
		sqlite3_bind_int64(s, 1, mbox);
		sqlite3_bind_int64(s, 2, uids[i]);
		rc = store_step_done(st, s, "hide a message from POP3");
	}
	rc = store_wend(st, rc);
	st->quiet--;
	return rc;
}

int
store_pop3_hidden(struct store *st, int64_t mbox, uint32_t **uids_r,
    size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_POP3_HIDDEN);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	return store_collect_u32(st, s, "list the messages hidden from POP3",
	    uids_r, n_r);
}

/*
 * Schema 2 -> 3: POP3 hid a message by giving it the keyword $POP3Deleted,
 * which IMAP clients showed and MOVE carried along. Each message with it
 * gets a pop3_hidden row instead and loses the keyword, under a new MODSEQ
 * of its mailbox, so IMAP clients (CONDSTORE included) and the sync engine
 * see the keyword go. The keyword's row stays: ids are never reused, and
 * the sync engine's base may still name it. Inside the migration's write
 * transaction.
 */
static const char SQL_KW_ACCOUNTS[] =
    "SELECT account, id FROM keyword WHERE name_hash = ?";
/* instr() only narrows the rows down: the id's four bytes may also sit
 * across two ids, so each list is decoded and checked. */
static const char SQL_KW_MESSAGES[] =
    "SELECT m.mailbox, m.uid, m.keywords FROM message m "
    "JOIN mailbox b ON b.id = m.mailbox "
    "WHERE b.account = ? AND instr(m.keywords, ?) > 0 "
    "ORDER BY m.mailbox, m.uid";
static const char SQL_KW_SET[] =
    "UPDATE message SET keywords = ?, modseq = ? "
    "WHERE mailbox = ? AND uid = ?";
static const char SQL_HIDE_ROW[] =
    "INSERT OR IGNORE INTO pop3_hidden (mailbox, uid) VALUES (?, ?)";

/* One message row: drop keyword id, hide it. */
static int
adopt_one(struct store *st, int64_t mbox, uint32_t uid, const uint32_t *kw,
    uint32_t nkw, uint32_t id, uint64_t modseq)
{
	unsigned char blob[4 * STORE_MAX_KEYWORDS];
	uint32_t out[STORE_MAX_KEYWORDS], n = 0, i;
	sqlite3_stmt *s;
	int rc;

	for (i = 0; i < nkw; i++)
		if (kw[i] != id)
			out[n++] = kw[i];
	if ((s = store_stmt(st, SQL_KW_SET)) == NULL)
		return STORE_ERR;
	if (n > 0)
		sqlite3_bind_blob(s, 1, blob, (int)store_kw_encode(out, n,
		    blob), SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int64(s, 2, (int64_t)modseq);
	sqlite3_bind_int64(s, 3, mbox);
	sqlite3_bind_int64(s, 4, uid);
	if ((rc = store_step_done(st, s, "upgrade POP3's hidden messages"))
	    != 0)
		return rc;
	if ((s = store_stmt(st, SQL_HIDE_ROW)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, uid);
	return store_step_done(st, s, "upgrade POP3's hidden messages");
}

struct msg_key {
	int64_t	 mbox;
	uint32_t uid;
};

/* The messages of account acct that carry keyword id, into *v_r. */
static int
with_keyword(struct store *st, int64_t acct, uint32_t id,
    struct msg_key **v_r, size_t *n_r)
{
	uint32_t kw[STORE_MAX_KEYWORDS], nkw, i;
	unsigned char needle[4];
	struct msg_key *v = NULL;
	sqlite3_stmt *s;
	size_t n = 0, cap = 0;
	int rc, found;

	if ((s = store_stmt(st, SQL_KW_MESSAGES)) == NULL)
		return STORE_ERR;
	store_kw_encode(&id, 1, needle);
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, needle, 4, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		nkw = store_kw_decode(sqlite3_column_blob(s, 2),
		    (size_t)sqlite3_column_bytes(s, 2), kw);
		for (i = 0, found = 0; i < nkw; i++)
			found |= kw[i] == id;
		if (!found)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : 2 * cap;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].mbox = sqlite3_column_int64(s, 0);
		v[n++].uid = (uint32_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_dberr(st, rc, "upgrade POP3's hidden messages");
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

/* Every message of account acct with keyword id: hidden instead. */
static int
adopt_account(struct store *st, int64_t acct, uint32_t id)
{
	struct msg_key *v = NULL;
	struct msg_row r;
	int64_t last = 0;
	uint64_t modseq = 0;
	size_t n = 0, i;
	int rc;

	/* Collected first, changed after: no update under a running scan. */
	if ((rc = with_keyword(st, acct, id, &v, &n)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = get_row(st, v[i].mbox, v[i].uid, &r)) != 0)
			break;
		if (v[i].mbox != last) {
			last = v[i].mbox;
			if ((rc = store_mailbox_bump(st, last, &modseq)) != 0)
				break;
		}
		rc = adopt_one(st, v[i].mbox, v[i].uid, r.kw, r.m.nkw, id,
		    modseq);
	}
	free(v);
	return rc;
}

int
store_pop3_adopt_keyword(struct store *st)
{
	/* The keyword POP3 used before schema 3 (Dovecot's name for it). */
	static const char old[] = "$POP3Deleted";
	unsigned char h[STORE_HASH_BYTES];
	struct kw_owner {
		int64_t	 acct;
		uint32_t id;
	} *accts = NULL;
	sqlite3_stmt *s;
	size_t n = 0, cap = 0, i;
	int rc;

	if ((s = store_stmt(st, SQL_KW_ACCOUNTS)) == NULL)
		return STORE_ERR;
	store_keyword_hash(st, old, h);
	sqlite3_bind_blob(s, 1, h, STORE_HASH_BYTES, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : 2 * cap;
			accts = xreallocarray(accts, cap, sizeof(*accts));
		}
		accts[n].acct = sqlite3_column_int64(s, 0);
		accts[n++].id = (uint32_t)sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : store_dberr(st, rc,
	    "upgrade POP3's hidden messages");
	for (i = 0; i < n && rc == 0; i++)
		rc = adopt_account(st, accts[i].acct, accts[i].id);
	free(accts);
	return rc;
}
