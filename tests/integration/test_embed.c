/* test_embed.c: the embedding API (include/hawser.h hw_node_*): a node run on a thread of
 * this test takes submits from another thread, and once it is no longer primary every
 * submit completes at once with a typed error instead of waiting for a loop that will
 * never answer it; a node stopped and closed under load answers every submit it took;
 * a node opened on one thread runs on another and closes on a third without a word
 * from io_uring. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "bench/workload.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "tests/integration/proc.h"

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode t;
	struct hw_node *n;
	pthread_t loop;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool opened; /* under mu: open_rc is set */
	int open_rc;
	int run_rc;
	uint8_t rec[HW_RECORD_BYTES_MAX];
	size_t len;
};

/* The node's thread: opens the node unless the test did, then runs it. */
static void *loop_main(void *arg)
{
	struct fix *f = arg;
	int rc = f->n != NULL ? 0 : hw_node_open(f->t.ini, &f->n);
	pthread_mutex_lock(&f->mu);
	f->open_rc = rc;
	f->opened = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	if (rc == 0)
		f->run_rc = hw_node_run(f->n);
	return NULL;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("embed", f->root, sizeof f->root) != 0)
		return -1;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	if (f->running)
		hw_node_stop(f->n);
	if (f->running || f->opened)
		pthread_join(f->loop, NULL);
	hw_node_close(f->n);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* One good record into f->rec. */
static void draw_record(struct fix *f)
{
	struct hw_workload_opts wo = {.seed = 3, .count = 1, .end_ms = hw_wall_ms()};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	struct hw_work_item it;
	assert_int_equal(hw_workload_next(w, f->rec, sizeof f->rec, &it), 0);
	assert_int_equal(it.expect, 0);
	f->len = it.len;
	hw_workload_free(w);
}

/* A primary (mode, waiters_max: 0 the default; its standby never started) opened in this
 * process (on the test's thread when open_here, else on the loop's) and run on a thread;
 * one good record drawn into f->rec. */
static void start_with(struct fix *f, bool open_here, const char *mode, unsigned waiters_max)
{
	struct hw_tnode_opts o = {
		.primary = true, .standbys = "s1", .mode = mode, .waiters_max = waiters_max};
	assert_int_equal(hw_tnode_init(&f->t, f->root, "p1", &o), 0);
	if (open_here)
		assert_int_equal(hw_node_open(f->t.ini, &f->n), 0);
	assert_int_equal(pthread_create(&f->loop, NULL, loop_main, f), 0);
	pthread_mutex_lock(&f->mu);
	while (!f->opened)
		pthread_cond_wait(&f->cv, &f->mu); /* an event, not a timed look */
	pthread_mutex_unlock(&f->mu);
	f->running = f->open_rc == 0;
	assert_int_equal(f->open_rc, 0);
	draw_record(f);
}

static void start(struct fix *f, bool open_here)
{
	start_with(f, open_here, "local", 0); /* s1 never runs: local waits for no standby */
}

static atomic_int outcomes;

static void count_cb(void *arg, const struct hw_outcome *o)
{
	(void)arg;
	(void)o;
	atomic_fetch_add(&outcomes, 1);
}

/* A primary acknowledges an embedded submit; once its loop stopped (the primary role
 * ended, as at a step-down) a submit is refused with HW_ENOT_PRIMARY at once, and a
 * blocking submit returns the same instead of waiting for ever. A second hw_node_run is
 * -EALREADY at once: it ran a loop with the ports closed and every submit refused, which
 * served nothing (here it would take the stop asked first and return 0). */
