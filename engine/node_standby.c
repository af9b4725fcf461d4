/* node_standby.c: a standby node: connects to its primary, takes the entries it streams,
 * has the writer check, store and apply them, and acknowledges what it received and
 * what is durable. It refuses entries that do not continue its chain, and says so. A
 * vault runs this too, with the differences in node_vault.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "engine/node_int.h"
#include "replica/entry.h"
#include "wire.pb-c.h"



static void connect_primary(struct hw_node *n);

/* Entries wait in the filling job until there are this many, the next tick, or someone
 * waits for the store (a submit in mode applied, a hello, a full job). The log, not the
 * store, makes them durable and acked; each job costs the store writer a wake-up, at
 * 32 x 1 one per 8 entries (docs/benchmarks.md). The store then
 * lags the log by at most a tick more. */
#define HW_STANDBY_APPLY_ENTRIES 64u

/* Hand the filling job to an idle writer: when it is big enough, or when asked (now). */
static void kick_apply(struct hw_node *n, bool now)
{
	if (n->writer == NULL) /* stopped for good: the node exits (hw__node_writer_stop) */
		return;
	const struct hw_job *j = hw_writer_filling(n->writer);
	now = now || n->hello_pending || n->cfg.role == HW_ROLE_VAULT;
	if (j->n > 0 && !n->failed && hw_writer_idle(n->writer) &&
	    (now || j->n >= HW_STANDBY_APPLY_ENTRIES))
		hw_writer_kick(n->writer);
}

static void send_ack(struct hw_node *n, const struct hw_pos *pos)
{
	if (n->primary_conn == NULL || !n->primary_ready)
		return;
	Hawser__Wire__V1__Ack m = HAWSER__WIRE__V1__ACK__INIT;
	m.epoch = n->epoch;
	m.received = pos->received;
	m.durable = pos->durable;
	m.applied = pos->applied;
	m.time_ms = hw_wall_ms();
	hw__node_send_msg(n->primary_conn, HW_FRAME_ACK, &m);
}

void hw__standby_act(struct hw_node *n, const struct hw_act *a)
{
	switch (a->type) {
	case HW_ACT_WRITE:
		kick_apply(n, false);
		break;
	case HW_ACT_ACK:
		send_ack(n, &a->pos);
		break;
	case HW_ACT_DROP:
		if (n->primary_conn != NULL) {
			hw_log("primary_dropped", "code=%s", hw_errname(a->code));
			hw_conn_close(n->primary_conn, a->code);
		}
		break;
	default:
		HW_ASSERT(!"primary action on a standby");
	}
}

/* Catch-up progress (docs/operations.md): from the primary's hello until this standby is
 * durable at the last LSN the primary told it of (target, when above the one known), a
 * catchup_progress line at most every HW_PROGRESS_MS, then catchup_done. Called where
 * durable moves or entries come; a standby that is level logs nothing. */
static void catchup_note(struct hw_node *n, uint64_t target)
{
	struct hw_catchup *c = &n->catchup;
	if (!c->on)
		return;
	c->target = target > c->target ? target : c->target;
	uint64_t lsn = n->sb.pos.durable;
	int64_t now = hw_mono_ms();
	if (lsn >= c->target) {
		hw_log("catchup_done", "lsn=%llu seconds=%.3f", (unsigned long long)lsn,
		       (double)(now - c->start_ms) / 1000.0);
		c->on = false;
		return;
	}
	if (now - c->mark_ms < HW_PROGRESS_MS)
		return;
	uint64_t moved = lsn > c->mark_lsn ? lsn - c->mark_lsn : 0;
	hw_log("catchup_progress", "lsn=%llu of=%llu rate=%.0f", (unsigned long long)lsn,
	       (unsigned long long)c->target, (double)moved * 1000.0 / (double)(now - c->mark_ms));
	c->mark_lsn = lsn;
	c->mark_ms = now;
}

/* Check that the entries of an APPEND body continue our log's chain (each entry's own
 * hash, its LSN, its link to the one before) and count them. 0 or the code. */
