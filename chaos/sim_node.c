/* sim_node.c: the driver of one simulated node (chaos/sim.h). It is what engine/node.c
 * is to a real node: it feeds the election core (every voter) and the replication core
 * (data nodes) their events with the node's own clock, and carries out their actions
 * in order against the simulated network and disk. Replication runs over connections:
 * a standby follows the primary its election core names, says hello with its durable
 * LSN and chain hash, is told to rewind a divergent suffix, and then receives entries.
 *
 * Every action array is on the stack of the event that fills it, so carrying out one
 * action may start another event (a DROP closes a connection, a STEP_DOWN fails the
 * waiters) without overwriting the actions still to run. */
#include "chaos/sim.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"
#include "hawser_error.h"

/* Standby timers: ack at least every 100 ms, give up on a silent primary after 400 ms
 * (the primary's peer_timeout_ms is 400 too). */
#define SB_ACK_INTERVAL_MS 100
#define SB_TIMEOUT_MS      400
#define HELLO_RETRY_MS     50

uint32_t sim_peer_index(uint32_t i, uint32_t j)
{
	HW_ASSERT(i != j);
	return j < i ? j : j - 1;
}

uint32_t sim_peer_node(uint32_t i, uint32_t p)
{
	return p < i ? p : p + 1;
}

static struct sim_node *node(struct sim_world *w, uint32_t i)
{
	return &w->nd[i];
}

/* A repl action array: roomy, or in runs with tight_acts often tiny, so the cores'
 * overflow path (what did not fit comes out with the next event) runs too. */
static struct hw_acts repl_out(struct sim_world *w, struct hw_act *buf)
{
	size_t cap = SIM_ACTS_CAP;
	if (w->rates.tight_acts && sim_below(&w->rng, 4) == 0)
		cap = (size_t)sim_below(&w->rng, 3);
	return (struct hw_acts){buf, 0, cap};
}

/* ---------------------------------------------------------------- sending */

static void send_dgram(struct sim_world *w, uint32_t from, uint32_t to, struct sim_msg *m)
{
	m->from = (uint8_t)from;
	m->to = (uint8_t)to;
	sim_net_send(&w->net, &w->rng, w->t, m, false);
}

static void send_stream(struct sim_world *w, uint32_t i, struct sim_conn *c, struct sim_msg *m)
{
	m->from = (uint8_t)i;
	m->to = (uint8_t)c->peer;
	m->conn = c->id;
	m->epoch = c->epoch;
	m->stream_seq = ++c->tx_seq;
	sim_net_send(&w->net, &w->rng, w->t, m, true);
}

/* Close our end; tell the peer (FIN) when fin. */
static void conn_close(struct sim_world *w, uint32_t i, struct sim_conn *c, bool fin)
{
	if (!c->open)
		return;
	if (fin) {
		struct sim_msg m = {.type = SIM_M_CLOSE};
		send_stream(w, i, c, &m);
	}
	c->open = false;
}

/* An RST for a frame of a connection we do not know. */
static void send_rst(struct sim_world *w, const struct sim_msg *in)
{
	struct sim_msg m = {.type = SIM_M_CLOSE, .conn = in->conn, .epoch = in->epoch};
	send_dgram(w, in->to, in->from, &m);
}

/* ---------------------------------------------------------------- election */

static void become(struct sim_world *w, uint32_t i, const struct hw_el_act *a);
static void step_down(struct sim_world *w, uint32_t i);
static void fail_stop(struct sim_world *w, uint32_t i, const char *why);

static void el_send(struct sim_world *w, uint32_t i, const struct hw_el_act *a)
{
	struct sim_msg m = {0};
	switch (a->type) {
	case HW_EL_SEND_LEASE_REQ:
		m.type = SIM_M_LEASE_REQ;
		m.u.lease_req = a->m.lease_req;
		break;
	case HW_EL_SEND_LEASE_ACK:
		m.type = SIM_M_LEASE_ACK;
		m.u.lease_ack = a->m.lease_ack;
		break;
	case HW_EL_SEND_VOTE_REQ:
		m.type = SIM_M_VOTE_REQ;
		m.u.vote_req = a->m.vote_req;
		break;
	case HW_EL_SEND_VOTE:
		m.type = SIM_M_VOTE;
		m.u.vote = a->m.vote;
		/* the cost of the promotion gate at rpo t (docs/testing.md, P-RPO) */
		w->st.rpo_not_in_sync += w->rpo_ms > 0 && node(w, i)->witness &&
					 a->m.vote.reason == HW_EL_R_NOT_IN_SYNC;
		if (node(w, i)->witness)
			SIM_TRACE(
				w,
				"witness: %s%s to %u epoch %llu (%s) committed %llu required %llu",
				a->m.vote.pre ? "pre-" : "", a->m.vote.granted ? "vote" : "refusal",
				a->peer, (unsigned long long)a->m.vote.epoch,
				hw_el_reason_name((enum hw_el_reason)a->m.vote.reason),
				(unsigned long long)a->m.vote.committed_lsn,
				(unsigned long long)a->m.vote.required_lsn);
		break;
	default:
		m.type = SIM_M_TIMEOUT_NOW;
		m.epoch = a->epoch;
		break;
	}
	send_dgram(w, i, a->peer, &m);
}

