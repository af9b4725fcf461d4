/* node_drill.c: a fault a drill asks a node to inject on itself (wire.proto DrillFault,
 * `hawser drill failover --connect`, docs/drills.md). The drill has no hands on the
 * node's host, so the node plays the fault itself; only when its config says so
 * ([drills] allow_fault = true) and only for a caller whose channel authenticated a
 * pinned key: a node that takes the request from anyone is a kill switch.
 *
 * CRASH is an exit as a crash would be: _exit, no clean shutdown, the WAL left as it is,
 * so what the supervisor restarts is what a power cut or a SIGKILL leaves. Before it the
 * node stops reading its clients (no new submit is taken) and waits for its reply to
 * leave, so the drill learns the moment of the fault; at most CRASH_FLUSH_MS.
 *
 * ISOLATE is a partition the node plays on itself, for duration_ms: the voters drop and
 * refuse their links (hw_voters_isolate), the replication sessions (standbys, and the
 * voter links the others dialed) are closed and the replication port refuses new ones
 * (node.c) while the client port stays open. What it tests is the lease fence: the
 * primary must stop acknowledging before another can be elected. Only a primary of a
 * [failover] cluster takes it (a standby's own link to its primary would stay up).
 *
 * An injected fault is also an audit event (DRILL, "fault injected: ..."), which must
 * survive the fault: appended by the faulty node just before it, it would stay in that
 * node's log alone (cut off, or crashed with it) and the node's rejoin would quarantine
 * it. So a primary with an audit trail and standbys queues it in mode durable with its k
 * (hw__audit_event_durable) and plays the fault only once k standbys hold it, which is
 * what the new primary's log will carry; an event not durable within AUDIT_WAIT_MS (or
 * failed: a step-down) means no fault, answered with its code, and a second event says
 * the fault was not injected. Elsewhere (a node that is not primary, insecure, or
 * without standbys) the event goes the usual way (held, or logged) and the fault follows
 * at once. One fault waits at a time (HW_EBUSY for another).
 *
 * Logs: fault_refused (why), fault_injected (kind, caller); the voters' isolated and
 * isolation_ended. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "engine/io/channel.h"
#include "engine/io/frame.h"
#include "engine/io/loop.h"
#include "engine/io/ring.h"
#include "engine/node_int.h"
#include "engine/voters.h"
#include "wire.pb-c.h"

#define CRASH_POLL_MS  2   /* how often the reply's departure is checked */
#define CRASH_FLUSH_MS 500 /* the reply's chance to leave: the crash does not wait longer */
#define CRASH_EXIT     137 /* the status of a process killed by SIGKILL, for supervisors */
/* An isolation longer than 10 minutes is a mistake, not a drill. */
#define ISOLATE_MAX_MS 600000u
/* How long a fault waits for its audit event to be durable on k standbys: a round trip
 * and an fsync, milliseconds on a healthy cluster; a cluster that takes seconds has no
 * standby fit to take over, and the drill's request (failover_remote.c) waits 5 s. */
#define AUDIT_WAIT_MS 2000

/* The fault asked for, from its request until it is played (or refused). */
static struct fault {
	struct hw_node *node;
	Hawser__Wire__V1__DrillFaultKind kind;
	uint32_t ms;         /* an isolation's length */
	uint32_t index, gen; /* the session that asked, for the reply */
	uint64_t seq;        /* its audit event's request id while it waits; 0: none waits */
	struct hw_timer *bound;
	char peer[HW_REF_CHARS_MAX + 1];
	uint8_t key[HW_CHANNEL_KEY_BYTES];
} fault;
static uint64_t fault_seq;

/* The session that asked for the fault, if it is still there. */
static struct hw_session *asker(void)
{
	struct hw_session *s = fault.node->sessions[fault.index];
	return s != NULL && s->gen == fault.gen ? s : NULL;
}

/* The session whose reply must leave before the exit. */
struct crash {
	struct hw_node *node;
	uint32_t index, gen;
	int64_t until_ms;
};

static void crash_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct crash *c = arg;
	struct hw_node *n = c->node;
	struct hw_session *s = n->sessions[c->index];
	bool gone = s == NULL || s->gen != c->gen || hw_conn_send_room(s->conn) == HW_CONN_SEND_MAX;
	if (gone || hw__node_now(n) >= c->until_ms)
		_exit(CRASH_EXIT);
}

