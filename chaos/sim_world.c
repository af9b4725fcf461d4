/* sim_world.c: one simulated run (chaos/sim.h): the cluster and its fault mix drawn from
 * the seed, then a loop of 1 ms steps (faults, messages due, disk completions due, each
 * node's timers, clients), the invariants after every step, and at the end a heal: every
 * fault lifted and every node up, until the cluster converges or the liveness check
 * gives up.
 *
 * Time: w->t is true time in ms. A node sees only its own monotonic clock, off + t +
 * t * ppm / 1e6 with a drift of at most 1 % either way (so two clocks differ in rate by
 * at most 2 %, inside the election's drift margin of 20 ms per 200 ms lease = 5 %), and
 * a wall clock that jumps, which only goes into records as data: the cores never see
 * it. A paused node processes nothing; its timers fire late when it resumes. */
#include "chaos/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/rng.h"
#include "engine/core/targets.h"

/* Heal phase: at most this long for the cluster to converge (an election takes about
 * detection 250 ms + backoff 100 ms + a few round trips; a stalled connection 400 ms). */
#define HEAL_MS_MAX 8000

static const char *const profile_names[SIM_PROFILES] = {"none", "network", "storage", "all"};

const char *sim_profile_name(enum sim_profile p)
{
	return (unsigned)p < SIM_PROFILES ? profile_names[p] : "?";
}

int sim_profile_parse(const char *name)
{
	for (int i = 0; name != NULL && i < SIM_PROFILES; i++)
		if (strcmp(name, profile_names[i]) == 0)
			return i;
	return -1;
}

int64_t sim_local(const struct sim_world *w, uint32_t i)
{
	const struct sim_node *n = &w->nd[i];
	return n->off_ms + w->t + w->t * n->ppm / 1000000;
}

int64_t sim_wall(const struct sim_world *w, uint32_t i)
{
	return sim_local(w, i) + w->nd[i].wall_off_ms;
}

/* ---------------------------------------------------------------- randomness */

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	hw_xoshiro_seed(r->s, seed);
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	return hw_xoshiro_next(r->s);
}

uint64_t sim_below(struct sim_rng *r, uint64_t n)
{
	return n == 0 ? 0 : sim_rng_next(r) % n;
}

int64_t sim_range(struct sim_rng *r, int64_t lo, int64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (int64_t)sim_below(r, (uint64_t)(hi - lo) + 1u);
}

bool sim_chance(struct sim_rng *r, uint32_t ppm)
{
	return ppm > 0 && sim_below(r, 1000000u) < ppm;
}

uint64_t sim_mix(uint64_t x)
{
	return hw_mix64(x);
}

/* ---------------------------------------------------------------- world */

