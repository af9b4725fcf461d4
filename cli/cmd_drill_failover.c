/* cmd_drill_failover.c: `hawser drill failover`, the failover drill (docs/drills.md). On a
 * local cluster it starts in a temporary directory (a primary, two standbys and a witness,
 * real processes on loopback, bench/cluster.h), it runs N failovers under TOS load one
 * after the other (cli/failover_run.h): each takes the primary of the moment away (SIGKILL,
 * or cut off from the other voters while its clients still reach it), measures the time
 * to the first acknowledged submit on the new primary, counts the acknowledged records
 * lost and whether two primaries acknowledged in overlapping periods, and times the old
 * primary's rejoin. It prints one JSON object (--json) or a summary, writes the report
 * (cli/report.h: the slowest run's timeline) and, as the other drills do, appends a row
 * to the drill history of the node of --config (its data_dir, or --dir). That row keeps
 * the node's failover schedule, so it is written only for a drill held to what the node
 * promises (node_targets): a node without [failover] is refused, and so is a target
 * looser than its own. A local run measures a cluster of its own with the node's targets,
 * not the node, and its report's header says so.
 *
 * On a running cluster (--connect ADDR,...) the same runs go through the nodes' client
 * ports (cli/failover_remote.c): the primary of the moment is asked to crash itself (its
 * supervisor restarts it) or, with partition-primary, to cut its voter and replication
 * links for a while and heal by itself; it does either only when its config allows it
 * ([drills] allow_fault) and the drill's key is pinned there.
 *
 * A crashed primary that its supervisor restarts within the detection time may be elected
 * again before any standby: the service came back by the restart, not by a failover. Such
 * a run is judged as any other (its RTO, its losses, one primary at a time) but is
 * counted apart (recovered_by restart): it did not exercise the promotion of a standby,
 * which the "standby promotion" check says with a WARN. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cluster.h"
#include "cli/cli.h"
#include "cli/cmd_drill.h"
#include "cli/failover_run.h"
#include "cli/json.h"
#include "cli/report.h"
#include "engine/config.h"
#include "engine/voters.h"
#include "hawser.h"
#include "replica/drills.h"
#include "replica/snapshot.h"

#define RUNS_MAX       100u
#define RTO_MS_DEFAULT 30000
#define RATE           300.0 /* records/s over the three lanes: a terminal at its peak */
#define WINDOW         32u
#define FAULT_AFTER_S  1.0   /* load before each fault */
#define AFTER_S        0.5   /* load after the first ack on the new primary */
#define REJOIN_MS      15000 /* at least; the RTO when longer */
#define SYNC_MS        15000 /* every standby caught up before the next run */
#define STANDBYS       2u
#define SEED           1u
#define PROFILE        "terminal_peak"

struct fdrill {
	struct drill base; /* the options every drill takes, the report, the history row */
	const char *kill;
	int64_t rto_ms, rpo_ms;
	bool rto_given, rpo_given;
	uint64_t runs, seed;
	enum hw_fo_fault fault;
	char work[PATH_MAX];
	struct hw_cluster *c;        /* the local cluster, or NULL */
	struct hw_fo_remote *remote; /* --connect: the running cluster, or NULL */
	struct hw_fo_load load;
	struct hw_fo_run run[RUNS_MAX];
	unsigned done;     /* runs started */
	unsigned measured; /* runs that measured an rto: rto_p50 .. rto_max mean something */
	double rto_p50, rto_p99, rto_max;
	uint64_t acked, lost, lost_beyond, overlapping, not_joined, failed_runs;
	uint64_t lost_over_rpo; /* lost records that break the rpo (hw_fo_lost_over_rpo) */
	uint64_t loss_checked;  /* runs whose loss check ran */
	uint64_t overlap_checked; /* runs whose overlap check ran */
	uint64_t rejoin_checked;  /* of those, runs with an old primary to rejoin */
	uint64_t failovers;    /* runs where a standby took over */
	uint64_t restarts;     /* runs recovered by a restart of the old primary instead */
	uint64_t away; /* remote crash: not back, which its supervisor decides, not hawser */
	char error[320]; /* the drill could not run: why */
	bool stopped;    /* the last run did not end by itself: its fault was refused, the
			    local cluster's disk failed (run_error) or a signal came: an
			    ERROR, not a failure of the cluster */
};

/* The old primary's chance to rejoin: its timers grow with the RTO. */
static int rejoin_ms(int64_t rto_ms)
{
	return rto_ms > REJOIN_MS ? (int)rto_ms : REJOIN_MS;
}

/* A run's first ack is awaited for the RTO three times over (at least 10 s): a slow run
 * is measured, not cut short; past that the run fails. */
static int first_ack_ms(int64_t rto_ms)
{
	return rto_ms * 3 > 10000 ? (int)(rto_ms * 3) : 10000;
}

