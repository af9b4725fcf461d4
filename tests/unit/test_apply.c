/* test_apply.c: the apply step's state rules (docs/rules.md "State rules") on a raw LMDB
 * environment: every refusal gives its code and field and changes no table; the accepted
 * paths change the tables as documented in replica/state.c; and the same records give the
 * same bytes in two environments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "apply_fix.h"

/* Import: a box is discharged from an ARRIVED vessel, moved in the yard, held and
 * released by customs, and leaves by truck; each step shows in the tables. */
static void test_import_lifecycle(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V1", VP(CREATED), 1);
	visit_to(e, "V1", VP(ARRIVED), 2);

	ue(&b, UE(DISCHARGE), BOX_A, "22G1", FE_FULL, 10);
	b.eq.tare_kg = 2200;
	b.ue.gross_kg = 24000;
	from_cell(&b, "V1", 77, 6, 90);
	to_yard(&b, "3C", 13, 5, 2);
	ok(e, &b.rec);
	struct hw_container c = get_box(e, BOX_A);
	assert_string_equal(c.id, BOX_A);
	assert_int_equal(c.state, TS(YARD));
	assert_string_equal(c.position, "JPNGO-NCB/yard:3C-13-05-2");
	assert_string_equal(c.size_type, "22G1");
	assert_int_equal(c.full_empty, FE_FULL);
	assert_int_equal(c.tare_kg, 2200);
	assert_int_equal(c.gross_kg, 24000);
	assert_int_equal(c.visits, 1);
	assert_int_equal(c.last_event_ms, T0 + 10);
	assert_int_equal(c.last_lsn, e->lsn);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-13-05-2"), BOX_A);

	ue(&b, UE(YARD_MOVE), BOX_A, "", 0, 20);
	from_yard(&b, "3C", 13, 5, 2);
	to_yard(&b, "3C", 15, 5, 1);
	ok(e, &b.rec);
	assert_string_equal(get_box(e, BOX_A).position, "JPNGO-NCB/yard:3C-15-05-1");
	assert_string_equal(slot(e, "JPNGO-NCB/3C-13-05-2"), "");
	assert_string_equal(slot(e, "JPNGO-NCB/3C-15-05-1"), BOX_A);

	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 30));
	assert_int_equal(get_box(e, BOX_A).holds, 1u << HT(CUSTOMS_HOLD));

	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 40);
	from_yard(&b, "3C", 15, 5, 1);
	to_truck(&b, "TV9", "L3");
	refused(e, &b.rec, HW_EHOLD_ACTIVE, "unit_event.equipment.container_id");

	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), RELEASE, 50));
	assert_int_equal(get_box(e, BOX_A).holds, 0);
	assert_int_equal(table_count(e, e->t.holds), 0);

	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 60);
	from_yard(&b, "3C", 15, 5, 1);
	to_truck(&b, "TV9", "L3");
	ok(e, &b.rec);
	c = get_box(e, BOX_A);
	assert_int_equal(c.state, TS(DEPARTED));
	assert_string_equal(c.position, "JPNGO-NCB/truck:TV9:L3:1");
	assert_int_equal(table_count(e, e->t.slots), 0);
}

/* Export: a 40' FULL box is gated in into two slots, cannot be loaded without a VGM,
 * nor from the wrong place, and loads onto a WORKING vessel once its VGM is declared. */
static void test_export_lifecycle(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V2", VP(ARRIVED), 1);
	visit_to(e, "V2", VP(WORKING), 2);
	ue(&b, UE(GATE_IN), BOX_B, "45G1", FE_FULL, 10);
	b.eq.tare_kg = 3900;
	to_yard(&b, "3C", 14, 5, 2);
	ok(e, &b.rec);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-13-05-2"), BOX_B);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-15-05-2"), BOX_B);
	assert_string_equal(get_box(e, BOX_B).position, "JPNGO-NCB/yard:3C-14-05-2");

	ue(&b, UE(LOAD), BOX_B, "", 0, 20);
	from_yard(&b, "3C", 14, 5, 2);
	to_cell(&b, "V2", 78, 6, 90);
	refused(e, &b.rec, HW_EVGM, "unit_event.equipment.container_id");

	refused(e, vgm(&b, BOX_B, 3000, 30), HW_EWEIGHT, "vgm.vgm_kg");
	ok(e, vgm(&b, BOX_B, 28500, 30));
	assert_int_equal(get_box(e, BOX_B).vgm_kg, 28500);

	ue(&b, UE(LOAD), BOX_B, "", 0, 40);
	from_yard(&b, "3C", 16, 5, 2);
	to_cell(&b, "V2", 78, 6, 90);
	refused(e, &b.rec, HW_EPOS_MISMATCH, "unit_event.from");

	ue(&b, UE(LOAD), BOX_B, "", 0, 40);
	from_yard(&b, "3C", 14, 5, 2);
	to_cell(&b, "V2", 78, 6, 90);
	ok(e, &b.rec);
	struct hw_container c = get_box(e, BOX_B);
	assert_int_equal(c.state, TS(LOADED));
	assert_string_equal(c.position, "JPNGO-NCB/vessel:V2:078-06-90");
	assert_int_equal(table_count(e, e->t.slots), 0);
}

/* A 40' box in bay 14 holds bays 13 and 15, so a 20' box fits in neither; a 40' box in
 * an odd bay, or a 20' box in an even one, is refused. */
static void test_forty_two_slots(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	gate_in(e, BOX_A, "42G1", FE_EMPTY, 14, 1);
	assert_int_equal(table_count(e, e->t.slots), 2);

	ue(&b, UE(GATE_IN), BOX_B, "22G1", FE_EMPTY, 2);
	to_yard(&b, "3C", 13, 1, 1);
	refused(e, &b.rec, HW_ESLOT_OCCUPIED, "unit_event.to.yard");
	to_yard(&b, "3C", 15, 1, 1);
	refused(e, &b.rec, HW_ESLOT_OCCUPIED, "unit_event.to.yard");
	to_yard(&b, "3C", 16, 1, 1);
	refused(e, &b.rec, HW_EPOSITION, "unit_event.to.yard.bay");

	ue(&b, UE(GATE_IN), BOX_C, "45G1", FE_EMPTY, 3);
	to_yard(&b, "3C", 17, 1, 1);
	refused(e, &b.rec, HW_EPOSITION, "unit_event.to.yard.bay");
	to_yard(&b, "3C", 16, 1, 1);
	refused(e, &b.rec, HW_ESLOT_OCCUPIED, "unit_event.to.yard");
	to_yard(&b, "3C", 16, 1, 2);
	ok(e, &b.rec);

	gate_in(e, BOX_B, "22G1", FE_EMPTY, 17, 4);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-17-01-1"), BOX_B);
}

