/* test_static_restart.c: a primary with static roles (no failover) that dies under a
 * durable load with entries it streamed but never flushed itself (docs/operations.md "A
 * static primary restarted"): p1 (durable, k = 1) with a standby s1 and a vault v1; p1's
 * disk fails (every write under its data directory fails, through the LD_PRELOAD shim
 * libhawser-faults.so, chaos/faultfs.c) while s1 stores what p1 sent, then p1 is killed
 * with SIGKILL and restarted at the head it recovered. The vault was sent nothing p1 had
 * not flushed and follows at once; s1, killed meanwhile, kept what it heard p1 say of how
 * far it was durable, and sets its entries past p1's head aside and follows (also with a
 * copy of its data.mdb put in its place: its log, which the record is of, is the same);
 * one whose record of that is torn (a crash during its write; as one killed while it
 * listened, or of an older version) cannot tell that crash from a primary put back to an
 * older copy, is refused and keeps its entries until the operator rebuilds it; every acknowledged
 * record is on all three, durable submits are acknowledged again, and the three end equal. A
 * standby that ran on and heard p1 say how far it was durable sets its entries past the head p1
 * restarted with aside and follows, also when p1 has taken other records at those LSNs since; one
 * whose primary was put back to an older copy (its head short of what it had said durable) keeps
 * its log and refuses; one whose log is not the restarted primary's at its head (a fake p1's) logs
 * needs_rejoin and dials on until the primary's side is put right. A standby whose log moved on
 * after its record was saved (its directory run as a primary meanwhile) does not trust the record
 * and keeps its entries. And a standby whose store fails under the load (its store file's fsyncs,
 * through the shim), or in the flush of the rewind that sets its entries aside, says so once and
 * follows nobody on that store; one that cannot flush its DIR/primary.said says so, naming that
 * file. */
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

#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/log.h"
#include "hawser.h"
#include "replica/rejoin.h"
#include "replica/snapshot.h"
#include "replica/store.h"
#include "tests/integration/fake_primary.h"
#include "tests/integration/fake_wire.h"
#include "tests/integration/proc.h"

#define RECORDS       200000u /* far more than are acknowledged before the disk fails */
#define BEFORE_FAULT  500u    /* acknowledged before it */
#define AFTER         50u     /* submitted after the restart */
#define WINDOW        256u
#define EVENT_WAIT_MS 20000
#define STOP_WAIT_MS  10000
#define SAID_BYTES    64 /* DIR/primary.said, version 2 (docs/formats.md) */

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode p, s, v;
	struct hw_load load, after, more;
};

/* A fixture with nothing started in a new root directory: 0 or -1. */
static int fix_fresh(struct fix *f)
{
	memset(f, 0, sizeof *f);
	if (hw_test_mkdtemp("static-restart", f->root, sizeof f->root) != 0)
		return -1;
	struct hw_tnode *t[] = {&f->p, &f->s, &f->v};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		t[i]->proc.err_fd = t[i]->proc.log_fd = -1; /* a teardown's kill: none started */
	return 0;
}

