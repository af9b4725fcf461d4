/* targets.c: the RTO/RPO planner (engine/core/targets.h holds the rules and the model).
 *
 * Integer milliseconds for every timer (the election core's unit), doubles only for
 * rates and the false-failover estimate. The core links no libm, so exp() is computed
 * here; the reason string is built by hand for the same reason (no snprintf). */
#include "engine/core/targets.h"

#include <string.h>

#include "engine/core/election.h"

#include "hawser_error.h"

#define LN2   0.69314718055994530942
#define LN50  3.91202300542814605862
#define LN100 4.60517018598809136804

/* Milliseconds in a (365.25-day) year. */
#define YEAR_MS (365.25 * 24.0 * 3600.0 * 1000.0)

/* e^x for the model's range (x <= about 700): x = k ln 2 + r with 0 <= r < ln 2, e^r
 * by its Taylor series (25 terms: error far below a double's), times 2^k. */
static double exp_(double x)
{
	if (x < -745.0)
		return 0.0;
	double q = x / LN2;
	int64_t k = (int64_t)q;
	if ((double)k > q)
		k--;
	double r = x - (double)k * LN2;
	double term = 1.0, sum = 1.0;
	for (int n = 1; n < 25; n++) {
		term *= r / n;
		sum += term;
	}
	for (; k > 0; k--)
		sum *= 2.0;
	for (; k < 0; k++)
		sum *= 0.5;
	return sum;
}

double hw_tg_false_failovers_per_year(int64_t detection_ms, int64_t renew_ms, int64_t p99_us,
				      int64_t spread_us)
{
	if (renew_ms <= 0)
		return YEAR_MS;
	double p99 = p99_us > 0 ? (double)p99_us : 0.0;
	double b = (spread_us > 1 ? (double)spread_us : 1.0) / LN50;
	double log_p = 0.0; /* ln of the probability that one window fails */
	for (int64_t i = 1; i * renew_ms < detection_ms; i++) {
		double x_us = (double)(detection_ms - i * renew_ms) * 1000.0;
		double ln_tail = -LN100 - (x_us - p99) / b;
		if (ln_tail < 0.0)
			log_p += ln_tail;
		if (log_p < -800.0)
			return 0.0;
	}
	return YEAR_MS / (double)renew_ms * exp_(log_p);
}

/* ---------------------------------------------------------------- reason text */

struct why {
	char *s;
	size_t n;
};

static void put(struct why *w, const char *t)
{
	size_t len = strlen(t);
	if (w->n + len >= HW_TG_WHY_BYTES)
		len = HW_TG_WHY_BYTES - 1 - w->n;
	memcpy(w->s + w->n, t, len);
	w->n += len;
	w->s[w->n] = '\0';
}

static void put_digits(struct why *w, uint64_t u, bool minus)
{
	char buf[24];
	size_t i = sizeof buf;
	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (minus)
		buf[--i] = '-';
	put(w, buf + i);
}

