/* test_record.c: decoding submitted bytes (replica/record.h): size limit, malformed and
 * truncated input, and the canonical-encoding rule (unknown fields, defaults written,
 * fields out of order, padded varints), decoding into a bounded arena. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/rng.h"
#include "hawser_error.h"
#include "hawser_limits.h"
#include "replica/record.h"
#include "replica/validate.h"

#define NOW_MS    1700000000000LL
#define BUF_BYTES (HW_RECORD_BYTES_MAX + 64)

struct fx {
	struct hw_arena arena;
	struct hw_reject rej;
	uint8_t buf[BUF_BYTES];   /* bytes under test */
	uint8_t again[BUF_BYTES]; /* re-encoding of what was decoded */
	uint8_t part[BUF_BYTES];  /* pieces spliced into buf */
	uint8_t value[HW_RECORD_BYTES_MAX];
};

/* A valid unit event record with nested messages, strings and repeated fields. */
struct sample {
	Tos__V1__Record rec;
	Tos__V1__Source src;
	Tos__V1__UnitEvent ue;
	Tos__V1__Equipment eq;
	Tos__V1__Location from, to;
	Tos__V1__VesselCell cell;
	Tos__V1__YardPos slot;
	Tos__V1__Refs refs;
	char *bookings[2];
	uint8_t id[16];
};

static void sample_envelope(struct sample *s)
{
	tos__v1__record__init(&s->rec);
	tos__v1__source__init(&s->src);
	for (size_t i = 0; i < sizeof s->id; i++)
		s->id[i] = (uint8_t)(0x10 + i);
	s->rec.record_id.data = s->id;
	s->rec.record_id.len = sizeof s->id;
	s->rec.tenant_id = "nuts";
	s->rec.facility_id = "JPNGO-TCB";
	s->rec.event_time_ms = NOW_MS - 60000;
	s->rec.record_time_ms = NOW_MS - 1000;
	s->rec.tz_offset_min = 540;
	s->src.system = "TOS";
	s->src.device_id = "QC07";
	s->rec.source = &s->src;
	s->rec.schema_version = 1;
}

static void sample_init(struct sample *s)
{
	sample_envelope(s);
	tos__v1__unit_event__init(&s->ue);
	tos__v1__equipment__init(&s->eq);
	tos__v1__location__init(&s->from);
	tos__v1__location__init(&s->to);
	tos__v1__vessel_cell__init(&s->cell);
	tos__v1__yard_pos__init(&s->slot);
	tos__v1__refs__init(&s->refs);
	s->eq.container_id = "TRLU8132090";
	s->eq.iso_size_type = "45G1";
	s->eq.full_empty = TOS__V1__FULL_EMPTY__FE_FULL;
	s->eq.tare_kg = 3900;
	s->cell.vessel_visit_id = "MSCIRINA-023E";
	s->cell.bay = 14;
	s->cell.row = 2;
	s->cell.tier = 82;
	s->from.where_case = TOS__V1__LOCATION__WHERE_VESSEL;
	s->from.vessel = &s->cell;
	s->slot.block = "A1";
	s->slot.bay = 14;
	s->slot.row = 3;
	s->slot.tier = 2;
	s->to.where_case = TOS__V1__LOCATION__WHERE_YARD;
	s->to.yard = &s->slot;
	s->bookings[0] = "BKG1";
	s->bookings[1] = "BKG2";
	s->refs.booking_nos = s->bookings;
	s->refs.n_booking_nos = 2;
	s->ue.type = TOS__V1__UNIT_EVENT_TYPE__DISCHARGE;
	s->ue.equipment = &s->eq;
	s->ue.from = &s->from;
	s->ue.to = &s->to;
	s->ue.refs = &s->refs;
	s->ue.gross_kg = 28000;
	s->ue.pol = "CNSHA";
	s->ue.pod = "JPNGO";
	s->rec.payload_case = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT;
	s->rec.unit_event = &s->ue;
}

