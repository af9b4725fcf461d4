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
 * Logs: fault_refused (why), fault_injected (kind, caller); the voters' isolated and
 * isolation_ended. An injected fault is also an audit event (DRILL). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"
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

/* Stop taking submits and exit once the reply has left (crash_cb). */
static int crash(struct hw_session *s)
{
	struct hw_node *n = s->node;
	n->crashing = true; /* no resume undoes these pauses (hw__session_resume) */
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

/* Cut the node off for ms (the top of the file), then answer. */
static int isolate(struct hw_session *s, uint32_t ms)
{
	struct hw_node *n = s->node;
	if (n->voters == NULL)
		return hw__node_send_error(s->conn, HW_ECONFIG,
					   "isolation needs a [failover] cluster");
	if (n->cfg.role != HW_ROLE_PRIMARY)
		return hw__node_send_error(s->conn, HW_ENOT_PRIMARY,
					   "only the primary isolates itself");
	if (ms == 0 || ms > ISOLATE_MAX_MS)
		return hw__node_send_error(s->conn, HW_ERANGE, "an isolation lasts 1 to 600000 ms");
	hw_log("fault_injected",
	       "peer=%s kind=isolate duration_ms=%u epoch=%" PRIu64 " last_lsn=%" PRIu64,
	       hw_conn_peer(s->conn), ms, n->epoch, n->core.last_lsn);
	char detail[64];
	snprintf(detail, sizeof detail, "fault injected: isolated for %u ms", ms);
	hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__DRILL, hw_conn_peer(s->conn),
			hw_conn_peer_key(s->conn), detail);
	hw_voters_isolate(n->voters, hw__node_now(n) + ms);
	for (uint32_t i = 0; i < HW_CLIENTS_MAX; i++)
		if (n->sessions[i] != NULL && n->sessions[i]->repl)
			hw_conn_close(n->sessions[i]->conn, HW_ECLOSED);
	return hw__node_send_frame(s->conn, HW_FRAME_DRILL_FAULT_REPLY, NULL, 0);
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
	if (kind == HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_ISOLATE)
		return isolate(s, ms);
	if (kind != HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_CRASH)
		return hw__node_send_error(s->conn, HW_ERANGE, "a drill fault is CRASH or ISOLATE");
	hw_log("fault_injected", "peer=%s kind=crash epoch=%" PRIu64 " last_lsn=%" PRIu64,
	       hw_conn_peer(s->conn), n->epoch, n->core.last_lsn);
	hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__DRILL, hw_conn_peer(s->conn), key,
			"fault injected: crash"); /* appended while the reply goes out */
	return crash(s);
}
