/*
 * sync_state: what the sync engine last agreed with each upstream server:
 * the remote folders paired with local mailboxes (sync_folder), the remote
 * identity and last synced flags of each message (sync_msg), and the
 * POP3 UIDLs already fetched (sync_pop3). See the Sync section of
 * schema.sql for the meaning of every column.
 *
 * The engine is state-based: it finds local changes by comparing the
 * mailboxes with these rows, so store/ records nothing extra when a
 * client flags, moves or expunges a message. Every function here joins
 * the caller's store_txn_begin() transaction when there is one, which is
 * how a pulled message, its identity and the folder's sync position are
 * committed as one unit. Writes that only touch these tables wake no
 * IMAP session (st->quiet): no mailbox changed.
 *
 * Remote folder names are sealed (AD: account and row id); POP3 UIDLs are
 * kept only as keyed hashes, since they are looked up and never listed.
 * Remote messages a server refused to give are counted in sync_refused
 * (schema.sql makes it; store.c's migration adds it to older stores).
 */
#include "store/store_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char SQL_F_LIST[] =
    "SELECT id, mailbox, name, uidvalidity, uidnext, highestmodseq, "
    "local_modseq FROM sync_folder WHERE account = ? ORDER BY id";
static const char SQL_F_INSERT[] =
    "INSERT INTO sync_folder (account, mailbox, name) VALUES (?, ?, x'')";
static const char SQL_F_ACCOUNT[] =
    "SELECT account FROM sync_folder WHERE id = ?";
static const char SQL_F_SET_NAME[] =
    "UPDATE sync_folder SET name = ? WHERE id = ?";
static const char SQL_F_SET_STATE[] =
    "UPDATE sync_folder SET mailbox = ?, uidvalidity = ?, uidnext = ?, "
    "highestmodseq = ?, local_modseq = ? WHERE id = ?";
static const char SQL_F_DELETE[] = "DELETE FROM sync_folder WHERE id = ?";

#define SM_COLS "mailbox, uid, folder, ruidvalidity, ruid, state, flags, " \
	"content, keywords"
static const char SQL_M_GET[] =
    "SELECT " SM_COLS " FROM sync_msg WHERE mailbox = ? AND uid = ?";
static const char SQL_M_REMOTE[] =
    "SELECT " SM_COLS " FROM sync_msg "
    "WHERE folder = ? AND ruidvalidity = ? AND ruid = ?";
static const char SQL_M_PUT[] =
    "INSERT OR REPLACE INTO sync_msg (" SM_COLS ") "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_M_DELETE[] =
    "DELETE FROM sync_msg WHERE mailbox = ? AND uid = ?";
static const char SQL_M_RUIDS[] =
    "SELECT ruid FROM sync_msg WHERE folder = ? AND ruidvalidity = ? "
    "AND ruid IS NOT NULL ORDER BY ruid";
static const char SQL_M_UNSETTLED[] =
    "SELECT " SM_COLS " FROM sync_msg WHERE folder = ? AND "
    "(ruid IS NULL OR ruidvalidity <> ?) ORDER BY mailbox, uid";
static const char SQL_M_CONTENT[] =
    "SELECT s.mailbox, s.uid, s.folder, s.ruidvalidity, s.ruid, s.state, "
    "s.flags, s.content, s.keywords FROM sync_msg s "
    "JOIN sync_folder f ON f.id = s.folder "
    "WHERE s.content = ? AND f.account = ? ORDER BY s.mailbox, s.uid";
static const char SQL_M_UNBOUND[] =
    "SELECT m.uid FROM message m LEFT JOIN sync_msg s "
    "ON s.mailbox = m.mailbox AND s.uid = m.uid "
    "WHERE m.mailbox = ?1 AND m.content = ?2 AND (s.uid IS NULL OR "
    "s.ruid IS NULL OR s.ruidvalidity <> ?3) ORDER BY m.uid LIMIT 1";
/* "<> ?" written as two ranges, so both use the (folder, ruidvalidity)
 * index and a folder without stale rows costs two seeks, not a scan. */
static const char SQL_M_ANY_STALE[] =
    "SELECT 1 FROM sync_msg WHERE folder = ?1 AND ruidvalidity < ?2 "
    "UNION ALL SELECT 1 FROM sync_msg WHERE folder = ?1 AND "
    "ruidvalidity > ?2 LIMIT 1";
static const char SQL_M_DROP_STALE[] =
    "DELETE FROM sync_msg WHERE folder = ? AND ruidvalidity <> ? "
    "AND ruid IS NOT NULL";
