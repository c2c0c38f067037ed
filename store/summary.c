/*
 * summary: each content's summary record (lib/msg_summary.h: ENVELOPE,
 * SEARCH texts, Date), kept packed in blocks so IMAP metadata commands
 * read one row per 128 messages instead of a MIME tree per message.
 *
 * Table summary(block, data): block = content id >> STORE_SUMMARY_SHIFT;
 * data is sealed (AD "summary\0data\0<block>") zstd of the block's
 * plaintext:
 *     version byte (BLOCK_VERSION)
 *     bitmap, STORE_SUMMARY_SLOTS bits: slot (content id & 127) present
 *     per present slot, ascending: record length, uint16 little-endian
 *     the records, concatenated in slot order
 *
 * Writing: content.c queues the record of each NEW content on the handle
 * (store_summary_queue); store.c flushes the queue inside the write
 * transaction just before it commits, one read-modify-write per touched
 * block (an import batch of 500 messages rewrites about four blocks), and
 * drops it on rollback. Content is immutable and its ids are never
 * reused once committed, so a record never changes: a block only gains
 * records (normally at its tail; a large streamed append, whose id was
 * taken early, may land in an older block). Records of deleted contents
 * stay until their block is rewritten for a new record, and then too (a
 * block is not cleaned): they are never reached, because a lookup first
 * checks that the content is still referenced.
 *
 * Reading: store_content_summary() keeps the last STORE_SUMMARY_CACHE
 * decoded blocks on the handle. Inside a read snapshot (store_read_begin,
 * generation snap_gen) it checks once per block which of its contents
 * some message still points at (one index range scan), and trusts a
 * cached block's absent slot only if the block was read in this same
 * snapshot; otherwise it reads the block again, so records added by
 * another connection are found. Outside a snapshot every call is its own
 * generation.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "lib/buf.h"
#include "lib/msg_summary.h"
#include "lib/util.h"

#define BLOCK_VERSION	1
#define BITMAP_BYTES	(STORE_SUMMARY_SLOTS / 8)
#define BLOCK_HEAD	(1 + BITMAP_BYTES)
/* Plaintext of a full block: head, lengths, records. */
#define BLOCK_MAX	(BLOCK_HEAD + STORE_SUMMARY_SLOTS * (2 + MSG_SUMMARY_MAX))
#define ZSTD_LEVEL	3

_Static_assert(MSG_SUMMARY_MAX <= UINT16_MAX, "record lengths are uint16");

/* A decoded block: where each slot's record lies in data (len 0: none). */
struct store_sumblock {
	int64_t		 block;		/* -1: this cache entry is empty */
	uint64_t	 gen;		/* snapshot the data was read in */
	uint64_t	 live_gen;	/* snapshot live[] is of; 0: none */
	uint64_t	 used;		/* LRU clock */
	unsigned char	 live[BITMAP_BYTES];
	uint32_t	 off[STORE_SUMMARY_SLOTS];
	uint16_t	 len[STORE_SUMMARY_SLOTS];
	char		*data;		/* owned: the decompressed plaintext */
};

/* A record waiting for its transaction to commit. */
struct store_sumrec {
	int64_t		 content;
	unsigned char	*rec;		/* owned */
	size_t		 len;
};

static const char SQL_GET[] = "SELECT data FROM summary WHERE block = ?";
static const char SQL_PUT[] =
    "INSERT OR REPLACE INTO summary (data, block) VALUES (?, ?)";
/* Contents of one block that a message still points at (the
 * message_content index, covering). */
static const char SQL_LIVE[] =
    "SELECT content FROM message WHERE content >= ? AND content < ?";

size_t
store_summary_ad(unsigned char *ad, int64_t block)
{
	return store_ad(ad, "summary", "data", "%lld", (long long)block);
}

static int
bit_get(const unsigned char *map, unsigned slot)
{
	return (map[slot / 8] >> (slot % 8)) & 1;
}

static void
bit_set(unsigned char *map, unsigned slot)
{
	map[slot / 8] |= (unsigned char)(1u << (slot % 8));
}

static void
block_clear(struct store_sumblock *b)
{
	free(b->data);
	b->data = NULL;
	memset(b->len, 0, sizeof(b->len));
	b->block = -1;
	b->gen = b->live_gen = 0;
}

/* ---- decoding ------------------------------------------------------ */

