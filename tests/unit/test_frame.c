/* test_frame.c: CRC32C, stream framing and the raw APPEND/SUBMIT body headers. */
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "base/rng.h"
#include "engine/io/frame.h"
#include "hawser_error.h"
#include "wire.pb-c.h"

/* Bit-at-a-time CRC32C straight from the definition: the reference both fast paths must
 * match. */
static uint32_t crc_ref(uint32_t crc, const uint8_t *p, size_t len)
{
	uint32_t c = ~crc;
	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int b = 0; b < 8; b++)
			c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

/* Deterministic bytes (splitmix64, fixed seed) so a failure replays identically. */
static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)hw_splitmix64(&seed);
}

/* Build header + body into out; returns the total length. */
static size_t make_frame(uint8_t *out, enum hw_frame_type type, const uint8_t *body, uint32_t len)
{
	hw_frame_header(out, type, body, len);
	if (len > 0)
		memcpy(out + HW_FRAME_HEADER_BYTES, body, len);
	return HW_FRAME_HEADER_BYTES + len;
}

/* The CRC gives the published answers: "123456789" and the RFC 3720 B.4 vectors. */
static void test_crc_known_answer(void **state)
{
	(void)state;
	uint8_t buf[32];
	assert_int_equal(hw_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(hw_crc32c(0, NULL, 0), 0);
	memset(buf, 0, sizeof buf);
	assert_int_equal(hw_crc32c(0, buf, sizeof buf), 0x8A9136AAu);
	memset(buf, 0xff, sizeof buf);
	assert_int_equal(hw_crc32c(0, buf, sizeof buf), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(hw_crc32c(0, buf, sizeof buf), 0x46DD794Eu);
}

/* Continuing from a previous CRC at any split point gives the CRC of the whole buffer. */
static void test_crc_continuation(void **state)
{
	(void)state;
	uint8_t buf[100];
	fill(buf, sizeof buf, 7);
	uint32_t whole = hw_crc32c(0, buf, sizeof buf);
	assert_int_equal(whole, crc_ref(0, buf, sizeof buf));
	for (size_t cut = 0; cut <= sizeof buf; cut++) {
		uint32_t a = hw_crc32c(0, buf, cut);
		assert_int_equal(hw_crc32c(a, buf + cut, sizeof buf - cut), whole);
		assert_int_equal(
			hw__crc32c_sw(hw__crc32c_sw(0, buf, cut), buf + cut, sizeof buf - cut),
			whole);
	}
}

/* The software tables and the SSE4.2 instruction agree with the bitwise reference for
 * every length up to 300 at every alignment, and when continuing from a nonzero CRC. */
static void test_crc_paths_agree(void **state)
{
	(void)state;
	uint8_t buf[300 + 8];
	fill(buf, sizeof buf, 42);
	int have_hw = 0;
#if defined(__x86_64__)
	have_hw = __builtin_cpu_supports("sse4.2");
#endif
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++) {
			uint32_t want = crc_ref(0x12345678u, buf + off, len);
			assert_int_equal(hw__crc32c_sw(0x12345678u, buf + off, len), want);
			assert_int_equal(hw_crc32c(0x12345678u, buf + off, len), want);
#if defined(__x86_64__)
			if (have_hw)
				assert_int_equal(hw__crc32c_hw(0x12345678u, buf + off, len), want);
#endif
		}
	if (!have_hw)
		print_message("no SSE4.2: only the software CRC path was checked\n");
}

/* Every frame type, with an empty, a small and its largest body, parses back to the same
 * type, body and length. */
static void test_round_trip_every_type(void **state)
{
	(void)state;
	uint32_t lens[] = {0, 1, 77, 0};
	uint8_t *body = malloc(HW_FRAME_BYTES_MAX);
	uint8_t *buf = malloc(HW_FRAME_HEADER_BYTES + HW_FRAME_BYTES_MAX);
	assert_non_null(body);
	assert_non_null(buf);
	fill(body, HW_FRAME_BYTES_MAX, 3);
	for (int t = HW_FRAME_HELLO; t <= HW_FRAME_TYPE_MAX; t++)
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			lens[3] = hw_frame_body_max((enum hw_frame_type)t);
			size_t n = make_frame(buf, (enum hw_frame_type)t, body, lens[i]);
			assert_memory_equal(buf, "HW\x01", 3);
			assert_int_equal(buf[3], t);
			struct hw_frame f;
			assert_int_equal(hw_frame_parse(buf, n, &f), (long)n);
			assert_int_equal(f.type, t);
			assert_int_equal(f.len, lens[i]);
			assert_ptr_equal(f.body, buf + HW_FRAME_HEADER_BYTES);
			assert_memory_equal(f.body, body, lens[i]);
		}
	free(buf);
	free(body);
}

