/* test_kill_durable.c: a primary and its standby (durable, k = 1) killed with SIGKILL
 * under a client's load, again and again and at varied moments, each restarted at once.
 * Their stores commit without flushing while a thread of their own flushes each commit
 * behind them (replica/store_flush.c), so a kill can leave the newest commit unflushed:
 * the next open rolls it back (store_rolled_back) and the write-ahead log replays it.
 * Each restart comes back at or past every LSN acknowledged before its kill; afterwards
 * every acknowledged record is on both nodes at its LSN with the same bytes, their heads
 * and state digests are equal, and both stores verify. A primary killed with entries it
 * had streamed and not yet written leaves the standby ahead of its restart: the standby
 * sets those entries aside and follows by itself, never rebuilt (docs/failover.md "A
 * static primary restarted"). How often a restart rolled a commit back, or a standby set
 * entries aside, depends on where the kills fell: printed, never asserted. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "hawser.h"
#include "tests/integration/proc.h"

#define RECORDS       50000u /* far more than a round takes before its kill */
#define FINAL_RECORDS 2000u  /* the last load's, every one acknowledged */
#define WINDOW        64u
#define EVENT_WAIT_MS 20000
#define STOP_WAIT_MS  10000
#define ROUNDS        8u
/* Looks at a store for a commit its thread has not flushed yet before the kill lands
 * anyway (a bound on the look, not a wait for a time). */
#define UNFLUSHED_LOOKS 200000u

/* When a node is killed: once the load has `acked` acknowledgements (0 with no load: as
 * soon as the last restart said it started), and then, if `unflushed`, at the first look
 * that finds its store's newest commit not yet flushed (replica/store_flush.c): LMDB's
 * newest meta page one past DIR/store.flushed. */
struct when {
	uint64_t acked;
	bool unflushed;
};
/* One round: a load (none when the primary's acked is 0), the standby killed and
 * restarted (when its acked is not 0), then the primary killed. */
struct round {
	struct when standby, primary;
};
static const struct round plan[ROUNDS] = {
	{{600, false}, {2000, false}}, {{0, false}, {300, false}},   {{0, false}, {0, false}},
	{{0, false}, {500, true}},     {{200, true}, {1500, false}}, {{0, false}, {100, true}},
	{{1000, true}, {2500, true}},  {{0, false}, {1000, false}},
};

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode p, s;
	struct hw_load load[ROUNDS + 1]; /* each round's, then the final one */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("kill-durable", f->root, sizeof f->root) != 0)
		return -1;
	f->p.proc.err_fd = f->p.proc.log_fd = -1;
	f->s.proc.err_fd = f->s.proc.log_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	/* Processes first: a load blocked on a dead node's socket then returns. */
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	bool joined = true;
	for (unsigned i = 0; i <= ROUNDS; i++)
		joined = hw_load_join(&f->load[i], 60000) && joined;
	int rc = hw_test_rm_rf(f->root);
	if (!joined)
		return -1; /* a thread still uses f: leak it rather than free it under it */
	for (unsigned i = 0; i <= ROUNDS; i++)
		hw_load_free(&f->load[i]);
	free(f);
	return rc;
}

/* Start (again) t: the LSN its started line says it is at; a standby's once it follows
 * the primary, as its following line says. */
static uint64_t start(struct hw_tnode *t, bool standby)
{
	size_t mark;
	char line[1024];
	hw_proc_kill(&t->proc); /* reaped already: frees its log before the slot is reused */
	assert_int_equal(hw_tnode_start(t, &mark), 0);
	if (!standby) {
		size_t from = 0;
		assert_true(hw_proc_wait_line(&t->proc, &from, "event=started", NULL, 0, line,
					      sizeof line));
		return (uint64_t)hw_log_field(line, "lsn", -1);
	}
	assert_true(hw_proc_wait_line(&t->proc, &mark, "event=following", NULL, EVENT_WAIT_MS, line,
				      sizeof line));
	return (uint64_t)hw_log_field(line, "our_lsn", -1);
}

/* The transaction id in LMDB's newest meta page of dir's data.mdb, and the one
 * DIR/store.flushed records (docs/formats.md; 0 when there is none): whether the newest
 * commit is not flushed yet. The meta pages' layout is store_flush.c's. */