static const char SQL_M_COUNT[] =
    "SELECT count(*) FROM sync_msg WHERE folder = ? AND ruidvalidity = ? "
    "AND ruid IS NOT NULL";
static const char SQL_M_INFLIGHT[] =
    "SELECT " SM_COLS " FROM sync_msg WHERE folder = ? AND "
    "ruidvalidity = ? AND ruid IS NULL ORDER BY mailbox, uid";
static const char SQL_M_MAX[] =
    "SELECT coalesce(max(ruid), 0) FROM sync_msg WHERE folder = ? AND "
    "ruidvalidity = ?";

static const char SQL_P_GET[] =
    "SELECT fetched FROM sync_pop3 WHERE account = ? AND uidl_hash = ?";
static const char SQL_P_PUT[] =
    "INSERT OR REPLACE INTO sync_pop3 (account, uidl_hash, fetched) "
    "VALUES (?, ?, ?)";
static const char SQL_P_DELETE[] =
    "DELETE FROM sync_pop3 WHERE account = ? AND uidl_hash = ?";
static const char SQL_P_LIST[] =
    "SELECT uidl_hash FROM sync_pop3 WHERE account = ?";

static const char SQL_R_NOTE[] =
    "INSERT INTO sync_refused (folder, ruidvalidity, ruid, tries) "
    "VALUES (?1, ?2, ?3, 1) ON CONFLICT (folder, ruidvalidity, ruid) "
    "DO UPDATE SET tries = tries + 1 RETURNING tries";
static const char SQL_R_PENDING[] =
    "SELECT ruid FROM sync_refused WHERE folder = ? AND ruidvalidity = ? "
    "AND tries < ? ORDER BY ruid";
static const char SQL_R_FORGET[] =
    "DELETE FROM sync_refused WHERE folder = ? AND ruidvalidity = ? "
    "AND ruid = ?";
static const char SQL_R_STALE[] =
    "DELETE FROM sync_refused WHERE folder = ? AND ruidvalidity <> ?";

/* ---- helpers -------------------------------------------------------------- */

/* A write that touches only sync tables: no IMAP session needs waking. */
static int
qbegin(struct store *st)
{
	int rc;

	st->quiet++;
	if ((rc = store_wbegin(st)) != 0)
		st->quiet--;
	return rc;
}

static int
qend(struct store *st, int rc)
{
	rc = store_wend(st, rc);
	st->quiet--;
	return rc;
}

size_t
store_sync_folder_ad(unsigned char *ad, int64_t acct, int64_t id)
{
	return store_ad(ad, "sync_folder", "name", "%lld/%lld", (long long)acct,
	    (long long)id);
}

static int
folder_account(struct store *st, int64_t id, int64_t *acct_r)
{
	return store_enoent(st, store_query_i64(st, SQL_F_ACCOUNT, id, acct_r,
	    "read a sync folder"), "no such sync folder %lld", (long long)id);
}

static int
set_folder_name(struct store *st, int64_t acct, int64_t id, const char *name)
{
	unsigned char ad[STORE_AD_MAX];
	size_t adlen = store_sync_folder_ad(ad, acct, id);

	return store_put_sealed(st, SQL_F_SET_NAME, id, ad, adlen, name,
	    strlen(name), "name a sync folder");
}

static void
bind_id_or_null(sqlite3_stmt *s, int i, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* ---- folders -------------------------------------------------------------- */

int
store_sync_folder_list(struct store *st, int64_t acct,
    struct store_sync_folder **list_r, size_t *n_r)
{
	unsigned char ad[STORE_AD_MAX];
	struct store_sync_folder *v = NULL, *f;
	size_t n = 0, cap = 0, adlen;
	sqlite3_stmt *s = store_stmt(st, SQL_F_LIST);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		f = &v[n];
		memset(f, 0, sizeof(*f));
		f->id = sqlite3_column_int64(s, 0);
		f->mailbox = sqlite3_column_int64(s, 1);
		f->uidvalidity = (uint32_t)sqlite3_column_int64(s, 3);
		f->uidnext = (uint32_t)sqlite3_column_int64(s, 4);
		f->highestmodseq = (uint64_t)sqlite3_column_int64(s, 5);
		f->local_modseq = (uint64_t)sqlite3_column_int64(s, 6);
		adlen = store_sync_folder_ad(ad, acct, f->id);
		if (store_unseal_new(st->keys, ad, adlen,
		    sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2),
		    &f->name, NULL) != 0) {
			sqlite3_reset(s);
			store_sync_folder_list_free(&v, n);
			return store_err(st, STORE_ECORRUPT, "the name of sync "
			    "folder %lld does not decrypt: the store is "
			    "damaged or was tampered with", (long long)f->id);
		}
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_sync_folder_list_free(&v, n);
		return store_dberr(st, rc, "list sync folders");
	}
	*list_r = v;
	*n_r = n;
	return 0;
}