/* A stream cut at every byte position asks for more until the frame is whole, then
 * returns its length; a truncated body never reads as an error. */
static void test_split_every_byte(void **state)
{
	(void)state;
	uint8_t body[200], buf[HW_FRAME_HEADER_BYTES + sizeof body];
	fill(body, sizeof body, 9);
	size_t n = make_frame(buf, HW_FRAME_APPEND, body, sizeof body);
	struct hw_frame f = {0};
	for (size_t avail = 0; avail < n; avail++) {
		assert_int_equal(hw_frame_parse(buf, avail, &f), 0);
		assert_null(f.body); /* f untouched until a frame is returned */
	}
	assert_int_equal(hw_frame_parse(buf, n, &f), (long)n);
	assert_int_equal(f.type, HW_FRAME_APPEND);
	assert_int_equal(f.len, sizeof body);
}

/* Two frames back to back parse one after the other, each with its own length, and the
 * first parse does not look at the second frame's bytes. */
static void test_back_to_back(void **state)
{
	(void)state;
	uint8_t a[10], b[33], buf[2 * HW_FRAME_HEADER_BYTES + sizeof a + sizeof b];
	fill(a, sizeof a, 1);
	fill(b, sizeof b, 2);
	size_t na = make_frame(buf, HW_FRAME_ACK, a, sizeof a);
	size_t nb = make_frame(buf + na, HW_FRAME_STATUS, b, sizeof b);
	struct hw_frame f;
	assert_int_equal(hw_frame_parse(buf, na + nb, &f), (long)na);
	assert_int_equal(f.type, HW_FRAME_ACK);
	assert_memory_equal(f.body, a, sizeof a);
	assert_int_equal(hw_frame_parse(buf, na + 3, &f), (long)na);
	assert_int_equal(hw_frame_parse(buf + na, nb, &f), (long)nb);
	assert_int_equal(f.type, HW_FRAME_STATUS);
	assert_memory_equal(f.body, b, sizeof b);
	assert_int_equal(hw_frame_parse(buf + na, nb - 1, &f), 0);
}

/* Bad magic, version, type 0 or 13 and a length over the maximum are refused as soon
 * as the first 8 bytes are in, before any CRC or body, and stay refused with more bytes. */
