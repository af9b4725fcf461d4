/* election.c: epochs, leases, witness votes, fencing and gated promotion as a pure state
 * machine (engine/core/election.h holds the rules; this file follows them in order).
 *
 * Every event first lets time act (a primary whose lease ended steps down before it
 * answers anything), then handles the message. A voter's answer to a vote request is
 * decided in two steps: checks that leave the voter untouched (stale epoch, lease), then
 * checks against its log or the witness's commit knowledge; only a grant changes state
 * (epoch, vote), and the grant leaves only after hw_el_on_persisted. */
#include "engine/core/election.h"

#include <string.h>

#include "base/assert.h"
#include "hawser_error.h"

static const char *const reason_names[HW_EL_REASONS] = {
	"granted",       "stale",          "lease",       "voted",
	"behind",        "no_info",        "not_in_sync", "loss_not_accepted",
	"not_candidate", "storage_failed",
};

const char *hw_el_reason_name(enum hw_el_reason r)
{
	if ((unsigned)r >= HW_EL_REASONS)
		return "?";
	return reason_names[r];
}

/* Every event is bounded by HW_EL_ACTS_MIN and the driver promised that much room. */
static void push(struct hw_el_acts *out, const struct hw_el_act *a)
{
	HW_ASSERT(out->n < out->cap);
	out->v[out->n++] = *a;
}

static void check_room(const struct hw_el_acts *out)
{
	HW_ASSERT(out->cap >= out->n + HW_EL_ACTS_MIN);
}

uint32_t hw_el_k_min(uint32_t voters)
{
	uint32_t standbys = voters - 2, majority = voters / 2 + 1;
	return standbys + 2 > majority ? standbys + 2 - majority : 0;
}

uint32_t hw_el_majority(const struct hw_el *el)
{
	return el->cfg.voters / 2u + 1u;
}

static bool is_peer(const struct hw_el *el, uint32_t id)
{
	return id < el->cfg.voters && id != el->cfg.self;
}

/* A voter that may stand for election: any node but the witness. */
static bool may_stand(const struct hw_el *el, uint32_t id)
{
	return id < el->cfg.voters && id != el->cfg.witness;
}

/* 0..backoff_ms from the driver's seeded source. */
static int64_t draw_jitter(struct hw_el *el)
{
	uint64_t r = el->cfg.rand_cb(el->cfg.rand_arg);
	return (int64_t)(r % (uint64_t)(el->cfg.backoff_ms + 1));
}

static void persist(struct hw_el *el, struct hw_el_acts *out)
{
	struct hw_el_act a = {.type = HW_EL_PERSIST, .hard = el->hard};
	push(out, &a);
}

static void send_to(struct hw_el_acts *out, struct hw_el_act *a, uint32_t peer)
{
	a->peer = peer;
	push(out, a);
}

/* ---------------------------------------------------------------- init */

static void check_config(const struct hw_el_config *c)
{
	HW_ASSERT(c->voters >= 2 && c->voters <= HW_EL_VOTERS_MAX);
	HW_ASSERT(c->self < c->voters);
	HW_ASSERT(c->witness == HW_EL_NONE || c->witness < c->voters);
	HW_ASSERT(c->renew_ms > 0 && c->lease_ms >= 2 * c->renew_ms);
	HW_ASSERT(c->drift_margin_ms >= 0 && c->drift_margin_ms < c->lease_ms - c->renew_ms);
	HW_ASSERT(c->detection_ms >= c->lease_ms);
	HW_ASSERT(c->election_ms > 0 && c->backoff_ms >= 1 && c->xfer_timeout_ms > 0);
	HW_ASSERT(c->rpo_ms >= 0);
	HW_ASSERT(c->rand_cb != NULL);
}

