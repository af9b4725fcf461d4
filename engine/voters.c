/* voters.c: one voter's election links and the core's actions (engine/voters.h). */
#include "base/clock.h"
#include "engine/voters.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/log.h"
#include "base/rng.h"
#include "engine/io/loop.h"
#include "engine/io/ring.h"
#include "replica/store.h"
#include "wire.pb-c.h"

struct link {
	struct hw_voters *v;
	uint32_t id;
	struct hw_conn *conn; /* NULL while down */
	bool up;              /* its Hello came back: logged once per connection */
	bool logged_down;
	int64_t retry_at_ms;
	int64_t retry_ms;
	/* liveness (hw_tg_voter_heard): the beat its Hello promised (0: an older voter, which
	 * neither sends nor takes a HEARTBEAT), when it was last heard on either connection
	 * and when this voter last sent it something, all loop time */
	int64_t beat_ms;
	int64_t heard_ms;
	int64_t sent_ms;
	bool silent; /* voter_silent logged, voter_heard not since */
};

struct hw_voters {
	struct hw_loop *loop;
	struct hw_ring *ring;
	struct hw_failover fo;
	char cluster_id[HW_ID_CHARS_MAX + 1];
	char node_id[HW_ID_CHARS_MAX + 1];
	struct hw_security sec; /* whose key may answer as which voter */
	struct hw_el el;
	uint64_t rand_state;
	int (*persist_cb)(void *arg, const struct hw_el_hard *hard);
	void (*act_cb)(void *arg, const struct hw_el_act *a);
	void *arg;
	int failed; /* persist failed: sticky */
	/* a drill's partition (hw_voters_isolate): loop time it ends; 0: none */
	int64_t isolated_until_ms;
	struct link links[HW_EL_VOTERS_MAX];
	/* promote --accept-loss: the witness's answer to the last LossQuery */
	bool loss_asked;
	int64_t loss_asked_ms;
	bool loss_have;
	struct hw_el_range loss;
	int loss_code;
	/* witness: the rpo the newest lease request carried, as last logged about */
	bool rpo_heard_set;
	int64_t rpo_heard;
};

/* The core's seeded source (STYLE.md 11). */
static uint64_t rand_cb(void *arg)
{
	return hw_splitmix64(arg);
}

void hw_voters_input(const struct hw_config *c, struct hw_tg_input *in)
{
	const struct hw_failover *f = &c->failover;
	hw_tg_input_defaults(in, f->rto_ms, f->rpo_ms, c->k > 0 ? c->k : 1);
	/* a witness serves no client: only the nodes' own heartbeats make their clients wait */
	in->client_silence_ms =
		c->role == HW_ROLE_WITNESS ? 0 : hw_tg_client_silence_ms(c->heartbeat_ms);
	in->jitter_measured = f->hb_p99_us > 0;
	if (f->hb_p99_us > 0) {
		in->jitter_p99_us = f->hb_p99_us;
		in->jitter_spread_us = f->hb_spread_us > 0
					       ? f->hb_spread_us
					       : (HW_TG_DEFAULT_JITTER_SPREAD_US < f->hb_p99_us
							  ? HW_TG_DEFAULT_JITTER_SPREAD_US
							  : f->hb_p99_us);
	}
}

int hw_voters_plan(const struct hw_config *c, struct hw_el_config *el, struct hw_tg_plan *plan)
{
	struct hw_tg_input in;
	hw_voters_input(c, &in);
	int rc = hw_tg_plan(&in, plan);
	if (rc != 0)
		return rc;
	*el = (struct hw_el_config){
		.voters = c->failover.n_voters,
		.self = c->failover.self,
		.witness = c->failover.witness,
		.renew_ms = plan->renew_ms,
		.lease_ms = plan->lease_ms,
		.drift_margin_ms = plan->drift_margin_ms,
		.detection_ms = plan->detection_ms,
		.election_ms = HW_VOTERS_VOTE_WAIT_MS,
		.backoff_ms = HW_VOTERS_BACKOFF_MS,
		.rpo_ms = c->failover.rpo_ms,
		.xfer_timeout_ms = c->failover.rto_ms,
	};
	return 0;
}

int hw_voters_plan_check(const struct hw_config *c, const char *path, char *err, size_t cap)
{
	struct hw_tg_input in;
	struct hw_tg_plan plan;
	struct hw_el_config el;
	int rc = hw_voters_plan(c, &el, &plan);
	if (rc == 0)
		return 0;
	hw_voters_input(c, &in);
	const struct hw_failover *f = &c->failover;
	if (f->rpo_ms > 0 && plan.ahead_margin_ms >= f->rpo_ms) { /* the rpo, not the rto */
		snprintf(err, cap,
			 "%s: 'failover.rpo' = %lld ms cannot be met: %s (set it above "
			 "%lld ms, or to 0)",
			 path, (long long)f->rpo_ms, plan.why, (long long)plan.ahead_margin_ms);
		return rc;
	}
	snprintf(err, cap,
		 "%s: 'failover.rto' = %lld ms cannot be met: %s; the least these inputs allow is "
		 "%lld ms: raise 'failover.rto'%s",
		 path, (long long)c->failover.rto_ms, plan.why,
		 (long long)hw_tg_rto_min_ms(&in, &plan),
		 in.jitter_measured ? ""
				    : " (or measure the heartbeat with hawser plan --measure and "
				      "set 'failover.heartbeat_p99')");
	return rc;
}

