/* test_repl_faults.c: streaming replication between real `hawser node` processes on
 * loopback when things go wrong: a standby killed with SIGKILL mid-load, a standby that
 * starts empty far behind, a bit flipped on the wire (through chaos/proxy), a standby
 * whose chain does not match the primary's, a (fake) primary that sends an entry no
 * store takes or one only another version validates, and a partition that must not
 * let the primary's memory grow without bound. Every acknowledged record must end up on
 * the standby with the same bytes, and digests must match. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "chaos/proxy.h"
#include "hawser.h"
#include "replica/store.h"
#include "tests/integration/fake_primary.h"
#include "tests/integration/proc.h"

#define EVENT_WAIT_MS  10000
#define STOP_WAIT_MS   10000
#define CATCHUP_MS     60000
#define LOAD_RECORDS   20000u
#define WINDOW         64u
#define STALL_WATCH_MS 500 /* how long a stalled load is watched for a wrong ack */
#define BIG_RECORDS    100000u /* > 16 MiB of entries: the catch-up fills the send buffer */
/* test_backpressure_rss: the primary's waiters, fewer than its client keeps in flight
 * (HW_CLIENT_INFLIGHT_MAX), so that the node's back-pressure is what stalls it. */
#define WAITERS_MAX 2048u
_Static_assert(WAITERS_MAX < HW_CLIENT_INFLIGHT_MAX, "the node stalls the client, not itself");
#define RSS_WATCH_MS   2000
/* test_silent_mid_frame: the standby's peer timeout, past the whole wait for its
 * HW_ESILENT, so that only the silence bound (a few heartbeats, engine/node_election.c
 * hw__node_silent_ms) can drop the stream within that wait, not the peer timeout. */
#define SLOW_PEER_TIMEOUT_MS (3 * EVENT_WAIT_MS)
_Static_assert(SLOW_PEER_TIMEOUT_MS > EVENT_WAIT_MS, "the peer timeout cannot end the wait");
#define RSS_GROWTH_KIB (256L * 1024L)

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode p;
	struct hw_tnode s;
	struct hw_proxy *proxy;
	struct hw_load load;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("repl-faults", f->root, sizeof f->root) != 0)
		return -1;
	f->p.proc.err_fd = f->p.proc.log_fd = -1;
	f->s.proc.err_fd = f->s.proc.log_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	/* Processes first: a load blocked on a dead node's socket then returns. */
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	bool joined = hw_load_join(&f->load, 60000);
	hw_proxy_free(f->proxy);
	int rc = hw_test_rm_rf(f->root);
	if (!joined)
		return -1; /* its thread still uses f: leak it rather than free it under them */
	hw_load_free(&f->load);
	free(f);
	return rc;
}

static void start_primary(struct fix *f, const char *mode, unsigned waiters_max,
			  int peer_timeout_ms)
{
	struct hw_tnode_opts po = {.primary = true,
				   .standbys = "s1",
				   .mode = mode,
				   .k = 1,
				   .waiters_max = waiters_max,
				   .peer_timeout_ms = peer_timeout_ms};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
}

/* Write the standby's config: it connects to via (the primary, or a proxy). */
static void init_standby(struct fix *f, const char *via, int peer_timeout_ms)
{
	struct hw_tnode_opts so = {.primary_addr = via, .peer_timeout_ms = peer_timeout_ms};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
}

/* Start the standby and wait for its "following" line; returns that line. */
static void start_standby(struct fix *f, char *line, size_t cap)
{
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->s, &mark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      line, cap));
}

static void load_init(struct fix *f, uint64_t count, unsigned window, enum hw_durability mode)
{
	f->load = (struct hw_load){.addr = f->p.client,
				   .count = count,
				   .window = window,
				   .mode = mode,
				   .k = 1,
				   .seed = 21};
	assert_int_equal(hw_load_init(&f->load), 0);
}

