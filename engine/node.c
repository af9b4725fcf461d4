/* node.c: a hawser node: set-up and tear-down, the client port, and the glue between the
 * replication core's actions and the role that carries them out (engine/node_int.h,
 * include/hawser.h). Its status is node_status.c's. */
#include "base/clock.h"
#include "engine/node_int.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/assert.h"
#include "base/fs.h"
#include "base/log.h"
#include "engine/port.h"
#include "engine/resolve.h"
#include "engine/voters.h"
#include "replica/entry.h"
#include "wire.pb-c.h"

int64_t hw__node_now(struct hw_node *n)
{
	return hw_loop_now_ms(n->loop);
}

bool hw__repeat_say(struct hw_repeat *r, int code, uint32_t *repeats)
{
	int64_t now = hw_mono_ms();
	if (r->code == code && now - r->logged_ms < HW_REPEAT_LOG_MS) {
		r->count++;
		return false;
	}
	*repeats = r->code == code ? r->count : 0;
	*r = (struct hw_repeat){.code = code, .logged_ms = now};
	return true;
}

int hw__node_send_frame(struct hw_conn *c, enum hw_frame_type type, const uint8_t *body,
			size_t len)
{
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	HW_ASSERT(len <= HW_FRAME_BYTES_MAX);
	hw_frame_header(hdr, type, body, (uint32_t)len);
	return hw_conn_send2(c, hdr, sizeof hdr, body, len);
}

int hw__node_send_msg(struct hw_conn *c, enum hw_frame_type type, const void *msg)
{
	const ProtobufCMessage *m = msg;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t stack[1024];
	uint8_t *buf = len <= sizeof stack ? stack : malloc(len);
	if (buf == NULL)
		return HW_ENOMEM;
	protobuf_c_message_pack(m, buf);
	int rc = hw__node_send_frame(c, type, buf, len);
	if (buf != stack)
		free(buf);
	return rc;
}

int hw__node_send_outcome(struct hw_conn *c, const struct hw_outcome *o)
{
	uint8_t body[HW_SUBMIT_REPLY_FRAME_MAX];
	size_t len = hw_frame_submit_reply_body(body, sizeof body, o);
	return hw__node_send_frame(c, HW_FRAME_SUBMIT_REPLY, body, len);
}

int hw__node_send_error(struct hw_conn *c, int code, const char *message)
{
	Hawser__Wire__V1__Error e = HAWSER__WIRE__V1__ERROR__INIT;
	e.code = code;
	e.message = (char *)message;
	return hw__node_send_msg(c, HW_FRAME_ERROR, &e);
}

void hw__node_refuse(struct hw_conn *c, int code, const char *message)
{
	int rc = hw__node_send_error(c, code, message);
	hw_conn_close_sent(c, rc != 0 ? rc : code);
}

int hw__node_chain_id(struct hw_node *n, uint8_t out[HW_HASH_BYTES])
{
	static const uint8_t none[HW_HASH_BYTES];
	int rc = hw_store_chain_id(n->store, out);
	if (rc != 0 || memcmp(out, none, HW_HASH_BYTES) != 0 || n->wal == NULL ||
	    hw_wal_chain_id(n->wal, out) == 0)
		return rc;
	/* neither holds entry 1: none, unless the log holds entries after it (never so:
	 * a reset follows the store's flush, and a log after a pruned base has meta chain) */
	return hw_wal_last(n->wal)->lsn == 0 ? 0 : HW_ENOTFOUND;
}

int hw__node_send_hello(struct hw_node *n, struct hw_conn *c, int role, const struct hw_head *head,
			bool with_chain)
{
	struct hw_head h = *head;
	Hawser__Wire__V1__Hello m = HAWSER__WIRE__V1__HELLO__INIT;
	m.protocol_version = 1;
	m.cluster_id = n->cfg.cluster_id;
	m.node_id = n->cfg.node_id;
	m.role = role;
	m.epoch = n->epoch;
	m.heartbeat_ms = (uint32_t)n->cfg.heartbeat_ms; /* beat_clients() */
	m.last_lsn = h.lsn;
	m.last_epoch = with_chain ? h.epoch : 0; /* a standby's: its last entry's */
	if (h.lsn != 0)
		m.last_hash = (ProtobufCBinaryData){HW_HASH_BYTES, h.hash};
	static const uint8_t none[HW_HASH_BYTES];
	uint8_t chain[HW_HASH_BYTES];
	if (with_chain && n->store != NULL && hw__node_chain_id(n, chain) == 0 &&
	    memcmp(chain, none, HW_HASH_BYTES) != 0)
		m.chain = (ProtobufCBinaryData){HW_HASH_BYTES, chain};
	m.snapshot_wanted = with_chain && n->store != NULL && hw_store_stale(n->store);
	m.free_known = with_chain && hw__snapshot_rx_free(n, &m.free_bytes) == 0;
	/* one with failover takes a rejoin on the epochs (node_rejoin.c): never a static one's */
	m.judges_ahead = with_chain && role == HAWSER__WIRE__V1__ROLE__STANDBY && n->voters == NULL;
	return hw__node_send_msg(c, HW_FRAME_HELLO, &m);
}

/* ---- sessions ------------------------------------------------------------------- */

void hw__node_key_refused(struct hw_node *n, struct hw_conn *c, const char *reason, const char *as,
			  const char *node)
{
	const uint8_t *key = hw_conn_peer_key(c);
	char fp[HW_CHANNEL_FINGERPRINT_CHARS + 1] = "none";
	if (key != NULL)
		hw_channel_fingerprint(key, fp);
	char what[96];
	snprintf(what, sizeof what, "key not pinned as %s %.32s", as, node);
	hw_log("peer_refused", "peer=%s node=%s key=%s reason=%s what=\"%s\"", hw_conn_peer(c),
	       node, fp, reason, what);
	hw__audit_refusal(n, hw_conn_peer(c), key, what);
}

bool hw__node_peer_is(struct hw_node *n, struct hw_conn *c, const char *id)
{
	if (hw_security_peer_is(&n->cfg.security, hw_conn_peer_key(c), id))
		return true;
	hw__node_key_refused(n, c, "key_not_that_node", "node", id);
	return false;
}