/* ---- sending ---------------------------------------------------------------------- */

static int send_msg(struct hw_conn *c, enum hw_frame_type type, const void *msg)
{
	const ProtobufCMessage *m = msg;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t buf[512];
	if (len > sizeof buf)
		return HW_ETOOBIG;
	protobuf_c_message_pack(m, buf);
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	hw_frame_header(hdr, type, buf, (uint32_t)len);
	return hw_conn_send2(c, hdr, sizeof hdr, buf, len);
}

static void send_lease_req(struct hw_conn *c, const struct hw_el_lease_req *r, uint32_t voters)
{
	Hawser__Wire__V1__LeaseRequest m = HAWSER__WIRE__V1__LEASE_REQUEST__INIT;
	uint64_t durable[HW_EL_VOTERS_MAX];
	memcpy(durable, r->durable, sizeof durable);
	m.epoch = r->epoch;
	m.round = r->round;
	m.committed_lsn = r->committed_lsn;
	m.lease_ms = r->lease_ms > 0 ? (uint64_t)r->lease_ms : 0;
	m.rpo_sent = r->rpo_ms >= 0;
	m.rpo_ms = r->rpo_ms >= 0 ? (uint64_t)r->rpo_ms : 0;
	m.n_durable = voters;
	m.durable = durable;
	send_msg(c, HW_FRAME_LEASE_REQUEST, &m);
}

static void send_vote_req(struct hw_conn *c, const struct hw_el_vote_req *r)
{
	Hawser__Wire__V1__VoteRequest m = HAWSER__WIRE__V1__VOTE_REQUEST__INIT;
	m.epoch = r->epoch;
	m.candidate = r->candidate;
	m.kind = r->kind;
	m.last_epoch = r->last_epoch;
	m.last_lsn = r->last_lsn;
	m.last_hash = r->last_hash;
	m.durable_lsn = r->durable_lsn;
	m.accepted_from = r->accepted.from;
	m.accepted_to = r->accepted.to;
	m.pre = r->pre;
	send_msg(c, HW_FRAME_VOTE_REQUEST, &m);
}

static void send_vote(struct hw_conn *c, const struct hw_el_vote *r)
{
	Hawser__Wire__V1__Vote m = HAWSER__WIRE__V1__VOTE__INIT;
	m.epoch = r->epoch;
	m.granted = r->granted;
	m.pre = r->pre;
	m.reason = r->reason;
	m.committed_lsn = r->committed_lsn;
	m.required_lsn = r->required_lsn;
	send_msg(c, HW_FRAME_VOTE, &m);
}

/* A SEND_* action: onto the link to a->peer, or dropped when it is down. */
static void send_act(struct hw_voters *v, const struct hw_el_act *a)
{
	HW_ASSERT(a->peer < v->fo.n_voters && a->peer != v->fo.self);
	struct hw_conn *c = v->links[a->peer].conn;
	if (c == NULL || v->isolated_until_ms != 0)
		return;
	v->links[a->peer].sent_ms = hw_loop_now_ms(v->loop); /* as good as a beat */
	switch (a->type) {
	case HW_EL_SEND_LEASE_REQ:
		send_lease_req(c, &a->m.lease_req, v->fo.n_voters);
		break;
	case HW_EL_SEND_LEASE_ACK: {
		Hawser__Wire__V1__LeaseAck m = HAWSER__WIRE__V1__LEASE_ACK__INIT;
		m.epoch = a->m.lease_ack.epoch;
		m.round = a->m.lease_ack.round;
		m.granted = a->m.lease_ack.granted;
		send_msg(c, HW_FRAME_LEASE_ACK, &m);
		break;
	}
	case HW_EL_SEND_VOTE_REQ:
		send_vote_req(c, &a->m.vote_req);
		break;
	case HW_EL_SEND_VOTE:
		send_vote(c, &a->m.vote);
		break;
	default: { /* HW_EL_SEND_TIMEOUT_NOW */
		Hawser__Wire__V1__TimeoutNow m = HAWSER__WIRE__V1__TIMEOUT_NOW__INIT;
		m.epoch = a->epoch;
		send_msg(c, HW_FRAME_TIMEOUT_NOW, &m);
		break;
	}
	}
}

/* ---- actions ---------------------------------------------------------------------- */

