/* verify.c: the integrity check of a store (replica/verify.h). Two passes: walk the log
 * (hash of every entry, LSN sequence, chain, head), then rebuild the state from the log in
 * a scratch store and compare digests, which re-checks every record against the rules. */
#include "base/clock.h"
#include "replica/verify.h"

#include <errno.h>
#include <sodium.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/fs.h"
#include "replica/apply.h"
#include "replica/backup.h"
#include "replica/checkpoint.h"
#include "replica/entry.h"
#include "replica/epochs.h"
#include "replica/record.h"
#include "replica/restore_vouch.h"
#include "replica/snapshot.h"
#include "replica/store_int.h"

static int bad(struct hw_verify_report *r, int code, uint64_t lsn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Record the verdict: code, where the damage starts and what it is. Returns code. */
static int bad(struct hw_verify_report *r, int code, uint64_t lsn, const char *fmt, ...)
{
	va_list ap;
	r->code = code;
	r->first_bad_lsn = lsn;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof r->what, fmt, ap);
	va_end(ap);
	return code;
}

/* ---- pass 1: the log --------------------------------------------------------------- */

struct walk {
	uint64_t last_lsn;
	uint8_t last_hash[HW_HASH_BYTES];
	uint64_t last_epoch; /* and time: what meta's head must repeat */
	int64_t last_time_ms;
	struct hw_store *s;
	MDB_txn *txn;
	struct hw_head base;
	const uint8_t *trust; /* trust_count Ed25519 keys */
	size_t trust_count;
	struct hw_arena arena; /* one record at a time */
	struct hw_checkpoint_claim *cps; /* those that passed pass 1, for pass 2 */
	size_t n_cps, cap_cps;
	/* The time the entries after the last good checkpoint's own were coming in (the
	 * report adds those since the entry it vouches for): the steps between two of them
	 * up to cadence_ms each (0: no bound, nothing counted); a longer one is the cluster
	 * idle or down, when no checkpoint was due. */
	int64_t cadence_ms;
	int64_t active_ms;
};

static bool key_trusted(const struct walk *w, const uint8_t *pk)
{
	for (size_t i = 0; i < w->trust_count; i++)
		if (memcmp(w->trust + i * HW_SIGN_PK_BYTES, pk, HW_SIGN_PK_BYTES) == 0)
			return true;
	return false;
}

/* The entry at lsn, already walked (lsn < the entry being walked): from the log, or the
 * base's head (no record) when it is the base; false when it was pruned before the base. */
static bool entry_at(const struct walk *w, uint64_t lsn, struct hw_entry *e)
{
	if (lsn == w->base.lsn) {
		memset(e, 0, sizeof *e);
		e->lsn = lsn;
		e->epoch = w->base.epoch;
		e->time_ms = w->base.time_ms;
		memcpy(e->hash, w->base.hash, HW_HASH_BYTES);
		return true;
	}
	MDB_val v;
	return lsn > w->base.lsn && hw__store_log_get(w->s, w->txn, lsn, &v) == 0 &&
	       hw_entry_parse(v.mv_data, v.mv_size, e) == 0;
}

/* The checkpoint c in entry lsn against the log it sits in. A checkpoint vouches for more
 * than the one before it: a primary signs its committed head, which holds the previous
 * checkpoint's own entry, so one that repeats (or goes back to) an earlier one's LSN is
 * a copy, which anyone can re-encode with a fresh record_id (the signature covers
 * neither that nor the event time) to make a tail look vouched for. */
static int covered_check(const struct walk *w, const Tos__V1__Checkpoint *c, uint64_t lsn,
			 struct hw_verify_report *r)
{
	struct hw_entry e;
	if (c->lsn >= lsn)
		return bad(r, HW_ESIGNATURE, lsn,
			   "checkpoint at LSN %" PRIu64 " vouches for LSN %" PRIu64
			   ", not an earlier one", lsn, c->lsn);
	if (w->n_cps > 0 && c->lsn <= w->cps[w->n_cps - 1].covers)
		return bad(r, HW_ESIGNATURE, lsn,
			   "checkpoint at LSN %" PRIu64 " vouches for LSN %" PRIu64
			   ", not after the previous one's LSN %" PRIu64
			   ": a copy, not a primary's",
			   lsn, c->lsn, w->cps[w->n_cps - 1].covers);
	if (entry_at(w, c->lsn, &e) &&
	    (memcmp(e.hash, c->chain_hash.data, HW_HASH_BYTES) != 0 || e.epoch != c->epoch))
		return bad(r, HW_ESIGNATURE, lsn,
			   "checkpoint at LSN %" PRIu64 ": the log's entry %" PRIu64
			   " is not the one it signed", lsn, c->lsn);
	return 0;
}