/* The load finished with every record acknowledged; returns the highest LSN. */
static uint64_t load_all_acked(struct hw_load *l)
{
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->acked, l->count);
	uint64_t last = 0;
	for (uint64_t i = 0; i < l->count; i++) {
		assert_int_equal(l->out[i].code, 0);
		last = l->out[i].lsn > last ? l->out[i].lsn : last;
	}
	assert_int_equal(last, l->count);
	return last;
}

/* Catch up, stop both nodes cleanly, compare the stores, and verify the standby's. */
static void stop_and_compare(struct fix *f, uint64_t last_lsn, const struct hw_load *l)
{
	uint64_t seen;
	int rc = hw_tnode_wait_durable(&f->s, last_lsn, CATCHUP_MS, &seen);
	if (rc != 0)
		fail_msg("standby durable at %llu, primary at %llu", (unsigned long long)seen,
			 (unsigned long long)last_lsn);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char why[256] = "";
	if (hw_tstore_compare(f->p.dir, f->s.dir, l, why, sizeof why) != 0)
		fail_msg("primary vs standby: %s", why);
	char log[HW_PROC_PATH_MAX + 16], out[4096];
	snprintf(log, sizeof log, "%s/verify.log", f->root);
	const char *args[] = {"verify", f->s.dir, NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, CATCHUP_MS, args), 0);
}

/* The value of key (without the '=') in one log line, which must hold it. */
static uint64_t field_u64(const char *line, const char *key)
{
	int64_t v = hw_log_field(line, key, -1);
	assert_true(v >= 0);
	return (uint64_t)v;
}

/* While the standby is down, the load stalls without failing, and no ack arrives for an
 * LSN beyond what the standby had made durable before it died. */
static void check_stalled(struct fix *f)
{
	struct hw_tstatus st;
	assert_int_equal(hw_tnode_status(&f->p, &st), 0);
	assert_int_equal(st.n_peers, 1);
	assert_false(st.peer_connected[0]);
	uint64_t standby_durable = st.peer_durable[0];
	assert_false(hw_load_wait_acked(&f->load, f->load.count, STALL_WATCH_MS));
	pthread_mutex_lock(&f->load.mu);
	bool finished = f->load.finished;
	int rc = f->load.rc;
	uint64_t beyond = 0;
	for (uint64_t i = 0; i < f->load.count; i++)
		if (f->load.done_rec[i] && f->load.out[i].lsn > standby_durable)
			beyond++;
	pthread_mutex_unlock(&f->load.mu);
	assert_false(finished);
	assert_int_equal(rc, 0);
	assert_int_equal(beyond, 0);
	assert_int_equal(hw_tnode_status(&f->p, &st), 0);
	assert_true(st.waiting > 0); /* the stalled submits wait; none failed */
}

/* Durable mode, k = 1: the standby is killed with SIGKILL mid-load; submits stall but do
 * not fail; restarted, it catches up from its durable LSN and the load completes with
 * every acked record on the standby and equal digests. */
static void test_kill_standby_mid_load(void **state)
{
	struct fix *f = *state;
	start_primary(f, "durable", 0, 0);
	init_standby(f, f->p.listen, 0);
	char line[512];
	start_standby(f, line, sizeof line);
	load_init(f, LOAD_RECORDS, WINDOW, HW_DURABLE);
	assert_int_equal(hw_load_start(&f->load), 0);
	assert_true(hw_load_wait_acked(&f->load, 3000, EVENT_WAIT_MS));
	size_t mark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_proc_signal(&f->s.proc, SIGKILL), 0);
	assert_int_equal(hw_proc_reap(&f->s.proc, STOP_WAIT_MS), 128 + SIGKILL);
	assert_true(hw_proc_wait_line(&f->p.proc, &mark, "event=peer_lost", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	check_stalled(f);
	hw_proc_kill(&f->s.proc); /* free the old log before the restart reuses the slot */
	start_standby(f, line, sizeof line);
	assert_true(field_u64(line, "our_lsn") > 0);
	assert_true(hw_load_join(&f->load, CATCHUP_MS));
	stop_and_compare(f, load_all_acked(&f->load), &f->load);
}

/* A standby started empty after the primary took 100,000 records (more than a
 * connection's send buffer holds, so the stream waits for room) catches up to the
 * primary's LSN, and the digests are equal. */
static void test_empty_standby_catches_up(void **state)
{
	struct fix *f = *state;
	start_primary(f, "local", 0, 0);
	load_init(f, BIG_RECORDS, 256, HW_LOCAL);
	assert_int_equal(hw_load_run(&f->load), 0);
	uint64_t last = load_all_acked(&f->load);
	init_standby(f, f->p.listen, 0);
	char line[512];
	int64_t t0 = hw_mono_ms();
	start_standby(f, line, sizeof line);
	assert_int_equal(field_u64(line, "our_lsn"), 0);
	assert_int_equal(field_u64(line, "its_lsn"), last);
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->s, last, CATCHUP_MS, &seen), 0);
	print_message("catch-up of %llu records: %lld ms\n", (unsigned long long)last,
		      (long long)(hw_mono_ms() - t0));
	stop_and_compare(f, last, &f->load);
}

