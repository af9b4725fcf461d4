/* store_int.h: the store's insides, for the replica/ modules that work on a whole
 * environment (verify, backup). Nothing outside replica/ includes this. */
#ifndef HW_REPLICA_STORE_INT_H
#define HW_REPLICA_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/arena.h"
#include "replica/pbdec.h"
#include "replica/store.h"
#include "replica/tables.h"

#define HW__STORE_FORMAT   4u /* 4: places, slots and vessel visits are a facility's; 3: not */
#define HW__STORE_FMT_QLSN 2u /* 3's tables, and quarantine keyed by LSN alone */

/* The cursors a write transaction keeps for its records, opened once with it (each is a
 * malloc) and closed by LMDB when it ends: on containers and wis for hw_apply(), and on
 * the log, whose appends (MDB_APPEND) then start where the last one ended. */
struct hw__txn_cursors {
	MDB_cursor *boxes;
	MDB_cursor *wis;
	MDB_cursor *log;
};

struct hw_store {
	MDB_env *env;
	struct hw_tables t;
	char *dir;
	struct hw_store_opts opts;
	uint64_t map_bytes;
	_Atomic int failed;    /* sticky storage failure: 0, or the first error (written by
				  the writer, and by hw_store_meta_put on the loop) */
	unsigned format;       /* the store's format (meta "format"): an older one only when
				  opened read-only (a writable open migrates it) */
	struct hw_head head;   /* cached copy of meta "head" */
	struct hw_head base;   /* cached copy of meta "base" (writer's thread) */
	bool stale;            /* meta "stale" is there (hw_store_stale) */
	_Atomic uint64_t pin;  /* entries after it are kept (hw_store_set_pin) */
	struct hw_arena arena; /* record decoding, reset per batch */
	/* The open write transaction: the held batches (hw_store_hold), then the one being
	 * prepared. Batches share it with no child transaction each: a child looks up and
	 * merges its parent's dirty pages, a tenth of the writer's CPU once the held ones
	 * have dirtied thousands. So a failed batch aborts it all, and the held batches are
	 * taken again from their entries (replay) into a new one. */
	MDB_txn *txn;
	struct hw__txn_cursors cur; /* txn's cursors (cursors_open) */
	bool prepared;         /* txn's last batch waits for commit, hold or abort */
	bool holding;          /* txn holds batches not yet committed */
	struct hw_head prepared_head;
	struct hw_head held_head;
	uint8_t *replay;       /* txn's entries, back to back: the held batches', then the
	                          prepared one's (which hw_batch.entries points into) */
	size_t replay_held;    /* bytes of replay the held batches take */
	size_t replay_len;
	size_t replay_cap;
	/* Read transactions of other threads and map growth exclude each other: LMDB's
	 * mdb_env_set_mapsize() needs no transaction open in the process (lmdb.h). */
	pthread_rwlock_t map_lock;
	/* head is written by the writing thread after each commit and read by any thread
	 * (hw_store_head): this keeps a reader from seeing half of one. The writing thread
	 * reads its own writes without it. */
	pthread_mutex_t head_mu;
	/* The flusher of a store with a log in front (store_flush.c); NULL otherwise: its
	 * commits flush themselves (LMDB's default), or never (scratch). */
	struct hw__flusher *fl;
};

/* The write path of a batch (store.c), which the append of entries shares
 * (store_append.c). One record to take (hw__store_take_record): */
struct hw_reject;
struct hw__take {
	const uint8_t *data;
	size_t len;
	uint64_t lsn;    /* LSN it gets if accepted */
	int64_t time_ms; /* the entry's time */
	bool trusted;    /* an entry a primary made (append path), not a new record */
	bool validated;  /* and it validated the record at time_ms: not again (trusted too) */
	bool system;     /* the node's own record (hw_submit.system) */
	int refuse_new;  /* hw_submit.refuse_new */
	bool dup;        /* out: same bytes stored before, at dup_lsn */
	uint64_t dup_lsn;
	const struct hw__txn_cursors *cur; /* the transaction's (cursors_open) */
	struct hw_pbdec_text text; /* what hw__store_take_record's decode saw of the strings */
};
/* Decode, check and apply t's record inside txn: 0 (accepted, or t->dup), a reject
 * code with rej filled or t->refuse_new (nothing written), or an LMDB error. */
int hw__store_take_record(struct hw_store *s, MDB_txn *txn, struct hw__take *t,
			  struct hw_reject *rej);
/* Append the entry at lsn through the transaction's log cursor. */
int hw__store_log_put(struct hw_store *s, MDB_cursor *log, uint64_t lsn, const uint8_t *entry,
		      size_t len);
/* Commit txn, which already holds head h: 0 or the LMDB error. */
int hw__store_commit(struct hw_store *s, MDB_txn *txn, const struct hw_head *h);

/* Deferred flushes (store_flush.c): a store with a log in front commits with MDB_NOSYNC
 * and its flusher thread flushes each commit after it; a crash's unflushed commit is rolled
 * back at the next open, before LMDB reads the file (store_flush.c says how). */
