/* test_backup.c: backup, incremental backup, restore to a point in time, damaged backups,
 * and replay between stores (verify: test_verify.c; the fixture: backup_fix.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "base/bytes.h"
#include "replica/backup.h"
#include "replica/backup_int.h"
#include "replica/checkpoint.h"
#include "replica/entry.h"
#include "replica/iso6346.h"
#include "replica/record.h"
#include "replica/store.h"
#include "replica/store_int.h"
#include "replica/verify.h"
#include "replica/snapshot.h"
#include "tests/unit/sign_fix.h"
#include "tests/unit/store_fix.h"
#include "tests/unit/backup_fix.h"
#include "tests/skip.h"

/* ---- backup and restore ---- */

/* Restore of a fresh backup gives the same head (LSN and hash) and digest, and the
 * restored store verifies clean. */
static void test_backup_restore(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS);
	assert_int_equal(bi.end_lsn, RECORDS);
	assert_int_equal(bi.entries_added, 0);
	assert_true(bi.bytes > 0);
	char tmp[400];
	snprintf(tmp, sizeof tmp, "%s/snapshot.tmp", bk);
	assert_false(exists(tmp));
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	struct hw_head ha, hr;
	uint8_t da[HW_HASH_BYTES];
	head_of(f->s, &ha);
	digest_of(f->s, da);
	assert_int_equal(ri.lsn, RECORDS);
	assert_int_equal(ri.time_ms, ha.time_ms);
	assert_memory_equal(ri.digest, da, HW_HASH_BYTES);
	struct hw_store *r;
	assert_int_equal(hw_store_open(dst, NULL, &r), 0);
	head_of(r, &hr);
	hw_store_close(r);
	assert_memory_equal(hr.hash, ha.hash, HW_HASH_BYTES);
	struct hw_verify_report vr;
	char scratch[300];
	path_in(f, "scratch", scratch);
	assert_int_equal(hw_verify(dst, scratch, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
}

/* Restore to LSN K equals a store that was submitted exactly the first K records; a
 * target past the backup's end is HW_ENOTFOUND and restores nothing. */
static void test_restore_until_lsn(void **state)
{
	struct fx *f = *state;
	const unsigned k = 317;
	char bk[300], dst[300], ref[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "ref", ref);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, RECORDS + 1, 0, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_non_null(strstr(ri.what, "the backup ends at LSN"));
	assert_false(exists(dst)); /* past the end: nothing restored */
	assert_int_equal(hw_restore(bk, dst, k, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, k);
	struct hw_store *rs;
	struct hw_head hr, hf;
	uint8_t dr[HW_HASH_BYTES];
	assert_int_equal(hw_store_init(ref), 0);
	assert_int_equal(hw_store_open(ref, NULL, &rs), 0);
	fill(rs, 0, k);
	head_of(rs, &hr);
	digest_of(rs, dr);
	hw_store_close(rs);
	assert_int_equal(hr.lsn, k);
	assert_memory_equal(ri.digest, dr, HW_HASH_BYTES);
	digest_of(f->s, dr);
	assert_memory_not_equal(ri.digest, dr, HW_HASH_BYTES);
	assert_int_equal(hw_store_open(dst, NULL, &rs), 0);
	head_of(rs, &hf);
	hw_store_close(rs);
	assert_memory_equal(hf.hash, hr.hash, HW_HASH_BYTES); /* same batches, same clock */
}

/* Restore to a time keeps exactly the entries up to it; a time before the first entry
 * is HW_ENOTFOUND and creates nothing. */
static void test_restore_until_time(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], early[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "early", early);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	struct hw_restore_info ri;
	int64_t t = NOW_MS + 4 * BATCH_STEP_MS + BATCH_STEP_MS / 2; /* inside batch 4 */
	assert_int_equal(hw_restore(bk, dst, 0, t, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, 5 * BATCH);
	assert_int_equal(ri.time_ms, NOW_MS + 4 * BATCH_STEP_MS);
	assert_int_equal(hw_restore(bk, early, 0, NOW_MS - 1, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_false(exists(early));
}

/* An incremental backup appends only the new entries; restoring it reaches the new head,
 * and a point inside the appended log is reachable too. */
static void test_incremental(void **state)
{
	struct fx *f = *state;
	const unsigned more = 150;
	char bk[300], dst[300], mid[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "mid", mid);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	fill(f->s, RECORDS, RECORDS + more);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS);
	assert_int_equal(bi.end_lsn, RECORDS + more);
	assert_int_equal(bi.entries_added, more);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 0);
	struct hw_restore_info ri;
	struct hw_head h;
	uint8_t d[HW_HASH_BYTES];
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	head_of(f->s, &h);
	digest_of(f->s, d);
	assert_int_equal(ri.lsn, RECORDS + more);
	assert_int_equal(ri.time_ms, h.time_ms);
	assert_memory_equal(ri.digest, d, HW_HASH_BYTES);
	assert_int_equal(hw_restore(bk, mid, RECORDS + 10, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 10);
}

/* The progress hw_backup() reports: each call's count and total. */
struct progress_log {
	uint64_t done[64], total[64];
	size_t n;
};

static int log_cb(void *arg, uint64_t done, uint64_t total)
{
	struct progress_log *l = arg;
	assert_true(l->n < 64);
	l->done[l->n] = done;
	l->total[l->n] = total;
	l->n++;
	return 0;
}

/* The calls rise to one total and end at it; returns that total. */
static uint64_t assert_rising(const struct progress_log *l)
{
	assert_true(l->n >= 1);
	for (size_t i = 0; i < l->n; i++) {
		assert_int_equal(l->total[i], l->total[0]);
		assert_true(l->done[i] <= l->total[i]);
		if (i > 0)
			assert_true(l->done[i] > l->done[i - 1]);
	}
	assert_int_equal(l->done[l->n - 1], l->total[0]);
	return l->total[0];
}

/* A full backup reports the snapshot copy's pages up to their total; an incremental one
 * of more than 4,096 entries reports them in steps up to exactly the entries appended;
 * one with nothing to append reports nothing; the backups are the same with or without
 * a callback (NULL: none called). */
static void test_backup_progress(void **state)
{
	struct fx *f = *state;
	const unsigned more = 4500;
	char bk[300], bk2[300];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	struct progress_log l = {0};
	struct hw_backup_info bi, bi2;
	assert_int_equal(hw_backup(f->s, bk, log_cb, &l, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi2), 0);
	assert_true(assert_rising(&l) >= 2); /* two meta pages at least */
	assert_int_equal(bi.bytes, bi2.bytes);

	fill(f->s, RECORDS, RECORDS + more);
	memset(&l, 0, sizeof l);
	assert_int_equal(hw_backup(f->s, bk, log_cb, &l, &bi), 0);
	assert_int_equal(bi.entries_added, more);
	assert_int_equal(assert_rising(&l), more);
	assert_int_equal(l.n, 2); /* at 4,096 and at the end */
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi2), 0);
	assert_int_equal(bi2.end_lsn, bi.end_lsn);

	memset(&l, 0, sizeof l);
	assert_int_equal(hw_backup(f->s, bk, log_cb, &l, &bi), 0);
	assert_int_equal(bi.entries_added, 0);
	assert_int_equal(l.n, 0);
	struct hw_restore_info ri;
	char dst[300];
	path_in(f, "r", dst);
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + more);
}

