/*
 * content: message bytes, stored once per distinct byte sequence, in
 * sealed compressed chunks; the streaming append writer and the reader.
 *
 * A content row is found by the keyed BLAKE2b-256 hash of its bytes
 * (store-wide dedup). Its bytes are cut into STORE_CHUNK_SIZE plaintext
 * chunks; each is zstd-compressed (kept raw, with a method byte saying so,
 * when that does not help) and sealed with AD naming the content id, the
 * chunk index and whether it is the last, so chunks cannot be swapped,
 * reordered or cut off unnoticed. The MIME tree, parsed while the bytes
 * stream in, is serialized and sealed beside them.
 *
 * The writer buffers at most one chunk. A message that fits in one chunk
 * is deduplicated before anything is written. A larger one is written as
 * it arrives under a new content id whose hash is still NULL ("pending"),
 * each chunk in its own short transaction so a slow client never holds
 * the write lock; at commit, if the hash turns out to exist already, the
 * new chunks are deleted and the message points at the existing content.
 * The reader holds one chunk in memory and seeks by chunk index.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "lib/buf.h"
#include "lib/mime.h"
#include "lib/msg_summary.h"
#include "lib/util.h"

#define ZSTD_LEVEL	3
#define METHOD_RAW	0
#define METHOD_ZSTD	1
#define CONTENT_GONE	"the message content is gone (the message was " \
			"expunged)"

struct store_append {
	struct store	*st;
	int64_t		 mbox;
	uint32_t	 flags;
	char		**keywords;
	size_t		 nkeywords;
	int64_t		 internaldate;
	int32_t		 tzoff;
	int		 skip_duplicate;

	struct store_hasher *hasher;
	struct mime_parser *mime;
	unsigned char	*buf;		/* the chunk being filled */
	size_t		 buflen;
	unsigned char	*tmp;		/* compression and sealing scratch */
	uint64_t	 size;
	int64_t		 pending;	/* content id once chunks are written */
	uint32_t	 nflushed;
	int		 failed;	/* a write failed: commit fails */
	struct buf	 summary;	/* the record for summary.c, made
					 * before the commit takes the lock */
};

struct store_reader {
	struct store	*st;
	int64_t		 content;
	uint64_t	 size;
	uint32_t	 nchunks;
	uint64_t	 pos;
	int64_t		 loaded;	/* index of the chunk in buf, or -1 */
	size_t		 buflen;
	unsigned char	*buf;
	unsigned char	*tmp;
};

static const char SQL_BY_HASH[] = "SELECT id FROM content WHERE hash = ?";
static const char SQL_INSERT_PENDING[] =
    "INSERT INTO content (hash, size, nchunks, created) VALUES (NULL, 0, 0, ?)";
static const char SQL_INSERT[] =
    "INSERT INTO content (hash, size, nchunks, created) VALUES (?, ?, ?, ?)";
static const char SQL_FINISH[] =
    "UPDATE content SET hash = ?, size = ?, nchunks = ? WHERE id = ?";
static const char SQL_SET_MIME[] = "UPDATE content SET mime = ? WHERE id = ?";
static const char SQL_DROP[] =
    "DELETE FROM content WHERE id = ? AND hash IS NULL AND refs = 0";
static const char SQL_CHUNK_INSERT[] =
    "INSERT INTO chunk (content, idx, data) VALUES (?, ?, ?)";
static const char SQL_CHUNK_GET[] =
    "SELECT data FROM chunk WHERE content = ? AND idx = ?";
static const char SQL_DUP_UID[] =
    "SELECT uid FROM message WHERE content = ? AND mailbox = ? LIMIT 1";
static const char SQL_TAKE_UID[] =
    "UPDATE mailbox SET uidnext = uidnext + 1, "
    "highestmodseq = highestmodseq + 1 WHERE id = ? "
    "RETURNING uidnext - 1, highestmodseq";
