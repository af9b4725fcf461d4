/* clock.c: the process's clocks (clock.h). */
#include "base/clock.h"

#include <errno.h>
#include <time.h>

int64_t hw_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t hw_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t hw_mono_ms(void)
{
	return (int64_t)(hw_mono_ns() / 1000000u);
}

double hw_mono_s(void)
{
	return (double)hw_mono_ns() / 1e9;
}

int hw_sleep_ms(double ms)
{
	if (!(ms > 0))
		return 0;
	time_t s = (time_t)(ms / 1000);
	struct timespec ts = {s, (long)((ms - (double)s * 1000) * 1e6)};
	return nanosleep(&ts, NULL) == 0 ? 0 : -errno;
}
