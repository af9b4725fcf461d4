/* entry.c: log entry encoding and its hash (replica/entry.h). */
#include "replica/entry.h"

#include <sodium.h>
#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "hawser_error.h"

/* BLAKE2b-256 over the header up to the hash field, then the record. */
static void entry_hash(const uint8_t *header, const uint8_t *record, uint32_t record_len,
		       uint8_t out[HW_HASH_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	crypto_generichash_update(&st, header, 64);
	crypto_generichash_update(&st, record, record_len);
	crypto_generichash_final(&st, out, HW_HASH_BYTES);
}

size_t hw_entry_encode(uint8_t *buf, uint64_t lsn, uint64_t epoch, int64_t time_ms,
		       const uint8_t prev_hash[HW_HASH_BYTES], const uint8_t *record,
		       uint32_t record_len, struct hw_entry *e)
{
	HW_ASSERT(record_len <= HW_RECORD_BYTES_MAX);
	HW_ASSERT(lsn > 0);
	memcpy(buf, HW_ENTRY_MAGIC, 4);
	hw_put_u32(buf + 4, record_len);
	hw_put_u64(buf + 8, lsn);
	hw_put_u64(buf + 16, epoch);
	hw_put_u64(buf + 24, (uint64_t)time_ms);
	memcpy(buf + 32, prev_hash, HW_HASH_BYTES);
	if (buf + HW_ENTRY_HEADER_BYTES != record)
		memmove(buf + HW_ENTRY_HEADER_BYTES, record, record_len);
	entry_hash(buf, buf + HW_ENTRY_HEADER_BYTES, record_len, buf + 64);

	e->lsn = lsn;
	e->epoch = epoch;
	e->time_ms = time_ms;
	memcpy(e->prev_hash, prev_hash, HW_HASH_BYTES);
	memcpy(e->hash, buf + 64, HW_HASH_BYTES);
	e->record = buf + HW_ENTRY_HEADER_BYTES;
	e->record_len = record_len;
	return HW_ENTRY_HEADER_BYTES + record_len;
}

size_t hw_entry_len(const uint8_t *buf)
{
	return HW_ENTRY_HEADER_BYTES + (size_t)hw_get_u32(buf + 4);
}

uint64_t hw_entry_lsn(const uint8_t *buf)
{
	return hw_get_u64(buf + 8);
}

int hw_entry_parse(const uint8_t *buf, size_t len, struct hw_entry *e)
{
	if (len < HW_ENTRY_HEADER_BYTES || memcmp(buf, HW_ENTRY_MAGIC, 4) != 0)
		return HW_ECORRUPT;
	uint32_t record_len = hw_get_u32(buf + 4);
	if (record_len > HW_RECORD_BYTES_MAX || len != HW_ENTRY_HEADER_BYTES + record_len)
		return HW_ECORRUPT;
	e->lsn = hw_get_u64(buf + 8);
	e->epoch = hw_get_u64(buf + 16);
	e->time_ms = (int64_t)hw_get_u64(buf + 24);
	memcpy(e->prev_hash, buf + 32, HW_HASH_BYTES);
	memcpy(e->hash, buf + 64, HW_HASH_BYTES);
	e->record = buf + HW_ENTRY_HEADER_BYTES;
	e->record_len = record_len;
	return e->lsn == 0 ? HW_ECORRUPT : 0;
}

int hw_entry_decode(const uint8_t *buf, size_t len, struct hw_entry *e)
{
	int rc = hw_entry_parse(buf, len, e);
	if (rc != 0)
		return rc;
	uint8_t hash[HW_HASH_BYTES];
	entry_hash(buf, e->record, e->record_len, hash);
	return memcmp(hash, e->hash, HW_HASH_BYTES) == 0 ? 0 : HW_ECORRUPT;
}
