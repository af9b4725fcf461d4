/* store.h: the data at rest of one hawser node: one LMDB environment holding the
 * hash-chained log of TOS records and the terminal state the apply step keeps.
 *
 * Tables (LMDB named databases; formats in docs/formats.md):
 *   log         LSN (8-byte big-endian) -> entry: header (epoch, LSN, time, previous
 *               hash, hash) + the record bytes verbatim (replica/entry.h)
 *   containers  container number -> lifecycle state, position, box data (replica/state.h)
 *   slots       yard slot -> container number occupying it
 *   holds       container number + hold type -> who applied it, at which LSN
 *   ids         record_id -> LSN of its entry (idempotency: the bytes are in the log)
 *   kv          tenant + key -> value (generic key/value records)
 *   vessels     vessel visit id -> phase
 *   wis         work instruction id -> state and container
 *   audit       LSN -> nothing (index of audit records)
 *   meta        format, head (LSN, epoch, time, hash); base (the same for the last entry
 *               pruned from the log, absent while none was); chain (hash of entry 1, kept
 *               once entry 1 is pruned)
 *   quarantine  divergent records moved aside on rejoin (node-local)
 *   drills      drill history (node-local)
 * The log, and the state tables derived from it, are equal on every node at the same
 * LSN; hw_store_digest() hashes the state so nodes can compare.
 *
 * Retention: the log may start after a base. hw_store_prune() removes the oldest entries
 * and records the last one removed as the base (LSN and hash), so the chain still checks
 * from there: the first entry left continues the base's hash. The state tables keep
 * everything the pruned entries did; what is lost is the ability to rebuild the state
 * from the log alone, to replay into a store behind the base (HW_ENOTFOUND: it needs a
 * snapshot, replica/snapshot.h) and to compare a repeated record_id or check a
 * retraction against a pruned entry (see hw_store_submit).
 *
 * Threads: a store is used by one thread at a time (the writer); LMDB read transactions
 * of other processes (hawser get on a running standby) are safe. Storage failures are
 * sticky (STYLE.md 5): after a failed commit every call returns HW_ESTORE_FAILED and the
 * store must be closed, reopened and verified. */
#ifndef HW_REPLICA_STORE_H
#define HW_REPLICA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser_error.h"
#include "hawser_limits.h"

struct hw_fault;
struct hw_store;

/* A static standby's record, beside its store in the data directory, of what its primary
 * said (engine/node_rejoin.c, docs/formats.md): of that directory's log only, so what
 * builds a store anew there (a restore) removes it. */
#define HW_SAID_FILE "primary.said"

/* Such a small record kept in one sector at offset 0 of its file (DIR/store.flushed, the
 * primary.said record): rec, len bytes, ends with 8 bytes of BLAKE2b over the rest.
 * hw_store_record_put fills those 8 bytes, writes rec whole and flushes it: 0 or -errno
 * (never retried: a failed flush is final). hw_store_record_sealed: whether rec's check
 * holds (a torn or damaged record's does not). */
int hw_store_record_put(int fd, uint8_t *rec, size_t len);
bool hw_store_record_sealed(const uint8_t *rec, size_t len);

