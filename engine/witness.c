/* witness.c: the witness process (engine/witness.h). */
#include "engine/witness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "engine/config.h"
#include "engine/io/loop.h"
#include "engine/io/ring.h"
#include "engine/port.h"
#include "engine/resolve.h"
#include "engine/voters.h"
#include "hawser_limits.h"
#include "replica/store.h"
#include "wire.pb-c.h"

#define TICK_MS 10
/* Session slots: HW_WITNESS_SESSIONS_MAX open, and as many displaced ones still closing (a
 * newcomer takes a slot of its own before the one it displaced is gone). As many as the
 * listener may hold, so a connection accepted always finds a slot. */
#define SLOTS (2u * HW_WITNESS_SESSIONS_MAX)
/* Its sessions, as its log lines name them (port=). */
#define PORT_NAME "witness"

struct wsession {
	struct hw_witness *w;
	struct hw_conn *conn;
	uint32_t index;
	int voter;           /* -1 until its Hello named it */
	int64_t accepted_ms; /* loop time of its accept: its Hello is due HW_HELLO_WAIT_MS
			      * after (INT64_MAX once closed for it) */
	bool evicted;        /* closed, before its Hello, for a newer connection to a full
			      * witness: no longer counted in n_sessions */
};

struct hw_witness {
	struct hw_config cfg;
	struct hw_store *store;
	struct hw_loop *loop;
	struct hw_ring *ring;
	struct hw_listener *listener;
	struct hw_timer *tick;
	struct hw_voters *voters;
	struct wsession *sessions[SLOTS];
	uint32_t n_sessions; /* open, not displaced: HW_WITNESS_SESSIONS_MAX at most */
	/* Lines a flood of connections would write once per connection */
	struct hw_port_logs logs;    /* session_evicted, session_closed for a late Hello,
				      * frame_refused, peer_refused, channel_refused,
				      * channel_cut */
	struct hw_channel_config cc; /* [security], for witness_start (its identity on the
				      * caller's stack, wiped after) */
	int exit_rc;
};

static int send_frame_msg(struct hw_conn *c, enum hw_frame_type type, const void *msg)
{
	const ProtobufCMessage *m = msg;
	uint8_t buf[512];
	size_t len = protobuf_c_message_get_packed_size(m);
	if (len > sizeof buf)
		return HW_ETOOBIG;
	protobuf_c_message_pack(m, buf);
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	hw_frame_header(hdr, type, buf, (uint32_t)len);
	return hw_conn_send2(c, hdr, sizeof hdr, buf, len);
}

/* Tell c why, then close it once that is sent: a voter closes on the ERROR, but nothing
 * makes any other peer do so, and it would hold its session. */
static void refuse(struct hw_conn *c, int code, const char *why)
{
	Hawser__Wire__V1__Error e = HAWSER__WIRE__V1__ERROR__INIT;
	e.code = code;
	e.message = (char *)why;
	send_frame_msg(c, HW_FRAME_ERROR, &e);
	hw_conn_close_sent(c, code);
}

/* A voter's Hello: same cluster, a node of [failover] voters. Answered with ours. */
static int take_hello(struct wsession *s, const struct hw_frame *f)
{
	struct hw_witness *w = s->w;
	Hawser__Wire__V1__Hello *m = hawser__wire__v1__hello__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	int id = hw_voters_id(w->voters, m->node_id);
	int rc = 0;
	bool voter = m->protocol_version == 1 && strcmp(m->cluster_id, w->cfg.cluster_id) == 0 &&
		     m->role == HAWSER__WIRE__V1__ROLE__VOTER && id >= 0 &&
		     (uint32_t)id != w->cfg.failover.self;
	if (!voter ||
	    !hw_security_peer_is(&w->cfg.security, hw_conn_peer_key(s->conn), m->node_id)) {
		/* a flood of connections repeats it (anyone may say such a Hello to an insecure
		 * witness; with keys, any key pinned for a client or another node) */
		const char *port = hw_port_refused(&w->logs, hw_loop_now_ms(w->loop));
		if (port != NULL)
			hw_log("peer_refused", "peer=%s port=%s node=%s reason=%s",
			       hw_conn_peer(s->conn), port, m->node_id,
			       voter ? "key_not_that_node" : "not_a_voter");
		refuse(s->conn, voter ? HW_EAUTH : HW_ECLUSTER,
		       voter ? "this key is not pinned as that node's"
			     : "not a voter of this cluster");
	} else {
		/* A voter dials again when it lost its link; the old session may be half open
		 * (its host gone without a FIN): it goes, so such sessions cannot fill the
		 * table and keep every voter out. */
		for (uint32_t i = 0; i < SLOTS; i++)
			if (w->sessions[i] != NULL && w->sessions[i] != s &&
			    w->sessions[i]->voter == id)
				hw_conn_close(w->sessions[i]->conn, HW_ECLOSED);
		s->voter = id;
		hw_voters_send_hello(w->voters, s->conn);
	}
	hawser__wire__v1__hello__free_unpacked(m, NULL);
	return rc;
}

