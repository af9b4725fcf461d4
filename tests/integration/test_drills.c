/* test_drills.c (integration, ctest name test_drills_cli): `hawser drill` and the drill
 * part of `hawser status` run as real processes (HW_BIN), through their pass and fail
 * paths: an intact store verifies; a damaged one fails naming the LSN, and so does one
 * whose damaged pages make LMDB abort, or one cut short (a damaged page the history row's write
 * dies on leaves the drill's result standing, its report the record); two stores are compared at
 * one LSN (equal twins pass, a digest mismatch fails, a store on whose pages LMDB aborts fails
 * naming it, and status of one whose drill history it aborts on is an error naming it); a backup
 * restores and verifies within the RTO, fails against a 1 ms RTO, and a damaged backup fails with
 * the reason, and one whose checkpoints an untrusted key signed fails with HW_EUNTRUSTED, one of a
 * pruned store whose state no signed checkpoint vouches for fails too, and so does a damaged newest
 * generation, or one without a MANIFEST (an older one is not restored instead), and a backup that
 * is not the store's (empty, of another chain, diverged) or unsigned where the store signs; a fresh
 * full backup of a pruned store waits for the checkpoint that vouches for it (and passes), or says
 * why it does not (exit 4); a restore of a pruned store's backup names and judges (--trust) the
 * signer that vouched for its state, also for a target before the checkpoint, and records
 * it for verify --trust; the
 * procedure fails on too few backup generations, naming backup_dir, and passes
 * a complete setup; status reports overdue kinds. Only a restore of the newest backup to
 * its end keeps the restore schedule (or one to a point that found it damaged); a time a backup
 * ends before fails when the store holds an entry by then; the replay rate counts the entries
 * replayed; a restore or verify drill stopped by SIGTERM removes its scratch and records the run.
 * Every drill leaves its JSON and HTML report and a history row. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include "base/clock.h"
#include "replica/drills.h"
#include "replica/snapshot.h"
#include "replica/store.h"
#include "tests/integration/cli_fix.h"
#include "tests/integration/drill_fix.h"

static int setup(void **state)
{
	return fix_setup(state, "cli-drills");
}

/* Usage errors: no drill, an unknown one, and verify without a store exit 2. A --dir that
 * holds no store (/tmp by a slip) is refused before anything is made: no DIR.drills
 * directory of reports appears beside it (it did, with an ERROR report in it). */
static void test_usage(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw(&f->r, "drill", NULL), 2);
	assert_int_equal(hw(&f->r, "drill", "fire", NULL), 2);
	assert_non_null(strstr(f->r.err, "unknown drill"));
	assert_int_equal(hw(&f->r, "drill", "verify", NULL), 2);
	assert_int_equal(hw(&f->r, "drill", "verify", "--help", NULL), 0);
	assert_non_null(strstr(f->r.out, "--compare"));
	char plain[4200], beside[4300];
	struct stat st;
	path(f, "plain", plain, sizeof plain);
	assert_int_equal(mkdir(plain, 0700), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", plain, NULL), 2);
	char want[9000];
	snprintf(want, sizeof want,
		 "hawser drill verify: %s is not a hawser store (no data.mdb in it): no report "
		 "goes beside it; name a store, or give --report-dir\n",
		 plain);
	assert_ptr_equal(hw_said(f->r.err, want), f->r.err); /* wrapped at 80 columns */
	snprintf(beside, sizeof beside, "%s.drills", plain);
	assert_int_equal(stat(beside, &st), -1);
	assert_int_equal(f->r.out_len, 0);
}

/* verify passes an intact store (exit 0, report written, history row) and fails (exit 3)
 * once a record byte is flipped, naming the LSN; status shows the last run, a FAIL. */
static void test_verify_pass_fail(void **state)
{
	struct fix *f = *state;
	char dir[4200];
	make_store(f, "v", "3", "3000");
	path(f, "v", dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "PASS"));
	assert_non_null(strstr(f->r.out, "state rebuilt and equal"));
	assert_report(&f->r);
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "verify    last PASS"));

	assert_true(flip_entry(dir, 1000) >= 1);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 3);
	assert_non_null(strstr(f->r.out, "FAIL"));
	assert_non_null(strstr(f->r.out, "LSN 1000"));
	assert_report(&f->r);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--json", "--no-record", NULL),
			 3);
	assert_non_null(strstr(f->r.out, "\"result\":\"FAIL\""));
	assert_non_null(strstr(f->r.out, "\"kind\":\"verify\""));
	/* The failure is the last run; the schedule still counts the earlier pass. */
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "verify    last FAIL"));
	assert_non_null(strstr(f->r.out, "on time"));
}

/* verify of a store with zeroed pages on which LMDB aborts the walk fails (exit 3),
 * naming where and that LMDB aborted, with its report and its history row: not a drill
 * killed by SIGABRT that status shows as never run. A garbled last page (LMDB's
 * free-page list, which verify does not read and the history row's write does) kills
 * the write of the row, not the drill: it says so, naming its report. A store cut short
 * fails it too, and cannot take the row. */
static void test_verify_pages_damaged(void **state)
{
	struct fix *f = *state;
	char dir[4200], file[4300];
	make_store(f, "z", "3", "3000");
	path(f, "z", dir, sizeof(dir));
	assert_int_equal(hw_test_damage_pages(dir, 200, 20, false), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 3);
	assert_non_null(strstr(f->r.out, "fail  hash chain                   HW_ECORRUPT at LSN "
					 "1552: LMDB aborted reading the log page after LSN 1551"));
	assert_report(&f->r);
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "verify    last FAIL"));
	assert_non_null(strstr(f->r.out, "LMDB aborted reading the log page after LSN 1551"));

	make_store(f, "g", "3", "3000");
	path(f, "g", dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	uint64_t last = (uint64_t)st.st_size / HW_TEST_PAGE_BYTES - 1;
	assert_int_equal(hw_test_damage_pages(dir, last, 1, true), 0);
	/* the last page is LMDB's free-page list: every other check reads as intact, and
	 * the next write (the history row's) would reuse pages by it */
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 3);
	assert_non_null(strstr(f->r.out, "reading its free-page list"));
	assert_report(&f->r);
	assert_non_null(strstr(f->r.err, "drill history of"));
	assert_non_null(strstr(f->r.err, "not updated: LMDB died writing the row"));
	assert_non_null(strstr(f->r.err, ".json is the record of this run"));

	/* cut short: it cannot be opened, which fails the drill (not an ERROR); the row
	 * cannot go into it, and the drill says so */
	make_store(f, "t", "3", "3000");
	path(f, "t", dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	assert_int_equal(truncate(file, 800000), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 3);
	assert_non_null(strstr(f->r.out, "fail  hash chain                   HW_ECORRUPT: "
					 "data.mdb is 800000 bytes, shorter than the"));
	assert_report(&f->r);
	assert_non_null(strstr(f->r.err, "not updated: stored data failed its integrity check"));
}

/* verify --compare: a twin built the same way agrees; so does one that went on past it
 * (replayed to the twin's head: hw_cli_digests_common, which hawser bench's check
 * shares); a store of another chain and an empty store fail the drill, saying why (they
 * passed: two empty states are equal). */
static void test_verify_compare(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200], c[4200], d[4200];
	make_store(f, "a", "3", "2000");
	make_store(f, "b", "3", "2000");
	make_store(f, "c", "5", "2500");
	make_store(f, "d", "3", "2000");
	path(f, "a", a, sizeof(a));
	path(f, "b", b, sizeof(b));
	path(f, "c", c, sizeof(c));
	path(f, "d", d, sizeof(d));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, "--compare", b, NULL), 0);
	assert_non_null(strstr(f->r.out, "entry hash equal"));
	assert_int_equal(hw(&f->r, "ingest", d, "--generate", "500", "--seed", "9", "--end-ms",
			    END_MS, NULL),
			 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, "--compare", d, NULL), 0);
	assert_non_null(strstr(f->r.out, "equal at LSN 2000, entry hash equal"));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", d, "--compare", a, NULL), 0);
	assert_non_null(strstr(f->r.out, "equal at LSN 2000, entry hash equal"));
	assert_int_equal(
		hw(&f->r, "drill", "verify", "--dir", a, "--compare", b, "--compare", c, NULL), 3);
	assert_non_null(strstr(f->r.out, "the stores hold different chains"));
	assert_report(&f->r);
	/* an empty store agrees with nothing: two empty states prove nothing */
	char e[4200];
	path(f, "e", e, sizeof(e));
	assert_int_equal(hw(&f->r, "init", e, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, "--compare", e, NULL), 3);
	assert_non_null(strstr(f->r.out, "nothing to compare"));
}

/* verify --compare with a store whose damaged pages make LMDB abort as its state at the
 * common LSN is replayed: the compare fails the drill (exit 3, with its report), naming
 * that store and `hawser verify` (it reads in a child), not a drill killed with LMDB's
 * words alone; those come after, as a detail; the replay's scratch, in which the child
 * died, is removed. */
