/* repl.c: the replication protocol as a pure state machine (engine/core/repl.h).
 *
 * Every decision is derived from positions, never from a queue of pending work: the
 * sends from sent and pos.received, the releases from the waiters and the positions, the
 * standby's WRITE from writing_to and its ACK from ack_due. That is what lets an event
 * stop at its action cap and the next one carry on, and what lets the simulator check
 * every step against the truth. */
#include "engine/core/repl.h"

#include <string.h>

#include "base/assert.h"
#include "hawser_error.h"

static const char *const mode_names[HW_MODES] = {"local", "received", "durable", "applied"};

const char *hw_mode_name(enum hw_mode m)
{
	if ((unsigned)m >= HW_MODES)
		return "?";
	return mode_names[m];
}

int hw_mode_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < HW_MODES; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return i;
	return -1;
}

/* Append a to out; false (and nothing written) when out is full. */
static bool push(struct hw_acts *out, const struct hw_act *a)
{
	if (out->n >= out->cap)
		return false;
	out->v[out->n++] = *a;
	return true;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---------------------------------------------------------------- primary */

static struct hw_waiter *waiter_at(const struct hw_primary *p, uint32_t i)
{
	return &p->waiters[(p->w_head + i) % p->cfg.waiters_max];
}

static uint64_t pos_field(const struct hw_pos *pos, enum hw_mode mode)
{
	switch (mode) {
	case HW_MODE_RECEIVED:
		return pos->received;
	case HW_MODE_DURABLE:
		return pos->durable;
	case HW_MODE_APPLIED:
		return pos->applied;
	case HW_MODE_LOCAL:
		break;
	}
	return UINT64_MAX;
}

/* The release rule (repl.h, DESIGN.md "Durability modes"): durable here, and k of the
 * configured standbys (never a vault: they come last) at or past lsn in the mode's position.
 * Disconnected standbys count with the positions they acked: those acks were true when given.
 * *could (when it does not hold and w is durable here): the standbys past lsn and those
 * connected, which may still get there; fewer than k means w is held (struct hw_hold). */
static bool rule_holds(const struct hw_primary *p, const struct hw_waiter *w, uint32_t *could)
{
	*could = 0;
	if (p->local_durable < w->lsn)
		return false;
#ifdef HW_MUTANT_ACK_EARLY /* a deliberate bug, build/hawser-mutant only (docs/testing.md) */
	return true;
#endif
	if (w->mode == HW_MODE_LOCAL)
		return true;
	uint32_t have = 0, coming = 0;
	for (uint32_t i = 0; i < p->cfg.standbys - p->cfg.vaults; i++) {
		if (pos_field(&p->peers[i].pos, (enum hw_mode)w->mode) >= w->lsn)
			have++;
		else if (p->peers[i].connected)
			coming++;
	}
	*could = have + coming;
	return have >= w->k;
}

/* ---------------------------------------------------------------- the RPO t rule */

static struct hw_ahead_span *span_at(struct hw_ahead *a, uint32_t i)
{
	return &a->span[(a->head + i) % HW_AHEAD_SPANS];
}

/* What k standbys (never a vault) hold durable: the largest durable LSN that at least k
 * of them have reached; 0 when there are fewer than k. With k = all of them, the least.
 * Disconnected ones count with what they acked, as in rule_holds. */
static uint64_t durable_on(const struct hw_primary *p, uint32_t k)
{
	uint32_t n = p->cfg.standbys - p->cfg.vaults;
	uint64_t best = 0;
	if (k == 0 || k > n)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d = p->peers[i].pos.durable;
		uint32_t reached = 0;
		for (uint32_t j = 0; d > best && j < n; j++)
			reached += p->peers[j].pos.durable >= d;
		if (d > best && reached >= k)
			best = d;
	}
	return best;
}

/* When the oldest acknowledged record above lsn was acknowledged, at the earliest
 * (struct hw_ahead); INT64_MAX when lsn holds every one. */
