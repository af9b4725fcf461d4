/* node_primary.c: a primary node: takes submits from clients and embedders, has the
 * writer prepare and commit them, streams the new entries to its standbys while its own
 * commit flushes, and answers each submit when its durability rule holds. */
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

#define NO_SESSION UINT32_MAX


/* ---- requests --------------------------------------------------------------------- */

static uint32_t request_alloc(struct hw_node *n)
{
	uint32_t i = n->free_request;
	if (i == NO_SESSION)
		return NO_SESSION;
	n->free_request = n->requests[i].next_free;
	n->requests[i] = (struct hw_request){.used = true};
	n->requests_used++;
	return i;
}

static void request_free(struct hw_node *n, uint32_t i)
{
	HW_ASSERT(n->requests[i].used);
	n->requests[i].used = false;
	n->requests[i].next_free = n->free_request;
	n->free_request = i;
	n->requests_used--;
	n->room_freed = true;
}

static void room_came(struct hw_node *n);

static void sums_add(struct hw_stage_sums *to, const struct hw_stage_sums *a)
{
	to->queued_ns += a->queued_ns;
	to->store_ns += a->store_ns;
	to->stored += a->stored;
	to->durability_ns += a->durability_ns;
	to->answered += a->answered;
}

/* Add a stage's times to the second under way and to the totals (status SubmitTimes). */
static void stages_add(struct hw_node *n, const struct hw_stage_sums *a)
{
	sums_add(&n->stages_now, a);
	sums_add(&n->stages_total, a);
}

/* The outcome o for session s could not be queued (rc: HW_ENOMEM; or HW_EBUSY, its send
 * buffer full, which node.c's session_take prevents by keeping room for each reply owed).
 * The client must not wait on a live connection for an answer that will never come: the
 * session closes, and the client hears HW_ECLOSED for what was in flight, in doubt (one
 * that follows the primary resends it with the same record_id, idempotent: hawser.h).
 * One closing already (HW_ECLOSED) is left to close. */
static void answer_failed(struct hw_session *s, const struct hw_outcome *o, int rc)
{
	if (rc == HW_ECLOSED)
		return;
	hw_log("session_closed", "peer=%s code=%s request_id=%llu outcome=%s what=\"%s\"",
	       hw_conn_peer(s->conn), hw_errname(rc), (unsigned long long)o->request_id,
	       o->code == 0 ? "ok" : hw_errname(o->code),
	       "a submit's outcome could not be queued: the client hears HW_ECLOSED");
	hw_conn_close(s->conn, rc);
}

/* Answer request i with o and free it. A client that went away is not answered; one
 * whose answer cannot be queued loses its connection (answer_failed). */
static void request_answer(struct hw_node *n, uint32_t i, struct hw_outcome *o)
{
	struct hw_request *r = &n->requests[i];
	o->request_id = r->request_id;
	if (o->code == 0) { /* only a prepared record is accepted */
		HW_ASSERT(r->stored);
		stages_add(n, &(struct hw_stage_sums){.durability_ns = hw_mono_ns() - r->since_ns,
						      .answered = 1});
	}
	if (r->session == NO_SESSION) {
		pthread_mutex_lock(&n->ext_mu); /* room for another embedded submit */
		HW_ASSERT(n->ext_taken > 0);
		n->ext_taken--;
		pthread_mutex_unlock(&n->ext_mu);
		r->cb(r->cb_arg, o);
	} else {
		struct hw_session *s = n->sessions[r->session];
		if (s != NULL && s->gen == r->gen) {
			HW_ASSERT(s->replies_owed > 0);
			s->replies_owed--; /* its room is the reply's now (node.c reply_room) */
			int rc = hw__node_send_outcome(s->conn, o);
			if (rc != 0)
				answer_failed(s, o, rc);
		}
	}
	request_free(n, i);
}

static void request_fail(struct hw_node *n, uint32_t i, int code)
{
	struct hw_outcome o = {.code = code};
	request_answer(n, i, &o);
}

void hw__primary_answer(struct hw_node *n, uint32_t slot, int code)
{
	struct hw_request *r = &n->requests[slot];
	struct hw_outcome o = {.code = code};
	if (code == 0) {
		o.lsn = r->lsn;
		o.duplicate = r->duplicate;
	}
	request_answer(n, slot, &o);
}

/* ---- the writer ------------------------------------------------------------------- */

/* Hand the writer what the loop queued, once per loop iteration, just before the loop
 * blocks (a hook), never per submit: the submits that one iteration read (every
 * connection's frames that arrived together, embedded submits, those held back for
 * room) go in one batch. A kick at each submit handed the writer the first of them
 * alone whenever it was idle: at 32 clients x 1, 43 % of batches held one record, each
 * paying a batch's fixed costs (docs/benchmarks-rounds.md, tenth round). */
static void kick_writer(void *arg)
{
	struct hw_node *n = arg;
	struct hw_job *j = hw_writer_filling(n->writer);
	if (j->n == 0 || !hw_writer_idle(n->writer) || n->failed || !hw__node_wal_room(n))
		return;
	j->epoch = n->epoch;
	j->now_ms = hw_wall_ms();
	j->kicked_ns = hw_mono_ns();
	hw_writer_kick(n->writer);
}

static void outbox_add(struct hw_node *n, struct hw_segment *seg)
{
	if (n->outbox_tail != NULL)
		n->outbox_tail->next = seg;
	else
		n->outbox_head = seg;
	n->outbox_tail = seg;
	n->outbox_bytes += seg->len;
}

/* Drop the oldest segments past the bound; only committed ones: the store has those. */
static void outbox_trim(struct hw_node *n)
{
	while (n->outbox_head != NULL && n->outbox_bytes > HW_OUTBOX_BYTES_MAX &&
	       n->outbox_head->last_lsn <= n->committed_lsn) {
		struct hw_segment *s = n->outbox_head;
		n->outbox_head = s->next;
		if (n->outbox_head == NULL)
			n->outbox_tail = NULL;
		if (n->outbox_hint == s)
			n->outbox_hint = NULL;
		n->outbox_bytes -= s->len;
		hw_segment_free(s);
	}
}

