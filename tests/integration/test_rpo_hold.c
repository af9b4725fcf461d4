/* test_rpo_hold.c: the RPO t commit rule on real processes (engine/core/repl.h struct
 * hw_ahead; docs/operations.md "Reading status: back-pressure from the targets"). A
 * failover cluster of p1, s1 and a witness at rpo 1 s, submits in mode local. With s1
 * stopped (SIGSTOP: its kernel keeps the connection, nothing is acked) p1 stops
 * acknowledging once the oldest record s1 lacks is older than the rule allows, and says
 * so once in its log and in its status (text and JSON); after SIGCONT s1 catches up,
 * acknowledgements resume, every submit is acknowledged and every acknowledged record is
 * on s1. Before the rule a primary acknowledged thousands of records over seconds with
 * its only standby stopped. With rpo_action = fail only new records in mode local or
 * received are refused (a resend comes back as its duplicate); the node's own records
 * pass a hold. Nothing here reads a clock to judge: counts, log lines and status, each
 * waited for with a bound. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "bench/cluster.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "tests/integration/proc.h"
#include "tos.pb-c.h"
#include "wire.pb-c.h"

#define RPO_MS        1000
#define WITNESS_RPO_MS 3600000 /* a witness left at another rpo: 1 h */
#define LOAD_RECORDS  100000u /* far more than a second of local commits takes */
#define LOAD_WINDOW   16u
#define EVENT_WAIT_MS 30000
#define LOAD_WAIT_MS  180000
#define MORE_LOADS     4

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_cluster *c;
	unsigned stopped; /* index of the node stopped with SIGSTOP, 0 when none (p1 is 0) */
	struct hw_load load;
	struct hw_load more[MORE_LOADS]; /* a test's further loads, threaded or not */
	struct hw_capture cap;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("rpo-hold", f->root, sizeof f->root) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	if (f->stopped != 0)
		hw_cluster_kill(f->c, f->stopped, SIGCONT);
	hw_cluster_free(f->c, false); /* a load still running loses its node */
	bool joined = hw_load_join(&f->load, LOAD_WAIT_MS);
	for (unsigned i = 0; i < MORE_LOADS; i++)
		joined = hw_load_join(&f->more[i], LOAD_WAIT_MS) && joined;
	int rc = hw_test_rm_rf(f->root);
	if (!joined)
		return -1; /* a thread still uses f */
	hw_load_free(&f->load);
	for (unsigned i = 0; i < MORE_LOADS; i++)
		hw_load_free(&f->more[i]);
	free(f);
	return rc;
}

/* Wait up to EVENT_WAIT_MS until the log at path holds more than seen lines with needle;
 * the newest into line. */
static bool log_more(const char *path, const char *needle, unsigned seen, char *line, size_t cap)
{
	int64_t end = hw_mono_ms() + EVENT_WAIT_MS;
	do {
		if (hw_test_log_lines(path, needle, line, cap) > seen)
			return true;
	} while (hw_mono_ms() < end && poll(NULL, 0, 50) == 0);
	return false;
}

/* Node i's status, polled until it shows acknowledgements held by the rule with at least
 * min submits waiting for it (bounded). */
static Hawser__Wire__V1__Status *wait_held(struct fix *f, unsigned i, uint32_t min)
{
	int64_t end = hw_mono_ms() + EVENT_WAIT_MS;
	do {
		Hawser__Wire__V1__Status *st = NULL;
		if (hw_cluster_node_status(f->c, i, 5000, &st) == 0 && st->rpo_hold != NULL &&
		    st->rpo_hold->held && st->rpo_hold->submits >= min)
			return st;
		if (st != NULL)
			hawser__wire__v1__status__free_unpacked(st, NULL);
	} while (hw_mono_ms() < end && poll(NULL, 0, 50) == 0);
	return NULL;
}

/* Node 0's status once the load is settled: every submit of it still outstanding is
 * held by the rule at the primary (none in the client's buffers or on the wire, no
 * outcome on its way), polled with a bound. Nothing the load sent can be written after
 * it until the standby is back. */