/* Stop taking submits and exit once the reply to s (NULL: gone) has left (crash_cb). */
static int crash(struct hw_node *n, struct hw_session *s)
{
	hw_log("fault_injected", "peer=%s kind=crash epoch=%" PRIu64 " last_lsn=%" PRIu64,
	       fault.peer, n->epoch, n->core.last_lsn);
	if (s == NULL)
		_exit(CRASH_EXIT); /* nobody to answer */
	n->crashing = true;        /* no resume undoes these pauses (hw__session_resume) */
	for (uint32_t i = 0; i < HW_CLIENTS_MAX; i++)
		if (n->sessions[i] != NULL && n->sessions[i] != s && !n->sessions[i]->repl)
			hw_conn_pause(n->sessions[i]->conn);
	static struct crash c; /* lives until the exit */
	c = (struct crash){.node = n,
			   .index = s->index,
			   .gen = s->gen,
			   .until_ms = hw__node_now(n) + CRASH_FLUSH_MS};
	struct hw_timer *t;
	int rc = hw_timer_new(n->loop, CRASH_POLL_MS, CRASH_POLL_MS, crash_cb, &c, &t);
	if (rc != 0)
		_exit(CRASH_EXIT); /* no timer: crash without the reply, still a crash */
	return hw__node_send_frame(s->conn, HW_FRAME_DRILL_FAULT_REPLY, NULL, 0);
}

/* Why n cannot isolate itself for ms, with *code; NULL when it can. */
static const char *isolate_refusal(const struct hw_node *n, uint32_t ms, int *code)
{
	*code = n->voters == NULL                ? HW_ECONFIG
		: n->cfg.role != HW_ROLE_PRIMARY ? HW_ENOT_PRIMARY
		: ms == 0 || ms > ISOLATE_MAX_MS ? HW_ERANGE
						 : 0;
	return *code == HW_ECONFIG        ? "isolation needs a [failover] cluster"
	       : *code == HW_ENOT_PRIMARY ? "only the primary isolates itself"
	       : *code == HW_ERANGE       ? "an isolation lasts 1 to 600000 ms"
					  : NULL;
}

/* Cut the node off for fault.ms (the top of the file), then answer s (NULL: gone). */
static int isolate(struct hw_node *n, struct hw_session *s)
{
	int code;
	const char *why = isolate_refusal(n, fault.ms, &code);
	if (why != NULL) /* stepped down while its event was on its way */
		return s != NULL ? hw__node_send_error(s->conn, code, why) : 0;
	hw_log("fault_injected",
	       "peer=%s kind=isolate duration_ms=%u epoch=%" PRIu64 " last_lsn=%" PRIu64,
	       fault.peer, fault.ms, n->epoch, n->core.last_lsn);
	hw_voters_isolate(n->voters, hw__node_now(n) + fault.ms);
	for (uint32_t i = 0; i < HW_CLIENTS_MAX; i++)
		if (n->sessions[i] != NULL && n->sessions[i]->repl)
			hw_conn_close(n->sessions[i]->conn, HW_ECLOSED);
	return s != NULL ? hw__node_send_frame(s->conn, HW_FRAME_DRILL_FAULT_REPLY, NULL, 0) : 0;
}

static int inject(struct hw_node *n, struct hw_session *s)
{
	return fault.kind == HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_ISOLATE ? isolate(n, s)
										     : crash(n, s);
}

/* The fault is not played: say why to the log, to its asker and, when its event may
 * still come, to the audit trail. */
static void not_injected(struct hw_node *n, int code, const char *why, bool event_pending)
{
	hw_log("fault_refused", "peer=%s kind=%d code=%s reason=\"%s\"", fault.peer,
	       (int)fault.kind, hw_errname(code), why);
	if (event_pending)
		hw__audit_event(
			n, TOS__V1__NODE_EVENT_KIND__DRILL, fault.peer, fault.key,
			"fault not injected: its event was not durable on a standby in time");
	struct hw_session *s = asker();
	int rc = s != NULL ? hw__node_send_error(s->conn, code, why) : 0;
	if (rc != 0)
		hw_conn_close(s->conn, rc);
}

