/* node_targets.c: the back-pressure a primary derives from its [failover] targets
 * (DESIGN.md "Targets, not knobs"), wired to the rules the replication core keeps
 * (engine/core/repl.h struct hw_ahead and struct hw_replay): their limits from the plan
 * the node runs on, the admission of each submit, the log lines when a hold or the
 * throttle begins and ends (once each, never per record), and what status shows.
 *
 * Without [failover] (static roles) nothing here acts: the core's rules stay off and
 * every submit is admitted as before.
 *
 * Logs: rpo_acks_held / rpo_acks_hold_ended, replay_throttled / replay_throttle_ended;
 * each begun one ends in the log, at the latest when the node stops being primary. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "engine/core/targets.h"
#include "engine/node_int.h"
#include "engine/voters.h"
#include "wire.pb-c.h"

uint32_t hw__targets_ahead_k(const struct hw_node *n)
{
	return hw_tg_ahead_k(n->cfg.k, n->cfg.failover.n_voters, n->cfg.n_standbys);
}

void hw__targets_config(const struct hw_node *n, struct hw_repl_config *rc)
{
	struct hw_el_config ec;
	struct hw_tg_plan plan;
	/* the plan the election runs on; a node whose plan is refused does not start */
	if (n->voters == NULL || n->cfg.n_standbys == 0 || hw_voters_plan(&n->cfg, &ec, &plan) != 0)
		return;
	if (plan.rule == HW_TG_RULE_AHEAD) {
		rc->max_ahead_ms = plan.max_ahead_ms;
		rc->ahead_k = hw__targets_ahead_k(n);
	}
	/* a budget of 0 records would read as "no throttle": at least 1 */
	rc->replay_budget = plan.replay_budget_records > 0 ? plan.replay_budget_records : 1;
}

/* The hold is on: the oldest record not durable on k standbys is past the limit. */
static bool rpo_held(struct hw_node *n)
{
	const struct hw_repl_config *c = &n->core.cfg;
	return c->max_ahead_ms > 0 &&
	       hw_primary_ahead_ms(&n->core, hw__node_now(n)) > c->max_ahead_ms;
}

int hw__targets_admit(struct hw_node *n, bool system)
{
	if (system) /* the node's own records (events, checkpoints) are never refused */
		return 0;
	if (!hw_primary_admits(&n->core))
		return 1; /* as for want of room: taken once the throttle opens */
	/* Every mode: the rule holds them all (struct hw_ahead). Only the store can tell a
	 * resend of a stored record, which must get its LSN, not "nothing written": a
	 * refusal costs a trip through the writer's next batch, and only while the rule
	 * holds. */
	return n->cfg.failover.rpo_fail && rpo_held(n) ? HW_EBEHIND : 0;
}

void hw__targets_rpo_why(struct hw_node *n, char *buf, size_t cap)
{
	const struct hw_repl_config *c = &n->core.cfg;
	const struct hw_ahead *a = &n->core.ahead;
	buf[0] = '\0';
	if (!rpo_held(n))
		return;
	uint32_t held = a->held;
	int64_t margin = n->cfg.failover.rpo_ms - c->max_ahead_ms;
	char what[160];
	if (a->oldest_ms == a->t0_ms) /* struct hw_ahead: when, this primary cannot know */
		snprintf(what, sizeof what,
			 "records this node held when it became primary are not yet durable on %u "
			 "standby%s (an earlier primary acknowledged them, when is not known here)",
			 c->ahead_k, c->ahead_k == 1 ? "" : "s");
	else
		snprintf(what, sizeof what,
			 "the oldest record not yet durable on %u standby%s was acknowledged "
			 "%" PRId64 " ms ago",
			 c->ahead_k, c->ahead_k == 1 ? "" : "s",
			 hw_primary_ahead_ms(&n->core, hw__node_now(n)));
	snprintf(buf, cap,
		 "%s, past the %" PRId64 " ms the rpo %" PRId64 " ms allows (%" PRId64
		 " ms margin): no submit is acknowledged until %s it (%u wait%s)%s",
		 what, c->max_ahead_ms, n->cfg.failover.rpo_ms, margin,
		 c->ahead_k == 1 ? "a standby holds" : "enough standbys hold", held,
		 held == 1 ? "s" : "",
		 n->cfg.failover.rpo_fail ? "; new ones are refused (rpo_action = fail)" : "");
}

/* The standby the throttle judges, by id; "" when none is connected. */
static const char *replay_standby(const struct hw_node *n)
{
	int i = n->core.replay.peer;
	return i >= 0 ? n->cfg.standbys[i] : "";
}

static uint64_t replay_resume(const struct hw_node *n)
{
	uint64_t b = n->core.cfg.replay_budget;
	return b - b / HW_REPLAY_RESUME_DIV;
}

void hw__targets_replay_why(const struct hw_node *n, char *buf, size_t cap)
{
	const struct hw_replay *r = &n->core.replay;
	buf[0] = '\0';
	if (!r->closed)
		return;
	snprintf(buf, cap,
		 "standby %s, which a failover would promote, holds %" PRIu64
		 " records received and not applied, at or past the replay budget of %" PRIu64
		 " (rto %" PRId64 " ms): new submits wait until it is below %" PRIu64,
		 replay_standby(n), r->backlog, n->core.cfg.replay_budget, n->cfg.failover.rto_ms,
		 replay_resume(n));
}