static int keep_cp(struct walk *w, const Tos__V1__Checkpoint *c, uint64_t lsn,
		   struct hw_verify_report *r)
{
	if (w->n_cps == w->cap_cps) {
		size_t cap = w->cap_cps ? 2 * w->cap_cps : 64;
		struct hw_checkpoint_claim *p = realloc(w->cps, cap * sizeof *p);
		if (p == NULL)
			return bad(r, HW_ENOMEM, lsn, "out of memory listing checkpoints");
		w->cps = p;
		w->cap_cps = cap;
	}
	struct hw_checkpoint_claim *k = &w->cps[w->n_cps++];
	k->lsn = lsn;
	k->covers = c->lsn;
	memcpy(k->digest, c->state_digest.data, HW_HASH_BYTES);
	r->checkpoints = w->n_cps;
	r->good_cp_lsn = lsn;
	r->good_cp_covers = c->lsn;
	w->active_ms = 0;
	return 0;
}

/* If e holds a checkpoint: its signature, its key and the entry it covers. A record that
 * does not decode is the rebuild's to report. */
static int checkpoint_one(struct walk *w, const struct hw_entry *e, struct hw_verify_report *r)
{
	const Tos__V1__Checkpoint *c = hw_checkpoint_of(e, &w->arena);
	if (c == NULL)
		return 0;
	if (hw_checkpoint_check(c) != 0)
		return bad(r, HW_ESIGNATURE, e->lsn,
			   "checkpoint at LSN %" PRIu64 " by %s: the signature does not verify",
			   e->lsn, c->node_id ? c->node_id : "?");
	if (w->trust_count > 0 && !key_trusted(w, c->public_key.data)) {
		char hex[2 * HW_SIGN_PK_BYTES + 1];
		sodium_bin2hex(hex, sizeof hex, c->public_key.data, HW_SIGN_PK_BYTES);
		return bad(r, HW_EUNTRUSTED, e->lsn,
			   "checkpoint at LSN %" PRIu64 " by %s: key %.16s... is not trusted",
			   e->lsn, c->node_id, hex);
	}
	int rc = covered_check(w, c, e->lsn, r);
	return rc != 0 ? rc : keep_cp(w, c, e->lsn, r);
}

/* The part of a step between two entries' times that counts as entries coming in: all
 * of it up to one cadence, none of a longer one (the cluster idle or down). */
static int64_t active_step(const struct walk *w, int64_t step)
{
	return w->cadence_ms != 0 && step > 0 && step <= w->cadence_ms ? step : 0;
}

/* The time entries were coming in from the entry at from to the one at to (both walked,
 * from <= to; from the base when from was pruned). */
static int64_t active_between(const struct walk *w, uint64_t from, uint64_t to)
{
	struct hw_entry e;
	int64_t ms = 0;
	uint64_t lsn = from > w->base.lsn ? from : w->base.lsn;
	if (w->cadence_ms == 0 || !entry_at(w, lsn, &e))
		return 0;
	for (int64_t last = e.time_ms; ++lsn <= to && entry_at(w, lsn, &e); last = e.time_ms)
		ms += active_step(w, e.time_ms - last);
	return ms;
}

/* Check one log record against the one before it. Returns 0 or the verdict. */
static int walk_one(const MDB_val *k, const MDB_val *v, struct walk *w, struct hw_verify_report *r)
{
	uint64_t want = w->last_lsn + 1;
	if (k->mv_size != 8)
		return bad(r, HW_ELSN, want, "log key of %zu bytes after LSN %" PRIu64, k->mv_size,
			   w->last_lsn);
	uint64_t lsn = hw_lsn_from_key(k);
	if (lsn != want)
		return bad(r, HW_ELSN, want,
			   "LSN %" PRIu64 " is missing: the next entry is %" PRIu64, want, lsn);
	struct hw_entry e;
	if (hw_entry_decode(v->mv_data, v->mv_size, &e) != 0)
		return bad(r, HW_ECORRUPT, lsn, "entry at LSN %" PRIu64 " fails its hash check",
			   lsn);
	if (e.lsn != lsn)
		return bad(r, HW_ELSN, lsn, "entry stored under LSN %" PRIu64 " says LSN %" PRIu64,
			   lsn, e.lsn);
	if (memcmp(e.prev_hash, w->last_hash, HW_HASH_BYTES) != 0)
		return bad(r, HW_ECHAIN, lsn, "entry %" PRIu64 " does not chain to LSN %" PRIu64,
			   lsn, w->last_lsn);
	w->active_ms += active_step(w, e.time_ms - w->last_time_ms);
	int rc = checkpoint_one(w, &e, r);
	if (rc != 0)
		return rc;
	w->last_lsn = lsn;
	memcpy(w->last_hash, e.hash, HW_HASH_BYTES);
	w->last_epoch = e.epoch;
	w->last_time_ms = e.time_ms;
	r->entries++;
	return 0;
}

