/*
 * store: creating, opening and unlocking the store file; the schema;
 * transactions; the statement cache; error text.
 *
 * A handle is one SQLite connection (WAL mode, foreign keys on, a 10 s
 * busy timeout, synchronous=NORMAL: a crash or SIGKILL never loses a
 * commit, a power cut may lose the last ones but never breaks the file)
 * and a copy of the unwrapped keys. Statements are prepared once per
 * handle and kept in a small open-addressing table keyed by the address
 * of their static SQL text, so each query is written where it is used and
 * still prepared only once.
 *
 * Schema: schema.sql is compiled in as store_schema_sql and run in the
 * creating transaction; PRAGMA user_version names its version. A file with
 * a newer version than STORE_SCHEMA_VERSION is refused with a clear
 * message; an older one is migrated when it is opened (migrate()).
 *
 * Summaries (summary.c) queued by a write are flushed inside its
 * transaction just before COMMIT (store_wend(), store_txn_commit()), and
 * dropped on rollback, so they commit with the contents they describe.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "lib/util.h"

extern const char store_schema_sql[];

#define LOCAL_PASSWORD_LEN	20

/* ---- errors ------------------------------------------------------- */

int
store_err(struct store *st, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

/* The SQLite error as a sentence and a STORE_E* code; doing says what we
 * were at ("read the mailbox list"). */
static int
dberr_text(int rc, const char *detail, const char *doing, char *buf,
    size_t len)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		snprintf(buf, len, "could not %s: the disk is full: free some "
		    "space and try again", doing);
		return STORE_ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		snprintf(buf, len, "could not %s: the store is busy (another "
		    "mailvault process kept it locked for more than %d "
		    "seconds); try again", doing, STORE_BUSY_MS / 1000);
		return STORE_EBUSY;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		snprintf(buf, len, "could not %s: the store file is damaged "
		    "(%s); run 'mailvault check'", doing, detail);
		return STORE_ECORRUPT;
	case SQLITE_CONSTRAINT:
		snprintf(buf, len, "could not %s: it exists already", doing);
		return STORE_EEXIST;
	case SQLITE_NOMEM:
		snprintf(buf, len, "could not %s: out of memory", doing);
		return STORE_ERR;
	default:
		snprintf(buf, len, "could not %s: %s", doing, detail);
		return STORE_ERR;
	}
}

int
store_dberr(struct store *st, int rc, const char *doing)
{
	return dberr_text(rc, sqlite3_errmsg(st->db), doing, st->errmsg,
	    sizeof(st->errmsg));
}

const char *
store_errmsg(const struct store *st)
{
	return st->errmsg;
}

const char *
store_path(const struct store *st)
{
	return st->path;
}

/* ---- statements ----------------------------------------------------- */

static size_t
stmt_slot(const char *sql)
{
	uint64_t h = (uint64_t)(uintptr_t)sql;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 40) & (STORE_STMT_CACHE - 1);
}

sqlite3_stmt *
store_stmt(struct store *st, const char *sql)
{
	size_t i = stmt_slot(sql), n;
	struct store_stmt_slot *sl;
	int rc;

	for (n = 0; n < STORE_STMT_CACHE; n++, i = (i + 1) & (STORE_STMT_CACHE - 1)) {
		sl = &st->stmts[i];
		if (sl->sql == sql) {
			sqlite3_reset(sl->stmt);
			sqlite3_clear_bindings(sl->stmt);
			return sl->stmt;
		}
		if (sl->sql == NULL)
			break;
	}
	if (n == STORE_STMT_CACHE)
		abort();	/* a bug: raise STORE_STMT_CACHE */
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &sl->stmt, NULL);
	if (rc != SQLITE_OK) {
		store_dberr(st, rc, "prepare a query");
		sl->stmt = NULL;
		return NULL;
	}
	sl->sql = sql;
	return sl->stmt;
}

int
store_step_done(struct store *st, sqlite3_stmt *s, const char *doing)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		rc = store_dberr(st, rc, doing);
		sqlite3_reset(s);
		return rc;
	}
	sqlite3_reset(s);
	return 0;
}

