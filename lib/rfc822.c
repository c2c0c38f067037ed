/*
 * rfc822: header fields, address lists and dates of RFC 5322.
 *
 * The address parser is a small recursive-descent reader over the value
 * with comments and folding skipped as it goes; it follows what Dovecot
 * 2.3 reports in ENVELOPE for broken input (placeholders for a missing
 * local part or domain, the last comment as a fallback display name,
 * parsing stops after an entry not followed by a comma), because the IMAP
 * differential test compares our ENVELOPE with Dovecot's byte for byte.
 */
#include "lib/rfc822.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/date.h"
#include "lib/util.h"

/* A header value is at most this long once unfolded; more is cut off. */
#define RFC822_VALUE_MAX	(1024 * 1024)

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

int
rfc822_header_next(const char *hdr, size_t len, size_t *pos,
    struct rfc822_field *f)
{
	size_t p = *pos, ls, le, colon;

	while (p < len) {
		ls = p;
		/* the empty line ends the header */
		if (hdr[p] == '\n' || (hdr[p] == '\r' && p + 1 < len &&
		    hdr[p + 1] == '\n'))
			break;
		/* the field runs to the first line not starting with WSP */
		le = p;
		for (;;) {
			const char *nl = memchr(hdr + le, '\n', len - le);

			le = nl == NULL ? len : (size_t)(nl - hdr) + 1;
			if (le >= len || !is_wsp((unsigned char)hdr[le]))
				break;
		}
		p = le;
		if (is_wsp((unsigned char)hdr[ls]))
			continue;	/* continuation with no field: skip */
		for (colon = ls; colon < le && hdr[colon] != ':' &&
		    hdr[colon] != '\n'; colon++)
			;
		if (colon >= le || hdr[colon] != ':')
			continue;	/* no colon: not a field */
		f->name = hdr + ls;
		f->name_len = colon - ls;
		while (f->name_len > 0 && is_wsp((unsigned char)f->name[f->name_len - 1]))
			f->name_len--;
		colon++;
		while (colon < le && is_wsp((unsigned char)hdr[colon]))
			colon++;
		if (le > colon && hdr[le - 1] == '\n')
			le--;
		if (le > colon && hdr[le - 1] == '\r')
			le--;
		f->value = hdr + colon;
		f->value_len = le - colon;
		*pos = p;
		return 1;
	}
	*pos = len;
	return 0;
}

int
rfc822_unfold(const char *v, size_t n, struct buf *out)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (v[i] != '\r' && v[i] != '\n')
			continue;
		if (buf_add(out, v + start, i - start) < 0)
			return -1;
		start = i + 1;
	}
	return buf_add(out, v + start, n - start);
}

static char *
unfold_dup(const char *v, size_t n)
{
	struct buf b;
	size_t skip = 0;
	char *s;

	buf_init(&b, RFC822_VALUE_MAX);
	(void)rfc822_unfold(v, n, &b);
	s = buf_steal(&b, NULL);
	/* a value that starts on the next line starts after its indent */
	while (is_wsp((unsigned char)s[skip]))
		skip++;
	if (skip > 0)
		memmove(s, s + skip, strlen(s + skip) + 1);
	return s;
}

static int
name_is(const struct rfc822_field *f, const char *name)
{
	return strlen(name) == f->name_len &&
	    ascii_strncasecmp(f->name, name, f->name_len) == 0;
}

char *
rfc822_header_get(const char *hdr, size_t len, const char *name)
{
	struct rfc822_field f;
	size_t pos = 0;

	while (rfc822_header_next(hdr, len, &pos, &f) == 1) {
		if (name_is(&f, name))
			return unfold_dup(f.value, f.value_len);
	}
	return NULL;
}

size_t
rfc822_header_get_all(const char *hdr, size_t len, const char *name,
    char ***values_r)
{
	struct rfc822_field f;
	size_t pos = 0, n = 0;
	char **v = NULL;

	while (rfc822_header_next(hdr, len, &pos, &f) == 1) {
		if (!name_is(&f, name))
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = unfold_dup(f.value, f.value_len);
		v[n] = NULL;
	}
	*values_r = v;
	return n;
}