/* Parse the plaintext's index into b (which takes pt). 0 or -1. */
static int
index_parse(struct store_sumblock *b, char *pt, size_t n)
{
	const unsigned char *p = (const unsigned char *)pt;
	size_t pos = BLOCK_HEAD, off;
	unsigned slot;

	if (n < BLOCK_HEAD || p[0] != BLOCK_VERSION)
		return -1;
	for (slot = 0; slot < STORE_SUMMARY_SLOTS; slot++) {
		if (!bit_get(p + 1, slot))
			continue;
		if (n - pos < 2)
			return -1;
		b->len[slot] = (uint16_t)(p[pos] | p[pos + 1] << 8);
		pos += 2;
		if (b->len[slot] == 0)
			return -1;
	}
	off = pos;
	for (slot = 0; slot < STORE_SUMMARY_SLOTS; slot++) {
		if (b->len[slot] == 0)
			continue;
		if (n - off < b->len[slot])
			return -1;
		b->off[slot] = (uint32_t)off;
		off += b->len[slot];
	}
	if (off != n)
		return -1;
	b->data = pt;
	return 0;
}

/* Open, decompress and index a sealed block into b (cleared first). */
static int
block_decode(struct store *st, int64_t block, const void *sealed,
    size_t len, struct store_sumblock *b)
{
	unsigned char ad[STORE_AD_MAX], *z = NULL;
	unsigned long long want;
	size_t adlen, zlen, got;
	char *pt = NULL;

	block_clear(b);
	if (len < STORE_SEAL_OVERHEAD || store_zstd_ready(st) != 0)
		goto bad;
	zlen = len - STORE_SEAL_OVERHEAD;
	z = xmalloc(zlen + 1);
	adlen = store_summary_ad(ad, block);
	if (store_unseal(st->keys, ad, adlen, sealed, len, z) != 0)
		goto bad;
	want = ZSTD_getFrameContentSize(z, zlen);
	if (want == ZSTD_CONTENTSIZE_ERROR || want == ZSTD_CONTENTSIZE_UNKNOWN ||
	    want > BLOCK_MAX)
		goto bad;
	pt = xmalloc((size_t)want + 1);
	got = ZSTD_decompressDCtx(st->zd, pt, (size_t)want, z, zlen);
	if (ZSTD_isError(got) || got != want || index_parse(b, pt, got) != 0)
		goto bad;
	free(z);
	b->block = block;
	return 0;
bad:
	free(z);
	free(pt);
	block_clear(b);
	return store_err(st, STORE_ECORRUPT, "the summary block %lld does not "
	    "decrypt or decode: the store is damaged; run 'mailvault check'",
	    (long long)block);
}

/* Read block from the table into b: 0 (an absent row gives an empty
 * block), or a negative code. */
static int
block_read(struct store *st, int64_t block, struct store_sumblock *b)
{
	sqlite3_stmt *s = store_stmt(st, SQL_GET);
	int rc;

	block_clear(b);
	if (s == NULL)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, block);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = block_decode(st, block, sqlite3_column_blob(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0), b);
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = store_dberr(st, rc, "read the message summaries");
	sqlite3_reset(s);
	if (rc == 0)
		b->block = block;
	return rc;
}

int
store_summary_check(struct store *st, int64_t block, const void *sealed,
    size_t len)
{
	struct store_sumblock b;
	int rc;

	memset(&b, 0, sizeof(b));
	rc = block_decode(st, block, sealed, len, &b);
	block_clear(&b);
	return rc;
}

/* ---- reading ------------------------------------------------------- */

/* The snapshot generation reads are in: one per read snapshot the handle
 * owns; outside one (or inside a write), a new one every call. */
static uint64_t
current_gen(struct store *st)
{
	if (!st->read_owned || st->depth > 0 || st->user_txn)
		return ++st->snap_gen;
	return st->snap_gen;
}

/* Which contents of b's block are still referenced. */
static int
live_read(struct store *st, struct store_sumblock *b)
{
	sqlite3_stmt *s = store_stmt(st, SQL_LIVE);
	int64_t first = b->block << STORE_SUMMARY_SHIFT, c;
	int rc;

	if (s == NULL)
		return STORE_ERR;
	memset(b->live, 0, sizeof(b->live));
	sqlite3_bind_int64(s, 1, first);
	sqlite3_bind_int64(s, 2, first + STORE_SUMMARY_SLOTS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		c = sqlite3_column_int64(s, 0);
		if (c >= first && c < first + STORE_SUMMARY_SLOTS)
			bit_set(b->live, (unsigned)(c - first));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		b->live_gen = 0;
		return store_dberr(st, rc, "read the message summaries");
	}
	return 0;
}

