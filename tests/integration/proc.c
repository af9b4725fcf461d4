/* proc.c: processes, nodes and loads for the integration tests (tests/integration/proc.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, F_SETPIPE_SZ */
#endif
#include "base/bytes.h"
#include "base/clock.h"
#include "base/cond.h"
#include "base/log.h"
#include "tests/integration/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "bench/cluster.h"
#include "bench/workload.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "engine/client_int.h"
#include "hawser_limits.h"
#include "engine/client_settle.h"
#include "wire.pb-c.h"

/* The child's stderr pipe: large enough that a node never blocks on a log write while
 * the test is busy elsewhere for a while. */
#define PIPE_BYTES           (1 << 20)
#define START_WAIT_MS        10000
#define STATUS_WAIT_MS       5000
#define STATUS_PAUSE_MS      20
#define LOAD_WAIT_MS_DEFAULT 30000

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - hw_mono_ms();
	return left <= 0 ? 0 : (int)left;
}

/* ---- files and ports ---------------------------------------------------------------- */

const char *hw_test_bin(void)
{
	const char *b = getenv("HW_BIN");
	return b != NULL && *b != '\0' && access(b, X_OK) == 0 ? b : NULL;
}

const char *hw_test_bin_or_skip(const char *test)
{
	const char *b = hw_test_bin();
	if (b == NULL)
		fprintf(stderr,
			"%s: skipped: HW_BIN does not name the hawser binary (run through "
			"ctest)\n",
			test);
	return b;
}

int hw_test_mkdtemp(const char *name, char *dir, size_t cap)
{
	const char *tmp = getenv("HW_TEST_TMP");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	mkdir(tmp, 0700);
	int n = snprintf(dir, cap, "%s/%s-XXXXXX", tmp, name);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return mkdtemp(dir) != NULL ? 0 : -errno;
}

