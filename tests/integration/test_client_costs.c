/* test_client_costs.c: what one record costs the client library (engine/client.c) in
 * system calls and clock readings, as `hawser bench` drives it at 32 x 1: hold, submit and
 * flush a record, poll the socket, then wait with no time until -ETIMEDOUT. The node is a
 * fake on a thread of this test (tests/integration/fake_wire.h) that answers each submit at
 * once, on loopback TCP, and promises heartbeats, as a node does, so the client judges its
 * silence. The counts come from the test's own __wrap_sendmsg, __wrap_recv, __wrap_poll and
 * __wrap_hw_mono_ms, on the test's thread only (the fake node's calls are not the client's). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/client_int.h"
#include "engine/io/frame.h"
#include "hawser.h"
#include "tests/integration/fake_wire.h"

#define ROUNDS   50
#define EVENT_MS 5000 /* an outcome the node has sent arrives within it */
/* The heartbeat the node promises (it sends none): a silence bound of seconds, which
 * this test's rounds never reach. */
#define PROMISE_MS 1000

/* ---- the counts: calls made on the test's thread while counting */

struct counts {
	unsigned sendmsg, recv, poll, clock;
};
static struct counts counted;
static pthread_t counted_thread;
static atomic_bool counting;

static bool mine(void)
{
	return atomic_load(&counting) && pthread_equal(pthread_self(), counted_thread);
}

ssize_t __real_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	counted.sendmsg += mine();
	return __real_sendmsg(fd, mh, flags);
}

ssize_t __real_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags);
ssize_t __wrap_recv(int fd, void *buf, size_t len, int flags)
{
	counted.recv += mine();
	return __real_recv(fd, buf, len, flags);
}

int __real_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout);
int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	counted.poll += mine();
	return __real_poll(fds, n, timeout);
}

int64_t __real_hw_mono_ms(void);
int64_t __wrap_hw_mono_ms(void);
int64_t __wrap_hw_mono_ms(void)
{
	counted.clock += mine();
	return __real_hw_mono_ms();
}

/* Count from now (zeroed) on the calling thread. */
static void count_begin(void)
{
	memset(&counted, 0, sizeof counted);
	counted_thread = pthread_self();
	atomic_store(&counting, true);
}

static struct counts count_end(void)
{
	atomic_store(&counting, false);
	return counted;
}

/* ---- the node */

struct node {
	int lfd;
	uint16_t port;
	pthread_t thread;
	uint64_t submits;      /* read after join */
	uint32_t lens[ROUNDS]; /* the body lengths of the first SUBMIT frames */
};

/* One connection: its HELLO answered as the primary's, promising heartbeats, then each
 * SUBMIT answered at once (lsn = request id), until the client goes. */
static void *serve(void *arg)
{
	struct node *n = arg;
	struct hw_fake_stream s = {.fd = accept(n->lfd, NULL, NULL),
				   .buf = malloc(HW_FAKE_STREAM_BYTES)};
	struct hw_frame f;
	struct hw_submit_hdr sh;
	if (s.fd >= 0 && s.buf != NULL && hw_fake_next_frame(&s, &f) && f.type == HW_FRAME_HELLO) {
		hw_fake_send_hello(s.fd, HAWSER__WIRE__V1__ROLE__PRIMARY, PROMISE_MS);
		while (hw_fake_next_frame(&s, &f) && f.type == HW_FRAME_SUBMIT &&
		       hw_submit_hdr_get(f.body, f.len, &sh) == 0) {
			if (n->submits < ROUNDS)
				n->lens[n->submits] = f.len;
			n->submits++;
			hw_fake_send_reply(s.fd, sh.request_id, 0, false);
		}
	}
	free(s.buf);
	if (s.fd >= 0)
		close(s.fd);
	return NULL;
}