static void test_bad_header_refused_early(void **state)
{
	(void)state;
	struct {
		size_t off;
		uint8_t val;
	} bad[] = {{0, 'X'}, {1, 'X'}, {2, 0}, {2, 2}, {3, 0}, {3, HW_FRAME_TYPE_MAX + 1}};
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	struct hw_frame f;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		hw_frame_header(hdr, HW_FRAME_HEARTBEAT, NULL, 0);
		hdr[bad[i].off] = bad[i].val;
		assert_int_equal(hw_frame_parse(hdr, 7, &f), 0);
		assert_int_equal(hw_frame_parse(hdr, 8, &f), HW_EFRAME);
		assert_int_equal(hw_frame_parse(hdr, sizeof hdr, &f), HW_EFRAME);
	}
	/* Length MAX + 1 with a CRC that would match: only the length is wrong. */
	uint8_t big[HW_FRAME_HEADER_BYTES];
	hw_frame_header(big, HW_FRAME_SNAPSHOT_CHUNK, NULL, 0);
	big[4] = 1;
	big[5] = 0;
	big[6] = (uint8_t)(HW_FRAME_BYTES_MAX >> 16);
	big[7] = (uint8_t)(HW_FRAME_BYTES_MAX >> 24);
	assert_int_equal(hw_frame_parse(big, 8, &f), HW_EFRAME);
	assert_int_equal(hw_frame_parse(big, sizeof big, &f), HW_EFRAME);
	/* A huge length still inside the limit only asks for more: nothing refuses it yet. */
	big[4] = 0;
	assert_int_equal(hw_frame_parse(big, sizeof big, &f), 0);
	/* A control message's limit is smaller: a Hello, a vote, an ERROR past it are refused
	 * from their first 8 bytes (protobuf-c would spend megabytes on one), a STATUS, an
	 * APPEND, a SUBMIT of that length are not. */
	static const struct {
		enum hw_frame_type t;
		bool bulk;
	} types[] = {{HW_FRAME_HELLO, false}, {HW_FRAME_VOTE_REQUEST, false},
		     {HW_FRAME_ERROR, false}, {HW_FRAME_DIGEST_QUERY, false},
		     {HW_FRAME_STATUS, true}, {HW_FRAME_APPEND, true},
		     {HW_FRAME_SUBMIT, true}, {HW_FRAME_SNAPSHOT_CHUNK, true}};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		hw_frame_header(big, types[i].t, NULL, 0);
		hw_put_u32(big + 4, HW_FRAME_CONTROL_BYTES_MAX);
		assert_int_equal(hw_frame_parse(big, sizeof big, &f), 0);
		hw_put_u32(big + 4, HW_FRAME_CONTROL_BYTES_MAX + 1);
		assert_int_equal(hw_frame_parse(big, 8, &f), types[i].bulk ? 0 : HW_EFRAME);
	}
	/* A SUBMIT carries one record: a header announcing more is refused from its first 8
	 * bytes, where a node waited for up to 4 MiB of body. */
	hw_frame_header(big, HW_FRAME_SUBMIT, NULL, 0);
	hw_put_u32(big + 4, HW_SUBMIT_BODY_MAX);
	assert_int_equal(hw_frame_parse(big, 8, &f), 0);
	hw_put_u32(big + 4, HW_SUBMIT_BODY_MAX + 1);
	assert_int_equal(hw_frame_parse(big, 8, &f), HW_EFRAME);
}

/* The encrypted channel's hello read as a frame is the other channel (HW_ECHANNEL), told
 * from its first 8 bytes; and the ERROR frame a node sends such a peer parses as a frame
 * and decodes with protobuf-c to its code (negative: zigzag) and message. */
static void test_other_channel(void **state)
{
	(void)state;
	uint8_t hello[16] = {'H', 'W', 'C', 'H', 2, 1, 1, 0};
	struct hw_frame f;
	assert_int_equal(hw_frame_parse(hello, 7, &f), 0);
	assert_int_equal(hw_frame_parse(hello, 8, &f), HW_ECHANNEL);
	assert_false(hw_frame_starts_plain(hello, sizeof hello));
	uint8_t buf[256];
	const char *why = "this node runs insecure = true (plaintext): connect insecure too";
	size_t n = hw_frame_error_put(buf, sizeof buf, HW_ECHANNEL, why);
	assert_true(hw_frame_starts_plain(buf, n));
	assert_false(hw_frame_starts_plain(buf, 2));
	assert_int_equal(hw_frame_parse(buf, n, &f), (long)n);
	assert_int_equal(f.type, HW_FRAME_ERROR);
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, f.len, f.body);
	assert_non_null(e);
	assert_int_equal(e->code, HW_ECHANNEL);
	assert_string_equal(e->message, why);
	hawser__wire__v1__error__free_unpacked(e, NULL);
	/* a positive code and an empty message encode too */
	n = hw_frame_error_put(buf, sizeof buf, 300, "");
	assert_int_equal(hw_frame_parse(buf, n, &f), (long)n);
	e = hawser__wire__v1__error__unpack(NULL, f.len, f.body);
	assert_non_null(e);
	assert_int_equal(e->code, 300);
	assert_string_equal(e->message, "");
	hawser__wire__v1__error__free_unpacked(e, NULL);
}