static Hawser__Wire__V1__Status *wait_settled(struct fix *f)
{
	int64_t end = hw_mono_ms() + EVENT_WAIT_MS;
	do {
		Hawser__Wire__V1__Status *st = wait_held(f, 0, 0);
		if (st == NULL)
			return NULL;
		pthread_mutex_lock(&f->load.mu);
		uint64_t outstanding = f->load.submitted - f->load.outcomes;
		pthread_mutex_unlock(&f->load.mu);
		if (st->rpo_hold->submits == outstanding)
			return st;
		hawser__wire__v1__status__free_unpacked(st, NULL);
	} while (hw_mono_ms() < end && poll(NULL, 0, 50) == 0);
	return NULL;
}

/* p1 and s1 at rpo RPO_MS, the witness at witness_rpo_ms (0: the same); in plaintext
 * unless keys (a node records its own events only with one). */
static void start_cluster(struct fix *f, const char *extra, int64_t witness_rpo_ms, bool keys)
{
	char root[HW_PROC_PATH_MAX + 8];
	snprintf(root, sizeof root, "%s/c", f->root);
	struct hw_cluster_opts o = {
		.hawser_bin = hw_test_bin(),
		.root = root,
		.cluster_id = "itest",
		.standbys = 1,
		.mode = "local",
		.k = 1,
		.failover = true,
		.rto_ms = 2000,
		.rpo_ms = RPO_MS,
		.witness_rpo_ms = witness_rpo_ms,
		.insecure = !keys,
		.extra = extra,
	};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, EVENT_WAIT_MS, &p), 0);
	assert_int_equal(p, 0);
}

/* Stop s1 (SIGSTOP: its kernel keeps the connection). */
static void stop_standby(struct fix *f)
{
	assert_int_equal(hw_cluster_kill(f->c, 1, SIGSTOP), 0);
	f->stopped = 1;
}

/* Start the load on p1 in mode local, on its own thread. */
static void start_load(struct fix *f, uint64_t seed)
{
	f->load = (struct hw_load){.addr = hw_cluster_node_addr(f->c, 0),
				   .sec = hw_cluster_security(f->c),
				   .count = LOAD_RECORDS,
				   .window = LOAD_WINDOW,
				   .mode = HW_LOCAL,
				   .seed = seed,
				   .wait_ms = LOAD_WAIT_MS};
	assert_int_equal(hw_load_init(&f->load), 0);
	assert_int_equal(hw_load_start(&f->load), 0);
}

static void stop_standby_and_load(struct fix *f, uint64_t seed)
{
	stop_standby(f);
	start_load(f, seed);
}

/* A cluster (with keys or not, the witness at witness_rpo_ms: 0 the same) whose s1 is stopped once
 * synced, loaded until the rule holds: the rpo_acks_held line into line (cap 2048); before[0] and
 * before[1] get how many rpo_acks_held and rpo_acks_hold_ended lines came before. Returns p1's log.
 */
static const char *load_until_held(struct fix *f, bool keys, int64_t witness_rpo_ms, uint64_t seed,
				   char *line, unsigned before[2])
{
	start_cluster(f, NULL, witness_rpo_ms, keys);
	const char *plog = hw_cluster_log(f->c, 0);
	assert_int_equal(hw_cluster_wait_synced(f->c, EVENT_WAIT_MS, NULL), 0);
	before[0] = hw_test_log_lines(plog, "event=rpo_acks_held", line, 2048);
	before[1] = hw_test_log_lines(plog, "event=rpo_acks_hold_ended", line, 2048);
	stop_standby_and_load(f, seed);
	assert_true(log_more(plog, "event=rpo_acks_held", before[0], line, 2048));
	return plog;
}

/* s1 continues: the load ends with every record's outcome the one the generator meant
 * (it makes some refused ones), and once s1 caught up the stores hold the same bytes at
 * every LSN the load saw acknowledged. With behind_ok some were refused with HW_EBEHIND
 * (no LSN), and the records after the first of them are judged against a state that
 * lacks it: their outcomes are not the generator's to predict. */
