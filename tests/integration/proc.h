/* proc.h: what the integration tests that run real hawser processes share: spawn the
 * hawser binary ($HW_BIN) with its stderr on a pipe, wait with a deadline for a log line
 * (tests synchronise on events the node reports, never by waiting blind), stop, kill and reap;
 * free loopback ports and scratch directories; a node's config and status; and a load
 * that submits generated records through the client library and keeps every outcome.
 *
 * Everything here runs on the test's thread, except a load started with
 * hw_load_start(), which runs on its own thread and publishes its progress under its
 * mutex. Functions return 0 or a negative code unless they say otherwise; none asserts,
 * so a fixture's teardown can call them after a failed test. */
#ifndef HW_TESTS_PROC_H
#define HW_TESTS_PROC_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hawser.h"

#define HW_PROC_ARGS_MAX 24
#define HW_PROC_PATH_MAX 512
/* A node logs a line per event, not per record: a few MB is far more than any test's
 * run; past it the log is cut (the file copy keeps all). */
#define HW_PROC_LOG_BYTES_MAX (8u * 1024u * 1024u)

/* ---- processes -------------------------------------------------------------------- */

struct hw_proc {
	pid_t pid;  /* > 0 while the child is not reaped */
	int err_fd; /* read end of its stderr pipe; -1 after EOF */
	int status; /* waitpid() status once reaped */
	int log_fd; /* every byte read is appended to log_path, for diagnosis */
	char log_path[HW_PROC_PATH_MAX];
	char *log; /* everything read so far, NUL-terminated */
	size_t log_len;
};

/* The hawser binary ($HW_BIN), or NULL when it is not set or not executable (the test
 * then exits 77: skipped). */
const char *hw_test_bin(void);

/* hw_test_bin(), or NULL after saying on stderr that test is skipped and why: the
 * test's main then exits 77. */
const char *hw_test_bin_or_skip(const char *test);

/* Make a fresh directory $HW_TEST_TMP/<name>-XXXXXX (/tmp when unset) into dir. */
int hw_test_mkdtemp(const char *name, char *dir, size_t cap);

/* Remove dir and everything under it. NULL or "" is a no-op. */
int hw_test_rm_rf(const char *dir);

/* Flip the last byte of the log entry at lsn in the closed store at dir, behind the
 * store's back (a disk that returned other bytes): its hash no longer matches. 0, or an
 * LMDB code (MDB_NOTFOUND when there is no such entry). */
int hw_test_damage_entry(const char *dir, uint64_t lsn);

/* Put the row key -> val (the strings' bytes, without their NULs) into table of the
 * closed store at dir, behind the store's back: a state table (replica/store.h) the
 * store's own records never made so, as on a node that applied a record otherwise. 0,
 * or an LMDB code (MDB_NOTFOUND when there is no such table). */
int hw_test_put_row(const char *dir, const char *table, const char *key, const char *val);

/* Overwrite count pages (HW_TEST_PAGE_BYTES each) of dir's data.mdb from page first,
 * behind LMDB's back: with zeros (a disk that lost them) or, garbled, with bytes of a
 * fixed pseudo-random sequence (ransomware that encrypted part of the file). Pages past
 * the end of the file are not added. 0 or -errno. */
#define HW_TEST_PAGE_BYTES 4096u
int hw_test_damage_pages(const char *dir, uint64_t first, uint64_t count, bool garbled);

/* Make every branch page of dir's data.mdb claim a single key, behind LMDB's back. LMDB
 * asserts that a branch page it descends through holds two or more (an assertion in mdb.c
 * that aborts the process), so any lookup in a table deeper than one page dies, where
 * zeroed or garbled pages give a lookup MDB_CORRUPTED and abort only a walk. Returns how
 * many pages it changed, or -errno. */
int hw_test_damage_branches(const char *dir);

/* A TCP port on 127.0.0.1 that nothing uses now, below the kernel's ephemeral range
 * (hw_cluster_free_ports: a port from that range can become some connection's source
 * port while its node is down, and the node's restart then fails with EADDRINUSE). */
int hw_free_port(uint16_t *port);

/* A TCP port on 127.0.0.1 that a socket of this process listens on, as "127.0.0.1:PORT"
 * in addr (a port in use, for a start to fail on): the socket, to close when done. */
int hw_test_busy_port(char *addr, size_t cap);

/* Wait until s is posted (taking the post) or ms pass, whichever comes first: whether it
 * was posted. A caught signal does not end the wait early. For a test's bounded wait on
 * an event another thread of it posts. */
