/* workload_records.c: the generator's records other than moves (reefer readings, holds,
 * customs, VGM, inspections, pre-advice, gate, EDI, audit, key/value) and the poison
 * variants the store must refuse (docs/rules.md; tos-domain.md §8). Split from
 * workload.c, whose model it reads and changes through bench/workload_int.h. */
#include "bench/workload_int.h"

#include <string.h>

#include "base/assert.h"
#include "hawser_error.h"
#include "replica/iso6346.h"

/* ---------------------------------------------------------------- other records */

static bool emit_reefer(struct hw_workload *w, struct term *t)
{
	int32_t bi = hw__list_pick(w, t, L_REEFER);
	if (bi < 0)
		return false;
	struct msg *m = &w->m;
	struct box *b = &t->boxes[bi];
	Tos__V1__ReeferReading *rr = &m->rr;
	tos__v1__reefer_reading__init(rr);
	rr->container_id = b->id;
	rr->setpoint_decic = b->setpoint;
	rr->supply_decic = b->setpoint + (int32_t)between(&w->rng, 0, 20) - 10;
	rr->return_decic = b->setpoint + (int32_t)between(&w->rng, 10, 40);
	rr->humidity_pct = between(&w->rng, 60, 95);
	rr->plugged = 1;
	if (chance(&w->rng, 20)) {
		m->alarms[0] = chance(&w->rng, 500) ? "HIGH_SUPPLY_TEMP" : "DEFROST_TIMEOUT";
		rr->n_alarms = 1;
		rr->alarms = m->alarms;
	}
	bool manual = chance(&w->rng, 50);
	rr->source = manual ? "MANUAL" : "RMS";
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_REEFER;
	m->rec.reefer = rr;
	m->kind = "reefer";
	hw__set_source(w, "RMS",
		       manual ? "HHT07"
			      : hw__txt(m, "RMS-%s-R%03u",
					b->st == B_YARD ? t->blocks[b->at.block] : "SHIP",
					b->ref % 200));
	return true;
}

static void hold_record(struct hw_workload *w, struct box *b, int hold, int action)
{
	static const char *const auth[] = {"",        "NGO CUSTOMS", "LINE",    "TERMINAL",
					   "DG DESK", "TERMINAL",    "BILLING", "MAFF"};
	static const char *const why[] = {"",
					  "document check",
					  "freight unpaid",
					  "damage survey",
					  "DG segregation",
					  "no VERMAS",
					  "storage charges",
					  "plant quarantine"};
	struct msg *m = &w->m;
	Tos__V1__HoldEvent *h = &m->hold;
	tos__v1__hold_event__init(h);
	h->container_id = b->id;
	h->hold = (Tos__V1__HoldType)hold;
	h->action = (Tos__V1__HoldAction)action;
	h->authority = (char *)auth[hold];
	h->reference = hw__txt(m, "H%u%08u", hold, b->ref % 100000000u);
	h->reason = (char *)why[hold];
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_HOLD;
	m->rec.hold = h;
	m->rec.entity_version = ++b->ver;
	m->kind = "hold";
	hw__set_source(w, hold == TOS__V1__HOLD_TYPE__CUSTOMS_HOLD ? "NACCS" : "TOS", "HOLDDESK");
}

/* Release an active hold, or apply one to an idle yard box (never to a box being moved:
 * a load or gate-out in flight must not meet a new hold). */
