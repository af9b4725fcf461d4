/* test_storage_fail.c: a primary whose disk fails under load (its log's fdatasync returns
 * EIO through the LD_PRELOAD shim libhawser-faults.so, chaos/faultfs.c) on the failover
 * cluster of tests/integration/rig.h. It must step down at once instead of holding its
 * lease, an in-sync standby must take over within the RTO, no acknowledged record may be
 * lost, and the failed node must stay out: it says why, refuses votes and never leads
 * again until restarted. A client that follows the primary sends what the failed one
 * answered in doubt or refused to the new one by itself, so each record is stored once
 * and none is reported as an error, one submit at a time or 64 in flight. A primary with static
 * roles (no failover) whose log fails under a pipelined load answers every submit it took, each
 * with a typed code, and acknowledges nothing after it failed. A primary whose store alone fails
 * steps down and stays up, though a flush of its log lands after. A standby whose store
 * fails is named by the primary's status as refusing (storage_failed), not unreached. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "tests/integration/proc.h"
#include "tests/integration/rig.h"

#define EVENT_WAIT_MS 10000
#define STOP_WAIT_MS  10000
#define OUTCOME_MS    15000 /* one outcome: past a step-down and the client's search */
#define RECORDS       600u
#define BEFORE_FAULT  200u /* acknowledged by p1 before its disk fails */

struct fix {
	struct hw_rig rig;
	struct hw_rig_recs recs;
	struct hw_client *client;
	struct hw_tnode t; /* the static primary's test */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_rig_init(&f->rig, "storage-fail") != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_test_fault_env_clear();
	hw_client_close(f->client);
	hw_proc_kill(&f->t.proc); /* the static primary's test: a no-op when never started */
	hw_rig_recs_free(&f->recs);
	int rc = hw_rig_free(&f->rig);
	free(f);
	return rc;
}

/* The witness and the standbys as usual, p1 under the shim with its log's and store's
 * fsync calls set to fail from the first one after SIGUSR1; then p1 wins epoch 1. */
static void start_cluster(struct fix *f)
{
	struct hw_rig *r = &f->rig;
	for (int i = HW_RIG_VOTERS - 1; i > 0; i--)
		assert_int_equal(hw_rig_start(r, i, EVENT_WAIT_MS), 0);
	assert_int_equal(hw_test_fault_fsync_env(HW_FAULTS_LIB, r->dir[0]), 0);
	int rc = hw_rig_start(r, 0, EVENT_WAIT_MS);
	hw_test_fault_env_clear();
	assert_int_equal(rc, 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=became_primary", "epoch=1",
				      EVENT_WAIT_MS, NULL, 0));
}

/* Submit record i and wait for its outcome (the client follows the primary by itself);
 * the outcome is kept in f->recs. Returns its code (the generator means some records
 * to be refused: f->recs.expect). */