int hw_test_rm_rf(const char *dir)
{
	if (dir == NULL || *dir == '\0')
		return 0;
	const char *args[] = {"rm", "-rf", "--", dir, NULL};
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execvp("rm", (char *const *)args);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

static int free_port_once(uint16_t *port)
{
	unsigned short p;
	int rc = hw_cluster_free_ports(1, &p);
	*port = p;
	return rc;
}

/* The kernel may hand the port just released straight back (seen: one node's client and
 * replication ports equal, EADDRINUSE at start): never give out a port this process gave
 * out recently. */
int hw_free_port(uint16_t *port)
{
	static uint16_t given[256];
	static unsigned n_given;
	for (int tries = 0; tries < 64; tries++) {
		int rc = free_port_once(port);
		if (rc != 0)
			return rc;
		bool seen = false;
		for (unsigned i = 0; i < n_given && i < 256 && !seen; i++)
			seen = given[i] == *port;
		if (!seen) {
			given[n_given++ % 256] = *port;
			return 0;
		}
	}
	return -EADDRINUSE;
}

int hw_test_busy_port(char *addr, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	snprintf(addr, cap, "127.0.0.1:%u", ntohs(sa.sin_port));
	return fd;
}

static const char *const fault_vars[] = {"LD_PRELOAD", "HW_FAULT_PATH", "HW_FAULT_FSYNC_AFTER",
					 "HW_FAULT_ARM"};

int hw_test_fault_fsync_env(const char *lib, const char *dir)
{
	const char *values[] = {lib, dir, "0", "signal"};
	for (size_t i = 0; i < sizeof fault_vars / sizeof fault_vars[0]; i++)
		if (setenv(fault_vars[i], values[i], 1) != 0)
			return -errno;
	return 0;
}

static void fifo_alarm(int sig)
{
	(void)sig;
}

int hw_test_fifo_open(const char *path, int flags, unsigned timeout_s)
{
	struct sigaction sa = {.sa_handler = fifo_alarm}, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm(timeout_s);
	int fd = open(path, flags | O_CLOEXEC);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	return fd;
}

void hw_test_fault_env_clear(void)
{
	for (size_t i = 0; i < sizeof fault_vars / sizeof fault_vars[0]; i++)
		unsetenv(fault_vars[i]);
}

bool hw_test_sem_wait(sem_t *s, int ms)
{
	struct timespec at;
	clock_gettime(CLOCK_MONOTONIC, &at);
	at.tv_sec += ms / 1000;
	at.tv_nsec += (ms % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	int rc;
	while ((rc = sem_clockwait(s, CLOCK_MONOTONIC, &at)) != 0 && errno == EINTR)
		;
	return rc == 0;
}

int hw_test_dial(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

bool hw_test_json_u64(const char *json, const char *key, uint64_t *out)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = strstr(json, pat);
	char *end = NULL;
	if (at != NULL)
		*out = strtoull(at + strlen(pat), &end, 10);
	return at != NULL && end != at + strlen(pat);
}

int hw_test_stderr_begin(struct hw_test_stderr *s, const char *path)
{
	s->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s->fd < 0)
		return -errno;
	fflush(stderr);
	s->saved = dup(STDERR_FILENO);
	if (s->saved < 0 || dup2(s->fd, STDERR_FILENO) < 0) {
		int rc = -errno;
		if (s->saved >= 0)
			close(s->saved);
		close(s->fd);
		return rc;
	}
	return 0;
}

int hw_test_stderr_end(struct hw_test_stderr *s, char *text, size_t cap)
{
	fflush(stderr);
	int rc = dup2(s->saved, STDERR_FILENO) < 0 ? -errno : 0;
	close(s->saved);
	ssize_t got = pread(s->fd, text, cap - 1, 0);
	if (got < 0 && rc == 0)
		rc = -errno;
	close(s->fd);
	text[got > 0 ? got : 0] = '\0';
	return rc;
}

long hw_proc_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	long kib = -ENOENT;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

long hw_proc_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return -errno;
	long n = 0;
	for (const struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	return pid == getpid() ? n - 1 : n; /* our own look is not counted */
}

int hw_test_count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

unsigned hw_test_log_lines(const char *path, const char *needle, char *line, size_t cap)
{
	char buf[2048];
	unsigned n = 0;
	FILE *fp = fopen(path, "r");
	while (fp != NULL && fgets(buf, sizeof buf, fp) != NULL) {
		if (strstr(buf, needle) == NULL)
			continue;
		n++;
		snprintf(line, cap, "%s", buf);
	}
	if (fp != NULL)
		fclose(fp);
	return n;
}

/* ---- processes ---------------------------------------------------------------------- */

static pid_t spawn(const char *bin, const char *const *args, int out_fd, int err_fd)
{
	const char *argv[HW_PROC_ARGS_MAX + 2] = {bin};
	for (int i = 0; args[i] != NULL; i++) {
		if (i >= HW_PROC_ARGS_MAX)
			return -E2BIG;
		argv[i + 1] = args[i];
	}
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Only async-signal-safe calls: the test may have other threads. */
		if (out_fd < 0)
			out_fd = open("/dev/null", O_WRONLY);
		dup2(out_fd, STDOUT_FILENO);
		dup2(err_fd, STDERR_FILENO);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* hw_proc_start(), its stdout on the pipe too when out, else on /dev/null. */
static int proc_start(struct hw_proc *p, const char *log_path, const char *const *args, bool out)
{
	*p = (struct hw_proc){.pid = 0, .err_fd = -1, .log_fd = -1};
	const char *bin = hw_test_bin();
	if (bin == NULL)
		return -ENOENT;
	snprintf(p->log_path, sizeof p->log_path, "%s", log_path);
	p->log = calloc(1, HW_PROC_LOG_BYTES_MAX + 1);
	p->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int fds[2];
	if (p->log == NULL || p->log_fd < 0 || pipe2(fds, O_CLOEXEC) != 0)
		return -ENOMEM;
	fcntl(fds[0], F_SETPIPE_SZ, PIPE_BYTES);
	pid_t pid = spawn(bin, args, out ? fds[1] : -1, fds[1]);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return (int)pid;
	}
	p->pid = pid;
	p->err_fd = fds[0];
	return 0;
}

int hw_proc_start(struct hw_proc *p, const char *log_path, const char *const *args)
{
	return proc_start(p, log_path, args, false);
}

int hw_proc_start_out(struct hw_proc *p, const char *log_path, const char *const *args)
{
	return proc_start(p, log_path, args, true);
}

long hw_proc_pump(struct hw_proc *p, int timeout_ms)
{
	if (p->err_fd < 0)
		return -1;
	struct pollfd pfd = {.fd = p->err_fd, .events = POLLIN};
	int n = poll(&pfd, 1, timeout_ms);
	if (n <= 0)
		return 0;
	char buf[65536];
	ssize_t got = read(p->err_fd, buf, sizeof buf);
	if (got < 0)
		return errno == EINTR ? 0 : -1;
	if (got == 0) {
		close(p->err_fd);
		p->err_fd = -1;
		return -1;
	}
	ssize_t w = write(p->log_fd, buf, (size_t)got);
	(void)w;
	size_t take = (size_t)got;
	if (take > HW_PROC_LOG_BYTES_MAX - p->log_len)
		take = HW_PROC_LOG_BYTES_MAX - p->log_len;
	memcpy(p->log + p->log_len, buf, take);
	p->log_len += take;
	p->log[p->log_len] = '\0';
	return got;
}

size_t hw_proc_mark(const struct hw_proc *p)
{
	return p->log_len;
}

/* Search whole lines in log[*scan, log_len); *scan moves past the lines looked at. */
static bool find_line(struct hw_proc *p, size_t *scan, const char *needle, const char *needle2,
		      char *line, size_t cap, size_t *end)
{
	while (*scan < p->log_len) {
		char *start = p->log + *scan;
		char *nl = memchr(start, '\n', p->log_len - *scan);
		if (nl == NULL)
			return false;
		*nl = '\0'; /* briefly, so strstr stays within the line */
		bool hit = strstr(start, needle) != NULL &&
			   (needle2 == NULL || strstr(start, needle2) != NULL);
		if (hit && line != NULL)
			snprintf(line, cap, "%s", start);
		*nl = '\n';
		*scan = (size_t)(nl - p->log) + 1;
		if (hit) {
			*end = *scan;
			return true;
		}
	}
	return false;
}

bool hw_proc_wait_line(struct hw_proc *p, size_t *from, const char *needle, const char *needle2,
		       int timeout_ms, char *line, size_t cap)
{
	int64_t deadline = hw_mono_ms() + timeout_ms;
	size_t scan = *from;
	for (;;) {
		size_t end;
		if (find_line(p, &scan, needle, needle2, line, cap, &end)) {
			*from = end;
			return true;
		}
		if (hw_mono_ms() >= deadline)
			return false;
		if (hw_proc_pump(p, left_ms(deadline)) < 0 &&
		    !find_line(p, &scan, needle, needle2, line, cap, &end))
			return false;
	}
}

void hw_proc_port_lines(struct hw_proc *p, size_t from, unsigned want, int timeout_ms,
			struct hw_port_lines *l)
{
	char event[64], counted[160], line[1024];
	snprintf(event, sizeof event, "event=%s ", l->event);
	snprintf(counted, sizeof counted, "event=%s peer=* port=%s%s%s more=", l->event, l->port,
		 l->reason != NULL ? " reason=" : "", l->reason != NULL ? l->reason : "");
	size_t from_full = from, from_count = from;
	int64_t end = hw_mono_ms() + timeout_ms;
	while (l->full + l->more < want && hw_mono_ms() < end) {
		while (hw_proc_wait_line(p, &from_full, event, l->in_full, 0, NULL, 0))
			l->full++;
		if (hw_proc_wait_line(p, &from_count, counted, NULL, 100, line, sizeof line)) {
			l->counts++;
			l->more += hw_log_field(line, "more", 0);
		}
	}
}

bool hw_proc_flood_counted(struct hw_proc *p, size_t from, unsigned flood, int timeout_ms,
			   struct hw_port_lines *l)
{
	hw_proc_port_lines(p, from, flood, timeout_ms, l);
	fprintf(stderr, "%s port=%s x %u: %u lines in full, %lld counted in %u\n", l->event,
		l->port, flood, l->full, (long long)l->more, l->counts);
	return l->full + l->more == flood && l->counts > 0 &&
	       l->full <= l->counts * HW_FLOOD_LOG_LINES;
}

int hw_proc_signal(struct hw_proc *p, int sig)
{
	if (p->pid <= 0)
		return -ESRCH;
	return kill(p->pid, sig) == 0 ? 0 : -errno;
}

int hw_proc_reap(struct hw_proc *p, int timeout_ms)
{
	if (p->pid <= 0)
		return -1;
	int64_t deadline = hw_mono_ms() + timeout_ms;
	while (p->err_fd >= 0 && hw_mono_ms() < deadline)
		hw_proc_pump(p, left_ms(deadline));
	if (p->err_fd >= 0) {
		kill(p->pid, SIGKILL);
		int64_t last = hw_mono_ms() + 5000;
		while (p->err_fd >= 0 && hw_mono_ms() < last)
			hw_proc_pump(p, left_ms(last));
	}
	int st = 0;
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
	}
	p->pid = 0;
	p->status = st;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int hw_proc_stop(struct hw_proc *p, int timeout_ms)
{
	if (hw_proc_signal(p, SIGTERM) != 0)
		return -1;
	return hw_proc_reap(p, timeout_ms);
}

void hw_proc_kill(struct hw_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		hw_proc_reap(p, 5000);
	}
	if (p->log == NULL) /* never started: its descriptors are not ours to close */
		return;
	if (p->err_fd >= 0)
		close(p->err_fd);
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->err_fd = p->log_fd = -1;
	free(p->log);
	p->log = NULL;
	p->log_len = 0;
}

