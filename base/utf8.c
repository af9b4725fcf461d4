/* utf8.c: UTF-8 text (utf8.h). */
#include "base/utf8.h"

#include <string.h>

size_t hw_utf8_decode(const unsigned char *p, unsigned long *cp_out)
{
	unsigned c = p[0];
	unsigned long cp;
	size_t n;
	if (c < 0x80) {
		*cp_out = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		cp = c & 0x1Fu;
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		cp = c & 0x0Fu;
		n = 3;
	} else if (c >= 0xF0 && c <= 0xF4) {
		cp = c & 0x07u;
		n = 4;
	} else {
		return 0; /* continuation byte, C0/C1 (always overlong) or F5..FF */
	}
	for (size_t k = 1; k < n; k++) {
		if ((p[k] & 0xC0u) != 0x80u)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3Fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0;
	*cp_out = cp;
	return n;
}

/* The bytes a sequence led by c takes (0: c leads none). */
static size_t lead_len(unsigned char c)
{
	return c >= 0xC2 && c <= 0xDF   ? 2
	       : c >= 0xE0 && c <= 0xEF ? 3
	       : c >= 0xF0 && c <= 0xF4 ? 4
					: 0;
}

void hw_utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, back = 0;
	/* at most 3 continuation bytes end a sequence cut short: its lead is before them */
	while (i > 0 && back < 4 && ((unsigned char)s[i - 1] & 0xC0u) == 0x80u) {
		i--;
		back++;
	}
	if (i == 0 || back >= 4)
		return;
	size_t need = lead_len((unsigned char)s[i - 1]);
	if (need > back + 1)
		s[i - 1] = '\0';
}
