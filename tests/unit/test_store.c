/* test_store.c: the replica store: group-commit submit, idempotency, the hash chain,
 * append of entries from a primary, determinism, map growth and sticky failures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "base/clock.h"
#include "base/fault.h"
#include "bench/workload.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "replica/retention.h"
#include "replica/state.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "tests/skip.h"

#define NOW_MS 1790000000000LL /* 2026-09-21: a fixed clock keeps runs identical */

struct fx {
	char root[256];
	char dir[300];
	struct hw_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_int_equal(hw_test_mkdtemp("store", f->root, sizeof f->root), 0);
	snprintf(f->dir, sizeof f->dir, "%s/a", f->root);
	assert_int_equal(hw_store_init(f->dir), 0);
	assert_int_equal(hw_store_open(f->dir, NULL, &f->s), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char mnt[320];
	snprintf(mnt, sizeof mnt, "%s/small", f->root);
	umount2(mnt, MNT_DETACH); /* test_disk_full's tmpfs, if an assertion left it */
	hw_store_close(f->s);
	hw_test_rm_rf(f->root);
	free(f);
	return 0;
}

/* A key/value record: the simplest payload, no container state involved. */
static size_t kv_record(uint8_t *buf, size_t cap, unsigned id, const char *tenant, const char *key,
			const char *value)
{
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	uint8_t rid[16] = {0};
	memcpy(rid, &id, sizeof id);
	r.record_id.data = rid;
	r.record_id.len = sizeof rid;
	r.tenant_id = (char *)tenant;
	r.facility_id = "JPNGO-NCB";
	r.event_time_ms = NOW_MS - 1000;
	r.schema_version = 1;
	kv.key = (char *)key;
	kv.value.data = (uint8_t *)value;
	kv.value.len = strlen(value);
	r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	r.kv_put = &kv;
	size_t len = hw_record_encode(&r, buf, cap);
	assert_true(len > 0);
	return len;
}

static void submit_one(struct hw_store *s, const uint8_t *buf, size_t len, struct hw_result *res)
{
	struct hw_submit sub = {.data = buf, .len = len};
	assert_int_equal(hw_store_submit(s, 1, NOW_MS, &sub, 1, res), 0);
}

static void digest_of(struct hw_store *s, uint8_t d[HW_HASH_BYTES])
{
	assert_int_equal(hw_store_digest(s, d), 0);
}

/* A batch gets consecutive LSNs, each entry chains to the one before, and init refuses
 * a directory that already holds a store. */
static void test_submit_chain(void **state)
{
	struct fx *f = *state;
	uint8_t bufs[3][256];
	struct hw_submit subs[3] = {{0}};
	struct hw_result res[3];
	for (unsigned i = 0; i < 3; i++) {
		char key[8];
		snprintf(key, sizeof key, "k%u", i);
		subs[i].data = bufs[i];
		subs[i].len = kv_record(bufs[i], sizeof bufs[i], i + 1, "T1", key, "v");
	}
	assert_int_equal(hw_store_submit(f->s, 7, NOW_MS, subs, 3, res), 0);
	uint8_t prev[HW_HASH_BYTES] = {0};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(res[i].code, 0);
		assert_int_equal(res[i].lsn, i + 1);
		uint8_t *e;
		size_t len;
		struct hw_entry ent;
		assert_int_equal(hw_store_read_entry(f->s, i + 1, &e, &len), 0);
		assert_int_equal(hw_entry_decode(e, len, &ent), 0);
		assert_int_equal(ent.epoch, 7);
		assert_memory_equal(ent.prev_hash, prev, HW_HASH_BYTES);
		assert_memory_equal(ent.record, bufs[i], subs[i].len);
		memcpy(prev, ent.hash, HW_HASH_BYTES);
		free(e);
	}
	struct hw_head h;
	assert_int_equal(hw_store_head(f->s, &h), 0);
	assert_int_equal(h.lsn, 3);
	assert_memory_equal(h.hash, prev, HW_HASH_BYTES);
	assert_int_equal(hw_store_init(f->dir), HW_EEXIST);
	uint8_t *e;
	size_t len;
	assert_int_equal(hw_store_read_entry(f->s, 4, &e, &len), HW_ENOTFOUND);
}

/* The same bytes again return the first LSN; other bytes under the same record_id are
 * refused and change nothing. */
static void test_idempotency(void **state)
{
	struct fx *f = *state;
	uint8_t a[256], b[256];
	size_t alen = kv_record(a, sizeof a, 42, "T1", "gate", "open");
	size_t blen = kv_record(b, sizeof b, 42, "T1", "gate", "closed");
	struct hw_result r;
	submit_one(f->s, a, alen, &r);
	assert_int_equal(r.code, 0);
	assert_false(r.duplicate);
	uint8_t d1[HW_HASH_BYTES], d2[HW_HASH_BYTES];
	digest_of(f->s, d1);
	submit_one(f->s, a, alen, &r);
	assert_int_equal(r.code, 0);
	assert_true(r.duplicate);
	assert_int_equal(r.lsn, 1);
	submit_one(f->s, b, blen, &r);
	assert_int_equal(r.code, HW_EIDEMPOTENCY);
	assert_string_equal(r.reject.field, "record_id");
	digest_of(f->s, d2);
	assert_memory_equal(d1, d2, HW_HASH_BYTES);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 1);
}

/* A refused record in the middle of a batch does not stop the others, and LSNs stay
 * contiguous. */
static void test_reject_in_batch(void **state)
{
	struct fx *f = *state;
	uint8_t bufs[3][256];
	struct hw_submit subs[3] = {{0}};
	struct hw_result res[3];
	subs[0].len = kv_record(bufs[0], 256, 1, "T1", "a", "1");
	subs[1].len = kv_record(bufs[1], 256, 2, "T1", "", "1"); /* empty key: refused */
	subs[2].len = kv_record(bufs[2], 256, 3, "T1", "c", "1");
	for (int i = 0; i < 3; i++)
		subs[i].data = bufs[i];
	assert_int_equal(hw_store_submit(f->s, 1, NOW_MS, subs, 3, res), 0);
	assert_int_equal(res[0].lsn, 1);
	assert_true(res[1].code < 0);
	assert_true(strlen(res[1].reject.field) > 0);
	assert_int_equal(res[2].code, 0);
	assert_int_equal(res[2].lsn, 2);
}

/* Bytes that are not a record are refused with a typed error. */
static void test_garbage_refused(void **state)
{
	struct fx *f = *state;
	uint8_t junk[64];
	memset(junk, 0xff, sizeof junk);
	struct hw_result r;
	submit_one(f->s, junk, sizeof junk, &r);
	assert_int_equal(r.code, HW_EDECODE);
	uint8_t *big = calloc(1, HW_RECORD_BYTES_MAX + 1);
	submit_one(f->s, big, HW_RECORD_BYTES_MAX + 1, &r);
	assert_int_equal(r.code, HW_ETOOBIG);
	free(big);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 0);
}

