/*
 * search_norm: the normal form of SEARCH text, and header field values
 * brought to it (see search_norm.h).
 *
 * Moved here from server/imap/search.c so that the summary built at
 * ingest (lib/msg_summary.c) computes its texts with the very code
 * SEARCH uses. The ASCII fast path folds eight bytes at a time; the rest
 * goes code point by code point through small decomposition and folding
 * tables covering the scripts mail is commonly written in.
 */
#include "lib/search_norm.h"

#include <stdint.h>
#include <string.h>

#include "lib/mime.h"
#include "lib/rfc822.h"
#include "lib/utf8.h"

/* ---- Text normal form --------------------------------------------- */

/*
 * Latin-1 Supplement and Latin Extended-A letters with a canonical
 * decomposition: the base letter (lower case) and the combining mark
 * (U+0300 + value); '-' where there is none. Dovecot decomposes before
 * comparing, so "quimperle" finds "Quimperlé" but "comte affine" does not
 * find "Comté affiné" (the mark sits between "e" and the space).
 */
static const char dec_c0_base[] =
	"aaaaaa-ceeeeiiii-nooooo--uuuuy--"	/* U+00C0..U+00DF */
	"aaaaaa-ceeeeiiii-nooooo--uuuuy-y";	/* U+00E0..U+00FF */
static const unsigned char dec_c0_mark[] = {
	0x00, 0x01, 0x02, 0x03, 0x08, 0x0a, 0, 0x27,
	0x00, 0x01, 0x02, 0x08, 0x00, 0x01, 0x02, 0x08,
	0, 0x03, 0x00, 0x01, 0x02, 0x03, 0x08, 0,
	0, 0x00, 0x01, 0x02, 0x08, 0x01, 0, 0,
	0x00, 0x01, 0x02, 0x03, 0x08, 0x0a, 0, 0x27,
	0x00, 0x01, 0x02, 0x08, 0x00, 0x01, 0x02, 0x08,
	0, 0x03, 0x00, 0x01, 0x02, 0x03, 0x08, 0,
	0, 0x00, 0x01, 0x02, 0x08, 0x01, 0, 0x08,
};
static const char dec_100_base[] =
	"aaaaaaccccccccdd" "--eeeeeeeeeegggg"	/* U+0100..U+011F */
	"gggghh--iiiiiiii" "i---jjkk-llllll-"	/* U+0120..U+013F */
	"---nnnnnn---oooo" "oo--rrrrrrssssss"	/* U+0140..U+015F */
	"sstttt--uuuuuuuu" "uuuuwwyyyzzzzzz-";	/* U+0160..U+017F */
static const unsigned char dec_100_mark[] = {
	0x04, 0x04, 0x06, 0x06, 0x28, 0x28, 0x01, 0x01,	/* U+0100 */
	0x02, 0x02, 0x07, 0x07, 0x0c, 0x0c, 0x0c, 0x0c,
	0, 0, 0x04, 0x04, 0x06, 0x06, 0x07, 0x07,		/* U+0110 */
	0x28, 0x28, 0x0c, 0x0c, 0x02, 0x02, 0x06, 0x06,
	0x07, 0x07, 0x27, 0x27, 0x02, 0x02, 0, 0,		/* U+0120 */
	0x03, 0x03, 0x04, 0x04, 0x06, 0x06, 0x28, 0x28,
	0x07, 0, 0, 0, 0x02, 0x02, 0x27, 0x27,		/* U+0130 */
	0, 0x01, 0x01, 0x27, 0x27, 0x0c, 0x0c, 0,
	0, 0, 0, 0x01, 0x01, 0x27, 0x27, 0x0c,		/* U+0140 */
	0x0c, 0, 0, 0, 0x04, 0x04, 0x06, 0x06,
	0x0b, 0x0b, 0, 0, 0x01, 0x01, 0x27, 0x27,		/* U+0150 */
	0x0c, 0x0c, 0x01, 0x01, 0x02, 0x02, 0x27, 0x27,
	0x0c, 0x0c, 0x27, 0x27, 0x0c, 0x0c, 0, 0,		/* U+0160 */
	0x03, 0x03, 0x04, 0x04, 0x06, 0x06, 0x0a, 0x0a,
	0x0b, 0x0b, 0x28, 0x28, 0x02, 0x02, 0x02, 0x02,	/* U+0170 */
	0x08, 0x01, 0x01, 0x07, 0x07, 0x0c, 0x0c, 0,
};
_Static_assert(sizeof(dec_c0_base) == 65 && sizeof(dec_c0_mark) == 64,
    "decomposition table for U+00C0..U+00FF");
