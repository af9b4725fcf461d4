/* node_election.c: automatic failover in a node (DESIGN.md "Failover model", the rules in
 * engine/core/election.h, the links in engine/voters.h).
 *
 * Every node of a [failover] cluster starts as a standby and runs the election core; a
 * node becomes primary only by winning an election (the one configured as primary
 * campaigns first: the standbys hold back for a grace period at start). The role the
 * core holds and the role the node runs are reconciled on the loop's tick, at the top of
 * a callback, never inside the replication core's actions: a step-down frees the
 * waiters those actions point into. Between the core's decision and the tick (at most
 * 10 ms) the fence already holds: may_ack follows the core, not the node.
 *
 *   promote: stop following, let the writer apply everything taken, restart it for
 *            submits, start the replication core at the store's head in the new epoch
 *            (entries get the new epoch) and append its PROMOTION event, which every
 *            answer of the epoch waits for; the replication port is open already, so the
 *            other standbys connect as soon as they learn the new primary.
 *   fence:   before every success is answered, hw_el_may_ack() at this instant: when the
 *            lease is not held the answer waits (released when the lease is back, failed
 *            with HW_ENOT_PRIMARY at step-down), so an old primary never acknowledges
 *            once a new one may.
 *   step down: fail every waiting submit with HW_ENOT_PRIMARY, stop taking submits, and
 *            follow the new primary once the core knows it (a diverged log sets its
 *            suffix aside first: node_rejoin.c).
 *
 * Logs: failover_planned, became_primary, first_ack (wall_ms of the first success in an
 * epoch), fenced / unfenced, stepped_down (last_ack_wall_ms), following_primary,
 * stale_epoch, switchover_requested, submits_paused / submits_resumed (a switchover:
 * submits on the client port are answered HW_EBUSY while it runs), and voters.h's
 * election lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/assert.h"
#include "base/log.h"
#include "engine/node_int.h"
#include "engine/voters.h"
#include "wire.pb-c.h"

static const char *down_name(int code)
{
	switch (code) {
	case HW_EL_DOWN_LEASE_LOST:
		return "lease_lost";
	case HW_EL_DOWN_HIGHER_EPOCH:
		return "higher_epoch";
	case HW_EL_DOWN_SWITCHOVER:
		return "switchover";
	case HW_EL_DOWN_XFER_FAILED:
		return "xfer_failed";
	case HW_EL_DOWN_STORAGE:
		return "storage_failed";
	default:
		return "?";
	}
}

static const struct hw_el *el_of(const struct hw_node *n)
{
	return hw_voters_el(n->voters);
}

/* Heartbeats (or idle acks) a replication stream may miss in a row before it is silent. */
#define SILENT_HEARTBEATS 3

/* A few heartbeat intervals, and inside half the plan's detection time so that a standby
 * stuck on a stream that lost bytes mid-frame is back in sync before a failover needs
 * it. Never under two intervals (that would drop an idle stream) nor over
 * limits.peer_timeout_ms. */
int64_t hw__node_silent_ms(const struct hw_node *n)
{
	int64_t ms = SILENT_HEARTBEATS * n->cfg.heartbeat_ms;
	int64_t detection_ms = n->voters != NULL ? el_of(n)->cfg.detection_ms : 0;
	if (detection_ms > 0 && ms > detection_ms / 2)
		ms = detection_ms / 2;
	if (ms < 2 * n->cfg.heartbeat_ms)
		ms = 2 * n->cfg.heartbeat_ms;
	return ms < n->cfg.peer_timeout_ms ? ms : n->cfg.peer_timeout_ms;
}

uint32_t hw__node_k_min(const struct hw_node *n)
{
	return n->voters != NULL ? hw_config_k_min(&n->cfg) : 0;
}

/* ---- the core's needs ------------------------------------------------------------- */

static int persist_cb(void *arg, const struct hw_el_hard *hard)
{
	struct hw_node *n = arg;
	int rc = hw_voters_save_hard(n->store, hard);
	if (rc != 0)
		hw__node_storage_failed(n, rc, "election");
	return rc;
}