static int check_entries(struct hw_node *n, const uint8_t *p, size_t len, uint32_t count,
			 uint64_t *first, uint64_t *last, uint64_t *last_epoch)
{
	struct hw_head h = *hw_wal_last(n->wal);
	size_t off = 0;
	*first = h.lsn + 1;
	for (uint32_t i = 0; i < count; i++) {
		struct hw_entry e;
		size_t el = len - off < HW_ENTRY_HEADER_BYTES ? 0 : hw_entry_len(p + off);
		if (el == 0 || el > len - off || hw_entry_decode(p + off, el, &e) != 0)
			return HW_ECORRUPT;
		if (e.lsn != h.lsn + 1)
			return HW_ELSN;
		if (memcmp(e.prev_hash, h.hash, HW_HASH_BYTES) != 0)
			return HW_ECHAIN;
		h.lsn = e.lsn;
		memcpy(h.hash, e.hash, HW_HASH_BYTES);
		*last_epoch = e.epoch;
		off += el;
	}
	*last = h.lsn;
	return off == len ? 0 : HW_EFRAME;
}

/* Take an APPEND: check it continues our chain, hand it to the log (durability) and to
 * the writer (apply). Returns 0, 1 when either has no room (the frame stays unread), or
 * a code that closes the connection. */
static int take_append(struct hw_node *n, const struct hw_frame *f)
{
	struct hw_append_hdr ah;
	if (hw_append_hdr_get(f->body, f->len, &ah) != 0 || ah.count == 0 ||
	    ah.count > HW_BATCH_RECORDS_MAX)
		return HW_EFRAME; /* more than a batch could never be taken: refuse, do not wait */
	int erc = hw__election_primary_frame(n, ah.epoch, true);
	if (erc != 0)
		return erc;
	const uint8_t *p = f->body + HW_APPEND_HEADER_BYTES;
	size_t len = f->len - HW_APPEND_HEADER_BYTES;
	struct hw_job *j = hw_writer_filling(n->writer);
	bool vault = n->cfg.role == HW_ROLE_VAULT; /* holds them instead (node_vault.c) */
	if (vault ? !hw__vault_room(n)
		  : j->n + ah.count > HW_BATCH_RECORDS_MAX || !hw_job_fits(j, len)) {
		kick_apply(n, true); /* its DONE resumes the connection */
		return 1;
	}
	if (!hw__node_wal_room(n))
		return 1;
	uint64_t first, last, last_epoch = 0;
	int rc = check_entries(n, p, len, ah.count, &first, &last, &last_epoch);
	if (rc != 0) {
		hw_log("append_refused", "code=%s after_lsn=%llu what=\"%s\"", hw_errname(rc),
		       (unsigned long long)hw_wal_last(n->wal)->lsn,
		       "entries do not continue this standby's chain; nothing applied");
		return rc;
	}
	rc = hw_wal_append(n->wal, p, len, last);
	if (rc != 0) {
		hw__node_storage_failed(n, rc, "wal");
		return rc;
	}
	n->last_epoch = last_epoch;
	if (vault)
		rc = hw__vault_hold(n, p, len, ah.count, last);
	if (rc != 0) { /* logged but not held: the store could not catch up with the log */
		hw__node_storage_failed(n, rc, "vault");
		return rc;
	}
	for (size_t off = 0; !vault && off < len;) {
		size_t el = hw_entry_len(p + off);
		hw_job_add(j, p + off, el);
		off += el;
	}
	bool receipt = (ah.flags & HW_APPEND_NO_RECEIPT) == 0;
	HW_CORE(n, hw_standby_on_entries(&n->sb, first, last, ah.primary_durable, receipt,
					  hw__node_now(n), acts));
	if (vault)
		hw__vault_release(n);
	catchup_note(n, ah.primary_durable);
	return 0;
}

/* Whether id may be this node's primary: the id node.primary names or the voters
 * elected; with [failover] and no primary known yet (node.primary a bare hint), any
 * other data node among the voters. */
static bool primary_id_ok(const struct hw_node *n, const char *id)
{
	if (n->cfg.primary_id[0] != '\0')
		return strcmp(id, n->cfg.primary_id) == 0;
	const struct hw_failover *f = &n->cfg.failover;
	for (uint32_t i = 0; f->on && i < f->n_voters; i++)
		if (i != f->self && i != f->witness && strcmp(f->voters[i].id, id) == 0)
			return true;
	return n->cfg.security.insecure;
}

/* The peer at the primary's address holds the key pinned as a node that may be this
 * node's primary: checked before any frame of it counts (a hello, but also a REJOIN or
 * an ERROR, which come instead of one), so that no other pinned key, a client's say,
 * can stand in for the primary (docs/security.md). */
