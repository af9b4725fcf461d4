/* test_cli_verify.c: `hawser verify` run as a real process (HW_BIN) on an intact and a
 * damaged store (a flipped byte; zeroed LMDB pages the walk finds, or on which LMDB aborts;
 * one that cannot be opened, damaged or not a store), and the scratch stores of verify,
 * drill verify, digest --at-lsn and drill restore on a full disk (a tmpfs in a mount
 * namespace of the test's own): no room from the start, or the disk filled by the test
 * while the shim (HW_FAULTS_LIB) holds a write of the rebuild or the replay. The other
 * store commands are in test_cli_store.c. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "tests/integration/cli_fix.h"

static int setup(void **state)
{
	return fix_setup(state, "cli-verify");
}

/* ---- tests */

/* verify says intact (exit 0) on a fresh store; after one flipped byte in the record
 * of LSN 1000 it exits 3 and names LSN 1000. */
static void test_verify_damage(void **state)
{
	struct fix *f = *state;
	char dir[4200];
	make_profile_store(f, "v", "terminal_peak", "3000");
	path(f, "v", dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "verify", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "intact"));
	assert_int_equal(hw(&f->r, "verify", dir, "--json", NULL), 0);
	assert_json_object(f->r.out);
	assert_non_null(strstr(f->r.out, "\"intact\":true"));
	assert_int_equal(json_u64(f->r.out, "entries"), 3000);

	assert_true(flip_entry(dir, 1000) >= 1);
	assert_int_equal(hw(&f->r, "verify", dir, NULL), 3);
	assert_non_null(strstr(f->r.out, "lsn 1000"));
	assert_int_equal(hw(&f->r, "verify", dir, "--json", NULL), 3);
	assert_json_object(f->r.out);
	assert_non_null(strstr(f->r.out, "\"intact\":false"));
	assert_int_equal(json_u64(f->r.out, "first_bad_lsn"), 1000);
}

/* verify of stores whose LMDB pages were zeroed where the walk finds the damage: exit 3
 * naming where it starts, not HW_ESTORE_FAILED (the read LMDB marked bad at the damage,
 * used on for the state digest) nor an abort (LMDB asserting on the state tables' zeroed
 * pages as the digest reads them); the digest is not read, and says so in --json. */
static void test_verify_walk_damage(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200];
	make_profile_store(f, "a", "terminal_peak", "3000");
	path(f, "a", a, sizeof(a));
	assert_int_equal(hw_test_damage_pages(a, 100, 200, false), 0);
	assert_int_equal(hw(&f->r, "verify", a, NULL), 3);
	assert_non_null(strstr(f->r.out, "DAMAGED: first bad lsn 1: LMDB page after LSN 0 is "
					 "damaged"));
	assert_int_equal(hw(&f->r, "verify", a, "--json", NULL), 3);
	assert_json_object(f->r.out);
	assert_non_null(strstr(f->r.out, "\"digest\":\"\""));

	make_profile_store(f, "b", "terminal_peak", "3000");
	path(f, "b", b, sizeof(b));
	assert_int_equal(hw_test_damage_pages(b, 50, 20, false), 0);
	assert_int_equal(hw(&f->r, "verify", b, NULL), 3);
	assert_non_null(strstr(f->r.out, "DAMAGED: first bad lsn 363: entry at LSN 363 fails"));
}

/* verify of a store with zeroed pages on which LMDB aborts the walk (an assertion in
 * mdb.c, which kills the process): exit 3 with a report naming where the damage starts
 * and that LMDB aborted there, in text and --json, not a process killed by SIGABRT
 * with no report. */
static void test_verify_lmdb_aborts(void **state)
{
	struct fix *f = *state;
	char dir[4200];
	make_profile_store(f, "a", "terminal_peak", "3000");
	path(f, "a", dir, sizeof(dir));
	assert_int_equal(hw_test_damage_pages(dir, 200, 20, false), 0);
	assert_int_equal(hw(&f->r, "verify", dir, NULL), 3);
	assert_non_null(strstr(f->r.out, "DAMAGED: first bad lsn 1552: LMDB aborted reading the "
					 "log page after LSN 1551 (signal 6): the store's pages "
					 "are damaged (HW_ECORRUPT)"));
	assert_non_null(strstr(f->r.out, "1551 entries checked, head lsn 3000"));
	assert_int_equal(hw(&f->r, "verify", dir, "--json", NULL), 3);
	assert_json_object(f->r.out);
	assert_non_null(strstr(f->r.out, "\"intact\":false"));
	assert_int_equal(json_u64(f->r.out, "first_bad_lsn"), 1552);
}

