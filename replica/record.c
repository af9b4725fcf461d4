/* record.c: bytes to tos.v1.Record and back, refusing non-canonical bytes
 * (replica/record.h). */
#include "replica/record.h"

#include <stdbool.h>
#include <string.h>

#include "base/assert.h"
#include "base/reject.h"
#include "hawser_limits.h"

/* The arena allocator protobuf-c decodes through. alloc_failed tells an exhausted arena
 * apart from malformed bytes: protobuf-c returns NULL for both. */
struct arena_alloc {
	struct hw_arena *arena;
	int alloc_failed;
};

static void *arena_alloc_cb(void *data, size_t size)
{
	struct arena_alloc *aa = data;
	void *p = hw_arena_alloc(aa->arena, size);
	if (p == NULL)
		aa->alloc_failed = 1;
	return p;
}

/* Everything is freed at once by the arena's reset; protobuf-c's own frees (on an
 * error, or when a later oneof member replaces an earlier one) are no-ops. */
static void arena_free_cb(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

/* protobuf-c keeps unknown fields and packs them back verbatim, so re-encoding alone
 * does not catch them: walk the decoded tree. tos.proto has no recursive message, so
 * the depth is bounded by the schema (Record > UnitEvent > Location > YardPos). */
static bool has_unknown_fields(const ProtobufCMessage *m)
{
	if (m->n_unknown_fields != 0)
		return true;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
			ProtobufCMessage *const *v =
				*(ProtobufCMessage *const *const *)(const void *)(base + f->offset);
			for (size_t k = 0; k < n; k++)
				if (has_unknown_fields(v[k]))
					return true;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
			continue;
		const ProtobufCMessage *sub =
			*(const ProtobufCMessage *const *)(const void *)(base + f->offset);
		if (sub != NULL && has_unknown_fields(sub))
			return true;
	}
	return false;
}

/* The bytes must be exactly what packing the decoded message gives: that makes one
 * event one byte string, hence one hash, on every node. protobuf-c 1.4.1 packs fields in
 * number order, omits proto3 defaults and writes minimal varints, so any reordering,
 * explicit default, duplicate or padded varint changes the length or the bytes. Unknown
 * fields are the exception (protobuf-c re-emits them) and are looked for first.
 *
 * The message is packed straight into scratch, without get_packed_size() first (that
 * walks the whole tree again, and pack() sizes sub-messages itself). The scratch holds
 * 2 * len + 16 bytes, enough because packing a message decoded from len bytes without
 * unknown fields never gives more than 2 * len: every field packed was read from the
 * input (proto3 writes no defaults), its tag and length prefixes are minimal, and only a
 * negative int32 or enum grows, from at least 5 varint bytes to 10; a repeated scalar
 * sent unpacked gains one length prefix but loses a tag per element, and a sub-message
 * whose content doubles gains at most one length byte, covered by doubling its own tag
 * and prefix. tos.proto has no maps. */
static int canonical_check(const Tos__V1__Record *rec, const uint8_t *data, size_t len,
			   struct hw_arena *arena, struct hw_reject *rej)
{
	if (has_unknown_fields(&rec->base))
		return hw_reject_set(rej, HW_ENONCANONICAL, "record",
				     "unknown fields (a newer schema, or not a tos.v1.Record)");
	size_t cap = 2 * len + 16;
	uint8_t *scratch = hw_arena_alloc(arena, cap);
	if (scratch == NULL)
		return hw_reject_set(rej, HW_ENOMEM, "record", "decode arena exhausted");
	size_t packed = tos__v1__record__pack(rec, scratch);
	HW_ASSERT(packed <= cap);
	if (packed != len)
		return hw_reject_set(rej, HW_ENONCANONICAL, "record",
				     "re-encoding gives %zu bytes, not %zu (unknown fields, "
				     "defaults written or duplicates)",
				     packed, len);
	if (len != 0 && memcmp(scratch, data, len) != 0) {
		size_t at = 0;
		while (at < len && scratch[at] == data[at])
			at++;
		return hw_reject_set(rej, HW_ENONCANONICAL, "record",
				     "bytes differ from the canonical encoding at offset %zu "
				     "(field order or varint form)",
				     at);
	}
	return 0;
}

int hw_record_decode(const uint8_t *data, size_t len, struct hw_arena *arena, Tos__V1__Record **out,
		     struct hw_reject *rej)
{
	static const uint8_t empty[1];

	*out = NULL;
	if (len > HW_RECORD_BYTES_MAX)
		return hw_reject_set(rej, HW_ETOOBIG, "record", "%zu bytes, more than %u", len,
				     HW_RECORD_BYTES_MAX);
	if (data == NULL) {
		if (len != 0)
			return hw_reject_set(rej, HW_EDECODE, "record", "no data");
		data = empty;
	}

	struct arena_alloc aa = {.arena = arena, .alloc_failed = 0};
	ProtobufCAllocator allocator = {
		.alloc = arena_alloc_cb,
		.free = arena_free_cb,
		.allocator_data = &aa,
	};
	/* Never protobuf_c_message_free_unpacked(): the arena owns every byte. */
	Tos__V1__Record *rec = tos__v1__record__unpack(&allocator, len, data);
	if (aa.alloc_failed)
		return hw_reject_set(rej, HW_ENOMEM, "record", "decode arena exhausted");
	if (rec == NULL)
		return hw_reject_set(rej, HW_EDECODE, "record",
				     "not a protobuf encoding of tos.v1.Record");

	int rc = canonical_check(rec, data, len, arena, rej);
	if (rc != 0)
		return rc;
	*out = rec;
	return 0;
}

size_t hw_record_encode(const Tos__V1__Record *rec, uint8_t *buf, size_t cap)
{
	size_t need = tos__v1__record__get_packed_size(rec);
	if (need > cap)
		return 0;
	size_t n = tos__v1__record__pack(rec, buf);
	return n;
}

bool hw_record_is_system(const Tos__V1__Record *rec)
{
	return rec->payload_case == TOS__V1__RECORD__PAYLOAD_CHECKPOINT ||
	       rec->payload_case == TOS__V1__RECORD__PAYLOAD_NODE_EVENT;
}

const char *hw_record_kind(const Tos__V1__Record *rec)
{
	switch (rec->payload_case) {
	case TOS__V1__RECORD__PAYLOAD_UNIT_EVENT:
		return "unit_event";
	case TOS__V1__RECORD__PAYLOAD_HOLD:
		return "hold";
	case TOS__V1__RECORD__PAYLOAD_CUSTOMS:
		return "customs";
	case TOS__V1__RECORD__PAYLOAD_REEFER:
		return "reefer";
	case TOS__V1__RECORD__PAYLOAD_WI:
		return "wi";
	case TOS__V1__RECORD__PAYLOAD_GATE:
		return "gate";
	case TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT:
		return "vessel_visit";
	case TOS__V1__RECORD__PAYLOAD_VGM:
		return "vgm";
	case TOS__V1__RECORD__PAYLOAD_EDI:
		return "edi";
	case TOS__V1__RECORD__PAYLOAD_AUDIT:
		return "audit";
	case TOS__V1__RECORD__PAYLOAD_KV_PUT:
		return "kv_put";
	case TOS__V1__RECORD__PAYLOAD_KV_DELETE:
		return "kv_delete";
	case TOS__V1__RECORD__PAYLOAD_CHECKPOINT:
		return "checkpoint";
	case TOS__V1__RECORD__PAYLOAD_NODE_EVENT:
		return "node_event";
	case TOS__V1__RECORD__PAYLOAD__NOT_SET:
	default:
		return "none";
	}
}
