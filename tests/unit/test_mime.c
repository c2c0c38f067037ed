/*
 * test_mime: the MIME parser, its serialization and its decoders.
 *
 * Trees are compared through a compact description string (type, offsets,
 * lengths, line counts, nesting), so each vector reads as one line. The
 * offsets in the vectors were checked against Dovecot 2.3's BODYSTRUCTURE
 * on the same bytes.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/mime.h"
#include "lib/util.h"

static void
describe(const struct mime_part *p, struct buf *out)
{
	size_t i;

	buf_printf(out, "%s/%s %llu+%llu %llu+%llu %llu", p->type, p->subtype,
	    (unsigned long long)p->hdr_off, (unsigned long long)p->hdr_len,
	    (unsigned long long)p->body_off, (unsigned long long)p->body_len,
	    (unsigned long long)p->body_lines);
	if (p->nchildren == 0)
		return;
	buf_adds(out, " (");
	for (i = 0; i < p->nchildren; i++) {
		if (i > 0)
			buf_adds(out, ", ");
		describe(&p->children[i], out);
	}
	buf_adds(out, ")");
}

static char *
describe_str(const struct mime_part *p)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	describe(p, &b);
	return buf_steal(&b, NULL);
}

static char *
serialize_str(const struct mime_part *p, size_t *len)
{
	struct buf b;

	buf_init(&b, 64 << 20);
	ck_assert_int_eq(mime_serialize(p, &b), 0);
	return buf_steal(&b, len);
}

static const char nested_msg[] =
    "From: a@b.c\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "preamble\r\n"
    "--b\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n"
    "Content-Type: multipart/alternative; boundary=c\r\n"
    "\r\n"
    "--c\r\n"
    "\r\n"
    "one\r\n"
    "--c\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<b>two</b>\r\n"
    "--c--\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "last\r\n"
    "line\r\n"
    "--b--\r\n"
    "epilogue\r\n";

struct vec {
	const char	*name;
	const char	*msg;
	size_t		 len;	/* 0: strlen */
	const char	*want;
};

#define MP "Content-Type: multipart/mixed; boundary=b\r\n\r\n"

static const struct vec vecs[] = {
	{ "plain", "Subject: x\r\n\r\nhello\r\n", 0,
	  "text/plain 0+14 14+7 1" },
	{ "no blank line", "Subject: x\r\nno blank line", 0,
	  "text/plain 0+25 25+0 0" },
	{ "empty message", "", 0, "text/plain 0+0 0+0 0" },
	{ "body only", "\r\nbody", 0, "text/plain 0+2 2+4 0" },
	{ "bare lf", "A: b\n\nx\ny\n", 0, "text/plain 0+6 6+4 2" },
	{ "multipart", MP "pre\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
	  "hello\r\n--b\r\n\r\nx\r\ny\r\n\r\n--b--\r\nepi\r\n", 0,
	  "multipart/mixed 0+45 45+72 12 (text/plain 55+28 83+5 0, "
	  "text/plain 95+2 97+6 2)" },
	{ "header ended by boundary", MP "--b\r\nContent-Type: text/plain\r\n"
	  "--b--\r\n", 0,
	  "multipart/mixed 0+45 45+38 3 (text/plain 50+26 76+0 0)" },
	{ "boundary never appears", MP "no boundary at all\r\n", 0,
	  "multipart/mixed 0+45 45+20 1" },
	{ "unterminated multipart", MP "--b\r\n\r\nabc\r\nno end\r\n", 0,
	  "multipart/mixed 0+45 45+20 4 (text/plain 50+2 52+13 2)" },
	{ "boundary cut by the end", MP "--b\r\n\r\nabc\r\n--b", 0,
	  "multipart/mixed 0+45 45+15 3 (text/plain 50+2 52+3 0)" },
	{ "message/rfc822 ended by boundary", MP "--b\r\n"
	  "Content-Type: message/rfc822\r\n--b--\r\n", 0,
	  "multipart/mixed 0+45 45+42 3 (message/rfc822 50+30 80+0 0 "
	  "(text/plain 80+0 80+0 0))" },
	{ "digest default", "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	  "--d\r\n\r\nSubject: m1\r\n\r\nbody1\r\n--d\r\n"
	  "Content-Type: text/plain\r\n\r\nt\r\n--d--\r\n", 0,
	  "multipart/digest 0+46 46+72 10 (message/rfc822 51+2 53+20 2 "
	  "(text/plain 53+15 68+5 0), text/plain 80+28 108+1 0)" },
	{ "nested", nested_msg, 0,
	  "multipart/mixed 0+58 58+256 23 (message/rfc822 73+32 105+130 11 "
	  "(multipart/alternative 105+67 172+63 8 (text/plain 177+2 179+3 0, "
	  "text/html 189+27 216+10 0)), text/plain 242+43 285+10 1)" },
	{ "nul bytes", "A: b\0c\r\n\r\nx\0y\r\n", 15, "text/plain 0+10 10+5 1" },
	{ "prefix boundaries", "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=\"bb\"\r\n\r\n--bb\r\n"
	  "\r\ninner\r\n--b\r\n\r\nouter2\r\n--b--\r\n", 0,
	  "multipart/mixed 0+47 47+90 10 (multipart/mixed 52+48 100+13 2 "
	  "(text/plain 106+2 108+5 0), text/plain 120+2 122+6 0)" },
};

