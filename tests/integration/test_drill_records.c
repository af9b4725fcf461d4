/* test_drill_records.c: what a drill records, and what it refuses to, run as real
 * processes (HW_BIN): a procedure judged at another time (--now) is a what-if that its
 * summary and report mark and no history row records (and a --now in seconds is refused,
 * by status and prune too);
 * the offsite copy is held to its MANIFEST's sizes and to backup_age_max; reports of runs
 * in the same millisecond never overwrite each other, and a report is both files or none;
 * a report is valid UTF-8 JSON
 * whatever the store's path, and a path's control characters are shown escaped on the
 * terminal; the history row names its report by an absolute path, whole however long; a
 * long path is shortened, not the result it is in, and facts hold it whole; a detail or
 * a name cut at its field's bound ends with "..."; and a store is not compared with
 * itself. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/utf8.h"
#include "tests/integration/cli_fix.h"
#include "tests/integration/drill_fix.h"

static int setup(void **state)
{
	return fix_setup(state, "drill-records");
}

/* ms as the drills write it: 2026-11-26T10:00:00.123Z. */
static void iso(int64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	assert_non_null(gmtime_r(&t, &tm));
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03dZ", (int)(ms % 1000));
}

/* The store f->dir/p (500 records), one backup generation of it in f->dir/backups and one
 * in f->dir/offsite, both committed age_ms ago, and a config (path into conf, 4,300
 * bytes) that schedules no other drill, so a procedure passes while its backups are young
 * enough. dir and bdir (4,200 bytes each) get the store's and the backups' paths. */
static void procedure_setup(struct fix *f, int64_t age_ms, char *dir, char *bdir, char *conf)
{
	char off[4200], drills[9000];
	make_store_at(f, "p", "3", "500", dir);
	path(f, "backups", bdir, 4200);
	path(f, "offsite", off, sizeof(off));
	make_generations(f, dir, bdir, 1, &age_ms);
	make_generations(f, dir, off, 1, &age_ms);
	snprintf(drills, sizeof(drills),
		 "backup_dir = %s\noffsite_dir = %s\nbackup_generations_min = 1\n"
		 "retention_days_min = 0\nbackup_age_max = 1d\nverify = 0\nrestore = 0\n"
		 "failover = 0\n",
		 bdir, off);
	write_config(f, "p", drills, conf, 4300);
}

/* Backups 10 days old fail the procedure; judged 9.5 days ago (--now) it passes, but as a
 * what-if: the summary and both reports say when it was judged and that nothing recorded
 * it, and the history keeps no row (status: the procedure's last run is the FAIL). A
 * --now in seconds (1970) or in microseconds (the year 50000) is a usage error, for status
 * and prune as for the procedure. */
