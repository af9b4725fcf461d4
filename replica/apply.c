/* apply.c: the deterministic apply step (replica/apply.h): the state rules of
 * docs/rules.md "State rules", and the changes an accepted record makes to the state
 * tables (encodings at the top of replica/state.c).
 *
 * Every handler reads and checks first, then writes, so a refused record writes nothing
 * and the write transaction can carry on with the next record. Nothing here reads a
 * clock or anything outside the transaction: the same log gives the same tables.
 *
 * Replay (c->replay): an entry a primary accepted is applied again by a standby, a
 * restore or a rebuild. The rules store format 4 added (a place is its facility's, a
 * hold is released by its tenant, a box longer than 20' takes two slots, its length and
 * its fill do not change where it stands), and the ones added after it (docs/rules.md
 * "Replay"), are checked where a record is submitted, not where an entry is replayed: an
 * entry that passed them has the same effects either way, and a log written under
 * earlier rules (an older primary's, a store being migrated) still replays, with their
 * outcome. */
#include "replica/apply.h"

#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/reject.h"
#include "hawser_limits.h"
#include "replica/state.h"
#include "replica/state_int.h"
#include "replica/validate.h"

#define TS(name) TOS__V1__TRANSIT_STATE__##name
#define UE(name) TOS__V1__UNIT_EVENT_TYPE__##name

/* Whether d names v: protobuf-c keeps an unknown enum number as it came, and a number
 * the apply step stores must be one the state's readers can name. */
static bool enum_known(const ProtobufCEnumDescriptor *d, int v)
{
	return protobuf_c_enum_descriptor_get_value(d, v) != NULL;
}

/* What a unit event will do, worked out before anything is written. */
struct ue_plan {
	const char *facility;    /* the record's: its places are this facility's */
	bool replay;             /* c->replay: format 4's rules are not checked again */
	struct hw_container box; /* the container as it will be stored */
	bool box_found;          /* c->boxes is on it: box_put() overwrites it there */
	size_t id_len;
	unsigned n_free; /* slots the box leaves */
	char free_keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES];
	unsigned n_take; /* slots the box takes */
	char take_keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES];
};

/* Read container id into *box, or start a fresh one when the store never saw it, and
 * apply the per-container time rule [26]. box->holds is left 0: the rules that need the
 * holds read them with box_holds(). *found says whether the box was read, which leaves
 * c->boxes on it, so that box_put() overwrites it there (MDB_CURRENT) instead of walking
 * the tree a second time. For a payload without Equipment (iso_if_new) a number that is
 * not ISO 6346 must name a box the store knows: only a unit event with non_iso_id makes
 * one known (validate.c check_box_ref). */
