/* pbdec.c: canonical single-pass protobuf decoding (replica/pbdec.h).
 *
 * The fast path (message_get and below) reads the bytes once, in order, and accepts only
 * what protobuf-c 1.4.1 packs: since pack writes fields in number order, each at most
 * once (a repeated one as one run), with minimal varints, the bytes are canonical exactly
 * when every field read is the one pack would write next, in the form it would write it.
 * The first departure stops the walk. Only then, off the hot path, does classify() run
 * protobuf-c's unpack to tell bytes it could not unpack at all (HW_EDECODE) from bytes
 * that are only not canonical (HW_ENONCANONICAL): the codes stay exactly what unpack +
 * re-pack + compare gave. */
#include "replica/pbdec.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "base/assert.h"
#include "base/reject.h"

struct dec {
	const uint8_t *start;  /* the whole input: offsets are counted from it */
	const uint8_t *end;    /* the whole input's end: text_pool_make() sizes from it */
	char *text, *text_end; /* text_alloc()'s pool, NULL until the first string or bytes */
	struct hw_arena *arena;
	struct hw_reject *rej;
	const char *what; /* rej->field */
	bool oom;         /* classify(): the arena ran out under protobuf-c */
	struct hw_pbdec_text seen; /* of the strings copied so far (pbdec.h) */
};

/* ---------------------------------------------------------------- shared */

/* The wire type protobuf-c writes a single value of each type with, and the bytes one
 * element takes in a repeated field's array: tables, since every field asks. */
static const uint8_t wire_types[PROTOBUF_C_TYPE_MESSAGE + 1] = {
	[PROTOBUF_C_TYPE_SFIXED32] = PROTOBUF_C_WIRE_TYPE_32BIT,
	[PROTOBUF_C_TYPE_FIXED32] = PROTOBUF_C_WIRE_TYPE_32BIT,
	[PROTOBUF_C_TYPE_FLOAT] = PROTOBUF_C_WIRE_TYPE_32BIT,
	[PROTOBUF_C_TYPE_SFIXED64] = PROTOBUF_C_WIRE_TYPE_64BIT,
	[PROTOBUF_C_TYPE_FIXED64] = PROTOBUF_C_WIRE_TYPE_64BIT,
	[PROTOBUF_C_TYPE_DOUBLE] = PROTOBUF_C_WIRE_TYPE_64BIT,
	[PROTOBUF_C_TYPE_STRING] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	[PROTOBUF_C_TYPE_BYTES] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	[PROTOBUF_C_TYPE_MESSAGE] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	/* the rest are varints (0) */
};

static const uint8_t elt_sizes[PROTOBUF_C_TYPE_MESSAGE + 1] = {
	[PROTOBUF_C_TYPE_INT32] = sizeof(int32_t),
	[PROTOBUF_C_TYPE_SINT32] = sizeof(int32_t),
	[PROTOBUF_C_TYPE_SFIXED32] = sizeof(int32_t),
	[PROTOBUF_C_TYPE_INT64] = sizeof(int64_t),
	[PROTOBUF_C_TYPE_SINT64] = sizeof(int64_t),
	[PROTOBUF_C_TYPE_SFIXED64] = sizeof(int64_t),
	[PROTOBUF_C_TYPE_UINT32] = sizeof(uint32_t),
	[PROTOBUF_C_TYPE_FIXED32] = sizeof(uint32_t),
	[PROTOBUF_C_TYPE_UINT64] = sizeof(uint64_t),
	[PROTOBUF_C_TYPE_FIXED64] = sizeof(uint64_t),
	[PROTOBUF_C_TYPE_FLOAT] = sizeof(float),
	[PROTOBUF_C_TYPE_DOUBLE] = sizeof(double),
	[PROTOBUF_C_TYPE_BOOL] = sizeof(protobuf_c_boolean),
	[PROTOBUF_C_TYPE_ENUM] = sizeof(int),
	[PROTOBUF_C_TYPE_STRING] = sizeof(char *),
	[PROTOBUF_C_TYPE_BYTES] = sizeof(ProtobufCBinaryData),
	[PROTOBUF_C_TYPE_MESSAGE] = sizeof(ProtobufCMessage *),
};

static unsigned wire_type(ProtobufCType t)
{
	return wire_types[t];
}