/* Backup with a non-empty log.hwl: a full backup, more records, an incremental one. */
static void backup_with_log(struct fx *f, const char *bk, unsigned from)
{
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	fill(f->s, from, from + 20);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 20);
}

static void expect_refused(struct fx *f, const char *bk, const char *word)
{
	char dst[300];
	path_in(f, "r", dst);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), HW_EBACKUP);
	if (strstr(ri.what, word) == NULL)
		fail_msg("what \"%s\" does not name %s", ri.what, word);
	assert_false(exists(dst));
}

/* A damaged snapshot, a truncated log or a missing MANIFEST is HW_EBACKUP, says which,
 * and creates no store; an incremental backup into the damaged one is refused too. */
static void test_damaged_backups(void **state)
{
	struct fx *f = *state;
	char bk1[300], bk2[300], bk3[300], file[400];
	path_in(f, "bk1", bk1);
	path_in(f, "bk2", bk2);
	path_in(f, "bk3", bk3);
	backup_with_log(f, bk1, RECORDS);
	backup_with_log(f, bk2, RECORDS + 20);
	backup_with_log(f, bk3, RECORDS + 40);

	snprintf(file, sizeof file, "%s/snapshot/data.mdb", bk1);
	size_t len;
	uint8_t *buf = slurp(file, &len);
	buf[len / 2] ^= 0x10;
	spill(file, buf, len);
	free(buf);
	expect_refused(f, bk1, "snapshot");
	/* nor is the damaged snapshot extended by an incremental backup */
	fill(f->s, RECORDS + 60, RECORDS + 70);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk1, NULL, NULL, &bi), HW_EBACKUP);
	assert_non_null(strstr(bi.what, "snapshot"));

	snprintf(file, sizeof file, "%s/log.hwl", bk2);
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_size > 10);
	assert_int_equal(truncate(file, st.st_size - 10), 0);
	expect_refused(f, bk2, "truncated");

	snprintf(file, sizeof file, "%s/MANIFEST", bk3);
	assert_int_equal(unlink(file), 0);
	expect_refused(f, bk3, "MANIFEST");
}

/* Delete the log rows of LSN from and after in the store at dir, its head left as it
 * was: a log cut short behind its head. */
