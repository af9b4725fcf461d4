/* restore.c: restore a backup to a point in time (hw_restore, replica/backup.h): check
 * the MANIFEST, every file's hash and log.hwl's chain before anything is made, then build
 * the store in DIR2/.restore-tmp by replaying the snapshot's log and log.hwl (or copying a
 * pruned store's snapshot whole and replaying log.hwl on top), and move it into DIR2 only
 * whole. Taking a backup is in backup.c, the replay both use in replay.c. */
#include "base/clock.h"
#include "replica/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/assert.h"
#include "base/fs.h"
#include "replica/backup_int.h"
#include "replica/checkpoint.h"
#include "replica/entry.h"
#include "replica/replay_int.h"
#include "replica/restore_vouch.h"
#include "replica/snapshot.h"
#include "replica/store_int.h"

#define HASH_CHUNK_BYTES (1u << 20) /* hashed between two polls of a restore's callback */

/* A backup directory, checked, with its log mapped. */
struct backup_view {
	struct manifest m;
	char snap_dir[PATH_MAX];
	const uint8_t *log; /* first m.log_bytes of log.hwl; NULL when empty */
	size_t log_len;
	struct hw_checkpoint_claim vouch; /* what a copied state must match (lsn 0: none) */
	uint8_t vouch_pk[HW_SIGN_PK_BYTES]; /* who signed it */
	char vouch_id[HW_SIGNER_ID_MAX + 1];
	struct hw_arena arena; /* to decode a checkpoint */
};

/* BLAKE2b of the n bytes at p into h, cb (may be NULL) polled after each MiB (done and
 * total 0): its non-zero answer stops the hash and is returned. */
static int hash_polled(const uint8_t *p, size_t n, uint8_t h[HW_HASH_BYTES], hw_progress_cb *cb,
		       void *arg)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	for (size_t off = 0; off < n; off += HASH_CHUNK_BYTES) {
		size_t len = n - off < HASH_CHUNK_BYTES ? n - off : HASH_CHUNK_BYTES;
		crypto_generichash_update(&st, p + off, (unsigned long long)len);
		int rc = cb != NULL ? cb(arg, 0, 0) : 0;
		if (rc != 0)
			return rc;
	}
	crypto_generichash_final(&st, h, HW_HASH_BYTES);
	return 0;
}

/* Map the first log_bytes of log.hwl and check their hash (cb polled as it hashes). */
static int log_map(const char *bdir, struct backup_view *bv, char *what, hw_progress_cb *cb,
		   void *arg)
{
	struct stat st;
	int fd;
	int rc = hw__backup_log_open(bdir, O_RDONLY, &fd, what);
	if (rc != 0)
		return rc;
	if (fstat(fd, &st) != 0 || bv->m.log_bytes == 0) {
		rc = bv->m.log_bytes == 0 ? 0 : -errno;
		close(fd);
		return rc;
	}
	if ((uint64_t)st.st_size < bv->m.log_bytes) {
		close(fd);
		return hw__backup_fail(what, HW_EBACKUP,
				       "log.hwl is truncated: %lld of %" PRIu64 " bytes",
				       (long long)st.st_size, bv->m.log_bytes);
	}
	void *p = mmap(NULL, (size_t)bv->m.log_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
	rc = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc != 0)
		return rc;
	bv->log = p;
	bv->log_len = (size_t)bv->m.log_bytes;
	uint8_t h[HW_HASH_BYTES];
	rc = hash_polled(bv->log, bv->log_len, h, cb, arg);
	if (rc != 0)
		return rc;
	if (memcmp(h, bv->m.log_blake2b, HW_HASH_BYTES) != 0)
		return hw__backup_fail(what, HW_EBACKUP,
				       "log.hwl does not match its MANIFEST hash");
	return 0;
}

