/*
 * imap_lex: IMAP tokens from bytes, one byte at a time.
 *
 * The lexer keeps the bytes fed and not yet looked at in `in` (from `pos`
 * on), and the value of the token being read in `val`. Each byte moves the
 * state machine one step and is either taken (pos advances) or left for
 * the next state; an error never takes the byte that caused it, so a CR or
 * LF that ends a bad line is still there for imap_lex_skip_line() to see.
 * Literal data is handed out straight from `in` and never copied, except
 * when the caller asked to collect a small literal into `val`.
 *
 * While skipping a line (`skipping`), the same literal header states run,
 * but a malformed header just goes back to skipping instead of failing.
 */
#include "lib/imap_lex.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/util.h"

enum lx_state {
	LX_START,	/* between tokens */
	LX_CR,		/* after a CR at the end of a line */
	LX_ATOM,
	LX_TILDE,	/* after '~': a literal8 if '{' follows, else an atom */
	LX_QUOTED,
	LX_QUOTED_ESC,	/* after a backslash in a quoted string */
	LX_LIT_SIZE,	/* after '{': the digits */
	LX_LIT_PLUS,	/* after "{n+": '}' must follow */
	LX_LIT_CLOSE,	/* after '}': CRLF must follow */
	LX_LIT_CR,	/* after "}\r": LF must follow */
	LX_LIT_WAIT,	/* LITERAL_START returned; the caller chooses */
	LX_LIT_STREAM,
	LX_LIT_COLLECT,
	LX_LIT_SKIP,
	LX_TEXT_SP,	/* a text read: one SP may be skipped */
	LX_TEXT,
	LX_FAILED,	/* -1 returned; waiting for imap_lex_skip_line */
	LX_SKIP,	/* discarding the rest of a line */
};

/* What the caller asked for, which matters only where a token starts. */
enum lx_want {
	WANT_TOKEN,
	WANT_ASTRING,
	WANT_TEXT,
	WANT_CODE_TEXT,
};

struct imap_lex {
	struct imap_lex_limits lim;
	enum lx_state	state;
	struct buf	in;		/* input; bytes before pos are used */
	size_t		pos;
	struct buf	val;		/* the current token's value */
	size_t		line_len;	/* bytes of this line, no literal data */
	size_t		sp;		/* spaces before the current token */
	unsigned	depth;		/* open parens on this line */
	int		skipping;	/* discarding to the end of the line */
	int		astring;	/* the current atom may hold [ and ] */
	int		text_bracket;	/* the current text stops at ']' */
	/* the literal being read: header, then the bytes still to come */
	uint64_t	lit_size;
	int		lit_digits;
	int		lit_sync;
	int		lit8;
	uint64_t	lit_left;
	int		lit_data;	/* its data is on the wire (skip it) */
	int		lit_started;	/* a stream piece was returned */
	enum imap_lex_err errcode;
	char		errmsg[160];
};

void
imap_lex_set_limits(struct imap_lex *lx, const struct imap_lex_limits *lim)
{
	assert(lim->max_line >= 64 && lim->max_depth > 0);
	lx->lim = *lim;
	lx->val.max = lim->max_line;
}

struct imap_lex *
imap_lex_new(const struct imap_lex_limits *lim)
{
	struct imap_lex *lx = xcalloc(1, sizeof(*lx));

	buf_init(&lx->in, IMAP_LEX_FEED_MAX);
	buf_init(&lx->val, lim->max_line);
	imap_lex_set_limits(lx, lim);
	lx->state = LX_START;
	return lx;
}

void
imap_lex_free(struct imap_lex **lxp)
{
	struct imap_lex *lx = *lxp;

	if (lx == NULL)
		return;
	buf_free(&lx->in);
	buf_free(&lx->val);
	free(lx);
	*lxp = NULL;
}

int
imap_lex_feed(struct imap_lex *lx, const void *p, size_t n)
{
	if (lx->pos > 0) {
		buf_consume(&lx->in, lx->pos);
		lx->pos = 0;
	}
	return buf_add(&lx->in, p, n);
}

size_t
imap_lex_pending(const struct imap_lex *lx)
{
	return lx->in.len - lx->pos;
}

const char *
imap_lex_error(const struct imap_lex *lx)
{
	return lx->errcode == IMAP_LEX_EOK ? "no error" : lx->errmsg;
}

enum imap_lex_err
imap_lex_errcode(const struct imap_lex *lx)
{
	return lx->errcode;
}

static int
fail(struct imap_lex *lx, enum imap_lex_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct imap_lex *lx, enum imap_lex_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lx->errmsg, sizeof(lx->errmsg), fmt, ap);
	va_end(ap);
	lx->errcode = code;
	lx->state = LX_FAILED;
	return -1;
}

