/*
 * test_mbox: the mbox reader and writer (lib/mbox.c).
 *
 * The reader must give the same messages however the file is cut into
 * pieces, convert LF to CRLF without doubling a CR, undo exactly one level
 * of mboxrd escaping (none for mboxo), and only split messages at a
 * "From " line that follows an empty line. The writer must produce what
 * the reader reads back, so an export -> import -> export round trip of
 * the whole test corpus gives the same file.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mbox.h"
#include "lib/util.h"

#define MAXMSG 64

struct msg {
	char		*sender;
	time_t		 date;
	struct buf	 data;
};

struct result {
	struct msg	 m[MAXMSG];
	size_t		 n;
	int		 rc;		/* 0, or -1 if the reader failed */
	size_t		 maxpiece;	/* longest DATA event seen */
};

static void
result_free(struct result *res)
{
	size_t i;

	for (i = 0; i < res->n; i++) {
		free(res->m[i].sender);
		buf_free(&res->m[i].data);
	}
	memset(res, 0, sizeof(*res));
}

/* Drain events into res. Returns 0 (need more / done) or -1. */
static int
drain(struct mbox_reader *r, struct result *res)
{
	struct mbox_event ev;
	int rc;

	while ((rc = mbox_read_next(r, &ev)) == 1) {
		switch (ev.type) {
		case MBOX_MSG_BEGIN:
			ck_assert_uint_lt(res->n, MAXMSG);
			res->m[res->n].sender = xstrdup(ev.sender);
			res->m[res->n].date = ev.date;
			buf_init(&res->m[res->n].data, 64 << 20);
			res->n++;
			break;
		case MBOX_MSG_DATA:
			ck_assert_uint_gt(res->n, 0);
			ck_assert_uint_gt(ev.len, 0);
			ck_assert_uint_le(ev.len, MBOX_DATA_MAX);
			if (ev.len > res->maxpiece)
				res->maxpiece = ev.len;
			ck_assert_int_eq(buf_add(&res->m[res->n - 1].data,
			    ev.data, ev.len), 0);
			break;
		case MBOX_MSG_END:
			break;
		default:
			ck_abort_msg("unknown event %d", (int)ev.type);
		}
	}
	return rc;
}

/* Read len bytes cut at the given offsets (ascending). */
static void
read_cut(const char *in, size_t len, const size_t *cuts, size_t ncuts,
    enum mbox_format fmt, struct result *res)
{
	struct mbox_reader *r = mbox_reader_new(fmt);
	size_t i, at = 0;

	memset(res, 0, sizeof(*res));
	for (i = 0; i <= ncuts && res->rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		mbox_reader_feed(r, in + at, end - at);
		res->rc = drain(r, res);
		at = end;
	}
	if (res->rc == 0) {
		mbox_reader_finish(r);
		res->rc = drain(r, res);
	}
	mbox_reader_free(&r);
	ck_assert_ptr_null(r);
}

static void
read_all(const char *in, size_t len, enum mbox_format fmt, struct result *res)
{
	read_cut(in, len, NULL, 0, fmt, res);
}

static void
assert_msg(const struct result *res, size_t i, const char *want)
{
	ck_assert_uint_gt(res->n, i);
	ck_assert_uint_eq(res->m[i].data.len, strlen(want));
	if (*want != '\0')
		ck_assert_mem_eq(res->m[i].data.data, want, strlen(want));
}

static void
assert_same(const struct result *a, const struct result *b)
{
	size_t i;

	ck_assert_int_eq(a->rc, b->rc);
	ck_assert_uint_eq(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		ck_assert_str_eq(a->m[i].sender, b->m[i].sender);
		ck_assert_int_eq((long)a->m[i].date, (long)b->m[i].date);
		ck_assert_uint_eq(a->m[i].data.len, b->m[i].data.len);
		if (a->m[i].data.len > 0)
			ck_assert_mem_eq(a->m[i].data.data, b->m[i].data.data,
			    a->m[i].data.len);
	}
}