static void test_submit_after_role_ends(void **state)
{
	struct fix *f = *state;
	start(f, false);
	struct hw_outcome out;
	assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, &out), 0);
	assert_int_equal(out.lsn > 0, true);
	hw_node_stop(f->n);
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->running = f->opened = false;
	assert_int_equal(f->run_rc, 0);
	assert_int_equal(hw_node_submit(f->n, 7, f->rec, f->len, HW_DEFAULT, 0, count_cb, NULL),
			 HW_ENOT_PRIMARY);
	assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, &out),
			 HW_ENOT_PRIMARY);
	assert_int_equal(out.code, HW_ENOT_PRIMARY);
	hw_node_stop(f->n);
	assert_int_equal(hw_node_run(f->n), -EALREADY);
}

/* Submits taken while the node stops, in the queue, the batch being filled or the one in
 * the store writer, each get one outcome by the time hw_node_run returns (HW_ECLOSED
 * for those never acknowledged): none is left for a caller to wait on for ever, nor
 * until hw_node_close. */
static void test_stop_answers_every_submit(void **state)
{
	enum { RECORDS = 20000, STOP_AT = 15000 };
	struct fix *f = *state;
	start(f, false);
	struct hw_workload_opts wo = {.seed = 5, .count = RECORDS, .end_ms = hw_wall_ms()};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	atomic_store(&outcomes, 0);
	int taken = 0;
	for (int i = 0; i < RECORDS; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(w, f->rec, sizeof f->rec, &it), 0);
		if (hw_node_submit(f->n, (uint64_t)i, f->rec, it.len, HW_DEFAULT, 0, count_cb,
				   NULL) == 0)
			taken++;
		if (i == STOP_AT)
			hw_node_stop(f->n);
	}
	hw_workload_free(w);
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->running = f->opened = false;
	assert_true(taken > STOP_AT / 2);
	assert_int_equal(atomic_load(&outcomes), taken);
	hw_node_close(f->n);
	f->n = NULL;
	assert_int_equal(atomic_load(&outcomes), taken);
}

/* Embedded submits are bounded by the node's limit of waiting submits (hawser.h): with
 * waiters_max 4 and nothing ever acknowledged (mode durable, the standby never up), 2
 * submits are taken, and once a blocking submit of mode local behind them is answered
 * (so the loop has taken them, in order) only 2 more are, then HW_EBUSY: at most 4
 * without an outcome at once. The queue had a bound of its own, so 4 more were taken
 * (up to 8 without an outcome), whatever the loop had taken. Each one taken gets its
 * outcome when the node's loop stops (a caller blocked in hw_node_submit_wait that the
 * application joins before hw_node_close returns). */
static void test_submits_bounded(void **state)
{
	enum { WAITERS = 4, FIRST = 2 };
	struct fix *f = *state;
	start_with(f, false, "durable", WAITERS);
	atomic_store(&outcomes, 0);
	for (uint64_t i = 0; i < FIRST; i++)
		assert_int_equal(
			hw_node_submit(f->n, i, f->rec, f->len, HW_DEFAULT, 0, count_cb, NULL), 0);
	struct hw_outcome out;
	assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_LOCAL, 0, &out), 0);
	int taken = FIRST, rc;
	while ((rc = hw_node_submit(f->n, (uint64_t)taken, f->rec, f->len, HW_DEFAULT, 0, count_cb,
				    NULL)) == 0 &&
	       taken < 4 * WAITERS)
		taken++;
	assert_int_equal(rc, HW_EBUSY);
	assert_int_equal(taken, WAITERS);
	hw_node_stop(f->n);
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->running = f->opened = false;
	assert_int_equal(atomic_load(&outcomes), taken);
	hw_node_close(f->n);
	f->n = NULL;
	assert_int_equal(atomic_load(&outcomes), taken);
}

/* Blocking submits made on several threads at once each get their own outcome, though
 * each has request_id 0 (hawser.h: it takes none): each thread's records, a workload lane
 * of its own (and a seed: record ids come from it), get the codes the workload expects, and a
 * resubmit of each one stored is answered as a duplicate at the LSN its own thread was given. */
enum { WAIT_LANES = 4, WAIT_RECORDS = 40 };

