/* test_demo.c: `hawser demo`, the README's first command, end to end: a local cluster
 * of real processes, a SIGKILL of the primary under load, the old primary's rejoin, the
 * drills and the report. The demo's own summary line is the contract checked here (PASS,
 * acked_lost=0, the rejoin time, the report's path), with its "in sync" line (the old
 * primary a standby of the new one's epoch, its log holding the new primary's head), and
 * the report file is opened to find the timeline and the checks. A second run is interrupted
 * with SIGINT once its cluster runs: every process it started must be gone when it
 * exits, and its temporary directory removed. A third is interrupted after the kill,
 * while the load runs on the new primary: the checks it never reached are skipped with
 * the reason, never passed. A fourth finds no room for its verify drill's rebuild once
 * its cluster stopped, a fifth none for its restore drill's replay, a sixth none for the
 * restore itself: an ERROR naming the scratch and the room, not a FAIL. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/proc.h"
#include "tests/skip.h"

#define DEMO_TIMEOUT_MS 150000 /* the demo aims at under a minute */
#define WAIT_MS         20000
#define CHILDREN        4 /* p1, s1, s2, w1 */

struct fix {
	char root[HW_PROC_PATH_MAX];
	char log[HW_PROC_PATH_MAX + 16];
	char report_dir[HW_PROC_PATH_MAX + 16];
	struct hw_proc proc;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("demo", f->root, sizeof f->root) != 0)
		return -1;
	f->proc.err_fd = f->proc.log_fd = -1;
	snprintf(f->log, sizeof f->log, "%s/demo.log", f->root);
	snprintf(f->report_dir, sizeof f->report_dir, "%s/report", f->root);
	/* the demo's temporary directory goes under the test's, where teardown finds it */
	setenv("TMPDIR", f->root, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_proc_kill(&f->proc);
	char mnt[HW_PROC_PATH_MAX + 16];
	snprintf(mnt, sizeof mnt, "%s/small", f->root);
	umount2(mnt, MNT_DETACH); /* test_demo_verify_no_room's, if an assertion left it */
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		return NULL;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

/* What the demo prints before its last line fits an 80-column terminal (its first lines
 * name directories and addresses, given by the host: not judged here). */
static void each_line_fits(const char *out)
{
	for (const char *l = out; *l != '\0';) {
		size_t len = strcspn(l, "\n");
		bool given = strncmp(l, "hawser demo: ", 13) == 0 || strncmp(l, "work ", 5) == 0;
		if (!given && len > 80)
			fail_msg("%zu columns: %.*s", len, (int)len, l);
		l += len + (l[len] == '\n');
	}
}

/* Each bar or mark of the report's timeline (its x, in percent) starts no earlier than the
 * one above it: the timeline reads down in the order the run went. */
static void assert_by_start(const char *html)
{
	double above = -1;
	int n = 0;
	for (const char *g = html; (g = strstr(g, "<g class=\"phase\"")) != NULL; g++, n++) {
		const char *bar = strstr(g, "<rect class=\"bar"),
			   *mark = strstr(g, "<circle class=\"mark");
		const char *shape = bar == NULL || (mark != NULL && mark < bar) ? mark : bar;
		assert_non_null(shape);
		double x = strtod(strstr(shape, "x=\"") + strlen("x=\""), NULL);
		assert_true(x >= above);
		above = x;
	}
	assert_true(n > 8);
}

/* The report path the verdict line sum names (report=PATH, to the line's end). */
static void report_named(const char *sum, char *path, size_t cap)
{
	const char *r = strstr(sum, "report=");
	assert_non_null(r);
	r += strlen("report=");
	snprintf(path, cap, "%.*s", (int)strcspn(r, "\n"), r);
}

/* The report the demo's verdict line (sum) names: in f->report_dir, the timeline with the
 * fault as a mark and in order of start, the drills and the rejoin check passed, the two
 * rejoin times as stdout said them, the overlap check in UTC times. */
static void assert_report(const struct fix *f, const char *sum, long rejoin, long in_sync)
{
	char want[256];
	char path[HW_PROC_PATH_MAX + 128];
	report_named(sum, path, sizeof path);
	assert_int_equal(strncmp(path, f->report_dir, strlen(f->report_dir)), 0);
	const char *html = slurp(path);
	assert_non_null(html);
	assert_non_null(strstr(html, "<svg id=\"timeline\""));
	const char *fault = strstr(html, "data-phase=\"fault: kill -9 primary\"");
	assert_non_null(fault);
	const char *mark = strstr(fault, "<circle class=\"mark pass\"");
	assert_non_null(mark);
	assert_true(mark < strstr(fault, "</g>"));
	assert_by_start(html);
	assert_non_null(strstr(html, "data-phase=\"first commit on new primary\""));
	assert_non_null(strstr(html, "data-phase=\"verify drill\" data-verdict=\"pass\""));
	assert_non_null(strstr(html, "data-phase=\"restore drill\" data-verdict=\"pass\""));
	assert_non_null(strstr(html, "data-phase=\"rejoin check\" data-verdict=\"pass\""));
	/* each of the two times under its own name, the same number as on stdout */
	snprintf(want, sizeof want, "<td>rejoin</td><td class=\"num\">%ld</td>", rejoin);
	assert_non_null(strstr(html, want));
	snprintf(want, sizeof want, "as a standby, %ld ms after it was restarted", rejoin);
	assert_non_null(strstr(html, want));
	snprintf(want, sizeof want, "<td>in sync</td><td class=\"num\">%ld</td>", in_sync);
	assert_non_null(strstr(html, want));
	/* the overlap check in UTC times and the gap, not epoch milliseconds */
	assert_null(strstr(html, "wall_ms"));
	const char *acks = strstr(html, "s last ack 20");
	assert_non_null(acks);
	assert_non_null(strstr(acks, "Z, new primary"));
	assert_non_null(strstr(acks, " ms after"));
	const char *check = strstr(html, ">old primary rejoined<");
	assert_non_null(check);
	assert_non_null(strstr(check, "class=\"v pass\""));
	assert_true(strstr(check, "class=\"v pass\"") < strstr(check, "</tr>"));
}

/* `hawser demo` runs the whole drill and ends with its verdict: no acknowledged record
 * lost, the old primary p1 back as a standby whose log matches the new primary's, and an
 * HTML report holding the timeline with the fault (a moment: a mark at its time, not a
 * bar), the rejoin check and the drills, in order of start. The
 * verdict's RTO half is a measurement: on a host too slow for 2 s the demo says FAIL
 * with the measured RTO over the target (checked to be so), and the rest must hold. Its
 * two rejoin times are told apart: "rejoin" (restart until it follows) and "in sync"
 * (restart until in sync), the same on stdout, in the report and on the last line; every
 * line fits 80 columns. */
static void test_demo_pass(void **state)
{
	struct fix *f = *state;
	static char out[1 << 16];
	const char *args[] = {"demo", "--report-dir", f->report_dir, NULL};
	int rc = hw_proc_run(f->log, out, sizeof out, DEMO_TIMEOUT_MS, args);
	fprintf(stderr, "%s", out);
	const char *sum = NULL; /* the last line that starts so: the verdict */
	for (const char *s = strstr(out, "\nhawser demo: "); s;
	     s = strstr(s + 1, "\nhawser demo: "))
		sum = s + 1;
	assert_non_null(sum);
	const char *m = strstr(sum, "measured_rto=");
	assert_non_null(m);
	long rto = strtol(m + strlen("measured_rto="), NULL, 10);
	assert_true(rto > 0);
	const char *over = "hawser demo: FAIL measured_rto=";
	bool slow = strncmp(sum, over, strlen(over)) == 0;
	if (slow) {
		assert_true(rto > 2000);
		assert_int_equal(rc, 1);
		print_message("the measured RTO (%ld ms) is over the 2 s target on this host: "
			      "timing is the benchmarks' to judge; the rest is checked\n",
			      rto);
	} else {
		assert_int_equal(rc, 0);
		assert_non_null(strstr(sum, "hawser demo: PASS"));
		assert_true(rto <= 2000);
	}
	assert_non_null(strstr(sum, "rto_target=2000ms"));
	assert_non_null(strstr(sum, "rpo_target=0"));
	assert_non_null(strstr(sum, " acked_lost=0 "));
	/* the old primary rejoined: seen in sync (-1 when it was not) */
	const char *j = strstr(sum, " in_sync=");
	assert_non_null(j);
	long in_sync = strtol(j + strlen(" in_sync="), NULL, 10);
	assert_true(in_sync >= 0);
	const char *sync = strstr(out, "\nin sync  p1: standby of s");
	assert_non_null(sync);
	assert_true(sync < sum);
	char line[512], want[256];
	snprintf(line, sizeof line, "%.*s", (int)strcspn(sync + 1, "\n"), sync + 1);
	snprintf(want, sizeof want, ", %ld ms after its restart (bound 8000 ms)", in_sync);
	assert_non_null(strstr(line, want));
	sync += 1 + strlen(line);
	snprintf(line, sizeof line, "%.*s", (int)strcspn(sync + 1, "\n"), sync + 1);
	assert_non_null(strstr(line, "         its log holds s"));
	assert_non_null(strstr(line, "'s head, lsn "));
	const char *rj = strstr(out, "\nrejoin   p1 restarted and follows s");
	assert_non_null(rj);
	const char *rj_ms = strstr(rj, " as a standby, ");
	assert_non_null(rj_ms);
	long rejoin = strtol(rj_ms + strlen(" as a standby, "), NULL, 10);
	assert_true(rejoin >= 0 && rejoin <= in_sync);
	each_line_fits(out);
	assert_report(f, sum, rejoin, in_sync);
}

/* The pids whose parent is ppid, from /proc (at most cap). */
static size_t children_of(pid_t ppid, pid_t *out, size_t cap)
{
	DIR *dir = opendir("/proc");
	size_t n = 0;
	struct dirent *e;
	while (dir != NULL && n < cap && (e = readdir(dir)) != NULL) {
		char path[300], buf[512];
		long pid = strtol(e->d_name, NULL, 10);
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		FILE *fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		size_t len = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
		buf[len] = '\0';
		const char *close_paren = strrchr(buf, ')');
		char st;
		long parent;
		if (close_paren && sscanf(close_paren + 1, " %c %ld", &st, &parent) == 2 &&
		    parent == (long)ppid)
			out[n++] = (pid_t)pid;
	}
	if (dir != NULL)
		closedir(dir);
	return n;
}

static bool demo_dir_left(const char *root)
{
	DIR *dir = opendir(root);
	bool left = false;
	struct dirent *e;
	while (dir != NULL && (e = readdir(dir)) != NULL)
		left |= strncmp(e->d_name, "hawser-demo-", 12) == 0;
	if (dir != NULL)
		closedir(dir);
	return left;
}

/* SIGINT while the cluster runs (started: its traffic line came): the demo exits with
 * 128 + SIGINT, every node and the witness it started are gone, and its temporary
 * directory is removed; it does not say that the nodes it killed "died of signal 9 on
 * stop", naming logs it then removed. */
static void test_demo_sigint(void **state)
{
	struct fix *f = *state;
	const char *args[] = {"demo", "--report-dir", f->report_dir, NULL};
	assert_int_equal(hw_proc_start_out(&f->proc, f->log, args), 0);
	size_t at = 0; /* its cluster started: the demo holds it, and stops it */
	assert_true(hw_proc_wait_line(&f->proc, &at, "traffic ", NULL, WAIT_MS, NULL, 0));
	pid_t kids[16];
	size_t n = 0;
	/* The nodes log their start to their own files: the pause between looks is on the
	 * demo's stderr pipe, bounded. */
	for (int waited = 0; waited < WAIT_MS && n < CHILDREN; waited += 50) {
		hw_proc_pump(&f->proc, 50);
		n = children_of(f->proc.pid, kids, 16);
	}
	assert_int_equal(n, CHILDREN);
	assert_int_equal(hw_proc_signal(&f->proc, SIGINT), 0);
	assert_int_equal(hw_proc_reap(&f->proc, WAIT_MS), 128 + SIGINT);
	for (size_t i = 0; i < n; i++)
		assert_true(kill(kids[i], 0) != 0 && errno == ESRCH);
	assert_false(demo_dir_left(f->root));
	assert_null(strstr(f->proc.log, "died of signal"));
	assert_null(strstr(f->proc.log, "(log: "));
}

/* The verdict of check name in the report JSON json ("" when it is not there), and its
 * detail into detail (cap bytes). */
static const char *check_verdict(const char *json, const char *name, char *detail, size_t cap)
{
	char pat[128];
	snprintf(pat, sizeof pat, "{\"name\":\"%s\",\"verdict\":\"", name);
	const char *c = strstr(json, pat);
	if (c == NULL)
		return "";
	static char verdict[16];
	c += strlen(pat);
	snprintf(verdict, sizeof verdict, "%.*s", (int)strcspn(c, "\""), c);
	const char *dt = strstr(c, "\"detail\":\"");
	snprintf(detail, cap, "%.*s", dt ? (int)strcspn(dt + 10, "\"") : 0, dt ? dt + 10 : "");
	return verdict;
}

/* SIGINT after the kill, once the client follows the new primary and the demo printed a
 * status line after that (so while its load runs: the status lines come from the load's
 * loop): the run ends before its loss check and overlap check, so the report skips the
 * rpo and one primary at a time checks saying why, the summary line says acked_lost=-1,
 * and the promotion, never read from the new primary's log, is not printed as 0 ms. They
 * showed "pass 0 of N acknowledged records lost", "pass (last ack wall_ms 0, new
 * primary's first 0)" and "promoted 0 ms". The run ends in ERROR, as an interrupted
 * drill does, not FAIL, and says nothing of the nodes it killed (their logs are gone). */
static void test_demo_interrupted_after_kill(void **state)
{
	struct fix *f = *state;
	const char *args[] = {"demo", "--report-dir", f->report_dir, NULL};
	assert_int_equal(hw_proc_start_out(&f->proc, f->log, args), 0);
	size_t at = 0;
	assert_true(
		hw_proc_wait_line(&f->proc, &at, "FAULT: kill -9", NULL, DEMO_TIMEOUT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->proc, &at, "client: follows the primary to", NULL,
				      WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->proc, &at, " primary epoch ", NULL, WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_signal(&f->proc, SIGINT), 0);
	assert_int_equal(hw_proc_reap(&f->proc, WAIT_MS), 128 + SIGINT);
	const char *out = f->proc.log;
	fprintf(stderr, "%s", out);
	/* ERROR, as the drills say an interrupt; and no word of the nodes it killed itself,
	 * nor of their logs, removed with its directory */
	const char *sum = strstr(out, "\nhawser demo: ERROR interrupted by signal");
	assert_non_null(sum);
	assert_null(strstr(out, "died of signal"));
	assert_null(strstr(out, "(log: "));
	char path[HW_PROC_PATH_MAX + 128];
	report_named(sum, path, sizeof path);
	char *dot = strrchr(path, '.');
	assert_non_null(dot);
	snprintf(dot, sizeof path - (size_t)(dot - path), ".json");
	const char *json = slurp(path);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"result\":\"ERROR\""));
	if (strstr(json, "acknowledged records check") != NULL) {
		print_message("the load had ended before the interrupt (a failover near the end of "
			      "it): the loss check ran, nothing was skipped\n");
		return;
	}
	char detail[512];
	assert_string_equal(check_verdict(json, "rpo", detail, sizeof detail), "skip");
	assert_non_null(strstr(detail, "not run: the run ended before it (interrupted by signal"));
	assert_string_equal(check_verdict(json, "one primary at a time", detail, sizeof detail),
			    "skip");
	assert_non_null(strstr(detail, "not run:"));
	assert_non_null(strstr(sum, " acked_lost=-1 "));
	assert_null(strstr(out, "promoted 0 ms"));
	const char *fo = strstr(out, "\nfailover ");
	if (fo != NULL) { /* its first ack came: the new primary took over, its log not read */
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)strcspn(fo + 1, "\n"), fo + 1);
		assert_non_null(strstr(line, "(its promotion not read: interrupted by signal"));
	}
}