static int
fail_byte(struct imap_lex *lx, const char *where, unsigned char c)
{
	if (c >= 0x21 && c < 0x7f)
		return fail(lx, IMAP_LEX_ESYNTAX, "Unexpected '%c' %s", c,
		    where);
	return fail(lx, IMAP_LEX_ESYNTAX, "Unexpected byte 0x%02x %s", c,
	    where);
}

/* ATOM-CHAR of RFC 3501, plus the list wildcards '%' and '*'. */
static int
is_atom_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	return strchr("(){\"\\[]", c) == NULL;
}

/* Bytes that end an atom without being an error. */
static int
ends_atom(unsigned char c)
{
	return c != '\0' && strchr(" \r\n(){\"[]", c) != NULL;
}

/* Take the byte at pos as part of the line, within the line limit. */
static int
take(struct imap_lex *lx)
{
	if (!lx->skipping && lx->line_len >= lx->lim.max_line)
		return fail(lx, IMAP_LEX_ELINE,
		    "Line longer than %zu bytes", lx->lim.max_line);
	lx->line_len++;
	lx->pos++;
	return 0;
}

/* Take the byte at pos into the token's value. */
static int
take_val(struct imap_lex *lx)
{
	char c = lx->in.data[lx->pos];

	if (take(lx) < 0)
		return -1;
	if (buf_addc(&lx->val, c) < 0)
		return fail(lx, IMAP_LEX_ELINE, "Token longer than %zu bytes",
		    lx->lim.max_line);
	return 0;
}

static void
end_line(struct imap_lex *lx)
{
	lx->line_len = 0;
	lx->depth = 0;
	lx->skipping = 0;
	lx->state = LX_START;
}

/* Fill *tok for a token that has no literal fields, and start afresh. */
static int
emit(struct imap_lex *lx, struct imap_tok *tok, enum imap_tok_kind kind,
    const char *s, size_t len)
{
	memset(tok, 0, sizeof(*tok));
	tok->kind = kind;
	tok->s = s;
	tok->len = len;
	tok->sp = lx->sp;
	lx->sp = 0;
	if (lx->state != LX_LIT_WAIT)
		lx->state = LX_START;
	return 1;
}

static int
emit_val(struct imap_lex *lx, struct imap_tok *tok, enum imap_tok_kind kind)
{
	return emit(lx, tok, kind, lx->val.data ? lx->val.data : "",
	    lx->val.len);
}

static int
emit_char(struct imap_lex *lx, struct imap_tok *tok, enum imap_tok_kind kind,
    const char *s)
{
	if (take(lx) < 0)
		return -1;
	return emit(lx, tok, kind, s, 1);
}

/* Begin a token whose value is gathered in val. */
static int
begin_val(struct imap_lex *lx, enum lx_state state, int take_it)
{
	buf_reset(&lx->val);
	lx->state = state;
	if (take_it)
		return take_val(lx);
	return 0;
}

static int
begin_literal(struct imap_lex *lx)
{
	lx->lit_size = 0;
	lx->lit_digits = 0;
	lx->lit_sync = 1;
	lx->state = LX_LIT_SIZE;
	lx->pos++;
	lx->line_len++;
	return 0;
}

static int
step_start(struct imap_lex *lx, struct imap_tok *tok, enum lx_want want)
{
	unsigned char c = (unsigned char)lx->in.data[lx->pos];
	int brackets_atom = want == WANT_ASTRING;

	lx->astring = brackets_atom;
	switch (c) {
	case ' ':
		lx->sp++;
		return take(lx);
	case '\r':
		lx->state = LX_CR;
		return take(lx);
	case '\n':
		lx->pos++;
		emit(lx, tok, IMAP_TOK_CRLF, "\r\n", 2);
		end_line(lx);
		return 1;
	case '(':
		if (lx->depth >= lx->lim.max_depth)
			return fail(lx, IMAP_LEX_EDEPTH,
			    "Parentheses nested deeper than %u",
			    lx->lim.max_depth);
		lx->depth++;
		return emit_char(lx, tok, IMAP_TOK_LPAREN, "(");
	case ')':
		if (lx->depth == 0)
			return fail(lx, IMAP_LEX_ESYNTAX,
			    "')' without a matching '('");
		lx->depth--;
		return emit_char(lx, tok, IMAP_TOK_RPAREN, ")");
	case '"':
		if (take(lx) < 0)
			return -1;
		return begin_val(lx, LX_QUOTED, 0);
	case '{':
		/*
		 * The line limit is checked where a literal header starts,
		 * not inside it (it is short by itself): an error never
		 * cuts a header in two, so skipping the line always knows
		 * the size of a LITERAL+ that follows.
		 */
		if (lx->line_len >= lx->lim.max_line)
			return take(lx);
		lx->lit8 = 0;
		return begin_literal(lx);
	case '~':
		lx->state = LX_TILDE;
		return take(lx);
	}
	if ((c == '[' || c == ']') && !brackets_atom)
		return emit_char(lx, tok, c == '[' ? IMAP_TOK_LBRACKET :
		    IMAP_TOK_RBRACKET, c == '[' ? "[" : "]");
	if (is_atom_char(c) || c == '\\' || c == '[' || c == ']')
		return begin_val(lx, LX_ATOM, 1);
	return fail_byte(lx, "at the start of a token", c);
}