void hw_el_init(struct hw_el *el, const struct hw_el_config *cfg, const struct hw_el_hard *hard,
		int64_t now_ms)
{
	check_config(cfg);
	memset(el, 0, sizeof *el);
	el->cfg = *cfg;
	el->role = cfg->self == cfg->witness ? HW_EL_WITNESS : HW_EL_STANDBY;
	el->lost = hard == NULL;
	el->hard = hard != NULL ? *hard : HW_EL_HARD_FRESH;
	el->durable = el->hard;
	el->primary = HW_EL_NONE;
	el->last_heard_ms = now_ms;
	el->jitter_ms = draw_jitter(el);
	/* it may have promised someone before it stopped: honour that for a lease, the
	 * longest it ever promised for */
	el->promise_to = HW_EL_ANY;
	el->promise_until_ms =
		now_ms + (el->hard.lease_ms > cfg->lease_ms ? el->hard.lease_ms : cfg->lease_ms);
	el->xfer_to = HW_EL_NONE;
	for (uint32_t i = 0; i < HW_EL_VOTERS_MAX; i++)
		el->acked_sent_ms[i] = el->refused_sent_ms[i] = INT64_MIN;
	/* a cluster that never had a primary committed nothing (HW_EL_HARD_FRESH); a
	 * restarted witness knows what it persisted, a wiped one nothing */
	el->w_info = !el->lost;
	el->w_rpo_primary = HW_EL_RPO_NONE;
}

/* ---------------------------------------------------------------- roles */

bool hw_el_may_ack(const struct hw_el *el, int64_t now_ms)
{
#ifdef HW_MUTANT_NO_LEASE /* a deliberate bug, build/hawser-mutant only (docs/testing.md) */
	return el->role == HW_EL_PRIMARY;
#endif
	return el->role == HW_EL_PRIMARY && !el->xfer_sent && now_ms < el->lease_until_ms;
}

static void step_down(struct hw_el *el, int code, int64_t now_ms, struct hw_el_acts *out)
{
	HW_ASSERT(el->role == HW_EL_PRIMARY);
	struct hw_el_act a = {.type = HW_EL_STEP_DOWN, .epoch = el->hard.epoch, .code = code};
	push(out, &a);
	el->role = HW_EL_STANDBY;
	el->primary = HW_EL_NONE;
	el->lease_until_ms = 0;
	el->xfer_to = HW_EL_NONE;
	el->xfer_sent = false;
	el->last_heard_ms = now_ms;
	el->jitter_ms = draw_jitter(el);
}

/* Adopt a higher epoch: a primary steps down with code, a candidate gives up. */
static void adopt(struct hw_el *el, uint64_t epoch, int code, int64_t now_ms,
		  struct hw_el_acts *out)
{
	if (epoch <= el->hard.epoch)
		return;
	el->hard.epoch = epoch;
	persist(el, out);
	if (el->role == HW_EL_PRIMARY)
		step_down(el, code, now_ms, out);
	if (el->role == HW_EL_CANDIDATE) {
		el->role = HW_EL_STANDBY;
		el->pre = false;
		el->last_heard_ms = now_ms;
	}
	el->primary = HW_EL_NONE;
	if (el->vote_owed && el->vote_msg.epoch < epoch)
		el->vote_owed = false;
}

/* Time acts first: a primary whose lease (and grace as a new primary) ended steps down.
 * While a hand-over is under way the switchover deadline governs instead. */
static void expire(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	if (el->role != HW_EL_PRIMARY || el->xfer_sent)
		return;
	if (now_ms >= el->lease_until_ms && now_ms >= el->since_ms + el->cfg.lease_ms)
		step_down(el, HW_EL_DOWN_LEASE_LOST, now_ms, out);
}

/* ---------------------------------------------------------------- primary */

static void send_round(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	el->round++;
	el->round_sent_ms[el->round % HW_EL_ROUNDS] = now_ms;
	el->next_renew_ms = now_ms + el->cfg.renew_ms;
	struct hw_el_act a = {.type = HW_EL_SEND_LEASE_REQ};
	struct hw_el_lease_req *r = &a.m.lease_req;
	r->epoch = el->hard.epoch;
	r->round = el->round;
	r->lease_ms = el->cfg.lease_ms;
	r->rpo_ms = el->cfg.rpo_ms;
	r->committed_lsn = el->prog.committed_lsn > el->commit_floor ? el->prog.committed_lsn
								     : el->commit_floor;
	for (uint32_t i = 0; i < el->cfg.voters; i++)
		if (i != el->cfg.self && i != el->cfg.witness)
			r->durable[i] = el->prog.peer_durable[i];
	for (uint32_t i = 0; i < el->cfg.voters; i++)
		if (is_peer(el, i))
			send_to(out, &a, i);
}

