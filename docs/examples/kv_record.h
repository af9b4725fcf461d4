/* kv_record.h: one encoded tos.v1.Record for the examples of docs/embedding.md: a
 * key/value put, the smallest record hawser accepts. The C for tos.v1.Record comes from
 * the installed tos.proto: protoc-c --c_out=. -I$PREFIX/share/hawser tos.proto */
#ifndef KV_RECORD_H
#define KV_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>

#include "hawser.h"
#include "tos.pb-c.h"

/* Encode a put of key = value into buf (HW_RECORD_BYTES_MAX bytes) with a fresh random
 * record_id (the idempotency key: a resubmit of these bytes is stored once). Returns the
 * encoded length, or 0 when no random id could be had. */
static size_t kv_record(const char *key, const char *value, uint8_t *buf)
{
	uint8_t id[HW_RECORD_ID_BYTES];
	if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id)
		return 0;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);

	Tos__V1__KvPut put = TOS__V1__KV_PUT__INIT;
	put.key = (char *)key;
	put.value.data = (uint8_t *)value;
	put.value.len = strlen(value);
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	rec.record_id.data = id;
	rec.record_id.len = sizeof id;
	rec.tenant_id = "example";
	rec.facility_id = "JPNGO-NCB";
	rec.event_time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	rec.schema_version = 1;
	rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	rec.kv_put = &put;
	return tos__v1__record__pack(&rec, buf); /* protobuf-c writes the canonical bytes */
}

#endif
