/*
 * Tests for lib/imap_lex: every token kind and error from a table of
 * vectors, each also fed split at every offset and one byte at a time (the
 * tokens must not change), literals in pieces, and recovery by skipping
 * the line.
 *
 * A small driver turns a run into one string: tokens separated by a space,
 * each preceded by one '_' per SP before it. A(atom) Q(quoted) L(collected
 * literal) D(streamed literal, pieces joined) T(text) {n} {n+} ~{n}
 * ( ) [ ] and $ for CRLF; an error is !S (syntax), !L (line), !D (depth)
 * or !B (too big), after which the driver skips the line.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/imap_lex.h"
#include "lib/util.h"

static const struct imap_lex_limits lim_test = { 64, 40, 3 };

/*
 * The driver. ops says which call reads each token: 'n' imap_lex_next,
 * 'a' astring, 't' text, 'c' code text; 'Z' calls imap_lex_skip_line
 * first. At a LITERAL_START an upper-case op chooses: 'S' stream,
 * 'K' collect, 'X' skip, 'L' skip_line, 'k' collect with max 2; without
 * one, a literal of up to 8 bytes is collected and a longer one streamed.
 * When ops run out, 'n'.
 */
struct drv {
	struct imap_lex	*lx;
	const char	*ops;
	size_t		 op;
	struct buf	 out;
	struct buf	 data;
	int		 streaming;	/* between 'S' and the last piece */
};

static void
put_val(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
	}
}

static char
next_op(struct drv *d)
{
	return d->ops[d->op] != '\0' ? d->ops[d->op] : 'n';
}

static void
advance(struct drv *d)
{
	if (d->ops[d->op] != '\0')
		d->op++;
}

static void
decide(struct drv *d, const struct imap_tok *tok)
{
	char op = next_op(d);

	if (strchr("SKXLk", op) != NULL)
		advance(d);
	else
		op = tok->lit_size <= 8 ? 'K' : 'S';
	switch (op) {
	case 'S':
		buf_reset(&d->data);
		d->streaming = 1;
		imap_lex_literal_stream(d->lx);
		break;
	case 'K':
		ck_assert_int_eq(imap_lex_literal_collect(d->lx, 1000), 0);
		break;
	case 'k':
		ck_assert_int_eq(imap_lex_literal_collect(d->lx, 2), -1);
		buf_adds(&d->out, "k! ");
		imap_lex_skip_line(d->lx);
		break;
	case 'X':
		imap_lex_literal_skip(d->lx);
		break;
	case 'L':
		imap_lex_skip_line(d->lx);
		break;
	}
}

static void
render(struct drv *d, const struct imap_tok *tok)
{
	struct buf *o = &d->out;
	size_t i;

	for (i = 0; i < tok->sp; i++)
		buf_addc(o, '_');
	switch (tok->kind) {
	case IMAP_TOK_ATOM:
	case IMAP_TOK_QUOTED:
	case IMAP_TOK_LITERAL:
	case IMAP_TOK_TEXT:
		buf_addc(o, "AQLT"[tok->kind == IMAP_TOK_ATOM ? 0 :
		    tok->kind == IMAP_TOK_QUOTED ? 1 :
		    tok->kind == IMAP_TOK_LITERAL ? 2 : 3]);
		buf_addc(o, '(');
		put_val(o, tok->s, tok->len);
		ck_assert_int_eq(tok->s[tok->len], '\0');
		buf_adds(o, ") ");
		break;
	case IMAP_TOK_LITERAL_START:
		buf_printf(o, "%s{%llu%s} ", tok->lit8 ? "~" : "",
		    (unsigned long long)tok->lit_size,
		    tok->lit_sync ? "" : "+");
		break;
	case IMAP_TOK_LPAREN:
	case IMAP_TOK_RPAREN:
	case IMAP_TOK_LBRACKET:
	case IMAP_TOK_RBRACKET:
		buf_printf(o, "%s ", tok->s);
		break;
	case IMAP_TOK_CRLF:
		buf_adds(o, "$ ");
		break;
	case IMAP_TOK_LITERAL_DATA:
		abort();
	}
}