static size_t encode(const Tos__V1__Record *rec, uint8_t *buf)
{
	size_t n = hw_record_encode(rec, buf, BUF_BYTES);
	assert_true(n > 0);
	return n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	hw_arena_init(&f->arena, 0, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hw_arena_fini(&f->arena);
	free(f);
	return 0;
}

static int decode(struct fx *f, const uint8_t *data, size_t len, Tos__V1__Record **out)
{
	hw_arena_reset(&f->arena);
	memset(&f->rej, 0, sizeof f->rej);
	*out = (Tos__V1__Record *)1; /* must be cleared on failure */
	int rc = hw_record_decode(data, len, &f->arena, out, &f->rej);
	if (rc != 0) {
		assert_null(*out);
		assert_int_equal(f->rej.code, rc);
		assert_true(f->rej.rule[0] != '\0');
	}
	return rc;
}

/* Refused, or accepted only as exactly the canonical bytes of what was decoded: a
 * decoder must never give success with a different meaning. */
static void assert_refused_or_same(struct fx *f, const uint8_t *data, size_t len)
{
	Tos__V1__Record *rec;
	int rc = decode(f, data, len, &rec);
	if (rc == 0) {
		size_t n = hw_record_encode(rec, f->again, BUF_BYTES);
		assert_int_equal(n, len);
		assert_memory_equal(f->again, data, len);
	} else {
		assert_true(rc == HW_EDECODE || rc == HW_ENONCANONICAL);
	}
}

/* A packed valid record decodes to the same fields and re-encodes to the same bytes. */
static void test_decode_valid(void **state)
{
	struct fx *f = *state;
	struct sample s;
	sample_init(&s);
	size_t len = encode(&s.rec, f->buf);
	Tos__V1__Record *rec;
	assert_int_equal(decode(f, f->buf, len, &rec), 0);
	assert_string_equal(hw_record_kind(rec), "unit_event");
	assert_int_equal(rec->schema_version, 1);
	assert_memory_equal(rec->record_id.data, s.id, 16);
	assert_string_equal(rec->unit_event->equipment->container_id, "TRLU8132090");
	assert_int_equal(rec->unit_event->from->vessel->tier, 82);
	assert_int_equal(rec->unit_event->refs->n_booking_nos, 2);
	assert_string_equal(rec->unit_event->refs->booking_nos[1], "BKG2");
	assert_int_equal(hw_validate_record(rec, NOW_MS, &f->rej), 0);
	assert_int_equal(hw_record_encode(rec, f->again, BUF_BYTES), len);
	assert_memory_equal(f->again, f->buf, len);
	/* Decoded data lives in the arena, not the input buffer. */
	memset(f->buf, 0, len);
	assert_string_equal(rec->tenant_id, "nuts");
}

/* hw_record_encode refuses a buffer one byte short and fills one of the exact size. */
static void test_encode_cap(void **state)
{
	struct fx *f = *state;
	struct sample s;
	sample_init(&s);
	size_t len = tos__v1__record__get_packed_size(&s.rec);
	assert_int_equal(hw_record_encode(&s.rec, f->buf, len - 1), 0);
	assert_int_equal(hw_record_encode(&s.rec, f->buf, len), len);
}

/* A record of 64 KiB decodes; one byte more is HW_ETOOBIG before any parsing. */
static void test_too_big(void **state)
{
	struct fx *f = *state;
	struct sample s;
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	sample_envelope(&s);
	kv.key = "big";
	kv.value.data = f->value;
	s.rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	s.rec.kv_put = &kv;
	/* Grow the value until the record is exactly HW_RECORD_BYTES_MAX. */
	kv.value.len = HW_RECORD_BYTES_MAX - 200;
	while (tos__v1__record__get_packed_size(&s.rec) < HW_RECORD_BYTES_MAX)
		kv.value.len++;
	size_t len = encode(&s.rec, f->buf);
	assert_int_equal(len, HW_RECORD_BYTES_MAX);
	Tos__V1__Record *rec;
	assert_int_equal(decode(f, f->buf, len, &rec), 0);
	assert_int_equal(rec->kv_put->value.len, kv.value.len);

	f->buf[len] = 0; /* garbage past the record: refused on size alone */
	assert_int_equal(decode(f, f->buf, len + 1, &rec), HW_ETOOBIG);
	assert_string_equal(f->rej.field, "record");
}

/* Every prefix of a valid record is refused or is itself canonical (the empty prefix
 * is the empty record), and most are refused. */
static void test_truncated_prefixes(void **state)
{
	struct fx *f = *state;
	struct sample s;
	sample_init(&s);
	size_t len = encode(&s.rec, f->buf);
	size_t refused = 0;
	Tos__V1__Record *rec;
	for (size_t n = 0; n < len; n++) {
		assert_refused_or_same(f, f->buf, n);
		if (decode(f, f->buf, n, &rec) != 0)
			refused++;
	}
	/* Prefixes ending exactly between top-level fields are canonical records. */
	assert_true(refused > len / 2);
	assert_int_equal(decode(f, f->buf, 0, &rec), 0);
	assert_int_equal(rec->payload_case, TOS__V1__RECORD__PAYLOAD__NOT_SET);
}

/* Random bytes and random corruptions of a valid record are refused as undecodable or
 * non-canonical, never accepted with a different meaning. Seeded: HW_TEST_SEED. */
static void test_random_garbage(void **state)
{
	struct fx *f = *state;
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	const char *env = getenv("HW_TEST_SEED");
	if (env != NULL)
		seed = strtoull(env, NULL, 0);
	printf("test_random_garbage seed=0x%" PRIx64 "\n", seed);
	uint64_t rng = seed;

	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(hw_splitmix64(&rng) % 300);
		for (size_t k = 0; k < n; k++)
			f->part[k] = (uint8_t)hw_splitmix64(&rng);
		assert_refused_or_same(f, f->part, n);
	}
	struct sample s;
	sample_init(&s);
	size_t len = encode(&s.rec, f->buf);
	for (int i = 0; i < 2000; i++) {
		memcpy(f->part, f->buf, len);
		for (int flips = 1 + (int)(hw_splitmix64(&rng) % 3); flips > 0; flips--)
			f->part[hw_splitmix64(&rng) % len] ^= (uint8_t)(1u << (hw_splitmix64(&rng) % 8));
		assert_refused_or_same(f, f->part, len);
	}
}