/* The failover drill's own options; the others are every drill's (cmd_drill.c). */
static int opt_cb(void *arg, int key, const char *v)
{
	struct fdrill *d = arg;
	switch (key) {
	case 'T': /* at most what a node's [failover] takes, as for hawser plan */
		d->rto_given = true;
		return hw_cli_duration(v, &d->rto_ms) || d->rto_ms <= 0 ||
				       d->rto_ms > HW_TARGET_MS_MAX
			       ? -1
			       : 0;
	case 'P':
		d->rpo_given = true;
		return hw_cli_duration(v, &d->rpo_ms) || d->rpo_ms > HW_TARGET_MS_MAX ? -1 : 0;
	case 'n':
		return hw_cli_u64(v, &d->runs) || d->runs == 0 || d->runs > RUNS_MAX ? -1 : 0;
	case 'K':
		d->kill = v;
		return strcmp(v, "primary") && strcmp(v, "partition-primary") ? -1 : 0;
	}
	return hw_cli_drill_opt(&d->base, key, v);
}

static const struct option opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"dir", required_argument, NULL, 'd'},
	{"report-dir", required_argument, NULL, 'r'},
	{"connect", required_argument, NULL, 'C'},
	{"rto", required_argument, NULL, 'T'},
	{"rpo", required_argument, NULL, 'P'},
	{"runs", required_argument, NULL, 'n'},
	{"kill", required_argument, NULL, 'K'},
	{"json", no_argument, NULL, 'j'},
	{"keep", no_argument, NULL, 'k'},
	{"no-record", no_argument, NULL, 'N'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

/* One target of --config's node against the drill's: a looser one (a longer time) is a
 * usage error naming both. */
static int target_check(const struct fdrill *d, const char *opt, int64_t drill_ms, int64_t node_ms)
{
	if (drill_ms <= node_ms)
		return HW_CLI_RUN;
	return hw_cli_usage_error(d->base.cmd,
				  "--%s %lldms is looser than node %s's [failover] %s %lldms: a "
				  "drill held to a looser target does not show that the node meets "
				  "its own; give --%s %lldms at most, or leave --%s out",
				  opt, (long long)drill_ms, d->base.cfg.node_id, opt,
				  (long long)node_ms, opt, (long long)node_ms, opt);
}

/* --config names the node whose failover schedule the drill counts toward (its history
 * row, `hawser status`), so the drill must measure what that node promises: the node
 * fails over at all ([failover]), and the targets are its own [failover] rto and rpo, or
 * tighter. */
static int node_targets(struct fdrill *d)
{
	const struct hw_failover *fo = &d->base.cfg.failover;
	if (!fo->on)
		return hw_cli_usage_error(
			d->base.cmd,
			"node %s (%s) has no [failover] section: it cannot fail over, so there is "
			"nothing to drill for it; to measure failovers on a local test cluster, "
			"run without --config (--rto and --rpo give the targets)",
			d->base.cfg.node_id, d->base.config_path);
	if (!d->rto_given)
		d->rto_ms = fo->rto_ms;
	if (!d->rpo_given)
		d->rpo_ms = fo->rpo_ms;
	int rc = target_check(d, "rto", d->rto_ms, fo->rto_ms);
	return rc == HW_CLI_RUN ? target_check(d, "rpo", d->rpo_ms, fo->rpo_ms) : rc;
}

/* The local cluster's nodes (bench/cluster.c: durable k=1, [limits] and the heartbeat
 * delay at their defaults) refuse at start targets their planner cannot meet
 * (engine/voters.h hw_voters_plan_check, and the config's check of a hung primary's
 * clients, which the planner makes too): a usage error here instead, naming the least
 * rto, or the rpo margin, they take. A running cluster (--connect) plans its own. */
static int local_targets(const struct fdrill *d)
{
	if (d->base.connect)
		return HW_CLI_RUN;
	struct hw_config c;
	hw_config_defaults(&c);
	c.k = 1;
	c.failover.rto_ms = d->rto_ms;
	c.failover.rpo_ms = d->rpo_ms;
	struct hw_tg_input in;
	struct hw_tg_plan plan;
	hw_voters_input(&c, &in);
	if (hw_tg_plan(&in, &plan) == 0)
		return HW_CLI_RUN;
	if (plan.rpo_refused)
		return hw_cli_usage_error(d->base.cmd,
					  "--rpo %lldms cannot be met by the local cluster's "
					  "nodes: %s (more than %lldms)",
					  (long long)d->rpo_ms, plan.why,
					  (long long)plan.ahead_margin_ms);
	return hw_cli_usage_error(d->base.cmd,
				  "--rto %lldms cannot be met by the local cluster's nodes: %s; "
				  "give --rto at least %lldms",
				  (long long)d->rto_ms, plan.why,
				  (long long)hw_tg_rto_min_ms(&in, &plan));
}

/* Options, then the config (--config): its data_dir, [drills] report_dir and its
 * [failover] targets (node_targets); then the targets a local cluster takes
 * (local_targets). */
static int setup(struct fdrill *d, const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	d->base.cmd = cmd;
	d->runs = 5;
	d->rto_ms = RTO_MS_DEFAULT;
	hw_config_defaults(&d->base.cfg);
	int rc = hw_cli_parse(cmd, argc, argv, opts, opt_cb, d, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	d->fault = d->kill && !strcmp(d->kill, "partition-primary") ? HW_FO_PARTITION : HW_FO_KILL;
	rc = hw_cli_security_check_optional(cmd, d->base.connect, &d->base.sec);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d->base.config_path && d->base.dir)
		return hw_cli_usage_error(cmd, "--dir goes with --config: a failover drill counts "
					       "in a node's drill history only when held to that "
					       "node's [failover] targets");
	if (!d->base.config_path)
		return local_targets(d);
	char err[600];
	rc = hw_config_load(d->base.config_path, &d->base.cfg, err, sizeof(err));
	if (rc != 0) {
		hw_config_perror(d->base.config_path, rc, err);
		return HW_CLI_ERROR;
	}
	if (!d->base.dir)
		d->base.dir = d->base.cfg.data_dir;
	rc = node_targets(d);
	return rc == HW_CLI_RUN ? local_targets(d) : rc;
}

/* ---- the runs ----------------------------------------------------------------------- */

static int start_cluster(struct fdrill *d)
{
	char root[PATH_MAX + 16];
	snprintf(root, sizeof(root), "%s/cluster", d->work);
	struct hw_cluster_opts o = {.root = root,
				    .cluster_id = "drill",
				    .standbys = STANDBYS,
				    /* RPO 0 needs durable; a lossy RPO lets commits run ahead */
				    .mode = d->rpo_ms ? "local" : "durable",
				    .k = 1,
				    .failover = true,
				    .rto_ms = d->rto_ms,
				    .rpo_ms = d->rpo_ms,
				    .proxied = d->fault == HW_FO_PARTITION,
				    /* the first election waits out a detection time (< rto) */
				    .start_timeout_ms = (int)d->rto_ms + 10000};
	double t0 = hw_report_clock(&d->base.rep);
	int rc = hw_cluster_start(&o, &d->c);
	if (rc) {
		snprintf(d->error, sizeof(d->error), "start a local cluster (rto %lld ms): %s",
			 (long long)d->rto_ms, hw_strerror(rc));
		return -1;
	}
	hw_report_phase(&d->base.rep, "start cluster", t0, hw_report_clock(&d->base.rep),
			HW_VERDICT_PASS,
			"p1 primary, s1 s2 standbys, w1 witness: real processes on loopback%s",
			o.proxied ? ", every voter link through a proxy" : "");
	return 0;
}

/* The running cluster of --connect: its nodes by their status. */
static int connect_cluster(struct fdrill *d)
{
	double t0 = hw_report_clock(&d->base.rep);
	int rc = hw_fo_remote_new(d->base.connect, &d->base.sec, &d->remote);
	if (rc) {
		/* the reason first: a long list is what the one-line result cuts */
		snprintf(d->error, sizeof(d->error), "--connect: %s (%s): %s", hw_strerror(rc),
			 hw_errname(rc), d->base.connect);
		return -1;
	}
	hw_report_phase(&d->base.rep, "connect", t0, hw_report_clock(&d->base.rep), HW_VERDICT_PASS,
			"running cluster at %s", d->base.connect);
	return 0;
}

static void run_line(const struct fdrill *d, unsigned i)
{
	const struct hw_fo_run *r = &d->run[i];
	if (d->base.json)
		return;
	if (r->fail[0]) {
		printf("  run %u: %s %s\n", i + 1, d->stopped ? "ERROR" : "FAIL", r->fail);
	} else {
		printf("  run %u: %s -> %s%s rto %.0f ms (promoted %.0f ms), acked %" PRIu64
		       " lost %" PRIu64 ", overlapping %u, rejoin %.0f ms%s\n",
		       i + 1, hw_fo_node_id(r, r->old_p), hw_fo_node_id(r, r->new_p),
		       r->restarted ? " (restarted, no failover)" : "", r->measured_rto_ms,
		       r->promoted_ms, r->acked, r->lost, r->overlapping,
		       r->joined ? r->rejoin_ms_measured : -1.0,
		       r->restarted ? " (nothing to rejoin)"
		       : r->joined  ? ""
				    : " (not rejoined)");
	}
	fflush(stdout);
}

/* A run that failed for want of what the drill itself provides gets no verdict on the
 * cluster: an ERROR (d->error), not a FAIL. Its fault never took effect (refused, or the
 * load could not even reach the cluster), or the storage of nodes of the local cluster
 * failed: the cluster runs in the drill's temporary directory (TMPDIR), whose disk, not
 * the cluster, ended the run (a full one ended it "no primary to take away", the logs
 * that said why deleted with it). r->fail then names that cause before what the run saw. */
static void run_error(struct fdrill *d, struct hw_fo_run *r, unsigned i)
{
	char cause[sizeof r->fail], full[sizeof r->fail + 16], head[241], then[71];
	if (!r->faulted) {
		snprintf(full, sizeof full, "run %u: %s", i + 1, r->fail);
		hw_report_cut(d->error, sizeof d->error, full); /* cut text ends in "..." */
		return;
	}
	if (!hw_fo_storage_failed(r, cause, sizeof cause))
		return;
	/* the cause first, whole where it can be: 240 + "; then " + 70 fit r->fail */
	hw_report_cut(head, sizeof head, cause);
	hw_report_cut(then, sizeof then, r->fail);
	snprintf(r->fail, sizeof r->fail, "%s; then %s", head, then);
	snprintf(full, sizeof full, "run %u: %s", i + 1, cause);
	hw_report_cut(d->error, sizeof d->error, full);
}

static int runs(struct fdrill *d)
{
	/* room for every run at its longest: load before, the wait, load after */
	double per_run_s = FAULT_AFTER_S + first_ack_ms(d->rto_ms) / 1000.0 + AFTER_S + 1;
	uint64_t limit = (uint64_t)(RATE * per_run_s) * d->runs;
	/* a running cluster may hold an earlier drill's records: new record ids each time */
	d->seed = d->base.connect ? (uint64_t)hw_wall_ms() : SEED;
	int rc = hw_fo_load_init(&d->load, PROFILE, d->seed, limit,
				 hw_wall_ms() + (int64_t)(per_run_s * 1000) * (int64_t)d->runs);
	if (rc) {
		snprintf(d->error, sizeof(d->error), "generator: %s", hw_strerror(rc));
		return -1;
	}
	if (d->base.connect ? connect_cluster(d) : start_cluster(d))
		return -1;
	volatile sig_atomic_t *interrupted = hw_cli_interrupted();
	for (unsigned i = 0; i < d->runs && !*interrupted; i++) {
		struct hw_fo_run *r = &d->run[i];
		*r = (struct hw_fo_run){.c = d->c,
					.remote = d->remote,
					.load = &d->load,
					.fault = d->fault,
					.rate = RATE,
					.window = WINDOW,
					.t0 = d->base.rep.t0,
					.fault_after_s = FAULT_AFTER_S,
					.after_s = AFTER_S,
					.first_ack_ms = first_ack_ms(d->rto_ms),
					.rejoin_ms = rejoin_ms(d->rto_ms),
					.isolate_ms = (int)d->rto_ms + (int)(AFTER_S * 1000),
					.rpo_ms = d->rpo_ms,
					.interrupted = interrupted};
		d->done++;
		rc = hw_fo_run(r, false);
		/* the next run starts from a whole cluster, every standby caught up (a remote
		 * one: its old primary rejoined, or the next run finds out) */
		if (rc == 0 && d->c && hw_cluster_wait_synced(d->c, SYNC_MS, NULL) != 0)
			rc = hw_fo_failed(r, "the standbys did not catch up within %d ms", SYNC_MS);
		if (rc)
			run_error(d, r, i);
		d->stopped = rc && (d->error[0] || *interrupted);
		run_line(d, i);
		if (rc)
			break;
	}
	if (*interrupted)
		snprintf(d->error, sizeof(d->error), "interrupted by signal %d", (int)*interrupted);
	return 0;
}

/* ---- the verdict -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest rank: the smallest value with at least p of the values at or below it. */
static double rank(const double *v, unsigned n, double p)
{
	unsigned k = (unsigned)ceil(p * n);
	return v[k ? k - 1 : 0];
}

static unsigned tally(struct fdrill *d)
{
	double rto[RUNS_MAX];
	unsigned n = 0, slowest = 0;
	for (unsigned i = 0; i < d->done; i++) {
		const struct hw_fo_run *r = &d->run[i];
		d->acked += r->acked;
		d->loss_checked += r->loss_checked;
		d->lost += r->lost;
		d->lost_beyond += r->lost_beyond_rpo;
		d->lost_over_rpo += hw_fo_lost_over_rpo(r);
		d->overlapping += r->overlapping;
		d->overlap_checked += r->overlap_checked;
		d->rejoin_checked += r->overlap_checked && !r->restarted;
		/* the run the drill stopped in (d->error) did not fail: it was not let finish */
		d->failed_runs += r->fail[0] != '\0' && !(d->stopped && i + 1 == d->done);
		/* a crashed remote node comes back by its supervisor; an isolated one by itself */
		bool supervised = d->remote && d->fault == HW_FO_KILL;
		bool missing = !r->fail[0] && !r->joined && !r->restarted; /* restarted: none */
		d->not_joined += missing && !supervised;
		d->away += missing && supervised;
		if (r->t_first < 0)
			continue;
		d->restarts += r->restarted;
		d->failovers += !r->restarted;
		if (n == 0 || r->measured_rto_ms > d->run[slowest].measured_rto_ms)
			slowest = i;
		rto[n++] = r->measured_rto_ms;
	}
	d->measured = n;
	if (n) {
		qsort(rto, n, sizeof(rto[0]), cmp_double);
		d->rto_p50 = rank(rto, n, 0.50);
		d->rto_p99 = rank(rto, n, 0.99);
		d->rto_max = rto[n - 1];
	}
	return n ? slowest : UINT_MAX;
}

/* The result and its one-line reason: the first broken promise. */
static void finish_verdict(struct fdrill *d)
{
	struct hw_report *r = &d->base.rep;
	char p99[32];
	hw_drill_ms_format(d->rto_p99, d->rto_ms, p99, sizeof p99);
	if (d->error[0])
		hw_report_finish(r, HW_DRILL_ERROR, "%s", d->error);
	else if (d->failed_runs || d->done < d->runs)
		hw_report_finish(r, HW_DRILL_FAIL, "run %u: %s", d->done, d->run[d->done - 1].fail);
	else if (!d->measured) /* every run ended by itself: each measured one */
		hw_report_finish(r, HW_DRILL_FAIL, "no run measured the rto");
	else if (d->rto_p99 > (double)d->rto_ms)
		hw_report_finish(r, HW_DRILL_FAIL, "rto p99 %s ms is over the target %lld ms", p99,
				 (long long)d->rto_ms);
	else if (d->lost_over_rpo)
		hw_report_finish(r, HW_DRILL_FAIL,
				 "%" PRIu64 " acknowledged records lost (rpo %lld ms)", d->lost,
				 (long long)d->rpo_ms);
	else if (d->overlapping)
		hw_report_finish(r, HW_DRILL_FAIL,
				 "two primaries acknowledged in overlapping periods in %" PRIu64
				 " runs",
				 d->overlapping);
	else if (d->not_joined)
		hw_report_finish(r, HW_DRILL_FAIL,
				 "the old primary did not rejoin in %" PRIu64 " runs",
				 d->not_joined);
	else if (d->restarts)
		hw_report_finish(r, HW_DRILL_PASS,
				 "%" PRIu64 " failovers, %" PRIu64
				 " recovered by restart of the old "
				 "primary (no standby promoted): rto p50 %.0f p99 %.0f max %.0f ms "
				 "(target %lld), %" PRIu64 " acknowledged lost",
				 d->failovers, d->restarts, d->rto_p50, d->rto_p99, d->rto_max,
				 (long long)d->rto_ms, d->lost);
	else
		hw_report_finish(r, HW_DRILL_PASS,
				 "%u failovers: rto p50 %.0f p99 %.0f max %.0f ms (target %lld), "
				 "%" PRIu64 " acknowledged lost",
				 d->done, d->rto_p50, d->rto_p99, d->rto_max, (long long)d->rto_ms,
				 d->lost);
}

static void promotion_check(struct fdrill *d);
static void figures(struct fdrill *d);

/* "runs" and "rto": how many runs ended, and what they measured. A run the drill
 * stopped in (its fault refused, a signal) is no failure, and no run measured: no rto. */
static void run_checks(struct fdrill *d)
{
	struct hw_report *r = &d->base.rep;
	unsigned ended = d->done - (unsigned)d->failed_runs - (d->stopped ? 1u : 0u);
	const char *first = d->done ? d->run[d->done - 1].fail : "";
	hw_report_check(r, "runs",
			d->failed_runs ? HW_VERDICT_FAIL
			: d->error[0]  ? HW_VERDICT_SKIP
				       : HW_VERDICT_PASS,
			"%u of %" PRIu64 " runs completed%s%s", ended, d->runs,
			d->failed_runs ? "; first failure: "
			: d->error[0]  ? "; the drill stopped: "
				       : "",
			d->failed_runs ? first : d->error);
	char p99[32];
	if (!d->measured)
		hw_report_check(r, "rto", HW_VERDICT_SKIP,
				"not measured: no run reached a first acknowledged submit after "
				"its fault; target %lld ms",
				(long long)d->rto_ms);
	else
		hw_report_check(r, "rto",
				d->rto_p99 <= (double)d->rto_ms ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
				"fault to first acknowledged submit p99 %s ms (max %.0f), target "
				"%lld ms",
				hw_drill_ms_format(d->rto_p99, d->rto_ms, p99, sizeof p99),
				d->rto_max, (long long)d->rto_ms);
}

/* "rpo", "one primary at a time" and "rejoin": each judged only by the runs that got
 * as far as its check (an interrupted run stops before them). */
static void promise_checks(struct fdrill *d)
{
	struct hw_report *r = &d->base.rep;
	const char *none = "not measured: no run got as far as this check";
	if (d->lost_over_rpo == 0 && d->loss_checked == 0)
		hw_report_check(r, "rpo", HW_VERDICT_SKIP,
				"%s (%" PRIu64 " acknowledged records not looked up)", none,
				d->acked);
	else
		hw_report_check(r, "rpo", d->lost_over_rpo ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
				"%" PRIu64 " of %" PRIu64 " acknowledged records lost (%" PRIu64
				" acknowledged over rpo %lld ms before the fault), %" PRIu64
				" of %u runs checked",
				d->lost, d->acked, d->lost_beyond, (long long)d->rpo_ms,
				d->loss_checked, d->done);
	if (d->overlap_checked == 0)
		hw_report_check(r, "one primary at a time", HW_VERDICT_SKIP, "%s", none);
	else
		hw_report_check(r, "one primary at a time",
				d->overlapping ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
				"%" PRIu64 " of %" PRIu64 " runs checked where two primaries "
				"acknowledged in overlapping periods",
				d->overlapping, d->overlap_checked);
	/* a run recovered by restart has no old primary to rejoin: it shows nothing here */
	const char *restarted = d->restarts ? "; in the runs recovered by restart it is the "
					      "primary"
					    : "";
	if (d->rejoin_checked == 0)
		hw_report_check(r, "rejoin", HW_VERDICT_SKIP, "%s%s", none, restarted);
	else
		hw_report_check(r, "rejoin",
				d->not_joined ? HW_VERDICT_FAIL
				: d->away     ? HW_VERDICT_WARN
					      : HW_VERDICT_PASS,
				"%" PRIu64 " of %" PRIu64 " runs checked where the old primary did "
				"not rejoin within %d ms%s",
				d->not_joined + d->away, d->rejoin_checked, rejoin_ms(d->rto_ms),
				restarted);
}

static void judge(struct fdrill *d)
{
	unsigned slowest = tally(d);
	if (slowest != UINT_MAX) {
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "slowest run %u: ", slowest + 1);
		hw_fo_report(&d->run[slowest], &d->base.rep, prefix, d->rto_ms);
	}
	run_checks(d);
	promise_checks(d);
	promotion_check(d);
	figures(d);
	finish_verdict(d);
}

