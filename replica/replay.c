/* replay.c: log replay from one store into another (hw_store_replay and
 * hw_store_digest_replayed, declared in replica/backup.h), in batches that the restore
 * (restore.c) shares for a backup's log (replica/replay_int.h). */
#include "replica/replay_int.h"

#include <stdlib.h>
#include <string.h>

#include "replica/backup.h"
#include "replica/store_int.h"

/* ---- batches of entries for hw_store_append_entries ------------------------------ */

int hw__replay_batch_init(struct hw_replay_batch *b, uint64_t total, hw_progress_cb *cb, void *arg)
{
	memset(b, 0, sizeof *b);
	b->ptrs = calloc(HW_BATCH_RECORDS_MAX, sizeof *b->ptrs);
	b->lens = calloc(HW_BATCH_RECORDS_MAX, sizeof *b->lens);
	b->total = total;
	b->cb = cb;
	b->arg = arg;
	if (b->ptrs == NULL || b->lens == NULL) {
		free(b->ptrs);
		free(b->lens);
		return HW_ENOMEM;
	}
	return 0;
}

void hw__replay_batch_fini(struct hw_replay_batch *b)
{
	free(b->ptrs);
	free(b->lens);
}

int hw__replay_batch_flush(struct hw_store *dst, struct hw_replay_batch *b)
{
	if (b->n == 0)
		return 0;
	int rc = hw_store_append_entries(dst, b->ptrs, b->lens, b->n, NULL);
	if (rc != 0)
		return rc;
	b->done += b->n;
	b->n = 0;
	b->bytes = 0;
	return b->cb != NULL ? b->cb(b->arg, b->done, b->total) : 0;
}

/* Queue one entry, flushing first when it would overflow the batch's bounds. */
int hw__replay_batch_add(struct hw_store *dst, struct hw_replay_batch *b, const uint8_t *p,
			 size_t len)
{
	if (b->n == HW_BATCH_RECORDS_MAX || b->bytes + len > HW_BATCH_BYTES_MAX) {
		int rc = hw__replay_batch_flush(dst, b);
		if (rc != 0)
			return rc;
	}
	b->ptrs[b->n] = p;
	b->lens[b->n] = len;
	b->n++;
	b->bytes += len;
	return 0;
}

/* ---- replay ------------------------------------------------------------------------ */

/* True when e lies beyond the target, so replay stops before it. */
bool hw__replay_past(const struct hw_replay_target *t, const struct hw_entry *e)
{
	return (t->until_lsn != 0 && e->lsn > t->until_lsn) ||
	       (t->until_time_ms != 0 && e->time_ms > t->until_time_ms);
}

/* dst's head must be an entry of src's chain (or dst empty), and src's log must still
 * hold the entry after it: HW_ENOTFOUND when src's log starts after dst's head (dst
 * needs a snapshot, replica/snapshot.h). */
static int on_chain(MDB_txn *txn, struct hw_store *src, const struct hw_head *dh)
{
	struct hw_head base;
	int brc = hw__store_base_txn(src, txn, &base);
	if (brc != 0)
		return brc;
	if (dh->lsn < base.lsn)
		return HW_ENOTFOUND;
	if (dh->lsn == base.lsn && base.lsn != 0)
		return memcmp(base.hash, dh->hash, HW_HASH_BYTES) == 0 ? 0 : HW_ECHAIN;
	if (dh->lsn == 0)
		return 0;
	MDB_val v;
	int rc = hw__store_log_get(src, txn, dh->lsn, &v);
	if (rc == MDB_NOTFOUND)
		return HW_ECHAIN;
	if (rc != 0)
		return hw_mdb_err(rc);
	struct hw_entry e;
	if (hw_entry_decode(v.mv_data, v.mv_size, &e) != 0)
		return HW_ECORRUPT;
	return memcmp(e.hash, dh->hash, HW_HASH_BYTES) == 0 ? 0 : HW_ECHAIN;
}

