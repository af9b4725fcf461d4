/* fuzz_channel.c: the encrypted channel (engine/io/channel.h) on hostile input, with the
 * deterministic session of fuzz/session.h so that seeds hold real handshakes and records.
 * The first input byte picks what the rest is (modulo 4):
 *   0  what a responder reads: hello_I, finish_I, then records (handshake_in, open)
 *   1  what an initiator reads after its hello: hello_R | finish_R, then records
 *   2  records into the responder of a completed session (open)
 *   3  a real session's record stream, tampered: pieces (a length byte and that many
 *      plaintext bytes, at most 16) are sealed, the last byte of input picks a tamper
 *      (none, flip a bit, cut, drop, duplicate, swap, insert a byte) applied at an offset
 *      taken from the byte before it, and the stream is opened by the responder
 * Contract checked: every answer is 0, -EAGAIN, -ENOBUFS, HW_ECLOSED or one of the
 * channel's codes; consumed never passes the input; a failure is sticky (the next call
 * answers the same); in mode 3, what opens is always a prefix of what was sealed, in
 * order, and a changed stream never ends cleanly (HW_ECLOSED and hw_channel_eof 0); an
 * untouched one always does. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "fuzz/session.h"

#define PIECES_MAX 16u
#define PLAIN_MAX  255u
#define STREAM_MAX ((PIECES_MAX + 1u) * HW_CHANNEL_RECORD_BYTES(PLAIN_MAX) + 1u)
#define OPEN_BYTES HW_CHANNEL_PLAINTEXT_MAX

static struct fuzz_ids ids;
static uint8_t *plain; /* OPEN_BYTES: hw_channel_open's output */

static bool channel_code(int rc)
{
	return rc == HW_EAUTH || rc == HW_ECLUSTER || rc == HW_EHANDSHAKE || rc == HW_EREPLAY ||
	       rc == HW_EDECRYPT || rc == HW_EFRAME || rc == HW_EPROTOCOL || rc == HW_ECHANNEL;
}

/* Open records from in until it runs out or the channel stops; the sticky-error rule is
 * checked on the way out. Returns the last answer. */
static int open_all(struct hw_channel *ch, const uint8_t *in, size_t len)
{
	size_t off = 0;
	int rc;
	for (;;) {
		size_t used = 0, n = 0;
		rc = hw_channel_open(ch, in + off, len - off, &used, plain, OPEN_BYTES, &n);
		FUZZ_CHECK(rc == 0 || rc == -EAGAIN || rc == HW_ECLOSED || channel_code(rc));
		FUZZ_CHECK(used <= len - off && n <= OPEN_BYTES);
		if (rc != 0)
			break;
		FUZZ_CHECK(used == HW_CHANNEL_RECORD_BYTES(n));
		off += used;
	}
	if (channel_code(rc)) {
		size_t used, n;
		FUZZ_CHECK(hw_channel_error(ch) == rc && !hw_channel_is_open(ch));
		FUZZ_CHECK(hw_channel_open(ch, in, len, &used, plain, OPEN_BYTES, &n) == rc);
	}
	return rc;
}

/* Feed in to ch's handshake, answering with handshake_out as a peer would; then the rest
 * to open. */
