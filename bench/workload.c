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

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "hawser_error.h"
#include "hawser_limits.h"
#include "replica/iso6346.h"
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

/* xoshiro256** seeded through splitmix64: fast, and the same on every platform. */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in 0..n-1 (n > 0), by multiply-shift: no division, bias below 2^-32. */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * (uint64_t)n) >> 32);
}

static uint32_t between(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + below(r, hi - lo + 1);
}

static bool chance(struct rng *r, uint32_t permille)
{
	return below(r, 1000) < permille;
}

/* Roughly normal: the mean of four uniforms, scaled. */
static int32_t normalish(struct rng *r, int32_t mean, int32_t sd)
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

struct profile {
	const char *name;
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

static const struct profile profiles[] = {
	{"terminal_peak", 6, 1, one_tenant, MIX_GATEWAY, 70, 150, 600, false, false},
	{"nagoya_port_peak", 5, 5, nagoya_tenants, MIX_GATEWAY, 70, 100, 400, false, false},
	{"stress", 1000, 1, stress_tenant, MIX_STRESS, 250, 150, 600, true, false},
	{"poison", 6, 1, one_tenant, MIX_GATEWAY, 70, 150, 600, false, true},
};
#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static const char *const profile_names[N_PROFILES + 1] = {"terminal_peak", "nagoya_port_peak",
							  "stress", "poison", NULL};

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
	char blocks[WL_BLOCKS][3];
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

/* ---------------------------------------------------------------- small helpers */

