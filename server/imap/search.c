/*
 * search: SEARCH / UID SEARCH, parsed into a tree of keys, evaluated over
 * the session's view, and answered as SEARCH or ESEARCH.
 *
 * Evaluation is three-valued and staged by cost. Every key has a level:
 * L_VIEW for what the view already holds (flags, UIDs, sizes, internal
 * dates, MODSEQs), L_SUMMARY for what the content's summary holds
 * (FROM, TO, CC, BCC, SUBJECT, SENT*: store_content_summary()), L_MIME for
 * what the cached MIME tree holds (any HEADER field), L_CONTENT for what
 * needs the content (BODY, TEXT). A message is first evaluated with the
 * view alone, where a key of a higher level answers "maybe"; only if the
 * whole tree still says "maybe" is the next thing loaded and the tree
 * evaluated again, and so on. So "SEEN FROM x" never decrypts an unseen
 * message, "FROM x" reads one summary block per 128 messages, and "OR
 * SEEN BODY x" reads no body of a seen one. A content without a summary
 * (stored before summaries existed) has its L_SUMMARY keys answered from
 * the MIME tree, with the same result.
 *
 * Text matching follows Dovecot 2.3 (lib/search_norm.h): both the key
 * and the text are brought to one normal form, and the key must be a
 * substring. Header keys match any occurrence of their field after RFC
 * 2047 decoding; address fields (FROM, TO, CC, BCC) are first parsed and
 * written back the way Dovecot normalises them, SUBJECT has its runs of
 * white space squeezed; a summary holds these texts ready. BODY reads
 * the decoded text of every text/ and message/ part (transfer encoding
 * undone, charset converted to UTF-8); TEXT also reads every header block
 * of the message, MIME part headers included, as "Name: value" lines. The
 * body is matched in a stream: a window keeps the last (longest key - 1)
 * bytes between pieces, so memory does not grow with the message.
 */
#include "server/imap/search.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/charset.h"
#include "lib/date.h"
#include "lib/imap_seqset.h"
#include "lib/mime.h"
#include "lib/msg_summary.h"
#include "lib/rfc822.h"
#include "lib/search_norm.h"
#include "lib/util.h"

/* Pieces of content read at once, and the buffers the text goes through. */
#define READ_PIECE	16384
#define TEXT_BUF_MAX	(1024 * 1024)
#define VALUE_BUF_MAX	(4 * 1024 * 1024)

enum ktype {
	K_AND, K_OR, K_NOT,
	K_ALL, K_SEQ, K_UID,
	K_FLAGS,	/* every flag of mask set */
	K_UNFLAGS,	/* every flag of mask clear */
	K_RECENT, K_NEW, K_OLD,
	K_KEYWORD, K_UNKEYWORD,
	K_LARGER, K_SMALLER,
	K_BEFORE, K_ON, K_SINCE,
	K_SENTBEFORE, K_SENTON, K_SENTSINCE,
	K_HEADER, K_BODY, K_TEXT,
	K_MODSEQ,
};

/* Key levels: what must be loaded to answer a key (see the top). */
enum { L_VIEW, L_SUMMARY, L_MIME, L_CONTENT };

/* Keyword lookup state: done lazily by the first run. */
enum { KW_UNRESOLVED, KW_KNOWN, KW_UNKNOWN };

struct key {
	enum ktype	 type;
	int		 level;
	struct key	**kids;		/* AND, OR (2), NOT (1) */
	size_t		 nkids;
	uint32_t	 flags;		/* K_FLAGS, K_UNFLAGS */
	struct imap_seqset *set;	/* K_SEQ, K_UID */
	uint64_t	 num;		/* LARGER, SMALLER, MODSEQ */
	int64_t		 day;		/* date keys: days since the epoch */
	char		*kwname;	/* KEYWORD, UNKEYWORD */
	int		 kwstate;
	uint32_t	 kwid;
	char		*field;		/* HEADER: the field name */
	enum search_norm_mode hmode;
	int		 sumfield;	/* HEADER: its text in a summary, -1 */
	char		*needle;	/* HEADER, BODY, TEXT: normal form */
	size_t		 nlen;
	size_t		 slot;		/* BODY, TEXT: index into texts */
};

/* RETURN options (RFC 4731). */
#define RET_MIN		0x01
#define RET_MAX		0x02
#define RET_ALL		0x04
#define RET_COUNT	0x08

struct imapd_search {
	struct key	*root;		/* K_AND of the top-level keys */
	unsigned	 ret;		/* RET_* bits */
	int		 esearch;	/* RETURN was given */
	int		 modseq;	/* a MODSEQ key was given */
	size_t		 nkeys;
	struct key	**texts;	/* BODY and TEXT keys, by slot */
	size_t		 ntexts;
	int		 have_text;	/* a TEXT key: headers are scanned */
	int		 have_sum;	/* a key a summary can answer */
	size_t		 maxneedle;	/* longest BODY/TEXT needle */
};

/* ---- The text window ---------------------------------------------- */

/*
 * Body and TEXT matching look at a window of normal-form text: each new
 * piece is appended, every key not yet found is looked for, and then only
 * the last (longest key - 1) bytes are kept, so a key that straddles two
 * pieces is still found and memory stays bounded by the piece size.
 */
struct win {
	char		*p;
	size_t		 len, cap;
	size_t		 body_start;	/* bytes of p that are header text */
};

/* Room for SEARCH_NORM_MAX(n) more bytes; returns where to write. */
static char *
win_room(struct win *w, size_t n)
{
	size_t need = w->len + SEARCH_NORM_MAX(n);

	if (need > w->cap) {
		w->cap = need < 4096 ? 4096 : need + need / 2;
		w->p = xrealloc(w->p, w->cap);
	}
	return w->p + w->len;
}

/* Append the normal form of UTF-8 text (complete: last piece). */
static void
win_add(struct win *w, const char *s, size_t n)
{
	size_t used;

	w->len += search_norm_utf8(win_room(w, n), (const unsigned char *)s, n, 1,
	    &used);
}

/* ---- Parsing ------------------------------------------------------- */

struct parser {
	struct imapd_toksrc *src;
	const struct imapd_search_ctx *ctx;
	struct imapd_search *s;
	char		*err;
	size_t		 errlen;
	int		 rc;		/* the failure, once set */
};

