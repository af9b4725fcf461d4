/* pb_oracle.h: protobuf-c 1.4.1 as the oracle for replica/pbdec.h, for tests and fuzz
 * harnesses only: what hw_record_decode checked before pbdec (unpack, no unknown field
 * anywhere, re-pack equal to the input), kept to hold the fast decoder to it. */
#ifndef HW_TESTS_PB_ORACLE_H
#define HW_TESTS_PB_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "hawser_error.h"

/* True when m or a message below it kept unknown fields (protobuf-c re-packs them, so
 * comparing bytes alone does not see them). */
static inline bool pb_oracle_has_unknown(const ProtobufCMessage *m)
{
	if (m->n_unknown_fields != 0)
		return true;
	const char *base = (const char *)m;
	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		size_t n = 1;
		ProtobufCMessage *const *v =
			(ProtobufCMessage *const *)(const void *)(base + f->offset);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)(const void *)(base + f->quantifier_offset);
			v = *(ProtobufCMessage *const *const *)(const void *)(base + f->offset);
		} else if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
			   *(const uint32_t *)(const void *)(base + f->quantifier_offset) !=
				   f->id) {
			continue;
		}
		for (size_t k = 0; k < n; k++)
			if (v[k] != NULL && pb_oracle_has_unknown(v[k]))
				return true;
	}
	return false;
}

/* 0, HW_EDECODE or HW_ENONCANONICAL for data as a desc; scratch holds len bytes. *out:
 * the unpacked message when unpack succeeded, else NULL (protobuf_c_message_free_unpacked
 * it with a NULL allocator). */
static inline int pb_oracle(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
			    uint8_t *scratch, ProtobufCMessage **out)
{
	*out = protobuf_c_message_unpack(desc, NULL, len, data);
	if (*out == NULL)
		return HW_EDECODE;
	if (pb_oracle_has_unknown(*out) || protobuf_c_message_get_packed_size(*out) != len)
		return HW_ENONCANONICAL;
	protobuf_c_message_pack(*out, scratch);
	return memcmp(scratch, data, len) == 0 ? 0 : HW_ENONCANONICAL;
}

#endif
