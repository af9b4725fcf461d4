/* sign_fix.h: signed checkpoints for the backup and restore unit tests: a signer with a
 * fresh key pair, and a checkpoint appended to a store as a primary makes one. Included
 * after cmocka.h. */
#ifndef HW_TESTS_SIGN_FIX_H
#define HW_TESTS_SIGN_FIX_H

#include <stdint.h>

#include <sodium.h>

#include "replica/checkpoint.h"
#include "replica/store.h"

/* A signer as node p1 with a fresh key pair. */
static inline void sign_fix_signer(struct hw_signer *k)
{
	*k = (struct hw_signer){.node_id = "p1"};
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(k->pk, k->sk);
}

/* Append a checkpoint of s's head signed by k at store clock now_ms, as a primary makes
 * one: it vouches for the head, and its own entry comes next. Returns that entry's LSN. */
static inline uint64_t sign_fix_checkpoint(struct hw_store *s, const struct hw_signer *k,
					   int64_t now_ms)
{
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	struct hw_submit sub = {.data = buf, .system = true};
	struct hw_result res;
	uint64_t covers;
	assert_int_equal(hw_checkpoint_make(s, k, now_ms, buf, sizeof buf, &sub.len, &covers), 0);
	assert_int_equal(hw_store_submit(s, 1, now_ms, &sub, 1, &res), 0);
	assert_int_equal(res.code, 0);
	assert_int_equal(res.lsn, covers + 1);
	return res.lsn;
}

#endif
