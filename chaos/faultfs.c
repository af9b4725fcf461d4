/* faultfs.c: libhawser-faults.so, an LD_PRELOAD shim that makes a running hawser's fsync
 * and write calls on the files under one directory fail with EIO (docs/testing.md "Real
 * processes"). hawser's log (engine/io/wal.c: write, fdatasync, fsync of the directory)
 * and its store (LMDB: pwrite, writev, fdatasync) reach the disk through libc calls that
 * an LD_PRELOAD interposes; io_uring carries only sockets (engine/io/ring.c). No engine
 * code changes, no build flag: the binary under test is the one that ships.
 *
 * Read once, when the library loads (so one process incarnation, as chaos/run sets it):
 *   HW_FAULT_PATH=DIR           only files whose path is DIR or under DIR/; unset or
 *                               empty: the shim passes every call through
 *   HW_FAULT_FSYNC_AFTER=N      fsync and fdatasync under DIR fail after N succeeded
 *   HW_FAULT_WRITE_EIO_AFTER=N  write, pwrite, writev, pwritev under DIR fail after N
 *   HW_FAULT_ARM=signal         the counts start when SIGUSR1 (fsync) or SIGUSR2 (write)
 *                               arrives instead of at load: the harness picks the
 *                               moment (hawser handles neither signal)
 *   HW_FAULT_STALL_MS=N         after SIGWINCH, an epoll_wait (libev's: the event loop's
 *                               thread) first sleeps N ms: the loop stalls (no timer, no
 *                               lease renewal) while the log's flusher and the store's
 *                               writer run on. The stall waits (at most STALL_WAIT_MS)
 *                               for an epoll_wait made while an fsync under DIR is under
 *                               way, so a disk completion is waiting when the loop wakes
 *                               (the simulator's "pause resumed on a disk completion").
 *                               Announced as event=stall_injected, and its end as
 *                               event=stall_ended, each with wall_ms (CLOCK_REALTIME,
 *                               the nodes' own log clock): the history checker bounds
 *                               a primary killed mid-stall by the stall's start
 *   HW_FAULT_SLOW_MS=N          fsync and fdatasync of a file NOT under DIR sleep N ms
 *                               first: a slow disk beside the failing one (the log's,
 *                               when DIR is the store's file), so a flush is still under
 *                               way when the failure is met
 *   HW_FAULT_NO_EXCHANGE=1      renameat2 with RENAME_EXCHANGE fails with EINVAL, on any
 *                               path: a file system that cannot exchange (ZFS before 2.2,
 *                               some network and overlay file systems)
 *   HW_FAULT_RENAME_EXIT_AFTER=N
 *                               after N renames (rename, renameat2) whose source or
 *                               target is DIR or under it (paths as given), the next one
 *                               ends the process instead, before it is made, with
 *                               _exit(RENAME_EXIT_CODE): a crash between two renames
 *   HW_FAULT_RENAME_EIO_AFTER=N after N such renames, the next ones fail with EIO, not
 *                               made, HW_FAULT_RENAME_EIO_TIMES of them in a row (unset:
 *                               every one), then they pass again: a rename refused for a
 *                               while (a network file system's) and made once it is over
 *   HW_FAULT_HOLD_AFTER=N       after N writes under DIR, the next one first waits for
 *   HW_FAULT_HOLD_FIFO=F        the harness: announced (event=hold_injected), it opens
 *                               the FIFO F for reading (the harness's open for writing
 *                               returns then) and waits until the harness closes it (at
 *                               most HOLD_MAX_MS), then is made as it is. What the
 *                               harness does meanwhile (fill the disk) falls between two
 *                               writes of the process, at a point of its choosing, with
 *                               no timing in it
 *   HW_FAULT_HOLD_MATCH=S       the writes HW_FAULT_HOLD_AFTER counts are only those whose
 *                               path under DIR holds S too (".digest-": a node's replay
 *                               scratch beside its data directory, not its own files or
 *                               its log there)
 *   HW_FAULT_WALL_MS=N          CLOCK_REALTIME reads N ms since 1970 (N > 0), on any
 *                               path: a wall clock that stands still, so two runs of a
 *                               command start in the same millisecond; other clocks
 *                               (monotonic, boot time) run as they are
 * A fault that fired keeps failing every later call of its kind under DIR (a disk that
 * went bad stays bad for the incarnation; nothing lost in between is really on disk, so
 * a retried fsync must not be taken for success: STYLE.md 5), a rename's bounded by
 * HW_FAULT_RENAME_EIO_TIMES excepted: a rename refused is not made, so one made later
 * is no false success. Its first failure prints one line to stderr, `hawser-faults:
 * event=fault_injected call=<name> path=<file>`, the line the harness looks for. The countdown is
 * base/fault.h's primitive, under a mutex: the log's flusher and the store's writer are two
 * threads. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/fault.h"

#define PATH_CAP      4096
#define STALL_WAIT_MS 200 /* a stall waits this long at most for an fsync under way */
#define HOLD_MAX_MS   60000 /* a held write waits this long at most for the harness */
/* HW_FAULT_RENAME_EXIT_AFTER's exit code: the harness tells it from a kill or a failure */
#define RENAME_EXIT_CODE 86

