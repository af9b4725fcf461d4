/* test_backup.c: verify (log walk and rebuild), backup, incremental backup, restore to a
 * point in time, damaged backups, and replay between stores. */
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
#include "tests/unit/sign_fix.h"
#include "tests/unit/store_fix.h"

#define NOW_MS        1790000000000LL /* 2026-09-21: a fixed clock keeps runs identical */
#define RECORDS       600u            /* filled into store "a" by the fixture */
#define BATCH         50u             /* records per submit; batch j runs at NOW_MS + j s */
#define BATCH_STEP_MS 1000

/* ---- records: container gate-ins, audit events, key/value puts, all accepted ---- */

static void container_id(unsigned c, char out[12])
{
	snprintf(out, 12, "TSTU%06u", (100000u + c) % 1000000u);
	int d = hw_iso6346_check_digit(out);
	assert_true(d >= 0);
	out[10] = (char)('0' + d);
	out[11] = '\0';
}

/* Audit record i carries this text, found nowhere else in the store. */
static void marker(unsigned i, char out[24])
{
	snprintf(out, 24, "marker-%06u", i);
}

static void gate_in(Tos__V1__Record *r, unsigned c, char id[12], Tos__V1__UnitEvent *ue,
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
static size_t make_record(unsigned i, uint8_t *buf, size_t cap)
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
static void fill(struct hw_store *s, unsigned from, unsigned to)
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

/* ---- fixture ---- */

static int setup(void **state)
{
	struct fx *f = store_fix_new("backup");
	fill(f->s, 0, RECORDS);
	*state = f;
	return 0;
}

/* LMDB forbids opening one environment twice in a process: close before verify opens it. */
static void close_store(struct fx *f)
{
	hw_store_close(f->s);
	f->s = NULL;
}

static void head_of(struct hw_store *s, struct hw_head *h)
{
	assert_int_equal(hw_store_head(s, h), 0);
}

static void digest_of(struct hw_store *s, uint8_t d[HW_HASH_BYTES])
{
	assert_int_equal(hw_store_digest(s, d), 0);
}

static int run_verify(struct fx *f, struct hw_verify_report *r)
{
	char scratch[300];
	path_in(f, "scratch", scratch);
	int rc = hw_verify(f->a, scratch, NULL, NULL, r);
	assert_false(exists(scratch));
	return rc;
}

/* The file at path, *len bytes, with a NUL after them so that a text file reads as a
 * string: strtok_r() on the bare bytes ran on into whatever the heap held past them. */
static uint8_t *slurp(const char *path, size_t *len)
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

static void spill(const char *path, const uint8_t *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Flip a bit of needle's last byte wherever it occurs in the file (a record's live copy
 * and any stale copies on free pages alike). Returns how many copies were hit. */
static unsigned flip_everywhere(const char *path, const char *needle)
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

/* ---- verify ---- */

/* An intact store verifies clean: every entry checked, rebuilt state equals stored. */
static void test_verify_intact(void **state)
{
	struct fx *f = *state;
	close_store(f);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.first_bad_lsn, 0);
	assert_int_equal(r.entries, RECORDS);
	assert_int_equal(r.head_lsn, RECORDS);
	assert_string_equal(r.what, "");
	assert_memory_equal(r.digest_stored, r.digest_rebuilt, HW_HASH_BYTES);
}

/* One flipped byte inside a stored record is HW_ECORRUPT at that record's LSN. */
static void test_verify_flipped_record(void **state)
{
	struct fx *f = *state;
	const unsigned idx = 3 * 77 + 1; /* an audit record: its text is only in the log */
	char text[24], file[400];
	marker(idx, text);
	close_store(f);
	snprintf(file, sizeof file, "%s/data.mdb", f->a);
	assert_true(flip_everywhere(file, text) >= 1);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, HW_ECORRUPT);
	assert_int_equal(r.first_bad_lsn, idx + 1);
	assert_int_equal(r.entries, idx);
	assert_true(strlen(r.what) > 0);
}

/* The store at dir (closed) opened as plain LMDB, and a write transaction in *txn: what
 * damage or an attacker's hand does, below hawser. */
static MDB_env *raw_open(const char *dir, MDB_txn **txn)
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
static void flip_value(const char *dir, const char *table, const char *key, size_t at)
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

/* flip_value() in f's store, closed first. */
static void flip_stored(struct fx *f, const char *table, const char *key, size_t at)
{
	close_store(f);
	flip_value(f->a, table, key, at);
}

/* A damaged state table value (the log intact) is HW_EDIGEST: the state rebuilt from
 * the log differs from the stored one. */
static void test_verify_damaged_state(void **state)
{
	struct fx *f = *state;
	flip_stored(f, "containers", NULL, SIZE_MAX);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, HW_EDIGEST);
	assert_int_equal(r.first_bad_lsn, 0);
	assert_int_equal(r.entries, RECORDS);
	assert_memory_not_equal(r.digest_stored, r.digest_rebuilt, HW_HASH_BYTES);
}

/* Meta's head repeats the last entry's LSN, hash, epoch and time: an epoch that differs
 * (the top byte of it flipped) is damage, found at the head's LSN. */
static void test_verify_damaged_head_epoch(void **state)
{
	struct fx *f = *state;
	flip_stored(f, "meta", "head", 15);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, HW_ECORRUPT);
	assert_int_equal(r.first_bad_lsn, RECORDS);
}

/* A bad record: a key/value put with an empty key (refused by the rules). */
static size_t bad_record(uint8_t *buf, size_t cap)
{
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	uint8_t rid[16] = {'B', 'A', 'D'};
	r.record_id.data = rid;
	r.record_id.len = sizeof rid;
	r.tenant_id = "T1";
	r.facility_id = "JPNGO-NCB";
	r.event_time_ms = NOW_MS - 1000;
	r.schema_version = 1;
	kv.key = "";
	r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	r.kv_put = &kv;
	size_t len = hw_record_encode(&r, buf, cap);
	assert_true(len > 0);
	return len;
}

/* Replace the last entry with a well-hashed, well-chained one whose record breaks a rule,
 * and point meta's head at it (its old hash is found in the head value and replaced, so
 * this does not depend on the head's layout). */