int hw_proc_run(const char *log_path, char *out, size_t cap, int timeout_ms,
		const char *const *args)
{
	const char *bin = hw_test_bin();
	if (bin == NULL || cap == 0)
		return -ENOENT;
	int err = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int fds[2];
	if (err < 0 || pipe2(fds, O_CLOEXEC) != 0) {
		if (err >= 0)
			close(err);
		return -errno;
	}
	pid_t pid = spawn(bin, args, fds[1], err);
	close(fds[1]);
	close(err);
	if (pid < 0) {
		close(fds[0]);
		return (int)pid;
	}
	size_t len = 0;
	int64_t deadline = hw_mono_ms() + timeout_ms;
	for (;;) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		if (poll(&pfd, 1, left_ms(deadline)) <= 0 && hw_mono_ms() >= deadline) {
			kill(pid, SIGKILL); /* stuck: its exit status says so */
			break;
		}
		char buf[4096];
		ssize_t got = read(fds[0], buf, sizeof buf);
		if (got <= 0 && !(got < 0 && errno == EINTR))
			break;
		size_t take = got > 0 ? (size_t)got : 0;
		if (take > cap - 1 - len)
			take = cap - 1 - len;
		memcpy(out + len, buf, take);
		len += take;
	}
	out[len] = '\0';
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Read both pipes until both reach EOF, into c; false when one outgrows its buffer. */
static bool capture_drain(int out_fd, int err_fd, struct hw_capture *c)
{
	struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
	char *buf[2] = {c->out, c->err};
	size_t *len[2] = {&c->out_len, &c->err_len};
	int open_count = 2;
	bool fits = true;
	while (open_count > 0 && fits) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			size_t room = HW_CAPTURE_BYTES_MAX - *len[i];
			if (room == 0) {
				fits = false;
				break;
			}
			ssize_t n = read(p[i].fd, buf[i] + *len[i], room);
			if (n > 0) {
				*len[i] += (size_t)n;
			} else if (!(n < 0 && errno == EINTR)) {
				p[i].fd = -1; /* EOF: closed by the caller */
				open_count--;
			}
		}
	}
	c->out[c->out_len] = '\0';
	c->err[c->err_len] = '\0';
	return fits;
}

