/* test_client_pressure.c: the client (engine/client.c) against a node that reads nothing
 * for a while: under back-pressure (alive, its heartbeats going on) past the 5 s a dial
 * bounds unacknowledged data to, stopped (no byte at all) while the client waits to write,
 * and sending more outcomes than the client's buffers hold, none asked for. The node is a fake
 * run on a thread of this test (tests/integration/fake_wire.h), on loopback TCP, with a
 * small receive buffer so that a few MiB of submits fill what the sockets between hold;
 * test_client.c has the client's other cases. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
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

#include "base/clock.h"
#include "engine/client_int.h"
#include "engine/io/frame.h"
#include "hawser.h"
#include "tests/integration/fake_wire.h"
#include "tests/integration/proc.h"

enum script {
	PRESS,  /* answer the first ANSWERED submits, then read nothing for PRESS_MS while a
		 * heartbeat goes every BEAT_MS; then read the rest and answer none of them (nor
		 * send anything) until the test posts go, then answer them all */
	FREEZE, /* answer the first ANSWERED submits, send more heartbeats than the client's
		 * buffer holds (FLOOD_BYTES), then neither read nor send until the test posts
		 * go, then close: a stopped process (SIGSTOP), whose kernel still keeps the
		 * connection */
	ECHO,   /* answer each submit at once */
	FSTOP,  /* after the HELLO send outcomes of no submit, more than the client's buffer
		 * holds (FLOOD_BYTES), then stopped as FREEZE is */
	LATE,   /* take one submit and send nothing until the test posts go, then answer it
		 * and close: a node that stalled and came back */
};

#define RECORDS   128u /* of 64 KiB: 8 MiB, more than the sockets between hold */
#define ANSWERED  4u
#define BEAT_MS   100
#define PRESS_MS  7000 /* past the 5 s (TCP_USER_TIMEOUT) a dial bounds unacked data to */
#define VALVE_MS  20000 /* a go that never comes: the node goes on (or closes) after it */
#define EVENT_MS  5000  /* an outcome the node has sent arrives within it */
#define RCVBUF    (64 * 1024)
#define FLOOD_ID0 (1ull << 20)
/* Outcomes past the client's buffer (one largest frame, 4 MiB) by a quarter MiB. */
#define FLOOD_BYTES (HW_FRAME_BYTES_MAX + HW_FRAME_HEADER_BYTES + 256u * 1024u)

struct node {
	enum script how;
	uint32_t promise_ms; /* the heartbeat interval its HELLO promises */
	int lfd;
	uint16_t port;
	pthread_t thread;
	sem_t go;
	bool valve_opened; /* go never came: the valve ended the node's wait */
	uint8_t *flood;    /* FSTOP's outcomes, FREEZE's heartbeats: flood_count frames in
			    * flood_len bytes */
	size_t flood_len;
	uint64_t flood_count;
	uint64_t submits;      /* SUBMIT frames read (read after join) */
	uint64_t ids[RECORDS]; /* their request ids, as they came */
};

/* The client's next SUBMIT, its id kept in n->ids: false once the client is gone. */
static bool take_submit(struct node *n, struct hw_fake_stream *s, uint64_t *id)
{
	struct hw_frame f;
	struct hw_submit_hdr sh;
	if (!hw_fake_next_frame(s, &f) || f.type != HW_FRAME_SUBMIT ||
	    hw_submit_hdr_get(f.body, f.len, &sh) != 0)
		return false;
	if (n->submits < RECORDS)
		n->ids[n->submits] = sh.request_id;
	n->submits++;
	*id = sh.request_id;
	return true;
}

/* Wait until the test posts go, or VALVE_MS pass (then valve_opened). */
static void gate(struct node *n)
{
	n->valve_opened = !hw_test_sem_wait(&n->go, VALVE_MS);
}

/* Read nothing for ms, a heartbeat every BEAT_MS: a node whose queues are full (a node
 * pressed for ms, not a wait for an event: nothing to wait on). */