/* Run the demo with its work directory on a tmpfs (mnt[cap]) and HW_FAULT_DEMO_PAUSE=at,
 * which holds it at that point while the test remounts the tmpfs to what it holds and
 * 64 KiB, then let it go on: it must exit 1. Its work directory into work[wcap]; returns
 * its output (f->proc.log). */
static const char *demo_no_room(struct fix *f, const char *at, char *mnt, size_t cap, char *work,
				size_t wcap)
{
	char line[HW_PROC_PATH_MAX + 128], opts[64];
	snprintf(mnt, cap, "%s/small", f->root);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		HW_SKIP("no mount namespace of its own: %s (needs root)", strerror(errno));
	if (mkdir(mnt, 0700) != 0 || mount("tmpfs", mnt, "tmpfs", 0, "size=256m") != 0)
		HW_SKIP("no tmpfs at %s: %s", mnt, strerror(errno));
	setenv("TMPDIR", mnt, 1);
	setenv("HW_FAULT_DEMO_PAUSE", at, 1);
	const char *args[] = {"demo", "--report-dir", f->report_dir, NULL};
	int rc = hw_proc_start_out(&f->proc, f->log, args);
	unsetenv("HW_FAULT_DEMO_PAUSE");
	setenv("TMPDIR", f->root, 1);
	assert_int_equal(rc, 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->proc, &from, ", paused ", NULL, DEMO_TIMEOUT_MS, line,
				      sizeof line));
	int st = 0; /* it raises SIGSTOP right after that line */
	assert_int_equal(waitpid(f->proc.pid, &st, WUNTRACED), f->proc.pid);
	assert_true(WIFSTOPPED(st));
	struct statvfs v;
	assert_int_equal(statvfs(mnt, &v), 0);
	snprintf(opts, sizeof opts, "size=%llu",
		 (unsigned long long)(v.f_blocks - v.f_bfree) * v.f_frsize + 64 * 1024);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, opts), 0);
	assert_int_equal(hw_proc_signal(&f->proc, SIGCONT), 0);
	assert_int_equal(hw_proc_reap(&f->proc, WAIT_MS), 1);
	fprintf(stderr, "%s", f->proc.log);
	const char *w = strstr(line, "stopped in ");
	assert_non_null(w);
	w += strlen("stopped in ");
	snprintf(work, wcap, "%.*s", (int)(strstr(w, ", paused") - w), w);
	return f->proc.log;
}