void
rfc822_strv_free(char ***v)
{
	size_t i;

	if (v == NULL || *v == NULL)
		return;
	for (i = 0; (*v)[i] != NULL; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
}

/* ---- address lists ------------------------------------------------------ */

struct ap {
	const char	*s;
	size_t		 len, p;
	struct buf	 comment;	/* the last comment skipped */
	struct rfc822_addr *list;
	size_t		 n;
};

static int
ap_peek(const struct ap *a)
{
	return a->p < a->len ? (unsigned char)a->s[a->p] : -1;
}

/* Skip whitespace, line breaks and (nested) comments; keep the last one. */
static void
ap_skip_cfws(struct ap *a)
{
	int depth;

	while (a->p < a->len) {
		int c = (unsigned char)a->s[a->p];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			a->p++;
			continue;
		}
		if (c != '(')
			return;
		buf_reset(&a->comment);
		depth = 0;
		while (a->p < a->len) {
			c = (unsigned char)a->s[a->p++];
			if (c == '\\' && a->p < a->len) {
				(void)buf_addc(&a->comment, a->s[a->p++]);
				continue;
			}
			if (c == '(' && depth++ == 0)
				continue;
			if (c == ')' && --depth == 0)
				break;
			if (c != '\r' && c != '\n')
				(void)buf_addc(&a->comment, (char)c);
		}
	}
}

static int
is_atext(int c)
{
	if (c < 0 || c <= ' ' || c == 0x7f)
		return 0;
	return strchr("()<>[]:;@\\,.\"", c) == NULL;
}

/* An atom or a quoted string, appended unquoted. 1 read, 0 none there. */
static int
ap_word(struct ap *a, struct buf *out)
{
	int c = ap_peek(a);

	if (c == '"') {
		a->p++;
		while (a->p < a->len && a->s[a->p] != '"') {
			if (a->s[a->p] == '\\' && a->p + 1 < a->len)
				a->p++;
			if (a->s[a->p] != '\r' && a->s[a->p] != '\n')
				(void)buf_addc(out, a->s[a->p]);
			a->p++;
		}
		if (a->p < a->len)
			a->p++;
		return 1;
	}
	if (!is_atext(c))
		return 0;
	while (is_atext(ap_peek(a)))
		(void)buf_addc(out, a->s[a->p++]);
	return 1;
}

/* phrase = words and dots, joined by single spaces (dots stick left). */
static void
ap_phrase(struct ap *a, struct buf *out)
{
	int any = 0;

	for (;;) {
		ap_skip_cfws(a);
		if (ap_peek(a) == '.') {
			(void)buf_addc(out, '.');
			a->p++;
			continue;
		}
		if (any && (ap_peek(a) == '"' || is_atext(ap_peek(a))))
			(void)buf_addc(out, ' ');
		if (!ap_word(a, out))
			return;
		any = 1;
	}
}

/* local-part: words joined by dots. 0 ok, -1 broken (trailing dot). */
static int
ap_dotted(struct ap *a, struct buf *out, int (*word)(struct ap *, struct buf *))
{
	for (;;) {
		ap_skip_cfws(a);
		if (!word(a, out))
			return out->len == 0 ? 0 : -1;
		ap_skip_cfws(a);
		if (ap_peek(a) != '.')
			return 0;
		(void)buf_addc(out, '.');
		a->p++;
	}
}

static int
ap_atom(struct ap *a, struct buf *out)
{
	if (!is_atext(ap_peek(a)))
		return 0;
	while (is_atext(ap_peek(a)))
		(void)buf_addc(out, a->s[a->p++]);
	return 1;
}

/* domain = dot-atom / domain-literal. 0 ok, -1 broken or empty. */
static int
ap_domain(struct ap *a, struct buf *out)
{
	ap_skip_cfws(a);
	if (ap_peek(a) == '[') {
		while (a->p < a->len && a->s[a->p] != ']') {
			if (a->s[a->p] == '\\' && a->p + 1 < a->len)
				a->p++;
			if (a->s[a->p] != '\r' && a->s[a->p] != '\n')
				(void)buf_addc(out, a->s[a->p]);
			a->p++;
		}
		if (a->p < a->len)
			a->p++;
		(void)buf_addc(out, ']');
		return 0;
	}
	if (ap_dotted(a, out, ap_atom) < 0 || out->len == 0)
		return -1;
	return 0;
}

static char *
strdup_or_null(struct buf *b)
{
	return b->len == 0 ? NULL : xstrndup(b->data, b->len);
}

static void
ap_add(struct ap *a, char *name, char *route, char *mailbox, char *host)
{
	struct rfc822_addr *e;

	a->list = xreallocarray(a->list, a->n + 1, sizeof(*a->list));
	e = &a->list[a->n++];
	e->name = name;
	e->route = route;
	e->mailbox = mailbox;
	e->host = host;
}