int
store_step_row(struct store *st, sqlite3_stmt *s, const char *doing)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 0;
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? STORE_ENOENT : store_dberr(st, rc, doing);
}

int
store_step_i64(struct store *st, sqlite3_stmt *s, int64_t *v_r,
    const char *doing)
{
	int rc = store_step_row(st, s, doing);

	if (rc != 0)
		return rc;
	if (v_r != NULL)
		*v_r = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

int
store_query_row(struct store *st, const char *sql, int64_t id,
    const char *doing, sqlite3_stmt **s_r)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	if ((rc = store_step_row(st, s, doing)) == 0)
		*s_r = s;
	return rc;
}

int
store_query_i64(struct store *st, const char *sql, int64_t id, int64_t *v_r,
    const char *doing)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	return store_step_i64(st, s, v_r, doing);
}

int
store_enoent(struct store *st, int rc, const char *fmt, ...)
{
	va_list ap;

	if (rc != STORE_ENOENT)
		return rc;
	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

int
store_query_mailbox_i64(struct store *st, const char *sql, int64_t id,
    int64_t *v_r, const char *doing)
{
	return store_enoent(st, store_query_i64(st, sql, id, v_r, doing),
	    STORE_NO_MAILBOX);
}

int
store_put_sealed(struct store *st, const char *sql, int64_t id,
    const unsigned char *ad, size_t adlen, const void *pt, size_t n,
    const char *doing)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	unsigned char *sealed;
	size_t slen;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sealed = store_seal_new(st->keys, ad, adlen, pt, n, &slen);
	sqlite3_bind_blob(s, 1, sealed, (int)slen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, id);
	rc = store_step_done(st, s, doing);
	free(sealed);
	return rc;
}

int
store_collect_u32(struct store *st, sqlite3_stmt *s, const char *doing,
    uint32_t **v_r, size_t *n_r)
{
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 64 : 2 * cap;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(v);
		return store_dberr(st, rc, doing);
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

static void
stmts_finalize(struct store *st)
{
	size_t i;

	for (i = 0; i < STORE_STMT_CACHE; i++) {
		if (st->stmts[i].stmt != NULL)
			sqlite3_finalize(st->stmts[i].stmt);
		st->stmts[i].stmt = NULL;
		st->stmts[i].sql = NULL;
	}
}

static int
exec(struct store *st, const char *sql, const char *doing)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_dberr(st, rc, doing);
}

/* ---- transactions ----------------------------------------------------- */

/*
 * Inside the caller's transaction a failed call is not undone with a
 * SAVEPOINT: SQLite's statement journal under an open savepoint makes every
 * later statement cost time proportional to everything written since, so
 * a batch of thousands of changes goes quadratic. Instead each statement
 * stays atomic on its own, and a call that fails after it changed rows
 * dooms the transaction: store_txn_commit() then saves nothing. A call
 * that fails before writing (a bad name, a missing mailbox) leaves the
 * batch usable.
 */
static void	drop_read(struct store *);

int
store_wbegin(struct store *st)
{
	int rc;

	if (st->depth++ > 0)
		return 0;
	if (st->user_txn) {
		st->wchanges = sqlite3_total_changes64(st->db);
		return 0;
	}
	drop_read(st);
	rc = exec(st, "BEGIN IMMEDIATE", "start a change");
	if (rc != 0)
		st->depth--;
	return rc;
}

int
store_wend(struct store *st, int rc)
{
	int r;

	if (st->depth <= 0)
		abort();	/* a bug: unbalanced store_wend() */
	if (--st->depth > 0)
		return rc;
	if (st->user_txn) {
		if (rc < 0 && sqlite3_total_changes64(st->db) != st->wchanges)
			st->doomed = 1;
		else if (rc >= 0 && !st->quiet)
			st->wrote = 1;
		return rc;
	}
	if (rc < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		store_summary_drop(st);
		return rc;
	}
	r = store_summary_flush(st);
	if (r == 0)
		r = exec(st, "COMMIT", "save the change");
	if (r != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		store_summary_drop(st);
		return r;
	}
	if (!st->quiet)
		store_feed_notify();
	return rc;
}