enum hw__flush_open {
	HW__FLUSH_READ,  /* a read-only open: roll back if no writer holds the store */
	HW__FLUSH_WRITE, /* a writable open whose commits flush themselves: ... and drop the
			    record, which its commits would outdate */
	HW__FLUSH_KEEP,  /* the log_ahead open: ... and keep the record locked (*lock) for
			    hw__flusher_start; HW_EBUSY when another open keeps it */
};
int hw__flush_recover(const char *dir, enum hw__flush_open how, int *lock);
/* Start the flusher of s (env open, lock from hw__flush_recover, which it then owns). */
int hw__flusher_start(struct hw_store *s, int lock);
/* Flush what is left and stop (s->fl NULL after, and for a store without one). */
void hw__flusher_stop(struct hw_store *s);
/* Commit write transaction txn. With a flusher: after the commit before it is flushed;
 * then one the log covers (h: the head it takes the store to) is flushed later, any other
 * (h NULL) before this returns; one that wrote nothing is none (LMDB's). 0, an LMDB
 * error, or the store's failure. */
int hw__store_txn_commit(struct hw_store *s, MDB_txn *txn, const struct hw_head *h);
/* Wait until every commit so far is flushed: 0 or the store's failure. */
int hw__store_flush_all(struct hw_store *s);
/* Make rc (an LMDB error or errno) the store's sticky failure, unless it has one: the
 * failure, as the operator reads it (a full disk says so). Any thread. */
int hw__store_fail(struct hw_store *s, int rc);
/* Begin the open write transaction (s->txn) with its cursors, or detach it. */
int hw__store_txn_open(struct hw_store *s);
MDB_txn *hw__store_txn_take(struct hw_store *s);
/* Begin a batch at head *h, end it at h as the prepared one, or drop it (1: retry). */
int hw__store_batch_begin(struct hw_store *s, struct hw_head *h);
int hw__store_batch_end(struct hw_store *s, uint64_t start_lsn, const struct hw_head *h);
int hw__store_batch_undo(struct hw_store *s, int rc);

/* The append of entries (store_append.c). Take the entry in buf (len bytes) on top of
 * head h in txn and move h to it; how: 0 (decode it, check its hash, validate its record,
 * leave the log as it is: a rewind's rebuild) or store_append.c's enum append_how. 0, a
 * reject code with rej filled, or an LMDB error. */
int hw__store_append_one(struct hw_store *s, MDB_txn *txn, const struct hw__txn_cursors *cur,
			 struct hw_head *h, const uint8_t *buf, size_t len, unsigned how,
			 struct hw_reject *rej);
/* Take the held batches' entries again into a new transaction: 0 or an LMDB error. */
int hw__store_replay_run(struct hw_store *s);
/* Whether rc refused a bad entry (the sender's fault, the store as it was). */
bool hw__store_entry_refused(int rc);

/* Translate an LMDB or errno result (> 0, or MDB_*) into a hawser code: MDB_MAP_FULL and
 * ENOSPC become HW_ESTORE_FULL, MDB_CORRUPTED and MDB_PAGE_NOTFOUND HW_ECORRUPT,
 * MDB_INVALID and MDB_VERSION_MISMATCH HW_EFORMAT, MDB_NOTFOUND HW_ENOTFOUND, an errno
 * -errno, any other MDB_* HW_ESTORE_FAILED. 0 stays 0. */
int hw_mdb_err(int rc);

struct hw_entry;

/* Have env hand LMDB's failed assertions to the hw_store_assert_handle() handler: every
 * environment the replica opens, right after mdb_env_create(). */
void hw__store_env_asserts(MDB_env *env);

/* Begin a transaction, adopting a map another process grew (lmdb.h, MDB_MAP_RESIZED). */
int hw__store_txn_begin(struct hw_store *s, unsigned flags, MDB_txn **txn);

/* The entry at lsn, decoded (e borrows txn's pages). MDB_CORRUPTED when it is missing or
 * fails its hash: the log between base and head has no holes. */
int hw__store_entry_at(struct hw_store *s, MDB_txn *txn, uint64_t lsn, struct hw_entry *e);

/* Put a position (the head, the base) under key in the meta table. */
int hw__store_meta_write_pos(struct hw_store *s, MDB_txn *txn, const char *key,
			     const struct hw_head *h);

/* After a failed batch, with no transaction open: grow the map and return 1 ("retry")
 * for MAP_FULL, else make the failure sticky (s->failed) and return 0. */
int hw__store_batch_failed(struct hw_store *s, int rc);

/* After a commit: prune the log down to what retention keeps (store_prune.c). */
void hw__store_retain(struct hw_store *s);

/* A node-local meta key: "node." and 1 to 27 more characters (hw_store_meta_put). */
bool hw__store_meta_key_ok(const char *key);

/* Key of the log table for lsn: 8 bytes big-endian, so LMDB's byte order is LSN order. */
void hw_lsn_key(uint64_t lsn, uint8_t key[8]);
/* The LSN of a key read from disk; 0 for one not of 8 bytes (damage: no entry has LSN 0,
 * so the caller's check of the LSN it expects refuses it, where an assertion would have
 * stopped the process and read as a bug in hawser). */
