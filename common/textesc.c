#include <stdio.h>
#include <string.h>

#include "textesc.h"

size_t
textesc_utf8_len(const unsigned char *p, size_t n)
{
	size_t	 len, i;
	unsigned int cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode, and C1 controls. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

char *
textesc(char *dst, size_t n, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t	 o = 0, left = strlen(src), k;

	if (n == 0)
		return dst;
	while (left > 0) {
		if (*s >= 0x20 && *s < 0x7f)
			k = 1;
		else
			k = *s >= 0x80 ? textesc_utf8_len(s, left) : 0;
		if (k > 0) {
			if (o + k + 1 > n)
				break;
			memcpy(dst + o, s, k);
		} else {
			if (o + 5 > n)
				break;
			snprintf(dst + o, 5, "\\x%02x", *s);
			k = 1;
			o += 3;		/* and 1 below */
		}
		o += k;
		s += k;
		left -= k;
	}
	dst[o] = '\0';
	return dst;
}