static const char SQL_MSG_INSERT[] =
    "INSERT INTO message (mailbox, uid, flags, modseq, internaldate, tzoff, "
    "size, content, keywords) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_OPEN[] =
    "SELECT size, nchunks FROM content WHERE id = ? AND hash IS NOT NULL";
static const char SQL_HASH[] =
    "SELECT hash FROM content WHERE id = ? AND hash IS NOT NULL";
static const char SQL_MIME[] =
    "SELECT mime FROM content WHERE id = ? AND hash IS NOT NULL";

_Static_assert(STORE_CHUNK_TMP >= STORE_SEAL_OVERHEAD + 1 +
    ZSTD_COMPRESSBOUND(STORE_CHUNK_SIZE), "chunk scratch too small");

/* ---- chunks ------------------------------------------------------------ */

size_t
store_chunk_ad(unsigned char *ad, int64_t cid, uint32_t idx, int last)
{
	return store_ad(ad, "chunk", "data", "%lld/%u/%d", (long long)cid, idx,
	    last ? 1 : 0);
}

static int
zstd_ready(struct store *st)
{
	if (st->zc == NULL)
		st->zc = ZSTD_createCCtx();
	if (st->zd == NULL)
		st->zd = ZSTD_createDCtx();
	if (st->zc == NULL || st->zd == NULL)
		return store_err(st, STORE_ERR, "could not set up compression: "
		    "out of memory");
	return 0;
}

int
store_zstd_ready(struct store *st)
{
	return zstd_ready(st);
}

/*
 * Compress and seal n bytes as chunk idx of cid and insert it. tmp is
 * STORE_CHUNK_TMP bytes: the plaintext (method byte, payload) goes at its
 * start and the sealed form after it.
 */
static int
chunk_put(struct store *st, int64_t cid, uint32_t idx, int last,
    const unsigned char *data, size_t n, unsigned char *tmp)
{
	unsigned char ad[STORE_AD_MAX], *sealed;
	size_t adlen, plen, z;
	sqlite3_stmt *s;
	int rc;

	if ((rc = zstd_ready(st)) != 0)
		return rc;
	z = ZSTD_compressCCtx(st->zc, tmp + 1, ZSTD_COMPRESSBOUND(STORE_CHUNK_SIZE),
	    data, n, ZSTD_LEVEL);
	if (!ZSTD_isError(z) && z < n) {
		tmp[0] = METHOD_ZSTD;
		plen = 1 + z;
	} else {
		tmp[0] = METHOD_RAW;
		memcpy(tmp + 1, data, n);
		plen = 1 + n;
	}
	/* Sealing cannot be in place; the sealed copy goes to the heap. */
	adlen = store_chunk_ad(ad, cid, idx, last);
	sealed = xmalloc(plen + STORE_SEAL_OVERHEAD);
	store_seal(st->keys, ad, adlen, tmp, plen, sealed);
	if ((s = store_stmt(st, SQL_CHUNK_INSERT)) == NULL) {
		free(sealed);
		return STORE_ERR;
	}
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int64(s, 2, idx);
	sqlite3_bind_blob(s, 3, sealed, (int)(plen + STORE_SEAL_OVERHEAD),
	    SQLITE_STATIC);
	rc = store_step_done(st, s, "save message content");
	free(sealed);
	return rc;
}