static void press(int fd, int ms)
{
	int64_t end = hw_mono_ms() + ms;
	while (hw_mono_ms() < end && hw_fake_send_heartbeat(fd))
		(void)poll(NULL, 0, BEAT_MS);
}

/* What the node does after its HELLO; false when it closes at once. */
static bool play(struct node *n, struct hw_fake_stream *s)
{
	uint64_t id;
	if (n->how == LATE) {
		if (take_submit(n, s, &id)) {
			gate(n);
			hw_fake_send_reply(s->fd, id, 0, false);
		}
		return false;
	}
	for (uint32_t i = 0; (n->how == PRESS || n->how == FREEZE) && i < ANSWERED; i++)
		if (take_submit(n, s, &id))
			hw_fake_send_reply(s->fd, id, 0, false);
	if (n->how == FREEZE || n->how == FSTOP) {
		(void)send(s->fd, n->flood, n->flood_len, MSG_NOSIGNAL);
		gate(n);
		return false;
	}
	if (n->how == PRESS) {
		press(s->fd, PRESS_MS);
		uint64_t from = n->submits;
		while (n->submits < RECORDS && take_submit(n, s, &id))
			;
		gate(n);
		for (uint64_t i = from; i < n->submits; i++)
			hw_fake_send_reply(s->fd, n->ids[i], 0, false);
	}
	return true;
}

/* Serve one connection: the HELLO, the script, then each submit answered until the
 * client goes. */
static void *serve(void *arg)
{
	struct node *n = arg;
	struct hw_fake_stream s = {.fd = accept(n->lfd, NULL, NULL),
				   .buf = malloc(HW_FAKE_STREAM_BYTES)};
	struct hw_frame f;
	uint64_t id;
	if (s.fd >= 0 && s.buf != NULL && hw_fake_next_frame(&s, &f) && f.type == HW_FRAME_HELLO) {
		hw_fake_send_hello(s.fd, HAWSER__WIRE__V1__ROLE__PRIMARY, n->promise_ms);
		bool going = play(n, &s);
		while (going && take_submit(n, &s, &id))
			hw_fake_send_reply(s.fd, id, 0, false);
	}
	free(s.buf);
	if (s.fd >= 0)
		close(s.fd);
	return NULL;
}

/* At least FLOOD_BYTES of frames: FSTOP's outcomes (ids FLOOD_ID0 on), FREEZE's
 * heartbeats. */
static void flood_make(struct node *n)
{
	n->flood = malloc(FLOOD_BYTES + HW_FAKE_REPLY_BYTES_MAX);
	assert_non_null(n->flood);
	while (n->flood_len < FLOOD_BYTES) {
		uint8_t *at = n->flood + n->flood_len;
		size_t len = n->how == FSTOP
				     ? hw_fake_reply_frame(at, HW_FAKE_REPLY_BYTES_MAX,
							   FLOOD_ID0 + n->flood_count, 0, false)
				     : hw_fake_heartbeat_frame(at, HW_FAKE_REPLY_BYTES_MAX);
		assert_true(len > 0);
		n->flood_len += len;
		n->flood_count++;
	}
}

