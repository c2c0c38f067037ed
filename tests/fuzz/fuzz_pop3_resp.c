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
#include "tests/fuzz/fuzz_split.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t
parse_run(const uint8_t *p, size_t n, uint64_t seed, int cut)
{
	uint64_t h = fuzz_mix(seed), digest = FUZZ_FNV_INIT;
	size_t max_line = 64 + (size_t)(h % 1000), pos = 0, len, i, pending;
	struct pop3_resp_parser *pr = pop3_resp_new(max_line);
	struct pop3_resp ev;
	int rc = 0;

	for (i = 0; i < 20; i++)
		assert(pop3_resp_expect(pr, (enum pop3_expect)((h >> (3 * i))
		    % 5)) == 0);
	while (pos < n && rc >= 0) {
		len = fuzz_piece(&h, n - pos, cut, 300);
		assert(pop3_resp_feed(pr, p + pos, len) == 0);
		pos += len;
		for (;;) {
			pending = pop3_resp_pending(pr);
			rc = pop3_resp_next(pr, &ev);
			if (rc != 1)
				break;
			if (ev.kind == POP3_RESP_DATA) {
				assert(ev.len > 0);
				digest = fuzz_fnv(digest, ev.data, ev.len);
				continue;
			}
			digest = fuzz_fnv(digest, &ev.kind, sizeof(ev.kind));
			assert(ev.text != NULL && ev.code != NULL);
			assert(strlen(ev.text) <= max_line);
			digest = fuzz_fnv(digest, ev.text, strlen(ev.text) + 1);
			digest = fuzz_fnv(digest, ev.code, strlen(ev.code) + 1);
			if (ev.apop != NULL)
				digest = fuzz_fnv(digest, ev.apop,
				    strlen(ev.apop) + 1);
			if (ev.kind == POP3_RESP_LINE) {
				digest = fuzz_fnv(digest, ev.arg,
				    strlen(ev.arg) + 1);
				digest = fuzz_fnv(digest, &ev.msg, sizeof(ev.msg));
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
		digest = fuzz_fnv(digest, "!", 1);
		digest = fuzz_fnv(digest, pop3_resp_error(pr),
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

	if (fuzz_seed(&data, &size, &seed) != 0)
		return 0;
	assert(parse_run(data, size, seed, 0) == parse_run(data, size, seed,
	    1));
	return 0;
}