struct wait_lane {
	struct fix *f;
	struct hw_workload_opts wo; /* the lane's records, drawn again for the resubmits */
	int code[WAIT_RECORDS];
	int expect[WAIT_RECORDS];
	uint64_t lsn[WAIT_RECORDS];
	uint64_t request_ids; /* every outcome's, or'ed */
};

/* Submit the lane's records one at a time, blocking, from a thread of its own. */
static void *wait_lane_main(void *arg)
{
	struct wait_lane *l = arg;
	struct hw_workload *w;
	uint8_t *buf = malloc(HW_RECORD_BYTES_MAX);
	if (buf == NULL || hw_workload_new(&l->wo, &w) != 0) {
		free(buf);
		return NULL; /* code[] stays unset: the test fails */
	}
	for (int i = 0; i < WAIT_RECORDS; i++) {
		struct hw_work_item it;
		struct hw_outcome out;
		l->code[i] = hw_workload_next(w, buf, HW_RECORD_BYTES_MAX, &it);
		if (l->code[i] != 0)
			break;
		l->expect[i] = it.expect;
		l->code[i] = hw_node_submit_wait(l->f->n, buf, it.len, HW_DEFAULT, 0, &out);
		l->lsn[i] = out.lsn;
		l->request_ids |= out.request_id;
	}
	hw_workload_free(w);
	free(buf);
	return NULL;
}

static void test_submit_wait_threads_own_outcomes(void **state)
{
	struct fix *f = *state;
	start(f, false);
	static struct wait_lane lanes[WAIT_LANES];
	pthread_t th[WAIT_LANES];
	int64_t end_ms = hw_wall_ms();
	for (uint32_t t = 0; t < WAIT_LANES; t++) {
		lanes[t] = (struct wait_lane){.f = f, .code = {1}};
		lanes[t].wo = (struct hw_workload_opts){
			.seed = 11 + t, .count = WAIT_RECORDS, .end_ms = end_ms, .lane = t + 1};
		assert_int_equal(pthread_create(&th[t], NULL, wait_lane_main, &lanes[t]), 0);
	}
	for (uint32_t t = 0; t < WAIT_LANES; t++)
		assert_int_equal(pthread_join(th[t], NULL), 0);
	int stored = 0;
	for (uint32_t t = 0; t < WAIT_LANES; t++) {
		struct wait_lane *l = &lanes[t];
		assert_int_equal(l->request_ids, 0);
		struct hw_workload *w;
		assert_int_equal(hw_workload_new(&l->wo, &w), 0);
		for (int i = 0; i < WAIT_RECORDS; i++) {
			assert_int_equal(l->code[i], l->expect[i]);
			struct hw_work_item it;
			assert_int_equal(hw_workload_next(w, f->rec, sizeof f->rec, &it), 0);
			if (l->code[i] != 0)
				continue;
			struct hw_outcome out;
			assert_int_equal(
				hw_node_submit_wait(f->n, f->rec, it.len, HW_DEFAULT, 0, &out), 0);
			assert_true(out.duplicate);
			assert_int_equal(out.lsn, l->lsn[i]);
			stored++;
		}
		hw_workload_free(w);
	}
	assert_true(stored > WAIT_LANES * WAIT_RECORDS / 2);
}

/* Embedded submits are bounded in bytes too: a primary whose loop has not run (nothing
 * drains its queue) takes records of 64 KiB up to HW_EMBED_QUEUE_BYTES_MAX only, then says
 * HW_EBUSY, and answers each one it took at the close. The count alone bounded it: all
 * 4096 here (256 MiB), and at the default waiters_max a TOS whose standby was down grew by
 * 2.5 GiB of 32 KiB records before its first HW_EBUSY. */