struct hw_store_opts {
	uint64_t map_bytes;             /* initial LMDB map size; 0: HW_MAP_BYTES_INITIAL */
	bool read_only;                 /* open for reading only (get, digest, verify) */
	bool unlocked;                  /* with read_only: a store no process writes (a
					   backup's snapshot): no lock file is made or used
					   (MDB_NOLOCK), so the open writes nothing there */
	bool log_ahead;                 /* a write-ahead log in front holds durability: commit
					   with MDB_NOSYNC, a thread of the store's own flushes
					   each commit after it (hw_store_flushed), and a crash's
					   unflushed commit is rolled back at the next open
					   (store_int.h); one such open of a store at a time
					   (HW_EBUSY) */
	bool scratch;                   /* thrown away after use (a replay's scratch):
	                                   commits never flush (MDB_NOSYNC), so they do not
	                                   queue behind a node's log on its disk; a crash
	                                   may leave it unusable, which does not matter */
	uint64_t log_keep_records;      /* retention: 0 keeps every entry; else after a commit
	                                   that leaves more than this + 10 % entries, the
	                                   oldest are pruned down to this many (at most
	                                   HW_PRUNE_TXN_ENTRIES per commit, never past the
	                                   pin: hw_store_set_pin) */
	uint32_t log_keep_days;         /* retention: ... and never an entry committed less
	                                   than this many days before the head's time
	                                   (replica/retention.h; 0: the count alone) */
	struct hw_fault *commit_fault;  /* test hook: a firing fault fails the commit with -EIO */
	struct hw_fault *mapfull_fault; /* test hook: a firing fault fails a put with MAP_FULL */
	struct hw_fault *commit_mapfull_fault; /* test hook: ... a commit with MAP_FULL (as
						  LMDB's, saving its free list) */
	struct hw_fault *sync_fault;           /* test hook: a firing fault fails a flush
						  (hw_store_sync(), a log_ahead store's flusher)
						  with -EIO */
};

/* Position of the log's last entry. An empty store has lsn 0 and an all-zero hash. */
struct hw_head {
	uint64_t lsn;
	uint64_t epoch;
	int64_t time_ms;
	uint8_t hash[HW_HASH_BYTES];
};

/* What LMDB hands its line to when it fails one of its own assertions in a store this
 * process opens (mdb_env_set_assert: it does so on some damaged pages instead of returning
 * MDB_CORRUPTED), before it prints the line to stderr and aborts: as hw_assert_handle()
 * for hawser's own (base/assert.h), a handler that does not return keeps the line off
 * stderr. Process-wide: set it before other threads start; NULL clears. An LMDB built
 * with NDEBUG checks none of them. */
typedef void hw_store_assert_handler(const char *line);
void hw_store_assert_handle(hw_store_assert_handler *h);

/* Create an empty store in dir (created if missing, mode 0700). HW_EEXIST if dir already
 * holds a store; -errno if it cannot be created: -ENOSPC for a full disk (also when LMDB
 * says EIO for its short write and dir's file system has less room left than a new store
 * takes). A creation that fails removes what it made (data.mdb, lock.mdb, dir), so
 * nothing of it reads as a store later. */
int hw_store_init(const char *dir);

/* Open the store in dir. opts may be NULL. HW_EFORMAT if dir, a directory, holds no
 * hawser store or one of an unknown format; -ENOENT, -ENOTDIR or -EACCES when dir is
 * missing, not a directory or cannot be searched. A store of the previous format (2:
 * quarantine keyed by LSN alone) is migrated by a writable open, in one flushed
 * transaction, and read as it is by a read-only one (its quarantine rows are rewind
 * 1's); HW_EUNFLUSHED when a crash left the newest commit unflushed and this open
 * cannot write data.mdb to roll it back (store_flush.c: a read-only mount; nothing
 * written); -errno for the OS (-EIO when libsodium cannot initialise: the first open calls
 * sodium_init, which the hashes need to be fast and safe across threads). On success
 * *out owns the environment until hw_store_close(). */
int hw_store_open(const char *dir, const struct hw_store_opts *opts, struct hw_store **out);

/* What dir holds when hw_store_open() refused it with open_rc (HW_ECORRUPT or
 * HW_EFORMAT; replica/store_probe.c): *damaged when it is a store that was damaged,
 * which it says only on evidence: LMDB's meta says data.mdb was cut short, one of its
 * two meta pages is gone, LMDB found its pages inconsistent (open_rc HW_ECORRUPT), or a
 * file LMDB cannot read as a store holds a hawser log entry that passes its hash check
 * (among a thousand pages sampled) or sits beside a node's write-ahead log (wal/).
 * Otherwise not: no data.mdb, a file of another LMDB version or store format, an LMDB
 * file without hawser's tables, or one that shows nothing of a store (it may still be
 * one overwritten or encrypted whole: what says so). what (cap bytes) gets why in
 * words, either way. Reads only, in a read transaction of its own (LMDB may abort the
 * process on some damaged pages, replica/verify.h). Returns 0, or -errno when dir or
 * its data.mdb cannot be read (-ENOENT: no such directory). */