static void handshake_then_open(struct hw_channel *ch, const uint8_t *in, size_t len)
{
	uint8_t out[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
	size_t off = 0, n;
	int rc = 0;
	while (rc == 0 && !hw_channel_is_open(ch)) {
		size_t used = 0;
		rc = hw_channel_handshake_out(ch, out, sizeof out, &n);
		FUZZ_CHECK(rc == 0 || channel_code(rc));
		if (rc != 0 || hw_channel_is_open(ch))
			break;
		rc = hw_channel_handshake_in(ch, in + off, len - off, &used);
		FUZZ_CHECK(rc == 0 || rc == -EAGAIN || channel_code(rc));
		FUZZ_CHECK(used <= len - off && (rc == 0) == (used > 0));
		off += used;
	}
	if (rc == 0 && hw_channel_is_open(ch))
		open_all(ch, in + off, len - off);
	if (rc != -EAGAIN)
		return;
	FUZZ_CHECK(hw_channel_eof(ch) == HW_EHANDSHAKE);
}

struct tamper {
	uint8_t *s;                 /* the stream */
	size_t len;                 /* its length */
	size_t rec[PIECES_MAX + 2]; /* record i is s[rec[i] .. rec[i + 1]) */
	size_t nrec;
};

/* Apply tamper op at pos. Returns false when the stream is unchanged. */
static bool tamper(struct tamper *t, uint8_t op, uint8_t pos)
{
	static uint8_t tmp[STREAM_MAX];
	size_t at = t->len ? pos * t->len / 256u : 0, a = pos % t->nrec, b = (a + 1) % t->nrec;
	size_t alen = t->rec[a + 1] - t->rec[a], blen = t->rec[b + 1] - t->rec[b];
	switch (op % 7) {
	case 1: /* flip a bit */
		t->s[at] ^= (uint8_t)(1u << (op / 7 % 8));
		return true;
	case 2: /* cut */
		t->len = at;
		return true;
	case 3: /* drop record a */
		memmove(t->s + t->rec[a], t->s + t->rec[a + 1], t->len - t->rec[a + 1]);
		t->len -= alen;
		return true;
	case 4: /* duplicate record a right after itself */
		memmove(t->s + t->rec[a + 1] + alen, t->s + t->rec[a + 1], t->len - t->rec[a + 1]);
		memcpy(t->s + t->rec[a + 1], t->s + t->rec[a], alen);
		t->len += alen;
		return true;
	case 5: /* swap records a and a + 1 */
		if (b != a + 1)
			return false;
		memcpy(tmp, t->s + t->rec[a], alen + blen);
		memcpy(t->s + t->rec[a], tmp + alen, blen);
		memcpy(t->s + t->rec[a] + blen, tmp, alen);
		return true;
	case 6: /* insert a byte */
		memmove(t->s + at + 1, t->s + at, t->len - at);
		t->s[at] = pos;
		t->len++;
		return true;
	default:
		return false;
	}
}

/* Seal the pieces of in (with a final record after them), tamper, open; check the result. */
static void tampered_stream(struct hw_channel *i, struct hw_channel *r, const uint8_t *in,
			    size_t len)
{
	static uint8_t stream[2 * STREAM_MAX];
	const uint8_t *piece[PIECES_MAX];
	size_t plen[PIECES_MAX], np = 0, off = 0, n;
	struct tamper t = {.s = stream};
	if (len < 2)
		return;
	uint8_t op = in[len - 1], pos = in[len - 2];
	len -= 2;
	while (np < PIECES_MAX && off < len) {
		plen[np] = in[off] < len - off - 1 ? in[off] : len - off - 1;
		piece[np] = in + off + 1;
		off += 1 + plen[np];
		FUZZ_CHECK(hw_channel_seal(i, piece[np], plen[np], stream + t.len,
					   STREAM_MAX - t.len, &n) == 0);
		t.rec[np++] = t.len;
		t.len += n;
	}
	FUZZ_CHECK(hw_channel_close_seal(i, stream + t.len, STREAM_MAX - t.len, &n) == 0);
	t.rec[np] = t.len;
	t.len += n;
	t.rec[np + 1] = t.len;
	t.nrec = np + 1;
	bool changed = tamper(&t, op, pos);

	size_t got = 0, used;
	int rc;
	off = 0;
	while ((rc = hw_channel_open(r, stream + off, t.len - off, &used, plain, OPEN_BYTES, &n)) ==
	       0) {
		/* Whatever opens is the next piece sealed, unchanged. */
		FUZZ_CHECK(got < np && n == plen[got] && memcmp(plain, piece[got], n) == 0);
		got++;
		off += used;
	}
	FUZZ_CHECK(rc == -EAGAIN || rc == HW_ECLOSED || channel_code(rc));
	/* Bytes after the final record are never opened (HW_ECLOSED from then on): a stream with
	 * some ends cleanly for the channel, but not for this check. */
	bool clean = rc == HW_ECLOSED && off + used == t.len && hw_channel_eof(r) == 0;
	FUZZ_CHECK(clean == !changed);
	FUZZ_CHECK(!clean || got == np);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_rng_install();
	fuzz_ids_make(&ids);
	plain = malloc(OPEN_BYTES);
	FUZZ_CHECK(plain != NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hw_channel *i, *r;
	if (size == 0)
		return 0;
	fuzz_pair_new(&ids, &i, &r);
	const uint8_t *in = data + 1;
	size_t len = size - 1;
	switch (data[0] % 4) {
	case 0:
		handshake_then_open(r, in, len);
		break;
	case 1: {
		uint8_t hello[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
		size_t n;
		FUZZ_CHECK(hw_channel_handshake_out(i, hello, sizeof hello, &n) == 0);
		handshake_then_open(i, in, len);
		break;
	}
	case 2:
		FUZZ_CHECK(fuzz_handshake(i, r) == 0);
		open_all(r, in, len);
		break;
	default:
		FUZZ_CHECK(fuzz_handshake(i, r) == 0);
		tampered_stream(i, r, in, len);
		break;
	}
	hw_channel_free(i);
	hw_channel_free(r);
	return 0;
}