/* Walk the whole log in one read transaction. Returns an error that stopped the walk;
 * what it found is in r->code. */
static int walk_log(struct hw_store *s, MDB_txn *txn, struct walk *w, hw_progress_cb *cb,
		    void *arg, struct hw_verify_report *r)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->t.log, &cur);
	if (rc != 0)
		return hw_mdb_err(rc);
	MDB_val k, v;
	MDB_cursor_op op = MDB_FIRST;
	int stop = 0;
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (walk_one(&k, &v, w, r) != 0)
			break;
		if (cb != NULL && r->entries % HW_PROGRESS_STEP == 0 &&
		    (stop = cb(arg, r->entries, r->head_lsn)) != 0)
			break;
	}
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
		bad(r, HW_ECORRUPT, w->last_lsn + 1,
		    "LMDB page after LSN %" PRIu64 " is damaged: %s", w->last_lsn,
		    mdb_strerror(rc));
	rc = rc == 0 || rc == MDB_NOTFOUND || r->code != 0 ? 0 : hw_mdb_err(rc);
	mdb_cursor_close(cur);
	return stop != 0 ? stop : rc;
}

/* The head in meta must be the log's last entry. */
static void head_check(const struct hw_head *h, const struct walk *w, struct hw_verify_report *r)
{
	if (h->lsn != w->last_lsn)
		bad(r, HW_ELSN, (h->lsn < w->last_lsn ? h->lsn : w->last_lsn) + 1,
		    "meta head is LSN %" PRIu64 " but the log ends at LSN %" PRIu64, h->lsn,
		    w->last_lsn);
	else if (memcmp(h->hash, w->last_hash, HW_HASH_BYTES) != 0)
		bad(r, HW_ECHAIN, h->lsn, "meta head hash differs from entry %" PRIu64, h->lsn);
	else if (h->epoch != w->last_epoch || h->time_ms != w->last_time_ms)
		bad(r, HW_ECORRUPT, h->lsn,
		    "meta head says epoch %" PRIu64 " time %" PRId64 " but entry %" PRIu64
		    " has epoch %" PRIu64 " time %" PRId64,
		    h->epoch, h->time_ms, h->lsn, w->last_epoch, w->last_time_ms);
}

/* ---- pass 2: rebuild --------------------------------------------------------------- */

/* Errors of the machinery (disk, memory), as opposed to verdicts about the data. */
static bool is_storage_error(int rc)
{
	return rc == HW_ESTORE_FULL || rc == HW_ESTORE_FAILED || rc == HW_ENOMEM ||
	       (rc < 0 && rc > -4096);
}

/* Replay failed somewhere in the batch after d's head (batches are all or nothing):
 * append entry by entry to find which one, and why. */
static int find_bad(struct hw_store *s, struct hw_store *d, int code, struct hw_verify_report *r)
{
	struct hw_head h;
	struct hw_reject rej;
	int rc = hw_store_head(d, &h);
	for (uint32_t i = 0; rc == 0 && i <= HW_BATCH_RECORDS_MAX; i++) {
		uint8_t *buf;
		size_t len;
		uint64_t lsn = h.lsn + 1 + i;
		rc = hw_store_read_entry(s, lsn, &buf, &len);
		if (rc != 0)
			break;
		const uint8_t *p = buf;
		memset(&rej, 0, sizeof rej);
		rc = hw_store_append_entries(d, &p, &len, 1, &rej);
		free(buf);
		if (rc != 0 && !is_storage_error(rc)) {
			bad(r, rc, lsn, "LSN %" PRIu64 " no longer applies: %s %s: %s", lsn,
			    hw_errname(rc), rej.field, rej.rule);
			return 0;
		}
	}
	if (rc != 0 && is_storage_error(rc))
		return rc;
	bad(r, code, h.lsn + 1, "rebuild failed after LSN %" PRIu64 ": %s", h.lsn,
	    hw_errname(code));
	return 0;
}

/* Only the checkpoints before the damage r reports (its first bad LSN) stay good. */
static void good_before(const struct walk *w, size_t upto, struct hw_verify_report *r)
{
	while (upto > 0 && r->first_bad_lsn != 0 && w->cps[upto - 1].lsn >= r->first_bad_lsn)
		upto--;
	r->checkpoints = upto;
	r->good_cp_lsn = upto > 0 ? w->cps[upto - 1].lsn : 0;
	r->good_cp_covers = upto > 0 ? w->cps[upto - 1].covers : 0;
}

