/* test_writer.c: the store writer with a write-ahead log in front: it holds batches in one
 * transaction and commits lazily, but a commit asked for with hw_writer_commit_soon()
 * comes at the end of the job under way, through the callback, without the loop waiting;
 * one held while the writer is idle is committed by its timer.
 * A large job is handed over in pieces as they are prepared, and a failure part way keeps
 * the pieces before it. And a standby's writer (its apply) runs below the priority of the
 * thread that starts it, and takes its primary's entries without validating their
 * records again. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/fault.h"
#include "bench/workload.h"
#include "engine/io/loop.h"
#include "engine/io/wal.h"
#include "engine/io/writer.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "tests/integration/proc.h"

#define RECORDS_PER_JOB 20u
#define WAIT_MS         10000 /* bound on a callback; a failing test stops here, never hangs */

struct seen {
	enum hw_job_stage stage;
	uint64_t last_lsn;      /* DONE: the job's head */
	uint64_t committed_lsn; /* DONE: j->committed_lsn; COMMITTED: hw_writer_committed */
	uint64_t store_lsn;     /* hw_store_head() as a reader sees it then */
	size_t to;              /* DONE: the records prepared (j->to) */
	int rc;
};

/* One PREPARED callback: the records it is about and the segments that came with them. */
struct piece {
	size_t from, to;
	size_t segments;
	uint64_t first_lsn, last_lsn; /* of the segments, 0: none */
};

struct fx {
	char dir[300];
	char wal_dir[320];
	struct hw_loop *loop;
	struct hw_store *store;
	struct hw_wal *wal;
	struct hw_writer *writer;
	struct hw_workload *load;
	struct hw_timer *limit;
	struct hw_fault
		sync_fault; /* the store's hw_store_sync(): disarmed unless a test arms it */
	struct seen seen[16];
	size_t n_seen;
	struct piece pieces[64];
	size_t n_pieces;
	enum hw_job_stage stop_at; /* stop the loop at this callback */
	bool timed_out;
};

/* Take a PREPARED callback's segments: they follow each other, and the records' LSNs are
 * theirs. */
static void take_piece(struct fx *f, struct hw_job *j)
{
	assert_true(f->n_pieces < sizeof f->pieces / sizeof f->pieces[0]);
	struct piece *p = &f->pieces[f->n_pieces++];
	*p = (struct piece){.from = j->from, .to = j->to};
	while (j->segment != NULL) {
		struct hw_segment *seg = j->segment;
		j->segment = seg->next;
		if (p->segments++ == 0)
			p->first_lsn = seg->first_lsn;
		else
			assert_int_equal(seg->first_lsn, p->last_lsn + 1);
		p->last_lsn = seg->last_lsn;
		hw_segment_free(seg);
	}
	for (size_t i = j->from; i < j->to; i++)
		assert_int_equal(j->res[i].lsn, p->first_lsn + (i - j->from));
}

static void writer_cb(void *arg, struct hw_job *j, enum hw_job_stage stage)
{
	struct fx *f = arg;
	if (stage == HW_JOB_PREPARED) {
		take_piece(f, j);
		return;
	}
	assert_true(f->n_seen < sizeof f->seen / sizeof f->seen[0]);
	struct seen *s = &f->seen[f->n_seen++];
	struct hw_head h;
	assert_int_equal(hw_store_head(f->store, &h), 0);
	s->stage = stage;
	s->store_lsn = h.lsn;
	if (stage == HW_JOB_DONE) {
		s->last_lsn = j->last_lsn;
		s->committed_lsn = j->committed_lsn;
		s->to = j->to;
		s->rc = j->rc;
		hw_writer_release(f->writer);
	} else {
		s->rc = hw_writer_committed(f->writer, &s->committed_lsn);
	}
	if (stage == f->stop_at)
		hw_loop_stop(f->loop);
}