/* One bit flipped in the primary->standby stream mid-load (through the proxy): the
 * standby refuses the frame (HW_EFRAME), the connection closes, the standby reconnects
 * through the now passing proxy, and the load completes with nothing lost and nothing
 * applied from the bad frame. */
static void test_corrupt_frame(void **state)
{
	struct fix *f = *state;
	start_primary(f, "durable", 0, 0);
	assert_int_equal(hw_proxy_new("127.0.0.1:0", f->p.listen, &f->proxy), 0);
	assert_int_equal(hw_proxy_start(f->proxy), 0);
	init_standby(f, hw_proxy_addr(f->proxy), 0);
	char line[512];
	start_standby(f, line, sizeof line);
	load_init(f, LOAD_RECORDS, WINDOW, HW_DURABLE);
	assert_int_equal(hw_load_start(&f->load), 0);
	assert_true(hw_load_wait_acked(&f->load, 2000, EVENT_WAIT_MS));
	size_t mark = hw_proc_mark(&f->s.proc);
	hw_proxy_corrupt(f->proxy, HW_PROXY_DOWN, 700);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=frame_refused", "code=HW_EFRAME",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      line, sizeof line));
	struct hw_proxy_stats ps;
	hw_proxy_stats(f->proxy, &ps);
	assert_int_equal(ps.flipped, 1);
	assert_true(ps.accepted >= 2); /* it came back through the proxy */
	assert_true(hw_load_join(&f->load, CATCHUP_MS));
	stop_and_compare(f, load_all_acked(&f->load), &f->load);
	/* stopped, its whole log is read (to EOF): the bad bytes never reached the store */
	size_t from = 0;
	assert_false(
		hw_proc_wait_line(&f->s.proc, &from, "event=append_refused", NULL, 0, NULL, 0));
}

/* Mid-load, the primary->standby stream loses every byte from 700 bytes on, mid-frame,
 * while the proxy keeps the TCP connection and the standby's acks still reach the
 * primary: no complete frame arrives, the standby closes the silent stream (logged with
 * HW_ESILENT) within the wait, which ends before its peer timeout could, reconnects,
 * catches up, and digests match. */
static void test_silent_mid_frame(void **state)
{
	struct fix *f = *state;
	start_primary(f, "local", 0, 0);
	assert_int_equal(hw_proxy_new("127.0.0.1:0", f->p.listen, &f->proxy), 0);
	assert_int_equal(hw_proxy_start(f->proxy), 0);
	init_standby(f, hw_proxy_addr(f->proxy), SLOW_PEER_TIMEOUT_MS);
	char line[512];
	start_standby(f, line, sizeof line);
	load_init(f, LOAD_RECORDS, WINDOW, HW_LOCAL);
	assert_int_equal(hw_load_start(&f->load), 0);
	assert_true(hw_load_wait_acked(&f->load, 2000, EVENT_WAIT_MS));
	size_t mark = hw_proc_mark(&f->s.proc);
	hw_proxy_drop(f->proxy, HW_PROXY_DOWN, 700, UINT64_MAX);
	int64_t t0 = hw_mono_ms();
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=primary_dropped", "code=HW_ESILENT",
				      EVENT_WAIT_MS, NULL, 0));
	int64_t took = hw_mono_ms() - t0;
	hw_proxy_drop(f->proxy, HW_PROXY_DOWN, 0, 0);
	print_message("silent stream closed after %lld ms\n", (long long)took);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      line, sizeof line));
	struct hw_proxy_stats ps;
	hw_proxy_stats(f->proxy, &ps);
	assert_true(ps.dropped[HW_PROXY_DOWN] > 0);
	assert_true(ps.accepted >= 2); /* it came back through the proxy */
	assert_true(hw_load_join(&f->load, CATCHUP_MS));
	stop_and_compare(f, load_all_acked(&f->load), &f->load);
}