static void log_send(struct hw_voters *v, const struct hw_el_act *a)
{
	const char *to = v->fo.voters[a->peer].id;
	if (a->type == HW_EL_SEND_VOTE) {
		const struct hw_el_vote *m = &a->m.vote;
		hw_log(m->granted ? "vote_granted" : "vote_denied",
		       "candidate=%s epoch=%llu pre=%d reason=%s committed_lsn=%llu "
		       "required_lsn=%llu",
		       to, (unsigned long long)m->epoch, m->pre, hw_el_reason_name(m->reason),
		       (unsigned long long)m->committed_lsn, (unsigned long long)m->required_lsn);
	} else if (a->type == HW_EL_SEND_VOTE_REQ && a->m.vote_req.candidate == v->fo.self) {
		/* once per round, not per voter: the first voter asked */
		uint32_t first = v->fo.self == 0 ? 1 : 0;
		if (a->peer == first)
			hw_log("election_started",
			       "epoch=%llu pre=%d kind=%u last_epoch=%llu last_lsn=%llu "
			       "durable_lsn=%llu",
			       (unsigned long long)a->m.vote_req.epoch, a->m.vote_req.pre,
			       a->m.vote_req.kind, (unsigned long long)a->m.vote_req.last_epoch,
			       (unsigned long long)a->m.vote_req.last_lsn,
			       (unsigned long long)a->m.vote_req.durable_lsn);
	}
}

static void run(struct hw_voters *v, const struct hw_el_acts *acts);

static void persist(struct hw_voters *v, const struct hw_el_hard *hard)
{
	int rc = v->persist_cb(v->arg, hard);
	if (rc != 0) {
		v->failed = rc;
		hw_log("election_stopped", "code=%s what=\"%s\"", hw_errname(rc),
		       "the election state could not be made durable; this voter is silent");
		return;
	}
	struct hw_el_act buf[HW_EL_ACTS_MIN];
	struct hw_el_acts acts = {.v = buf, .n = 0, .cap = HW_EL_ACTS_MIN};
	hw_el_on_persisted(&v->el, hard, hw_mono_ms(), &acts); /* as in EL */
	run(v, &acts);
}

/* Carry out acts in order; a persist runs (with what it releases) before the next. */
static void run(struct hw_voters *v, const struct hw_el_acts *acts)
{
	for (size_t i = 0; i < acts->n && v->failed == 0; i++) {
		const struct hw_el_act *a = &acts->v[i];
		switch (a->type) {
		case HW_EL_SEND_LEASE_REQ:
		case HW_EL_SEND_LEASE_ACK:
		case HW_EL_SEND_VOTE_REQ:
		case HW_EL_SEND_VOTE:
		case HW_EL_SEND_TIMEOUT_NOW:
			log_send(v, a);
			send_act(v, a);
			break;
		case HW_EL_PERSIST:
			persist(v, &a->hard);
			break;
		default:
			v->act_cb(v->arg, a);
			break;
		}
	}
}

/* Run call on the core with room for its actions, then carry them out. The core's time is
 * read now, not the loop iteration's cached time: a frame handled after a stall in the
 * same iteration (an fsync, a snapshot's install) would be stamped before it arrived,
 * and a voter's lease promise counted from that stamp could end before the lease the
 * primary counts from its send. Read now, a promise starts no earlier than the request
 * arrived, and a primary's lease no later than its request left. */
#define EL(v, call)                                                                                \
	do {                                                                                       \
		struct hw_el_act buf_[HW_EL_ACTS_MIN];                                             \
		struct hw_el_acts a_ = {.v = buf_, .n = 0, .cap = HW_EL_ACTS_MIN};                 \
		struct hw_el_acts *acts = &a_;                                                     \
		int64_t now = hw_mono_ms();                                                        \
		(void)now;                                                                         \
		call;                                                                              \
		run((v), acts);                                                                    \
	} while (0)

/* ---- links ------------------------------------------------------------------------ */

static void link_dial(struct link *l);

/* Voter l was heard from (either connection) at now: voter_heard if it was silent. */
static void link_heard(struct link *l, int64_t now)
{
	if (l->silent)
		hw_log("voter_heard", "voter=%s silent_ms=%lld", l->v->fo.voters[l->id].id,
		       (long long)(now - l->heard_ms));
	l->silent = false;
	l->heard_ms = now;
}

/* voter_silent once a voter whose link is up has sent nothing for the beats that make it
 * unreached (hw_voters_reached): a stopped process or a hung host, whose kernel keeps the
 * connection, says nothing else in the log. */
static void link_watch(struct link *l, int64_t now)
{
	if (!l->up || l->silent || hw_tg_voter_heard(l->heard_ms, now, l->beat_ms))
		return;
	hw_log("voter_silent", "voter=%s silent_ms=%lld beat_ms=%lld", l->v->fo.voters[l->id].id,
	       (long long)(now - l->heard_ms), (long long)l->beat_ms);
	l->silent = true;
}