static int setup(void **state)
{
	struct fix *f = malloc(sizeof *f);
	if (f == NULL || fix_fresh(f) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static void fault_env_clear(void)
{
	hw_test_fault_env_clear();
	unsetenv("HW_FAULT_WRITE_EIO_AFTER");
}

/* Everything of the fixture stopped, freed and removed: 0, or -1 when a load's thread
 * still runs (f must then stay: *joined false) or the root was not removed. */
static int fix_clean(struct fix *f, bool *joined)
{
	fault_env_clear();
	hw_proc_kill(&f->v.proc);
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	*joined = hw_load_join(&f->load, 60000) && hw_load_join(&f->after, 60000) &&
		  hw_load_join(&f->more, 60000);
	int rc = hw_test_rm_rf(f->root);
	if (!*joined)
		return -1; /* its thread still uses f */
	hw_load_free(&f->load);
	hw_load_free(&f->after);
	hw_load_free(&f->more);
	return rc;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	bool joined;
	int rc = fix_clean(f, &joined);
	if (joined)
		free(f);
	return rc;
}

/* p1's disk failed before it streamed the batch whose write failed (the write and the
 * send race), so the restarted p1 holds all s1 does: the run shows nothing of what the
 * test is about. Start over, at most ATTEMPTS times in all. */
#define ATTEMPTS 8
static void again(struct fix *f, int *attempt, uint64_t head)
{
	assert_true(++*attempt < ATTEMPTS);
	fprintf(stderr, "p1 restarted at %" PRIu64 " with all s1 holds: again\n", head);
	bool joined;
	assert_int_equal(fix_clean(f, &joined), 0);
	assert_int_equal(fix_fresh(f), 0);
}

/* p1 (durable, k 1, standby s1, vault v1), s1 and v1 (no apply delay), configs written. */
static void init_nodes(struct fix *f)
{
	struct hw_tnode_opts po = {.primary = true, .standbys = "s1", .mode = "durable", .k = 1};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	FILE *ini = fopen(f->p.ini, "a");
	assert_non_null(ini);
	fprintf(ini, "[cluster]\nvaults = v1\n");
	assert_int_equal(fclose(ini), 0);
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	assert_int_equal(hw_tnode_init(&f->v, f->root, "v1", &so), 0);
	ini = fopen(f->v.ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = itest\n[node]\nid = v1\nrole = vault\ndata_dir = %s\n"
		"client = %s\nprimary = p1@%s\napply_delay = 0\n[security]\ninsecure = true\n",
		f->v.dir, f->v.client, f->p.listen);
	assert_int_equal(fclose(ini), 0);
}

/* Start t under the shim: from SIGUSR1 on the fsyncs of path fail, or (writes) from
 * SIGUSR2 on its writes; *mark (may be NULL) as hw_tnode_start's. */
static void start_faulty(struct hw_tnode *t, const char *path, bool writes, size_t *mark)
{
	assert_int_equal(hw_test_fault_fsync_env(HW_FAULTS_LIB, path), 0);
	if (writes) {
		assert_int_equal(unsetenv("HW_FAULT_FSYNC_AFTER"), 0);
		assert_int_equal(setenv("HW_FAULT_WRITE_EIO_AFTER", "0", 1), 0);
	}
	int rc = hw_tnode_start(t, mark);
	fault_env_clear();
	assert_int_equal(rc, 0);
}

/* Start p1 under the shim (writes under its data directory fail from SIGUSR2 on), then
 * s1 and v1, and wait until p1 streams to both. */
static void start_nodes(struct fix *f)
{
	size_t mark;
	start_faulty(&f->p, f->p.dir, true, &mark);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_int_equal(hw_tnode_start(&f->v, NULL), 0);
	size_t m2 = mark;
	assert_true(hw_proc_wait_line(&f->p.proc, &mark, "event=peer_connected", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &m2, "event=peer_connected", "peer=v1",
				      EVENT_WAIT_MS, NULL, 0));
}

/* A load of count records (seed) on p1 in l, on its own thread, in mode (k 1). */
static void load_mode(struct fix *f, struct hw_load *l, uint64_t count, uint64_t seed,
		      enum hw_durability mode)
{
	*l = (struct hw_load){.addr = f->p.client,
			      .count = count,
			      .window = WINDOW,
			      .mode = mode,
			      .k = 1,
			      .seed = seed,
			      .wait_ms = 5000};
	assert_int_equal(hw_load_init(l), 0);
	assert_int_equal(hw_load_start(l), 0);
}

/* A durable load (load_mode). */
static void load_start(struct fix *f, struct hw_load *l, uint64_t count, uint64_t seed)
{
	load_mode(f, l, count, seed, HW_DURABLE);
}

/* Fail p1's disk under the load, then SIGKILL it: the load ends on the lost connection. */
static void fail_and_kill(struct fix *f)
{
	load_start(f, &f->load, RECORDS, 1);
	assert_true(hw_load_wait_acked(&f->load, BEFORE_FAULT, EVENT_WAIT_MS));
	size_t mark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_proc_signal(&f->p.proc, SIGUSR2), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &mark, "event=storage_failed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_signal(&f->p.proc, SIGKILL), 0);
	assert_int_equal(hw_proc_reap(&f->p.proc, STOP_WAIT_MS), 128 + SIGKILL);
	assert_true(hw_load_join(&f->load, 60000));
	assert_true(f->load.acked >= BEFORE_FAULT);
}

/* The head the restarted p1 recovered, as its started line says. */
static uint64_t restarted(struct fix *f)
{
	hw_proc_kill(&f->p.proc); /* reaped: frees its log */
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	size_t from = 0;
	char line[1024];
	assert_true(
		hw_proc_wait_line(&f->p.proc, &from, "event=started", NULL, 0, line, sizeof line));
	return (uint64_t)hw_log_field(line, "lsn", -1);
}

/* Wait until a follower (s1, v1) lost p1. */
static void lost_primary(struct hw_tnode *t)
{
	size_t from = 0;
	assert_true(hw_proc_wait_line(&t->proc, &from, "event=primary_lost", NULL, EVENT_WAIT_MS,
				      NULL, 0));
}

/* The head LSN of the store in dir. */
static uint64_t store_head(const char *dir)
{
	struct hw_store *st;
	struct hw_store_opts o = {.read_only = true};
	assert_int_equal(hw_store_open(dir, &o, &st), 0);
	struct hw_head h;
	hw_store_head(st, &h);
	hw_store_close(st);
	return h.lsn;
}

/* s1 comes back holding entries after p1's head that p1 never flushed: refused
 * (HW_EDIVERGED), it keeps them, setting nothing aside by itself: restarted, it has not
 * heard p1 say how far it was durable, so it cannot tell p1's crash from a store put
 * back to an older copy (ahead_kept), and p1 has taken records since. The operator's remedy
 * (docs/failover.md "A static primary restarted"): its directory moved aside (kept) and
 * s1 started empty, it copies p1 and follows. Its status says why it did not follow. */
static void standby_rebuilt(struct fix *f, uint64_t head)
{
	uint64_t held = store_head(f->s.dir);
	assert_true(held > head); /* it held entries p1 streamed and never flushed */
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->s, &mark), 0);
	size_t from = 0; /* said at its start, before anything is refused */
	assert_true(hw_proc_wait_line(&f->s.proc, &from, "event=primary_said_untrusted", "why=torn",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=primary_refused",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	/* and its status says why it does not follow, for the operator to see */
	static struct hw_capture cap;
	assert_int_equal(hw_proc_capture(&cap, hw_test_bin(), "status", "--connect", f->s.client,
					 "--insecure", NULL),
			 0);
	assert_non_null(strstr(cap.out, "not following: its last try was refused (HW_EDIVERGED"));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_test_log_lines(f->s.log, "event=rejoin_planned", NULL, 0), 0);
	assert_int_equal(store_head(f->s.dir), held);
	char aside[HW_PROC_PATH_MAX + 16];
	snprintf(aside, sizeof aside, "%s.aside", f->s.dir);
	assert_int_equal(rename(f->s.dir, aside), 0);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
}

/* p1 (durable, k 1, standby s1) and s1, without the vault. */
static void init_pair(struct fix *f)
{
	struct hw_tnode_opts po = {.primary = true, .standbys = "s1", .mode = "durable", .k = 1};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
}

/* Start p1 under the shim (writes to its log, DIR/wal, fail from SIGUSR2 on: the batch
 * it streamed as its log failed is in no file of it), then s1 alone, and wait until p1
 * streams to it. */
static void start_pair(struct fix *f)
{
	size_t mark;
	char wal[HW_PROC_PATH_MAX + 8];
	snprintf(wal, sizeof wal, "%s/wal", f->p.dir);
	start_faulty(&f->p, wal, true, &mark);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &mark, "event=peer_connected", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
}

/* Quarantine rows of a store, as hw_quarantine_each gives them. */
struct rows {
	uint64_t n, first, last;
	bool why_ok;
};

static int row_cb(void *arg, const struct hw_quarantined *q)
{
	struct rows *r = arg;
	r->first = r->n++ == 0 ? q->lsn : r->first;
	r->last = q->lsn;
	r->why_ok = r->why_ok && strstr(q->why, "never acknowledged") != NULL;
	return 0;
}

static struct rows quarantine_rows(const char *dir)
{
	struct hw_store *st;
	struct hw_store_opts o = {.read_only = true};
	assert_int_equal(hw_store_open(dir, &o, &st), 0);
	struct rows r = {.why_ok = true};
	assert_int_equal(hw_quarantine_each(st, row_cb, &r), 0);
	hw_store_close(st);
	return r;
}

/* p1 and s1 up (p1 under the shim), and p1 killed with its disk failed under a durable
 * load: s1, which heard p1 say how far it was durable, is left holding entries past the
 * head p1 comes back with (*head). Returns how far s1's log reaches. s1 is stopped
 * (SIGSTOP) before p1 restarts when stop says so. */
static uint64_t left_ahead(struct fix *f, bool stop, uint64_t *head)
{
	struct hw_tstatus ss;
	for (int attempt = 0;; again(f, &attempt, *head)) {
		init_pair(f);
		start_pair(f);
		fail_and_kill(f);
		lost_primary(&f->s);
		assert_int_equal(hw_tnode_status(&f->s, &ss), 0);
		if (stop)
			assert_int_equal(hw_proc_signal(&f->s.proc, SIGSTOP), 0);
		*head = restarted(f);
		/* nothing acknowledged was lost */
		assert_true(*head >= hw_load_acked_max(&f->load));
		if (ss.last_lsn > *head) /* s1 holds entries p1 streamed and never wrote */
			return ss.last_lsn;
	}
}

/* After s1 refused to follow (its log as it was, held): nothing set aside, none
 * quarantined, its store's head where it was. */
static void kept_all(struct fix *f, uint64_t held)
{
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_test_log_lines(f->s.log, "event=ahead_set_aside", NULL, 0), 0);
	assert_int_equal(quarantine_rows(f->s.dir).n, 0);
	assert_int_equal(store_head(f->s.dir), held);
}