static void test_compare_damaged(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200], want[9000];
	make_store(f, "a", "3", "2000");
	make_store(f, "b", "3", "3000");
	path(f, "a", a, sizeof(a));
	path(f, "b", b, sizeof(b));
	assert_int_equal(hw_test_damage_pages(b, 200, 20, false), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, "--compare", b, NULL), 3);
	snprintf(want, sizeof(want),
		 "cannot compare: the store at %s is damaged (LMDB stopped on SIGABRT while "
		 "reading it): run `hawser verify %s` (HW_ECORRUPT)\n",
		 b, b);
	assert_non_null(strstr(f->r.out, want));
	assert_report(&f->r);
	assert_memory_equal(f->r.err, "  detail: LMDB: mdb.c:", 22);
	assert_no_scratch(f);
	/* a bug of hawser's in a later compare (its third child) still decides the run,
	 * after the damage the one before found, and its line is the one printed */
	char c[4200];
	make_store(f, "c", "3", "2000");
	path(f, "c", c, sizeof(c));
	assert_int_equal(setenv("HW_FAULT_CHILD_AFTER", "2", 1), 0);
	int rc = hw(&f->r, "drill", "verify", "--dir", a, "--compare", b, "--compare", c,
		    "--no-record", NULL);
	unsetenv("HW_FAULT_CHILD_AFTER");
	assert_int_equal(rc, 1);
	assert_non_null(strstr(f->r.out, "ERROR: "));
	assert_non_null(strstr(f->r.err, "  detail: hawser: assertion failed: "));
	assert_no_scratch(f);
}

/* A drill whose child fails an assertion of hawser's own (HW_FAULT_CHILD_AFTER=N: the
 * N+1th child, a bug on purpose) ends in ERROR (exit 1) saying so, not FAIL (exit 3) as
 * if the store were damaged: in the verify (child 0), in a compare (child 1, its scratch
 * removed). The row of the history (the last child) written by a child that fails so, or
 * is killed (HW_FAULT_CHILD_HOW=kill: no damage either), is not written, and the drill
 * says why and that its report is the record of the run. */
static void test_drill_internal_error(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200];
	make_store(f, "a", "3", "1000");
	make_store(f, "b", "3", "1000");
	path(f, "a", a, sizeof(a));
	path(f, "b", b, sizeof(b));
	assert_int_equal(setenv("HW_FAULT_CHILD_AFTER", "0", 1), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, "--no-record", NULL), 1);
	assert_non_null(strstr(f->r.out, "ERROR: verify of "));
	assert_non_null(strstr(f->r.out, "could not run: hawser failed one of its own checks: "
					 "a bug in hawser (HW_EINTERNAL)"));
	assert_memory_equal(f->r.err, "  detail: hawser: assertion failed: ", 36);

	assert_int_equal(setenv("HW_FAULT_CHILD_AFTER", "1", 1), 0);
	assert_int_equal(
		hw(&f->r, "drill", "verify", "--dir", a, "--compare", b, "--no-record", NULL), 1);
	assert_non_null(strstr(f->r.out, "ERROR: a compare could not run: hawser failed one of "
					 "its own checks"));
	assert_non_null(strstr(f->r.out, "skip  compare"));
	assert_null(strstr(f->r.out, "damaged"));
	assert_memory_equal(f->r.err, "  detail: hawser: assertion failed: ", 36);
	assert_no_scratch(f);

	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, NULL), 0);
	assert_non_null(strstr(f->r.err, "not updated: a check of hawser's own failed writing "
					 "the row"));
	assert_non_null(
		strstr(f->r.err, ": a bug in hawser, not damage to the store; the report "));
	assert_non_null(strstr(f->r.err, ".json is the record of this run\n"
					 "  detail: hawser: assertion failed: "));
	assert_int_equal(setenv("HW_FAULT_CHILD_HOW", "kill", 1), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, NULL), 0);
	assert_non_null(strstr(f->r.err, "drill history of"));
	assert_non_null(strstr(f->r.err, "not updated: the process was killed writing the row ("));
	assert_non_null(strstr(f->r.err, "); the report "));
	assert_non_null(strstr(f->r.err, ".json is the record of this run\n"));
	assert_null(strstr(f->r.err, "damage"));
	unsetenv("HW_FAULT_CHILD_AFTER");
	unsetenv("HW_FAULT_CHILD_HOW");
	assert_int_equal(hw(&f->r, "status", "--dir", a, NULL), 0);
	assert_non_null(strstr(f->r.out, "verify    never run"));
}

/* status --dir of a store whose drill history LMDB aborts on (a branch page of it
 * damaged): exit 1 with HW_ECORRUPT, naming the store and `hawser verify`. */
static void test_status_damaged(void **state)
{
	struct fix *f = *state;
	char a[4200];
	make_store(f, "a", "3", "1000");
	path(f, "a", a, sizeof(a));
	/* a history deeper than one page, as some weeks of daily drills make it */
	struct hw_store *s;
	assert_int_equal(hw_store_open(a, NULL, &s), 0);
	for (int i = 0; i < 40; i++) {
		struct hw_drill_row row = {.time_ms = END_MS_NUM + i,
					   .kind = HW_DRILL_VERIFY,
					   .result = HW_DRILL_PASS};
		snprintf(row.what, sizeof(row.what), "%0150d entries intact", i);
		assert_int_equal(hw_store_drill_append(s, &row), 0);
	}
	hw_store_close(s);
	assert_int_equal(hw(&f->r, "status", "--dir", a, NULL), 0);
	assert_non_null(strstr(f->r.out, "verify    last PASS"));
	assert_true(hw_test_damage_branches(a) > 0);
	assert_int_equal(hw(&f->r, "status", "--dir", a, NULL), 1);
	assert_read_damaged(f, "status", a, "SIGABRT");
	/* --json says so in the object too, not {} */
	assert_int_equal(hw(&f->r, "status", "--dir", a, "--json", NULL), 1);
	assert_non_null(strstr(f->r.out, "\"error\":\"HW_ECORRUPT\""));
	assert_non_null(strstr(f->r.out, "is damaged (LMDB stopped on SIGABRT"));
}

/* test_restore's drill of the backup bak, its snapshot damaged: FAIL naming the damage,
 * with a report, and status shows it. */
static void restore_damaged(struct fix *f, const char *dir, const char *bak, const char *scratch)
{
	char snap[4300];
	snprintf(snap, sizeof(snap), "%s/snapshot/data.mdb", bak);
	FILE *fp = fopen(snap, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 9000, SEEK_SET), 0);
	int ch = fgetc(fp);
	assert_int_equal(fseek(fp, 9000, SEEK_SET), 0);
	fputc(ch ^ 0x5a, fp);
	fclose(fp);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, NULL),
			 3);
	assert_non_null(strstr(f->r.out, "FAIL"));
	assert_non_null(strstr(f->r.out, "is damaged"));
	assert_non_null(strstr(f->r.out, "backup intact"));
	assert_report(&f->r);
	/* Nothing is left in scratch but the per-run directories' parent. */
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "restore   last FAIL"));
}

/* test_restore's drill without a backup: an empty backup_dir fails it, a missing one is
 * an ERROR, and a missing --backup a usage error that records nothing. */
static void restore_no_backup(struct fix *f, const char *dir, const char *scratch)
{
	/* a backup_dir that holds no backup fails the drill (backups stopped), with a
	 * report; one that does not exist is an ERROR (it was a usage error, exit 2) */
	char empty[4200];
	path(f, "empty", empty, sizeof(empty));
	assert_int_equal(mkdir(empty, 0700), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup-dir", empty, "--scratch", scratch,
			    "--dir", dir, NULL),
			 3);
	assert_non_null(strstr(f->r.out, "holds no backup"));
	assert_non_null(strstr(f->r.out, "report: ")); /* the finding is kept */
	assert_int_equal(rmdir(empty), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup-dir", empty, "--scratch", scratch,
			    "--dir", dir, NULL),
			 1);
	assert_non_null(strstr(f->r.out, "does not exist"));
	/* a --backup that does not exist is a mistyped path, not a damaged backup nor a
	 * drill run: a usage error that records nothing */
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", empty, "--scratch", scratch,
			    "--dir", dir, NULL),
			 2);
	assert_non_null(hw_said(f->r.err, ": No such file or directory"));
	assert_null(strstr(f->r.out, "report: "));
}

/* restore: a good backup restores, verifies and meets a 12h RTO, its replay rate
 * measured over the 10,000 entries replayed; against a 1 ms RTO the same drill fails;
 * with a damaged snapshot it fails naming the backup's problem; an empty backup_dir fails
 * it, a missing one is an ERROR, and so is a missing --backup. */
