/*
 * check: the integrity check behind 'mailvault check'.
 *
 * SQLite checks its own structure (integrity_check, foreign_key_check);
 * then every sealed value is opened with the associated data of the row
 * it sits in, every name is hashed again and compared with its lookup
 * hash, and every content is read chunk by chunk: indices 0..n-1 with
 * none missing, the "last" mark only on the last (it is in the AD), sizes
 * adding up, and the keyed hash of the bytes equal to the stored one.
 * Reference counts are compared with the messages that really point at a
 * content, and every summary block must open and decode. Problems are
 * counted; the first is kept as the error text.
 */
#include "store/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mime.h"
#include "lib/util.h"

#define PROGRESS_EVERY	256

struct check {
	struct store	*st;
	uint64_t	 bad;
	uint64_t	 done;
	char		 first[STORE_ERRMSG_MAX];
	void		(*progress)(void *, uint64_t);
	void		*arg;
	unsigned char	*buf, *tmp;	/* one chunk, and its scratch */
};

static void
problem(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++ == 0) {
		va_start(ap, fmt);
		vsnprintf(c->first, sizeof(c->first), fmt, ap);
		va_end(ap);
	}
}

static void
tick(struct check *c)
{
	if (++c->done % PROGRESS_EVERY == 0 && c->progress != NULL)
		c->progress(c->arg, c->done);
}

/* Run a statement; each row is one problem described by column 0..n. */
static int
sqlite_checks(struct check *c)
{
	static const char *const sqls[] = {
		"PRAGMA integrity_check",
		"PRAGMA foreign_key_check",
	};
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(sqls); i++) {
		rc = sqlite3_prepare_v2(c->st->db, sqls[i], -1, &s, NULL);
		if (rc != SQLITE_OK)
			return store_dberr(c->st, rc, "check the database");
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(s, 0);

			if (i == 0 && t != NULL && strcmp(t, "ok") == 0)
				continue;
			if (i == 0)
				problem(c, "the database is damaged: %s",
				    t != NULL ? t : "?");
			else
				problem(c, "a row of table %s refers to a row "
				    "that is gone", t != NULL ? t : "?");
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE && rc != SQLITE_CORRUPT &&
		    rc != SQLITE_NOTADB)
			return store_dberr(c->st, rc, "check the database");
		if (rc != SQLITE_DONE)
			problem(c, "the database is damaged: %s",
			    sqlite3_errstr(rc));
	}
	return 0;
}

/* Open a sealed value, counting it for the progress report. */
static int
open_value(struct check *c, const unsigned char *ad, size_t adlen,
    const void *ct, size_t ctlen, char **pt_r, size_t *len_r)
{
	tick(c);
	if (store_unseal_new(c->st->keys, ad, adlen, ct, ctlen, pt_r,
	    len_r) != 0)
		return -1;
	return 0;
}

static int
hash_ok(const unsigned char *stored, int storedlen, const unsigned char *h)
{
	return storedlen == STORE_HASH_BYTES &&
	    memcmp(stored, h, STORE_HASH_BYTES) == 0;
}

static int
check_kv(struct check *c, int64_t scope)
{
	static const char config_sql[] =
	    "SELECT 0, key_hash, name, value FROM config";
	static const char setting_sql[] =
	    "SELECT account, key_hash, name, value FROM account_setting";
	unsigned char ad[STORE_AD_MAX], h[STORE_HASH_BYTES];
	sqlite3_stmt *s = store_stmt(c->st, scope == 0 ? config_sql : setting_sql);
	int64_t acct;
	size_t adlen, len;
	char *name, *val;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		acct = sqlite3_column_int64(s, 0);
		if (sqlite3_column_bytes(s, 1) != STORE_HASH_BYTES) {
			problem(c, "a setting has a damaged key hash");
			continue;
		}
		adlen = store_kv_ad(ad, acct, "name", sqlite3_column_blob(s, 1));
		if (open_value(c, ad, adlen, sqlite3_column_blob(s, 2),
		    (size_t)sqlite3_column_bytes(s, 2), &name, NULL) != 0) {
			problem(c, "a setting name does not decrypt");
			continue;
		}
		store_name_hash(c->st->keys, scope == 0 ? "config" :
		    "account_setting", name, strlen(name), h);
		if (!hash_ok(sqlite3_column_blob(s, 1),
		    sqlite3_column_bytes(s, 1), h))
			problem(c, "the setting '%s' is filed under the wrong "
			    "hash", name);
		adlen = store_kv_ad(ad, acct, "value", sqlite3_column_blob(s, 1));
		if (open_value(c, ad, adlen, sqlite3_column_blob(s, 3),
		    (size_t)sqlite3_column_bytes(s, 3), &val, &len) != 0)
			problem(c, "the value of setting '%s' does not decrypt",
			    name);
		else
			store_free_wiped(val);
		free(name);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_dberr(c->st, rc, "check settings");
}

/* Accounts, mailboxes and keywords: a sealed name and its lookup hash. */
enum name_kind { NAME_ACCOUNT, NAME_MAILBOX, NAME_KEYWORD };

