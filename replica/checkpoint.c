/* checkpoint.c: signed checkpoints and node events, hawser's own log records
 * (replica/checkpoint.h). */
#include "replica/checkpoint.h"

#include <sodium.h>
#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/arena.h"
#include "base/reject.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "replica/store.h"
#include "replica/validate.h"

#define SIGNED_TAG       "hawser-checkpoint-v1"
#define SIGNED_TAG_BYTES 20u
#define SIGNED_BYTES_MAX (SIGNED_TAG_BYTES + 16u + 3u * 32u + 1u + HW_SIGNER_ID_MAX)

_Static_assert(crypto_sign_PUBLICKEYBYTES == HW_SIGN_PK_BYTES, "Ed25519 public key size");
_Static_assert(crypto_sign_SECRETKEYBYTES == HW_SIGN_SK_BYTES, "Ed25519 secret key size");
_Static_assert(crypto_sign_BYTES == HW_SIGNATURE_BYTES, "Ed25519 signature size");
_Static_assert(sizeof SIGNED_TAG - 1 == SIGNED_TAG_BYTES, "tag length");

/* The signed layout of c (checkpoint.h) into buf; 0 when a field has the wrong size. */
static size_t signed_bytes(const Tos__V1__Checkpoint *c, uint8_t buf[SIGNED_BYTES_MAX])
{
	size_t id_len = c->node_id != NULL ? strlen(c->node_id) : 0;
	if (c->chain_hash.len != HW_HASH_BYTES || c->state_digest.len != HW_HASH_BYTES ||
	    c->public_key.len != HW_SIGN_PK_BYTES || id_len == 0 || id_len > HW_SIGNER_ID_MAX)
		return 0;
	uint8_t *p = buf;
	memcpy(p, SIGNED_TAG, SIGNED_TAG_BYTES);
	p += SIGNED_TAG_BYTES;
	hw_put_u64(p, c->lsn);
	hw_put_u64(p + 8, c->epoch);
	p += 16;
	memcpy(p, c->chain_hash.data, HW_HASH_BYTES);
	memcpy(p + 32, c->state_digest.data, HW_HASH_BYTES);
	memcpy(p + 64, c->public_key.data, HW_SIGN_PK_BYTES);
	p += 96;
	*p++ = (uint8_t)id_len;
	memcpy(p, c->node_id, id_len);
	return (size_t)(p - buf) + id_len;
}

int hw_checkpoint_check(const Tos__V1__Checkpoint *c)
{
	uint8_t msg[SIGNED_BYTES_MAX];
	size_t n = signed_bytes(c, msg);
	if (n == 0 || c->signature.len != HW_SIGNATURE_BYTES)
		return HW_ESIGNATURE;
	return crypto_sign_verify_detached(c->signature.data, msg, n, c->public_key.data) == 0
		       ? 0
		       : HW_ESIGNATURE;
}

const Tos__V1__Checkpoint *hw_checkpoint_of(const struct hw_entry *e, struct hw_arena *arena)
{
	/* 0x82 0x02 is the tag of Record field 32 (checkpoint): without it, no checkpoint. */
	if (memmem(e->record, e->record_len, "\x82\x02", 2) == NULL)
		return NULL;
	Tos__V1__Record *rec;
	struct hw_reject rej;
	hw_arena_reset(arena);
	if (hw_record_decode(e->record, e->record_len, arena, &rec, &rej) != 0 ||
	    rec->payload_case != TOS__V1__RECORD__PAYLOAD_CHECKPOINT)
		return NULL;
	return rec->checkpoint;
}

bool hw_checkpoint_claim_of(const struct hw_entry *e, uint64_t from_lsn, struct hw_arena *arena,
			    struct hw_checkpoint_claim *out)
{
	const Tos__V1__Checkpoint *c = hw_checkpoint_of(e, arena);
	if (c == NULL || c->lsn < from_lsn || c->lsn >= e->lsn || hw_checkpoint_check(c) != 0)
		return false;
	out->lsn = e->lsn;
	out->covers = c->lsn;
	memcpy(out->digest, c->state_digest.data, HW_HASH_BYTES);
	return true;
}