static bool emit_hold(struct hw_workload *w, struct term *t)
{
	struct ilist *held = &t->lists[L_HELD];
	if (held->n && (held->n > 40 || chance(&w->rng, 550))) {
		uint32_t bi = held->v[below(&w->rng, held->n)];
		struct box *b = &t->boxes[bi];
		int h = 1;
		while (!(b->holds & (1u << h)))
			h++;
		b->holds = (uint8_t)(b->holds & ~(1u << h));
		if (!b->holds)
			hw__list_del(t, L_HELD, bi);
		hold_record(w, b, h, TOS__V1__HOLD_ACTION__RELEASE);
		return true;
	}
	int32_t bi = hw__yard_probe(w, t, hw__idle_box, 8);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	uint32_t r = below(&w->rng, 100);
	int h = r < 40   ? TOS__V1__HOLD_TYPE__CUSTOMS_HOLD
		: r < 65 ? TOS__V1__HOLD_TYPE__LINE_HOLD
		: r < 80 ? TOS__V1__HOLD_TYPE__TERMINAL_HOLD
		: r < 88 ? TOS__V1__HOLD_TYPE__PAYMENT
		: r < 93 ? TOS__V1__HOLD_TYPE__QUARANTINE
			 : TOS__V1__HOLD_TYPE__DG_HOLD;
	if (hw__needs_vgm(b) && r < 50)
		h = TOS__V1__HOLD_TYPE__VGM_MISSING;
	if (b->holds & (1u << h))
		return false;
	if (!b->holds)
		hw__list_add(t, L_HELD, (uint32_t)bi);
	b->holds = (uint8_t)(b->holds | (1u << h));
	hold_record(w, b, h, TOS__V1__HOLD_ACTION__APPLY);
	return true;
}

static bool emit_customs(struct hw_workload *w, struct term *t)
{
	int32_t bi = hw__yard_probe(w, t, hw__customs_open, 8);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	int next;
	if (b->customs == TOS__V1__CUSTOMS_STATE__CS_UNSPECIFIED)
		next = TOS__V1__CUSTOMS_STATE__DECLARED;
	else if (b->dir == DIR_EXPORT)
		next = TOS__V1__CUSTOMS_STATE__EXPORT_PERMITTED;
	else if (b->customs == TOS__V1__CUSTOMS_STATE__DECLARED && chance(&w->rng, 150))
		next = chance(&w->rng, 650) ? TOS__V1__CUSTOMS_STATE__SELECTED_SCAN
					    : TOS__V1__CUSTOMS_STATE__SELECTED_INSPECT;
	else
		next = TOS__V1__CUSTOMS_STATE__CS_RELEASED;
	b->customs = (uint8_t)next;
	struct msg *m = &w->m;
	Tos__V1__CustomsStatus *c = &m->cus;
	tos__v1__customs_status__init(c);
	c->container_id = b->id;
	c->state = (Tos__V1__CustomsState)next;
	c->declaration_no = hw__txt(m, "%03u%09u", 100 + b->line, b->ref);
	c->system = "NACCS";
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_CUSTOMS;
	m->rec.customs = c;
	m->rec.entity_version = ++b->ver;
	m->kind = "customs";
	hw__set_source(w, "NACCS", "NACCS-GW");
	return true;
}

/* VERMAS for a full export box in the yard (only there: a declaration made while the box
 * is merely advised could be cleared by the store when the visit starts). */
static bool emit_vgm(struct hw_workload *w, struct term *t)
{
	int32_t bi = hw__yard_probe(w, t, hw__needs_vgm, 16);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct msg *m = &w->m;
	uint32_t vgm = b->gross + between(&w->rng, 0, 400) - 200;
	if (vgm < b->tare + 100)
		vgm = b->tare + 100;
	if (vgm > HW_GROSS_KG_MAX)
		vgm = HW_GROSS_KG_MAX;
	if (b->max_gross != 0 && vgm > b->max_gross)
		vgm = b->max_gross; /* a VGM above the CSC plate is refused (rule 13) */
	b->vgm = 1;
	Tos__V1__VgmDeclaration *v = &m->vgm;
	tos__v1__vgm_declaration__init(v);
	v->container_id = b->id;
	v->vgm_kg = vgm;
	v->method = chance(&w->rng, 600) ? TOS__V1__VGM_METHOD__SM1 : TOS__V1__VGM_METHOD__SM2;
	v->weighed_at_ms = w->now_ms - (int64_t)below(&w->rng, 86400000u);
	v->responsible_party = hw__txt(m, "SHIPPER %s %04u", ports[b->port], b->ref % 10000u);
	v->booking_no = hw__txt(m, "%s%09u", lines[b->line], b->ref);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VGM;
	m->rec.vgm = v;
	m->rec.entity_version = ++b->ver;
	m->kind = "vgm";
	hw__set_source(w, "EDI", "VERMAS");
	m->src.edi_interchange_ref = hw__txt(m, "VM%010u", b->ref);
	return true;
}

