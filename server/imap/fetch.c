/*
 * fetch: parsing FETCH attributes and writing FETCH responses.
 *
 * The parser pulls tokens from the session's imapd_toksrc. That source
 * cannot look ahead, yet "BODY" may be followed by "[", a section by a
 * "<partial>" and the attribute list by a modifier list, so the parser
 * keeps one token of its own to put back (copied, since tokens are
 * borrowed from the lexer) and reads through the line's CRLF.
 *
 * Items go out in Dovecot's order, which some clients rely on: UID first
 * for UID FETCH, then the cheap items (UID, FLAGS, INTERNALDATE,
 * RFC822.SIZE, MODSEQ) in the order asked, then a MODSEQ added by
 * CHANGEDSINCE or CONDSTORE and a FLAGS added because \Seen was just set,
 * then everything else in the order asked. An item asked twice is written
 * once, except BODY[...] sections, which Dovecot repeats.
 *
 * The writer prepares what can fail before the first byte (the MIME tree,
 * the content reader, HEADER.FIELDS texts), then writes the items the
 * view holds by hand (the "head", which the session's bulk path
 * imapd_fetch_format() writes alone), the other small items into a line
 * buffer, and streams each literal from the store one chunk at a time,
 * replacing NUL bytes with 0x80 as Dovecot does for non-BINARY fetches;
 * the literal's size is known from the tree's offsets before a byte of it
 * is read.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/date.h"
#include "lib/imap_envelope.h"
#include "lib/msg_summary.h"
#include "lib/util.h"
#include "server/imap/fetch.h"
#include "server/imap/fetch_int.h"

/* Flush the line buffer to the session's sink at this size. */
#define FETCH_LINE_FLUSH	(64 * 1024)
/* ENVELOPE and BODYSTRUCTURE of a message with MIME_MAX_PARTS parts. */
#define FETCH_LINE_MAX		(64 * 1024 * 1024)
/* A line buffer up to this size is kept for the next message. */
#define FETCH_LINE_KEEP		(256 * 1024)
/* A header field name in HEADER.FIELDS. */
#define FETCH_FIELD_MAX		1000

enum fetch_kind {
	/* the cheap items Dovecot writes first (its "buffered" handlers) */
	K_UID,
	K_FLAGS,
	K_INTERNALDATE,
	K_RFC822_SIZE,
	K_MODSEQ,
	/* the others, in the order asked */
	K_ENVELOPE,
	K_BODY,
	K_BODYSTRUCTURE,
	K_RFC822,
	K_RFC822_HEADER,
	K_RFC822_TEXT,
	K_SECTION,			/* BODY[...], BODY.PEEK[...] */
	K_COUNT
};
#define K_FIRST_OTHER	K_ENVELOPE

struct fetch_item {
	enum fetch_kind	 kind;
	int		 has_sec;	/* sections and RFC822* read content */
	struct fetch_section sec;
	char		*name;		/* response name of a section item */
};

struct imapd_fetch {
	struct fetch_item *items;	/* in output order */
	size_t		 nitems;
	size_t		 nfirst;	/* items[0..nfirst): the cheap ones */
	unsigned	 needs;
	int		 seen[K_COUNT];	/* asked already, for de-duplication */
	int		 changedsince_given;
	uint64_t	 changedsince;
	int		 vanished;
	int		 root_only;	/* only ENVELOPE reads the tree: its
					 * root part is enough */
	int		 summary;	/* ENVELOPE is all that is not in the
					 * view: the content's summary will do */
	struct buf	 line;		/* the writer's line buffer, its memory
					 * kept from one message to the next */
};

/* Names of the simple items, as parsed and as written. */
static const struct {
	const char	*name;
	enum fetch_kind	 kind;
} simple_items[] = {
	{ "BODYSTRUCTURE",	K_BODYSTRUCTURE },
	{ "ENVELOPE",		K_ENVELOPE },
	{ "FLAGS",		K_FLAGS },
	{ "INTERNALDATE",	K_INTERNALDATE },
	{ "MODSEQ",		K_MODSEQ },
	{ "RFC822",		K_RFC822 },
	{ "RFC822.HEADER",	K_RFC822_HEADER },
	{ "RFC822.SIZE",	K_RFC822_SIZE },
	{ "RFC822.TEXT",	K_RFC822_TEXT },
	{ "UID",		K_UID },
};

/* ---- Parsing -------------------------------------------------------- */

struct parser {
	struct imapd_toksrc *src;
	int		 uid_cmd;
	char		*err;
	size_t		 errlen;
	/* one token put back, its text owned here */
	int		 pushed;
	struct imap_tok	 back;
	char		*back_s;
	/* items as parsed: the cheap ones and the others, merged at the end */
	struct fetch_item *first, *other;
	size_t		 nfirst, nother, count;
	struct imapd_fetch *f;
};