/* Left ahead (left_ahead), s1 sets exactly the entries past p1's head aside (quarantined,
 * saying how many and why) and follows the restarted p1 with no rebuild; durable submits
 * are acknowledged again and the two end equal. */
static void test_static_standby_ahead_set_aside(void **state)
{
	struct fix *f = *state;
	char line[1024];
	size_t mark = 0;
	uint64_t head;
	uint64_t held = left_ahead(f, false, &head);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=ahead_set_aside", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	assert_int_equal(hw_log_field(line, "primary_lsn", -1), (long long)head);
	assert_int_equal(hw_log_field(line, "set_aside", -1), (long long)(held - head));
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	struct rows r = quarantine_rows(f->s.dir);
	assert_int_equal(r.n, held - head);
	assert_int_equal(r.first, head + 1);
	assert_int_equal(r.last, held);
	assert_true(r.why_ok);
	load_start(f, &f->after, AFTER, 2);
	assert_true(hw_load_join(&f->after, 60000));
	assert_int_equal(f->after.acked, AFTER); /* durable acknowledgements resume */
	uint64_t seen;
	assert_int_equal(
		hw_tnode_wait_durable(&f->s, hw_load_acked_max(&f->after), EVENT_WAIT_MS, &seen),
		0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char why[512];
	int rc = hw_tstore_compare(f->p.dir, f->s.dir, &f->load, why, sizeof why);
	if (rc == 0)
		rc = hw_tstore_compare(f->p.dir, f->s.dir, &f->after, why, sizeof why);
	if (rc != 0)
		fail_msg("%s", why);
}

/* Left ahead as above, s1 is stopped while the restarted p1 takes records in mode local,
 * so that p1's log holds other entries than s1's at LSNs past p1's start head (as many as
 * s1 holds past it, or more). s1 comes back: p1 offers the head it started with, s1 sets
 * its own entries past it aside all the same (they were never acknowledged: p1 had not
 * flushed them) and then receives p1's new ones; the two end equal. */
static void test_static_standby_set_aside_after_new_records(void **state)
{
	struct fix *f = *state;
	uint64_t head;
	uint64_t held = left_ahead(f, true, &head);
	load_mode(f, &f->after, held - head + 3, 2, HW_LOCAL);
	assert_true(hw_load_join(&f->after, 60000));
	assert_int_equal(f->after.acked, held - head + 3);
	struct hw_tstatus ps;
	assert_int_equal(hw_tnode_status(&f->p, &ps), 0);
	assert_true(ps.last_lsn > held); /* s1's log is no longer ahead of p1's */
	size_t mark = hw_proc_mark(&f->s.proc);
	assert_int_equal(hw_proc_signal(&f->s.proc, SIGCONT), 0);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=ahead_set_aside", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	assert_int_equal(hw_log_field(line, "primary_lsn", -1), (long long)head);
	assert_int_equal(hw_log_field(line, "set_aside", -1), (long long)(held - head));
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->s, ps.last_lsn, EVENT_WAIT_MS, &seen), 0);
	assert_int_equal(quarantine_rows(f->s.dir).n, held - head);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char why[512];
	if (hw_tstore_compare(f->p.dir, f->s.dir, &f->after, why, sizeof why) != 0)
		fail_msg("%s", why);
}