const char *hw__session_refused_port(struct hw_session *s)
{
	return hw_port_refused(&s->node->port_logs[s->repl], hw__node_now(s->node));
}

static int take_hello(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	Hawser__Wire__V1__Hello *m = hawser__wire__v1__hello__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	int rc = 0;
	/* A client may leave the cluster id empty (it knows the node by address); a node
	 * must name it. */
	bool cluster_ok = strcmp(m->cluster_id, n->cfg.cluster_id) == 0 ||
			  (!s->repl && m->cluster_id[0] == '\0');
	if (m->protocol_version != 1 || !cluster_ok) {
		const char *port = hw__session_refused_port(s);
		if (port != NULL)
			hw_log("peer_refused",
			       "peer=%s port=%s node=%s reason=cluster_or_version cluster=%s "
			       "version=%u",
			       hw_conn_peer(s->conn), port, m->node_id, m->cluster_id,
			       m->protocol_version);
		hw__node_refuse(s->conn, HW_ECLUSTER, "cluster id or protocol version differs");
	} else if (s->repl && !hw__node_peer_is(n, s->conn, m->node_id)) {
		hw__node_refuse(s->conn, HW_EAUTH, "this key is not pinned as that node's");
	} else if (s->repl && (m->role == HAWSER__WIRE__V1__ROLE__VOTER ||
			       m->role == HAWSER__WIRE__V1__ROLE__WITNESS)) {
		rc = hw__election_on_hello(s, (int)m->role, m->node_id);
	} else if (s->repl) {
		rc = n->cfg.role == HW_ROLE_PRIMARY ? (int)hw__primary_on_repl(s, f) : HW_ENOT_PRIMARY;
	} else {
		s->hello = true;
		rc = hw__node_send_hello(n, s->conn,
					 n->cfg.role == HW_ROLE_PRIMARY
						 ? HAWSER__WIRE__V1__ROLE__PRIMARY
						 : HAWSER__WIRE__V1__ROLE__STANDBY,
					 &(struct hw_head){.lsn = n->cfg.role == HW_ROLE_PRIMARY
									  ? n->core.last_lsn
									  : n->sb.pos.durable},
					 false);
	}
	hawser__wire__v1__hello__free_unpacked(m, NULL);
	return rc;
}

/* One frame from a session. Returns 0 to go on, 1 to stop reading for now (back-pressure:
 * the frame was not taken), or a code to close with. */
static int session_frame(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	if (f->type == HW_FRAME_HELLO) /* one a session: each is decoded on the loop */
		return s->hello || s->voter >= 0 ? HW_EPROTOCOL : take_hello(s, f);
	if (!s->hello)
		return HW_EPROTOCOL;
	if (s->voter >= 0)
		return hw__election_on_frame(s, f);
	switch (f->type) {
	case HW_FRAME_SUBMIT:
		if (s->repl)
			return HW_EPROTOCOL;
		/* A switchover pauses submits: so does the session, until this node answers
		 * HW_ENOT_PRIMARY (the client follows the new primary) or stays primary. */
		if (n->cfg.role == HW_ROLE_PRIMARY && n->submits_paused)
			return 1;
		if (n->cfg.role != HW_ROLE_PRIMARY) {
			struct hw_submit_hdr h;
			if (hw_submit_hdr_get(f->body, f->len, &h) != 0)
				return HW_EFRAME;
			struct hw_outcome o = {.request_id = h.request_id, .code = HW_ENOT_PRIMARY};
			return hw__node_send_outcome(s->conn, &o);
		}
		return (int)hw__primary_on_submit(s, f);
	case HW_FRAME_STATUS_REQUEST:
		return hw__status_send(s);
	case HW_FRAME_SWITCHOVER_REQUEST:
		return s->repl ? HW_EPROTOCOL : hw__election_on_switchover(s, f);
	case HW_FRAME_PROMOTE_REQUEST:
		return s->repl ? HW_EPROTOCOL : hw__election_on_promote(s, f);
	case HW_FRAME_OPERATOR_EVENT:
		return s->repl ? HW_EPROTOCOL : hw__audit_on_operator_event(s, f);
	case HW_FRAME_DRILL_FAULT:
		return s->repl ? HW_EPROTOCOL : hw__drill_on_fault(s, f);
	case HW_FRAME_DIGEST_QUERY:
		return s->repl ? HW_EPROTOCOL : hw__digest_on_query(s, f);
	case HW_FRAME_ACK:
		if (!s->repl || n->cfg.role != HW_ROLE_PRIMARY)
			return HW_EPROTOCOL;
		return (int)hw__primary_on_repl(s, f);
	default:
		return HW_EPROTOCOL;
	}
}

/* Room s's send buffer keeps before its next request is taken (HW_SESSION_REPLY_ROOM):
 * that request's reply, and a SUBMIT_REPLY for each submit taken and not answered yet,
 * which is queued when its durability rule holds, however much the client left unread
 * meanwhile. */
static size_t reply_room(const struct hw_session *s)
{
	return HW_SESSION_REPLY_ROOM + (size_t)s->replies_owed * HW_SUBMIT_REPLY_FRAME_MAX;
}

/* A client that leaves its replies unread, past the room kept for those the node owes it
 * (reply_room): read nothing more from it until a send leaves its buffer below half
 * (session_on_writable), then look again. Such a send comes: the buffer is over half full
 * of its unread replies, or the node owes it replies, each queued (and sent) once its
 * submit is answered. Its requests wait in TCP: the client is held back, and no request is
 * taken whose reply, or a reply owed before it, would find no room. */
static int session_hold(struct hw_session *s)
{
	if (!s->out_full)
		hw_log("session_paused", "peer=%s reason=replies_unread room=%zu owed=%u",
		       hw_conn_peer(s->conn), hw_conn_send_room(s->conn), s->replies_owed);
	s->out_full = true;
	hw_conn_want_writable(s->conn);
	hw_conn_pause(s->conn);
	return 1;
}

/* One frame of s (hw_frames_take): paused for back-pressure, or closed on an error. A
 * frame is taken only when its reply and those owed before it have room (reply_room), so
 * a reply is never refused for room (answer_failed) and a client that pipelines without
 * reading is held back, not dropped. */