static void send_heartbeat(struct hw_node *n, uint32_t peer);

/* The writer prepared records from..to of job j: each one's time queued and in the store. */
static void stages_stored(struct hw_node *n, const struct hw_job *j)
{
	uint64_t now = hw_mono_ns();
	size_t count = j->to - j->from;
	struct hw_stage_sums add = {.store_ns = (now - j->kicked_ns) * count, .stored = count};
	for (size_t i = j->from; i < j->to; i++) {
		struct hw_request *r = &n->requests[(uint32_t)j->token[i]];
		add.queued_ns += j->kicked_ns - r->since_ns;
		r->since_ns = now;
		r->stored = true;
	}
	stages_add(n, &add);
}

/* The new entries of a piece of a batch, in order: to the outbox, the log and the core. */
static void entries_out(struct hw_node *n, struct hw_segment *list)
{
	while (list != NULL) {
		struct hw_segment *seg = list;
		list = seg->next;
		seg->next = NULL;
		if (n->failed != 0) { /* the store may keep them; nothing streams them */
			hw_segment_free(seg);
			continue;
		}
		outbox_add(n, seg);
		/* The log makes the batch durable; kick_writer() left room for it. */
		int rc = hw_wal_append(n->wal, seg->data, seg->len, seg->last_lsn);
		if (rc != 0)
			hw__node_storage_failed(n, rc, "wal");
		n->last_epoch = n->epoch;
		HW_CORE(n, hw_primary_on_append(&n->core, seg->last_lsn, hw__node_now(n), acts));
	}
}

/* A piece of the batch's submits (j->from..j->to) wait (or are answered, when refused)
 * before its entries go out: a SEND then knows whether a submit in mode received waits
 * for them (repl.h). */
static void on_prepared(struct hw_node *n, struct hw_job *j)
{
	uint64_t applied = 0;
	/* waiters of the core, or answered, from here */
	n->unprepared -= (uint32_t)(j->to - j->from);
	stages_stored(n, j);
	struct hw_segment *list = j->segment;
	j->segment = NULL;
	if (n->failed != 0) { /* prepared after the node stopped acknowledging */
		for (size_t i = j->from; i < j->to; i++) {
			const struct hw_result *res = &j->res[i];
			struct hw_outcome o = {.code = res->code != 0 ? res->code : HW_ECLOSED,
					       .reject = res->reject};
			request_answer(n, (uint32_t)j->token[i], &o);
		}
		entries_out(n, list);
		return;
	}
	for (size_t i = j->from; i < j->to; i++) {
		uint32_t slot = (uint32_t)j->token[i];
		const struct hw_result *res = &j->res[i];
		if (res->code != 0) { /* a reject, or HW_EBEHIND (queue_record) */
			struct hw_outcome o = {.code = res->code, .reject = res->reject};
			n->rejected += hw_is_reject(res->code);
			request_answer(n, slot, &o);
			continue;
		}
		n->requests[slot].lsn = res->lsn;
		n->requests[slot].duplicate = res->duplicate;
		/* A duplicate's LSN is older than the waiters ahead of it; waiting for the
		 * newest LSN instead keeps the core's waiters in order and implies the old. */
		uint64_t wait_lsn = res->lsn > n->last_wait_lsn ? res->lsn : n->last_wait_lsn;
		n->last_wait_lsn = wait_lsn;
		n->submits++;
		n->rate_count++;
		/* what its success tells a client of: the record's own LSN (a duplicate's is
		 * old, and the RPO t rule holds it all the same: struct hw_ahead); the node's
		 * own records tell nobody (node_election.c note_ack), nor wait for the rule */
		uint64_t acks = n->requests[slot].system ? 0 : res->lsn;
		HW_CORE(n, hw_primary_on_submit(&n->core, slot, wait_lsn, acks, j->mode[i], j->k[i],
						hw__node_now(n), acts));
		if (j->mode[i] == HW_MODE_APPLIED)
			applied = wait_lsn;
	}
	entries_out(n, list);
	if (applied > n->apply_wanted) {
		n->apply_wanted = applied;
		for (uint32_t p = 0; p < n->cfg.n_standbys; p++)
			send_heartbeat(n, p); /* after the entries: commit them now (standby) */
	}
}

/* The node stopped acknowledging (hw__node_storage_failed said why): every submit it took
 * gets its outcome now. A prepared one may be in the log, the store or on a standby: it
 * is in doubt, HW_ECLOSED (hawser.h: resubmit it with the same record_id). One in the
 * batch being filled left nothing: code. The writer's batch is answered when it reports
 * (on_prepared, on_failed). Sessions paused for want of room read again and embedded
 * submits left queued are taken: each is refused at once (submit_rule). */
static void primary_failed(struct hw_node *n, int code)
{
	HW_CORE(n, hw_primary_fail_all(&n->core, HW_ECLOSED, acts));
	struct hw_job *f = hw_writer_filling(n->writer);
	for (size_t i = 0; i < f->n; i++)
		request_fail(n, (uint32_t)f->token[i], code);
	n->unprepared -= (uint32_t)f->n;
	f->n = 0;
	f->used = 0;
	room_came(n);
}

static void on_failed(struct hw_node *n, struct hw_job *j)
{
	hw__node_storage_failed(n, j->rc, "store");
	for (size_t i = j->to; i < j->n; i++) /* those never prepared */
		request_fail(n, (uint32_t)j->token[i], j->rc);
	n->unprepared -= (uint32_t)(j->n - j->to);
	primary_failed(n, j->rc);
}

/* The store committed through lsn: the outbox may let those entries go (the store
 * serves them from now on). */
static void on_committed(struct hw_node *n, uint64_t lsn)
{
	if (lsn > n->committed_lsn)
		n->committed_lsn = lsn;
	outbox_trim(n);
	hw__snapshot_on_committed(n);
	hw__digest_on_committed(n);
	hw__audit_tick(n); /* a checkpoint due by count, or waiting for this commit */
}

