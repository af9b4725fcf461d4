/* test_workload.c: the TOS workload generator (bench/workload.h): determinism, counts,
 * and the realism of what it draws, checked by decoding every record and replaying it
 * against an independent model of docs/rules.md (container numbers, times, yard slots,
 * holds, work instructions, vessel phases, VGM). A good record must pass the replay; a
 * poison record must fail it with exactly the code the generator put in `expect`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/workload.h"
#include "hawser_error.h"
#include "hawser_limits.h"
#include "replica/iso6346.h"
#include "tos.pb-c.h"

#define END_MS     1700000000000LL /* 2023-11-14 */
#define BOXES_CAP  (1u << 16)
#define IDS_CAP    (1u << 18)
#define BLOCKS_CAP 64
#define VISITS_CAP 512
#define WIS_CAP    (1u << 16)

/* ---------------------------------------------------------------- replay model */

enum { S_NONE, S_ADVISED, S_YARD, S_LOADED, S_DEPARTED };

struct rbox {
	char id[12];
	int st;
	int len_ft;
	int block, bay, row, tier; /* yard slot while S_YARD */
	int visit;                 /* visit index while S_LOADED */
	unsigned holds;
	int vgm, full, reefer;
	char wi[40]; /* active work instruction, "" when none */
	int wi_state;
};

struct rvisit {
	char id[16];
	int phase;
};

struct replay {
	struct rbox *boxes; /* open addressing on the container number */
	uint8_t (*ids)[16]; /* record ids seen */
	uint8_t *ids_used;
	char blocks[BLOCKS_CAP][8];
	int n_blocks;
	char occ[BLOCKS_CAP][100][21][8]; /* container's hash slot + 1, 0 when free */
	struct rvisit visits[VISITS_CAP];
	int n_visits;
	char kv[256][64];
	int n_kv;
	int64_t last_ms;
	unsigned n_containers, n_rem10;
};

static int setup(void **state)
{
	struct replay *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->boxes = calloc(BOXES_CAP, sizeof(*r->boxes));
	r->ids = calloc(IDS_CAP, sizeof(*r->ids));
	r->ids_used = calloc(IDS_CAP, 1);
	assert_true(r->boxes && r->ids && r->ids_used);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct replay *r = *state;
	free(r->boxes);
	free(r->ids);
	free(r->ids_used);
	free(r);
	return 0;
}

static void replay_reset(struct replay *r)
{
	memset(r->boxes, 0, BOXES_CAP * sizeof(*r->boxes));
	memset(r->ids_used, 0, IDS_CAP);
	memset(r->occ, 0, sizeof(r->occ));
	r->n_blocks = r->n_visits = r->n_kv = 0;
	r->last_ms = 0;
	r->n_containers = r->n_rem10 = 0;
}

static uint32_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* The container's entry, created on first sight (counting remainder-10 numbers). */
static struct rbox *box_get(struct replay *r, const char *id)
{
	uint32_t i = fnv(id, 11) & (BOXES_CAP - 1);
	while (r->boxes[i].id[0] && memcmp(r->boxes[i].id, id, 11))
		i = (i + 1) & (BOXES_CAP - 1);
	struct rbox *b = &r->boxes[i];
	if (!b->id[0]) {
		memcpy(b->id, id, 11);
		r->n_containers++;
		unsigned sum = 0;
		for (int k = 0; k < 10; k++)
			sum += (unsigned)hw_iso6346_char_value(id[k]) << k;
		r->n_rem10 += sum % 11 == 10;
	}
	return b;
}

/* True when the record id is new; remembers it. */
static bool id_new(struct replay *r, const uint8_t *id)
{
	uint32_t i = fnv(id, 16) & (IDS_CAP - 1);
	while (r->ids_used[i]) {
		if (!memcmp(r->ids[i], id, 16))
			return false;
		i = (i + 1) & (IDS_CAP - 1);
	}
	return true;
}

static void id_add(struct replay *r, const uint8_t *id)
{
	uint32_t i = fnv(id, 16) & (IDS_CAP - 1);
	while (r->ids_used[i])
		i = (i + 1) & (IDS_CAP - 1);
	r->ids_used[i] = 1;
	memcpy(r->ids[i], id, 16);
}

/* ---------------------------------------------------------------- stateless checks */

static bool utf8_ok(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	while (*p) {
		if (*p < 0x80) {
			if (*p < 0x20 && *p != '\t')
				return false;
			p++;
			continue;
		}
		int n = (*p & 0xE0) == 0xC0   ? 1
			: (*p & 0xF0) == 0xE0 ? 2
			: (*p & 0xF8) == 0xF0 ? 3
					      : -1;
		if (n < 0 || *p == 0xC0 || *p == 0xC1)
			return false;
		for (int k = 1; k <= n; k++)
			if ((p[k] & 0xC0) != 0x80)
				return false;
		p += n + 1;
	}
	return true;
}