static void forge_last_entry(const char *dir, const uint8_t *rec, size_t rec_len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi log, meta;
	MDB_val k, v;
	uint8_t key[8], entry[HW_ENTRY_HEADER_BYTES + 1024];
	struct hw_entry old, e;
	env = raw_open(dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "log", 0, &log), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	hw_put_be64(key, RECORDS);
	k = (MDB_val){.mv_size = 8, .mv_data = key};
	assert_int_equal(mdb_get(txn, log, &k, &v), 0);
	assert_int_equal(hw_entry_decode(v.mv_data, v.mv_size, &old), 0);
	size_t len = hw_entry_encode(entry, old.lsn, old.epoch, old.time_ms, old.prev_hash, rec,
				     (uint32_t)rec_len, &e);
	v = (MDB_val){.mv_size = len, .mv_data = entry};
	assert_int_equal(mdb_put(txn, log, &k, &v, 0), 0);
	k = (MDB_val){.mv_size = 4, .mv_data = "head"};
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	uint8_t head[256];
	assert_true(v.mv_size <= sizeof head);
	memcpy(head, v.mv_data, v.mv_size);
	uint8_t *at = memmem(head, v.mv_size, old.hash, HW_HASH_BYTES);
	assert_non_null(at);
	memcpy(at, e.hash, HW_HASH_BYTES);
	v.mv_data = head;
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* A stored record that no longer passes the rules (its entry intact) is reported with
 * the rule's code at its LSN by the rebuild. */
static void test_verify_invalid_record(void **state)
{
	struct fx *f = *state;
	uint8_t rec[256];
	size_t len = bad_record(rec, sizeof rec);
	struct hw_submit sub = {.data = rec, .len = len};
	struct hw_result res;
	assert_int_equal(hw_store_submit(f->s, 1, NOW_MS, &sub, 1, &res), 0);
	assert_true(res.code != 0); /* the code the rules give it */
	close_store(f);
	forge_last_entry(f->a, rec, len);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, res.code);
	assert_int_equal(r.first_bad_lsn, RECORDS);
	assert_int_equal(r.entries, RECORDS);
	assert_non_null(strstr(r.what, res.reject.field));
}

/* ---- backup and restore ---- */

/* Restore of a fresh backup gives the same head (LSN and hash) and digest, and the
 * restored store verifies clean. */
static void test_backup_restore(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS);
	assert_int_equal(bi.end_lsn, RECORDS);
	assert_int_equal(bi.entries_added, 0);
	assert_true(bi.bytes > 0);
	char tmp[400];
	snprintf(tmp, sizeof tmp, "%s/snapshot.tmp", bk);
	assert_false(exists(tmp));
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	struct hw_head ha, hr;
	uint8_t da[HW_HASH_BYTES];
	head_of(f->s, &ha);
	digest_of(f->s, da);
	assert_int_equal(ri.lsn, RECORDS);
	assert_int_equal(ri.time_ms, ha.time_ms);
	assert_memory_equal(ri.digest, da, HW_HASH_BYTES);
	struct hw_store *r;
	assert_int_equal(hw_store_open(dst, NULL, &r), 0);
	head_of(r, &hr);
	hw_store_close(r);
	assert_memory_equal(hr.hash, ha.hash, HW_HASH_BYTES);
	struct hw_verify_report vr;
	char scratch[300];
	path_in(f, "scratch", scratch);
	assert_int_equal(hw_verify(dst, scratch, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
}

/* Restore to LSN K equals a store that was submitted exactly the first K records; a
 * target past the backup's end is HW_ENOTFOUND and restores nothing. */
static void test_restore_until_lsn(void **state)
{
	struct fx *f = *state;
	const unsigned k = 317;
	char bk[300], dst[300], ref[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "ref", ref);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, RECORDS + 1, 0, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_non_null(strstr(ri.what, "the backup ends at LSN"));
	assert_false(exists(dst)); /* past the end: nothing restored */
	assert_int_equal(hw_restore(bk, dst, k, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, k);
	struct hw_store *rs;
	struct hw_head hr, hf;
	uint8_t dr[HW_HASH_BYTES];
	assert_int_equal(hw_store_init(ref), 0);
	assert_int_equal(hw_store_open(ref, NULL, &rs), 0);
	fill(rs, 0, k);
	head_of(rs, &hr);
	digest_of(rs, dr);
	hw_store_close(rs);
	assert_int_equal(hr.lsn, k);
	assert_memory_equal(ri.digest, dr, HW_HASH_BYTES);
	digest_of(f->s, dr);
	assert_memory_not_equal(ri.digest, dr, HW_HASH_BYTES);
	assert_int_equal(hw_store_open(dst, NULL, &rs), 0);
	head_of(rs, &hf);
	hw_store_close(rs);
	assert_memory_equal(hf.hash, hr.hash, HW_HASH_BYTES); /* same batches, same clock */
}

/* Restore to a time keeps exactly the entries up to it; a time before the first entry
 * is HW_ENOTFOUND and creates nothing. */
static void test_restore_until_time(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], early[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "early", early);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	struct hw_restore_info ri;
	int64_t t = NOW_MS + 4 * BATCH_STEP_MS + BATCH_STEP_MS / 2; /* inside batch 4 */
	assert_int_equal(hw_restore(bk, dst, 0, t, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, 5 * BATCH);
	assert_int_equal(ri.time_ms, NOW_MS + 4 * BATCH_STEP_MS);
	assert_int_equal(hw_restore(bk, early, 0, NOW_MS - 1, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_false(exists(early));
}

/* An incremental backup appends only the new entries; restoring it reaches the new head,
 * and a point inside the appended log is reachable too. */
static void test_incremental(void **state)
{
	struct fx *f = *state;
	const unsigned more = 150;
	char bk[300], dst[300], mid[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "mid", mid);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	fill(f->s, RECORDS, RECORDS + more);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS);
	assert_int_equal(bi.end_lsn, RECORDS + more);
	assert_int_equal(bi.entries_added, more);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 0);
	struct hw_restore_info ri;
	struct hw_head h;
	uint8_t d[HW_HASH_BYTES];
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	head_of(f->s, &h);
	digest_of(f->s, d);
	assert_int_equal(ri.lsn, RECORDS + more);
	assert_int_equal(ri.time_ms, h.time_ms);
	assert_memory_equal(ri.digest, d, HW_HASH_BYTES);
	assert_int_equal(hw_restore(bk, mid, RECORDS + 10, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 10);
}

/* The progress hw_backup() reports: each call's count and total. */
struct progress_log {
	uint64_t done[64], total[64];
	size_t n;
};

static int log_cb(void *arg, uint64_t done, uint64_t total)
{
	struct progress_log *l = arg;
	assert_true(l->n < 64);
	l->done[l->n] = done;
	l->total[l->n] = total;
	l->n++;
	return 0;
}

/* The calls rise to one total and end at it; returns that total. */
static uint64_t assert_rising(const struct progress_log *l)
{
	assert_true(l->n >= 1);
	for (size_t i = 0; i < l->n; i++) {
		assert_int_equal(l->total[i], l->total[0]);
		assert_true(l->done[i] <= l->total[i]);
		if (i > 0)
			assert_true(l->done[i] > l->done[i - 1]);
	}
	assert_int_equal(l->done[l->n - 1], l->total[0]);
	return l->total[0];
}

/* A full backup reports the snapshot copy's pages up to their total; an incremental one
 * of more than 4,096 entries reports them in steps up to exactly the entries appended;
 * one with nothing to append reports nothing; the backups are the same with or without
 * a callback (NULL: none called). */
static void test_backup_progress(void **state)
{
	struct fx *f = *state;
	const unsigned more = 4500;
	char bk[300], bk2[300];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	struct progress_log l = {0};
	struct hw_backup_info bi, bi2;
	assert_int_equal(hw_backup(f->s, bk, log_cb, &l, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi2), 0);
	assert_true(assert_rising(&l) >= 2); /* two meta pages at least */
	assert_int_equal(bi.bytes, bi2.bytes);

	fill(f->s, RECORDS, RECORDS + more);
	memset(&l, 0, sizeof l);
	assert_int_equal(hw_backup(f->s, bk, log_cb, &l, &bi), 0);
	assert_int_equal(bi.entries_added, more);
	assert_int_equal(assert_rising(&l), more);
	assert_int_equal(l.n, 2); /* at 4,096 and at the end */
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi2), 0);
	assert_int_equal(bi2.end_lsn, bi.end_lsn);

	memset(&l, 0, sizeof l);
	assert_int_equal(hw_backup(f->s, bk, log_cb, &l, &bi), 0);
	assert_int_equal(bi.entries_added, 0);
	assert_int_equal(l.n, 0);
	struct hw_restore_info ri;
	char dst[300];
	path_in(f, "r", dst);
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + more);
}

