/* targets.c: the RTO/RPO planner (engine/core/targets.h holds the rules and the model).
 *
 * Integer milliseconds for every timer (the election core's unit), doubles only for
 * rates and the false-failover estimate. The core links no libm, so exp() is computed
 * here; the reason string is built by hand for the same reason (no snprintf). */
#include "engine/core/targets.h"

#include <string.h>

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

static void put_i64(struct why *w, int64_t v)
{
	char buf[24];
	size_t i = sizeof buf;
	buf[--i] = '\0';
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		buf[--i] = '-';
	put(w, buf + i);
}

static int refuse(struct hw_tg_plan *plan, int code, const char *what)
{
	struct why w = {plan->why, 0};
	put(&w, what);
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
	if (in->election_ms < 0 || in->resume_ms < 0)
		return refuse(plan, HW_ECONFIG, "election and resume times must be >= 0");
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
 * (p99 P us) needs at least M ms" */
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
	put(&w, " ms) but the measured heartbeat jitter (p99 ");
	put_i64(&w, in->jitter_p99_us);
	put(&w, " us) needs at least ");
	put_i64(&w, plan->detection_min_ms);
	put(&w, " ms");
	return HW_ERANGE;
}

static void commit_rule(const struct hw_tg_input *in, struct hw_tg_plan *plan)
{
	if (in->rpo_ms == 0) {
		plan->rule = HW_TG_RULE_DURABLE;
		plan->k = in->k;
		plan->commit_latency_us = in->commit_durable_us;
		if (in->commit_durable_us > in->commit_local_us && in->commit_durable_us > 0.0)
			plan->throughput_cost = 1.0 - in->commit_local_us / in->commit_durable_us;
		return;
	}
	plan->rule = HW_TG_RULE_AHEAD;
	plan->max_ahead_ms = in->rpo_ms;
	plan->commit_latency_us = in->commit_local_us;
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
	commit_rule(in, plan);
	plan->false_failovers_per_year = hw_tg_false_failovers_per_year(
		plan->detection_ms, plan->renew_ms, in->jitter_p99_us, in->jitter_spread_us);
	return 0;
}