static void end_wait(void)
{
	hw_timer_free(fault.bound);
	fault.bound = NULL;
	fault.seq = 0;
}

/* hw_submit_cb: the fault's audit event is durable on k standbys, or failed. */
static void audited_cb(void *arg, const struct hw_outcome *o)
{
	struct hw_node *n = arg;
	if (o->request_id != fault.seq || fault.seq == 0)
		return; /* its wait ended (AUDIT_WAIT_MS): not_injected said so */
	end_wait();
	if (o->code != 0) {
		not_injected(n, o->code,
			     "the fault's audit event was not appended: no fault injected", false);
		return;
	}
	struct hw_session *s = asker();
	int rc = inject(n, s);
	if (rc != 0 && s != NULL)
		hw_conn_close(s->conn, rc);
}

static void bound_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	end_wait(); /* frees t: libev is done with it */
	not_injected(arg, -ETIMEDOUT,
		     "the fault's audit event was not durable on a standby within 2000 ms: no "
		     "fault injected",
		     true);
}
_Static_assert(AUDIT_WAIT_MS == 2000, "bound_cb's words");

/* Record the fault in the audit trail, then play it (see the top). */
static int audit_then_inject(struct hw_session *s, Hawser__Wire__V1__DrillFaultKind kind,
			     uint32_t ms)
{
	struct hw_node *n = s->node;
	if (fault.seq != 0)
		return hw__node_send_error(s->conn, HW_EBUSY,
					   "another fault waits for its audit event");
	const uint8_t *key = hw_conn_peer_key(s->conn);
	fault = (struct fault){.node = n, .kind = kind, .ms = ms, .index = s->index, .gen = s->gen};
	snprintf(fault.peer, sizeof fault.peer, "%s", hw_conn_peer(s->conn));
	memcpy(fault.key, key, HW_CHANNEL_KEY_BYTES); /* pinned: hw__drill_on_fault */
	char detail[64];
	if (kind == HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_ISOLATE)
		snprintf(detail, sizeof detail, "fault injected: isolated for %u ms", ms);
	else
		snprintf(detail, sizeof detail, "fault injected: crash");
	uint64_t seq = ++fault_seq;
	int rc = hw__audit_event_durable(n, TOS__V1__NODE_EVENT_KIND__DRILL, fault.peer, fault.key,
					 detail, seq, audited_cb, n);
	if (rc == 1) /* no trail that outlives this node: the event went the usual way */
		return inject(n, s);
	if (rc != 0)
		return hw__node_send_error(
			s->conn, rc, "the fault's audit event was not queued: no fault injected");
	fault.seq = seq;
	if (hw_timer_new(n->loop, AUDIT_WAIT_MS, 0, bound_cb, n, &fault.bound) != 0)
		fault.bound = NULL; /* out of memory: the event's outcome still ends the wait */
	return 0;
}

void hw__drill_stop(struct hw_node *n)
{
	(void)n;
	end_wait();
}

int hw__drill_on_fault(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	Hawser__Wire__V1__DrillFault *m =
		hawser__wire__v1__drill_fault__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	Hawser__Wire__V1__DrillFaultKind kind = m->kind;
	uint32_t ms = m->duration_ms;
	hawser__wire__v1__drill_fault__free_unpacked(m, NULL);
	const uint8_t *key = hw_conn_peer_key(s->conn);
	const char *why = !n->cfg.drills.allow_fault ? "[drills] allow_fault is not true"
			  : key == NULL              ? "the caller has no pinned key"
						     : NULL;
	if (why != NULL) {
		hw_log("fault_refused", "peer=%s kind=%d reason=\"%s\"", hw_conn_peer(s->conn),
		       (int)kind, why);
		hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__DRILL, hw_conn_peer(s->conn), key,
				"fault injection refused");
		return hw__node_send_error(s->conn, HW_EFAULT_OFF, why);
	}
	int code = 0;
	if (kind == HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_ISOLATE)
		why = isolate_refusal(n, ms, &code);
	else if (kind != HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_CRASH)
		return hw__node_send_error(s->conn, HW_ERANGE, "a drill fault is CRASH or ISOLATE");
	if (why != NULL)
		return hw__node_send_error(s->conn, code, why);
	return audit_then_inject(s, kind, ms);
}