/* addr-spec, filling in placeholders for what is missing. */
static void
ap_addr_spec(struct ap *a, char **mailbox_r, char **host_r)
{
	struct buf lp, dom;
	int bad = 0;

	buf_init(&lp, RFC822_VALUE_MAX);
	buf_init(&dom, RFC822_VALUE_MAX);
	if (ap_dotted(a, &lp, ap_word) < 0)
		bad = 1;
	ap_skip_cfws(a);
	if (!bad && ap_peek(a) == '@') {
		a->p++;
		if (ap_domain(a, &dom) < 0)
			buf_reset(&dom);
	}
	*mailbox_r = lp.len > 0 ? strdup_or_null(&lp) : xstrdup("MISSING_MAILBOX");
	*host_r = dom.len > 0 ? strdup_or_null(&dom) : xstrdup("MISSING_DOMAIN");
	buf_free(&lp);
	buf_free(&dom);
}

/* '<' [route ':'] addr-spec '>'; a->p is at '<'. */
static void
ap_angle(struct ap *a, char *name)
{
	struct buf route;
	char *mailbox, *host;
	size_t save;

	buf_init(&route, RFC822_VALUE_MAX);
	a->p++;
	ap_skip_cfws(a);
	if (ap_peek(a) == '@') {
		save = a->p;
		while (ap_peek(a) == '@' || ap_peek(a) == ',') {
			if (ap_peek(a) == ',') {
				(void)buf_addc(&route, ',');
				a->p++;
				ap_skip_cfws(a);
				continue;
			}
			a->p++;
			(void)buf_addc(&route, '@');
			(void)ap_domain(a, &route);
			ap_skip_cfws(a);
		}
		if (ap_peek(a) == ':') {
			a->p++;
		} else {
			/* "<@host>": no route after all, a missing local part */
			a->p = save;
			buf_reset(&route);
		}
	}
	ap_addr_spec(a, &mailbox, &host);
	ap_skip_cfws(a);
	if (ap_peek(a) == '>')
		a->p++;
	ap_add(a, name, strdup_or_null(&route), mailbox, host);
	buf_free(&route);
}

/* One mailbox (0) or a group start (1); -1 nothing readable. */
static int
ap_mailbox(struct ap *a, int *in_group)
{
	struct buf phrase;
	size_t start = a->p;
	char *mailbox, *host;

	buf_init(&phrase, RFC822_VALUE_MAX);
	ap_phrase(a, &phrase);
	ap_skip_cfws(a);
	if (ap_peek(a) == '<') {
		ap_angle(a, strdup_or_null(&phrase));
		buf_free(&phrase);
		return 0;
	}
	if (ap_peek(a) == ':' && !*in_group && phrase.len > 0) {
		a->p++;
		ap_add(a, NULL, NULL, strdup_or_null(&phrase), NULL);
		*in_group = 1;
		buf_free(&phrase);
		return 1;
	}
	buf_free(&phrase);
	a->p = start;
	buf_reset(&a->comment);
	ap_skip_cfws(a);
	if (a->p >= a->len || strchr(",;", a->s[a->p]) != NULL)
		return -1;
	buf_reset(&a->comment);
	ap_addr_spec(a, &mailbox, &host);
	ap_skip_cfws(a);
	ap_add(a, strdup_or_null(&a->comment), NULL, mailbox, host);
	return 0;
}

size_t
rfc822_addr_parse(const char *s, size_t len, struct rfc822_addr **list_r)
{
	struct ap a;
	int in_group = 0, c, r;

	memset(&a, 0, sizeof(a));
	a.s = s;
	a.len = len;
	buf_init(&a.comment, RFC822_VALUE_MAX);
	for (;;) {
		ap_skip_cfws(&a);
		c = ap_peek(&a);
		if (c < 0)
			break;
		if (c == ',') {
			a.p++;
			continue;
		}
		if (c == ';') {
			a.p++;
			if (in_group) {
				ap_add(&a, NULL, NULL, NULL, NULL);
				in_group = 0;
			}
			continue;
		}
		if (a.n > 10000 || (r = ap_mailbox(&a, &in_group)) < 0)
			break;
		if (r == 1)
			continue;	/* a group start needs no comma after it */
		ap_skip_cfws(&a);
		c = ap_peek(&a);
		if (c >= 0 && c != ',' && c != ';')
			break;
	}
	if (in_group)
		ap_add(&a, NULL, NULL, NULL, NULL);
	buf_free(&a.comment);
	*list_r = a.list;
	return a.n;
}

void
rfc822_addr_free(struct rfc822_addr **list, size_t n)
{
	size_t i;

	if (list == NULL || *list == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*list)[i].name);
		free((*list)[i].route);
		free((*list)[i].mailbox);
		free((*list)[i].host);
	}
	free(*list);
	*list = NULL;
}

/* ---- dates --------------------------------------------------------------- */

static const struct {
	const char	*name;
	int		 minutes;
} zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
};

struct dp {
	const char	*s;
	size_t		 len, p;
};