/* Backup with a non-empty log.hwl: a full backup, more records, an incremental one. */
static void backup_with_log(struct fx *f, const char *bk, unsigned from)
{
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	fill(f->s, from, from + 20);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 20);
}

static void expect_refused(struct fx *f, const char *bk, const char *word)
{
	char dst[300];
	path_in(f, "r", dst);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), HW_EBACKUP);
	if (strstr(ri.what, word) == NULL)
		fail_msg("what \"%s\" does not name %s", ri.what, word);
	assert_false(exists(dst));
}

/* A damaged snapshot, a truncated log or a missing MANIFEST is HW_EBACKUP, says which,
 * and creates no store; an incremental backup into the damaged one is refused too. */
static void test_damaged_backups(void **state)
{
	struct fx *f = *state;
	char bk1[300], bk2[300], bk3[300], file[400];
	path_in(f, "bk1", bk1);
	path_in(f, "bk2", bk2);
	path_in(f, "bk3", bk3);
	backup_with_log(f, bk1, RECORDS);
	backup_with_log(f, bk2, RECORDS + 20);
	backup_with_log(f, bk3, RECORDS + 40);

	snprintf(file, sizeof file, "%s/snapshot/data.mdb", bk1);
	size_t len;
	uint8_t *buf = slurp(file, &len);
	buf[len / 2] ^= 0x10;
	spill(file, buf, len);
	free(buf);
	expect_refused(f, bk1, "snapshot");
	/* nor is the damaged snapshot extended by an incremental backup */
	fill(f->s, RECORDS + 60, RECORDS + 70);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk1, NULL, NULL, &bi), HW_EBACKUP);
	assert_non_null(strstr(bi.what, "snapshot"));

	snprintf(file, sizeof file, "%s/log.hwl", bk2);
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_size > 10);
	assert_int_equal(truncate(file, st.st_size - 10), 0);
	expect_refused(f, bk2, "truncated");

	snprintf(file, sizeof file, "%s/MANIFEST", bk3);
	assert_int_equal(unlink(file), 0);
	expect_refused(f, bk3, "MANIFEST");
}

/* Delete the log rows of LSN from and after in the store at dir, its head left as it
 * was: a log cut short behind its head. */
