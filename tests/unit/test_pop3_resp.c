/*
 * Tests for lib/pop3_resp: greetings (APOP timestamp), single-line
 * answers with RFC 2449 codes, SASL continuations, listings (UIDL, LIST,
 * CAPA) and messages with dot-stuffing, all from wire transcripts fed
 * whole, split at every offset and a byte at a time; pipelined
 * expectations; limits and garbage.
 *
 * A run renders one line per event (see render()); a message's DATA
 * pieces are joined into one "DATA <...>" line, so how the input was cut
 * does not show. An error renders as "!" and ends the run.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/pop3_resp.h"
#include "lib/util.h"

struct drv {
	struct pop3_resp_parser *p;
	struct buf	 out;
	struct buf	 data;
	int		 in_data;
	int		 failed;
};

static void
render(struct drv *d, const struct pop3_resp *ev)
{
	struct buf *b = &d->out;

	if (ev->kind != POP3_RESP_DATA && d->in_data) {
		buf_printf(b, "DATA <%s>\n", d->data.data ? d->data.data : "");
		buf_reset(&d->data);
		d->in_data = 0;
	}
	switch (ev->kind) {
	case POP3_RESP_OK:
		buf_printf(b, "OK%s [%s] \"%s\"", ev->multi ? "+" : "",
		    ev->code, ev->text);
		if (ev->apop != NULL)
			buf_printf(b, " apop=%s", ev->apop);
		break;
	case POP3_RESP_ERR:
		buf_printf(b, "ERR [%s] \"%s\"", ev->code, ev->text);
		break;
	case POP3_RESP_CONT:
		buf_printf(b, "+ \"%s\"", ev->text);
		break;
	case POP3_RESP_LINE:
		buf_printf(b, "LINE %u \"%s\" \"%s\" %llu", ev->msg, ev->text,
		    ev->arg, (unsigned long long)ev->num);
		break;
	case POP3_RESP_DATA:
		ck_assert_uint_gt(ev->len, 0);
		buf_add(&d->data, ev->data, ev->len);
		d->in_data = 1;
		return;
	case POP3_RESP_END:
		buf_adds(b, "END");
		break;
	}
	buf_adds(b, "\n");
}

static void
drain(struct drv *d)
{
	struct pop3_resp ev;
	int rc;

	while (!d->failed && (rc = pop3_resp_next(d->p, &ev)) != 0) {
		if (rc < 0) {
			buf_adds(&d->out, "!\n");
			d->failed = 1;
			return;
		}
		render(d, &ev);
	}
}

/* ex: one letter per expected response: G S L D A (SASL). */
static char *
run(const char *ex, const char *in, size_t len, size_t step, size_t cut)
{
	struct drv d;
	size_t pos = 0, n;
	char *s;

	memset(&d, 0, sizeof(d));
	d.p = pop3_resp_new(128);
	buf_init(&d.out, 1 << 20);
	buf_init(&d.data, 1 << 20);
	for (; *ex; ex++)
		ck_assert_int_eq(pop3_resp_expect(d.p, *ex == 'G' ?
		    POP3_EXPECT_GREETING : *ex == 'S' ? POP3_EXPECT_SINGLE :
		    *ex == 'L' ? POP3_EXPECT_LINES : *ex == 'D' ?
		    POP3_EXPECT_DATA : POP3_EXPECT_SASL), 0);
	if (step == SIZE_MAX) {
		pop3_resp_feed(d.p, in, cut);
		drain(&d);
		pop3_resp_feed(d.p, in + cut, len - cut);
		drain(&d);
	} else {
		while (pos < len) {
			n = step == 0 || step > len - pos ? len - pos : step;
			ck_assert_int_eq(pop3_resp_feed(d.p, in + pos, n), 0);
			drain(&d);
			pos += n;
		}
	}
	if (d.in_data)
		buf_printf(&d.out, "DATA <%s> (open)\n", d.data.data);
	buf_printf(&d.out, "pending %zu\n", pop3_resp_pending(d.p));
	s = xstrdup(d.out.data);
	pop3_resp_free(&d.p);
	buf_free(&d.out);
	buf_free(&d.data);
	return s;
}