static void limit_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct fx *f = arg;
	f->timed_out = true;
	hw_loop_stop(f->loop);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(hw_test_mkdtemp("writer", f->dir, sizeof f->dir), 0);
	snprintf(f->wal_dir, sizeof f->wal_dir, "%s/wal", f->dir);
	hw_fault_init(&f->sync_fault);
	struct hw_store_opts o = {.log_ahead = true, .sync_fault = &f->sync_fault};
	assert_int_equal(hw_store_init(f->dir), 0);
	assert_int_equal(hw_store_open(f->dir, &o, &f->store), 0);
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->wal_dir, &f->wal, &last), 0);
	assert_int_equal(hw_loop_new(&f->loop), 0);
	assert_int_equal(
		hw_writer_start(f->store, f->loop, HW_JOB_SUBMIT, writer_cb, f, &f->writer), 0);
	hw_writer_set_wal(f->writer, f->wal);
	struct hw_workload_opts wo = {
		.profile = "terminal_peak", .seed = 7, .count = 1000, .end_ms = hw_wall_ms()};
	assert_int_equal(hw_workload_new(&wo, &f->load), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hw_writer_stop(f->writer);
	if (f->limit != NULL)
		hw_timer_free(f->limit);
	hw_wal_close(f->wal);
	hw_store_close(f->store);
	hw_loop_free(f->loop);
	hw_workload_free(f->load);
	int rc = hw_test_rm_rf(f->dir);
	free(f);
	return rc;
}

/* Hand the writer a job of count good records. */
static void kick_records(struct fx *f, size_t count)
{
	struct hw_job *j = hw_writer_filling(f->writer);
	uint8_t buf[HW_RECORD_BYTES_MAX];
	while (j->n < count) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(f->load, buf, sizeof buf, &it), 0);
		if (it.expect != 0)
			continue; /* a poison record gets no LSN */
		size_t i = hw_job_add(j, buf, it.len);
		j->token[i] = i;
		j->mode[i] = 0;
		j->k[i] = 1;
	}
	j->epoch = 1;
	j->now_ms = hw_wall_ms();
	hw_writer_kick(f->writer);
}

static void kick_job(struct fx *f)
{
	kick_records(f, RECORDS_PER_JOB);
}

/* Run the loop until the callback for stage comes; returns what it saw. */
static const struct seen *run_until(struct fx *f, enum hw_job_stage stage)
{
	size_t before = f->n_seen;
	f->stop_at = stage;
	if (f->limit == NULL)
		assert_int_equal(hw_timer_new(f->loop, WAIT_MS, 0, limit_cb, f, &f->limit), 0);
	else
		hw_timer_again(f->limit, WAIT_MS);
	while (!f->timed_out && (f->n_seen == before || f->seen[f->n_seen - 1].stage != stage))
		hw_loop_run(f->loop);
	assert_false(f->timed_out);
	return &f->seen[f->n_seen - 1];
}

/* A commit asked for before a job is handed over comes at that job's end (its DONE says
 * the store committed it), and again after each job until the asked LSN is committed;
 * then the writer holds batches again. */
static void test_commit_soon_commits_at_the_end_of_each_job_until_covered(void **state)
{
	struct fx *f = *state;
	hw_writer_commit_soon(f->writer, 1);
	kick_job(f);
	const struct seen *d1 = run_until(f, HW_JOB_DONE);
	assert_int_equal(d1->rc, 0);
	assert_int_equal(d1->last_lsn, RECORDS_PER_JOB);
	assert_int_equal(d1->committed_lsn, d1->last_lsn);
	assert_true(d1->store_lsn >= d1->last_lsn); /* a reader sees it */

	/* Asked for beyond this job: committed at its end too. */
	hw_writer_commit_soon(f->writer, d1->last_lsn + 1);
	kick_job(f);
	const struct seen *d2 = run_until(f, HW_JOB_DONE);
	assert_int_equal(d2->rc, 0);
	assert_int_equal(d2->last_lsn, 2 * RECORDS_PER_JOB);
	assert_int_equal(d2->committed_lsn, d2->last_lsn);

	/* Covered: the next job is held in the transaction, not committed. */
	kick_job(f);
	const struct seen *d3 = run_until(f, HW_JOB_DONE);
	assert_int_equal(d3->rc, 0);
	assert_int_equal(d3->last_lsn, 3 * RECORDS_PER_JOB);
	assert_int_equal(d3->committed_lsn, d2->last_lsn);
}