static void become_primary(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	el->role = HW_EL_PRIMARY;
	el->primary = el->cfg.self;
	el->since_ms = now_ms;
	el->lease_until_ms = 0;
	el->round = 0;
	for (uint32_t i = 0; i < HW_EL_VOTERS_MAX; i++)
		el->acked_sent_ms[i] = el->refused_sent_ms[i] = INT64_MIN;
	el->commit_floor = el->prog.last_lsn;
	el->xfer_to = HW_EL_NONE;
	el->xfer_sent = false;
	struct hw_el_act a = {.type = HW_EL_BECOME_PRIMARY,
			      .epoch = el->hard.epoch,
			      .lsn = el->prog.last_lsn + 1};
	push(out, &a);
	send_round(el, now_ms, out);
}

/* The newest send time t acked by a majority (self included): the (majority - 1)-th
 * largest of the other voters' newest acked send times. */
static void recompute_lease(struct hw_el *el)
{
	uint32_t need = hw_el_majority(el) - 1u;
	int64_t best = INT64_MIN;
	for (uint32_t i = 0; i < el->cfg.voters; i++) {
		int64_t t = el->acked_sent_ms[i];
		if (i == el->cfg.self || t == INT64_MIN || t <= best)
			continue;
		uint32_t have = 0;
		for (uint32_t j = 0; j < el->cfg.voters; j++)
			have += j != el->cfg.self && el->acked_sent_ms[j] >= t;
		if (have >= need)
			best = t;
	}
	if (best == INT64_MIN)
		return;
	int64_t until = best + el->cfg.lease_ms - el->cfg.drift_margin_ms;
	if (until > el->lease_until_ms)
		el->lease_until_ms = until;
}

/* Hand over once the target holds everything: give up the lease, then TIMEOUT_NOW. */
static void xfer_check(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	if (el->role != HW_EL_PRIMARY || el->xfer_to == HW_EL_NONE || el->xfer_sent)
		return;
	const struct hw_el_progress *p = &el->prog;
	if (p->durable_lsn < p->last_lsn || p->peer_durable[el->xfer_to] < p->last_lsn)
		return;
	el->xfer_sent = true;
	el->lease_until_ms = now_ms;
	el->xfer_deadline_ms = now_ms + el->cfg.xfer_timeout_ms;
	struct hw_el_act a = {.type = HW_EL_SEND_TIMEOUT_NOW, .epoch = el->hard.epoch};
	send_to(out, &a, el->xfer_to);
}

static void primary_tick(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	if (el->xfer_sent) {
		if (now_ms >= el->xfer_deadline_ms)
			step_down(el, HW_EL_DOWN_XFER_FAILED, now_ms, out);
		return;
	}
	if (el->xfer_to != HW_EL_NONE && now_ms >= el->xfer_deadline_ms) {
		struct hw_el_act a = {.type = HW_EL_RESUME_SUBMITS};
		push(out, &a);
		el->xfer_to = HW_EL_NONE;
	}
	if (now_ms >= el->next_renew_ms)
		send_round(el, now_ms, out);
}

void hw_el_on_lease_ack(struct hw_el *el, uint32_t from, const struct hw_el_lease_ack *ack,
			int64_t now_ms, struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	if (!is_peer(el, from))
		return;
	if (ack->epoch > el->hard.epoch) {
		adopt(el, ack->epoch, HW_EL_DOWN_HIGHER_EPOCH, now_ms, out);
		return;
	}
	if (el->role != HW_EL_PRIMARY || ack->epoch != el->hard.epoch)
		return;
	if (ack->round > el->round || ack->round == 0 || ack->round + HW_EL_ROUNDS <= el->round)
		return;
	int64_t t = el->round_sent_ms[ack->round % HW_EL_ROUNDS];
	int64_t *sent = ack->granted ? el->acked_sent_ms : el->refused_sent_ms;
	if (t > sent[from])
		sent[from] = t;
	if (ack->granted)
		recompute_lease(el);
}

int hw_el_on_switchover(struct hw_el *el, uint32_t target, int64_t now_ms, struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	if (!hw_el_may_ack(el, now_ms))
		return HW_ENOT_PRIMARY;
	if (el->xfer_to != HW_EL_NONE)
		return HW_EBUSY;
	if (!is_peer(el, target) || !may_stand(el, target))
		return HW_ECONFIG;
	struct hw_el_act a = {.type = HW_EL_PAUSE_SUBMITS};
	push(out, &a);
	el->xfer_to = target;
	el->xfer_deadline_ms = now_ms + el->cfg.xfer_timeout_ms;
	xfer_check(el, now_ms, out);
	return 0;
}