START_TEST(test_mime_tree_vectors)
{
	const struct vec *v = &vecs[_i];
	size_t len = v->len ? v->len : strlen(v->msg);
	struct mime_part *root = mime_parse(v->msg, len);
	char *got = describe_str(root);

	ck_assert_msg(strcmp(got, v->want) == 0, "%s:\n got  %s\n want %s",
	    v->name, got, v->want);
	free(got);
	mime_part_free(&root);
	ck_assert_ptr_null(root);
}
END_TEST

/* Cut the input at every offset _i: the tree must not change. */
START_TEST(test_mime_split_anywhere)
{
	size_t len = sizeof(nested_msg) - 1, la, lb;
	struct mime_part *whole = mime_parse(nested_msg, len), *split;
	struct mime_parser *p = mime_parser_new();
	char *a, *b;

	mime_parser_feed(p, nested_msg, (size_t)_i);
	mime_parser_feed(p, nested_msg + _i, len - (size_t)_i);
	split = mime_parser_finish(p);
	mime_parser_free(&p);
	ck_assert_ptr_null(p);
	a = serialize_str(whole, &la);
	b = serialize_str(split, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(a, b, la);
	free(a);
	free(b);
	mime_part_free(&whole);
	mime_part_free(&split);
}
END_TEST

START_TEST(test_mime_byte_by_byte)
{
	const struct vec *v = &vecs[_i];
	size_t len = v->len ? v->len : strlen(v->msg), k;
	struct mime_parser *p = mime_parser_new();
	struct mime_part *root;
	char *got;

	for (k = 0; k < len; k++)
		mime_parser_feed(p, v->msg + k, 1);
	root = mime_parser_finish(p);
	mime_parser_free(&p);
	got = describe_str(root);
	ck_assert_msg(strcmp(got, v->want) == 0, "%s: %s", v->name, got);
	free(got);
	mime_part_free(&root);
}
END_TEST

START_TEST(test_mime_fields)
{
	static const char msg[] =
	    "From: A <a@b.c>\r\n"
	    "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
	    "Content-Type: TEXT/Plain; Charset=ISO-8859-1;\r\n"
	    " NAME*0*=utf-8''a%20; name*1=b; x=\"a\\\"b\"\r\n"
	    "Content-Transfer-Encoding: Quoted-Printable\r\n"
	    "Content-Description:  some\r\n  desc  \r\n"
	    "Content-ID:  <a@b> \r\n"
	    "Content-Language: en-US, de\r\n"
	    "Content-Disposition: Attachment; filename=\"f.txt\"\r\n"
	    "Content-Location: http://x/\r\n y\r\n"
	    "\r\nbody\r\n";
	struct mime_part *r = mime_parse(msg, sizeof(msg) - 1);
	const struct mime_param *pa;

	ck_assert_str_eq(r->type, "text");
	ck_assert_str_eq(r->subtype, "plain");
	ck_assert_str_eq(r->raw_type, "TEXT");
	ck_assert_str_eq(r->raw_subtype, "Plain");
	ck_assert_uint_eq(r->nparams, 3);
	ck_assert_str_eq(r->params[0].raw_name, "Charset");
	ck_assert_str_eq(r->params[0].name, "charset");
	ck_assert_str_eq(r->params[1].value, "a\"b");
	ck_assert_str_eq(r->params[2].raw_name, "NAME*");
	ck_assert_str_eq(r->params[2].value, "utf-8''a%20b");
	ck_assert_str_eq(r->params[2].decoded, "a b");
	pa = mime_param_get(r->params, r->nparams, "name");
	ck_assert_ptr_nonnull(pa);
	ck_assert_str_eq(pa->decoded, "a b");
	ck_assert_str_eq(r->encoding, "Quoted-Printable");
	ck_assert_str_eq(r->description, "some  desc  ");
	ck_assert_str_eq(r->id, "<a@b> ");
	ck_assert_uint_eq(r->nlanguages, 2);
	ck_assert_str_eq(r->languages[1], "de");
	ck_assert_str_eq(r->disposition, "Attachment");
	ck_assert_str_eq(r->disp_params[0].value, "f.txt");
	ck_assert_str_eq(r->location, "http://x/ y");
	ck_assert_str_eq(r->env[MIME_ENV_SUBJECT], "=?utf-8?q?caf=C3=A9?=");
	ck_assert_str_eq(r->env[MIME_ENV_FROM], "A <a@b.c>");
	ck_assert_ptr_null(r->env[MIME_ENV_TO]);
	ck_assert_ptr_nonnull(r->header);
	ck_assert_uint_eq(strlen(r->header), r->hdr_len);
	mime_part_free(&r);
}
END_TEST

START_TEST(test_mime_broken_content_type)
{
	struct mime_part *r = mime_parse("Content-Type: text\r\n\r\nx", 23);

	ck_assert_str_eq(r->raw_type, "text");
	ck_assert_str_eq(r->raw_subtype, "");
	mime_part_free(&r);
	r = mime_parse("Content-Type: ;;\r\n\r\nx", 21);
	ck_assert_str_eq(r->type, "text");
	ck_assert_str_eq(r->subtype, "plain");
	ck_assert_uint_eq(r->nparams, 0);
	mime_part_free(&r);
}
END_TEST

START_TEST(test_mime_nested_too_deep)
{
	struct buf b;
	struct mime_part *r, *p;
	int i, depth = 0;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 300; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n"
		    "--b%d\r\n", i, i);
	buf_adds(&b, "\r\ndeep\r\n");
	r = mime_parse(b.data, b.len);
	for (p = r; p->nchildren > 0; p = &p->children[0])
		depth++;
	ck_assert_int_le(depth, MIME_MAX_DEPTH);
	ck_assert_int_ge(depth, MIME_MAX_DEPTH - 2);
	ck_assert_uint_eq(r->body_off + r->body_len, b.len);
	mime_part_free(&r);
	buf_free(&b);
}
END_TEST

