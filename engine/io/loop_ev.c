/* loop_ev.c: the node's event loop over libev (the only file that includes <ev.h>).
 *
 * The loop is made with ev_loop_new(EVFLAG_AUTO), which picks epoll here; libev's own
 * io_uring backend is never asked for (engineering-notes.md §1.3). Three internal
 * watchers run on every loop:
 *   - an ev_prepare that refreshes the cached clock and runs the before-block hooks;
 *   - an ev_check at EV_MAXPRI that refreshes the cached clock right after the loop wakes,
 *     before any other callback of that iteration;
 *   - an ev_async that hw_loop_stop() sends, so stopping works from any thread and from a
 *     signal handler.
 * ev_now() follows the wall clock (ev_time) and may jump; hw_loop_now_ms() therefore
 * reads hw_mono_ms() (CLOCK_BOOTTIME, base/clock.h) once per iteration instead. libev's
 * timers themselves run on CLOCK_MONOTONIC, so they are not disturbed by wall-clock
 * steps either; after a suspend they fire late, and what they check reads the loop's
 * time, which counted it.
 *
 * Signals: libev delivers signals only to its default loop, and ev_default_loop() also
 * installs a SIGCHLD watcher that reaps every child of the process (which would steal
 * the exit status of children that other code waits for). So each loop handles signals
 * itself: a sigaction handler looks up the owning loop in a process-wide table and calls
 * ev_async_send() (async-signal safe), and the async callback runs the user's callback on
 * the loop thread. Unlike signalfd this does not depend on every thread's signal mask. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "base/assert.h"
#include "base/clock.h"
#include "engine/io/loop.h"
#include "hawser_error.h"

struct hook {
	hw_hook_cb *cb; /* NULL: free slot */
	void *arg;
};

struct sig_slot {
	ev_async w;
	struct hw_loop *l;
	int signum; /* 0: free slot */
	hw_hook_cb *cb;
	void *arg;
	struct sigaction old;
};

struct hw_loop {
	struct ev_loop *ev;
	ev_prepare prepare;
	ev_check check;
	ev_async stop;
	pthread_t thread; /* the one running hw_loop_run(), valid while running */
	atomic_bool running;
	int64_t now_ms;
	struct hook hooks[HW_LOOP_HOOKS_MAX];
	struct sig_slot sigs[HW_LOOP_SIGNALS_MAX];
};

struct hw_timer {
	ev_timer w;
	struct hw_loop *l;
	hw_timer_cb *cb;
	void *arg;
	double repeat_s;
};

struct hw_async {
	ev_async w;
	struct hw_loop *l;
	hw_async_cb *cb;
	void *arg;
};

struct hw_fdwatch {
	ev_io w;
	struct hw_loop *l;
	hw_fd_cb *cb;
	void *arg;
};

/* Which loop's slot handles each signal; read by the signal handler, hence atomic. */
#define SIG_TABLE_SIZE 65
static _Atomic(struct sig_slot *) sig_owner[SIG_TABLE_SIZE];

static double ms_to_s(int64_t ms)
{
	return ms <= 0 ? 0.0 : (double)ms / 1000.0;
}

static void prepare_cb(struct ev_loop *ev, ev_prepare *w, int revents)
{
	(void)ev;
	(void)revents;
	struct hw_loop *l = w->data;
	l->now_ms = hw_mono_ms();
	/* A hook may cancel itself or another: the slot is cleared, never moved. */
	for (int i = 0; i < HW_LOOP_HOOKS_MAX; i++) {
		if (l->hooks[i].cb)
			l->hooks[i].cb(l->hooks[i].arg);
	}
}

static void check_cb(struct ev_loop *ev, ev_check *w, int revents)
{
	(void)ev;
	(void)revents;
	struct hw_loop *l = w->data;
	l->now_ms = hw_mono_ms();
}

static void stop_cb(struct ev_loop *ev, ev_async *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(ev, EVBREAK_ALL);
}

