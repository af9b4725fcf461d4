/* node_status.c: a node's answer to a STATUS_REQUEST (wire.proto Status, `hawser
 * status`): its role and LSNs, its standbys and their lag, the holds on its
 * acknowledgements, its targets and what a failover now would cost (engine/core/targets.h),
 * its link to its primary, and its drills against their schedule (node_int.h
 * hw__status_send). */
#include <stdint.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "engine/core/targets.h"
#include "engine/node_int.h"
#include "engine/voters.h"
#include "replica/drills.h"
#include "wire.pb-c.h"

/* How far behind a standby is in time: the age at wall_ms (the status's time_ms) of the
 * oldest entry it has not applied, by the entry's commit time (*since gets it), from the
 * outbox while the store has not committed it yet, else from the store. One no longer
 * held (pruned) counts from the peer's last ack, as an estimate (*since 0). */
static int64_t peer_lag_ms(struct hw_node *n, const struct hw_peer *p, int64_t now, int64_t wall_ms,
			   int64_t *since)
{
	int64_t lag = p->last_rx_ms != 0 ? now - p->last_rx_ms : 0; /* 0: never heard */
	*since = 0;
	if (hw__primary_entry_time(n, p->pos.applied + 1, since) == 0)
		lag = wall_ms - *since;
	return lag > 0 ? lag : 0;
}

static void status_peers(struct hw_node *n, Hawser__Wire__V1__Status *st,
			 Hawser__Wire__V1__PeerStatus *ps, Hawser__Wire__V1__PeerStatus **pp)
{
	/* st->time_ms is set: the lags are ages at that time */
	int64_t now = hw__node_now(n);
	uint32_t peers = n->cfg.n_standbys + n->cfg.n_vaults; /* vaults listed last */
	for (uint32_t i = 0; i < peers; i++) {
		const struct hw_peer *p = &n->core.peers[i];
		hawser__wire__v1__peer_status__init(&ps[i]);
		ps[i].node_id = n->cfg.standbys[i];
		ps[i].connected = p->connected;
		ps[i].received = p->pos.received;
		ps[i].durable = p->pos.durable;
		ps[i].applied = p->pos.applied;
		ps[i].lag_records = n->core.last_lsn - p->pos.applied;
		if (ps[i].lag_records > 0)
			ps[i].lag_ms =
				peer_lag_ms(n, p, now, st->time_ms, &ps[i].unapplied_since_ms);
		pp[i] = &ps[i];
	}
	st->n_peers = peers;
	st->peers = pp;
}

_Static_assert(HW_PEERS_MAX <= HW_TG_STANDBYS_MAX, "the planner judges every standby");
_Static_assert(HW_EL_VOTERS_MAX == HW_TG_VOTERS_MAX, "the planner judges every voter");

/* Since t, a loop time; HW_TG_NEVER for 0, a peer not heard since this node started. */
static int64_t since_ms(int64_t now, int64_t t)
{
	return t == 0 ? HW_TG_NEVER : now > t ? now - t : 0;
}

/* A primary's voter answered one of its last two lease rounds (the newest may still be
 * on its way) at sent_ms, its send time of the newest round it granted or refused. */
static bool lease_answered(const struct hw_el *el, int64_t sent_ms)
{
	if (el->round == 0 || sent_ms == INT64_MIN)
		return false;
	uint64_t r = el->round >= 2 ? el->round - 1 : el->round;
	return sent_ms >= el->round_sent_ms[r % HW_EL_ROUNDS];
}

/* Who an election without the primary would ask, and what a new primary would need: a
 * primary judges by its lease rounds; a standby lists itself first, then the voters but
 * its primary by their links, with their refusals of its current election. */
