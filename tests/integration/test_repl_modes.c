/* test_repl_modes.c: streaming replication between real `hawser node` processes on
 * loopback, one durability mode at a time: what each mode guarantees at the moment a
 * submit is acknowledged (checked by reading the standby's store from this process while
 * it runs), that every acknowledged record reaches the standby byte for byte, that the
 * nodes end with equal digests, and that the refusals a client can get (k too large, not
 * the primary, a bad record) come back with the right code. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "base/clock.h"
#include "bench/workload.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "tos.pb-c.h"

#define RECORDS       5000u
#define WINDOW        64u
#define SAMPLE_EVERY  64u /* about one look per window of acks */
#define POISON_COUNT  3000u
#define EVENT_WAIT_MS 10000
#define STOP_WAIT_MS  10000
#define CATCHUP_MS    30000
#define STANDBYS_MAX  2

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode p;
	struct hw_tnode s[STANDBYS_MAX];
	unsigned n_standbys;
	struct hw_load load;
	/* standby stores this process reads while the standbys run */
	struct hw_store *ro[STANDBYS_MAX];
	uint64_t sampled;
	uint64_t missing_lsn; /* first acked LSN a standby did not have, 0: none */
	enum hw_durability mode;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("repl-modes", f->root, sizeof f->root) != 0)
		return -1;
	f->p.proc.err_fd = f->p.proc.log_fd = -1;
	for (unsigned i = 0; i < STANDBYS_MAX; i++)
		f->s[i].proc.err_fd = f->s[i].proc.log_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	for (unsigned i = 0; i < STANDBYS_MAX; i++) {
		hw_store_close(f->ro[i]);
		hw_proc_kill(&f->s[i].proc);
	}
	hw_proc_kill(&f->p.proc);
	hw_load_join(&f->load, 60000);
	hw_load_free(&f->load);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* A primary (mode, k = 1 in its config; waiters_max 0: the default) with n standbys,
 * all running and following. */
static void start_cluster_w(struct fix *f, const char *mode, unsigned n, unsigned waiters_max)
{
	const char *names[] = {"s1", "s2"};
	struct hw_tnode_opts po = {.primary = true,
				   .standbys = n == 2 ? "s1, s2" : "s1",
				   .mode = mode,
				   .k = 1,
				   .waiters_max = waiters_max};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	f->n_standbys = n;
	for (unsigned i = 0; i < n; i++) {
		struct hw_tnode_opts so = {.primary_addr = f->p.listen};
		assert_int_equal(hw_tnode_init(&f->s[i], f->root, names[i], &so), 0);
		size_t mark;
		assert_int_equal(hw_tnode_start(&f->s[i], &mark), 0);
		assert_true(hw_proc_wait_line(&f->s[i].proc, &mark, "event=following", NULL,
					      EVENT_WAIT_MS, NULL, 0));
	}
}

static void start_cluster(struct fix *f, const char *mode, unsigned n)
{
	start_cluster_w(f, mode, n, 0);
}

/* The mode's promise at ack time: every standby's store already holds the LSN. */
/* Is the entry at lsn, whole (its hash checks), in one of the write-ahead log segments
 * under dir? That is where "durable" on a standby means it is (engine/io/wal.h). */
static bool wal_holds(const char *dir, uint64_t lsn)
{
	char wal[HW_PROC_PATH_MAX + 8];
	snprintf(wal, sizeof wal, "%s/wal", dir);
	DIR *d = opendir(wal);
	bool found = false;
	struct dirent *de;
	while (d != NULL && !found && (de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".wal") == NULL)
			continue;
		char path[sizeof wal + 300];
		snprintf(path, sizeof path, "%s/%s", wal, de->d_name);
		FILE *fp = fopen(path, "rb");
		static uint8_t buf[HW_ENTRY_BYTES_MAX];
		while (fp != NULL && !found && fread(buf, 1, HW_ENTRY_HEADER_BYTES, fp) ==
						       HW_ENTRY_HEADER_BYTES) {
			size_t rl = hw_entry_len(buf) - HW_ENTRY_HEADER_BYTES;
			struct hw_entry e;
			if (rl > HW_RECORD_BYTES_MAX ||
			    fread(buf + HW_ENTRY_HEADER_BYTES, 1, rl, fp) != rl ||
			    hw_entry_decode(buf, HW_ENTRY_HEADER_BYTES + rl, &e) != 0)
				break;
			found = e.lsn == lsn;
		}
		if (fp != NULL)
			fclose(fp);
	}
	if (d != NULL)
		closedir(d);
	return found;
}