/* Every tricky line start in one file. */
static const char tricky[] =
    "From alice@example.org Thu Jan  1 00:00:00 1970\n"
    "Subject: one\n"
    "\n"
    ">From escaped once\n"
    ">>From escaped twice\n"
    ">Fromage is not escaped\n"
    ">>> just quoting\n"
    "From without empty line before it stays\n"
    "crlf line\r\n"
    "lone\rcr\n"
    "\r\n"
    "\n"
    "\n"
    "From bob@example.net Sat Feb 13 23:31:30 2009\n"
    "Subject: two\n"
    "\n"
    "Fro\n"
    ">\n"
    ">Fr\n"
    "\r\n"
    "From \n"
    "\n"
    "From MAILER-DAEMON Fri Jul  8 12:08:34 2011\n"
    "\n"
    "From carol@example.com Sun Sep  9 01:46:40 2001\n"
    "last line without newline >From";

static const char *const tricky_want[] = {
    "Subject: one\r\n"
    "\r\n"
    "From escaped once\r\n"
    ">From escaped twice\r\n"
    ">Fromage is not escaped\r\n"
    ">>> just quoting\r\n"
    "From without empty line before it stays\r\n"
    "crlf line\r\n"
    "lone\rcr\r\n"
    "\r\n"
    "\r\n",
    "Subject: two\r\n"
    "\r\n"
    "Fro\r\n"
    ">\r\n"
    ">Fr\r\n",
    "",
    "",
    "last line without newline >From",
};

START_TEST(test_mbox_reads_tricky_file)
{
	struct result res;

	read_all(tricky, sizeof(tricky) - 1, MBOX_MBOXRD, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, ARRAY_SIZE(tricky_want));
	for (size_t i = 0; i < res.n; i++)
		assert_msg(&res, i, tricky_want[i]);
	ck_assert_str_eq(res.m[0].sender, "alice@example.org");
	ck_assert_int_eq((long)res.m[0].date, 0);
	ck_assert_str_eq(res.m[1].sender, "bob@example.net");
	ck_assert_int_eq((long)res.m[1].date, 1234567890);
	ck_assert_str_eq(res.m[2].sender, "");		/* "From \n" */
	ck_assert_int_eq((long)res.m[2].date, -1);
	ck_assert_str_eq(res.m[3].sender, "MAILER-DAEMON");
	ck_assert_int_eq((long)res.m[4].date, 1000000000);
	result_free(&res);
}
END_TEST

/* Cut the file at every offset _i: the messages must not change. */
START_TEST(test_mbox_split_anywhere)
{
	struct result whole, cut;
	size_t at = (size_t)_i;

	read_all(tricky, sizeof(tricky) - 1, MBOX_MBOXRD, &whole);
	read_cut(tricky, sizeof(tricky) - 1, &at, 1, MBOX_MBOXRD, &cut);
	assert_same(&whole, &cut);
	result_free(&cut);

	/* and at two places */
	for (size_t j = at; j <= sizeof(tricky) - 1; j += 7) {
		size_t cuts[2] = { at, j };

		read_cut(tricky, sizeof(tricky) - 1, cuts, 2, MBOX_MBOXO, &cut);
		result_free(&whole);
		read_all(tricky, sizeof(tricky) - 1, MBOX_MBOXO, &whole);
		assert_same(&whole, &cut);
		result_free(&cut);
	}
	result_free(&whole);
}
END_TEST

START_TEST(test_mbox_byte_by_byte)
{
	size_t len = sizeof(tricky) - 1, cuts[sizeof(tricky)];
	struct result whole, cut;

	for (size_t i = 0; i < len; i++)
		cuts[i] = i;
	read_all(tricky, len, MBOX_MBOXRD, &whole);
	read_cut(tricky, len, cuts, len, MBOX_MBOXRD, &cut);
	assert_same(&whole, &cut);
	result_free(&whole);
	result_free(&cut);
}
END_TEST

START_TEST(test_mbox_mboxo_keeps_escapes)
{
	static const char in[] =
	    "From a@b Thu Jan  1 00:00:00 1970\n"
	    ">From x\n"
	    ">>From y\n";
	struct result res;

	read_all(in, sizeof(in) - 1, MBOX_MBOXO, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, 1);
	assert_msg(&res, 0, ">From x\r\n>>From y\r\n");
	result_free(&res);
}
END_TEST

