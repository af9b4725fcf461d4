/* digest.c: the state digest (docs/formats.md "The store"): BLAKE2b-256 over the head LSN
 * and each replicated table's name, keys and values in key order, each length-prefixed.
 *
 * Also the same digest as a format 3 store had it, for what was signed or stored before
 * format 4: the keys and values as format 3 laid them out (state.c), that is places,
 * slot keys and vessel keys without their facility, and holds without their tenant; the
 * slots and vessels, whose keys change, in the order those keys sort. A state format 4
 * built from a log format 3 also wrote (migration, apply.c "Replay") gives the digest a
 * format 3 node signed for it. */
#include "replica/store_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "hawser_error.h"
#include "replica/state_int.h"

/* The longest key LMDB holds (511 bytes) and the longest value format 3 laid out
 * otherwise (a hold's: LSN, tenant, authority; a box's is smaller). Other values, up to
 * a key/value record's 32 KiB, are hashed as they are. */
#define ROW_BYTES_MAX 1024u
_Static_assert(HW_HOLD_VALUE_BYTES_MAX <= ROW_BYTES_MAX, "a hold value fits a row");

static void hash_u32(crypto_generichash_state *st, size_t v)
{
	uint8_t b[4];
	hw_put_u32(b, (uint32_t)v);
	crypto_generichash_update(st, b, 4);
}

static void hash_bytes(crypto_generichash_state *st, const void *p, size_t n)
{
	hash_u32(st, n);
	crypto_generichash_update(st, p, n);
}

/* ---------------------------------------------------------------- format 3 */

/* Bytes of p[0..n) after its facility: everything after the first '/', none when no '/'
 * (a facility has none, validate.c). */
static size_t facility_len(const uint8_t *p, size_t n)
{
	const uint8_t *slash = memchr(p, '/', n);
	return slash != NULL ? (size_t)(slash - p) + 1 : 0;
}

static bool keyed_by_place(const char *table)
{
	return strcmp(table, "slots") == 0 || strcmp(table, "vessels") == 0;
}

/* Tables whose values format 3 laid out otherwise (val3). */
static bool valued_otherwise(const char *table)
{
	return strcmp(table, "containers") == 0 || strcmp(table, "holds") == 0;
}

/* Key k of table as format 3 stored it, into out; its length. */
static size_t key3(const char *table, const MDB_val *k, uint8_t *out)
{
	size_t skip = keyed_by_place(table) ? facility_len(k->mv_data, k->mv_size) : 0;
	memcpy(out, (const uint8_t *)k->mv_data + skip, k->mv_size - skip);
	return k->mv_size - skip;
}

/* Value v of table as format 3 stored it, into out; its length. */
static size_t val3(const char *table, const MDB_val *v, uint8_t *out)
{
	const uint8_t *p = v->mv_data;
	size_t n = v->mv_size;
	if (strcmp(table, "containers") == 0 && n >= HW_CONTAINER_FIXED_BYTES) {
		const uint8_t *pos = p + HW_CONTAINER_FIXED_BYTES;
		size_t skip = facility_len(pos, n - HW_CONTAINER_FIXED_BYTES);
		memcpy(out, p, HW_CONTAINER_FIXED_BYTES);
		out[HW_CONTAINER_FIXED_BYTES - 1] =
			(uint8_t)(p[HW_CONTAINER_FIXED_BYTES - 1] - skip);
		memcpy(out + HW_CONTAINER_FIXED_BYTES, pos + skip,
		       n - HW_CONTAINER_FIXED_BYTES - skip);
		return n - skip;
	}
	MDB_val tenant;
	size_t at;
	if (strcmp(table, "holds") == 0 && hw__hold_tenant(v, &tenant, &at) == 0) {
		memcpy(out, p, 8); /* the APPLY's LSN, then its authority: the tenant goes */
		memcpy(out + 8, p + at, n - at);
		return 8 + n - at;
	}
	memcpy(out, p, n);
	return n;
}

struct row {
	uint8_t *k, *v;
	size_t kl, vl;
};