static void cut_log(const char *dir, uint64_t from)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	uint8_t key[8];
	hw_lsn_key(from, key);
	MDB_val k = {.mv_size = 8, .mv_data = key}, v;
	env = raw_open(dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "log", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		assert_int_equal(mdb_cursor_del(cur, 0), 0);
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The MANIFEST of bk made to match its snapshot file again, as whoever altered the file
 * could (the MANIFEST is not signed). */
static void manifest_rehash(const char *bk)
{
	char file[400], path[400], hex[2 * 32 + 1], line[128];
	snprintf(file, sizeof file, "%s/snapshot/data.mdb", bk);
	size_t len;
	uint8_t *data = slurp(file, &len), hash[32];
	crypto_generichash(hash, sizeof hash, data, len, NULL, 0);
	free(data);
	sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
	snprintf(path, sizeof path, "%s/MANIFEST", bk);
	size_t mlen;
	char *m = (char *)slurp(path, &mlen), out[4096];
	size_t n = 0;
	assert_int_equal(strlen(m), mlen); /* text, read whole: nothing else goes into out */
	for (char *save = NULL, *l = strtok_r(m, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int w;
		if (strncmp(l, "snapshot_bytes=", 15) == 0)
			w = snprintf(line, sizeof line, "snapshot_bytes=%zu", len);
		else if (strncmp(l, "snapshot_blake2b=", 17) == 0)
			w = snprintf(line, sizeof line, "snapshot_blake2b=%s", hex);
		else
			w = snprintf(line, sizeof line, "%s", l);
		assert_true(w > 0 && (size_t)w < sizeof line);
		w = snprintf(out + n, sizeof out - n, "%s\n", line);
		assert_true(w > 0 && (size_t)w < sizeof out - n);
		n += (size_t)w;
	}
	free(m);
	spill(path, (uint8_t *)out, n);
}

/* A store whose log was cut short behind its head is not backed up (HW_ECORRUPT, the
 * directory left empty), and a backup whose snapshot was so cut, its MANIFEST made to
 * match, restores nothing: both would hold less than their head says. */
static void test_log_cut_behind_head(void **state)
{
	struct fx *f = *state;
	char bk[300], bk2[300], dst[300], snap[400];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	path_in(f, "r", dst);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	close_store(f);
	cut_log(f->a, RECORDS - 9);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);
	assert_int_equal(mkdir(bk2, 0700), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), HW_ECORRUPT);
	assert_non_null(strstr(bi.what, "log does not reach its head, LSN 600"));
	assert_int_equal(rmdir(bk2), 0); /* nothing was written into it */

	snprintf(snap, sizeof snap, "%s/snapshot", bk);
	cut_log(snap, RECORDS - 9);
	snprintf(snap, sizeof snap, "%s/snapshot/lock.mdb", bk);
	unlink(snap);
	manifest_rehash(bk);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), HW_ECORRUPT);
	assert_non_null(strstr(ri.what, "snapshot's log does not reach its head"));
	assert_false(exists(dst));
}

static int die_cb(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	if (done == 0 && total == 0)
		return 0; /* a poll while the backup is hashed: no progress report */
	_exit(3); /* a restore killed at its first progress report */
}

/* A restore killed part way (its process gone at its first progress report, the replay
 * done, the backup's log not yet) leaves no store in its directory, so nothing there can
 * pass for a whole restore; the next restore into it succeeds and leaves no work files. */
static void test_restore_killed(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], file[400];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	backup_with_log(f, bk, RECORDS);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(hw_restore(bk, dst, 0, 0, die_cb, NULL, NULL) == 0 ? 0 : 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	snprintf(file, sizeof file, "%s/data.mdb", dst);
	assert_false(exists(file));
	struct hw_store *rs;
	assert_int_equal(hw_store_open(dst, NULL, &rs), HW_EFORMAT);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 20);
	snprintf(file, sizeof file, "%s/.restore-tmp", dst);
	assert_false(exists(file));
}

/* Restore never overwrites a store: HW_EEXIST, and the store there is untouched; nor
 * does it restore beside a node's log. */
static void test_restore_into_store(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	assert_int_equal(hw_store_init(dst), 0);
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, NULL), HW_EEXIST);
	char lockfile[400];
	snprintf(lockfile, sizeof lockfile, "%s/.restore-lock", dst);
	assert_false(exists(lockfile)); /* refused after it locked: its lock file goes too */
	struct hw_store *r;
	struct hw_head h;
	assert_int_equal(hw_store_open(dst, NULL, &r), 0);
	head_of(r, &h);
	hw_store_close(r);
	assert_int_equal(h.lsn, 0);
	/* nor a node's data directory that kept its log: its entries would be replayed on
	 * top of the restored store */
	char node[300], wal[400];
	path_in(f, "node", node);
	snprintf(wal, sizeof wal, "%s/wal", node);
	assert_int_equal(mkdir(node, 0700), 0);
	assert_int_equal(mkdir(wal, 0700), 0);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, node, 0, 0, NULL, NULL, &ri), HW_EEXIST);
	assert_non_null(strstr(ri.what, "wal"));
}

/* The names in dir, sorted and joined by spaces, into out. */
static void names_in(const char *dir, char *out, size_t cap)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.') {
			strncat(out, list[i]->d_name, cap - strlen(out) - 2);
			strcat(out, " ");
		}
		free(list[i]);
	}
	free(list);
}