static int64_t acked_after(const struct hw_ahead *a, uint64_t lsn)
{
	if (lsn >= a->acked)
		return INT64_MAX;
	if (lsn < a->base)
		return a->t0_ms;
	for (uint32_t i = 0; i < a->count; i++) {
		const struct hw_ahead_span *s = &a->span[(a->head + i) % HW_AHEAD_SPANS];
		if (s->lsn > lsn)
			return s->at_ms;
	}
	HW_ASSERT(!"the newest span ends at acked");
	return a->t0_ms;
}

/* Records up to lsn are acknowledged at now_ms (those already were keep their time). */
static void ahead_acked(struct hw_ahead *a, uint64_t lsn, int64_t now_ms)
{
	if (lsn <= a->acked)
		return;
	a->acked = lsn;
	if (a->count > 0 && now_ms - span_at(a, a->count - 1)->at_ms < a->gap_ms) {
		span_at(a, a->count - 1)->lsn = lsn; /* its older time covers them */
		return;
	}
	if (a->count == HW_AHEAD_SPANS) { /* the two oldest merge: the older time stays */
		span_at(a, 1)->at_ms = span_at(a, 0)->at_ms;
		a->head = (a->head + 1) % HW_AHEAD_SPANS;
		a->count--;
	}
	*span_at(a, a->count) = (struct hw_ahead_span){lsn, now_ms};
	a->count++;
	HW_ASSERT(a->count <= HW_AHEAD_SPANS);
}

/* Bring the rule to now_ms: forget spans every standby holds durable, find the oldest
 * record at risk. Returns whether a waiter may be released: commits run ahead by at most
 * max_ahead_ms (always, with the rule off). */
static bool ahead_begin(struct hw_primary *p, int64_t now_ms)
{
	struct hw_ahead *a = &p->ahead;
	if (p->cfg.max_ahead_ms <= 0)
		return true;
	if (!a->t0_set) { /* what the store holds: already past the limit (struct hw_ahead) */
		a->t0_ms = now_ms - p->cfg.max_ahead_ms - 1;
		a->t0_set = true;
	}
	uint64_t everywhere = durable_on(p, p->cfg.standbys - p->cfg.vaults);
	while (a->count > 0 && span_at(a, 0)->lsn <= everywhere) {
		a->base = span_at(a, 0)->lsn;
		a->head = (a->head + 1) % HW_AHEAD_SPANS;
		a->count--;
	}
	a->oldest_ms = acked_after(a, durable_on(p, p->cfg.ahead_k));
	return a->oldest_ms == INT64_MAX || now_ms - a->oldest_ms <= p->cfg.max_ahead_ms;
}

/* After the releases of an event: what they put at risk, and what the rule held. */
static void ahead_end(struct hw_primary *p, uint32_t held, uint64_t held_lsn)
{
	struct hw_ahead *a = &p->ahead;
	if (p->cfg.max_ahead_ms <= 0)
		return;
	a->oldest_ms = acked_after(a, durable_on(p, p->cfg.ahead_k));
	a->held = held;
	a->held_lsn = held_lsn;
}

/* The replay throttle (struct hw_replay), judged on the positions after an event. */
static void replay_judge(struct hw_primary *p)
{
	struct hw_replay *r = &p->replay;
	uint64_t budget = p->cfg.replay_budget;
	if (budget == 0)
		return;
	r->peer = -1;
	for (uint32_t i = 0; i < p->cfg.standbys - p->cfg.vaults; i++) {
		const struct hw_pos *s = &p->peers[i].pos;
		const struct hw_pos *b = r->peer < 0 ? NULL : &p->peers[r->peer].pos;
		if (p->peers[i].connected &&
		    (b == NULL || s->durable > b->durable ||
		     (s->durable == b->durable && s->applied > b->applied)))
			r->peer = (int)i;
	}
	const struct hw_pos *b = r->peer < 0 ? NULL : &p->peers[r->peer].pos;
	r->backlog = b == NULL ? 0 : b->received - b->applied;
	if (b == NULL)
		r->closed = false;
	else if (!r->closed)
		r->closed = r->backlog >= budget;
	else
		r->closed = r->backlog >= budget - budget / HW_REPLAY_RESUME_DIV;
}