static bool primary_key_ok(struct hw_node *n)
{
	const struct hw_security *s = &n->cfg.security;
	if (s->insecure)
		return true;
	const uint8_t *key = hw_conn_peer_key(n->primary_conn);
	for (uint32_t i = 0; key != NULL && i < s->n_peers; i++)
		if (memcmp(s->peers[i], key, HW_CHANNEL_KEY_BYTES) == 0 &&
		    primary_id_ok(n, s->peer_names[i]))
			return true;
	hw__node_key_refused(n, n->primary_conn, "not_the_primary", "primary",
			     n->cfg.primary_id[0] != '\0' ? n->cfg.primary_id : "a voter");
	return false;
}

static int take_primary_hello(struct hw_node *n, const struct hw_frame *f)
{
	Hawser__Wire__V1__Hello *m = hawser__wire__v1__hello__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	int rc = 0;
	if (m->protocol_version != 1 || strcmp(m->cluster_id, n->cfg.cluster_id) != 0 ||
	    m->role != HAWSER__WIRE__V1__ROLE__PRIMARY) {
		rc = HW_ECLUSTER;
	} else if (!primary_id_ok(n, m->node_id) ||
		   !hw__node_peer_is(n, n->primary_conn, m->node_id)) {
		rc = HW_EAUTH;
	} else if ((rc = hw__election_primary_frame(n, m->epoch, false)) != 0) {
		/* a primary of an older epoch: refused */
	} else if ((rc = hw__said_save(n, true)) != 0) { /* before anything it says is heard */
		hw__node_storage_failed(n, rc, "primary.said");
	} else {
		snprintf(n->primary_id, sizeof n->primary_id, "%s", m->node_id);
		n->epoch = m->epoch;
		n->primary_ready = true;
		n->other_chain = false; /* a refused snapshot is this connection's to judge */
		n->last_refusal.code = 0; /* following again */
		hw__rejoin_free(n);       /* a later refusal is judged anew */
		n->reconnect_ms = HW_RECONNECT_MIN_MS;
		n->refusal = (struct hw_repeat){0}; /* a refusal after this is news */
		hw_standby_on_connect(&n->sb, hw__node_now(n));
		hw_log("following", "primary=%s its_lsn=%llu our_lsn=%llu epoch=%llu", m->node_id,
		       (unsigned long long)m->last_lsn, (unsigned long long)n->sb.pos.durable,
		       (unsigned long long)m->epoch);
		int64_t now = hw_mono_ms();
		n->catchup = (struct hw_catchup){.on = m->last_lsn > n->sb.pos.durable,
						 .target = m->last_lsn,
						 .mark_lsn = n->sb.pos.durable,
						 .start_ms = now,
						 .mark_ms = now};
	}
	hawser__wire__v1__hello__free_unpacked(m, NULL);
	return rc;
}

/* A refusal only an operator ends (HW_REFUSED_RETRY_MAX_MS). */
static bool lasting(int code)
{
	return code == HW_EDIVERGED || code == HW_EVAULT || code == HW_ECLUSTER;
}

static int take_error(struct hw_node *n, const struct hw_frame *f)
{
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, f->len, f->body);
	if (e == NULL)
		return HW_EFRAME;
	int code = e->code < 0 ? e->code : HW_EPROTOCOL;
	n->refused_code = code;
	hw__node_refused(n, code, e->message);
	n->refusal_repeats = 0;
	n->refusal_quiet = lasting(code) && !hw__repeat_say(&n->refusal, code, &n->refusal_repeats);
	if (!n->refusal_quiet)
		hw_log("primary_refused", "code=%s what=\"%s\" repeated=%u", hw_errname(code),
		       e->message, n->refusal_repeats);
	hawser__wire__v1__error__free_unpacked(e, NULL);
	return code;
}