static void test_procedure_now_what_if(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], conf[4300], then[32], html[4200], json[4200], when[40];
	procedure_setup(f, 10 * DAY_MS, dir, bdir, conf);
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, NULL), 3);
	check_is(f, "newest backup age", "fail", "backup_age_max 1d");
	int64_t at = hw_wall_ms() - 19 * DAY_MS / 2;
	snprintf(then, sizeof(then), "%" PRId64, at);
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, "--now", then, NULL), 0);
	iso(at, when, sizeof(when));
	char want[200];
	snprintf(want, sizeof(want), "  judged at %s (--now): not recorded in the drill history\n",
		 when);
	assert_non_null(strstr(f->r.out, want));
	report_paths(&f->r, html, json);
	static char text[1 << 20];
	read_all(json, text, sizeof(text));
	snprintf(want, sizeof(want), "\"judged_at\":\"%s\"", when);
	assert_non_null(strstr(text, want));
	read_all(html, text, sizeof(text));
	snprintf(want, sizeof(want), "judged at %s (--now): not recorded in the drill history",
		 when);
	assert_non_null(strstr(text, want));
	assert_int_equal(hw(&f->r, "status", "--config", conf, NULL), 0);
	assert_non_null(strstr(f->r.out, "procedure last FAIL"));
	/* units mistaken: seconds land in 1970, microseconds past the year 9999 */
	snprintf(then, sizeof(then), "%" PRId64, at / 1000);
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, "--now", then, NULL), 2);
	assert_non_null(hw_said(f->r.err, "--now 1970-"));
	assert_non_null(hw_said(f->r.err, "milliseconds since 1970"));
	snprintf(then, sizeof(then), "%" PRId64, at * 1000);
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, "--now", then, NULL), 2);
	/* and so in the other commands that judge ages at --now T, refused before they
	 * judge or remove anything (they took it, judging in 1970 or the year 50000) */
	snprintf(then, sizeof(then), "%" PRId64, at / 1000);
	assert_int_equal(hw(&f->r, "status", "--config", conf, "--now", then, NULL), 2);
	assert_non_null(hw_said(f->r.err, "--now 1970-"));
	assert_null(strstr(f->r.out, "drills (store"));
	snprintf(then, sizeof(then), "%" PRId64, at * 1000);
	assert_int_equal(hw(&f->r, "status", "--config", conf, "--now", then, NULL), 2);
	assert_int_equal(hw(&f->r, "prune", bdir, "--now", then, NULL), 2);
	snprintf(then, sizeof(then), "%" PRId64, at / 1000);
	assert_int_equal(hw(&f->r, "prune", bdir, "--now", then, NULL), 2);
	assert_non_null(hw_said(f->r.err, "milliseconds since 1970"));
	assert_int_equal(entries_named(bdir, "gen-"), 1);
}

/* The offsite copy is held to what it claims: young enough it passes (a warning here: on
 * the data's file system); 400 days old it fails (backup_age_max, as the backups), and so
 * does one whose snapshot was cut short (its MANIFEST's sizes), naming the file. */
static void test_offsite_judged(void **state)
{
	struct fix *f = *state;
	char dir[4200], bdir[4200], conf[4300], off[4300], snap[4400];
	procedure_setup(f, 3600 * 1000, dir, bdir, conf);
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, NULL), 0);
	check_is(f, "offsite copy", "warn", "same file system");
	check_is(f, "backups complete", "pass", "files have the sizes its MANIFEST gives");
	snprintf(off, sizeof(off), "%s/offsite/gen-0", f->dir);
	age_backup(off, 400 * DAY_MS);
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, NULL), 3);
	check_is(f, "offsite copy", "fail", "/offsite/gen-0 is 400d old, backup_age_max 1d");
	age_backup(off, 3600 * 1000);
	snprintf(snap, sizeof(snap), "%s/snapshot/data.mdb", off);
	struct stat st;
	assert_int_equal(stat(snap, &st), 0);
	assert_int_equal(truncate(snap, st.st_size / 2), 0);
	assert_int_equal(hw(&f->r, "drill", "procedure", "--config", conf, NULL), 3);
	check_is(f, "offsite copy", "fail", "1 offsite generation incomplete;");
	check_is(f, "offsite copy", "fail", "snapshot/data.mdb is ");
	check_is(f, "backups complete", "pass", "same chain");
}

/* The shim off again for what follows (also after a failed test: its teardown). */
static void unset_shim(void)
{
	unsetenv("LD_PRELOAD");
	unsetenv("HW_FAULT_WALL_MS");
}

static int teardown_shim(void **state)
{
	unset_shim();
	return teardown(state);
}

/* The report the newest verify row of store dir's history names (status --json), into
 * row. */
static void row_report(struct fix *f, const char *dir, char *row, size_t cap)
{
	assert_int_equal(hw(&f->r, "status", "--dir", dir, "--json", NULL), 0);
	const char *v = strstr(f->r.out, "{\"kind\":\"verify\"");
	assert_non_null(v);
	v = strstr(v, "\"report\":\"");
	assert_non_null(v);
	v += strlen("\"report\":\"");
	snprintf(row, cap, "%.*s", (int)strcspn(v, "\""), v);
}

