/* pbdec.h: a single-pass protobuf decoder that accepts only the canonical encoding.
 *
 * Driven by protobuf-c's own message descriptors, it builds exactly the C struct that
 * protobuf-c 1.4.1's unpack would build (message_init, NUL-terminated strings,
 * ProtobufCBinaryData, sub-messages, repeated fields, oneof cases) from one pass over the
 * bytes, with every byte allocated from an arena, and refuses on the way anything that is
 * not what protobuf-c would pack the decoded message back into: fields out of number
 * order or repeated, unknown fields, non-minimal varints and lengths, proto3 defaults
 * written for plain fields, two members of one oneof, an int32 not sign-extended to ten
 * bytes, a string holding a NUL, a repeated scalar packed when the schema does not pack
 * it or the other way round. It replaces unpack + re-pack + compare + unknown-field walk
 * (about a third of the store path's instructions) with one walk and no scratch copy.
 *
 * Schemas: proto3 as protoc-c 1.4.1 generates it (plain, repeated and oneof fields of
 * every scalar type, string, bytes and message). No maps, groups, proto2 required or
 * optional fields, or proto3 `optional`; a descriptor using one is a programming error
 * (HW_ASSERT). Nesting deeper than HW_PBDEC_DEPTH_MAX is refused. Bytes it refuses are
 * classified by running protobuf-c's own unpack on them (see HW_EDECODE below), whose
 * recursion has no bound but the input's length: meant for schemas without recursion,
 * such as tos.proto. Thread-safe: it keeps no state. */
#ifndef HW_REPLICA_PBDEC_H
#define HW_REPLICA_PBDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "base/arena.h"
#include "hawser_error.h"

/* Deeper than any message of tos.proto or wire.proto (Record > UnitEvent > Location >
 * YardPos is 4), low enough that the recursion stays far inside a thread's stack. */
#define HW_PBDEC_DEPTH_MAX 32

/* What a decode saw of the message's strings (string fields, not bytes), found while
 * copying them: ascii is true when every byte of every one is printable ASCII (0x20 to
 * 0x7E: no control character, no DEL, nothing but ASCII), longest_bytes is the length of
 * the longest (0 with none). Validation skips its own scan on that word (validate.h). */
struct hw_pbdec_text {
	bool ascii;
	size_t longest_bytes;
};

/* Decode data[0..len) as a message of type desc into *out, allocated in arena (valid
 * until its next reset; nothing points into data). data may be NULL only when len is 0.
 * Returns 0, or fills rej (may be NULL; its field set to `what`) and returns:
 *   HW_EDECODE       bytes protobuf-c 1.4.1's unpack refuses too (truncated, a wrong
 *                    wire type for a known field, an unterminated varint, a length past
 *                    the end, a group ...), or nested deeper than HW_PBDEC_DEPTH_MAX;
 *   HW_ENONCANONICAL bytes it unpacks but that are not the canonical encoding of the
 *                    result, or that hold unknown fields; the rule names the field and
 *                    the offset where the bytes leave the canonical form;
 *   HW_ENOMEM        the arena is exhausted.
 * On failure *out is NULL; what was allocated stays in the arena until its reset. On
 * success *text (when text is not NULL) says what the strings were. */
int hw_pbdec_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
		    struct hw_arena *arena, const char *what, ProtobufCMessage **out,
		    struct hw_pbdec_text *text, struct hw_reject *rej);

#endif