/* Whether the runs exercised the promotion of a standby: a run recovered by a restart of
 * the old primary, elected again before any standby, did not. */
static void promotion_check(struct fdrill *d)
{
	struct hw_report *r = &d->base.rep;
	if (d->restarts)
		hw_report_check(r, "standby promotion", HW_VERDICT_WARN,
				"%" PRIu64 " of %" PRIu64 " runs recovered by a restart of the "
				"old primary, elected again before any standby: no standby was "
				"promoted, so the promotion path was not exercised there (a "
				"supervisor restart delay past the rto, or --kill "
				"partition-primary, exercises it)",
				d->restarts, d->restarts + d->failovers);
	else if (d->failovers)
		hw_report_check(r, "standby promotion", HW_VERDICT_PASS,
				"a standby took over in %" PRIu64 " runs", d->failovers);
	else /* no run got as far as a first acknowledgement after its fault */
		hw_report_check(r, "standby promotion", HW_VERDICT_SKIP,
				"not measured: no run got as far as a new primary");
}

/* The report's figures and facts. */
static void figures(struct fdrill *d)
{
	struct hw_report *r = &d->base.rep;
	hw_report_figure(r, "rto target", (double)d->rto_ms, "ms");
	hw_report_figure(r, "rpo target", (double)d->rpo_ms, "ms");
	if (d->measured) { /* no run measured one: no figure, not a 0 */
		hw_report_figure(r, "rto p50", d->rto_p50, "ms");
		hw_report_figure(r, "rto p99", d->rto_p99, "ms");
		hw_report_figure(r, "rto max", d->rto_max, "ms");
	}
	hw_report_figure(r, "runs", d->done, "runs");
	hw_report_figure(r, "acknowledged", (double)d->acked, "records");
	hw_report_figure(r, "acknowledged lost", (double)d->lost, "records");
	hw_report_figure(r, "failovers", (double)d->failovers, "runs");
	hw_report_figure(r, "recovered by restart", (double)d->restarts, "runs");
	hw_report_fact(r, "fault", "%s", hw_fo_fault_words(d->remote != NULL, d->fault));
	if (d->remote)
		hw_report_fact(r, "cluster", "running cluster at %s", d->base.connect);
	else
		hw_report_fact(r, "cluster", "p1 s1 s2 and witness w1 on loopback; %s k=1",
			       d->rpo_ms ? "local" : "durable");
	hw_report_fact(r, "load", "%s, %u lanes, %.0f records/s, seed %" PRIu64, PROFILE,
		       HW_FO_LANES, RATE, d->seed);
}

