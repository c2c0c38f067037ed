/*
 * fuzz_mbox: libFuzzer target for the mbox reader and writer (lib/mbox.c).
 *
 * The first byte picks the format and where the input is cut (into one to
 * three pieces). Invariants checked: events come as BEGIN DATA* END; DATA
 * pieces are 1..MBOX_DATA_MAX bytes; every LF in a message has a CR before
 * it; cutting the input does not change what is read; and exporting what
 * was imported gives an mbox that reads back as the same number of
 * messages and exports to the same bytes again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mbox.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct run {
	struct buf	 log;		/* everything read, with markers */
	struct buf	 export;	/* the messages written back as mboxrd */
	unsigned long	 nmsg;
	int		 rc;
};

static void
events(struct mbox_reader *r, struct mbox_writer *w, struct run *run,
    int *open, int *prev_cr)
{
	struct mbox_event ev;
	int rc;

	while ((rc = mbox_read_next(r, &ev)) == 1) {
		switch (ev.type) {
		case MBOX_MSG_BEGIN:
			CHECK(!*open);
			CHECK(ev.sender != NULL);
			*open = 1;
			*prev_cr = 0;
			run->nmsg++;
			CHECK(buf_printf(&run->log, "B[%s %lld]", ev.sender,
			    (long long)ev.date) == 0);
			CHECK(mbox_writer_begin(w, ev.sender, ev.date,
			    &run->export) == 0);
			break;
		case MBOX_MSG_DATA:
			CHECK(*open);
			CHECK(ev.len > 0 && ev.len <= MBOX_DATA_MAX);
			for (size_t i = 0; i < ev.len; i++) {
				if (ev.data[i] == '\n')
					CHECK(*prev_cr);
				*prev_cr = ev.data[i] == '\r';
			}
			CHECK(buf_add(&run->log, ev.data, ev.len) == 0);
			CHECK(mbox_writer_write(w, ev.data, ev.len,
			    &run->export) == 0);
			break;
		case MBOX_MSG_END:
			CHECK(*open);
			*open = 0;
			CHECK(buf_adds(&run->log, "E") == 0);
			CHECK(mbox_writer_end(w, &run->export) == 0);
			break;
		default:
			abort();
		}
	}
	if (rc < 0)
		run->rc = -1;
}

/* Read in pieces cut at cuts[0..ncuts); fills run. */
static void
read_pieces(const uint8_t *p, size_t len, const size_t *cuts, size_t ncuts,
    enum mbox_format fmt, struct run *run)
{
	struct mbox_reader *r = mbox_reader_new(fmt);
	struct mbox_writer *w = mbox_writer_new();
	size_t at = 0;
	int open = 0, prev_cr = 0;

	if (p == NULL)
		p = (const uint8_t *)"";

	buf_init(&run->log, 8 * len + 4096);
	buf_init(&run->export, 8 * len + 4096);
	run->nmsg = 0;
	run->rc = 0;
	for (size_t i = 0; i <= ncuts && run->rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		mbox_reader_feed(r, p + at, end - at);
		events(r, w, run, &open, &prev_cr);
		at = end;
	}
	if (run->rc == 0) {
		mbox_reader_finish(r);
		events(r, w, run, &open, &prev_cr);
	}
	if (run->rc == 0)
		CHECK(!open);
	mbox_reader_free(&r);
	mbox_writer_free(&w);
}

static void
run_free(struct run *run)
{
	buf_free(&run->log);
	buf_free(&run->export);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, cut, again;
	enum mbox_format fmt;
	size_t cuts[2], ncuts;

	if (size < 3)
		return 0;
	fmt = (data[0] & 1) ? MBOX_MBOXO : MBOX_MBOXRD;
	ncuts = (data[0] >> 1) % 3;
	cuts[0] = data[1] % (size - 2);
	cuts[1] = cuts[0] + data[2] % (size - 2 - cuts[0] + 1);
	data += 3;
	size -= 3;
	if (cuts[1] > size)
		cuts[1] = size;
	if (cuts[0] > cuts[1])
		cuts[0] = cuts[1];

	read_pieces(data, size, NULL, 0, fmt, &whole);
	read_pieces(data, size, cuts, ncuts, fmt, &cut);
	CHECK(whole.rc == cut.rc);
	CHECK(whole.nmsg == cut.nmsg);
	CHECK(whole.log.len == cut.log.len);
	CHECK(whole.log.len == 0 ||
	    memcmp(whole.log.data, cut.log.data, whole.log.len) == 0);

	if (whole.rc == 0) {
		/* What we export reads back as the same messages and
		 * exports to the same bytes (and is always mboxrd). */
		read_pieces((const uint8_t *)whole.export.data,
		    whole.export.len, NULL, 0, MBOX_MBOXRD, &again);
		CHECK(again.rc == 0);
		CHECK(again.nmsg == whole.nmsg);
		CHECK(again.export.len == whole.export.len);
		CHECK(whole.export.len == 0 || memcmp(again.export.data,
		    whole.export.data, whole.export.len) == 0);
		run_free(&again);
	} else {
		CHECK(whole.nmsg == 0);
	}
	run_free(&whole);
	run_free(&cut);
	return 0;
}