/* Replay into d checkpoint by checkpoint, comparing the digest at each LSN one covers,
 * then on to head_lsn. Returns the replay's error (the caller finds the bad entry); a
 * digest that differs is a verdict (HW_EDIGEST at the checkpoint's LSN). */
static int replay_checked(struct hw_store *s, struct hw_store *d, uint64_t head_lsn,
			  const struct walk *w, hw_progress_cb *cb, void *arg,
			  struct hw_verify_report *r, size_t *checked)
{
	int rc = 0;
	bool format4_seen = false; /* nodes signed format 3's digests only before format 4 */
	for (*checked = 0; rc == 0 && *checked < w->n_cps; ++*checked) {
		const struct hw_checkpoint_claim *c = &w->cps[*checked];
		bool ok = false, format3 = false;
		rc = hw_store_replay(s, d, c->covers, 0, cb, arg);
		if (rc == 0)
			rc = hw_checkpoint_digest_matches(d, c->digest, &ok, &format3);
		ok = ok && !(format3 && format4_seen);
		format4_seen = format4_seen || (ok && !format3);
		r->checkpoints_format3 += ok && format3;
		if (rc == 0 && !ok) {
			bad(r, HW_EDIGEST, c->lsn,
			    "checkpoint at LSN %" PRIu64 ": the state at LSN %" PRIu64
			    " differs from the one it signed", c->lsn, c->covers);
			return 0;
		}
	}
	return rc == 0 ? hw_store_replay(s, d, head_lsn, 0, cb, arg) : rc;
}

/* Rebuild s's state from its log up to head_lsn in scratch_dir and compare digests. */
static int rebuild(struct hw_store *s, const char *scratch_dir, uint64_t head_lsn,
		   const struct walk *w, hw_progress_cb *cb, void *arg,
		   struct hw_verify_report *r)
{
	struct hw_store *d;
	size_t checked = 0;
	struct hw_store_opts o = {.scratch = true};
	int rc = hw_store_open(scratch_dir, &o, &d);
	if (rc != 0)
		return rc;
	/* Up to the snapshot's head (0 would mean all); entries a live writer added since
	 * are not part of the stored state that was digested. */
	rc = head_lsn == 0 ? 0 : replay_checked(s, d, head_lsn, w, cb, arg, r, &checked);
	if (rc != 0 && !is_storage_error(rc)) {
		rc = find_bad(s, d, rc, r);
		good_before(w, checked, r);
	} else if (rc == 0 && r->code != 0) {
		good_before(w, checked, r);
	} else if (rc == 0) {
		/* a format 3 store read as it is: its tables are laid out as format 3's */
		rc = hw_store_format3(s) ? hw_store_digest_format3(d, r->digest_rebuilt)
					 : hw_store_digest(d, r->digest_rebuilt);
		if (rc == 0 && memcmp(r->digest_rebuilt, r->digest_stored, HW_HASH_BYTES) != 0)
			bad(r, HW_EDIGEST, 0,
			    "stored state differs from the state rebuilt from the log");
	}
	hw_store_close(d);
	return rc;
}

/* LMDB's free-page table (dbi 0, FREE_DBI): each row a transaction id and the pages it
 * freed, a count and that many page numbers, each past the two meta pages and within
 * the map's used pages. The next write transaction reuses those pages: a damaged list
 * reads as intact to every other check and kills the next commit (SIGBUS), or hands it
 * pages still in use. */
static int free_walk(struct hw_store *s, MDB_txn *txn, struct hw_verify_report *r)
{
	MDB_envinfo ei;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_env_info(s->env, &ei);
	if (rc == 0)
		rc = mdb_cursor_open(txn, 0, &c);
	if (rc != 0)
		return hw_mdb_err(rc);
	while (r->code == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		size_t n = 0, pg = 0; /* copied out: a row need not be aligned */
		if (v.mv_size >= sizeof n)
			memcpy(&n, v.mv_data, sizeof n);
		bool ok = v.mv_size >= sizeof n && n <= v.mv_size / sizeof n &&
			  v.mv_size == (n + 1) * sizeof n;
		for (size_t i = 1; ok && i <= n; i++) {
			memcpy(&pg, (const uint8_t *)v.mv_data + i * sizeof pg, sizeof pg);
			ok = pg >= 2 && pg <= ei.me_last_pgno;
		}
		if (!ok)
			bad(r, HW_ECORRUPT, 0,
			    "LMDB's free-page list is damaged (a row of %zu bytes, page %zu of %zu "
			    "used): the next write would reuse pages it should not",
			    v.mv_size, pg, ei.me_last_pgno + 1);
	}
	mdb_cursor_close(c);
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
		bad(r, HW_ECORRUPT, 0, "LMDB's free-page list cannot be read: %s",
		    mdb_strerror(rc));
	return rc == 0 || rc == MDB_NOTFOUND || r->code != 0 ? 0 : hw_mdb_err(rc);
}