void sim_trace(const struct sim_world *w, const char *fmt, ...)
{
	printf("  t=%lld ", (long long)w->t);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

struct sim_world *sim_world_new(void)
{
	struct sim_world *w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->logs = calloc((size_t)SIM_NODES_MAX * SIM_LOG_MAX, sizeof *w->logs);
	w->hist = calloc(SIM_LOG_MAX, sizeof *w->hist);
	w->owner = calloc(SIM_EPOCH_MAX, 1);
	w->pool = calloc(SIM_NET_MAX, sizeof *w->pool);
	if (w->logs == NULL || w->hist == NULL || w->owner == NULL || w->pool == NULL) {
		sim_world_free(w);
		return NULL;
	}
	return w;
}

void sim_world_free(struct sim_world *w)
{
	if (w == NULL)
		return;
	free(w->logs);
	free(w->hist);
	free(w->owner);
	free(w->pool);
	free(w);
}

/* ---------------------------------------------------------------- setup */

/* ppm in 0..hi, but zero in a quarter of runs: swarm testing wants runs without it. */
static uint32_t some(struct sim_rng *r, uint32_t lo, uint32_t hi)
{
	if (sim_below(r, 4) == 0)
		return 0;
	return (uint32_t)sim_range(r, lo, hi);
}

static bool has_net(const struct sim_world *w)
{
	return w->prm.profile == SIM_PROFILE_NETWORK || w->prm.profile == SIM_PROFILE_ALL;
}

static bool has_disk(const struct sim_world *w)
{
	return w->prm.profile == SIM_PROFILE_STORAGE || w->prm.profile == SIM_PROFILE_ALL;
}

static void draw_rates(struct sim_world *w)
{
	struct sim_rng *r = &w->rng;
	struct sim_rates *k = &w->rates;
	memset(k, 0, sizeof *k);
	k->submit_ppm = (uint32_t)sim_range(r, 50000, 500000);
	k->xfer_ppm = (uint32_t)sim_range(r, 0, 400);
	k->tight_acts = sim_below(r, 4) == 0;
	k->down_min_ms = 50;
	k->down_max_ms = sim_range(r, 100, 2500);
	k->pause_max_ms = sim_range(r, 100, 1500);
	if (has_net(w)) {
		k->part_ppm = some(r, 100, 2000);
		k->heal_ppm = (uint32_t)sim_range(r, 500, 5000);
		k->pause_ppm = some(r, 20, 400);
	}
	if (has_disk(w)) {
		k->crash_ppm = some(r, 50, 800);
		k->sync_fault_every = sim_below(r, 2) == 0 ? 0 : (uint32_t)sim_range(r, 100, 3000);
		k->write_fault_every = sim_below(r, 2) == 0 ? 0 : (uint32_t)sim_range(r, 100, 3000);
	}
	if (w->prm.profile == SIM_PROFILE_ALL)
		k->jump_ppm = some(r, 50, 500);
}

static void draw_links(struct sim_world *w)
{
	struct sim_rng *r = &w->rng;
	int64_t dmin = sim_range(r, 0, 5), dmax = dmin + sim_range(r, 0, 30);
	uint32_t loss = has_net(w) ? some(r, 1, 300000) : 0;
	uint32_t dup = has_net(w) ? some(r, 1, 500000) : 0;
	w->net.raw_streams = has_net(w) && sim_below(r, 8) == 0;
	for (uint32_t a = 0; a < w->nodes; a++)
		for (uint32_t b = 0; b < w->nodes; b++) {
			struct sim_link *l = &w->net.link[a][b];
			l->delay_min_ms = dmin;
			l->delay_max_ms = dmin + sim_range(r, 0, dmax - dmin);
			/* each direction its own share of the run's loss and duplication */
			l->loss_ppm = (uint32_t)sim_below(r, (uint64_t)loss + 1);
			l->dup_ppm = (uint32_t)sim_below(r, (uint64_t)dup + 1);
		}
}

static void arm_faults(struct sim_world *w, uint32_t i)
{
	struct sim_disk *d = &w->nd[i].disk;
	uint32_t s = w->rates.sync_fault_every, wr = w->rates.write_fault_every;
	hw_fault_init(&d->sync_fault);
	hw_fault_init(&d->write_fault);
	if (s != 0 && !w->healing)
		hw_fault_arm(&d->sync_fault, (int)sim_range(&w->rng, s / 2, s + s / 2), 1);
	if (wr != 0 && !w->healing)
		hw_fault_arm(&d->write_fault, (int)sim_range(&w->rng, wr / 2, wr + wr / 2), 1);
}

/* The clocks' rate bound the plan is told: sim_local drifts by up to 1 % either way. */
#define SIM_DRIFT_PPM 10000

/* Clamp every link's delay to at most max_ms (a run at a small rpo needs a network whose
 * delays its plan accepts: "rpo T ms is not above the M ms ..."). */
static void clamp_delays(struct sim_world *w, int64_t max_ms)
{
	for (uint32_t a = 0; a < w->nodes; a++)
		for (uint32_t b = 0; b < w->nodes; b++) {
			struct sim_link *l = &w->net.link[a][b];
			if (l->delay_max_ms > max_ms)
				l->delay_max_ms = max_ms;
			if (l->delay_min_ms > l->delay_max_ms)
				l->delay_min_ms = l->delay_max_ms;
		}
}

/* The RPO of a run (struct sim_params.rpo_ms) and what it implies, drawn from a source of
 * its own, so a run at rpo 0 takes exactly the course it took before runs at rpo t
 * existed (and kept seeds replay). At rpo t, as a node with [failover] sets up
 * (engine/node_targets.c hw__targets_config, engine/node_election.c hw__node_k_min): k_min
 * as at rpo 0; the RPO t rule on hw_tg_ahead_k(durability.k, voters) standbys (k drawn: 1 in
 * half the runs, else 1 .. standbys) with max_ahead_ms = rpo - margin from the planner,
 * told the run's largest link delay as its p99 heartbeat delay and the clocks' 1 %
 * drift; the replay budget it plans. The election cores get the rpo too; the witness
 * mostly the same, but one run in eight a witness left at 10 x the rpo (the
 * misconfiguration its lease requests reveal) and one in eight at half of it (stricter:
 * its own then wins). One run in four refuses submits while the rule holds
 * acknowledgements (rpo_action = fail). */
static void setup_rpo(struct sim_world *w)
{
	struct sim_rng r;
	sim_rng_seed(&r, w->prm.seed ^ 0x52504f2074207331ull);
	bool on = sim_below(&r, SIM_RPO_SHARE_DIV) == 0;
	int64_t t = sim_range(&r, SIM_RPO_MIN_MS, SIM_RPO_MAX_MS);
	if (w->prm.rpo_ms != SIM_RPO_SHARE) {
		on = w->prm.rpo_ms > 0;
		t = w->prm.rpo_ms;
	}
	uint32_t standbys = w->data - 1;
	uint32_t k = sim_below(&r, 2) == 0 ? 1 : 1 + (uint32_t)sim_below(&r, standbys);
	uint64_t wit = sim_below(&r, 8);
	bool fail = sim_below(&r, 4) == 0;
	if (!on)
		return;
	int64_t drift = (2 * SIM_DRIFT_PPM * t + 999999) / 1000000;
	clamp_delays(w, (t - drift - 1) / HW_TG_JITTER_FACTOR);
	int64_t dmin = INT64_MAX, dmax = 0;
	for (uint32_t a = 0; a < w->nodes; a++)
		for (uint32_t b = 0; b < w->nodes; b++) {
			const struct sim_link *l = &w->net.link[a][b];
			dmax = l->delay_max_ms > dmax ? l->delay_max_ms : dmax;
			dmin = l->delay_min_ms < dmin ? l->delay_min_ms : dmin;
		}
	struct hw_tg_input in;
	struct hw_tg_plan plan;
	hw_tg_input_defaults(&in, 60000, t, k); /* the timers are the sim's, not the plan's */
	in.jitter_p99_us = dmax * 1000;
	in.jitter_spread_us = dmax > dmin ? (dmax - dmin) * 1000 : 1;
	in.jitter_measured = true;
	in.drift_ppm = SIM_DRIFT_PPM;
	int rc = hw_tg_plan(&in, &plan);
	HW_ASSERT(rc == 0 && plan.rule == HW_TG_RULE_AHEAD);
	w->rpo_ms = t;
	w->w_rpo_ms = wit == 0 ? 10 * t : wit == 1 ? t / 2 : t;
	w->rpo_fail = fail;
	w->rcfg.max_ahead_ms = plan.max_ahead_ms;
	w->rcfg.ahead_k = hw_tg_ahead_k(k, w->nodes, standbys);
	w->rcfg.replay_budget = plan.replay_budget_records > 0 ? plan.replay_budget_records : 1;
	w->ecfg.rpo_ms = t;
#ifdef HW_MUTATION_RPO_LOOSE
	/* the mutation: the cluster runs at ten times the rpo P-RPO checks (its rule, its
	 * election cores), as a plan that took the wrong unit would */
	w->rcfg.max_ahead_ms *= 10;
	w->w_rpo_ms *= 10;
	w->ecfg.rpo_ms *= 10;
#endif
	w->st.rpo_runs++;
}

static void setup(struct sim_world *w, const struct sim_params *prm)
{
	struct sim_entry *logs = w->logs;
	struct sim_rec *hist = w->hist;
	uint8_t *owner = w->owner;
	struct sim_msg *pool = w->pool;
	memset(w, 0, sizeof *w);
	w->logs = logs;
	w->hist = hist;
	w->owner = owner;
	w->pool = pool;
	memset(owner, 0, SIM_EPOCH_MAX);
	w->prm = *prm;
	sim_rng_seed(&w->rng, prm->seed);
	w->data = 2 + (uint32_t)sim_below(&w->rng, 3);
	w->nodes = w->data + 1;
	w->rcfg = (struct hw_repl_config){
		.standbys = w->data - 1,
		.k_min = hw_el_k_min(w->nodes), /* at any rpo, as hw_config_k_min */
		.window_records = (uint64_t)sim_range(&w->rng, 1, SIM_FRAME_ENTRIES),
		.waiters_max = SIM_WAITERS,
		.heartbeat_ms = 50,
		.peer_timeout_ms = 400,
	};
	w->ecfg = (struct hw_el_config){
		.voters = w->nodes,
		.witness = w->data,
		.renew_ms = 50,
		.lease_ms = 200,
		.drift_margin_ms = 20,
		.detection_ms = 250,
		.election_ms = 100,
		.backoff_ms = 100,
		.rpo_ms = 0,
		.xfer_timeout_ms = 500,
	};
	draw_rates(w);
	sim_net_init(&w->net, pool);
	draw_links(w);
	setup_rpo(w);
	int64_t lat_min = sim_range(&w->rng, 0, 2);
	int64_t lat_max = lat_min + sim_range(&w->rng, 0, has_disk(w) ? 40 : 10);
	for (uint32_t i = 0; i < w->nodes; i++) {
		struct sim_node *n = &w->nd[i];
		n->id = i;
		n->witness = i == w->data;
		sim_rng_seed(&n->rng, prm->seed ^ sim_mix(i + 1));
		n->off_ms = sim_range(&w->rng, 0, 1000000);
		n->ppm = sim_range(&w->rng, -10000, 10000);
		n->wall_off_ms = sim_range(&w->rng, -1000000000, 1000000000);
		sim_disk_init(&n->disk, logs + (size_t)i * SIM_LOG_MAX, lat_min, lat_max);
		arm_faults(w, i);
	}
	for (uint32_t i = 0; i < w->nodes; i++)
		sim_node_start(w, i);
}

/* ---------------------------------------------------------------- faults */

static void partition(struct sim_world *w)
{
	struct sim_rng *r = &w->rng;
	uint32_t i = (uint32_t)sim_below(r, w->nodes);
	uint32_t j = (uint32_t)sim_below(r, w->nodes);
	switch (sim_below(r, 4)) {
	case 0: /* isolate one node, both ways */
		sim_net_isolate(&w->net, i, w->nodes, true, true);
		SIM_TRACE(w, "partition: node %u isolated", i);
		break;
	case 1: /* isolate one node one way: it hears, nobody hears it (or the reverse) */
		sim_net_isolate(&w->net, i, w->nodes, sim_below(r, 2) == 0, true);
		SIM_TRACE(w, "partition: node %u isolated one way", i);
		break;
	case 2: /* one direction of one link */
		if (i != j)
			w->net.link[i][j].up = false;
		SIM_TRACE(w, "partition: link %u->%u", i, j);
		break;
	default: /* both directions of one link */
		if (i != j)
			w->net.link[i][j].up = w->net.link[j][i].up = false;
		SIM_TRACE(w, "partition: link %u<->%u", i, j);
		break;
	}
	w->st.partitions++;
}

static void switchover(struct sim_world *w)
{
	for (uint32_t i = 0; i < w->data; i++) {
		struct sim_node *n = &w->nd[i];
		if (!n->up || n->dr != SIM_DR_PRIMARY || w->t < n->paused_until)
			continue;
		uint32_t target = (uint32_t)sim_below(&w->rng, w->data - 1);
		sim_node_switchover(w, i, sim_peer_node(i, target));
		return;
	}
}

static void faults(struct sim_world *w)
{
	struct sim_rng *r = &w->rng;
	const struct sim_rates *k = &w->rates;
	uint32_t i = (uint32_t)sim_below(r, w->nodes);
	struct sim_node *n = &w->nd[i];
	if (sim_chance(r, k->crash_ppm) && n->up) {
		sim_node_crash(w, i, "crash");
		w->st.crashes++;
	}
	if (sim_chance(r, k->pause_ppm) && n->up && w->t >= n->paused_until) {
		n->paused_until = w->t + sim_range(r, 20, k->pause_max_ms);
		n->pauses++;
		w->st.pauses++;
		SIM_TRACE(w, "pause: node %u until %lld", i, (long long)n->paused_until);
	}
	if (sim_chance(r, k->part_ppm))
		partition(w);
	if (sim_chance(r, k->heal_ppm)) {
		sim_net_heal(&w->net);
		w->st.heals++;
		SIM_TRACE(w, "heal: all links up");
	}
	if (sim_chance(r, k->jump_ppm)) {
		n->wall_off_ms += sim_range(r, -3600000, 3600000);
		w->st.clock_jumps++;
	}
	if (sim_chance(r, k->xfer_ppm))
		switchover(w);
}

/* ---------------------------------------------------------------- step */

static void restarts(struct sim_world *w)
{
	for (uint32_t i = 0; i < w->nodes; i++) {
		struct sim_node *n = &w->nd[i];
		if (n->up || w->t < n->down_until)
			continue;
		arm_faults(w, i);
		sim_node_start(w, i);
		w->st.restarts++;
		SIM_TRACE(w, "restart: node %u log=%llu epoch=%llu", i,
			  (unsigned long long)n->disk.n, (unsigned long long)n->el.hard.epoch);
	}
}

static void deliver(struct sim_world *w, const struct sim_msg *m)
{
	struct sim_node *n = &w->nd[m->to];
	w->st.msgs++;
	if (!n->up || !w->net.link[m->from][m->to].up) { /* cut while in flight */
		w->st.msgs_lost++;
		return;
	}
	if (w->t < n->paused_until) {
		sim_net_defer(&w->net, m, n->paused_until);
		return;
	}
	w->st.msgs_dup += m->dup;
	sim_node_deliver(w, m);
}

/* Clients: most submits go to the node that serves as primary in the newest epoch, some
 * to any data node, so an old primary cut off from the cluster still gets work. */
static void clients(struct sim_world *w)
{
	struct sim_rng *r = &w->rng;
	if (w->healing || !sim_chance(r, w->rates.submit_ppm))
		return;
	uint32_t to = (uint32_t)sim_below(r, w->data);
	if (sim_below(r, 10) < 7) {
		uint64_t best = 0;
		for (uint32_t i = 0; i < w->data; i++)
			if (w->nd[i].up && w->nd[i].dr == SIM_DR_PRIMARY &&
			    w->nd[i].prim.epoch >= best) {
				best = w->nd[i].prim.epoch;
				to = i;
			}
	}
	uint8_t mode = (uint8_t)sim_below(r, HW_MODES);
	if (w->rpo_ms > 0) { /* what the RPO t rule holds back: local and received, mostly */
		uint64_t d = sim_below(r, 10);
		mode = d < 4   ? HW_MODE_LOCAL
		       : d < 7 ? HW_MODE_RECEIVED
		       : d < 9 ? HW_MODE_DURABLE
			       : HW_MODE_APPLIED;
	}
	uint8_t k = (uint8_t)sim_below(r, w->data);
	(void)sim_node_submit(w, to, mode, k);
}

/* What the RPO t rule and the promotion gate cost this ms (struct sim_stats). */
static void rpo_costs(struct sim_world *w)
{
	bool acking = false, held = false;
	for (uint32_t i = 0; i < w->data; i++) {
		struct sim_node *n = &w->nd[i];
		if (!n->up || n->dr != SIM_DR_PRIMARY || !hw_el_may_ack(&n->el, sim_local(w, i)))
			continue;
		acking = true;
		held = held ||
		       hw_primary_ahead_ms(&n->prim, sim_local(w, i)) > w->rcfg.max_ahead_ms;
	}
	w->st.rpo_no_primary_ms += !acking;
	w->st.rpo_held_ms += held;
}

static void step(struct sim_world *w)
{
	w->t++;
	w->step++;
	faults(w);
	restarts(w);
	struct sim_msg m;
	while (!w->v.set && sim_net_pop(&w->net, w->t, &m))
		deliver(w, &m);
	uint32_t first = (uint32_t)sim_below(&w->rng, w->nodes);
	for (uint32_t k = 0; k < w->nodes && !w->v.set; k++) {
		uint32_t i = (first + k) % w->nodes;
		struct sim_node *n = &w->nd[i];
		if (!n->up || w->t < n->paused_until)
			continue;
		sim_node_disk(w, i);
		if (n->up)
			sim_node_tick(w, i);
	}
	clients(w);
	if (w->rpo_ms > 0 && !w->healing)
		rpo_costs(w);
	sim_check_step(w);
}

/* Lift every fault, then step until the cluster converges. */
static void heal(struct sim_world *w)
{
	w->healing = true;
	SIM_TRACE(w, "heal phase");
	memset(&w->rates, 0, sizeof w->rates);
	sim_net_heal(&w->net);
	w->net.raw_streams = false;
	for (uint32_t a = 0; a < w->nodes; a++)
		for (uint32_t b = 0; b < w->nodes; b++)
			w->net.link[a][b].loss_ppm = w->net.link[a][b].dup_ppm = 0;
	for (uint32_t i = 0; i < w->nodes; i++) {
		struct sim_node *n = &w->nd[i];
		n->paused_until = 0;
		n->down_until = 0;
		hw_fault_init(&n->disk.sync_fault);
		hw_fault_init(&n->disk.write_fault);
	}
	for (int64_t k = 0; k < HEAL_MS_MAX && !w->v.set; k++) {
		step(w);
		if (k % 10 == 0 && sim_converged(w))
			break;
	}
}

int sim_run(struct sim_world *w, const struct sim_params *prm)
{
	setup(w, prm);
	while (w->step < prm->steps && !w->v.set)
		step(w);
	if (!w->v.set)
		sim_check_sweep(w);
	if (!w->v.set)
		heal(w);
	if (!w->v.set)
		sim_check_final(w);
	w->st.steps = w->step;
	w->st.msgs_lost += w->net.lost;
	return w->v.set ? 1 : 0;
}

uint64_t sim_digest(const struct sim_world *w)
{
	uint64_t h = sim_mix(w->step ^ (uint64_t)w->t);
	for (uint32_t i = 0; i < w->nodes; i++) {
		const struct sim_node *n = &w->nd[i];
		h = sim_mix(h ^ n->disk.n);
		h = sim_mix(h ^ n->disk.durable);
		h = sim_mix(h ^ sim_disk_hash_at(&n->disk, n->disk.n));
		h = sim_mix(h ^ n->el.hard.epoch ^ ((uint64_t)n->el.role << 32));
	}
	for (uint64_t t = 0; t < w->nhist; t++)
		h = sim_mix(h ^ w->hist[t].hash ^ w->hist[t].state);
	return h;
}
