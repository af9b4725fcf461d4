/* test_sim.c: the simulator's own parts (chaos/sim.h): the simulated disk loses what was
 * not flushed and finds a torn write, its faults are sticky and hit at every point of a
 * sweep, the network keeps a stream in order and drops what a partition cuts, a run is
 * a pure function of its seed, and the checks fail when the promise they guard is
 * broken (a checker that cannot fail proves nothing). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chaos/sim.h"

/* ---------------------------------------------------------------- disk */

static struct sim_entry log_buf[SIM_LOG_MAX];

static struct sim_entry entry_after(const struct sim_disk *d, uint64_t payload)
{
	struct sim_entry e = {.epoch = 1,
			      .lsn = d->n + 1,
			      .record_id = d->n,
			      .payload = payload,
			      .prev_hash = sim_disk_hash_at(d, d->n)};
	e.hash = sim_entry_hash(&e);
	return e;
}

static void flush_all(struct sim_disk *d, struct sim_rng *r, int64_t *now)
{
	assert_int_equal(sim_disk_queue(d, r, *now, SIM_IO_FLUSH, d->n, NULL), 0);
	struct sim_io io;
	int err;
	for (int i = 0; i < 100; i++, (*now)++)
		if (sim_disk_due(d, *now, &io, &err))
			break;
	assert_int_equal(err, 0);
}

/* Three entries written, two flushed, then a crash that tears the third: restart keeps
 * exactly the two flushed ones and reports the torn one. */
static void test_disk_crash(void **state)
{
	(void)state;
	struct sim_disk d;
	struct sim_rng r;
	int64_t now = 0;
	sim_rng_seed(&r, 1);
	sim_disk_init(&d, log_buf, 1, 5);
	for (uint64_t i = 0; i < 2; i++) {
		struct sim_entry e = entry_after(&d, i);
		assert_int_equal(sim_disk_append(&d, &e), 0);
	}
	flush_all(&d, &r, &now);
	assert_int_equal(d.durable, 2);
	struct sim_entry e = entry_after(&d, 99);
	assert_int_equal(sim_disk_append(&d, &e), 0);
	assert_int_equal(d.n, 3);
	sim_disk_crash(&d, true);
	assert_int_equal(d.n, 2);
	assert_true(d.torn);
	assert_int_equal(sim_disk_recover(&d), 1);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.durable, 2);
	assert_int_equal(d.torn_found, 1);
}

/* An fsync failure reports -EIO and makes nothing durable; a truncation shrinks a flush
 * still in flight, so it cannot make later entries durable by accident. */
static void test_disk_sync_fault(void **state)
{
	(void)state;
	struct sim_disk d;
	struct sim_rng r;
	sim_rng_seed(&r, 2);
	sim_disk_init(&d, log_buf, 0, 0);
	struct sim_entry e = entry_after(&d, 1);
	assert_int_equal(sim_disk_append(&d, &e), 0);
	hw_fault_arm(&d.sync_fault, 0, 1);
	assert_int_equal(sim_disk_queue(&d, &r, 0, SIM_IO_FLUSH, 1, NULL), 0);
	struct sim_io io;
	int err;
	assert_true(sim_disk_due(&d, 0, &io, &err));
	assert_int_equal(err, -EIO);
	assert_int_equal(d.durable, 0);
	assert_int_equal(d.sync_errors, 1);
	/* a flush of 1 in flight, the log rewound to 0 and rewritten: the flush covers 0 */
	assert_int_equal(sim_disk_queue(&d, &r, 0, SIM_IO_FLUSH, 1, NULL), 0);
	sim_disk_truncate(&d, 0);
	e = entry_after(&d, 2);
	assert_int_equal(sim_disk_append(&d, &e), 0);
	assert_true(sim_disk_due(&d, 0, &io, &err));
	assert_int_equal(err, 0);
	assert_int_equal(d.durable, 0);
}

/* STYLE.md 10: sweep the write fault's countdown from 0 until five appends succeed; every
 * failure point is hit exactly once and nothing is written by a failed call. */
