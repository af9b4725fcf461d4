/* history.c: hawser-chaos's history checker, run on a stopped cluster.
 *
 * - Durability: every record the client saw acknowledged (code 0, LSN L) must be in the
 *   final primary's log at L with the same bytes, and on every standby that was caught
 *   up at the settle; a record found with the same bytes at another LSN (acknowledged by
 *   an old primary, answered as a duplicate elsewhere) is counted as moved, not lost;
 *   caught-up standbys must also equal the primary (head, chain hash, state digest).
 *   A schedule that did not settle has no final primary: every acknowledged record must
 *   then be at L on at least one data node (the union of their stores), and the
 *   schedule fails on liveness (unsettled), so a loss is never hidden behind it. A
 *   record acknowledged in local mode (hw_ch_local) and absent everywhere is that
 *   mode's allowed loss (local_lost), not a broken promise.
 * - Split brain: the nodes' logs give each primary term (became_primary epoch=E
 *   wall_ms), its first acknowledgement (first_ack wall_ms) and its last (stepped_down or
 *   fenced last_ack_wall_ms; for a term cut short by SIGKILL, the kill time, or the
 *   SIGSTOP time when the process was stopped when killed, or the start of a stall of
 *   its event loop still under way (the fault shim's stall_injected line with no
 *   stall_ended after it: the loop sends every acknowledgement): it acknowledged nothing
 *   later). Two terms of different epochs overlap when the older one acknowledged after
 *   the newer one (which acknowledged too) became primary: the voters elect only once the
 *   old lease is over, so the old primary's last acknowledgement must come first, even
 *   when the new one's first comes much later (its clients follow it late); two terms of
 *   one epoch on two nodes always count. One host, one wall clock: the times compare.
 * - Errors: every failed outcome has a code hw_errname() knows (an HW_E* or an errno
 *   name), and no record the generator made invalid was acknowledged.
 * - Quarantine: a rejoin moves a node's divergent suffix aside, never drops it. Every
 *   entry a data node's log says a rejoin moved (event=rejoined) must be a row of its
 *   quarantine table, and a head its store held (read by chaos/run.c after a kill or a
 *   crash, and at each heal before the traffic passes) must be there with the same chain
 *   hash once a later rejoin cut below it (hw_ch_check_quarantine). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "chaos/history.h"
#include "replica/entry.h"
#include "replica/rejoin.h"
#include "replica/store.h"

#define TERMS_MAX 512

static void note(struct hw_ch_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct hw_ch_result *r, const char *fmt, ...)
{
	if (r->first[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->first, sizeof r->first, fmt, ap);
	va_end(ap);
}

/* ---- durability ------------------------------------------------------------------- */

static bool holds_at(struct hw_store *s, uint64_t lsn, const uint8_t *rec, size_t len)
{
	uint8_t *e;
	size_t elen;
	if (hw_store_read_entry(s, lsn, &e, &elen) != 0)
		return false;
	bool same = elen == HW_ENTRY_HEADER_BYTES + len &&
		    memcmp(e + HW_ENTRY_HEADER_BYTES, rec, len) == 0;
	free(e);
	return same;
}

/* The record's bytes anywhere in the log (base + 1 .. head). */
static bool holds_anywhere(struct hw_store *s, const uint8_t *rec, size_t len)
{
	struct hw_head base, head;
	if (hw_store_base(s, &base) != 0 || hw_store_head(s, &head) != 0)
		return false;
	for (uint64_t lsn = base.lsn + 1; lsn <= head.lsn; lsn++)
		if (holds_at(s, lsn, rec, len))
			return true;
	return false;
}

bool hw_ch_local(const struct hw_ch_load *l, uint64_t i)
{
	return l->local_all || i % HW_CH_LOCAL_EVERY == HW_CH_LOCAL_EVERY - 1;
}

/* One acked record (index i) against the open stores s[0..n): fine when one of them
 * holds it at its LSN, else counted into r (moved, pruned, local_lost or lost). base:
 * the highest of their log bases. */