/* p1's store is put back to an older copy (taken while it was stopped), after s1 had
 * heard it durable past that copy's head: s1 holds entries that were acknowledged, and
 * keeps them, saying why (ahead_kept, HW_EDIVERGED), rather than set them aside. */
static void test_static_standby_keeps_after_older_copy(void **state)
{
	struct fix *f = *state;
	init_pair(f);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	load_start(f, &f->load, AFTER, 1);
	assert_true(hw_load_join(&f->load, 60000));
	assert_int_equal(f->load.acked, AFTER);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char cmd[3 * HW_PROC_PATH_MAX + 64];
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s.old'", f->p.dir, f->p.dir);
	assert_int_equal(system(cmd), 0);
	uint64_t copy = restarted(f);
	load_start(f, &f->after, AFTER, 2);
	assert_true(hw_load_join(&f->after, 60000));
	assert_int_equal(f->after.acked, AFTER); /* past the copy, on s1 too */
	load_start(f, &f->more, AFTER, 3);       /* its entries come saying p1 durable past it */
	assert_true(hw_load_join(&f->more, 60000));
	assert_int_equal(f->more.acked, AFTER);
	uint64_t held;
	assert_int_equal(
		hw_tnode_wait_durable(&f->s, hw_load_acked_max(&f->more), EVENT_WAIT_MS, &held), 0);
	size_t mark = hw_proc_mark(&f->s.proc);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mv '%s.old' '%s'", f->p.dir, f->p.dir, f->p.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(restarted(f), copy);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=ahead_kept", "code=HW_EDIVERGED",
				      EVENT_WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, "put back to an older copy"));
	assert_true((uint64_t)hw_log_field(line, "primary_durable", -1) > copy);
	kept_all(f, held);
}

/* What p1 answers a hello in s1's name that claims a log longer than p1's (LSN last,
 * which p1 never wrote), with judges_ahead as given: the type of its first frame. */
static enum hw_frame_type answer_to(struct fix *f, uint64_t last, bool judges)
{
	int port = atoi(strrchr(f->p.listen, ':') + 1);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	static uint8_t hash[HW_HASH_BYTES] = {1};
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = 1;
	h.cluster_id = "itest";
	h.node_id = "s1";
	h.role = HAWSER__WIRE__V1__ROLE__STANDBY;
	h.epoch = 1;
	h.last_lsn = last;
	h.last_hash = (ProtobufCBinaryData){HW_HASH_BYTES, hash};
	h.judges_ahead = judges;
	uint8_t buf[256];
	size_t n = hawser__wire__v1__hello__pack(&h, buf);
	assert_true(hw_fake_send_frame(fd, HW_FRAME_HELLO, buf, (uint32_t)n));
	struct hw_fake_stream st = {.fd = fd, .buf = malloc(HW_FAKE_STREAM_BYTES)};
	assert_non_null(st.buf);
	struct hw_frame fr;
	bool got = hw_fake_next_frame(&st, &fr);
	enum hw_frame_type t = fr.type;
	free(st.buf);
	close(fd);
	assert_true(got);
	return t;
}

/* A standby older than this node (its hello without judges_ahead) would take a static
 * primary's offer as a rejoin's epochs and rewind on them alone: p1 makes it none (its
 * first frame is the ERROR), while a standby that judges the offer gets the REJOIN. */