/* LMDB's default order: bytes, then the shorter first. */
static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
	return c != 0 ? c : (x->kl > y->kl) - (x->kl < y->kl);
}

/* A table whose keys format 3 had otherwise: every row in memory, sorted by that key. */
static int digest_resorted(MDB_cursor *cur, const char *table, crypto_generichash_state *st)
{
	struct row *rows = NULL;
	size_t n = 0, cap = 0;
	MDB_val k, v;
	int rc;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size > ROW_BYTES_MAX || v.mv_size > ROW_BYTES_MAX) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			struct row *r = realloc(rows, cap * sizeof *r);
			if (r == NULL) {
				rc = ENOMEM;
				break;
			}
			rows = r;
		}
		struct row *r = &rows[n];
		r->k = malloc(k.mv_size + v.mv_size + 1);
		if (r->k == NULL) {
			rc = ENOMEM;
			break;
		}
		r->kl = key3(table, &k, r->k);
		r->v = r->k + r->kl;
		r->vl = val3(table, &v, r->v);
		n++;
	}
	if (rc == MDB_NOTFOUND) {
		rc = 0;
		if (n > 0) /* rows is NULL then, which qsort may not take */
			qsort(rows, n, sizeof *rows, row_cmp);
		for (size_t i = 0; i < n; i++) {
			hash_bytes(st, rows[i].k, rows[i].kl);
			hash_bytes(st, rows[i].v, rows[i].vl);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i].k);
	free(rows);
	return rc;
}

/* ---------------------------------------------------------------- both */

static int digest_table(MDB_txn *txn, MDB_dbi dbi, const char *name, bool format3,
			crypto_generichash_state *st)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != 0)
		return rc;
	hash_bytes(st, name, strlen(name));
	if (format3 && keyed_by_place(name)) {
		rc = digest_resorted(cur, name, st);
		mdb_cursor_close(cur);
		return rc;
	}
	MDB_val k, v;
	uint8_t buf[ROW_BYTES_MAX];
	bool rewrite = format3 && valued_otherwise(name);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hash_bytes(st, k.mv_data, k.mv_size);
		if (!rewrite) {
			hash_bytes(st, v.mv_data, v.mv_size);
		} else if (v.mv_size <= sizeof buf) {
			hash_bytes(st, buf, val3(name, &v, buf));
		} else {
			rc = MDB_CORRUPTED; /* no box or hold value is that long */
			break;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int digest_txn(struct hw_store *s, MDB_txn *txn, bool format3, uint8_t out[HW_HASH_BYTES])
{
	struct hw_head h;
	int rc = hw__store_head_txn(s, txn, &h);
	if (rc != 0)
		return rc;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	uint8_t lsn[8];
	hw_put_u64(lsn, h.lsn);
	crypto_generichash_update(&st, lsn, sizeof lsn);
	for (size_t i = 0; i < HW__TABLES_COUNT && rc == 0; i++)
		if (hw__tables[i].replicated)
			rc = digest_table(txn, *hw__table_dbi(&s->t, i), hw__tables[i].name,
					  format3, &st);
	if (rc == 0)
		crypto_generichash_final(&st, out, HW_HASH_BYTES);
	return hw_mdb_err(rc);
}

int hw__store_digest_txn(struct hw_store *s, MDB_txn *txn, uint8_t out[HW_HASH_BYTES])
{
	return digest_txn(s, txn, false, out);
}

static int digest_of(struct hw_store *s, bool format3, uint8_t out[HW_HASH_BYTES])
{
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = digest_txn(s, txn, format3, out);
	hw__store_read_end(s, txn);
	return rc;
}

int hw_store_digest(struct hw_store *s, uint8_t out[HW_HASH_BYTES])
{
	return digest_of(s, false, out);
}

int hw_store_digest_format3(struct hw_store *s, uint8_t out[HW_HASH_BYTES])
{
	return digest_of(s, s->format == HW__STORE_FORMAT, out); /* older: format 3's already */
}

bool hw_store_format3(const struct hw_store *s)
{
	return s->format < HW__STORE_FORMAT;
}