static int
perr(struct parser *z, const char *msg)
{
	if (z->err != NULL && z->errlen > 0 && z->err[0] == '\0')
		seterr(z->err, z->errlen, -1, "%s", msg);
	return -1;
}

/*
 * The next token: the one put back, or the source's. Tokens are borrowed
 * until the next call, so a caller is done with one before asking again.
 */
static int
next_tok(struct parser *z, struct imap_tok *t)
{
	if (z->pushed) {
		*t = z->back;
		z->pushed = 0;
		return 0;
	}
	if (z->src->next(z->src->arg, t) != 1)
		return perr(z, "Could not read the FETCH arguments");
	return 0;
}

static void
push_back(struct parser *z, const struct imap_tok *t)
{
	free(z->back_s);
	z->back_s = t->s != NULL ? xstrndup(t->s, t->len) : NULL;
	z->back = *t;
	z->back.s = z->back_s;
	z->pushed = 1;
}

static void
section_free(struct fetch_section *sec)
{
	size_t i;

	free(sec->path);
	for (i = 0; i < sec->nfields; i++)
		free(sec->fields[i]);
	free(sec->fields);
	memset(sec, 0, sizeof(*sec));
}

static void
item_free(struct fetch_item *it)
{
	section_free(&it->sec);
	free(it->name);
}

static int
is_first(enum fetch_kind k)
{
	return k < K_FIRST_OTHER;
}

/* Add an item (taking over it->sec and it->name), de-duplicated. */
static int
add_item(struct parser *z, struct fetch_item *it)
{
	struct fetch_item **list;
	size_t *n;

	if (++z->count > IMAPD_FETCH_MAX_ITEMS) {
		item_free(it);
		return perr(z, "Too many FETCH items");
	}
	if (it->kind != K_SECTION && z->f->seen[it->kind]) {
		item_free(it);
		return 0;
	}
	z->f->seen[it->kind] = 1;
	list = is_first(it->kind) ? &z->first : &z->other;
	n = is_first(it->kind) ? &z->nfirst : &z->nother;
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[(*n)++] = *it;
	return 0;
}

static int
add_simple(struct parser *z, enum fetch_kind kind)
{
	struct fetch_item it;

	memset(&it, 0, sizeof(it));
	it.kind = kind;
	switch (kind) {
	case K_RFC822:
		it.has_sec = 1;
		it.sec.spec = SPEC_ALL;
		it.name = xstrdup("RFC822");
		break;
	case K_RFC822_HEADER:
		it.has_sec = 1;
		it.sec.spec = SPEC_HEADER;
		it.name = xstrdup("RFC822.HEADER");
		break;
	case K_RFC822_TEXT:
		it.has_sec = 1;
		it.sec.spec = SPEC_TEXT;
		it.name = xstrdup("RFC822.TEXT");
		break;
	default:
		break;
	}
	return add_item(z, &it);
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * Split a section atom ("1.2.HEADER.FIELDS") into its part numbers and
 * what follows them. 0, or -1 if it is not a section.
 */
static int
parse_spec(const char *s, struct fetch_section *sec)
{
	static const struct {
		const char	*name;
		enum fetch_spec	 spec;
	} specs[] = {
		{ "HEADER",		SPEC_HEADER },
		{ "TEXT",		SPEC_TEXT },
		{ "MIME",		SPEC_MIME },
		{ "HEADER.FIELDS",	SPEC_FIELDS },
		{ "HEADER.FIELDS.NOT",	SPEC_FIELDS_NOT },
	};
	const char *p = s, *dot;
	uint32_t v;
	size_t n, i;

	while (*p != '\0') {
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (!all_digits(p, n))
			break;
		if (sec->npath >= FETCH_PATH_MAX)
			return -1;
		/* wrapping as Dovecot's unsigned int does (see section.c) */
		for (v = 0, i = 0; i < n; i++)
			v = (uint32_t)(v * 10 + (uint64_t)(p[i] - '0'));
		sec->path = xreallocarray(sec->path, sec->npath + 1,
		    sizeof(*sec->path));
		sec->path[sec->npath++] = v;
		if (dot == NULL)
			return 0;	/* [n.m]: SPEC_ALL */
		p = dot + 1;
		if (*p == '\0')
			return -1;	/* "1." */
	}
	if (*p == '\0')
		return 0;		/* [] */
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		if (ascii_strcasecmp(p, specs[i].name) == 0) {
			if (specs[i].spec == SPEC_MIME && sec->npath == 0)
				return -1;
			sec->spec = specs[i].spec;
			return 0;
		}
	}
	return -1;
}

static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

/* One header field name of HEADER.FIELDS, echoed into name. */
static int
parse_field(struct parser *z, struct imap_tok *t, struct fetch_section *sec,
    struct buf *name)
{
	char *s;

