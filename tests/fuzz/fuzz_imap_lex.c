/*
 * libFuzzer target for the IMAP lexical layer: lib/imap_lex, lib/imap_seqset
 * and lib/utf7.
 *
 * The first 8 bytes of an input seed the choices, the rest is the data.
 * The lexer runs twice over the data, once fed whole and once cut at
 * random points, with the same calls (next, astring, text, code text, a
 * skip_line now and then) and the same literal decisions chosen by token
 * number; both runs must give the same digest of tokens, and every token
 * must keep the header's promises (bounds, NUL termination, literal sizes).
 * Then the data is parsed as a sequence set (formatting it back must parse
 * to the same ranges) and converted both ways by mUTF-7 (round trips must
 * give back what went in).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/imap_lex.h"
#include "lib/imap_seqset.h"
#include "lib/utf7.h"
#include "lib/util.h"
#include "tests/fuzz/fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct imap_lex	*lx;
	struct imap_lex_limits lim;
	uint64_t	 seed;
	uint64_t	 calls;		/* calls that gave a token or an error */
	uint64_t	 skipped;	/* 1 + the call that skipped a line */
	uint64_t	 digest;
	uint64_t	 lit_size, lit_got;
	size_t		 collect_max;
	int		 streaming, collecting;
};

static void
check_token(struct run *r, const struct imap_tok *tok)
{
	assert(tok->s != NULL);
	if (tok->kind != IMAP_TOK_LITERAL_DATA)
		assert(tok->s[tok->len] == '\0');
	switch (tok->kind) {
	case IMAP_TOK_ATOM:
		assert(tok->len >= 1);
		/* fall through */
	case IMAP_TOK_QUOTED:
	case IMAP_TOK_TEXT:
		assert(tok->len <= r->lim.max_line);
		assert(memchr(tok->s, '\r', tok->len) == NULL);
		assert(memchr(tok->s, '\n', tok->len) == NULL);
		break;
	case IMAP_TOK_LITERAL_START:
		assert(tok->lit_size <= r->lim.max_literal);
		break;
	case IMAP_TOK_LITERAL_DATA:
		assert(r->streaming);
		r->lit_got += tok->len;
		assert(r->lit_got + tok->lit_left == r->lit_size);
		if (tok->lit_left == 0)
			r->streaming = 0;
		break;
	case IMAP_TOK_LITERAL:
		assert(r->collecting);
		assert(tok->len == r->lit_size && tok->len <= r->collect_max);
		r->collecting = 0;
		break;
	default:
		assert(tok->len >= 1);
	}
}

static void
decide(struct run *r, const struct imap_tok *tok)
{
	uint64_t h = fuzz_mix(r->seed ^ (r->calls * 0x9e3779b97f4a7c15ULL) ^ 1);

	r->lit_size = tok->lit_size;
	r->lit_got = 0;
	switch (h % 4) {
	case 0:
		r->streaming = 1;
		imap_lex_literal_stream(r->lx);
		break;
	case 1:
		r->collect_max = (size_t)(h >> 8) % 300;
		if (imap_lex_literal_collect(r->lx, r->collect_max) == 0) {
			r->collecting = 1;
			break;
		}
		imap_lex_skip_line(r->lx);
		break;
	case 2:
		imap_lex_literal_skip(r->lx);
		break;
	default:
		imap_lex_skip_line(r->lx);
	}
}

/* Pull tokens until the lexer wants input. */
static void
drain(struct run *r)
{
	struct imap_tok tok;
	int rc;

	for (;;) {
		uint64_t h = fuzz_mix(r->seed ^ (r->calls * 0x9e3779b97f4a7c15ULL));
		unsigned op = r->streaming || r->collecting ? 0 : h % 16;

		/* bounded: a caller asking for text forever is answered forever */
		if (r->calls > 100000)
			return;
		/* once per call, not again after feeding more */
		if (op == 15 && r->skipped != r->calls + 1) {
			r->skipped = r->calls + 1;
			imap_lex_skip_line(r->lx);
		}
		if (op == 12)
			rc = imap_lex_astring(r->lx, &tok);
		else if (op == 13)
			rc = imap_lex_text(r->lx, &tok);
		else if (op == 14)
			rc = imap_lex_code_text(r->lx, &tok);
		else
			rc = imap_lex_next(r->lx, &tok);
		if (rc == 0) {
			assert(imap_lex_pending(r->lx) == 0);
			return;
		}
		if (rc < 0) {
			assert(imap_lex_errcode(r->lx) != IMAP_LEX_EOK);
			assert(imap_lex_error(r->lx)[0] != '\0');
			r->digest = fuzz_fnv(r->digest, "!", 1);
			r->digest = fuzz_fnv(r->digest, imap_lex_error(r->lx),
			    strlen(imap_lex_error(r->lx)));
			r->streaming = r->collecting = 0;
			r->calls++;
			imap_lex_skip_line(r->lx);
			assert(imap_lex_errcode(r->lx) == IMAP_LEX_EOK);
			continue;
		}
		check_token(r, &tok);
		/* pieces differ with the cuts; their bytes do not */
		if (tok.kind != IMAP_TOK_LITERAL_DATA) {
			r->digest = fuzz_fnv(r->digest, &tok.kind, sizeof(tok.kind));
			r->digest = fuzz_fnv(r->digest, &tok.sp, sizeof(tok.sp));
			r->calls++;
		}
		r->digest = fuzz_fnv(r->digest, tok.s, tok.len);
		if (tok.kind == IMAP_TOK_LITERAL_START)
			decide(r, &tok);
	}
}