/* The mapped log's entry at *off: framing and hash checked. HW_EBACKUP when damaged. */
static int log_next(const struct backup_view *bv, size_t *off, struct hw_entry *e,
		    const uint8_t **entry, size_t *len)
{
	size_t left = bv->log_len - *off;
	if (left < HW__BACKUP_LEN_PREFIX_BYTES)
		return HW_EBACKUP;
	const uint8_t *q = bv->log + *off;
	size_t n = (size_t)q[0] | (size_t)q[1] << 8 | (size_t)q[2] << 16 | (size_t)q[3] << 24;
	if (n > left - HW__BACKUP_LEN_PREFIX_BYTES || n < HW_ENTRY_HEADER_BYTES ||
	    n > HW_ENTRY_BYTES_MAX)
		return HW_EBACKUP;
	if (hw_entry_decode(q + HW__BACKUP_LEN_PREFIX_BYTES, n, e) != 0)
		return HW_EBACKUP;
	*entry = q + HW__BACKUP_LEN_PREFIX_BYTES;
	*len = n;
	*off += HW__BACKUP_LEN_PREFIX_BYTES + n;
	return 0;
}

/* If e holds a checkpoint whose signature checks and that covers the snapshot's head or
 * later, it is what a copied state must match: note it, and who signed it. */
static void vouch_find(struct backup_view *bv, const struct hw_entry *e)
{
	if (!hw_checkpoint_claim_of(e, bv->m.snapshot_lsn, &bv->arena, &bv->vouch))
		return;
	const Tos__V1__Checkpoint *c = hw_checkpoint_of(e, &bv->arena); /* checked: it decodes */
	memcpy(bv->vouch_pk, c->public_key.data, HW_SIGN_PK_BYTES);
	snprintf(bv->vouch_id, sizeof bv->vouch_id, "%s", c->node_id);
}

/* Every log entry must decode and continue the chain from the snapshot to the end. */
static int log_check(struct backup_view *bv, char *what)
{
	struct hw_head end = {.lsn = bv->m.snapshot_lsn};
	memcpy(end.hash, bv->m.snapshot_hash, HW_HASH_BYTES);
	struct hw_entry e;
	const uint8_t *p;
	size_t len, off = 0;
	while (off < bv->log_len) {
		if (log_next(bv, &off, &e, &p, &len) != 0)
			return hw__backup_fail(what, HW_EBACKUP,
					       "log.hwl entry after LSN %" PRIu64 " is damaged",
					       end.lsn);
		if (e.lsn != end.lsn + 1 || memcmp(e.prev_hash, end.hash, HW_HASH_BYTES) != 0)
			return hw__backup_fail(what, HW_EBACKUP,
					       "log.hwl entry %" PRIu64
					       " does not continue LSN %" PRIu64,
					       e.lsn, end.lsn);
		if (bv->vouch.lsn == 0) /* the first that covers the snapshot's head or later */
			vouch_find(bv, &e);
		end.lsn = e.lsn;
		memcpy(end.hash, e.hash, HW_HASH_BYTES);
	}
	if (end.lsn != bv->m.end_lsn || memcmp(end.hash, bv->m.end_hash, HW_HASH_BYTES) != 0)
		return hw__backup_fail(what, HW_EBACKUP,
				       "log.hwl ends at LSN %" PRIu64 ", MANIFEST says %" PRIu64,
				       end.lsn, bv->m.end_lsn);
	return 0;
}

static void backup_close(struct backup_view *bv)
{
	if (bv->log != NULL)
		munmap((void *)bv->log, bv->log_len);
	bv->log = NULL;
	hw_arena_fini(&bv->arena);
}

/* Check everything before anything is created: MANIFEST, file hashes (cb polled as
 * they are read), the log's chain. */
static int backup_open(const char *bdir, struct backup_view *bv, char *what, hw_progress_cb *cb,
		       void *arg)
{
	hw_arena_init(&bv->arena, 0, 0);
	int rc = hw__backup_manifest_read(bdir, &bv->m, what);
	if (rc == 0)
		rc = hw__backup_snapshot_check(bdir, &bv->m, bv->snap_dir, what, cb, arg);
	if (rc == 0)
		rc = log_map(bdir, bv, what, cb, arg);
	if (rc == 0)
		rc = log_check(bv, what);
	return rc;
}

