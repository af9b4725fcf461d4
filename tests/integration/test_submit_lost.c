/* test_submit_lost.c: the callers that keep many submits in flight count every outcome
 * that came before the connection was lost, when a submit (not a wait) is what hears of
 * the loss: `hawser submit`, `hawser bench --connect` and the tests' own load (proc.c,
 * hw_load_run). Each counts those records as acknowledged, not as failed or lost.
 *
 * The node is a fake on a thread of this test (tests/integration/fake_wire.h) behind a
 * Unix socket, where the client's send buffer alone bounds what the stream holds (a few
 * hundred KiB): a caller with 4096 records in flight is still writing them when the node
 * takes the first ANSWERED submits, acknowledges them and closes. The client takes the
 * acknowledgements in while its write waits (include/hawser.h: the outcomes a node sends
 * meanwhile wait in the client), then the write fails with HW_ECLOSED. The node's
 * acknowledgements are what it holds: a caller must count exactly ANSWERED. A node that
 * also sends an outcome for a request id never sent (a stray) has the callers count it
 * apart, as unknown, and go on counting the rest. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/io/frame.h"
#include "hawser.h"
#include "tests/integration/fake_wire.h"
#include "tests/integration/proc.h"

#define ANSWERED     32u   /* submits the node acknowledges before it closes */
#define RECORDS      6000  /* the caller's run: more than its window */
#define WINDOW       4096  /* in flight: about 1 MiB, far more than the stream holds */
#define CONNS_MAX    4u    /* a caller's connections at once: a lane, a status look */
#define BEAT_MS      1000u /* the heartbeat its HELLO promises, as a node's does */
#define NODE_WAIT_MS 60000 /* nothing at all: the node gives up */
#define STRAY_ID     (1ull << 40) /* a request id no caller here sends */

#define STR_(x)      #x
#define STR(x)       STR_(x)

static const char *hw_bin; /* main sets it: hw_test_bin_or_skip() */

struct node {
	int lfd;
	int stop[2]; /* a byte written to stop[1] ends the node (node_join) */
	pthread_t thread;
	bool stray;             /* an outcome for STRAY_ID among the answers, halfway */
	uint64_t answered;      /* submits acknowledged (read after join) */
	uint64_t ids[ANSWERED]; /* their request ids, as they came */
};

struct fix {
	char dir[HW_PROC_PATH_MAX];
	char addr[HW_PROC_PATH_MAX + 32]; /* unix:PATH */
	struct node n;
	struct hw_capture cap;
};

/* The first SUBMIT f and the next ANSWERED - 1, each acknowledged (at LSN = its id) in
 * one write, the rest of what the client sent left unread. */
static void answer(struct node *n, struct hw_fake_stream *s, struct hw_frame f)
{
	static uint8_t out[(ANSWERED + 1) * HW_FAKE_REPLY_BYTES_MAX];
	size_t len = 0;
	struct hw_submit_hdr sh;
	while (f.type == HW_FRAME_SUBMIT && hw_submit_hdr_get(f.body, f.len, &sh) == 0) {
		n->ids[n->answered++] = sh.request_id;
		len += hw_fake_reply_frame(out + len, sizeof out - len, sh.request_id, 0, false);
		if (n->stray && n->answered == ANSWERED / 2)
			len += hw_fake_reply_frame(out + len, sizeof out - len, STRAY_ID, 0, false);
		if (n->answered == ANSWERED || !hw_fake_next_frame(s, &f))
			break;
	}
	(void)send(s->fd, out, len, MSG_NOSIGNAL);
}

/* Take a new connection's HELLO and answer it as the primary: false when the caller
 * went or sent something else. */
static bool greet(struct hw_fake_stream *s)
{
	struct hw_frame f;
	if (s->fd < 0 || s->buf == NULL || !hw_fake_next_frame(s, &f) || f.type != HW_FRAME_HELLO)
		return false;
	hw_fake_send_hello(s->fd, HAWSER__WIRE__V1__ROLE__PRIMARY, BEAT_MS);
	return true;
}

