/* workload.c: a deterministic generator of TOS records (bench/workload.h).
 *
 * Each tenant has its own terminal model: containers ("boxes"), yard slots, vessel
 * visits, jobs (a move with its work instruction) and truck visits. A draw picks a tenant
 * by weight and a record kind from the profile's mix (tos-domain.md §7); when the model
 * cannot produce that kind right now (no reefer on the terminal, no vessel working) it
 * falls back to one it can, because the lifecycle rules of docs/rules.md win over the
 * mix. Slots are reserved when a move is planned, so the yard is never double-booked,
 * and a container only moves, is loaded or leaves when the rules allow it. Poison records
 * are built from the model but never change it: the store refuses them.
 *
 * Memory: everything is sized at hw_workload_new(); a departed container's entry and
 * slot are reused, so a run of any length stays within the same few megabytes. */
#include "bench/workload.h"
#include "bench/workload_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "hawser_error.h"
#include "hawser_limits.h"
#include "replica/iso6346.h"
#include "tos.pb-c.h"

/* ---------------------------------------------------------------- small helpers */

/* printf into the record's scratch text; the result lives until the next draw. */
char *hw__txt(struct msg *m, const char *fmt, ...)
{
	char *s = m->txt + m->txt_used;
	size_t room = WL_TEXT_BYTES - m->txt_used;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s, room, fmt, ap);
	va_end(ap);
	HW_ASSERT(n >= 0 && (size_t)n < room);
	m->txt_used += (size_t)n + 1;
	return s;
}

/* Append phrases to s (in the scratch) until it is at least lo bytes, at most hi. */
char *hw__long_text(struct hw_workload *w, const char *const *ph, uint32_t n_ph, uint32_t lo,
		    uint32_t hi)
{
	struct msg *m = &w->m;
	char *s = m->txt + m->txt_used;
	size_t len = 0;
	uint32_t target = between(&w->rng, lo, hi);
	while (len < target) {
		const char *p = ph[below(&w->rng, n_ph)];
		size_t pl = strlen(p);
		if (len + pl + 2 > hi)
			break;
		if (len)
			s[len++] = ' ';
		memcpy(s + len, p, pl);
		len += pl;
	}
	s[len] = '\0';
	m->txt_used += len + 1;
	return s;
}

void hw__list_add(struct term *t, int which, uint32_t b)
{
	struct ilist *l = &t->lists[which];
	HW_ASSERT(t->boxes[b].ix[which] < 0 && l->n < WL_BOXES_MAX);
	t->boxes[b].ix[which] = (int32_t)l->n;
	l->v[l->n++] = b;
}

void hw__list_del(struct term *t, int which, uint32_t b)
{
	struct ilist *l = &t->lists[which];
	int32_t i = t->boxes[b].ix[which];
	HW_ASSERT(i >= 0 && l->v[i] == b);
	uint32_t last = l->v[--l->n];
	l->v[i] = last;
	t->boxes[last].ix[which] = i;
	t->boxes[b].ix[which] = -1;
}

/* A random member of list which, or -1 when empty. */
int32_t hw__list_pick(struct hw_workload *w, struct term *t, int which)
{
	struct ilist *l = &t->lists[which];
	if (l->n == 0)
		return -1;
	return (int32_t)l->v[below(&w->rng, l->n)];
}

/* ---------------------------------------------------------------- boxes and slots */

static void make_container_id(struct hw_workload *w, char out[12])
{
	uint32_t o = below(&w->rng, WL_OWNERS);
	/* Stepping each owner's serial by a number prime to 10^6 visits every serial once
	 * before repeating: ids stay unique for a million boxes per owner. */
	w->owner_serial[o] = (w->owner_serial[o] + 7919u) % 1000000u;
	snprintf(out, 12, "%s%06u", w->owners[o], w->owner_serial[o]);
	int cd = hw_iso6346_check_digit(out);
	HW_ASSERT(cd >= 0);
	out[10] = (char)('0' + cd);
	out[11] = '\0';
}

static uint8_t pick_type(struct hw_workload *w, uint8_t cls, bool reefer)
{
	uint32_t r = below(&w->rng, 100);
	if (cls == CLS_20)
		return reefer ? (r < 90 ? ST_22R1 : ST_2232) : (r < 88 ? ST_22G1 : ST_2200);
	if (cls == CLS_45)
		return reefer ? ST_L5R1 : ST_L5G1;
	if (reefer)
		return ST_45R1;
	return r < 35 ? ST_42G1 : r < 90 ? ST_45G1 : r < 94 ? ST_4200 : ST_4500;
}

/* Gross mass after the Maersk BAPLIE medians (tos-domain.md §2.6): 20' about 20 t, at
 * most 30.7 t; 40'/45' about 15 t with a long tail to 36 t. */
static uint32_t pick_gross(struct hw_workload *w, const struct box *b)
{
	if (!b->full)
		return b->tare;
	int32_t g = b->cls == CLS_20 ? normalish(&w->rng, 20500, 4500)
				     : normalish(&w->rng, 16500, 7000);
	int32_t lo = (int32_t)b->tare + 800;
	int32_t hi = b->cls == CLS_20 ? 30700 : 36000;
	if (b->max_gross && (int32_t)b->max_gross < hi)
		hi = (int32_t)b->max_gross;
	g = g < lo ? lo + (int32_t)below(&w->rng, 3000) : g;
	return (uint32_t)(g > hi ? hi : g);
}