/* Open the snapshot read-only and check it is what the MANIFEST says. */
/* Whether hw_store_open()'s rc says the snapshot's bytes are bad (HW_EBACKUP), not that
 * this machine could not open it now: out of memory or descriptors, no permission, an
 * I/O error, which are reported as they are, so a drill does not fail a good backup. */
static bool snapshot_damage(int rc)
{
	return rc == HW_ECORRUPT || rc == HW_EFORMAT || rc == HW_ESTORE_FAILED || rc == -EINVAL;
}

static int snapshot_open(const struct backup_view *bv, struct hw_store **out, char *what)
{
	/* unlocked: a restore writes nothing into the backup (it may be read-only, or full) */
	struct hw_store_opts o = {.read_only = true, .unlocked = true};
	struct hw_head h;
	uint8_t id[HW_HASH_BYTES];
	int rc = hw_store_open(bv->snap_dir, &o, out);
	if (rc != 0)
		return hw__backup_fail(what, snapshot_damage(rc) ? HW_EBACKUP : rc,
				       "snapshot does not open as a store: %s", hw_errname(rc));
	rc = hw_store_head(*out, &h);
	if (rc == 0)
		rc = hw_store_chain_id(*out, id);
	if (rc == 0 && (h.lsn != bv->m.snapshot_lsn ||
			memcmp(h.hash, bv->m.snapshot_hash, HW_HASH_BYTES) != 0))
		rc = hw__backup_fail(what, HW_EBACKUP,
				     "snapshot head is LSN %" PRIu64 ", MANIFEST says %" PRIu64,
				     h.lsn, bv->m.snapshot_lsn);
	if (rc == 0 && h.lsn != 0 && memcmp(id, bv->m.chain_id, HW_HASH_BYTES) != 0)
		rc = hw__backup_fail(what, HW_EBACKUP,
				     "snapshot is of another chain than the MANIFEST's");
	if (rc != 0) {
		hw_store_close(*out);
		*out = NULL;
	}
	return rc;
}

/* HW_ENOTFOUND when until_time_ms is before the backup's first entry. */
static int target_check(struct hw_store *snap, const struct backup_view *bv, int64_t until_time_ms,
			char *what)
{
	struct hw_entry e;
	uint8_t *buf = NULL;
	const uint8_t *p;
	size_t len, off = 0;
	int rc = 0;
	if (until_time_ms == 0)
		return 0;
	if (bv->m.snapshot_lsn != 0)
		rc = hw_store_read_entry(snap, 1, &buf, &len);
	else if (bv->log_len != 0)
		rc = log_next(bv, &off, &e, &p, &len);
	else
		return 0; /* an empty backup: restoring it gives an empty store */
	if (rc == 0 && buf != NULL)
		rc = hw_entry_decode(buf, len, &e);
	free(buf);
	if (rc == 0 && e.time_ms > until_time_ms)
		rc = hw__backup_fail(what, HW_ENOTFOUND,
				     "the backup's first entry is after the target time");
	return rc;
}

/* At the LSN bv->vouch covers, dst's state (the batch flushed) must be the one it signed. */
static int vouch_check(const struct backup_view *bv, struct hw_store *dst,
		       struct hw_replay_batch *b, uint64_t lsn, struct hw_restore_info *info)
{
	bool ok = false, format3;
	if (bv->vouch.lsn == 0 || lsn != bv->vouch.covers)
		return 0;
	int rc = hw__replay_batch_flush(dst, b);
	if (rc == 0) /* the first checkpoint: a format 3 one (an older signer) counts too */
		rc = hw_checkpoint_digest_matches(dst, bv->vouch.digest, &ok, &format3);
	if (rc == 0 && !ok)
		return hw__backup_fail(info->what, HW_EBACKUP,
				       "the state at LSN %" PRIu64
				       " is not the one the checkpoint at LSN %" PRIu64
				       " signed: the snapshot's state is not its log's",
				       lsn, bv->vouch.lsn);
	if (rc != 0)
		return rc;
	info->state_cp_lsn = bv->vouch.lsn;
	info->state_cp_covers = lsn;
	memcpy(info->state_cp_pk, bv->vouch_pk, HW_SIGN_PK_BYTES);
	memcpy(info->state_cp_signer, bv->vouch_id, sizeof info->state_cp_signer);
	return 0;
}

