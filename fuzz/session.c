/* session.c: see session.h. */
#include "fuzz/session.h"

#include <sodium.h>
#include <stdlib.h>

#include "fuzz/fuzz.h"

static uint64_t rng_x;

/* splitmix64: the generator tests/unit/test_channel.c seeds its channels with. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static const char *rng_name(void)
{
	return "hawser-fuzz-splitmix64";
}

static uint32_t rng_random(void)
{
	return (uint32_t)rng_next();
}

static void rng_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)rng_next();
}

static randombytes_implementation rng_impl = {
	.implementation_name = rng_name,
	.random = rng_random,
	.buf = rng_buf,
};

void fuzz_rng_install(void)
{
	FUZZ_CHECK(randombytes_set_implementation(&rng_impl) == 0);
	FUZZ_CHECK(sodium_init() >= 0);
}

void fuzz_rng_reset(uint64_t seed)
{
	rng_x = seed;
}

void fuzz_ids_make(struct fuzz_ids *ids)
{
	fuzz_rng_reset(1);
	FUZZ_CHECK(hw_identity_generate(&ids->a) == 0);
	FUZZ_CHECK(hw_identity_generate(&ids->b) == 0);
}

static struct hw_channel *chan(enum hw_channel_role role, const struct hw_identity *self,
			       const struct hw_identity *peer)
{
	struct hw_channel_config cfg = {
		.role = role,
		.self = self,
		.pinned = peer->kx_pk,
		.pinned_count = 1,
		.cluster_id = FUZZ_CLUSTER,
		.rekey_bytes = FUZZ_REKEY_BYTES,
	};
	struct hw_channel *ch = NULL;
	FUZZ_CHECK(hw_channel_new(&cfg, &ch) == 0);
	return ch;
}

void fuzz_pair_new(const struct fuzz_ids *ids, struct hw_channel **i, struct hw_channel **r)
{
	fuzz_rng_reset(2);
	*i = chan(HW_CHANNEL_INITIATOR, &ids->a, &ids->b);
	*r = chan(HW_CHANNEL_RESPONDER, &ids->b, &ids->a);
}

int fuzz_handshake(struct hw_channel *i, struct hw_channel *r)
{
	uint8_t msg[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
	struct hw_channel *side[2] = {i, r};
	for (int round = 0; round < 4 && !(hw_channel_is_open(i) && hw_channel_is_open(r));
	     round++) {
		for (int s = 0; s < 2; s++) {
			size_t n = 0, used = 0;
			int rc = hw_channel_handshake_out(side[s], msg, sizeof msg, &n);
			if (rc != 0)
				return rc;
			if (n == 0)
				continue;
			rc = hw_channel_handshake_in(side[1 - s], msg, n, &used);
			if (rc != 0)
				return rc;
		}
	}
	return hw_channel_is_open(i) && hw_channel_is_open(r) ? 0 : HW_EHANDSHAKE;
}