/* Flipping any single bit of the header or the body makes the frame refused. The frame
 * sits in a buffer padded to the largest frame, so a flip that grows the length finds
 * its bytes there and fails the CRC instead of asking for more. */
static void test_every_bit_flip_refused(void **state)
{
	(void)state;
	uint8_t body[64];
	size_t cap = HW_FRAME_HEADER_BYTES + HW_FRAME_BYTES_MAX;
	uint8_t *buf = calloc(1, cap);
	assert_non_null(buf);
	fill(body, sizeof body, 5);
	size_t n = make_frame(buf, HW_FRAME_SUBMIT, body, sizeof body);
	struct hw_frame f;
	for (size_t bit = 0; bit < 8 * n; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(hw_frame_parse(buf, cap, &f), HW_EFRAME);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(hw_frame_parse(buf, cap, &f), (long)n);
	free(buf);
}

/* A header with part of its body is "need more" at every truncation, not an error. */
static void test_truncated_body_needs_more(void **state)
{
	(void)state;
	uint8_t body[1000], buf[HW_FRAME_HEADER_BYTES + sizeof body];
	fill(body, sizeof body, 11);
	size_t n = make_frame(buf, HW_FRAME_SNAPSHOT_CHUNK, body, sizeof body);
	struct hw_frame f;
	assert_int_equal(hw_frame_parse(buf, HW_FRAME_HEADER_BYTES, &f), 0);
	assert_int_equal(hw_frame_parse(buf, n / 2, &f), 0);
	assert_int_equal(hw_frame_parse(buf, n - 1, &f), 0);
	assert_int_equal(hw_frame_parse(buf, n, &f), (long)n);
}

/* The APPEND body header round-trips little-endian with its flags; a flag this reader
 * does not know, or a short body, is refused. */
static void test_append_hdr(void **state)
{
	(void)state;
	uint8_t p[HW_APPEND_HEADER_BYTES];
	struct hw_append_hdr in = {0x0102030405060708ull, 0xfedcba9876543210ull, 4096,
				   HW_APPEND_NO_RECEIPT};
	struct hw_append_hdr out = {0};
	memset(p, 0xaa, sizeof p);
	hw_append_hdr_put(p, &in);
	assert_int_equal(p[0], 0x08);
	assert_int_equal(p[7], 0x01);
	assert_int_equal(p[20], HW_APPEND_NO_RECEIPT);
	assert_int_equal(hw_append_hdr_get(p, sizeof p, &out), 0);
	assert_true(out.epoch == in.epoch);
	assert_true(out.primary_durable == in.primary_durable);
	assert_int_equal(out.count, in.count);
	assert_int_equal(out.flags, HW_APPEND_NO_RECEIPT);
	assert_int_equal(hw_append_hdr_get(p, sizeof p - 1, &out), HW_EFRAME);
	p[20] = 0; /* what a primary before the flags wrote */
	assert_int_equal(hw_append_hdr_get(p, sizeof p, &out), 0);
	assert_int_equal(out.flags, 0);
	for (size_t bit = 1; bit < 32; bit++) {
		p[20 + bit / 8] = (uint8_t)(1u << (bit % 8));
		assert_int_equal(hw_append_hdr_get(p, sizeof p, &out), HW_EFRAME);
		p[20 + bit / 8] = 0;
	}
}

/* The SUBMIT body header round-trips, and each nonzero reserved byte or a short body is
 * refused. */
static void test_submit_hdr(void **state)
{
	(void)state;
	uint8_t p[HW_SUBMIT_HEADER_BYTES];
	struct hw_submit_hdr in = {0x1122334455667788ull, HW_SUBMIT_MODE_DEFAULT, 3};
	struct hw_submit_hdr out = {0};
	memset(p, 0xaa, sizeof p);
	hw_submit_hdr_put(p, &in);
	assert_int_equal(p[0], 0x88);
	assert_int_equal(hw_submit_hdr_get(p, sizeof p, &out), 0);
	assert_true(out.request_id == in.request_id);
	assert_int_equal(out.mode, HW_SUBMIT_MODE_DEFAULT);
	assert_int_equal(out.k, 3);
	assert_int_equal(hw_submit_hdr_get(p, sizeof p - 1, &out), HW_EFRAME);
	for (size_t i = 10; i < 16; i++) {
		p[i] = 0x80;
		assert_int_equal(hw_submit_hdr_get(p, sizeof p, &out), HW_EFRAME);
		p[i] = 0;
	}
}

/* What hw_frames_take's on_frame saw, and what it answers for the frame at index stop. */
struct seen {
	enum hw_frame_type type[8];
	uint32_t len[8];
	int n;
	int stop;    /* index of the frame answered with stop_rc, or -1 */
	int stop_rc; /* 1: paused (not taken), < 0: closed */
};

static int on_frame(void *arg, const struct hw_frame *f)
{
	struct seen *s = arg;
	if (s->n == s->stop)
		return s->stop_rc;
	s->type[s->n] = f->type;
	s->len[s->n++] = f->len;
	return 0;
}

/* Whole frames are handed over in order and counted as taken; a partial one at the end is
 * left for more; a frame its taker pauses on is not taken (it comes again); a taker's
 * error and a damaged frame end the buffer with their codes, the damaged one's said as
 * refused (its frame_refused written). */
static void test_frames_take(void **state)
{
	(void)state;
	uint8_t body[64], buf[512];
	fill(body, sizeof body, 9);
	size_t a = make_frame(buf, HW_FRAME_HEARTBEAT, body, 10);
	size_t b = make_frame(buf + a, HW_FRAME_ACK, body, 64);
	size_t c = make_frame(buf + a + b, HW_FRAME_SUBMIT, body, 3);
	size_t all = a + b + c;

	bool refused = false;
	struct hw_frames_from from = {.peer = "test", .refused = &refused};
	struct seen s = {.stop = -1};
	assert_int_equal(hw_frames_take(buf, all - 1, &from, on_frame, &s), (long)(a + b));
	assert_int_equal(s.n, 2);
	assert_int_equal(s.type[0], HW_FRAME_HEARTBEAT);
	assert_int_equal(s.len[0], 10);
	assert_int_equal(s.type[1], HW_FRAME_ACK);
	assert_int_equal(s.len[1], 64);

	s = (struct seen){.stop = -1};
	assert_int_equal(hw_frames_take(buf, all, &from, on_frame, &s), (long)all);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.type[2], HW_FRAME_SUBMIT);

	s = (struct seen){.stop = 1, .stop_rc = 1};
	assert_int_equal(hw_frames_take(buf, all, &from, on_frame, &s), (long)a);
	assert_int_equal(s.n, 1);

	s = (struct seen){.stop = 2, .stop_rc = HW_EPROTOCOL};
	assert_int_equal(hw_frames_take(buf, all, &from, on_frame, &s), HW_EPROTOCOL);
	assert_int_equal(s.n, 2);
	assert_false(refused); /* the taker's code: no frame of it was refused */

	buf[a + HW_FRAME_HEADER_BYTES + 5] ^= 0x01; /* the second frame's body: CRC fails */
	s = (struct seen){.stop = -1};
	assert_int_equal(hw_frames_take(buf, all, &from, on_frame, &s), HW_EFRAME);
	assert_int_equal(s.n, 1);
	assert_true(refused);
}