/* A 40' box corrected from bay 14 to bay 16 may reuse its own slot 15; bay 13 is freed. */
static void test_move_overlapping_itself(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	gate_in(e, BOX_A, "42G1", FE_EMPTY, 14, 1);
	ue(&b, UE(POSITION_CORRECTION), BOX_A, "", 0, 2);
	from_yard(&b, "3C", 14, 1, 1);
	to_yard(&b, "3C", 16, 1, 1);
	ok(e, &b.rec);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-13-01-1"), "");
	assert_string_equal(slot(e, "JPNGO-NCB/3C-15-01-1"), BOX_A);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-17-01-1"), BOX_A);
	assert_int_equal(table_count(e, e->t.slots), 2);
}

/* An EMPTY box loads without a VGM; a FULL one does not. */
static void test_load_empty_without_vgm(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V3", VP(WORKING), 1);
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 2);
	gate_in(e, BOX_B, "22G1", FE_FULL, 3, 3);
	ue(&b, UE(LOAD), BOX_A, "", 0, 4);
	from_yard(&b, "3C", 1, 1, 1);
	to_cell(&b, "V3", 1, 2, 82);
	ok(e, &b.rec);
	ue(&b, UE(LOAD), BOX_B, "", 0, 5);
	from_yard(&b, "3C", 3, 1, 1);
	to_cell(&b, "V3", 3, 2, 82);
	refused(e, &b.rec, HW_EVGM, "unit_event.equipment.container_id");
}

/* Load and discharge need a vessel visit ARRIVED or WORKING; an unknown visit or one
 * only CREATED or already COMPLETE is refused. */
static void test_vessel_not_workable(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ue(&b, UE(DISCHARGE), BOX_A, "22G1", FE_FULL, 1);
	from_cell(&b, "V4", 1, 2, 82);
	to_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_EVESSEL_STATE, "unit_event.from.vessel.vessel_visit_id");
	visit_to(e, "V4", VP(CREATED), 2);
	refused(e, &b.rec, HW_EVESSEL_STATE, "unit_event.from.vessel.vessel_visit_id");

	visit_to(e, "V5", VP(COMPLETE), 3);
	gate_in(e, BOX_B, "22G1", FE_EMPTY, 3, 4);
	ue(&b, UE(LOAD), BOX_B, "", 0, 5);
	from_yard(&b, "3C", 3, 1, 1);
	to_cell(&b, "V5", 3, 2, 82);
	refused(e, &b.rec, HW_EVESSEL_STATE, "unit_event.to.vessel.vessel_visit_id");
}

/* A second visit while one is active is refused (GATE_IN twice, PREADVISE of a box in
 * the yard); a PREADVISE then GATE_IN is one visit. */
static void test_duplicate_visit(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 1);
	ue(&b, UE(GATE_IN), BOX_A, "", 0, 2);
	to_yard(&b, "3C", 3, 1, 1);
	refused(e, &b.rec, HW_EDUP_VISIT, "unit_event.equipment.container_id");
	ue(&b, UE(PREADVISE), BOX_A, "", 0, 3);
	refused(e, &b.rec, HW_EDUP_VISIT, "unit_event.equipment.container_id");
	ue(&b, UE(DISCHARGE), BOX_A, "", 0, 3);
	from_cell(&b, "V1", 1, 2, 82);
	to_yard(&b, "3C", 3, 1, 1);
	refused(e, &b.rec, HW_ELIFECYCLE, "unit_event.type");

	ok(e, ue(&b, UE(PREADVISE), BOX_B, "22G1", FE_FULL, 4));
	assert_int_equal(get_box(e, BOX_B).state, TS(ADVISED));
	ue(&b, UE(PREADVISE), BOX_B, "", 0, 5);
	refused(e, &b.rec, HW_EDUP_VISIT, "unit_event.equipment.container_id");
	gate_in(e, BOX_B, "", 0, 5, 6);
	struct hw_container c = get_box(e, BOX_B);
	assert_int_equal(c.state, TS(YARD));
	assert_int_equal(c.visits, 1);
}

/* A box whose size/type was never given cannot be placed in the yard. */
static void test_size_unknown(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ue(&b, UE(GATE_IN), BOX_A, "", FE_EMPTY, 1);
	to_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_EMISSING, "unit_event.equipment.iso_size_type");
	ok(e, ue(&b, UE(PREADVISE), BOX_A, "", FE_EMPTY, 2));
	ue(&b, UE(GATE_IN), BOX_A, "", FE_EMPTY, 3);
	to_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_EMISSING, "unit_event.equipment.iso_size_type");
}

/* Moves not allowed in the current state: LOAD of an advised box, RESTOW of a yard box,
 * STUFF and VGM without a visit, GATE_OUT of a departed box; STUFF and STRIP change
 * full/empty. */
static void test_lifecycle_refusals(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V1", VP(WORKING), 1);
	refused(e, ue(&b, UE(STUFF), BOX_A, "22G1", 0, 2), HW_ELIFECYCLE, "unit_event.type");
	refused(e, vgm(&b, BOX_A, 20000, 2), HW_ELIFECYCLE, "vgm.container_id");
	ok(e, ue(&b, UE(PREADVISE), BOX_A, "22G1", FE_EMPTY, 3));
	ue(&b, UE(LOAD), BOX_A, "", 0, 4);
	from_yard(&b, "3C", 1, 1, 1);
	to_cell(&b, "V1", 1, 2, 82);
	refused(e, &b.rec, HW_ELIFECYCLE, "unit_event.type");

	gate_in(e, BOX_A, "", 0, 1, 5);
	ue(&b, UE(RESTOW), BOX_A, "", 0, 6);
	from_cell(&b, "V1", 1, 2, 82);
	to_cell(&b, "V1", 3, 2, 82);
	refused(e, &b.rec, HW_ELIFECYCLE, "unit_event.type");

	ok(e, ue(&b, UE(STUFF), BOX_A, "", 0, 7));
	assert_int_equal(get_box(e, BOX_A).full_empty, FE_FULL);
	ok(e, ue(&b, UE(STRIP), BOX_A, "", 0, 8));
	assert_int_equal(get_box(e, BOX_A).full_empty, FE_EMPTY);

	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 9);
	from_yard(&b, "3C", 1, 1, 1);
	ok(e, &b.rec);
	assert_string_equal(get_box(e, BOX_A).position, "");
	refused(e, &b.rec, HW_ELIFECYCLE, "unit_event.type");
	refused(e, ue(&b, UE(INSPECT), BOX_A, "", 0, 10), HW_ELIFECYCLE, "unit_event.type");
}

