/* election_world.h: the fake world test_election.c and test_election_witness.c drive the
 * election core (engine/core/election.h) through: nodes with drifting clocks, a network
 * that delays, reorders and partitions per direction, a fake disk whose writes complete
 * later and are lost on a crash, and real time advanced by hand one millisecond at a
 * time. After every event the world checks the promises (test_election.c says which). */
#ifndef HW_TESTS_ELECTION_WORLD_H
#define HW_TESTS_ELECTION_WORLD_H

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
#include "engine/core/election.h"
#include "hawser_error.h"

#define NMAX      5
#define QMAX      4096
#define PMAX      512
#define EPOCH_MAX 4096
#define ACTS_CAP  64
#define NONE      HW_EL_NONE

enum { M_LEASE_REQ, M_LEASE_ACK, M_VOTE_REQ, M_VOTE, M_TIMEOUT_NOW };

struct msg {
	int type;
	uint32_t from, to;
	int64_t at; /* real delivery time */
	union {
		struct hw_el_lease_req lease_req;
		struct hw_el_lease_ack lease_ack;
		struct hw_el_vote_req vote_req;
		struct hw_el_vote vote;
		uint64_t epoch;
	} m;
};

struct pending {
	uint32_t node;
	struct hw_el_hard h;
	int64_t at;
};

struct node {
	struct hw_el el;
	bool up;
	struct hw_el_hard disk;
	int64_t off_ms; /* local clock = t + off + t * ppm / 1e6 */
	int64_t ppm;
	uint64_t rng;
	/* log model / progress */
	uint64_t log_epoch, log_lsn, committed;
	uint64_t peer_durable[HW_EL_VOTERS_MAX];
	bool stale; /* its state awaits a snapshot (progress.stale) */
	bool paused;
	int downs[HW_EL_DOWN_STORAGE + 1]; /* STEP_DOWN count by code */
	uint64_t became_lsn;
};

struct world {
	uint64_t seed;
	uint32_t n, witness;
	struct hw_el_config cfg;
	struct node nd[NMAX];
	int64_t t;
	bool link[NMAX][NMAX];
	int64_t delay_min, delay_max, persist_delay, tick_every;
	uint64_t rng;
	struct msg q[QMAX];
	size_t nq;
	struct pending pq[PMAX];
	size_t np;
	uint32_t owner[EPOCH_MAX];
	int64_t became_at[EPOCH_MAX];
	uint64_t max_primary_epoch;
	bool model;           /* run the log model every ms */
	bool witness_rpo_set; /* the witness's own rpo is witness_rpo_ms, not cfg's */
	int64_t witness_rpo_ms;
	bool old_primary;   /* lease requests arrive without an rpo (an older primary) */
	uint64_t acked_max; /* highest LSN a primary released while may_ack */
	bool forced_seen;   /* a forced promotion may lose acked records by design */
	size_t sent_votes, sent_reqs, becomes, switchovers;
	struct hw_el_act buf[ACTS_CAP];
	struct hw_el_acts out;
};

#define W_CHECK(w, cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail_msg("seed %" PRIu64 " t=%" PRId64 ": %s", (w)->seed, (w)->t, #cond);  \
	} while (0)

static inline uint64_t node_rand(void *arg)
{
	return hw_splitmix64((uint64_t *)arg);
}

static inline uint64_t below(struct world *w, uint64_t n)
{
	return n == 0 ? 0 : hw_splitmix64(&w->rng) % n;
}

static inline int64_t local(const struct world *w, uint32_t i)
{
	const struct node *n = &w->nd[i];
	return w->t + n->off_ms + w->t * n->ppm / 1000000;
}

/* renew 50, lease 200, margin 20, detection 250, election 100, backoff 100. */
static inline struct hw_el_config base_cfg(uint32_t voters, uint32_t witness)
{
	return (struct hw_el_config){
		.voters = voters,
		.witness = witness,
		.renew_ms = 50,
		.lease_ms = 200,
		.drift_margin_ms = 20,
		.detection_ms = 250,
		.election_ms = 100,
		.backoff_ms = 100,
		.rpo_ms = 0,
		.xfer_timeout_ms = 500,
		.rand_cb = node_rand,
	};
}

