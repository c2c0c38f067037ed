/*
 * charset: a converter is either a UTF-8 checker or an iconv descriptor,
 * and a few bytes of held-back input.
 *
 * Both ways have the same shape: convert what is there, stop before a
 * character cut off at the end of the piece (unless it is the last), and
 * say how much was used; the rest waits in carry. The next piece first
 * finishes that character: the carry and the first bytes of the piece are
 * converted together from a small buffer, and the piece goes on from
 * where that character ended. No character is longer than CARRY_MAX
 * bytes, so a cut-off tail longer than that is not the start of one and
 * becomes U+FFFD like any other bad byte. iconv's own output is checked
 * as UTF-8 too, which turns a NUL it passed through into U+FFFD.
 */
#include "lib/charset.h"

#include <assert.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/util.h"

#define REPLACEMENT	"\xef\xbf\xbd"
/* The longest character any charset has, with room to spare (UTF-8,
 * GB18030 and UTF-32 take four bytes, an ISO-2022 escape four). */
#define CARRY_MAX	16

struct charset_conv {
	iconv_t		 cd;		/* (iconv_t)-1: read as UTF-8 */
	unsigned char	 carry[CARRY_MAX];	/* a character cut off */
	size_t		 ncarry;
	int		 failed;	/* out's limit was hit */
};

static int
is_utf8_name(const char *cs)
{
	return cs == NULL || *cs == '\0' ||
	    ascii_strcasecmp(cs, "utf-8") == 0 ||
	    ascii_strcasecmp(cs, "utf8") == 0 ||
	    ascii_strcasecmp(cs, "us-ascii") == 0 ||
	    ascii_strcasecmp(cs, "ascii") == 0;
}

static void
conv_init(struct charset_conv *cv, const char *charset)
{
	memset(cv, 0, sizeof(*cv));
	cv->cd = (iconv_t)-1;
	if (!is_utf8_name(charset))
		cv->cd = iconv_open("UTF-8", charset);
}

static void
conv_done(struct charset_conv *cv)
{
	if (cv->cd != (iconv_t)-1)
		iconv_close(cv->cd);
	cv->cd = (iconv_t)-1;
}

static void
put(struct charset_conv *cv, const void *p, size_t n, struct buf *out)
{
	if (n > 0 && !cv->failed && buf_add(out, p, n) < 0)
		cv->failed = 1;
}

#define ONE_BYTES	0x0101010101010101ULL
#define HI_BITS		0x8080808080808080ULL

/*
 * UTF-8 text s[0..n) to out, each byte that does not start a valid
 * sequence (and each NUL) as U+FFFD. A sequence cut off at the end is
 * left unless final. Returns the bytes used.
 */
static size_t
utf8_put(struct charset_conv *cv, const unsigned char *s, size_t n,
    int final, struct buf *out)
{
	size_t i = 0, from = 0, k;
	uint64_t v;
	uint32_t cp;

	while (i < n) {
		/* ASCII without NUL, eight bytes at a time */
		for (; i + 8 <= n; i += 8) {
			memcpy(&v, s + i, 8);
			if ((v & HI_BITS) != 0 ||
			    ((v - ONE_BYTES) & ~v & HI_BITS) != 0)
				break;
		}
		if (i >= n)
			break;
		k = s[i] == 0 ? 0 : utf8_decode(s + i, n - i, &cp);
		if (k > 0) {
			i += k;
			continue;
		}
		if (!final && s[i] != 0 && utf8_lead_len(s[i]) > n - i)
			break;		/* cut off: wait for the next piece */
		put(cv, s + from, i - from, out);
		put(cv, REPLACEMENT, 3, out);
		from = ++i;
	}
	put(cv, s + from, i - from, out);
	return i;
}

/*
 * s[0..n) through iconv to out. A character cut off at the end is left
 * unless final (or longer than any character). Returns the bytes used.
 */
static size_t
iconv_put(struct charset_conv *cv, const unsigned char *s, size_t n,
    int final, struct buf *out)
{
	char obuf[4096], *in = (char *)(uintptr_t)s, *op;
	size_t inleft = n, oleft, r;

	while (inleft > 0) {
		op = obuf;
		oleft = sizeof(obuf);
		errno = 0;
		r = iconv(cv->cd, &in, &inleft, &op, &oleft);
		utf8_put(cv, (unsigned char *)obuf, (size_t)(op - obuf), 1,
		    out);
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (errno == EINVAL && !final && inleft <= CARRY_MAX)
			break;
		/* EILSEQ, or cut off for good: one U+FFFD, and on */
		put(cv, REPLACEMENT, 3, out);
		in++;
		inleft--;
		iconv(cv->cd, NULL, NULL, NULL, NULL);
	}
	return n - inleft;
}

static size_t
conv_some(struct charset_conv *cv, const unsigned char *s, size_t n,
    int final, struct buf *out)
{
	if (cv->cd == (iconv_t)-1)
		return utf8_put(cv, s, n, final, out);
	return iconv_put(cv, s, n, final, out);
}

/* Finish the held-back character with the first bytes of s; returns how
 * many bytes of s that took (all of them if it is still not complete). */
static size_t
finish_carry(struct charset_conv *cv, const unsigned char *s, size_t n,
    int last, struct buf *out)
{
	unsigned char tmp[2 * CARRY_MAX];
	size_t k = n < CARRY_MAX ? n : CARRY_MAX, used;

	memcpy(tmp, cv->carry, cv->ncarry);
	memcpy(tmp + cv->ncarry, s, k);
	used = conv_some(cv, tmp, cv->ncarry + k, last && k == n, out);
	if (used >= cv->ncarry) {
		used -= cv->ncarry;
		cv->ncarry = 0;
		return used;
	}
	/* still cut off, so all of s is in tmp (see CARRY_MAX) */
	assert(k == n && cv->ncarry + k - used <= CARRY_MAX);
	cv->ncarry += k - used;
	memmove(cv->carry, tmp + used, cv->ncarry);
	return k;
}

int
charset_conv_feed(struct charset_conv *cv, const void *src, size_t n,
    int last, struct buf *out)
{
	const unsigned char *s = src;
	char obuf[64], *op = obuf;
	size_t used, oleft = sizeof(obuf);

	cv->failed = 0;
	if (cv->ncarry > 0) {
		used = finish_carry(cv, s, n, last, out);
		s += used;
		n -= used;
	}
	if (cv->ncarry == 0 && (n > 0 || last)) {
		used = conv_some(cv, s, n, last, out);
		assert(n - used <= CARRY_MAX);
		memcpy(cv->carry, s + used, n - used);
		cv->ncarry = n - used;
	}
	if (last && cv->cd != (iconv_t)-1) {
		/* end a stateful charset's shift state, and reset it */
		iconv(cv->cd, NULL, NULL, &op, &oleft);
		utf8_put(cv, (unsigned char *)obuf, (size_t)(op - obuf), 1,
		    out);
	}
	return cv->failed ? -1 : 0;
}

struct charset_conv *
charset_conv_new(const char *charset)
{
	struct charset_conv *cv = xmalloc(sizeof(*cv));

	conv_init(cv, charset);
	return cv;
}

void
charset_conv_free(struct charset_conv **cv)
{
	if (*cv == NULL)
		return;
	conv_done(*cv);
	free(*cv);
	*cv = NULL;
}

int
charset_to_utf8(const char *charset, const void *src, size_t n,
    struct buf *out)
{
	struct charset_conv cv;
	int rc;

	conv_init(&cv, charset);
	rc = charset_conv_feed(&cv, src, n, 1, out);
	conv_done(&cv);
	return rc;
}