static void test_restore(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], scratch[4200];
	make_store(f, "r", "3", "10000");
	path(f, "r", dir, sizeof(dir));
	path(f, "bak", bak, sizeof(bak));
	path(f, "scratch", scratch, sizeof(scratch));
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--rto", "12h", NULL),
			 0);
	assert_non_null(strstr(f->r.out, "PASS"));
	assert_non_null(strstr(f->r.out, "restored"));
	assert_non_null(strstr(f->r.out, "head matches MANIFEST"));
	assert_report(&f->r);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--json", "--no-record", NULL),
			 0);
	assert_non_null(strstr(f->r.out, "{\"name\":\"replayed_entries\",\"value\":10000.0"));
	assert_non_null(strstr(f->r.out, "{\"name\":\"replay_entries_per_s\","));
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--until-lsn", "1234", NULL),
			 0);
	assert_non_null(strstr(f->r.out, "restored to LSN 1234, target LSN 1234"));
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--rto", "1ms", NULL),
			 3);
	assert_non_null(strstr(f->r.out, "restore time within RTO"));
	/* a target past a year is a typo, as in [drills] restore_rto */
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--rto", "400d", NULL),
			 2);
	restore_damaged(f, dir, bak, scratch);
	restore_no_backup(f, dir, scratch);
}

/* With more generations than a drill holds (1,024), the newest stay, not the first the
 * directory happens to list: the drill restores the newest backup, placed last in the
 * listing among 1,100 older (unfinished) ones. */
static void test_restore_newest_of_many(void **state)
{
	struct fix *f = *state;
	enum { MANY = 1100 };
	char dir[4200], gens[4200], scratch[4200], chosen[256] = "";
	char sub[sizeof gens + sizeof chosen]; /* gens/chosen, or gens/gNNNN/MANIFEST */
	make_store(f, "r", "3", "300");
	path(f, "r", dir, sizeof(dir));
	path(f, "gens", gens, sizeof(gens));
	path(f, "scratch", scratch, sizeof(scratch));
	assert_int_equal(mkdir(gens, 0700), 0);
	for (int i = 0; i < MANY; i++) {
		snprintf(sub, sizeof(sub), "%s/g%04d", gens, i);
		assert_int_equal(mkdir(sub, 0700), 0);
	}
	DIR *d = opendir(gens);
	assert_non_null(d);
	int at = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.' && at++ == MANY - 1)
			snprintf(chosen, sizeof(chosen), "%s", e->d_name);
	closedir(d);
	assert_true(chosen[0] != '\0');
	const struct timespec old[2] = {{.tv_sec = 1790000000}, {.tv_sec = 1790000000}};
	for (int i = 0; i < MANY; i++) {
		snprintf(sub, sizeof(sub), "%s/g%04d", gens, i);
		if (strcmp(sub + strlen(gens) + 1, chosen) == 0)
			continue;
		strcat(sub, "/MANIFEST");
		FILE *fp = fopen(sub, "w");
		assert_non_null(fp);
		fputs("format=1\n", fp);
		assert_int_equal(fclose(fp), 0);
		assert_int_equal(utimensat(AT_FDCWD, sub, old, 0), 0);
	}
	snprintf(sub, sizeof(sub), "%s/%s", gens, chosen);
	assert_int_equal(hw(&f->r, "backup", dir, sub, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup-dir", gens, "--scratch", scratch,
			    "--dir", dir, "--rto", "12h", NULL),
			 0);
	assert_non_null(strstr(f->r.out, sub));
}

/* hawser keygen into f's directory keys/name (made with its parent): pub and key get the
 * paths of its node.pub and node.key. */
static void keys_make(struct fix *f, const char *name, char pub[4300], char key[4300])
{
	char dir[4200], sub[64];
	snprintf(sub, sizeof sub, "keys/%s", name);
	path(f, sub, dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "keygen", "--out", dir, NULL), 0);
	snprintf(pub, 4300, "%s/node.pub", dir);
	snprintf(key, 4300, "%s/node.key", dir);
}

/* Ingest n records made from seed into the store dir in batches of every, a checkpoint
 * signed with key (a node.key) as node p1 after each one. */
static void ingest_signed(struct fix *f, const char *dir, const char *n, const char *seed,
			  const char *every, const char *key)
{
	assert_int_equal(hw(&f->r, "ingest", dir, "--generate", n, "--seed", seed, "--end-ms",
			    END_MS, "--batch", every, "--checkpoint-every", every, "--sign-key",
			    key, "--node-id", "p1", NULL),
			 0);
}

/* Init a store at f->dir/name (its path into dir) and ingest n records signed as
 * ingest_signed() does, seed 3. */
static void make_signed_store(struct fix *f, const char *name, char dir[4200], const char *n,
			      const char *every, const char *key)
{
	path(f, name, dir, 4200);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	ingest_signed(f, dir, n, "3", every, key);
}

/* test_restore_trust's store dir, its checkpoints signed by rogue_pub's key: verify
 * judges the signers as restore does. */
static void verify_trust(struct fix *f, const char *dir, const char *scratch, const char *good_pub,
			 const char *rogue_pub)
{
	/* verify judges the signers the same way; with no key it only warns (a node's own
	 * store), and --trust goes with a store, not with --connect */
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--scratch", scratch, "--trust",
			    good_pub, NULL),
			 3);
	assert_non_null(strstr(f->r.out, "FAIL: checkpoint signers: HW_EUNTRUSTED at LSN"));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--scratch", scratch, "--trust",
			    rogue_pub, NULL),
			 0);
	check_is(f, "checkpoint signers", "pass", "");
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--scratch", scratch, NULL), 0);
	check_is(f, "checkpoint signers", "warn",
		 "no trusted keys configured: 3 signed checkpoints");
	assert_int_equal(hw(&f->r, "drill", "verify", "--connect", "a:1,b:1", "--insecure",
			    "--trust", good_pub, NULL),
			 2);
}

/* restore judges who signed the restored log's checkpoints: a backup whose checkpoints
 * a rogue key signed fails with HW_EUNTRUSTED against the operator's trusted key (given
 * with --trust, or as [drills] trust in the config) and passes against the signer's own;
 * with no trusted key the signed backup fails and says why (it passed: the signer was
 * never judged), and "signed like the store" says the backup holds a checkpoint, by a
 * key not trusted; an unsigned store passes with a warning saying so; a trusted key file
 * that cannot be read is an ERROR naming it. */
static void test_restore_trust(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], scratch[4200], conf[4300], drills[4400];
	char good_pub[4300], good_key[4300], rogue_pub[4300], rogue_key[4300];
	keys_make(f, "good", good_pub, good_key);
	keys_make(f, "rogue", rogue_pub, rogue_key);
	make_signed_store(f, "t", dir, "3000", "1000", rogue_key);
	path(f, "bak", bak, sizeof(bak));
	path(f, "scratch", scratch, sizeof(scratch));
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);

	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--trust", good_pub, NULL),
			 3);
	assert_non_null(strstr(f->r.out, "FAIL: checkpoint signers: HW_EUNTRUSTED at LSN"));
	check_is(f, "checkpoint signers", "fail", "is not trusted (1 trusted key of --trust)");
	/* it holds a checkpoint, by a key not trusted (it said "the backup holds none") */
	check_is(f, "signed like the store", "fail", "signed by a key not trusted");
	assert_report(&f->r);
	snprintf(drills, sizeof(drills), "trust = %s\n", good_pub);
	write_config(f, "t", drills, conf, sizeof(conf));
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--backup", bak,
			    "--scratch", scratch, "--json", NULL),
			 3);
	assert_non_null(strstr(f->r.out, "HW_EUNTRUSTED"));
	assert_non_null(strstr(f->r.out, "of [drills] trust"));
	/* the signer's own key: every checkpoint is vouched for */
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--backup", bak,
			    "--scratch", scratch, "--trust", rogue_pub, NULL),
			 0);
	check_is(f, "checkpoint signers", "pass", "each signed by one of 1 trusted key of --trust");
	/* no trusted key: the signer cannot be judged, and the drill says so */
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, NULL),
			 3);
	assert_non_null(strstr(f->r.out, "FAIL: checkpoint signers: no trusted keys configured"));
	/* an unsigned store: a pass that says nothing vouches for it but its chain */
	make_store(f, "u", "3", "1000");
	char udir[4200], ubak[4200];
	path(f, "u", udir, sizeof(udir));
	path(f, "ubak", ubak, sizeof(ubak));
	assert_int_equal(hw(&f->r, "backup", udir, ubak, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", ubak, "--scratch", scratch,
			    "--dir", udir, NULL),
			 0);
	assert_non_null(
		strstr(f->r.out, "warning: no trusted keys configured, no signed checkpoint"));
	check_is(f, "checkpoint signers", "warn",
		 "no trusted keys configured and no signed checkpoint");
	/* a --trust key that is not there is a slip: a usage error, no verdict, no row */
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--trust", "/nonexistent/p1.pub", NULL),
			 2);
	assert_non_null(strstr(f->r.err, "--trust /nonexistent/p1.pub: No such file"));
	assert_int_equal(f->r.out_len, 0);
	verify_trust(f, dir, scratch, good_pub, rogue_pub);
}

/* The restore drill of backup bak for store dir, trusting pub, not recorded: its exit. */
static int drill_of(struct fix *f, const char *bak, const char *dir, const char *pub)
{
	char scratch[4200];
	path(f, "scratch", scratch, sizeof(scratch));
	return hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch, "--dir", dir,
		  "--trust", pub, "--no-record", NULL);
}

