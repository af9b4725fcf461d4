/* test_election.c: the election core (engine/core/election.h) driven through the fake
 * world of election_world.h: nodes with drifting clocks, a network that delays, reorders and
 * partitions per direction, a fake disk whose writes complete later and are lost on a
 * crash, and real time advanced by hand one millisecond at a time. After every event the
 * world checks the promises: never two primaries in one epoch; never a node allowed to
 * acknowledge (hw_el_may_ack at its own clock) once another became primary in a higher
 * epoch; never a vote or vote request sent before the vote behind it is on disk; and,
 * where a log model runs, never a new primary missing an acknowledged record. */
#include "tests/unit/election_world.h"

/* ---------------------------------------------------------------- tests */

/* A fresh cluster (two standbys' worth of nodes and a witness) elects exactly one primary
 * that holds a lease, and the other standby follows it. */
static void test_bootstrap(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 1);
	run(w, 2000);
	int p = primary_of(w);
	assert_true(p == 0 || p == 1);
	assert_true(hw_el_may_ack(&w->nd[p].el, local(w, (uint32_t)p)));
	assert_int_equal(w->becomes, 1);
	assert_int_equal(w->nd[1 - p].el.primary, (uint32_t)p);
	assert_int_equal(w->nd[2].el.primary, (uint32_t)p);
	assert_int_equal(w->nd[2].el.role, HW_EL_WITNESS);
	free(w);
}

/* Neither a vote nor a vote request leaves before the vote behind it is durable: after
 * a pre-vote (which changes nothing on the voter and needs nothing on disk) the event
 * emits PERSIST only, and the message follows on_persisted of that state; a report of an
 * older state sends nothing. */
static void test_votes_wait_for_persist(void **state)
{
	(void)state;
	struct hw_el_act buf[ACTS_CAP];
	struct hw_el_acts out = {buf, 0, ACTS_CAP};
	uint64_t rng = 7;
	struct hw_el_config c = base_cfg(3, 2);
	c.rand_arg = &rng;
	struct hw_el_hard fresh = HW_EL_HARD_FRESH;
	struct hw_el cand, wit;
	c.self = 1;
	hw_el_init(&cand, &c, &fresh, 0);
	c.self = 2; /* the witness of a fresh cluster votes once its restart promise lapsed */
	hw_el_init(&wit, &c, &fresh, 0);

	hw_el_on_tick(&cand, 1000, &out); /* pre-vote: no PERSIST, asks about epoch 1 */
	assert_int_equal(cand.role, HW_EL_CANDIDATE);
	assert_int_equal(cand.hard.epoch, 0);
	assert_int_equal(count(&out, HW_EL_PERSIST), 0);
	assert_int_equal(count(&out, HW_EL_SEND_VOTE_REQ), 2);
	struct hw_el_vote_req req = find(&out, HW_EL_SEND_VOTE_REQ)->m.vote_req;
	assert_true(req.pre);
	assert_int_equal(req.epoch, 1);
	out.n = 0;
	hw_el_on_vote_req(&wit, 1, &req, 1001, &out); /* would vote, changes nothing */
	assert_int_equal(out.n, 1);
	struct hw_el_vote v = find(&out, HW_EL_SEND_VOTE)->m.vote;
	assert_true(v.granted && v.pre);
	assert_int_equal(wit.hard.epoch, 0);
	assert_int_equal(wit.hard.voted_for, NONE);

	out.n = 0;
	hw_el_on_vote(&cand, 2, &v, 1002, &out); /* majority of would-votes: real election */
	assert_int_equal(out.n, 1);
	const struct hw_el_act *pa = find(&out, HW_EL_PERSIST);
	assert_int_equal(pa->hard.epoch, 1);
	assert_int_equal(pa->hard.voted_for, 1);
	struct hw_el_hard h = pa->hard;
	out.n = 0;
	hw_el_on_persisted(&cand, &fresh, 1003, &out); /* older: nothing */
	assert_int_equal(out.n, 0);
	hw_el_on_persisted(&cand, &h, 1004, &out);
	assert_int_equal(count(&out, HW_EL_SEND_VOTE_REQ), 2);
	req = find(&out, HW_EL_SEND_VOTE_REQ)->m.vote_req;
	assert_false(req.pre);

	out.n = 0;
	hw_el_on_vote_req(&wit, 1, &req, 1005, &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(find(&out, HW_EL_PERSIST)->hard.voted_for, 1);
	h = out.v[0].hard;
	out.n = 0;
	hw_el_on_vote_req(&wit, 1, &req, 1006, &out); /* a resend: still nothing to send */
	assert_int_equal(count(&out, HW_EL_SEND_VOTE), 0);
	hw_el_on_persisted(&wit, &h, 1007, &out);
	assert_int_equal(count(&out, HW_EL_SEND_VOTE), 1);
	v = find(&out, HW_EL_SEND_VOTE)->m.vote;
	assert_true(v.granted && !v.pre);
	assert_int_equal(find(&out, HW_EL_SEND_VOTE)->peer, 1);
	out.n = 0;
	hw_el_on_vote(&cand, 2, &v, 1008, &out);
	assert_int_equal(cand.role, HW_EL_PRIMARY);
	assert_int_equal(find(&out, HW_EL_BECOME_PRIMARY)->epoch, 1);
	assert_int_equal(find(&out, HW_EL_BECOME_PRIMARY)->lsn, 1);
	assert_int_equal(count(&out, HW_EL_SEND_LEASE_REQ), 2);
	assert_false(hw_el_may_ack(&cand, 1008)); /* no lease yet */
}

/* An isolated primary stops acknowledging before the standby can win, with the
 * primary's clock 4% slow and the others' 4% fast (the margin's worst case), and steps
 * down LEASE_LOST; the standby wins the next epoch. */
static void test_lease_fencing(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 2);
	w->nd[0].ppm = -40000;
	w->nd[1].ppm = 40000;
	w->nd[2].ppm = 40000;
	w->delay_min = 1;
	w->delay_max = 8;
	elect(w, 0);
	run(w, 1000);
	assert_true(hw_el_may_ack(&w->nd[0].el, local(w, 0)));
	uint64_t e = w->nd[0].el.hard.epoch;
	isolate(w, 0, true);
	int64_t cut = w->t, fenced = -1;
	for (int k = 0; k < 3000 && w->owner[e + 1] == NONE; k++) {
		step(w);
		if (fenced < 0 && !hw_el_may_ack(&w->nd[0].el, local(w, 0)))
			fenced = w->t;
	}
	assert_int_equal(w->owner[e + 1], 1);
	assert_true(fenced >= 0 && fenced < w->became_at[e + 1]);
	print_message("isolated at %" PRId64 ": fenced +%" PRId64 " ms, new primary +%" PRId64
		      " ms\n",
		      cut, fenced - cut, w->became_at[e + 1] - cut);
	run(w, 300);
	assert_int_equal(w->nd[0].downs[HW_EL_DOWN_LEASE_LOST], 1);
	assert_true(w->nd[0].el.role != HW_EL_PRIMARY); /* still cut off: it keeps asking */
	free(w);
}