static size_t elt_size(ProtobufCType t)
{
	return elt_sizes[t];
}

/* Where the value of wire type wt at p ends (varints of at most 10 bytes, length
 * prefixes of at most 5 and at most INT_MAX, as protobuf-c scans them); NULL when it does
 * not end before end or wt is a group or unknown. */
static const uint8_t *value_skip(unsigned wt, const uint8_t *p, const uint8_t *end)
{
	size_t rem = (size_t)(end - p);
	size_t val = 0, i;
	switch (wt) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		for (i = 0; i < rem && i < 10; i++)
			if (p[i] < 0x80)
				return p + i + 1;
		return NULL;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		return rem < 8 ? NULL : p + 8;
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		return rem < 4 ? NULL : p + 4;
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		for (i = 0; i < rem && i < 5; i++) {
			val |= (size_t)(p[i] & 0x7f) << (7 * i);
			if (p[i] < 0x80)
				break;
		}
		if (i == rem || i == 5 || val > INT_MAX || val > rem - i - 1)
			return NULL;
		return p + i + 1 + val;
	default:
		return NULL;
	}
}

/* ---------------------------------------------------------------- fast path */

static int refuse(struct dec *d, const uint8_t *at, const ProtobufCFieldDescriptor *f,
		  const char *why)
{
	size_t off = (size_t)(at - d->start);
	if (f == NULL)
		return hw_reject_set(d->rej, HW_ENONCANONICAL, d->what, "%s at offset %zu", why,
				     off);
	return hw_reject_set(d->rej, HW_ENONCANONICAL, d->what, "field %u (%s) at offset %zu: %s",
			     f->id, f->name, off, why);
}

static void *alloc(struct dec *d, size_t size)
{
	return hw_arena_alloc(d->arena, size);
}

static int oom(struct dec *d)
{
	return hw_reject_set(d->rej, HW_ENOMEM, d->what, "decode arena exhausted");
}

/* varint_get() of a varint longer than two bytes, or unterminated. */
static size_t varint_get_long(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	size_t max = (size_t)(end - p) < 10 ? (size_t)(end - p) : 10;
	for (size_t i = 0; i < max; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

/* Reads the varint at p (before end). Returns its length, 0 when it does not end within
 * 10 bytes or before end. Inline for one and two bytes: most values and lengths, and
 * every tag of a field numbered up to 2047 (Record's oneof members are 20-33). */
static inline size_t varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	if (p < end && p[0] < 0x80) {
		*v = p[0];
		return 1;
	}
	if (end - p >= 2 && p[1] < 0x80) {
		*v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
		return 2;
	}
	return varint_get_long(p, end, v);
}

/* A varint of n bytes at p is what pack writes: no padding byte, no bit past 64. */
static inline bool varint_minimal(const uint8_t *p, size_t n)
{
	return n == 1 || (p[n - 1] != 0 && (n < 10 || p[9] == 1));
}

static uint64_t le_get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* Checks the range of a varint v read for a field of type t and turns it into the bits
 * protobuf-c stores. int32 and enum values are written sign-extended to 64 bits, so a
 * negative one takes ten bytes; 32-bit unsigned and zigzag values must fit 32 bits. */
static inline __attribute__((always_inline)) int
varint_value(struct dec *d, const uint8_t *at, const ProtobufCFieldDescriptor *f, uint64_t *v)
{
	uint32_t z;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_ENUM:
		if (*v != (uint64_t)(int64_t)(int32_t)(uint32_t)*v)
			return refuse(d, at, f, "int32 not written as its sign extension");
		*v = (uint32_t)*v;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SINT32:
		if (*v > UINT32_MAX)
			return refuse(d, at, f, "32-bit value with more than 32 bits");
		z = (uint32_t)*v;
		if (f->type == PROTOBUF_C_TYPE_SINT32)
			*v = (z >> 1) ^ (0u - (z & 1u));
		return 0;
	case PROTOBUF_C_TYPE_SINT64:
		*v = (*v >> 1) ^ (0u - (*v & 1u));
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		return *v > 1 ? refuse(d, at, f, "bool not written as 0 or 1") : 0;
	default:
		return 0;
	}
}