static void writer_cb(void *arg, struct hw_job *j, enum hw_job_stage stage)
{
	struct hw_node *n = arg;
	if (stage == HW_JOB_PREPARED) {
		on_prepared(n, j);
		return;
	}
	if (stage == HW_JOB_COMMITTED) {
		uint64_t lsn;
		int rc = hw_writer_committed(n->writer, &lsn);
		if (rc != 0) {
			hw__node_storage_failed(n, rc, "store"); /* the log keeps what it held */
			primary_failed(n, rc);
		} else {
			on_committed(n, lsn);
		}
		return;
	}
	if (j->rc != 0) {
		on_failed(n, j);
	} else {
		/* With a log in front the job's entries may still be held: the outbox keeps
		 * them until the store has committed them. */
		on_committed(n, j->committed_lsn);
		/* A batch with nothing new (all refused or duplicates) may still release
		 * duplicates waiting for what is already durable. */
		HW_CORE(n, hw_primary_on_durable(&n->core, n->core.local_durable, hw__node_now(n),
						 acts));
	}
	hw_writer_release(n->writer);
	room_came(n); /* the writer's job */
}

/* ---- submits ---------------------------------------------------------------------- */

/* Check mode and k; 0 or the code to answer with. */
static int submit_rule(struct hw_node *n, uint8_t *mode, uint8_t *k)
{
	if (*mode == HW_SUBMIT_MODE_DEFAULT)
		*mode = (uint8_t)n->cfg.mode;
	if (*mode >= HW_MODES)
		return HW_ERANGE;
	if (*k == 0) /* the node's k; at least 1 for a mode that waits for standbys */
		*k = (uint8_t)(n->cfg.k > 0 || *mode == HW_MODE_LOCAL ? n->cfg.k : 1);
	if (!hw_primary_k_possible(&n->core, *mode, *k))
		return HW_ERANGE;
	return n->failed != 0 ? HW_ESTORE_FAILED : 0;
}

/* Queue one record. Returns 0, 1 when there is no room now (try again later), or the
 * code to answer with at once. */
static int queue_record(struct hw_node *n, const uint8_t *rec, size_t len, uint8_t mode,
			uint8_t k, bool system, uint32_t *slot)
{
	int rc = submit_rule(n, &mode, &k);
	if (rc != 0)
		return rc;
	if (len > HW_RECORD_BYTES_MAX)
		return HW_ETOOBIG;
	/* the targets' back-pressure: HW_EBEHIND takes it as a duplicate only */
	int refuse_new = hw__targets_admit(n, system);
	if (refuse_new == 1)
		return 1;
	struct hw_job *j = hw_writer_filling(n->writer);
	if (!hw_job_fits(j, len) || !hw_primary_can_wait(&n->core, n->unprepared + 1) ||
	    n->free_request == NO_SESSION)
		return 1;
	n->unprepared++;
	*slot = request_alloc(n);
	n->requests[*slot].since_ns = hw_mono_ns();
	n->requests[*slot].system = system;
	size_t i = hw_job_add(j, rec, len);
	j->token[i] = *slot;
	j->mode[i] = mode;
	j->k[i] = k;
	j->system[i] = system;
	j->refuse_new[i] = refuse_new;
	return 0;
}

long hw__primary_on_submit(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	struct hw_submit_hdr h;
	if (hw_submit_hdr_get(f->body, f->len, &h) != 0)
		return HW_EFRAME;
	uint32_t slot = NO_SESSION;
	int rc = queue_record(n, f->body + HW_SUBMIT_HEADER_BYTES, f->len - HW_SUBMIT_HEADER_BYTES,
			      h.mode, h.k, false, &slot);
	if (rc == 1)
		return 1;
	if (rc != 0) {
		struct hw_outcome o = {.request_id = h.request_id, .code = rc};
		return hw__node_send_outcome(s->conn, &o);
	}
	struct hw_request *r = &n->requests[slot];
	r->session = s->index;
	r->gen = s->gen;
	r->request_id = h.request_id;
	s->replies_owed++; /* its reply's room is kept from now on (node.c reply_room) */
	return 0;
}

/* Take the embedded submits queued before this pass, in order, as far as there is room.
 * Only those: a callback run here may submit again (hawser.h tells callers to resubmit after
 * an outcome HW_EBUSY), and one answered at once (paused, storage failed, k out of range)
 * taken in the same pass would keep the loop here for ever, deaf to hw_node_stop. Its
 * submit woke the loop, so a later pass takes it. */
void hw__primary_take_ext(struct hw_node *n)
{
	pthread_mutex_lock(&n->ext_mu);
	const struct hw_ext_submit *last = n->ext_tail;
	bool more = last != NULL;
	while (more && n->ext_head != NULL) { /* a stop may have taken them */
		struct hw_ext_submit *e = n->ext_head;
		more = e != last;
		uint32_t slot = NO_SESSION;
		/* A switchover pauses submits: HW_EBUSY, as on the client port (the node's own
		 * records, rare, still go). */
		int rc = n->submits_paused && !e->system ? HW_EBUSY
							 : queue_record(n, e->data, e->len, e->mode,
									e->k, e->system, &slot);
		if (rc == 1)
			break;
		n->ext_head = e->next;
		if (n->ext_head == NULL)
			n->ext_tail = NULL;
		n->ext_count--;
		n->ext_bytes -= e->len;
		n->ext_taken += rc == 0; /* it waits for its outcome: still counted */
		pthread_mutex_unlock(&n->ext_mu);
		if (rc != 0) {
			struct hw_outcome o = {.request_id = e->request_id, .code = rc};
			e->cb(e->cb_arg, &o);
		} else {
			struct hw_request *r = &n->requests[slot];
			r->session = NO_SESSION;
			r->request_id = e->request_id;
			r->cb = e->cb;
			r->cb_arg = e->cb_arg;
		}
		free(e);
		pthread_mutex_lock(&n->ext_mu);
	}
	pthread_mutex_unlock(&n->ext_mu);
}