/* A directory with files and no MANIFEST is not a backup's to overwrite: a backup whose
 * MANIFEST went (damage, an attack) keeps its snapshot and log, and a directory of other
 * files keeps them; HW_EBACKUP says why. One that a full backup left when it died before
 * its MANIFEST is taken over. */
static void test_backup_without_manifest(void **state)
{
	struct fx *f = *state;
	char bk[300], file[400], before[400], after[400];
	path_in(f, "bk", bk);
	backup_with_log(f, bk, RECORDS);
	snprintf(file, sizeof file, "%s/MANIFEST", bk);
	assert_int_equal(unlink(file), 0);
	snprintf(file, sizeof file, "%s/log.hwl", bk);
	struct stat st0, st1;
	assert_int_equal(stat(file, &st0), 0);
	names_in(bk, before, sizeof before);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBACKUP);
	assert_non_null(strstr(bi.what, "MANIFEST"));
	assert_int_equal(stat(file, &st1), 0);
	assert_int_equal(st1.st_size, st0.st_size);
	assert_int_equal(st1.st_mtime, st0.st_mtime);
	names_in(bk, after, sizeof after);
	assert_string_equal(after, before);

	char other[300];
	path_in(f, "other", other);
	assert_int_equal(mkdir(other, 0700), 0);
	snprintf(file, sizeof file, "%s/notes.txt", other);
	spill(file, (const uint8_t *)"x", 1);
	assert_int_equal(hw_backup(f->s, other, NULL, NULL, &bi), HW_EBACKUP);
	names_in(other, after, sizeof after);
	assert_string_equal(after, "notes.txt ");

	char cut[300];
	path_in(f, "cut", cut);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(hw_backup(f->s, cut, die_cb, NULL, NULL) == 0 ? 0 : 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	assert_int_equal(hw_backup(f->s, cut, NULL, NULL, &bi), 0);
	names_in(cut, after, sizeof after);
	assert_string_equal(after, "MANIFEST log.hwl snapshot ");

	/* a crash between the MANIFEST and the marker's removal: the next backup removes the
	 * marker, so a MANIFEST lost later still protects the backup */
	snprintf(file, sizeof file, "%s/INCOMPLETE", cut);
	spill(file, (const uint8_t *)"", 0);
	fill(f->s, RECORDS + 20, RECORDS + 30);
	assert_int_equal(hw_backup(f->s, cut, NULL, NULL, &bi), 0);
	assert_false(exists(file));
	snprintf(file, sizeof file, "%s/MANIFEST", cut);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(hw_backup(f->s, cut, NULL, NULL, &bi), HW_EBACKUP);
}

/* Take the flock on bk/.backup-lock as a running backup holds it: the descriptor. */
static int backup_lock_hold(const char *bk, char *lockfile, size_t cap)
{
	snprintf(lockfile, cap, "%s/.backup-lock", bk);
	int lock = open(lockfile, O_RDWR | O_CREAT, 0600);
	assert_true(lock >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0);
	return lock;
}

/* While a backup writes a directory (its lock held here), a second one into it, full or
 * incremental, is HW_EBUSY, saying so, and writes nothing (it failed with HW_EFORMAT,
 * EEXIST or ENOENT, and an incremental one could cut log.hwl back under the other's new
 * MANIFEST); the lock file is no part of the backup and goes with the backup that took it. */
static void test_backup_busy(void **state)
{
	struct fx *f = *state;
	char bk[300], lockfile[400], names[400];
	struct hw_backup_info bi;
	path_in(f, "bk", bk);
	assert_int_equal(mkdir(bk, 0700), 0);
	int lock = backup_lock_hold(bk, lockfile, sizeof lockfile);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBUSY);
	assert_non_null(strstr(bi.what, "another backup is writing"));
	names_in(bk, names, sizeof names);
	assert_string_equal(names, "");
	close(lock); /* its file stays, as a backup killed leaves it */
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_false(exists(lockfile));

	fill(f->s, RECORDS, RECORDS + 10);
	lock = backup_lock_hold(bk, lockfile, sizeof lockfile);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBUSY);
	assert_int_equal(bi.entries_added, 0);
	close(lock);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 10);
	assert_false(exists(lockfile));
	names_in(bk, names, sizeof names);
	assert_string_equal(names, "MANIFEST log.hwl snapshot ");
}

struct prober {
	const char *dir;
	atomic_bool stop;
	atomic_uint_fast64_t looks;
};

static void *probe_main(void *arg)
{
	struct prober *p = arg;
	for (; !atomic_load(&p->stop); atomic_fetch_add(&p->looks, 1))
		(void)hw_backup_writing(p->dir);
	return NULL;
}

/* hw_backup_writing (a prune, a drill) looks by holding the lock shared for a moment: a
 * backup or restore taking it then waits that out rather than take the look for another
 * writer (HW_EBUSY). With looks in a tight loop beside 200 takes, none is refused. */