/* scalar_get() of a varint type. Forced inline, like varint_value(), text_put(),
 * len_value_get() and varint_value_get(): message_get()'s field loop decodes most fields
 * through them, GCC keeps them out of line (each ends up with two callers), and their
 * calls, with five to eight arguments, cost more than most fields' work. */
static inline __attribute__((always_inline)) int
varint_scalar_get(struct dec *d, const ProtobufCFieldDescriptor *f, const uint8_t **pp,
		  const uint8_t *end, uint64_t *bits)
{
	const uint8_t *p = *pp;
	size_t n = varint_get(p, end, bits);
	if (n == 0)
		return refuse(d, p, f, "unterminated varint");
	if (!varint_minimal(p, n))
		return refuse(d, p, f, "varint not minimal");
	*pp = p + n;
	return varint_value(d, p, f, bits);
}

/* Reads a scalar of f's type at *pp (its wire type already checked) into *bits, the
 * value as protobuf-c stores it, zero-extended. */
static int scalar_get(struct dec *d, const ProtobufCFieldDescriptor *f, const uint8_t **pp,
		      const uint8_t *end, uint64_t *bits)
{
	const uint8_t *p = *pp;
	size_t n;
	switch (wire_type(f->type)) {
	case PROTOBUF_C_WIRE_TYPE_32BIT:
	case PROTOBUF_C_WIRE_TYPE_64BIT:
		n = wire_type(f->type) == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
		if ((size_t)(end - p) < n)
			return refuse(d, p, f, "truncated");
		*bits = le_get(p, (unsigned)n);
		*pp = p + n;
		return 0;
	default:
		return varint_scalar_get(d, f, pp, end, bits);
	}
}

/* What pack treats as the default it leaves out (-0.0 included). */
static bool scalar_is_zero(ProtobufCType t, uint64_t bits)
{
	float fl;
	double db;
	uint32_t b32 = (uint32_t)bits;
	if (t == PROTOBUF_C_TYPE_FLOAT) {
		memcpy(&fl, &b32, sizeof fl);
		return fl == 0;
	}
	if (t == PROTOBUF_C_TYPE_DOUBLE) {
		memcpy(&db, &bits, sizeof db);
		return db == 0;
	}
	return bits == 0;
}

static void scalar_put(ProtobufCType t, void *dst, uint64_t bits)
{
	uint32_t b32 = (uint32_t)bits;
	protobuf_c_boolean b = bits != 0;
	if (t == PROTOBUF_C_TYPE_BOOL)
		memcpy(dst, &b, sizeof b);
	else if (elt_size(t) == sizeof bits)
		memcpy(dst, &bits, sizeof bits);
	else
		memcpy(dst, &b32, sizeof b32);
}

/* Reads a length prefix at *pp: minimal, and not past end. */
static inline int len_get(struct dec *d, const ProtobufCFieldDescriptor *f, const uint8_t **pp,
			  const uint8_t *end, size_t *len)
{
	const uint8_t *p = *pp;
	uint64_t v;
	size_t n = varint_get(p, end, &v);
	if (n == 0)
		return refuse(d, p, f, "unterminated length");
	if (!varint_minimal(p, n))
		return refuse(d, p, f, "length not minimal");
	if (v > (uint64_t)(end - p) - n)
		return refuse(d, p, f, "length past the end");
	*len = (size_t)v;
	*pp = p + n;
	return 0;
}

static int message_get(struct dec *d, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
		       const uint8_t *end, unsigned depth, ProtobufCMessage **out);

/* Makes text_alloc()'s pool for the string or bytes value whose content starts at s.
 * Every value still to come, this one included, needs no more room (its content, and a
 * NUL for a string) than it takes in the input, where a tag and a length of at least a
 * byte each come before the content: so end - s + 1 bytes hold them all, and one arena
 * allocation per decoded message tree replaces one per value. */
static bool text_pool_make(struct dec *d, const uint8_t *s)
{
	size_t cap = (size_t)(d->end - s) + 1;
	d->text = alloc(d, cap);
	d->text_end = d->text != NULL ? d->text + cap : NULL;
	return d->text != NULL;
}