int hw_proc_capture(struct hw_capture *c, const char *bin, ...)
{
	/* One more than spawn() takes, so that too many arguments are its -E2BIG. */
	const char *args[HW_PROC_ARGS_MAX + 2];
	va_list ap;
	va_start(ap, bin);
	int n = 0;
	for (const char *a; n <= HW_PROC_ARGS_MAX && (a = va_arg(ap, const char *)) != NULL;)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	c->out_len = c->err_len = 0;
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) != 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		return -errno;
	}
	pid_t pid = spawn(bin, args, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	bool fits = pid > 0 && capture_drain(out[0], err[0], c);
	close(out[0]);
	close(err[0]);
	if (pid < 0)
		return (int)pid;
	if (!fits)
		kill(pid, SIGKILL);
	int st;
	pid_t got;
	while ((got = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
	}
	if (got != pid)
		return -ECHILD;
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return fits ? c->status : -EFBIG;
}

/* ---- nodes -------------------------------------------------------------------------- */

static int write_config(const struct hw_tnode *n, const struct hw_tnode_opts *o)
{
	FILE *f = fopen(n->ini, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "[cluster]\nid = itest\n");
	if (o->primary && o->standbys != NULL)
		fprintf(f, "standbys = %s\n", o->standbys);
	fprintf(f, "[node]\nid = %s\nrole = %s\ndata_dir = %s\nclient = %s\n", n->id,
		o->primary ? "primary" : "standby", n->dir, n->client);
	if (o->primary)
		fprintf(f, "listen = %s\n[durability]\nmode = %s\n", n->listen,
			o->mode ? o->mode : "durable");
	else
		fprintf(f, "primary = %s\n", o->primary_addr);
	if (o->primary && o->k != 0)
		fprintf(f, "k = %u\n", o->k);
	if (o->waiters_max != 0 || o->peer_timeout_ms != 0)
		fprintf(f, "[limits]\n");
	if (o->waiters_max != 0)
		fprintf(f, "waiters_max = %u\n", o->waiters_max);
	if (o->peer_timeout_ms != 0)
		fprintf(f, "peer_timeout_ms = %d\n", o->peer_timeout_ms);
	/* plaintext, explicit: these tests are about replication, and their clients
	 * (hw_tnode_status, hw_tload) connect with hw_client_connect; the channel is
	 * under test in test_channel_wire.c and every bench/cluster.c cluster */
	fprintf(f, "[security]\ninsecure = true\n");
	return fclose(f) == 0 ? 0 : -EIO;
}

int hw_tnode_init(struct hw_tnode *n, const char *root, const char *id,
		  const struct hw_tnode_opts *o)
{
	*n = (struct hw_tnode){.proc = {.err_fd = -1, .log_fd = -1}};
	snprintf(n->id, sizeof n->id, "%s", id);
	snprintf(n->dir, sizeof n->dir, "%s/%s", root, id);
	snprintf(n->ini, sizeof n->ini, "%s/%s.ini", root, id);
	snprintf(n->log, sizeof n->log, "%s/%s.log", root, id);
	uint16_t port;
	int rc = hw_free_port(&port);
	if (rc != 0)
		return rc;
	snprintf(n->client, sizeof n->client, "127.0.0.1:%u", (unsigned)port);
	if (o->primary) {
		rc = hw_free_port(&port);
		if (rc != 0)
			return rc;
		snprintf(n->listen, sizeof n->listen, "127.0.0.1:%u", (unsigned)port);
	}
	return write_config(n, o);
}

int hw_tnode_start(struct hw_tnode *n, size_t *mark)
{
	const char *args[] = {"node", "--config", n->ini, NULL};
	int rc = hw_proc_start(&n->proc, n->log, args);
	if (rc != 0)
		return rc;
	size_t from = 0;
	if (!hw_proc_wait_line(&n->proc, &from, "event=started", NULL, START_WAIT_MS, NULL, 0))
		return -ETIMEDOUT;
	if (mark != NULL)
		*mark = from;
	return 0;
}

static void take_status(const Hawser__Wire__V1__Status *s, struct hw_tstatus *out)
{
	*out = (struct hw_tstatus){.role = (int)s->role,
				   .last_lsn = s->last_lsn,
				   .durable_lsn = s->durable_lsn,
				   .waiting = s->waiting};
	for (size_t i = 0; i < s->n_peers && i < 4; i++) {
		out->peer_durable[i] = s->peers[i]->durable;
		out->peer_connected[i] = s->peers[i]->connected;
		out->n_peers = i + 1;
	}
}

int hw_tnode_wait_pruned(struct hw_tnode *n, uint64_t lsn, int timeout_ms)
{
	struct hw_store_opts o = {.read_only = true};
	int64_t deadline = hw_mono_ms() + timeout_ms;
	for (;;) {
		struct hw_store *s;
		struct hw_head base = {0};
		int rc = hw_store_open(n->dir, &o, &s);
		if (rc != 0)
			return rc;
		rc = hw_store_base(s, &base);
		hw_store_close(s);
		if (rc != 0 || base.lsn > lsn)
			return rc;
		if (hw_mono_ms() >= deadline)
			return -ETIMEDOUT;
		hw_proc_pump(&n->proc, 50);
	}
}

int hw_tnode_status(const struct hw_tnode *n, struct hw_tstatus *out)
{
	struct hw_client *c;
	int rc = hw_client_connect(n->client, &c);
	if (rc != 0)
		return rc;
	uint8_t *body = NULL;
	size_t len = 0;
	rc = hw_client_status(c, STATUS_WAIT_MS, &body, &len);
	hw_client_close(c);
	if (rc != 0)
		return rc;
	Hawser__Wire__V1__Status *s = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	if (s == NULL)
		return HW_EPROTOCOL;
	take_status(s, out);
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return 0;
}

int hw_tnode_wait_durable(struct hw_tnode *sb, uint64_t lsn, int timeout_ms, uint64_t *seen)
{
	int64_t deadline = hw_mono_ms() + timeout_ms;
	*seen = 0;
	for (;;) {
		struct hw_tstatus st;
		if (hw_tnode_status(sb, &st) == 0) {
			*seen = st.durable_lsn;
			if (st.durable_lsn >= lsn)
				return 0;
		}
		if (hw_mono_ms() >= deadline)
			return -ETIMEDOUT;
		if (hw_proc_pump(&sb->proc, STATUS_PAUSE_MS) < 0)
			return -ESRCH; /* it died: no point waiting */
	}
}

/* ---- load --------------------------------------------------------------------------- */

int hw_load_init(struct hw_load *l)
{
	if (l->window == 0 || l->window > HW_CLIENT_INFLIGHT_MAX)
		return HW_ERANGE; /* a client takes no more in flight (HW_EBUSY) */
	l->end_ms = hw_wall_ms();
	pthread_mutex_init(&l->mu, NULL);
	l->out = calloc(l->count, sizeof *l->out);
	l->expect = calloc(l->count, sizeof *l->expect);
	l->done_rec = calloc(l->count, sizeof *l->done_rec);
	if (l->out == NULL || l->expect == NULL || l->done_rec == NULL)
		return HW_ENOMEM;
	hw_cond_init(&l->cv);
	return 0;
}

struct load_run {
	struct hw_load *l;
	struct hw_client *c;
	uint64_t *slot_id; /* request id in flight in slot i % window, UINT64_MAX: free */
	uint64_t outstanding;
	uint64_t since_sample;
};

/* Count one outcome. Returns 0 or the code that stops the run. */
static int load_outcome_cb(void *arg, const struct hw_outcome *o)
{
	struct load_run *r = arg;
	struct hw_load *l = r->l;
	uint64_t i = o->request_id;
	if (i >= l->count || r->slot_id[i % l->window] != i)
		return HW_EPROTOCOL; /* an outcome nobody asked for */
	r->slot_id[i % l->window] = UINT64_MAX;
	r->outstanding--;
	pthread_mutex_lock(&l->mu);
	l->out[i] = *o;
	l->done_rec[i] = true;
	l->outcomes++;
	if (o->code == 0)
		l->acked++;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (o->code == 0 && l->sample_cb != NULL && ++r->since_sample >= l->sample_every) {
		r->since_sample = 0;
		return l->sample_cb(l, o->lsn, l->sample_arg);
	}
	return 0;
}

static int load_wait_ms(const struct hw_load *l)
{
	return l->wait_ms > 0 ? l->wait_ms : LOAD_WAIT_MS_DEFAULT;
}

/* Submit every record with at most window in flight, then collect the rest. A submit
 * that failed stops the run, but the outcomes of those before it still count: the client
 * holds those that arrived before a lost connection (include/hawser.h). */
static int load_submit_all(struct hw_load *l, struct hw_workload *w, struct load_run *r,
			   uint8_t *buf)
{
	int rc = 0;
	for (uint64_t i = 0; rc == 0 && i < l->count; i++) {
		while (r->slot_id[i % l->window] != UINT64_MAX) {
			struct hw_outcome o;
			rc = hw_client_wait(r->c, load_wait_ms(l), &o);
			rc = rc ? rc : load_outcome_cb(r, &o);
			if (rc != 0)
				return rc; /* a wait's error comes after the outcomes before it */
		}
		struct hw_work_item it;
		rc = hw_workload_next(w, buf, HW_RECORD_BYTES_MAX, &it);
		if (rc == 0)
			rc = hw_client_submit(r->c, i, buf, it.len, l->mode, l->k);
		if (rc != 0)
			break;
		l->expect[i] = it.expect;
		r->slot_id[i % l->window] = i;
		r->outstanding++;
		pthread_mutex_lock(&l->mu);
		l->submitted++;
		pthread_mutex_unlock(&l->mu);
	}
	int settled = hw_client_settle(r->c, load_wait_ms(l), &r->outstanding, load_outcome_cb, r);
	return rc != 0 ? rc : settled;
}

int hw_load_run(struct hw_load *l)
{
	struct hw_workload_opts wo = {.profile = l->profile,
				      .seed = l->seed,
				      .count = l->drawn_over > l->count ? l->drawn_over : l->count,
				      .end_ms = l->end_ms,
				      .lane = l->lane};
	struct hw_workload *w = NULL;
	struct load_run r = {.l = l};
	uint8_t *buf = malloc(HW_RECORD_BYTES_MAX);
	r.slot_id = malloc(l->window * sizeof *r.slot_id);
	int rc = buf != NULL && r.slot_id != NULL ? 0 : HW_ENOMEM;
	for (unsigned i = 0; rc == 0 && i < l->window; i++)
		r.slot_id[i] = UINT64_MAX;
	if (rc == 0)
		rc = hw_workload_new(&wo, &w);
	if (rc == 0)
		rc = hw_client_connect_secure(l->addr, l->sec, &r.c);
	if (rc == 0)
		rc = load_submit_all(l, w, &r, buf);
	hw_client_close(r.c);
	hw_workload_free(w);
	free(r.slot_id);
	free(buf);
	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->finished = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static void *load_thread(void *arg)
{
	hw_load_run(arg);
	return NULL;
}

int hw_load_start(struct hw_load *l)
{
	int rc = pthread_create(&l->thread, NULL, load_thread, l);
	if (rc != 0)
		return -rc;
	l->threaded = true;
	return 0;
}

bool hw_load_wait_acked(struct hw_load *l, uint64_t n, int timeout_ms)
{
	int64_t due_ns = (int64_t)hw_mono_ns() + timeout_ms * 1000000LL;
	pthread_mutex_lock(&l->mu);
	while (l->acked < n && !l->finished && hw_cond_wait_until(&l->cv, &l->mu, due_ns) == 0) {
	}
	bool ok = l->acked >= n;
	pthread_mutex_unlock(&l->mu);
	return ok;
}

bool hw_load_join(struct hw_load *l, int timeout_ms)
{
	if (!l->threaded)
		return true;
	int64_t due_ns = (int64_t)hw_mono_ns() + timeout_ms * 1000000LL;
	pthread_mutex_lock(&l->mu);
	while (!l->finished && hw_cond_wait_until(&l->cv, &l->mu, due_ns) == 0) {
	}
	bool done = l->finished;
	pthread_mutex_unlock(&l->mu);
	if (done) {
		pthread_join(l->thread, NULL);
		l->threaded = false;
	}
	return done;
}

uint64_t hw_load_acked(struct hw_load *l)
{
	pthread_mutex_lock(&l->mu);
	uint64_t a = l->acked;
	pthread_mutex_unlock(&l->mu);
	return a;
}

uint64_t hw_load_acked_max(struct hw_load *l)
{
	uint64_t max = 0;
	pthread_mutex_lock(&l->mu);
	for (uint64_t i = 0; i < l->count; i++)
		if (l->done_rec[i] && l->out[i].code == 0 && l->out[i].lsn > max)
			max = l->out[i].lsn;
	pthread_mutex_unlock(&l->mu);
	return max;
}

void hw_load_free(struct hw_load *l)
{
	if (l->out == NULL)
		return;
	free(l->out);
	free(l->expect);
	free(l->done_rec);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	l->out = NULL;
	l->expect = NULL;
	l->done_rec = NULL;
}

/* ---- stores ------------------------------------------------------------------------- */

static int compare_entries(struct hw_store *a, struct hw_store *b, const struct hw_load *l,
			   char *why, size_t cap)
{
	for (uint64_t i = 0; l != NULL && i < l->count; i++) {
		if (!l->done_rec[i] || l->out[i].code != 0)
			continue;
		uint64_t lsn = l->out[i].lsn;
		uint8_t *ea = NULL, *eb = NULL;
		size_t la = 0, lb = 0;
		int ra = hw_store_read_entry(a, lsn, &ea, &la);
		int rb = hw_store_read_entry(b, lsn, &eb, &lb);
		bool same = ra == 0 && rb == 0 && la == lb && memcmp(ea, eb, la) == 0;
		free(ea);
		free(eb);
		if (!same) {
			snprintf(why, cap, "acked lsn %llu (record %llu): %s / %s, %s",
				 (unsigned long long)lsn, (unsigned long long)i, hw_errname(ra),
				 hw_errname(rb), ra == 0 && rb == 0 ? "bytes differ" : "missing");
			return HW_EDIGEST;
		}
	}
	return 0;
}

static int compare_state(struct hw_store *a, struct hw_store *b, char *why, size_t cap)
{
	struct hw_head ha, hb;
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	int rc = hw_store_head(a, &ha);
	if (rc == 0)
		rc = hw_store_head(b, &hb);
	if (rc == 0)
		rc = hw_store_digest(a, da);
	if (rc == 0)
		rc = hw_store_digest(b, db);
	if (rc != 0) {
		snprintf(why, cap, "head or digest: %s", hw_errname(rc));
		return rc;
	}
	if (ha.lsn != hb.lsn || memcmp(ha.hash, hb.hash, HW_HASH_BYTES) != 0) {
		snprintf(why, cap, "heads differ: lsn %llu / %llu", (unsigned long long)ha.lsn,
			 (unsigned long long)hb.lsn);
		return HW_EDIGEST;
	}
	if (memcmp(da, db, HW_HASH_BYTES) != 0) {
		snprintf(why, cap, "state digests differ at lsn %llu", (unsigned long long)ha.lsn);
		return HW_EDIGEST;
	}
	return 0;
}

int hw_tstore_compare(const char *a, const char *b, const struct hw_load *l, char *why, size_t cap)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *sa = NULL, *sb = NULL;
	snprintf(why, cap, "cannot open %s or %s", a, b);
	int rc = hw_store_open(a, &ro, &sa);
	if (rc == 0)
		rc = hw_store_open(b, &ro, &sb);
	if (rc == 0)
		rc = compare_entries(sa, sb, l, why, cap);
	if (rc == 0)
		rc = compare_state(sa, sb, why, cap);
	hw_store_close(sb);
	hw_store_close(sa);
	return rc;
}

/* Run fn(txn, arg) in a write transaction on the closed store at dir, behind the
 * store's back, and commit it when fn returns 0. fn's code or an LMDB code. */
static int in_write_txn(const char *dir, int (*fn)(MDB_txn *txn, void *arg), void *arg)
{
	MDB_env *env;
	MDB_txn *txn = NULL;
	int rc = mdb_env_create(&env);
	if (rc != 0)
		return rc;
	rc = mdb_env_set_maxdbs(env, 16);
	if (rc == 0)
		rc = mdb_env_open(env, dir, 0, 0600);
	if (rc == 0)
		rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0)
		rc = fn(txn, arg);
	if (rc == 0)
		rc = mdb_txn_commit(txn); /* frees txn either way */
	else if (txn != NULL)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc;
}