	if (t->kind == IMAP_TOK_LITERAL_START) {
		if (z->src->collect(z->src->arg, FETCH_FIELD_MAX) < 0)
			return perr(z, "Invalid BODY[..] section");
		if (next_tok(z, t) < 0)
			return -1;
	}
	if (t->kind != IMAP_TOK_ATOM && !imap_tok_is_string(t))
		return perr(z, "Missing ')'");
	if (sec->nfields >= IMAPD_FETCH_MAX_FIELDS)
		return perr(z, "Too many header fields");
	if (t->len > FETCH_FIELD_MAX ||
	    memchr(t->s, '\0', t->len) != NULL)
		return perr(z, "Invalid BODY[..] section");
	s = xstrndup(t->s, t->len);
	upper(s);
	sec->fields = xreallocarray(sec->fields, sec->nfields + 1,
	    sizeof(*sec->fields));
	sec->fields[sec->nfields++] = s;
	if (sec->nfields > 1)
		(void)buf_addc(name, ' ');
	if (t->kind == IMAP_TOK_ATOM)
		(void)buf_adds(name, s);
	else
		(void)imap_envelope_string(name, s, strlen(s));
	return 0;
}

/* "(name ...)" after HEADER.FIELDS[.NOT]; the LPAREN is read already. */
static int
parse_fields(struct parser *z, struct fetch_section *sec, struct buf *name)
{
	struct imap_tok t;

	(void)buf_adds(name, " (");
	for (;;) {
		/* not astring: "(a b])" must miss its ')', as in Dovecot */
		if (next_tok(z, &t) < 0)
			return -1;
		if (t.kind == IMAP_TOK_RPAREN)
			break;
		if (parse_field(z, &t, sec, name) < 0)
			return -1;
	}
	if (sec->nfields == 0)
		return perr(z, "Invalid BODY[..] section");
	(void)buf_addc(name, ')');
	return 0;
}

/* "<off.len>" or "<off>" */
static int
parse_partial(struct parser *z, const char *s, struct fetch_section *sec)
{
	const char *p = s + 1;
	char *end;

	if (*p < '0' || *p > '9')
		return perr(z, "Invalid BODY[..] parameter: Too big partial "
		    "start");
	errno = 0;
	sec->poff = strtoull(p, &end, 10);
	if (errno != 0)
		return perr(z, "Invalid BODY[..] parameter: Too big partial "
		    "start");
	sec->plen = UINT64_MAX;
	if (*end == '.') {
		p = end + 1;
		if (*p < '0' || *p > '9')
			return perr(z, "Invalid BODY[..] parameter: Too big "
			    "partial end");
		errno = 0;
		sec->plen = strtoull(p, &end, 10);
		if (errno != 0)
			return perr(z, "Invalid BODY[..] parameter: Too big "
			    "partial end");
	}
	if (end[0] != '>' || end[1] != '\0')
		return perr(z, "Invalid BODY[..] parameter: Missing '>' in "
		    "partial");
	sec->partial = 1;
	return 0;
}

/* After BODY[ or BODY.PEEK[: the section, "]", and an optional partial. */
static int
parse_section(struct parser *z, int peek)
{
	struct fetch_item it;
	struct imap_tok t;
	struct buf name;
	int rc = -1;

	memset(&it, 0, sizeof(it));
	it.kind = K_SECTION;
	it.has_sec = 1;
	buf_init(&name, IMAP_LEX_LINE_AUTH);
	(void)buf_adds(&name, "BODY[");
	if (next_tok(z, &t) < 0)
		goto out;
	if (t.kind == IMAP_TOK_ATOM) {
		if (parse_spec(t.s, &it.sec) < 0) {
			perr(z, "Invalid BODY[..] section");
			goto out;
		}
		(void)buf_adds(&name, t.s);
		upper(name.data);
		if (it.sec.spec == SPEC_FIELDS ||
		    it.sec.spec == SPEC_FIELDS_NOT) {
			if (next_tok(z, &t) < 0)
				goto out;
			if (t.kind != IMAP_TOK_LPAREN) {
				perr(z, "Invalid BODY[..] section");
				goto out;
			}
			if (parse_fields(z, &it.sec, &name) < 0)
				goto out;
		}
		if (next_tok(z, &t) < 0)
			goto out;
	}
	if (t.kind != IMAP_TOK_RBRACKET) {
		perr(z, "Invalid BODY[..] parameter: Missing ']'");
		goto out;
	}
	(void)buf_addc(&name, ']');
	if (next_tok(z, &t) < 0)
		goto out;
	if (t.kind == IMAP_TOK_ATOM && t.sp == 0 && t.s[0] == '<') {
		if (parse_partial(z, t.s, &it.sec) < 0)
			goto out;
	} else
		push_back(z, &t);
	if (!peek)
		z->f->needs |= IMAPD_FETCH_SETS_SEEN;
	it.name = buf_steal(&name, NULL);
	return add_item(z, &it);
out:
	buf_free(&name);
	item_free(&it);
	return rc;
}

