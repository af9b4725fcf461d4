/* channel.h: the authenticated, encrypted channel between two hawser nodes, as a sans-IO
 * state machine: bytes in, bytes out, no sockets, no clock, so it sits in front of the
 * frame parser (engine/io/frame.h) on any transport and can be fuzzed on its own.
 *
 * Threat model and operator view: docs/security.md. Design (reliability-security.md 3.2):
 *
 * Identity. Each node has a static X25519 key pair for the channel (and an Ed25519 pair
 * for signatures, unused here), written by `hawser keygen`. A peer is accepted only if
 * its static X25519 public key is in the pinned set the caller passes; several keys may
 * be pinned at once, which is how a node's key is rotated without downtime (pin the new
 * key everywhere, restart the node with it, unpin the old one).
 *
 * Handshake (1.5 round trips; I = initiator, the side that connected; R = responder):
 *   I -> R  hello_I
 *   R -> I  hello_R | finish_R
 *   I -> R  finish_I                      (I may send records right after it)
 * hello (HW_CHANNEL_HELLO_BYTES, fixed):
 *   off len
 *     0   4  magic "HWCH" (a plain frame parser refuses it: its version byte is 'C')
 *     4   1  version (2)
 *     5   1  role of the sender (1 initiator, 2 responder)
 *     6   1  ciphers the sender can run: bit 0 AES-256-GCM (it has AES-NI); others zero
 *     7   1  zero
 *     8  32  cluster id, zero-padded
 *    40  32  static X25519 public key
 *    72  32  ephemeral X25519 public key (fresh per connection)
 *   104  32  random nonce
 * Both sides hash the transcript th = BLAKE2b-512(label | hello_I | hello_R), then
 *   master = BLAKE2b-512(key = th, DH(e_I, e_R) | DH(e_I, s_R) | DH(s_I, e_R))
 * and derive per-direction record keys, nonce bases (iv), MAC keys and an AD binding from
 * master with keyed BLAKE2b and distinct labels. ee gives forward secrecy; es and se
 * authenticate R and I (only the holder of the static secret can compute them), so session
 * keys never depend on the static keys alone (the crypto_kx pitfall). finish
 * (HW_CHANNEL_FINISH_BYTES) = HMAC-SHA-512-256(mac key of the sender's direction, th). A
 * captured hello or finish cannot complete a new session: the other side's fresh
 * ephemeral key and nonce are in th and in the DH results.
 *
 * Cipher. Records are sealed with AES-256-GCM when both hellos offer it (libsodium's
 * AES-NI code, about 2.5x faster than XChaCha20-Poly1305 on the small records a durable
 * submit makes), else with XChaCha20-Poly1305 (IETF); the hellos are in th, so a bit
 * cleared on the way fails the finish MACs and the fallback cannot be forced.
 *
 * Records (version 2, after the handshake):
 *     0   4  ciphertext length n (u32 LE) = plaintext length + 16
 *     4   8  sequence number (u64 LE), 0 for the first record of a direction
 *    12   1  type: 1 message, 2 rekey, 3 final (empty)
 *    13   n  AEAD ciphertext | 16-byte tag
 * The nonce of record s is the direction's iv with s (u64 LE) XORed into its last 8
 * bytes (the first 12 bytes of iv for AES-256-GCM, 24 for XChaCha20), taken from the
 * receiver's own count, so a replayed, reordered or lost record cannot open. The
 * additional data of every record is its 13-byte header and a 32-byte binding derived from
 * th and the direction (so from both hellos: cluster id, both keys, both nonces, the
 * ciphers). The plaintext is a whole frame (header, type and body), so the frame type is
 * encrypted and authenticated. The sender marks a record "rekey" once every rekey_bytes
 * of plaintext; after it both sides ratchet that direction's key forward (key =
 * BLAKE2b(key = key, label), the old one wiped) while the sequence numbers run on. A
 * direction ends with a "final" record (hw_channel_close_seal), so a stream cut short is
 * told apart from a clean close (hw_channel_eof).
 *
 * Failure is sticky: after any error other than -EAGAIN and -ENOBUFS, the channel is dead,
 * its keys are wiped and every later call returns the same code; close the connection.
 * Codes: HW_EAUTH (peer's static key not pinned), HW_ECLUSTER (other cluster or version),
 * HW_EHANDSHAKE (malformed or out-of-order handshake, wrong MAC, bad DH), HW_ECHANNEL (a
 * plaintext frame where a hello belongs: the peer runs insecure), HW_EREPLAY
 * (record with a sequence number other than the next: replayed, reordered or one lost),
 * HW_EDECRYPT (record failed authentication, or the stream ended without its final record),
 * HW_EFRAME (record length over the limit, unknown record type, a final record that is
 * not empty), HW_EPROTOCOL (a call out of order, e.g. open before the handshake is done);
 * and HW_ECLOSED, not an error: the peer closed cleanly.
 *
 * Insecure mode (explicit in the config, visible through hw_channel_insecure()): no
 * handshake, and seal and open copy bytes unchanged; for tests and closed lab networks.
 *
 * Threads: a channel belongs to one thread (one connection's loop). Not async-signal-safe.
 * Randomness comes from cfg->random_cb (default libsodium's randombytes_buf). */