static int take_heartbeat(struct hw_node *n, const struct hw_frame *f)
{
	Hawser__Wire__V1__Heartbeat *m = hawser__wire__v1__heartbeat__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	int rc = hw__election_primary_frame(n, m->epoch, true);
	if (rc != 0) {
		hawser__wire__v1__heartbeat__free_unpacked(m, NULL);
		return rc;
	}
	/* Submits in mode applied wait for this store's commit: make it now, not lazily (a
	 * vault applies late by design and is never counted). Only through what arrived
	 * (the writer commits after every job until it gets there), and not once the store
	 * has it: the primary repeats its highest wanted LSN in every heartbeat. */
	uint64_t want = m->apply_wanted < n->sb.pos.received ? m->apply_wanted
							      : n->sb.pos.received;
	if (want > n->vault_applied && n->cfg.role == HW_ROLE_STANDBY && n->writer != NULL) {
		hw_writer_commit_soon(n->writer, want);
		kick_apply(n, true);
	}
	HW_CORE(n, hw_standby_on_heartbeat(&n->sb, m->durable_lsn, m->reply_requested,
					hw__node_now(n), acts));
	/* the target only: during a snapshot no entries come and nothing is to be said */
	if (m->durable_lsn > n->catchup.target)
		n->catchup.target = m->durable_lsn;
	hawser__wire__v1__heartbeat__free_unpacked(m, NULL);
	return 0;
}

/* The primary streams its log to a store whose state is stale: it ignored the hello's
 * snapshot_wanted (an older primary). Nothing is applied; the connection closes. */
static int stale_refuse(struct hw_node *n)
{
	hw_log("append_refused", "code=%s after_lsn=%llu what=\"%s\"", hw_errname(HW_ESTALE),
	       (unsigned long long)hw_wal_last(n->wal)->lsn,
	       "this store's state awaits a snapshot and the primary sent its log instead "
	       "(a primary older than this node?); nothing applied");
	return HW_ESTALE;
}

static int primary_frame(struct hw_node *n, const struct hw_frame *f)
{
	if (!n->primary_key_ok) /* primary_on_connect refused it: nothing counts */
		return HW_EAUTH;
	n->primary_heard_ms = n->primary_frame_ms = hw__node_now(n);
	n->primary_heard = true;
	if (f->type == HW_FRAME_ERROR)
		return take_error(n, f);
	if (f->type == HW_FRAME_HELLO)
		return n->primary_ready ? HW_EPROTOCOL : take_primary_hello(n, f);
	bool vault = n->cfg.role == HW_ROLE_VAULT;
	if (f->type == HW_FRAME_REJOIN && vault)
		return hw__vault_refuse(n, "the primary asks for a rejoin: its log diverged from "
					   "this vault's, which is kept as it is");
	if (f->type == HW_FRAME_REJOIN) /* before the ERROR, instead of a hello */
		return n->primary_ready ? HW_EPROTOCOL : hw__rejoin_on_frame(n, f);
	if (!n->primary_ready)
		return HW_EPROTOCOL;
	switch (f->type) {
	case HW_FRAME_APPEND:
		return hw_store_stale(n->store) ? stale_refuse(n) : take_append(n, f);
	case HW_FRAME_HEARTBEAT:
		return take_heartbeat(n, f);
	case HW_FRAME_SNAPSHOT_BEGIN:
		if (vault && hw_wal_last(n->wal)->lsn > 0)
			return hw__vault_refuse(n, "a snapshot would replace this vault's store");
		/* fall through */
	case HW_FRAME_SNAPSHOT_CHUNK:
	case HW_FRAME_SNAPSHOT_END:
		hw_standby_on_heard(&n->sb, hw__node_now(n));
		return hw__snapshot_on_frame(n, f);
	default:
		return HW_EPROTOCOL;
	}
}

/* One frame from the primary (hw_frames_take); a full job pauses the connection. */
static int primary_take(void *arg, const struct hw_frame *f)
{
	struct hw_node *n = arg;
	int rc = primary_frame(n, f);
	if (rc == 1)
		hw_conn_pause(n->primary_conn);
	return rc;
}

static long primary_on_data(struct hw_conn *c, void *arg, const uint8_t *buf, size_t len)
{
	(void)c;
	struct hw_frames_from from = {.peer = "primary"}; /* dialled: each line in full */
	return hw_frames_take(buf, len, &from, primary_take, arg);
}

/* The hello says how far this standby is durable, so it waits until the log has
 * flushed everything it took (a reconnect right after a drop) ... */