static bool free_text_field(const char *name)
{
	static const char *const names[] = {"detail", "trouble_reason", "errors", "fail_reason",
					    "reason"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* Walk every string of msg: UTF-8 without control characters, references at most 35
 * characters, free text at most 512 bytes, repeated fields at most 64 elements. Returns
 * HW_EUTF8 or HW_ERANGE, or 0. */
static int strings_check(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)msg + f->offset;
		size_t n = 1;
		const void *const *items = (const void *const *)base;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			n = *(const size_t *)((const char *)msg + f->quantifier_offset);
			items = *(const void *const *const *)base;
			if (n > HW_REPEATED_MAX)
				return HW_ERANGE;
		} else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
				continue;
		}
		for (size_t k = 0; k < n; k++) {
			if (f->type == PROTOBUF_C_TYPE_STRING) {
				const char *s = items[k];
				if (!utf8_ok(s))
					return HW_EUTF8;
				size_t max = free_text_field(f->name) ? HW_TEXT_BYTES_MAX
								      : HW_REF_CHARS_MAX;
				if (strlen(s) > max)
					return HW_ERANGE;
			} else if (f->type == PROTOBUF_C_TYPE_MESSAGE && items[k]) {
				int rc = strings_check(items[k]);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

static int container_id_check(const char *id)
{
	if (strlen(id) != 11)
		return HW_ECONTAINER_ID;
	for (int i = 0; i < 11; i++) {
		bool letter = id[i] >= 'A' && id[i] <= 'Z';
		bool digit = id[i] >= '0' && id[i] <= '9';
		if ((i < 4 && !letter) || (i >= 4 && !digit))
			return HW_ECONTAINER_ID;
	}
	if (id[3] != 'U' && id[3] != 'J' && id[3] != 'Z')
		return HW_ECONTAINER_ID;
	if (hw_iso6346_check_digit(id) != id[10] - '0')
		return HW_ECHECK_DIGIT;
	return 0;
}

/* The codes the generator uses, with the box length they mean (0: not a box code). */
static int size_type_len(const char *code)
{
	static const struct {
		const char *code;
		int len;
	} known[] = {{"22G1", 20}, {"2200", 20}, {"22R1", 20}, {"2232", 20},
		     {"42G1", 40}, {"45G1", 40}, {"4200", 40}, {"4500", 40},
		     {"45R1", 40}, {"L5G1", 45}, {"L5R1", 45}};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(code, known[i].code))
			return known[i].len;
	return 0;
}

static bool locode_ok(const char *s)
{
	if (strlen(s) != 5)
		return false;
	for (int i = 0; i < 5; i++) {
		bool up = s[i] >= 'A' && s[i] <= 'Z';
		if (!up && (i < 2 || s[i] < '2' || s[i] > '9'))
			return false;
	}
	return true;
}

/* Container numbers of the payload, at most 8. */
static size_t record_containers(const Tos__V1__Record *rec, const char **out)
{
	switch (rec->payload_case) {
	case TOS__V1__RECORD__PAYLOAD_UNIT_EVENT:
		out[0] = rec->unit_event->equipment->container_id;
		return 1;
	case TOS__V1__RECORD__PAYLOAD_HOLD:
		out[0] = rec->hold->container_id;
		return 1;
	case TOS__V1__RECORD__PAYLOAD_CUSTOMS:
		out[0] = rec->customs->container_id;
		return 1;
	case TOS__V1__RECORD__PAYLOAD_REEFER:
		out[0] = rec->reefer->container_id;
		return 1;
	case TOS__V1__RECORD__PAYLOAD_WI:
		out[0] = rec->wi->container_id;
		return 1;
	case TOS__V1__RECORD__PAYLOAD_VGM:
		out[0] = rec->vgm->container_id;
		return 1;
	case TOS__V1__RECORD__PAYLOAD_GATE:
		for (size_t i = 0; i < rec->gate->n_container_ids && i < 8; i++)
			out[i] = rec->gate->container_ids[i];
		return rec->gate->n_container_ids;
	default:
		return 0;
	}
}

static int stateless_check(struct replay *r, const Tos__V1__Record *rec)
{
	if (rec->schema_version != 1)
		return HW_ESCHEMA;
	if (rec->record_id.len != HW_RECORD_ID_BYTES)
		return HW_ERANGE;
	if (rec->event_time_ms < HW_TIME_MIN_MS || rec->event_time_ms > END_MS ||
	    rec->record_time_ms < rec->event_time_ms || rec->record_time_ms > END_MS)
		return HW_ETIME;
	int rc = strings_check(&rec->base);
	if (rc)
		return rc;
	const char *ids[8];
	size_t n = record_containers(rec, ids);
	for (size_t i = 0; i < n; i++)
		if ((rc = container_id_check(ids[i])))
			return rc;
	if (rec->payload_case == TOS__V1__RECORD__PAYLOAD_UNIT_EVENT) {
		const Tos__V1__UnitEvent *ue = rec->unit_event;
		if (!size_type_len(ue->equipment->iso_size_type))
			return HW_ESIZE_TYPE;
		if (ue->gross_kg &&
		    (ue->gross_kg < ue->equipment->tare_kg || ue->gross_kg > HW_GROSS_KG_MAX ||
		     (ue->equipment->max_gross_kg && ue->gross_kg > ue->equipment->max_gross_kg)))
			return HW_EWEIGHT;
		if (!locode_ok(ue->pol) || !locode_ok(ue->pod) || !strcmp(ue->pol, ue->pod))
			return HW_ERANGE;
	}
	(void)r;
	return 0;
}

/* ---------------------------------------------------------------- state replay */

static struct rvisit *visit_find(struct replay *r, const char *id)
{
	for (int i = 0; i < r->n_visits; i++)
		if (!strcmp(r->visits[i].id, id))
			return &r->visits[i];
	return NULL;
}

static bool box_active(struct replay *r, const struct rbox *b)
{
	if (b->st == S_ADVISED || b->st == S_YARD)
		return true;
	return b->st == S_LOADED && r->visits[b->visit].phase < TOS__V1__VISIT_PHASE__VP_DEPARTED;
}

static int block_index(struct replay *r, const char *name)
{
	for (int i = 0; i < r->n_blocks; i++)
		if (!strcmp(r->blocks[i], name))
			return i;
	assert_true(r->n_blocks < BLOCKS_CAP && strlen(name) >= 1 && strlen(name) <= 4);
	strcpy(r->blocks[r->n_blocks], name);
	return r->n_blocks++;
}

/* A yard slot's 20-foot bays (1 or 2 of them), after the bay parity rule. */
struct slot {
	int block, bay, row, tier;
};

static int yard_slot(struct replay *r, const Tos__V1__Location *l, int len, struct slot *s)
{
	if (!l || l->where_case != TOS__V1__LOCATION__WHERE_YARD)
		return HW_EPOSITION;
	const Tos__V1__YardPos *y = l->yard;
	if (y->bay < 1 || y->bay > HW_YARD_BAY_MAX || y->row < 1 || y->row > HW_YARD_ROW_MAX ||
	    y->tier < 1 || y->tier > HW_YARD_TIER_MAX)
		return HW_EPOSITION;
	if ((len == 20) != (y->bay % 2 == 1))
		return HW_EPOSITION;
	*s = (struct slot){block_index(r, y->block), (int)y->bay, (int)y->row, (int)y->tier};
	return 0;
}

static bool slot_is_free(struct replay *r, const struct slot *s, int len)
{
	if (len == 20)
		return !r->occ[s->block][s->bay][s->row][s->tier];
	return !r->occ[s->block][s->bay - 1][s->row][s->tier] &&
	       !r->occ[s->block][s->bay + 1][s->row][s->tier];
}

static void slot_mark(struct replay *r, const struct slot *s, int len, char v)
{
	if (len == 20) {
		r->occ[s->block][s->bay][s->row][s->tier] = v;
	} else {
		r->occ[s->block][s->bay - 1][s->row][s->tier] = v;
		r->occ[s->block][s->bay + 1][s->row][s->tier] = v;
	}
}

static bool at_slot(const struct rbox *b, const struct slot *s)
{
	return b->block == s->block && b->bay == s->bay && b->row == s->row && b->tier == s->tier;
}

/* The vessel visit of a cell, if it is ARRIVED or WORKING. */
static int vessel_cell(struct replay *r, const Tos__V1__Location *l, int *visit)
{
	if (!l || l->where_case != TOS__V1__LOCATION__WHERE_VESSEL)
		return HW_EPOSITION;
	const Tos__V1__VesselCell *c = l->vessel;
	if (c->bay < 1 || c->bay > 199 || c->row > 25 || c->tier < 1 || c->tier > 98)
		return HW_EPOSITION;
	struct rvisit *v = visit_find(r, c->vessel_visit_id);
	if (!v || v->phase < TOS__V1__VISIT_PHASE__VP_ARRIVED ||
	    v->phase > TOS__V1__VISIT_PHASE__VP_WORKING)
		return HW_EVESSEL_STATE;
	*visit = (int)(v - r->visits);
	return 0;
}

/* Moves into the yard: DISCHARGE and GATE_IN. */
static int ue_arrive(struct replay *r, const Tos__V1__UnitEvent *ue, struct rbox *b, int len)
{
	int visit, rc;
	if (box_active(r, b) && b->st != S_ADVISED)
		return ue->type == TOS__V1__UNIT_EVENT_TYPE__GATE_IN ? HW_EDUP_VISIT
								     : HW_ELIFECYCLE;
	if (ue->type == TOS__V1__UNIT_EVENT_TYPE__DISCHARGE &&
	    (rc = vessel_cell(r, ue->from, &visit)))
		return rc;
	struct slot to;
	if ((rc = yard_slot(r, ue->to, len, &to)))
		return rc;
	if (!slot_is_free(r, &to, len))
		return HW_ESLOT_OCCUPIED;
	if (b->st != S_ADVISED)
		b->vgm = 0; /* a new visit */
	slot_mark(r, &to, len, 1);
	b->st = S_YARD;
	b->block = to.block, b->bay = to.bay, b->row = to.row, b->tier = to.tier;
	return 0;
}

/* Moves out of a yard slot: LOAD, GATE_OUT, YARD_MOVE, YARD_SHIFT. */
static int ue_leave(struct replay *r, const Tos__V1__UnitEvent *ue, struct rbox *b, int len)
{
	int visit = -1, rc;
	struct slot from, to;
	if (b->st != S_YARD)
		return HW_ELIFECYCLE;
	if ((rc = yard_slot(r, ue->from, len, &from)))
		return rc;
	if (!at_slot(b, &from))
		return HW_EPOS_MISMATCH;
	bool yard = ue->type == TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE ||
		    ue->type == TOS__V1__UNIT_EVENT_TYPE__YARD_SHIFT;
	if (!yard && b->holds)
		return HW_EHOLD_ACTIVE;
	if (ue->type == TOS__V1__UNIT_EVENT_TYPE__LOAD) {
		if (b->full && !b->vgm)
			return HW_EVGM;
		if ((rc = vessel_cell(r, ue->to, &visit)))
			return rc;
	}
	if (yard) {
		if ((rc = yard_slot(r, ue->to, len, &to)))
			return rc;
		if (at_slot(b, &to))
			return HW_EPOSITION;
		slot_mark(r, &from, len, 0); /* its own old place does not block it */
		bool free_to = slot_is_free(r, &to, len);
		slot_mark(r, &from, len, 1);
		if (!free_to)
			return HW_ESLOT_OCCUPIED;
	}
	slot_mark(r, &from, len, 0);
	if (yard) {
		slot_mark(r, &to, len, 1);
		b->block = to.block, b->bay = to.bay, b->row = to.row, b->tier = to.tier;
	} else if (visit >= 0) {
		b->st = S_LOADED;
		b->visit = visit;
	} else {
		b->st = S_DEPARTED;
	}
	return 0;
}

static int ue_apply(struct replay *r, const Tos__V1__UnitEvent *ue)
{
	const Tos__V1__Equipment *eq = ue->equipment;
	struct rbox *b = box_get(r, eq->container_id);
	int len = size_type_len(eq->iso_size_type), rc = 0;
	switch (ue->type) {
	case TOS__V1__UNIT_EVENT_TYPE__PREADVISE:
		if (box_active(r, b))
			return HW_EDUP_VISIT;
		b->st = S_ADVISED;
		b->vgm = 0;
		break;
	case TOS__V1__UNIT_EVENT_TYPE__DISCHARGE:
	case TOS__V1__UNIT_EVENT_TYPE__GATE_IN:
		rc = ue_arrive(r, ue, b, len);
		break;
	case TOS__V1__UNIT_EVENT_TYPE__LOAD:
	case TOS__V1__UNIT_EVENT_TYPE__GATE_OUT:
	case TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE:
	case TOS__V1__UNIT_EVENT_TYPE__YARD_SHIFT:
		rc = ue_leave(r, ue, b, len);
		break;
	default:
		if (!box_active(r, b))
			return HW_ELIFECYCLE;
		break;
	}
	if (rc)
		return rc;
	b->len_ft = len;
	b->full = eq->full_empty == TOS__V1__FULL_EMPTY__FE_FULL;
	b->reefer = eq->iso_size_type[2] == 'R' || !strcmp(eq->iso_size_type, "2232");
	return 0;
}

static int wi_apply(struct replay *r, const Tos__V1__WorkInstruction *wi)
{
	struct rbox *b = box_get(r, wi->container_id);
	int s = wi->state;
	if (s == TOS__V1__WI_STATE__CREATED) {
		if (b->wi[0])
			return HW_EWI_STATE; /* a second active instruction */
		snprintf(b->wi, sizeof(b->wi), "%s", wi->wi_id);
		b->wi_state = s;
		return 0;
	}
	if (strcmp(b->wi, wi->wi_id))
		return HW_EWI_STATE;
	int from = b->wi_state;
	bool ok = (from == TOS__V1__WI_STATE__CREATED &&
		   (s == TOS__V1__WI_STATE__DISPATCHED || s == TOS__V1__WI_STATE__CANCELLED)) ||
		  (from == TOS__V1__WI_STATE__DISPATCHED &&
		   (s == TOS__V1__WI_STATE__IN_PROGRESS || s == TOS__V1__WI_STATE__CANCELLED ||
		    s == TOS__V1__WI_STATE__FAILED)) ||
		  (from == TOS__V1__WI_STATE__IN_PROGRESS &&
		   (s == TOS__V1__WI_STATE__COMPLETED || s == TOS__V1__WI_STATE__FAILED ||
		    s == TOS__V1__WI_STATE__CANCELLED));
	if (!ok)
		return HW_EWI_STATE;
	b->wi_state = s;
	if (s >= TOS__V1__WI_STATE__COMPLETED)
		b->wi[0] = '\0';
	return 0;
}

static int vessel_apply(struct replay *r, const Tos__V1__VesselVisitEvent *e)
{
	struct rvisit *v = visit_find(r, e->visit_id);
	if (!v) {
		if (e->phase != TOS__V1__VISIT_PHASE__VP_CREATED)
			return HW_EVESSEL_STATE;
		assert_true(r->n_visits < VISITS_CAP);
		v = &r->visits[r->n_visits++];
		snprintf(v->id, sizeof(v->id), "%s", e->visit_id);
		v->phase = e->phase;
		return 0;
	}
	if ((int)e->phase <= v->phase)
		return HW_EVESSEL_STATE;
	v->phase = e->phase;
	return 0;
}

static int kv_apply(struct replay *r, const char *key, bool put)
{
	for (int i = 0; i < r->n_kv; i++) {
		if (strcmp(r->kv[i], key))
			continue;
		if (put)
			return 0;
		r->n_kv--;
		if (i != r->n_kv)
			strcpy(r->kv[i], r->kv[r->n_kv]);
		return 0;
	}
	if (!put)
		return HW_ENOTFOUND;
	assert_true(r->n_kv < 256 && strlen(key) < 64);
	strcpy(r->kv[r->n_kv++], key);
	return 0;
}

static int state_apply(struct replay *r, const Tos__V1__Record *rec)
{
	struct rbox *b;
	unsigned bit;
	switch (rec->payload_case) {
	case TOS__V1__RECORD__PAYLOAD_UNIT_EVENT:
		return ue_apply(r, rec->unit_event);
	case TOS__V1__RECORD__PAYLOAD_HOLD:
		b = box_get(r, rec->hold->container_id);
		bit = 1u << rec->hold->hold;
		if (rec->hold->action == TOS__V1__HOLD_ACTION__APPLY) {
			if (b->holds & bit)
				return HW_EHOLD_ACTIVE;
			b->holds |= bit;
		} else {
			if (!(b->holds & bit))
				return HW_EHOLD_NOT_APPLIED;
			b->holds &= ~bit;
		}
		return 0;
	case TOS__V1__RECORD__PAYLOAD_REEFER:
		b = box_get(r, rec->reefer->container_id);
		return b->reefer && box_active(r, b) ? 0 : HW_ENOT_REEFER;
	case TOS__V1__RECORD__PAYLOAD_VGM:
		b = box_get(r, rec->vgm->container_id);
		if (!box_active(r, b))
			return HW_ELIFECYCLE;
		b->vgm = 1;
		return 0;
	case TOS__V1__RECORD__PAYLOAD_WI:
		return wi_apply(r, rec->wi);
	case TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT:
		return vessel_apply(r, rec->vessel_visit);
	case TOS__V1__RECORD__PAYLOAD_KV_PUT:
		return kv_apply(r, rec->kv_put->key, true);
	case TOS__V1__RECORD__PAYLOAD_KV_DELETE:
		return kv_apply(r, rec->kv_delete->key, false);
	case TOS__V1__RECORD__PAYLOAD__NOT_SET:
		return HW_EMISSING;
	default:
		return 0;
	}
}

/* The code the rules give rec (0: accepted), changing the replay only when accepted. */
static int replay_record(struct replay *r, const Tos__V1__Record *rec)
{
	if (!id_new(r, rec->record_id.data))
		return HW_EIDEMPOTENCY;
	int rc = stateless_check(r, rec);
	if (rc)
		return rc;
	if (rec->event_time_ms < r->last_ms)
		return HW_ETIME;
	if ((rc = state_apply(r, rec)))
		return rc;
	r->last_ms = rec->event_time_ms;
	id_add(r, rec->record_id.data);
	return 0;
}

/* ---------------------------------------------------------------- running a profile */

struct run {
	uint64_t n, poison;
	size_t *lens;
	uint64_t tenant_n[8];
	char tenants[8][40];
	char facilities[8][40];
	int n_tenants;
	uint64_t payload_n[32];
};

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static void count_tenant(struct run *st, const Tos__V1__Record *rec)
{
	int i;
	for (i = 0; i < st->n_tenants; i++)
		if (!strcmp(st->tenants[i], rec->tenant_id))
			break;
	if (i == st->n_tenants) {
		assert_true(i < 8);
		snprintf(st->tenants[i], sizeof(st->tenants[i]), "%s", rec->tenant_id);
		snprintf(st->facilities[i], sizeof(st->facilities[i]), "%s", rec->facility_id);
		st->n_tenants++;
	}
	assert_string_equal(st->facilities[i], rec->facility_id);
	st->tenant_n[i]++;
}

/* Draw n records of profile and replay each: a good record must be accepted, a poison
 * record refused with its own expect code; the bytes must be canonical. */
static void run_profile(struct replay *r, const char *profile, uint64_t seed, uint64_t n,
			struct run *st)
{
	static uint8_t buf[HW_RECORD_BYTES_MAX], again[HW_RECORD_BYTES_MAX];
	struct hw_workload_opts o = {.profile = profile, .seed = seed, .count = n, .end_ms = END_MS};
	struct hw_workload *w;
	replay_reset(r);
	memset(st, 0, sizeof(*st));
	st->lens = calloc(n, sizeof(*st->lens));
	assert_non_null(st->lens);
	assert_int_equal(hw_workload_new(&o, &w), 0);
	struct hw_work_item it;
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(hw_workload_next(w, buf, sizeof(buf), &it), 0);
		assert_true(it.len > 0 && it.len <= HW_RECORD_BYTES_MAX);
		Tos__V1__Record *rec = tos__v1__record__unpack(NULL, it.len, buf);
		assert_non_null(rec);
		assert_int_equal(tos__v1__record__pack(rec, again), it.len);
		assert_memory_equal(again, buf, it.len);
		int code = replay_record(r, rec);
		if (code != it.expect)
			print_error("%s seed %llu record %llu (%s): replay %s, expected %s\n",
				    profile, (unsigned long long)seed, (unsigned long long)i,
				    it.kind, hw_errname(code), hw_errname(it.expect));
		assert_int_equal(code, it.expect);
		static const char *const kinds[] = {
			"unit_event",   "hold", "customs", "reefer", "wi",     "gate",
			"vessel_visit", "vgm",  "edi",     "audit",  "kv_put", "kv_delete"};
		assert_string_equal(it.kind, kinds[rec->payload_case - 20]);
		if (!it.expect)
			count_tenant(st, rec);
		st->poison += it.expect != 0;
		st->payload_n[rec->payload_case % 32]++;
		st->lens[i] = it.len;
		tos__v1__record__free_unpacked(rec, NULL);
	}
	st->n = n;
	assert_int_equal(hw_workload_next(w, buf, sizeof(buf), &it), HW_ERANGE);
	hw_workload_free(w);
}