static void cut_log(const char *dir, uint64_t from)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	uint8_t key[8];
	hw_lsn_key(from, key);
	MDB_val k = {.mv_size = 8, .mv_data = key}, v;
	env = raw_open(dir, &txn);
	assert_int_equal(mdb_dbi_open(txn, "log", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		assert_int_equal(mdb_cursor_del(cur, 0), 0);
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* The MANIFEST of bk made to match its snapshot file again, as whoever altered the file
 * could (the MANIFEST is not signed). */
static void manifest_rehash(const char *bk)
{
	char file[400], path[400], hex[2 * 32 + 1], line[128];
	snprintf(file, sizeof file, "%s/snapshot/data.mdb", bk);
	size_t len;
	uint8_t *data = slurp(file, &len), hash[32];
	crypto_generichash(hash, sizeof hash, data, len, NULL, 0);
	free(data);
	sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
	snprintf(path, sizeof path, "%s/MANIFEST", bk);
	size_t mlen;
	char *m = (char *)slurp(path, &mlen), out[4096];
	size_t n = 0;
	assert_int_equal(strlen(m), mlen); /* text, read whole: nothing else goes into out */
	for (char *save = NULL, *l = strtok_r(m, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int w;
		if (strncmp(l, "snapshot_bytes=", 15) == 0)
			w = snprintf(line, sizeof line, "snapshot_bytes=%zu", len);
		else if (strncmp(l, "snapshot_blake2b=", 17) == 0)
			w = snprintf(line, sizeof line, "snapshot_blake2b=%s", hex);
		else
			w = snprintf(line, sizeof line, "%s", l);
		assert_true(w > 0 && (size_t)w < sizeof line);
		w = snprintf(out + n, sizeof out - n, "%s\n", line);
		assert_true(w > 0 && (size_t)w < sizeof out - n);
		n += (size_t)w;
	}
	free(m);
	spill(path, (uint8_t *)out, n);
}

/* A store whose log was cut short behind its head is not backed up (HW_ECORRUPT, the
 * directory left empty), and a backup whose snapshot was so cut, its MANIFEST made to
 * match, restores nothing: both would hold less than their head says. */
static void test_log_cut_behind_head(void **state)
{
	struct fx *f = *state;
	char bk[300], bk2[300], dst[300], snap[400];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	path_in(f, "r", dst);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	close_store(f);
	cut_log(f->a, RECORDS - 9);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);
	assert_int_equal(mkdir(bk2, 0700), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), HW_ECORRUPT);
	assert_non_null(strstr(bi.what, "log does not reach its head, LSN 600"));
	assert_int_equal(rmdir(bk2), 0); /* nothing was written into it */

	snprintf(snap, sizeof snap, "%s/snapshot", bk);
	cut_log(snap, RECORDS - 9);
	snprintf(snap, sizeof snap, "%s/snapshot/lock.mdb", bk);
	unlink(snap);
	manifest_rehash(bk);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), HW_ECORRUPT);
	assert_non_null(strstr(ri.what, "snapshot's log does not reach its head"));
	assert_false(exists(dst));
}

/* A log key of 9 bytes after the last entry (damage below hawser): reading entries
 * stops before it and verify names it; neither stops the process on an assertion (that
 * would read as a bug in hawser, HW_EINTERNAL, not as damage). */
static void test_log_key_of_wrong_size(void **state)
{
	struct fx *f = *state;
	close_store(f);
	MDB_txn *txn;
	MDB_dbi log;
	MDB_env *env = raw_open(f->a, &txn);
	assert_int_equal(mdb_dbi_open(txn, "log", 0, &log), 0);
	uint8_t key[9] = {0};
	hw_put_be64(key, RECORDS);
	MDB_val k = {.mv_size = sizeof key, .mv_data = key}, v = {.mv_size = 1, .mv_data = key};
	assert_int_equal(mdb_put(txn, log, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);
	uint8_t buf[4096];
	size_t len;
	uint64_t last;
	assert_int_equal(
		hw_store_read_entries(f->s, RECORDS, UINT64_MAX, buf, sizeof buf, &len, &last), 0);
	assert_int_equal(last, RECORDS); /* the entry before it, and not the key */
	close_store(f);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, HW_ELSN);
	assert_non_null(strstr(r.what, "log key of 9 bytes after LSN 600"));
}

static int die_cb(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	(void)done;
	(void)total;
	_exit(3); /* a restore killed at its first progress report */
}

/* A restore killed part way (its process gone at its first progress report, the replay
 * done, the backup's log not yet) leaves no store in its directory, so nothing there can
 * pass for a whole restore; the next restore into it succeeds and leaves no work files. */
static void test_restore_killed(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], file[400];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	backup_with_log(f, bk, RECORDS);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(hw_restore(bk, dst, 0, 0, die_cb, NULL, NULL) == 0 ? 0 : 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	snprintf(file, sizeof file, "%s/data.mdb", dst);
	assert_false(exists(file));
	struct hw_store *rs;
	assert_int_equal(hw_store_open(dst, NULL, &rs), HW_EFORMAT);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 20);
	snprintf(file, sizeof file, "%s/.restore-tmp", dst);
	assert_false(exists(file));
}

/* Restore never overwrites a store: HW_EEXIST, and the store there is untouched; nor
 * does it restore beside a node's log. */
static void test_restore_into_store(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	assert_int_equal(hw_store_init(dst), 0);
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, NULL), HW_EEXIST);
	char lockfile[400];
	snprintf(lockfile, sizeof lockfile, "%s/.restore-lock", dst);
	assert_false(exists(lockfile)); /* refused after it locked: its lock file goes too */
	struct hw_store *r;
	struct hw_head h;
	assert_int_equal(hw_store_open(dst, NULL, &r), 0);
	head_of(r, &h);
	hw_store_close(r);
	assert_int_equal(h.lsn, 0);
	/* nor a node's data directory that kept its log: its entries would be replayed on
	 * top of the restored store */
	char node[300], wal[400];
	path_in(f, "node", node);
	snprintf(wal, sizeof wal, "%s/wal", node);
	assert_int_equal(mkdir(node, 0700), 0);
	assert_int_equal(mkdir(wal, 0700), 0);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, node, 0, 0, NULL, NULL, &ri), HW_EEXIST);
	assert_non_null(strstr(ri.what, "wal"));
}

/* The names in dir, sorted and joined by spaces, into out. */
static void names_in(const char *dir, char *out, size_t cap)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.') {
			strncat(out, list[i]->d_name, cap - strlen(out) - 2);
			strcat(out, " ");
		}
		free(list[i]);
	}
	free(list);
}

/* A directory with files and no MANIFEST is not a backup's to overwrite: a backup whose
 * MANIFEST went (damage, an attack) keeps its snapshot and log, and a directory of other
 * files keeps them; HW_EBACKUP says why. One that a full backup left when it died before
 * its MANIFEST is taken over. */
