/* rejoin.c: epoch maps, the common point of two logs, the quarantine table
 * (replica/rejoin.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "replica/epochs.h"
#include "replica/rejoin.h"
#include "replica/store_int.h"

int hw_store_epoch_at(struct hw_store *s, uint64_t lsn, uint64_t *epoch)
{
	struct hw_head b;
	int rc = hw_store_base(s, &b);
	if (rc != 0)
		return rc;
	if (lsn == 0 || lsn == b.lsn) {
		*epoch = lsn == 0 ? 0 : b.epoch;
		return 0;
	}
	uint8_t *e;
	size_t len;
	rc = hw_store_read_entry(s, lsn, &e, &len);
	if (rc != 0)
		return rc;
	struct hw_entry d;
	rc = hw_entry_decode(e, len, &d);
	*epoch = d.epoch;
	free(e);
	return rc;
}

int hw_store_hash_at(struct hw_store *s, uint64_t lsn, uint8_t out[HW_HASH_BYTES])
{
	struct hw_head b;
	int rc = hw_store_base(s, &b);
	if (rc == 0 && lsn == b.lsn)
		memcpy(out, b.hash, HW_HASH_BYTES);
	else if (rc == 0)
		rc = lsn < b.lsn ? HW_ENOTFOUND : hw_store_entry_hash(s, lsn, out);
	return rc;
}

/* First LSN in (lo, hi] whose epoch is above e, or hi + 1: epochs never fall along a log. */
static int next_epoch_start(struct hw_store *s, uint64_t lo, uint64_t hi, uint64_t e, uint64_t *out)
{
	uint64_t a = lo + 1, b = hi + 1; /* the answer is in [a, b] */
	while (a < b) {
		uint64_t mid = a + (b - a) / 2, me;
		int rc = hw_store_epoch_at(s, mid, &me);
		if (rc != 0)
			return rc;
		if (me > e)
			b = mid;
		else
			a = mid + 1;
	}
	*out = a;
	return 0;
}

/* Add the boundary (e, first) to m unless it goes on with m's last epoch; the oldest go
 * when HW_REJOIN_EPOCHS_MAX are kept. */
static void map_push(struct hw_epoch_map *m, uint64_t e, uint64_t first)
{
	if (m->n > 0 && m->epoch[m->n - 1] == e)
		return;
	if (m->n == HW_REJOIN_EPOCHS_MAX) { /* keep the newest */
		memmove(m->epoch, m->epoch + 1, (m->n - 1) * sizeof m->epoch[0]);
		memmove(m->first_lsn, m->first_lsn + 1, (m->n - 1) * sizeof m->first_lsn[0]);
		m->n--;
	}
	m->epoch[m->n] = e;
	m->first_lsn[m->n++] = first;
}

/* m's boundaries up to m->last_lsn from the pruned part's history (meta "epochs", or the
 * base's epoch alone when none is kept), and s's base into *b: one read transaction, so
 * the two agree however the writer prunes meanwhile. When the history starts after
 * m->last_lsn (a log that ends before it: a standby merely behind a base an older build
 * pruned to), its first boundary still goes in: an entry below it of the same epoch is
 * shown shared (hw_epoch_map_judge), where a map without it would show nothing and send
 * such a standby into a rejoin that sets its whole log aside. */
static int map_history(struct hw_store *s, struct hw_epoch_map *m, struct hw_head *b)
{
	struct hw_epoch_hist h; /* 4 KiB */
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = hw__store_base_txn(s, txn, b);
	if (rc == 0)
		rc = hw_mdb_err(hw__store_epochs_get(s, txn, b, &h));
	hw__store_read_end(s, txn);
	for (uint32_t i = 0; rc == 0 && i < h.n && (i == 0 || h.first_lsn[i] <= m->last_lsn); i++)
		map_push(m, h.epoch[i], h.first_lsn[i]);
	return rc;
}

int hw_epoch_map_build(struct hw_store *s, uint64_t upto, struct hw_epoch_map *m)
{
	struct hw_head b, h;
	int rc = hw_store_head(s, &h);
	if (rc != 0)
		return rc;
	memset(m, 0, sizeof *m);
	m->last_lsn = upto < h.lsn ? upto : h.lsn;
	rc = map_history(s, m, &b);
	m->base_lsn = b.lsn;
	for (uint64_t at = b.lsn + 1; at <= m->last_lsn && rc == 0;) {
		uint64_t e, next;
		rc = hw_store_epoch_at(s, at, &e);
		if (rc == 0)
			rc = next_epoch_start(s, at, m->last_lsn, e, &next);
		if (rc != 0)
			break;
		map_push(m, e, at);
		at = next;
	}
	/* none for an upto before the base (a standby behind it): its entry is pruned */
	m->hash_known = rc == 0 && hw_store_hash_at(s, m->last_lsn, m->last_hash) == 0;
	return rc;
}