static int
check_names(struct check *c, enum name_kind kind)
{
	static const char *const sqls[] = {
		"SELECT 0, id, name_hash, name FROM account",
		"SELECT account, id, name_hash, name FROM mailbox",
		"SELECT account, id, name_hash, name FROM keyword",
	};
	static const char *const what[] = { "an account", "a mailbox",
	    "a keyword" };
	unsigned char ad[STORE_AD_MAX], h[STORE_HASH_BYTES];
	sqlite3_stmt *s = store_stmt(c->st, sqls[kind]);
	const unsigned char *sh;
	int64_t acct, id;
	size_t adlen = 0;
	char *name;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		acct = sqlite3_column_int64(s, 0);
		id = sqlite3_column_int64(s, 1);
		sh = sqlite3_column_blob(s, 2);
		if (sqlite3_column_bytes(s, 2) != STORE_HASH_BYTES) {
			problem(c, "%s (id %lld) has a damaged name hash",
			    what[kind], (long long)id);
			continue;
		}
		if (kind == NAME_ACCOUNT)
			adlen = store_account_ad(ad, id, sh);
		else if (kind == NAME_MAILBOX)
			adlen = store_mailbox_ad(ad, acct, id, sh);
		else
			adlen = store_keyword_ad(ad, acct, (uint32_t)id, sh);
		if (open_value(c, ad, adlen, sqlite3_column_blob(s, 3),
		    (size_t)sqlite3_column_bytes(s, 3), &name, NULL) != 0) {
			problem(c, "the name of %s (id %lld) does not decrypt",
			    what[kind], (long long)id);
			continue;
		}
		if (kind == NAME_KEYWORD)
			store_keyword_hash(c->st, name, h);
		else
			store_name_hash(c->st->keys, kind == NAME_ACCOUNT ?
			    "account" : "mailbox", name, strlen(name), h);
		if (!hash_ok(sh, STORE_HASH_BYTES, h))
			problem(c, "%s (id %lld) is filed under the wrong name "
			    "hash", what[kind], (long long)id);
		free(name);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_dberr(c->st, rc, "check names");
}

/* The sealed remote folder names of the sync engine's pairings. */
static int
check_sync_names(struct check *c)
{
	unsigned char ad[STORE_AD_MAX];
	sqlite3_stmt *s = store_stmt(c->st,
	    "SELECT account, id, name FROM sync_folder");
	int64_t id;
	size_t adlen;
	char *name;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 1);
		adlen = store_sync_folder_ad(ad, sqlite3_column_int64(s, 0), id);
		if (open_value(c, ad, adlen, sqlite3_column_blob(s, 2),
		    (size_t)sqlite3_column_bytes(s, 2), &name, NULL) != 0) {
			problem(c, "the remote name of synced folder %lld does "
			    "not decrypt", (long long)id);
			continue;
		}
		free(name);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_dberr(c->st, rc,
	    "check synced folders");
}

struct content_row {
	int64_t		 id;
	int		 has_hash;
	unsigned char	 hash[STORE_HASH_BYTES];
	uint64_t	 size;
	uint32_t	 nchunks;
	int64_t		 refs;
};

/* Read the chunks of one content in order and hash them. */
static int
check_chunks(struct check *c, const struct content_row *cr)
{
	static const char sql[] =
	    "SELECT idx, data FROM chunk WHERE content = ? ORDER BY idx";
	sqlite3_stmt *s = store_stmt(c->st, sql);
	struct store_hasher *hs = store_hasher_new(c->st->keys);
	unsigned char h[STORE_HASH_BYTES];
	uint32_t want_idx = 0, idx;
	uint64_t total = 0;
	size_t want;
	int rc, broken = 0;

	if (s == NULL) {
		store_hasher_free(&hs);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, cr->id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && !broken) {
		tick(c);
		idx = (uint32_t)sqlite3_column_int64(s, 0);
		if (idx != want_idx || idx >= cr->nchunks) {
			problem(c, "message content %lld has chunk %u where "
			    "chunk %u belongs", (long long)cr->id, idx, want_idx);
			broken = 1;
			break;
		}
		want = idx + 1 < cr->nchunks ? STORE_CHUNK_SIZE :
		    (size_t)(cr->size - (uint64_t)idx * STORE_CHUNK_SIZE);
		if (store_chunk_decode(c->st, cr->id, idx,
		    idx + 1 == cr->nchunks, sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1), want, c->buf,
		    c->tmp) != 0) {
			problem(c, "chunk %u of message content %lld does not "
			    "decrypt or has the wrong size", idx,
			    (long long)cr->id);
			broken = 1;
			break;
		}
		store_hasher_update(hs, c->buf, want);
		total += want;
		want_idx++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_hasher_free(&hs);
		return store_dberr(c->st, rc, "check message content");
	}
	if (!broken && (want_idx != cr->nchunks || total != cr->size))
		problem(c, "message content %lld is cut short: %u of %u "
		    "chunks", (long long)cr->id, want_idx, cr->nchunks);
	else if (!broken && cr->has_hash) {
		store_hasher_final(&hs, h);
		if (memcmp(h, cr->hash, sizeof(h)) != 0)
			problem(c, "message content %lld does not match its "
			    "hash", (long long)cr->id);
	}
	store_hasher_free(&hs);
	return 0;
}

