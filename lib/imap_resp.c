/*
 * imap_resp: IMAP responses from tokens, one token at a time.
 *
 * The lexer (lib/imap_lex) turns bytes into tokens and keeps the state
 * inside a token; this file is a state machine over tokens. Each state
 * says which lexer call reads its next token (a plain token, an astring
 * where a mailbox name goes, or the rest of the line as text) and handles
 * that one token; a state never changes before its token has arrived, so
 * a call that runs out of input returns 0 and the same call resumes it.
 *
 * What a response carries is gathered as it comes: numbers straight into
 * `cur` (the event being built), strings into one bounded arena by offset
 * (it may move as it grows), list items as offsets into it. When the line
 * ends, emit() turns the offsets into pointers and hands out the event.
 * The arena is emptied when the next line starts, so the pointers live
 * until the next call, as the header promises.
 *
 * Status texts are read whole with imap_lex_text(), then their response
 * code is parsed out of the string: a code always ends at the first ']'
 * (RFC 3501: resp-text-code text has no ']'), and reading the text first
 * is what lets "OK [ALERT] x" and "OK Logged in" share one path.
 */
#include "lib/imap_resp.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/date.h"
#include "lib/imap_lex.h"
#include "lib/util.h"

#define NO_OFF	((size_t)-1)

enum p_state {
	P_LINE,			/* the first token of a response */
	P_TAG_STATUS,		/* after a tag: OK, NO or BAD */
	P_STATUS_TEXT,		/* text with maybe a code */
	P_CONT_TEXT,		/* after "+" */
	P_UNTAGGED,		/* after "*" */
	P_UNTAGGED_NUM,		/* after "* n" */
	P_END,			/* a CRLF, then emit */
	P_SKIP_LINE,		/* anything up to the CRLF, then emit */
	P_ATOMS,		/* atoms up to the CRLF, then emit */
	P_LIST_OPEN,		/* "(" of a flag or attribute list */
	P_LIST_ITEMS,		/* atoms up to ")", then p->after */
	P_LIST_DELIM,
	P_LIST_NAME,
	P_STATUS_MBOX,
	P_STATUS_OPEN,
	P_STATUS_NAME,
	P_STATUS_VAL,
	P_SEARCH,
	P_SEARCH_MS_NAME,
	P_SEARCH_MS_NUM,
	P_SEARCH_MS_CLOSE,
	P_ESEARCH,
	P_ES_TAG_NAME,
	P_ES_TAG_VAL,
	P_ES_TAG_CLOSE,
	P_ES_VAL,
	P_VANISHED,
	P_VAN_EARLIER,
	P_VAN_CLOSE,
	P_VAN_SET,
	P_FETCH_OPEN,
	P_FETCH_ATTR,
	P_FETCH_AFTER_NAME,	/* a '[' with no space, or the value */
	P_FETCH_SECTION,	/* inside [...] */
	P_FETCH_ORIGIN,		/* "<n>" with no space, or the value */
	P_FETCH_VALUE,
	P_FETCH_BODY_DATA,
	P_FETCH_MODSEQ_OPEN,
	P_FETCH_MODSEQ_NUM,
	P_FETCH_MODSEQ_CLOSE,
	P_SKIP_VALUE,		/* one value of any shape, then p->after */
	P_NS_OPEN,		/* NAMESPACE: "(" of the personal list, or NIL */
	P_NS_ONE,		/* "(" of its first namespace */
	P_NS_PREFIX,
	P_NS_DELIM,
	P_FAILED,
};

/* The FETCH attribute whose value comes next. */
enum p_attr {
	A_UID,
	A_SIZE,
	A_DATE,
	A_BODYNAME,	/* "BODY" or "BINARY": a section may follow */
	A_BODY,		/* the whole message: streamed */
	A_OTHER,	/* skipped */
};

/* The string fields of struct imap_resp, kept as arena offsets. */
enum p_str {
	S_TAG, S_TEXT, S_CODE_NAME, S_CODE_ARG, S_CODE_SET, S_CODE_SET2,
	S_MAILBOX, S_SET, S_ES_TAG, S_ES_ALL, S_SECTION, S_COUNT
};

struct imap_resp_parser {
	struct imap_lex	*lx;
	struct imap_resp_limits lim;
	enum p_state	 state;
	enum p_state	 after;		/* where a list or skip returns */
	enum imap_resp_kind kind;	/* what the line will emit */
	enum p_attr	 attr;
	struct buf	 sec;		/* the section being read */
	unsigned	 skip_depth;
	char		 item[16];	/* STATUS or ESEARCH item name */
	struct imap_resp cur;
	struct buf	 arena;
	size_t		 off[S_COUNT];
	size_t		*item_off;
	size_t		 nitems, item_cap;
	const char	**items;	/* built by emit() */
	size_t		 items_cap;
	uint32_t	*nums;
	size_t		 nnums, nums_cap;
	char		 err[200];
};

static int handle(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev);

struct imap_resp_parser *
imap_resp_new(const struct imap_resp_limits *lim)
{
	struct imap_resp_parser *p = xcalloc(1, sizeof(*p));
	struct imap_lex_limits ll;

	if (lim != NULL)
		p->lim = *lim;
	else {
		p->lim.max_line = IMAP_RESP_LINE_MAX;
		p->lim.max_literal = IMAP_RESP_LITERAL_MAX;
	}
	assert(p->lim.max_line >= 64);
	ll.max_line = p->lim.max_line;
	ll.max_literal = p->lim.max_literal;
	ll.max_depth = IMAP_LEX_DEPTH_MAX;
	p->lx = imap_lex_new(&ll);
	/* strings of a line, their NULs, and a collected literal or two */
	buf_init(&p->arena, 3 * p->lim.max_line + 1024);
	buf_init(&p->sec, 1024);
	p->state = P_LINE;
	return p;
}

void
imap_resp_free(struct imap_resp_parser **pp)
{
	struct imap_resp_parser *p = *pp;

	if (p == NULL)
		return;
	imap_lex_free(&p->lx);
	buf_free(&p->arena);
	buf_free(&p->sec);
	free(p->item_off);
	free(p->items);
	free(p->nums);
	free(p);
	*pp = NULL;
}