static const struct vec {
	const char *ex;
	const char *in;
	const char *want;
} vecs[] = {
	{ "G", "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
	  "OK [] \"POP3 server ready <1896.697170952@dbc.mtview.ca.us>\" "
	  "apop=<1896.697170952@dbc.mtview.ca.us>\npending 0\n" },
	{ "G", "+OK Dovecot ready.\r\n",
	  "OK [] \"Dovecot ready.\"\npending 0\n" },
	{ "GS", "+OK <x> no at sign\r\n+OK\r\n",
	  "OK [] \"<x> no at sign\"\nOK [] \"\"\npending 0\n" },
	{ "SSS", "-ERR [IN-USE] Do you have another POP session running?\r\n"
	  "-ERR [SYS/TEMP] try later\r\n-ERR\r\n",
	  "ERR [IN-USE] \"Do you have another POP session running?\"\n"
	  "ERR [SYS/TEMP] \"try later\"\nERR [] \"\"\npending 0\n" },
	{ "A", "+ \r\n+ YWJj\r\n+OK Logged in.\r\n",
	  "+ \"\"\n+ \"YWJj\"\nOK [] \"Logged in.\"\npending 0\n" },
	{ "L", "+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n",
	  "OK+ [] \"\"\nLINE 0 \"TOP\" \"TOP\" 0\nLINE 0 \"UIDL\" \"UIDL\" 0\n"
	  "LINE 0 \"SASL PLAIN LOGIN\" \"SASL PLAIN LOGIN\" 0\nEND\n"
	  "pending 0\n" },
	{ "LL", "+OK 2 messages\r\n1 000000017a1b2c3d\r\n2 whatever\r\n.\r\n"
	  "+OK\r\n1 120\r\n2  3456\r\n.\r\n",
	  "OK+ [] \"2 messages\"\n"
	  "LINE 1 \"1 000000017a1b2c3d\" \"000000017a1b2c3d\" 0\n"
	  "LINE 2 \"2 whatever\" \"whatever\" 0\nEND\n"
	  "OK+ [] \"\"\nLINE 1 \"1 120\" \"120\" 120\n"
	  "LINE 2 \"2  3456\" \"3456\" 3456\nEND\npending 0\n" },
	{ "L", "+OK\r\n..odd\r\n.\r\n",
	  "OK+ [] \"\"\nLINE 0 \".odd\" \".odd\" 0\nEND\npending 0\n" },
	{ "L", "-ERR no\r\n", "ERR [] \"no\"\npending 0\n" },
	{ "DS", "+OK 30 octets\r\nSubject: x\r\n\r\n..dot\r\n..\r\nline\r\n"
	  ".\r\n+OK bye\r\n",
	  "OK+ [] \"30 octets\"\n"
	  "DATA <Subject: x\r\n\r\n.dot\r\n.\r\nline\r\n>\nEND\n"
	  "OK [] \"bye\"\npending 0\n" },
	{ "D", "+OK\r\n.\r\n", "OK+ [] \"\"\nEND\npending 0\n" },
	{ "D", "+OK\r\na\r\n.x\r\n.\r\n",
	  "OK+ [] \"\"\nDATA <a\r\nx\r\n>\nEND\npending 0\n" },
	{ "D", "+OK\na\n.\n", "OK+ [] \"\"\nDATA <a\n>\nEND\npending 0\n" },
	{ "D", "+OK\r\n.\rx\r\n.\r\n",
	  "OK+ [] \"\"\nDATA <\rx\r\n>\nEND\npending 0\n" },
	{ "DD", "+OK\r\nx\r\n.\r\n-ERR no such message\r\n",
	  "OK+ [] \"\"\nDATA <x\r\n>\nEND\nERR [] \"no such message\"\n"
	  "pending 0\n" },
	{ "D", "+OK\r\nno end", "OK+ [] \"\"\nDATA <no end> (open)\n"
	  "pending 1\n" },
	/* errors */
	{ "S", "* OK imap\r\n", "!\npending 1\n" },
	{ "S", "+OKAY\r\n", "!\npending 1\n" },
	{ "S", "+ x\r\n", "!\npending 1\n" },
	{ "", "+OK\r\n", "!\npending 0\n" },
	{ "S", "+OK 1\r\n+OK 2\r\n", "OK [] \"1\"\n!\npending 0\n" },
	{ "S", "+OK xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxx\r\n", "!\npending 1\n" },
};

