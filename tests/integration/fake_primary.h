/* fake_primary.h: a fake primary for the tests that put a real standby or vault (a
 * `hawser node` process) in front of what no real primary would send: a listening socket
 * on loopback, a Hello as the primary, heartbeats, any frame, and APPEND frames of
 * hash-chained entries made of generated records, one of them poison if asked; and the
 * Hello of another voter, for a test that speaks for one on an election link. It writes
 * through fake_wire.h and asserts with cmocka, on the test's thread. */
#ifndef HW_TESTS_FAKE_PRIMARY_H
#define HW_TESTS_FAKE_PRIMARY_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "engine/io/frame.h"
#include "hawser_limits.h"

/* The time of every entry a fake primary makes (and the end of its records' times). */
#define HW_FP_TIME_MS 1790000000000LL

/* A listening socket on 127.0.0.1, its address ("127.0.0.1:PORT") into addr. */
int hw_fp_listen(char *addr, size_t cap);

/* Write one frame of type whole (blocking). */
void hw_fp_frame(int fd, enum hw_frame_type type, const uint8_t *body, size_t len);

/* Write m (at most 512 bytes packed) as one frame of type. */
void hw_fp_msg(int fd, enum hw_frame_type type, const ProtobufCMessage *m);

/* A Hello of cluster "itest" as node id (p1: the primary, any other: a standby) at
 * epoch 1 whose log ends at last_lsn, with its hash (NULL: none said). */
void hw_fp_hello(int fd, const char *id, uint64_t last_lsn, const uint8_t *hash);
/* The same at epoch. */
void hw_fp_hello_epoch(int fd, const char *id, uint64_t last_lsn, const uint8_t *hash,
		       uint64_t epoch);

/* The Hello that opens an election link (proto/wire.proto, engine/voters.h) from voter id
 * of cluster "itest", promising a HEARTBEAT every beat_ms (0: none, as an older voter's). */
void hw_fp_voter_hello(int fd, const char *id, uint32_t beat_ms);

/* A vault's Hello of cluster "itest" as node id, its log ending at last_lsn. */
void hw_fp_vault_hello(int fd, const char *id, uint64_t last_lsn);

/* A primary's HEARTBEAT at epoch 1, its log durable through lsn. */
void hw_fp_heartbeat(int fd, uint64_t lsn);

/* The log a fake primary makes: entries of epoch 1 chained from LSN 1, their records
 * generated (bench/workload.h, seed, count of them at most). */
struct hw_fp_log {
	struct hw_workload *w;
	uint64_t lsn;                /* the last entry made; 0: none yet */
	uint8_t hash[HW_HASH_BYTES]; /* its hash (zero before the first) */
	uint8_t *body;               /* one APPEND frame's body */
	uint64_t misfit; /* the entry at this LSN (0: none) carries a record that decodes
			    and applies but that validation refuses (tenant "T 1"), as one
			    a primary of another version accepted; the caller sets it */
};
void hw_fp_log_init(struct hw_fp_log *l, uint64_t seed, uint64_t count);
void hw_fp_log_free(struct hw_fp_log *l);

/* Send the log's next count entries as one APPEND frame, the primary durable through
 * their last. The entry at LSN poison (0: none) carries 16 bytes that are no Record: it
 * hashes and chains like any other, and a store refuses it (HW_EDECODE). */
void hw_fp_append(int fd, struct hw_fp_log *l, uint32_t count, uint64_t poison);
/* The same, the primary saying it is durable through durable only. */
void hw_fp_append_said(int fd, struct hw_fp_log *l, uint32_t count, uint64_t poison,
		       uint64_t durable);

/* Read the standby's frames on fd until an ACK says its store applied lsn (committed:
 * readable), for at most timeout_ms; asserts that one did. */
void hw_fp_wait_applied(int fd, uint64_t lsn, int timeout_ms);

#endif
