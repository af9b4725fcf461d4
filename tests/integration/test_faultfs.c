/* test_faultfs.c: chaos/faultfs.c, the LD_PRELOAD shim hawser-chaos runs its data nodes
 * under. Each test runs this binary again as a child under the shim with one set of
 * variables; the child writes and fdatasyncs one file inside the fault's directory and
 * one outside it six times (raising a signal before the third round when asked) and
 * prints what each call did: `w`/`s` for a write/sync that succeeded, `W`/`S` for EIO,
 * `?` for any other failure; the renames child exchanges two directories, renames one
 * there and back, and tries the way back once more. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/proc.h"

#define ROUNDS 6

static const char *const vars[] = {"HW_FAULT_PATH",
				   "HW_FAULT_FSYNC_AFTER",
				   "HW_FAULT_WRITE_EIO_AFTER",
				   "HW_FAULT_ARM",
				   "HW_FAULT_STALL_MS",
				   "HW_FAULT_NO_EXCHANGE",
				   "HW_FAULT_RENAME_EXIT_AFTER",
				   "HW_FAULT_RENAME_EIO_AFTER",
				   "HW_FAULT_RENAME_EIO_TIMES"};

struct fix {
	char in[HW_PROC_PATH_MAX];  /* the fault's directory */
	char out[HW_PROC_PATH_MAX]; /* another one */
	struct hw_capture cap;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("faultfs-in", f->in, sizeof f->in) != 0 ||
	    hw_test_mkdtemp("faultfs-out", f->out, sizeof f->out) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_test_rm_rf(f->in);
	hw_test_rm_rf(f->out);
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	free(f);
	return 0;
}

/* ---- the child ------------------------------------------------------------------ */

static char outcome(int rc, char ok, char eio)
{
	return rc == 0 ? ok : errno == EIO ? eio : '?';
}

/* Six rounds of write + fdatasync on fd into seq; sig (0: none) raised before round 2
 * (then an epoll_wait, where a stall happens). */
static void rounds(int fd, int sig, char *seq)
{
	for (int i = 0; i < ROUNDS; i++) {
		if (i == 2 && sig != 0) {
			raise(sig);
			int ep = epoll_create1(EPOLL_CLOEXEC);
			struct epoll_event ev;
			epoll_wait(ep, &ev, 1, 0);
			close(ep);
		}
		*seq++ = outcome(write(fd, "x", 1) == 1 ? 0 : -1, 'w', 'W');
		*seq++ = outcome(fdatasync(fd), 's', 'S');
	}
	*seq = '\0';
}

static int child(const char *in, const char *out, int sig)
{
	char a[HW_PROC_PATH_MAX + 8], b[HW_PROC_PATH_MAX + 8];
	char sa[2 * ROUNDS + 1], sb[2 * ROUNDS + 1];
	snprintf(a, sizeof a, "%s/a", in);
	snprintf(b, sizeof b, "%s/b", out);
	int fa = open(a, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	int fb = open(b, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fa < 0 || fb < 0)
		return 2;
	rounds(fa, sig, sa);
	rounds(fb, 0, sb);
	printf("a=%s b=%s\n", sa, sb);
	return 0;
}

/* What a rename's rc and errno say: ok, EINVAL, EIO or ?. */
static const char *renamed(int rc)
{
	return rc == 0 ? "ok" : errno == EINVAL ? "EINVAL" : errno == EIO ? "EIO" : "?";
}

/* In the fault's directory: exchange two directories, then rename one there and back,
 * and try the way back again; each outcome printed (and flushed: the process may end at
 * the next call) as it comes. */
static int child_renames(const char *in)
{
	char a[HW_PROC_PATH_MAX + 8], b[HW_PROC_PATH_MAX + 8], c[HW_PROC_PATH_MAX + 8];
	snprintf(a, sizeof a, "%s/a", in);
	snprintf(b, sizeof b, "%s/b", in);
	snprintf(c, sizeof c, "%s/c", in);
	if (mkdir(a, 0700) != 0 || mkdir(b, 0700) != 0)
		return 2;
	printf("exchange=%s ", renamed(renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)));
	printf("first=%s ", renamed(rename(a, c)));
	fflush(stdout);
	printf("second=%s ", renamed(rename(c, a)));
	printf("again=%s\n", renamed(rename(c, a)));
	return 0;
}

/* ---- the parent ----------------------------------------------------------------- */

/* Run the child under the shim with the variables set in "NAME=value" pairs; its exit
 * code. */
static int run(struct fix *f, const char *sig, ...)
{
	setenv("LD_PRELOAD", HW_FAULTS_LIB, 1);
	va_list ap;
	va_start(ap, sig);
	for (const char *kv; (kv = va_arg(ap, const char *)) != NULL;) {
		char name[64];
		const char *eq = strchr(kv, '=');
		snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
		setenv(name, strcmp(eq + 1, "DIR") == 0 ? f->in : eq + 1, 1);
	}
	va_end(ap);
	int rc = hw_proc_capture(&f->cap, "/proc/self/exe", "child", f->in, f->out, sig, NULL);
	unsetenv("LD_PRELOAD");
	return rc;
}

