/* sim_check.c: the promises the simulator holds every run to (chaos/sim.h), checked
 * against the truth it keeps (the real logs on the simulated disks, the clients'
 * history), never against what a core believes:
 *
 *   P-SB  at most one primary per epoch; a node may acknowledge only inside its lease
 *         (hw_el_may_ack on its own clock), only as the owner of the newest epoch that
 *         has had a primary, and no two nodes may acknowledge at the same moment.
 *   P-DUR an acknowledged record is, when acknowledged, durable on the primary and on k
 *         standbys in its mode's sense; it is never dropped by a rewind or changed; a
 *         sweep finds it durable on k + 1 nodes; after the heal the final primary holds
 *         it with the same bytes. LOCAL and k = 0 records promise only the primary's
 *         disk: a failover may lose them (counted, not a violation), as may a RECEIVED
 *         record whose holders crashed before writing it. The same at rpo t: there
 *         too the primary raises a RECEIVED, DURABLE or APPLIED record's k to
 *         hw_el_k_min(voters) (engine/config.h hw_config_k_min); P-RPO below bounds
 *         the loss of the rest.
 *   P-ORD applied <= durable <= written everywhere; a standby's log is a prefix of its
 *         primary's (equal chain hash at its head); every entry a standby writes
 *         follows its log's chain; after the heal caught-up replicas are equal.
 *   P-RPO at rpo t > 0 (DESIGN.md "Targets, not knobs": a failover loses at most the
 *         last t of acknowledged submits), checked when a node is elected primary of
 *         the newest epoch: every acknowledged record of an earlier epoch that its log
 *         does not hold (same LSN and chain hash), the records the timeline going on
 *         from it loses, was acknowledged at most t before the newest acknowledgement
 *         any node made before that election, on the true clock, whatever its mode and
 *         k. A record an earlier promotion already lost is judged there, not again
 *         (unless a later promotion held it again). Every promotion in the simulator
 *         is automatic (normal or transfer elections, which the witness gates); a
 *         forced promotion, whose operator accepted a listed loss, would be exempt, and
 *         the simulator makes none. */
#include "chaos/sim.h"

#include <stdarg.h>
#include <stdio.h>

bool sim_violate(struct sim_world *w, const char *name, const char *fmt, ...)
{
	if (w->v.set)
		return false;
	w->v.set = true;
	w->v.step = w->step;
	snprintf(w->v.name, sizeof w->v.name, "%s", name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->v.detail, sizeof w->v.detail, fmt, ap);
	va_end(ap);
	return false;
}

bool sim_rec_protected(const struct sim_rec *r)
{
	if (r->k == 0)
		return false;
	return r->mode == HW_MODE_DURABLE || r->mode == HW_MODE_APPLIED ||
	       (r->mode == HW_MODE_RECEIVED && !r->at_risk);
}

typedef unsigned long long ull;

/* Does node j's log hold record r at its LSN (written; durable when durable)? */
static bool holds(const struct sim_world *w, uint32_t j, const struct sim_rec *r, bool durable)
{
	const struct sim_disk *d = &w->nd[j].disk;
	if ((durable ? d->durable : d->n) < r->lsn)
		return false;
	return sim_disk_hash_at(d, r->lsn) == r->hash;
}

/* ---------------------------------------------------------------- every step */

static bool check_fence(struct sim_world *w)
{
	uint32_t acking = UINT32_MAX;
	for (uint32_t i = 0; i < w->nodes; i++) {
		const struct sim_node *n = &w->nd[i];
		if (!n->up || !hw_el_may_ack(&n->el, sim_local(w, i)))
			continue;
		uint64_t e = n->el.hard.epoch;
		if (e >= SIM_EPOCH_MAX || w->owner[e] != i + 1)
			return sim_violate(w, "P-SB.owner",
					   "node %u may ack in epoch %llu it did not win", i,
					   (ull)e);
		if (e != w->max_primary_epoch)
			return sim_violate(
				w, "P-SB.fence",
				"node %u may ack in epoch %llu, epoch %llu has a primary", i,
				(ull)e, (ull)w->max_primary_epoch);
		if (acking != UINT32_MAX)
			return sim_violate(w, "P-SB.two", "nodes %u and %u may both ack", acking,
					   i);
		acking = i;
	}
	return true;
}

/* A connected standby's log is a prefix of its primary's; the primary believes no more
 * than the standby holds. */