/* The epochs of the pruned log (meta "epochs", replica/epochs.h), which a rejoin judges
 * by and reads as absent when it does not decode: it must decode, cover no more than the
 * base, and, when it covers the base, say the base entry's epoch wrote it. One that stops
 * before the base (a binary without it pruned on) is not used and not judged. */
static void epochs_check(struct hw_store *s, MDB_txn *txn, const struct hw_head *base,
			 struct hw_verify_report *r)
{
	MDB_val k = hw_mdb_val(HW__META_EPOCHS, sizeof HW__META_EPOCHS - 1), v;
	int rc = mdb_get(txn, s->t.meta, &k, &v);
	if (rc != 0) {
		if (rc != MDB_NOTFOUND)
			bad(r, hw_mdb_err(rc), 0, "meta epochs cannot be read: %s",
			    mdb_strerror(rc));
		return;
	}
	struct hw_epoch_hist h; /* 4 KiB */
	rc = hw_epoch_hist_decode(v.mv_data, v.mv_size, &h);
	if (rc != 0)
		bad(r, rc, 0,
		    "meta epochs (the epochs of the pruned log, %zu bytes) does not decode: %s",
		    v.mv_size, hw_errname(rc));
	else if (h.through_lsn > base->lsn)
		bad(r, HW_ECORRUPT, 0,
		    "meta epochs covers the log up to LSN %" PRIu64 ", past its base, LSN %" PRIu64,
		    h.through_lsn, base->lsn);
	else if (h.through_lsn == base->lsn && h.epoch[h.n - 1] != base->epoch)
		bad(r, HW_ECORRUPT, 0,
		    "meta epochs says epoch %" PRIu64 " wrote the base entry, LSN %" PRIu64
		    ", and meta base says epoch %" PRIu64,
		    h.epoch[h.n - 1], base->lsn, base->epoch);
}

/* Pass 1 in one read transaction, so that the head, the log and the stored state are one
 * snapshot even while a node writes the store. */
static int check_snapshot(struct hw_store *s, struct walk *w, hw_progress_cb *cb, void *arg,
			  struct hw_verify_report *r)
{
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	struct hw_head h;
	w->s = s;
	w->txn = txn;
	rc = hw__store_head_txn(s, txn, &h);
	r->head_lsn = h.lsn;
	if (rc == 0)
		rc = hw__store_base_txn(s, txn, &w->base);
	if (rc == 0) {
		/* A pruned log starts after its base: the first entry chains to it. */
		r->base_lsn = w->last_lsn = w->base.lsn;
		memcpy(w->last_hash, w->base.hash, HW_HASH_BYTES);
		w->last_epoch = w->base.epoch;
		w->last_time_ms = w->base.time_ms;
		if (w->base.lsn > h.lsn)
			bad(r, HW_ELSN, 0,
			    "log base LSN %" PRIu64 " is after the head, LSN %" PRIu64,
			    w->base.lsn, h.lsn);
		else
			epochs_check(s, txn, &w->base, r);
	}
	if (rc == 0 && r->code == 0) {
		r->stage = HW_VERIFY_AT_WALK;
		rc = walk_log(s, txn, w, cb, arg, r);
	}
	if (rc == 0 && r->code == 0) {
		head_check(&h, w, r);
		/* after the entry the last good checkpoint vouches for, or the base */
		r->unvouched =
			h.lsn - (r->good_cp_covers > r->base_lsn ? r->good_cp_covers : r->base_lsn);
		/* from the entry it vouches for: the walk counted from the checkpoint's own */
		r->unvouched_ms = w->active_ms +
				  (r->good_cp_lsn == 0
					   ? 0
					   : active_between(w, r->good_cp_covers, r->good_cp_lsn));
	}
	/* Not after damage: LMDB marks the transaction bad after a damaged page (every read
	 * then fails, as a storage error would) or aborts on one, so reading on would bury
	 * what the walk found. */
	if (rc == 0 && r->code == 0) {
		r->stage = HW_VERIFY_AT_STATE;
		rc = hw__store_digest_txn(s, txn, r->digest_stored);
		r->stored_digested = rc == 0;
		if (rc != 0 && !is_storage_error(rc))
			bad(r, rc, 0, "state tables cannot be read: %s", hw_errname(rc));
		if (!is_storage_error(rc))
			rc = 0;
	}
	if (rc == 0 && r->code == 0) {
		r->stage = HW_VERIFY_AT_FREE;
		rc = free_walk(s, txn, r);
	}
	hw__store_read_end(s, txn);
	w->txn = NULL;
	return rc;
}