static void test_submits_bounded_in_bytes(void **state)
{
	enum { WAITERS = 4096 };
	struct fix *f = *state;
	struct hw_tnode_opts o = {
		.primary = true, .standbys = "s1", .mode = "local", .waiters_max = WAITERS};
	assert_int_equal(hw_tnode_init(&f->t, f->root, "p1", &o), 0);
	assert_int_equal(hw_node_open(f->t.ini, &f->n), 0);
	atomic_store(&outcomes, 0);
	size_t taken = 0;
	int rc = 0;
	while (taken < WAITERS && (rc = hw_node_submit(f->n, taken, f->rec, HW_RECORD_BYTES_MAX,
						       HW_DEFAULT, 0, count_cb, NULL)) == 0)
		taken++;
	assert_int_equal(rc, HW_EBUSY);
	assert_true(taken * HW_RECORD_BYTES_MAX <= HW_EMBED_QUEUE_BYTES_MAX);
	assert_true((taken + 1) * HW_RECORD_BYTES_MAX > HW_EMBED_QUEUE_BYTES_MAX);
	hw_node_close(f->n);
	f->n = NULL;
	assert_int_equal(atomic_load(&outcomes), (int)taken);
}

/* A primary whose open fails part way (its data directory is a file: before the loop
 * exists) returns the error and cleans up; it crashed in the close that undoes the open
 * (a before-block hook cancelled on a loop not yet made). */
static void test_open_fails_cleanly(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts o = {.primary = true, .standbys = "s1", .mode = "local"};
	assert_int_equal(hw_tnode_init(&f->t, f->root, "p1", &o), 0);
	FILE *fp = fopen(f->t.dir, "w");
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);
	struct hw_node *n = NULL;
	assert_int_equal(hw_node_open(f->t.ini, &n), -ENOTDIR);
	assert_null(n);
}

/* Write text as the config file path. */
static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* A config the library refuses is said on stderr, as hawser's commands say errors, with
 * the file and line, the typed code and the reason, and no command name (the embedding
 * program runs none): "hawser: FILE:LINE: configuration is invalid (HW_ECONFIG): ...". */
static void test_open_says_config_error(void **state)
{
	struct fix *f = *state;
	char ini[HW_PROC_PATH_MAX + 16], said[HW_PROC_PATH_MAX + 16], text[1024];
	snprintf(ini, sizeof ini, "%s/bad.ini", f->root);
	snprintf(said, sizeof said, "%s/stderr", f->root);
	write_text(ini, "[cluster]\nid = itest\n[limits]\nheartbeat_ms = 9x\n");
	struct hw_test_stderr cap;
	assert_int_equal(hw_test_stderr_begin(&cap, said), 0);
	struct hw_node *n = NULL;
	int rc = hw_node_open(ini, &n);
	assert_int_equal(hw_test_stderr_end(&cap, text, sizeof text), 0);
	assert_int_equal(rc, HW_ECONFIG);
	assert_null(n);
	char want[2 * HW_PROC_PATH_MAX];
	snprintf(want, sizeof want,
		 "hawser: %s:4: configuration is invalid (HW_ECONFIG): bad number '9x' for "
		 "'limits.heartbeat_ms'\n",
		 ini);
	assert_string_equal(text, want);
}

/* A config that parses but no node can run is refused with HW_ECONFIG before anything is
 * written in its data directory: a witness's (it runs with `hawser witness`), and a
 * primary's or standby's without a client port; one whose failover RTO cannot be met,
 * with HW_ERANGE. */
