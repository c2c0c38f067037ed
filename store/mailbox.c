/*
 * mailbox: an account's tree of mailboxes and their IMAP numbers.
 *
 * Names are full paths with '/' between levels; a leading "INBOX"
 * component is matched case-insensitively and always kept as "INBOX".
 * A name is sealed (AD: account, id, name hash) and found by a keyed hash
 * of its canonical form, so the server never decrypts to look one up;
 * renaming a subtree decrypts the account's names (a few hundred at most)
 * to find the children.
 *
 * UIDVALIDITY comes from a store-wide counter: max(now, last + 1), so a
 * mailbox deleted and made again under the same name gets a new one.
 * UIDNEXT only grows. HIGHESTMODSEQ is bumped by every change to the
 * mailbox's messages, and starts at 1. recent_mark is the lowest UID that
 * no session has claimed as \Recent yet.
 */
#include "store/store_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

static const char SQL_FIND[] =
    "SELECT id, uidvalidity, uidnext, highestmodseq, special_use, "
    "subscribed, name_hash, name FROM mailbox "
    "WHERE account = ? AND name_hash = ?";
static const char SQL_GET[] =
    "SELECT id, uidvalidity, uidnext, highestmodseq, special_use, "
    "subscribed, name_hash, name, account, recent_mark FROM mailbox "
    "WHERE id = ?";
static const char SQL_LIST[] =
    "SELECT id, uidvalidity, uidnext, highestmodseq, special_use, "
    "subscribed, name_hash, name FROM mailbox WHERE account = ?";
static const char SQL_COUNTS[] =
    "SELECT count(*), coalesce(sum((flags & 1) = 0), 0), "
    "coalesce(sum(uid >= ?2), 0), coalesce(sum(size), 0) "
    "FROM message WHERE mailbox = ?1";
static const char SQL_RECENT_MARK[] =
    "SELECT recent_mark FROM mailbox WHERE id = ?";
static const char SQL_INSERT[] =
    "INSERT INTO mailbox (account, name_hash, name, uidvalidity, uidnext, "
    "highestmodseq, recent_mark, special_use, subscribed) "
    "VALUES (?, ?, x'', ?, 1, 1, 1, ?, 0)";
static const char SQL_SET_NAME[] =
    "UPDATE mailbox SET name_hash = ?, name = ? WHERE id = ?";
static const char SQL_UIDVALIDITY_GET[] =
    "SELECT value FROM counter WHERE name = 'uidvalidity'";
static const char SQL_UIDVALIDITY_SET[] =
    "UPDATE counter SET value = ? WHERE name = 'uidvalidity'";
static const char SQL_DELETE[] = "DELETE FROM mailbox WHERE id = ?";
static const char SQL_SUBSCRIBE[] =
    "UPDATE mailbox SET subscribed = ? WHERE id = ?";
static const char SQL_SPECIAL_USE[] =
    "UPDATE mailbox SET special_use = ? WHERE id = ?";
static const char SQL_CLAIM[] =
    "UPDATE mailbox SET recent_mark = uidnext WHERE id = ?";
static const char SQL_BUMP[] =
    "UPDATE mailbox SET highestmodseq = highestmodseq + 1 WHERE id = ? "
    "RETURNING highestmodseq";
static const char SQL_ACCOUNT[] = "SELECT account FROM mailbox WHERE id = ?";
static const char SQL_MODSEQ[] =
    "SELECT highestmodseq FROM mailbox WHERE id = ?";

/* ---- names ------------------------------------------------------------ */

/*
 * Check a name and return its canonical form (a leading INBOX component
 * uppercased), which the caller frees; NULL with the error set.
 */
static char *
canon_name(struct store *st, const char *name)
{
	size_t len;
	char *c;

	if (store_check_text(st, "mailbox name", name, STORE_NAME_MAX) != 0)
		return NULL;
	len = strlen(name);
	if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//")) {
		store_err(st, STORE_EINVAL, "the mailbox name '%s' has an "
		    "empty level", name);
		return NULL;
	}
	c = xstrdup(name);
	if (ascii_strncasecmp(c, "INBOX", 5) == 0 &&
	    (c[5] == '\0' || c[5] == '/'))
		memcpy(c, "INBOX", 5);
	return c;
}

static void
name_hash(struct store *st, const char *canon, unsigned char *h)
{
	store_name_hash(st->keys, "mailbox", canon, strlen(canon), h);
}