int
imap_resp_feed(struct imap_resp_parser *p, const void *data, size_t n)
{
	return imap_lex_feed(p->lx, data, n);
}

size_t
imap_resp_pending(const struct imap_resp_parser *p)
{
	return imap_lex_pending(p->lx);
}

int
imap_resp_at_line_start(const struct imap_resp_parser *p)
{
	return p->state == P_LINE;
}

const char *
imap_resp_error(const struct imap_resp_parser *p)
{
	return p->err[0] != '\0' ? p->err : "no error";
}

const char *
imap_resp_status_name(enum imap_resp_status st)
{
	static const char *const names[] = {
		[IMAP_RESP_OK] = "OK", [IMAP_RESP_NO] = "NO",
		[IMAP_RESP_BAD] = "BAD", [IMAP_RESP_PREAUTH] = "PREAUTH",
		[IMAP_RESP_BYE] = "BYE",
	};

	if ((size_t)st >= ARRAY_SIZE(names))
		return "?";
	return names[st];
}

static int
fail(struct imap_resp_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct imap_resp_parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, sizeof(p->err), "the server's response is not "
	    "valid IMAP: ");
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(p->err))
		vsnprintf(p->err + n, sizeof(p->err) - (size_t)n, fmt, ap);
	va_end(ap);
	p->state = P_FAILED;
	return -1;
}

static int
unexpected(struct imap_resp_parser *p, const struct imap_tok *tok,
    const char *where)
{
	if (tok->kind == IMAP_TOK_ATOM || tok->kind == IMAP_TOK_QUOTED)
		return fail(p, "unexpected \"%.40s\" %s", tok->s, where);
	return fail(p, "unexpected %s %s", imap_tok_kind_name(tok->kind),
	    where);
}

/* ---- gathering --------------------------------------------------------- */

static void
start_line(struct imap_resp_parser *p)
{
	size_t i;

	buf_reset(&p->arena);
	for (i = 0; i < S_COUNT; i++)
		p->off[i] = NO_OFF;
	p->nitems = 0;
	p->nnums = 0;
	memset(&p->cur, 0, sizeof(p->cur));
}

/* Copy s into the arena with a NUL; its offset, or NO_OFF when full. */
static size_t
save(struct imap_resp_parser *p, const char *s, size_t len)
{
	size_t off = p->arena.len;

	if (buf_add(&p->arena, s, len) < 0 || buf_addc(&p->arena, '\0') < 0) {
		p->arena.len = off;
		return NO_OFF;
	}
	return off;
}

static int
save_str(struct imap_resp_parser *p, enum p_str which, const char *s,
    size_t len)
{
	p->off[which] = save(p, s, len);
	if (p->off[which] == NO_OFF)
		return fail(p, "a response line holds more than %zu bytes",
		    p->arena.max);
	return 0;
}

static int
add_item(struct imap_resp_parser *p, const char *s, size_t len)
{
	size_t off;

	if (p->nitems >= IMAP_RESP_ITEMS_MAX)
		return fail(p, "a list has more than %d items",
		    IMAP_RESP_ITEMS_MAX);
	off = save(p, s, len);
	if (off == NO_OFF)
		return fail(p, "a response line holds more than %zu bytes",
		    p->arena.max);
	if (p->nitems == p->item_cap) {
		p->item_cap = p->item_cap ? 2 * p->item_cap : 32;
		p->item_off = xreallocarray(p->item_off, p->item_cap,
		    sizeof(*p->item_off));
	}
	p->item_off[p->nitems++] = off;
	return 0;
}

static int
add_num(struct imap_resp_parser *p, uint32_t n)
{
	/* every number took two bytes of a bounded line at least */
	if (p->nnums >= p->lim.max_line / 2 + 1)
		return fail(p, "too many numbers in a SEARCH response");
	if (p->nnums == p->nums_cap) {
		p->nums_cap = p->nums_cap ? 2 * p->nums_cap : 256;
		p->nums = xreallocarray(p->nums, p->nums_cap,
		    sizeof(*p->nums));
	}
	p->nums[p->nnums++] = n;
	return 0;
}

static const char *
str_at(const struct imap_resp_parser *p, enum p_str which, const char *none)
{
	if (p->off[which] == NO_OFF)
		return none;
	return p->arena.data + p->off[which];
}

/* Hand out cur as an event of kind, its strings turned into pointers. */
static int
emit(struct imap_resp_parser *p, struct imap_resp *ev,
    enum imap_resp_kind kind)
{
	size_t i;

	if (p->nitems > p->items_cap) {
		p->items_cap = p->nitems;
		p->items = xreallocarray(p->items, p->items_cap,
		    sizeof(*p->items));
	}
	for (i = 0; i < p->nitems; i++)
		p->items[i] = p->arena.data + p->item_off[i];
	*ev = p->cur;
	ev->kind = kind;
	ev->tag = str_at(p, S_TAG, NULL);
	ev->text = str_at(p, S_TEXT, "");
	ev->code_name = str_at(p, S_CODE_NAME, "");
	ev->code_arg = str_at(p, S_CODE_ARG, "");
	ev->code_set = str_at(p, S_CODE_SET, "");
	ev->code_set2 = str_at(p, S_CODE_SET2, "");
	ev->mailbox = str_at(p, S_MAILBOX, "");
	ev->set = str_at(p, S_SET, "");
	ev->es.tag = str_at(p, S_ES_TAG, NULL);
	ev->es.all = str_at(p, S_ES_ALL, "");
	ev->fetch.section = str_at(p, S_SECTION, "");
	ev->items = p->nitems ? p->items : NULL;
	ev->nitems = p->nitems;
	ev->nums = p->nnums ? p->nums : NULL;
	ev->nnums = p->nnums;
	return 1;
}

/* ---- small pieces ---------------------------------------------------- */

static int
tok_num(const struct imap_tok *tok, uint64_t max, uint64_t *v_r)
{
	if (tok->kind != IMAP_TOK_ATOM)
		return -1;
	return parse_u64(tok->s, max, v_r);
}

static int
want_num(struct imap_resp_parser *p, const struct imap_tok *tok,
    uint64_t max, uint64_t *v_r, const char *what)
{
	if (tok_num(tok, max, v_r) < 0)
		return unexpected(p, tok, what);
	return 0;
}