static void node_start(struct node *n, enum script how, uint32_t promise_ms)
{
	memset(n, 0, sizeof *n);
	n->how = how;
	n->promise_ms = promise_ms;
	assert_int_equal(sem_init(&n->go, 0, 0), 0);
	if (how == FREEZE || how == FSTOP)
		flood_make(n);
	n->lfd = hw_fake_bind(&n->port);
	assert_true(n->lfd >= 0);
	int small = RCVBUF; /* taken by the accepted socket */
	assert_int_equal(setsockopt(n->lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
	assert_int_equal(listen(n->lfd, 4), 0);
	assert_int_equal(pthread_create(&n->thread, NULL, serve, n), 0);
}

static void node_join(struct node *n)
{
	pthread_join(n->thread, NULL);
	close(n->lfd);
	sem_destroy(&n->go);
	free(n->flood);
}

static struct hw_client *connect_to(const char *fmt, const struct node *a, const struct node *b)
{
	char addr[64];
	snprintf(addr, sizeof addr, fmt, a->port, b ? b->port : 0);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	return c;
}

/* RECORDS submits of 64 KiB, ids 1 on, each of which returns 0. */
static void submit_all(struct hw_client *c)
{
	static uint8_t big[HW_RECORD_BYTES_MAX];
	for (uint64_t id = 1; id <= RECORDS; id++) {
		memset(big, (int)id, sizeof big);
		assert_int_equal(hw_client_submit(c, id, big, sizeof big, HW_DEFAULT, 0), 0);
	}
}

/* Take the outcomes of ids[0..n), in that order and each accepted, as a caller that polls
 * hw_client_fd does (hawser bench): poll for readability unless hw_client_ready, then wait
 * with no time until -ETIMEDOUT. An outcome in c that neither makes the socket readable
 * nor c ready would be waited for in vain: the poll ends at EVENT_MS. */
static void collect(struct hw_client *c, const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n;) {
		struct pollfd p = {.fd = hw_client_fd(c), .events = POLLIN};
		if (!hw_client_ready(c))
			assert_int_equal(poll(&p, 1, EVENT_MS), 1);
		struct hw_outcome o;
		int rc;
		while (i < n && (rc = hw_client_wait(c, 0, &o)) == 0) {
			assert_int_equal(o.request_id, ids[i++]);
			assert_int_equal(o.code, 0);
		}
		if (i < n)
			assert_int_equal(rc, -ETIMEDOUT);
	}
}

/* ids[0..n) = first, first + 1, ... */
static uint64_t *ids_from(uint64_t *ids, uint64_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ids[i] = first + i;
	return ids;
}

/* A node that reads nothing for 7 s while its heartbeats go on, with more submits queued
 * than the sockets between hold (its receive window shut: back-pressure, as when its
 * queues are full) is alive: every submit is written once it reads again, on the same
 * connection, and each gets its outcome. A dial's bound on unacknowledged data (5 s)
 * ended that connection (HW_ECLOSED) while the node would have taken the records. The
 * outcomes it sent before pressing, taken while the submits waited, are in the client
 * then, where a caller that polls hw_client_fd is told of them (hw_client_ready). */
static void test_pressed_node_kept(void **state)
{
	(void)state;
	static struct node n;        /* a node left running by a failed test keeps its own */
	node_start(&n, PRESS, 1000); /* a 4 s silence bound: it beats every 100 ms */
	struct hw_client *c = connect_to("127.0.0.1:%u", &n, NULL);
	submit_all(c);
	uint64_t ids[RECORDS];
	collect(c, ids_from(ids, 1, ANSWERED), ANSWERED);
	assert_int_equal(sem_post(&n.go), 0); /* the node sends nothing before this */
	collect(c, ids_from(ids, ANSWERED + 1, RECORDS - ANSWERED), RECORDS - ANSWERED);
	hw_client_close(c);
	node_join(&n);
	assert_int_equal(n.submits, RECORDS);
	assert_false(n.valve_opened);
	for (uint64_t i = 0; i < RECORDS; i++)
		assert_int_equal(n.ids[i], i + 1);
}

/* A node that stops (no byte more, its kernel still keeps the connection) while the
 * client waits to write to it is lost within the silence bound (1 s here) as in a wait,
 * not at TCP's timeout nor never: the client given the next node follows there, before
 * the stopped one's valve opens. It beat often before it stopped, more heartbeats than
 * the client's buffer holds: they go, and the outcomes it sent before them, taken while
 * the submits waited, stay and come first, so only the records without one are sent
 * again. */
static void test_stopped_node_left(void **state)
{
	(void)state;
	static struct node a, b;
	node_start(&a, FREEZE, BEAT_MS);
	node_start(&b, ECHO, BEAT_MS);
	struct hw_client *c = connect_to("127.0.0.1:%u,127.0.0.1:%u", &a, &b);
	submit_all(c); /* kept for the next node once the stopped one is lost */
	for (uint64_t id = 1; id <= RECORDS; id++) {
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, EVENT_MS, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.code, 0);
	}
	assert_int_equal(sem_post(&a.go), 0);
	hw_client_close(c);
	node_join(&a);
	node_join(&b);
	assert_false(a.valve_opened); /* left while the node was still stopped */
	assert_int_equal(a.submits, ANSWERED);
	assert_int_equal(b.submits, RECORDS - ANSWERED);
	assert_int_equal(b.ids[0], ANSWERED + 1);
}