static void
check_mime(struct check *c, int64_t cid, const void *ct, size_t ctlen)
{
	unsigned char ad[STORE_AD_MAX];
	struct mime_part *root = NULL;
	size_t adlen = store_mime_ad(ad, cid), len;
	char *pt;

	if (open_value(c, ad, adlen, ct, ctlen, &pt, &len) != 0) {
		problem(c, "the cached structure of message content %lld "
		    "does not decrypt", (long long)cid);
		return;
	}
	if (store_mime_unpack(c->st, pt, len, &root) != 0)
		problem(c, "the cached structure of message content %lld "
		    "does not decode", (long long)cid);
	mime_part_free(&root);
	free(pt);
}

static int
check_contents(struct check *c)
{
	static const char sql[] =
	    "SELECT c.id, c.hash, c.size, c.nchunks, c.refs, c.mime, "
	    "(SELECT count(*) FROM message m WHERE m.content = c.id) "
	    "FROM content c ORDER BY c.id";
	sqlite3_stmt *s = store_stmt(c->st, sql);
	struct content_row cr;
	int rc, r;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&cr, 0, sizeof(cr));
		cr.id = sqlite3_column_int64(s, 0);
		cr.has_hash = sqlite3_column_bytes(s, 1) == STORE_HASH_BYTES;
		if (cr.has_hash)
			memcpy(cr.hash, sqlite3_column_blob(s, 1), STORE_HASH_BYTES);
		else if (sqlite3_column_type(s, 1) != SQLITE_NULL)
			problem(c, "message content %lld has a damaged hash",
			    (long long)cr.id);
		cr.size = (uint64_t)sqlite3_column_int64(s, 2);
		cr.nchunks = (uint32_t)sqlite3_column_int64(s, 3);
		cr.refs = sqlite3_column_int64(s, 4);
		if (cr.refs != sqlite3_column_int64(s, 6))
			problem(c, "message content %lld counts %lld messages "
			    "but %lld refer to it", (long long)cr.id,
			    (long long)cr.refs,
			    (long long)sqlite3_column_int64(s, 6));
		if (sqlite3_column_type(s, 1) == SQLITE_NULL)
			continue;	/* an append still streaming in */
		if (sqlite3_column_type(s, 5) != SQLITE_NULL)
			check_mime(c, cr.id, sqlite3_column_blob(s, 5),
			    (size_t)sqlite3_column_bytes(s, 5));
		if ((r = check_chunks(c, &cr)) != 0) {
			sqlite3_reset(s);
			return r;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_dberr(c->st, rc,
	    "check message content");
}

/* Each summary block opens (its AD names the block) and decodes. */
static int
check_summaries(struct check *c)
{
	static const char sql[] = "SELECT block, data FROM summary";
	sqlite3_stmt *s = store_stmt(c->st, sql);
	int64_t block;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		tick(c);
		block = sqlite3_column_int64(s, 0);
		if (store_summary_check(c->st, block, sqlite3_column_blob(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1)) != 0)
			problem(c, "the message summaries of block %lld do not "
			    "decrypt or decode", (long long)block);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_dberr(c->st, rc,
	    "check the message summaries");
}

int
store_check(struct store *st, uint64_t *bad_r,
    void (*progress)(void *arg, uint64_t done), void *arg)
{
	struct check c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.st = st;
	c.progress = progress;
	c.arg = arg;
	c.buf = xmalloc(STORE_CHUNK_SIZE);
	c.tmp = xmalloc(STORE_CHUNK_TMP);
	rc = sqlite_checks(&c);
	if (rc == 0)
		rc = check_kv(&c, 0);
	if (rc == 0)
		rc = check_kv(&c, 1);
	if (rc == 0)
		rc = check_names(&c, NAME_ACCOUNT);
	if (rc == 0)
		rc = check_names(&c, NAME_MAILBOX);
	if (rc == 0)
		rc = check_names(&c, NAME_KEYWORD);
	if (rc == 0)
		rc = check_sync_names(&c);
	if (rc == 0)
		rc = check_contents(&c);
	if (rc == 0)
		rc = check_summaries(&c);
	free(c.buf);
	free(c.tmp);
	if (progress != NULL)
		progress(arg, c.done);
	if (bad_r != NULL)
		*bad_r = c.bad;
	if (rc != 0)
		return rc;
	if (c.bad > 0)
		return store_err(st, STORE_ECORRUPT, "%s (%llu problem%s in "
		    "all)", c.first, (unsigned long long)c.bad,
		    c.bad == 1 ? "" : "s");
	snprintf(st->errmsg, sizeof(st->errmsg), "the store is intact");
	return 0;
}