_Static_assert(sizeof(dec_100_base) == 129 && sizeof(dec_100_mark) == 128,
    "decomposition table for U+0100..U+017F");

/* Simple case folding (Unicode CaseFolding.txt, C and S) of the scripts
 * mail is commonly written in; others are left as they are. */
static uint32_t
fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 32;
	if (c == 0xb5)
		return 0x3bc;
	if (c >= 0x100 && c <= 0x17f) {
		if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149)
			return c;
		if (c == 0x178)
			return 0xff;
		if (c == 0x17f)
			return 's';
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) ? c + 1 : c;
		return c | 1;
	}
	if (c >= 0x180 && c <= 0x24f) {
		/* Latin Extended-B: the regular pairs only */
		if ((c >= 0x1cd && c <= 0x1dc))
			return (c & 1) ? c + 1 : c;
		if ((c >= 0x1de && c <= 0x1ef) || (c >= 0x1f8 && c <= 0x21f) ||
		    (c >= 0x222 && c <= 0x233) || (c >= 0x246 && c <= 0x24f))
			return c | 1;
		return c;
	}
	if (c >= 0x370 && c <= 0x3ff) {
		if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
			return c + 32;
		if (c == 0x386)
			return 0x3ac;
		if (c >= 0x388 && c <= 0x38a)
			return c + 37;
		if (c == 0x38c)
			return 0x3cc;
		if (c == 0x38e || c == 0x38f)
			return c + 63;
		if (c == 0x3c2)
			return 0x3c3;
		if (c >= 0x3d8 && c <= 0x3ef)
			return c | 1;
		return c;
	}
	if (c >= 0x400 && c <= 0x52f) {
		if (c <= 0x40f)
			return c + 80;
		if (c <= 0x42f)
			return c + 32;
		if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf) ||
		    (c >= 0x4d0 && c <= 0x52f))
			return c | 1;
		if (c == 0x4c0)
			return 0x4cf;
		if (c >= 0x4c1 && c <= 0x4ce)
			return (c & 1) ? c + 1 : c;
		return c;
	}
	if (c >= 0x531 && c <= 0x556)
		return c + 48;
	if (c >= 0x10a0 && c <= 0x10c5)
		return c + 7264;
	if (c >= 0x1e00 && c <= 0x1eff) {
		if (c == 0x1e9e)
			return 0xdf;
		if (c <= 0x1e95 || c >= 0x1ea0)
			return c | 1;
		return c;
	}
	if (c >= 0x2160 && c <= 0x216f)
		return c + 16;
	if (c >= 0x24b6 && c <= 0x24cf)
		return c + 26;
	if (c >= 0x2c00 && c <= 0x2c2f)
		return c + 48;
	if (c >= 0x10400 && c <= 0x10427)
		return c + 40;
	return c;
}