/* Room for size bytes of the string or bytes value whose content starts at s. */
static inline char *text_alloc(struct dec *d, const uint8_t *s, size_t size)
{
	if (d->text == NULL && !text_pool_make(d, s))
		return NULL;
	HW_ASSERT(size <= (size_t)(d->text_end - d->text));
	char *c = d->text;
	d->text += size;
	return c;
}

/* Copies the 8 (4) bytes at s + i to c + i; returns them. */
static inline uint64_t copy8(char *c, const uint8_t *s, size_t i)
{
	uint64_t x;
	memcpy(&x, s + i, sizeof x);
	memcpy(c + i, &x, sizeof x);
	return x;
}

static inline uint32_t copy4(char *c, const uint8_t *s, size_t i)
{
	uint32_t x;
	memcpy(&x, s + i, sizeof x);
	memcpy(c + i, &x, sizeof x);
	return x;
}

/* Nonzero exactly when a byte of x is not printable ASCII (0x20..0x7E): a byte below
 * 0x20 sets its top bit in x - 0x20..., one of 0x7F in x + 0x01..., one of 0x80 or more
 * in x; a borrow or a carry only starts at a byte already caught, so the yes/no is exact
 * (validate.c's ascii8, whose scan this lets validation skip). A NUL is one of them. */
static inline uint64_t odd_bytes(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101u;
	return ((x - 0x20u * ones) | (x + ones) | x) & 0x8080808080808080u;
}

/* Copies len bytes from s to c; false when they hold a NUL. *odd gets nonzero bits when
 * one is not printable ASCII, and only then is a NUL looked for. A word at a time, the
 * last word overlapping the one before it: the strings here are mostly 3 to 20 bytes, too
 * short for memchr + memcpy to pay for their calls or for a loop over bytes. 4 to 7 bytes
 * are tested as one word of two overlapping halves, 1 to 3 as one of bytes 0, len / 2
 * and len - 1 (which cover them all) over 0x20s. */
static bool text_copy(char *c, const uint8_t *s, size_t len, uint64_t *odd)
{
	uint64_t bad = 0;
	if (len >= 8) {
		for (size_t i = 0; i < len - 8; i += 8)
			bad |= odd_bytes(copy8(c, s, i));
		bad |= odd_bytes(copy8(c, s, len - 8));
	} else if (len >= 4) {
		bad = odd_bytes(copy4(c, s, 0) | (uint64_t)copy4(c, s, len - 4) << 32);
	} else if (len != 0) {
		c[0] = (char)s[0];
		c[len / 2] = (char)s[len / 2];
		c[len - 1] = (char)s[len - 1];
		bad = odd_bytes(0x2020202020000000u | s[0] | (uint64_t)s[len / 2] << 8 |
				(uint64_t)s[len - 1] << 16);
	}
	*odd = bad;
	return bad == 0 || memchr(c, 0, len) == NULL;
}

/* Copies a string or bytes value of len bytes at s into dst (inline: see
 * varint_scalar_get()). */
static inline __attribute__((always_inline)) int
text_put(struct dec *d, const ProtobufCFieldDescriptor *f, const uint8_t *s, size_t len, void *dst)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *c = text_alloc(d, s, len + 1);
		if (c == NULL)
			return oom(d);
		/* pack writes strlen() bytes: a NUL would cut the string short. */
		uint64_t odd;
		if (!text_copy(c, s, len, &odd))
			return refuse(d, s, f, "string holds a NUL byte");
		c[len] = '\0';
		d->seen.ascii &= odd == 0;
		if (len > d->seen.longest_bytes)
			d->seen.longest_bytes = len;
		memcpy(dst, &c, sizeof c);
		return 0;
	}
	ProtobufCBinaryData bd = {.len = len, .data = NULL};
	if (len != 0) {
		bd.data = (uint8_t *)text_alloc(d, s, len);
		if (bd.data == NULL)
			return oom(d);
		memcpy(bd.data, s, len);
	}
	memcpy(dst, &bd, sizeof bd);
	return 0;
}

