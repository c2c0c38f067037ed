/*
 * mime_decode: text decoding for headers and bodies — RFC 2047
 * encoded-words (their charsets converted by lib/charset) and an
 * incremental quoted-printable decoder.
 *
 * Everything is lenient: mail is full of wrong charsets, broken words and
 * raw 8-bit headers, and SEARCH and `mailvault ls` must still show text.
 * The output is always valid UTF-8: whatever cannot be converted becomes
 * U+FFFD, one per bad byte.
 */
#include "lib/mime_int.h"

#include <string.h>

#include "lib/base64.h"
#include "lib/charset.h"
#include "lib/rfc822.h"
#include "lib/util.h"

int
mime_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse an encoded-word at s[0..n): "=?cs?e?text?=". Returns its length
 * and fills the pieces, or 0 if it is not one.
 */
static size_t
ew_parse(const char *s, size_t n, const char **cs, size_t *cslen, char *enc,
    const char **text, size_t *textlen)
{
	size_t i, q1, q2;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (q1 = 2; q1 < n && s[q1] != '?'; q1++)
		if (s[q1] == ' ' || s[q1] == '\t')
			return 0;
	if (q1 == 2 || q1 + 2 >= n || s[q1 + 2] != '?')
		return 0;
	*enc = s[q1 + 1];
	if (*enc != 'B' && *enc != 'b' && *enc != 'Q' && *enc != 'q')
		return 0;
	q2 = q1 + 3;
	for (i = q2; i + 1 < n; i++) {
		if (s[i] == ' ' || s[i] == '\t')
			return 0;
		if (s[i] == '?' && s[i + 1] == '=')
			break;
	}
	if (i + 1 >= n)
		return 0;
	*cs = s + 2;
	*cslen = q1 - 2;
	*text = s + q2;
	*textlen = i - q2;
	return i + 2;
}

static void
ew_decode(char enc, const char *t, size_t n, struct buf *bytes)
{
	struct base64_dec bd;
	size_t i;
	int h, l;

	if (enc == 'B' || enc == 'b') {
		base64_dec_init(&bd);
		(void)base64_dec_feed(&bd, t, n, bytes);
		return;
	}
	for (i = 0; i < n; i++) {
		if (t[i] == '_') {
			(void)buf_addc(bytes, ' ');
		} else if (t[i] == '=' && i + 2 < n &&
		    (h = mime_hexval((unsigned char)t[i + 1])) >= 0 &&
		    (l = mime_hexval((unsigned char)t[i + 2])) >= 0) {
			(void)buf_addc(bytes, (char)(h << 4 | l));
			i += 2;
		} else {
			(void)buf_addc(bytes, t[i]);
		}
	}
}

/* Pending bytes of adjacent encoded-words in one charset. */
struct ew_pending {
	char		 cs[64];
	struct buf	 bytes;
};

static int
ew_flush(struct ew_pending *pd, struct buf *out)
{
	int rc = 0;

	if (pd->bytes.len > 0)
		rc = charset_to_utf8(pd->cs, pd->bytes.data, pd->bytes.len, out);
	buf_reset(&pd->bytes);
	return rc;
}