/* Write code point c as UTF-8 at d; the number of bytes. */
static size_t
put_cp(char *d, uint32_t c)
{
	if (c < 0x80) {
		d[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		d[0] = (char)(0xc0 | c >> 6);
		d[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		d[0] = (char)(0xe0 | c >> 12);
		d[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		d[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | c >> 18);
	d[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	d[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	d[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Compatibility decompositions Dovecot applies that mail text meets:
 * spaces, the ellipsis, the Latin ligatures. NULL if none. */
static const char *
compat_of(uint32_t c)
{
	static const char *const lig[] = {
		"ff", "fi", "fl", "ffi", "ffl", "st", "st",
	};

	if (c == 0xa0 || (c >= 0x2000 && c <= 0x200a) || c == 0x202f ||
	    c == 0x205f || c == 0x3000)
		return " ";
	if (c == 0x2024)
		return ".";
	if (c == 0x2025)
		return "..";
	if (c == 0x2026)
		return "...";
	if (c >= 0xfb00 && c <= 0xfb06)
		return lig[c - 0xfb00];
	return NULL;
}

/*
 * Write the normal form of code point c at d (at most 3 bytes per byte
 * of c's UTF-8 form, and never more than 4); the number of bytes.
 */
static size_t
norm_cp(char *d, uint32_t c)
{
	const char *base = NULL, *compat;
	const unsigned char *mark = NULL;
	size_t i = 0;

	if ((compat = compat_of(c)) != NULL) {
		i = strlen(compat);
		memcpy(d, compat, i);
		return i;
	}
	if (c >= 0xff01 && c <= 0xff5e)		/* fullwidth ASCII */
		return put_cp(d, fold_cp(c - 0xff01 + 0x21));
	if (c >= 0xc0 && c <= 0xff)
		base = dec_c0_base, mark = dec_c0_mark, i = c - 0xc0;
	else if (c >= 0x100 && c <= 0x17f)
		base = dec_100_base, mark = dec_100_mark, i = c - 0x100;
	if (base != NULL && base[i] != '-') {
		d[0] = base[i];
		return 1 + put_cp(d + 1, 0x300 + mark[i]);
	}
	return put_cp(d, fold_cp(c));
}

#define ONE_BYTES	0x0101010101010101ULL
#define HI_BITS		0x8080808080808080ULL

size_t
search_norm_utf8(char *d, const unsigned char *p, size_t n, int last,
    size_t *used_r)
{
	size_t i = 0, o = 0, k, j;
	uint32_t c;

	while (i < n) {
		/* ASCII is the common case: fold it eight bytes at a time */
		while (i + 8 <= n) {
			uint64_t v, up;

			memcpy(&v, p + i, 8);
			if ((v & HI_BITS) != 0 ||
			    ((v - ONE_BYTES) & ~v & HI_BITS) != 0)
				break;	/* 8-bit or NUL in there */
			/* high bit of each byte set where 'A' <= b <= 'Z' */
			up = ((v + (0x80 - 'A') * ONE_BYTES) ^
			    (v + (0x7f - 'Z') * ONE_BYTES)) & HI_BITS;
			v |= up >> 2;
			memcpy(d + o, &v, 8);
			i += 8;
			o += 8;
		}
		while (i < n && p[i] < 0x80 && p[i] != 0) {
			c = p[i++];
			d[o++] = (char)(c - 'A' < 26 ? c + 32 : c);
		}
		if (i >= n)
			break;
		k = p[i] == 0 ? 0 : utf8_decode(p + i, n - i, &c);
		if (k == 0 && !last && utf8_lead_len(p[i]) > n - i) {
			/* cut off at the end, or broken? */
			for (j = i + 1; j < n && (p[j] & 0xc0) == 0x80; j++)
				;
			if (j == n)
				break;
		}
		if (k == 0) {
			memcpy(d + o, SEARCH_NORM_REPLACEMENT, 3);
			o += 3;
			i++;
			continue;
		}
		o += norm_cp(d + o, c);
		i += k;
	}
	*used_r = i;
	return o;
}

int
search_norm_append(struct buf *out, const char *s, size_t n)
{
	char tmp[SEARCH_NORM_MAX(1024)];
	size_t len, used, piece;

	while (n > 0) {
		piece = n > 1024 ? 1024 : n;
		len = search_norm_utf8(tmp, (const unsigned char *)s, piece,
		    piece == n, &used);
		if (used == 0)
			used = piece;	/* cannot happen: a cut is < 4 bytes */
		if (buf_add(out, tmp, len) < 0)
			return -1;
		s += used;
		n -= used;
	}
	return 0;
}

/* ---- Header values ------------------------------------------------ */

static int
is_atext(unsigned char c)
{
	if (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Dovecot's way of writing a phrase or local part: as it is when it is
 * all atext (dots allowed in a local part), else quoted, with '"', '\\'
 * and '\'' escaped. */
static int
append_maybe_quoted(struct buf *out, const char *s, int dot_ok)
{
	const char *q;
	int rc = 0;

	for (q = s; *q != '\0'; q++)
		if (!is_atext((unsigned char)*q) && !(dot_ok && *q == '.'))
			break;
	if (*q == '\0')
		return buf_adds(out, s);
	rc |= buf_addc(out, '"');
	for (q = s; *q != '\0'; q++) {
		if (*q == '"' || *q == '\\' || *q == '\'')
			rc |= buf_addc(out, '\\');
		rc |= buf_addc(out, *q);
	}
	rc |= buf_addc(out, '"');
	return rc;
}

/* An address list written back the way Dovecot's SEARCH compares it. */
static int
write_addresses(struct buf *out, const struct rfc822_addr *a, size_t n)
{
	int first = 1, in_group = 0, rc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!first)
			rc |= buf_adds(out, ", ");
		first = 0;
		if (a[i].host == NULL) {
			if (!in_group) {
				if (a[i].mailbox != NULL && *a[i].mailbox)
					rc |= strstr(a[i].mailbox, "=?") ?
					    buf_adds(out, a[i].mailbox) :
					    append_maybe_quoted(out,
					    a[i].mailbox, 0);
				else
					rc |= buf_adds(out, "\"\"");
				rc |= buf_adds(out, ": ");
				first = 1;
			} else {
				if (out->len >= 2 &&
				    out->data[out->len - 2] == ',')
					out->len -= 2;
				else if (out->len >= 2 &&
				    out->data[out->len - 2] == ':')
					out->len -= 1;
				rc |= buf_addc(out, ';');
			}
			in_group = !in_group;
			continue;
		}
		if (a[i].name != NULL)
			rc |= strstr(a[i].name, "=?") ? buf_adds(out,
			    a[i].name) : append_maybe_quoted(out, a[i].name, 0);
		if (a[i].route != NULL || *a[i].mailbox || *a[i].host) {
			if (a[i].name != NULL && *a[i].name)
				rc |= buf_addc(out, ' ');
			rc |= buf_addc(out, '<');
			if (a[i].route != NULL) {
				rc |= buf_adds(out, a[i].route);
				rc |= buf_addc(out, ':');
			}
			if (*a[i].mailbox == '\0')
				rc |= buf_adds(out, "\"\"");
			else
				rc |= append_maybe_quoted(out, a[i].mailbox, 1);
			if (*a[i].host) {
				rc |= buf_addc(out, '@');
				rc |= buf_adds(out, a[i].host);
			}
			rc |= buf_addc(out, '>');
		}
	}
	return rc == 0 ? 0 : -1;
}

/* Runs of white space become one space (Dovecot's SUBJECT). */
static int
squeeze_lwsp(struct buf *out, const char *s, size_t n)
{
	int prev = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n') {
			if (!prev && buf_addc(out, ' ') < 0)
				return -1;
			prev = 1;
		} else {
			if (buf_addc(out, s[i]) < 0)
				return -1;
			prev = 0;
		}
	}
	return 0;
}

int
search_norm_field(enum search_norm_mode mode, const char *v, size_t n,
    struct buf *out, struct buf *t1, struct buf *t2)
{
	struct rfc822_addr *list = NULL;
	const char *raw = v;
	size_t rawlen = n, na;
	int rc = 0;

	buf_reset(t1);
	buf_reset(t2);
	if (mode == SEARCH_NORM_ADDRESS) {
		na = rfc822_addr_parse(v, n, &list);
		rc = write_addresses(t1, list, na);
		rfc822_addr_free(&list, na);
		if (rc < 0)
			return -1;
		raw = t1->data == NULL ? "" : t1->data;
		rawlen = t1->len;
	} else if (mode == SEARCH_NORM_LWSP) {
		if (rfc822_unfold(v, n, t2) < 0 ||
		    squeeze_lwsp(t1, t2->data == NULL ? "" : t2->data,
		    t2->len) < 0)
			return -1;
		raw = t1->data == NULL ? "" : t1->data;
		rawlen = t1->len;
		buf_reset(t2);
	}
	/* a value over a buffer's limit is matched on its first part */
	if (mime_decode_header(raw, rawlen, t2) < 0)
		rc = -1;
	if (search_norm_append(out, t2->data == NULL ? "" : t2->data,
	    t2->len) < 0)
		rc = -1;
	return rc;
}
