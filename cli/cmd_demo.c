/* cmd_demo.c: `hawser demo`, a failover and restore drill on a real local cluster, with
 * evidence. In a temporary directory it starts a primary, two standbys and a witness
 * (real `hawser node` / `hawser witness` processes on loopback, bench/cluster.h; durable
 * k = 1, rto 2 s, rpo 0), drives a compressed terminal peak from a few TOS lanes through
 * a client that follows the primary, prints the planner's predicted failover time and the
 * data at risk every second, kills the primary with SIGKILL, measures the RTO (kill to the
 * first acknowledged submit on the new primary), restarts the old primary and shows
 * whether it rejoins, then stops the cluster and checks every acknowledged record on the
 * new primary's store (the exact count lost), runs a verify drill on it and a restore
 * drill from a backup taken during the run, writes the HTML and JSON report (cli/report.h)
 * and ends with one PASS or FAIL line.
 *
 * Single-threaded: the load, the status lines and the fault all run from this loop, so
 * the order of events is the order they are printed. SIGINT and SIGTERM kill every child
 * at once (async-signal-safe kill() of the pids kept in `pids`) and the run unwinds,
 * reaping them and removing the directory. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/cluster.h"
#include "bench/workload.h"
#include "cli/cli.h"
#include "cli/report.h"
#include "engine/client_int.h"
#include "engine/core/targets.h"
#include "engine/voters.h"
#include "hawser.h"
#include "replica/backup.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"
#include "wire.pb-c.h"

/* A compressed terminal peak: three lanes (gate, quay crane, EDI feed) at a modest
 * total rate, ten seconds of it, the primary killed half way. */
#define DEMO_PROFILE   "terminal_peak"
#define DEMO_SEED      1u
#define DEMO_LANES     3u
#define DEMO_RATE      300.0 /* records/s over all lanes */
#define DEMO_SECONDS   10.0
#define DEMO_BACKUP_S  2.5 /* the backup the restore drill restores */
#define DEMO_KILL_S    5.0
#define DEMO_RTO_MS    2000
#define DEMO_RPO_MS    0
#define DEMO_K         1u
#define DEMO_STANDBYS  2u
#define DEMO_WINDOW    32u   /* submits in flight */
#define STALL_MS       3000  /* no outcome for this long with submits in flight: follow */
#define FOLLOW_MS      10000 /* finding the new primary */
#define FOLLOWS_MAX    8
#define REJOIN_MS      8000 /* the restarted old primary's chance to rejoin */
#define STATUS_WAIT_MS 500

struct demo {
	char work[4096];   /* temporary: the cluster, backup, scratch stores */
	char report[4096]; /* kept: the report's directory */
	char html[4300];
	struct hw_cluster *c;
	struct hw_report rep;
	/* the load: every record generated up front, its outcome kept */
	uint64_t count;
	uint8_t **rec;
	size_t *len;
	int *expect;
	int *code;
	uint64_t *lsn;
	bool *done;
	uint64_t finished, acked, unexpected, max_acked_lsn;
	unsigned follows;
	/* the run */
	double t_traffic, t_backup0, t_backup, t_kill, t_promoted, t_first, t_traffic_end;
	int64_t kill_wall_ms;
	unsigned old_p, new_p;
	uint64_t backup_lsn, backup_bytes;
	bool killed, backed_up, keep;
	double measured_rto_ms, promoted_ms;
	uint64_t lost;
	char fail[320];
};

static volatile sig_atomic_t interrupted;
/* Children's pids for the signal handler: refreshed after every cluster operation. */
static volatile pid_t pids[8];

static void on_signal(int sig)
{
	interrupted = sig;
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
}

static void track_pids(const struct demo *d)
{
	unsigned n = d->c ? hw_cluster_nodes(d->c) : 0;
	for (unsigned i = 0; i < 8; i++)
		pids[i] = i < n ? hw_cluster_node_pid(d->c, i) : 0;
	if (d->c && n < 8)
		pids[n] = hw_cluster_witness_pid(d->c);
}