/* In the demo's last line sum, the words want and then "N KiB, its file system has M KiB
 * free", N above M; the report it names into path[cap], read. */
static const char *no_room_said(const char *sum, const char *want, char *path, size_t cap)
{
	assert_true(sum != NULL && strstr(sum, want) != NULL);
	unsigned long long need_kib = 0, free_kib = 1;
	assert_int_equal(sscanf(strstr(sum, want) + strlen(want),
				"%llu KiB, its file system has %llu KiB free", &need_kib,
				&free_kib),
			 2);
	assert_true(need_kib > free_kib);
	report_named(sum, path, cap);
	const char *html = slurp(path);
	assert_non_null(html);
	return html;
}

/* demo_no_room() held at at, and no_room_said() of its last line with the words before,
 * its work directory and after, before the room: the HTML of the report it names. */
static const char *demo_no_room_said(struct fix *f, const char *at, const char *before,
				     const char *after, char *mnt, size_t cap)
{
	char work[HW_PROC_PATH_MAX + 128], want[HW_PROC_PATH_MAX + 384];
	char path[HW_PROC_PATH_MAX + 128];
	const char *out = demo_no_room(f, at, mnt, cap, work, sizeof work);
	snprintf(want, sizeof want, "%s%s%s", before, work, after);
	return no_room_said(strstr(out, "\nhawser demo: ERROR "), want, path, sizeof path);
}

