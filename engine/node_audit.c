/* node_audit.c: the primary's own records (replica/checkpoint.h): a signed checkpoint
 * every checkpoint_records entries or checkpoint_interval, and node events (the audit
 * trail: start, promotion, switchover ...). Both are queued like an embedding process's
 * submits with system set, so they take the ordinary path: an LSN, the hash chain, the
 * standbys, backups.
 *
 * A checkpoint needs the full state digest (every state table, ~15 ms per 100,000
 * rows: docs/benchmarks.md), too long for the loop thread, so a thread of its own makes
 * it in a read transaction of the store (which never blocks the writer) and queues the
 * record; the tick joins it. One at a time.
 *
 * Both need a node with a key ([security] key): an insecure node (a lab, a test) keeps
 * its log to the TOS's records and only logs its events, but one: its PROMOTION event,
 * appended at once when it becomes primary. A new epoch needs an entry of its own before
 * the primary answers anything (node_election.c promote(): Raft's "figure 8"), and a node
 * event needs no key; with no checkpoint to vouch for it, it is no audit trail.
 *
 * Only a primary appends. An event on a node with a key that is not primary (a standby's
 * start, a refusal it saw, an operator's forced promotion) is encoded when it happens,
 * so it keeps its time, and held until the node is primary; so is one a step-down failed
 * (HW_ENOT_PRIMARY). Both are appended, oldest first, before anything newer. At most
 * AUDIT_HELD_MAX are held (a standby that never becomes primary does not grow); they
 * live in memory only, so a restart drops them (they were logged).
 *
 * Refused channels (engine/io/ring.h hw_refusal_cb) are rate-limited per peer host: the
 * first refusal from a host is an AUTH_FAILURE event at once, the ones that follow
 * within AUTH_WINDOW_MS are counted and appended as one more event when the window ends
 * (on the primary's tick, or at the host's next refusal). Hosts beyond AUTH_HOSTS_MAX
 * share one entry ("*"). So a flood costs at most two events per host-entry a minute.
 *
 * Logs: checkpoint (lsn), checkpoint_failed, audit_failed, audit_local (an event on an
 * insecure node: not appended, but for a PROMOTION), audit_held (kept for when this node
 * is primary), audit_dropped (no room to hold it), config_changed, config_unchecked. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/names.h"
#include "engine/io/channel.h"
#include "engine/node_int.h"
#include "replica/audit.h"
#include "wire.pb-c.h"

/* Events held for when this node is primary (a standby's, or failed by a step-down):
 * a standby sees a handful (its start, refusals, each bounded below), so this is room
 * for a long time as a standby; 64 KiB per node. */
#define AUDIT_HELD_MAX 64u
/* Refused hosts counted apart within a window; the last entry counts all the others. */
#define AUTH_HOSTS_MAX 32u
#define AUTH_WINDOW_MS 60000
/* How far back a start looks for this node's last recorded config: ~0.2 s of reading.
 * A node whose last event is further back gets no CONFIG_CHANGE (logged). */
#define AUDIT_LOOKBACK_ENTRIES 100000u

static void checkpoint_cb(void *arg, const struct hw_outcome *o)
{
	(void)arg;
	if (o->code != 0)
		hw_log("checkpoint_failed", "code=%s", hw_errname(o->code));
	else
		hw_log("checkpoint", "lsn=%" PRIu64, o->lsn);
}

/* Mode local: an audit record must not wait for, or hold back, a standby; system set, so
 * the RPO t rule does not hold it either (it acknowledges nothing to a client:
 * node_primary.c on_prepared). request_id names an event's slot (0 for a checkpoint). */
static int queue_system(struct hw_node *n, uint64_t request_id, const uint8_t *rec, size_t len,
			hw_submit_cb *cb)
{
	return hw__node_enqueue(n, request_id, rec, len, HW_LOCAL, 0, true, cb, n);
}

static void *checkpoint_main(void *arg)
{
	struct hw_node *n = arg;
	pthread_setname_np(pthread_self(), "hw-checkpoint"); /* top -H, perf */
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len = 0;
	n->cp_rc = hw_checkpoint_make(n->store, &n->signer, hw_wall_ms(), buf, sizeof buf, &len,
				      &n->cp_covers);
	if (n->cp_rc == 0)
		n->cp_rc = queue_system(n, 0, buf, len, checkpoint_cb);
	atomic_store(&n->cp_done, true);
	return NULL;
}