/* One frame of s (hw_frames_take): its hello, then election messages and HEARTBEATs
 * only (hw_voters_frame). */
static int session_take(void *arg, const struct hw_frame *f)
{
	struct wsession *s = arg;
	int rc;
	if (f->type == HW_FRAME_HELLO && s->voter < 0)
		rc = take_hello(s, f);
	else if (s->voter >= 0 && hw_voters_frame(f->type))
		rc = hw_voters_on_frame(s->w->voters, (uint32_t)s->voter, f);
	else
		rc = HW_EPROTOCOL;
	return rc;
}

static long session_on_data(struct hw_conn *c, void *arg, const uint8_t *buf, size_t len)
{
	struct hw_witness *w = ((struct wsession *)arg)->w;
	struct hw_frames_from from = {hw_conn_peer(c), w->logs.port, &w->logs.refused,
				      hw_loop_now_ms(w->loop), NULL}; /* no line on its close */
	return hw_frames_take(buf, len, &from, session_take, arg);
}

static void session_on_close(struct hw_conn *c, void *arg, int code)
{
	(void)c;
	(void)code;
	struct wsession *s = arg;
	s->w->sessions[s->index] = NULL;
	s->w->n_sessions -= !s->evicted;
	free(s);
}

static const struct hw_conn_ops session_ops = {
	.on_data = session_on_data,
	.on_close = session_on_close,
};

/* hw_port_unsaid_cb: whether session i has not said its Hello and may still be displaced
 * (not one displaced already, nor one closing: a refusal on its way, or its Hello late). */
static bool unsaid_cb(void *arg, uint32_t i, struct hw_port_unsaid *out)
{
	const struct hw_witness *w = arg;
	const struct wsession *s = w->sessions[i];
	if (s == NULL || s->voter >= 0 || s->evicted || hw_conn_closing(s->conn))
		return false;
	*out = (struct hw_port_unsaid){
		.conn = s->conn, .peer = hw_conn_peer(s->conn), .accepted_ms = s->accepted_ms};
	return true;
}

/* Every session is taken as c comes: one that has not said its Hello goes (hw_port_evict,
 * as on a node's replication port: voters dial, so one of c's own host at any age when
 * its host holds the most) and is counted no more, so a flood of silent connections
 * cannot keep a voter, and its vote, out until their Hellos are late. */
static void evict_unsaid(struct hw_witness *w, const struct hw_conn *c)
{
	const struct hw_port_view p = {.name = PORT_NAME,
				       .slots = SLOTS,
				       .own_age_ms = 0,
				       .unsaid = unsaid_cb,
				       .arg = w,
				       .every = &w->logs.evicted};
	int i = hw_port_evict(&p, c, hw_loop_now_ms(w->loop));
	if (i < 0)
		return;
	w->sessions[i]->evicted = true;
	w->n_sessions--;
}

static void on_accept(struct hw_listener *l, void *arg, struct hw_conn *c)
{
	(void)l;
	struct hw_witness *w = arg;
	uint32_t i = 0;
	while (i < SLOTS && w->sessions[i] != NULL)
		i++;
	if (i < SLOTS && w->n_sessions >= HW_WITNESS_SESSIONS_MAX)
		evict_unsaid(w, c);
	bool room = i < SLOTS && w->n_sessions < HW_WITNESS_SESSIONS_MAX;
	struct wsession *s = room ? calloc(1, sizeof *s) : NULL;
	if (s == NULL) {
		hw_conn_refuse(c, HW_EBUSY); /* session_ops would be called back with no session */
		return;
	}
	*s = (struct wsession){
		.w = w, .conn = c, .index = i, .voter = -1, .accepted_ms = hw_loop_now_ms(w->loop)};
	w->sessions[i] = s;
	w->n_sessions++;
	hw_conn_set_ops(c, &session_ops, s);
}