static int
step_atom(struct imap_lex *lx, struct imap_tok *tok)
{
	unsigned char c = (unsigned char)lx->in.data[lx->pos];

	if (is_atom_char(c) || (lx->astring && (c == '[' || c == ']')))
		return take_val(lx);
	if (ends_atom(c))
		return emit_val(lx, tok, IMAP_TOK_ATOM);
	return fail_byte(lx, "in an atom", c);
}

static int
step_quoted(struct imap_lex *lx, struct imap_tok *tok)
{
	unsigned char c = (unsigned char)lx->in.data[lx->pos];

	if (lx->state == LX_QUOTED_ESC) {
		if (c != '"' && c != '\\')
			return fail_byte(lx, "after a backslash in a quoted "
			    "string", c);
		lx->state = LX_QUOTED;
		return take_val(lx);
	}
	switch (c) {
	case '"':
		if (take(lx) < 0)
			return -1;
		return emit_val(lx, tok, IMAP_TOK_QUOTED);
	case '\\':
		lx->state = LX_QUOTED_ESC;
		return take(lx);
	case '\r':
	case '\n':
		return fail(lx, IMAP_LEX_ESYNTAX,
		    "Quoted string not closed at the end of the line");
	case '\0':
		return fail(lx, IMAP_LEX_ESYNTAX, "NUL in a quoted string");
	}
	return take_val(lx);
}

/* A literal header went wrong: an error, or back to skipping the line. */
static int
bad_header(struct imap_lex *lx, unsigned char c)
{
	if (lx->skipping) {
		lx->state = LX_SKIP;
		return 0;
	}
	return fail_byte(lx, "in a literal's size", c);
}

/* The header and its CRLF are read. */
static int
header_done(struct imap_lex *lx, struct imap_tok *tok)
{
	lx->lit_left = lx->lit_size;
	if (lx->skipping) {
		if (lx->lit_sync)
			end_line(lx);
		else
			lx->state = LX_LIT_SKIP;
		return 0;
	}
	if (lx->lit_size > lx->lim.max_literal) {
		lx->lit_data = !lx->lit_sync;
		return fail(lx, IMAP_LEX_ETOOBIG,
		    "Literal of %llu bytes is larger than %llu",
		    (unsigned long long)lx->lit_size,
		    (unsigned long long)lx->lim.max_literal);
	}
	lx->state = LX_LIT_WAIT;
	lx->lit_data = 1;
	emit(lx, tok, IMAP_TOK_LITERAL_START, "{", 1);
	tok->lit_size = lx->lit_size;
	tok->lit_sync = lx->lit_sync;
	tok->lit8 = lx->lit8;
	return 1;
}

static int
step_header(struct imap_lex *lx, struct imap_tok *tok)
{
	unsigned char c = (unsigned char)lx->in.data[lx->pos];

	switch (lx->state) {
	case LX_LIT_SIZE:
		if (c >= '0' && c <= '9') {
			if (lx->lit_digits >= 19)
				return bad_header(lx, c);
			lx->lit_size = lx->lit_size * 10 + (c - '0');
			lx->lit_digits++;
			break;
		}
		if (lx->lit_digits == 0 || (c != '+' && c != '}'))
			return bad_header(lx, c);
		lx->state = c == '+' ? LX_LIT_PLUS : LX_LIT_CLOSE;
		lx->lit_sync = c == '}';
		break;
	case LX_LIT_PLUS:
		if (c != '}')
			return bad_header(lx, c);
		lx->state = LX_LIT_CLOSE;
		break;
	case LX_LIT_CLOSE:
	case LX_LIT_CR:
		if (c == '\n') {
			lx->pos++;
			lx->line_len++;
			return header_done(lx, tok);
		}
		if (c != '\r' || lx->state == LX_LIT_CR)
			return bad_header(lx, c);
		lx->state = LX_LIT_CR;
		break;
	default:
		abort();
	}
	lx->pos++;
	lx->line_len++;
	return 0;
}

