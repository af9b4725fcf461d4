/* channel_bench.c: what the encrypted channel (engine/io/channel.h) costs: handshakes per
 * second, and seal and open throughput and time per frame at 512 B, 4 KiB and 64 KiB
 * frames, on one thread. Prints numbers for docs/benchmarks.md; not a test.
 *
 * usage: hawser-channel-bench [MIB]   (plaintext per frame size, default 256) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "engine/io/channel.h"
#include "engine/io/frame.h"
#include "hawser_error.h"

#define BATCH_BYTES (4u * 1024u * 1024u) /* sealed per batch before opening it */

static void die(const char *what, int rc)
{
	fprintf(stderr, "hawser-channel-bench: %s: %s (%s)\n", what, hw_strerror(rc),
		hw_errname(rc));
	exit(1);
}

/* A connected pair over in-memory buffers; aes_off: the XChaCha20-Poly1305 fallback. */
static void pair(const struct hw_identity *a, const struct hw_identity *b, bool aes_off,
		 struct hw_channel **i, struct hw_channel **r)
{
	uint8_t msg[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
	struct hw_channel_config ci = {
		HW_CHANNEL_INITIATOR, false, a, b->kx_pk, 1, "bench", 0, NULL, NULL, aes_off, 0};
	struct hw_channel_config cr = ci;
	cr.role = HW_CHANNEL_RESPONDER;
	cr.self = b;
	cr.pinned = a->kx_pk;
	int rc = hw_channel_new(&ci, i);
	if (rc == 0)
		rc = hw_channel_new(&cr, r);
	struct hw_channel *side[2] = {*i, *r};
	for (int round = 0; rc == 0 && round < 2; round++) {
		for (int s = 0; rc == 0 && s < 2; s++) {
			size_t n = 0, used = 0;
			rc = hw_channel_handshake_out(side[s], msg, sizeof msg, &n);
			if (rc == 0 && n)
				rc = hw_channel_handshake_in(side[1 - s], msg, n, &used);
		}
	}
	if (rc == 0 && !(hw_channel_is_open(*i) && hw_channel_is_open(*r)))
		rc = HW_EHANDSHAKE;
	if (rc)
		die("handshake", rc);
}

static void bench_handshake(const struct hw_identity *a, const struct hw_identity *b)
{
	const int n = 500;
	double t0 = hw_mono_s();
	for (int k = 0; k < n; k++) {
		struct hw_channel *i, *r;
		pair(a, b, false, &i, &r);
		hw_channel_free(i);
		hw_channel_free(r);
	}
	double us = (hw_mono_s() - t0) * 1e6 / n;
	printf("handshake (both ends, one thread): %.0f us, %.0f per second\n", us, 1e6 / us);
}

/* Seal then open total bytes of frames of frame bytes each, in batches. */
static void bench_size(const struct hw_identity *a, const struct hw_identity *b, bool aes_off,
		       size_t frame, uint64_t total, uint8_t *pt, uint8_t *batch, uint8_t *out)
{
	struct hw_channel *i, *r;
	pair(a, b, aes_off, &i, &r);
	memset(pt, 'x', frame);
	hw_frame_header(pt, HW_FRAME_APPEND, pt + HW_FRAME_HEADER_BYTES,
			(uint32_t)(frame - HW_FRAME_HEADER_BYTES));
	size_t per_batch = BATCH_BYTES / HW_CHANNEL_RECORD_BYTES(frame);
	uint64_t frames = total / frame, done = 0;
	double seal_s = 0, open_s = 0;
	while (done < frames) {
		size_t k = frames - done < per_batch ? (size_t)(frames - done) : per_batch, len = 0;
		double t0 = hw_mono_s();
		for (size_t j = 0; j < k; j++) {
			size_t n = 0;
			int rc = hw_channel_seal(i, pt, frame, batch + len, BATCH_BYTES - len, &n);
			if (rc)
				die("seal", rc);
			len += n;
		}
		double t1 = hw_mono_s();
		for (size_t off = 0; off < len;) {
			size_t used = 0, n = 0;
			int rc = hw_channel_open(r, batch + off, len - off, &used, out,
						 HW_CHANNEL_PLAINTEXT_MAX, &n);
			if (rc || n != frame)
				die("open", rc ? rc : HW_EFRAME);
			off += used;
		}
		seal_s += t1 - t0;
		open_s += hw_mono_s() - t1;
		done += k;
	}
	if (memcmp(out, pt, frame) != 0)
		die("open", HW_ECORRUPT);
	struct hw_channel_stats st;
	hw_channel_stats(i, &st);
	double mib = (double)(frames * frame) / (1024.0 * 1024.0);
	printf("%-17s %8zu %9llu %9.0f %9.0f %11.0f %9.0f %9.0f %8.2f %6llu\n",
	       hw_channel_cipher(i), frame, (unsigned long long)frames, mib / seal_s, mib / open_s,
	       mib / (seal_s + open_s), seal_s * 1e9 / (double)frames,
	       open_s * 1e9 / (double)frames, 100.0 * HW_CHANNEL_OVERHEAD_BYTES / (double)frame,
	       (unsigned long long)st.rekeys_out);
	hw_channel_free(i);
	hw_channel_free(r);
}

int main(int argc, char **argv)
{
	uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 256;
	if (mib == 0)
		mib = 256;
	struct hw_identity a, b;
	if (hw_identity_generate(&a) || hw_identity_generate(&b))
		die("keygen", HW_ENOMEM);
	uint8_t *pt = malloc(HW_CHANNEL_PLAINTEXT_MAX), *out = malloc(HW_CHANNEL_PLAINTEXT_MAX);
	uint8_t *batch = malloc(BATCH_BYTES);
	if (!pt || !out || !batch)
		die("memory", HW_ENOMEM);
	printf("hawser-channel-bench: libsodium AEAD records, %llu MiB per size, one thread, "
	       "rekey every 64 MiB\n",
	       (unsigned long long)mib);
	bench_handshake(&a, &b);
	printf("cipher               frame    frames  seal MB/s open MB/s seal+open MB/s "
	       "seal ns  open ns overhead%% rekeys\n");
	static const size_t sizes[] = {512, 4096, 65536};
	uint64_t total = mib * 1024 * 1024;
	for (int aes_off = 0; aes_off < 2; aes_off++) /* the machine's pick, then the fallback */
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
			bench_size(&a, &b, aes_off == 1, sizes[k], total, pt, batch, out);
	printf("(MB/s = MiB of plaintext per second; overhead = %u bytes per record)\n",
	       HW_CHANNEL_OVERHEAD_BYTES);
	hw_identity_wipe(&a);
	hw_identity_wipe(&b);
	free(pt);
	free(out);
	free(batch);
	return 0;
}
