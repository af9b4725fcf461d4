/* snapshot.h: a store shipped whole: a consistent compacted copy made from a running
 * store, checked where it arrives, and swapped in for a node's data directory.
 *
 * A standby so far behind that the primary's log no longer holds its next entry (the log
 * starts after a base, replica/store.h) cannot catch up from the log: the primary copies
 * its store (mdb_env_copy2 with MDB_CP_COMPACT, one read transaction, so the copy is one
 * consistent point) and streams the file; the copy describes itself, since its meta head
 * is the LSN and hash it holds everything up to. The standby installs it in place of its
 * data directory and then follows the log from that head (engine/node_snapshot.c,
 * docs/formats.md). Backups use the same copy (replica/backup.h). */
#ifndef HW_REPLICA_SNAPSHOT_H
#define HW_REPLICA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "replica/store.h"

struct hw_snapshot_info {
	struct hw_head head; /* the copy's head: everything up to it is in the copy */
	struct hw_head base; /* the copy's log base (its log holds base.lsn + 1 .. head) */
	uint64_t bytes;      /* size of dir/data.mdb */
};

/* Copy s, compacted, into dir/data.mdb (dir is created if missing; data.mdb must not
 * exist: -EEXIST) and flush it to disk; *out describes the copy (read back from it, not
 * from s, which may have moved on). Any thread: it holds a read transaction, and the
 * read side of s's map lock, for the copy's duration, so s's writer cannot grow the map
 * meanwhile (it waits) and the file may grow while the copy runs (lmdb.h). Leaves
 * dir/lock.mdb out. 0, or an LMDB error translated (HW_ESTORE_FULL for a full disk),
 * or -errno. */
int hw_snapshot_make(struct hw_store *s, const char *dir, struct hw_snapshot_info *out);

/* BLAKE2b-256 and size of dir/data.mdb. -errno. Any thread. */
int hw_snapshot_hash(const char *dir, uint8_t out[HW_HASH_BYTES], uint64_t *bytes);

/* Check that dir holds a store whose head is want (LSN and hash) and, unless chain is
 * NULL or all zero (an empty store's), whose chain identity (hw_store_chain_id) is chain:
 * opened read-only, its format checked, no lock file made. HW_ECHAIN when the head
 * differs, HW_EDIVERGED when the chain does, HW_EFORMAT when it is no store. */
int hw_snapshot_check(const char *dir, const struct hw_head *want,
		      const uint8_t chain[HW_HASH_BYTES]);

/* Make the copy in dir this node's before it is swapped in: the sender's node-local
 * tables, the rows its rejoins quarantined and its drill history, are replaced by own's
 * (the receiving node's store; NULL: emptied), so `hawser quarantine` and the drills
 * here list this node's rows, as before the install, and never another node's. The log
 * and the state are untouched (the head and hash hw_snapshot_check saw stay). One
 * flushed transaction: on any error the copy is left as it was received, to be given up
 * (the install must fail rather than lose own's rows). The copy must not be open
 * elsewhere; own is only read (a read transaction: its writer stopped or not). 0, a
 * store error (HW_ESTORE_FULL when own's rows do not fit) or -errno. */
int hw_snapshot_adopt(const char *dir, struct hw_store *own);

/* The map hw_snapshot_adopt opens a copy of copy_bytes with, own's pages in use
 * own_used: past both, with HW_MAP_BYTES_INITIAL to spare (at most HW_MAP_BYTES_MAX). */
uint64_t hw__snapshot_adopt_map(uint64_t copy_bytes, uint64_t own_used);

/* Put new_dir in the place of data_dir, in one step (RENAME_EXCHANGE: no crash finds
 * no data_dir), then set the old data aside as "<data_dir>.replaced-<now_ms>" (kept: a
 * replica's data is never deleted silently; its path goes to aside, "" when data_dir did
 * not exist, new_dir if it could not be renamed), and flush the parent directory. Where
 * the file system cannot exchange (EINVAL: ZFS before 2.2, some network and overlay file
 * systems), two renames, whatever was moved moved back on failure; new_dir, which must
 * be whole and flushed, is marked so (durably) before the first, so that a crash between
 * them, which leaves no data_dir, can be finished (hw_snapshot_swap_finish). The store in
 * data_dir must be closed. -errno. */
int hw_snapshot_swap(const char *data_dir, const char *new_dir, int64_t now_ms, char *aside,
		     size_t cap);

/* Finish a swap a crash cut between its two renames: data_dir is missing and new_dir is
 * the copy hw_snapshot_swap marked whole: it is moved in place and the parent flushed. 0,
 * HW_ENOTFOUND when new_dir holds no such mark (a copy half received, say: never to be
 * taken for a node's data), or -errno. */
int hw_snapshot_swap_finish(const char *data_dir, const char *new_dir);

/* Remove dir and everything under it; a missing dir is fine. -errno. */
int hw_snapshot_rm(const char *dir);

#endif