int
mime_decode_header(const char *raw, size_t len, struct buf *out)
{
	struct ew_pending pd;
	struct buf u;
	const char *s, *cs, *text;
	size_t n, i, k, wl, cslen, textlen, ws;
	char enc, csn[64], *star;
	int rc = 0;

	buf_init(&u, len + 1);
	(void)rfc822_unfold(raw, len, &u);
	s = u.data != NULL ? u.data : "";
	n = u.len;
	buf_init(&pd.bytes, len + 1);
	pd.cs[0] = '\0';
	for (i = 0; i < n && rc == 0;) {
		wl = ew_parse(s + i, n - i, &cs, &cslen, &enc, &text, &textlen);
		if (wl > 0) {
			if (cslen >= sizeof(csn))
				cslen = sizeof(csn) - 1;
			memcpy(csn, cs, cslen);
			csn[cslen] = '\0';
			if ((star = strchr(csn, '*')) != NULL)
				*star = '\0';	/* RFC 2231 language suffix */
			if (ascii_strcasecmp(csn, pd.cs) != 0) {
				rc = ew_flush(&pd, out);
				memcpy(pd.cs, csn, sizeof(csn));
			}
			ew_decode(enc, text, textlen, &pd.bytes);
			i += wl;
			/* whitespace between two encoded-words is dropped */
			for (ws = i; ws < n && (s[ws] == ' ' || s[ws] == '\t'); ws++)
				;
			if (ws > i && ws < n && ew_parse(s + ws, n - ws, &cs,
			    &cslen, &enc, &text, &textlen) > 0)
				i = ws;
			continue;
		}
		if (ew_flush(&pd, out) < 0)
			rc = -1;
		pd.cs[0] = '\0';
		/* plain text up to the next possible encoded-word */
		for (k = i + 1; k < n && !(s[k] == '=' && k + 1 < n && s[k + 1] == '?'); k++)
			;
		if (rc == 0 && charset_to_utf8(NULL, s + i, k - i, out) < 0)
			rc = -1;
		i = k;
	}
	if (rc == 0)
		rc = ew_flush(&pd, out);
	buf_free(&pd.bytes);
	buf_free(&u);
	return rc;
}

/* ---- quoted-printable ---------------------------------------------------- */

enum { QP_TEXT, QP_EQ, QP_EQ1, QP_EQ_CR, QP_EQ_WS };

void
mime_qp_dec_init(struct mime_qp_dec *d)
{
	memset(d, 0, sizeof(*d));
}

int
mime_qp_dec_feed(struct mime_qp_dec *d, const void *src, size_t n,
    struct buf *out)
{
	const unsigned char *s = src;
	size_t i;
	int c, h;

	for (i = 0; i < n; i++) {
		c = s[i];
		switch (d->state) {
		case QP_TEXT:
			if (c == '=')
				d->state = QP_EQ;
			else if (buf_addc(out, (char)c) < 0)
				return -1;
			break;
		case QP_EQ:
			if (mime_hexval(c) >= 0) {
				d->hex = (char)c;
				d->state = QP_EQ1;
			} else if (c == '\r') {
				d->state = QP_EQ_CR;
			} else if (c == '\n') {
				d->state = QP_TEXT;	/* soft line break */
			} else if (c == ' ' || c == '\t') {
				d->state = QP_EQ_WS;
			} else {
				d->state = QP_TEXT;
				if (buf_addc(out, '=') < 0)
					return -1;
				i--;
			}
			break;
		case QP_EQ1:
			d->state = QP_TEXT;
			if ((h = mime_hexval(c)) >= 0) {
				if (buf_addc(out, (char)(mime_hexval(d->hex) << 4 |
				    h)) < 0)
					return -1;
			} else {
				if (buf_addc(out, '=') < 0 || buf_addc(out, d->hex) < 0)
					return -1;
				i--;
			}
			break;
		case QP_EQ_CR:
			d->state = QP_TEXT;
			if (c != '\n')
				i--;
			break;
		case QP_EQ_WS:
			if (c == '\r')
				d->state = QP_EQ_CR;
			else if (c == '\n')
				d->state = QP_TEXT;
			else if (c != ' ' && c != '\t') {
				d->state = QP_TEXT;
				i--;
			}
			break;
		}
	}
	return 0;
}

int
mime_qp_dec_finish(struct mime_qp_dec *d, struct buf *out)
{
	int rc = 0;

	if (d->state == QP_EQ)
		rc = buf_addc(out, '=');
	else if (d->state == QP_EQ1)
		rc = buf_addc(out, '=') < 0 ? -1 : buf_addc(out, d->hex);
	d->state = QP_TEXT;
	return rc;
}