/* RESTOW on board must start from the box's cell and moves it. */
static void test_restow(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V1", VP(WORKING), 1);
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 2);
	ue(&b, UE(LOAD), BOX_A, "", 0, 3);
	from_yard(&b, "3C", 1, 1, 1);
	to_cell(&b, "V1", 1, 2, 82);
	ok(e, &b.rec);
	ue(&b, UE(RESTOW), BOX_A, "", 0, 4);
	from_cell(&b, "V1", 5, 2, 82);
	to_cell(&b, "V1", 3, 2, 82);
	refused(e, &b.rec, HW_EPOS_MISMATCH, "unit_event.from");
	from_cell(&b, "V1", 1, 2, 82);
	ok(e, &b.rec);
	assert_string_equal(get_box(e, BOX_A).position, "JPNGO-NCB/vessel:V1:003-02-82");
}

/* A record about a container earlier than its last one is refused. */
static void test_container_time_backwards(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 100);
	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 99);
	from_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_ETIME, "event_time_ms");
	refused(e, hold(&b, BOX_A, HT(LINE_HOLD), APPLY, 50), HW_ETIME, "event_time_ms");
	ok(e, ue(&b, UE(INSPECT), BOX_A, "", 0, 100)); /* the same time is not earlier */
}

/* Vessel phases move forward only: a repeat or a step back is refused, a skip is not. */
static void test_vessel_phase(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V1", VP(INBOUND), 1);
	visit_to(e, "V1", VP(ARRIVED), 2);
	refused(e, vessel(&b, "V1", VP(INBOUND), 3), HW_EVESSEL_STATE, "vessel_visit.phase");
	refused(e, vessel(&b, "V1", VP(ARRIVED), 3), HW_EVESSEL_STATE, "vessel_visit.phase");
	visit_to(e, "V1", VP(COMPLETE), 4);
	refused(e, vessel(&b, "V1", VP(WORKING), 5), HW_EVESSEL_STATE, "vessel_visit.phase");
	visit_to(e, "V1", 0, 6); /* no phase: nothing changes */
	visit_to(e, "V1", VP(CLOSED), 7);
	assert_int_equal(table_count(e, e->t.vessels), 1);
}

/* Work instructions: CREATED first, one active per box, allowed steps only, nothing
 * after COMPLETED; an ended WI frees the box for the next. */
static void test_work_instructions(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	refused(e, wi(&b, "W0", BOX_A, WS(DISPATCHED), 1), HW_EWI_STATE, "wi.state");
	ok(e, wi(&b, "W1", BOX_A, WS(CREATED), 2));
	refused(e, wi(&b, "W1", BOX_A, WS(CREATED), 3), HW_EWI_STATE, "wi.state");
	refused(e, wi(&b, "W2", BOX_A, WS(CREATED), 3), HW_EWI_STATE, "wi.container_id");
	refused(e, wi(&b, "W1", BOX_A, WS(COMPLETED), 3), HW_EWI_STATE, "wi.state");
	ok(e, wi(&b, "W1", BOX_A, WS(DISPATCHED), 4));
	ok(e, wi(&b, "W1", BOX_A, WS(IN_PROGRESS), 5));
	ok(e, wi(&b, "W1", BOX_A, WS(COMPLETED), 6));
	refused(e, wi(&b, "W1", BOX_A, WS(DISPATCHED), 7), HW_EWI_STATE, "wi.state");
	refused(e, wi(&b, "W1", BOX_A, WS(CANCELLED), 7), HW_EWI_STATE, "wi.state");
	ok(e, wi(&b, "W2", BOX_A, WS(CREATED), 8));
	ok(e, wi(&b, "W2", BOX_A, WS(CANCELLED), 9));
	ok(e, wi(&b, "W3", BOX_A, WS(CREATED), 10));
	ok(e, wi(&b, "W3", BOX_A, WS(DISPATCHED), 11));
	ok(e, wi(&b, "W3", BOX_A, WS(FAILED), 12));
	/* W1, W2, W3 and no active index entry left. */
	assert_int_equal(table_count(e, e->t.wis), 3);
}

/* Holds: RELEASE without APPLY refused, APPLY before the box arrives accepted, a second
 * APPLY of the same type refused, several types kept as a bitmask. */
static void test_holds(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	refused(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), RELEASE, 1), HW_EHOLD_NOT_APPLIED,
		"hold.hold");
	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 2));
	refused(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 3), HW_EHOLD_ACTIVE, "hold.hold");
	ok(e, hold(&b, BOX_A, HT(QUARANTINE), APPLY, 4));
	ok(e, hold(&b, BOX_B, HT(LINE_HOLD), APPLY, 5));
	struct hw_container c = get_box(e, BOX_A);
	assert_int_equal(c.holds, (1u << HT(CUSTOMS_HOLD)) | (1u << HT(QUARANTINE)));
	assert_int_equal(c.state, TS(TS_UNSPECIFIED));
	assert_int_equal(get_box(e, BOX_B).holds, 1u << HT(LINE_HOLD));
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 6);
	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 7);
	from_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_EHOLD_ACTIVE, "unit_event.equipment.container_id");
	ok(e, hold(&b, BOX_A, HT(QUARANTINE), RELEASE, 8));
	refused(e, hold(&b, BOX_A, HT(QUARANTINE), RELEASE, 9), HW_EHOLD_NOT_APPLIED, "hold.hold");
	assert_int_equal(get_box(e, BOX_A).holds, 1u << HT(CUSTOMS_HOLD));
}