int
store_chunk_decode(struct store *st, int64_t cid, uint32_t idx, int last,
    const void *sealed, size_t len, size_t want, unsigned char *out,
    unsigned char *tmp)
{
	unsigned char ad[STORE_AD_MAX];
	size_t adlen, plen, got;

	if (len < STORE_SEAL_OVERHEAD + 1 || len > STORE_CHUNK_TMP)
		goto bad;
	adlen = store_chunk_ad(ad, cid, idx, last);
	if (store_unseal(st->keys, ad, adlen, sealed, len, tmp) != 0)
		goto bad;
	plen = len - STORE_SEAL_OVERHEAD;
	if (tmp[0] == METHOD_RAW) {
		if (plen - 1 != want)
			goto bad;
		memcpy(out, tmp + 1, want);
		return 0;
	}
	if (tmp[0] != METHOD_ZSTD || zstd_ready(st) != 0)
		goto bad;
	got = ZSTD_decompressDCtx(st->zd, out, STORE_CHUNK_SIZE, tmp + 1,
	    plen - 1);
	if (ZSTD_isError(got) || got != want)
		goto bad;
	return 0;
bad:
	return store_err(st, STORE_ECORRUPT, "chunk %u of message content %lld "
	    "does not decrypt or has the wrong size: the store is damaged or "
	    "was tampered with; run 'mailvault check'", idx, (long long)cid);
}

size_t
store_mime_ad(unsigned char *ad, int64_t cid)
{
	return store_ad(ad, "content", "mime", "%lld", (long long)cid);
}

/* ---- append --------------------------------------------------------------- */

int
store_append_begin(struct store *st, int64_t mbox,
    const struct store_append_opts *opts, struct store_append **ap_r)
{
	struct store_append *ap;
	int64_t acct;
	size_t i;
	int rc;

	if ((rc = store_mailbox_account(st, mbox, &acct)) != 0)
		return rc;
	if (opts != NULL && opts->nkeywords > STORE_MAX_KEYWORDS)
		return store_err(st, STORE_EINVAL, "too many keywords (at most "
		    "%d on a message)", STORE_MAX_KEYWORDS);
	ap = xcalloc(1, sizeof(*ap));
	ap->st = st;
	ap->mbox = mbox;
	if (opts != NULL) {
		ap->flags = opts->flags & 0x1f;
		ap->internaldate = opts->internaldate;
		ap->tzoff = opts->tzoff;
		ap->skip_duplicate = opts->skip_duplicate;
		ap->nkeywords = opts->nkeywords;
		ap->keywords = xcalloc(opts->nkeywords + 1, sizeof(char *));
		for (i = 0; i < opts->nkeywords; i++)
			ap->keywords[i] = xstrdup(opts->keywords[i]);
	}
	if (ap->internaldate == 0)
		ap->internaldate = (int64_t)time(NULL);
	ap->hasher = store_hasher_new(st->keys);
	ap->mime = mime_parser_new();
	ap->buf = xmalloc(STORE_CHUNK_SIZE);
	ap->tmp = xmalloc(STORE_CHUNK_TMP);
	buf_init(&ap->summary, MSG_SUMMARY_MAX);
	*ap_r = ap;
	return 0;
}

static void
append_free(struct store_append *ap)
{
	size_t i;

	for (i = 0; i < ap->nkeywords; i++)
		free(ap->keywords[i]);
	free(ap->keywords);
	store_hasher_free(&ap->hasher);
	mime_parser_free(&ap->mime);
	free(ap->buf);
	free(ap->tmp);
	buf_free(&ap->summary);
	free(ap);
}