/* ---------------------------------------------------------------- candidate */

static void campaign(struct hw_el *el, enum hw_el_kind kind, int64_t now_ms, struct hw_el_acts *out)
{
	el->role = HW_EL_CANDIDATE;
	el->kind = (uint8_t)kind;
	el->pre = false;
	el->hard.epoch++;
	el->hard.voted_epoch = el->hard.epoch;
	el->hard.voted_for = el->cfg.self;
	el->vote_owed = false;
	persist(el, out);
	el->primary = HW_EL_NONE;
	el->asked = false;
	memset(el->granted, 0, sizeof el->granted);
	memset(el->why, 0, sizeof el->why);
	el->jitter_ms = draw_jitter(el);
	el->deadline_ms = now_ms + el->cfg.election_ms + el->jitter_ms;
}

static void check_won(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	uint32_t have = 0;
	for (uint32_t i = 0; i < el->cfg.voters; i++)
		have += el->granted[i];
	if (have >= hw_el_majority(el) && !el->prog.stale)
		become_primary(el, now_ms, out);
}

/* A VOTE_REQ for epoch to every other voter. */
static void send_vote_reqs(struct hw_el *el, uint64_t epoch, bool pre, struct hw_el_acts *out)
{
	struct hw_el_act a = {.type = HW_EL_SEND_VOTE_REQ};
	struct hw_el_vote_req *r = &a.m.vote_req;
	r->epoch = epoch;
	r->candidate = el->cfg.self;
	r->kind = el->kind;
	r->pre = pre;
	r->last_epoch = el->prog.last_epoch;
	r->last_lsn = el->prog.last_lsn;
	r->last_hash = el->prog.last_hash;
	r->durable_lsn = el->prog.durable_lsn;
	r->accepted = el->accepted;
	for (uint32_t i = 0; i < el->cfg.voters; i++)
		if (is_peer(el, i))
			send_to(out, &a, i);
}

/* Own vote durable: ask every other voter. */
static void ask(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	el->asked = true;
	el->granted[el->cfg.self] = true;
	send_vote_reqs(el, el->hard.epoch, false, out);
	check_won(el, now_ms, out);
}

/* A normal election starts with a pre-vote: nothing persisted, nothing changed anywhere;
 * a majority of would-votes lets the real election (campaign) start. */
static void prevote(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	el->role = HW_EL_CANDIDATE;
	el->kind = HW_EL_NORMAL;
	el->pre = true;
	el->asked = true;
	el->primary = HW_EL_NONE;
	memset(el->granted, 0, sizeof el->granted);
	memset(el->why, 0, sizeof el->why);
	el->granted[el->cfg.self] = true;
	el->jitter_ms = draw_jitter(el);
	el->deadline_ms = now_ms + el->cfg.election_ms + el->jitter_ms;
	send_vote_reqs(el, el->hard.epoch + 1, true, out);
}

static void on_prevote(struct hw_el *el, uint32_t from, const struct hw_el_vote *vote,
		       int64_t now_ms, struct hw_el_acts *out)
{
	if (!vote->granted && vote->epoch > el->hard.epoch) {
		adopt(el, vote->epoch, HW_EL_DOWN_HIGHER_EPOCH, now_ms, out);
		return;
	}
	if (el->role != HW_EL_CANDIDATE || !el->pre)
		return;
	if (from == el->cfg.witness)
		el->w_committed_seen = vote->committed_lsn;
	el->why[from] = vote->reason;
	if (!vote->granted || vote->epoch != el->hard.epoch + 1)
		return;
	el->granted[from] = true;
	uint32_t have = 0;
	for (uint32_t i = 0; i < el->cfg.voters; i++)
		have += el->granted[i];
	if (have >= hw_el_majority(el) && !el->prog.stale)
		campaign(el, HW_EL_NORMAL, now_ms, out);
}

void hw_el_on_vote(struct hw_el *el, uint32_t from, const struct hw_el_vote *vote, int64_t now_ms,
		   struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	if (!is_peer(el, from))
		return;
	if (vote->pre) {
		on_prevote(el, from, vote, now_ms, out);
		return;
	}
	if (vote->epoch > el->hard.epoch) {
		adopt(el, vote->epoch, HW_EL_DOWN_HIGHER_EPOCH, now_ms, out);
		return;
	}
	if (el->role != HW_EL_CANDIDATE || !el->asked || el->pre)
		return;
	if (from == el->cfg.witness)
		el->w_committed_seen = vote->committed_lsn;
	if (!vote->granted) {
		el->why[from] = vote->reason;
		return;
	}
	if (vote->epoch != el->hard.epoch)
		return;
	el->granted[from] = true;
	el->why[from] = HW_EL_R_NONE;
	check_won(el, now_ms, out);
}