static void test_backup_without_manifest(void **state)
{
	struct fx *f = *state;
	char bk[300], file[400], before[400], after[400];
	path_in(f, "bk", bk);
	backup_with_log(f, bk, RECORDS);
	snprintf(file, sizeof file, "%s/MANIFEST", bk);
	assert_int_equal(unlink(file), 0);
	snprintf(file, sizeof file, "%s/log.hwl", bk);
	struct stat st0, st1;
	assert_int_equal(stat(file, &st0), 0);
	names_in(bk, before, sizeof before);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBACKUP);
	assert_non_null(strstr(bi.what, "MANIFEST"));
	assert_int_equal(stat(file, &st1), 0);
	assert_int_equal(st1.st_size, st0.st_size);
	assert_int_equal(st1.st_mtime, st0.st_mtime);
	names_in(bk, after, sizeof after);
	assert_string_equal(after, before);

	char other[300];
	path_in(f, "other", other);
	assert_int_equal(mkdir(other, 0700), 0);
	snprintf(file, sizeof file, "%s/notes.txt", other);
	spill(file, (const uint8_t *)"x", 1);
	assert_int_equal(hw_backup(f->s, other, NULL, NULL, &bi), HW_EBACKUP);
	names_in(other, after, sizeof after);
	assert_string_equal(after, "notes.txt ");

	char cut[300];
	path_in(f, "cut", cut);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(hw_backup(f->s, cut, die_cb, NULL, NULL) == 0 ? 0 : 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	assert_int_equal(hw_backup(f->s, cut, NULL, NULL, &bi), 0);
	names_in(cut, after, sizeof after);
	assert_string_equal(after, "MANIFEST log.hwl snapshot ");

	/* a crash between the MANIFEST and the marker's removal: the next backup removes the
	 * marker, so a MANIFEST lost later still protects the backup */
	snprintf(file, sizeof file, "%s/INCOMPLETE", cut);
	spill(file, (const uint8_t *)"", 0);
	fill(f->s, RECORDS + 20, RECORDS + 30);
	assert_int_equal(hw_backup(f->s, cut, NULL, NULL, &bi), 0);
	assert_false(exists(file));
	snprintf(file, sizeof file, "%s/MANIFEST", cut);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(hw_backup(f->s, cut, NULL, NULL, &bi), HW_EBACKUP);
}

/* Take the flock on bk/.backup-lock as a running backup holds it: the descriptor. */
static int backup_lock_hold(const char *bk, char *lockfile, size_t cap)
{
	snprintf(lockfile, cap, "%s/.backup-lock", bk);
	int lock = open(lockfile, O_RDWR | O_CREAT, 0600);
	assert_true(lock >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0);
	return lock;
}

/* While a backup writes a directory (its lock held here), a second one into it, full or
 * incremental, is HW_EBUSY, saying so, and writes nothing (it failed with HW_EFORMAT,
 * EEXIST or ENOENT, and an incremental one could cut log.hwl back under the other's new
 * MANIFEST); the lock file is no part of the backup and goes with the backup that took it. */
static void test_backup_busy(void **state)
{
	struct fx *f = *state;
	char bk[300], lockfile[400], names[400];
	struct hw_backup_info bi;
	path_in(f, "bk", bk);
	assert_int_equal(mkdir(bk, 0700), 0);
	int lock = backup_lock_hold(bk, lockfile, sizeof lockfile);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBUSY);
	assert_non_null(strstr(bi.what, "another backup is writing"));
	names_in(bk, names, sizeof names);
	assert_string_equal(names, "");
	close(lock); /* its file stays, as a backup killed leaves it */
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_false(exists(lockfile));

	fill(f->s, RECORDS, RECORDS + 10);
	lock = backup_lock_hold(bk, lockfile, sizeof lockfile);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBUSY);
	assert_int_equal(bi.entries_added, 0);
	close(lock);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 10);
	assert_false(exists(lockfile));
	names_in(bk, names, sizeof names);
	assert_string_equal(names, "MANIFEST log.hwl snapshot ");
}

struct prober {
	const char *dir;
	atomic_bool stop;
	uint64_t looks;
};

static void *probe_main(void *arg)
{
	struct prober *p = arg;
	for (; !atomic_load(&p->stop); p->looks++)
		(void)hw_backup_writing(p->dir);
	return NULL;
}

/* hw_backup_writing (a prune, a drill) looks by holding the lock shared for a moment: a
 * backup or restore taking it then waits that out rather than take the look for another
 * writer (HW_EBUSY). With looks in a tight loop beside 200 takes, none is refused. */
static void test_backup_lock_outlasts_looks(void **state)
{
	struct fx *f = *state;
	char bk[300], path[400], what[160];
	path_in(f, "bk", bk);
	assert_int_equal(mkdir(bk, 0700), 0);
	snprintf(path, sizeof path, "%s/.backup-lock", bk);
	struct prober p = {.dir = bk};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, probe_main, &p), 0);
	int busy = 0;
	for (int i = 0; i < 200; i++) {
		int lock, rc = hw__backup_lock_take(path, bk, &lock, what);
		busy += rc == HW_EBUSY;
		if (rc == 0) { /* as backup_unlock: the file goes before the lock */
			unlink(path);
			close(lock);
		}
	}
	atomic_store(&p.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(p.looks > 0);
	assert_int_equal(busy, 0);
}

/* A restore writes nothing into the backup it reads (no lock file in its snapshot: the
 * backup may sit on a full or read-only disk), and a second restore into a directory one
 * is restoring into is HW_EBUSY, leaving the first's work alone. */
static void test_restore_hands_off(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], dir[400], before[400], after[400];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	backup_with_log(f, bk, RECORDS);
	snprintf(dir, sizeof dir, "%s/snapshot", bk);
	names_in(dir, before, sizeof before);
	assert_string_equal(before, "data.mdb ");
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, NULL), 0);
	names_in(dir, after, sizeof after);
	assert_string_equal(after, before);

	char busy[300], work[400];
	path_in(f, "busy", busy);
	assert_int_equal(mkdir(busy, 0700), 0);
	snprintf(work, sizeof work, "%s/.restore-tmp", busy);
	assert_int_equal(mkdir(work, 0700), 0);
	char lockfile[400];
	snprintf(lockfile, sizeof lockfile, "%s/.restore-lock", busy);
	int lock = open(lockfile, O_RDWR | O_CREAT, 0600);
	assert_true(lock >= 0);
	assert_int_equal(flock(lock, LOCK_EX), 0); /* as a restore running into it holds */
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, busy, 0, 0, NULL, NULL, &ri), HW_EBUSY);
	assert_non_null(strstr(ri.what, "another restore"));
	assert_true(exists(work));
	close(lock);
	assert_int_equal(hw_restore(bk, busy, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 20);
	assert_false(exists(lockfile)); /* the restore's own lock goes with it */
}