/* A fresh copy of store src at f->dir/name (data.mdb only, as an operator's cp). */
static void copy_store(struct fix *f, const char *src, const char *name, char *dir, size_t cap)
{
	char from[4300], to[4300];
	path(f, name, dir, cap);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(from, sizeof(from), "%s/data.mdb", src);
	snprintf(to, sizeof(to), "%s/data.mdb", dir);
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* verify of a store damaged so that it cannot be opened is damage found (exit 3, saying
 * how) when something shows it was a store: a data.mdb cut short of what its LMDB meta
 * page counts, one of its two meta pages garbled, both (its log entries still there),
 * its table directory zeroed, or the whole file garbled beside a node's wal/. With no
 * such sign it stays an error (exit 1) that says what it may be: a wholly garbled file,
 * an LMDB file without hawser's tables, a directory without data.mdb, and one that does
 * not exist (ENOENT, not "not a hawser store"). */
static void test_verify_open_damage(void **state)
{
	struct fix *f = *state;
	char src[4200], d[4200], file[4300];
	make_profile_store(f, "src", "terminal_peak", "3000");
	path(f, "src", src, sizeof(src));
	static const struct {
		uint64_t first, count;
		bool garbled;
		const char *says;
	} cases[] = {
		{0, 0, false, "data.mdb is 800000 bytes, shorter than the "},
		{1, 1, true, "one of data.mdb's two LMDB meta pages is damaged"},
		{0, 2, true, "data.mdb has no LMDB meta page, yet it holds hawser log entries"},
		{2, 1, false, "LMDB finds the pages of data.mdb's table directory"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[16];
		snprintf(name, sizeof(name), "d%zu", i);
		copy_store(f, src, name, d, sizeof(d));
		snprintf(file, sizeof(file), "%s/data.mdb", d);
		if (cases[i].count == 0)
			assert_int_equal(truncate(file, 800000), 0);
		else
			assert_int_equal(hw_test_damage_pages(d, cases[i].first, cases[i].count,
							      cases[i].garbled),
					 0);
		assert_int_equal(hw(&f->r, "verify", d, NULL), 3);
		assert_non_null(strstr(f->r.out, "DAMAGED: "));
		assert_non_null(strstr(f->r.out, cases[i].says));
		assert_non_null(strstr(f->r.out, "it cannot be opened: nothing in it checked"));
	}
	copy_store(f, src, "all", d, sizeof(d));
	assert_int_equal(hw_test_damage_pages(d, 0, UINT32_MAX, true), 0);
	assert_int_equal(hw(&f->r, "verify", d, NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_EFORMAT): data.mdb holds no LMDB meta page and no "
					 "hawser log entry: not a hawser store, or one overwritten "
					 "or encrypted whole"));
	snprintf(file, sizeof(file), "%s/wal", d);
	assert_int_equal(mkdir(file, 0700), 0);
	assert_int_equal(hw(&f->r, "verify", d, NULL), 3);
	assert_non_null(strstr(f->r.out, "data.mdb is not an LMDB file, beside a node's "
					 "write-ahead log"));

	path(f, "foreign", d, sizeof(d));
	assert_int_equal(mkdir(d, 0700), 0);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {3, "key"}, v = {5, "value"};
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, d, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(hw(&f->r, "verify", d, NULL), 1);
	assert_non_null(strstr(f->r.err, "data.mdb is an LMDB file without hawser's tables"));

	path(f, "nothing", d, sizeof(d));
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(hw(&f->r, "verify", d, NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_EFORMAT): no data.mdb in it"));
	path(f, "missing", d, sizeof(d));
	assert_int_equal(hw(&f->r, "verify", d, NULL), 1);
	assert_non_null(strstr(f->r.err, "(ENOENT)"));
}

/* Write zeros to a new file at path until its file system is full. */
static void fill_disk(const char *path)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	static const char zeros[4096];
	while (fwrite(zeros, 1, sizeof zeros, fp) == sizeof zeros && fflush(fp) == 0)
		;
	fclose(fp);
}

/* A tmpfs of 4 MiB (small_fs: mnt[4200]) holding a store of 2000 records, dir[4300]
 * (mnt/st); fill[4300] is mnt/fill, for fill_disk(). */
static void small_store(struct fix *f, char *mnt, char *dir, char *fill)
{
	small_fs(f, "size=4m", mnt, 4200);
	snprintf(dir, 4300, "%s/st", mnt);
	snprintf(fill, 4300, "%s/fill", mnt);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "ingest", dir, "--generate", "2000", "--seed", "3", "--end-ms",
			    END_MS, NULL),
			 0);
}