enum kind { K_SYNC, K_WRITE, K_N };

static const char *const kind_env[K_N] = {"HW_FAULT_FSYNC_AFTER", "HW_FAULT_WRITE_EIO_AFTER"};
static const int kind_signal[K_N] = {SIGUSR1, SIGUSR2};

static char prefix[PATH_CAP];
static size_t prefix_len; /* 0: the shim is off */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct hw_fault fault[K_N]; /* under mu */
static atomic_bool armed[K_N];     /* the count runs (set at load or by the signal) */
static int stall_ms;               /* HW_FAULT_STALL_MS; 0: no stalls */
static int slow_ms;                /* HW_FAULT_SLOW_MS; 0: syncs outside DIR as they are */
static atomic_llong stall_due_ms;  /* SIGWINCH came then (monotonic ms); 0: none */
static atomic_int syncing;         /* fsync calls under DIR under way */
static struct hw_fault renames;    /* under mu: HW_FAULT_RENAME_EXIT_AFTER's count */
static struct hw_fault rename_eio; /* under mu: HW_FAULT_RENAME_EIO_AFTER's count */
static bool no_exchange;           /* HW_FAULT_NO_EXCHANGE */
static long long frozen_wall_ms;   /* HW_FAULT_WALL_MS; 0: the wall clock as it is */
static struct hw_fault hold;       /* under mu: HW_FAULT_HOLD_AFTER's count */
static char hold_fifo[PATH_CAP];   /* HW_FAULT_HOLD_FIFO; "": no hold */
static char hold_match[PATH_CAP];  /* HW_FAULT_HOLD_MATCH; "": every path under DIR */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off64_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static int (*real_clock_gettime)(clockid_t, struct timespec *);

