/* frame.c: CRC32C, frame headers and the raw APPEND/SUBMIT body headers (frame.h). */
#include "engine/io/frame.h"

#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/log.h"
#include "hawser_error.h"

/* Reflected Castagnoli polynomial (iSCSI, ext4, LevelDB use the same CRC). */
#define CRC32C_POLY 0x82F63B78u

/* Slice-by-8 tables: crc_table[k][b] is the CRC of byte b followed by k zero bytes. They
 * are filled by a load-time constructor, before main and any thread, so no lazy
 * initialisation races and no lock is needed on the hot path. */
static uint32_t crc_table[8][256];
#if defined(__x86_64__)
static int crc_use_hw; /* SSE4.2 crc32 instruction present: set once, by crc_init */
#endif

static void crc_init(void) __attribute__((constructor));
static void crc_init(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int i = 0; i < 8; i++)
			c = (c & 1u) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++) {
			uint32_t prev = crc_table[k - 1][b];
			crc_table[k][b] = (prev >> 8) ^ crc_table[0][prev & 0xffu];
		}
#if defined(__x86_64__)
	/* GCC requires this before __builtin_cpu_supports inside a constructor. */
	__builtin_cpu_init();
	crc_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

uint32_t hw__crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint32_t lo = c ^ hw_get_u32(p);
		uint32_t hi = hw_get_u32(p + 4);
		c = crc_table[7][lo & 0xffu] ^ crc_table[6][(lo >> 8) & 0xffu] ^
		    crc_table[5][(lo >> 16) & 0xffu] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xffu] ^ crc_table[2][(hi >> 8) & 0xffu] ^
		    crc_table[1][(hi >> 16) & 0xffu] ^ crc_table[0][hi >> 24];
	}
	for (; len > 0; len--, p++)
		c = (c >> 8) ^ crc_table[0][(c ^ *p) & 0xffu];
	return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t hw__crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;
		memcpy(&w, p, sizeof w); /* unaligned load; x86 is little-endian */
		c = __builtin_ia32_crc32di(c, w);
	}
	uint32_t c32 = (uint32_t)c;
	for (; len > 0; len--, p++)
		c32 = __builtin_ia32_crc32qi(c32, *p);
	return ~c32;
}
#endif

uint32_t hw_crc32c(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	if (crc_use_hw)
		return hw__crc32c_hw(crc, buf, len);
#endif
	return hw__crc32c_sw(crc, buf, len);
}

uint32_t hw_frame_body_max(enum hw_frame_type t)
{
	switch (t) {
	case HW_FRAME_APPEND:
	case HW_FRAME_SNAPSHOT_CHUNK:
	case HW_FRAME_STATUS:
		return HW_FRAME_BYTES_MAX;
	case HW_FRAME_SUBMIT:
		return HW_SUBMIT_BODY_MAX;
	default:
		return HW_FRAME_CONTROL_BYTES_MAX;
	}
}

void hw_frame_header2(uint8_t hdr[HW_FRAME_HEADER_BYTES], enum hw_frame_type type,
		      const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	HW_ASSERT(type >= HW_FRAME_HELLO && type <= HW_FRAME_TYPE_MAX);
	HW_ASSERT((uint64_t)alen + blen <= hw_frame_body_max(type));
	HW_ASSERT((a != NULL || alen == 0) && (b != NULL || blen == 0));
	hw_put_u16(hdr, (uint16_t)HW_FRAME_MAGIC);
	hdr[2] = (uint8_t)HW_FRAME_VERSION;
	hdr[3] = (uint8_t)type;
	hw_put_u32(hdr + 4, alen + blen);
	uint32_t crc = hw_crc32c(0, hdr, 8);
	crc = hw_crc32c(crc, a, alen);
	hw_put_u32(hdr + 8, hw_crc32c(crc, b, blen));
}

void hw_frame_header(uint8_t hdr[HW_FRAME_HEADER_BYTES], enum hw_frame_type type,
		     const uint8_t *body, uint32_t len)
{
	hw_frame_header2(hdr, type, body, len, NULL, 0);
}

long hw_frame_parse(const uint8_t *buf, size_t avail, struct hw_frame *f)
{
	/* Bytes 0..7 decide whether the frame can ever be valid; refuse a bogus length here,
	 * before the caller buffers megabytes waiting for a body that will never check. */
	if (avail < 8)
		return 0;
	uint32_t len = hw_get_u32(buf + 4);
	if (hw_get_u16(buf) == HW_FRAME_MAGIC && buf[2] == HW_FRAME_CHANNEL_BYTE)
		return HW_ECHANNEL;
	if (hw_get_u16(buf) != HW_FRAME_MAGIC || buf[2] != HW_FRAME_VERSION || buf[3] == 0 ||
	    buf[3] > HW_FRAME_TYPE_MAX || len > hw_frame_body_max((enum hw_frame_type)buf[3]))
		return HW_EFRAME;
	size_t total = (size_t)HW_FRAME_HEADER_BYTES + len;
	if (avail < total)
		return 0;
	uint32_t crc = hw_crc32c(0, buf, 8);
	crc = hw_crc32c(crc, buf + HW_FRAME_HEADER_BYTES, len);
	if (crc != hw_get_u32(buf + 8))
		return HW_EFRAME;
	f->type = (enum hw_frame_type)buf[3];
	f->body = buf + HW_FRAME_HEADER_BYTES;
	f->len = len;
	return (long)total;
}