/* A primary whose storage failed steps down at once (STORAGE), sends no lease request
 * again, the in-sync standby takes over after detection; the failed node then refuses
 * votes and lease requests, ignores TIMEOUT_NOW and never campaigns, even with no
 * primary left. */
static void test_storage_failed_steps_down(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 2);
	elect(w, 0);
	set_log(w, 0, 1, 10, 10);
	set_log(w, 1, 1, 10, 0);
	run(w, 200);
	uint64_t e = w->nd[0].el.hard.epoch;
	int64_t failed_at = w->t;
	hw_el_on_storage_failed(&w->nd[0].el, local(w, 0), acts(w));
	run_acts(w, 0);
	assert_int_equal(w->nd[0].downs[HW_EL_DOWN_STORAGE], 1);
	assert_int_equal(w->nd[0].el.role, HW_EL_STANDBY);
	assert_false(hw_el_may_ack(&w->nd[0].el, local(w, 0)));
	hw_el_on_storage_failed(&w->nd[0].el, local(w, 0), acts(w)); /* idempotent */
	assert_int_equal(w->out.n, 0);
	hw_el_on_tick(&w->nd[0].el, local(w, 0) + 60, acts(w)); /* a renew interval later */
	for (size_t k = 0; k < w->out.n; k++)
		assert_int_not_equal(w->out.v[k].type, HW_EL_SEND_LEASE_REQ);
	run_acts(w, 0);
	for (int k = 0; k < 3000 && w->owner[e + 1] == NONE; k++)
		step(w);
	assert_int_equal(w->owner[e + 1], 1);
	assert_true(w->became_at[e + 1] - failed_at <=
		    2 * (w->cfg.detection_ms + w->cfg.election_ms));
	/* the failed node refuses a vote and a lease, and a hand-over does not wake it */
	struct hw_el_vote_req vr = {.epoch = e + 2,
				    .candidate = 1,
				    .last_epoch = e + 1,
				    .last_lsn = 10,
				    .durable_lsn = 10};
	hw_el_on_vote_req(&w->nd[0].el, 1, &vr, local(w, 0), acts(w));
	assert_int_equal(w->out.n, 1);
	assert_false(w->out.v[0].m.vote.granted);
	assert_int_equal(w->out.v[0].m.vote.reason, HW_EL_R_STORAGE_FAILED);
	w->out.n = 0;
	struct hw_el_lease_req lr = {.epoch = e + 1, .round = 99};
	hw_el_on_lease_req(&w->nd[0].el, 1, &lr, local(w, 0), acts(w));
	assert_int_equal(w->out.n, 1);
	assert_false(w->out.v[0].m.lease_ack.granted);
	assert_int_equal(w->out.v[0].m.lease_ack.epoch, e + 1);
	w->out.n = 0;
	hw_el_on_timeout_now(&w->nd[0].el, 1, e + 1, local(w, 0), acts(w));
	assert_int_equal(w->nd[0].el.role, HW_EL_STANDBY);
	struct hw_el_range all = {1, UINT64_MAX};
	assert_int_equal(hw_el_on_forced_promote(&w->nd[0].el, &all, local(w, 0), acts(w)),
			 HW_ESTORE_FAILED);
	w->out.n = 0;
	/* the new primary dies: nobody is left who may lead, and the failed node stays out */
	crash(w, 1);
	run(w, 3000);
	assert_int_equal(w->nd[0].el.role, HW_EL_STANDBY);
	assert_int_equal(primary_of(w), -1);
	free(w);
}