static int
fail(struct parser *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct parser *p, int rc, const char *fmt, ...)
{
	va_list ap;

	if (p->rc == 0) {
		p->rc = rc;
		if (p->err != NULL && p->errlen > 0) {
			va_start(ap, fmt);
			vsnprintf(p->err, p->errlen, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

static int
next_tok(struct parser *p, struct imap_tok *tok)
{
	if (p->src->next(p->src->arg, tok) != 1)
		return fail(p, IMAPD_SEARCH_ELEX, "Lexer error");
	return 0;
}

/* An astring (atom, quoted or literal) into a new string; *len_r its
 * length. what names it for the error. */
static int
read_string(struct parser *p, const char *what, char **s_r, size_t *len_r)
{
	struct imap_tok tok;

	if (p->src->astring(p->src->arg, &tok) != 1)
		return fail(p, IMAPD_SEARCH_ELEX, "Lexer error");
	if (tok.kind == IMAP_TOK_LITERAL_START) {
		if (p->src->collect(p->src->arg, IMAPD_SEARCH_MAX_STRING) < 0)
			return fail(p, IMAPD_SEARCH_EBAD, "Search string too "
			    "long (at most %d bytes)", IMAPD_SEARCH_MAX_STRING);
		if (next_tok(p, &tok) < 0)
			return -1;
	}
	if (tok.kind != IMAP_TOK_ATOM && tok.kind != IMAP_TOK_QUOTED &&
	    tok.kind != IMAP_TOK_LITERAL)
		return fail(p, IMAPD_SEARCH_EBAD, "Missing parameter for "
		    "search key (for search key: %s)", what);
	if (tok.len > IMAPD_SEARCH_MAX_STRING)
		return fail(p, IMAPD_SEARCH_EBAD, "Search string too long "
		    "(at most %d bytes)", IMAPD_SEARCH_MAX_STRING);
	*s_r = xstrndup(tok.s, tok.len);
	*len_r = tok.len;
	if (memchr(tok.s, '\0', tok.len) != NULL) {
		free(*s_r);
		return fail(p, IMAPD_SEARCH_EBAD, "NUL in search string");
	}
	return 0;
}

/* An atom argument (numbers, sequence sets, keywords). */
static int
read_atom(struct parser *p, const char *what, struct imap_tok *tok)
{
	if (next_tok(p, tok) < 0)
		return -1;
	if (tok->kind != IMAP_TOK_ATOM)
		return fail(p, IMAPD_SEARCH_EBAD, "Missing parameter for "
		    "search key (for search key: %s)", what);
	return 0;
}

static struct key *
key_new(struct parser *p, enum ktype type, int level)
{
	struct key *k = xcalloc(1, sizeof(*k));

	k->type = type;
	k->level = level;
	p->s->nkeys++;
	return k;
}

static void
key_free(struct key *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nkids; i++)
		key_free(k->kids[i]);
	free(k->kids);
	imap_seqset_free(&k->set);
	free(k->kwname);
	free(k->field);
	free(k->needle);
	free(k);
}

static void
key_add_kid(struct key *parent, struct key *kid)
{
	parent->kids = xreallocarray(parent->kids, parent->nkids + 1,
	    sizeof(*parent->kids));
	parent->kids[parent->nkids++] = kid;
	if (kid->level > parent->level)
		parent->level = kid->level;
}

/* The normal form of a key string (UTF-8 or US-ASCII). */
static void
set_needle(struct key *k, const char *s, size_t n)
{
	size_t used;

	k->needle = xmalloc(SEARCH_NORM_MAX(n) + 1);
	k->nlen = search_norm_utf8(k->needle, (const unsigned char *)s, n, 1, &used);
	k->needle[k->nlen] = '\0';
}

static struct key *parse_key(struct parser *p, struct imap_tok *tok,
    unsigned depth);

/* The next key of a NOT or OR: one token, then the key it starts. */
static struct key *
parse_sub(struct parser *p, unsigned depth)
{
	struct imap_tok tok;

	if (next_tok(p, &tok) < 0)
		return NULL;
	if (tok.kind == IMAP_TOK_CRLF || tok.kind == IMAP_TOK_RPAREN) {
		fail(p, IMAPD_SEARCH_EBAD, "Missing argument");
		return NULL;
	}
	return parse_key(p, &tok, depth);
}

/* Keys up to a ')' (list) or the CRLF (top), added to parent. */
static int
parse_keys(struct parser *p, struct key *parent, int list, unsigned depth)
{
	struct imap_tok tok;
	struct key *k;

	for (;;) {
		if (next_tok(p, &tok) < 0)
			return -1;
		if (tok.kind == IMAP_TOK_RPAREN) {
			if (!list)
				return fail(p, IMAPD_SEARCH_EBAD,
				    "Unexpected ')'");
			break;
		}
		if (tok.kind == IMAP_TOK_CRLF) {
			if (list)
				return fail(p, IMAPD_SEARCH_EBAD,
				    "Missing ')'");
			break;
		}
		if ((k = parse_key(p, &tok, depth)) == NULL)
			return -1;
		key_add_kid(parent, k);
	}
	if (parent->nkids == 0)
		return fail(p, IMAPD_SEARCH_EBAD, list ? "No search parameters "
		    "inside list" : "Missing search parameters");
	return 0;
}

/* Flag keys: name, type, mask. */
static const struct {
	const char	*name;
	enum ktype	 type;
	uint32_t	 flags;
} flag_keys[] = {
	{ "ANSWERED",	K_FLAGS,	STORE_F_ANSWERED },
	{ "DELETED",	K_FLAGS,	STORE_F_DELETED },
	{ "DRAFT",	K_FLAGS,	STORE_F_DRAFT },
	{ "FLAGGED",	K_FLAGS,	STORE_F_FLAGGED },
	{ "SEEN",	K_FLAGS,	STORE_F_SEEN },
	{ "UNANSWERED",	K_UNFLAGS,	STORE_F_ANSWERED },
	{ "UNDELETED",	K_UNFLAGS,	STORE_F_DELETED },
	{ "UNDRAFT",	K_UNFLAGS,	STORE_F_DRAFT },
	{ "UNFLAGGED",	K_UNFLAGS,	STORE_F_FLAGGED },
	{ "UNSEEN",	K_UNFLAGS,	STORE_F_SEEN },
	{ "ALL",	K_ALL,		0 },
	{ "RECENT",	K_RECENT,	0 },
	{ "NEW",	K_NEW,		0 },
	{ "OLD",	K_OLD,		0 },
};

/* Keys with one date argument. */
static const struct {
	const char	*name;
	enum ktype	 type;
} date_keys[] = {
	{ "BEFORE",	K_BEFORE },
	{ "ON",		K_ON },
	{ "SINCE",	K_SINCE },
	{ "SENTBEFORE",	K_SENTBEFORE },
	{ "SENTON",	K_SENTON },
	{ "SENTSINCE",	K_SENTSINCE },
};

/* Keys with one string argument: text keys and the header shortcuts. */
static const struct {
	const char	*name;
	enum ktype	 type;
	const char	*field;
	enum search_norm_mode hmode;
} string_keys[] = {
	{ "BCC",	K_HEADER,	"Bcc",		SEARCH_NORM_ADDRESS },
	{ "BODY",	K_BODY,		NULL,		SEARCH_NORM_PLAIN },
	{ "CC",		K_HEADER,	"Cc",		SEARCH_NORM_ADDRESS },
	{ "FROM",	K_HEADER,	"From",		SEARCH_NORM_ADDRESS },
	{ "SUBJECT",	K_HEADER,	"Subject",	SEARCH_NORM_LWSP },
	{ "TEXT",	K_TEXT,		NULL,		SEARCH_NORM_PLAIN },
	{ "TO",		K_HEADER,	"To",		SEARCH_NORM_ADDRESS },
};

static struct key *
parse_string_key(struct parser *p, const char *name, enum ktype type,
    const char *field, enum search_norm_mode hmode)
{
	struct key *k;
	char *s;
	size_t n;

	if (read_string(p, name, &s, &n) < 0)
		return NULL;
	k = key_new(p, type, type == K_HEADER ? L_SUMMARY : L_CONTENT);
	k->hmode = hmode;
	k->sumfield = -1;
	if (type == K_HEADER) {
		k->sumfield = msg_summary_text_field(field, hmode);
		/* every shortcut has a summary text; were one not to, the
		 * MIME tree would be read for it */
		if (k->sumfield < 0)
			k->level = L_MIME;
		else
			p->s->have_sum = 1;
	}
	if (field != NULL)
		k->field = xstrdup(field);
	set_needle(k, s, n);
	free(s);
	if (type != K_HEADER) {
		k->slot = p->s->ntexts;
		p->s->texts = xreallocarray(p->s->texts, p->s->ntexts + 1,
		    sizeof(*p->s->texts));
		p->s->texts[p->s->ntexts++] = k;
		if (type == K_TEXT)
			p->s->have_text = 1;
		if (k->nlen > p->s->maxneedle)
			p->s->maxneedle = k->nlen;
	}
	return k;
}

static struct key *
parse_header_key(struct parser *p)
{
	struct key *k;
	char *name, *s;
	size_t n;

	if (read_string(p, "HEADER", &name, &n) < 0)
		return NULL;
	if (read_string(p, "HEADER", &s, &n) < 0) {
		free(name);
		return NULL;
	}
	k = key_new(p, K_HEADER, L_MIME);
	k->sumfield = -1;
	k->field = name;
	k->hmode = SEARCH_NORM_PLAIN;
	set_needle(k, s, n);
	free(s);
	return k;
}

static struct key *
parse_seqset_key(struct parser *p, enum ktype type, const char *s)
{
	const struct imapd_search_ctx *c = p->ctx;
	struct imap_seqset *set;
	uint32_t star;
	char e[128];
	struct key *k;
	int rc;

	if (type == K_UID)
		star = c->nmsgs > 0 ? c->msgs[c->nmsgs - 1].uid : 0;
	else
		star = (uint32_t)c->nmsgs;
	rc = imap_seqset_parse(s, star, &set, e, sizeof(e));
	if (rc == 1) {
		fail(p, IMAPD_SEARCH_EBAD, "Saved search results ($) are not "
		    "supported");
		return NULL;
	}
	if (rc != 0) {
		fail(p, IMAPD_SEARCH_EBAD, type == K_UID ? "Invalid UID "
		    "messageset" : "Invalid messageset");
		return NULL;
	}
	k = key_new(p, type, 0);
	k->set = set;
	return k;
}

/* MODSEQ ["/flags/<flag>" ("priv" / "shared" / "all")] n (RFC 7162). */
static struct key *
parse_modseq_key(struct parser *p)
{
	struct imap_tok tok;
	struct key *k;
	uint64_t v;
	char *s;
	size_t n;

	if (read_string(p, "MODSEQ", &s, &n) < 0)
		return NULL;
	if (parse_u64(s, INT64_MAX, &v) != 0) {
		/* an entry name: which flag's MODSEQ; we keep one per
		 * message, so it only has to be well-formed */
		if (ascii_strncasecmp(s, "/flags/", 7) != 0 || s[7] == '\0') {
			free(s);
			fail(p, IMAPD_SEARCH_EBAD, "Invalid MODSEQ value");
			return NULL;
		}
		free(s);
		if (read_atom(p, "MODSEQ", &tok) < 0)
			return NULL;
		if (!imap_tok_atom_is(&tok, "priv") &&
		    !imap_tok_atom_is(&tok, "shared") &&
		    !imap_tok_atom_is(&tok, "all")) {
			fail(p, IMAPD_SEARCH_EBAD, "Invalid MODSEQ type");
			return NULL;
		}
		if (read_atom(p, "MODSEQ", &tok) < 0)
			return NULL;
		if (parse_u64(tok.s, INT64_MAX, &v) != 0) {
			fail(p, IMAPD_SEARCH_EBAD, "Invalid MODSEQ value");
			return NULL;
		}
	} else {
		free(s);
	}
	k = key_new(p, K_MODSEQ, 0);
	k->num = v;
	p->s->modseq = 1;
	return k;
}

static struct key *
parse_key(struct parser *p, struct imap_tok *tok, unsigned depth)
{
	struct key *k, *kid;
	uint64_t v;
	int64_t day;
	size_t i;

	if (depth >= IMAPD_SEARCH_MAX_DEPTH) {
		fail(p, IMAPD_SEARCH_EBAD, "Search keys nested too deeply "
		    "(at most %d levels)", IMAPD_SEARCH_MAX_DEPTH);
		return NULL;
	}
	if (p->s->nkeys >= IMAPD_SEARCH_MAX_KEYS) {
		fail(p, IMAPD_SEARCH_EBAD, "Too many search keys (at most "
		    "%d)", IMAPD_SEARCH_MAX_KEYS);
		return NULL;
	}
	if (tok->kind == IMAP_TOK_LPAREN) {
		k = key_new(p, K_AND, 0);
		if (parse_keys(p, k, 1, depth + 1) < 0) {
			key_free(k);
			return NULL;
		}
		return k;
	}
	if (tok->kind != IMAP_TOK_ATOM) {
		fail(p, IMAPD_SEARCH_EBAD, "Unexpected %s where a search key "
		    "was expected", imap_tok_kind_name(tok->kind));
		return NULL;
	}
	if ((tok->s[0] >= '0' && tok->s[0] <= '9') || tok->s[0] == '*' ||
	    tok->s[0] == '$')
		return parse_seqset_key(p, K_SEQ, tok->s);

	for (i = 0; i < ARRAY_SIZE(flag_keys); i++) {
		if (imap_tok_atom_is(tok, flag_keys[i].name)) {
			k = key_new(p, flag_keys[i].type, 0);
			k->flags = flag_keys[i].flags;
			return k;
		}
	}
	for (i = 0; i < ARRAY_SIZE(string_keys); i++) {
		if (imap_tok_atom_is(tok, string_keys[i].name))
			return parse_string_key(p, string_keys[i].name,
			    string_keys[i].type, string_keys[i].field,
			    string_keys[i].hmode);
	}
	for (i = 0; i < ARRAY_SIZE(date_keys); i++) {
		char *s;
		size_t n;

		if (!imap_tok_atom_is(tok, date_keys[i].name))
			continue;
		if (read_string(p, date_keys[i].name, &s, &n) < 0)
			return NULL;
		if (date_imap_parse_day(s, n, &day) < 0) {
			free(s);
			fail(p, IMAPD_SEARCH_EBAD, "Invalid search date "
			    "parameter");
			return NULL;
		}
		free(s);
		k = key_new(p, date_keys[i].type,
		    date_keys[i].type >= K_SENTBEFORE ? L_SUMMARY : L_VIEW);
		if (date_keys[i].type >= K_SENTBEFORE)
			p->s->have_sum = 1;
		k->day = day;
		return k;
	}
	if (imap_tok_atom_is(tok, "NOT")) {
		if ((kid = parse_sub(p, depth + 1)) == NULL)
			return NULL;
		k = key_new(p, K_NOT, 0);
		key_add_kid(k, kid);
		return k;
	}
	if (imap_tok_atom_is(tok, "OR")) {
		k = key_new(p, K_OR, 0);
		for (i = 0; i < 2; i++) {
			if ((kid = parse_sub(p, depth + 1)) == NULL) {
				key_free(k);
				return NULL;
			}
			key_add_kid(k, kid);
		}
		return k;
	}
	if (imap_tok_atom_is(tok, "LARGER") || imap_tok_atom_is(tok,
	    "SMALLER")) {
		int larger = imap_tok_atom_is(tok, "LARGER");
		struct imap_tok t;

		if (read_atom(p, larger ? "LARGER" : "SMALLER", &t) < 0)
			return NULL;
		if (parse_u64(t.s, UINT64_MAX, &v) != 0) {
			fail(p, IMAPD_SEARCH_EBAD, "Invalid search size "
			    "parameter");
			return NULL;
		}
		k = key_new(p, larger ? K_LARGER : K_SMALLER, 0);
		k->num = v;
		return k;
	}
	if (imap_tok_atom_is(tok, "KEYWORD") || imap_tok_atom_is(tok,
	    "UNKEYWORD")) {
		int un = imap_tok_atom_is(tok, "UNKEYWORD");
		struct imap_tok t;

		if (read_atom(p, un ? "UNKEYWORD" : "KEYWORD", &t) < 0)
			return NULL;
		if (t.len >= STORE_KEYWORD_MAX) {
			fail(p, IMAPD_SEARCH_EBAD, "Keyword too long");
			return NULL;
		}
		k = key_new(p, un ? K_UNKEYWORD : K_KEYWORD, 0);
		k->kwname = xstrndup(t.s, t.len);
		return k;
	}
	if (imap_tok_atom_is(tok, "UID")) {
		struct imap_tok t;

		if (read_atom(p, "UID", &t) < 0)
			return NULL;
		return parse_seqset_key(p, K_UID, t.s);
	}
	if (imap_tok_atom_is(tok, "HEADER"))
		return parse_header_key(p);
	if (imap_tok_atom_is(tok, "MODSEQ"))
		return parse_modseq_key(p);
	fail(p, IMAPD_SEARCH_EBAD, "Unknown argument %.64s", tok->s);
	return NULL;
}

/* "RETURN (...)" after RETURN. */
static int
parse_return(struct parser *p)
{
	struct imap_tok tok;

	if (next_tok(p, &tok) < 0)
		return -1;
	if (tok.kind != IMAP_TOK_LPAREN)
		return fail(p, IMAPD_SEARCH_EBAD, "Unknown argument RETURN");
	p->s->esearch = 1;
	for (;;) {
		if (next_tok(p, &tok) < 0)
			return -1;
		if (tok.kind == IMAP_TOK_RPAREN)
			break;
		if (tok.kind == IMAP_TOK_CRLF)
			return fail(p, IMAPD_SEARCH_EBAD, "Missing ')'");
		if (imap_tok_atom_is(&tok, "MIN"))
			p->s->ret |= RET_MIN;
		else if (imap_tok_atom_is(&tok, "MAX"))
			p->s->ret |= RET_MAX;
		else if (imap_tok_atom_is(&tok, "ALL"))
			p->s->ret |= RET_ALL;
		else if (imap_tok_atom_is(&tok, "COUNT"))
			p->s->ret |= RET_COUNT;
		else
			return fail(p, IMAPD_SEARCH_EBAD, "Unknown SEARCH "
			    "return option");
	}
	if (p->s->ret == 0)
		p->s->ret = RET_ALL;	/* RFC 4731: "RETURN ()" is ALL */
	return 0;
}

int
imapd_search_parse(struct imapd_toksrc *src,
    const struct imapd_search_ctx *ctx, struct imapd_search **s_r,
    char *err, size_t errlen)
{
	struct parser p = { src, ctx, NULL, err, errlen, 0 };
	struct imap_tok tok;
	struct key *k;

	p.s = xcalloc(1, sizeof(*p.s));
	p.s->root = key_new(&p, K_AND, 0);
	if (next_tok(&p, &tok) < 0)
		goto fail;
	if (imap_tok_atom_is(&tok, "RETURN")) {
		if (parse_return(&p) < 0 || next_tok(&p, &tok) < 0)
			goto fail;
	}
	if (imap_tok_atom_is(&tok, "CHARSET")) {
		if (src->astring(src->arg, &tok) != 1) {
			fail(&p, IMAPD_SEARCH_ELEX, "Lexer error");
			goto fail;
		}
		if (tok.kind != IMAP_TOK_ATOM && tok.kind != IMAP_TOK_QUOTED) {
			fail(&p, IMAPD_SEARCH_EBAD, "Invalid charset argument");
			goto fail;
		}
		if (ascii_strcasecmp(tok.s, "UTF-8") != 0 &&
		    ascii_strcasecmp(tok.s, "US-ASCII") != 0) {
			fail(&p, IMAPD_SEARCH_EBADCHARSET, "Unknown charset");
			goto fail;
		}
		if (next_tok(&p, &tok) < 0)
			goto fail;
	}
	/* the first key was read already; the rest go through parse_keys */
	if (tok.kind == IMAP_TOK_CRLF) {
		fail(&p, IMAPD_SEARCH_EBAD, "Missing search parameters");
		goto fail;
	}
	if (tok.kind == IMAP_TOK_RPAREN) {
		fail(&p, IMAPD_SEARCH_EBAD, "Unexpected ')'");
		goto fail;
	}
	if ((k = parse_key(&p, &tok, 0)) == NULL)
		goto fail;
	key_add_kid(p.s->root, k);
	if (parse_keys(&p, p.s->root, 0, 0) < 0)
		goto fail;
	*s_r = p.s;
	return 0;
fail:
	imapd_search_free(&p.s);
	return p.rc;
}

void
imapd_search_free(struct imapd_search **s)
{
	if (*s == NULL)
		return;
	key_free((*s)->root);
	free((*s)->texts);
	free(*s);
	*s = NULL;
}

int
imapd_search_uses_modseq(const struct imapd_search *s)
{
	return s->modseq;
}

int
imapd_search_is_esearch(const struct imapd_search *s)
{
	return s->esearch;
}

/* ---- Evaluation ---------------------------------------------------- */

enum { NO = 0, YES = 1, MAYBE = 2 };

/* What is known about the message being evaluated. */
struct msgstate {
	const struct store_msg *msg;
	uint32_t	 seq;
	int		 recent;
	const struct msg_summary *sum;	/* L_SUMMARY, when there is one */
	struct mime_part *mime;		/* L_MIME and up */
	const char	*hdr;		/* the root header block */
	size_t		 hdrlen;
	unsigned char	*found;		/* per text slot, L_CONTENT */
};

/* One run: the buffers are reused from message to message. */
struct run {
	struct imapd_search *s;
	const struct imapd_search_ctx *ctx;
	int		 err;		/* a STORE_E* code, once failed */
	struct buf	 hdrbuf;	/* a root header read from content */
	struct buf	 v1, v2, v3;	/* header value work buffers */
	struct store_reader *rd;	/* content of the current message */
	/* the body matcher */
	unsigned char	*found;
	size_t		 nleft;		/* slots not yet found */
	struct win	 win;
	struct buf	 dec;		/* transfer-decoded */
	struct buf	 utf8;		/* converted from its charset */
	char		*piece;
};

static int
date_cmp(enum ktype type, int64_t day, int64_t keyday)
{
	switch (type) {
	case K_BEFORE:
	case K_SENTBEFORE:
		return day < keyday;
	case K_ON:
	case K_SENTON:
		return day == keyday;
	default:
		return day >= keyday;
	}
}

static int
has_keyword(const struct store_msg *m, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < m->nkw; i++)
		if (m->kw[i] == id)
			return 1;
	return 0;
}

/* Look keywords up once per search (the first run does it). */
static int
resolve_keywords(struct run *r, struct key *k)
{
	size_t i;
	int rc;

	for (i = 0; i < k->nkids; i++)
		if ((rc = resolve_keywords(r, k->kids[i])) != 0)
			return rc;
	if ((k->type != K_KEYWORD && k->type != K_UNKEYWORD) ||
	    k->kwstate != KW_UNRESOLVED)
		return 0;
	rc = store_keyword_id(r->ctx->st, r->ctx->acct, k->kwname, 0,
	    &k->kwid);
	if (rc == STORE_ENOENT) {
		k->kwstate = KW_UNKNOWN;
		return 0;
	}
	if (rc != 0)
		return rc;
	k->kwstate = KW_KNOWN;
	return 0;
}

/* ---- Header keys --------------------------------------------------- */

/* Does one field value match a header key? */
static int
field_matches(struct run *r, const struct key *k, const char *v, size_t n)
{
	buf_reset(&r->v3);
	(void)search_norm_field(k->hmode, v, n, &r->v3, &r->v1, &r->v2);
	return r->v3.len >= k->nlen && memmem(r->v3.data, r->v3.len,
	    k->needle, k->nlen) != NULL;
}

static int
name_eq(const struct rfc822_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && ascii_strncasecmp(f->name, name, n) == 0;
}

/* A header key from the summary's text: every occurrence of the field
 * in normal form, a NUL after each (none: the field is absent). */
static int
eval_sum_header(const struct key *k, const struct msg_summary *sum)
{
	const char *t = sum->v[k->sumfield];
	size_t n = sum->len[k->sumfield];

	if (n == 0)
		return NO;
	return k->nlen == 0 || memmem(t, n, k->needle, k->nlen) != NULL;
}

static int
eval_header(struct run *r, const struct key *k, struct msgstate *m)
{
	struct rfc822_field f;
	size_t pos = 0;

	if (m->sum != NULL && k->sumfield >= 0)
		return eval_sum_header(k, m->sum);

	while (rfc822_header_next(m->hdr, m->hdrlen, &pos, &f) == 1) {
		if (!name_eq(&f, k->field))
			continue;
		if (k->nlen == 0 || field_matches(r, k, f.value, f.value_len))
			return YES;
	}
	return NO;
}

/* SENT*: the Date header's calendar date in its own zone; a message with
 * no readable Date counts as sent at the epoch, as in Dovecot. */
static int
eval_sent(const struct key *k, struct msgstate *m)
{
	const char *d = m->sum == NULL ? m->mime->env[MIME_ENV_DATE] :
	    m->sum->len[MSG_SUMMARY_DATE] > 0 ? m->sum->v[MSG_SUMMARY_DATE] :
	    NULL;
	time_t t = 0;
	int tz = 0;

	if (d == NULL || rfc822_date_parse(d, strlen(d), &t, &tz) != 0) {
		t = 0;
		tz = 0;
	}
	return date_cmp(k->type, date_day_of((int64_t)t, tz), k->day);
}

/* ---- The tree ------------------------------------------------------ */

static int
eval(struct run *r, const struct key *k, struct msgstate *m, int level)
{
	const struct store_msg *msg = m->msg;
	int v, res;
	size_t i;

	if (k->level > level)
		return MAYBE;
	switch (k->type) {
	case K_AND:
		res = YES;
		for (i = 0; i < k->nkids; i++) {
			v = eval(r, k->kids[i], m, level);
			if (v == NO)
				return NO;
			if (v == MAYBE)
				res = MAYBE;
		}
		return res;
	case K_OR:
		res = NO;
		for (i = 0; i < k->nkids; i++) {
			v = eval(r, k->kids[i], m, level);
			if (v == YES)
				return YES;
			if (v == MAYBE)
				res = MAYBE;
		}
		return res;
	case K_NOT:
		v = eval(r, k->kids[0], m, level);
		return v == MAYBE ? MAYBE : !v;
	case K_ALL:
		return YES;
	case K_SEQ:
		return imap_seqset_contains(k->set, m->seq);
	case K_UID:
		return imap_seqset_contains(k->set, msg->uid);
	case K_FLAGS:
		return (msg->flags & k->flags) == k->flags;
	case K_UNFLAGS:
		return (msg->flags & k->flags) == 0;
	case K_RECENT:
		return m->recent;
	case K_NEW:
		return m->recent && !(msg->flags & STORE_F_SEEN);
	case K_OLD:
		return !m->recent;
	case K_KEYWORD:
		return k->kwstate == KW_KNOWN && has_keyword(msg, k->kwid);
	case K_UNKEYWORD:
		return k->kwstate != KW_KNOWN || !has_keyword(msg, k->kwid);
	case K_LARGER:
		return msg->size > k->num;
	case K_SMALLER:
		return msg->size < k->num;
	case K_BEFORE:
	case K_ON:
	case K_SINCE:
		return date_cmp(k->type, date_day_of(msg->internaldate,
		    msg->tzoff), k->day);
	case K_MODSEQ:
		return msg->modseq >= k->num;
	case K_SENTBEFORE:
	case K_SENTON:
	case K_SENTSINCE:
		return eval_sent(k, m);
	case K_HEADER:
		return eval_header(r, k, m);
	case K_BODY:
	case K_TEXT:
		return k->nlen == 0 || m->found[k->slot];
	}
	return NO;
}

/* ---- Body and TEXT scanning ---------------------------------------- */

static int
reader_need(struct run *r, const struct msgstate *m)
{
	int rc;

	if (r->rd != NULL)
		return 0;
	rc = store_reader_open(r->ctx->st, m->msg->content, &r->rd);
	return rc;
}

/* Read [off, off + len) of the content into out (appended). */
static int
read_range(struct run *r, const struct msgstate *m, uint64_t off,
    uint64_t len, struct buf *out)
{
	ssize_t got;
	size_t want;
	int rc;

	if ((rc = reader_need(r, m)) != 0 ||
	    (rc = store_reader_seek(r->rd, off)) != 0)
		return rc;
	while (len > 0) {
		want = len > READ_PIECE ? READ_PIECE : (size_t)len;
		got = store_reader_read(r->rd, r->piece, want);
		if (got < 0)
			return (int)got;
		if (got == 0)
			break;
		if (buf_add(out, r->piece, (size_t)got) < 0)
			return STORE_ERR;
		len -= (uint64_t)got;
	}
	return 0;
}

static void
win_reset(struct run *r)
{
	r->win.len = 0;
	r->win.body_start = 0;
}

/*
 * Test the needles against the window, then keep only its tail. body:
 * the text just added is body text (BODY keys look only at that part of
 * the window; TEXT keys at all of it).
 */
static void
win_search(struct run *r, int body)
{
	const struct imapd_search *s = r->s;
	struct win *w = &r->win;
	size_t i, keep, start, drop;
	struct key *k;

	for (i = 0; i < s->ntexts && r->nleft > 0; i++) {
		k = s->texts[i];
		if (r->found[i] || k->nlen == 0)
			continue;
		if (k->type == K_BODY && !body)
			continue;
		start = k->type == K_BODY ? w->body_start : 0;
		if (w->len - start >= k->nlen && memmem(w->p + start,
		    w->len - start, k->needle, k->nlen) != NULL) {
			r->found[i] = 1;
			r->nleft--;
		}
	}
	keep = s->maxneedle > 0 ? s->maxneedle - 1 : 0;
	if (w->len > keep) {
		drop = w->len - keep;
		memmove(w->p, w->p + drop, keep);
		w->len = keep;
		w->body_start = w->body_start > drop ? w->body_start - drop : 0;
	}
	if (!body)
		w->body_start = w->len;
}

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The next line of a header block for TEXT, continuation lines joined:
 * like rfc822_header_next(), but a line without a colon is returned too
 * (as a name with no value, *colon_r 0), because Dovecot searches it.
 */
static int
header_line_next(const char *h, size_t len, size_t *pos,
    struct rfc822_field *f, int *colon_r)
{
	size_t p = *pos, ls, le, c;
	const char *nl;

	while (p < len) {
		if (h[p] == '\n' || (h[p] == '\r' && p + 1 < len &&
		    h[p + 1] == '\n'))
			break;
		ls = le = p;
		do {
			nl = memchr(h + le, '\n', len - le);
			le = nl == NULL ? len : (size_t)(nl - h) + 1;
		} while (le < len && is_wsp(h[le]));
		p = le;
		if (is_wsp(h[ls]))
			continue;
		while (le > ls && (h[le - 1] == '\n' || h[le - 1] == '\r'))
			le--;
		for (c = ls; c < le && h[c] != ':' && h[c] != '\n'; c++)
			;
		*pos = p;
		f->name = h + ls;
		if (c >= le || h[c] != ':') {
			f->name_len = le - ls;
			f->value = h + le;
			f->value_len = 0;
			*colon_r = 0;
			return 1;
		}
		f->name_len = c - ls;
		while (f->name_len > 0 && is_wsp(f->name[f->name_len - 1]))
			f->name_len--;
		for (c++; c < le && is_wsp(h[c]); c++)
			;
		f->value = h + c;
		f->value_len = le - c;
		*colon_r = 1;
		return 1;
	}
	*pos = len;
	return 0;
}

/* TEXT: a part's header block as "Name: value\r\n" lines. */
static int
scan_header(struct run *r, const struct msgstate *m,
    const struct mime_part *part)
{
	struct rfc822_field f;
	const char *h = part->header;
	size_t hlen = (size_t)part->hdr_len, pos = 0;
	int rc, colon;

	if (h == NULL) {
		buf_reset(&r->hdrbuf);
		if ((rc = read_range(r, m, part->hdr_off, part->hdr_len,
		    &r->hdrbuf)) != 0)
			return rc;
		h = r->hdrbuf.data == NULL ? "" : r->hdrbuf.data;
		hlen = r->hdrbuf.len;
	}
	while (r->nleft > 0 &&
	    header_line_next(h, hlen, &pos, &f, &colon) == 1) {
		buf_reset(&r->v2);
		win_add(&r->win, f.name, f.name_len);
		if (colon) {
			win_add(&r->win, ": ", 2);
			(void)mime_decode_header(f.value, f.value_len, &r->v2);
			win_add(&r->win, r->v2.data == NULL ? "" : r->v2.data,
			    r->v2.len);
		}
		win_add(&r->win, "\r\n", 2);
		win_search(r, 0);
	}
	return 0;
}

/* Is a raw Content-Transfer-Encoding value this one? (White space and a
 * trailing comment around the token are allowed.) */
static int
encoding_is(const char *enc, const char *name)
{
	size_t n = strlen(name);

	if (enc == NULL)
		return 0;
	while (*enc == ' ' || *enc == '\t')
		enc++;
	if (ascii_strncasecmp(enc, name, n) != 0)
		return 0;
	enc += n;
	while (*enc == ' ' || *enc == '\t')
		enc++;
	return *enc == '\0' || *enc == '(' || *enc == ';';
}

/* BODY and TEXT: a text part's body, decoded, converted, normalised. */
static int
scan_body(struct run *r, const struct msgstate *m,
    const struct mime_part *part)
{
	const struct mime_param *cs;
	struct base64_dec b64;
	struct mime_qp_dec qp;
	struct charset_conv *cv;
	uint64_t left = part->body_len;
	const char *enc = part->encoding;
	int mode = 0, rc = 0, last;
	const char *text;
	ssize_t got;
	size_t want, len;

	if (encoding_is(enc, "base64"))
		mode = 1, base64_dec_init(&b64);
	else if (encoding_is(enc, "quoted-printable"))
		mode = 2, mime_qp_dec_init(&qp);
	cs = mime_param_get(part->params, part->nparams, "charset");
	cv = charset_conv_new(cs != NULL ? cs->value : NULL);
	if ((rc = reader_need(r, m)) != 0 ||
	    (rc = store_reader_seek(r->rd, part->body_off)) != 0)
		goto out;
	do {
		want = left > READ_PIECE ? READ_PIECE : (size_t)left;
		got = want == 0 ? 0 : store_reader_read(r->rd, r->piece, want);
		if (got < 0) {
			rc = (int)got;
			goto out;
		}
		left = got == 0 ? 0 : left - (uint64_t)got;
		last = left == 0;
		buf_reset(&r->dec);
		text = r->piece;
		len = (size_t)got;
		if (mode != 0) {
			/* the decoded form is never longer than the input */
			if (mode == 1)
				(void)base64_dec_feed(&b64, r->piece, len,
				    &r->dec);
			else if (mime_qp_dec_feed(&qp, r->piece, len,
			    &r->dec) == 0 && last)
				(void)mime_qp_dec_finish(&qp, &r->dec);
			text = r->dec.data == NULL ? "" : r->dec.data;
			len = r->dec.len;
		}
		buf_reset(&r->utf8);
		if (charset_conv_feed(cv, text, len, last, &r->utf8) < 0) {
			rc = STORE_ERR;
			goto out;
		}
		win_add(&r->win, r->utf8.data == NULL ? "" : r->utf8.data,
		    r->utf8.len);
		win_search(r, 1);
	} while (!last && r->nleft > 0);
out:
	charset_conv_free(&cv);
	return rc;
}

static int
part_is_text(const struct mime_part *part)
{
	return part->type != NULL &&
	    (ascii_strcasecmp(part->type, "text") == 0 ||
	    ascii_strcasecmp(part->type, "message") == 0);
}

/* Walk the tree: header (TEXT), then children or the body. */
static int
scan_part(struct run *r, const struct msgstate *m,
    const struct mime_part *part, unsigned depth)
{
	size_t i;
	int rc;

	if (depth > MIME_MAX_DEPTH + 1)
		return 0;
	win_reset(r);
	if (r->s->have_text && (rc = scan_header(r, m, part)) != 0)
		return rc;
	if (part->nchildren > 0) {
		for (i = 0; i < part->nchildren && r->nleft > 0; i++)
			if ((rc = scan_part(r, m, &part->children[i],
			    depth + 1)) != 0)
				return rc;
		return 0;
	}
	if (r->nleft > 0 && part_is_text(part) && part->body_len > 0)
		return scan_body(r, m, part);
	return 0;
}

static int
scan_message(struct run *r, struct msgstate *m)
{
	size_t i;

	memset(r->found, 0, r->s->ntexts);
	r->nleft = 0;
	for (i = 0; i < r->s->ntexts; i++) {
		if (r->s->texts[i]->nlen == 0)
			r->found[i] = 1;
		else
			r->nleft++;
	}
	m->found = r->found;
	if (r->nleft == 0)
		return 0;
	return scan_part(r, m, m->mime, 0);
}

/* ---- The run ------------------------------------------------------- */

static int
load_header(struct run *r, struct msgstate *m)
{
	int rc;

	if (m->mime->header != NULL) {
		m->hdr = m->mime->header;
		m->hdrlen = (size_t)m->mime->hdr_len;
		return 0;
	}
	buf_reset(&r->hdrbuf);
	if ((rc = read_range(r, m, m->mime->hdr_off, m->mime->hdr_len,
	    &r->hdrbuf)) != 0)
		return rc;
	m->hdr = r->hdrbuf.data == NULL ? "" : r->hdrbuf.data;
	m->hdrlen = r->hdrbuf.len;
	return 0;
}

/* Evaluate one message: 1 match, 0 not, or a STORE_E* code. */
static int
run_one(struct run *r, size_t i)
{
	const struct imapd_search_ctx *c = r->ctx;
	struct msg_summary sum;
	struct msgstate m;
	int v, rc;

	memset(&m, 0, sizeof(m));
	m.msg = &c->msgs[i];
	m.seq = (uint32_t)(i + 1);
	m.recent = c->first_recent != 0 && m.msg->uid >= c->first_recent;
	v = eval(r, r->s->root, &m, L_VIEW);
	if (v != MAYBE)
		return v;
	if (r->s->have_sum) {
		rc = store_content_summary(c->st, m.msg->content, &sum);
		if (rc == STORE_ENOENT)
			return 0;	/* expunged meanwhile */
		if (rc < 0)
			return rc;
		if (rc == 0) {
			m.sum = &sum;
			v = eval(r, r->s->root, &m, L_SUMMARY);
			if (v != MAYBE)
				return v;
		}
	}
	/* keys up to L_MIME read only the root's header and envelope */
	rc = r->s->root->level >= L_CONTENT ?
	    store_content_mime(c->st, m.msg->content, &m.mime) :
	    store_content_envelope(c->st, m.msg->content, &m.mime);
	if (rc == STORE_ENOENT)
		return 0;	/* expunged meanwhile: no longer matches */
	if (rc != 0)
		return rc;
	if (r->s->root->level >= L_SUMMARY && (rc = load_header(r, &m)) != 0)
		goto out;
	v = eval(r, r->s->root, &m, L_MIME);
	if (v == MAYBE) {
		if ((rc = scan_message(r, &m)) != 0)
			goto out;
		v = eval(r, r->s->root, &m, L_CONTENT);
	}
	rc = v == YES;
out:
	store_reader_close(&r->rd);
	mime_part_free(&m.mime);
	if (rc == STORE_ENOENT)
		rc = 0;
	return rc;
}

int
imapd_search_run(struct imapd_search *s, const struct imapd_search_ctx *ctx,
    size_t **idx_r, size_t *n_r, uint64_t *highestmodseq_r)
{
	struct run r;
	size_t *idx = NULL, n = 0, cap = 0, i;
	uint64_t hms = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	r.s = s;
	r.ctx = ctx;
	if ((rc = resolve_keywords(&r, s->root)) != 0)
		return rc;
	buf_init(&r.hdrbuf, MIME_HDR_TOTAL_MAX);
	buf_init(&r.v1, VALUE_BUF_MAX);
	buf_init(&r.v2, VALUE_BUF_MAX);
	buf_init(&r.v3, VALUE_BUF_MAX);
	buf_init(&r.dec, TEXT_BUF_MAX);
	buf_init(&r.utf8, TEXT_BUF_MAX);
	r.found = xcalloc(s->ntexts + 1, 1);
	r.piece = xmalloc(READ_PIECE);
	for (i = 0; i < ctx->nmsgs; i++) {
		if ((rc = run_one(&r, i)) < 0)
			break;
		if (rc == 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			idx = xreallocarray(idx, cap, sizeof(*idx));
		}
		idx[n++] = i;
		if (ctx->msgs[i].modseq > hms)
			hms = ctx->msgs[i].modseq;
		rc = 0;
	}
	buf_free(&r.hdrbuf);
	buf_free(&r.v1);
	buf_free(&r.v2);
	buf_free(&r.v3);
	free(r.win.p);
	buf_free(&r.dec);
	buf_free(&r.utf8);
	free(r.found);
	free(r.piece);
	if (rc < 0) {
		free(idx);
		return rc;
	}
	*idx_r = idx;
	*n_r = n;
	*highestmodseq_r = s->modseq ? hms : 0;
	return 0;
}

/* ---- Output -------------------------------------------------------- */

/* Flush out's contents when it has grown large (or at the end). */
static int
flush(struct imapd_out *out, struct buf *b, int force)
{
	if (b->len == 0 || (!force && b->len < 16384))
		return 0;
	if (out->write(out->arg, b->data, b->len) < 0)
		return -1;
	buf_reset(b);
	return 0;
}

static uint32_t
number_of(const struct imapd_search_ctx *ctx, size_t idx, int uid_cmd)
{
	return uid_cmd ? ctx->msgs[idx].uid : (uint32_t)(idx + 1);
}

static int
write_esearch(const struct imapd_search *s, const struct imapd_search_ctx *ctx,
    const char *tag, int uid_cmd, const size_t *idx, size_t n,
    uint64_t hms, struct buf *b, struct imapd_out *out)
{
	uint32_t *v;
	size_t i;
	int rc = 0;

	rc |= buf_adds(b, "* ESEARCH (TAG \"");
	for (; *tag != '\0'; tag++) {
		if (*tag == '"' || *tag == '\\')
			rc |= buf_addc(b, '\\');
		rc |= buf_addc(b, *tag);
	}
	rc |= buf_addc(b, '"');
	rc |= buf_addc(b, ')');
	if (uid_cmd)
		rc |= buf_adds(b, " UID");
	if (n > 0 && (s->ret & RET_MIN))
		rc |= buf_printf(b, " MIN %u", number_of(ctx, idx[0], uid_cmd));
	if (n > 0 && (s->ret & RET_MAX))
		rc |= buf_printf(b, " MAX %u", number_of(ctx, idx[n - 1],
		    uid_cmd));
	if (n > 0 && (s->ret & RET_ALL)) {
		v = xreallocarray(NULL, n, sizeof(*v));
		for (i = 0; i < n; i++)
			v[i] = number_of(ctx, idx[i], uid_cmd);
		rc |= buf_adds(b, " ALL ");
		rc |= imap_seqset_format(v, n, b);
		free(v);
	}
	if (s->ret & RET_COUNT)
		rc |= buf_printf(b, " COUNT %zu", n);
	if (s->modseq && n > 0)
		rc |= buf_printf(b, " MODSEQ %llu", (unsigned long long)hms);
	rc |= buf_adds(b, "\r\n");
	if (rc != 0)
		return -1;
	return flush(out, b, 1);
}

int
imapd_search_write(const struct imapd_search *s,
    const struct imapd_search_ctx *ctx, const char *tag, int uid_cmd,
    const size_t *idx, size_t n, uint64_t highestmodseq,
    struct imapd_out *out)
{
	struct buf b;
	size_t i;
	int rc = 0;

	/* ALL of ESEARCH is one compact set; 11 bytes per number bounds it */
	buf_init(&b, (n + 8) * 24 + 256 + (tag != NULL ? strlen(tag) * 2 : 0));
	if (s->esearch) {
		rc = write_esearch(s, ctx, tag != NULL ? tag : "", uid_cmd,
		    idx, n, highestmodseq, &b, out);
		buf_free(&b);
		return rc;
	}
	rc |= buf_adds(&b, "* SEARCH");
	for (i = 0; i < n && rc == 0; i++) {
		rc |= buf_printf(&b, " %u", number_of(ctx, idx[i], uid_cmd));
		if (rc == 0 && flush(out, &b, 0) < 0)
			rc = -1;
	}
	if (s->modseq && n > 0)
		rc |= buf_printf(&b, " (MODSEQ %llu)",
		    (unsigned long long)highestmodseq);
	rc |= buf_adds(&b, "\r\n");
	if (rc == 0)
		rc = flush(out, &b, 1);
	buf_free(&b);
	return rc == 0 ? 0 : -1;
}