/* ---- output, report, history -------------------------------------------------------- */

static void json_run(struct hw_json *j, const struct hw_fo_run *r)
{
	hw_json_object_begin(j);
	hw_json_kv_double(j, "measured_rto_ms", r->t_first >= 0 ? r->measured_rto_ms : -1);
	hw_json_kv_uint(j, "acked_lost", r->lost);
	hw_json_kv_bool(j, "loss_checked", r->loss_checked); /* false: acked_lost says nothing */
	hw_json_kv_uint(j, "overlapping_primaries", r->overlapping);
	hw_json_kv_double(j, "rejoin_ms", r->joined ? r->rejoin_ms_measured : -1);
	hw_json_kv_bool(j, "rejoined", r->joined);
	hw_json_kv_string(j, "old_primary", r->faulted ? hw_fo_node_id(r, r->old_p) : "");
	hw_json_kv_string(j, "new_primary", r->t_first >= 0 ? hw_fo_node_id(r, r->new_p) : "");
	/* failover: a standby took over; restart: the old primary, restarted, did (new_primary
	 * is old_primary); "": the service did not come back */
	hw_json_kv_string(j, "recovered_by",
			  r->t_first < 0 ? ""
			  : r->restarted ? "restart"
					 : "failover");
	hw_json_kv_uint(j, "epoch_before", r->epoch_before); /* 0: not known */
	hw_json_kv_uint(j, "epoch_after", r->epoch_after);
	hw_json_kv_string(j, "rejoin_why", r->joined ? "" : r->rejoin_why);
	/* from the nodes' logs, which a remote cluster keeps on its hosts: -1, and -1 for a
	 * run that ended before they were read */
	bool logs_read = !r->remote && r->t_promoted >= 0; /* the run got as far as reading it */
	hw_json_kv_double(j, "detection_ms", logs_read ? (r->t_detected - r->t_fault) * 1000 : -1);
	hw_json_kv_double(j, "election_ms", logs_read ? (r->t_elected - r->t_detected) * 1000 : -1);
	hw_json_kv_double(j, "promoted_ms", r->promoted_ms);
	hw_json_kv_uint(j, "acked", r->acked);
	hw_json_kv_uint(j, "acked_lost_beyond_rpo", r->lost_beyond_rpo);
	hw_json_kv_uint(j, "old_primary_acks_after_fault", r->old_acks_after_fault);
	hw_json_kv_int(j, "old_last_ack_wall_ms", r->old_last_ack_ms);
	hw_json_kv_int(j, "new_first_ack_wall_ms", r->new_first_ack_ms);
	hw_json_kv_uint(j, "follows", r->follows);
	hw_json_kv_string(j, "error", r->fail);
	hw_json_object_end(j);
}