static int box_begin(const struct hw_apply_ctx *c, const Tos__V1__Record *rec, const char *id,
		     const char *field, bool iso_if_new, struct hw_container *box, bool *found,
		     struct hw_reject *rej)
{
	size_t id_len = id != NULL ? strlen(id) : 0;
	if (id_len == 0)
		return hw_reject_set(rej, HW_EMISSING, field, "container number is required");
	if (id_len > HW_CONTAINER_ID_BYTES_MAX)
		return hw_reject_set(rej, HW_ECONTAINER_ID, field, "container number too long");
	int rc = hw__container_read(c->boxes, id, id_len, box);
	*found = rc == 0;
	if (rc == HW_ENOTFOUND && iso_if_new) {
		rc = hw_validate_container_id(id, false, field, rej);
		if (rc != 0)
			return rc;
		rc = HW_ENOTFOUND;
	}
	if (rc == HW_ENOTFOUND) {
		memset(box, 0, sizeof *box);
		memcpy(box->id, id, id_len);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (rec->event_time_ms < box->last_event_ms)
		return hw_reject_set(rej, HW_ETIME, "event_time_ms",
				     "%s: event time %lld before its last recorded %lld", box->id,
				     (long long)rec->event_time_ms, (long long)box->last_event_ms);
	return 0;
}

/* Stamp box with the record that touched it and store it where box_begin() read it;
 * found is what box_begin() said, and nothing may have moved c->boxes since. */
static int box_put(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
		   struct hw_container *box, bool found)
{
	uint8_t buf[HW_CONTAINER_VALUE_BYTES_MAX];
	box->last_event_ms = rec->event_time_ms;
	box->last_lsn = c->lsn;
	size_t len = hw__container_encode(box, buf);
	MDB_val k = hw_mdb_val(box->id, strlen(box->id));
	MDB_val v = hw_mdb_val(buf, len);
	return mdb_cursor_put(c->boxes, &k, &v, found ? MDB_CURRENT : 0);
}

/* Read the box's active holds into box->holds (a range scan of the holds table). */
static int box_holds(const struct hw_apply_ctx *c, struct hw_container *box)
{
	return hw__holds_mask(c->txn, c->t, box->id, strlen(box->id), &box->holds);
}

static int box_active(const struct hw_apply_ctx *c, const struct hw_container *box, bool *active)
{
	return hw__container_active(c->txn, c->t, box, active);
}

/* The box must be on an active visit: 0, or a refusal with code naming field. */
static int need_visit(const struct hw_apply_ctx *c, const struct hw_container *box, int code,
		      const char *field, struct hw_reject *rej)
{
	bool active;
	int rc = box_active(c, box, &active);
	if (rc != 0 || active)
		return rc;
	return hw_reject_set(rej, code, field, "%s has no active visit (%s)", box->id,
			     hw_transit_state_name(box->state));
}

/* A new facility visit: counted, and the last visit's VGM no longer holds. */
static void new_visit(struct hw_container *box)
{
	box->visits++;
	box->vgm_kg = 0;
}

/* Equipment data a unit event carries updates the box; 0 and "" mean "not given". */
static void merge_equipment(struct hw_container *box, const Tos__V1__UnitEvent *ue)
{
	const Tos__V1__Equipment *eq = ue->equipment;
	if (eq->iso_size_type != NULL && eq->iso_size_type[0] != '\0') {
		memset(box->size_type, 0, sizeof box->size_type);
		memcpy(box->size_type, eq->iso_size_type, strnlen(eq->iso_size_type, 4));
	}
	if (eq->full_empty != TOS__V1__FULL_EMPTY__FE_UNSPECIFIED)
		box->full_empty = (int)eq->full_empty;
	if (eq->tare_kg != 0)
		box->tare_kg = eq->tare_kg;
	if (eq->max_gross_kg != 0)
		box->max_gross_kg = eq->max_gross_kg;
	if (ue->gross_kg != 0)
		box->gross_kg = ue->gross_kg;
}

/* While the terminal holds a box (in the yard, or loaded on a visit that has not
 * departed) only STUFF and STRIP change what is in it: equipment data saying otherwise
 * would let a FULL box load without its VGM [13]. A new visit may bring it either way. */
static int fill_check(const struct hw_apply_ctx *c, const struct hw_container *box,
		      const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	int fe = (int)ue->equipment->full_empty;
	if (c->replay || fe == TOS__V1__FULL_EMPTY__FE_UNSPECIFIED || fe == box->full_empty ||
	    ue->type == UE(STUFF) || ue->type == UE(STRIP))
		return 0;
	bool held = box->state == TS(EC_IN) || box->state == TS(YARD) || box->state == TS(EC_OUT);
	if (box->state == TS(LOADED)) {
		int rc = box_active(c, box, &held);
		if (rc != 0)
			return rc;
	}
	if (!held)
		return 0;
	/* A box loaded with its fill unknown took no VGM; FULL on board would skip it. */
	if (box->full_empty == 0 && box->state == TS(LOADED) &&
	    fe == TOS__V1__FULL_EMPTY__FE_FULL && box->vgm_kg == 0)
		return hw_reject_set(rej, HW_EVGM, "unit_event.equipment.full_empty",
				     "%s was loaded with its fill unknown and has no VGM for this "
				     "visit: it cannot become FULL on board",
				     box->id);
	if (box->full_empty == 0)
		return 0; /* the terminal learns what is in it */
	return hw_reject_set(rej, HW_ELIFECYCLE, "unit_event.equipment.full_empty",
			     "%s is %s while %s: only STUFF or STRIP change that", box->id,
			     box->full_empty == TOS__V1__FULL_EMPTY__FE_FULL ? "FULL" : "EMPTY",
			     hw_transit_state_name(box->state));
}

/* Bays follow the 20-foot grid, in the yard and on board [21-22]: a 20' (or 10') box
 * stands in an odd bay, a longer one in an even bay (bay 14 = bays 13 and 15). */
static bool bay_fits(unsigned ft, unsigned bay)
{
	return (ft > 20) == (bay % 2u == 0u);
}

/* A box in a vessel cell stands in a bay of its length (submit only: docs/rules.md
 * "Replay"); a box whose size is not known yet is not judged. */
static int cell_fits(const struct ue_plan *p, const Tos__V1__Location *loc, const char *field,
		     struct hw_reject *rej)
{
	if (p->replay || loc == NULL || loc->where_case != TOS__V1__LOCATION__WHERE_VESSEL ||
	    p->box.size_type[0] == '\0')
		return 0;
	unsigned ft = hw_size_type_length_ft(p->box.size_type);
	if (bay_fits(ft, loc->vessel->bay))
		return 0;
	return hw_reject_set(rej, HW_EPOSITION, field,
			     "a %u' box stands in an %s vessel bay, not %u", ft,
			     ft > 20 ? "even" : "odd", loc->vessel->bay);
}

/* A box standing in the yard or on board fits its place: the bay says one 20' slot or
 * two, so equipment data may not make it longer or shorter there; a move to a new place
 * places it by its new length [22]. Judged when the record gives a size/type: a box an
 * older primary placed otherwise (accepted on replay) still takes its other events. */
static int place_fits(const struct ue_plan *p, const Tos__V1__Equipment *eq, struct hw_reject *rej)
{
	if (p->replay || eq->iso_size_type == NULL || eq->iso_size_type[0] == '\0')
		return 0;
	char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES];
	unsigned n = hw__position_slots(p->box.position, keys);
	unsigned ft = hw_size_type_length_ft(p->box.size_type);
	unsigned bay = hw__position_vessel_bay(p->box.position);
	if (n != 0 ? (ft > 20) == (n == 2) : bay == 0 || ft == 0 || bay_fits(ft, bay))
		return 0;
	return hw_reject_set(rej, HW_EPOSITION, "unit_event.equipment.iso_size_type",
			     "%s stands at %s: a %u' box does not fit there; move it first",
			     p->box.id, p->box.position, ft);
}

/* The place part of a stored position (state.c): what follows its facility. */
static const char *place_of(const char *pos)
{
	const char *slash = strchr(pos, '/');
	return slash != NULL ? slash + 1 : pos;
}

/* The box must be where the move says it starts [31]. */
static int from_matches(const Tos__V1__UnitEvent *ue, const struct ue_plan *p,
			struct hw_reject *rej)
{
	char from[HW_POSITION_BYTES];
	hw__position_text(p->facility, ue->from, from);
	const char *a = from, *b = p->box.position;
	if (p->replay) { /* format 3 compared the places alone */
		a = place_of(a);
		b = place_of(b);
	}
	if (strcmp(a, b) != 0)
		return hw_reject_set(rej, HW_EPOS_MISMATCH, "unit_event.from",
				     "box is at \"%s\", not \"%s\"", p->box.position, from);
	return 0;
}

static int no_hold(const struct ue_plan *p, struct hw_reject *rej)
{
	if (p->box.holds == 0)
		return 0;
	int hold = __builtin_ctz(p->box.holds);
	return hw_reject_set(rej, HW_EHOLD_ACTIVE, "unit_event.equipment.container_id",
			     "%s is under %s", p->box.id, hw_hold_type_name(hold));
}

static int in_yard(const struct ue_plan *p, struct hw_reject *rej)
{
	if (p->box.state == TS(YARD) || p->box.state == TS(EC_OUT))
		return 0;
	return hw_reject_set(rej, HW_ELIFECYCLE, "unit_event.type",
			     "box must be in YARD or EC_OUT, not %s",
			     hw_transit_state_name(p->box.state));
}

/* A box leaving its yard slot: in the yard, where the move says it starts [31], and,
 * when holds_matter, under no hold [29]. */
