/* arena.h: a bump allocator reset once per batch (STYLE.md 8).
 *
 * protobuf-c decodes every string and sub-message into its own allocation; decoding
 * into an arena makes that a pointer bump and freeing a reset. Chunks are kept across
 * resets, so after the first batches of a run nothing is allocated on the hot path.
 * One owner thread. */
#ifndef HW_BASE_ARENA_H
#define HW_BASE_ARENA_H

#include <stddef.h>

struct hw_arena_chunk;

struct hw_arena {
	struct hw_arena_chunk *head;    /* chunk being filled */
	struct hw_arena_chunk *spare;   /* chunks emptied by the last reset */
	size_t chunk_bytes;             /* size of a normal chunk */
	size_t used_bytes_max;          /* budget: alloc fails past it (0: none) */
	size_t used_bytes;              /* handed out since the last reset */
};

/* Empty arena with chunks of chunk_bytes (0: 64 KiB) and a budget of bytes_max (0: no
 * budget). Allocates nothing until the first hw_arena_alloc(). */
void hw_arena_init(struct hw_arena *a, size_t chunk_bytes, size_t bytes_max);

/* size bytes aligned to 16, or NULL when out of memory or over budget. Valid until the
 * next reset or fini. */
void *hw_arena_alloc(struct hw_arena *a, size_t size);

/* Forget every allocation; keep the chunks for reuse. */
void hw_arena_reset(struct hw_arena *a);

/* Free every chunk. The arena may be initialised again. */
void hw_arena_fini(struct hw_arena *a);

#endif
