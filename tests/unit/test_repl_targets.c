/* test_repl_targets.c: the back-pressure the replication core derives from the targets
 * (engine/core/repl.h struct hw_ahead, struct hw_replay; DESIGN.md "Targets, not
 * knobs"), driven step by step as test_repl.c drives the rest: positions set by hand,
 * time advanced by hand. The RPO t rule holds local and received waiters once the oldest
 * acknowledged record the k-th standby lacks is older than max_ahead_ms, and releases them
 * when it catches up; its bounded bookkeeping only ever errs older (a seeded run checks
 * that against the true ack times after every step); the replay throttle closes
 * admission at the budget and opens it below the hysteresis mark. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/rng.h"
#include "engine/core/repl.h"
#include "hawser_error.h"

#define ACTS_CAP 256
#define WAITERS  64

struct fx {
	struct hw_primary p;
	struct hw_waiter w[WAITERS];
	struct hw_act buf[ACTS_CAP];
	struct hw_acts out;
};

/* Two standbys, RPO t rule at 1000 ms on k = 1; nothing times out. */
static const struct hw_repl_config cfg_ahead = {
	.standbys = 2,
	.window_records = 1024,
	.waiters_max = WAITERS,
	.heartbeat_ms = 100,
	.peer_timeout_ms = 1000000,
	.max_ahead_ms = 1000,
	.ahead_k = 1,
};

static struct fx *fx_new(const struct hw_repl_config *cfg)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	hw_primary_init(&f->p, cfg, 1, 0, f->w);
	f->out = (struct hw_acts){f->buf, 0, ACTS_CAP};
	return f;
}

static struct hw_acts *acts(struct fx *f)
{
	f->out.n = 0;
	f->out.cap = ACTS_CAP;
	return &f->out;
}

/* fx_new with every standby connected at LSN 0, at time 0. */
static struct fx *fx_connected(const struct hw_repl_config *cfg)
{
	struct fx *f = fx_new(cfg);
	for (uint32_t i = 0; i < cfg->standbys; i++)
		hw_primary_on_connect(&f->p, i, 0, 0, acts(f));
	return f;
}

static bool released(const struct fx *f, uint64_t token)
{
	for (size_t i = 0; i < f->out.n; i++)
		if (f->out.v[i].type == HW_ACT_RELEASE && f->out.v[i].token == token)
			return true;
	return false;
}

static size_t releases(const struct fx *f)
{
	size_t n = 0;
	for (size_t i = 0; i < f->out.n; i++)
		n += f->out.v[i].type == HW_ACT_RELEASE;
	return n;
}

/* Record lsn (its token too) appended, waiting in mode for k, durable here: all at now. */
static void commit(struct fx *f, uint64_t lsn, enum hw_mode mode, uint32_t k, int64_t now)
{
	hw_primary_on_append(&f->p, lsn, now, acts(f));
	hw_primary_on_submit(&f->p, lsn, lsn, lsn, mode, k, now, acts(f));
	hw_primary_on_durable(&f->p, lsn, now, acts(f));
}

static void ack(struct fx *f, uint32_t peer, uint64_t r, uint64_t d, uint64_t a, int64_t now)
{
	struct hw_pos pos = {r, d, a};
	hw_primary_on_ack(&f->p, peer, &pos, now, acts(f));
}

/* Local commits run ahead of the standbys for at most max_ahead_ms: a waiter is released
 * while the oldest record the k-th standby lacks is at most that old (the limit itself
 * included) and held past it, a received waiter too although a standby received it; a
 * durable ack of the oldest ones lets them go, a tick re-judges, and a standby holding
 * everything ends the lag. */
