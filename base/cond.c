/* cond.c: condition variables waited on to a hw_mono_ns() deadline (base/cond.h). */
#include "base/cond.h"

#include <errno.h>
#include <time.h>

#include "base/assert.h"
#include "base/clock.h"

void hw_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	HW_ASSERT(pthread_condattr_init(&ca) == 0);
	HW_ASSERT(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0);
	HW_ASSERT(pthread_cond_init(cv, &ca) == 0);
	pthread_condattr_destroy(&ca);
}

int hw_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t due_ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t left = due_ns - (int64_t)hw_mono_ns();
	int64_t at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (left > 0 ? left : 0);
	ts = (struct timespec){.tv_sec = at / 1000000000, .tv_nsec = at % 1000000000};
	return pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT ? -ETIMEDOUT : 0;
}