static void test_backup_lock_outlasts_looks(void **state)
{
	struct fx *f = *state;
	char bk[300], path[400], what[160];
	path_in(f, "bk", bk);
	assert_int_equal(mkdir(bk, 0700), 0);
	snprintf(path, sizeof path, "%s/.backup-lock", bk);
	struct prober p = {.dir = bk};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, probe_main, &p), 0);
	while (atomic_load(&p.looks) == 0) /* it looks before the takes start (a busy host) */
		sched_yield();
	int busy = 0;
	for (int i = 0; i < 200; i++) {
		int lock, rc = hw__backup_lock_take(path, bk, &lock, what);
		busy += rc == HW_EBUSY;
		if (rc == 0) { /* as backup_unlock: the file goes before the lock */
			unlink(path);
			close(lock);
		}
	}
	atomic_store(&p.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(busy, 0);
}

/* A restore writes nothing into the backup it reads (no lock file in its snapshot: the
 * backup may sit on a full or read-only disk), and a second restore into a directory one
 * is restoring into is HW_EBUSY, leaving the first's work alone. */
static void test_restore_hands_off(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], dir[400], before[400], after[400];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	backup_with_log(f, bk, RECORDS);
	snprintf(dir, sizeof dir, "%s/snapshot", bk);
	names_in(dir, before, sizeof before);
	assert_string_equal(before, "data.mdb ");
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, NULL), 0);
	names_in(dir, after, sizeof after);
	assert_string_equal(after, before);

	char busy[300], work[400];
	path_in(f, "busy", busy);
	assert_int_equal(mkdir(busy, 0700), 0);
	snprintf(work, sizeof work, "%s/.restore-tmp", busy);
	assert_int_equal(mkdir(work, 0700), 0);
	char lockfile[400];
	snprintf(lockfile, sizeof lockfile, "%s/.restore-lock", busy);
	int lock = open(lockfile, O_RDWR | O_CREAT, 0600);
	assert_true(lock >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0); /* as a restore running into it holds */
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, busy, 0, 0, NULL, NULL, &ri), HW_EBUSY);
	assert_non_null(strstr(ri.what, "another restore"));
	assert_true(exists(work));
	close(lock);
	assert_int_equal(hw_restore(bk, busy, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 20);
	assert_false(exists(lockfile)); /* the restore's own lock goes with it */
}

/* A backup that runs out of disk fails with -ENOSPC and leaves no partial snapshot taking
 * the room. Needs root to mount a small tmpfs; skipped otherwise. */
static void test_backup_disk_full(void **state)
{
	struct fx *f = *state;
	char mnt[300], bk[400], names[400];
	path_in(f, "small", mnt);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0)
		HW_SKIP("mount tmpfs at %s: %s (needs CAP_SYS_ADMIN)", mnt, strerror(errno));
	snprintf(bk, sizeof bk, "%s/bk", mnt);
	int rc = hw_backup(f->s, bk, NULL, NULL, NULL);
	names_in(bk, names, sizeof names);
	umount2(mnt, MNT_DETACH);
	assert_int_equal(rc, -ENOSPC);
	assert_string_equal(names, "INCOMPLETE ");
}

/* Whether a failed restore lacked room in its target's file system: the OS's ENOSPC or
 * EDQUOT says so; a full store (HW_ESTORE_FULL: a full map or a full disk) only when that
 * file system has less room than the restore needs, which the test's has, so there it
 * is the map's, and hawser restore keeps its words; no other code is. */
static void test_restore_no_room_only_without_room(void **state)
{
	struct fx *f = *state;
	struct hw_scratch_room room;
	char bk[300], dst[300];
	path_in(f, "bk", bk);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	path_in(f, "r", dst); /* a DIR2 yet to be made: its parent's file system */
	assert_int_equal(hw_restore_room(bk, dst, &room), 0); /* room to spare */
	assert_false(hw_restore_no_room(HW_ESTORE_FULL, bk, dst, &room));
	assert_true(room.need_bytes > 0 && room.free_bytes >= room.need_bytes);
	assert_true(hw_restore_no_room(-ENOSPC, bk, dst, &room));
	assert_true(hw_restore_no_room(-EDQUOT, bk, dst, &room));
	assert_false(hw_restore_no_room(-EIO, bk, dst, &room));
	assert_int_equal(room.need_bytes, 0);
	assert_false(hw_restore_no_room(0, bk, dst, &room));
}

/* A snapshot's check against an expected chain: equal or unknown (NULL, all zero) passes,
 * another chain is HW_EDIVERGED; the check makes no lock file in the copy. */