static int sample_cb(struct hw_load *l, uint64_t lsn, void *arg)
{
	(void)l;
	struct fix *f = arg;
	f->sampled++;
	for (unsigned i = 0; i < f->n_standbys; i++) {
		uint8_t *e = NULL;
		size_t len;
		int rc = hw_store_read_entry(f->ro[i], lsn, &e, &len);
		free(e);
		/* durable: on the standby's disk, in its log or already in its store;
		 * applied: in its store, where reads see it. */
		if (rc != 0 && f->mode == HW_DURABLE && wal_holds(f->s[i].dir, lsn))
			rc = 0;
		if (rc != 0) {
			f->missing_lsn = lsn;
			return rc;
		}
	}
	return 0;
}

static void open_standby_stores(struct fix *f)
{
	struct hw_store_opts ro = {.read_only = true};
	for (unsigned i = 0; i < f->n_standbys; i++)
		assert_int_equal(hw_store_open(f->s[i].dir, &ro, &f->ro[i]), 0);
}

static void load_init(struct fix *f, uint64_t count, enum hw_durability mode, unsigned k,
		      const char *profile)
{
	f->load = (struct hw_load){.addr = f->p.client,
				   .count = count,
				   .window = WINDOW,
				   .mode = mode,
				   .k = k,
				   .profile = profile,
				   .seed = 11};
	assert_int_equal(hw_load_init(&f->load), 0);
}

/* Every record was accepted, and their LSNs are exactly 1..count. */
static uint64_t check_all_acked(const struct hw_load *l)
{
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->acked, l->count);
	uint8_t *seen = calloc(l->count + 1, 1);
	assert_non_null(seen);
	for (uint64_t i = 0; i < l->count; i++) {
		assert_true(l->done_rec[i]);
		assert_int_equal(l->out[i].code, 0);
		assert_false(l->out[i].duplicate);
		assert_true(l->out[i].lsn >= 1 && l->out[i].lsn <= l->count);
		assert_int_equal(seen[l->out[i].lsn], 0);
		seen[l->out[i].lsn] = 1;
	}
	free(seen);
	return l->count;
}

/* Let the standbys catch up, stop every node cleanly, and compare stores. */
static void stop_and_compare(struct fix *f, uint64_t last_lsn)
{
	for (unsigned i = 0; i < f->n_standbys; i++) {
		uint64_t seen;
		assert_int_equal(hw_tnode_wait_durable(&f->s[i], last_lsn, CATCHUP_MS, &seen), 0);
		hw_store_close(f->ro[i]);
		f->ro[i] = NULL;
		assert_int_equal(hw_proc_stop(&f->s[i].proc, STOP_WAIT_MS), 0);
	}
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	for (unsigned i = 0; i < f->n_standbys; i++) {
		char why[256] = "";
		int rc = hw_tstore_compare(f->p.dir, f->s[i].dir, &f->load, why, sizeof why);
		if (rc != 0)
			fail_msg("%s vs %s: %s", f->p.id, f->s[i].id, why);
	}
}

/* Submit RECORDS through the client in mode with k = 1 and check the mode's promise:
 * at ack time (sampled) for durable and applied, after the run for every mode. */
static void run_mode(struct fix *f, const char *name, enum hw_durability mode)
{
	start_cluster(f, name, 1);
	f->mode = mode;
	bool at_ack = mode == HW_DURABLE || mode == HW_APPLIED;
	load_init(f, RECORDS, mode, 1, NULL);
	if (at_ack) {
		open_standby_stores(f);
		f->load.sample_every = SAMPLE_EVERY;
		f->load.sample_cb = sample_cb;
		f->load.sample_arg = f;
	}
	int rc = hw_load_run(&f->load);
	if (f->missing_lsn != 0)
		fail_msg("mode %s: lsn %llu acked but not in the standby's store", name,
			 (unsigned long long)f->missing_lsn);
	assert_int_equal(rc, 0);
	if (at_ack)
		assert_true(f->sampled >= RECORDS / SAMPLE_EVERY);
	stop_and_compare(f, check_all_acked(&f->load));
}

/* Mode local: acks need only the primary's commit; the standby still ends equal. */
static void test_mode_local(void **state)
{
	run_mode(*state, "local", HW_LOCAL);
}

/* Mode received: after the run the standby's store holds every acked record with the
 * same bytes (that each ack waited for the standby's received ack is
 * test_received_waits_for_ack's). */
