/* test_client_answers.c: what the client bounds and settles of what nodes answer (against
 * the fake node of fake_node.h, as test_client.c): the submits in flight, a flood of
 * heartbeats or of unasked outcomes, an answer that comes late or with an error, the
 * resend after a follow, and a failover longer than a submit's wait. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/client_int.h"
#include "hawser.h"
#include "tests/integration/fake_node.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

static const uint8_t record[100] = {0x0a, 0x10};

/* HW_EBUSY only with HW_CLIENT_INFLIGHT_MAX submits without an outcome: with the oldest
 * unanswered and the rest answered, the ring makes room for more. */
static void test_inflight_counts_unanswered(void **state)
{
	(void)state;
	struct server a, b;
	server_start(&a, HOLD_FIRST);
	server_bind(&b, ECHO); /* a second address: the client follows, and keeps copies */
	char addr[64];
	pair_addr(addr, sizeof addr, &a, &b);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	struct hw_outcome o;
	for (uint64_t id = 0; id < HW_CLIENT_INFLIGHT_MAX; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	for (uint64_t n = 1; n < HW_CLIENT_INFLIGHT_MAX; n++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.code, 0);
	}
	for (uint64_t id = HW_CLIENT_INFLIGHT_MAX; id < HW_CLIENT_INFLIGHT_MAX + 10; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	for (uint64_t n = 0; n < 10; n++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_true(o.request_id >= HW_CLIENT_INFLIGHT_MAX);
	}
	hw_client_close(c);
	server_join(&a);
	server_unbind(&b);
}

/* A client given one address has at most HW_CLIENT_INFLIGHT_MAX submits without an
 * outcome too: the next is refused with HW_EBUSY, unsent (its buffer might not hold its
 * outcome), until a wait takes one; then every submit sent gets its outcome, once. */
static void test_inflight_limit_one_address(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, ECHO);
	struct hw_client *c = connect_to(&s);
	for (uint64_t id = 1; id <= HW_CLIENT_INFLIGHT_MAX; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	const uint64_t last = HW_CLIENT_INFLIGHT_MAX + 1;
	assert_int_equal(hw_client_submit(c, last, record, sizeof record, HW_DEFAULT, 0), HW_EBUSY);
	hw_client_hold(c); /* held ones count as sent */
	assert_int_equal(hw_client_submit(c, last, record, sizeof record, HW_DEFAULT, 0), HW_EBUSY);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(hw_client_submit(c, last, record, sizeof record, HW_DEFAULT, 0), 0);
	for (uint64_t id = 2; id <= last; id++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.code, 0);
	}
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	hw_client_close(c);
	server_join(&s);
	assert_int_equal(s.submits, last);
}

/* A node that sends heartbeats without end cannot hold a wait or a status request past
 * its timeout: each returns -ETIMEDOUT while the flood goes on (it stops only once the
 * client goes), which a deadline pushed on by every heartbeat never would. */
static void test_heartbeat_flood_times_out(void **state)
{
	(void)state;
	struct server a;
	server_start(&a, FLOOD);
	struct hw_client *c = connect_to(&a);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 200, &o), -ETIMEDOUT);
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(hw_client_status(c, 200, &body, &len), -ETIMEDOUT);
	free(body);
	hw_client_close(c);
	server_join(&a);
}

/* A node answers a request it does not serve now with an ERROR and keeps the connection
 * (engine/node_digest.c: HW_EBUSY while another digest runs): the call returns that code
 * and the connection stays good, so the same request succeeds next time and other
 * requests go on. A node that closes after its ERROR: the call returns the code, and the
 * next call finds the close (HW_ECLOSED). */
