/* test_restore.c: restore to a point in time when entry times go back (a primary's clock
 * set back), by replay from entry 1 and by copy of a pruned store's snapshot; the check of
 * a copied snapshot's state against the signed checkpoint that vouches for it, for targets
 * before what it covers too, and the record of it the restore leaves for verify. Records come from
 * the workload generator (bench/workload.h), each ingest in a lane of its own, all its entries
 * stamped with one store clock; a restore short of memory, and one asked to stop as it
 * hashes the backup or copies its snapshot; a restore removes a static standby's record of
 * what its primary said, left in the directory. test_backup.c has
 * the rest of backup and restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/workload.h"
#include "replica/backup.h"
#include "replica/checkpoint.h"
#include "replica/snapshot.h"
#include "replica/store.h"
#include "replica/store_int.h"
#include "replica/verify.h"
#include "tests/unit/sign_fix.h"
#include "tests/unit/store_fix.h"
#include "tests/skip.h"

#define T0_MS  1790000000000LL /* 2026-09-21: a fixed clock keeps runs identical */
#define MIN_MS 60000LL
#define N      300u /* records per ingest */
#define BATCH  50u  /* records per submit */

/* Submit n generated records of lane (its own containers, ids and keys) to s at store
 * clock now_ms, BATCH at a time: every entry is stamped now_ms. All must be accepted. */
static void ingest(struct hw_store *s, uint32_t lane, uint64_t n, int64_t now_ms)
{
	struct hw_workload_opts o = {.seed = lane, .count = n, .end_ms = now_ms, .lane = lane};
	struct hw_workload *w;
	struct hw_submit subs[BATCH] = {{0}};
	struct hw_result res[BATCH];
	uint8_t *buf = malloc((size_t)BATCH * HW_RECORD_BYTES_MAX);
	assert_non_null(buf);
	assert_int_equal(hw_workload_new(&o, &w), 0);
	for (uint64_t i = 0; i < n;) {
		size_t k = 0;
		for (; k < BATCH && i < n; k++, i++) {
			struct hw_work_item it;
			subs[k].data = buf + k * HW_RECORD_BYTES_MAX;
			assert_int_equal(hw_workload_next(w, buf + k * HW_RECORD_BYTES_MAX,
							  HW_RECORD_BYTES_MAX, &it),
					 0);
			subs[k].len = it.len;
		}
		assert_int_equal(hw_store_submit(s, 1, now_ms, subs, k, res), 0);
		for (size_t j = 0; j < k; j++)
			assert_int_equal(res[j].code, 0);
	}
	hw_workload_free(w);
	free(buf);
}

/* The reviewer's clock: N entries stamped 10:00, N at 10:20, then the clock set back, N
 * at 10:10 (LSNs 1..N, N+1..2N, 2N+1..3N). A target of 10:15 is after the first and the
 * last N, before the middle N. */
#define AT_A      T0_MS
#define AT_B      (T0_MS + 20 * MIN_MS)
#define AT_C      (T0_MS + 10 * MIN_MS)
#define TARGET_MS (T0_MS + 15 * MIN_MS)

static int setup(void **state)
{
	*state = store_fix_new("restore");
	return 0;
}

/* Restore bk into f's directory name to TARGET_MS: its head, or 0 when refused with
 * HW_ENOTFOUND (what names why). */
static uint64_t restore_to_target(const struct fx *f, const char *bk, const char *name,
				  struct hw_restore_info *ri)
{
	char dst[300];
	path_in(f, name, dst);
	int rc = hw_restore(bk, dst, 0, TARGET_MS, NULL, NULL, ri);
	if (rc == HW_ENOTFOUND) {
		assert_false(exists(dst));
		return 0;
	}
	assert_int_equal(rc, 0);
	return ri->lsn;
}

/* By replay from entry 1, a time target stops before the first entry stamped after it
 * (N + 1), though entries after that one are stamped before it: in the snapshot's log,
 * and in log.hwl after it. */