static void test_static_offer_only_to_a_judging_standby(void **state)
{
	struct fix *f = *state;
	init_pair(f);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	load_mode(f, &f->load, AFTER, 1, HW_LOCAL);
	assert_true(hw_load_join(&f->load, 60000));
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	uint64_t past = restarted(f) + 10; /* its store holds its whole log: it may offer */
	assert_int_equal(answer_to(f, past, false), HW_FRAME_ERROR);
	assert_int_equal(answer_to(f, past, true), HW_FRAME_REJOIN);
}

/* s1, killed after it lost p1, comes back holding entries after p1's head that p1 never
 * flushed (its log reached held): it heard p1 say how far it was durable before it was
 * killed (its data directory kept it), so it sets exactly those aside and follows, with
 * no rebuild. */
static void standby_restarted_sets_aside(struct fix *f, uint64_t head, uint64_t held)
{
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->s, &mark), 0);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=ahead_set_aside", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	assert_int_equal(hw_log_field(line, "primary_lsn", -1), (long long)head);
	assert_int_equal(hw_log_field(line, "set_aside", -1), (long long)(held - head));
	long long said = hw_log_field(line, "primary_durable", -1);
	assert_true(said > 0 && said <= (long long)head);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	struct rows r = quarantine_rows(f->s.dir);
	assert_int_equal(r.n, held - head);
	assert_int_equal(r.first, head + 1);
	assert_true(r.why_ok);
}

/* s1's record of what it heard (DIR/primary.said, docs/formats.md), saved when it lost
 * p1 (listening 0, an lsn past 0), torn as a crash during its rewrite in place leaves it:
 * its lsn zeroed, its check that of the lsn it had. It reads as not heard, as a standby
 * killed while it listened to its primary leaves it (or one of a version that kept no
 * such record); read as heard, lsn 0 would set s1's entries aside. */
static void forget_heard(struct fix *f)
{
	char path[HW_PROC_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/primary.said", f->s.dir);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	uint8_t rec[SAID_BYTES + 1], zero[8] = {0};
	assert_int_equal(pread(fd, rec, sizeof rec, 0), SAID_BYTES);
	assert_int_equal(rec[7], 0); /* saved when the connection ended */
	assert_true(hw_get_u64(rec + 8) > 0);
	assert_int_equal(pwrite(fd, zero, sizeof zero, 8), (ssize_t)sizeof zero);
	assert_int_equal(close(fd), 0);
}

/* s1's data.mdb replaced by a copy of it, another file (its inode another): its record of
 * what it heard is of its log, which ends where it did, and still reads as heard. */
static void store_copied(struct fix *f)
{
	char copy[HW_PROC_PATH_MAX + 16], from[HW_PROC_PATH_MAX + 32], to[HW_PROC_PATH_MAX + 16];
	snprintf(copy, sizeof copy, "%s/s1-copy", f->root);
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *st;
	struct hw_snapshot_info info;
	assert_int_equal(hw_store_open(f->s.dir, &ro, &st), 0);
	assert_int_equal(hw_snapshot_make(st, copy, &info), 0);
	hw_store_close(st);
	snprintf(from, sizeof from, "%s/data.mdb", copy);
	snprintf(to, sizeof to, "%s/data.mdb", f->s.dir);
	assert_int_equal(rename(from, to), 0);
}

/* What s1 keeps of what it heard, when p1 is killed: all of it (s1 killed after it lost
 * p1, or stopped and its data.mdb replaced by a copy: store_copied) or a record torn
 * (forget_heard). */
enum kept { KEPT_HEARD, KEPT_TORN, KEPT_COPIED };

/* s1, which lost p1, killed (heard) or stopped with what it stored, its record torn or
 * its data.mdb copied. */
static void s1_left(struct fix *f, enum kept kept)
{
	if (kept == KEPT_HEARD) {
		assert_int_equal(hw_proc_signal(&f->s.proc, SIGKILL), 0);
		assert_int_equal(hw_proc_reap(&f->s.proc, STOP_WAIT_MS), 128 + SIGKILL);
		return;
	}
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	if (kept == KEPT_TORN)
		forget_heard(f);
	else
		store_copied(f);
}

/* p1's disk fails under a durable load and p1 is killed; s1, which lost p1, is killed
 * (heard) or stopped with what it stored. p1 restarts at a head holding every
 * acknowledged record; the vault holds nothing after that head and follows; s1 sets its
 * entries past that head aside and follows (heard, copied), or, its record of what it
 * heard torn, says so at its start, is refused, keeps its entries, and, rebuilt empty,
 * catches up; the held submits are acknowledged and all three end equal. */
static void primary_killed(struct fix *f, enum kept kept)
{
	struct hw_tstatus vs, ss;
	uint64_t head = 0;
	for (int attempt = 0;; again(f, &attempt, head)) {
		init_nodes(f);
		start_nodes(f);
		fail_and_kill(f);
		lost_primary(&f->s);
		lost_primary(&f->v);
		assert_int_equal(hw_tnode_status(&f->v, &vs), 0);
		/* its log's end: its store lags */
		assert_int_equal(hw_tnode_status(&f->s, &ss), 0);
		s1_left(f, kept);
		head = restarted(f);
		/* nothing acknowledged was lost */
		assert_true(head >= hw_load_acked_max(&f->load));
		assert_true(vs.last_lsn <= head); /* the vault got only what p1 flushed */
		if (ss.last_lsn > head)           /* s1 holds entries p1 streamed and never wrote */
			break;
	}
	load_start(f, &f->after, AFTER, 2);
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->p, head + AFTER, EVENT_WAIT_MS, &seen), 0);
	if (kept != KEPT_TORN)
		standby_restarted_sets_aside(f, head, ss.last_lsn);
	else
		standby_rebuilt(f, head);
	assert_true(hw_load_join(&f->after, 60000));
	assert_int_equal(f->after.acked, AFTER); /* durable acknowledgements resume */
	uint64_t last = hw_load_acked_max(&f->after);
	assert_int_equal(hw_tnode_wait_durable(&f->s, last, EVENT_WAIT_MS, &seen), 0);
	assert_int_equal(hw_tnode_wait_durable(&f->v, last, EVENT_WAIT_MS, &seen), 0);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char why[512];
	int rc = hw_tstore_compare(f->p.dir, f->s.dir, &f->load, why, sizeof why);
	if (rc == 0)
		rc = hw_tstore_compare(f->p.dir, f->v.dir, &f->load, why, sizeof why);
	if (rc == 0)
		rc = hw_tstore_compare(f->p.dir, f->s.dir, &f->after, why, sizeof why);
	if (rc != 0)
		fail_msg("%s", why);
}