static void send_hello_when_flushed(struct hw_node *n)
{
	/* ... and until the store has applied it: the primary takes the hello's LSN as
	 * received, durable and applied at once (hw_primary_on_connect), so a hello sent with
	 * entries durable but not yet applied would count them as readable here too early
	 * (found by hawser-sim, seed 13 with -DHW_SIM_HELLO_BEFORE_APPLY). */
	/* A vault applies late by design and is never counted: durable is enough. */
	bool vault = n->cfg.role == HW_ROLE_VAULT;
	uint64_t last = hw_wal_last(n->wal)->lsn;
	if (n->primary_conn == NULL || n->sb.pos.durable < last ||
	    (!vault && n->sb.stored < last)) {
		n->hello_pending = n->primary_conn != NULL;
		if (n->hello_pending && !vault && n->writer != NULL) {
			hw_writer_commit_soon(n->writer, last); /* not the lazy commit's wait */
			kick_apply(n, true);
		}
		return;
	}
	n->hello_pending = false;
	n->primary_heard_ms = hw__node_now(n); /* the primary's hello is due from now */
	hw__node_send_hello(n, n->primary_conn,
			    vault ? HAWSER__WIRE__V1__ROLE__VAULT : HAWSER__WIRE__V1__ROLE__STANDBY,
			    hw_wal_last(n->wal), true);
}

static void primary_on_connect(struct hw_conn *c, void *arg)
{
	struct hw_node *n = arg;
	n->primary_key_ok = primary_key_ok(n);
	if (!n->primary_key_ok) { /* nothing of ours goes to it */
		hw_conn_close(c, HW_EAUTH);
		return;
	}
	send_hello_when_flushed(n);
}

/* Connect again after the back-off, which doubles up to HW_RECONNECT_MAX_MS, or up to
 * HW_REFUSED_RETRY_MAX_MS after a refusal only an operator ends (refused). */
static void redial_later(struct hw_node *n, bool refused)
{
	int64_t max = refused ? HW_REFUSED_RETRY_MAX_MS : HW_RECONNECT_MAX_MS;
	hw_timer_again(n->reconnect, n->reconnect_ms);
	n->reconnect_ms = n->reconnect_ms * 2 < max ? n->reconnect_ms * 2 : max;
}

static void reconnect_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct hw_node *n = arg;
	if (n->rejoin != NULL && n->cfg.role == HW_ROLE_STANDBY && hw__rejoin_run(n) != 0) {
		if (n->failed == 0) /* needs_rejoin: dial on, refused, till an operator acts */
			redial_later(n, true);
		return;
	}
	connect_primary(n);
}

/* A redial that nothing at the primary's address took (ECONNREFUSED: the primary's
 * process is gone, its host up): one primary_unreachable line at the first, then at most
 * one per HW_REFUSED_LOG_MS with how many were refused meanwhile, so a primary gone for
 * good shows in the log without a line per redial. */
static void note_refused(struct hw_node *n)
{
	int64_t now = hw_mono_ms();
	n->refused_dials++;
	if (n->refused_logged_ms != 0 && now - n->refused_logged_ms < HW_REFUSED_LOG_MS)
		return;
	hw_log("primary_unreachable",
	       "addr=%s code=%s refused=%u heard=%s last_heard_ms=%lld "
	       "what=\"%s\"",
	       n->cfg.primary, hw_errname(-ECONNREFUSED), n->refused_dials,
	       n->primary_heard ? "yes" : "no", (long long)(hw__node_now(n) - n->primary_frame_ms),
	       "nothing listens at the primary's address; redialing");
	n->refused_dials = 0;
	n->refused_logged_ms = now;
}