/* Bytes free where scratch_dir is, or will be made: in its parent directory. */
static int scratch_free(const char *scratch_dir, uint64_t *room)
{
	int rc = hw_fs_free(scratch_dir, room);
	if (rc != -ENOENT)
		return rc;
	char parent[PATH_MAX];
	if (snprintf(parent, sizeof parent, "%s", scratch_dir) >= (int)sizeof parent)
		return -ENAMETOOLONG;
	return hw_fs_free(dirname(parent), room);
}

/* hw_scratch_room's margin over a replay's share of its source's pages: replays of the
 * generator's profiles to a tenth, a half and the whole of a 30,000-entry log took up to
 * 10 % more pages than their share, 3.5 % more than the whole. */
#define SCRATCH_MARGIN_DIV 8u
/* A new store's own pages (its meta and the roots of its tables: 40 KiB measured for a
 * store of one entry) and its lock file (8 KiB), with room. */
#define SCRATCH_SPARE_BYTES (256u * 1024u)

int hw_scratch_room_for(uint64_t bytes, const char *scratch_dir, struct hw_scratch_room *room)
{
	*room = (struct hw_scratch_room){0};
	int rc = scratch_free(scratch_dir, &room->free_bytes);
	if (rc != 0)
		return rc;
	room->need_bytes = bytes + bytes / SCRATCH_MARGIN_DIV + SCRATCH_SPARE_BYTES;
	return room->free_bytes >= room->need_bytes ? 0 : -ENOSPC;
}

int hw_scratch_room(struct hw_store *src, uint64_t lsn, const char *scratch_dir,
		    struct hw_scratch_room *room)
{
	struct hw_head h;
	uint64_t used, avail;
	*room = (struct hw_scratch_room){0};
	int rc = hw_store_head(src, &h);
	if (rc == 0)
		rc = hw_store_room(src, &used, &avail);
	if (rc != 0)
		return rc;
	uint64_t share =
		lsn >= h.lsn ? used : (uint64_t)((double)used * ((double)lsn / (double)h.lsn));
	return hw_scratch_room_for(share, scratch_dir, room);
}

const char *hw_scratch_room_why(const struct hw_scratch_room *room, char *buf, size_t cap)
{
	snprintf(buf, cap, "it needs about %llu KiB, its file system has %llu KiB free",
		 (unsigned long long)(room->need_bytes / 1024),
		 (unsigned long long)(room->free_bytes / 1024));
	return buf;
}

/* The rebuild makes a store in scratch_dir and writes one about as large as s into it
 * (its log, then the state). A file system without that room fails it part way: with
 * ENOSPC, or with a SIGBUS where LMDB touches a page of the scratch's lock file or map
 * that the file system cannot back (tmpfs), which hw_verify_killed() would take for
 * damage of the store. The room of the check is no verdict on the store: -ENOSPC
 * before the scratch store is made, why in r->what. */
static int scratch_room(struct hw_store *s, const char *scratch_dir, struct hw_verify_report *r)
{
	int rc = hw_scratch_room(s, r->head_lsn, scratch_dir, &r->room);
	char why[HW_SCRATCH_WHY_CHARS];
	if (rc == -ENOSPC)
		snprintf(r->what, sizeof r->what, "no room for the rebuild's scratch store: %s",
			 hw_scratch_room_why(&r->room, why, sizeof why));
	return rc;
}

bool hw_scratch_full(int rc)
{
	return rc == HW_ESTORE_FULL || rc == -ENOSPC || rc == -EDQUOT;
}

/* The rebuild (the scratch store's init included) stopped with rc, after the room check
 * passed: a file system that filled meanwhile (another process wrote there) is -ENOSPC,
 * why in r->what, as the room check's; the store was only read, and nothing is judged of
 * it. Other codes stay as they are. */
static int rebuild_room(int rc, struct hw_verify_report *r)
{
	if (!hw_scratch_full(rc))
		return rc;
	snprintf(r->what, sizeof r->what,
		 "the rebuild's scratch store ran out of room part way (its file system filled "
		 "after the room check): the store was only read, no verdict on it");
	return -ENOSPC;
}

/* Both passes on an open store; the verdict goes to r. */
static int verify_store(struct hw_store *s, const char *scratch_dir, struct walk *w,
			hw_progress_cb *cb, void *arg, struct hw_verify_report *r)
{
	int rc = check_snapshot(s, w, cb, arg, r);
	if (rc == 0 && r->code == 0 && hw_store_stale(s))
		bad(r, HW_ESTALE, 0,
		    "the state tables are not those of the log: a rejoin set the divergent "
		    "suffix aside and the store awaits a snapshot");
	if (rc != 0 || r->code != 0)
		return rc; /* the rebuild would stop at the same damage */
	if (r->base_lsn != 0)
		return 0; /* the entries that made the state are gone: nothing to rebuild from */
	r->stage = HW_VERIFY_AT_REBUILD;
	rc = scratch_room(s, scratch_dir, r);
	if (rc != 0)
		return rc;
	rc = hw_store_init(scratch_dir);
	if (rc == HW_EEXIST)
		return rc; /* not ours to remove */
	if (rc == 0)
		rc = rebuild(s, scratch_dir, r->head_lsn, w, cb, arg, r);
	r->state_rebuilt = rc == 0 && (r->code == 0 || r->code == HW_EDIGEST);
	hw_snapshot_rm(scratch_dir);
	return rebuild_room(rc, r);
}