static size_t median_len(struct run *st)
{
	qsort(st->lens, st->n, sizeof(*st->lens), cmp_size);
	return st->lens[st->n / 2];
}

/* ---------------------------------------------------------------- tests */

/* Two generators with the same seed and options draw byte-identical records, for every
 * profile; another seed draws different ones. */
static void test_determinism(void **state)
{
	(void)state;
	static uint8_t a[HW_RECORD_BYTES_MAX], b[HW_RECORD_BYTES_MAX];
	for (const char *const *p = hw_workload_profiles(); *p; p++) {
		struct hw_workload_opts o = {.profile = *p, .seed = 7, .count = 5000, .end_ms = END_MS};
		struct hw_workload_opts o2 = {.profile = *p, .seed = 8, .count = 5000, .end_ms = END_MS};
		struct hw_workload *w1, *w2, *w3;
		assert_int_equal(hw_workload_new(&o, &w1), 0);
		assert_int_equal(hw_workload_new(&o, &w2), 0);
		assert_int_equal(hw_workload_new(&o2, &w3), 0);
		struct hw_work_item i1, i2, i3;
		uint64_t differ = 0;
		for (int i = 0; i < 5000; i++) {
			assert_int_equal(hw_workload_next(w1, a, sizeof(a), &i1), 0);
			assert_int_equal(hw_workload_next(w2, b, sizeof(b), &i2), 0);
			assert_int_equal(i1.len, i2.len);
			assert_int_equal(i1.expect, i2.expect);
			assert_string_equal(i1.kind, i2.kind);
			assert_memory_equal(a, b, i1.len);
			assert_int_equal(hw_workload_next(w3, b, sizeof(b), &i3), 0);
			differ += i3.len != i1.len || memcmp(a, b, i1.len);
		}
		assert_true(differ > 4900);
		hw_workload_free(w1);
		hw_workload_free(w2);
		hw_workload_free(w3);
	}
}