/* The literal's data, as much as there is of it. */
static int
step_literal(struct imap_lex *lx, struct imap_tok *tok)
{
	const char *p = lx->in.data + lx->pos;
	size_t avail = lx->in.len - lx->pos;
	size_t n = avail < lx->lit_left ? avail : (size_t)lx->lit_left;

	switch (lx->state) {
	case LX_LIT_STREAM:
		if (n == 0 && (lx->lit_left > 0 || lx->lit_started))
			return 0;
		lx->pos += n;
		lx->lit_left -= n;
		lx->lit_started = 1;
		emit(lx, tok, IMAP_TOK_LITERAL_DATA, p, n);
		tok->lit_left = lx->lit_left;
		if (lx->lit_left > 0)
			lx->state = LX_LIT_STREAM;
		else
			lx->lit_data = 0;
		return 1;
	case LX_LIT_COLLECT:
		if (!lx->lit8 && memchr(p, '\0', n) != NULL)
			return fail(lx, IMAP_LEX_ESYNTAX, "NUL in a literal");
		if (buf_add(&lx->val, p, n) < 0)
			abort();	/* collect checked the size */
		lx->pos += n;
		lx->lit_left -= n;
		if (lx->lit_left > 0)
			return 0;
		lx->lit_data = 0;
		return emit_val(lx, tok, IMAP_TOK_LITERAL);
	case LX_LIT_SKIP:
		lx->pos += n;
		lx->lit_left -= n;
		if (lx->lit_left > 0)
			return 0;
		lx->lit_data = 0;
		lx->state = lx->skipping ? LX_SKIP : LX_START;
		return 0;
	default:
		abort();
	}
}

/* Where a text read starts; no byte is taken yet. */
static int
begin_text(struct imap_lex *lx, enum lx_want want)
{
	buf_reset(&lx->val);
	lx->text_bracket = want == WANT_CODE_TEXT;
	/* a previous call may have eaten the separating SP already */
	lx->state = lx->sp > 0 ? LX_TEXT : LX_TEXT_SP;
	while (lx->sp > 1) {
		buf_addc(&lx->val, ' ');
		lx->sp--;
	}
	return 0;
}

static int
step_text(struct imap_lex *lx, struct imap_tok *tok)
{
	unsigned char c = (unsigned char)lx->in.data[lx->pos];

	if (lx->state == LX_TEXT_SP) {
		lx->state = LX_TEXT;
		if (c == ' ') {
			lx->sp = 1;
			return take(lx);
		}
		return 0;
	}
	if (c == '\r' || c == '\n' || (c == ']' && lx->text_bracket))
		return emit_val(lx, tok, IMAP_TOK_TEXT);
	if (c == '\0')
		return fail(lx, IMAP_LEX_ESYNTAX, "NUL in text");
	return take_val(lx);
}

static int
step_skip(struct imap_lex *lx)
{
	unsigned char c = (unsigned char)lx->in.data[lx->pos];

	if (c == '{')
		return begin_literal(lx);	/* in case it is a LITERAL+ */
	lx->pos++;
	if (c == '\n')
		end_line(lx);
	return 0;
}

static int
step(struct imap_lex *lx, struct imap_tok *tok, enum lx_want want)
{
	unsigned char c;

	switch (lx->state) {
	case LX_START:
		if (want == WANT_TEXT || want == WANT_CODE_TEXT)
			return begin_text(lx, want);
		return step_start(lx, tok, want);
	case LX_CR:
		if (lx->in.data[lx->pos] != '\n')
			return fail(lx, IMAP_LEX_ESYNTAX, "CR without LF");
		lx->pos++;
		emit(lx, tok, IMAP_TOK_CRLF, "\r\n", 2);
		end_line(lx);
		return 1;
	case LX_ATOM:
		return step_atom(lx, tok);
	case LX_TILDE:
		c = (unsigned char)lx->in.data[lx->pos];
		if (c == '{') {
			lx->lit8 = 1;
			return begin_literal(lx);
		}
		buf_reset(&lx->val);
		buf_addc(&lx->val, '~');
		lx->state = LX_ATOM;
		return 0;
	case LX_QUOTED:
	case LX_QUOTED_ESC:
		return step_quoted(lx, tok);
	case LX_LIT_SIZE:
	case LX_LIT_PLUS:
	case LX_LIT_CLOSE:
	case LX_LIT_CR:
		return step_header(lx, tok);
	case LX_TEXT_SP:
	case LX_TEXT:
		return step_text(lx, tok);
	case LX_SKIP:
		return step_skip(lx);
	default:
		abort();
	}
}