static void live_electors(struct hw_node *n, struct hw_tg_live *l)
{
	const struct hw_el *el = hw_voters_el(n->voters);
	const struct hw_failover *f = &n->cfg.failover;
	l->voters = f->n_voters;
	l->ack_standbys = n->cfg.mode == HW_MODE_LOCAL ? 0 : n->cfg.k;
	if (f->rpo_ms > 0 && l->ack_standbys < hw__targets_ahead_k(n))
		l->ack_standbys = hw__targets_ahead_k(n); /* the rpo t rule holds every ack
							   * without them */
	if (l->ack_standbys > 0 && l->ack_standbys < hw__node_k_min(n))
		l->ack_standbys = hw__node_k_min(n);
	uint32_t lost = el->primary;
	if (l->primary)
		lost = f->self;
	else if (lost == HW_EL_NONE && n->primary_id[0] != '\0')
		lost = (uint32_t)hw_voters_id(n->voters, n->primary_id); /* -1: none */
	if (!l->primary)
		l->electors[l->n_electors++] =
			(struct hw_tg_voter){f->voters[f->self].id, true, NULL};
	l->primary_silent_ms = l->primary ? -1 : since_ms(hw__node_now(n), el->last_heard_ms);
	for (uint32_t i = 0; i < f->n_voters; i++) {
		if (i == f->self || i == lost)
			continue;
		struct hw_tg_voter *v = &l->electors[l->n_electors++];
		v->id = f->voters[i].id;
		v->reached = l->primary ? lease_answered(el, el->acked_sent_ms[i])
					: hw_voters_reached(n->voters, i);
		if (!l->primary && el->role == HW_EL_CANDIDATE && el->why[i] != HW_EL_R_NONE &&
		    v->reached)
			v->refused = hw_el_reason_name((enum hw_el_reason)el->why[i]);
		if (l->primary && !v->reached && lease_answered(el, el->refused_sent_ms[i]))
			v->refused = hw_el_reason_name(HW_EL_R_STORAGE_FAILED);
		if (!l->primary && i != f->witness && v->reached)
			l->standbys_after++;
	}
}

/* What the planner judges: a primary and its standbys, or a standby and what it last
 * heard from its primary. */
static void live_state(struct hw_node *n, struct hw_tg_live *l, const struct hw_tg_input *in)
{
	int64_t now = hw__node_now(n);
	*l = (struct hw_tg_live){.failover = n->voters != NULL,
				 .primary = n->cfg.role == HW_ROLE_PRIMARY,
				 .self = n->cfg.node_id,
				 .primary_id = n->primary_id,
				 .rto_ms = n->cfg.failover.rto_ms,
				 .rpo_ms = n->cfg.failover.rpo_ms,
				 .k = n->cfg.k > 0 ? n->cfg.k : 1,
				 .replay_rate = in->replay_rate,
				 .lease_left_ms = -1};
	if (l->primary) {
		l->durable_lsn = n->core.local_durable;
		/* acked_lsn is kept only with failover; without it the durable LSN bounds it */
		l->committed_lsn = n->voters != NULL ? n->acked_lsn : n->core.local_durable;
		if (n->voters != NULL && hw_voters_may_ack(n->voters))
			l->lease_left_ms = hw_voters_el(n->voters)->lease_until_ms - now;
		l->n_standbys = n->cfg.n_standbys;
		for (uint32_t i = 0; i < n->cfg.n_standbys; i++) {
			const struct hw_peer *p = &n->core.peers[i];
			/* what it lacks, in time: the RPO t rule keeps those times */
			int64_t lacks =
				n->core.cfg.max_ahead_ms > 0
					? hw_primary_acked_age_ms(&n->core, p->pos.durable, now)
					: -1;
			l->sb[i] = (struct hw_tg_standby){n->cfg.standbys[i],
							  p->connected,
							  p->pos.received,
							  p->pos.durable,
							  p->pos.applied,
							  since_ms(now, p->last_rx_ms),
							  lacks};
		}
		if (n->voters != NULL)
			live_electors(n, l);
		return;
	}
	l->durable_lsn = l->committed_lsn = n->sb.primary_durable;
	/* cut off from its primary, a standby knows the frontier from the witness's last
	 * answer to its (pre-)vote requests: what its promotion would lose */
	if (n->voters != NULL && hw_voters_el(n->voters)->w_committed_seen > l->committed_lsn)
		l->committed_lsn = hw_voters_el(n->voters)->w_committed_seen;
	l->n_standbys = 1;
	/* it judges itself, running whether or not its primary's link is up */
	l->sb[0] = (struct hw_tg_standby){n->cfg.node_id,
					  true,
					  n->sb.pos.received,
					  n->sb.pos.durable,
					  n->sb.pos.applied,
					  since_ms(now, n->sb.last_rx_ms),
					  -1 /* it knows no ack times */};
	if (n->voters != NULL)
		live_electors(n, l);
}