/* A standby whose storage failed refuses the primary's lease rounds in its epoch: the
 * primary keeps holding its lease with the witness, and remembers the refusals (status
 * says "refused by s1 (storage_failed)", not that s1 is unreached). */
static void test_storage_failed_voter_refuses_lease(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 2);
	elect(w, 0);
	run(w, 200);
	const struct hw_el *p = &w->nd[0].el;
	assert_int_equal(p->refused_sent_ms[1], INT64_MIN);
	int64_t acked = p->acked_sent_ms[1];
	hw_el_on_storage_failed(&w->nd[1].el, local(w, 1), acts(w));
	run_acts(w, 1);
	run(w, 200);
	assert_true(hw_el_may_ack(p, local(w, 0)));
	assert_int_equal(p->acked_sent_ms[1], acked); /* no grant since */
	uint64_t r = p->round - 1;
	assert_true(p->refused_sent_ms[1] >= p->round_sent_ms[r % HW_EL_ROUNDS]);
	free(w);
}

/* A standby whose state awaits a snapshot (stale: a rejoin of a pruned log) never stands,
 * not when its primary dies, not at a TIMEOUT_NOW, not forced (HW_ESTALE), though it
 * holds every committed entry; it still votes, and once the snapshot clears the mark it
 * takes over like any standby. */
static void test_stale_never_stands(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 5);
	elect(w, 0);
	set_log(w, 0, 1, 10, 10);
	w->nd[1].stale = true;
	set_log(w, 1, 1, 10, 0);
	run(w, 200);
	uint64_t e = w->nd[0].el.hard.epoch;
	hw_el_on_timeout_now(&w->nd[1].el, 0, e, local(w, 1), acts(w));
	assert_int_equal(w->nd[1].el.role, HW_EL_STANDBY);
	w->out.n = 0;
	struct hw_el_range all = {1, UINT64_MAX};
	assert_int_equal(hw_el_on_forced_promote(&w->nd[1].el, &all, local(w, 1), acts(w)),
			 HW_ESTALE);
	w->out.n = 0;
	crash(w, 0);
	run(w, 3000);
	assert_int_equal(primary_of(w), -1);
	assert_int_equal(w->owner[e + 1], NONE);
	assert_int_equal(w->nd[1].el.hard.epoch, e); /* not even a campaign raised it */
	/* its snapshot installed: it stands and wins */
	w->nd[1].stale = false;
	ev_progress(w, 1);
	run(w, 3000);
	assert_int_equal(primary_of(w), 1);
	free(w);
}

/* With RPO 0, the witness refuses a standby that lacks committed records (NOT_IN_SYNC,
 * with the committed and required LSNs), records it out of sync, and lists the loss. */
static void test_refused_outside_rpo0(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 3);
	elect(w, 0);
	set_log(w, 1, 1, 60, 0);
	w->nd[0].peer_durable[1] = 60;
	set_log(w, 0, 1, 100, 100);
	run(w, 200);
	const struct hw_el *wit = &w->nd[2].el;
	assert_int_equal(hw_el_required_lsn(wit), 100);
	assert_false(hw_el_in_sync(wit, 1));
	crash(w, 0);
	run(w, 3000);
	assert_int_equal(w->max_primary_epoch, 1);
	assert_int_equal(w->nd[1].el.why[2], HW_EL_R_NOT_IN_SYNC);
	assert_int_equal(w->nd[1].el.w_committed_seen, 100);
	struct hw_el_range r;
	assert_int_equal(hw_el_loss_range(wit, 1, 60, 1, &r), 0);
	assert_int_equal(r.from, 61);
	assert_int_equal(r.to, 100);
	assert_string_equal(hw_el_reason_name(HW_EL_R_NOT_IN_SYNC), "not_in_sync");
	free(w);
}

/* With RPO 1 s, a standby 0.5 s of commits behind is promoted and one 1.5 s behind is
 * refused: the witness turns the time window into an LSN bound from its samples. */