static void run_el(struct sim_world *w, uint32_t i, const struct hw_el_acts *out)
{
	struct sim_node *n = node(w, i);
	for (size_t k = 0; k < out->n && n->up; k++) {
		const struct hw_el_act *a = &out->v[k];
		switch (a->type) {
		case HW_EL_SEND_LEASE_REQ:
		case HW_EL_SEND_LEASE_ACK:
		case HW_EL_SEND_VOTE_REQ:
		case HW_EL_SEND_VOTE:
		case HW_EL_SEND_TIMEOUT_NOW:
			el_send(w, i, a);
			break;
		case HW_EL_PERSIST:
			if (sim_disk_queue(&n->disk, &w->rng, w->t, SIM_IO_HARD, 0, &a->hard) != 0)
				fail_stop(w, i, "disk queue full");
			break;
		case HW_EL_BECOME_PRIMARY:
			become(w, i, a);
			break;
		case HW_EL_STEP_DOWN:
			w->st.step_downs++;
			step_down(w, i);
			break;
		case HW_EL_PAUSE_SUBMITS:
			n->submits_paused = true;
			break;
		case HW_EL_RESUME_SUBMITS:
			n->submits_paused = false;
			break;
		}
	}
}

#define EL_EVENT(w, i, call)                                                                       \
	do {                                                                                       \
		struct hw_el_act buf_[SIM_EL_ACTS_CAP];                                            \
		struct hw_el_acts out_ = {buf_, 0, SIM_EL_ACTS_CAP};                               \
		struct hw_el_acts *out = &out_;                                                    \
		call;                                                                              \
		run_el((w), (i), out);                                                             \
	} while (0)

/* ---------------------------------------------------------------- primary */

static void release(struct sim_world *w, uint32_t i, const struct hw_act *a)
{
	struct sim_node *n = node(w, i);
	if (a->token >= w->nhist) {
		sim_violate(w, "repl.token", "node %u released unknown token %llu", i,
			    (unsigned long long)a->token);
		return;
	}
	struct sim_rec *r = &w->hist[a->token];
	if (r->state != SIM_REC_PENDING || r->node != i || r->lsn != a->lsn) {
		sim_violate(w, "repl.release", "node %u released token %llu twice or wrongly", i,
			    (unsigned long long)a->token);
		return;
	}
	if (a->code != 0) {
		r->state = SIM_REC_FAILED;
		w->st.failed++;
		return;
	}
#ifndef HW_MUTATION_NO_LEASE
	/* the fence (election.h): no release once the lease may have passed to another */
	if (!hw_el_may_ack(&n->el, sim_local(w, i))) {
		r->state = SIM_REC_FAILED;
		w->st.failed++;
		return;
	}
#endif
	r->state = SIM_REC_ACKED;
	r->acked_at = w->t;
	w->last_ack_at = w->t;
	SIM_TRACE(w, "ack: node %u lsn %llu epoch %llu %s k=%u held=%x", i,
		  (unsigned long long)r->lsn, (unsigned long long)r->epoch,
		  hw_mode_name((enum hw_mode)r->mode), r->k, r->held);
	w->st.acked[r->mode]++;
	if (r->lsn > n->committed)
		n->committed = r->lsn;
	sim_check_ack(w, i, a->token);
}

static void send_entries(struct sim_world *w, uint32_t i, const struct hw_act *a)
{
	struct sim_node *n = node(w, i);
	struct sim_conn *c = &n->pconn[a->peer];
	HW_ASSERT(c->open && a->from >= 1 && a->from <= a->to && a->to <= n->disk.n);
	for (uint64_t first = a->from; first <= a->to; first += SIM_FRAME_ENTRIES) {
		uint64_t last = first + SIM_FRAME_ENTRIES - 1 < a->to
					? first + SIM_FRAME_ENTRIES - 1
					: a->to;
		struct sim_msg m = {.type = SIM_M_ENTRIES};
		m.u.entries.first = first;
		m.u.entries.last = last;
		m.u.entries.pdur = a->lsn;
		m.u.entries.receipt = a->receipt;
		m.u.entries.count = (uint32_t)(last - first + 1);
		memcpy(m.u.entries.e, &n->disk.log[first - 1],
		       m.u.entries.count * sizeof(struct sim_entry));
		send_stream(w, i, c, &m);
	}
}