static void primary_on_close(struct hw_conn *c, void *arg, int code)
{
	(void)c;
	struct hw_node *n = arg;
	int src = n->failed == 0 ? hw__said_save(n, false) : 0; /* it hears no more of it */
	if (src != 0)
		hw__node_storage_failed(n, src, "primary.said");
	bool vault = n->cfg.role == HW_ROLE_VAULT;
	bool following = n->cfg.role == HW_ROLE_STANDBY || vault;
	bool refused = code == n->refused_code && lasting(code),
	     quiet = refused && n->refusal_quiet;
	n->refused_code = 0;
	if (!refused && n->refusal_backoff)
		n->reconnect_ms = HW_RECONNECT_MIN_MS; /* something changed: try soon */
	n->refusal_backoff = refused;
	if (code == HW_ETOOSLOW) /* the primary ended our snapshot: a try costs a whole copy */
		n->reconnect_ms = HW_SNAPSHOT_RETRY_MS;
	if (following && n->failed != 0) /* connect_primary redials no failed node */
		hw_log("primary_lost", "code=%s redial=no what=\"%s\"", hw_errname(code),
		       "this node's storage failed: it follows nobody until restarted");
	else if (following && !quiet && (n->primary_ready || code != -ECONNREFUSED))
		hw_log("primary_lost", "code=%s retry_ms=%lld", hw_errname(code),
		       (long long)n->reconnect_ms);
	else if (following && !quiet) /* a quiet refusal was no dial that nothing took */
		note_refused(n);
	if (n->primary_ready)
		n->refused_logged_ms = 0; /* the next refusal is said at once */
	n->primary_conn = NULL;
	n->primary_ready = false;
	n->primary_key_ok = false;
	n->hello_pending = false;
	n->catchup.on = false;     /* the next hello starts it again */
	hw__snapshot_conn_lost(n); /* a half-received snapshot is dropped */
	hw_standby_on_disconnect(&n->sb);
	if (!following)
		return; /* promoted meanwhile: nobody to follow */
	if (vault) {
		if (code == HW_EDIVERGED && !quiet)
			hw__vault_say_refused(n, "the primary's chain diverged from this vault's "
						 "log; not following it");
		hw__vault_next_source(n); /* after a failover another node leads */
		redial_later(n, refused);
		return;
	}
	if (n->other_chain && code == HW_EDIVERGED) { /* an older primary: it would copy again */
		hw_log("not_following", "primary=%s what=\"%s\"", n->cfg.primary,
		       "its snapshot was of another chain than this store's; an operator decides "
		       "which history is right");
		return;
	}
	if (code != HW_EDIVERGED)
		hw__rejoin_stop(n); /* epochs kept from a refusal that did not come */
	bool offered = n->rejoin != NULL;
	if (code == HW_EDIVERGED && hw__rejoin_planned(n, quiet)) {
		hw_timer_again(n->reconnect, 0); /* node_rejoin.c, outside this callback */
		return;
	}
	if (n->voters != NULL && code == HW_EDIVERGED && !offered && !quiet)
		/* Our log holds entries the primary's lacks (a suffix this node wrote as an
		 * old primary): it cannot follow until the suffix is set aside (rejoin). It
		 * dials on, refused, so that status shows it and an operator's fix is seen. */
		hw_log("needs_rejoin", "primary=%s our_lsn=%llu what=\"%s\"", n->cfg.primary,
		       (unsigned long long)hw_wal_last(n->wal)->lsn,
		       "diverged from the primary; not following (rejoin is an operator step)");
	redial_later(n, refused);
}

static const struct hw_conn_ops primary_ops = {
	.on_connect = primary_on_connect,
	.on_data = primary_on_data,
	.on_close = primary_on_close,
};

static void connect_primary(struct hw_node *n)
{
	/* with failover the primary may be unknown yet, or this node may lead now; a
	 * standby whose apply is blocked follows no more (node_block.c), a vault does */
	if (n->primary_conn != NULL || n->failed ||
	    (n->cfg.role != HW_ROLE_STANDBY && n->cfg.role != HW_ROLE_VAULT) ||
	    n->cfg.primary[0] == '\0' || (n->block.lsn != 0 && n->cfg.role == HW_ROLE_STANDBY))
		return;
	int rc = hw_connect(n->ring, n->cfg.primary, &primary_ops, n, &n->primary_conn);
	if (rc != 0) {
		n->primary_conn = NULL;
		hw_timer_again(n->reconnect, n->reconnect_ms);
	}
	n->primary_heard_ms = hw__node_now(n);
}

/* A connection whose hello exchange stalls (the hello lost in flight on a path that kept
 * the connection, or stuck mid-frame) is silent too: close it like the core closes a
 * silent stream, and redial. The wait for our own log's flush does not count. */
static void check_hello_silent(struct hw_node *n)
{
	if (n->primary_conn == NULL || n->primary_ready || n->hello_pending ||
	    hw__node_now(n) - n->primary_heard_ms <= hw__node_silent_ms(n))
		return;
	hw_log("primary_dropped", "code=%s before=hello", hw_errname(HW_ESILENT));
	hw_conn_close(n->primary_conn, HW_ESILENT);
}