static void test_request_error_keeps_connection(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, BUSY_DIGEST);
	struct hw_client *c = connect_to(&s);
	uint8_t *body = NULL;
	size_t len = 0;
	bool answered = false;
	assert_int_equal(hw_client_digest(c, 0, 0, 5000, &body, &len, &answered), HW_EBUSY);
	assert_true(answered); /* the node's ERROR answers it */
	assert_null(body);
	assert_int_equal(hw_client_digest(c, 0, 0, 5000, &body, &len, &answered), 0);
	assert_true(answered);
	Hawser__Wire__V1__DigestReply *r = hawser__wire__v1__digest_reply__unpack(NULL, len, body);
	assert_non_null(r);
	assert_int_equal(r->lsn, 7);
	hawser__wire__v1__digest_reply__free_unpacked(r, NULL);
	free(body);
	assert_int_equal(hw_client_status(c, 5000, &body, &len), 0);
	free(body);
	hw_client_close(c);
	server_join(&s);
	assert_int_equal(s.queries, 2);

	server_start(&s, REFUSE_DIGEST);
	c = connect_to(&s);
	assert_int_equal(hw_client_digest(c, 0, 0, 5000, &body, &len, &answered), HW_EFAULT_OFF);
	assert_true(answered);
	assert_int_equal(hw_client_digest(c, 0, 0, 5000, &body, &len, &answered), HW_ECLOSED);
	assert_false(answered); /* no answer came: the node closed */
	assert_int_equal(hw_client_status(c, 5000, &body, &len), HW_ECLOSED);
	hw_client_close(c);
	server_join(&s);
}

/* A request that timed out is still answered by the node later, in order: that late
 * answer is not taken for the next request's, which gets its own. */
static void test_late_answer_not_taken(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, LATE_DIGEST);
	struct hw_client *c = connect_to(&s);
	uint8_t *body = NULL;
	size_t len = 0;
	bool answered = true;
	assert_int_equal(hw_client_digest(c, 0, 0, 100, &body, &len, &answered), -ETIMEDOUT);
	assert_false(answered);
	assert_int_equal(hw_client_digest(c, 0, 0, 5000, &body, &len, &answered), 0);
	assert_true(answered);
	Hawser__Wire__V1__DigestReply *r = hawser__wire__v1__digest_reply__unpack(NULL, len, body);
	assert_non_null(r);
	assert_int_equal(r->lsn, 2);
	hawser__wire__v1__digest_reply__free_unpacked(r, NULL);
	free(body);
	hw_client_close(c);
	server_join(&s);
	assert_int_equal(s.queries, 2);
}

/* A node on a Unix socket that sends more outcomes than the client's buffer holds, none
 * of them asked for, and then reads nothing, while the client writes submits to it: the
 * buffer full of frames once its heartbeats are dropped can hold only such (the outcomes
 * of its own submits fit with room to spare), so the client ends the connection with
 * HW_EPROTOCOL, for good, without waiting on the node (here: before the node's valve
 * opens). It stopped reading and waited to write for as long as the node liked: a Unix
 * socket has no TCP_USER_TIMEOUT, and the client judged no silence while it could not
 * read. */
static void test_unix_unasked_flood_fails(void **state)
{
	(void)state;
	char dir[HW_PROC_PATH_MAX], path[HW_PROC_PATH_MAX + 16], addr[HW_PROC_PATH_MAX + 32];
	assert_int_equal(hw_test_mkdtemp("client-unix", dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/n.sock", dir);
	snprintf(addr, sizeof addr, "unix:%s", path);
	struct server s;
	server_start_unix(&s, UNASKED, path);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	static uint8_t big[HW_RECORD_BYTES_MAX];
	int rc = 0;
	for (uint64_t id = 1; id <= 256 && rc == 0; id++) /* 16 MiB: more than a socket holds */
		rc = hw_client_submit(c, id, big, sizeof big, HW_DEFAULT, 0);
	assert_int_equal(rc, HW_EPROTOCOL);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 0, &o), HW_EPROTOCOL);
	sem_post(&s.go);
	hw_client_close(c);
	server_join(&s);
	assert_false(s.gate_expired); /* the client was done while the node read nothing */
	assert_int_equal(hw_test_rm_rf(dir), 0);
}

/* Records of test_resend_bounded: 16 MiB of 64 KiB records, far more than the socket
 * buffers between the client and a node that reads nothing hold (loopback TCP: at most
 * 4 MiB to send, and the node's receive buffer is set small). */
#define RESEND_RECORDS 256u