/* value_get() of a string, bytes or message (inline: see varint_scalar_get()). */
static inline __attribute__((always_inline)) int
len_value_get(struct dec *d, const ProtobufCFieldDescriptor *f, bool plain, const uint8_t *tag,
	      const uint8_t **pp, const uint8_t *end, unsigned depth, void *dst)
{
	size_t len = 0; /* for -Wmaybe-uninitialized: len_get() sets it when it returns 0 */
	ProtobufCMessage *sub;
	int rc = len_get(d, f, pp, end, &len);
	if (rc != 0)
		return rc;
	const uint8_t *s = *pp;
	*pp = s + len;
	if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
		if (plain && len == 0)
			return refuse(d, tag, f, "empty value written");
		return text_put(d, f, s, len, dst);
	}
	rc = message_get(d, f->descriptor, s, s + len, depth + 1, &sub);
	if (rc == 0)
		memcpy(dst, &sub, sizeof sub);
	return rc;
}

/* value_get() of a varint scalar, whose default is 0 (inline: see varint_scalar_get()). */
static inline __attribute__((always_inline)) int
varint_value_get(struct dec *d, const ProtobufCFieldDescriptor *f, bool plain, const uint8_t *tag,
		 const uint8_t **pp, const uint8_t *end, void *dst)
{
	uint64_t bits = 0; /* as len in len_value_get() */
	int rc = varint_scalar_get(d, f, pp, end, &bits);
	if (rc != 0)
		return rc;
	if (plain && bits == 0)
		return refuse(d, tag, f, "default value written");
	scalar_put(f->type, dst, bits);
	return 0;
}

/* Decodes one value of field f at *pp into dst (a member or an array element). plain: a
 * proto3 field outside any oneof, whose zero or empty value pack leaves out, so writing
 * it is not canonical; tag: where its tag starts. */
static int value_get(struct dec *d, const ProtobufCFieldDescriptor *f, bool plain,
		     const uint8_t *tag, const uint8_t **pp, const uint8_t *end, unsigned depth,
		     void *dst)
{
	uint64_t bits;
	switch (wire_type(f->type)) {
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		return len_value_get(d, f, plain, tag, pp, end, depth, dst);
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		return varint_value_get(d, f, plain, tag, pp, end, dst);
	default: {
		int rc = scalar_get(d, f, pp, end, &bits);
		if (rc != 0)
			return rc;
		if (plain && scalar_is_zero(f->type, bits))
			return refuse(d, tag, f, "default value written");
		scalar_put(f->type, dst, bits);
		return 0;
	}
	}
}

static void array_set(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, void *arr,
		      size_t count)
{
	char *base = (char *)m;
	memcpy(base + f->quantifier_offset, &count, sizeof count);
	memcpy(base + f->offset, &arr, sizeof arr);
}

/* A packed repeated scalar at *pp (after its tag): one length-prefixed run of at least
 * one element, each in its canonical form. */
static int packed_get(struct dec *d, const ProtobufCFieldDescriptor *f, ProtobufCMessage *m,
		      const uint8_t *tag, const uint8_t **pp, const uint8_t *end)
{
	size_t len = 0, count = 0, esz = elt_size(f->type); /* len: as in len_value_get() */
	int rc = len_get(d, f, pp, end, &len);
	if (rc != 0)
		return rc;
	const uint8_t *p = *pp, *q = p + len;
	if (len == 0)
		return refuse(d, tag, f, "empty packed field written");
	if (wire_type(f->type) != PROTOBUF_C_WIRE_TYPE_VARINT) {
		if (len % esz != 0)
			return refuse(d, p, f, "packed length not a multiple of the element");
		count = len / esz;
	} else {
		for (const uint8_t *c = p; c < q; c++)
			count += *c < 0x80;
		count += q[-1] >= 0x80; /* an unterminated last one, refused below */
	}
	char *arr = alloc(d, count * esz);
	if (arr == NULL)
		return oom(d);
	for (size_t k = 0; k < count; k++) {
		uint64_t bits;
		rc = scalar_get(d, f, &p, q, &bits);
		if (rc != 0)
			return rc;
		scalar_put(f->type, arr + k * esz, bits);
	}
	HW_ASSERT(p == q);
	array_set(m, f, arr, count);
	*pp = q;
	return 0;
}

/* A repeated field written one element per tag, the first tag [tag, *pp): pack writes
 * the elements as one run of byte-identical tags, which is counted first so the array is
 * allocated once. A run cut short by a malformed value counts up to it, and its decoding
 * then refuses it. */