/* Epoch m says its log holds at lsn, in (first boundary, last]. */
static uint64_t map_epoch(const struct hw_epoch_map *m, uint64_t lsn)
{
	uint64_t e = 0;
	for (uint32_t i = 0; i < m->n && m->first_lsn[i] <= lsn; i++)
		e = m->epoch[i];
	return e;
}

enum hw_epoch_verdict hw_epoch_map_judge(const struct hw_epoch_map *m, uint64_t lsn, uint64_t epoch)
{
	if (lsn == 0)
		return HW_EPOCH_SHARED;
	if (lsn > m->last_lsn)
		return HW_EPOCH_PARTED; /* past the mapped log's head */
	if (m->n == 0)
		return HW_EPOCH_UNKNOWN;
	if (lsn >= m->first_lsn[0])
		return map_epoch(m, lsn) == epoch ? HW_EPOCH_SHARED : HW_EPOCH_PARTED;
	return epoch == m->epoch[0]  ? HW_EPOCH_SHARED
	       : epoch > m->epoch[0] ? HW_EPOCH_PARTED
				     : HW_EPOCH_UNKNOWN;
}

/* The verdict on s's own entry at lsn (from s's base on). */
static int judge_own(struct hw_store *s, const struct hw_epoch_map *m, uint64_t lsn,
		     enum hw_epoch_verdict *v)
{
	uint64_t own;
	int rc = hw_store_epoch_at(s, lsn, &own);
	*v = rc == 0 ? hw_epoch_map_judge(m, lsn, own) : HW_EPOCH_UNKNOWN;
	return rc;
}

/* s's own entry at lsn is shown shared with m's log. */
static int agree(struct hw_store *s, const struct hw_epoch_map *m, uint64_t lsn, bool *yes)
{
	enum hw_epoch_verdict v;
	int rc = judge_own(s, m, lsn, &v);
	*yes = v == HW_EPOCH_SHARED;
	return rc;
}

/* Within m's boundaries: the last LSN in [lo, hi] at which s agrees with m, given that it
 * agrees at lo (agreement is a prefix there: the hash chain). */
static int last_agreeing(struct hw_store *s, const struct hw_epoch_map *m, uint64_t lo, uint64_t hi,
			 uint64_t *out)
{
	int rc = 0;
	while (rc == 0 && lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		bool yes;
		rc = agree(s, m, mid, &yes);
		if (yes)
			lo = mid;
		else
			hi = mid - 1;
	}
	*out = lo;
	return rc;
}

/* Below m's first boundary: the last LSN of s's log in [lo, hi] (lo its base) of the epoch
 * m starts with, shared (hw_epoch_map_judge); *found false when none is. */
static int last_of_first_epoch(struct hw_store *s, const struct hw_epoch_map *m, uint64_t lo,
			       uint64_t hi, uint64_t *at, bool *found)
{
	uint64_t next = hi + 1, own;
	*found = false;
	if (hi < lo)
		return 0;
	int rc = next_epoch_start(s, lo, hi, m->epoch[0], &next); /* in (lo, hi + 1] */
	if (rc == 0)
		rc = hw_store_epoch_at(s, next - 1, &own);
	*found = rc == 0 && own == m->epoch[0];
	*at = next - 1;
	return rc;
}

int hw_rejoin_common(struct hw_store *s, const struct hw_epoch_map *m, uint64_t *common)
{
	struct hw_head h, b;
	int rc = hw_store_head(s, &h);
	if (rc == 0)
		rc = hw_store_base(s, &b);
	if (rc != 0)
		return rc;
	*common = 0;
	uint64_t hi = h.lsn < m->last_lsn ? h.lsn : m->last_lsn;
	if (m->n > 0 && hi >= m->first_lsn[0]) {
		/* the first LSN both logs can tell the epoch of (s's base: its epoch is kept) */
		uint64_t lo = m->first_lsn[0] > b.lsn ? m->first_lsn[0] : b.lsn;
		bool yes;
		rc = agree(s, m, lo, &yes);
		if (rc == 0 && yes)
			return last_agreeing(s, m, lo, hi, common);
		if (rc != 0 || lo > m->first_lsn[0]) /* s's base is not m's: nothing before it */
			return rc != 0 ? rc : HW_ENOTFOUND;
	}
	/* They part before m's first boundary, or s's log ends before it: the last entry of
	 * the epoch m starts with is shared (hw_epoch_map_judge). */
	bool found = false;
	if (m->n > 0 && b.lsn < m->first_lsn[0]) {
		uint64_t top = m->first_lsn[0] - 1 < h.lsn ? m->first_lsn[0] - 1 : h.lsn;
		rc = last_of_first_epoch(s, m, b.lsn, top, common, &found);
	}
	if (rc != 0 || found)
		return rc;
	*common = 0;
	return b.lsn == 0 ? 0 : HW_ENOTFOUND; /* LSN 0 is in every log */
}

