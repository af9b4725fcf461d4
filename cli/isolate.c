/* isolate.c: reading a store that may be damaged in a child process (isolate.h). */
#include "cli/isolate.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "hawser_error.h"

int hw_cli_isolated(hw_cli_isolated_cb *cb, void *shared, size_t bytes, int *signo)
{
	*signo = 0;
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	memcpy(m, shared, bytes);
	fflush(NULL); /* else the child's exit would write what is buffered a second time */
	pid_t pid = fork();
	if (pid == 0) {
		cb(m);
		hw_cli_progress_end();
		fflush(NULL);
		_exit(0);
	}
	int rc = pid < 0 ? -errno : 0, status = 0;
	while (rc == 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			rc = -errno;
	if (rc == 0 && WIFSIGNALED(status))
		*signo = WTERMSIG(status);
	else if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		rc = HW_ECANCELED;
	if (rc == 0)
		memcpy(shared, m, bytes); /* what it got to, when it died too */
	munmap(m, bytes);
	return rc;
}

bool hw_cli_killed_by_damage(int signo)
{
	return signo == SIGABRT || signo == SIGSEGV || signo == SIGBUS;
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

int hw_cli_read_isolated(hw_cli_read_cb *cb, void *arg, size_t bytes, int *signo)
{
	struct read_job *j = calloc(1, sizeof(*j) + bytes);
	if (j == NULL)
		return HW_ENOMEM;
	j->cb = cb;
	memcpy(j->arg, arg, bytes);
	int rc = hw_cli_isolated(read_isolated_cb, j, sizeof(*j) + bytes, signo);
	if (rc == 0)
		memcpy(arg, j->arg, bytes); /* what it got to, when it died too */
	if (rc == 0 && *signo != 0)
		rc = hw_cli_killed_by_damage(*signo) ? HW_ECORRUPT : HW_ECANCELED;
	else if (rc == 0)
		rc = j->rc;
	free(j);
	return rc;
}

const char *hw_cli_read_why(const char *dir, int signo, char *buf, size_t cap)
{
	if (signo == 0)
		buf[0] = '\0';
	else if (hw_cli_killed_by_damage(signo))
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

int hw_cli_fail_read(const char *cmd, const char *dir, int rc, int signo)
{
	char why[HW_CLI_WHY_CHARS];
	return hw_cli_fail_why(cmd, dir, rc, hw_cli_read_why(dir, signo, why, sizeof why));
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
			   struct hw_verify_report *report)
{
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
	int signo, rc = hw_cli_isolated(verify_isolated_cb, j, bytes, &signo);
	if (rc == 0 && signo != 0) {
		rc = hw_verify_killed(&j->report, signo);
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