static void test_rpo_window(void **state)
{
	(void)state;
	static const uint64_t lags[] = {500, 1500};
	for (int k = 0; k < 2; k++) {
		struct hw_el_config c = base_cfg(3, 2);
		c.rpo_ms = 1000;
		struct world *w = world_new(3, c, 4);
		elect(w, 0);
		uint64_t lsn = 0;
		for (int ms = 0; ms < 3000; ms++) { /* one commit per ms */
			lsn++;
			uint64_t sb = lsn > lags[k] ? lsn - lags[k] : 0;
			set_log(w, 1, 1, sb, 0);
			w->nd[0].peer_durable[1] = sb;
			set_log(w, 0, 1, lsn, lsn);
			step(w);
		}
		assert_true(hw_el_in_sync(&w->nd[2].el, 1) == (k == 0));
		crash(w, 0);
		run(w, 2000);
		if (k == 0) {
			assert_int_equal(w->owner[2], 1);
		} else {
			assert_int_equal(w->max_primary_epoch, 1);
			assert_int_equal(w->nd[1].el.why[2], HW_EL_R_NOT_IN_SYNC);
		}
		free(w);
	}
}

/* Five voters (p0, s1..s3, the witness) at rpo 1 s: the primary committed 1..100 and
 * died, and the witness's gate, judging by the commit frontier 1 s back, would let s3
 * (durable to 60) win. With the records on k_min = 2 standbys (s1, s2) it cannot: every
 * majority without p0 holds s1 or s2, which refuse it as BEHIND, as at rpo 0. With them
 * on one standby (s1, which does not stand), s2 or s3 wins with the witness and each
 * other, and 61..100 are lost: why a submit in a mode that promises no loss waits for
 * k_min standbys at rpo t too (engine/config.h hw_config_k_min). */
static void test_rpo_t_needs_k_min(void **state)
{
	(void)state;
	for (uint32_t k = 2; k >= 1; k--) {
		struct hw_el_config c = base_cfg(5, 4);
		c.rpo_ms = 1000;
		struct world *w = world_new(5, c, 21 + k);
		elect(w, 0);
		for (uint32_t i = 1; i <= 3; i++) {
			uint64_t lsn = i <= k ? 100 : 60;
			set_log(w, i, 1, lsn, 0);
			w->nd[0].peer_durable[i] = lsn;
		}
		set_log(w, 0, 1, 100, 100);
		run(w, 200);
		const struct hw_el *wit = &w->nd[4].el;
		assert_true(hw_el_in_sync(wit, 3)); /* the witness's gate would pass s3 */
		for (uint32_t i = 1; i <= k; i++)   /* the holders do not stand */
			w->nd[i].el.last_heard_ms = local(w, i) + 1000000;
		crash(w, 0);
		run(w, 3000);
		if (k == 2) { /* wait for the three answers to one pre-vote round */
			const struct hw_el *s3 = &w->nd[3].el;
			for (int n = 0; n < 1000 && (s3->why[1] == HW_EL_R_NONE ||
						     s3->why[2] == HW_EL_R_NONE || !s3->granted[4]);
			     n++)
				step(w);
			assert_int_equal(w->max_primary_epoch, 1);
			assert_int_equal(s3->why[1], HW_EL_R_BEHIND);
			assert_int_equal(s3->why[2], HW_EL_R_BEHIND);
			assert_true(s3->granted[4]);
		} else {
			uint32_t p = w->owner[w->max_primary_epoch];
			assert_true(w->max_primary_epoch > 1 && (p == 2 || p == 3));
			assert_int_equal(w->nd[p].log_lsn, 60);
		}
		free(w);
	}
}

/* The witness judges by the stricter of its own rpo and the one the primary's lease
 * requests carry (engine/core/election.h hw_el_witness_rpo_ms): left at 1 h while the
 * nodes run at 1 s, it refuses a standby 1.5 s of commits behind, which it would promote
 * by its own rpo (its history is shorter than an hour: the oldest sample), and promotes
 * one 0.5 s behind; at 1 s under a primary at 1 h it keeps its own; a primary that sends
 * no rpo (an older one) leaves it its own too. */
