/* loop.h: a node's event loop (the only module that touches libev, loop_ev.c).
 *
 * One loop per node, on one thread: timers, wake-ups from other threads (the writer),
 * readiness of a few file descriptors (the io_uring eventfd), a hook that runs once per
 * iteration just before the loop blocks (where the ring submits its queued SQEs), and
 * signals. Time is hw_mono_ms() (base/clock.h), cached per iteration as libev does.
 * Every object here is made at set-up (they allocate) and used on the loop thread only,
 * except hw_async_send() and hw_loop_stop(), which any thread may call. */
#ifndef HW_IO_LOOP_H
#define HW_IO_LOOP_H

#include <stdint.h>

struct hw_loop;
struct hw_timer;
struct hw_async;
struct hw_fdwatch;

typedef void hw_timer_cb(struct hw_timer *t, void *arg);
typedef void hw_async_cb(struct hw_async *a, void *arg);
typedef void hw_fd_cb(struct hw_fdwatch *w, void *arg);
typedef void hw_hook_cb(void *arg);

/* New loop (libev's default epoll backend, never EVBACKEND_IOURING). HW_ENOMEM. */
int hw_loop_new(struct hw_loop **out);

/* Free the loop. Every timer, async and watch made on it must be freed first. */
void hw_loop_free(struct hw_loop *l);

/* Run until hw_loop_stop(). Returns 0. */
int hw_loop_run(struct hw_loop *l);

/* Make hw_loop_run() return after the current iteration. Any thread, and async-signal
 * safe. */
void hw_loop_stop(struct hw_loop *l);

/* Monotonic time of this loop iteration, in ms. */
int64_t hw_loop_now_ms(struct hw_loop *l);

/* After work that held the loop thread for long (a rejoin's rewind): the iteration's
 * time made current again, so that what is stamped or armed next (a connection's start,
 * a timer) counts from now, not from before that work. Loop thread only. */
void hw_loop_now_update(struct hw_loop *l);

/* Timer firing after after_ms, then every repeat_ms (0: once). Starts at once. */
int hw_timer_new(struct hw_loop *l, int64_t after_ms, int64_t repeat_ms, hw_timer_cb *cb, void *arg,
		 struct hw_timer **out);
/* Re-arm to fire after after_ms (then repeat as set). */
void hw_timer_again(struct hw_timer *t, int64_t after_ms);
void hw_timer_free(struct hw_timer *t);

/* A wake-up another thread can send; several sends before the callback runs coalesce
 * into one call (ev_async). */
int hw_async_new(struct hw_loop *l, hw_async_cb *cb, void *arg, struct hw_async **out);
void hw_async_send(struct hw_async *a);
void hw_async_free(struct hw_async *a);

/* Call cb when fd is readable. */
int hw_fdwatch_new(struct hw_loop *l, int fd, hw_fd_cb *cb, void *arg, struct hw_fdwatch **out);
void hw_fdwatch_free(struct hw_fdwatch *w);

/* Call cb once per loop iteration, just before the loop blocks (ev_prepare). At most
 * HW_LOOP_HOOKS_MAX hooks. */
#define HW_LOOP_HOOKS_MAX 4
int hw_loop_before_block(struct hw_loop *l, hw_hook_cb *cb, void *arg);
/* Remove the hook registered with the same cb and arg (a no-op when there is none, or no
 * loop), so its owner (the ring) can be freed before the loop. Safe from inside a hook. */
void hw_loop_before_block_cancel(struct hw_loop *l, hw_hook_cb *cb, void *arg);

/* Call cb on the loop thread when signum arrives (SIGINT, SIGTERM ...), whichever thread
 * the kernel delivers it to. libev handles signals only on its default loop, which would
 * also install a SIGCHLD reaper; so this installs a sigaction handler that wakes the
 * loop through an ev_async instead. One loop owns a given signal at a time (HW_EBUSY
 * otherwise); hw_loop_free() restores the previous disposition. At most
 * HW_LOOP_SIGNALS_MAX signals per loop. Set up before other threads start. */
#define HW_LOOP_SIGNALS_MAX 4
int hw_loop_on_signal(struct hw_loop *l, int signum, hw_hook_cb *cb, void *arg);

#endif