bool hw_primary_admits(const struct hw_primary *p)
{
	return !p->replay.closed;
}

int64_t hw_primary_ahead_ms(const struct hw_primary *p, int64_t now_ms)
{
	const struct hw_ahead *a = &p->ahead;
	if (p->cfg.max_ahead_ms <= 0 || a->oldest_ms == INT64_MAX || now_ms < a->oldest_ms)
		return 0;
	return now_ms - a->oldest_ms;
}

int64_t hw_primary_acked_age_ms(const struct hw_primary *p, uint64_t lsn, int64_t now_ms)
{
	const struct hw_ahead *a = &p->ahead;
	if (p->cfg.max_ahead_ms <= 0 || !a->t0_set)
		return 0;
	int64_t at = acked_after(a, lsn);
	return at == INT64_MAX || now_ms < at ? 0 : now_ms - at;
}

/* ---------------------------------------------------------------- releases */

static uint32_t standbys_connected(const struct hw_primary *p)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->cfg.standbys - p->cfg.vaults; i++)
		n += p->peers[i].connected;
	return n;
}

/* Forget released waiters at the head of the ring; the rest keep their order. */
static void pop_released(struct hw_primary *p)
{
	while (p->w_count > 0 && waiter_at(p, 0)->released) {
		p->w_head = (p->w_head + 1) % p->cfg.waiters_max;
		p->w_count--;
	}
}

/* Release every waiter whose rule holds, in LSN order but past ones still waiting in a
 * stricter mode. Every mode needs lsn <= local_durable, and LSNs do not decrease, so the
 * scan stops at the first waiter beyond it. The same scan finds the waiters held for lack
 * of standbys (p->hold). */
static void release_ready(struct hw_primary *p, int64_t now_ms, struct hw_acts *out)
{
	struct hw_hold hold = {.connected = standbys_connected(p)};
	bool lead_ok = ahead_begin(p, now_ms); /* the RPO t rule lets new acks go */
	uint32_t lead_held = 0;
	uint64_t lead_lsn = 0;
	bool room = true; /* once out is full the scan goes on for the holds alone */
	for (uint32_t i = 0; i < p->w_count; i++) {
		struct hw_waiter *w = waiter_at(p, i);
		if (w->lsn > p->local_durable)
			break;
		if (w->released)
			continue;
		uint32_t could;
		if (!rule_holds(p, w, &could)) {
			if (could < w->k && hold.waiters++ == 0) {
				hold.lsn = w->lsn;
				hold.mode = w->mode;
				hold.k = w->k;
			}
			continue;
		}
		if (!lead_ok && w->acks != 0) { /* any mode, any LSN: struct hw_ahead */
			if (lead_held++ == 0)
				lead_lsn = w->lsn;
			continue;
		}
		struct hw_act a = {.type = HW_ACT_RELEASE, .token = w->token, .lsn = w->lsn};
		room = room && push(out, &a);
		w->released = room;
		if (room && p->cfg.max_ahead_ms > 0)
			ahead_acked(&p->ahead, w->acks, now_ms);
	}
	p->hold = hold;
	ahead_end(p, lead_held, lead_lsn);
	pop_released(p);
}

/* Emit a DROP owed to peer i, if any and if it fits. */
static void flush_drop(struct hw_primary *p, uint32_t i, struct hw_acts *out)
{
	struct hw_peer *peer = &p->peers[i];
	if (peer->drop_code == 0)
		return;
	struct hw_act a = {.type = HW_ACT_DROP, .peer = i, .code = peer->drop_code};
	if (push(out, &a))
		peer->drop_code = 0;
}

/* The peer is gone from our side: sent falls back to what it holds durable. */
static void peer_gone(struct hw_peer *peer)
{
	peer->connected = false;
	peer->sent = peer->pos.durable;
}