/* One fetch-att that starts with the atom t. */
static int
parse_att(struct parser *z, const struct imap_tok *t)
{
	struct imap_tok n;
	char *name;
	size_t i;
	int peek;

	if (imap_tok_atom_is(t, "BODY") || imap_tok_atom_is(t, "BODY.PEEK")) {
		peek = imap_tok_atom_is(t, "BODY.PEEK");
		if (next_tok(z, &n) < 0)
			return -1;
		if (n.kind == IMAP_TOK_LBRACKET && n.sp == 0)
			return parse_section(z, peek);
		if (peek)
			return perr(z, "Invalid BODY[..] parameter: Missing "
			    "'['");
		push_back(z, &n);
		return add_simple(z, K_BODY);
	}
	for (i = 0; i < ARRAY_SIZE(simple_items); i++)
		if (imap_tok_atom_is(t, simple_items[i].name))
			return add_simple(z, simple_items[i].kind);
	name = xasprintf("Unknown parameter%s %s",
	    ascii_strncasecmp(t->s, "RFC822.", 7) == 0 ? "" : ":", t->s);
	perr(z, name);
	free(name);
	return -1;
}

/* A macro (only where one att is allowed, as in Dovecot). */
static int
parse_macro(struct parser *z, const struct imap_tok *t, int *done)
{
	static const enum fetch_kind fast[] = {
		K_FLAGS, K_INTERNALDATE, K_RFC822_SIZE,
	};
	size_t i;
	int all = imap_tok_atom_is(t, "ALL"), full = imap_tok_atom_is(t,
	    "FULL");

	*done = 0;
	if (!all && !full && !imap_tok_atom_is(t, "FAST"))
		return 0;
	*done = 1;
	for (i = 0; i < ARRAY_SIZE(fast); i++)
		if (add_simple(z, fast[i]) < 0)
			return -1;
	if ((all || full) && add_simple(z, K_ENVELOPE) < 0)
		return -1;
	if (full && add_simple(z, K_BODY) < 0)
		return -1;
	return 0;
}

static int
parse_list(struct parser *z)
{
	struct imap_tok t;

	for (;;) {
		if (next_tok(z, &t) < 0)
			return -1;
		if (t.kind == IMAP_TOK_RPAREN)
			break;
		if (t.kind == IMAP_TOK_CRLF)
			return perr(z, "Missing ')'");
		if (t.kind != IMAP_TOK_ATOM)
			return perr(z, "FETCH list contains non-atoms");
		if (parse_att(z, &t) < 0)
			return -1;
	}
	if (z->count == 0)
		return perr(z, "FETCH list is empty");
	return 0;
}

/* "(CHANGEDSINCE n [VANISHED])"; the LPAREN is read already. */
static int
parse_modifiers(struct parser *z)
{
	struct imapd_fetch *f = z->f;
	struct imap_tok t;

	for (;;) {
		if (next_tok(z, &t) < 0)
			return -1;
		if (t.kind == IMAP_TOK_RPAREN)
			break;
		if (imap_tok_atom_is(&t, "CHANGEDSINCE")) {
			if (next_tok(z, &t) < 0)
				return -1;
			if (t.kind != IMAP_TOK_ATOM || parse_u64(t.s,
			    INT64_MAX, &f->changedsince) < 0)
				return perr(z, "Invalid CHANGEDSINCE modseq");
			f->changedsince_given = 1;
		} else if (z->uid_cmd && imap_tok_atom_is(&t, "VANISHED"))
			f->vanished = 1;
		else
			return perr(z, "Unknown FETCH modifier");
	}
	if (f->vanished && !f->changedsince_given)
		return perr(z, "VANISHED used without CHANGEDSINCE");
	if (f->changedsince_given && add_simple(z, K_MODSEQ) < 0)
		return -1;
	return 0;
}

static int
parse_all(struct parser *z)
{
	struct imap_tok t;
	int done;

	if (z->uid_cmd && add_simple(z, K_UID) < 0)
		return -1;
	if (next_tok(z, &t) < 0)
		return -1;
	if (t.kind == IMAP_TOK_LPAREN) {
		if (parse_list(z) < 0)
			return -1;
	} else if (t.kind == IMAP_TOK_ATOM) {
		if (parse_macro(z, &t, &done) < 0)
			return -1;
		if (!done && parse_att(z, &t) < 0)
			return -1;
	} else if (t.kind == IMAP_TOK_RPAREN)
		return perr(z, "Unexpected ')'");
	else
		return perr(z, "Invalid arguments");
	if (next_tok(z, &t) < 0)
		return -1;
	if (t.kind == IMAP_TOK_LPAREN) {
		if (parse_modifiers(z) < 0 || next_tok(z, &t) < 0)
			return -1;
	}
	if (t.kind == IMAP_TOK_RPAREN)
		return perr(z, "Unexpected ')'");
	if (t.kind != IMAP_TOK_CRLF)
		return perr(z, "Invalid arguments");
	return 0;
}