static int submit_one(struct fix *f, uint64_t i)
{
	struct hw_rig_recs *rs = &f->recs;
	assert_int_equal(hw_client_submit(f->client, i, rs->rec[i], rs->len[i], HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(f->client, OUTCOME_MS, &o), 0);
	assert_int_equal(o.request_id, i);
	rs->done[i] = true;
	rs->code[i] = o.code;
	rs->lsn[i] = o.lsn;
	rs->at_ms[i] = hw_wall_ms();
	return o.code;
}

/* Which standby became primary (in epoch 2, or later after a split vote) by deadline_ms
 * (wall clock); -1 if none. */
static int new_primary(struct fix *f, int64_t deadline_ms, char *line, size_t cap)
{
	do {
		for (int i = 1; i < HW_RIG_NODES; i++) {
			size_t from = 0;
			if (hw_proc_wait_line(&f->rig.proc[i], &from, "event=became_primary", NULL,
					      20, line, cap))
				return i;
		}
	} while (hw_wall_ms() < deadline_ms);
	return -1;
}

/* The client of the nodes' list, connected to p1. */
static void connect_all(struct fix *f)
{
	struct hw_rig *r = &f->rig;
	char addrs[HW_RIG_NODES * HW_RIG_ADDR_BYTES];
	snprintf(addrs, sizeof addrs, "%s,%s,%s", r->client[0], r->client[1], r->client[2]);
	assert_int_equal(hw_client_connect(addrs, &f->client), 0);
}

/* Every node stopped: every record has the outcome the generator meant, and is in new
 * primary np's log once (hw_rig_recs_once) with its bytes. */
static void check_stored_once(struct fix *f, int np)
{
	hw_client_close(f->client);
	f->client = NULL;
	(void)hw_rig_stop_all(&f->rig, STOP_WAIT_MS); /* p1 exits with its storage error */
	uint64_t acked;
	char why[256] = "";
	if (hw_rig_recs_check(&f->recs, f->rig.dir[np], &acked, why, sizeof why) != 0 ||
	    hw_rig_recs_once(&f->recs, f->rig.dir[np], why, sizeof why) != 0)
		fail_msg("%s", why);
	uint64_t meant = 0;
	for (uint64_t i = 0; i < f->recs.count; i++)
		meant += f->recs.expect[i] == 0;
	assert_int_equal(acked, meant);
}

/* p1's log flush fails with EIO under a durable load: p1 logs storage_failed and steps
 * down (reason storage_failed) instead of holding its lease, a standby becomes primary
 * after that, the client follows it and resends by itself, in order, what p1 answered in
 * doubt (HW_ECLOSED) or refused for its failure, so every submit gets the outcome the
 * generator meant (none an error), every acknowledged record is in the new primary's
 * log once with its bytes, and p1 refuses votes (storage_failed) and never leads again.
 * How long the failover took is printed, not asserted (the failover drill measures it
 * against the RTO). */
static void test_primary_fsync_fails(void **state)
{
	struct fix *f = *state;
	struct hw_rig *r = &f->rig;
	start_cluster(f);
	assert_int_equal(hw_rig_recs_init(&f->recs, RECORDS, 11), 0);
	connect_all(f);
	for (uint64_t i = 0; i < BEFORE_FAULT; i++)
		assert_int_equal(submit_one(f, i), f->recs.expect[i]);
	size_t mark = hw_proc_mark(&r->proc[0]);
	int64_t t0 = hw_wall_ms();
	assert_int_equal(hw_proc_signal(&r->proc[0], SIGUSR1), 0);
	for (uint64_t i = BEFORE_FAULT; i < RECORDS; i++)
		assert_int_equal(submit_one(f, i), f->recs.expect[i]);
	char line[512];
	int np = new_primary(f, t0 + EVENT_WAIT_MS, line, sizeof line);
	assert_true(np > 0);
	print_message("new primary %s %lld ms after the fault\n", hw_rig_ids[np],
		      (long long)(hw_log_field(line, "wall_ms", -1) - t0));
	assert_true(hw_proc_wait_line(&r->proc[0], &mark, "event=storage_failed", "in=wal",
				      EVENT_WAIT_MS, NULL, 0));
	/* its lease ended with the failure: before the new primary's term began */
	char ended[512];
	size_t from_end = 0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from_end, "event=lease_ended",
				      "reason=storage_failed", EVENT_WAIT_MS, ended, sizeof ended));
	assert_true(hw_log_line_ms(ended) > 0);
	assert_true(hw_log_line_ms(ended) <= hw_log_field(line, "wall_ms", -1));
	assert_true(hw_proc_wait_line(&r->proc[0], &mark, "event=stepped_down",
				      "reason=storage_failed", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&r->proc[0], &mark, "event=vote_denied",
				      "reason=storage_failed", EVENT_WAIT_MS, NULL, 0));
	check_stored_once(f, np);
	/* stopped, p1's whole log is read (to EOF): primary in epoch 1 only, that once */
	size_t from = 0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=became_primary", "epoch=1", 0,
				      NULL, 0));
	assert_false(
		hw_proc_wait_line(&r->proc[0], &from, "event=became_primary", NULL, 0, NULL, 0));
}

/* As above, with WINDOW durable submits in flight from the client of the nodes' list
 * when p1's log flush fails: p1 answers those it took in doubt (HW_ECLOSED), those in
 * the batch it was filling with the failure's code and those after it HW_ESTORE_FAILED,
 * then steps down. The client sends each of them to the new primary by itself, oldest
 * first: every outcome is the one the generator meant (none an error, no later record
 * refused for want of an earlier one), and every record is in the new primary's log
 * once. */