/* Outcome i of a seeded series (x): request ids and LSNs of every bit length and 0, codes
 * of both signs and both extremes, duplicate or not, and field and rule empty or up to
 * their arrays' last byte (lengths of one and two varint bytes). */
static void outcome_make(unsigned i, uint64_t *x, struct hw_outcome *o)
{
	static const int codes[] = {0, -1, 1, HW_EBUSY, HW_EUTF8, INT32_MIN, INT32_MAX};
	memset(o, 0, sizeof *o);
	uint64_t r = hw_splitmix64(x);
	o->request_id = i % 65 == 0 ? 0 : r >> (i % 64);
	o->lsn = i % 7 == 0 ? 0 : hw_splitmix64(x) >> (i % 61);
	o->code = i % 3 == 0 ? (int)(uint32_t)hw_splitmix64(x) : codes[i % 7];
	o->duplicate = (r & 1) != 0;
	size_t flen = (size_t)(r >> 8) % sizeof o->reject.field;
	size_t rlen = (size_t)(r >> 16) % sizeof o->reject.rule;
	for (size_t k = 0; k < flen; k++)
		o->reject.field[k] = (char)(' ' + (k + i) % 95);
	for (size_t k = 0; k < rlen; k++)
		o->reject.rule[k] = (char)(' ' + (k * 7 + i) % 95);
}