/* A command run on small_store()'s store while its disk fills: mnt, dir and fill as
 * small_store() makes them, data its data.mdb, before (len0 bytes) what that held. */
struct held_run {
	char mnt[4200], dir[4300], fill[4300], data[4400], fifo[4300];
	uint8_t *before;
	size_t len0;
	struct hw_proc p;
};

static void held_store(struct fix *f, struct held_run *h)
{
	small_store(f, h->mnt, h->dir, h->fill);
	snprintf(h->data, sizeof h->data, "%s/data.mdb", h->dir);
	h->before = file_bytes(h->data, &h->len0);
}

/* Start `hawser args` with the shim holding the 4th write under mnt of each of its
 * processes (the scratch store's creation writes 3 times before it; a child forked
 * before the parent wrote there counts from 0 too), its stderr in h->p, and its stdout
 * too when out says so. */
static void held_start(struct fix *f, struct held_run *h, const char **args, bool out)
{
	char log[4300];
	path(f, "hold", h->fifo, sizeof h->fifo);
	path(f, "held.log", log, sizeof log);
	assert_int_equal(mkfifo(h->fifo, 0600), 0);
	assert_int_equal(setenv("LD_PRELOAD", HW_FAULTS_LIB, 1), 0);
	assert_int_equal(setenv("HW_FAULT_PATH", h->mnt, 1), 0);
	assert_int_equal(setenv("HW_FAULT_HOLD_AFTER", "3", 1), 0);
	assert_int_equal(setenv("HW_FAULT_HOLD_FIFO", h->fifo, 1), 0);
	int rc = out ? hw_proc_start_out(&h->p, log, args) : hw_proc_start(&h->p, log, args);
	hw_test_fault_env_clear();
	unsetenv("HW_FAULT_HOLD_AFTER");
	unsetenv("HW_FAULT_HOLD_FIFO");
	assert_int_equal(rc, 0);
}

/* Wait (from *from in h->p's stderr) for the hold of the write of the path ending in held,
 * fill the disk when fill says so, and let the write go on. */
static void held_release(struct held_run *h, size_t *from, const char *held, bool fill)
{
	assert_true(hw_proc_wait_line(&h->p, from, "event=hold_injected", held, 30000, NULL, 0));
	int fd = fifo_open(h->fifo, O_WRONLY); /* the write waits on it */
	assert_true(fd >= 0);
	if (fill)
		fill_disk(h->fill);
	close(fd);
}

/* Run `hawser args` (held_start) and fill the disk while the write of the path ending in
 * held waits. It must exit 1 having said said (ENOSPC and why) and then
 * "  scratch: MNT/st.TAG-..." (tag: the command's scratch). Its stderr stays in h->p. */
static void held_fill(struct fix *f, struct held_run *h, const char **args, const char *held,
		      const char *said, const char *tag)
{
	char want[4400];
	held_start(f, h, args, false);
	size_t from = 0;
	held_release(h, &from, held, true);
	assert_int_equal(hw_proc_reap(&h->p, 30000), 1);
	assert_true(hw_proc_wait_line(&h->p, &from, said, NULL, 0, NULL, 0));
	snprintf(want, sizeof want, "%s/st.%s-", h->mnt, tag);
	assert_true(hw_proc_wait_line(&h->p, &from, "  scratch: ", want, 0, NULL, 0));
}

/* Whether the command of held_fill() said s. */
static bool held_said(struct held_run *h, const char *s)
{
	size_t from = 0;
	return hw_proc_wait_line(&h->p, &from, s, NULL, 0, NULL, 0);
}

/* After held_fill(): the store is byte for byte as it was, and once the fill is removed
 * nothing but the store is left under mnt (no scratch). */
