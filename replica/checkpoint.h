/* checkpoint.h: hawser's own log records (docs/formats.md "System records"): signed
 * checkpoints of the chain and the state, and node events (the audit trail). They are
 * built here, submitted by the node itself as ordinary records (hw_submit.system), so
 * they are hash-chained, replicated, backed up and replayed like any TOS record, and they
 * change no state table. A TOS cannot submit them (HW_ESYSTEM_RECORD).
 *
 * A checkpoint says, under the primary's Ed25519 key: "at LSN lsn (epoch epoch) the
 * chain ended in chain_hash and the state digest (hw_store_digest) was state_digest".
 * The signature covers this fixed layout, not the protobuf bytes (so no encoder's
 * choices matter), little-endian:
 *
 *   off len  field
 *     0  20  "hawser-checkpoint-v1"
 *    20   8  lsn
 *    28   8  epoch
 *    36  32  chain_hash
 *    68  32  state_digest
 *   100  32  public_key
 *   132   1  length n of node_id (1..35)
 *   133   n  node_id
 *
 * The record's own LSN, assigned after signing, is later than lsn. The record count up to
 * the checkpoint is lsn itself (the log holds entries 1..lsn). */
#ifndef HW_REPLICA_CHECKPOINT_H
#define HW_REPLICA_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser_error.h"
#include "hawser_limits.h"
#include "tos.pb-c.h"

struct hw_store;

#define HW_SIGN_PK_BYTES   32u /* Ed25519 public key (crypto_sign_PUBLICKEYBYTES) */
#define HW_SIGN_SK_BYTES   64u /* Ed25519 secret key (crypto_sign_SECRETKEYBYTES) */
#define HW_SIGNATURE_BYTES 64u
#define HW_SIGNER_ID_MAX   35u /* a node id (engine/config.h) with room to spare */
/* Room for one encoded system record: a checkpoint is about 260 bytes. */
#define HW_SYSTEM_RECORD_BYTES_MAX 1024u

/* What a checkpoint that passed its checks claims, for a replay to compare: in its entry
 * at lsn, that the state digest at LSN covers (< lsn) was digest. */
struct hw_checkpoint_claim {
	uint64_t lsn;
	uint64_t covers;
	uint8_t digest[HW_HASH_BYTES];
};

/* Who signs: the node's id and Ed25519 pair (engine/io/channel.h hw_identity sign_*). */
struct hw_signer {
	char node_id[HW_SIGNER_ID_MAX + 1];
	uint8_t pk[HW_SIGN_PK_BYTES];
	uint8_t sk[HW_SIGN_SK_BYTES];
};

/* Build a signed checkpoint of s's committed head and its state digest, read in one read
 * transaction (any thread; it never blocks a writer; the digest walks every state table,
 * milliseconds per 100,000 rows: docs/benchmarks.md), and encode it as a record with
 * event time now_ms and a random record_id into buf[0..cap), cap >=
 * HW_SYSTEM_RECORD_BYTES_MAX. *len gets its length, *covers the LSN it covers (the head).
 * HW_ENOTFOUND for an empty store (nothing to vouch for); storage errors as hw_mdb_err. */
int hw_checkpoint_make(struct hw_store *s, const struct hw_signer *k, int64_t now_ms, uint8_t *buf,
		       size_t cap, size_t *len, uint64_t *covers);

/* Check c's signature against the public key it carries: 0 or HW_ESIGNATURE (also for a
 * checkpoint whose fields have the wrong sizes). Whether that key is trusted is the
 * caller's question (verify: --trust). */
int hw_checkpoint_check(const Tos__V1__Checkpoint *c);

/* The checkpoint entry e holds, decoded into arena (valid until its next reset), or NULL
 * when it holds none; a record that does not decode holds none (a replay reports it).
 * Cheap for the other entries: their record bytes are searched for the checkpoint
 * field's tag before anything is decoded. Checks nothing: hw_checkpoint_check(). */
struct hw_arena;
struct hw_entry;
const Tos__V1__Checkpoint *hw_checkpoint_of(const struct hw_entry *e, struct hw_arena *arena);

/* If e holds a checkpoint whose signature checks (its key is not judged) and that covers an
 * LSN from from_lsn on, before e's own: what it claims into *out, and true. arena as for
 * hw_checkpoint_of(). */
bool hw_checkpoint_claim_of(const struct hw_entry *e, uint64_t from_lsn, struct hw_arena *arena,
			    struct hw_checkpoint_claim *out);

/* Encode ev as a system record (event time now_ms, random record_id) into buf[0..cap).
 * Validates it first: a reject code (rej filled) for a malformed event, which then
 * writes nothing; HW_ERANGE when it does not fit in cap. */
int hw_node_event_encode(const Tos__V1__NodeEvent *ev, int64_t now_ms, uint8_t *buf, size_t cap,
			 size_t *len, struct hw_reject *rej);

/* Whether the state digest of s equals the one a checkpoint signed, as the current format
 * or, for a checkpoint a format 3 node signed, as format 3 laid the same state out
 * (replica/digest.c): *ok, and *format3 says which matched. 0 or the digest's error. A
 * format 3 match counts only before any format 4 one (no node signs format 3 after). */
int hw_checkpoint_digest_matches(struct hw_store *s, const uint8_t signed_digest[HW_HASH_BYTES],
				 bool *ok, bool *format3);

/* Name of a node event kind in lower case ("promotion", "node_start" ...), "unknown" for
 * a value outside the enum. */
const char *hw_node_event_name(Tos__V1__NodeEventKind kind);

#endif
