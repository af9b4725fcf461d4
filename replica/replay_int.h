/* replay_int.h: log replay from one store into another, shared by replay.c
 * (hw_store_replay, hw_store_digest_replayed: replica/backup.h) and the restore in
 * restore.c, which replays a backup's log.hwl through the same batches. Not public. */
#ifndef HW_REPLICA_REPLAY_INT_H
#define HW_REPLICA_REPLAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"

/* Entries on their way into a store through hw_store_append_entries, HW_BATCH_RECORDS_MAX
 * and HW_BATCH_BYTES_MAX at a time; cb (may be NULL) gets the progress after each. */
struct hw_replay_batch {
	const uint8_t **ptrs; /* borrowed entries, valid until the flush */
	size_t *lens;
	size_t n;
	size_t bytes;
	uint64_t done; /* entries appended so far */
	uint64_t total;
	hw_progress_cb *cb;
	void *arg;
};

/* Where a replay stops: before the first entry past either bound. */
struct hw_replay_target {
	uint64_t until_lsn;    /* 0: no limit */
	int64_t until_time_ms; /* 0: no limit */
};

/* 0 or HW_ENOMEM. */
int hw__replay_batch_init(struct hw_replay_batch *b, uint64_t total, hw_progress_cb *cb, void *arg);
void hw__replay_batch_fini(struct hw_replay_batch *b);
/* Append what b holds to dst; then cb's answer. */
int hw__replay_batch_flush(struct hw_store *dst, struct hw_replay_batch *b);
/* Queue one entry (borrowed until the flush), flushing first when it would overflow. */
int hw__replay_batch_add(struct hw_store *dst, struct hw_replay_batch *b, const uint8_t *p,
			 size_t len);
/* True when e lies beyond t, so replay stops before it. */
bool hw__replay_past(const struct hw_replay_target *t, const struct hw_entry *e);
/* Push src's entries after dst's head into dst through b, up to t. HW_ECHAIN if dst's
 * head is not on src's chain, HW_ENOTFOUND if src's log starts after it. */
int hw__replay_into(struct hw_store *src, struct hw_store *dst, const struct hw_replay_target *t,
		    struct hw_replay_batch *b);

#endif