void hw__primary_room(struct hw_node *n)
{
	if (!n->room_freed || n->writer == NULL)
		return;
	n->room_freed = false;
	hw__primary_take_ext(n);
	hw__node_resume_sessions(n);
}

/* Room of another kind came (the writer's job, the log's), or every waiter was answered:
 * take what waited for it now. */
static void room_came(struct hw_node *n)
{
	n->room_freed = true;
	hw__primary_room(n);
}

void hw__primary_wal_cb(struct hw_node *n, uint64_t durable, int rc)
{
	if (rc != 0) {
		hw__node_storage_failed(n, rc, "wal");
		primary_failed(n, rc);
		return;
	}
	HW_CORE(n, hw_primary_on_durable(&n->core, durable, hw__node_now(n), acts));
	room_came(n); /* the log's */
}

static void ext_async_cb(struct hw_async *a, void *arg)
{
	(void)a;
	hw__primary_take_ext(arg);
}

/* ---- acknowledgements held for lack of standbys ------------------------------------ */

void hw__primary_hold_why(const struct hw_node *n, char *buf, size_t cap)
{
	const struct hw_hold *h = &n->core.hold;
	char k_from[64];
	buf[0] = '\0';
	if (h->waiters == 0)
		return;
	if (h->k == n->core.cfg.k_min)
		snprintf(k_from, sizeof k_from, "k_min %u for %u voters", h->k,
			 n->cfg.failover.n_voters);
	else if (h->k == n->cfg.k)
		snprintf(k_from, sizeof k_from, "durability.k %u", h->k);
	else
		snprintf(k_from, sizeof k_from, "the submit's k %u", h->k);
	bool one = h->waiters == 1;
	snprintf(buf, cap,
		 "%u submit%s wait%s for mode %s on %u standbys (%s) but only %u %s connected: "
		 "acknowledgements are held until another standby connects and catches up",
		 h->waiters, one ? "" : "s", one ? "s" : "", hw_mode_name((enum hw_mode)h->mode),
		 h->k, k_from, h->connected, h->connected == 1 ? "is" : "are");
}

uint64_t hw__primary_safe_lsn(const struct hw_node *n)
{
	/* only connected standbys' positions: a disconnected one's may be gone (its store
	 * restored from an older backup, then promoted) */
	uint64_t all = n->cfg.n_standbys > 0 ? UINT64_MAX : 0;
	for (uint32_t i = 0; i < n->cfg.n_standbys; i++) {
		const struct hw_peer *s = &n->core.peers[i];
		uint64_t d = s->connected ? s->pos.durable : 0;
		if (d < all)
			all = d;
	}
	return all > n->acked_lsn ? all : n->acked_lsn;
}

void hw__primary_hold_check(struct hw_node *n)
{
	const struct hw_hold *h = &n->core.hold;
	if ((h->waiters > 0) == n->acks_held)
		return;
	n->acks_held = h->waiters > 0;
	int64_t now = hw__node_now(n);
	if (!n->acks_held) {
		hw_log("acks_hold_ended", "held_ms=%lld connected=%u waiting=%u",
		       (long long)(now - n->acks_held_ms), h->connected, n->requests_used);
		return;
	}
	n->acks_held_ms = now;
	char why[HW_HOLD_WHY_BYTES];
	hw__primary_hold_why(n, why, sizeof why);
	hw_log("acks_held", "lsn=%llu mode=%s k=%u connected=%u k_min=%u what=\"%s\"",
	       (unsigned long long)h->lsn, hw_mode_name((enum hw_mode)h->mode), h->k, h->connected,
	       n->core.cfg.k_min, why);
}

/* ---- streaming to standbys ---------------------------------------------------------- */

/* Entries [from, to] held in the outbox, as far as they run contiguously in one segment
 * and fit max bytes: *p, *len and *last describe them. false if from is not there. */
static bool outbox_find(struct hw_node *n, uint64_t from, uint64_t to, size_t max,
			const uint8_t **p, size_t *len, uint64_t *last)
{
	/* Segments hold ascending LSNs, so every one before the hint ends before from when
	 * the hint starts at or before it; a lookup behind the hint (a standby catching up
	 * while another streams) walks from the oldest. */
	struct hw_segment *s = n->outbox_hint;
	if (s == NULL || s->first_lsn > from)
		s = n->outbox_head;
	while (s != NULL && s->last_lsn < from)
		s = s->next;
	if (s == NULL || s->first_lsn > from)
		return false;
	n->outbox_hint = s;
	size_t off = 0;
	while (hw_entry_lsn(s->data + off) < from)
		off += hw_entry_len(s->data + off);
	size_t end = off;
	*last = from - 1;
	while (end < s->len && *last < to) {
		size_t el = hw_entry_len(s->data + end);
		if (end - off + el > max)
			break;
		*last = hw_entry_lsn(s->data + end);
		end += el;
	}
	*p = s->data + off;
	*len = end - off;
	return true;
}

static uint32_t count_entries(const uint8_t *p, size_t len)
{
	uint32_t c = 0;
	for (size_t off = 0; off < len; off += hw_entry_len(p + off))
		c++;
	return c;
}

/* Send one APPEND frame of entries starting at link->pending_from. Returns 1 when one
 * went out, 0 when the connection has no room, or a code. */