static void reap(struct hw_node *n)
{
	pthread_join(n->cp_thread, NULL);
	n->cp_running = false;
	atomic_store(&n->cp_done, false);
	if (n->cp_rc != 0) {
		hw_log("checkpoint_failed", "code=%s covers=%" PRIu64, hw_errname(n->cp_rc),
		       n->committed_lsn);
		n->cp_covers = n->committed_lsn; /* skip this one rather than retry at once */
	} else {
		n->checkpoints++;
	}
	n->cp_lsn = n->cp_covers;
}

/* Defined with the node events below. */
static void auth_expire(struct hw_node *n, int64_t now);
static void flush(struct hw_node *n);

void hw__audit_tick(struct hw_node *n)
{
	if (n->cp_running && atomic_load(&n->cp_done))
		reap(n);
	if (n->audit != NULL) {
		auth_expire(n, hw__node_now(n));
		flush(n);
	}
	if (n->cp_running || !n->can_sign || n->cfg.role != HW_ROLE_PRIMARY || n->failed)
		return;
	int64_t now = hw__node_now(n);
	if (n->cp_at_ms == 0)
		n->cp_at_ms = now; /* the interval runs from the start */
	/* The last checkpoint's own entry is not news: more than one entry since, or none. */
	uint64_t head = n->core.last_lsn;
	uint64_t since = head > n->cp_lsn ? head - n->cp_lsn : 0;
	bool by_count = n->cfg.checkpoint_records != 0 && since >= n->cfg.checkpoint_records;
	bool by_time = n->cfg.checkpoint_interval_ms != 0 && since > 1 &&
		       now - n->cp_at_ms >= n->cfg.checkpoint_interval_ms;
	if (!by_count && !by_time)
		return;
	/* The checkpoint signs the committed store, which lags the log (engine/io/writer.h):
	 * ask for the commit and come back from its callback (on_committed in
	 * node_primary.c), so it covers every record taken so far. */
	if (n->cp_wait == 0)
		n->cp_wait = head; /* once: under load the head moves on meanwhile */
	if (n->committed_lsn < n->cp_wait && n->writer != NULL) {
		hw_writer_commit_soon(n->writer, n->cp_wait);
		return;
	}
	n->cp_wait = 0;
	n->cp_at_ms = now;
	if (pthread_create(&n->cp_thread, NULL, checkpoint_main, n) != 0) {
		hw_log("checkpoint_failed", "code=%s what=\"no thread\"", hw_errname(HW_ENOMEM));
		n->cp_lsn = n->committed_lsn;
		return;
	}
	n->cp_running = true;
}

void hw__audit_stop(struct hw_node *n)
{
	if (n->cp_running)
		reap(n);
}

/* ---- node events */

/* The events one node holds for its primary days, and the refusal counts. */
struct hw_audit {
	struct held {
		enum { HELD_FREE, HELD_WAITING, HELD_QUEUED } state;
		uint64_t seq; /* order of the events: appended oldest first */
		Tos__V1__NodeEventKind kind;
		size_t len;
		uint8_t rec[HW_SYSTEM_RECORD_BYTES_MAX];
	} held[AUDIT_HELD_MAX];
	uint64_t seq;
	uint32_t waiting; /* slots in HELD_WAITING */
	struct auth_host {
		char host[HW_ADDR_CHARS_MAX + 1]; /* "" free, "*" every other host */
		int64_t since_ms;                 /* node clock of the window's first refusal */
		uint32_t more;                    /* refusals after it within the window */
		uint8_t key[HW_CHANNEL_KEY_BYTES]; /* the last one's offered key */
		bool has_key;
	} hosts[AUTH_HOSTS_MAX];
};