/* Append the backup log's entries that follow dst's head, up to target t, checking the
 * state where bv->vouch says. */
static int log_replay(const struct backup_view *bv, struct hw_store *dst,
		      const struct hw_replay_target *t, struct hw_replay_batch *b,
		      struct hw_restore_info *info)
{
	struct hw_head h;
	int rc = hw_store_head(dst, &h);
	struct hw_entry e;
	const uint8_t *p;
	size_t len, off = 0;
	uint64_t next = h.lsn + 1;
	if (rc == 0)
		rc = vouch_check(bv, dst, b, h.lsn, info);
	while (rc == 0 && off < bv->log_len) {
		rc = log_next(bv, &off, &e, &p, &len);
		/* Not the next one: replay stopped inside the snapshot, at the target. */
		if (rc != 0 || e.lsn != next || hw__replay_past(t, &e))
			break;
		rc = hw__replay_batch_add(dst, b, p, len);
		if (rc == 0)
			rc = vouch_check(bv, dst, b, next, info);
		next++;
	}
	return rc == 0 ? hw__replay_batch_flush(dst, b) : rc;
}

/* The first entry of a snapshot's log stamped after a target time (lsn 0: none yet). */
struct stamped_after {
	int64_t time_ms;
	uint64_t lsn;
	int64_t lsn_time_ms;
};

static int stamped_after_cb(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct stamped_after *a = arg;
	struct hw_entry e;
	(void)k;
	/* hashed: a damaged time must not refuse a restore, nor let one through */
	if (hw_entry_decode(v->mv_data, v->mv_size, &e) != 0)
		return HW_ECORRUPT;
	if (e.time_ms <= a->time_ms)
		return 0;
	a->lsn = e.lsn;
	a->lsn_time_ms = e.time_ms;
	return 1; /* found: stop */
}

/* Whether an entry pruned before snap's base is known to be stamped after until_ms (meta
 * "pruned_times", replica/store_int.h): 1, with its range in pt; else 0, with the entries
 * whose times are not known (1 .. *unkept_to) in *unkept_to; or an LMDB error. */
static int pruned_after(struct hw_store *snap, const struct hw_head *base, int64_t until_ms,
			struct hw__pruned_times *pt, uint64_t *unkept_to)
{
	MDB_txn *txn;
	int rc = hw__store_read_begin(snap, &txn);
	if (rc != 0)
		return rc;
	rc = hw__store_pruned_times_get(snap, txn, base, pt);
	hw__store_read_end(snap, txn);
	if (rc != 0)
		return hw_mdb_err(rc);
	/* the base's own time is kept (meta base) and checked by the caller */
	*unkept_to = pt->from_lsn > 1 ? pt->from_lsn - 1 : 0;
	if (*unkept_to == base->lsn && base->lsn > 0)
		(*unkept_to)--;
	return pt->from_lsn <= pt->through_lsn && pt->max_ms > until_ms;
}

/* A copied snapshot holds the state of every entry up to its head, so a time target must
 * be at or after each of their times, not only the head's: a primary's clock set back
 * gives a later entry an earlier time. Its base (the last pruned entry), the entries
 * pruned before it whose times pruning kept (meta "pruned_times") and the entries its log
 * kept are checked; the times of entries pruned by a build that did not keep them are
 * not known (info->times_unkept_to). HW_ENOTFOUND, naming the first entry (or the pruned
 * range) stamped after the target; HW_EBACKUP for an entry that fails its hash. */