START_TEST(test_mbox_crlf_input_not_doubled)
{
	static const char in[] =
	    "From a@b Thu Jan  1 00:00:00 1970\r\n"
	    "A: b\r\n"
	    "\r\n"
	    "body\r\n"
	    "\r\n"
	    "From c@d Thu Jan  1 00:00:01 1970\r\n"
	    "x\r\r\n";
	struct result res;

	read_all(in, sizeof(in) - 1, MBOX_MBOXRD, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, 2);
	assert_msg(&res, 0, "A: b\r\n\r\nbody\r\n");
	assert_msg(&res, 1, "x\r\r\n");
	ck_assert_str_eq(res.m[1].sender, "c@d");
	ck_assert_int_eq((long)res.m[1].date, 1);
	result_free(&res);
}
END_TEST

START_TEST(test_mbox_no_trailing_newline)
{
	static const char in[] = "From a@b Thu Jan  1 00:00:00 1970\nabc";
	static const char in2[] = "From a@b Thu Jan  1 00:00:00 1970";
	struct result res;

	read_all(in, sizeof(in) - 1, MBOX_MBOXRD, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, 1);
	assert_msg(&res, 0, "abc");
	result_free(&res);

	read_all(in2, sizeof(in2) - 1, MBOX_MBOXRD, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, 1);
	assert_msg(&res, 0, "");
	ck_assert_int_eq((long)res.m[0].date, 0);
	result_free(&res);
}
END_TEST

START_TEST(test_mbox_empty_file_has_no_messages)
{
	struct result res;

	read_all("", 0, MBOX_MBOXRD, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, 0);
}
END_TEST

START_TEST(test_mbox_not_an_mbox_is_an_error)
{
	static const char *const bad[] = {
	    "Return-Path: <a@b>\r\nFrom: a@b\r\n\r\nhi\r\n",
	    "\nFrom a@b Thu Jan  1 00:00:00 1970\n",
	    "from a@b Thu Jan  1 00:00:00 1970\n",
	    "Fro",
	    "From",
	};
	struct mbox_reader *r;
	struct mbox_event ev;
	struct result res;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		read_all(bad[i], strlen(bad[i]), MBOX_MBOXRD, &res);
		ck_assert_int_eq(res.rc, -1);
		ck_assert_uint_eq(res.n, 0);
	}
	r = mbox_reader_new(MBOX_MBOXRD);
	ck_assert_str_eq(mbox_reader_error(r), "");
	mbox_reader_feed(r, "Subject: x\n", 11);
	ck_assert_int_eq(mbox_read_next(r, &ev), -1);
	ck_assert_ptr_nonnull(strstr(mbox_reader_error(r), "not an mbox file"));
	ck_assert_int_eq(mbox_read_next(r, &ev), -1);
	mbox_reader_free(&r);
}
END_TEST

/* A 3 MB line and a 3 MB From_ line go through in bounded pieces. */
START_TEST(test_mbox_long_lines_in_pieces)
{
	size_t big = 3 << 20, len, i;
	struct buf in;
	struct result res;
	char *s;

	buf_init(&in, 16 << 20);
	ck_assert_int_eq(buf_adds(&in, "From a@b Thu Jan  1 00:00:00 1970\n"), 0);
	for (i = 0; i < big; i++)
		buf_addc(&in, (char)('a' + i % 26));
	buf_adds(&in, "\n\nFrom ");
	for (i = 0; i < big; i++)
		buf_addc(&in, 'x');
	buf_adds(&in, "\nsecond\n");
	s = buf_steal(&in, &len);

	read_all(s, len, MBOX_MBOXRD, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, 2);
	ck_assert_uint_eq(res.m[0].data.len, big + 2);
	ck_assert_uint_eq(res.maxpiece, MBOX_DATA_MAX);
	ck_assert_mem_eq(res.m[0].data.data, s + 34, big);
	ck_assert_uint_eq(strlen(res.m[1].sender), MBOX_FROMLINE_MAX - 5);
	assert_msg(&res, 1, "second\r\n");
	result_free(&res);
	free(s);
}
END_TEST