/* A job held in the store's transaction (its DONE says the store has not committed it)
 * is committed on request between jobs: the loop asks, returns at once, and hears of the
 * commit through HW_JOB_COMMITTED with a committed LSN, and a store head, covering it. */
static void test_commit_soon_between_jobs_is_reported_through_the_callback(void **state)
{
	struct fx *f = *state;
	kick_job(f);
	const struct seen *d = run_until(f, HW_JOB_DONE);
	assert_int_equal(d->rc, 0);
	assert_int_equal(d->last_lsn, RECORDS_PER_JOB);
	assert_true(d->committed_lsn < d->last_lsn); /* held: the lazy policy */
	uint64_t asked = d->last_lsn;
	hw_writer_commit_soon(f->writer, asked);
	const struct seen *c = run_until(f, HW_JOB_COMMITTED);
	assert_int_equal(c->rc, 0);
	assert_true(c->committed_lsn >= asked);
	assert_true(c->store_lsn >= asked);
	/* A request the store covers already is a no-op: a job after it is held again. */
	hw_writer_commit_soon(f->writer, asked);
	kick_job(f);
	const struct seen *d2 = run_until(f, HW_JOB_DONE);
	assert_int_equal(d2->committed_lsn, asked);
	assert_int_equal(d2->last_lsn, asked + RECORDS_PER_JOB);
}

/* A held job is committed by the writer's own timer once it goes idle, with nobody
 * asking, and the loop hears of it through HW_JOB_COMMITTED. CMake also runs this file
 * where CLOCK_BOOTTIME is a day ahead of CLOCK_MONOTONIC (a time namespace, as after a
 * suspend): a timer waited for on the wrong one of them would never fire. */
static void test_idle_writer_commits_what_it_holds(void **state)
{
	struct fx *f = *state;
	kick_job(f);
	const struct seen *d = run_until(f, HW_JOB_DONE);
	assert_true(d->committed_lsn < d->last_lsn);
	uint64_t last = d->last_lsn;
	const struct seen *c = run_until(f, HW_JOB_COMMITTED);
	assert_int_equal(c->rc, 0);
	assert_int_equal(c->committed_lsn, last);
	assert_int_equal(c->store_lsn, last);
}

/* Stopping the writer commits what it holds: the store ends at the last job's head. */
static void test_stop_commits_what_is_held(void **state)
{
	struct fx *f = *state;
	kick_job(f);
	const struct seen *d = run_until(f, HW_JOB_DONE);
	assert_true(d->committed_lsn < d->last_lsn);
	uint64_t last = d->last_lsn;
	hw_writer_stop(f->writer);
	f->writer = NULL;
	struct hw_head h;
	assert_int_equal(hw_store_head(f->store, &h), 0);
	assert_int_equal(h.lsn, last);
}

/* Stopping the writer also flushes the store (with a log in front its commits leave
 * that to hw_store_sync): whoever starts from its head next, a promotion or a
 * step-down, takes that head as durable though the log may not have flushed it. A
 * flush that failed stays the store's, for that starter to read. */
static void test_stop_flushes_the_store(void **state)
{
	struct fx *f = *state;
	hw_fault_arm(&f->sync_fault, 0, -1);
	kick_job(f);
	const struct seen *d = run_until(f, HW_JOB_DONE);
	assert_int_equal(d->rc, 0);
	assert_int_equal(f->sync_fault.fired, 0); /* no flush was due before the stop */
	hw_writer_stop(f->writer);
	f->writer = NULL;
	assert_int_equal(f->sync_fault.fired, 1);
	assert_int_equal(hw_store_commit(f->store), HW_ESTORE_FAILED);
}