/* Serve connections until one sends a SUBMIT: answer it (answer()), then close every
 * connection and the socket. A connection that asks anything else (the bench's status
 * look) is closed unanswered. */
static void *serve(void *arg)
{
	struct node *n = arg;
	struct hw_fake_stream s[CONNS_MAX];
	struct pollfd p[2 + CONNS_MAX] = {{.fd = n->stop[0], .events = POLLIN},
					  {.fd = n->lfd, .events = POLLIN}};
	unsigned k = 0;
	bool done = false;
	while (!done && poll(p, 2 + k, NODE_WAIT_MS) > 0 && p[0].revents == 0) {
		for (unsigned i = 0; !done && i < k; i++) {
			struct hw_frame f;
			if (p[2 + i].revents == 0)
				continue;
			done = hw_fake_next_frame(&s[i], &f) && f.type == HW_FRAME_SUBMIT;
			if (done)
				answer(n, &s[i], f);
			close(s[i].fd);
			p[2 + i].fd = s[i].fd = -1; /* poll passes over it */
		}
		if (!done && p[1].revents != 0 && k < CONNS_MAX) {
			s[k] = (struct hw_fake_stream){.fd = accept(n->lfd, NULL, NULL),
						       .buf = malloc(HW_FAKE_STREAM_BYTES)};
			p[2 + k] = (struct pollfd){.fd = greet(&s[k]) ? s[k].fd : -1,
						   .events = POLLIN};
			k++;
		}
	}
	for (unsigned i = 0; i < k; i++) {
		if (s[i].fd >= 0)
			close(s[i].fd);
		free(s[i].buf);
	}
	close(n->lfd); /* a caller's later dial is refused at once */
	return NULL;
}

