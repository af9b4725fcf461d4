/* backup_fix.h: the fixture of test_backup.c and test_verify.c: store "a" (store_fix.h)
 * filled with RECORDS generated records in batches on a fixed clock, verify run on it,
 * and ways to damage it below hawser (bytes flipped in its file, values changed through
 * plain LMDB). Included after cmocka.h. */
#ifndef HW_TESTS_BACKUP_FIX_H
#define HW_TESTS_BACKUP_FIX_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>
#include "base/bytes.h"
#include "replica/backup.h"
#include "replica/backup_int.h"
#include "replica/checkpoint.h"
#include "replica/entry.h"
#include "replica/iso6346.h"
#include "replica/record.h"
#include "replica/store.h"
#include "replica/store_int.h"
#include "replica/verify.h"
#include "replica/snapshot.h"
#include "tests/unit/store_fix.h"

#define NOW_MS        1790000000000LL /* 2026-09-21: a fixed clock keeps runs identical */
#define RECORDS       600u            /* filled into store "a" by the fixture */
#define BATCH         50u             /* records per submit; batch j runs at NOW_MS + j s */
#define BATCH_STEP_MS 1000

static inline void container_id(unsigned c, char out[12])
{
	snprintf(out, 12, "TSTU%06u", (100000u + c) % 1000000u);
	int d = hw_iso6346_check_digit(out);
	assert_true(d >= 0);
	out[10] = (char)('0' + d);
	out[11] = '\0';
}

/* Audit record i carries this text, found nowhere else in the store. */
static inline void marker(unsigned i, char out[24])
{
	snprintf(out, 24, "marker-%06u", i);
}

static inline void gate_in(Tos__V1__Record *r, unsigned c, char id[12], Tos__V1__UnitEvent *ue,
			   Tos__V1__Equipment *eq, Tos__V1__Location *to, Tos__V1__YardPos *yp)
{
	container_id(c, id);
	ue->type = TOS__V1__UNIT_EVENT_TYPE__GATE_IN;
	eq->container_id = id;
	eq->iso_size_type = "22G1";
	eq->full_empty = TOS__V1__FULL_EMPTY__FE_EMPTY;
	eq->tare_kg = 2200;
	ue->equipment = eq;
	yp->block = "A";
	yp->bay = 1 + 2 * (c % 49); /* 20' boxes stand in odd bays */
	yp->row = 1 + (c / 49) % 20;
	yp->tier = 1 + c / (49 * 20);
	to->where_case = TOS__V1__LOCATION__WHERE_YARD;
	to->yard = yp;
	ue->to = to;
	r->payload_case = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT;
	r->unit_event = ue;
}

/* Record i of the test corpus (deterministic). */
static inline size_t make_record(unsigned i, uint8_t *buf, size_t cap)
{
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	Tos__V1__UnitEvent ue = TOS__V1__UNIT_EVENT__INIT;
	Tos__V1__Equipment eq = TOS__V1__EQUIPMENT__INIT;
	Tos__V1__Location to = TOS__V1__LOCATION__INIT;
	Tos__V1__YardPos yp = TOS__V1__YARD_POS__INIT;
	Tos__V1__AuditEvent au = TOS__V1__AUDIT_EVENT__INIT;
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	uint8_t rid[16] = {'H', 'W', 'B', 'K'};
	char id[12], text[24], key[16];
	memcpy(rid + 4, &i, sizeof i);
	r.record_id.data = rid;
	r.record_id.len = sizeof rid;
	r.tenant_id = "T1";
	r.facility_id = "JPNGO-NCB";
	r.event_time_ms = NOW_MS - 600000 + i;
	r.schema_version = 1;
	if (i % 3 == 0) {
		gate_in(&r, i / 3, id, &ue, &eq, &to, &yp);
	} else if (i % 3 == 1) {
		marker(i, text);
		au.actor = "ops";
		au.action = "LOGIN";
		au.detail = text;
		r.payload_case = TOS__V1__RECORD__PAYLOAD_AUDIT;
		r.audit = &au;
	} else {
		snprintf(key, sizeof key, "k%u", i);
		kv.key = key;
		kv.value.data = (uint8_t *)key;
		kv.value.len = strlen(key);
		r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
		r.kv_put = &kv;
	}
	size_t len = hw_record_encode(&r, buf, cap);
	assert_true(len > 0);
	return len;
}