/*
 * Read transactions nest: the outermost one that starts outside a write
 * transaction owns the BEGIN; inner ones and those inside a write share
 * it. A write that starts while a read is open ends that read first
 * (drop_read): the reads after it see the new state without a snapshot.
 */
int
store_read_begin(struct store *st)
{
	int rc;

	if (st->reading++ > 0 || st->user_txn || st->depth > 0)
		return 0;
	rc = exec(st, "BEGIN", "start reading");
	if (rc != 0)
		st->reading--;
	else {
		st->read_owned = 1;
		st->snap_gen++;		/* a new snapshot (summary.c) */
	}
	return rc;
}

void
store_read_end(struct store *st)
{
	if (st->reading == 0 || --st->reading > 0)
		return;
	if (st->read_owned)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->read_owned = 0;
}

static void
drop_read(struct store *st)
{
	if (!st->read_owned)
		return;
	sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	st->read_owned = 0;
}

int
store_snapshot_begin(struct store *st)
{
	return store_read_begin(st);
}

void
store_snapshot_end(struct store *st)
{
	store_read_end(st);
}

int
store_txn_begin(struct store *st)
{
	int rc;

	if (st->user_txn || st->depth > 0)
		return store_err(st, STORE_EINVAL,
		    "a transaction is open already on this handle");
	drop_read(st);
	rc = exec(st, "BEGIN IMMEDIATE", "start a transaction");
	if (rc != 0)
		return rc;
	st->user_txn = 1;
	st->wrote = 0;
	st->doomed = 0;
	return 0;
}

int
store_txn_commit(struct store *st)
{
	int rc;

	if (!st->user_txn)
		return store_err(st, STORE_EINVAL, "no transaction is open");
	if (st->doomed) {
		store_txn_rollback(st);
		return store_err(st, STORE_ERR, "a change in this transaction "
		    "failed half-way, so none of the transaction was saved");
	}
	rc = store_summary_flush(st);
	if (rc == 0)
		rc = exec(st, "COMMIT", "save the changes");
	st->user_txn = 0;
	if (rc != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		store_summary_drop(st);
		return rc;
	}
	if (st->wrote)
		store_feed_notify();
	st->wrote = 0;
	return 0;
}

void
store_txn_rollback(struct store *st)
{
	if (!st->user_txn)
		return;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	store_summary_drop(st);
	st->user_txn = 0;
	st->wrote = 0;
	st->doomed = 0;
}

/* ---- text rules ------------------------------------------------------ */

/* Length of the UTF-8 sequence at s, or 0 if it is not well-formed. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

int
store_check_text(struct store *st, const char *what, const char *s,
    size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), n;

	if (len == 0)
		return store_err(st, STORE_EINVAL, "the %s is empty", what);
	if (len > max)
		return store_err(st, STORE_EINVAL,
		    "the %s is too long (%zu bytes, at most %zu)", what, len, max);
	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return store_err(st, STORE_EINVAL,
			    "the %s contains a control character", what);
		n = utf8_len(p);
		if (n == 0)
			return store_err(st, STORE_EINVAL,
			    "the %s is not valid UTF-8", what);
		p += n;
	}
	return 0;
}

/* ---- opening ----------------------------------------------------------- */

static struct store *
handle_new(const char *path)
{
	struct store *st = xcalloc(1, sizeof(*st));

	st->path = xstrdup(path);
	st->evfd = -1;
	snprintf(st->errmsg, sizeof(st->errmsg), "no error");
	return st;
}

static void
handle_free(struct store *st)
{
	store_feed_unregister(st);
	stmts_finalize(st);
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	store_keys_free(&st->keys);
	store_summary_free(st);
	ZSTD_freeCCtx(st->zc);
	ZSTD_freeDCtx(st->zd);
	free(st->path);
	free(st);
}

/* Open the SQLite file and set the connection up. */
static int
db_connect(struct store *st, int create)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
	    (create ? SQLITE_OPEN_CREATE : 0);
	int rc;

	rc = sqlite3_open_v2(st->path, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (st->db == NULL)
			return store_err(st, STORE_ERR, "could not open %s: "
			    "out of memory", st->path);
		return store_dberr(st, rc, "open the store");
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	return 0;
}