static int from_yard(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue, struct ue_plan *p,
		     bool holds_matter, struct hw_reject *rej)
{
	int rc = in_yard(p, rej);
	if (rc == 0)
		rc = from_matches(ue, p, rej);
	if (rc == 0 && holds_matter)
		rc = box_holds(c, &p->box);
	if (rc == 0 && holds_matter)
		rc = no_hold(p, rej);
	return rc;
}

/* The box's state and position after the move (written by plan_write). */
static int moved(const Tos__V1__UnitEvent *ue, struct ue_plan *p, int state)
{
	p->box.state = state;
	hw__position_text(p->facility, ue->to, p->box.position);
	return 0;
}

/* A new visit of a box that has an active one. */
static int visit_active(const struct ue_plan *p, int state, struct hw_reject *rej)
{
	return hw_reject_set(rej, HW_EDUP_VISIT, "unit_event.equipment.container_id",
			     "%s already has an active visit (%s)", p->box.id,
			     hw_transit_state_name(state));
}

/* Whether the box stands at another facility than the record's (its position names its
 * facility first). */
static bool elsewhere(const struct ue_plan *p)
{
	size_t n = strlen(p->facility);
	return p->box.position[0] != '\0' &&
	       (strncmp(p->box.position, p->facility, n) != 0 || p->box.position[n] != '/');
}

/* Load and discharge need the facility's vessel visit ARRIVED or WORKING [19]. */
static int vessel_workable(const struct hw_apply_ctx *c, const struct ue_plan *p,
			   const Tos__V1__Location *loc, const char *field, struct hw_reject *rej)
{
	if (loc == NULL || loc->where_case != TOS__V1__LOCATION__WHERE_VESSEL)
		return hw_reject_set(rej, HW_EPOSITION, field, "must be a vessel cell");
	if (p->replay) /* format 3 found the visit by its id alone, at any facility */
		return 0;
	int phase;
	bool found;
	char key[HW_VESSEL_KEY_BYTES];
	if (hw__vessel_key(p->facility, loc->vessel->vessel_visit_id, key) == 0)
		return hw_reject_set(rej, HW_EMISSING, field, "vessel visit id is required");
	int rc = hw__vessel_phase(c->txn, c->t, key, &phase, &found);
	if (rc != 0)
		return rc;
	if (phase != TOS__V1__VISIT_PHASE__VP_ARRIVED && phase != TOS__V1__VISIT_PHASE__VP_WORKING)
		return hw_reject_set(rej, HW_EVESSEL_STATE, field,
				     "vessel visit %s is %s, not ARRIVED or WORKING",
				     loc->vessel->vessel_visit_id,
				     found ? hw_visit_phase_name(phase) : "unknown");
	return 0;
}

/* Slots the box holds now, checked against the slots table: a slot that names another
 * box means the tables disagree, which only corruption can cause. */
static int plan_free(const struct hw_apply_ctx *c, struct ue_plan *p)
{
	p->n_free = hw__position_slots(p->box.position, p->free_keys);
	for (unsigned i = 0; i < p->n_free; i++) {
		MDB_val k = hw_mdb_val(p->free_keys[i], strlen(p->free_keys[i]));
		MDB_val v;
		int rc = mdb_get(c->txn, c->t->slots, &k, &v);
		if (rc != 0)
			return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
		if (v.mv_size != p->id_len || memcmp(v.mv_data, p->box.id, p->id_len) != 0)
			return MDB_CORRUPTED;
	}
	return 0;
}

/* The box can stand at yard place to: its size is known, the bay fits its length [22],
 * and every slot it needs is free (or already its own, for a move that overlaps). */
