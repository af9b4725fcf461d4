/* test_apply_unvalidated.c: hw_apply() on records hw_validate_record() would refuse but
 * hw_record_decode() accepts (an entry a primary made reaches apply unvalidated): what
 * apply cannot keep or name is refused with a typed code and changes no table, as a
 * submit and as a replay, instead of an assertion, a crash or a store read as damaged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "apply_fix.h"

/* A tenant longer than a hold value's length byte (an assertion in hw__hold_value) or
 * than the kv key keeps (two tenants would share keys). */
static void test_tenant_too_long(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	char tenant[301];
	memset(tenant, 'a', sizeof tenant - 1);
	tenant[sizeof tenant - 1] = '\0';
	struct rb b;
	for (int replay = 0; replay < 2; replay++) {
		e->replay = replay;
		hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 1);
		b.rec.tenant_id = tenant;
		refused(e, &b.rec, HW_ERANGE, "tenant_id");
		tenant[33] = '\0';
		refused(e, kv_put(&b, tenant, "k", "v", 1), HW_ERANGE, "tenant_id");
		tenant[33] = 'a';
	}
	assert_int_equal(table_count(e, e->t.holds), 0);
	assert_int_equal(table_count(e, e->t.kv), 0);
	tenant[32] = '\0'; /* the longest a tenant may be */
	ok(e, kv_put(&b, tenant, "k", "v", 1));
	ok(e, hold(&b, BOX_A, HT(CUSTOMS_HOLD), APPLY, 2));
}

/* A facility with a '/' starts a position whose slots, read back from its text, are not
 * those the box took: the box's next move found the slots table "damaged" (MDB_CORRUPTED,
 * a storage failure). One longer than a slot key keeps is refused too. */
static void test_facility_unkeepable(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	static const char *const bad[] = {"J/yard:", "JPNGO/NCB", "JPNGO-ABCDEFGHI"};
	struct rb b;
	for (int replay = 0; replay < 2; replay++) {
		e->replay = replay;
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			ue(&b, UE(GATE_IN), BOX_A, "22G1", FE_EMPTY, 1);
			b.rec.facility_id = (char *)bad[i];
			to_yard(&b, "C", 3, 1, 1);
			refused(e, &b.rec, HW_ERANGE, "facility_id");
			vessel(&b, "V1", VP(ARRIVED), 1);
			b.rec.facility_id = (char *)bad[i];
			refused(e, &b.rec, HW_ERANGE, "facility_id");
		}
	}
	/* The longest facility still moves its box from slot to slot. */
	ue(&b, UE(GATE_IN), BOX_A, "22G1", FE_EMPTY, 1);
	b.rec.facility_id = "JPNGO-ABCDEFGH";
	to_yard(&b, "C", 3, 1, 1);
	ok(e, &b.rec);
	ue(&b, UE(YARD_MOVE), BOX_A, "", 0, 2);
	b.rec.facility_id = "JPNGO-ABCDEFGH";
	from_yard(&b, "C", 3, 1, 1);
	to_yard(&b, "C", 5, 1, 1);
	ok(e, &b.rec);
	assert_string_equal(slot(e, "JPNGO-ABCDEFGH/C-03-01-1"), "");
	assert_string_equal(slot(e, "JPNGO-ABCDEFGH/C-05-01-1"), BOX_A);
}

/* full_empty outside the enum: one above 255 reached the assertion in
 * hw__container_encode, one within it was stored as a fill nobody can name. */
static void test_full_empty_unknown(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	static const int bad[] = {300, -1, 1};
	struct rb b;
	for (int replay = 0; replay < 2; replay++) {
		e->replay = replay;
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			ue(&b, UE(GATE_IN), BOX_A, "22G1", bad[i], 1);
			to_yard(&b, "3C", 13, 1, 1);
			refused(e, &b.rec, HW_ERANGE, "unit_event.equipment.full_empty");
		}
	}
	assert_int_equal(table_count(e, e->t.containers), 0);
}

/* A vessel phase outside the enum was stored, and the next LOAD or DISCHARGE at that
 * visit dereferenced the NULL name protobuf-c gives for it (a segmentation fault). */
static void test_vessel_phase_unknown(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	for (int replay = 0; replay < 2; replay++) {
		e->replay = replay;
		refused(e, vessel(&b, "V1", 77, 1), HW_ERANGE, "vessel_visit.phase");
		refused(e, vessel(&b, "V1", -3, 1), HW_ERANGE, "vessel_visit.phase");
	}
	assert_int_equal(table_count(e, e->t.vessels), 0);
	e->replay = false;
	ue(&b, UE(DISCHARGE), BOX_A, "22G1", FE_EMPTY, 2);
	from_cell(&b, "V1", 13, 1, 2);
	to_yard(&b, "3C", 13, 1, 1);
	refused(e, &b.rec, HW_EVESSEL_STATE, "unit_event.from.vessel.vessel_visit_id");
}

/* A vessel cell without a visit id: vessel_workable() looked its phase up under a key
 * hw__vessel_key() had left unwritten. */
static void test_cell_without_visit(void **state)
{
	struct fx *f = *state;
	struct env *e = &f->a;
	struct rb b;
	ue(&b, UE(DISCHARGE), BOX_A, "22G1", FE_EMPTY, 1);
	from_cell(&b, "", 13, 1, 2);
	to_yard(&b, "3C", 13, 1, 1);
	refused(e, &b.rec, HW_EMISSING, "unit_event.from.vessel.vessel_visit_id");
	gate_in(e, BOX_A, "22G1", FE_EMPTY, 13, 2);
	ue(&b, UE(LOAD), BOX_A, "", 0, 3);
	from_yard(&b, "3C", 13, 1, 1);
	to_cell(&b, "", 13, 1, 2);
	refused(e, &b.rec, HW_EMISSING, "unit_event.to.vessel.vessel_visit_id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tenant_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_facility_unkeepable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_empty_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vessel_phase_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cell_without_visit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