static int send_one(struct hw_node *n, struct hw_standby_link *l)
{
	const size_t max = HW_FRAME_BYTES_MAX - HW_APPEND_HEADER_BYTES;
	/* A frame carries at most one writer batch of entries: a standby takes a frame
	 * whole into its next batch, or waits until it can. */
	uint64_t to = l->pending_to - l->pending_from < HW_BATCH_RECORDS_MAX
			      ? l->pending_to
			      : l->pending_from + HW_BATCH_RECORDS_MAX - 1;
	const uint8_t *p;
	size_t len;
	uint64_t last;
	if (!outbox_find(n, l->pending_from, to, max, &p, &len, &last)) {
		int rc = hw_store_read_entries(n->store, l->pending_from, to, n->scratch, max,
					       &len, &last);
		if (rc != 0 || last < l->pending_from)
			return rc != 0 ? rc : HW_ENOTFOUND;
		p = n->scratch;
	}
	/* No check of the room first: a send refused with HW_EBUSY is what arms the
	 * connection's on_writable, which resumes this link. */
	uint8_t hdr[HW_FRAME_HEADER_BYTES + HW_APPEND_HEADER_BYTES];
	struct hw_append_hdr ah = {
		.epoch = n->epoch,
		.primary_durable = n->core.local_durable,
		.count = count_entries(p, len),
		.flags = l->pending_from <= l->receipt_to ? 0 : HW_APPEND_NO_RECEIPT,
	};
	hw_append_hdr_put(hdr + HW_FRAME_HEADER_BYTES, &ah);
	hw_frame_header2(hdr, HW_FRAME_APPEND, hdr + HW_FRAME_HEADER_BYTES, HW_APPEND_HEADER_BYTES,
			 p, (uint32_t)len);
	int rc = hw_conn_send2(l->c->conn, hdr, sizeof hdr, p, len);
	if (rc != 0)
		return rc == HW_EBUSY ? 0 : rc;
	l->pending_from = last + 1;
	return 1;
}

static void flush_link(struct hw_node *n, uint32_t peer)
{
	struct hw_standby_link *l = &n->links[peer];
	while (l->c != NULL && l->pending_to != 0 && l->pending_from <= l->pending_to) {
		int rc = send_one(n, l);
		if (rc == 0)
			return;
		if (rc < 0) {
			hw_log("stream_failed", "peer=%s from=%llu code=%s", n->cfg.standbys[peer],
			       (unsigned long long)l->pending_from, hw_errname(rc));
			hw_conn_close(l->c->conn, rc);
			return;
		}
	}
	l->pending_to = 0;
}

void hw__primary_on_writable(struct hw_session *s)
{
	hw__snapshot_on_writable(s);
	if (s->peer >= 0)
		flush_link(s->node, (uint32_t)s->peer);
}

static void send_heartbeat(struct hw_node *n, uint32_t peer)
{
	struct hw_session *s = n->links[peer].c;
	if (s == NULL)
		return;
	Hawser__Wire__V1__Heartbeat m = HAWSER__WIRE__V1__HEARTBEAT__INIT;
	m.epoch = n->epoch;
	m.last_lsn = n->core.last_lsn;
	m.durable_lsn = n->core.local_durable;
	m.time_ms = hw_wall_ms();
	m.apply_wanted = n->apply_wanted;
	hw__node_send_msg(s->conn, HW_FRAME_HEARTBEAT, &m);
}

void hw__primary_act(struct hw_node *n, const struct hw_act *a)
{
	switch (a->type) {
	case HW_ACT_SEND: {
		struct hw_standby_link *l = &n->links[a->peer];
		if (l->pending_to == 0)
			l->pending_from = a->from;
		l->pending_to = a->to;
		if (a->receipt)
			l->receipt_to = a->to;
		flush_link(n, a->peer);
		break;
	}
	case HW_ACT_HEARTBEAT:
		send_heartbeat(n, a->peer);
		break;
	case HW_ACT_RELEASE: {
		/* the fence: with failover, success leaves only while the lease is held */
		if (a->code == 0 && !hw__election_may_release(n, (uint32_t)a->token, a->lsn))
			break;
		struct hw_request *r = &n->requests[a->token];
		struct hw_outcome o = {.code = a->code, .lsn = r->lsn, .duplicate = r->duplicate};
		request_answer(n, (uint32_t)a->token, &o);
		break;
	}
	case HW_ACT_DROP:
		if (n->links[a->peer].c != NULL) {
			hw_log("peer_dropped", "peer=%s code=%s", n->cfg.standbys[a->peer],
			       hw_errname(a->code));
			hw_conn_close(n->links[a->peer].c->conn, a->code);
		}
		break;
	default:
		HW_ASSERT(!"standby action on a primary");
	}
}

/* ---- replication sessions ----------------------------------------------------------- */

int hw__primary_entry_time(struct hw_node *n, uint64_t lsn, int64_t *time_ms)
{
	const uint8_t *p;
	size_t len;
	uint64_t last;
	struct hw_entry e;
	if (outbox_find(n, lsn, lsn, HW_ENTRY_BYTES_MAX, &p, &len, &last) && last == lsn) {
		/* our own entry, checked when it was made: parsed, not hashed again */
		int rc = hw_entry_parse(p, len, &e);
		if (rc == 0)
			*time_ms = e.time_ms;
		return rc;
	}
	uint8_t *buf = NULL;
	int rc = hw_store_read_entry(n->store, lsn, &buf, &len);
	if (rc == 0 && (rc = hw_entry_decode(buf, len, &e)) == 0)
		*time_ms = e.time_ms;
	free(buf);
	return rc;
}

/* Hash of our entry at lsn (outbox or store). */
static int hash_at(struct hw_node *n, uint64_t lsn, uint8_t out[HW_HASH_BYTES])
{
	const uint8_t *p;
	size_t len;
	uint64_t last;
	if (outbox_find(n, lsn, lsn, HW_ENTRY_BYTES_MAX, &p, &len, &last) && last == lsn) {
		memcpy(out, p + 64, HW_HASH_BYTES);
		return 0;
	}
	return hw_store_entry_hash(n->store, lsn, out);
}

/* Its peer id: standbys first, then vaults (config.h); a node is taken in the role its
 * hello names only if our config gives it that role, so a vault never takes a standby's
 * place in k of n. */
static int peer_index(struct hw_node *n, const char *id, int role)
{
	bool vault = role == HAWSER__WIRE__V1__ROLE__VAULT;
	if (!vault && role != HAWSER__WIRE__V1__ROLE__STANDBY)
		return -1;
	uint32_t from = vault ? n->cfg.n_standbys : 0;
	uint32_t to = n->cfg.n_standbys + (vault ? n->cfg.n_vaults : 0);
	for (uint32_t i = from; i < to; i++)
		if (strcmp(n->cfg.standbys[i], id) == 0)
			return (int)i;
	return -1;
}