static int copy_time_check(struct hw_store *snap, const struct hw_head *base, int64_t until_ms,
			   struct hw_restore_info *info)
{
	char *what = info->what;
	struct hw__pruned_times pt;
	struct stamped_after a = {.time_ms = until_ms};
	int rc = pruned_after(snap, base, until_ms, &pt, &info->times_unkept_to);
	if (rc == 1)
		return hw__backup_fail(
			what, HW_ENOTFOUND,
			"an entry pruned before the snapshot (LSN %" PRIu64 " to %" PRIu64
			") is stamped %.3f s after the target time, and its state is in the "
			"snapshot, which restores whole",
			pt.from_lsn, pt.through_lsn, (double)(pt.max_ms - until_ms) / 1000.0);
	if (rc != 0)
		return rc;
	if (base->time_ms > until_ms) {
		a.lsn = base->lsn;
		a.lsn_time_ms = base->time_ms;
	}
	rc = a.lsn != 0 ? 1
			: hw__store_walk(snap, snap->t.log, MDB_FIRST, MDB_NEXT, UINT64_MAX,
					 stamped_after_cb, &a);
	if (rc == HW_ECORRUPT)
		return hw__backup_fail(what, HW_EBACKUP,
				       "the snapshot's log holds a damaged entry");
	if (rc != 1)
		return rc;
	return hw__backup_fail(
		what, HW_ENOTFOUND,
		"entry %" PRIu64 " is stamped %.3f s after the target time, and its state is "
		"in the snapshot, which restores whole (its log starts after LSN %" PRIu64 ")",
		a.lsn, (double)(a.lsn_time_ms - until_ms) / 1000.0, base->lsn);
}

/* A snapshot whose log starts after a base cannot be replayed from entry 1: it is
 * copied whole, so the target must be at or after its head, and a time target after
 * every entry it holds whose time is kept (copy_time_check). HW_ENOTFOUND otherwise. */
static int copy_target_check(struct hw_store *snap, const struct hw_head *base,
			     const struct hw_replay_target *t, struct hw_restore_info *info)
{
	char *what = info->what;
	struct hw_head h;
	int rc = hw_store_head(snap, &h);
	if (rc != 0)
		return rc;
	if ((t->until_lsn != 0 && t->until_lsn < h.lsn) ||
	    (t->until_time_ms != 0 && t->until_time_ms < h.time_ms))
		return hw__backup_fail(what, HW_ENOTFOUND,
				       "the snapshot's log starts after LSN %" PRIu64
				       ": it restores to its head, LSN %" PRIu64 ", or later only",
				       base->lsn, h.lsn);
	return t->until_time_ms != 0 ? copy_time_check(snap, base, t->until_time_ms, info) : 0;
}

/* Leave in a copied store what vouched for its state (replica/restore_vouch.h): the
 * checkpoint info names, or none, over whatever record the snapshot's source held. */
static int vouch_record(struct hw_store *dst, const struct hw_head *h,
			const struct hw_restore_info *info)
{
	struct hw_restore_vouch v = {
		.cp_lsn = info->state_cp_lsn, .covers = info->state_cp_covers, .head_lsn = h->lsn};
	memcpy(v.head_hash, h->hash, HW_HASH_BYTES);
	memcpy(v.digest, info->digest, HW_HASH_BYTES);
	memcpy(v.signer_pk, info->state_cp_pk, HW_SIGN_PK_BYTES);
	memcpy(v.signer_id, info->state_cp_signer, sizeof v.signer_id);
	return hw_restore_vouch_put(dst, &v);
}

/* Build the store in dir: replay the snapshot's log into the empty store there, or
 * (copied) take the copy already there; then the backup's log.hwl. */