static void test_disk_write_fault_sweep(void **state)
{
	(void)state;
	int countdown = 0;
	for (;; countdown++) {
		struct sim_disk d;
		sim_disk_init(&d, log_buf, 0, 0);
		hw_fault_arm(&d.write_fault, countdown, 1);
		int failed_at = -1;
		for (int i = 0; i < 5; i++) {
			struct sim_entry e = entry_after(&d, (uint64_t)i);
			if (sim_disk_append(&d, &e) != 0) {
				failed_at = i;
				break;
			}
		}
		if (failed_at < 0)
			break;
		assert_int_equal(failed_at, countdown);
		assert_int_equal(d.n, (uint64_t)countdown);
		assert_int_equal(d.write_errors, 1);
	}
	assert_int_equal(countdown, 5);
}

/* ---------------------------------------------------------------- network */

static struct sim_msg pool[SIM_NET_MAX];

/* A stream delivers in send order whatever the random delays; a datagram link with
 * certain duplication delivers two copies; a cut link delivers nothing. */
static void test_net(void **state)
{
	(void)state;
	struct sim_net *net = calloc(1, sizeof *net);
	assert_non_null(net);
	struct sim_rng r;
	sim_rng_seed(&r, 3);
	sim_net_init(net, pool);
	net->link[0][1] = (struct sim_link){
		.up = true, .delay_min_ms = 1, .delay_max_ms = 50, .loss_ppm = 200000};
	for (uint64_t i = 1; i <= 50; i++) {
		struct sim_msg m = {
			.type = SIM_M_HB, .from = 0, .to = 1, .conn = 7, .stream_seq = i};
		sim_net_send(net, &r, (int64_t)i, &m, true);
	}
	struct sim_msg m;
	uint64_t expect = 1;
	for (int64_t t = 0; t < 2000; t++)
		while (sim_net_pop(net, t, &m)) {
			assert_int_equal(m.stream_seq, expect);
			expect++;
		}
	assert_int_equal(expect, 51); /* loss on a stream is a retransmission, not a gap */
	net->link[1][0] = (struct sim_link){.up = true, .delay_max_ms = 3, .dup_ppm = 1000000};
	struct sim_msg d = {.type = SIM_M_VOTE, .from = 1, .to = 0};
	sim_net_send(net, &r, 0, &d, false);
	int copies = 0;
	for (int64_t t = 0; t < 100; t++)
		while (sim_net_pop(net, t, &m))
			copies++;
	assert_int_equal(copies, 2);
	sim_net_isolate(net, 1, 2, true, false);
	sim_net_send(net, &r, 0, &d, false);
	assert_false(sim_net_pop(net, 1000, &m));
	sim_net_heal(net);
	sim_net_send(net, &r, 0, &d, false);
	assert_true(sim_net_pop(net, 1000, &m));
	free(net);
}

/* ---------------------------------------------------------------- runs */

static int world_setup(void **state)
{
	*state = sim_world_new();
	return *state == NULL ? -1 : 0;
}

static int world_teardown(void **state)
{
	sim_world_free(*state);
	return 0;
}

/* The same seed twice gives the same end state, to the bit; another seed another. */
static void test_deterministic(void **state)
{
	struct sim_world *w = *state;
	struct sim_params p = {.seed = 42, .profile = SIM_PROFILE_ALL, .steps = 3000};
	assert_int_equal(sim_run(w, &p), 0);
	uint64_t a = sim_digest(w), acked = w->st.acked[HW_MODE_DURABLE];
	assert_int_equal(sim_run(w, &p), 0);
	assert_int_equal(sim_digest(w), a);
	assert_int_equal(w->st.acked[HW_MODE_DURABLE], acked);
	p.seed = 43;
	assert_int_equal(sim_run(w, &p), 0);
	assert_int_not_equal(sim_digest(w), a);
}

/* Twenty seeds of every profile hold every invariant, and between them the faults the
 * profiles name really happen (elections, crashes, partitions, rewinds). */