static void event_cb(void *arg, const struct hw_outcome *o)
{
	struct hw_node *n = arg;
	HW_ASSERT(o->request_id >= 1 && o->request_id <= AUDIT_HELD_MAX);
	struct held *h = &n->audit->held[o->request_id - 1];
	HW_ASSERT(h->state == HELD_QUEUED);
	if (o->code == HW_ENOT_PRIMARY) { /* a step-down: append it when primary again */
		h->state = HELD_WAITING;
		n->audit->waiting++;
		hw_log("audit_held", "kind=%s code=%s", hw_node_event_name(h->kind),
		       hw_errname(o->code));
		return;
	}
	if (o->code != 0)
		hw_log("audit_failed", "kind=%s code=%s", hw_node_event_name(h->kind),
		       hw_errname(o->code));
	h->state = HELD_FREE;
}

/* Queue the held events, oldest first, when this node is a primary that can append. */
static void flush(struct hw_node *n)
{
	struct hw_audit *a = n->audit;
	if (n->cfg.role != HW_ROLE_PRIMARY || !n->can_sign || n->failed)
		return;
	while (a->waiting > 0) {
		struct held *oldest = NULL;
		for (size_t i = 0; i < AUDIT_HELD_MAX; i++)
			if (a->held[i].state == HELD_WAITING &&
			    (oldest == NULL || a->held[i].seq < oldest->seq))
				oldest = &a->held[i];
		HW_ASSERT(oldest != NULL);
		uint64_t slot = (uint64_t)(oldest - a->held) + 1;
		int rc = queue_system(n, slot, oldest->rec, oldest->len, event_cb);
		if (rc != 0) { /* out of memory, or submits not open yet: kept for the next tick */
			hw_log("audit_failed", "kind=%s code=%s", hw_node_event_name(oldest->kind),
			       hw_errname(rc));
			return;
		}
		oldest->state = HELD_QUEUED;
		a->waiting--;
	}
}

static void promotion_cb(void *arg, const struct hw_outcome *o)
{
	(void)arg;
	if (o->code != 0)
		hw_log("audit_failed", "kind=promotion code=%s", hw_errname(o->code));
}

/* An insecure primary's PROMOTION (see the top): queued now, as its epoch's first entry;
 * one a step-down fails is not held, as the next promotion makes its own. */
