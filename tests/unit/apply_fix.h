/* apply_fix.h: the fixture of the apply step's unit tests: a raw LMDB environment with
 * the state tables, hw_apply() at the next LSN in a transaction of its own, table dumps to
 * show that a refusal changed nothing, and builders of hand-made records. Included after
 * cmocka.h. */
#ifndef HW_TESTS_APPLY_FIX_H
#define HW_TESTS_APPLY_FIX_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "hawser_error.h"
#include "replica/apply.h"
#include "replica/state.h"
#include "replica/tables.h"

#define T0       1700000000000LL /* 2023-11-14: a plausible event time */

#define BOX_A    "TRLU8132090"
#define BOX_B    "FSCU8710190"
#define BOX_C    "TEMU3412100"

#define UE(name) TOS__V1__UNIT_EVENT_TYPE__##name
#define VP(name) TOS__V1__VISIT_PHASE__VP_##name
#define WS(name) TOS__V1__WI_STATE__##name
#define TS(name) TOS__V1__TRANSIT_STATE__##name
#define HT(name) TOS__V1__HOLD_TYPE__##name
#define FE_FULL  TOS__V1__FULL_EMPTY__FE_FULL
#define FE_EMPTY TOS__V1__FULL_EMPTY__FE_EMPTY

static const char *const db_names[] = {"log",   "containers", "slots",      "holds",
				       "ids",   "kv",         "vessels",    "wis",
				       "audit", "meta",       "quarantine", "drills"};
#define N_DBS (sizeof db_names / sizeof db_names[0])

struct env {
	char dir[512];
	MDB_env *env;
	struct hw_tables t;
	uint64_t lsn;
	bool replay; /* apply as a standby or a rebuild does (hw_apply_ctx.replay) */
};

struct fx {
	struct env a;
	struct env b; /* second environment, opened only by the determinism test */
};

static inline MDB_dbi *dbi_of(struct hw_tables *t, size_t i)
{
	MDB_dbi *all[N_DBS] = {&t->log,   &t->containers, &t->slots,      &t->holds,
			       &t->ids,   &t->kv,         &t->vessels,    &t->wis,
			       &t->audit, &t->meta,       &t->quarantine, &t->drills};
	return all[i];
}

