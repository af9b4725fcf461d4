/* workload_int.h: the generator's model, tables and shared helpers, for the files of
 * the workload module: workload.c (the terminal model, moves and the API) and
 * workload_records.c (the records other than moves, and the poison variants). Internal
 * to bench/; bench/workload.h is the contract. */
#ifndef HW_BENCH_WORKLOAD_INT_H
#define HW_BENCH_WORKLOAD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "bench/workload.h"
#include "hawser_limits.h"
#include "tos.pb-c.h"

/* Model bounds, per tenant. A terminal_peak yard holds at most WL_YARD_MAX boxes; with
 * the boxes on working vessels and the advised ones that stays below WL_BOXES_MAX. */
#define WL_BOXES_MAX   6144u
#define WL_YARD_MAX    2400u
#define WL_ADVISED_MAX 64u
#define WL_JOBS_MAX    48u
#define WL_JOBS_TARGET 16u
#define WL_VESSELS_MAX 4u
#define WL_TRUCKS_MAX  12u
#define WL_KV_KEYS     32u
#define WL_TENANTS_MAX 5u
#define WL_OWNERS      48u
/* Yard geometry, inside the limits of hawser_limits.h: 8 blocks of 30 twenty-foot bays
 * (odd bays 1..59; 40' boxes in the even bays 2..58), 8 rows, 5 tiers. */
#define WL_BLOCKS 8u
#define WL_BAYS   59u
#define WL_ROWS   8u
#define WL_TIERS  5u
_Static_assert(WL_BAYS <= HW_YARD_BAY_MAX && WL_ROWS <= HW_YARD_ROW_MAX &&
		       WL_TIERS <= HW_YARD_TIER_MAX,
	       "yard model must fit the yard position rules");
/* Scratch text per record: an EDI summary's error list is at most 48 x 400 bytes. */
#define WL_TEXT_BYTES (48u * 1024u)
/* Share of bad records in the poison profile (tos-domain.md §7: 1%). */
#define WL_POISON_PERMILLE 10u

/* ---------------------------------------------------------------- PRNG */

/* xoshiro256** seeded through splitmix64 (base/rng.h): fast, and the same on every
 * platform. */
struct rng {
	uint64_t s[4];
};

static inline uint64_t rnd(struct rng *r)
{
	return hw_xoshiro_next(r->s);
}

/* Uniform in 0..n-1 (n > 0), by multiply-shift: no division, bias below 2^-32. */
static inline uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * (uint64_t)n) >> 32);
}

static inline uint32_t between(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + below(r, hi - lo + 1);
}

static inline bool chance(struct rng *r, uint32_t permille)
{
	return below(r, 1000) < permille;
}

/* Roughly normal: the mean of four uniforms, scaled. */
static inline int32_t normalish(struct rng *r, int32_t mean, int32_t sd)
{
	int64_t sum = 0;
	for (int i = 0; i < 4; i++)
		sum += below(r, 2001);
	/* four uniforms on 0..2000: mean 4000, sd about 1155 */
	return mean + (int32_t)((sum - 4000) * sd / 1155);
}

/* ---------------------------------------------------------------- reference tables */

enum { CLS_20, CLS_40, CLS_45 };

struct size_type {
	const char *code;
	uint8_t cls;
	uint8_t reefer;
	uint16_t tare_lo, tare_hi;
};

/* 1995 codes plus the legacy 1984 ones real files still carry (tos-domain.md §2.3).
 * 45' boxes are length code L. */
static const struct size_type size_types[] = {
	{"22G1", CLS_20, 0, 2180, 2300}, {"2200", CLS_20, 0, 2200, 2330},
	{"22R1", CLS_20, 1, 2950, 3100}, {"2232", CLS_20, 1, 3000, 3150},
	{"42G1", CLS_40, 0, 3700, 3900}, {"45G1", CLS_40, 0, 3850, 4300},
	{"4200", CLS_40, 0, 3750, 3950}, {"4500", CLS_40, 0, 3900, 4250},
	{"45R1", CLS_40, 1, 4550, 4800}, {"L5G1", CLS_45, 0, 4800, 5000},
	{"L5R1", CLS_45, 1, 5200, 5400},
};
enum {
	ST_22G1,
	ST_2200,
	ST_22R1,
	ST_2232,
	ST_42G1,
	ST_45G1,
	ST_4200,
	ST_4500,
	ST_45R1,
	ST_L5G1,
	ST_L5R1
};

static const char *const lines[] = {"MSC", "MAE", "ONE", "CMA", "COS", "EMC",
				    "HLC", "YML", "HMM", "ZIM", "OOL", "WHL"};
#define N_LINES (sizeof(lines) / sizeof(lines[0]))
static const char *const ports[] = {"CNSHA", "CNNGB", "KRPUS", "TWKHH", "HKHKG", "SGSIN",
				    "USLAX", "THLCH", "VNSGN", "AUMEL", "CNTAO", "PHMNL"};