static void test_following_client_pipelined(void **state)
{
	enum { COUNT = 3000, WINDOW = 64, BEFORE = 500 };
	struct fix *f = *state;
	struct hw_rig_recs *rs = &f->recs;
	start_cluster(f);
	assert_int_equal(hw_rig_recs_init(rs, COUNT, 17), 0);
	connect_all(f);
	size_t mark = hw_proc_mark(&f->rig.proc[0]);
	int64_t t0 = 0;
	for (uint64_t sent = 0, got = 0; got < COUNT; got++) {
		for (; sent < COUNT && sent - got < WINDOW; sent++)
			assert_int_equal(hw_client_submit(f->client, sent, rs->rec[sent],
							  rs->len[sent], HW_DEFAULT, 0),
					 0);
		if (got == BEFORE) {
			t0 = hw_wall_ms();
			assert_int_equal(hw_proc_signal(&f->rig.proc[0], SIGUSR1), 0);
		}
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(f->client, OUTCOME_MS, &o), 0);
		uint64_t i = o.request_id;
		assert_true(i < sent && !rs->done[i]);
		if (o.code != rs->expect[i])
			fail_msg("record %llu: %s, meant %s", (unsigned long long)i,
				 hw_errname(o.code), hw_errname(rs->expect[i]));
		rs->done[i] = true;
		rs->code[i] = o.code;
		rs->lsn[i] = o.lsn;
	}
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &mark, "event=storage_failed", "in=wal",
				      EVENT_WAIT_MS, NULL, 0));
	char line[512];
	int np = new_primary(f, t0 + EVENT_WAIT_MS, line, sizeof line);
	assert_true(np > 0);
	print_message("new primary %s; the client connected %u times\n", hw_rig_ids[np],
		      hw_client_connects(f->client));
	check_stored_once(f, np);
}

/* Only p1's store fails (the fsyncs of its data.mdb, from SIGUSR1 on) while its log's
 * flushes, slowed to 20 ms, still succeed, under a pipelined local load: p1 steps down
 * and stays up refusing votes. A flush of its last batch that landed after the step-down
 * reached a standby core the failed step-down never started, and the node died on an
 * assertion (6 runs in 6 with slow flushes, 1 in 8 without, in the review). */