/* One frame on a link this voter dialed (hw_frames_take): only a Hello or an Error
 * comes back on it. */
static int link_take(void *arg, const struct hw_frame *f)
{
	struct link *l = arg;
	struct hw_voters *v = l->v;
	if (f->type == HW_FRAME_ERROR) {
		Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, f->len, f->body);
		hw_log("voter_refused", "voter=%s addr=%s what=\"%s\"", v->fo.voters[l->id].id,
		       hw_conn_peer(l->conn), e != NULL ? e->message : "?");
		hawser__wire__v1__error__free_unpacked(e, NULL);
		return HW_ECLUSTER;
	}
	if (f->type != HW_FRAME_HELLO)
		return HW_EPROTOCOL;
	const char *id = v->fo.voters[l->id].id;
	Hawser__Wire__V1__Hello *m = hawser__wire__v1__hello__unpack(NULL, f->len, f->body);
	bool named = m != NULL && strcmp(m->node_id, id) == 0;
	l->beat_ms = m != NULL ? m->heartbeat_ms : 0;
	hawser__wire__v1__hello__free_unpacked(m, NULL);
	if (!named || !hw_security_peer_is(&v->sec, hw_conn_peer_key(l->conn), id)) {
		hw_log("voter_refused", "voter=%s addr=%s what=\"%s\"", id, hw_conn_peer(l->conn),
		       "the answer is not from that voter's pinned key");
		return HW_EAUTH;
	}
	if (!l->up)
		hw_log("voter_link_up", "voter=%s addr=%s", v->fo.voters[l->id].id,
		       v->fo.voters[l->id].addr);
	l->up = true;
	link_heard(l, hw_loop_now_ms(v->loop));
	l->logged_down = false;
	l->retry_ms = HW_VOTERS_RETRY_MIN_MS;
	return 0;
}

static long link_on_data(struct hw_conn *c, void *arg, const uint8_t *buf, size_t len)
{
	struct hw_frames_from from = {.peer = hw_conn_peer(c)}; /* dialled: each line in full */
	return hw_frames_take(buf, len, &from, link_take, arg);
}

static void link_on_close(struct hw_conn *c, void *arg, int code)
{
	(void)c;
	struct link *l = arg;
	struct hw_voters *v = l->v;
	if (l->up || !l->logged_down)
		hw_log("voter_link_down", "voter=%s code=%s retry_ms=%lld", v->fo.voters[l->id].id,
		       hw_errname(code), (long long)l->retry_ms);
	l->logged_down = true;
	l->conn = NULL;
	l->up = false;
	l->silent = false; /* voter_link_down said more */
	l->retry_at_ms = hw_loop_now_ms(v->loop) + l->retry_ms;
	l->retry_ms =
		l->retry_ms * 2 < HW_VOTERS_RETRY_MAX_MS ? l->retry_ms * 2 : HW_VOTERS_RETRY_MAX_MS;
}

static const struct hw_conn_ops link_ops = {
	.on_data = link_on_data,
	.on_close = link_on_close,
};

/* Dial voter l->id and queue our Hello (it leaves once connected). */
static void link_dial(struct link *l)
{
	struct hw_voters *v = l->v;
	int rc = hw_connect(v->ring, v->fo.voters[l->id].addr, &link_ops, l, &l->conn);
	if (rc != 0) {
		l->conn = NULL;
		l->retry_at_ms = hw_loop_now_ms(v->loop) + HW_VOTERS_RETRY_MAX_MS;
		return;
	}
	/* A voter whose host vanished (no FIN, no RST) is noticed by what we send it, within
	 * a failure detection, not after TCP's minutes of retransmission. */
	int64_t t = v->el.cfg.detection_ms;
	hw_conn_set_send_timeout(l->conn, (unsigned)(t > HW_VOTERS_SEND_TIMEOUT_MIN_MS
							     ? t
							     : HW_VOTERS_SEND_TIMEOUT_MIN_MS));
	hw_voters_send_hello(v, l->conn);
}

/* The link's HEARTBEAT (an empty body: 12 bytes) when the other voter takes one and was
 * sent nothing for a beat. A link too full for it gets the next one. */
static void link_beat(struct link *l, int64_t now)
{
	struct hw_voters *v = l->v;
	if (!l->up || l->beat_ms == 0 || now - l->sent_ms < v->el.cfg.renew_ms)
		return;
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	hw_frame_header(hdr, HW_FRAME_HEARTBEAT, NULL, 0);
	(void)hw_conn_send(l->conn, hdr, sizeof hdr);
	l->sent_ms = now;
}

/* ---- API -------------------------------------------------------------------------- */