static struct hw_client *node_start(struct node *n)
{
	memset(n, 0, sizeof *n);
	n->lfd = hw_fake_bind(&n->port);
	assert_true(n->lfd >= 0);
	assert_int_equal(listen(n->lfd, 4), 0);
	assert_int_equal(pthread_create(&n->thread, NULL, serve, n), 0);
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", n->port);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	assert_true(hw_client_silence_ms(c) > 0); /* it judges the node's silence */
	return c;
}

static void node_join(struct node *n, struct hw_client *c)
{
	hw_client_close(c);
	pthread_join(n->thread, NULL);
	close(n->lfd);
}

/* ---- the tests */

/* A record sent as the bench sends it, held and flushed, is one sendmsg: no read, no poll
 * and no clock reading. Its outcome, once the caller's poll says the socket is readable,
 * is one recv and at most one clock reading (the time it came, for the silence bound),
 * no poll, over the two waits with no time a drain makes: the one that takes it and the
 * one that says -ETIMEDOUT. */
static void test_record_costs(void **state)
{
	(void)state;
	static struct node n;
	struct hw_client *c = node_start(&n);
	static const uint8_t rec[240] = {1};
	for (uint64_t id = 1; id <= ROUNDS; id++) {
		count_begin();
		hw_client_hold(c);
		assert_int_equal(hw_client_submit(c, id, rec, sizeof rec, HW_DEFAULT, 0), 0);
		assert_int_equal(hw_client_flush(c), 0);
		struct counts sent = count_end();
		assert_int_equal(sent.sendmsg, 1);
		assert_int_equal(sent.recv + sent.poll + sent.clock, 0);

		struct pollfd p = {.fd = hw_client_fd(c), .events = POLLIN};
		assert_false(hw_client_ready(c));
		assert_int_equal(poll(&p, 1, EVENT_MS), 1);

		count_begin();
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, 0, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.code, 0);
		assert_int_equal(o.lsn, id);
		assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
		struct counts drained = count_end();
		assert_int_equal(drained.recv, 1);
		assert_int_equal(drained.poll + drained.sendmsg, 0);
		assert_true(drained.clock <= 1);
	}
	node_join(&n, c);
	assert_int_equal(n.submits, ROUNDS);
}

/* A wait with no time on a socket with nothing in it reads once and says -ETIMEDOUT,
 * judging the node's silence (one clock reading) with no poll: the look a caller that
 * polls many connections takes at each now and then, so that a stopped node is found
 * (hawser bench: QUIET_STEP_MS). */
static void test_idle_look_costs(void **state)
{
	(void)state;
	static struct node n;
	struct hw_client *c = node_start(&n);
	struct hw_outcome o;
	count_begin();
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	struct counts idle = count_end();
	assert_int_equal(idle.recv, 1);
	assert_int_equal(idle.clock, 1);
	assert_int_equal(idle.poll + idle.sendmsg, 0);
	node_join(&n, c);
}

/* An empty record (NULL, 0) is a SUBMIT frame of the submit header alone, held or not,
 * sent with one sendmsg, and its outcome comes as any record's. */
static void test_empty_record(void **state)
{
	(void)state;
	static struct node n;
	struct hw_client *c = node_start(&n);
	for (uint64_t id = 1; id <= 2; id++) {
		count_begin();
		if (id == 2)
			hw_client_hold(c);
		assert_int_equal(hw_client_submit(c, id, NULL, 0, HW_DEFAULT, 0), 0);
		assert_int_equal(hw_client_flush(c), 0);
		assert_int_equal(count_end().sendmsg, 1);
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, EVENT_MS, &o), 0);
		assert_int_equal(o.request_id, id);
	}
	node_join(&n, c);
	assert_int_equal(n.submits, 2);
	assert_int_equal(n.lens[0], HW_SUBMIT_HEADER_BYTES);
	assert_int_equal(n.lens[1], HW_SUBMIT_HEADER_BYTES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_costs),
		cmocka_unit_test(test_idle_look_costs),
		cmocka_unit_test(test_empty_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