/* A following client whose primary closed with RESEND_RECORDS submits in flight finds
 * a new primary that reads nothing (back-pressure): the resend cannot finish, and the
 * wait still ends at its timeout with -ETIMEDOUT (the node never saw the gate's valve
 * open); a submit made meanwhile is kept behind the others and so is a wait with no
 * time. Once the node reads, the next waits go on where the resend stopped: every
 * record reaches it once, whole (its frame CRC holds), in submission order, and its
 * outcome comes back once, in that order. */
static void test_resend_bounded(void **state)
{
	(void)state;
	struct server a, b;
	server_start(&a, CLOSE);
	server_bind(&b, GATED);
	int small = 64 * 1024;
	assert_int_equal(setsockopt(b.lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
	server_serve(&b);
	char addr[64];
	pair_addr(addr, sizeof addr, &a, &b);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	static uint8_t big[HW_RECORD_BYTES_MAX];
	for (uint64_t id = 1; id <= RESEND_RECORDS; id++) {
		memset(big, (int)id, sizeof big);
		assert_int_equal(hw_client_submit(c, id, big, sizeof big, HW_DEFAULT, 0), 0);
	}
	server_join(&a); /* it closed on the first: all are in flight, kept */
	struct hw_outcome o;
	/* Long enough for the search to reach b and read its HELLO on a loaded host: b then
	 * reads nothing, so the wait ends by its timeout all the same. */
	assert_int_equal(hw_client_wait(c, 3000, &o), -ETIMEDOUT);
	sem_wait(&b.ready); /* b answered the HELLO: the resend is under way, unread */
	assert_int_equal(hw_client_fd(c), -1);
	assert_int_equal(
		hw_client_submit(c, RESEND_RECORDS + 1, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	sem_post(&b.go);
	for (uint64_t id = 1; id <= RESEND_RECORDS + 1; id++) {
		assert_int_equal(hw_client_wait(c, 10000, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.code, 0);
	}
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	assert_true(hw_client_fd(c) >= 0);
	hw_client_close(c);
	server_join(&b);
	assert_false(b.gate_expired); /* the first wait ended while b still read nothing */
	assert_int_equal(b.submits, RESEND_RECORDS + 1);
	for (uint64_t i = 0; i <= RESEND_RECORDS; i++)
		assert_int_equal(b.ids[i], i + 1);
}

/* A status request that timed out is answered later, among the outcomes of submits made
 * after it: the late Status is skipped, as a request skips it, and the outcomes come; a
 * later request gets its own answer. It made the wait fail with HW_EPROTOCOL, for good. */
static void test_late_answer_among_outcomes(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, LATE_STATUS);
	struct hw_client *c = connect_to(&s);
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(hw_client_status(c, 100, &body, &len), -ETIMEDOUT);
	sem_post(&s.go); /* the Status goes, then the echoes */
	for (uint64_t id = 1; id <= 3; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.code, 0);
	}
	assert_int_equal(hw_client_status(c, 5000, &body, &len), 0);
	free(body);
	hw_client_close(c);
	server_join(&s);
	assert_false(s.gate_expired);
}

/* A failover longer than `hawser submit` once waited for an outcome (30 s), within the
 * 60 s a client's search for the new primary lasts. */
#define LONG_FAILOVER_MS 35000

/* A LATE_PRIMARY node made the primary once ms have passed, on a thread of the test. */
struct promotion {
	struct server *node;
	int64_t ms;
};

static void *promote_later(void *arg)
{
	const struct promotion *p = arg;
	take_ms(p->ms);
	atomic_store(&p->node->promoted, true);
	return NULL;
}

/* `hawser submit` to a, which closes on the first submit, and b, a standby that becomes
 * the primary only after LONG_FAILOVER_MS: its waits outlast the client's search, which
 * finds b and resends there, and the run ends with every record accepted. They ended it
 * with -ETIMEDOUT ("Connection timed out") at 30 s, the records in flight unsettled. */
static void test_submit_outlasts_long_failover(void **state)
{
	(void)state;
	const char *bin = hw_test_bin_or_skip("test_submit_outlasts_long_failover");
	if (bin == NULL)
		skip(); /* needs HW_BIN: run through ctest */
	struct server a, b;
	server_start(&a, CLOSE);
	server_start_many(&b, LATE_PRIMARY);
	char addr[64];
	pair_addr(addr, sizeof addr, &a, &b);
	pthread_t t;
	struct promotion p = {&b, LONG_FAILOVER_MS};
	assert_int_equal(pthread_create(&t, NULL, promote_later, &p), 0);
	static struct hw_capture cap;
	int rc = hw_proc_capture(&cap, bin, "submit", "--connect", addr, "--insecure", "--generate",
				 "3", "--window", "3", "--json", NULL);
	printf("%s%s", cap.err, cap.out);
	assert_int_equal(pthread_join(t, NULL), 0);
	server_join(&a);
	server_stop(&b);
	assert_int_equal(rc, 0);
	uint64_t accepted = 0;
	assert_true(hw_test_json_u64(cap.out, "accepted", &accepted));
	assert_int_equal(accepted, 3);
	assert_int_equal(b.submits, 3);
}

/* Within a node's step-down after its storage failed: over the 8 follows a search of
 * fake nodes takes, and under the 1 s a failed node is passed over (client_follow.c). */
#define STEP_DOWN_MS 300

/* A following client whose primary a answers HW_ESTORE_FAILED (its storage failed) and
 * still answers as the primary, as a node does until its step-down, while b becomes the
 * primary STEP_DOWN_MS later: the record goes to b, accepted, and a, passed over in the
 * meantime, is not sent it again, nor dialled (no connection but the first). Taken again
 * at once, a answered the same each time, and the record came back in doubt (HW_ECLOSED)
 * after 8 follows, before b was promoted. */
static void test_failed_store_followed(void **state)
{
	(void)state;
	struct server a, b;
	server_start_many(&a, FAILED_STORE);
	server_start_many(&b, LATE_PRIMARY);
	struct hw_client *c = connect_pair(&a, &b);
	pthread_t t;
	struct promotion p = {&b, STEP_DOWN_MS};
	assert_int_equal(pthread_create(&t, NULL, promote_later, &p), 0);
	assert_acked(c, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	hw_client_close(c);
	server_stop(&a);
	server_stop(&b);
	assert_int_equal(a.submits, 1);
	assert_int_equal(b.submits, 1);
	/* passed over, a was not dialled either (no connection, no Hello, each round): its
	 * connections are the client's first and server_stop's poke */
	assert_int_equal(a.connections, 2);
}

/* What a following client never sends again: a refusal (sent after later records it
 * would be judged against another state), passed to the caller as it came. A client of
 * one address does not follow: HW_ESTORE_FAILED is its outcome (include/hawser.h). */
static void test_final_outcomes_not_followed(void **state)
{
	(void)state;
	struct server a, b, one;
	server_start(&a, REJECT);
	server_start_many(&b, ECHO);
	struct hw_client *c = connect_pair(&a, &b);
	struct hw_outcome o;
	assert_int_equal(hw_client_submit(c, 5, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.code, HW_ECHECK_DIGIT);
	hw_client_close(c);
	server_join(&a);
	server_stop(&b);
	assert_int_equal(a.submits, 1);
	assert_int_equal(b.submits, 0);
	server_start(&one, FAILED_STORE);
	c = connect_to(&one);
	assert_int_equal(hw_client_submit(c, 6, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.code, HW_ESTORE_FAILED);
	hw_client_close(c);
	server_join(&one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inflight_counts_unanswered),
		cmocka_unit_test(test_inflight_limit_one_address),
		cmocka_unit_test(test_heartbeat_flood_times_out),
		cmocka_unit_test(test_request_error_keeps_connection),
		cmocka_unit_test(test_late_answer_not_taken),
		cmocka_unit_test(test_late_answer_among_outcomes),
		cmocka_unit_test(test_resend_bounded),
		cmocka_unit_test(test_unix_unasked_flood_fails),
		cmocka_unit_test(test_submit_outlasts_long_failover),
		cmocka_unit_test(test_failed_store_followed),
		cmocka_unit_test(test_final_outcomes_not_followed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
