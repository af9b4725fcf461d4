/* restore_vouch.h: the record a restore of a pruned store's backup leaves in the store it
 * built, saying what vouched for its copied state, so that `hawser verify --trust` can
 * judge it later (replica/verify.h) instead of only a restore drill's own run.
 *
 * A copied snapshot's state cannot be rebuilt from the log; the restore compared it, at
 * the LSN a signed checkpoint in the backup's log covers, with the digest that checkpoint
 * signed (replica/backup.h). The record names that checkpoint and its signer, and the
 * restored head and state digest it holds for: once the store moves on (a node writes it)
 * or its state tables change, it no longer matches and vouches for nothing.
 *
 * Kept in meta under HW_RESTORE_VOUCH_KEY, a node-local value (hw_store_meta_put): not
 * replicated, not in the state digest; a snapshot copies it with the rest of meta, and a
 * restore that copies one writes its own over it, "nothing vouched" (cp_lsn 0) included.
 * Whoever can write the store can write this record too: it tells verify what the restore
 * checked, and does not prove it against that writer (docs/security.md).
 *
 * Value, version 1, little-endian: version (1 byte, 1), cp_lsn, covers, head_lsn (8 each),
 * head_hash, digest, signer_pk (32 each), length n of signer_id (1 byte, 0..35), signer_id. */
#ifndef HW_REPLICA_RESTORE_VOUCH_H
#define HW_REPLICA_RESTORE_VOUCH_H

#include <stdint.h>

#include "replica/checkpoint.h"
#include "replica/entry.h"
#include "replica/store.h"

#define HW_RESTORE_VOUCH_KEY "node.restore_vouch"

struct hw_restore_vouch {
	uint64_t cp_lsn;                      /* the checkpoint's own entry; 0: none vouched */
	uint64_t covers;                      /* the LSN whose state it signed */
	uint64_t head_lsn;                    /* the restored store's head ... */
	uint8_t head_hash[HW_HASH_BYTES];     /* ... its hash ... */
	uint8_t digest[HW_HASH_BYTES];        /* ... and its state digest there */
	uint8_t signer_pk[HW_SIGN_PK_BYTES];  /* the checkpoint's public_key */
	char signer_id[HW_SIGNER_ID_MAX + 1]; /* its node_id, "" when unknown */
};

/* Write v under HW_RESTORE_VOUCH_KEY in s, flushed (hw_store_meta_put). 0 or a storage
 * error (sticky). The writer's thread, no batch prepared. */
int hw_restore_vouch_put(struct hw_store *s, const struct hw_restore_vouch *v);

/* Read it into *v. HW_ENOTFOUND when s holds none (a store no copying restore built);
 * HW_ECORRUPT when the value is not a version 1 record; else a storage error. Any thread. */
int hw_restore_vouch_get(struct hw_store *s, struct hw_restore_vouch *v);

#endif