static void test_mode_received(void **state)
{
	run_mode(*state, "received", HW_RECEIVED);
}

/* Mode durable: each sampled acked LSN is already on the standby's disk at ack time (in
 * its write-ahead log, or already in its store). */
static void test_mode_durable(void **state)
{
	run_mode(*state, "durable", HW_DURABLE);
}

/* Mode applied: each sampled acked LSN is already in the standby's store at ack time. */
static void test_mode_applied(void **state)
{
	run_mode(*state, "applied", HW_APPLIED);
}

/* Four waiting submits at most, a client 64 ahead, mode applied: the primary stops
 * reading when it has no room, and the standby's acks, which free the room, let it read
 * again (they alone do in mode applied: the store and the log were done long before).
 * Every record is acknowledged. */
static void test_room_freed_by_acks(void **state)
{
	struct fix *f = *state;
	start_cluster_w(f, "applied", 1, 4);
	load_init(f, 400, HW_APPLIED, 1, NULL);
	assert_int_equal(hw_load_run(&f->load), 0);
	stop_and_compare(f, check_all_acked(&f->load));
}

/* Durable with k = 2 of 2 standbys: both hold each sampled acked LSN on disk at ack time. */
static void test_k2_of_2_durable(void **state)
{
	struct fix *f = *state;
	start_cluster(f, "durable", 2);
	f->mode = HW_DURABLE;
	open_standby_stores(f);
	load_init(f, RECORDS, HW_DURABLE, 2, NULL);
	f->load.sample_every = SAMPLE_EVERY;
	f->load.sample_cb = sample_cb;
	f->load.sample_arg = f;
	int rc = hw_load_run(&f->load);
	if (f->missing_lsn != 0)
		fail_msg("lsn %llu acked with k=2 but missing on a standby",
			 (unsigned long long)f->missing_lsn);
	assert_int_equal(rc, 0);
	stop_and_compare(f, check_all_acked(&f->load));
}

/* Draw the first record of the generator (seed 11) into buf. */
static size_t one_record(uint8_t *buf)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct hw_workload_opts wo = {.profile = NULL, .seed = 11, .count = 1, .end_ms = (int64_t)ts.tv_sec * 1000};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	struct hw_work_item it;
	assert_int_equal(hw_workload_next(w, buf, HW_RECORD_BYTES_MAX, &it), 0);
	hw_workload_free(w);
	return it.len;
}

static int submit_one(const char *addr, const uint8_t *rec, size_t len, enum hw_durability mode,
		      unsigned k, struct hw_outcome *o)
{
	struct hw_client *c;
	int rc = hw_client_connect(addr, &c);
	if (rc != 0)
		return rc;
	rc = hw_client_submit(c, 77, rec, len, mode, k);
	if (rc == 0)
		rc = hw_client_wait(c, EVENT_WAIT_MS, o);
	hw_client_close(c);
	return rc;
}

/* Records r[0..n) of the generator (seed 11), each HW_RECORD_BYTES_MAX apart in buf. */
static void some_records(uint8_t *buf, size_t *len, unsigned n)
{
	struct hw_workload_opts wo = {.seed = 11, .count = n, .end_ms = hw_wall_ms()};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	for (unsigned i = 0; i < n; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(w, buf + i * HW_RECORD_BYTES_MAX,
						  HW_RECORD_BYTES_MAX, &it),
				 0);
		len[i] = it.len;
	}
	hw_workload_free(w);
}

/* Submits taken but not yet waiting in the core count against waiters_max: with 4, an
 * applied submit waiting at the head (its standby down) and two local ones released
 * behind it (their slots in the ring until the head goes), three more local submits in
 * one write take the one place left and wait for the rest (they aborted the primary).
 * Once the standby is up, every submit gets its success. */