/* The generator stops after count records; unknown profiles, sentinel clocks and a too
 * small buffer are refused; NULL picks terminal_peak; every listed profile exists. */
static void test_count_and_profiles(void **state)
{
	(void)state;
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	struct hw_work_item it;
	struct hw_workload *w = (struct hw_workload *)&it;
	struct hw_workload_opts o = {.profile = "megaport_peak", .seed = 1, .count = 10, .end_ms = END_MS};
	assert_int_equal(hw_workload_new(&o, &w), HW_ERANGE);
	assert_null(w);
	o.profile = "poison";
	o.end_ms = 0;
	assert_int_equal(hw_workload_new(&o, &w), HW_ERANGE);
	int n = 0;
	for (const char *const *p = hw_workload_profiles(); *p; p++, n++) {
		o = (struct hw_workload_opts){.profile = *p, .seed = 3, .count = 10, .end_ms = END_MS};
		assert_int_equal(hw_workload_new(&o, &w), 0);
		for (int i = 0; i < 10; i++)
			assert_int_equal(hw_workload_next(w, buf, sizeof(buf), &it), 0);
		assert_int_equal(hw_workload_next(w, buf, sizeof(buf), &it), HW_ERANGE);
		assert_int_equal(hw_workload_next(w, buf, sizeof(buf), &it), HW_ERANGE);
		hw_workload_free(w);
	}
	assert_int_equal(n, 4);
	o = (struct hw_workload_opts){.profile = NULL, .seed = 3, .count = 0, .end_ms = END_MS};
	assert_int_equal(hw_workload_new(&o, &w), 0);
	assert_int_equal(hw_workload_next(w, buf, sizeof(buf), &it), HW_ERANGE);
	hw_workload_free(w);
	o.count = 10;
	assert_int_equal(hw_workload_new(&o, &w), 0);
	assert_int_equal(hw_workload_next(w, buf, 4, &it), HW_ERANGE);
	hw_workload_free(w);
	hw_workload_free(NULL);
}