/* Role changes wait for the tick (see the top); the rest is logged here. */
static void act_cb(void *arg, const struct hw_el_act *a)
{
	struct hw_node *n = arg;
	switch (a->type) {
	case HW_EL_BECOME_PRIMARY:
		hw_log("elected", "epoch=%llu first_lsn=%llu", (unsigned long long)a->epoch,
		       (unsigned long long)a->lsn);
		break;
	case HW_EL_STEP_DOWN:
		n->down_code = a->code;
		hw_log("lease_ended", "epoch=%llu reason=%s", (unsigned long long)a->epoch,
		       down_name(a->code));
		break;
	case HW_EL_PAUSE_SUBMITS:
		n->submits_paused = true;
		hw_log("submits_paused", "epoch=%llu acked_lsn=%llu wall_ms=%lld",
		       (unsigned long long)n->epoch, (unsigned long long)n->acked_lsn,
		       (long long)hw_wall_ms());
		break;
	case HW_EL_RESUME_SUBMITS:
		n->submits_paused = false;
		hw__node_resume_sessions(n);
		hw_log("submits_resumed", "epoch=%llu what=\"%s\"", (unsigned long long)n->epoch,
		       "the switchover target did not catch up in time; this node stays primary");
		break;
	default:
		hw_log("election_action", "type=%d", (int)a->type);
		break;
	}
}

/* ---- progress --------------------------------------------------------------------- */

static uint64_t hash64(const uint8_t *h)
{
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = (x << 8) | h[i];
	return x;
}

void hw__election_progress(struct hw_node *n)
{
	if (n->voters == NULL || n->wal == NULL)
		return;
	const struct hw_head *w = hw_wal_last(n->wal);
	struct hw_el_progress p = {
		.last_epoch = n->last_epoch, .last_lsn = w->lsn, .last_hash = hash64(w->hash)};
	if (n->cfg.role == HW_ROLE_PRIMARY && n->requests != NULL) {
		p.durable_lsn = n->core.local_durable;
		p.committed_lsn = n->acked_lsn;
		for (uint32_t i = 0; i < n->cfg.n_standbys; i++) {
			int id = hw_voters_id(n->voters, n->cfg.standbys[i]);
			if (id >= 0)
				p.peer_durable[id] = n->core.peers[i].pos.durable;
		}
	} else {
		p.durable_lsn = n->sb.pos.durable;
	}
	if (p.durable_lsn > p.last_lsn)
		p.durable_lsn = p.last_lsn;
	/* a store whose state is not its log's: awaiting a snapshot, or blocked at an entry
	 * it refused (node_block.c) */
	p.stale = (n->store != NULL && hw_store_stale(n->store)) || n->block.lsn != 0;
	hw_voters_progress(n->voters, &p);
}

/* ---- the fence -------------------------------------------------------------------- */

/* Successes may leave now: the core holds the lease at this instant, for the epoch this
 * node runs (a node that stepped down and won again runs the old one until the tick). */
static bool fence_open(const struct hw_node *n)
{
	return hw_voters_may_ack(n->voters) && n->epoch == el_of(n)->hard.epoch;
}

/* A success of request slot leaves. This node's own records (its events, checkpoints:
 * local mode, on no standby yet) are nobody's acknowledgement: counted, a failover
 * would have to keep them, and a standby that lacks only the new primary's PROMOTION
 * would not be promoted automatically. */
static void note_ack(struct hw_node *n, uint32_t slot)
{
	uint64_t lsn = n->requests[slot].lsn;
	if (n->requests[slot].system)
		return;
	if (lsn > n->acked_lsn)
		n->acked_lsn = lsn; /* the vault limit follows after the event (hw__node_do) */
	n->last_ack_wall_ms = hw_wall_ms();
	if (!n->first_ack_logged) {
		n->first_ack_logged = true;
		hw_log("first_ack", "epoch=%llu lsn=%llu wall_ms=%lld",
		       (unsigned long long)n->epoch, (unsigned long long)lsn,
		       (long long)n->last_ack_wall_ms);
	}
}

/* The lease is held again: answer what waited for it, oldest first. */
static void release_fenced(struct hw_node *n)
{
	uint32_t count = n->n_fenced;
	n->n_fenced = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t slot = n->fenced[i];
		note_ack(n, slot); /* before the answer frees the slot */
		hw__primary_answer(n, slot, 0);
	}
	hw_log("unfenced", "epoch=%llu released=%u", (unsigned long long)n->epoch, count);
	hw__primary_room(n);
}