START_TEST(test_mime_too_many_parts)
{
	struct buf b;
	struct mime_part *r;
	int i;

	buf_init(&b, 16 << 20);
	buf_adds(&b, MP);
	for (i = 0; i < MIME_MAX_PARTS + 100; i++)
		buf_adds(&b, "--b\r\n\r\nx\r\n");
	buf_adds(&b, "--b--\r\n");
	r = mime_parse(b.data, b.len);
	ck_assert_uint_lt(r->nchildren, MIME_MAX_PARTS);
	ck_assert(r->flags & MIME_PART_LIMITED);
	ck_assert_uint_eq(r->body_off + r->body_len, b.len);
	mime_part_free(&r);
	buf_free(&b);
}
END_TEST

START_TEST(test_mime_huge_header_not_kept)
{
	struct buf b;
	struct mime_part *r;
	int i;

	buf_init(&b, 4 << 20);
	buf_adds(&b, "Subject: big\r\n");
	for (i = 0; i < 5000; i++)
		buf_printf(&b, "X-Filler-%d: %s\r\n", i,
		    "0123456789012345678901234567890123456789");
	buf_adds(&b, "Content-Type: text/html; charset=utf-8\r\n\r\nbody\r\n");
	r = mime_parse(b.data, b.len);
	ck_assert_ptr_null(r->header);
	ck_assert_str_eq(r->subtype, "html");
	ck_assert_str_eq(r->env[MIME_ENV_SUBJECT], "big");
	ck_assert_uint_eq(r->body_len, 6);
	ck_assert_uint_eq(r->hdr_len, b.len - 6);
	mime_part_free(&r);
	buf_free(&b);
}
END_TEST