/* Two verify drills of two stores started in the same millisecond (the shim's frozen
 * wall clock), sharing a report directory, as two cron jobs may: each writes its own
 * report (the second's name ends -2), and each store's history row names its own. */
static void test_reports_same_ms(void **state)
{
	struct fix *f = *state;
	char dir[2][4200], reports[4200], html[2][4200], json[2][4200], row[4200];
	static char text[1 << 20];
	path(f, "reports", reports, sizeof(reports));
	assert_int_equal(setenv("LD_PRELOAD", HW_FAULTS_LIB, 1), 0);
	assert_int_equal(setenv("HW_FAULT_WALL_MS", END_MS, 1), 0);
	for (int i = 0; i < 2; i++) {
		make_store_at(f, i ? "b" : "a", i ? "4" : "3", "200", dir[i]);
		int rc = hw(&f->r, "drill", "verify", "--dir", dir[i], "--report-dir", reports,
			    NULL);
		assert_int_equal(rc, 0);
		report_paths(&f->r, html[i], json[i]);
		read_all(json[i], text, sizeof(text));
		assert_non_null(strstr(text, "\"started_ms\":" END_MS ",")); /* the same ms */
		assert_non_null(strstr(text, dir[i]));
	}
	unset_shim();
	assert_string_not_equal(json[0], json[1]);
	assert_string_not_equal(html[0], html[1]);
	assert_non_null(strstr(json[1], "-2.json"));
	assert_non_null(strstr(html[1], "-2.html"));
	read_all(json[0], text, sizeof(text));
	assert_null(strstr(text, dir[1])); /* the first report is the first run's still */
	for (int i = 0; i < 2; i++) {
		row_report(f, dir[i], row, sizeof(row));
		assert_string_equal(row, json[i]);
	}
}

/* A verify drill whose HTML page cannot be written (its name is a directory: the wall
 * clock frozen, the name is known) leaves no JSON behind either: a run leaves both files
 * of its report or neither, says "report not written" and its history row names none. */
static void test_report_half_removed(void **state)
{
	struct fix *f = *state;
	char dir[4200], reports[4200], when[40], stamp[40], html[4300], row[4200];
	make_store_at(f, "a", "3", "200", dir);
	path(f, "reports", reports, sizeof(reports));
	assert_int_equal(mkdir(reports, 0755), 0);
	iso(END_MS_NUM, when, sizeof(when));
	size_t n = 0;
	for (const char *s = when; *s; s++)
		if (*s != '-' && *s != ':')
			stamp[n++] = *s;
	stamp[n] = '\0';
	snprintf(html, sizeof(html), "%s/verify-%s.html", reports, stamp);
	assert_int_equal(mkdir(html, 0755), 0); /* rename() onto it fails: EISDIR */
	assert_int_equal(setenv("LD_PRELOAD", HW_FAULTS_LIB, 1), 0);
	assert_int_equal(setenv("HW_FAULT_WALL_MS", END_MS, 1), 0);
	int rc = hw(&f->r, "drill", "verify", "--dir", dir, "--report-dir", reports, NULL);
	unset_shim();
	assert_int_equal(rc, 0); /* the drill's verdict stands */
	assert_non_null(hw_said(f->r.err, "report not written to "));
	assert_int_equal(entries_named(reports, "verify-"), 1); /* the directory alone */
	assert_int_equal(entries_named(reports, ".report-"), 0);
	row_report(f, dir, row, sizeof(row));
	assert_string_equal(row, "");
}

/* The whole of file p is strict UTF-8 (so its JSON parses wherever its text came from),
 * and holds no U+FFFD (a byte that is not UTF-8 is written as \xNN). Returns its text
 * (until the next call). */
