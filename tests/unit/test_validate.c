/* test_validate.c: the stateless record rules (replica/validate.h, docs/rules.md): one
 * test per rule with the bad inputs of tos-domain.md §8, and the inputs that must be
 * accepted on purpose. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hawser_error.h"
#include "hawser_limits.h"
#include "base/arena.h"
#include "replica/iso6346.h"
#include "replica/record.h"
#include "replica/validate.h"

/* 2023-11-14T22:13:20Z: the store's clock in every test. */
#define NOW_MS 1700000000000LL

/* Every message a baseline record of any kind needs, in one allocation per test. */
struct fx {
	Tos__V1__Record rec;
	Tos__V1__Source src;
	uint8_t id[16];
	uint8_t other_id[16];
	Tos__V1__UnitEvent ue;
	Tos__V1__Equipment eq;
	Tos__V1__Location from, to;
	Tos__V1__YardPos yfrom, yto;
	Tos__V1__VesselCell cfrom, cto;
	Tos__V1__Refs refs;
	char *bookings[HW_REPEATED_MAX + 1];
	Tos__V1__Hazard hz;
	Tos__V1__Hazard *dg[1];
	Tos__V1__ReeferSetting rs;
	Tos__V1__HoldEvent hold;
	Tos__V1__CustomsStatus customs;
	Tos__V1__ReeferReading reefer;
	Tos__V1__WorkInstruction wi;
	Tos__V1__GateTransaction gate;
	char *gate_ids[1];
	Tos__V1__VesselVisitEvent vv;
	Tos__V1__VgmDeclaration vgm;
	Tos__V1__EdiIngest edi;
	Tos__V1__AuditEvent audit;
	Tos__V1__KvPut kv_put;
	Tos__V1__KvDelete kv_delete;
	char big[HW_KV_VALUE_BYTES_MAX + 2];
	struct hw_reject rej;
};

static void envelope(struct fx *f)
{
	tos__v1__record__init(&f->rec);
	tos__v1__source__init(&f->src);
	memset(f->id, 0xA5, sizeof f->id);
	memset(f->other_id, 0x5A, sizeof f->other_id);
	f->rec.record_id.data = f->id;
	f->rec.record_id.len = sizeof f->id;
	f->rec.tenant_id = "nuts.tobishima-1";
	f->rec.facility_id = "JPNGO-TCB";
	f->rec.event_time_ms = NOW_MS - 60000;
	f->rec.record_time_ms = NOW_MS - 30000;
	f->rec.tz_offset_min = 540;
	f->rec.schema_version = 1;
	f->src.system = "TOS";
	f->src.device_id = "QC07";
	f->rec.source = &f->src;
}

static void yard(Tos__V1__Location *l, Tos__V1__YardPos *y, const char *block, uint32_t bay,
		 uint32_t row, uint32_t tier)
{
	tos__v1__location__init(l);
	tos__v1__yard_pos__init(y);
	y->block = (char *)block;
	y->bay = bay;
	y->row = row;
	y->tier = tier;
	l->where_case = TOS__V1__LOCATION__WHERE_YARD;
	l->yard = y;
}

static void cell(Tos__V1__Location *l, Tos__V1__VesselCell *c, const char *visit, uint32_t bay,
		 uint32_t row, uint32_t tier)
{
	tos__v1__location__init(l);
	tos__v1__vessel_cell__init(c);
	c->vessel_visit_id = (char *)visit;
	c->bay = bay;
	c->row = row;
	c->tier = tier;
	l->where_case = TOS__V1__LOCATION__WHERE_VESSEL;
	l->vessel = c;
}

/* Baseline unit event: a full 20' box discharged from a vessel cell into a yard slot. */
static void unit_event(struct fx *f)
{
	tos__v1__unit_event__init(&f->ue);
	tos__v1__equipment__init(&f->eq);
	tos__v1__refs__init(&f->refs);
	f->eq.container_id = "CSQU3054383";
	f->eq.iso_size_type = "22G1";
	f->eq.full_empty = TOS__V1__FULL_EMPTY__FE_FULL;
	f->eq.tare_kg = 2250;
	f->eq.line_operator = "MSC";
	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__DISCHARGE;
	f->ue.equipment = &f->eq;
	cell(&f->from, &f->cfrom, "MSCIRINA-023E", 14, 2, 82);
	yard(&f->to, &f->yto, "A1", 13, 4, 2);
	f->ue.from = &f->from;
	f->ue.to = &f->to;
	f->bookings[0] = "BKG0012345";
	f->refs.booking_nos = f->bookings;
	f->refs.n_booking_nos = 1;
	f->ue.refs = &f->refs;
	f->ue.gross_kg = 21400;
	f->ue.pol = "CNSHA";
	f->ue.pod = "JPNGO";
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_UNIT_EVENT;
	f->rec.unit_event = &f->ue;
}

static void with_dg(struct fx *f, const char *un, const char *cls)
{
	tos__v1__hazard__init(&f->hz);
	f->hz.un_number = (char *)un;
	f->hz.imdg_class = (char *)cls;
	f->dg[0] = &f->hz;
	f->ue.dg = f->dg;
	f->ue.n_dg = 1;
}

static void with_reefer(struct fx *f, int32_t setpoint_decic)
{
	tos__v1__reefer_setting__init(&f->rs);
	f->rs.setpoint_decic = setpoint_decic;
	f->ue.reefer = &f->rs;
}

static void hold(struct fx *f)
{
	tos__v1__hold_event__init(&f->hold);
	f->hold.container_id = "TRLU8132090";
	f->hold.hold = TOS__V1__HOLD_TYPE__CUSTOMS_HOLD;
	f->hold.action = TOS__V1__HOLD_ACTION__APPLY;
	f->hold.authority = "NAGOYA CUSTOMS";
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_HOLD;
	f->rec.hold = &f->hold;
}

static void customs(struct fx *f)
{
	tos__v1__customs_status__init(&f->customs);
	f->customs.container_id = "FSCU8710190";
	f->customs.state = TOS__V1__CUSTOMS_STATE__CS_RELEASED;
	f->customs.system = "NACCS";
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_CUSTOMS;
	f->rec.customs = &f->customs;
}