static uint64_t
lex_run(const uint8_t *p, size_t n, uint64_t seed, int cut)
{
	struct run r;
	uint64_t h = fuzz_mix(seed);
	size_t pos = 0;

	memset(&r, 0, sizeof(r));
	r.seed = seed;
	r.digest = FUZZ_FNV_INIT;
	r.lim.max_line = 64 + (size_t)(h % 2048);
	r.lim.max_literal = (h >> 16) % 5000;
	r.lim.max_depth = 1 + (unsigned)((h >> 32) % 20);
	r.lx = imap_lex_new(&r.lim);
	while (pos < n) {
		size_t len = fuzz_piece(&h, n - pos, cut, 200);

		assert(imap_lex_feed(r.lx, p + pos, len) == 0);
		pos += len;
		drain(&r);
	}
	drain(&r);
	imap_lex_free(&r.lx);
	return r.digest;
}

static void
fuzz_seqset(const uint8_t *p, size_t n, uint64_t seed)
{
	char *s = xstrndup((const char *)p, n);
	struct imap_seqset *set = NULL, *again = NULL;
	uint32_t lo, hi, lo2, hi2, prev_hi = 0;
	struct buf out;
	size_t i;
	int rc;

	rc = imap_seqset_parse(s, (uint32_t)seed, &set, NULL, 0);
	free(s);
	if (rc != 0) {
		assert(set == NULL);
		return;
	}
	for (i = 0; i < imap_seqset_nranges(set); i++) {
		imap_seqset_range(set, i, &lo, &hi);
		assert(lo >= 1 && lo <= hi);
		assert(i == 0 || (uint64_t)lo > (uint64_t)prev_hi + 1);
		assert(imap_seqset_contains(set, lo));
		assert(imap_seqset_contains(set, hi));
		assert(!imap_seqset_contains(set, lo - 1));
		assert(hi == UINT32_MAX || !imap_seqset_contains(set, hi + 1));
		prev_hi = hi;
	}
	buf_init(&out, 16 * 1024 * 1024);
	assert(imap_seqset_format_set(set, &out) == 0);
	if (out.len > 0) {
		assert(imap_seqset_parse(out.data, 0, &again, NULL, 0) == 0);
		assert(imap_seqset_nranges(again) == imap_seqset_nranges(set));
		for (i = 0; i < imap_seqset_nranges(set); i++) {
			imap_seqset_range(set, i, &lo, &hi);
			imap_seqset_range(again, i, &lo2, &hi2);
			assert(lo == lo2 && hi == hi2);
		}
		imap_seqset_free(&again);
	}
	buf_free(&out);
	imap_seqset_free(&set);
}

static void
fuzz_utf7(const uint8_t *p, size_t n)
{
	const char *s = (const char *)p;
	struct buf a, b, c;

	buf_init(&a, 4 * n + 16);
	buf_init(&b, 4 * n + 16);
	buf_init(&c, 4 * n + 16);
	/* decode, then encode and decode again: the same UTF-8 */
	if (utf7_decode(s, n, &a) == 0) {
		assert(utf7_encode(a.data ? a.data : "", a.len, &b) == 0);
		assert(b.len <= n);	/* canonical is never longer */
		assert(utf7_decode(b.data ? b.data : "", b.len, &c) == 0);
		assert(c.len == a.len && memcmp(a.data ? a.data : "",
		    c.data ? c.data : "", a.len) == 0);
	} else
		assert(a.len == 0);
	buf_reset(&a);
	buf_reset(&b);
	/* encode, then decode: what went in */
	if (utf7_encode(s, n, &a) == 0) {
		assert(utf7_decode(a.data ? a.data : "", a.len, &b) == 0);
		assert(b.len == n && memcmp(b.data ? b.data : "", s, n) == 0);
	} else
		assert(a.len == 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 0;

	if (fuzz_seed(&data, &size, &seed) != 0)
		return 0;
	assert(lex_run(data, size, seed, 0) == lex_run(data, size, seed, 1));
	fuzz_seqset(data, size, seed);
	fuzz_utf7(data, size);
	return 0;
}