/* Its chain must be a prefix of ours: same hash at its last LSN (which may be our log's
 * base: its entry is pruned, its hash kept). */
static int chain_matches(struct hw_node *n, const Hawser__Wire__V1__Hello *m)
{
	if (m->last_lsn > n->core.last_lsn)
		return HW_EDIVERGED;
	if (m->last_lsn == 0)
		return 0;
	uint8_t h[HW_HASH_BYTES];
	struct hw_head base;
	int rc = hw_store_base(n->store, &base);
	if (rc == 0 && base.lsn == m->last_lsn)
		memcpy(h, base.hash, HW_HASH_BYTES);
	else if (rc == 0)
		rc = hash_at(n, m->last_lsn, h);
	if (rc != 0)
		return rc;
	return m->last_hash.len == HW_HASH_BYTES && memcmp(h, m->last_hash.data, HW_HASH_BYTES) == 0
		       ? 0
		       : HW_EDIVERGED;
}

/* Whether the standby said its chain (the hash of its entry 1) and it is not ours: its
 * store holds another history (this node's data was wiped or swapped, or the standby
 * was pointed at the wrong primary). No snapshot may replace it. */
static bool other_chain(struct hw_node *n, const Hawser__Wire__V1__Hello *m)
{
	uint8_t own[HW_HASH_BYTES];
	/* Our store may not have committed entry 1 yet (the writer holds its batch open up
	 * to HW_WRITER_COMMIT_MS): its hash is then the log's. Only a node with no entry at
	 * all has no chain. */
	if (m->chain.len != HW_HASH_BYTES || hw__node_chain_id(n, own) != 0)
		return false;
	return memcmp(own, m->chain.data, HW_HASH_BYTES) != 0;
}

/* Take session s as peer's replication connection (a newer one replaces the old) and
 * answer its hello. */
/* A newer connection of peer (s) replaces an older one, whatever it is then told. */
static void drop_old_link(struct hw_session *s, int peer)
{
	struct hw_node *n = s->node;
	struct hw_standby_link *l = &n->links[peer];
	if (l->c != NULL && l->c != s) {
		hw_conn_close(l->c->conn, HW_ECLOSED);
		/* its on_close no longer finds it the link: the core hears it here, so that
		 * nothing it owed the old one (a send, a drop) goes to the new one */
		hw_primary_on_disconnect(&n->core, (uint32_t)peer);
		l->c = NULL;
	}
}

static void link_peer(struct hw_session *s, int peer)
{
	struct hw_node *n = s->node;
	struct hw_standby_link *l = &n->links[peer];
	drop_old_link(s, peer);
	l->c = s;
	l->diverged = (struct hw_repeat){0}; /* a divergence after this is news */
	l->pending_to = l->receipt_to = 0; /* the core sends afresh, asking anew */
	s->peer = peer;
	s->hello = true;
	struct hw_head h = {.lsn = n->core.last_lsn, .epoch = n->epoch}; /* informative */
	hw__node_send_hello(n, s->conn, HAWSER__WIRE__V1__ROLE__PRIMARY, &h, false);
}

/* A standby behind our log's base, or one whose state is stale (Hello.snapshot_wanted:
 * a rejoin of its pruned log): it gets a snapshot, then the log (node_snapshot.c). Its
 * own log cannot be checked against ours (the entries are gone), and need not be: the
 * snapshot replaces it, and the old data is kept aside on the standby. */
static int snapshot_hello(struct hw_session *s, int peer, const Hawser__Wire__V1__Hello *m)
{
	struct hw_node *n = s->node;
	hw_log("peer_needs_snapshot", "peer=%s its_lsn=%llu our_lsn=%llu", m->node_id,
	       (unsigned long long)m->last_lsn, (unsigned long long)n->core.last_lsn);
	drop_old_link(s, peer);
	int rc = hw__snapshot_can_send(n, (uint32_t)peer, m->free_known ? &m->free_bytes : NULL);
	if (rc != 0) {
		hw__node_refuse(s->conn, rc,
				rc == HW_ESTORE_FULL
					? "no room for a snapshot's copy on the primary or this "
					  "standby (snapshot_no_room on=... in the primary's log); "
					  "retry later"
					: "no snapshot can be sent now; retry later");
		return 0;
	}
	link_peer(s, peer);
	rc = hw__snapshot_send(s, (uint32_t)peer);
	if (rc != 0) {
		n->links[peer].c = NULL; /* closed after the ERROR: no longer its link */
		s->peer = -1;
		s->hello = false;
		hw__node_refuse(s->conn, rc, "no snapshot can be sent now; retry later");
	}
	return 0;
}

/* standby_diverged for peer: the first time, then its repeats with their count at most
 * once per HW_REPEAT_LOG_MS (a standby of another chain redials until an operator acts;
 * node_standby.c backs it off). */
static void log_diverged(struct hw_node *n, int peer, const Hawser__Wire__V1__Hello *m, int code,
			 bool other)
{
	uint32_t repeats = 0;
	if (!hw__repeat_say(&n->links[peer].diverged, code, &repeats))
		return;
	unsigned long long its = m->last_lsn, ours = n->core.last_lsn;
	/* reason=other_chain in the format itself: a value holding a space or '=' is quoted
	 * whole (base/log.h), so passed as one it read code=HW_EDIVERGED" reason=other_chain" */
	if (other)
		hw_log("standby_diverged",
		       "peer=%s its_lsn=%llu our_lsn=%llu code=%s reason=other_chain repeated=%u",
		       m->node_id, its, ours, hw_errname(code), repeats);
	else
		hw_log("standby_diverged", "peer=%s its_lsn=%llu our_lsn=%llu code=%s repeated=%u",
		       m->node_id, its, ours, hw_errname(code), repeats);
}

