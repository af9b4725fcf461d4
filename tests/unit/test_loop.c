/* test_loop.c: the libev event loop: timers, hw_timer_again, cross-thread wake-ups,
 * before-block hooks, stopping from another thread, fd readiness and signals. No test
 * sleeps: each runs the loop itself, with a safety timer that fails the test if the
 * awaited event never comes. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "engine/io/loop.h"
#include "hawser_error.h"

#define SAFETY_MS 5000

struct fx {
	struct hw_loop *loop;
	struct hw_timer *safety;
	int order[8];
	int norder;
	int count;
	int hook_count;
	int64_t t0;
	struct hw_timer *t;
	struct hw_async *a;
	pthread_t thread;
	int pipe[2];
};

static void safety_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	fail_msg("safety timer fired: the awaited event never came");
}

static int setup(void **state)
{
	static struct fx fx;
	memset(&fx, 0, sizeof fx);
	fx.pipe[0] = fx.pipe[1] = -1;
	if (hw_loop_new(&fx.loop) != 0)
		return -1;
	if (hw_timer_new(fx.loop, SAFETY_MS, 0, safety_cb, &fx, &fx.safety) != 0)
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	hw_timer_free(fx->safety);
	hw_timer_free(fx->t);
	hw_async_free(fx->a);
	if (fx->pipe[0] >= 0)
		close(fx->pipe[0]);
	if (fx->pipe[1] >= 0)
		close(fx->pipe[1]);
	hw_loop_free(fx->loop);
	return 0;
}

struct order_timer {
	struct fx *fx;
	int id;
	int stop_after;
};

static void order_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct order_timer *ot = arg;
	struct fx *fx = ot->fx;
	fx->order[fx->norder++] = ot->id;
	if (fx->norder == ot->stop_after)
		hw_loop_stop(fx->loop);
}

/* One-shot timers made out of order fire in order of their deadlines, and a repeating
 * timer fires again and again, with the loop clock advancing by at least its period. */
static void test_timers_order_and_repeat(void **state)
{
	struct fx *fx = *state;
	struct order_timer ots[3] = {{fx, 30, 0}, {fx, 10, 0}, {fx, 20, 0}};
	struct hw_timer *ts[3];
	fx->t0 = hw_loop_now_ms(fx->loop);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hw_timer_new(fx->loop, ots[i].id, 0, order_cb, &ots[i], &ts[i]),
				 0);
	struct order_timer rep = {fx, 1, 7};
	struct hw_timer *tr;
	assert_int_equal(hw_timer_new(fx->loop, 40, 5, order_cb, &rep, &tr), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->norder, 7);
	assert_int_equal(fx->order[0], 10);
	assert_int_equal(fx->order[1], 20);
	assert_int_equal(fx->order[2], 30);
	for (int i = 3; i < 7; i++)
		assert_int_equal(fx->order[i], 1);
	/* the repeating timer first fired at 40 ms, then three more times 5 ms apart */
	assert_true(hw_loop_now_ms(fx->loop) - fx->t0 >= 40 + 3 * 5 - 1);
	for (int i = 0; i < 3; i++)
		hw_timer_free(ts[i]);
	hw_timer_free(tr);
}

static void again_target_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct fx *fx = arg;
	fx->order[fx->norder++] = fx->count;
	hw_loop_stop(fx->loop);
}

static void again_pusher_cb(struct hw_timer *t, void *arg)
{
	struct fx *fx = arg;
	if (fx->count < 4) {
		fx->count++;
		hw_timer_again(fx->t, 20); /* push the target out again */
	} else {
		hw_timer_free(t);
	}
}

/* hw_timer_again pushes a pending timer's deadline out: a 20 ms target re-armed every
 * 5 ms four times fires only after the fourth re-arm, and only once. */
static void test_timer_again(void **state)
{
	struct fx *fx = *state;
	struct hw_timer *pusher;
	fx->t0 = hw_loop_now_ms(fx->loop);
	assert_int_equal(hw_timer_new(fx->loop, 20, 0, again_target_cb, fx, &fx->t), 0);
	assert_int_equal(hw_timer_new(fx->loop, 5, 5, again_pusher_cb, fx, &pusher), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->norder, 1);
	assert_int_equal(fx->order[0], 4);
	assert_true(hw_loop_now_ms(fx->loop) - fx->t0 >= 4 * 5 + 20 - 1);
	/* re-arming a timer that already fired (one-shot) makes it fire once more */
	hw_timer_again(fx->t, 1);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->norder, 2);
}

