/* test_drill_signals.c: drills asked to stop by a signal (SIGTERM: the timeout of cron or
 * of a systemd unit) while they are in a part that used to run to its end first, run as
 * real processes (HW_BIN): a restore drill hashing its backup's snapshot, a verify drill
 * whose verify runs in a child process the signal reaches only through the drill
 * (forwarded), and a verify drill comparing with another store. Each stops there, removes
 * its scratch, and records ERROR "interrupted by signal 15", exiting 143. The drill is
 * held where the signal must find it by a FIFO (the backup's snapshot file, or the cue of
 * a child held by HW_FAULT_CHILD_HOW=hold, cli/isolate.h), never by a sleep. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/cli_fix.h"
#include "tests/integration/drill_fix.h"

/* How long a stopped drill may take to end: far more than it needs; a drill that does
 * not stop where it is held waits for ever, and is killed at this bound. */
#define STOP_WAIT_MS 30000

static int setup(void **state)
{
	return fix_setup(state, "drill-signals");
}

/* The status of the store in dir shows the last run of kind (padded as status prints
 * it, "restore  ") as an ERROR interrupted by SIGTERM. */
static void assert_interrupted_row(struct fix *f, const char *dir, const char *kind)
{
	char want[64];
	assert_int_equal(hw(&f->r, "status", "--dir", dir, NULL), 0);
	snprintf(want, sizeof(want), "%s last ERROR", kind);
	assert_non_null(strstr(f->r.out, want));
	assert_non_null(strstr(f->r.out, "): interrupted by signal 15;"));
}

/* A restore drill hashing its backup's snapshot (here a FIFO the test writes the real
 * bytes into, held open) stops at SIGTERM there: it does not read the rest first. Sent
 * while the drill waits in its read or hashes what it read, the signal is seen at the
 * next poll; a second write wakes a read it came just before. */
static void test_restore_stopped_hashing(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], snap[4400], real[4400], log[4300], buf[4096];
	backup_with_fifo(f, "snapshot/data.mdb", dir, bak, snap, real, log);
	int in = open(real, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	assert_int_equal(read(in, buf, sizeof(buf)), sizeof(buf));
	close(in);
	const char *restore[] = {"drill", "restore", "--backup", bak, "--dir", dir, NULL};
	struct hw_proc p;
	assert_int_equal(hw_proc_start(&p, log, restore), 0);
	int fd = fifo_open(snap, O_WRONLY); /* the drill opened it to hash it */
	assert_true(fd >= 0);
	assert_int_equal(entries_named(f->dir, "r.restore-"), 1);
	void (*was)(int) = signal(SIGPIPE, SIG_IGN); /* the drill may close its end first */
	assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(hw_proc_signal(&p, SIGTERM), 0);
	(void)!write(fd, buf, sizeof(buf));
	int rc = hw_proc_reap(&p, STOP_WAIT_MS);
	close(fd);
	signal(SIGPIPE, was);
	hw_proc_kill(&p);
	assert_int_equal(rc, 128 + SIGTERM);
	assert_int_equal(entries_named(f->dir, "r.restore-"), 0);
	assert_interrupted_row(f, dir, "restore  ");
}

/* Start `hawser drill verify --dir DIR [--compare B] --report-dir R` with its child number
 * n (0: the verify's; 1: the first compare's) held (HW_FAULT_CHILD_HOW=hold) until the
 * drill is asked to stop, and return once that child holds, its stop signals blocked. */
static void verify_held(struct fix *f, struct hw_proc *p, const char *const *args, const char *n)
{
	char fifo[4300], log[4300];
	path(f, "held", fifo, sizeof(fifo));
	path(f, "drill.log", log, sizeof(log));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(setenv("HW_FAULT_CHILD_AFTER", n, 1), 0);
	assert_int_equal(setenv("HW_FAULT_CHILD_HOW", "hold", 1), 0);
	assert_int_equal(setenv("HW_FAULT_CHILD_FIFO", fifo, 1), 0);
	assert_int_equal(hw_proc_start(p, log, args), 0);
	unsetenv("HW_FAULT_CHILD_AFTER");
	unsetenv("HW_FAULT_CHILD_HOW");
	unsetenv("HW_FAULT_CHILD_FIFO");
	int fd = fifo_open(fifo, O_RDONLY); /* the held child's cue */
	assert_true(fd >= 0);
	close(fd);
}

