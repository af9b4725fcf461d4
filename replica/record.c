/* record.c: bytes to tos.v1.Record and back, refusing non-canonical bytes
 * (replica/record.h). */
#include "replica/record.h"

#include <stdbool.h>

#include "base/reject.h"
#include "hawser_limits.h"
#include "replica/pbdec.h"

int hw_record_decode(const uint8_t *data, size_t len, struct hw_arena *arena, Tos__V1__Record **out,
		     struct hw_reject *rej)
{
	return hw_record_decode_text(data, len, arena, out, NULL, rej);
}

int hw_record_decode_text(const uint8_t *data, size_t len, struct hw_arena *arena,
			  Tos__V1__Record **out, struct hw_pbdec_text *text, struct hw_reject *rej)
{
	*out = NULL;
	if (len > HW_RECORD_BYTES_MAX)
		return hw_reject_set(rej, HW_ETOOBIG, "record", "%zu bytes, more than %u", len,
				     HW_RECORD_BYTES_MAX);
	if (data == NULL && len != 0)
		return hw_reject_set(rej, HW_EDECODE, "record", "no data");

	/* One pass builds the struct protobuf-c's unpack would and checks it is canonical:
	 * the bytes are what gets hashed and kept, so one event has one encoding. */
	ProtobufCMessage *m;
	int rc = hw_pbdec_decode(&tos__v1__record__descriptor, data, len, arena, "record", &m, text,
				 rej);
	if (rc != 0)
		return rc;
	*out = (Tos__V1__Record *)m;
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