static const char *assert_utf8_file(const char *p)
{
	static char text[1 << 20];
	read_all(p, text, sizeof(text));
	unsigned long cp;
	for (size_t i = 0, n; text[i]; i += n) {
		n = hw_utf8_decode((const unsigned char *)text + i, &cp);
		if (n == 0)
			fail_msg("%s: byte %zu (0x%02x) is not UTF-8", p, i,
				 (unsigned char)text[i]);
	}
	assert_null(strstr(text, HW_UTF8_REPLACEMENT));
	return text;
}

/* A store path longer than a report's 320-byte fields, of 日 (3 bytes each) from where
 * byte 319 is inside one: a field holding it is cut in the middle of that character. */
static void long_utf8_path(struct fix *f, char *out, size_t cap)
{
	static const char day[] = "\xe6\x97\xa5"; /* 日 */
	for (int pad = 0; pad < 3; pad++) {
		size_t n = (size_t)snprintf(out, cap, "%s/%.*s", f->dir, pad, "xx");
		for (int c = 0; c < 2; c++) {
			if (c == 1)
				mkdir(out, 0755); /* the parent of the store */
			for (int k = 0; k < 80; k++)
				n += (size_t)snprintf(out + n, cap - n, "%s", day);
			n += (size_t)snprintf(out + n, cap - n, c == 0 ? "/" : "");
		}
		assert_true(n > 320 && n < cap);
		if (((unsigned char)out[319] & 0xC0u) == 0x80u)
			return;
		out[strlen(f->dir) + 1 + (size_t)pad + 240] = '\0';
		rmdir(out);
	}
	fail_msg("no padding puts byte 319 of %s inside a character", out);
}

/* The reports of a verify drill stay strict UTF-8: of a store whose path of Japanese
 * characters is cut in the middle of one (the field ends before it), and of one whose
 * name holds a byte that is no UTF-8 (on the page, in the JSON and in status --json as
 * \xff, the four characters the terminal shows: "\\xff" in the JSON; no U+FFFD). */
static void test_report_utf8(void **state)
{
	struct fix *f = *state;
	char dir[4200], html[4200], json[4200];
	long_utf8_path(f, dir, sizeof(dir));
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			snprintf(dir, sizeof(dir), "%s/bad\xff", f->dir);
		assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
		assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 0);
		report_paths(&f->r, html, json);
		const char *text = assert_utf8_file(json);
		assert_int_equal(strstr(text, "bad\\\\xff") != NULL, i == 1);
		const char *page = assert_utf8_file(html);
		assert_int_equal(strstr(page, "bad\\xff") != NULL, i == 1);
		assert_int_equal(hw(&f->r, "status", "--dir", dir, "--json", NULL), 0);
		assert_non_null(strstr(f->r.out, i ? "bad\\\\xff" : "\"report\":\""));
		assert_null(strstr(f->r.out, HW_UTF8_REPLACEMENT));
	}
}

/* A store whose directory name holds a newline, an escape sequence and a C1 control
 * (U+009B, CSI) fakes no line and no colour of a drill's summary or of status: each is
 * shown escaped, the rest of the name as it is. */
static void test_paths_escaped(void **state)
{
	struct fix *f = *state;
	char dir[4200], want[4400];
	snprintf(dir, sizeof(dir),
		 "%s/p1\n  pass  FAKE \x1b[32mgreen\x1b[0m\xc2\x9b"
		 "1m",
		 f->dir);
	snprintf(want, sizeof(want), "%s/p1\\n  pass  FAKE \\x1b[32mgreen\\x1b[0m\\xc2\\x9b1m",
		 f->dir);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 0);
	for (int i = 0; i < 2; i++) {
		if (i == 1)
			assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
		fprintf(stderr, "test_drill_records: %s", f->r.out);
		assert_non_null(strstr(f->r.out, want));
		assert_null(strchr(f->r.out, '\x1b'));
		assert_null(strstr(f->r.out, "\xc2\x9b"));
		assert_null(strstr(f->r.out, "\n  pass  FAKE"));
	}
	assert_non_null(strstr(f->r.out, "drills (store "));
}