static void held_end(struct held_run *h)
{
	hw_proc_kill(&h->p);
	size_t len1;
	uint8_t *after = file_bytes(h->data, &len1);
	assert_int_equal(len1, h->len0);
	assert_memory_equal(after, h->before, h->len0);
	free(h->before);
	free(after);
	assert_int_equal(unlink(h->fill), 0);
	DIR *d = opendir(h->mnt);
	assert_non_null(d);
	for (const struct dirent *e; (e = readdir(d)) != NULL;)
		assert_true(e->d_name[0] == '.' || strcmp(e->d_name, "st") == 0);
	closedir(d);
}

/* verify of an intact store whose file system fills during the rebuild, after the room
 * check passed (another process writing there): the shim holds the rebuild's first write
 * of the replay until the test has filled the disk (held_fill). An error (exit 1, ENOSPC)
 * that says so and names the scratch directory, never damage found (a SIGBUS read as
 * damage, HW_ECORRUPT, DAMAGED); the store is byte for byte as it was, no scratch is
 * left, and with room again it is intact. */
static void test_verify_fills_during_rebuild(void **state)
{
	struct fix *f = *state;
	struct held_run h;
	held_store(f, &h);
	const char *args[] = {"verify", h.dir, NULL};
	held_fill(f, &h, args, "/rebuild/data.mdb",
		  "(ENOSPC): the rebuild's scratch store ran out of room part way", "verify");
	assert_false(held_said(&h, "DAMAGED"));
	assert_false(held_said(&h, "HW_ECORRUPT"));
	held_end(&h);
	char scr[4300];
	snprintf(scr, sizeof scr, "%s/scr", h.mnt);
	assert_int_equal(hw(&f->r, "verify", h.dir, "--scratch", scr, NULL), 0);
	assert_non_null(strstr(f->r.out, " intact: 2000 entries"));
	assert_int_equal(rmdir(scr), 0); /* made, and left empty */
}

/* drill verify as test_verify_fills_during_rebuild: an ERROR (exit 1, ENOSPC) naming the
 * scratch beside the store, which was only read (no FAIL); nothing else changes there. */
static void test_drill_verify_fills_during_rebuild(void **state)
{
	struct fix *f = *state;
	struct held_run h;
	char reports[4200];
	held_store(f, &h);
	path(f, "reports", reports, sizeof reports);
	const char *args[] = {"drill",        "verify", "--dir",       h.dir,
			      "--report-dir", reports,  "--no-record", NULL};
	held_start(f, &h, args, true);
	size_t from = 0;
	held_release(&h, &from, "/st.verify-", true);
	assert_int_equal(hw_proc_reap(&h.p, 30000), 1);
	assert_true(held_said(&h, "ERROR: verify could not run (ENOSPC): its rebuild's scratch "
				  "store ran out of room in "));
	assert_true(held_said(&h, "/st.verify-") && !held_said(&h, "FAIL"));
	assert_true(held_said(&h, " (removed); the store was only read"));
	held_end(&h);
}

/* digest --at-lsn of an intact store whose file system fills during its replay (another
 * process writing there): the shim holds the replay's first write into the scratch store
 * until the test has filled the disk (held_fill). An error (exit 1, ENOSPC) that says the
 * replay's scratch store ran out of room, the store only read, and names the scratch
 * directory, not "store is full" (HW_ESTORE_FULL) as if of the store; the store is byte
 * for byte as it was, no scratch is left, and with room again the digest is made. */
static void test_digest_at_fills_during_replay(void **state)
{
	struct fix *f = *state;
	struct held_run h;
	held_store(f, &h);
	const char *args[] = {"digest", h.dir, "--at-lsn", "2000", NULL};
	held_fill(f, &h, args, "/store/data.mdb",
		  "(ENOSPC): the replay's scratch store ran out of room part way: the store was "
		  "only read",
		  "digest");
	assert_false(held_said(&h, "HW_ESTORE_FULL"));
	held_end(&h);
	assert_int_equal(hw(&f->r, "digest", h.dir, "--at-lsn", "2000", NULL), 0);
	assert_non_null(strstr(f->r.out, " lsn=2000\n"));
}

/* drill verify --compare where the compare's replay fills its scratch's file system
 * (another process writing there): the store (2000 records) is verified, its rebuild let
 * through, then the shim holds the replay of the other store (2500 records, replayed to
 * LSN 2000 beside the store) until the test has filled the disk. The drill ends in
 * ERROR (exit 1) saying the replay's scratch store ran out of room (ENOSPC) and naming
 * the scratch directory, not a FAIL of the stores nor "store is full" (HW_ESTORE_FULL)
 * as if of a store; the store is byte for byte as it was and no scratch is left. */