static void resume_and_check(struct fix *f, bool behind_ok)
{
	assert_int_equal(hw_cluster_kill(f->c, 1, SIGCONT), 0);
	f->stopped = 0;
	assert_true(hw_load_join(&f->load, LOAD_WAIT_MS));
	assert_int_equal(f->load.rc, 0);
	assert_int_equal(f->load.outcomes, LOAD_RECORDS);
	bool refused = false; /* one was refused with HW_EBEHIND before this record */
	for (uint64_t i = 0; i < LOAD_RECORDS; i++) {
		const struct hw_outcome *o = &f->load.out[i];
		bool behind = behind_ok && o->code == HW_EBEHIND;
		if (!f->load.done_rec[i] || (behind && o->lsn != 0) ||
		    (o->code != f->load.expect[i] && !behind && !refused))
			fail_msg("record %" PRIu64 ": %s, meant %s", i, hw_errname(o->code),
				 hw_errname(f->load.expect[i]));
		refused = refused || behind;
	}
	assert_int_equal(hw_cluster_wait_synced(f->c, LOAD_WAIT_MS, NULL), 0);
	assert_int_equal(hw_cluster_stop(f->c), 0);
	char why[256];
	if (hw_tstore_compare(hw_cluster_dir(f->c, 0), hw_cluster_dir(f->c, 1), &f->load, why,
			      sizeof why) != 0)
		fail_msg("%s", why);
}

/* `hawser status` of node i in text and in JSON show the hold and its reason. */
static void status_shows_hold(struct fix *f, unsigned i, const char *limit)
{
	const char *addr = hw_cluster_node_addr(f->c, i);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--insecure",
					 "--connect", addr, NULL),
			 0);
	assert_non_null(strstr(f->cap.out, "RPO HOLD for "));
	assert_non_null(strstr(f->cap.out, limit));
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--insecure",
					 "--connect", addr, "--json", NULL),
			 0);
	assert_non_null(strstr(f->cap.out, "\"rpo_hold\":{\"held\":true"));
	assert_non_null(strstr(f->cap.out, "\"action\":\"block\""));
}

/* Mode local at rpo 1 s: a stopped standby stops the acknowledgements (the count stays
 * put between two looks that both find the client's whole window held), the hold is
 * logged once with the limit, status shows it and judges the rpo broken; SIGCONT ends
 * it, every submit gets the outcome it was meant to (the generator makes some refused
 * ones), and the standby holds every acknowledged record. The witness, left at rpo 1 h,
 * learns p1's 1 s from its lease requests, judges by it, and says so once in all those
 * rounds (witness_rpo_mismatch). */
static void test_rpo_hold_and_resume(void **state)
{
	struct fix *f = *state;
	char line[2048], limit[96];
	unsigned before[2];
	const char *plog = load_until_held(f, false, WITNESS_RPO_MS, 42, line, before);
	const char *wlog = hw_cluster_log(f->c, hw_cluster_nodes(f->c));
	char wline[2048];
	assert_true(log_more(wlog, "event=witness_rpo_mismatch", 0, wline, sizeof wline));
	print_message("%s", wline);
	assert_non_null(strstr(wline, "primary=p1 "));
	assert_int_equal(hw_log_field(wline, "primary_rpo_ms", -1), RPO_MS);
	assert_int_equal(hw_log_field(wline, "own_rpo_ms", -1), WITNESS_RPO_MS);
	assert_int_equal(hw_log_field(wline, "judged_rpo_ms", -1), RPO_MS);
	print_message("%s", line);
	int64_t max_ahead = hw_log_field(line, "max_ahead_ms", -1);
	assert_true(max_ahead > 0 && max_ahead < RPO_MS);
	assert_true(hw_log_field(line, "ahead_ms", -1) > max_ahead);
	assert_non_null(strstr(line, "action=block"));

	/* the client's whole window held: no answer of it can be on its way */
	Hawser__Wire__V1__Status *st = wait_held(f, 0, LOAD_WINDOW);
	assert_non_null(st);
	uint64_t acked = hw_load_acked(&f->load);
	assert_int_equal(st->rpo_hold->max_ahead_ms, max_ahead);
	assert_int_equal(st->rpo_hold->margin_ms, RPO_MS - max_ahead);
	assert_int_equal(st->rpo_hold->k, 1);
	hawser__wire__v1__status__free_unpacked(st, NULL);
	snprintf(limit, sizeof limit, "past the %" PRId64 " ms the rpo %d ms allows", max_ahead,
		 RPO_MS);
	status_shows_hold(f, 0, limit);
	/* still held, not one more acknowledged; soon what s1 lacks is older than the rpo */
	bool broken = false;
	for (int64_t end = hw_mono_ms() + EVENT_WAIT_MS; !broken && hw_mono_ms() < end;) {
		st = wait_held(f, 0, LOAD_WINDOW);
		assert_non_null(st);
		assert_int_equal(hw_load_acked(&f->load), acked);
		assert_non_null(st->failover);
		broken = !st->failover->rpo_holds;
		if (broken)
			print_message("held at %" PRIu64 " of %u acknowledged; rpo: %s\n", acked,
				      LOAD_RECORDS, st->failover->rpo_why);
		hawser__wire__v1__status__free_unpacked(st, NULL);
	}
	assert_true(broken);
	assert_true(acked > 0 && acked < LOAD_RECORDS);
	assert_int_equal(hw_test_log_lines(plog, "event=rpo_acks_held", line, sizeof line),
			 before[0] + 1);

	resume_and_check(f, false);
	assert_true(log_more(plog, "event=rpo_acks_hold_ended", before[1], line, sizeof line));
	assert_int_equal(hw_test_log_lines(wlog, "event=witness_rpo_", line, sizeof line), 1);
}