static bool emit_inspect(struct hw_workload *w, struct term *t)
{
	int32_t bi = hw__yard_probe(w, t, hw__any_box, 1);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct msg *m = &w->m;
	hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__INSPECT, NULL, NULL, NULL);
	uint32_t n = w->p->small ? 1 : between(&w->rng, 1, 24);
	for (uint32_t i = 0; i < n; i++)
		m->damage[i] = hw__txt(m, "%s/%s/%02u", damage_kinds[below(&w->rng, 8)],
				       damage_parts[below(&w->rng, 8)], between(&w->rng, 1, 40));
	m->ue.n_damage_codes = n;
	m->ue.damage_codes = m->damage;
	return true;
}

/* PREADVISE from a COPRAR/BAPLIE line (an import on a visit still to be discharged) or a
 * COPARN booking (an export that will come by truck). */
static bool emit_preadvise(struct hw_workload *w, struct term *t)
{
	uint8_t dir = chance(&w->rng, 500) ? DIR_IMPORT : DIR_EXPORT;
	int s = -1;
	if (dir == DIR_IMPORT) {
		s = hw__visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_CREATED,
				       TOS__V1__VISIT_PHASE__VP_WORKING);
		struct visit *v = s >= 0 ? &t->visits[s] : NULL;
		if (!v || v->dsch_started + v->advised >= v->plan_dsch)
			dir = DIR_EXPORT;
	}
	if (t->advised[dir] >= WL_ADVISED_MAX)
		return false;
	int32_t bi = hw__box_new(w, t, dir);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	b->st = B_ADVISED;
	if (dir == DIR_IMPORT) {
		b->vessel = (uint8_t)s;
		t->visits[s].advised++;
	}
	t->advised[dir]++;
	hw__list_add(t, L_CAND, (uint32_t)bi);
	hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__PREADVISE, NULL, NULL, NULL);
	w->m.src.system = "EDI";
	w->m.src.device_id = dir == DIR_IMPORT ? "COPRAR" : "COPARN";
	w->m.src.edi_interchange_ref =
		hw__txt(&w->m, "%s%08llu", t->def->code, (unsigned long long)t->edi_seq);
	return true;
}

/* Fill a new truck visit's container list: imports to deliver, advised exports to
 * receive, or both (a dual transaction). */
static void truck_fill(struct hw_workload *w, struct term *t, struct truck *tr)
{
	uint32_t r = below(&w->rng, 100);
	tr->tx = r < 45   ? TOS__V1__GATE_TX_TYPE__DELIVER_IMPORT
		 : r < 85 ? TOS__V1__GATE_TX_TYPE__RECEIVE_EXPORT
		 : r < 92 ? TOS__V1__GATE_TX_TYPE__DUAL
			  : TOS__V1__GATE_TX_TYPE__RECEIVE_EMPTY;
	uint32_t want = chance(&w->rng, 300) ? between(&w->rng, 2, 4) : 1;
	tr->n = 0;
	for (uint32_t k = 0; k < want; k++) {
		bool imp = tr->tx == TOS__V1__GATE_TX_TYPE__DELIVER_IMPORT ||
			   (tr->tx == TOS__V1__GATE_TX_TYPE__DUAL && k == 0);
		int32_t bi = imp ? hw__yard_probe(w, t, hw__import_ready, 4)
				 : hw__list_pick(w, t, L_CAND);
		if (bi < 0)
			bi = hw__list_pick(w, t, L_YARD);
		if (bi < 0)
			break;
		memcpy(tr->ids[tr->n++], t->boxes[bi].id, 12);
	}
}