static void test_drill_compare_fills_during_replay(void **state)
{
	struct fix *f = *state;
	struct held_run h;
	held_store(f, &h);
	char other[4200], want[4400];
	path(f, "other", other, sizeof other);
	assert_int_equal(hw(&f->r, "init", other, NULL), 0);
	assert_int_equal(hw(&f->r, "ingest", other, "--generate", "2500", "--seed", "3", "--end-ms",
			    END_MS, NULL),
			 0);
	char reports[4200];
	path(f, "reports", reports, sizeof reports);
	const char *args[] = {"drill", "verify",       "--dir", h.dir,         "--compare",
			      other,   "--report-dir", reports, "--no-record", NULL};
	held_start(f, &h, args, true);
	size_t from = 0;
	held_release(&h, &from, "/st.verify-", false);
	held_release(&h, &from, "/store/data.mdb", true);
	assert_int_equal(hw_proc_reap(&h.p, 30000), 1);
	assert_true(held_said(&h, "ERROR: "));
	assert_true(held_said(&h, "(ENOSPC)"));
	assert_true(held_said(&h, "the replay's scratch store ran out of room part way"));
	snprintf(want, sizeof want, "%s/st.compare-", h.mnt);
	assert_true(held_said(&h, want));
	assert_false(held_said(&h, "HW_ESTORE_FULL"));
	assert_false(held_said(&h, "FAIL"));
	held_end(&h);
}

/* verify and drill verify of an intact store whose file system has no room left for the
 * rebuild's scratch store: an error (exit 1, ENOSPC, saying how much it needs; the drill
 * naming the scratch beside it, where `hawser verify` has its "scratch:" line), never
 * damage found (a SIGBUS on the scratch's lock file or map, exit 3 HW_ECORRUPT, a drill
 * FAIL); with room again, intact. On the same full disk a new store and a digest's replay
 * scratch are ENOSPC too, where LMDB's first write to its lock file's map was a SIGBUS (a
 * crash of init, damage said of the store the digest read), and leave nothing behind: the
 * digest's refused before its replay, saying how much it needs. */
static void test_verify_no_room(void **state)
{
	struct fix *f = *state;
	char mnt[4200], dir[4300], fill[4300];
	small_store(f, mnt, dir, fill);
	fill_disk(fill);
	assert_int_equal(hw(&f->r, "verify", dir, NULL), 1);
	assert_non_null(strstr(f->r.err, "(ENOSPC): no room for the rebuild's scratch store"));
	assert_null(strstr(f->r.err, "DAMAGED"));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--no-record", NULL), 1);
	assert_non_null(strstr(f->r.out, "ERROR: verify could not run (ENOSPC): no room for its "
					 "rebuild's scratch "));
	/* the scratch beside the store, named (its path shortened in the middle to fit) */
	const char *said = strstr(f->r.out, "/st.verify-");
	unsigned long long need_kib = 0, free_kib = 1;
	assert_true(said != NULL &&
		    sscanf(said,
			   "/st.verify-%*6c (removed): it needs about %llu KiB, its file "
			   "system has %llu KiB free",
			   &need_kib, &free_kib) == 2);
	assert_true(need_kib > free_kib);
	assert_null(strstr(f->r.out, "FAIL"));
	assert_int_equal(hw(&f->r, "digest", dir, "--at-lsn", "1000", NULL), 1);
	assert_non_null(strstr(f->r.err, "(ENOSPC): no room for the replay's scratch store: it "
					 "needs about "));
	assert_null(strstr(f->r.err, "HW_ECORRUPT"));
	char other[4300];
	snprintf(other, sizeof other, "%s/new", mnt);
	assert_int_equal(hw(&f->r, "init", other, NULL), 1);
	assert_non_null(strstr(f->r.err, "(ENOSPC)"));
	assert_int_equal(access(other, F_OK), -1);
	assert_int_equal(unlink(fill), 0);
	assert_int_equal(hw(&f->r, "verify", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "digest", dir, "--at-lsn", "1000", NULL), 0);
}

/* drill restore into a scratch with no room for the store: an ERROR that names the
 * scratch, which is full, the room the restore needs there and has, and not the backup as
 * if it were at fault; its replay phase skipped, not failed. hawser restore into that
 * file system says the same of its DIR2 and restores nothing. */