static int session_take(void *arg, const struct hw_frame *f)
{
	struct hw_session *s = arg;
	if (s->digesting) { /* a frame after its digest query: taken once that is answered */
		hw_conn_pause(s->conn);
		return 1;
	}
	if (!s->repl && hw_conn_send_room(s->conn) < reply_room(s))
		return session_hold(s);
	int rc = session_frame(s, f);
	if (rc == 1) {
		s->node->sessions_paused += !s->paused;
		s->paused = true;
		hw_conn_pause(s->conn);
		return 1;
	}
	if (rc < 0) {
		hw_port_closed(&s->node->port_logs[s->repl], hw_conn_peer(s->conn), rc,
			       s->repl && s->hello, hw__node_now(s->node));
		s->frame_refused = true; /* its close's line: no session_lost after it */
		return rc;
	}
	return 0;
}

static long session_on_data(struct hw_conn *c, void *arg, const uint8_t *buf, size_t len)
{
	struct hw_session *s = arg;
	struct hw_port_logs *l = &s->node->port_logs[s->repl];
	struct hw_frames_from from = {hw_conn_peer(c), l->port, &l->refused, hw__node_now(s->node),
				      &s->frame_refused};
	return hw_frames_take(buf, len, &from, session_take, arg);
}

static void session_on_writable(struct hw_conn *c, void *arg)
{
	(void)c;
	struct hw_session *s = arg;
	if (s->out_full) { /* its replies drained: take its requests again */
		s->out_full = false;
		hw__session_resume(s);
	}
	if (s->repl && s->node->cfg.role == HW_ROLE_PRIMARY)
		hw__primary_on_writable(s);
}

void hw__session_resume(struct hw_session *s)
{
	if (!s->paused && !s->out_full && !s->digesting && !s->node->crashing)
		hw_conn_resume(s->conn);
}

void hw__node_resume_sessions(struct hw_node *n)
{
	for (uint32_t i = 0; i < HW_CLIENTS_MAX && n->sessions_paused > 0; i++) {
		struct hw_session *s = n->sessions[i];
		if (s != NULL && s->paused) {
			s->paused = false;
			n->sessions_paused--;
			hw__session_resume(s);
		}
	}
}

static void session_on_close(struct hw_conn *c, void *arg, int code)
{
	(void)c;
	struct hw_session *s = arg;
	struct hw_node *n = s->node;
	/* an eviction, a close for a late Hello (accepted_ms INT64_MAX) or for a frame (a
	 * malformed one, or one it may not send) was logged, but for a standby's or a voter's (a
	 * Hello the replication port took: one of a node id it knows), whose loss is always worth
	 * its line in full */
	bool known = s->repl && s->hello;
	if (code != 0 && code != HW_ECLOSED && !s->evicted && s->accepted_ms != INT64_MAX &&
	    (!s->frame_refused || known))
		hw_port_lost(&n->port_logs[s->repl], hw_conn_peer(c), code, known, hw__node_now(n));
	if (n->cfg.role == HW_ROLE_PRIMARY)
		hw__primary_session_gone(n, s);
	n->sessions_paused -= s->paused;
	if (!s->evicted) { /* a displaced one gave up its slot and its count already */
		n->sessions_open[s->repl]--;
		n->sessions[s->index] = NULL;
		n->session_gen[s->index]++;
	}
	free(s);
}

static const struct hw_conn_ops session_ops = {
	.on_data = session_on_data,
	.on_writable = session_on_writable,
	.on_close = session_on_close,
};

/* The look hw_port_evict takes at port repl's sessions. */
struct port_look {
	struct hw_node *n;
	bool repl;
};

/* hw_port_unsaid_cb: whether session i, of port repl, has not said its Hello and may still
 * be displaced (not one closing, whose refusal is on its way; one displaced already left
 * its slot). */
static bool unsaid_cb(void *arg, uint32_t i, struct hw_port_unsaid *out)
{
	const struct port_look *look = arg;
	const struct hw_session *s = look->n->sessions[i];
	if (s == NULL || s->repl != look->repl || s->hello || hw_conn_closing(s->conn))
		return false;
	*out = (struct hw_port_unsaid){
		.conn = s->conn, .peer = hw_conn_peer(s->conn), .accepted_ms = s->accepted_ms};
	return true;
}

/* The sessions of port repl are all taken as c comes: one that has not said its Hello
 * goes (hw_port_evict), is counted no more and leaves its slot to c at once (its close
 * completes later, its connection still one of the port's listener's conns_max), so a
 * port at its own cap displaces within itself, whatever the other port holds. On the
 * replication port one of c's own host (when it holds the most) goes at any age (refusing
 * a flood's connections instead would hold each descriptor through its handshake, and the
 * port's backlog would keep a standby's dial waiting past its patience); on the client
 * port only once silent HW_EVICT_AGE_MS (a real client's handshake and Hello take
 * milliseconds, so a burst of clients from one host, a TOS's application server, never
 * cuts its own: the newcomer is refused instead). */
static void evict_unsaid(struct hw_node *n, bool repl, const struct hw_conn *c)
{
	struct port_look look = {.n = n, .repl = repl};
	const struct hw_port_view p = {.name = repl ? "replication" : "client",
				       .slots = HW_CLIENTS_MAX,
				       .own_age_ms = repl ? 0 : HW_EVICT_AGE_MS,
				       .unsaid = unsaid_cb,
				       .arg = &look,
				       .every = &n->port_logs[repl].evicted};
	int i = hw_port_evict(&p, c, hw__node_now(n));
	if (i < 0)
		return;
	n->sessions[i]->evicted = true;
	n->sessions[i] = NULL;
	n->session_gen[i]++;
	n->sessions_open[repl]--;
}