/* A flush of the store that fails after its commit, while the writer waits idle for a
 * job, reaches the loop at once as a failed commit between jobs with its cause: no later
 * commit is needed to tell of it. */
static void test_idle_flush_failure_reported(void **state)
{
	struct fx *f = *state;
	hw_fault_arm(&f->sync_fault, 0, -1);
	kick_job(f);
	assert_int_equal(run_until(f, HW_JOB_DONE)->rc, 0);
	const struct seen *c = run_until(f, HW_JOB_COMMITTED); /* the idle commit */
	while (c->rc == 0)
		c = run_until(f, HW_JOB_COMMITTED); /* then its flush's failure */
	assert_int_equal(c->rc, -EIO);
	assert_int_equal(f->sync_fault.fired, 1);
	assert_int_equal(hw_store_failure(f->store), -EIO);
}

/* A job of more than a piece comes back in pieces of HW_WRITER_PIECE_RECORDS, one segment
 * each, in order, however many of them one callback takes: the first records can go out
 * while the rest are prepared. */
static void test_large_job_handed_over_in_pieces(void **state)
{
	struct fx *f = *state;
	const size_t n = 2 * HW_WRITER_PIECE_RECORDS + 5;
	kick_records(f, n);
	const struct seen *d = run_until(f, HW_JOB_DONE);
	assert_int_equal(d->rc, 0);
	assert_int_equal(d->last_lsn, n);
	assert_int_equal(d->to, n);
	size_t segments = 0;
	for (size_t i = 0; i < f->n_pieces; i++) {
		const struct piece *p = &f->pieces[i];
		assert_int_equal(p->from, i == 0 ? 0 : f->pieces[i - 1].to);
		assert_true(p->to % HW_WRITER_PIECE_RECORDS == 0 || p->to == n);
		assert_int_equal(p->first_lsn, p->from + 1);
		assert_int_equal(p->last_lsn, p->to);
		assert_int_equal(p->segments, (p->to - 1) / HW_WRITER_PIECE_RECORDS -
						      p->from / HW_WRITER_PIECE_RECORDS + 1);
		segments += p->segments;
	}
	assert_int_equal(f->pieces[f->n_pieces - 1].to, n);
	assert_int_equal(segments, 3);
}

/* A key/value record with id, tenant and a value of vlen bytes (at most
 * HW_KV_VALUE_BYTES_MAX) into buf; its length. */
static size_t kv_record(uint8_t *buf, size_t cap, unsigned id, const char *tenant, size_t vlen)
{
	static uint8_t value[HW_KV_VALUE_BYTES_MAX];
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	uint8_t rid[16] = {1};
	memcpy(rid + 1, &id, sizeof id);
	r.record_id = (ProtobufCBinaryData){sizeof rid, rid};
	r.tenant_id = (char *)tenant;
	r.facility_id = "JPNGO-NCB";
	r.schema_version = 1;
	r.event_time_ms = hw_wall_ms();
	kv.key = "k";
	kv.value = (ProtobufCBinaryData){vlen, value};
	r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	r.kv_put = &kv;
	size_t len = hw_record_encode(&r, buf, cap);
	assert_true(len > 0);
	return len;
}

/* Jobs of large records held in one transaction: the bound on what the store holds
 * (HW_STORE_HELD_BYTES, its room to take them again) is kept between the pieces of a job
 * too, by a commit part way; without it the store's check on that room stops the process. */