static bool emit_gate(struct hw_workload *w, struct term *t)
{
	struct msg *m = &w->m;
	struct truck *tr;
	if (t->n_trucks && (t->n_trucks == WL_TRUCKS_MAX || chance(&w->rng, 700))) {
		tr = &t->trucks[below(&w->rng, t->n_trucks)];
		if (tr->stage == TOS__V1__GATE_STAGE__IN_GATE && chance(&w->rng, 150))
			tr->stage = TOS__V1__GATE_STAGE__TROUBLE;
		else
			tr->stage = tr->stage == TOS__V1__GATE_STAGE__PRE_GATE
					    ? TOS__V1__GATE_STAGE__IN_GATE
					    : TOS__V1__GATE_STAGE__OUT_GATE;
	} else {
		tr = &t->trucks[t->n_trucks];
		memset(tr, 0, sizeof(*tr));
		truck_fill(w, t, tr);
		if (tr->n == 0)
			return false;
		t->n_trucks++;
		tr->no = ++t->tv_seq;
		tr->stage = TOS__V1__GATE_STAGE__PRE_GATE;
		tr->lane = (uint8_t)between(&w->rng, 1, 12);
		tr->plate = (uint16_t)between(&w->rng, 1000, 9999);
		tr->appt = below(&w->rng, 100000000u);
	}
	Tos__V1__GateTransaction *g = &m->gate;
	tos__v1__gate_transaction__init(g);
	g->truck_visit_id = hw__txt(m, "TV%s%07u", t->def->code, (unsigned)tr->no);
	g->lane = hw__txt(m, "L%02u", tr->lane);
	g->plate = hw__txt(m, "NAGOYA 100 A %u", tr->plate);
	g->trucking_co = "MEIKO TRANSPORT";
	for (int i = 0; i < 32; i++)
		m->bin[i] = (uint8_t)((tr->appt * 2654435761u >> (i % 4 * 8)) ^ (uint32_t)i);
	g->driver_id_hash.data = m->bin;
	g->driver_id_hash.len = 32;
	g->appointment_id = hw__txt(m, "APT%08u", tr->appt);
	g->tx = (Tos__V1__GateTxType)tr->tx;
	g->stage = (Tos__V1__GateStage)tr->stage;
	g->ocr_confidence_pct = between(&w->rng, 85, 100);
	for (uint32_t i = 0; i < tr->n; i++)
		m->cids[i] = hw__txt(m, "%s", tr->ids[i]); /* the truck may be removed below */
	g->n_container_ids = tr->n;
	g->container_ids = m->cids;
	if (tr->stage == TOS__V1__GATE_STAGE__TROUBLE || (!w->p->small && chance(&w->rng, 250)))
		g->trouble_reason = hw__long_text(w, trouble_phrases, 7, w->p->small ? 40 : 300,
						  w->p->small ? 80 : 500);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_GATE;
	m->rec.gate = g;
	m->rec.entity_version = tr->stage;
	m->kind = "gate";
	hw__set_source(w, tr->stage == TOS__V1__GATE_STAGE__PRE_GATE ? "OCR" : "TOS", g->lane);
	if (tr->stage == TOS__V1__GATE_STAGE__OUT_GATE)
		*tr = t->trucks[--t->n_trucks];
	return true;
}

static void edi_errors(struct hw_workload *w, struct term *t, Tos__V1__EdiIngest *e)
{
	struct msg *m = &w->m;
	uint32_t n = between(&w->rng, 8, 44);
	for (uint32_t i = 0; i < n; i++) {
		int32_t bi = hw__list_pick(w, t, L_YARD);
		const char *id = bi >= 0 ? t->boxes[bi].id : "MSCU1234565";
		m->errors[i] =
			hw__txt(m,
				"line %u: EQD+CN+%s+45G1:102:5+2+5' LOC+147+%07u::5' "
				"LOC+9+%s:139:6' LOC+11+JPNGO:139:6' MEA+AAE+VGM+KGM:%u' "
				"rejected: %s",
				between(&w->rng, 10, 60000), id, below(&w->rng, 1000000),
				ports[below(&w->rng, N_PORTS)], between(&w->rng, 2000, 30000),
				edi_reasons[below(&w->rng, N_EDI_REASONS)]);
	}
	e->n_errors = n;
	e->errors = m->errors;
	e->lines_rejected = n;
}

/* Summary of one EDI interchange; every 45 minutes or so a BAPLIE/COPRAR of 4,000-6,000
 * lines (tos-domain.md §7 terminal_peak); a third come with an error list of 2-16 KiB. */