static int plan_take(const struct hw_apply_ctx *c, const Tos__V1__Location *to, struct ue_plan *p,
		     struct hw_reject *rej)
{
	if (to == NULL || to->where_case != TOS__V1__LOCATION__WHERE_YARD)
		return hw_reject_set(rej, HW_EPOSITION, "unit_event.to", "must be a yard slot");
	if (p->box.size_type[0] == '\0')
		return hw_reject_set(rej, HW_EMISSING, "unit_event.equipment.iso_size_type",
				     "size/type of %s unknown: it cannot be placed", p->box.id);
	unsigned ft = hw_size_type_length_ft(p->box.size_type);
	unsigned bay = to->yard->bay;
	if (!bay_fits(ft, bay) && !(p->replay && ft == 30))
		return hw_reject_set(rej, HW_EPOSITION, "unit_event.to.yard.bay",
				     "a %u' box stands in an %s bay, not %u", ft,
				     ft > 20 ? "even" : "odd", bay);
	p->n_take = hw__yard_slots(p->facility, to->yard, p->take_keys);
	for (unsigned i = 0; i < p->n_take; i++) {
		MDB_val k = hw_mdb_val(p->take_keys[i], strlen(p->take_keys[i]));
		MDB_val v;
		int rc = mdb_get(c->txn, c->t->slots, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		if (v.mv_size != p->id_len || memcmp(v.mv_data, p->box.id, p->id_len) != 0)
			return hw_reject_set(rej, HW_ESLOT_OCCUPIED, "unit_event.to.yard",
					     "slot %s holds %.*s", p->take_keys[i], (int)v.mv_size,
					     (const char *)v.mv_data);
	}
	return 0;
}

/* The write phase of a unit event: leave the old slots, take the new, store the box. */
static int plan_write(const struct hw_apply_ctx *c, const Tos__V1__Record *rec, struct ue_plan *p)
{
	int rc;
	for (unsigned i = 0; i < p->n_free; i++) {
		MDB_val k = hw_mdb_val(p->free_keys[i], strlen(p->free_keys[i]));
		rc = mdb_del(c->txn, c->t->slots, &k, NULL);
		if (rc != 0)
			return rc;
	}
	for (unsigned i = 0; i < p->n_take; i++) {
		MDB_val k = hw_mdb_val(p->take_keys[i], strlen(p->take_keys[i]));
		MDB_val v = hw_mdb_val(p->box.id, p->id_len);
		rc = mdb_put(c->txn, c->t->slots, &k, &v, 0);
		if (rc != 0)
			return rc;
	}
	return box_put(c, rec, &p->box, p->box_found);
}

/* PREADVISE: a new visit of a box that is not here yet [29]. */
static int ue_preadvise(const struct hw_apply_ctx *c, struct ue_plan *p, struct hw_reject *rej)
{
	bool active;
	int rc = box_active(c, &p->box, &active);
	if (rc != 0)
		return rc;
	if (active)
		return visit_active(p, p->box.state, rej);
	new_visit(&p->box);
	p->box.state = TS(ADVISED);
	/* An advised box stands nowhere in the terminal yet. */
	p->box.position[0] = '\0';
	return 0;
}

/* DISCHARGE, GATE_IN, RAIL_IN, BARGE_IN: the box arrives in the yard [28, 29]. */
static int ue_arrive(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue, struct ue_plan *p,
		     struct hw_reject *rej)
{
	bool active;
	int rc = box_active(c, &p->box, &active);
	if (rc != 0)
		return rc;
	int st = p->box.state;
	if (ue->type == UE(DISCHARGE)) {
		if (active && st != TS(ADVISED) && st != TS(INBOUND) && elsewhere(p))
			return visit_active(p, st, rej); /* its visit is another terminal's */
		if (active && st != TS(ADVISED) && st != TS(INBOUND))
			return hw_reject_set(rej, HW_ELIFECYCLE, "unit_event.type",
					     "DISCHARGE of a box that is %s",
					     hw_transit_state_name(st));
		rc = vessel_workable(c, p, ue->from, "unit_event.from.vessel.vessel_visit_id", rej);
		if (rc == 0)
			rc = cell_fits(p, ue->from, "unit_event.from.vessel.bay", rej);
		if (rc != 0)
			return rc;
	} else if (active && st != TS(ADVISED)) {
		return visit_active(p, st, rej);
	}
	rc = plan_take(c, ue->to, p, rej);
	if (rc != 0)
		return rc;
	if (!active)
		new_visit(&p->box);
	return moved(ue, p, TS(YARD));
}

/* LOAD: yard to a workable vessel; no hold; a FULL box needs this visit's VGM [13]. */
static int ue_load(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue, struct ue_plan *p,
		   struct hw_reject *rej)
{
	int rc = from_yard(c, ue, p, true, rej);
	if (rc != 0)
		return rc;
	if (p->box.full_empty == TOS__V1__FULL_EMPTY__FE_FULL && p->box.vgm_kg == 0)
		return hw_reject_set(rej, HW_EVGM, "unit_event.equipment.container_id",
				     "FULL box %s has no VGM for this visit", p->box.id);
	rc = vessel_workable(c, p, ue->to, "unit_event.to.vessel.vessel_visit_id", rej);
	if (rc == 0)
		rc = cell_fits(p, ue->to, "unit_event.to.vessel.bay", rej);
	if (rc == 0)
		rc = plan_free(c, p);
	return rc != 0 ? rc : moved(ue, p, TS(LOADED));
}

/* GATE_OUT, RAIL_OUT, BARGE_OUT: the visit ends; no hold may be active [29]. The box
 * leaves the yard, so it does not go to a yard slot (submit only: docs/rules.md
 * "Replay"), which would list a departed box where it no longer stands. */
static int ue_depart(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue, struct ue_plan *p,
		     struct hw_reject *rej)
{
	if (!p->replay && ue->to != NULL && ue->to->where_case == TOS__V1__LOCATION__WHERE_YARD)
		return hw_reject_set(
			rej, HW_EPOSITION, "unit_event.to",
			"%s leaves the terminal: it goes to a truck, a train, a barge or "
			"no place, not to a yard slot",
			p->box.id);
	int rc = from_yard(c, ue, p, true, rej);
	if (rc == 0)
		rc = plan_free(c, p);
	return rc != 0 ? rc : moved(ue, p, TS(DEPARTED));
}

/* YARD_MOVE, YARD_SHIFT, POSITION_CORRECTION: slot to slot. */
static int ue_yard_move(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue,
			struct ue_plan *p, struct hw_reject *rej)
{
	int rc = from_yard(c, ue, p, false, rej);
	if (rc == 0)
		rc = plan_take(c, ue->to, p, rej);
	if (rc == 0)
		rc = plan_free(c, p);
	return rc != 0 ? rc : moved(ue, p, TS(YARD));
}

/* RESTOW, SHIFT_ON_BOARD: cell to cell on a vessel that has not departed. */
static int ue_restow(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue, struct ue_plan *p,
		     struct hw_reject *rej)
{
	bool active;
	int rc = box_active(c, &p->box, &active);
	if (rc != 0)
		return rc;
	if (p->box.state != TS(LOADED) || !active)
		return hw_reject_set(rej, HW_ELIFECYCLE, "unit_event.type",
				     "box must be LOADED on a vessel that has not departed, is %s",
				     hw_transit_state_name(p->box.state));
	rc = from_matches(ue, p, rej);
	if (rc == 0)
		rc = cell_fits(p, ue->to, "unit_event.to.vessel.bay", rej);
	if (rc != 0)
		return rc;
	hw__position_text(p->facility, ue->to, p->box.position);
	return 0;
}

/* STUFF, STRIP, INSPECT, RESEAL, ROLL, INVENTORY_CHECK: need an active visit. */
static int ue_status(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue, struct ue_plan *p,
		     struct hw_reject *rej)
{
	int rc = need_visit(c, &p->box, HW_ELIFECYCLE, "unit_event.type", rej);
	if (rc != 0)
		return rc;
	/* Stuffing and stripping happen ashore; on board they would skip the VGM [13]
	 * (submit only: docs/rules.md "Replay"). */
	if (!p->replay && p->box.state == TS(LOADED) &&
	    (ue->type == UE(STUFF) || ue->type == UE(STRIP)))
		return hw_reject_set(rej, HW_ELIFECYCLE, "unit_event.type",
				     "%s is LOADED: it is stuffed or stripped ashore", p->box.id);
	if (ue->type == UE(STUFF))
		p->box.full_empty = TOS__V1__FULL_EMPTY__FE_FULL;
	else if (ue->type == UE(STRIP))
		p->box.full_empty = TOS__V1__FULL_EMPTY__FE_EMPTY;
	return 0;
}

static int ue_dispatch(const struct hw_apply_ctx *c, const Tos__V1__UnitEvent *ue,
		       struct ue_plan *p, struct hw_reject *rej)
{
	switch (ue->type) {
	case UE(PREADVISE):
		return ue_preadvise(c, p, rej);
	case UE(DISCHARGE):
	case UE(GATE_IN):
	case UE(RAIL_IN):
	case UE(BARGE_IN):
		return ue_arrive(c, ue, p, rej);
	case UE(LOAD):
		return ue_load(c, ue, p, rej);
	case UE(GATE_OUT):
	case UE(RAIL_OUT):
	case UE(BARGE_OUT):
		return ue_depart(c, ue, p, rej);
	case UE(YARD_MOVE):
	case UE(YARD_SHIFT):
	case UE(POSITION_CORRECTION):
		return ue_yard_move(c, ue, p, rej);
	case UE(RESTOW):
	case UE(SHIFT_ON_BOARD):
		return ue_restow(c, ue, p, rej);
	case UE(STUFF):
	case UE(STRIP):
	case UE(INSPECT):
	case UE(RESEAL):
	case UE(ROLL):
	case UE(INVENTORY_CHECK):
		return ue_status(c, ue, p, rej);
	default:
		return hw_reject_set(rej, HW_ERANGE, "unit_event.type", "unknown event type %d",
				     (int)ue->type);
	}
}

/* What the record says against what the box is, its equipment merged in [9, 11-12]: a
 * gross it reports within the box's tare and CSC maximum, and a reefer setting only on a
 * reefer (the record's own size/type was checked alone; the box's known one counts too). */
static int merged_check(const struct hw_container *box, const Tos__V1__UnitEvent *ue,
			struct hw_reject *rej)
{
	uint32_t g = ue->gross_kg;
	if (g != 0 && box->tare_kg != 0 && g < box->tare_kg)
		return hw_reject_set(rej, HW_EWEIGHT, "unit_event.gross_kg",
				     "gross %u kg below %s's tare %u kg", g, box->id, box->tare_kg);
	if (g != 0 && box->max_gross_kg != 0 && g > box->max_gross_kg)
		return hw_reject_set(rej, HW_EWEIGHT, "unit_event.gross_kg",
				     "gross %u kg above %s's CSC max gross %u kg", g, box->id,
				     box->max_gross_kg);
	if (ue->reefer != NULL && box->size_type[0] != '\0' &&
	    !hw_size_type_is_reefer(box->size_type))
		return hw_reject_set(rej, HW_ENOT_REEFER, "unit_event.reefer",
				     "%s is not a reefer (size/type \"%s\")", box->id,
				     box->size_type);
	return 0;
}

/* The weights a record's equipment data gives against what the box is known to weigh
 * [11-12], its equipment merged in: a CSC max gross below the box's tare or this
 * visit's VGM, or a tare above its max gross or its VGM, says two contradictory things
 * of one box (submit only: docs/rules.md "Replay"). The last reported gross is not held
 * against them: it may be an earlier visit's (a gross the record gives is checked
 * against the box by merged_check). */
static int plate_check(const struct hw_apply_ctx *c, const struct hw_container *box,
		       const Tos__V1__Equipment *eq, struct hw_reject *rej)
{
	if (c->replay)
		return 0;
	uint32_t max = box->max_gross_kg, tare = box->tare_kg;
	static const char *const below[] = {"tare", "VGM"};
	const uint32_t below_kg[] = {tare, box->vgm_kg};
	for (size_t i = 0; eq->max_gross_kg != 0 && i < sizeof below / sizeof below[0]; i++)
		if (below_kg[i] > max)
			return hw_reject_set(rej, HW_EWEIGHT, "unit_event.equipment.max_gross_kg",
					     "CSC max gross %u kg below %s's %s %u kg", max,
					     box->id, below[i], below_kg[i]);
	static const char *const above[] = {"CSC max gross", "VGM"};
	const uint32_t above_kg[] = {max, box->vgm_kg};
	for (size_t i = 0; eq->tare_kg != 0 && i < sizeof above / sizeof above[0]; i++)
		if (above_kg[i] != 0 && tare > above_kg[i])
			return hw_reject_set(rej, HW_EWEIGHT, "unit_event.equipment.tare_kg",
					     "tare %u kg above %s's %s %u kg", tare, box->id,
					     above[i], above_kg[i]);
	return 0;
}

static int apply_unit_event(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
			    struct hw_reject *rej)
{
	const Tos__V1__UnitEvent *ue = rec->unit_event;
	if (ue->equipment == NULL)
		return hw_reject_set(rej, HW_EMISSING, "unit_event.equipment",
				     "equipment is required");
	if (!enum_known(&tos__v1__full_empty__descriptor, (int)ue->equipment->full_empty))
		return hw_reject_set(rej, HW_ERANGE, "unit_event.equipment.full_empty",
				     "unknown full/empty value %d", (int)ue->equipment->full_empty);
	struct ue_plan p;
	memset(&p, 0, sizeof p);
	p.facility = rec->facility_id;
	p.replay = c->replay;
	int rc = box_begin(c, rec, ue->equipment->container_id, "unit_event.equipment.container_id",
			   false, &p.box, &p.box_found, rej);
	if (rc != 0)
		return rc;
	p.id_len = strlen(p.box.id);
	rc = fill_check(c, &p.box, ue, rej);
	if (rc != 0)
		return rc;
	merge_equipment(&p.box, ue);
	rc = merged_check(&p.box, ue, rej);
	if (rc == 0)
		rc = plate_check(c, &p.box, ue->equipment, rej);
	if (rc == 0)
		rc = ue_dispatch(c, ue, &p, rej);
	if (rc == 0)
		rc = place_fits(&p, ue->equipment, rej);
	if (rc != 0)
		return rc;
	return plan_write(c, rec, &p);
}

/* The tenant that applied a hold, from its value in the holds table (state.c). */
static int hold_tenant(const struct hw_apply_ctx *c, const MDB_val *k, MDB_val *tenant)
{
	MDB_val v;
	size_t authority_at;
	int rc = mdb_get(c->txn, c->t->holds, (MDB_val *)k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc; /* box_holds() saw it */
	return hw__hold_tenant(&v, tenant, &authority_at);
}

/* A RELEASE must come from the tenant that applied the hold [17, 32]. */
static int release_check(const struct hw_apply_ctx *c, const Tos__V1__Record *rec, const MDB_val *k,
			 struct hw_reject *rej)
{
	MDB_val owner;
	int rc = hold_tenant(c, k, &owner);
	if (rc != 0)
		return rc;
	if (owner.mv_size == strlen(rec->tenant_id) &&
	    memcmp(owner.mv_data, rec->tenant_id, owner.mv_size) == 0)
		return 0;
	return hw_reject_set(rej, HW_ETENANT, "tenant_id",
			     "%s's %s was applied by tenant %.*s, not %s", rec->hold->container_id,
			     hw_hold_type_name((int)rec->hold->hold), (int)owner.mv_size,
			     (const char *)owner.mv_data, rec->tenant_id);
}

/* The holds value of an APPLY (state.c): its LSN, tenant and authority. */
static int hold_put(const struct hw_apply_ctx *c, const Tos__V1__Record *rec, const MDB_val *k)
{
	uint8_t val[HW_HOLD_VALUE_BYTES_MAX];
	MDB_val v =
		hw_mdb_val(val, hw__hold_value(c->lsn, rec->tenant_id, rec->hold->authority, val));
	return mdb_put(c->txn, c->t->holds, (MDB_val *)k, &v, 0);
}

/* Holds [32]: one APPLY per type until its RELEASE by the same tenant; may come before
 * the box does. */
static int apply_hold(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
		      struct hw_reject *rej)
{
	const Tos__V1__HoldEvent *h = rec->hold;
	struct hw_container box;
	bool found;
	int rc = box_begin(c, rec, h->container_id, "hold.container_id", true, &box, &found, rej);
	if (rc == 0)
		rc = box_holds(c, &box);
	if (rc != 0)
		return rc;
	if ((int)h->hold <= 0 || (int)h->hold >= 32)
		return hw_reject_set(rej, HW_ERANGE, "hold.hold", "unknown hold type %d",
				     (int)h->hold);
	uint8_t key[HW_CONTAINER_ID_BYTES_MAX + 1];
	MDB_val k = hw_mdb_val(key, hw__hold_key(box.id, strlen(box.id), (int)h->hold, key));
	bool active = (box.holds & (1u << h->hold)) != 0;
	if (h->action == TOS__V1__HOLD_ACTION__APPLY) {
		if (active)
			return hw_reject_set(rej, HW_EHOLD_ACTIVE, "hold.hold",
					     "%s already holds %s", box.id,
					     hw_hold_type_name((int)h->hold));
	} else if (h->action == TOS__V1__HOLD_ACTION__RELEASE) {
		if (!active)
			return hw_reject_set(rej, HW_EHOLD_NOT_APPLIED, "hold.hold",
					     "%s has no %s to release", box.id,
					     hw_hold_type_name((int)h->hold));
		rc = c->replay ? 0 : release_check(c, rec, &k, rej);
		if (rc != 0)
			return rc;
	} else {
		return hw_reject_set(rej, HW_ERANGE, "hold.action", "unknown hold action %d",
				     (int)h->action);
	}
	rc = box_put(c, rec, &box, found);
	if (rc != 0)
		return rc;
	if (h->action == TOS__V1__HOLD_ACTION__RELEASE)
		return mdb_del(c->txn, c->t->holds, &k, NULL);
	return hold_put(c, rec, &k);
}

/* Customs status: only the per-container time rule; the status itself is in the log. */
static int apply_customs(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
			 struct hw_reject *rej)
{
	struct hw_container box;
	bool found;
	int rc = box_begin(c, rec, rec->customs->container_id, "customs.container_id", true, &box,
			   &found, rej);
	if (rc != 0)
		return rc;
	return box_put(c, rec, &box, found);
}

/* Reefer readings need a known reefer box with an active visit [34]. */
static int apply_reefer(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
			struct hw_reject *rej)
{
	struct hw_container box;
	bool found;
	int rc = box_begin(c, rec, rec->reefer->container_id, "reefer.container_id", true, &box,
			   &found, rej);
	if (rc != 0)
		return rc;
	if (box.size_type[0] == '\0' || !hw_size_type_is_reefer(box.size_type))
		return hw_reject_set(rej, HW_ENOT_REEFER, "reefer.container_id",
				     "%s is not a known reefer (size/type \"%s\")", box.id,
				     box.size_type);
	rc = need_visit(c, &box, HW_ENOT_REEFER, "reefer.container_id", rej);
	return rc != 0 ? rc : box_put(c, rec, &box, found);
}

/* VGM [13]: for a box on an active visit, within its tare and CSC max gross. */
static int apply_vgm(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
		     struct hw_reject *rej)
{
	const Tos__V1__VgmDeclaration *vgm = rec->vgm;
	struct hw_container box;
	bool found;
	int rc = box_begin(c, rec, vgm->container_id, "vgm.container_id", true, &box, &found, rej);
	if (rc != 0)
		return rc;
	rc = need_visit(c, &box, HW_ELIFECYCLE, "vgm.container_id", rej);
	if (rc != 0)
		return rc;
	if (box.tare_kg != 0 && vgm->vgm_kg < box.tare_kg)
		return hw_reject_set(rej, HW_EWEIGHT, "vgm.vgm_kg", "VGM %u kg below tare %u kg",
				     vgm->vgm_kg, box.tare_kg);
	if (box.max_gross_kg != 0 && vgm->vgm_kg > box.max_gross_kg)
		return hw_reject_set(rej, HW_EWEIGHT, "vgm.vgm_kg",
				     "VGM %u kg above CSC max gross %u kg", vgm->vgm_kg,
				     box.max_gross_kg);
	box.vgm_kg = vgm->vgm_kg;
	return box_put(c, rec, &box, found);
}

/* Vessel visit phases only move forward. A record without a phase (name, berth ...)
 * makes the visit known and changes no phase. */
static int apply_vessel(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
			struct hw_reject *rej)
{
	const Tos__V1__VesselVisitEvent *vv = rec->vessel_visit;
	if (vv->visit_id == NULL || vv->visit_id[0] == '\0')
		return hw_reject_set(rej, HW_EMISSING, "vessel_visit.visit_id",
				     "visit id is required");
	int phase;
	bool found;
	char key[HW_VESSEL_KEY_BYTES];
	size_t key_len = hw__vessel_key(rec->facility_id, vv->visit_id, key);
	int rc = hw__vessel_phase(c->txn, c->t, key, &phase, &found);
	if (rc != 0)
		return rc;
	int next = (int)vv->phase;
	/* Only a phase the enum names is stored: vessel_workable() names the one it finds. */
	if (!enum_known(&tos__v1__visit_phase__descriptor, next))
		return hw_reject_set(rej, HW_ERANGE, "vessel_visit.phase", "unknown phase %d",
				     next);
	if (next == TOS__V1__VISIT_PHASE__VP_UNSPECIFIED && found)
		return 0;
	if (found && next <= phase)
		return hw_reject_set(rej, HW_EVESSEL_STATE, "vessel_visit.phase",
				     "visit %s: %s after %s, phases only move forward",
				     vv->visit_id, hw_visit_phase_name(next),
				     hw_visit_phase_name(phase));
	uint8_t b = (uint8_t)next;
	MDB_val k = hw_mdb_val(key, key_len);
	MDB_val v = hw_mdb_val(&b, 1);
	return mdb_put(c->txn, c->t->vessels, &k, &v, 0);
}

#define WS(name) TOS__V1__WI_STATE__##name

static bool wi_active(int state)
{
	return state == WS(CREATED) || state == WS(DISPATCHED) || state == WS(IN_PROGRESS);
}

/* Work instruction transitions [33]. */
static bool wi_step_ok(int from, int to)
{
	switch (from) {
	case WS(CREATED):
		return to == WS(DISPATCHED) || to == WS(CANCELLED);
	case WS(DISPATCHED):
		return to == WS(IN_PROGRESS) || to == WS(CANCELLED) || to == WS(FAILED);
	case WS(IN_PROGRESS):
		return to == WS(COMPLETED) || to == WS(FAILED) || to == WS(CANCELLED);
	default:
		return false; /* COMPLETED, CANCELLED, FAILED are final */
	}
}

static const char *wi_state_name(int state)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&tos__v1__wi_state__descriptor, state);
	return v != NULL ? v->name : "?";
}