int32_t hw__box_new(struct hw_workload *w, struct term *t, uint8_t dir)
{
	if (t->n_free == 0)
		return -1;
	uint32_t i = t->free_stack[--t->n_free];
	struct box *b = &t->boxes[i];
	memset(b, 0, sizeof(*b));
	for (int k = 0; k < L_COUNT; k++)
		b->ix[k] = -1;
	make_container_id(w, b->id);
	uint32_t r = below(&w->rng, 1000);
	b->cls = r < 400 ? CLS_20 : r < 970 ? CLS_40 : CLS_45;
	b->reefer = chance(&w->rng, w->p->reefer_permille);
	b->type = pick_type(w, b->cls, b->reefer);
	b->dir = dir;
	b->full = !chance(&w->rng, 120);
	const struct size_type *st = &size_types[b->type];
	b->tare = between(&w->rng, st->tare_lo, st->tare_hi);
	b->max_gross = chance(&w->rng, 300) ? 0 : b->cls == CLS_20 ? 32500 : 36000;
	b->gross = pick_gross(w, b);
	b->dg = b->full && !b->reefer && chance(&w->rng, 80);
	b->setpoint = b->reefer ? setpoints[below(&w->rng, sizeof(setpoints) / 2)] : 0;
	b->line = (uint8_t)below(&w->rng, N_LINES);
	b->port = (uint8_t)below(&w->rng, N_PORTS);
	b->ref = below(&w->rng, 1000000000u);
	b->st = B_PLANNED;
	return (int32_t)i;
}

static void box_retire(struct term *t, uint32_t i)
{
	struct box *b = &t->boxes[i];
	HW_ASSERT(b->holds == 0 && b->job == 0);
	for (int k = 0; k < L_COUNT; k++)
		if (b->ix[k] >= 0)
			hw__list_del(t, k, i);
	b->st = B_FREE;
	t->free_stack[t->n_free++] = i;
}

/* The 20-foot bays a box at p covers: one odd bay, or the odd bays either side of an
 * even one (docs/rules.md, yard slots). */
static void slot_set(struct term *t, uint8_t cls, const struct place *p, uint8_t v)
{
	if (cls == CLS_20) {
		t->occ[p->block][p->bay][p->row][p->tier] = v;
	} else {
		t->occ[p->block][p->bay - 1][p->row][p->tier] = v;
		t->occ[p->block][p->bay + 1][p->row][p->tier] = v;
	}
}

static bool slot_free(const struct term *t, uint8_t cls, const struct place *p)
{
	if (cls == CLS_20)
		return !t->occ[p->block][p->bay][p->row][p->tier];
	return !t->occ[p->block][p->bay - 1][p->row][p->tier] &&
	       !t->occ[p->block][p->bay + 1][p->row][p->tier];
}

/* A free yard slot for a box of class cls; does not reserve it. */
bool hw__slot_find(struct hw_workload *w, const struct term *t, uint8_t cls, struct place *out)
{
	for (int i = 0; i < 48; i++) {
		struct place p = {.kind = PL_YARD};
		p.block = (uint8_t)below(&w->rng, WL_BLOCKS);
		p.row = (uint8_t)(1 + below(&w->rng, WL_ROWS));
		/* lower tiers first, as a yard planner stacks */
		uint32_t a = below(&w->rng, WL_TIERS), c = below(&w->rng, WL_TIERS);
		p.tier = (uint8_t)(1 + (a < c ? a : c));
		if (cls == CLS_20)
			p.bay = (uint8_t)(1 + 2 * below(&w->rng, (WL_BAYS + 1) / 2));
		else
			p.bay = (uint8_t)(2 + 2 * below(&w->rng, (WL_BAYS - 1) / 2));
		if (slot_free(t, cls, &p)) {
			*out = p;
			return true;
		}
	}
	return false;
}

/* A box of the yard list that satisfies ok(), by a few random probes. */
int32_t hw__yard_probe(struct hw_workload *w, struct term *t, bool (*ok)(const struct box *),
		       int tries)
{
	for (int i = 0; i < tries; i++) {
		int32_t b = hw__list_pick(w, t, L_YARD);
		if (b < 0)
			return -1;
		if (ok(&t->boxes[b]))
			return b;
	}
	return -1;
}

bool hw__idle_box(const struct box *b)
{
	return !b->job;
}

bool hw__import_ready(const struct box *b)
{
	return !b->job && !b->holds && b->dir == DIR_IMPORT;
}

bool hw__export_ready(const struct box *b)
{
	return !b->job && !b->holds && b->dir == DIR_EXPORT && (b->vgm || !b->full);
}

bool hw__needs_vgm(const struct box *b)
{
	return b->dir == DIR_EXPORT && b->full && !b->vgm;
}

bool hw__customs_open(const struct box *b)
{
	return b->customs != TOS__V1__CUSTOMS_STATE__CS_RELEASED &&
	       b->customs != TOS__V1__CUSTOMS_STATE__EXPORT_PERMITTED;
}

bool hw__any_box(const struct box *b)
{
	(void)b;
	return true;
}

/* Cell k of a visit for a box of class cls: 20' boxes in bays 1, 5, 9 ..., 40'/45' in
 * bays 2, 6, 10 ...; rows 1-20; tiers 02-16 in the hold and 82-96 on deck. */
struct place hw__vessel_cell(uint8_t slot, uint8_t cls, uint32_t k)
{
	struct place p = {.kind = PL_VESSEL, .block = slot};
	uint32_t tier = k % 16, row = (k / 16) % 20, bay = k / 320;
	p.bay = (uint8_t)((cls == CLS_20 ? 1 : 2) + 4 * (bay % 49));
	p.row = (uint8_t)(row + 1);
	p.tier = (uint8_t)(tier < 8 ? 2 + 2 * tier : 82 + 2 * (tier - 8));
	return p;
}

/* ---------------------------------------------------------------- record parts */