/* Fill a store from the generator; returns the number of records it accepted. */
/* Submit count generated records in batches of 500 (or, with hold, prepare and hold each
 * batch: the caller commits). Returns how many were accepted. */
static uint64_t fill_batches(struct hw_store *s, const char *profile, uint64_t count,
			     int64_t now_ms, bool hold, uint64_t *unexpected)
{
	struct hw_workload *w;
	struct hw_workload_opts o = {.profile = profile, .seed = 11, .count = count, .end_ms = NOW_MS};
	assert_int_equal(hw_workload_new(&o, &w), 0);
	enum { B = 500 };
	uint8_t *bufs = malloc((size_t)B * HW_RECORD_BYTES_MAX);
	struct hw_submit subs[B];
	memset(subs, 0, sizeof subs);
	struct hw_result res[B];
	int expect[B];
	uint64_t accepted = 0;
	*unexpected = 0;
	for (uint64_t done = 0; done < count;) {
		size_t n = 0;
		for (; n < B && done < count; n++, done++) {
			struct hw_work_item it;
			uint8_t *buf = bufs + n * HW_RECORD_BYTES_MAX;
			assert_int_equal(hw_workload_next(w, buf, HW_RECORD_BYTES_MAX, &it), 0);
			subs[n].data = buf;
			subs[n].len = it.len;
			expect[n] = it.expect;
		}
		if (hold) {
			struct hw_batch b;
			assert_int_equal(hw_store_prepare(s, 1, now_ms, subs, n, res, &b), 0);
			hw_store_hold(s);
		} else {
			assert_int_equal(hw_store_submit(s, 1, now_ms, subs, n, res), 0);
		}
		for (size_t i = 0; i < n; i++) {
			if (res[i].code != expect[i]) {
				if (*unexpected < 5)
					print_message("record %zu: got %s (%s: %s), expected %s\n", i,
						      hw_errname(res[i].code), res[i].reject.field,
						      res[i].reject.rule, hw_errname(expect[i]));
				(*unexpected)++;
			}
			accepted += res[i].code == 0 && !res[i].duplicate;
		}
	}
	free(bufs);
	hw_workload_free(w);
	return accepted;
}

static uint64_t fill(struct hw_store *s, const char *profile, uint64_t count, int64_t now_ms,
		     uint64_t *unexpected)
{
	return fill_batches(s, profile, count, now_ms, false, unexpected);
}

/* Every record of a generated terminal peak is accepted; every poison record is refused
 * with the code the generator expected. */
static void test_generated_traffic(void **state)
{
	struct fx *f = *state;
	uint64_t unexpected;
	uint64_t n = fill(f->s, "terminal_peak", 20000, NOW_MS, &unexpected);
	assert_int_equal(unexpected, 0);
	assert_int_equal(n, 20000);
	char dir2[320];
	snprintf(dir2, sizeof dir2, "%s/poison", f->root);
	struct hw_store *p;
	assert_int_equal(hw_store_init(dir2), 0);
	assert_int_equal(hw_store_open(dir2, NULL, &p), 0);
	n = fill(p, "poison", 20000, NOW_MS, &unexpected);
	assert_int_equal(unexpected, 0);
	assert_true(n < 20000);
	hw_store_close(p);
}

/* Every entry of from into to, one at a time: as a restore does (hw_store_append_entries),
 * or as a standby takes its primary's (primary: hw_store_append_primary, committed at the
 * end). to ends at from's head. */
static void copy_log(struct hw_store *from, struct hw_store *to, bool primary)
{
	struct hw_head hf, ht;
	hw_store_head(from, &hf);
	for (uint64_t lsn = 1; lsn <= hf.lsn; lsn++) {
		uint8_t *e;
		size_t len;
		assert_int_equal(hw_store_read_entry(from, lsn, &e, &len), 0);
		const uint8_t *ep = e;
		assert_int_equal(primary ? hw_store_append_primary(to, &ep, &len, 1, NULL)
					 : hw_store_append_entries(to, &ep, &len, 1, NULL),
				 0);
		free(e);
	}
	if (primary)
		assert_int_equal(hw_store_commit(to), 0);
	hw_store_head(to, &ht);
	assert_int_equal(ht.lsn, hf.lsn);
	assert_memory_equal(ht.hash, hf.hash, HW_HASH_BYTES);
}

/* Two stores fed the same records at other times have equal digests; a standby fed the
 * primary's entries has the same head hash too. */
static void test_determinism(void **state)
{
	struct fx *f = *state;
	uint64_t unexpected;
	fill(f->s, "nagoya_port_peak", 5000, NOW_MS, &unexpected);
	char dir2[320], dir3[320];
	snprintf(dir2, sizeof dir2, "%s/b", f->root);
	snprintf(dir3, sizeof dir3, "%s/c", f->root);
	struct hw_store *b, *c;
	assert_int_equal(hw_store_init(dir2), 0);
	assert_int_equal(hw_store_open(dir2, NULL, &b), 0);
	fill(b, "nagoya_port_peak", 5000, NOW_MS + 60000, &unexpected);
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES], dc[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(b, db);
	assert_memory_equal(da, db, HW_HASH_BYTES);

	assert_int_equal(hw_store_init(dir3), 0);
	assert_int_equal(hw_store_open(dir3, NULL, &c), 0);
	copy_log(f->s, c, false);
	digest_of(c, dc);
	assert_memory_equal(da, dc, HW_HASH_BYTES);
	hw_store_close(b);
	hw_store_close(c);
}

/* A standby takes its primary's entries without validating them again (
 * hw_store_append_primary) and ends with the state a validated replay gives. */
static void test_determinism_unvalidated(void **state)
{
	struct fx *f = *state;
	uint64_t unexpected;
	fill(f->s, "nagoya_port_peak", 5000, NOW_MS, &unexpected);
	char dir2[320];
	snprintf(dir2, sizeof dir2, "%s/b", f->root);
	struct hw_store *b;
	assert_int_equal(hw_store_init(dir2), 0);
	assert_int_equal(hw_store_open(dir2, NULL, &b), 0);
	copy_log(f->s, b, true);
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(b, db);
	assert_memory_equal(da, db, HW_HASH_BYTES);
	hw_store_close(b);
}

/* Entries straight from their primary are not validated again: a record validation
 * refuses (a tenant with a space) but apply can keep is taken, where a log read back
 * (hw_store_append_hold) refuses it. A retracts of 600 bytes (no record_id, and longer
 * than an LMDB key) is still refused with validation's code, and the refusal, which
 * takes the held batch again, takes the unvalidated entry as it was the first time:
 * validating it there failed the store (sticky). */
