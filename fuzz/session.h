/* session.h: a deterministic encrypted-channel session (engine/io/channel.h) for
 * fuzz_channel.c and the seed writer (fuzz/seeds.c): libsodium's randomness is replaced
 * by a seeded generator, so the same calls give the same keys, hellos and records in both
 * programs, and a seed file written by one is a valid session in the other. The record
 * cipher follows the CPU (AES-256-GCM with AES-NI, else XChaCha20-Poly1305), so seeds
 * written on one kind of CPU hold whole sessions only on the same kind. Never link this
 * into anything but fuzz/. */
#ifndef HW_FUZZ_SESSION_H
#define HW_FUZZ_SESSION_H

#include <stdint.h>

#include "engine/io/channel.h"

#define FUZZ_CLUSTER     "yard-ha"
#define FUZZ_REKEY_BYTES 200u /* small, so a short stream crosses a rekey record */

/* Route libsodium's randombytes through the seeded generator. Call once, before anything
 * calls sodium_init(); then fuzz_rng_reset() before each run. */
void fuzz_rng_install(void);

/* Restart the generator at seed: the same bytes again from here. */
void fuzz_rng_reset(uint64_t seed);

/* The two nodes: a connects (initiator), b accepts (responder); each pins the other. */
struct fuzz_ids {
	struct hw_identity a, b;
};

/* Make the identities from seed 1 (fuzz_rng_reset inside). */
void fuzz_ids_make(struct fuzz_ids *ids);

/* A's initiator end and B's responder end, made in this order after fuzz_rng_reset(2),
 * so every run draws the same ephemeral keys and nonces. */
void fuzz_pair_new(const struct fuzz_ids *ids, struct hw_channel **i, struct hw_channel **r);

/* Run the handshake between i and r in memory. Returns 0 when both are open. */
int fuzz_handshake(struct hw_channel *i, struct hw_channel *r);

#endif