/* A large body goes through in chunks; only offsets grow. */
START_TEST(test_mime_large_body_streams)
{
	static char chunk[65536];
	struct mime_parser *p = mime_parser_new();
	struct mime_part *r;
	const char *h = MP "--b\r\nContent-Type: application/octet-stream\r\n\r\n";
	int i;

	memset(chunk, 'A', sizeof(chunk));
	for (i = 75; i < (int)sizeof(chunk); i += 76)
		chunk[i] = '\n';
	mime_parser_feed(p, h, strlen(h));
	for (i = 0; i < 800; i++)	/* 50 MiB */
		mime_parser_feed(p, chunk, sizeof(chunk));
	mime_parser_feed(p, "\r\n--b--\r\n", 9);
	r = mime_parser_finish(p);
	mime_parser_free(&p);
	ck_assert_uint_eq(r->nchildren, 1);
	ck_assert_uint_eq(r->children[0].body_len, 800ULL * sizeof(chunk));
	mime_part_free(&r);
}
END_TEST

START_TEST(test_mime_serialize_roundtrip)
{
	const struct vec *v = &vecs[_i];
	size_t len = v->len ? v->len : strlen(v->msg), la, lb;
	struct mime_part *r = mime_parse(v->msg, len), *back = NULL;
	char *a = serialize_str(r, &la), *b;

	ck_assert_int_eq(mime_deserialize(a, la, &back), 0);
	b = serialize_str(back, &lb);
	ck_assert_uint_eq(la, lb);
	ck_assert_mem_eq(a, b, la);
	free(b);
	/* every cut of a serialization is rejected */
	for (lb = 0; lb < la; lb++) {
		struct mime_part *x = NULL;

		ck_assert_int_eq(mime_deserialize(a, lb, &x), -1);
		ck_assert_ptr_null(x);
	}
	free(a);
	mime_part_free(&r);
	mime_part_free(&back);
}
END_TEST

/* The root-only read (ENVELOPE, header SEARCH) gives the full tree's root
 * without its children, and no cut of the bytes makes it misbehave. */