/* Write the full buffer as a non-last chunk under the pending content. */
static int
flush_locked(struct store_append *ap)
{
	struct store *st = ap->st;
	sqlite3_stmt *s;
	int rc;

	if (ap->pending == 0) {
		if ((s = store_stmt(st, SQL_INSERT_PENDING)) == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(s, 1, (int64_t)time(NULL));
		if ((rc = store_step_done(st, s, "save message content")) != 0)
			return rc;
		ap->pending = sqlite3_last_insert_rowid(st->db);
	}
	return chunk_put(st, ap->pending, ap->nflushed, 0, ap->buf, ap->buflen,
	    ap->tmp);
}

static int
flush(struct store_append *ap)
{
	struct store *st = ap->st;
	int rc;

	/* Nobody waits for half a message: announce nothing. */
	st->quiet++;
	rc = store_wbegin(st);
	if (rc == 0)
		rc = store_wend(st, flush_locked(ap));
	st->quiet--;
	if (rc == 0) {
		ap->nflushed++;
		ap->buflen = 0;
	}
	return rc;
}

int
store_append_write(struct store_append *ap, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t take;
	int rc;

	if (ap->failed)
		return store_err(ap->st, STORE_ERR, "the append failed already");
	store_hasher_update(ap->hasher, data, n);
	mime_parser_feed(ap->mime, data, n);
	ap->size += n;
	while (n > 0) {
		/* A full buffer is flushed only once more bytes come, so the
		 * last chunk is always still in memory at commit. */
		if (ap->buflen == STORE_CHUNK_SIZE) {
			if ((rc = flush(ap)) != 0) {
				ap->failed = 1;
				return rc;
			}
		}
		take = STORE_CHUNK_SIZE - ap->buflen;
		if (take > n)
			take = n;
		memcpy(ap->buf + ap->buflen, p, take);
		ap->buflen += take;
		p += take;
		n -= take;
	}
	return 0;
}

static int
find_hash(struct store *st, const unsigned char *h, int64_t *cid_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_BY_HASH);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, h, STORE_HASH_BYTES, SQLITE_STATIC);
	*cid_r = 0;
	rc = store_step_i64(st, s, cid_r, "look up message content");
	return rc == STORE_ENOENT ? 0 : rc;
}

/*
 * The cached MIME tree is kept like a chunk: a method byte, then the
 * serialization, zstd-compressed when that makes it smaller (the header
 * copies in it compress well), then sealed.
 */
static int
set_mime(struct store *st, int64_t cid, const struct buf *mime)
{
	unsigned char ad[STORE_AD_MAX], *packed;
	size_t adlen, z, bound;
	int rc;

	if (mime->len == 0)
		return 0;	/* not serialized: parsed again when asked */
	if ((rc = zstd_ready(st)) != 0)
		return rc;
	bound = ZSTD_compressBound(mime->len);
	packed = xmalloc(1 + (bound > mime->len ? bound : mime->len));
	z = ZSTD_compressCCtx(st->zc, packed + 1, bound, mime->data,
	    mime->len, ZSTD_LEVEL);
	if (!ZSTD_isError(z) && z < mime->len) {
		packed[0] = METHOD_ZSTD;
	} else {
		packed[0] = METHOD_RAW;
		memcpy(packed + 1, mime->data, mime->len);
		z = mime->len;
	}
	adlen = store_mime_ad(ad, cid);
	rc = store_put_sealed(st, SQL_SET_MIME, cid, ad, adlen, packed, 1 + z,
	    "save the message structure");
	free(packed);
	return rc;
}

/* store_mime_unpack(), or with root_only just the root part. */
static int
mime_unpack(struct store *st, const char *packed, size_t len, int root_only,
    struct mime_part **root_r)
{
	int (*des)(const void *, size_t, struct mime_part **) =
	    root_only ? mime_deserialize_root : mime_deserialize;
	unsigned long long want;
	char *out;
	size_t got;
	int rc;

	if (len < 1)
		return -1;
	if (packed[0] == METHOD_RAW)
		return des(packed + 1, len - 1, root_r);
	if (packed[0] != METHOD_ZSTD || zstd_ready(st) != 0)
		return -1;
	want = ZSTD_getFrameContentSize(packed + 1, len - 1);
	if (want == ZSTD_CONTENTSIZE_ERROR || want == ZSTD_CONTENTSIZE_UNKNOWN ||
	    want > STORE_MIME_MAX)
		return -1;
	out = xmalloc((size_t)want + 1);
	got = ZSTD_decompressDCtx(st->zd, out, (size_t)want, packed + 1,
	    len - 1);
	rc = (ZSTD_isError(got) || got != want) ? -1 : des(out, got, root_r);
	free(out);
	return rc;
}

int
store_mime_unpack(struct store *st, const char *packed, size_t len,
    struct mime_part **root_r)
{
	return mime_unpack(st, packed, len, 0, root_r);
}