#define N_PORTS   (sizeof(ports) / sizeof(ports[0]))
#define HOME_PORT "JPNGO"
static const char *const vessel_names[] = {"ONE HARMONY",     "MSC AURORA",   "CAROLINE MAERSK",
					   "COSCO KAOHSIUNG", "EVER GIVEN",   "HYUNDAI PRIDE",
					   "YM WELLNESS",     "CMA CGM TAGE", "NYK VEGA",
					   "MOL TRIUMPH",     "WAN HAI 513",  "KOTA LUMBA"};
#define N_VESSEL_NAMES (sizeof(vessel_names) / sizeof(vessel_names[0]))

struct hazard_def {
	const char *un, *cls, *pg;
};
static const struct hazard_def hazards[] = {
	{"1263", "3", "II"}, {"1830", "8", "II"},  {"3480", "9", "II"},
	{"1203", "3", "II"}, {"2794", "8", "III"}, {"1950", "2.1", ""},
};
#define N_HAZARDS (sizeof(hazards) / sizeof(hazards[0]))

static const char *const damage_kinds[] = {"DT", "BR", "HO", "CU", "BW", "CR", "MS", "RU"};
static const char *const damage_parts[] = {"LX1N", "RX2N", "FX1N", "DX3N",
					   "BX1N", "TX4N", "UX2N", "LB1N"};
static const int16_t setpoints[] = {-250, -180, -100, 0, 20, 40, 130};
static const char *const edi_types[] = {"BAPLIE", "COPRAR", "COARRI", "CODECO",
					"COPARN", "VERMAS", "MOVINS"};
static const char *const edi_reasons[] = {
	"unknown ISO size/type code in EQD, the box was not created and needs manual entry "
	"at the planning desk before the vessel closes",
	"container number fails the ISO 6346 check digit, sender asked to correct and resend "
	"the message with the same interchange reference",
	"LOC+147 cell is not BBBRRTT parsable for this sender, six digit cells are only "
	"accepted from declared legacy senders",
	"MEA+AAE+VGM weight missing for a full export box, load list entry kept on hold until "
	"VERMAS arrives",
	"booking reference longer than the EDIFACT an..35 limit, truncated copy rejected",
	"port of loading equals port of discharge on a moving box, line asked to check stowage",
};
#define N_EDI_REASONS (sizeof(edi_reasons) / sizeof(edi_reasons[0]))
static const char *const audit_actions[] = {"LOGIN",          "LOGOUT",        "VPN_SESSION",
					    "PRIV_CHANGE",    "CONFIG_CHANGE", "EXPORT",
					    "PASSWORD_CHANGE"};
static const char *const audit_phrases[] = {
	"session opened from the operations floor workstation",
	"remote maintenance session through the vendor VPN gateway",
	"yard planning parameters changed for the reefer rack",
	"report of gate transactions exported to the customs broker portal",
	"role changed from clerk to supervisor for the night shift",
	"ゲート端末からのログイン（夜間シフト）",
	"berth window template updated after the schedule meeting",
	"failed attempt, account locked after five tries",
};
static const char *const trouble_phrases[] = {
	"seal number on the box does not match the seal number in the booking",
	"OCR read the container number with low confidence, clerk confirmed it by camera",
	"driver has no valid appointment for this time slot, sent to the waiting area",
	"customs release not yet received for the import box, truck turned back",
	"damage found on the right side panel during the in-gate inspection",
	"weight at the weighbridge differs from the declared VGM by more than five percent",
	"シール番号不一致のためトラブルデスクへ",
};

/* ---------------------------------------------------------------- profiles */

enum cat {
	C_MOVE,
	C_REEFER,
	C_GATE,
	C_HOLD,
	C_CUSTOMS,
	C_EDI,
	C_PREADVISE,
	C_AUDIT,
	C_KV,
	C_VGM,
	C_INSPECT,
	C_VESSEL,
	C_COUNT
};

struct tenant_def {
	const char *tenant;
	const char *facility;
	const char *code; /* 3 letters: prefix of visit, WI and truck ids */
	uint32_t weight;
	char block_letter;
};

/* A profile, named by its index in profile_names. */
struct profile {
	uint32_t rate_per_s; /* mean records per second: spreads event times */
	uint32_t n_tenants;
	const struct tenant_def *tenants;
	uint16_t mix[C_COUNT]; /* record kinds, per mille (tos-domain.md §7) */
	uint16_t reefer_permille;
	uint32_t plan_lo, plan_hi; /* moves per vessel visit, each way */
	bool small;                /* stress: no free text, no large records */
	bool poison;
};