static bool emit_edi(struct hw_workload *w, struct term *t)
{
	static const char *const versions[] = {"D:95B", "D:95B", "D:95B", "D:00B", "D:16A"};
	struct msg *m = &w->m;
	Tos__V1__EdiIngest *e = &m->edi;
	tos__v1__edi_ingest__init(e);
	uint32_t ty = below(&w->rng, 7);
	e->msg_type = (char *)edi_types[ty];
	e->version = (char *)versions[below(&w->rng, 5)];
	t->edi_seq++;
	e->interchange_ref = hw__txt(m, "%s%08llu", t->def->code, (unsigned long long)t->edi_seq);
	e->sender = (char *)lines[below(&w->rng, N_LINES)];
	for (int i = 0; i < 32; i++)
		m->bin[i] = (uint8_t)rnd(&w->rng);
	e->raw_sha256.data = m->bin;
	e->raw_sha256.len = 32;
	bool burst = ty <= 1 && chance(&w->rng, 300);
	e->lines_ok = burst ? between(&w->rng, 4000, 6000) : between(&w->rng, 1, 200);
	e->raw_size = (uint64_t)e->lines_ok * between(&w->rng, 110, 160);
	e->raw_object_ref =
		hw__txt(m, "edi/%s/%08llu", t->def->code, (unsigned long long)t->edi_seq);
	if (!w->p->small && chance(&w->rng, 330))
		edi_errors(w, t, e);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_EDI;
	m->rec.edi = e;
	m->kind = "edi";
	hw__set_source(w, "EDI", "EDIGW01");
	m->src.edi_interchange_ref = e->interchange_ref;
	return true;
}

static void audit_record(struct hw_workload *w, const char *action, const char *detail)
{
	struct msg *m = &w->m;
	Tos__V1__AuditEvent *a = &m->au;
	tos__v1__audit_event__init(a);
	uint32_t who = between(&w->rng, 1, 40);
	a->actor = hw__txt(m, "ops%02u", who);
	a->action = (char *)action;
	a->target = hw__txt(m, "n4-app-%02u", between(&w->rng, 1, 4));
	a->src_addr = hw__txt(m, "10.%u.%u.%u", between(&w->rng, 1, 20), below(&w->rng, 256),
			      between(&w->rng, 1, 254));
	a->success = !chance(&w->rng, 50);
	a->detail = (char *)detail;
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_AUDIT;
	m->rec.audit = a;
	m->kind = "audit";
	hw__set_source(w, "TOS", "AUDIT");
	m->src.user_id = a->actor;
}

static bool emit_audit(struct hw_workload *w, struct term *t)
{
	(void)t;
	const char *action = audit_actions[below(&w->rng, 7)];
	const char *detail;
	if (!w->p->small && chance(&w->rng, 400))
		detail = hw__long_text(w, audit_phrases, 8, 250, 500);
	else
		detail = audit_phrases[below(&w->rng, 8)];
	audit_record(w, action, detail);
	return true;
}

static bool emit_kv(struct hw_workload *w, struct term *t)
{
	struct msg *m = &w->m;
	uint32_t k = below(&w->rng, WL_KV_KEYS);
	char *key = w->lane ? hw__txt(m, "tos/%s/%u/param/%02u", t->def->code, w->lane, k)
			    : hw__txt(m, "tos/%s/param/%02u", t->def->code, k);
	if (t->kv_live[k] && chance(&w->rng, 300)) {
		t->kv_live[k] = 0;
		tos__v1__kv_delete__init(&m->kd);
		m->kd.key = key;
		m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_DELETE;
		m->rec.kv_delete = &m->kd;
		m->kind = "kv_delete";
	} else {
		t->kv_live[k] = 1;
		tos__v1__kv_put__init(&m->kp);
		m->kp.key = key;
		uint32_t n = between(&w->rng, 16, sizeof(m->bin));
		for (uint32_t i = 0; i < n; i++)
			m->bin[i] = (uint8_t)rnd(&w->rng);
		m->kp.value.data = m->bin;
		m->kp.value.len = n;
		m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
		m->rec.kv_put = &m->kp;
		m->kind = "kv_put";
	}
	hw__set_source(w, "TOS", "CONFIG");
	return true;
}

static bool emit_vessel(struct hw_workload *w, struct term *t)
{
	return hw__vessel_due(w, t, true);
}

