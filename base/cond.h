/* cond.h: a condition variable whose timed waits end at a deadline on hw_mono_ns()'s
 * clock (base/clock.h). pthread_cond_timedwait() cannot wait on CLOCK_BOOTTIME, so the
 * variable runs on CLOCK_MONOTONIC and each wait is for the time left from hw_mono_ns()'s
 * now: one the host spends suspended in ends that much late, and its caller, which looks
 * at hw_mono_ns() again, then finds its deadline passed. Any thread. */
#ifndef HW_BASE_COND_H
#define HW_BASE_COND_H

#include <pthread.h>
#include <stdint.h>

/* Initialize *cv (no attributes but the clock) for hw_cond_wait_until(); plain
 * pthread_cond_wait(), signals and broadcasts work on it as on any other. Destroyed with
 * pthread_cond_destroy(). */
void hw_cond_init(pthread_cond_t *cv);

/* Wait on cv, with mu held (as pthread_cond_timedwait), until it is signalled or
 * hw_mono_ns() reaches due_ns (one already past returns at once). 0 when woken, by a
 * signal, a broadcast or spuriously (the caller looks at what it waits for), or
 * -ETIMEDOUT when due_ns came. */
int hw_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t due_ns);

#endif