static void node_start(struct fix *f, bool stray)
{
	char path[HW_PROC_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/node.sock", f->dir);
	snprintf(f->addr, sizeof f->addr, "unix:%s", path);
	memset(&f->n, 0, sizeof f->n);
	f->n.stray = stray;
	f->n.lfd = hw_fake_listen_unix(path, CONNS_MAX);
	assert_true(f->n.lfd >= 0);
	assert_int_equal(pipe(f->n.stop), 0);
	assert_int_equal(pthread_create(&f->n.thread, NULL, serve, &f->n), 0);
}

/* The caller is done, and so the node (which answered and closed, unless the caller
 * failed before). Its answers were the first ANSWERED records, in order. */
static void node_join(struct node *n)
{
	assert_int_equal(write(n->stop[1], "", 1), 1);
	assert_int_equal(pthread_join(n->thread, NULL), 0);
	close(n->stop[0]);
	close(n->stop[1]);
	assert_int_equal(n->answered, ANSWERED);
	for (uint64_t i = 0; i < ANSWERED; i++)
		assert_int_equal(n->ids[i], i);
}

/* The number after "key": in the command's JSON output. */
static uint64_t json_u64(const char *json, const char *key)
{
	uint64_t v = 0;
	assert_true(hw_test_json_u64(json, key, &v));
	return v;
}

static int setup(void **state)
{
	static struct fix fx;
	if (hw_test_mkdtemp("submit-lost", fx.dir, sizeof fx.dir) != 0)
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	return hw_test_rm_rf(f->dir) == 0 ? 0 : -1;
}

/* `hawser submit --json` counts the ANSWERED records as accepted; the rest are in flight
 * (sent, no outcome: they may or may not be stored) or unsent, none of them an error, and
 * the run fails (exit 1) on the lost connection; its rate is of the records answered.
 * Its window never filled, so no wait took an outcome before the loss: every one came in
 * with the submit that failed. A stray outcome is counted as unknown, not an error. */
static void submit_counts(struct fix *f, bool stray)
{
	node_start(f, stray);
	int rc = hw_proc_capture(&f->cap, hw_bin, "submit", "--connect", f->addr, "--insecure",
				 "--generate", STR(RECORDS), "--window", STR(WINDOW), "--json",
				 NULL);
	printf("%s%s", f->cap.err, f->cap.out);
	node_join(&f->n);
	assert_int_equal(rc, 1);
	assert_int_equal(json_u64(f->cap.out, "accepted"), ANSWERED);
	assert_int_equal(json_u64(f->cap.out, "errors"), 0);
	assert_int_equal(json_u64(f->cap.out, "unknown"), stray);
	assert_int_equal(json_u64(f->cap.out, "duplicates"), 0);
	assert_int_equal(json_u64(f->cap.out, "rejected"), 0);
	assert_int_equal(json_u64(f->cap.out, "last_lsn"), ANSWERED - 1);
	uint64_t in_flight = json_u64(f->cap.out, "in_flight");
	uint64_t unsent = json_u64(f->cap.out, "unsent");
	assert_true(unsent > 0); /* the run stopped at the loss */
	assert_int_equal(ANSWERED + in_flight + unsent, RECORDS);
	const char *seconds = strstr(f->cap.out, "\"seconds\":");
	const char *rate = strstr(f->cap.out, "\"records_per_s\":");
	assert_true(seconds != NULL && rate != NULL);
	/* the records answered a second, not N */
	assert_true(strtod(rate + strlen("\"records_per_s\":"), NULL) *
			    strtod(seconds + strlen("\"seconds\":"), NULL) <
		    ANSWERED + 1);
}

static void test_submit_counts_what_came(void **state)
{
	submit_counts(*state, false);
}

static void test_submit_counts_stray_apart(void **state)
{
	submit_counts(*state, true);
}

/* `hawser bench --connect --json` (one lane, all its submits held and written together)
 * counts the ANSWERED records as acked; every other record is an error. A stray outcome
 * is counted as unknown, and the lane goes on counting what came after it. */
static void bench_counts(struct fix *f, bool stray)
{
	node_start(f, stray);
	int rc = hw_proc_capture(&f->cap, hw_bin, "bench", "--connect", f->addr, "--insecure",
				 "--clients", "1", "--window", STR(WINDOW), "--records",
				 STR(RECORDS), "--json", NULL);
	printf("%s%s", f->cap.err, f->cap.out);
	node_join(&f->n);
	assert_int_equal(rc, 1);
	assert_int_equal(json_u64(f->cap.out, "acked"), ANSWERED);
	assert_int_equal(json_u64(f->cap.out, "rejected"), 0);
	assert_int_equal(json_u64(f->cap.out, "errors"), RECORDS - ANSWERED);
	assert_int_equal(json_u64(f->cap.out, "unknown"), stray);
}

static void test_bench_counts_what_came(void **state)
{
	bench_counts(*state, false);
}

static void test_bench_counts_stray_apart(void **state)
{
	bench_counts(*state, true);
}

/* The tests' load (proc.h) ends with the loss and holds the ANSWERED outcomes: the
 * records a test then looks for in a store. */
static void test_load_counts_what_came(void **state)
{
	struct fix *f = *state;
	node_start(f, false);
	struct hw_load l = {
		.addr = f->addr, .count = RECORDS, .window = WINDOW, .mode = HW_DEFAULT};
	assert_int_equal(hw_load_init(&l), 0);
	int rc = hw_load_run(&l);
	node_join(&f->n);
	assert_int_equal(rc, HW_ECLOSED);
	assert_int_equal(l.acked, ANSWERED);
	assert_int_equal(l.outcomes, ANSWERED);
	for (uint64_t i = 0; i < ANSWERED; i++) {
		assert_true(l.done_rec[i]);
		assert_int_equal(l.out[i].code, 0);
		assert_int_equal(l.out[i].lsn, i);
	}
	assert_true(l.submitted >= ANSWERED && l.submitted < RECORDS);
	hw_load_free(&l);
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_submit_lost");
	if (hw_bin == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submit_counts_what_came, setup, teardown),
		cmocka_unit_test_setup_teardown(test_submit_counts_stray_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bench_counts_what_came, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bench_counts_stray_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_counts_what_came, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