bool hw__emit_cat(struct hw_workload *w, struct term *t, int c)
{
	switch (c) {
	case C_MOVE:
		return hw__emit_move(w, t);
	case C_REEFER:
		return emit_reefer(w, t);
	case C_GATE:
		return emit_gate(w, t);
	case C_HOLD:
		return emit_hold(w, t);
	case C_CUSTOMS:
		return emit_customs(w, t);
	case C_EDI:
		return emit_edi(w, t);
	case C_PREADVISE:
		return emit_preadvise(w, t);
	case C_AUDIT:
		return emit_audit(w, t);
	case C_KV:
		return emit_kv(w, t);
	case C_VGM:
		return emit_vgm(w, t);
	case C_INSPECT:
		return emit_inspect(w, t);
	default:
		return emit_vessel(w, t);
	}
}

/* ---------------------------------------------------------------- poison (§8) */

enum {
	P_CHECK,
	P_LOWER,
	P_SIZE,
	P_WEIGHT,
	P_TIME,
	P_LIFECYCLE,
	P_HOLD_ACTIVE,
	P_POS,
	P_NOT_APPLIED,
	P_DUP_VISIT,
	P_SLOT,
	P_IDEM,
	P_SCHEMA,
	P_UTF8,
	P_COUNT
};

/* A LOADED box on a visit still ARRIVED or WORKING, or -1. */
static int32_t loaded_box(struct hw_workload *w, struct term *t)
{
	uint32_t i0 = below(&w->rng, WL_BOXES_MAX);
	for (uint32_t k = 0; k < WL_BOXES_MAX; k++) {
		uint32_t i = (i0 + k) % WL_BOXES_MAX;
		const struct box *b = &t->boxes[i];
		if (b->st == B_LOADED &&
		    t->visits[b->vessel].phase >= TOS__V1__VISIT_PHASE__VP_ARRIVED &&
		    t->visits[b->vessel].phase <= TOS__V1__VISIT_PHASE__VP_WORKING)
			return (int32_t)i;
	}
	return -1;
}

/* Records whose fault is in the container itself or its equipment: each breaks exactly
 * one rule, the one in expect, and names an existing yard box otherwise. */
static int poison_box(struct hw_workload *w, struct term *t, int kind, struct box *b)
{
	struct msg *m = &w->m;
	char *id;
	switch (kind) {
	case P_CHECK:
		id = hw__txt(m, "%s", b->id);
		id[10] = (char)('0' + (id[10] - '0' + (int)between(&w->rng, 1, 9)) % 10);
		tos__v1__customs_status__init(&m->cus);
		m->cus.container_id = id;
		m->cus.state = TOS__V1__CUSTOMS_STATE__DECLARED;
		m->cus.system = "NACCS";
		m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_CUSTOMS;
		m->rec.customs = &m->cus;
		m->kind = "customs";
		hw__set_source(w, "NACCS", "NACCS-GW");
		return HW_ECHECK_DIGIT;
	case P_LOWER:
		id = hw__txt(m, "%s", b->id);
		for (int i = 0; i < 4; i++)
			id[i] = (char)(id[i] - 'A' + 'a');
		hold_record(w, b, TOS__V1__HOLD_TYPE__LINE_HOLD, TOS__V1__HOLD_ACTION__APPLY);
		m->hold.container_id = id;
		return HW_ECONTAINER_ID;
	case P_SIZE:
		hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__INSPECT, NULL, NULL, NULL);
		m->eq.iso_size_type = "99X9";
		m->ue.reefer = NULL; /* a set-point would need a known reefer type */
		return HW_ESIZE_TYPE;
	case P_WEIGHT:
		hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__INSPECT, NULL, NULL, NULL);
		m->ue.gross_kg = b->tare - 500;
		return HW_EWEIGHT;
	default:
		return 0;
	}
}