bool hw_test_sem_wait(sem_t *s, int ms);

/* A plain (blocking) TCP connection to addr, "127.0.0.1:PORT". Returns the socket (the
 * caller closes it), or -EINVAL for an address of another form, or -errno. */
int hw_test_dial(const char *addr);

/* Start $HW_BIN args... (args NULL-terminated, at most HW_PROC_ARGS_MAX) with stdout
 * on /dev/null and stderr on a pipe this process reads; what is read also goes to
 * log_path (appended). p is zeroed first. */
int hw_proc_start(struct hw_proc *p, const char *log_path, const char *const *args);

/* hw_proc_start() with the child's stdout on the same pipe as its stderr, for a command
 * whose progress goes to stdout (hawser demo): the waits and the log see both, in the
 * order the child flushed them. */
int hw_proc_start_out(struct hw_proc *p, const char *log_path, const char *const *args);

/* Set this process's environment so that a child started next runs under the LD_PRELOAD
 * shim lib (libhawser-faults.so, chaos/faultfs.c) with every fsync under dir failing from
 * the first one after the child gets SIGUSR1. Undo with hw_test_fault_env_clear() once
 * the child started. 0 or -errno. */
int hw_test_fault_fsync_env(const char *lib, const char *dir);

/* Unset what hw_test_fault_fsync_env set (a no-op when it is not set). */
void hw_test_fault_env_clear(void);

/* Read what the child has written to stderr, waiting at most timeout_ms (0: do not
 * wait) for the first bytes. This is also how a test pauses between two status looks:
 * on the child's pipe, never by waiting blind. Returns the bytes read, 0 on timeout, or -1
 * once the pipe is at EOF. */
long hw_proc_pump(struct hw_proc *p, int timeout_ms);

/* Bytes of log read so far: a mark to search from, so a wait sees only later lines. */
size_t hw_proc_mark(const struct hw_proc *p);

/* Wait up to timeout_ms for a whole line at or after *from holding needle (and needle2
 * too when not NULL). On success copies the line (without '\n') to line (may be NULL),
 * moves *from just past it and returns true; false on timeout or when the child's
 * stderr ended without such a line. */
bool hw_proc_wait_line(struct hw_proc *p, size_t *from, const char *needle, const char *needle2,
		       int timeout_ms, char *line, size_t cap);

/* The lines of one port's event that a flood repeats per connection (engine/port.h
 * struct hw_port_logs): how many in full (those holding in_full, "port=client
 * waited_ms="), and how many counted (more) in how many lines naming that port and reason
 * ("peer=* port=client reason=port_full more=N"; reason NULL: "peer=* port=client
 * more=N"). */
struct hw_port_lines {
	const char *event, *port, *reason, *in_full;
	unsigned full, counts;
	int64_t more;
};

/* Add to l the lines of p from `from` on, until they make want or timeout_ms has
 * passed. */
void hw_proc_port_lines(struct hw_proc *p, size_t from, unsigned want, int timeout_ms,
			struct hw_port_lines *l);

/* hw_proc_port_lines for a flood of flood connections, what it found printed on stderr:
 * whether they are each a line in full or counted, at least one count line, and no more
 * lines in full than HW_FLOOD_LOG_LINES per count line (one per HW_FLOOD_LOG_MS). */
bool hw_proc_flood_counted(struct hw_proc *p, size_t from, unsigned flood, int timeout_ms,
			   struct hw_port_lines *l);

/* Send sig to a running child. -ESRCH when it is reaped already. */
int hw_proc_signal(struct hw_proc *p, int sig);

/* Wait up to timeout_ms for the child to end (reading its stderr to EOF), SIGKILL it
 * past that, and reap it. Returns its exit code, 128 + the signal that ended it, or -1
 * when it was reaped already. */
int hw_proc_reap(struct hw_proc *p, int timeout_ms);

/* SIGTERM, then hw_proc_reap(p, timeout_ms). */
int hw_proc_stop(struct hw_proc *p, int timeout_ms);

/* SIGKILL and reap if it runs; free the log. Safe on a zeroed or finished hw_proc: the
 * teardown call. */
void hw_proc_kill(struct hw_proc *p);

/* The unsigned number after "key": in json (a command's --json output: the first such
 * key, at any depth) into *out. False when there is none. */
bool hw_test_json_u64(const char *json, const char *key, uint64_t *out);

/* Where text (what a command said) holds phrase, a space of phrase matching also a line
 * break and the indent after it: a refusal wrapped at 80 columns (hw_cli_wrap) says its
 * phrases wherever a path before them puts the breaks. NULL when it does not. */