/* Make the content row final; *cid_r is the id messages point at, and
 * *existed_r says whether it was there before. */
static int
content_finish(struct store_append *ap, const unsigned char *h,
    const struct buf *mime, int64_t *cid_r, int *existed_r)
{
	struct store *st = ap->st;
	uint32_t nchunks = ap->nflushed + 1;
	sqlite3_stmt *s;
	int64_t cid;
	int rc;

	if ((rc = find_hash(st, h, &cid)) != 0)
		return rc;
	*existed_r = cid != 0;
	if (cid != 0) {
		*cid_r = cid;
		if (ap->pending != 0)
			return store_content_drop_pending(st, ap->pending);
		return 0;
	}
	/* Parameter 4 is the pending row's id, or a new row's creation time. */
	if (ap->pending != 0) {
		cid = ap->pending;
		s = store_stmt(st, SQL_FINISH);
	} else
		s = store_stmt(st, SQL_INSERT);
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_blob(s, 1, h, STORE_HASH_BYTES, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (int64_t)ap->size);
	sqlite3_bind_int64(s, 3, nchunks);
	sqlite3_bind_int64(s, 4, cid != 0 ? cid : (int64_t)time(NULL));
	if ((rc = store_step_done(st, s, "save message content")) != 0)
		return rc;
	if (cid == 0)
		cid = sqlite3_last_insert_rowid(st->db);
	rc = chunk_put(st, cid, ap->nflushed, 1, ap->buf, ap->buflen, ap->tmp);
	if (rc == 0)
		rc = set_mime(st, cid, mime);
	if (rc == 0)
		rc = store_summary_queue(st, cid, ap->summary.data,
		    ap->summary.len);
	if (rc == 0)
		*cid_r = cid;
	return rc;
}

/* The UID of this content in the mailbox, or 0. */
static int
dup_uid(struct store *st, int64_t cid, int64_t mbox, uint32_t *uid_r)
{
	sqlite3_stmt *s = store_stmt(st, SQL_DUP_UID);
	int64_t uid = 0;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, cid);
	sqlite3_bind_int64(s, 2, mbox);
	rc = store_step_i64(st, s, &uid, "look for a duplicate");
	*uid_r = (uint32_t)uid;
	return rc == STORE_ENOENT ? 0 : rc;
}

/*
 * Give the next UID of mbox and a new MODSEQ, and insert the message row.
 * Shared with copy (message.c).
 */
int
store_msg_insert(struct store *st, int64_t mbox, const struct store_msg *m,
    uint32_t *uid_r)
{
	unsigned char kwblob[4 * STORE_MAX_KEYWORDS];
	int64_t uid, modseq;
	sqlite3_stmt *s;
	int rc;

	rc = store_query_row(st, SQL_TAKE_UID, mbox, "number the message", &s);
	if (rc != 0)
		return store_enoent(st, rc, STORE_NO_MAILBOX);
	uid = sqlite3_column_int64(s, 0);
	modseq = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (uid <= 0 || uid >= (int64_t)UINT32_MAX)
		return store_err(st, STORE_ERR, "the mailbox has run out of "
		    "UIDs: move its messages to a new mailbox");
	if ((s = store_stmt(st, SQL_MSG_INSERT)) == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, mbox);
	sqlite3_bind_int64(s, 2, uid);
	sqlite3_bind_int64(s, 3, m->flags & 0x1f);
	sqlite3_bind_int64(s, 4, modseq);
	sqlite3_bind_int64(s, 5, m->internaldate);
	sqlite3_bind_int64(s, 6, m->tzoff);
	sqlite3_bind_int64(s, 7, (int64_t)m->size);
	sqlite3_bind_int64(s, 8, m->content);
	if (m->nkw > 0)
		sqlite3_bind_blob(s, 9, kwblob,
		    (int)store_kw_encode(m->kw, m->nkw, kwblob), SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 9);
	if ((rc = store_step_done(st, s, "save the message")) != 0)
		return rc;
	*uid_r = (uint32_t)uid;
	return 0;
}