int hw_el_on_forced_promote(struct hw_el *el, const struct hw_el_range *accepted, int64_t now_ms,
			    struct hw_el_acts *out)
{
	check_room(out);
	if (el->failed)
		return HW_ESTORE_FAILED;
	if (el->prog.stale)
		return HW_ESTALE;
	bool waiting = el->role == HW_EL_STANDBY || el->role == HW_EL_CANDIDATE;
	if (!waiting || now_ms < el->promise_until_ms)
		return HW_EBUSY;
	if (accepted->from > el->prog.durable_lsn + 1)
		return HW_ERANGE;
	el->accepted = *accepted;
	campaign(el, HW_EL_FORCED, now_ms, out);
	return 0;
}

void hw_el_on_timeout_now(struct hw_el *el, uint32_t from, uint64_t epoch, int64_t now_ms,
			  struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	if (el->role != HW_EL_STANDBY || epoch != el->hard.epoch || from != el->primary ||
	    el->failed || el->prog.stale)
		return;
	el->accepted = (struct hw_el_range){1, 0};
	campaign(el, HW_EL_TRANSFER, now_ms, out);
}

/* ---------------------------------------------------------------- witness */

/* The committed LSN is usable for candidate cand: heard in the witness's current epoch,
 * or every epoch since it was heard is one the witness voted in for cand alone (cand
 * then holds whatever it committed as primary of those epochs). */
static bool w_info_ok(const struct hw_el *w, uint32_t cand)
{
	if (!w->w_info)
		return false;
	return w->hard.w_epoch == w->hard.epoch || w->hard.w_vouch == cand;
}

int64_t hw_el_witness_rpo_ms(const struct hw_el *w)
{
	int64_t p = w->w_rpo_primary;
	return p != HW_EL_RPO_NONE && p < w->cfg.rpo_ms ? p : w->cfg.rpo_ms;
}

uint64_t hw_el_required_lsn(const struct hw_el *w)
{
	int64_t rpo = hw_el_witness_rpo_ms(w);
	if (!w->w_info || w->w_count == 0 || rpo == 0)
		return w->w_info ? w->hard.w_committed : 0;
	int64_t ref = w->w_last_ms - rpo;
	uint64_t req = w->w_samples[w->w_head].committed; /* oldest: too short a history */
	for (uint32_t i = 0; i < w->w_count; i++) {
		const struct hw_el_sample *s = &w->w_samples[(w->w_head + i) % HW_EL_SAMPLES];
		if (s->at_ms <= ref)
			req = s->committed;
	}
	return req;
}

bool hw_el_in_sync(const struct hw_el *w, uint32_t id)
{
	return id < HW_EL_VOTERS_MAX && w->w_in_sync[id];
}

/* A candidate whose log holds an epoch newer than the witness's commit knowledge (and
 * not one the witness vouched for it in) proves that knowledge stale: a primary it never
 * heard may have committed more. */
static bool w_stale(const struct hw_el *w, uint32_t candidate, uint64_t last_epoch)
{
	return last_epoch > w->hard.w_epoch && w->hard.w_vouch != candidate;
}

int hw_el_loss_range(const struct hw_el *w, uint32_t candidate, uint64_t durable_lsn,
		     uint64_t last_epoch, struct hw_el_range *r)
{
	if (w->role != HW_EL_WITNESS)
		return HW_ECONFIG;
	r->from = durable_lsn + 1;
	if (!w_info_ok(w, candidate) || w_stale(w, candidate, last_epoch)) {
		r->to = UINT64_MAX;
		return HW_ENOTFOUND;
	}
	r->to = w->hard.w_committed;
	return 0;
}

