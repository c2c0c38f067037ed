/*
 * mime_header: the MIME header fields of one part — Content-Type with its
 * parameters (RFC 2045, RFC 2231 continuations and charsets),
 * Content-Disposition (RFC 2183), Content-Language, and the plain ones.
 *
 * Values are kept the way Dovecot 2.3 keeps them, because BODYSTRUCTURE
 * must match it: case as written, comments and folding removed from
 * tokens, a broken Content-Type read as text/plain without parameters,
 * and joined RFC 2231 parameters listed after the simple ones.
 */
#include "lib/mime_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/charset.h"
#include "lib/rfc822.h"
#include "lib/util.h"

#define VALUE_MAX	(256 * 1024)
#define PARAMS_MAX	256

static const char *const env_names[MIME_ENV_COUNT] = {
	"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc",
	"In-Reply-To", "Message-ID"
};

int
mime_hdr_interesting(const char *name, size_t len)
{
	size_t i;

	if (len >= 8 && ascii_strncasecmp(name, "Content-", 8) == 0)
		return 1;
	for (i = 0; i < MIME_ENV_COUNT; i++)
		if (strlen(env_names[i]) == len &&
		    ascii_strncasecmp(name, env_names[i], len) == 0)
			return 1;
	return 0;
}

/* ---- a tiny RFC 822 lexer for structured field values ------------------- */

struct lex {
	const char	*s;
	size_t		 n, p;
};

static void
lex_cfws(struct lex *l)
{
	int depth = 0;

	while (l->p < l->n) {
		char c = l->s[l->p];

		if (depth > 0) {
			if (c == '\\')
				l->p++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			l->p++;
		} else if (c == '(') {
			depth = 1;
			l->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			l->p++;
		} else {
			return;
		}
	}
}

static int
is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* A MIME token (8-bit bytes allowed, as Dovecot does); NULL if none. */
static char *
lex_token(struct lex *l)
{
	size_t st = l->p;

	while (l->p < l->n && (is_token_char((unsigned char)l->s[l->p]) ||
	    (unsigned char)l->s[l->p] >= 0x80))
		l->p++;
	return l->p == st ? NULL : xstrndup(l->s + st, l->p - st);
}

static char *
lex_quoted(struct lex *l)
{
	struct buf b;

	buf_init(&b, VALUE_MAX);
	l->p++;
	while (l->p < l->n && l->s[l->p] != '"') {
		if (l->s[l->p] == '\\' && l->p + 1 < l->n)
			l->p++;
		if (l->s[l->p] != '\r' && l->s[l->p] != '\n')
			(void)buf_addc(&b, l->s[l->p]);
		l->p++;
	}
	if (l->p < l->n)
		l->p++;
	return buf_steal(&b, NULL);
}

/* ---- parameters and RFC 2231 ---------------------------------------------- */

struct rawparam {
	char	*name, *value;
};

/* Read "; name=value" pairs until the end or a broken one. */
static size_t
read_params(struct lex *l, struct rawparam **out)
{
	struct rawparam *v = NULL;
	size_t n = 0;
	char *name, *value;

	for (;;) {
		lex_cfws(l);
		if (l->p >= l->n || l->s[l->p] != ';')
			break;
		l->p++;
		lex_cfws(l);
		if ((name = lex_token(l)) == NULL)
			continue;	/* empty parameter: ";;" */
		lex_cfws(l);
		if (l->p >= l->n || l->s[l->p] != '=') {
			free(name);
			break;
		}
		l->p++;
		lex_cfws(l);
		if (l->p < l->n && l->s[l->p] == '"')
			value = lex_quoted(l);
		else if ((value = lex_token(l)) == NULL)
			value = xstrdup("");
		if (n >= PARAMS_MAX) {
			free(name);
			free(value);
			break;
		}
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].name = name;
		v[n].value = value;
		n++;
	}
	*out = v;
	return n;
}