/* Write messages with the writer, cut into pieces in a given way. */
static char *
write_mbox(const char *const *msgs, size_t n, size_t piece, size_t *len_r)
{
	struct mbox_writer *w = mbox_writer_new();
	struct buf out, all;

	buf_init(&out, 1 << 20);
	buf_init(&all, 64 << 20);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(msgs[i]);

		ck_assert_int_eq(mbox_writer_begin(w, "s@example.org",
		    (time_t)i * 86400, &out), 0);
		for (size_t at = 0; at < len; at += piece) {
			size_t k = len - at < piece ? len - at : piece;

			ck_assert_int_eq(mbox_writer_write(w, msgs[i] + at, k,
			    &out), 0);
			buf_add(&all, out.data, out.len);
			buf_reset(&out);
		}
		ck_assert_int_eq(mbox_writer_end(w, &out), 0);
		buf_add(&all, out.data, out.len);
		buf_reset(&out);
	}
	mbox_writer_free(&w);
	ck_assert_ptr_null(w);
	buf_free(&out);
	return buf_steal(&all, len_r);
}

static const char *const wire[] = {
	"Subject: escapes\r\n\r\nFrom x\r\n>From y\r\n>>From z\r\n"
	    ">Fromage\r\nFrom\r\n>\r\n\r\nFrom after empty\r\n",
	"",
	"\r\n",
	"Subject: ends in empty lines\r\n\r\nbody\r\n\r\n\r\n",
	"no newline at end >From",
	"lone\rcr\r\nand tab\t\r\n",
	">From at the very start\r\n",
	"From at the very start\r\n",
	">",
	"Fro",
	"cr runs\r\r\n\r\r\r\n\r\n\r",
	"ends in two CRs\r\r",
};

START_TEST(test_mbox_writer_escapes_and_frames)
{
	static const char want[] =
	    "From s@example.org Thu Jan  1 00:00:00 1970\n"
	    "Subject: escapes\n\n>From x\n>>From y\n>>>From z\n"
	    ">Fromage\nFrom\n>\n\n>From after empty\n"
	    "\n"
	    "From s@example.org Fri Jan  2 00:00:00 1970\n"
	    "\n";
	size_t len;
	char *s = write_mbox(wire, 2, 1000, &len);

	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert_mem_eq(s, want, len);
	free(s);
}
END_TEST

/* Writing in pieces of any size gives the same bytes; reading them back
 * gives the messages (plus the line end a message without one gets). */
START_TEST(test_mbox_writer_round_trip)
{
	size_t n = ARRAY_SIZE(wire), len, len2;
	char *s = write_mbox(wire, n, 100000, &len);
	char *s2 = write_mbox(wire, n, (size_t)_i, &len2);
	struct result res;

	ck_assert_uint_eq(len, len2);
	ck_assert_mem_eq(s, s2, len);
	read_all(s, len, MBOX_MBOXRD, &res);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_uint_eq(res.n, n);
	for (size_t i = 0; i < n; i++) {
		char *want = xstrdup(wire[i]);
		size_t wl = strlen(want);

		if (wl > 0 && want[wl - 1] == '\r') {
			free(want);
			want = xasprintf("%s\n", wire[i]);
		} else if (wl > 0 && want[wl - 1] != '\n') {
			free(want);
			want = xasprintf("%s\r\n", wire[i]);
		}
		assert_msg(&res, i, want);
		ck_assert_int_eq((long)res.m[i].date, (long)i * 86400);
		free(want);
	}
	result_free(&res);
	free(s);
	free(s2);
}
END_TEST

static char *
slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char tmp[8192];
	size_t n;

	ck_assert_ptr_nonnull(f);
	buf_init(&b, 64 << 20);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		ck_assert_int_eq(buf_add(&b, tmp, n), 0);
	fclose(f);
	return buf_steal(&b, len_r);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Wire form of a message as the reader gives it back: LF-only line ends
 * made CRLF, and a line end added at the end if missing. */
static char *
normalize(const char *s, size_t len, size_t *len_r)
{
	struct buf b;

	buf_init(&b, 2 * len + 3);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf_addc(&b, '\r');
		buf_addc(&b, s[i]);
	}
	if (len > 0 && s[len - 1] == '\r')
		buf_adds(&b, "\n");
	else if (len > 0 && s[len - 1] != '\n')
		buf_adds(&b, "\r\n");
	return buf_steal(&b, len_r);
}