static void put_i64(struct why *w, int64_t v)
{
	put_digits(w, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
}

static void put_u64(struct why *w, uint64_t v)
{
	put_digits(w, v, false);
}

static void refuse_text(char *buf, const char *what)
{
	struct why w = {buf, 0};
	put(&w, what);
}

static int refuse(struct hw_tg_plan *plan, int code, const char *what)
{
	refuse_text(plan->why, what);
	return code;
}

/* ---------------------------------------------------------------- plan */

static int64_t drift_ppm(const struct hw_tg_input *in)
{
	return in->drift_ppm > 0 ? in->drift_ppm : HW_TG_DRIFT_PPM_DEFAULT;
}

static int check_input(const struct hw_tg_input *in, struct hw_tg_plan *plan)
{
	if (in->rto_ms <= 0)
		return refuse(plan, HW_ECONFIG, "rto must be > 0");
	if (in->rpo_ms < 0)
		return refuse(plan, HW_ECONFIG, "rpo must be 0 or > 0");
	if (in->jitter_p99_us < 0 || in->jitter_spread_us < 1)
		return refuse(plan, HW_ECONFIG, "jitter p99 must be >= 0 us and spread >= 1 us");
	if (!(in->replay_rate > 0.0))
		return refuse(plan, HW_ECONFIG, "replay rate must be > 0 records/s");
	if (in->election_ms < 0 || in->resume_ms < 0 || in->client_silence_ms < 0)
		return refuse(plan, HW_ECONFIG,
			      "election, resume and client silence times must be >= 0");
	if (in->rpo_ms == 0 && in->k < 1)
		return refuse(plan, HW_ECONFIG, "rpo 0 needs k >= 1 standby");
	if (in->drift_ppm < 0 || in->drift_ppm > 100000)
		return refuse(plan, HW_ECONFIG, "drift must be 0..100000 ppm");
	return 0;
}

/* The floors: renew from jitter, detection from renew and drift (targets.h). */
static void floors(const struct hw_tg_input *in, struct hw_tg_plan *plan)
{
	int64_t from_jitter = (HW_TG_JITTER_FACTOR * in->jitter_p99_us + 999) / 1000;
	plan->renew_min_ms =
		from_jitter > HW_TG_RENEW_FLOOR_MS ? from_jitter : HW_TG_RENEW_FLOOR_MS;
	int64_t lease = HW_TG_RENEWS_PER_LEASE * plan->renew_min_ms;
	int64_t margin = (lease * 2 * drift_ppm(in) + 999999) / 1000000 + 1;
	plan->detection_min_ms = lease + margin;
}

/* Timers for detection d: the longest lease whose drift margin still fits in d. */
static void timers(const struct hw_tg_input *in, int64_t d, struct hw_tg_plan *plan)
{
	int64_t ppm2 = 2 * drift_ppm(in);
	plan->detection_ms = d;
	plan->lease_ms = (d - 1) * 1000000 / (1000000 + ppm2);
	plan->drift_margin_ms = d - plan->lease_ms;
	plan->renew_ms = plan->lease_ms / HW_TG_RENEWS_PER_LEASE;
}

/* "rto R ms leaves D ms for detection (after ...) but the measured heartbeat jitter
 * (p99 P us) needs at least M ms", or "the assumed heartbeat jitter (p99 P us, a LAN's:
 * nothing measured)" when it was not measured. */
static int refuse_detection(const struct hw_tg_input *in, struct hw_tg_plan *plan, int64_t room)
{
	struct why w = {plan->why, 0};
	put(&w, "rto ");
	put_i64(&w, in->rto_ms);
	put(&w, " ms leaves ");
	put_i64(&w, room > 0 ? room : 0);
	put(&w, " ms for detection (after election ");
	put_i64(&w, in->election_ms);
	put(&w, " ms, resume ");
	put_i64(&w, in->resume_ms);
	put(&w, " ms, replay of the current backlog ");
	put_i64(&w, plan->replay_now_ms);
	put(&w, in->jitter_measured ? " ms) but the measured heartbeat jitter (p99 "
				    : " ms) but the assumed heartbeat jitter (p99 ");
	put_i64(&w, in->jitter_p99_us);
	put(&w, in->jitter_measured ? " us) needs at least "
				    : " us, a LAN's: nothing measured) "
				      "needs at least ");
	put_i64(&w, plan->detection_min_ms);
	put(&w, " ms");
	return HW_ERANGE;
}

/* "rto R ms is shorter than a hung primary's clients take: they notice after S ms of
 * silence and resume takes M ms more" */
static int refuse_clients(const struct hw_tg_input *in, struct hw_tg_plan *plan)
{
	struct why w = {plan->why, 0};
	put(&w, "rto ");
	put_i64(&w, in->rto_ms);
	put(&w, " ms is shorter than a hung primary's clients take: they notice it only after ");
	put_i64(&w, in->client_silence_ms);
	put(&w, " ms of silence (");
	put_i64(&w, HW_TG_CLIENT_SILENT_BEATS);
	put(&w, " of the node's heartbeats, at least ");
	put_i64(&w, HW_TG_CLIENT_SILENCE_MIN_MS);
	put(&w, " ms) and resume takes ");
	put_i64(&w, in->resume_ms);
	put(&w, " ms more");
	return HW_ERANGE;
}

/* "rpo T ms is not above the M ms the witness's view of it may be off by (...)" */
static int refuse_margin(const struct hw_tg_input *in, struct hw_tg_plan *plan)
{
	struct why w = {plan->why, 0};
	put(&w, "rpo ");
	put_i64(&w, in->rpo_ms);
	put(&w, " ms is not above the ");
	put_i64(&w, plan->ahead_margin_ms);
	put(&w, " ms the witness's view of it may be off by (");
	put_i64(&w, HW_TG_JITTER_FACTOR);
	put(&w, " x p99 heartbeat delay ");
	put_i64(&w, in->jitter_p99_us);
	put(&w, " us, clock drift): choose rpo 0 or a longer rpo");
	plan->rpo_refused = true;
	return HW_ERANGE;
}

static int commit_rule(const struct hw_tg_input *in, struct hw_tg_plan *plan)
{
	if (in->rpo_ms == 0) {
		plan->rule = HW_TG_RULE_DURABLE;
		plan->k = in->k;
		plan->commit_latency_us = in->commit_durable_us;
		if (in->commit_durable_us > in->commit_local_us && in->commit_durable_us > 0.0)
			plan->throughput_cost = 1.0 - in->commit_local_us / in->commit_durable_us;
		return 0;
	}
	plan->rule = HW_TG_RULE_AHEAD;
	plan->ahead_margin_ms =
		plan->renew_min_ms + (2 * drift_ppm(in) * in->rpo_ms + 999999) / 1000000;
	if (in->rpo_ms <= plan->ahead_margin_ms)
		return refuse_margin(in, plan);
	plan->max_ahead_ms = in->rpo_ms - plan->ahead_margin_ms;
	plan->commit_latency_us = in->commit_local_us;
	return 0;
}

int hw_tg_plan(const struct hw_tg_input *in, struct hw_tg_plan *plan)
{
	memset(plan, 0, sizeof *plan);
	int rc = check_input(in, plan);
	if (rc != 0)
		return rc;
	floors(in, plan);
	double replay_now = (double)in->backlog_records * 1000.0 / in->replay_rate;
	if (replay_now > 1e15)
		replay_now = 1e15; /* years: refused below either way */
	plan->replay_now_ms = (int64_t)replay_now;
	if ((double)plan->replay_now_ms < replay_now)
		plan->replay_now_ms++;
	int64_t avail = in->rto_ms - in->election_ms - in->resume_ms;
	int64_t room = avail - plan->replay_now_ms;
	if (room < plan->detection_min_ms)
		return refuse_detection(in, plan, room);
	if (in->client_silence_ms > in->rto_ms - in->resume_ms)
		return refuse_clients(in, plan);
	int64_t d = avail / 2;
	if (d > HW_TG_DETECTION_MAX_MS)
		d = HW_TG_DETECTION_MAX_MS;
	if (d < plan->detection_min_ms)
		d = plan->detection_min_ms;
	if (d > room)
		d = room;
	timers(in, d, plan);
	plan->election_ms = in->election_ms;
	plan->resume_ms = in->resume_ms;
	plan->replay_ms = avail - d;
	plan->failover_ms = d + in->election_ms + plan->replay_ms + in->resume_ms;
	plan->replay_budget_records =
		(uint64_t)((double)plan->replay_ms * in->replay_rate / 1000.0);
	plan->backlog_over_budget = in->backlog_records > plan->replay_budget_records;
	rc = commit_rule(in, plan);
	if (rc != 0)
		return rc;
	plan->false_failovers_per_year = hw_tg_false_failovers_per_year(
		plan->detection_ms, plan->renew_ms, in->jitter_p99_us, in->jitter_spread_us);
	return 0;
}

int64_t hw_tg_client_silence_ms(int64_t heartbeat_ms)
{
	if (heartbeat_ms <= 0)
		return 0;
	int64_t beats = HW_TG_CLIENT_SILENT_BEATS * heartbeat_ms;
	return beats > HW_TG_CLIENT_SILENCE_MIN_MS ? beats : HW_TG_CLIENT_SILENCE_MIN_MS;
}

bool hw_tg_voter_heard(int64_t heard_ms, int64_t now_ms, int64_t beat_ms)
{
	if (beat_ms <= 0)
		return true;
	int64_t beat = beat_ms < HW_TG_DETECTION_MAX_MS ? beat_ms : HW_TG_DETECTION_MAX_MS;
	return now_ms - heard_ms <= HW_TG_VOTER_SILENT_BEATS * beat;
}

int64_t hw_tg_rto_min_ms(const struct hw_tg_input *in, const struct hw_tg_plan *plan)
{
	int64_t terms =
		in->election_ms + in->resume_ms + plan->replay_now_ms + plan->detection_min_ms;
	int64_t clients = in->client_silence_ms + in->resume_ms;
	return terms > clients ? terms : clients;
}

uint32_t hw_tg_ahead_k(uint32_t k, uint32_t voters, uint32_t standbys)
{
	uint32_t k_min = voters >= 3 ? hw_el_k_min(voters) : 0;
	if (k < 1)
		k = 1;
	if (k < k_min)
		k = k_min;
	return k < standbys ? k : standbys;
}

void hw_tg_input_defaults(struct hw_tg_input *in, int64_t rto_ms, int64_t rpo_ms, uint32_t k)
{
	int64_t p50_us = HW_TG_DEFAULT_JITTER_P99_US - HW_TG_DEFAULT_JITTER_SPREAD_US;
	*in = (struct hw_tg_input){
		.rto_ms = rto_ms,
		.rpo_ms = rpo_ms,
		.jitter_p99_us = HW_TG_DEFAULT_JITTER_P99_US,
		.jitter_spread_us = HW_TG_DEFAULT_JITTER_SPREAD_US,
		.replay_rate = HW_TG_DEFAULT_REPLAY_RATE,
		.election_ms = HW_TG_DEFAULT_ELECTION_MS,
		.resume_ms = HW_TG_DEFAULT_RESUME_MS,
		.k = k,
		.commit_local_us = HW_TG_DEFAULT_COMMIT_LOCAL_US,
		.commit_durable_us = 2.0 * HW_TG_DEFAULT_COMMIT_LOCAL_US + 2.0 * (double)p50_us,
		.client_silence_ms = hw_tg_client_silence_ms(HW_TG_DEFAULT_HEARTBEAT_MS),
	};
}

/* ---------------------------------------------------------------- now */

/* The durable LSN of the k-th most advanced standby (k >= 1), its index in *at; 0 and
 * -1 when there are fewer than k. */
static uint64_t kth_durable(const struct hw_tg_live *l, int *at)
{
	bool taken[HW_TG_STANDBYS_MAX] = {false};
	uint64_t d = 0;
	*at = -1;
	for (uint32_t round = 0; round < l->k; round++) {
		int pick = -1;
		for (uint32_t i = 0; i < l->n_standbys; i++)
			if (!taken[i] && (pick < 0 || l->sb[i].durable > l->sb[pick].durable))
				pick = (int)i;
		if (pick < 0) {
			*at = -1;
			return 0;
		}
		taken[pick] = true;
		d = l->sb[pick].durable;
		*at = pick;
	}
	return d;
}

/* The connected standby holding the most (durable, then applied): the witness votes for
 * the most advanced candidate. */
static int best_standby(const struct hw_tg_live *l)
{
	int best = -1;
	for (uint32_t i = 0; i < l->n_standbys; i++) {
		const struct hw_tg_standby *s = &l->sb[i];
		if (!s->connected)
			continue;
		if (best < 0 || s->durable > l->sb[best].durable ||
		    (s->durable == l->sb[best].durable && s->applied > l->sb[best].applied))
			best = (int)i;
	}
	return best;
}

static void at_risk(const struct hw_tg_live *l, struct hw_tg_now *o)
{
	int at;
	uint64_t kth = kth_durable(l, &at);
	o->at_risk_records = l->durable_lsn > kth ? l->durable_lsn - kth : 0;
	if (o->at_risk_records > 0 && at >= 0)
		o->at_risk_ms = l->sb[at].silent_ms;
}

/* The terms of a failover now: the planned timers and the replay of best's backlog. */
static void terms(const struct hw_tg_live *l, const struct hw_tg_plan *plan, struct hw_tg_now *o)
{
	if (o->best >= 0) {
		const struct hw_tg_standby *s = &l->sb[o->best];
		o->backlog_records = s->received > s->applied ? s->received - s->applied : 0;
		double ms = (double)o->backlog_records * 1000.0 / l->replay_rate;
		o->backlog_ms = ms > 1e15 ? (int64_t)1e15 : (int64_t)ms;
		if ((double)o->backlog_ms < ms)
			o->backlog_ms++;
		o->loss_records = l->committed_lsn > s->durable ? l->committed_lsn - s->durable : 0;
		o->loss_age_ms = o->loss_records == 0 ? 0 : s->lacks_ms;
	} else {
		/* nobody to promote now: a standby that returns brings what it last said it
		 * held durable, at best the most any of them did */
		uint64_t known = 0;
		for (uint32_t i = 0; i < l->n_standbys; i++)
			if (l->sb[i].durable > known)
				known = l->sb[i].durable;
		o->loss_records = l->committed_lsn > known ? l->committed_lsn - known : 0;
		o->loss_age_ms = -1;
	}
	if (plan == NULL)
		return;
	o->detection_ms = plan->detection_ms;
	o->election_ms = plan->election_ms;
	o->resume_ms = plan->resume_ms;
	o->replay_ms = o->backlog_ms;
	o->failover_ms = o->detection_ms + o->election_ms + o->replay_ms + o->resume_ms;
}

/* What stands between a failover now and service back within the rto, besides an
 * in-sync standby and the terms (targets.h, hw_tg_now). */
struct hurdles {
	uint32_t need;    /* votes that elect: a majority of the voters */
	uint32_t reached; /* electors reached */
	bool no_majority; /* they cannot elect anyone */
	bool late;        /* a standby's primary silent past detection + election */
	uint32_t after;   /* standbys left to the new primary */
	bool acks_stop;   /* fewer than a submit waits for */
};

static void hurdles(const struct hw_tg_live *l, const struct hw_tg_now *o, struct hurdles *h)
{
	*h = (struct hurdles){0};
	if (l->voters > 0) {
		h->need = l->voters / 2 + 1;
		for (uint32_t i = 0; i < l->n_electors && i < HW_TG_VOTERS_MAX; i++)
			h->reached += l->electors[i].reached;
		h->no_majority = h->reached < h->need;
	}
	if (!l->primary && l->primary_silent_ms >= 0)
		h->late = l->primary_silent_ms > o->detection_ms + o->election_ms;
	if (l->primary) {
		for (uint32_t i = 0; i < l->n_standbys; i++)
			h->after += l->sb[i].connected && (int)i != o->best;
	} else {
		h->after = l->standbys_after;
	}
	h->acks_stop = h->after < l->ack_standbys;
}

static const char *primary_name(const struct hw_tg_live *l)
{
	if (l->primary)
		return l->self;
	return l->primary_id != NULL && l->primary_id[0] ? l->primary_id : "the primary";
}

/* "unreached: w1, s2; refused by s3 (lease)": the electors that would not vote. */
static void put_electors(struct why *w, const struct hw_tg_live *l)
{
	bool any = false, refused = false;
	for (uint32_t i = 0; i < l->n_electors && i < HW_TG_VOTERS_MAX; i++) {
		const struct hw_tg_voter *v = &l->electors[i];
		if (v->reached || (v->refused != NULL && v->refused[0] != '\0'))
			continue;
		put(w, any ? ", " : "unreached: ");
		put(w, l->electors[i].id);
		any = true;
	}
	for (uint32_t i = 0; i < l->n_electors && i < HW_TG_VOTERS_MAX; i++) {
		const struct hw_tg_voter *v = &l->electors[i];
		if (v->refused == NULL || v->refused[0] == '\0')
			continue;
		put(w, refused ? ", " : any ? "; refused by " : "refused by ");
		put(w, v->id);
		put(w, " (");
		put(w, v->refused);
		put(w, ")");
		refused = true;
	}
	if (!any && !refused)
		put(w, "no refusal heard");
}

/* "electing a new primary needs 2 of the 3 voters, and without p1 only 1 is reached
 * (unreached: w1)" */
static void put_no_majority(struct why *w, const struct hw_tg_live *l, const struct hurdles *h)
{
	put(w, "electing a new primary needs ");
	put_u64(w, h->need);
	put(w, " of the ");
	put_u64(w, l->voters);
	put(w, " voters, and without ");
	put(w, primary_name(l));
	put(w, " only ");
	put_u64(w, h->reached);
	put(w, h->reached == 1 ? " is reached (" : " are reached (");
	put_electors(w, l);
	put(w, ")");
}

/* The reason into buf (HW_TG_WHY_BYTES) when a hurdle keeps service from coming back
 * in time; false, buf untouched, when none does. */
static bool why_hurdle(const struct hw_tg_live *l, const struct hw_tg_now *o,
		       const struct hurdles *h, char *buf)
{
	if (!h->late && !h->no_majority && !h->acks_stop)
		return false;
	struct why w = {buf, 0};
	buf[0] = '\0';
	if (h->late) {
		put(&w, primary_name(l));
		put(&w, " silent for ");
		put_i64(&w, l->primary_silent_ms);
		put(&w, " ms, past detection ");
		put_i64(&w, o->detection_ms);
		put(&w, " + election ");
		put_i64(&w, o->election_ms);
		put(&w, " ms, and no failover has happened: ");
		if (h->no_majority)
			put_no_majority(&w, l, h);
		else
			put_electors(&w, l);
	} else if (h->no_majority) {
		put(&w, "no failover can happen: ");
		put_no_majority(&w, l, h);
	} else if (h->acks_stop) {
		put(&w, "after a failover the new primary would have ");
		put_u64(&w, h->after);
		put(&w, h->after == 1 ? " standby, fewer than the " : " standbys, fewer than the ");
		put_u64(&w, l->ack_standbys);
		put(&w, l->rpo_ms > 0 ? " the rpo rule needs: acknowledgements stop until "
				      : " a submit waits for: acknowledgements stop until ");
		put(&w, primary_name(l));
		put(&w, " or another standby returns");
	}
	return true;
}

/* failover_why for a primary: who would take over, or why an operator must. */
static void why_primary(const struct hw_tg_live *l, const struct hurdles *h, struct hw_tg_now *o)
{
	struct why w = {o->failover_why, 0};
	if (o->best < 0) {
		put(&w, "no standby connected: automatic promotion would be refused, operator "
			"must run promote --accept-loss");
		return;
	}
	const struct hw_tg_standby *s = &l->sb[o->best];
	if (!o->automatic) {
		put(&w, "no in-sync standby (best ");
		put(&w, s->id);
		put(&w, " durable ");
		put_u64(&w, s->durable);
		put(&w, " < acknowledged ");
		put_u64(&w, l->committed_lsn);
		put(&w, "): automatic promotion would be refused, operator must run promote "
			"--accept-loss");
		return;
	}
	put(&w, "standby ");
	put(&w, s->id);
	put(&w, o->loss_records == 0 ? " in sync" : " within the rpo");
	if (l->lease_left_ms >= 0) {
		put(&w, ", lease held by ");
		put(&w, l->self);
		put(&w, " for ");
		put_i64(&w, l->lease_left_ms);
		put(&w, " ms more");
	} else {
		put(&w, ", ");
		put(&w, l->self);
		put(&w, " holds no lease");
	}
	put(&w, ": if it stops renewing, ");
	put(&w, s->id);
	if (h->no_majority) {
		put(&w, " cannot be elected: ");
		put_no_majority(&w, l, h);
		return;
	}
	put(&w, " is promoted after about ");
	put_i64(&w, o->failover_ms);
	put(&w, " ms");
}

/* failover_why for a standby judging itself. */
static void why_standby(const struct hw_tg_live *l, const struct hurdles *h, struct hw_tg_now *o)
{
	struct why w = {o->failover_why, 0};
	const struct hw_tg_standby *s = &l->sb[0];
	const char *p = l->primary_id != NULL && l->primary_id[0] ? l->primary_id : "no primary";
	put(&w, "following ");
	put(&w, p);
	if (s->silent_ms == HW_TG_NEVER) {
		put(&w, " (never heard); this standby (");
	} else {
		put(&w, " (heard ");
		put_i64(&w, s->silent_ms);
		put(&w, " ms ago); this standby (");
	}
	put(&w, l->self);
	if (o->automatic && h->late) {
		put(&w, ") is in sync but has not been elected: ");
		if (h->no_majority)
			put_no_majority(&w, l, h);
		else
			put_electors(&w, l);
		return;
	}
	if (o->automatic) {
		put(&w, ") is in sync and campaigns after ");
		put_i64(&w, o->detection_ms);
		put(&w, " ms without it");
		if (h->no_majority) {
			put(&w, ", but cannot win: ");
			put_no_majority(&w, l, h);
		}
		return;
	}
	put(&w, ") is behind (durable ");
	put_u64(&w, s->durable);
	put(&w, " < ");
	put_u64(&w, l->committed_lsn);
	put(&w, "): automatic promotion would be refused, operator must run promote "
		"--accept-loss");
}

static void why_targets(const struct hw_tg_live *l, struct hw_tg_now *o)
{
	struct why r = {o->rto_why, 0}, p = {o->rpo_why, 0};
	if (!o->automatic) {
		put(&r, "a failover now waits for an operator");
	} else if (o->rto_holds) {
		put(&r, "predicted ");
		put_i64(&r, o->failover_ms);
		put(&r, " ms <= rto ");
		put_i64(&r, l->rto_ms);
		put(&r, " ms");
	} else {
		put(&r, "predicted ");
		put_i64(&r, o->failover_ms);
		put(&r, " ms > rto ");
		put_i64(&r, l->rto_ms);
		put(&r, " ms: replaying ");
		put_u64(&r, o->backlog_records);
		put(&r, " backlog records takes ");
		put_i64(&r, o->backlog_ms);
		put(&r, " ms");
	}
	/* with no failover possible, what one would lose is no promise of now */
	put(&p, o->no_failover ? "no failover can happen now (see rto); should one become "
				 "possible, it loses "
			       : "a failover now loses ");
	if (o->loss_records == 0) {
		put(&p, "nothing acknowledged");
		return;
	}
	put_u64(&p, o->loss_records);
	put(&p, " acknowledged records (LSNs ");
	put_u64(&p, l->committed_lsn - o->loss_records + 1);
	put(&p, "..");
	put_u64(&p, l->committed_lsn);
	if (l->rpo_ms > 0 && o->loss_age_ms >= 0) {
		put(&p, ", the oldest acknowledged ");
		put_i64(&p, o->loss_age_ms);
		put(&p, " ms ago");
	} else if (l->rpo_ms > 0 && o->best >= 0) { /* a standby knows no ack times */
		put(&p, ", judged by when the primary was last heard, ");
		put_i64(&p, l->sb[o->best].silent_ms);
		put(&p, " ms ago");
	}
	put(&p, o->rpo_holds ? "), within the rpo " : "), more than the rpo ");
	put_i64(&p, l->rpo_ms);
	put(&p, " ms allows");
}

/* rpo_why with no standby connected: nobody to promote now, and what the standby that
 * last held the most would lack once back (targets.h, loss_records). */
static void why_no_standby(const struct hw_tg_live *l, struct hw_tg_now *o)
{
	struct why p = {o->rpo_why, 0};
	o->rpo_why[0] = '\0';
	put(&p, "no standby connected to promote: the one that last held the most lacks ");
	if (o->loss_records == 0) {
		put(&p, "nothing acknowledged");
		return;
	}
	put_u64(&p, o->loss_records);
	put(&p, " acknowledged records (LSNs ");
	put_u64(&p, l->committed_lsn - o->loss_records + 1);
	put(&p, "..");
	put_u64(&p, l->committed_lsn);
	put(&p, ")");
}

void hw_tg_now(const struct hw_tg_live *l, const struct hw_tg_plan *plan, struct hw_tg_now *out)
{
	memset(out, 0, sizeof *out);
	out->best = best_standby(l);
	at_risk(l, out);
	terms(l, plan, out);
	if (!l->failover || plan == NULL) {
		const char *no = "no [failover] configured: no targets, no automatic promotion";
		refuse_text(out->rto_why, no);
		refuse_text(out->rpo_why, no);
		refuse_text(out->failover_why, no);
		return;
	}
	/* at RPO t, what the witness's committed samples allow: what it lacks was all
	 * acknowledged within t (by its primary's heartbeat when that is not known) */
	int64_t age = out->best < 0 ? -1 : out->loss_age_ms;
	int64_t silent = out->best < 0 ? HW_TG_NEVER : l->sb[out->best].silent_ms;
	bool within = out->best >= 0 &&
		      (out->loss_records == 0 ||
		       (l->rpo_ms > 0 && (age >= 0 ? age <= l->rpo_ms
						   : silent != HW_TG_NEVER && silent <= l->rpo_ms)));
	out->automatic = within;
	out->rto_holds = within && out->failover_ms <= l->rto_ms;
	out->rpo_holds = within;
	struct hurdles h;
	hurdles(l, out, &h);
	out->no_failover = h.no_majority;
	if (l->primary)
		why_primary(l, &h, out);
	else
		why_standby(l, &h, out);
	why_targets(l, out);
	if (out->best < 0)
		why_no_standby(l, out);
	/* an automatic failover that cannot happen, or after which nothing is acknowledged */
	if (out->automatic && why_hurdle(l, out, &h, out->rto_why))
		out->rto_holds = false;
}