static void test_static_primary_killed(void **state)
{
	primary_killed(*state, KEPT_HEARD);
}

static void test_static_primary_killed_unheard(void **state)
{
	primary_killed(*state, KEPT_TORN);
}

static void test_static_primary_killed_copied(void **state)
{
	primary_killed(*state, KEPT_COPIED);
}

/* s1's store fails (the fsyncs of its data.mdb, from SIGUSR1 on) under a durable load:
 * one storage_failed line, naming the store, and a primary_lost that promises no redial
 * (a failed node follows nobody until restarted). */
static void test_standby_store_fails_said_once(void **state)
{
	struct fix *f = *state;
	init_nodes(f);
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->p, &mark), 0);
	char path[HW_PROC_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/data.mdb", f->s.dir);
	start_faulty(&f->s, path, false, NULL);
	assert_true(hw_proc_wait_line(&f->p.proc, &mark, "event=peer_connected", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	load_start(f, &f->load, RECORDS, 3);
	assert_true(hw_load_wait_acked(&f->load, BEFORE_FAULT, EVENT_WAIT_MS));
	assert_int_equal(hw_proc_signal(&f->s.proc, SIGUSR1), 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->s.proc, &from, "event=primary_lost", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	hw_proc_kill(&f->p.proc); /* the load, held for want of s1, ends */
	assert_true(hw_load_join(&f->load, 60000));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 1); /* it failed */
	char line[1024] = "";
	assert_int_equal(hw_test_log_lines(f->s.log, "event=storage_failed", line, sizeof line), 1);
	assert_non_null(strstr(line, "in=store"));
	assert_int_equal(hw_test_log_lines(f->s.log, "event=primary_lost", line, sizeof line), 1);
	assert_null(strstr(line, "retry_ms="));
	assert_non_null(strstr(line, "redial=no"));
}

/* The next dial of s1 at the fake primary listening on lfd (within EVENT_WAIT_MS). */
static int accept_dial(int lfd)
{
	struct pollfd pf = {.fd = lfd, .events = POLLIN};
	assert_int_equal(poll(&pf, 1, EVENT_WAIT_MS), 1);
	int fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

/* A fake p1 listening (its address into addr, 64 bytes) and s1 (no failover) configured
 * to follow it, not started. Returns the fake's listening socket. */
static int fake_pair(struct fix *f, char *addr)
{
	int lfd = hw_fp_listen(addr, 64);
	struct hw_tnode_opts so = {.primary_addr = addr};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	return lfd;
}

/* A restarted primary's offer (its start head at LSN head, hash its entry's hash
 * there), then its refusal. */
static void offer_head(int fd, uint64_t head, const uint8_t *hash)
{
	uint64_t epochs[] = {1}, firsts[] = {1};
	Hawser__Wire__V1__Rejoin r = HAWSER__WIRE__V1__REJOIN__INIT;
	r.epoch = 1;
	r.last_lsn = head;
	r.n_epochs = r.n_first_lsns = 1;
	r.epochs = epochs;
	r.first_lsns = firsts;
	r.last_hash = (ProtobufCBinaryData){HW_HASH_BYTES, (uint8_t *)hash};
	hw_fp_msg(fd, HW_FRAME_REJOIN, &r.base);
	hw_fake_send_error(fd, HW_EDIVERGED);
}

/* The offer of a head at LSN 5 with a hash there that is not s1's entry's: another
 * history. */
static void offer_other_head(int fd)
{
	uint8_t hash[HW_HASH_BYTES];
	memset(hash, 0xab, sizeof hash);
	offer_head(fd, 5, hash);
}

/* s1 (no failover) holds 10 entries of a fake p1 that said it was durable through 5 only;
 * p1 comes back offering its head at 5 with a hash that is not s1's there (the logs are
 * not of one history). s1 logs needs_rejoin, sets nothing aside and applies nothing of
 * p1's, and dials on: its status says why it does not follow, the same offer again is
 * not tried again, and once p1's side is put right (a p1 whose log is s1's) it follows. */
static void test_static_needs_rejoin_dials_on(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_pair(f, addr);
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->s, &mark), 0);
	struct hw_fp_log log;
	hw_fp_log_init(&log, 7, 100);
	int fd = accept_dial(lfd);
	hw_fp_hello(fd, "p1", 0, NULL);
	hw_fp_append_said(fd, &log, 10, 0, 5);
	hw_fp_wait_applied(fd, 10, EVENT_WAIT_MS);
	close(fd);
	fd = accept_dial(lfd);
	offer_other_head(fd);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=needs_rejoin", "code=HW_EDIVERGED",
				      EVENT_WAIT_MS, NULL, 0));
	close(fd);
	fd = accept_dial(lfd); /* it dials on, and its status says why it does not follow */
	static struct hw_capture cap;
	assert_int_equal(hw_proc_capture(&cap, hw_test_bin(), "status", "--connect", f->s.client,
					 "--insecure", NULL),
			 0);
	assert_non_null(strstr(cap.out, "not following: its last try was refused (HW_EDIVERGED: "
					"needs_rejoin: this standby's log differs"));
	offer_other_head(fd);
	close(fd);
	fd = accept_dial(lfd); /* again, after the same offer, which it did not try again */
	hw_fp_hello(fd, "p1", 10, log.hash);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	close(fd);
	close(lfd);
	hw_fp_log_free(&log);
	assert_int_equal(hw_test_log_lines(f->s.log, "event=ahead_planned", NULL, 0), 1);
	assert_int_equal(hw_test_log_lines(f->s.log, "event=needs_rejoin", NULL, 0), 1);
	assert_int_equal(store_head(f->s.dir), 10);
	assert_int_equal(quarantine_rows(f->s.dir).n, 0);
}

