/*
 * libFuzzer target for the POP3 response parser (lib/pop3_resp).
 *
 * The first 8 bytes of an input choose the line limit, the cuts and what
 * responses are expected (greeting, single line, listing, message, SASL),
 * the rest is what a server sent. The parser runs twice, fed whole and
 * cut at random points; both runs must give the same digest of events
 * (message pieces differ with the cuts, their bytes do not), and events
 * must keep the header's promises: non-empty pieces, NUL-terminated
 * strings, lines within the limit, the queue shrinking by one per
 * response.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pop3_resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t
parse_run(const uint8_t *p, size_t n, uint64_t seed, int cut)
{
	uint64_t h = mix(seed), digest = 0xcbf29ce484222325ULL;
	size_t max_line = 64 + (size_t)(h % 1000), pos = 0, len, i, pending;
	struct pop3_resp_parser *pr = pop3_resp_new(max_line);
	struct pop3_resp ev;
	int rc = 0;

	for (i = 0; i < 20; i++)
		assert(pop3_resp_expect(pr, (enum pop3_expect)((h >> (3 * i))
		    % 5)) == 0);
	while (pos < n && rc >= 0) {
		len = n - pos;
		if (cut) {
			h = mix(h);
			len = 1 + (size_t)(h % (h & 1 ? 4 : 300));
			if (len > n - pos)
				len = n - pos;
		}
		assert(pop3_resp_feed(pr, p + pos, len) == 0);
		pos += len;
		for (;;) {
			pending = pop3_resp_pending(pr);
			rc = pop3_resp_next(pr, &ev);
			if (rc != 1)
				break;
			if (ev.kind == POP3_RESP_DATA) {
				assert(ev.len > 0);
				digest = fnv(digest, ev.data, ev.len);
				continue;
			}
			digest = fnv(digest, &ev.kind, sizeof(ev.kind));
			assert(ev.text != NULL && ev.code != NULL);
			assert(strlen(ev.text) <= max_line);
			digest = fnv(digest, ev.text, strlen(ev.text) + 1);
			digest = fnv(digest, ev.code, strlen(ev.code) + 1);
			if (ev.apop != NULL)
				digest = fnv(digest, ev.apop,
				    strlen(ev.apop) + 1);
			if (ev.kind == POP3_RESP_LINE) {
				digest = fnv(digest, ev.arg,
				    strlen(ev.arg) + 1);
				digest = fnv(digest, &ev.msg, sizeof(ev.msg));
			}
			if (ev.kind == POP3_RESP_ERR ||
			    ev.kind == POP3_RESP_END ||
			    (ev.kind == POP3_RESP_OK && !ev.multi))
				assert(pop3_resp_pending(pr) == pending - 1);
			else
				assert(pop3_resp_pending(pr) == pending);
		}
	}
	if (rc < 0) {
		assert(pop3_resp_next(pr, &ev) == -1);
		digest = fnv(digest, "!", 1);
		digest = fnv(digest, pop3_resp_error(pr),
		    strlen(pop3_resp_error(pr)));
	}
	pop3_resp_free(&pr);
	assert(pr == NULL);
	return digest;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = 0;

	if (size < 8)
		return 0;
	memcpy(&seed, data, 8);
	data += 8;
	size -= 8;
	assert(parse_run(data, size, seed, 0) == parse_run(data, size, seed,
	    1));
	return 0;
}