static void test_ahead_holds_and_releases(void **state)
{
	(void)state;
	struct fx *f = fx_connected(&cfg_ahead);
	commit(f, 1, HW_MODE_LOCAL, 0, 0);
	assert_true(released(f, 1));
	assert_int_equal(hw_primary_ahead_ms(&f->p, 0), 0);
	assert_int_equal(hw_primary_ahead_ms(&f->p, 250), 250);
	commit(f, 2, HW_MODE_LOCAL, 0, 600);
	assert_true(released(f, 2));
	commit(f, 3, HW_MODE_LOCAL, 0, 1000); /* lsn 1 is exactly 1000 ms old: still allowed */
	assert_true(released(f, 3));
	commit(f, 4, HW_MODE_LOCAL, 0, 1001);
	assert_int_equal(releases(f), 0);
	assert_int_equal(f->p.ahead.held, 1);
	assert_int_equal(f->p.ahead.held_lsn, 4);
	assert_int_equal(hw_primary_ahead_ms(&f->p, 1001), 1001);
	commit(f, 5, HW_MODE_RECEIVED, 1, 1001);
	ack(f, 1, 5, 0, 0, 1002); /* its own rule holds; the lead does not */
	assert_int_equal(releases(f), 0);
	assert_int_equal(f->p.ahead.held, 2);
	assert_int_equal(f->p.hold.waiters, 0); /* not for lack of standbys */
	ack(f, 0, 1, 1, 1, 1500);               /* the oldest at risk is now lsn 2, 900 ms old */
	assert_true(released(f, 4) && released(f, 5));
	assert_int_equal(f->p.ahead.held, 0);
	assert_int_equal(hw_primary_ahead_ms(&f->p, 1500), 900);
	commit(f, 6, HW_MODE_LOCAL, 0, 1601); /* lsn 2 at 600: 1001 ms */
	assert_int_equal(releases(f), 0);
	hw_primary_on_tick(&f->p, 1700, acts(f));
	assert_int_equal(releases(f), 0);
	assert_int_equal(f->p.ahead.held, 1);
	ack(f, 1, 6, 6, 6, 1800); /* s2 holds everything: nothing at risk */
	assert_true(released(f, 6));
	assert_int_equal(hw_primary_ahead_ms(&f->p, 1800), 0);
	assert_int_equal(hw_primary_acked_age_ms(&f->p, 1, 1800), 1200); /* s1 lacks 2.. */
	free(f);
}

/* With ahead_k 2 a record counts until both standbys hold it. The rule holds waiters of
 * every mode: one in mode durable (k 1) that its own rule lets go waits while older
 * records are at risk past the limit (released, it would be an acknowledgement after
 * them, and a failover that lost them would lose more than the last max_ahead_ms of
 * acknowledgements); one whose k standbys hold everything at risk ends the lag and goes
 * with the rest. A vault counts for neither. */
static void test_ahead_k_and_modes(void **state)
{
	(void)state;
	struct hw_repl_config cfg = cfg_ahead;
	cfg.standbys = 3;
	cfg.vaults = 1;
	cfg.ahead_k = 2;
	struct fx *f = fx_connected(&cfg);
	commit(f, 1, HW_MODE_LOCAL, 0, 0);
	assert_true(released(f, 1));
	ack(f, 0, 1, 1, 1, 10);
	ack(f, 2, 1, 1, 1, 10); /* the vault: not counted */
	commit(f, 2, HW_MODE_LOCAL, 0, 2000);
	assert_int_equal(releases(f), 0);
	commit(f, 3, HW_MODE_DURABLE, 1, 2000);
	ack(f, 0, 3, 3, 3, 2001); /* its own rule holds; lsn 1, 2001 ms old, is at risk */
	assert_int_equal(releases(f), 0);
	assert_int_equal(f->p.ahead.held, 2);
	assert_int_equal(f->p.ahead.held_lsn, 2);
	/* both hold 1: nothing acknowledged is at risk, both go; 2 and 3 count from now */
	ack(f, 1, 1, 1, 1, 2002);
	assert_true(released(f, 2) && released(f, 3));
	assert_int_equal(f->p.ahead.held, 0);
	assert_int_equal(hw_primary_ahead_ms(&f->p, 2002), 0);
	assert_int_equal(hw_primary_ahead_ms(&f->p, 2010), 8);
	commit(f, 4, HW_MODE_LOCAL, 0, 5000); /* 2 is 2998 ms old: held */
	assert_int_equal(releases(f), 0);
	commit(f, 5, HW_MODE_DURABLE, 2, 5000);
	ack(f, 0, 5, 5, 5, 5001);
	assert_int_equal(releases(f), 0);
	ack(f, 1, 5, 5, 5, 5001); /* both hold 5: nothing at risk, 4 and 5 go */
	assert_true(released(f, 4) && released(f, 5));
	assert_int_equal(hw_primary_ahead_ms(&f->p, 5001), 0);
	free(f);
}