static char *txt(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* printf into the record's scratch text; the result lives until the next draw. */
static char *txt(struct msg *m, const char *fmt, ...)
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
static char *long_text(struct hw_workload *w, const char *const *ph, uint32_t n_ph, uint32_t lo,
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

static void list_add(struct term *t, int which, uint32_t b)
{
	struct ilist *l = &t->lists[which];
	HW_ASSERT(t->boxes[b].ix[which] < 0 && l->n < WL_BOXES_MAX);
	t->boxes[b].ix[which] = (int32_t)l->n;
	l->v[l->n++] = b;
}

static void list_del(struct term *t, int which, uint32_t b)
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
static int32_t list_pick(struct hw_workload *w, struct term *t, int which)
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

static int32_t box_new(struct hw_workload *w, struct term *t, uint8_t dir)
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
			list_del(t, k, i);
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
static bool slot_find(struct hw_workload *w, const struct term *t, uint8_t cls, struct place *out)
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
static int32_t yard_probe(struct hw_workload *w, struct term *t, bool (*ok)(const struct box *),
			  int tries)
{
	for (int i = 0; i < tries; i++) {
		int32_t b = list_pick(w, t, L_YARD);
		if (b < 0)
			return -1;
		if (ok(&t->boxes[b]))
			return b;
	}
	return -1;
}

static bool idle_box(const struct box *b)
{
	return !b->job;
}

static bool import_ready(const struct box *b)
{
	return !b->job && !b->holds && b->dir == DIR_IMPORT;
}

static bool export_ready(const struct box *b)
{
	return !b->job && !b->holds && b->dir == DIR_EXPORT && (b->vgm || !b->full);
}

static bool needs_vgm(const struct box *b)
{
	return b->dir == DIR_EXPORT && b->full && !b->vgm;
}

static bool customs_open(const struct box *b)
{
	return b->customs != TOS__V1__CUSTOMS_STATE__CS_RELEASED &&
	       b->customs != TOS__V1__CUSTOMS_STATE__EXPORT_PERMITTED;
}

static bool any_box(const struct box *b)
{
	(void)b;
	return true;
}

/* Cell k of a visit for a box of class cls: 20' boxes in bays 1, 5, 9 ..., 40'/45' in
 * bays 2, 6, 10 ...; rows 1-20; tiers 02-16 in the hold and 82-96 on deck. */
static struct place vessel_cell(uint8_t slot, uint8_t cls, uint32_t k)
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
		lb->truck.truck_visit_id = txt(m, "TV%s%07u", t->def->code, p->truck);
		lb->truck.lane = txt(m, "L%02u", p->truck % 12 + 1);
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
static void set_source(struct hw_workload *w, const char *system, const char *device)
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
		m->src.user_id = txt(m, "ops%02u", between(&w->rng, 1, 40));
	m->src.offline_capture = chance(&w->rng, 2);
	m->rec.source = &m->src;
}

/* A unit event about box b. Moves name from and to; status events name neither. */
static void unit_event(struct hw_workload *w, struct term *t, struct box *b, int type,
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
		m->bls[0] = txt(m, "%sU%09u", lines[b->line], b->ref);
		m->refs.n_bl_nos = 1;
		m->refs.bl_nos = m->bls;
	} else if (b->full) {
		m->bookings[0] = txt(m, "%s%09u", lines[b->line], b->ref);
		m->refs.n_booking_nos = 1;
		m->refs.booking_nos = m->bookings;
	}
	ue->refs = &m->refs;
	if (b->full) {
		tos__v1__seal__init(&m->seals[0]);
		m->seals[0].number = txt(m, "%s%07u", lines[b->line], b->ref % 10000000u);
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
	set_source(w, "TOS", t->blocks[b->at.kind == PL_YARD ? b->at.block : 0]);
}

static char *wi_name(struct msg *m, const struct term *t, uint64_t no)
{
	return txt(m, "WI%s%09llu", t->def->code, (unsigned long long)no);
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
	wi->che_id = txt(m, "%s%02u", quay ? "QC" : "RTG", j->che);
	wi->state = (Tos__V1__WiState)state;
	wi->sequence = (uint32_t)(j->wi_no % 100000u);
	if (quay)
		wi->point_of_work = txt(m, "%s@BERTH%u", wi->che_id, t->visits[j->vessel].berth);
	else
		wi->point_of_work =
			txt(m, "%s@%s", wi->che_id,
			    t->blocks[j->to.kind == PL_YARD ? j->to.block : j->from.block]);
	if (state == TOS__V1__WI_STATE__CANCELLED)
		wi->fail_reason = "target stack replanned by the yard planner";
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_WI;
	m->rec.wi = wi;
	m->rec.entity_version = (uint64_t)state;
	m->kind = "wi";
	set_source(w, "ECS", wi->che_id);
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
	vv->imo = txt(m, "%07u", v->imo);
	vv->call_sign = txt(m, "3F%c%c%u", 'A' + v->name, 'A' + v->line, v->imo % 10);
	vv->name = (char *)vessel_names[v->name];
	vv->voyage_in = txt(m, "%03uE", v->voyage);
	vv->voyage_out = txt(m, "%03uW", v->voyage);
	vv->operator_ = (char *)lines[v->line];
	vv->phase = (Tos__V1__VisitPhase)v->phase;
	vv->berth = txt(m, "BERTH%u", v->berth);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT;
	m->rec.vessel_visit = vv;
	m->rec.entity_version = v->phase;
	m->kind = "vessel_visit";
	set_source(w, "TOS", "BERTHPLAN");
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
static bool vessel_due(struct hw_workload *w, struct term *t, bool force)
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
static int visit_in_phase(struct hw_workload *w, struct term *t, int lo, int hi)
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

static bool start_discharge(struct hw_workload *w, struct term *t, struct job **out)
{
	int s = visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_ARRIVED,
			       TOS__V1__VISIT_PHASE__VP_WORKING);
	if (s < 0 || yard_full(t))
		return false;
	struct visit *v = &t->visits[s];
	if (v->dsch_started == v->plan_dsch) {
		/* another working visit may still have boxes to discharge */
		s = visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_ARRIVED,
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
	bool fresh = bi < 0;
	if (fresh && (bi = box_new(w, t, DIR_IMPORT)) < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct place to;
	if (!slot_find(w, t, b->cls, &to)) {
		if (fresh)
			box_retire(t, (uint32_t)bi);
		return false;
	}
	if (!fresh) {
		list_del(t, L_CAND, (uint32_t)bi);
		t->advised[DIR_IMPORT]--;
		v->advised--;
	}
	b->vessel = (uint8_t)s;
	b->at = vessel_cell((uint8_t)s, b->cls, v->cells[b->cls != CLS_20]++);
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
	int s = visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_WORKING,
			       TOS__V1__VISIT_PHASE__VP_WORKING);
	if (s < 0)
		return false;
	struct visit *v = &t->visits[s];
	if (v->load_started == v->plan_load)
		return false;
	int32_t bi = yard_probe(w, t, export_ready, 24);
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
	j->to = vessel_cell((uint8_t)s, b->cls, v->cells[b->cls != CLS_20]++);
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
			int32_t c = list_pick(w, t, L_CAND);
			if (c >= 0 && t->boxes[c].dir == DIR_EXPORT)
				bi = c;
		}
	}
	bool fresh = bi < 0;
	if (fresh && (bi = box_new(w, t, DIR_EXPORT)) < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct place to;
	if (!slot_find(w, t, b->cls, &to)) {
		if (fresh)
			box_retire(t, (uint32_t)bi);
		return false;
	}
	if (!fresh) {
		list_del(t, L_CAND, (uint32_t)bi);
		t->advised[DIR_EXPORT]--;
	}
	struct job *j = job_add(w, t, (uint32_t)bi, TOS__V1__UNIT_EVENT_TYPE__GATE_IN,
				TOS__V1__MOVE_KIND__MK_RECV);
	j->from = (struct place){.kind = PL_TRUCK, .truck = (uint32_t)++t->tv_seq};
	j->to = to;
	slot_set(t, b->cls, &to, 1);
	t->incoming++;
	t->exports++;
	*out = j;
	return true;
}

static bool start_gate_out(struct hw_workload *w, struct term *t, struct job **out)
{
	int32_t bi = yard_probe(w, t, import_ready, 24);
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
	int32_t bi = yard_probe(w, t, idle_box, 8);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct place to;
	if (!slot_find(w, t, b->cls, &to))
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
	unit_event(w, t, b, j->ue, &j->from, &j->to,
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
		list_add(t, L_YARD, bi);
		if (b->reefer)
			list_add(t, L_REEFER, bi);
		t->incoming--;
		break;
	case TOS__V1__UNIT_EVENT_TYPE__LOAD:
		t->visits[j->vessel].load_done++;
		t->visits[j->vessel].jobs--;
		t->exports--;
		slot_set(t, b->cls, &j->from, 0);
		list_del(t, L_YARD, bi);
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

static bool emit_move(struct hw_workload *w, struct term *t)
{
	if (t->n_jobs && (t->n_jobs >= WL_JOBS_TARGET || chance(&w->rng, 600)))
		return job_advance(w, t, &t->jobs[below(&w->rng, t->n_jobs)]);
	if (job_start(w, t))
		return true;
	if (t->n_jobs)
		return job_advance(w, t, &t->jobs[below(&w->rng, t->n_jobs)]);
	return false;
}

/* ---------------------------------------------------------------- other records */

static bool emit_reefer(struct hw_workload *w, struct term *t)
{
	int32_t bi = list_pick(w, t, L_REEFER);
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
	set_source(w, "RMS",
		   manual ? "HHT07"
			  : txt(m, "RMS-%s-R%03u",
				b->st == B_YARD ? t->blocks[b->at.block] : "SHIP", b->ref % 200));
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
	h->reference = txt(m, "H%u%08u", hold, b->ref % 100000000u);
	h->reason = (char *)why[hold];
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_HOLD;
	m->rec.hold = h;
	m->rec.entity_version = ++b->ver;
	m->kind = "hold";
	set_source(w, hold == TOS__V1__HOLD_TYPE__CUSTOMS_HOLD ? "NACCS" : "TOS", "HOLDDESK");
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
			list_del(t, L_HELD, bi);
		hold_record(w, b, h, TOS__V1__HOLD_ACTION__RELEASE);
		return true;
	}
	int32_t bi = yard_probe(w, t, idle_box, 8);
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
	if (needs_vgm(b) && r < 50)
		h = TOS__V1__HOLD_TYPE__VGM_MISSING;
	if (b->holds & (1u << h))
		return false;
	if (!b->holds)
		list_add(t, L_HELD, (uint32_t)bi);
	b->holds = (uint8_t)(b->holds | (1u << h));
	hold_record(w, b, h, TOS__V1__HOLD_ACTION__APPLY);
	return true;
}

static bool emit_customs(struct hw_workload *w, struct term *t)
{
	int32_t bi = yard_probe(w, t, customs_open, 8);
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
	c->declaration_no = txt(m, "%03u%09u", 100 + b->line, b->ref);
	c->system = "NACCS";
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_CUSTOMS;
	m->rec.customs = c;
	m->rec.entity_version = ++b->ver;
	m->kind = "customs";
	set_source(w, "NACCS", "NACCS-GW");
	return true;
}

/* VERMAS for a full export box in the yard (only there: a declaration made while the box
 * is merely advised could be cleared by the store when the visit starts). */
static bool emit_vgm(struct hw_workload *w, struct term *t)
{
	int32_t bi = yard_probe(w, t, needs_vgm, 16);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct msg *m = &w->m;
	uint32_t vgm = b->gross + between(&w->rng, 0, 400) - 200;
	if (vgm < b->tare + 100)
		vgm = b->tare + 100;
	if (vgm > HW_GROSS_KG_MAX)
		vgm = HW_GROSS_KG_MAX;
	b->vgm = 1;
	Tos__V1__VgmDeclaration *v = &m->vgm;
	tos__v1__vgm_declaration__init(v);
	v->container_id = b->id;
	v->vgm_kg = vgm;
	v->method = chance(&w->rng, 600) ? TOS__V1__VGM_METHOD__SM1 : TOS__V1__VGM_METHOD__SM2;
	v->weighed_at_ms = w->now_ms - (int64_t)below(&w->rng, 86400000u);
	v->responsible_party = txt(m, "SHIPPER %s %04u", ports[b->port], b->ref % 10000u);
	v->booking_no = txt(m, "%s%09u", lines[b->line], b->ref);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_VGM;
	m->rec.vgm = v;
	m->rec.entity_version = ++b->ver;
	m->kind = "vgm";
	set_source(w, "EDI", "VERMAS");
	m->src.edi_interchange_ref = txt(m, "VM%010u", b->ref);
	return true;
}

static bool emit_inspect(struct hw_workload *w, struct term *t)
{
	int32_t bi = yard_probe(w, t, any_box, 1);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	struct msg *m = &w->m;
	unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__INSPECT, NULL, NULL, NULL);
	uint32_t n = w->p->small ? 1 : between(&w->rng, 1, 24);
	for (uint32_t i = 0; i < n; i++)
		m->damage[i] = txt(m, "%s/%s/%02u", damage_kinds[below(&w->rng, 8)],
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
		s = visit_in_phase(w, t, TOS__V1__VISIT_PHASE__VP_CREATED,
				   TOS__V1__VISIT_PHASE__VP_WORKING);
		struct visit *v = s >= 0 ? &t->visits[s] : NULL;
		if (!v || v->dsch_started + v->advised >= v->plan_dsch)
			dir = DIR_EXPORT;
	}
	if (t->advised[dir] >= WL_ADVISED_MAX)
		return false;
	int32_t bi = box_new(w, t, dir);
	if (bi < 0)
		return false;
	struct box *b = &t->boxes[bi];
	b->st = B_ADVISED;
	if (dir == DIR_IMPORT) {
		b->vessel = (uint8_t)s;
		t->visits[s].advised++;
	}
	t->advised[dir]++;
	list_add(t, L_CAND, (uint32_t)bi);
	unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__PREADVISE, NULL, NULL, NULL);
	w->m.src.system = "EDI";
	w->m.src.device_id = dir == DIR_IMPORT ? "COPRAR" : "COPARN";
	w->m.src.edi_interchange_ref =
		txt(&w->m, "%s%08llu", t->def->code, (unsigned long long)t->edi_seq);
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
		int32_t bi = imp ? yard_probe(w, t, import_ready, 4) : list_pick(w, t, L_CAND);
		if (bi < 0)
			bi = list_pick(w, t, L_YARD);
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
	g->truck_visit_id = txt(m, "TV%s%07u", t->def->code, (unsigned)tr->no);
	g->lane = txt(m, "L%02u", tr->lane);
	g->plate = txt(m, "NAGOYA 100 A %u", tr->plate);
	g->trucking_co = "MEIKO TRANSPORT";
	for (int i = 0; i < 32; i++)
		m->bin[i] = (uint8_t)((tr->appt * 2654435761u >> (i % 4 * 8)) ^ (uint32_t)i);
	g->driver_id_hash.data = m->bin;
	g->driver_id_hash.len = 32;
	g->appointment_id = txt(m, "APT%08u", tr->appt);
	g->tx = (Tos__V1__GateTxType)tr->tx;
	g->stage = (Tos__V1__GateStage)tr->stage;
	g->ocr_confidence_pct = between(&w->rng, 85, 100);
	for (uint32_t i = 0; i < tr->n; i++)
		m->cids[i] = txt(m, "%s", tr->ids[i]); /* the truck may be removed below */
	g->n_container_ids = tr->n;
	g->container_ids = m->cids;
	if (tr->stage == TOS__V1__GATE_STAGE__TROUBLE || (!w->p->small && chance(&w->rng, 250)))
		g->trouble_reason = long_text(w, trouble_phrases, 7, w->p->small ? 40 : 300,
					      w->p->small ? 80 : 500);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_GATE;
	m->rec.gate = g;
	m->rec.entity_version = tr->stage;
	m->kind = "gate";
	set_source(w, tr->stage == TOS__V1__GATE_STAGE__PRE_GATE ? "OCR" : "TOS", g->lane);
	if (tr->stage == TOS__V1__GATE_STAGE__OUT_GATE)
		*tr = t->trucks[--t->n_trucks];
	return true;
}