static Tos__V1__Location *location(struct hw_workload *w, struct term *t, struct locbuf *lb,
				   const struct place *p)
{
	struct msg *m = &w->m;
	tos__v1__location__init(&lb->loc);
	switch (p->kind) {
	case PL_YARD:
		tos__v1__yard_pos__init(&lb->yard);
		lb->yard.block = t->blocks[p->block];
		lb->yard.bay = p->bay;
		lb->yard.row = p->row;
		lb->yard.tier = p->tier;
		lb->loc.where_case = TOS__V1__LOCATION__WHERE_YARD;
		lb->loc.yard = &lb->yard;
		break;
	case PL_VESSEL:
		tos__v1__vessel_cell__init(&lb->cell);
		lb->cell.vessel_visit_id = t->visits[p->block].id;
		lb->cell.bay = p->bay;
		lb->cell.row = p->row;
		lb->cell.tier = p->tier;
		lb->loc.where_case = TOS__V1__LOCATION__WHERE_VESSEL;
		lb->loc.vessel = &lb->cell;
		break;
	case PL_TRUCK:
		tos__v1__truck_pos__init(&lb->truck);
		lb->truck.truck_visit_id = hw__txt(m, "TV%s%07u", t->def->code, p->truck);
		lb->truck.lane = hw__txt(m, "L%02u", p->truck % 12 + 1);
		lb->truck.chassis_slot = 1;
		lb->loc.where_case = TOS__V1__LOCATION__WHERE_TRUCK;
		lb->loc.truck = &lb->truck;
		break;
	default:
		return NULL;
	}
	return &lb->loc;
}

static Tos__V1__Equipment *equipment(struct msg *m, struct box *b)
{
	tos__v1__equipment__init(&m->eq);
	m->eq.container_id = b->id;
	m->eq.iso_size_type = (char *)size_types[b->type].code;
	m->eq.full_empty = b->full ? TOS__V1__FULL_EMPTY__FE_FULL : TOS__V1__FULL_EMPTY__FE_EMPTY;
	m->eq.tare_kg = b->tare;
	m->eq.line_operator = (char *)lines[b->line];
	m->eq.max_gross_kg = b->max_gross;
	return &m->eq;
}

/* The envelope's source: the system, its device, and who acted (a clerk for the TOS's
 * own screens, a service account for interfaces). */
void hw__set_source(struct hw_workload *w, const char *system, const char *device)
{
	static const char *const services[][2] = {{"ECS", "svc-ecs"},
						  {"RMS", "svc-rms"},
						  {"NACCS", "svc-naccs"},
						  {"EDI", "svc-edi"},
						  {"OCR", "svc-ocr"}};
	struct msg *m = &w->m;
	m->src.system = (char *)system;
	m->src.device_id = (char *)device;
	m->src.user_id = NULL;
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (!strcmp(system, services[i][0]))
			m->src.user_id = (char *)services[i][1];
	if (!m->src.user_id)
		m->src.user_id = hw__txt(m, "ops%02u", between(&w->rng, 1, 40));
	m->src.offline_capture = chance(&w->rng, 2);
	m->rec.source = &m->src;
}

/* A unit event about box b. Moves name from and to; status events name neither. */
void hw__unit_event(struct hw_workload *w, struct term *t, struct box *b, int type,
		    const struct place *from, const struct place *to, const char *wi_id)
{
	struct msg *m = &w->m;
	Tos__V1__UnitEvent *ue = &m->ue;
	tos__v1__unit_event__init(ue);
	ue->type = (Tos__V1__UnitEventType)type;
	ue->equipment = equipment(m, b);
	if (from && from->kind != PL_NONE)
		ue->from = location(w, t, &m->lf, from);
	if (to && to->kind != PL_NONE)
		ue->to = location(w, t, &m->lt, to);
	ue->gross_kg = b->gross;
	bool imp = b->dir == DIR_IMPORT;
	ue->pol = (char *)(imp ? ports[b->port] : HOME_PORT);
	ue->pod = (char *)(imp ? HOME_PORT : ports[b->port]);
	tos__v1__refs__init(&m->refs);
	if (imp) {
		m->bls[0] = hw__txt(m, "%sU%09u", lines[b->line], b->ref);
		m->refs.n_bl_nos = 1;
		m->refs.bl_nos = m->bls;
	} else if (b->full) {
		m->bookings[0] = hw__txt(m, "%s%09u", lines[b->line], b->ref);
		m->refs.n_booking_nos = 1;
		m->refs.booking_nos = m->bookings;
	}
	ue->refs = &m->refs;
	if (b->full) {
		tos__v1__seal__init(&m->seals[0]);
		m->seals[0].number = hw__txt(m, "%s%07u", lines[b->line], b->ref % 10000000u);
		m->seals[0].type = TOS__V1__SEAL_TYPE__CARRIER;
		m->sealp[0] = &m->seals[0];
		ue->n_seals = 1;
		ue->seals = m->sealp;
	}
	if (b->dg) {
		const struct hazard_def *h = &hazards[b->ref % N_HAZARDS];
		tos__v1__hazard__init(&m->hz[0]);
		m->hz[0].un_number = (char *)h->un;
		m->hz[0].imdg_class = (char *)h->cls;
		m->hz[0].packing_group = (char *)h->pg;
		m->hzp[0] = &m->hz[0];
		ue->n_dg = 1;
		ue->dg = m->hzp;
	}
	if (b->reefer) {
		tos__v1__reefer_setting__init(&m->rs);
		m->rs.setpoint_decic = b->setpoint;
		m->rs.vent_cmh = b->setpoint > 0 ? 25 : 0;
		m->rs.humidity_pct = b->setpoint > 0 ? 85 : 0;
		ue->reefer = &m->rs;
	}
	if (wi_id)
		ue->wi_id = (char *)wi_id;
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT;
	m->rec.unit_event = ue;
	m->rec.entity_version = ++b->ver;
	m->kind = "unit_event";
	hw__set_source(w, "TOS", t->blocks[b->at.kind == PL_YARD ? b->at.block : 0]);
}