static int restore_into(const struct backup_view *bv, struct hw_store *snap, bool copied,
			const char *dir, const struct hw_replay_target *t,
			struct hw_replay_batch *b, struct hw_restore_info *info)
{
	struct hw_store *dst;
	struct hw_head h;
	int rc = hw_store_open(dir, NULL, &dst);
	if (rc != 0)
		return rc;
	rc = copied ? 0 : hw__replay_into(snap, dst, t, b);
	if (rc == 0)
		rc = log_replay(bv, dst, t, b, info);
	if (rc == 0)
		rc = hw_store_head(dst, &h);
	if (rc == 0)
		rc = hw_store_digest(dst, info->digest);
	if (rc == 0) {
		info->lsn = h.lsn;
		info->time_ms = h.time_ms;
	}
	if (rc == 0 && copied)
		rc = vouch_record(dst, &h, info);
	hw_store_close(dst);
	return rc;
}

/* The store files in dir, and dir itself when rmdir_too. */
static void store_remove(const char *dir, bool rmdir_too)
{
	char path[PATH_MAX];
	if (hw__backup_path_join(path, dir, "data.mdb") == 0)
		unlink(path);
	if (hw__backup_path_join(path, dir, "lock.mdb") == 0)
		unlink(path);
	if (rmdir_too)
		rmdir(dir);
}

/* Whether target t stops the replay of log.hwl before LSN lsn (an entry up to it is past
 * t). */
static bool stops_before(const struct backup_view *bv, const struct hw_replay_target *t,
			 uint64_t lsn)
{
	struct hw_entry e;
	const uint8_t *p;
	size_t len, off = 0;
	if (t->until_lsn != 0 && t->until_lsn < lsn)
		return true;
	while (t->until_time_ms != 0 && off < bv->log_len &&
	       log_next(bv, &off, &e, &p, &len) == 0 && e.lsn <= lsn)
		if (hw__replay_past(t, &e))
			return true;
	return false;
}

/* The copied snapshot's state does not depend on the target: where the target stops
 * before the LSN bv->vouch covers, it is checked first in a copy of its own in work,
 * log.hwl replayed into it up to that LSN (a scratch store: nothing flushed) and the digest
 * compared there (vouch_check), then the copy is removed for the restore's own. So the disk
 * holds one copy at a time, no more than a restore to that LSN takes. */
static int vouch_ahead(const struct backup_view *bv, struct hw_store *snap, const char *work,
		       const struct hw_replay_batch *b, struct hw_restore_info *info)
{
	struct hw_replay_target vt = {.until_lsn = bv->vouch.covers};
	struct hw_store_opts o = {.scratch = true};
	struct hw_replay_batch vb;
	struct hw_store *dst;
	int rc = hw__replay_batch_init(&vb, vt.until_lsn, b->cb, b->arg);
	if (rc != 0)
		return rc;
	rc = hw__backup_copy(snap, work, b->cb, b->arg);
	if (rc == 0)
		rc = hw_store_open(work, &o, &dst);
	if (rc == 0) {
		rc = log_replay(bv, dst, &vt, &vb, info);
		hw_store_close(dst);
	}
	/* log_check saw every entry up to the end, the covered LSN among them */
	HW_ASSERT(rc != 0 || info->state_cp_lsn == bv->vouch.lsn);
	hw__replay_batch_fini(&vb);
	store_remove(work, false);
	return rc;
}

/* Build the store in work: the snapshot copied (after vouch_ahead, when the target stops
 * before what the checkpoint covers) or replayed from entry 1, then log.hwl, up to t. */
static int restore_build(const struct backup_view *bv, struct hw_store *snap, bool copy,
			 const char *work, const struct hw_replay_target *t,
			 struct hw_replay_batch *b, struct hw_restore_info *info)
{
	int rc = 0;
	if (copy && bv->vouch.lsn != 0 && stops_before(bv, t, bv->vouch.covers))
		rc = vouch_ahead(bv, snap, work, b, info);
	if (rc == 0)
		rc = copy ? hw__backup_copy(snap, work, b->cb, b->arg) : hw_store_init(work);
	if (rc == 0)
		rc = restore_into(bv, snap, copy, work, t, b, info);
	return rc;
}