static void test_append_primary_not_validated(void **state)
{
	struct fx *f = *state;
	uint8_t rec[256], big[600] = {0}, e1[512], e2[1024];
	uint8_t zero[HW_HASH_BYTES] = {0};
	struct hw_entry a, b;
	size_t rl = kv_record(rec, sizeof rec, 1, "T 1", "k", "v");
	size_t l1 = hw_entry_encode(e1, 1, 1, NOW_MS, zero, rec, (uint32_t)rl, &a);
	const uint8_t *p = e1;
	struct hw_reject rej;
	assert_int_equal(hw_store_append_hold(f->s, &p, &l1, 1, &rej), HW_ERANGE);
	assert_string_equal(rej.field, "tenant_id");
	assert_int_equal(hw_store_append_primary(f->s, &p, &l1, 1, &rej), 0);

	rl = kv_record(rec, sizeof rec, 2, "T1", "k", "v");
	Tos__V1__Record *r = tos__v1__record__unpack(NULL, rl, rec);
	assert_non_null(r);
	r->retracts = (ProtobufCBinaryData){sizeof big, big};
	uint8_t rec2[900];
	rl = hw_record_encode(r, rec2, sizeof rec2);
	r->retracts = (ProtobufCBinaryData){0, NULL}; /* big is not the unpack's to free */
	tos__v1__record__free_unpacked(r, NULL);
	size_t l2 = hw_entry_encode(e2, 2, 1, NOW_MS, a.hash, rec2, (uint32_t)rl, &b);
	p = e2;
	assert_int_equal(hw_store_append_primary(f->s, &p, &l2, 1, &rej), HW_ERANGE);
	assert_string_equal(rej.field, "retracts");
	assert_int_equal(hw_store_failure(f->s), 0);
	assert_int_equal(hw_store_commit(f->s), 0);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 1);
	assert_memory_equal(h.hash, a.hash, HW_HASH_BYTES);
}

/* Entries that skip an LSN, break the chain or fail their hash are refused whole, and the
 * rule says what failed: the hash only when the store checked it (a held append of a
 * checked entry is refused for its framing alone). */
static void test_append_refuses_bad_entries(void **state)
{
	struct fx *f = *state;
	uint8_t rec[256], e1[512], e2[512];
	size_t rlen = kv_record(rec, sizeof rec, 1, "T1", "k", "v");
	uint8_t zero[HW_HASH_BYTES] = {0};
	struct hw_entry ent;
	size_t l2 = hw_entry_encode(e2, 2, 1, NOW_MS, zero, rec, (uint32_t)rlen, &ent);
	const uint8_t *p = e2;
	struct hw_reject rej;
	assert_int_equal(hw_store_append_entries(f->s, &p, &l2, 1, &rej), HW_ELSN);
	uint8_t bad_prev[HW_HASH_BYTES];
	memset(bad_prev, 1, sizeof bad_prev);
	size_t l1 = hw_entry_encode(e1, 1, 1, NOW_MS, bad_prev, rec, (uint32_t)rlen, &ent);
	p = e1;
	assert_int_equal(hw_store_append_entries(f->s, &p, &l1, 1, &rej), HW_ECHAIN);
	l1 = hw_entry_encode(e1, 1, 1, NOW_MS, zero, rec, (uint32_t)rlen, &ent);
	e1[l1 - 1] ^= 0x01;
	assert_int_equal(hw_store_append_entries(f->s, &p, &l1, 1, &rej), HW_ECORRUPT);
	assert_non_null(strstr(rej.rule, "hash"));
	e1[l1 - 1] ^= 0x01;
	size_t short_len = l1 - 1;
	assert_int_equal(hw_store_append_hold(f->s, &p, &short_len, 1, &rej), HW_ECORRUPT);
	assert_non_null(strstr(rej.rule, "malformed"));
	assert_null(strstr(rej.rule, "hash"));
	assert_int_equal(hw_store_append_entries(f->s, &p, &l1, 1, &rej), 0);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 1);
}

/* Held appends of entries the caller checked still refuse LSN gaps and chain breaks
 * (holding nothing), and commit the rest with the chain's head hash, which
 * hw_store_entry_hash reads back (HW_ENOTFOUND past the head); hw_entry_parse reads
 * what hw_entry_decode does, without the hash check that only decode makes. */
static void test_append_hold_checked(void **state)
{
	struct fx *f = *state;
	uint8_t rec[256], e1[512], e2[512];
	size_t rlen = kv_record(rec, sizeof rec, 1, "T1", "k", "v");
	uint8_t zero[HW_HASH_BYTES] = {0};
	struct hw_entry a, b;
	size_t l1 = hw_entry_encode(e1, 1, 1, NOW_MS, zero, rec, (uint32_t)rlen, &a);
	size_t l2 = hw_entry_encode(e2, 2, 1, NOW_MS, zero, rec, (uint32_t)rlen, &b);
	const uint8_t *p = e2;
	struct hw_reject rej;
	uint64_t held;
	assert_int_equal(hw_store_append_hold(f->s, &p, &l2, 1, &rej), HW_ELSN);
	assert_false(hw_store_held(f->s, &held));
	p = e1;
	assert_int_equal(hw_store_append_hold(f->s, &p, &l1, 1, &rej), 0);
	p = e2; /* LSN 2, but chained to zero instead of entry 1's hash */
	assert_int_equal(hw_store_append_hold(f->s, &p, &l2, 1, &rej), HW_ECHAIN);
	assert_true(hw_store_held(f->s, &held));
	assert_int_equal(held, 1);
	assert_int_equal(hw_store_commit(f->s), 0);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 1);
	assert_memory_equal(h.hash, a.hash, HW_HASH_BYTES);
	uint8_t got[HW_HASH_BYTES];
	assert_int_equal(hw_store_entry_hash(f->s, 1, got), 0);
	assert_memory_equal(got, a.hash, HW_HASH_BYTES);
	assert_int_equal(hw_store_entry_hash(f->s, 2, got), HW_ENOTFOUND);

	struct hw_entry parsed, decoded;
	assert_int_equal(hw_entry_decode(e1, l1, &decoded), 0);
	assert_int_equal(hw_entry_parse(e1, l1, &parsed), 0);
	assert_int_equal(parsed.lsn, decoded.lsn);
	assert_int_equal(parsed.epoch, decoded.epoch);
	assert_int_equal(parsed.time_ms, decoded.time_ms);
	assert_memory_equal(parsed.prev_hash, decoded.prev_hash, HW_HASH_BYTES);
	assert_memory_equal(parsed.hash, decoded.hash, HW_HASH_BYTES);
	assert_ptr_equal(parsed.record, decoded.record);
	assert_int_equal(parsed.record_len, decoded.record_len);
	e1[l1 - 1] ^= 0x01; /* the record's last byte: only the hash tells */
	assert_int_equal(hw_entry_decode(e1, l1, &decoded), HW_ECORRUPT);
	assert_int_equal(hw_entry_parse(e1, l1, &parsed), 0);
	assert_int_equal(hw_entry_parse(e1, l1 - 1, &parsed), HW_ECORRUPT);
}