static int append_promotion(struct hw_node *n, const Tos__V1__NodeEvent *ev)
{
	uint8_t rec[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len = 0;
	struct hw_reject rej = {0};
	int rc = hw_node_event_encode(ev, hw_wall_ms(), rec, sizeof rec, &len, &rej);
	if (rc == 0)
		rc = queue_system(n, 0, rec, len, promotion_cb);
	if (rc != 0)
		hw_log("audit_failed", "kind=promotion code=%s field=%s", hw_errname(rc),
		       rej.field);
	return rc;
}

/* Encode ev now into a free slot, waiting for flush. */
static int hold(struct hw_node *n, const Tos__V1__NodeEvent *ev, struct hw_reject *rej)
{
	struct hw_audit *a = n->audit;
	for (size_t i = 0; i < AUDIT_HELD_MAX; i++) {
		struct held *h = &a->held[i];
		if (h->state != HELD_FREE)
			continue;
		int rc = hw_node_event_encode(ev, hw_wall_ms(), h->rec, sizeof h->rec, &h->len, rej);
		if (rc != 0)
			return rc;
		h->state = HELD_WAITING;
		h->kind = ev->kind;
		h->seq = a->seq++;
		a->waiting++;
		return 0;
	}
	return HW_EBUSY;
}

/* Whether n keeps an audit trail: it signs, and may append (a vault never does: it is
 * never primary, so an event it held would never be recorded). Else events are logged
 * only (audit_local). */
static bool audit_kept(const struct hw_node *n)
{
	return n->can_sign && n->cfg.role != HW_ROLE_VAULT;
}

/* Fill *ev for kind on n (addr: room for the peer's address, which ev points into). */
static void event_fill(struct hw_node *n, Tos__V1__NodeEvent *ev, Tos__V1__NodeEventKind kind,
		       const char *peer, const uint8_t *key, const char *detail,
		       char addr[HW_REF_CHARS_MAX + 1])
{
	*ev = (Tos__V1__NodeEvent)TOS__V1__NODE_EVENT__INIT;
	ev->kind = kind;
	ev->node_id = n->cfg.node_id;
	ev->epoch = n->epoch;
	/* a reference field: an address longer than one (a Unix path) keeps its start */
	snprintf(addr, HW_REF_CHARS_MAX + 1, "%s", peer != NULL ? peer : "");
	ev->peer_addr = addr;
	if (key != NULL)
		ev->peer_key = (ProtobufCBinaryData){HW_CHANNEL_KEY_BYTES, (uint8_t *)key};
	ev->detail = (char *)(detail != NULL ? detail : "");
	/* the configuration a node runs with: at its start, when it changed, when elected */
	if (kind == TOS__V1__NODE_EVENT_KIND__NODE_START ||
	    kind == TOS__V1__NODE_EVENT_KIND__CONFIG_CHANGE ||
	    kind == TOS__V1__NODE_EVENT_KIND__PROMOTION)
		ev->config_sha = (ProtobufCBinaryData){HW_HASH_BYTES, n->config_sha};
}

int hw__audit_event(struct hw_node *n, Tos__V1__NodeEventKind kind, const char *peer,
		    const uint8_t *key, const char *detail)
{
	char sha[2 * HW_HASH_BYTES + 1], addr[HW_REF_CHARS_MAX + 1];
	Tos__V1__NodeEvent ev;
	event_fill(n, &ev, kind, peer, key, detail, addr);
	sodium_bin2hex(sha, sizeof sha, n->config_sha, HW_HASH_BYTES);
	if (!audit_kept(n)) {
		hw_log("audit_local", "kind=%s epoch=%" PRIu64 " config_sha=%.16s detail=\"%s\"",
		       hw_node_event_name(kind), n->epoch, sha, ev.detail);
		return kind == TOS__V1__NODE_EVENT_KIND__PROMOTION ? append_promotion(n, &ev) : 0;
	}
	struct hw_reject rej = {0};
	int rc = hold(n, &ev, &rej);
	if (rc == HW_EBUSY)
		hw_log("audit_dropped", "kind=%s held=%u detail=\"%s\"", hw_node_event_name(kind),
		       AUDIT_HELD_MAX, ev.detail);
	else if (rc != 0)
		hw_log("audit_failed", "kind=%s code=%s field=%s", hw_node_event_name(kind),
		       hw_errname(rc), rej.field);
	else if (n->cfg.role != HW_ROLE_PRIMARY)
		hw_log("audit_held", "kind=%s epoch=%" PRIu64 " detail=\"%s\"",
		       hw_node_event_name(kind), n->epoch, ev.detail);
	flush(n);
	return rc;
}

int hw__audit_event_durable(struct hw_node *n, Tos__V1__NodeEventKind kind, const char *peer,
			    const uint8_t *key, const char *detail, uint64_t request_id,
			    hw_submit_cb *cb, void *arg)
{
	uint32_t k = n->cfg.k > 0 ? n->cfg.k : 1; /* as a submit's k 0 in mode durable */
	if (!audit_kept(n) || n->cfg.role != HW_ROLE_PRIMARY || n->failed ||
	    !hw_primary_k_possible(&n->core, HW_MODE_DURABLE, k)) {
		int rc = hw__audit_event(n, kind, peer, key, detail);
		return rc != 0 ? rc : 1;
	}
	flush(n); /* the held events first, oldest first */
	char addr[HW_REF_CHARS_MAX + 1];
	Tos__V1__NodeEvent ev;
	event_fill(n, &ev, kind, peer, key, detail, addr);
	uint8_t rec[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len = 0;
	struct hw_reject rej = {0};
	int rc = hw_node_event_encode(&ev, hw_wall_ms(), rec, sizeof rec, &len, &rej);
	if (rc == 0)
		rc = hw__node_enqueue(n, request_id, rec, len, HW_DURABLE, 0, true, cb, arg);
	if (rc != 0)
		hw_log("audit_failed", "kind=%s code=%s field=%s", hw_node_event_name(kind),
		       hw_errname(rc), rej.field);
	return rc;
}

/* The longest detail an operator's event carries: a line of a report, not a report. */
#define OPERATOR_DETAIL_BYTES_MAX 200u

int hw__audit_on_operator_event(struct hw_session *s, const struct hw_frame *f)
{
	Hawser__Wire__V1__OperatorEvent *m =
		hawser__wire__v1__operator_event__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	Tos__V1__NodeEventKind kind = (Tos__V1__NodeEventKind)m->kind;
	bool ok = (kind == TOS__V1__NODE_EVENT_KIND__DRILL ||
		   kind == TOS__V1__NODE_EVENT_KIND__EXPORT ||
		   kind == TOS__V1__NODE_EVENT_KIND__RESTORE ||
		   kind == TOS__V1__NODE_EVENT_KIND__OPERATOR) &&
		  strlen(m->detail) <= OPERATOR_DETAIL_BYTES_MAX;
	int rc = ok ? hw__audit_event(s->node, kind, hw_conn_peer(s->conn),
				      hw_conn_peer_key(s->conn), m->detail)
		    : 0;
	hawser__wire__v1__operator_event__free_unpacked(m, NULL);
	if (!ok)
		return hw__node_send_error(s->conn, HW_ERANGE,
					   "an operator event is a drill, export, restore or "
					   "operator event with a detail of at most 200 bytes");
	if (rc != 0) /* not recorded: the operator hears it, never a false confirmation */
		return hw__node_send_error(s->conn, rc, "the event could not be recorded");
	if (!audit_kept(s->node)) /* logged only (audit_local): no trail holds it */
		return hw__node_send_error(s->conn, HW_ECONFIG,
					   s->node->can_sign
						   ? "a vault appends nothing to its log, so it "
						     "keeps no audit trail of its own: the event "
						     "was only logged; tell the primary"
						   : "this node runs without a key (insecure): it "
						     "keeps no audit trail; the event was only "
						     "logged");
	return hw__node_send_frame(s->conn, HW_FRAME_OPERATOR_EVENT_REPLY, NULL, 0);
}

/* ---- refused channels */

/* The host of "HOST:PORT" or "[V6]:PORT" (V6 without its brackets; a Unix peer has no
 * port: all of it). */
static void host_of(const char *peer, char out[HW_ADDR_CHARS_MAX + 1])
{
	struct hw_addr_parts p;
	bool tcp = hw_addr_parse(peer, false, &p) == 0 && p.path == NULL;
	snprintf(out, HW_ADDR_CHARS_MAX + 1, "%s", tcp ? p.host : peer);
}

/* Close the windows that ended by now: their counted refusals go in one event. */
static void auth_expire(struct hw_node *n, int64_t now)
{
	for (size_t i = 0; i < AUTH_HOSTS_MAX; i++) {
		struct auth_host *h = &n->audit->hosts[i];
		if (h->host[0] == '\0' || now - h->since_ms < AUTH_WINDOW_MS)
			continue;
		if (h->more > 0) {
			char detail[96];
			snprintf(detail, sizeof detail, "%" PRIu32 " more refused within %d s",
				 h->more, AUTH_WINDOW_MS / 1000);
			hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE, h->host,
					h->has_key ? h->key : NULL, detail);
		}
		h->host[0] = '\0';
	}
}

void hw__audit_refusal(struct hw_node *n, const char *peer, const uint8_t *key, const char *what)
{
	if (n->audit == NULL)
		return;
	int64_t now = hw__node_now(n);
	char host[HW_ADDR_CHARS_MAX + 1];
	host_of(peer, host);
	auth_expire(n, now);
	struct auth_host *h = NULL, *free_h = NULL, *others = &n->audit->hosts[AUTH_HOSTS_MAX - 1];
	for (size_t i = 0; i + 1 < AUTH_HOSTS_MAX && h == NULL; i++) {
		struct auth_host *x = &n->audit->hosts[i];
		if (x->host[0] != '\0' && strcmp(x->host, host) == 0)
			h = x;
		else if (x->host[0] == '\0' && free_h == NULL)
			free_h = x;
	}
	if (h == NULL)
		h = free_h != NULL ? free_h : others;
	if (h->host[0] != '\0') { /* within its window: counted */
		h->more++;
		h->has_key = key != NULL;
		if (key != NULL)
			memcpy(h->key, key, HW_CHANNEL_KEY_BYTES);
		return;
	}
	snprintf(h->host, sizeof h->host, "%s", h == others ? "*" : host);
	h->since_ms = now;
	h->more = 0;
	h->has_key = false;
	hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE, peer, key, what);
}