/* Digest and head of the store in dir, read-only. */
static void store_state(const char *dir, uint8_t digest[HW_HASH_BYTES], struct hw_head *h)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *s;
	assert_int_equal(hw_store_open(dir, &ro, &s), 0);
	assert_int_equal(hw_store_digest(s, digest), 0);
	assert_int_equal(hw_store_head(s, h), 0);
	hw_store_close(s);
}

/* A standby of another cluster is refused with HW_ECLUSTER and is told why: the ERROR
 * frame reaches it (it logs primary_refused with the code) instead of a bare close, and
 * the primary closes the session once the ERROR is sent (session_lost with the code). */
static void test_other_cluster_refused(void **state)
{
	struct fix *f = *state;
	start_primary(f, "local", 0, 0);
	init_standby(f, f->p.listen, 0);
	FILE *in = fopen(f->s.ini, "r");
	assert_non_null(in);
	static char ini[8192];
	size_t len = fread(ini, 1, sizeof ini - 1, in);
	fclose(in);
	ini[len] = '\0';
	char *id = strstr(ini, "id = itest");
	assert_non_null(id);
	memcpy(id, "id = other", 10);
	FILE *out = fopen(f->s.ini, "w");
	assert_non_null(out);
	assert_int_equal(fwrite(ini, 1, len, out), len);
	fclose(out);
	size_t pmark = hw_proc_mark(&f->p.proc), smark;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=peer_refused",
				      "reason=cluster_or_version", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=session_lost",
				      "code=HW_ECLUSTER", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_ECLUSTER", EVENT_WAIT_MS, NULL, 0));
}

/* A standby whose chain does not match (other records ingested) is refused with
 * HW_EDIVERGED by the primary, which closes the session once the ERROR is sent; the
 * standby logs primary_refused and keeps its data unchanged. */
static void test_diverged_standby(void **state)
{
	struct fix *f = *state;
	start_primary(f, "local", 0, 0);
	load_init(f, 200, WINDOW, HW_LOCAL);
	assert_int_equal(hw_load_run(&f->load), 0);
	load_all_acked(&f->load);
	init_standby(f, f->p.listen, 0);
	char log[HW_PROC_PATH_MAX + 16], out[4096];
	snprintf(log, sizeof log, "%s/ingest.log", f->root);
	const char *init_args[] = {"init", f->s.dir, NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, EVENT_WAIT_MS, init_args), 0);
	const char *ingest_args[] = {"ingest", f->s.dir, "--generate", "100", "--seed", "99", NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, CATCHUP_MS, ingest_args), 0);
	uint8_t before[HW_HASH_BYTES], after[HW_HASH_BYTES];
	struct hw_head hb, ha;
	store_state(f->s.dir, before, &hb);
	assert_int_equal(hb.lsn, 100);
	size_t pmark = hw_proc_mark(&f->p.proc), smark;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=standby_diverged",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=session_lost",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	size_t from = 0; /* stopped, its whole log is read (to EOF) */
	assert_false(hw_proc_wait_line(&f->s.proc, &from, "event=following", NULL, 0, NULL, 0));
	store_state(f->s.dir, after, &ha);
	assert_memory_equal(before, after, HW_HASH_BYTES);
	assert_int_equal(ha.lsn, hb.lsn);
	assert_memory_equal(ha.hash, hb.hash, HW_HASH_BYTES);
}