static void w_sample(struct hw_el *w, uint64_t committed, int64_t now_ms)
{
	w->w_last_ms = now_ms;
	int64_t rpo = hw_el_witness_rpo_ms(w);
	int64_t gap = rpo / (HW_EL_SAMPLES / 2);
	if (w->w_count > 0) {
		uint32_t newest = (w->w_head + w->w_count - 1) % HW_EL_SAMPLES;
		if (rpo == 0 || now_ms - w->w_samples[newest].at_ms < gap)
			return;
	}
	if (w->w_count == HW_EL_SAMPLES) {
		w->w_head = (w->w_head + 1) % HW_EL_SAMPLES;
		w->w_count--;
	}
	w->w_samples[(w->w_head + w->w_count) % HW_EL_SAMPLES] =
		(struct hw_el_sample){now_ms, committed};
	w->w_count++;
}

/* A lease request of the witness's epoch: the commit frontier and who is in sync. A new
 * epoch starts a new history: LSNs past a lost suffix are reused in the new timeline. */
static void w_learn(struct hw_el *w, uint32_t from, const struct hw_el_lease_req *req,
		    int64_t now_ms, struct hw_el_acts *out)
{
	struct hw_el_hard *h = &w->hard;
	if (!w->w_info || h->w_epoch != req->epoch) {
		w->w_head = 0;
		w->w_count = 0;
	}
	bool changed = !w->w_info || h->w_epoch != req->epoch ||
		       h->w_committed != req->committed_lsn || h->w_vouch != HW_EL_NONE;
	w->w_info = true;
	h->w_epoch = req->epoch;
	h->w_committed = req->committed_lsn;
	h->w_vouch = HW_EL_NONE;
	if (changed)
		persist(w, out);
	/* the samples of an epoch come from one primary, so at one rpo (a restarted primary
	 * with another config is a new epoch) */
	w->w_rpo_primary = req->rpo_ms >= 0 ? req->rpo_ms : HW_EL_RPO_NONE;
	w_sample(w, req->committed_lsn, now_ms);
	uint64_t need = hw_el_required_lsn(w);
	for (uint32_t i = 0; i < w->cfg.voters; i++)
		w->w_in_sync[i] = i != from && i != w->cfg.self && req->durable[i] >= need;
}

/* ---------------------------------------------------------------- voter */

void hw_el_on_lease_req(struct hw_el *el, uint32_t from, const struct hw_el_lease_req *req,
			int64_t now_ms, struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	if (!is_peer(el, from) || !may_stand(el, from))
		return;
	struct hw_el_act a = {.type = HW_EL_SEND_LEASE_ACK};
	a.m.lease_ack.round = req->round;
	if (req->epoch < el->hard.epoch || el->failed) { /* not granted */
		a.m.lease_ack.epoch = req->epoch < el->hard.epoch ? el->hard.epoch : req->epoch;
		send_to(out, &a, from);
		return;
	}
	adopt(el, req->epoch, HW_EL_DOWN_HIGHER_EPOCH, now_ms, out);
	/* two primaries in one epoch would break everything built on epochs */
	HW_ASSERT(el->role != HW_EL_PRIMARY);
	if (el->role == HW_EL_CANDIDATE)
		el->role = HW_EL_STANDBY;
	el->primary = from;
	el->last_heard_ms = now_ms;
	/* for the primary's lease when it is the longer: the primary holds its lease by its
	 * own lease_ms, and the voters' may differ while their configs change. A promise
	 * longer than its own is kept in the hard state first, so a restart honours it
	 * (hw_el_init): until that is durable the request goes unanswered, one round */
	int64_t lease = req->lease_ms > el->cfg.lease_ms && req->lease_ms <= HW_EL_LEASE_MS_MAX
				? req->lease_ms
				: el->cfg.lease_ms;
	if (lease > el->cfg.lease_ms && lease > el->durable.lease_ms) {
		if (lease > el->hard.lease_ms) {
			el->hard.lease_ms = lease;
			persist(el, out);
		}
		return;
	}
	el->promise_to = from;
	el->promise_until_ms = now_ms + lease;
	if (el->role == HW_EL_WITNESS)
		w_learn(el, from, req, now_ms, out);
	a.m.lease_ack.epoch = el->hard.epoch;
	a.m.lease_ack.granted = true;
	send_to(out, &a, from);
}

void hw_el_on_primary_heard(struct hw_el *el, uint32_t from, uint64_t epoch, int64_t now_ms,
			    struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	if (!is_peer(el, from) || epoch < el->hard.epoch)
		return;
	adopt(el, epoch, HW_EL_DOWN_HIGHER_EPOCH, now_ms, out);
	HW_ASSERT(el->role != HW_EL_PRIMARY);
	if (el->role == HW_EL_CANDIDATE)
		el->role = HW_EL_STANDBY;
	el->primary = from;
	el->last_heard_ms = now_ms;
}

