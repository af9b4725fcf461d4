/* test_election_witness.c: the election core (engine/core/election.h) and its witness,
 * in the fake world of election_world.h: what a witness promised holds a vote back and
 * covers a primary's lease; a cluster keeps its primary with the witness down, and a
 * witness restarted empty or wiped is taken as new, without a second primary. */
#include "tests/unit/election_world.h"

/* The witness of a 3-voter cluster (its lease 200 ms), just started in epoch 1, and
 * voter 0's lease request of round 3 carrying lease_ms, which it is to take. */
static struct hw_el_lease_req witness_asked(struct hw_el *wit, struct hw_el_config *c,
					    uint64_t *rng, int64_t lease_ms)
{
	*c = base_cfg(3, 2);
	c->self = 2;
	c->rand_arg = rng;
	struct hw_el_hard h = {1, 1, 0, NONE, 0, 0, 0};
	hw_el_init(wit, c, &h, 0);
	struct hw_el_lease_req lr = {
		.epoch = 1, .round = 3, .committed_lsn = 10, .lease_ms = lease_ms};
	lr.durable[1] = 10;
	return lr;
}

/* That witness, having granted the request at t = 1000 ms; out empty. */
static void promised_witness(struct hw_el *wit, struct hw_el_config *c, uint64_t *rng,
			     int64_t lease_ms, struct hw_el_acts *out)
{
	struct hw_el_lease_req lr = witness_asked(wit, c, rng, lease_ms);
	out->n = 0;
	hw_el_on_lease_req(wit, 0, &lr, 1000, out);
	assert_true(find(out, HW_EL_SEND_LEASE_ACK)->m.lease_ack.granted);
	out->n = 0;
}

/* That witness for a primary whose lease, 400 ms, is longer than its own: the first
 * request goes unanswered while the longer promise is persisted; once it is durable the
 * next one, at t = 1000 ms, is granted. *disk: the hard state it persisted. */
static void promised_long(struct hw_el *wit, struct hw_el_config *c, uint64_t *rng,
			  struct hw_el_hard *disk, struct hw_el_acts *out)
{
	struct hw_el_lease_req lr = witness_asked(wit, c, rng, 400);
	out->n = 0;
	hw_el_on_lease_req(wit, 0, &lr, 990, out);
	assert_int_equal(count(out, HW_EL_SEND_LEASE_ACK), 0);
	assert_int_equal(count(out, HW_EL_PERSIST), 1);
	*disk = find(out, HW_EL_PERSIST)->hard;
	assert_int_equal(disk->lease_ms, 400);
	out->n = 0;
	hw_el_on_persisted(wit, disk, 995, out);
	out->n = 0;
	lr.round = 4;
	hw_el_on_lease_req(wit, 0, &lr, 1000, out);
	assert_true(find(out, HW_EL_SEND_LEASE_ACK)->m.lease_ack.granted);
	out->n = 0;
}

/* A voter that acked a lease refuses a vote (LEASE, its epoch unchanged) until its
 * promise expires, then grants. */
static void test_promise_blocks_vote(void **state)
{
	(void)state;
	struct hw_el_act buf[ACTS_CAP];
	struct hw_el_acts out = {buf, 0, ACTS_CAP};
	uint64_t rng = 9;
	struct hw_el_config c;
	struct hw_el wit;
	promised_witness(&wit, &c, &rng, 0, &out);
	struct hw_el_vote_req vr = {
		.epoch = 2, .candidate = 1, .last_epoch = 1, .last_lsn = 10, .durable_lsn = 10};
	hw_el_on_vote_req(&wit, 1, &vr, 1100, &out);
	assert_int_equal(out.n, 1);
	assert_false(out.v[0].m.vote.granted);
	assert_int_equal(out.v[0].m.vote.reason, HW_EL_R_LEASE);
	assert_int_equal(out.v[0].m.vote.epoch, 1);
	assert_int_equal(wit.hard.epoch, 1);
	out.n = 0;
	hw_el_on_vote_req(&wit, 1, &vr, 1199, &out);
	assert_int_equal(out.v[0].m.vote.reason, HW_EL_R_LEASE);
	out.n = 0;
	hw_el_on_vote_req(&wit, 1, &vr, 1200, &out);
	assert_int_equal(count(&out, HW_EL_PERSIST), 1);
	assert_int_equal(wit.hard.epoch, 2);
	struct hw_el_hard h = find(&out, HW_EL_PERSIST)->hard;
	out.n = 0;
	hw_el_on_persisted(&wit, &h, 1201, &out);
	assert_true(find(&out, HW_EL_SEND_VOTE)->m.vote.granted);
}

/* A voter whose own lease is shorter than the primary's (their configs differ while
 * an operator changes them) promises for the primary's once that is in its hard state,
 * and again after a restart, so the primary's lease never outlives a voter's promise; a
 * lease past HW_EL_LEASE_MS_MAX is not taken at its word. */