/* ---- the core's needs ------------------------------------------------------------- */

static int persist_cb(void *arg, const struct hw_el_hard *hard)
{
	struct hw_witness *w = arg;
	int rc = hw_voters_save_hard(w->store, hard);
	if (rc != 0) {
		w->exit_rc = rc;
		hw_log("storage_failed", "in=store code=%s what=\"%s\" action=stop", hw_errname(rc),
		       hw_strerror(rc));
		hw_loop_stop(w->loop);
	}
	return rc;
}

static void act_cb(void *arg, const struct hw_el_act *a)
{
	(void)arg;
	hw_log("witness_action_ignored", "type=%d", (int)a->type); /* a witness never leads */
}

/* Close every session that has not said its Hello in time (HW_HELLO_WAIT_MS; at three
 * quarters of the sessions, HW_HELLO_BUSY_MS), as a node does its own; one still in its
 * channel's handshake is the ring's to time out. */
static void close_late_hellos(struct hw_witness *w)
{
	int64_t now = hw_loop_now_ms(w->loop);
	for (uint32_t i = 0; i < SLOTS; i++) {
		struct wsession *s = w->sessions[i];
		if (s == NULL || s->voter >= 0 || s->evicted ||
		    !hw_conn_hello_late(s->conn, w->cfg.security.insecure, s->accepted_ms, now,
					w->n_sessions, HW_WITNESS_SESSIONS_MAX))
			continue;
		hw_port_close_late(s->conn, PORT_NAME, s->accepted_ms, now, &w->logs.closed);
		s->accepted_ms = INT64_MAX; /* its on_close comes later: not looked at again */
	}
}

static void tick_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct hw_witness *w = arg;
	hw_voters_tick(w->voters, true);
	close_late_hellos(w);
	hw_port_logs_flush(&w->logs, hw_loop_now_ms(w->loop));
}

static void signal_cb(void *arg)
{
	struct hw_witness *w = arg;
	hw_log("stopping", "reason=signal");
	hw_loop_stop(w->loop);
}

/* The store in data_dir and the hard state in it: a new store is a new cluster's witness
 * (fresh state, saved at once); an existing store without the state has lost it. */
static int open_state(struct hw_witness *w, struct hw_el_hard *hard, bool *lost)
{
	int made = hw_store_init(w->cfg.data_dir);
	if (made != 0 && made != HW_EEXIST)
		return made;
	int rc = hw_store_open(w->cfg.data_dir, NULL, &w->store);
	if (rc != 0)
		return rc;
	*lost = false;
	if (made == 0) {
		*hard = HW_EL_HARD_FRESH;
		return hw_voters_save_hard(w->store, hard);
	}
	rc = hw_voters_load_hard(w->store, hard);
	if (rc == HW_ENOTFOUND) {
		*lost = true;
		hw_log("election_state_lost", "what=\"%s\"",
		       "the store holds no election state: knowing no committed LSN, this "
		       "witness refuses votes until a primary's lease request reaches it");
		return 0;
	}
	return rc;
}

static uint64_t seed_of(const char *id)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h ^ hw_mono_ns();
}

/* As a node starts (engine/node.c node_start): its port bound and listening before the
 * store is opened (and, on a first start, made), so a port that cannot be had leaves no
 * new store behind; its signals, and accepting, once the state is read. On failure *at names the
 * config key whose value failed, if one did. */