static int
commit_locked(struct store_append *ap, const unsigned char *h,
    const struct buf *mime, uint32_t *uid_r, int *dup_r)
{
	struct store *st = ap->st;
	struct store_msg m;
	uint32_t kw[STORE_MAX_KEYWORDS];
	size_t nkw = 0;
	int64_t acct;
	int existed, rc;

	memset(&m, 0, sizeof(m));
	m.kw = kw;
	if ((rc = store_mailbox_account(st, ap->mbox, &acct)) != 0)
		return rc;
	if ((rc = content_finish(ap, h, mime, &m.content, &existed)) != 0)
		return rc;
	if (existed && ap->skip_duplicate) {
		if ((rc = dup_uid(st, m.content, ap->mbox, uid_r)) != 0)
			return rc;
		if (*uid_r != 0) {
			*dup_r = 1;
			return 0;
		}
	}
	rc = store_kw_resolve(st, acct, (const char *const *)ap->keywords,
	    ap->nkeywords, 1, kw, &nkw);
	if (rc != 0)
		return rc;
	m.nkw = (uint32_t)nkw;
	m.flags = ap->flags;
	m.internaldate = ap->internaldate;
	m.tzoff = ap->tzoff;
	m.size = ap->size;
	return store_msg_insert(st, ap->mbox, &m, uid_r);
}

int
store_append_commit(struct store_append **app, uint32_t *uid_r)
{
	struct store_append *ap = *app;
	struct store *st = ap->st;
	unsigned char h[STORE_HASH_BYTES];
	struct mime_part *root;
	struct buf mime;
	uint32_t uid = 0;
	int dup = 0, rc;

	*app = NULL;
	if (ap->failed) {
		rc = store_err(st, STORE_ERR, "the message could not be "
		    "saved: an earlier write to it failed");
		goto out;
	}
	store_hasher_final(&ap->hasher, h);
	root = mime_parser_finish(ap->mime);
	buf_init(&mime, STORE_MIME_MAX);
	if (mime_serialize(root, &mime) != 0)
		buf_reset(&mime);	/* too large: parse when asked */
	if (msg_summary_build(root, &ap->summary) != 0)
		buf_reset(&ap->summary);	/* none: readers fall back */
	mime_part_free(&root);
	rc = store_wbegin(st);
	if (rc == 0)
		rc = store_wend(st, commit_locked(ap, h, &mime, &uid, &dup));
	buf_free(&mime);
	if (rc == 0)
		ap->pending = 0;	/* final now, or dropped as a duplicate */
	if (rc == 0 && uid_r != NULL)
		*uid_r = uid;
	if (rc == 0 && dup)
		rc = store_err(st, STORE_EEXIST, "the message is in this "
		    "mailbox already (UID %u)", uid);
out:
	if (ap->pending != 0) {
		char keep[STORE_ERRMSG_MAX];

		memcpy(keep, st->errmsg, sizeof(keep));
		store_content_drop_pending(st, ap->pending);
		memcpy(st->errmsg, keep, sizeof(keep));
	}
	append_free(ap);
	return rc;
}

void
store_append_abort(struct store_append **app)
{
	struct store_append *ap = *app;

	if (ap == NULL)
		return;
	*app = NULL;
	if (ap->pending != 0)
		store_content_drop_pending(ap->st, ap->pending);
	append_free(ap);
}

int
store_content_drop_pending(struct store *st, int64_t content)
{
	sqlite3_stmt *s;
	int rc;

	st->quiet++;
	rc = store_wbegin(st);
	if (rc == 0) {
		if ((s = store_stmt(st, SQL_DROP)) == NULL)
			rc = STORE_ERR;
		else {
			sqlite3_bind_int64(s, 1, content);
			rc = store_step_done(st, s, "remove unused content");
		}
		rc = store_wend(st, rc);
	}
	st->quiet--;
	return rc;
}