/* Terminals sharing one TOS [17, 22, 31]: yard slots and vessel visits are each
 * facility's own, so two terminals may use the same block names and visit ids, and a
 * move at one terminal cannot start from a box's place at another. */
static void test_facilities(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 1); /* JPNGO-NCB 3C-01-01-1 */
	ue(&b, UE(GATE_IN), BOX_B, "22G1", FE_EMPTY, 2);
	b.rec.facility_id = "JPNGO-TCB";
	to_yard(&b, "3C", 1, 1, 1);
	ok(e, &b.rec);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-01-01-1"), BOX_A);
	assert_string_equal(slot(e, "JPNGO-TCB/3C-01-01-1"), BOX_B);
	assert_string_equal(get_box(e, BOX_B).position, "JPNGO-TCB/yard:3C-01-01-1");
	/* The other terminal's slot still refuses a second box there. */
	ue(&b, UE(GATE_IN), BOX_C, "22G1", FE_EMPTY, 3);
	b.rec.facility_id = "JPNGO-TCB";
	to_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_ESLOT_OCCUPIED, "unit_event.to.yard");
	/* BOX_A stands at NCB: a GATE_OUT at TCB from "its" 3C-01-01-1 does not match. */
	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 4);
	b.rec.facility_id = "JPNGO-TCB";
	from_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_EPOS_MISMATCH, "unit_event.from");
	b.rec.facility_id = "JPNGO-NCB";
	ok(e, &b.rec);
	/* Visit V1 is WORKING at NCB and unknown at TCB. */
	ok(e, vessel(&b, "V1", VP(WORKING), 5));
	ue(&b, UE(DISCHARGE), BOX_C, "22G1", FE_FULL, 6);
	b.rec.facility_id = "JPNGO-TCB";
	from_cell(&b, "V1", 1, 2, 82);
	to_yard(&b, "3C", 3, 1, 1);
	refused(e, &b.rec, HW_EVESSEL_STATE, "unit_event.from.vessel.vessel_visit_id");
	b.rec.facility_id = "JPNGO-NCB";
	to_yard(&b, "3C", 3, 1, 1);
	ok(e, &b.rec);
	assert_int_equal(table_count(e, e->t.vessels), 1);
	/* BOX_C now stands at NCB: a DISCHARGE of it at TCB is a second visit, not a move
	 * out of order at TCB */
	vessel(&b, "V1", VP(WORKING), 7); /* TCB's own V1 */
	b.rec.facility_id = "JPNGO-TCB";
	ok(e, &b.rec);
	ue(&b, UE(DISCHARGE), BOX_C, "", 0, 8);
	b.rec.facility_id = "JPNGO-TCB";
	from_cell(&b, "V1", 1, 2, 82);
	to_yard(&b, "3C", 5, 1, 1);
	refused(e, &b.rec, HW_EDUP_VISIT, "unit_event.equipment.container_id");
}

/* A hold is released by the tenant that applied it, not by another one sharing the
 * TOS [17, 32]; another tenant's APPLY of the same hold is refused as a repeat. */
static void test_hold_tenants(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 1));
	hold(&b, BOX_A, HT(CUSTOMS_HOLD), RELEASE, 2);
	b.rec.tenant_id = "T2";
	refused(e, &b.rec, HW_ETENANT, "tenant_id");
	hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 2);
	b.rec.tenant_id = "T2";
	refused(e, &b.rec, HW_EHOLD_ACTIVE, "hold.hold");
	assert_int_equal(get_box(e, BOX_A).holds, 1u << HT(CUSTOMS_HOLD));
	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), RELEASE, 3));
	assert_int_equal(get_box(e, BOX_A).holds, 0);
	/* T2's own hold is T2's to release. */
	hold(&b, BOX_A, HT(LINE_HOLD), APPLY, 4);
	b.rec.tenant_id = "T2";
	ok(e, &b.rec);
	refused(e, hold(&b, BOX_A, HT(LINE_HOLD), RELEASE, 5), HW_ETENANT, "tenant_id");
	hold(&b, BOX_A, HT(LINE_HOLD), RELEASE, 5);
	b.rec.tenant_id = "T2";
	ok(e, &b.rec);
}

/* A 30' box is longer than a 20' slot: it stands in an even bay on two slots, as a 40'
 * one does [22]. */
static void test_thirty_foot_box(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ue(&b, UE(GATE_IN), BOX_A, "32G1", FE_EMPTY, 1);
	to_yard(&b, "3C", 1, 1, 1);
	refused(e, &b.rec, HW_EPOSITION, "unit_event.to.yard.bay");
	to_yard(&b, "3C", 2, 1, 1);
	ok(e, &b.rec);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-01-01-1"), BOX_A);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-03-01-1"), BOX_A);
}

/* Equipment data cannot make a box standing in the yard longer or shorter than the bay
 * it stands in; a move to a bay that fits the new length can [22]. */
static void test_length_change_in_yard(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 1);
	refused(e, ue(&b, UE(INSPECT), BOX_A, "45G1", 0, 2), HW_EPOSITION,
		"unit_event.equipment.iso_size_type");
	ue(&b, UE(YARD_MOVE), BOX_A, "45G1", 0, 3);
	from_yard(&b, "3C", 1, 1, 1);
	to_yard(&b, "3C", 4, 1, 1);
	ok(e, &b.rec);
	struct hw_container c = get_box(e, BOX_A);
	assert_string_equal(c.size_type, "45G1");
	assert_string_equal(slot(e, "JPNGO-NCB/3C-01-01-1"), "");
	assert_string_equal(slot(e, "JPNGO-NCB/3C-03-01-1"), BOX_A);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-05-01-1"), BOX_A);
	refused(e, ue(&b, UE(INSPECT), BOX_A, "22G1", 0, 4), HW_EPOSITION,
		"unit_event.equipment.iso_size_type");
}

/* While the terminal holds a box only STUFF and STRIP change whether it is FULL: a LOAD
 * saying EMPTY does not skip a FULL box's VGM [13]; a new visit may bring it either way. */
