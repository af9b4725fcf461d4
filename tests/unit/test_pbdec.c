/* test_pbdec.c: the canonical single-pass decoder (replica/pbdec.h), differential against
 * protobuf-c 1.4.1 as the oracle (unpack, no unknown field anywhere, re-pack equal to the
 * input: what hw_record_decode checked before pbdec). Inputs: every workload profile's
 * records, random canonical messages of tos.proto, wire.proto and a test schema holding
 * every scalar type, packed and unpacked repeated fields, scalar oneofs and recursion,
 * and structured mutations of all of them; then hand-made refusals, one per rule.
 * Seeded: HW_TEST_SEED replays a run. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/rng.h"
#include "bench/workload.h"
#include "hawser_error.h"
#include "hawser_limits.h"
#include "replica/pbdec.h"
#include "replica/record.h"
#include "tests/unit/pb_oracle.h"
#include "tos.pb-c.h"
#include "wire.pb-c.h"

#define BUF_BYTES (2 * HW_RECORD_BYTES_MAX)
#define END_MS    1700000000000LL
#define TOKS_MAX  512
#define GEN_DEPTH 3 /* random messages nest at most this deep */

/* Mutation kinds, counted so the test proves each one produced refusals. */
enum {
	M_FLIP,
	M_INSERT,
	M_DELETE,
	M_TRUNCATE,
	M_PAD,
	M_DUP,
	M_SWAP,
	M_DEFAULT,
	M_UNKNOWN,
	M_OVERSIZE,
	M_WIRETYPE,
	M_KINDS,
	M_DESCEND = M_KINDS /* recurse into a sub-message, then one of the above */
};

struct fx {
	struct hw_arena arena;
	uint64_t rng;
	uint64_t seed;
	int kind;                /* last mutation kind applied */
	size_t refused[M_KINDS]; /* by mutation kind */
	size_t accepted_mutants;
	size_t by_code[3]; /* 0, HW_EDECODE, HW_ENONCANONICAL */
	uint8_t buf[BUF_BYTES];
	uint8_t mut[BUF_BYTES];
	uint8_t again[BUF_BYTES];
};

static size_t rnd_below(struct fx *f, size_t n)
{
	return n == 0 ? 0 : (size_t)(hw_splitmix64(&f->rng) % n);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	hw_arena_init(&f->arena, 0, 0);
	f->seed = 0x243F6A8885A308D3ull;
	const char *env = getenv("HW_TEST_SEED");
	if (env != NULL)
		f->seed = strtoull(env, NULL, 0);
	f->rng = f->seed;
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

/* ---------------------------------------------------------------- a schema with every type */

struct at_msg {
	ProtobufCMessage base;
	int32_t i32;
	int64_t i64;
	uint32_t u32;
	uint64_t u64;
	int32_t s32;
	int64_t s64;
	uint32_t fx32;
	uint64_t fx64;
	int32_t sfx32;
	int64_t sfx64;
	float fl;
	double db;
	protobuf_c_boolean b;
	int en;
	char *str;
	ProtobufCBinaryData by;
	struct at_msg *child;
	size_t n_r_i32;
	int32_t *r_i32;
	size_t n_r_s64;
	int64_t *r_s64;
	size_t n_r_fx32;
	uint32_t *r_fx32;
	size_t n_r_db;
	double *r_db;
	size_t n_r_b;
	protobuf_c_boolean *r_b;
	size_t n_r_u64;
	uint64_t *r_u64;
	size_t n_r_str;
	char **r_str;
	size_t n_r_by;
	ProtobufCBinaryData *r_by;
	size_t n_r_child;
	struct at_msg **r_child;
	uint32_t which;
	union {
		uint32_t o_u32;
		char *o_str;
		struct at_msg *o_child;
		protobuf_c_boolean o_b;
		ProtobufCBinaryData o_by;
	};
};

extern const ProtobufCMessageDescriptor at_desc;

static void at_init(ProtobufCMessage *m)
{
	struct at_msg *a = (struct at_msg *)(void *)m;
	memset(a, 0, sizeof *a);
	a->base.descriptor = &at_desc;
	a->str = (char *)protobuf_c_empty_string;
}

/* num is two digits (01 ... 31): 1##num - 100 is the field number, without octal. */
#define AT_F(num, nm, lab, ty, q, desc, def, fl)                                                   \
	{                                                                                          \
		.name = "f" #num "_" #nm, .id = 1##num - 100, .label = PROTOBUF_C_LABEL_##lab,     \
		.type = PROTOBUF_C_TYPE_##ty, .quantifier_offset = q,                              \
		.offset = offsetof(struct at_msg, nm), .descriptor = desc, .default_value = def,   \
		.flags = fl,                                                                       \
	}
#define AT_PLAIN(num, nm, ty) AT_F(num, nm, NONE, ty, 0, NULL, NULL, 0)
#define AT_REP(num, nm, ty, fl)                                                                    \
	AT_F(num, nm, REPEATED, ty, offsetof(struct at_msg, n_##nm), NULL, NULL, fl)
#define AT_ONEOF(num, nm, ty, desc)                                                                \
	AT_F(num, nm, NONE, ty, offsetof(struct at_msg, which), desc, NULL,                        \
	     PROTOBUF_C_FIELD_FLAG_ONEOF)
#define PACKED PROTOBUF_C_FIELD_FLAG_PACKED

static const ProtobufCFieldDescriptor at_fields[] = {
	AT_PLAIN(01, i32, INT32),
	AT_PLAIN(02, i64, INT64),
	AT_PLAIN(03, u32, UINT32),
	AT_PLAIN(04, u64, UINT64),
	AT_PLAIN(05, s32, SINT32),
	AT_PLAIN(06, s64, SINT64),
	AT_PLAIN(07, fx32, FIXED32),
	AT_PLAIN(08, fx64, FIXED64),
	AT_PLAIN(09, sfx32, SFIXED32),
	AT_PLAIN(10, sfx64, SFIXED64),
	AT_PLAIN(11, fl, FLOAT),
	AT_PLAIN(12, db, DOUBLE),
	AT_PLAIN(13, b, BOOL),
	AT_PLAIN(14, en, ENUM),
	AT_F(15, str, NONE, STRING, 0, NULL, &protobuf_c_empty_string, 0),
	AT_PLAIN(16, by, BYTES),
	AT_F(17, child, NONE, MESSAGE, 0, &at_desc, NULL, 0),
	AT_REP(18, r_i32, INT32, PACKED),
	AT_REP(19, r_s64, SINT64, PACKED),
	AT_REP(20, r_fx32, FIXED32, PACKED),
	AT_REP(21, r_db, DOUBLE, PACKED),
	AT_REP(22, r_b, BOOL, PACKED),
	AT_REP(23, r_u64, UINT64, 0), /* proto2 style: one tag per element */
	AT_REP(24, r_str, STRING, 0),
	AT_REP(25, r_by, BYTES, 0),
	AT_F(26, r_child, REPEATED, MESSAGE, offsetof(struct at_msg, n_r_child), &at_desc, NULL, 0),
	AT_ONEOF(27, o_u32, UINT32, NULL),
	AT_ONEOF(28, o_str, STRING, NULL),
	AT_ONEOF(29, o_child, MESSAGE, &at_desc),
	AT_ONEOF(30, o_b, BOOL, NULL),
	AT_ONEOF(31, o_by, BYTES, NULL),
};
#define AT_N (sizeof at_fields / sizeof at_fields[0])

/* Names start with the number, so name order is number order. */
static const unsigned at_by_name[AT_N] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
					  11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
					  22, 23, 24, 25, 26, 27, 28, 29, 30};
static const ProtobufCIntRange at_ranges[] = {{1, 0}, {(int)AT_N + 1, (int)AT_N}};

const ProtobufCMessageDescriptor at_desc = {
	.magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
	.name = "test.AllTypes",
	.short_name = "AllTypes",
	.c_name = "AllTypes",
	.package_name = "test",
	.sizeof_message = sizeof(struct at_msg),
	.n_fields = AT_N,
	.fields = at_fields,
	.fields_sorted_by_name = at_by_name,
	.n_field_ranges = 1,
	.field_ranges = at_ranges,
	.message_init = at_init,
};

/* ---------------------------------------------------------------- comparing with the oracle */

static size_t elt_bytes(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT64:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static const void *member(const ProtobufCMessage *m, size_t offset)
{
	return (const char *)m + offset;
}

static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

static bool value_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b)
{
	const ProtobufCBinaryData *x = a, *y = b;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return strcmp(*(char *const *)a, *(char *const *)b) == 0;
	case PROTOBUF_C_TYPE_BYTES:
		return x->len == y->len && (x->data == NULL) == (y->data == NULL) &&
		       (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
	case PROTOBUF_C_TYPE_MESSAGE:
		return msg_equal(*(ProtobufCMessage *const *)a, *(ProtobufCMessage *const *)b);
	default:
		return memcmp(a, b, elt_bytes(f->type)) == 0;
	}
}

/* The same C struct, field by field (the active oneof member only). */
static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->descriptor != b->descriptor || a->n_unknown_fields != 0 || b->n_unknown_fields != 0)
		return false;
	for (unsigned i = 0; i < a->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &a->descriptor->fields[i];
		const void *va = member(a, f->offset), *vb = member(b, f->offset);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)member(a, f->quantifier_offset);
			if (n != *(const size_t *)member(b, f->quantifier_offset))
				return false;
			const char *ea = *(const char *const *)va, *eb = *(const char *const *)vb;
			for (size_t k = 0; k < n; k++)
				if (!value_equal(f, ea + k * elt_bytes(f->type),
						 eb + k * elt_bytes(f->type)))
					return false;
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
			uint32_t ca = *(const uint32_t *)member(a, f->quantifier_offset);
			if (ca != *(const uint32_t *)member(b, f->quantifier_offset))
				return false;
			if (ca != f->id)
				continue;
		}
		if (!value_equal(f, va, vb))
			return false;
	}
	return true;
}