static bool check_link(struct sim_world *w, uint32_t i, uint32_t p)
{
	const struct sim_node *n = &w->nd[i];
	const struct sim_conn *c = &n->pconn[p];
	uint32_t j = sim_peer_node(i, p);
	const struct sim_node *s = &w->nd[j];
	if (!c->open || !s->up || !s->sconn.open || s->sconn.id != c->id)
		return true;
	uint64_t sn = s->disk.n;
	if (sn > n->disk.n ||
	    (sn > 0 && sim_disk_hash_at(&s->disk, sn) != sim_disk_hash_at(&n->disk, sn)))
		return sim_violate(
			w, "P-ORD.prefix",
			"standby %u (log at %llu) is not a prefix of primary %u (at %llu)", j,
			(ull)sn, i, (ull)n->disk.n);
	const struct hw_pos *pos = &n->prim.peers[p].pos;
	if (!w->prm.outcomes_only && (pos->durable > s->disk.durable || pos->applied > s->applied))
		return sim_violate(w, "P-DUR.belief",
				   "primary %u believes standby %u durable %llu applied %llu; "
				   "true %llu %llu",
				   i, j, (ull)pos->durable, (ull)pos->applied, (ull)s->disk.durable,
				   (ull)s->applied);
	return true;
}

static bool check_node(struct sim_world *w, uint32_t i)
{
	const struct sim_node *n = &w->nd[i];
	const struct sim_disk *d = &n->disk;
	if (d->durable > d->n)
		return sim_violate(w, "P-ORD.disk", "node %u durable %llu past written %llu", i,
				   (ull)d->durable, (ull)d->n);
	if (n->dr == SIM_DR_STANDBY) {
		const struct hw_pos *pos = &n->sb.pos;
		if (n->applied > d->durable || pos->applied > pos->durable ||
		    pos->durable > d->durable || n->sb.writing_to != d->n)
			return sim_violate(w, "P-ORD.applied",
					   "standby %u applied %llu/%llu durable %llu/%llu written "
					   "%llu/%llu",
					   i, (ull)n->applied, (ull)pos->applied, (ull)d->durable,
					   (ull)pos->durable, (ull)d->n, (ull)n->sb.writing_to);
	}
	if (n->dr == SIM_DR_PRIMARY) {
		if (n->prim.local_durable > d->durable || n->prim.last_lsn > d->n)
			return sim_violate(
				w, "P-ORD.primary",
				"primary %u believes durable %llu of %llu; true %llu of %llu", i,
				(ull)n->prim.local_durable, (ull)n->prim.last_lsn, (ull)d->durable,
				(ull)d->n);
		for (uint32_t p = 0; p < w->rcfg.standbys; p++)
			if (!check_link(w, i, p))
				return false;
	}
	return true;
}

bool sim_check_step(struct sim_world *w)
{
	if (w->v.set || !check_fence(w))
		return false;
	for (uint32_t i = 0; i < w->data; i++)
		if (w->nd[i].up && !check_node(w, i))
			return false;
	if (w->step % 256 == 0)
		return sim_check_sweep(w);
	return true;
}

/* ---------------------------------------------------------------- events */

void sim_check_ack(struct sim_world *w, uint32_t i, uint64_t token)
{
	const struct sim_node *n = &w->nd[i];
	const struct sim_rec *r = &w->hist[token];
	if (!w->prm.outcomes_only && !hw_el_may_ack(&n->el, sim_local(w, i))) {
		sim_violate(w, "P-SB.lease",
			    "node %u acknowledged lsn %llu of epoch %llu outside its "
			    "lease",
			    i, (ull)r->lsn, (ull)r->epoch);
		return;
	}
	if (r->epoch >= SIM_EPOCH_MAX || w->owner[r->epoch] != i + 1 ||
	    r->epoch != w->max_primary_epoch) {
		sim_violate(w, "P-SB.epoch",
			    "node %u acknowledged in epoch %llu; newest primary's "
			    "epoch %llu",
			    i, (ull)r->epoch, (ull)w->max_primary_epoch);
		return;
	}
	if (!holds(w, i, r, true)) {
		sim_violate(w, "P-DUR.local", "primary %u acknowledged lsn %llu not durable on it",
			    i, (ull)r->lsn);
		return;
	}
	uint32_t have = 0;
	for (uint32_t j = 0; j < w->data; j++) {
		if (j == i)
			continue;
		if (r->mode == HW_MODE_RECEIVED)
			have += (r->held >> j) & 1u;
		else if (r->mode == HW_MODE_DURABLE)
			have += holds(w, j, r, true);
		else if (r->mode == HW_MODE_APPLIED)
			have += holds(w, j, r, true) && w->nd[j].applied >= r->lsn;
	}
	if (!w->prm.outcomes_only && r->mode != HW_MODE_LOCAL && have < r->k)
		sim_violate(w, "P-DUR.ack_rule",
			    "primary %u acknowledged lsn %llu (%s, k=%u) held so by %u standbys", i,
			    (ull)r->lsn, hw_mode_name((enum hw_mode)r->mode), r->k, have);
}

