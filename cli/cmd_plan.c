/* cmd_plan.c: `hawser plan`: the RTO/RPO planner (engine/core/targets.h) for an operator.
 * It gathers the planner's inputs (LAN defaults, or measured against a running node with
 * --measure), runs hw_tg_plan() for the given targets and for a few tighter and looser
 * RTOs, and prints the election timers, the failover time term by term, the commit rule
 * and the trade-off, or refuses an RTO that cannot be met safely with the reason; given
 * the voters, it also refuses a k that a node with them would refuse at start. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "engine/client_int.h"
#include "engine/config.h"
#include "engine/core/election.h"
#include "engine/core/repl.h"
#include "engine/core/targets.h"
#include "hawser.h"
#include "wire.pb-c.h"

/* Without --measure the planner's defaults (engine/core/targets.h, the ones every node
 * plans its timers with; docs/operations.md "Choosing targets"). */

/* STATUS round trips that stand in for heartbeats: enough for a p99 that is not just
 * the maximum, quick on any LAN (200 x 0.5 ms). */
#define MEASURE_SAMPLES 200
/* One status reply may take this long before the node is called unresponsive. */
#define MEASURE_WAIT_MS 5000
/* RTO of the Patroni-like row of the trade-off (ttl 30 s; anchors-ha.md section 2). */
#define PATRONI_RTO_MS 30000
/* The RPO shown as the alternative to RPO 0 (Oracle's FastStartFailoverLagLimit
 * minimum, anchors-ha.md section 2). */
#define RPO_ALT_MS 5000
/* Rows of the trade-off: 0.5x, 1x, 2x and the Patroni-like one. */
#define ROWS_MAX 4
/* A planned detection with more expected false failovers per year than this is flagged. */
#define FALSE_FAILOVERS_WARN 0.1
/* Where a wrapped line of plan's text goes on: an input's value, a term's note, a note's
 * words. */
#define INPUT_HANG   19
#define TERM_HANG    30
#define NOTE_HANG    4

struct plan_opts {
	int64_t rto_ms;
	int64_t rpo_ms;
	bool rto_given, rpo_given;
	const char *measure;
	uint64_t k;
	bool k_given;
	uint64_t voters; /* 0: not given */
	bool json;
	struct hw_client_security sec; /* how --measure connects */
};

/* What --measure found, or the defaults without it. */
struct inputs {
	bool measured;
	const char *addr;
	const struct hw_client_security *sec;
	unsigned samples;
	int64_t rtt_p50_us, rtt_p99_us; /* measured round trips */
	const char *role;               /* the measured node's role */
	uint32_t node_k;                /* its configured k */
	uint32_t node_voters;           /* its [failover] voters; 0: none */
	uint32_t voters;                /* --voters, else node_voters; 0: not known */
	uint32_t k_min;                 /* the least k for them, at any rpo (hw_el_k_min, as
					 * hw_config_k_min); 0: not known */
	const char *backlog_note;       /* where the backlog came from */
	bool silence_measured;          /* client_silence_ms from the node's heartbeat */
	struct hw_tg_input in;
};

struct row {
	int64_t rto_ms;
	char label[48];
	int rc;
	struct hw_tg_plan plan;
};

static int opt_cb(void *arg, int key, const char *v)
{
	struct plan_opts *o = arg;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	switch (key) {
	case 't':
		o->rto_given = true;
		return hw_cli_duration(v, &o->rto_ms) || o->rto_ms <= 0 ||
				       o->rto_ms > HW_TARGET_MS_MAX
			       ? -1
			       : 0;
	case 'p':
		o->rpo_given = true;
		return hw_cli_duration(v, &o->rpo_ms) || o->rpo_ms > HW_TARGET_MS_MAX ? -1 : 0;
	case 'm':
		o->measure = v;
		return 0;
	case 'k':
		o->k_given = true;
		return hw_cli_u64(v, &o->k) || o->k == 0 || o->k > HW_PEERS_MAX ? -1 : 0;
	case 'v': /* the nodes of [failover] voters and the witness, as a config counts them */
		return hw_cli_u64(v, &o->voters) || o->voters < 3 || o->voters > HW_EL_VOTERS_MAX
			       ? -1
			       : 0;
	case 'j':
		o->json = true;
		return 0;
	}
	return -1;
}