bool hw__election_may_release(struct hw_node *n, uint32_t slot, uint64_t lsn)
{
	(void)lsn; /* the wait LSN; what is acknowledged is the record's own */
	if (n->voters == NULL)
		return true;
	if (!fence_open(n)) {
		if (n->n_fenced == 0)
			hw_log("fenced",
			       "epoch=%llu acked_lsn=%llu last_ack_wall_ms=%lld what=\"%s\"",
			       (unsigned long long)n->epoch, (unsigned long long)n->acked_lsn,
			       (long long)n->last_ack_wall_ms,
			       "no lease: successes wait until it is renewed or the node steps "
			       "down");
		HW_ASSERT(n->n_fenced < n->cfg.waiters_max);
		n->fenced[n->n_fenced++] = slot;
		return false;
	}
	if (n->n_fenced > 0)
		release_fenced(n);
	note_ack(n, slot);
	return true;
}

/* ---- roles ------------------------------------------------------------------------ */

static void promote(struct hw_node *n, uint64_t epoch)
{
	int64_t t0 = hw_mono_ms();
	hw__standby_leave(n);
	/* The writer's last commit and flush (of what it took) may have failed: its failure
	 * is the store's now, and a store that failed must not lead (it may hold less than
	 * its log, whose entries standbys have), nor take its head as durable, as the core
	 * does. */
	int src = hw_store_failure(n->store);
	if (src != 0) {
		hw__node_storage_failed(n, src, "promote");
		return;
	}
	struct hw_head h;
	hw_store_head(n->store, &h);
	if (h.lsn != hw_wal_last(n->wal)->lsn)
		hw_log("promote_gap", "store_lsn=%llu log_lsn=%llu", (unsigned long long)h.lsn,
		       (unsigned long long)hw_wal_last(n->wal)->lsn);
	n->cfg.role = HW_ROLE_PRIMARY;
	n->epoch = epoch;
	n->submits_paused = false;
	n->first_ack_logged = false;
	n->n_fenced = 0;
	n->following = UINT32_MAX;
	n->primary_id[0] = '\0';
	int rc = hw__primary_start(n);
	if (rc != 0) {
		hw__node_storage_failed(n, rc, "promote");
		return;
	}
	hw_log("became_primary", "epoch=%llu lsn=%llu standbys=%u took_ms=%lld wall_ms=%lld",
	       (unsigned long long)epoch, (unsigned long long)h.lsn, n->cfg.n_standbys,
	       (long long)(hw_mono_ms() - t0), (long long)hw_wall_ms());
	/* Every answer of this epoch waits at least for its first entry, h.lsn + 1, a
	 * resent record's duplicate at an older LSN too: entries of old epochs, even on k
	 * standbys, may still be undone by two more failovers while none of this one is
	 * (Raft's "figure 8"). The PROMOTION event below (keyed or not) makes sure there is
	 * one; whatever else may land there (an embedded submit queued since the start) is of
	 * this epoch too. When the event could be neither held nor queued (out of memory) and
	 * no held event goes in its place, nothing may come: a client that only resends would
	 * wait for ever, so the floor goes, said in the log (the rare run of failovers above
	 * is the price). */
	n->last_wait_lsn = h.lsn + 1;
	char detail[64];
	snprintf(detail, sizeof detail, "became primary at lsn %llu", (unsigned long long)h.lsn);
	int arc = hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__PROMOTION, NULL, NULL, detail);
	/* a keyed node's held slots all full (HW_EBUSY): they are queued as this epoch's */
	if (arc != 0 && !(arc == HW_EBUSY && n->can_sign)) {
		n->last_wait_lsn = h.lsn;
		hw_log("epoch_floor_dropped", "epoch=%llu lsn=%llu what=\"%s\"",
		       (unsigned long long)epoch, (unsigned long long)h.lsn,
		       "no PROMOTION entry: answers do not wait for an entry of this epoch");
	}
	/* Taken from the queue now, before the loop reads the records a client may have
	 * waiting (resent to the new primary): the events this node held and its PROMOTION
	 * are the epoch's first entries, and everything answered waits for them. */
	hw__primary_take_ext(n);
	hw__election_progress(n);
}

