/* fuzz_wire.c: frame bodies as a node unpacks them (engine/node*.c, engine/voters.c,
 * engine/witness.c, engine/client.c): the raw APPEND body (header, then log entries each
 * sized by its own header and checked by hw_entry_decode, each carrying a record), the
 * raw SUBMIT body (header, then a record through the canonical decode and the stateless
 * rules), and every other type through its proto/wire.proto message, unpacked with
 * protobuf-c's default allocator as the node does.
 *
 * The input is a stream of frames (seeds carry valid CRCs; libFuzzer's comparison
 * tracing finds new ones). Contract checked: every answer is 0 or a typed code; an entry
 * that decodes re-encodes to the same bytes and the chain walk answers as the standby's
 * check_entries would (HW_ECORRUPT, HW_ELSN, HW_ECHAIN, HW_EFRAME for trailing bytes); a
 * record that decodes is canonical; a message that unpacks passes protobuf_c_message_check,
 * packs, and unpacks from that to the same packed bytes; nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "engine/io/frame.h"
#include "fuzz/fuzz.h"
#include "hawser_limits.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "replica/validate.h"
#include "wire.pb-c.h"

#define NOW_MS 1767225600000LL /* the validator's clock: fixed, so a crash replays */

static const ProtobufCMessageDescriptor *const messages[HW_FRAME_TYPE_MAX + 1] = {
	[HW_FRAME_HELLO] = &hawser__wire__v1__hello__descriptor,
	[HW_FRAME_ACK] = &hawser__wire__v1__ack__descriptor,
	[HW_FRAME_HEARTBEAT] = &hawser__wire__v1__heartbeat__descriptor,
	[HW_FRAME_SNAPSHOT_BEGIN] = &hawser__wire__v1__snapshot_begin__descriptor,
	[HW_FRAME_SNAPSHOT_END] = &hawser__wire__v1__snapshot_end__descriptor,
	[HW_FRAME_SUBMIT_REPLY] = &hawser__wire__v1__submit_reply__descriptor,
	[HW_FRAME_STATUS_REQUEST] = &hawser__wire__v1__status_request__descriptor,
	[HW_FRAME_STATUS] = &hawser__wire__v1__status__descriptor,
	[HW_FRAME_ERROR] = &hawser__wire__v1__error__descriptor,
	[HW_FRAME_LEASE_REQUEST] = &hawser__wire__v1__lease_request__descriptor,
	[HW_FRAME_LEASE_ACK] = &hawser__wire__v1__lease_ack__descriptor,
	[HW_FRAME_VOTE_REQUEST] = &hawser__wire__v1__vote_request__descriptor,
	[HW_FRAME_VOTE] = &hawser__wire__v1__vote__descriptor,
	[HW_FRAME_TIMEOUT_NOW] = &hawser__wire__v1__timeout_now__descriptor,
	[HW_FRAME_REJOIN] = &hawser__wire__v1__rejoin__descriptor,
	[HW_FRAME_SWITCHOVER_REQUEST] = &hawser__wire__v1__switchover_request__descriptor,
	[HW_FRAME_SWITCHOVER_REPLY] = &hawser__wire__v1__switchover_reply__descriptor,
	[HW_FRAME_PROMOTE_REQUEST] = &hawser__wire__v1__promote_request__descriptor,
	[HW_FRAME_PROMOTE_REPLY] = &hawser__wire__v1__promote_reply__descriptor,
	[HW_FRAME_LOSS_QUERY] = &hawser__wire__v1__loss_query__descriptor,
	[HW_FRAME_LOSS_RANGE] = &hawser__wire__v1__loss_range__descriptor,
	[HW_FRAME_OPERATOR_EVENT] = &hawser__wire__v1__operator_event__descriptor,
	[HW_FRAME_DRILL_FAULT] = &hawser__wire__v1__drill_fault__descriptor,
	[HW_FRAME_DIGEST_QUERY] = &hawser__wire__v1__digest_query__descriptor,
	[HW_FRAME_DIGEST_REPLY] = &hawser__wire__v1__digest_reply__descriptor,
};

/* Frame types whose body is not a wire.proto message: checked apart, or empty. */
static bool raw_type(unsigned t)
{
	return t == HW_FRAME_APPEND || t == HW_FRAME_SUBMIT || t == HW_FRAME_SNAPSHOT_CHUNK ||
	       t == HW_FRAME_OPERATOR_EVENT_REPLY || t == HW_FRAME_DRILL_FAULT_REPLY;
}

static struct hw_arena arena;
static uint8_t entry_buf[HW_ENTRY_BYTES_MAX];

/* A record as the store takes it; on success it must be canonical and validate to 0 or a
 * refusal code. */
static void take_record(const uint8_t *p, size_t len)
{
	Tos__V1__Record *rec;
	struct hw_reject rej;
	hw_arena_reset(&arena);
	int rc = hw_record_decode(p, len, &arena, &rec, &rej);
	FUZZ_CHECK(rc == 0 || hw_is_reject(rc) || rc == HW_ENOMEM);
	if (rc != 0)
		return;
	FUZZ_CHECK(tos__v1__record__get_packed_size(rec) == len);
	rc = hw_validate_record(rec, NOW_MS, &rej);
	FUZZ_CHECK(rc == 0 || (hw_is_reject(rc) && rej.code == rc));
}

