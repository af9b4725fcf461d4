/* test_follow.c: a client library connection following a real failover cluster
 * (bench/cluster.h: a primary and two standbys, rto 2 s) through the loss of its
 * primary under load: killed (-9), or stopped (SIGSTOP: its kernel keeps the
 * connections, and only its silence tells, include/hawser.h); and `hawser bench
 * --connect`, whose drivers poll their sockets, through a stopped primary. The client
 * port against fake nodes is tests/integration/test_client.c. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "bench/cluster.h"
#include "bench/workload.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "tests/skip.h"
#include "wire.pb-c.h"

#define FOLLOW_RECORDS 3000u
#define FOLLOW_WINDOW  32u
#define FOLLOW_KILL_AT 500u  /* outcomes before the primary is killed */
#define FOLLOW_WAIT_MS 30000 /* an outcome, through an election (rto 2 s) */

/* What the kill -9 case keeps: the cluster and every record sent. */
struct follow_fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_cluster *c;
	uint8_t *rec[FOLLOW_RECORDS];
	size_t len[FOLLOW_RECORDS];
	int expect[FOLLOW_RECORDS];
	struct hw_outcome out[FOLLOW_RECORDS];
	bool done[FOLLOW_RECORDS];
	int sig;                 /* what the primary gets after FOLLOW_KILL_AT outcomes */
	int64_t last_ms, gap_ms; /* the last outcome's hw_mono_ms(); the longest wait for
				    one after the signal (printed, not asserted) */
};

static int follow_setup(void **state)
{
	struct follow_fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("client", f->root, sizeof f->root) != 0)
		return -1;
	*state = f;
	return 0;
}

static int follow_teardown(void **state)
{
	struct follow_fix *f = *state;
	hw_cluster_free(f->c, false);
	for (unsigned i = 0; i < FOLLOW_RECORDS; i++)
		free(f->rec[i]);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* Draw every record before the clock matters (the generator's bytes, kept to compare). */
static void follow_records(struct follow_fix *f)
{
	struct hw_workload_opts wo = {.seed = 5, .count = FOLLOW_RECORDS, .end_ms = hw_wall_ms()};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	for (unsigned i = 0; i < FOLLOW_RECORDS; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(w, buf, sizeof buf, &it), 0);
		f->rec[i] = malloc(it.len);
		assert_non_null(f->rec[i]);
		memcpy(f->rec[i], buf, it.len);
		f->len[i] = it.len;
		f->expect[i] = it.expect;
	}
	hw_workload_free(w);
}

/* A failover cluster (a primary, node 0, and two standbys: durable k = 1 after one is
 * gone; rto 2 s, plaintext) in f->root/cluster, its primary up. */
static void follow_cluster(struct follow_fix *f)
{
	char root[HW_PROC_PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	struct hw_cluster_opts co = {.hawser_bin = hw_test_bin(),
				     .root = root,
				     .standbys = 2,
				     .failover = true,
				     .rto_ms = 2000,
				     .insecure = true};
	assert_int_equal(hw_cluster_start(&co, &f->c), 0);
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, FOLLOW_WAIT_MS, &p), 0);
	assert_int_equal(p, 0);
}

/* One outcome: exactly one per record. */
static void follow_take(struct follow_fix *f, struct hw_client *c, unsigned *outcomes)
{
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, FOLLOW_WAIT_MS, &o), 0);
	assert_true(o.request_id < FOLLOW_RECORDS);
	assert_false(f->done[o.request_id]);
	f->done[o.request_id] = true;
	f->out[o.request_id] = o;
	int64_t now = hw_mono_ms();
	if (*outcomes >= FOLLOW_KILL_AT && now - f->last_ms > f->gap_ms)
		f->gap_ms = now - f->last_ms;
	f->last_ms = now;
	if (++*outcomes == FOLLOW_KILL_AT)
		assert_int_equal(hw_cluster_kill(f->c, 0, f->sig), 0);
}

/* The primary gets f->sig (SIGKILL, or SIGSTOP: its kernel still keeps the connection,
 * and only its silence tells) with FOLLOW_WINDOW submits in flight from a client given
 * every node: the client finds the new primary by itself and resends; every record gets
 * one outcome, the one the generator expects, and each good one is in the new primary's
 * log exactly once (its LSN distinct, the entry there holding the same bytes). */