/* A string token: quoted, or a literal collected on the way. */
static int
is_string(const struct imap_tok *tok)
{
	return tok->kind == IMAP_TOK_QUOTED || tok->kind == IMAP_TOK_LITERAL;
}

/* States whose next token is a string that may come as a literal. */
static int
wants_string(const struct imap_resp_parser *p)
{
	switch (p->state) {
	case P_LIST_DELIM:
	case P_LIST_NAME:
	case P_STATUS_MBOX:
	case P_ES_TAG_VAL:
	case P_NS_PREFIX:
	case P_NS_DELIM:
		return 1;
	case P_FETCH_VALUE:
		return p->attr == A_DATE;
	default:
		return 0;
	}
}

/* ---- response codes (parsed from the status text) -------------------- */

enum code_arg { C_NONE, C_NUM, C_NUM_SET, C_NUM_SET_SET, C_SET, C_PLIST,
	C_ATOMS };

static const struct {
	const char	*name;
	enum imap_resp_code code;
	enum code_arg	 arg;
} codes[] = {
	{ "ALERT",		IMAP_CODE_ALERT,		C_NONE },
	{ "ALREADYEXISTS",	IMAP_CODE_ALREADYEXISTS,	C_NONE },
	{ "APPENDUID",		IMAP_CODE_APPENDUID,		C_NUM_SET },
	{ "AUTHENTICATIONFAILED", IMAP_CODE_AUTHENTICATIONFAILED, C_NONE },
	{ "AUTHORIZATIONFAILED", IMAP_CODE_AUTHORIZATIONFAILED,	C_NONE },
	{ "BADCHARSET",		IMAP_CODE_BADCHARSET,		C_PLIST },
	{ "CANNOT",		IMAP_CODE_CANNOT,		C_NONE },
	{ "CAPABILITY",		IMAP_CODE_CAPABILITY,		C_ATOMS },
	{ "CLIENTBUG",		IMAP_CODE_CLIENTBUG,		C_NONE },
	{ "CLOSED",		IMAP_CODE_CLOSED,		C_NONE },
	{ "CONTACTADMIN",	IMAP_CODE_CONTACTADMIN,		C_NONE },
	{ "COPYUID",		IMAP_CODE_COPYUID,		C_NUM_SET_SET },
	{ "CORRUPTION",		IMAP_CODE_CORRUPTION,		C_NONE },
	{ "EXPIRED",		IMAP_CODE_EXPIRED,		C_NONE },
	{ "EXPUNGEISSUED",	IMAP_CODE_EXPUNGEISSUED,	C_NONE },
	{ "HIGHESTMODSEQ",	IMAP_CODE_HIGHESTMODSEQ,	C_NUM },
	{ "INUSE",		IMAP_CODE_INUSE,		C_NONE },
	{ "LIMIT",		IMAP_CODE_LIMIT,		C_NONE },
	{ "MODIFIED",		IMAP_CODE_MODIFIED,		C_SET },
	{ "NOMODSEQ",		IMAP_CODE_NOMODSEQ,		C_NONE },
	{ "NONEXISTENT",	IMAP_CODE_NONEXISTENT,		C_NONE },
	{ "NOPERM",		IMAP_CODE_NOPERM,		C_NONE },
	{ "OVERQUOTA",		IMAP_CODE_OVERQUOTA,		C_NONE },
	{ "PARSE",		IMAP_CODE_PARSE,		C_NONE },
	{ "PERMANENTFLAGS",	IMAP_CODE_PERMANENTFLAGS,	C_PLIST },
	{ "PRIVACYREQUIRED",	IMAP_CODE_PRIVACYREQUIRED,	C_NONE },
	{ "READ-ONLY",		IMAP_CODE_READ_ONLY,		C_NONE },
	{ "READ-WRITE",		IMAP_CODE_READ_WRITE,		C_NONE },
	{ "SERVERBUG",		IMAP_CODE_SERVERBUG,		C_NONE },
	{ "TRYCREATE",		IMAP_CODE_TRYCREATE,		C_NONE },
	{ "UIDNEXT",		IMAP_CODE_UIDNEXT,		C_NUM },
	{ "UIDNOTSTICKY",	IMAP_CODE_UIDNOTSTICKY,		C_NONE },
	{ "UIDVALIDITY",	IMAP_CODE_UIDVALIDITY,		C_NUM },
	{ "UNAVAILABLE",	IMAP_CODE_UNAVAILABLE,		C_NONE },
	{ "UNSEEN",		IMAP_CODE_UNSEEN,		C_NUM },
};

/* The next space-separated word of [*s, end): its start and length. */
static size_t
word(const char **s, const char *end, const char **w_r)
{
	const char *p = *s, *w;

	while (p < end && *p == ' ')
		p++;
	w = p;
	while (p < end && *p != ' ')
		p++;
	*w_r = w;
	*s = p;
	return (size_t)(p - w);
}

static int
code_words(struct imap_resp_parser *p, const char *s, const char *end)
{
	const char *w;
	size_t n;

	while ((n = word(&s, end, &w)) > 0)
		if (add_item(p, w, n) < 0)
			return -1;
	return 0;
}

static int
bad_code(struct imap_resp_parser *p, const char *name)
{
	return fail(p, "malformed [%s] response code", name);
}