/* The cache entry of block, read if it is not there (evicting the least
 * recently used). NULL on failure, with the error set in *rc_r. */
static struct store_sumblock *
cache_get(struct store *st, int64_t block, uint64_t gen, int *rc_r)
{
	struct store_sumblock *b, *victim = NULL;
	size_t i;

	for (i = 0; i < STORE_SUMMARY_CACHE; i++) {
		if (st->sumcache[i] == NULL) {
			st->sumcache[i] = xcalloc(1, sizeof(*b));
			st->sumcache[i]->block = -1;
		}
		b = st->sumcache[i];
		if (b->block == block)
			goto found;
		if (victim == NULL || b->used < victim->used)
			victim = b;
	}
	b = victim;
	if ((*rc_r = block_read(st, block, b)) != 0)
		return NULL;
	b->gen = gen;
found:
	b->used = ++st->sum_clock;
	return b;
}

int
store_content_summary(struct store *st, int64_t content,
    struct msg_summary *sum_r)
{
	int64_t block = content >> STORE_SUMMARY_SHIFT;
	unsigned slot = (unsigned)(content & (STORE_SUMMARY_SLOTS - 1));
	uint64_t gen = current_gen(st);
	struct store_sumblock *b;
	int rc = 0;

	if (content <= 0)
		return store_err(st, STORE_ENOENT, "there is no content %lld",
		    (long long)content);
	if ((b = cache_get(st, block, gen, &rc)) == NULL)
		return rc;
	if (b->live_gen != gen) {
		if ((rc = live_read(st, b)) != 0)
			return rc;
		b->live_gen = gen;
	}
	if (!bit_get(b->live, slot))
		return store_err(st, STORE_ENOENT, "the message content is "
		    "gone (the message was expunged)");
	if (b->len[slot] == 0 && b->gen != gen) {
		/* added since we read the block, perhaps: read it again */
		if ((rc = block_read(st, block, b)) != 0)
			return rc;
		b->gen = gen;
		b->live_gen = gen;	/* live[] was read in this snapshot */
	}
	if (b->len[slot] == 0 ||
	    msg_summary_parse(b->data + b->off[slot], b->len[slot], sum_r) != 0)
		return 1;	/* none, or of another format version */
	return 0;
}

/* ---- writing ------------------------------------------------------- */

int
store_summary_queue(struct store *st, int64_t content, const void *rec,
    size_t len)
{
	struct store_sumrec *q;

	if (len == 0 || len > MSG_SUMMARY_MAX)
		return 0;	/* no record: readers fall back */
	if (st->nsumq == st->sumq_cap) {
		st->sumq_cap = st->sumq_cap == 0 ? 64 : st->sumq_cap * 2;
		st->sumq = xreallocarray(st->sumq, st->sumq_cap, sizeof(*q));
	}
	q = &st->sumq[st->nsumq++];
	q->content = content;
	q->rec = xmalloc(len);
	memcpy(q->rec, rec, len);
	q->len = len;
	return 0;
}

void
store_summary_drop(struct store *st)
{
	size_t i;

	for (i = 0; i < st->nsumq; i++)
		free(st->sumq[i].rec);
	st->nsumq = 0;
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct store_sumrec *x = a, *y = b;

	return x->content < y->content ? -1 : x->content > y->content;
}

/* The plaintext of a block whose slot i holds rec[i] (len[i] bytes, 0:
 * none), appended to out. */
static int
block_build(const unsigned char *const *rec, const uint16_t *len,
    struct buf *out)
{
	unsigned char map[BITMAP_BYTES], l[2];
	unsigned slot;
	int rc = 0;