/* With keys to judge by, a tail no good checkpoint vouches for that is longer than the
 * cadence allows: its checkpoints were removed (with whatever they would have shown
 * changed), or never made. */
static void cadence_check(const struct hw_verify_trust *t, struct hw_verify_report *r)
{
	uint64_t max_n = t->cadence_records * HW_VERIFY_CADENCE_SLACK;
	int64_t max_ms = t->cadence_ms * HW_VERIFY_CADENCE_SLACK;
	if (r->code != 0 || !((t->cadence_records != 0 && r->unvouched > max_n) ||
			      (t->cadence_ms != 0 && r->unvouched_ms > max_ms)))
		return;
	uint64_t after = r->head_lsn - r->unvouched;
	bad(r, HW_EUNVOUCHED, after + 1,
	    "no trusted checkpoint vouches for the %" PRIu64 " entries after LSN %" PRIu64
	    " (%.0f s of them), more than %d cadences of %" PRIu64 " entries or %.0f s",
	    r->unvouched, after, (double)r->unvouched_ms / 1000.0, HW_VERIFY_CADENCE_SLACK,
	    t->cadence_records, (double)t->cadence_ms / 1000.0);
}

/* Whether checkpoint lsn passed every check of the walk (its key among the trusted ones,
 * when keys are judged). */
static bool cp_good(const struct walk *w, uint64_t lsn)
{
	for (size_t i = 0; i < w->n_cps && lsn != 0; i++)
		if (w->cps[i].lsn == lsn)
			return true;
	return false;
}

/* The record the restore that built the store left (replica/restore_vouch.h), when it is
 * of the store as it is: its head and state digest. Else *v zeroed (none vouched), and
 * true when there was one, of another head or state (the store changed since). */
static bool record_read(struct hw_store *s, const struct walk *w, const struct hw_verify_report *r,
			struct hw_restore_vouch *v)
{
	if (hw_restore_vouch_get(s, v) != 0) {
		memset(v, 0, sizeof *v);
		return false;
	}
	if (v->head_lsn == r->head_lsn && memcmp(v->head_hash, w->last_hash, HW_HASH_BYTES) == 0 &&
	    memcmp(v->digest, r->digest_stored, HW_HASH_BYTES) == 0)
		return false;
	bool vouched = v->cp_lsn != 0;
	memset(v, 0, sizeof *v);
	return vouched;
}

/* A state not rebuilt (the log starts after a base) is vouched for by the checkpoint the
 * restore that built it matched it with (t->state_cp_lsn, or the record it left), if that
 * one passed every check in the log; or, when the restore stopped before its entry, by
 * its signer's key, recorded, when keys are judged and it is a trusted one. With keys to
 * judge by, by nothing else. */
static void state_check(struct hw_store *s, const struct walk *w, const struct hw_verify_trust *t,
			struct hw_verify_report *r)
{
	struct hw_restore_vouch v;
	if (r->code != 0 || r->base_lsn == 0)
		return;
	bool changed = record_read(s, w, r, &v);
	uint64_t cp = t->state_cp_lsn != 0 ? t->state_cp_lsn : v.cp_lsn;
	bool beyond = cp == v.cp_lsn && cp > r->head_lsn; /* not in the log: its key, recorded */
	if (cp_good(w, cp) || (beyond && (!r->keys_judged || key_trusted(w, v.signer_pk)))) {
		r->state_cp_lsn = cp;
		r->state_cp_beyond = beyond;
		r->state_cp_recorded = cp == v.cp_lsn;
		return;
	}
	char hex[2 * HW_SIGN_PK_BYTES + 1];
	sodium_bin2hex(hex, sizeof hex, v.signer_pk, HW_SIGN_PK_BYTES);
	if (r->keys_judged && beyond)
		bad(r, HW_EUNVOUCHED, 0,
		    "state tables: the checkpoint at LSN %" PRIu64
		    " the restore matched them with, after the head, is by %s: key %.16s... is not "
		    "trusted",
		    cp, v.signer_id, hex);
	else if (r->keys_judged && changed)
		bad(r, HW_EUNVOUCHED, 0,
		    "state tables: the store's head or state is no longer the one the restore "
		    "that built it matched with a checkpoint (node.restore_vouch)");
	else if (r->keys_judged)
		bad(r, HW_EUNVOUCHED, 0,
		    "state tables: the log starts after LSN %" PRIu64
		    ", so they were not rebuilt, and no trusted checkpoint's digest was matched "
		    "with them",
		    r->base_lsn);
}

