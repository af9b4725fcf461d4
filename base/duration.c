/* duration.c: durations people write (base/duration.h). */
#include "base/duration.h"

#include <stddef.h>
#include <string.h>

/* Milliseconds per unit; "m" is minutes (months are no duration anyone means here). */
static int64_t unit_ms(const char *u)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {{"ms", 1},      {"s", 1000},    {"m", 60000},
		     {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(u, units[i].name))
			return units[i].ms;
	return 0;
}

int hw_duration_parse(const char *s, int64_t *ms)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	int64_t whole = 0, frac = 0, frac_scale = 1;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > INT64_MAX / 10 - 9)
			return -1;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		/* six digits are finer than any unit needs; more are refused, not cut */
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (frac_scale == 1000000)
				return -1;
			frac = frac * 10 + (*p - '0');
			frac_scale *= 10;
		}
		if (frac_scale == 1)
			return -1; /* "5.s" */
	}
	if (*p == '\0') {
		if (whole != 0 || frac != 0)
			return -1;
		*ms = 0;
		return 0;
	}
	int64_t unit = unit_ms(p);
	if (unit == 0 || whole > INT64_MAX / unit - 1 || (frac * unit) % frac_scale != 0)
		return -1;
	*ms = whole * unit + frac * unit / frac_scale;
	return 0;
}