int hw_store_probe(const char *dir, int open_rc, bool *damaged, char *what, size_t cap);

/* Close and free. NULL is a no-op. */
void hw_store_close(struct hw_store *s);

/* Current head: the last committed entry (held batches not counted). Any thread. */
int hw_store_head(struct hw_store *s, struct hw_head *out);

/* One record to submit: the encoded tos.v1.Record bytes, borrowed for the call. system:
 * the node made it (a checkpoint or node event, replica/checkpoint.h); such payloads
 * without it, i.e. from a TOS, are refused with HW_ESYSTEM_RECORD. refuse_new: 0, or an
 * HW_E* code (not a storage error) to refuse the record with if it would be stored anew
 * (a new record_id, or none), before any check and with nothing written; a duplicate
 * (the same bytes under a stored record_id) is still answered as one, and other bytes
 * under a stored record_id with HW_EIDEMPOTENCY. A primary that may take no new record
 * now (engine/node_targets.c: rpo_action = fail) still answers a resend truly: only
 * this transaction sees what it and the batches held before it wrote. */
struct hw_submit {
	const uint8_t *data;
	size_t len;
	bool system;
	int refuse_new;
};

/* What happened to one submitted record. code 0: stored at lsn (or, with duplicate set,
 * the same bytes were stored before at lsn: idempotent). Otherwise the record was
 * refused: code is an HW_E* validation code, reject names the field and the rule, and
 * the record changed nothing; or code is its hw_submit.refuse_new (reject empty). */
struct hw_result {
	int code;
	bool duplicate;
	uint64_t lsn;
	struct hw_reject reject;
};

/* Primary path: validate each record, give the accepted ones the next LSNs in epoch,
 * chain and append them to the log and apply them, all in one write transaction
 * (group commit), durable when this returns 0. now_ms is the primary's clock: it is
 * stored in each entry and is the "now" of the time rules, so replay is deterministic.
 * Records are taken in order; a refused record does not stop the others. n <=
 * HW_BATCH_RECORDS_MAX. Returns 0 (see res[i] for each record) or a storage error
 * (HW_ESTORE_FULL when the disk is full, -EIO, HW_ESTORE_FAILED ...) in which case
 * nothing of the batch was stored. MDB_MAP_FULL grows the map and retries.
 * A record_id whose first entry was pruned is refused (HW_EIDEMPOTENCY: its bytes can no
 * longer be compared), and so is a retraction of a pruned record (HW_ERETRACT: its tenant
 * cannot be checked); hw_store_append_entries() trusts the primary's check there. */
int hw_store_submit(struct hw_store *s, uint64_t epoch, int64_t now_ms,
		    const struct hw_submit *recs, size_t n, struct hw_result *res);

/* The entries of a prepared batch: contiguous log entries (replica/entry.h), exactly the
 * body an APPEND frame carries. Borrowed from the store until the next prepare, commit
 * or abort. */
struct hw_batch {
	const uint8_t *entries;
	size_t len;
	uint64_t first_lsn; /* 0 when the batch stored nothing new */
	uint64_t last_lsn;
};

/* hw_store_submit() in two steps, for a primary that streams a batch to its standbys
 * while its own commit is being flushed (commit latency about max(local flush, round trip
 * + remote flush), DESIGN.md). prepare does everything but the commit and leaves the write
 * transaction open; *out describes the entries it made. Then exactly one of commit (0 when
 * durable; a storage error is sticky) or abort. The same thread calls all three. */
int hw_store_prepare(struct hw_store *s, uint64_t epoch, int64_t now_ms,
		     const struct hw_submit *recs, size_t n, struct hw_result *res,
		     struct hw_batch *out);
int hw_store_commit(struct hw_store *s);
void hw_store_abort(struct hw_store *s);