/* rpo_action = fail: with s1 stopped, once the rule holds acknowledgements a new submit
 * is refused with HW_EBEHIND and leaves nothing behind: no LSN, the primary's
 * last LSN unchanged. The load's own submits taken before wait, those after are refused
 * too (how many of each is a race). After SIGCONT the held ones are acknowledged and s1
 * holds them all. */
static void test_rpo_fail_refuses(void **state)
{
	struct fix *f = *state;
	char line[2048];
	start_cluster(f, "[failover]\nrpo_action = fail\n", 0, false);
	const char *plog = hw_cluster_log(f->c, 0);
	assert_int_equal(hw_cluster_wait_synced(f->c, EVENT_WAIT_MS, NULL), 0);
	stop_standby_and_load(f, 43);
	assert_true(log_more(plog, "event=rpo_acks_held", 0, line, sizeof line));
	assert_non_null(strstr(line, "action=fail"));
	Hawser__Wire__V1__Status *st = wait_settled(f);
	assert_non_null(st);
	uint64_t last = st->last_lsn;
	assert_string_equal(st->rpo_hold->action, "fail");
	hawser__wire__v1__status__free_unpacked(st, NULL);
	struct hw_load late = {.addr = hw_cluster_node_addr(f->c, 0),
			       .count = 50,
			       .window = 4,
			       .mode = HW_LOCAL,
			       .seed = 44};
	assert_int_equal(hw_load_init(&late), 0);
	int rc = hw_load_run(&late);
	uint64_t behind = 0;
	for (uint64_t i = 0; i < late.count; i++)
		behind +=
			late.done_rec[i] && late.out[i].code == HW_EBEHIND && late.out[i].lsn == 0;
	uint64_t late_acked = late.acked;
	hw_load_free(&late);
	assert_int_equal(rc, 0);
	assert_int_equal(late_acked, 0);
	assert_int_equal(behind, 50);
	st = wait_settled(f);
	assert_non_null(st);
	assert_int_equal(st->last_lsn, last); /* nothing of theirs was written */
	hawser__wire__v1__status__free_unpacked(st, NULL);

	resume_and_check(f, true);
	/* a witness at the nodes' rpo says nothing about it */
	assert_int_equal(hw_test_log_lines(hw_cluster_log(f->c, hw_cluster_nodes(f->c)),
					   "event=witness_rpo_", line, sizeof line),
			 0);
}

#define RESENT 20u /* records of the load a client sends again */

/* Wait (bounded) until node 0's status shows n submits waiting; false if it never did. */
static bool wait_waiting(struct fix *f, uint64_t n)
{
	int64_t end = hw_mono_ms() + EVENT_WAIT_MS;
	do {
		Hawser__Wire__V1__Status *st = NULL;
		bool got = hw_cluster_node_status(f->c, 0, 5000, &st) == 0 && st->waiting == n;
		if (st != NULL)
			hawser__wire__v1__status__free_unpacked(st, NULL);
		if (got)
			return true;
	} while (hw_mono_ms() < end && poll(NULL, 0, 20) == 0);
	return false;
}

/* A load of count records on p1, one at a time: new ones of seed in a lane of their own,
 * or (like not NULL) the first count records of like again, the same bytes. */