static int run_get(struct dec *d, const ProtobufCFieldDescriptor *f, ProtobufCMessage *m,
		   const uint8_t *tag, const uint8_t **pp, const uint8_t *end, unsigned depth)
{
	size_t tag_len = (size_t)(*pp - tag), count = 1, esz = elt_size(f->type);
	const uint8_t *p = *pp;
	while ((p = value_skip(wire_type(f->type), p, end)) != NULL &&
	       (size_t)(end - p) >= tag_len && memcmp(p, tag, tag_len) == 0) {
		p += tag_len;
		count++;
	}
	char *arr = alloc(d, count * esz);
	if (arr == NULL)
		return oom(d);
	for (size_t k = 0; k < count; k++) {
		const uint8_t *at = *pp - tag_len;
		int rc = value_get(d, f, false, at, pp, end, depth, arr + k * esz);
		if (rc != 0)
			return rc;
		if (k + 1 < count)
			*pp += tag_len;
	}
	array_set(m, f, arr, count);
	return 0;
}

/* Decodes field f, its tag of wire type wt at [tag, *pp), into m. */
static int field_get(struct dec *d, const ProtobufCFieldDescriptor *f, ProtobufCMessage *m,
		     unsigned wt, const uint8_t *tag, const uint8_t **pp, const uint8_t *end,
		     unsigned depth)
{
	bool packed = (f->flags & PROTOBUF_C_FIELD_FLAG_PACKED) != 0;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (wt != (packed ? PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED : wire_type(f->type)))
			return refuse(d, tag, f,
				      packed ? "packed field not written packed"
					     : "wrong wire type");
		return packed ? packed_get(d, f, m, tag, pp, end)
			      : run_get(d, f, m, tag, pp, end, depth);
	}
	bool oneof = (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
	HW_ASSERT(f->label == PROTOBUF_C_LABEL_NONE); /* pbdec.h: proto3 only */
	if (wt != wire_type(f->type))
		return refuse(d, tag, f, "wrong wire type");
	char *base = (char *)m;
	if (oneof) {
		uint32_t *which = (uint32_t *)(void *)(base + f->quantifier_offset);
		if (*which != 0)
			return refuse(d, tag, f, "second member of a oneof");
		*which = f->id;
	}
	return value_get(d, f, !oneof, tag, pp, end, depth, base + f->offset);
}

/* Field number of desc, or NULL: through the descriptor's runs of consecutive numbers
 * (Record has two, 1-10 and 20-33; the last entry is a sentinel holding n_fields), not
 * a binary search. */
static const ProtobufCFieldDescriptor *field_find(const ProtobufCMessageDescriptor *desc,
						  uint64_t number)
{
	const ProtobufCIntRange *r = desc->field_ranges;
	for (unsigned i = 0; i < desc->n_field_ranges; i++) {
		uint64_t k = number - (uint64_t)r[i].start_value; /* wraps when below */
		if (k < (uint64_t)(r[i + 1].orig_index - r[i].orig_index))
			return &desc->fields[(size_t)r[i].orig_index + k];
	}
	return NULL;
}

/* The descriptor *f of field number of desc, read at tag after field last: refused when
 * it does not come after last (pack writes fields in number order, each once) or desc
 * has no such field. */
static int field_seek(struct dec *d, const ProtobufCMessageDescriptor *desc, uint64_t number,
		      uint64_t last, const uint8_t *tag, const ProtobufCFieldDescriptor **f)
{
	if (number <= last)
		return hw_reject_set(d->rej, HW_ENONCANONICAL, d->what,
				     "field %" PRIu64 " after field %" PRIu64
				     " at offset %zu: out of order or repeated",
				     number, last, (size_t)(tag - d->start));
	*f = field_find(desc, number);
	if (*f == NULL)
		return hw_reject_set(d->rej, HW_ENONCANONICAL, d->what,
				     "unknown field %" PRIu64 " in %s at offset %zu", number,
				     desc->name, (size_t)(tag - d->start));
	return 0;
}

/* Decodes the message of type desc in [p, end). Fields must come in strictly increasing
 * number order (a repeated one as one run), each once: pack writes them so. Hence the
 * descriptor after the last field read (desc->fields is in number order) is the next
 * field's whenever the message leaves out none in between, with no search and no order
 * check; and a plain varint, string, bytes or message field, most of a record, is
 * decoded here, not through field_get() and value_get(). */
