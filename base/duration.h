/* duration.h: the one parser of durations people write ("500ms", "30s", "1.5s", "5m",
 * "12h", "7d", "0"): in config files ([failover] rto and rpo, [drills] schedules,
 * apply_delay) and on command lines (--rto, --wait, --restore-rto ...). Pure; any thread. */
#ifndef HW_BASE_DURATION_H
#define HW_BASE_DURATION_H

#include <stdint.h>

/* Parse s into milliseconds: a number with a unit (ms, s, m or min, h, d), a fraction
 * allowed when it comes out as whole milliseconds ("1.5s", not "1.5ms"; at most six
 * digits after the point), or a bare "0". A number other than 0 without a unit is
 * refused (seconds or milliseconds?), as are a sign, spaces and an overflow. Returns 0
 * with *ms set, or -1 with *ms unchanged. The caller bounds the range it accepts. */
int hw_duration_parse(const char *s, int64_t *ms);

#endif
