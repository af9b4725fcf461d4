/* audit.c: hawser's own records read back from the log (replica/audit.h). */
#include "replica/audit.h"

#include "base/arena.h"
#include "replica/record.h"
#include "replica/store_int.h"

/* Decode one log value and hand it to cb if it is a system record at or after since_ms. */
static int visit(const MDB_val *v, int64_t since_ms, struct hw_arena *a, hw_audit_cb *cb, void *arg)
{
	struct hw_entry e;
	if (hw_entry_decode(v->mv_data, v->mv_size, &e) != 0)
		return HW_ECORRUPT;
	if (e.time_ms < since_ms)
		return 0;
	Tos__V1__Record *rec;
	struct hw_reject rej;
	hw_arena_reset(a);
	int rc = hw_record_decode(e.record, e.record_len, a, &rec, &rej);
	if (rc != 0)
		return rc == HW_ENOMEM ? rc : HW_ECORRUPT;
	return hw_record_is_system(rec) ? cb(arg, &e, rec) : 0;
}

/* Walk the log from one end (first, then next), at most entries_max entries. */
static int walk(struct hw_store *s, int64_t since_ms, MDB_cursor_op first, MDB_cursor_op next,
		uint64_t entries_max, hw_audit_cb *cb, void *arg)
{
	struct hw_arena a;
	hw_arena_init(&a, 0, 0); /* one record at a time: reset per entry */
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		goto out_arena;
	MDB_cursor *cur;
	rc = hw_mdb_err(mdb_cursor_open(txn, s->t.log, &cur));
	if (rc != 0)
		goto out_txn;
	MDB_val k, v;
	MDB_cursor_op op = first;
	int mrc = 0;
	for (uint64_t seen = 0; seen < entries_max && (mrc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	     seen++) {
		op = next;
		rc = visit(&v, since_ms, &a, cb, arg);
		if (rc != 0)
			break;
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = hw_mdb_err(mrc);
	mdb_cursor_close(cur);
out_txn:
	hw__store_read_end(s, txn);
out_arena:
	hw_arena_fini(&a);
	return rc;
}

int hw_audit_walk(struct hw_store *s, int64_t since_ms, hw_audit_cb *cb, void *arg)
{
	return walk(s, since_ms, MDB_FIRST, MDB_NEXT, UINT64_MAX, cb, arg);
}

int hw_audit_walk_back(struct hw_store *s, uint64_t entries_max, hw_audit_cb *cb, void *arg)
{
	return walk(s, 0, MDB_LAST, MDB_PREV, entries_max, cb, arg);
}
