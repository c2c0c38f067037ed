/*
 * config: sealed key/value settings, store-wide (config table) and per
 * account (account_setting table), and the local password.
 *
 * A row is found by the keyed hash of its key; the key itself is kept
 * sealed too so the keys can be listed. Both seals name the row (scope
 * and key hash) in their associated data, so a value moved onto another
 * key's row, or another account's, does not open. Plaintext values pass
 * through buffers that are wiped, since some of them are secrets.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

/* acct == 0: the store-wide table. */
struct kv_sql {
	const char *get, *set, *unset, *keys;
};

static const struct kv_sql config_sql = {
	"SELECT value FROM config WHERE key_hash = ?2",
	"INSERT OR REPLACE INTO config (key_hash, name, value) "
	"VALUES (?2, ?3, ?4)",
	"DELETE FROM config WHERE key_hash = ?2",
	"SELECT key_hash, name FROM config",
};

static const struct kv_sql setting_sql = {
	"SELECT value FROM account_setting WHERE account = ?1 AND key_hash = ?2",
	"INSERT OR REPLACE INTO account_setting (account, key_hash, name, value) "
	"VALUES (?1, ?2, ?3, ?4)",
	"DELETE FROM account_setting WHERE account = ?1 AND key_hash = ?2",
	"SELECT key_hash, name FROM account_setting WHERE account = ?1",
};


static const struct kv_sql *
kv_sql(int64_t acct)
{
	return acct == 0 ? &config_sql : &setting_sql;
}

static const char *
kv_table(int64_t acct)
{
	return acct == 0 ? "config" : "account_setting";
}

static void
kv_hash(struct store *st, int64_t acct, const char *key,
    unsigned char h[STORE_HASH_BYTES])
{
	store_name_hash(st->keys, kv_table(acct), key, strlen(key), h);
}

size_t
store_kv_ad(unsigned char *ad, int64_t acct, const char *column,
    const unsigned char *h)
{
	char hex[2 * STORE_HASH_BYTES + 1];

	store_hex(h, STORE_HASH_BYTES, hex);
	if (acct == 0)
		return store_ad(ad, "config", column, "%s", hex);
	return store_ad(ad, "account_setting", column, "%lld/%s",
	    (long long)acct, hex);
}

static int
kv_get(struct store *st, int64_t acct, const char *key, char **val_r,
    size_t *len_r)
{
	unsigned char h[STORE_HASH_BYTES], ad[STORE_AD_MAX];
	sqlite3_stmt *s;
	size_t adlen;
	int rc;

	kv_hash(st, acct, key, h);
	s = store_stmt(st, kv_sql(acct)->get);
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return store_err(st, STORE_ENOENT,
			    "the setting '%s' is not set", key);
		return store_dberr(st, rc, "read a setting");
	}
	adlen = store_kv_ad(ad, acct, "value", h);
	rc = store_unseal_new(st->keys, ad, adlen, sqlite3_column_blob(s, 0),
	    (size_t)sqlite3_column_bytes(s, 0), val_r, len_r);
	sqlite3_reset(s);
	if (rc != 0)
		return store_err(st, STORE_ECORRUPT, "the setting '%s' does "
		    "not decrypt: the store is damaged or was tampered with",
		    key);
	return 0;
}

static int
kv_write(struct store *st, int64_t acct, const unsigned char *h,
    const unsigned char *sname, size_t nlen, const unsigned char *sval,
    size_t vlen)
{
	sqlite3_stmt *s;
	int rc;

	if (acct != 0 && (rc = store_account_exists(st, acct)) != 0)
		return rc;
	s = store_stmt(st, kv_sql(acct)->set);
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, STORE_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, sname, (int)nlen, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, sval, (int)vlen, SQLITE_STATIC);
	return store_step_done(st, s, "save a setting");
}

static int
kv_set(struct store *st, int64_t acct, const char *key, const void *val,
    size_t len)
{
	unsigned char h[STORE_HASH_BYTES], ad[STORE_AD_MAX];
	unsigned char *sname, *sval;
	size_t adlen, nlen, vlen;
	int rc;

	rc = store_check_text(st, "setting name", key, STORE_NAME_MAX);
	if (rc != 0)
		return rc;
	if (len > INT32_MAX - STORE_SEAL_OVERHEAD)
		return store_err(st, STORE_EINVAL, "the value of '%s' is too "
		    "large", key);
	kv_hash(st, acct, key, h);
	adlen = store_kv_ad(ad, acct, "name", h);
	sname = store_seal_new(st->keys, ad, adlen, key, strlen(key), &nlen);
	adlen = store_kv_ad(ad, acct, "value", h);
	sval = store_seal_new(st->keys, ad, adlen, val, len, &vlen);
	rc = store_wbegin(st);
	if (rc == 0)
		rc = store_wend(st, kv_write(st, acct, h, sname, nlen, sval,
		    vlen));
	free(sname);
	free(sval);
	return rc;
}