static void json_out(const struct fdrill *d, const char *json_path, const char *html_path)
{
	struct hw_json j;
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_kv_string(&j, "result", hw_drill_result_name(d->base.rep.result));
	hw_json_kv_string(&j, "what", d->base.rep.what);
	hw_json_kv_string(&j, "kill", d->fault == HW_FO_KILL ? "primary" : "partition-primary");
	hw_json_kv_int(&j, "rto_target_ms", d->rto_ms);
	hw_json_kv_int(&j, "rpo_target_ms", d->rpo_ms);
	hw_json_key(&j, "runs");
	hw_json_array_begin(&j);
	for (unsigned i = 0; i < d->done; i++)
		json_run(&j, &d->run[i]);
	hw_json_array_end(&j);
	hw_json_key(&j, "rto_ms");
	if (d->measured) {
		hw_json_object_begin(&j);
		hw_json_kv_double(&j, "p50", d->rto_p50);
		hw_json_kv_double(&j, "p99", d->rto_p99);
		hw_json_kv_double(&j, "max", d->rto_max);
		hw_json_object_end(&j);
	} else {
		hw_json_string(&j, NULL); /* null: no run measured one */
	}
	hw_json_kv_uint(&j, "acked_lost", d->lost);
	hw_json_kv_uint(&j, "overlapping_primaries", d->overlapping);
	hw_json_kv_uint(&j, "failovers", d->failovers);
	hw_json_kv_uint(&j, "restarts", d->restarts);
	hw_json_kv_string(&j, "report", json_path);
	hw_json_kv_string(&j, "report_html", html_path);
	hw_json_object_end(&j);
	fputc('\n', stdout);
}