static int message_get(struct dec *d, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
		       const uint8_t *end, unsigned depth, ProtobufCMessage **out)
{
	if (depth > HW_PBDEC_DEPTH_MAX)
		return hw_reject_set(d->rej, HW_EDECODE, d->what,
				     "messages nested deeper than %d at offset %zu",
				     HW_PBDEC_DEPTH_MAX, (size_t)(p - d->start));
	ProtobufCMessage *m = alloc(d, desc->sizeof_message);
	if (m == NULL)
		return oom(d);
	desc->message_init(m);
	const ProtobufCFieldDescriptor *next = desc->fields, *fields_end = next + desc->n_fields;
	uint64_t last = 0;
	while (p < end) {
		const uint8_t *tag = p;
		uint64_t key;
		size_t n = varint_get(p, end, &key);
		if (n == 0 || !varint_minimal(p, n))
			return refuse(d, tag, NULL,
				      n == 0 ? "unterminated tag" : "tag not minimal");
		p += n;
		uint64_t number = key >> 3;
		unsigned wt = (unsigned)(key & 7);
		const ProtobufCFieldDescriptor *f = next;
		int rc = 0;
		if (f == fields_end || f->id != number)
			rc = field_seek(d, desc, number, last, tag, &f);
		if (rc != 0)
			return rc;
		void *dst = (char *)m + f->offset;
		if (f->label != PROTOBUF_C_LABEL_NONE ||
		    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 || wt != wire_type(f->type))
			rc = field_get(d, f, m, wt, tag, &p, end, depth);
		else if (wt == PROTOBUF_C_WIRE_TYPE_VARINT)
			rc = varint_value_get(d, f, true, tag, &p, end, dst);
		else if (wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			rc = len_value_get(d, f, true, tag, &p, end, depth, dst);
		else
			rc = value_get(d, f, true, tag, &p, end, depth, dst);
		if (rc != 0)
			return rc;
		last = number;
		next = f + 1;
	}
	*out = m;
	return 0;
}

/* ---------------------------------------------------------------- slow path */

static void *pbc_alloc_cb(void *data, size_t size)
{
	struct dec *d = data;
	void *p = hw_arena_alloc(d->arena, size);
	if (p == NULL)
		d->oom = true;
	return p;
}

/* The arena frees everything at its reset. */
static void pbc_free_cb(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

/* Bytes the fast path refused: HW_EDECODE if protobuf-c's own unpack cannot take them
 * either, else the fast path's HW_ENONCANONICAL stands. Its quirks decide, not a copy of
 * them: a bool read from a value of any wire type, a plain sub-message written twice
 * merged (and refused when neither copy sets a oneof of it) ... Only refused bytes come
 * here, so valid records never pay for it. */
static int classify(struct dec *d, const ProtobufCMessageDescriptor *desc, const uint8_t *data,
		    size_t len)
{
	ProtobufCAllocator a = {.alloc = pbc_alloc_cb, .free = pbc_free_cb, .allocator_data = d};
	/* Never protobuf_c_message_free_unpacked(): the arena owns every byte. */
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, &a, len, data);
	if (d->oom)
		return oom(d);
	if (m == NULL)
		return hw_reject_set(d->rej, HW_EDECODE, d->what, "not a protobuf encoding of %s",
				     desc->name);
	return HW_ENONCANONICAL;
}

int hw_pbdec_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len,
		    struct hw_arena *arena, const char *what, ProtobufCMessage **out,
		    struct hw_pbdec_text *text, struct hw_reject *rej)
{
	static const uint8_t none[1];
	struct dec d = {.start = data,
			.arena = arena,
			.rej = rej,
			.what = what,
			.seen = {.ascii = true, .longest_bytes = 0}};
	ProtobufCMessage *m;

	*out = NULL;
	if (data == NULL) {
		HW_ASSERT(len == 0);
		d.start = data = none;
	}
	d.end = data + len;
	int rc = message_get(&d, desc, data, data + len, 0, &m);
	if (rc == HW_ENONCANONICAL)
		rc = classify(&d, desc, data, len);
	if (rc != 0)
		return rc;
	*out = m;
	if (text != NULL)
		*text = d.seen;
	return 0;
}