static int failed(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record why the demo failed (the first reason wins); returns -1. */
static int failed(struct demo *d, const char *fmt, ...)
{
	if (d->fail[0] == '\0') {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->fail, sizeof(d->fail), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(double ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {(time_t)(ms / 1000),
			      (long)((ms - (double)(long)(ms / 1000) * 1000) * 1e6)};
	nanosleep(&ts, NULL); /* EINTR: a signal; the caller looks at interrupted */
}

/* ---------------------------------------------------------------- the records */

static int gen_alloc(struct demo *d)
{
	d->rec = calloc(d->count, sizeof(*d->rec));
	d->len = calloc(d->count, sizeof(*d->len));
	d->expect = calloc(d->count, sizeof(*d->expect));
	d->code = calloc(d->count, sizeof(*d->code));
	d->lsn = calloc(d->count, sizeof(*d->lsn));
	d->done = calloc(d->count, sizeof(*d->done));
	return d->rec && d->len && d->expect && d->code && d->lsn && d->done ? 0 : HW_ENOMEM;
}

/* The lanes' records interleaved, each lane in its own order (one generator per lane,
 * sharing the ingest clock, as `hawser bench` does). */
static int generate(struct demo *d)
{
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	struct hw_workload *w[DEMO_LANES] = {NULL};
	d->count = (uint64_t)(DEMO_RATE * DEMO_SECONDS);
	int rc = gen_alloc(d);
	int64_t end = hw_cli_now_ms() + (int64_t)(DEMO_SECONDS * 1000);
	for (unsigned l = 0; rc == 0 && l < DEMO_LANES; l++) {
		struct hw_workload_opts wo = {.profile = DEMO_PROFILE,
					      .seed = DEMO_SEED + l,
					      .count = d->count / DEMO_LANES + 1,
					      .end_ms = end,
					      .lane = l + 1};
		rc = hw_workload_new(&wo, &w[l]);
	}
	for (uint64_t i = 0; rc == 0 && i < d->count; i++) {
		struct hw_work_item it;
		rc = hw_workload_next(w[i % DEMO_LANES], buf, sizeof(buf), &it);
		if (rc == 0 && !(d->rec[i] = malloc(it.len)))
			rc = HW_ENOMEM;
		if (rc == 0) {
			memcpy(d->rec[i], buf, it.len);
			d->len[i] = it.len;
			d->expect[i] = it.expect;
		}
	}
	for (unsigned l = 0; l < DEMO_LANES; l++)
		hw_workload_free(w[l]);
	return rc ? failed(d, "generator: %s", hw_strerror(rc)) : 0;
}

static void gen_free(struct demo *d)
{
	for (uint64_t i = 0; d->rec && i < d->count; i++)
		free(d->rec[i]);
	free(d->rec);
	free(d->len);
	free(d->expect);
	free(d->code);
	free(d->lsn);
	free(d->done);
}

/* ---------------------------------------------------------------- status lines */

static int status_of(const char *addr, Hawser__Wire__V1__Status **out)
{
	struct hw_client *cl;
	*out = NULL;
	int rc = hw_client_connect(addr, &cl);
	if (rc)
		return rc;
	uint8_t *body;
	size_t len;
	rc = hw_client_status(cl, STATUS_WAIT_MS, &body, &len);
	hw_client_close(cl);
	if (rc)
		return rc;
	*out = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	return *out ? 0 : HW_EPROTOCOL;
}

/* What the planner predicts for a failover now: the node's own inputs (engine/voters.h,
 * as every node plans its timers) and the best standby's backlog from the status. The
 * prediction printed is detection + election + replaying that backlog + clients
 * resuming; the plan's failover_ms is the budget (with the whole replay budget). */
static int predict(const Hawser__Wire__V1__Status *s, struct hw_tg_plan *plan)
{
	uint64_t backlog = UINT64_MAX;
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i]->connected && s->peers[i]->lag_records < backlog)
			backlog = s->peers[i]->lag_records;
	struct hw_tg_input in = {.rto_ms = DEMO_RTO_MS,
				 .rpo_ms = DEMO_RPO_MS,
				 .jitter_p99_us = HW_VOTERS_JITTER_P99_US,
				 .jitter_spread_us = HW_VOTERS_JITTER_SPREAD_US,
				 .replay_rate = HW_VOTERS_REPLAY_RATE,
				 .election_ms = HW_VOTERS_ELECTION_MS,
				 .resume_ms = HW_VOTERS_RESUME_MS,
				 .backlog_records = backlog == UINT64_MAX ? 0 : backlog,
				 .k = DEMO_K};
	return hw_tg_plan(&in, plan);
}

/* Acknowledged records that no standby holds durable: what a failover now would lose. */
static uint64_t at_risk(const struct demo *d, const Hawser__Wire__V1__Status *s)
{
	uint64_t best = 0;
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i]->durable > best)
			best = s->peers[i]->durable;
	return d->max_acked_lsn > best ? d->max_acked_lsn - best : 0;
}