static void reefer(struct fx *f)
{
	tos__v1__reefer_reading__init(&f->reefer);
	f->reefer.container_id = "TEMU3412100";
	f->reefer.setpoint_decic = -180;
	f->reefer.supply_decic = -183;
	f->reefer.return_decic = -175;
	f->reefer.humidity_pct = 85;
	f->reefer.plugged = 1;
	f->reefer.source = "RMS";
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_REEFER;
	f->rec.reefer = &f->reefer;
}

static void wi(struct fx *f)
{
	tos__v1__work_instruction__init(&f->wi);
	f->wi.wi_id = "WI-000123";
	f->wi.container_id = "CSQU3054383";
	f->wi.kind = TOS__V1__MOVE_KIND__MK_YARD;
	yard(&f->from, &f->yfrom, "A1", 13, 4, 2);
	yard(&f->to, &f->yto, "B2", 21, 1, 1);
	f->wi.from = &f->from;
	f->wi.to = &f->to;
	f->wi.che_id = "RTG12";
	f->wi.state = TOS__V1__WI_STATE__CREATED;
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_WI;
	f->rec.wi = &f->wi;
}

static void gate(struct fx *f)
{
	tos__v1__gate_transaction__init(&f->gate);
	f->gate.truck_visit_id = "TV-778";
	f->gate.lane = "IN3";
	f->gate.plate = "NAGOYA 100 A 12-34";
	f->gate.tx = TOS__V1__GATE_TX_TYPE__RECEIVE_EXPORT;
	f->gate.stage = TOS__V1__GATE_STAGE__IN_GATE;
	f->gate.ocr_confidence_pct = 97;
	f->gate_ids[0] = "CSQU3054383";
	f->gate.container_ids = f->gate_ids;
	f->gate.n_container_ids = 1;
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_GATE;
	f->rec.gate = &f->gate;
}

static void vessel_visit(struct fx *f)
{
	tos__v1__vessel_visit_event__init(&f->vv);
	f->vv.visit_id = "MSCIRINA-023E";
	f->vv.imo = "9074729";
	f->vv.name = "MSC IRINA";
	f->vv.phase = TOS__V1__VISIT_PHASE__VP_ARRIVED;
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT;
	f->rec.vessel_visit = &f->vv;
}

static void vgm(struct fx *f)
{
	tos__v1__vgm_declaration__init(&f->vgm);
	f->vgm.container_id = "CSQU3054383";
	f->vgm.vgm_kg = 24100;
	f->vgm.method = TOS__V1__VGM_METHOD__SM1;
	f->vgm.weighed_at_ms = NOW_MS - 3600000;
	f->vgm.responsible_party = "SHIPPER KK";
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VGM;
	f->rec.vgm = &f->vgm;
}

static void edi(struct fx *f)
{
	tos__v1__edi_ingest__init(&f->edi);
	f->edi.msg_type = "BAPLIE";
	f->edi.version = "D:95B:UN:SMDG20";
	f->edi.interchange_ref = "000123";
	f->edi.lines_ok = 1119;
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_EDI;
	f->rec.edi = &f->edi;
}

static void audit(struct fx *f)
{
	tos__v1__audit_event__init(&f->audit);
	f->audit.actor = "ops.tanaka";
	f->audit.action = "VPN_SESSION";
	f->audit.src_addr = "2001:db8::17";
	f->audit.success = 1;
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_AUDIT;
	f->rec.audit = &f->audit;
}

static void kv_put(struct fx *f)
{
	tos__v1__kv_put__init(&f->kv_put);
	f->kv_put.key = "berth/plan/2023-11-15";
	f->kv_put.value.data = (uint8_t *)f->big;
	f->kv_put.value.len = 10;
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	f->rec.kv_put = &f->kv_put;
}