size_t
store_mailbox_ad(unsigned char *ad, int64_t acct, int64_t id, const unsigned char *h)
{
	char hex[2 * STORE_HASH_BYTES + 1];

	store_hex(h, STORE_HASH_BYTES, hex);
	return store_ad(ad, "mailbox", "name", "%lld/%lld/%s", (long long)acct,
	    (long long)id, hex);
}

/* Fill mb from a row of SQL_FIND / SQL_GET / SQL_LIST (columns 0..7). */
static int
row_fill(struct store *st, sqlite3_stmt *s, int64_t acct,
    struct store_mailbox *mb)
{
	unsigned char ad[STORE_AD_MAX];
	size_t adlen;

	memset(mb, 0, sizeof(*mb));
	mb->id = sqlite3_column_int64(s, 0);
	mb->uidvalidity = (uint32_t)sqlite3_column_int64(s, 1);
	mb->uidnext = (uint32_t)sqlite3_column_int64(s, 2);
	mb->highestmodseq = (uint64_t)sqlite3_column_int64(s, 3);
	mb->special_use = (unsigned)sqlite3_column_int(s, 4);
	mb->subscribed = sqlite3_column_int(s, 5);
	if (sqlite3_column_bytes(s, 6) != STORE_HASH_BYTES)
		goto bad;
	adlen = store_mailbox_ad(ad, acct, mb->id, sqlite3_column_blob(s, 6));
	if (store_unseal_new(st->keys, ad, adlen, sqlite3_column_blob(s, 7),
	    (size_t)sqlite3_column_bytes(s, 7), &mb->name, NULL) != 0)
		goto bad;
	return 0;
bad:
	return store_err(st, STORE_ECORRUPT, "the name of mailbox %lld does "
	    "not decrypt: the store is damaged or was tampered with",
	    (long long)mb->id);
}

void
store_mailbox_clear(struct store_mailbox *mb)
{
	free(mb->name);
	mb->name = NULL;
}

/* ---- internal helpers ---------------------------------------------------- */

int
store_mailbox_account(struct store *st, int64_t mbox, int64_t *acct_r)
{
	return store_query_mailbox_i64(st, SQL_ACCOUNT, mbox, acct_r,
	    "look up the mailbox");
}

/* A mailbox's HIGHESTMODSEQ, as sql (SQL_MODSEQ, SQL_BUMP) gives it. */
static int
query_modseq(struct store *st, const char *sql, int64_t mbox,
    uint64_t *modseq_r, const char *doing)
{
	int64_t v;
	int rc = store_query_mailbox_i64(st, sql, mbox, &v, doing);

	if (rc == 0)
		*modseq_r = (uint64_t)v;
	return rc;
}

int
store_mailbox_bump(struct store *st, int64_t mbox, uint64_t *modseq_r)
{
	return query_modseq(st, SQL_BUMP, mbox, modseq_r, "update the mailbox");
}

/* For the sync engine (declared with the sync state in store.h). */
int
store_sync_mailbox_modseq(struct store *st, int64_t mbox, uint64_t *modseq_r)
{
	return query_modseq(st, SQL_MODSEQ, mbox, modseq_r, "read the mailbox");
}

/* Look a canonical name up: 0 and *id_r, STORE_ENOENT, or an error. */
static int
find_id(struct store *st, int64_t acct, const char *canon, int64_t *id_r)
{
	unsigned char h[STORE_HASH_BYTES];
	sqlite3_stmt *s = store_stmt(st, SQL_FIND);

	if (s == NULL)
		return STORE_ERR;
	name_hash(st, canon, h);
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_TRANSIENT);
	return store_step_i64(st, s, id_r, "look up the mailbox");
}

static int
next_uidvalidity(struct store *st, uint32_t *v_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_UIDVALIDITY_GET);
	int64_t last = 0, now = (int64_t)time(NULL), v;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	rc = store_step_i64(st, s, &last, "number the mailbox");
	if (rc != 0 && rc != STORE_ENOENT)
		return rc;
	v = now > last ? now : last + 1;
	if (v > (int64_t)UINT32_MAX)
		return store_err(st, STORE_ERR, "the store has run out of "
		    "UIDVALIDITY values");
	if ((s = store_stmt(st, SQL_UIDVALIDITY_SET)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, v);
	rc = store_step_done(st, s, "number the mailbox");
	if (rc == 0)
		*v_r = (uint32_t)v;
	return rc;
}