static void summary(const struct fdrill *d, const char *json_path, const char *html_path)
{
	const struct hw_report *r = &d->base.rep;
	printf("hawser drill failover: %s: %s (%.1f s)\n", hw_drill_result_name(r->result), r->what,
	       r->seconds);
	for (size_t i = 0; i < r->n_checks; i++)
		printf("  %-4s  %-22s %s\n", hw_verdict_name(r->checks[i].verdict),
		       r->checks[i].name, r->checks[i].detail);
	if (html_path[0])
		printf("  report: %s\n          %s\n", html_path, json_path);
}

static int finish(struct fdrill *d)
{
	char json_path[PATH_MAX + 64] = "", html_path[PATH_MAX + 64] = "";
	hw_cli_drill_write(&d->base, "failover-drill", json_path, html_path, sizeof(json_path));
	d->base.entries = d->acked; /* the history row's figures */
	d->base.target_ms = d->rto_ms;
	hw_cli_drill_record(&d->base, json_path);
	if (d->base.json)
		json_out(d, json_path, html_path);
	else
		summary(d, json_path, html_path);
	return d->base.rep.result == HW_DRILL_PASS   ? HW_CLI_OK
	       : d->base.rep.result == HW_DRILL_FAIL ? HW_CLI_DAMAGE
						     : HW_CLI_ERROR;
}