#ifndef HW_IO_CHANNEL_H
#define HW_IO_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/io/frame.h"

#define HW_CHANNEL_KEY_BYTES        32u /* X25519 public or secret key */
#define HW_CHANNEL_SIGN_PK_BYTES    32u /* Ed25519 public key */
#define HW_CHANNEL_SIGN_SK_BYTES    64u /* Ed25519 secret key (seed | public key) */
#define HW_CHANNEL_CLUSTER_BYTES    32u /* cluster id field of the hello; engine/config.h */
#define HW_CHANNEL_HELLO_BYTES      136u
#define HW_CHANNEL_FINISH_BYTES     32u
#define HW_CHANNEL_SESSION_ID_BYTES 16u
/* Largest handshake output of one hw_channel_handshake_out call (R's hello | finish). */
#define HW_CHANNEL_HANDSHAKE_BYTES_MAX (HW_CHANNEL_HELLO_BYTES + HW_CHANNEL_FINISH_BYTES)

#define HW_CHANNEL_RECORD_HEADER_BYTES 13u
#define HW_CHANNEL_ABYTES              16u /* the AEAD tag, both ciphers */
#define HW_CHANNEL_OVERHEAD_BYTES      (HW_CHANNEL_RECORD_HEADER_BYTES + HW_CHANNEL_ABYTES)
/* A record carries one whole frame at most: the frame limit bounds the channel too. */
#define HW_CHANNEL_PLAINTEXT_MAX       (HW_FRAME_HEADER_BYTES + HW_FRAME_BYTES_MAX)
#define HW_CHANNEL_RECORD_BYTES(plain) ((size_t)(plain) + HW_CHANNEL_OVERHEAD_BYTES)

/* Rekey (a "rekey" record) after this much plaintext per direction. 64 MiB bounds how much
 * one key protects (far below AES-GCM's limits) while costing one BLAKE2b and one AES key
 * expansion per 64 MiB (nothing measurable). */
#define HW_CHANNEL_REKEY_BYTES_DEFAULT (64ull * 1024u * 1024u)
/* Pinned peer keys per channel: every node of a cluster, twice during a rotation. */
#define HW_CHANNEL_PINNED_MAX 16u

_Static_assert(HW_CHANNEL_CLUSTER_BYTES == 32u, "cluster id field of the hello");
_Static_assert(HW_CHANNEL_PLAINTEXT_MAX + HW_CHANNEL_ABYTES <= UINT32_MAX, "length is u32");

/* A node's static identity: X25519 for the channel, Ed25519 for signatures (checkpoints,
 * later). Secret: wipe it (hw_identity_wipe) when done. */
struct hw_identity {
	uint8_t kx_pk[HW_CHANNEL_KEY_BYTES];
	uint8_t kx_sk[HW_CHANNEL_KEY_BYTES];
	uint8_t sign_pk[HW_CHANNEL_SIGN_PK_BYTES];
	uint8_t sign_sk[HW_CHANNEL_SIGN_SK_BYTES];
};