static void test_promise_covers_primary_lease(void **state)
{
	(void)state;
	struct hw_el_act buf[ACTS_CAP];
	struct hw_el_acts out = {buf, 0, ACTS_CAP};
	uint64_t rng = 9;
	struct hw_el_config c;
	struct hw_el wit;
	struct hw_el_hard disk;
	promised_long(&wit, &c, &rng, &disk, &out);
	struct hw_el_vote_req vr = {
		.epoch = 2, .candidate = 1, .last_epoch = 1, .last_lsn = 10, .durable_lsn = 10};
	hw_el_on_vote_req(&wit, 1, &vr, 1399, &out); /* its own 200 ms would have ended */
	assert_int_equal(out.n, 1);
	assert_false(out.v[0].m.vote.granted);
	assert_int_equal(out.v[0].m.vote.reason, HW_EL_R_LEASE);
	out.n = 0;
	hw_el_on_vote_req(&wit, 1, &vr, 1400, &out);
	assert_int_equal(count(&out, HW_EL_PERSIST), 1);

	/* restarted from what it persisted, it promises that lease again from its start, not
	 * only its own 200 ms (it knows no committed LSN since: NO_INFO once bound no more) */
	out.n = 0;
	hw_el_init(&wit, &c, &disk, 2000);
	hw_el_on_vote_req(&wit, 1, &vr, 2399, &out);
	assert_int_equal(out.v[0].m.vote.reason, HW_EL_R_LEASE);
	out.n = 0;
	hw_el_on_vote_req(&wit, 1, &vr, 2400, &out);
	assert_int_not_equal(out.v[0].m.vote.reason, HW_EL_R_LEASE);

	promised_witness(&wit, &c, &rng, HW_EL_LEASE_MS_MAX + 1, &out);
	hw_el_on_vote_req(&wit, 1, &vr, 1200, &out);
	assert_int_equal(count(&out, HW_EL_PERSIST), 1);
}

/* With the witness down, primary and standby still form a majority (2 of 3): the lease
 * holds at every millisecond for 5 s and no election happens. */
static void test_witness_down(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 11);
	elect(w, 0);
	crash(w, 2);
	for (int k = 0; k < 5000; k++) {
		step(w);
		assert_true(hw_el_may_ack(&w->nd[0].el, local(w, 0)));
	}
	assert_int_equal(w->max_primary_epoch, 1);
	assert_int_equal(w->nd[0].el.hard.epoch, 1);
	assert_int_equal(w->nd[0].downs[HW_EL_DOWN_LEASE_LOST], 0);
	free(w);
}

/* A witness restarted from its disk keeps its commit knowledge. One restarted empty
 * while the primary is gone refuses to authorise a promotion it cannot justify (NO_INFO;
 * the loss is unbounded), unless forced with that unbounded range; restarted empty while
 * the primary lives, it learns the frontier from the next lease request. */
static void test_witness_restarted_empty(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 12);
	elect(w, 0);
	set_log(w, 1, 1, 50, 0);
	w->nd[0].peer_durable[1] = 50;
	set_log(w, 0, 1, 50, 50);
	run(w, 200);
	assert_true(hw_el_in_sync(&w->nd[2].el, 1));

	crash(w, 2); /* restarted from its disk: it kept what it knew */
	node_start(w, 2, false);
	struct hw_el_range r;
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 40, 1, &r), 0);
	assert_int_equal(r.to, 50);

	crash(w, 2); /* wiped witness, primary alive: learns again */
	node_start(w, 2, true);
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 50, 1, &r), HW_ENOTFOUND);
	run(w, 100);
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 50, 1, &r), 0);
	assert_true(r.from > r.to);

	crash(w, 0); /* now the primary dies and the witness is wiped at once */
	crash(w, 2);
	node_start(w, 2, true);
	run(w, 3000);
	assert_int_equal(w->max_primary_epoch, 1);
	assert_int_equal(w->nd[1].el.why[2], HW_EL_R_NO_INFO);
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 50, 1, &r), HW_ENOTFOUND);
	assert_int_equal(r.from, 51);
	assert_int_equal(r.to, UINT64_MAX);
	w->forced_seen = true;
	assert_int_equal(hw_el_on_forced_promote(&w->nd[1].el, &r, local(w, 1), acts(w)), 0);
	run_acts(w, 1);
	run(w, 200);
	assert_int_equal(primary_of(w), 1);
	free(w);
}

/* The witness's store is wiped and made anew, so it starts as a new cluster's witness
 * (epoch 0, nothing committed), while the primary is gone: a standby whose log holds
 * epoch-1 entries proves the witness's knowledge stale and is refused (no_info), so
 * nobody is promoted as if nothing had been committed; once the old primary returns
 * and the two nodes elect a primary, its lease requests make the witness's knowledge
 * current again. */
static void test_witness_wiped_as_new(void **state)
{
	(void)state;
	struct world *w = world_new(3, base_cfg(3, 2), 14);
	elect(w, 0);
	set_log(w, 1, 1, 50, 40);
	w->nd[0].peer_durable[1] = 40;
	set_log(w, 0, 1, 50, 50);
	run(w, 200);
	crash(w, 0);
	crash(w, 2);
	w->nd[2].disk = HW_EL_HARD_FRESH; /* a new empty store: looks like a new cluster */
	node_start(w, 2, false);
	run(w, 3000);
	assert_int_equal(w->max_primary_epoch, 1);
	assert_int_equal(w->nd[1].el.why[2], HW_EL_R_NO_INFO);

	node_start(w, 0, false); /* the old primary returns: the two nodes elect one */
	run(w, 3000);
	uint32_t p = primary_of(w);
	assert_true(p == 0 || p == 1);
	assert_true(w->max_primary_epoch > 1);
	assert_int_equal(w->nd[2].el.hard.w_epoch, w->nd[p].el.hard.epoch);
	struct hw_el_range r;
	assert_int_equal(hw_el_loss_range(&w->nd[2].el, 1, 0, 1, &r), 0); /* knows again */
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_promise_blocks_vote),
		cmocka_unit_test(test_promise_covers_primary_lease),
		cmocka_unit_test(test_witness_down),
		cmocka_unit_test(test_witness_restarted_empty),
		cmocka_unit_test(test_witness_wiped_as_new),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