/* A store compared with itself agrees and proves nothing: --compare naming --dir's store
 * by another path (s1 and s1/./), or two --compare naming one store, is a usage error
 * that names both; another store is compared as before. */
static void test_compare_self_refused(void **state)
{
	struct fix *f = *state;
	char s1[4200], s2[4200], again[4300];
	make_store_at(f, "s1", "3", "200", s1);
	make_store_at(f, "s2", "3", "200", s2);
	snprintf(again, sizeof(again), "%s/./", s1);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", s1, "--compare", again, NULL), 2);
	char want[9000];
	snprintf(want, sizeof(want), "--compare %s is the store of --dir %s", again, s1);
	assert_non_null(hw_said(f->r.err, want));
	snprintf(again, sizeof(again), "%s/", s2);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", s1, "--compare", s2, "--compare",
			    again, NULL),
			 2);
	snprintf(want, sizeof(want), "--compare %s is the store of --compare %s", again, s2);
	assert_non_null(hw_said(f->r.err, want));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", s1, "--compare", s2, NULL), 0);
	check_is(f, "compare", "pass", "equal at LSN 200");
}

/* A slip in a path given on the command line (a --compare or --backup that is not there,
 * a --scratch or --report-dir that cannot be made) is refused before the drill starts:
 * no verdict, no report, no history row (status still shows the one PASS). */
static void test_path_slips_not_recorded(void **state)
{
	struct fix *f = *state;
	char s1[4200], missing[4300], file[4300];
	make_store_at(f, "s1", "3", "200", s1);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", s1, NULL), 0);
	snprintf(missing, sizeof(missing), "%s/missing", s1);
	snprintf(file, sizeof(file), "%s/data.mdb", s1);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", s1, "--compare", missing, NULL), 2);
	assert_int_equal(hw(&f->r, "drill", "restore", "--dir", s1, "--backup", missing, NULL), 2);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", s1, "--report-dir", file, NULL), 1);
	assert_non_null(hw_said(f->r.err, "(ENOTDIR)"));
	assert_int_equal(f->r.out_len, 0);
	snprintf(missing, sizeof(missing), "%s/missing/scratch", s1);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", s1, "--scratch", missing, NULL), 1);
	assert_non_null(hw_said(f->r.err, "(ENOENT)"));
	assert_int_equal(hw(&f->r, "status", "--dir", s1, "--json", NULL), 0);
	assert_non_null(strstr(f->r.out, "\"kind\":\"verify\""));
	assert_null(strstr(f->r.out, "\"result\":\"ERROR\""));
	assert_null(strstr(f->r.out, "\"result\":\"FAIL\""));
	const char *restore = strstr(f->r.out, "\"kind\":\"restore\"");
	assert_non_null(restore);
	assert_non_null(strstr(restore, "\"state\":\"never passed\""));
}

/* A drill run from the directory of its relative --report-dir names its report by an
 * absolute path, in its summary and in the history row that status reads from anywhere
 * else. */
static void test_row_report_absolute(void **state)
{
	struct fix *f = *state;
	char dir[4200], here[4200], real[4200], html[4200], json[4200], row[4200], want[4300];
	make_store_at(f, "s", "3", "200", dir);
	assert_non_null(getcwd(here, sizeof(here)));
	assert_int_equal(chdir(f->dir), 0);
	int rc = hw(&f->r, "drill", "verify", "--dir", dir, "--report-dir", "reports", NULL);
	assert_int_equal(chdir(here), 0);
	assert_int_equal(rc, 0);
	assert_non_null(realpath(f->dir, real));
	snprintf(want, sizeof(want), "%s/reports/verify-", real);
	assert_non_null(strstr(f->r.out, "report: /"));
	report_paths(&f->r, html, json); /* they are there from here too */
	assert_ptr_equal(strstr(json, want), json);
	row_report(f, dir, row, sizeof(row));
	assert_string_equal(row, json);
}