/* Builds buf = a ++ mid ++ b; returns its length. */
static size_t splice(uint8_t *buf, const uint8_t *a, size_t alen, const uint8_t *mid, size_t mlen,
		     const uint8_t *b, size_t blen)
{
	if (alen != 0)
		memcpy(buf, a, alen);
	if (mlen != 0)
		memcpy(buf + alen, mid, mlen);
	if (blen != 0)
		memcpy(buf + alen + mlen, b, blen);
	return alen + mlen + blen;
}

/* An unknown field (field 99, varint) appended to a valid record is HW_ENONCANONICAL. */
static void test_unknown_field(void **state)
{
	struct fx *f = *state;
	struct sample s;
	sample_init(&s);
	size_t len = encode(&s.rec, f->buf);
	static const uint8_t field99[] = {0x98, 0x06, 0x01}; /* tag (99 << 3 | 0), value 1 */
	memcpy(f->buf + len, field99, sizeof field99);
	Tos__V1__Record *rec;
	assert_int_equal(decode(f, f->buf, len, &rec), 0);
	assert_int_equal(decode(f, f->buf, len + sizeof field99, &rec), HW_ENONCANONICAL);
	assert_string_equal(f->rej.field, "record");
}

/* An unknown field nested in a sub-message (a YardPos inside a oneof inside the
 * payload) is HW_ENONCANONICAL too: protobuf-c would re-emit it unchanged. */
static void test_unknown_field_nested(void **state)
{
	struct fx *f = *state;
	/* Record{20: UnitEvent{4: Location{1: YardPos{2: 13, 15: 1}}}} */
	static const uint8_t known[] = {0xA2, 0x01, 0x06, 0x22, 0x04, 0x0A, 0x02, 0x10, 0x0D};
	static const uint8_t nested[] = {0xA2, 0x01, 0x08, 0x22, 0x06, 0x0A,
					 0x04, 0x10, 0x0D, 0x78, 0x01};
	Tos__V1__Record *rec;
	assert_int_equal(decode(f, known, sizeof known, &rec), 0);
	assert_int_equal(rec->unit_event->to->yard->bay, 13);
	assert_int_equal(decode(f, nested, sizeof nested, &rec), HW_ENONCANONICAL);
	/* Unknown field in a repeated sub-message: UnitEvent.seals[0] {15: 1}. */
	static const uint8_t in_seal[] = {0xA2, 0x01, 0x04, 0x3A, 0x02, 0x78, 0x01};
	assert_int_equal(decode(f, in_seal, sizeof in_seal, &rec), HW_ENONCANONICAL);
}

/* Default values written explicitly (schema_version = 0, tz_offset_min = 0, an empty
 * string) are HW_ENONCANONICAL, though they decode to the same message. */