static void test_store_fails_flush_lands_after(void **state)
{
	enum { COUNT = 4000, WINDOW = 64, BEFORE = 200 };
	struct fix *f = *state;
	struct hw_rig *r = &f->rig;
	for (int i = HW_RIG_VOTERS - 1; i > 0; i--)
		assert_int_equal(hw_rig_start(r, i, EVENT_WAIT_MS), 0);
	char store[sizeof r->dir[0] + 16];
	snprintf(store, sizeof store, "%s/data.mdb", r->dir[0]);
	assert_int_equal(hw_test_fault_fsync_env(HW_FAULTS_LIB, store), 0);
	assert_int_equal(setenv("HW_FAULT_SLOW_MS", "20", 1), 0);
	int rc = hw_rig_start(r, 0, EVENT_WAIT_MS);
	hw_test_fault_env_clear();
	unsetenv("HW_FAULT_SLOW_MS");
	assert_int_equal(rc, 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=became_primary", "epoch=1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_rig_recs_init(&f->recs, COUNT, 7), 0);
	assert_int_equal(hw_client_connect(r->client[0], &f->client), 0);
	size_t mark = hw_proc_mark(&r->proc[0]);
	uint64_t sent = 0, got = 0;
	while (sent < COUNT || got < sent) {
		while (sent < COUNT && sent - got < WINDOW &&
		       hw_client_submit(f->client, sent, f->recs.rec[sent], f->recs.len[sent],
					HW_LOCAL, 0) == 0)
			sent++;
		if (got == BEFORE)
			assert_int_equal(hw_proc_signal(&r->proc[0], SIGUSR1), 0);
		struct hw_outcome o;
		if (hw_client_wait(f->client, OUTCOME_MS, &o) != 0)
			break; /* p1 stepped down: the rest is not this test's */
		got++;
	}
	print_message("%llu submitted, %llu answered by p1\n", (unsigned long long)sent,
		      (unsigned long long)got);
	assert_true(got > BEFORE);
	assert_true(hw_proc_wait_line(&r->proc[0], &mark, "event=storage_failed", "in=store",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&r->proc[0], &mark, "event=stepped_down", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	assert_true(hw_proc_wait_line(&r->proc[0], &mark, "event=vote_denied",
				      "reason=storage_failed", EVENT_WAIT_MS, NULL, 0));
	from = 0;
	char line[512] = "";
	if (hw_proc_wait_line(&r->proc[0], &from, "assertion failed", NULL, 0, line, sizeof line))
		fail_msg("p1 died: %s", line);
}

/* s1's store fails (the fsyncs of its data.mdb, from SIGUSR1 on) under a durable load:
 * s1 stays up and refuses p1's lease rounds, and p1's `hawser status` names it as refused
 * for its failed storage, not as unreached (its link is up and it answers). */
static void test_standby_store_fails_status(void **state)
{
	struct fix *f = *state;
	struct hw_rig *r = &f->rig;
	for (int i = HW_RIG_VOTERS - 1; i >= 0; i--) {
		char store[sizeof r->dir[1] + 16];
		snprintf(store, sizeof store, "%s/data.mdb", r->dir[1]);
		assert_int_equal(i == 1 ? hw_test_fault_fsync_env(HW_FAULTS_LIB, store) : 0, 0);
		int rc = hw_rig_start(r, i, EVENT_WAIT_MS);
		hw_test_fault_env_clear();
		assert_int_equal(rc, 0);
	}
	size_t from = 0, mark = 0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=became_primary", "epoch=1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_rig_recs_init(&f->recs, RECORDS, 5), 0);
	assert_int_equal(hw_client_connect(r->client[0], &f->client), 0);
	assert_int_equal(hw_proc_signal(&r->proc[1], SIGUSR1), 0);
	for (uint64_t i = 0; i < BEFORE_FAULT; i++)
		submit_one(f, i);
	assert_true(hw_proc_wait_line(&r->proc[1], &mark, "event=storage_failed", "in=store",
				      EVENT_WAIT_MS, NULL, 0));
	static struct hw_capture cap;
	bool said = false;
	for (int look = 0; look < 50 && !said; look++) {
		(void)hw_proc_pump(&r->proc[0], look ? 100 : 0); /* a pause between two looks */
		hw_proc_capture(&cap, hw_test_bin(), "status", "--connect", r->client[0],
				"--insecure", NULL);
		said = strstr(cap.out, "refused by s1 (storage_failed)") != NULL;
	}
	print_message("%s", cap.out);
	assert_true(said);
	assert_null(strstr(cap.out, "unreached: s1"));
}

/* Start p9, a primary with static roles (mode local; its standby s1 never runs) with room
 * for room waiting submits (0: the default), under the shim: the fsyncs of its data
 * directory and fault_file under it ("": the whole directory) fail from SIGUSR1 on. */
static void static_primary_start(struct fix *f, const char *fault_file, unsigned room)
{
	struct hw_tnode_opts o = {
		.primary = true, .standbys = "s1", .mode = "local", .waiters_max = room};
	assert_int_equal(hw_tnode_init(&f->t, f->rig.root, "p9", &o), 0);
	char fault_path[HW_PROC_PATH_MAX + 16];
	snprintf(fault_path, sizeof fault_path, "%s%s", f->t.dir, fault_file);
	assert_int_equal(hw_test_fault_fsync_env(HW_FAULTS_LIB, fault_path), 0);
	int rc = hw_tnode_start(&f->t, NULL);
	hw_test_fault_env_clear();
	assert_int_equal(rc, 0);
}

/* A primary with static roles (static_primary_start) under the shim, the
 * fsyncs of fault_path (its data directory, or only its store's file) failing from
 * SIGUSR1 on, while 64 submits are in flight against room for 4 (so the client's
 * session pauses for room): every submit gets exactly one outcome (none is left in a
 * batch being filled, prepared after the failure, or unread in a paused session), the
 * failure's are typed, and none succeeds after the first one failed. Returns the node's
 * first storage_failed line in line. */
static void static_primary_fails(struct fix *f, const char *fault_file, char *line, size_t cap)
{
	/* submits go on until one failed (a store commit comes every HW_WRITER_COMMIT_MS
	 * under load), then what is in flight is drained; COUNT bounds a fault never felt */
	enum { WINDOW = 64, ROOM = 4, COUNT = 30000, BEFORE = 500 };
	static_primary_start(f, fault_file, ROOM);
	assert_int_equal(hw_rig_recs_init(&f->recs, COUNT, 13), 0);
	assert_int_equal(hw_client_connect(f->t.client, &f->client), 0);
	uint64_t sent = 0, outcomes = 0, ok_after = 0, failed = 0;
	bool signalled = false;
	bool *seen = calloc(COUNT, sizeof *seen);
	assert_non_null(seen);
	while (outcomes < sent || (sent < COUNT && failed == 0)) {
		while (sent < COUNT && failed == 0 && sent - outcomes < WINDOW) {
			assert_int_equal(hw_client_submit(f->client, sent, f->recs.rec[sent],
							  f->recs.len[sent], HW_DEFAULT, 0),
					 0);
			sent++;
		}
		if (!signalled && outcomes >= BEFORE) {
			assert_int_equal(hw_proc_signal(&f->t.proc, SIGUSR1), 0);
			signalled = true;
		}
		struct hw_outcome out;
		assert_int_equal(hw_client_wait(f->client, OUTCOME_MS, &out), 0);
		assert_true(out.request_id < sent && !seen[out.request_id]);
		seen[out.request_id] = true;
		outcomes++;
		failed += out.code != 0 && out.code != f->recs.expect[out.request_id];
		ok_after += failed > 0 && out.code == 0;
		assert_string_not_equal(hw_errname(out.code), "EUNKNOWN");
	}
	free(seen);
	print_message("%llu submits, %llu failed after the fault\n", (unsigned long long)sent,
		      (unsigned long long)failed);
	assert_true(failed > 0);
	assert_int_equal(ok_after, 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->t.proc, &from, "event=storage_failed", NULL,
				      EVENT_WAIT_MS, line, cap));
}