#define META_PSIZE_OFF 40u
#define META_TXNID_OFF 144u
static bool unflushed_now(const struct hw_tnode *t)
{
	char path[HW_PROC_PATH_MAX + 16];
	uint8_t page[160], rec[32];
	uint64_t newest = 0, recorded = 0;
	uint32_t psize;
	snprintf(path, sizeof path, "%s/data.mdb", t->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool read = pread(fd, page, sizeof page, 0) == (ssize_t)sizeof page;
	memcpy(&psize, page + META_PSIZE_OFF, sizeof psize);
	for (unsigned i = 0; read && i < 2; i++) {
		uint64_t id;
		read = pread(fd, page, sizeof page, (off_t)i * psize) == (ssize_t)sizeof page;
		memcpy(&id, page + META_TXNID_OFF, sizeof id);
		newest = read && id > newest ? id : newest;
	}
	close(fd);
	snprintf(path, sizeof path, "%s/store.flushed", t->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (pread(fd, rec, sizeof rec, 0) == (ssize_t)sizeof rec)
		memcpy(&recorded, rec + 8, sizeof recorded);
	close(fd);
	return read && recorded > 0 && newest == recorded + 1;
}

static void kill_node(struct hw_tnode *t, bool unflushed)
{
	for (unsigned look = 0; unflushed && look < UNFLUSHED_LOOKS && !unflushed_now(t); look++)
		sched_yield(); /* the node's threads have the two cores */
	assert_int_equal(hw_proc_signal(&t->proc, SIGKILL), 0);
	assert_int_equal(hw_proc_reap(&t->proc, STOP_WAIT_MS), 128 + SIGKILL);
}

/* A durable load of count records on the primary, on its own thread: seed, and a lane of
 * its own (bench/workload.h), so that what an earlier load left does not refuse its
 * records. */
static void load_start(struct fix *f, struct hw_load *l, uint64_t count, uint64_t seed)
{
	*l = (struct hw_load){.addr = f->p.client,
			      .count = count,
			      .window = WINDOW,
			      .mode = HW_DURABLE,
			      .k = 1,
			      .seed = seed,
			      .lane = (uint32_t)seed,
			      .wait_ms = EVENT_WAIT_MS};
	assert_int_equal(hw_load_init(l), 0);
	assert_int_equal(hw_load_start(l), 0);
}

/* The standby killed under the load and restarted: it comes back holding every LSN
 * acknowledged (made durable on it) before, and the load goes on. */
static void standby_round(struct fix *f, struct hw_load *l, const struct when *w)
{
	assert_true(hw_load_wait_acked(l, w->acked, EVENT_WAIT_MS));
	kill_node(&f->s, w->unflushed);
	uint64_t acked = hw_load_acked_max(l);
	assert_true(start(&f->s, true) >= acked);
	assert_true(hw_load_wait_acked(l, hw_load_acked(l) + WINDOW + 1, EVENT_WAIT_MS));
}

/* After the primary's restart, from mark on in the standby's log: it follows again, a
 * standby left ahead once it set its entries past the primary's head aside. */
static void refollow(struct fix *f, size_t mark)
{
	if (!hw_proc_wait_line(&f->s.proc, &mark, "event=following", NULL, EVENT_WAIT_MS, NULL, 0))
		fail_msg("the standby does not follow the restarted primary");
}

/* One round of the plan; the primary is killed, restarted, and followed again. */
static void run_round(struct fix *f, unsigned i)
{
	const struct round *r = &plan[i];
	struct hw_load *l = &f->load[i];
	if (r->primary.acked > 0) {
		load_start(f, l, RECORDS, i + 1);
		if (r->standby.acked > 0)
			standby_round(f, l, &r->standby);
		assert_true(hw_load_wait_acked(l, r->primary.acked, EVENT_WAIT_MS));
	}
	size_t mark = hw_proc_mark(&f->s.proc);
	kill_node(&f->p, r->primary.unflushed);
	uint64_t acked = 0;
	if (r->primary.acked > 0) {
		assert_true(hw_load_join(l, EVENT_WAIT_MS)); /* its connection was lost */
		assert_true(l->acked >= r->primary.acked);
		acked = hw_load_acked_max(l);
	}
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=primary_lost", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	assert_true(start(&f->p, false) >= acked); /* nothing acknowledged was lost */
	refollow(f, mark);
}

static void verify(struct fix *f, const char *dir)
{
	char log[HW_PROC_PATH_MAX + 16], out[4096];
	snprintf(log, sizeof log, "%s/verify.log", f->root);
	const char *args[] = {"verify", dir, NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, 60000, args), 0);
}

/* Both stopped cleanly once the standby holds the last load; then every load's
 * acknowledged records are on both, and the two are equal. */
static void check_end(struct fix *f)
{
	struct hw_load *last = &f->load[ROUNDS];
	load_start(f, last, FINAL_RECORDS, ROUNDS + 1);
	assert_true(hw_load_join(last, 60000));
	assert_int_equal(last->rc, 0);
	for (uint64_t i = 0; i < FINAL_RECORDS; i++) { /* as the generator meant each */
		assert_true(last->done_rec[i]);
		assert_int_equal(last->out[i].code, last->expect[i]);
	}
	uint64_t seen;
	assert_int_equal(
		hw_tnode_wait_durable(&f->s, hw_load_acked_max(last), EVENT_WAIT_MS, &seen), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	uint64_t acked = 0;
	for (unsigned i = 0; i <= ROUNDS; i++) {
		char why[256] = "";
		if (hw_tstore_compare(f->p.dir, f->s.dir, &f->load[i], why, sizeof why) != 0)
			fail_msg("load %u, primary vs standby: %s", i, why);
		acked += f->load[i].acked;
	}
	verify(f, f->p.dir);
	verify(f, f->s.dir);
	print_message("acknowledged %llu records; store_rolled_back: primary %u, standby %u; "
		      "standby set entries aside %u times\n",
		      (unsigned long long)acked,
		      hw_test_log_lines(f->p.log, "event=store_rolled_back", NULL, 0),
		      hw_test_log_lines(f->s.log, "event=store_rolled_back", NULL, 0),
		      hw_test_log_lines(f->s.log, "event=ahead_set_aside", NULL, 0));
}

/* p1 (durable, k 1) and s1, killed round after round as the plan says; at the end
 * nothing acknowledged is missing from either, and they are equal. */
static void test_kill_primary_and_standby(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts po = {.primary = true, .standbys = "s1", .mode = "durable", .k = 1};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	start(&f->p, false);
	start(&f->s, true);
	for (unsigned i = 0; i < ROUNDS; i++)
		run_round(f, i);
	check_end(f);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_kill_durable") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_primary_and_standby, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
