/*
 * base64: encoder, strict decoder and lenient incremental decoder.
 *
 * One table maps each byte to its 6-bit value or to -1; the strict
 * decoder checks length and padding, the lenient one skips whatever is
 * not in the alphabet, as mail clients do with broken attachments.
 */
#include "lib/base64.h"

#include <string.h>

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
base64_encode(const void *src, size_t n, struct buf *out)
{
	const unsigned char *s = src;
	char q[4];
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		q[0] = b64chars[s[i] >> 2];
		q[1] = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = b64chars[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		q[3] = b64chars[s[i + 2] & 63];
		if (buf_add(out, q, 4) < 0)
			return -1;
	}
	if (n - i == 1) {
		q[0] = b64chars[s[i] >> 2];
		q[1] = b64chars[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		return buf_add(out, q, 4);
	}
	if (n - i == 2) {
		q[0] = b64chars[s[i] >> 2];
		q[1] = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = b64chars[(s[i + 1] & 15) << 2];
		q[3] = '=';
		return buf_add(out, q, 4);
	}
	return 0;
}

int
base64_decode(const char *src, size_t n, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)src;
	unsigned char o[3];
	size_t i, npad = 0;
	int v[4], k;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		for (k = 0; k < 4; k++) {
			v[k] = b64val(s[i + k]);
			if (v[k] >= 0)
				continue;
			/* '=' only at the end: "xx==" or "xxx=" */
			if (s[i + k] != '=' || i + 4 != n || k < 2)
				return -1;
			if (k == 2 && s[i + 3] != '=')
				return -1;
			npad = 4 - (size_t)k;
			break;
		}
		if (npad > 0) {
			/* the unused bits must be zero */
			if ((npad == 2 && (v[1] & 15)) || (npad == 1 && (v[2] & 3)))
				return -1;
			v[2] = npad == 2 ? 0 : v[2];
			v[3] = 0;
		}
		o[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		o[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		o[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
		if (buf_add(out, o, 3 - npad) < 0)
			return -1;
	}
	return 0;
}

void
base64_dec_init(struct base64_dec *d)
{
	memset(d, 0, sizeof(*d));
}

int
base64_dec_feed(struct base64_dec *d, const void *src, size_t n,
    struct buf *out)
{
	const unsigned char *s = src;
	size_t i;
	int v;

	for (i = 0; i < n && !d->done; i++) {
		if (s[i] == '=') {
			d->done = 1;
			break;
		}
		if ((v = b64val(s[i])) < 0)
			continue;
		d->acc = (d->acc << 6 | (unsigned int)v) & 0xffffff;
		d->nbits += 6;
		if (d->nbits >= 8) {
			d->nbits -= 8;
			if (buf_addc(out, (char)((d->acc >> d->nbits) & 0xff)) < 0)
				return -1;
		}
	}
	return 0;
}