static const struct tenant_def one_tenant[] = {{"T1", "JPNGO-TCB", "TCB", 1, 'A'}};
static const struct tenant_def stress_tenant[] = {{"S1", "JPNGO-STR", "STR", 1, 'S'}};
/* Nagoya's shared TOS (tos-domain.md §3.1): Nabeta, TCB, NCB, Tobishima S and N. */
static const struct tenant_def nagoya_tenants[] = {
	{"NABETA", "JPNGO-NBT", "NBT", 43, 'N'}, {"TCB", "JPNGO-TCB", "TCB", 22, 'T'},
	{"NCB", "JPNGO-NCB", "NCB", 21, 'C'},    {"TOBS", "JPNGO-TBS", "TBS", 10, 'S'},
	{"TOBN", "JPNGO-TBN", "TBN", 4, 'B'},
};

/* move, reefer, gate, hold, customs, edi, preadvise, audit, kv, vgm, inspect, vessel */
#define MIX_GATEWAY                                                                                \
	{                                                                                          \
		420, 270, 90, 50, 30, 30, 30, 30, 10, 25, 10, 1                                    \
	}
#define MIX_STRESS                                                                                 \
	{                                                                                          \
		300, 400, 30, 100, 80, 0, 20, 20, 0, 50, 0, 0                                      \
	}

enum { PROF_TERMINAL_PEAK, PROF_NAGOYA_PORT_PEAK, PROF_STRESS, PROF_POISON, N_PROFILES };

/* NULL-terminated, as hw_workload_profiles() returns it. */
static const char *const profile_names[N_PROFILES + 1] = {
	[PROF_TERMINAL_PEAK] = "terminal_peak",
	[PROF_NAGOYA_PORT_PEAK] = "nagoya_port_peak",
	[PROF_STRESS] = "stress",
	[PROF_POISON] = "poison",
	[N_PROFILES] = NULL,
};

static const struct profile profiles[N_PROFILES] = {
	[PROF_TERMINAL_PEAK] = {6, 1, one_tenant, MIX_GATEWAY, 70, 150, 600, false, false},
	[PROF_NAGOYA_PORT_PEAK] = {5, 5, nagoya_tenants, MIX_GATEWAY, 70, 100, 400, false, false},
	[PROF_STRESS] = {1000, 1, stress_tenant, MIX_STRESS, 250, 150, 600, true, false},
	[PROF_POISON] = {6, 1, one_tenant, MIX_GATEWAY, 70, 150, 600, false, true},
};

/* ---------------------------------------------------------------- model */

enum { PL_NONE, PL_YARD, PL_VESSEL, PL_TRUCK };
enum { B_FREE, B_PLANNED, B_ADVISED, B_YARD, B_LOADED };
enum { DIR_IMPORT, DIR_EXPORT };
enum { L_YARD, L_REEFER, L_HELD, L_CAND, L_COUNT };

/* A place: a yard slot (block index, bay, row, tier), a vessel cell (vessel slot, bay,
 * row, tier) or a truck. */
struct place {
	uint8_t kind;
	uint8_t block; /* yard block index, or vessel slot */
	uint8_t bay, row, tier;
	uint32_t truck;
};

struct box {
	char id[12];
	uint8_t st, cls, type, reefer, full, dir, holds, vgm, customs, dg, job, vessel;
	uint8_t line, port;
	int16_t setpoint;
	uint32_t tare, gross, max_gross, ref, ver;
	struct place at; /* yard slot while B_YARD, vessel cell while B_LOADED or on board */
	int32_t ix[L_COUNT];
};

/* An index list with O(1) removal: each box remembers its position in it. */
struct ilist {
	uint32_t n;
	uint32_t v[WL_BOXES_MAX];
};

struct visit {
	char id[16];
	uint8_t phase; /* 0: slot unused; else TOS__V1__VISIT_PHASE__* */
	uint8_t name, line, pol, pod, berth;
	uint32_t imo, voyage, wait, stall, jobs, advised;
	uint32_t plan_dsch, dsch_started, dsch_done;
	uint32_t plan_load, load_started, load_done;
	uint32_t cells[2]; /* next cell per bay parity */
};

struct job {
	uint32_t box;
	uint8_t ue, mk, wi_state, use_wi, vessel;
	uint16_t che;
	uint64_t wi_no;
	struct place from, to;
};

struct truck {
	uint64_t no;
	uint8_t stage, tx, n, lane;
	uint16_t plate;
	uint32_t appt;
	char ids[4][12];
};