static inline void env_open(struct env *e)
{
	const char *base = getenv("HW_TEST_TMP");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	mkdir(base, 0700);
	snprintf(e->dir, sizeof e->dir, "%s/test_apply.XXXXXX", base);
	assert_non_null(mkdtemp(e->dir));
	assert_int_equal(mdb_env_create(&e->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(e->env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(e->env, 64u << 20), 0);
	assert_int_equal(mdb_env_open(e->env, e->dir, MDB_NOSYNC, 0600), 0);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(e->env, NULL, 0, &txn), 0);
	for (size_t i = 0; i < N_DBS; i++)
		assert_int_equal(mdb_dbi_open(txn, db_names[i], MDB_CREATE, dbi_of(&e->t, i)), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	e->lsn = 0;
}

static inline void env_close(struct env *e)
{
	if (e->env == NULL)
		return;
	mdb_env_close(e->env);
	e->env = NULL;
	char path[600];
	snprintf(path, sizeof path, "%s/data.mdb", e->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", e->dir);
	unlink(path);
	rmdir(e->dir);
}

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	env_open(&f->a);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	env_close(&f->a);
	env_close(&f->b);
	free(f);
	return 0;
}

/* Every table, in order, as (table, key length, key, value length, value) bytes:
 * two environments with equal dumps hold byte-identical state. Caller frees. */
static inline uint8_t *dump(struct env *e, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn), 0);
	for (size_t i = 0; i < N_DBS; i++) {
		MDB_cursor *cur;
		assert_int_equal(mdb_cursor_open(txn, *dbi_of(&e->t, i), &cur), 0);
		MDB_val k, v;
		int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		while (rc == 0) {
			size_t need = 1 + 8 + k.mv_size + 8 + v.mv_size;
			while (n + need > cap) {
				cap *= 2;
				buf = realloc(buf, cap);
				assert_non_null(buf);
			}
			buf[n++] = (uint8_t)i;
			memcpy(buf + n, &k.mv_size, 8);
			memcpy(buf + n + 8, k.mv_data, k.mv_size);
			n += 8 + k.mv_size;
			memcpy(buf + n, &v.mv_size, 8);
			memcpy(buf + n + 8, v.mv_data, v.mv_size);
			n += 8 + v.mv_size;
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		assert_int_equal(rc, MDB_NOTFOUND);
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	*len = n;
	return buf;
}

/* Apply rec at the next LSN in its own write transaction, committed whatever the rule
 * said (as the store does: a refused record does not stop its batch). */
static inline int run(struct env *e, const Tos__V1__Record *rec, struct hw_reject *rej)
{
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(e->env, NULL, 0, &txn), 0);
	struct hw_apply_ctx c = {.txn = txn, .t = &e->t, .lsn = ++e->lsn, .replay = e->replay};
	assert_int_equal(mdb_cursor_open(txn, e->t.containers, &c.boxes), 0);
	assert_int_equal(mdb_cursor_open(txn, e->t.wis, &c.wis), 0);
	memset(rej, 0, sizeof *rej);
	int rc = hw_apply(&c, rec, rej);
	assert_true(rc == 0 || hw_is_reject(rc));
	assert_int_equal(mdb_txn_commit(txn), 0);
	return rc;
}

static inline void ok_(struct env *e, const Tos__V1__Record *rec, int line)
{
	struct hw_reject rej;
	int rc = run(e, rec, &rej);
	if (rc != 0)
		fail_msg("line %d: refused %s field %s: %s", line, hw_errname(rc), rej.field,
			 rej.rule);
}
#define ok(e, rec) ok_((e), (rec), __LINE__)

/* rec is refused with code on field, and no table changed. */
static inline void refused_(struct env *e, const Tos__V1__Record *rec, int code, const char *field,
			    int line)
{
	size_t n0, n1;
	uint8_t *before = dump(e, &n0);
	struct hw_reject rej;
	int rc = run(e, rec, &rej);
	uint8_t *after = dump(e, &n1);
	if (rc != code)
		fail_msg("line %d: got %s (%s: %s), want %s", line, hw_errname(rc), rej.field,
			 rej.rule, hw_errname(code));
	assert_int_equal(rej.code, code);
	assert_string_equal(rej.field, field);
	assert_true(rej.rule[0] != '\0');
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	free(before);
	free(after);
}
#define refused(e, rec, code, field) refused_((e), (rec), (code), (field), __LINE__)

static inline struct hw_container get_box(struct env *e, const char *id)
{
	struct hw_container c;
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(hw_state_container_get(txn, &e->t, id, &c), 0);
	mdb_txn_abort(txn);
	return c;
}

/* Container in slot key, "" when free. */
static inline const char *slot(struct env *e, const char *key)
{
	static char out[32];
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn), 0);
	MDB_val k = {.mv_size = strlen(key), .mv_data = (void *)key}, v;
	int rc = mdb_get(txn, e->t.slots, &k, &v);
	out[0] = '\0';
	if (rc == 0)
		snprintf(out, sizeof out, "%.*s", (int)v.mv_size, (const char *)v.mv_data);
	else
		assert_int_equal(rc, MDB_NOTFOUND);
	mdb_txn_abort(txn);
	return out;
}

static inline size_t table_count(struct env *e, MDB_dbi dbi)
{
	MDB_txn *txn;
	MDB_stat st;
	assert_int_equal(mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_stat(txn, dbi, &st), 0);
	mdb_txn_abort(txn);
	return st.ms_entries;
}

/* One record under construction; its parts point into it, so it is never copied. */
struct rb {
	Tos__V1__Record rec;
	Tos__V1__UnitEvent ue;
	Tos__V1__Equipment eq;
	Tos__V1__Location from, to;
	Tos__V1__YardPos fy, ty;
	Tos__V1__VesselCell fv, tv;
	Tos__V1__TruckPos tt;
	Tos__V1__HoldEvent hold;
	Tos__V1__VgmDeclaration vgm;
	Tos__V1__ReeferReading reefer;
	Tos__V1__WorkInstruction wi;
	Tos__V1__VesselVisitEvent vv;
	Tos__V1__KvPut kvp;
	Tos__V1__KvDelete kvd;
	Tos__V1__CustomsStatus cs;
	Tos__V1__AuditEvent au;
};

