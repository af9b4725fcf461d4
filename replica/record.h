/* record.h: turning submitted bytes into a tos.v1.Record, and refusing bytes that are not
 * one: too large, not protobuf, or not the canonical encoding. */
#ifndef HW_REPLICA_RECORD_H
#define HW_REPLICA_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "hawser_error.h"
#include "replica/pbdec.h"
#include "tos.pb-c.h"

/* Decode data[0..len) into *out, allocated in arena (valid until its next reset).
 * Refuses, with rej filled: len > HW_RECORD_BYTES_MAX (HW_ETOOBIG); bytes protobuf-c
 * cannot unpack (HW_EDECODE); bytes that are not what packing the decoded message gives
 * back, i.e. unknown fields, fields out of order, defaults written, non-minimal varints
 * (HW_ENONCANONICAL). HW_ENOMEM if the arena is exhausted. Touches nothing else. */
int hw_record_decode(const uint8_t *data, size_t len, struct hw_arena *arena,
		     Tos__V1__Record **out, struct hw_reject *rej);

/* hw_record_decode(), and on success *text (when not NULL) says what the record's strings
 * are (replica/pbdec.h), for hw_validate_decoded(). */
int hw_record_decode_text(const uint8_t *data, size_t len, struct hw_arena *arena,
			  Tos__V1__Record **out, struct hw_pbdec_text *text, struct hw_reject *rej);

/* Encode rec into buf (cap bytes): the canonical bytes. Returns the length, or 0 when it
 * does not fit in cap. */
size_t hw_record_encode(const Tos__V1__Record *rec, uint8_t *buf, size_t cap);

/* True for hawser's own payloads (checkpoint, node_event: docs/formats.md "System
 * records"), which only the node itself may submit (hw_submit.system). */
bool hw_record_is_system(const Tos__V1__Record *rec);

/* Name of rec's payload ("unit_event", "hold" ...), "none" when unset. */
const char *hw_record_kind(const Tos__V1__Record *rec);

#endif