/* A map that fills grows and the batch is retried whole, whether LMDB or the fault hook
 * says MAP_FULL. */
static void test_map_full_grows(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_fault fault;
	hw_fault_arm(&fault, 3, 1);
	struct hw_store_opts o = {.map_bytes = 256 * 1024, .mapfull_fault = &fault};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	uint64_t unexpected;
	uint64_t n = fill(f->s, "terminal_peak", 6000, NOW_MS, &unexpected);
	assert_int_equal(unexpected, 0);
	assert_int_equal(n, 6000);
	assert_int_equal(fault.fired, 1);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 6000);
}

/* Prepare kv record id on s and hold it (fails the test otherwise). */
static void hold_one(struct hw_store *s, unsigned id, const char *key)
{
	uint8_t buf[256];
	size_t len = kv_record(buf, sizeof buf, id, "T1", key, "1");
	struct hw_submit sub = {.data = buf, .len = len};
	struct hw_result r;
	struct hw_batch b;
	assert_int_equal(hw_store_prepare(s, 1, NOW_MS, &sub, 1, &r, &b), 0);
	assert_int_equal(r.code, 0);
	hw_store_hold(s);
}

/* Held batches stay invisible to readers until committed, an aborted batch after them
 * drops only itself, and the commit makes every held one readable. */
static void test_hold_then_commit(void **state)
{
	struct fx *f = *state;
	hold_one(f->s, 1, "a");
	hold_one(f->s, 2, "b");
	uint64_t held;
	assert_true(hw_store_held(f->s, &held));
	assert_int_equal(held, 2);
	uint8_t buf[4096], c[256];
	size_t len;
	uint64_t last;
	assert_int_equal(hw_store_read_entries(f->s, 1, 10, buf, sizeof buf, &len, &last), 0);
	assert_int_equal(last, 0);
	struct hw_submit sub = {.data = c, .len = kv_record(c, sizeof c, 3, "T1", "c", "1")};
	struct hw_result r;
	struct hw_batch b;
	assert_int_equal(hw_store_prepare(f->s, 1, NOW_MS, &sub, 1, &r, &b), 0);
	assert_int_equal(b.first_lsn, 3);
	hw_store_abort(f->s);
	assert_int_equal(hw_store_commit(f->s), 0);
	assert_false(hw_store_held(f->s, &held));
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 2);
	assert_int_equal(hw_store_read_entries(f->s, 1, 10, buf, sizeof buf, &len, &last), 0);
	assert_int_equal(last, 2);
}

/* A MAP_FULL in a batch after held ones grows the map, takes the held ones again and
 * retries: nothing held is lost, and all of it commits together. */
static void test_hold_map_full(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_fault fault;
	hw_fault_arm(&fault, 1, 1);
	struct hw_store_opts o = {.map_bytes = 256 * 1024, .mapfull_fault = &fault};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	hold_one(f->s, 1, "a"); /* the fault's first tick passes */
	hold_one(f->s, 2, "b"); /* the second fires: "a" is taken again, then "b" retried */
	assert_int_equal(fault.fired, 1);
	uint64_t held;
	assert_true(hw_store_held(f->s, &held));
	assert_int_equal(held, 2);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 0);
	assert_int_equal(hw_store_commit(f->s), 0);
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 2);
}

/* A commit of held batches that runs out of map (LMDB saves its free list at commit)
 * grows the map, takes the batches again and commits them: nothing is lost and the store
 * goes on, where it used to stop for good with an I/O error. */
static void test_commit_map_full_grows(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_fault fault;
	hw_fault_arm(&fault, 0, 1);
	struct hw_store_opts o = {
		.map_bytes = 256 * 1024, .log_ahead = true, .commit_mapfull_fault = &fault};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	hold_one(f->s, 1, "a");
	hold_one(f->s, 2, "b");
	assert_int_equal(hw_store_commit(f->s), 0);
	assert_int_equal(fault.fired, 1);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 2);
	hold_one(f->s, 3, "c");
	assert_int_equal(hw_store_commit(f->s), 0);
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 3);
	uint8_t buf[4096];
	size_t len;
	uint64_t last;
	assert_int_equal(hw_store_read_entries(f->s, 1, 3, buf, sizeof buf, &len, &last), 0);
	assert_int_equal(last, 3);
}

/* The same when the map runs out again while the held batches are taken again: it grows
 * once more, and the commit still holds all of them. */
static void test_commit_map_full_during_replay(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_fault at_commit, at_put;
	hw_fault_arm(&at_commit, 0, 1);
	hw_fault_arm(&at_put, 2, 1); /* the two held entries pass; the replay's first fails */
	struct hw_store_opts o = {.map_bytes = 256 * 1024,
				  .log_ahead = true,
				  .mapfull_fault = &at_put,
				  .commit_mapfull_fault = &at_commit};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	hold_one(f->s, 1, "a");
	hold_one(f->s, 2, "b");
	assert_int_equal(hw_store_commit(f->s), 0);
	assert_int_equal(at_commit.fired, 1);
	assert_int_equal(at_put.fired, 1);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 2);
}

/* Held batches share one transaction, so a batch dropped after them (abort, or MAP_FULL
 * in the middle of one) makes the store take them again from their entries. The store
 * must end exactly as one that took the same batches one commit each: same head, same
 * digest, with generated traffic that has refused records in every batch. */