/* Connection settings; these read the file, so a file that is not a
 * database fails here (after check_version() has said so nicely). */
static int
db_setup(struct store *st)
{
	return exec(st, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
	    "PRAGMA journal_size_limit = 67108864; PRAGMA cache_size = -8192;"
	    "PRAGMA temp_store = MEMORY;", "set up the store");
}

/*
 * Persistent once set; a no-op on a store already in WAL mode. The page
 * size only takes on a new, empty file: 2 KiB pages waste less of the last
 * overflow page of each content chunk than 4 KiB ones (a 5,000-message
 * store measured 4% smaller) at no cost in speed we could measure.
 */
static int
db_wal(struct store *st)
{
	return exec(st, "PRAGMA page_size = 2048; PRAGMA journal_mode = WAL",
	    "switch to WAL mode");
}

static int
pragma_int(struct store *st, const char *sql, int64_t *v_r)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return store_dberr(st, rc, "read the store");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v_r = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*v_r = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? 0 : store_dberr(st, rc, "read the store");
}

/* user_version, and whether the file has any table at all. */
static int
schema_state(struct store *st, int64_t *version_r, int64_t *tables_r)
{
	int rc = pragma_int(st, "PRAGMA user_version", version_r);

	if (rc == STORE_ECORRUPT)
		return store_err(st, STORE_ECORRUPT,
		    "%s is not a mailvault store (not an SQLite database)",
		    st->path);
	if (rc != 0)
		return rc;
	return pragma_int(st, "SELECT count(*) FROM sqlite_master", tables_r);
}

static int
mkdir_parents(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *p;
	int rc = 0;

	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rc = seterr(err, errlen, STORE_ERR,
			    "could not create the folder %s: %s", dir,
			    strerror(errno));
			break;
		}
		*p = '/';
	}
	free(dir);
	return rc;
}

/* Claim the file: made 0600 if new, refused if it holds anything. *made_r
 * says whether we made it (so a failed create removes it). */
static int
claim_file(const char *path, int *made_r, char *err, size_t errlen)
{
	struct stat sb;
	int fd;

	*made_r = 0;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		*made_r = 1;
		return 0;
	}
	if (errno != EEXIST)
		return seterr(err, errlen, STORE_ERR, "could not create %s: %s",
		    path, strerror(errno));
	if (stat(path, &sb) != 0)
		return seterr(err, errlen, STORE_ERR, "could not create %s: %s",
		    path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return seterr(err, errlen, STORE_EEXIST,
		    "%s exists already and is not a file", path);
	return 0;	/* an existing file: checked for emptiness by SQL */
}

static void
make_local_password(char *pw)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	for (i = 0; i < LOCAL_PASSWORD_LEN; i++)
		pw[i] = alphabet[store_random_uniform(sizeof(alphabet) - 1)];
	pw[LOCAL_PASSWORD_LEN] = '\0';
}

static const char SQL_SLOT_INSERT[] =
    "INSERT OR REPLACE INTO keyslot (id, alg, opslimit, memlimit, salt, "
    "wrapped) VALUES (?, ?, ?, ?, ?, ?)";

static int
slot_write(struct store *st, const struct store_keyslot *slot)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SLOT_INSERT);

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, slot->id);
	sqlite3_bind_int(s, 2, slot->alg);
	sqlite3_bind_int64(s, 3, (int64_t)slot->opslimit);
	sqlite3_bind_int64(s, 4, (int64_t)slot->memlimit);
	sqlite3_bind_blob(s, 5, slot->salt, sizeof(slot->salt), SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, slot->wrapped, sizeof(slot->wrapped),
	    SQLITE_STATIC);
	return store_step_done(st, s, "save the key slot");
}

static const char SQL_SLOT_READ[] =
    "SELECT id, alg, opslimit, memlimit, salt, wrapped FROM keyslot "
    "ORDER BY id LIMIT 1";