/* A report directory so deep that the report's path passes 512 bytes (700 here): the
 * history row names the report whole, a file status can point to (cut at 512 bytes, it
 * named none). */
static void test_row_report_long(void **state)
{
	struct fix *f = *state;
	char dir[4200], deep[4200], html[4200], json[4200], row[4200];
	make_store_at(f, "s", "3", "200", dir);
	snprintf(deep, sizeof(deep), "%s", f->dir);
	while (strlen(deep) < 700) {
		size_t n = strlen(deep);
		snprintf(deep + n, sizeof(deep) - n, "/%.60s",
			 "reports-of-the-nightly-verify-drill-kept-for-the-auditors-xx");
	}
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--report-dir", deep, NULL), 0);
	report_paths(&f->r, html, json);
	assert_true(strlen(json) > 700);
	row_report(f, dir, row, sizeof(row));
	assert_string_equal(row, json);
	assert_int_equal(access(row, R_OK), 0);
}

#define DEEP_BYTES 4300

/* The paths of deep_stores(). */
struct deep {
	char dir[DEEP_BYTES]; /* more than 450 bytes deep in f->dir */
	char p1[DEEP_BYTES + sizeof "/p1"], p2[DEEP_BYTES + sizeof "/p2"]; /* in dir */
	char bak[DEEP_BYTES + sizeof "/backup"];
};

/* Stores p1 and p2 (200 records, seeds 3 and seed2) in a directory of f->dir more than
 * 450 bytes deep, and the path of a backup beside them (not made), into d. */
static void deep_stores(struct fix *f, const char *seed2, struct deep *d)
{
	size_t n = (size_t)snprintf(d->dir, DEEP_BYTES, "%s", f->dir);
	for (int i = 1; strlen(d->dir) < 450; i++) {
		n += (size_t)snprintf(d->dir + n, DEEP_BYTES - n,
				      "/terminal_operating_system_replica_dir_%d", i);
		assert_int_equal(mkdir(d->dir, 0755), 0);
	}
	snprintf(d->p1, sizeof d->p1, "%s/p1", d->dir);
	snprintf(d->p2, sizeof d->p2, "%s/p2", d->dir);
	snprintf(d->bak, sizeof d->bak, "%s/backup", d->dir);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(hw(&f->r, "init", i ? d->p2 : d->p1, NULL), 0);
		assert_int_equal(hw(&f->r, "ingest", i ? d->p2 : d->p1, "--generate", "200",
				    "--seed", i ? seed2 : "3", "--end-ms", END_MS, NULL),
				 0);
	}
}

/* Stores and a backup under a directory 450 bytes deep. A restore's one-line result keeps
 * its claim and its warning whole, the backup's path shortened in its middle, in the
 * summary and the history row alike (cut at 200 bytes, it lost both), and so does a
 * backup_dir there that holds no backup; the report's fact
 * "backup" holds the path whole (it was cut at 320 bytes). A verify's --compare of a
 * store there is named whole by a fact (its check's name holds 64 bytes of the path as
 * typed), and every check's detail starts in one column (a long name pushed its own). */