/* The targets and a failover now into fs; *now keeps the strings fs points into. */
static void status_failover(struct hw_node *n, Hawser__Wire__V1__FailoverStatus *fs,
			    struct hw_tg_now *now)
{
	struct hw_tg_input in;
	hw_voters_input(&n->cfg, &in);
	in.k = n->cfg.k; /* 0 in mode local: nothing waits for a standby */
	struct hw_el_config ec;
	struct hw_tg_plan plan;
	/* the same plan the node runs on (hw__election_start refused to start without one) */
	bool planned = n->voters != NULL && hw_voters_plan(&n->cfg, &ec, &plan) == 0;
	struct hw_tg_live l;
	live_state(n, &l, &in);
	hw_tg_now(&l, planned ? &plan : NULL, now);
	hawser__wire__v1__failover_status__init(fs);
	fs->configured = n->voters != NULL;
	fs->rto_ms = n->cfg.failover.rto_ms;
	fs->rpo_ms = n->cfg.failover.rpo_ms;
	fs->restore_rto_ms = n->cfg.drills.restore_rto_ms;
	fs->detection_ms = now->detection_ms;
	fs->election_ms = now->election_ms;
	fs->replay_ms = now->replay_ms;
	fs->resume_ms = now->resume_ms;
	fs->failover_ms = now->failover_ms;
	fs->at_risk_records = now->at_risk_records;
	fs->at_risk_ms = now->at_risk_ms;
	fs->backlog_records = now->backlog_records;
	fs->backlog_ms = now->backlog_ms;
	fs->loss_records = now->loss_records;
	fs->promoted = now->best >= 0 ? (char *)l.sb[now->best].id : "";
	fs->automatic = now->automatic;
	fs->no_failover = now->no_failover;
	fs->rto_holds = now->rto_holds;
	fs->rto_why = now->rto_why;
	fs->rpo_holds = now->rpo_holds;
	fs->rpo_why = now->rpo_why;
	fs->failover_why = now->failover_why;
	fs->voters = n->voters != NULL ? n->cfg.failover.n_voters : 0;
	fs->k_min = hw__node_k_min(n);
}

/* A primary's submits held for lack of standbys (the core's hold) into h; why keeps the
 * string h points into. */
static void status_hold(struct hw_node *n, Hawser__Wire__V1__AckHold *h, char *why)
{
	const struct hw_hold *c = &n->core.hold;
	hawser__wire__v1__ack_hold__init(h);
	hw__primary_hold_why(n, why, HW_HOLD_WHY_BYTES);
	h->why = why;
	h->connected = c->connected;
	if (c->waiters == 0)
		return;
	h->submits = c->waiters;
	h->lsn = c->lsn;
	h->mode = (char *)hw_mode_name((enum hw_mode)c->mode);
	h->k = c->k;
	h->held_ms = n->acks_held ? hw__node_now(n) - n->acks_held_ms : 0;
}

/* The drill history of this node's store (read in its own read transaction: the store
 * is the node's, the rows come from `hawser drill` in another process) against the
 * [drills] schedule at now_ms. rows[] keeps the strings ds points into. A row that does
 * not decode is left out and logged. */