struct hw_session *hw__session_new(struct hw_node *n, struct hw_conn *c, bool repl)
{
	uint32_t budget = repl ? HW_REPL_SESSIONS_MAX : HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX;
	/* c is one of the port's descriptors already: at the last one it accepts no more
	 * until one closes, so one is made free for the next to come */
	uint32_t fds = n->fds.conns_max[repl ? HW_FDS_REPL : HW_FDS_CLIENT];
	if (n->sessions_open[repl] >= budget || n->sessions_open[repl] + 1u >= fds)
		evict_unsaid(n, repl, c);
	/* the slots hold the sessions counted in sessions_open, no more (evict_unsaid): a port
	 * under its budget finds one free, whatever the other port holds */
	bool room = n->sessions_open[repl] < budget;
	uint32_t i = 0;
	while (room && i < HW_CLIENTS_MAX && n->sessions[i] != NULL)
		i++;
	HW_ASSERT(!room || i < HW_CLIENTS_MAX);
	struct hw_session *s = room ? calloc(1, sizeof *s) : NULL;
	if (s == NULL) {
		/* no session: session_ops would be called back with none */
		hw__node_send_error(c, HW_EBUSY, "too many connections");
		hw_conn_refuse(c, HW_EBUSY);
		return NULL;
	}
	*s = (struct hw_session){.node = n,
				 .conn = c,
				 .index = i,
				 .gen = n->session_gen[i],
				 .repl = repl,
				 .peer = -1,
				 .voter = -1,
				 .accepted_ms = hw__node_now(n)};
	n->sessions[i] = s;
	n->sessions_open[repl]++;
	hw_conn_set_ops(c, &session_ops, s);
	return s;
}

static void on_client_accept(struct hw_listener *l, void *arg, struct hw_conn *c)
{
	(void)l;
	hw__session_new(arg, c, false);
}

static void on_repl_accept(struct hw_listener *l, void *arg, struct hw_conn *c)
{
	(void)l;
	struct hw_node *n = arg;
	/* a drill's partition (node_drill.c): no standby or voter reaches this node */
	if (n->voters != NULL && hw_voters_isolated(n->voters)) {
		hw_conn_refuse(c, HW_ECLOSED);
		return;
	}
	hw__session_new(n, c, true);
}

/* ---- actions, ticks ------------------------------------------------------------- */

void hw__node_do(struct hw_node *n, struct hw_acts *acts)
{
	for (size_t i = 0; i < acts->n; i++) {
		if (n->cfg.role == HW_ROLE_PRIMARY)
			hw__primary_act(n, &acts->v[i]);
		else
			hw__standby_act(n, &acts->v[i]);
	}
	acts->n = 0;
	if (n->cfg.role == HW_ROLE_PRIMARY) {
		hw__primary_room(n); /* the releases freed slots: paused readers go on */
		hw__primary_hold_check(n);
		hw__targets_check(n);
		/* after the releases and the standbys' acks of the event; without failover the
		 * primary's own log decides what survives it (its restart), not a standby */
		hw_primary_set_vault_limit(&n->core, n->voters != NULL ? hw__primary_safe_lsn(n)
								       : n->core.local_durable);
	}
	/* after the releases the event made (the election reports the acknowledged LSN) */
	hw__election_progress(n);
}

/* Every heartbeat_ms a HEARTBEAT to each client past its Hello that was sent nothing
 * since the last time and has nothing waiting to go, so that a client waiting on this
 * node tells a node that stopped (its process stopped, its loop stuck: the kernel still
 * answers TCP for it) from one with nothing to say: it gives the connection up after a
 * few heartbeats' time without a byte (engine/client.c) and, given the cluster's nodes,
 * looks for the primary. Under load the replies say it, and no heartbeat goes; nor to a
 * client that does not read (bytes still wait to go): what a client leaves unread stays
 * in the kernel's socket buffers, never in the node's send buffer. */
static void beat_clients(struct hw_node *n, int64_t now)
{
	if (now - n->clients_beat_ms < n->cfg.heartbeat_ms)
		return;
	n->clients_beat_ms = now;
	Hawser__Wire__V1__Heartbeat hb = HAWSER__WIRE__V1__HEARTBEAT__INIT;
	hb.epoch = n->epoch;
	for (uint32_t i = 0; i < HW_CLIENTS_MAX; i++) {
		struct hw_session *s = n->sessions[i];
		if (s == NULL || !s->hello || s->repl || s->voter >= 0)
			continue;
		if (hw_conn_queued_total(s->conn) == s->beat_seen &&
		    hw_conn_send_room(s->conn) == HW_CONN_SEND_MAX)
			(void)hw__node_send_msg(s->conn, HW_FRAME_HEARTBEAT, &hb);
		s->beat_seen = hw_conn_queued_total(s->conn);
	}
}

/* How long a session of port repl may go without its Hello: HW_HELLO_BUSY_MS once the
 * port holds three quarters of what it may (its sessions, or its descriptors when fewer),
 * else HW_HELLO_WAIT_MS. */
/* How many sessions port repl may hold: its budget, or its descriptors when fewer. */
static uint32_t port_cap(const struct hw_node *n, bool repl)
{
	uint32_t cap = repl ? HW_REPL_SESSIONS_MAX : HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX;
	uint32_t fds = n->fds.conns_max[repl ? HW_FDS_REPL : HW_FDS_CLIENT];
	return fds < cap ? fds : cap;
}

/* Close every session that has not said its Hello in time (HW_HELLO_WAIT_MS): looked at
 * every HW_HELLO_BUSY_MS / 4, so a late one goes within a quarter of its bound. */
static void close_late_hellos(struct hw_node *n, int64_t now)
{
	if (now - n->hello_swept_ms < HW_HELLO_BUSY_MS / 4)
		return;
	n->hello_swept_ms = now;
	const uint32_t cap[2] = {port_cap(n, false), port_cap(n, true)};
	for (uint32_t i = 0; i < HW_CLIENTS_MAX; i++) {
		struct hw_session *s = n->sessions[i];
		if (s == NULL || s->hello ||
		    !hw_conn_hello_late(s->conn, n->cfg.security.insecure, s->accepted_ms, now,
					n->sessions_open[s->repl], cap[s->repl]))
			continue;
		hw_port_close_late(s->conn, s->repl ? "replication" : "client", s->accepted_ms, now,
				   &n->port_logs[s->repl].closed);
		s->accepted_ms = INT64_MAX; /* its on_close comes later: not looked at again */
	}
}