/* The demo's work directory on a tmpfs with no room left for the verify drill's rebuild
 * once its cluster stopped (HW_FAULT_DEMO_PAUSE=1 holds it there: demo_no_room): the run
 * ends in ERROR (exit 1), not FAIL, its last line naming the scratch
 * (WORK/verify-rebuild, removed), the room the rebuild needs and what is free; in the
 * report the verify drill is skipped, not failed, and no restore drill ran. It ended in
 * FAIL, "verify s1: No space left on device". */
static void test_demo_verify_no_room(void **state)
{
	char mnt[HW_PROC_PATH_MAX + 16];
	const char *html = demo_no_room_said(
		*state, "1", ": verify could not run (ENOSPC): no room for its rebuild's scratch ",
		"/verify-rebuild (removed): it needs about ", mnt, sizeof mnt);
	assert_non_null(strstr(html, "data-phase=\"verify drill\" data-verdict=\"skip\""));
	assert_null(strstr(html, "data-phase=\"restore drill\""));
	umount2(mnt, MNT_DETACH);
}

/* In the report html of a demo whose restore drill had no room: the verify drill passed,
 * the restore drill skipped, nothing failed; the tmpfs at mnt goes. */
static void restore_skipped(const char *html, const char *mnt)
{
	assert_non_null(strstr(html, "data-phase=\"verify drill\" data-verdict=\"pass\""));
	assert_non_null(strstr(html, "data-phase=\"restore drill\" data-verdict=\"skip\""));
	assert_null(strstr(html, "data-verdict=\"fail\""));
	umount2(mnt, MNT_DETACH);
}

