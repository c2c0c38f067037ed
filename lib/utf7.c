/*
 * utf7: modified UTF-7 encoder and strict decoder.
 *
 * Both directions walk the input once and append to the caller's bounded
 * buffer; on any failure the buffer is cut back to its length on entry, so
 * a caller never sees half a name. The decoder checks each BASE64 run as a
 * whole: its bits must make whole UTF-16 units, the few bits left over must
 * be fewer than six and zero, and the units must pair up as surrogates.
 */
#include "lib/utf7.h"
#include "lib/utf8.h"

#include <stdint.h>
#include <string.h>

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(unsigned char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

static int
printable(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int
put_back(struct buf *out, size_t len, int rc)
{
	out->len = len;
	if (out->data != NULL)
		out->data[len] = '\0';
	return rc;
}

/*
 * Read one UTF-8 character from s[*i..len). Returns the code point or -1
 * for anything not valid UTF-8 (or U+0000).
 */
static int32_t
utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	uint32_t c;
	size_t n = utf8_decode(s + *i, len - *i, &c);

	if (n == 0 || c == 0)
		return -1;
	*i += n;
	return (int32_t)c;
}

static int
put_utf8(struct buf *out, uint32_t c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (c >> 18));
		u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	return buf_add(out, u, n);
}

/* Bits waiting to become BASE64 digits while encoding a run. */
struct b64_acc {
	uint32_t	bits;
	int		nbits;
};

static int
put_unit(struct buf *out, struct b64_acc *a, uint32_t unit)
{
	a->bits = (a->bits << 16) | unit;
	a->nbits += 16;
	while (a->nbits >= 6) {
		a->nbits -= 6;
		if (buf_addc(out, b64[(a->bits >> a->nbits) & 0x3f]) < 0)
			return -1;
	}
	a->bits &= (1u << a->nbits) - 1;
	return 0;
}

/* Encode the run of non-printable characters starting at s[*i]. */
static int
encode_run(const unsigned char *s, size_t len, size_t *i, struct buf *out)
{
	struct b64_acc a = { 0, 0 };
	int32_t c;
	size_t j;

	if (buf_addc(out, '&') < 0)
		return UTF7_ELIMIT;
	while (*i < len) {
		j = *i;
		if ((c = utf8_next(s, len, &j)) < 0)
			return UTF7_EINVAL;
		if (printable((uint32_t)c))
			break;
		*i = j;
		if (c >= 0x10000) {
			c -= 0x10000;
			if (put_unit(out, &a, 0xd800 | ((uint32_t)c >> 10)) < 0 ||
			    put_unit(out, &a, 0xdc00 | ((uint32_t)c & 0x3ff)) < 0)
				return UTF7_ELIMIT;
		} else if (put_unit(out, &a, (uint32_t)c) < 0)
			return UTF7_ELIMIT;
	}
	if (a.nbits > 0 &&
	    buf_addc(out, b64[(a.bits << (6 - a.nbits)) & 0x3f]) < 0)
		return UTF7_ELIMIT;
	if (buf_addc(out, '-') < 0)
		return UTF7_ELIMIT;
	return 0;
}

int
utf7_encode(const char *str, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t start = out->len, i = 0;
	int rc;

	while (i < len) {
		if (printable(s[i])) {
			if (buf_addc(out, (char)s[i]) < 0 ||
			    (s[i] == '&' && buf_addc(out, '-') < 0))
				return put_back(out, start, UTF7_ELIMIT);
			i++;
			continue;
		}
		if ((rc = encode_run(s, len, &i, out)) < 0)
			return put_back(out, start, rc);
	}
	return 0;
}

/*
 * Decode the BASE64 run starting at s[*i] (just after '&') up to and
 * including its '-'. The run is not empty.
 */
static int
decode_run(const unsigned char *s, size_t len, size_t *i, struct buf *out)
{
	uint32_t bits = 0, unit, high = 0;
	int nbits = 0, v;

	for (; *i < len && s[*i] != '-'; (*i)++) {
		if ((v = b64_value(s[*i])) < 0)
			return UTF7_EINVAL;
		bits = (bits << 6) | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		unit = (bits >> nbits) & 0xffff;
		bits &= (1u << nbits) - 1;
		if (high != 0) {
			if (unit < 0xdc00 || unit > 0xdfff)
				return UTF7_EINVAL;
			unit = 0x10000 + ((high - 0xd800) << 10) +
			    (unit - 0xdc00);
			high = 0;
		} else if (unit >= 0xd800 && unit <= 0xdbff) {
			high = unit;
			continue;
		} else if (unit >= 0xdc00 && unit <= 0xdfff)
			return UTF7_EINVAL;
		if (unit == 0 || printable(unit))
			return UTF7_EINVAL;
		if (put_utf8(out, unit) < 0)
			return UTF7_ELIMIT;
	}
	/* the run must end with '-', whole units, and zero padding */
	if (*i == len || high != 0 || nbits >= 6 || bits != 0)
		return UTF7_EINVAL;
	(*i)++;
	return 0;
}

int
utf7_decode(const char *str, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t start = out->len, i = 0;
	int rc;

	while (i < len) {
		if (!printable(s[i]))
			return put_back(out, start, UTF7_EINVAL);
		if (s[i] != '&') {
			if (buf_addc(out, (char)s[i]) < 0)
				return put_back(out, start, UTF7_ELIMIT);
			i++;
			continue;
		}
		i++;
		if (i < len && s[i] == '-') {
			if (buf_addc(out, '&') < 0)
				return put_back(out, start, UTF7_ELIMIT);
			i++;
			continue;
		}
		if ((rc = decode_run(s, len, &i, out)) < 0)
			return put_back(out, start, rc);
		/* "&AOk-&AOk-" has one canonical form, "&AOkA6Q-": refuse the
		 * other so that every name has exactly one encoding. */
		if (i + 1 < len && s[i] == '&' && s[i + 1] != '-')
			return put_back(out, start, UTF7_EINVAL);
	}
	return 0;
}