/* The arguments of a known code, [a, end). */
static int
code_args(struct imap_resp_parser *p, enum code_arg kind, const char *name,
    const char *a, const char *end)
{
	const char *w, *s = a;
	char num[24];
	size_t n;

	switch (kind) {
	case C_NONE:
		return 0;
	case C_ATOMS:
		return code_words(p, a, end);
	case C_PLIST:
		while (s < end && *s == ' ')
			s++;
		if (s == end)
			return 0;	/* BADCHARSET alone */
		if (*s != '(' || end[-1] != ')')
			return bad_code(p, name);
		return code_words(p, s + 1, end - 1);
	case C_SET:
		n = word(&s, end, &w);
		if (n == 0 || save_str(p, S_CODE_SET, w, n) < 0)
			return n == 0 ? bad_code(p, name) : -1;
		return 0;
	default:
		break;
	}
	n = word(&s, end, &w);
	if (n == 0 || n >= sizeof(num))
		return bad_code(p, name);
	memcpy(num, w, n);
	num[n] = '\0';
	if (parse_u64(num, kind == C_NUM && strcmp(name, "HIGHESTMODSEQ") == 0 ?
	    INT64_MAX : UINT32_MAX, &p->cur.code_num) < 0)
		return bad_code(p, name);
	if (kind == C_NUM)
		return s == end ? 0 : bad_code(p, name);
	n = word(&s, end, &w);
	if (n == 0 || save_str(p, S_CODE_SET, w, n) < 0)
		return n == 0 ? bad_code(p, name) : -1;
	if (kind == C_NUM_SET)
		return 0;
	n = word(&s, end, &w);
	if (n == 0 || save_str(p, S_CODE_SET2, w, n) < 0)
		return n == 0 ? bad_code(p, name) : -1;
	return 0;
}

/* Split "[CODE args] text" (or just "text") into the event's fields. */
static int
status_text(struct imap_resp_parser *p, const char *s, size_t len)
{
	const char *end = s + len, *close, *a;
	char name[40];
	size_t i, n;

	if (len == 0 || s[0] != '[' ||
	    (close = memchr(s, ']', len)) == NULL)
		return save_str(p, S_TEXT, s, len);
	for (a = s + 1; a < close && *a != ' '; a++)
		;
	n = (size_t)(a - (s + 1));
	if (save_str(p, S_CODE_NAME, s + 1, n) < 0)
		return -1;
	while (a < close && *a == ' ')
		a++;
	if (save_str(p, S_CODE_ARG, a, (size_t)(close - a)) < 0)
		return -1;
	p->cur.code = IMAP_CODE_OTHER;
	if (n > 0 && n < sizeof(name)) {
		memcpy(name, s + 1, n);
		name[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(codes); i++) {
			if (ascii_strcasecmp(name, codes[i].name) != 0)
				continue;
			p->cur.code = codes[i].code;
			if (code_args(p, codes[i].arg, codes[i].name, a,
			    close) < 0)
				return -1;
			break;
		}
	}
	s = close + 1;
	if (s < end && *s == ' ')
		s++;
	return save_str(p, S_TEXT, s, (size_t)(end - s));
}

/* ---- the states ------------------------------------------------------ */

static int
h_line(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	start_line(p);
	if (tok->kind == IMAP_TOK_CRLF)
		return 0;	/* an empty line: tolerated */
	if (tok->kind != IMAP_TOK_ATOM)
		return unexpected(p, tok, "at the start of a response");
	if (strcmp(tok->s, "*") == 0)
		p->state = P_UNTAGGED;
	else if (strcmp(tok->s, "+") == 0) {
		p->state = P_CONT_TEXT;
	} else {
		if (save_str(p, S_TAG, tok->s, tok->len) < 0)
			return -1;
		p->state = P_TAG_STATUS;
	}
	return 0;
}