static void test_profiles_clean(void **state)
{
	struct sim_world *w = *state;
	uint64_t elections = 0, crashes = 0, partitions = 0, rewinds = 0, acked = 0;
	for (int prof = 0; prof < SIM_PROFILES; prof++)
		for (uint64_t s = 0; s < 20; s++) {
			struct sim_params p = {
				.seed = 1000 + s, .profile = (enum sim_profile)prof, .steps = 3000};
			if (sim_run(w, &p) != 0)
				fail_msg("seed %llu %s: %s at step %llu: %s",
					 (unsigned long long)p.seed, sim_profile_name(p.profile),
					 w->v.name, (unsigned long long)w->v.step, w->v.detail);
			elections += w->st.elections;
			crashes += w->st.crashes;
			partitions += w->st.partitions;
			rewinds += w->st.rewinds;
			acked += w->st.acked[HW_MODE_DURABLE];
		}
	assert_true(elections > 80);
	assert_true(crashes > 5);
	assert_true(partitions > 20);
	assert_true(rewinds > 0);
	assert_true(acked > 1000);
}

/* After a clean run, dropping an acknowledged DURABLE k >= 1 record from the final
 * primary's log in a rewind is reported as P-DUR.rewound. */
static void test_checker_rewind(void **state)
{
	struct sim_world *w = *state;
	struct sim_params p = {.seed = 7, .profile = SIM_PROFILE_NONE, .steps = 2000};
	assert_int_equal(sim_run(w, &p), 0);
	for (uint32_t i = 0; i < w->data; i++) {
		if (w->nd[i].dr != SIM_DR_PRIMARY)
			continue;
		const struct sim_disk *d = &w->nd[i].disk;
		for (uint64_t lsn = d->n; lsn > 0; lsn--) {
			const struct sim_rec *r = &w->hist[d->log[lsn - 1].record_id];
			if (r->state == SIM_REC_ACKED && r->mode == HW_MODE_DURABLE && r->k >= 1) {
				sim_check_truncate(w, i, lsn - 1);
				assert_true(w->v.set);
				assert_string_equal(w->v.name, "P-DUR.rewound");
				return;
			}
		}
	}
	fail_msg("no acknowledged durable record on the final primary");
}

/* Twenty seeds of profile all at rpo 400 ms hold every promise, P-RPO included, while
 * their failovers do lose acknowledged records (within the rpo) and the RPO t rule does
 * hold acknowledgements back. */
static void test_rpo_clean(void **state)
{
	struct sim_world *w = *state;
	uint64_t lost = 0, held = 0, elections = 0;
	for (uint64_t s = 0; s < 20; s++) {
		struct sim_params p = {
			.seed = 2000 + s, .profile = SIM_PROFILE_ALL, .steps = 3000, .rpo_ms = 400};
		if (sim_run(w, &p) != 0)
			fail_msg("seed %llu rpo 400: %s at step %llu: %s",
				 (unsigned long long)p.seed, w->v.name,
				 (unsigned long long)w->v.step, w->v.detail);
		assert_int_equal(w->rpo_ms, 400);
		assert_true(w->rcfg.max_ahead_ms > 0 && w->rcfg.max_ahead_ms < 400);
		assert_true(w->rcfg.ahead_k >= hw_el_k_min(w->nodes));
		assert_true(w->rpo_span_max <= 400);
		lost += w->st.rpo_lost;
		held += w->st.rpo_held_ms;
		elections += w->st.rpo_elections;
	}
	assert_true(elections > 40);
	assert_true(lost > 0);
	assert_true(held > 0);
}

/* Five voters at rpo 400 ms: seeds whose failovers lost durable and received records of
 * k 1 while a primary raised no k at rpo t (k_min 0 there, and P-DUR exempted them).
 * With k_min 2 at rpo t as at rpo 0 (engine/config.h hw_config_k_min) every received,
 * durable or applied record is acknowledged on 2 standbys and P-DUR, checking them at
 * rpo t too, finds none lost; dropping one in a rewind is reported as P-DUR.rewound. */