static void test_rpo_witness_stricter(void **state)
{
	(void)state;
	static const struct {
		int64_t witness_ms, primary_ms;
		bool old_primary;
		uint64_t lag;
		bool promoted;
		int64_t judged_ms;
	} cases[] = {
		{3600000, 1000, false, 1500, false, 1000},
		{3600000, 1000, false, 500, true, 1000},
		{1000, 3600000, false, 1500, false, 1000},
		{3600000, 1000, true, 1500, true, 3600000},
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct hw_el_config c = base_cfg(3, 2);
		c.rpo_ms = cases[k].primary_ms;
		struct world *w = world_new(3, c, 6);
		w->witness_rpo_set = true;
		w->witness_rpo_ms = cases[k].witness_ms;
		w->old_primary = cases[k].old_primary;
		node_start(w, 2, false);
		assert_int_equal(hw_el_witness_rpo_ms(&w->nd[2].el), cases[k].witness_ms);
		elect(w, 0);
		uint64_t lsn = 0;
		for (int ms = 0; ms < 3000; ms++) { /* one commit per ms */
			lsn++;
			uint64_t sb = lsn > cases[k].lag ? lsn - cases[k].lag : 0;
			set_log(w, 1, 1, sb, 0);
			w->nd[0].peer_durable[1] = sb;
			set_log(w, 0, 1, lsn, lsn);
			step(w);
		}
		assert_int_equal(hw_el_witness_rpo_ms(&w->nd[2].el), cases[k].judged_ms);
		assert_true(hw_el_in_sync(&w->nd[2].el, 1) == cases[k].promoted);
		crash(w, 0);
		run(w, 2000);
		if (cases[k].promoted) {
			assert_int_equal(w->owner[2], 1);
		} else {
			assert_int_equal(w->max_primary_epoch, 1);
			assert_int_equal(w->nd[1].el.why[2], HW_EL_R_NOT_IN_SYNC);
		}
		free(w);
	}
}

/* Three voters, seed 5: the primary committed 1..100 and died; the standby holds 1..60
 * (epoch 1), and the witness knows 100 was committed. */
static struct world *behind_and_primary_gone(void)
{
	struct world *w = world_new(3, base_cfg(3, 2), 5);
	elect(w, 0);
	set_log(w, 1, 1, 60, 0);
	w->nd[0].peer_durable[1] = 60;
	set_log(w, 0, 1, 100, 100);
	run(w, 200);
	crash(w, 0);
	run(w, 1000);
	return w;
}

/* Forced promotion: the witness lists the exact loss; a range that does not cover it is
 * refused (LOSS_NOT_ACCEPTED), the exact one is granted and recorded, and the new
 * primary gives out LSNs from its own durable + 1. */
static void test_forced_promotion(void **state)
{
	(void)state;
	struct world *w = behind_and_primary_gone();
	struct hw_el_range loss;
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 60, 1, &loss), 0);
	assert_int_equal(loss.from, 61);
	assert_int_equal(loss.to, 100);
	/* a candidate whose log holds epoch 2, which the witness never heard of: a primary
	 * elected without it may have committed past 100, so the loss is unbounded */
	struct hw_el_range unbounded;
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 60, 2, &unbounded), HW_ENOTFOUND);
	assert_int_equal(unbounded.from, 61);
	assert_int_equal(unbounded.to, UINT64_MAX);

	struct hw_el_range short_by_one = {61, 99}, beyond = {62, 100};
	assert_int_equal(hw_el_on_forced_promote(&w->nd[1].el, &beyond, local(w, 1), acts(w)),
			 HW_ERANGE);
	run_acts(w, 1);
	assert_int_equal(hw_el_on_forced_promote(&w->nd[1].el, &short_by_one, local(w, 1), acts(w)),
			 0);
	run_acts(w, 1);
	run(w, 50);
	assert_int_equal(w->max_primary_epoch, 1);
	assert_int_equal(w->nd[1].el.why[2], HW_EL_R_LOSS_NOT_ACCEPTED);

	w->forced_seen = true;
	assert_int_equal(hw_el_on_forced_promote(&w->nd[1].el, &loss, local(w, 1), acts(w)), 0);
	run_acts(w, 1);
	run(w, 100);
	int p = primary_of(w);
	assert_int_equal(p, 1);
	assert_int_equal(w->nd[1].became_lsn, 61);
	assert_true(w->nd[2].el.w_forced_set);
	assert_int_equal(w->nd[2].el.w_forced.from, 61);
	assert_int_equal(w->nd[2].el.w_forced.to, 100);
	free(w);
}

/* A forced promotion of a standby whose log holds an epoch the witness never heard of
 * (a primary elected without it, which may have acknowledged past what the witness
 * knows): the witness lists the loss as unbounded, refuses a forced vote accepting only
 * up to its committed LSN, and grants one accepting everything after the durable LSN. */
static void test_forced_promotion_stale_witness(void **state)
{
	(void)state;
	struct world *w = behind_and_primary_gone();
	set_log(w, 1, 2, 60, 0); /* its last entries came from an epoch 2 the witness missed */
	struct hw_el_range loss, known = {61, 100};
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 60, 2, &loss), HW_ENOTFOUND);
	assert_int_equal(loss.to, UINT64_MAX);
	w->forced_seen = true;
	assert_int_equal(hw_el_on_forced_promote(&w->nd[1].el, &known, local(w, 1), acts(w)), 0);
	run_acts(w, 1);
	run(w, 50);
	assert_int_equal(w->nd[1].el.why[2], HW_EL_R_LOSS_NOT_ACCEPTED);
	assert_true(primary_of(w) < 0);
	assert_int_equal(hw_el_on_forced_promote(&w->nd[1].el, &loss, local(w, 1), acts(w)), 0);
	run_acts(w, 1);
	run(w, 100);
	assert_int_equal(primary_of(w), 1);
	assert_int_equal(w->nd[2].el.w_forced.to, UINT64_MAX);
	free(w);
}