static void run_prim(struct sim_world *w, uint32_t i, const struct hw_acts *out)
{
	struct sim_node *n = node(w, i);
	for (size_t k = 0; k < out->n && n->up && n->dr == SIM_DR_PRIMARY; k++) {
		const struct hw_act *a = &out->v[k];
		struct sim_msg m = {.type = SIM_M_HB};
		switch (a->type) {
		case HW_ACT_SEND:
			send_entries(w, i, a);
			break;
		case HW_ACT_HEARTBEAT:
			HW_ASSERT(n->pconn[a->peer].open);
			m.u.hb.pdur = a->lsn;
			m.u.hb.reply = sim_below(&w->rng, 4) == 0;
			send_stream(w, i, &n->pconn[a->peer], &m);
			break;
		case HW_ACT_RELEASE:
			release(w, i, a);
			break;
		case HW_ACT_DROP:
			conn_close(w, i, &n->pconn[a->peer], true);
			hw_primary_on_disconnect(&n->prim, a->peer);
			break;
		default:
			sim_violate(w, "repl.role", "node %u: standby action on a primary", i);
			return;
		}
	}
}

#define PRIM_EVENT(w, i, call)                                                                     \
	do {                                                                                       \
		struct hw_act buf_[SIM_ACTS_CAP];                                                  \
		struct hw_acts out_ = repl_out((w), buf_);                                         \
		struct hw_acts *out = &out_;                                                       \
		call;                                                                              \
		run_prim((w), (i), out);                                                           \
	} while (0)

/* ---------------------------------------------------------------- standby */

static void sb_write(struct sim_world *w, uint32_t i, const struct hw_act *a)
{
	struct sim_node *n = node(w, i);
	if (a->from != n->disk.n + 1 || a->to < a->from || a->to - a->from >= SIM_STAGE_MAX) {
		sim_violate(w, "driver.write", "node %u: WRITE [%llu, %llu] after %llu", i,
			    (unsigned long long)a->from, (unsigned long long)a->to,
			    (unsigned long long)n->disk.n);
		return;
	}
	for (uint64_t lsn = a->from; lsn <= a->to; lsn++) {
		const struct sim_entry *e = &n->stage[lsn % SIM_STAGE_MAX];
		if (!sim_check_append(w, i, e))
			return;
		if (sim_disk_append(&n->disk, e) != 0) {
			fail_stop(w, i, "write error");
			return;
		}
	}
	if (sim_disk_queue(&n->disk, &w->rng, w->t, SIM_IO_FLUSH, a->to, NULL) != 0)
		fail_stop(w, i, "disk queue full");
}

static void run_sb(struct sim_world *w, uint32_t i, const struct hw_acts *out)
{
	struct sim_node *n = node(w, i);
	for (size_t k = 0; k < out->n && n->up && n->dr == SIM_DR_STANDBY; k++) {
		const struct hw_act *a = &out->v[k];
		struct sim_msg m = {.type = SIM_M_ACK};
		switch (a->type) {
		case HW_ACT_WRITE:
			sb_write(w, i, a);
			break;
		case HW_ACT_ACK:
			if (!n->sconn.open)
				break;
			m.u.ack = a->pos;
#ifdef HW_MUTATION_ACK_EARLY
			/* the mutation: what arrived counts as durable and applied */
			m.u.ack.durable = m.u.ack.applied = m.u.ack.received;
#endif
			send_stream(w, i, &n->sconn, &m);
			break;
		case HW_ACT_DROP:
			conn_close(w, i, &n->sconn, true);
			hw_standby_on_disconnect(&n->sb);
			n->next_hello = w->t + HELLO_RETRY_MS;
			break;
		default:
			sim_violate(w, "repl.role", "node %u: primary action on a standby", i);
			return;
		}
	}
}

#define SB_EVENT(w, i, call)                                                                       \
	do {                                                                                       \
		struct hw_act buf_[SIM_ACTS_CAP];                                                  \
		struct hw_acts out_ = repl_out((w), buf_);                                         \
		struct hw_acts *out = &out_;                                                       \
		call;                                                                              \
		run_sb((w), (i), out);                                                             \
	} while (0)

/* ---------------------------------------------------------------- roles */

/* A node between roles waits until its log is durable (the writer finished what it was
 * handed), then serves as the primary it was elected, or follows as a standby. */