START_TEST(test_pop3_resp_vectors)
{
	const struct vec *v = &vecs[_i];
	char *got = run(v->ex, v->in, strlen(v->in), 0, 0);

	ck_assert_str_eq(got, v->want);
	free(got);
}
END_TEST

START_TEST(test_pop3_resp_split_anywhere)
{
	const struct vec *v = &vecs[_i];
	size_t len = strlen(v->in), cut;
	char *got;

	for (cut = 0; cut <= len; cut++) {
		got = run(v->ex, v->in, len, SIZE_MAX, cut);
		ck_assert_str_eq(got, v->want);
		free(got);
	}
	got = run(v->ex, v->in, len, 1, 0);
	ck_assert_str_eq(got, v->want);
	free(got);
}
END_TEST

/* A 2 MB message with long lines and many stuffed dots: bytes exact. */
START_TEST(test_pop3_resp_large_message)
{
	struct pop3_resp_parser *p = pop3_resp_new(512);
	struct buf wire, want, got;
	struct pop3_resp ev;
	size_t i, pos, n, events = 0;
	int rc, ended = 0;

	buf_init(&wire, 8 << 20);
	buf_init(&want, 8 << 20);
	buf_init(&got, 8 << 20);
	buf_adds(&wire, "+OK message follows\r\n");
	for (i = 0; want.len < (2u << 20); i++) {
		size_t linelen = (i * 7919) % 3000;
		size_t j;

		if (i % 5 == 0) {
			buf_adds(&want, ".");
			buf_adds(&wire, "..");
		}
		for (j = 0; j < linelen; j++) {
			buf_addc(&want, (char)('a' + (i + j) % 26));
			buf_addc(&wire, (char)('a' + (i + j) % 26));
		}
		buf_adds(&want, "\r\n");
		buf_adds(&wire, "\r\n");
	}
	buf_adds(&wire, ".\r\n");
	pop3_resp_expect(p, POP3_EXPECT_DATA);
	for (pos = 0; pos < wire.len; pos += n) {
		n = wire.len - pos < 8191 ? wire.len - pos : 8191;
		ck_assert_int_eq(pop3_resp_feed(p, wire.data + pos, n), 0);
		while ((rc = pop3_resp_next(p, &ev)) == 1) {
			events++;
			if (ev.kind == POP3_RESP_DATA)
				buf_add(&got, ev.data, ev.len);
			if (ev.kind == POP3_RESP_END)
				ended = 1;
		}
		ck_assert_int_eq(rc, 0);
	}
	ck_assert_int_eq(ended, 1);
	ck_assert_uint_eq(got.len, want.len);
	ck_assert_int_eq(memcmp(got.data, want.data, want.len), 0);
	/* pieces run across lines: far fewer events than lines */
	ck_assert_uint_lt(events, i);
	pop3_resp_free(&p);
	ck_assert_ptr_null(p);
	buf_free(&wire);
	buf_free(&want);
	buf_free(&got);
}
END_TEST

START_TEST(test_pop3_resp_queue_bounded)
{
	struct pop3_resp_parser *p = pop3_resp_new(64);
	size_t i;

	for (i = 0; i < POP3_RESP_QUEUE_MAX; i++)
		ck_assert_int_eq(pop3_resp_expect(p, POP3_EXPECT_SINGLE), 0);
	ck_assert_int_eq(pop3_resp_expect(p, POP3_EXPECT_SINGLE), -1);
	ck_assert_uint_eq(pop3_resp_pending(p), POP3_RESP_QUEUE_MAX);
	pop3_resp_free(&p);
}
END_TEST

static Suite *
pop3_resp_suite(void)
{
	Suite *s = suite_create("pop3_resp");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_pop3_resp_vectors, 0, ARRAY_SIZE(vecs));
	tcase_add_loop_test(tc, test_pop3_resp_split_anywhere, 0,
	    ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_pop3_resp_large_message);
	tcase_add_test(tc, test_pop3_resp_queue_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pop3_resp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