/* Switchover: the primary pauses, waits for the target to hold its last LSN, gives up
 * its lease and hands over; the target wins the next epoch within a few message delays,
 * the old primary steps down SWITCHOVER, nothing is lost. Errors for bad requests. */
static void test_switchover(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 6);
	elect(w, 0);
	set_log(w, 1, 1, 90, 0);
	w->nd[0].peer_durable[1] = 90;
	set_log(w, 0, 1, 100, 90);
	run(w, 100);
	assert_int_equal(hw_el_on_switchover(&w->nd[1].el, 0, local(w, 1), acts(w)),
			 HW_ENOT_PRIMARY);
	assert_int_equal(hw_el_on_switchover(&w->nd[0].el, 2, local(w, 0), acts(w)), HW_ECONFIG);
	assert_int_equal(hw_el_on_switchover(&w->nd[0].el, 1, local(w, 0), acts(w)), 0);
	assert_int_equal(count(&w->out, HW_EL_PAUSE_SUBMITS), 1);
	assert_int_equal(count(&w->out, HW_EL_SEND_TIMEOUT_NOW), 0);
	run_acts(w, 0);
	assert_int_equal(hw_el_on_switchover(&w->nd[0].el, 1, local(w, 0), acts(w)), HW_EBUSY);
	run(w, 100);
	assert_true(hw_el_may_ack(&w->nd[0].el, local(w, 0))); /* still waiting: lease kept */
	assert_int_equal(w->max_primary_epoch, 1);

	set_log(w, 1, 1, 100, 0);
	w->nd[0].peer_durable[1] = 100;
	int64_t t0 = w->t;
	set_log(w, 0, 1, 100, 100);
	assert_false(hw_el_may_ack(&w->nd[0].el, local(w, 0)));
	for (int k = 0; k < 500 && w->owner[2] == NONE; k++)
		step(w);
	assert_int_equal(w->owner[2], 1);
	print_message("switchover: target won %" PRId64 " ms after it caught up\n",
		      w->became_at[2] - t0);
	assert_true(w->became_at[2] - t0 < 50);
	assert_int_equal(w->nd[1].became_lsn, 101);
	run(w, 100);
	assert_int_equal(w->nd[0].downs[HW_EL_DOWN_SWITCHOVER], 1);
	assert_int_equal(w->nd[0].el.hard.epoch, 2);
	assert_true(hw_el_may_ack(&w->nd[1].el, local(w, 1)));
	free(w);
}

/* A switchover whose target never catches up is abandoned after xfer_timeout_ms: the
 * primary resumes submits and keeps its lease. */
static void test_switchover_timeout(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 7);
	elect(w, 0);
	set_log(w, 0, 1, 100, 90);
	assert_int_equal(hw_el_on_switchover(&w->nd[0].el, 1, local(w, 0), acts(w)), 0);
	run_acts(w, 0);
	assert_true(w->nd[0].paused);
	run(w, 600);
	assert_false(w->nd[0].paused);
	assert_true(hw_el_may_ack(&w->nd[0].el, local(w, 0)));
	assert_int_equal(w->max_primary_epoch, 1);
	free(w);
}

/* Two standbys that start an election on the same tick split the vote (no primary in
 * that epoch); their randomised retries differ, and a later epoch elects one of them:
 * the one the witness voted for in the split epoch, since only it may have won that
 * epoch without the witness hearing of it (the witness vouches for it alone). */
static void test_split_vote(void **state)
{
	(void)state;
	struct world *w = world_new(4, base_cfg(4, 3), 8);
	elect(w, 0);
	w->delay_min = w->delay_max = 10;
	uint64_t e = w->nd[0].el.hard.epoch;
	crash(w, 0);
	w->tick_every = 400; /* both see the silence on the same tick */
	for (int k = 0;
	     k < 3000 && !(w->nd[1].el.hard.epoch == e + 1 && w->nd[2].el.hard.epoch == e + 1); k++)
		step(w);
	assert_int_equal(w->nd[1].el.role, HW_EL_CANDIDATE);
	assert_int_equal(w->nd[2].el.role, HW_EL_CANDIDATE);
	assert_false(w->nd[1].el.pre || w->nd[2].el.pre);
	assert_int_equal(w->nd[1].el.hard.epoch, e + 1);
	assert_int_equal(w->nd[2].el.hard.epoch, e + 1);
	int64_t d1 = w->nd[1].el.deadline_ms - local(w, 1);
	int64_t d2 = w->nd[2].el.deadline_ms - local(w, 2);
	w->tick_every = 1;
	uint32_t wv = NONE; /* whom the witness voted for in the split epoch */
	for (int k = 0; k < 3000 && primary_of(w) < 0; k++) {
		step(w);
		if (wv == NONE && w->nd[3].el.hard.voted_epoch == e + 1)
			wv = w->nd[3].el.hard.voted_for;
	}
	int p = primary_of(w);
	assert_true(p == 1 || p == 2);
	assert_int_equal((uint32_t)p, wv);
	assert_int_equal(w->owner[e + 1], NONE); /* the split epoch elected nobody */
	assert_true(w->max_primary_epoch >= e + 2);
	print_message("split vote: retry in %" PRId64 " / %" PRId64 " ms, node %d won epoch "
		      "%" PRIu64 "\n",
		      d1, d2, p, w->max_primary_epoch);
	assert_true(d1 != d2);
	free(w);
}