static void tick_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct hw_node *n = arg;
	int64_t now = hw__node_now(n);
	if (now - n->rate_since_ms >= 1000) {
		n->records_per_s = (double)n->rate_count * 1000.0 / (double)(now - n->rate_since_ms);
		n->rate_count = 0;
		n->rate_since_ms = now;
		n->stages_last = n->stages_now;
		n->stages_now = (struct hw_stage_sums){0};
	}
	if (n->cfg.role == HW_ROLE_PRIMARY)
		hw__primary_tick(n);
	else
		hw__standby_tick(n);
	hw__audit_tick(n); /* every role: refusal counts close when their minute ends */
	hw__election_tick(n);
	beat_clients(n, now);
	close_late_hellos(n, now);
	for (int repl = 0; repl < 2; repl++)
		hw_port_logs_flush(&n->port_logs[repl], now);
}

static void signal_cb(void *arg)
{
	struct hw_node *n = arg;
	hw_log("stopping", "reason=signal");
	hw_loop_stop(n->loop);
}

/* ---- public API --------------------------------------------------------------------- */

/* A node whose storage failed takes no more flushes: it acknowledges nothing, and the
 * role it holds may never have started on its core (a step-down or a promotion cut short
 * by the store's failure leaves the other core stale). A flush of its last batch lands
 * after that (the log is a thread of its own). */
static void node_wal_cb(void *arg, uint64_t durable, int rc)
{
	struct hw_node *n = arg;
	if (n->failed != 0 && rc == 0)
		return;
	if (n->cfg.role == HW_ROLE_PRIMARY)
		hw__primary_wal_cb(n, durable, rc);
	else
		hw__standby_wal_cb(n, durable, rc);
}

int hw__node_wal_start(struct hw_node *n)
{
	if (n->wal_started)
		return 0;
	int rc = hw_wal_start(n->wal, n->loop, node_wal_cb, n);
	n->wal_started = rc == 0;
	return rc;
}

bool hw__node_wal_room(struct hw_node *n)
{
	const size_t job = HW_BATCH_BYTES_MAX + (size_t)HW_BATCH_RECORDS_MAX * 96u;
	return hw_wal_pending(n->wal) + job <= HW_WAL_PENDING_MAX;
}

int hw__node_writer_stop(struct hw_node *n, const char *what)
{
	hw_writer_stop(n->writer);
	n->writer = NULL;
	int rc = hw_store_failure(n->store);
	if (rc != 0)
		hw__node_exit_failed(n, rc, what);
	return rc;
}

void hw__node_exit_failed(struct hw_node *n, int rc, const char *what)
{
	hw__node_storage_failed(n, rc, what);
	hw_log("node_exiting", "in=%s code=%s what=\"%s\"", what, hw_errname(rc),
	       "a flush or write of its store or log failed: a restart recovers from what was "
	       "flushed (the log holds what the store had not)");
	hw_loop_stop(n->loop);
}

void hw__node_refused(struct hw_node *n, int code, const char *what)
{
	n->last_refusal.code = code;
	snprintf(n->last_refusal.what, sizeof n->last_refusal.what, "%s", what);
}

void hw__node_storage_failed(struct hw_node *n, int rc, const char *what)
{
	if (n->failed != 0)
		return;
	if (rc == HW_ESTORE_FAILED && n->store != NULL && hw_store_failure(n->store) != 0)
		rc = hw_store_failure(
			n->store); /* the cause (its flusher's), not "failed earlier" */
	n->failed = n->exit_rc = rc;
	hw_log("storage_failed", "in=%s code=%s what=\"%s\" action=stop_acknowledging", what,
	       hw_errname(rc), hw_strerror(rc));
	/* whatever waited for a store commit will not get it */
	hw__snapshot_on_committed(n);
	hw__digest_on_committed(n);
}

/* Recovery: entries the log flushed that the store lost in a crash (it commits without
 * flushing its meta page) go back in, in batches, up to a block (node_block.c). */
struct recovery {
	struct hw_node *node;
	struct hw_store *store;
	uint8_t *buf;
	size_t used;
	const uint8_t *ptr[1024];
	size_t len[1024];
	size_t n;
	uint64_t replayed;
	bool blocked; /* the replay stopped at the entry the apply is blocked at */
};

bool hw__node_skips_validation(const struct hw_node *n)
{
	return n->cfg.role != HW_ROLE_VAULT;
}

/* The batch into the store, held, as the writer takes it on this node: validated again
 * only on a vault (hw__node_skips_validation). The log checked every entry's hash as it
 * read it back (engine/io/wal.h). */
static int recovery_append(struct recovery *r, struct hw_reject *rej)
{
	if (r->n == 0)
		return 0;
	if (hw__node_skips_validation(r->node))
		return hw_store_append_primary(r->store, r->ptr, r->len, r->n, rej);
	return hw_store_append_hold(r->store, r->ptr, r->len, r->n, rej);
}

/* The batch into the store, committed. An entry it refuses (the store takes those before
 * it) blocks the apply there on a node that follows, and the replay stops (1); a
 * primary's own log never holds one: the start fails. */
static int recovery_flush(struct recovery *r)
{
	struct hw_reject rej;
	struct hw_head before, after;
	hw_store_head(r->store, &before);
	int rc = recovery_append(r, &rej);
	int crc = hw_store_failure(r->store) == 0 ? hw_store_commit(r->store) : 0;
	hw_store_head(r->store, &after);
	size_t at = (size_t)(after.lsn - before.lsn);
	r->replayed += at;
	if (crc == 0 && hw_is_reject(rc) && hw__block_follows(r->node)) {
		HW_ASSERT(at < r->n);
		rc = hw__block_set(r->node, r->ptr[at], r->len[at], &rej);
		r->blocked = rc == 0;
	} else if (crc == 0 && rc != 0) {
		hw_log("recovery_refused", "code=%s field=%s rule=\"%s\"", hw_errname(rc), rej.field,
		       rej.rule);
	}
	r->n = 0;
	r->used = 0;
	return crc != 0 ? crc : r->blocked ? 1 : rc;
}