static void dump(const struct fx *f, const char *what, const uint8_t *data, size_t len)
{
	fprintf(stderr, "%s: seed=0x%" PRIx64 " kind=%d len=%zu:", what, f->seed, f->kind, len);
	for (size_t i = 0; i < len && i < 512; i++)
		fprintf(stderr, " %02x", data[i]);
	fprintf(stderr, "\n");
}

/* pbdec and the oracle agree on data: the same code, and on success the same struct,
 * which re-packs to exactly data. Returns the code. */
static int check(struct fx *f, const ProtobufCMessageDescriptor *desc, const uint8_t *data,
		 size_t len)
{
	ProtobufCMessage *mine = (ProtobufCMessage *)1, *ref;
	struct hw_reject rej;
	memset(&rej, 0, sizeof rej);
	hw_arena_reset(&f->arena);
	int rc = hw_pbdec_decode(desc, data, len, &f->arena, "msg", &mine, NULL, &rej);
	int orc = pb_oracle(desc, data, len, f->again, &ref);
	if (rc != orc) {
		dump(f, "disagree", data, len);
		fprintf(stderr, "pbdec %d (%s), protobuf-c %d\n", rc, rej.rule, orc);
	}
	assert_int_equal(rc, orc);
	if (rc == 0) {
		assert_true(msg_equal(mine, ref));
		assert_int_equal(protobuf_c_message_get_packed_size(mine), len);
		protobuf_c_message_pack(mine, f->again);
		assert_memory_equal(f->again, data, len);
	} else {
		assert_null(mine);
		assert_int_equal(rej.code, rc);
		assert_string_equal(rej.field, "msg");
		if (rc == HW_ENONCANONICAL)
			assert_non_null(strstr(rej.rule, "offset"));
	}
	if (ref != NULL)
		protobuf_c_message_free_unpacked(ref, NULL);
	f->by_code[rc == 0 ? 0 : rc == HW_EDECODE ? 1 : 2]++;
	return rc;
}

/* ---------------------------------------------------------------- random canonical messages */

struct wr {
	uint8_t *p;
	size_t n, cap;
	bool over;
};

static void put(struct wr *w, const void *b, size_t n)
{
	if (w->over || w->cap - w->n < n) {
		w->over = true;
		return;
	}
	if (n != 0)
		memcpy(w->p + w->n, b, n);
	w->n += n;
}