/* fsync under the directory fails with EIO from the third on, every time after, and
 * says so once; writes there and everything outside it succeed. */
static void test_fsync_after(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "none", "HW_FAULT_PATH=DIR", "HW_FAULT_FSYNC_AFTER=2", NULL), 0);
	assert_string_equal(f->cap.out, "a=wswswSwSwSwS b=wswswswswsws\n");
	assert_non_null(strstr(f->cap.err, "event=fault_injected call=fdatasync path="));
	assert_null(strstr(strstr(f->cap.err, "fault_injected") + 1, "fault_injected"));
}

/* Armed by signal: the write count starts at SIGUSR2 (before it, more writes than the
 * count pass), then one more write passes and every later one fails. */
static void test_write_after_signal(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "usr2", "HW_FAULT_PATH=DIR", "HW_FAULT_WRITE_EIO_AFTER=1",
			     "HW_FAULT_ARM=signal", NULL),
			 0);
	assert_string_equal(f->cap.out, "a=wswswsWsWsWs b=wswswswswsws\n");
	assert_non_null(strstr(f->cap.err, "event=fault_injected call=write"));
}

/* Armed by signal but never signalled: nothing fails. */
static void test_armed_never_signalled(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "none", "HW_FAULT_PATH=DIR", "HW_FAULT_FSYNC_AFTER=0",
			     "HW_FAULT_WRITE_EIO_AFTER=0", "HW_FAULT_ARM=signal", NULL),
			 0);
	assert_string_equal(f->cap.out, "a=wswswswswsws b=wswswswswsws\n");
	assert_null(strstr(f->cap.err, "fault_injected"));
}

/* Without HW_FAULT_PATH the counts are ignored: the shim passes every call. */
static void test_no_path_passes(void **state)
{
	struct fix *f = *state;
	assert_int_equal(
		run(f, "none", "HW_FAULT_FSYNC_AFTER=0", "HW_FAULT_WRITE_EIO_AFTER=0", NULL), 0);
	assert_string_equal(f->cap.out, "a=wswswswswsws b=wswswswswsws\n");
}

/* SIGWINCH with HW_FAULT_STALL_MS: the next epoll_wait stalls (announced), no call
 * fails. */
static void test_stall(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "winch", "HW_FAULT_STALL_MS=20", NULL), 0);
	assert_string_equal(f->cap.out, "a=wswswswswsws b=wswswswswsws\n");
	assert_non_null(strstr(f->cap.err, "event=stall_injected call=epoll_wait stall_ms=20"));
}

/* A file system that cannot exchange: renameat2 RENAME_EXCHANGE fails with EINVAL; and
 * a crash at the second rename under the directory: the first passes, the process ends
 * (exit code 86, announced) before the second is made. */
static void test_renames(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "renames", "HW_FAULT_PATH=DIR", "HW_FAULT_NO_EXCHANGE=1",
			     "HW_FAULT_RENAME_EXIT_AFTER=1", NULL),
			 86);
	assert_string_equal(f->cap.out, "exchange=EINVAL first=ok ");
	assert_non_null(strstr(f->cap.err, "event=fault_injected call=rename path="));
	char c[HW_PROC_PATH_MAX + 8];
	snprintf(c, sizeof c, "%s/c", f->in);
	assert_int_equal(access(c, F_OK), 0); /* the second was never made */
}

/* A rename refused a while: past the first under the directory the next one fails with
 * EIO (announced) and is not made, and the same rename tried again is made. */
static void test_rename_eio(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "renames", "HW_FAULT_PATH=DIR", "HW_FAULT_NO_EXCHANGE=1",
			     "HW_FAULT_RENAME_EIO_AFTER=1", "HW_FAULT_RENAME_EIO_TIMES=1", NULL),
			 0);
	const char *said = strstr(f->cap.err, "event=fault_injected call=rename path=");
	assert_true(said != NULL && strstr(said, "error=EIO\n") != NULL);
	assert_string_equal(f->cap.out, "exchange=EINVAL first=ok second=EIO again=ok\n");
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "child") == 0 && strcmp(argv[4], "renames") == 0)
		return child_renames(argv[2]);
	if (argc == 5 && strcmp(argv[1], "child") == 0) {
		const char *s = argv[4];
		int sig = strcmp(s, "usr2") == 0 ? SIGUSR2 : strcmp(s, "winch") == 0 ? SIGWINCH : 0;
		return child(argv[2], argv[3], sig);
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fsync_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_after_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_armed_never_signalled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_path_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_eio, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