static size_t status_drills(struct hw_node *n, int64_t now_ms, Hawser__Wire__V1__DrillStatus *ds,
			    Hawser__Wire__V1__DrillStatus **dp, struct hw_drill_row *rows)
{
	for (int k = 1; k <= HW_DRILL_KINDS; k++) {
		Hawser__Wire__V1__DrillStatus *d = &ds[k - 1];
		struct hw_drill_row *last = &rows[2 * (k - 1)], *pass = last + 1;
		int rl = hw_store_drill_last(n->store, (enum hw_drill_kind)k, false, last);
		int rp = hw_store_drill_last(n->store, (enum hw_drill_kind)k, true, pass);
		if ((rl != 0 && rl != HW_ENOTFOUND) || (rp != 0 && rp != HW_ENOTFOUND))
			hw_log("drill_history_unreadable", "kind=%s code=%s",
			       hw_drill_kind_name((enum hw_drill_kind)k),
			       hw_errname(rl != 0 && rl != HW_ENOTFOUND ? rl : rp));
		struct hw_drill_due due;
		hw_drill_due(n->cfg.drills.every_ms[k], rp == 0 ? pass : NULL, now_ms, &due);
		hawser__wire__v1__drill_status__init(d);
		d->kind = (char *)hw_drill_kind_name((enum hw_drill_kind)k);
		d->state = (char *)hw_drill_state_name(due.state);
		d->every_ms = n->cfg.drills.every_ms[k];
		d->due_ms = due.due_ms;
		d->overdue_ms = due.overdue_ms;
		d->last_pass_ms = rp == 0 ? pass->time_ms : 0;
		d->has_last = rl == 0;
		if (rl == 0) {
			d->last_ms = last->time_ms;
			d->last_result = (char *)hw_drill_result_name(last->result);
			d->last_duration_ms = last->duration_ms;
			d->last_lsn = last->lsn;
			d->last_entries = last->entries;
			d->last_target_ms = last->target_ms;
			d->last_what = last->what;
			d->last_report = last->report;
		}
		dp[k - 1] = d;
	}
	return HW_DRILL_KINDS;
}

/* Stage sums as means in us (SubmitTimes). */
static void submit_times(const struct hw_stage_sums *sum, Hawser__Wire__V1__SubmitTimes *t)
{
	hawser__wire__v1__submit_times__init(t);
	t->stored = sum->stored;
	t->answered = sum->answered;
	if (sum->stored > 0) {
		t->queued_us = (double)sum->queued_ns / 1e3 / (double)sum->stored;
		t->store_us = (double)sum->store_ns / 1e3 / (double)sum->stored;
	}
	if (sum->answered > 0)
		t->durability_us = (double)sum->durability_ns / 1e3 / (double)sum->answered;
}

/* A standby's or vault's link to its primary and the block of its apply, if any
 * (node_block.c): ab is filled and linked then. The primary named is that of the last
 * hello taken, kept when the connection goes, else the one configured. */
static void status_follow(struct hw_node *n, Hawser__Wire__V1__Status *st,
			  Hawser__Wire__V1__ApplyBlocked *ab)
{
	st->primary = n->primary_id[0]       ? n->primary_id
		      : n->cfg.primary_id[0] ? n->cfg.primary_id
					     : n->cfg.primary;
	st->primary_connected = n->primary_ready;
	st->primary_heard = n->primary_heard;
	st->primary_silent_ms = hw__node_now(n) - n->primary_frame_ms;
	st->silent_limit_ms = hw__node_silent_ms(n);
	st->refused_code = n->last_refusal.code;
	st->refused_what = n->last_refusal.what;
	if (n->block.lsn == 0)
		return;
	hawser__wire__v1__apply_blocked__init(ab);
	ab->lsn = n->block.lsn;
	ab->code = n->block.rej.code;
	ab->field = n->block.rej.field;
	ab->rule = n->block.rej.rule;
	st->apply_blocked = ab;
}

/* A Status is the largest reply a client's request gets at once: its strings are the
 * drill rows' what and report, the planner's three whys, the hold's why, a block's why,
 * a refusal's what and a few ids; its numbers and names a few hundred bytes more. A request is
 * taken with room for it (session_take, node.c). */