static int witness_start(struct hw_witness *w, struct hw_start_at *at)
{
	struct hw_el_config ec;
	struct hw_tg_plan plan;
	int rc = hw_voters_plan(&w->cfg, &ec, &plan);
	if (rc != 0) {
		fprintf(stderr, "hawser witness: the targets cannot be met: %s\n", plan.why);
		hw_log("plan_refused", "code=%s why=\"%s\"", hw_errname(rc), plan.why);
		return rc;
	}
	hw_port_logs_init(&w->logs, PORT_NAME);
	rc = hw_loop_new(&w->loop);
	if (rc == 0)
		rc = hw_ring_new(w->loop, &w->ring);
	if (rc == 0)
		rc = hw_ring_set_channel(w->ring, &w->cc);
	if (rc == 0)
		rc = hw_timer_new(w->loop, TICK_MS, TICK_MS, tick_cb, w, &w->tick);
	/* its sessions, and as many displaced or refused still closing */
	if (rc == 0 && (rc = hw_listen_bind_patiently(w->ring, w->cfg.listen, SLOTS, on_accept, w,
						      &w->listener)) != 0)
		*at = (struct hw_start_at){"node.listen", w->cfg.listen};
	if (rc == 0)
		hw_port_logs_listen(&w->logs, w->listener);
	struct hw_el_hard hard;
	bool lost;
	if (rc == 0 && (rc = open_state(w, &hard, &lost)) != 0)
		*at = (struct hw_start_at){"node.data_dir", w->cfg.data_dir};
	if (rc == 0)
		rc = hw_loop_on_signal(w->loop, SIGINT, signal_cb, w);
	if (rc == 0)
		rc = hw_loop_on_signal(w->loop, SIGTERM, signal_cb, w);
	if (rc != 0)
		return rc;
	struct hw_voters_config vc = {.cfg = &w->cfg,
				      .el = ec,
				      .hard = lost ? NULL : &hard,
				      .seed = seed_of(w->cfg.node_id),
				      .persist_cb = persist_cb,
				      .act_cb = act_cb,
				      .arg = w};
	rc = hw_voters_new(w->loop, w->ring, &vc, &w->voters);
	if (rc != 0)
		return rc;
	hw_listener_start(w->listener);
	hw_log("started", "role=witness data_dir=%s listen=%s epoch=%llu voters=%u rpo_ms=%lld",
	       w->cfg.data_dir, hw_listener_addr(w->listener), (unsigned long long)hard.epoch,
	       w->cfg.failover.n_voters, (long long)w->cfg.failover.rpo_ms);
	return 0;
}

int hw_witness_open(const char *config_path, struct hw_witness **out)
{
	struct hw_witness *w = calloc(1, sizeof *w);
	if (w == NULL)
		return HW_ENOMEM;
	char err[512] = "";
	struct hw_identity id;
	int rc = hw_config_load(config_path, &w->cfg, err, sizeof err);
	if (rc == 0)
		hw_log_node(w->cfg.node_id); /* address_resolved lines say whose */
	if (rc == 0 && w->cfg.role != HW_ROLE_WITNESS) {
		snprintf(err, sizeof err, "%s: 'node.role' must be witness for `hawser witness`",
			 config_path);
		rc = HW_ECONFIG;
	}
	if (rc == 0)
		rc = hw_voters_plan_check(&w->cfg, config_path, err, sizeof err);
	if (rc == 0)
		rc = hw_config_resolve(&w->cfg, config_path, err, sizeof err);
	if (rc == 0)
		rc = hw_config_channel(&w->cfg, config_path, &id, &w->cc, err, sizeof err);
	if (rc != 0) {
		hw_config_perror(config_path, rc, err);
		free(w);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	struct hw_start_at at = {0};
	rc = witness_start(w, &at);
	if (!w->cc.insecure)
		hw_identity_wipe(&id);
	if (rc != 0) {
		hw_log_start_failed(rc, &at);
		w->exit_rc = rc; /* its stopped line says so too */
		hw_witness_close(w);
		return rc;
	}
	*out = w;
	return 0;
}

int hw_witness_run(struct hw_witness *w)
{
	hw_loop_run(w->loop);
	return w->exit_rc;
}

void hw_witness_close(struct hw_witness *w)
{
	if (w == NULL)
		return;
	if (w->ring != NULL)
		hw_ring_free(w->ring); /* closes sessions and links: their callbacks run */
	hw_voters_free(w->voters);
	if (w->tick != NULL)
		hw_timer_free(w->tick);
	if (w->loop != NULL)
		hw_loop_free(w->loop);
	hw_store_close(w->store);
	hw_log("stopped", "code=%s", hw_errname(w->exit_rc));
	free(w);
}