/* The record an entry carries, if the entry is that acknowledged record. */
static struct sim_rec *acked_rec(struct sim_world *w, const struct sim_entry *e)
{
	if (e->record_id >= w->nhist)
		return NULL;
	struct sim_rec *r = &w->hist[e->record_id];
	if (r->state != SIM_REC_ACKED || r->hash != e->hash)
		return NULL;
	return r;
}

void sim_check_truncate(struct sim_world *w, uint32_t i, uint64_t keep)
{
	const struct sim_disk *d = &w->nd[i].disk;
	for (uint64_t lsn = keep + 1; lsn <= d->n; lsn++) {
		const struct sim_rec *r = acked_rec(w, &d->log[lsn - 1]);
		if (r == NULL)
			continue;
		if (sim_rec_protected(r)) {
			sim_violate(
				w, "P-DUR.rewound",
				"node %u rewinds acknowledged lsn %llu of epoch %llu (%s, k=%u)", i,
				(ull)lsn, (ull)r->epoch, hw_mode_name((enum hw_mode)r->mode), r->k);
			return;
		}
		w->st.lost_allowed++;
	}
}

bool sim_check_append(struct sim_world *w, uint32_t i, const struct sim_entry *e)
{
	const struct sim_disk *d = &w->nd[i].disk;
	if (e->lsn != d->n + 1 || e->prev_hash != sim_disk_hash_at(d, d->n))
		return sim_violate(w, "P-ORD.chain",
				   "node %u: entry %llu of epoch %llu does not follow its log (at "
				   "%llu)",
				   i, (ull)e->lsn, (ull)e->epoch, (ull)d->n);
	if (e->hash != sim_entry_hash(e))
		return sim_violate(w, "P-ORD.bytes", "node %u: entry %llu damaged in transit", i,
				   (ull)e->lsn);
	const struct sim_rec *r = e->record_id < w->nhist ? &w->hist[e->record_id] : NULL;
	if (r == NULL || r->epoch != e->epoch || r->lsn != e->lsn || r->payload != e->payload)
		return sim_violate(w, "P-DUR.changed",
				   "node %u: entry %llu is not the record "
				   "submitted",
				   i, (ull)e->lsn);
	return true;
}

/* P-RPO for node i, elected primary of epoch: what its timeline loses (file comment). */
static void check_rpo(struct sim_world *w, uint32_t i, uint64_t epoch)
{
	if (w->rpo_ms <= 0 || epoch != w->max_primary_epoch)
		return; /* rpo 0: P-DUR; an older epoch's primary is fenced before it acks */
	w->st.rpo_elections++;
	const struct sim_rec *oldest = NULL;
	uint64_t lost = 0;
	for (uint64_t t = 0; t < w->nhist; t++) {
		struct sim_rec *r = &w->hist[t];
		if (r->state != SIM_REC_ACKED || r->epoch >= epoch)
			continue;
		if (holds(w, i, r, false)) {
			r->lost = false;
			continue;
		}
		if (r->lost)
			continue;
		r->lost = true;
		lost++;
		if (oldest == NULL || r->acked_at < oldest->acked_at)
			oldest = r;
	}
	if (oldest == NULL)
		return;
	w->st.rpo_lost += lost;
	int64_t span = w->last_ack_at - oldest->acked_at;
	if (span > w->rpo_span_max)
		w->rpo_span_max = span;
	SIM_TRACE(w, "rpo: node %u elected in epoch %llu loses %llu acked, oldest lsn %llu at %lld",
		  i, (ull)epoch, (ull)lost, (ull)oldest->lsn, (long long)oldest->acked_at);
	if (span > w->rpo_ms)
		sim_violate(w, "P-RPO",
			    "node %u elected in epoch %llu lacks %llu acknowledged records; lsn "
			    "%llu of epoch %llu (%s, k=%u) was acknowledged at %lld ms, %lld ms "
			    "before the newest acknowledgement (at %lld ms): past the rpo %lld ms",
			    i, (ull)epoch, (ull)lost, (ull)oldest->lsn, (ull)oldest->epoch,
			    hw_mode_name((enum hw_mode)oldest->mode), oldest->k,
			    (long long)oldest->acked_at, (long long)span, (long long)w->last_ack_at,
			    (long long)w->rpo_ms);
}