/* ring.h hw_refusal_cb: one refused channel. */
static void refusal_cb(void *arg, const char *peer, const uint8_t *key, int code)
{
	char detail[96];
	snprintf(detail, sizeof detail, "channel refused: %s", hw_errname(code));
	hw__audit_refusal(arg, peer, key, detail);
}

/* ---- start */

/* Hash of the config file as read at start: the NODE_START event names the exact
 * configuration a node ran with. A file that cannot be read hashes as empty. */
static void hash_config(const char *path, uint8_t out[HW_HASH_BYTES])
{
	crypto_generichash_state st;
	uint8_t buf[4096];
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	FILE *f = fopen(path, "rb");
	size_t got;
	while (f != NULL && (got = fread(buf, 1, sizeof buf, f)) > 0)
		crypto_generichash_update(&st, buf, got);
	if (f != NULL)
		fclose(f);
	crypto_generichash_final(&st, out, HW_HASH_BYTES);
}

int hw__audit_open(struct hw_node *n, const char *config_path, const struct hw_identity *id)
{
	hash_config(config_path, n->config_sha);
	if (id == NULL)
		return 0; /* insecure: no key, no checkpoints, no events appended */
	n->audit = calloc(1, sizeof *n->audit);
	if (n->audit == NULL)
		return HW_ENOMEM;
	size_t idlen = strlen(n->cfg.node_id);
	HW_ASSERT(idlen >= 1 && idlen <= HW_SIGNER_ID_MAX);
	memcpy(n->signer.node_id, n->cfg.node_id, idlen + 1);
	memcpy(n->signer.pk, id->sign_pk, HW_SIGN_PK_BYTES);
	memcpy(n->signer.sk, id->sign_sk, HW_SIGN_SK_BYTES);
	n->can_sign = true;
	return 0;
}