/* The whole corpus: export -> import -> export gives the same file, and
 * import gives each message back in wire form. */
START_TEST(test_mbox_corpus_round_trip)
{
	DIR *d = opendir("tests/corpus");
	struct dirent *de;
	char *names[256], *msgs[256], *file1, *file2;
	size_t lens[256], n = 0, len1, len2;
	struct mbox_writer *w = mbox_writer_new();
	struct buf out;
	struct mbox_reader *r;
	struct mbox_event ev;
	size_t cur = 0, k = 0;
	struct buf got;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (l > 4 && strcmp(de->d_name + l - 4, ".eml") == 0 && n < 256)
			names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	ck_assert_uint_ge(n, 45);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n; i++) {
		char *p = xasprintf("tests/corpus/%s", names[i]);

		msgs[i] = slurp(p, &lens[i]);
		free(p);
	}

	buf_init(&out, 256 << 20);
	for (size_t i = 0; i < n; i++) {
		char *sender = mbox_sender_from_header(msgs[i], lens[i]);

		ck_assert_int_eq(mbox_writer_begin(w, sender,
		    1000000000 + (time_t)i, &out), 0);
		ck_assert_int_eq(mbox_writer_write(w, msgs[i], lens[i], &out), 0);
		ck_assert_int_eq(mbox_writer_end(w, &out), 0);
		free(sender);
	}
	file1 = buf_steal(&out, &len1);

	/* import, in 4000-byte pieces, and export again */
	r = mbox_reader_new(MBOX_MBOXRD);
	buf_init(&got, 64 << 20);
	for (size_t at = 0; at <= len1; at += 4000) {
		size_t piece = len1 - at < 4000 ? len1 - at : 4000;
		int rc;

		mbox_reader_feed(r, file1 + at, piece);
		if (piece < 4000)
			mbox_reader_finish(r);
		while ((rc = mbox_read_next(r, &ev)) == 1) {
			if (ev.type == MBOX_MSG_BEGIN) {
				ck_assert_int_eq((long)ev.date,
				    1000000000 + (long)k);
				ck_assert_int_eq(mbox_writer_begin(w, ev.sender,
				    ev.date, &out), 0);
				buf_reset(&got);
			} else if (ev.type == MBOX_MSG_DATA) {
				ck_assert_int_eq(mbox_writer_write(w, ev.data,
				    ev.len, &out), 0);
				buf_add(&got, ev.data, ev.len);
			} else {
				size_t nl;
				char *want = normalize(msgs[k], lens[k], &nl);

				ck_assert_msg(got.len == nl &&
				    memcmp(got.data, want, nl) == 0,
				    "%s changed on import", names[k]);
				free(want);
				ck_assert_int_eq(mbox_writer_end(w, &out), 0);
				k++;
			}
		}
		ck_assert_int_eq(rc, 0);
		cur += piece;
	}
	ck_assert_uint_eq(cur, len1);
	ck_assert_uint_eq(k, n);
	file2 = buf_steal(&out, &len2);
	ck_assert_uint_eq(len1, len2);
	ck_assert_mem_eq(file1, file2, len1);

	mbox_reader_free(&r);
	mbox_writer_free(&w);
	buf_free(&got);
	free(file1);
	free(file2);
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(msgs[i]);
	}
}
END_TEST