/* hw_workload_profile_known() names exactly the listed profiles: not a prefix, another
 * case or an empty name. */
static void test_profile_known(void **state)
{
	(void)state;
	for (const char *const *p = hw_workload_profiles(); *p; p++)
		assert_true(hw_workload_profile_known(*p));
	assert_false(hw_workload_profile_known("megaport_peak"));
	assert_false(hw_workload_profile_known("terminal"));
	assert_false(hw_workload_profile_known("Stress"));
	assert_false(hw_workload_profile_known(""));
}

/* terminal_peak, long enough for several vessel calls: every record passes the replay
 * (check digits, times, slots, holds, WIs, VGM, phases), about 9% of container numbers
 * have remainder 10, sizes follow §7 and the mix is near §7. */
static void test_terminal_peak_realism(void **state)
{
	struct replay *r = *state;
	struct run st;
	run_profile(r, "terminal_peak", 11, 100000, &st);
	assert_int_equal(st.poison, 0);
	assert_int_equal(st.n_tenants, 1);
	double rem10 = (double)r->n_rem10 / r->n_containers;
	print_message("containers %u, remainder 10: %.2f%%\n", r->n_containers, 100 * rem10);
	assert_true(r->n_containers > 2000);
	assert_true(rem10 >= 0.07 && rem10 <= 0.11);
	double wi = (double)st.payload_n[TOS__V1__RECORD__PAYLOAD_WI] / (double)st.n;
	double reefer = (double)st.payload_n[TOS__V1__RECORD__PAYLOAD_REEFER] / (double)st.n;
	double ue = (double)st.payload_n[TOS__V1__RECORD__PAYLOAD_UNIT_EVENT] / (double)st.n;
	assert_true(wi > 0.25 && wi < 0.40);
	assert_true(reefer > 0.20 && reefer < 0.34);
	assert_true(ue > 0.08 && ue < 0.18);
	assert_true(st.payload_n[TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT] >= 14);
	for (int c = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT; c <= TOS__V1__RECORD__PAYLOAD_KV_DELETE;
	     c++)
		assert_true(st.payload_n[c] > 0);
	size_t med = median_len(&st);
	uint64_t big = 0;
	for (uint64_t i = 0; i < st.n; i++)
		big += st.lens[i] >= 2048;
	print_message("median %zu B, max %zu B, >= 2 KiB %.2f%%\n", med, st.lens[st.n - 1],
		      100.0 * (double)big / (double)st.n);
	assert_true(med >= 150 && med <= 400);
	assert_true(big > st.n / 400 && big < st.n / 40);
	free(st.lens);
}

