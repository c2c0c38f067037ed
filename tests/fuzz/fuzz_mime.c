/*
 * fuzz_mime: libFuzzer target for the MIME parser and its serialization.
 *
 * Each input is parsed whole and split in two (the split point taken from
 * the first byte); both trees must serialize to the same bytes, the
 * serialization must read back to a tree that serializes the same again,
 * every offset must lie inside the input, and the input read as a
 * serialization must be rejected or accepted without a crash.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mime.h"
#include "lib/rfc822.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_tree(const struct mime_part *p, uint64_t start, uint64_t end)
{
	size_t i;

	assert(p->hdr_off >= start);
	assert(p->hdr_off + p->hdr_len == p->body_off);
	assert(p->body_off + p->body_len <= end);
	assert(p->type != NULL && p->subtype != NULL);
	for (i = 0; i < p->nchildren; i++)
		check_tree(&p->children[i], p->body_off, p->body_off + p->body_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_part *whole, *split, *back = NULL;
	struct mime_parser *p;
	struct rfc822_addr *addrs;
	struct buf a, b, c;
	size_t cut = size > 0 ? (size_t)data[0] * size / 256 : 0, n;

	whole = mime_parse(data, size);
	check_tree(whole, 0, size);
	assert(whole->body_off + whole->body_len == size);

	p = mime_parser_new();
	mime_parser_feed(p, data, cut);
	mime_parser_feed(p, data + cut, size - cut);
	split = mime_parser_finish(p);
	mime_parser_free(&p);

	buf_init(&a, 256 << 20);
	buf_init(&b, 256 << 20);
	buf_init(&c, 256 << 20);
	assert(mime_serialize(whole, &a) == 0);
	assert(mime_serialize(split, &b) == 0);
	assert(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	assert(mime_deserialize(a.data, a.len, &back) == 0);
	assert(mime_serialize(back, &c) == 0);
	assert(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
	mime_part_free(&back);

	/* the raw input as a (mostly invalid) serialization */
	if (mime_deserialize(data, size, &back) == 0)
		mime_part_free(&back);

	/* the header decoders on the same bytes */
	buf_reset(&c);
	(void)mime_decode_header((const char *)data, size, &c);
	n = rfc822_addr_parse((const char *)data, size, &addrs);
	rfc822_addr_free(&addrs, n);

	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	mime_part_free(&whole);
	mime_part_free(&split);
	return 0;
}