/* The standby's walk over an APPEND's entries (node_standby.c check_entries), chained
 * from the first entry rather than from a log. */
static int take_entries(const uint8_t *p, size_t len, uint32_t count)
{
	struct hw_entry prev = {0};
	size_t off = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct hw_entry e;
		size_t el = len - off < HW_ENTRY_HEADER_BYTES
				    ? 0
				    : HW_ENTRY_HEADER_BYTES +
					      (p[off + 4] | (size_t)p[off + 5] << 8 |
					       (size_t)p[off + 6] << 16 | (size_t)p[off + 7] << 24);
		if (el == 0 || el > len - off)
			return HW_ECORRUPT;
		int rc = hw_entry_decode(p + off, el, &e);
		FUZZ_CHECK(rc == 0 || rc == HW_ECORRUPT);
		if (rc != 0)
			return rc;
		FUZZ_CHECK(e.record == p + off + HW_ENTRY_HEADER_BYTES &&
			   e.record_len == el - HW_ENTRY_HEADER_BYTES);
		struct hw_entry again;
		size_t n = hw_entry_encode(entry_buf, e.lsn, e.epoch, e.time_ms, e.prev_hash,
					   e.record, e.record_len, &again);
		FUZZ_CHECK(n == el && memcmp(entry_buf, p + off, el) == 0);
		if (i > 0 && e.lsn != prev.lsn + 1)
			return HW_ELSN;
		if (i > 0 && memcmp(e.prev_hash, prev.hash, HW_HASH_BYTES) != 0)
			return HW_ECHAIN;
		take_record(e.record, e.record_len);
		prev = e;
		off += el;
	}
	return off == len ? 0 : HW_EFRAME;
}

static int take_append(const struct hw_frame *f)
{
	struct hw_append_hdr ah;
	if (hw_append_hdr_get(f->body, f->len, &ah) != 0 || ah.count == 0 ||
	    ah.count > HW_BATCH_RECORDS_MAX)
		return HW_EFRAME;
	return take_entries(f->body + HW_APPEND_HEADER_BYTES, f->len - HW_APPEND_HEADER_BYTES,
			    ah.count);
}

static int take_submit(const struct hw_frame *f)
{
	struct hw_submit_hdr h;
	if (hw_submit_hdr_get(f->body, f->len, &h) != 0)
		return HW_EFRAME;
	take_record(f->body + HW_SUBMIT_HEADER_BYTES, f->len - HW_SUBMIT_HEADER_BYTES);
	return 0;
}

/* Unpack as the node does; a message that unpacks must pack and come back the same. */
static int take_message(const ProtobufCMessageDescriptor *d, const struct hw_frame *f)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	FUZZ_CHECK(protobuf_c_message_check(m));
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *a = malloc(n + 1), *b = malloc(n + 1);
	FUZZ_CHECK(a != NULL && b != NULL);
	FUZZ_CHECK(protobuf_c_message_pack(m, a) == n);
	ProtobufCMessage *m2 = protobuf_c_message_unpack(d, NULL, n, a);
	FUZZ_CHECK(m2 != NULL);
	FUZZ_CHECK(protobuf_c_message_get_packed_size(m2) == n);
	FUZZ_CHECK(protobuf_c_message_pack(m2, b) == n && memcmp(a, b, n) == 0);
	protobuf_c_message_free_unpacked(m2, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	free(b);
	free(a);
	return 0;
}

static int take_frame(const struct hw_frame *f)
{
	switch (f->type) {
	case HW_FRAME_APPEND:
		return take_append(f);
	case HW_FRAME_SUBMIT:
		return take_submit(f);
	case HW_FRAME_SNAPSHOT_CHUNK:
		return 0; /* raw bytes of a store copy: checked by hash at SNAPSHOT_END */
	case HW_FRAME_OPERATOR_EVENT_REPLY:
	case HW_FRAME_DRILL_FAULT_REPLY:
		return f->len == 0 ? 0 : HW_EPROTOCOL; /* an empty acknowledgement */
	default:
		return messages[f->type] ? take_message(messages[f->type], f) : HW_EPROTOCOL;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A frame type added without a decoder here would go unfuzzed: refuse to start. */
	for (unsigned t = 1; t <= HW_FRAME_TYPE_MAX; t++)
		FUZZ_CHECK(raw_type(t) || messages[t] != NULL);
	hw_arena_init(&arena, 0, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used = 0;
	while (used < size) {
		struct hw_frame f;
		long got = hw_frame_parse(data + used, size - used, &f);
		FUZZ_CHECK(fuzz_code_ok(got) || got > 0);
		if (got <= 0)
			break;
		int rc = take_frame(&f);
		FUZZ_CHECK(fuzz_code_ok(rc));
		used += (size_t)got;
	}
	return 0;
}