/* Condemn peer i's connection: it counts as gone now, and a DROP is owed until it fits. */
static void drop_peer(struct hw_primary *p, uint32_t i, int code, struct hw_acts *out)
{
	peer_gone(&p->peers[i]);
	p->peers[i].drop_code = code;
	flush_drop(p, i, out);
}

/* Send peer i what its window allows: [sent + 1, min(last_lsn, received + window)]. A
 * peer with window_records unacked entries gets nothing until it acks. */
static void send_window(struct hw_primary *p, uint32_t i, int64_t now_ms, struct hw_acts *out)
{
	struct hw_peer *peer = &p->peers[i];
	bool vault = i >= p->cfg.standbys - p->cfg.vaults;
	uint64_t last = vault ? min_u64(p->last_lsn, p->vault_limit) : p->last_lsn;
	if (!peer->connected || peer->sent >= last)
		return;
	HW_ASSERT(peer->sent >= peer->pos.received);
	if (peer->sent - peer->pos.received >= p->cfg.window_records)
		return;
	struct hw_act a = {
		.type = HW_ACT_SEND,
		.peer = i,
		.from = peer->sent + 1,
		.to = min_u64(last, peer->pos.received + p->cfg.window_records),
		.lsn = p->local_durable,
	};
	a.receipt = p->receipt_wanted >= a.from ||
		    a.to - peer->pos.received >= (p->cfg.window_records + 1) / 2;
	if (!push(out, &a))
		return;
	peer->sent = a.to;
	peer->last_tx_ms = now_ms;
}

/* Everything an event may owe: drops, releases, and (sends set) sends. Releases go
 * before sends: a client waiting is the latency that matters. The replay throttle is
 * judged last, on the positions the event left. */
static void progress(struct hw_primary *p, int64_t now_ms, bool sends, struct hw_acts *out)
{
	for (uint32_t i = 0; i < p->cfg.standbys; i++)
		flush_drop(p, i, out);
	release_ready(p, now_ms, out);
	for (uint32_t i = 0; sends && i < p->cfg.standbys; i++)
		send_window(p, i, now_ms, out);
	replay_judge(p);
}

static void check_primary(const struct hw_primary *p)
{
	HW_ASSERT(p->local_durable <= p->last_lsn);
	HW_ASSERT(p->w_count <= p->cfg.waiters_max);
}

void hw_primary_init(struct hw_primary *p, const struct hw_repl_config *cfg, uint64_t epoch,
		     uint64_t last_lsn, struct hw_waiter *waiters)
{
	HW_ASSERT(cfg->standbys <= HW_PEERS_MAX); /* none: a primary alone, mode local */
	HW_ASSERT(cfg->vaults <= cfg->standbys);
	HW_ASSERT(cfg->window_records >= 1);
	HW_ASSERT(cfg->waiters_max >= 1 && waiters != NULL);
	HW_ASSERT(cfg->max_ahead_ms >= 0);
	HW_ASSERT(cfg->max_ahead_ms == 0 ||
		  (cfg->ahead_k >= 1 && cfg->ahead_k <= cfg->standbys - cfg->vaults));
	memset(p, 0, sizeof *p);
	p->cfg = *cfg;
	p->epoch = epoch;
	p->last_lsn = last_lsn;
	p->local_durable = last_lsn;
	p->waiters = waiters;
	p->vault_limit = UINT64_MAX;
	/* what the store holds may have been acknowledged: from the first event on */
	p->ahead.base = p->ahead.acked = last_lsn;
	p->ahead.gap_ms = cfg->max_ahead_ms / (HW_AHEAD_SPANS / 2) > 1
				  ? cfg->max_ahead_ms / (HW_AHEAD_SPANS / 2)
				  : 1;
	p->ahead.oldest_ms = INT64_MAX;
	p->replay.peer = -1;
	memset(waiters, 0, sizeof *waiters * cfg->waiters_max);
}