static int
call(struct drv *d, char op, struct imap_tok *tok)
{
	switch (op) {
	case 'a':
		return imap_lex_astring(d->lx, tok);
	case 't':
		return imap_lex_text(d->lx, tok);
	case 'c':
		return imap_lex_code_text(d->lx, tok);
	default:
		return imap_lex_next(d->lx, tok);
	}
}

/* Pull tokens until the lexer wants more input. */
static void
drain(struct drv *d)
{
	struct imap_tok tok;
	int r;

	for (;;) {
		if (next_op(d) == 'Z' && !d->streaming) {
			imap_lex_skip_line(d->lx);
			advance(d);
		}
		r = call(d, next_op(d), &tok);
		if (r == 0)
			return;
		if (r > 0 && tok.kind == IMAP_TOK_LITERAL_DATA) {
			buf_add(&d->data, tok.s, tok.len);
			if (tok.lit_left == 0) {
				d->streaming = 0;
				buf_adds(&d->out, "D(");
				put_val(&d->out, d->data.data ? d->data.data :
				    "", d->data.len);
				buf_adds(&d->out, ") ");
			}
			continue;
		}
		advance(d);
		if (r < 0) {
			buf_printf(&d->out, "!%c ", "?SLDB"[
			    imap_lex_errcode(d->lx)]);
			ck_assert_ptr_nonnull(imap_lex_error(d->lx));
			imap_lex_skip_line(d->lx);
			continue;
		}
		render(d, &tok);
		if (tok.kind == IMAP_TOK_LITERAL_START)
			decide(d, &tok);
	}
}

static void
drv_init(struct drv *d, const struct imap_lex_limits *lim, const char *ops)
{
	d->lx = imap_lex_new(lim);
	d->ops = ops;
	d->op = 0;
	d->streaming = 0;
	buf_init(&d->out, 1 << 20);
	buf_init(&d->data, 1 << 20);
}

/* The rendering, without its last space; the caller frees it. */
static char *
drv_done(struct drv *d)
{
	size_t len;
	char *s;

	imap_lex_free(&d->lx);
	ck_assert_ptr_null(d->lx);
	buf_free(&d->data);
	s = buf_steal(&d->out, &len);
	if (len > 0 && s[len - 1] == ' ')
		s[len - 1] = '\0';
	return s;
}

/* Feed in at the cuts given (offsets, ascending), draining after each. */
static char *
lex_cuts(const char *in, size_t len, const char *ops, const size_t *cuts,
    size_t ncuts, const struct imap_lex_limits *lim)
{
	struct drv d;
	size_t prev = 0, i;

	drv_init(&d, lim, ops);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		ck_assert_int_eq(imap_lex_feed(d.lx, in + prev, end - prev),
		    0);
		drain(&d);
		ck_assert_uint_eq(imap_lex_pending(d.lx), 0);
		prev = end;
	}
	return drv_done(&d);
}

static char *
lex_all(const char *in, size_t len, const char *ops,
    const struct imap_lex_limits *lim)
{
	return lex_cuts(in, len, ops, NULL, 0, lim);
}

struct vec {
	const char	*name;
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	const char	*ops;
	const char	*want;
};

#define V(name, in, ops, want)	{ name, in, sizeof(in) - 1, ops, want }