static int
kv_unset(struct store *st, int64_t acct, const char *key)
{
	unsigned char h[STORE_HASH_BYTES];
	sqlite3_stmt *s;
	int rc;

	kv_hash(st, acct, key, h);
	rc = store_wbegin(st);
	if (rc != 0)
		return rc;
	s = store_stmt(st, kv_sql(acct)->unset);
	if (s == NULL)
		return store_wend(st, STORE_ERR);
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, sizeof(h), SQLITE_STATIC);
	rc = store_step_done(st, s, "remove a setting");
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = store_err(st, STORE_ENOENT, "the setting '%s' is not set",
		    key);
	return store_wend(st, rc);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
kv_keys(struct store *st, int64_t acct, char ***keys_r, size_t *n_r)
{
	unsigned char ad[STORE_AD_MAX];
	char **v = NULL, *name;
	size_t n = 0, adlen;
	sqlite3_stmt *s;
	int rc;

	s = store_stmt(st, kv_sql(acct)->keys);
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != STORE_HASH_BYTES) {
			rc = SQLITE_CORRUPT;
			break;
		}
		adlen = store_kv_ad(ad, acct, "name", sqlite3_column_blob(s, 0));
		if (store_unseal_new(st->keys, ad, adlen,
		    sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), &name, NULL) != 0) {
			rc = SQLITE_CORRUPT;
			break;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = name;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_strv_free(&v, n);
		if (rc == SQLITE_CORRUPT)
			return store_err(st, STORE_ECORRUPT, "a setting name "
			    "does not decrypt: the store is damaged or was "
			    "tampered with");
		return store_dberr(st, rc, "list the settings");
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_str);
	*keys_r = v;
	*n_r = n;
	return 0;
}

int
store_config_get(struct store *st, const char *key, char **val_r,
    size_t *len_r)
{
	return kv_get(st, 0, key, val_r, len_r);
}

int
store_config_set(struct store *st, const char *key, const void *val,
    size_t len)
{
	return kv_set(st, 0, key, val, len);
}

int
store_config_unset(struct store *st, const char *key)
{
	return kv_unset(st, 0, key);
}

int
store_config_keys(struct store *st, char ***keys_r, size_t *n_r)
{
	return kv_keys(st, 0, keys_r, n_r);
}

int
store_account_get(struct store *st, int64_t acct, const char *key,
    char **val_r, size_t *len_r)
{
	if (acct <= 0)
		return store_err(st, STORE_ENOENT, "there is no account with "
		    "id %lld", (long long)acct);
	return kv_get(st, acct, key, val_r, len_r);
}

int
store_account_set(struct store *st, int64_t acct, const char *key,
    const void *val, size_t len)
{
	if (acct <= 0)
		return store_err(st, STORE_ENOENT, "there is no account with "
		    "id %lld", (long long)acct);
	return kv_set(st, acct, key, val, len);
}

int
store_account_unset(struct store *st, int64_t acct, const char *key)
{
	if (acct <= 0)
		return store_err(st, STORE_ENOENT, "there is no account with "
		    "id %lld", (long long)acct);
	return kv_unset(st, acct, key);
}

int
store_account_keys(struct store *st, int64_t acct, char ***keys_r,
    size_t *n_r)
{
	if (acct <= 0)
		return store_err(st, STORE_ENOENT, "there is no account with "
		    "id %lld", (long long)acct);
	return kv_keys(st, acct, keys_r, n_r);
}

int
store_local_password(struct store *st, char **pw_r)
{
	return kv_get(st, 0, "local-password", pw_r, NULL);
}

void
store_secret_free(char **s)
{
	if (*s == NULL)
		return;
	store_free_wiped(*s);
	*s = NULL;
}

void
store_strv_free(char ***v, size_t n)
{
	size_t i;

	if (*v == NULL)
		return;
	for (i = 0; i < n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
}