/* A SUBMIT_REPLY body written by hand is the bytes protobuf-c packs for the same
 * SubmitReply, for 20,000 outcomes (outcome_make). Seeded: it prints it. */
static void test_submit_reply_body(void **state)
{
	(void)state;
	uint64_t seed = 0x5eed0024u, x = seed;
	print_message("seed %" PRIu64 "\n", seed);
	for (unsigned i = 0; i < 20000; i++) {
		struct hw_outcome o;
		outcome_make(i, &x, &o);
		uint8_t mine[HW_SUBMIT_REPLY_FRAME_MAX], theirs[HW_SUBMIT_REPLY_FRAME_MAX];
		size_t n = hw_frame_submit_reply_body(mine, sizeof mine, &o);
		Hawser__Wire__V1__SubmitReply m = HAWSER__WIRE__V1__SUBMIT_REPLY__INIT;
		m.request_id = o.request_id;
		m.code = o.code;
		m.lsn = o.lsn;
		m.duplicate = o.duplicate;
		m.field = o.reject.field;
		m.rule = o.reject.rule;
		size_t want = hawser__wire__v1__submit_reply__get_packed_size(&m);
		assert_true(want <= sizeof theirs);
		assert_int_equal(hawser__wire__v1__submit_reply__pack(&m, theirs), want);
		assert_int_equal(n, want);
		assert_memory_equal(mine, theirs, n);
	}
}

/* a and b hold the same outcome (their strings as strings: a repeated field's bytes may
 * stay past a shorter one's NUL). */
static void outcome_equal(const struct hw_outcome *a, const struct hw_outcome *b)
{
	assert_int_equal(a->request_id, b->request_id);
	assert_int_equal(a->code, b->code);
	assert_int_equal(a->lsn, b->lsn);
	assert_int_equal(a->duplicate, b->duplicate);
	assert_int_equal(a->reject.code, b->reject.code);
	assert_string_equal(a->reject.field, b->reject.field);
	assert_string_equal(a->reject.rule, b->reject.rule);
}

/* body[0..len) through hw_frame_submit_reply_get and through protobuf-c's unpack: when the
 * former takes it, the latter does too, with the same outcome (its strings as the client
 * copied them: cut at a NUL and to reject's arrays). Returns whether the former took it;
 * *theirs_ok whether protobuf-c did. */
static bool reply_agrees(const uint8_t *body, size_t len, bool *theirs_ok)
{
	struct hw_outcome mine, want;
	bool ok = hw_frame_submit_reply_get(body, len, &mine) == 0;
	Hawser__Wire__V1__SubmitReply *r = hawser__wire__v1__submit_reply__unpack(NULL, len, body);
	*theirs_ok = r != NULL;
	if (!ok || r == NULL) {
		assert_false(ok); /* never laxer than protobuf-c */
		if (r != NULL)
			hawser__wire__v1__submit_reply__free_unpacked(r, NULL);
		return ok;
	}
	memset(&want, 0, sizeof want);
	want.request_id = r->request_id;
	want.code = want.reject.code = r->code;
	want.lsn = r->lsn;
	want.duplicate = r->duplicate;
	snprintf(want.reject.field, sizeof want.reject.field, "%s", r->field);
	snprintf(want.reject.rule, sizeof want.reject.rule, "%s", r->rule);
	hawser__wire__v1__submit_reply__free_unpacked(r, NULL);
	outcome_equal(&mine, &want);
	return ok;
}