static inline Tos__V1__Record *rb_init(struct rb *b, int64_t t)
{
	memset(b, 0, sizeof *b);
	b->rec = (Tos__V1__Record)TOS__V1__RECORD__INIT;
	b->rec.tenant_id = "T1";
	b->rec.facility_id = "JPNGO-NCB";
	b->rec.schema_version = 1;
	b->rec.event_time_ms = T0 + t;
	return &b->rec;
}

static inline Tos__V1__Record *ue(struct rb *b, int type, const char *id, const char *size, int fe,
				  int64_t t)
{
	rb_init(b, t);
	b->ue = (Tos__V1__UnitEvent)TOS__V1__UNIT_EVENT__INIT;
	b->eq = (Tos__V1__Equipment)TOS__V1__EQUIPMENT__INIT;
	b->eq.container_id = (char *)id;
	b->eq.iso_size_type = (char *)size;
	b->eq.full_empty = (Tos__V1__FullEmpty)fe;
	b->ue.type = (Tos__V1__UnitEventType)type;
	b->ue.equipment = &b->eq;
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT;
	b->rec.unit_event = &b->ue;
	return &b->rec;
}

static inline Tos__V1__Location *yard(Tos__V1__Location *l, Tos__V1__YardPos *y, const char *block,
				      unsigned bay, unsigned row, unsigned tier)
{
	*y = (Tos__V1__YardPos)TOS__V1__YARD_POS__INIT;
	y->block = (char *)block;
	y->bay = bay;
	y->row = row;
	y->tier = tier;
	*l = (Tos__V1__Location)TOS__V1__LOCATION__INIT;
	l->where_case = TOS__V1__LOCATION__WHERE_YARD;
	l->yard = y;
	return l;
}

static inline Tos__V1__Location *cell(Tos__V1__Location *l, Tos__V1__VesselCell *v,
				      const char *visit, unsigned bay, unsigned row, unsigned tier)
{
	*v = (Tos__V1__VesselCell)TOS__V1__VESSEL_CELL__INIT;
	v->vessel_visit_id = (char *)visit;
	v->bay = bay;
	v->row = row;
	v->tier = tier;
	*l = (Tos__V1__Location)TOS__V1__LOCATION__INIT;
	l->where_case = TOS__V1__LOCATION__WHERE_VESSEL;
	l->vessel = v;
	return l;
}

static inline void from_yard(struct rb *b, const char *block, unsigned bay, unsigned row,
			     unsigned tier)
{
	b->ue.from = yard(&b->from, &b->fy, block, bay, row, tier);
}

static inline void to_yard(struct rb *b, const char *block, unsigned bay, unsigned row,
			   unsigned tier)
{
	b->ue.to = yard(&b->to, &b->ty, block, bay, row, tier);
}

static inline void from_cell(struct rb *b, const char *visit, unsigned bay, unsigned row,
			     unsigned tier)
{
	b->ue.from = cell(&b->from, &b->fv, visit, bay, row, tier);
}

static inline void to_cell(struct rb *b, const char *visit, unsigned bay, unsigned row,
			   unsigned tier)
{
	b->ue.to = cell(&b->to, &b->tv, visit, bay, row, tier);
}

static inline void to_truck(struct rb *b, const char *visit, const char *lane)
{
	b->tt = (Tos__V1__TruckPos)TOS__V1__TRUCK_POS__INIT;
	b->tt.truck_visit_id = (char *)visit;
	b->tt.lane = (char *)lane;
	b->tt.chassis_slot = 1;
	b->to = (Tos__V1__Location)TOS__V1__LOCATION__INIT;
	b->to.where_case = TOS__V1__LOCATION__WHERE_TRUCK;
	b->to.truck = &b->tt;
	b->ue.to = &b->to;
}