static int recovery_cb(void *arg, const uint8_t *e, size_t len)
{
	struct recovery *r = arg;
	r->blocked = hw__block_at(r->node, e, len);
	if (r->blocked)
		return 1;                                 /* it and what follows stay in the log */
	int held = hw__vault_hold_young(r->node, e, len); /* a vault's delay holds at start too */
	if (held != 0)
		return held < 0 ? held : 0;
	if (r->n == 1024 || r->used + len > HW_BATCH_BYTES_MAX) {
		int rc = recovery_flush(r);
		if (rc != 0)
			return rc;
	}
	memcpy(r->buf + r->used, e, len);
	r->ptr[r->n] = r->buf + r->used;
	r->len[r->n++] = len;
	r->used += len;
	return 0;
}

/* Replay the log past the store's head into it (recovery_cb), up to a block; a block
 * the replay did not meet is another log's (hw__block_drop). 0 or the code. */
static int recovery_run(struct hw_node *n, const struct hw_head *wal_last, struct recovery *r)
{
	struct hw_head head;
	hw_store_head(n->store, &head);
	int rc = hw__block_load(n);
	if (rc == 0 && wal_last->lsn > head.lsn)
		rc = hw_wal_replay(n->wal, head.lsn, recovery_cb, r);
	if (rc == 0 || rc == 1) /* the batch before the end, or before the block */
		rc = recovery_flush(r);
	if (rc == 1) /* stopped at the block */
		return 0;
	return rc == 0 ? hw__block_drop(n) : rc;
}

static int recover(struct hw_node *n)
{
	char dir[HW_PATH_CHARS_MAX + 8];
	snprintf(dir, sizeof dir, "%s/wal", n->cfg.data_dir);
	struct hw_head wal_last, head;
	int rc = hw_wal_open(dir, &n->wal, &wal_last);
	if (rc != 0)
		return rc;
	struct recovery *r = calloc(1, sizeof *r);
	uint8_t *buf = malloc(HW_BATCH_BYTES_MAX + HW_ENTRY_BYTES_MAX);
	if (r == NULL || buf == NULL) {
		free(r);
		free(buf);
		return HW_ENOMEM;
	}
	*r = (struct recovery){.node = n, .store = n->store, .buf = buf};
	rc = recovery_run(n, &wal_last, r);
	if (rc == 0)
		rc = hw_store_sync(n->store);
	if (r->replayed > 0)
		hw_log("recovered", "from=wal entries=%llu code=%s", (unsigned long long)r->replayed,
		       hw_errname(rc));
	free(buf);
	free(r);
	hw_store_head(n->store, &head);
	/* A vault's held entries, and the entries past a block, stay in the log, which goes
	 * on after them. */
	if (n->held_tail != NULL || n->block.lsn != 0)
		return rc;
	/* Everything is in the store and flushed: the log starts again after its head. */
	return rc == 0 ? hw_wal_reset(n->wal, &head) : rc;
}

/* Open (making it if need be, but never in the place of a snapshot install a crash cut
 * short: hw__snapshot_data_dir_check) the store in data_dir and its write-ahead log, and
 * bring the store up to the log. Also after a snapshot replaced the data directory. */
int hw__node_open_store(struct hw_node *n)
{
	int rc = hw__snapshot_data_dir_check(n); /* never an empty store in a cut swap's place */
	if (rc == 0)
		rc = hw_store_init(n->cfg.data_dir);
	if (rc != 0 && rc != HW_EEXIST)
		return rc;
	n->wal_started = false; /* a new log: its flusher starts with the role */
	struct hw_store_opts o = {.log_ahead = true,
				  .log_keep_records = n->cfg.log_keep_records,
				  .log_keep_days = n->cfg.retention.log_days};
	rc = hw_store_open(n->cfg.data_dir, &o, &n->store);
	return rc == 0 ? recover(n) : rc;
}

/* Bind and listen on the client port (repl false) or the replication port, holding at most
 * what the descriptor budget gives it (start_ports accepts there); on failure *at names
 * its key. */
static int listen_port(struct hw_node *n, bool repl, struct hw_start_at *at)
{
	const char *addr = repl ? n->cfg.listen : n->cfg.client;
	struct hw_listener **l = repl ? &n->repl_listener : &n->client_listener;
	uint32_t max = n->fds.conns_max[repl];
	int rc = hw_listen_bind_patiently(n->ring, addr, max,
					  repl ? on_repl_accept : on_client_accept, n, l);
	if (rc != 0) {
		hw_log("listen_failed", "port=%s addr=%s code=%s", repl ? "replication" : "client",
		       addr, hw_errname(rc));
		*at = (struct hw_start_at){repl ? "node.listen" : "node.client", addr};
	} else {
		hw_port_logs_listen(&n->port_logs[repl], *l);
	}
	return rc;
}

/* Accept on the ports open_ports bound, once the store is open: a connect made while it
 * opens (a recovery) waits in the kernel's backlog until then. */
static void start_ports(struct hw_node *n)
{
	struct hw_listener *ls[2] = {n->client_listener, n->repl_listener};
	for (int i = 0; i < 2; i++) {
		if (ls[i] == NULL)
			continue;
		hw_listener_start(ls[i]);
		hw_log("listening", "port=%s addr=%s conns_max=%u", i ? "replication" : "client",
		       hw_listener_addr(ls[i]), n->fds.conns_max[i]);
	}
}

/* A vault may take no connection at all; with failover every node listens for
 * replication (voters reach each other there, and any node may become the primary its
 * standbys connect to), else a primary that has standbys, vaults or voters (the config
 * checks that it names listen then). Each port wants its sessions and HW_REFUSING_MAX
 * more, which the descriptor budget may cut. */
static int open_ports(struct hw_node *n, struct hw_start_at *at)
{
	bool client = n->cfg.role != HW_ROLE_VAULT || n->cfg.client[0] != '\0';
	bool repl =
		(n->cfg.role == HW_ROLE_PRIMARY || n->cfg.failover.on) && n->cfg.listen[0] != '\0';
	const uint32_t want[2] = {
		[HW_FDS_CLIENT] =
			client ? HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX + HW_REFUSING_MAX : 0,
		[HW_FDS_REPL] = repl ? HW_REPL_SESSIONS_MAX + HW_REFUSING_MAX : 0};
	int rc = hw_fds_budget_now(want, &n->fds);
	if (rc != 0) {
		hw_log("fd_limit_low",
		       "fd_limit=%llu fd_open=%llu fd_reserve=%u code=%s what=\"%s\"",
		       (unsigned long long)n->fds.limit, (unsigned long long)n->fds.open,
		       HW_FDS_RESERVED, hw_errname(rc),
		       "the descriptor limit leaves too few for connections: raise LimitNOFILE "
		       "(systemd) or ulimit -n");
		return rc;
	}
	if (client)
		rc = listen_port(n, false, at);
	if (rc == 0 && repl)
		rc = listen_port(n, true, at);
	return rc;
}

