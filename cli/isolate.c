/* isolate.c: reading a store that may be damaged in a child process (isolate.h). */
#include "cli/isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/fault.h"
#include "cli/cli.h"
#include "hawser_error.h"
#include "replica/store.h"

/* The memory a child of hw_cli_isolated() shares with its parent: whose assertion it
 * died on and its words, then the caller's bytes. */
struct shared_map {
	enum hw_cli_who who;
	char words[HW_CLI_WORDS_CHARS];
	max_align_t bytes[]; /* aligned for any caller's */
};

static struct shared_map *last_words; /* in a child: where its last words go */

/* In a child: an assertion's line goes to the parent instead of stderr (isolate.h). */
static _Noreturn void died_on(enum hw_cli_who who, const char *prefix, const char *line)
{
	last_words->who = who;
	snprintf(last_words->words, sizeof last_words->words, "%s%s", prefix, line);
	abort();
}

static void lmdb_asserted(const char *line)
{
	died_on(HW_CLI_WHO_LMDB, "LMDB: ", line);
}

static void hawser_asserted(const char *line)
{
	died_on(HW_CLI_WHO_HAWSER, "", line);
}

/* child_fault's answer for HW_FAULT_CHILD_HOW=hold: no signal, the child waits. */
#define FAULT_HOLD (-1)

/* HW_FAULT_CHILD_AFTER, HW_FAULT_CHILD_HOW (isolate.h), counted in the parent: how the
 * child about to start must end, SIGABRT (an HW_ASSERT) or SIGKILL, or FAULT_HOLD; 0: as
 * it will. */
static int child_fault(void)
{
	static struct hw_fault f;
	static bool armed;
	if (!armed) {
		armed = true;
		hw_fault_init(&f);
		const char *after = getenv("HW_FAULT_CHILD_AFTER");
		uint64_t n;
		if (after && hw_cli_u64(after, &n) == 0 && n <= INT_MAX)
			hw_fault_arm(&f, (int)n, 1);
	}
	if (!hw_fault_tick(&f))
		return 0;
	const char *how = getenv("HW_FAULT_CHILD_HOW");
	if (how && strcmp(how, "hold") == 0)
		return FAULT_HOLD;
	return how && strcmp(how, "kill") == 0 ? SIGKILL : SIGABRT;
}

/* The longest a held child waits (a test that fails leaves none behind for long). */
#define HOLD_MAX_S 60

/* HW_FAULT_CHILD_HOW=hold, in the child: with the signals that ask a command to stop
 * blocked, open HW_FAULT_CHILD_FIFO for writing and close it (a test waiting in its open
 * for reading knows the child holds), then wait for one of them, at most HOLD_MAX_S, and
 * set the flag (hw_cli_interrupted) as the handler would: one sent before the wait stays
 * pending until it, so none is lost. Then the child's work starts, and stops at its
 * first poll of the flag. */