/* Group commit across batches, for a store with a write-ahead log in front (log_ahead:
 * the log holds durability, so the store need not flush per batch). hold keeps the
 * prepared batch in a write transaction left open instead of committing it; the next
 * prepare (or hw_store_append_hold) continues in it. Abort (or a refused or failed
 * batch) still drops only the batch being prepared: the store keeps the held batches'
 * entries and takes them again into a new transaction. hw_store_commit() commits the
 * prepared batch (if any) and every held one; with nothing open it returns 0 (or the
 * sticky failure). A MAP_FULL in a later batch, or in the commit itself, grows the map
 * and takes the held ones again before the retry; a failure while holding is sticky
 * (the log repairs the store at the next start). Until committed, held entries are invisible to
 * hw_store_read_entries(), the digest and other processes, and hw_store_head() still
 * gives the committed head. Writer's thread. */
void hw_store_hold(struct hw_store *s);

/* Held batches are due for a commit by their size: HW_STORE_HELD_ENTRIES entries (a
 * transaction's dirty pages) or HW_STORE_HELD_BYTES of entries (kept to take them
 * again; include/hawser_limits.h). */
bool hw_store_held_full(const struct hw_store *s);

/* True while held batches wait for hw_store_commit(); *entries gets how many log entries
 * they hold (0 if they stored nothing new). Writer's thread. */
bool hw_store_held(const struct hw_store *s, uint64_t *entries);

/* Copy whole entries from LSN from to at most to (inclusive) into buf[0..cap): as many as
 * fit. *len gets the bytes copied, *last the last LSN copied (from - 1 when none fit or
 * none exist). Only committed entries are seen. Any thread: it uses its own read
 * transaction and never blocks the writer. */
int hw_store_read_entries(struct hw_store *s, uint64_t from, uint64_t to, uint8_t *buf,
			  size_t cap, size_t *len, uint64_t *last);

/* Standby and restore path: append log entries made by a primary (replica/entry.h
 * encoding), checking that each continues the chain (LSN = head + 1, previous hash =
 * head hash, hash correct) and that its record still validates and applies. All or
 * nothing: HW_ELSN, HW_ECHAIN, HW_ECORRUPT or the record's validation code (with rej
 * filled) if one does not fit, in which case nothing was stored. */
int hw_store_append_entries(struct hw_store *s, const uint8_t *const *entries,
			    const size_t *lens, size_t n, struct hw_reject *rej);

/* hw_store_append_entries() that holds the entries (hw_store_hold) instead of
 * committing them, and is not all or nothing: a refused entry cuts the batch there. The
 * entries before it are held as if they had come alone, it and those after it are not,
 * and its code is returned with rej filled; hw_store_held() then counts the entries
 * taken, so the refused one is the held head's LSN + 1 (a standby applies what came
 * before a bad entry and stops at it: engine/node_standby.c). A storage failure holds
 * nothing more (sticky, as ever). For entries whose hashes the caller has checked
 * (hw_entry_decode): a standby checks each entry as it arrives, before its log takes it,
 * and a log checks what it reads back (engine/io/wal.h), so the store does not hash it
 * again (hw_entry_parse); LSNs and the chain are still checked. */
int hw_store_append_hold(struct hw_store *s, const uint8_t *const *entries,
			 const size_t *lens, size_t n, struct hw_reject *rej);

/* hw_store_append_hold() for entries straight from the primary that made them (a
 * standby's live append, engine/io/writer.c): their records are not validated again,
 * only applied (docs/benchmarks-rounds.md, twenty-third round). The primary validated each at
 * the time its entry carries, which is the "now" the standby would validate it at
 * (replica/validate.h: pure), so the two can only disagree where they run different
 * rules (another version of hawser); hw_apply() is safe on any record that decodes. A
 * standby's recovery takes its own log with it too (engine/node.c), so a crash cannot
 * change an entry's outcome. What reads a backup back validates again:
 * hw_store_append_entries(), a rewind; so does a vault (hw_store_append_hold()). Held
 * batches taken again after a failed one are taken as they were the first time (store.c
 * replay_run). */
int hw_store_append_primary(struct hw_store *s, const uint8_t *const *entries, const size_t *lens,
			    size_t n, struct hw_reject *rej);

/* Flush every commit so far to disk (a log_ahead store: wait for its flusher). The
 * writer's thread. 0 or the storage error, which is sticky. */
int hw_store_sync(struct hw_store *s);