static unsigned
item_needs(const struct fetch_item *it)
{
	switch (it->kind) {
	case K_ENVELOPE:
	case K_BODY:
	case K_BODYSTRUCTURE:
		return IMAPD_FETCH_MIME;
	case K_MODSEQ:
		return IMAPD_FETCH_MODSEQ;
	case K_RFC822:
	case K_RFC822_TEXT:
		return IMAPD_FETCH_CONTENT | IMAPD_FETCH_SETS_SEEN |
		    (it->kind == K_RFC822_TEXT ? IMAPD_FETCH_MIME : 0);
	case K_RFC822_HEADER:
		return IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME;
	case K_SECTION:
		return IMAPD_FETCH_CONTENT | (it->sec.npath == 0 &&
		    it->sec.spec == SPEC_ALL ? 0 : IMAPD_FETCH_MIME);
	default:
		return 0;
	}
}

int
imapd_fetch_parse(struct imapd_toksrc *src, int uid_cmd,
    struct imapd_fetch **f_r, char *err, size_t errlen)
{
	struct parser z;
	struct imapd_fetch *f;
	size_t i;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&z, 0, sizeof(z));
	z.src = src;
	z.uid_cmd = uid_cmd;
	z.err = err;
	z.errlen = errlen;
	z.f = f = xcalloc(1, sizeof(*f));
	buf_init(&f->line, FETCH_LINE_MAX);
	rc = parse_all(&z);
	/* merge: the cheap items first, then the rest in the order asked */
	f->items = xreallocarray(NULL, z.nfirst + z.nother + 1,
	    sizeof(*f->items));
	if (z.nfirst > 0)
		memcpy(f->items, z.first, z.nfirst * sizeof(*f->items));
	if (z.nother > 0)
		memcpy(f->items + z.nfirst, z.other,
		    z.nother * sizeof(*f->items));
	f->nfirst = z.nfirst;
	f->nitems = z.nfirst + z.nother;
	free(z.first);
	free(z.other);
	free(z.back_s);
	f->root_only = 1;
	for (i = 0; i < f->nitems; i++) {
		f->needs |= item_needs(&f->items[i]);
		if ((item_needs(&f->items[i]) & IMAPD_FETCH_MIME) &&
		    f->items[i].kind != K_ENVELOPE)
			f->root_only = 0;
	}
	/* ENVELOPE with only what the view holds (UID, FLAGS, INTERNALDATE,
	 * RFC822.SIZE, MODSEQ): the summary has it, the tree is not read */
	f->summary = f->root_only && (f->needs & IMAPD_FETCH_MIME) &&
	    !(f->needs & IMAPD_FETCH_CONTENT);
	if (rc < 0) {
		imapd_fetch_free(&f);
		return -1;
	}
	*f_r = f;
	return 0;
}

void
imapd_fetch_free(struct imapd_fetch **fp)
{
	struct imapd_fetch *f = *fp;
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nitems; i++)
		item_free(&f->items[i]);
	free(f->items);
	buf_free(&f->line);
	free(f);
	*fp = NULL;
}

unsigned
imapd_fetch_needs(const struct imapd_fetch *f)
{
	return f->needs;
}

uint64_t
imapd_fetch_changedsince(const struct imapd_fetch *f)
{
	return f->changedsince;
}

int
imapd_fetch_vanished(const struct imapd_fetch *f)
{
	return f->vanished;
}

/* ---- The head: the items the view holds --------------------------- */

/*
 * UID, FLAGS, INTERNALDATE, RFC822.SIZE and MODSEQ come from the view and
 * open every response, with the MODSEQ and FLAGS the session adds. They
 * are written by hand into memory that has room for them, without a
 * buffer's bounds check or a printf per item: "UID FETCH 1:* (UID FLAGS)"
 * on a big mailbox is nothing but this, for every message. One writer for
 * both paths: imapd_fetch_write() begins each response with put_head(),
 * and imapd_fetch_format(), the session's bulk path for a request that
 * asks for nothing else, is put_head() and the closing parenthesis.
 */

/* What put_head() writes at most besides the FLAGS text: "* n FETCH (",
 * each cheap item once with its space, and ")\r\n". */