static void follow_run(struct follow_fix *f)
{
	follow_records(f);
	follow_cluster(f);
	unsigned p;
	struct hw_client *c;
	assert_int_equal(hw_client_connect(hw_cluster_client_list(f->c), &c), 0);
	unsigned outcomes = 0;
	for (unsigned i = 0; i < FOLLOW_RECORDS; i++) {
		if (i >= FOLLOW_WINDOW)
			follow_take(f, c, &outcomes);
		assert_int_equal(hw_client_submit(c, i, f->rec[i], f->len[i], HW_DEFAULT, 0), 0);
	}
	while (outcomes < FOLLOW_RECORDS)
		follow_take(f, c, &outcomes);
	assert_int_equal(hw_cluster_primary(f->c, FOLLOW_WAIT_MS, &p), 0);
	assert_int_not_equal(p, 0);
	assert_string_equal(hw_client_addr(c), hw_cluster_node_addr(f->c, p));
	hw_client_close(c);
	if (f->sig == SIGSTOP)
		assert_int_equal(hw_cluster_kill(f->c, 0, SIGKILL), 0);

	struct hw_store *s;
	/* the store applies behind the node's write-ahead log: look once the node stopped */
	assert_int_equal(hw_cluster_stop(f->c), 0);
	struct hw_store_opts so = {.read_only = true};
	assert_int_equal(hw_store_open(hw_cluster_dir(f->c, p), &so, &s), 0);
	static bool lsn_seen[4 * FOLLOW_RECORDS];
	memset(lsn_seen, 0, sizeof lsn_seen); /* a static: both follow tests use it */
	unsigned dup = 0;
	for (unsigned i = 0; i < FOLLOW_RECORDS; i++) {
		assert_int_equal(f->out[i].code, f->expect[i]);
		if (f->expect[i] != 0)
			continue;
		dup += f->out[i].duplicate;
		uint64_t lsn = f->out[i].lsn;
		assert_true(lsn > 0 && lsn < 4 * FOLLOW_RECORDS);
		assert_false(lsn_seen[lsn]);
		lsn_seen[lsn] = true;
		uint8_t *e;
		size_t elen;
		assert_int_equal(hw_store_read_entry(s, lsn, &e, &elen), 0);
		struct hw_entry en;
		assert_int_equal(hw_entry_decode(e, elen, &en), 0);
		assert_int_equal(en.record_len, f->len[i]);
		assert_memory_equal(en.record, f->rec[i], f->len[i]);
		free(e);
	}
	hw_store_close(s);
	fprintf(stderr,
		"test_follow: %u records through a %s of the primary, %u answered "
		"as duplicates after the resend; outcomes stopped for %lld ms at most\n",
		FOLLOW_RECORDS, f->sig == SIGSTOP ? "SIGSTOP" : "kill -9", dup,
		(long long)f->gap_ms);
}

static void test_follows_primary_kill(void **state)
{
	struct follow_fix *f = *state;
	if (hw_test_bin() == NULL)
		HW_SKIP("HW_BIN (the hawser binary) is not set: run through ctest");
	f->sig = SIGKILL;
	follow_run(f);
}

/* A primary whose process stopped (SIGSTOP) keeps its connections open in the kernel:
 * the client tells it by its silence (no heartbeat for 1 s) and follows. */
static void test_follows_primary_stop(void **state)
{
	struct follow_fix *f = *state;
	if (hw_test_bin() == NULL)
		HW_SKIP("HW_BIN (the hawser binary) is not set: run through ctest");
	f->sig = SIGSTOP;
	follow_run(f);
}

/* `hawser bench --connect` (its drivers poll their sockets) through a primary that
 * stops (SIGSTOP) mid-load: a stopped node never makes a socket readable, so the drivers
 * look at every lane at least every 500 ms (hw_client_wait(c, 0), which tells the node
 * by its silence) and each lane follows the new primary: the bench ends with exit 0,
 * every record answered as expected. Polling until its 10 s stuck bound instead, it
 * failed (exit 1). */
static void test_bench_follows_stopped_primary(void **state)
{
	struct follow_fix *f = *state;
	if (hw_test_bin() == NULL)
		HW_SKIP("HW_BIN (the hawser binary) is not set: run through ctest");
	char log[HW_PROC_PATH_MAX + 32];
	snprintf(log, sizeof log, "%s/bench.log", f->root);
	follow_cluster(f);
	const char *args[] = {"bench",      "--connect", hw_cluster_client_list(f->c),
			      "--insecure", "--records", "100000",
			      "--clients",  "8",         "--window",
			      "8",          NULL};
	struct hw_proc b;
	assert_int_equal(hw_proc_start(&b, log, args), 0);
	uint64_t lsn = 0;
	for (int i = 0; i < 600 && lsn < 5000; i++) { /* the load under way: 60 s at most */
		hw_proc_pump(&b, 100);                /* the pause between two looks */
		struct Hawser__Wire__V1__Status *st;
		if (hw_cluster_node_status(f->c, 0, 1000, &st) == 0) {
			lsn = st->last_lsn;
			hawser__wire__v1__status__free_unpacked(st, NULL);
		}
	}
	assert_true(lsn >= 5000);
	assert_int_equal(hw_cluster_kill(f->c, 0, SIGSTOP), 0);
	int rc = hw_proc_reap(&b, 60000);
	assert_int_equal(hw_cluster_kill(f->c, 0, SIGKILL), 0);
	hw_proc_kill(&b);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_follows_primary_kill, follow_setup,
						follow_teardown),
		cmocka_unit_test_setup_teardown(test_follows_primary_stop, follow_setup,
						follow_teardown),
		cmocka_unit_test_setup_teardown(test_bench_follows_stopped_primary, follow_setup,
						follow_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
