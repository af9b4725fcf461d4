/* bytes.h: fixed-width integers in byte buffers, least significant byte first: the byte
 * order of every hawser format (frame headers, log entries, state rows, meta values,
 * signed checkpoint bytes), whatever the host's; and big-endian 64-bit keys, whose byte
 * order is their numeric order in LMDB (LSN keys). Inline: the frame and entry paths run
 * them per record. Any thread. */
#ifndef HW_BASE_BYTES_H
#define HW_BASE_BYTES_H

#include <stdint.h>

static inline void hw_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void hw_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void hw_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t hw_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t hw_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t hw_get_u64(const uint8_t *p)
{
	return (uint64_t)hw_get_u32(p) | (uint64_t)hw_get_u32(p + 4) << 32;
}

/* Big-endian: for LMDB keys that must sort as numbers. */
static inline void hw_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t hw_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