/* Push src's entries from from_lsn on into dst, inside src's read transaction txn (the
 * batch borrows the map's pages, so it is flushed before txn ends). Each entry is hashed
 * once, by hw_store_append_entries(); the one that ends the replay is never appended, so
 * it is hashed here: a damaged LSN or time must not end a restore early. */
static int replay_txn(MDB_txn *txn, struct hw_store *src, struct hw_store *dst, uint64_t from_lsn,
		      const struct hw_replay_target *t, struct hw_replay_batch *b)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, src->t.log, &cur);
	if (rc != 0)
		return hw_mdb_err(rc);
	uint8_t key[8];
	hw_lsn_key(from_lsn, key);
	MDB_val k = {.mv_size = 8, .mv_data = key}, v;
	MDB_cursor_op op = MDB_SET_RANGE;
	struct hw_entry e;
	for (;;) {
		rc = mdb_cursor_get(cur, &k, &v, op);
		op = MDB_NEXT;
		if (rc != 0) {
			rc = rc == MDB_NOTFOUND ? 0 : hw_mdb_err(rc);
			break;
		}
		if (hw_entry_parse(v.mv_data, v.mv_size, &e) != 0) {
			rc = HW_ECORRUPT;
			break;
		}
		if (hw__replay_past(t, &e)) {
			rc = hw_entry_decode(v.mv_data, v.mv_size, &e) != 0 ? HW_ECORRUPT : 0;
			break;
		}
		rc = hw__replay_batch_add(dst, b, v.mv_data, v.mv_size);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = hw__replay_batch_flush(dst, b);
	mdb_cursor_close(cur);
	return rc;
}

/* Push src's entries after dst's head into dst through batch b, up to target t. */
int hw__replay_into(struct hw_store *src, struct hw_store *dst, const struct hw_replay_target *t,
		    struct hw_replay_batch *b)
{
	struct hw_head dh;
	int rc = hw_store_head(dst, &dh);
	if (rc != 0)
		return rc;
	MDB_txn *txn;
	rc = hw__store_read_begin(src, &txn);
	if (rc != 0)
		return rc;
	rc = on_chain(txn, src, &dh);
	if (rc == 0)
		rc = replay_txn(txn, src, dst, dh.lsn + 1, t, b);
	hw__store_read_end(src, txn);
	return rc;
}

int hw_store_replay(struct hw_store *src, struct hw_store *dst, uint64_t until_lsn,
		    int64_t until_time_ms, hw_progress_cb *cb, void *arg)
{
	struct hw_head sh, dh;
	int rc = hw_store_head(dst, &dh);
	if (rc == 0)
		rc = hw_store_head(src, &sh);
	if (rc != 0)
		return rc;
	uint64_t last = until_lsn != 0 && until_lsn < sh.lsn ? until_lsn : sh.lsn;
	struct hw_replay_batch b;
	rc = hw__replay_batch_init(&b, last > dh.lsn ? last - dh.lsn : 0, cb, arg);
	if (rc != 0)
		return rc;
	struct hw_replay_target t = {.until_lsn = until_lsn, .until_time_ms = until_time_ms};
	rc = hw__replay_into(src, dst, &t, &b);
	hw__replay_batch_fini(&b);
	return rc;
}

int hw_store_digest_replayed(struct hw_store *src, const char *scratch_dir, uint64_t lsn,
			     hw_progress_cb *cb, void *arg, uint8_t digest[HW_HASH_BYTES])
{
	struct hw_store_opts o = {.scratch = true};
	struct hw_store *dst;
	struct hw_head h;
	int rc = hw_store_init(scratch_dir);
	if (rc == 0)
		rc = hw_store_open(scratch_dir, &o, &dst);
	if (rc != 0)
		return rc;
	if (lsn > 0) /* until 0 would replay everything */
		rc = hw_store_replay(src, dst, lsn, 0, cb, arg);
	if (rc == 0)
		rc = hw_store_head(dst, &h);
	if (rc == 0 && h.lsn != lsn)
		rc = HW_ELSN;
	if (rc == 0)
		rc = hw_store_digest(dst, digest);
	hw_store_close(dst);
	return rc;
}