/* The LSN of the head of the last commit flushed (a log_ahead store's flusher lags its
 * commits; another store's commits flush themselves): what a crash leaves the store at,
 * at the least, so what the log in front must keep after. The writer's thread. 0 or the
 * store's failure (sticky: a failed flush stops the store). */
int hw_store_flushed(struct hw_store *s, uint64_t *lsn);

/* Call cb(arg) on the flusher thread of a log_ahead store when one of its flushes fails
 * (the store's failure is then set): otherwise nobody hears of it before the next
 * commit. NULL cb: no more calls, and none under way once this returns. A store of
 * another kind fails its commits themselves: never called. */
void hw_store_on_failure(struct hw_store *s, void (*cb)(void *arg), void *arg);

/* The store's sticky storage failure: 0, or the first error (-EIO, HW_ESTORE_FULL, ...)
 * that every later commit answers as HW_ESTORE_FAILED. Any thread. */
int hw_store_failure(const struct hw_store *s);

/* Read the log entry at lsn into a malloc'd buffer the caller frees. HW_ENOTFOUND. */
int hw_store_read_entry(struct hw_store *s, uint64_t lsn, uint8_t **entry, size_t *len);

/* The hash of the log entry at lsn, checked against its bytes: HW_ENOTFOUND (never
 * stored, or pruned), HW_ECORRUPT. Any thread. */
int hw_store_entry_hash(struct hw_store *s, uint64_t lsn, uint8_t out[HW_HASH_BYTES]);

/* State digest: BLAKE2b-256 over the head LSN and every replicated state table
 * (containers, slots, holds, ids, kv, vessels, wis, audit) in key order. Equal on every
 * node at the same LSN. It covers the state, not the chain: two stores that took the same
 * records at other times (other entry times, so other hashes) have the same digest; the
 * chain is compared through hw_head. */
int hw_store_digest(struct hw_store *s, uint8_t out[HW_HASH_BYTES]);

/* The digest a format 3 store had for the same state (replica/digest.c): places, slot
 * and vessel keys without their facility, holds without their tenant. What checkpoints
 * signed before format 4 carry; for a store opened read-only in format 3, its digest. */
int hw_store_digest_format3(struct hw_store *s, uint8_t out[HW_HASH_BYTES]);

/* True for a store in format 3 or older, opened read-only (a writable open migrates). */
bool hw_store_format3(const struct hw_store *s);

/* The head and the state digest (as hw_store_digest()) of one read transaction, so the
 * digest is the state at head->lsn however fast a writer commits meanwhile (unlike
 * hw_store_head() then hw_store_digest(): a writable store's head is the writer's cache,
 * read without a transaction). 0 or a store code (HW_ESTALE: hw_store_stale). Any
 * thread. */
int hw_store_digest_head(struct hw_store *s, struct hw_head *head, uint8_t digest[HW_HASH_BYTES]);

struct hw_container;

/* Current state of one container (replica/state.h), read in its own read transaction, so
 * it works on a running standby's store. HW_ENOTFOUND if the store never saw it,
 * HW_ESTALE (hw_store_stale). */
int hw_store_get_container(struct hw_store *s, const char *id, struct hw_container *out);

/* Entries one pruning write transaction removes at most: bounds the time a commit that
 * prunes takes (about 50 ms of deletes) and the dirty pages of one transaction. */
#define HW_PRUNE_TXN_ENTRIES 50000u
/* hw_store_set_pin() value for "no pin". */
#define HW_STORE_PIN_NONE UINT64_MAX

/* The log's base: LSN, epoch, time and hash of the last entry pruned; lsn 0 and an
 * all-zero hash while nothing was. The log holds base.lsn + 1 .. head. Any thread (its
 * own read transaction). */
int hw_store_base(struct hw_store *s, struct hw_head *out);

/* Remove the log entries with LSN < keep_from (clamped to the pin: entries after it
 * stay) and move the base to the last one removed, in write transactions of at most
 * HW_PRUNE_TXN_ENTRIES. keep_from <= base + 1 does nothing. HW_ERANGE when keep_from >
 * head + 1; a storage error is sticky. The writer's thread (like submit). */