START_TEST(test_mime_deserialize_root_is_the_root)
{
	const struct vec *v = &vecs[_i];
	size_t len = v->len ? v->len : strlen(v->msg), la, i;
	struct mime_part *r = mime_parse(v->msg, len), *full = NULL;
	struct mime_part *root = NULL, *x;
	char *a = serialize_str(r, &la);

	ck_assert_int_eq(mime_deserialize(a, la, &full), 0);
	ck_assert_int_eq(mime_deserialize_root(a, la, &root), 0);
	ck_assert_uint_eq(root->nchildren, 0);
	ck_assert_uint_eq(root->hdr_off, full->hdr_off);
	ck_assert_uint_eq(root->hdr_len, full->hdr_len);
	ck_assert_uint_eq(root->body_off, full->body_off);
	ck_assert_uint_eq(root->body_len, full->body_len);
	ck_assert_str_eq(root->type, full->type);
	ck_assert_str_eq(root->subtype, full->subtype);
	ck_assert_uint_eq(root->nparams, full->nparams);
	if (full->header != NULL)
		ck_assert_str_eq(root->header, full->header);
	for (i = 0; i < MIME_ENV_COUNT; i++) {
		if (full->env[i] == NULL)
			ck_assert_ptr_null(root->env[i]);
		else
			ck_assert_str_eq(root->env[i], full->env[i]);
	}
	for (i = 0; i < la; i++) {
		x = NULL;
		if (mime_deserialize_root(a, i, &x) == 0)
			mime_part_free(&x);
		else
			ck_assert_ptr_null(x);
	}
	free(a);
	mime_part_free(&r);
	mime_part_free(&full);
	mime_part_free(&root);
}
END_TEST

START_TEST(test_mime_deserialize_garbage)
{
	unsigned char junk[512];
	struct mime_part *x = NULL;
	unsigned int seed = 1;
	size_t i;
	int k;

	for (k = 0; k < 2000; k++) {
		for (i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = (unsigned char)(seed >> 16);
		}
		memcpy(junk, "MVM\1", 4);
		if (mime_deserialize(junk, 4 + (size_t)k % 500, &x) == 0)
			mime_part_free(&x);
	}
	ck_assert_int_eq(mime_deserialize("", 0, &x), -1);
	ck_assert_int_eq(mime_deserialize("MVM\2", 4, &x), -1);
}
END_TEST

struct dvec {
	const char	*in, *want;
};

static const struct dvec dvecs[] = {
	{ "plain text", "plain text" },
	{ "=?utf-8?q?caf=C3=A9?=", "caf\xc3\xa9" },
	{ "=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard" },
	{ "=?utf-8?b?w6k=?= =?utf-8?b?w6k=?=", "\xc3\xa9\xc3\xa9" },
	/* a character split over two words */
	{ "=?utf-8?b?ww==?= =?utf-8?b?qQ==?=", "\xc3\xa9" },
	{ "=?utf-8?q?a_b?=\r\n =?utf-8?q?c?=", "a bc" },
	{ "a =?utf-8?q?b?= c", "a b c" },
	{ "=?US-ASCII*EN?Q?Keith?=", "Keith" },
	{ "=?bogus-charset?q?x?=", "x" },
	{ "broken =?utf-8?q?no end", "broken =?utf-8?q?no end" },
	{ "raw \xe9 latin1", "raw \xef\xbf\xbd latin1" },
	{ "=?utf-8?q?=FF?=", "\xef\xbf\xbd" },
	{ "=?iso-2022-jp?b?GyRCJEYkOSRIGyhC?=", "\xe3\x81\xa6\xe3\x81\x99\xe3\x81\xa8" },
};

START_TEST(test_mime_decode_header)
{
	const struct dvec *v = &dvecs[_i];
	struct buf out;

	buf_init(&out, 4096);
	ck_assert_int_eq(mime_decode_header(v->in, strlen(v->in), &out), 0);
	ck_assert_msg(strcmp(out.data, v->want) == 0, "%s -> %s", v->in, out.data);
	buf_free(&out);
}
END_TEST

START_TEST(test_mime_qp_split_anywhere)
{
	static const char in[] = "caf=C3=A9 soft=\r\nbreak =3d=\nlf= \r\nws =ZZ end=";
	static const char want[] = "caf\xc3\xa9 softbreak =lfws =ZZ end=";
	size_t len = sizeof(in) - 1;
	struct mime_qp_dec d;
	struct buf out;

	buf_init(&out, 4096);
	mime_qp_dec_init(&d);
	ck_assert_int_eq(mime_qp_dec_feed(&d, in, (size_t)_i, &out), 0);
	ck_assert_int_eq(mime_qp_dec_feed(&d, in + _i, len - (size_t)_i, &out), 0);
	ck_assert_int_eq(mime_qp_dec_finish(&d, &out), 0);
	ck_assert_str_eq(out.data, want);
	buf_free(&out);
}
END_TEST

