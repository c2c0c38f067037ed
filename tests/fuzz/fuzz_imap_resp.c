/*
 * libFuzzer target for the IMAP response parser (lib/imap_resp, and the
 * lexer under it) and the IMAP date-time conversions (lib/date).
 *
 * The first 8 bytes of an input seed the limits and the cuts, the rest is
 * what a server sent. The parser runs twice, once fed whole and once cut
 * at random points; both runs must give the same digest of events (body
 * pieces differ with the cuts, their bytes do not) and every event must
 * keep the header's promises: strings NUL-terminated, lists as long as
 * they say, body pieces adding up to the announced size. A parsed date
 * must format and parse back to the same instant.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/date.h"
#include "lib/imap_resp.h"
#include "tests/fuzz/fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
fnv_str(uint64_t h, const char *s)
{
	assert(s != NULL);
	return fuzz_fnv(h, s, strlen(s) + 1);
}

struct run {
	uint64_t	 digest;
	uint64_t	 body_got;
	int		 in_body;
};

static void
check_date(const struct imap_resp_fetch *f)
{
	char out[DATE_IMAP_LEN];
	int64_t t;
	int32_t tz;

	/* whatever the parser reads, the form can write */
	assert(date_imap_format(f->internaldate, f->tzoff, out) == 0);
	assert(date_imap_parse(out, strlen(out), &t, &tz) == 0);
	assert(t == f->internaldate && tz == f->tzoff);
}

static void
event(struct run *r, const struct imap_resp *ev)
{
	size_t i;

	if (ev->kind == IMAP_RESP_FETCH_BODY) {
		assert(ev->fetch.len <= ev->fetch.body_size);
		r->body_got += ev->fetch.len;
		assert(r->body_got + ev->fetch.body_left ==
		    ev->fetch.body_size);
		r->digest = fuzz_fnv(r->digest, ev->fetch.data, ev->fetch.len);
		if (ev->fetch.body_left == 0)
			r->body_got = 0;
		return;
	}
	assert(r->body_got == 0);
	r->digest = fuzz_fnv(r->digest, &ev->kind, sizeof(ev->kind));
	r->digest = fnv_str(r->digest, ev->text);
	r->digest = fnv_str(r->digest, ev->code_name);
	r->digest = fnv_str(r->digest, ev->code_arg);
	r->digest = fnv_str(r->digest, ev->code_set);
	r->digest = fnv_str(r->digest, ev->code_set2);
	r->digest = fnv_str(r->digest, ev->mailbox);
	r->digest = fnv_str(r->digest, ev->set);
	r->digest = fnv_str(r->digest, ev->es.all);
	if (ev->tag != NULL)
		r->digest = fnv_str(r->digest, ev->tag);
	for (i = 0; i < ev->nitems; i++)
		r->digest = fnv_str(r->digest, ev->items[i]);
	assert(ev->nnums == 0 || ev->nums != NULL);
	r->digest = fuzz_fnv(r->digest, ev->nums ? (const void *)ev->nums : "",
	    ev->nnums * sizeof(uint32_t));
	r->digest = fuzz_fnv(r->digest, &ev->num, sizeof(ev->num));
	r->digest = fuzz_fnv(r->digest, &ev->code_num, sizeof(ev->code_num));
	r->digest = fuzz_fnv(r->digest, &ev->fetch.have, sizeof(ev->fetch.have));
	r->digest = fuzz_fnv(r->digest, &ev->fetch.uid, sizeof(ev->fetch.uid));
	r->digest = fuzz_fnv(r->digest, &ev->st, sizeof(ev->st));
	if (ev->kind == IMAP_RESP_FETCH) {
		if (ev->fetch.have & IMAP_FETCH_UID)
			assert(ev->fetch.uid > 0);
		if (ev->fetch.have & IMAP_FETCH_DATE)
			check_date(&ev->fetch);
	}
}

static uint64_t
parse_run(const uint8_t *p, size_t n, uint64_t seed, int cut)
{
	struct imap_resp_limits lim;
	struct imap_resp_parser *pr;
	struct imap_resp ev;
	struct run r;
	uint64_t h = fuzz_mix(seed);
	size_t pos = 0, len;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.digest = FUZZ_FNV_INIT;
	lim.max_line = 64 + (size_t)(h % 4096);
	lim.max_literal = (h >> 16) % 100000;
	pr = imap_resp_new(&lim);
	while (pos < n && rc >= 0) {
		len = fuzz_piece(&h, n - pos, cut, 300);
		assert(imap_resp_feed(pr, p + pos, len) == 0);
		pos += len;
		while ((rc = imap_resp_next(pr, &ev)) == 1)
			event(&r, &ev);
	}
	if (rc < 0) {
		assert(imap_resp_error(pr)[0] != '\0');
		assert(imap_resp_next(pr, &ev) == -1);
		r.digest = fuzz_fnv(r.digest, "!", 1);
		r.digest = fnv_str(r.digest, imap_resp_error(pr));
	}
	imap_resp_free(&pr);
	assert(pr == NULL);
	return r.digest;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 0;
	char date[64];
	int64_t t;
	int32_t tz;

	if (fuzz_seed(&data, &size, &seed) != 0)
		return 0;
	assert(parse_run(data, size, seed, 0) == parse_run(data, size, seed,
	    1));
	if (size < sizeof(date)) {
		memcpy(date, data, size);
		date[size] = '\0';
		if (date_imap_parse(date, size, &t, &tz) == 0) {
			char out[DATE_IMAP_LEN];
			int64_t t2;
			int32_t tz2;

			assert(date_imap_format(t, tz, out) == 0);
			assert(date_imap_parse(out, strlen(out), &t2, &tz2) == 0);
			assert(t2 == t && tz2 == tz);
		}
	}
	return 0;
}