static void test_rpo_k_min(void **state)
{
	struct sim_world *w = *state;
	static const uint64_t seeds[] = {773067035528, 773067035635, 773067035736};
	uint64_t guarded = 0;
	for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		struct sim_params p = {.seed = seeds[s],
				       .profile = SIM_PROFILE_ALL,
				       .steps = 10000,
				       .rpo_ms = 400};
		if (sim_run(w, &p) != 0)
			fail_msg("seed %llu rpo 400: %s at step %llu: %s",
				 (unsigned long long)p.seed, w->v.name,
				 (unsigned long long)w->v.step, w->v.detail);
		assert_int_equal(w->nodes, 5);
		assert_int_equal(w->rcfg.k_min, 2);
		assert_true(w->st.rpo_elections > 0);
		for (uint64_t t = 0; t < w->nhist; t++) {
			const struct sim_rec *r = &w->hist[t];
			if (r->state != SIM_REC_ACKED || r->mode == HW_MODE_LOCAL)
				continue;
			assert_true(r->k >= 2);
			assert_true(sim_rec_protected(r) || r->at_risk);
			guarded++;
		}
	}
	assert_true(guarded > 1000);
	for (uint32_t i = 0; i < w->data; i++) {
		const struct sim_disk *d = &w->nd[i].disk;
		for (uint64_t lsn = d->n; lsn > 0 && w->nd[i].dr == SIM_DR_PRIMARY; lsn--) {
			const struct sim_rec *r = &w->hist[d->log[lsn - 1].record_id];
			if (r->state == SIM_REC_ACKED && r->mode == HW_MODE_DURABLE) {
				sim_check_truncate(w, i, lsn - 1);
				assert_true(w->v.set);
				assert_string_equal(w->v.name, "P-DUR.rewound");
				return;
			}
		}
	}
	fail_msg("no acknowledged durable record on the final primary");
}

/* The record acknowledged earliest among those above lsn (NULL: none). */
static const struct sim_rec *oldest_above(const struct sim_world *w, uint64_t lsn)
{
	const struct sim_rec *o = NULL;
	for (uint64_t t = 0; t < w->nhist; t++) {
		const struct sim_rec *r = &w->hist[t];
		if (r->state == SIM_REC_ACKED && r->lsn > lsn &&
		    (o == NULL || r->acked_at < o->acked_at))
			o = r;
	}
	return o;
}

/* At rpo t, a node elected with a log that lacks only records acknowledged in the last t
 * before the newest acknowledgement passes P-RPO (the loss is counted); one that lacks a
 * record acknowledged earlier than that is reported as P-RPO. */
static void test_checker_rpo(void **state)
{
	struct sim_world *w = *state;
	struct sim_params p = {
		.seed = 9, .profile = SIM_PROFILE_NONE, .steps = 3000, .rpo_ms = 400};
	assert_int_equal(sim_run(w, &p), 0);
	struct sim_disk *d = &w->nd[0].disk;
	uint64_t n = d->n, cut = n;
	while (cut > 0 && oldest_above(w, cut - 1) != NULL &&
	       w->last_ack_at - oldest_above(w, cut - 1)->acked_at <= w->rpo_ms)
		cut--;
	assert_true(cut < n && cut > 0); /* some records are recent, some older */
	uint64_t lost = w->st.rpo_lost, e = w->max_primary_epoch + 1;
	d->n = cut; /* node 0's log as if it had never received the rest */
	sim_check_become(w, 0, e);
	assert_false(w->v.set);
	assert_true(w->st.rpo_lost > lost);
	assert_true(w->rpo_span_max <= w->rpo_ms);
	d->n = cut - 1;
	sim_check_become(w, 0, e + 1);
	assert_true(w->v.set);
	assert_string_equal(w->v.name, "P-RPO");
	d->n = n;
}

/* Two nodes elected in one epoch is reported as P-SB.epoch_owner. */
static void test_checker_two_primaries(void **state)
{
	struct sim_world *w = *state;
	struct sim_params p = {.seed = 8, .profile = SIM_PROFILE_NONE, .steps = 1000};
	assert_int_equal(sim_run(w, &p), 0);
	uint64_t e = w->max_primary_epoch;
	assert_true(e >= 1);
	uint32_t other = (w->owner[e] - 1u + 1u) % w->data;
	sim_check_become(w, other, e);
	assert_true(w->v.set);
	assert_string_equal(w->v.name, "P-SB.epoch_owner");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disk_crash),
		cmocka_unit_test(test_disk_sync_fault),
		cmocka_unit_test(test_disk_write_fault_sweep),
		cmocka_unit_test(test_net),
		cmocka_unit_test_setup_teardown(test_deterministic, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_profiles_clean, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_checker_rewind, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_checker_two_primaries, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_rpo_clean, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_checker_rpo, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_rpo_k_min, world_setup, world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
