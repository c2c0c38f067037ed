/*
 * Tests for lib/imap_resp: every response kind and code from a table of
 * wire transcripts, each also fed split at every offset and one byte at a
 * time (the events must not change), a large body streamed in bounded
 * pieces, and malformed responses. The date-time forms themselves are
 * lib/date's (tests/unit/test_date.c).
 *
 * A run is rendered as one string, one line per event (see render()); the
 * pieces of a streamed body are joined, so the rendering does not depend
 * on how the input was cut. An error renders as "!" and ends the run.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/imap_resp.h"
#include "lib/util.h"

static const struct imap_resp_limits lim_test = { 1024, 1 << 20 };

struct drv {
	struct imap_resp_parser *p;
	struct buf	 out;
	struct buf	 body;
	size_t		 pieces;
	int		 failed;
};

static void
render_items(struct buf *b, const char *label, const struct imap_resp *ev)
{
	size_t i;

	buf_adds(b, label);
	for (i = 0; i < ev->nitems; i++)
		buf_printf(b, "%s%s", i ? "," : "", ev->items[i]);
}

static void
render_status(struct buf *b, const struct imap_resp *ev)
{
	buf_printf(b, "%s %s", ev->tag ? ev->tag : "*",
	    imap_resp_status_name(ev->status));
	if (ev->code != IMAP_CODE_NONE) {
		buf_printf(b, " [%s", ev->code_name);
		if (ev->code_num)
			buf_printf(b, " n=%llu",
			    (unsigned long long)ev->code_num);
		if (ev->code_set[0])
			buf_printf(b, " s=%s", ev->code_set);
		if (ev->code_set2[0])
			buf_printf(b, " s2=%s", ev->code_set2);
		if (ev->nitems)
			render_items(b, " i=", ev);
		if (ev->code == IMAP_CODE_OTHER)
			buf_printf(b, " other a=%s", ev->code_arg);
		buf_adds(b, "]");
	}
	buf_printf(b, " \"%s\"", ev->text);
}

static void
render_fetch(struct buf *b, const struct imap_resp *ev)
{
	const struct imap_resp_fetch *f = &ev->fetch;

	buf_printf(b, "FETCH %u", f->seq);
	if (f->have & IMAP_FETCH_UID)
		buf_printf(b, " uid=%u", f->uid);
	if (f->have & IMAP_FETCH_FLAGS)
		render_items(b, " flags=", ev);
	if (f->have & IMAP_FETCH_DATE)
		buf_printf(b, " date=%lld%+d", (long long)f->internaldate,
		    (int)f->tzoff);
	if (f->have & IMAP_FETCH_SIZE)
		buf_printf(b, " size=%llu", (unsigned long long)f->size);
	if (f->have & IMAP_FETCH_MODSEQ)
		buf_printf(b, " modseq=%llu", (unsigned long long)f->modseq);
	if (f->have & IMAP_FETCH_BODY)
		buf_printf(b, " body%s", f->body_nil ? "=NIL" : "");
}

static void
render(struct drv *d, const struct imap_resp *ev)
{
	struct buf *b = &d->out;
	size_t i;

	switch (ev->kind) {
	case IMAP_RESP_STATUS:
		render_status(b, ev);
		break;
	case IMAP_RESP_CONTINUE:
		buf_printf(b, "+ \"%s\"", ev->text);
		break;
	case IMAP_RESP_CAPABILITY:
		render_items(b, "CAPABILITY ", ev);
		break;
	case IMAP_RESP_ENABLED:
		render_items(b, "ENABLED ", ev);
		break;
	case IMAP_RESP_FLAGS:
		render_items(b, "FLAGS ", ev);
		break;
	case IMAP_RESP_LIST:
		render_items(b, ev->lsub ? "LSUB (" : "LIST (", ev);
		if (ev->delim)
			buf_printf(b, ") '%c' \"%s\"", ev->delim, ev->mailbox);
		else
			buf_printf(b, ") NIL \"%s\"", ev->mailbox);
		break;
	case IMAP_RESP_STATUS_DATA:
		buf_printf(b, "STATUS \"%s\" %x %llu %llu %llu %llu %llu",
		    ev->mailbox, ev->st.have,
		    (unsigned long long)ev->st.messages,
		    (unsigned long long)ev->st.uidnext,
		    (unsigned long long)ev->st.uidvalidity,
		    (unsigned long long)ev->st.unseen,
		    (unsigned long long)ev->st.highestmodseq);
		break;
	case IMAP_RESP_EXISTS:
	case IMAP_RESP_RECENT:
	case IMAP_RESP_EXPUNGE:
		buf_printf(b, "%s %llu", ev->kind == IMAP_RESP_EXISTS ?
		    "EXISTS" : ev->kind == IMAP_RESP_RECENT ? "RECENT" :
		    "EXPUNGE", (unsigned long long)ev->num);
		break;
	case IMAP_RESP_SEARCH:
		buf_adds(b, "SEARCH");
		for (i = 0; i < ev->nnums; i++)
			buf_printf(b, " %u", ev->nums[i]);
		if (ev->modseq)
			buf_printf(b, " modseq=%llu",
			    (unsigned long long)ev->modseq);
		break;
	case IMAP_RESP_ESEARCH:
		buf_printf(b, "ESEARCH tag=%s uid=%d have=%x min=%u max=%u "
		    "count=%llu all=%s modseq=%llu",
		    ev->es.tag ? ev->es.tag : "-", ev->es.uid, ev->es.have,
		    ev->es.min, ev->es.max,
		    (unsigned long long)ev->es.count, ev->es.all,
		    (unsigned long long)ev->es.modseq);
		break;
	case IMAP_RESP_VANISHED:
		buf_printf(b, "VANISHED%s %s", ev->earlier ? " EARLIER" : "",
		    ev->set);
		break;
	case IMAP_RESP_FETCH_BODY:
		ck_assert_uint_le(ev->fetch.len, ev->fetch.body_size);
		buf_add(&d->body, ev->fetch.data, ev->fetch.len);
		d->pieces++;
		if (ev->fetch.body_left > 0)
			return;
		ck_assert_uint_eq(d->body.len, ev->fetch.body_size);
		buf_printf(b, "BODY %u", ev->fetch.seq);
		if (ev->fetch.have & IMAP_FETCH_UID)
			buf_printf(b, " uid=%u", ev->fetch.uid);
		if (ev->fetch.section[0])
			buf_printf(b, " [%s]", ev->fetch.section);
		buf_printf(b, " <%s>", d->body.data ? d->body.data : "");
		buf_reset(&d->body);
		break;
	case IMAP_RESP_FETCH:
		render_fetch(b, ev);
		break;
	case IMAP_RESP_OTHER:
		buf_printf(b, "OTHER %s", ev->text);
		break;
	case IMAP_RESP_NAMESPACE:
		if (ev->num == 0)
			buf_adds(b, "NAMESPACE none");
		else
			buf_printf(b, "NAMESPACE \"%s\" '%c'", ev->mailbox,
			    ev->delim ? ev->delim : '-');
		break;
	}
	buf_adds(b, "\n");
}

static void
drv_init(struct drv *d, const struct imap_resp_limits *lim)
{
	memset(d, 0, sizeof(*d));
	d->p = imap_resp_new(lim);
	buf_init(&d->out, 1 << 24);
	buf_init(&d->body, 1 << 24);
}

static void
drv_free(struct drv *d)
{
	imap_resp_free(&d->p);
	buf_free(&d->out);
	buf_free(&d->body);
}

static void
drain(struct drv *d)
{
	struct imap_resp ev;
	int rc;

	while (!d->failed && (rc = imap_resp_next(d->p, &ev)) != 0) {
		if (rc < 0) {
			buf_adds(&d->out, "!\n");
			d->failed = 1;
			return;
		}
		render(d, &ev);
	}
}

static void
feed(struct drv *d, const char *s, size_t n)
{
	ck_assert_int_eq(imap_resp_feed(d->p, s, n), 0);
	drain(d);
}

/* Run input cut into pieces of at most step bytes (0: whole), or cut
 * once at offset cut when step is SIZE_MAX. */