/* Fill buf[0..len) with random bytes. */
typedef void hw_channel_random_cb(void *arg, uint8_t *buf, size_t len);

enum hw_channel_role {
	HW_CHANNEL_INITIATOR = 1, /* the side that connected */
	HW_CHANNEL_RESPONDER = 2, /* the side that accepted */
};

struct hw_channel_config {
	enum hw_channel_role role;
	bool insecure;                  /* pass bytes through: no handshake, no encryption */
	const struct hw_identity *self; /* own keys; copied; may be NULL when insecure */
	const uint8_t *pinned;  /* pinned_count peer X25519 keys, 32 bytes each, back to back */
	size_t pinned_count;    /* 1..HW_CHANNEL_PINNED_MAX (0 only when insecure) */
	const char *cluster_id; /* 1..32 bytes, both sides equal */
	uint64_t rekey_bytes;   /* 0: HW_CHANNEL_REKEY_BYTES_DEFAULT */
	hw_channel_random_cb *random_cb; /* NULL: randombytes_buf; tests pass a seeded one */
	void *random_arg;
	bool aes_off; /* never offer AES-256-GCM: XChaCha20-Poly1305 (tests of the fallback) */
	/* The largest record plaintext this side opens: a record whose header says more is
	 * refused from its header (HW_EFRAME), before its body is buffered. 0:
	 * HW_CHANNEL_PLAINTEXT_MAX, which is also the most it may be. */
	uint32_t open_max;
};

struct hw_channel_stats {
	uint64_t records_out, records_in;
	uint64_t bytes_out, bytes_in; /* plaintext */
	uint64_t rekeys_out, rekeys_in;
};

struct hw_channel;

/* ---- identities and key files */

/* Generate a fresh identity from libsodium's random source. Returns 0 or HW_ENOMEM
 * (sodium_init failed). */
int hw_identity_generate(struct hw_identity *id);

/* Text of node.key (secret) or node.pub into buf (cap >= 512). node.key:
 *   hawser-node-key v1
 *   kx <64 hex: X25519 secret>
 *   sign <64 hex: Ed25519 seed>
 * node.pub, the kx line being what peers pin:
 *   hawser-node-pub v1
 *   kx <64 hex: X25519 public>
 *   sign <64 hex: Ed25519 public>
 * Lines starting with '#' are comments. Returns the length written, or -ENOBUFS. */
long hw_identity_format_secret(const struct hw_identity *id, char *buf, size_t cap);
long hw_identity_format_public(const struct hw_identity *id, char *buf, size_t cap);

/* Parse node.key text (len bytes, need not be NUL-terminated) into id, deriving the
 * public keys. Returns 0 or HW_ECONFIG (any malformed line, missing key). */
int hw_identity_parse(const char *text, size_t len, struct hw_identity *id);

/* Read and parse the node.key file at path. Refuses a file that group or others may
 * read or write (HW_ECONFIG, as ssh does), one over 4 KiB (HW_ECONFIG). Returns 0, -errno
 * or HW_ECONFIG. Start-up only: it blocks on the file system. */
int hw_identity_load(const char *path, struct hw_identity *id);

/* Read the pinned key (its kx line) from a node.pub file at path. Returns 0, -errno or
 * HW_ECONFIG (not starting "hawser-node-pub v1", so never a node.key; no well-formed kx
 * line; file over 4 KiB). Start-up only. */
int hw_channel_key_load(const char *path, uint8_t key[HW_CHANNEL_KEY_BYTES]);

/* A pinned key's name: its file's name up to the first '.' ("s1.pub" and "s1.new.pub"
 * name s1), truncated to fit. A peer that says it is node X must hold a key named X. */
#define HW_CHANNEL_PIN_NAME_BYTES 64u