static void test_snapshot_check_chain(void **state)
{
	struct fx *f = *state;
	char snap[300], other[300], names[400];
	path_in(f, "snap", snap);
	path_in(f, "other", other);
	struct hw_snapshot_info si;
	assert_int_equal(hw_snapshot_make(f->s, snap, &si), 0);
	uint8_t own[HW_HASH_BYTES], theirs[HW_HASH_BYTES], none[HW_HASH_BYTES] = {0};
	assert_int_equal(hw_store_chain_id(f->s, own), 0);
	struct hw_store *o;
	assert_int_equal(hw_store_init(other), 0);
	assert_int_equal(hw_store_open(other, NULL, &o), 0);
	uint8_t rec[1024];
	struct hw_submit sub = {.data = rec, .len = make_record(0, rec, sizeof rec)};
	struct hw_result res;
	/* the same record at another time: another entry 1 */
	assert_int_equal(hw_store_submit(o, 1, NOW_MS + 12345, &sub, 1, &res), 0);
	assert_int_equal(hw_store_chain_id(o, theirs), 0);
	hw_store_close(o);
	assert_memory_not_equal(own, theirs, HW_HASH_BYTES);
	assert_int_equal(hw_snapshot_check(snap, &si.head, own), 0);
	assert_int_equal(hw_snapshot_check(snap, &si.head, none), 0);
	assert_int_equal(hw_snapshot_check(snap, &si.head, NULL), 0);
	assert_int_equal(hw_snapshot_check(snap, &si.head, theirs), HW_EDIVERGED);
	struct hw_head wrong = si.head;
	wrong.lsn--;
	assert_int_equal(hw_snapshot_check(snap, &wrong, own), HW_ECHAIN);
	names_in(snap, names, sizeof names);
	assert_string_equal(names, "data.mdb ");
}

/* An incremental backup of another chain into an existing backup is refused. */
static void test_backup_other_chain(void **state)
{
	struct fx *f = *state;
	char bk[300], other[300];
	path_in(f, "bk", bk);
	path_in(f, "other", other);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	struct hw_store *o;
	assert_int_equal(hw_store_init(other), 0);
	assert_int_equal(hw_store_open(other, NULL, &o), 0);
	fill(o, 0, 10);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(o, bk, NULL, NULL, &bi), HW_EBACKUP);
	assert_true(strlen(bi.what) > 0);
	hw_store_close(o);
}

static int count_cb(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *calls = arg;
	assert_true(done <= total);
	(*calls)++;
	return 0;
}

/* Replay continues a store on the same chain in steps, reaching the source's state, and
 * refuses a store whose head is not on the source's chain. */
static void test_replay(void **state)
{
	struct fx *f = *state;
	char b[300], c[300];
	path_in(f, "b", b);
	path_in(f, "c", c);
	struct hw_store *sb, *sc;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	uint64_t calls = 0;
	assert_int_equal(hw_store_replay(f->s, sb, 100, 0, count_cb, &calls), 0);
	struct hw_head h;
	head_of(sb, &h);
	assert_int_equal(h.lsn, 100);
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, count_cb, &calls), 0);
	assert_true(calls >= 2);
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(sb, db);
	assert_memory_equal(da, db, HW_HASH_BYTES);
	hw_store_close(sb);

	assert_int_equal(hw_store_init(c), 0);
	assert_int_equal(hw_store_open(c, NULL, &sc), 0);
	struct hw_submit sub = {0};
	struct hw_result res;
	uint8_t buf[1024];
	sub.data = buf;
	sub.len = make_record(0, buf, sizeof buf);
	assert_int_equal(hw_store_submit(sc, 1, NOW_MS + 99, &sub, 1, &res), 0);
	assert_int_equal(hw_store_replay(f->s, sc, 0, 0, NULL, NULL), HW_ECHAIN);
	hw_store_close(sc);
}

/* Replay from a store whose log has a flipped byte in one record stops there with
 * HW_ECORRUPT (the append checks each entry's hash): the target holds no entry from
 * the damaged one on. */
static void test_replay_damaged(void **state)
{
	struct fx *f = *state;
	const unsigned idx = 3 * 77 + 1; /* an audit record: its text is only in the log */
	char text[24], file[400], b[300];
	marker(idx, text);
	close_store(f);
	snprintf(file, sizeof file, "%s/data.mdb", f->a);
	assert_true(flip_everywhere(file, text) >= 1);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);
	path_in(f, "b", b);
	struct hw_store *sb;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, NULL, NULL), HW_ECORRUPT);
	struct hw_head h;
	head_of(sb, &h);
	assert_true(h.lsn <= idx);
	hw_store_close(sb);
}

/* Stops a replay at its second progress call. */
static int stop_cb(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *calls = arg;
	(void)total;
	assert_true(done > 0);
	return ++*calls == 2 ? HW_ECANCELED : 0;
}

/* A progress callback that returns non-zero stops a replay after the batch it reports:
 * the replay returns that code, the target holds the batches done and nothing after,
 * and a later replay continues from there to the source's state. */
static void test_replay_stopped(void **state)
{
	struct fx *f = *state;
	fill(f->s, RECORDS, 3 * HW_BATCH_RECORDS_MAX); /* three batches of replay */
	char b[300];
	path_in(f, "b", b);
	struct hw_store *sb;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	uint64_t calls = 0;
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, stop_cb, &calls), HW_ECANCELED);
	assert_int_equal(calls, 2);
	struct hw_head h;
	head_of(sb, &h);
	assert_int_equal(h.lsn, 2 * HW_BATCH_RECORDS_MAX);
	calls = 0;
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, count_cb, &calls), 0);
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(sb, db);
	assert_memory_equal(da, db, HW_HASH_BYTES);
	hw_store_close(sb);
}