/* A backup that is not the node's store's fails the restore drill, even with trusted keys
 * and every hash right (it passed, warning only of no signed checkpoint): an empty one (a
 * wiped node's), one of another chain, one whose entry at its head differs from the
 * store's (diverged). A backup of the store passes, and its report names the backup:
 * absolute path, MANIFEST chain_id, end LSN and hash. */
static void test_restore_not_this_store(void **state)
{
	struct fix *f = *state;
	char dir[4200], e[4200], o[4200], c[4200], bak[4300], pub[4300], key[4300];
	keys_make(f, "k", pub, key);
	make_store(f, "a", "3", "2000");
	make_store(f, "o", "5", "1000");
	make_store(f, "c", "3", "2000");
	path(f, "a", dir, sizeof(dir));
	path(f, "e", e, sizeof(e));
	assert_int_equal(hw(&f->r, "init", e, NULL), 0);
	path(f, "o", o, sizeof(o));
	path(f, "c", c, sizeof(c));
	assert_int_equal(hw(&f->r, "ingest", dir, "--generate", "500", "--seed", "9", "--end-ms",
			    END_MS, NULL),
			 0);
	assert_int_equal(hw(&f->r, "ingest", c, "--generate", "500", "--seed", "7", "--end-ms",
			    END_MS, NULL),
			 0);
	const char *const from[] = {e, o, c};
	const char *const why[] = {"the backup ends at LSN 0: it holds no entry",
				   "the backup is of another chain than the store",
				   "differs from the store"};
	for (int i = 0; i < 3; i++) {
		snprintf(bak, sizeof(bak), "%s/bak-%d", f->dir, i);
		assert_int_equal(hw(&f->r, "backup", from[i], bak, NULL), 0);
		assert_int_equal(drill_of(f, bak, dir, pub), 3);
		check_is(f, "backup of this store", "fail", why[i]);
	}
	snprintf(bak, sizeof(bak), "%s/own", f->dir);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	assert_int_equal(drill_of(f, bak, dir, pub), 0);
	check_is(f, "backup of this store", "pass", "entry hash equal at LSN 2500");
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--dir", dir, "--no-record",
			    "--json", NULL),
			 0);
	char want[4400];
	snprintf(want, sizeof(want), "\"backup\":\"%s\"", bak);
	const char *const facts[] = {want, "\"backup_chain_id\":\"", "\"backup_end_lsn\":\"2500\"",
				     "\"backup_end_hash\":\""};
	for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
		assert_non_null(strstr(f->r.out, facts[i]));
}

/* A store that signs checkpoints whose backup holds none fails the restore drill (it
 * passed with a warning: a log nobody vouches for could be anyone's); restored to a point,
 * which may be before the first checkpoint, it warns. */
static void test_restore_signed_store(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], scratch[4200], pub[4300], key[4300];
	keys_make(f, "k", pub, key);
	make_store(f, "s", "3", "1000");
	path(f, "s", dir, sizeof(dir));
	path(f, "bak", bak, sizeof(bak));
	path(f, "scratch", scratch, sizeof(scratch));
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	ingest_signed(f, dir, "100", "9", "100", key);
	assert_int_equal(drill_of(f, bak, dir, pub), 3);
	assert_non_null(strstr(f->r.out, "FAIL: signed like the store: the store"));
	check_is(f, "signed like the store", "fail", "but the backup holds none");
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--trust", pub, "--until-lsn", "900", "--no-record",
			    NULL),
			 0);
	check_is(f, "signed like the store", "warn", "the point may be before the first");
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0); /* now with its checkpoint */
	assert_int_equal(drill_of(f, bak, dir, pub), 0);
	check_is(f, "signed like the store", "pass", "the restored log holds 1");
}

/* Remove the log entries of the store in dir before keep_from (as retention does). */
static void prune_store(const char *dir, uint64_t keep_from)
{
	struct hw_store *s;
	assert_int_equal(hw_store_open(dir, NULL, &s), 0);
	assert_int_equal(hw_store_prune(s, keep_from), 0);
	hw_store_close(s);
}

/* data.mdb of the store in dir is byte for byte what before (len bytes) held. */
static void assert_unchanged(const char *dir, const uint8_t *before, size_t len)
{
	char p[4300];
	size_t now;
	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	uint8_t *after = file_bytes(p, &now);
	assert_int_equal(now, len);
	assert_memory_equal(after, before, len);
	free(after);
}

/* verify --compare whose replay's scratch (--scratch on a 512 KiB tmpfs) has less room
 * than the replay needs: a pruned store (its verify rebuilds nothing, so asks for no
 * room) compared with one 500 entries ahead of it, replayed to its head (about as
 * large as the pruned store was, 2,000 entries). The drill refuses before the replay: an
 * ERROR (exit 1), not a verdict on the stores, naming the scratch directory, the room
 * needed (more than the tmpfs has, at least what the 2,000 entries took in a store) and
 * free (what the tmpfs has); neither store changes and no scratch store is left. With
 * room, the compare runs and passes. */
static void test_compare_no_room(void **state)
{
	struct fix *f = *state;
	char a[4200], d[4200], mnt[4200], scr[4300], p[4300], want[4600];
	make_store_at(f, "a", "3", "2000", a);
	make_store_at(f, "d", "3", "2000", d);
	assert_int_equal(hw(&f->r, "ingest", d, "--generate", "500", "--seed", "9", "--end-ms",
			    END_MS, NULL),
			 0);
	size_t len_a, len_d;
	struct stat st;
	snprintf(p, sizeof(p), "%s/data.mdb", a);
	assert_int_equal(stat(p, &st), 0); /* unpruned: what the 2,000 entries take */
	prune_store(a, 1501);
	uint8_t *before_a = file_bytes(p, &len_a);
	snprintf(p, sizeof(p), "%s/data.mdb", d);
	uint8_t *before_d = file_bytes(p, &len_d);
	small_fs(f, "size=512k", mnt, sizeof(mnt));
	snprintf(scr, sizeof(scr), "%s/scr", mnt);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, "--compare", d, "--scratch", scr,
			    "--no-record", NULL),
			 1);
	assert_non_null(strstr(f->r.out, "ERROR: a compare could not run (ENOSPC): no room for "
					 "its replay's scratch "));
	snprintf(want, sizeof(want),
		 "not compared (ENOSPC): no room for the replay's scratch store in %s/compare-",
		 scr);
	const char *said = strstr(f->r.out, want);
	assert_non_null(said);
	unsigned long long need_kib = 0, free_kib = 0;
	said = strstr(said, " (removed): it needs about ");
	assert_non_null(said);
	assert_int_equal(sscanf(said,
				" (removed): it needs about %llu KiB, its file system has "
				"%llu KiB free; the stores were only read",
				&need_kib, &free_kib),
			 2);
	struct statvfs v;
	assert_int_equal(statvfs(scr, &v), 0);
	assert_int_equal(free_kib, (unsigned long long)v.f_bavail * v.f_frsize / 1024);
	assert_true(need_kib > free_kib);
	assert_true(need_kib * 1024 >= (unsigned long long)st.st_size);
	assert_null(strstr(f->r.out, "FAIL"));
	assert_unchanged(a, before_a, len_a);
	assert_unchanged(d, before_d, len_d);
	assert_int_equal(entries_named(scr, "compare-"), 0);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=16m"), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", a, "--compare", d, "--scratch", scr,
			    "--no-record", NULL),
			 0);
	assert_non_null(strstr(f->r.out, "equal at LSN 2000, entry hash equal"));
	free(before_a);
	free(before_d);
}

/* A backup of a store pruned to its head holds a state nothing rebuilds: whoever can
 * write it can set the base to the head, drop the log and change the state. With trusted
 * keys the restore drill fails it, saying the state is not vouched for (it passed, the
 * signers a mere warning), and so does verify --trust of the store; once an incremental
 * backup holds a signed checkpoint after the snapshot, the restore matches the copied
 * state with its digest and the drill passes, with no replay rate: the few entries
 * replayed after the copied snapshot make none (it gave millions of entries/s). */