/* A backup that runs out of disk fails with -ENOSPC and leaves no partial snapshot taking
 * the room. Needs root to mount a small tmpfs; skipped otherwise. */
static void test_backup_disk_full(void **state)
{
	struct fx *f = *state;
	char mnt[300], bk[400], names[400];
	path_in(f, "small", mnt);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") != 0)
		skip(); /* needs CAP_SYS_ADMIN: the reason is printed by cmocka as SKIPPED */
	snprintf(bk, sizeof bk, "%s/bk", mnt);
	int rc = hw_backup(f->s, bk, NULL, NULL, NULL);
	names_in(bk, names, sizeof names);
	umount2(mnt, MNT_DETACH);
	assert_int_equal(rc, -ENOSPC);
	assert_string_equal(names, "INCOMPLETE ");
}

/* A snapshot's check against an expected chain: equal or unknown (NULL, all zero) passes,
 * another chain is HW_EDIVERGED; the check makes no lock file in the copy. */
static void test_snapshot_check_chain(void **state)
{
	struct fx *f = *state;
	char snap[300], other[300], names[400];
	path_in(f, "snap", snap);
	path_in(f, "other", other);
	struct hw_snapshot_info si;
	assert_int_equal(hw_snapshot_make(f->s, snap, &si), 0);
	uint8_t own[HW_HASH_BYTES], theirs[HW_HASH_BYTES], none[HW_HASH_BYTES] = {0};
	assert_int_equal(hw_store_chain_id(f->s, own), 0);
	struct hw_store *o;
	assert_int_equal(hw_store_init(other), 0);
	assert_int_equal(hw_store_open(other, NULL, &o), 0);
	uint8_t rec[1024];
	struct hw_submit sub = {.data = rec, .len = make_record(0, rec, sizeof rec)};
	struct hw_result res;
	/* the same record at another time: another entry 1 */
	assert_int_equal(hw_store_submit(o, 1, NOW_MS + 12345, &sub, 1, &res), 0);
	assert_int_equal(hw_store_chain_id(o, theirs), 0);
	hw_store_close(o);
	assert_memory_not_equal(own, theirs, HW_HASH_BYTES);
	assert_int_equal(hw_snapshot_check(snap, &si.head, own), 0);
	assert_int_equal(hw_snapshot_check(snap, &si.head, none), 0);
	assert_int_equal(hw_snapshot_check(snap, &si.head, NULL), 0);
	assert_int_equal(hw_snapshot_check(snap, &si.head, theirs), HW_EDIVERGED);
	struct hw_head wrong = si.head;
	wrong.lsn--;
	assert_int_equal(hw_snapshot_check(snap, &wrong, own), HW_ECHAIN);
	names_in(snap, names, sizeof names);
	assert_string_equal(names, "data.mdb ");
}

/* An incremental backup of another chain into an existing backup is refused. */
static void test_backup_other_chain(void **state)
{
	struct fx *f = *state;
	char bk[300], other[300];
	path_in(f, "bk", bk);
	path_in(f, "other", other);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, NULL), 0);
	struct hw_store *o;
	assert_int_equal(hw_store_init(other), 0);
	assert_int_equal(hw_store_open(other, NULL, &o), 0);
	fill(o, 0, 10);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(o, bk, NULL, NULL, &bi), HW_EBACKUP);
	assert_true(strlen(bi.what) > 0);
	hw_store_close(o);
}

static int count_cb(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *calls = arg;
	assert_true(done <= total);
	(*calls)++;
	return 0;
}

/* Replay continues a store on the same chain in steps, reaching the source's state, and
 * refuses a store whose head is not on the source's chain. */
static void test_replay(void **state)
{
	struct fx *f = *state;
	char b[300], c[300];
	path_in(f, "b", b);
	path_in(f, "c", c);
	struct hw_store *sb, *sc;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	uint64_t calls = 0;
	assert_int_equal(hw_store_replay(f->s, sb, 100, 0, count_cb, &calls), 0);
	struct hw_head h;
	head_of(sb, &h);
	assert_int_equal(h.lsn, 100);
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, count_cb, &calls), 0);
	assert_true(calls >= 2);
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(sb, db);
	assert_memory_equal(da, db, HW_HASH_BYTES);
	hw_store_close(sb);

	assert_int_equal(hw_store_init(c), 0);
	assert_int_equal(hw_store_open(c, NULL, &sc), 0);
	struct hw_submit sub = {0};
	struct hw_result res;
	uint8_t buf[1024];
	sub.data = buf;
	sub.len = make_record(0, buf, sizeof buf);
	assert_int_equal(hw_store_submit(sc, 1, NOW_MS + 99, &sub, 1, &res), 0);
	assert_int_equal(hw_store_replay(f->s, sc, 0, 0, NULL, NULL), HW_ECHAIN);
	hw_store_close(sc);
}

/* Replay from a store whose log has a flipped byte in one record stops there with
 * HW_ECORRUPT (the append checks each entry's hash): the target holds no entry from
 * the damaged one on. */
static void test_replay_damaged(void **state)
{
	struct fx *f = *state;
	const unsigned idx = 3 * 77 + 1; /* an audit record: its text is only in the log */
	char text[24], file[400], b[300];
	marker(idx, text);
	close_store(f);
	snprintf(file, sizeof file, "%s/data.mdb", f->a);
	assert_true(flip_everywhere(file, text) >= 1);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);
	path_in(f, "b", b);
	struct hw_store *sb;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, NULL, NULL), HW_ECORRUPT);
	struct hw_head h;
	head_of(sb, &h);
	assert_true(h.lsn <= idx);
	hw_store_close(sb);
}

/* Stops a replay at its second progress call. */
static int stop_cb(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *calls = arg;
	(void)total;
	assert_true(done > 0);
	return ++*calls == 2 ? HW_ECANCELED : 0;
}

/* A progress callback that returns non-zero stops a replay after the batch it reports:
 * the replay returns that code, the target holds the batches done and nothing after,
 * and a later replay continues from there to the source's state. */