/* One field of a SubmitReply's encoding (or an unknown one) for reply_bytes to shuffle:
 * field number, wire type and value (a varint's, or a length for wire type 2, of x). */
static size_t put_field(uint8_t *p, uint64_t field, unsigned wt, uint64_t v, uint64_t *x)
{
	size_t n = hw_frame_varint_put(p, field << 3 | wt);
	if (wt == 0)
		return n + hw_frame_varint_put(p + n, v);
	size_t len = wt == 1 ? 8 : wt == 5 ? 4 : (size_t)v;
	if (wt == 2)
		n += hw_frame_varint_put(p + n, v);
	for (size_t k = 0; k < len; k++)
		p[n + k] = (uint8_t)(wt == 2 && k % 3 ? ' ' + k % 90 : hw_splitmix64(x));
	return n + len;
}

/* A SubmitReply as another encoder might write it: its fields in a random order, some
 * twice, with unknown fields of every wire type protobuf-c skips among them. */
static size_t reply_bytes(uint8_t *p, uint64_t *x)
{
	size_t n = 0;
	unsigned count = 1 + (unsigned)(hw_splitmix64(x) % 9);
	for (unsigned i = 0; i < count; i++) {
		uint64_t r = hw_splitmix64(x), field = 1 + r % 8;
		static const unsigned other[] = {0, 1, 2, 5};
		unsigned wt = field <= 4 ? 0 : field <= 6 ? 2 : other[(r >> 8) % 4];
		if (field == 8)
			field = 7 + (r >> 16) % 100000;
		uint64_t v = wt == 2 ? (r >> 24) % 70 : hw_splitmix64(x) >> (r >> 32) % 64;
		n += put_field(p + n, field, wt, v, x);
	}
	return n;
}

/* The client's decoder of SUBMIT_REPLY agrees with protobuf-c's unpack: on every body a
 * node writes (20,000 outcomes, outcome_make), on bodies another encoder could write
 * (reply_bytes: any order, repeats, unknown fields), and, never laxer, on every cut and
 * every single-byte change of the latter. Seeded: it prints it. */
static void test_submit_reply_get(void **state)
{
	(void)state;
	uint64_t seed = 0x5eed0025u, x = seed;
	print_message("seed %" PRIu64 "\n", seed);
	uint8_t body[2048];
	bool theirs;
	for (unsigned i = 0; i < 20000; i++) {
		struct hw_outcome o, back;
		outcome_make(i, &x, &o);
		size_t n = hw_frame_submit_reply_body(body, sizeof body, &o);
		assert_true(reply_agrees(body, n, &theirs));
		assert_int_equal(hw_frame_submit_reply_get(body, n, &back), 0);
		o.reject.code = o.code;
		outcome_equal(&back, &o);
	}
	unsigned refused = 0;
	for (unsigned i = 0; i < 2000; i++) {
		size_t n = reply_bytes(body, &x);
		assert_true(reply_agrees(body, n, &theirs));
		for (size_t cut = 0; cut < n; cut++)
			(void)reply_agrees(body, cut, &theirs);
		size_t at = (size_t)(hw_splitmix64(&x) % n);
		uint8_t was = body[at];
		body[at] = (uint8_t)hw_splitmix64(&x);
		refused += !reply_agrees(body, n, &theirs) && theirs;
		body[at] = was;
	}
	print_message("changed bodies protobuf-c took and the decoder refused: %u of 2000\n",
		      refused);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_known_answer),
		cmocka_unit_test(test_crc_continuation),
		cmocka_unit_test(test_crc_paths_agree),
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_split_every_byte),
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_bad_header_refused_early),
		cmocka_unit_test(test_other_channel),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_truncated_body_needs_more),
		cmocka_unit_test(test_append_hdr),
		cmocka_unit_test(test_submit_hdr),
		cmocka_unit_test(test_frames_take),
		cmocka_unit_test(test_submit_reply_body),
		cmocka_unit_test(test_submit_reply_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