static void settle(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	if (!n->up || n->witness || n->dr != SIM_DR_NONE || n->disk.n != n->disk.durable)
		return;
	if (n->promote) {
		n->promote = false;
		if (n->el.role != HW_EL_PRIMARY || n->el.hard.epoch != n->promote_epoch)
			return; /* it lost it before it could serve: the next settle follows */
		hw_primary_init(&n->prim, &w->rcfg, n->promote_epoch, n->disk.n, n->waiters);
		memset(n->pconn, 0, sizeof n->pconn);
		n->committed = 0;
		n->submits_paused = false;
		n->dr = SIM_DR_PRIMARY;
		return;
	}
	hw_standby_init(&n->sb, n->el.hard.epoch, n->disk.n, SB_ACK_INTERVAL_MS, SB_TIMEOUT_MS);
	memset(&n->sconn, 0, sizeof n->sconn);
	n->applied = n->disk.n; /* the store replays its log before it serves */
	n->next_hello = w->t;
	n->dr = SIM_DR_STANDBY;
}

static void become(struct sim_world *w, uint32_t i, const struct hw_el_act *a)
{
	struct sim_node *n = node(w, i);
	SIM_TRACE(w, "become: node %u primary of epoch %llu, log %llu durable %llu", i,
		  (unsigned long long)a->epoch, (unsigned long long)n->disk.n,
		  (unsigned long long)n->disk.durable);
	sim_check_become(w, i, a->epoch);
	if (a->lsn != n->disk.n + 1)
		sim_violate(w, "driver.progress", "node %u elected to give out %llu, log at %llu",
			    i, (unsigned long long)a->lsn, (unsigned long long)n->disk.n);
	if (n->dr == SIM_DR_STANDBY) {
		conn_close(w, i, &n->sconn, true);
		hw_standby_on_disconnect(&n->sb);
	}
	n->dr = SIM_DR_NONE;
	n->promote = true;
	n->promote_epoch = a->epoch;
	settle(w, i);
}

/* Fail every waiter (code), close every standby's connection, and settle as standby. */
static void stop_primary(struct sim_world *w, uint32_t i, int code)
{
	struct sim_node *n = node(w, i);
	if (n->dr != SIM_DR_PRIMARY)
		return;
	struct hw_act buf[SIM_ACTS_CAP];
	struct hw_acts out = {buf, 0, SIM_ACTS_CAP};
	hw_primary_fail_all(&n->prim, code, &out);
	HW_ASSERT(n->prim.w_count == 0);
	run_prim(w, i, &out);
	for (uint32_t p = 0; p < w->rcfg.standbys; p++)
		conn_close(w, i, &n->pconn[p], true);
	n->dr = SIM_DR_NONE;
}

static void step_down(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	SIM_TRACE(w, "step down: node %u epoch %llu", i, (unsigned long long)n->el.hard.epoch);
	stop_primary(w, i, HW_ENOT_PRIMARY);
	n->promote = false;
	n->submits_paused = false;
	settle(w, i);
}

/* Storage failures are sticky (STYLE.md 5): the node stops acknowledging at once and
 * exits, to be restarted from what is durable. */
static void fail_stop(struct sim_world *w, uint32_t i, const char *why)
{
	struct sim_node *n = node(w, i);
	if (!n->up)
		return;
	stop_primary(w, i, HW_ESTORE_FAILED);
	n->fail_stops++;
	w->st.fail_stops++;
	sim_node_crash(w, i, why);
}

/* ---------------------------------------------------------------- lifecycle */

static uint64_t el_rand_cb(void *arg)
{
	return sim_rng_next(arg);
}

/* The election core's view of the log and of the standbys, after every event. */
static void sync_progress(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	if (!n->up || n->witness)
		return;
	const struct sim_disk *d = &n->disk;
	struct hw_el_progress p = {
		.last_epoch = d->n > 0 ? d->log[d->n - 1].epoch : 0,
		.last_lsn = d->n,
		.last_hash = sim_disk_hash_at(d, d->n),
		.durable_lsn = d->durable,
	};
	if (n->dr == SIM_DR_PRIMARY) {
		p.committed_lsn = n->committed;
		for (uint32_t q = 0; q < w->rcfg.standbys; q++)
			p.peer_durable[sim_peer_node(i, q)] = n->prim.peers[q].pos.durable;
	}
	int64_t now = sim_local(w, i);
	EL_EVENT(w, i, hw_el_on_progress(&n->el, &p, now, out));
}

/* A standby follows the primary its election core knows, in its epoch: a connection to
 * anyone else, or of an older epoch, is closed. */