static int
status_word(const struct imap_tok *tok, enum imap_resp_status *st_r)
{
	static const char *const words[] = { "OK", "NO", "BAD", "PREAUTH",
	    "BYE" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (imap_tok_atom_is(tok, words[i])) {
			*st_r = (enum imap_resp_status)i;
			return 0;
		}
	return -1;
}

static int
h_tag_status(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	if (status_word(tok, &p->cur.status) < 0 ||
	    p->cur.status > IMAP_RESP_BAD)
		return unexpected(p, tok, "after a tag (OK, NO or BAD)");
	p->state = P_STATUS_TEXT;
	return 0;
}

static void
expect_end(struct imap_resp_parser *p, enum imap_resp_kind kind)
{
	p->kind = kind;
	p->state = P_END;
}

static void
open_list(struct imap_resp_parser *p, enum p_state after)
{
	p->after = after;
	p->state = P_LIST_OPEN;
}

static const struct {
	const char	*name;
	enum p_state	 state;
	enum imap_resp_kind kind;
} untagged[] = {
	{ "CAPABILITY",	P_ATOMS,	IMAP_RESP_CAPABILITY },
	{ "ENABLED",	P_ATOMS,	IMAP_RESP_ENABLED },
	{ "ESEARCH",	P_ESEARCH,	IMAP_RESP_ESEARCH },
	{ "FLAGS",	P_LIST_OPEN,	IMAP_RESP_FLAGS },
	{ "LIST",	P_LIST_OPEN,	IMAP_RESP_LIST },
	{ "LSUB",	P_LIST_OPEN,	IMAP_RESP_LIST },
	{ "NAMESPACE",	P_NS_OPEN,	IMAP_RESP_NAMESPACE },
	{ "SEARCH",	P_SEARCH,	IMAP_RESP_SEARCH },
	{ "STATUS",	P_STATUS_MBOX,	IMAP_RESP_STATUS_DATA },
	{ "VANISHED",	P_VANISHED,	IMAP_RESP_VANISHED },
	{ "XLIST",	P_LIST_OPEN,	IMAP_RESP_LIST },
};

static int
h_untagged(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	uint64_t n;
	size_t i;

	if (tok->kind != IMAP_TOK_ATOM)
		return unexpected(p, tok, "after \"*\"");
	if (status_word(tok, &p->cur.status) == 0) {
		p->state = P_STATUS_TEXT;
		return 0;
	}
	if (tok->s[0] >= '0' && tok->s[0] <= '9') {
		if (parse_u64(tok->s, UINT32_MAX, &n) < 0)
			return unexpected(p, tok, "after \"*\"");
		p->cur.num = n;
		p->cur.fetch.seq = (uint32_t)n;
		p->state = P_UNTAGGED_NUM;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(untagged); i++) {
		if (!imap_tok_atom_is(tok, untagged[i].name))
			continue;
		p->kind = untagged[i].kind;
		p->state = untagged[i].state;
		p->cur.lsub = imap_tok_atom_is(tok, "LSUB");
		if (p->state == P_LIST_OPEN)
			p->after = p->kind == IMAP_RESP_LIST ? P_LIST_DELIM :
			    P_END;
		return 0;
	}
	p->kind = IMAP_RESP_OTHER;
	p->state = P_SKIP_LINE;
	return save_str(p, S_TEXT, tok->s, tok->len);
}

static int
h_untagged_num(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	if (imap_tok_atom_is(tok, "EXISTS"))
		expect_end(p, IMAP_RESP_EXISTS);
	else if (imap_tok_atom_is(tok, "RECENT"))
		expect_end(p, IMAP_RESP_RECENT);
	else if (imap_tok_atom_is(tok, "EXPUNGE"))
		expect_end(p, IMAP_RESP_EXPUNGE);
	else if (imap_tok_atom_is(tok, "FETCH")) {
		p->kind = IMAP_RESP_FETCH;
		p->state = P_FETCH_OPEN;
	} else if (tok->kind == IMAP_TOK_ATOM) {
		p->kind = IMAP_RESP_OTHER;
		p->state = P_SKIP_LINE;
		return save_str(p, S_TEXT, tok->s, tok->len);
	} else
		return unexpected(p, tok, "after \"* n\"");
	return 0;
}

static int
h_list_items(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	if (p->state == P_LIST_OPEN) {
		if (tok->kind != IMAP_TOK_LPAREN)
			return unexpected(p, tok, "where a list should open");
		p->state = P_LIST_ITEMS;
		return 0;
	}
	if (tok->kind == IMAP_TOK_RPAREN) {
		p->state = p->after;
		return 0;
	}
	if (tok->kind != IMAP_TOK_ATOM)
		return unexpected(p, tok, "in a flag list");
	return add_item(p, tok->s, tok->len);
}

static int
h_list(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	if (p->state == P_LIST_DELIM) {
		if (imap_tok_atom_is(tok, "NIL"))
			p->cur.delim = '\0';
		else if (is_string(tok) && tok->len == 1)
			p->cur.delim = tok->s[0];
		else
			return unexpected(p, tok, "as a hierarchy delimiter");
		p->state = P_LIST_NAME;
		return 0;
	}
	if (tok->kind != IMAP_TOK_ATOM && !is_string(tok))
		return unexpected(p, tok, "as a mailbox name");
	/* LIST-EXTENDED data may follow the name; it is read over */
	p->state = P_SKIP_LINE;
	return save_str(p, S_MAILBOX, tok->s, tok->len);
}

/*
 * NAMESPACE (RFC 2342): only the first personal namespace matters to a
 * client that syncs one person's folders; the rest of the line (other
 * personal namespaces, other users', shared ones, extensions) is read
 * over.
 */
static int
h_namespace(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	switch (p->state) {
	case P_NS_OPEN:
		if (imap_tok_atom_is(tok, "NIL")) {
			p->state = P_SKIP_LINE;
			return 0;
		}
		/* FALLTHROUGH */
	case P_NS_ONE:
		if (tok->kind != IMAP_TOK_LPAREN)
			return unexpected(p, tok, "in a NAMESPACE response");
		p->state = p->state == P_NS_OPEN ? P_NS_ONE : P_NS_PREFIX;
		return 0;
	case P_NS_PREFIX:
		if (!is_string(tok))
			return unexpected(p, tok, "as a namespace prefix");
		p->state = P_NS_DELIM;
		return save_str(p, S_MAILBOX, tok->s, tok->len);
	default:
		if (imap_tok_atom_is(tok, "NIL"))
			p->cur.delim = '\0';
		else if (is_string(tok) && tok->len == 1)
			p->cur.delim = tok->s[0];
		else
			return unexpected(p, tok, "as a hierarchy delimiter");
		p->cur.num = 1;
		p->state = P_SKIP_LINE;
		return 0;
	}
}

static const struct {
	const char	*name;
	unsigned	 bit;
	size_t		 field;
} status_items[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES,
	  offsetof(struct imap_resp_statusdata, messages) },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT,
	  offsetof(struct imap_resp_statusdata, uidnext) },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY,
	  offsetof(struct imap_resp_statusdata, uidvalidity) },
	{ "UNSEEN", IMAP_STATUS_UNSEEN,
	  offsetof(struct imap_resp_statusdata, unseen) },
	{ "RECENT", IMAP_STATUS_RECENT,
	  offsetof(struct imap_resp_statusdata, recent) },
	{ "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ,
	  offsetof(struct imap_resp_statusdata, highestmodseq) },
};

static int
h_status(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	uint64_t v;
	size_t i;

	switch (p->state) {
	case P_STATUS_MBOX:
		if (tok->kind != IMAP_TOK_ATOM && !is_string(tok))
			return unexpected(p, tok, "as a mailbox name");
		p->state = P_STATUS_OPEN;
		return save_str(p, S_MAILBOX, tok->s, tok->len);
	case P_STATUS_OPEN:
		if (tok->kind != IMAP_TOK_LPAREN)
			return unexpected(p, tok, "in a STATUS response");
		p->state = P_STATUS_NAME;
		return 0;
	case P_STATUS_NAME:
		if (tok->kind == IMAP_TOK_RPAREN) {
			expect_end(p, IMAP_RESP_STATUS_DATA);
			return 0;
		}
		if (tok->kind != IMAP_TOK_ATOM)
			return unexpected(p, tok, "in a STATUS response");
		snprintf(p->item, sizeof(p->item), "%s", tok->s);
		p->state = P_STATUS_VAL;
		return 0;
	default:
		if (want_num(p, tok, INT64_MAX, &v, "as a STATUS value") < 0)
			return -1;
		for (i = 0; i < ARRAY_SIZE(status_items); i++)
			if (ascii_strcasecmp(p->item, status_items[i].name) ==
			    0) {
				p->cur.st.have |= status_items[i].bit;
				memcpy((char *)&p->cur.st +
				    status_items[i].field, &v, sizeof(v));
			}
		p->state = P_STATUS_NAME;
		return 0;
	}
}