static void status_line(struct demo *d)
{
	double t = hw_report_clock(&d->rep) - d->t_traffic;
	unsigned p;
	Hawser__Wire__V1__Status *s = NULL;
	if (hw_cluster_primary(d->c, 0, &p) != 0 ||
	    status_of(hw_cluster_node_addr(d->c, p), &s) != 0) {
		printf("  t=%4.1fs primary=none (election) acked=%" PRIu64 "\n", t, d->acked);
		return;
	}
	char peers[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < s->n_peers && n < sizeof(peers); i++)
		n += (size_t)snprintf(peers + n, sizeof(peers) - n, " %s:%s%" PRIu64,
				      s->peers[i]->node_id, s->peers[i]->connected ? "" : "(down)",
				      s->peers[i]->durable);
	struct hw_tg_plan plan;
	int rc = predict(s, &plan);
	if (rc) {
		printf("  t=%4.1fs %s primary, epoch %" PRIu64
		       ": the planner refuses the target: %s\n",
		       t, hw_cluster_node_id(d->c, p), s->epoch, plan.why);
	} else {
		printf("  t=%4.1fs %s primary epoch %" PRIu64 " lsn %" PRIu64 " acked %" PRIu64
		       " durable%s | predicted failover %" PRId64 " ms = detect %" PRId64
		       " + elect %" PRId64 " + replay %" PRId64 " + resume %" PRId64
		       " (target %d) | at risk %" PRIu64 " acked (rpo %d)\n",
		       t, hw_cluster_node_id(d->c, p), s->epoch, s->last_lsn, d->acked, peers,
		       plan.detection_ms + plan.election_ms + plan.replay_now_ms + plan.resume_ms,
		       plan.detection_ms, plan.election_ms, plan.replay_now_ms, plan.resume_ms,
		       DEMO_RTO_MS, at_risk(d, s), DEMO_RPO_MS);
	}
	fflush(stdout);
	hawser__wire__v1__status__free_unpacked(s, NULL);
}

/* ---------------------------------------------------------------- the load */

/* Resend what is in flight, in order, on the connection to the new primary: a record
 * stored before is answered as a duplicate at its LSN. */
static int follow(struct demo *d, struct hw_client *cl, uint64_t next, int why)
{
	if (interrupted || ++d->follows > FOLLOWS_MAX)
		return why;
	int rc = hw_client_reconnect(cl, FOLLOW_MS);
	uint64_t from = next > DEMO_WINDOW ? next - DEMO_WINDOW : 0;
	for (uint64_t i = from; rc == 0 && i < next; i++)
		if (!d->done[i])
			rc = hw_client_submit(cl, i, d->rec[i], d->len[i], HW_DEFAULT, 0);
	printf("  client: follows the primary to %s after %s%s%s\n", hw_client_addr(cl),
	       hw_errname(why), rc ? ": " : "", rc ? hw_errname(rc) : "");
	return rc;
}

static void outcome(struct demo *d, struct hw_client *cl, const struct hw_outcome *o,
		    uint64_t *outstanding)
{
	uint64_t i = o->request_id;
	if (i >= d->count || d->done[i])
		return;
	d->done[i] = true;
	d->code[i] = o->code;
	d->lsn[i] = o->lsn;
	d->finished++;
	(*outstanding)--;
	d->unexpected += o->code != d->expect[i];
	if (o->code != 0)
		return;
	d->acked++;
	if (o->lsn > d->max_acked_lsn)
		d->max_acked_lsn = o->lsn;
	if (d->killed && d->t_first < 0 &&
	    strcmp(hw_client_addr(cl), hw_cluster_node_addr(d->c, d->old_p)) != 0) {
		d->t_first = hw_report_clock(&d->rep);
		d->measured_rto_ms = (d->t_first - d->t_kill) * 1000;
	}
}

/* One step of the load: submit the next record when it is due, else take an outcome
 * (waiting at most until the next due time or tick). Returns 0 or the client error. */
static int load_step(struct demo *d, struct hw_client *cl, uint64_t *next, uint64_t *outstanding,
		     double tick)
{
	double now = hw_report_clock(&d->rep);
	double due = d->t_traffic + (double)*next / DEMO_RATE;
	if (*next < d->count && now >= due && *outstanding < DEMO_WINDOW &&
	    (*next < DEMO_WINDOW || d->done[*next - DEMO_WINDOW])) {
		int rc = hw_client_submit(cl, *next, d->rec[*next], d->len[*next], HW_DEFAULT, 0);
		(*next)++;
		(*outstanding)++;
		return rc;
	}
	double until = (*next < d->count && due < tick ? due : tick) - now;
	if (*outstanding == 0) {
		nap_ms(until * 1000);
		return 0;
	}
	struct hw_outcome o;
	int rc = hw_client_wait(cl, until > 0 ? (int)(until * 1000) + 1 : 0, &o);
	if (rc == 0 && o.code == HW_ENOT_PRIMARY)
		return HW_ENOT_PRIMARY;
	if (rc == 0)
		outcome(d, cl, &o, outstanding);
	return rc;
}

/* The backup the restore drill restores, taken from a standby while the load runs
 * (read-only: the node keeps writing). */