static void child_hold(void)
{
	static const int stops[] = {SIGINT, SIGTERM, SIGHUP};
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaddset(&set, stops[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	const char *fifo = getenv("HW_FAULT_CHILD_FIFO");
	int fd = fifo ? open(fifo, O_WRONLY | O_CLOEXEC) : -1;
	if (fd >= 0)
		close(fd);
	struct timespec limit = {.tv_sec = HOLD_MAX_S};
	int sig = -1;
	while (!*hw_cli_interrupted() && sig < 0 &&
	       ((sig = sigtimedwait(&set, NULL, &limit)) >= 0 || errno == EINTR))
		;
	if (sig > 0)
		*hw_cli_interrupted() = sig; /* taken here, not by the handler: as it would */
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static _Noreturn void child_run(struct shared_map *m, hw_cli_isolated_cb *cb, int fault)
{
	last_words = m;
	hw_assert_handle(hawser_asserted);
	hw_store_assert_handle(lmdb_asserted);
	if (fault == SIGKILL)
		raise(SIGKILL);
	if (fault == FAULT_HOLD)
		child_hold();
	HW_ASSERT((fault == 0 || fault == FAULT_HOLD) && "HW_FAULT_CHILD_AFTER");
	cb(m->bytes);
	hw_cli_progress_end();
	fflush(NULL);
	_exit(0);
}

int hw_cli_isolated(hw_cli_isolated_cb *cb, void *shared, size_t bytes, struct hw_cli_end *end)
{
	memset(end, 0, sizeof(*end));
	size_t size = sizeof(struct shared_map) + bytes;
	struct shared_map *m =
		mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	memcpy(m->bytes, shared, bytes);
	int fault = child_fault();
	fflush(NULL); /* else the child's exit would write what is buffered a second time */
	int asked = (int)*hw_cli_interrupted(); /* before: the child inherits the flag */
	pid_t pid = fork();
	if (pid == 0)
		child_run(m, cb, fault);
	int rc = pid < 0 ? -errno : 0, status = 0;
	if (pid > 0) {
		/* asked to stop from now on: the handler asks the child too; asked since the
		 * fork, before the handler knew the child: here */
		hw_cli_signals_forward(pid);
		if (!asked && *hw_cli_interrupted())
			kill(pid, (int)*hw_cli_interrupted());
	}
	siginfo_t si; /* its end, waited for, not reaped: a pid forwarded to stays its own */
	while (rc == 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
		if (errno != EINTR)
			rc = -errno;
	hw_cli_signals_forward(0);
	while (rc == 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			rc = -errno;
	if (rc == 0 && WIFSIGNALED(status)) {
		end->signo = WTERMSIG(status);
		end->who = m->who;
		memcpy(end->words, m->words, sizeof(end->words));
		end->words[sizeof(end->words) - 1] = '\0';
	} else if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		rc = HW_ECANCELED;
	}
	if (rc == 0)
		memcpy(shared, m->bytes, bytes); /* what it got to, when it died too */
	munmap(m, size);
	return rc;
}

int hw_cli_end_code(const struct hw_cli_end *end)
{
	if (end->signo == 0)
		return 0;
	if (end->who == HW_CLI_WHO_HAWSER)
		return HW_EINTERNAL;
	bool damage = end->signo == SIGABRT || end->signo == SIGSEGV || end->signo == SIGBUS;
	return damage ? HW_ECORRUPT : HW_ECANCELED;
}

void hw_cli_end_detail(const struct hw_cli_end *end)
{
	if (end->words[0])
		fprintf(stderr, "  detail: %s\n", end->words);
}

/* One hw_cli_read_isolated() call, shared with the child: then the bytes of its arg. */
struct read_job {
	hw_cli_read_cb *cb;
	int rc;
	max_align_t arg[]; /* aligned for any arg */
};

static void read_isolated_cb(void *shared)
{
	struct read_job *j = shared;
	j->rc = j->cb(j->arg);
}

int hw_cli_read_isolated(hw_cli_read_cb *cb, void *arg, size_t bytes, struct hw_cli_end *end)
{
	memset(end, 0, sizeof(*end)); /* also when no child runs */
	struct read_job *j = calloc(1, sizeof(*j) + bytes);
	if (j == NULL)
		return HW_ENOMEM;
	j->cb = cb;
	memcpy(j->arg, arg, bytes);
	int rc = hw_cli_isolated(read_isolated_cb, j, sizeof(*j) + bytes, end);
	if (rc == 0)
		memcpy(arg, j->arg, bytes); /* what it got to, when it died too */
	if (rc == 0)
		rc = end->signo != 0 ? hw_cli_end_code(end) : j->rc;
	free(j);
	return rc;
}

const char *hw_cli_read_why(const char *dir, const struct hw_cli_end *end, char *buf, size_t cap)
{
	int code = hw_cli_end_code(end), signo = end->signo;
	if (code == 0)
		buf[0] = '\0';
	else if (code == HW_EINTERNAL)
		snprintf(buf, cap,
			 "hawser stopped reading the store at %s on a failed check of its own, not "
			 "on damage: please report it with the detail line",
			 dir);
	else if (code == HW_ECORRUPT)
		snprintf(buf, cap,
			 "the store at %s is damaged (LMDB stopped on %s while reading it): run "
			 "`hawser verify %s`",
			 dir,
			 signo == SIGABRT   ? "SIGABRT"
			 : signo == SIGSEGV ? "SIGSEGV"
					    : "SIGBUS",
			 dir);
	else
		snprintf(buf, cap, "the process reading the store at %s was killed by signal %d",
			 dir, signo);
	return buf;
}

int hw_cli_fail_read(const char *cmd, const char *dir, int rc, const struct hw_cli_end *end)
{
	char why[HW_CLI_WHY_CHARS];
	rc = hw_cli_fail_why(cmd, dir, rc, hw_cli_read_why(dir, end, why, sizeof why));
	hw_cli_end_detail(end);
	return rc;
}

/* One hw_verify_trusted() run, shared with the child; then, at ARG_OFFSET, arg_bytes
 * of its callback's arg, copied. */
struct verify_job {
	const char *dir, *scratch;
	struct hw_verify_trust t;
	hw_progress_cb *cb;
	void *arg;        /* passed as is when arg_bytes is 0 */
	size_t arg_bytes; /* else the copy at ARG_OFFSET is passed */
	int rc;
	struct hw_verify_report report;
};
#define ARG_OFFSET                                                                                 \
	((sizeof(struct verify_job) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1))

static void verify_isolated_cb(void *shared)
{
	struct verify_job *j = shared;
	void *arg = j->arg_bytes ? (char *)j + ARG_OFFSET : j->arg;
	j->rc = hw_verify_trusted(j->dir, j->scratch, &j->t, j->cb, arg, &j->report);
}

int hw_cli_verify_isolated(const char *dir, const char *scratch, const struct hw_verify_trust *t,
			   hw_progress_cb *cb, void *arg, size_t arg_bytes,
			   struct hw_verify_report *report, struct hw_cli_end *end)
{
	memset(end, 0, sizeof(*end)); /* also when no child runs */
	size_t bytes = ARG_OFFSET + arg_bytes;
	struct verify_job *j = calloc(1, bytes);
	if (j == NULL)
		return HW_ENOMEM;
	*j = (struct verify_job){
		.dir = dir, .scratch = scratch, .cb = cb, .arg = arg, .arg_bytes = arg_bytes};
	if (t != NULL)
		j->t = *t;
	if (arg_bytes)
		memcpy((char *)j + ARG_OFFSET, arg, arg_bytes);
	double t0 = hw_mono_s();
	int rc = hw_cli_isolated(verify_isolated_cb, j, bytes, end);
	if (rc == 0 && hw_cli_end_code(end) == HW_EINTERNAL) {
		rc = HW_EINTERNAL; /* no verdict: what it saw is not to be trusted */
	} else if (rc == 0 && end->signo != 0) {
		rc = hw_verify_killed(&j->report, end->signo);
		j->report.seconds = hw_mono_s() - t0;
	} else if (rc == 0) {
		rc = j->rc;
	}
	*report = j->report;
	if (arg_bytes)
		memcpy(arg, (char *)j + ARG_OFFSET, arg_bytes);
	free(j);
	return rc;
}