static void test_restore_pruned_trust(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], scratch[4200], pub[4300], key[4300];
	keys_make(f, "keys", pub, key);
	make_signed_store(f, "pr", dir, "1000", "100", key);
	path(f, "bak", bak, sizeof(bak));
	path(f, "scratch", scratch, sizeof(scratch));
	struct hw_store *s;
	struct hw_head h;
	struct hw_store_opts ro = {.read_only = true};
	assert_int_equal(hw_store_open(dir, &ro, &s), 0);
	assert_int_equal(hw_store_head(s, &h), 0);
	hw_store_close(s);
	prune_store(dir, h.lsn + 1);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0); /* no checkpoint: no wait */
	assert_non_null(strstr(f->r.out, "holds no signed checkpoint"));
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--trust", pub, NULL),
			 3);
	assert_non_null(strstr(f->r.out, "FAIL: state rebuilt equals stored: state tables: the "
					 "log starts after LSN"));
	check_is(f, "state rebuilt equals stored", "fail",
		 "no trusted checkpoint's digest was matched");
	assert_int_equal(hw(&f->r, "verify", dir, "--trust", pub, NULL), 4); /* not damage */
	assert_non_null(strstr(f->r.out, "NOT VOUCHED FOR: state tables"));
	assert_non_null(strstr(f->r.out, "  no good signed checkpoint\n"));
	/* the node's own store: it built that state, so a warning, and --compare runs (with a
	 * copy of it: a store is not compared with itself) */
	char twin[4300];
	struct hw_snapshot_info copy;
	snprintf(twin, sizeof(twin), "%s-twin", dir);
	assert_int_equal(hw_store_open(dir, &ro, &s), 0);
	assert_int_equal(hw_snapshot_make(s, twin, &copy), 0);
	hw_store_close(s);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--scratch", scratch, "--trust",
			    pub, "--compare", twin, "--no-record", NULL),
			 0);
	check_is(f, "state rebuilt equals stored", "warn", "compare it with another node's");
	check_is(f, "compare", "pass", "");

	ingest_signed(f, dir, "300", "9", "100", key);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--trust", pub, NULL),
			 0);
	check_is(f, "state rebuilt equals stored", "pass",
		 "the restore matched it with the digest the checkpoint");
	/* the snapshot was copied, not replayed: too few entries replayed after it for a
	 * replay rate (it was the restored LSN over the time: millions of entries/s) */
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--trust", pub, "--json", "--no-record", NULL),
			 0);
	assert_null(strstr(f->r.out, "\"name\":\"replay_entries_per_s\""));
	assert_non_null(strstr(f->r.out, "\"replay_entries_per_s\":\"not measured: "));
	assert_non_null(strstr(f->r.out, "came with the copy of the snapshot"));
}

/* A restore of a pruned store's backup names the checkpoint that vouched for the copied
 * state and its signer's key, judges that key with --trust (exit 4 for another), checks
 * the state also for a target before the checkpoint (in a copy of its own), and records
 * what vouched in the store, so that verify --trust of it passes (it always exited 4) and
 * judges the key too; the restore drill to that early target passes (it failed). A
 * restore to a time says the times of the entries pruned before the snapshot were not
 * checked. */
static void test_restore_pruned_record(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], scratch[4200], pub[4300], key[4300], pub2[4300], key2[4300];
	char r1[4200], r2[4200], r3[4200], r4[4200];
	keys_make(f, "keys", pub, key);
	keys_make(f, "keys2", pub2, key2);
	make_signed_store(f, "prr", dir, "1000", "100", key); /* head 1010, a checkpoint last */
	path(f, "bak", bak, sizeof(bak));
	path(f, "scratch", scratch, sizeof(scratch));
	path(f, "r1", r1, sizeof(r1));
	path(f, "r2", r2, sizeof(r2));
	path(f, "r3", r3, sizeof(r3));
	path(f, "r4", r4, sizeof(r4));
	prune_store(dir, 1011);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	ingest_signed(f, dir, "300", "9", "100", key); /* checkpoints at 1111, 1212, 1313 */
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);

	assert_int_equal(hw(&f->r, "restore", bak, r1, NULL), 0);
	assert_non_null(strstr(f->r.out, "replayed to lsn 1110, matched the digest the checkpoint "
					 "at lsn 1111 signed, by p1 with key "));
	assert_non_null(strstr(f->r.out, "not judged (give --trust NODE.PUB)"));
	assert_int_equal(hw(&f->r, "verify", r1, "--trust", pub, NULL), 0);
	assert_non_null(strstr(f->r.out, "the restore that built the store matched them with the "
					 "digest the checkpoint at LSN 1111 signed, signed by a "
					 "trusted key"));

	assert_int_equal(hw(&f->r, "restore", bak, r2, "--until-lsn", "1050", "--trust", pub, NULL),
			 0);
	assert_non_null(strstr(f->r.out, "head lsn 1050"));
	assert_non_null(strstr(f->r.out, "replayed to lsn 1110 in a copy of its own, matched"));
	assert_non_null(strstr(f->r.out, ": a trusted key"));
	assert_int_equal(hw(&f->r, "verify", r2, "--trust", pub, NULL), 0);
	assert_non_null(strstr(f->r.out, "whose entry is after the head"));
	assert_int_equal(hw(&f->r, "verify", r2, "--trust", pub2, NULL), 4);
	assert_non_null(strstr(f->r.out, "is not trusted"));

	assert_int_equal(hw(&f->r, "restore", bak, r3, "--trust", pub2, NULL), 4);
	assert_non_null(strstr(f->r.out, "NOT a trusted key"));
	assert_non_null(strstr(f->r.err, "warning: no checkpoint signed by a trusted key"));
	/* pruned by this build: the pruned entries' times were kept and checked, no note */
	assert_int_equal(hw(&f->r, "restore", bak, r4, "--until-time", END_MS, NULL), 0);
	assert_null(strstr(f->r.out, "are not kept"));

	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", scratch,
			    "--dir", dir, "--trust", pub, "--until-lsn", "1050", NULL),
			 0);
	check_is(f, "state rebuilt equals stored", "pass",
		 "the restore matched it with the digest the checkpoint at LSN 1111");
}

/* The bound on a wait for the backup process of a test: its failure, not its speed. */
#define BACKUP_WAIT_MS 60000

/* What a test of a backup's wait for its checkpoint works on: a key pair (keys_make), a
 * store as a pruned primary's, a backup directory and a scratch directory. */
struct vouch_fix {
	char dir[4200], bak[4200], scratch[4200], pub[4300], key[4300];
};

/* The store at f->dir/name: 1,000 records signed as ingest_signed() does with a checkpoint
 * after each 100 (the tenth, LSN 1010, is its last entry), its log pruned to the entries
 * from LSN 990 (the last checkpoint stays), then more records (seed 7) that no checkpoint
 * follows yet; "0": none (idle). v->bak is f->dir/bak, v->scratch f->dir/scratch. */
static void vouch_setup(struct fix *f, const char *name, const char *more, struct vouch_fix *v)
{
	keys_make(f, "keys", v->pub, v->key);
	make_signed_store(f, name, v->dir, "1000", "100", v->key);
	prune_store(v->dir, 990);
	if (strcmp(more, "0") != 0)
		assert_int_equal(hw(&f->r, "ingest", v->dir, "--generate", more, "--seed", "7",
				    "--end-ms", END_MS, NULL),
				 0);
	path(f, "bak", v->bak, sizeof(v->bak));
	path(f, "scratch", v->scratch, sizeof(v->scratch));
}

/* The restore drill of v's backup with v's key trusted: its exit code. */
static int vouch_drill(struct fix *f, const struct vouch_fix *v)
{
	return hw(&f->r, "drill", "restore", "--backup", v->bak, "--scratch", v->scratch, "--dir",
		  v->dir, "--trust", v->pub, NULL);
}

/* A fresh full backup of a pruned store that took entries after its last checkpoint waits
 * for the primary's next one, saying so, and appends it; the restore drill with trusted
 * keys then passes, the copied state matched with that checkpoint's digest (it failed:
 * nothing vouched for a fresh full backup before an incremental one after the next
 * checkpoint). */
static void test_backup_vouch_wait(void **state)
{
	struct fix *f = *state;
	struct vouch_fix v;
	char log[4300];
	vouch_setup(f, "pw", "50", &v);
	snprintf(log, sizeof(log), "%s/backup.log", f->dir);
	const char *args[] = {"backup", v.dir, v.bak, "--vouch-wait", "10m", NULL};
	struct hw_proc p;
	assert_int_equal(hw_proc_start(&p, log, args), 0);
	size_t from = 0;
	bool waited = hw_proc_wait_line(&p, &from, "waiting up to 600 s", "state at lsn 1060",
					BACKUP_WAIT_MS, NULL, 0);
	if (waited) /* the primary's next checkpoint: 10 entries, then one covering them */
		ingest_signed(f, v.dir, "10", "9", "10", v.key);
	int rc = hw_proc_reap(&p, BACKUP_WAIT_MS);
	hw_proc_kill(&p);
	assert_true(waited);
	assert_int_equal(rc, 0);
	assert_int_equal(vouch_drill(f, &v), 0);
	check_is(f, "state rebuilt equals stored", "pass",
		 "the restore matched it with the digest the checkpoint at LSN 1071");
}

/* When no checkpoint comes within --vouch-wait, the backup is whole all the same (it
 * restores, saying nothing vouches for its state) but exits 4 with a warning, and the
 * restore drill with trusted keys fails it, as before; the next incremental backup after a
 * checkpoint appends it, says so, and the drill passes. */