void
store_sync_folder_list_free(struct store_sync_folder **list, size_t n)
{
	free_records(*list, n, sizeof(**list),
	    offsetof(struct store_sync_folder, name));
	*list = NULL;
}

static int
folder_add_locked(struct store *st, int64_t acct, int64_t mbox,
    const char *name, int64_t *id_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_F_INSERT);
	int64_t id;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	bind_id_or_null(s, 2, mbox);
	if ((rc = store_step_done(st, s, "pair a remote folder")) != 0)
		return rc;
	id = sqlite3_last_insert_rowid(st->db);
	if ((rc = set_folder_name(st, acct, id, name)) != 0)
		return rc;
	*id_r = id;
	return 0;
}

int
store_sync_folder_add(struct store *st, int64_t acct, int64_t mbox,
    const char *name, int64_t *id_r)
{
	int64_t id = 0;
	int rc;

	if ((rc = store_check_text(st, "folder name", name,
	    STORE_NAME_MAX)) != 0)
		return rc;
	if ((rc = qbegin(st)) != 0)
		return rc;
	rc = qend(st, folder_add_locked(st, acct, mbox, name, &id));
	if (rc == 0 && id_r != NULL)
		*id_r = id;
	return rc;
}

int
store_sync_folder_set_name(struct store *st, int64_t id, const char *name)
{
	int64_t acct = 0;
	int rc;

	if ((rc = store_check_text(st, "folder name", name,
	    STORE_NAME_MAX)) != 0)
		return rc;
	if ((rc = folder_account(st, id, &acct)) != 0)
		return rc;
	if ((rc = qbegin(st)) != 0)
		return rc;
	return qend(st, set_folder_name(st, acct, id, name));
}

int
store_sync_folder_set_state(struct store *st,
    const struct store_sync_folder *f)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = qbegin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_F_SET_STATE)) == NULL)
		return qend(st, STORE_ERR);
	bind_id_or_null(s, 1, f->mailbox);
	sqlite3_bind_int64(s, 2, f->uidvalidity);
	sqlite3_bind_int64(s, 3, f->uidnext);
	sqlite3_bind_int64(s, 4, (int64_t)f->highestmodseq);
	sqlite3_bind_int64(s, 5, (int64_t)f->local_modseq);
	sqlite3_bind_int64(s, 6, f->id);
	rc = store_step_done(st, s, "save the sync position");
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = store_err(st, STORE_ENOENT, "no such sync folder %lld",
		    (long long)f->id);
	return qend(st, rc);
}

int
store_sync_folder_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = qbegin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_F_DELETE)) == NULL)
		return qend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, id);
	return qend(st, store_step_done(st, s, "forget a remote folder"));
}

/* ---- message identities ---------------------------------------------------- */

static void
row_sync_msg(sqlite3_stmt *s, struct store_sync_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->mailbox = sqlite3_column_int64(s, 0);
	m->uid = (uint32_t)sqlite3_column_int64(s, 1);
	m->folder = sqlite3_column_int64(s, 2);
	m->ruidvalidity = (uint32_t)sqlite3_column_int64(s, 3);
	m->ruid = (uint32_t)sqlite3_column_int64(s, 4);	/* NULL: 0 */
	m->state = sqlite3_column_int(s, 5);
	m->flags = (uint32_t)sqlite3_column_int64(s, 6);
	m->content = sqlite3_column_int64(s, 7);
	m->nkw = store_kw_decode(sqlite3_column_blob(s, 8),
	    (size_t)sqlite3_column_bytes(s, 8), m->kw);
}

/* One row from a statement with its parameters bound: 0, STORE_ENOENT
 * (no error text), or an error. */
static int
one_row(struct store *st, sqlite3_stmt *s, struct store_sync_msg *m_r)
{
	int rc = store_step_row(st, s, "read a remote identity");

	if (rc != 0)
		return rc;
	row_sync_msg(s, m_r);
	sqlite3_reset(s);
	return 0;
}

int
store_sync_msg_get(struct store *st, int64_t mbox, uint32_t uid,
    struct store_sync_msg *m_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_GET);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, uid);
	return one_row(st, s, m_r);
}

int
store_sync_msg_find_remote(struct store *st, int64_t folder,
    uint32_t uidvalidity, uint32_t ruid, struct store_sync_msg *m_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_REMOTE);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	sqlite3_bind_int64(s, 3, ruid);
	return one_row(st, s, m_r);
}