static int
h_search(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev)
{
	uint64_t v;

	switch (p->state) {
	case P_SEARCH:
		if (tok->kind == IMAP_TOK_CRLF) {
			p->state = P_LINE;
			return emit(p, ev, IMAP_RESP_SEARCH);
		}
		if (tok->kind == IMAP_TOK_LPAREN) {
			p->state = P_SEARCH_MS_NAME;
			return 0;
		}
		if (want_num(p, tok, UINT32_MAX, &v, "in a SEARCH response") <
		    0 || v == 0)
			return v == 0 ? unexpected(p, tok, "in a SEARCH "
			    "response") : -1;
		return add_num(p, (uint32_t)v);
	case P_SEARCH_MS_NAME:
		if (!imap_tok_atom_is(tok, "MODSEQ"))
			return unexpected(p, tok, "in a SEARCH response");
		p->state = P_SEARCH_MS_NUM;
		return 0;
	case P_SEARCH_MS_NUM:
		if (want_num(p, tok, INT64_MAX, &p->cur.modseq,
		    "as a SEARCH MODSEQ") < 0)
			return -1;
		p->state = P_SEARCH_MS_CLOSE;
		return 0;
	default:
		if (tok->kind != IMAP_TOK_RPAREN)
			return unexpected(p, tok, "in a SEARCH response");
		p->state = P_SEARCH;
		return 0;
	}
}

static int
es_value(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	struct imap_resp_esearch *es = &p->cur.es;
	uint64_t v;

	p->state = P_ESEARCH;
	if (tok->kind == IMAP_TOK_LPAREN) {
		/* a return item we do not know, with a list value */
		p->skip_depth = 1;
		p->after = P_ESEARCH;
		p->state = P_SKIP_VALUE;
		return 0;
	}
	if (ascii_strcasecmp(p->item, "ALL") == 0) {
		if (tok->kind != IMAP_TOK_ATOM)
			return unexpected(p, tok, "as an ESEARCH ALL");
		es->have |= IMAP_ESEARCH_ALL;
		return save_str(p, S_ES_ALL, tok->s, tok->len);
	}
	if (ascii_strcasecmp(p->item, "MIN") == 0 ||
	    ascii_strcasecmp(p->item, "MAX") == 0) {
		if (want_num(p, tok, UINT32_MAX, &v, "in ESEARCH") < 0)
			return -1;
		if (p->item[1] == 'I' || p->item[1] == 'i') {
			es->min = (uint32_t)v;
			es->have |= IMAP_ESEARCH_MIN;
		} else {
			es->max = (uint32_t)v;
			es->have |= IMAP_ESEARCH_MAX;
		}
		return 0;
	}
	if (ascii_strcasecmp(p->item, "COUNT") == 0) {
		es->have |= IMAP_ESEARCH_COUNT;
		return want_num(p, tok, UINT32_MAX, &es->count, "in ESEARCH");
	}
	if (ascii_strcasecmp(p->item, "MODSEQ") == 0) {
		es->have |= IMAP_ESEARCH_MODSEQ;
		return want_num(p, tok, INT64_MAX, &es->modseq, "in ESEARCH");
	}
	if (tok->kind == IMAP_TOK_LITERAL_START)
		imap_lex_literal_skip(p->lx);
	else if (tok->kind == IMAP_TOK_CRLF || tok->kind == IMAP_TOK_RPAREN)
		return unexpected(p, tok, "in ESEARCH");
	return 0;
}

static int
h_esearch(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev)
{
	switch (p->state) {
	case P_ESEARCH:
		if (tok->kind == IMAP_TOK_CRLF) {
			p->state = P_LINE;
			return emit(p, ev, IMAP_RESP_ESEARCH);
		}
		if (tok->kind == IMAP_TOK_LPAREN) {
			p->state = P_ES_TAG_NAME;
			return 0;
		}
		if (tok->kind != IMAP_TOK_ATOM)
			return unexpected(p, tok, "in ESEARCH");
		if (imap_tok_atom_is(tok, "UID")) {
			p->cur.es.uid = 1;
			return 0;
		}
		snprintf(p->item, sizeof(p->item), "%s", tok->s);
		p->state = P_ES_VAL;
		return 0;
	case P_ES_TAG_NAME:
		if (!imap_tok_atom_is(tok, "TAG"))
			return unexpected(p, tok, "in ESEARCH");
		p->state = P_ES_TAG_VAL;
		return 0;
	case P_ES_TAG_VAL:
		if (!is_string(tok) && tok->kind != IMAP_TOK_ATOM)
			return unexpected(p, tok, "as an ESEARCH tag");
		p->state = P_ES_TAG_CLOSE;
		return save_str(p, S_ES_TAG, tok->s, tok->len);
	case P_ES_TAG_CLOSE:
		if (tok->kind != IMAP_TOK_RPAREN)
			return unexpected(p, tok, "in ESEARCH");
		p->state = P_ESEARCH;
		return 0;
	default:
		return es_value(p, tok);
	}
}

static int
h_vanished(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	switch (p->state) {
	case P_VANISHED:
		if (tok->kind == IMAP_TOK_LPAREN) {
			p->state = P_VAN_EARLIER;
			return 0;
		}
		break;
	case P_VAN_EARLIER:
		if (!imap_tok_atom_is(tok, "EARLIER"))
			return unexpected(p, tok, "in VANISHED");
		p->cur.earlier = 1;
		p->state = P_VAN_CLOSE;
		return 0;
	case P_VAN_CLOSE:
		if (tok->kind != IMAP_TOK_RPAREN)
			return unexpected(p, tok, "in VANISHED");
		p->state = P_VAN_SET;
		return 0;
	default:
		break;
	}
	if (tok->kind != IMAP_TOK_ATOM)
		return unexpected(p, tok, "as the UIDs of VANISHED");
	expect_end(p, IMAP_RESP_VANISHED);
	return save_str(p, S_SET, tok->s, tok->len);
}

/* ---- FETCH ----------------------------------------------------------- */

