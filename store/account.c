/*
 * account: named trees of mailboxes.
 *
 * An account's name is sealed (AD: its id and name hash) and found by a
 * keyed hash of the exact name. Nothing else is sealed with the name
 * (mailboxes, keywords and settings name the account by its id), so a
 * rename rewrites the one row and the mail stays where it is. Creating an account creates its INBOX in
 * the same transaction; deleting it removes its mailboxes, messages,
 * keywords and settings through ON DELETE CASCADE, and content nobody
 * refers to any more through the triggers in schema.sql.
 */
#include "store/store_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char SQL_FIND[] = "SELECT id FROM account WHERE name_hash = ?";
static const char SQL_INSERT[] =
    "INSERT INTO account (name_hash, name) VALUES (?, x'')";
static const char SQL_SET_NAME[] = "UPDATE account SET name = ? WHERE id = ?";
static const char SQL_SET_HASH[] =
    "UPDATE account SET name_hash = ? WHERE id = ?";
static const char SQL_DELETE[] = "DELETE FROM account WHERE id = ?";
static const char SQL_LIST[] = "SELECT id, name_hash, name FROM account";
static const char SQL_EXISTS[] = "SELECT 1 FROM account WHERE id = ?";

size_t
store_account_ad(unsigned char *ad, int64_t id, const unsigned char *h)
{
	char hex[2 * STORE_HASH_BYTES + 1];

	store_hex(h, STORE_HASH_BYTES, hex);
	return store_ad(ad, "account", "name", "%lld/%s", (long long)id, hex);
}

static int
find_hash(struct store *st, const unsigned char *h, int64_t *id_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_FIND);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, h, STORE_HASH_BYTES, SQLITE_STATIC);
	return store_step_i64(st, s, id_r, "look up the account");
}

static int
insert_row(struct store *st, const char *name, const unsigned char *h,
    int64_t *id_r)
{
	unsigned char ad[STORE_AD_MAX];
	sqlite3_stmt *s;
	size_t adlen;
	int64_t id;
	int rc;

	if ((s = store_stmt(st, SQL_INSERT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, h, STORE_HASH_BYTES, SQLITE_STATIC);
	if ((rc = store_step_done(st, s, "create the account")) != 0)
		return rc;
	id = sqlite3_last_insert_rowid(st->db);
	adlen = store_account_ad(ad, id, h);
	rc = store_put_sealed(st, SQL_SET_NAME, id, ad, adlen, name,
	    strlen(name), "create the account");
	if (rc == 0)
		*id_r = id;
	return rc;
}

static int
create_row(struct store *st, const char *name, const unsigned char *h,
    int64_t *id_r)
{
	int64_t id;
	int rc;

	rc = find_hash(st, h, &id);
	if (rc == 0)
		return store_err(st, STORE_EEXIST, "an account named '%s' "
		    "exists already", name);
	if (rc != STORE_ENOENT)
		return rc;
	if ((rc = insert_row(st, name, h, &id)) != 0)
		return rc;
	rc = store_mailbox_create(st, id, "INBOX", 0, NULL);
	if (rc == 0)
		*id_r = id;
	return rc;
}

int
store_account_create(struct store *st, const char *name, int64_t *id_r)
{
	unsigned char h[STORE_HASH_BYTES];
	int64_t id = 0;
	int rc;

	rc = store_check_text(st, "account name", name, STORE_NAME_MAX);
	if (rc != 0)
		return rc;
	store_name_hash(st->keys, "account", name, strlen(name), h);
	rc = store_wbegin(st);
	if (rc != 0)
		return rc;
	rc = store_wend(st, create_row(st, name, h, &id));
	if (rc == 0 && id_r != NULL)
		*id_r = id;
	return rc;
}

int
store_account_find(struct store *st, const char *name, int64_t *id_r)
{
	unsigned char h[STORE_HASH_BYTES];
	int rc;

	store_name_hash(st->keys, "account", name, strlen(name), h);
	rc = find_hash(st, h, id_r);
	if (rc == STORE_ENOENT)
		return store_err(st, rc, "there is no account named '%s'", name);
	return rc;
}

static int
rename_row(struct store *st, int64_t id, const char *name,
    const unsigned char *h)
{
	unsigned char ad[STORE_AD_MAX];
	sqlite3_stmt *s;
	size_t adlen;
	int64_t other;
	int rc;

	rc = find_hash(st, h, &other);
	if (rc == 0)
		return store_err(st, STORE_EEXIST, "an account named '%s' "
		    "exists already", name);
	if (rc != STORE_ENOENT)
		return rc;
	if ((rc = store_account_exists(st, id)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_SET_HASH)) == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, h, STORE_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	if ((rc = store_step_done(st, s, "rename the account")) != 0)
		return rc;
	adlen = store_account_ad(ad, id, h);
	return store_put_sealed(st, SQL_SET_NAME, id, ad, adlen, name,
	    strlen(name), "rename the account");
}

int
store_account_rename(struct store *st, int64_t id, const char *name)
{
	unsigned char h[STORE_HASH_BYTES];
	int rc;

	rc = store_check_text(st, "account name", name, STORE_NAME_MAX);
	if (rc != 0)
		return rc;
	store_name_hash(st->keys, "account", name, strlen(name), h);
	if ((rc = store_wbegin(st)) != 0)
		return rc;
	return store_wend(st, rename_row(st, id, name, h));
}

int
store_account_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *s;
	int rc;

	rc = store_wbegin(st);
	if (rc != 0)
		return rc;
	if ((s = store_stmt(st, SQL_DELETE)) == NULL)
		return store_wend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, id);
	rc = store_step_done(st, s, "delete the account");
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = store_err(st, STORE_ENOENT, "there is no account with "
		    "id %lld", (long long)id);
	return store_wend(st, rc);
}

static int
cmp_account(const void *a, const void *b)
{
	const struct store_account *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int
store_account_list(struct store *st, struct store_account **list_r,
    size_t *n_r)
{
	unsigned char ad[STORE_AD_MAX];
	struct store_account *v = NULL;
	size_t n = 0, adlen;
	sqlite3_stmt *s;
	char *name;
	int rc;

	if ((s = store_stmt(st, SQL_LIST)) == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);

		if (sqlite3_column_bytes(s, 1) != STORE_HASH_BYTES) {
			rc = SQLITE_CORRUPT;
			break;
		}
		adlen = store_account_ad(ad, id, sqlite3_column_blob(s, 1));
		if (store_unseal_new(st->keys, ad, adlen,
		    sqlite3_column_blob(s, 2),
		    (size_t)sqlite3_column_bytes(s, 2), &name, NULL) != 0) {
			rc = SQLITE_CORRUPT;
			break;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].id = id;
		v[n++].name = name;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_account_list_free(&v, n);
		if (rc == SQLITE_CORRUPT)
			return store_err(st, STORE_ECORRUPT, "an account name "
			    "does not decrypt: the store is damaged or was "
			    "tampered with");
		return store_dberr(st, rc, "list the accounts");
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_account);
	*list_r = v;
	*n_r = n;
	return 0;
}

void
store_account_list_free(struct store_account **list, size_t n)
{
	free_records(*list, n, sizeof(**list),
	    offsetof(struct store_account, name));
	*list = NULL;
}

/* 0 if account acct exists, STORE_ENOENT (with a message) if not. */
int
store_account_exists(struct store *st, int64_t acct)
{
	return store_enoent(st, store_query_i64(st, SQL_EXISTS, acct, NULL,
	    "look up the account"), "there is no account with id %lld",
	    (long long)acct);
}