static void demote(struct hw_node *n, uint64_t epoch)
{
	hw_log("stepped_down",
	       "epoch=%llu new_epoch=%llu reason=%s acked_lsn=%llu last_ack_wall_ms=%lld "
	       "waiting=%u fenced=%u",
	       (unsigned long long)n->epoch, (unsigned long long)epoch, down_name(n->down_code),
	       (unsigned long long)n->acked_lsn, (long long)n->last_ack_wall_ms, n->requests_used,
	       n->n_fenced);
	hw__primary_leave(n, HW_ENOT_PRIMARY); /* answers the fenced ones too */
	/* As in promote(): the standby's core takes the store's head as durable, which the
	 * writer's last flush made so, unless it failed. */
	int src = hw_store_failure(n->store);
	n->n_fenced = 0;
	n->submits_paused = false;
	n->cfg.role = HW_ROLE_STANDBY;
	hw__node_resume_sessions(n); /* what paused sessions hold is refused: not primary */
	/* held (with the epoch it led) until this node leads again */
	char detail[64];
	snprintf(detail, sizeof detail, "stepped down: %s", down_name(n->down_code));
	hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__STEP_DOWN, NULL, NULL, detail);
	n->epoch = epoch;
	n->following = UINT32_MAX;
	n->cfg.primary[0] = '\0';
	n->cfg.primary_id[0] = '\0';
	int rc = src != 0 ? src : hw__standby_restart(n);
	if (rc != 0)
		hw__node_storage_failed(n, rc, "step_down");
}

/* The primary the core knows, if another node: follow it. */
static void follow_known(struct hw_node *n)
{
	const struct hw_el *el = el_of(n);
	uint32_t p = el->primary;
	if (n->cfg.role != HW_ROLE_STANDBY || p == HW_EL_NONE || p == n->cfg.failover.self ||
	    p == n->cfg.failover.witness || p == n->following)
		return;
	n->following = p;
	const struct hw_voter_addr *va = &n->cfg.failover.voters[p];
	hw_log("following_primary", "primary=%s addr=%s epoch=%llu", va->id, va->addr,
	       (unsigned long long)el->hard.epoch);
	bool same = n->primary_conn != NULL && strcmp(n->primary_id, va->id) == 0;
	snprintf(n->cfg.primary, sizeof n->cfg.primary, "%s", va->addr);
	snprintf(n->cfg.primary_id, sizeof n->cfg.primary_id, "%s", va->id);
	if (!same)
		hw__standby_follow(n);
}

/* Run the role the core holds. */
static void reconcile(struct hw_node *n)
{
	const struct hw_el *el = el_of(n);
	bool lead = el->role == HW_EL_PRIMARY;
	if (n->cfg.role == HW_ROLE_PRIMARY && (!lead || n->epoch != el->hard.epoch))
		demote(n, el->hard.epoch);
	if (n->cfg.role == HW_ROLE_STANDBY && lead && n->failed == 0)
		promote(n, el->hard.epoch);
	follow_known(n);
}

/* ---- API -------------------------------------------------------------------------- */

static void switchover_drain(struct hw_node *n);

void hw__election_tick(struct hw_node *n)
{
	if (n->voters == NULL)
		return;
	/* Here, not where the failure is found: that may be inside a call into the core. */
	if (n->failed != 0 && !el_of(n)->failed)
		hw_voters_storage_failed(n->voters);
	reconcile(n);
	const struct hw_el *el = el_of(n);
	/* A standby holds back at start while no primary was heard: the node configured as
	 * primary campaigns first. */
	int64_t grace = 2 * el->cfg.detection_ms;
	bool timers = !(n->start_role == HW_ROLE_STANDBY && el->primary == HW_EL_NONE &&
			el->hard.epoch == 0 && hw__node_now(n) < n->started_ms + grace);
	hw_voters_tick(n->voters, timers);
	reconcile(n);
	switchover_drain(n);
	if (n->cfg.role == HW_ROLE_PRIMARY && n->n_fenced > 0 && fence_open(n))
		release_fenced(n);
}