/* What test_now_update saw: the iteration's time around the update, and when the timer
 * armed after it fired (hw_mono_ms). */
struct held {
	struct fx *fx;
	int64_t before, after, updated_mono, fired_mono;
};

static void held_fired_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct held *h = arg;
	h->fired_mono = hw_mono_ms();
	hw_loop_stop(h->fx->loop);
}

/* A callback that holds the loop 50 ms, updates the time, and arms a 100 ms timer. */
static void held_cb(struct hw_timer *t, void *arg)
{
	struct held *h = arg;
	h->before = hw_loop_now_ms(h->fx->loop);
	hw_sleep_ms(50);
	hw_loop_now_update(h->fx->loop);
	h->after = hw_loop_now_ms(h->fx->loop);
	h->updated_mono = hw_mono_ms();
	hw_timer_free(t);
	assert_int_equal(hw_timer_new(h->fx->loop, 100, 0, held_fired_cb, h, &h->fx->t), 0);
}

/* hw_loop_now_update after work that held the loop: the iteration's time moves past
 * that work, and a timer armed after it counts from then (both were from before it: the
 * timer fired about 50 ms early, a stamp read 50 ms old). */
static void test_now_update(void **state)
{
	struct fx *fx = *state;
	struct held h = {.fx = fx};
	struct hw_timer *t;
	assert_int_equal(hw_timer_new(fx->loop, 1, 0, held_cb, &h, &t), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_true(h.after - h.before >= 50);
	assert_true(h.fired_mono - h.updated_mono >= 100 - 1);
}

static void async_count_cb(struct hw_async *a, void *arg)
{
	(void)a;
	struct fx *fx = arg;
	fx->count++;
	hw_loop_stop(fx->loop);
}

static void *send_many_thread(void *arg)
{
	struct fx *fx = arg;
	for (int i = 0; i < 1000; i++)
		hw_async_send(fx->a);
	return NULL;
}

static void *send_one_thread(void *arg)
{
	struct fx *fx = arg;
	hw_async_send(fx->a);
	return NULL;
}

static void start_thread_hook(void *arg)
{
	struct fx *fx = arg;
	if (fx->hook_count++ == 0)
		assert_int_equal(pthread_create(&fx->thread, NULL, send_one_thread, fx), 0);
}

/* A thousand sends from another thread before the loop runs coalesce into one call; a
 * send from another thread while the loop is blocked wakes it. */
static void test_async_wakes_and_coalesces(void **state)
{
	struct fx *fx = *state;
	pthread_t th;
	assert_int_equal(hw_async_new(fx->loop, async_count_cb, fx, &fx->a), 0);
	assert_int_equal(pthread_create(&th, NULL, send_many_thread, fx), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->count, 1);
	/* the thread starts from the hook, just before the loop blocks with nothing due */
	assert_int_equal(hw_loop_before_block(fx->loop, start_thread_hook, fx), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(pthread_join(fx->thread, NULL), 0);
	assert_int_equal(fx->count, 2);
	hw_loop_before_block_cancel(fx->loop, start_thread_hook, fx);
}

static void count_hook(void *arg)
{
	struct fx *fx = arg;
	fx->hook_count++;
}

static void iter_timer_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct fx *fx = arg;
	/* each firing is its own iteration: the hook ran before the loop blocked for it */
	assert_true(fx->hook_count > fx->count);
	if (++fx->count == 5)
		hw_loop_stop(fx->loop);
}

/* The before-block hook runs once per iteration before blocking, at most
 * HW_LOOP_HOOKS_MAX hooks are taken, and a cancelled hook no longer runs. */
static void test_before_block_hook(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(hw_loop_before_block(fx->loop, count_hook, fx), 0);
	assert_int_equal(hw_timer_new(fx->loop, 1, 1, iter_timer_cb, fx, &fx->t), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->count, 5);
	assert_true(fx->hook_count >= 5);
	for (int i = 1; i < HW_LOOP_HOOKS_MAX; i++)
		assert_int_equal(hw_loop_before_block(fx->loop, count_hook, NULL), 0);
	assert_int_equal(hw_loop_before_block(fx->loop, count_hook, NULL), HW_EBUSY);
	for (int i = 1; i < HW_LOOP_HOOKS_MAX; i++)
		hw_loop_before_block_cancel(fx->loop, count_hook, NULL);
	hw_loop_before_block_cancel(fx->loop, count_hook, fx);
	hw_timer_free(fx->t);
	fx->t = NULL;
	int before = fx->hook_count;
	/* a loop iteration still runs (the stop is seen after the prepare phase) */
	hw_loop_stop(fx->loop);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->hook_count, before);
}