static char *
run(const char *in, size_t len, size_t step, size_t cut)
{
	struct drv d;
	size_t pos = 0, n;
	char *s;

	drv_init(&d, &lim_test);
	if (step == SIZE_MAX) {
		feed(&d, in, cut);
		feed(&d, in + cut, len - cut);
	} else {
		while (pos < len) {
			n = step == 0 || step > len - pos ? len - pos : step;
			feed(&d, in + pos, n);
			pos += n;
		}
	}
	s = xstrdup(d.out.data ? d.out.data : "");
	drv_free(&d);
	return s;
}

static const struct vec {
	const char *in;
	const char *want;
} vecs[] = {
	/* greetings and status responses */
	{ "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE "
	  "IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
	  "* OK [CAPABILITY i=IMAP4rev1,SASL-IR,LOGIN-REFERRALS,ID,ENABLE,"
	  "IDLE,LITERAL+,AUTH=PLAIN] \"Dovecot ready.\"\n" },
	{ "* PREAUTH ready\r\n* BYE Logging out\r\n",
	  "* PREAUTH \"ready\"\n* BYE \"Logging out\"\n" },
	{ "a1 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n",
	  "a1 OK [READ-WRITE] \"Select completed (0.001 + 0.000 secs).\"\n" },
	{ "a2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
	  "a2 NO [AUTHENTICATIONFAILED] \"Authentication failed.\"\n" },
	{ "a3 BAD Error in IMAP command: Unknown command\r\n",
	  "a3 BAD \"Error in IMAP command: Unknown command\"\n" },
	{ "a4 OK\r\n* OK\r\n", "a4 OK \"\"\n* OK \"\"\n" },
	{ "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
	  "* OK [UIDNEXT 4392] Predicted next UID\r\n"
	  "* OK [HIGHESTMODSEQ 9999999999] Highest\r\n"
	  "* OK [UNSEEN 12] First unseen.\r\n",
	  "* OK [UIDVALIDITY n=3857529045] \"UIDs valid\"\n"
	  "* OK [UIDNEXT n=4392] \"Predicted next UID\"\n"
	  "* OK [HIGHESTMODSEQ n=9999999999] \"Highest\"\n"
	  "* OK [UNSEEN n=12] \"First unseen.\"\n" },
	{ "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	  "\\Draft $Forwarded \\*)] Flags permitted.\r\n",
	  "* OK [PERMANENTFLAGS i=\\Answered,\\Flagged,\\Deleted,\\Seen,"
	  "\\Draft,$Forwarded,\\*] \"Flags permitted.\"\n" },
	{ "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n",
	  "* OK [PERMANENTFLAGS] \"No permanent flags permitted\"\n" },
	{ "a5 OK [APPENDUID 38505 3955] APPEND completed\r\n"
	  "a6 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
	  "a5 OK [APPENDUID n=38505 s=3955] \"APPEND completed\"\n"
	  "a6 OK [COPYUID n=38505 s=304,319:320 s2=3956:3958] \"Done\"\n" },
	{ "* OK [CLOSED] Previous mailbox closed.\r\n"
	  "* OK [NOMODSEQ] No permanent modsequences\r\n"
	  "a7 NO [TRYCREATE] Mailbox doesn't exist: Foo\r\n"
	  "a8 OK [MODIFIED 7,9] Conditional STORE failed\r\n",
	  "* OK [CLOSED] \"Previous mailbox closed.\"\n"
	  "* OK [NOMODSEQ] \"No permanent modsequences\"\n"
	  "a7 NO [TRYCREATE] \"Mailbox doesn't exist: Foo\"\n"
	  "a8 OK [MODIFIED s=7,9] \"Conditional STORE failed\"\n" },
	{ "a9 OK [XFOO bar baz] fine\r\nb1 NO [BADCHARSET (UTF-8)] no\r\n",
	  "a9 OK [XFOO other a=bar baz] \"fine\"\n"
	  "b1 NO [BADCHARSET i=UTF-8] \"no\"\n" },
	{ "* OK [ALERT] System shutdown in 10 minutes\r\n",
	  "* OK [ALERT] \"System shutdown in 10 minutes\"\n" },
	{ "* OK [no code\r\n", "* OK \"[no code\"\n" },
	/* continuation requests */
	{ "+ idling\r\n+\r\n+ \r\n+ YWJj\r\n",
	  "+ \"idling\"\n+ \"\"\n+ \"\"\n+ \"YWJj\"\n" },
	/* untagged data */
	{ "* CAPABILITY IMAP4rev1 UIDPLUS QRESYNC\r\n* ENABLED QRESYNC\r\n",
	  "CAPABILITY IMAP4rev1,UIDPLUS,QRESYNC\nENABLED QRESYNC\n" },
	{ "* 172 EXISTS\r\n* 1 RECENT\r\n* 22 EXPUNGE\r\n",
	  "EXISTS 172\nRECENT 1\nEXPUNGE 22\n" },
	{ "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
	  "* FLAGS ()\r\n",
	  "FLAGS \\Answered,\\Flagged,\\Deleted,\\Seen,\\Draft\nFLAGS \n" },
	{ "* LIST (\\HasNoChildren \\Sent) \".\" \"Sent Items\"\r\n"
	  "* LIST (\\Noselect) NIL \"\"\r\n"
	  "* LIST () \"/\" {5}\r\nhe)lo\r\n"
	  "* LSUB () \"/\" [Gmail]/Sent\r\n"
	  "* LIST (\\HasChildren) \"/\" INBOX (\"CHILDINFO\" (\"SUBSCRIBED\"))"
	  "\r\n"
	  "* LIST () \"\\\\\" \"a\\\\b\"\r\n",
	  "LIST (\\HasNoChildren,\\Sent) '.' \"Sent Items\"\n"
	  "LIST (\\Noselect) NIL \"\"\n"
	  "LIST () '/' \"he)lo\"\n"
	  "LSUB () '/' \"[Gmail]/Sent\"\n"
	  "LIST (\\HasChildren) '/' \"INBOX\"\n"
	  "LIST () '\\' \"a\\b\"\n" },
	{ "* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 4 UNSEEN 0 "
	  "HIGHESTMODSEQ 7)\r\n* STATUS \"a b\" ()\r\n",
	  "STATUS \"INBOX\" 2f 2 3 4 0 7\nSTATUS \"a b\" 0 0 0 0 0 0\n" },
	{ "* SEARCH 2 3 5 (MODSEQ 917162500)\r\n* SEARCH\r\n",
	  "SEARCH 2 3 5 modseq=917162500\nSEARCH\n" },
	{ "* ESEARCH (TAG \"a5\") UID COUNT 3 ALL 1:3,5 MIN 1 MAX 5\r\n"
	  "* ESEARCH (TAG \"x\") MODSEQ 9 XFOO (1 2) COUNT 0\r\n",
	  "ESEARCH tag=a5 uid=1 have=f min=1 max=5 count=3 all=1:3,5 "
	  "modseq=0\n"
	  "ESEARCH tag=x uid=0 have=14 min=0 max=0 count=0 all= modseq=9\n" },
	{ "* VANISHED (EARLIER) 41,43:116,118\r\n* VANISHED 405\r\n",
	  "VANISHED EARLIER 41,43:116,118\nVANISHED 405\n" },
	{ "* ID (\"name\" \"Dovecot\")\r\n"
	  "* 5 XYZZY {3}\r\nabc (x)\r\n* OK done\r\n",
	  "OTHER ID\nOTHER XYZZY\n* OK \"done\"\n" },
	/* NAMESPACE: the first personal one (Dovecot, Cyrus both ways, a
	 * flat server, extensions and literals read over) */
	{ "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n"
	  "* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))\r\n"
	  "* NAMESPACE ((\"INBOX/\" \"/\") (\"#mh/\" \"/\" \"X-PARAM\" "
	  "(\"FLAG1\" \"FLAG2\"))) NIL ((\"Shared/\" {1}\r\n/))\r\n"
	  "* NAMESPACE ((\"\" NIL)) NIL NIL\r\n"
	  "* NAMESPACE NIL NIL ((\"\" \".\"))\r\n"
	  "* NAMESPACE (({6}\r\nINBOX. \".\")) NIL NIL\r\n",
	  "NAMESPACE \"\" '.'\nNAMESPACE \"INBOX.\" '.'\n"
	  "NAMESPACE \"INBOX/\" '/'\nNAMESPACE \"\" '-'\nNAMESPACE none\n"
	  "NAMESPACE \"INBOX.\" '.'\n" },
	/* FETCH */
	{ "* 1 FETCH (UID 7 FLAGS (\\Seen foo) INTERNALDATE "
	  "\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 5 MODSEQ (12) "
	  "BODY[] {5}\r\nhe\r\no)\r\n",
	  "BODY 1 uid=7 <he\r\no>\n"
	  "FETCH 1 uid=7 flags=\\Seen,foo date=837596665-420 size=5 "
	  "modseq=12 body\n" },
	{ "* 2 FETCH (ENVELOPE (\"date\" {3}\r\nabc NIL ((NIL NIL \"a\" "
	  "\"b\"))) BODY (\"text\" \"plain\" NIL NIL NIL \"7bit\" 3 1) "
	  "UID 9 BODY[HEADER.FIELDS (From)] {4}\r\nab\r\n "
	  "BODY[]<0> {2}\r\nxy BODYSTRUCTURE (\"a\" \"b\") X-GM-LABELS "
	  "(\\Inbox) BINARY.SIZE[1] 3)\r\n",
	  "BODY 2 uid=9 [HEADER.FIELDS (From)] <ab\r\n>\nFETCH 2 uid=9\n" },
	{ "* 8 FETCH (UID 1 RFC822.HEADER {2}\r\nab BODY[1.MIME] NIL "
	  "BODY[HEADER.FIELDS(A \"B\")] \"x\")\r\n",
	  "BODY 8 uid=1 [HEADER] <ab>\nBODY 8 uid=1 [HEADER.FIELDS(A B)] "
	  "<x>\nFETCH 8 uid=1\n" },
	{ "* 3 FETCH (UID 4 BODY[] NIL)\r\n* 4 FETCH (BODY[] \"hi\" UID 5)"
	  "\r\n* 5 FETCH (UID 6 RFC822 {0}\r\n)\r\n",
	  "FETCH 3 uid=4 body=NIL\n"
	  "BODY 4 <hi>\n"
	  "FETCH 4 uid=5 body\n"
	  "BODY 5 uid=6 <>\n"
	  "FETCH 5 uid=6 body\n" },
	{ "* 4 FETCH (FLAGS () UID 3 MODSEQ (5))\r\n"
	  "* 6 FETCH (FLAGS (\\Deleted) FLAGS (\\Seen))\r\n",
	  "FETCH 4 uid=3 flags= modseq=5\nFETCH 6 flags=\\Seen\n" },
	{ "* 7 FETCH (INTERNALDATE \" 1-Jan-1970 00:00:00 +0000\" "
	  "BINARY[] ~{3}\r\na\0b)\r\n",
	  "BODY 7 <a>\nFETCH 7 date=0+0 body\n" },
	/* the day unpadded or space-padded, any zone hour (lib/date) */
	{ "* 9 FETCH (INTERNALDATE \"7-Dec-2026 17:52:53 +2400\")\r\n"
	  "* 10 FETCH (INTERNALDATE \" 07-dec-2026 17:52:53 -0000\")\r\n",
	  "FETCH 9 date=1796579573+1440\nFETCH 10 date=1796665973+0\n" },
	/* an empty line is tolerated */
	{ "\r\n* 1 EXISTS\r\n", "EXISTS 1\n" },
	/* errors */
	{ "* 1 FETCH (UID 0)\r\n", "!\n" },
	{ "* 1 FETCH UID 3\r\n", "!\n" },
	{ "* 1 FETCH (INTERNALDATE \"bogus\")\r\n", "!\n" },
	{ "* 1 FETCH (BODY[TEXT {3}\r\nabc)\r\n", "!\n" },
	{ "foo\r\n", "!\n" },
	{ "foo PREAUTH x\r\n", "!\n" },
	{ "a1 OK [UIDVALIDITY x] y\r\n", "!\n" },
	{ "a1 OK [UIDVALIDITY 99999999999] y\r\n", "!\n" },
	{ "a1 OK [APPENDUID 1] y\r\n", "!\n" },
	{ "* 3 EXISTS x\r\n", "!\n" },
	{ "* 1 EXISTS\r\n(\r\n* 2 EXISTS\r\n", "EXISTS 1\n!\n" },
	{ "* LIST (\\A) \"ab\" x\r\n", "!\n" },
	{ "* SEARCH 1 0\r\n", "!\n" },
	{ "* 1 FETCH (UID 1 FOO)\r\n", "!\n" },
};