/* s1 (no failover) follows a fake p1 for 10 entries, p1 saying it was durable through 5
 * only (its hash at that entry into h5, when not NULL), and p1 closes the connection: s1
 * saves what it heard (DIR/primary.said) and is stopped. Returns the fake's listening
 * socket, where s1 dials (its address in addr). */
static int heard_then_stopped(struct fix *f, struct hw_fp_log *log, uint8_t *h5, char *addr)
{
	int lfd = fake_pair(f, addr);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	hw_fp_log_init(log, 7, 100);
	int fd = accept_dial(lfd);
	hw_fp_hello(fd, "p1", 0, NULL);
	hw_fp_append_said(fd, log, 5, 0, 5);
	if (h5 != NULL)
		memcpy(h5, log->hash, HW_HASH_BYTES);
	hw_fp_append_said(fd, log, 5, 0, 5);
	hw_fp_wait_applied(fd, 10, EVENT_WAIT_MS);
	close(fd);
	lost_primary(&f->s);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	return lfd;
}

/* s1's record (path) read into rec, as saved when the connection ended (heard). */
static void said_read_heard(const char *path, uint8_t *rec)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, rec, SAID_BYTES, 0), SAID_BYTES);
	assert_int_equal(close(fd), 0);
	assert_int_equal(rec[7], 0);
}

/* s1's record says it heard p1 durable through 5, its log at 10. Its directory then runs
 * as a static primary and takes records in mode local (acknowledged), its log moving on
 * to 10 + AFTER, and that run removes the record; put back (as a copy of the directory
 * from before, or a version that kept it, leaves it), the record is of another log head.
 * s1, a static standby again, says at its start that it does not trust it, and when a
 * restarted p1 offers its head at 10 (the entry s1 holds there), s1 keeps its entries
 * (ahead_kept): setting them aside on the record would drop acknowledged records. */
static void test_static_record_of_another_head(void **state)
{
	struct fix *f = *state;
	struct hw_fp_log log;
	char addr[64];
	int lfd = heard_then_stopped(f, &log, NULL, addr);
	char path[HW_PROC_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/primary.said", f->s.dir);
	uint8_t rec[SAID_BYTES];
	said_read_heard(path, rec);
	struct hw_tnode_opts po = {.primary = true, .mode = "local"};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "s1", &po), 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	load_mode(f, &f->load, AFTER, 1, HW_LOCAL);
	assert_true(hw_load_join(&f->load, 60000));
	assert_int_equal(f->load.acked, AFTER);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_test_log_lines(f->p.log, "event=primary_said_dropped", NULL, 0), 1);
	assert_int_equal(access(path, F_OK), -1);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, rec, sizeof rec, 0), SAID_BYTES);
	assert_int_equal(close(fd), 0);
	struct hw_tnode_opts so = {.primary_addr = addr};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	size_t mark, from = 0;
	assert_int_equal(hw_tnode_start(&f->s, &mark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &from, "event=primary_said_untrusted",
				      "why=head_moved", EVENT_WAIT_MS, NULL, 0));
	fd = accept_dial(lfd);
	offer_head(fd, 10, log.hash);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=ahead_kept", "code=HW_EDIVERGED",
				      EVENT_WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, "does not know what the primary last said"));
	close(fd);
	close(lfd);
	hw_fp_log_free(&log);
	kept_all(f, 10 + AFTER);
}