int hw_store_prune(struct hw_store *s, uint64_t keep_from);

/* Keep every entry after lsn (a snapshot being streamed needs them), whatever retention
 * says, until pinned elsewhere or HW_STORE_PIN_NONE. Any thread: the writer reads it
 * before each prune. */
void hw_store_set_pin(struct hw_store *s, uint64_t lsn);

/* Room for a copy of the store (hw_snapshot_make): *used gets the bytes of its pages in
 * use (a compacted copy is at most that), *avail what the file system holding it has
 * free for an unprivileged writer. 0 or -errno. Any thread. */
int hw_store_room(struct hw_store *s, uint64_t *used, uint64_t *avail);

/* Identity of the store's chain: the hash of entry 1 (from the log, or from meta once
 * entry 1 is pruned); all zero for an empty store. Any thread. */
int hw_store_chain_id(struct hw_store *s, uint8_t out[HW_HASH_BYTES]);

/* Node-local meta values (the election's hard state, engine/core/election.h): a few bytes
 * under a key of its own in the meta table, named so it cannot clash with the store's
 * ("node." prefix). put writes key (1..32 characters, starting "node.") -> val[0..len),
 * len <= 256, in a write transaction of its own, commits and flushes the environment
 * (meta page included), so the value is durable when put returns 0. It may be called from
 * a thread other than the writer's: LMDB serialises it behind the writer's open
 * transaction, which with held batches (hw_store_hold) stays open until the writer
 * commits (engine/io/writer.h: up to HW_WRITER_COMMIT_MS). A storage error is sticky. get copies the value
 * into buf[0..cap) and sets *len; HW_ENOTFOUND when the key was never put, HW_ERANGE when
 * the value is longer than cap. Any thread. Values are not replicated, but a snapshot
 * copies the sender's: a receiver puts its own again after installing one. */
#define HW_STORE_META_VAL_MAX 256u
int hw_store_meta_put(struct hw_store *s, const char *key, const void *val, size_t len);
int hw_store_meta_get(struct hw_store *s, const char *key, void *buf, size_t cap, size_t *len);

/* Rejoin (docs/failover.md "Rejoin"): make lsn the head again. The entries after it
 * (never acknowledged: a suffix this node wrote as an old primary) move into the
 * quarantine table, keyed by this rewind's number (one past the last one's) and LSN, so
 * rows earlier rewinds moved are kept, with now_ms and why (at most HW_REWIND_WHY_MAX
 * characters; row format in replica/rejoin.h); the log is cut after lsn; the state tables
 * are emptied and rebuilt by replaying the log's entries 1..lsn; quarantine rows, drills
 * and node.* meta values stay. A pruned log (base > 0) cannot rebuild them: they are left
 * as they were and the store is marked stale (hw_store_stale) until a snapshot replaces
 * it. One write transaction, flushed before it returns, so a crash leaves the store
 * before or after the whole rewind, mark included (a write-ahead log in front must be
 * reset to the new head: it still holds the suffix). *moved gets the entries
 * quarantined. HW_ERANGE when lsn > head; HW_ENOTFOUND when lsn < base (its entry was
 * pruned); HW_ECORRUPT when the log does not replay; a storage error is sticky. The
 * writer's thread, no batch prepared. */
#define HW_REWIND_WHY_MAX 200u
int hw_store_rewind(struct hw_store *s, uint64_t lsn, int64_t now_ms, const char *why,
		    uint64_t *moved);

/* True when the state tables are not those of the log: a rewind of a pruned log set its
 * divergent suffix aside (meta "stale", written with it) and could not rebuild them.
 * Such a store answers reads of the state (hw_store_get_container, hw_store_digest_head)
 * with HW_ESTALE and fails verify (HW_ESTALE); a node asks its primary for a snapshot
 * and refuses its log meanwhile (engine/node_standby.c). The mark ends only with the
 * store, when a snapshot replaces it. Any thread. */
bool hw_store_stale(const struct hw_store *s);

/* Directory the store lives in (borrowed). */
const char *hw_store_dir(const struct hw_store *s);

#endif