/* "name*3*" → base length 4, index 3, extended; -1 if not a section. */
static int
section_of(const char *name, size_t *baselen, int *ext)
{
	size_t len = strlen(name), i, j;
	int idx = 0;

	*ext = len > 0 && name[len - 1] == '*';
	if (*ext)
		len--;
	for (i = len; i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9'; i--)
		;
	if (i == len || i < 2 || name[i - 1] != '*' || len - i > 4)
		return -1;
	for (j = i; j < len; j++)
		idx = idx * 10 + (name[j] - '0');
	*baselen = i - 1;
	return idx;
}

static char *
lowercase_dup(const char *s)
{
	char *r = xstrdup(s), *p;

	for (p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/* charset'lang'%xx... → UTF-8 */
static char *
decode_2231(const char *v)
{
	const char *q1 = strchr(v, '\''), *q2, *p;
	struct buf bytes, out;
	char cs[64];
	size_t cl;
	int h, l;

	buf_init(&out, VALUE_MAX);
	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL) {
		(void)charset_to_utf8(NULL, v, strlen(v), &out);
		return buf_steal(&out, NULL);
	}
	cl = (size_t)(q1 - v) < sizeof(cs) - 1 ? (size_t)(q1 - v) : sizeof(cs) - 1;
	memcpy(cs, v, cl);
	cs[cl] = '\0';
	buf_init(&bytes, VALUE_MAX);
	for (p = q2 + 1; *p; p++) {
		if (*p == '%' && (h = mime_hexval((unsigned char)p[1])) >= 0 &&
		    (l = mime_hexval((unsigned char)p[2])) >= 0) {
			(void)buf_addc(&bytes, (char)(h << 4 | l));
			p += 2;
		} else {
			(void)buf_addc(&bytes, *p);
		}
	}
	(void)charset_to_utf8(cl > 0 ? cs : NULL, bytes.data, bytes.len,
	    &out);
	buf_free(&bytes);
	return buf_steal(&out, NULL);
}

static void
add_param(struct mime_param **arr, size_t *n, char *raw_name, char *value)
{
	struct mime_param *p;
	size_t len = strlen(raw_name);
	struct buf d;

	*arr = xreallocarray(*arr, *n + 1, sizeof(**arr));
	p = &(*arr)[(*n)++];
	p->raw_name = raw_name;
	p->name = lowercase_dup(raw_name);
	p->value = value;
	if (len > 0 && raw_name[len - 1] == '*') {
		p->decoded = decode_2231(value);
	} else {
		buf_init(&d, VALUE_MAX);
		(void)mime_decode_header(value, strlen(value), &d);
		p->decoded = buf_steal(&d, NULL);
	}
}

/*
 * Join continuations: simple parameters first in their order, then each
 * continued one ("name*0", "name*1*", ...) in sections order. If any
 * section is extended the result is "name*".
 */
static void
join_params(struct rawparam *rp, size_t n, struct mime_param **arr_r,
    size_t *n_r)
{
	struct mime_param *arr = NULL;
	size_t na = 0, i, j, bl, bl2;
	int idx, ext, ext2, any_ext, want;
	char *used = xcalloc(n + 1, 1);
	struct buf v;

	for (i = 0; i < n; i++) {
		if (section_of(rp[i].name, &bl, &ext) >= 0)
			continue;
		add_param(&arr, &na, rp[i].name, rp[i].value);
		rp[i].name = rp[i].value = NULL;
		used[i] = 1;
	}
	for (i = 0; i < n; i++) {
		if (used[i] || section_of(rp[i].name, &bl, &ext) != 0)
			continue;
		/* section 0 of a group: collect 0, 1, 2, ... until a gap */
		any_ext = 0;
		buf_init(&v, VALUE_MAX);
		for (want = 0;; want++) {
			for (j = 0; j < n; j++) {
				if (used[j] || (idx = section_of(rp[j].name, &bl2, &ext2)) != want)
					continue;
				if (bl2 == bl && ascii_strncasecmp(rp[j].name, rp[i].name, bl) == 0)
					break;
			}
			if (j == n)
				break;
			used[j] = 1;
			if (ext2)
				any_ext = 1;
			/* Dovecot joins the sections as they are, even
			 * a plain one inside an extended value */
			(void)buf_adds(&v, rp[j].value);
		}
		add_param(&arr, &na, xasprintf("%.*s%s", (int)bl, rp[i].name,
		    any_ext ? "*" : ""), buf_steal(&v, NULL));
	}
	for (i = 0; i < n; i++) {
		free(rp[i].name);
		free(rp[i].value);
	}
	free(used);
	*arr_r = arr;
	*n_r = na;
}

/* ---- the fields ------------------------------------------------------------ */

static void
parse_params(struct lex *l, struct mime_param **arr, size_t *n)
{
	struct rawparam *rp;
	size_t nrp;

	nrp = read_params(l, &rp);
	join_params(rp, nrp, arr, n);
	free(rp);
}

static void
parse_content_type(struct mime_part *part, const char *v, size_t n)
{
	struct lex l = { v, n, 0 };
	char *type, *sub = NULL;

	lex_cfws(&l);
	if ((type = lex_token(&l)) != NULL) {
		lex_cfws(&l);
		if (l.p < l.n && l.s[l.p] == '/') {
			l.p++;
			lex_cfws(&l);
			sub = lex_token(&l);
		}
	}
	if (type == NULL) {
		/* broken: text/plain, and no parameters (they may be junk) */
		part->raw_type = xstrdup("text");
		part->raw_subtype = xstrdup("plain");
	} else if (sub == NULL) {
		/* "text" alone: Dovecot keeps it with an empty subtype */
		part->raw_type = type;
		part->raw_subtype = xstrdup("");
	} else {
		part->raw_type = type;
		part->raw_subtype = sub;
		parse_params(&l, &part->params, &part->nparams);
	}
	part->type = lowercase_dup(part->raw_type);
	part->subtype = lowercase_dup(part->raw_subtype);
}

static void
parse_disposition(struct mime_part *part, const char *v, size_t n)
{
	struct lex l = { v, n, 0 };

	lex_cfws(&l);
	if ((part->disposition = lex_token(&l)) == NULL)
		return;
	parse_params(&l, &part->disp_params, &part->ndisp_params);
}

static void
parse_language(struct mime_part *part, const char *v, size_t n)
{
	struct lex l = { v, n, 0 };
	char *tok;

	for (;;) {
		lex_cfws(&l);
		if (l.p < l.n && l.s[l.p] == ',') {
			l.p++;
			continue;
		}
		if ((tok = lex_token(&l)) == NULL || part->nlanguages >= PARAMS_MAX) {
			free(tok);
			break;
		}
		part->languages = xreallocarray(part->languages,
		    part->nlanguages + 1, sizeof(char *));
		part->languages[part->nlanguages++] = tok;
	}
	if (part->nlanguages == 0) {
		free(part->languages);
		part->languages = NULL;
	}
}

/* A single token, comments removed (Content-Transfer-Encoding). */
static char *
parse_token_field(const char *v, size_t n)
{
	struct lex l = { v, n, 0 };

	lex_cfws(&l);
	return lex_token(&l);
}

static char *
unfolded(const char *v, size_t n)
{
	struct buf b;

	buf_init(&b, VALUE_MAX);
	(void)rfc822_unfold(v, n, &b);
	return buf_steal(&b, NULL);
}

/* Content-Location unfolded as Dovecot shows it (line breaks removed). */
static char *
parse_location(const char *v, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, VALUE_MAX);
	for (i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n')
			(void)buf_addc(&b, v[i]);
	return buf_steal(&b, NULL);
}

static int
is(const struct rfc822_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	    ascii_strncasecmp(f->name, name, f->name_len) == 0;
}

static void
set_once(char **dst, char *v)
{
	if (*dst == NULL)
		*dst = v;
	else
		free(v);
}

void
mime_hdr_fields(struct mime_part *part, const char *hdr, size_t len)
{
	struct rfc822_field f;
	size_t pos = 0, i;

	while (rfc822_header_next(hdr, len, &pos, &f) == 1) {
		if ((part->flags & MIME_PART_MESSAGE) != 0) {
			for (i = 0; i < MIME_ENV_COUNT; i++)
				if (is(&f, env_names[i]))
					set_once(&part->env[i], unfolded(f.value, f.value_len));
		}
		if (f.name_len < 8 || ascii_strncasecmp(f.name, "Content-", 8) != 0)
			continue;
		if (is(&f, "Content-Type") && part->type == NULL)
			parse_content_type(part, f.value, f.value_len);
		else if (is(&f, "Content-Transfer-Encoding") && part->encoding == NULL)
			part->encoding = parse_token_field(f.value, f.value_len);
		else if (is(&f, "Content-ID"))
			set_once(&part->id, unfolded(f.value, f.value_len));
		else if (is(&f, "Content-Description"))
			set_once(&part->description, unfolded(f.value, f.value_len));
		else if (is(&f, "Content-MD5"))
			set_once(&part->md5, unfolded(f.value, f.value_len));
		else if (is(&f, "Content-Disposition") && part->disposition == NULL)
			parse_disposition(part, f.value, f.value_len);
		else if (is(&f, "Content-Language") && part->languages == NULL)
			parse_language(part, f.value, f.value_len);
		else if (is(&f, "Content-Location"))
			set_once(&part->location, parse_location(f.value, f.value_len));
	}
}

void
mime_hdr_defaults(struct mime_part *part, int digest_child)
{
	if (part->type != NULL)
		return;
	part->raw_type = xstrdup(digest_child ? "message" : "text");
	part->raw_subtype = xstrdup(digest_child ? "rfc822" : "plain");
	part->type = xstrdup(part->raw_type);
	part->subtype = xstrdup(part->raw_subtype);
}

const struct mime_param *
mime_param_get(const struct mime_param *params, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++) {
		if (ascii_strcasecmp(params[i].name, name) == 0)
			return &params[i];
	}
	for (i = 0; i < n; i++) {
		if (strlen(params[i].name) == len + 1 &&
		    params[i].name[len] == '*' &&
		    ascii_strncasecmp(params[i].name, name, len) == 0)
			return &params[i];
	}
	return NULL;
}

void
mime_params_free(struct mime_param *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
		free(p[i].decoded);
		free(p[i].raw_name);
	}
	free(p);
}

void
mime_part_clear(struct mime_part *part)
{
	size_t i;

	free(part->header);
	free(part->type);
	free(part->subtype);
	free(part->raw_type);
	free(part->raw_subtype);
	mime_params_free(part->params, part->nparams);
	free(part->id);
	free(part->description);
	free(part->encoding);
	free(part->md5);
	free(part->disposition);
	mime_params_free(part->disp_params, part->ndisp_params);
	for (i = 0; i < part->nlanguages; i++)
		free(part->languages[i]);
	free(part->languages);
	free(part->location);
	for (i = 0; i < MIME_ENV_COUNT; i++)
		free(part->env[i]);
}