static void test_waiters_counted_before_the_store(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts po = {
		.primary = true, .standbys = "s1", .mode = "applied", .k = 1, .waiters_max = 4};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	static uint8_t recs[6 * HW_RECORD_BYTES_MAX];
	size_t len[6];
	some_records(recs, len, 6);
	const enum hw_durability mode[6] = {HW_APPLIED, HW_LOCAL, HW_LOCAL,
					    HW_LOCAL,   HW_LOCAL, HW_LOCAL};
	struct hw_client *c;
	assert_int_equal(hw_client_connect(f->p.client, &c), 0);
	struct hw_outcome o;
	unsigned done = 0;
	for (unsigned i = 0; i < 6; i++) {
		if (i == 3)
			hw_client_hold(c); /* the last three in one write */
		assert_int_equal(
			hw_client_submit(c, i, recs + i * HW_RECORD_BYTES_MAX, len[i], mode[i], 1),
			0);
		if (i == 1 || i == 2) { /* each local one released before the next */
			assert_int_equal(hw_client_wait(c, EVENT_WAIT_MS, &o), 0);
			assert_int_equal(o.request_id, i);
			assert_int_equal(o.code, 0);
			done++;
		}
	}
	assert_int_equal(hw_client_flush(c), 0);
	assert_int_equal(hw_client_wait(c, EVENT_WAIT_MS, &o), 0); /* the one with room */
	assert_int_equal(o.code, 0);
	done++;
	assert_int_equal(hw_client_wait(c, 500, &o), -ETIMEDOUT); /* the rest wait */
	struct hw_tstatus st;
	assert_int_equal(hw_tnode_status(&f->p, &st), 0); /* alive, still primary */
	assert_int_equal(st.role, 1);
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s[0], f->root, "s1", &so), 0);
	f->n_standbys = 1;
	assert_int_equal(hw_tnode_start(&f->s[0], NULL), 0);
	for (; done < 6; done++) {
		assert_int_equal(hw_client_wait(c, CATCHUP_MS, &o), 0);
		assert_int_equal(o.code, 0);
	}
	hw_client_close(c);
}

/* Mode received waits for the standby's received ack, as local does not: with s1
 * connected but stopped (SIGSTOP: it reads and acks nothing), a received submit and a
 * local one after it are sent; the local one is answered first, the received one only
 * once s1 goes on and acks it. */
static void test_received_waits_for_ack(void **state)
{
	struct fix *f = *state;
	start_cluster(f, "received", 1);
	static uint8_t recs[2 * HW_RECORD_BYTES_MAX];
	size_t len[2];
	some_records(recs, len, 2);
	pid_t pid = f->s[0].proc.pid;
	assert_int_equal(hw_proc_signal(&f->s[0].proc, SIGSTOP), 0);
	int st = 0; /* it is stopped, not only signalled, before anything is sent */
	assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	assert_true(WIFSTOPPED(st));
	struct hw_client *c;
	assert_int_equal(hw_client_connect(f->p.client, &c), 0);
	assert_int_equal(hw_client_submit(c, 0, recs, len[0], HW_RECEIVED, 1), 0);
	assert_int_equal(hw_client_submit(c, 1, recs + HW_RECORD_BYTES_MAX, len[1], HW_LOCAL, 1),
			 0);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, EVENT_WAIT_MS, &o), 0);
	assert_int_equal(o.request_id, 1); /* the local one: the received one still waits */
	assert_int_equal(o.code, 0);
	assert_int_equal(hw_proc_signal(&f->s[0].proc, SIGCONT), 0);
	assert_int_equal(hw_client_wait(c, CATCHUP_MS, &o), 0);
	assert_int_equal(o.request_id, 0);
	assert_int_equal(o.code, 0);
	hw_client_close(c);
}

/* A primary with no standby at all (the config allows it in mode local) starts and
 * acknowledges a local submit (it aborted at start). */
static void test_primary_alone(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts po = {.primary = true, .mode = "local"};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	static uint8_t rec[HW_RECORD_BYTES_MAX];
	size_t len = one_record(rec);
	struct hw_outcome o;
	assert_int_equal(submit_one(f->p.client, rec, len, HW_LOCAL, 0, &o), 0);
	assert_int_equal(o.code, 0);
	assert_int_equal(o.lsn, 1);
	assert_int_equal(submit_one(f->p.client, rec, len, HW_DURABLE, 0, &o), 0);
	assert_int_equal(o.code, HW_ERANGE); /* no standby to count */
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
}

/* A node whose own mode is local may leave k = 0; a submit in mode durable with the
 * node's k (0 in the submit) still waits for one standby: with none up it is not
 * acknowledged (it was, after the primary's own flush alone). */