static const struct vec vecs[] = {
	V("simple command", "a1 NOOP\r\n", "", "A(a1) _A(NOOP) $"),
	V("bare LF ends a line", "a NOOP\n", "", "A(a) _A(NOOP) $"),
	V("trailing spaces are counted", "a NOOP  \r\n", "",
	    "A(a) _A(NOOP) __$"),
	V("flags and wildcard sequence",
	    "a STORE 1:* +FLAGS (\\Seen \\*)\r\n", "",
	    "A(a) _A(STORE) _A(1:*) _A(+FLAGS) _( A(\\Seen) _A(\\*) ) $"),
	V("quoted with escapes", "a LOGIN \"us\\\"er\" \"p\\\\w\"\r\n", "",
	    "A(a) _A(LOGIN) _Q(us\"er) _Q(p\\w) $"),
	V("quoted empty and 8-bit", "\"\" \"caf\xc3\xa9\"\r\n", "",
	    "Q() _Q(caf\\xc3\\xa9) $"),
	V("literals collected", "a LOGIN {3}\r\nbob {4+}\r\npass\r\n", "",
	    "A(a) _A(LOGIN) _{3} L(bob) _{4+} L(pass) $"),
	V("literal streamed",
	    "x APPEND box (\\Seen) {20}\r\n0123456789\r\n12345678\r\n", "",
	    "A(x) _A(APPEND) _A(box) _( A(\\Seen) ) _{20} "
	    "D(0123456789\\x0d\\x0a12345678) $"),
	V("empty literal collected", "{0}\r\n\r\n", "", "{0} L() $"),
	V("empty literal streamed", "{0}\r\n\r\n", "nS", "{0} D() $"),
	V("literal8 may hold NUL", "~{3+}\r\na\0b\r\n", "nK",
	    "~{3+} L(a\\x00b) $"),
	V("tilde atoms", "~peter/mail ~ a~{1}\r\nx\r\n", "",
	    "A(~peter/mail) _A(~) _A(a~) {1} L(x) $"),
	V("fetch section and partial",
	    "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> BODY[])\r\n",
	    "",
	    "A(a) _A(FETCH) _A(1) _( A(BODY.PEEK) [ A(HEADER.FIELDS) _( "
	    "A(From) _A(To) ) ] A(<0.100>) _A(BODY) [ ] ) $"),
	V("astring keeps brackets", "a SELECT [Gmail]/Sent\r\n", "nna",
	    "A(a) _A(SELECT) _A([Gmail]/Sent) $"),
	V("list wildcards", "a LIST \"\" %/*\r\n", "", 
	    "A(a) _A(LIST) _Q() _A(%/*) $"),
	V("response code and text",
	    "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n", "nnnnnnt",
	    "A(*) _A(OK) _[ A(UIDVALIDITY) _A(3857529045) ] _T(UIDs valid) $"),
	V("permanentflags code",
	    "* OK [PERMANENTFLAGS (\\Deleted \\*)] Limited\r\n", "nnnnnnnnnt",
	    "A(*) _A(OK) _[ A(PERMANENTFLAGS) _( A(\\Deleted) _A(\\*) ) ] "
	    "_T(Limited) $"),
	V("continuation with text", "+ Ready for literal\r\n", "nt",
	    "A(+) _T(Ready for literal) $"),
	V("continuation without text", "+\r\n", "nt", "A(+) T() $"),
	V("text keeps further spaces", "* BYE  bye :)\r\n", "nnt",
	    "A(*) _A(BYE) _T( bye :)) $"),
	V("unknown code text", "* OK [X-FOO some] text] done\r\n", "nnnncnt",
	    "A(*) _A(OK) _[ A(X-FOO) _T(some) ] _T(text] done) $"),
	V("fetch response with literal",
	    "* 3 FETCH (UID 5 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n", "",
	    "A(*) _A(3) _A(FETCH) _( A(UID) _A(5) _A(FLAGS) _( A(\\Seen) ) "
	    "_A(BODY) [ ] _{5} L(hello) ) $"),
	V("fetch response streamed",
	    "* 1 FETCH (BODY[] {12}\r\nab\r\n\r\nc{3}\r\n)\r\n", "nnnnnnnS",
	    "A(*) _A(1) _A(FETCH) _( A(BODY) [ ] _{12} "
	    "D(ab\\x0d\\x0a\\x0d\\x0ac{3}\\x0d\\x0a) ) $"),
	V("literal skipped", "a {3}\r\nabc b\r\n", "nnX", "A(a) _{3} _A(b) $"),
	V("AUTHENTICATE response line", "dGVzdA==\r\n*\r\n", "tntn",
	    "T(dGVzdA==) $ T(*) $"),

	/* errors, and the line after them */
	V("bare CR", "a\rb\r\nc\r\n", "", "A(a) !S A(c) $"),
	V("unbalanced paren", "a )\r\nb\r\n", "", "A(a) !S A(b) $"),
	V("bad escape", "\"a\\b\"\r\nc\r\n", "", "!S A(c) $"),
	V("quoted not closed", "x \"abc\r\nd\r\n", "", "A(x) !S A(d) $"),
	V("NUL in quoted", "\"a\0\"\r\nd\r\n", "", "!S A(d) $"),
	V("NUL in atom", "a\0b\r\nc\r\n", "", "!S A(c) $"),
	V("8-bit in atom", "caf\xc3\xa9\r\nc\r\n", "", "!S A(c) $"),
	V("control at token start", "\x01\r\nc\r\n", "", "!S A(c) $"),
	V("backslash inside atom", "a\\b\r\nc\r\n", "", "!S A(c) $"),
	V("nesting too deep", "((((a))))\r\nb\r\n", "", "( ( ( !D A(b) $"),
	V("line too long",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\r\nb\r\n", "", "!L A(b) $"),
	V("line too long, LITERAL+ data not read as lines",
	    "a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "\" {6+}\r\nab\r\ncd\r\nnext\r\n", "", "A(a) !L A(next) $"),
	V("bad literal size", "{3x}\r\nb\r\n", "", "!S A(b) $"),
	V("literal size overflows", "{99999999999999999999}\r\nb\r\n", "",
	    "!S A(b) $"),
	V("literal header not at line end", "{3} x\r\nb\r\n", "", "!S A(b) $"),
	V("too big synchronizing literal",
	    "a APPEND box {41}\r\nb NOOP\r\n", "",
	    "A(a) _A(APPEND) _A(box) !B A(b) _A(NOOP) $"),
	V("too big LITERAL+ is skipped",
	    "a APPEND box {41+}\r\n"
	    "0123456789\r\n0123456789\r\n0123456789\r\nabcde"
	    " {3+}\r\nx\r\n\r\nb NOOP\r\n", "",
	    "A(a) _A(APPEND) _A(box) !B A(b) _A(NOOP) $"),
	V("refused synchronizing literal ends the line",
	    "a APPEND box {5}\r\nb NOOP\r\n", "nnnnL",
	    "A(a) _A(APPEND) _A(box) _{5} A(b) _A(NOOP) $"),
	V("refused LITERAL+ is skipped with its line",
	    "a APPEND box {5+}\r\nab\r\nc x\r\nb NOOP\r\n", "nnnnL",
	    "A(a) _A(APPEND) _A(box) _{5+} A(b) _A(NOOP) $"),
	V("refused MULTIAPPEND skips the later literals",
	    "a APPEND box {3+}\r\nabc {4+}\r\nd\r\nf\r\nz\r\n", "nnnnL",
	    "A(a) _A(APPEND) _A(box) _{3+} A(z) $"),
	V("skipped line ends at a synchronizing literal",
	    "a X {4+}\r\nab\r\n {2}\r\nz\r\n", "nnZ",
	    "A(a) _A(X) A(z) $"),
	V("literal too long to collect",
	    "a LOGIN {3}\r\nb NOOP\r\n", "nnnk",
	    "A(a) _A(LOGIN) _{3} k! A(b) _A(NOOP) $"),
	V("skip after a streamed literal",
	    "a APPEND b {12}\r\n0123456789\r\n c\r\nd\r\n", "nnnnSZ",
	    "A(a) _A(APPEND) _A(b) _{12} D(0123456789\\x0d\\x0a) A(d) $"),
	V("NUL in a collected literal",
	    "{3}\r\na\0b c\r\nd\r\n", "nK", "{3} !S A(d) $"),
	V("skip after a parser error mid-line",
	    "a FOO bar (baz\r\nb\r\n", "nnZ", "A(a) _A(FOO) A(b) $"),
	V("skip right after CRLF is a no-op",
	    "a FOO\r\nb\r\n", "nnnZ", "A(a) _A(FOO) $ A(b) $"),
	V("error on the first byte of a line",
	    "\x7f\r\nb\r\n", "", "!S A(b) $"),
};

/* Each vector, fed at once. */
START_TEST(test_imap_lex_vectors)
{
	const struct vec *v = &vecs[_i];
	char *got = lex_all(v->in, v->len, v->ops, &lim_test);

	ck_assert_msg(strcmp(got, v->want) == 0, "%s:\n got  %s\n want %s",
	    v->name, got, v->want);
	free(got);
}
END_TEST

/* Cut every vector at offset _i: the tokens must not change. */
START_TEST(test_imap_lex_split_anywhere)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(vecs); k++) {
		const struct vec *v = &vecs[k];
		size_t cut = (size_t)_i < v->len ? (size_t)_i : v->len;
		char *got = lex_cuts(v->in, v->len, v->ops, &cut, 1,
		    &lim_test);

		ck_assert_msg(strcmp(got, v->want) == 0,
		    "%s cut at %zu:\n got  %s\n want %s", v->name, cut, got,
		    v->want);
		free(got);
	}
}
END_TEST