START_TEST(test_mbox_sender_from_header)
{
	static const struct {
		const char *hdr, *want;
	} t[] = {
		{ "Return-Path: <rp@example.org>\r\nFrom: A <a@example.org>\r\n\r\n",
		  "rp@example.org" },
		{ "Return-Path: <>\r\nFrom: A <a@example.org>\r\n\r\n",
		  "a@example.org" },
		{ "From: \"Smith, J <x>\" <js@example.org>\r\n", "js@example.org" },
		{ "From: js@example.org (John <Smith>)\r\n", "js@example.org" },
		{ "From: =?UTF-8?B?w4k=?=\r\n <folded@example.org>\r\n",
		  "folded@example.org" },
		{ "From: <@relay.example:route@example.org>\r\n",
		  "route@example.org" },
		{ "From: Group: m@example.org;\r\n", "m@example.org" },
		{ "From: a@example.org, b@example.org\r\n", "a@example.org" },
		{ "From: \"quoted space\"@example.org\r\n", "MAILER-DAEMON" },
		{ "Subject: no from\r\n\r\nFrom: body@example.org\r\n",
		  "MAILER-DAEMON" },
		{ "", "MAILER-DAEMON" },
		{ "from: lower@example.org\n\n", "lower@example.org" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		char *s = mbox_sender_from_header(t[i].hdr, strlen(t[i].hdr));

		ck_assert_msg(strcmp(s, t[i].want) == 0, "case %zu: got %s",
		    i, s);
		free(s);
	}
}
END_TEST

START_TEST(test_mbox_date_format_and_parse)
{
	static const struct {
		time_t t;
		const char *s;
	} t[] = {
		{ 0, "Thu Jan  1 00:00:00 1970" },
		{ 1234567890, "Fri Feb 13 23:31:30 2009" },
		{ 951782400, "Tue Feb 29 00:00:00 2000" },
		{ 4102444799, "Thu Dec 31 23:59:59 2099" },
		{ -1, "Wed Dec 31 23:59:59 1969" },
	};
	static const struct {
		const char *s;
		time_t t;
	} extra[] = {
		{ "  Thu Jan  1 00:00:00 1970  ", 0 },
		{ "Thu Jan 1 00:00 1970", 0 },
		{ "Jan  1 00:00:00 1970", 0 },
		{ "Thu Jan  1 02:00:00 +0200 1970", 0 },
		{ "Thu Jan  1 00:00:00 PST 1970", 0 },
		{ "Thu Jan  1 00:00:00 1970 remote from x", 0 },
		{ "thu jan  1 00:00:00 1970", 0 },
	};
	static const char *const bad[] = {
		"", "Thu", "Thu Jan", "Thu Foo  1 00:00:00 1970",
		"Thu Jan 32 00:00:00 1970", "Thu Jan  1 24:00:00 1970",
		"Thu Jan  1 00:00:00", "Thu Jan  1 00:00:00 70",
		"Thu Jan  1 0:00:00 1970",
	};
	char d[MBOX_DATE_LEN];
	time_t v;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		ck_assert_int_eq(mbox_date_format(t[i].t, d, sizeof(d)), 0);
		ck_assert_str_eq(d, t[i].s);
		ck_assert_int_eq(mbox_date_parse(t[i].s, strlen(t[i].s), &v), 0);
		ck_assert_int_eq((long)v, (long)t[i].t);
	}
	for (size_t i = 0; i < ARRAY_SIZE(extra); i++) {
		ck_assert_msg(mbox_date_parse(extra[i].s, strlen(extra[i].s),
		    &v) == 0, "%s", extra[i].s);
		ck_assert_int_eq((long)v, (long)extra[i].t);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(mbox_date_parse(bad[i], strlen(bad[i]), &v) < 0,
		    "%s", bad[i]);
	ck_assert_int_eq(mbox_date_format(0, d, sizeof(d) - 1), -1);
}
END_TEST

static Suite *
mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_mbox_reads_tricky_file);
	tcase_add_loop_test(tc, test_mbox_split_anywhere, 0,
	    (int)sizeof(tricky));
	tcase_add_test(tc, test_mbox_byte_by_byte);
	tcase_add_test(tc, test_mbox_mboxo_keeps_escapes);
	tcase_add_test(tc, test_mbox_crlf_input_not_doubled);
	tcase_add_test(tc, test_mbox_no_trailing_newline);
	tcase_add_test(tc, test_mbox_empty_file_has_no_messages);
	tcase_add_test(tc, test_mbox_not_an_mbox_is_an_error);
	tcase_add_test(tc, test_mbox_long_lines_in_pieces);
	tcase_add_test(tc, test_mbox_writer_escapes_and_frames);
	tcase_add_loop_test(tc, test_mbox_writer_round_trip, 1, 40);
	tcase_add_test(tc, test_mbox_corpus_round_trip);
	tcase_add_test(tc, test_mbox_sender_from_header);
	tcase_add_test(tc, test_mbox_date_format_and_parse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mbox_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