static void test_backup_vouch_timeout(void **state)
{
	struct fix *f = *state;
	struct vouch_fix v;
	char dst[4200];
	vouch_setup(f, "pt", "50", &v);
	path(f, "restored", dst, sizeof(dst));
	assert_int_equal(hw(&f->r, "backup", v.dir, v.bak, "--vouch-wait", "1s", NULL), 4);
	assert_non_null(strstr(f->r.out, "new snapshot at lsn 1060"));
	assert_non_null(strstr(f->r.err, "waiting up to 1 s"));
	assert_non_null(strstr(f->r.err, "warning: "));
	assert_non_null(strstr(f->r.err, "no signed checkpoint covering lsn 1060 came within 1 s"));
	assert_int_equal(hw(&f->r, "restore", v.bak, dst, NULL), 0);
	assert_non_null(strstr(f->r.out, "head lsn 1060"));
	assert_non_null(strstr(f->r.out, "no signed checkpoint in the backup's log after the "
					 "snapshot vouches for it"));
	assert_int_equal(vouch_drill(f, &v), 3);
	check_is(f, "state rebuilt equals stored", "fail",
		 "no trusted checkpoint's digest was matched");

	ingest_signed(f, v.dir, "10", "9", "10", v.key);
	assert_int_equal(hw(&f->r, "backup", v.dir, v.bak, NULL), 0);
	assert_non_null(strstr(f->r.out, "appended 11 entries"));
	assert_int_equal(vouch_drill(f, &v), 0);
}

/* An idle store (its last entry the checkpoint of the one before: a primary signs no other
 * until entries come in) is not waited for: exit 4 at once, saying why (and verify
 * --trust of it finds no damage, nor says so); --vouch-wait 0
 * waits for nothing and exits 4 too (the backup whole, nothing vouches for it); a wait
 * without a unit, or past 2h, is a usage error. */
static void test_backup_vouch_idle(void **state)
{
	struct fix *f = *state;
	struct vouch_fix v;
	char bak0[4200];
	vouch_setup(f, "pi", "0", &v);
	path(f, "bak0", bak0, sizeof(bak0));
	assert_int_equal(hw(&f->r, "backup", v.dir, v.bak, NULL), 4);
	assert_non_null(strstr(f->r.out, "new snapshot at lsn 1010"));
	assert_non_null(strstr(f->r.err, "warning: "));
	assert_non_null(strstr(f->r.err, "the store is idle"));
	assert_null(strstr(f->r.err, "waiting up to"));
	/* verify --trust: the state not vouched for is no damage, and its last checkpoint
	 * came before none */
	assert_int_equal(hw(&f->r, "verify", v.dir, "--trust", v.pub, NULL), 4);
	assert_non_null(strstr(f->r.out, "NOT VOUCHED FOR: state tables"));
	assert_non_null(strstr(f->r.out, "the last good one is at LSN 1010"));
	assert_null(strstr(f->r.out, "damage"));
	assert_int_equal(hw(&f->r, "backup", v.dir, bak0, "--vouch-wait", "0", NULL), 4);
	assert_non_null(strstr(f->r.out, "new snapshot at lsn 1010"));
	assert_non_null(strstr(f->r.err, "no signed checkpoint vouches for its snapshot's state"));
	assert_int_equal(hw(&f->r, "backup", v.dir, bak0, "--vouch-wait", "5", NULL), 2);
	assert_int_equal(hw(&f->r, "backup", v.dir, bak0, "--vouch-wait", "3h", NULL), 2);
}

/* Store f->dir/n (500 records) in dir, and n (at most 3) generations of it in bdir
 * (f->dir/gens), gen-0 committed an hour ago, gen-1 two days ago, gen-2 three; scratch is
 * f->dir/scratch. Each buffer holds 4,200 bytes. */
static void generations_setup(struct fix *f, char *dir, char *bdir, char *scratch, int n)
{
	make_store(f, "n", "3", "500");
	path(f, "n", dir, 4200);
	path(f, "gens", bdir, 4200);
	path(f, "scratch", scratch, 4200);
	int64_t ages[3] = {3600 * 1000, 2 * DAY_MS, 3 * DAY_MS};
	make_generations(f, dir, bdir, n, ages);
}

/* A damaged newest generation fails the restore drill, naming it and why, and the
 * history records the failure: it passed by restoring the older generation instead, with
 * no word of the newer one (whose files no longer match its MANIFEST's sizes). */
static void test_restore_newest_damaged(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], scratch[4200], snap[4400], want[4400];
	generations_setup(f, dir, bdir, scratch, 2);
	snprintf(snap, sizeof(snap), "%s/gen-0/snapshot/data.mdb", bdir);
	FILE *fp = fopen(snap, "ab");
	assert_non_null(fp);
	assert_int_equal(fputs("tail", fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup-dir", bdir, "--scratch", scratch,
			    "--dir", dir, NULL),
			 3);
	snprintf(want, sizeof(want), "FAIL: backup %s/gen-0 is damaged: snapshot/data.mdb", bdir);
	assert_non_null(strstr(f->r.out, want));
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "restore   last FAIL"));
}

/* The restore drill of the newest generation in bdir, for store dir: its exit code. */
static int drill_newest(struct fix *f, const char *bdir, const char *scratch, const char *dir)
{
	return hw(&f->r, "drill", "restore", "--backup-dir", bdir, "--scratch", scratch, "--dir",
		  dir, "--no-record", NULL);
}

/* A newest generation without a MANIFEST fails the restore drill, naming it and why: one
 * whose MANIFEST was renamed (damaged), and one holding only INCOMPLETE (a full backup cut
 * short); it passed by restoring the older generation, saying nothing of the newer. Such
 * a directory older than the newest generation (dated by what it holds) does not. */
static void test_restore_newest_unfinished(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], scratch[4200], m[4400], want[4600];
	generations_setup(f, dir, bdir, scratch, 3);
	char m2[4400];
	snprintf(m, sizeof(m), "%s/gen-0/MANIFEST", bdir);
	snprintf(m2, sizeof(m2), "%s/gen-0/MANIFEST.locked", bdir);
	assert_int_equal(rename(m, m2), 0);
	assert_int_equal(drill_newest(f, bdir, scratch, dir), 3);
	snprintf(want, sizeof(want),
		 "FAIL: newest backup %s/gen-0 is damaged: it holds no MANIFEST", bdir);
	assert_non_null(strstr(f->r.out, want));
	assert_null(strstr(f->r.out, "gen-1"));

	/* only INCOMPLETE: a full backup cut short, newer than gen-1 */
	char inc[4600];
	snprintf(m, sizeof(m), "%s/gen-0", bdir);
	assert_int_equal(hw_test_rm_rf(m), 0);
	assert_int_equal(mkdir(m, 0700), 0);
	snprintf(inc, sizeof(inc), "%s/INCOMPLETE", m);
	write_file(inc, "", 0600);
	assert_int_equal(drill_newest(f, bdir, scratch, dir), 3);
	snprintf(want, sizeof(want),
		 "FAIL: newest backup %s/gen-0 is incomplete: it holds INCOMPLETE and no MANIFEST",
		 bdir);
	assert_non_null(strstr(f->r.out, want));
	/* the same while a backup holds its lock: one under way, not judged; gen-1 restores */
	char lock[4600];
	snprintf(lock, sizeof(lock), "%s/.backup-lock", m);
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(lfd >= 0 && flock(lfd, LOCK_EX) == 0);
	int rc = drill_newest(f, bdir, scratch, dir);
	close(lfd);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want), "PASS: restored %s/gen-1", bdir);
	assert_non_null(strstr(f->r.out, want));
	assert_int_equal(unlink(lock), 0);
	/* dated by what it holds, older than gen-1: gen-1 is the newest, and restores */
	age_file(inc, 4 * DAY_MS);
	assert_int_equal(drill_newest(f, bdir, scratch, dir), 0);
	snprintf(want, sizeof(want), "PASS: restored %s/gen-1", bdir);
	assert_non_null(strstr(f->r.out, want));
}

/* procedure: a backup_dir with 2 generations where 7 are required fails, naming the
 * directory and the shortfall; so do no offsite copy, a missing key file, a witness that
 * refuses connections (a closed loopback port) and drills never run. */
static void test_procedure_generations(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], conf[4300], drills[8800];
	make_store(f, "p", "3", "1000");
	path(f, "p", dir, sizeof(dir));
	path(f, "backups", bdir, sizeof(bdir));
	int64_t ages[2] = {3600 * 1000, 2 * 3600 * 1000};
	make_generations(f, dir, bdir, 2, ages);
	snprintf(drills, sizeof(drills),
		 "backup_dir = %s\nbackup_generations_min = 7\nkeys = %s/missing.key\n"
		 "witness = 127.0.0.1:1\n",
		 bdir, f->dir);
	write_config(f, "p", drills, conf, sizeof(conf));
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, NULL), 3);
	assert_non_null(strstr(f->r.out, "FAIL"));
	char want[4400];
	snprintf(want, sizeof(want), "backup_dir %s holds 2 generations, fewer than", bdir);
	assert_non_null(strstr(f->r.out, want));
	assert_non_null(strstr(f->r.out, "no offsite_dir configured"));
	assert_non_null(strstr(f->r.out, "verify (never passed)"));
	assert_non_null(strstr(f->r.out, "missing.key: No such file"));
	assert_non_null(strstr(f->r.out, "fail  witness reachable"));
	assert_report(&f->r);
}