	memset(map, 0, sizeof(map));
	for (slot = 0; slot < STORE_SUMMARY_SLOTS; slot++)
		if (len[slot] != 0)
			bit_set(map, slot);
	rc |= buf_addc(out, BLOCK_VERSION);
	rc |= buf_add(out, map, sizeof(map));
	for (slot = 0; slot < STORE_SUMMARY_SLOTS; slot++) {
		if (len[slot] == 0)
			continue;
		l[0] = (unsigned char)(len[slot] & 0xff);
		l[1] = (unsigned char)(len[slot] >> 8);
		rc |= buf_add(out, l, 2);
	}
	for (slot = 0; slot < STORE_SUMMARY_SLOTS; slot++)
		if (len[slot] != 0)
			rc |= buf_add(out, rec[slot], len[slot]);
	return rc == 0 ? 0 : -1;
}

/* Compress, seal and save a block's plaintext. */
static int
block_write(struct store *st, int64_t block, const struct buf *pt)
{
	unsigned char ad[STORE_AD_MAX], *z;
	size_t adlen, bound = ZSTD_compressBound(pt->len), zlen;
	int rc;

	if ((rc = store_zstd_ready(st)) != 0)
		return rc;
	z = xmalloc(bound);
	zlen = ZSTD_compressCCtx(st->zc, z, bound, pt->data, pt->len,
	    ZSTD_LEVEL);
	if (ZSTD_isError(zlen)) {
		free(z);
		return store_err(st, STORE_ERR, "could not compress the "
		    "message summaries");
	}
	adlen = store_summary_ad(ad, block);
	rc = store_put_sealed(st, SQL_PUT, block, ad, adlen, z, zlen,
	    "save the message summaries");
	free(z);
	return rc;
}

/* Add q[0..n) (all of one block) to that block. */
static int
flush_block(struct store *st, int64_t block, const struct store_sumrec *q,
    size_t n)
{
	const unsigned char *rec[STORE_SUMMARY_SLOTS];
	uint16_t len[STORE_SUMMARY_SLOTS];
	struct store_sumblock old;
	struct buf pt;
	unsigned slot;
	size_t i;
	int rc;

	memset(&old, 0, sizeof(old));
	if ((rc = block_read(st, block, &old)) != 0)
		return rc;
	for (slot = 0; slot < STORE_SUMMARY_SLOTS; slot++) {
		len[slot] = old.len[slot];
		rec[slot] = len[slot] != 0 ?
		    (const unsigned char *)old.data + old.off[slot] : NULL;
	}
	for (i = 0; i < n; i++) {
		slot = (unsigned)(q[i].content & (STORE_SUMMARY_SLOTS - 1));
		rec[slot] = q[i].rec;
		len[slot] = (uint16_t)q[i].len;
	}
	buf_init(&pt, BLOCK_MAX);
	rc = block_build(rec, len, &pt);
	if (rc == 0)
		rc = block_write(st, block, &pt);
	else
		rc = store_err(st, STORE_ERR, "a summary block outgrew its "
		    "limit");
	buf_free(&pt);
	block_clear(&old);
	return rc;
}

/* Forget a cached block: it is being rewritten (and the write may yet be
 * rolled back). */
static void
cache_forget(struct store *st, int64_t block)
{
	size_t i;

	for (i = 0; i < STORE_SUMMARY_CACHE; i++)
		if (st->sumcache[i] != NULL && st->sumcache[i]->block == block)
			block_clear(st->sumcache[i]);
}

int
store_summary_flush(struct store *st)
{
	struct store_sumrec *q = st->sumq;
	size_t i, j;
	int64_t block;
	int rc = 0;

	if (st->nsumq == 0)
		return 0;
	qsort(q, st->nsumq, sizeof(*q), rec_cmp);
	for (i = 0; i < st->nsumq && rc == 0; i = j) {
		block = q[i].content >> STORE_SUMMARY_SHIFT;
		for (j = i + 1; j < st->nsumq &&
		    q[j].content >> STORE_SUMMARY_SHIFT == block; j++)
			;
		cache_forget(st, block);
		rc = flush_block(st, block, q + i, j - i);
	}
	store_summary_drop(st);
	return rc;
}

void
store_summary_free(struct store *st)
{
	size_t i;

	store_summary_drop(st);
	free(st->sumq);
	st->sumq = NULL;
	st->sumq_cap = 0;
	for (i = 0; i < STORE_SUMMARY_CACHE; i++) {
		if (st->sumcache[i] != NULL)
			block_clear(st->sumcache[i]);
		free(st->sumcache[i]);
		st->sumcache[i] = NULL;
	}
}