static void follow(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	if (!n->up || n->dr != SIM_DR_STANDBY)
		return;
	uint32_t target = n->el.primary;
	bool known = n->el.role == HW_EL_STANDBY && target < w->data && target != i;
	struct sim_conn *c = &n->sconn;
	if (c->open && (c->epoch != n->el.hard.epoch || (known && c->peer != target))) {
		conn_close(w, i, c, true);
		hw_standby_on_disconnect(&n->sb);
		n->next_hello = w->t;
	}
	/* the writer finished what it was handed (asserted by hw_standby_on_connect) */
	if (c->open || !known || w->t < n->next_hello || n->sb.writing_to != n->sb.pos.durable)
		return;
#ifndef HW_SIM_HELLO_BEFORE_APPLY
	/* and the store applied it: the primary takes the hello's LSN as received, durable
	 * and applied alike (hw_primary_on_connect). Building with the flag shows why:
	 * docs/testing.md, Findings. */
	if (n->sb.pos.applied != n->sb.pos.durable || n->applied != n->disk.durable)
		return;
#endif
	*c = (struct sim_conn){
		.open = true, .id = ++w->conn_seq, .peer = target, .epoch = n->el.hard.epoch};
	hw_standby_on_connect(&n->sb, sim_local(w, i));
	struct sim_msg m = {.type = SIM_M_HELLO};
	m.u.hello.lsn = n->sb.pos.durable;
	m.u.hello.hash = sim_disk_hash_at(&n->disk, n->sb.pos.durable);
	send_stream(w, i, c, &m);
	n->next_hello = w->t + HELLO_RETRY_MS;
}

/* After every event on node i: settle a role change, tell the election core, follow. */
static void after_event(struct sim_world *w, uint32_t i)
{
	settle(w, i);
	sync_progress(w, i);
	settle(w, i);
	follow(w, i);
}

/* A node's election timers, drawn at each start: mostly the world's (a 200 ms lease),
 * one start in four a 300 ms lease, as while an operator changes rto or heartbeat_* one
 * node at a time: voters then promise for the longer lease (election.c). */
static void draw_timers(struct sim_world *w, struct hw_el_config *cfg)
{
	if (sim_below(&w->rng, 4) != 0)
		return;
	cfg->renew_ms = 75;
	cfg->lease_ms = 300;
	cfg->drift_margin_ms = 30;
	cfg->detection_ms = 375;
}

void sim_node_start(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	w->st.torn += sim_disk_recover(&n->disk);
	struct hw_el_config cfg = w->ecfg;
	draw_timers(w, &cfg);
	if (n->witness && w->rpo_ms > 0)
		cfg.rpo_ms = w->w_rpo_ms; /* its own config's, maybe not the nodes' */
	cfg.self = i;
	cfg.rand_cb = el_rand_cb;
	cfg.rand_arg = &n->rng;
	hw_el_init(&n->el, &cfg, &n->disk.hard, sim_local(w, i));
	n->up = true;
	n->paused_until = 0;
	n->dr = SIM_DR_NONE;
	n->promote = false;
	n->submits_paused = false;
	memset(n->pconn, 0, sizeof n->pconn);
	memset(&n->sconn, 0, sizeof n->sconn);
	after_event(w, i);
}

void sim_node_crash(struct sim_world *w, uint32_t i, const char *why)
{
	struct sim_node *n = node(w, i);
	if (!n->up)
		return;
	SIM_TRACE(w, "crash: node %u (%s) log %llu durable %llu", i, why,
		  (unsigned long long)n->disk.n, (unsigned long long)n->disk.durable);
	if (n->dr == SIM_DR_PRIMARY) /* the clients' connections break: no answer */
		for (uint32_t k = 0; k < n->prim.w_count; k++) {
			const struct hw_waiter *wt =
				&n->waiters[(n->prim.w_head + k) % SIM_WAITERS];
			if (!wt->released && w->hist[wt->token].state == SIM_REC_PENDING)
				w->hist[wt->token].state = SIM_REC_FAILED;
		}
	sim_check_lost_volatile(w, i);
	sim_disk_crash(&n->disk, sim_below(&w->rng, 2) == 0);
	n->up = false;
	n->dr = SIM_DR_NONE;
	n->promote = false;
	n->crashes++;
	n->down_until = w->t + sim_range(&w->rng, w->rates.down_min_ms, w->rates.down_max_ms);
}

/* ---------------------------------------------------------------- messages */