static void
dp_skip(struct dp *d)
{
	int depth = 0;

	while (d->p < d->len) {
		char c = d->s[d->p];

		if (depth > 0) {
			if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			else if (c == '\\')
				d->p++;
			d->p++;
		} else if (c == '(') {
			depth = 1;
			d->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			d->p++;
		} else {
			return;
		}
	}
}

/* Digits: 1 and *v, or 0 if none; at most maxd digits. */
static int
dp_num(struct dp *d, int maxd, int *v, int *ndig)
{
	int n = 0, x = 0;

	while (d->p < d->len && n < maxd && d->s[d->p] >= '0' && d->s[d->p] <= '9') {
		x = x * 10 + (d->s[d->p++] - '0');
		n++;
	}
	*v = x;
	if (ndig != NULL)
		*ndig = n;
	return n > 0;
}

static size_t
dp_word(struct dp *d, char *w, size_t wsize)
{
	size_t n = 0;

	while (d->p < d->len && ((d->s[d->p] >= 'a' && d->s[d->p] <= 'z') ||
	    (d->s[d->p] >= 'A' && d->s[d->p] <= 'Z'))) {
		if (n + 1 < wsize)
			w[n++] = d->s[d->p];
		d->p++;
	}
	w[n] = '\0';
	return n;
}

static int
dp_zone(struct dp *d, int *tz)
{
	char w[8];
	size_t i;
	int sign, v, nd;

	dp_skip(d);
	*tz = 0;
	if (d->p >= d->len)
		return 0;	/* obsolete: no zone at all */
	if (d->s[d->p] == '+' || d->s[d->p] == '-') {
		sign = d->s[d->p++] == '-' ? -1 : 1;
		if (!dp_num(d, 4, &v, &nd) || nd != 4 || v % 100 > 59)
			return -1;
		*tz = sign * ((v / 100) * 60 + v % 100);
		return 0;
	}
	if (dp_word(d, w, sizeof(w)) == 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(zones); i++) {
		if (ascii_strcasecmp(w, zones[i].name) == 0) {
			*tz = zones[i].minutes;
			return 0;
		}
	}
	/* military and unknown zones mean "unknown offset": RFC 5322 4.3 */
	return 0;
}

/* "d[-]Mon[-]yy[yy]": the day, month and year of a Date. 0 or -1. */
static int
dp_date(struct dp *d, struct date_tm *tm)
{
	char w[16];
	int day, mon, year, nd;

	if (!dp_num(d, 2, &day, NULL) || day < 1 || day > 31)
		return -1;
	dp_skip(d);
	if (d->p < d->len && d->s[d->p] == '-')
		d->p++;
	if (dp_word(d, w, sizeof(w)) < 3 || (mon = date_month_from_name(w)) < 0)
		return -1;
	dp_skip(d);
	if (d->p < d->len && d->s[d->p] == '-')
		d->p++;
	if (!dp_num(d, 4, &year, &nd))
		return -1;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	tm->day = (unsigned)day;
	tm->mon = (unsigned)mon;
	tm->year = year;
	return 0;
}

/* "hh:mm[:ss]", comments and white space allowed between. 0 or -1. */
static int
dp_time(struct dp *d, struct date_tm *tm)
{
	int hh, mm, ss = 0;

	if (!dp_num(d, 2, &hh, NULL) || hh > 23)
		return -1;
	dp_skip(d);
	if (d->p >= d->len || d->s[d->p++] != ':')
		return -1;
	dp_skip(d);
	if (!dp_num(d, 2, &mm, NULL) || mm > 59)
		return -1;
	dp_skip(d);
	if (d->p < d->len && d->s[d->p] == ':') {
		d->p++;
		dp_skip(d);
		if (!dp_num(d, 2, &ss, NULL) || ss > 60)
			return -1;
	}
	tm->hour = (unsigned)hh;
	tm->min = (unsigned)mm;
	tm->sec = (unsigned)ss;
	return 0;
}

int
rfc822_date_parse(const char *s, size_t len, time_t *t_r, int *tz_min_r)
{
	struct dp d = { s, len, 0 };
	struct date_tm tm;
	char w[16];
	int tz;

	dp_skip(&d);
	/* optional day-of-week */
	if (d.p < d.len && !(s[d.p] >= '0' && s[d.p] <= '9')) {
		if (dp_word(&d, w, sizeof(w)) == 0)
			return -1;
		dp_skip(&d);
		if (d.p < d.len && s[d.p] == ',')
			d.p++;
		dp_skip(&d);
	}
	if (dp_date(&d, &tm) < 0)
		return -1;
	dp_skip(&d);
	if (dp_time(&d, &tm) < 0 || dp_zone(&d, &tz) < 0)
		return -1;
	*t_r = (time_t)date_join(&tm, tz);
	*tz_min_r = tz;
	return 0;
}