/* Start n: its loop and ring, then its ports bound and listening, then its store (made if
 * need be), then its signals, accepting on its ports, and its role. A port that cannot be
 * had (an address in use, a unix socket's directory missing) fails a first start without
 * leaving a new store behind; until the store is open a connect waits in the backlog, and
 * SIGINT or SIGTERM ends the process as their default does (a long recovery can be
 * stopped). On failure *at names the config key whose value failed, when one did. */
static int node_start(struct hw_node *n, const struct hw_channel_config *cc, struct hw_start_at *at)
{
	hw_port_logs_init(&n->port_logs[0], "client");
	hw_port_logs_init(&n->port_logs[1], "replication");
	n->acts_cap = HW_ACTS_MIN(n->cfg.waiters_max);
	n->acts = calloc(n->acts_cap, sizeof *n->acts);
	if (n->acts == NULL)
		return HW_ENOMEM;
	int rc = hw_loop_new(&n->loop);
	if (rc == 0)
		rc = hw_ring_new(n->loop, &n->ring);
	if (rc == 0)
		rc = hw_ring_set_channel(n->ring, cc);
	if (rc == 0)
		rc = hw_timer_new(n->loop, 10, 10, tick_cb, n, &n->tick);
	if (rc == 0)
		rc = open_ports(n, at);
	if (rc != 0)
		return rc;
	rc = hw__node_open_store(n);
	if (rc != 0)
		*at = (struct hw_start_at){"node.data_dir", n->cfg.data_dir};
	if (rc == 0) /* after: a cut swap's copy is finished first, not removed */
		hw__snapshot_clear_left(n);
	if (rc == 0)
		rc = hw__said_drop(n);
	if (rc == 0 && hw_fs_mount_root(n->cfg.data_dir))
		hw_log("data_dir_mount_point", "dir=%s what=\"%s\"", n->cfg.data_dir,
		       "a snapshot install renames the data directory, which a mount point refuses "
		       "(EBUSY): this node can catch up from its primary's log only; make it a "
		       "directory inside the volume");
	if (rc == 0)
		rc = hw_loop_on_signal(n->loop, SIGINT, signal_cb, n);
	if (rc == 0)
		rc = hw_loop_on_signal(n->loop, SIGTERM, signal_cb, n);
	if (rc == 0)
		start_ports(n);
	if (rc == 0)
		rc = hw__election_start(n); /* with failover, every node starts as a standby */
	if (rc == 0)
		rc = n->cfg.role == HW_ROLE_PRIMARY ? hw__primary_start(n) : hw__standby_start(n);
	return rc;
}

/* What a node needs of a config beyond what parses (engine/config.c also serves the
 * witness and the CLI), and with [failover] a plan its targets allow: checked before
 * anything is written in its data_dir. */
static int node_config_check(const struct hw_config *c, const char *path, char *err, size_t cap)
{
	if (c->role == HW_ROLE_WITNESS)
		snprintf(err, cap, "%s: 'node.role' is witness: run it with `hawser witness`",
			 path);
	else if (c->role != HW_ROLE_VAULT && c->client[0] == '\0')
		snprintf(err, cap,
			 "%s: missing key 'node.client' (required for a %s: clients%s "
			 "connect there)",
			 path, c->role == HW_ROLE_PRIMARY ? "primary" : "standby",
			 c->failover.on ? ", and the other voters," : "");
	else if (c->failover.on)
		return hw_voters_plan_check(c, path, err, cap);
	else
		return 0;
	return HW_ECONFIG;
}

/* The descriptor budget in a node's start line (engine/fds.h). */
#define FDS_FMT "fd_limit=%llu fd_open=%llu fd_reserve=%u client_conns_max=%u repl_conns_max=%u"
#define FDS_ARGS(n)                                                                                \
	(unsigned long long)(n)->fds.limit, (unsigned long long)(n)->fds.open, HW_FDS_RESERVED,    \
		(n)->fds.conns_max[HW_FDS_CLIENT], (n)->fds.conns_max[HW_FDS_REPL]

/* One node per process: SIGINT and SIGTERM stop it (the loop's handler is the process's)
 * and its log lines carry its id (base/log.h hw_log_node, the process's too). Held from
 * the start of hw_node_open to the end of hw_node_close, so a second open changes nothing
 * of the first's. */
static atomic_bool node_in_process;

static int node_claim(const char *config_path)
{
	if (!atomic_exchange(&node_in_process, true))
		return 0;
	fprintf(stderr,
		"hawser: %s: another node is open in this process: one node per process (its "
		"signal handlers and log name are the process's); close it first\n",
		config_path);
	return HW_EBUSY;
}

/* The "started" line of a node hw_node_open started: its role, store and descriptors. */
static void log_started(struct hw_node *n)
{
	struct hw_head h;
	hw_store_head(n->store, &h);
	if (n->cfg.role == HW_ROLE_PRIMARY)
		hw_log("started",
		       "role=primary data_dir=%s lsn=%llu epoch=%llu mode=%s k=%u standbys=%u "
		       "vaults=%u " FDS_FMT,
		       n->cfg.data_dir, (unsigned long long)h.lsn, (unsigned long long)n->epoch,
		       hw_mode_name(n->cfg.mode), n->cfg.k, n->cfg.n_standbys, n->cfg.n_vaults,
		       FDS_ARGS(n));
	else if (n->cfg.role == HW_ROLE_VAULT)
		hw_log("started",
		       "role=vault data_dir=%s lsn=%llu held_to=%llu apply_delay_ms=%lld "
		       "primary=%s " FDS_FMT,
		       n->cfg.data_dir, (unsigned long long)h.lsn,
		       (unsigned long long)hw__vault_held_lsn(n), (long long)n->cfg.apply_delay_ms,
		       n->cfg.primary, FDS_ARGS(n));
	else if (n->voters != NULL)
		hw_log("started",
		       "role=standby failover=on prefers=%s data_dir=%s lsn=%llu " FDS_FMT,
		       n->start_role == HW_ROLE_PRIMARY ? "primary" : "standby", n->cfg.data_dir,
		       (unsigned long long)h.lsn, FDS_ARGS(n));
	else
		hw_log("started", "role=standby data_dir=%s lsn=%llu primary=%s " FDS_FMT,
		       n->cfg.data_dir, (unsigned long long)h.lsn, n->cfg.primary, FDS_ARGS(n));
}