/* Submit corpus records [from, to) in batches aligned to BATCH, batch j at NOW_MS + j s,
 * so two stores filled alike hold the same entries. Every record must be accepted. */
static inline void fill(struct hw_store *s, unsigned from, unsigned to)
{
	static uint8_t bufs[BATCH][1024];
	struct hw_submit subs[BATCH] = {{0}};
	struct hw_result res[BATCH];
	for (unsigned i = from; i < to;) {
		unsigned j = i / BATCH, n = 0;
		for (; i < to && i / BATCH == j; i++, n++) {
			subs[n].data = bufs[n];
			subs[n].len = make_record(i, bufs[n], sizeof bufs[n]);
		}
		int64_t now = NOW_MS + (int64_t)j * BATCH_STEP_MS;
		assert_int_equal(hw_store_submit(s, 1, now, subs, n, res), 0);
		for (unsigned k = 0; k < n; k++) {
			if (res[k].code != 0)
				fail_msg("record %u refused: %s %s: %s", i - n + k,
					 hw_errname(res[k].code), res[k].reject.field,
					 res[k].reject.rule);
			assert_int_equal(res[k].lsn, i - n + k + 1);
		}
	}
}

static inline int setup(void **state)
{
	struct fx *f = store_fix_new("backup");
	fill(f->s, 0, RECORDS);
	*state = f;
	return 0;
}

/* LMDB forbids opening one environment twice in a process: close before verify opens it. */
static inline void close_store(struct fx *f)
{
	hw_store_close(f->s);
	f->s = NULL;
}

static inline void head_of(struct hw_store *s, struct hw_head *h)
{
	assert_int_equal(hw_store_head(s, h), 0);
}

static inline void digest_of(struct hw_store *s, uint8_t d[HW_HASH_BYTES])
{
	assert_int_equal(hw_store_digest(s, d), 0);
}

static inline int run_verify(struct fx *f, struct hw_verify_report *r)
{
	char scratch[300];
	path_in(f, "scratch", scratch);
	int rc = hw_verify(f->a, scratch, NULL, NULL, r);
	assert_false(exists(scratch));
	return rc;
}

/* The file at path, *len bytes, with a NUL after them so that a text file reads as a
 * string: strtok_r() on the bare bytes ran on into whatever the heap held past them. */
static inline uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	uint8_t *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static inline void spill(const char *path, const uint8_t *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Flip a bit of needle's last byte wherever it occurs in the file (a record's live copy
 * and any stale copies on free pages alike). Returns how many copies were hit. */
static inline unsigned flip_everywhere(const char *path, const char *needle)
{
	size_t len, nlen = strlen(needle);
	uint8_t *buf = slurp(path, &len);
	unsigned hits = 0;
	for (uint8_t *p = buf; (p = memmem(p, len - (size_t)(p - buf), needle, nlen)) != NULL;
	     p += nlen) {
		p[nlen - 1] ^= 0x01;
		hits++;
	}
	spill(path, buf, len);
	free(buf);
	return hits;
}

/* The store at dir (closed) opened as plain LMDB, and a write transaction in *txn: what
 * damage or an attacker's hand does, below hawser. */
static inline MDB_env *raw_open(const char *dir, MDB_txn **txn)
{
	MDB_env *env;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 1ull << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, txn), 0);
	return env;
}

/* Flip one bit (0x40) of a value in table of the store in dir (closed): the value of key,
 * or the first one when key is NULL; its byte at, or its middle byte when at is SIZE_MAX. */
static inline void flip_value(const char *dir, const char *table, const char *key, size_t at)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k = {.mv_size = key ? strlen(key) : 0, .mv_data = (void *)key}, v;
	env = raw_open(dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, key ? MDB_SET_KEY : MDB_FIRST), 0);
	uint8_t *copy = malloc(v.mv_size);
	memcpy(copy, v.mv_data, v.mv_size);
	copy[at == SIZE_MAX ? v.mv_size / 2 : at] ^= 0x40;
	MDB_val nv = {.mv_size = v.mv_size, .mv_data = copy};
	assert_int_equal(mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), 0);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(copy);
}

#endif