static void test_fill_in_custody(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V3", VP(WORKING), 1);
	gate_in(e, BOX_B, "22G1", FE_FULL, 3, 2);
	ue(&b, UE(LOAD), BOX_B, "", FE_EMPTY, 3);
	from_yard(&b, "3C", 3, 1, 1);
	to_cell(&b, "V3", 3, 2, 82);
	refused(e, &b.rec, HW_ELIFECYCLE, "unit_event.equipment.full_empty");
	refused(e, ue(&b, UE(INSPECT), BOX_B, "", FE_EMPTY, 3), HW_ELIFECYCLE,
		"unit_event.equipment.full_empty");
	assert_int_equal(get_box(e, BOX_B).full_empty, FE_FULL);
	ok(e, ue(&b, UE(STRIP), BOX_B, "", FE_EMPTY, 4));
	ue(&b, UE(LOAD), BOX_B, "", FE_EMPTY, 5);
	from_yard(&b, "3C", 3, 1, 1);
	to_cell(&b, "V3", 3, 2, 82);
	ok(e, &b.rec);
	/* Loaded on a visit still here: still in custody. */
	refused(e, ue(&b, UE(INSPECT), BOX_B, "", FE_FULL, 6), HW_ELIFECYCLE,
		"unit_event.equipment.full_empty");
	visit_to(e, "V3", VP(DEPARTED), 7);
	ue(&b, UE(GATE_IN), BOX_B, "", FE_FULL, 8); /* back, full, on a new visit */
	to_yard(&b, "3C", 3, 1, 1);
	ok(e, &b.rec);
	assert_int_equal(get_box(e, BOX_B).full_empty, FE_FULL);
}

/* A FULL non-ISO box (non_iso_id on its unit event) gets its VGM and its holds, whose
 * payloads carry no Equipment to say so, and loads; a number of that shape that fails
 * ISO 6346 and names no known box is refused as before. */
static void test_non_iso_box(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	static const char id[] = "ABCD1234567";
	refused(e, vgm(&b, id, 24000, 1), HW_ECONTAINER_ID, "vgm.container_id");
	refused(e, hold(&b, id, HT(CUSTOMS_HOLD), APPLY, 1), HW_ECONTAINER_ID, "hold.container_id");
	refused(e, vgm(&b, "WSTU7460390", 24000, 1), HW_ECHECK_DIGIT, "vgm.container_id");
	visit_to(e, "V3", VP(WORKING), 2);
	ue(&b, UE(GATE_IN), id, "22G1", FE_FULL, 3);
	b.eq.non_iso_id = true;
	to_yard(&b, "3C", 1, 1, 1);
	ok(e, &b.rec);
	ok(e, hold(&b, id, HT(CUSTOMS_HOLD), APPLY, 4));
	ok(e, hold(&b, id, HT(CUSTOMS_HOLD), RELEASE, 5));
	ok(e, vgm(&b, id, 24000, 6));
	ue(&b, UE(LOAD), id, "", 0, 7);
	from_yard(&b, "3C", 1, 1, 1);
	to_cell(&b, "V3", 1, 2, 82);
	ok(e, &b.rec);
	assert_int_equal(get_box(e, id).state, TS(LOADED));
}

/* Replayed, an entry a primary accepted under format 3's rules has format 3's outcome:
 * a release by another tenant, a 30' box in an odd bay, a fill or a length changed in
 * the yard, a move at another terminal from the place a box holds, a discharge from a
 * visit known at another terminal. Submitted, each of them is refused (the tests above). */
static void test_replay_format3_entries(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	e->replay = true;
	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 1));
	hold(&b, BOX_A, HT(CUSTOMS_HOLD), RELEASE, 2);
	b.rec.tenant_id = "T2";
	ok(e, &b.rec);
	assert_int_equal(get_box(e, BOX_A).holds, 0);
	ue(&b, UE(GATE_IN), BOX_A, "32G1", FE_FULL, 3);
	to_yard(&b, "3C", 1, 1, 1);
	ok(e, &b.rec);
	assert_string_equal(slot(e, "JPNGO-NCB/3C-01-01-1"), BOX_A);
	ok(e, ue(&b, UE(INSPECT), BOX_A, "42G1", FE_EMPTY, 4));
	assert_int_equal(get_box(e, BOX_A).full_empty, FE_EMPTY);
	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 5);
	b.rec.facility_id = "JPNGO-TCB";
	from_yard(&b, "3C", 1, 1, 1);
	ok(e, &b.rec);
	assert_int_equal(get_box(e, BOX_A).state, TS(DEPARTED));
	assert_string_equal(slot(e, "JPNGO-NCB/3C-01-01-1"), "");
	ok(e, vessel(&b, "V1", VP(WORKING), 6));
	ue(&b, UE(DISCHARGE), BOX_B, "22G1", FE_FULL, 7);
	b.rec.facility_id = "JPNGO-TCB";
	from_cell(&b, "V1", 1, 2, 82);
	to_yard(&b, "3C", 3, 1, 1);
	ok(e, &b.rec);
	assert_string_equal(slot(e, "JPNGO-TCB/3C-03-01-1"), BOX_B);
	/* the rules format 3 had still hold: a box cannot leave from where it is not */
	ue(&b, UE(GATE_OUT), BOX_B, "", 0, 8);
	from_yard(&b, "3C", 5, 1, 1);
	refused(e, &b.rec, HW_EPOS_MISMATCH, "unit_event.from");
}

/* Reefer readings: refused for an unknown box and a dry box, accepted for a reefer in the
 * yard, refused again once it has left. */
static void test_reefer(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	refused(e, reefer(&b, BOX_A, 1), HW_ENOT_REEFER, "reefer.container_id");
	gate_in(e, BOX_A, "22G1", FE_FULL, 1, 2);
	refused(e, reefer(&b, BOX_A, 3), HW_ENOT_REEFER, "reefer.container_id");
	gate_in(e, BOX_B, "22R1", FE_FULL, 3, 4);
	ok(e, reefer(&b, BOX_B, 5));
	assert_int_equal(get_box(e, BOX_B).last_event_ms, T0 + 5);
	ue(&b, UE(GATE_OUT), BOX_B, "", 0, 6);
	from_yard(&b, "3C", 3, 1, 1);
	ok(e, &b.rec);
	refused(e, reefer(&b, BOX_B, 7), HW_ENOT_REEFER, "reefer.container_id");
}

