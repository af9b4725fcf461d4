/* store_read.c: reading log entries, state and node-local meta values from any thread,
 * each in a read transaction of its own (replica/store.h). */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "replica/entry.h"
#include "replica/state.h"
#include "replica/store_int.h"

/* The log entry at lsn in txn (v points into the map). 0, HW_ENOTFOUND or a store code. */
static int log_get(struct hw_store *s, MDB_txn *txn, uint64_t lsn, MDB_val *v)
{
	int rc = hw__store_log_get(s, txn, lsn, v);
	return rc == MDB_NOTFOUND ? HW_ENOTFOUND : hw_mdb_err(rc);
}

int hw_store_read_entry(struct hw_store *s, uint64_t lsn, uint8_t **entry, size_t *len)
{
	MDB_txn *txn;
	MDB_val v;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = log_get(s, txn, lsn, &v);
	if (rc == 0) {
		*entry = malloc(v.mv_size);
		if (*entry == NULL) {
			rc = HW_ENOMEM;
		} else {
			memcpy(*entry, v.mv_data, v.mv_size);
			*len = v.mv_size;
		}
	}
	hw__store_read_end(s, txn);
	return rc;
}

int hw_store_entry_hash(struct hw_store *s, uint64_t lsn, uint8_t out[HW_HASH_BYTES])
{
	MDB_txn *txn;
	MDB_val v;
	struct hw_entry e;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = log_get(s, txn, lsn, &v);
	if (rc == 0)
		rc = hw_entry_decode(v.mv_data, v.mv_size, &e); /* the map's bytes: no copy */
	if (rc == 0)
		memcpy(out, e.hash, HW_HASH_BYTES);
	hw__store_read_end(s, txn);
	return rc;
}

int hw_store_get_container(struct hw_store *s, const char *id, struct hw_container *out)
{
	if (s->stale)
		return HW_ESTALE;
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = hw_state_container_get(txn, &s->t, id, out);
	hw__store_read_end(s, txn);
	return rc > 0 || (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE) ? hw_mdb_err(rc) : rc;
}

static int copy_entries(MDB_txn *txn, MDB_dbi log, uint64_t from, uint64_t to, uint8_t *buf,
			size_t cap, size_t *len, uint64_t *last)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, log, &cur);
	if (rc != 0)
		return rc;
	uint8_t key[8];
	hw_lsn_key(from, key);
	MDB_val k = hw_mdb_val(key, 8), v;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint64_t lsn = hw_lsn_from_key(&k);
		if (lsn > to || lsn != *last + 1 || *len + v.mv_size > cap)
			break;
		memcpy(buf + *len, v.mv_data, v.mv_size);
		*len += v.mv_size;
		*last = lsn;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int hw_store_read_entries(struct hw_store *s, uint64_t from, uint64_t to, uint8_t *buf, size_t cap,
			  size_t *len, uint64_t *last)
{
	*len = 0;
	*last = from - 1;
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = copy_entries(txn, s->t.log, from, to, buf, cap, len, last);
	hw__store_read_end(s, txn);
	return hw_mdb_err(rc);
}

int hw_store_digest_head(struct hw_store *s, struct hw_head *head, uint8_t digest[HW_HASH_BYTES])
{
	if (s->stale)
		return HW_ESTALE;
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = hw__store_head_txn(s, txn, head);
	if (rc == 0)
		rc = hw__store_digest_txn(s, txn, digest);
	hw__store_read_end(s, txn);
	return rc;
}

/* ---- node-local meta values ---------------------------------------------------- */

bool hw__store_meta_key_ok(const char *key)
{
	size_t n = strlen(key);
	return n > 5 && n <= 32 && strncmp(key, "node.", 5) == 0;
}

int hw_store_meta_get(struct hw_store *s, const char *key, void *buf, size_t cap, size_t *len)
{
	HW_ASSERT(hw__store_meta_key_ok(key));
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	MDB_val k = hw_mdb_val(key, strlen(key)), v;
	rc = hw_mdb_err(mdb_get(txn, s->t.meta, &k, &v));
	if (rc == 0 && v.mv_size > cap)
		rc = HW_ERANGE;
	if (rc == 0) {
		memcpy(buf, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}
	hw__store_read_end(s, txn);
	return rc;
}