static int
fetch_attr(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev)
{
	if (tok->kind == IMAP_TOK_RPAREN) {
		expect_end(p, IMAP_RESP_FETCH);
		return 0;
	}
	if (tok->kind != IMAP_TOK_ATOM)
		return unexpected(p, tok, "where a FETCH item should be");
	p->state = P_FETCH_VALUE;
	if (imap_tok_atom_is(tok, "UID"))
		p->attr = A_UID;
	else if (imap_tok_atom_is(tok, "RFC822.SIZE"))
		p->attr = A_SIZE;
	else if (imap_tok_atom_is(tok, "INTERNALDATE"))
		p->attr = A_DATE;
	else if (imap_tok_atom_is(tok, "RFC822") ||
	    imap_tok_atom_is(tok, "RFC822.HEADER") ||
	    imap_tok_atom_is(tok, "RFC822.TEXT")) {
		p->attr = A_BODY;
		/* "RFC822.HEADER" is BODY[HEADER], "RFC822" BODY[] */
		return save_str(p, S_SECTION, tok->len > 7 ? tok->s + 7 : "",
		    tok->len > 7 ? tok->len - 7 : 0);
	}
	else if (imap_tok_atom_is(tok, "MODSEQ"))
		p->state = P_FETCH_MODSEQ_OPEN;
	else if (imap_tok_atom_is(tok, "FLAGS")) {
		if (p->cur.fetch.have & IMAP_FETCH_FLAGS)
			p->nitems = 0;	/* twice: the last one counts */
		p->cur.fetch.have |= IMAP_FETCH_FLAGS;
		open_list(p, P_FETCH_ATTR);
	} else if (imap_tok_atom_is(tok, "BODY") ||
	    imap_tok_atom_is(tok, "BINARY")) {
		p->attr = A_BODYNAME;
		p->state = P_FETCH_AFTER_NAME;
	} else {
		p->attr = A_OTHER;
		p->state = P_FETCH_AFTER_NAME;
	}
	(void)ev;
	return 0;
}

static int
fetch_body_start(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev)
{
	struct imap_resp_fetch *f = &p->cur.fetch;
	int whole = p->off[S_SECTION] == NO_OFF ||
	    p->arena.data[p->off[S_SECTION]] == '\0';

	if (whole) {
		f->have |= IMAP_FETCH_BODY;
		f->body_nil = 0;
	}
	if (tok->kind == IMAP_TOK_LITERAL_START) {
		f->body_size = tok->lit_size;
		imap_lex_literal_stream(p->lx);
		p->state = P_FETCH_BODY_DATA;
		return 0;
	}
	p->state = P_FETCH_ATTR;
	if (imap_tok_atom_is(tok, "NIL")) {
		f->body_nil = whole;
		return 0;
	}
	if (tok->kind != IMAP_TOK_QUOTED)
		return unexpected(p, tok, "as a message body");
	f->body_size = tok->len;
	f->data = tok->s;
	f->len = tok->len;
	f->body_left = 0;
	emit(p, ev, IMAP_RESP_FETCH_BODY);
	f->data = NULL;
	f->len = 0;
	return 1;
}

static void
skip_value(struct imap_resp_parser *p, enum p_state after)
{
	p->skip_depth = 0;
	p->after = after;
	p->state = P_SKIP_VALUE;
}

static int
fetch_value(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev)
{
	struct imap_resp_fetch *f = &p->cur.fetch;
	uint64_t v;

	switch (p->attr) {
	case A_UID:
		if (want_num(p, tok, UINT32_MAX, &v, "as a UID") < 0)
			return -1;
		if (v == 0)
			return unexpected(p, tok, "as a UID");
		f->uid = (uint32_t)v;
		f->have |= IMAP_FETCH_UID;
		break;
	case A_SIZE:
		if (want_num(p, tok, INT64_MAX, &f->size, "as RFC822.SIZE") < 0)
			return -1;
		f->have |= IMAP_FETCH_SIZE;
		break;
	case A_DATE:
		if (!is_string(tok) || date_imap_parse(tok->s, tok->len,
		    &f->internaldate, &f->tzoff) < 0)
			return unexpected(p, tok, "as INTERNALDATE");
		f->have |= IMAP_FETCH_DATE;
		break;
	case A_BODY:
		return fetch_body_start(p, tok, ev);
	default:
		skip_value(p, P_FETCH_ATTR);
		return handle(p, tok, ev);
	}
	p->state = P_FETCH_ATTR;
	return 0;
}

/* A token of a section: joined with single spaces where there were any. */
static int
section_tok(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	if ((tok->sp > 0 && p->sec.len > 0 && buf_addc(&p->sec, ' ') < 0) ||
	    buf_add(&p->sec, tok->s, tok->len) < 0)
		return fail(p, "a FETCH section is longer than %zu bytes",
		    p->sec.max);
	return 0;
}

static int
h_fetch(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev)
{
	struct imap_resp_fetch *f = &p->cur.fetch;
	uint64_t v;

	switch (p->state) {
	case P_FETCH_OPEN:
		if (tok->kind != IMAP_TOK_LPAREN)
			return unexpected(p, tok, "after FETCH");
		p->state = P_FETCH_ATTR;
		return 0;
	case P_FETCH_ATTR:
		return fetch_attr(p, tok, ev);
	case P_FETCH_AFTER_NAME:
		if (tok->kind == IMAP_TOK_LBRACKET && tok->sp == 0) {
			buf_reset(&p->sec);
			p->state = P_FETCH_SECTION;
			return 0;
		}
		if (p->attr == A_BODYNAME)
			p->attr = A_OTHER;	/* BODY: a structure */
		p->state = P_FETCH_VALUE;
		return handle(p, tok, ev);
	case P_FETCH_SECTION:
		if (tok->kind == IMAP_TOK_CRLF ||
		    tok->kind == IMAP_TOK_LITERAL_START)
			return unexpected(p, tok, "in a FETCH section");
		if (tok->kind != IMAP_TOK_RBRACKET)
			return section_tok(p, tok);
		p->state = P_FETCH_ORIGIN;
		if (p->attr != A_BODYNAME) {
			p->attr = A_OTHER;
			return 0;
		}
		p->attr = A_BODY;
		return save_str(p, S_SECTION, p->sec.data ? p->sec.data : "",
		    p->sec.len);
	case P_FETCH_ORIGIN:
		p->state = P_FETCH_VALUE;
		if (tok->kind == IMAP_TOK_ATOM && tok->sp == 0 &&
		    tok->s[0] == '<') {
			p->attr = A_OTHER;	/* a part is not the message */
			return 0;
		}
		return handle(p, tok, ev);
	case P_FETCH_VALUE:
		return fetch_value(p, tok, ev);
	case P_FETCH_BODY_DATA:
		assert(tok->kind == IMAP_TOK_LITERAL_DATA);
		f->data = tok->s;
		f->len = tok->len;
		f->body_left = tok->lit_left;
		if (tok->lit_left == 0)
			p->state = P_FETCH_ATTR;
		emit(p, ev, IMAP_RESP_FETCH_BODY);
		f->data = NULL;
		f->len = 0;
		return 1;
	case P_FETCH_MODSEQ_OPEN:
		if (tok->kind != IMAP_TOK_LPAREN)
			return unexpected(p, tok, "after MODSEQ");
		p->state = P_FETCH_MODSEQ_NUM;
		return 0;
	case P_FETCH_MODSEQ_NUM:
		if (want_num(p, tok, INT64_MAX, &v, "as a MODSEQ") < 0)
			return -1;
		f->modseq = v;
		f->have |= IMAP_FETCH_MODSEQ;
		p->state = P_FETCH_MODSEQ_CLOSE;
		return 0;
	default:
		if (tok->kind != IMAP_TOK_RPAREN)
			return unexpected(p, tok, "after MODSEQ");
		p->state = P_FETCH_ATTR;
		return 0;
	}
}