/* Our end of the connection a stream frame belongs to, or NULL. */
static struct sim_conn *conn_of(struct sim_world *w, uint32_t i, const struct sim_msg *m)
{
	struct sim_node *n = node(w, i);
	if (n->dr == SIM_DR_STANDBY && n->sconn.open && n->sconn.id == m->conn)
		return &n->sconn;
	if (n->dr == SIM_DR_PRIMARY && m->from < w->data && m->from != i) {
		struct sim_conn *c = &n->pconn[sim_peer_index(i, m->from)];
		if (c->open && c->id == m->conn)
			return c;
	}
	return NULL;
}

/* TCP: in order, once; after a lost frame nothing more (the stream stalled). */
static bool stream_ok(struct sim_world *w, struct sim_conn *c, const struct sim_msg *m)
{
	if (w->net.raw_streams)
		return true;
	if (c->stalled || m->stream_seq <= c->rx_seq)
		return false;
	if (m->stream_seq != c->rx_seq + 1) {
		c->stalled = true;
		return false;
	}
	c->rx_seq = m->stream_seq;
	return true;
}

static void on_hello(struct sim_world *w, uint32_t i, const struct sim_msg *m)
{
	struct sim_node *n = node(w, i);
	if (n->dr != SIM_DR_PRIMARY || m->from >= w->data || m->epoch != n->prim.epoch) {
		send_rst(w, m);
		return;
	}
	uint32_t p = sim_peer_index(i, m->from);
	struct sim_conn *c = &n->pconn[p];
	if (c->id == m->conn)
		return; /* a duplicate */
	uint64_t lsn = m->u.hello.lsn;
	if (lsn > n->disk.n || sim_disk_hash_at(&n->disk, lsn) != m->u.hello.hash) {
		/* not our chain: the standby drops what we do not hold, from here back */
		uint64_t at = lsn < n->disk.n ? lsn : n->disk.n;
		struct sim_msg r = {.type = SIM_M_REWIND, .conn = m->conn, .epoch = m->epoch};
		r.u.hello.lsn = at;
		r.u.hello.hash = sim_disk_hash_at(&n->disk, at);
		send_dgram(w, i, m->from, &r);
		w->st.rewinds++;
		return;
	}
	if (c->open) {
		c->open = false;
		hw_primary_on_disconnect(&n->prim, p);
	}
	*c = (struct sim_conn){.open = true,
			       .id = m->conn,
			       .peer = m->from,
			       .epoch = m->epoch,
			       .rx_seq = m->stream_seq};
	int64_t now = sim_local(w, i);
	SIM_TRACE(w, "connect: standby %u to primary %u at %llu", m->from, i,
		  (unsigned long long)lsn);
	PRIM_EVENT(w, i, hw_primary_on_connect(&n->prim, p, lsn, now, out));
}

/* The primary's answer to a hello that did not match: keep the entry at lsn if ours is
 * the same, else drop it too; then say hello again from there. */
static void on_rewind(struct sim_world *w, uint32_t i, const struct sim_msg *m)
{
	struct sim_node *n = node(w, i);
	struct sim_disk *d = &n->disk;
	if (n->dr != SIM_DR_STANDBY || !n->sconn.open || n->sconn.id != m->conn)
		return;
	n->sconn.open = false;
	hw_standby_on_disconnect(&n->sb);
	n->next_hello = w->t;
	uint64_t lsn = m->u.hello.lsn;
	if (d->n != d->durable || n->sb.pos.durable != d->n || lsn > d->n)
		return; /* something moved since the hello: just say it again */
	uint64_t keep = sim_disk_hash_at(d, lsn) == m->u.hello.hash || lsn == 0 ? lsn : lsn - 1;
	if (keep == d->n)
		return;
	SIM_TRACE(w, "rewind: node %u from %llu to %llu (primary %u)", i, (unsigned long long)d->n,
		  (unsigned long long)keep, m->from);
	sim_check_truncate(w, i, keep);
	w->st.truncated += d->n - keep;
	sim_disk_truncate(d, keep);
	if (n->applied > keep)
		n->applied = keep;
	hw_standby_init(&n->sb, n->el.hard.epoch, keep, SB_ACK_INTERVAL_MS, SB_TIMEOUT_MS);
}

static void stage(struct sim_world *w, uint32_t i, const struct sim_msg *m)
{
	struct sim_node *n = node(w, i);
	for (uint32_t k = 0; k < m->u.entries.count; k++) {
		const struct sim_entry *e = &m->u.entries.e[k];
		HW_ASSERT(e->lsn == m->u.entries.first + k); /* paired with send_entries */
		n->stage[e->lsn % SIM_STAGE_MAX] = *e;
		if (e->record_id < w->nhist && w->hist[e->record_id].hash == e->hash)
			w->hist[e->record_id].held |= (uint8_t)(1u << i);
	}
}