int
store_sync_msg_put(struct store *st, const struct store_sync_msg *m)
{
	unsigned char blob[4 * STORE_MAX_KEYWORDS];
	sqlite3_stmt *s;
	int rc;

	if (m->nkw > STORE_MAX_KEYWORDS)
		return store_err(st, STORE_EINVAL, "too many keywords");
	if ((rc = qbegin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_M_PUT)) == NULL)
		return qend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, m->mailbox);
	sqlite3_bind_int64(s, 2, m->uid);
	sqlite3_bind_int64(s, 3, m->folder);
	sqlite3_bind_int64(s, 4, m->ruidvalidity);
	if (m->ruid != 0 && m->state == STORE_SYNC_BOUND)
		sqlite3_bind_int64(s, 5, m->ruid);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int(s, 6, m->state);
	sqlite3_bind_int64(s, 7, m->flags & 0x1f);
	sqlite3_bind_int64(s, 8, m->content);
	if (m->nkw > 0)
		sqlite3_bind_blob(s, 9, blob,
		    (int)store_kw_encode(m->kw, m->nkw, blob), SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 9);
	rc = store_step_done(st, s, "save a remote identity");
	return qend(st, rc);
}

int
store_sync_msg_delete(struct store *st, int64_t mbox, uint32_t uid)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = qbegin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_M_DELETE)) == NULL)
		return qend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, uid);
	return qend(st, store_step_done(st, s, "forget a remote identity"));
}

int
store_sync_msg_ruids(struct store *st, int64_t folder, uint32_t uidvalidity,
    uint32_t **ruids_r, size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_RUIDS);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	return store_collect_u32(st, s, "list remote UIDs", ruids_r, n_r);
}

int
store_sync_msg_count(struct store *st, int64_t folder, uint32_t uidvalidity,
    size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_COUNT);
	int64_t n;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	/* count(*): there is always a row. */
	if ((rc = store_step_i64(st, s, &n, "count identities")) == 0)
		*n_r = (size_t)n;
	return rc;
}

int
store_sync_msg_max_ruid(struct store *st, int64_t folder,
    uint32_t uidvalidity, uint32_t *ruid_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_MAX);
	int64_t n;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	/* max() with coalesce: there is always a row, an index seek. */
	if ((rc = store_step_i64(st, s, &n, "read remote UIDs")) == 0)
		*ruid_r = (uint32_t)n;
	return rc;
}

/* Every row a statement with bound parameters gives, as an array. */
static int
all_rows(struct store *st, sqlite3_stmt *s, struct store_sync_msg **v_r,
    size_t *n_r)
{
	struct store_sync_msg *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		row_sync_msg(s, &v[n++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_dberr(st, rc, "list remote identities");
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

int
store_sync_msg_unsettled(struct store *st, int64_t folder,
    uint32_t uidvalidity, struct store_sync_msg **v_r, size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_UNSETTLED);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	return all_rows(st, s, v_r, n_r);
}

int
store_sync_msg_inflight(struct store *st, int64_t folder,
    uint32_t uidvalidity, struct store_sync_msg **v_r, size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_INFLIGHT);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	return all_rows(st, s, v_r, n_r);
}

int
store_sync_msg_by_content(struct store *st, int64_t acct, int64_t content,
    struct store_sync_msg **v_r, size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_CONTENT);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, content);
	sqlite3_bind_int64(s, 2, acct);
	return all_rows(st, s, v_r, n_r);
}

int
store_sync_msg_unbound(struct store *st, int64_t mbox, int64_t content,
    uint32_t uidvalidity, uint32_t *uid_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_UNBOUND);
	int64_t uid;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, content);
	sqlite3_bind_int64(s, 3, uidvalidity);
	rc = store_step_i64(st, s, &uid, "look for an unmatched message");
	if (rc == 0)
		*uid_r = (uint32_t)uid;
	return rc;
}

int
store_sync_msg_drop_stale(struct store *st, int64_t folder,
    uint32_t uidvalidity)
{
	sqlite3_stmt *s = store_stmt(st, SQL_M_ANY_STALE);
	int rc;

	/* Usually there is nothing to drop: then write nothing either. */
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	rc = store_step_i64(st, s, NULL, "look for stale identities");
	if (rc != 0)
		return rc == STORE_ENOENT ? 0 : rc;
	if ((rc = qbegin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_M_DROP_STALE)) == NULL)
		return qend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	return qend(st, store_step_done(st, s, "forget stale identities"));
}