void hw_append_hdr_put(uint8_t *p, const struct hw_append_hdr *h)
{
	hw_put_u64(p, h->epoch);
	hw_put_u64(p + 8, h->primary_durable);
	hw_put_u32(p + 16, h->count);
	hw_put_u32(p + 20, h->flags);
}

int hw_append_hdr_get(const uint8_t *p, size_t len, struct hw_append_hdr *h)
{
	if (len < HW_APPEND_HEADER_BYTES || (hw_get_u32(p + 20) & ~HW_APPEND_FLAGS) != 0)
		return HW_EFRAME;
	h->epoch = hw_get_u64(p);
	h->primary_durable = hw_get_u64(p + 8);
	h->count = hw_get_u32(p + 16);
	h->flags = hw_get_u32(p + 20);
	return 0;
}

void hw_submit_hdr_put(uint8_t *p, const struct hw_submit_hdr *h)
{
	hw_put_u64(p, h->request_id);
	p[8] = h->mode;
	p[9] = h->k;
	hw_put_u16(p + 10, 0);
	hw_put_u32(p + 12, 0);
}

int hw_submit_hdr_get(const uint8_t *p, size_t len, struct hw_submit_hdr *h)
{
	if (len < HW_SUBMIT_HEADER_BYTES || hw_get_u16(p + 10) != 0 || hw_get_u32(p + 12) != 0)
		return HW_EFRAME;
	h->request_id = hw_get_u64(p);
	h->mode = p[8];
	h->k = p[9];
	return 0;
}

bool hw_frame_starts_plain(const uint8_t *buf, size_t len)
{
	return len >= 3 && hw_get_u16(buf) == HW_FRAME_MAGIC && buf[2] == HW_FRAME_VERSION;
}

size_t hw_frame_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	for (; v >= 0x80; v >>= 7)
		p[n++] = (uint8_t)(v | 0x80);
	p[n++] = (uint8_t)v;
	return n;
}

size_t hw_frame_error_put(uint8_t *buf, size_t cap, int code, const char *message)
{
	size_t mlen = strlen(message);
	HW_ASSERT(cap >= HW_FRAME_HEADER_BYTES + 2 * 10 + 2 + mlen);
	uint8_t *body = buf + HW_FRAME_HEADER_BYTES, *p = body;
	*p++ = 1u << 3 | 0u; /* field 1, varint: sint32 code, zigzag */
	p += hw_frame_varint_put(p, (uint32_t)((uint32_t)code << 1) ^ (uint32_t)(code >> 31));
	*p++ = 2u << 3 | 2u; /* field 2, length-delimited: message */
	p += hw_frame_varint_put(p, mlen);
	memcpy(p, message, mlen);
	p += mlen;
	uint32_t blen = (uint32_t)(p - body);
	hw_frame_header(buf, HW_FRAME_ERROR, body, blen);
	return HW_FRAME_HEADER_BYTES + blen;
}

/* A string field's tag, length and bytes at p, none for "" (proto3 leaves it out); s is
 * NUL-terminated within its cap bytes (asserted). */
static size_t string_put(uint8_t *p, unsigned field, const char *s, size_t cap)
{
	size_t len = strnlen(s, cap), n = 0;
	HW_ASSERT(len < cap);
	if (len == 0)
		return 0;
	p[n++] = (uint8_t)(field << 3 | 2u);
	n += hw_frame_varint_put(p + n, len);
	memcpy(p + n, s, len);
	return n + len;
}

size_t hw_frame_submit_reply_body(uint8_t *buf, size_t cap, const struct hw_outcome *o)
{
	HW_ASSERT(cap >= HW_SUBMIT_REPLY_FRAME_MAX - HW_FRAME_HEADER_BYTES);
	uint8_t *p = buf;
	uint32_t zigzag = (uint32_t)((uint32_t)o->code << 1) ^ (uint32_t)(o->code >> 31);
	if (o->request_id != 0) {
		*p++ = 1u << 3; /* field 1, varint: uint64 request_id */
		p += hw_frame_varint_put(p, o->request_id);
	}
	if (zigzag != 0) {
		*p++ = 2u << 3; /* field 2, varint: sint32 code */
		p += hw_frame_varint_put(p, zigzag);
	}
	if (o->lsn != 0) {
		*p++ = 3u << 3; /* field 3, varint: uint64 lsn */
		p += hw_frame_varint_put(p, o->lsn);
	}
	if (o->duplicate) {
		*p++ = 4u << 3; /* field 4, varint: bool duplicate */
		*p++ = 1;
	}
	p += string_put(p, 5, o->reject.field, sizeof o->reject.field);
	p += string_put(p, 6, o->reject.rule, sizeof o->reject.rule);
	return (size_t)(p - buf);
}

