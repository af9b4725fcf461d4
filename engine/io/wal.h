/* wal.h: a node's write-ahead log, the point at which an entry is durable.
 *
 * The store (LMDB) applies entries and keeps them for good, but an LMDB commit costs two
 * flushes and runs one transaction at a time. The log in front of it costs one
 * write-and-fdatasync per batch, taken on flusher threads (HW_WAL_FLUSHERS batches in
 * flight) while the store applies the same entries: a primary acknowledges once its log and its
 * standbys' logs have flushed, and a standby acknowledges "durable" when its log has flushed and
 * "applied" when the store has committed (engineering-notes.md on MDB_NOMETASYNC and a log in front
 * of LMDB). The store then commits without flushing, a thread of its own flushing each commit
 * after it (replica/store_flush.c): whatever a crash takes from it, the log still holds, and
 * recovery replays it.
 *
 * On disk: segment files DIR/<first LSN, 20 digits>.wal holding log entries back to back
 * (replica/entry.h format: each checks its own hash), then zeros (room written ahead,
 * HW_WAL_PREALLOC_BYTES: a zero tail is not damage). A segment is dropped once the store
 * has flushed every entry in it (hw_wal_checkpoint, from hw_store_flushed). A torn tail of the last
 * segment (a crash in the middle of a write) is cut at open; everything before it was flushed
 * whole. Damage in an earlier segment, or a gap between segments, is HW_ECORRUPT at open, and
 * nothing is cut: those entries were flushed, and perhaps acknowledged. Inside the last
 * segment flushes in flight land in any order, so a tear may have whole entries after
 * it; it is told from damage by its zeros (a sector left unfinished keeps the entry's
 * bytes zero from some point to its end, wal.c torn_at), and a bad entry without them is
 * HW_ECORRUPT too. Damage that happens to look like a tear is still cut as one (logged
 * as wal_tail_cut with the bytes dropped): docs/architecture.md says when. The open flushes what it
 * found (a crashed process may have left it written and not flushed).
 *
 * Failures: a failed write or flush of the log is final (STYLE.md 5: never retried), and
 * so is any error opening a file but one: an open of the next segment or of a flusher's
 * file that finds no descriptor or no memory (EMFILE, ENFILE, ENOMEM) says nothing about
 * what the log holds, so the flusher logs wal_open_waiting, tries again every 100 ms and
 * logs wal_open_resumed once it opens; meanwhile nothing more becomes durable and the
 * caller's acknowledgements wait. (hw_wal_open's own errors are all returned.)
 *
 * Threads: open, replay and close from one thread; hw_wal_start() spawns the flushers;
 * append from the loop thread; checkpoint from any thread. */
#ifndef HW_IO_WAL_H
#define HW_IO_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "replica/store.h"

struct hw_loop;
struct hw_wal;

/* Bytes queued and not yet flushed, at most: past it hw_wal_append() says HW_EBUSY and the
 * node stops reading (back-pressure), as a disk slower than the network must. */
#define HW_WAL_PENDING_MAX (64u * 1024u * 1024u)
/* A segment is closed and a new one begun past this size, so old ones can be dropped. */
#define HW_WAL_SEGMENT_BYTES (64u * 1024u * 1024u)
/* Zeros are written and flushed this far ahead of the last entry, so that a flush
 * overwrites rather than grows the file (half the fdatasync time here); one such write
 * (about 2 ms) every few thousand entries, with no flush in flight, before the batch
 * that would have less than half of it left; for a batch larger than that, as far as it
 * reaches and half the room more. So no flush grows the file: a crash leaves the log's
 * tail zero whatever the file system (the open tells tears from damage by their zeros),
 * and a full disk is met while zeros are written, with no entry at stake. */
#define HW_WAL_PREALLOC_BYTES (1024u * 1024u)
/* Flushes in flight at once, each on its own thread: a batch that arrives while one
 * flushes starts its own rather than waiting for the device, which serves overlapping
 * flushes together (docs/benchmarks.md). Reported durable in LSN order. */
#define HW_WAL_FLUSHERS 2u

/* Open (creating dir) and check the log. *last gets its last entry's LSN and hash (lsn 0
 * when empty). A bad tail of the last segment is cut and logged (wal_tail_cut); damage
 * in an earlier one is HW_ECORRUPT (wal_damaged). Any number of segment files opens.
 * -errno for the OS. */
int hw_wal_open(const char *dir, struct hw_wal **out, struct hw_head *last);

/* Call cb with every entry whose LSN is after `after`, in order (recovery). Stops at the
 * first non-zero return of cb and returns it. */
int hw_wal_replay(struct hw_wal *w, uint64_t after,
		  int (*cb)(void *arg, const uint8_t *entry, size_t len), void *arg);

/* Drop every entry and segment and continue after head (the store holds everything, and
 * has flushed it). Before hw_wal_start(). */
int hw_wal_reset(struct hw_wal *w, const struct hw_head *head);

/* Called on the loop thread when the flushed LSN moved (rc 0) or the log failed for good
 * (rc: then nothing more becomes durable; the node must stop acknowledging). An open
 * waiting for a descriptor is no failure: the LSN just does not move meanwhile. */
typedef void hw_wal_cb(void *arg, uint64_t durable_lsn, int rc);

/* Start the flusher threads. */
int hw_wal_start(struct hw_wal *w, struct hw_loop *loop, hw_wal_cb *cb, void *arg);

/* Queue entries (back to back, continuing the log's chain, last one at last_lsn) for
 * the next flush. Copied. Loop thread. HW_EBUSY when HW_WAL_PENDING_MAX bytes wait;
 * the failure code once the log failed. */
int hw_wal_append(struct hw_wal *w, const uint8_t *entries, size_t len, uint64_t last_lsn);

/* Last entry queued by hw_wal_append (or found at open, or set by reset). Loop thread. */
const struct hw_head *hw_wal_last(const struct hw_wal *w);

/* The hash of entry 1 (the chain's identity, as hw_store_chain_id says it) into out, when
 * this log found it at open or hw_wal_append queued it since the open or the last reset
 * (a checkpoint that drops its segment does not forget it: the store has it by then). The store may
 * not have committed it yet (a writer holds batches open, a vault holds entries for its delay, a
 * blocked apply never takes them); a reset drops it, as the store then holds everything. 0, or
 * HW_ENOTFOUND (out untouched). Loop thread. */
int hw_wal_chain_id(const struct hw_wal *w, uint8_t out[HW_HASH_BYTES]);

/* Bytes queued and not yet taken by a flusher. Any thread. */
size_t hw_wal_pending(struct hw_wal *w);

/* The store has flushed everything up to lsn: segments holding nothing after lsn may go.
 * Any thread; the flusher deletes them. */
void hw_wal_checkpoint(struct hw_wal *w, uint64_t lsn);

/* Flush what is queued, stop the threads, close the files, free. NULL is a no-op. */
void hw_wal_close(struct hw_wal *w);

#endif