static inline void node_start(struct world *w, uint32_t i, bool wiped)
{
	struct node *n = &w->nd[i];
	struct hw_el_config c = w->cfg;
	c.self = i;
	c.rand_arg = &n->rng;
	if (i == w->witness && w->witness_rpo_set)
		c.rpo_ms = w->witness_rpo_ms;
	hw_el_init(&n->el, &c, wiped ? NULL : &n->disk, local(w, i));
	if (wiped)
		n->disk = n->el.hard;
	n->up = true;
	n->paused = false;
}

/* n voters, the last one the witness, all fresh, links up, 2 ms delay, 1 ms disk. */
static inline struct world *world_new(uint32_t n, struct hw_el_config cfg, uint64_t seed)
{
	struct world *w = calloc(1, sizeof *w);
	assert_non_null(w);
	w->seed = seed;
	w->rng = seed * 2654435761u + 1;
	w->n = n;
	w->witness = n - 1;
	w->cfg = cfg;
	w->delay_min = w->delay_max = 2;
	w->persist_delay = 1;
	w->tick_every = 1;
	for (uint32_t e = 0; e < EPOCH_MAX; e++)
		w->owner[e] = NONE;
	for (uint32_t i = 0; i < n; i++) {
		w->nd[i].rng = seed * 7919 + i * 104729 + 1;
		w->nd[i].disk = HW_EL_HARD_FRESH;
		for (uint32_t j = 0; j < n; j++)
			w->link[i][j] = true;
		node_start(w, i, false);
	}
	return w;
}

static inline struct hw_el_acts *acts(struct world *w)
{
	w->out = (struct hw_el_acts){w->buf, 0, ACTS_CAP};
	return &w->out;
}

static inline void enqueue(struct world *w, struct msg *m)
{
	if (!w->link[m->from][m->to])
		return;
	W_CHECK(w, w->nq < QMAX);
	m->at = w->t + w->delay_min +
		(int64_t)below(w, (uint64_t)(w->delay_max - w->delay_min + 1));
	w->q[w->nq++] = *m;
}

/* P-SB: a node allowed to acknowledge at its own clock is primary of the newest epoch
 * that has had a primary. */
static inline void check_fence(struct world *w)
{
	for (uint32_t i = 0; i < w->n; i++) {
		const struct node *n = &w->nd[i];
		if (!n->up || !hw_el_may_ack(&n->el, local(w, i)))
			continue;
		W_CHECK(w, n->el.role == HW_EL_PRIMARY);
		W_CHECK(w, w->max_primary_epoch == n->el.hard.epoch);
		W_CHECK(w, w->owner[n->el.hard.epoch] == i);
	}
}

static inline void on_become(struct world *w, uint32_t i, const struct hw_el_act *a)
{
	struct node *n = &w->nd[i];
	W_CHECK(w, a->epoch < EPOCH_MAX);
	W_CHECK(w, w->owner[a->epoch] == NONE); /* one primary per epoch */
	W_CHECK(w, a->epoch > w->max_primary_epoch);
	W_CHECK(w, a->epoch == n->el.hard.epoch && n->disk.voted_epoch == a->epoch);
	w->owner[a->epoch] = i;
	w->became_at[a->epoch] = w->t;
	w->max_primary_epoch = a->epoch;
	w->becomes++;
	n->became_lsn = a->lsn;
	n->committed = 0; /* what it committed as an earlier primary is not this epoch's */
	memset(n->peer_durable, 0, sizeof n->peer_durable);
	if (w->model && !w->forced_seen)
		W_CHECK(w, n->log_lsn >= w->acked_max); /* P-DUR */
}