static int
slot_read(struct store *st, struct store_keyslot *slot)
{
	sqlite3_stmt *s = store_stmt(st, SQL_SLOT_READ);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? store_err(st, STORE_ECORRUPT,
		    "the store at %s has no key slot: the file is damaged",
		    st->path) : store_dberr(st, rc, "read the key slot");
		sqlite3_reset(s);
		return rc;
	}
	slot->id = sqlite3_column_int64(s, 0);
	slot->alg = sqlite3_column_int(s, 1);
	slot->opslimit = (uint64_t)sqlite3_column_int64(s, 2);
	slot->memlimit = (uint64_t)sqlite3_column_int64(s, 3);
	if (sqlite3_column_bytes(s, 4) != (int)sizeof(slot->salt) ||
	    sqlite3_column_bytes(s, 5) != (int)sizeof(slot->wrapped)) {
		sqlite3_reset(s);
		return store_err(st, STORE_ECORRUPT, "the store's key slot is "
		    "damaged");
	}
	memcpy(slot->salt, sqlite3_column_blob(s, 4), sizeof(slot->salt));
	memcpy(slot->wrapped, sqlite3_column_blob(s, 5), sizeof(slot->wrapped));
	sqlite3_reset(s);
	return 0;
}

static int
create_schema(struct store *st, const char *pass, size_t passlen,
    enum store_kdf kdf)
{
	struct store_keyslot slot;
	char pw[LOCAL_PASSWORD_LEN + 1];
	int64_t version, tables;
	int rc;

	rc = schema_state(st, &version, &tables);
	if (rc != 0)
		return rc;
	if (version != 0 || tables != 0)
		return store_err(st, STORE_EEXIST, "a store exists at %s "
		    "already", st->path);
	rc = exec(st, store_schema_sql, "create the store's tables");
	if (rc != 0)
		return rc;
	memset(&slot, 0, sizeof(slot));
	slot.id = 1;
	rc = store_keys_create(pass, passlen, kdf, &slot, &st->keys,
	    st->errmsg, sizeof(st->errmsg));
	if (rc == 0)
		rc = slot_write(st, &slot);
	if (rc != 0)
		return rc;
	make_local_password(pw);
	rc = store_config_set(st, "local-password", pw, LOCAL_PASSWORD_LEN);
	store_wipe(pw, sizeof(pw));
	return rc;
}

/* A file that was there already may be used only if it is empty (or an
 * empty database an interrupted create left behind). */
static int
check_unused(struct store *st)
{
	int64_t version, tables;
	int rc = schema_state(st, &version, &tables);

	if (rc == STORE_ECORRUPT)
		return store_err(st, STORE_EEXIST, "%s exists already and is "
		    "not a mailvault store: choose another path", st->path);
	if (rc == 0 && (version != 0 || tables != 0))
		return store_err(st, STORE_EEXIST, "a store exists at %s "
		    "already", st->path);
	return rc;
}

/* A failed create removes what it made, SQLite's WAL files too. */
static void
remove_store_files(const char *path)
{
	char *aux;

	unlink(path);
	aux = xasprintf("%s-wal", path);
	unlink(aux);
	free(aux);
	aux = xasprintf("%s-shm", path);
	unlink(aux);
	free(aux);
}

int
store_create(const char *path, const char *pass, size_t passlen,
    enum store_kdf kdf, char *err, size_t errlen)
{
	struct store *st;
	int made, rc;

	if (store_crypt_init() != 0)
		return seterr(err, errlen, STORE_ERR,
		    "could not initialise the cryptography library");
	rc = mkdir_parents(path, err, errlen);
	if (rc == 0)
		rc = claim_file(path, &made, err, errlen);
	if (rc != 0)
		return rc;
	st = handle_new(path);
	rc = db_connect(st, 1);
	if (rc == 0 && !made)
		rc = check_unused(st);
	if (rc == 0)
		rc = db_setup(st);
	if (rc == 0)
		rc = db_wal(st);
	if (rc == 0)
		rc = store_wbegin(st);
	if (rc == 0)
		rc = store_wend(st, create_schema(st, pass, passlen, kdf));
	if (rc != 0)
		seterr(err, errlen, rc, "%s", st->errmsg);
	handle_free(st);
	if (rc != 0 && made)
		remove_store_files(path);
	return rc;
}