/* Print the line fmt makes (no newline in it) within 80 columns (hw_cli_wrap). */
static void wrapped(int hang, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wrapped(int hang, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	hw_cli_wrap(stdout, hang, line);
}

/* The --measure address escaped (hw_log_escaped: a unix: path may hold a newline or ESC)
 * into buf, cut where a line of wrapped() or refused() would cut it. Returns buf. */
#define ADDR_SHOWN_CHARS 1024
static const char *addr_shown(const char *addr, char buf[ADDR_SHOWN_CHARS])
{
	return hw_log_escaped(addr, buf, ADDR_SHOWN_CHARS);
}

/* "hawser plan: " and the line fmt makes on stderr, within 80 columns: a refusal. */
static void refused(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void refused(const char *fmt, ...)
{
	char line[1024] = "hawser plan: ";
	size_t n = strlen(line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	hw_cli_wrap(stderr, 2, line);
}

/* ---------------------------------------------------------------- measuring */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile q (0..100) of sorted a[0..n). */
static int64_t percentile(const int64_t *a, size_t n, unsigned q)
{
	size_t rank = (n * q + 99) / 100;
	return a[rank > 0 ? rank - 1 : 0];
}

static const char *role_name(Hawser__Wire__V1__Role r)
{
	switch (r) {
	case HAWSER__WIRE__V1__ROLE__PRIMARY:
		return "primary";
	case HAWSER__WIRE__V1__ROLE__STANDBY:
		return "standby";
	default:
		return "other";
	}
}

/* The backlog a standby would replay if promoted now: on a primary, the largest of its
 * connected standbys' received - applied (the worst one may be the one promoted). A
 * standby's own status carries no applied position. */
static void take_backlog(const Hawser__Wire__V1__Status *s, struct inputs *x)
{
	x->role = role_name(s->role);
	x->node_k = s->k;
	x->node_voters = s->failover != NULL ? s->failover->voters : 0;
	x->in.backlog_records = 0;
	if (s->role != HAWSER__WIRE__V1__ROLE__PRIMARY) {
		x->backlog_note = "not a primary: its status has no applied position, backlog "
				  "taken as 0 (measure the primary)";
		return;
	}
	size_t connected = 0;
	for (size_t i = 0; i < s->n_peers; i++) {
		const Hawser__Wire__V1__PeerStatus *p = s->peers[i];
		if (!p->connected)
			continue;
		connected++;
		uint64_t b = p->received > p->applied ? p->received - p->applied : 0;
		if (b > x->in.backlog_records)
			x->in.backlog_records = b;
	}
	x->backlog_note = connected ? "largest received - applied of the connected standbys"
				    : "no standby connected: backlog taken as 0";
}

/* MEASURE_SAMPLES status round trips; rtt[] gets them in us, *last the final reply. */
static int round_trips(struct hw_client *c, int64_t *rtt, Hawser__Wire__V1__Status **last)
{
	uint8_t *body = NULL;
	size_t len = 0;
	for (unsigned i = 0; i < MEASURE_SAMPLES; i++) {
		free(body);
		body = NULL;
		double t0 = hw_mono_s();
		int rc = hw_client_status(c, MEASURE_WAIT_MS, &body, &len);
		if (rc)
			return rc;
		rtt[i] = (int64_t)((hw_mono_s() - t0) * 1e6 + 0.5);
	}
	*last = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	return *last ? 0 : HW_EPROTOCOL;
}

/* Measure x->addr: the round trips stand in for heartbeats (a reply waits for one turn
 * of the node's loop, as a lease renewal does), and the full round trip is taken as the
 * heartbeat delay, which errs towards longer timers. Prints its own error message. */
static int measure(struct inputs *x)
{
	struct hw_client *c;
	char shown[ADDR_SHOWN_CHARS];
	int rc = hw_client_connect_secure(x->addr, x->sec, &c);
	if (rc) {
		refused("cannot measure %s: no hawser node answers there (%s, %s); give a "
			"running node's client port, or leave out --measure for LAN defaults",
			addr_shown(x->addr, shown), hw_strerror(rc), hw_errname(rc));
		return rc;
	}
	int64_t rtt[MEASURE_SAMPLES];
	Hawser__Wire__V1__Status *s = NULL;
	rc = round_trips(c, rtt, &s);
	/* the silence its clients wait out, from the heartbeat its Hello promised */
	if (hw_client_silence_ms(c) > 0) {
		x->in.client_silence_ms = hw_client_silence_ms(c);
		x->silence_measured = true;
	}
	hw_client_close(c);
	if (rc) {
		refused("measuring %s: status request failed: %s (%s)", addr_shown(x->addr, shown),
			hw_strerror(rc), hw_errname(rc));
		return rc;
	}
	qsort(rtt, MEASURE_SAMPLES, sizeof rtt[0], cmp_i64);
	x->measured = true;
	x->samples = MEASURE_SAMPLES;
	x->rtt_p50_us = percentile(rtt, MEASURE_SAMPLES, 50);
	x->rtt_p99_us = percentile(rtt, MEASURE_SAMPLES, 99);
	/* In whole milliseconds, rounded up: the [failover] heartbeat_p99 and
	 * heartbeat_spread this prints, so the plan shown is the one nodes given them run. */
	int64_t p99_ms = (x->rtt_p99_us + 999) / 1000;
	int64_t spread_ms = (x->rtt_p99_us - x->rtt_p50_us + 999) / 1000;
	p99_ms = p99_ms < 1 ? 1 : p99_ms;
	spread_ms = spread_ms < 1 ? 1 : spread_ms > p99_ms ? p99_ms : spread_ms;
	x->in.jitter_p99_us = p99_ms * 1000;
	x->in.jitter_spread_us = spread_ms * 1000;
	x->in.jitter_measured = true;
	/* the standby's fsync and one round trip on top of the local commit */
	x->in.commit_durable_us = 2.0 * x->in.commit_local_us + (double)x->rtt_p50_us;
	take_backlog(s, x);
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return 0;
}

/* The defaults; measure() overwrites what it measures. */
static void lan_defaults(const struct plan_opts *o, struct inputs *x)
{
	*x = (struct inputs){
		.addr = o->measure, .sec = &o->sec, .backlog_note = "assumed: no node measured"};
	hw_tg_input_defaults(&x->in, o->rto_ms, o->rpo_ms, 1);
}

/* ---------------------------------------------------------------- planning */

static void add_row(struct row *rows, size_t *n, int64_t rto_ms, const char *label)
{
	for (size_t i = 0; i < *n; i++) {
		if (rows[i].rto_ms != rto_ms)
			continue;
		size_t used = strlen(rows[i].label);
		snprintf(rows[i].label + used, sizeof rows[i].label - used, ", %s", label);
		return;
	}
	size_t at = *n;
	while (at > 0 && rows[at - 1].rto_ms > rto_ms) {
		rows[at] = rows[at - 1];
		at--;
	}
	rows[at] = (struct row){.rto_ms = rto_ms};
	snprintf(rows[at].label, sizeof rows[at].label, "%s", label);
	(*n)++;
}

/* The trade-off: the same inputs at 0.5x, 1x and 2x the RTO and at Patroni's 30 s. */
static size_t tradeoff(const struct hw_tg_input *base, struct row *rows)
{
	size_t n = 0;
	if (base->rto_ms / 2 > 0)
		add_row(rows, &n, base->rto_ms / 2, "0.5x");
	add_row(rows, &n, base->rto_ms, "target");
	if (base->rto_ms <= INT64_MAX / 2)
		add_row(rows, &n, base->rto_ms * 2, "2x");
	add_row(rows, &n, PATRONI_RTO_MS, "Patroni-like");
	for (size_t i = 0; i < n; i++) {
		struct hw_tg_input in = *base;
		in.rto_ms = rows[i].rto_ms;
		rows[i].rc = hw_tg_plan(&in, &rows[i].plan);
	}
	return n;
}

/* The smallest RTO these inputs allow: every term at its floor, and no less than a hung
 * primary's clients take (hw_tg_rto_min_ms). */
static int64_t rto_min_ms(const struct hw_tg_input *in, const struct hw_tg_plan *p)
{
	return hw_tg_rto_min_ms(in, p);
}

/* The standbys a new primary needs to go on acknowledging: at rpo 0 the k each submit
 * waits for (k_min applied by take_k); at rpo t the RPO t rule's, at least 1 and k_min
 * (hw_tg_ahead_k: it holds every acknowledgement until they hold what the new primary
 * was elected with). */
static uint32_t after_failover_k(const struct inputs *x)
{
	if (x->in.rpo_ms == 0)
		return x->in.k;
	return hw_tg_ahead_k(x->in.k, x->voters, x->voters >= 2 ? x->voters - 2 : UINT32_MAX);
}

/* After a failover the new primary has the other data nodes as standbys: the voters but
 * the witness, itself and the node lost, voters - 3. With fewer than after_failover_k,
 * nothing is acknowledged until a node comes back. Fills why
 * (HW_TG_WHY_BYTES) and returns true then; false when the voters are not known. */
static bool acks_stop_after_failover(const struct inputs *x, char *why, size_t cap)
{
	why[0] = '\0';
	uint32_t k = after_failover_k(x);
	if (x->voters == 0 || x->voters - 3 >= k)
		return false;
	snprintf(why, cap,
		 "a failover leaves the new primary %u standby%s of %u voters, fewer than the %u "
		 "%s: once the primary is lost for good, acknowledgements stop until it or "
		 "another standby returns (hawser status says the rto does not hold)",
		 x->voters - 3, x->voters - 3 == 1 ? "" : "s", x->voters, k,
		 x->in.rpo_ms == 0 ? "an rpo 0 commit waits for" : "the rpo rule needs");
	return true;
}

/* ---------------------------------------------------------------- text output */

/* Seconds when round, else milliseconds: "30 s", "1500 ms", "0". */
static const char *dur(int64_t ms, char *buf, size_t cap)
{
	if (ms == 0)
		snprintf(buf, cap, "0");
	else if (ms % 1000 == 0)
		snprintf(buf, cap, "%" PRId64 " s", ms / 1000);
	else
		snprintf(buf, cap, "%" PRId64 " ms", ms);
	return buf;
}

static const char *per_year(double v, char *buf, size_t cap)
{
	if (v < 1e-6)
		snprintf(buf, cap, "< 1e-6");
	else
		snprintf(buf, cap, "%.3g", v);
	return buf;
}

static void print_inputs(const struct inputs *x)
{
	const struct hw_tg_input *in = &x->in;
	char shown[ADDR_SHOWN_CHARS];
	if (x->measured)
		wrapped(2,
			"inputs (measured against %s, a %s: %u status round trips, p50 %" PRId64
			" us, p99 %" PRId64 " us):",
			addr_shown(x->addr, shown), x->role, x->samples, x->rtt_p50_us,
			x->rtt_p99_us);
	else
		wrapped(2, "inputs (assumed: a LAN, nothing measured; --measure ADDR for this "
			   "cluster):");
	wrapped(INPUT_HANG,
		"  heartbeat delay  p99 %" PRId64 " us, spread (p99 - p50) %" PRId64 " us%s",
		in->jitter_p99_us, in->jitter_spread_us,
		x->measured ? " (a full round trip, in whole ms)" : " (LAN default)");
	printf("  replay rate      %.0f records/s (default)\n", in->replay_rate);
	printf("  election         %" PRId64 " ms, resume %" PRId64 " ms (estimates)\n",
	       in->election_ms, in->resume_ms);
	char hb[64] = "the node's heartbeat_ms";
	if (!x->silence_measured)
		snprintf(hb, sizeof hb, "heartbeat_ms %d, the default", HW_TG_DEFAULT_HEARTBEAT_MS);
	wrapped(INPUT_HANG,
		"  client silence   %" PRId64 " ms: a hung primary's clients notice it after %d "
		"heartbeats, at least %d ms (%s)",
		in->client_silence_ms, HW_TG_CLIENT_SILENT_BEATS, HW_TG_CLIENT_SILENCE_MIN_MS, hb);
	wrapped(INPUT_HANG, "  backlog now      %" PRIu64 " records (%s)", in->backlog_records,
		x->backlog_note);
	wrapped(INPUT_HANG, "  commit latency   local %.0f us, durable on a standby %.0f us (%s)",
		in->commit_local_us, in->commit_durable_us,
		x->measured ? "local assumed, plus the measured round trip" : "defaults");
	printf("  clock drift      %d ppm (default bound)\n", HW_TG_DRIFT_PPM_DEFAULT);
}

static void print_timers_failover(const struct hw_tg_input *in, const struct hw_tg_plan *p)
{
	printf("\nelection timers\n");
	printf("  renew interval   %6" PRId64 " ms  (at least %" PRId64 " ms for this jitter)\n",
	       p->renew_ms, p->renew_min_ms);
	printf("  lease            %6" PRId64 " ms  (%d renewals)\n", p->lease_ms,
	       HW_TG_RENEWS_PER_LEASE);
	printf("  drift margin     %6" PRId64 " ms\n", p->drift_margin_ms);
	printf("  detection        %6" PRId64 " ms  (lease + drift margin; at least %" PRId64
	       " ms)\n",
	       p->detection_ms, p->detection_min_ms);
	/* a quiet voter link carries a heartbeat every renew interval (engine/voters.h) */
	wrapped(TERM_HANG,
		"  voter silence    %6" PRId64 " ms  (%d renewals: a voter unheard so long is "
		"unreached)",
		HW_TG_VOTER_SILENT_BEATS * p->renew_ms, HW_TG_VOTER_SILENT_BEATS);
	printf("\nfailover, term by term, against rto %" PRId64 " ms\n", in->rto_ms);
	printf("  detection        %6" PRId64 " ms\n", p->detection_ms);
	printf("  election         %6" PRId64 " ms\n", p->election_ms);
	wrapped(TERM_HANG,
		"  replay           %6" PRId64 " ms  (budget %" PRIu64
		" records; the backlog now: %" PRId64 " ms)",
		p->replay_ms, p->replay_budget_records, p->replay_now_ms);
	printf("  resume           %6" PRId64 " ms\n", p->resume_ms);
	printf("  total            %6" PRId64 " ms  <= rto %" PRId64 " ms\n", p->failover_ms,
	       in->rto_ms);
	wrapped(NOTE_HANG,
		"  a hung primary's clients notice after %" PRId64 " ms, while detection runs: "
		"%" PRId64 " + resume %" PRId64 " = %" PRId64 " ms <= rto",
		in->client_silence_ms, in->client_silence_ms, p->resume_ms,
		in->client_silence_ms + p->resume_ms);
	if (p->backlog_over_budget)
		wrapped(NOTE_HANG, "  warning: the backlog now is past the replay budget: the "
				   "primary takes no new submit until it is 1/8 below it");
}

static void print_commit(const struct inputs *x, const struct hw_tg_plan *p)
{
	const struct hw_tg_input *in = &x->in;
	char b[32], c[32];
	printf("\ncommit rule (rpo %s)\n", dur(in->rpo_ms, b, sizeof b));
	if (p->rule == HW_TG_RULE_DURABLE)
		wrapped(NOTE_HANG,
			"  a commit returns when durable on %u standby%s: no acknowledged loss",
			p->k, p->k == 1 ? "" : "s");
	else
		wrapped(NOTE_HANG,
			"  commits run ahead of the standbys by at most %s (rpo %s less a %" PRId64
			" ms margin for the witness's view of it), then block (or fail: "
			"[failover] rpo_action): a failover loses at most the last %s of "
			"acknowledged submits",
			dur(p->max_ahead_ms, b, sizeof b), dur(in->rpo_ms, c, sizeof c),
			p->ahead_margin_ms, c);
	if (in->rpo_ms > 0 && x->voters != 0)
		wrapped(NOTE_HANG,
			"  %u voters: a record is behind until durable on %u standby%s (k %u, at "
			"least 1 and k_min %u: with fewer a majority could elect a standby lacking "
			"records acknowledged long before)",
			x->voters, after_failover_k(x), after_failover_k(x) == 1 ? "" : "s", in->k,
			hw_el_k_min(x->voters));
	if (in->rpo_ms == 0 && x->voters != 0)
		wrapped(NOTE_HANG,
			"  %u voters: an rpo 0 commit waits for at least k_min %u standbys, "
			"whatever "
			"its k (with fewer a majority could elect a standby without it)",
			x->voters, x->k_min);
	else if (x->voters != 0)
		wrapped(NOTE_HANG,
			"  %u voters: a commit in mode received, durable or applied waits for at "
			"least k_min %u standby%s, whatever its k, as at rpo 0, so a failover "
			"does not lose it (with fewer a majority could elect a standby without "
			"it); a commit in mode local it may lose, up to the last %s",
			x->voters, x->k_min, x->k_min == 1 ? "" : "s",
			dur(in->rpo_ms, b, sizeof b));
	else if (in->rpo_ms == 0)
		wrapped(NOTE_HANG,
			"  voters not given: k not checked against them (--voters N; 5 or more "
			"need k >= 2)");
	else
		wrapped(NOTE_HANG,
			"  voters not given: k_min not known (--voters N; with 5 or more a commit "
			"in mode received, durable or applied waits for at least 2 standbys)");
	wrapped(NOTE_HANG,
		"  commit latency %.0f us, throughput cost %.0f%% per closed-loop client",
		p->commit_latency_us, 100.0 * p->throughput_cost);
	struct hw_tg_input alt = *in;
	alt.rpo_ms = in->rpo_ms == 0 ? RPO_ALT_MS : 0;
	if (alt.rpo_ms == 0 && alt.k < x->k_min) /* as take_k would have it at rpo 0 */
		alt.k = x->k_min;
	struct hw_tg_plan q;
	if (hw_tg_plan(&alt, &q) != 0)
		return;
	if (q.rule == HW_TG_RULE_AHEAD)
		wrapped(NOTE_HANG,
			"  (rpo %s instead: local latency %.0f us, cost 0%%, but up to %s of "
			"acknowledged submits lost in a failover)",
			dur(alt.rpo_ms, b, sizeof b), q.commit_latency_us, b);
	else
		wrapped(NOTE_HANG,
			"  (rpo 0 instead: durable on %u, latency %.0f us, cost %.0f%%, no "
			"acknowledged loss)",
			q.k, q.commit_latency_us, 100.0 * q.throughput_cost);
}

static void print_rows(const struct hw_tg_input *in, const struct row *rows, size_t n)
{
	/* 80 columns: a row label is at most "target, Patroni-like", a budget 9 digits (2 x
	 * the longest rto at the replay rate) */
	printf("\ntrade-off (same cluster, other RTOs)\n");
	printf("  %-8s %-20s %9s %9s %10s %17s\n", "rto", "row", "detection", "renew", "false/year",
	       "replay budget");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char b[32], f[32];
		if (r->rc != 0) {
			printf("  %-8s %-20s refused: the smallest safe rto is %" PRId64 " ms\n",
			       dur(r->rto_ms, b, sizeof b), r->label, rto_min_ms(in, &r->plan));
			continue;
		}
		printf("  %-8s %-20s %6" PRId64 " ms %6" PRId64 " ms %10s %9" PRIu64 " records\n",
		       dur(r->rto_ms, b, sizeof b), r->label, r->plan.detection_ms,
		       r->plan.renew_ms, per_year(r->plan.false_failovers_per_year, f, sizeof f),
		       r->plan.replay_budget_records);
	}
	printf("  false/year: false failovers a year, the jitter model's floor (targets.h);\n"
	       "  pauses, saturated links and lost connections come on top\n");
}

/* Which target a refused plan fails, and for the rto the smallest that would do; an rpo
 * inside the witness's margin has none (the rto is not at fault). */
static void refused_json(struct hw_json *j, const struct hw_tg_input *in,
			 const struct hw_tg_plan *p)
{
	hw_json_kv_string(j, "refused", p->rpo_refused ? "rpo" : "rto");
	if (!p->rpo_refused)
		hw_json_kv_int(j, "rto_min_ms", rto_min_ms(in, p));
}

/* ---------------------------------------------------------------- JSON output */

static void json_inputs(struct hw_json *j, const struct inputs *x)
{
	const struct hw_tg_input *in = &x->in;
	hw_json_key(j, "inputs");
	hw_json_object_begin(j);
	hw_json_kv_string(j, "source", x->measured ? "measured" : "lan-defaults");
	hw_json_kv_string(j, "addr", x->addr);
	hw_json_kv_string(j, "role", x->role);
	hw_json_kv_uint(j, "samples", x->samples);
	hw_json_kv_int(j, "rtt_p50_us", x->rtt_p50_us);
	hw_json_kv_int(j, "rtt_p99_us", x->rtt_p99_us);
	hw_json_kv_int(j, "jitter_p99_us", in->jitter_p99_us);
	hw_json_kv_int(j, "jitter_spread_us", in->jitter_spread_us);
	hw_json_kv_double(j, "replay_rate", in->replay_rate);
	hw_json_kv_int(j, "election_ms", in->election_ms);
	hw_json_kv_int(j, "resume_ms", in->resume_ms);
	hw_json_kv_int(j, "client_silence_ms", in->client_silence_ms);
	hw_json_kv_uint(j, "backlog_records", in->backlog_records);
	hw_json_kv_string(j, "backlog_source", x->backlog_note);
	hw_json_kv_double(j, "commit_local_us", in->commit_local_us);
	hw_json_kv_double(j, "commit_durable_us", in->commit_durable_us);
	hw_json_kv_int(j, "drift_ppm", HW_TG_DRIFT_PPM_DEFAULT);
	hw_json_object_end(j);
}

static void json_timers(struct hw_json *j, const struct hw_tg_plan *p)
{
	hw_json_key(j, "timers");
	hw_json_object_begin(j);
	hw_json_kv_int(j, "renew_ms", p->renew_ms);
	hw_json_kv_int(j, "lease_ms", p->lease_ms);
	hw_json_kv_int(j, "drift_margin_ms", p->drift_margin_ms);
	hw_json_kv_int(j, "detection_ms", p->detection_ms);
	hw_json_kv_int(j, "renew_min_ms", p->renew_min_ms);
	hw_json_kv_int(j, "detection_min_ms", p->detection_min_ms);
	hw_json_object_end(j);
}

static void json_failover(struct hw_json *j, const struct hw_tg_input *in,
			  const struct hw_tg_plan *p)
{
	hw_json_key(j, "failover");
	hw_json_object_begin(j);
	hw_json_kv_int(j, "detection_ms", p->detection_ms);
	hw_json_kv_int(j, "election_ms", p->election_ms);
	hw_json_kv_int(j, "replay_ms", p->replay_ms);
	hw_json_kv_int(j, "resume_ms", p->resume_ms);
	hw_json_kv_int(j, "total_ms", p->failover_ms);
	hw_json_kv_int(j, "rto_ms", in->rto_ms);
	hw_json_kv_uint(j, "replay_budget_records", p->replay_budget_records);
	hw_json_kv_int(j, "replay_now_ms", p->replay_now_ms);
	hw_json_kv_bool(j, "backlog_over_budget", p->backlog_over_budget);
	hw_json_object_end(j);
}

static void json_commit(struct hw_json *j, const struct hw_tg_plan *p)
{
	hw_json_key(j, "commit");
	hw_json_object_begin(j);
	hw_json_kv_string(j, "rule", p->rule == HW_TG_RULE_DURABLE ? "durable" : "ahead");
	if (p->rule == HW_TG_RULE_DURABLE) {
		hw_json_kv_uint(j, "k", p->k);
	} else {
		hw_json_kv_int(j, "max_ahead_ms", p->max_ahead_ms);
		hw_json_kv_int(j, "ahead_margin_ms", p->ahead_margin_ms);
	}
	hw_json_kv_double(j, "latency_us", p->commit_latency_us);
	hw_json_kv_double(j, "throughput_cost", p->throughput_cost);
	hw_json_object_end(j);
}

static void json_rows(struct hw_json *j, const struct hw_tg_input *in, const struct row *rows,
		      size_t n)
{
	hw_json_key(j, "tradeoff");
	hw_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		hw_json_object_begin(j);
		hw_json_kv_string(j, "label", r->label);
		hw_json_kv_int(j, "rto_ms", r->rto_ms);
		hw_json_kv_bool(j, "feasible", r->rc == 0);
		if (r->rc == 0) {
			hw_json_kv_int(j, "detection_ms", r->plan.detection_ms);
			hw_json_kv_int(j, "renew_ms", r->plan.renew_ms);
			hw_json_kv_double(j, "false_failovers_per_year",
					  r->plan.false_failovers_per_year);
			hw_json_kv_uint(j, "replay_budget_records", r->plan.replay_budget_records);
			hw_json_kv_double(j, "throughput_cost", r->plan.throughput_cost);
		} else {
			refused_json(j, in, &r->plan);
		}
		hw_json_object_end(j);
	}
	hw_json_array_end(j);
}

/* With the voters known: the standbys a failover leaves the new primary, the k it needs
 * (after_failover_k), and whether acknowledgements stop once the primary is lost for
 * good (acks_stop, with why). */
static void json_after_failover(struct hw_json *j, const struct inputs *x)
{
	if (x->voters == 0)
		return;
	char why[HW_TG_WHY_BYTES + 64];
	bool stop = acks_stop_after_failover(x, why, sizeof why);
	hw_json_key(j, "after_failover");
	hw_json_object_begin(j);
	hw_json_kv_uint(j, "standbys", x->voters - 3);
	hw_json_kv_uint(j, "k", after_failover_k(x));
	hw_json_kv_bool(j, "acks_stop", stop);
	hw_json_kv_string(j, "why", why);
	hw_json_object_end(j);
}

/* What every plan object starts with: the targets, k and the voters, and the verdict. */
static void json_head(struct hw_json *j, const struct inputs *x, bool feasible, const char *why)
{
	hw_json_kv_int(j, "rto_ms", x->in.rto_ms);
	hw_json_kv_int(j, "rpo_ms", x->in.rpo_ms);
	hw_json_kv_uint(j, "k", x->in.k);
	hw_json_kv_uint(j, "voters", x->voters);
	hw_json_kv_uint(j, "k_min", x->k_min);
	hw_json_kv_bool(j, "feasible", feasible);
	hw_json_kv_string(j, "why", why);
}

static void print_json(const struct inputs *x, int rc, const struct hw_tg_plan *p,
		       const struct row *rows, size_t n)
{
	const struct hw_tg_input *in = &x->in;
	struct hw_json j;
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	json_head(&j, x, rc == 0, p->why);
	json_inputs(&j, x);
	if (rc == 0) {
		json_timers(&j, p);
		json_failover(&j, in, p);
		json_commit(&j, p);
		json_after_failover(&j, x);
		hw_json_kv_double(&j, "false_failovers_per_year", p->false_failovers_per_year);
	} else {
		refused_json(&j, in, p);
	}
	json_rows(&j, in, rows, n);
	hw_json_object_end(&j);
}

/* ---------------------------------------------------------------- the command */

/* k for the plan: --k, else the measured node's, else the least the voters allow (at
 * least 1). With the voters known (--voters, or the measured node's) a k a node with
 * them would refuse at start is refused here too, in words on stderr (and in the JSON
 * object with --json): HW_ECONFIG. Below k_min that is at rpo 0 only: at rpo t a node
 * raises it (hw_config_k_min), and print_commit says so. */
static int take_k(const struct plan_opts *o, struct inputs *x)
{
	x->voters = o->voters != 0 ? (uint32_t)o->voters : x->node_voters;
	x->k_min = x->voters != 0 ? hw_el_k_min(x->voters) : 0;
	if (o->k_given)
		x->in.k = (uint32_t)o->k;
	else if (x->measured && x->node_k > 0)
		x->in.k = x->node_k;
	else if (x->k_min > x->in.k)
		x->in.k = x->k_min;
	char why[HW_TG_WHY_BYTES] = "";
	if (x->voters != 0 && x->in.k > x->voters - 2)
		snprintf(
			why, sizeof why,
			"k %u is more than the %u standbys of %u voters: the witness holds no data",
			x->in.k, x->voters - 2, x->voters);
	else if (x->in.rpo_ms == 0 && x->in.k < x->k_min)
		snprintf(why, sizeof why,
			 "rpo 0 with %u voters needs k >= %u, not %u: " HW_EL_K_MIN_WHY, x->voters,
			 x->k_min, x->in.k);
	if (why[0] == '\0')
		return 0;
	if (o->json) {
		struct hw_json j;
		hw_json_init(&j, stdout);
		hw_json_object_begin(&j);
		json_head(&j, x, false, why);
		hw_json_object_end(&j);
	}
	refused("%s (a node refuses such a config at start)", why);
	return HW_ECONFIG;
}

static void print_text(const struct inputs *x, const struct hw_tg_plan *p, const struct row *rows,
		       size_t n)
{
	char b[32], c[32];
	printf("hawser plan: rto %s, rpo %s\n\n", dur(x->in.rto_ms, b, sizeof b),
	       dur(x->in.rpo_ms, c, sizeof c));
	print_inputs(x);
	print_timers_failover(&x->in, p);
	print_commit(x, p);
	print_rows(&x->in, rows, n);
	if (x->measured)
		printf("\nnodes plan with the LAN defaults unless told: for these timers put\n"
		       "  heartbeat_p99 = %" PRId64 "ms\n  heartbeat_spread = %" PRId64 "ms\n"
		       "in [failover] of every node's and the witness's config\n",
		       x->in.jitter_p99_us / 1000, x->in.jitter_spread_us / 1000);
	if (p->false_failovers_per_year > FALSE_FAILOVERS_WARN) {
		putchar('\n');
		wrapped(NOTE_HANG,
			"warning: %s false failovers a year expected at this detection time: "
			"a longer rto buys a longer lease",
			per_year(p->false_failovers_per_year, b, sizeof b));
	}
	char why[HW_TG_WHY_BYTES + 64];
	if (acks_stop_after_failover(x, why, sizeof why)) {
		putchar('\n');
		wrapped(NOTE_HANG, "warning: %s", why);
	}
}

/* Why the smallest safe RTO is what it is, on stderr: the terms at their floors, or a
 * hung primary's clients when they take longer. */
static void print_rto_min(const struct inputs *x, const struct hw_tg_plan *p)
{
	const struct hw_tg_input *in = &x->in;
	int64_t terms = in->election_ms + in->resume_ms + p->replay_now_ms + p->detection_min_ms;
	if (rto_min_ms(in, p) > terms) {
		refused("the smallest safe rto here is %" PRId64 " ms = client silence %" PRId64
			" + resume %" PRId64 " (a hung primary's clients; %s)",
			rto_min_ms(in, p), in->client_silence_ms, in->resume_ms,
			x->silence_measured ? "the node's heartbeat_ms"
					    : "the default heartbeat_ms");
		return;
	}
	refused("the smallest safe rto here is %" PRId64 " ms = election %" PRId64
		" + resume %" PRId64 " + replay of the backlog %" PRId64
		" + detection floor %" PRId64 " (%s)",
		rto_min_ms(in, p), in->election_ms, in->resume_ms, p->replay_now_ms,
		p->detection_min_ms,
		x->measured ? "jitter measured" : "LAN defaults, nothing measured");
}

static const struct option longopts[] = {
	{"rto", required_argument, NULL, 't'},
	{"rpo", required_argument, NULL, 'p'},
	{"measure", required_argument, NULL, 'm'},
	{"k", required_argument, NULL, 'k'},
	{"voters", required_argument, NULL, 'v'},
	{"json", no_argument, NULL, 'j'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

static int cmd_plan(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct plan_opts o = {0};
	int rc = hw_cli_parse(cmd, argc, argv, longopts, opt_cb, &o, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!o.rto_given || !o.rpo_given)
		return hw_cli_usage_error(cmd, "--rto T and --rpo P are both required");
	rc = hw_cli_security_check_for(cmd, o.measure, "--measure", &o.sec);
	if (rc != HW_CLI_RUN)
		return rc;
	struct inputs x;
	lan_defaults(&o, &x);
	if (o.measure && measure(&x) != 0)
		return HW_CLI_ERROR;
	if (take_k(&o, &x) != 0)
		return HW_CLI_ERROR;
	struct hw_tg_plan p;
	rc = hw_tg_plan(&x.in, &p);
	struct row rows[ROWS_MAX];
	size_t n = tradeoff(&x.in, rows);
	if (o.json)
		print_json(&x, rc, &p, rows, n);
	if (rc != 0) {
		refused("%s %" PRId64 " ms cannot be met safely: %s", p.rpo_refused ? "rpo" : "rto",
			p.rpo_refused ? x.in.rpo_ms : x.in.rto_ms, p.why);
		if (rc == HW_ERANGE && !p.rpo_refused)
			print_rto_min(&x, &p);
		return HW_CLI_ERROR;
	}
	if (!o.json)
		print_text(&x, &p, rows, n);
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_plan = {
	"plan", "derive election timers and the commit rule from RTO and RPO targets",
	HW_CLI_USAGE(
		"usage: hawser plan --rto T --rpo P [--measure ADDR] [--k K] [--voters N]\n"
		"                   [--json] [--key FILE --peers LIST --cluster ID | --insecure]\n"
		"  Turn a recovery time objective T and a recovery point objective P (durations:\n"
		"  500ms, 30s, 1.5s, 5m, 1h; at most an hour, as a node's [failover] takes them;\n"
		"  P may be 0) into the lease renew interval, lease,\n"
		"  drift margin and detection time, the failover time term by term (detection +\n"
		"  election + replay + resume <= T), the commit rule (P = 0: durable on K\n"
		"  standbys; P > 0: commits may run ahead of the standbys by at most P less a\n"
		"  margin for the witness's view, then block; a P within that margin is refused),\n"
		"  and the trade-off at 0.5x, 1x and 2x T and at a Patroni-like 30 s: detection,\n"
		"  expected false failovers a year, replay budget, and the throughput cost of the\n"
		"  rule.\n"
		"  Resume is the clients' reconnect and first submit once the new primary is up;\n"
		"  a hung (not killed) primary's clients first wait out its silence, 4 of its\n"
		"  heartbeats ([limits] heartbeat_ms) and at least 1 s, alongside detection and\n"
		"  election, so T must also cover that silence + resume (1300 ms by default).\n"
		"  Without --measure it assumes what nodes plan with by default (heartbeat p99\n"
		"  2 ms, p50 1 ms; replay 20,000 records/s; election 200 ms; resume 300 ms;\n"
		"  heartbeat_ms 100; commit 500 us local, 3 ms durable), and a refusal says the\n"
		"  jitter was assumed. --measure ADDR (a node's client port,\n"
		"  [ID@]HOST:PORT or [ID@]unix:/path) times 200 status round trips as the\n"
		"  heartbeat delay (whole ms, rounded up, printed at the end as the [failover]\n"
		"  heartbeat_p99 and heartbeat_spread that make nodes run this plan) and reads\n"
		"  the standbys' unapplied backlog, the node's k, its voters and the heartbeat\n"
		"  its clients are promised. --k K: standbys a commit in mode received, durable\n"
		"  or applied waits for (default: the measured node's k, else the least N voters\n"
		"  allow, else 1). --voters N: the failover's voters as a node's [failover]\n"
		"  counts them, the nodes of 'voters' and the witness (3..9; default: the\n"
		"  measured node's): the plan shows k_min, the least k with which no majority of\n"
		"  N voters can elect a standby lacking an acknowledged record (1 up to 4 voters,\n"
		"  2 for 5 or 6, 3 for 7 or 8, 4 for 9), which such a commit waits for at any P,\n"
		"  and refuses, as a node refuses such a config at start, a K below it at P = 0\n"
		"  (at P > 0 a node raises it) or above the N - 2 standbys. It warns when a\n"
		"  failover leaves the new primary fewer standbys (N - 3: the witness, the new\n"
		"  primary and the lost one aside) than K (at P > 0 at least 1, the rpo rule's):\n"
		"  once the primary is lost for good, nothing is acknowledged until it or\n"
		"  another standby returns (3 voters, K 1: primary, one standby and the\n"
		"  witness). --json: one JSON object (with voters and\n"
		"  k_min, 0 when not known; with N known, after_failover:\n"
		"  standbys, k, acks_stop and why).\n"
		"  Exit 1 when T cannot be met safely or K does not fit N voters (the reason on\n"
		"  stderr) or the node cannot be measured; 2 on a bad duration or N. With\n"
		"  --measure:\n" HW_CLI_SECURITY_USAGE),
	cmd_plan};
