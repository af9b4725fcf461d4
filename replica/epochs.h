/* epochs.h: which epoch wrote the entries a log no longer holds: the epoch history that
 * pruning keeps (meta "epochs"), so a rejoin can still find where two logs part after
 * the entries around that point were pruned (replica/rejoin.h, docs/failover.md
 * "Rejoin").
 *
 * The history is a list of epoch boundaries, (epoch, first LSN) oldest first, over the
 * pruned part of a log: it covers first_lsn[0] .. through_lsn, where through_lsn is the
 * store's base, and epoch[i] wrote every entry from first_lsn[i] up to first_lsn[i + 1]
 * (or through_lsn). A history that starts at a later LSN than 1 (a store pruned before
 * histories were kept, or one whose oldest boundaries were dropped) says nothing about the
 * entries before it. The prune that deletes entries notes their epochs here in the same
 * write transaction that moves the base (replica/store_prune.c), so the history and the
 * base never disagree; a history whose through_lsn is not the base (a binary without it
 * pruned on) is not used, and the next prune starts a new one at the base.
 *
 * Value of meta "epochs" (little-endian): version (4 bytes, 1), through_lsn (8), then
 * per boundary epoch (8) and first_lsn (8), at least one and at most HW_EPOCH_HIST_MAX.
 *
 * Pure: no I/O, no allocation, no clock. Any thread. */
#ifndef HW_REPLICA_EPOCHS_H
#define HW_REPLICA_EPOCHS_H

#include <stddef.h>
#include <stdint.h>

/* Boundaries a history keeps: every election makes one, and elections are rare (a
 * failover or a switchover, maybe a drill a week: five years of them). Past this the
 * oldest go, and the history starts later (a rejoin from before it is judged without). */
#define HW_EPOCH_HIST_MAX       256u
#define HW_EPOCH_HIST_VERSION   1u
#define HW_EPOCH_HIST_BYTES(n)  (12u + 16u * (n))
#define HW_EPOCH_HIST_BYTES_MAX HW_EPOCH_HIST_BYTES(HW_EPOCH_HIST_MAX)

struct hw_epoch_hist {
	uint64_t through_lsn; /* the last LSN it covers (the store's base) */
	uint32_t n;           /* 0: it covers nothing */
	uint64_t epoch[HW_EPOCH_HIST_MAX];
	uint64_t first_lsn[HW_EPOCH_HIST_MAX];
};

/* An empty history of a log whose base is the entry (base_lsn, base_epoch): it starts
 * with that entry's epoch (known from meta "base") when base_lsn > 0. */
void hw_epoch_hist_start(struct hw_epoch_hist *h, uint64_t base_lsn, uint64_t base_epoch);

/* The entry at lsn, of epoch, is pruned: h covers it from now on. lsn must follow
 * through_lsn (any lsn when h is empty) and epoch must not fall below the last one's
 * (epochs never fall along a log); HW_ECORRUPT otherwise, h unchanged. A new epoch adds a
 * boundary, dropping the oldest one when HW_EPOCH_HIST_MAX are kept. */
int hw_epoch_hist_note(struct hw_epoch_hist *h, uint64_t lsn, uint64_t epoch);

/* Encode h (n >= 1) into buf (at least HW_EPOCH_HIST_BYTES(h->n) bytes); returns the
 * length. */
size_t hw_epoch_hist_encode(const struct hw_epoch_hist *h, uint8_t *buf);

/* Decode p[0..len) into h: HW_EFORMAT for another version, HW_ECORRUPT for a length that
 * is no whole number of boundaries (or none, or too many), or boundaries whose LSNs do
 * not rise, whose epochs fall, or that lie past through_lsn. */
int hw_epoch_hist_decode(const uint8_t *p, size_t len, struct hw_epoch_hist *h);

#endif
