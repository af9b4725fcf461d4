/* rejoin.h: what a returning old primary needs to follow the new one again: the epochs
 * of a log (to find the last entry two logs share) and the quarantine table the
 * divergent suffix moves into (hw_store_rewind in replica/store.h does the move).
 *
 * Two entries with the same LSN and the same epoch are the same entry: one primary
 * writes in an epoch, and the hash chain makes every entry before them equal too. So the
 * common point of two logs is the highest LSN at which their epochs agree, and one side
 * needs only the other's epoch boundaries (epoch, first LSN) to find it.
 *
 * Quarantine row (node-local, never replicated): key rejoin number | LSN (8 bytes
 * big-endian each, so rows sort by rejoin, then LSN), value quarantined_ms (8,
 * little-endian) | why length (2, little-endian) | why | the log entry verbatim
 * (replica/entry.h). The rewinds of one store are numbered 1, 2, ... (one past the last
 * row's), so a rejoin over LSNs an earlier one moved keeps both entries. Store format 2
 * keyed a row by its LSN alone (8 bytes); a read-only handle on such a store reads those
 * rows as rewind 1's (a writable open migrates them). */
#ifndef HW_REPLICA_REJOIN_H
#define HW_REPLICA_REJOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replica/entry.h"
#include "replica/store.h"

/* Epoch boundaries sent in one REJOIN message: an epoch is one election, so a log
 * crossing more than this many since the common point is beyond a rejoin's reach (the
 * oldest are dropped and the node gets HW_ENOTFOUND: it needs a snapshot). */
#define HW_REJOIN_EPOCHS_MAX 64u

/* The epochs of a log over (base_lsn, last_lsn]: epoch[i] starts at first_lsn[i],
 * oldest first; when n < the epochs there, the oldest were dropped. */
struct hw_epoch_map {
	uint64_t base_lsn;
	uint64_t last_lsn;
	uint32_t n;
	uint64_t epoch[HW_REJOIN_EPOCHS_MAX];
	uint64_t first_lsn[HW_REJOIN_EPOCHS_MAX];
};

/* Epoch of the entry at lsn: 0 for lsn 0, the base's for the base. HW_ENOTFOUND for an
 * LSN pruned or past the head. Any thread. */
int hw_store_epoch_at(struct hw_store *s, uint64_t lsn, uint64_t *epoch);

/* Fill m with the epochs of s's log over (base, min(upto, head)], by binary search (a few
 * entry reads per epoch). Primary side: upto is the returning node's last LSN. */
int hw_epoch_map_build(struct hw_store *s, uint64_t upto, struct hw_epoch_map *m);

/* Returning side: the highest LSN at which s's log and the log m describes hold the same
 * entry (0 when none). HW_ENOTFOUND when it lies before what m covers or before s's base
 * (a snapshot is needed). */
int hw_rejoin_common(struct hw_store *s, const struct hw_epoch_map *m, uint64_t *common);

/* Returning side: the LSN to rewind s to (hw_store_rewind). The common point
 * (hw_rejoin_common, *before false), or s's base with *before true when the logs part at
 * or before it (s's log was pruned past the common point: every entry s still holds
 * diverges, and where they part is not known). hw_rejoin_common's errors. */
int hw_rejoin_cut(struct hw_store *s, const struct hw_epoch_map *m, uint64_t *cut, bool *before);

/* One quarantine row, borrowed for the callback. */
struct hw_quarantined {
	uint64_t rejoin; /* the rewind that moved it: 1 for a store's first */
	uint64_t lsn;
	int64_t quarantined_ms;
	char why[HW_REWIND_WHY_MAX + 1];
	struct hw_entry entry; /* entry.record points into the row */
	const uint8_t *raw;    /* the entry's bytes */
	size_t raw_len;
};

/* Call cb for every quarantine row in rejoin, then LSN order; stops at cb's first
 * non-zero return and returns it. HW_ECORRUPT for a malformed row. Any thread (a read
 * transaction). */
int hw_quarantine_each(struct hw_store *s, int (*cb)(void *arg, const struct hw_quarantined *q),
		       void *arg);

#endif