/* s1 started under the shim, the flushes of its file name failing from now on (SIGUSR1),
 * *mark as hw_tnode_start's: its dial at the fake listening on lfd, taken. */
static int faulty_dial(struct fix *f, int lfd, const char *name, size_t *mark)
{
	char path[HW_PROC_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/%s", f->s.dir, name);
	start_faulty(&f->s, path, false, mark);
	assert_int_equal(hw_proc_signal(&f->s.proc, SIGUSR1), 0);
	return accept_dial(lfd);
}

/* s1 heard p1 durable through 5, its log at 10, and restarts with its store file's
 * fsyncs failing (through the shim, from SIGUSR1 on); p1 comes back offering its head at
 * 5. The rewind that sets 6..10 aside cannot flush: s1 says so once (storage_failed
 * in=rejoin, no needs_rejoin) and exits instead of following on a store whose flush
 * failed; nothing was set aside. */
static void test_static_rejoin_store_fails(void **state)
{
	struct fix *f = *state;
	struct hw_fp_log log;
	uint8_t h5[HW_HASH_BYTES];
	char addr[64];
	int lfd = heard_then_stopped(f, &log, h5, addr);
	size_t mark;
	int fd = faulty_dial(f, lfd, "data.mdb", &mark);
	offer_head(fd, 5, h5);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=ahead_planned", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=storage_failed", "in=rejoin",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_reap(&f->s.proc, STOP_WAIT_MS), 1); /* it failed */
	close(fd);
	close(lfd);
	hw_fp_log_free(&log);
	assert_int_equal(hw_test_log_lines(f->s.log, "event=needs_rejoin", NULL, 0), 0);
	assert_int_equal(hw_test_log_lines(f->s.log, "event=storage_failed", NULL, 0), 1);
	assert_int_equal(hw_test_log_lines(f->s.log, "event=ahead_set_aside", NULL, 0), 0);
}

/* s1 (no failover) with the flushes of its DIR/primary.said failing (through the shim,
 * from SIGUSR1 on): taking a primary's hello, it cannot save that it listens, says so
 * naming the file (storage_failed in=primary.said, not the store) and exits. */
static void test_static_said_write_fails(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_pair(f, addr);
	size_t mark;
	int fd = faulty_dial(f, lfd, "primary.said", &mark);
	hw_fp_hello(fd, "p1", 0, NULL);
	assert_true(hw_proc_wait_line(&f->s.proc, &mark, "event=storage_failed", "in=primary.said",
				      EVENT_WAIT_MS, NULL, 0));
	close(fd);
	close(lfd);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 1); /* it failed */
	assert_int_equal(hw_test_log_lines(f->s.log, "event=storage_failed", NULL, 0), 1);
}

/* A standby with [failover] keeps no DIR/primary.said: one left by a run as a static
 * standby goes at its start (primary_said_dropped), before its election starts. Kept, it
 * would be trusted again once the node was static again, though it heard more meanwhile
 * (its log head need not move: entries it did not flush). */
static void test_failover_standby_drops_said(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts so = {.primary_addr = "127.0.0.1:9"};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	uint16_t p1, s1, w1;
	assert_int_equal(hw_free_port(&p1), 0);
	assert_int_equal(hw_free_port(&s1), 0);
	assert_int_equal(hw_free_port(&w1), 0);
	FILE *ini = fopen(f->s.ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = itest\n[node]\nid = s1\nrole = standby\ndata_dir = %s\n"
		"client = %s\nlisten = 127.0.0.1:%u\n[failover]\nvoters = p1@127.0.0.1:%u, "
		"s1@127.0.0.1:%u\nwitness = 127.0.0.1:%u\nwitness_id = w1\nrto = 2s\nrpo = 0\n"
		"[durability]\nmode = durable\n[security]\ninsecure = true\n",
		f->s.dir, f->s.client, (unsigned)s1, (unsigned)p1, (unsigned)s1, (unsigned)w1);
	assert_int_equal(fclose(ini), 0);
	assert_int_equal(mkdir(f->s.dir, 0700), 0);
	char path[HW_PROC_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/primary.said", f->s.dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	uint8_t rec[SAID_BYTES] = {0};
	assert_int_equal(pwrite(fd, rec, sizeof rec, 0), SAID_BYTES);
	assert_int_equal(close(fd), 0);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->s.proc, &from, "event=primary_said_dropped", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
}

int main(void)

{
	if (hw_test_bin_or_skip("test_static_restart") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_static_primary_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_primary_killed_unheard, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_primary_killed_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_needs_rejoin_dials_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_standby_ahead_set_aside, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_standby_set_aside_after_new_records,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_standby_keeps_after_older_copy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_offer_only_to_a_judging_standby, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_standby_store_fails_said_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_record_of_another_head, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_rejoin_store_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_said_write_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_standby_drops_said, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