/* ---- a log that starts after a base (pruned) ---- */

/* Verify checks a pruned store's chain from its base and says it did not rebuild the
 * state; replay into a store behind the base is HW_ENOTFOUND (it needs a snapshot) and
 * changes nothing, while a store exactly at the base continues to the source's state. */
static void test_pruned_verify_replay(void **state)
{
	struct fx *f = *state;
	char b[300], c[300];
	path_in(f, "b", b);
	path_in(f, "c", c);
	struct hw_store *sb, *sc;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	assert_int_equal(hw_store_replay(f->s, sb, 100, 0, NULL, NULL), 0);
	assert_int_equal(hw_store_init(c), 0);
	assert_int_equal(hw_store_open(c, NULL, &sc), 0);
	assert_int_equal(hw_store_replay(f->s, sc, 400, 0, NULL, NULL), 0);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	close_store(f);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, 0);
	assert_false(r.state_rebuilt);
	assert_int_equal(r.base_lsn, 400);
	assert_int_equal(r.entries, RECORDS - 400);
	assert_int_equal(r.head_lsn, RECORDS);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);

	struct hw_head h;
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, NULL, NULL), HW_ENOTFOUND);
	head_of(sb, &h);
	assert_int_equal(h.lsn, 100);
	assert_int_equal(hw_store_replay(f->s, sc, 0, 0, NULL, NULL), 0);
	uint8_t da[HW_HASH_BYTES], dc[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(sc, dc);
	assert_memory_equal(da, dc, HW_HASH_BYTES);
	hw_store_close(sb);
	hw_store_close(sc);
}

/* A backup of a pruned store restores by copy: to its end (same head and digest, and the
 * result verifies, chain only) and to a point in its log.hwl; a point before the
 * snapshot's head is refused with HW_ENOTFOUND, says why, and creates nothing. */