/* Feed every vector one byte at a time. */
START_TEST(test_imap_lex_byte_by_byte)
{
	const struct vec *v = &vecs[_i];
	size_t *cuts = xcalloc(v->len + 1, sizeof(*cuts));
	size_t k;
	char *got;

	for (k = 0; k < v->len; k++)
		cuts[k] = k;
	got = lex_cuts(v->in, v->len, v->ops, cuts, v->len, &lim_test);
	ck_assert_msg(strcmp(got, v->want) == 0, "%s:\n got  %s\n want %s",
	    v->name, got, v->want);
	free(got);
	free(cuts);
}
END_TEST

/* A 64 MiB APPEND streams through in pieces; nothing grows with it. */
START_TEST(test_imap_lex_large_literal_in_pieces)
{
	static char chunk[65536];
	const struct imap_lex_limits lim = { IMAP_LEX_LINE_AUTH,
	    (uint64_t)1 << 30, IMAP_LEX_DEPTH_MAX };
	const uint64_t size = (uint64_t)64 << 20;
	const char *head = "a APPEND INBOX {67108864+}\r\n";
	struct imap_lex *lx = imap_lex_new(&lim);
	struct imap_tok tok;
	uint64_t got = 0, sum = 0, want_sum = 0;
	size_t i, pieces = 0;
	int r;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)(i * 7);
	ck_assert_int_eq(imap_lex_feed(lx, head, strlen(head)), 0);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert(imap_tok_atom_is(&tok, "a"));
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert(imap_tok_atom_is(&tok, "append"));
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert(imap_tok_atom_is(&tok, "INBOX"));
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert_int_eq(tok.kind, IMAP_TOK_LITERAL_START);
	ck_assert_uint_eq(tok.lit_size, size);
	ck_assert_int_eq(tok.lit_sync, 0);
	imap_lex_literal_stream(lx);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 0);
	while (got < size) {
		ck_assert_int_eq(imap_lex_feed(lx, chunk, sizeof(chunk)), 0);
		for (i = 0; i < sizeof(chunk); i++)
			want_sum += (unsigned char)chunk[i];
		while ((r = imap_lex_next(lx, &tok)) == 1) {
			ck_assert_int_eq(tok.kind, IMAP_TOK_LITERAL_DATA);
			ck_assert_uint_le(tok.len, sizeof(chunk));
			for (i = 0; i < tok.len; i++)
				sum += (unsigned char)tok.s[i];
			got += tok.len;
			ck_assert_uint_eq(tok.lit_left, size - got);
			pieces++;
			if (tok.lit_left == 0)
				break;
		}
		ck_assert_uint_eq(imap_lex_pending(lx), 0);
	}
	ck_assert_uint_eq(got, size);
	ck_assert_uint_eq(sum, want_sum);
	ck_assert_uint_eq(pieces, size / sizeof(chunk));
	ck_assert_int_eq(imap_lex_feed(lx, "\r\n", 2), 0);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert_int_eq(tok.kind, IMAP_TOK_CRLF);
	imap_lex_free(&lx);
}
END_TEST