_Static_assert(IMAPD_FETCH_VIEW_MAX >= sizeof("* 4294967295 FETCH (") +
    sizeof("UID 4294967295 ") + sizeof("FLAGS () ") +
    sizeof("INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" ") +
    sizeof("RFC822.SIZE 18446744073709551615 ") +
    sizeof("MODSEQ (18446744073709551615)") + sizeof(")\r\n"),
    "IMAPD_FETCH_VIEW_MAX is too small for the items the view holds");

static char *
put_str(char *p, const char *s, size_t n)
{
	if (n > 0)
		memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit)	put_str((p), (lit), sizeof(lit) - 1)

/* v in decimal at p, two digits a step; returns the end. The part that
 * fits 32 bits (all of a UID or a sequence number) takes 32-bit
 * arithmetic, which costs half as much. */
static char *
put_u64(char *p, uint64_t v)
{
	static const char pairs[] =
	    "0001020304050607080910111213141516171819"
	    "2021222324252627282930313233343536373839"
	    "4041424344454647484950515253545556575859"
	    "6061626364656667686970717273747576777879"
	    "8081828384858687888990919293949596979899";
	uint64_t ten = 10;
	uint32_t w;
	size_t n = 1;
	char *e;

	while (n < 20 && v >= ten) {
		n++;
		ten *= 10;
	}
	e = p + n;
	for (; v > UINT32_MAX; v /= 100) {
		e -= 2;
		memcpy(e, pairs + v % 100 * 2, 2);
	}
	for (w = (uint32_t)v; w >= 100; w /= 100) {
		e -= 2;
		memcpy(e, pairs + w % 100 * 2, 2);
	}
	if (w >= 10)
		memcpy(e - 2, pairs + w * 2, 2);
	else
		e[-1] = (char)('0' + w);
	return p + n;
}

/* One item at p; returns the end. */
static char *
put_item(char *p, enum fetch_kind kind, const struct imapd_fetch_msg *m,
    size_t flagslen)
{
	const struct store_msg *msg = m->msg;
	char date[DATE_IMAP_LEN];

	switch (kind) {
	case K_UID:
		return put_u64(PUT_LIT(p, "UID "), msg->uid);
	case K_FLAGS:
		p = put_str(PUT_LIT(p, "FLAGS ("), m->flags, flagslen);
		return PUT_LIT(p, ")");
	case K_INTERNALDATE:
		if (date_imap_format(msg->internaldate, msg->tzoff, date) < 0)
			return PUT_LIT(p, "INTERNALDATE NIL");
		p = put_str(PUT_LIT(p, "INTERNALDATE \""), date,
		    DATE_IMAP_LEN - 1);
		return PUT_LIT(p, "\"");
	case K_RFC822_SIZE:
		return put_u64(PUT_LIT(p, "RFC822.SIZE "), msg->size);
	case K_MODSEQ:
		p = put_u64(PUT_LIT(p, "MODSEQ ("), msg->modseq);
		return PUT_LIT(p, ")");
	default:
		assert(!"not an item the view holds");
		return p;
	}
}

/*
 * "* seq FETCH (" and the cheap items at p, then a MODSEQ and a FLAGS the
 * session adds (include_modseq, include_flags) unless asked already.
 * p has room for IMAPD_FETCH_VIEW_MAX + flagslen bytes. Returns the end;
 * *n_r is the number of items written.
 */
static char *
put_head(const struct imapd_fetch *f, const struct imapd_fetch_msg *m,
    size_t flagslen, char *p, int *n_r)
{
	enum fetch_kind added[2], kind;
	size_t i, n, nadded = 0;

	if (m->include_modseq && !f->seen[K_MODSEQ])
		added[nadded++] = K_MODSEQ;
	if (m->include_flags && !f->seen[K_FLAGS])
		added[nadded++] = K_FLAGS;
	n = f->nfirst + nadded;
	p = PUT_LIT(put_u64(PUT_LIT(p, "* "), m->seq), " FETCH (");
	for (i = 0; i < n; i++) {
		kind = i < f->nfirst ? f->items[i].kind :
		    added[i - f->nfirst];
		if (i > 0)
			*p++ = ' ';
		p = put_item(p, kind, m, flagslen);
	}
	*n_r = (int)n;
	return p;
}

int
imapd_fetch_in_view(const struct imapd_fetch *f)
{
	return f->nitems == f->nfirst;
}

char *
imapd_fetch_format(const struct imapd_fetch *f,
    const struct imapd_fetch_msg *m, size_t flagslen, char *p)
{
	int n;

	assert(imapd_fetch_in_view(f));
	p = put_head(f, m, flagslen, p, &n);
	return PUT_LIT(p, ")\r\n");
}

/* ---- Writing -------------------------------------------------------- */

/*
 * Writer functions return 0, -1 when out failed (out_failed is set), or a
 * negative store code already mapped by store_code(), so that -1 means
 * only the lost connection; a line over its limit is IMAPD_FETCH_ESTORE.
 */
struct writer {
	struct imapd_fetch *f;
	const struct imapd_fetch_msg *m;
	struct imapd_out *out;
	struct buf	 line;		/* bytes not yet given to out */
	struct mime_part *root;
	struct msg_summary sum;		/* borrowed from the store */
	int		 have_sum;	/* sum is filled: root is not read */
	struct store_reader *rd;
	uint64_t	 size;		/* of the content */
	struct fetch_range *ranges;	/* one per item; used by has_sec */
	char		*chunk;		/* STORE_CHUNK_SIZE bytes */
	int		 items;		/* written so far */
	int		 flushed;	/* some of the response went out */
	int		 out_failed;
};

static int
store_code(int rc)
{
	return rc == STORE_ERR ? IMAPD_FETCH_ESTORE : rc;
}

static int
flush(struct writer *w)
{
	if (w->line.len == 0 || w->out_failed)
		return w->out_failed ? -1 : 0;
	if (w->out->write(w->out->arg, w->line.data, w->line.len) < 0) {
		w->out_failed = 1;
		return -1;
	}
	w->flushed = 1;
	buf_reset(&w->line);
	return 0;
}

/* Read len bytes at off from the content (HEADER.FIELDS of a header the
 * MIME tree did not keep). */
static int
read_hdr(void *arg, uint64_t off, uint64_t len, struct buf *out)
{
	struct writer *w = arg;
	ssize_t n;
	size_t want;
	int rc;

	if (w->rd == NULL)
		return STORE_ERR;
	if ((rc = store_reader_seek(w->rd, off)) < 0)
		return rc;
	while (len > 0) {
		want = len < STORE_CHUNK_SIZE ? (size_t)len : STORE_CHUNK_SIZE;
		if ((n = store_reader_read(w->rd, w->chunk, want)) < 0)
			return (int)n;
		if (n == 0)
			break;
		if (buf_add(out, w->chunk, (size_t)n) < 0)
			return STORE_ERR;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Everything that can fail, before the first byte is written. */
static int
prepare(struct writer *w)
{
	struct imapd_fetch *f = w->f;
	struct store *st = w->m->st;
	size_t i;
	int rc;

	if (f->summary) {
		rc = store_content_summary(st, w->m->msg->content, &w->sum);
		if (rc < 0)
			return store_code(rc);
		w->have_sum = rc == 0;
	}
	if ((f->needs & IMAPD_FETCH_MIME) && !w->have_sum &&
	    (rc = (f->root_only ? store_content_envelope :
	    store_content_mime)(st, w->m->msg->content, &w->root)) < 0)
		return store_code(rc);
	if (f->needs & IMAPD_FETCH_CONTENT) {
		if ((rc = store_reader_open(st, w->m->msg->content,
		    &w->rd)) < 0)
			return store_code(rc);
		w->size = store_reader_size(w->rd);
		w->chunk = xmalloc(STORE_CHUNK_SIZE);
	}
	for (i = 0; i < f->nitems; i++) {
		if (!f->items[i].has_sec)
			continue;
		if (w->ranges == NULL)
			w->ranges = xcalloc(f->nitems + 1, sizeof(*w->ranges));
		if ((rc = imapd_section_resolve(&f->items[i].sec, w->root,
		    w->size, read_hdr, w, &w->ranges[i])) < 0)
			return store_code(rc);
	}
	return 0;
}

static int
item_start(struct writer *w)
{
	if (w->items++ > 0)
		return buf_addc(&w->line, ' ');
	return 0;
}

/* The bytes [off, off+len) of the content or of mem, NUL as 0x80. */
static int
stream(struct writer *w, const struct fetch_range *r, uint64_t off,
    uint64_t len)
{
	uint64_t left = len;
	ssize_t n;
	size_t want, i;
	int rc = 0;

	if (r->in_mem) {
		for (i = 0; i < len; i++)
			if (buf_addc(&w->line, r->mem.data[off + i] == '\0' ?
			    (char)0x80 : r->mem.data[off + i]) < 0)
				return IMAPD_FETCH_ESTORE;
		if (w->line.len >= FETCH_LINE_FLUSH && flush(w) < 0)
			return -1;
		return 0;
	}
	if (len > 0 && (rc = store_reader_seek(w->rd, off)) < 0)
		left = len;
	while (rc == 0 && left > 0) {
		if (flush(w) < 0)
			return -1;
		want = left < STORE_CHUNK_SIZE ? (size_t)left :
		    STORE_CHUNK_SIZE;
		if ((n = store_reader_read(w->rd, w->chunk, want)) <= 0) {
			rc = n < 0 ? (int)n : STORE_ECORRUPT;
			break;
		}
		for (i = 0; i < (size_t)n; i++)
			if (w->chunk[i] == '\0')
				w->chunk[i] = (char)0x80;
		if (w->out->write(w->out->arg, w->chunk, (size_t)n) < 0) {
			w->out_failed = 1;
			return -1;
		}
		left -= (uint64_t)n;
	}
	if (rc == 0)
		return 0;
	rc = store_code(rc);
	/* The literal was announced: fill it, so the stream stays IMAP. */
	memset(w->chunk, ' ', STORE_CHUNK_SIZE);
	while (left > 0) {
		want = left < STORE_CHUNK_SIZE ? (size_t)left :
		    STORE_CHUNK_SIZE;
		if (w->out->write(w->out->arg, w->chunk, want) < 0) {
			w->out_failed = 1;
			return -1;
		}
		left -= want;
	}
	return rc;
}

static int
write_section(struct writer *w, const struct fetch_item *it,
    const struct fetch_range *r)
{
	const struct fetch_section *sec = &it->sec;
	uint64_t total = r->in_mem ? r->mem.len : r->len, off = r->off, len;

	/* offsets beyond the content (a damaged tree) give what is there */
	if (!r->in_mem) {
		if (off > w->size)
			off = total = 0;
		else if (total > w->size - off)
			total = w->size - off;
	} else
		off = 0;
	len = total;
	if (sec->partial) {
		if (sec->poff >= total)
			len = 0;
		else {
			len = total - sec->poff;
			if (sec->plen < len)
				len = sec->plen;
			off += sec->poff;
		}
	}
	if (buf_adds(&w->line, it->name) < 0 ||
	    (sec->partial && buf_printf(&w->line, "<%llu>",
	    (unsigned long long)sec->poff) < 0) ||
	    buf_printf(&w->line, " {%llu}\r\n", (unsigned long long)len) < 0)
		return IMAPD_FETCH_ESTORE;
	return stream(w, r, off, len);
}

/* The items that need the MIME tree (or the content's summary). */
static int
write_simple(struct writer *w, enum fetch_kind kind)
{
	switch (kind) {
	case K_ENVELOPE:
		if (buf_adds(&w->line, "ENVELOPE ") < 0)
			return -1;
		if (w->have_sum)
			return buf_add(&w->line, w->sum.v[MSG_SUMMARY_ENVELOPE],
			    w->sum.len[MSG_SUMMARY_ENVELOPE]);
		return imap_envelope_of(&w->line, w->root);
	case K_BODY:
	case K_BODYSTRUCTURE:
		if (buf_adds(&w->line, kind == K_BODY ? "BODY " :
		    "BODYSTRUCTURE ") < 0)
			return -1;
		return imapd_bodystructure(&w->line, w->root,
		    kind == K_BODYSTRUCTURE);
	default:
		return -1;
	}
}

static int
write_item(struct writer *w, size_t i)
{
	const struct fetch_item *it = &w->f->items[i];

	if (item_start(w) < 0)
		return IMAPD_FETCH_ESTORE;
	if (it->has_sec)
		return write_section(w, it, &w->ranges[i]);
	if (write_simple(w, it->kind) < 0)
		return IMAPD_FETCH_ESTORE;
	if (w->line.len >= FETCH_LINE_FLUSH && flush(w) < 0)
		return -1;
	return 0;
}

/* The head (see put_head()), then the other items, each flushed when the
 * line has grown large. */
static int
write_all(struct writer *w)
{
	const struct imapd_fetch *f = w->f;
	size_t flagslen = w->m->flags != NULL ? strlen(w->m->flags) : 0, i;
	char small[IMAPD_FETCH_VIEW_MAX + 512], *head = small, *end;
	int rc;

	if (flagslen > sizeof(small) - IMAPD_FETCH_VIEW_MAX)
		head = xmalloc(IMAPD_FETCH_VIEW_MAX + flagslen);
	end = put_head(f, w->m, flagslen, head, &w->items);
	rc = buf_add(&w->line, head, (size_t)(end - head));
	if (head != small)
		free(head);
	if (rc < 0)
		return IMAPD_FETCH_ESTORE;
	for (i = f->nfirst; i < f->nitems; i++)
		if ((rc = write_item(w, i)) != 0)
			return rc;
	if (buf_adds(&w->line, ")\r\n") < 0)
		return IMAPD_FETCH_ESTORE;
	return flush(w);
}

int
imapd_fetch_write(struct imapd_fetch *f, const struct imapd_fetch_msg *m,
    struct imapd_out *out)
{
	struct writer w;
	size_t i;
	int rc;

	memset(&w, 0, sizeof(w));
	w.f = f;
	w.m = m;
	w.out = out;
	w.line = f->line;
	if ((rc = prepare(&w)) == 0) {
		rc = write_all(&w);
		/* Part of the response is out (a literal cut short was
		 * padded): end it, so the connection stays usable. */
		if (rc < -1 && w.flushed && !w.out_failed) {
			buf_reset(&w.line);
			if (buf_adds(&w.line, ")\r\n") < 0 || flush(&w) < 0)
				rc = -1;
		}
	}
	if (w.out_failed)
		rc = -1;
	for (i = 0; w.ranges != NULL && i < f->nitems; i++)
		imapd_fetch_range_clear(&w.ranges[i]);
	free(w.ranges);
	free(w.chunk);
	store_reader_close(&w.rd);
	/* keep the line's memory for the next message, unless it is large */
	if (w.line.cap > FETCH_LINE_KEEP)
		buf_free(&w.line);
	buf_reset(&w.line);
	f->line = w.line;
	mime_part_free(&w.root);
	return rc;
}