START_TEST(test_imap_resp_vectors)
{
	const struct vec *v = &vecs[_i];
	size_t len = strlen(v->in);
	char *got;

	/* vectors with a NUL in a literal8 give their length otherwise */
	if (strstr(v->in, "~{3}") != NULL)
		len = strlen(v->in) + 1 + strlen(v->in + strlen(v->in) + 1);
	got = run(v->in, len, 0, 0);
	ck_assert_str_eq(got, v->want);
	free(got);
}
END_TEST

/* Cut every vector at every offset, and feed it a byte at a time. */
START_TEST(test_imap_resp_split_anywhere)
{
	const struct vec *v = &vecs[_i];
	size_t len = strlen(v->in), cut;
	char *whole, *got;

	if (strstr(v->in, "~{3}") != NULL)
		len = strlen(v->in) + 1 + strlen(v->in + strlen(v->in) + 1);
	whole = run(v->in, len, 0, 0);
	for (cut = 0; cut <= len; cut++) {
		got = run(v->in, len, SIZE_MAX, cut);
		ck_assert_str_eq(got, whole);
		free(got);
	}
	got = run(v->in, len, 1, 0);
	ck_assert_str_eq(got, whole);
	free(got);
	free(whole);
}
END_TEST

/* A 3 MB body comes out whole, in pieces no larger than what was fed. */
START_TEST(test_imap_resp_large_body_streamed)
{
	struct imap_resp_limits lim = { 1024, 8 << 20 };
	const size_t size = 3 << 20, chunk = 16384;
	struct buf in;
	struct drv d;
	size_t i, pos;
	char *expect;

	buf_init(&in, size + 1024);
	buf_printf(&in, "* 1 FETCH (UID 42 BODY[] {%zu}\r\n", size);
	expect = xmalloc(size);
	for (i = 0; i < size; i++)
		expect[i] = (char)('a' + i % 26);
	buf_add(&in, expect, size);
	buf_adds(&in, " FLAGS (\\Seen))\r\na1 OK done\r\n");
	drv_init(&d, &lim);
	for (pos = 0; pos < in.len; pos += chunk)
		feed(&d, in.data + pos, in.len - pos < chunk ? in.len - pos :
		    chunk);
	ck_assert_int_eq(d.failed, 0);
	ck_assert_uint_ge(d.pieces, size / chunk);
	ck_assert_ptr_nonnull(strstr(d.out.data, "FETCH 1 uid=42 "
	    "flags=\\Seen body\na1 OK \"done\"\n"));
	ck_assert_int_eq(memcmp(d.out.data + strlen("BODY 1 uid=42 <"),
	    expect, size), 0);
	drv_free(&d);
	buf_free(&in);
	free(expect);
}
END_TEST