/* A restore is built in dir/.restore-tmp and moved into dir only whole, so that one cut
 * short (killed, a crash) leaves no data.mdb in dir that could pass for the store it was
 * to be. dir is made if missing (*made says so) and locked (*lock, an flock on
 * dir/.restore-lock, held until the restore ends; a file, so that NFS, which locks only
 * what is open for writing, takes it too): a second restore into it is HW_EBUSY, where
 * it would have removed the first's work directory under it. dir must hold no store
 * (HW_EEXIST) and no node's log (a wal directory, whose entries would be replayed on top
 * of the restored store). A work directory left by an earlier restore is removed. */
static int restore_begin(const char *dir, char *work, int *lock, bool *made, char *what)
{
	char path[PATH_MAX];
	int rc = hw__backup_path_join(work, dir, ".restore-tmp");
	if (rc == 0)
		rc = hw__backup_path_join(path, dir, ".restore-lock");
	if (rc != 0)
		return rc;
	*made = mkdir(dir, 0700) == 0;
	if (!*made && errno != EEXIST)
		return -errno;
	rc = hw__backup_lock_take(path, dir, lock, what);
	if (rc != 0)
		return rc;
	rc = hw__backup_path_join(path, dir, "data.mdb");
	if (rc == 0)
		rc = access(path, F_OK) == 0
			     ? hw__backup_fail(what, HW_EEXIST, "%s holds a store already", dir)
			     : 0;
	if (rc == 0)
		rc = hw__backup_path_join(path, dir, "wal");
	if (rc == 0 && access(path, F_OK) == 0)
		rc = hw__backup_fail(what, HW_EEXIST,
				     "%s holds a node's log (wal): restore into an empty "
				     "directory",
				     dir);
	if (rc != 0)
		return rc;
	store_remove(work, true);
	return mkdir(work, 0700) == 0 ? 0 : -errno;
}

/* The end of a restore, whole or not: the lock file goes when this restore holds it
 * (lock >= 0; before its lock: a restore that opened it then finds it gone, hw__backup_lock_take),
 * and on failure the work directory (work, NULL when the restore did not begin), and dir
 * when this restore made it. */
static void restore_end(const char *dir, const char *work, int lock, bool made, int rc)
{
	char path[PATH_MAX];
	if (rc != 0 && work != NULL)
		store_remove(work, true);
	if (lock >= 0 && hw__backup_path_join(path, dir, ".restore-lock") == 0)
		unlink(path);
	if (lock >= 0)
		close(lock);
	if (rc != 0 && made)
		rmdir(dir); /* if empty */
}

/* Move the restored data.mdb from work into dir (never over another: link fails then)
 * and flush dir. A static standby's record of what its primary said, left in dir, is of
 * the log that was there: it goes first. A dir that cannot be flushed gets its data.mdb
 * removed again (the work copy is gone by then): a failed restore leaves nothing
 * restored, as it says. */
static int restore_finish(const char *work, const char *dir, char *what)
{
	char from[PATH_MAX], to[PATH_MAX];
	int rc = hw__backup_path_join(to, dir, HW_SAID_FILE);
	if (rc == 0 && unlink(to) != 0 && errno != ENOENT)
		rc = -errno;
	if (rc == 0)
		rc = hw__backup_path_join(from, work, "data.mdb");
	if (rc == 0)
		rc = hw__backup_path_join(to, dir, "data.mdb");
	if (rc == 0 && link(from, to) != 0)
		rc = errno == EEXIST
			     ? hw__backup_fail(what, HW_EEXIST, "%s holds a store already", dir)
			     : -errno;
	if (rc != 0)
		return rc;
	store_remove(work, true);
	rc = hw_fs_sync(dir);
	if (rc != 0 && unlink(to) == 0)
		return hw__backup_fail(what, rc,
				       "the restored store could not be flushed into "
				       "it: removed, nothing restored");
	if (rc != 0) /* the entry stays: say so */
		return hw__backup_fail(what, rc,
				       "the restored store could not be flushed into "
				       "it, nor removed: %s is left, not durable",
				       to);
	return 0;
}