/* Give mailbox id the name canon (sealed, bound to the row). */
static int
set_name(struct store *st, int64_t acct, int64_t id, const char *canon)
{
	unsigned char h[STORE_HASH_BYTES], ad[STORE_AD_MAX], *sealed;
	size_t adlen, slen;
	sqlite3_stmt *s;
	int rc;

	if ((s = store_stmt(st, SQL_SET_NAME)) == NULL)
		return STORE_ERR;
	name_hash(st, canon, h);
	adlen = store_mailbox_ad(ad, acct, id, h);
	sealed = store_seal_new(st->keys, ad, adlen, canon, strlen(canon),
	    &slen);
	sqlite3_bind_blob(s, 1, h, sizeof(h), SQLITE_TRANSIENT);
	sqlite3_bind_blob(s, 2, sealed, (int)slen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	rc = store_step_done(st, s, "name the mailbox");
	free(sealed);
	return rc;
}

/* Insert one mailbox whose name is known to be free. */
static int
insert_one(struct store *st, int64_t acct, const char *canon,
    unsigned special_use, int64_t *id_r)
{
	unsigned char h[STORE_HASH_BYTES];
	uint32_t uidvalidity = 0;
	sqlite3_stmt *s;
	int64_t id;
	int rc;

	if ((rc = next_uidvalidity(st, &uidvalidity)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_INSERT)) == NULL)
		return STORE_ERR;
	/* A unique placeholder hash until set_name() gives the real one. */
	store_random(h, sizeof(h));
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 3, uidvalidity);
	sqlite3_bind_int(s, 4, (int)special_use);
	if ((rc = store_step_done(st, s, "create the mailbox")) != 0)
		return rc;
	id = sqlite3_last_insert_rowid(st->db);
	if ((rc = set_name(st, acct, id, canon)) != 0)
		return rc;
	if (id_r != NULL)
		*id_r = id;
	return 0;
}

/* Create every missing ancestor of canon ("a/b/c": "a", "a/b"). */
static int
create_parents(struct store *st, int64_t acct, const char *canon)
{
	char *p = xstrdup(canon), *slash;
	int rc = 0;

	for (slash = strchr(p, '/'); slash != NULL && rc == 0;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		rc = find_id(st, acct, p, NULL);
		if (rc == STORE_ENOENT)
			rc = insert_one(st, acct, p, 0, NULL);
		*slash = '/';
	}
	free(p);
	return rc;
}

/* ---- public ------------------------------------------------------------ */

static int
create_locked(struct store *st, int64_t acct, const char *canon,
    unsigned special_use, int64_t *id_r)
{
	int rc;

	if ((rc = store_account_exists(st, acct)) != 0)
		return rc;
	rc = find_id(st, acct, canon, NULL);
	if (rc == 0)
		return store_err(st, STORE_EEXIST, "the mailbox '%s' exists "
		    "already", canon);
	if (rc != STORE_ENOENT)
		return rc;
	if ((rc = create_parents(st, acct, canon)) != 0)
		return rc;
	return insert_one(st, acct, canon, special_use, id_r);
}

int
store_mailbox_create(struct store *st, int64_t acct, const char *name,
    unsigned special_use, int64_t *id_r)
{
	char *canon = canon_name(st, name);
	int rc;

	if (canon == NULL)
		return STORE_EINVAL;
	rc = store_wbegin(st);
	if (rc == 0)
		rc = store_wend(st, create_locked(st, acct, canon, special_use,
		    id_r));
	free(canon);
	return rc;
}

int
store_mailbox_find(struct store *st, int64_t acct, const char *name,
    struct store_mailbox *mb_r)
{
	unsigned char h[STORE_HASH_BYTES];
	char *canon = canon_name(st, name);
	sqlite3_stmt *s;
	int rc;

	if (canon == NULL)
		return STORE_EINVAL;
	if ((s = store_stmt(st, SQL_FIND)) == NULL) {
		free(canon);
		return STORE_ERR;
	}
	name_hash(st, canon, h);
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = row_fill(st, s, acct, mb_r);
	else if (rc == SQLITE_DONE)
		rc = store_err(st, STORE_ENOENT, "there is no mailbox "
		    "named '%s'", canon);
	else
		rc = store_dberr(st, rc, "look up the mailbox");
	sqlite3_reset(s);
	free(canon);
	return rc;
}