static void on_primary_frame(struct sim_world *w, uint32_t i, const struct sim_msg *m)
{
	struct sim_node *n = node(w, i);
	int64_t now = sim_local(w, i);
	if (m->epoch < n->el.hard.epoch) { /* fenced by epoch */
		conn_close(w, i, &n->sconn, true);
		hw_standby_on_disconnect(&n->sb);
		return;
	}
	EL_EVENT(w, i, hw_el_on_primary_heard(&n->el, m->from, m->epoch, now, out));
	if (!n->up || n->dr != SIM_DR_STANDBY || !n->sconn.open)
		return;
	if (m->type == SIM_M_HB) {
		SB_EVENT(w, i,
			 hw_standby_on_heartbeat(&n->sb, m->u.hb.pdur, m->u.hb.reply, now, out));
		return;
	}
	uint64_t first = m->u.entries.first, last = m->u.entries.last;
	if (n->sb.connected && last >= first && first == n->sb.pos.received + 1)
		stage(w, i, m);
	SB_EVENT(w, i,
		 hw_standby_on_entries(&n->sb, first, last, m->u.entries.pdur,
				       m->u.entries.receipt, now, out));
}

static void on_stream(struct sim_world *w, uint32_t i, const struct sim_msg *m)
{
	struct sim_node *n = node(w, i);
	struct sim_conn *c = conn_of(w, i, m);
	if (m->type == SIM_M_CLOSE) {
		if (c == NULL)
			return;
		c->open = false;
		if (c == &n->sconn) {
			hw_standby_on_disconnect(&n->sb);
			n->next_hello = w->t + HELLO_RETRY_MS;
		} else {
			hw_primary_on_disconnect(&n->prim, sim_peer_index(i, m->from));
		}
		return;
	}
	if (c == NULL) {
		send_rst(w, m);
		return;
	}
	if (!stream_ok(w, c, m))
		return;
	if (m->type == SIM_M_ACK && c != &n->sconn) {
		int64_t now = sim_local(w, i);
		uint32_t p = sim_peer_index(i, m->from);
		PRIM_EVENT(w, i, hw_primary_on_ack(&n->prim, p, &m->u.ack, now, out));
	} else if ((m->type == SIM_M_ENTRIES || m->type == SIM_M_HB) && c == &n->sconn) {
		on_primary_frame(w, i, m);
	}
}

void sim_node_deliver(struct sim_world *w, const struct sim_msg *m)
{
	uint32_t i = m->to;
	struct sim_node *n = node(w, i);
	int64_t now = sim_local(w, i);
	switch (m->type) {
	case SIM_M_LEASE_REQ:
		EL_EVENT(w, i, hw_el_on_lease_req(&n->el, m->from, &m->u.lease_req, now, out));
		break;
	case SIM_M_LEASE_ACK:
		EL_EVENT(w, i, hw_el_on_lease_ack(&n->el, m->from, &m->u.lease_ack, now, out));
		break;
	case SIM_M_VOTE_REQ:
		EL_EVENT(w, i, hw_el_on_vote_req(&n->el, m->from, &m->u.vote_req, now, out));
		break;
	case SIM_M_VOTE:
		EL_EVENT(w, i, hw_el_on_vote(&n->el, m->from, &m->u.vote, now, out));
		break;
	case SIM_M_TIMEOUT_NOW:
		EL_EVENT(w, i, hw_el_on_timeout_now(&n->el, m->from, m->epoch, now, out));
		break;
	case SIM_M_HELLO:
		on_hello(w, i, m);
		break;
	case SIM_M_REWIND:
		on_rewind(w, i, m);
		break;
	default:
		on_stream(w, i, m);
		break;
	}
	after_event(w, i);
}

/* ---------------------------------------------------------------- disk, tick, client */

static void on_log_durable(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	uint64_t d = n->disk.durable;
	int64_t now = sim_local(w, i);
	if (n->dr == SIM_DR_PRIMARY && d > n->prim.local_durable) {
		PRIM_EVENT(w, i, hw_primary_on_durable(&n->prim, d, now, out));
	} else if (n->dr == SIM_DR_STANDBY && d > n->sb.pos.durable && d <= n->sb.writing_to) {
		SB_EVENT(w, i, hw_standby_on_durable(&n->sb, d, now, out));
		if (sim_disk_queue(&n->disk, &w->rng, w->t, SIM_IO_APPLY, d, NULL) != 0)
			fail_stop(w, i, "disk queue full");
	}
}