static void test_held_bytes_bounded_between_pieces(void **state)
{
	struct fx *f = *state;
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	unsigned id = 0;
	/* 10 MiB, 20 MiB held, then a full job whose later pieces pass HW_STORE_HELD_BYTES */
	const size_t records[3] = {320, 320, HW_BATCH_RECORDS_MAX};
	for (int job = 0; job < 3; job++) {
		struct hw_job *j = hw_writer_filling(f->writer);
		size_t len = kv_record(buf, sizeof buf, ++id, "T1", HW_KV_VALUE_BYTES_MAX);
		while (j->n < records[job] && hw_job_fits(j, len)) {
			size_t i = hw_job_add(j, buf, len);
			j->token[i] = i;
			j->k[i] = 1;
			len = kv_record(buf, sizeof buf, ++id, "T1", HW_KV_VALUE_BYTES_MAX);
		}
		id--; /* the record left out */
		j->epoch = 1;
		j->now_ms = hw_wall_ms();
		hw_writer_kick(f->writer);
		const struct seen *d = run_until(f, HW_JOB_DONE);
		assert_int_equal(d->rc, 0);
		assert_int_equal(d->last_lsn, id);
	}
	assert_true(f->seen[f->n_seen - 1].committed_lsn > 0); /* a commit came part way */
}

/* A store that fails in the second piece of a job: the first was handed over and stays
 * prepared, DONE carries the failure and says where the prepared records end. */
static void test_failure_in_a_later_piece_keeps_the_first(void **state)
{
	struct fx *f = *state;
	hw_writer_stop(f->writer);
	hw_store_close(f->store);
	struct hw_fault full;
	/* the log append of the piece's fourth record; at the largest map, MAP_FULL is final */
	hw_fault_arm(&full, (int)HW_WRITER_PIECE_RECORDS + 3, 1);
	struct hw_store_opts o = {
		.log_ahead = true, .map_bytes = HW_MAP_BYTES_MAX, .mapfull_fault = &full};
	assert_int_equal(hw_store_open(f->dir, &o, &f->store), 0);
	assert_int_equal(
		hw_writer_start(f->store, f->loop, HW_JOB_SUBMIT, writer_cb, f, &f->writer), 0);
	hw_writer_set_wal(f->writer, f->wal);
	kick_records(f, 2 * HW_WRITER_PIECE_RECORDS);
	const struct seen *d = run_until(f, HW_JOB_DONE);
	assert_int_equal(full.fired, 1);
	assert_int_not_equal(d->rc, 0);
	assert_int_equal(d->to, HW_WRITER_PIECE_RECORDS);
	assert_int_equal(f->n_pieces, 1);
	assert_int_equal(f->pieces[0].to, HW_WRITER_PIECE_RECORDS);
	assert_int_equal(f->pieces[0].last_lsn, HW_WRITER_PIECE_RECORDS);
}

/* The nice value of this process's thread named hw-store. Called after a job of the
 * writer came back, so the thread has run past where it sets its priority and names
 * itself: fails when there is no such thread. */
static int writer_thread_nice(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		FILE *fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		bool named =
			fgets(comm, sizeof comm, fp) != NULL && strcmp(comm, "hw-store\n") == 0;
		fclose(fp);
		if (!named)
			continue;
		id_t tid = (id_t)atoi(e->d_name); /* e is closedir's to free */
		closedir(d);
		errno = 0;
		int nice = getpriority(PRIO_PROCESS, tid);
		assert_int_equal(errno, 0);
		return nice;
	}
	closedir(d);
	fail_msg("no hw-store thread");
	return 0;
}

/* A submit writer (a primary's) runs at the priority of the thread that starts it; an
 * append writer (a standby's apply) HW_WRITER_APPLY_NICE steps below, capped at 19, and
 * applies there what the primary's made; the caller's own priority is left alone. */