/* hw_store_open() refused dir with rc: a store found damaged (hw_store_probe) is a
 * verdict, HW_ECORRUPT at no LSN; anything else stays the error, why in r->what. */
static int open_refused(const char *dir, int rc, double t0, struct hw_verify_report *r)
{
	bool damaged = false;
	char what[sizeof r->what];
	/* -EBADF: an empty data.mdb, whose meta LMDB tried to write through the read-only
	 * handle as a new store's */
	if (rc != HW_ECORRUPT && rc != HW_EFORMAT && rc != -EBADF)
		return rc;
	int probe_rc = hw_store_probe(dir, rc, &damaged, what, sizeof what);
	if (probe_rc != 0)
		return probe_rc; /* -ENOENT: no such directory */
	if (!damaged) {
		snprintf(r->what, sizeof r->what, "%s", what);
		return rc == -EBADF ? HW_EFORMAT : rc;
	}
	bad(r, HW_ECORRUPT, 0, "%s", what);
	r->seconds = hw_mono_s() - t0; /* stage stays HW_VERIFY_AT_OPEN: nothing was read */
	return 0;
}

int hw_verify_trusted(const char *dir, const char *scratch_dir, const struct hw_verify_trust *t,
		      hw_progress_cb *cb, void *arg, struct hw_verify_report *report)
{
	static const struct hw_verify_trust none;
	double t0 = hw_mono_s();
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	memset(report, 0, sizeof *report);
	if (t == NULL)
		t = &none;
	if (t->count > HW_VERIFY_TRUST_MAX)
		return HW_ERANGE;
	report->keys_judged = t->count > 0;
	int rc = hw_store_open(dir, &o, &s);
	if (rc != 0)
		return open_refused(dir, rc, t0, report);
	struct walk w = {.trust = t->keys, .trust_count = t->count, .cadence_ms = t->cadence_ms};
	hw_arena_init(&w.arena, 0, 0);
	rc = verify_store(s, scratch_dir, &w, cb, arg, report);
	if (rc == 0 && report->keys_judged)
		cadence_check(t, report);
	if (rc == 0)
		state_check(s, &w, t, report);
	hw_arena_fini(&w.arena);
	free(w.cps);
	hw_store_close(s);
	report->seconds = hw_mono_s() - t0;
	report->stage = HW_VERIFY_AT_END;
	return rc;
}

int hw_verify(const char *dir, const char *scratch_dir, hw_progress_cb *cb, void *arg,
	      struct hw_verify_report *report)
{
	return hw_verify_trusted(dir, scratch_dir, NULL, cb, arg, report);
}

int hw_verify_killed(struct hw_verify_report *r, int signo)
{
	if (signo != SIGABRT && signo != SIGSEGV && signo != SIGBUS)
		return HW_ECANCELED;
	if (r->stage == HW_VERIFY_AT_END)
		return 0; /* it died after the check: its report is whole */
	r->state_rebuilt = false;
	if (r->code != 0)
		return 0; /* what it found before stands: it was reading on no further */
	const char *how = signo == SIGABRT ? "aborted" : "crashed";
	uint64_t after = r->base_lsn + r->entries;
	switch (r->stage) {
	case HW_VERIFY_AT_OPEN:
		bad(r, HW_ECORRUPT, 0,
		    "LMDB %s reading the store's meta (signal %d): its pages are damaged", how,
		    signo);
		break;
	case HW_VERIFY_AT_WALK:
		bad(r, HW_ECORRUPT, after + 1,
		    "LMDB %s reading the log page after LSN %" PRIu64
		    " (signal %d): the store's pages are damaged",
		    how, after, signo);
		break;
	case HW_VERIFY_AT_STATE:
		bad(r, HW_ECORRUPT, 0,
		    "LMDB %s reading the state tables (signal %d): their pages are damaged", how,
		    signo);
		break;
	case HW_VERIFY_AT_FREE:
		bad(r, HW_ECORRUPT, 0,
		    "LMDB %s reading its free-page list (signal %d): its pages are damaged", how,
		    signo);
		break;
	default:
		bad(r, HW_ECORRUPT, 0,
		    "LMDB %s in the rebuild, reading the log again or writing the scratch store "
		    "(signal %d): pages of either are damaged",
		    how, signo);
		break;
	}
	return 0;
}