static void test_durable_needs_a_standby_with_k0(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts po = {.primary = true, .standbys = "s1", .mode = "local"};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	FILE *ini = fopen(f->p.ini, "a");
	assert_non_null(ini);
	fprintf(ini, "[durability]\nk = 0\n");
	assert_int_equal(fclose(ini), 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	static uint8_t rec[HW_RECORD_BYTES_MAX];
	size_t len = one_record(rec);
	struct hw_outcome o;
	assert_int_equal(submit_one(f->p.client, rec, len, HW_LOCAL, 0, &o), 0);
	assert_int_equal(o.code, 0); /* the primary itself works */
	struct hw_client *c;
	assert_int_equal(hw_client_connect(f->p.client, &c), 0);
	assert_int_equal(hw_client_submit(c, 1, rec, len, HW_DURABLE, 0), 0);
	assert_int_equal(hw_client_wait(c, 1000, &o), -ETIMEDOUT);
	hw_client_close(c);
}

/* k above the standbys is refused with HW_ERANGE, and a standby's client port refuses a
 * submit with HW_ENOT_PRIMARY; neither stores anything. */
static void test_refusals(void **state)
{
	struct fix *f = *state;
	start_cluster(f, "durable", 1);
	static uint8_t rec[HW_RECORD_BYTES_MAX];
	size_t len = one_record(rec);
	const enum hw_durability modes[] = {HW_RECEIVED, HW_DURABLE, HW_APPLIED};
	for (size_t i = 0; i < 3; i++) {
		struct hw_outcome o;
		assert_int_equal(submit_one(f->p.client, rec, len, modes[i], 2, &o), 0);
		assert_int_equal(o.request_id, 77);
		assert_int_equal(o.code, HW_ERANGE);
	}
	struct hw_outcome o;
	assert_int_equal(submit_one(f->s[0].client, rec, len, HW_DURABLE, 1, &o), 0);
	assert_int_equal(o.code, HW_ENOT_PRIMARY);
	struct hw_tstatus ps, ss;
	assert_int_equal(hw_tnode_status(&f->p, &ps), 0);
	assert_int_equal(hw_tnode_status(&f->s[0], &ss), 0);
	assert_int_equal(ps.last_lsn, 0);
	assert_int_equal(ss.durable_lsn, 0);
	/* The same record with a possible k goes through: the refusals were about k. */
	assert_int_equal(submit_one(f->p.client, rec, len, HW_DURABLE, 1, &o), 0);
	assert_int_equal(o.code, 0);
	assert_int_equal(o.lsn, 1);
}

/* What a fresh local store says about each poison record, in the same order: the
 * node must pass the store's verdict through unchanged. */
static void reference_verdicts(struct fix *f, struct hw_result *res)
{
	char dir[HW_PROC_PATH_MAX + 8];
	snprintf(dir, sizeof dir, "%s/ref", f->root);
	assert_int_equal(hw_store_init(dir), 0);
	struct hw_store *s;
	assert_int_equal(hw_store_open(dir, NULL, &s), 0);
	struct hw_workload_opts wo = {.profile = "poison", .seed = f->load.seed, .count = f->load.count, .end_ms = f->load.end_ms};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	for (uint64_t i = 0; i < f->load.count; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(w, buf, sizeof buf, &it), 0);
		struct hw_submit sub = {.data = buf, .len = it.len};
		assert_int_equal(hw_store_submit(s, 1, f->load.end_ms, &sub, 1, &res[i]), 0);
	}
	hw_workload_free(w);
	hw_store_close(s);
}

/* A poison-profile run: each bad record is refused through the client with the code the
 * generator expects and the store's field and rule, unchanged; the good ones replicate. */
static void test_poison_refused(void **state)
{
	struct fix *f = *state;
	start_cluster(f, "durable", 1);
	load_init(f, POISON_COUNT, HW_DURABLE, 1, "poison");
	assert_int_equal(hw_load_run(&f->load), 0);
	struct hw_result *ref = calloc(POISON_COUNT, sizeof *ref);
	assert_non_null(ref);
	reference_verdicts(f, ref);
	uint64_t refused = 0, last = 0;
	for (uint64_t i = 0; i < POISON_COUNT; i++) {
		const struct hw_outcome *o = &f->load.out[i];
		assert_true(f->load.done_rec[i]);
		if (o->code != f->load.expect[i])
			fail_msg("record %llu: expected %s, got %s (%s: %s)", (unsigned long long)i,
				 hw_errname(f->load.expect[i]), hw_errname(o->code),
				 o->reject.field, o->reject.rule);
		assert_int_equal(o->code, ref[i].code);
		if (o->code == 0) {
			last = o->lsn > last ? o->lsn : last;
			continue;
		}
		refused++;
		assert_true(hw_is_reject(o->code));
		assert_true(o->reject.field[0] != '\0' && o->reject.rule[0] != '\0');
		assert_string_equal(o->reject.field, ref[i].reject.field);
		/* A time rule's text names how far ahead of the clock the record is, and the
		 * node's clock is not the reference's. */
		if (o->code != HW_ETIME)
			assert_string_equal(o->reject.rule, ref[i].reject.rule);
	}
	free(ref);
	assert_true(refused > 0); /* the profile did mix bad records in */
	stop_and_compare(f, last);
}