/* What a unit event reports is checked against the box it knows: a gross below the box's
 * tare or above its CSC maximum, a VGM above that maximum, and a reefer setting on a box
 * known not to be a reefer are refused even when the record itself leaves out the tare,
 * the maximum or the size/type (rules 9, 11-13). */
static void test_record_against_the_box(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ue(&b, UE(GATE_IN), BOX_A, "22G1", FE_FULL, 1);
	b.eq.tare_kg = 2200;
	b.eq.max_gross_kg = 30480;
	to_yard(&b, "3C", 1, 1, 1);
	ok(e, &b.rec);
	ue(&b, UE(INSPECT), BOX_A, "", 0, 2);
	b.ue.gross_kg = 1000;
	refused(e, &b.rec, HW_EWEIGHT, "unit_event.gross_kg");
	b.ue.gross_kg = 40000;
	refused(e, &b.rec, HW_EWEIGHT, "unit_event.gross_kg");
	b.ue.gross_kg = 24000;
	ok(e, &b.rec);
	refused(e, vgm(&b, BOX_A, 44000, 3), HW_EWEIGHT, "vgm.vgm_kg");
	ok(e, vgm(&b, BOX_A, 24100, 4));
	Tos__V1__ReeferSetting rs = TOS__V1__REEFER_SETTING__INIT;
	rs.setpoint_decic = -180;
	ue(&b, UE(INSPECT), BOX_A, "", 0, 5);
	b.ue.reefer = &rs;
	refused(e, &b.rec, HW_ENOT_REEFER, "unit_event.reefer");
}

/* Submitted, a refused record is accepted when the same record is replayed (an entry an
 * older primary accepted, docs/rules.md "Replay"). */
static void replayed_ok(struct env *e, const Tos__V1__Record *rec)
{
	e->replay = true;
	ok(e, rec);
	e->replay = false;
}

/* A box leaving by gate, rail or barge goes anywhere but a yard slot: one there would
 * list a departed box in a slot. */
static void test_depart_not_to_yard(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 1, 1);
	static const int out[] = {UE(GATE_OUT), UE(RAIL_OUT), UE(BARGE_OUT)};
	for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
		ue(&b, out[i], BOX_A, "", 0, 2);
		from_yard(&b, "3C", 1, 1, 1);
		to_yard(&b, "3C", 3, 1, 1);
		refused(e, &b.rec, HW_EPOSITION, "unit_event.to");
	}
	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 2);
	from_yard(&b, "3C", 1, 1, 1);
	to_truck(&b, "TV1", "L1");
	ok(e, &b.rec);
	assert_int_equal(get_box(e, BOX_A).state, TS(DEPARTED));
	assert_int_equal(table_count(e, e->t.slots), 0);
	gate_in(e, BOX_B, "22G1", FE_EMPTY, 1, 3);
	ue(&b, UE(GATE_OUT), BOX_B, "", 0, 4);
	from_yard(&b, "3C", 1, 1, 1);
	to_yard(&b, "3C", 3, 1, 1);
	replayed_ok(e, &b.rec);
}

/* A box loaded with its fill unknown took no VGM: it becomes FULL on board only with
 * one for the visit, and nothing is stuffed or stripped on board. */
static void test_fill_unknown_on_board(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V3", VP(WORKING), 1);
	gate_in(e, BOX_A, "22G1", 0, 1, 2);
	ue(&b, UE(LOAD), BOX_A, "", 0, 3);
	from_yard(&b, "3C", 1, 1, 1);
	to_cell(&b, "V3", 1, 2, 82);
	ok(e, &b.rec);
	refused(e, ue(&b, UE(INSPECT), BOX_A, "", FE_FULL, 4), HW_EVGM,
		"unit_event.equipment.full_empty");
	refused(e, ue(&b, UE(STUFF), BOX_A, "", 0, 4), HW_ELIFECYCLE, "unit_event.type");
	refused(e, ue(&b, UE(STRIP), BOX_A, "", 0, 4), HW_ELIFECYCLE, "unit_event.type");
	ok(e, ue(&b, UE(INSPECT), BOX_A, "", FE_EMPTY, 4)); /* the terminal learns it */
	assert_int_equal(get_box(e, BOX_A).full_empty, FE_EMPTY);
	gate_in(e, BOX_B, "22G1", 0, 3, 5);
	ue(&b, UE(LOAD), BOX_B, "", 0, 6);
	from_yard(&b, "3C", 3, 1, 1);
	to_cell(&b, "V3", 3, 2, 82);
	ok(e, &b.rec);
	ok(e, vgm(&b, BOX_B, 21000, 7));
	ok(e, ue(&b, UE(INSPECT), BOX_B, "", FE_FULL, 8));
	assert_int_equal(get_box(e, BOX_B).full_empty, FE_FULL);
	replayed_ok(e, ue(&b, UE(STUFF), BOX_A, "", 0, 9));
	assert_int_equal(get_box(e, BOX_A).full_empty, FE_FULL);
}

/* Equipment data that contradicts what the box is known to weigh: a CSC max gross below
 * its tare or its VGM, a tare above its max gross or its VGM. A gross reported before
 * (perhaps on an earlier visit) is not held against them. */
