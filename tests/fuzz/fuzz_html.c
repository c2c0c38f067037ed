/*
 * fuzz_html: libFuzzer target for the HTML-to-text reduction `mailvault
 * show` runs on a message's HTML part, which is whatever a sender wrote.
 *
 * Every input must give text without a crash or a read past its end; a
 * limit that is hit leaves at most the limit's bytes, and they are what
 * the text without the limit begins with.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/html.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf big, small;
	int rc, rc2;

	buf_init(&big, 1 << 24);
	buf_init(&small, 64);
	rc = html_to_text((const char *)data, size, &big);
	rc2 = html_to_text((const char *)data, size, &small);
	assert(small.len <= 64);
	/* The text under a limit is what the text without it begins with. */
	if (rc == 0 && small.len > 0)
		assert(small.len <= big.len &&
		    memcmp(small.data, big.data, small.len) == 0);
	if (rc == 0 && rc2 == 0)
		assert(small.len == big.len);
	buf_free(&big);
	buf_free(&small);
	return 0;
}