static void test_held_taken_again(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_fault fault;
	hw_fault_arm(&fault, 1200, 1); /* the 1,201st log append: inside the third batch */
	/* A map far too small: LMDB's own MAP_FULL comes in held batches too, more than once. */
	struct hw_store_opts o = {.map_bytes = 256 * 1024, .mapfull_fault = &fault};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	uint64_t unexpected;
	uint64_t n = fill_batches(f->s, "terminal_peak", 2000, NOW_MS, true, &unexpected);
	assert_int_equal(unexpected, 0);
	assert_int_equal(fault.fired, 1);
	uint8_t c[256];
	struct hw_submit sub = {.data = c, .len = kv_record(c, sizeof c, 9, "T1", "c", "1")};
	struct hw_result r;
	struct hw_batch b;
	assert_int_equal(hw_store_prepare(f->s, 1, NOW_MS, &sub, 1, &r, &b), 0);
	assert_int_equal(b.first_lsn, n + 1);
	hw_store_abort(f->s);
	uint64_t held;
	assert_true(hw_store_held(f->s, &held));
	assert_int_equal(held, n);
	assert_int_equal(hw_store_commit(f->s), 0);
	char file[400];
	struct stat st;
	snprintf(file, sizeof file, "%s/data.mdb", f->dir);
	assert_int_equal(stat(file, &st), 0);
	/* More than 512 KiB of data: LMDB's MAP_FULL grew the map at least twice. */
	assert_true(st.st_size > 2 * 256 * 1024);

	char dir2[320];
	snprintf(dir2, sizeof dir2, "%s/b", f->root);
	struct hw_store *s2;
	assert_int_equal(hw_store_init(dir2), 0);
	assert_int_equal(hw_store_open(dir2, NULL, &s2), 0);
	assert_int_equal(fill(s2, "terminal_peak", 2000, NOW_MS, &unexpected), n);
	struct hw_head h1, h2;
	hw_store_head(f->s, &h1);
	hw_store_head(s2, &h2);
	assert_int_equal(h1.lsn, n);
	assert_int_equal(h2.lsn, n);
	assert_memory_equal(h1.hash, h2.hash, HW_HASH_BYTES);
	uint8_t d1[HW_HASH_BYTES], d2[HW_HASH_BYTES];
	digest_of(f->s, d1);
	digest_of(s2, d2);
	assert_memory_equal(d1, d2, HW_HASH_BYTES);
	hw_store_close(s2);
}

/* A failed commit stops the store for good; reopening shows the batch left nothing. */
static void test_commit_failure_is_sticky(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_fault fault;
	hw_fault_arm(&fault, 1, 1);
	struct hw_store_opts o = {.commit_fault = &fault};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	uint8_t a[256], b[256];
	struct hw_result r;
	size_t alen = kv_record(a, sizeof a, 1, "T1", "a", "1");
	size_t blen = kv_record(b, sizeof b, 2, "T1", "b", "1");
	submit_one(f->s, a, alen, &r);
	struct hw_submit sub = {.data = b, .len = blen};
	assert_int_equal(hw_store_submit(f->s, 1, NOW_MS, &sub, 1, &r), -EIO);
	assert_int_equal(hw_store_submit(f->s, 1, NOW_MS, &sub, 1, &r), HW_ESTORE_FAILED);
	hw_store_close(f->s);
	assert_int_equal(hw_store_open(f->dir, NULL, &f->s), 0);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 1);
}

/* A full disk gives HW_ESTORE_FULL and leaves the store as it was. Needs root to mount a
 * small tmpfs; skipped otherwise. */
static void test_disk_full(void **state)
{
	struct fx *f = *state;
	char mnt[320];
	snprintf(mnt, sizeof mnt, "%s/small", f->root);
	mkdir(mnt, 0700);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") != 0)
		HW_SKIP("mount tmpfs at %s: %s (needs CAP_SYS_ADMIN)", mnt, strerror(errno));
	char dir[400];
	snprintf(dir, sizeof dir, "%s/s", mnt);
	struct hw_store *s;
	assert_int_equal(hw_store_init(dir), 0);
	assert_int_equal(hw_store_open(dir, NULL, &s), 0);
	uint8_t *rec = malloc(40000);
	int rc = 0;
	uint64_t stored = 0;
	for (unsigned i = 1; i < 200 && rc == 0; i++) {
		char value[30001];
		memset(value, 'x', 30000);
		value[30000] = 0;
		char key[16];
		snprintf(key, sizeof key, "k%u", i);
		size_t len = kv_record(rec, 40000, i, "T1", key, value);
		struct hw_submit sub = {.data = rec, .len = len};
		struct hw_result r;
		rc = hw_store_submit(s, 1, NOW_MS, &sub, 1, &r);
		stored += rc == 0;
	}
	assert_int_equal(rc, HW_ESTORE_FULL);
	hw_store_close(s);
	assert_int_equal(hw_store_open(dir, NULL, &s), 0);
	struct hw_head h;
	hw_store_head(s, &h);
	assert_int_equal(h.lsn, stored);
	hw_store_close(s);
	free(rec);
	umount(mnt);
}

/* A read-only handle refuses writes; opening a directory without a store is HW_EFORMAT. */
static void test_read_only_and_format(void **state)
{
	struct fx *f = *state;
	struct hw_store *ro;
	struct hw_store_opts o = {.read_only = true};
	assert_int_equal(hw_store_open(f->dir, &o, &ro), 0);
	uint8_t a[256];
	struct hw_submit sub = {.data = a, .len = kv_record(a, sizeof a, 1, "T1", "a", "1")};
	struct hw_result r;
	assert_int_equal(hw_store_submit(ro, 1, NOW_MS, &sub, 1, &r), -EROFS);
	hw_store_close(ro);
	assert_int_equal(hw_store_open(f->root, NULL, &ro), HW_EFORMAT);
}

/* A store's directory that cannot be searched is -EACCES, not a directory without a
 * store (HW_EFORMAT); missing, -ENOENT. Root searches any directory: the open runs as
 * nobody in a child then, else the directory is made unsearchable. */