/* A primary started on a log that holds 50 records (a standby promoted, mostly) cannot
 * know when an earlier primary acknowledged them: they count as past the limit from its
 * first event, so nothing is acknowledged, in any mode, until ahead_k standbys hold
 * them; then its own records count from their own times. */
static void test_ahead_inherited(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	hw_primary_init(&f->p, &cfg_ahead, 2, 50, f->w);
	f->out = (struct hw_acts){f->buf, 0, ACTS_CAP};
	hw_primary_on_connect(&f->p, 0, 40, 100, acts(f));
	commit(f, 51, HW_MODE_LOCAL, 0, 100);
	assert_int_equal(releases(f), 0);
	assert_int_equal(f->p.ahead.held, 1);
	assert_true(hw_primary_ahead_ms(&f->p, 100) > cfg_ahead.max_ahead_ms);
	commit(f, 52, HW_MODE_RECEIVED, 1, 110);
	ack(f, 0, 52, 45, 45, 120); /* received: its own rule holds; 46..50 still at risk */
	assert_int_equal(releases(f), 0);
	assert_int_equal(f->p.ahead.held, 2);
	ack(f, 0, 52, 50, 50, 130); /* s1 holds what the primary started with */
	assert_true(released(f, 51) && released(f, 52));
	assert_int_equal(hw_primary_ahead_ms(&f->p, 130), 0);
	assert_int_equal(hw_primary_ahead_ms(&f->p, 200), 70);
	free(f);
}

/* During a hold only the node's own record (acks 0) goes, though it waits for the newest
 * LSN to keep the ring's order. Every waiter that tells a client of a record waits: a
 * duplicate of an acknowledged record, one released out of order below the records at
 * risk, one past them; each would be an acknowledgement newer than the records at risk
 * (chaos seed 671325003974: a failover lost records acknowledged 1,434 ms before one
 * released out of order, at rpo 1,395 ms). */
static void test_ahead_holds_old_acks(void **state)
{
	(void)state;
	struct fx *f = fx_connected(&cfg_ahead);
	commit(f, 1, HW_MODE_DURABLE, 1, 0);
	commit(f, 2, HW_MODE_LOCAL, 0, 0);
	assert_true(released(f, 2) && releases(f) == 1); /* 1 waits for s1, 2 is at risk */
	commit(f, 3, HW_MODE_LOCAL, 0, 1001);            /* lsn 2 is 1001 ms old: held */
	assert_int_equal(releases(f), 0);
	hw_primary_on_append(&f->p, 4, 1002, acts(f));
	hw_primary_on_submit(&f->p, 100, 4, 0, HW_MODE_LOCAL, 0, 1002, acts(f));
	hw_primary_on_durable(&f->p, 4, 1002, acts(f));
	assert_true(released(f, 100)); /* the node's own record */
	assert_int_equal(f->p.ahead.acked, 2);
	assert_int_equal(f->p.ahead.held, 1);
	ack(f, 0, 1, 1, 1, 1003); /* s1 holds lsn 1: its own rule lets it go, the lead not */
	assert_int_equal(releases(f), 0);
	hw_primary_on_submit(&f->p, 101, 4, 2, HW_MODE_LOCAL, 0, 1004, acts(f));
	assert_int_equal(releases(f), 0); /* a duplicate of the acknowledged lsn 2 */
	assert_int_equal(f->p.ahead.held, 3);
	assert_int_equal(f->p.ahead.held_lsn, 1);
	assert_int_equal(hw_primary_ahead_ms(&f->p, 1004), 1004);
	ack(f, 0, 2, 2, 2, 1100); /* s1 holds lsn 2: nothing acknowledged is at risk */
	assert_true(released(f, 1) && released(f, 3) && released(f, 101));
	assert_int_equal(f->p.ahead.acked, 3);
	assert_int_equal(f->p.ahead.held, 0);
	free(f);
}

/* A record the k-th standby lacks is judged by a span's time, never a later one: one
 * acknowledged within gap_ms of the newest span joins it, and with the ring full the
 * two oldest spans merge keeping the older time. */
