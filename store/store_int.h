/*
 * store_int: what the files of store/ share and nobody else sees.
 *
 * struct store is one SQLite connection plus its key material, a cache of
 * prepared statements, the error text and the change-feed descriptor.
 * crypt.c is the only file that includes <sodium.h>; it hands the others
 * opaque key and hasher objects and plain byte-buffer functions. Every
 * sealed value's associated data is "table\0column\0rowkey" (built with
 * store_ad()), so a value copied to another row or column fails to open.
 *
 * Write operations run between store_wbegin() and store_wend(): a BEGIN
 * IMMEDIATE transaction of their own, or part of the caller's
 * store_txn_begin() transaction (where a call that fails after writing
 * dooms the whole transaction; see store.c). Nested calls (account create
 * making INBOX) join the outer one.
 */
#ifndef MAILVAULT_STORE_STORE_INT_H
#define MAILVAULT_STORE_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_SCHEMA_VERSION	3
#define STORE_KEY_BYTES		32
#define STORE_HASH_BYTES	32
#define STORE_SALT_BYTES	16
#define STORE_SEAL_OVERHEAD	(24 + 16)	/* nonce + tag */
#define STORE_WRAPPED_BYTES	(STORE_KEY_BYTES + STORE_SEAL_OVERHEAD)
#define STORE_AD_MAX		256
#define STORE_STMT_CACHE	256		/* power of two */
#define STORE_BUSY_MS		10000
#define STORE_MIME_MAX		(64u << 20)	/* serialized MIME tree */
#define STORE_PENDING_AGE	86400		/* seconds before an abandoned
						 * streaming append is removed */
#define STORE_SUMMARY_SHIFT	7		/* block = content id >> this */
#define STORE_SUMMARY_SLOTS	(1 << STORE_SUMMARY_SHIFT)
#define STORE_SUMMARY_CACHE	4		/* decoded blocks kept */

struct store_keys;
struct store_hasher;
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
struct store_sumblock;
struct store_sumrec;

struct store_stmt_slot {
	const char	*sql;		/* the cache key: a static string */
	sqlite3_stmt	*stmt;
};

struct store {
	sqlite3		*db;
	char		*path;
	struct store_keys *keys;	/* sodium_malloc'd, see crypt.c */
	char		 errmsg[STORE_ERRMSG_MAX];
	struct store_stmt_slot stmts[STORE_STMT_CACHE];

	int		 user_txn;	/* inside store_txn_begin() */
	int		 depth;		/* nesting of store_wbegin() */
	int		 wrote;		/* a commit to announce at txn end */
	int		 quiet;		/* this commit changes no mailbox */
	int		 doomed;	/* a call failed half-way in txn */
	int		 reading;	/* depth of store_read_begin() */
	int		 read_owned;	/* our BEGIN holds a read snapshot */
	int64_t		 wchanges;	/* total_changes at store_wbegin() */

	/* Change feed (feed.c): this handle's eventfd and its place in the
	 * process-wide list; data_version as last seen. */
	int		 evfd;
	struct store	*feed_prev, *feed_next;
	int64_t		 data_version;

	/* Keywords of the message store_msg_get() returned last. */
	uint32_t	 get_kw[STORE_MAX_KEYWORDS];

	/* Scratch for chunk compression, reused across appends. */
	struct ZSTD_CCtx_s *zc;
	struct ZSTD_DCtx_s *zd;

	/* Summaries (summary.c): records of new contents waiting for the
	 * commit; decoded blocks; snapshot generation (store_read_begin()
	 * starts a new one) and the cache's LRU clock. */
	struct store_sumrec *sumq;
	size_t		 nsumq, sumq_cap;
	struct store_sumblock *sumcache[STORE_SUMMARY_CACHE];
	uint64_t	 snap_gen;
	uint64_t	 sum_clock;
};

/* The key slot as stored in the keyslot table. */
struct store_keyslot {
	int64_t		 id;
	int		 alg;
	uint64_t	 opslimit;
	uint64_t	 memlimit;
	unsigned char	 salt[STORE_SALT_BYTES];
	unsigned char	 wrapped[STORE_WRAPPED_BYTES];
};