static void test_long_paths_whole(void **state)
{
	struct fix *f = *state;
	static struct deep d;
	deep_stores(f, "3", &d);
	const char *deep = d.dir, *dir = d.p1, *other = d.p2, *bak = d.bak;
	char want[4600], line[1024], name[64];
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--dir", dir, NULL), 0);
	const char *tail = "/backup to LSN 200 and verified in ";
	const char *warn = "; warning: no trusted keys configured, no signed checkpoint";
	assert_non_null(strstr(f->r.out, "PASS: restored "));
	assert_non_null(strstr(f->r.out, "..."));
	assert_non_null(strstr(f->r.out, tail));
	snprintf(want, sizeof(want), "%s (", warn); /* the line ends with its time */
	assert_non_null(strstr(f->r.out, want));
	assert_int_equal(hw(&f->r, "status", "--dir", dir, "--json", NULL), 0);
	assert_non_null(strstr(f->r.out, tail));
	snprintf(want, sizeof(want), "%s\"", warn); /* the row's what ends with it */
	assert_non_null(strstr(f->r.out, want));
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--dir", dir, "--json",
			    "--no-record", NULL),
			 0);
	snprintf(want, sizeof(want), "\"backup\":\"%s\"", bak);
	assert_non_null(strstr(f->r.out, want));
	char drills[4400], conf[4300], none[DEEP_BYTES + 8];
	snprintf(none, sizeof(none), "%s/none", deep); /* a backup_dir there holds none */
	assert_int_equal(mkdir(none, 0755), 0);
	snprintf(drills, sizeof(drills), "backup_dir = %s\n", none);
	make_store(f, "q", "3", "10");
	write_config(f, "q", drills, conf, sizeof(conf));
	assert_int_equal(hw(&f->r, "drill", "restore", "--config", conf, "--no-record", NULL), 3);
	assert_non_null(strstr(f->r.out, "FAIL: backup_dir "));
	assert_non_null(strstr(f->r.out, "/none holds no backup ("));
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, "--compare", other,
			    "--no-record", "--json", NULL),
			 0);
	snprintf(name, sizeof(name), "compare %.52s...", other); /* cut to 63 bytes, marked */
	snprintf(want, sizeof(want), "\"%s\":\"%s\"", name, other);
	assert_non_null(strstr(f->r.out, want));
	assert_int_equal(
		hw(&f->r, "drill", "verify", "--dir", dir, "--compare", other, "--no-record", NULL),
		0);
	size_t col = strlen("  pass  ") + strlen(name) + 1; /* past the longest name */
	check_line(f->r.out, name, line, sizeof(line));
	assert_memory_equal(line + col, "digest ", 7);
	check_line(f->r.out, "hash chain", line, sizeof(line));
	assert_true(strlen(line) > col && line[col - 1] == ' ');
	assert_memory_equal(line + col, "200 entries chain", 17);
}

/* A check's detail longer than its 320 bytes ends with "..." (it was cut with no mark:
 * "... the store /tmp/.../terminal_operatin"), in the report and in the summary: a
 * backup of another store restored for a store under a long path. */
static void test_long_detail_marked(void **state)
{
	struct fix *f = *state;
	static struct deep d;
	deep_stores(f, "4", &d);
	char html[4400], json[4400], line[1024];
	assert_int_equal(hw(&f->r, "backup", d.p2, d.bak, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", d.bak, "--dir", d.p1,
			    "--no-record", NULL),
			 3);
	check_line(f->r.out, "backup of this store", line, sizeof(line));
	assert_non_null(strstr(line, "the backup is of another chain than the store "));
	assert_string_equal(line + strlen(line) - 3, "...");
	report_paths(&f->r, html, json);
	static char text[1 << 20];
	read_all(json, text, sizeof(text));
	const char *at = strstr(text, "\"name\":\"backup of this store\",\"verdict\":\"fail\","
				      "\"detail\":\"the backup is of another chain");
	assert_non_null(at);
	at = strstr(at, "\"detail\":\"") + strlen("\"detail\":\"");
	size_t len = strcspn(at, "\"");
	assert_int_equal(len, 319); /* the field's 320 bytes with its NUL */
	assert_memory_equal(at + len - 3, "...", 3);
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_drill_records");
	if (hw_bin == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_procedure_now_what_if, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offsite_judged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports_same_ms, setup, teardown_shim),
		cmocka_unit_test_setup_teardown(test_report_half_removed, setup, teardown_shim),
		cmocka_unit_test_setup_teardown(test_report_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paths_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_slips_not_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_self_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_report_absolute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_row_report_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_paths_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_detail_marked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