void sim_check_become(struct sim_world *w, uint32_t i, uint64_t epoch)
{
	w->st.elections++;
	if (epoch >= SIM_EPOCH_MAX) {
		sim_violate(w, "sim.epochs", "epoch %llu beyond what the simulator tracks",
			    (ull)epoch);
		return;
	}
	if (w->owner[epoch] != 0) {
		sim_violate(w, "P-SB.epoch_owner", "epoch %llu elected node %u and node %u",
			    (ull)epoch, w->owner[epoch] - 1u, i);
		return;
	}
	w->owner[epoch] = (uint8_t)(i + 1);
	if (epoch > w->max_primary_epoch)
		w->max_primary_epoch = epoch;
	check_rpo(w, i, epoch);
}

void sim_check_lost_volatile(struct sim_world *w, uint32_t i)
{
	const struct sim_disk *d = &w->nd[i].disk;
	/* acknowledged or not yet: the primary may still release it on this node's earlier
	 * ack, which was true when given (repl.h), and all RECEIVED promises */
	for (uint64_t lsn = d->durable + 1; lsn <= d->n; lsn++) {
		const struct sim_entry *e = &d->log[lsn - 1];
		if (e->record_id < w->nhist && w->hist[e->record_id].hash == e->hash)
			w->hist[e->record_id].at_risk = true;
	}
}

/* ---------------------------------------------------------------- sweeps */

bool sim_check_sweep(struct sim_world *w)
{
	for (uint64_t t = 0; t < w->nhist; t++) {
		const struct sim_rec *r = &w->hist[t];
		if (r->state != SIM_REC_ACKED || !sim_rec_protected(r))
			continue;
		uint32_t have = 0;
		for (uint32_t j = 0; j < w->data; j++)
			have += holds(w, j, r, true);
		uint32_t need = r->mode == HW_MODE_RECEIVED ? 1u : r->k + 1u;
		if (have < need)
			return sim_violate(w, "P-DUR.copies",
					   "lsn %llu of epoch %llu (%s, k=%u) durable on %u nodes",
					   (ull)r->lsn, (ull)r->epoch,
					   hw_mode_name((enum hw_mode)r->mode), r->k, have);
	}
	return true;
}

/* The one data node that serves as primary holding its lease, with every other data
 * node following it and caught up, or UINT32_MAX. */
static uint32_t converged(const struct sim_world *w)
{
	uint32_t p = UINT32_MAX;
	for (uint32_t i = 0; i < w->data; i++) {
		const struct sim_node *n = &w->nd[i];
		if (n->up && n->dr == SIM_DR_PRIMARY && hw_el_may_ack(&n->el, sim_local(w, i))) {
			if (p != UINT32_MAX)
				return UINT32_MAX;
			p = i;
		}
	}
	if (p == UINT32_MAX)
		return p;
	const struct sim_disk *pd = &w->nd[p].disk;
	for (uint32_t j = 0; j < w->data; j++) {
		const struct sim_node *s = &w->nd[j];
		if (j == p)
			continue;
		const struct sim_conn *c = &w->nd[p].pconn[sim_peer_index(p, j)];
		/* accepted by the primary (a hello sent is not yet a chain that matched) */
		if (!s->up || s->dr != SIM_DR_STANDBY || !s->sconn.open || !c->open ||
		    c->id != s->sconn.id || s->disk.durable != pd->n || pd->durable != pd->n)
			return UINT32_MAX;
	}
	return p;
}

bool sim_converged(const struct sim_world *w)
{
	return converged(w) != UINT32_MAX;
}

bool sim_check_final(struct sim_world *w)
{
	uint32_t p = converged(w);
	if (p == UINT32_MAX)
		return sim_violate(w, "P-LIVE",
				   "no primary with a lease and caught-up standbys "
				   "after the heal");
	const struct sim_disk *pd = &w->nd[p].disk;
	for (uint32_t j = 0; j < w->data; j++)
		if (sim_disk_hash_at(&w->nd[j].disk, pd->n) != sim_disk_hash_at(pd, pd->n) ||
		    w->nd[j].disk.n != pd->n)
			return sim_violate(w, "P-ORD.replicas",
					   "node %u's log differs from primary %u's", j, p);
	for (uint64_t t = 0; t < w->nhist; t++) {
		const struct sim_rec *r = &w->hist[t];
		if (r->state != SIM_REC_ACKED || holds(w, p, r, true))
			continue;
		if (!sim_rec_protected(r)) {
			w->st.lost_allowed++;
			continue;
		}
		return sim_violate(w, "P-DUR.lost",
				   "lsn %llu of epoch %llu (%s, k=%u, acknowledged at %lld ms) is "
				   "not in the final primary %u's log",
				   (ull)r->lsn, (ull)r->epoch, hw_mode_name((enum hw_mode)r->mode),
				   r->k, (long long)r->acked_at, p);
	}
	return true;
}