static void test_open_refuses_unrunnable(void **state)
{
	struct fix *f = *state;
	char ini[HW_PROC_PATH_MAX + 16], dir[HW_PROC_PATH_MAX + 16], text[1024];
	snprintf(ini, sizeof ini, "%s/w.ini", f->root);
	snprintf(dir, sizeof dir, "%s/data", f->root);
	static const char *const bodies[] = {
		"id = w1\nrole = witness\nlisten = 127.0.0.1:3\n[failover]\nrto = 2s\nrpo = 0\n"
		"voters = p1@127.0.0.1:1, s1@127.0.0.1:2\nwitness = 127.0.0.1:3\nwitness_id = w1\n",
		"id = p1\nrole = primary\n",
		"id = s1\nrole = standby\nprimary = 127.0.0.1:1\n",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		snprintf(text, sizeof text,
			 "[cluster]\nid = itest\n[security]\ninsecure = true\n[node]\n"
			 "data_dir = %s\n%s",
			 dir, bodies[i]);
		write_text(ini, text);
		struct hw_node *n = NULL;
		assert_int_equal(hw_node_open(ini, &n), HW_ECONFIG);
		assert_null(n);
		assert_int_equal(access(dir, F_OK), -1);
	}
	/* an RTO its heartbeat delay cannot meet (hw_voters_plan_check): refused the same */
	snprintf(text, sizeof text,
		 "[cluster]\nid = itest\n[security]\ninsecure = true\n[node]\ndata_dir = %s\n"
		 "id = s1\nrole = standby\nlisten = 127.0.0.1:2\nclient = 127.0.0.1:4\n"
		 "[durability]\nmode = durable\n[failover]\nrto = 1500ms\nrpo = 0\n"
		 "heartbeat_p99 = 30ms\nvoters = p1@127.0.0.1:1, s1@127.0.0.1:2\n"
		 "witness = 127.0.0.1:3\nwitness_id = w1\n",
		 dir);
	write_text(ini, text);
	struct hw_node *n = NULL;
	assert_int_equal(hw_node_open(ini, &n), HW_ERANGE);
	assert_null(n);
	assert_int_equal(access(dir, F_OK), -1);
}

/* A primary alone (no standby, vault or voter) needs no replication port: it opens
 * with only its client port (it failed to listen on an empty address). */
static void test_open_primary_alone(void **state)
{
	struct fix *f = *state;
	char ini[HW_PROC_PATH_MAX + 16], text[3 * HW_PROC_PATH_MAX];
	snprintf(ini, sizeof ini, "%s/alone.ini", f->root);
	snprintf(text, sizeof text,
		 "[cluster]\nid = itest\n[security]\ninsecure = true\n[node]\nid = p1\n"
		 "role = primary\ndata_dir = %s/alone\nclient = unix:%s/alone.sock\n"
		 "[durability]\nmode = local\n",
		 f->root, f->root);
	write_text(ini, text);
	struct hw_node *n = NULL;
	assert_int_equal(hw_node_open(ini, &n), 0);
	assert_non_null(n);
	hw_node_close(n);
}

/* Capture this process's stderr in the file name under f->root. */
static void capture_start(struct hw_test_stderr *c, struct fix *f, const char *name)
{
	char path[HW_PROC_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", f->root, name);
	assert_int_equal(hw_test_stderr_begin(c, path), 0);
}

/* Close f->n, what it says on stderr into text. */
static void close_captured(struct fix *f, char *text, size_t cap)
{
	struct hw_test_stderr c;
	capture_start(&c, f, "close.err");
	hw_node_close(f->n);
	f->n = NULL;
	assert_int_equal(hw_test_stderr_end(&c, text, cap), 0);
}

/* Opened on the test's thread, run on another, closed on the test's again: submits are
 * acknowledged, the run returns 0, and the close says nothing about io_uring (no
 * "File exists", no operation left in flight). */
static void test_open_and_run_on_other_threads(void **state)
{
	struct fix *f = *state;
	start(f, true);
	struct hw_outcome out;
	for (int i = 0; i < 3; i++) /* the same bytes again: a duplicate at the same LSN */
		assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, &out), 0);
	assert_int_equal(out.lsn > 0, true);
	hw_node_stop(f->n);
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->running = f->opened = false;
	assert_int_equal(f->run_rc, 0);
	char text[4096];
	close_captured(f, text, sizeof text);
	assert_null(strstr(text, "io_uring"));
	assert_non_null(strstr(text, "event=stopped")); /* the capture worked */
}

/* One node per process: a second open while the first runs is refused with HW_EBUSY and
 * a line that says why, before it changes anything: no data directory, and the first
 * node's lines still carry its own id (it relabelled them with the second's). Once the
 * first is closed, the second opens. */