/* The JSON report in rep (the only one there) into text (cap bytes). */
static void report_read(const char *rep, char *text, size_t cap)
{
	char json[4600] = "";
	DIR *d = opendir(rep);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strstr(e->d_name, ".json"))
			snprintf(json, sizeof(json), "%s/%s", rep, e->d_name);
	closedir(d);
	read_all(json, text, cap);
}

/* SIGTERM to the verify drill's own process (as `kill PID`, or a unit's timeout with
 * KillMode=process), not to the child its verify runs in: the drill passes it on, so the
 * child stops and the drill ends as stopped. Without the forwarding the child never learns
 * of it, and the drill waits for it. Its report says the checks were stopped, not that
 * the store is damaged (it said "fail hash chain HW_ECANCELED", "the chain is broken",
 * "the store is damaged"). */
static void test_verify_child_forwarded(void **state)
{
	struct fix *f = *state;
	char dir[4200], rep[4200];
	static char text[1 << 20];
	make_store(f, "v", "3", "3000");
	path(f, "v", dir, sizeof(dir));
	path(f, "reports", rep, sizeof(rep));
	const char *verify[] = {"drill", "verify", "--dir", dir, "--report-dir", rep, NULL};
	struct hw_proc p;
	verify_held(f, &p, verify, "0");
	assert_int_equal(entries_named(f->dir, "v.verify-"), 1);
	assert_int_equal(hw_proc_signal(&p, SIGTERM), 0);
	int rc = hw_proc_reap(&p, STOP_WAIT_MS);
	hw_proc_kill(&p);
	assert_int_equal(rc, 128 + SIGTERM);
	assert_int_equal(entries_named(f->dir, "v.verify-"), 0);
	assert_interrupted_row(f, dir, "verify   ");
	report_read(rep, text, sizeof(text));
	static const char *const said[] = {
		"\"name\":\"hash chain\",\"verdict\":\"skip\",\"detail\":\"not finished: "
		"stopped, interrupted by signal 15",
		"not reached: stopped, interrupted by signal 15",
		"not judged: stopped, interrupted by signal 15"};
	for (size_t i = 0; i < sizeof said / sizeof said[0]; i++)
		assert_non_null(strstr(text, said[i]));
	static const char *const unsaid[] = {"\"verdict\":\"fail\"", "damaged", "broken"};
	for (size_t i = 0; i < sizeof unsaid / sizeof unsaid[0]; i++)
		assert_null(strstr(text, unsaid[i]));
}

/* A verify drill stopped as it compares with another store (its compare child held until
 * the signal, sent to the drill alone) does not compare to the end: the compare says it
 * did not finish, gives no verdict on the stores, and its scratch is removed. */
static void test_compare_stopped(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200], rep[4200];
	static char text[1 << 20];
	make_store(f, "a", "3", "2000");
	make_store(f, "b", "3", "2000");
	path(f, "a", a, sizeof(a));
	path(f, "b", b, sizeof(b));
	path(f, "reports", rep, sizeof(rep));
	const char *verify[] = {"drill", "verify",       "--dir", a,   "--compare",
				b,       "--report-dir", rep,     NULL};
	struct hw_proc p;
	verify_held(f, &p, verify, "1");
	assert_int_equal(hw_proc_signal(&p, SIGTERM), 0);
	int rc = hw_proc_reap(&p, STOP_WAIT_MS);
	hw_proc_kill(&p);
	assert_int_equal(rc, 128 + SIGTERM);
	report_read(rep, text, sizeof(text));
	assert_non_null(strstr(text, "not finished: interrupted by signal 15"));
	assert_null(strstr(text, "equal at LSN"));
	assert_no_scratch(f);
	assert_interrupted_row(f, a, "verify   ");
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_drill_signals");
	if (hw_bin == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restore_stopped_hashing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_child_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_stopped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