/* A varint at p[0..end), of at most max bytes: its value (bits past the 64th dropped) into
 * *v, and whether any of its bits is set into *any, as protobuf-c reads a bool (a varint
 * of 10 bytes may set only bits past the 64th). Returns its length, 0 when it runs past
 * end or max. */
static size_t varint_get(const uint8_t *p, const uint8_t *end, size_t max, uint64_t *v, bool *any)
{
	uint64_t x = 0;
	bool set = false;
	for (size_t i = 0; i < max && i < (size_t)(end - p); i++) {
		x |= (uint64_t)(p[i] & 0x7fu) << (7 * i); /* max <= 10: a shift of 63 at most */
		set = set || (p[i] & 0x7fu) != 0;
		if ((p[i] & 0x80u) == 0) {
			*v = x;
			*any = set;
			return i + 1;
		}
	}
	return 0;
}

/* A string field's bytes s[0..len) into out[0..cap), NUL-terminated, cut at its first
 * NUL or at cap - 1 bytes, as the client's copy of protobuf-c's string was. */
static void string_get(char *out, size_t cap, const uint8_t *s, size_t len)
{
	size_t n = 0;
	while (n < len && n < cap - 1 && s[n] != 0)
		n++;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* One field of a SubmitReply at p (its key read: field, wire type wt) into o: the bytes it
 * took, 0 when it is malformed (runs past end, a known field with another wire type, a
 * wire type protobuf-c refuses). Unknown fields are skipped, as protobuf-c skips them. */
static size_t reply_field(const uint8_t *p, const uint8_t *end, uint64_t field, unsigned wt,
			  struct hw_outcome *o)
{
	uint64_t v = 0;
	bool any = false;
	size_t n = 0, left = (size_t)(end - p);
	if (wt == 0)
		n = varint_get(p, end, 10, &v, &any);
	else if (wt == 1 || wt == 5)
		n = left >= (wt == 1 ? 8u : 4u) ? (wt == 1 ? 8u : 4u) : 0;
	else if (wt == 2 && (n = varint_get(p, end, 5, &v, &any)) != 0)
		n = v <= left - n ? n + (size_t)v : 0;
	bool varint = field >= 1 && field <= 4, text = field == 5 || field == 6;
	if (n == 0 || (varint && wt != 0) || (text && wt != 2))
		return 0;
	if (field == 1)
		o->request_id = v;
	else if (field == 2) /* sint32: zigzag of the low 32 bits */
		o->code = (int)(((uint32_t)v >> 1) ^ (0u - ((uint32_t)v & 1u)));
	else if (field == 3)
		o->lsn = v;
	else if (field == 4)
		o->duplicate = any;
	else if (text)
		string_get(field == 5 ? o->reject.field : o->reject.rule,
			   field == 5 ? sizeof o->reject.field : sizeof o->reject.rule,
			   p + (n - (size_t)v), (size_t)v);
	return n;
}

int hw_frame_submit_reply_get(const uint8_t *body, size_t len, struct hw_outcome *o)
{
	memset(o, 0, sizeof *o);
	const uint8_t *p = body, *end = body + len;
	while (p < end) {
		uint64_t key;
		bool any;
		size_t n = varint_get(p, end, 5, &key, &any);
		if (n == 0 || key >> 3 == 0 || key >> 3 > HW_PB_FIELD_MAX)
			return HW_EPROTOCOL;
		p += n;
		n = reply_field(p, end, key >> 3, (unsigned)(key & 7u), o);
		if (n == 0)
			return HW_EPROTOCOL;
		p += n;
	}
	o->reject.code = o->code;
	return 0;
}

/* Log the malformed frame that code refuses, as hw_frames_take says. */
static void log_refused(const struct hw_frames_from *from, int code)
{
	if (from->port == NULL)
		hw_log("frame_refused", "peer=%s code=%s", from->peer, hw_errname(code));
	else if (hw_log_every(from->every, "frame_refused", from->now_ms, HW_FLOOD_LOG_MS,
			      HW_FLOOD_LOG_LINES))
		hw_log("frame_refused", "peer=%s port=%s code=%s", from->peer, from->port,
		       hw_errname(code));
}

long hw_frames_take(const uint8_t *buf, size_t len, const struct hw_frames_from *from,
		    int (*on_frame)(void *arg, const struct hw_frame *f), void *arg)
{
	size_t used = 0;
	while (used < len) {
		struct hw_frame f;
		long got = hw_frame_parse(buf + used, len - used, &f);
		if (got == 0)
			break;
		if (got < 0) {
			log_refused(from, (int)got);
			if (from->refused != NULL)
				*from->refused = true;
			return got;
		}
		int rc = on_frame(arg, &f);
		if (rc == 1)
			break;
		if (rc < 0)
			return rc;
		used += (size_t)got;
	}
	return (long)used;
}