static char *wi_name(struct msg *m, const struct term *t, uint64_t no)
{
	return hw__txt(m, "WI%s%09llu", t->def->code, (unsigned long long)no);
}

static void work_instruction(struct hw_workload *w, struct term *t, const struct job *j, int state)
{
	struct msg *m = &w->m;
	struct box *b = &t->boxes[j->box];
	Tos__V1__WorkInstruction *wi = &m->wi;
	tos__v1__work_instruction__init(wi);
	wi->wi_id = wi_name(m, t, j->wi_no);
	wi->container_id = b->id;
	wi->kind = (Tos__V1__MoveKind)j->mk;
	wi->from = location(w, t, &m->lf, &j->from);
	wi->to = location(w, t, &m->lt, &j->to);
	bool quay = j->mk == TOS__V1__MOVE_KIND__MK_DSCH || j->mk == TOS__V1__MOVE_KIND__MK_LOAD;
	wi->che_id = hw__txt(m, "%s%02u", quay ? "QC" : "RTG", j->che);
	wi->state = (Tos__V1__WiState)state;
	wi->sequence = (uint32_t)(j->wi_no % 100000u);
	if (quay)
		wi->point_of_work =
			hw__txt(m, "%s@BERTH%u", wi->che_id, t->visits[j->vessel].berth);
	else
		wi->point_of_work =
			hw__txt(m, "%s@%s", wi->che_id,
				t->blocks[j->to.kind == PL_YARD ? j->to.block : j->from.block]);
	if (state == TOS__V1__WI_STATE__CANCELLED)
		wi->fail_reason = "target stack replanned by the yard planner";
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_WI;
	m->rec.wi = wi;
	m->rec.entity_version = (uint64_t)state;
	m->kind = "wi";
	hw__set_source(w, "ECS", wi->che_id);
}

/* ---------------------------------------------------------------- vessel visits */

static uint32_t imo_number(struct hw_workload *w)
{
	uint32_t d[6], sum = 0, n = 9;
	for (int i = 0; i < 6; i++) {
		d[i] = i == 0 ? 9 : below(&w->rng, 10);
		sum += d[i] * (uint32_t)(7 - i);
	}
	for (int i = 1; i < 6; i++)
		n = n * 10 + d[i];
	return n * 10 + sum % 10;
}

static void vessel_record(struct hw_workload *w, struct visit *v)
{
	struct msg *m = &w->m;
	Tos__V1__VesselVisitEvent *vv = &m->vv;
	tos__v1__vessel_visit_event__init(vv);
	vv->visit_id = v->id;
	vv->imo = hw__txt(m, "%07u", v->imo);
	vv->call_sign = hw__txt(m, "3F%c%c%u", 'A' + v->name, 'A' + v->line, v->imo % 10);
	vv->name = (char *)vessel_names[v->name];
	vv->voyage_in = hw__txt(m, "%03uE", v->voyage);
	vv->voyage_out = hw__txt(m, "%03uW", v->voyage);
	vv->operator_ = (char *)lines[v->line];
	vv->phase = (Tos__V1__VisitPhase)v->phase;
	vv->berth = hw__txt(m, "BERTH%u", v->berth);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT;
	m->rec.vessel_visit = vv;
	m->rec.entity_version = v->phase;
	m->kind = "vessel_visit";
	hw__set_source(w, "TOS", "BERTHPLAN");
}

static void visit_create(struct hw_workload *w, struct term *t, struct visit *v)
{
	const struct profile *p = w->p;
	memset(v, 0, sizeof(*v));
	t->visit_seq++;
	snprintf(v->id, sizeof(v->id), "%s%07u", t->def->code, (unsigned)t->visit_seq);
	v->phase = TOS__V1__VISIT_PHASE__VP_CREATED;
	v->name = (uint8_t)below(&w->rng, N_VESSEL_NAMES);
	v->line = (uint8_t)below(&w->rng, N_LINES);
	v->pol = (uint8_t)below(&w->rng, N_PORTS);
	v->pod = (uint8_t)below(&w->rng, N_PORTS);
	v->berth = (uint8_t)between(&w->rng, 1, 6);
	v->imo = imo_number(w);
	v->voyage = between(&w->rng, 1, 999);
	v->plan_dsch = between(&w->rng, p->plan_lo, p->plan_hi);
	v->plan_load = between(&w->rng, p->plan_lo, p->plan_hi);
	v->cells[0] = below(&w->rng, 64);
	v->cells[1] = below(&w->rng, 64);
	v->wait = between(&w->rng, 100, 300);
}

/* Boxes loaded on a departing visit leave the model: their visit is over. */
static void visit_depart(struct term *t, uint8_t slot)
{
	for (uint32_t i = 0; i < WL_BOXES_MAX; i++) {
		struct box *b = &t->boxes[i];
		if (b->st == B_LOADED && b->vessel == slot)
			box_retire(t, i);
	}
}

static bool visit_can_step(const struct visit *v)
{
	if (v->phase != TOS__V1__VISIT_PHASE__VP_WORKING)
		return true;
	return v->dsch_done == v->plan_dsch && v->load_done == v->plan_load && v->jobs == 0 &&
	       v->advised == 0;
}

/* Phase the visit to its next step and emit the record. */
static void visit_step(struct hw_workload *w, struct term *t, uint8_t slot)
{
	struct visit *v = &t->visits[slot];
	v->phase++;
	switch (v->phase) {
	case TOS__V1__VISIT_PHASE__VP_INBOUND:
		v->wait = between(&w->rng, 100, 300);
		break;
	case TOS__V1__VISIT_PHASE__VP_ARRIVED:
		v->wait = between(&w->rng, 5, 30);
		break;
	case TOS__V1__VISIT_PHASE__VP_COMPLETE:
		v->wait = between(&w->rng, 20, 80);
		break;
	case TOS__V1__VISIT_PHASE__VP_DEPARTED:
		visit_depart(t, slot);
		v->wait = between(&w->rng, 50, 200);
		break;
	default:
		v->wait = 0;
		break;
	}
	vessel_record(w, v);
	if (v->phase == TOS__V1__VISIT_PHASE__VP_CLOSED)
		v->phase = 0; /* the slot is free again */
}