int hw_loop_new(struct hw_loop **out)
{
	struct hw_loop *l = calloc(1, sizeof *l);
	if (!l)
		return HW_ENOMEM;
	l->ev = ev_loop_new(EVFLAG_AUTO);
	if (!l->ev) {
		free(l);
		return HW_ENOMEM;
	}
	ev_prepare_init(&l->prepare, prepare_cb);
	l->prepare.data = l;
	ev_prepare_start(l->ev, &l->prepare);
	ev_check_init(&l->check, check_cb);
	l->check.data = l;
	ev_set_priority(&l->check, EV_MAXPRI);
	ev_check_start(l->ev, &l->check);
	ev_async_init(&l->stop, stop_cb);
	l->stop.data = l;
	ev_async_start(l->ev, &l->stop);
	l->now_ms = hw_mono_ms();
	*out = l;
	return 0;
}

static void signal_release(struct sig_slot *s)
{
	/* Restore the old disposition first so no new handler call can find the slot. */
	sigaction(s->signum, &s->old, NULL);
	struct sig_slot *expect = s;
	atomic_compare_exchange_strong(&sig_owner[s->signum], &expect, NULL);
	ev_async_stop(s->l->ev, &s->w);
	s->signum = 0;
}

void hw_loop_free(struct hw_loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < HW_LOOP_SIGNALS_MAX; i++) {
		if (l->sigs[i].signum)
			signal_release(&l->sigs[i]);
	}
	ev_prepare_stop(l->ev, &l->prepare);
	ev_check_stop(l->ev, &l->check);
	ev_async_stop(l->ev, &l->stop);
	ev_loop_destroy(l->ev);
	free(l);
}

int hw_loop_run(struct hw_loop *l)
{
	l->now_ms = hw_mono_ms();
	l->thread = pthread_self();
	atomic_store(&l->running, true);
	ev_run(l->ev, 0);
	atomic_store(&l->running, false);
	return 0;
}

void hw_loop_stop(struct hw_loop *l)
{
	/* On the loop thread, break at once so no callback of the next iteration runs;
	 * elsewhere the ev_async wakes the loop, which breaks as soon as it sees it. */
	if (atomic_load(&l->running) && pthread_equal(pthread_self(), l->thread))
		ev_break(l->ev, EVBREAK_ALL);
	else
		ev_async_send(l->ev, &l->stop);
}

int64_t hw_loop_now_ms(struct hw_loop *l)
{
	return l->now_ms;
}

void hw_loop_now_update(struct hw_loop *l)
{
	ev_now_update(l->ev); /* libev's own, which timers are armed from */
	l->now_ms = hw_mono_ms();
}

/* ---- timers */

static void timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	(void)ev;
	(void)revents;
	struct hw_timer *t = w->data;
	t->cb(t, t->arg);
}

int hw_timer_new(struct hw_loop *l, int64_t after_ms, int64_t repeat_ms, hw_timer_cb *cb, void *arg,
		 struct hw_timer **out)
{
	HW_ASSERT(cb != NULL);
	struct hw_timer *t = calloc(1, sizeof *t);
	if (!t)
		return HW_ENOMEM;
	t->l = l;
	t->cb = cb;
	t->arg = arg;
	t->repeat_s = ms_to_s(repeat_ms);
	ev_timer_init(&t->w, timer_cb, ms_to_s(after_ms), t->repeat_s);
	t->w.data = t;
	ev_timer_start(l->ev, &t->w);
	*out = t;
	return 0;
}

void hw_timer_again(struct hw_timer *t, int64_t after_ms)
{
	ev_timer_stop(t->l->ev, &t->w);
	ev_timer_set(&t->w, ms_to_s(after_ms), t->repeat_s);
	ev_timer_start(t->l->ev, &t->w);
}

void hw_timer_free(struct hw_timer *t)
{
	if (!t)
		return;
	ev_timer_stop(t->l->ev, &t->w);
	free(t);
}

/* ---- cross-thread wake-ups */

static void async_cb(struct ev_loop *ev, ev_async *w, int revents)
{
	(void)ev;
	(void)revents;
	struct hw_async *a = w->data;
	a->cb(a, a->arg);
}