static void check_record(struct hw_store *const *s, int n, uint64_t base, const char *name,
			 const struct hw_ch_load *l, uint64_t i, struct hw_ch_result *r)
{
	for (int k = 0; k < n; k++)
		if (holds_at(s[k], l->r.lsn[i], l->r.rec[i], l->r.len[i]))
			return;
	for (int k = 0; k < n; k++)
		if (holds_anywhere(s[k], l->r.rec[i], l->r.len[i])) {
			r->moved++;
			return;
		}
	if (l->r.lsn[i] <= base) {
		r->pruned++;
	} else if (hw_ch_local(l, i)) {
		r->local_lost++;
	} else {
		r->lost++;
		note(r, "record %" PRIu64 " acked at lsn %" PRIu64 " by %d is not on %s", i,
		     l->r.lsn[i], l->by[i], name);
	}
}

/* Every acked record on the data nodes nodes[0..n) (one of them holds it is enough);
 * counts into r. 0, or the code of a store that could not be read. */
static int check_acked(const struct hw_ch_cluster *c, const int *nodes, int n, const char *name,
		       const struct hw_ch_load *l, struct hw_ch_result *r)
{
	struct hw_store *s[HW_CH_NODES];
	struct hw_store_opts ro = {.read_only = true};
	uint64_t base = 0;
	int rc = 0, opened = 0;
	while (rc == 0 && opened < n) {
		struct hw_head b;
		rc = hw_store_open(c->dir[nodes[opened]], &ro, &s[opened]);
		if (rc != 0)
			break;
		rc = hw_store_base(s[opened++], &b);
		if (rc == 0 && b.lsn > base)
			base = b.lsn;
	}
	for (uint64_t i = 0; rc == 0 && i < l->r.count; i++)
		if (l->r.done[i] && l->r.code[i] == 0)
			check_record(s, n, base, name, l, i, r);
	while (opened > 0)
		hw_store_close(s[--opened]);
	return rc;
}

/* ---- primary terms from the logs -------------------------------------------------- */

struct term {
	int node;
	long long epoch;
	long long start; /* became primary (wall ms) */
	long long first; /* -1: no acknowledgement */
	long long last;
	bool open; /* acknowledging (not fenced) when the log ended */
};

/* Close the node's running term t (if any) at the bound of the incarnation that ended. */
static void close_term(struct term *t, int64_t bound)
{
	if (t != NULL && t->first >= 0 && t->open && bound > t->last)
		t->last = bound;
	if (t != NULL)
		t->open = false;
}

static void take_line(const char *line, int node, struct term *terms, unsigned *n,
		      struct term **cur)
{
	if (strstr(line, "event=became_primary") != NULL && *n < TERMS_MAX) {
		*cur = &terms[(*n)++];
		**cur = (struct term){.node = node,
				      .epoch = hw_log_field(line, "epoch", -1),
				      .start = hw_log_field(line, "wall_ms", -1),
				      .first = -1,
				      .last = -1};
	} else if (*cur == NULL) {
		return;
	} else if (strstr(line, "event=first_ack") != NULL) {
		(*cur)->first = (*cur)->last = hw_log_field(line, "wall_ms", -1);
		(*cur)->open = true;
	} else if (strstr(line, "event=fenced") != NULL) {
		long long at = hw_log_field(line, "last_ack_wall_ms", -1);
		if ((*cur)->first >= 0 && at > (*cur)->last)
			(*cur)->last = at;
		(*cur)->open = false;
	} else if (strstr(line, "event=unfenced") != NULL) {
		(*cur)->open = (*cur)->first >= 0;
	} else if (strstr(line, "event=stepped_down") != NULL) {
		long long at = hw_log_field(line, "last_ack_wall_ms", -1);
		if ((*cur)->first >= 0 && at > (*cur)->last)
			(*cur)->last = at;
		(*cur)->open = false;
		*cur = NULL;
	}
}

/* When an incarnation that ended at bound (its kill or stop) last acknowledged: at the
 * start of a stall of its loop still under way then, if any. */