int hw_voters_new(struct hw_loop *loop, struct hw_ring *ring, const struct hw_voters_config *c,
		  struct hw_voters **out)
{
	struct hw_voters *v = calloc(1, sizeof *v);
	if (v == NULL)
		return HW_ENOMEM;
	v->loop = loop;
	v->ring = ring;
	v->fo = c->cfg->failover;
	snprintf(v->cluster_id, sizeof v->cluster_id, "%s", c->cfg->cluster_id);
	snprintf(v->node_id, sizeof v->node_id, "%s", c->cfg->node_id);
	v->sec = c->cfg->security;
	v->persist_cb = c->persist_cb;
	v->act_cb = c->act_cb;
	v->arg = c->arg;
	v->rand_state = c->seed;
	struct hw_el_config ec = c->el;
	ec.rand_cb = rand_cb;
	ec.rand_arg = &v->rand_state;
	int64_t now = hw_loop_now_ms(loop);
	hw_el_init(&v->el, &ec, c->hard, now);
	for (uint32_t i = 0; i < v->fo.n_voters; i++) {
		v->links[i] = (struct link){.v = v, .id = i, .retry_ms = HW_VOTERS_RETRY_MIN_MS};
		if (i != v->fo.self)
			link_dial(&v->links[i]);
	}
	hw_log("election_ready",
	       "voter=%u voters=%u epoch=%llu voted_for=%d renew_ms=%lld lease_ms=%lld "
	       "detection_ms=%lld seed=%llu",
	       v->fo.self, v->fo.n_voters, (unsigned long long)v->el.hard.epoch,
	       v->el.hard.voted_for == HW_EL_NONE ? -1 : (int)v->el.hard.voted_for,
	       (long long)ec.renew_ms, (long long)ec.lease_ms, (long long)ec.detection_ms,
	       (unsigned long long)c->seed);
	*out = v;
	return 0;
}

void hw_voters_free(struct hw_voters *v)
{
	free(v);
}

const struct hw_el *hw_voters_el(const struct hw_voters *v)
{
	return &v->el;
}

int hw_voters_id(const struct hw_voters *v, const char *node_id)
{
	for (uint32_t i = 0; i < v->fo.n_voters; i++)
		if (strcmp(v->fo.voters[i].id, node_id) == 0)
			return (int)i;
	return -1;
}

int hw_voters_send_hello(struct hw_voters *v, struct hw_conn *c)
{
	Hawser__Wire__V1__Hello m = HAWSER__WIRE__V1__HELLO__INIT;
	m.protocol_version = 1;
	m.cluster_id = v->cluster_id;
	m.node_id = v->node_id;
	m.role = v->fo.self == v->fo.witness ? HAWSER__WIRE__V1__ROLE__WITNESS
					     : HAWSER__WIRE__V1__ROLE__VOTER;
	m.epoch = v->el.hard.epoch;
	m.heartbeat_ms = (uint32_t)v->el.cfg.renew_ms; /* link_beat */
	return send_msg(c, HW_FRAME_HELLO, &m);
}

bool hw_voters_reached(const struct hw_voters *v, uint32_t id)
{
	HW_ASSERT(id < v->fo.n_voters);
	const struct link *l = &v->links[id];
	return id != v->fo.self && v->isolated_until_ms == 0 && l->conn != NULL && l->up &&
	       hw_tg_voter_heard(l->heard_ms, hw_loop_now_ms(v->loop), l->beat_ms);
}

const char *hw_voters_addr(const struct hw_voters *v, uint32_t id)
{
	HW_ASSERT(id < v->fo.n_voters);
	return v->fo.voters[id].addr;
}

bool hw_voters_frame(enum hw_frame_type t)
{
	return (t >= HW_FRAME_LEASE_REQUEST && t <= HW_FRAME_TIMEOUT_NOW) ||
	       t == HW_FRAME_LOSS_QUERY || t == HW_FRAME_LOSS_RANGE || t == HW_FRAME_HEARTBEAT;
}

/* Witness: the rpo in a primary's lease request against its own, said once per change
 * (never per request): witness_rpo_mismatch when they differ (it judges by the stricter,
 * hw_el_witness_rpo_ms), witness_rpo_unknown when the primary sends none (an older one:
 * it judges by its own, and cannot tell a mismatch), witness_rpo_match when they agree
 * again after either. */