int
store_append_mem(struct store *st, int64_t mbox,
    const struct store_append_opts *opts, const void *data, size_t n,
    uint32_t *uid_r)
{
	struct store_append *ap;
	int rc;

	if ((rc = store_append_begin(st, mbox, opts, &ap)) != 0)
		return rc;
	if ((rc = store_append_write(ap, data, n)) != 0) {
		store_append_abort(&ap);
		return rc;
	}
	return store_append_commit(&ap, uid_r);
}

int
store_content_hash(struct store *st, int64_t content,
    unsigned char hash[32])
{
	sqlite3_stmt *s;
	int rc = store_query_row(st, SQL_HASH, content, "read the content hash",
	    &s);

	if (rc != 0)
		return store_enoent(st, rc, "there is no content %lld",
		    (long long)content);
	if (sqlite3_column_bytes(s, 0) == STORE_HASH_BYTES)
		memcpy(hash, sqlite3_column_blob(s, 0), STORE_HASH_BYTES);
	else
		rc = store_err(st, STORE_ECORRUPT, "the hash of content %lld "
		    "is damaged", (long long)content);
	sqlite3_reset(s);
	return rc;
}

/* ---- reader --------------------------------------------------------------- */

int
store_reader_open(struct store *st, int64_t content, struct store_reader **rd_r)
{
	struct store_reader *rd;
	sqlite3_stmt *s;
	uint64_t size;
	uint32_t nchunks;
	int rc = store_query_row(st, SQL_OPEN, content, "open message content",
	    &s);

	if (rc != 0)
		return store_enoent(st, rc, CONTENT_GONE);
	size = (uint64_t)sqlite3_column_int64(s, 0);
	nchunks = (uint32_t)sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (nchunks == 0 || (size + STORE_CHUNK_SIZE - 1) / STORE_CHUNK_SIZE >
	    nchunks || (uint64_t)(nchunks - 1) * STORE_CHUNK_SIZE > size)
		return store_err(st, STORE_ECORRUPT, "content %lld has a "
		    "damaged size: run 'mailvault check'", (long long)content);
	rd = xcalloc(1, sizeof(*rd));
	rd->st = st;
	rd->content = content;
	rd->size = size;
	rd->nchunks = nchunks;
	rd->loaded = -1;
	rd->buf = xmalloc(STORE_CHUNK_SIZE);
	rd->tmp = xmalloc(STORE_CHUNK_TMP);
	*rd_r = rd;
	return 0;
}

/* Plaintext length chunk idx must have. */
static size_t
chunk_len(uint64_t size, uint32_t nchunks, uint32_t idx)
{
	if (idx + 1 < nchunks)
		return STORE_CHUNK_SIZE;
	return (size_t)(size - (uint64_t)idx * STORE_CHUNK_SIZE);
}

static int
load_chunk(struct store_reader *rd, uint32_t idx)
{
	struct store *st = rd->st;
	sqlite3_stmt *s = store_stmt(st, SQL_CHUNK_GET);
	size_t want = chunk_len(rd->size, rd->nchunks, idx);
	int rc;

	if (s == NULL)
		return STORE_ERR;
	rd->loaded = -1;
	sqlite3_bind_int64(s, 1, rd->content);
	sqlite3_bind_int64(s, 2, idx);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = store_chunk_decode(st, rd->content, idx,
		    idx + 1 == rd->nchunks, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0), want, rd->buf, rd->tmp);
	else if (rc == SQLITE_DONE)
		rc = store_err(st, STORE_ENOENT, "chunk %u of message content "
		    "%lld is missing (the message was expunged, or the store "
		    "is damaged)", idx, (long long)rd->content);
	else
		rc = store_dberr(st, rc, "read message content");
	sqlite3_reset(s);
	if (rc == 0) {
		rd->loaded = idx;
		rd->buflen = want;
	}
	return rc;
}