/* ---- crypt.c ------------------------------------------------------- */

/* Initialise libsodium; 0 or -1. Safe to call more than once. */
int	store_crypt_init(void);
/*
 * A fresh master key wrapped under pass into slot (slot->id must be set
 * by the caller first: it is part of the wrapping's AD). 0, or STORE_ERR
 * with err filled (the KDF could not get its memory).
 */
int	store_keys_create(const char *pass, size_t passlen, enum store_kdf kdf,
	    struct store_keyslot *slot, struct store_keys **keys_r,
	    char *err, size_t errlen);
/* Unwrap: 0, STORE_EBADPASS, or STORE_ERR / STORE_ECORRUPT with err. */
int	store_keys_unlock(const struct store_keyslot *slot, const char *pass,
	    size_t passlen, struct store_keys **keys_r, char *err,
	    size_t errlen);
/* Wrap k's master key anew under pass (a new salt, kdf parameters). */
int	store_keys_rewrap(const struct store_keys *k, const char *pass,
	    size_t passlen, enum store_kdf kdf, struct store_keyslot *slot,
	    char *err, size_t errlen);
struct store_keys *store_keys_dup(const struct store_keys *k);
void	store_keys_free(struct store_keys **k);

/* Build associated data "table\0column\0rowkey" into ad (STORE_AD_MAX);
 * returns its length. */
size_t	store_ad(unsigned char *ad, const char *table, const char *column,
	    const char *rowkey_fmt, ...) __attribute__((format(printf, 4, 5)));
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void	store_hex(const unsigned char *p, size_t n, char *out);

/* Seal n bytes into out (n + STORE_SEAL_OVERHEAD bytes). */
void	store_seal(const struct store_keys *k, const unsigned char *ad,
	    size_t adlen, const void *pt, size_t n, unsigned char *out);
/* Open: 0 and the plaintext in out (ctlen - overhead bytes), -1 if it
 * does not open (wrong key, tampered, wrong row). */
int	store_unseal(const struct store_keys *k, const unsigned char *ad,
	    size_t adlen, const void *ct, size_t ctlen, unsigned char *out);
/*
 * Seal into a new malloc'd buffer / open into a new malloc'd buffer with
 * a NUL after the plaintext (so text can be used as a string). The open
 * variant returns -1 on failure.
 */
unsigned char *store_seal_new(const struct store_keys *k,
	    const unsigned char *ad, size_t adlen, const void *pt, size_t n,
	    size_t *len_r);
int	store_unseal_new(const struct store_keys *k, const unsigned char *ad,
	    size_t adlen, const void *ct, size_t ctlen, char **pt_r,
	    size_t *len_r);

/* Keyed hash of a name for lookups, separated by table (domain). */
void	store_name_hash(const struct store_keys *k, const char *domain,
	    const void *name, size_t n, unsigned char out[STORE_HASH_BYTES]);
/* Streaming keyed content hash. */
struct store_hasher *store_hasher_new(const struct store_keys *k);
void	store_hasher_update(struct store_hasher *h, const void *p, size_t n);
/* Write the hash and free the hasher. */
void	store_hasher_final(struct store_hasher **h,
	    unsigned char out[STORE_HASH_BYTES]);
void	store_hasher_free(struct store_hasher **h);

void	store_random(void *buf, size_t n);
uint32_t store_random_uniform(uint32_t upper);
/* free() after wiping the whole allocation; accepts NULL. */
void	store_free_wiped(void *p);

/* ---- store.c ------------------------------------------------------- */