/* Emit a due vessel visit step, if one is due: visits keep about two calls in progress
 * (tos-domain.md §7 "vessel windows"). force skips the wait of the first waiting visit. */
bool hw__vessel_due(struct hw_workload *w, struct term *t, bool force)
{
	uint32_t live = 0, free_slot = WL_VESSELS_MAX;
	for (uint8_t s = 0; s < WL_VESSELS_MAX; s++) {
		struct visit *v = &t->visits[s];
		if (!v->phase) {
			free_slot = s;
			continue;
		}
		if (v->phase <= TOS__V1__VISIT_PHASE__VP_WORKING)
			live++;
		if (force && v->wait && visit_can_step(v))
			v->wait = 0;
		if (v->wait && !force)
			v->wait--;
		if (!v->wait && visit_can_step(v)) {
			visit_step(w, t, s);
			return true;
		}
	}
	if (live < 2 && free_slot < WL_VESSELS_MAX) {
		visit_create(w, t, &t->visits[free_slot]);
		vessel_record(w, &t->visits[free_slot]);
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- moves */

static bool yard_full(const struct term *t)
{
	return t->lists[L_YARD].n + t->incoming >= WL_YARD_MAX;
}

/* A visit slot in one of the phases lo..hi, starting the search at random. */
int hw__visit_in_phase(struct hw_workload *w, struct term *t, int lo, int hi)
{
	uint32_t s0 = below(&w->rng, WL_VESSELS_MAX);
	for (uint32_t k = 0; k < WL_VESSELS_MAX; k++) {
		uint32_t s = (s0 + k) % WL_VESSELS_MAX;
		int ph = t->visits[s].phase;
		if (ph >= lo && ph <= hi)
			return (int)s;
	}
	return -1;
}

static struct job *job_add(struct hw_workload *w, struct term *t, uint32_t box, int ue, int mk)
{
	HW_ASSERT(t->n_jobs < WL_JOBS_MAX);
	struct job *j = &t->jobs[t->n_jobs++];
	memset(j, 0, sizeof(*j));
	j->box = box;
	j->ue = (uint8_t)ue;
	j->mk = (uint8_t)mk;
	j->use_wi = chance(&w->rng, 750);
	j->wi_no = ++t->wi_seq;
	j->che = (uint16_t)between(&w->rng, 1, 24);
	t->boxes[box].job = 1;
	return j;
}

/* The box a start brings into the yard: the advised candidate *bi, or a new box of dir
 * when *bi < 0, and in *to a free slot for it. False when there is no box or no slot (a
 * new box is retired again, a candidate stays advised); else a candidate is no longer
 * advised, and *fresh says whether the box is new. */
static bool yard_box(struct hw_workload *w, struct term *t, uint8_t dir, int32_t *bi,
		     struct place *to, bool *fresh)
{
	*fresh = *bi < 0;
	if (*fresh && (*bi = hw__box_new(w, t, dir)) < 0)
		return false;
	if (!hw__slot_find(w, t, t->boxes[*bi].cls, to)) {
		if (*fresh)
			box_retire(t, (uint32_t)*bi);
		return false;
	}
	if (!*fresh) {
		hw__list_del(t, L_CAND, (uint32_t)*bi);
		t->advised[dir]--;
	}
	return true;
}

static bool start_discharge(struct hw_workload *w, struct term *t, struct job **out)
{
	int s = hw__visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_ARRIVED,
				   TOS__V1__VISIT_PHASE__VP_WORKING);
	if (s < 0 || yard_full(t))
		return false;
	struct visit *v = &t->visits[s];
	if (v->dsch_started == v->plan_dsch) {
		/* another working visit may still have boxes to discharge */
		s = hw__visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_ARRIVED,
				       TOS__V1__VISIT_PHASE__VP_WORKING);
		v = &t->visits[s];
		if (v->dsch_started == v->plan_dsch)
			return false;
	}
	int32_t bi = -1;
	struct ilist *cand = &t->lists[L_CAND];
	for (uint32_t k = 0; k < cand->n && v->advised; k++) {
		struct box *c = &t->boxes[cand->v[k]];
		if (c->dir == DIR_IMPORT && c->vessel == (uint8_t)s) {
			bi = (int32_t)cand->v[k];
			break;
		}
	}
	bool fresh;
	struct place to;
	if (!yard_box(w, t, DIR_IMPORT, &bi, &to, &fresh))
		return false;
	if (!fresh)
		v->advised--;
	struct box *b = &t->boxes[bi];
	b->vessel = (uint8_t)s;
	b->at = hw__vessel_cell((uint8_t)s, b->cls, v->cells[b->cls != CLS_20]++);
	struct job *j = job_add(w, t, (uint32_t)bi, TOS__V1__UNIT_EVENT_TYPE__DISCHARGE,
				TOS__V1__MOVE_KIND__MK_DSCH);
	j->vessel = (uint8_t)s;
	j->from = b->at;
	j->to = to;
	slot_set(t, b->cls, &to, 1);
	t->incoming++;
	v->dsch_started++;
	v->jobs++;
	*out = j;
	return true;
}