static void witness_rpo_check(struct hw_voters *v, uint32_t from, const struct hw_el_lease_req *r)
{
	int64_t own = v->fo.rpo_ms, theirs = r->rpo_ms;
	if (v->rpo_heard_set && v->rpo_heard == theirs)
		return;
	bool first = !v->rpo_heard_set;
	int64_t before = v->rpo_heard;
	v->rpo_heard_set = true;
	v->rpo_heard = theirs;
	const char *who = v->fo.voters[from].id;
	unsigned long long epoch = (unsigned long long)r->epoch;
	long long judged = (long long)hw_el_witness_rpo_ms(&v->el);
	if (theirs == own) {
		if (!first && before != own)
			hw_log("witness_rpo_match", "primary=%s epoch=%llu rpo_ms=%lld", who, epoch,
			       (long long)own);
	} else if (theirs == HW_EL_RPO_NONE) {
		hw_log("witness_rpo_unknown",
		       "primary=%s epoch=%llu own_rpo_ms=%lld judged_rpo_ms=%lld what=\"the "
		       "primary "
		       "sends no rpo (an older hawser): candidates are judged by the witness's "
		       "own, "
		       "which may not be the nodes'\"",
		       who, epoch, (long long)own, judged);
	} else {
		hw_log("witness_rpo_mismatch",
		       "primary=%s epoch=%llu primary_rpo_ms=%lld own_rpo_ms=%lld "
		       "judged_rpo_ms=%lld "
		       "what=\"the witness's [failover] rpo is not the primary's: candidates are "
		       "judged by the stricter; give every voter the same rpo\"",
		       who, epoch, (long long)theirs, (long long)own, judged);
	}
}

static int on_lease_req(struct hw_voters *v, uint32_t from, const struct hw_frame *f)
{
	Hawser__Wire__V1__LeaseRequest *m =
		hawser__wire__v1__lease_request__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	struct hw_el_lease_req r = {
		.epoch = m->epoch,
		.round = m->round,
		.committed_lsn = m->committed_lsn,
		.lease_ms = m->lease_ms <= HW_EL_LEASE_MS_MAX ? (int64_t)m->lease_ms : 0,
		/* beyond any rpo a config allows: as good as none (the witness's own) */
		.rpo_ms = m->rpo_sent && m->rpo_ms <= HW_TARGET_MS_MAX ? (int64_t)m->rpo_ms
								       : HW_EL_RPO_NONE};
	for (size_t i = 0; i < m->n_durable && i < HW_EL_VOTERS_MAX; i++)
		r.durable[i] = m->durable[i];
	hawser__wire__v1__lease_request__free_unpacked(m, NULL);
	EL(v, hw_el_on_lease_req(&v->el, from, &r, now, acts));
	if (v->el.role == HW_EL_WITNESS)
		witness_rpo_check(v, from, &r);
	return 0;
}

static int on_vote_req(struct hw_voters *v, uint32_t from, const struct hw_frame *f)
{
	Hawser__Wire__V1__VoteRequest *m =
		hawser__wire__v1__vote_request__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	struct hw_el_vote_req r = {
		.epoch = m->epoch,
		.candidate = m->candidate,
		.kind = (uint8_t)m->kind,
		.last_epoch = m->last_epoch,
		.last_lsn = m->last_lsn,
		.last_hash = m->last_hash,
		.durable_lsn = m->durable_lsn,
		.accepted = {m->accepted_from, m->accepted_to},
		.pre = m->pre,
	};
	hawser__wire__v1__vote_request__free_unpacked(m, NULL);
	EL(v, hw_el_on_vote_req(&v->el, from, &r, now, acts));
	return 0;
}

static int on_vote(struct hw_voters *v, uint32_t from, const struct hw_frame *f)
{
	Hawser__Wire__V1__Vote *m = hawser__wire__v1__vote__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	struct hw_el_vote r = {
		.epoch = m->epoch,
		.granted = m->granted,
		.pre = m->pre,
		.reason = (uint8_t)m->reason,
		.committed_lsn = m->committed_lsn,
		.required_lsn = m->required_lsn,
	};
	hawser__wire__v1__vote__free_unpacked(m, NULL);
	if (!r.granted)
		hw_log("vote_refused",
		       "voter=%s epoch=%llu pre=%d reason=%s committed_lsn=%llu required_lsn=%llu "
		       "our_durable_lsn=%llu",
		       v->fo.voters[from].id, (unsigned long long)r.epoch, r.pre,
		       hw_el_reason_name(r.reason), (unsigned long long)r.committed_lsn,
		       (unsigned long long)r.required_lsn,
		       (unsigned long long)v->el.prog.durable_lsn);
	EL(v, hw_el_on_vote(&v->el, from, &r, now, acts));
	return 0;
}

/* Witness: what promoting from (holding durable_lsn) would lose, back on its link. */
static int on_loss_query(struct hw_voters *v, uint32_t from, const struct hw_frame *f)
{
	Hawser__Wire__V1__LossQuery *m =
		hawser__wire__v1__loss_query__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	struct hw_el_range r = {0, 0};
	int rc = hw_el_loss_range(&v->el, from, m->durable_lsn, m->last_epoch, &r);
	hw_log("loss_listed", "candidate=%u durable_lsn=%llu from=%llu to=%llu code=%s", from,
	       (unsigned long long)m->durable_lsn, (unsigned long long)r.from,
	       (unsigned long long)r.to, rc == 0 ? "ok" : hw_errname(rc));
	hawser__wire__v1__loss_query__free_unpacked(m, NULL);
	Hawser__Wire__V1__LossRange a = HAWSER__WIRE__V1__LOSS_RANGE__INIT;
	a.from = r.from;
	a.to = r.to;
	a.code = rc;
	if (from < v->fo.n_voters && v->links[from].conn != NULL)
		send_msg(v->links[from].conn, HW_FRAME_LOSS_RANGE, &a);
	return 0;
}

