/*
 * keyword: IMAP keywords, numbered per account.
 *
 * A message keeps its keywords as a short ascending list of ids (a BLOB of
 * little-endian uint32s), so flags can be compared and changed without
 * touching names. A keyword's name is sealed (AD: account, id, hash) and
 * found by the keyed hash of its ASCII-lowercased form: keywords match
 * case-insensitively, and the first spelling seen is kept. Keywords are
 * never deleted, so ids are never reused within an account.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static const char SQL_FIND[] =
    "SELECT id FROM keyword WHERE account = ? AND name_hash = ?";
static const char SQL_NEXT[] =
    "SELECT coalesce(max(id), 0) + 1 FROM keyword WHERE account = ?";
static const char SQL_INSERT[] =
    "INSERT INTO keyword (account, id, name_hash, name) VALUES (?, ?, ?, ?)";
static const char SQL_NAME[] =
    "SELECT name_hash, name FROM keyword WHERE account = ? AND id = ?";

void
store_keyword_hash(struct store *st, const char *name, unsigned char *h)
{
	size_t n = strlen(name), i;
	char *low = xmalloc(n + 1);

	for (i = 0; i <= n; i++)
		low[i] = (name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 :
		    name[i];
	store_name_hash(st->keys, "keyword", low, n, h);
	free(low);
}

size_t
store_keyword_ad(unsigned char *ad, int64_t acct, uint32_t id, const unsigned char *h)
{
	char hex[2 * STORE_HASH_BYTES + 1];

	store_hex(h, STORE_HASH_BYTES, hex);
	return store_ad(ad, "keyword", "name", "%lld/%u/%s", (long long)acct,
	    id, hex);
}

static int
find(struct store *st, int64_t acct, const unsigned char *h, uint32_t *id_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_FIND);
	int64_t id;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_blob(s, 2, h, STORE_HASH_BYTES, SQLITE_STATIC);
	if ((rc = store_step_i64(st, s, &id, "look up a keyword")) == 0)
		*id_r = (uint32_t)id;
	return rc;
}

static int
insert(struct store *st, int64_t acct, const char *name,
    const unsigned char *h, uint32_t *id_r)
{
	unsigned char ad[STORE_AD_MAX], *sealed;
	size_t adlen, slen;
	sqlite3_stmt *s;
	int64_t id;
	int rc;

	/* Someone may have made it since we looked (another process). */
	if ((rc = find(st, acct, h, id_r)) != STORE_ENOENT)
		return rc;
	/* An aggregate: there is always a row. */
	if ((rc = store_query_i64(st, SQL_NEXT, acct, &id,
	    "number a keyword")) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_INSERT)) == NULL)
		return STORE_ERR;
	adlen = store_keyword_ad(ad, acct, (uint32_t)id, h);
	sealed = store_seal_new(st->keys, ad, adlen, name, strlen(name), &slen);
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_int64(s, 2, id);
	sqlite3_bind_blob(s, 3, h, STORE_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, sealed, (int)slen, SQLITE_STATIC);
	rc = store_step_done(st, s, "save a keyword");
	free(sealed);
	if (rc == 0)
		*id_r = (uint32_t)id;
	return rc;
}

int
store_keyword_id(struct store *st, int64_t acct, const char *name, int create,
    uint32_t *id_r)
{
	unsigned char h[STORE_HASH_BYTES];
	uint32_t id = 0;
	int rc;

	rc = store_check_text(st, "keyword", name, STORE_KEYWORD_MAX);
	if (rc != 0)
		return rc;
	store_keyword_hash(st, name, h);
	rc = find(st, acct, h, &id);
	if (rc == STORE_ENOENT && create) {
		if ((rc = store_wbegin(st)) == 0)
			rc = store_wend(st, insert(st, acct, name, h, &id));
	} else if (rc == STORE_ENOENT)
		rc = store_err(st, rc, "there is no keyword '%s'", name);
	if (rc == 0)
		*id_r = id;
	return rc;
}

int
store_keyword_name(struct store *st, int64_t acct, uint32_t id, char **name_r)
{
	unsigned char ad[STORE_AD_MAX];
	sqlite3_stmt *s = store_stmt(st, SQL_NAME);
	size_t adlen;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, acct);
	sqlite3_bind_int64(s, 2, id);
	if ((rc = store_step_row(st, s, "read a keyword")) != 0)
		return store_enoent(st, rc, "there is no keyword %u", id);
	rc = -1;
	if (sqlite3_column_bytes(s, 0) == STORE_HASH_BYTES) {
		adlen = store_keyword_ad(ad, acct, id,
		    sqlite3_column_blob(s, 0));
		rc = store_unseal_new(st->keys, ad, adlen,
		    sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), name_r, NULL);
	}
	sqlite3_reset(s);
	if (rc != 0)
		return store_err(st, STORE_ECORRUPT, "the name of keyword %u "
		    "does not decrypt: the store is damaged or was tampered "
		    "with", id);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t
store_kw_normalize(uint32_t *kw, size_t n)
{
	size_t i, o = 0;

	if (n == 0)
		return 0;
	qsort(kw, n, sizeof(*kw), cmp_u32);
	for (i = 0; i < n; i++)
		if (o == 0 || kw[o - 1] != kw[i])
			kw[o++] = kw[i];
	return o;
}

int
store_kw_resolve(struct store *st, int64_t acct, const char *const *names,
    size_t n, int create, uint32_t *ids, size_t *nids_r)
{
	size_t i, o = 0;
	uint32_t id;
	int rc;

	if (n > STORE_MAX_KEYWORDS)
		return store_err(st, STORE_EINVAL, "too many keywords (at most "
		    "%d on a message)", STORE_MAX_KEYWORDS);
	for (i = 0; i < n; i++) {
		rc = store_keyword_id(st, acct, names[i], create, &id);
		if (rc == STORE_ENOENT && !create)
			continue;
		if (rc != 0)
			return rc;
		ids[o++] = id;
	}
	*nids_r = store_kw_normalize(ids, o);
	return 0;
}

uint32_t
store_kw_decode(const void *blob, size_t n, uint32_t *kw)
{
	const unsigned char *p = blob;
	uint32_t i, cnt = (uint32_t)(n / 4);

	if (cnt > STORE_MAX_KEYWORDS)
		cnt = STORE_MAX_KEYWORDS;
	for (i = 0; i < cnt; i++, p += 4)
		kw[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return cnt;
}

size_t
store_kw_encode(const uint32_t *kw, size_t n, unsigned char *out)
{
	size_t i;

	for (i = 0; i < n; i++, out += 4) {
		out[0] = (unsigned char)kw[i];
		out[1] = (unsigned char)(kw[i] >> 8);
		out[2] = (unsigned char)(kw[i] >> 16);
		out[3] = (unsigned char)(kw[i] >> 24);
	}
	return 4 * n;
}