/* Set the handle's error text and return code. */
int	store_err(struct store *st, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Map a SQLite result code to a STORE_E* code with a sentence. */
int	store_dberr(struct store *st, int rc, const char *doing);
/* The cached prepared statement for sql (a static string), reset and
 * with bindings cleared; NULL with the error set if it does not prepare. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
/* Step a statement that returns no rows, then reset it. */
int	store_step_done(struct store *st, sqlite3_stmt *s, const char *doing);
/*
 * Step s (its parameters bound) for its first row: 0 with the row current
 * (the caller reads its columns, then calls sqlite3_reset(s)),
 * STORE_ENOENT when there is none (no error text: often no row is no
 * error), or a SQLite error while doing; s is reset unless 0.
 */
int	store_step_row(struct store *st, sqlite3_stmt *s, const char *doing);
/* store_step_row() for the first column: 0 and *v_r (v_r may be NULL:
 * is there a row?), STORE_ENOENT or an error; s is reset either way. */
int	store_step_i64(struct store *st, sqlite3_stmt *s, int64_t *v_r,
	    const char *doing);
/* The same two for sql (a static string) with ?1 bound to id; on 0,
 * store_query_row() puts the statement in *s_r, for the caller to read
 * the row and then reset. */
int	store_query_row(struct store *st, const char *sql, int64_t id,
	    const char *doing, sqlite3_stmt **s_r);
int	store_query_i64(struct store *st, const char *sql, int64_t id,
	    int64_t *v_r, const char *doing);
/* rc; when it is STORE_ENOENT (a lookup found no row), with the error
 * text fmt saying what is missing. */
int	store_enoent(struct store *st, int rc, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
#define STORE_NO_MAILBOX	"the mailbox does not exist (any more)"
/* store_query_i64() by mailbox id: STORE_ENOENT says STORE_NO_MAILBOX. */
int	store_query_mailbox_i64(struct store *st, const char *sql, int64_t id,
	    int64_t *v_r, const char *doing);
/* Seal n bytes of pt under ad and run sql (a static string, a write)
 * with ?1 the sealed value and ?2 id: 0 or a STORE_E* code (doing). */
int	store_put_sealed(struct store *st, const char *sql, int64_t id,
	    const unsigned char *ad, size_t adlen, const void *pt, size_t n,
	    const char *doing);
/* Step a bound statement to its end, collecting its first column as
 * uint32 values, then reset it. 0 and *v_r (the caller frees; NULL when
 * none) and *n_r, or a STORE_E* code saying what failed while doing. */
int	store_collect_u32(struct store *st, sqlite3_stmt *s, const char *doing,
	    uint32_t **v_r, size_t *n_r);
/* Start and end a write operation; see the file comment. wend commits
 * when rc >= 0 and rolls back otherwise; it returns rc or the commit's
 * error. */
int	store_wbegin(struct store *st);
int	store_wend(struct store *st, int rc);
/* A read transaction for a few reads that must agree (one snapshot);
 * only when no write operation or caller's transaction is open. */
int	store_read_begin(struct store *st);
void	store_read_end(struct store *st);

/* ---- associated data of each sealed column (see schema.sql) ----- */

/* config / account_setting (acct 0: config) name and value columns. */
size_t	store_kv_ad(unsigned char *ad, int64_t acct, const char *column,
	    const unsigned char *h);
size_t	store_account_ad(unsigned char *ad, int64_t id, const unsigned char *h);
size_t	store_mailbox_ad(unsigned char *ad, int64_t acct, int64_t id,
	    const unsigned char *h);
size_t	store_keyword_ad(unsigned char *ad, int64_t acct, uint32_t id,
	    const unsigned char *h);
size_t	store_chunk_ad(unsigned char *ad, int64_t cid, uint32_t idx, int last);
size_t	store_mime_ad(unsigned char *ad, int64_t cid);
/* The lookup hash of a keyword (of its ASCII-lowercased form). */
void	store_keyword_hash(struct store *st, const char *name,
	    unsigned char *h);

/* ---- feed.c -------------------------------------------------------- */

int	store_feed_register(struct store *st);
void	store_feed_unregister(struct store *st);
/* Wake every handle of this process: a change was committed. */
void	store_feed_notify(void);

/* ---- shared helpers ------------------------------------------------ */

/* Name rules for accounts, mailboxes, keywords and keys: 0 or STORE_EINVAL
 * with the reason in the handle. */
int	store_check_text(struct store *st, const char *what, const char *s,
	    size_t max);
/* Bump a mailbox's HIGHESTMODSEQ; returns the new value in *modseq_r. */
int	store_mailbox_bump(struct store *st, int64_t mbox, uint64_t *modseq_r);
/* The account a mailbox belongs to. */
int	store_mailbox_account(struct store *st, int64_t mbox, int64_t *acct_r);
/* Decode / encode a keyword id list (ascending uint32 LE); decode gives
 * at most STORE_MAX_KEYWORDS ids, encode writes 4 * n bytes. */
uint32_t store_kw_decode(const void *blob, size_t n, uint32_t *kw);
size_t	store_kw_encode(const uint32_t *kw, size_t n, unsigned char *out);
/* Sort and deduplicate ids in place; returns the new count. */
size_t	store_kw_normalize(uint32_t *kw, size_t n);
/* Names to sorted unique ids (ids has STORE_MAX_KEYWORDS room). create:
 * make unknown ones; otherwise they are left out. */
int	store_kw_resolve(struct store *st, int64_t acct,
	    const char *const *names, size_t n, int create, uint32_t *ids,
	    size_t *nids_r);
/*
 * Decode one sealed chunk of content cid into out (STORE_CHUNK_SIZE room);
 * tmp is scratch of STORE_CHUNK_TMP bytes. want: the plaintext length the
 * chunk must have. 0, or STORE_ECORRUPT with the error set.
 */
#define STORE_CHUNK_TMP	(2 * STORE_CHUNK_SIZE + 1024)
int	store_chunk_decode(struct store *st, int64_t cid, uint32_t idx,
	    int last, const void *sealed, size_t len, size_t want,
	    unsigned char *out, unsigned char *tmp);
/*
 * Insert a message row into mbox under its next UID with a new MODSEQ,
 * from m's flags, dates, size, content and keyword ids (of mbox's
 * account); *uid_r is the UID. Inside a write operation.
 */
/*
 * Decode an unsealed MIME cache value (method byte, maybe zstd, then the
 * serialization) into a tree the caller frees. 0, or -1 if it is damaged.
 */
/* 0 if the account exists, else STORE_ENOENT with a message (account.c). */
int	store_account_exists(struct store *st, int64_t acct);
/* Associated data of a sync folder's sealed remote name (sync_state.c). */
size_t	store_sync_folder_ad(unsigned char *ad, int64_t acct, int64_t id);
int	store_mime_unpack(struct store *st, const char *packed, size_t len,
	    struct mime_part **root_r);
int	store_msg_insert(struct store *st, int64_t mbox,
	    const struct store_msg *m, uint32_t *uid_r);
/* Schema 2 -> 3 (message.c): messages carrying the keyword $POP3Deleted
 * are hidden from POP3 instead (pop3_hidden) and lose the keyword. Inside
 * the migration's write transaction. */
int	store_pop3_adopt_keyword(struct store *st);
/* Delete a content row still being written (streaming append aborted). */
int	store_content_drop_pending(struct store *st, int64_t content);
/* Set up the handle's zstd contexts (content.c): 0, or STORE_ERR. */
int	store_zstd_ready(struct store *st);

/* ---- summary.c ------------------------------------------------------ */

/*
 * Queue the summary record of a new content (copied) to be written when
 * the transaction commits; a record of length 0 is no record. 0.
 */
int	store_summary_queue(struct store *st, int64_t content, const void *rec,
	    size_t len);
/* Write the queued records, one read-modify-write per block, inside the
 * write transaction just before COMMIT; the queue is emptied. 0 or a
 * negative code (the caller rolls back). */
int	store_summary_flush(struct store *st);
/* Forget the queued records (rollback). */
void	store_summary_drop(struct store *st);
/* Free the queue and the block cache (handle close). */
void	store_summary_free(struct store *st);
/* AD of a summary block's sealed data. */
size_t	store_summary_ad(unsigned char *ad, int64_t block);
/* 0 if a sealed block opens and decodes, else STORE_ECORRUPT (check). */
int	store_summary_check(struct store *st, int64_t block,
	    const void *sealed, size_t len);

#endif
