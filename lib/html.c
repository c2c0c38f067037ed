/*
 * html: HTML to plain text (see html.h).
 *
 * One pass over the input. Text goes out word by word through emit(),
 * which holds back white space and line breaks until the next word, so
 * runs of them collapse (two line breaks at most: a blank line between
 * paragraphs) and nothing trails at the end. A tag only asks for breaks
 * (block elements), a "* " (list items), a space (table cells) or the
 * address of a link; elements that never hold text are skipped whole.
 */
#include "lib/html.h"

#include <stdint.h>
#include <string.h>

#include "lib/util.h"

#define TAG_NAME_MAX	16
#define HREF_MAX	2048

struct html_out {
	struct buf	*out;
	int		 space;		/* a space is due before the next text */
	int		 breaks;	/* line breaks due (at most 2) */
	int		 started;	/* some text was written */
	int		 pre;		/* inside <pre>: keep white space */
	int		 err;
	char		 href[HREF_MAX];	/* the open link's address */
	size_t		 link_at;	/* out->len where its text began */
	int		 in_link;
};

/* ---- output ------------------------------------------------------------------ */

static void
put(struct html_out *h, const char *s, size_t n)
{
	if (!h->err && buf_add(h->out, s, n) != 0)
		h->err = 1;
}

/* Write what is held back, then n bytes of text. */
static void
emit(struct html_out *h, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (h->started && h->breaks > 0)
		put(h, "\n\n", (size_t)h->breaks);
	else if (h->started && h->space)
		put(h, " ", 1);
	h->breaks = h->space = 0;
	h->started = 1;
	if (h->in_link && h->link_at == SIZE_MAX)
		h->link_at = h->out->len;	/* the link's text begins */
	put(h, s, n);
}

static void
want_break(struct html_out *h, int n)
{
	if (h->breaks < n)
		h->breaks = n;
}

static void
put_utf8(struct html_out *h, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	emit(h, u, n);
}

/* ---- character references ------------------------------------------------- */