int hw_async_new(struct hw_loop *l, hw_async_cb *cb, void *arg, struct hw_async **out)
{
	HW_ASSERT(cb != NULL);
	struct hw_async *a = calloc(1, sizeof *a);
	if (!a)
		return HW_ENOMEM;
	a->l = l;
	a->cb = cb;
	a->arg = arg;
	ev_async_init(&a->w, async_cb);
	a->w.data = a;
	ev_async_start(l->ev, &a->w);
	*out = a;
	return 0;
}

void hw_async_send(struct hw_async *a)
{
	ev_async_send(a->l->ev, &a->w);
}

void hw_async_free(struct hw_async *a)
{
	if (!a)
		return;
	ev_async_stop(a->l->ev, &a->w);
	free(a);
}

/* ---- fd readiness */

static void io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	(void)ev;
	(void)revents;
	struct hw_fdwatch *fw = w->data;
	fw->cb(fw, fw->arg);
}

int hw_fdwatch_new(struct hw_loop *l, int fd, hw_fd_cb *cb, void *arg, struct hw_fdwatch **out)
{
	HW_ASSERT(cb != NULL && fd >= 0);
	struct hw_fdwatch *fw = calloc(1, sizeof *fw);
	if (!fw)
		return HW_ENOMEM;
	fw->l = l;
	fw->cb = cb;
	fw->arg = arg;
	ev_io_init(&fw->w, io_cb, fd, EV_READ);
	fw->w.data = fw;
	ev_io_start(l->ev, &fw->w);
	*out = fw;
	return 0;
}

void hw_fdwatch_free(struct hw_fdwatch *w)
{
	if (!w)
		return;
	ev_io_stop(w->l->ev, &w->w);
	free(w);
}

/* ---- before-block hooks */

int hw_loop_before_block(struct hw_loop *l, hw_hook_cb *cb, void *arg)
{
	HW_ASSERT(cb != NULL);
	for (int i = 0; i < HW_LOOP_HOOKS_MAX; i++) {
		if (!l->hooks[i].cb) {
			l->hooks[i].cb = cb;
			l->hooks[i].arg = arg;
			return 0;
		}
	}
	return HW_EBUSY;
}

void hw_loop_before_block_cancel(struct hw_loop *l, hw_hook_cb *cb, void *arg)
{
	for (int i = 0; l != NULL && i < HW_LOOP_HOOKS_MAX; i++) {
		if (l->hooks[i].cb == cb && l->hooks[i].arg == arg) {
			l->hooks[i].cb = NULL;
			l->hooks[i].arg = NULL;
			return;
		}
	}
}

/* ---- signals */

static void signal_handler(int signum)
{
	int saved = errno;
	if (signum > 0 && signum < SIG_TABLE_SIZE) {
		struct sig_slot *s = atomic_load(&sig_owner[signum]);
		if (s)
			ev_async_send(s->l->ev, &s->w);
	}
	errno = saved;
}

static void signal_async_cb(struct ev_loop *ev, ev_async *w, int revents)
{
	(void)ev;
	(void)revents;
	struct sig_slot *s = w->data;
	s->cb(s->arg);
}

int hw_loop_on_signal(struct hw_loop *l, int signum, hw_hook_cb *cb, void *arg)
{
	HW_ASSERT(cb != NULL);
	if (signum <= 0 || signum >= SIG_TABLE_SIZE || signum == SIGKILL || signum == SIGSTOP)
		return -EINVAL;
	struct sig_slot *s = NULL;
	for (int i = 0; i < HW_LOOP_SIGNALS_MAX && !s; i++) {
		if (!l->sigs[i].signum)
			s = &l->sigs[i];
	}
	if (!s)
		return HW_EBUSY;
	struct sig_slot *expect = NULL;
	if (!atomic_compare_exchange_strong(&sig_owner[signum], &expect, s))
		return HW_EBUSY;
	s->l = l;
	s->signum = signum;
	s->cb = cb;
	s->arg = arg;
	ev_async_init(&s->w, signal_async_cb);
	s->w.data = s;
	ev_async_start(l->ev, &s->w);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = signal_handler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(signum, &sa, &s->old) != 0) {
		int err = -errno;
		ev_async_stop(l->ev, &s->w);
		atomic_store(&sig_owner[signum], NULL);
		s->signum = 0;
		return err;
	}
	return 0;
}