static bool start_load(struct hw_workload *w, struct term *t, struct job **out)
{
	int s = hw__visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_WORKING,
				   TOS__V1__VISIT_PHASE__VP_WORKING);
	if (s < 0)
		return false;
	struct visit *v = &t->visits[s];
	if (v->load_started == v->plan_load)
		return false;
	int32_t bi = hw__yard_probe(w, t, hw__export_ready, 24);
	if (bi < 0) {
		/* No export ready: after a while the visit sails with what it has. */
		if (v->dsch_started == v->plan_dsch && ++v->stall > 200)
			v->plan_load = v->load_started;
		return false;
	}
	struct box *b = &t->boxes[bi];
	struct job *j = job_add(w, t, (uint32_t)bi, TOS__V1__UNIT_EVENT_TYPE__LOAD,
				TOS__V1__MOVE_KIND__MK_LOAD);
	j->vessel = (uint8_t)s;
	j->from = b->at;
	j->to = hw__vessel_cell((uint8_t)s, b->cls, v->cells[b->cls != CLS_20]++);
	v->load_started++;
	v->jobs++;
	*out = j;
	return true;
}

static bool start_gate_in(struct hw_workload *w, struct term *t, struct job **out)
{
	/* Exports leave only when a vessel loads them: if they could fill the yard, the
	 * discharges a vessel must finish before it sails would have no room. */
	if (yard_full(t) || t->exports >= WL_YARD_MAX / 2)
		return false;
	int32_t bi = -1;
	if (t->advised[DIR_EXPORT] && chance(&w->rng, 700)) {
		for (int k = 0; k < 8 && bi < 0; k++) {
			int32_t c = hw__list_pick(w, t, L_CAND);
			if (c >= 0 && t->boxes[c].dir == DIR_EXPORT)
				bi = c;
		}
	}
	bool fresh;
	struct place to;
	if (!yard_box(w, t, DIR_EXPORT, &bi, &to, &fresh))
		return false;
	struct job *j = job_add(w, t, (uint32_t)bi, TOS__V1__UNIT_EVENT_TYPE__GATE_IN,
				TOS__V1__MOVE_KIND__MK_RECV);
	j->from = (struct place){.kind = PL_TRUCK, .truck = (uint32_t)++t->tv_seq};
	j->to = to;
	slot_set(t, t->boxes[bi].cls, &to, 1);
	t->incoming++;
	t->exports++;
	*out = j;
	return true;
}

static bool start_gate_out(struct hw_workload *w, struct term *t, struct job **out)
{
	int32_t bi = hw__yard_probe(w, t, hw__import_ready, 24);
	if (bi < 0)
		return false;
	struct job *j = job_add(w, t, (uint32_t)bi, TOS__V1__UNIT_EVENT_TYPE__GATE_OUT,
				TOS__V1__MOVE_KIND__MK_DLVR);
	j->from = t->boxes[bi].at;
	j->to = (struct place){.kind = PL_TRUCK, .truck = (uint32_t)++t->tv_seq};
	*out = j;
	return true;
}

/* Housekeeping (YARD_MOVE) or a rehandle to dig out another box (YARD_SHIFT). */
static bool start_yard(struct hw_workload *w, struct term *t, int ue, struct job **out)
{
	int32_t bi = hw__yard_probe(w, t, hw__idle_box, 8);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct place to;
	if (!hw__slot_find(w, t, b->cls, &to))
		return false;
	struct job *j =
		job_add(w, t, (uint32_t)bi, ue,
			ue == TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE ? TOS__V1__MOVE_KIND__MK_YARD
								  : TOS__V1__MOVE_KIND__MK_SHIFT);
	j->from = b->at;
	j->to = to;
	slot_set(t, b->cls, &to, 1);
	*out = j;
	return true;
}

static void job_remove(struct term *t, struct job *j)
{
	t->boxes[j->box].job = 0;
	*j = t->jobs[--t->n_jobs];
}

/* The move happened: emit its unit event and change the model. */
static void job_finish(struct hw_workload *w, struct term *t, struct job *j)
{
	struct box *b = &t->boxes[j->box];
	uint32_t bi = j->box;
	hw__unit_event(w, t, b, j->ue, &j->from, &j->to,
		       j->use_wi ? wi_name(&w->m, t, j->wi_no) : NULL);
	switch (j->ue) {
	case TOS__V1__UNIT_EVENT_TYPE__DISCHARGE:
	case TOS__V1__UNIT_EVENT_TYPE__GATE_IN:
		if (j->ue == TOS__V1__UNIT_EVENT_TYPE__DISCHARGE) {
			t->visits[j->vessel].dsch_done++;
			t->visits[j->vessel].jobs--;
		}
		b->st = B_YARD;
		b->at = j->to;
		hw__list_add(t, L_YARD, bi);
		if (b->reefer)
			hw__list_add(t, L_REEFER, bi);
		t->incoming--;
		break;
	case TOS__V1__UNIT_EVENT_TYPE__LOAD:
		t->visits[j->vessel].load_done++;
		t->visits[j->vessel].jobs--;
		t->exports--;
		slot_set(t, b->cls, &j->from, 0);
		hw__list_del(t, L_YARD, bi);
		b->st = B_LOADED;
		b->at = j->to;
		b->vessel = j->vessel;
		break;
	case TOS__V1__UNIT_EVENT_TYPE__GATE_OUT:
		slot_set(t, b->cls, &j->from, 0);
		job_remove(t, j);
		box_retire(t, bi); /* its id stays readable until the next draw */
		return;
	default: /* YARD_MOVE, YARD_SHIFT */
		slot_set(t, b->cls, &j->from, 0);
		b->at = j->to;
		break;
	}
	job_remove(t, j);
}

static bool job_advance(struct hw_workload *w, struct term *t, struct job *j)
{
	if (!j->use_wi || j->wi_state == TOS__V1__WI_STATE__COMPLETED) {
		job_finish(w, t, j);
		return true;
	}
	bool yard = j->ue == TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE ||
		    j->ue == TOS__V1__UNIT_EVENT_TYPE__YARD_SHIFT;
	if (yard && j->wi_state == TOS__V1__WI_STATE__DISPATCHED && chance(&w->rng, 30)) {
		work_instruction(w, t, j, TOS__V1__WI_STATE__CANCELLED);
		slot_set(t, t->boxes[j->box].cls, &j->to, 0);
		job_remove(t, j);
		return true;
	}
	j->wi_state++;
	work_instruction(w, t, j, j->wi_state);
	return true;
}