static int backup_mid(struct demo *d)
{
	char path[4200];
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	struct hw_backup_info info;
	double t0 = hw_report_clock(&d->rep);
	d->backed_up = true;
	int rc = hw_store_open(hw_cluster_dir(d->c, 1), &so, &s);
	if (rc)
		return failed(d, "backup: open %s: %s", hw_cluster_dir(d->c, 1), hw_strerror(rc));
	snprintf(path, sizeof(path), "%s/backup", d->work);
	memset(&info, 0, sizeof(info));
	rc = hw_backup(s, path, &info);
	hw_store_close(s);
	if (rc)
		return failed(d, "backup: %s %s", hw_strerror(rc), info.what);
	d->backup_lsn = info.end_lsn;
	d->backup_bytes = info.bytes;
	d->t_backup0 = t0;
	d->t_backup = hw_report_clock(&d->rep);
	printf("  backup: s1 backed up under load at lsn %" PRIu64 " (%" PRIu64 " bytes)\n",
	       info.end_lsn, info.bytes);
	return 0;
}

static int kill_primary(struct demo *d)
{
	d->killed = true;
	int rc = hw_cluster_primary(d->c, 0, &d->old_p);
	if (rc)
		return failed(d, "no primary to kill");
	d->kill_wall_ms = wall_ms();
	d->t_kill = hw_report_clock(&d->rep);
	printf("  FAULT: kill -9 %s (pid %d), the primary\n", hw_cluster_node_id(d->c, d->old_p),
	       (int)hw_cluster_node_pid(d->c, d->old_p));
	fflush(stdout);
	rc = hw_cluster_kill(d->c, d->old_p, SIGKILL);
	track_pids(d);
	return rc ? failed(d, "kill: %s", hw_strerror(rc)) : 0;
}

/* The timed events of the traffic phase: the backup, the fault, a status line a second. */
static int events(struct demo *d, double *tick)
{
	double t = hw_report_clock(&d->rep) - d->t_traffic;
	if (!d->backed_up && t >= DEMO_BACKUP_S && backup_mid(d))
		return -1;
	if (!d->killed && t >= DEMO_KILL_S && kill_primary(d))
		return -1;
	if (t + d->t_traffic >= *tick) {
		status_line(d);
		*tick = hw_report_clock(&d->rep) + 1.0;
	}
	return 0;
}

static int traffic(struct demo *d)
{
	struct hw_client *cl = NULL;
	int rc = hw_client_connect(hw_cluster_client_list(d->c), &cl);
	if (rc)
		return failed(d, "client: %s", hw_strerror(rc));
	printf("traffic  %" PRIu64 " records from %u lanes (%s) at %.0f records/s, durable k=%u\n",
	       d->count, DEMO_LANES, DEMO_PROFILE, DEMO_RATE, DEMO_K);
	d->t_traffic = hw_report_clock(&d->rep);
	double tick = d->t_traffic, progress = d->t_traffic;
	uint64_t next = 0, outstanding = 0, seen = 0;
	while (rc == 0 && d->finished < d->count) {
		if (interrupted) {
			rc = failed(d, "interrupted by signal %d", (int)interrupted);
			break;
		}
		if (events(d, &tick)) {
			rc = -1;
			break;
		}
		rc = load_step(d, cl, &next, &outstanding, tick);
		double now = hw_report_clock(&d->rep);
		if (d->finished != seen || outstanding == 0) {
			seen = d->finished;
			progress = now;
		} else if (rc == -ETIMEDOUT && (now - progress) * 1000 < STALL_MS) {
			rc = 0;
		}
		if (rc != 0 && rc != -1) {
			rc = follow(d, cl, next, rc);
			progress = hw_report_clock(&d->rep);
		}
	}
	hw_client_close(cl);
	d->t_traffic_end = hw_report_clock(&d->rep);
	if (rc && rc != -1)
		return failed(d, "load: %s (%s)", hw_strerror(rc), hw_errname(rc));
	return rc;
}

/* ---------------------------------------------------------------- after the fault */

/* The last line of path at or after byte from holding needle (into line), or false. */
static bool log_find(const char *path, long from, const char *needle, char *line, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char buf[1024];
	bool found = false;
	if (from > 0)
		fseek(f, from, SEEK_SET);
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, needle)) {
			snprintf(line, cap, "%s", buf);
			found = true;
		}
	fclose(f);
	line[found ? strcspn(line, "\n") : 0] = '\0';
	return found;
}