/* procedure passes a complete setup: enough generations reaching back far enough, an
 * offsite copy (a warning: same file system here), a key file, disk space, and verify
 * and restore drills that passed; status then has nothing overdue. */
static void test_procedure_pass(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], off[4200], key[4200], scratch[4200], conf[4300];
	static char drills[16384];
	make_store(f, "q", "3", "1000");
	path(f, "q", dir, sizeof(dir));
	path(f, "backups", bdir, sizeof(bdir));
	path(f, "offsite", off, sizeof(off));
	path(f, "node.key", key, sizeof(key));
	path(f, "scratch", scratch, sizeof(scratch));
	int64_t ages[3] = {3600 * 1000, 2 * DAY_MS, 3 * DAY_MS};
	make_generations(f, dir, bdir, 3, ages);
	make_generations(f, dir, off, 1, ages);
	write_file(key, "secret\n", 0600);
	snprintf(drills, sizeof(drills),
		 "backup_dir = %s\noffsite_dir = %s\nkeys = %s\nbackup_generations_min = 3\n"
		 "retention_days_min = 2\nfailover = 0\nrestore_rto = 1h\n",
		 bdir, off, key);
	write_config(f, "q", drills, conf, sizeof(conf));
	assert_int_equal(hw(&f->r, "drill", "verify", "--config", conf, NULL), 0);
	assert_int_equal(
		hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch, NULL), 0);
	assert_non_null(strstr(f->r.out, "gen-0")); /* the newest generation was restored */
	assert_int_equal(
		hw(&f->r, "drill", "procedure", "--config", conf, "--scratch", scratch, NULL), 0);
	assert_non_null(strstr(f->r.out, "PASS"));
	assert_non_null(strstr(f->r.out, "1 warning"));
	assert_non_null(strstr(f->r.out, "same file system"));
	/* the store's size for people (the figures keep the bytes) */
	assert_non_null(strstr(f->r.out, "room for a restore of the store ("));
	assert_true(strstr(f->r.out, " KiB)") || strstr(f->r.out, " MiB)"));
	assert_non_null(strstr(f->r.out, "1 key file present"));
	assert_report(&f->r);
	assert_int_equal(hw(&f->r, "status", "--config", conf, NULL), 0);
	assert_non_null(strstr(f->r.out, "overdue: none"));
	assert_non_null(strstr(f->r.out, "failover  never run; not scheduled"));
	/* a newer backup whose MANIFEST is gone fails the procedure, as the restore drill */
	char m[4400], m2[4400], want[4600];
	snprintf(m, sizeof(m), "%s/gen-0/MANIFEST", bdir);
	snprintf(m2, sizeof(m2), "%s/gen-0/MANIFEST.locked", bdir);
	assert_int_equal(rename(m, m2), 0);
	assert_int_equal(
		hw(&f->r, "drill", "procedure", "--config", conf, "--scratch", scratch, NULL), 3);
	snprintf(want, sizeof(want), "newest backup %s/gen-0 is damaged: it holds no MANIFEST",
		 bdir);
	assert_non_null(strstr(f->r.out, want));
}

/* status: kinds never run are overdue; after a verify drill, verify is on time now and
 * overdue two days later (--now), in text and in JSON, which say they are judged at that
 * time; the procedure fails then too. A restore that ran and failed is overdue as never
 * passed, not "never run": in the text, the JSON (overdue, with no count of ms) and the
 * procedure's check. */
static void test_status_overdue(void **state)
{
	struct fix *f = *state;
	char dir[4200], none[4200], later[32], as_of[80], when[40];
	make_store(f, "o", "3", "500");
	path(f, "o", dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "overdue: verify, restore, failover, procedure"));
	assert_null(strstr(f->r.out, "as of"));
	assert_int_equal(hw(&f->r, "status", "--dir", dir, "--json", NULL), 0);
	assert_non_null(strstr(f->r.out, "\"judged_at\":null"));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 0);
	path(f, "no-backups", none, sizeof(none));
	assert_int_equal(mkdir(none, 0700), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--dir", dir, "--backup-dir", none, NULL),
			 3);
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "overdue: restore, failover, procedure"));
	assert_non_null(strstr(f->r.out, "restore   last FAIL "));
	assert_non_null(strstr(f->r.out, "; OVERDUE: never passed (every 7d)"));
	int64_t later_ms = hw_wall_ms() + 2 * DAY_MS;
	snprintf(later, sizeof(later), "%lld", (long long)later_ms);
	assert_int_equal(hw(&f->r, "status", "--dir", dir, "--now", later, NULL), 0);
	time_t t = (time_t)(later_ms / 1000);
	struct tm tm;
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&t, &tm));
	snprintf(when + n, sizeof(when) - n, ".%03dZ", (int)(later_ms % 1000));
	snprintf(as_of, sizeof(as_of), ", as of %s (--now: a what-if):\n", when);
	assert_non_null(strstr(f->r.out, as_of));
	assert_non_null(strstr(f->r.out, "verify    last PASS"));
	assert_non_null(strstr(f->r.out, "OVERDUE by 1d"));
	assert_non_null(strstr(f->r.out, "overdue: verify, restore"));
	assert_int_equal(hw(&f->r, "status", "--dir", dir, "--now", later, "--json", NULL), 0);
	snprintf(as_of, sizeof(as_of), "\"judged_at\":\"%s\"", when);
	assert_non_null(strstr(f->r.out, as_of));
	assert_non_null(strstr(f->r.out, "\"state\":\"overdue\",\"due\":"));
	assert_non_null(strstr(f->r.out, "\"overdue\":true,\"overdue_ms\":864")); /* 1d + s */
	const char *restore = strstr(f->r.out, "\"kind\":\"restore\"");
	assert_non_null(restore);
	assert_non_null(strstr(restore, "\"state\":\"never passed\",\"due\":null,"
					"\"overdue\":true,\"overdue_ms\":null"));
	assert_non_null(strstr(restore, "\"result\":\"FAIL\""));
	assert_non_null(
		strstr(f->r.out, "\"drills_overdue\":\"verify, restore, failover, procedure\""));
	assert_int_equal(hw(&f->r, "drill", "procedure", "--dir", dir, "--now", later, NULL), 3);
	assert_non_null(strstr(f->r.out, "verify (overdue)"));
	assert_non_null(strstr(f->r.out, "restore (never passed)"));
}

/* The restore drill's history rows of store dir, newest first, into rows (up to cap);
 * returns how many. */
static size_t restore_rows(const char *dir, struct hw_drill_row *rows, size_t cap)
{
	struct hw_store *s;
	struct hw_store_opts ro = {.read_only = true};
	size_t n = 0;
	assert_int_equal(hw_store_open(dir, &ro, &s), 0);
	assert_int_equal(hw_store_drill_list(s, HW_DRILL_RESTORE, rows, cap, &n), 0);
	hw_store_close(s);
	return n;
}

/* XOR 100 bytes of file p from offset off: damage that keeps its size. */
static void flip_bytes(const char *p, long off)
{
	FILE *fp = fopen(p, "r+b");
	assert_non_null(fp);
	uint8_t b[100];
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_equal(fread(b, 1, sizeof(b), fp), sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] ^= 0x5a;
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_equal(fwrite(b, 1, sizeof(b), fp), sizeof(b));
	assert_int_equal(fclose(fp), 0);
}

/* The five runs test_restore_scope recorded in dir's history, newest first: the older
 * generation's PASS, the full FAILs (one widened from a point), a full run, a point. */
static void scope_rows(const char *dir)
{
	struct hw_drill_row rows[8];
	assert_int_equal(restore_rows(dir, rows, 8), 5);
	assert_int_equal(rows[0].scope, HW_DRILL_SCOPE_OLDER);
	assert_int_equal(rows[0].result, HW_DRILL_PASS);
	assert_int_equal(rows[1].scope, HW_DRILL_SCOPE_FULL);
	assert_int_equal(rows[1].result, HW_DRILL_FAIL);
	assert_int_equal(rows[2].scope, HW_DRILL_SCOPE_FULL); /* widened: the backup failed */
	assert_int_equal(rows[2].result, HW_DRILL_FAIL);
	assert_int_equal(rows[2].point_lsn, 100); /* the point asked for stays */
	assert_int_equal(rows[3].scope, HW_DRILL_SCOPE_FULL);
	assert_int_equal(rows[4].scope, HW_DRILL_SCOPE_POINT);
	assert_int_equal(rows[4].point_lsn, 100);
}

/* Only a restore of the newest backup to its end keeps the restore schedule: one to a
 * point, or of an older generation (docs/drills.md's way to see how far back a good one
 * is), passes and is recorded with its scope and target, but status does not count it
 * (it showed it as the last PASS, on time); with the newest damaged (same size), its FAIL
 * stays the last run after the older generation's PASS. A restore to a point that finds
 * the newest backup damaged counts (it was recorded as a point-in-time run, and status
 * went on showing the full PASS before it): status shows its FAIL. --backup naming the
 * newest counts. */