struct last_config {
	const char *node_id;
	uint64_t lsn; /* 0: none found */
	uint8_t sha[HW_HASH_BYTES];
};

/* hw_audit_cb, newest first: stop at this node's newest event naming its config. */
static int last_config_cb(void *arg, const struct hw_entry *e, const Tos__V1__Record *rec)
{
	struct last_config *lc = arg;
	const Tos__V1__NodeEvent *ev = rec->node_event;
	if (rec->payload_case != TOS__V1__RECORD__PAYLOAD_NODE_EVENT ||
	    strcmp(ev->node_id, lc->node_id) != 0 || ev->config_sha.len != HW_HASH_BYTES)
		return 0;
	lc->lsn = e->lsn;
	memcpy(lc->sha, ev->config_sha.data, HW_HASH_BYTES);
	return 1;
}

void hw__audit_start(struct hw_node *n)
{
	hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__NODE_START, NULL, NULL, "started");
	if (!n->can_sign)
		return;
	hw_ring_set_refusal_cb(n->ring, refusal_cb, n);
	struct last_config lc = {.node_id = n->cfg.node_id};
	int rc = hw_audit_walk_back(n->store, AUDIT_LOOKBACK_ENTRIES, last_config_cb, &lc);
	if (rc < 0) {
		hw_log("config_unchecked", "code=%s", hw_errname(rc));
		return;
	}
	if (lc.lsn == 0 || memcmp(lc.sha, n->config_sha, HW_HASH_BYTES) == 0)
		return; /* the first start we know of, or the same file */
	char was[2 * HW_HASH_BYTES + 1], detail[96];
	sodium_bin2hex(was, sizeof was, lc.sha, HW_HASH_BYTES);
	snprintf(detail, sizeof detail, "config changed since lsn %" PRIu64 " (was %.16s)", lc.lsn,
		 was);
	hw_log("config_changed", "since_lsn=%" PRIu64 " was=%.16s", lc.lsn, was);
	hw__audit_event(n, TOS__V1__NODE_EVENT_KIND__CONFIG_CHANGE, NULL, NULL, detail);
}

void hw__audit_close(struct hw_node *n)
{
	free(n->audit);
	n->audit = NULL;
}