static void test_ahead_coalesce_keeps_older(void **state)
{
	(void)state;
	struct hw_repl_config cfg = cfg_ahead;
	cfg.max_ahead_ms = 64; /* gap_ms 2 */
	struct fx *f = fx_connected(&cfg);
	assert_int_equal(f->p.ahead.gap_ms, 2);
	commit(f, 1, HW_MODE_LOCAL, 0, 0);
	ack(f, 0, 1, 1, 1, 0);
	commit(f, 2, HW_MODE_LOCAL, 0, 1); /* joins lsn 1's span, at 0 */
	assert_int_equal(f->p.ahead.count, 1);
	assert_int_equal(hw_primary_acked_age_ms(&f->p, 1, 10), 10); /* not 9 */
	/* s1 keeps up (k 1: nothing at risk, nothing held), s2 never acks: the spans stay */
	for (uint64_t lsn = 3; lsn <= 2 + HW_AHEAD_SPANS + 4; lsn++) {
		int64_t now = (int64_t)(lsn - 2) * 2;
		commit(f, lsn, HW_MODE_LOCAL, 0, now);
		assert_true(released(f, lsn));
		ack(f, 0, lsn, lsn, lsn, now);
	}
	assert_int_equal(f->p.ahead.count, HW_AHEAD_SPANS);
	int64_t now = 1000;
	/* the oldest six spans (1-2 at 0, then 3 at 2, 4 at 4 ... 7 at 10) merged into one
	 * at 0; 8 keeps its own time */
	for (uint64_t lsn = 0; lsn <= 6; lsn++)
		assert_int_equal(hw_primary_acked_age_ms(&f->p, lsn, now), now);
	assert_int_equal(hw_primary_acked_age_ms(&f->p, 7, now), now - 12);
	assert_int_equal(hw_primary_acked_age_ms(&f->p, 8, now), now - 14);
	assert_int_equal(hw_primary_ahead_ms(&f->p, now), 0);
	free(f);
}

/* ---- a seeded run against the true ack times --------------------------------------- */

#define S_STEPS 20000
#define S_LSNS  (S_STEPS + 2)

struct sim {
	struct fx *f;
	uint64_t rng;
	int64_t now;
	uint64_t last;          /* appended and durable here */
	uint64_t acked;         /* highest released */
	int64_t ack_ms[S_LSNS]; /* when record i was first acknowledged (released) */
	uint64_t durable[2];    /* each standby's, as acked */
	uint32_t n_sb, k;
	bool filled;            /* the ring was full at some point */
	uint64_t held_steps;    /* events that ended with the rule holding */
	int64_t worst_early_ms; /* most the bookkeeping erred older than the truth */
};

static uint64_t below(struct sim *s, uint64_t n)
{
	return hw_splitmix64(&s->rng) % n;
}

static uint64_t kth(const struct sim *s)
{
	if (s->n_sb == 1)
		return s->durable[0];
	uint64_t hi = s->durable[0] > s->durable[1] ? s->durable[0] : s->durable[1];
	uint64_t lo = s->durable[0] > s->durable[1] ? s->durable[1] : s->durable[0];
	return s->k == 1 ? hi : lo;
}

/* The true ack time of the oldest acknowledged record above lsn; INT64_MAX: none. */
static int64_t truth_after(const struct sim *s, uint64_t lsn)
{
	return lsn >= s->acked ? INT64_MAX : s->ack_ms[lsn + 1];
}

/* The event just run released what it did at s->now: record the truth, and check that
 * the rule let nothing go while the true lag (before the event) was past max_ahead_ms. */