/* The same with no room left for the restore drill's replay of the new primary's log, once
 * the backup was restored (HW_FAULT_DEMO_PAUSE=restore): ERROR (exit 1), its last line
 * naming the replay's scratch beside the new primary's store (WORK/cluster/ID.digest-...,
 * removed) and the room; the restore drill skipped in the report, the verify drill passed.
 * It ended in FAIL, "restore drill: No space left on device". */
static void test_demo_restore_no_room(void **state)
{
	struct fix *f = *state;
	char mnt[HW_PROC_PATH_MAX + 16], work[HW_PROC_PATH_MAX + 128];
	const char *out = demo_no_room(f, "restore", mnt, sizeof mnt, work, sizeof work);
	const char *sum = strstr(out, "\nhawser demo: ERROR ");
	char want[HW_PROC_PATH_MAX + 256], path[HW_PROC_PATH_MAX + 128];
	snprintf(want, sizeof want,
		 ": the restore's compare could not run (ENOSPC): no room for its replay's "
		 "scratch %s/cluster/",
		 work);
	assert_true(sum != NULL && strstr(sum, want) != NULL);
	assert_non_null(strstr(strstr(sum, want), ".digest-"));
	restore_skipped(no_room_said(sum, " (removed): it needs about ", path, sizeof path), mnt);
}

/* The same with no room left for the restore drill's restore itself, after the verify
 * drill (HW_FAULT_DEMO_PAUSE=verified): ERROR (exit 1), its last line naming where the
 * backup was to be restored (WORK/restored, removed), the room the restore needs there
 * (hw_restore_room) and what is free; the restore drill skipped in the report, the
 * verify drill passed. It ended in FAIL, "restore drill: store is full". */
static void test_demo_restore_itself_no_room(void **state)
{
	char mnt[HW_PROC_PATH_MAX + 16];
	restore_skipped(demo_no_room_said(*state, "verified",
					  "ERROR backup: restore could not run (ENOSPC): no room "
					  "for its replay's scratch ",
					  "/restored (removed): it needs about ", mnt, sizeof mnt),
			mnt);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_demo") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_demo_pass, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_sigint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_interrupted_after_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_verify_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_restore_no_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_demo_restore_itself_no_room, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