/* The line limit can be raised after login, and feeding is bounded. */
START_TEST(test_imap_lex_limits_change_and_feed_bound)
{
	const struct imap_lex_limits pre = { 64, 100, 4 };
	const struct imap_lex_limits post = { 1024, 100, 4 };
	struct imap_lex *lx = imap_lex_new(&pre);
	struct imap_tok tok;
	char line[200];
	static char big[IMAP_LEX_FEED_MAX + 1];

	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	ck_assert_int_eq(imap_lex_feed(lx, line, sizeof(line)), 0);
	ck_assert_int_eq(imap_lex_next(lx, &tok), -1);
	ck_assert_int_eq(imap_lex_errcode(lx), IMAP_LEX_ELINE);
	ck_assert_ptr_nonnull(strstr(imap_lex_error(lx), "64"));
	ck_assert_int_eq(imap_lex_next(lx, &tok), -1);	/* sticky */
	imap_lex_skip_line(lx);
	ck_assert_int_eq(imap_lex_errcode(lx), IMAP_LEX_EOK);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 0);
	imap_lex_set_limits(lx, &post);
	ck_assert_int_eq(imap_lex_feed(lx, line, sizeof(line)), 0);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert_int_eq(tok.kind, IMAP_TOK_ATOM);
	ck_assert_uint_eq(tok.len, sizeof(line) - 2);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert_int_eq(tok.kind, IMAP_TOK_CRLF);
	ck_assert_int_eq(imap_lex_feed(lx, big, sizeof(big)), -1);
	ck_assert_uint_eq(imap_lex_pending(lx), 0);
	ck_assert_int_eq(imap_lex_feed(lx, "a", 1), 0);
	ck_assert_uint_eq(imap_lex_pending(lx), 1);
	imap_lex_free(&lx);
	imap_lex_free(&lx);	/* NULL is fine */
}
END_TEST