static inline void run_acts(struct world *w, uint32_t i)
{
	struct node *n = &w->nd[i];
	for (size_t k = 0; k < w->out.n; k++) {
		const struct hw_el_act *a = &w->out.v[k];
		struct msg m = {.from = i, .to = a->peer};
		switch (a->type) {
		case HW_EL_SEND_LEASE_REQ:
			m.type = M_LEASE_REQ;
			m.m.lease_req = a->m.lease_req;
			enqueue(w, &m);
			break;
		case HW_EL_SEND_LEASE_ACK:
			m.type = M_LEASE_ACK;
			m.m.lease_ack = a->m.lease_ack;
			enqueue(w, &m);
			break;
		case HW_EL_SEND_VOTE_REQ:
			/* the candidate's own vote is on disk before it asks (a pre-vote
			 * asks what would happen and needs nothing on disk) */
			W_CHECK(w,
				a->m.vote_req.pre || (n->disk.voted_epoch == a->m.vote_req.epoch &&
						      n->disk.voted_for == i));
			w->sent_reqs++;
			m.type = M_VOTE_REQ;
			m.m.vote_req = a->m.vote_req;
			enqueue(w, &m);
			break;
		case HW_EL_SEND_VOTE:
			/* a granted vote leaves only once it is on disk */
			if (a->m.vote.granted && !a->m.vote.pre) {
				W_CHECK(w, n->disk.voted_epoch == a->m.vote.epoch &&
						   n->disk.voted_for == a->peer);
				w->sent_votes++;
			}
			m.type = M_VOTE;
			m.m.vote = a->m.vote;
			enqueue(w, &m);
			break;
		case HW_EL_SEND_TIMEOUT_NOW:
			m.type = M_TIMEOUT_NOW;
			m.m.epoch = a->epoch;
			enqueue(w, &m);
			break;
		case HW_EL_PERSIST:
			W_CHECK(w, w->np < PMAX);
			w->pq[w->np++] = (struct pending){i, a->hard, w->t + w->persist_delay};
			break;
		case HW_EL_BECOME_PRIMARY:
			on_become(w, i, a);
			break;
		case HW_EL_STEP_DOWN:
			W_CHECK(w, a->code >= 1 && a->code <= HW_EL_DOWN_STORAGE);
			n->downs[a->code]++;
			n->paused = false;
			break;
		case HW_EL_PAUSE_SUBMITS:
			n->paused = true;
			break;
		case HW_EL_RESUME_SUBMITS:
			n->paused = false;
			break;
		}
	}
	w->out.n = 0;
	check_fence(w);
}

/* ---------------------------------------------------------------- events */

static inline void ev_tick(struct world *w, uint32_t i)
{
	hw_el_on_tick(&w->nd[i].el, local(w, i), acts(w));
	run_acts(w, i);
}

static inline void ev_progress(struct world *w, uint32_t i)
{
	struct node *n = &w->nd[i];
	struct hw_el_progress p = {
		.last_epoch = n->log_epoch,
		.last_lsn = n->log_lsn,
		.durable_lsn = n->log_lsn,
		.committed_lsn = n->committed,
		.stale = n->stale,
	};
	memcpy(p.peer_durable, n->peer_durable, sizeof p.peer_durable);
	hw_el_on_progress(&n->el, &p, local(w, i), acts(w));
	run_acts(w, i);
}

static inline void deliver(struct world *w, const struct msg *m)
{
	struct hw_el *el = &w->nd[m->to].el;
	int64_t now = local(w, m->to);
	struct hw_el_lease_req req = m->m.lease_req;
	switch (m->type) {
	case M_LEASE_REQ:
		if (w->old_primary)
			req.rpo_ms = HW_EL_RPO_NONE;
		hw_el_on_lease_req(el, m->from, &req, now, acts(w));
		break;
	case M_LEASE_ACK:
		hw_el_on_lease_ack(el, m->from, &m->m.lease_ack, now, acts(w));
		break;
	case M_VOTE_REQ:
		hw_el_on_vote_req(el, m->from, &m->m.vote_req, now, acts(w));
		break;
	case M_VOTE:
		hw_el_on_vote(el, m->from, &m->m.vote, now, acts(w));
		break;
	case M_TIMEOUT_NOW:
		hw_el_on_timeout_now(el, m->from, m->m.epoch, now, acts(w));
		break;
	}
	run_acts(w, m->to);
}

static inline void deliver_due(struct world *w)
{
	for (size_t k = 0; k < w->nq;) {
		if (w->q[k].at > w->t) {
			k++;
			continue;
		}
		struct msg m = w->q[k];
		w->q[k] = w->q[--w->nq]; /* reorders: the network does too */
		if (w->nd[m.to].up && w->link[m.from][m.to])
			deliver(w, &m);
	}
}

static inline void persist_due(struct world *w)
{
	for (size_t k = 0; k < w->np;) {
		if (w->pq[k].at > w->t) {
			k++;
			continue;
		}
		struct pending p = w->pq[k];
		memmove(w->pq + k, w->pq + k + 1, (--w->np - k) * sizeof w->pq[0]);
		struct node *n = &w->nd[p.node];
		n->disk = p.h;
		hw_el_on_persisted(&n->el, &p.h, local(w, p.node), acts(w));
		run_acts(w, p.node);
	}
}

/* The log model: the primary appends (unless paused), standbys copy it with lag, acks
 * come back, and it commits (RPO 0, k = 1) only while it may acknowledge. */