static void test_contradictory_weights(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ue(&b, UE(GATE_IN), BOX_A, "22G1", FE_FULL, 1);
	b.eq.tare_kg = 2200;
	b.ue.gross_kg = 24000;
	to_yard(&b, "3C", 1, 1, 1);
	ok(e, &b.rec);
	static const struct {
		uint32_t tare, max;
		const char *field;
	} bad[] = {
		{0, 2000, "unit_event.equipment.max_gross_kg"},  /* below the tare */
		{0, 24050, "unit_event.equipment.max_gross_kg"}, /* below the VGM (below) */
	};
	ok(e, vgm(&b, BOX_A, 24100, 2));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ue(&b, UE(INSPECT), BOX_A, "", 0, 3);
		b.eq.tare_kg = bad[i].tare;
		b.eq.max_gross_kg = bad[i].max;
		refused(e, &b.rec, HW_EWEIGHT, bad[i].field);
	}
	ue(&b, UE(INSPECT), BOX_A, "", 0, 3);
	b.eq.max_gross_kg = 30480;
	ok(e, &b.rec);
	ue(&b, UE(INSPECT), BOX_A, "", 0, 4);
	b.eq.tare_kg = 31000; /* above the max gross */
	refused(e, &b.rec, HW_EWEIGHT, "unit_event.equipment.tare_kg");
	b.eq.tare_kg = 25000; /* above the VGM */
	refused(e, &b.rec, HW_EWEIGHT, "unit_event.equipment.tare_kg");
	b.eq.tare_kg = 2300; /* a correction */
	ok(e, &b.rec);
	assert_int_equal(get_box(e, BOX_A).tare_kg, 2300);
	ue(&b, UE(INSPECT), BOX_A, "", 0, 5);
	b.eq.max_gross_kg = 2000;
	replayed_ok(e, &b.rec);
	/* a box that left 31 t (its plate unknown) comes back empty, with its plate */
	ue(&b, UE(GATE_IN), BOX_B, "22G1", FE_FULL, 6);
	b.ue.gross_kg = 31000;
	to_yard(&b, "3C", 3, 1, 1);
	ok(e, &b.rec);
	ue(&b, UE(GATE_OUT), BOX_B, "", 0, 7);
	from_yard(&b, "3C", 3, 1, 1);
	ok(e, &b.rec);
	ue(&b, UE(GATE_IN), BOX_B, "", FE_EMPTY, 8);
	b.eq.max_gross_kg = 30480;
	to_yard(&b, "3C", 3, 1, 1);
	ok(e, &b.rec);
	assert_int_equal(get_box(e, BOX_B).max_gross_kg, 30480);
}

/* On board as in the yard, a 20' box stands in an odd bay and a longer one in an even
 * bay: loaded, restowed, discharged from, or made longer where it stands. */
static void test_vessel_bays(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V3", VP(WORKING), 1);
	gate_in(e, BOX_A, "42G1", FE_EMPTY, 14, 2);
	ue(&b, UE(LOAD), BOX_A, "", 0, 3);
	from_yard(&b, "3C", 14, 1, 1);
	to_cell(&b, "V3", 3, 2, 82);
	refused(e, &b.rec, HW_EPOSITION, "unit_event.to.vessel.bay");
	to_cell(&b, "V3", 2, 2, 82);
	ok(e, &b.rec);
	ue(&b, UE(RESTOW), BOX_A, "", 0, 4);
	from_cell(&b, "V3", 2, 2, 82);
	to_cell(&b, "V3", 5, 2, 82);
	refused(e, &b.rec, HW_EPOSITION, "unit_event.to.vessel.bay");
	to_cell(&b, "V3", 6, 2, 82);
	ok(e, &b.rec);
	refused(e, ue(&b, UE(INSPECT), BOX_A, "22G1", 0, 5), HW_EPOSITION,
		"unit_event.equipment.iso_size_type");
	ue(&b, UE(DISCHARGE), BOX_B, "45G1", FE_EMPTY, 6);
	from_cell(&b, "V3", 7, 2, 82);
	to_yard(&b, "3C", 14, 1, 1);
	refused(e, &b.rec, HW_EPOSITION, "unit_event.from.vessel.bay");
	from_cell(&b, "V3", 8, 2, 82);
	ok(e, &b.rec);
	ue(&b, UE(RESTOW), BOX_A, "", 0, 7);
	from_cell(&b, "V3", 6, 2, 82);
	to_cell(&b, "V3", 9, 2, 82);
	replayed_ok(e, &b.rec);
	/* where an older primary put it, its other events are taken; a size is judged */
	ok(e, ue(&b, UE(ROLL), BOX_A, "", 0, 8));
	refused(e, ue(&b, UE(INSPECT), BOX_A, "42G1", 0, 8), HW_EPOSITION,
		"unit_event.equipment.iso_size_type");
}

/* Key/value: deleting a missing key is refused; keys are scoped by tenant. */
static void test_kv(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	refused(e, kv_del(&b, "T1", "berth/plan", 1), HW_ENOTFOUND, "kv_delete.key");
	ok(e, kv_put(&b, "T1", "berth/plan", "B1", 2));
	refused(e, kv_del(&b, "T2", "berth/plan", 3), HW_ENOTFOUND, "kv_delete.key");
	ok(e, kv_put(&b, "T2", "berth/plan", "B2", 3));
	assert_int_equal(table_count(e, e->t.kv), 2);
	ok(e, kv_del(&b, "T1", "berth/plan", 4));
	refused(e, kv_del(&b, "T1", "berth/plan", 5), HW_ENOTFOUND, "kv_delete.key");
	assert_int_equal(table_count(e, e->t.kv), 1);
}

/* A box LOADED on a WORKING vessel still has its visit (GATE_IN refused); once the
 * vessel has DEPARTED a new visit starts and the old VGM is gone. */
static void test_loaded_departed_new_visit(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	visit_to(e, "V1", VP(WORKING), 1);
	gate_in(e, BOX_A, "22G1", FE_FULL, 1, 2);
	ok(e, vgm(&b, BOX_A, 20000, 3));
	ue(&b, UE(LOAD), BOX_A, "", 0, 4);
	from_yard(&b, "3C", 1, 1, 1);
	to_cell(&b, "V1", 1, 2, 82);
	ok(e, &b.rec);
	ue(&b, UE(GATE_IN), BOX_A, "", 0, 5);
	to_yard(&b, "3C", 3, 1, 1);
	refused(e, &b.rec, HW_EDUP_VISIT, "unit_event.equipment.container_id");
	visit_to(e, "V1", VP(COMPLETE), 6);
	refused(e, &b.rec, HW_EDUP_VISIT, "unit_event.equipment.container_id");
	visit_to(e, "V1", VP(DEPARTED), 7);
	refused(e, ue(&b, UE(INSPECT), BOX_A, "", 0, 8), HW_ELIFECYCLE, "unit_event.type");
	gate_in(e, BOX_A, "", 0, 3, 9);
	struct hw_container c = get_box(e, BOX_A);
	assert_int_equal(c.state, TS(YARD));
	assert_int_equal(c.visits, 2);
	assert_int_equal(c.vgm_kg, 0);
}

