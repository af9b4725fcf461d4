/* store_prune.c: how the log of a node's store shrinks: the pin a catch-up holds, pruning
 * to a point, the retention rule after each commit, and the room the store takes
 * (replica/store.h). */
#include "replica/store_int.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/fs.h"
#include "replica/entry.h"
#include "replica/epochs.h"
#include "replica/retention.h"

void hw_store_set_pin(struct hw_store *s, uint64_t lsn)
{
	atomic_store(&s->pin, lsn);
}

int hw__store_epochs_get(struct hw_store *s, MDB_txn *txn, const struct hw_head *base,
			 struct hw_epoch_hist *h)
{
	MDB_val k = hw_mdb_val(HW__META_EPOCHS, sizeof HW__META_EPOCHS - 1), v;
	int rc = mdb_get(txn, s->t.meta, &k, &v);
	if (rc == 0 && hw_epoch_hist_decode(v.mv_data, v.mv_size, h) == 0 &&
	    h->through_lsn == base->lsn)
		return 0;
	hw_epoch_hist_start(h, base->lsn, base->epoch);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int hw__store_pruned_times_get(struct hw_store *s, MDB_txn *txn, const struct hw_head *base,
			       struct hw__pruned_times *pt)
{
	MDB_val k = hw_mdb_val("pruned_times", 12), v;
	int rc = mdb_get(txn, s->t.meta, &k, &v);
	*pt = (struct hw__pruned_times){base->lsn + 1, base->lsn, INT64_MIN};
	if (rc == 0 && v.mv_size == 24 && hw_get_u64((const uint8_t *)v.mv_data + 8) == base->lsn)
		*pt = (struct hw__pruned_times){
			hw_get_u64(v.mv_data), base->lsn,
			(int64_t)hw_get_u64((const uint8_t *)v.mv_data + 16)};
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int pruned_times_put(struct hw_store *s, MDB_txn *txn, const struct hw__pruned_times *pt)
{
	uint8_t buf[24];
	hw_put_u64(buf, pt->from_lsn);
	hw_put_u64(buf + 8, pt->through_lsn);
	hw_put_u64(buf + 16, (uint64_t)pt->max_ms);
	MDB_val k = hw_mdb_val("pruned_times", 12), v = hw_mdb_val(buf, sizeof buf);
	return mdb_put(txn, s->t.meta, &k, &v, 0);
}

/* Delete entries base + 1 .. to from the log in txn, noting each one's epoch in h and its
 * time in pt. */
static int prune_entries(struct hw_store *s, MDB_txn *txn, uint64_t to, struct hw_epoch_hist *h,
			 struct hw__pruned_times *pt)
{
	MDB_cursor *c = NULL;
	uint8_t key[8];
	hw_lsn_key(s->base.lsn + 1, key);
	MDB_val k = hw_mdb_val(key, 8), v;
	int rc = mdb_cursor_open(txn, s->t.log, &c);
	/* one walk along the log: each entry read where the cursor stands, then deleted
	 * there (the cursor then stands before the next) */
	MDB_cursor_op op = MDB_SET_KEY;
	for (uint64_t lsn = s->base.lsn + 1; rc == 0 && lsn <= to; lsn++, op = MDB_NEXT) {
		struct hw_entry e;
		rc = mdb_cursor_get(c, &k, &v, op);
		if (rc == MDB_NOTFOUND ||
		    (rc == 0 &&
		     (hw_lsn_from_key(&k) != lsn || hw_entry_parse(v.mv_data, v.mv_size, &e) != 0 ||
		      e.lsn != lsn || hw_epoch_hist_note(h, lsn, e.epoch) != 0)))
			rc = MDB_CORRUPTED;
		if (rc == 0 && e.time_ms > pt->max_ms)
			pt->max_ms = e.time_ms;
		if (rc == 0)
			rc = mdb_cursor_del(c, 0);
	}
	if (c != NULL)
		mdb_cursor_close(c);
	return rc;
}

/* Put h as meta "epochs" in txn. */
static int epochs_put(struct hw_store *s, MDB_txn *txn, const struct hw_epoch_hist *h)
{
	uint8_t buf[HW_EPOCH_HIST_BYTES_MAX];
	MDB_val k = hw_mdb_val(HW__META_EPOCHS, sizeof HW__META_EPOCHS - 1),
		v = hw_mdb_val(buf, hw_epoch_hist_encode(h, buf));
	return mdb_put(txn, s->t.meta, &k, &v, 0);
}

/* Keep the hash of entry 1 as the chain's identity (meta "chain"), before it is pruned. */
static int chain_keep(struct hw_store *s, MDB_txn *txn)
{
	/* Copied out first: a value read in a write transaction is only valid until the
	 * next update in it (lmdb.h). */
	uint8_t id[HW_HASH_BYTES];
	struct hw_entry e;
	int rc = hw__store_entry_at(s, txn, 1, &e);
	if (rc == 0)
		memcpy(id, e.hash, HW_HASH_BYTES);
	MDB_val k = hw_mdb_val("chain", 5), v = hw_mdb_val(id, HW_HASH_BYTES);
	return rc != 0 ? rc : mdb_put(txn, s->t.meta, &k, &v, 0);
}

/* One write transaction: remove entries base + 1 .. to, keep the hash of entry 1 as the
 * chain's identity the first time, note the epochs of what goes in meta "epochs"
 * (replica/epochs.h) and their latest time in meta "pruned_times" (a restore to a time
 * checks a copied snapshot against it), and move the base to entry to. */
static int prune_txn(struct hw_store *s, uint64_t to, struct hw_epoch_hist *h)
{
	struct hw__pruned_times pt;
	MDB_txn *txn;
	int rc = hw__store_txn_begin(s, 0, &txn);
	if (rc != 0)
		return rc;
	struct hw_entry e;
	struct hw_head b = {0};
	if (s->base.lsn == 0)
		rc = chain_keep(s, txn);
	if (rc == 0)
		rc = hw__store_entry_at(s, txn, to, &e);
	if (rc == 0) {
		b = (struct hw_head){.lsn = e.lsn, .epoch = e.epoch, .time_ms = e.time_ms};
		memcpy(b.hash, e.hash, HW_HASH_BYTES);
		rc = hw__store_epochs_get(s, txn, &s->base, h);
	}
	if (rc == 0)
		rc = hw__store_pruned_times_get(s, txn, &s->base, &pt);
	if (rc == 0)
		rc = prune_entries(s, txn, to, h, &pt);
	pt.through_lsn = to;
	if (rc == 0)
		rc = epochs_put(s, txn, h);
	if (rc == 0)
		rc = pruned_times_put(s, txn, &pt);
	if (rc == 0)
		rc = hw__store_meta_write_pos(s, txn, "base", &b);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = hw__store_txn_commit(s, txn, &s->head); /* the log in front keeps it */
	if (rc == 0)
		s->base = b;
	return rc;
}

/* Prune up to entry to (<= head) in one bounded transaction, growing the map and
 * retrying on MAP_FULL like a batch. 0 or the sticky failure. */
static int prune_step(struct hw_store *s, uint64_t to)
{
	struct hw_epoch_hist h; /* 4 KiB: the writer's stack is the default's */
	for (;;) {
		int rc = prune_txn(s, to, &h);
		if (rc == 0)
			return 0;
		if (!hw__store_batch_failed(s, rc))
			return s->failed;
	}
}

/* keep_from lowered so that every entry after the pin stays. */
static uint64_t pin_clamp(struct hw_store *s, uint64_t keep_from)
{
	uint64_t pin = atomic_load(&s->pin);
	return pin != HW_STORE_PIN_NONE && keep_from > pin + 1 ? pin + 1 : keep_from;
}

int hw_store_prune(struct hw_store *s, uint64_t keep_from)
{
	HW_ASSERT(s->txn == NULL);
	if (s->failed != 0)
		return HW_ESTORE_FAILED;
	if (s->opts.read_only)
		return -EROFS;
	if (keep_from > s->head.lsn + 1)
		return HW_ERANGE;
	keep_from = pin_clamp(s, keep_from);
	while (s->base.lsn + 1 < keep_from) {
		uint64_t to = keep_from - 1;
		if (to - s->base.lsn > HW_PRUNE_TXN_ENTRIES)
			to = s->base.lsn + HW_PRUNE_TXN_ENTRIES;
		int rc = prune_step(s, to);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The last entry in base + 1 .. to that the age rule lets go: the scan stops at the
 * first one younger than log_keep_days before the head (a clock set back leaves the
 * entries after it too; a head stamped far ahead of this node's clock counts from that
 * clock, hw_retention_log_now). base when none may go or the log cannot be read (the next
 * commit tries again; a real failure shows in the next write). */
static uint64_t old_enough_to(struct hw_store *s, uint64_t to)
{
	struct hw_retention r = {.log_days = s->opts.log_keep_days};
	if (r.log_days == 0)
		return to;
	MDB_txn *txn;
	if (hw__store_read_begin(s, &txn) != 0)
		return s->base.lsn;
	uint64_t lsn = s->base.lsn + 1;
	struct hw_entry e;
	int64_t now = hw_retention_log_now(s->head.time_ms, hw_wall_ms());
	for (; lsn <= to && hw__store_entry_at(s, txn, lsn, &e) == 0; lsn++)
		if (!hw_retention_log_may_prune(&r, s->opts.log_keep_records, lsn, e.time_ms,
						s->head.lsn, now))
			break;
	hw__store_read_end(s, txn);
	return lsn - 1;
}

/* After a commit: past keep + 10 % entries, prune down to keep, one bounded transaction
 * per commit (a long backlog goes over several). A failure is sticky and the next call
 * reports it; the commit itself held. */
void hw__store_retain(struct hw_store *s)
{
	uint64_t keep = s->opts.log_keep_records;
	if (keep == 0 || s->head.lsn - s->base.lsn <= keep + keep / 10)
		return;
	uint64_t keep_from = pin_clamp(s, s->head.lsn - keep + 1);
	if (keep_from <= s->base.lsn + 1)
		return;
	uint64_t to = keep_from - 1;
	if (to - s->base.lsn > HW_PRUNE_TXN_ENTRIES)
		to = s->base.lsn + HW_PRUNE_TXN_ENTRIES;
	to = old_enough_to(s, to);
	if (to > s->base.lsn)
		prune_step(s, to);
}

int hw_store_room(struct hw_store *s, uint64_t *used, uint64_t *avail)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc = mdb_env_info(s->env, &info);
	if (rc == 0)
		rc = mdb_env_stat(s->env, &st);
	if (rc != 0)
		return hw_mdb_err(rc);
	*used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	return hw_fs_free(s->dir, avail);
}
