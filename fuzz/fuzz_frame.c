/* fuzz_frame.c: hw_frame_parse (engine/io/frame.h) on a byte stream, as a connection
 * reads it: frame after frame until one is incomplete or refused.
 *
 * Contract checked: the answer is 0, HW_EFRAME, HW_ECHANNEL (only for bytes that start as
 * the encrypted channel's hello, "HWC") or a whole frame inside the buffer; f is
 * untouched unless a frame is returned; a returned frame's header is exactly what
 * hw_frame_header (and hw_frame_header2, split anywhere) writes for its type and body;
 * every shorter prefix of it asks for more bytes; the APPEND and SUBMIT raw body headers
 * that parse put back to the same bytes. */
#include <stdint.h>
#include <string.h>

#include "engine/io/frame.h"
#include "fuzz/fuzz.h"

/* A returned frame must be a well-formed one that the sender's functions reproduce. */
static void check_frame(const uint8_t *buf, long got, const struct hw_frame *f)
{
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	FUZZ_CHECK(got >= (long)HW_FRAME_HEADER_BYTES);
	FUZZ_CHECK(f->len == (uint32_t)got - HW_FRAME_HEADER_BYTES && f->len <= HW_FRAME_BYTES_MAX);
	FUZZ_CHECK(f->body == buf + HW_FRAME_HEADER_BYTES);
	FUZZ_CHECK(f->type >= HW_FRAME_HELLO && f->type <= HW_FRAME_TYPE_MAX);
	hw_frame_header(hdr, f->type, f->body, f->len);
	FUZZ_CHECK(memcmp(hdr, buf, sizeof hdr) == 0);
	uint32_t split = f->len / 3;
	hw_frame_header2(hdr, f->type, f->body, split, f->body + split, f->len - split);
	FUZZ_CHECK(memcmp(hdr, buf, sizeof hdr) == 0);
	/* Prefixes of a valid frame can still become it: never refused, never returned. */
	size_t cuts[] = {0, 7, 8, HW_FRAME_HEADER_BYTES - 1, (size_t)got - 1};
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		struct hw_frame g;
		if (cuts[i] < (size_t)got)
			FUZZ_CHECK(hw_frame_parse(buf, cuts[i], &g) == 0);
	}
}

static void check_raw_body(const struct hw_frame *f)
{
	uint8_t back[HW_APPEND_HEADER_BYTES];
	if (f->type == HW_FRAME_APPEND) {
		struct hw_append_hdr h;
		int rc = hw_append_hdr_get(f->body, f->len, &h);
		FUZZ_CHECK(rc == 0 || rc == HW_EFRAME);
		if (rc == 0) {
			hw_append_hdr_put(back, &h);
			FUZZ_CHECK(memcmp(back, f->body, HW_APPEND_HEADER_BYTES) == 0);
		}
	} else if (f->type == HW_FRAME_SUBMIT) {
		struct hw_submit_hdr h;
		int rc = hw_submit_hdr_get(f->body, f->len, &h);
		FUZZ_CHECK(rc == 0 || rc == HW_EFRAME);
		if (rc == 0) {
			hw_submit_hdr_put(back, &h);
			FUZZ_CHECK(memcmp(back, f->body, HW_SUBMIT_HEADER_BYTES) == 0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used = 0;
	while (used < size) {
		struct hw_frame f = {.type = 0, .body = NULL, .len = 7}; /* an impossible frame */
		long got = hw_frame_parse(data + used, size - used, &f);
		FUZZ_CHECK(got == 0 || got == HW_EFRAME ||
			   (got > 0 && (size_t)got <= size - used) ||
			   (got == HW_ECHANNEL && memcmp(data + used, "HWC", 3) == 0));
		if (got <= 0) {
			FUZZ_CHECK(f.type == 0 && f.body == NULL && f.len == 7);
			break;
		}
		check_frame(data + used, got, &f);
		check_raw_body(&f);
		used += (size_t)got;
	}
	return 0;
}
