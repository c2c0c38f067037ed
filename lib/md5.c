/*
 * md5: MD5 written from RFC 1321 section 3, HMAC from RFC 2104. See
 * md5.h for why it exists and what it may be used for.
 *
 * The block function is the four rounds of sixteen steps with the sine
 * table T[i] = floor(2^32 * |sin(i + 1)|) and the per-round rotations;
 * words are little-endian.
 */
#include "lib/md5.h"

#include <string.h>

static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
	0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
	0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
	0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
	0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
	0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
	0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
	0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
	0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Left rotations, four per round. */
static const unsigned char md5_s[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 },
	{ 6, 10, 15, 21 },
};

static uint32_t
rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void
md5_block(struct md5_ctx *m, const unsigned char *p)
{
	uint32_t x[16], a, b, c, d, f, tmp;
	unsigned i, k, round;

	for (i = 0; i < 16; i++)
		x[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	a = m->h[0];
	b = m->h[1];
	c = m->h[2];
	d = m->h[3];
	for (i = 0; i < 64; i++) {
		round = i / 16;
		switch (round) {
		case 0:
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			k = (1 + 5 * i) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			k = (5 + 3 * i) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
			break;
		}
		tmp = d;
		d = c;
		c = b;
		b = b + rotl(a + f + x[k] + md5_t[i], md5_s[round][i % 4]);
		a = tmp;
	}
	m->h[0] += a;
	m->h[1] += b;
	m->h[2] += c;
	m->h[3] += d;
	memset(x, 0, sizeof(x));
}

void
md5_init(struct md5_ctx *m)
{
	memset(m, 0, sizeof(*m));
	m->h[0] = 0x67452301;
	m->h[1] = 0xefcdab89;
	m->h[2] = 0x98badcfe;
	m->h[3] = 0x10325476;
}

void
md5_update(struct md5_ctx *m, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t take;

	m->len += n;
	if (m->nbuf > 0) {
		take = 64 - m->nbuf < n ? 64 - m->nbuf : n;
		memcpy(m->buf + m->nbuf, p, take);
		m->nbuf += take;
		p += take;
		n -= take;
		if (m->nbuf < 64)
			return;
		md5_block(m, m->buf);
		m->nbuf = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		md5_block(m, p);
	if (n > 0) {
		memcpy(m->buf, p, n);
		m->nbuf = n;
	}
}

void
md5_final(struct md5_ctx *m, unsigned char out[MD5_DIGEST_LEN])
{
	static const unsigned char pad[64] = { 0x80 };
	unsigned char lenb[8];
	uint64_t bits = m->len * 8;
	unsigned i;

	for (i = 0; i < 8; i++)
		lenb[i] = (unsigned char)(bits >> (8 * i));
	/* Pad to 56 bytes mod 64, then the length: RFC 1321 3.1, 3.2. */
	md5_update(m, pad, m->nbuf < 56 ? 56 - m->nbuf : 120 - m->nbuf);
	md5_update(m, lenb, 8);
	for (i = 0; i < MD5_DIGEST_LEN; i++)
		out[i] = (unsigned char)(m->h[i / 4] >> (8 * (i % 4)));
	memset(m, 0, sizeof(*m));
}

void
md5_digest(const void *data, size_t n, unsigned char out[MD5_DIGEST_LEN])
{
	struct md5_ctx m;

	md5_init(&m);
	md5_update(&m, data, n);
	md5_final(&m, out);
}

void
md5_hmac(const void *key, size_t keylen, const void *msg, size_t msglen,
    unsigned char out[MD5_DIGEST_LEN])
{
	unsigned char k[64], pad[64], inner[MD5_DIGEST_LEN];
	struct md5_ctx m;
	size_t i;

	memset(k, 0, sizeof(k));
	if (keylen > sizeof(k))
		md5_digest(key, keylen, k);
	else if (keylen > 0)
		memcpy(k, key, keylen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	md5_init(&m);
	md5_update(&m, pad, sizeof(pad));
	md5_update(&m, msg, msglen);
	md5_final(&m, inner);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	md5_init(&m);
	md5_update(&m, pad, sizeof(pad));
	md5_update(&m, inner, sizeof(inner));
	md5_final(&m, out);
	/* Keep the wipes: the key is a password. */
	memset(k, 0, sizeof(k));
	memset(pad, 0, sizeof(pad));
	memset(inner, 0, sizeof(inner));
	__asm__ __volatile__("" : : "r"(k), "r"(pad), "r"(inner) : "memory");
}

void
md5_hex(const unsigned char digest[MD5_DIGEST_LEN], char out[MD5_HEX_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < MD5_DIGEST_LEN; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[32] = '\0';
}