static void put_varint(struct wr *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;
	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		b[n++] |= v != 0 ? 0x80 : 0;
	} while (v != 0);
	put(w, b, n);
}

static unsigned wire_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return PROTOBUF_C_WIRE_TYPE_32BIT;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return PROTOBUF_C_WIRE_TYPE_64BIT;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	default:
		return PROTOBUF_C_WIRE_TYPE_VARINT;
	}
}

/* Writes a scalar's wire bits v (a varint, or 4 or 8 little-endian bytes). */
static void put_scalar(struct wr *w, ProtobufCType t, uint64_t v)
{
	uint8_t le[8];
	unsigned n = wire_of(t) == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
	if (wire_of(t) == PROTOBUF_C_WIRE_TYPE_VARINT) {
		put_varint(w, v);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	put(w, le, n);
}

static bool bits_zero(ProtobufCType t, uint64_t v)
{
	if (t == PROTOBUF_C_TYPE_FLOAT)
		return (v & 0x7fffffffu) == 0; /* 0.0 and -0.0 */
	if (t == PROTOBUF_C_TYPE_DOUBLE)
		return (v & 0x7fffffffffffffffull) == 0;
	return v == 0;
}

/* Random wire bits for a value of type t, in the form pack writes: small, large and
 * negative numbers, -0.0 and NaN; zero only when zero_ok. */
static uint64_t gen_scalar(struct fx *f, ProtobufCType t, bool zero_ok)
{
	static const uint32_t floats[] = {0, 0x80000000u, 0x3fc00000u, 0xc0100000u, 0x7fc00000u};
	static const uint64_t doubles[] = {0, 0x8000000000000000ull, 0x3ff8000000000000ull,
					   0x7ff8000000000000ull};
	for (;;) {
		uint64_t r = hw_splitmix64(&f->rng), v;
		size_t shape = rnd_below(f, 4);
		r = shape == 0   ? r & 0x7f
		    : shape == 1 ? r & 0xffff
		    : shape == 2 ? 0 - (r & 0xff)
				 : r;
		switch (t) {
		case PROTOBUF_C_TYPE_INT32:
		case PROTOBUF_C_TYPE_ENUM:
			v = (uint64_t)(int64_t)(int32_t)(uint32_t)r;
			break;
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_SINT32:
		case PROTOBUF_C_TYPE_FIXED32:
		case PROTOBUF_C_TYPE_SFIXED32:
			v = (uint32_t)r;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			v = r & 1;
			break;
		case PROTOBUF_C_TYPE_FLOAT:
			v = shape == 3 ? (uint32_t)r : floats[rnd_below(f, 5)];
			break;
		case PROTOBUF_C_TYPE_DOUBLE:
			v = shape == 3 ? r : doubles[rnd_below(f, 4)];
			break;
		default:
			v = r;
			break;
		}
		if (zero_ok || !bits_zero(t, v))
			return v;
	}
}

static void gen_message(struct fx *f, const ProtobufCMessageDescriptor *desc, unsigned depth,
			struct wr *w);

/* Writes one value of field fd (no tag): text of 0..12 bytes (strings never hold a NUL
 * and sometimes hold bytes that are not UTF-8), a sub-message, or a scalar. */
static void gen_value(struct fx *f, const ProtobufCFieldDescriptor *fd, bool zero_ok,
		      unsigned depth, struct wr *w)
{
	uint8_t tmp[16384];
	struct wr sub = {.p = tmp, .cap = sizeof tmp};
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		gen_message(f, fd->descriptor, depth + 1, &sub);
	} else if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_BYTES) {
		size_t n = (zero_ok ? 0 : 1) + rnd_below(f, 12);
		for (size_t i = 0; i < n; i++) {
			uint8_t c = (uint8_t)hw_splitmix64(&f->rng);
			if (fd->type == PROTOBUF_C_TYPE_STRING)
				c = rnd_below(f, 8) == 0 ? (uint8_t)(c | 0x80)
							 : (uint8_t)('A' + c % 26);
			put(&sub, &c, 1);
		}
	} else {
		put_scalar(w, fd->type, gen_scalar(f, fd->type, zero_ok));
		return;
	}
	put_varint(w, sub.n);
	put(w, tmp, sub.n);
	w->over |= sub.over;
}

/* Picks the member of fd's oneof to write: its field number, or 0 for none. */
static uint32_t oneof_pick(struct fx *f, const ProtobufCMessageDescriptor *desc,
			   const ProtobufCFieldDescriptor *fd)
{
	size_t members = 0;
	for (unsigned i = 0; i < desc->n_fields; i++)
		members += (desc->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
			   desc->fields[i].quantifier_offset == fd->quantifier_offset;
	size_t k = rnd_below(f, members + 1);
	for (unsigned i = 0; i < desc->n_fields; i++)
		if ((desc->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    desc->fields[i].quantifier_offset == fd->quantifier_offset && k-- == 0)
			return desc->fields[i].id;
	return 0;
}

/* A random message of type desc in canonical form: fields in number order, plain ones
 * with a value other than the default, repeated ones packed when the schema says so. */
static void gen_message(struct fx *f, const ProtobufCMessageDescriptor *desc, unsigned depth,
			struct wr *w)
{
	unsigned groups[8];
	uint32_t picks[8];
	size_t n_groups = 0;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];
		bool oneof = (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
		uint32_t chosen = 0;
		if (oneof) {
			size_t g = 0;
			while (g < n_groups && groups[g] != fd->quantifier_offset)
				g++;
			if (g == n_groups) {
				assert_true(n_groups < 8);
				groups[n_groups] = fd->quantifier_offset;
				picks[n_groups++] = oneof_pick(f, desc, fd);
			}
			chosen = picks[g];
		}
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE && depth >= GEN_DEPTH)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = rnd_below(f, 4);
			if (n != 0 && (fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED) != 0) {
				uint8_t tmp[128];
				struct wr el = {.p = tmp, .cap = sizeof tmp};
				for (size_t k = 0; k < n; k++)
					put_scalar(&el, fd->type, gen_scalar(f, fd->type, true));
				put_varint(w, (uint64_t)fd->id << 3 |
						      PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
				put_varint(w, el.n);
				put(w, tmp, el.n);
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				put_varint(w, (uint64_t)fd->id << 3 | wire_of(fd->type));
				gen_value(f, fd, true, depth, w);
			}
		} else if (oneof ? chosen == fd->id : rnd_below(f, 2) == 0) {
			put_varint(w, (uint64_t)fd->id << 3 | wire_of(fd->type));
			gen_value(f, fd, oneof, depth, w);
		}
	}
}