const char *hw_said(const char *text, const char *phrase);

/* Run $HW_BIN args... to completion (at most timeout_ms, then SIGKILL): its stdout into
 * out[0..cap) (NUL-terminated, cut at cap - 1), its stderr appended to log_path.
 * Returns its exit code (128 + signal when killed), or a negative code. */
int hw_proc_run(const char *log_path, char *out, size_t cap, int timeout_ms,
		const char *const *args);

/* What hw_proc_capture() keeps of a command's run: its exit code (128 + signal when
 * killed) and its stdout and stderr, each NUL-terminated. */
#define HW_CAPTURE_BYTES_MAX (1u << 20)
struct hw_capture {
	int status;
	char out[HW_CAPTURE_BYTES_MAX + 1];
	size_t out_len;
	char err[HW_CAPTURE_BYTES_MAX + 1];
	size_t err_len;
};

/* Run bin with the arguments after it (NULL-terminated, at most HW_PROC_ARGS_MAX) to
 * completion, its stdout and stderr each into c. Returns c->status, or a negative code:
 * -EFBIG when the command printed more than HW_CAPTURE_BYTES_MAX on either stream (a
 * runaway: the caller fails the test). */
int hw_proc_capture(struct hw_capture *c, const char *bin, ...);

/* This process's own stderr, from hw_test_stderr_begin to hw_test_stderr_end, kept in the
 * file at path (what a library call says there: tests of the embedding and client APIs). */
struct hw_test_stderr {
	int fd;    /* the file */
	int saved; /* the stderr before */
};
int hw_test_stderr_begin(struct hw_test_stderr *s, const char *path);

/* Put stderr back and read what was written into text[0..cap) (NUL-terminated, cut). */
int hw_test_stderr_end(struct hw_test_stderr *s, char *text, size_t cap);

/* VmRSS of a process in KiB, from /proc/PID/status; negative on error. */
long hw_proc_rss_kib(pid_t pid);

/* Descriptors a process has open, from /proc/PID/fd (this process's: the one the look
 * itself holds left out); -errno on error. */
long hw_proc_fd_count(pid_t pid);

/* Open the FIFO at path with flags (O_WRONLY or O_RDONLY; O_CLOEXEC added): it returns
 * once the other end was opened (a process reached it, such as a write the shim holds:
 * HW_FAULT_HOLD_FIFO), or -1 after timeout_s seconds. */
int hw_test_fifo_open(const char *path, int flags, unsigned timeout_s);

/* Occurrences of needle in hay (overlapping ones too). */
int hw_test_count(const char *hay, const char *needle);

/* Lines of the log file at path holding needle (0 when it cannot be read); the last of
 * them into line (cap bytes, cut), which is left as it was when there is none. */
unsigned hw_test_log_lines(const char *path, const char *needle, char *line, size_t cap);

/* ---- nodes ------------------------------------------------------------------------ */

struct hw_tnode {
	char id[16];
	char dir[HW_PROC_PATH_MAX]; /* data_dir */
	char ini[HW_PROC_PATH_MAX]; /* its config file */
	char log[HW_PROC_PATH_MAX]; /* its stderr */
	char client[32];            /* client port, 127.0.0.1:PORT */
	char listen[32];            /* primary: replication port */
	struct hw_proc proc;
};

/* What a node's config says beyond its id and ports. */
struct hw_tnode_opts {
	bool primary;
	const char *standbys;     /* primary: "s1" or "s1, s2"; NULL: none */
	const char *primary_addr; /* standby: where to connect (the primary or a proxy) */
	const char *mode;         /* primary: local | received | durable | applied */
	unsigned k;               /* primary: 0 leaves the default */
	unsigned waiters_max;     /* 0 leaves the default */
	int peer_timeout_ms;      /* 0 leaves the default */
};

/* Name node id in root: paths under root, free ports, and its config file written.
 * The cluster id is "itest". */
int hw_tnode_init(struct hw_tnode *n, const char *root, const char *id,
		  const struct hw_tnode_opts *o);

/* Start `hawser node --config` and wait up to 10 s for its "event=started" line. *mark
 * (may be NULL) gets the log offset of that line's end. */
int hw_tnode_start(struct hw_tnode *n, size_t *mark);

/* Wait up to timeout_ms until n's log starts after lsn (its store pruned past it: it
 * prunes when its store commits, which comes lazily behind its log, engine/io/writer.h,
 * not with the acknowledgements), pumping its stderr between looks. 0, -ETIMEDOUT, or
 * the error opening its store read-only. */