static int
check_version(struct store *st)
{
	int64_t version, tables;
	int rc = schema_state(st, &version, &tables);

	if (rc != 0)
		return rc;
	if (version == 0 && tables == 0)
		return store_err(st, STORE_ENOENT, "no store at %s: create "
		    "one with 'mailvault init'", st->path);
	if (version == 0)
		return store_err(st, STORE_ECORRUPT,
		    "%s is not a mailvault store", st->path);
	if (version > STORE_SCHEMA_VERSION)
		return store_err(st, STORE_ECORRUPT, "the store at %s was made "
		    "by a newer mailvault (schema %lld, this one knows %d): "
		    "use that version", st->path, (long long)version,
		    STORE_SCHEMA_VERSION);
	if (version < 1)
		return store_err(st, STORE_ECORRUPT, "the store at %s has "
		    "schema %lld, which this mailvault cannot upgrade",
		    st->path, (long long)version);
	return 0;	/* older ones are migrated once unlocked */
}

/*
 * 1 -> 2: the summary table (contents stored before it simply have no
 * summary, and readers fall back to the MIME tree for them) and
 * sync_refused.
 */
static int
migrate_to2(struct store *st)
{
	static const char sql[] =
	    "CREATE TABLE IF NOT EXISTS summary ("
	    "block INTEGER PRIMARY KEY, data BLOB NOT NULL);"
	    "CREATE TABLE IF NOT EXISTS sync_refused ("
	    "folder INTEGER NOT NULL REFERENCES sync_folder(id) "
	    "ON DELETE CASCADE, ruidvalidity INTEGER NOT NULL, "
	    "ruid INTEGER NOT NULL, tries INTEGER NOT NULL, "
	    "PRIMARY KEY (folder, ruidvalidity, ruid)) WITHOUT ROWID;"
	    "PRAGMA user_version = 2;";

	return exec(st, sql, "upgrade the store to schema 2");
}

/*
 * 2 -> 3: POP3's hidden messages get a table of their own (pop3_hidden
 * and the trigger that forgets a row with its message), and the messages
 * an older POP3 hid with the keyword $POP3Deleted move there and lose
 * the keyword (store_pop3_adopt_keyword(), message.c).
 */
static int
migrate_to3(struct store *st)
{
	static const char sql[] =
	    "CREATE TABLE IF NOT EXISTS pop3_hidden ("
	    "mailbox INTEGER NOT NULL REFERENCES mailbox(id) "
	    "ON DELETE CASCADE, uid INTEGER NOT NULL, "
	    "PRIMARY KEY (mailbox, uid)) WITHOUT ROWID;"
	    "CREATE TRIGGER IF NOT EXISTS message_pop3_forget "
	    "AFTER DELETE ON message BEGIN "
	    "DELETE FROM pop3_hidden WHERE mailbox = old.mailbox "
	    "AND uid = old.uid; END;";
	int rc = exec(st, sql, "upgrade the store to schema 3");

	if (rc == 0)
		rc = store_pop3_adopt_keyword(st);
	if (rc == 0)
		rc = exec(st, "PRAGMA user_version = 3",
		    "upgrade the store to schema 3");
	return rc;
}

/*
 * Bring an older schema up to date, one step per version, in one
 * transaction that checks the version again (another process may be
 * doing the same).
 */
static int
migrate(struct store *st)
{
	int64_t version;
	int rc;

	if ((rc = pragma_int(st, "PRAGMA user_version", &version)) != 0 ||
	    version >= STORE_SCHEMA_VERSION)
		return rc;
	st->quiet++;
	rc = store_wbegin(st);
	if (rc == 0) {
		rc = pragma_int(st, "PRAGMA user_version", &version);
		if (rc == 0 && version == 1 && (rc = migrate_to2(st)) == 0)
			version = 2;
		if (rc == 0 && version == 2)
			rc = migrate_to3(st);
		rc = store_wend(st, rc);
	}
	st->quiet--;
	return rc;
}

static const char SQL_PENDING_FIND[] =
    "SELECT 1 FROM content WHERE hash IS NULL AND created < ? LIMIT 1";
static const char SQL_PENDING_DROP[] =
    "DELETE FROM content WHERE hash IS NULL AND refs = 0 AND created < ?";