/* "rpo_acks_held" / "rpo_acks_hold_ended" when the hold begins or ends. */
static void rpo_check(struct hw_node *n, int64_t now)
{
	bool held = rpo_held(n);
	if (held == n->rpo_held)
		return;
	n->rpo_held = held;
	if (!held) {
		hw_log("rpo_acks_hold_ended", "held_ms=%lld waiting=%u",
		       (long long)(now - n->rpo_held_ms), n->requests_used);
		return;
	}
	n->rpo_held_ms = now;
	char why[HW_HOLD_WHY_BYTES];
	hw__targets_rpo_why(n, why, sizeof why);
	hw_log("rpo_acks_held",
	       "ahead_ms=%lld max_ahead_ms=%lld k=%u held=%u lsn=%llu action=%s what=\"%s\"",
	       (long long)hw_primary_ahead_ms(&n->core, now), (long long)n->core.cfg.max_ahead_ms,
	       n->core.cfg.ahead_k, n->core.ahead.held, (unsigned long long)n->core.ahead.held_lsn,
	       n->cfg.failover.rpo_fail ? "fail" : "block", why);
}

/* "replay_throttled" / "replay_throttle_ended"; an opened throttle lets paused readers
 * and queued embedded submits go on. */
static void replay_check(struct hw_node *n, int64_t now)
{
	bool closed = n->core.replay.closed;
	if (closed == n->replay_closed)
		return;
	n->replay_closed = closed;
	if (!closed) {
		hw_log("replay_throttle_ended", "throttled_ms=%lld backlog=%llu standby=%s",
		       (long long)(now - n->replay_closed_ms),
		       (unsigned long long)n->core.replay.backlog, replay_standby(n));
		n->room_freed = true;
		hw__primary_room(n);
		return;
	}
	n->replay_closed_ms = now;
	char why[HW_HOLD_WHY_BYTES];
	hw__targets_replay_why(n, why, sizeof why);
	hw_log("replay_throttled", "standby=%s backlog=%llu budget=%llu what=\"%s\"",
	       replay_standby(n), (unsigned long long)n->core.replay.backlog,
	       (unsigned long long)n->core.cfg.replay_budget, why);
}

void hw__targets_check(struct hw_node *n)
{
	int64_t now = hw__node_now(n);
	rpo_check(n, now);
	replay_check(n, now);
}

void hw__targets_end(struct hw_node *n, const char *reason)
{
	if (!n->rpo_held && !n->replay_closed)
		return; /* nothing to end (a node whose open failed has no loop, no clock) */
	int64_t now = hw__node_now(n);
	if (n->rpo_held)
		hw_log("rpo_acks_hold_ended", "held_ms=%lld waiting=%u reason=%s",
		       (long long)(now - n->rpo_held_ms), n->requests_used, reason);
	if (n->replay_closed)
		hw_log("replay_throttle_ended",
		       "throttled_ms=%lld backlog=%llu standby=%s reason=%s",
		       (long long)(now - n->replay_closed_ms),
		       (unsigned long long)n->core.replay.backlog, replay_standby(n), reason);
	n->rpo_held = false;
	n->replay_closed = false;
}

void hw__targets_status(struct hw_node *n, Hawser__Wire__V1__RpoHold *r,
			Hawser__Wire__V1__ReplayThrottle *t, char *rpo_why, char *replay_why)
{
	const struct hw_repl_config *c = &n->core.cfg;
	int64_t now = hw__node_now(n);
	hawser__wire__v1__rpo_hold__init(r);
	hawser__wire__v1__replay_throttle__init(t);
	hw__targets_rpo_why(n, rpo_why, HW_HOLD_WHY_BYTES);
	hw__targets_replay_why(n, replay_why, HW_HOLD_WHY_BYTES);
	r->why = rpo_why;
	t->why = replay_why;
	r->action = n->cfg.failover.rpo_fail ? "fail" : "block";
	t->standby = (char *)replay_standby(n);
	if (c->max_ahead_ms > 0) {
		r->max_ahead_ms = c->max_ahead_ms;
		r->margin_ms = n->cfg.failover.rpo_ms - c->max_ahead_ms;
		r->ahead_ms = hw_primary_ahead_ms(&n->core, now);
		r->held = r->ahead_ms > c->max_ahead_ms;
		r->submits = n->core.ahead.held;
		r->lsn = n->core.ahead.held_lsn;
		r->held_ms = n->rpo_held && r->held ? now - n->rpo_held_ms : 0;
		r->k = c->ahead_k;
	}
	if (c->replay_budget > 0) {
		t->budget_records = c->replay_budget;
		t->resume_records = replay_resume(n);
		t->backlog_records = n->core.replay.backlog;
		t->throttled = n->core.replay.closed;
		t->throttled_ms = n->replay_closed && t->throttled ? now - n->replay_closed_ms : 0;
	}
}