static int
run(struct imap_lex *lx, struct imap_tok *tok, enum lx_want want)
{
	int rc;

	assert(lx->state != LX_LIT_WAIT);
	if (lx->state == LX_FAILED)
		return -1;
	for (;;) {
		switch (lx->state) {
		case LX_LIT_STREAM:
		case LX_LIT_COLLECT:
		case LX_LIT_SKIP:
			rc = step_literal(lx, tok);
			if (rc != 0 || lx->pos == lx->in.len)
				return rc;
			continue;
		default:
			break;
		}
		if (lx->pos == lx->in.len)
			return 0;
		rc = step(lx, tok, want);
		if (rc != 0)
			return rc;
	}
}

int
imap_lex_next(struct imap_lex *lx, struct imap_tok *tok)
{
	return run(lx, tok, WANT_TOKEN);
}

int
imap_lex_astring(struct imap_lex *lx, struct imap_tok *tok)
{
	return run(lx, tok, WANT_ASTRING);
}

int
imap_lex_text(struct imap_lex *lx, struct imap_tok *tok)
{
	return run(lx, tok, WANT_TEXT);
}

int
imap_lex_code_text(struct imap_lex *lx, struct imap_tok *tok)
{
	return run(lx, tok, WANT_CODE_TEXT);
}

void
imap_lex_literal_stream(struct imap_lex *lx)
{
	assert(lx->state == LX_LIT_WAIT);
	lx->lit_started = 0;
	lx->state = LX_LIT_STREAM;
}

int
imap_lex_literal_collect(struct imap_lex *lx, size_t max)
{
	assert(lx->state == LX_LIT_WAIT);
	if (lx->lit_size > max || lx->lit_size > lx->lim.max_line)
		return -1;
	buf_reset(&lx->val);
	lx->state = LX_LIT_COLLECT;
	return 0;
}

void
imap_lex_literal_skip(struct imap_lex *lx)
{
	assert(lx->state == LX_LIT_WAIT);
	lx->state = LX_LIT_SKIP;
}

void
imap_lex_skip_line(struct imap_lex *lx)
{
	enum lx_state st = lx->state;
	enum imap_lex_err err = lx->errcode;

	lx->errcode = IMAP_LEX_EOK;
	lx->sp = 0;
	if (st == LX_START && lx->line_len == 0)
		return;		/* right after a CRLF: nothing to skip */
	if ((st == LX_LIT_WAIT && lx->lit_sync) ||
	    (st == LX_FAILED && err == IMAP_LEX_ETOOBIG && lx->lit_sync)) {
		/* a refused synchronizing literal: the client stops there */
		lx->lit_data = 0;
		end_line(lx);
		return;
	}
	lx->skipping = 1;
	if (st == LX_LIT_WAIT || st == LX_LIT_STREAM ||
	    st == LX_LIT_COLLECT || st == LX_LIT_SKIP ||
	    (st == LX_FAILED && lx->lit_data)) {
		lx->state = LX_LIT_SKIP;
		return;
	}
	lx->state = LX_SKIP;
}

int
imap_tok_atom_is(const struct imap_tok *tok, const char *word)
{
	return tok->kind == IMAP_TOK_ATOM && ascii_strcasecmp(tok->s, word) == 0;
}

int
imap_tok_is_string(const struct imap_tok *tok)
{
	return tok->kind == IMAP_TOK_QUOTED || tok->kind == IMAP_TOK_LITERAL;
}

const char *
imap_tok_kind_name(enum imap_tok_kind kind)
{
	static const char *const names[] = {
		[IMAP_TOK_ATOM] = "ATOM",
		[IMAP_TOK_QUOTED] = "QUOTED",
		[IMAP_TOK_LITERAL_START] = "LITERAL_START",
		[IMAP_TOK_LITERAL_DATA] = "LITERAL_DATA",
		[IMAP_TOK_LITERAL] = "LITERAL",
		[IMAP_TOK_LPAREN] = "LPAREN",
		[IMAP_TOK_RPAREN] = "RPAREN",
		[IMAP_TOK_LBRACKET] = "LBRACKET",
		[IMAP_TOK_RBRACKET] = "RBRACKET",
		[IMAP_TOK_TEXT] = "TEXT",
		[IMAP_TOK_CRLF] = "CRLF",
	};

	if ((size_t)kind >= ARRAY_SIZE(names) || names[kind] == NULL)
		return "?";
	return names[kind];
}
