/* fake_primary.c: a fake primary's side of a replication connection (fake_primary.h). */
#include "tests/integration/fake_primary.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cmocka.h>

#include "base/clock.h"
#include "bench/workload.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "tos.pb-c.h"
#include "tests/integration/fake_wire.h"
#include "wire.pb-c.h"

int hw_fp_listen(char *addr, size_t cap)
{
	uint16_t port;
	int fd = hw_fake_bind(&port);
	assert_true(fd >= 0);
	assert_int_equal(listen(fd, 4), 0);
	snprintf(addr, cap, "127.0.0.1:%u", (unsigned)port);
	return fd;
}

void hw_fp_frame(int fd, enum hw_frame_type type, const uint8_t *body, size_t len)
{
	assert_true(hw_fake_send_frame(fd, type, body, (uint32_t)len));
}

void hw_fp_msg(int fd, enum hw_frame_type type, const ProtobufCMessage *m)
{
	uint8_t buf[512];
	size_t len = protobuf_c_message_get_packed_size(m);
	assert_true(len <= sizeof buf);
	protobuf_c_message_pack(m, buf);
	hw_fp_frame(fd, type, buf, len);
}

void hw_fp_hello(int fd, const char *id, uint64_t last_lsn, const uint8_t *hash)
{
	hw_fp_hello_epoch(fd, id, last_lsn, hash, 1);
}

/* A Hello of cluster "itest" from node id in role; the rest is the caller's. */
static Hawser__Wire__V1__Hello hello_as(const char *id, Hawser__Wire__V1__Role role)
{
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = 1;
	h.cluster_id = "itest";
	h.node_id = (char *)id;
	h.role = role;
	return h;
}

void hw_fp_hello_epoch(int fd, const char *id, uint64_t last_lsn, const uint8_t *hash,
		       uint64_t epoch)
{
	Hawser__Wire__V1__Hello h =
		hello_as(id, strcmp(id, "p1") == 0 ? HAWSER__WIRE__V1__ROLE__PRIMARY
						   : HAWSER__WIRE__V1__ROLE__STANDBY);
	h.epoch = epoch;
	h.last_lsn = last_lsn;
	if (hash != NULL)
		h.last_hash = (ProtobufCBinaryData){HW_HASH_BYTES, (uint8_t *)hash};
	hw_fp_msg(fd, HW_FRAME_HELLO, &h.base);
}

void hw_fp_voter_hello(int fd, const char *id, uint32_t beat_ms)
{
	Hawser__Wire__V1__Hello h = hello_as(id, HAWSER__WIRE__V1__ROLE__VOTER);
	h.heartbeat_ms = beat_ms;
	hw_fp_msg(fd, HW_FRAME_HELLO, &h.base);
}

void hw_fp_vault_hello(int fd, const char *id, uint64_t last_lsn)
{
	Hawser__Wire__V1__Hello h = hello_as(id, HAWSER__WIRE__V1__ROLE__VAULT);
	h.last_lsn = last_lsn;
	hw_fp_msg(fd, HW_FRAME_HELLO, &h.base);
}

void hw_fp_heartbeat(int fd, uint64_t lsn)
{
	Hawser__Wire__V1__Heartbeat hb = HAWSER__WIRE__V1__HEARTBEAT__INIT;
	hb.epoch = 1;
	hb.last_lsn = lsn;
	hb.durable_lsn = lsn;
	hw_fp_msg(fd, HW_FRAME_HEARTBEAT, &hb.base);
}

void hw_fp_log_init(struct hw_fp_log *l, uint64_t seed, uint64_t count)
{
	struct hw_workload_opts o = {.seed = seed, .count = count, .end_ms = HW_FP_TIME_MS};
	*l = (struct hw_fp_log){.body = malloc(HW_FRAME_BYTES_MAX)};
	assert_non_null(l->body);
	assert_int_equal(hw_workload_new(&o, &l->w), 0);
}

void hw_fp_log_free(struct hw_fp_log *l)
{
	hw_workload_free(l->w);
	free(l->body);
}

/* The misfit record (struct hw_fp_log): a key/value put whose tenant has a space. */
static size_t misfit_record(uint8_t *buf, size_t cap)
{
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	uint8_t rid[16] = {0xfe, 0xed};
	r.record_id = (ProtobufCBinaryData){sizeof rid, rid};
	r.tenant_id = "T 1";
	r.facility_id = "JPNGO-NCB";
	r.event_time_ms = HW_FP_TIME_MS;
	r.schema_version = 1;
	kv.key = "misfit";
	kv.value = (ProtobufCBinaryData){1, (uint8_t *)"v"};
	r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	r.kv_put = &kv;
	size_t len = hw_record_encode(&r, buf, cap);
	assert_true(len > 0);
	return len;
}

void hw_fp_append(int fd, struct hw_fp_log *l, uint32_t count, uint64_t poison)
{
	hw_fp_append_said(fd, l, count, poison, l->lsn + count);
}

void hw_fp_append_said(int fd, struct hw_fp_log *l, uint32_t count, uint64_t poison,
		       uint64_t durable)
{
	static uint8_t rec[HW_RECORD_BYTES_MAX];
	size_t len = HW_APPEND_HEADER_BYTES;
	for (uint32_t i = 0; i < count; i++) {
		struct hw_work_item it = {.len = 16};
		struct hw_entry e;
		if (l->lsn + 1 == poison)
			memset(rec, 0xff, it.len);
		else if (l->lsn + 1 == l->misfit)
			it.len = misfit_record(rec, sizeof rec);
		else
			assert_int_equal(hw_workload_next(l->w, rec, sizeof rec, &it), 0);
		assert_true(len + HW_ENTRY_BYTES_MAX <= HW_FRAME_BYTES_MAX);
		len += hw_entry_encode(l->body + len, ++l->lsn, 1, HW_FP_TIME_MS, l->hash, rec,
				       (uint32_t)it.len, &e);
		memcpy(l->hash, e.hash, HW_HASH_BYTES);
	}
	struct hw_append_hdr ah = {.epoch = 1, .primary_durable = durable, .count = count};
	hw_append_hdr_put(l->body, &ah);
	hw_fp_frame(fd, HW_FRAME_APPEND, l->body, len);
}

void hw_fp_wait_applied(int fd, uint64_t lsn, int timeout_ms)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	struct hw_fake_stream st = {.fd = fd, .buf = malloc(HW_FAKE_STREAM_BYTES)};
	assert_non_null(st.buf);
	int64_t deadline = hw_mono_ms() + timeout_ms;
	uint64_t applied = 0;
	struct hw_frame f;
	while (applied < lsn && hw_mono_ms() < deadline && hw_fake_next_frame(&st, &f)) {
		if (f.type != HW_FRAME_ACK)
			continue;
		Hawser__Wire__V1__Ack *a = hawser__wire__v1__ack__unpack(NULL, f.len, f.body);
		assert_non_null(a);
		applied = a->applied;
		hawser__wire__v1__ack__free_unpacked(a, NULL);
	}
	free(st.buf);
	assert_true(applied >= lsn);
}