/* Pin the key of the node.pub file at path, or of every *.pub file in it when path is a
 * directory: appended at keys[*n] and, unless names is NULL, its name at names[*n]; *n
 * counted up (cap keys at most), but not for a key already pinned under that name. Returns 0,
 * -errno, -E2BIG (more than cap keys) or HW_ECONFIG (a file without a well-formed kx line).
 * Start-up only. */
int hw_channel_pins_load(const char *path, uint8_t (*keys)[HW_CHANNEL_KEY_BYTES],
			 char (*names)[HW_CHANNEL_PIN_NAME_BYTES], size_t cap, size_t *n);

/* Pin every item of a comma-separated list of node.pub files and directories (as
 * hw_channel_pins_load) into keys[0..*n) (and names[0..*n) unless NULL). Returns 0, or the
 * first error with the item in bad (bad_cap bytes): -ENOENT for an empty item, -ENOKEY
 * for a list (the last item in bad) giving no key, a directory without a *.pub. */
int hw_channel_pins_parse(const char *list, uint8_t (*keys)[HW_CHANNEL_KEY_BYTES],
			  char (*names)[HW_CHANNEL_PIN_NAME_BYTES], size_t cap, size_t *n,
			  char *bad, size_t bad_cap);

/* What an error of hw_channel_pins_parse says about its item, for a message. */
const char *hw_channel_pins_strerror(int rc);

/* Is key (NULL: none) pinned under the name id, as keys[0..n) and their names[0..n) were
 * pinned (hw_channel_pins_load)? A peer that says it is node X, or that a client dialed as
 * X (ID@ADDR), must hold a key named X: one pinned set holds every node's key and the
 * clients', and a pinned key of another name must not pass for X. */
bool hw_channel_pinned_as(const uint8_t (*keys)[HW_CHANNEL_KEY_BYTES],
			  const char (*names)[HW_CHANNEL_PIN_NAME_BYTES], size_t n,
			  const uint8_t *key, const char *id);

/* Zero the secret parts of id. */
void hw_identity_wipe(struct hw_identity *id);

/* Parse a pinned public key: exactly 64 hex digits (the kx line of node.pub, with or
 * without its "kx " prefix). Returns 0 or HW_ECONFIG. */
int hw_channel_key_parse(const char *text, uint8_t key[HW_CHANNEL_KEY_BYTES]);

/* ---- the channel */

/* Make a channel for one connection. Copies cfg, the identity and the pinned keys.
 * Errors: HW_ECONFIG (bad role, cluster id empty or over 32 bytes, no identity or no
 * pinned key in secure mode, more than HW_CHANNEL_PINNED_MAX, open_max past
 * HW_CHANNEL_PLAINTEXT_MAX), HW_ENOMEM. */
int hw_channel_new(const struct hw_channel_config *cfg, struct hw_channel **out);

/* Wipe the keys and free. NULL is fine. */
void hw_channel_free(struct hw_channel *ch);

/* True in insecure (pass-through) mode. */
bool hw_channel_insecure(const struct hw_channel *ch);

/* True once the handshake is done on this side: records may be sealed and opened.
 * Insecure channels are open from the start. */
bool hw_channel_is_open(const struct hw_channel *ch);

/* 0 while the channel is healthy, else the sticky error that killed it. */
int hw_channel_error(const struct hw_channel *ch);

/* Handshake bytes this side must send now, written to out (cap >= the size the state
 * needs; HW_CHANNEL_HANDSHAKE_BYTES_MAX is always enough); *len = 0 when there is nothing
 * to send. Call it first, and after every successful hw_channel_handshake_in, sending
 * what it gives, until hw_channel_is_open(). Returns 0, -ENOBUFS (cap too small; nothing
 * changed) or the sticky error. */
int hw_channel_handshake_out(struct hw_channel *ch, uint8_t *out, size_t cap, size_t *len);

/* Consume a handshake message from in[0..len). Returns 0 with *consumed bytes used (the
 * rest, e.g. records sent right after finish_I, belong to hw_channel_open); -EAGAIN when
 * the message is not complete yet (*consumed 0: call again with more bytes); or an error,
 * which kills the channel: HW_EHANDSHAKE, HW_ECLUSTER, HW_EAUTH, HW_EPROTOCOL (no message
 * expected in this state). A handshake that never ends is the caller's to time out. */