START_TEST(test_imap_resp_line_limit)
{
	struct drv d;
	struct buf in;
	size_t i;

	buf_init(&in, 1 << 20);
	buf_adds(&in, "* SEARCH");
	for (i = 1; i < 400; i++)
		buf_printf(&in, " %zu", i);
	buf_adds(&in, "\r\n");
	drv_init(&d, &lim_test);
	feed(&d, in.data, in.len);
	ck_assert_str_eq(d.out.data, "!\n");
	ck_assert_ptr_nonnull(strstr(imap_resp_error(d.p), "1024"));
	/* failed for good */
	feed(&d, "* 1 EXISTS\r\n", 12);
	ck_assert_str_eq(d.out.data, "!\n");
	drv_free(&d);
	buf_free(&in);
}
END_TEST

START_TEST(test_imap_resp_literal_limit)
{
	struct drv d;

	drv_init(&d, &lim_test);
	feed(&d, "* 1 FETCH (BODY[] {2000000}\r\n", 29);
	ck_assert_str_eq(d.out.data, "!\n");
	drv_free(&d);
}
END_TEST

START_TEST(test_imap_resp_at_line_start)
{
	struct imap_resp_parser *p = imap_resp_new(NULL);
	struct imap_resp ev;

	ck_assert_int_eq(imap_resp_at_line_start(p), 1);
	imap_resp_feed(p, "* 1 EXI", 7);
	ck_assert_int_eq(imap_resp_next(p, &ev), 0);
	ck_assert_int_eq(imap_resp_at_line_start(p), 0);
	imap_resp_feed(p, "STS\r\n", 5);
	ck_assert_int_eq(imap_resp_next(p, &ev), 1);
	ck_assert_int_eq(ev.kind, IMAP_RESP_EXISTS);
	ck_assert_int_eq(imap_resp_at_line_start(p), 1);
	imap_resp_free(&p);
	ck_assert_ptr_null(p);
}
END_TEST

static Suite *
imap_resp_suite(void)
{
	Suite *s = suite_create("imap_resp");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_imap_resp_vectors, 0, ARRAY_SIZE(vecs));
	tcase_add_loop_test(tc, test_imap_resp_split_anywhere, 0,
	    ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_imap_resp_large_body_streamed);
	tcase_add_test(tc, test_imap_resp_line_limit);
	tcase_add_test(tc, test_imap_resp_literal_limit);
	tcase_add_test(tc, test_imap_resp_at_line_start);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(imap_resp_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