static int
fill_counts(struct store *st, struct store_mailbox *mb, uint32_t recent_mark)
{
	sqlite3_stmt *s = store_stmt(st, SQL_COUNTS);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mb->id);
	sqlite3_bind_int64(s, 2, recent_mark);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		mb->messages = (uint32_t)sqlite3_column_int64(s, 0);
		mb->unseen = (uint32_t)sqlite3_column_int64(s, 1);
		mb->recent = (uint32_t)sqlite3_column_int64(s, 2);
		mb->bytes = (uint64_t)sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_dberr(st, rc, "count messages");
}

int
store_mailbox_status(struct store *st, int64_t mbox, struct store_mailbox *mb_r)
{
	struct store_mailbox mb;
	sqlite3_stmt *s;
	uint32_t mark;
	int rc = store_query_row(st, SQL_GET, mbox, "read the mailbox", &s);

	if (rc != 0)
		return store_enoent(st, rc, STORE_NO_MAILBOX);
	mark = (uint32_t)sqlite3_column_int64(s, 9);
	rc = row_fill(st, s, sqlite3_column_int64(s, 8), &mb);
	sqlite3_reset(s);
	if (rc == 0 && (rc = fill_counts(st, &mb, mark)) != 0)
		store_mailbox_clear(&mb);
	if (rc == 0)
		*mb_r = mb;
	return rc;
}