static void s_after(struct sim *s, int64_t oldest_before)
{
	struct fx *f = s->f;
	for (size_t i = 0; i < f->out.n; i++) {
		const struct hw_act *a = &f->out.v[i];
		if (a->type != HW_ACT_RELEASE)
			continue;
		assert_int_equal(a->code, 0);
		assert_true(oldest_before == INT64_MAX ||
			    s->now - oldest_before <= f->p.cfg.max_ahead_ms);
		for (uint64_t l = s->acked + 1; l <= a->lsn; l++)
			s->ack_ms[l] = s->now;
		if (a->lsn > s->acked)
			s->acked = a->lsn;
	}
	/* never later: every lookup is at or before the true time */
	int64_t t = truth_after(s, kth(s));
	int64_t lag = hw_primary_ahead_ms(&f->p, s->now);
	assert_true(t == INT64_MAX ? lag == 0 : lag >= s->now - t);
	uint64_t x = s->acked > 0 ? below(s, s->acked + 1) : 0;
	int64_t tx = truth_after(s, x);
	int64_t age = hw_primary_acked_age_ms(&f->p, x, s->now);
	assert_true(tx == INT64_MAX ? age == 0 : age >= s->now - tx);
	if (t != INT64_MAX && lag - (s->now - t) > s->worst_early_ms)
		s->worst_early_ms = lag - (s->now - t);
	s->filled = s->filled || f->p.ahead.count == HW_AHEAD_SPANS;
	s->held_steps += f->p.ahead.held > 0;
}

/* Run call as one event, checked against the truth as it was before it. */
#define S_EVENT(s, call)                                                                           \
	do {                                                                                       \
		int64_t before_ = truth_after((s), kth(s));                                        \
		call;                                                                              \
		s_after((s), before_);                                                             \
	} while (0)

static void s_step(struct sim *s)
{
	struct fx *f = s->f;
	s->now += (int64_t)below(s, 4);
	uint64_t r = below(s, 10);
	if (r < 6 && s->last + 1 < S_LSNS && f->p.w_count < WAITERS) {
		s->last++;
		S_EVENT(s, hw_primary_on_append(&f->p, s->last, s->now, acts(f)));
		S_EVENT(s, hw_primary_on_submit(&f->p, s->last, s->last, s->last, HW_MODE_LOCAL, 0,
						s->now, acts(f)));
		S_EVENT(s, hw_primary_on_durable(&f->p, s->last, s->now, acts(f)));
	} else if (r < 9) {
		uint32_t i = (uint32_t)below(s, s->n_sb);
		/* slower than the submits: up to 2 records further per ack, the second 1 */
		uint64_t d = s->durable[i] + below(s, i == 0 ? 3 : 2);
		s->durable[i] = d < s->last ? d : s->last;
		struct hw_pos pos = {s->last, s->durable[i], s->durable[i]};
		S_EVENT(s, hw_primary_on_ack(&f->p, i, &pos, s->now, acts(f)));
	} else {
		S_EVENT(s, hw_primary_on_tick(&f->p, s->now, acts(f)));
	}
}

static void s_run(uint64_t seed, uint32_t n_sb, uint32_t k, struct sim *s)
{
	struct hw_repl_config cfg = cfg_ahead;
	cfg.standbys = n_sb;
	cfg.ahead_k = k;
	cfg.max_ahead_ms = 64; /* gap_ms 2: the ring fills within a run */
	cfg.window_records = S_LSNS;
	memset(s, 0, sizeof *s);
	s->f = fx_new(&cfg);
	s->rng = seed;
	s->n_sb = n_sb;
	s->k = k;
	for (uint32_t i = 0; i < n_sb; i++)
		hw_primary_on_connect(&s->f->p, i, 0, 0, acts(s->f));
	for (int i = 0; i < S_STEPS; i++)
		s_step(s);
	free(s->f);
}

/* Seeded runs (HW_SEED replays) of local commits against slow standbys: after every step
 * the rule released nothing while the true lag was past max_ahead_ms, and every lag and age
 * it reports is at least the true one. With one standby the ring only holds what is at
 * risk and errs by at most gap_ms; with a second, slower one (k 1) it fills and merges. */
static void test_ahead_never_later(void **state)
{
	(void)state;
	uint64_t seed = 0x5eed0a11ull;
	const char *env = getenv("HW_SEED");
	if (env != NULL)
		seed = strtoull(env, NULL, 0);
	print_message("test_ahead_never_later: seed 0x%" PRIx64 " (HW_SEED=... to replay)\n", seed);
	struct sim *s = calloc(1, sizeof *s);
	assert_non_null(s);
	s_run(seed, 1, 1, s);
	print_message("  one standby: %" PRIu64 " acknowledged, held at %" PRIu64
		      " events, at most %" PRId64 " ms early\n",
		      s->acked, s->held_steps, s->worst_early_ms);
	assert_true(s->held_steps > 100 && s->acked > 1000);
	assert_true(s->worst_early_ms <= 2); /* gap_ms */
	assert_false(s->filled);
	s_run(seed + 1, 2, 1, s);
	print_message("  two, k 1: %" PRIu64 " acknowledged, held at %" PRIu64
		      " events, ring filled %d, at most %" PRId64 " ms early\n",
		      s->acked, s->held_steps, s->filled, s->worst_early_ms);
	assert_true(s->filled && s->held_steps > 100);
	s_run(seed + 2, 2, 2, s);
	assert_true(s->held_steps > 100);
	free(s);
}