/* Put "no block" (lsn 0) in the meta of the stopped node's store in dir: as a node that
 * never kept its block (stopped before it could, or one of an older binary). The layout
 * is docs/formats.md's node.apply_blocked. */
static void clear_block(const char *dir)
{
	uint8_t none[1 + 8 + HW_HASH_BYTES + 4 + 48 + 112] = {1};
	struct hw_store_opts o = {0};
	struct hw_store *st;
	assert_int_equal(hw_store_open(dir, &o, &st), 0);
	assert_int_equal(hw_store_meta_put(st, "node.apply_blocked", none, sizeof none), 0);
	hw_store_close(st);
}

/* A primary with a replaced binary sends an entry that hashes and chains but that no
 * store takes (16 bytes that are no Record) among genuine ones: the standby applies those
 * before it, stops applying at it (apply_blocked, no storage failure: the node answers
 * on) and stops following, its state no longer its primary's. A restart comes back to
 * the block (it failed to start, its recovery refusing the entry) and does not dial; so
 * does one whose block was not kept, the recovery meeting the entry itself. */
static void test_poisoned_standby_blocks(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = hw_fp_listen(addr, sizeof addr);
	init_standby(f, addr, 0);
	size_t smark;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	struct hw_fp_log log;
	hw_fp_log_init(&log, 7, 100);
	hw_fp_hello(cfd, "p1", 40, NULL);
	hw_fp_append(cfd, &log, 20, 0);
	hw_fp_append(cfd, &log, 20, 25);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=apply_blocked", "lsn=25 ",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost", "HW_EDECODE",
				      EVENT_WAIT_MS, NULL, 0));
	assert_null(strstr(f->s.proc.log, "event=storage_failed"));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	close(cfd);
	uint8_t digest[HW_HASH_BYTES];
	struct hw_head h;
	store_state(f->s.dir, digest, &h);
	assert_int_equal(h.lsn, 24);

	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	size_t from = 0;
	assert_true(
		hw_proc_wait_line(&f->s.proc, &from, "event=apply_blocked", "lsn=25 ", 0, NULL, 0));
	struct pollfd pf = {.fd = lfd, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, STALL_WATCH_MS), 0); /* no dial */
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);

	clear_block(f->s.dir);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	from = 0;
	assert_true(
		hw_proc_wait_line(&f->s.proc, &from, "event=apply_blocked", "lsn=25 ", 0, NULL, 0));
	assert_int_equal(poll(&pf, 1, STALL_WATCH_MS), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	store_state(f->s.dir, digest, &h);
	assert_int_equal(h.lsn, 24);
	close(lfd);
	hw_fp_log_free(&log);
}

/* Copy file from to file to (made, or emptied first). */
static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct stat st;
	assert_true(in >= 0 && out >= 0 && fstat(in, &st) == 0);
	for (off_t at = 0; at < st.st_size;)
		assert_true(sendfile(out, in, &at, (size_t)(st.st_size - at)) > 0);
	close(in);
	assert_int_equal(close(out), 0);
}

/* Start the standby, send it the fake primary's next count entries over one connection
 * accepted on lfd, wait until its store applied them, and stop it. */
static void feed_standby(struct fix *f, int lfd, struct hw_fp_log *log, uint32_t count)
{
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	hw_fp_hello(cfd, "p1", log->lsn + count, NULL);
	hw_fp_append(cfd, log, count, 0);
	hw_fp_wait_applied(cfd, log->lsn, EVENT_WAIT_MS);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	close(cfd);
}

/* A primary of another version sends, among genuine entries, one whose record this
 * standby's validation refuses and its apply keeps (tenant "T 1"). The standby applies it
 * as it arrives; and when a crash took it from the store but not from the log (the store
 * put back as it was before the entry came: its commits never reached the disk), the
 * restart's replay takes it the same way: the same state, and no apply_blocked. */
