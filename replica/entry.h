/* entry.h: the log entry, the unit of the hash chain, of replication and of backup.
 *
 * An entry is a fixed 96-byte little-endian header followed by the record bytes as the
 * TOS submitted them (docs/formats.md):
 *
 *   off len  field
 *     0   4  magic "HWE1"
 *     4   4  record_len
 *     8   8  lsn
 *    16   8  epoch
 *    24   8  time_ms      primary's clock when the LSN was given (signed)
 *    32  32  prev_hash    hash of the entry at lsn - 1 (zeros before LSN 1)
 *    64  32  hash         BLAKE2b-256 over bytes 0..63 and the record bytes
 *    96   n  record bytes
 *
 * The hash covers everything but itself, so one flipped bit anywhere in the entry is
 * caught, and chaining prev_hash makes a removed, reordered or altered entry visible. */
#ifndef HW_REPLICA_ENTRY_H
#define HW_REPLICA_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "hawser_limits.h"

#define HW_ENTRY_HEADER_BYTES 96u
#define HW_ENTRY_MAGIC        "HWE1" /* its first 4 bytes */
#define HW_ENTRY_BYTES_MAX (HW_ENTRY_HEADER_BYTES + HW_RECORD_BYTES_MAX)

struct hw_entry {
	uint64_t lsn;
	uint64_t epoch;
	int64_t time_ms;
	uint8_t prev_hash[HW_HASH_BYTES];
	uint8_t hash[HW_HASH_BYTES];
	const uint8_t *record; /* borrowed from the buffer it was parsed from */
	uint32_t record_len;
};

/* Write the entry for record at (lsn, epoch, time_ms) after prev_hash into buf (at least
 * HW_ENTRY_HEADER_BYTES + record_len bytes), computing its hash into e->hash. Fills e
 * (e->record points into buf). Returns the entry's length. */
size_t hw_entry_encode(uint8_t *buf, uint64_t lsn, uint64_t epoch, int64_t time_ms,
		       const uint8_t prev_hash[HW_HASH_BYTES], const uint8_t *record,
		       uint32_t record_len, struct hw_entry *e);

/* Parse and check buf[0..len): magic, lengths and the hash. HW_ECORRUPT when any of them
 * is wrong (e is then unspecified). Does not check the chain: compare e->prev_hash with
 * the previous entry's hash, and e->lsn with its LSN + 1. */
int hw_entry_decode(const uint8_t *buf, size_t len, struct hw_entry *e);

/* hw_entry_decode() without the hash: for bytes a check with it has already passed (a
 * standby's entries, checked on arrival before they reach its log and its store). e->hash
 * is the hash field as written. */
int hw_entry_parse(const uint8_t *buf, size_t len, struct hw_entry *e);

/* The length of the entry whose header starts at buf (HW_ENTRY_HEADER_BYTES readable
 * there), from its record_len field, and its LSN: for walking entries laid back to back.
 * Unchecked: parse or decode the entry for that. */
size_t hw_entry_len(const uint8_t *buf);
uint64_t hw_entry_lsn(const uint8_t *buf);

#endif
