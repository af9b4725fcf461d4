/* audit.c: hawser's own records read back from the log (replica/audit.h). */
#include "replica/audit.h"

#include "base/arena.h"
#include "replica/record.h"
#include "replica/store_int.h"

/* One walk: the callback, the time it starts at, the arena a record decodes into. */
struct walk {
	int64_t since_ms;
	struct hw_arena a; /* one record at a time: reset per entry */
	hw_audit_cb *cb;
	void *arg;
};

/* Decode one log value and hand it to cb if it is a system record at or after since_ms. */
static int visit(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct walk *w = arg;
	(void)k;
	struct hw_entry e;
	if (hw_entry_decode(v->mv_data, v->mv_size, &e) != 0)
		return HW_ECORRUPT;
	if (e.time_ms < w->since_ms)
		return 0;
	Tos__V1__Record *rec;
	struct hw_reject rej;
	hw_arena_reset(&w->a);
	int rc = hw_record_decode(e.record, e.record_len, &w->a, &rec, &rej);
	if (rc != 0)
		return rc == HW_ENOMEM ? rc : HW_ECORRUPT;
	return hw_record_is_system(rec) ? w->cb(w->arg, &e, rec) : 0;
}

/* Walk the log from one end (first, then next), at most entries_max entries. */
static int walk(struct hw_store *s, int64_t since_ms, MDB_cursor_op first, MDB_cursor_op next,
		uint64_t entries_max, hw_audit_cb *cb, void *arg)
{
	struct walk w = {.since_ms = since_ms, .cb = cb, .arg = arg};
	hw_arena_init(&w.a, 0, 0);
	int rc = hw__store_walk(s, s->t.log, first, next, entries_max, visit, &w);
	hw_arena_fini(&w.a);
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