int hw__election_start(struct hw_node *n)
{
	if (!n->cfg.failover.on)
		return 0;
	struct hw_el_config ec;
	struct hw_tg_plan plan;
	int rc = hw_voters_plan(&n->cfg, &ec, &plan);
	if (rc != 0) {
		/* hw_node_open checked the same plan (hw_voters_plan_check) */
		fprintf(stderr, "hawser: 'failover.rto' = %lld ms cannot be met: %s\n",
			(long long)n->cfg.failover.rto_ms, plan.why);
		hw_log("plan_refused", "code=%s why=\"%s\"", hw_errname(rc), plan.why);
		return rc;
	}
	struct hw_el_hard hard;
	rc = hw_voters_load_hard(n->store, &hard);
	if (rc == HW_ENOTFOUND) /* a node that never voted: new, or run with static roles */
		hard = HW_EL_HARD_FRESH;
	else if (rc != 0)
		return rc;
	n->fenced = calloc(n->cfg.waiters_max, sizeof *n->fenced);
	if (n->fenced == NULL)
		return HW_ENOMEM;
	n->start_role = n->cfg.role;
	n->cfg.role = HW_ROLE_STANDBY;
	n->following = UINT32_MAX;
	n->started_ms = hw__node_now(n);
	hw_log("failover_planned",
	       "rto_ms=%lld rpo_ms=%lld detection_ms=%lld lease_ms=%lld renew_ms=%lld "
	       "failover_ms=%lld false_failovers_per_year=%.3g",
	       (long long)n->cfg.failover.rto_ms, (long long)n->cfg.failover.rpo_ms,
	       (long long)plan.detection_ms, (long long)plan.lease_ms, (long long)plan.renew_ms,
	       (long long)plan.failover_ms, plan.false_failovers_per_year);
	struct hw_voters_config vc = {
		.cfg = &n->cfg,
		.el = ec,
		.hard = &hard,
		.seed = hw_mono_ns() ^ (uint64_t)n->cfg.failover.self << 56,
		.persist_cb = persist_cb,
		.act_cb = act_cb,
		.arg = n,
	};
	return hw_voters_new(n->loop, n->ring, &vc, &n->voters);
}

void hw__election_stop(struct hw_node *n)
{
	hw_voters_free(n->voters);
	n->voters = NULL;
	free(n->fenced);
	n->fenced = NULL;
}

int hw__election_primary_frame(struct hw_node *n, uint64_t epoch, bool heard)
{
	/* Without voters (a vault, static roles) the log's last entry bounds the epoch: a
	 * primary older than what this node already holds is a deposed one. */
	uint64_t ours = n->voters != NULL ? el_of(n)->hard.epoch
			: n->wal != NULL  ? hw_wal_last(n->wal)->epoch
					  : 0;
	if (epoch < ours) {
		hw_log("stale_epoch", "primary=%s its_epoch=%llu our_epoch=%llu what=\"%s\"",
		       n->cfg.primary, (unsigned long long)epoch, (unsigned long long)ours,
		       "replication from an older epoch refused");
		return HW_EPROTOCOL;
	}
	if (n->voters == NULL)
		return 0;
	int from = n->primary_id[0] != '\0' ? hw_voters_id(n->voters, n->primary_id) : -1;
	if (heard && from >= 0)
		hw_voters_primary_heard(n->voters, (uint32_t)from, epoch);
	return 0;
}

int hw__election_on_hello(struct hw_session *s, int role, const char *node_id)
{
	struct hw_node *n = s->node;
	int id = n->voters != NULL ? hw_voters_id(n->voters, node_id) : -1;
	const struct hw_failover *f = &n->cfg.failover;
	bool witness = role == HAWSER__WIRE__V1__ROLE__WITNESS;
	if (id < 0 || (uint32_t)id == f->self || witness != ((uint32_t)id == f->witness)) {
		const char *port = hw__session_refused_port(s);
		if (port != NULL)
			hw_log("peer_refused", "peer=%s port=%s node=%s reason=not_a_voter",
			       hw_conn_peer(s->conn), port, node_id);
		hw__node_refuse(s->conn, HW_ECLUSTER, "not a voter of this node's cluster");
		return 0;
	}
	/* A voter dials again when it lost its link; the old session may be half open (its
	 * host gone without a FIN): it goes, so such sessions cannot fill the replication
	 * port's slots and keep standbys and voters out. */
	for (uint32_t i = 0; i < HW_CLIENTS_MAX; i++)
		if (n->sessions[i] != NULL && n->sessions[i] != s && n->sessions[i]->voter == id)
			hw_conn_close(n->sessions[i]->conn, HW_ECLOSED);
	s->voter = id;
	s->hello = true;
	return hw_voters_send_hello(n->voters, s->conn);
}