static void test_restore_no_room(void **state)
{
	struct fix *f = *state;
	char mnt[4200], dir[4200], bak[4200], reports[4200];
	small_fs(f, "size=256k", mnt, sizeof mnt);
	path(f, "st", dir, sizeof dir);
	path(f, "bak", bak, sizeof bak);
	path(f, "reports", reports, sizeof reports);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "ingest", dir, "--generate", "2000", "--seed", "3", "--end-ms",
			    END_MS, NULL),
			 0);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", mnt,
			    "--report-dir", reports, "--no-record", "--json", NULL),
			 1);
	assert_non_null(strstr(f->r.out, "\"result\":\"ERROR\""));
	assert_non_null(strstr(f->r.out, "{\"name\":\"check backup\","));
	assert_null(strstr(f->r.out, "\"verdict\":\"fail\""));
	const char *said = strstr(f->r.out, "\"what\":\"restore could not run (ENOSPC): no room "
					    "for its replay's scratch /");
	assert_non_null(said);
	said = strstr(said, "/store (removed): it needs about ");
	unsigned long long need_kib = 0, free_kib = 1;
	assert_true(said != NULL && sscanf(said,
					   "/store (removed): it needs about %llu KiB, its file "
					   "system has %llu KiB free",
					   &need_kib, &free_kib) == 2);
	assert_true(need_kib > free_kib);
	/* hawser restore itself says so too, naming DIR2, and restores nothing */
	char into[4300];
	snprintf(into, sizeof into, "%s/into", mnt);
	assert_int_equal(hw(&f->r, "restore", bak, into, NULL), 1);
	said = strstr(f->r.err, "/into: No space left on device (ENOSPC): no room for the restored "
				"store: it needs about ");
	need_kib = 0, free_kib = 1;
	assert_true(said != NULL && sscanf(strstr(said, "about "),
					   "about %llu KiB, its file system has %llu KiB free",
					   &need_kib, &free_kib) == 2);
	assert_true(need_kib > free_kib);
	assert_non_null(strstr(said, " KiB free; nothing restored, the backup only read"));
	snprintf(into, sizeof into, "%s/into/data.mdb", mnt);
	assert_int_equal(access(into, F_OK), -1);
}

/* hawser restore whose DIR2 cannot be flushed (every fsync under DIR2 fails from the
 * n+1st on, n swept from 0 until the restore succeeds): each failed restore exits 1 and
 * leaves no data.mdb in DIR2, as its "nothing restored" says, the last failing fsync being
 * DIR2's own after the store was moved in. */
static void test_restore_sync_fails(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], into[4200], mdb[4300], n[16];
	path(f, "st", dir, sizeof dir);
	path(f, "bak", bak, sizeof bak);
	path(f, "into", into, sizeof into);
	snprintf(mdb, sizeof mdb, "%s/data.mdb", into);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "ingest", dir, "--generate", "200", "--seed", "3", "--end-ms",
			    END_MS, NULL),
			 0);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	int rc = 1, said = 0;
	unsigned i;
	for (i = 0; i < 200 && rc == 1; i++) {
		assert_int_equal(mkdir(into, 0700), 0);
		snprintf(n, sizeof n, "%u", i);
		assert_int_equal(setenv("LD_PRELOAD", HW_FAULTS_LIB, 1), 0);
		assert_int_equal(setenv("HW_FAULT_PATH", into, 1), 0);
		assert_int_equal(setenv("HW_FAULT_FSYNC_AFTER", n, 1), 0);
		rc = hw(&f->r, "restore", bak, into, NULL);
		hw_test_fault_env_clear();
		if (rc == 1) {
			if (access(mdb, F_OK) == 0)
				fail_msg("fsyncs after %u fail: %s left behind: %s", i, mdb,
					 f->r.err);
			said += strstr(f->r.err, "/into: Input/output error (EIO): the restored "
						 "store could not be flushed into it: removed, "
						 "nothing restored\n") != NULL;
			assert_int_equal(hw_test_rm_rf(into), 0);
		}
	}
	assert_int_equal(rc, 0);   /* enough fsyncs pass: restored */
	assert_int_equal(said, 1); /* the last to fail was DIR2's own, after the move */
	assert_int_equal(access(mdb, F_OK), 0);
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_cli_verify");
	if (hw_bin == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restore_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_sync_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_walk_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_lmdb_aborts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_open_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_fills_during_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill_verify_fills_during_rebuild, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drill_compare_fills_during_replay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_digest_at_fills_during_replay, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