/* Without failover, whether to offer a diverged standby the rejoin: after a failover it
 * sets its suffix aside, but a static primary offers it only to a standby whose log is
 * longer than ours was when we started, naming that head (n->start_lsn), so that the
 * standby judges whether its entries past it can be ones we never acknowledged
 * (docs/failover.md "A static primary restarted"); what we took since then reaches it by
 * streaming once it has set them aside. Only to one that says it judges so
 * (Hello.judges_ahead: an older one would rewind on the epochs alone). */
static bool static_offer(struct hw_node *n, const Hawser__Wire__V1__Hello *m)
{
	return m->judges_ahead && m->last_lsn > n->start_lsn;
}

static int standby_hello(struct hw_session *s, const Hawser__Wire__V1__Hello *m)
{
	struct hw_node *n = s->node;
	int peer = peer_index(n, m->node_id, (int)m->role);
	if (peer < 0) {
		const char *port = hw__session_refused_port(s);
		if (port != NULL)
			hw_log("peer_refused", "peer=%s port=%s node=%s reason=unknown_standby",
			       hw_conn_peer(s->conn), port, m->node_id);
		hw__node_refuse(s->conn, HW_ECLUSTER, "not a standby of this primary");
		return 0;
	}
	if (other_chain(n, m)) {
		log_diverged(n, peer, m, HW_EDIVERGED, true);
		hw__node_refuse(s->conn, HW_EDIVERGED,
				"the standby's store is of another chain (entry 1 differs): no "
				"snapshot or rejoin replaces it; an operator decides");
		return 0;
	}
	bool vault = (uint32_t)peer >= n->cfg.n_standbys;
	if (vault && m->last_lsn > 0 && hw__snapshot_needed(n, m->last_lsn)) {
		/* A vault never lets a snapshot replace its store (node_vault.c): copying one
		 * for it at every reconnect would only load this node. */
		const char *port = hw__session_refused_port(s);
		if (port != NULL)
			hw_log("peer_refused",
			       "peer=%s port=%s node=%s reason=vault_behind_log its_lsn=%llu",
			       hw_conn_peer(s->conn), port, m->node_id,
			       (unsigned long long)m->last_lsn);
		hw__node_refuse(s->conn, HW_EVAULT,
				"the vault's next entry was pruned here; it takes no snapshot");
		return 0;
	}
	bool behind = hw__snapshot_needed(n, m->last_lsn);
	if (behind && !m->snapshot_wanted && hw__rejoin_behind_base(s, m))
		return 0; /* it may hold a divergent suffix: it rejoins first */
	if (m->snapshot_wanted || behind)
		return snapshot_hello(s, peer, m);
	int rc = chain_matches(n, m);
	if (rc != 0) {
		log_diverged(n, peer, m, rc, false);
		if (rc == HW_EDIVERGED && n->voters != NULL)
			hw__rejoin_offer(s, m->last_lsn);
		else if (rc == HW_EDIVERGED && static_offer(n, m))
			hw__rejoin_offer(s, n->start_lsn);
		hw__node_refuse(s->conn, rc, "standby's log does not match the primary's");
		return 0;
	}
	link_peer(s, peer);
	hw_log("peer_connected", "peer=%s its_lsn=%llu our_lsn=%llu", m->node_id,
	       (unsigned long long)m->last_lsn, (unsigned long long)n->core.last_lsn);
	HW_CORE(n, hw_primary_on_connect(&n->core, (uint32_t)peer, m->last_lsn, hw__node_now(n),
				      acts));
	return 0;
}

long hw__primary_on_repl(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	if (f->type == HW_FRAME_HELLO) {
		if (s->peer >= 0)
			return HW_EPROTOCOL;
		Hawser__Wire__V1__Hello *m = hawser__wire__v1__hello__unpack(NULL, f->len, f->body);
		if (m == NULL)
			return HW_EFRAME;
		int rc = standby_hello(s, m);
		hawser__wire__v1__hello__free_unpacked(m, NULL);
		return rc;
	}
	Hawser__Wire__V1__Ack *a = hawser__wire__v1__ack__unpack(NULL, f->len, f->body);
	if (a == NULL || s->peer < 0) {
		hawser__wire__v1__ack__free_unpacked(a, NULL);
		return a == NULL ? HW_EFRAME : HW_EPROTOCOL;
	}
	struct hw_pos pos = {.received = a->received, .durable = a->durable, .applied = a->applied};
	uint64_t epoch = a->epoch;
	hawser__wire__v1__ack__free_unpacked(a, NULL);
	if (n->voters != NULL && epoch < n->epoch) {
		/* every replication message carries the epoch: a lower one is refused */
		hw_log("stale_epoch", "peer=%s its_epoch=%llu our_epoch=%llu", n->cfg.standbys[s->peer],
		       (unsigned long long)epoch, (unsigned long long)n->epoch);
		return HW_EPROTOCOL;
	}
	if (hw__snapshot_on_ack(n, (uint32_t)s->peer, &pos))
		return 0;
	HW_CORE(n, hw_primary_on_ack(&n->core, (uint32_t)s->peer, &pos, hw__node_now(n), acts));
	return 0;
}

void hw__primary_session_gone(struct hw_node *n, struct hw_session *s)
{
	hw__snapshot_session_gone(n, s);
	if (!s->repl || s->peer < 0 || n->links[s->peer].c != s)
		return;
	n->links[s->peer].c = NULL;
	n->links[s->peer].pending_to = 0;
	hw_primary_on_disconnect(&n->core, (uint32_t)s->peer);
	hw_log("peer_lost", "peer=%s", n->cfg.standbys[s->peer]);
}

void hw__primary_tick(struct hw_node *n)
{
	hw__snapshot_tick(n);
	HW_CORE(n, hw_primary_on_tick(&n->core, hw__node_now(n), acts));
}

/* ---- start and stop ----------------------------------------------------------------- */