static const struct {
	const char	*name;
	uint32_t	 cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", 0xa0 }, { "copy", 0xa9 },
	{ "reg", 0xae }, { "trade", 0x2122 }, { "euro", 0x20ac },
	{ "pound", 0xa3 }, { "yen", 0xa5 }, { "cent", 0xa2 },
	{ "sect", 0xa7 }, { "deg", 0xb0 }, { "middot", 0xb7 },
	{ "bull", 0x2022 }, { "hellip", 0x2026 }, { "ndash", 0x2013 },
	{ "mdash", 0x2014 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
	{ "ldquo", 0x201c }, { "rdquo", 0x201d }, { "laquo", 0xab },
	{ "raquo", 0xbb }, { "times", 0xd7 }, { "shy", 0xad },
	{ "zwnj", 0x200c }, { "zwj", 0x200d },
};

/*
 * The reference at s[0..n) (s[0] is '&'): its code point and length, or
 * 0 when it is none (the '&' is then text).
 */
static size_t
reference(const char *s, size_t n, uint32_t *cp_r)
{
	size_t i = 1, j, len;
	uint64_t v = 0;
	int hex;

	if (i < n && s[i] == '#') {
		hex = i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X');
		for (i += 1 + hex, j = i; i < n && i - j < 8; i++) {
			int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
			    hex && s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 :
			    hex && s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10 :
			    -1;

			if (d < 0)
				break;
			v = v * (hex ? 16 : 10) + (uint64_t)d;
		}
		if (i == j)
			return 0;
		*cp_r = v > 0x10ffff ? 0xfffd : (uint32_t)v;
		return i < n && s[i] == ';' ? i + 1 : i;
	}
	for (j = 0; j < ARRAY_SIZE(entities); j++) {
		len = strlen(entities[j].name);
		if (len + 1 < n && memcmp(s + 1, entities[j].name, len) == 0 &&
		    s[len + 1] == ';') {
			*cp_r = entities[j].cp;
			return len + 2;
		}
	}
	return 0;
}

/* ---- text -------------------------------------------------------------------- */

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Text between tags: words, white space and references. */
static void
text(struct html_out *h, const char *s, size_t n)
{
	size_t i = 0, j, len;
	uint32_t cp;

	while (i < n) {
		if (h->pre && (s[i] == '\n' || s[i] == '\t' || s[i] == ' ')) {
			if (s[i] == '\n')
				h->breaks = h->started ? h->breaks + 1 : 0;
			else
				emit(h, s + i, 1);
			if (h->breaks > 2)
				h->breaks = 2;
			i++;
		} else if (is_space(s[i])) {
			h->space = 1;
			i++;
		} else if (s[i] == '&' && (len = reference(s + i, n - i,
		    &cp)) > 0) {
			if (cp == 0xa0)
				emit(h, " ", 1);	/* nbsp: a kept space */
			else
				put_utf8(h, cp);
			i += len;
		} else {
			for (j = i; j < n && !is_space(s[j]) && s[j] != '&'; j++)
				;
			emit(h, s + i, j == i ? 1 : j - i);
			i = j == i ? i + 1 : j;
		}
	}
}

/* ---- tags -------------------------------------------------------------------- */

/* Where the tag starting at s[0] ('<') ends: the index after its '>',
 * quotes respected; n when it never ends. */
static size_t
tag_end(const char *s, size_t n)
{
	char q = 0;
	size_t i;

	for (i = 1; i < n; i++) {
		if (q != 0) {
			if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'')
			q = s[i];
		else if (s[i] == '>')
			return i + 1;
	}
	return n;
}

/* The value of attribute name in tag[0..n), references decoded, into
 * out (len bytes); "" when absent. */
static void
attribute(const char *tag, size_t n, const char *name, char *out,
    size_t len)
{
	size_t k = strlen(name), i, j, o = 0;
	char q, *p;

	out[0] = '\0';
	for (i = 1; i + k < n; i++) {
		if (!is_space(tag[i - 1]) ||
		    ascii_strncasecmp(tag + i, name, k) != 0)
			continue;
		for (j = i + k; j < n && is_space(tag[j]); j++)
			;
		if (j >= n || tag[j] != '=')
			continue;
		for (j++; j < n && is_space(tag[j]); j++)
			;
		q = j < n && (tag[j] == '"' || tag[j] == '\'') ? tag[j++] : 0;
		for (; j < n && o + 1 < len && (q ? tag[j] != q :
		    !is_space(tag[j]) && tag[j] != '>'); j++)
			out[o++] = tag[j];
		out[o] = '\0';
		/* "&amp;" in an address is a plain '&'. */
		for (p = out; (p = strstr(p, "&amp;")) != NULL; p++)
			memmove(p + 1, p + 5, strlen(p + 5) + 1);
		return;
	}
}

static int
name_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

static void
link_end(struct html_out *h)
{
	const char *addr = h->href, *shown;
	size_t n;

	if (!h->in_link)
		return;
	h->in_link = 0;
	if (h->link_at == SIZE_MAX)
		h->link_at = h->out->len;	/* a link without text */
	if (ascii_strncasecmp(addr, "mailto:", 7) == 0)
		addr += 7;
	else if (ascii_strncasecmp(addr, "http://", 7) != 0 &&
	    ascii_strncasecmp(addr, "https://", 8) != 0)
		return;
	shown = h->out->data != NULL ? h->out->data + h->link_at : "";
	n = h->out->len - h->link_at;
	/* The text is the address already: once is enough. */
	if (n == strlen(addr) && memcmp(shown, addr, n) == 0)
		return;
	h->space = 1;
	emit(h, "<", 1);
	put(h, addr, strlen(addr));
	put(h, ">", 1);
}

/* What a tag (its name lowercased, closing or not) does to the text. */
static void
tag(struct html_out *h, const char *name, int closing, const char *t,
    size_t n)
{
	static const char *const para[] = { "p", "h1", "h2", "h3", "h4",
	    "h5", "h6", "blockquote", "table", "ul", "ol", "dl", "pre", NULL };
	static const char *const block[] = { "div", "tr", "section",
	    "article", "header", "footer", "dt", "dd", "form", "center",
	    "address", "main", "nav", "aside", "figure", "caption", NULL };
	char alt[256];

	if (strcmp(name, "br") == 0)
		h->breaks = h->started && h->breaks < 2 ? h->breaks + 1 :
		    h->breaks;
	else if (name_in(name, para))
		want_break(h, 2);
	else if (name_in(name, block))
		want_break(h, 1);
	else if (strcmp(name, "li") == 0 && !closing) {
		want_break(h, 1);
		emit(h, "* ", 2);
		h->space = 0;
	} else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
		h->space = 1;
	else if (strcmp(name, "hr") == 0) {
		want_break(h, 1);
		emit(h, "----", 4);
		want_break(h, 1);
	} else if (strcmp(name, "img") == 0) {
		attribute(t, n, "alt", alt, sizeof(alt));
		if (alt[0] != '\0') {
			emit(h, "[", 1);
			put(h, alt, strlen(alt));
			put(h, "]", 1);
		}
	} else if (strcmp(name, "a") == 0 && closing)
		link_end(h);
	else if (strcmp(name, "a") == 0) {
		link_end(h);
		attribute(t, n, "href", h->href, sizeof(h->href));
		h->in_link = 1;
		h->link_at = SIZE_MAX;	/* set by the next emit() */
	}
	if (strcmp(name, "pre") == 0)
		h->pre = closing ? 0 : 1;
}

/* The element's name at s (after '<' and '/'), lowercased into name. */
static void
tag_name(const char *s, size_t n, char *name)
{
	size_t i;

	for (i = 0; i < n && i + 1 < TAG_NAME_MAX &&
	    ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	    (s[i] >= '0' && s[i] <= '9')); i++)
		name[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	name[i] = '\0';
}

/* From s (just after a skipped element's start tag), past "</name>". */
static size_t
skip_element(const char *s, size_t n, const char *name)
{
	size_t k = strlen(name), i;

	for (i = 0; i + 2 + k <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    ascii_strncasecmp(s + i + 2, name, k) == 0)
			return i + tag_end(s + i, n - i);
	return n;
}

/* The markup at s[0] == '<': handled; returns the bytes it took. */
static size_t
markup(struct html_out *h, const char *s, size_t n)
{
	static const char *const skipped[] = { "script", "style", "head",
	    "title", "template", "noscript", NULL };
	const char *end;
	char name[TAG_NAME_MAX];
	size_t len;
	int closing;

	if (n >= 4 && memcmp(s, "<!--", 4) == 0) {
		end = memmem(s + 4, n - 4, "-->", 3);
		return end != NULL ? (size_t)(end - s) + 3 : n;
	}
	closing = n > 1 && s[1] == '/';
	tag_name(s + 1 + closing, n - 1 - (size_t)closing, name);
	if (name[0] == '\0' && !closing && (n < 2 || (s[1] != '!' &&
	    s[1] != '?'))) {
		text(h, s, 1);		/* a lone '<' is text */
		return 1;
	}
	len = tag_end(s, n);
	if (!closing && name_in(name, skipped))
		return len + skip_element(s + len, n - len, name);
	tag(h, name, closing, s, len);
	return len;
}

int
html_to_text(const char *html, size_t n, struct buf *out)
{
	struct html_out h;
	size_t i = 0, j;

	memset(&h, 0, sizeof(h));
	h.out = out;
	while (i < n && !h.err) {
		if (html[i] == '<') {
			i += markup(&h, html + i, n - i);
			continue;
		}
		for (j = i; j < n && html[j] != '<'; j++)
			;
		text(&h, html + i, j - i);
		i = j;
	}
	link_end(&h);
	if (h.started && !h.err)
		put(&h, "\n", 1);
	return h.err ? -1 : 0;
}