void hw_primary_set_vault_limit(struct hw_primary *p, uint64_t lsn)
{
	p->vault_limit = lsn; /* lower too: a standby gone vouches for nothing more */
}

bool hw_primary_can_wait(const struct hw_primary *p, uint32_t more)
{
	return p->cfg.waiters_max - p->w_count >= more;
}

bool hw_primary_k_possible(const struct hw_primary *p, enum hw_mode mode, uint32_t k)
{
	if ((unsigned)mode >= HW_MODES)
		return false;
	return mode == HW_MODE_LOCAL || k <= p->cfg.standbys - p->cfg.vaults;
}

void hw_primary_on_append(struct hw_primary *p, uint64_t last_lsn, int64_t now_ms,
			  struct hw_acts *out)
{
	HW_ASSERT(last_lsn >= p->last_lsn);
	p->last_lsn = last_lsn;
	check_primary(p);
	progress(p, now_ms, true, out);
}

void hw_primary_on_submit(struct hw_primary *p, uint64_t token, uint64_t lsn, uint64_t acks,
			  enum hw_mode mode, uint32_t k, int64_t now_ms, struct hw_acts *out)
{
	HW_ASSERT(hw_primary_can_wait(p, 1));
	HW_ASSERT((unsigned)mode < HW_MODES);
	HW_ASSERT(acks <= lsn);
	HW_ASSERT(p->w_count == 0 || waiter_at(p, p->w_count - 1)->lsn <= lsn);
	if (mode != HW_MODE_LOCAL && k < p->cfg.k_min)
		k = p->cfg.k_min;
	/* k beyond any peer count waits forever anyway; clamping keeps it in a byte. */
	uint8_t k8 = (uint8_t)(k > HW_PEERS_MAX + 1u ? HW_PEERS_MAX + 1u : k);
	*waiter_at(p, p->w_count) = (struct hw_waiter){
		.token = token, .lsn = lsn, .acks = acks, .mode = (uint8_t)mode, .k = k8};
	p->w_count++;
	if (mode == HW_MODE_RECEIVED)
		p->receipt_wanted = max_u64(p->receipt_wanted, lsn);
	progress(p, now_ms, false, out);
}

void hw_primary_on_durable(struct hw_primary *p, uint64_t lsn, int64_t now_ms, struct hw_acts *out)
{
	HW_ASSERT(lsn <= p->last_lsn);
	p->local_durable = max_u64(p->local_durable, lsn);
	check_primary(p);
	progress(p, now_ms, false, out);
}

void hw_primary_on_connect(struct hw_primary *p, uint32_t peer, uint64_t its_lsn, int64_t now_ms,
			   struct hw_acts *out)
{
	HW_ASSERT(peer < p->cfg.standbys);
	struct hw_peer *pr = &p->peers[peer];
	pr->drop_code = 0;
	if (its_lsn > p->last_lsn) {
		/* It holds entries we never wrote: not our chain, whatever the driver saw. */
		pr->connected = false;
		pr->drop_code = HW_EPROTOCOL;
		progress(p, now_ms, true, out);
		return;
	}
	pr->connected = true;
	pr->sent = its_lsn;
	pr->pos = (struct hw_pos){its_lsn, its_lsn, its_lsn};
	pr->last_rx_ms = now_ms;
	pr->last_tx_ms = now_ms;
	progress(p, now_ms, true, out);
}

void hw_primary_on_ack(struct hw_primary *p, uint32_t peer, const struct hw_pos *pos,
		       int64_t now_ms, struct hw_acts *out)
{
	HW_ASSERT(peer < p->cfg.standbys);
	struct hw_peer *pr = &p->peers[peer];
	if (!pr->connected)
		return;
	if (pos->received > pr->sent || pos->durable > pos->received ||
	    pos->applied > pos->durable) {
		drop_peer(p, peer, HW_EPROTOCOL, out);
		progress(p, now_ms, true, out);
		return;
	}
	/* Field by field: the maximum of two orderly acks is still orderly. */
	pr->pos.received = max_u64(pr->pos.received, pos->received);
	pr->pos.durable = max_u64(pr->pos.durable, pos->durable);
	pr->pos.applied = max_u64(pr->pos.applied, pos->applied);
	pr->last_rx_ms = now_ms;
	HW_ASSERT(pr->pos.applied <= pr->pos.durable && pr->pos.durable <= pr->pos.received);
	HW_ASSERT(pr->pos.received <= pr->sent);
	progress(p, now_ms, true, out);
}