/* Checks that leave the voter as it is: a refusal here does not even raise its epoch. */
static enum hw_el_reason pre_check(const struct hw_el *el, uint32_t from,
				   const struct hw_el_vote_req *req, int64_t now_ms)
{
	if (!is_peer(el, from) || !may_stand(el, from) || req->candidate != from)
		return HW_EL_R_NOT_CANDIDATE;
	if (el->failed)
		return HW_EL_R_STORAGE_FAILED;
	if (req->epoch < el->hard.epoch)
		return HW_EL_R_STALE;
	bool transfer = req->kind == HW_EL_TRANSFER;
	if (el->role == HW_EL_PRIMARY && !(transfer && el->xfer_sent && from == el->xfer_to))
		return HW_EL_R_LEASE;
	if (!transfer && now_ms < el->promise_until_ms && el->promise_to != from)
		return HW_EL_R_LEASE;
	if (el->hard.voted_epoch == req->epoch && el->hard.voted_for != from)
		return HW_EL_R_VOTED;
	return HW_EL_R_NONE;
}

/* Is the candidate behind what this voter knows must survive? */
static enum hw_el_reason log_check(const struct hw_el *el, uint32_t from,
				   const struct hw_el_vote_req *req, struct hw_el_vote *v)
{
	if (el->role != HW_EL_WITNESS) {
		if (req->kind == HW_EL_FORCED)
			return HW_EL_R_NONE;
		bool behind = req->last_epoch < el->prog.last_epoch ||
			      (req->last_epoch == el->prog.last_epoch &&
			       req->last_lsn < el->prog.last_lsn);
		return behind ? HW_EL_R_BEHIND : HW_EL_R_NONE;
	}
	/* Stale knowledge (w_stale) is how a witness whose store was wiped (it starts as a
	 * new cluster's, at epoch 0) learns it must not vote; a forced vote is then one
	 * whose accepted range reaches UINT64_MAX (hw_el_loss_range). */
	bool stale = w_stale(el, from, req->last_epoch);
	bool info = w_info_ok(el, from) && (!stale || req->kind == HW_EL_FORCED);
	v->committed_lsn = info ? el->hard.w_committed : 0;
	v->required_lsn = info ? hw_el_required_lsn(el) : 0;
	if (req->kind == HW_EL_FORCED) {
		struct hw_el_range loss;
		(void)hw_el_loss_range(el, from, req->durable_lsn, req->last_epoch, &loss);
		bool none = loss.from > loss.to;
		bool covered = req->accepted.from <= loss.from && req->accepted.to >= loss.to;
		return none || covered ? HW_EL_R_NONE : HW_EL_R_LOSS_NOT_ACCEPTED;
	}
	if (!info)
		return HW_EL_R_NO_INFO;
	return req->durable_lsn >= v->required_lsn ? HW_EL_R_NONE : HW_EL_R_NOT_IN_SYNC;
}

/* Grant: record the vote (and the witness's vouch), adopt the epoch (a primary that
 * handed over steps down SWITCHOVER), persist once, and owe the reply until the vote is
 * durable. */
static void grant(struct hw_el *el, uint32_t from, const struct hw_el_vote_req *req,
		  struct hw_el_vote *v, int64_t now_ms, struct hw_el_acts *out)
{
	bool handed = el->role == HW_EL_PRIMARY && el->xfer_sent && from == el->xfer_to;
	if (el->role == HW_EL_WITNESS && req->epoch > el->hard.w_epoch) {
		uint32_t v0 = el->hard.w_vouch;
		el->hard.w_vouch = v0 == HW_EL_NONE || v0 == from ? from : HW_EL_ANY;
	}
	if (el->role == HW_EL_WITNESS && req->kind == HW_EL_FORCED) {
		el->w_forced = req->accepted;
		el->w_forced_set = true;
	}
	bool fresh = el->hard.voted_epoch != req->epoch;
	el->hard.voted_epoch = req->epoch;
	el->hard.voted_for = from;
	if (req->epoch > el->hard.epoch)
		adopt(el, req->epoch, handed ? HW_EL_DOWN_SWITCHOVER : HW_EL_DOWN_HIGHER_EPOCH,
		      now_ms, out); /* persists */
	else if (fresh)
		persist(el, out);
	el->last_heard_ms = now_ms;
	v->epoch = el->hard.epoch;
	v->granted = true;
	el->vote_owed = true;
	el->vote_to = from;
	el->vote_msg = *v;
}