int hw_channel_handshake_in(struct hw_channel *ch, const uint8_t *in, size_t len, size_t *consumed);

/* Seal one plaintext frame pt[0..len) (len <= HW_CHANNEL_PLAINTEXT_MAX, asserted) into a
 * record at out (not overlapping pt) (cap >= HW_CHANNEL_RECORD_BYTES(len)); *out_len gets its size.
 * Insecure: copies pt (*out_len = len). Returns 0, -ENOBUFS (cap too small; nothing changed),
 * HW_EPROTOCOL (handshake not done), HW_ECLOSED (after hw_channel_close_seal) or the
 * sticky error. */
int hw_channel_seal(struct hw_channel *ch, const uint8_t *pt, size_t len, uint8_t *out, size_t cap,
		    size_t *out_len);

/* Seal the final record that ends this direction cleanly (HW_CHANNEL_RECORD_BYTES(0)
 * bytes; none when insecure). Later seals return HW_ECLOSED. Returns as hw_channel_seal. */
int hw_channel_close_seal(struct hw_channel *ch, uint8_t *out, size_t cap, size_t *out_len);

/* Open the record at the start of in[0..len): 0 with its plaintext in out[0..*out_len)
 * and *consumed bytes of in used (one record; call again for the next); -EAGAIN when the
 * record is not all there yet (*consumed 0; a bogus length is refused as soon as the
 * header is in, before its body is waited for); -ENOBUFS when cap is smaller than the
 * plaintext (nothing changed; HW_CHANNEL_PLAINTEXT_MAX is always enough); HW_ECLOSED once
 * the peer's final record was opened (that call and every later one); or an error,
 * which kills the channel: HW_EREPLAY, HW_EDECRYPT, HW_EFRAME, HW_EPROTOCOL. Insecure:
 * copies min(len, cap) bytes, -EAGAIN when len is 0. */
int hw_channel_open(struct hw_channel *ch, const uint8_t *in, size_t len, size_t *consumed,
		    uint8_t *out, size_t cap, size_t *out_len);

/* The transport reached end of stream. Returns 0 if the peer's final record was opened
 * (clean close; also always in insecure mode, which cannot tell); else HW_EDECRYPT: the
 * stream was cut (records may be missing), or HW_EHANDSHAKE when it was cut during the
 * handshake (this is also how an initiator learns that the responder refused it: the
 * responder closes without saying why). The channel is then dead. */
int hw_channel_eof(struct hw_channel *ch);

/* The peer's static X25519 public key once its hello was accepted, else NULL (and always
 * NULL when insecure). Points into ch; for logs and the audit trail. */
const uint8_t *hw_channel_peer_key(const struct hw_channel *ch);

/* The static key the peer's hello claimed once its hello was read, even when it was
 * refused (not pinned: HW_EAUTH), else NULL. Unauthenticated: for logging a refusal. */
const uint8_t *hw_channel_offered_key(const struct hw_channel *ch);

/* A key's fingerprint for logs and status: its first 8 bytes in hex, which is how the
 * kx line of its node.pub starts ("-" for NULL). */
#define HW_CHANNEL_FINGERPRINT_CHARS 16u
void hw_channel_fingerprint(const uint8_t *key, char out[HW_CHANNEL_FINGERPRINT_CHARS + 1]);

/* A 16-byte id of this session, equal on both sides and different for every session
 * (a hash of the transcript), once the handshake is done; for logs. Returns 0, or
 * HW_EPROTOCOL before the handshake is done or when insecure. */
int hw_channel_session_id(const struct hw_channel *ch, uint8_t id[HW_CHANNEL_SESSION_ID_BYTES]);

void hw_channel_stats(const struct hw_channel *ch, struct hw_channel_stats *st);

/* The record cipher, for logs: "aes256gcm" or "xchacha20poly1305" once the peer's hello
 * was accepted, "none" when insecure, NULL before. Static strings. */
const char *hw_channel_cipher(const struct hw_channel *ch);

#endif