void hw_primary_on_disconnect(struct hw_primary *p, uint32_t peer)
{
	HW_ASSERT(peer < p->cfg.standbys);
	peer_gone(&p->peers[peer]);
}

void hw_primary_on_tick(struct hw_primary *p, int64_t now_ms, struct hw_acts *out)
{
	for (uint32_t i = 0; i < p->cfg.standbys; i++) {
		struct hw_peer *pr = &p->peers[i];
		if (pr->connected && now_ms - pr->last_rx_ms > p->cfg.peer_timeout_ms)
			drop_peer(p, i, HW_ESILENT, out);
	}
	progress(p, now_ms, true, out);
	for (uint32_t i = 0; i < p->cfg.standbys; i++) {
		struct hw_peer *pr = &p->peers[i];
		if (!pr->connected || now_ms - pr->last_tx_ms < p->cfg.heartbeat_ms)
			continue;
		struct hw_act a = {.type = HW_ACT_HEARTBEAT, .peer = i, .lsn = p->local_durable};
		if (!push(out, &a))
			break;
		pr->last_tx_ms = now_ms;
	}
}

void hw_primary_fail_all(struct hw_primary *p, int code, struct hw_acts *out)
{
	for (uint32_t i = 0; i < p->w_count; i++) {
		struct hw_waiter *w = waiter_at(p, i);
		if (w->released)
			continue;
		struct hw_act a = {
			.type = HW_ACT_RELEASE, .code = code, .token = w->token, .lsn = w->lsn};
		if (!push(out, &a))
			break;
		w->released = true;
	}
	p->hold = (struct hw_hold){.connected = standbys_connected(p)};
	p->ahead.held = 0; /* nor does the rule hold any */
	p->ahead.held_lsn = 0;
	pop_released(p);
}

/* ---------------------------------------------------------------- standby */

static void check_standby(const struct hw_standby *s)
{
	HW_ASSERT(s->pos.durable <= s->writing_to && s->writing_to <= s->pos.received);
	HW_ASSERT(s->pos.applied <= s->pos.durable);
}

/* Everything the standby may owe: a DROP, a WRITE of what arrived, an ACK. */
static void standby_flush(struct hw_standby *s, int64_t now_ms, struct hw_acts *out)
{
	if (s->drop_code != 0) {
		struct hw_act a = {.type = HW_ACT_DROP, .code = s->drop_code};
		if (!push(out, &a))
			return;
		s->drop_code = 0;
	}
	/* Entries beyond writing_to die with their connection (repl.h on_disconnect). */
	if (s->connected && s->writing_to < s->pos.received) {
		struct hw_act a = {
			.type = HW_ACT_WRITE, .from = s->writing_to + 1, .to = s->pos.received};
		if (!push(out, &a))
			return;
		s->writing_to = s->pos.received;
	}
	if (s->ack_due && s->connected) {
		struct hw_act a = {.type = HW_ACT_ACK, .pos = s->pos};
		if (!push(out, &a))
			return;
		s->ack_due = false;
		s->last_ack_ms = now_ms;
	}
}

static void standby_drop(struct hw_standby *s, int code, int64_t now_ms, struct hw_acts *out)
{
	s->connected = false;
	s->drop_code = code;
	s->ack_due = false;
	standby_flush(s, now_ms, out);
}