static void test_open_unsearchable(void **state)
{
	struct fx *f = *state;
	struct hw_store *s;
	struct hw_store_opts ro = {.read_only = true};
	char none[320];
	snprintf(none, sizeof none, "%s/none", f->root);
	assert_int_equal(hw_store_open(none, &ro, &s), -ENOENT);
	if (geteuid() != 0) {
		assert_int_equal(chmod(f->dir, 0), 0);
		assert_int_equal(hw_store_open(f->dir, &ro, &s), -EACCES);
		assert_int_equal(chmod(f->dir, 0700), 0);
		return;
	}
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(setuid(65534) != 0 ? 2 : hw_store_open(f->dir, &ro, &s) == -EACCES ? 0 : 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A data file shorter than the pages its meta page counts (truncated: a copy cut short,
 * a disk that lost its tail) is HW_ECORRUPT at open, read-only too, instead of a SIGBUS
 * when a read reaches past its end. */
static void test_truncated_file_is_corrupt(void **state)
{
	struct fx *f = *state;
	uint8_t a[4096];
	char value[2001];
	memset(value, 'x', 2000);
	value[2000] = '\0';
	for (unsigned i = 1; i <= 50; i++) { /* 50 records of 2 KB: about 25 pages */
		char key[16];
		snprintf(key, sizeof key, "k%u", i);
		struct hw_result r;
		submit_one(f->s, a, kv_record(a, sizeof a, i, "T1", key, value), &r);
		assert_int_equal(r.code, 0);
	}
	hw_store_close(f->s);
	f->s = NULL;
	char path[400];
	snprintf(path, sizeof path, "%s/data.mdb", f->dir);
	assert_int_equal(truncate(path, 3 * 4096), 0);
	struct hw_store_opts ro = {.read_only = true};
	assert_int_equal(hw_store_open(f->dir, NULL, &f->s), HW_ECORRUPT);
	assert_int_equal(hw_store_open(f->dir, &ro, &f->s), HW_ECORRUPT);
	assert_null(f->s);
}

/* A retraction must name a known record of the same tenant. */
static void test_retracts(void **state)
{
	struct fx *f = *state;
	uint8_t a[256];
	struct hw_result r;
	submit_one(f->s, a, kv_record(a, sizeof a, 1, "T1", "a", "1"), &r);
	assert_int_equal(r.code, 0);
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	Tos__V1__KvDelete del = TOS__V1__KV_DELETE__INIT;
	uint8_t rid[16] = {9}, target[16] = {1};
	rec.record_id = (ProtobufCBinaryData){16, rid};
	rec.tenant_id = "T2";
	rec.facility_id = "JPNGO-NCB";
	rec.event_time_ms = NOW_MS - 10;
	rec.schema_version = 1;
	rec.retracts = (ProtobufCBinaryData){16, target};
	del.key = "a";
	rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_DELETE;
	rec.kv_delete = &del;
	uint8_t buf[256];
	submit_one(f->s, buf, hw_record_encode(&rec, buf, sizeof buf), &r);
	assert_int_equal(r.code, HW_ERETRACT); /* T2 may not retract T1's record */
	target[0] = 77;
	rec.tenant_id = "T1";
	submit_one(f->s, buf, hw_record_encode(&rec, buf, sizeof buf), &r);
	assert_int_equal(r.code, HW_ERETRACT); /* unknown record */
	target[0] = 1;
	submit_one(f->s, buf, hw_record_encode(&rec, buf, sizeof buf), &r);
	assert_int_equal(r.code, 0);
}

/* A kv_delete record of key under record_id {id}, retracting {retracts} when not 0. */
static size_t kv_delete_record(uint8_t *buf, size_t cap, uint8_t id, uint8_t retracts,
			       const char *key)
{
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	Tos__V1__KvDelete del = TOS__V1__KV_DELETE__INIT;
	uint8_t rid[16] = {id}, target[16] = {retracts};
	rec.record_id = (ProtobufCBinaryData){16, rid};
	rec.tenant_id = "T1";
	rec.facility_id = "JPNGO-NCB";
	rec.event_time_ms = NOW_MS - 10;
	rec.schema_version = 1;
	if (retracts != 0)
		rec.retracts = (ProtobufCBinaryData){16, target};
	del.key = (char *)key;
	rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_DELETE;
	rec.kv_delete = &del;
	size_t len = hw_record_encode(&rec, buf, cap);
	assert_true(len > 0);
	return len;
}

/* A record refused after its record_id was claimed (by a state rule, or as a retraction
 * of itself) leaves the ids table as it was: the digest is unchanged and the same
 * record_id is free for the next record. */
static void test_refused_frees_record_id(void **state)
{
	struct fx *f = *state;
	uint8_t a[256], b[256];
	struct hw_result r;
	submit_one(f->s, a, kv_record(a, sizeof a, 1, "T1", "a", "1"), &r);
	assert_int_equal(r.code, 0);
	uint8_t d1[HW_HASH_BYTES], d2[HW_HASH_BYTES];
	digest_of(f->s, d1);
	submit_one(f->s, b, kv_delete_record(b, sizeof b, 9, 0, "missing"), &r);
	assert_int_equal(r.code, HW_ENOTFOUND);
	assert_string_equal(r.reject.field, "kv_delete.key");
	submit_one(f->s, b, kv_delete_record(b, sizeof b, 9, 9, "a"), &r);
	assert_int_equal(r.code, HW_ERETRACT); /* its own id names no stored record */
	assert_string_equal(r.reject.field, "retracts");
	digest_of(f->s, d2);
	assert_memory_equal(d1, d2, HW_HASH_BYTES);
	submit_one(f->s, b, kv_delete_record(b, sizeof b, 9, 0, "a"), &r);
	assert_int_equal(r.code, 0);
	assert_false(r.duplicate);
	assert_int_equal(r.lsn, 2);
}

/* refuse_new: a record that would be new is refused with the caller's code before any
 * check (even one it would fail), writing nothing and leaving its record_id free; the
 * same bytes under a stored record_id, committed or only held in the open transaction,
 * are the duplicate they are, and other bytes under one are HW_EIDEMPOTENCY. */
static void test_refuse_new(void **state)
{
	struct fx *f = *state;
	uint8_t a[256], b[256], c[256], d[256];
	struct hw_result r, res[4];
	size_t alen = kv_record(a, sizeof a, 1, "T1", "a", "1");
	submit_one(f->s, a, alen, &r);
	hold_one(f->s, 2, "b"); /* LSN 2, held: invisible outside the transaction */
	struct hw_submit subs[4] = {
		{.data = a, .len = alen, .refuse_new = HW_EBEHIND},
		{.data = b,
		 .len = kv_record(b, sizeof b, 2, "T1", "b", "1"),
		 .refuse_new = HW_EBEHIND},
		{.data = c,
		 .len = kv_record(c, sizeof c, 1, "T1", "a", "2"),
		 .refuse_new = HW_EBEHIND},
		{.data = d,
		 .len = kv_delete_record(d, sizeof d, 9, 0, "missing"),
		 .refuse_new = HW_EBEHIND},
	};
	struct hw_batch bt;
	assert_int_equal(hw_store_prepare(f->s, 1, NOW_MS, subs, 4, res, &bt), 0);
	assert_int_equal(bt.first_lsn, 0); /* nothing new */
	assert_true(res[0].code == 0 && res[0].duplicate && res[0].lsn == 1);
	assert_true(res[1].code == 0 && res[1].duplicate && res[1].lsn == 2);
	assert_int_equal(res[2].code, HW_EIDEMPOTENCY);
	assert_int_equal(res[3].code, HW_EBEHIND); /* not HW_ENOTFOUND: never checked */
	assert_int_equal(res[3].lsn, 0);
	assert_string_equal(res[3].reject.field, "");
	hw_store_abort(f->s);
	assert_int_equal(hw_store_commit(f->s), 0);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 2);
	submit_one(f->s, c, kv_record(c, sizeof c, 9, "T1", "c", "1"), &r);
	assert_true(r.code == 0 && !r.duplicate && r.lsn == 3); /* record_id 9 was left free */
}

/* A retraction whose target's entry is damaged in this store's own log is this store's
 * failure, not the submitter's: the submit fails with HW_ECORRUPT and the store stops
 * (sticky), where it must never answer "stored" for a record it did not store. */
static void test_retract_of_damaged_entry(void **state)
{
	struct fx *f = *state;
	uint8_t a[256], b[256];
	struct hw_result r;
	submit_one(f->s, a, kv_record(a, sizeof a, 1, "T1", "a", "1"), &r);
	assert_int_equal(r.code, 0);
	hw_store_close(f->s);
	assert_int_equal(hw_test_damage_entry(f->dir, 1), 0);
	assert_int_equal(hw_store_open(f->dir, NULL, &f->s), 0);
	struct hw_submit sub = {.data = b, .len = kv_delete_record(b, sizeof b, 9, 1, "a")};
	assert_int_equal(hw_store_submit(f->s, 1, NOW_MS, &sub, 1, &r), HW_ECORRUPT);
	assert_int_equal(hw_store_submit(f->s, 1, NOW_MS, &sub, 1, &r), HW_ESTORE_FAILED);
	struct hw_head h;
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 1);
}