static void test_misfit_replayed_as_taken(void **state)
{
	struct fix *f = *state;
	char addr[64], store[HW_PROC_PATH_MAX + 16], before[HW_PROC_PATH_MAX + 16];
	int lfd = hw_fp_listen(addr, sizeof addr);
	init_standby(f, addr, 0);
	snprintf(store, sizeof store, "%s/data.mdb", f->s.dir);
	snprintf(before, sizeof before, "%s/before.mdb", f->root);
	struct hw_fp_log log;
	hw_fp_log_init(&log, 7, 100);
	log.misfit = 25;
	uint8_t live[HW_HASH_BYTES], replayed[HW_HASH_BYTES];
	struct hw_head h;
	feed_standby(f, lfd, &log, 20);
	store_state(f->s.dir, live, &h);
	assert_int_equal(h.lsn, 20);
	copy_file(store, before);
	feed_standby(f, lfd, &log, 10);
	store_state(f->s.dir, live, &h);
	assert_int_equal(h.lsn, 30); /* the misfit at 25 too */
	copy_file(before, store);

	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_null(strstr(f->s.proc.log, "event=apply_blocked"));
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->s.proc, &from, "event=recovered", "entries=10 code=OK", 0,
				      NULL, 0));
	store_state(f->s.dir, replayed, &h);
	assert_int_equal(h.lsn, 30);
	assert_memory_equal(live, replayed, HW_HASH_BYTES);
	close(lfd);
	hw_fp_log_free(&log);
}

/* With the standby's traffic blackholed in durable mode, a client that keeps submitting
 * (as many in flight as it may) stalls at waiters_max, the rest of its submits waiting
 * in TCP, and the primary's RSS grows by less than 256 MiB. */
static void test_backpressure_rss(void **state)
{
	struct fix *f = *state;
	start_primary(f, "durable", WAITERS_MAX, 60000);
	assert_int_equal(hw_proxy_new("127.0.0.1:0", f->p.listen, &f->proxy), 0);
	assert_int_equal(hw_proxy_start(f->proxy), 0);
	init_standby(f, hw_proxy_addr(f->proxy), 60000);
	char line[512];
	start_standby(f, line, sizeof line);
	hw_proxy_blackhole(f->proxy);
	long base = hw_proc_rss_kib(f->p.proc.pid);
	assert_true(base > 0);
	/* The window is all a client may have in flight: it waits only once that is full. */
	load_init(f, 3 * HW_CLIENT_INFLIGHT_MAX, HW_CLIENT_INFLIGHT_MAX, HW_DURABLE);
	assert_int_equal(hw_load_start(&f->load), 0);
	long peak = base;
	struct hw_tstatus st = {0};
	int64_t stalled_at = 0, deadline = hw_mono_ms() + 30000;
	while (hw_mono_ms() < deadline &&
	       (stalled_at == 0 || hw_mono_ms() - stalled_at < RSS_WATCH_MS)) {
		long rss = hw_proc_rss_kib(f->p.proc.pid);
		assert_true(rss > 0);
		peak = rss > peak ? rss : peak;
		if (stalled_at == 0 && hw_tnode_status(&f->p, &st) == 0 &&
		    st.waiting >= WAITERS_MAX)
			stalled_at = hw_mono_ms();
		assert_true(hw_proc_pump(&f->p.proc, 50) >= 0); /* the pause; it must live */
	}
	print_message("primary VmRSS %ld KiB -> peak %ld KiB with %llu submits waiting\n", base,
		      peak, (unsigned long long)st.waiting);
	assert_true(stalled_at != 0);
	assert_int_equal(st.waiting, WAITERS_MAX);
	assert_int_equal(hw_load_acked(&f->load), 0);
	assert_true(peak - base < RSS_GROWTH_KIB);
	hw_proc_kill(&f->p.proc); /* unblocks the client's send */
	assert_true(hw_load_join(&f->load, EVENT_WAIT_MS));
	assert_true(f->load.rc != 0);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_repl_faults") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_standby_mid_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_standby_catches_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_mid_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diverged_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poisoned_standby_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misfit_replayed_as_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_cluster_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure_rss, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
