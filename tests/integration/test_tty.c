/* test_tty.c: what a person sees of a long operation (issue 5): `hawser verify`,
 * `hawser restore` and `hawser backup` on a store of 100,000 records run in a tmux pane
 * of a fixed size, the screen read with capture-pane as a person would watch it, and
 * all the pane is sent recorded with pipe-pane (a short command may draw its progress
 * between two captures). The pane is sent a progress line ("verify 4096/100000 (4%)")
 * that the final result line then replaces on the screen; the same command with its
 * output on pipes prints no progress at all (no \r, no counts). Skipped (exit 77, with
 * the reason) when tmux is not installed (scripts/deps.sh installs it with
 * HW_DEPS_TEST=1). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "tests/integration/proc.h"

/* Progress is drawn every 4,096 entries (replica/verify.c) or pages (replica/backup.c):
 * 100,000 records give about 25 updates of verify and restore and 3 of backup (about
 * 10,600 pages, a fraction of a second: seen in the recording, rarely on a capture). */
#define RECORDS  "100000"
#define END_MS   "1790000000000"
#define RUN_MS   120000 /* bound on one command in the pane (a loaded 2-core machine) */
#define SCREEN_W "150"
#define SCREEN_H "40"
#define END_MARK "hw-exit="

struct fix {
	char root[HW_PROC_PATH_MAX];
	char store[HW_PROC_PATH_MAX + 16], backup[HW_PROC_PATH_MAX + 16];
	char sock[HW_PROC_PATH_MAX + 16];
	struct hw_capture cap, screen;
	bool tmux_up;
};

static char tmux_bin[HW_PROC_PATH_MAX];

/* tmux from $PATH into tmux_bin; false when there is none. */
static bool find_tmux(void)
{
	const char *path = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof dirs, "%s", path != NULL ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(tmux_bin, sizeof tmux_bin, "%s/tmux", d);
		if (access(tmux_bin, X_OK) == 0)
			return true;
	}
	return false;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("tty", f->root, sizeof f->root) != 0)
		return -1;
	snprintf(f->store, sizeof f->store, "%s/store", f->root);
	snprintf(f->backup, sizeof f->backup, "%s/backup", f->root);
	snprintf(f->sock, sizeof f->sock, "%s/tmux.sock", f->root);
	/* the pane's shell command quotes paths in '...' */
	if (strchr(f->root, '\'') != NULL)
		return -1;
	*state = f;
	if (hw_proc_capture(&f->cap, hw_test_bin(), "init", f->store, NULL) != 0 ||
	    hw_proc_capture(&f->cap, hw_test_bin(), "ingest", f->store, "--generate", RECORDS,
			    "--seed", "5", "--end-ms", END_MS, NULL) != 0 ||
	    hw_proc_capture(&f->cap, hw_test_bin(), "backup", f->store, f->backup, NULL) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	if (f->tmux_up)
		hw_proc_capture(&f->cap, tmux_bin, "-S", f->sock, "kill-server", NULL);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* A line of screen (or of what the pane was sent, where lines start after \r) that is
 * the progress of label: "<label> N/M (P%)". */
static bool shows_progress(const char *screen, const char *label)
{
	char want[64];
	snprintf(want, sizeof want, "%s ", label);
	for (const char *at = strstr(screen, want); at != NULL; at = strstr(at + 1, want)) {
		unsigned long long done, total;
		unsigned pct;
		bool line_start = at == screen || at[-1] == '\n' || at[-1] == '\r';
		if (line_start &&
		    sscanf(at + strlen(want), "%llu/%llu (%u%%)", &done, &total, &pct) == 3 &&
		    done <= total && total > 0)
			return true;
	}
	return false;
}

/* Wait, for at most RUN_MS, until the file rec holds END_MARK; f->cap.out gets it. */
static void read_recording(struct fix *f, const char *rec)
{
	for (int64_t end = hw_mono_ms() + RUN_MS; hw_mono_ms() < end;) {
		assert_int_equal(hw_proc_capture(&f->cap, "/bin/cat", rec, NULL), 0);
		if (strstr(f->cap.out, END_MARK) != NULL)
			return;
	}
	fail_msg("the pane's recording %s never showed the end of the command", rec);
}

/* Run command (a shell command line) in a fresh pane and read the screen until it
 * ends, for at most RUN_MS: *saw_progress tells whether the pane was sent label's
 * progress (from a recording of all it was sent: a short command may draw its progress
 * between two captures); f->screen keeps the last screen. */
static void run_in_pane(struct fix *f, const char *command, const char *label, bool *saw_progress)
{
	char line[3 * HW_PROC_PATH_MAX], rec[HW_PROC_PATH_MAX + 32], pipe[HW_PROC_PATH_MAX + 48];
	/* the command waits for an Enter, sent once the recording runs; the pane stays after
	 * it so its last screen can be read */
	snprintf(line, sizeof line, "read go; %s; echo " END_MARK "$?; exec sleep 600", command);
	snprintf(rec, sizeof rec, "%s/%s.pane", f->root, label);
	snprintf(pipe, sizeof pipe, "cat > '%s'", rec);
	assert_int_equal(hw_proc_capture(&f->cap, tmux_bin, "-S", f->sock, "-f", "/dev/null",
					 "new-session", "-d", "-s", label, "-x", SCREEN_W, "-y",
					 SCREEN_H, line, NULL),
			 0);
	f->tmux_up = true;
	assert_int_equal(hw_proc_capture(&f->cap, tmux_bin, "-S", f->sock, "pipe-pane", "-o", "-t",
					 label, pipe, NULL),
			 0);
	assert_int_equal(hw_proc_capture(&f->cap, tmux_bin, "-S", f->sock, "send-keys", "-t", label,
					 "Enter", NULL),
			 0);
	for (int64_t end = hw_mono_ms() + RUN_MS; hw_mono_ms() < end;) {
		/* -J: a line the pane wrapped comes back whole */
		assert_int_equal(hw_proc_capture(&f->screen, tmux_bin, "-S", f->sock,
						 "capture-pane", "-p", "-J", "-t", label, NULL),
				 0);
		if (strstr(f->screen.out, END_MARK) != NULL)
			break;
	}
	read_recording(f, rec);
	*saw_progress = shows_progress(f->cap.out, label);
	if (!*saw_progress || strstr(f->screen.out, END_MARK "0") == NULL)
		fprintf(stderr, "test_tty: last screen of %s:\n%s", label, f->screen.out);
	assert_non_null(strstr(f->screen.out, END_MARK "0"));
	assert_int_equal(hw_proc_capture(&f->cap, tmux_bin, "-S", f->sock, "kill-session", "-t",
					 label, NULL),
			 0);
}

/* The same command on pipes: its result, and no trace of progress on either stream. */
static void assert_quiet(const struct hw_capture *c, const char *label, const char *result)
{
	char counts[64];
	snprintf(counts, sizeof counts, "%s 4096/", label);
	assert_int_equal(c->status, 0);
	assert_non_null(strstr(c->out, result));
	assert_null(strchr(c->out, '\r'));
	assert_null(strchr(c->err, '\r'));
	assert_null(strstr(c->out, counts));
	assert_null(strstr(c->err, counts));
	assert_null(strstr(c->err, "%)"));
}

/* hawser verify on a terminal shows its progress, then the verdict in its place;
 * with its output on pipes it prints the verdict only. */
static void test_verify_progress(void **state)
{
	struct fix *f = *state;
	char cmd[2 * HW_PROC_PATH_MAX];
	bool saw;
	snprintf(cmd, sizeof cmd, "'%s' verify '%s'", hw_test_bin(), f->store);
	run_in_pane(f, cmd, "verify", &saw);
	assert_true(saw);
	assert_non_null(strstr(f->screen.out, "intact: " RECORDS " entries"));
	assert_false(shows_progress(f->screen.out, "verify")); /* erased at the end */

	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "verify", f->store, NULL), 0);
	assert_quiet(&f->cap, "verify", "intact: " RECORDS " entries");
}