/* ---------------------------------------------------------------- mutations */

/* One field of a message: tag at, value val, content pay (length-prefixed), end. */
struct tok {
	size_t at, val, pay, end;
	uint64_t number;
	unsigned wt;
};

static size_t rd_varint(const uint8_t *p, size_t rem, uint64_t *v)
{
	*v = 0;
	for (size_t i = 0; i < rem && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80)
			return i + 1;
	}
	return 0;
}

/* Splits [p, p + len) into fields, stopping at the first it cannot frame. */
static size_t tokenize(const uint8_t *p, size_t len, struct tok *t)
{
	size_t n = 0, at = 0;
	while (at < len && n < TOKS_MAX) {
		uint64_t key, v = 0;
		size_t k = rd_varint(p + at, len - at, &key), m = 0;
		struct tok x = {.at = at, .val = at + k, .number = key >> 3, .wt = key & 7};
		if (k == 0)
			break;
		x.pay = x.val;
		if (x.wt == PROTOBUF_C_WIRE_TYPE_VARINT ||
		    x.wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			m = rd_varint(p + x.val, len - x.val, &v);
		if (x.wt == PROTOBUF_C_WIRE_TYPE_VARINT && m != 0)
			x.end = x.val + m;
		else if (x.wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && m != 0 && v <= len)
			x.pay = x.val + m, x.end = x.pay + (size_t)v;
		else if (x.wt == PROTOBUF_C_WIRE_TYPE_64BIT || x.wt == PROTOBUF_C_WIRE_TYPE_32BIT)
			x.end = x.val + (x.wt == PROTOBUF_C_WIRE_TYPE_64BIT ? 8 : 4);
		else
			break;
		if (x.end > len)
			break;
		t[n++] = x;
		at = x.end;
	}
	return n;
}

/* Where a field numbered number goes to keep number order. */
static size_t sorted_at(const struct tok *t, size_t n, uint64_t number, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].number > number)
			return t[i].at;
	return len;
}

/* Writes in with [a, b) replaced by the k bytes at mid. */
static void splice(struct wr *w, const uint8_t *in, size_t len, size_t a, size_t b,
		   const uint8_t *mid, size_t k)
{
	put(w, in, a);
	put(w, mid, k);
	put(w, in + b, len - b);
}