/* A container id the first unit_event record of the load names. */
static void first_container(const struct hw_load *l, char *id, size_t cap)
{
	struct hw_workload_opts wo = {.profile = NULL, .seed = l->seed, .count = l->count, .end_ms = l->end_ms};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	id[0] = '\0';
	for (uint64_t i = 0; i < l->count && id[0] == '\0'; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(w, buf, sizeof buf, &it), 0);
		Tos__V1__Record *r = tos__v1__record__unpack(NULL, it.len, buf);
		assert_non_null(r);
		if (r->payload_case == TOS__V1__RECORD__PAYLOAD_UNIT_EVENT &&
		    r->unit_event->equipment != NULL)
			snprintf(id, cap, "%s", r->unit_event->equipment->container_id);
		tos__v1__record__free_unpacked(r, NULL);
	}
	hw_workload_free(w);
	assert_true(id[0] != '\0');
}

/* A standby applies a few records with nothing after them: three durable submits are
 * far fewer than a store job waits for (HW_STANDBY_APPLY_ENTRIES), so only the standby's
 * tick hands them to its store writer; its store then holds all three, bounded wait. */
static void test_standby_applies_a_few(void **state)
{
	struct fix *f = *state;
	start_cluster(f, "durable", 1);
	load_init(f, 3, HW_DURABLE, 1, NULL);
	assert_int_equal(hw_load_run(&f->load), 0);
	assert_int_equal(check_all_acked(&f->load), 3);
	open_standby_stores(f);
	int64_t deadline = hw_mono_ms() + EVENT_WAIT_MS;
	int rc;
	do {
		uint8_t *e = NULL;
		size_t len;
		rc = hw_store_read_entry(f->ro[0], 3, &e, &len);
		free(e);
	} while (rc != 0 && hw_proc_pump(&f->s[0].proc, 10) >= 0 && hw_mono_ms() < deadline);
	assert_int_equal(rc, 0);
	stop_and_compare(f, 3);
}

/* `hawser get` reads a running standby's store (read-only LMDB from another process):
 * in applied mode every acknowledged record is readable there at ack time, and it
 * prints the container as the primary's store does once both have stopped. (A
 * standby's store commits up to HW_WRITER_APPLY_COMMIT_MS behind its write-ahead log, so
 * only applied promises what a reader sees.) */
static void test_get_on_running_standby(void **state)
{
	struct fix *f = *state;
	start_cluster(f, "applied", 1);
	load_init(f, 500, HW_APPLIED, 1, NULL);
	assert_int_equal(hw_load_run(&f->load), 0);
	check_all_acked(&f->load);
	char id[32];
	first_container(&f->load, id, sizeof id);
	char log[HW_PROC_PATH_MAX + 8];
	snprintf(log, sizeof log, "%s/get.log", f->root);
	static char out_s[16384], out_p[16384];
	const char *args_s[] = {"get", f->s[0].dir, "container", id, NULL};
	assert_int_equal(hw_proc_run(log, out_s, sizeof out_s, EVENT_WAIT_MS, args_s), 0);
	assert_non_null(strstr(out_s, id));
	/* The standby was not disturbed: it still runs and still follows. */
	struct hw_tstatus st;
	assert_int_equal(hw_tnode_status(&f->s[0], &st), 0);
	assert_int_equal(st.durable_lsn, 500);
	stop_and_compare(f, 500);
	const char *args_p[] = {"get", f->p.dir, "container", id, NULL};
	assert_int_equal(hw_proc_run(log, out_p, sizeof out_p, EVENT_WAIT_MS, args_p), 0);
	assert_string_equal(out_s, out_p);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_repl_modes") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_received, setup, teardown),
		cmocka_unit_test_setup_teardown(test_received_waits_for_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_room_freed_by_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiters_counted_before_the_store, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_standby_applies_a_few, setup, teardown),
		cmocka_unit_test_setup_teardown(test_k2_of_2_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_needs_a_standby_with_k0, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_primary_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_on_running_standby, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