static int damage_entry_txn(MDB_txn *txn, void *arg)
{
	uint8_t key[8], e[HW_ENTRY_BYTES_MAX];
	hw_put_be64(key, *(const uint64_t *)arg); /* an LSN key (replica/store_int.h) */
	MDB_val k = {sizeof key, key}, v;
	MDB_dbi log;
	int rc = mdb_dbi_open(txn, "log", 0, &log);
	if (rc == 0)
		rc = mdb_get(txn, log, &k, &v);
	if (rc == 0 && (v.mv_size == 0 || v.mv_size > sizeof e))
		rc = MDB_CORRUPTED;
	if (rc != 0)
		return rc;
	memcpy(e, v.mv_data, v.mv_size);
	e[v.mv_size - 1] ^= 0x01;
	v.mv_data = e;
	return mdb_put(txn, log, &k, &v, 0);
}

int hw_test_damage_entry(const char *dir, uint64_t lsn)
{
	return in_write_txn(dir, damage_entry_txn, &lsn);
}

struct row {
	const char *table, *key, *val;
};

static int put_row_txn(MDB_txn *txn, void *arg)
{
	const struct row *r = arg;
	MDB_val k = {strlen(r->key), (void *)r->key}, v = {strlen(r->val), (void *)r->val};
	MDB_dbi dbi;
	int rc = mdb_dbi_open(txn, r->table, 0, &dbi);
	return rc != 0 ? rc : mdb_put(txn, dbi, &k, &v, 0);
}

