/* iso6346.c: ISO 6346 check digit (replica/iso6346.h). */
#include "replica/iso6346.h"

int hw_iso6346_char_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c < 'A' || c > 'Z')
		return -1;
	/* A=10, then count upward skipping 11, 22 and 33. */
	int v = 10 + (c - 'A');
	v += (v >= 11) + (v >= 21) + (v >= 31);
	return v;
}

int hw_iso6346_check_digit(const char *id)
{
	unsigned sum = 0;
	for (int i = 0; i < 10; i++) {
		int v = hw_iso6346_char_value(id[i]);
		if (v < 0)
			return -1;
		sum += (unsigned)v << i;
	}
	return (int)(sum % 11u % 10u);
}