static void test_second_node_refused(void **state)
{
	struct fix *f = *state;
	start(f, true);
	struct hw_tnode t2;
	struct hw_tnode_opts o = {.primary = true, .standbys = "s2", .mode = "local"};
	assert_int_equal(hw_tnode_init(&t2, f->root, "p2", &o), 0);
	struct hw_test_stderr cap;
	capture_start(&cap, f, "second.err");
	struct hw_node *n2 = NULL;
	int rc = hw_node_open(t2.ini, &n2);
	hw_node_stop(f->n);
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->running = f->opened = false;
	hw_node_close(f->n);
	f->n = NULL;
	char text[4096];
	assert_int_equal(hw_test_stderr_end(&cap, text, sizeof text), 0);
	assert_int_equal(rc, HW_EBUSY);
	assert_null(n2);
	assert_non_null(strstr(text, "another node is open in this process"));
	assert_non_null(strstr(text, "node=p1 event=stopped"));
	assert_null(strstr(text, "node=p2"));
	assert_int_equal(access(t2.dir, F_OK), -1);
	assert_int_equal(hw_node_open(t2.ini, &n2), 0);
	hw_node_close(n2);
	assert_int_equal(hw_node_open(NULL, &n2), -EINVAL);
	assert_int_equal(hw_node_open(t2.ini, NULL), -EINVAL);
}

/* A node sends a client it has nothing else for a heartbeat every heartbeat_ms (100 ms
 * here), as its Hello promised: a client waiting 2.5 s with nothing outstanding, past
 * its 1 s bound of silence (engine/client.c), hears them and keeps the connection (the
 * wait times out, it is not lost), and a status request on it is answered. A node that
 * did not beat would be taken for stopped: HW_ECLOSED. */
static void test_idle_client_hears_heartbeats(void **state)
{
	struct fix *f = *state;
	start(f, true);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(f->t.client, &c), 0);
	struct hw_outcome out;
	assert_int_equal(hw_client_wait(c, 2500, &out), -ETIMEDOUT);
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(hw_client_status(c, 5000, &body, &len), 0);
	assert_true(len > 0);
	free(body);
	hw_client_close(c);
}

/* Bad input to an embedded submit is refused before anything is queued; a node, record,
 * callback or outcome of NULL is -EINVAL (a NULL node crashed; a NULL callback was
 * HW_ERANGE, which is for values out of range, not a missing argument), and a stop of
 * NULL does nothing. */
static void test_submit_bad_input(void **state)
{
	struct fix *f = *state;
	start(f, false);
	atomic_store(&outcomes, 0);
	assert_int_equal(hw_node_submit(f->n, 1, f->rec, HW_RECORD_BYTES_MAX + 1u, HW_DEFAULT, 0,
					count_cb, NULL),
			 HW_ETOOBIG);
	assert_int_equal(
		hw_node_submit(f->n, 1, f->rec, f->len, (enum hw_durability)9, 0, count_cb, NULL),
		HW_ERANGE);
	assert_int_equal(hw_node_submit(f->n, 1, f->rec, f->len, HW_DEFAULT, 256, count_cb, NULL),
			 HW_ERANGE);
	/* no callback: refused, not a crash on the loop thread when the outcome comes */
	assert_int_equal(hw_node_submit(f->n, 1, f->rec, f->len, HW_DEFAULT, 0, NULL, NULL),
			 -EINVAL);
	/* no record: refused, not a copy from NULL */
	assert_int_equal(hw_node_submit(f->n, 1, NULL, f->len, HW_DEFAULT, 0, count_cb, NULL),
			 -EINVAL);
	assert_int_equal(hw_node_submit(NULL, 1, f->rec, f->len, HW_DEFAULT, 0, count_cb, NULL),
			 -EINVAL);
	struct hw_outcome out;
	assert_int_equal(hw_node_submit_wait(NULL, f->rec, f->len, HW_DEFAULT, 0, &out), -EINVAL);
	assert_int_equal(out.code, -EINVAL);
	assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, NULL), -EINVAL);
	assert_int_equal(hw_node_run(NULL), -EINVAL);
	hw_node_stop(NULL);
	assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, &out), 0);
	assert_false(out.duplicate); /* the NULL out's was not stored before it */
	assert_int_equal(atomic_load(&outcomes), 0);
}