static int on_loss_range(struct hw_voters *v, const struct hw_frame *f)
{
	Hawser__Wire__V1__LossRange *m =
		hawser__wire__v1__loss_range__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	if (v->loss_asked) {
		v->loss = (struct hw_el_range){m->from, m->to};
		v->loss_code = m->code;
		v->loss_have = true;
		v->loss_asked = false;
	}
	hawser__wire__v1__loss_range__free_unpacked(m, NULL);
	return 0;
}

int hw_voters_on_frame(struct hw_voters *v, uint32_t from, const struct hw_frame *f)
{
	if (v->failed != 0 || from >= v->fo.n_voters || from == v->fo.self ||
	    v->isolated_until_ms != 0)
		return 0;
	link_heard(&v->links[from], hw_loop_now_ms(v->loop));
	switch (f->type) {
	case HW_FRAME_HEARTBEAT: /* heard, which is all it says (a body is not looked at) */
		return 0;
	case HW_FRAME_LEASE_REQUEST:
		return on_lease_req(v, from, f);
	case HW_FRAME_LEASE_ACK: {
		Hawser__Wire__V1__LeaseAck *m =
			hawser__wire__v1__lease_ack__unpack(NULL, f->len, f->body);
		if (m == NULL)
			return HW_EFRAME;
		struct hw_el_lease_ack r = {
			.epoch = m->epoch, .round = m->round, .granted = m->granted};
		hawser__wire__v1__lease_ack__free_unpacked(m, NULL);
		EL(v, hw_el_on_lease_ack(&v->el, from, &r, now, acts));
		return 0;
	}
	case HW_FRAME_VOTE_REQUEST:
		return on_vote_req(v, from, f);
	case HW_FRAME_VOTE:
		return on_vote(v, from, f);
	case HW_FRAME_LOSS_QUERY:
		return from == v->fo.self || v->fo.self != v->fo.witness
			       ? HW_EPROTOCOL
			       : on_loss_query(v, from, f);
	case HW_FRAME_LOSS_RANGE:
		return from != v->fo.witness ? HW_EPROTOCOL : on_loss_range(v, f);
	case HW_FRAME_TIMEOUT_NOW: {
		Hawser__Wire__V1__TimeoutNow *m =
			hawser__wire__v1__timeout_now__unpack(NULL, f->len, f->body);
		if (m == NULL)
			return HW_EFRAME;
		uint64_t epoch = m->epoch;
		hawser__wire__v1__timeout_now__free_unpacked(m, NULL);
		EL(v, hw_el_on_timeout_now(&v->el, from, epoch, now, acts));
		return 0;
	}
	default:
		return HW_EPROTOCOL;
	}
}

void hw_voters_tick(struct hw_voters *v, bool timers)
{
	if (v->failed != 0)
		return;
	int64_t t = hw_loop_now_ms(v->loop);
	if (v->isolated_until_ms != 0 && t >= v->isolated_until_ms) {
		hw_log("isolation_ended", "epoch=%llu role=%s",
		       (unsigned long long)v->el.hard.epoch,
		       v->el.role == HW_EL_PRIMARY ? "primary" : "not_primary");
		v->isolated_until_ms = 0;
	}
	for (uint32_t i = 0; i < v->fo.n_voters && v->isolated_until_ms == 0; i++) {
		struct link *l = &v->links[i];
		if (i != v->fo.self && l->conn == NULL && t >= l->retry_at_ms)
			link_dial(l);
	}
	if (timers)
		EL(v, hw_el_on_tick(&v->el, now, acts));
	/* after the core's sends, which are beats too (send_act) */
	for (uint32_t i = 0; i < v->fo.n_voters && v->isolated_until_ms == 0 && v->failed == 0; i++)
		if (i != v->fo.self) {
			link_beat(&v->links[i], t);
			link_watch(&v->links[i], t);
		}
}

void hw_voters_progress(struct hw_voters *v, const struct hw_el_progress *p)
{
	if (v->failed == 0)
		EL(v, hw_el_on_progress(&v->el, p, now, acts));
}

void hw_voters_primary_heard(struct hw_voters *v, uint32_t from, uint64_t epoch)
{
	if (v->failed == 0)
		EL(v, hw_el_on_primary_heard(&v->el, from, epoch, now, acts));
}

void hw_voters_storage_failed(struct hw_voters *v)
{
	EL(v, hw_el_on_storage_failed(&v->el, now, acts));
}

int hw_voters_switchover(struct hw_voters *v, uint32_t target)
{
	if (v->failed != 0)
		return v->failed;
	int rc = 0;
	EL(v, rc = hw_el_on_switchover(&v->el, target, now, acts));
	return rc;
}