int hw__primary_start(struct hw_node *n)
{
	uint32_t w = n->cfg.waiters_max;
	n->waiters = calloc(w, sizeof *n->waiters);
	n->requests = calloc(w, sizeof *n->requests);
	n->scratch = malloc(HW_FRAME_BYTES_MAX);
	if (n->waiters == NULL || n->requests == NULL || n->scratch == NULL)
		return HW_ENOMEM;
	for (uint32_t i = 0; i < w; i++)
		n->requests[i].next_free = i + 1 < w ? i + 1 : NO_SESSION;
	n->free_request = 0;
	n->unprepared = 0;
	n->room_freed = false;
	/* from an earlier stint as primary: a rejoin may since have reused its LSNs */
	n->apply_wanted = 0;
	n->cp_wait = 0;
	struct hw_head h;
	hw_store_head(n->store, &h);
	if (n->voters == NULL) /* with failover the election gave the epoch */
		n->epoch = h.epoch > 0 ? h.epoch : 1;
	n->last_wait_lsn = h.lsn;
	n->acks_held = false; /* the core starts holding nothing */
	n->rpo_held = false;  /* a former stint's ended in the log (hw__targets_end) */
	n->replay_closed = false;
	n->acked_lsn = h.lsn; /* the floor: whatever the store holds may have been acknowledged */
	n->start_lsn = h.lsn;
	struct hw_repl_config rc = {
		.standbys = n->cfg.n_standbys + n->cfg.n_vaults,
		.vaults = n->cfg.n_vaults, /* streamed to, never counted */
		.window_records = n->cfg.window_records,
		.waiters_max = w,
		.heartbeat_ms = n->cfg.heartbeat_ms,
		.peer_timeout_ms = hw__node_silent_ms(n), /* acks stuck mid-frame, too */
		/* a submit's own k may be smaller than the config's (refused below it) */
		.k_min = hw__node_k_min(n),
	};
	hw__targets_config(n, &rc); /* with [failover]: the RPO t rule, the replay throttle */
	hw_primary_init(&n->core, &rc, n->epoch, h.lsn, n->waiters);
	/* a failover may discard what is not acknowledged, a restart what is not durable */
	hw_primary_set_vault_limit(&n->core, n->acked_lsn);
	int err = hw_async_new(n->loop, ext_async_cb, n, &n->ext_async);
	if (err != 0)
		return err;
	pthread_mutex_lock(&n->ext_mu);
	n->ext_open = true;
	n->ext_taken = 0; /* a former stint answered all it took as it ended: counted afresh */
	pthread_mutex_unlock(&n->ext_mu);
	n->committed_lsn = h.lsn;
	err = hw_writer_start(n->store, n->loop, HW_JOB_SUBMIT, writer_cb, n, &n->writer);
	if (err != 0)
		return err;
	hw_writer_set_wal(n->writer, n->wal);
	err = hw_loop_before_block(n->loop, kick_writer, n);
	return err != 0 ? err : hw__node_wal_start(n);
}

/* Free what hw__primary_start made; submits not yet taken fail with code. */
static void primary_free(struct hw_node *n, int code)
{
	hw_loop_before_block_cancel(n->loop, kick_writer, n);
	hw__audit_stop(n); /* its record joins the queued submits failed below */
	while (n->outbox_head != NULL) {
		struct hw_segment *s = n->outbox_head;
		n->outbox_head = s->next;
		hw_segment_free(s);
	}
	hw__node_ext_close(n, code);
	if (n->ext_async != NULL)
		hw_async_free(n->ext_async);
	n->ext_async = NULL;
	n->outbox_tail = NULL;
	n->outbox_hint = NULL;
	n->outbox_bytes = 0;
	free(n->waiters);
	free(n->requests);
	free(n->scratch);
	n->waiters = NULL;
	n->requests = NULL;
	n->scratch = NULL;
	n->requests_used = 0;
}

/* Fail what the core does not hold: fenced, or in a batch the writer never reported. */
static void fail_requests(struct hw_node *n, int code)
{
	for (uint32_t i = 0; i < n->cfg.waiters_max; i++)
		if (n->requests[i].used)
			request_fail(n, i, code);
}

void hw__primary_fail_taken(struct hw_node *n)
{
	if (n->requests != NULL && n->waiters != NULL) {
		HW_CORE(n, hw_primary_fail_all(&n->core, HW_ECLOSED, acts));
		fail_requests(n, HW_ECLOSED);
	}
}

void hw__primary_stop(struct hw_node *n)
{
	hw__targets_end(n, "stopped");
	hw__primary_fail_taken(n);
	primary_free(n, HW_ECLOSED);
}

/* Entries the store committed that the log never got: the writer stopped between a
 * batch's PREPARED and the loop seeing it. The log takes them, so store and log end at
 * the same entry again (a standby appends after the log's end). */
static void level_log(struct hw_node *n)
{
	struct hw_head h;
	hw_store_head(n->store, &h);
	while (n->scratch != NULL && hw_wal_last(n->wal)->lsn < h.lsn) {
		uint64_t from = hw_wal_last(n->wal)->lsn + 1, last;
		size_t len;
		int rc = hw_store_read_entries(n->store, from, h.lsn, n->scratch, HW_FRAME_BYTES_MAX,
					       &len, &last);
		if (rc == 0 && last >= from)
			rc = hw_wal_append(n->wal, n->scratch, len, last);
		if (rc != 0 || last < from) {
			hw__node_storage_failed(n, rc != 0 ? rc : HW_ENOTFOUND, "wal");
			return;
		}
	}
}

void hw__primary_leave(struct hw_node *n, int code)
{
	hw__targets_end(n, "stepped_down");
	hw_writer_stop(n->writer); /* the batch under way commits; its callbacks never come */
	n->writer = NULL;
	hw__digest_on_committed(n); /* one waiting for that commit starts */
	level_log(n);
	HW_CORE(n, hw_primary_fail_all(&n->core, code, acts));
	fail_requests(n, code);
	for (uint32_t i = 0; i < n->cfg.n_standbys + n->cfg.n_vaults; i++) {
		struct hw_standby_link *l = &n->links[i];
		if (l->c != NULL) {
			l->c->peer = -1;
			hw_conn_close(l->c->conn, code);
		}
		*l = (struct hw_standby_link){0};
		hw_primary_on_disconnect(&n->core, i);
	}
	hw__snapshot_stop(n);
	primary_free(n, code);
}