int hw__election_on_frame(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	if (n->voters == NULL || !hw_voters_frame(f->type))
		return HW_EPROTOCOL;
	int rc = hw_voters_on_frame(n->voters, (uint32_t)s->voter, f);
	if (n->cfg.role == HW_ROLE_PRIMARY && n->n_fenced > 0 && fence_open(n))
		release_fenced(n);
	return rc;
}

int hw__election_state_into(struct hw_node *n, const char *dir)
{
	if (n->voters == NULL)
		return 0;
	struct hw_store *s;
	int rc = hw_store_open(dir, NULL, &s);
	if (rc == 0) {
		rc = hw_voters_save_hard(s, &el_of(n)->durable);
		hw_store_close(s);
	}
	return rc;
}

/* Checked before submits are paused (the core checks the same again when it is asked):
 * a node without failover, a target that is no voter, this node or the witness, a node
 * that is not a primary holding its lease, one under way. */
static int switchover_code(struct hw_node *n, const char *to, uint32_t *target, const char **why)
{
	int id = n->voters != NULL ? hw_voters_id(n->voters, to) : -1;
	const struct hw_el *el = n->voters != NULL ? el_of(n) : NULL;
	*target = id >= 0 ? (uint32_t)id : 0;
	*why = "hand-over started: submits paused until the target is primary";
	if (n->voters == NULL) {
		*why = "this node runs with static roles (no [failover])";
		return HW_ECONFIG;
	}
	if (id < 0 || (uint32_t)id == el->cfg.self || (uint32_t)id == el->cfg.witness) {
		*why = "the target is not a standby of this cluster (unknown, this node, the "
		       "witness)";
		return HW_ECONFIG;
	}
	if (n->cfg.role != HW_ROLE_PRIMARY || !fence_open(n)) {
		*why = "this node is not a primary holding its lease";
		return HW_ENOT_PRIMARY;
	}
	if (n->xfer_pending || el->xfer_to != HW_EL_NONE) {
		*why = "a switchover is already under way";
		return HW_EBUSY;
	}
	for (uint32_t i = 0; i < n->cfg.n_standbys; i++)
		if (hw_voters_id(n->voters, n->cfg.standbys[i]) == id &&
		    !n->core.peers[i].connected) {
			*why = "the target is not connected to this primary (down, or receiving a "
			       "snapshot): it could not catch up; retry once it follows";
			return HW_EBUSY;
		}
	return 0;
}

/* A switchover asked for: once every submit taken before the pause is answered (so
 * nothing more reaches the log behind the core's back), hand it to the core; if they do
 * not drain in time, take submits again. Loop tick. */
static void switchover_drain(struct hw_node *n)
{
	if (!n->xfer_pending)
		return;
	if (n->cfg.role != HW_ROLE_PRIMARY) {
		n->xfer_pending = false;
		return;
	}
	if (n->requests_used > 0 && hw__node_now(n) < n->xfer_until_ms)
		return;
	n->xfer_pending = false;
	int rc = n->requests_used > 0 ? HW_EBUSY : hw_voters_switchover(n->voters, n->xfer_to);
	if (rc != 0) {
		n->submits_paused = false;
		hw__node_resume_sessions(n);
		hw_log("submits_resumed", "epoch=%llu code=%s waiting=%u what=\"%s\"",
		       (unsigned long long)n->epoch, hw_errname(rc), n->requests_used,
		       "the switchover could not start; this node stays primary");
	}
}

int hw__election_on_switchover(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	Hawser__Wire__V1__SwitchoverRequest *m =
		hawser__wire__v1__switchover_request__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	const char *why = "";
	uint32_t target = 0;
	int rc = switchover_code(n, m->to, &target, &why);
	if (rc == 0) {
		/* the core's PAUSE_SUBMITS repeats this once it is asked */
		n->submits_paused = true;
		n->xfer_pending = true;
		n->xfer_to = target;
		n->xfer_until_ms = hw__node_now(n) + el_of(n)->cfg.xfer_timeout_ms;
		char detail[64];
		snprintf(detail, sizeof detail, "hand over to %s", m->to);
		/* who asked: the operator's client key (docs/security.md "Audit trail") */
		hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__SWITCHOVER, hw_conn_peer(s->conn),
				hw_conn_peer_key(s->conn), detail);
	}
	hw_log("switchover_requested", "to=%s code=%s acked_lsn=%llu wall_ms=%lld why=\"%s\"",
	       m->to, rc == 0 ? "ok" : hw_errname(rc), (unsigned long long)n->acked_lsn,
	       (long long)hw_wall_ms(), why);
	hawser__wire__v1__switchover_request__free_unpacked(m, NULL);
	Hawser__Wire__V1__SwitchoverReply r = HAWSER__WIRE__V1__SWITCHOVER_REPLY__INIT;
	r.code = rc;
	r.message = (char *)why;
	return hw__node_send_msg(s->conn, HW_FRAME_SWITCHOVER_REPLY, &r);
}