/* The report's header (its node): what was measured, and whose targets it was held to.
 * A local drill with --config measures a cluster of its own, not the node. */
static void header(const struct fdrill *d, char *buf, size_t cap)
{
	char of[HW_ID_CHARS_MAX + 48] = "";
	if (d->base.config_path)
		snprintf(of, sizeof(of), "targets of node %s, measured on ", d->base.cfg.node_id);
	if (d->base.connect)
		snprintf(buf, cap, "%s%srunning cluster at %s", of, of[0] ? "the " : "",
			 d->base.connect);
	else
		snprintf(buf, cap, "%s%slocal %u-node cluster", of, of[0] ? "a " : "",
			 STANDBYS + 1);
}

static int run_failover(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct fdrill d; /* static: the runs' results stay off the stack */
	memset(&d, 0, sizeof(d));
	int rc = setup(&d, cmd, argc, argv);
	if (rc != HW_CLI_RUN)
		return rc;
	rc = hw_cli_scratch(NULL, "failover-drill-work", d.work, sizeof(d.work));
	if (rc)
		return hw_cli_fail(cmd->name, "temporary directory", rc);
	hw_cli_signals_catch(NULL);
	char node[HW_REPORT_TEXT_BYTES];
	header(&d, node, sizeof(node));
	hw_report_init(&d.base.rep, HW_DRILL_FAILOVER, node);
	if (!d.base.json)
		printf("hawser drill failover: %s: %" PRIu64 " runs, %s, rto %lld ms, rpo %lld "
		       "ms%s%s\n",
		       node, d.runs, hw_fo_fault_words(d.base.connect != NULL, d.fault),
		       (long long)d.rto_ms, (long long)d.rpo_ms, d.base.connect ? "" : ", in ",
		       d.base.connect ? "" : d.work);
	runs(&d);
	judge(&d);
	rc = finish(&d);
	hw_cluster_free(d.c, d.base.keep);
	hw_fo_remote_free(d.remote);
	hw_fo_load_free(&d.load);
	if (d.base.keep)
		fprintf(stderr, "hawser %s: kept %s\n", cmd->name, d.work);
	else
		hw_snapshot_rm(d.work);
	int sig = (int)*hw_cli_interrupted();
	return sig ? 128 + sig : rc;
}