static void *stop_thread(void *arg)
{
	struct fx *fx = arg;
	hw_loop_stop(fx->loop);
	return NULL;
}

static void start_stopper_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct fx *fx = arg;
	fx->count++;
	assert_int_equal(pthread_create(&fx->thread, NULL, stop_thread, fx), 0);
}

/* hw_loop_stop from another thread makes a blocked loop return. */
static void test_stop_from_thread(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(hw_timer_new(fx->loop, 1, 0, start_stopper_cb, fx, &fx->t), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(pthread_join(fx->thread, NULL), 0);
	assert_int_equal(fx->count, 1);
}

static void pipe_read_cb(struct hw_fdwatch *w, void *arg)
{
	(void)w;
	struct fx *fx = arg;
	char buf[8];
	ssize_t n = read(fx->pipe[0], buf, sizeof buf);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "abc", 3);
	fx->count++;
	hw_loop_stop(fx->loop);
}

static void pipe_write_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct fx *fx = arg;
	assert_int_equal(write(fx->pipe[1], "abc", 3), 3);
}

/* An fd watch on a pipe fires only once the pipe has bytes, and sees them. */
static void test_fdwatch_pipe(void **state)
{
	struct fx *fx = *state;
	struct hw_fdwatch *w;
	assert_int_equal(pipe(fx->pipe), 0);
	assert_int_equal(hw_fdwatch_new(fx->loop, fx->pipe[0], pipe_read_cb, fx, &w), 0);
	assert_int_equal(hw_timer_new(fx->loop, 5, 0, pipe_write_cb, fx, &fx->t), 0);
	fx->t0 = hw_loop_now_ms(fx->loop);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->count, 1);
	assert_true(hw_loop_now_ms(fx->loop) - fx->t0 >= 4);
	hw_fdwatch_free(w);
}

static void sig_cb(void *arg)
{
	struct fx *fx = arg;
	fx->count++;
	hw_loop_stop(fx->loop);
}

static void raise_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	raise(SIGUSR1);
}

static void *raise_thread(void *arg)
{
	(void)arg;
	kill(getpid(), SIGUSR1);
	return NULL;
}

/* SIGUSR1 raised on the loop thread, then sent to the process from another thread,
 * reaches its callback on the loop; a second loop cannot take the same signal; freeing
 * the loop restores the default disposition. */
static void test_signal(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(hw_loop_on_signal(fx->loop, SIGUSR1, sig_cb, fx), 0);
	struct hw_loop *other;
	assert_int_equal(hw_loop_new(&other), 0);
	assert_int_equal(hw_loop_on_signal(other, SIGUSR1, sig_cb, fx), HW_EBUSY);
	assert_int_equal(hw_loop_on_signal(other, SIGKILL, sig_cb, fx), -EINVAL);
	hw_loop_free(other);
	assert_int_equal(hw_timer_new(fx->loop, 1, 0, raise_cb, fx, &fx->t), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(fx->count, 1);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, raise_thread, fx), 0);
	assert_int_equal(hw_loop_run(fx->loop), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(fx->count, 2);
	hw_timer_free(fx->safety);
	hw_timer_free(fx->t);
	fx->safety = fx->t = NULL;
	hw_loop_free(fx->loop);
	assert_int_equal(hw_loop_new(&fx->loop), 0);
	struct sigaction sa;
	assert_int_equal(sigaction(SIGUSR1, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timers_order_and_repeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_now_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_wakes_and_coalesces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_before_block_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fdwatch_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signal, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