/* The log's and the store's fsyncs fail (the whole data directory); `hawser status` on
 * the node, which stays up, says so (a WARNING line, failed in --json) and exits 5. */
static void test_static_primary_answers_all(void **state)
{
	struct fix *f = *state;
	char line[512];
	static_primary_fails(f, "", line, sizeof line);
	static struct hw_capture cap;
	assert_int_equal(hw_proc_capture(&cap, hw_test_bin(), "status", "--connect", f->t.client,
					 "--insecure", NULL),
			 5);
	assert_non_null(strstr(cap.out, "  WARNING: storage failed ("));
	assert_int_equal(hw_proc_capture(&cap, hw_test_bin(), "status", "--connect", f->t.client,
					 "--insecure", "--json", NULL),
			 5);
	assert_null(strstr(cap.out, "\"failed\":\"\"")); /* its code */
	assert_non_null(strstr(cap.out, "\"warnings\":[\"storage failed ("));
}

/* Only the store's file fails: whether its commit failed at a batch's end or between
 * batches, the node's first storage_failed names the store and the real cause (EIO),
 * not the sticky "store failed earlier" the next batch then meets. */
static void test_static_primary_store_fails(void **state)
{
	char line[512];
	static_primary_fails(*state, "/data.mdb", line, sizeof line);
	print_message("%s\n", line);
	assert_non_null(strstr(line, "in=store"));
	assert_non_null(strstr(line, "code=EIO"));
}

/* A client given a list (p9, a static primary, and an address where nothing listens)
 * when p9's log flush fails (its wal/ alone): p9 stays the primary and refuses every
 * record after it (HW_ESTORE_FAILED, nothing stored). The client follows, and the search
 * takes p9 again once its 1 s pass-over ends; a record it refuses again for its storage
 * gets that code, final, where the client used to follow p9 8 times, a second each, and
 * then answer it in doubt (HW_ECLOSED) and close for good. The record whose flush failed,
 * which p9 answered in doubt, stays so (HW_ECLOSED) though p9 refuses it after; the next
 * one is HW_ESTORE_FAILED, and the client still takes submits. How long that took is
 * printed, not asserted. */
static void test_following_client_static_primary(void **state)
{
	enum { COUNT = 40 };
	struct fix *f = *state;
	static_primary_start(f, "/wal", 0);
	uint16_t port;
	assert_int_equal(hw_free_port(&port), 0);
	char addrs[sizeof f->t.client + 32];
	snprintf(addrs, sizeof addrs, "%s,127.0.0.1:%u", f->t.client, port);
	assert_int_equal(hw_client_connect(addrs, &f->client), 0);
	assert_int_equal(hw_rig_recs_init(&f->recs, COUNT, 13), 0);
	assert_int_equal(submit_one(f, 0), f->recs.expect[0]);
	size_t mark = hw_proc_mark(&f->t.proc);
	assert_int_equal(hw_proc_signal(&f->t.proc, SIGUSR1), 0);
	uint64_t i = 1;
	int code;
	while ((code = submit_one(f, i)) == f->recs.expect[i] && i + 2 < COUNT)
		i++; /* until a flush after the signal failed */
	assert_int_equal(code, HW_ECLOSED);
	assert_true(hw_proc_wait_line(&f->t.proc, &mark, "event=storage_failed", "in=wal",
				      EVENT_WAIT_MS, NULL, 0));
	int64_t t0 = hw_mono_ms();
	assert_int_equal(submit_one(f, i + 1), HW_ESTORE_FAILED);
	print_message("record %llu %s; the next HW_ESTORE_FAILED after %lld ms\n",
		      (unsigned long long)i, hw_errname(code), (long long)(hw_mono_ms() - t0));
}

int main(void)
{
	if (hw_test_bin_or_skip("test_storage_fail") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_primary_fsync_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_following_client_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_fails_flush_lands_after, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_standby_store_fails_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_primary_answers_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_primary_store_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_following_client_static_primary, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