/* Records whose fault is the move or hold against the terminal's state. */
static int poison_state(struct hw_workload *w, struct term *t, int kind, struct box *b)
{
	struct place p, q;
	const struct place truck = {.kind = PL_TRUCK, .truck = (uint32_t)t->tv_seq + 1};
	int h = 1;
	switch (kind) {
	case P_HOLD_ACTIVE:
		if (!b->holds)
			return 0;
		hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__GATE_OUT, &b->at, &truck, NULL);
		return HW_EHOLD_ACTIVE;
	case P_POS:
		if (!hw__slot_find(w, t, b->cls, &q))
			return 0;
		p = b->at;
		p.row = (uint8_t)(p.row % WL_ROWS + 1);
		hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE, &p, &q, NULL);
		return HW_EPOS_MISMATCH;
	case P_NOT_APPLIED:
		while (h < TOS__V1__HOLD_TYPE__QUARANTINE && (b->holds & (1u << h)))
			h++;
		if (b->holds & (1u << h))
			return 0;
		hold_record(w, b, h, TOS__V1__HOLD_ACTION__RELEASE);
		return HW_EHOLD_NOT_APPLIED;
	case P_DUP_VISIT:
		if (!hw__slot_find(w, t, b->cls, &q))
			return 0;
		hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__GATE_IN, &truck, &q, NULL);
		return HW_EDUP_VISIT;
	case P_SLOT:
		for (int i = 0; i < 16; i++) {
			int32_t o = hw__list_pick(w, t, L_YARD);
			const struct box *ob = &t->boxes[o];
			if (ob == b || ob->cls != b->cls)
				continue;
			hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE, &b->at,
				       &ob->at, NULL);
			return HW_ESLOT_OCCUPIED;
		}
		return 0;
	default:
		return 0;
	}
}

/* A second LOAD of a box already on board: it is LOADED, not in the yard. */
static int poison_load(struct hw_workload *w, struct term *t)
{
	int32_t bi = loaded_box(w, t);
	if (bi < 0)
		return 0;
	struct box *b = &t->boxes[bi];
	struct place from;
	if (!hw__slot_find(w, t, b->cls, &from))
		return 0;
	struct visit *v = &t->visits[b->vessel];
	struct place to = hw__vessel_cell(b->vessel, b->cls, v->cells[b->cls != CLS_20]);
	uint32_t ver = b->ver;
	hw__unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__LOAD, &from, &to, NULL);
	b->ver = ver;
	return HW_ELIFECYCLE;
}

static int poison_other(struct hw_workload *w, struct term *t, int kind)
{
	struct msg *m = &w->m;
	switch (kind) {
	case P_TIME:
		if (!emit_reefer(w, t))
			audit_record(w, "LOGIN", "clock of the terminal ran ahead");
		m->event_ms = w->end_ms + 86400000;
		return HW_ETIME;
	case P_LIFECYCLE:
		return poison_load(w, t);
	case P_IDEM:
		if (!w->have_good)
			return 0;
		audit_record(w, "REPLAY", "record sent again with other content");
		memcpy(m->id, w->last_good_id, sizeof(m->id));
		return HW_EIDEMPOTENCY;
	case P_SCHEMA:
		audit_record(w, "LOGIN", "client of a newer schema");
		m->rec.schema_version = 2;
		return HW_ESCHEMA;
	default:
		audit_record(w, "LOGIN", "user name from a legacy terminal: \xC3\x28 garbled");
		return HW_EUTF8;
	}
}

/* Build one bad record of a random kind (falling through to kinds that are possible
 * now), leaving the model as it was apart from entity versions. */
int hw__poison(struct hw_workload *w, struct term *t)
{
	uint32_t k0 = below(&w->rng, P_COUNT);
	for (uint32_t i = 0; i < P_COUNT; i++) {
		int kind = (int)((k0 + i) % P_COUNT);
		int code;
		w->m.txt_used = 0;
		if (kind <= P_WEIGHT || (kind >= P_HOLD_ACTIVE && kind <= P_SLOT)) {
			int32_t bi = kind == P_HOLD_ACTIVE ? hw__list_pick(w, t, L_HELD)
							   : hw__list_pick(w, t, L_YARD);
			if (bi < 0)
				continue;
			struct box *b = &t->boxes[bi];
			uint32_t ver = b->ver;
			code = kind <= P_WEIGHT ? poison_box(w, t, kind, b)
						: poison_state(w, t, kind, b);
			b->ver = ver;
		} else {
			code = poison_other(w, t, kind);
		}
		if (code)
			return code;
	}
	HW_ASSERT(!"the UTF-8 poison is always possible");
	return 0;
}