/* Submit n key/value records one per batch (record ids from first), all accepted. */
static void fill_kv(struct hw_store *s, unsigned first, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t buf[256];
		char key[16];
		struct hw_result r;
		snprintf(key, sizeof key, "k%u", first + i);
		submit_one(s, buf, kv_record(buf, sizeof buf, first + i, "T1", key, "v"), &r);
		assert_int_equal(r.code, 0);
	}
}

static void entry_hash(struct hw_store *s, uint64_t lsn, uint8_t out[HW_HASH_BYTES])
{
	uint8_t *e;
	size_t len;
	struct hw_entry ent;
	assert_int_equal(hw_store_read_entry(s, lsn, &e, &len), 0);
	assert_int_equal(hw_entry_decode(e, len, &ent), 0);
	memcpy(out, ent.hash, HW_HASH_BYTES);
	free(e);
}

/* Pruning removes the oldest entries and records the last one removed as the base; the
 * state, the chain identity and the head stay; the base survives a reopen, new entries
 * chain on; a pin holds entries back; a keep_from past the head is refused. */
static void test_prune_base(void **state)
{
	struct fx *f = *state;
	fill_kv(f->s, 1, 100);
	uint8_t d1[HW_HASH_BYTES], d2[HW_HASH_BYTES], id1[HW_HASH_BYTES], id2[HW_HASH_BYTES];
	uint8_t h60[HW_HASH_BYTES], h70[HW_HASH_BYTES];
	digest_of(f->s, d1);
	assert_int_equal(hw_store_chain_id(f->s, id1), 0);
	entry_hash(f->s, 60, h60);
	entry_hash(f->s, 70, h70);
	struct hw_head b, h;
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(b.lsn, 0);
	assert_int_equal(hw_store_prune(f->s, 61), 0);
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(b.lsn, 60);
	assert_memory_equal(b.hash, h60, HW_HASH_BYTES);
	uint8_t *e;
	size_t len;
	assert_int_equal(hw_store_read_entry(f->s, 60, &e, &len), HW_ENOTFOUND);
	assert_int_equal(hw_store_read_entry(f->s, 1, &e, &len), HW_ENOTFOUND);
	assert_int_equal(hw_store_read_entry(f->s, 61, &e, &len), 0);
	free(e);
	digest_of(f->s, d2);
	assert_memory_equal(d1, d2, HW_HASH_BYTES);
	assert_int_equal(hw_store_chain_id(f->s, id2), 0);
	assert_memory_equal(id1, id2, HW_HASH_BYTES);
	assert_int_equal(hw_store_prune(f->s, 40), 0); /* below the base: nothing */
	assert_int_equal(hw_store_prune(f->s, 102), HW_ERANGE);
	hw_store_set_pin(f->s, 70);
	assert_int_equal(hw_store_prune(f->s, 90), 0);
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(b.lsn, 70); /* entries after the pin stay */
	assert_memory_equal(b.hash, h70, HW_HASH_BYTES);
	hw_store_set_pin(f->s, HW_STORE_PIN_NONE);
	hw_store_close(f->s);
	assert_int_equal(hw_store_open(f->dir, NULL, &f->s), 0);
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(b.lsn, 70);
	uint8_t h100[HW_HASH_BYTES];
	entry_hash(f->s, 100, h100);
	fill_kv(f->s, 101, 1);
	struct hw_entry ent;
	assert_int_equal(hw_store_read_entry(f->s, 101, &e, &len), 0);
	assert_int_equal(hw_entry_decode(e, len, &ent), 0);
	assert_memory_equal(ent.prev_hash, h100, HW_HASH_BYTES);
	free(e);
	assert_int_equal(hw_store_prune(f->s, 102), 0); /* the whole log: base = head */
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(hw_store_head(f->s, &h), 0);
	assert_int_equal(b.lsn, 101);
	assert_memory_equal(b.hash, h.hash, HW_HASH_BYTES);
	assert_int_equal(hw_store_chain_id(f->s, id2), 0);
	assert_memory_equal(id1, id2, HW_HASH_BYTES);
}

/* With log_keep_records set, every commit leaves at most keep + 10 % entries, and the
 * log that is left is whole from its base to the head. */
static void test_retention(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_store_opts o = {.log_keep_records = 100};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	struct hw_head b, h;
	for (unsigned i = 0; i < 500; i++) {
		fill_kv(f->s, 1 + i, 1);
		assert_int_equal(hw_store_base(f->s, &b), 0);
		assert_int_equal(hw_store_head(f->s, &h), 0);
		assert_true(h.lsn - b.lsn <= 110);
	}
	assert_true(b.lsn >= 390);
	for (uint64_t lsn = b.lsn + 1; lsn <= h.lsn; lsn++) {
		uint8_t *e;
		size_t len;
		assert_int_equal(hw_store_read_entry(f->s, lsn, &e, &len), 0);
		free(e);
	}
}

/* With log_keep_days too, the count alone prunes nothing while the entries are younger
 * than the age (the head's time is "now"), and once the head is 31 days later the entries
 * that old go down to the count. */
static void test_retention_age(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_store_opts o = {.log_keep_records = 100, .log_keep_days = 30};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	struct hw_head b, h;
	fill_kv(f->s, 1, 300); /* all at NOW_MS */
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(b.lsn, 0);
	int64_t later = NOW_MS + 31LL * 24 * 3600 * 1000;
	for (unsigned i = 0; i < 200; i++) {
		uint8_t buf[256];
		char key[16];
		snprintf(key, sizeof key, "k%u", 301 + i);
		struct hw_submit sub = {.data = buf,
					.len = kv_record(buf, sizeof buf, 301 + i, "T1", key, "v")};
		struct hw_result r;
		assert_int_equal(hw_store_submit(f->s, 1, later, &sub, 1, &r), 0);
		assert_int_equal(r.code, 0);
	}
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(hw_store_head(f->s, &h), 0);
	/* the old 300 may go past the count; the young 200 all stay */
	assert_true(b.lsn >= 290 && b.lsn <= 300);
	assert_int_equal(h.lsn, 500);
}