static void test_time_back_replay(void **state)
{
	struct fx *f = *state;
	char bk[300], bk2[300];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	struct hw_restore_info ri;
	ingest(f->s, 1, N, AT_A);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, NULL), 0); /* snapshot at N */
	ingest(f->s, 2, N, AT_B);
	ingest(f->s, 3, N, AT_C);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);  /* snapshot at 3N */
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, NULL), 0); /* log.hwl N+1..3N */
	assert_int_equal(restore_to_target(f, bk, "r", &ri), N);
	assert_int_equal(ri.time_ms, AT_A);
	assert_int_equal(ri.base_lsn, 0);
	assert_int_equal(ri.copied_lsn, 0); /* replayed from entry 1 */
	assert_int_equal(restore_to_target(f, bk2, "r2", &ri), N);
	assert_int_equal(ri.end_lsn, 3 * N);
}

/* Forget the pruned entries' times in s (meta "pruned_times"), as a store pruned by a
 * build before they were kept. */
static void pruned_times_forget(struct hw_store *s)
{
	MDB_txn *txn;
	MDB_val k = hw_mdb_val("pruned_times", 12);
	assert_int_equal(hw__store_txn_begin(s, 0, &txn), 0);
	assert_int_equal(mdb_del(txn, s->t.meta, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/* A pruned store's snapshot is copied whole, so a time target before any entry it holds
 * is refused, naming the first such entry: one its log kept (though its head is stamped
 * before the target), or one pruned before its base, whose latest time pruning keeps
 * (meta "pruned_times": the reviewer's case, all of 10:20 pruned). Where the times of the
 * pruned entries were not kept (pruned by an older build), the restore goes on and says
 * which entries were not checked. Entries after the snapshot, in log.hwl, are replayed:
 * the restore stops before the first stamped after the target there. */
static void test_time_back_copy(void **state)
{
	struct fx *f = *state;
	char bk_log[300], bk_base[300], bk_gone[300], bk_old[300];
	path_in(f, "bk-log", bk_log);
	path_in(f, "bk-base", bk_base);
	path_in(f, "bk-gone", bk_gone);
	path_in(f, "bk-old", bk_old);
	struct hw_restore_info ri;
	ingest(f->s, 1, N, AT_A);
	ingest(f->s, 2, N, AT_B);
	ingest(f->s, 3, N, AT_C);
	assert_int_equal(hw_store_prune(f->s, N / 2 + 1), 0); /* base stamped AT_A */
	assert_int_equal(hw_backup(f->s, bk_log, NULL, NULL, NULL), 0);
	assert_int_equal(hw_store_prune(f->s, 2 * N + 1), 0); /* base 2N, stamped AT_B */
	assert_int_equal(hw_backup(f->s, bk_base, NULL, NULL, NULL), 0);
	assert_int_equal(hw_store_prune(f->s, 2 * N + N / 2 + 1), 0); /* base stamped AT_C */
	assert_int_equal(hw_backup(f->s, bk_gone, NULL, NULL, NULL), 0);

	assert_int_equal(restore_to_target(f, bk_log, "r-log", &ri), 0);
	assert_int_equal(ri.base_lsn, N / 2);
	assert_non_null(strstr(ri.what, "entry 301 is stamped 300.000 s after the target"));
	assert_non_null(strstr(ri.what, "in the snapshot"));
	assert_int_equal(restore_to_target(f, bk_base, "r-base", &ri), 0);
	assert_non_null(strstr(ri.what, "pruned before the snapshot (LSN 1 to 600) is stamped "
					"300.000 s after the target"));
	assert_int_equal(restore_to_target(f, bk_gone, "r-gone", &ri), 0);
	assert_non_null(strstr(ri.what, "pruned before the snapshot (LSN 1 to 750)"));

	pruned_times_forget(f->s); /* as an older build pruned it */
	assert_int_equal(hw_backup(f->s, bk_old, NULL, NULL, NULL), 0);
	assert_int_equal(restore_to_target(f, bk_old, "r-old", &ri), 3 * N);
	assert_int_equal(ri.times_unkept_to, 2 * N + N / 2 - 1);
	assert_int_equal(ri.copied_lsn, 3 * N); /* the snapshot's head: copied, not replayed */
	ingest(f->s, 4, N / 3, AT_B); /* log.hwl: 3N+1.. after the target, then before it */
	ingest(f->s, 5, N / 3, AT_C);
	assert_int_equal(hw_backup(f->s, bk_old, NULL, NULL, NULL), 0);
	assert_int_equal(restore_to_target(f, bk_old, "r-old2", &ri), 3 * N);
	assert_int_equal(ri.end_lsn, 3 * N + 2 * (N / 3));
}

/* Change the state of the store in dir (closed) and nothing else: a kv row no record
 * wrote, as whoever writes a backup's snapshot could put one. */
static void state_forge(const char *dir)
{
	struct hw_store *s;
	MDB_txn *txn;
	MDB_val k = {.mv_size = 6, .mv_data = "forged"}, v = k;
	assert_int_equal(hw_store_open(dir, NULL, &s), 0);
	assert_int_equal(hw__store_txn_begin(s, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, s->t.kv, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	hw_store_close(s);
}

/* The checkpoint that vouches for a copied snapshot covers LSN C = 5N/3 (its entry
 * C + 1); a target before C, by LSN or by time, is restored after the copied state was
 * checked against it all the same, and a snapshot whose state was changed is refused
 * there too, by LSN and by time. */
static void test_vouch_before_target(void **state)
{
	struct fx *f = *state;
	char forged[300], bk[300], bk_bad[300], dst[300];
	path_in(f, "forged", forged);
	path_in(f, "bk", bk);
	path_in(f, "bk-bad", bk_bad);
	struct hw_signer k;
	struct hw_snapshot_info si;
	struct hw_restore_info ri;
	struct hw_store *s;
	sign_fix_signer(&k);
	ingest(f->s, 1, N, AT_A);
	assert_int_equal(hw_store_prune(f->s, N + 1), 0); /* base = head = N */
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	assert_int_equal(hw_snapshot_make(f->s, forged, &si), 0);
	state_forge(forged);
	assert_int_equal(hw_store_open(forged, NULL, &s), 0);
	assert_int_equal(hw_backup(s, bk_bad, NULL, NULL, NULL), 0); /* its snapshot forged */
	hw_store_close(s);
	ingest(f->s, 2, N / 3, AT_A + MIN_MS);
	ingest(f->s, 3, N / 3, AT_A + 2 * MIN_MS);
	const uint64_t c = N + 2 * (N / 3);
	assert_int_equal(sign_fix_checkpoint(f->s, &k, AT_A + 3 * MIN_MS), c + 1);
	ingest(f->s, 4, N / 3, AT_A + 4 * MIN_MS);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0); /* the same log.hwl */
	assert_int_equal(hw_backup(f->s, bk_bad, NULL, NULL, NULL), 0);

	const int64_t before_c = AT_A + MIN_MS + MIN_MS / 2; /* stops at N + N / 3 */
	path_in(f, "r-lsn", dst);
	assert_int_equal(hw_restore(bk, dst, N + 10, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, N + 10);
	assert_int_equal(ri.state_cp_lsn, c + 1);
	assert_int_equal(ri.state_cp_covers, c);
	path_in(f, "r-time", dst);
	assert_int_equal(hw_restore(bk, dst, 0, before_c, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, N + N / 3);
	assert_int_equal(ri.state_cp_lsn, c + 1);

	const uint64_t lsns[] = {N, N + 10, 0};
	for (size_t i = 0; i < sizeof lsns / sizeof lsns[0]; i++) {
		path_in(f, "r-bad", dst);
		assert_int_equal(hw_restore(bk_bad, dst, lsns[i], 0, NULL, NULL, &ri), HW_EBACKUP);
		assert_non_null(strstr(ri.what, "the checkpoint at LSN 501 signed"));
		assert_false(exists(dst));
	}
	assert_int_equal(hw_restore(bk_bad, dst, 0, before_c, NULL, NULL, &ri), HW_EBACKUP);
	assert_false(exists(dst));
}

/* verify --trust of the restored store in f's directory name with key pk: the report. */
static void verify_with(const struct fx *f, const char *name, const uint8_t *pk,
			struct hw_verify_report *vr)
{
	char dir[300], scratch[300];
	path_in(f, name, dir);
	path_in(f, "scratch", scratch);
	struct hw_verify_trust t = {.keys = pk, .count = 1};
	assert_int_equal(hw_verify_trusted(dir, scratch, &t, NULL, NULL, vr), 0);
}

/* A copying restore records what vouched for the state in the store it built, and verify
 * with trusted keys takes it from there, no caller telling it: the checkpoint in the log
 * (its signer judged by the walk), or after the head when the restore stopped before it
 * (its recorded key judged); another key is refused either way, and so is a state that
 * changed since, or a record the snapshot's source left that no longer holds. */
static void test_vouch_record_verify(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], bk2[300];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	struct hw_signer k, other;
	struct hw_restore_info ri;
	struct hw_verify_report vr;
	sign_fix_signer(&k);
	sign_fix_signer(&other);
	ingest(f->s, 1, N, AT_A);
	assert_int_equal(hw_store_prune(f->s, N + 1), 0);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	ingest(f->s, 2, N / 3, AT_A + MIN_MS);
	const uint64_t cp = sign_fix_checkpoint(f->s, &k, AT_A + 2 * MIN_MS);
	ingest(f->s, 3, N / 3, AT_A + 3 * MIN_MS);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);

	path_in(f, "r-end", dst);
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.state_cp_lsn, cp);
	assert_memory_equal(ri.state_cp_pk, k.pk, HW_SIGN_PK_BYTES);
	assert_string_equal(ri.state_cp_signer, "p1");
	verify_with(f, "r-end", k.pk, &vr);
	assert_int_equal(vr.code, 0);
	assert_int_equal(vr.state_cp_lsn, cp);
	assert_true(vr.state_cp_recorded);
	assert_false(vr.state_cp_beyond);
	verify_with(f, "r-end", other.pk, &vr);
	assert_int_equal(vr.code, HW_EUNTRUSTED); /* at the checkpoint, in the log */
	assert_int_equal(vr.first_bad_lsn, cp);

	path_in(f, "r-early", dst);
	assert_int_equal(hw_restore(bk, dst, N + 10, 0, NULL, NULL, &ri), 0);
	verify_with(f, "r-early", k.pk, &vr);
	assert_int_equal(vr.code, 0);
	assert_int_equal(vr.state_cp_lsn, cp);
	assert_true(vr.state_cp_beyond);
	verify_with(f, "r-early", other.pk, &vr);
	assert_true(hw_verify_state_unvouched(&vr));
	assert_non_null(strstr(vr.what, "is not trusted"));

	state_forge(dst); /* the state changed after the restore: its record no longer holds */
	verify_with(f, "r-early", k.pk, &vr);
	assert_true(hw_verify_state_unvouched(&vr));
	assert_non_null(strstr(vr.what, "no longer the one the restore"));

	/* a backup of the restored store carries its record in the snapshot's meta; the
	 * restore of it, with nothing to vouch in its log, writes "none" over it */
	struct hw_store *rs;
	path_in(f, "r-end", dst);
	assert_int_equal(hw_store_open(dst, NULL, &rs), 0);
	assert_int_equal(hw_backup(rs, bk2, NULL, NULL, NULL), 0);
	hw_store_close(rs);
	path_in(f, "r-again", dst);
	assert_int_equal(hw_restore(bk2, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.state_cp_lsn, 0);
	verify_with(f, "r-again", k.pk, &vr);
	assert_true(hw_verify_state_unvouched(&vr));
}

/* A restore that cannot map the backup's snapshot (its address space limited below
 * LMDB's map of HW_MAP_BYTES_INITIAL) says so, HW_ENOMEM: it does not call a good backup
 * damaged (HW_EBACKUP), which a restore drill would fail. With the limit lifted the same
 * restore goes through. */
_Static_assert(HW_MAP_BYTES_INITIAL > (256u << 20), "the map does not fit the limit below");
static void test_snapshot_no_memory(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
	HW_SKIP("AddressSanitizer reserves terabytes of address space: no limit fits it");
#endif
	struct fx *f = *state;
	char bk[300], dst[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	ingest(f->s, 1, N / 3, AT_A);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	unsigned long pages = 0;
	FILE *statm = fopen("/proc/self/statm", "r");
	assert_non_null(statm);
	assert_int_equal(fscanf(statm, "%lu", &pages), 1);
	fclose(statm);
	struct rlimit old, low;
	assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (256u << 20);
	assert_int_equal(setrlimit(RLIMIT_AS, &low), 0);
	struct hw_restore_info ri;
	int rc = hw_restore(bk, dst, 0, 0, NULL, NULL, &ri);
	assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
	assert_int_equal(rc, HW_ENOMEM);
	assert_non_null(strstr(ri.what, "snapshot does not open"));
	assert_false(exists(dst));
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, N / 3);
}

/* Where a restore was when its callback stopped it (stop_cb). */
struct stop_at {
	bool polls;       /* stop at the first poll (done and total 0), else at the first count */
	const char *work; /* the restore's work directory, DIR/.restore-tmp */
	bool work_seen;   /* it existed then: the restore had begun making the store */
	bool lock_seen;   /* its lock.mdb existed: the store was open for the replay */
	uint64_t done, total; /* what the call that stopped it said */
};

static int stop_cb(void *arg, uint64_t done, uint64_t total)
{
	struct stop_at *at = arg;
	char lock[400];
	if ((done == 0 && total == 0) != at->polls)
		return 0;
	snprintf(lock, sizeof lock, "%s/lock.mdb", at->work);
	at->work_seen = exists(at->work);
	at->lock_seen = exists(lock);
	at->done = done;
	at->total = total;
	return HW_ECANCELED; /* as a drill's callback once a signal asks it to stop */
}

/* Records enough for a snapshot past HW_PROGRESS_STEP pages: its copy reports progress
 * before its end (about 24 MB). */
#define COPY_RECORDS 60000u

/* A restore asked to stop (its callback's answer, as a drill's is once SIGTERM came)
 * while it hashes the backup's files stops there, before it makes anything; asked while
 * it copies a pruned store's snapshot, it stops in the copy, part way (the copy's writer
 * gets EPIPE, not a SIGPIPE that would kill the process), before the replay opens the
 * store. Either way HW_ECANCELED, and nothing is left where the store was to be. */
static void test_restore_stopped(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], work[320];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	snprintf(work, sizeof work, "%s/.restore-tmp", dst);
	struct hw_store_opts o = {.scratch = true}; /* its 1,200 commits are not flushed */
	hw_store_close(f->s);
	assert_int_equal(hw_store_open(f->a, &o, &f->s), 0);
	ingest(f->s, 1, COPY_RECORDS, AT_A);
	assert_int_equal(hw_store_prune(f->s, N / 2 + 1), 0); /* its snapshot is copied */
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	struct stop_at hashing = {.polls = true, .work = work};
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, stop_cb, &hashing, &ri), HW_ECANCELED);
	assert_false(hashing.work_seen);
	assert_false(exists(dst));
	struct stop_at copying = {.work = work};
	assert_int_equal(hw_restore(bk, dst, 0, 0, stop_cb, &copying, &ri), HW_ECANCELED);
	assert_true(copying.work_seen);
	assert_false(copying.lock_seen);
	assert_true(copying.done < copying.total); /* part way */
	assert_false(exists(dst));
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.copied_lsn, COPY_RECORDS);
}

/* A restore into a directory that a static standby's record of what its primary said
 * was left in (its store and log removed by hand) removes it: the record is of the log
 * that was there, and a standby started on the restored store must not trust it. */
static void test_restore_drops_said(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], said[320];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	snprintf(said, sizeof said, "%s/%s", dst, HW_SAID_FILE);
	ingest(f->s, 1, N, AT_A);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	assert_int_equal(mkdir(dst, 0700), 0);
	FILE *fp = fopen(said, "w");
	assert_non_null(fp);
	assert_int_equal(fputs("HWSAID", fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	struct hw_restore_info ri;
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, h.lsn); /* the store is whole, */
	assert_false(exists(said));      /* and the record gone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_time_back_replay, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_time_back_copy, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_vouch_before_target, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_vouch_record_verify, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_no_memory, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_stopped, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_drops_said, setup, store_fix_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