/* One value of any shape: an atom, a string, a literal or a list. */
static int
h_skip_value(struct imap_resp_parser *p, const struct imap_tok *tok)
{
	switch (tok->kind) {
	case IMAP_TOK_LPAREN:
		p->skip_depth++;
		break;
	case IMAP_TOK_RPAREN:
		if (p->skip_depth == 0)
			return unexpected(p, tok, "where a value should be");
		p->skip_depth--;
		break;
	case IMAP_TOK_CRLF:
		return unexpected(p, tok, "inside a value");
	case IMAP_TOK_LITERAL_START:
		imap_lex_literal_skip(p->lx);
		break;
	default:
		break;
	}
	if (p->skip_depth == 0)
		p->state = p->after;
	return 0;
}

/* ---- the loop -------------------------------------------------------- */

static int
handle(struct imap_resp_parser *p, const struct imap_tok *tok,
    struct imap_resp *ev)
{
	switch (p->state) {
	case P_LINE:
		return h_line(p, tok);
	case P_TAG_STATUS:
		return h_tag_status(p, tok);
	case P_STATUS_TEXT:
	case P_CONT_TEXT:
		assert(tok->kind == IMAP_TOK_TEXT);
		if (p->state == P_CONT_TEXT) {
			expect_end(p, IMAP_RESP_CONTINUE);
			return save_str(p, S_TEXT, tok->s, tok->len);
		}
		expect_end(p, IMAP_RESP_STATUS);
		return status_text(p, tok->s, tok->len);
	case P_UNTAGGED:
		return h_untagged(p, tok);
	case P_UNTAGGED_NUM:
		return h_untagged_num(p, tok);
	case P_END:
		if (tok->kind != IMAP_TOK_CRLF)
			return unexpected(p, tok, "where the line should end");
		p->state = P_LINE;
		return emit(p, ev, p->kind);
	case P_SKIP_LINE:
		if (tok->kind == IMAP_TOK_LITERAL_START)
			imap_lex_literal_skip(p->lx);
		if (tok->kind != IMAP_TOK_CRLF)
			return 0;
		p->state = P_LINE;
		return emit(p, ev, p->kind);
	case P_ATOMS:
		if (tok->kind == IMAP_TOK_CRLF) {
			p->state = P_LINE;
			return emit(p, ev, p->kind);
		}
		if (tok->kind != IMAP_TOK_ATOM)
			return unexpected(p, tok, "in a list of capabilities");
		return add_item(p, tok->s, tok->len);
	case P_LIST_OPEN:
	case P_LIST_ITEMS:
		return h_list_items(p, tok);
	case P_LIST_DELIM:
	case P_LIST_NAME:
		return h_list(p, tok);
	case P_STATUS_MBOX:
	case P_STATUS_OPEN:
	case P_STATUS_NAME:
	case P_STATUS_VAL:
		return h_status(p, tok);
	case P_SEARCH:
	case P_SEARCH_MS_NAME:
	case P_SEARCH_MS_NUM:
	case P_SEARCH_MS_CLOSE:
		return h_search(p, tok, ev);
	case P_ESEARCH:
	case P_ES_TAG_NAME:
	case P_ES_TAG_VAL:
	case P_ES_TAG_CLOSE:
	case P_ES_VAL:
		return h_esearch(p, tok, ev);
	case P_VANISHED:
	case P_VAN_EARLIER:
	case P_VAN_CLOSE:
	case P_VAN_SET:
		return h_vanished(p, tok);
	case P_SKIP_VALUE:
		return h_skip_value(p, tok);
	case P_NS_OPEN:
	case P_NS_ONE:
	case P_NS_PREFIX:
	case P_NS_DELIM:
		return h_namespace(p, tok);
	case P_FAILED:
		return -1;
	default:
		return h_fetch(p, tok, ev);
	}
}

int
imap_resp_next(struct imap_resp_parser *p, struct imap_resp *ev)
{
	struct imap_tok tok;
	int rc;

	for (;;) {
		if (p->state == P_FAILED)
			return -1;
		if (p->state == P_STATUS_TEXT || p->state == P_CONT_TEXT)
			rc = imap_lex_text(p->lx, &tok);
		else if (p->state == P_LIST_NAME || p->state == P_STATUS_MBOX)
			rc = imap_lex_astring(p->lx, &tok);
		else
			rc = imap_lex_next(p->lx, &tok);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return fail(p, "%s", imap_lex_error(p->lx));
		if (tok.kind == IMAP_TOK_LITERAL_START && wants_string(p)) {
			if (imap_lex_literal_collect(p->lx,
			    p->lim.max_line) < 0)
				return fail(p, "a string literal of %llu "
				    "bytes is too long",
				    (unsigned long long)tok.lit_size);
			continue;
		}
		if (tok.kind == IMAP_TOK_LITERAL_DATA &&
		    p->state != P_FETCH_BODY_DATA)
			return fail(p, "literal data out of place");
		rc = handle(p, &tok, ev);
		if (rc != 0)
			return rc;
	}
}