static void kv_delete(struct fx *f)
{
	tos__v1__kv_delete__init(&f->kv_delete);
	f->kv_delete.key = "berth/plan/2023-11-15";
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD_KV_DELETE;
	f->rec.kv_delete = &f->kv_delete;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	envelope(f);
	unit_event(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* hw_validate_record() of f's record, checked against hw_validate_decoded() of the same
 * record packed and decoded again (the store's path, with its decoder's word on the
 * strings): the two must say the same, so a string the decoder calls plain ASCII never
 * lets a control character, bad UTF-8 or an overlong field through in any test here. */
static int run(struct fx *f)
{
	memset(&f->rej, 0, sizeof f->rej);
	int rc = hw_validate_record(&f->rec, NOW_MS, &f->rej);
	size_t len = tos__v1__record__get_packed_size(&f->rec);
	if (len > HW_RECORD_BYTES_MAX) /* the decoder refuses it before any rule */
		return rc;
	uint8_t *buf = malloc(len + 1);
	assert_non_null(buf);
	assert_int_equal(tos__v1__record__pack(&f->rec, buf), len);
	struct hw_arena a;
	hw_arena_init(&a, 0, 0);
	Tos__V1__Record *back;
	struct hw_pbdec_text text;
	struct hw_reject rej;
	memset(&rej, 0, sizeof rej);
	assert_int_equal(hw_record_decode_text(buf, len, &a, &back, &text, &rej), 0);
	assert_int_equal(hw_validate_decoded(back, NOW_MS, &text, &rej), rc);
	assert_int_equal(rej.code, f->rej.code);
	assert_string_equal(rej.field, f->rej.field);
	assert_string_equal(rej.rule, f->rej.rule);
	hw_arena_fini(&a);
	free(buf);
	return rc;
}

static void expect_ok(struct fx *f)
{
	int rc = run(f);
	if (rc != 0)
		print_error("refused: %d %s: %s\n", rc, f->rej.field, f->rej.rule);
	assert_int_equal(rc, 0);
}

static void expect_reject(struct fx *f, int code, const char *field)
{
	int rc = run(f);
	if (rc != code)
		print_error("got %d %s: %s\n", rc, f->rej.field, f->rej.rule);
	assert_int_equal(rc, code);
	assert_int_equal(f->rej.code, code);
	assert_string_equal(f->rej.field, field);
	assert_true(f->rej.rule[0] != '\0');
}

/* ---------------------------------------------------------------- baselines */

/* The baseline record of every payload kind passes every rule. */
static void test_baseline_every_kind_accepted(void **state)
{
	struct fx *f = *state;
	void (*const kinds[])(struct fx *) = {unit_event, hold,  customs,      reefer,
					      wi,         gate,  vessel_visit, vgm,
					      edi,        audit, kv_put,       kv_delete};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		kinds[i](f);
		expect_ok(f);
	}
}

/* ---------------------------------------------------------------- envelope */

/* Any schema_version but 1 is HW_ESCHEMA (rule 41). */
static void test_schema_version(void **state)
{
	struct fx *f = *state;
	f->rec.schema_version = 2;
	expect_reject(f, HW_ESCHEMA, "schema_version");
	f->rec.schema_version = 0;
	expect_reject(f, HW_ESCHEMA, "schema_version");
}

/* record_id is 16 bytes (missing: HW_EMISSING, other length: HW_ERANGE); retracts 0 or 16. */
static void test_record_id_and_retracts(void **state)
{
	struct fx *f = *state;
	f->rec.record_id.len = 0;
	expect_reject(f, HW_EMISSING, "record_id");
	f->rec.record_id.len = 15;
	expect_reject(f, HW_ERANGE, "record_id");
	f->rec.record_id.len = 16;
	f->rec.retracts.data = f->other_id;
	f->rec.retracts.len = 8;
	expect_reject(f, HW_ERANGE, "retracts");
	f->rec.retracts.len = 16;
	expect_ok(f);
}

/* tenant_id is 1-32 of [A-Za-z0-9_.-]. */
static void test_tenant_id(void **state)
{
	struct fx *f = *state;
	f->rec.tenant_id = "";
	expect_reject(f, HW_EMISSING, "tenant_id");
	f->rec.tenant_id = "nuts tobishima";
	expect_reject(f, HW_ERANGE, "tenant_id");
	f->rec.tenant_id = "a23456789012345678901234567890123";
	expect_reject(f, HW_ERANGE, "tenant_id");
	f->rec.tenant_id = "a2345678901234567890123456789012";
	expect_ok(f);
}

/* facility_id is a UN/LOCODE with an optional -TERMINAL suffix (rule 20). */
static void test_facility_id(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"JP-NG",           "JPNG1",     "jpngo", "JPNGO-",
					  "JPNGO-ABCDEFGHI", "JPNGO_TCB", "JPNGOX"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->rec.facility_id = (char *)bad[i];
		expect_reject(f, HW_ERANGE, "facility_id");
	}
	f->rec.facility_id = "";
	expect_reject(f, HW_EMISSING, "facility_id");
	f->rec.facility_id = "JPNGO";
	expect_ok(f);
	f->rec.facility_id = "NLRTM-ECTDELTA";
	expect_ok(f);
}

/* Sentinel event times (1970-01-01, 2000-01-01) are refused (rule 24). */
static void test_event_time_sentinels(void **state)
{
	struct fx *f = *state;
	f->rec.record_time_ms = 0;
	f->rec.event_time_ms = 0;
	expect_reject(f, HW_ETIME, "event_time_ms");
	f->rec.event_time_ms = 946684800000LL; /* 2000-01-01 */
	expect_reject(f, HW_ETIME, "event_time_ms");
	f->rec.event_time_ms = HW_TIME_MIN_MS;
	expect_ok(f);
}

/* An event more than 5 minutes ahead of the store's clock is refused (rule 23). */
static void test_event_time_future(void **state)
{
	struct fx *f = *state;
	f->rec.record_time_ms = 0;
	f->rec.event_time_ms = NOW_MS + 10 * 60 * 1000;
	expect_reject(f, HW_ETIME, "event_time_ms");
	f->rec.event_time_ms = NOW_MS + HW_TIME_SKEW_MS;
	expect_ok(f);
}

/* record_time_ms, when given, is not before the event and not in the future. */
static void test_record_time(void **state)
{
	struct fx *f = *state;
	f->rec.record_time_ms = f->rec.event_time_ms - 1;
	expect_reject(f, HW_ETIME, "record_time_ms");
	f->rec.record_time_ms = NOW_MS + HW_TIME_SKEW_MS + 1;
	expect_reject(f, HW_ETIME, "record_time_ms");
	f->rec.record_time_ms = f->rec.event_time_ms;
	expect_ok(f);
}

/* tz_offset_min stays within -720..840 (UTC-12 to UTC+14). */
static void test_tz_offset(void **state)
{
	struct fx *f = *state;
	f->rec.tz_offset_min = 841;
	expect_reject(f, HW_ERANGE, "tz_offset_min");
	f->rec.tz_offset_min = -721;
	expect_reject(f, HW_ERANGE, "tz_offset_min");
	f->rec.tz_offset_min = -720;
	expect_ok(f);
}

/* A record without a payload is HW_EMISSING. */
static void test_empty_payload(void **state)
{
	struct fx *f = *state;
	f->rec.payload_case = TOS__V1__RECORD__PAYLOAD__NOT_SET;
	f->rec.unit_event = NULL;
	expect_reject(f, HW_EMISSING, "payload");
}

/* Enum numbers protobuf-c kept but the schema does not know are HW_ERANGE (rule 41). */
static void test_unknown_enum_values(void **state)
{
	struct fx *f = *state;
	f->ue.type = (Tos__V1__UnitEventType)99;
	expect_reject(f, HW_ERANGE, "unit_event.type");
	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__DISCHARGE;
	f->eq.full_empty = (Tos__V1__FullEmpty)3;
	expect_reject(f, HW_ERANGE, "unit_event.equipment.full_empty");
	hold(f);
	f->hold.action = (Tos__V1__HoldAction)99;
	expect_reject(f, HW_ERANGE, "hold.action");
	vessel_visit(f);
	f->vv.phase = (Tos__V1__VisitPhase)-1;
	expect_reject(f, HW_ERANGE, "vessel_visit.phase");
}

/* A required enum left at its UNSPECIFIED zero is HW_EMISSING. */
static void test_required_enums(void **state)
{
	struct fx *f = *state;
	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__UE_UNSPECIFIED;
	expect_reject(f, HW_EMISSING, "unit_event.type");
	hold(f);
	f->hold.hold = TOS__V1__HOLD_TYPE__HT_UNSPECIFIED;
	expect_reject(f, HW_EMISSING, "hold.hold");
	wi(f);
	f->wi.state = TOS__V1__WI_STATE__WS_UNSPECIFIED;
	expect_reject(f, HW_EMISSING, "wi.state");
}