static void test_replay_stopped(void **state)
{
	struct fx *f = *state;
	fill(f->s, RECORDS, 3 * HW_BATCH_RECORDS_MAX); /* three batches of replay */
	char b[300];
	path_in(f, "b", b);
	struct hw_store *sb;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	uint64_t calls = 0;
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, stop_cb, &calls), HW_ECANCELED);
	assert_int_equal(calls, 2);
	struct hw_head h;
	head_of(sb, &h);
	assert_int_equal(h.lsn, 2 * HW_BATCH_RECORDS_MAX);
	calls = 0;
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, count_cb, &calls), 0);
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(sb, db);
	assert_memory_equal(da, db, HW_HASH_BYTES);
	hw_store_close(sb);
}

/* ---- a log that starts after a base (pruned) ---- */

/* Verify checks a pruned store's chain from its base and says it did not rebuild the
 * state; replay into a store behind the base is HW_ENOTFOUND (it needs a snapshot) and
 * changes nothing, while a store exactly at the base continues to the source's state. */
static void test_pruned_verify_replay(void **state)
{
	struct fx *f = *state;
	char b[300], c[300];
	path_in(f, "b", b);
	path_in(f, "c", c);
	struct hw_store *sb, *sc;
	assert_int_equal(hw_store_init(b), 0);
	assert_int_equal(hw_store_open(b, NULL, &sb), 0);
	assert_int_equal(hw_store_replay(f->s, sb, 100, 0, NULL, NULL), 0);
	assert_int_equal(hw_store_init(c), 0);
	assert_int_equal(hw_store_open(c, NULL, &sc), 0);
	assert_int_equal(hw_store_replay(f->s, sc, 400, 0, NULL, NULL), 0);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	close_store(f);
	struct hw_verify_report r;
	assert_int_equal(run_verify(f, &r), 0);
	assert_int_equal(r.code, 0);
	assert_false(r.state_rebuilt);
	assert_int_equal(r.base_lsn, 400);
	assert_int_equal(r.entries, RECORDS - 400);
	assert_int_equal(r.head_lsn, RECORDS);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);

	struct hw_head h;
	assert_int_equal(hw_store_replay(f->s, sb, 0, 0, NULL, NULL), HW_ENOTFOUND);
	head_of(sb, &h);
	assert_int_equal(h.lsn, 100);
	assert_int_equal(hw_store_replay(f->s, sc, 0, 0, NULL, NULL), 0);
	uint8_t da[HW_HASH_BYTES], dc[HW_HASH_BYTES];
	digest_of(f->s, da);
	digest_of(sc, dc);
	assert_memory_equal(da, dc, HW_HASH_BYTES);
	hw_store_close(sb);
	hw_store_close(sc);
}

/* A backup of a pruned store restores by copy: to its end (same head and digest, and the
 * result verifies, chain only) and to a point in its log.hwl; a point before the
 * snapshot's head is refused with HW_ENOTFOUND, says why, and creates nothing. */
static void test_pruned_backup_restore(void **state)
{
	struct fx *f = *state;
	char bk[300], dst[300], mid[300], early[300], scratch[300];
	path_in(f, "bk", bk);
	path_in(f, "r", dst);
	path_in(f, "mid", mid);
	path_in(f, "early", early);
	path_in(f, "scratch", scratch);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS);
	fill(f->s, RECORDS, RECORDS + 50);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(bi.end_lsn, RECORDS + 50);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	struct hw_head ha, hr;
	uint8_t da[HW_HASH_BYTES];
	head_of(f->s, &ha);
	digest_of(f->s, da);
	assert_int_equal(ri.lsn, RECORDS + 50);
	assert_memory_equal(ri.digest, da, HW_HASH_BYTES);
	struct hw_store *rs;
	assert_int_equal(hw_store_open(dst, NULL, &rs), 0);
	head_of(rs, &hr);
	hw_store_close(rs);
	assert_memory_equal(hr.hash, ha.hash, HW_HASH_BYTES);
	struct hw_verify_report vr;
	assert_int_equal(hw_verify(dst, scratch, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
	assert_false(vr.state_rebuilt);
	assert_int_equal(vr.base_lsn, 400);

	assert_int_equal(hw_restore(bk, mid, RECORDS + 20, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.lsn, RECORDS + 20);
	assert_int_equal(hw_restore(bk, early, 500, 0, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_non_null(strstr(ri.what, "starts after LSN 400"));
	assert_false(exists(early));
	assert_int_equal(hw_restore(bk, early, 0, NOW_MS, NULL, NULL, &ri), HW_ENOTFOUND);
	assert_false(exists(early));
}

/* An incremental backup whose end the store's log no longer holds is refused and says
 * to start a new one; a backup whose end is exactly the base continues. */
static void test_pruned_incremental(void **state)
{
	struct fx *f = *state;
	char bk[300], bk2[300];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);
	fill(f->s, RECORDS, RECORDS + 100);
	assert_int_equal(hw_store_prune(f->s, RECORDS + 1), 0); /* base = bk2's end */
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 100);
	assert_int_equal(hw_store_prune(f->s, RECORDS + 51), 0);
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), HW_EBACKUP);
	assert_non_null(strstr(bi.what, "new directory"));
}

/* Append a checkpoint of s's head signed by k, as a primary makes one: its entry is at
 * lsn, and it vouches for the state at lsn - 1. */
static void checkpoint_at(struct hw_store *s, const struct hw_signer *k, uint64_t lsn)
{
	assert_int_equal(sign_fix_checkpoint(s, k, NOW_MS + 60000), lsn);
}

/* A backup of a pruned store holds a snapshot whose state nothing rebuilds: the restore
 * copies it and compares the state digest where the first signed checkpoint in log.hwl
 * after the snapshot vouches for it, and says which one matched; verify with trusted keys
 * takes the state as vouched for only by that checkpoint (named by the caller, or by the
 * record the restore left), and without it fails (HW_EUNVOUCHED at no entry). A snapshot whose
 * state was changed (its MANIFEST made to match, as whoever changed it could) is refused at that
 * checkpoint. */