int hw_rejoin_cut(struct hw_store *s, const struct hw_epoch_map *m, uint64_t *cut,
		  enum hw_rejoin_how *how)
{
	struct hw_head h, b;
	int rc = hw_store_head(s, &h);
	if (rc == 0)
		rc = hw_store_base(s, &b);
	if (rc == 0)
		rc = hw_rejoin_common(s, m, cut);
	enum hw_epoch_verdict v = HW_EPOCH_PARTED;
	*how = HW_REJOIN_COMMON;
	if (rc == HW_ENOTFOUND) { /* no entry s holds is shown shared: all go */
		*cut = b.lsn;
		rc = judge_own(s, m, b.lsn, &v);
		*how = v == HW_EPOCH_PARTED ? HW_REJOIN_BEFORE : HW_REJOIN_UNPROVEN;
	} else if (rc == 0 && *cut < h.lsn) { /* is the entry after the cut shown another? */
		rc = judge_own(s, m, *cut + 1, &v);
		*how = v == HW_EPOCH_PARTED ? HW_REJOIN_COMMON : HW_REJOIN_UNPROVEN;
	}
	return rc;
}

bool hw_store_stale(const struct hw_store *s)
{
	return s->stale;
}

int hw__store_stale_read(struct hw_store *s, MDB_txn *txn)
{
	MDB_val k = hw_mdb_val("stale", 5), v;
	int rc = mdb_get(txn, s->t.meta, &k, &v);
	s->stale = rc == 0;
	if (rc == 0 && v.mv_size != 8)
		return MDB_CORRUPTED;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int hw__store_stale_put(struct hw_store *s, MDB_txn *txn, uint64_t lsn, struct hw_head *h)
{
	HW_ASSERT(s->base.lsn > 0 && lsn >= s->base.lsn);
	int rc = 0;
	*h = s->base;
	if (lsn > s->base.lsn) { /* the head is lsn's entry */
		MDB_val e;
		struct hw_entry d;
		rc = hw__store_log_get(s, txn, lsn, &e);
		if (rc == 0 && hw_entry_decode(e.mv_data, e.mv_size, &d) != 0)
			rc = MDB_CORRUPTED;
		if (rc == 0)
			*h = (struct hw_head){.lsn = d.lsn, .epoch = d.epoch, .time_ms = d.time_ms};
		if (rc == 0)
			memcpy(h->hash, d.hash, HW_HASH_BYTES);
	}
	uint8_t at[8];
	hw_put_u64(at, lsn);
	MDB_val k = hw_mdb_val("stale", 5), v = hw_mdb_val(at, sizeof at);
	return rc != 0 ? (rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc)
		       : mdb_put(txn, s->t.meta, &k, &v, 0);
}

/* The halves of a quarantine key (rejoin, LSN); false when k is not one. A key of 8
 * bytes is format 2's, the LSN alone, of a store not migrated yet (opened read-only):
 * its rows are all rewind 1's. In any other store such a key is damage. */
static bool key_split(const struct hw_store *s, const MDB_val *k, uint64_t *rejoin, uint64_t *lsn)
{
	if (k->mv_size == 8 && s->format == HW__STORE_FMT_QLSN) {
		*rejoin = 1;
		*lsn = hw_lsn_from_key(k);
		return true;
	}
	if (k->mv_size != 16)
		return false;
	MDB_val half = {8, k->mv_data};
	*rejoin = hw_lsn_from_key(&half);
	half.mv_data = (uint8_t *)k->mv_data + 8;
	*lsn = hw_lsn_from_key(&half);
	return true;
}

/* Decode one quarantine row of store s. */
static int row_decode(const struct hw_store *s, const MDB_val *k, const MDB_val *v,
		      struct hw_quarantined *q)
{
	const uint8_t *p = v->mv_data;
	if (!key_split(s, k, &q->rejoin, &q->lsn) || v->mv_size < 10)
		return HW_ECORRUPT;
	size_t why_len = hw_get_u16(p + 8);
	if (why_len > HW_REWIND_WHY_MAX || v->mv_size < 10 + why_len)
		return HW_ECORRUPT;
	q->quarantined_ms = (int64_t)hw_get_u64(p);
	memcpy(q->why, p + 10, why_len);
	q->why[why_len] = '\0';
	q->raw = p + 10 + why_len;
	q->raw_len = v->mv_size - 10 - why_len;
	if (hw_entry_decode(q->raw, q->raw_len, &q->entry) != 0 || q->entry.lsn != q->lsn)
		return HW_ECORRUPT;
	return 0;
}

/* hw_quarantine_each's callback and its argument, for quarantine_visit. */
struct quarantine_walk {
	const struct hw_store *s;
	int (*cb)(void *arg, const struct hw_quarantined *q);
	void *arg;
};

static int quarantine_visit(void *arg, const MDB_val *k, const MDB_val *v)
{
	const struct quarantine_walk *w = arg;
	struct hw_quarantined q;
	int rc = row_decode(w->s, k, v, &q);
	return rc != 0 ? rc : w->cb(w->arg, &q);
}

int hw_quarantine_each(struct hw_store *s, int (*cb)(void *arg, const struct hw_quarantined *q),
		       void *arg)
{
	struct quarantine_walk w = {.s = s, .cb = cb, .arg = arg};
	return hw__store_walk(s, s->t.quarantine, MDB_FIRST, MDB_NEXT, UINT64_MAX,
			      quarantine_visit, &w);
}

int hw__quarantine_next(struct hw_store *s, MDB_txn *txn, uint64_t *rejoin)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->t.quarantine, &cur);
	if (rc != 0)
		return rc;
	MDB_val k, v;
	uint64_t last = 0, lsn;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && !key_split(s, &k, &last, &lsn))
		rc = MDB_CORRUPTED;
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc == 0 && last == UINT64_MAX)
		rc = MDB_CORRUPTED; /* no number left: not a count a store reaches */
	*rejoin = last + 1;
	return rc;
}