/* ---------------------------------------------------------------- text */

/* hw_text_ok accepts UTF-8 text with tabs and refuses malformed UTF-8 and controls. */
static void test_text_ok(void **state)
{
	(void)state;
	assert_true(hw_text_ok("", 0));
	assert_true(hw_text_ok("Nagoya \xE5\x90\x8D\xE5\x8F\xA4\xE5\xB1\x8B\tport", 64));
	assert_true(hw_text_ok("\xF0\x9F\x9A\xA2", 4)); /* U+1F6A2, 4 bytes */
	assert_true(hw_text_ok("\xEF\xBF\xBD", 3));     /* U+FFFD */
	assert_false(hw_text_ok("abcd", 3));
	static const char *const bad[] = {
		"\xC0\xAF",         /* overlong '/' */
		"\xE0\x80\xAF",     /* overlong, 3 bytes */
		"\xF0\x80\x80\xAF", /* overlong, 4 bytes */
		"a\x80"
		"b",                /* lone continuation */
		"\xED\xA0\x80",     /* surrogate U+D800 */
		"\xF4\x90\x80\x80", /* U+110000 */
		"\xF5\x80\x80\x80", /* lead byte beyond U+10FFFF */
		"\xE3\x81",         /* truncated */
		"line\nbreak",      /* C0 control */
		"bell\x07",
		"del\x7F",
		"\xC2\x85",     /* C1 control NEL */
		"\xE2\x80\xA8", /* U+2028 line separator */
		"\xE2\x80\xA9", /* U+2029 paragraph separator */
		"\xFF",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(hw_text_ok(bad[i], 64));
}

/* A refused byte, a tab or a UTF-8 character at any place of an ASCII string of 1 to 24
 * bytes (in a block of 8, in the tail under 8, in a string under 8) is judged as alone. */
static void test_text_every_position(void **state)
{
	(void)state;
	static const char *const inserts[] = {"\x01", "\x7F", "\x80", "\t", "\xC3\xA9"};
	static const bool ok[] = {false, false, false, true, true};
	for (size_t len = 1; len <= 24; len++) {
		for (size_t pos = 0; pos < len; pos++) {
			for (size_t i = 0; i < sizeof inserts / sizeof inserts[0]; i++) {
				char s[32];
				size_t n = strlen(inserts[i]);
				memset(s, 'a', pos);
				memcpy(s + pos, inserts[i], n);
				memset(s + pos + n, 'a', len - pos - 1);
				s[len - 1 + n] = '\0';
				assert_int_equal(hw_text_ok(s, len - 1 + n), ok[i]);
				if (ok[i])
					assert_false(hw_text_ok(s, len - 2 + n));
			}
		}
	}
}

/* A reference counts characters, not bytes, wherever its UTF-8 character stands. */
static void test_text_chars_every_position(void **state)
{
	struct fx *f = *state;
	char ref[40];
	for (size_t pos = 0; pos <= 34; pos++) {
		memset(ref, 'A', pos);
		memcpy(ref + pos, "\xC3\xA9", 2);
		memset(ref + pos + 2, 'A', 34 - pos);
		ref[36] = '\0'; /* 35 characters, 36 bytes */
		f->bookings[0] = ref;
		expect_ok(f);
		ref[36] = 'A';
		ref[37] = '\0'; /* 36 characters */
		expect_reject(f, HW_ERANGE, "unit_event.refs.booking_nos[0]");
	}
}

/* Invalid UTF-8 in any string field is HW_EUTF8 naming the field (rules 6, 43). */
static void test_invalid_utf8_in_fields(void **state)
{
	struct fx *f = *state;
	f->src.device_id = "QC\xC0\xAF";
	expect_reject(f, HW_EUTF8, "source.device_id");
	f->src.device_id = "QC07";
	f->eq.line_operator = "\x80MSC";
	expect_reject(f, HW_EUTF8, "unit_event.equipment.line_operator");
	f->eq.line_operator = "MSC";
	f->cfrom.vessel_visit_id = "V\xED\xA0\x80";
	expect_reject(f, HW_EUTF8, "unit_event.from.vessel.vessel_visit_id");
	f->cfrom.vessel_visit_id = "MSCIRINA-023E";
	hold(f);
	f->hold.reason = "customs\r\nX-Injected: 1";
	expect_reject(f, HW_EUTF8, "hold.reason");
}

/* References stop at 35 characters (not bytes), free text at 512 bytes, lists at 64. */
static void test_text_limits(void **state)
{
	struct fx *f = *state;
	f->bookings[0] = "BKG456789012345678901234567890123456"; /* 36 */
	expect_reject(f, HW_ERANGE, "unit_event.refs.booking_nos[0]");
	/* 35 three-byte characters: 105 bytes, still an..35. */
	char kana[35 * 3 + 1];
	for (int i = 0; i < 35; i++)
		memcpy(kana + 3 * i, "\xE3\x82\xA2", 3);
	kana[sizeof kana - 1] = '\0';
	f->bookings[0] = kana;
	expect_ok(f);
	for (size_t i = 0; i <= HW_REPEATED_MAX; i++)
		f->bookings[i] = "BKG1";
	f->refs.n_booking_nos = HW_REPEATED_MAX + 1;
	expect_reject(f, HW_ERANGE, "unit_event.refs.booking_nos");
	f->refs.n_booking_nos = HW_REPEATED_MAX;
	expect_ok(f);
	hold(f);
	memset(f->big, 'x', HW_TEXT_BYTES_MAX + 1);
	f->big[HW_TEXT_BYTES_MAX + 1] = '\0';
	f->hold.reason = f->big;
	expect_reject(f, HW_ERANGE, "hold.reason");
	f->big[HW_TEXT_BYTES_MAX] = '\0';
	expect_ok(f);
}

/* ---------------------------------------------------------------- container numbers */

/* The ISO 6346 check digit, including remainder 10 giving 0 (python-stdnum's old bug). */
static void test_iso6346_check_digit(void **state)
{
	(void)state;
	assert_int_equal(hw_iso6346_check_digit("CSQU305438"), 3);
	assert_int_equal(hw_iso6346_check_digit("CBHU123456"), 1);
	assert_int_equal(hw_iso6346_check_digit("MSCU123456"), 6);
	assert_int_equal(hw_iso6346_check_digit("WSTU746039"), 7);
	static const char *const rem10[] = {"TRLU813209", "FSCU871019", "TEMU341210"};
	for (size_t i = 0; i < 3; i++) {
		unsigned sum = 0;
		for (int k = 0; k < 10; k++)
			sum += (unsigned)hw_iso6346_char_value(rem10[i][k]) << k;
		assert_int_equal(sum % 11u, 10); /* the case a missing "% 10" gets wrong */
		assert_int_equal(hw_iso6346_check_digit(rem10[i]), 0);
	}
	assert_int_equal(hw_iso6346_char_value('A'), 10);
	assert_int_equal(hw_iso6346_char_value('K'), 21);
	assert_int_equal(hw_iso6346_char_value('U'), 32);
	assert_int_equal(hw_iso6346_char_value('Z'), 38);
	assert_int_equal(hw_iso6346_check_digit("csqu305438"), -1);
}

/* A wrong check digit is HW_ECHECK_DIGIT (rule 1), on every payload that names a box. */
static void test_container_check_digit(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"CBHU1234567", "MSCU1234567", "WSTU7460390"};
	for (size_t i = 0; i < 3; i++) {
		f->eq.container_id = (char *)bad[i];
		expect_reject(f, HW_ECHECK_DIGIT, "unit_event.equipment.container_id");
	}
	/* A payload without Equipment may name a known non-ISO box (4 letters, 7 digits):
	 * its check digit is the apply step's to judge (test_apply test_non_iso_box); any
	 * other shape is refused here. */
	vgm(f);
	f->vgm.container_id = "WSTU7460390";
	expect_ok(f);
	f->vgm.container_id = "WSTU746039";
	expect_reject(f, HW_ECONTAINER_ID, "vgm.container_id");
	gate(f);
	f->gate_ids[0] = "CBHU1234567";
	expect_reject(f, HW_ECHECK_DIGIT, "gate.container_ids[0]");
}