static void more_load(struct fix *f, struct hw_load *l, uint64_t count, enum hw_durability mode,
		      uint64_t seed, const struct hw_load *like)
{
	*l = (struct hw_load){.addr = hw_cluster_node_addr(f->c, 0),
			      .sec = hw_cluster_security(f->c),
			      .count = count,
			      .window = 1,
			      .mode = mode,
			      .seed = like != NULL ? like->seed : seed,
			      .lane = like != NULL ? like->lane : (uint32_t)seed % 200 + 1,
			      .drawn_over = like != NULL ? like->count : 0,
			      .wait_ms = LOAD_WAIT_MS};
	assert_int_equal(hw_load_init(l), 0);
	if (like != NULL)
		l->end_ms = like->end_ms;
}

/* rpo_action = fail refuses only what would be written anew, in every mode (the rule
 * holds them all). During a hold, a client resending records it had acknowledged (after
 * a lost connection, or following a failover) is held like any other (the duplicate's
 * answer would be an acknowledgement newer than the records at risk: struct hw_ahead)
 * and gets each as the duplicate it is, at its first LSN, once s1 is back, not
 * HW_EBEHIND ("nothing written"); so does one resending a record written but not
 * acknowledged yet (here mode received, taken before s1 lacked anything acknowledged);
 * a new submit in mode durable is refused with HW_EBEHIND like a local one, nothing
 * written. */
static void test_rpo_fail_resend(void **state)
{
	struct fix *f = *state;
	char line[2048];
	start_cluster(f, "[failover]\nrpo_action = fail\n", 0, false);
	const char *plog = hw_cluster_log(f->c, 0);
	assert_int_equal(hw_cluster_wait_synced(f->c, EVENT_WAIT_MS, NULL), 0);
	stop_standby(f);
	struct hw_load *pending = &f->more[0], *again = &f->more[1], *resent = &f->more[2],
		       *durable = &f->more[3];
	more_load(f, pending, 1, HW_RECEIVED, 47, NULL);
	assert_int_equal(hw_load_start(pending), 0);
	assert_true(wait_waiting(f, 1)); /* taken: written, waiting for s1 */
	start_load(f, 43);
	assert_true(log_more(plog, "event=rpo_acks_held", 0, line, sizeof line));
	assert_true(hw_load_wait_acked(&f->load, RESENT, EVENT_WAIT_MS));
	Hawser__Wire__V1__Status *st = wait_settled(f);
	assert_non_null(st);
	uint32_t held = st->rpo_hold->submits;
	hawser__wire__v1__status__free_unpacked(st, NULL);

	more_load(f, again, RESENT, HW_LOCAL, 0, &f->load);
	assert_int_equal(hw_load_start(again), 0);
	st = wait_held(f, 0, held + 1); /* its first resend (window 1) waits with them */
	assert_non_null(st);
	hawser__wire__v1__status__free_unpacked(st, NULL);
	pthread_mutex_lock(&again->mu);
	assert_int_equal(again->outcomes, 0);
	pthread_mutex_unlock(&again->mu);
	more_load(f, resent, 1, HW_RECEIVED, 0, pending);
	assert_int_equal(hw_load_start(resent), 0);
	more_load(f, durable, 5, HW_DURABLE, 46, NULL);
	assert_int_equal(hw_load_run(durable), 0); /* during the hold: refused at once */
	uint64_t behind = 0;
	for (uint64_t i = 0; i < durable->count; i++)
		behind += durable->done_rec[i] && durable->out[i].code == HW_EBEHIND &&
			  durable->out[i].lsn == 0;

	assert_int_equal(hw_cluster_kill(f->c, 1, SIGCONT), 0);
	f->stopped = 0;
	for (unsigned i = 0; i < 3; i++)
		assert_true(hw_load_join(&f->more[i], LOAD_WAIT_MS));
	pthread_mutex_lock(&f->load.mu);
	for (uint64_t i = 0; i < RESENT; i++) {
		const struct hw_outcome *o = &again->out[i], *first = &f->load.out[i];
		if (first->code != 0 || o->code != 0 || !o->duplicate || o->lsn != first->lsn)
			fail_msg("record %" PRIu64 ": first %s at %" PRIu64 ", again %s at %" PRIu64
				 " (duplicate %d)",
				 i, hw_errname(first->code), first->lsn, hw_errname(o->code),
				 o->lsn, o->duplicate);
	}
	pthread_mutex_unlock(&f->load.mu);
	const struct hw_outcome *o = &resent->out[0], *first = &pending->out[0];
	print_message("a record taken before the hold, sent again during it: %s at %" PRIu64
		      " (duplicate %d), first %s at %" PRIu64 "; in mode durable %" PRIu64
		      " of %" PRIu64 " refused\n",
		      hw_errname(o->code), o->lsn, o->duplicate, hw_errname(first->code),
		      first->lsn, behind, durable->count);
	assert_true(first->code == 0 && !first->duplicate && first->lsn > 0);
	assert_true(o->code == 0 && o->duplicate && o->lsn == first->lsn);
	assert_int_equal(durable->acked, 0);
	assert_int_equal(behind, durable->count);
	resume_and_check(f, true); /* SIGCONT again: harmless */
}