/* A store failure halfway through an APPEND: skip the rest and go on. */
START_TEST(test_imap_lex_skip_line_mid_literal)
{
	const char *a = "a APPEND b {12+}\r\n01234";
	const char *b = "56789\r\n {3+}\r\nx\r\n\r\nb NOOP\r\n";
	struct imap_lex *lx = imap_lex_new(&lim_test);
	struct imap_tok tok;
	int i;

	ck_assert_int_eq(imap_lex_feed(lx, a, strlen(a)), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert_int_eq(tok.kind, IMAP_TOK_LITERAL_START);
	imap_lex_literal_stream(lx);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert_int_eq(tok.kind, IMAP_TOK_LITERAL_DATA);
	ck_assert_uint_eq(tok.len, 5);
	ck_assert_uint_eq(tok.lit_left, 7);
	imap_lex_skip_line(lx);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 0);
	ck_assert_int_eq(imap_lex_feed(lx, b, strlen(b)), 0);
	ck_assert_int_eq(imap_lex_next(lx, &tok), 1);
	ck_assert(imap_tok_atom_is(&tok, "b"));
	ck_assert_uint_eq(tok.sp, 0);
	imap_lex_free(&lx);
}
END_TEST

START_TEST(test_imap_lex_token_helpers)
{
	struct imap_tok tok = { .kind = IMAP_TOK_ATOM, .s = "nil", .len = 3 };

	ck_assert(imap_tok_atom_is(&tok, "NIL"));
	ck_assert(!imap_tok_atom_is(&tok, "NI"));
	ck_assert(!imap_tok_is_string(&tok));
	tok.kind = IMAP_TOK_QUOTED;
	ck_assert(!imap_tok_atom_is(&tok, "NIL"));
	ck_assert(imap_tok_is_string(&tok));
	tok.kind = IMAP_TOK_LITERAL;
	ck_assert(imap_tok_is_string(&tok));
	ck_assert_str_eq(imap_tok_kind_name(IMAP_TOK_CRLF), "CRLF");
	ck_assert_str_eq(imap_tok_kind_name(IMAP_TOK_LITERAL_START),
	    "LITERAL_START");
}
END_TEST

static Suite *
imap_lex_suite(void)
{
	Suite *s = suite_create("imap_lex");
	TCase *tc = tcase_create("core");
	size_t maxlen = 0, k;

	for (k = 0; k < ARRAY_SIZE(vecs); k++)
		if (vecs[k].len > maxlen)
			maxlen = vecs[k].len;
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_imap_lex_vectors, 0, ARRAY_SIZE(vecs));
	tcase_add_loop_test(tc, test_imap_lex_split_anywhere, 0,
	    (int)maxlen + 1);
	tcase_add_loop_test(tc, test_imap_lex_byte_by_byte, 0,
	    ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_imap_lex_large_literal_in_pieces);
	tcase_add_test(tc, test_imap_lex_limits_change_and_feed_bound);
	tcase_add_test(tc, test_imap_lex_token_helpers);
	tcase_add_test(tc, test_imap_lex_skip_line_mid_literal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(imap_lex_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