static int64_t incarnation_end(int64_t bound, long long stalled)
{
	return stalled >= 0 && stalled < bound ? stalled : bound;
}

/* Read one node's log file into terms. */
static int read_terms(const struct hw_ch_cluster *c, int node, struct term *terms, unsigned *n)
{
	FILE *fp = fopen(c->log[node], "r");
	if (fp == NULL)
		return -errno;
	char line[2048];
	struct term *cur = NULL;
	int inc = -1;
	long long stalled = -1; /* a loop stall under way since then (wall ms) */
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strstr(line, "event=started") != NULL) {
			if (inc >= 0 && (unsigned)inc < c->n_ends[node])
				close_term(cur, incarnation_end(c->ends[node][inc], stalled));
			cur = NULL;
			inc++;
			stalled = -1;
			continue;
		}
		if (strstr(line, "event=stall_injected") != NULL)
			stalled = hw_log_field(line, "wall_ms", -1);
		else if (strstr(line, "event=stall_ended") != NULL)
			stalled = -1;
		else
			take_line(line, node, terms, n, &cur);
	}
	if (inc >= 0 && (unsigned)inc < c->n_ends[node])
		close_term(cur, incarnation_end(c->ends[node][inc], stalled));
	fclose(fp);
	return 0;
}

void hw_ch_check_terms(const struct hw_ch_cluster *c, struct hw_ch_result *r)
{
	static struct term terms[TERMS_MAX];
	unsigned n = 0;
	for (int i = 0; i < HW_CH_NODES; i++)
		if (read_terms(c, i, terms, &n) != 0)
			note(r, "cannot read %s", c->log[i]);
	for (unsigned a = 0; a < n; a++) {
		if (terms[a].first < 0)
			continue;
		r->primaries++;
		for (unsigned b = 0; b < n; b++) {
			const struct term *x = &terms[a], *y = &terms[b];
			if (a == b || y->first < 0 || x->node == y->node)
				continue;
			bool same = x->epoch == y->epoch && a < b;
			bool over = x->epoch < y->epoch && x->last > y->start;
			if (!same && !over)
				continue;
			r->overlapping++;
			note(r,
			     "node %d acked in epoch %lld until %lld, node %d primary in epoch "
			     "%lld from %lld",
			     x->node, x->epoch, x->last, y->node, y->epoch, y->start);
		}
	}
}

/* ---- quarantine ------------------------------------------------------------------- */

#define REJOINS_MAX 256

struct rejoin {
	int64_t at;        /* its line's wall time, -1 when unreadable */
	uint64_t from, to; /* the LSNs it moved aside */
};

struct qrow {
	uint64_t lsn;
	uint8_t hash[HW_HASH_BYTES];
};

struct qrows {
	struct qrow *v;
	size_t n, cap;
};

static int take_row(void *arg, const struct hw_quarantined *q)
{
	struct qrows *t = arg;
	if (t->n == t->cap) {
		size_t cap = t->cap > 0 ? 2 * t->cap : 64;
		struct qrow *v = realloc(t->v, cap * sizeof *v);
		if (v == NULL)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n].lsn = q->lsn;
	memcpy(t->v[t->n++].hash, q->entry.hash, HW_HASH_BYTES);
	return 0;
}

static int by_lsn(const void *a, const void *b)
{
	uint64_t x = ((const struct qrow *)a)->lsn, y = ((const struct qrow *)b)->lsn;
	return (x > y) - (x < y);
}

/* The first row at lsn (t sorted by_lsn; rejoins over the same LSNs each left one), or
 * NULL. */
static const struct qrow *row_at(const struct qrows *t, uint64_t lsn)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].lsn < lsn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->n && t->v[lo].lsn == lsn ? &t->v[lo] : NULL;
}

/* The node's rejoins, and the time of its last snapshot install (*snap_at: 0 when none,
 * INT64_MAX when unreadable). The install carries the quarantine rows of earlier rejoins
 * into the new store (hw_snapshot_adopt), so they count too. */