/* Audit records are indexed by big-endian LSN; gate and EDI records touch no state. */
static void test_audit_and_log_only(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	rb_init(&b, 1);
	b.au = (Tos__V1__AuditEvent)TOS__V1__AUDIT_EVENT__INIT;
	b.au.actor = "ops1";
	b.au.action = "LOGIN";
	b.rec.payload_case = TOS__V1__RECORD__PAYLOAD_AUDIT;
	b.rec.audit = &b.au;
	e->lsn = 0x0102030405060707ull;
	ok(e, &b.rec);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn), 0);
	uint8_t key[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	MDB_val k = {.mv_size = 8, .mv_data = key}, v;
	assert_int_equal(mdb_get(txn, e->t.audit, &k, &v), 0);
	assert_int_equal(v.mv_size, 0);
	mdb_txn_abort(txn);

	size_t n0, n1;
	uint8_t *before = dump(e, &n0);
	Tos__V1__GateTransaction gt = TOS__V1__GATE_TRANSACTION__INIT;
	rb_init(&b, 2);
	b.rec.payload_case = TOS__V1__RECORD__PAYLOAD_GATE;
	b.rec.gate = &gt;
	ok(e, &b.rec);
	uint8_t *after = dump(e, &n1);
	assert_int_equal(n0, n1);
	assert_memory_equal(before, after, n0);
	free(before);
	free(after);
}

/* The container value is the documented fixed layout: 44 bytes + position, version 1,
 * little-endian numbers; names of states and holds come from the schema. */
static void test_encoding_and_names(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ue(&b, UE(GATE_IN), BOX_A, "22G1", FE_FULL, 1);
	b.eq.tare_kg = 0x01020304;
	to_yard(&b, "3C", 13, 5, 2);
	ok(e, &b.rec);
	MDB_txn *txn;
	assert_int_equal(mdb_txn_begin(e->env, NULL, MDB_RDONLY, &txn), 0);
	MDB_val k = {.mv_size = 11, .mv_data = BOX_A}, v;
	assert_int_equal(mdb_get(txn, e->t.containers, &k, &v), 0);
	const uint8_t *p = v.mv_data;
	assert_int_equal(v.mv_size, 44 + strlen("JPNGO-NCB/yard:3C-13-05-2"));
	assert_int_equal(p[0], 1);
	assert_int_equal(p[1], TS(YARD));
	assert_int_equal(p[2], FE_FULL);
	assert_memory_equal(p + 3, "22G1", 4);
	assert_memory_equal(p + 7, "\x04\x03\x02\x01", 4);
	assert_int_equal(p[23], 1); /* visits */
	assert_int_equal(p[43], strlen("JPNGO-NCB/yard:3C-13-05-2"));
	assert_memory_equal(p + 44, "JPNGO-NCB/yard:3C-13-05-2", p[43]);
	struct hw_container c;
	assert_int_equal(hw_state_container_get(txn, &e->t, BOX_C, &c), HW_ENOTFOUND);
	mdb_txn_abort(txn);
	assert_string_equal(hw_transit_state_name(TS(YARD)), "YARD");
	assert_string_equal(hw_transit_state_name(99), "?");
	assert_string_equal(hw_hold_type_name(HT(CUSTOMS_HOLD)), "CUSTOMS_HOLD");
	assert_string_equal(hw_hold_type_name(-1), "?");
}

/* One day's mixed records, refusals included. */
static void play_sequence(struct env *e)
{
	struct rb b;
	struct hw_reject rej;
	visit_to(e, "V7", VP(ARRIVED), 1);
	visit_to(e, "V7", VP(WORKING), 2);
	for (unsigned i = 0; i < 3; i++) {
		static const char *const ids[] = {BOX_A, BOX_B, BOX_C};
		ue(&b, UE(DISCHARGE), ids[i], i == 1 ? "45R1" : "22G1", FE_FULL, 10 + i);
		from_cell(&b, "V7", i == 1 ? 12 : 11 + 2 * i, 2, 82);
		to_yard(&b, "1A", i == 1 ? 4 : 7 + 2 * i, 3, 1);
		run(e, &b.rec, &rej);
	}
	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 20));
	ok(e, reefer(&b, BOX_B, 21));
	ok(e, wi(&b, "W9", BOX_C, WS(CREATED), 22));
	run(e, wi(&b, "W8", BOX_C, WS(CREATED), 23), &rej);
	ok(e, vgm(&b, BOX_C, 21000, 24));
	ue(&b, UE(LOAD), BOX_C, "", 0, 25);
	from_yard(&b, "1A", 11, 3, 1);
	to_cell(&b, "V7", 31, 2, 82);
	ok(e, &b.rec);
	ok(e, kv_put(&b, "T1", "k", "v", 26));
	run(e, kv_del(&b, "T1", "missing", 27), &rej);
	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), RELEASE, 28));
	ue(&b, UE(GATE_OUT), BOX_A, "", 0, 29);
	from_yard(&b, "1A", 7, 3, 1);
	ok(e, &b.rec);
}

/* The same records applied to two environments give byte-identical tables. */
static void test_determinism(void **state)
{
	struct fx *f = *state;
	env_open(&f->b);
	play_sequence(&f->a);
	play_sequence(&f->b);
	size_t na, nb;
	uint8_t *a = dump(&f->a, &na);
	uint8_t *b = dump(&f->b, &nb);
	assert_true(na > 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);
	assert_int_equal(get_box(&f->a, BOX_C).state, TS(LOADED));
	assert_int_equal(get_box(&f->a, BOX_A).state, TS(DEPARTED));
	assert_string_equal(slot(&f->a, "JPNGO-NCB/1A-03-03-1"), BOX_B);
	assert_string_equal(slot(&f->a, "JPNGO-NCB/1A-05-03-1"), BOX_B);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forty_two_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_overlapping_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_empty_without_vgm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vessel_not_workable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_visit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_time_backwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vessel_phase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_work_instructions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_tenants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thirty_foot_box, setup, teardown),
		cmocka_unit_test_setup_teardown(test_length_change_in_yard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_in_custody, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_iso_box, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_format3_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reefer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_against_the_box, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depart_not_to_yard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_unknown_on_board, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contradictory_weights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vessel_bays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loaded_departed_new_visit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_and_log_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encoding_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_determinism, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