const struct hw_cli_cmd hw_cli_drill_failover = {
	"drill failover", "failovers under load: measured RTO, loss, overlap",
	HW_CLI_USAGE(
		"usage: hawser drill failover [--connect ADDR,...] [--rto DUR] [--rpo DUR]\n"
		"                             [--runs N] [--kill primary|partition-primary]\n"
		"                             [--config FILE [--dir DIR]] [--report-dir D]\n"
		"                             [--json] [--no-record] [--keep]\n"
		"  Start a local cluster in a temporary directory (a primary, two standbys and a\n"
		"  witness: real processes on loopback; durable k=1 at rpo 0, else local) and run\n"
		"  N failovers (default 5, at most 100) under TOS load (terminal_peak, 300\n"
		"  records/s, through a client that follows the primary). Each takes the primary\n"
		"  of the moment away, with SIGKILL (--kill primary, the default) or by cutting\n"
		"  it off from the standbys and the witness while its clients still reach it\n"
		"  (partition-primary), and measures: the time from the fault to the first\n"
		"  acknowledged submit on the new primary (measured RTO), the acknowledged\n"
		"  records the new primary does not hold (each looked up), whether the old\n"
		"  primary acknowledged anything after the new one's first acknowledgement\n"
		"  (overlapping primaries), and the old primary's rejoin time: from its restart\n"
		"  or reconnection to a standby caught up.\n"
		"  --rto DUR, --rpo DUR: the targets (default: [failover] of --config, else 30s\n"
		"  and 0; at most 1h, as a node's [failover] takes them; on a local cluster,\n"
		"  none its nodes refuse: a usage error names the least rto, or the rpo margin,\n"
		"  they take). PASS when the RTO p99 is within --rto, nothing acknowledged is\n"
		"  lost (at rpo 0; else nothing acknowledged longer than --rpo before the\n"
		"  fault), no run had two primaries acknowledging at once, and every old\n"
		"  primary a standby replaced rejoined.\n"
		"  --json: one object {result, rto_target_ms, rpo_target_ms, runs:\n"
		"  [{measured_rto_ms, acked_lost, overlapping_primaries, rejoin_ms, recovered_by,\n"
		"  ...}], rto_ms: {p50, p99, max} (null: none measured), failovers, restarts,\n"
		"  report}. --keep: keep the cluster's directory.\n",
		"  --connect ADDR,...: a running cluster instead (its nodes' client ports, as a\n"
		"  client takes them): the primary of the moment is asked to crash itself (no\n"
		"  clean shutdown), which it does only with [drills] allow_fault = true and for a\n"
		"  key it pins; else the drill ends in ERROR (HW_EFAULT_OFF). It audits the fault\n"
		"  first, durable on k standbys within 2 s (else no fault: ERROR). Its supervisor\n"
		"  (systemd Restart=) must bring it back: rejoin_ms counts from the crash (-1 and\n"
		"  rejoin_why, a warning, when it is not back in time); one elected again before\n"
		"  any standby is a run recovered_by restart, held to the same targets (its\n"
		"  standby promotion check WARNs). Acknowledged records are looked up by\n"
		"  resubmitting them; detection/election/promoted are -1 (the logs are on the\n"
		"  nodes' hosts).\n"
		"  With --kill partition-primary the primary is asked instead (same conditions)\n"
		"  to drop its links to the standbys and the witness and refuse theirs for the\n"
		"  RTO plus 0.5 s while its clients still reach it; it heals by itself and must\n"
		"  rejoin as a standby (rejoin_ms counts from the end of the isolation; not\n"
		"  rejoined: FAIL).\n"
		"  With --connect:\n" HW_CLI_SECURITY_USAGE
		"  --config FILE   the node whose history gets the row, held to its [failover]\n"
		"                  rto and rpo (no looser --rto/--rpo; none: refused); without\n"
		"                  it, no row\n"
		"  --dir DIR       the store that gets the row (default: data_dir)\n"
		"  --report-dir D  where the JSON and HTML reports go (default: [drills]\n"
		"                  report_dir, else DIR.drills, else a new directory under\n"
		"                  $TMPDIR)\n"
		"  --no-record     do not append the row\n"
		"  Exit 0 PASS, 3 FAIL, 1 ERROR (no verdict, e.g. $TMPDIR full), 128+N signal "
		"N.\n"),
	run_failover};