static int read_rejoins(const char *log, struct rejoin *rj, unsigned *n, int64_t *snap_at)
{
	FILE *fp = fopen(log, "r");
	if (fp == NULL)
		return -errno;
	char line[2048];
	*n = 0;
	*snap_at = 0;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (strstr(line, "event=snapshot_installed") != NULL) {
			int64_t at = hw_log_line_ms(line);
			*snap_at = at >= 0 ? at : INT64_MAX;
		} else if (strstr(line, "event=rejoined") != NULL && *n < REJOINS_MAX) {
			long long common = hw_log_field(line, "common_lsn", -1),
				  moved = hw_log_field(line, "quarantined", -1);
			if (common >= 0 && moved > 0)
				rj[(*n)++] =
					(struct rejoin){hw_log_line_ms(line), (uint64_t)common + 1,
							(uint64_t)(common + moved)};
		}
	}
	fclose(fp);
	return 0;
}

/* Mark m against the rows: the first rejoin logged at or after m's time that cut below
 * m's LSN must have moved it (the store only grows between rejoins), with m's hash; a
 * later rejoin over that LSN adds a row beside it. */
static void check_mark(const struct rejoin *rj, unsigned n, const struct hw_ch_mark *m,
		       const struct qrows *t, const char *dir, struct hw_ch_result *r)
{
	unsigned j = 0;
	while (j < n && (rj[j].at < m->wall_ms || rj[j].from > m->lsn))
		j++;
	if (j == n)
		return; /* never cut below it: still in the log */
	const struct qrow *q = m->lsn <= rj[j].to ? row_at(t, m->lsn) : NULL;
	for (const struct qrow *o = q; o != NULL && o < t->v + t->n && o->lsn == m->lsn; o++)
		if (memcmp(o->hash, m->hash, HW_HASH_BYTES) == 0)
			return;
	r->quarantine_missing++;
	note(r,
	     "%s held lsn %" PRIu64 " at %" PRId64 "; a rejoin cut after %" PRIu64
	     " and its quarantine %s",
	     dir, m->lsn, m->wall_ms, rj[j].from - 1,
	     q != NULL ? "holds other bytes there" : "lacks it");
}

int hw_ch_check_quarantine(const char *dir, const char *log, const struct hw_ch_mark *marks,
			   unsigned n_marks, struct hw_ch_result *r)
{
	static struct rejoin rj[REJOINS_MAX];
	unsigned n;
	int64_t snap_at;
	int rc = read_rejoins(log, rj, &n, &snap_at);
	if (rc != 0 || n == 0)
		return rc;
	struct hw_store *s;
	struct hw_store_opts ro = {.read_only = true};
	struct qrows t = {0};
	rc = hw_store_open(dir, &ro, &s);
	if (rc != 0)
		return rc;
	rc = hw_quarantine_each(s, take_row, &t);
	hw_store_close(s);
	if (t.n > 0)
		qsort(t.v, t.n, sizeof *t.v, by_lsn);
	for (unsigned j = 0; rc == 0 && j < n; j++)
		for (uint64_t lsn = rj[j].from; lsn <= rj[j].to; lsn++) {
			if (row_at(&t, lsn) != NULL) {
				r->quarantined++;
				continue;
			}
			r->quarantine_missing++;
			note(r,
			     "%s rejoined after lsn %" PRIu64
			     " and its quarantine lacks lsn %" PRIu64,
			     dir, rj[j].from - 1, lsn);
		}
	for (unsigned k = 0; rc == 0 && k < n_marks; k++)
		if (marks[k].lsn > 0 && marks[k].wall_ms > snap_at)
			check_mark(rj, n, &marks[k], &t, dir, r);
	free(t.v);
	return rc;
}

/* ---- outcomes --------------------------------------------------------------------- */