int hw_restore(const char *backup_dir, const char *dir, uint64_t until_lsn, int64_t until_time_ms,
	       hw_progress_cb *cb, void *arg, struct hw_restore_info *info)
{
	double t0 = hw_mono_s();
	struct hw_restore_info local;
	struct backup_view bv;
	struct hw_store *snap = NULL;
	struct hw_replay_target t = {.until_lsn = until_lsn, .until_time_ms = until_time_ms};
	struct hw_replay_batch b;
	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof *info);
	memset(&bv, 0, sizeof bv);
	struct hw_head base = {0};
	int rc = backup_open(backup_dir, &bv, info->what, cb, arg);
	info->end_lsn = rc == 0 ? bv.m.end_lsn : 0;
	if (rc == 0 && until_lsn > bv.m.end_lsn)
		rc = hw__backup_fail(info->what, HW_ENOTFOUND,
				     "the backup ends at LSN %" PRIu64 ", before LSN %" PRIu64,
				     bv.m.end_lsn, until_lsn);
	if (rc == 0)
		rc = snapshot_open(&bv, &snap, info->what);
	if (rc == 0)
		rc = hw__backup_log_reaches_head(snap, "the backup's snapshot's", info->what);
	if (rc == 0)
		rc = hw_store_base(snap, &base);
	bool copy = base.lsn != 0; /* its log starts after a base: copy, not replay */
	info->base_lsn = base.lsn;
	info->copied_lsn = copy ? bv.m.snapshot_lsn : 0;
	if (!copy)
		bv.vouch.lsn = 0; /* rebuilt from entry 1: verify compares every checkpoint */
	if (rc == 0)
		rc = copy ? copy_target_check(snap, &base, &t, info)
			  : target_check(snap, &bv, until_time_ms, info->what);
	uint64_t last = until_lsn != 0 ? until_lsn : bv.m.end_lsn;
	if (rc == 0)
		rc = hw__replay_batch_init(&b, last, cb, arg);
	if (rc != 0)
		goto out;
	info->checked = true;
	char work[PATH_MAX];
	int lock = -1;
	bool made = false;
	rc = restore_begin(dir, work, &lock, &made, info->what);
	bool began = rc == 0;
	if (rc == 0)
		rc = restore_build(&bv, snap, copy, work, &t, &b, info);
	/* Only a time target stops short of an LSN known beforehand. */
	if (rc == 0 && until_time_ms == 0 && info->lsn != last)
		rc = hw__backup_fail(info->what, HW_EBACKUP,
				     "the restore reached LSN %" PRIu64 ", not LSN %" PRIu64
				     ": the backup is damaged",
				     info->lsn, last);
	if (rc == 0)
		rc = restore_finish(work, dir, info->what);
	restore_end(dir, began ? work : NULL, lock, made, rc);
	hw__replay_batch_fini(&b);
out:
	hw_store_close(snap);
	backup_close(&bv);
	info->seconds = hw_mono_s() - t0;
	return rc;
}

int hw_restore_room(const char *backup_dir, const char *dir, struct hw_scratch_room *room)
{
	struct manifest m;
	char what[160];
	*room = (struct hw_scratch_room){0};
	int rc = hw__backup_manifest_read(backup_dir, &m, what);
	if (rc != 0)
		return rc;
	return hw_scratch_room_for(m.snapshot_bytes + m.log_bytes + m.log_bytes / 2, dir, room);
}

bool hw_restore_no_room(int rc, const char *backup_dir, const char *dir,
			struct hw_scratch_room *room)
{
	*room = (struct hw_scratch_room){0};
	if (!hw_scratch_full(rc))
		return false;
	bool short_of_room = hw_restore_room(backup_dir, dir, room) == -ENOSPC;
	return rc != HW_ESTORE_FULL || short_of_room;
}