/* Check digit 0 from remainder 10 is accepted (TRLU8132090, FSCU8710190, TEMU3412100). */
static void test_container_remainder10_accepted(void **state)
{
	struct fx *f = *state;
	static const char *const ok[] = {"TRLU8132090", "FSCU8710190", "TEMU3412100", "WSTU7460397",
					 "CBHU1234561"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		f->eq.container_id = (char *)ok[i];
		expect_ok(f);
	}
}

/* Malformed numbers are HW_ECONTAINER_ID (rules 2-5, 7): length, shape, case, spaces. */
static void test_container_shape(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"CSQU305438",   /* 10 characters: check digit missing */
		"CSQU30543831", /* 12 characters */
		"MSCU12345O7",  /* letter O in the serial */
		"C5QU3054383",  /* digit in the owner code */
		"csqu3054383",  /* lower case */
		"MWCU 5602541", /* embedded space */
		"MWCU-5602541", /* hyphen */
		"CSQX3054383",  /* category X */
		"",             /* blank on an executed move */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->eq.container_id = (char *)bad[i];
		expect_reject(f, HW_ECONTAINER_ID, "unit_event.equipment.container_id");
	}
	f->eq.container_id = "csqu3054383";
	run(f);
	assert_non_null(strstr(f->rej.rule, "lower-case"));
}

/* Non-ISO equipment (DPKO0008837) needs the explicit non_iso_id exemption (rule 3). */
static void test_container_non_iso(void **state)
{
	struct fx *f = *state;
	f->eq.container_id = "DPKO0008837";
	expect_reject(f, HW_ECONTAINER_ID, "unit_event.equipment.container_id");
	f->eq.non_iso_id = 1;
	expect_ok(f);
	f->eq.container_id = "DPKO000883";
	expect_reject(f, HW_ECONTAINER_ID, "unit_event.equipment.container_id");
	f->eq.container_id = "DPK00008837";
	expect_reject(f, HW_ECONTAINER_ID, "unit_event.equipment.container_id");
}

/* Look-alikes (Cyrillic С, full-width digits) are refused as non-ASCII, controls as
 * HW_EUTF8 (rule 6). */
static void test_container_lookalikes(void **state)
{
	struct fx *f = *state;
	f->eq.container_id = "\xD0\xA1SQU3054383"; /* U+0421 CYRILLIC CAPITAL ES */
	expect_reject(f, HW_ECONTAINER_ID, "unit_event.equipment.container_id");
	assert_non_null(strstr(f->rej.rule, "non-ASCII character"));
	f->eq.container_id = "CSQU305438\xEF\xBC\x93"; /* U+FF13 FULLWIDTH DIGIT THREE */
	expect_reject(f, HW_ECONTAINER_ID, "unit_event.equipment.container_id");
	assert_non_null(strstr(f->rej.rule, "non-ASCII character"));
	f->eq.container_id = "CSQU305438\x01"
			     "3";
	expect_reject(f, HW_EUTF8, "unit_event.equipment.container_id");
	/* The public check alone refuses a control character too. */
	assert_int_equal(hw_validate_container_id("CSQU\x7f"
						  "054383",
						  false, "x", NULL),
			 HW_ECONTAINER_ID);
}

/* ---------------------------------------------------------------- size/type */

/* Unknown size/type codes are HW_ESIZE_TYPE (rule 8). */
static void test_size_type_unknown(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"22X1", "99G1", "2299", "45G",  "45G11",
					  "5200", "2400", "Z2G1", "22Q0", "22g1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f->eq.iso_size_type = (char *)bad[i];
		expect_reject(f, HW_ESIZE_TYPE, "unit_event.equipment.iso_size_type");
	}
	f->eq.iso_size_type = ""; /* not yet known: the apply step decides */
	expect_ok(f);
}

