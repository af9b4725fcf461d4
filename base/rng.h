/* rng.h: the seeded pseudo-random generators of the tree, one definition for the
 * workload generator, the simulator and the chaos run. They give the same numbers on
 * every platform, so a printed seed replays a run: splitmix64 (Steele, Lea and Flood) to
 * seed and for small needs, xoshiro256** (Blackman and Vigna) for long streams. Not for
 * keys or anything secret. Pure functions of the state they are handed: any thread, each
 * on its own state. Inline, since the workload draws several numbers a record. */
#ifndef HW_BASE_RNG_H
#define HW_BASE_RNG_H

#include <stdint.h>

/* splitmix64's output function: a bijective mix of the 64 bits of x. */
static inline uint64_t hw_mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* splitmix64: advance the state *x and return its next output. */
static inline uint64_t hw_splitmix64(uint64_t *x)
{
	*x += 0x9e3779b97f4a7c15ull;
	return hw_mix64(*x);
}

/* Seed a xoshiro256** state with the first four outputs of splitmix64 from seed (never
 * all zero, whatever the seed). */
static inline void hw_xoshiro_seed(uint64_t s[4], uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		s[i] = hw_splitmix64(&seed);
}

static inline uint64_t hw__rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: advance the state s (seeded by hw_xoshiro_seed) and return its next
 * output. */
static inline uint64_t hw_xoshiro_next(uint64_t s[4])
{
	uint64_t out = hw__rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = hw__rotl64(s[3], 45);
	return out;
}

#endif
