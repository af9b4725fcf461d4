/* test_kill_ingest.c: `hawser ingest` killed with SIGKILL in the middle of a long run
 * leaves a store that verifies and holds every batch it reported as committed; a
 * restarted ingest of the same records finds them again and goes on. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* Far more records than are ingested before the kill, so the child is always killed
 * mid-run; fixed seed and end time so the restart draws the same records. */
#define INGEST_RECORDS "3000000"
#define END_MS         "1795687200000"
#define KILL_AT_LSN    20000u
/* Bound on "committed lsn=" lines read before giving up: with batches of 1000 the kill
 * point comes after about 20 lines (more if the restart finds duplicates). */
#define TRACE_LINES_MAX 100000u
#define ARGS_MAX        16

struct fix {
	char dir[4096];
	char store[4200];
	char log[4200]; /* the children's stderr, for diagnosis */
	char out[64 * 1024];
};

static const char *hw_bin;

/* Start hawser with args (NULL-terminated); its stdout is a pipe returned in *out_fd
 * (-1: /dev/null), its stderr appended to log. */
static pid_t start(const char *log, int *out_fd, char *const *args)
{
	char *argv[ARGS_MAX + 2] = {(char *)hw_bin};
	for (int i = 0; args[i]; i++) {
		assert_true(i < ARGS_MAX);
		argv[i + 1] = args[i];
	}
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int err = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(p[1], STDOUT_FILENO);
		if (err >= 0)
			dup2(err, STDERR_FILENO);
		close(p[0]);
		execv(hw_bin, argv);
		_exit(127);
	}
	close(p[1]);
	*out_fd = p[0];
	return pid;
}

/* Run hawser to completion; its stdout (up to sizeof(f->out) - 1 bytes) in f->out. */
static int run(struct fix *f, ...)
{
	char *args[ARGS_MAX + 1];
	va_list ap;
	va_start(ap, f);
	int n = 0;
	for (char *a; (a = va_arg(ap, char *)) != NULL;) {
		assert_true(n < ARGS_MAX);
		args[n++] = a;
	}
	args[n] = NULL;
	va_end(ap);
	int fd;
	pid_t pid = start(f->log, &fd, args);
	size_t len = 0;
	ssize_t got;
	while ((got = read(fd, f->out + len, sizeof(f->out) - 1 - len)) > 0)
		len += (size_t)got;
	assert_true(len < sizeof(f->out) - 1); /* bounded: a runaway output fails */
	f->out[len] = '\0';
	close(fd);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Start a long ingest with --trace, read its "committed lsn=" lines until one reaches
 * at_least, then SIGKILL it. Returns the last committed LSN it reported. */
static uint64_t ingest_and_kill(struct fix *f, uint64_t at_least)
{
	char *args[] = {"ingest",   f->store, "--generate", INGEST_RECORDS, "--seed",  "7",
			"--end-ms", END_MS,   "--batch",    "1000",         "--trace", NULL};
	int fd;
	pid_t pid = start(f->log, &fd, args);
	FILE *out = fdopen(fd, "r");
	assert_non_null(out);
	char line[256];
	uint64_t last = 0;
	for (unsigned lines = 0; last < at_least; lines++) {
		assert_true(lines < TRACE_LINES_MAX);
		assert_non_null(fgets(line, sizeof(line), out)); /* EOF: it ended early */
		unsigned long long lsn;
		assert_int_equal(sscanf(line, "committed lsn=%llu", &lsn), 1);
		assert_true(lsn >= last); /* the head never goes back */
		last = lsn;
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	fclose(out);
	/* Killed, not finished: the kill really landed mid-run. */
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	return last;
}

/* `hawser digest` head LSN of the store. */
static uint64_t head_lsn(struct fix *f)
{
	assert_int_equal(run(f, "digest", f->store, NULL), 0);
	const char *p = strstr(f->out, "lsn=");
	assert_non_null(p);
	return strtoull(p + 4, NULL, 10);
}

static int setup(void **state)
{
	static struct fix fx;
	const char *tmp = getenv("HW_TEST_TMP");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	mkdir(tmp, 0700);
	snprintf(fx.dir, sizeof(fx.dir), "%s/kill-ingest-XXXXXX", tmp);
	if (!mkdtemp(fx.dir))
		return -1;
	snprintf(fx.store, sizeof(fx.store), "%s/store", fx.dir);
	snprintf(fx.log, sizeof(fx.log), "%s/stderr.log", fx.dir);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* SIGKILL after at least 20,000 committed LSNs: the store verifies intact and its head
 * is at or past the last LSN the ingest reported committed. */
static void test_kill_mid_ingest(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "init", f->store, NULL), 0);
	uint64_t committed = ingest_and_kill(f, KILL_AT_LSN);
	assert_true(committed >= KILL_AT_LSN);
	assert_int_equal(run(f, "verify", f->store, NULL), 0);
	assert_non_null(strstr(f->out, "intact"));
	assert_true(head_lsn(f) >= committed);
}

/* After a kill, the same ingest restarted finds the records it stored already
 * (idempotent duplicates), continues past them, and the store still verifies after a
 * second kill. */
static void test_restart_after_kill(void **state)
{
	struct fix *f = *state;
	assert_int_equal(run(f, "init", f->store, NULL), 0);
	uint64_t first = ingest_and_kill(f, KILL_AT_LSN);
	uint64_t head = head_lsn(f);
	assert_true(head >= first);
	uint64_t second = ingest_and_kill(f, head + 10000);
	assert_true(second >= head + 10000);
	assert_int_equal(run(f, "verify", f->store, NULL), 0);
	assert_true(head_lsn(f) >= second);
}

int main(void)
{
	hw_bin = getenv("HW_BIN");
	if (!hw_bin || access(hw_bin, X_OK) != 0) {
		fprintf(stderr, "test_kill_ingest: skipped: HW_BIN does not name the hawser"
				" binary (run through ctest)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_mid_ingest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_after_kill, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
