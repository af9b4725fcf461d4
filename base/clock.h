/* clock.h: the process's clocks, one definition for the whole tree. Wall time
 * (CLOCK_REALTIME) stamps what people read and what is compared across processes:
 * record times, acks, history rows, log lines. Monotonic time measures durations and
 * deadlines, unmoved when the wall clock is stepped. It is CLOCK_BOOTTIME, which goes on
 * while the machine is suspended (CLOCK_MONOTONIC stops): a primary whose host slept
 * past its lease must find the lease over when it wakes, as its voters did. engine/core/
 * uses neither: its callers pass the time in (the core_purity test). Any thread. */
#ifndef HW_BASE_CLOCK_H
#define HW_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds since 1970 (UTC). */
int64_t hw_wall_ms(void);

/* The monotonic clock in milliseconds, in seconds (for measuring) and in nanoseconds.
 * Only differences between two readings mean anything. */
int64_t hw_mono_ms(void);
double hw_mono_s(void);
uint64_t hw_mono_ns(void);

/* Sleep ms milliseconds (fractions allowed; ms <= 0 returns at once). Returns 0, or
 * -EINTR when a signal cut the sleep short: a caller that waits for a signal looks then,
 * a polling loop just polls again. */
int hw_sleep_ms(double ms);

#endif