/* ---- the replay throttle ------------------------------------------------------------ */

/* Admission closes when the standby a failover would promote (the most durable
 * connected one) holds the budget unapplied, stays closed down to budget - budget / 8,
 * follows a better standby, and opens with none connected. */
static void test_replay_throttle(void **state)
{
	(void)state;
	struct hw_repl_config cfg = cfg_ahead;
	cfg.max_ahead_ms = 0;
	cfg.replay_budget = 100;
	struct fx *f = fx_new(&cfg);
	hw_primary_on_connect(&f->p, 0, 0, 0, acts(f));
	hw_primary_on_connect(&f->p, 1, 0, 0, acts(f));
	hw_primary_on_append(&f->p, 300, 0, acts(f));
	assert_true(hw_primary_admits(&f->p));
	ack(f, 0, 99, 99, 0, 1);
	assert_true(hw_primary_admits(&f->p));
	ack(f, 0, 100, 100, 0, 2);
	assert_false(hw_primary_admits(&f->p));
	assert_int_equal(f->p.replay.peer, 0);
	assert_int_equal(f->p.replay.backlog, 100);
	ack(f, 0, 100, 100, 12, 3); /* 88: not below 100 - 12 */
	assert_false(hw_primary_admits(&f->p));
	ack(f, 0, 100, 100, 13, 4);
	assert_true(hw_primary_admits(&f->p));
	ack(f, 0, 200, 150, 13, 5); /* received counts: the writer applies what it took */
	assert_false(hw_primary_admits(&f->p));
	ack(f, 1, 250, 250, 240, 6); /* s2 holds more: it would be promoted */
	assert_true(hw_primary_admits(&f->p));
	assert_int_equal(f->p.replay.peer, 1);
	hw_primary_on_disconnect(&f->p, 1);
	hw_primary_on_tick(&f->p, 7, acts(f));
	assert_false(hw_primary_admits(&f->p));
	hw_primary_on_disconnect(&f->p, 0);
	hw_primary_on_tick(&f->p, 8, acts(f));
	assert_true(hw_primary_admits(&f->p));
	assert_int_equal(f->p.replay.peer, -1);
	free(f);
}

/* Without targets (max_ahead_ms 0, replay_budget 0) nothing changes: local commits are
 * released however far the standbys lag, and admission never closes. */
static void test_no_targets(void **state)
{
	(void)state;
	struct hw_repl_config cfg = cfg_ahead;
	cfg.max_ahead_ms = 0;
	cfg.ahead_k = 0;
	struct fx *f = fx_new(&cfg);
	hw_primary_on_connect(&f->p, 0, 0, 0, acts(f));
	commit(f, 1, HW_MODE_LOCAL, 0, 0);
	assert_true(released(f, 1));
	ack(f, 0, 1, 0, 0, 1);
	commit(f, 2, HW_MODE_LOCAL, 0, 1000000);
	assert_true(released(f, 2));
	assert_int_equal(hw_primary_ahead_ms(&f->p, 1000000), 0);
	assert_int_equal(f->p.ahead.count, 0);
	assert_true(hw_primary_admits(&f->p));
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ahead_holds_and_releases),
		cmocka_unit_test(test_ahead_k_and_modes),
		cmocka_unit_test(test_ahead_inherited),
		cmocka_unit_test(test_ahead_holds_old_acks),
		cmocka_unit_test(test_ahead_coalesce_keeps_older),
		cmocka_unit_test(test_ahead_never_later),
		cmocka_unit_test(test_replay_throttle),
		cmocka_unit_test(test_no_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