struct term {
	const struct tenant_def *def;
	char blocks[WL_BLOCKS][5];
	struct box boxes[WL_BOXES_MAX];
	uint32_t free_stack[WL_BOXES_MAX];
	uint32_t n_free;
	struct ilist lists[L_COUNT]; /* yard, reefers (yard or on board), held, advised */
	uint32_t advised[2];         /* advised boxes per direction, each <= WL_ADVISED_MAX */
	uint8_t occ[WL_BLOCKS][WL_BAYS + 2][WL_ROWS + 1][WL_TIERS + 1];
	uint32_t incoming; /* yard slots reserved by inbound jobs */
	uint32_t exports;  /* export boxes in the yard or on their way in */
	struct job jobs[WL_JOBS_MAX];
	uint32_t n_jobs;
	struct visit visits[WL_VESSELS_MAX];
	struct truck trucks[WL_TRUCKS_MAX];
	uint32_t n_trucks;
	uint8_t kv_live[WL_KV_KEYS];
	uint64_t wi_seq, tv_seq, visit_seq, edi_seq, ev_seq;
};

struct locbuf {
	Tos__V1__Location loc;
	Tos__V1__YardPos yard;
	Tos__V1__VesselCell cell;
	Tos__V1__TruckPos truck;
};

/* The record being built: protobuf-c structs and the text they point to. Only the parts
 * a record uses are initialised. */
struct msg {
	Tos__V1__Record rec;
	Tos__V1__Source src;
	Tos__V1__UnitEvent ue;
	Tos__V1__Equipment eq;
	Tos__V1__Refs refs;
	char *bookings[1], *bls[1];
	Tos__V1__Seal seals[2];
	Tos__V1__Seal *sealp[2];
	Tos__V1__Hazard hz[1];
	Tos__V1__Hazard *hzp[1];
	Tos__V1__ReeferSetting rs;
	char *damage[HW_REPEATED_MAX];
	struct locbuf lf, lt;
	Tos__V1__HoldEvent hold;
	Tos__V1__CustomsStatus cus;
	Tos__V1__ReeferReading rr;
	char *alarms[1];
	Tos__V1__WorkInstruction wi;
	Tos__V1__GateTransaction gate;
	char *cids[4];
	Tos__V1__VesselVisitEvent vv;
	Tos__V1__VgmDeclaration vgm;
	Tos__V1__EdiIngest edi;
	char *errors[HW_REPEATED_MAX];
	Tos__V1__AuditEvent au;
	Tos__V1__KvPut kp;
	Tos__V1__KvDelete kd;
	uint8_t id[HW_RECORD_ID_BYTES];
	uint8_t bin[200];
	const char *kind;
	int expect;
	int64_t event_ms; /* 0: the draw's time */
	size_t txt_used;
	char txt[WL_TEXT_BYTES];
};

struct hw_workload {
	const struct profile *p;
	struct rng rng;
	uint32_t lane;
	uint64_t count, drawn;
	int64_t end_ms, now_ms, step_ms;
	uint64_t step_rem, step_acc;
	uint32_t weight_sum, mix_sum;
	char owners[WL_OWNERS][5];
	uint32_t owner_serial[WL_OWNERS];
	uint8_t last_good_id[HW_RECORD_ID_BYTES];
	bool have_good;
	struct msg m;
	uint32_t n_terms;
	struct term terms[];
};

/* ---------------------------------------------------------------- shared helpers */

int32_t hw__box_new(struct hw_workload *w, struct term *t, uint8_t dir);
bool hw__emit_move(struct hw_workload *w, struct term *t);
void hw__list_add(struct term *t, int which, uint32_t b);
void hw__list_del(struct term *t, int which, uint32_t b);
int32_t hw__list_pick(struct hw_workload *w, struct term *t, int which);
char *hw__long_text(struct hw_workload *w, const char *const *ph, uint32_t n_ph, uint32_t lo,
		    uint32_t hi);
/* Box predicates for hw__yard_probe(). */
bool hw__idle_box(const struct box *b);
bool hw__import_ready(const struct box *b);
bool hw__export_ready(const struct box *b);
bool hw__needs_vgm(const struct box *b);
bool hw__customs_open(const struct box *b);
bool hw__any_box(const struct box *b);
void hw__set_source(struct hw_workload *w, const char *system, const char *device);
bool hw__slot_find(struct hw_workload *w, const struct term *t, uint8_t cls, struct place *out);
/* printf into the record's scratch text; the result lives until the next draw. */
char *hw__txt(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hw__unit_event(struct hw_workload *w, struct term *t, struct box *b, int type,
		    const struct place *from, const struct place *to, const char *wi_id);
struct place hw__vessel_cell(uint8_t slot, uint8_t cls, uint32_t k);
bool hw__vessel_due(struct hw_workload *w, struct term *t, bool force);
int hw__visit_in_phase(struct hw_workload *w, struct term *t, int lo, int hi);
int32_t hw__yard_probe(struct hw_workload *w, struct term *t, bool (*ok)(const struct box *),
		       int tries);
bool hw__emit_cat(struct hw_workload *w, struct term *t, int c);
int hw__poison(struct hw_workload *w, struct term *t);

#endif