/* A field the schema does not have: past the last, in a gap, or far out. */
static void put_unknown(struct fx *f, const ProtobufCMessageDescriptor *desc, struct wr *w,
			uint64_t *number)
{
	static const unsigned wts[] = {0, 1, 2, 5};
	static const uint8_t zeros[8];
	uint32_t max = desc->fields[desc->n_fields - 1].id;
	*number = max + 1 + rnd_below(f, 5);
	if (rnd_below(f, 3) == 0)
		*number = (1u << 28) + rnd_below(f, 1000);
	for (uint32_t g = 1; g < max && rnd_below(f, 2) == 0; g++)
		if (protobuf_c_message_descriptor_get_field(desc, g) == NULL) {
			*number = g;
			break;
		}
	unsigned wt = wts[rnd_below(f, 4)];
	put_varint(w, *number << 3 | wt);
	if (wt == PROTOBUF_C_WIRE_TYPE_VARINT || wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
		put_varint(w, 1);
	put(w, zeros, wt == 1 ? 8 : wt == 5 ? 4 : wt == 2 ? 1 : 0);
}

/* A field written with its default: zero, empty, or an empty packed run. */
static void put_default(struct fx *f, const ProtobufCMessageDescriptor *desc, struct wr *w,
			uint64_t *number)
{
	static const uint8_t zeros[8];
	const ProtobufCFieldDescriptor *fd = &desc->fields[rnd_below(f, desc->n_fields)];
	unsigned wt = (fd->flags & PROTOBUF_C_FIELD_FLAG_PACKED) != 0
			      ? PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED
			      : wire_of(fd->type);
	*number = fd->id;
	put_varint(w, (uint64_t)fd->id << 3 | wt);
	put(w, zeros, wt == 1 ? 8 : wt == 5 ? 4 : 1);
}

/* Inserts a field made by make at its sorted place, or at a random field boundary. */
static void insert_field(struct fx *f, const ProtobufCMessageDescriptor *desc, const uint8_t *in,
			 size_t len, const struct tok *t, size_t n, struct wr *w,
			 void (*make)(struct fx *, const ProtobufCMessageDescriptor *, struct wr *,
				      uint64_t *))
{
	uint8_t field[32];
	uint64_t number;
	struct wr fw = {.p = field, .cap = sizeof field};
	make(f, desc, &fw, &number);
	size_t at = sorted_at(t, n, number, len);
	if (rnd_below(f, 4) == 0)
		at = n == 0 ? 0 : t[rnd_below(f, n)].at;
	splice(w, in, len, at, at, field, fw.n);
}

/* Applies mutation kind (not M_DESCEND) to the message [in, in + len) of type desc. */
static void mutate_here(struct fx *f, int kind, const ProtobufCMessageDescriptor *desc,
			const uint8_t *in, size_t len, const struct tok *t, size_t n, struct wr *w)
{
	uint8_t b[16];
	size_t i = rnd_below(f, n), pos = rnd_below(f, len + 1);
	uint64_t sizes[] = {1, 2, 100, 0x80000000u, 1ull << 34};
	switch (kind) {
	case M_FLIP:
		put(w, in, len);
		for (int flips = 1 + (int)rnd_below(f, 3); flips > 0 && !w->over; flips--)
			w->p[w->n - len + rnd_below(f, len)] ^= (uint8_t)(1u << rnd_below(f, 8));
		break;
	case M_INSERT:
		b[0] = (uint8_t)hw_splitmix64(&f->rng);
		splice(w, in, len, pos, pos, b, 1);
		break;
	case M_DELETE:
		splice(w, in, len, pos, pos < len ? pos + 1 : pos, NULL, 0);
		break;
	case M_TRUNCATE:
		put(w, in, rnd_below(f, len));
		break;
	case M_PAD: { /* one more continuation byte on the tag, a value or a length */
		size_t e = t[i].val;
		if (t[i].wt == PROTOBUF_C_WIRE_TYPE_VARINT && rnd_below(f, 2) == 0)
			e = t[i].end;
		else if (t[i].wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && rnd_below(f, 2) == 0)
			e = t[i].pay;
		b[0] = (uint8_t)(in[e - 1] | 0x80);
		b[1] = 0;
		splice(w, in, len, e - 1, e, b, 2);
		break;
	}
	case M_DUP:
		splice(w, in, len, t[i].end, t[i].end, in + t[i].at, t[i].end - t[i].at);
		break;
	case M_SWAP:
		i = n < 2 ? 0 : rnd_below(f, n - 1);
		put(w, in, t[i].at);
		put(w, in + t[i + 1].at, t[i + 1].end - t[i + 1].at);
		put(w, in + t[i].at, t[i].end - t[i].at);
		put(w, in + t[i + 1].end, len - t[i + 1].end);
		break;
	case M_DEFAULT:
		insert_field(f, desc, in, len, t, n, w, put_default);
		break;
	case M_UNKNOWN:
		insert_field(f, desc, in, len, t, n, w, put_unknown);
		break;
	case M_OVERSIZE: {
		struct wr lw = {.p = b, .cap = sizeof b};
		while (t[i].wt != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			i = rnd_below(f, n);
		put_varint(&lw, (t[i].end - t[i].pay) + sizes[rnd_below(f, 5)]);
		splice(w, in, len, t[i].val, t[i].pay, b, lw.n);
		break;
	}
	default: { /* M_WIRETYPE */
		struct wr tw = {.p = b, .cap = sizeof b};
		put_varint(&tw, t[i].number << 3 | ((t[i].wt + 1 + rnd_below(f, 7)) & 7));
		splice(w, in, len, t[i].at, t[i].val, b, tw.n);
		break;
	}
	}
}

/* A random mutation of the message [in, in + len) of type desc into w, at this level or,
 * more often, inside one of its sub-messages (whose length prefix is rewritten). */
static void mutate(struct fx *f, const ProtobufCMessageDescriptor *desc, const uint8_t *in,
		   size_t len, struct wr *w)
{
	struct tok *t = malloc(TOKS_MAX * sizeof *t);
	assert_non_null(t);
	size_t n = tokenize(in, len, t), subs = 0, pick;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *fd =
			protobuf_c_message_descriptor_get_field(desc, (unsigned)t[i].number);
		subs += t[i].wt == 2 && fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE;
	}
	int kind = (int)rnd_below(f, M_KINDS + 6);
	if (kind >= M_KINDS && subs != 0) {
		pick = rnd_below(f, subs);
		for (size_t i = 0; i < n; i++) {
			const ProtobufCFieldDescriptor *fd =
				protobuf_c_message_descriptor_get_field(desc,
									(unsigned)t[i].number);
			if (t[i].wt != 2 || fd == NULL || fd->type != PROTOBUF_C_TYPE_MESSAGE ||
			    pick-- != 0)
				continue;
			uint8_t *sub = malloc(BUF_BYTES);
			assert_non_null(sub);
			struct wr sw = {.p = sub, .cap = BUF_BYTES};
			mutate(f, fd->descriptor, in + t[i].pay, t[i].end - t[i].pay, &sw);
			put(w, in, t[i].val);
			put_varint(w, sw.n);
			put(w, sub, sw.n);
			put(w, in + t[i].end, len - t[i].end);
			w->over |= sw.over;
			free(sub);
			break;
		}
		free(t);
		return;
	}
	if (kind >= M_KINDS)
		kind = (int)rnd_below(f, M_KINDS);
	/* Kinds that need a field (or two, or a length-prefixed one) fall back to inserting. */
	bool has_len = false;
	for (size_t i = 0; i < n; i++)
		has_len |= t[i].wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
	if ((n == 0 && kind >= M_PAD && kind != M_DEFAULT && kind != M_UNKNOWN) ||
	    (kind == M_SWAP && n < 2) || (kind == M_OVERSIZE && !has_len) ||
	    (len == 0 && kind <= M_TRUNCATE))
		kind = rnd_below(f, 2) == 0 ? M_DEFAULT : M_UNKNOWN;
	f->kind = kind;
	mutate_here(f, kind, desc, in, len, t, n, w);
	free(t);
}

/* Mutates [data, data + len) once (twice one time in four) and checks the result. */
static void mutate_and_check(struct fx *f, const ProtobufCMessageDescriptor *desc,
			     const uint8_t *data, size_t len)
{
	static uint8_t once[BUF_BYTES];
	struct wr w = {.p = f->mut, .cap = sizeof f->mut};
	mutate(f, desc, data, len, &w);
	if (!w.over && rnd_below(f, 4) == 0) {
		memcpy(once, f->mut, w.n);
		struct wr w2 = {.p = f->mut, .cap = sizeof f->mut};
		mutate(f, desc, once, w.n, &w2);
		w = w2;
	}
	if (w.over)
		return;
	if (check(f, desc, f->mut, w.n) != 0)
		f->refused[f->kind]++;
	else
		f->accepted_mutants++;
}

/* Every kind of mutation was refused at least once, and some mutants (a flipped bit in
 * a string, a sub-message added empty) are canonical and were accepted. */
static void assert_mutations_bit(const struct fx *f)
{
	for (int k = 0; k < M_KINDS; k++) {
		if (f->refused[k] == 0)
			fprintf(stderr, "mutation kind %d never refused\n", k);
		assert_true(f->refused[k] > 0);
	}
	assert_true(f->accepted_mutants > 0);
	printf("accepted %zu, HW_EDECODE %zu, HW_ENONCANONICAL %zu (%zu mutants accepted)\n",
	       f->by_code[0], f->by_code[1], f->by_code[2], f->accepted_mutants);
}

/* ---------------------------------------------------------------- tests */

#define RECORDS_PER_PROFILE 6000

/* Every workload profile's records (poison ones included) get the oracle's answer and,
 * when accepted, its struct; so do mutations of each (bit flips, inserted, deleted and
 * cut bytes, padded varints, duplicated, swapped, default and unknown fields, oversized
 * lengths, wrong wire types), at the top level or inside sub-messages. */
static void test_workload_differential(void **state)
{
	struct fx *f = *state;
	const char *const *profiles = hw_workload_profiles();
	size_t records = 0, n_profiles = 0;
	printf("test_workload_differential seed=0x%" PRIx64 "\n", f->seed);
	for (; profiles[n_profiles] != NULL; n_profiles++) {
		struct hw_workload_opts o = {.profile = profiles[n_profiles],
					     .seed = f->seed,
					     .count = RECORDS_PER_PROFILE,
					     .end_ms = END_MS};
		struct hw_workload *w;
		struct hw_work_item it;
		assert_int_equal(hw_workload_new(&o, &w), 0);
		while (hw_workload_next(w, f->buf, sizeof f->buf, &it) == 0) {
			f->kind = -1;
			int rc = check(f, &tos__v1__record__descriptor, f->buf, it.len);
			if (it.expect == 0)
				assert_int_equal(rc, 0);
			mutate_and_check(f, &tos__v1__record__descriptor, f->buf, it.len);
			records++;
		}
		hw_workload_free(w);
	}
	assert_true(n_profiles >= 4);
	assert_int_equal(records, n_profiles * RECORDS_PER_PROFILE);
	assert_mutations_bit(f);
}

/* Random canonical messages of tos.proto, of wire.proto (packed repeated uint64s) and of
 * the every-type schema (floats, -0.0, fixed, zigzag, bools, unpacked repeated scalars,
 * scalar and string oneofs, recursion) are accepted by both with the same struct, and
 * mutations of them get the oracle's answer. */
static void test_random_differential(void **state)
{
	struct fx *f = *state;
	static const ProtobufCMessageDescriptor *const descs[] = {
		&tos__v1__record__descriptor,          &at_desc,
		&hawser__wire__v1__rejoin__descriptor, &hawser__wire__v1__lease_request__descriptor,
		&hawser__wire__v1__status__descriptor, &hawser__wire__v1__hello__descriptor,
	};
	printf("test_random_differential seed=0x%" PRIx64 "\n", f->seed);
	for (size_t d = 0; d < sizeof descs / sizeof descs[0]; d++) {
		for (int i = 0; i < 2000; i++) {
			struct wr w = {.p = f->buf, .cap = sizeof f->buf};
			gen_message(f, descs[d], 0, &w);
			assert_false(w.over);
			f->kind = -1;
			assert_int_equal(check(f, descs[d], f->buf, w.n), 0);
			mutate_and_check(f, descs[d], f->buf, w.n);
			mutate_and_check(f, descs[d], f->buf, w.n);
		}
	}
	assert_mutations_bit(f);
}

struct refusal {
	const ProtobufCMessageDescriptor *desc;
	uint8_t bytes[16];
	size_t len;
	int code;
	const char *rule; /* a part of the rule text */
};

#define REC     (&tos__v1__record__descriptor)
#define NOT_REC "not a protobuf encoding of tos.v1.Record"
#define NOT_AT  "not a protobuf encoding of test.AllTypes"
#define AT      (&at_desc)
#define R(d, code, rule, ...)                                                                      \
	{                                                                                          \
		d, {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__}), code, rule                     \
	}