static void test_apply_writer_runs_below_the_thread_that_starts_it(void **state)
{
	struct fx *f = *state;
	errno = 0;
	int base = getpriority(PRIO_PROCESS, 0);
	assert_int_equal(errno, 0);
	kick_job(f);
	const struct seen *d = run_until(f, HW_JOB_DONE);
	assert_int_equal(d->rc, 0);
	assert_int_equal(writer_thread_nice(), base);
	hw_writer_stop(f->writer); /* commits the job: its entries can be read */
	f->writer = NULL;

	/* A standby's store, applying the primary's entries. */
	char sdir[320];
	snprintf(sdir, sizeof sdir, "%s/standby", f->dir);
	struct hw_store_opts o = {0};
	struct hw_store *sb;
	assert_int_equal(hw_store_init(sdir), 0);
	assert_int_equal(hw_store_open(sdir, &o, &sb), 0);
	assert_int_equal(hw_writer_start(sb, f->loop, HW_JOB_APPEND, writer_cb, f, &f->writer), 0);
	struct hw_job *j = hw_writer_filling(f->writer);
	for (uint64_t lsn = 1; lsn <= RECORDS_PER_JOB; lsn++) {
		uint8_t *entry;
		size_t len;
		assert_int_equal(hw_store_read_entry(f->store, lsn, &entry, &len), 0);
		assert_true(hw_job_fits(j, len));
		hw_job_add(j, entry, len);
		free(entry);
	}
	hw_writer_kick(f->writer);
	d = run_until(f, HW_JOB_DONE);
	assert_int_equal(d->rc, 0);
	assert_int_equal(d->last_lsn, RECORDS_PER_JOB);
	int want = base + HW_WRITER_APPLY_NICE;
	assert_int_equal(writer_thread_nice(), want < 19 ? want : 19);
	assert_int_equal(getpriority(PRIO_PROCESS, 0), base);
	hw_writer_stop(f->writer);
	f->writer = NULL;
	hw_store_close(sb);
}

/* An entry whose record validation refuses (a tenant with a space) but apply can keep:
 * a standby's writer (hw_writer_set_from_primary) applies it as its primary would have;
 * a writer without it (a vault's) refuses it with validation's code. */
static void test_append_writer_from_primary_does_not_validate(void **state)
{
	struct fx *f = *state;
	hw_writer_stop(f->writer);
	f->writer = NULL;
	uint8_t rec[256], entry[512], zero[HW_HASH_BYTES] = {0};
	size_t rl = kv_record(rec, sizeof rec, 0, "T 1", 0);
	struct hw_entry e;
	size_t len = hw_entry_encode(entry, 1, 1, hw_wall_ms(), zero, rec, (uint32_t)rl, &e);
	for (int primary = 0; primary < 2; primary++) {
		char sdir[320];
		snprintf(sdir, sizeof sdir, "%s/standby%d", f->dir, primary);
		struct hw_store *sb;
		assert_int_equal(hw_store_init(sdir), 0);
		assert_int_equal(hw_store_open(sdir, NULL, &sb), 0);
		assert_int_equal(
			hw_writer_start(sb, f->loop, HW_JOB_APPEND, writer_cb, f, &f->writer), 0);
		if (primary)
			hw_writer_set_from_primary(f->writer);
		hw_job_add(hw_writer_filling(f->writer), entry, len);
		hw_writer_kick(f->writer);
		const struct seen *d = run_until(f, HW_JOB_DONE);
		assert_int_equal(d->rc, primary ? 0 : HW_ERANGE);
		assert_int_equal(d->last_lsn, primary ? 1 : 0);
		hw_writer_stop(f->writer);
		f->writer = NULL;
		struct hw_head h;
		assert_int_equal(hw_store_head(sb, &h), 0);
		assert_int_equal(h.lsn, primary ? 1 : 0);
		hw_store_close(sb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_commit_soon_commits_at_the_end_of_each_job_until_covered, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_commit_soon_between_jobs_is_reported_through_the_callback, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_idle_writer_commits_what_it_holds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_commits_what_is_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_flushes_the_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_flush_failure_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_job_handed_over_in_pieces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_in_a_later_piece_keeps_the_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_bytes_bounded_between_pieces, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_apply_writer_runs_below_the_thread_that_starts_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_writer_from_primary_does_not_validate,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