/* The node's own records (here an operator's event: mode local, on no client's behalf)
 * are neither held nor counted by the rule: during a hold, with the load's whole window
 * held, the event is written and its waiter answered, so it keeps no request slot for
 * the hold's length (one that would keep a switchover from starting, and 64 of them
 * the audit's later events from being recorded at all). With keys: a node without one
 * records no events. */
static void test_rpo_hold_passes_own_records(void **state)
{
	struct fix *f = *state;
	char line[2048];
	unsigned before[2];
	load_until_held(f, true, 0, 45, line, before);
	Hawser__Wire__V1__Status *st = wait_settled(f);
	assert_non_null(st);
	uint64_t last = st->last_lsn;
	uint32_t held = st->rpo_hold->submits;
	hawser__wire__v1__status__free_unpacked(st, NULL);
	struct hw_client *cl = NULL;
	assert_int_equal(hw_client_connect_secure(hw_cluster_node_addr(f->c, 0),
						  hw_cluster_security(f->c), &cl),
			 0);
	int rc = hw_client_operator_event(cl, TOS__V1__NODE_EVENT_KIND__OPERATOR,
					  "during an rpo hold", EVENT_WAIT_MS);
	hw_client_close(cl);
	assert_int_equal(rc, 0);
	/* written and answered: nothing waits but the load's held window */
	uint64_t lsn = last, waiting = 0;
	uint32_t now_held = 0;
	for (int64_t end = hw_mono_ms() + EVENT_WAIT_MS;
	     !(lsn > last && waiting == held && now_held == held) && hw_mono_ms() < end;
	     poll(NULL, 0, 50)) {
		st = wait_held(f, 0, 0);
		assert_non_null(st);
		lsn = st->last_lsn;
		waiting = st->waiting;
		now_held = st->rpo_hold->submits;
		hawser__wire__v1__status__free_unpacked(st, NULL);
	}
	print_message("last_lsn %" PRIu64 " (was %" PRIu64 "), waiting %" PRIu64
		      ", held %u (the load's %u)\n",
		      lsn, last, waiting, now_held, held);
	assert_true(lsn > last && waiting == held && now_held == held);
	resume_and_check(f, false);
}

/* A primary that stops being one during a hold logs the hold's end (reason
 * stepped_down), so an alert raised by rpo_acks_held sees it end: with s1 stopped and
 * then the witness too, p1 cannot renew its lease and steps down. */
static void test_rpo_hold_ends_at_step_down(void **state)
{
	struct fix *f = *state;
	char line[2048];
	unsigned before[2];
	const char *plog = load_until_held(f, false, 0, 48, line, before);
	pid_t w = hw_cluster_witness_pid(f->c);
	assert_true(w > 0 && kill(w, SIGSTOP) == 0);
	bool ended = log_more(plog, "event=rpo_acks_hold_ended", before[1], line, sizeof line);
	kill(w, SIGCONT);
	assert_true(ended);
	print_message("%s", line);
	assert_non_null(strstr(line, "reason=stepped_down"));
	assert_true(hw_test_log_lines(plog, "event=stepped_down", line, sizeof line) > 0);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_rpo_hold") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rpo_hold_and_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpo_fail_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpo_fail_resend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpo_hold_passes_own_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpo_hold_ends_at_step_down, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