/* A client holding its submits (hw_client_hold), one address, whose node answers four
 * and stops: the submit that cannot be written reports the loss, and the waits then give
 * the four outcomes that came before it, and the loss after them, for good. */
static void test_held_outcomes_first(void **state)
{
	(void)state;
	static struct node n;
	node_start(&n, FREEZE, BEAT_MS);
	struct hw_client *c = connect_to("127.0.0.1:%u", &n, NULL);
	static uint8_t big[HW_RECORD_BYTES_MAX];
	hw_client_hold(c);
	int rc = 0;
	for (uint64_t id = 1; id <= RECORDS && rc == 0; id++)
		rc = hw_client_submit(c, id, big, sizeof big, HW_DEFAULT, 0);
	assert_int_equal(rc, HW_ECLOSED);
	struct hw_outcome o;
	for (uint64_t id = 1; id <= ANSWERED; id++) {
		assert_int_equal(hw_client_wait(c, EVENT_MS, &o), 0);
		assert_int_equal(o.request_id, id);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(hw_client_wait(c, EVENT_MS, &o), HW_ECLOSED);
	assert_int_equal(sem_post(&n.go), 0);
	hw_client_close(c);
	node_join(&n);
	assert_false(n.valve_opened);
}

/* A node that sends more outcomes than the client's buffer holds, none of them asked for,
 * and then stops (neither reads nor sends), while the client waits to write: a buffer
 * full of frames once its heartbeats are dropped holds only such (the outcomes of a
 * client's own submits fit with room to spare), so the client ends the connection with
 * HW_EPROTOCOL, for good, without waiting on the node (here: before its valve opens).
 * It judged no silence while it could not read, until TCP's 5 s bound on unacknowledged
 * data ended the connection, and on a Unix socket never (test_client.c). */
static void test_unasked_flood_fails(void **state)
{
	(void)state;
	static struct node n;
	node_start(&n, FSTOP, BEAT_MS);
	struct hw_client *c = connect_to("127.0.0.1:%u", &n, NULL);
	static uint8_t big[HW_RECORD_BYTES_MAX];
	int rc = 0;
	for (uint64_t id = 1; id <= RECORDS && rc == 0; id++)
		rc = hw_client_submit(c, id, big, sizeof big, HW_DEFAULT, 0);
	assert_int_equal(rc, HW_EPROTOCOL);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, EVENT_MS, &o), HW_EPROTOCOL);
	assert_int_equal(sem_post(&n.go), 0);
	hw_client_close(c);
	node_join(&n);
	assert_false(n.valve_opened); /* the go came first: the node was still stopped */
}

/* A node silent past the bound is lost (HW_ECLOSED), and stays lost for the client: an
 * outcome it sends when it comes back is not taken as if the connection were good (the
 * caller has the record in doubt already). */
static void test_loss_stays(void **state)
{
	(void)state;
	static struct node n;
	node_start(&n, LATE, BEAT_MS);
	struct hw_client *c = connect_to("127.0.0.1:%u", &n, NULL);
	static uint8_t rec[64];
	assert_int_equal(hw_client_submit(c, 1, rec, sizeof rec, HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, EVENT_MS, &o), HW_ECLOSED);
	assert_int_equal(sem_post(&n.go), 0);
	node_join(&n); /* its late outcome sent, and the connection closed */
	for (int i = 0; i < 3; i++)
		assert_int_equal(hw_client_wait(c, 0, &o), HW_ECLOSED);
	hw_client_close(c);
	assert_false(n.valve_opened);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pressed_node_kept),
		cmocka_unit_test(test_stopped_node_left),
		cmocka_unit_test(test_held_outcomes_first),
		cmocka_unit_test(test_unasked_flood_fails),
		cmocka_unit_test(test_loss_stays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