static void test_default_written(void **state)
{
	struct fx *f = *state;
	struct sample head, tail;
	Tos__V1__Record *rec;
	/* head: fields 1-7; tail: the payload (20); schema_version (8) left at 0. */
	sample_init(&head);
	head.rec.schema_version = 0;
	head.rec.payload_case = TOS__V1__RECORD__PAYLOAD__NOT_SET;
	sample_init(&tail);
	tail.rec = (Tos__V1__Record)TOS__V1__RECORD__INIT;
	tail.rec.payload_case = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT;
	tail.rec.unit_event = &tail.ue;
	uint8_t *a = f->part, *b = f->part + BUF_BYTES / 2;
	size_t alen = encode(&head.rec, a), blen = encode(&tail.rec, b);

	size_t len = splice(f->buf, a, alen, NULL, 0, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), 0); /* the splice itself is canonical */
	static const uint8_t schema0[] = {0x40, 0x00};     /* field 8 varint 0 */
	len = splice(f->buf, a, alen, schema0, sizeof schema0, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), HW_ENONCANONICAL);

	/* tz_offset_min (field 6) = 0 written before source (field 7). */
	head.rec.tz_offset_min = 0;
	head.rec.source = NULL;
	alen = encode(&head.rec, a);
	static const uint8_t src[] = {0x3A, 0x05, 0x0A, 0x03, 'T', 'O', 'S'};
	static const uint8_t tz0_src[] = {0x30, 0x00, 0x3A, 0x05, 0x0A, 0x03, 'T', 'O', 'S'};
	len = splice(f->buf, a, alen, src, sizeof src, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), 0);
	len = splice(f->buf, a, alen, tz0_src, sizeof tz0_src, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), HW_ENONCANONICAL);

	/* An empty string written as tag + length 0 (tenant_id, field 2). */
	static const uint8_t empty_tenant[] = {0x12, 0x00};
	len = splice(f->buf, empty_tenant, sizeof empty_tenant, NULL, 0, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), HW_ENONCANONICAL);
}

/* The same fields in another order, or a field repeated, are HW_ENONCANONICAL. */
static void test_fields_out_of_order(void **state)
{
	struct fx *f = *state;
	struct sample head, tail;
	Tos__V1__Record *rec;
	sample_init(&head);
	head.rec.payload_case = TOS__V1__RECORD__PAYLOAD__NOT_SET;
	sample_init(&tail);
	tail.rec = (Tos__V1__Record)TOS__V1__RECORD__INIT;
	tail.rec.payload_case = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT;
	tail.rec.unit_event = &tail.ue;
	uint8_t *a = f->part, *b = f->part + BUF_BYTES / 2;
	size_t alen = encode(&head.rec, a), blen = encode(&tail.rec, b);

	size_t len = splice(f->buf, a, alen, NULL, 0, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), 0);
	assert_int_equal(hw_validate_record(rec, NOW_MS, &f->rej), 0);
	len = splice(f->buf, b, blen, NULL, 0, a, alen); /* payload first */
	assert_int_equal(decode(f, f->buf, len, &rec), HW_ENONCANONICAL);
	assert_null(rec);

	/* schema_version (8) written twice: the last wins, the bytes are not canonical. */
	static const uint8_t schema1[] = {0x40, 0x01};
	len = splice(f->buf, a, alen, schema1, sizeof schema1, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), HW_ENONCANONICAL);

	/* Two payloads of the oneof: protobuf-c keeps the last one. */
	len = splice(f->buf, a, alen, b, blen, b, blen);
	assert_int_equal(decode(f, f->buf, len, &rec), HW_ENONCANONICAL);
}

/* A varint padded with a continuation byte (schema_version 1 as 0x81 0x00) decodes to
 * the same value but is HW_ENONCANONICAL. */
static void test_non_minimal_varint(void **state)
{
	struct fx *f = *state;
	struct sample head;
	Tos__V1__Record *rec;
	sample_init(&head);
	head.rec.schema_version = 0;
	head.rec.payload_case = TOS__V1__RECORD__PAYLOAD__NOT_SET;
	size_t alen = encode(&head.rec, f->part);
	static const uint8_t minimal[] = {0x40, 0x01};
	static const uint8_t padded[] = {0x40, 0x81, 0x00};
	size_t len = splice(f->buf, f->part, alen, minimal, sizeof minimal, NULL, 0);
	assert_int_equal(decode(f, f->buf, len, &rec), 0);
	assert_int_equal(rec->schema_version, 1);
	len = splice(f->buf, f->part, alen, padded, sizeof padded, NULL, 0);
	assert_int_equal(decode(f, f->buf, len, &rec), HW_ENONCANONICAL);
}

/* A string with an embedded NUL cannot round-trip through C strings: refused. */
static void test_embedded_nul(void **state)
{
	struct fx *f = *state;
	static const uint8_t tenant[] = {0x12, 0x03, 'a', 0x00, 'b'};
	Tos__V1__Record *rec;
	int rc = decode(f, tenant, sizeof tenant, &rec);
	assert_true(rc == HW_EDECODE || rc == HW_ENONCANONICAL);
}