/* A higher epoch in any message makes a primary step down and adopt it; a lower-epoch
 * lease request is refused with the current epoch. */
static void test_higher_epoch_steps_down(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 10);
	elect(w, 0);
	struct hw_el_lease_req old = {.epoch = 0, .round = 1};
	hw_el_on_lease_req(&w->nd[1].el, 0, &old, local(w, 1), acts(w));
	assert_int_equal(w->out.n, 1);
	assert_false(w->out.v[0].m.lease_ack.granted);
	assert_int_equal(w->out.v[0].m.lease_ack.epoch, 1);
	w->out.n = 0;

	struct hw_el_lease_ack ack = {.epoch = 7, .round = 1, .granted = false};
	hw_el_on_lease_ack(&w->nd[0].el, 1, &ack, local(w, 0), acts(w));
	assert_int_equal(find(&w->out, HW_EL_STEP_DOWN)->code, HW_EL_DOWN_HIGHER_EPOCH);
	assert_int_equal(find(&w->out, HW_EL_STEP_DOWN)->epoch, 7);
	assert_int_equal(find(&w->out, HW_EL_PERSIST)->hard.epoch, 7);
	assert_false(hw_el_may_ack(&w->nd[0].el, local(w, 0)));
	assert_int_equal(w->nd[0].el.role, HW_EL_STANDBY);
	run_acts(w, 0);
	free(w);
}

/* F27: P dies, S is promoted and commits more, S dies, the old P returns alone: it must
 * not be promoted (its log lacks what S committed). */
static void test_old_primary_returns(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 13);
	elect(w, 0);
	set_log(w, 1, 1, 100, 0);
	w->nd[0].peer_durable[1] = 100;
	set_log(w, 0, 1, 100, 100);
	run(w, 100);
	crash(w, 0);
	for (int k = 0; k < 2000 && w->owner[2] == NONE; k++)
		step(w);
	assert_int_equal(w->owner[2], 1);
	set_log(w, 1, 2, 150, 150);
	run(w, 200);
	crash(w, 1);
	node_start(w, 0, false);
	run(w, 3000);
	/* each pre-vote round clears why[]: wait for the witness's answer to the current one */
	for (int k = 0; k < 1000 && w->nd[0].el.why[2] == HW_EL_R_NONE; k++)
		step(w);
	assert_int_equal(w->max_primary_epoch, 2);
	assert_int_equal(w->nd[0].el.why[2], HW_EL_R_NOT_IN_SYNC);
	free(w);
}

/* ---------------------------------------------------------------- randomised */

#define R_RUNS 300
#define R_MS   6000

struct r_stats {
	size_t becomes, crashes, cuts, switchovers, healthy;
};

static void r_faults(struct world *w, struct r_stats *st, int64_t *down_until)
{
	uint32_t i = (uint32_t)below(w, w->n);
	uint64_t dice = below(w, 10000);
	if (dice < 4 && w->nd[i].up) {
		crash(w, i);
		down_until[i] = w->t + 100 + (int64_t)below(w, 1500);
		st->crashes++;
	} else if (dice < 14) {
		uint32_t j = (uint32_t)below(w, w->n);
		if (i != j) {
			w->link[i][j] = !w->link[i][j];
			st->cuts++;
		}
	} else if (dice < 17) {
		for (uint32_t a = 0; a < w->n; a++)
			for (uint32_t b = 0; b < w->n; b++)
				w->link[a][b] = true;
	} else if (dice < 19) {
		int p = primary_of(w);
		uint32_t to = (uint32_t)below(w, w->n - 1);
		if (p >= 0 && (int)to != p &&
		    hw_el_on_switchover(&w->nd[p].el, to, local(w, (uint32_t)p), acts(w)) == 0)
			st->switchovers++;
		if (p >= 0)
			run_acts(w, (uint32_t)p);
	}
	for (uint32_t k = 0; k < w->n; k++)
		if (!w->nd[k].up && w->t >= down_until[k])
			node_start(w, k, false);
}

