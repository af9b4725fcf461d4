/* rejoin.h: what a returning old primary needs to follow the new one again: the epochs
 * of a log (to find the last entry two logs share) and the quarantine table the
 * divergent suffix moves into (hw_store_rewind in replica/store.h does the move).
 *
 * Two entries with the same LSN and the same epoch are the same entry: one primary
 * writes in an epoch, and the hash chain makes every entry before them equal too. So the
 * common point of two logs is the highest LSN at which their epochs agree, and one side
 * needs only the other's epoch boundaries (epoch, first LSN) to find it. Those survive
 * pruning (replica/epochs.h), so it is found even when neither log holds the entries
 * around it any longer.
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
 * crossing more than this many since the common point is beyond what the map shows (the
 * oldest are dropped; where the logs part is then judged without them: HW_REJOIN_UNPROVEN). */
#define HW_REJOIN_EPOCHS_MAX 64u

/* The epochs of a log up to last_lsn: epoch[i] wrote the entries from first_lsn[i] on,
 * oldest first. Nothing is said of the entries before first_lsn[0] but that their epochs
 * are at most epoch[0] (epochs never fall along a log). base_lsn is the log's base: it
 * holds, and can stream, the entries after it only; the map may reach further back, from
 * the epochs its pruning kept (replica/epochs.h). */
struct hw_epoch_map {
	uint64_t base_lsn;
	uint64_t last_lsn;
	uint8_t last_hash[HW_HASH_BYTES]; /* of the entry at last_lsn (hw_store_hash_at) */
	bool hash_known;                  /* last_hash was sent (a primary of this version) */
	uint32_t n;
	uint64_t epoch[HW_REJOIN_EPOCHS_MAX];
	uint64_t first_lsn[HW_REJOIN_EPOCHS_MAX];
};

/* Epoch of the entry at lsn: 0 for lsn 0, the base's for the base. HW_ENOTFOUND for an
 * LSN pruned or past the head. Any thread. */
int hw_store_epoch_at(struct hw_store *s, uint64_t lsn, uint64_t *epoch);

/* The hash of the entry at lsn in s's log: the base's own for its base (LSN 0 for an
 * unpruned log: a zero hash), else the entry's (hw_store_entry_hash). HW_ENOTFOUND for an
 * LSN pruned or past the head. Any thread. */
int hw_store_hash_at(struct hw_store *s, uint64_t lsn, uint8_t out[HW_HASH_BYTES]);

/* Fill m with the epochs of s's log up to min(upto, head): those of its pruned part that
 * meta "epochs" keeps (replica/epochs.h; only the base's own when it keeps none), then its
 * entries' from the base on, by binary search (a few entry reads per epoch); the newest
 * HW_REJOIN_EPOCHS_MAX are kept, and the hash at m->last_lsn (hash_known; not when that
 * entry is pruned, or could not be read: the map holds without it). Primary side:
 * upto is the returning node's last LSN. Any thread. */
int hw_epoch_map_build(struct hw_store *s, uint64_t upto, struct hw_epoch_map *m);

/* What the epochs alone say of one entry of another log against the log m describes. */
enum hw_epoch_verdict {
	HW_EPOCH_UNKNOWN = 0, /* m does not reach back to it */
	HW_EPOCH_SHARED,      /* m's log holds the same entry */
	HW_EPOCH_PARTED,      /* m's log holds another entry there, or none */
};

/* The verdict on the entry (lsn, epoch) of another log whose head m was built up to (so an
 * lsn past m->last_lsn is past the head of m's log: PARTED). LSN 0 is in every log. From
 * first_lsn[0] on: SHARED when m's epoch there is epoch (one primary writes an epoch's
 * entries). Before it: SHARED when epoch is epoch[0] (its primary held the entry at lsn
 * when it wrote the one at first_lsn[0], and m's log holds that one, chained to it),
 * PARTED when later than epoch[0], UNKNOWN when earlier (or m is empty). Pure. */
enum hw_epoch_verdict hw_epoch_map_judge(const struct hw_epoch_map *m, uint64_t lsn,
					 uint64_t epoch);

/* Returning side: the highest LSN, from s's base on, at which s's log provably holds the
 * same entry as the log m describes (hw_epoch_map_judge; the hash chain makes every
 * earlier one equal too); 0 when s's log starts at 0 and no entry is. HW_ENOTFOUND when
 * no entry from s's base on is shown shared. m must be built up to s's head. */
int hw_rejoin_common(struct hw_store *s, const struct hw_epoch_map *m, uint64_t *common);

/* Where hw_rejoin_cut cut, and what is known of the entries after the cut. */
enum hw_rejoin_how {
	HW_REJOIN_COMMON,   /* the common point: the entry after it differs in m's log */
	HW_REJOIN_BEFORE,   /* s's base: the logs part at or before it (s's log was pruned
			       past the common point), every entry s holds diverges */
	HW_REJOIN_UNPROVEN, /* the last entry shown shared, or s's base: m does not reach
			       back to where the logs part (a primary whose pruning kept no
			       epochs), so the entries after the cut are not all shown to
			       diverge; they are set aside all the same, never dropped */
};

/* Returning side: the LSN to rewind s to (hw_store_rewind) and how it was found: the
 * common point (hw_rejoin_common); s's base when no entry s holds is shown shared. m
 * must be built up to s's head. hw_rejoin_common's storage errors. */
int hw_rejoin_cut(struct hw_store *s, const struct hw_epoch_map *m, uint64_t *cut,
		  enum hw_rejoin_how *how);

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