/* hw_node_submit_wait from a submit's callback, on the loop thread, whose outcome only
 * that thread could give: -EDEADLK at once, nothing submitted. It waited for ever, and the
 * loop with it. An empty record (NULL, 0) is taken, and answered (not stored: a record
 * needs its fields). */
static sem_t waited;
static int wait_rc, empty_code;

static void wait_on_loop_cb(void *arg, const struct hw_outcome *o)
{
	struct fix *f = arg;
	empty_code = o->code;
	struct hw_outcome out;
	wait_rc = hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, &out);
	sem_post(&waited);
}

static void test_submit_wait_on_loop_refused(void **state)
{
	struct fix *f = *state;
	start(f, false);
	assert_int_equal(sem_init(&waited, 0, 0), 0);
	assert_int_equal(hw_node_submit(f->n, 1, NULL, 0, HW_DEFAULT, 0, wait_on_loop_cb, f), 0);
	assert_true(hw_test_sem_wait(&waited, 30000));
	assert_int_equal(wait_rc, -EDEADLK);
	assert_true(empty_code < 0);
	struct hw_outcome out; /* the loop goes on */
	assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, &out), 0);
	sem_destroy(&waited);
}

/* A primary whose loop never ran answers what it took at hw_node_close, on the closing
 * thread (hawser.h), with HW_ECLOSED. */
static pthread_t closing_thread;
static atomic_int closed_here;

static void closed_cb(void *arg, const struct hw_outcome *o)
{
	(void)arg;
	if (pthread_equal(pthread_self(), closing_thread) && o->code == HW_ECLOSED)
		atomic_fetch_add(&closed_here, 1);
}

/* A primary opened here whose loop never runs, with 3 submits taken, each with cb. */
static void open_unrun_with(struct fix *f, hw_submit_cb *cb, void *arg)
{
	struct hw_tnode_opts o = {.primary = true, .standbys = "s1", .mode = "local"};
	assert_int_equal(hw_tnode_init(&f->t, f->root, "p1", &o), 0);
	draw_record(f);
	assert_int_equal(hw_node_open(f->t.ini, &f->n), 0);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(hw_node_submit(f->n, i, f->rec, f->len, HW_DEFAULT, 0, cb, arg),
				 0);
}

static void test_close_unrun_answers_here(void **state)
{
	struct fix *f = *state;
	closing_thread = pthread_self();
	atomic_store(&closed_here, 0);
	open_unrun_with(f, closed_cb, NULL);
	hw_node_close(f->n);
	f->n = NULL;
	assert_int_equal(atomic_load(&closed_here), 3);
}

/* hw_node_close while the loop runs, from a submit's callback (on the loop thread) and
 * from the test's thread, is ignored with a line on stderr, and the node goes on: the
 * callback's close freed the node under its loop, which then called the same callback
 * again (HW_ECLOSED) and crashed. The close after hw_node_run returned frees it. */
static atomic_int close_cb_calls;

static void close_in_cb(void *arg, const struct hw_outcome *o)
{
	struct fix *f = arg;
	(void)o;
	atomic_fetch_add(&close_cb_calls, 1);
	hw_node_close(f->n);
	hw_node_stop(f->n);
}