ssize_t
store_reader_read(struct store_reader *rd, void *buf, size_t n)
{
	unsigned char *out = buf;
	size_t done = 0, off, take;
	uint32_t idx;
	int rc;

	while (done < n && rd->pos < rd->size) {
		idx = (uint32_t)(rd->pos / STORE_CHUNK_SIZE);
		if (rd->loaded != (int64_t)idx &&
		    (rc = load_chunk(rd, idx)) != 0)
			return done > 0 ? (ssize_t)done : rc;
		off = (size_t)(rd->pos % STORE_CHUNK_SIZE);
		take = rd->buflen - off;
		if (take > n - done)
			take = n - done;
		memcpy(out + done, rd->buf + off, take);
		done += take;
		rd->pos += take;
	}
	return (ssize_t)done;
}

int
store_reader_seek(struct store_reader *rd, uint64_t off)
{
	if (off > rd->size)
		return store_err(rd->st, STORE_EINVAL, "offset %llu is past the "
		    "end of the message (%llu bytes)", (unsigned long long)off,
		    (unsigned long long)rd->size);
	rd->pos = off;
	return 0;
}

uint64_t
store_reader_size(const struct store_reader *rd)
{
	return rd->size;
}

void
store_reader_close(struct store_reader **rd)
{
	if (*rd == NULL)
		return;
	free((*rd)->buf);
	free((*rd)->tmp);
	free(*rd);
	*rd = NULL;
}

/* ---- MIME ------------------------------------------------------------------ */

/* Parse the content again (no cached tree: it was too large). */
static int
mime_reparse(struct store *st, int64_t content, struct mime_part **root_r)
{
	struct store_reader *rd;
	struct mime_parser *p;
	unsigned char *buf;
	ssize_t n;
	int rc;

	if ((rc = store_reader_open(st, content, &rd)) != 0)
		return rc;
	p = mime_parser_new();
	buf = xmalloc(STORE_CHUNK_SIZE);
	while ((n = store_reader_read(rd, buf, STORE_CHUNK_SIZE)) > 0)
		mime_parser_feed(p, buf, (size_t)n);
	free(buf);
	store_reader_close(&rd);
	if (n < 0) {
		mime_parser_free(&p);
		return (int)n;
	}
	*root_r = mime_parser_finish(p);
	mime_parser_free(&p);
	return 0;
}

/* The cached tree of content, or with root_only just its root part. */
static int
content_mime(struct store *st, int64_t content, int root_only,
    struct mime_part **root_r)
{
	unsigned char ad[STORE_AD_MAX];
	sqlite3_stmt *s;
	size_t adlen, len;
	char *pt = NULL;
	int rc, none;

	rc = store_query_row(st, SQL_MIME, content,
	    "read the message structure", &s);
	if (rc != 0)
		return store_enoent(st, rc, CONTENT_GONE);
	none = sqlite3_column_type(s, 0) == SQLITE_NULL;
	adlen = store_mime_ad(ad, content);
	rc = none ? 0 : store_unseal_new(st->keys, ad, adlen,
	    sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), &pt,
	    &len);
	sqlite3_reset(s);
	if (none)
		return mime_reparse(st, content, root_r);
	if (rc != 0 || mime_unpack(st, pt, len, root_only, root_r) != 0) {
		free(pt);
		return store_err(st, STORE_ECORRUPT, "the cached structure of "
		    "content %lld does not decrypt or decode: the store is "
		    "damaged; run 'mailvault check'", (long long)content);
	}
	free(pt);
	return 0;
}

int
store_content_mime(struct store *st, int64_t content,
    struct mime_part **root_r)
{
	return content_mime(st, content, 0, root_r);
}

int
store_content_envelope(struct store *st, int64_t content,
    struct mime_part **root_r)
{
	return content_mime(st, content, 1, root_r);
}
