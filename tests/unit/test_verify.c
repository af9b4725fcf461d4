/* test_verify.c: hawser verify of a store (replica/verify.h): the log walked entry by
 * entry and the state rebuilt from it; an intact store passes, and damage below hawser
 * (a flipped byte of a record, a state table, the head's epoch, a forged well-chained entry
 * whose record breaks a rule, a log key of the wrong size) is named with its code and LSN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/backup_fix.h"

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
		cmocka_unit_test_setup_teardown(test_log_key_of_wrong_size, setup,
						store_fix_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