static void test_close_while_running_ignored(void **state)
{
	struct fix *f = *state;
	start(f, false);
	struct hw_test_stderr cap;
	capture_start(&cap, f, "close.err");
	struct hw_outcome out; /* answered: the loop runs (start() does not wait for it) */
	assert_int_equal(hw_node_submit_wait(f->n, f->rec, f->len, HW_DEFAULT, 0, &out), 0);
	hw_node_close(f->n);
	atomic_store(&close_cb_calls, 0);
	assert_int_equal(hw_node_submit(f->n, 1, f->rec, f->len, HW_DEFAULT, 0, close_in_cb, f), 0);
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->running = f->opened = false;
	char text[4096];
	assert_int_equal(hw_test_stderr_end(&cap, text, sizeof text), 0);
	assert_int_equal(f->run_rc, 0);
	assert_int_equal(atomic_load(&close_cb_calls), 1);
	const char *said = strstr(text, "hw_node_close while hw_node_run or another close runs");
	assert_non_null(said);
	assert_non_null(strstr(said + 1, "hw_node_close while hw_node_run or another close runs"));
	assert_null(strstr(text, "event=stopped")); /* teardown's close stops it */
}

/* A callback run by hw_node_close (of a primary whose loop never ran) that closes the node
 * too, as a handler of failed outcomes may: ignored with a line on stderr, each callback
 * runs once, and the first close frees the node. The second close freed it inside the
 * first, which then crashed. */
static void test_close_in_close_ignored(void **state)
{
	struct fix *f = *state;
	atomic_store(&close_cb_calls, 0);
	open_unrun_with(f, close_in_cb, f);
	char text[4096];
	close_captured(f, text, sizeof text);
	assert_int_equal(atomic_load(&close_cb_calls), 3);
	assert_non_null(strstr(text, "hw_node_close while hw_node_run or another close runs"));
	assert_non_null(strstr(text, "event=stopped")); /* the first close, once */
}

/* A callback that resubmits what was answered at once (as hawser.h says to after HW_EBUSY;
 * here k = 2 with one standby, HW_ERANGE on the loop thread) and asks the node to stop at its
 * first outcome: the loop takes the resubmit on a later pass, so the stop is heard after a
 * few, not after the callback ran out of retries (it took each one in the same pass, for ever
 * with a caller that does not give up). Every submit taken gets one outcome. */
enum { RESUBMITS_MAX = 1000 };
static atomic_int resubmits_taken, ranged;
static struct fix *resubmit_fix;

static void resubmit_cb(void *arg, const struct hw_outcome *o)
{
	(void)arg;
	atomic_fetch_add(&outcomes, 1);
	if (o->code != HW_ERANGE)
		return;
	struct fix *f = resubmit_fix;
	if (atomic_fetch_add(&ranged, 1) == 0)
		hw_node_stop(f->n);
	if (atomic_load(&ranged) < RESUBMITS_MAX &&
	    hw_node_submit(f->n, o->request_id, f->rec, f->len, HW_DURABLE, 2, resubmit_cb, NULL) ==
		    0)
		atomic_fetch_add(&resubmits_taken, 1);
}

static void test_resubmit_from_callback_lets_stop(void **state)
{
	struct fix *f = *state;
	start(f, false);
	resubmit_fix = f;
	atomic_store(&outcomes, 0);
	atomic_store(&ranged, 0);
	atomic_store(&resubmits_taken, 0);
	assert_int_equal(hw_node_submit(f->n, 1, f->rec, f->len, HW_DURABLE, 2, resubmit_cb, NULL),
			 0);
	assert_int_equal(pthread_join(f->loop, NULL), 0);
	f->running = f->opened = false;
	assert_int_equal(f->run_rc, 0);
	assert_true(atomic_load(&ranged) < 10);
	assert_int_equal(atomic_load(&outcomes), 1 + atomic_load(&resubmits_taken));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submit_after_role_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resubmit_from_callback_lets_stop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_submit_wait_on_loop_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_unrun_answers_here, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_while_running_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_in_close_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_client_hears_heartbeats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_answers_every_submit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submits_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_wait_threads_own_outcomes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_submits_bounded_in_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_says_config_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_unrunnable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_primary_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_node_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_and_run_on_other_threads, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