/* nagoya_port_peak: five tenants at five facilities with shares near 43/22/21/10/4%, and
 * every record still passes the replay. */
static void test_nagoya_tenants(void **state)
{
	struct replay *r = *state;
	struct run st;
	static const struct {
		const char *tenant;
		double share;
	} want[] = {{"NABETA", 0.43}, {"TCB", 0.22}, {"NCB", 0.21}, {"TOBS", 0.10}, {"TOBN", 0.04}};
	run_profile(r, "nagoya_port_peak", 5, 40000, &st);
	assert_int_equal(st.n_tenants, 5);
	for (int k = 0; k < 5; k++) {
		int i = 0;
		while (i < st.n_tenants && strcmp(st.tenants[i], want[k].tenant))
			i++;
		assert_true(i < st.n_tenants);
		double share = (double)st.tenant_n[i] / (double)st.n;
		assert_true(share > want[k].share - 0.02 && share < want[k].share + 0.02);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(st.facilities[j], st.facilities[i]);
	}
	assert_true(median_len(&st) >= 150 && median_len(&st) <= 400);
	free(st.lens);
}

/* stress: every record passes the replay and none is large. */
static void test_stress_small(void **state)
{
	struct replay *r = *state;
	struct run st;
	run_profile(r, "stress", 9, 30000, &st);
	qsort(st.lens, st.n, sizeof(*st.lens), cmp_size);
	print_message("stress median %zu B, max %zu B\n", st.lens[st.n / 2], st.lens[st.n - 1]);
	assert_true(st.lens[st.n - 1] < 1024);
	assert_true(st.payload_n[TOS__V1__RECORD__PAYLOAD_REEFER] > st.n / 5);
	free(st.lens);
}

