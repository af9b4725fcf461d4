/* arena.c: bump allocator (base/arena.h). */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>

struct hw_arena_chunk {
	struct hw_arena_chunk *next;
	size_t size; /* bytes in data[] */
	size_t used;
	_Alignas(16) unsigned char data[];
};

void hw_arena_init(struct hw_arena *a, size_t chunk_bytes, size_t bytes_max)
{
	a->head = NULL;
	a->spare = NULL;
	a->chunk_bytes = chunk_bytes ? chunk_bytes : 64 * 1024;
	a->used_bytes_max = bytes_max;
	a->used_bytes = 0;
}

static struct hw_arena_chunk *chunk_get(struct hw_arena *a, size_t need)
{
	struct hw_arena_chunk **pp = &a->spare;
	while (*pp != NULL) {
		if ((*pp)->size >= need) {
			struct hw_arena_chunk *c = *pp;
			*pp = c->next;
			c->used = 0;
			return c;
		}
		pp = &(*pp)->next;
	}
	size_t size = need > a->chunk_bytes ? need : a->chunk_bytes;
	struct hw_arena_chunk *c = malloc(sizeof *c + size);
	if (c == NULL)
		return NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *hw_arena_alloc(struct hw_arena *a, size_t size)
{
	size_t need = (size + 15u) & ~(size_t)15u;
	if (need < size)
		return NULL;
	if (a->used_bytes_max != 0 && a->used_bytes + need > a->used_bytes_max)
		return NULL;
	struct hw_arena_chunk *c = a->head;
	if (c == NULL || c->size - c->used < need) {
		c = chunk_get(a, need);
		if (c == NULL)
			return NULL;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	a->used_bytes += need;
	return p;
}

void hw_arena_reset(struct hw_arena *a)
{
	while (a->head != NULL) {
		struct hw_arena_chunk *c = a->head;
		a->head = c->next;
		c->next = a->spare;
		a->spare = c;
	}
	a->used_bytes = 0;
}

static void chunks_free(struct hw_arena_chunk *c)
{
	while (c != NULL) {
		struct hw_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

void hw_arena_fini(struct hw_arena *a)
{
	chunks_free(a->head);
	chunks_free(a->spare);
	a->head = NULL;
	a->spare = NULL;
	a->used_bytes = 0;
}