static void test_restore_scope(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], scratch[4200], conf[4300], drills[4400];
	char older[4400], newest[4400], snap[4500], want[4600];
	generations_setup(f, dir, bdir, scratch, 2);
	snprintf(drills, sizeof(drills), "backup_dir = %s\n", bdir);
	write_config(f, "n", drills, conf, sizeof(conf));
	snprintf(older, sizeof(older), "%s/gen-1", bdir);
	snprintf(newest, sizeof(newest), "%s/gen-0", bdir);
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch,
			    "--until-lsn", "100", NULL),
			 0);
	assert_non_null(strstr(f->r.out, "PASS: point in time: restored"));
	check_is(f, "scope", "skip", "point in time; to LSN 100: recorded, but");
	assert_int_equal(hw(&f->r, "status", "--config", conf, NULL), 0);
	assert_non_null(strstr(f->r.out, "restore   never run; OVERDUE: never passed"));
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch,
			    "--backup", newest, NULL),
			 0);
	check_is(f, "scope", "pass", "the newest backup of backup_dir, to its end: the run the");
	assert_int_equal(hw(&f->r, "status", "--config", conf, NULL), 0);
	assert_non_null(strstr(f->r.out, "restore   last PASS"));
	/* --no-record: the scope says it was not recorded (it said "recorded") */
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch,
			    "--until-lsn", "100", "--no-record", NULL),
			 0);
	check_is(f, "scope", "skip", "point in time; to LSN 100: not recorded; the restore");
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch,
			    "--no-record", NULL),
			 0);
	check_is(f, "scope", "pass", "to its end: a run the restore schedule would count, not");

	snprintf(snap, sizeof(snap), "%s/snapshot/data.mdb", newest);
	flip_bytes(snap, 20000);
	/* found damaged by a restore to a point: the newest backup does not restore, and
	 * status shows it, not the full run before */
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch,
			    "--until-lsn", "100", NULL),
			 3);
	check_is(f, "scope", "pass", "point in time; to LSN 100, but the newest backup failed");
	assert_int_equal(hw(&f->r, "status", "--config", conf, NULL), 0);
	snprintf(want, sizeof(want), "restore   last FAIL");
	assert_non_null(strstr(f->r.out, want));
	snprintf(want, sizeof(want), "backup %s is damaged", newest);
	assert_non_null(strstr(f->r.out, want));
	assert_int_equal(
		hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch, NULL), 3);
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--scratch", scratch,
			    "--backup", older, NULL),
			 0);
	/* the path, long here, is shortened in the middle so that the line stays whole */
	assert_non_null(strstr(f->r.out, "PASS: older generation: restored "));
	assert_non_null(strstr(f->r.out, "/gen-1 to LSN "));
	snprintf(want, sizeof(want), "older generation; the newest backup of backup_dir is %s",
		 newest);
	check_is(f, "scope", "skip", want);
	assert_int_equal(hw(&f->r, "status", "--config", conf, NULL), 0);
	assert_non_null(strstr(f->r.out, "restore   last FAIL"));
	snprintf(want, sizeof(want), "backup %s is damaged", newest);
	assert_non_null(strstr(f->r.out, want));
	scope_rows(dir);
}

/* A restore to a time T that the backup ends before fails when the node's store holds
 * the entry after the backup's end stamped by T: T is not reachable from that backup (it
 * passed, "target reached", though hawser restore warns it ends before T). That entry
 * after T passes, a T inside the backup passes, and no store to look in is a warning.
 * The target is in the report's facts and the history row. */
static void test_restore_until_time(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], scratch[4200], bak[4300];
	path(f, "t", dir, sizeof(dir));
	path(f, "bk", bdir, sizeof(bdir));
	path(f, "scratch", scratch, sizeof(scratch));
	snprintf(bak, sizeof(bak), "%s/g1", bdir);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(mkdir(bdir, 0700), 0);
	static const char *const runs[][3] = {{"1000", "3", "2026-01-01T00:00:00Z"},
					      {"500", "9", "2026-01-01T01:00:00Z"},
					      {"500", "17", "2026-01-01T01:15:00Z"}};
	for (int i = 0; i < 3; i++) {
		if (i == 2) /* the backup ends at LSN 1500, 01:00 */
			assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
		assert_int_equal(hw(&f->r, "ingest", dir, "--generate", runs[i][0], "--seed",
				    runs[i][1], "--end-ms", runs[i][2], NULL),
				 0);
	}
	assert_int_equal(hw(&f->r, "drill", "restore", "--dir", dir, "--backup-dir", bdir,
			    "--until-time", "2026-01-01T01:30:00Z", "--json", NULL),
			 3);
	assert_non_null(strstr(f->r.out,
			       "not reachable from this backup: the backup ends at LSN "
			       "1500 (2026-01-01T01:00:00.000Z), before "
			       "2026-01-01T01:30:00.000Z, and the store holds LSN 1501 at "
			       "2026-01-01T01:15:00.000Z"));
	assert_non_null(strstr(f->r.out, "\"target_time\":\"2026-01-01T01:30:00.000Z\""));
	/* the same time with an offset from UTC instead of the Z */
	assert_int_equal(hw(&f->r, "drill", "restore", "--dir", dir, "--backup-dir", bdir,
			    "--until-time", "2026-01-01T10:30:00+09:00", "--json", "--no-record",
			    NULL),
			 3);
	assert_non_null(strstr(f->r.out, "\"target_time\":\"2026-01-01T01:30:00.000Z\""));
	struct hw_drill_row row;
	assert_int_equal(restore_rows(dir, &row, 1), 1);
	assert_int_equal(row.point_ms, 1767231000000LL);
	assert_int_equal(row.scope, HW_DRILL_SCOPE_POINT);
	assert_int_equal(hw(&f->r, "drill", "restore", "--dir", dir, "--backup-dir", bdir,
			    "--until-time", "2026-01-01T01:10:00Z", "--no-record", NULL),
			 0);
	check_is(f, "target reached", "pass",
		 "the store's next entry, LSN 1501, is at 2026-01-01T01:15:00.000Z, after it");
	assert_int_equal(hw(&f->r, "drill", "restore", "--dir", dir, "--backup-dir", bdir,
			    "--until-time", "2026-01-01T00:30:00Z", "--no-record", NULL),
			 0);
	check_is(f, "target reached", "pass",
		 "restored to LSN 1000 (2026-01-01T00:00:00.000Z), the last entry at or before");
	assert_int_equal(hw(&f->r, "drill", "restore", "--scratch", scratch, "--backup-dir", bdir,
			    "--until-time", "2026-01-01T01:30:00Z", NULL),
			 0);
	check_is(f, "target reached", "warn", "whether the node made entries after it");
	assert_non_null(strstr(f->r.out, "; warning: target time not confirmed"));
}

/* A restore drill stopped by SIGTERM (the timeout of cron or of a systemd unit) removes
 * its store-sized scratch beside the store and records the run, ERROR "interrupted by
 * signal 15", exiting 143 (it died, leaving DIR.restore-XXXXXX and no history row). It is
 * held, its scratch made, while it reads the backup's MANIFEST, a FIFO the test opens.
 * A verify drill stopped while it reads its --trust file, a check of its arguments before
 * it starts, exits 143 and records nothing (test_drill_signals stops one that runs). */
static void test_drill_interrupted(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], m[4400], real[4400], log[4300];
	backup_with_fifo(f, "MANIFEST", dir, bak, m, real, log);
	const char *restore[] = {"drill", "restore", "--backup", bak, "--dir", dir, NULL};
	struct hw_proc p;
	assert_int_equal(hw_proc_start(&p, log, restore), 0);
	int fd = fifo_open(m, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(entries_named(f->dir, "r.restore-"), 1);
	assert_int_equal(rename(real, m), 0); /* what the restore itself reads */
	assert_int_equal(hw_proc_signal(&p, SIGTERM), 0);
	close(fd);
	int rc = hw_proc_reap(&p, 60000);
	hw_proc_kill(&p);
	assert_int_equal(rc, 128 + SIGTERM);
	assert_int_equal(entries_named(f->dir, "r.restore-"), 0);
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "restore   last ERROR"));
	assert_non_null(strstr(f->r.out, "): interrupted by signal 15;"));

	char fifo[4300];
	path(f, "trust.pub", fifo, sizeof(fifo));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	const char *verify[] = {"drill", "verify", "--dir", dir, "--trust", fifo, NULL};
	assert_int_equal(hw_proc_start(&p, log, verify), 0);
	fd = fifo_open(fifo, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(hw_proc_signal(&p, SIGTERM), 0);
	close(fd);
	rc = hw_proc_reap(&p, 60000);
	hw_proc_kill(&p);
	assert_int_equal(rc, 128 + SIGTERM);
	assert_int_equal(entries_named(f->dir, "r.verify-"), 0);
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	assert_non_null(strstr(f->r.out, "verify    never run"));
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_drills_cli");
	if (hw_bin == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_pass_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_pages_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_compare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill_internal_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_newest_of_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_not_this_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_signed_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_pruned_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_pruned_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_vouch_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_vouch_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_vouch_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_newest_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_newest_unfinished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_procedure_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_procedure_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_overdue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_until_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill_interrupted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