/* Start a move of the kind the mix asks for (tos-domain.md §7: quay 37%, gate 37%, yard
 * move 11%, shift 15%), or any other one that is possible now. */
static bool job_start(struct hw_workload *w, struct term *t)
{
	if (t->n_jobs >= WL_JOBS_MAX)
		return false;
	struct job *j = NULL;
	uint32_t r = below(&w->rng, 1000);
	bool ok = false;
	if (r < 370)
		ok = chance(&w->rng, 500) ? start_discharge(w, t, &j) || start_load(w, t, &j)
					  : start_load(w, t, &j) || start_discharge(w, t, &j);
	else if (r < 740)
		ok = chance(&w->rng, 500) ? start_gate_in(w, t, &j) || start_gate_out(w, t, &j)
					  : start_gate_out(w, t, &j) || start_gate_in(w, t, &j);
	else
		ok = start_yard(w, t,
				r < 850 ? TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE
					: TOS__V1__UNIT_EVENT_TYPE__YARD_SHIFT,
				&j);
	if (!ok)
		ok = start_gate_in(w, t, &j) || start_gate_out(w, t, &j) ||
		     start_discharge(w, t, &j) || start_load(w, t, &j);
	if (!ok)
		return false;
	if (!j->use_wi) {
		job_finish(w, t, j);
		return true;
	}
	j->wi_state = TOS__V1__WI_STATE__CREATED;
	work_instruction(w, t, j, j->wi_state);
	return true;
}

bool hw__emit_move(struct hw_workload *w, struct term *t)
{
	if (t->n_jobs && (t->n_jobs >= WL_JOBS_TARGET || chance(&w->rng, 600)))
		return job_advance(w, t, &t->jobs[below(&w->rng, t->n_jobs)]);
	if (job_start(w, t))
		return true;
	if (t->n_jobs)
		return job_advance(w, t, &t->jobs[below(&w->rng, t->n_jobs)]);
	return false;
}

/* ---------------------------------------------------------------- API */

static void draw(struct hw_workload *w, struct term *t)
{
	static const int fallback[] = {C_REEFER, C_MOVE, C_HOLD, C_CUSTOMS, C_AUDIT};
	if (hw__vessel_due(w, t, false))
		return;
	uint32_t r = below(&w->rng, w->mix_sum);
	int c = 0;
	while (r >= w->p->mix[c])
		r -= w->p->mix[c++];
	if (hw__emit_cat(w, t, c))
		return;
	for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++)
		if (hw__emit_cat(w, t, fallback[i]))
			return;
	HW_ASSERT(!"an audit event is always possible");
}

static struct term *pick_tenant(struct hw_workload *w)
{
	uint32_t r = below(&w->rng, w->weight_sum);
	for (uint32_t i = 0;; i++) {
		if (r < w->terms[i].def->weight || i + 1 == w->n_terms)
			return &w->terms[i];
		r -= w->terms[i].def->weight;
	}
}

/* UUIDv7 layout: 48-bit milliseconds, version 7, variant 10; the draw number in the
 * random part makes every id of one generator unique. */