/* poison: 0.5-2% of records are bad, each tagged with a refusal code, and the replay
 * refuses each with exactly that code while accepting all the others; every kind of bad
 * record of tos-domain.md §8 that the generator knows turns up. */
static void test_poison(void **state)
{
	struct replay *r = *state;
	static const int codes[] = {HW_ECHECK_DIGIT, HW_ECONTAINER_ID,  HW_ESIZE_TYPE,
				    HW_EWEIGHT,      HW_ETIME,          HW_ELIFECYCLE,
				    HW_EHOLD_ACTIVE, HW_EPOS_MISMATCH,  HW_EHOLD_NOT_APPLIED,
				    HW_EDUP_VISIT,   HW_ESLOT_OCCUPIED, HW_EIDEMPOTENCY,
				    HW_ESCHEMA,      HW_EUTF8};
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	struct run st;
	run_profile(r, "poison", 21, 40000, &st);
	double share = (double)st.poison / (double)st.n;
	print_message("poison %.2f%%\n", 100 * share);
	assert_true(share >= 0.005 && share <= 0.02);
	free(st.lens);
	/* Which codes turn up, from a fresh generator (run_profile checked each one). */
	int seen[sizeof(codes) / sizeof(codes[0])] = {0};
	struct hw_workload_opts o = {.profile = "poison", .seed = 21, .count = 40000, .end_ms = END_MS};
	struct hw_workload *w;
	struct hw_work_item it;
	assert_int_equal(hw_workload_new(&o, &w), 0);
	while (hw_workload_next(w, buf, sizeof(buf), &it) == 0) {
		if (!it.expect)
			continue;
		size_t k = 0;
		while (k < sizeof(codes) / sizeof(codes[0]) && codes[k] != it.expect)
			k++;
		assert_true(k < sizeof(codes) / sizeof(codes[0]));
		seen[k]++;
	}
	hw_workload_free(w);
	for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
		if (!seen[k])
			print_error("never drawn: %s\n", hw_errname(codes[k]));
		assert_true(seen[k] > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_count_and_profiles),
		cmocka_unit_test(test_profile_known),
		cmocka_unit_test_setup_teardown(test_terminal_peak_realism, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nagoya_tenants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stress_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