int hw_voters_loss_poll(struct hw_voters *v, uint64_t durable_lsn, struct hw_el_range *r, int *code)
{
	if (v->loss_have) {
		v->loss_have = false; /* one answer per listing: the next one asks again */
		*r = v->loss;
		*code = v->loss_code;
		return 0;
	}
	int64_t now = hw_loop_now_ms(v->loop);
	if (v->loss_asked && now - v->loss_asked_ms < HW_VOTERS_RETRY_MAX_MS)
		return HW_EBUSY;
	if (v->fo.witness == HW_EL_NONE || v->fo.witness >= v->fo.n_voters)
		return HW_ECONFIG;
	struct hw_conn *c = v->links[v->fo.witness].conn;
	if (c == NULL || v->isolated_until_ms != 0)
		return HW_ECLOSED;
	Hawser__Wire__V1__LossQuery m = HAWSER__WIRE__V1__LOSS_QUERY__INIT;
	m.durable_lsn = durable_lsn;
	m.last_epoch = v->el.prog.last_epoch;
	v->loss_asked = true;
	v->loss_asked_ms = now;
	int rc = send_msg(c, HW_FRAME_LOSS_QUERY, &m);
	return rc != 0 ? rc : HW_EBUSY;
}

int hw_voters_forced_promote(struct hw_voters *v, const struct hw_el_range *accepted)
{
	if (v->failed != 0)
		return v->failed;
	int rc = 0;
	EL(v, rc = hw_el_on_forced_promote(&v->el, accepted, now, acts));
	return rc;
}

void hw_voters_isolate(struct hw_voters *v, int64_t until_ms)
{
	int64_t now = hw_loop_now_ms(v->loop);
	v->isolated_until_ms = until_ms > now ? until_ms : now + 1; /* 0 means none */
	hw_log("isolated", "until_ms=%lld for_ms=%lld epoch=%llu", (long long)v->isolated_until_ms,
	       (long long)(v->isolated_until_ms - now), (unsigned long long)v->el.hard.epoch);
	/* Each one's on_close clears its slot; until then the checks above keep it unused, and
	 * the tick dials none that is still set. */
	for (uint32_t i = 0; i < v->fo.n_voters; i++)
		if (v->links[i].conn != NULL)
			hw_conn_close(v->links[i].conn, HW_ECLOSED);
}

bool hw_voters_isolated(const struct hw_voters *v)
{
	return v->isolated_until_ms != 0;
}

bool hw_voters_may_ack(const struct hw_voters *v)
{
	return v->failed == 0 && hw_el_may_ack(&v->el, hw_mono_ms());
}

/* ---- hard state in a store ---------------------------------------------------------- */

/* meta key and layout: version 2 | epoch | voted_epoch | voted_for | w_vouch | w_epoch |
 * w_committed | lease_ms, little-endian (docs/formats.md); version 1 had no lease_ms. */
#define HARD_KEY      "node.election"
#define HARD_BYTES_V1 41u
#define HARD_BYTES    49u

int hw_voters_save_hard(struct hw_store *s, const struct hw_el_hard *h)
{
	uint8_t b[HARD_BYTES] = {2};
	hw_put_u64(b + 1, h->epoch);
	hw_put_u64(b + 9, h->voted_epoch);
	hw_put_u64(b + 17, (uint64_t)h->voted_for | (uint64_t)h->w_vouch << 32);
	hw_put_u64(b + 25, h->w_epoch);
	hw_put_u64(b + 33, h->w_committed);
	hw_put_u64(b + 41, (uint64_t)h->lease_ms);
	return hw_store_meta_put(s, HARD_KEY, b, sizeof b);
}

int hw_voters_load_hard(struct hw_store *s, struct hw_el_hard *h)
{
	uint8_t b[HARD_BYTES];
	size_t len = 0;
	int rc = hw_store_meta_get(s, HARD_KEY, b, sizeof b, &len);
	if (rc != 0)
		return rc;
	bool v1 = len == HARD_BYTES_V1 && b[0] == 1;
	if (!v1 && (len != HARD_BYTES || b[0] != 2))
		return HW_EFORMAT;
	uint64_t who = hw_get_u64(b + 17);
	uint64_t lease = v1 ? 0 : hw_get_u64(b + 41);
	*h = (struct hw_el_hard){
		.epoch = hw_get_u64(b + 1),
		.voted_epoch = hw_get_u64(b + 9),
		.voted_for = (uint32_t)who,
		.w_vouch = (uint32_t)(who >> 32),
		.w_epoch = hw_get_u64(b + 25),
		.w_committed = hw_get_u64(b + 33),
		.lease_ms = lease <= HW_EL_LEASE_MS_MAX ? (int64_t)lease : HW_EL_LEASE_MS_MAX,
	};
	return 0;
}