static void test_pruned_backup_restore(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], mid[300], early[300], scratch[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "mid", mid);
	path_in(f, "early", early);
	path_in(f, "scratch", scratch);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS);
	fill(f->s, RECORDS, RECORDS + 50);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.end_lsn, RECORDS + 50);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	struct hw_head ha, hr;
	uint8_t da[HW_HASH_BYTES];
	head_of(f->s, &ha);
	digest_of(f->s, da);
	assert_int_equal(ri.lsn, RECORDS + 50);
	assert_memory_equal(ri.digest, da, HW_HASH_BYTES);
	struct hw_store *rs;
	assert_int_equal(hw_store_open(dst, NULL, &rs), 0);
	head_of(rs, &hr);
	hw_store_close(rs);
	assert_memory_equal(hr.hash, ha.hash, HW_HASH_BYTES);
	struct hw_verify_report vr;
	assert_int_equal(hw_verify(dst, scratch, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
	assert_false(vr.state_rebuilt);
	assert_int_equal(vr.base_lsn, 400);

	assert_int_equal(hw_restore(bk, mid, RECORDS + 20, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 20);
	assert_int_equal(hw_restore(bk, early, 500, 0, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_non_null(strstr(ri.what, "starts after LSN 400"));
	assert_false(exists(early));
	assert_int_equal(hw_restore(bk, early, 0, NOW_MS, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_false(exists(early));
}

/* An incremental backup whose end the store's log no longer holds is refused and says
 * to start a new one; a backup whose end is exactly the base continues. */
static void test_pruned_incremental(void **state)
{
	struct fx *f = *state;
	char bk[300], bk2[300];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);
	fill(f->s, RECORDS, RECORDS + 100);
	assert_int_equal(hw_store_prune(f->s, RECORDS + 1), 0); /* base = bk2's end */
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 100);
	assert_int_equal(hw_store_prune(f->s, RECORDS + 51), 0);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBACKUP);
	assert_non_null(strstr(bi.what, "new directory"));
}

/* Append a checkpoint of s's head signed by k, as a primary makes one: its entry is at
 * lsn, and it vouches for the state at lsn - 1. */
static void checkpoint_at(struct hw_store *s, const struct hw_signer *k, uint64_t lsn)
{
	assert_int_equal(sign_fix_checkpoint(s, k, NOW_MS + 60000), lsn);
}

/* A backup of a pruned store holds a snapshot whose state nothing rebuilds: the restore
 * copies it and compares the state digest where the first signed checkpoint in log.hwl
 * after the snapshot vouches for it, and says which one matched; verify with trusted keys
 * takes the state as vouched for only by that checkpoint (named by the caller, or by the
 * record the restore left), and without it fails (HW_EUNVOUCHED at no entry). A snapshot whose
 * state was changed (its MANIFEST made to match, as whoever changed it could) is refused at that
 * checkpoint. */
static void test_pruned_restore_vouched(void **state)
{
	struct fx *f = *state;
	char bk[300], bk2[300], dst[300], dst2[300], scratch[300], snap[400];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	path_in(f, "r", dst);
	path_in(f, "r2", dst2);
	path_in(f, "scratch", scratch);
	snprintf(snap, sizeof snap, "%s/snapshot", bk2);
	struct hw_signer k;
	sign_fix_signer(&k);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);
	fill(f->s, RECORDS, RECORDS + 20);
	checkpoint_at(f->s, &k, RECORDS + 21); /* vouches for RECORDS + 20 */
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);

	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.base_lsn, 400);
	assert_int_equal(ri.state_cp_lsn, RECORDS + 21);
	struct hw_verify_report vr;
	struct hw_verify_trust t = {.keys = k.pk, .count = 1, .state_cp_lsn = ri.state_cp_lsn};
	assert_int_equal(hw_verify_trusted(dst, scratch, &t, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
	assert_int_equal(vr.state_cp_lsn, RECORDS + 21);
	t.state_cp_lsn = 0; /* the restore's record in dst names it all the same */
	assert_int_equal(hw_verify_trusted(dst, scratch, &t, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
	assert_int_equal(vr.state_cp_lsn, RECORDS + 21);
	close_store(f); /* the pruned store itself: no restore matched its state */
	assert_int_equal(hw_verify_trusted(f->a, scratch, &t, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, HW_EUNVOUCHED);
	assert_int_equal(vr.first_bad_lsn, 0);
	assert_true(hw_verify_state_unvouched(&vr));
	assert_non_null(strstr(vr.what, "starts after LSN 400"));
	assert_int_equal(hw_verify(dst, scratch, NULL, NULL, &vr), 0); /* no keys: told only */
	assert_int_equal(vr.code, 0);
	assert_int_equal(hw_restore(bk, dst2, RECORDS + 10, 0, NULL, NULL, &ri), 0);
	/* before what the checkpoint covers: checked all the same, in a copy of its own */
	assert_int_equal(ri.state_cp_lsn, RECORDS + 21);
	assert_int_equal(ri.state_cp_covers, RECORDS + 20);
	assert_int_equal(ri.lsn, RECORDS + 10);

	flip_value(snap, "containers", NULL, SIZE_MAX);
	manifest_rehash(bk2);
	hw_snapshot_rm(dst2);
	assert_int_equal(hw_restore(bk2, dst2, 0, 0, NULL, NULL, &ri), HW_EBACKUP);
	assert_non_null(strstr(ri.what, "the checkpoint at LSN 621 signed"));
	assert_false(exists(dst2));
}

/* A new snapshot of a pruned store gives its base and no checkpoint that vouches for it,
 * and the store's log tells what can come: nothing while it holds no checkpoint
 * (unsigned), nothing before new entries while its last entry is a checkpoint (idle), the
 * primary's next one once entries follow a checkpoint (due), and one already there that
 * covers the snapshot's head (in store). The incremental backup that appends it names it
 * (the first that covers the head, not a later one), and the restore matches the copied
 * state with it, also where it covers the snapshot's head itself. */
static void test_pruned_vouch_outlook(void **state)
{
	struct fx *f = *state;
	char bk[300], idle[300], dst[300], dst2[300];
	path_in(f, "bk", bk);
	path_in(f, "idle", idle);
	path_in(f, "r", dst);
	path_in(f, "r2", dst2);
	struct hw_signer k;
	sign_fix_signer(&k);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	struct hw_backup_info bi;
	enum hw_vouch_outlook ol;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_true(bi.snapshot);
	assert_int_equal(bi.base_lsn, 400);
	assert_int_equal(bi.vouch_lsn, 0);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_UNSIGNED);
	checkpoint_at(f->s, &k, RECORDS + 1);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_IN_STORE);

	assert_int_equal(hw_backup(f->s, idle, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS + 1);
	assert_int_equal(bi.vouch_lsn, 0); /* its checkpoint vouches for the entry before */
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS + 1, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_IDLE);
	fill(f->s, RECORDS + 1, RECORDS + 6);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS + 1, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_DUE);
	checkpoint_at(f->s, &k, RECORDS + 7);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS + 1, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_IN_STORE);

	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_false(bi.snapshot);
	assert_int_equal(bi.base_lsn, 0);
	assert_int_equal(bi.vouch_lsn, RECORDS + 1);
	assert_int_equal(hw_backup(f->s, idle, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 6);
	assert_int_equal(bi.vouch_lsn, RECORDS + 7);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(idle, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.state_cp_lsn, RECORDS + 7);
	/* a checkpoint that covers the snapshot's head itself vouches as well */
	assert_int_equal(hw_restore(bk, dst2, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.state_cp_lsn, RECORDS + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backup_restore, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_until_lsn, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_until_time, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_incremental, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_progress, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_backups, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_replay_damaged, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_into_store, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_log_cut_behind_head, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_killed, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_other_chain, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_without_manifest, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_busy, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_lock_outlasts_looks, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_hands_off, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_disk_full, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_no_room_only_without_room, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_check_chain, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_replay_stopped, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_verify_replay, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_backup_restore, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_incremental, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_restore_vouched, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_vouch_outlook, setup,
						store_fix_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