/* The store committed held entries between jobs: they are readable now, so applied. */
static void on_committed(struct hw_node *n)
{
	uint64_t lsn;
	int rc = hw_writer_committed(n->writer, &lsn);
	if (rc != 0) {
		hw__node_storage_failed(n, rc, "store");
		if (n->primary_conn != NULL)
			hw_conn_close(n->primary_conn, rc);
		return;
	}
	n->vault_applied = lsn > n->vault_applied ? lsn : n->vault_applied;
	HW_CORE(n, hw_standby_on_applied(&n->sb, lsn, hw__node_now(n), acts));
	hw__digest_on_committed(n);
	if (n->hello_pending)
		send_hello_when_flushed(n);
}

/* The entry at lsn in append job j (its entries are consecutive), or NULL. */
static const uint8_t *job_entry(const struct hw_job *j, uint64_t lsn, size_t *len)
{
	struct hw_entry e;
	if (j->n == 0 || hw_entry_parse(j->buf + j->off[0], j->len[0], &e) != 0 || lsn < e.lsn ||
	    lsn - e.lsn >= j->n)
		return NULL;
	size_t i = (size_t)(lsn - e.lsn);
	*len = j->len[i];
	return j->buf + j->off[i];
}

/* The store refused the entry after j->last_lsn, having taken those before it: the apply
 * stops there for good (node_block.c). What waits to be applied after it never will be:
 * the filling job and a vault's held entries go (the log keeps them). A vault goes on
 * pulling into its log; a standby, whose state cannot be its primary's any more, stops
 * following and may no longer lead. No storage failed: the node answers on. */
static void apply_blocked(struct hw_node *n, const struct hw_job *j)
{
	size_t len = 0;
	const uint8_t *e = job_entry(j, j->last_lsn + 1, &len);
	HW_ASSERT(e != NULL);
	int rc = hw__block_set(n, e, len, &j->rej);
	if (rc != 0)
		hw__node_storage_failed(n, rc, "apply_blocked");
	struct hw_job *f = hw_writer_filling(n->writer);
	f->n = 0;
	f->used = 0;
	hw__vault_stop(n);
	hw__election_progress(n);
	if (n->cfg.role == HW_ROLE_STANDBY && n->primary_conn != NULL)
		hw_conn_close(n->primary_conn, j->rc);
}

static void writer_cb(void *arg, struct hw_job *j, enum hw_job_stage stage)
{
	struct hw_node *n = arg;
	if (stage == HW_JOB_COMMITTED) {
		on_committed(n);
		return;
	}
	HW_ASSERT(stage == HW_JOB_DONE);
	if (j->rc == 0)
		n->rate_count += j->n;
	if (j->rc == 0 || hw_is_reject(j->rc)) { /* a refused entry: those before it, taken */
		if (j->committed_lsn > n->vault_applied)
			n->vault_applied = j->committed_lsn;
		/* applied means readable: only what the store committed, not what it holds */
		HW_CORE(n, hw_standby_on_applied(&n->sb, j->committed_lsn, hw__node_now(n), acts));
		hw__digest_on_committed(n);
	}
	if (hw_is_reject(j->rc)) {
		apply_blocked(n, j);
	} else if (j->rc != 0) {
		bool refused = j->rc == HW_ELSN || j->rc == HW_ECHAIN || j->rc == HW_ECORRUPT;
		if (refused) /* a storage error is said once, by hw__node_storage_failed */
			hw_log("append_refused", "code=%s field=%s rule=\"%s\" durable_lsn=%llu",
			       hw_errname(j->rc), j->rej.field, j->rej.rule,
			       (unsigned long long)j->last_lsn);
		/* The log holds entries the store cannot take: stop, and say so. */
		hw__node_storage_failed(n, j->rc, refused ? "apply" : "store");
		struct hw_job *f = hw_writer_filling(n->writer);
		f->n = 0; /* they follow the refused entries: they cannot fit either */
		f->used = 0;
		if (n->primary_conn != NULL)
			hw_conn_close(n->primary_conn, j->rc);
	}
	hw_writer_release(n->writer);
	if (n->cfg.role == HW_ROLE_VAULT)
		hw__vault_release(n);
	kick_apply(n, false);
	if (n->hello_pending)
		send_hello_when_flushed(n);
	if (n->primary_conn != NULL)
		hw_conn_resume(n->primary_conn);
}