static void flush_vote(struct hw_el *el, struct hw_el_acts *out)
{
	if (!el->vote_owed || el->durable.voted_epoch != el->vote_msg.epoch ||
	    el->durable.voted_for != el->vote_to)
		return;
	struct hw_el_act a = {.type = HW_EL_SEND_VOTE};
	a.m.vote = el->vote_msg;
	send_to(out, &a, el->vote_to);
	el->vote_owed = false;
}

void hw_el_on_vote_req(struct hw_el *el, uint32_t from, const struct hw_el_vote_req *req,
		       int64_t now_ms, struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	struct hw_el_vote v = {.epoch = el->hard.epoch};
	enum hw_el_reason r = pre_check(el, from, req, now_ms);
	if (r == HW_EL_R_NOT_CANDIDATE && !is_peer(el, from))
		return;
	if (r == HW_EL_R_NONE)
		r = log_check(el, from, req, &v);
	if (req->pre) { /* answer what it would do; change nothing */
		v.pre = true;
		v.granted = r == HW_EL_R_NONE;
		v.epoch = v.granted ? req->epoch : el->hard.epoch;
	}
	if (r == HW_EL_R_NONE && !req->pre) {
		grant(el, from, req, &v, now_ms, out);
		flush_vote(el, out);
		return;
	}
	v.reason = (uint8_t)r;
	struct hw_el_act a = {.type = HW_EL_SEND_VOTE};
	a.m.vote = v;
	send_to(out, &a, from);
}

void hw_el_on_persisted(struct hw_el *el, const struct hw_el_hard *hard, int64_t now_ms,
			struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	/* reports may lag a newer request: the durable state only moves forward */
	if (hard->epoch < el->durable.epoch || hard->voted_epoch < el->durable.voted_epoch)
		return;
	HW_ASSERT(hard->epoch <= el->hard.epoch && hard->voted_epoch <= el->hard.voted_epoch);
	el->durable = *hard;
	if (el->role == HW_EL_CANDIDATE && !el->asked &&
	    el->durable.voted_epoch == el->hard.epoch && el->durable.voted_for == el->cfg.self)
		ask(el, now_ms, out);
	flush_vote(el, out);
}

void hw_el_on_storage_failed(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	check_room(out);
	if (el->failed || el->role == HW_EL_WITNESS)
		return;
	el->failed = true;
	if (el->role == HW_EL_PRIMARY)
		step_down(el, HW_EL_DOWN_STORAGE, now_ms, out);
	if (el->role == HW_EL_CANDIDATE) {
		el->role = HW_EL_STANDBY;
		el->pre = false;
	}
	el->vote_owed = false; /* a vote not yet durable is not sent */
}

/* ---------------------------------------------------------------- tick, progress */

void hw_el_on_tick(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out)
{
	check_room(out);
	expire(el, now_ms, out);
	switch (el->role) {
	case HW_EL_PRIMARY:
		primary_tick(el, now_ms, out);
		break;
	case HW_EL_STANDBY:
		if (!el->failed && !el->prog.stale &&
		    now_ms >= el->last_heard_ms + el->cfg.detection_ms + el->jitter_ms &&
		    now_ms >= el->promise_until_ms)
			prevote(el, now_ms, out);
		break;
	case HW_EL_CANDIDATE:
		if (now_ms < el->deadline_ms)
			break;
		if (el->prog.stale) { /* it may not stand now (nor win: check_won) */
			el->role = HW_EL_STANDBY;
			el->last_heard_ms = now_ms;
		} else if (el->kind == HW_EL_FORCED)
			campaign(el, HW_EL_FORCED, now_ms, out);
		else
			prevote(el, now_ms, out);
		break;
	case HW_EL_WITNESS:
		break;
	}
}

void hw_el_on_progress(struct hw_el *el, const struct hw_el_progress *p, int64_t now_ms,
		       struct hw_el_acts *out)
{
	check_room(out);
	HW_ASSERT(p->durable_lsn <= p->last_lsn);
	el->prog = *p;
	expire(el, now_ms, out);
	xfer_check(el, now_ms, out);
}