/* Put value v under the key (rejoin, lsn); a row already there is a bug or damage. */
static int row_put(struct hw_store *s, MDB_txn *txn, uint64_t rejoin, uint64_t lsn, MDB_val *v)
{
	uint8_t key[16];
	hw_lsn_key(rejoin, key);
	hw_lsn_key(lsn, key + 8);
	MDB_val k = {sizeof key, key};
	int rc = mdb_put(txn, s->t.quarantine, &k, v, MDB_NOOVERWRITE);
	return rc == MDB_KEYEXIST ? MDB_CORRUPTED : rc;
}

int hw__quarantine_put(struct hw_store *s, MDB_txn *txn, uint64_t rejoin, uint64_t lsn,
		       const uint8_t *entry, size_t len, int64_t now_ms, const char *why)
{
	size_t why_len = strlen(why);
	size_t vlen = 10 + why_len + len;
	uint8_t *p = malloc(vlen);
	if (p == NULL)
		return ENOMEM;
	hw_put_u64(p, (uint64_t)now_ms);
	hw_put_u16(p + 8, (uint16_t)why_len);
	memcpy(p + 10, why, why_len);
	memcpy(p + 10 + why_len, entry, len);
	MDB_val v = {vlen, p};
	int rc = row_put(s, txn, rejoin, lsn, &v);
	free(p);
	return rc;
}

/* The LSN keys (format 2) of the table, into *lsns (malloc'd, *n of them). */
static int old_keys(struct hw_store *s, MDB_txn *txn, uint64_t **lsns, size_t *n)
{
	MDB_stat st;
	MDB_cursor *cur;
	int rc = mdb_stat(txn, s->t.quarantine, &st);
	if (rc == 0)
		rc = mdb_cursor_open(txn, s->t.quarantine, &cur);
	if (rc != 0)
		return rc;
	*n = 0;
	*lsns = malloc((st.ms_entries > 0 ? st.ms_entries : 1) * sizeof **lsns);
	if (*lsns == NULL) {
		mdb_cursor_close(cur);
		return ENOMEM;
	}
	MDB_val k, v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && *n < st.ms_entries;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		if (k.mv_size == 8)
			(*lsns)[(*n)++] = hw_lsn_from_key(&k);
		else
			rc = MDB_CORRUPTED;
	mdb_cursor_close(cur);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return 0;
	free(*lsns);
	return rc;
}

int hw__quarantine_rekey(struct hw_store *s, MDB_txn *txn)
{
	uint64_t *lsns;
	size_t n;
	int rc = old_keys(s, txn, &lsns, &n);
	if (rc != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		uint8_t key[8];
		hw_lsn_key(lsns[i], key);
		MDB_val k = {sizeof key, key}, v;
		rc = mdb_get(txn, s->t.quarantine, &k, &v);
		/* the value points into the map: copy it before the table changes */
		void *copy = rc == 0 ? malloc(v.mv_size > 0 ? v.mv_size : 1) : NULL;
		if (rc == 0 && copy == NULL)
			rc = ENOMEM;
		if (rc == 0) {
			memcpy(copy, v.mv_data, v.mv_size);
			v.mv_data = copy;
			rc = mdb_del(txn, s->t.quarantine, &k, NULL);
		}
		if (rc == 0)
			rc = row_put(s, txn, 1, lsns[i], &v);
		free(copy);
	}
	free(lsns);
	return rc;
}