static void test_pruned_restore_vouched(void **state)
{
	struct fx *f = *state;
	char bk[300], bk2[300], dst[300], dst2[300], scratch[300], snap[400];
	path_in(f, "bk", bk);
	path_in(f, "bk2", bk2);
	path_in(f, "r", dst);
	path_in(f, "r2", dst2);
	path_in(f, "scratch", scratch);
	snprintf(snap, sizeof snap, "%s/snapshot", bk2);
	struct hw_signer k;
	sign_fix_signer(&k);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	struct hw_backup_info bi;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);
	fill(f->s, RECORDS, RECORDS + 20);
	checkpoint_at(f->s, &k, RECORDS + 21); /* vouches for RECORDS + 20 */
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_int_equal(hw_backup(f->s, bk2, NULL, NULL, &bi), 0);

	struct hw_restore_info ri;
	assert_int_equal(hw_restore(bk, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.base_lsn, 400);
	assert_int_equal(ri.state_cp_lsn, RECORDS + 21);
	struct hw_verify_report vr;
	struct hw_verify_trust t = {.keys = k.pk, .count = 1, .state_cp_lsn = ri.state_cp_lsn};
	assert_int_equal(hw_verify_trusted(dst, scratch, &t, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
	assert_int_equal(vr.state_cp_lsn, RECORDS + 21);
	t.state_cp_lsn = 0; /* the restore's record in dst names it all the same */
	assert_int_equal(hw_verify_trusted(dst, scratch, &t, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, 0);
	assert_int_equal(vr.state_cp_lsn, RECORDS + 21);
	close_store(f); /* the pruned store itself: no restore matched its state */
	assert_int_equal(hw_verify_trusted(f->a, scratch, &t, NULL, NULL, &vr), 0);
	assert_int_equal(vr.code, HW_EUNVOUCHED);
	assert_int_equal(vr.first_bad_lsn, 0);
	assert_true(hw_verify_state_unvouched(&vr));
	assert_non_null(strstr(vr.what, "starts after LSN 400"));
	assert_int_equal(hw_verify(dst, scratch, NULL, NULL, &vr), 0); /* no keys: told only */
	assert_int_equal(vr.code, 0);
	assert_int_equal(hw_restore(bk, dst2, RECORDS + 10, 0, NULL, NULL, &ri), 0);
	/* before what the checkpoint covers: checked all the same, in a copy of its own */
	assert_int_equal(ri.state_cp_lsn, RECORDS + 21);
	assert_int_equal(ri.state_cp_covers, RECORDS + 20);
	assert_int_equal(ri.lsn, RECORDS + 10);

	flip_value(snap, "containers", NULL, SIZE_MAX);
	manifest_rehash(bk2);
	hw_snapshot_rm(dst2);
	assert_int_equal(hw_restore(bk2, dst2, 0, 0, NULL, NULL, &ri), HW_EBACKUP);
	assert_non_null(strstr(ri.what, "the checkpoint at LSN 621 signed"));
	assert_false(exists(dst2));
}

/* A new snapshot of a pruned store gives its base and no checkpoint that vouches for it,
 * and the store's log tells what can come: nothing while it holds no checkpoint
 * (unsigned), nothing before new entries while its last entry is a checkpoint (idle), the
 * primary's next one once entries follow a checkpoint (due), and one already there that
 * covers the snapshot's head (in store). The incremental backup that appends it names it
 * (the first that covers the head, not a later one), and the restore matches the copied
 * state with it, also where it covers the snapshot's head itself. */
static void test_pruned_vouch_outlook(void **state)
{
	struct fx *f = *state;
	char bk[300], idle[300], dst[300], dst2[300];
	path_in(f, "bk", bk);
	path_in(f, "idle", idle);
	path_in(f, "r", dst);
	path_in(f, "r2", dst2);
	struct hw_signer k;
	sign_fix_signer(&k);
	assert_int_equal(hw_store_prune(f->s, 401), 0);
	struct hw_backup_info bi;
	enum hw_vouch_outlook ol;
	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_true(bi.snapshot);
	assert_int_equal(bi.base_lsn, 400);
	assert_int_equal(bi.vouch_lsn, 0);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_UNSIGNED);
	checkpoint_at(f->s, &k, RECORDS + 1);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_IN_STORE);

	assert_int_equal(hw_backup(f->s, idle, NULL, NULL, &bi), 0);
	assert_int_equal(bi.snapshot_lsn, RECORDS + 1);
	assert_int_equal(bi.vouch_lsn, 0); /* its checkpoint vouches for the entry before */
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS + 1, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_IDLE);
	fill(f->s, RECORDS + 1, RECORDS + 6);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS + 1, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_DUE);
	checkpoint_at(f->s, &k, RECORDS + 7);
	assert_int_equal(hw_backup_vouch_outlook(f->s, RECORDS + 1, &ol), 0);
	assert_int_equal(ol, HW_VOUCH_IN_STORE);

	assert_int_equal(hw_backup(f->s, bk, NULL, NULL, &bi), 0);
	assert_false(bi.snapshot);
	assert_int_equal(bi.base_lsn, 0);
	assert_int_equal(bi.vouch_lsn, RECORDS + 1);
	assert_int_equal(hw_backup(f->s, idle, NULL, NULL, &bi), 0);
	assert_int_equal(bi.entries_added, 6);
	assert_int_equal(bi.vouch_lsn, RECORDS + 7);
	struct hw_restore_info ri;
	assert_int_equal(hw_restore(idle, dst, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.state_cp_lsn, RECORDS + 7);
	/* a checkpoint that covers the snapshot's head itself vouches as well */
	assert_int_equal(hw_restore(bk, dst2, 0, 0, NULL, NULL, &ri), 0);
	assert_int_equal(ri.state_cp_lsn, RECORDS + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_intact, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_verify_flipped_record, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_verify_damaged_state, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_verify_damaged_head_epoch, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_verify_invalid_record, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_restore, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_until_lsn, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_until_time, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_incremental, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_progress, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_damaged_backups, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_replay_damaged, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_into_store, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_log_cut_behind_head, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_log_key_of_wrong_size, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_killed, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_other_chain, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_without_manifest, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_busy, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_lock_outlasts_looks, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_restore_hands_off, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_backup_disk_full, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_check_chain, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_replay_stopped, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_verify_replay, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_backup_restore, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_incremental, setup, store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_restore_vouched, setup,
						store_fix_teardown),
		cmocka_unit_test_setup_teardown(test_pruned_vouch_outlook, setup,
						store_fix_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