/* ISO 6346:1995 codes and legacy 1984 codes (2200, 4200, 4500, 4530, 2232) pass. */
static void test_size_type_accepted(void **state)
{
	struct fx *f = *state;
	static const char *const ok[] = {"22G1", "45G1", "42G1", "45R1", "L5G1", "22GP",
					 "22U1", "22T6", "22P1", "45RT", "2200", "4200",
					 "4500", "4530", "2232", "4532"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		f->eq.iso_size_type = (char *)ok[i];
		expect_ok(f);
		assert_int_equal(hw_validate_size_type(ok[i], "t", NULL), 0);
	}
}

/* Reefer and length are read off the code, for 1995 and 1984 codes alike. */
static void test_size_type_reefer_and_length(void **state)
{
	(void)state;
	assert_true(hw_size_type_is_reefer("45R1"));
	assert_true(hw_size_type_is_reefer("22RT"));
	assert_true(hw_size_type_is_reefer("2232"));
	assert_true(hw_size_type_is_reefer("4532"));
	assert_false(hw_size_type_is_reefer("22G1"));
	assert_false(hw_size_type_is_reefer("22H0"));
	assert_false(hw_size_type_is_reefer("4500"));
	assert_int_equal(hw_size_type_length_ft("22G1"), 20);
	assert_int_equal(hw_size_type_length_ft("45G1"), 40);
	assert_int_equal(hw_size_type_length_ft("L5G1"), 45);
	assert_int_equal(hw_size_type_length_ft("2200"), 20);
	assert_int_equal(hw_size_type_length_ft("1200"), 10);
	assert_int_equal(hw_size_type_length_ft("P5G1"), 53);
}

/* A reefer set-point on a non-reefer box is HW_ENOT_REEFER (rule 9). */
static void test_reefer_setting_on_dry_box(void **state)
{
	struct fx *f = *state;
	with_reefer(f, -180);
	expect_reject(f, HW_ENOT_REEFER, "unit_event.reefer");
	f->eq.iso_size_type = "45R1";
	expect_ok(f);
	f->eq.iso_size_type = "2232";
	expect_ok(f);
	f->rs.setpoint_decic = -410;
	expect_reject(f, HW_ERANGE, "unit_event.reefer.setpoint_decic");
}

/* ---------------------------------------------------------------- weights */

/* Gross below tare is HW_EWEIGHT (rule 11); gross 0 means not given. */
static void test_gross_below_tare(void **state)
{
	struct fx *f = *state;
	f->ue.gross_kg = 2000;
	expect_reject(f, HW_EWEIGHT, "unit_event.gross_kg");
	f->ue.gross_kg = 0;
	expect_ok(f);
}

/* Gross above 45 t, or above the CSC plate's max gross, is HW_EWEIGHT (rule 12). */
static void test_gross_limits(void **state)
{
	struct fx *f = *state;
	f->ue.gross_kg = 45001;
	expect_reject(f, HW_EWEIGHT, "unit_event.gross_kg");
	f->ue.gross_kg = 30000;
	f->eq.max_gross_kg = 28000;
	expect_reject(f, HW_EWEIGHT, "unit_event.gross_kg");
	f->eq.max_gross_kg = 30480;
	expect_ok(f);
	f->eq.tare_kg = 12001;
	expect_reject(f, HW_EWEIGHT, "unit_event.equipment.tare_kg");
}

/* Real heavy boxes pass: 30.7 t in a 20', 36 t and 37.2 t in a 40'. */
static void test_heavy_boxes_accepted(void **state)
{
	struct fx *f = *state;
	f->ue.gross_kg = 30700;
	expect_ok(f);
	f->eq.iso_size_type = "45G1";
	f->eq.tare_kg = 3900;
	f->yto.bay = 14;
	f->ue.gross_kg = 36000;
	expect_ok(f);
	f->ue.gross_kg = 37200;
	expect_ok(f);
	f->ue.gross_kg = HW_GROSS_KG_MAX;
	expect_ok(f);
}

/* ---------------------------------------------------------------- places */

/* Ports are UN/LOCODEs and a box is not shipped to where it was loaded (rule 20). */
static void test_ports(void **state)
{
	struct fx *f = *state;
	f->ue.pol = "JP-NG";
	expect_reject(f, HW_ERANGE, "unit_event.pol");
	f->ue.pol = "CNSHA";
	f->ue.fpod = "US1AX";
	expect_reject(f, HW_ERANGE, "unit_event.fpod");
	f->ue.fpod = "USLAX";
	f->ue.pod = "CNSHA";
	expect_reject(f, HW_ERANGE, "unit_event.pod");
	f->ue.pod = "JPNGO";
	expect_ok(f);
}

/* Yard slots: block 1-4 [A-Z0-9], bay 1-99, row 1-20, tier 1-7 (rule 22). */
static void test_yard_slot_ranges(void **state)
{
	struct fx *f = *state;
	f->yto.tier = 8;
	expect_reject(f, HW_EPOSITION, "unit_event.to.yard.tier");
	f->yto.tier = 7;
	f->yto.row = 21;
	expect_reject(f, HW_EPOSITION, "unit_event.to.yard.row");
	f->yto.row = 20;
	f->yto.bay = 0;
	expect_reject(f, HW_EPOSITION, "unit_event.to.yard.bay");
	f->yto.bay = 99;
	f->yto.block = "ABCDE";
	expect_reject(f, HW_EPOSITION, "unit_event.to.yard.block");
	f->yto.block = "";
	expect_reject(f, HW_EPOSITION, "unit_event.to.yard.block");
	f->yto.block = "Z9";
	expect_ok(f);
}

/* Vessel cells: bay 1-199, row 0-25, tier 1-98, and a vessel visit (rule 21) whose
 * place text fits the 63 bytes the state keeps. */