/* A head stamped 40 days ahead of this node's clock (a primary's clock set forward, or a
 * forged stamp) does not age the log: entries an hour old stay though the count alone
 * would let them go; the age counts from this node's clock (retention.h). */
static void test_retention_head_ahead(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	struct hw_store_opts o = {.log_keep_records = 100, .log_keep_days = 30};
	assert_int_equal(hw_store_open(f->dir, &o, &f->s), 0);
	int64_t wall = hw_wall_ms();
	for (unsigned i = 0; i < 305; i++) {
		uint8_t buf[256];
		char key[16];
		snprintf(key, sizeof key, "k%u", 1 + i);
		int64_t at = i < 300 ? wall - 3600 * 1000 : wall + 40 * HW_RETENTION_DAY_MS;
		struct hw_submit sub = {.data = buf,
					.len = kv_record(buf, sizeof buf, 1 + i, "T1", key, "v")};
		struct hw_result r;
		assert_int_equal(hw_store_submit(f->s, 1, at, &sub, 1, &r), 0);
		assert_int_equal(r.code, 0);
	}
	struct hw_head b;
	assert_int_equal(hw_store_base(f->s, &b), 0);
	assert_int_equal(b.lsn, 0);
}

/* A record_id or a retraction whose entry was pruned is refused on the submit path
 * (nothing to compare or check against), while a standby whose log was pruned still
 * takes the primary's entry retracting such a record. */
static void test_pruned_ids(void **state)
{
	struct fx *f = *state;
	uint8_t a[256], buf[256];
	size_t alen = kv_record(a, sizeof a, 1, "T1", "a", "1");
	struct hw_result r;
	submit_one(f->s, a, alen, &r);
	fill_kv(f->s, 2, 9);
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	Tos__V1__KvDelete del = TOS__V1__KV_DELETE__INIT;
	uint8_t rid[16] = {9, 9}, target[16] = {1};
	rec.record_id = (ProtobufCBinaryData){16, rid};
	rec.tenant_id = "T1";
	rec.facility_id = "JPNGO-NCB";
	rec.event_time_ms = NOW_MS - 10;
	rec.schema_version = 1;
	rec.retracts = (ProtobufCBinaryData){16, target};
	del.key = "a";
	rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_DELETE;
	rec.kv_delete = &del;
	size_t rlen = hw_record_encode(&rec, buf, sizeof buf);
	submit_one(f->s, buf, rlen, &r); /* the primary still holds entry 1: accepted */
	assert_int_equal(r.code, 0);
	assert_int_equal(r.lsn, 11);

	char dir2[320];
	snprintf(dir2, sizeof dir2, "%s/sb", f->root);
	struct hw_store *sb;
	assert_int_equal(hw_store_init(dir2), 0);
	assert_int_equal(hw_store_open(dir2, NULL, &sb), 0);
	for (uint64_t lsn = 1; lsn <= 11; lsn++) {
		uint8_t *e;
		size_t len;
		assert_int_equal(hw_store_read_entry(f->s, lsn, &e, &len), 0);
		const uint8_t *ep = e;
		assert_int_equal(hw_store_append_entries(sb, &ep, &len, 1, NULL), 0);
		free(e);
		if (lsn == 10)
			assert_int_equal(hw_store_prune(sb, 6), 0); /* before the retraction */
	}
	uint8_t d1[HW_HASH_BYTES], d2[HW_HASH_BYTES];
	digest_of(f->s, d1);
	digest_of(sb, d2);
	assert_memory_equal(d1, d2, HW_HASH_BYTES);

	assert_int_equal(hw_store_prune(f->s, 6), 0);
	submit_one(f->s, a, alen, &r);
	assert_int_equal(r.code, HW_EIDEMPOTENCY);
	assert_non_null(strstr(r.reject.rule, "base"));
	rid[1] = 10;
	target[0] = 2;
	rlen = hw_record_encode(&rec, buf, sizeof buf);
	submit_one(f->s, buf, rlen, &r);
	assert_int_equal(r.code, HW_ERETRACT);
	assert_non_null(strstr(r.reject.rule, "base"));
	digest_of(f->s, d2);
	assert_memory_equal(d1, d2, HW_HASH_BYTES);
	hw_store_close(sb);
}

/* A held append is cut at a refused entry: the entries before it are held and commit,
 * it and those after it are not, and its code comes back with its why (a record_id
 * reused with other bytes, as a primary with a replaced binary could send); the same
 * batch given to hw_store_append_entries stores nothing, and one refused at its first
 * entry holds nothing more. */
static void test_append_hold_cuts_at_refused(void **state)
{
	struct fx *f = *state;
	enum { N = 4, BAD = 2 };
	uint8_t rec[N][256], ent[N][512];
	const uint8_t *p[N];
	size_t len[N];
	uint8_t prev[HW_HASH_BYTES] = {0};
	struct hw_entry e;
	for (unsigned i = 0; i < N; i++) {
		/* the third repeats the first's record_id with another value */
		size_t rl = kv_record(rec[i], sizeof rec[i], i == BAD ? 1 : i + 1, "T1", "k",
				      i == BAD ? "other" : "v");
		len[i] = hw_entry_encode(ent[i], i + 1, 1, NOW_MS, prev, rec[i], (uint32_t)rl, &e);
		memcpy(prev, e.hash, HW_HASH_BYTES);
		p[i] = ent[i];
	}
	struct hw_reject rej;
	struct hw_head h;
	uint64_t held;
	assert_int_equal(hw_store_append_entries(f->s, p, len, N, &rej), HW_EIDEMPOTENCY);
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, 0);
	assert_int_equal(hw_store_append_hold(f->s, p, len, N, &rej), HW_EIDEMPOTENCY);
	assert_int_equal(rej.code, HW_EIDEMPOTENCY);
	assert_string_equal(rej.field, "record_id");
	assert_true(hw_store_held(f->s, &held));
	assert_int_equal(held, BAD);
	assert_int_equal(hw_store_append_hold(f->s, p + BAD, len + BAD, N - BAD, &rej),
			 HW_EIDEMPOTENCY);
	assert_true(hw_store_held(f->s, &held));
	assert_int_equal(held, BAD);
	assert_int_equal(hw_store_commit(f->s), 0);
	hw_store_head(f->s, &h);
	assert_int_equal(h.lsn, BAD);
	uint8_t got[HW_HASH_BYTES];
	assert_int_equal(hw_store_entry_hash(f->s, BAD + 1, got), HW_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_submit_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generated_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_determinism, setup, teardown),
		cmocka_unit_test_setup_teardown(test_determinism_unvalidated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_primary_not_validated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_refuses_bad_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_then_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_map_full_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_map_full_during_replay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_map_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_taken_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure_is_sticky, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_file_is_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_and_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_unsearchable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retracts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_frees_record_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retract_of_damaged_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_hold_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_hold_cuts_at_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_head_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pruned_ids, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