static int
cmp_mailbox(const void *a, const void *b)
{
	const struct store_mailbox *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int
recent_mark(struct store *st, int64_t mbox, uint32_t *mark_r)
{
	int64_t v = 0;
	int rc = store_query_mailbox_i64(st, SQL_RECENT_MARK, mbox, &v,
	    "read the mailbox");

	*mark_r = (uint32_t)v;
	return rc;
}

/* The account's mailboxes, unsorted, without counts. */
static int
list_rows(struct store *st, int64_t acct, struct store_mailbox **list_r,
    size_t *n_r)
{
	struct store_mailbox *v = NULL;
	size_t n = 0;
	sqlite3_stmt *s;
	int rc;

	if ((s = store_stmt(st, SQL_LIST)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = xreallocarray(v, n + 1, sizeof(*v));
		if ((rc = row_fill(st, s, acct, &v[n])) != 0)
			break;
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_mailbox_list_free(&v, n);
		return rc < 0 ? rc : store_dberr(st, rc, "list the mailboxes");
	}
	*list_r = v;
	*n_r = n;
	return 0;
}

int
store_mailbox_list(struct store *st, int64_t acct, int with_counts,
    struct store_mailbox **list_r, size_t *n_r)
{
	struct store_mailbox *v = NULL;
	size_t n = 0, i;
	uint32_t mark;
	int rc;

	if ((rc = list_rows(st, acct, &v, &n)) != 0)
		return rc;
	for (i = 0; with_counts && i < n && rc == 0; i++) {
		rc = recent_mark(st, v[i].id, &mark);
		if (rc == 0)
			rc = fill_counts(st, &v[i], mark);
	}
	if (rc != 0) {
		store_mailbox_list_free(&v, n);
		return rc;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_mailbox);
	*list_r = v;
	*n_r = n;
	return 0;
}

void
store_mailbox_list_free(struct store_mailbox **list, size_t n)
{
	free_records(*list, n, sizeof(**list),
	    offsetof(struct store_mailbox, name));
	*list = NULL;
}

/* The subtree of from (from itself and every "from/..." name). */
static int
in_subtree(const char *name, const char *from, size_t flen)
{
	return strncmp(name, from, flen) == 0 &&
	    (name[flen] == '\0' || name[flen] == '/');
}

static int
rename_locked(struct store *st, int64_t acct, const char *from, const char *to)
{
	struct store_mailbox *v = NULL;
	size_t n = 0, i, flen = strlen(from);
	char **newnames;
	int rc;

	if ((rc = find_id(st, acct, from, NULL)) == STORE_ENOENT)
		return store_err(st, rc, "there is no mailbox named '%s'", from);
	if (rc != 0 || (rc = list_rows(st, acct, &v, &n)) != 0)
		return rc;
	newnames = xcalloc(n, sizeof(*newnames));
	/* Check every target first, so no rename half-happens. */
	for (i = 0; i < n && rc == 0; i++) {
		if (!in_subtree(v[i].name, from, flen))
			continue;
		newnames[i] = xasprintf("%s%s", to, v[i].name + flen);
		if (strlen(newnames[i]) > STORE_NAME_MAX)
			rc = store_err(st, STORE_EINVAL, "the new name of "
			    "'%s' would be too long", v[i].name);
		else if ((rc = find_id(st, acct, newnames[i], NULL)) == 0)
			rc = store_err(st, STORE_EEXIST, "the mailbox '%s' "
			    "exists already", newnames[i]);
		else if (rc == STORE_ENOENT)
			rc = 0;
	}
	for (i = 0; i < n && rc == 0; i++)
		if (newnames[i] != NULL)
			rc = set_name(st, acct, v[i].id, newnames[i]);
	if (rc == 0)
		rc = create_parents(st, acct, to);
	for (i = 0; i < n; i++)
		free(newnames[i]);
	free(newnames);
	store_mailbox_list_free(&v, n);
	return rc;
}

int
store_mailbox_rename(struct store *st, int64_t acct, const char *from,
    const char *to)
{
	char *cf, *ct = NULL;
	int rc = STORE_EINVAL;

	if ((cf = canon_name(st, from)) == NULL ||
	    (ct = canon_name(st, to)) == NULL)
		goto out;
	if (strcmp(cf, "INBOX") == 0) {
		rc = store_err(st, STORE_EINVAL, "INBOX is not renamed here: "
		    "its messages move to the new mailbox instead");
		goto out;
	}
	if (in_subtree(ct, cf, strlen(cf))) {
		rc = store_err(st, STORE_EINVAL, "a mailbox cannot be renamed "
		    "into itself or one of its children");
		goto out;
	}
	rc = store_wbegin(st);
	if (rc == 0)
		rc = store_wend(st, rename_locked(st, acct, cf, ct));
out:
	free(cf);
	free(ct);
	return rc;
}

static int
delete_locked(struct store *st, int64_t mbox)
{
	int64_t acct, inbox;
	sqlite3_stmt *s;
	int rc;

	if ((rc = store_mailbox_account(st, mbox, &acct)) != 0)
		return rc;
	rc = find_id(st, acct, "INBOX", &inbox);
	if (rc == 0 && inbox == mbox)
		return store_err(st, STORE_EINVAL, "INBOX cannot be deleted");
	if (rc != 0 && rc != STORE_ENOENT)
		return rc;
	if ((s = store_stmt(st, SQL_DELETE)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	return store_step_done(st, s, "delete the mailbox");
}

int
store_mailbox_delete(struct store *st, int64_t mbox)
{
	int rc = store_wbegin(st);

	if (rc != 0)
		return rc;
	return store_wend(st, delete_locked(st, mbox));
}

static int
update_one(struct store *st, const char *sql, int64_t mbox, int64_t v)
{
	sqlite3_stmt *s;
	int rc = store_wbegin(st);

	if (rc != 0)
		return rc;
	if ((s = store_stmt(st, sql)) == NULL)
		return store_wend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, v);
	sqlite3_bind_int64(s, 2, mbox);
	rc = store_step_done(st, s, "update the mailbox");
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = store_err(st, STORE_ENOENT, STORE_NO_MAILBOX);
	return store_wend(st, rc);
}

int
store_mailbox_subscribe(struct store *st, int64_t mbox, int on)
{
	return update_one(st, SQL_SUBSCRIBE, mbox, on != 0);
}

int
store_mailbox_set_special_use(struct store *st, int64_t mbox,
    unsigned special_use)
{
	return update_one(st, SQL_SPECIAL_USE, mbox, special_use);
}

static int
claim_locked(struct store *st, int64_t mbox, uint32_t *first_r)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = recent_mark(st, mbox, first_r)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_CLAIM)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	return store_step_done(st, s, "claim recent messages");
}

int
store_mailbox_recent_mark(struct store *st, int64_t mbox, uint32_t *mark_r)
{
	return recent_mark(st, mbox, mark_r);
}

int
store_mailbox_claim_recent(struct store *st, int64_t mbox, uint32_t *first_r)
{
	uint32_t first = 0;
	int rc = store_wbegin(st);

	if (rc != 0)
		return rc;
	rc = store_wend(st, claim_locked(st, mbox, &first));
	if (rc == 0)
		*first_r = first;
	return rc;
}