int hw_node_open(const char *config_path, struct hw_node **out)
{
	if (config_path == NULL || out == NULL)
		return -EINVAL;
	int claimed = node_claim(config_path);
	if (claimed != 0)
		return claimed;
	struct hw_node *n = calloc(1, sizeof *n);
	if (n == NULL) {
		atomic_store(&node_in_process, false);
		return HW_ENOMEM;
	}
	char err[512] = "";
	struct hw_identity id;
	struct hw_channel_config cc;
	int rc = hw_config_load(config_path, &n->cfg, err, sizeof err);
	if (rc == 0)
		hw_log_node(n->cfg.node_id); /* address_resolved lines say whose */
	if (rc == 0)
		rc = node_config_check(&n->cfg, config_path, err, sizeof err);
	if (rc == 0)
		rc = hw_config_resolve(&n->cfg, config_path, err, sizeof err);
	if (rc == 0)
		rc = hw_config_channel(&n->cfg, config_path, &id, &cc, err, sizeof err);
	if (rc != 0) {
		hw_config_perror(config_path, rc, err);
		free(n);
		atomic_store(&node_in_process, false);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&n->ext_mu, NULL);
	struct hw_start_at at = {0};
	rc = hw__audit_open(n, config_path, cc.insecure ? NULL : &id);
	if (rc == 0)
		rc = node_start(n, &cc, &at);
	if (!cc.insecure)
		hw_identity_wipe(&id);
	if (rc != 0) {
		hw_log_start_failed(rc, &at);
		n->exit_rc = rc; /* its stopped line says so too */
		hw_node_close(n);
		return rc;
	}
	log_started(n);
	hw__audit_start(n);
	*out = n;
	return 0;
}

/* Whether the calling thread runs n's loop now (hw_node_run): under ext_mu, as api.c
 * reads it. */
static void set_running(struct hw_node *n, bool running)
{
	pthread_mutex_lock(&n->ext_mu);
	n->running = running;
	n->run_thread = pthread_self();
	pthread_mutex_unlock(&n->ext_mu);
}

/* Whether this is n's first hw_node_run: a second found its ports closed by the first and
 * its submits refused, and ran a loop that served nothing until stopped. */
static bool first_run(struct hw_node *n)
{
	pthread_mutex_lock(&n->ext_mu);
	bool first = !n->ran;
	n->ran = true;
	pthread_mutex_unlock(&n->ext_mu);
	return first;
}

int hw_node_run(struct hw_node *n)
{
	if (n == NULL)
		return -EINVAL;
	if (!first_run(n))
		return -EALREADY;
	set_running(n, true);
	hw_loop_run(n->loop);
	/* nothing answers submits once the loop is gone: refuse new ones, fail what waits
	 * in the queue and what the primary took, here, on the loop's thread (a caller
	 * blocked in hw_node_submit_wait returns before hw_node_close) */
	hw__node_ext_close(n, HW_ECLOSED);
	if (n->cfg.role == HW_ROLE_PRIMARY)
		hw__primary_fail_taken(n);
	/* The connections' cancels must be submitted from this thread (the ring's single
	 * issuer): hw_node_close may run on another one. */
	hw_ring_close_all(n->ring);
	set_running(n, false);
	return n->exit_rc;
}

void hw_node_stop(struct hw_node *n)
{
	if (n == NULL)
		return;
	hw_loop_stop(n->loop);
}

/* Whether n may be freed now, and if so it is closing: not while hw_node_run runs, nor
 * while a close runs (a callback it runs may close too): the loop, or that close, would go
 * on with the node freed under it. */
static bool close_begins(struct hw_node *n)
{
	pthread_mutex_lock(&n->ext_mu);
	bool may = !n->running && !n->closing;
	n->closing = n->closing || may;
	pthread_mutex_unlock(&n->ext_mu);
	return may;
}

void hw_node_close(struct hw_node *n)
{
	if (n == NULL)
		return;
	if (!close_begins(n)) {
		fprintf(stderr, "hawser: hw_node_close while hw_node_run or another close runs "
				"(from a submit's callback, or another thread): ignored; stop the "
				"node (hw_node_stop) and close it once hw_node_run returned\n");
		return;
	}
	/* The writer finishes the commit under way; then the connections close (their
	 * callbacks still see the role's state); then the role lets go of its waiters. */
	hw_writer_stop(n->writer);
	n->writer = NULL;
	hw_wal_close(n->wal); /* flushes what is queued */
	n->wal = NULL;
	if (n->ring != NULL)
		hw_ring_free(n->ring); /* every session's on_close ran: the role's stop below
					* answers nobody through one */
	hw__snapshot_stop(n); /* joins a copy that still reads the store */
	hw__digest_stop(n);   /* joins a digest that still reads the store */
	hw__election_stop(n); /* after the ring: its links' callbacks ran */
	/* failover may have run either role (or both, one after the other) */
	if (n->cfg.role == HW_ROLE_PRIMARY)
		hw__primary_stop(n);
	hw__standby_stop(n);
	hw__drill_stop(n); /* its wait's timer, before the loop */
	if (n->tick != NULL)
		hw_timer_free(n->tick);
	if (n->loop != NULL)
		hw_loop_free(n->loop);
	hw_store_close(n->store);
	hw__audit_close(n);
	pthread_mutex_destroy(&n->ext_mu);
	sodium_memzero(&n->signer, sizeof n->signer);
	hw_log("stopped", "code=%s", hw_errname(n->exit_rc));
	free(n->acts);
	free(n);
	atomic_store(&node_in_process, false); /* after its last line: node_claim */
}
