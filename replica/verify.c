/* verify.c: the integrity check of a store (replica/verify.h). Two passes: walk the log
 * (hash of every entry, LSN sequence, chain, head), then rebuild the state from the log in
 * a scratch store and compare digests, which re-checks every record against the rules. */
#include "replica/verify.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "replica/apply.h"
#include "replica/backup.h"
#include "replica/entry.h"
#include "replica/store_int.h"

#define PROGRESS_EVERY 4096u

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
};

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
	w->last_lsn = lsn;
	memcpy(w->last_hash, e.hash, HW_HASH_BYTES);
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
	while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
		op = MDB_NEXT;
		if (walk_one(&k, &v, w, r) != 0)
			break;
		if (cb != NULL && r->entries % PROGRESS_EVERY == 0)
			cb(arg, r->entries, r->head_lsn);
	}
	if (rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND)
		bad(r, HW_ECORRUPT, w->last_lsn + 1,
		    "LMDB page after LSN %" PRIu64 " is damaged: %s", w->last_lsn,
		    mdb_strerror(rc));
	rc = rc == 0 || rc == MDB_NOTFOUND || r->code != 0 ? 0 : hw_mdb_err(rc);
	mdb_cursor_close(cur);
	return rc;
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

/* Rebuild s's state from its log up to head_lsn in scratch_dir and compare digests. */
static int rebuild(struct hw_store *s, const char *scratch_dir, uint64_t head_lsn,
		   hw_progress_cb *cb, void *arg, struct hw_verify_report *r)
{
	struct hw_store *d;
	int rc = hw_store_open(scratch_dir, NULL, &d);
	if (rc != 0)
		return rc;
	/* Up to the snapshot's head (0 would mean all); entries a live writer added since
	 * are not part of the stored state that was digested. */
	rc = head_lsn == 0 ? 0 : hw_store_replay(s, d, head_lsn, 0, cb, arg);
	if (rc != 0 && !is_storage_error(rc)) {
		rc = find_bad(s, d, rc, r);
	} else if (rc == 0) {
		rc = hw_store_digest(d, r->digest_rebuilt);
		if (rc == 0 && memcmp(r->digest_rebuilt, r->digest_stored, HW_HASH_BYTES) != 0)
			bad(r, HW_EDIGEST, 0,
			    "stored state differs from the state rebuilt from the log");
	}
	hw_store_close(d);
	return rc;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

/* Pass 1 in one read transaction, so that the head, the log and the stored state are one
 * snapshot even while a node writes the store. */
static int check_snapshot(struct hw_store *s, hw_progress_cb *cb, void *arg,
			  struct hw_verify_report *r)
{
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	struct hw_head h, base;
	struct walk w = {0};
	rc = hw__store_head_txn(s, txn, &h);
	r->head_lsn = h.lsn;
	if (rc == 0)
		rc = hw__store_base_txn(s, txn, &base);
	if (rc == 0) {
		/* A pruned log starts after its base: the first entry chains to it. */
		r->base_lsn = w.last_lsn = base.lsn;
		memcpy(w.last_hash, base.hash, HW_HASH_BYTES);
		if (base.lsn > h.lsn)
			bad(r, HW_ELSN, 0,
			    "log base LSN %" PRIu64 " is after the head, LSN %" PRIu64, base.lsn,
			    h.lsn);
	}
	if (rc == 0 && r->code == 0)
		rc = walk_log(s, txn, &w, cb, arg, r);
	if (rc == 0 && r->code == 0)
		head_check(&h, &w, r);
	if (rc == 0) {
		rc = hw__store_digest_txn(s, txn, r->digest_stored);
		if (rc != 0 && r->code == 0 && !is_storage_error(rc))
			bad(r, rc, 0, "state tables cannot be read: %s", hw_errname(rc));
		if (!is_storage_error(rc))
			rc = 0;
	}
	hw__store_read_end(s, txn);
	return rc;
}

/* Both passes on an open store; the verdict goes to r. */
static int verify_store(struct hw_store *s, const char *scratch_dir, hw_progress_cb *cb, void *arg,
			struct hw_verify_report *r)
{
	int rc = check_snapshot(s, cb, arg, r);
	if (rc != 0 || r->code != 0)
		return rc; /* the rebuild would stop at the same damage */
	if (r->base_lsn != 0)
		return 0; /* the entries that made the state are gone: nothing to rebuild from */
	rc = hw_store_init(scratch_dir);
	if (rc == HW_EEXIST)
		return rc; /* not ours to remove */
	if (rc == 0)
		rc = rebuild(s, scratch_dir, r->head_lsn, cb, arg, r);
	r->state_rebuilt = rc == 0 && (r->code == 0 || r->code == HW_EDIGEST);
	nftw(scratch_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

int hw_verify(const char *dir, const char *scratch_dir, hw_progress_cb *cb, void *arg,
	      struct hw_verify_report *report)
{
	double t0 = now_s();
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	memset(report, 0, sizeof *report);
	int rc = hw_store_open(dir, &o, &s);
	if (rc != 0)
		return rc;
	rc = verify_store(s, scratch_dir, cb, arg, report);
	hw_store_close(s);
	report->seconds = now_s() - t0;
	return rc;
}