static long log_size(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/* Which node took over, and when it says it was promoted (its log's wall_ms, one host,
 * one clock). */
static int promotion(struct demo *d)
{
	char line[1024];
	if (!d->killed)
		return failed(d, "the load ended before the fault");
	if (hw_cluster_primary(d->c, FOLLOW_MS, &d->new_p) != 0 || d->new_p == d->old_p)
		return failed(d, "no standby became primary");
	d->t_promoted = d->t_kill;
	if (log_find(hw_cluster_log(d->c, d->new_p), 0, "event=became_primary", line,
		     sizeof(line))) {
		const char *w = strstr(line, "wall_ms=");
		if (w)
			d->t_promoted +=
				(double)(strtoll(w + 8, NULL, 10) - d->kill_wall_ms) / 1000;
	}
	d->promoted_ms = (d->t_promoted - d->t_kill) * 1000;
	hw_report_phase(&d->rep, "fault: kill -9 primary", d->t_kill, d->t_kill, HW_VERDICT_PASS,
			"%s killed with SIGKILL under load", hw_cluster_node_id(d->c, d->old_p));
	hw_report_phase(&d->rep, "detection + promotion", d->t_kill, d->t_promoted, HW_VERDICT_PASS,
			"%s promoted %.0f ms after the kill", hw_cluster_node_id(d->c, d->new_p),
			d->promoted_ms);
	if (d->t_first < 0)
		return failed(d, "no acknowledged submit on the new primary");
	bool in_rto = d->measured_rto_ms <= DEMO_RTO_MS;
	hw_report_phase(&d->rep, "first commit on new primary", d->t_kill, d->t_first,
			in_rto ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"kill to first acknowledged submit: %.0f ms (target %d ms)",
			d->measured_rto_ms, DEMO_RTO_MS);
	hw_report_phase(&d->rep, "traffic after failover", d->t_first, d->t_traffic_end,
			HW_VERDICT_PASS, "the client followed the primary %u time(s)", d->follows);
	printf("failover %s promoted %.0f ms after the kill; first acknowledged submit on it "
	       "%.0f ms after the kill (target %d ms)\n",
	       hw_cluster_node_id(d->c, d->new_p), d->promoted_ms, d->measured_rto_ms, DEMO_RTO_MS);
	return 0;
}

/* Why the old primary did not rejoin, from its log or the new primary's, in one line. */
static void why_not_joined(struct demo *d, long from_old, long from_new, char *why, size_t cap)
{
	static const char *const needles[] = {"diverged", "refused", "stepped_down", "error"};
	char line[1024];
	snprintf(why, cap, "no reason logged");
	for (size_t k = 0; k < sizeof(needles) / sizeof(needles[0]); k++) {
		if (log_find(hw_cluster_log(d->c, d->old_p), from_old, needles[k], line,
			     sizeof(line)) ||
		    log_find(hw_cluster_log(d->c, d->new_p), from_new, needles[k], line,
			     sizeof(line))) {
			const char *e = strstr(line, "event=");
			snprintf(why, cap, "%.300s", e ? e : line);
			return;
		}
	}
}

/* The old primary restarted with its own store: it must not become primary again; it
 * rejoins as a standby if it can, and if it cannot, what it said is shown. */
static int restart_old(struct demo *d)
{
	const char *id = hw_cluster_node_id(d->c, d->old_p);
	long from_old = log_size(hw_cluster_log(d->c, d->old_p));
	long from_new = log_size(hw_cluster_log(d->c, d->new_p));
	double t0 = hw_report_clock(&d->rep);
	int rc = hw_cluster_restart(d->c, d->old_p);
	track_pids(d);
	double t1 = hw_report_clock(&d->rep);
	hw_report_phase(
		&d->rep, "restart old primary", t0, t1, rc ? HW_VERDICT_WARN : HW_VERDICT_PASS,
		"%s started again on its own store: %s", id, rc ? hw_strerror(rc) : "running");
	if (rc == 0)
		rc = hw_cluster_wait_joined(d->c, d->old_p, REJOIN_MS);
	track_pids(d);
	double t2 = hw_report_clock(&d->rep);
	unsigned p;
	if (hw_cluster_primary(d->c, 0, &p) == 0 && p == d->old_p) {
		hw_report_phase(&d->rep, "rejoin", t1, t2, HW_VERDICT_FAIL, "%s is primary again",
				id);
		return failed(d, "the restarted old primary %s became primary again", id);
	}
	if (rc == 0) {
		hw_report_phase(&d->rep, "rejoin", t1, t2, HW_VERDICT_PASS,
				"%s follows %s as a standby", id,
				hw_cluster_node_id(d->c, d->new_p));
		printf("rejoin   %s restarted and follows %s as a standby (%.1f s)\n", id,
		       hw_cluster_node_id(d->c, d->new_p), t2 - t0);
		return 0;
	}
	char why[400];
	why_not_joined(d, from_old, from_new, why, sizeof(why));
	hw_report_phase(&d->rep, "rejoin", t1, t2, HW_VERDICT_WARN,
			"%s did not rejoin (%s); it is not primary: %s", id, hw_strerror(rc), why);
	printf("rejoin   %s restarted but did not rejoin within %d ms (%s); it is not primary. "
	       "It said: %s\n",
	       id, REJOIN_MS, hw_strerror(rc), why);
	return 0;
}

/* Every acknowledged record on the new primary's store at its LSN with its bytes. */
static int loss_check(struct demo *d)
{
	double t0 = hw_report_clock(&d->rep);
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(hw_cluster_dir(d->c, d->new_p), &so, &s);
	if (rc)
		return failed(d, "open the new primary's store: %s", hw_strerror(rc));
	for (uint64_t i = 0; i < d->count; i++) {
		if (!d->done[i] || d->code[i] != 0)
			continue;
		uint8_t *e;
		size_t len;
		if (hw_store_read_entry(s, d->lsn[i], &e, &len) != 0) {
			d->lost++;
			continue;
		}
		d->lost += !(len == HW_ENTRY_HEADER_BYTES + d->len[i] &&
			     memcmp(e + HW_ENTRY_HEADER_BYTES, d->rec[i], d->len[i]) == 0);
		free(e);
	}
	hw_store_close(s);
	hw_report_phase(&d->rep, "acknowledged records check", t0, hw_report_clock(&d->rep),
			d->lost ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
			"%" PRIu64 " acknowledged records, %" PRIu64 " lost on %s", d->acked,
			d->lost, hw_cluster_node_id(d->c, d->new_p));
	printf("check    %" PRIu64 " acknowledged records looked up on %s's store: %" PRIu64
	       " lost\n",
	       d->acked, hw_cluster_node_id(d->c, d->new_p), d->lost);
	return 0;
}

/* ---------------------------------------------------------------- drills */

static int verify_drill(struct demo *d)
{
	char scratch[4200];
	struct hw_verify_report r;
	double t0 = hw_report_clock(&d->rep);
	snprintf(scratch, sizeof(scratch), "%s/verify-rebuild", d->work);
	int rc = hw_verify(hw_cluster_dir(d->c, d->new_p), scratch, NULL, NULL, &r);
	double t1 = hw_report_clock(&d->rep);
	const char *id = hw_cluster_node_id(d->c, d->new_p);
	if (rc || r.code) {
		hw_report_phase(&d->rep, "verify drill", t0, t1, HW_VERDICT_FAIL, "%s: %s", id,
				rc ? hw_strerror(rc) : r.what);
		return failed(d, "verify %s: %s", id, rc ? hw_strerror(rc) : r.what);
	}
	hw_report_phase(&d->rep, "verify drill", t0, t1, HW_VERDICT_PASS,
			"%s intact: %" PRIu64 " entries, state rebuilt and digest equal", id,
			r.entries);
	printf("verify   %s intact: %" PRIu64 " entries rebuilt, digest equal (%.2f s)\n", id,
	       r.entries, r.seconds);
	return 0;
}

/* Restore the backup taken under load and compare it with the new primary's log
 * replayed to the same LSN. */
static int restore_drill(struct demo *d)
{
	char bak[4200], dir[4200], hex[2 * HW_HASH_BYTES + 1];
	struct hw_restore_info info;
	uint8_t digest[HW_HASH_BYTES];
	uint64_t lsn = 0;
	double t0 = hw_report_clock(&d->rep);
	snprintf(bak, sizeof(bak), "%s/backup", d->work);
	snprintf(dir, sizeof(dir), "%s/restored", d->work);
	memset(&info, 0, sizeof(info));
	int rc = hw_restore(bak, dir, 0, 0, NULL, NULL, &info);
	if (rc == 0)
		rc = hw_cli_digest_at(hw_cluster_dir(d->c, d->new_p), info.lsn, digest, &lsn);
	double t1 = hw_report_clock(&d->rep);
	bool same = rc == 0 && lsn == info.lsn && info.lsn == d->backup_lsn &&
		    memcmp(digest, info.digest, HW_HASH_BYTES) == 0;
	hw_report_phase(&d->rep, "restore drill", t0, t1, same ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"backup restored to lsn %" PRIu64 " in %.2f s: %s", info.lsn, info.seconds,
			rc     ? hw_strerror(rc)
			: same ? "digest equals the new primary's log replayed to it"
			       : "digest differs");
	if (!same)
		return failed(d, "restore drill: %s",
			      rc ? hw_strerror(rc) : "restore_digest=differs");
	printf("restore  backup restored to lsn %" PRIu64 " in %.2f s, digest %.16s... equals "
	       "%s's log replayed to it\n",
	       info.lsn, info.seconds, hw_cli_hex(info.digest, hex),
	       hw_cluster_node_id(d->c, d->new_p));
	return 0;
}

/* ---------------------------------------------------------------- the run */

static int start_cluster(struct demo *d)
{
	char root[4200];
	snprintf(root, sizeof(root), "%s/cluster", d->work);
	struct hw_cluster_opts o = {.root = root,
				    .cluster_id = "demo",
				    .standbys = DEMO_STANDBYS,
				    .mode = "durable",
				    .k = DEMO_K,
				    .failover = true,
				    .rto_ms = DEMO_RTO_MS,
				    .rpo_ms = DEMO_RPO_MS};
	double t0 = hw_report_clock(&d->rep);
	int rc = hw_cluster_start(&o, &d->c);
	if (rc)
		return failed(d, "start the cluster: %s", hw_strerror(rc));
	track_pids(d);
	hw_report_phase(&d->rep, "start cluster", t0, hw_report_clock(&d->rep), HW_VERDICT_PASS,
			"p1 primary, s1 and s2 standbys, witness w1: real processes on loopback");
	printf("cluster  p1 (primary) s1 s2 (standbys) w1 (witness), pids");
	for (unsigned i = 0; i < hw_cluster_nodes(d->c); i++)
		printf(" %d", (int)hw_cluster_node_pid(d->c, i));
	printf(" %d; clients at %s; durable k=%u, rto %d ms, rpo %d\n",
	       (int)hw_cluster_witness_pid(d->c), hw_cluster_client_list(d->c), DEMO_K, DEMO_RTO_MS,
	       DEMO_RPO_MS);
	return 0;
}

static int stop_cluster(struct demo *d)
{
	double t0 = hw_report_clock(&d->rep);
	hw_cluster_stop(d->c);
	track_pids(d);
	hw_report_phase(&d->rep, "stop cluster", t0, hw_report_clock(&d->rep), HW_VERDICT_PASS,
			"every node and the witness stopped");
	return interrupted ? failed(d, "interrupted by signal %d", (int)interrupted) : 0;
}

static int run(struct demo *d)
{
	printf("hawser demo: a failover and restore drill on a local cluster in %s\n", d->work);
	d->t_first = -1;
	if (generate(d) || start_cluster(d))
		return -1;
	int rc = traffic(d);
	if (rc == 0) {
		hw_report_phase(&d->rep, "traffic", d->t_traffic,
				d->killed ? d->t_kill : d->t_traffic_end, HW_VERDICT_PASS,
				"%u lanes at %.0f records/s, durable k=%u", DEMO_LANES, DEMO_RATE,
				DEMO_K);
		hw_report_phase(&d->rep, "backup of s1", d->t_backup0, d->t_backup, HW_VERDICT_PASS,
				"snapshot at lsn %" PRIu64 ", %" PRIu64 " bytes, taken under load",
				d->backup_lsn, d->backup_bytes);
		rc = promotion(d);
	}
	if (rc == 0)
		rc = restart_old(d);
	if (rc == 0)
		rc = stop_cluster(d);
	if (rc == 0)
		rc = loss_check(d);
	if (rc == 0)
		rc = verify_drill(d);
	if (rc == 0)
		rc = restore_drill(d);
	return rc;
}

/* Checks and figures of the report, and the verdict against the targets. */
static void judge(struct demo *d, int rc)
{
	struct hw_report *r = &d->rep;
	if (rc == 0 && d->measured_rto_ms > DEMO_RTO_MS)
		rc = failed(d, "measured_rto=%.0fms is over the target %dms", d->measured_rto_ms,
			    DEMO_RTO_MS);
	if (rc == 0 && d->lost > DEMO_RPO_MS)
		rc = failed(d, "%" PRIu64 " acknowledged records lost (rpo %d)", d->lost,
			    DEMO_RPO_MS);
	hw_report_check(r, "rto",
			d->t_first >= 0 && d->measured_rto_ms <= DEMO_RTO_MS ? HW_VERDICT_PASS
									     : HW_VERDICT_FAIL,
			"kill to first acknowledged submit %.0f ms, target %d ms",
			d->measured_rto_ms, DEMO_RTO_MS);
	hw_report_check(r, "rpo", d->lost == 0 ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"%" PRIu64 " of %" PRIu64 " acknowledged records lost, target 0", d->lost,
			d->acked);
	hw_report_check(r, "outcomes", d->unexpected ? HW_VERDICT_WARN : HW_VERDICT_PASS,
			"%" PRIu64 " of %" PRIu64 " records answered otherwise than the generator "
			"expected",
			d->unexpected, d->count);
	hw_report_figure(r, "rto target", DEMO_RTO_MS, "ms");
	hw_report_figure(r, "measured rto", d->measured_rto_ms, "ms");
	hw_report_figure(r, "promotion", d->promoted_ms, "ms");
	hw_report_figure(r, "records", (double)d->count, "records");
	hw_report_figure(r, "acknowledged", (double)d->acked, "records");
	hw_report_figure(r, "acknowledged lost", (double)d->lost, "records");
	hw_report_fact(r, "cluster",
		       "p1 primary, s1 s2 standbys, w1 witness; durable k=%u; rto "
		       "%d ms, rpo %d",
		       DEMO_K, DEMO_RTO_MS, DEMO_RPO_MS);
	hw_report_fact(r, "load", "%s, %u lanes, %.0f records/s, seed %u", DEMO_PROFILE, DEMO_LANES,
		       DEMO_RATE, DEMO_SEED);
	if (rc)
		hw_report_finish(r, HW_DRILL_FAIL, "%s", d->fail);
	else
		hw_report_finish(r, HW_DRILL_PASS,
				 "failover in %.0f ms (target %d ms), %" PRIu64
				 " acknowledged records lost",
				 d->measured_rto_ms, DEMO_RTO_MS, d->lost);
}

static int keep_opt_cb(void *arg, int key, const char *v)
{
	struct demo *d = arg;
	if (key == 'k')
		d->keep = true;
	else if (key == 'r')
		snprintf(d->report, sizeof(d->report), "%s", v);
	else
		return -1;
	return 0;
}

static void handle_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int finish(struct demo *d, int rc)
{
	char json[4300];
	judge(d, rc);
	rc = d->fail[0] ? -1 : 0;
	int wrc = hw_report_write(&d->rep, d->report, json, d->html, sizeof(d->html));
	if (wrc) {
		snprintf(d->html, sizeof(d->html), "(not written: %s)", hw_strerror(wrc));
		rc = failed(d, "report: %s", hw_strerror(wrc));
	}
	printf("hawser demo: %s%s%s rto_target=%dms measured_rto=%.0fms rpo_target=%d "
	       "acked_lost=%" PRIu64 " records=%" PRIu64 " report=%s\n",
	       rc ? "FAIL " : "PASS", rc ? d->fail : "", rc ? "" : "", DEMO_RTO_MS,
	       d->t_first >= 0 ? d->measured_rto_ms : -1.0, DEMO_RPO_MS, d->lost, d->count,
	       d->html);
	return rc;
}

static int cmd_demo(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"keep", no_argument, NULL, 'k'},
					     {"report-dir", required_argument, NULL, 'r'},
					     {0}};
	static struct demo d; /* static: large buffers stay off the stack */
	int rc = hw_cli_parse(cmd, argc, argv, opts, keep_opt_cb, &d, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	rc = hw_cli_scratch(NULL, "demo", d.work, sizeof(d.work));
	if (rc == 0 && d.report[0] == '\0')
		rc = hw_cli_scratch(NULL, "demo-report", d.report, sizeof(d.report));
	if (rc)
		return hw_cli_fail(cmd->name, "temporary directory", rc);
	handle_signals();
	hw_report_init(&d.rep, HW_DRILL_FAILOVER, "demo cluster: p1 s1 s2 w1");
	rc = run(&d);
	hw_cluster_free(d.c, true); /* stops and reaps whatever still runs */
	track_pids(&(struct demo){.c = NULL});
	rc = finish(&d, rc);
	if (d.keep)
		printf("hawser demo: kept %s\n", d.work);
	else
		hw_cli_rmtree(d.work);
	gen_free(&d);
	if (interrupted)
		return 128 + (int)interrupted;
	return rc ? HW_CLI_ERROR : HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_demo = {
	"demo", "failover and restore drill on a local cluster, with a report",
	"usage: hawser demo [--keep] [--report-dir DIR]\n"
	"  In a temporary directory, start a local cluster of real processes on loopback: a\n"
	"  primary, two standbys and a witness (durable k=1, rto 2s, rpo 0). Drive about ten\n"
	"  seconds of a compressed terminal peak from three TOS lanes through a client that\n"
	"  follows the primary, printing each second the predicted failover time (the\n"
	"  planner's, as `hawser plan`) against the target and the acknowledged data at risk.\n"
	"  Halfway, kill the primary with SIGKILL: show the promotion and the measured RTO\n"
	"  (kill to the first acknowledged submit on the new primary). Restart the old\n"
	"  primary and show whether it rejoins. Stop the cluster, look every acknowledged\n"
	"  record up on the new primary's store, run a verify drill on it and a restore\n"
	"  drill from a backup taken under load, write the HTML and JSON report, and end\n"
	"  with one line: hawser demo: PASS|FAIL rto_target= measured_rto= rpo_target=\n"
	"  acked_lost= records= report=PATH. Exit 1 on FAIL. Ctrl-C stops every process.\n"
	"  --keep: keep the temporary directory (its path is printed).\n"
	"  --report-dir DIR: write the report there (default: a new demo-report directory\n"
	"  under $TMPDIR or /tmp).\n",
	cmd_demo};