#define STATUS_BYTES_MAX                                                                           \
	((HW_DRILL_WHAT_BYTES + HW_DRILL_REPORT_BYTES + 256) * HW_DRILL_KINDS +                    \
	 3 * HW_TG_WHY_BYTES + 3 * HW_HOLD_WHY_BYTES + sizeof(struct hw_reject) + 256 +            \
	 HW_REFUSAL_WHAT_BYTES + (HW_ID_CHARS_MAX + 128) * (HW_PEERS_MAX + 4))
_Static_assert(STATUS_BYTES_MAX <= HW_SESSION_REPLY_ROOM / 2,
	       "a status fits the room a client's request is taken with");

int hw__status_send(struct hw_session *s)
{
	struct hw_node *n = s->node;
	Hawser__Wire__V1__Status st = HAWSER__WIRE__V1__STATUS__INIT;
	Hawser__Wire__V1__PeerStatus ps[HW_PEERS_MAX];
	Hawser__Wire__V1__PeerStatus *pp[HW_PEERS_MAX];
	Hawser__Wire__V1__FailoverStatus fs;
	struct hw_tg_now now;
	Hawser__Wire__V1__DrillStatus ds[HW_DRILL_KINDS];
	Hawser__Wire__V1__DrillStatus *dp[HW_DRILL_KINDS];
	struct hw_drill_row rows[2 * HW_DRILL_KINDS];
	Hawser__Wire__V1__SubmitTimes last, total;
	Hawser__Wire__V1__AckHold held;
	char held_why[HW_HOLD_WHY_BYTES];
	Hawser__Wire__V1__RpoHold rpo;
	Hawser__Wire__V1__ReplayThrottle replay;
	Hawser__Wire__V1__ApplyBlocked blocked;
	char rpo_why[HW_HOLD_WHY_BYTES], replay_why[HW_HOLD_WHY_BYTES];
	st.node_id = n->cfg.node_id;
	st.epoch = n->epoch;
	st.mode = (char *)hw_mode_name(n->cfg.mode);
	st.k = n->cfg.k;
	st.submits = n->submits;
	st.rejected = n->rejected;
	st.records_per_s = n->records_per_s;
	st.insecure = n->cfg.security.insecure;
	st.time_ms = hw_wall_ms(); /* the lags are ages at this time, the drills judged at it */
	if (n->cfg.role == HW_ROLE_PRIMARY) {
		st.role = HAWSER__WIRE__V1__ROLE__PRIMARY;
		st.last_lsn = n->core.last_lsn;
		st.durable_lsn = n->core.local_durable;
		st.waiting = n->requests_used;
		status_peers(n, &st, ps, pp);
		submit_times(&n->stages_last, &last);
		submit_times(&n->stages_total, &total);
		st.submit_last_second = &last;
		st.submit_since_start = &total;
		status_hold(n, &held, held_why);
		st.acks_held = &held;
		hw__targets_status(n, &rpo, &replay, rpo_why, replay_why);
		st.rpo_hold = &rpo;
		st.replay_throttle = &replay;
	} else {
		st.role = HAWSER__WIRE__V1__ROLE__STANDBY;
		st.last_lsn = n->sb.pos.received;
		st.durable_lsn = n->sb.pos.durable;
		status_follow(n, &st, &blocked);
	}
	if (n->cfg.role == HW_ROLE_VAULT) {
		st.role = HAWSER__WIRE__V1__ROLE__VAULT;
		st.applied_lsn = n->vault_applied;
		st.apply_delay_ms = n->cfg.apply_delay_ms;
	}
	st.stale = n->store != NULL && hw_store_stale(n->store);
	st.failed = n->failed;
	status_failover(n, &fs, &now);
	st.failover = &fs;
	st.n_drills = status_drills(n, st.time_ms, ds, dp, rows);
	st.drills = dp;
	return hw__node_send_msg(s->conn, HW_FRAME_STATUS, &st);
}