/* Pack rec (a system record: no tenant, no facility) with a random record_id. */
static int encode_system(Tos__V1__Record *rec, int64_t now_ms, uint8_t *buf, size_t cap,
			 size_t *len)
{
	uint8_t id[HW_RECORD_ID_BYTES];
	randombytes_buf(id, sizeof id);
	rec->record_id.data = id;
	rec->record_id.len = sizeof id;
	rec->event_time_ms = now_ms;
	rec->schema_version = 1;
	*len = hw_record_encode(rec, buf, cap);
	return *len == 0 ? HW_ERANGE : 0;
}


int hw_checkpoint_make(struct hw_store *s, const struct hw_signer *k, int64_t now_ms, uint8_t *buf,
		       size_t cap, size_t *len, uint64_t *covers)
{
	HW_ASSERT(cap >= HW_SYSTEM_RECORD_BYTES_MAX);
	struct hw_head h;
	uint8_t digest[HW_HASH_BYTES], sig[HW_SIGNATURE_BYTES], msg[SIGNED_BYTES_MAX];
	int rc = hw_store_digest_head(s, &h, digest); /* one moment: head and state */
	if (rc == 0 && h.lsn == 0)
		rc = HW_ENOTFOUND;
	if (rc != 0)
		return rc;
	Tos__V1__Checkpoint c = TOS__V1__CHECKPOINT__INIT;
	c.lsn = h.lsn;
	c.epoch = h.epoch;
	c.chain_hash = (ProtobufCBinaryData){HW_HASH_BYTES, h.hash};
	c.state_digest = (ProtobufCBinaryData){HW_HASH_BYTES, digest};
	c.node_id = (char *)k->node_id;
	c.public_key = (ProtobufCBinaryData){HW_SIGN_PK_BYTES, (uint8_t *)k->pk};
	size_t n = signed_bytes(&c, msg);
	HW_ASSERT(n > 0);
	crypto_sign_detached(sig, NULL, msg, n, k->sk);
	c.signature = (ProtobufCBinaryData){sizeof sig, sig};
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	rec.payload_case = TOS__V1__RECORD__PAYLOAD_CHECKPOINT;
	rec.checkpoint = &c;
	*covers = h.lsn;
	return encode_system(&rec, now_ms, buf, cap, len);
}

int hw_node_event_encode(const Tos__V1__NodeEvent *ev, int64_t now_ms, uint8_t *buf, size_t cap,
			 size_t *len, struct hw_reject *rej)
{
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	rec.payload_case = TOS__V1__RECORD__PAYLOAD_NODE_EVENT;
	rec.node_event = (Tos__V1__NodeEvent *)ev;
	uint8_t id[HW_RECORD_ID_BYTES] = {0};
	rec.record_id = (ProtobufCBinaryData){sizeof id, id}; /* replaced when encoding */
	rec.event_time_ms = now_ms;
	rec.schema_version = 1;
	int rc = hw_validate_record(&rec, now_ms, rej);
	if (rc != 0)
		return rc;
	rc = encode_system(&rec, now_ms, buf, cap, len);
	return rc != 0 ? hw_reject_set(rej, rc, "node_event", "does not fit in %zu bytes", cap) : 0;
}

int hw_checkpoint_digest_matches(struct hw_store *s, const uint8_t signed_digest[HW_HASH_BYTES],
				 bool *ok, bool *format3)
{
	uint8_t got[HW_HASH_BYTES];
	int rc = hw_store_digest(s, got);
	*format3 = false;
	*ok = rc == 0 && memcmp(got, signed_digest, HW_HASH_BYTES) == 0;
	if (rc == 0 && !*ok) {
		rc = hw_store_digest_format3(s, got);
		*ok = *format3 = rc == 0 && memcmp(got, signed_digest, HW_HASH_BYTES) == 0;
	}
	return rc;
}

const char *hw_node_event_name(Tos__V1__NodeEventKind kind)
{
	static const char *const names[] = {"unspecified",  "node_start", "promotion",
					    "switchover",   "step_down",  "config_change",
					    "auth_failure", "drill",      "export",
					    "restore",      "operator"};
	if ((int)kind < 0 || (size_t)kind >= sizeof names / sizeof names[0])
		return "unknown";
	return names[kind];
}