/* Key "<prefix>/<text>" into key (cap bytes); returns its length. */
static size_t wis_key(char prefix, const char *text, uint8_t *key, size_t cap)
{
	size_t n = strnlen(text, cap - 2);
	key[0] = (uint8_t)prefix;
	key[1] = '/';
	memcpy(key + 2, text, n);
	return n + 2;
}

/* Read "w/<id>" through c->wis: *found, the state and the container (cid,
 * NUL-terminated). When found, c->wis stays on it, so that apply_wi() overwrites it there
 * (MDB_CURRENT) instead of walking the tree a second time. */
static int wi_read(const struct hw_apply_ctx *c, const char *wi_id, bool *found, int *state,
		   char cid[HW_CONTAINER_ID_BYTES_MAX + 1])
{
	uint8_t key[2 + HW_REF_CHARS_MAX * 4];
	MDB_val k = hw_mdb_val(key, wis_key('w', wi_id, key, sizeof key));
	MDB_val v;
	*found = false;
	*state = 0;
	cid[0] = '\0';
	int rc = mdb_cursor_get(c->wis, &k, &v, MDB_SET);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size < 1 || v.mv_size > 1 + HW_CONTAINER_ID_BYTES_MAX)
		return MDB_CORRUPTED;
	*found = true;
	*state = ((const uint8_t *)v.mv_data)[0];
	memcpy(cid, (const uint8_t *)v.mv_data + 1, v.mv_size - 1);
	cid[v.mv_size - 1] = '\0';
	return 0;
}