static inline Tos__V1__Record *hold(struct rb *b, const char *id, int type, int action, int64_t t)
{
	rb_init(b, t);
	b->hold = (Tos__V1__HoldEvent)TOS__V1__HOLD_EVENT__INIT;
	b->hold.container_id = (char *)id;
	b->hold.hold = (Tos__V1__HoldType)type;
	b->hold.action = (Tos__V1__HoldAction)action;
	b->hold.authority = "NACCS";
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_HOLD;
	b->rec.hold = &b->hold;
	return &b->rec;
}

#define APPLY   TOS__V1__HOLD_ACTION__APPLY
#define RELEASE TOS__V1__HOLD_ACTION__RELEASE

static inline Tos__V1__Record *vgm(struct rb *b, const char *id, uint32_t kg, int64_t t)
{
	rb_init(b, t);
	b->vgm = (Tos__V1__VgmDeclaration)TOS__V1__VGM_DECLARATION__INIT;
	b->vgm.container_id = (char *)id;
	b->vgm.vgm_kg = kg;
	b->vgm.method = TOS__V1__VGM_METHOD__SM1;
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VGM;
	b->rec.vgm = &b->vgm;
	return &b->rec;
}

static inline Tos__V1__Record *reefer(struct rb *b, const char *id, int64_t t)
{
	rb_init(b, t);
	b->reefer = (Tos__V1__ReeferReading)TOS__V1__REEFER_READING__INIT;
	b->reefer.container_id = (char *)id;
	b->reefer.setpoint_decic = -180;
	b->reefer.plugged = 1;
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_REEFER;
	b->rec.reefer = &b->reefer;
	return &b->rec;
}

static inline Tos__V1__Record *wi(struct rb *b, const char *wi_id, const char *id, int st,
				  int64_t t)
{
	rb_init(b, t);
	b->wi = (Tos__V1__WorkInstruction)TOS__V1__WORK_INSTRUCTION__INIT;
	b->wi.wi_id = (char *)wi_id;
	b->wi.container_id = (char *)id;
	b->wi.kind = TOS__V1__MOVE_KIND__MK_YARD;
	b->wi.state = (Tos__V1__WiState)st;
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_WI;
	b->rec.wi = &b->wi;
	return &b->rec;
}

static inline Tos__V1__Record *vessel(struct rb *b, const char *visit, int phase, int64_t t)
{
	rb_init(b, t);
	b->vv = (Tos__V1__VesselVisitEvent)TOS__V1__VESSEL_VISIT_EVENT__INIT;
	b->vv.visit_id = (char *)visit;
	b->vv.phase = (Tos__V1__VisitPhase)phase;
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT;
	b->rec.vessel_visit = &b->vv;
	return &b->rec;
}

static inline Tos__V1__Record *kv_put(struct rb *b, const char *tenant, const char *key,
				      const char *value, int64_t t)
{
	rb_init(b, t);
	b->rec.tenant_id = (char *)tenant;
	b->kvp = (Tos__V1__KvPut)TOS__V1__KV_PUT__INIT;
	b->kvp.key = (char *)key;
	b->kvp.value.data = (uint8_t *)value;
	b->kvp.value.len = strlen(value);
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	b->rec.kv_put = &b->kvp;
	return &b->rec;
}

static inline Tos__V1__Record *kv_del(struct rb *b, const char *tenant, const char *key, int64_t t)
{
	rb_init(b, t);
	b->rec.tenant_id = (char *)tenant;
	b->kvd = (Tos__V1__KvDelete)TOS__V1__KV_DELETE__INIT;
	b->kvd.key = (char *)key;
	b->rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_DELETE;
	b->rec.kv_delete = &b->kvd;
	return &b->rec;
}

/* Vessel visit id through the given phases, one record each. */
static inline void visit_to(struct env *e, const char *visit, int phase, int64_t t)
{
	struct rb b;
	ok(e, vessel(&b, visit, phase, t));
}

/* Box id gated in at yard place block-bay-01-1 with the given size and full/empty. */
static inline void gate_in(struct env *e, const char *id, const char *size, int fe, unsigned bay,
			   int64_t t)
{
	struct rb b;
	ue(&b, UE(GATE_IN), id, size, fe, t);
	to_yard(&b, "3C", bay, 1, 1);
	ok(e, &b.rec);
}

#endif