void sim_node_disk(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	struct sim_io io;
	int err;
	while (n->up && sim_disk_due(&n->disk, w->t, &io, &err)) {
		int64_t now = sim_local(w, i);
		if (err != 0) {
			fail_stop(w, i, "fsync failed");
			return;
		}
		if (io.type == SIM_IO_HARD) {
			EL_EVENT(w, i, hw_el_on_persisted(&n->el, &io.hard, now, out));
		} else if (io.type == SIM_IO_FLUSH) {
			on_log_durable(w, i);
		} else if (n->dr == SIM_DR_STANDBY) {
			uint64_t a = io.upto < n->disk.durable ? io.upto : n->disk.durable;
			if (a > n->applied)
				n->applied = a;
			if (a <= n->sb.writing_to)
				SB_EVENT(w, i, hw_standby_on_applied(&n->sb, a, now, out));
		}
		after_event(w, i);
	}
}

void sim_node_tick(struct sim_world *w, uint32_t i)
{
	struct sim_node *n = node(w, i);
	int64_t now = sim_local(w, i);
	EL_EVENT(w, i, hw_el_on_tick(&n->el, now, out));
	if (n->up && n->dr == SIM_DR_PRIMARY)
		PRIM_EVENT(w, i, hw_primary_on_tick(&n->prim, now, out));
	else if (n->up && n->dr == SIM_DR_STANDBY)
		SB_EVENT(w, i, hw_standby_on_tick(&n->sb, now, out));
	after_event(w, i);
}

bool sim_node_submit(struct sim_world *w, uint32_t i, uint8_t mode, uint8_t k)
{
	struct sim_node *n = node(w, i);
	struct sim_disk *d = &n->disk;
	if (!n->up || w->t < n->paused_until || n->dr != SIM_DR_PRIMARY || n->submits_paused ||
	    !hw_primary_can_wait(&n->prim, 1) || w->nhist >= SIM_LOG_MAX || d->n >= SIM_LOG_MAX ||
	    d->q_count + 8 > SIM_DISK_QUEUE || !hw_primary_k_possible(&n->prim, mode, k))
		return false;
	/* with [failover], as hw__targets_admit: the replay throttle, and rpo_action = fail
	 * refuses a submit (nothing written) while the RPO t rule holds acknowledgements */
	if (!hw_primary_admits(&n->prim) ||
	    (w->rpo_fail && hw_primary_ahead_ms(&n->prim, sim_local(w, i)) > w->rcfg.max_ahead_ms))
		return false;
	uint64_t rid = w->nhist++;
	struct sim_entry e = {.epoch = n->prim.epoch,
			      .lsn = d->n + 1,
			      .record_id = rid,
			      .payload = sim_rng_next(&w->rng),
			      .wall_ms = sim_wall(w, i),
			      .prev_hash = sim_disk_hash_at(d, d->n)};
	e.hash = sim_entry_hash(&e);
	w->hist[rid] = (struct sim_rec){
		.epoch = e.epoch,
		.lsn = e.lsn,
		.hash = e.hash,
		.payload = e.payload,
		.node = i,
		.mode = mode,
		/* the promise the primary keeps (its k_min, at any rpo), not the
		 * smaller one a submit may ask for */
		.k = mode != HW_MODE_LOCAL && k < w->rcfg.k_min ? (uint8_t)w->rcfg.k_min : k,
		.held = (uint8_t)(1u << i)};
	w->st.submits++;
	if (sim_disk_append(d, &e) != 0) {
		w->hist[rid].state = SIM_REC_FAILED;
		fail_stop(w, i, "write error");
		return true;
	}
	(void)sim_disk_queue(d, &w->rng, w->t, SIM_IO_FLUSH, e.lsn, NULL); /* room checked */
	int64_t now = sim_local(w, i);
	bool append_first = sim_below(&w->rng, 2) == 0;
	if (append_first)
		PRIM_EVENT(w, i, hw_primary_on_append(&n->prim, e.lsn, now, out));
	if (n->up && n->dr == SIM_DR_PRIMARY)
		PRIM_EVENT(w, i,
			   hw_primary_on_submit(&n->prim, rid, e.lsn, e.lsn, (enum hw_mode)mode, k,
						now, out));
	if (!append_first && n->up && n->dr == SIM_DR_PRIMARY)
		PRIM_EVENT(w, i, hw_primary_on_append(&n->prim, e.lsn, now, out));
	after_event(w, i);
	return true;
}

void sim_node_switchover(struct sim_world *w, uint32_t i, uint32_t target)
{
	struct sim_node *n = node(w, i);
	int64_t now = sim_local(w, i);
	int rc = 0;
	EL_EVENT(w, i, rc = hw_el_on_switchover(&n->el, target, now, out));
	if (rc == 0)
		w->st.switchovers++;
	after_event(w, i);
}