void hw_standby_init(struct hw_standby *s, uint64_t epoch, uint64_t durable_lsn,
		     int64_t ack_interval_ms, int64_t timeout_ms)
{
	memset(s, 0, sizeof *s);
	s->epoch = epoch;
	s->pos = (struct hw_pos){durable_lsn, durable_lsn, durable_lsn};
	s->writing_to = durable_lsn;
	s->stored = durable_lsn;
	s->ack_interval_ms = ack_interval_ms;
	s->timeout_ms = timeout_ms;
}

void hw_standby_on_entries(struct hw_standby *s, uint64_t first, uint64_t last,
			   uint64_t primary_durable, bool receipt, int64_t now_ms,
			   struct hw_acts *out)
{
	if (!s->connected) {
		standby_flush(s, now_ms, out);
		return;
	}
	if (last < first) {
		standby_drop(s, HW_EPROTOCOL, now_ms, out);
		return;
	}
	if (first != s->pos.received + 1) {
		standby_drop(s, HW_ELSN, now_ms, out);
		return;
	}
	s->pos.received = last;
	s->primary_durable = max_u64(s->primary_durable, primary_durable);
	s->primary_heard = true;
	s->last_rx_ms = now_ms;
	s->ack_due = s->ack_due || receipt;
	check_standby(s);
	standby_flush(s, now_ms, out);
}

/* applied as acked is what the store applied and the log made durable: a store commit
 * may finish before the log's flush of the same entries. */
static void standby_positions(struct hw_standby *s, uint64_t durable, uint64_t stored)
{
	uint64_t applied = min_u64(stored, durable);
	if (durable > s->pos.durable || applied > s->pos.applied)
		s->ack_due = true;
	s->pos.durable = max_u64(s->pos.durable, durable);
	s->pos.applied = max_u64(s->pos.applied, applied);
	s->stored = max_u64(s->stored, stored);
}

void hw_standby_on_durable(struct hw_standby *s, uint64_t lsn, int64_t now_ms, struct hw_acts *out)
{
	HW_ASSERT(lsn <= s->writing_to);
	standby_positions(s, lsn, s->stored);
	check_standby(s);
	standby_flush(s, now_ms, out);
}

void hw_standby_on_applied(struct hw_standby *s, uint64_t lsn, int64_t now_ms, struct hw_acts *out)
{
	HW_ASSERT(lsn <= s->writing_to);
	standby_positions(s, s->pos.durable, lsn);
	check_standby(s);
	standby_flush(s, now_ms, out);
}

void hw_standby_on_heartbeat(struct hw_standby *s, uint64_t primary_durable, bool reply_requested,
			     int64_t now_ms, struct hw_acts *out)
{
	if (s->connected) {
		s->primary_durable = max_u64(s->primary_durable, primary_durable);
		s->primary_heard = true;
		s->last_rx_ms = now_ms;
		if (reply_requested || now_ms - s->last_ack_ms >= s->ack_interval_ms)
			s->ack_due = true;
	}
	standby_flush(s, now_ms, out);
}

void hw_standby_on_heard(struct hw_standby *s, int64_t now_ms)
{
	if (s->connected)
		s->last_rx_ms = now_ms;
}

void hw_standby_on_disconnect(struct hw_standby *s)
{
	s->connected = false;
	s->ack_due = false;
}

void hw_standby_on_connect(struct hw_standby *s, int64_t now_ms)
{
	HW_ASSERT(s->writing_to == s->pos.durable); /* the driver waits for the log's flush */
	s->pos.received = s->pos.durable;
	s->connected = true;
	s->drop_code = 0;
	s->ack_due = false; /* the hello tells the primary pos.durable */
	s->last_rx_ms = now_ms;
	s->last_ack_ms = now_ms;
	check_standby(s);
}

void hw_standby_on_tick(struct hw_standby *s, int64_t now_ms, struct hw_acts *out)
{
	if (s->connected && now_ms - s->last_rx_ms > s->timeout_ms) {
		standby_drop(s, HW_ESILENT, now_ms, out);
		return;
	}
	if (s->connected && now_ms - s->last_ack_ms >= s->ack_interval_ms)
		s->ack_due = true;
	standby_flush(s, now_ms, out);
}