static void test_vessel_cell_ranges(void **state)
{
	struct fx *f = *state;
	f->cfrom.bay = 200;
	expect_reject(f, HW_EPOSITION, "unit_event.from.vessel.bay");
	f->cfrom.bay = 199;
	f->cfrom.row = 26;
	expect_reject(f, HW_EPOSITION, "unit_event.from.vessel.row");
	f->cfrom.row = 0;
	f->cfrom.tier = 99;
	expect_reject(f, HW_EPOSITION, "unit_event.from.vessel.tier");
	f->cfrom.tier = 98;
	expect_ok(f);
	f->cfrom.vessel_visit_id = "";
	expect_reject(f, HW_EMISSING, "unit_event.from.vessel.vessel_visit_id");
	/* 19 characters, 57 bytes of UTF-8: the place's text would be 76 bytes, past the
	 * 63 the state keeps (cut, it would compare equal to another cell) */
	f->cfrom.vessel_visit_id = "\xe5\x90\x8d\xe5\x8f\xa4\xe5\xb1\x8b\xe4\xb8\xb8\xe7\xac\xac"
				   "\xe4\xb8\x80\xe8\x88\xaa\xe6\xb5\xb7\xe4\xba\x8c\xe3\x80\x87"
				   "\xe4\xba\x8c\xe4\xb8\x89\xe5\xb9\xb4\xe4\xb8\x83\xe6\x9c\x88"
				   "\xe5\x9b\x9b\xe6\x97\xa5\xe5\x85\xa5\xe6\xb8\xaf";
	expect_reject(f, HW_EPOSITION, "unit_event.from");
	f->cfrom.vessel_visit_id =
		"\xe5\x90\x8d\xe5\x8f\xa4\xe5\xb1\x8b\xe4\xb8\xb8"; /* 12 bytes */
	expect_ok(f);
}

/* DISCHARGE goes vessel cell to yard slot, LOAD the reverse. */
static void test_move_kinds_discharge_load(void **state)
{
	struct fx *f = *state;
	yard(&f->from, &f->yfrom, "A1", 15, 4, 2);
	expect_reject(f, HW_EPOSITION, "unit_event.from");
	cell(&f->from, &f->cfrom, "MSCIRINA-023E", 14, 2, 82);
	f->ue.to = NULL;
	expect_reject(f, HW_EPOSITION, "unit_event.to");

	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__LOAD;
	f->ue.from = &f->to;
	yard(&f->to, &f->yto, "A1", 13, 4, 2);
	f->ue.to = &f->from;
	expect_ok(f);
	f->ue.to = NULL;
	expect_reject(f, HW_EPOSITION, "unit_event.to");
	yard(&f->from, &f->yfrom, "B1", 13, 4, 2);
	f->ue.to = &f->from;
	expect_reject(f, HW_EPOSITION, "unit_event.to");
}

/* YARD_MOVE goes yard slot to a different yard slot. */
static void test_move_kinds_yard_move(void **state)
{
	struct fx *f = *state;
	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE;
	expect_reject(f, HW_EPOSITION, "unit_event.from");
	yard(&f->from, &f->yfrom, "A1", 13, 4, 2);
	expect_reject(f, HW_EPOSITION, "unit_event.to"); /* same slot */
	f->yfrom.tier = 3;
	expect_ok(f);
	f->ue.to = NULL;
	expect_reject(f, HW_EPOSITION, "unit_event.to");
}

/* Gate and rail moves: in to a yard slot from anywhere, out from a yard slot to
 * anywhere; RESTOW stays on one vessel visit; other events take any place. */
static void test_move_kinds_other(void **state)
{
	struct fx *f = *state;
	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__GATE_IN;
	f->ue.from = NULL;
	expect_ok(f);
	f->ue.to = NULL;
	expect_reject(f, HW_EPOSITION, "unit_event.to");
	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__RAIL_OUT;
	expect_reject(f, HW_EPOSITION, "unit_event.from");
	f->ue.from = &f->to;
	expect_ok(f);

	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__RESTOW;
	cell(&f->from, &f->cfrom, "MSCIRINA-023E", 14, 2, 82);
	cell(&f->to, &f->cto, "MSCIRINA-024W", 18, 2, 84);
	f->ue.from = &f->from;
	f->ue.to = &f->to;
	expect_reject(f, HW_EPOSITION, "unit_event.to.vessel.vessel_visit_id");
	f->cto.vessel_visit_id = "MSCIRINA-023E";
	expect_ok(f);

	f->ue.type = TOS__V1__UNIT_EVENT_TYPE__INSPECT;
	f->ue.from = NULL;
	f->ue.to = NULL;
	expect_ok(f);
}

/* ---------------------------------------------------------------- other payloads */

/* Hazards: UN numbers of 4 digits, IMDG class 1-9 with an optional division (rule 36). */
static void test_dangerous_goods(void **state)
{
	struct fx *f = *state;
	with_dg(f, "123", "3");
	expect_reject(f, HW_ERANGE, "unit_event.dg[0].un_number");
	with_dg(f, "1203", "10");
	expect_reject(f, HW_ERANGE, "unit_event.dg[0].imdg_class");
	with_dg(f, "1203", "0");
	expect_reject(f, HW_ERANGE, "unit_event.dg[0].imdg_class");
	with_dg(f, "1203", "3");
	expect_ok(f);
	with_dg(f, "1005", "2.3");
	expect_ok(f);
}

/* VGM: 1-45,000 kg (HW_EWEIGHT), method SM1 or SM2 (HW_EVGM, rule 13). */
static void test_vgm(void **state)
{
	struct fx *f = *state;
	vgm(f);
	f->vgm.method = TOS__V1__VGM_METHOD__VM_UNSPECIFIED;
	expect_reject(f, HW_EVGM, "vgm.method");
	f->vgm.method = TOS__V1__VGM_METHOD__SM2;
	expect_ok(f);
	f->vgm.vgm_kg = 0;
	expect_reject(f, HW_EWEIGHT, "vgm.vgm_kg");
	f->vgm.vgm_kg = HW_GROSS_KG_MAX + 1;
	expect_reject(f, HW_EWEIGHT, "vgm.vgm_kg");
	f->vgm.vgm_kg = HW_GROSS_KG_MAX;
	f->vgm.weighed_at_ms = 946684800000LL;
	expect_reject(f, HW_ETIME, "vgm.weighed_at_ms");
}

/* Reefer readings: humidity at most 100%, set-point within -40..+30 C (rule 35). */
static void test_reefer_reading(void **state)
{
	struct fx *f = *state;
	reefer(f);
	f->reefer.humidity_pct = 101;
	expect_reject(f, HW_ERANGE, "reefer.humidity_pct");
	f->reefer.humidity_pct = 100;
	f->reefer.setpoint_decic = -410;
	expect_reject(f, HW_ERANGE, "reefer.setpoint_decic");
	f->reefer.setpoint_decic = 301;
	expect_reject(f, HW_ERANGE, "reefer.setpoint_decic");
	f->reefer.setpoint_decic = -400;
	expect_ok(f);
	f->reefer.setpoint_decic = 300;
	expect_ok(f);
}