/* The checks of a WI record: CREATED first, allowed steps, one active WI per box. */
static int wi_check(const struct hw_apply_ctx *c, const Tos__V1__WorkInstruction *wi, bool found,
		    int old, const char *cid, struct hw_reject *rej)
{
	int next = (int)wi->state;
	if (!found && next != WS(CREATED))
		return hw_reject_set(rej, HW_EWI_STATE, "wi.state",
				     "instruction %s must start CREATED, not %s", wi->wi_id,
				     wi_state_name(next));
	if (found && !wi_step_ok(old, next))
		return hw_reject_set(rej, HW_EWI_STATE, "wi.state",
				     "instruction %s: %s to %s not allowed", wi->wi_id,
				     wi_state_name(old), wi_state_name(next));
	if (found || cid[0] == '\0')
		return 0;
	uint8_t key[2 + HW_CONTAINER_ID_BYTES_MAX];
	MDB_val k = hw_mdb_val(key, wis_key('c', cid, key, sizeof key));
	MDB_val v;
	int rc = mdb_get(c->txn, c->t->wis, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	return hw_reject_set(rej, HW_EWI_STATE, "wi.container_id",
			     "%s already has active instruction %.*s", cid, (int)v.mv_size,
			     (const char *)v.mv_data);
}

static int apply_wi(const struct hw_apply_ctx *c, const Tos__V1__Record *rec, struct hw_reject *rej)
{
	const Tos__V1__WorkInstruction *wi = rec->wi;
	if (wi->wi_id == NULL || wi->wi_id[0] == '\0')
		return hw_reject_set(rej, HW_EMISSING, "wi.wi_id", "instruction id is required");
	struct hw_container box;
	bool box_found;
	bool has_box = wi->container_id != NULL && wi->container_id[0] != '\0';
	int rc = has_box ? box_begin(c, rec, wi->container_id, "wi.container_id", false, &box,
				     &box_found, rej)
			 : 0;
	bool found;
	int old;
	char cid[HW_CONTAINER_ID_BYTES_MAX + 1];
	if (rc == 0)
		rc = wi_read(c, wi->wi_id, &found, &old, cid);
	if (rc == 0 && !found && has_box)
		memcpy(cid, box.id, sizeof cid); /* the index follows the creating record */
	if (rc == 0)
		rc = wi_check(c, wi, found, old, cid, rej);
	if (rc == 0 && has_box)
		rc = box_put(c, rec, &box, box_found);
	if (rc != 0)
		return rc;
	uint8_t key[2 + HW_REF_CHARS_MAX * 4];
	uint8_t val[1 + HW_CONTAINER_ID_BYTES_MAX];
	size_t cid_len = strlen(cid);
	MDB_val k = hw_mdb_val(key, wis_key('w', wi->wi_id, key, sizeof key));
	val[0] = (uint8_t)wi->state;
	memcpy(val + 1, cid, cid_len);
	MDB_val v = hw_mdb_val(val, 1 + cid_len);
	/* Nothing moved c->wis since wi_read(): wi_check() reads through mdb_get. */
	rc = mdb_cursor_put(c->wis, &k, &v, found ? MDB_CURRENT : 0);
	if (rc != 0 || cid_len == 0)
		return rc;
	k = hw_mdb_val(key, wis_key('c', cid, key, sizeof key));
	if (!wi_active((int)wi->state))
		return mdb_del(c->txn, c->t->wis, &k, NULL);
	if (found)
		return 0;
	v = hw_mdb_val(wi->wi_id, strlen(wi->wi_id));
	return mdb_put(c->txn, c->t->wis, &k, &v, 0);
}

/* Key of the kv table: tenant, NUL, key (tenants scope keys). Returns the length. */
static size_t kv_key(const Tos__V1__Record *rec, const char *key, uint8_t *out)
{
	size_t tn = strnlen(rec->tenant_id, 32);
	size_t kn = strnlen(key, HW_KV_KEY_BYTES_MAX);
	memcpy(out, rec->tenant_id, tn);
	out[tn] = '\0';
	memcpy(out + tn + 1, key, kn);
	return tn + 1 + kn;
}

static int apply_kv_put(const struct hw_apply_ctx *c, const Tos__V1__Record *rec)
{
	uint8_t key[32 + 1 + HW_KV_KEY_BYTES_MAX];
	MDB_val k = hw_mdb_val(key, kv_key(rec, rec->kv_put->key, key));
	MDB_val v = hw_mdb_val(rec->kv_put->value.data, rec->kv_put->value.len);
	return mdb_put(c->txn, c->t->kv, &k, &v, 0);
}

static int apply_kv_delete(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
			   struct hw_reject *rej)
{
	uint8_t key[32 + 1 + HW_KV_KEY_BYTES_MAX];
	MDB_val k = hw_mdb_val(key, kv_key(rec, rec->kv_delete->key, key));
	MDB_val v;
	int rc = mdb_get(c->txn, c->t->kv, &k, &v);
	if (rc == MDB_NOTFOUND)
		return hw_reject_set(rej, HW_ENOTFOUND, "kv_delete.key",
				     "key \"%s\" does not exist for tenant %s", rec->kv_delete->key,
				     rec->tenant_id);
	if (rc != 0)
		return rc;
	return mdb_del(c->txn, c->t->kv, &k, NULL);
}

/* Audit records are indexed by LSN (big-endian, so LMDB's order is LSN order). */
static int apply_audit(const struct hw_apply_ctx *c)
{
	uint8_t key[8];
	hw_put_be64(key, c->lsn);
	MDB_val k = hw_mdb_val(key, sizeof key);
	MDB_val v = hw_mdb_val("", 0);
	return mdb_put(c->txn, c->t->audit, &k, &v, 0);
}

/* The envelope as the apply step uses it, whatever validation said (apply.h): a tenant
 * of at most HW_TENANT_BYTES_MAX (a hold keeps it behind one length byte; a kv key keeps
 * that many) and a facility of at most HW_FACILITY_BYTES_MAX without a '/' (it starts
 * every stored position, and the slots of a position are found again from its text: with
 * a '/' in it they would not be those the box took, which reads as a damaged store). */
static int envelope_check(const Tos__V1__Record *rec, struct hw_reject *rej)
{
	if (strnlen(rec->tenant_id, HW_TENANT_BYTES_MAX + 1) > HW_TENANT_BYTES_MAX)
		return hw_reject_set(rej, HW_ERANGE, "tenant_id", "more than %u bytes",
				     HW_TENANT_BYTES_MAX);
	size_t n = strnlen(rec->facility_id, HW_FACILITY_BYTES_MAX + 1);
	if (n > HW_FACILITY_BYTES_MAX || memchr(rec->facility_id, '/', n) != NULL)
		return hw_reject_set(rej, HW_ERANGE, "facility_id",
				     "more than %u bytes, or a '/' in it", HW_FACILITY_BYTES_MAX);
	return 0;
}

static int apply_record(const struct hw_apply_ctx *c, const Tos__V1__Record *rec,
			struct hw_reject *rej)
{
	int rc = envelope_check(rec, rej);
	if (rc != 0)
		return rc;
	switch (rec->payload_case) {
	case TOS__V1__RECORD__PAYLOAD_UNIT_EVENT:
		return apply_unit_event(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_HOLD:
		return apply_hold(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_CUSTOMS:
		return apply_customs(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_REEFER:
		return apply_reefer(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_WI:
		return apply_wi(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT:
		return apply_vessel(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_VGM:
		return apply_vgm(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_KV_PUT:
		return apply_kv_put(c, rec);
	case TOS__V1__RECORD__PAYLOAD_KV_DELETE:
		return apply_kv_delete(c, rec, rej);
	case TOS__V1__RECORD__PAYLOAD_AUDIT:
		return apply_audit(c);
	case TOS__V1__RECORD__PAYLOAD_GATE:
	case TOS__V1__RECORD__PAYLOAD_EDI:
	case TOS__V1__RECORD__PAYLOAD_CHECKPOINT:
	case TOS__V1__RECORD__PAYLOAD_NODE_EVENT:
		return 0; /* kept in the log only: no state rule (hawser audit reads the log) */
	default:
		return hw_reject_set(rej, HW_EMISSING, "payload", "a payload is required");
	}
}

int hw_apply(const struct hw_apply_ctx *c, const Tos__V1__Record *rec, struct hw_reject *rej)
{
	HW_ASSERT(c != NULL && c->txn != NULL && c->t != NULL && rec != NULL);
	HW_ASSERT(c->lsn > 0 && c->boxes != NULL);
	HW_ASSERT(mdb_cursor_txn(c->boxes) == c->txn &&
		  mdb_cursor_dbi(c->boxes) == c->t->containers);
	HW_ASSERT(c->wis != NULL && mdb_cursor_txn(c->wis) == c->txn &&
		  mdb_cursor_dbi(c->wis) == c->t->wis);
	return apply_record(c, rec, rej);
}