/* Each way to be refused, by hand, with its code and what the rule says (test_refusals). */
static const struct refusal refusals[] = {
	/* HW_EDECODE: bytes protobuf-c cannot unpack. */
	R(REC, HW_EDECODE, NOT_REC, 0x00, 0x00),
	R(REC, HW_EDECODE, NOT_REC, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
	R(REC, HW_EDECODE, NOT_REC, 0x0F, 0x00),
	R(REC, HW_EDECODE, NOT_REC, 0x1B),
	R(REC, HW_EDECODE, NOT_REC, 0x12, 0x7F, 'a'),
	R(REC, HW_EDECODE, NOT_REC, 0x40),
	R(REC, HW_EDECODE, NOT_REC, 0x48, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	  0xFF, 0x01),
	R(REC, HW_EDECODE, NOT_REC, 0x42, 0x01, 0x01),
	/* Malformed inside Record.unit_event, behind a non-canonical field. */
	R(REC, HW_EDECODE, NOT_REC, 0x40, 0x00, 0xA2, 0x01, 0x02, 0x0F, 0x00),
	R(AT, HW_EDECODE, NOT_AT, 0xA2, 0x01, 0x03, 1, 2, 3),
	R(AT, HW_EDECODE, NOT_AT, 0x92, 0x01, 0x02, 0x01, 0x80),
	/* protobuf-c merges a plain sub-message written twice, and its merge fails when
	 * neither copy sets a oneof: UnitEvent.from = Location{}, twice. */
	R(REC, HW_EDECODE, NOT_REC, 0xA2, 0x01, 0x04, 0x1A, 0x00, 0x1A, 0x00),
	/* HW_ENONCANONICAL: unpacks, but is not what pack writes. */
	R(REC, HW_ENONCANONICAL, "unknown field 99 in tos.v1.Record at offset 0", 0x98, 0x06, 0x01),
	R(REC, HW_ENONCANONICAL, "field 2 after field 8 at offset 2", 0x40, 0x01, 0x12, 0x01, 'a'),
	R(REC, HW_ENONCANONICAL, "field 8 after field 8 at offset 2", 0x40, 0x01, 0x40, 0x01),
	R(REC, HW_ENONCANONICAL, "tag not minimal at offset 0", 0xC0, 0x00, 0x01),
	R(REC, HW_ENONCANONICAL, "(schema_version) at offset 1: varint not minimal", 0x40, 0x81,
	  0x00),
	R(REC, HW_ENONCANONICAL, "(tenant_id) at offset 1: length not minimal", 0x12, 0x81, 0x00,
	  'a'),
	R(REC, HW_ENONCANONICAL, "(schema_version) at offset 0: default value written", 0x40, 0x00),
	R(REC, HW_ENONCANONICAL, "(tenant_id) at offset 0: empty value written", 0x12, 0x00),
	R(REC, HW_ENONCANONICAL, "(hold) at offset 3: second member of a oneof", 0xA2, 0x01, 0x00,
	  0xAA, 0x01, 0x00),
	R(REC, HW_ENONCANONICAL, "string holds a NUL byte", 0x12, 0x03, 'a', 0x00, 'b'),
	R(AT, HW_ENONCANONICAL, "int32 not written as its sign extension", 0x08, 0xFF, 0xFF, 0xFF,
	  0xFF, 0x0F),
	R(AT, HW_ENONCANONICAL, "32-bit value with more than 32 bits", 0x18, 0x80, 0x80, 0x80, 0x80,
	  0x10),
	R(AT, HW_ENONCANONICAL, "bool not written as 0 or 1", 0x68, 0x02),
	R(AT, HW_ENONCANONICAL, "(f11_fl) at offset 0: default value written", 0x5D, 0x00, 0x00,
	  0x00, 0x80), /* -0.0 */
	R(AT, HW_ENONCANONICAL, "packed field not written packed", 0x90, 0x01, 0x01),
	R(AT, HW_ENONCANONICAL, "(f23_r_u64) at offset 0: wrong wire type", 0xBA, 0x01, 0x01, 0x05),
	/* protobuf-c reads a bool from any wire type: Source.offline_capture as bytes. */
	R(REC, HW_ENONCANONICAL, "(offline_capture) at offset 2: wrong wire type", 0x3A, 0x03, 0x2A,
	  0x01, 0x01),
	R(AT, HW_ENONCANONICAL, "empty packed field written", 0x92, 0x01, 0x00),
	R(AT, HW_ENONCANONICAL, "varint not minimal", 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	  0xFF, 0xFF, 0xFF, 0x7F),
};

/* Each way to be refused (refusals), by hand, with its code and what the rule says; the
 * oracle agrees on every one. */
static void test_refusals(void **state)
{
	struct fx *f = *state;
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const struct refusal *c = &refusals[i];
		ProtobufCMessage *m = (ProtobufCMessage *)1;
		struct hw_reject rej;
		memset(&rej, 0, sizeof rej);
		hw_arena_reset(&f->arena);
		int rc = hw_pbdec_decode(c->desc, c->bytes, c->len, &f->arena, "msg", &m, NULL,
					 &rej);
		if (rc != c->code || strstr(rej.rule, c->rule) == NULL)
			fprintf(stderr, "case %zu: %d \"%s\", want %d \"%s\"\n", i, rc, rej.rule,
				c->code, c->rule);
		assert_int_equal(rc, c->code);
		assert_non_null(strstr(rej.rule, c->rule));
		assert_null(m);
		assert_int_equal(check(f, c->desc, c->bytes, c->len), c->code);
	}
}