/* Children lie inside their parent, offsets inside the message. */
static void
check_sane(const struct mime_part *p, uint64_t start, uint64_t end)
{
	size_t i;

	ck_assert_uint_ge(p->hdr_off, start);
	ck_assert_uint_eq(p->hdr_off + p->hdr_len, p->body_off);
	ck_assert_uint_le(p->body_off + p->body_len, end);
	ck_assert_uint_le(p->body_lines, p->body_len);
	ck_assert_ptr_nonnull(p->type);
	ck_assert_ptr_nonnull(p->subtype);
	if (p->header != NULL)
		ck_assert_uint_le(strlen(p->header), p->hdr_len);
	for (i = 0; i < p->nchildren; i++) {
		check_sane(&p->children[i], p->body_off, p->body_off + p->body_len);
		if (i > 0)
			ck_assert_uint_ge(p->children[i].hdr_off,
			    p->children[i - 1].body_off + p->children[i - 1].body_len);
	}
}

START_TEST(test_mime_corpus_sane)
{
	DIR *dir = opendir("tests/corpus");
	struct dirent *de;
	int nfiles = 0;

	if (dir == NULL)
		return;	/* run from elsewhere: nothing to check */
	while ((de = readdir(dir)) != NULL) {
		char path[1024], *data, *a, *b;
		struct mime_part *r, *s, *back;
		struct mime_parser *p;
		size_t n, cut, la, lb;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/corpus/%s", de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		data = xmalloc(8 << 20);
		n = fread(data, 1, 8 << 20, f);
		fclose(f);
		r = mime_parse(data, n);
		check_sane(r, 0, n);
		ck_assert_uint_eq(r->body_off + r->body_len, n);
		/* split in three: same tree */
		p = mime_parser_new();
		cut = n / 3;
		mime_parser_feed(p, data, cut);
		mime_parser_feed(p, data + cut, cut);
		mime_parser_feed(p, data + 2 * cut, n - 2 * cut);
		s = mime_parser_finish(p);
		mime_parser_free(&p);
		a = serialize_str(r, &la);
		b = serialize_str(s, &lb);
		ck_assert_msg(la == lb && memcmp(a, b, la) == 0, "%s", path);
		ck_assert_int_eq(mime_deserialize(a, la, &back), 0);
		mime_part_free(&back);
		free(a);
		free(b);
		mime_part_free(&r);
		mime_part_free(&s);
		free(data);
		nfiles++;
	}
	closedir(dir);
}
END_TEST

static Suite *
mime_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("parse");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_mime_tree_vectors, 0, (int)ARRAY_SIZE(vecs));
	tcase_add_loop_test(tc, test_mime_byte_by_byte, 0, (int)ARRAY_SIZE(vecs));
	tcase_add_loop_test(tc, test_mime_split_anywhere, 0,
	    (int)sizeof(nested_msg));
	tcase_add_test(tc, test_mime_fields);
	tcase_add_test(tc, test_mime_broken_content_type);
	tcase_add_test(tc, test_mime_nested_too_deep);
	tcase_add_test(tc, test_mime_too_many_parts);
	tcase_add_test(tc, test_mime_huge_header_not_kept);
	tcase_add_test(tc, test_mime_large_body_streams);
	tcase_add_test(tc, test_mime_corpus_sane);
	suite_add_tcase(s, tc);

	tc = tcase_create("serialize");
	tcase_add_loop_test(tc, test_mime_deserialize_root_is_the_root, 0,
	    (int)ARRAY_SIZE(vecs));
	tcase_add_loop_test(tc, test_mime_serialize_roundtrip, 0, (int)ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_mime_deserialize_garbage);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_mime_decode_header, 0, (int)ARRAY_SIZE(dvecs));
	tcase_add_loop_test(tc, test_mime_qp_split_anywhere, 0, 45);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mime_suite());
	int nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