void hw__standby_wal_cb(struct hw_node *n, uint64_t durable, int rc)
{
	if (rc != 0) {
		hw__node_storage_failed(n, rc, "wal");
		if (n->primary_conn != NULL)
			hw_conn_close(n->primary_conn, rc);
		return;
	}
	HW_CORE(n, hw_standby_on_durable(&n->sb, durable, hw__node_now(n), acts));
	catchup_note(n, 0);
	if (n->hello_pending)
		send_hello_when_flushed(n);
	if (n->primary_conn != NULL)
		hw_conn_resume(n->primary_conn);
}

void hw__standby_tick(struct hw_node *n)
{
	hw__block_tick(n);
	if (n->cfg.role == HW_ROLE_VAULT)
		hw__vault_release(n);
	if (n->writer != NULL)
		kick_apply(n, true);
	if (n->primary_ready)
		HW_CORE(n, hw_standby_on_tick(&n->sb, hw__node_now(n), acts));
	else
		check_hello_silent(n);
}

/* Follow the store as it is now: the core at its head, the writer and the log's flusher
 * running. At start, and after a snapshot replaced the store (node_snapshot.c). */
int hw__standby_restart(struct hw_node *n)
{
	struct hw_head h;
	hw_store_head(n->store, &h);
	n->vault_applied = h.lsn;
	/* entries held since start-up, or kept past a block, follow the store's */
	if ((n->cfg.role == HW_ROLE_VAULT && n->held_tail != NULL) || n->block.lsn != 0)
		h = *hw_wal_last(n->wal);
	if (n->epoch == 0)
		n->epoch = h.epoch;
	n->last_epoch = h.epoch;
	n->primary_frame_ms = hw__node_now(n); /* silent from now, while no frame comes */
	hw_standby_init(&n->sb, n->epoch, h.lsn, n->cfg.heartbeat_ms, hw__node_silent_ms(n));
	int rc = hw__said_load(n);
	if (rc == 0)
		rc = hw_writer_start(n->store, n->loop, HW_JOB_APPEND, writer_cb, n, &n->writer);
	if (rc == 0) {
		hw_writer_set_wal(n->writer, n->wal);
		if (hw__node_skips_validation(n)) /* as its recovery took its log */
			hw_writer_set_from_primary(n->writer);
		rc = hw__node_wal_start(n);
	}
	/* the election learns the log it holds now, not at a primary's first frame, which
	 * may never come: a node restarted while no primary runs campaigns with it */
	if (rc == 0)
		hw__election_progress(n);
	return rc;
}

/* A snapshot was installed while connected: the core follows from its head at once, and
 * the primary learns it from an ack (it starts the log stream on it). */
void hw__standby_installed(struct hw_node *n)
{
	hw_standby_on_connect(&n->sb, hw__node_now(n));
	send_ack(n, &n->sb.pos);
	catchup_note(n, 0); /* the snapshot may have brought it level */
	/* the election learns the new log and that the store is no longer stale now, not at
	 * the primary's next frame, which may never come */
	hw__election_progress(n);
}

int hw__standby_start(struct hw_node *n)
{
	n->reconnect_ms = HW_RECONNECT_MIN_MS;
	int rc = hw_timer_new(n->loop, 1000000000, 0, reconnect_cb, n, &n->reconnect);
	if (rc == 0)
		rc = hw__standby_restart(n);
	if (rc == 0)
		connect_primary(n);
	return rc;
}

void hw__standby_stop(struct hw_node *n)
{
	hw__rejoin_free(n);
	hw__vault_stop(n);
	if (n->reconnect != NULL)
		hw_timer_free(n->reconnect);
	n->reconnect = NULL;
}

void hw__standby_leave(struct hw_node *n)
{
	if (n->primary_conn != NULL)
		hw_conn_close(n->primary_conn, HW_ECLOSED); /* its on_close sees the new role */
	hw_standby_on_disconnect(&n->sb);
	hw_writer_stop(n->writer); /* applies what it took: the store reaches the log's end */
	n->writer = NULL;
	hw__digest_on_committed(n); /* one waiting for that commit starts */
	hw__rejoin_free(n);         /* a rejoin planned against the old primary's epochs is void */
}

void hw__standby_follow(struct hw_node *n)
{
	n->reconnect_ms = HW_RECONNECT_MIN_MS;
	if (n->primary_conn != NULL)
		hw_conn_close(n->primary_conn, HW_ECLOSED); /* redialed from its on_close */
	else
		connect_primary(n);
}