static void dump(const struct world *w)
{
	fprintf(stderr, "seed %" PRIu64 " t=%" PRId64 " max primary epoch %" PRIu64 "\n", w->seed,
		w->t, w->max_primary_epoch);
	for (uint32_t i = 0; i < w->n; i++) {
		const struct hw_el *e = &w->nd[i].el;
		fprintf(stderr,
			"  node %u role %d epoch %" PRIu64 " voted %" PRIu64 "/%u log (%" PRIu64
			",%" PRIu64 ") why %d %d %d %d info %d/%" PRIu64
			" vouch %u committed %" PRIu64 " promise %u until %" PRId64 " now %" PRId64
			"\n",
			i, (int)e->role, e->hard.epoch, e->hard.voted_epoch, e->hard.voted_for,
			w->nd[i].log_epoch, w->nd[i].log_lsn, e->why[0], e->why[1], e->why[2],
			e->why[3], e->w_info, e->hard.w_epoch, e->hard.w_vouch, e->hard.w_committed,
			e->promise_to, e->promise_until_ms, local(w, i));
	}
}

static void r_run(uint64_t seed, struct r_stats *st)
{
	uint32_t n = seed % 2 == 0 ? 3 : 4;
	struct world *w = world_new(n, base_cfg(n, n - 1), seed);
	w->model = true;
	w->delay_min = 1;
	w->delay_max = 1 + (int64_t)below(w, 20);
	w->persist_delay = 1 + (int64_t)below(w, 5);
	for (uint32_t i = 0; i < n; i++) {
		w->nd[i].off_ms = (int64_t)below(w, 1000000);
		w->nd[i].ppm = (int64_t)below(w, 40001) - 20000;
	}
	int64_t down_until[NMAX] = {0};
	for (int64_t k = 0; k < R_MS; k++) {
		r_faults(w, st, down_until);
		step(w);
	}
	/* heal: everything up and connected; a primary must hold a lease again */
	for (uint32_t a = 0; a < n; a++) {
		for (uint32_t b = 0; b < n; b++)
			w->link[a][b] = true;
		if (!w->nd[a].up)
			node_start(w, a, false);
	}
	run(w, 3000);
	int p = primary_of(w);
	if (p >= 0 && hw_el_may_ack(&w->nd[p].el, local(w, (uint32_t)p)))
		st->healthy++;
	else if (getenv("HW_DEBUG_EL") != NULL)
		dump(w);
	st->becomes += w->becomes;
	free(w);
}

/* Seeded runs of 3 or 4 voters with crashes (unsynced disk writes lost), one-way link
 * cuts, delays and reordering, clocks drifting up to 2% apart, switchovers and a log
 * model: the world's checks hold after every event (one primary per epoch, the fence,
 * votes persisted first, no acknowledged record missing on a new primary), and after
 * healing the cluster has a primary holding a lease again. */
static void test_randomised(void **state)
{
	(void)state;
	uint64_t base = 0x5eed0001;
	const char *env = getenv("HW_SEED");
	if (env != NULL)
		base = strtoull(env, NULL, 0);
	print_message("test_randomised: seed base 0x%" PRIx64 " (HW_SEED=... to replay), %d "
		      "runs\n",
		      base, R_RUNS);
	struct r_stats st = {0};
	for (uint64_t r = 0; r < R_RUNS; r++)
		r_run(base + r, &st);
	print_message("test_randomised: %zu elections won, %zu crashes, %zu link flips, %zu "
		      "switchovers, %zu/%d runs healthy after healing\n",
		      st.becomes, st.crashes, st.cuts, st.switchovers, st.healthy, R_RUNS);
	assert_true(st.becomes > 2 * R_RUNS);
	assert_true(st.switchovers > 50);
	assert_int_equal(st.healthy, R_RUNS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bootstrap),
		cmocka_unit_test(test_votes_wait_for_persist),
		cmocka_unit_test(test_lease_fencing),
		cmocka_unit_test(test_storage_failed_steps_down),
		cmocka_unit_test(test_storage_failed_voter_refuses_lease),
		cmocka_unit_test(test_stale_never_stands),
		cmocka_unit_test(test_refused_outside_rpo0),
		cmocka_unit_test(test_rpo_window),
		cmocka_unit_test(test_rpo_witness_stricter),
		cmocka_unit_test(test_rpo_t_needs_k_min),
		cmocka_unit_test(test_forced_promotion),
		cmocka_unit_test(test_forced_promotion_stale_witness),
		cmocka_unit_test(test_switchover),
		cmocka_unit_test(test_switchover_timeout),
		cmocka_unit_test(test_split_vote),
		cmocka_unit_test(test_higher_epoch_steps_down),
		cmocka_unit_test(test_old_primary_returns),
		cmocka_unit_test(test_randomised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
