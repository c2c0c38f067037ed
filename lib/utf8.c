/*
 * utf8: one strict UTF-8 decoder for the whole program (see utf8.h).
 */
#include "lib/utf8.h"

size_t
utf8_lead_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	size_t len = utf8_lead_len(s[0]), i;
	uint32_t c;

	*cp = s[0];
	if (len == 0 || len > n)
		return 0;
	c = s[0] & mask[len];
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}