/* The standby's durable LSN, as its votes carry it. */
static uint64_t own_durable(const struct hw_node *n)
{
	return el_of(n)->prog.durable_lsn;
}

static int promote_reply(struct hw_session *s, int code, const char *why,
			 const struct hw_el_range *r, bool knows)
{
	Hawser__Wire__V1__PromoteReply a = HAWSER__WIRE__V1__PROMOTE_REPLY__INIT;
	a.code = code;
	a.message = (char *)why;
	a.loss_from = r->from;
	a.loss_to = r->to;
	a.witness_knows = knows;
	a.durable_lsn = s->node->voters != NULL ? own_durable(s->node) : 0;
	return hw__node_send_msg(s->conn, HW_FRAME_PROMOTE_REPLY, &a);
}

/* A listing: the witness's answer once in (HW_EBUSY until then). */
static int promote_list(struct hw_session *s)
{
	struct hw_node *n = s->node;
	struct hw_el_range r = {1, 0};
	int code = 0;
	int rc = hw_voters_loss_poll(n->voters, own_durable(n), &r, &code);
	if (rc == HW_EBUSY)
		return promote_reply(s, rc, "asking the witness", &r, false);
	if (rc != 0)
		return promote_reply(s, rc, "the witness cannot be asked", &r, false);
	hw_log("loss_listed", "from=%llu to=%llu witness_knows=%d durable_lsn=%llu",
	       (unsigned long long)r.from, (unsigned long long)r.to, code == 0,
	       (unsigned long long)own_durable(n));
	return promote_reply(s, 0, "listed", &r, code == 0);
}

int hw__election_on_promote(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	Hawser__Wire__V1__PromoteRequest *m =
		hawser__wire__v1__promote_request__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	struct hw_el_range r = {m->accept_from, m->accept_to};
	bool accept = m->accept;
	hawser__wire__v1__promote_request__free_unpacked(m, NULL);
	if (n->voters == NULL)
		return promote_reply(s, HW_ECONFIG, "this node runs with static roles", &r, false);
	if (!accept)
		return promote_list(s);
	int rc = hw_voters_forced_promote(n->voters, &r);
	const char *why = rc == 0           ? "forced election started"
			  : rc == HW_EBUSY  ? "not a standby, or bound by a live primary's lease: "
					      "use a switchover"
			  : rc == HW_ERANGE ? "the accepted range does not start at or before "
					      "durable_lsn + 1"
			  : rc == HW_ESTORE_FAILED ? "this node's storage failed: it may not lead "
						     "until restarted"
			  : rc == HW_ESTALE && n->block.lsn != 0
				  ? "this node's apply is blocked by an entry its store refused "
				    "(hawser status): it may not lead"
			  : rc == HW_ESTALE ? "this node's state tables await a snapshot (a rejoin "
					      "set its divergent suffix aside): it may not lead"
					    : "the election state could not be made durable";
	hw_log("forced_promote", "from=%llu to=%llu code=%s why=\"%s\"", (unsigned long long)r.from,
	       (unsigned long long)r.to, rc == 0 ? "ok" : hw_errname(rc), why);
	if (rc == 0) { /* held on this standby, appended once the election makes it primary */
		char detail[96];
		snprintf(detail, sizeof detail, "promote --accept-loss %llu..%llu",
			 (unsigned long long)r.from, (unsigned long long)r.to);
		hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__OPERATOR, hw_conn_peer(s->conn),
				hw_conn_peer_key(s->conn), detail);
	}
	return promote_reply(s, rc, why, &r, true);
}