int hw_tnode_wait_pruned(struct hw_tnode *n, uint64_t lsn, int timeout_ms);

/* A node's status over its client port: *role 1 primary, 2 standby (wire.proto);
 * last_lsn and durable_lsn as the node reports them; for a primary, waiting submits and
 * the durable LSN of its first standby. Pointers may be NULL. */
struct hw_tstatus {
	int role;
	uint64_t last_lsn;
	uint64_t durable_lsn;
	uint64_t waiting;
	uint64_t peer_durable[4];
	bool peer_connected[4];
	size_t n_peers;
};
int hw_tnode_status(const struct hw_tnode *n, struct hw_tstatus *out);

/* Wait up to timeout_ms until the standby reports durable_lsn >= lsn, pausing on its
 * stderr pipe between looks. Returns 0, or -ETIMEDOUT with *seen the last durable LSN. */
int hw_tnode_wait_durable(struct hw_tnode *sb, uint64_t lsn, int timeout_ms, uint64_t *seen);

/* ---- load ------------------------------------------------------------------------- */

struct hw_load;
/* Called by the load on its thread after every sample_every-th success, with the LSN
 * just acknowledged; a non-zero return stops the load with that code. */
typedef int hw_load_sample_cb(struct hw_load *l, uint64_t lsn, void *arg);

struct hw_load {
	/* set by the caller before hw_load_init */
	const char *addr;
	const struct hw_client_security *sec; /* NULL: plaintext (hw_client_connect) */
	uint64_t count;
	unsigned window;
	enum hw_durability mode;
	unsigned k;
	const char *profile; /* NULL: terminal_peak */
	uint64_t seed;
	uint32_t lane;       /* the generator's (bench/workload.h): 0, or one of its own */
	uint64_t drawn_over; /* records the generator spaces its times over (0: count): a
			      * load's count first records with its seed, end_ms and this
			      * count are the same bytes as that load's (record ids too) */
	int wait_ms; /* bound on one outcome wait; 0: 30 s */
	unsigned sample_every;
	hw_load_sample_cb *sample_cb;
	void *sample_arg;
	/* filled by hw_load_init: the generator's end time, shared by reruns */
	int64_t end_ms;
	/* results: out[i] and expect[i] for record i; under mu while a thread runs */
	struct hw_outcome *out;
	int *expect;
	bool *done_rec; /* out[i] holds an outcome */
	uint64_t submitted;
	uint64_t outcomes;
	uint64_t acked; /* outcomes with code 0 */
	int rc;         /* what stopped the run early: connection, generator, sample_cb */
	bool finished;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	bool threaded;
};

/* Allocate the result arrays (count entries) and fix end_ms to now. HW_ERANGE for a
 * window of 0 or over HW_CLIENT_INFLIGHT_MAX (a client takes no more in flight). */
int hw_load_init(struct hw_load *l);

/* Run the load on the calling thread: connect, submit every record with at most window
 * in flight, collect every outcome. Returns l->rc. A run stopped by the connection still
 * has every outcome that came before the loss (those a submit took in while it waited to
 * be written too): out[i] and acked hold what the node answered. */
int hw_load_run(struct hw_load *l);

/* Run it on a new thread. */
int hw_load_start(struct hw_load *l);

/* Wait up to timeout_ms until acked >= n or the load finished; true if acked >= n. */
bool hw_load_wait_acked(struct hw_load *l, uint64_t n, int timeout_ms);

/* Wait up to timeout_ms for the load's thread to finish, then join it. true when it
 * finished in time (false: it is still running and not joined). */
bool hw_load_join(struct hw_load *l, int timeout_ms);

/* Acknowledged count, under the mutex. */
uint64_t hw_load_acked(struct hw_load *l);

/* The highest LSN acknowledged so far (0: none), under the mutex. */
uint64_t hw_load_acked_max(struct hw_load *l);

/* Free the arrays (after join). Safe on a zeroed hw_load. */
void hw_load_free(struct hw_load *l);

/* ---- stores ----------------------------------------------------------------------- */

/* Open the stores in dirs a and b read-only and check that (1) the entry of every LSN l
 * acknowledged (l may be NULL: none) has the same bytes in both, and (2) their heads
 * (LSN and chain hash) and state digests are equal. 0, or HW_EDIGEST with the first
 * difference in why; the store's code when one cannot be read. */
int hw_tstore_compare(const char *a, const char *b, const struct hw_load *l, char *why, size_t cap);

#endif