static void edi_errors(struct hw_workload *w, struct term *t, Tos__V1__EdiIngest *e)
{
	struct msg *m = &w->m;
	uint32_t n = between(&w->rng, 8, 44);
	for (uint32_t i = 0; i < n; i++) {
		int32_t bi = list_pick(w, t, L_YARD);
		const char *id = bi >= 0 ? t->boxes[bi].id : "MSCU1234565";
		m->errors[i] = txt(m,
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
	e->interchange_ref = txt(m, "%s%08llu", t->def->code, (unsigned long long)t->edi_seq);
	e->sender = (char *)lines[below(&w->rng, N_LINES)];
	for (int i = 0; i < 32; i++)
		m->bin[i] = (uint8_t)rnd(&w->rng);
	e->raw_sha256.data = m->bin;
	e->raw_sha256.len = 32;
	bool burst = ty <= 1 && chance(&w->rng, 300);
	e->lines_ok = burst ? between(&w->rng, 4000, 6000) : between(&w->rng, 1, 200);
	e->raw_size = (uint64_t)e->lines_ok * between(&w->rng, 110, 160);
	e->raw_object_ref = txt(m, "edi/%s/%08llu", t->def->code, (unsigned long long)t->edi_seq);
	if (!w->p->small && chance(&w->rng, 330))
		edi_errors(w, t, e);
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_EDI;
	m->rec.edi = e;
	m->kind = "edi";
	set_source(w, "EDI", "EDIGW01");
	m->src.edi_interchange_ref = e->interchange_ref;
	return true;
}

static void audit_record(struct hw_workload *w, const char *action, const char *detail)
{
	struct msg *m = &w->m;
	Tos__V1__AuditEvent *a = &m->au;
	tos__v1__audit_event__init(a);
	uint32_t who = between(&w->rng, 1, 40);
	a->actor = txt(m, "ops%02u", who);
	a->action = (char *)action;
	a->target = txt(m, "n4-app-%02u", between(&w->rng, 1, 4));
	a->src_addr = txt(m, "10.%u.%u.%u", between(&w->rng, 1, 20), below(&w->rng, 256),
			  between(&w->rng, 1, 254));
	a->success = !chance(&w->rng, 50);
	a->detail = (char *)detail;
	m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_AUDIT;
	m->rec.audit = a;
	m->kind = "audit";
	set_source(w, "TOS", "AUDIT");
	m->src.user_id = a->actor;
}

static bool emit_audit(struct hw_workload *w, struct term *t)
{
	(void)t;
	const char *action = audit_actions[below(&w->rng, 7)];
	const char *detail;
	if (!w->p->small && chance(&w->rng, 400))
		detail = long_text(w, audit_phrases, 8, 250, 500);
	else
		detail = audit_phrases[below(&w->rng, 8)];
	audit_record(w, action, detail);
	return true;
}

static bool emit_kv(struct hw_workload *w, struct term *t)
{
	struct msg *m = &w->m;
	uint32_t k = below(&w->rng, WL_KV_KEYS);
	char *key = txt(m, "tos/%s/param/%02u", t->def->code, k);
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
	set_source(w, "TOS", "CONFIG");
	return true;
}

static bool emit_vessel(struct hw_workload *w, struct term *t)
{
	return vessel_due(w, t, true);
}

static bool emit_cat(struct hw_workload *w, struct term *t, int c)
{
	switch (c) {
	case C_MOVE:
		return emit_move(w, t);
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
		id = txt(m, "%s", b->id);
		id[10] = (char)('0' + (id[10] - '0' + (int)between(&w->rng, 1, 9)) % 10);
		tos__v1__customs_status__init(&m->cus);
		m->cus.container_id = id;
		m->cus.state = TOS__V1__CUSTOMS_STATE__DECLARED;
		m->cus.system = "NACCS";
		m->rec.payload_case = TOS__V1__RECORD__PAYLOAD_CUSTOMS;
		m->rec.customs = &m->cus;
		m->kind = "customs";
		set_source(w, "NACCS", "NACCS-GW");
		return HW_ECHECK_DIGIT;
	case P_LOWER:
		id = txt(m, "%s", b->id);
		for (int i = 0; i < 4; i++)
			id[i] = (char)(id[i] - 'A' + 'a');
		hold_record(w, b, TOS__V1__HOLD_TYPE__LINE_HOLD, TOS__V1__HOLD_ACTION__APPLY);
		m->hold.container_id = id;
		return HW_ECONTAINER_ID;
	case P_SIZE:
		unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__INSPECT, NULL, NULL, NULL);
		m->eq.iso_size_type = "99X9";
		m->ue.reefer = NULL; /* a set-point would need a known reefer type */
		return HW_ESIZE_TYPE;
	case P_WEIGHT:
		unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__INSPECT, NULL, NULL, NULL);
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
		unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__GATE_OUT, &b->at, &truck, NULL);
		return HW_EHOLD_ACTIVE;
	case P_POS:
		if (!slot_find(w, t, b->cls, &q))
			return 0;
		p = b->at;
		p.row = (uint8_t)(p.row % WL_ROWS + 1);
		unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE, &p, &q, NULL);
		return HW_EPOS_MISMATCH;
	case P_NOT_APPLIED:
		while (h < TOS__V1__HOLD_TYPE__QUARANTINE && (b->holds & (1u << h)))
			h++;
		if (b->holds & (1u << h))
			return 0;
		hold_record(w, b, h, TOS__V1__HOLD_ACTION__RELEASE);
		return HW_EHOLD_NOT_APPLIED;
	case P_DUP_VISIT:
		if (!slot_find(w, t, b->cls, &q))
			return 0;
		unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__GATE_IN, &truck, &q, NULL);
		return HW_EDUP_VISIT;
	case P_SLOT:
		for (int i = 0; i < 16; i++) {
			int32_t o = list_pick(w, t, L_YARD);
			const struct box *ob = &t->boxes[o];
			if (ob == b || ob->cls != b->cls)
				continue;
			unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__YARD_MOVE, &b->at, &ob->at,
				   NULL);
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
	if (!slot_find(w, t, b->cls, &from))
		return 0;
	struct visit *v = &t->visits[b->vessel];
	struct place to = vessel_cell(b->vessel, b->cls, v->cells[b->cls != CLS_20]);
	uint32_t ver = b->ver;
	unit_event(w, t, b, TOS__V1__UNIT_EVENT_TYPE__LOAD, &from, &to, NULL);
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
static int poison(struct hw_workload *w, struct term *t)
{
	uint32_t k0 = below(&w->rng, P_COUNT);
	for (uint32_t i = 0; i < P_COUNT; i++) {
		int kind = (int)((k0 + i) % P_COUNT);
		int code;
		w->m.txt_used = 0;
		if (kind <= P_WEIGHT || (kind >= P_HOLD_ACTIVE && kind <= P_SLOT)) {
			int32_t bi = kind == P_HOLD_ACTIVE ? list_pick(w, t, L_HELD)
							   : list_pick(w, t, L_YARD);
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

/* ---------------------------------------------------------------- API */

static void draw(struct hw_workload *w, struct term *t)
{
	static const int fallback[] = {C_REEFER, C_MOVE, C_HOLD, C_CUSTOMS, C_AUDIT};
	if (vessel_due(w, t, false))
		return;
	uint32_t r = below(&w->rng, w->mix_sum);
	int c = 0;
	while (r >= w->p->mix[c])
		r -= w->p->mix[c++];
	if (emit_cat(w, t, c))
		return;
	for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++)
		if (emit_cat(w, t, fallback[i]))
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
		expect = poison(w, t);
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
	for (uint32_t b = 0; b < WL_BLOCKS; b++) {
		t->blocks[b][0] = def->block_letter;
		t->blocks[b][1] = (char)('1' + b);
		t->blocks[b][2] = '\0';
	}
	for (uint32_t i = 0; i < WL_BOXES_MAX; i++)
		t->free_stack[i] = WL_BOXES_MAX - 1 - i;
	t->n_free = WL_BOXES_MAX;
}

/* Synthetic owner codes (3 letters + U), unique, so container numbers never collide. */
static void make_owners(struct hw_workload *w)
{
	for (uint32_t i = 0; i < WL_OWNERS; i++) {
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

int hw_workload_new(const struct hw_workload_opts *o, struct hw_workload **out)
{
	*out = NULL;
	const char *name = o->profile ? o->profile : "terminal_peak";
	const struct profile *p = NULL;
	for (size_t i = 0; i < N_PROFILES; i++)
		if (!strcmp(profiles[i].name, name))
			p = &profiles[i];
	if (!p || o->end_ms < HW_TIME_MIN_MS)
		return HW_ERANGE;
	struct hw_workload *w = calloc(1, sizeof(*w) + p->n_tenants * sizeof(struct term));
	if (!w)
		return HW_ENOMEM;
	w->p = p;
	uint64_t x = o->seed;
	for (int i = 0; i < 4; i++)
		w->rng.s[i] = splitmix64(&x);
	w->count = o->count;
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