/* Structurally broken bytes are HW_EDECODE: a bad wire type, a length past the end. */
static void test_malformed(void **state)
{
	struct fx *f = *state;
	static const uint8_t bad_wire[] = {0x0F, 0x00};      /* field 1, wire type 7 */
	static const uint8_t long_len[] = {0x12, 0x7F, 'a'}; /* 127 bytes promised, 1 given */
	static const uint8_t tag0[] = {0x00, 0x00};          /* field number 0 */
	Tos__V1__Record *rec;
	assert_int_equal(decode(f, bad_wire, sizeof bad_wire, &rec), HW_EDECODE);
	assert_int_equal(decode(f, long_len, sizeof long_len, &rec), HW_EDECODE);
	assert_int_equal(decode(f, tag0, sizeof tag0, &rec), HW_EDECODE);
	assert_int_equal(decode(f, NULL, 0, &rec), 0);
}

/* An enum number the schema does not know decodes (proto3 enums are open, protobuf-c
 * keeps the number and re-encodes it) and is left to the validator's HW_ERANGE. */
static void test_unknown_enum_kept(void **state)
{
	struct fx *f = *state;
	static const uint8_t type99[] = {0xA2, 0x01, 0x02, 0x08, 0x63}; /* UnitEvent{type: 99} */
	Tos__V1__Record *rec;
	assert_int_equal(decode(f, type99, sizeof type99, &rec), 0);
	assert_int_equal(rec->unit_event->type, 99);
}

/* Sweeping the arena budget upward: every budget too small is HW_ENOMEM, never a crash
 * or a half-decoded record, until the record fits. */
static void test_arena_budget(void **state)
{
	struct fx *f = *state;
	struct sample s;
	sample_init(&s);
	size_t len = encode(&s.rec, f->buf);
	size_t failures = 0;
	for (size_t budget = 16;; budget += 16) {
		struct hw_arena small;
		hw_arena_init(&small, 256, budget);
		Tos__V1__Record *rec = (Tos__V1__Record *)1;
		struct hw_reject rej = {0};
		int rc = hw_record_decode(f->buf, len, &small, &rec, &rej);
		hw_arena_fini(&small);
		if (rc == 0)
			break;
		assert_int_equal(rc, HW_ENOMEM);
		assert_int_equal(rej.code, HW_ENOMEM);
		assert_null(rec);
		failures++;
		assert_true(budget < 64 * 1024);
	}
	assert_true(failures > 5);
}

/* Each payload case has its name; an unset payload is "none". */
static void test_record_kind(void **state)
{
	(void)state;
	static const struct {
		Tos__V1__Record__PayloadCase c;
		const char *name;
	} kinds[] = {
		{TOS__V1__RECORD__PAYLOAD__NOT_SET, "none"},
		{TOS__V1__RECORD__PAYLOAD_UNIT_EVENT, "unit_event"},
		{TOS__V1__RECORD__PAYLOAD_HOLD, "hold"},
		{TOS__V1__RECORD__PAYLOAD_CUSTOMS, "customs"},
		{TOS__V1__RECORD__PAYLOAD_REEFER, "reefer"},
		{TOS__V1__RECORD__PAYLOAD_WI, "wi"},
		{TOS__V1__RECORD__PAYLOAD_GATE, "gate"},
		{TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT, "vessel_visit"},
		{TOS__V1__RECORD__PAYLOAD_VGM, "vgm"},
		{TOS__V1__RECORD__PAYLOAD_EDI, "edi"},
		{TOS__V1__RECORD__PAYLOAD_AUDIT, "audit"},
		{TOS__V1__RECORD__PAYLOAD_KV_PUT, "kv_put"},
		{TOS__V1__RECORD__PAYLOAD_KV_DELETE, "kv_delete"},
	};
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		rec.payload_case = kinds[i].c;
		assert_string_equal(hw_record_kind(&rec), kinds[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_decode_valid),         T(test_encode_cap),      T(test_too_big),
		T(test_truncated_prefixes),   T(test_random_garbage),  T(test_unknown_field),
		T(test_unknown_field_nested), T(test_default_written), T(test_fields_out_of_order),
		T(test_non_minimal_varint),   T(test_embedded_nul),    T(test_malformed),
		T(test_unknown_enum_kept),    T(test_arena_budget),    T(test_record_kind),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