/* ---- POP3 ------------------------------------------------------------------ */

static void
uidl_hash(struct store *st, const char *uidl, unsigned char *h)
{
	store_name_hash(st->keys, "sync_pop3", uidl, strlen(uidl), h);
}

int
store_sync_pop3_get(struct store *st, int64_t acct, const char *uidl,
    int64_t *fetched_r)
{
	unsigned char h[STORE_HASH_BYTES];
	sqlite3_stmt *s = store_stmt(st, SQL_P_GET);

	if (s == NULL)
		return STORE_ERR;
	uidl_hash(st, uidl, h);
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_TRANSIENT);
	return store_step_i64(st, s, fetched_r, "look up a UIDL");
}

int
store_sync_pop3_put(struct store *st, int64_t acct, const char *uidl,
    int64_t fetched)
{
	unsigned char h[STORE_HASH_BYTES];
	sqlite3_stmt *s;
	int rc;

	if ((rc = qbegin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_P_PUT)) == NULL)
		return qend(st, STORE_ERR);
	uidl_hash(st, uidl, h);
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, fetched);
	return qend(st, store_step_done(st, s, "remember a UIDL"));
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, STORE_HASH_BYTES);
}

static int
prune_locked(struct store *st, int64_t acct, const unsigned char *keep,
    size_t nkeep)
{
	unsigned char (*gone)[STORE_HASH_BYTES] = NULL;
	size_t ngone = 0, cap = 0, i;
	sqlite3_stmt *s = store_stmt(st, SQL_P_LIST);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(s, 0);

		if (sqlite3_column_bytes(s, 0) != STORE_HASH_BYTES ||
		    bsearch(h, keep, nkeep, STORE_HASH_BYTES, cmp_hash))
			continue;
		if (ngone == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			gone = xreallocarray(gone, cap, sizeof(*gone));
		}
		memcpy(gone[ngone++], h, STORE_HASH_BYTES);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(gone);
		return store_dberr(st, rc, "list UIDLs");
	}
	for (i = 0, rc = 0; i < ngone && rc == 0; i++) {
		if ((s = store_stmt(st, SQL_P_DELETE)) == NULL) {
			rc = STORE_ERR;
			break;
		}
		sqlite3_bind_int64(s, 1, acct);
		sqlite3_bind_blob(s, 2, gone[i], STORE_HASH_BYTES,
		    SQLITE_STATIC);
		rc = store_step_done(st, s, "forget a UIDL");
	}
	free(gone);
	return rc;
}

int
store_sync_pop3_prune(struct store *st, int64_t acct,
    const char *const *present, size_t n)
{
	unsigned char *keep = xcalloc(n + 1, STORE_HASH_BYTES);
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		uidl_hash(st, present[i], keep + i * STORE_HASH_BYTES);
	qsort(keep, n, STORE_HASH_BYTES, cmp_hash);
	if ((rc = qbegin(st)) == 0)
		rc = qend(st, prune_locked(st, acct, keep, n));
	free(keep);
	return rc;
}

/* ---- refused messages --------------------------------------------------- */

int
store_sync_refused_note(struct store *st, int64_t folder,
    uint32_t uidvalidity, uint32_t ruid, unsigned *tries_r)
{
	sqlite3_stmt *s;
	int64_t tries;
	int rc;

	if ((rc = qbegin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_R_NOTE)) == NULL)
		return qend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	sqlite3_bind_int64(s, 3, ruid);
	/* RETURNING: the row is written by the first step. */
	rc = store_step_i64(st, s, &tries, "count a refused message");
	if (rc == 0 && tries_r != NULL)
		*tries_r = (unsigned)tries;
	return qend(st, rc);
}

int
store_sync_refused_pending(struct store *st, int64_t folder,
    uint32_t uidvalidity, unsigned max, uint32_t **ruids_r, size_t *n_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_R_PENDING);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	sqlite3_bind_int64(s, 3, max);
	return store_collect_u32(st, s, "list refused messages", ruids_r, n_r);
}

int
store_sync_refused_forget(struct store *st, int64_t folder,
    uint32_t uidvalidity, uint32_t ruid)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = qbegin(st)) != 0)
		return rc;
	s = store_stmt(st, ruid != 0 ? SQL_R_FORGET : SQL_R_STALE);
	if (s == NULL)
		return qend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, folder);
	sqlite3_bind_int64(s, 2, uidvalidity);
	if (ruid != 0)
		sqlite3_bind_int64(s, 3, ruid);
	return qend(st, store_step_done(st, s, "forget a refused message"));
}