/* hawser restore on a terminal shows its progress, then the restored head in its
 * place; with its output on pipes it prints the result only. */
static void test_restore_progress(void **state)
{
	struct fix *f = *state;
	char cmd[3 * HW_PROC_PATH_MAX], to[HW_PROC_PATH_MAX + 16];
	bool saw;
	snprintf(to, sizeof to, "%s/restored-tty", f->root);
	snprintf(cmd, sizeof cmd, "'%s' restore '%s' '%s'", hw_test_bin(), f->backup, to);
	run_in_pane(f, cmd, "restore", &saw);
	assert_true(saw);
	assert_non_null(strstr(f->screen.out, "head lsn " RECORDS));
	assert_false(shows_progress(f->screen.out, "restore"));

	snprintf(to, sizeof to, "%s/restored-pipe", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "restore", f->backup, to, NULL),
			 0);
	assert_quiet(&f->cap, "restore", "head lsn " RECORDS);
}

/* hawser backup on a terminal shows its progress, then what it did in its place; with
 * its output on pipes it prints the result only. */
static void test_backup_progress(void **state)
{
	struct fix *f = *state;
	char cmd[3 * HW_PROC_PATH_MAX], to[HW_PROC_PATH_MAX + 16];
	bool saw;
	snprintf(to, sizeof to, "%s/backup-tty", f->root);
	snprintf(cmd, sizeof cmd, "'%s' backup '%s' '%s'", hw_test_bin(), f->store, to);
	run_in_pane(f, cmd, "backup", &saw);
	assert_true(saw);
	assert_non_null(strstr(f->screen.out, "new snapshot at lsn " RECORDS));
	assert_false(shows_progress(f->screen.out, "backup"));

	snprintf(to, sizeof to, "%s/backup-pipe", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "backup", f->store, to, NULL), 0);
	assert_quiet(&f->cap, "backup", "new snapshot at lsn " RECORDS);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_tty") == NULL)
		return 77;
	if (!find_tmux()) {
		fprintf(stderr, "test_tty: skipped: tmux is not installed (scripts/deps.sh "
				"installs it with HW_DEPS_TEST=1)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_progress),
		cmocka_unit_test(test_restore_progress),
		cmocka_unit_test(test_backup_progress),
	};
	/* one store for both: making it is most of the run */
	return cmocka_run_group_tests(tests, setup, teardown);
}