/* Sub-messages nested HW_PBDEC_DEPTH_MAX deep decode; one level more is HW_EDECODE, so
 * a recursive schema cannot exhaust the stack (protobuf-c itself has no limit). */
static void test_depth_limit(void **state)
{
	struct fx *f = *state;
	for (int depth = HW_PBDEC_DEPTH_MAX; depth <= HW_PBDEC_DEPTH_MAX + 1; depth++) {
		size_t len = 0; /* built inside out: child { child { ... } } at the end of buf */
		uint8_t *end = f->buf + sizeof f->buf, *p = end;
		for (int k = 0; k < depth; k++) {
			uint8_t hdr[8];
			struct wr w = {.p = hdr, .cap = sizeof hdr};
			put_varint(&w, 17 << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
			put_varint(&w, len);
			p -= w.n;
			memcpy(p, hdr, w.n);
			len += w.n;
		}
		ProtobufCMessage *m;
		struct hw_reject rej;
		hw_arena_reset(&f->arena);
		int rc = hw_pbdec_decode(&at_desc, p, len, &f->arena, "msg", &m, NULL, &rej);
		if (depth == HW_PBDEC_DEPTH_MAX) {
			assert_int_equal(rc, 0);
			assert_non_null(((struct at_msg *)(void *)m)->child);
		} else {
			assert_int_equal(rc, HW_EDECODE);
			assert_non_null(strstr(rej.rule, "nested deeper than 32"));
		}
		assert_true(p >= f->buf && (size_t)(end - p) == len);
	}
}

/* Strings and bytes of every length from 0 to 40, their bytes 1 to 255, decode to exactly
 * those bytes, and a string with a NUL at any position is refused: pbdec copies and checks
 * strings a word at a time, with its own cases below 4 and below 8 bytes. */
static void test_text_lengths(void **state)
{
	struct fx *f = *state;
	struct wr w = {.p = f->buf, .cap = sizeof f->buf};
	uint8_t text[40];
	for (unsigned field = 24; field <= 25; field++) { /* f24_r_str, then f25_r_by */
		for (size_t len = 0; len <= sizeof text; len++) {
			for (size_t i = 0; i < len; i++)
				text[i] = (uint8_t)(1 + (i * 37 + len) % 255);
			put_varint(&w, field << 3 | PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED);
			put_varint(&w, len);
			put(&w, text, len);
		}
	}
	assert_false(w.over);
	assert_int_equal(check(f, &at_desc, f->buf, w.n), 0);
	hw_arena_reset(&f->arena);
	ProtobufCMessage *m;
	struct hw_reject rej;
	assert_int_equal(hw_pbdec_decode(&at_desc, f->buf, w.n, &f->arena, "msg", &m, NULL, &rej),
			 0);
	const struct at_msg *a = (const struct at_msg *)(void *)m;
	assert_int_equal(a->n_r_str, sizeof text + 1);
	assert_int_equal(a->n_r_by, sizeof text + 1);
	for (size_t len = 0; len <= sizeof text; len++) {
		for (size_t i = 0; i < len; i++)
			text[i] = (uint8_t)(1 + (i * 37 + len) % 255);
		assert_int_equal(strlen(a->r_str[len]), len);
		assert_memory_equal(a->r_str[len], text, len);
		assert_int_equal(a->r_by[len].len, len);
		assert_true(len == 0 ? a->r_by[len].data == NULL
				     : memcmp(a->r_by[len].data, text, len) == 0);
	}

	for (size_t len = 1; len <= sizeof text; len++)
		for (size_t nul = 0; nul < len; nul++) {
			uint8_t in[2 + sizeof text] = {0x7A, (uint8_t)len}; /* f15_str */
			memset(in + 2, 'x', len);
			in[2 + nul] = 0;
			m = (ProtobufCMessage *)1;
			hw_arena_reset(&f->arena);
			assert_int_equal(hw_pbdec_decode(&at_desc, in, 2 + len, &f->arena, "msg",
							 &m, NULL, &rej),
					 HW_ENONCANONICAL);
			assert_non_null(strstr(rej.rule, "at offset 2: string holds a NUL byte"));
			assert_null(m);
			assert_int_equal(check(f, &at_desc, in, 2 + len), HW_ENONCANONICAL);
		}
}

/* A message made of strings at their smallest encoding (a tag and a length byte each,
 * empty elements of a repeated field) and one last string ending the input decodes: the
 * one arena allocation pbdec makes for all strings, sized from the input, holds them. */
static void test_text_pool_bound(void **state)
{
	struct fx *f = *state;
	size_t n = 0;
	for (size_t k = 0; k < 1000; k++) { /* Refs.booking_nos: "" x 1000 */
		f->buf[n++] = 0x0A;
		f->buf[n++] = 0x00;
	}
	const uint8_t last[] = {0x1A, 0x01, 'C'}; /* Refs.customs_decl_no = "C" */
	memcpy(f->buf + n, last, sizeof last);
	n += sizeof last;
	assert_int_equal(check(f, &tos__v1__refs__descriptor, f->buf, n), 0);

	ProtobufCMessage *m;
	struct hw_reject rej;
	hw_arena_reset(&f->arena);
	assert_int_equal(hw_pbdec_decode(&tos__v1__refs__descriptor, f->buf, n, &f->arena, "msg",
					 &m, NULL, &rej),
			 0);
	Tos__V1__Refs *refs = (Tos__V1__Refs *)(void *)m;
	assert_int_equal(refs->n_booking_nos, 1000);
	assert_string_equal(refs->booking_nos[999], "");
	assert_string_equal(refs->customs_decl_no, "C");
}

/* An arena too small for the message is HW_ENOMEM at every budget below what it needs,
 * and nothing is returned; a record over 64 KiB is HW_ETOOBIG before any decoding. */
static void test_nomem_and_too_big(void **state)
{
	struct fx *f = *state;
	struct wr w = {.p = f->buf, .cap = sizeof f->buf};
	do {
		w.n = 0;
		gen_message(f, &at_desc, 0, &w);
	} while (w.n < 200);
	size_t failures = 0;
	for (size_t budget = 16;; budget += 16) {
		struct hw_arena small;
		ProtobufCMessage *m = (ProtobufCMessage *)1;
		struct hw_reject rej;
		memset(&rej, 0, sizeof rej);
		hw_arena_init(&small, 256, budget);
		int rc = hw_pbdec_decode(&at_desc, f->buf, w.n, &small, "msg", &m, NULL, &rej);
		hw_arena_fini(&small);
		if (rc == 0)
			break;
		assert_int_equal(rc, HW_ENOMEM);
		assert_int_equal(rej.code, HW_ENOMEM);
		assert_string_equal(rej.field, "msg");
		assert_null(m);
		failures++;
	}
	assert_true(failures > 3);

	Tos__V1__Record *rec = (Tos__V1__Record *)1;
	struct hw_reject rej;
	memset(f->buf, 0, HW_RECORD_BYTES_MAX + 1);
	assert_int_equal(hw_record_decode(f->buf, HW_RECORD_BYTES_MAX + 1, &f->arena, &rec, &rej),
			 HW_ETOOBIG);
	assert_null(rec);
	assert_string_equal(rej.field, "record");
}

/* The decoder's word on strings (hw_pbdec_text), which lets validation skip its scan: a
 * string of 1 to 40 bytes with any byte value 1 to 255 at its start, middle or end (every
 * word case of the copy) is plain ASCII exactly when that byte is 0x20 to 0x7E, and its
 * length is the longest; bytes values, whatever they hold, count for neither. */
static void test_text_ascii_word(void **state)
{
	struct fx *f = *state;
	for (size_t len = 1; len <= 40; len++)
		for (unsigned b = 1; b <= 255; b++)
			for (unsigned at = 0; at < 3; at++) {
				/* f15_str = len bytes of 'x', one of them b; f25_r_by = 45 0xFFs */
				uint8_t in[2 + 40 + 3 + 45] = {0x7A, (uint8_t)len};
				memset(in + 2, 'x', len);
				in[2 + (at == 0 ? 0 : at == 1 ? len / 2 : len - 1)] = (uint8_t)b;
				uint8_t *by = in + 2 + len;
				by[0] = 0xCA; /* field 25, length-prefixed */
				by[1] = 0x01;
				by[2] = 45;
				memset(by + 3, 0xFF, 45);
				ProtobufCMessage *m;
				struct hw_reject rej;
				struct hw_pbdec_text text = {.ascii = b >= 0x20,
							     .longest_bytes = 99};
				hw_arena_reset(&f->arena);
				assert_int_equal(hw_pbdec_decode(&at_desc, in, 2 + len + 3 + 45,
								 &f->arena, "msg", &m, &text, &rej),
						 0);
				if (text.ascii != (b >= 0x20 && b <= 0x7E))
					print_error("len %zu byte 0x%02x at %u\n", len, b, at);
				assert_int_equal(text.ascii, b >= 0x20 && b <= 0x7E);
				assert_int_equal(text.longest_bytes, len);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_workload_differential), T(test_random_differential), T(test_refusals),
		T(test_depth_limit),           T(test_text_lengths),        T(test_text_pool_bound),
		T(test_nomem_and_too_big),     T(test_text_ascii_word),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