/*
 * A streaming append killed half-way leaves a content row without a hash.
 * Old ones are removed; young ones may belong to an append still running
 * in another process. Best effort: a busy store just tries next time.
 */
static void
drop_abandoned(struct store *st)
{
	int64_t before = (int64_t)time(NULL) - STORE_PENDING_AGE;
	sqlite3_stmt *s;
	int rc;

	if (store_query_i64(st, SQL_PENDING_FIND, before, NULL,
	    "look for abandoned appends") != 0 || store_wbegin(st) != 0)
		return;
	s = store_stmt(st, SQL_PENDING_DROP);
	rc = s == NULL ? STORE_ERR : 0;
	if (rc == 0) {
		sqlite3_bind_int64(s, 1, before);
		rc = store_step_done(st, s, "remove an abandoned append");
	}
	store_wend(st, rc);
}

int
store_open(const char *path, const char *pass, size_t passlen,
    struct store **st_r, char *err, size_t errlen)
{
	struct store_keyslot slot;
	struct stat sb;
	struct store *st;
	int rc;

	if (store_crypt_init() != 0)
		return seterr(err, errlen, STORE_ERR,
		    "could not initialise the cryptography library");
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return seterr(err, errlen, STORE_ENOENT, "no store at "
			    "%s: create one with 'mailvault init'", path);
		return seterr(err, errlen, STORE_ERR, "could not open %s: %s",
		    path, strerror(errno));
	}
	if (sb.st_size == 0)
		return seterr(err, errlen, STORE_ENOENT, "no store at %s: "
		    "create one with 'mailvault init'", path);
	st = handle_new(path);
	rc = db_connect(st, 0);
	if (rc == 0)
		rc = check_version(st);
	if (rc == 0)
		rc = db_setup(st);
	if (rc == 0)
		rc = db_wal(st);
	if (rc == 0)
		rc = slot_read(st, &slot);
	if (rc == 0)
		rc = store_keys_unlock(&slot, pass, passlen, &st->keys,
		    st->errmsg, sizeof(st->errmsg));
	if (rc == 0)
		rc = migrate(st);
	if (rc == 0)
		rc = store_feed_register(st);
	if (rc != 0) {
		seterr(err, errlen, rc, "%s", st->errmsg);
		handle_free(st);
		return rc;
	}
	drop_abandoned(st);
	snprintf(st->errmsg, sizeof(st->errmsg), "no error");
	*st_r = st;
	return 0;
}

int
store_open_shared(struct store *st, struct store **st_r)
{
	struct store *c = handle_new(st->path);
	int rc;

	rc = db_connect(c, 0);
	if (rc == 0)
		rc = db_setup(c);
	/* Shared handles serve sessions, tens at a time, that mostly stream
	 * content once: 1 MiB of page cache each instead of 8 keeps ten
	 * clients fetching a 100 MB message within the memory budget (a
	 * measured 90 MB of growth became 14 MB). */
	if (rc == 0)
		rc = exec(c, "PRAGMA cache_size = -1024", "set up the store");
	if (rc == 0)
		rc = store_feed_register(c);
	if (rc != 0) {
		store_err(st, rc, "%s", c->errmsg);
		handle_free(c);
		return rc;
	}
	c->keys = store_keys_dup(st->keys);
	*st_r = c;
	return 0;
}

void
store_close(struct store **st)
{
	if (*st == NULL)
		return;
	if ((*st)->user_txn)
		store_txn_rollback(*st);
	handle_free(*st);
	*st = NULL;
}

int
store_change_passphrase(struct store *st, const char *newpass, size_t newlen,
    enum store_kdf kdf)
{
	struct store_keyslot slot;
	int rc;

	rc = slot_read(st, &slot);
	if (rc != 0)
		return rc;
	/* The slow KDF runs before the transaction, which stays short. */
	rc = store_keys_rewrap(st->keys, newpass, newlen, kdf, &slot,
	    st->errmsg, sizeof(st->errmsg));
	if (rc != 0)
		return rc;
	rc = store_wbegin(st);
	if (rc != 0)
		return rc;
	return store_wend(st, slot_write(st, &slot));
}

void
store_harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