uint64_t hw_lsn_from_key(const MDB_val *key);

/* A read transaction for any thread, under the map lock (a store may be written and
 * read at once); pair with hw__store_read_end(). Inside one, the head and the digest are
 * those of one consistent snapshot, however fast a writer goes. */
int hw__store_read_begin(struct hw_store *s, MDB_txn **txn);
void hw__store_read_end(struct hw_store *s, MDB_txn *txn);
/* Walk table dbi in one read transaction from one end (first, then next: MDB_FIRST and
 * MDB_NEXT, or MDB_LAST and MDB_PREV), at most entries_max entries, handing each key and
 * value (valid during the call) to visit; its non-zero return stops the walk and is
 * returned. Returns 0, visit's value or a storage error. */
typedef int hw__store_visit_fn(void *arg, const MDB_val *k, const MDB_val *v);
int hw__store_walk(struct hw_store *s, MDB_dbi dbi, MDB_cursor_op first, MDB_cursor_op next,
		   uint64_t entries_max, hw__store_visit_fn *visit, void *arg);
int hw__store_head_txn(struct hw_store *s, MDB_txn *txn, struct hw_head *h);
/* The log entry at lsn in txn (v borrows txn's pages): mdb_get's result, MDB_NOTFOUND
 * when there is none. */
int hw__store_log_get(struct hw_store *s, MDB_txn *txn, uint64_t lsn, MDB_val *v);
/* meta "base" in txn: zeros when absent (nothing pruned). */
int hw__store_base_txn(struct hw_store *s, MDB_txn *txn, struct hw_head *h);
/* The times of the entries pruning deleted (meta "pruned_times", 24 bytes little-endian:
 * from_lsn, through_lsn, max_ms): entries from_lsn .. through_lsn (the base) were pruned
 * by a build that kept their times, and none was stamped after max_ms. Those before
 * from_lsn were pruned without (an older build, or a record that no longer matched the
 * base): their times are not known. */
struct hw__pruned_times {
	uint64_t from_lsn, through_lsn;
	int64_t max_ms; /* INT64_MIN: none kept */
};

/* s's record in txn, when its through_lsn is base's LSN; else one that starts after base
 * (from_lsn base + 1, nothing kept). 0 or an LMDB error. */
int hw__store_pruned_times_get(struct hw_store *s, MDB_txn *txn, const struct hw_head *base,
			       struct hw__pruned_times *pt);

/* The meta key of the pruned log's epochs (replica/epochs.h). */
#define HW__META_EPOCHS "epochs"

/* meta "epochs" in txn (replica/epochs.h) into h when it covers the log up to base (the
 * store's base, read in txn); else h starts afresh at base (hw_epoch_hist_start): the
 * value is absent, of another version, damaged, or behind the base (a binary without it
 * pruned). 0 or an LMDB code. */
struct hw_epoch_hist;
int hw__store_epochs_get(struct hw_store *s, MDB_txn *txn, const struct hw_head *base,
			 struct hw_epoch_hist *h);
/* The state digest of txn (replica/digest.c). */
int hw__store_digest_txn(struct hw_store *s, MDB_txn *txn, uint8_t out[HW_HASH_BYTES]);

/* The store's tables: name, place in struct hw_tables, and whether the log derives it
 * (replicated: equal on every node, and in the state digest, in this order). */
struct hw__table {
	const char *name;
	size_t off;
	int replicated;
};
#define HW__TABLES_COUNT 12u
extern const struct hw__table hw__tables[HW__TABLES_COUNT];

static inline MDB_dbi *hw__table_dbi(struct hw_tables *t, size_t i)
{
	return (MDB_dbi *)((char *)t + hw__tables[i].off);
}

/* The quarantine table (row format in replica/rejoin.h), in a write transaction; each
 * returns 0 or an LMDB/errno code (MDB_CORRUPTED for a malformed key). The number the
 * next rewind's rows get: one past the last row's, 1 when the table is empty. */
int hw__quarantine_next(struct hw_store *s, MDB_txn *txn, uint64_t *rejoin);
/* Put the log entry at lsn (entry, len) aside as a row of rewind `rejoin`. */
int hw__quarantine_put(struct hw_store *s, MDB_txn *txn, uint64_t rejoin, uint64_t lsn,
		       const uint8_t *entry, size_t len, int64_t now_ms, const char *why);
/* Store format 2 keyed rows by LSN alone: rekey each as a row of rewind 1. */
int hw__quarantine_rekey(struct hw_store *s, MDB_txn *txn);

/* Meta "stale" (replica/rejoin.c): the state tables are not those of the log. read sets
 * s->stale from txn; put writes it in txn, for a rewind to lsn (>= the base) of a pruned
 * log, whose head *h it fills (lsn's entry, or the base), as the rebuild would. LMDB or
 * errno codes, MDB_CORRUPTED for a malformed value. */
int hw__store_stale_read(struct hw_store *s, MDB_txn *txn);
int hw__store_stale_put(struct hw_store *s, MDB_txn *txn, uint64_t lsn, struct hw_head *h);

#endif