static long long wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line on stderr, in a single write: event=EVENT call=epoll_wait stall_ms wall_ms. */
static void stall_say(const char *event)
{
	char line[128];
	int n = snprintf(line, sizeof line,
			 "hawser-faults: event=%s call=epoll_wait stall_ms=%d wall_ms=%lld\n",
			 event, stall_ms, wall_ms());
	if (n > 0 && real_write(STDERR_FILENO, line, (size_t)n) < 0)
		n = 0;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe */
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void arm_cb(int sig)
{
	for (int k = 0; k < K_N; k++)
		if (sig == kind_signal[k])
			atomic_store(&armed[k], true);
	if (sig == SIGWINCH)
		atomic_store(&stall_due_ms, now_ms());
}

static void on_signal(int sig)
{
	struct sigaction sa = {.sa_handler = arm_cb, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* dlsym's answer as the pointer type p has (POSIX: a function pointer fits a void *). */
#define RESOLVE(p, name) memcpy(&(p), &(void *){dlsym(RTLD_NEXT, name)}, sizeof(p))

static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void resolve(void)
{
	RESOLVE(real_write, "write");
	RESOLVE(real_pwrite, "pwrite");
	RESOLVE(real_pwrite64, "pwrite64");
	RESOLVE(real_writev, "writev");
	RESOLVE(real_pwritev, "pwritev");
	RESOLVE(real_pwritev64, "pwritev64");
	RESOLVE(real_pwritev2, "pwritev2");
	RESOLVE(real_fsync, "fsync");
	RESOLVE(real_fdatasync, "fdatasync");
	RESOLVE(real_epoll_wait, "epoll_wait");
	RESOLVE(real_rename, "rename");
	RESOLVE(real_renameat2, "renameat2");
	RESOLVE(real_clock_gettime, "clock_gettime");
}

__attribute__((constructor)) static void faultfs_init(void)
{
	pthread_once(&resolved, resolve);
	const char *stall = getenv("HW_FAULT_STALL_MS");
	stall_ms = stall != NULL ? atoi(stall) : 0;
	if (stall_ms > 0)
		on_signal(SIGWINCH);
	const char *slow = getenv("HW_FAULT_SLOW_MS");
	slow_ms = slow != NULL ? atoi(slow) : 0;
	const char *exchange = getenv("HW_FAULT_NO_EXCHANGE");
	no_exchange = exchange != NULL && strcmp(exchange, "1") == 0;
	const char *wall = getenv("HW_FAULT_WALL_MS");
	frozen_wall_ms = wall != NULL ? atoll(wall) : 0;
	hw_fault_init(&renames);
	hw_fault_init(&rename_eio);
	hw_fault_init(&hold);
	const char *dir = getenv("HW_FAULT_PATH");
	if (dir == NULL || *dir == '\0' || strlen(dir) >= sizeof prefix)
		return;
	strcpy(prefix, dir);
	prefix_len = strlen(dir);
	while (prefix_len > 1 && prefix[prefix_len - 1] == '/')
		prefix[--prefix_len] = '\0';
	const char *exit_after = getenv("HW_FAULT_RENAME_EXIT_AFTER");
	if (exit_after != NULL && *exit_after != '\0')
		hw_fault_arm(&renames, atoi(exit_after), -1);
	const char *eio_after = getenv("HW_FAULT_RENAME_EIO_AFTER");
	const char *eio_times = getenv("HW_FAULT_RENAME_EIO_TIMES");
	if (eio_after != NULL && *eio_after != '\0')
		hw_fault_arm(&rename_eio, atoi(eio_after),
			     eio_times != NULL && *eio_times != '\0' ? atoi(eio_times) : -1);
	const char *hold_after = getenv("HW_FAULT_HOLD_AFTER");
	const char *fifo = getenv("HW_FAULT_HOLD_FIFO");
	if (hold_after != NULL && *hold_after != '\0' && fifo != NULL &&
	    strlen(fifo) < sizeof hold_fifo) {
		strcpy(hold_fifo, fifo);
		hw_fault_arm(&hold, atoi(hold_after), 1);
	}
	const char *match = getenv("HW_FAULT_HOLD_MATCH");
	if (match != NULL && strlen(match) < sizeof hold_match)
		strcpy(hold_match, match);
	const char *arm = getenv("HW_FAULT_ARM");
	bool by_signal = arm != NULL && strcmp(arm, "signal") == 0;
	for (int k = 0; k < K_N; k++) {
		hw_fault_init(&fault[k]);
		const char *v = getenv(kind_env[k]);
		if (v == NULL || *v == '\0')
			continue;
		hw_fault_arm(&fault[k], atoi(v), -1);
		if (by_signal)
			on_signal(kind_signal[k]);
		else
			atomic_store(&armed[k], true);
	}
}

/* path is DIR or under it. */
static bool in_dir(const char *path)
{
	return prefix_len > 0 && strncmp(path, prefix, prefix_len) == 0 &&
	       (path[prefix_len] == '/' || path[prefix_len] == '\0');
}

/* fd's file is DIR or under it; path gets its name. */
static bool under(int fd, char *path, size_t cap)
{
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, cap - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	return in_dir(path);
}

/* This call of kind k on fd must fail: counted, and announced the first time. Every
 * wrapper asks first, so the real functions are resolved before their first use even
 * when another library's constructor writes before ours ran. */
static bool fails(enum kind k, int fd, const char *call)
{
	char path[PATH_CAP];
	pthread_once(&resolved, resolve);
	if (prefix_len == 0 || !atomic_load(&armed[k]) || !under(fd, path, sizeof path))
		return false;
	pthread_mutex_lock(&mu);
	bool fail = hw_fault_tick(&fault[k]);
	bool first = fail && fault[k].fired == 1;
	pthread_mutex_unlock(&mu);
	if (first) {
		char line[PATH_CAP + 128];
		int n = snprintf(line, sizeof line,
				 "hawser-faults: event=fault_injected call=%s path=%s error=EIO\n",
				 call, path);
		if (n > 0 && real_write(STDERR_FILENO, line, (size_t)n) < 0)
			n = 0; /* stderr gone: the failure itself still happens */
	}
	if (fail)
		errno = EIO;
	return fail;
}

/* HW_FAULT_HOLD_AFTER: the write of call on fd, under DIR, counted; past the count the
 * one write that is due waits here for the harness (HW_FAULT_HOLD_FIFO). */
static void hold_at(int fd, const char *call)
{
	char path[PATH_CAP];
	if (hold_fifo[0] == '\0' || !under(fd, path, sizeof path) ||
	    (hold_match[0] != '\0' && strstr(path, hold_match) == NULL))
		return;
	pthread_mutex_lock(&mu);
	bool now = hw_fault_tick(&hold);
	pthread_mutex_unlock(&mu);
	if (!now)
		return;
	char line[PATH_CAP + 128];
	int n = snprintf(line, sizeof line, "hawser-faults: event=hold_injected call=%s path=%s\n",
			 call, path);
	if (n > 0 && real_write(STDERR_FILENO, line, (size_t)n) < 0)
		n = 0;
	/* not blocking: a harness that never comes costs HOLD_MAX_MS, not the process */
	struct pollfd p = {.fd = open(hold_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC),
			   .events = POLLIN};
	char byte[64];
	while (p.fd >= 0 && !(p.revents & POLLHUP) &&
	       ((n = poll(&p, 1, HOLD_MAX_MS)) > 0 || (n < 0 && errno == EINTR)))
		if (p.revents & POLLIN)
			(void)!read(p.fd, byte, sizeof byte); /* what it wrote means nothing */
	if (p.fd >= 0)
		close(p.fd);
}

/* A write of call on fd: held first when it is due (hold_at), then failed when it must. */
static bool write_fails(int fd, const char *call)
{
	pthread_once(&resolved, resolve);
	hold_at(fd, call);
	return fails(K_WRITE, fd, call);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	return write_fails(fd, "write") ? -1 : real_write(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return write_fails(fd, "pwrite") ? -1 : real_pwrite(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	return write_fails(fd, "pwrite64") ? -1 : real_pwrite64(fd, buf, len, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	return write_fails(fd, "writev") ? -1 : real_writev(fd, iov, n);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	return write_fails(fd, "pwritev") ? -1 : real_pwritev(fd, iov, n, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t off)
{
	return write_fails(fd, "pwritev64") ? -1 : real_pwritev64(fd, iov, n, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	return write_fails(fd, "pwritev2") ? -1 : real_pwritev2(fd, iov, n, off, flags);
}

/* A sync under DIR, counted in syncing while it runs when a stall may wait for one; one
 * outside it, slowed by slow_ms. */
static int sync_counted(int fd, int (*call)(int))
{
	char path[PATH_CAP];
	bool in = (stall_ms > 0 || slow_ms > 0) && prefix_len > 0 && under(fd, path, sizeof path);
	bool counted = stall_ms > 0 && in;
	if (slow_ms > 0 && prefix_len > 0 && !in)
		sleep_ms(slow_ms);
	if (counted)
		atomic_fetch_add(&syncing, 1);
	int rc = call(fd);
	if (counted)
		atomic_fetch_sub(&syncing, 1);
	return rc;
}

int fsync(int fd)
{
	return fails(K_SYNC, fd, "fsync") ? -1 : sync_counted(fd, real_fsync);
}

int fdatasync(int fd)
{
	return fails(K_SYNC, fd, "fdatasync") ? -1 : sync_counted(fd, real_fdatasync);
}

int epoll_wait(int fd, struct epoll_event *ev, int max, int timeout_ms)
{
	pthread_once(&resolved, resolve);
	long long due = stall_ms > 0 ? atomic_load(&stall_due_ms) : 0;
	bool now = due > 0 && (prefix_len == 0 || atomic_load(&syncing) > 0 ||
			       now_ms() - due >= STALL_WAIT_MS);
	if (now && atomic_compare_exchange_strong(&stall_due_ms, &due, 0)) {
		stall_say("stall_injected");
		sleep_ms(stall_ms);
		stall_say("stall_ended");
	}
	return real_epoll_wait(fd, ev, max, timeout_ms);
}

/* A rename from or to DIR, counted: past HW_FAULT_RENAME_EXIT_AFTER the process ends here,
 * announced, before the rename is made; past HW_FAULT_RENAME_EIO_AFTER it fails (true,
 * errno EIO; the first announced), not made. */
static bool rename_fails(const char *from, const char *to)
{
	pthread_once(&resolved, resolve);
	if (!in_dir(from) && !in_dir(to))
		return false;
	pthread_mutex_lock(&mu);
	bool crash = hw_fault_tick(&renames);
	bool fail = !crash && hw_fault_tick(&rename_eio);
	bool first = fail && rename_eio.fired == 1;
	pthread_mutex_unlock(&mu);
	if (!crash && !fail)
		return false;
	if (crash || first) {
		char line[2 * PATH_CAP + 128];
		int n = snprintf(line, sizeof line,
				 "hawser-faults: event=fault_injected call=rename path=%s to=%s "
				 "error=%s\n",
				 from, to, crash ? "exit" : "EIO");
		if (n > 0 && real_write(STDERR_FILENO, line, (size_t)n) < 0)
			n = 0;
	}
	if (crash)
		_exit(RENAME_EXIT_CODE);
	errno = EIO;
	return true;
}

int rename(const char *from, const char *to)
{
	return rename_fails(from, to) ? -1 : real_rename(from, to);
}

int renameat2(int from_fd, const char *from, int to_fd, const char *to, unsigned int flags)
{
	pthread_once(&resolved, resolve);
	if (no_exchange && (flags & RENAME_EXCHANGE) != 0) {
		errno = EINVAL;
		return -1;
	}
	return rename_fails(from, to) ? -1 : real_renameat2(from_fd, from, to_fd, to, flags);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	pthread_once(&resolved, resolve);
	if (id != CLOCK_REALTIME || frozen_wall_ms <= 0)
		return real_clock_gettime(id, ts);
	ts->tv_sec = (time_t)(frozen_wall_ms / 1000);
	ts->tv_nsec = (long)(frozen_wall_ms % 1000) * 1000000L;
	return 0;
}