int hw_test_put_row(const char *dir, const char *table, const char *key, const char *val)
{
	struct row r = {table, key, val};
	return in_write_txn(dir, put_row_txn, &r);
}

int hw_test_damage_pages(const char *dir, uint64_t first, uint64_t count, bool garbled)
{
	char path[HW_PROC_PATH_MAX + 16];
	uint8_t page[HW_TEST_PAGE_BYTES];
	uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift64: the same garble every run */
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	int fd = open(path, O_WRONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		goto fail;
	uint64_t pages = (uint64_t)st.st_size / HW_TEST_PAGE_BYTES;
	for (uint64_t n = first; n < first + count && n < pages; n++) {
		for (size_t i = 0; i < sizeof page; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			page[i] = garbled ? (uint8_t)x : 0;
		}
		if (pwrite(fd, page, sizeof page, (off_t)(n * sizeof page)) != (ssize_t)sizeof page)
			goto fail;
	}
	return close(fd) == 0 ? 0 : -errno;
fail:;
	int rc = -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

/* LMDB's page header (lmdb 0.9 MDB_page): pgno (8 bytes), pad, flags, lower, upper (2 each,
 * host order); lower is where the key pointers end, so the keys are (lower - 16) / 2. */
#define MDB_HEAD_BYTES  16u
#define MDB_FLAGS_AT    10u
#define MDB_LOWER_AT    12u
#define MDB_PAGE_BRANCH 0x01u /* P_BRANCH, and no other flag */

int hw_test_damage_branches(const char *dir)
{
	char path[HW_PROC_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	int fd = open(path, O_RDWR), changed = 0;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0)
		goto fail;
	for (uint64_t n = 2; n < (uint64_t)st.st_size / HW_TEST_PAGE_BYTES; n++) {
		uint8_t head[MDB_HEAD_BYTES];
		off_t at = (off_t)(n * HW_TEST_PAGE_BYTES);
		if (pread(fd, head, sizeof head, at) != (ssize_t)sizeof head)
			goto fail;
		uint64_t pgno;
		uint16_t flags, lower = MDB_HEAD_BYTES + 2; /* one key */
		memcpy(&pgno, head, sizeof pgno);
		memcpy(&flags, head + MDB_FLAGS_AT, sizeof flags);
		if (pgno != n || flags != MDB_PAGE_BRANCH) /* another page, or an overflow's */
			continue;
		if (pwrite(fd, &lower, sizeof lower, at + MDB_LOWER_AT) != (ssize_t)sizeof lower)
			goto fail;
		changed++;
	}
	return close(fd) == 0 ? changed : -errno;
fail:;
	int rc = -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

const char *hw_said(const char *text, const char *phrase)
{
	for (const char *t = text; *t != '\0'; t++) {
		const char *a = t, *p = phrase;
		for (; *p != '\0'; p++) {
			if (*p == ' ' && *a == '\n')
				for (a++; *a == ' ';)
					a++;
			else if (*a++ != *p)
				break;
		}
		if (*p == '\0')
			return t;
	}
	return NULL;
}