static void check_outcomes(const struct hw_ch_load *l, struct hw_ch_result *r)
{
	r->submitted = l->submitted;
	for (uint64_t i = 0; i < l->submitted; i++) {
		if (!l->r.done[i]) {
			r->unknown++;
			continue;
		}
		if (l->r.code[i] == 0)
			r->acked++;
		else
			r->failed++;
		bool typed = l->r.code[i] == 0 || hw_errknown(l->r.code[i]);
		bool poison_acked = l->r.code[i] == 0 && l->r.expect[i] != 0;
		if (!typed || poison_acked) {
			r->untyped++;
			note(r, "record %" PRIu64 ": code %d (%s), generator expected %s", i,
			     l->r.code[i], hw_errname(l->r.code[i]), hw_errname(l->r.expect[i]));
		}
	}
}

int hw_ch_check(const struct hw_ch_cluster *c, const struct hw_ch_load *l, int primary,
		struct hw_ch_result *r)
{
	check_outcomes(l, r);
	hw_ch_check_terms(c, r);
	int rc = 0;
	for (int i = 0; rc == 0 && i < HW_CH_NODES; i++)
		rc = hw_ch_check_quarantine(c->dir[i], c->log[i], c->marks[i], c->n_marks[i], r);
	int p = primary;
	r->primary = p;
	if (rc == 0 && p < 0) {
		static const int all[HW_CH_NODES] = {0, 1, 2};
		return check_acked(c, all, HW_CH_NODES, "any data node", l, r);
	}
	if (rc == 0)
		rc = check_acked(c, &p, 1, c->dir[p] + strlen(c->root) + 1, l, r);
	for (int i = 0; rc == 0 && i < HW_CH_NODES; i++) {
		if (i == p || !c->caught_up[i])
			continue;
		r->caught_up++;
		uint64_t lost = r->lost;
		rc = check_acked(c, &i, 1, c->dir[i] + strlen(c->root) + 1, l, r);
		char why[256] = "";
		if (rc == 0 && r->lost == lost &&
		    hw_tstore_compare(c->dir[p], c->dir[i], NULL, why, sizeof why) != 0) {
			r->diverged++;
			note(r, "standby %d differs from the primary: %s", i, why);
		}
	}
	return rc;
}

bool hw_ch_unsafe(const struct hw_ch_result *r)
{
	return r->lost > 0 || r->overlapping > 0 || r->untyped > 0 || r->diverged > 0 ||
	       r->crashes > 0 || r->quarantine_missing > 0;
}

bool hw_ch_failed(const struct hw_ch_result *r)
{
	return hw_ch_unsafe(r) || !r->settled;
}

void hw_ch_print(uint64_t seed, int rc, const struct hw_ch_result *r)
{
	printf("seed=%" PRIu64 " %s faults=%u primaries=%u settled=%s settle_ms=%lld final=%d "
	       "caught_up=%u submitted=%" PRIu64 " acked=%" PRIu64 " failed=%" PRIu64
	       " unknown=%" PRIu64 " lost=%" PRIu64 " moved=%" PRIu64 " overlapping=%" PRIu64
	       " untyped=%" PRIu64 " diverged=%u crashes=%u store_failed=%u local_lost=%" PRIu64
	       " quarantined=%" PRIu64 " quarantine_missing=%" PRIu64,
	       seed,
	       rc != 0           ? "ERROR"
	       : hw_ch_failed(r) ? "FAIL"
				 : "ok",
	       r->faults, r->primaries, r->settled ? "yes" : "no", (long long)r->settle_ms,
	       r->primary, r->caught_up, r->submitted, r->acked, r->failed, r->unknown, r->lost,
	       r->moved, r->overlapping, r->untyped, r->diverged, r->crashes, r->store_failed,
	       r->local_lost, r->quarantined, r->quarantine_missing);
	if (rc != 0)
		printf(" error=%s", hw_errname(rc));
	if (r->first[0] != '\0')
		printf(" first=\"%s\"", r->first);
	if (r->crash_what[0] != '\0')
		printf(" crash=\"%s\"", r->crash_what);
	if (strcmp(r->root, "-") != 0 && r->root[0] != '\0')
		printf(" kept=%s", r->root);
	printf("\n");
}