static inline void model_primary(struct world *w, uint32_t p)
{
	struct node *pn = &w->nd[p];
	if (!pn->paused && below(w, 2) == 0) {
		pn->log_lsn++;
		pn->log_epoch = pn->el.hard.epoch;
	}
	for (uint32_t s = 0; s < w->n; s++) {
		struct node *sn = &w->nd[s];
		if (s == p || s == w->witness || !sn->up || !w->link[p][s] || below(w, 3) != 0)
			continue;
		if (sn->el.hard.epoch > pn->el.hard.epoch)
			continue;
		sn->log_epoch = pn->log_epoch;
		sn->log_lsn = pn->log_lsn;
		hw_el_on_primary_heard(&sn->el, p, pn->el.hard.epoch, local(w, s), acts(w));
		run_acts(w, s);
		if (w->link[s][p])
			pn->peer_durable[s] = sn->log_lsn;
	}
	uint64_t c = 0;
	for (uint32_t s = 0; s < w->n; s++)
		c = pn->peer_durable[s] > c ? pn->peer_durable[s] : c;
	c = c < pn->log_lsn ? c : pn->log_lsn;
	if (c > pn->committed && hw_el_may_ack(&pn->el, local(w, p))) {
		pn->committed = c;
		w->acked_max = c > w->acked_max ? c : w->acked_max;
	}
}

static inline void model(struct world *w)
{
	for (uint32_t i = 0; i < w->n; i++)
		if (w->nd[i].up && w->nd[i].el.role == HW_EL_PRIMARY)
			model_primary(w, i);
	for (uint32_t i = 0; i < w->n; i++)
		if (w->nd[i].up)
			ev_progress(w, i);
}

static inline void step(struct world *w)
{
	w->t++;
	deliver_due(w);
	persist_due(w);
	if (w->model)
		model(w);
	if (w->t % w->tick_every == 0)
		for (uint32_t i = 0; i < w->n; i++)
			if (w->nd[i].up)
				ev_tick(w, i);
}

static inline void run(struct world *w, int64_t ms)
{
	for (int64_t k = 0; k < ms; k++)
		step(w);
}

static inline void crash(struct world *w, uint32_t i)
{
	w->nd[i].up = false;
	for (size_t k = 0; k < w->np;) /* unsynced writes are lost */
		if (w->pq[k].node == i)
			memmove(w->pq + k, w->pq + k + 1, (--w->np - k) * sizeof w->pq[0]);
		else
			k++;
}

static inline void isolate(struct world *w, uint32_t i, bool cut)
{
	for (uint32_t j = 0; j < w->n; j++)
		if (j != i)
			w->link[i][j] = w->link[j][i] = !cut;
}

static inline int primary_of(const struct world *w)
{
	int found = -1;
	for (uint32_t i = 0; i < w->n; i++)
		if (w->nd[i].up && w->nd[i].el.role == HW_EL_PRIMARY)
			found = (int)i;
	return found;
}

/* Make node i primary: the other standbys believe they heard a primary far in the
 * future, so i times out first; its lease requests then reset them. */
static inline void elect(struct world *w, uint32_t i)
{
	for (uint32_t j = 0; j < w->n; j++)
		if (j != i && j != w->witness)
			w->nd[j].el.last_heard_ms = local(w, j) + 1000000;
	for (int k = 0; k < 5000 && !hw_el_may_ack(&w->nd[i].el, local(w, i)); k++)
		step(w);
	assert_true(hw_el_may_ack(&w->nd[i].el, local(w, i)));
	run(w, 100);
	for (uint32_t j = 0; j < w->n; j++)
		assert_int_equal(w->nd[j].el.primary, i);
}

static inline void set_log(struct world *w, uint32_t i, uint64_t epoch, uint64_t lsn,
			   uint64_t committed)
{
	w->nd[i].log_epoch = epoch;
	w->nd[i].log_lsn = lsn;
	w->nd[i].committed = committed;
	ev_progress(w, i);
}

static inline size_t count(const struct hw_el_acts *o, enum hw_el_act_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++)
		n += o->v[i].type == t;
	return n;
}

static inline const struct hw_el_act *find(const struct hw_el_acts *o, enum hw_el_act_type t)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].type == t)
			return &o->v[i];
	fail_msg("no action %d among %zu", (int)t, o->n);
	return NULL;
}

#endif