/* Holds need a known hold type and action; the number is checked as for moves. */
static void test_hold(void **state)
{
	struct fx *f = *state;
	hold(f);
	f->hold.action = TOS__V1__HOLD_ACTION__HA_UNSPECIFIED;
	expect_reject(f, HW_EMISSING, "hold.action");
	f->hold.action = TOS__V1__HOLD_ACTION__RELEASE;
	f->hold.hold = (Tos__V1__HoldType)8;
	expect_reject(f, HW_ERANGE, "hold.hold");
	f->hold.hold = TOS__V1__HOLD_TYPE__QUARANTINE;
	f->hold.container_id = "MSCU12345O7";
	expect_reject(f, HW_ECONTAINER_ID, "hold.container_id");
}

/* Vessel visits need an id; the IMO number is 7 digits, a wrong check digit is kept
 * (9074728, rule 18). */
static void test_vessel_visit(void **state)
{
	struct fx *f = *state;
	vessel_visit(f);
	f->vv.imo = "9074728";
	expect_ok(f);
	f->vv.imo = "907472";
	expect_reject(f, HW_ERANGE, "vessel_visit.imo");
	f->vv.imo = "IMO9074729";
	expect_reject(f, HW_ERANGE, "vessel_visit.imo");
	f->vv.imo = "";
	expect_ok(f);
	/* no phase: the visit made known, or its berth or names updated */
	f->vv.phase = TOS__V1__VISIT_PHASE__VP_UNSPECIFIED;
	expect_ok(f);
	f->vv.visit_id = "";
	expect_reject(f, HW_EMISSING, "vessel_visit.visit_id");
}

/* EDI summaries: a known message type and an accepted version (rule 51). */
static void test_edi(void **state)
{
	struct fx *f = *state;
	edi(f);
	f->edi.version = "D:99Z";
	expect_reject(f, HW_ERANGE, "edi.version");
	f->edi.version = "D:95BX";
	expect_reject(f, HW_ERANGE, "edi.version");
	static const char *const ok[] = {"D:95B", "D:00B", "D:16A", "D:911", "D:00B:UN:SMDG31"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		f->edi.version = (char *)ok[i];
		expect_ok(f);
	}
	f->edi.msg_type = "IFTMIN";
	expect_reject(f, HW_ERANGE, "edi.msg_type");
	f->edi.msg_type = "";
	expect_reject(f, HW_EMISSING, "edi.msg_type");
	f->edi.msg_type = "VERMAS";
	f->edi.raw_sha256.data = (uint8_t *)f->big;
	f->edi.raw_sha256.len = 31;
	expect_reject(f, HW_ERANGE, "edi.raw_sha256");
}

/* Audit events need an actor and an action. */
static void test_audit(void **state)
{
	struct fx *f = *state;
	audit(f);
	f->audit.actor = "";
	expect_reject(f, HW_EMISSING, "audit.actor");
	f->audit.actor = "ops.tanaka";
	f->audit.action = "";
	expect_reject(f, HW_EMISSING, "audit.action");
}

/* Key/value: keys of 1-256 bytes, values up to 32 KiB. */
static void test_kv(void **state)
{
	struct fx *f = *state;
	kv_put(f);
	memset(f->big, 'k', HW_KV_KEY_BYTES_MAX + 1);
	f->big[HW_KV_KEY_BYTES_MAX + 1] = '\0';
	f->kv_put.key = f->big;
	expect_reject(f, HW_ERANGE, "kv_put.key");
	f->big[HW_KV_KEY_BYTES_MAX] = '\0';
	expect_ok(f);
	f->kv_put.key = "k";
	f->kv_put.value.len = HW_KV_VALUE_BYTES_MAX + 1;
	expect_reject(f, HW_ERANGE, "kv_put.value");
	f->kv_put.value.len = HW_KV_VALUE_BYTES_MAX;
	expect_ok(f);
	kv_delete(f);
	f->kv_delete.key = "";
	expect_reject(f, HW_EMISSING, "kv_delete.key");
}

/* Work instructions need an id and a state; their places are range-checked. */
static void test_work_instruction(void **state)
{
	struct fx *f = *state;
	wi(f);
	f->yto.tier = 8;
	expect_reject(f, HW_EPOSITION, "wi.to.yard.tier");
	f->yto.tier = 1;
	f->wi.wi_id = "";
	expect_reject(f, HW_EMISSING, "wi.wi_id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_baseline_every_kind_accepted),
		T(test_schema_version),
		T(test_record_id_and_retracts),
		T(test_tenant_id),
		T(test_facility_id),
		T(test_event_time_sentinels),
		T(test_event_time_future),
		T(test_record_time),
		T(test_tz_offset),
		T(test_empty_payload),
		T(test_unknown_enum_values),
		T(test_required_enums),
		T(test_text_ok),
		T(test_text_every_position),
		T(test_text_chars_every_position),
		T(test_invalid_utf8_in_fields),
		T(test_text_limits),
		T(test_iso6346_check_digit),
		T(test_container_check_digit),
		T(test_container_remainder10_accepted),
		T(test_container_shape),
		T(test_container_non_iso),
		T(test_container_lookalikes),
		T(test_size_type_unknown),
		T(test_size_type_accepted),
		T(test_size_type_reefer_and_length),
		T(test_reefer_setting_on_dry_box),
		T(test_gross_below_tare),
		T(test_gross_limits),
		T(test_heavy_boxes_accepted),
		T(test_ports),
		T(test_yard_slot_ranges),
		T(test_vessel_cell_ranges),
		T(test_move_kinds_discharge_load),
		T(test_move_kinds_yard_move),
		T(test_move_kinds_other),
		T(test_dangerous_goods),
		T(test_vgm),
		T(test_reefer_reading),
		T(test_hold),
		T(test_vessel_visit),
		T(test_edi),
		T(test_audit),
		T(test_kv),
		T(test_work_instruction),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