static void make_record_id(struct hw_workload *w, uint8_t id[16])
{
	uint64_t ms = (uint64_t)w->now_ms;
	for (int i = 0; i < 6; i++)
		id[i] = (uint8_t)(ms >> (40 - 8 * i));
	uint64_t r = rnd(&w->rng);
	id[6] = (uint8_t)(0x70u | (r & 0x0Fu));
	id[7] = (uint8_t)(r >> 8);
	uint64_t lo = (2ull << 62) | ((w->drawn & 0xFFFFFFFFFFull) << 22) | ((r >> 16) & 0x3FFFFFu);
	for (int i = 0; i < 8; i++)
		id[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
}

static void advance_clock(struct hw_workload *w)
{
	w->now_ms += w->step_ms;
	w->step_acc += w->step_rem;
	if (w->step_acc >= w->count) {
		w->step_acc -= w->count;
		w->now_ms++;
	}
}

static void envelope(struct hw_workload *w, struct term *t)
{
	struct msg *m = &w->m;
	Tos__V1__Record *rec = &m->rec;
	rec->record_id.data = m->id;
	rec->record_id.len = sizeof(m->id);
	rec->tenant_id = (char *)t->def->tenant;
	rec->facility_id = (char *)t->def->facility;
	if (m->event_ms) {
		rec->event_time_ms = m->event_ms;
		rec->record_time_ms = m->event_ms;
	} else {
		rec->event_time_ms = w->now_ms;
		int64_t rt = w->now_ms + (int64_t)below(&w->rng, 2001);
		rec->record_time_ms = rt > w->end_ms ? w->end_ms : rt;
	}
	rec->tz_offset_min = 540; /* Japan: EDIFACT times carry no zone */
}

int hw_workload_next(struct hw_workload *w, uint8_t *buf, size_t cap, struct hw_work_item *it)
{
	if (w->drawn >= w->count)
		return HW_ERANGE;
	advance_clock(w);
	struct msg *m = &w->m;
	m->txt_used = 0;
	m->event_ms = 0;
	m->kind = NULL;
	tos__v1__record__init(&m->rec);
	tos__v1__source__init(&m->src);
	m->rec.schema_version = 1;
	make_record_id(w, m->id);
	struct term *t = pick_tenant(w);
	int expect = 0;
	if (w->p->poison && chance(&w->rng, WL_POISON_PERMILLE))
		expect = hw__poison(w, t);
	else
		draw(w, t);
	envelope(w, t);
	w->drawn++;
	size_t len = tos__v1__record__get_packed_size(&m->rec);
	HW_ASSERT(len <= HW_RECORD_BYTES_MAX && m->kind);
	if (len > cap)
		return HW_ERANGE;
	size_t packed = tos__v1__record__pack(&m->rec, buf);
	HW_ASSERT(packed == len);
	if (!expect) {
		memcpy(w->last_good_id, m->id, sizeof(m->id));
		w->have_good = true;
	}
	it->len = len;
	it->expect = expect;
	it->kind = m->kind;
	return 0;
}

static void term_init(struct hw_workload *w, struct term *t, const struct tenant_def *def)
{
	t->def = def;
	/* Counters start at a seed-derived offset, so runs with other seeds into one store
	 * do not reuse visit, work instruction, truck or interchange ids. */
	t->visit_seq = below(&w->rng, 9000000);
	t->wi_seq = below(&w->rng, 900000000);
	t->tv_seq = below(&w->rng, 9000000);
	t->edi_seq = below(&w->rng, 90000000);
	if (w->lane != 0) {
		/* A lane's ids start in a range of their own (wider than any run). */
		t->visit_seq = w->lane * 10000000u;
		t->wi_seq = (uint64_t)w->lane * 1000000000u;
		t->tv_seq = w->lane * 10000000u;
		t->edi_seq = (uint64_t)w->lane * 100000000u;
	}
	for (uint32_t b = 0; b < WL_BLOCKS; b++) {
		char *p = t->blocks[b];
		if (w->lane != 0) { /* yard blocks of a lane: "<lane, 2 letters><letter><digit>" */
			*p++ = (char)('A' + w->lane / 26u);
			*p++ = (char)('A' + w->lane % 26u);
		}
		*p++ = def->block_letter;
		*p++ = (char)('1' + b);
		*p = '\0';
	}
	for (uint32_t i = 0; i < WL_BOXES_MAX; i++)
		t->free_stack[i] = WL_BOXES_MAX - 1 - i;
	t->n_free = WL_BOXES_MAX;
}

/* Synthetic owner codes (3 letters + U), unique, so container numbers never collide. A
 * lane's owners are its own: (lane, i) maps one to one onto the 26^3 codes (7919 is prime
 * to 26^3), so no two lanes ever share a container number. */
static void make_owners(struct hw_workload *w)
{
	_Static_assert(HW_WORKLOAD_LANES_MAX * WL_OWNERS <= 26u * 26u * 26u, "owners per lane");
	for (uint32_t i = 0; w->lane != 0 && i < WL_OWNERS; i++) {
		uint32_t code = (w->lane * WL_OWNERS + i) * 7919u % (26u * 26u * 26u);
		w->owners[i][0] = (char)('A' + code / 676u);
		w->owners[i][1] = (char)('A' + code / 26u % 26u);
		w->owners[i][2] = (char)('A' + code % 26u);
		w->owners[i][3] = 'U';
		w->owners[i][4] = '\0';
		w->owner_serial[i] = below(&w->rng, 1000000);
	}
	for (uint32_t i = 0; w->lane == 0 && i < WL_OWNERS; i++) {
		bool dup;
		do {
			for (int k = 0; k < 3; k++)
				w->owners[i][k] = (char)('A' + below(&w->rng, 26));
			w->owners[i][3] = 'U';
			w->owners[i][4] = '\0';
			dup = false;
			for (uint32_t j = 0; j < i; j++)
				dup = dup || !memcmp(w->owners[i], w->owners[j], 4);
		} while (dup);
		w->owner_serial[i] = below(&w->rng, 1000000);
	}
}

static void clock_init(struct hw_workload *w, int64_t end_ms)
{
	uint64_t span = w->count * 1000u / w->p->rate_per_s;
	if ((uint64_t)(end_ms - HW_TIME_MIN_MS) < span)
		span = (uint64_t)(end_ms - HW_TIME_MIN_MS);
	w->end_ms = end_ms;
	w->now_ms = end_ms - (int64_t)span;
	if (w->count) {
		w->step_ms = (int64_t)(span / w->count);
		w->step_rem = span % w->count;
	}
}

/* The profile called name, or NULL. */
static const struct profile *profile_find(const char *name)
{
	for (size_t i = 0; i < N_PROFILES; i++)
		if (!strcmp(profile_names[i], name))
			return &profiles[i];
	return NULL;
}

int hw_workload_new(const struct hw_workload_opts *o, struct hw_workload **out)
{
	*out = NULL;
	const struct profile *p = profile_find(o->profile ? o->profile : "terminal_peak");
	if (!p || o->end_ms < HW_TIME_MIN_MS || o->lane > HW_WORKLOAD_LANES_MAX)
		return HW_ERANGE;
	struct hw_workload *w = calloc(1, sizeof(*w) + p->n_tenants * sizeof(struct term));
	if (!w)
		return HW_ENOMEM;
	w->p = p;
	hw_xoshiro_seed(w->rng.s, o->seed);
	w->count = o->count;
	w->lane = o->lane;
	clock_init(w, o->end_ms);
	make_owners(w);
	w->n_terms = p->n_tenants;
	for (uint32_t i = 0; i < p->n_tenants; i++) {
		term_init(w, &w->terms[i], &p->tenants[i]);
		w->weight_sum += p->tenants[i].weight;
	}
	for (int c = 0; c < C_COUNT; c++)
		w->mix_sum += p->mix[c];
	*out = w;
	return 0;
}

void hw_workload_free(struct hw_workload *w)
{
	free(w);
}

const char *const *hw_workload_profiles(void)
{
	return profile_names;
}

bool hw_workload_profile_known(const char *name)
{
	return profile_find(name) != NULL;
}
