/* test_drill_failover.c: `hawser drill failover` run as a real process (HW_BIN) on the
 * local cluster it starts: two failovers under load with the primary killed, and two with
 * the primary cut off from the other voters while its clients still reach it. The JSON it
 * prints is the contract checked here (its shape; no acknowledged record lost; never two
 * primaries acknowledging at once; a measured RTO and a rejoin time for every run), and
 * the run must leave its report and one failover row in the store's drill history. Bad
 * options are usage errors that start nothing and record nothing. A local cluster whose
 * disk ($TMPDIR) fills is no verdict on the cluster: ERROR, naming the full disk.
 *
 * --connect: a cluster started here (bench/cluster.h) with a supervisor thread that
 * restarts a node that exited, as systemd's Restart= would; its primary crashes itself,
 * or isolates itself from its standbys and witness for a while, when the drill asks and
 * its config allows it, and refuses when it does not. A supervisor that restarts the
 * crashed primary at once may see it elected again: the drill reports a recovery by
 * restart, not a failover. The fault's audit event outlives it, on the new primary; a
 * fault no standby can record is not played. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "bench/cluster.h"
#include "engine/client_int.h"
#include "engine/core/targets.h"
#include "hawser.h"
#include "replica/drills.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "tests/skip.h"
#include "wire.pb-c.h"

struct fix {
	char dir[HW_PROC_PATH_MAX];
	char store[HW_PROC_PATH_MAX + 16];
	char reports[HW_PROC_PATH_MAX + 16];
	char conf[HW_PROC_PATH_MAX + 16]; /* node tos-a, whose data_dir is store */
	struct hw_capture r;
	struct hw_capture a; /* `hawser audit` */
};

static const char *hw_bin;

static int setup(void **state)
{
	static struct fix fx;
	memset(&fx, 0, sizeof(fx));
	if (hw_test_mkdtemp("drill-failover", fx.dir, sizeof(fx.dir)) != 0)
		return -1;
	snprintf(fx.store, sizeof(fx.store), "%s/st", fx.dir);
	snprintf(fx.reports, sizeof(fx.reports), "%s/reports", fx.dir);
	snprintf(fx.conf, sizeof(fx.conf), "%s/tos-a.conf", fx.dir);
	/* the drill's own temporary directories go under the test's */
	setenv("TMPDIR", fx.dir, 1);
	if (hw_proc_capture(&fx.r, hw_bin, "init", fx.store, NULL) != 0)
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	return hw_test_rm_rf(f->dir) == 0 ? 0 : -1;
}

/* f->conf: node tos-a of a cluster with one standby, tos-b, durable k=1, its store
 * f->store, and failover (a [failover] section, targets rto 2 s and rpo 0) or not. The
 * addresses are never dialled: the drill reads the config only. */
static void write_config(struct fix *f, bool failover)
{
	FILE *fp = fopen(f->conf, "w");
	assert_non_null(fp);
	fprintf(fp,
		"[cluster]\nid = yard\n%s[node]\nid = tos-a\nrole = primary\ndata_dir = %s\n"
		"listen = 127.0.0.1:17101\nclient = 127.0.0.1:17102\n"
		"[durability]\nmode = durable\nk = 1\n",
		failover ? "" : "standbys = tos-b\n", f->store);
	if (failover)
		fprintf(fp, "[failover]\nvoters = tos-a@127.0.0.1:17101, tos-b@127.0.0.1:17103\n"
			    "witness = 127.0.0.1:17900\nrto = 2s\nrpo = 0\n");
	assert_int_equal(fclose(fp), 0);
}

/* `hawser status --config f->conf`: the node's drill history as status shows it. */
static void status(struct fix *f)
{
	assert_int_equal(hw_proc_capture(&f->r, hw_bin, "status", "--config", f->conf, NULL), 0);
}

/* The number after "key": at or after from, asserted present. */
static double num(const char *from, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(from, pat);
	assert_non_null(p);
	char *end;
	double v = strtod(p + strlen(pat), &end);
	assert_true(end != p + strlen(pat));
	return v;
}

/* Whether the file at path holds text; asserts it is there. */
static bool file_has(const char *path, const char *text)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	static char body[1 << 20];
	size_t n = fread(body, 1, sizeof body - 1, fp);
	fclose(fp);
	body[n] = '\0';
	return strstr(body, text) != NULL;
}

/* Whether the JSON report named in the drill's output (f->r.out) holds text; asserts the
 * report is there. */
static bool report_has(const struct fix *f, const char *text)
{
	const char *rep = strstr(f->r.out, "\"report\":\"");
	assert_non_null(rep);
	char path[HW_PROC_PATH_MAX + 128];
	assert_int_equal(sscanf(rep, "\"report\":\"%4200[^\"]", path), 1);
	return file_has(path, text);
}

/* Whether the JSON report in f->reports (the only one there) holds text. */
static bool report_dir_has(const struct fix *f, const char *text)
{
	char path[HW_PROC_PATH_MAX + 300] = "";
	DIR *d = opendir(f->reports);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (strstr(e->d_name, ".json"))
			snprintf(path, sizeof path, "%s/%s", f->reports, e->d_name);
	closedir(d);
	return file_has(path, text);
}

/* Failover rows in the store's drill history. */
static size_t history_rows(const struct fix *f, struct hw_drill_row *rows, size_t cap)
{
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	size_t n = 0;
	assert_int_equal(hw_store_open(f->store, &so, &s), 0);
	assert_int_equal(hw_store_drill_list(s, HW_DRILL_FAILOVER, rows, cap, &n), 0);
	hw_store_close(s);
	return n;
}

/* Two runs of kind for node tos-a at its targets, rto 2 s and rpo 0 (given, and equal to
 * its own): PASS, and the JSON holds what each run measured. */
static void drill_two_runs(struct fix *f, const char *kind)
{
	write_config(f, true);
	int rc = hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--runs", "2", "--rto", "2s",
				 "--rpo", "0", "--kill", kind, "--json", "--config", f->conf,
				 "--report-dir", f->reports, NULL);
	if (rc != 0)
		fprintf(stderr, "drill failover --kill %s exited %d\nstdout: %s\nstderr: %s\n",
			kind, rc, f->r.out, f->r.err);
	assert_int_equal(rc, 0);
	const char *o = f->r.out;
	assert_non_null(strstr(o, "\"result\":\"PASS\""));
	assert_true(num(o, "rto_target_ms") == 2000);
	assert_true(num(o, "rpo_target_ms") == 0);
	const char *runs = strstr(o, "\"runs\":[");
	assert_non_null(runs);
	const char *run = runs;
	int n = 0;
	while ((run = strstr(run + 1, "{\"measured_rto_ms\":")) != NULL) {
		assert_true(num(run, "measured_rto_ms") > 0);
		assert_true(num(run, "acked_lost") == 0);
		assert_true(num(run, "overlapping_primaries") == 0);
		assert_true(num(run, "rejoin_ms") >= 0);
		assert_true(num(run, "acked") > 0);
		/* the killed primary is restarted only after the promotion */
		const char *by = strstr(run, "\"recovered_by\":\"");
		assert_non_null(by);
		assert_true(strncmp(by, "\"recovered_by\":\"failover\"", 25) == 0);
		assert_true(num(run, "epoch_after") > num(run, "epoch_before"));
		n++;
	}
	assert_int_equal(n, 2);
	assert_true(num(o, "failovers") == 2);
	assert_true(num(o, "restarts") == 0);
	const char *rto = strstr(o, "\"rto_ms\":{");
	assert_non_null(rto);
	double p50 = num(rto, "p50"), p99 = num(rto, "p99"), max = num(rto, "max");
	assert_true(p50 > 0 && p50 <= p99 && p99 <= max);
	/* the report files named in the JSON exist */
	const char *rep = strstr(o, "\"report\":\"");
	assert_non_null(rep);
	char path[HW_PROC_PATH_MAX + 128];
	assert_int_equal(sscanf(rep, "\"report\":\"%4200[^\"]", path), 1);
	assert_int_equal(access(path, R_OK), 0);
	assert_non_null(strstr(path, f->reports));
}

/* The primary is killed with SIGKILL twice under load: nothing acknowledged is lost, no
 * overlap, every old primary rejoins, and one PASS row lands in the node's drill history,
 * which keeps its failover schedule; the report says whose targets were measured on
 * what. */
static void test_kill_primary(void **state)
{
	struct fix *f = *state;
	struct hw_drill_row rows[4];
	assert_int_equal(history_rows(f, rows, 4), 0);
	drill_two_runs(f, "primary");
	assert_int_equal(history_rows(f, rows, 4), 1);
	assert_int_equal(rows[0].kind, HW_DRILL_FAILOVER);
	assert_int_equal(rows[0].result, HW_DRILL_PASS);
	assert_true(report_has(f, "kill -9 of the primary"));
	assert_true(report_has(f, "fault: kill -9 primary"));
	assert_true(report_has(
		f, "\"node\":\"targets of node tos-a, measured on a local 3-node cluster\""));
	assert_int_equal(rows[0].target_ms, 2000);
	assert_true(rows[0].entries > 0);
	assert_non_null(strstr(rows[0].report, ".json"));
	status(f);
	assert_non_null(strstr(f->r.out, "failover  last PASS"));
}

/* The primary is cut off from the standbys and the witness twice while its clients still
 * reach it: it must stop acknowledging before the new primary's first acknowledgement. */
static void test_partition_primary(void **state)
{
	struct fix *f = *state;
	struct hw_drill_row rows[4];
	drill_two_runs(f, "partition-primary");
	assert_non_null(strstr(f->r.out, "\"kill\":\"partition-primary\""));
	assert_true(report_has(f, "fault: primary cut off"));
	assert_false(report_has(f, "kill -9"));
	assert_int_equal(history_rows(f, rows, 4), 1);
	assert_int_equal(rows[0].result, HW_DRILL_PASS);
}

/* Each bad option is a usage error (exit 2) naming the option, and so is a target looser
 * than the node's own (naming both) and --dir without --config (no node whose targets
 * the row would be held to); nothing is recorded and no report is written. */
static void test_usage_errors(void **state)
{
	struct fix *f = *state;
	static const char *const bad[][3] = {
		{"--rto", "2x", NULL},
		{"--rto", "0", NULL},
		{"--runs", "0", NULL},
		{"--runs", "101", NULL},
		{"--rpo", "-1s", NULL},
		{"--kill", "standby", NULL},
		{"--key", "client.key", NULL},      /* keys go with --connect */
		{"--connect", "127.0.0.1:1", NULL}, /* without --key, --peers, --cluster */
		/* looser than tos-a's [failover] rto 2s, rpo 0: it was drilled and recorded */
		{"--rto", "3s", "rto 2000ms"},
		{"--rpo", "1s", "rpo 0ms"},
	};
	write_config(f, true);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = hw_proc_capture(&f->r, hw_bin, "drill", "failover", bad[i][0], bad[i][1],
					 "--runs", "1", "--config", f->conf, "--report-dir",
					 f->reports, NULL);
		assert_int_equal(rc, 2);
		assert_non_null(hw_said(f->r.err, bad[i][0]));
		if (bad[i][2])
			assert_non_null(hw_said(f->r.err, bad[i][2]));
	}
	assert_int_equal(hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--dir", f->store,
					 "--report-dir", f->reports, NULL),
			 2);
	assert_non_null(hw_said(f->r.err, "--dir goes with --config"));
	struct hw_drill_row rows[1];
	assert_int_equal(history_rows(f, rows, 1), 0);
	assert_int_equal(access(f->reports, F_OK), -1);
}

/* Run the drill on a local cluster with option opt at value ms, expecting a usage error
 * that says phrase and starts nothing (no report). */
static void refused_target(struct fix *f, const char *opt, int64_t ms, const char *phrase)
{
	char v[32];
	snprintf(v, sizeof v, "%lldms", (long long)ms);
	assert_int_equal(hw_proc_capture(&f->r, hw_bin, "drill", "failover", opt, v, "--runs", "1",
					 "--report-dir", f->reports, NULL),
			 2);
	assert_non_null(hw_said(f->r.err, phrase));
	assert_int_equal(f->r.out_len, 0);
	assert_int_equal(access(f->reports, F_OK), -1);
}

/* Targets the local cluster's nodes refuse at start (their planner, on the defaults they
 * run with: an rto shorter than a hung primary's clients take, an rpo within the
 * witness's margin) are usage errors naming the least they take, and start nothing: the
 * drill started a cluster whose nodes refused their configs, and ended in ERROR "No
 * child processes". */
static void test_targets_local_cluster_refuses(void **state)
{
	struct fix *f = *state;
	struct hw_tg_input in;
	struct hw_tg_plan plan;
	hw_tg_input_defaults(&in, 1000, 0, 1);
	assert_int_equal(hw_tg_plan(&in, &plan), HW_ERANGE);
	int64_t rto_min = hw_tg_rto_min_ms(&in, &plan);
	char phrase[64];
	snprintf(phrase, sizeof phrase, "give --rto at least %lldms", (long long)rto_min);
	refused_target(f, "--rto", rto_min - 1, phrase);
	refused_target(f, "--rto", 1, phrase);
	hw_tg_input_defaults(&in, 30000, 1, 1);
	assert_int_equal(hw_tg_plan(&in, &plan), HW_ERANGE);
	assert_true(plan.rpo_refused);
	snprintf(phrase, sizeof phrase, "(more than %lldms)", (long long)plan.ahead_margin_ms);
	refused_target(f, "--rpo", plan.ahead_margin_ms, phrase);
	refused_target(f, "--rpo", 1, phrase);
}

/* A node without [failover] cannot fail over: a failover drill of it is refused (exit 2,
 * saying so and how to drill a local cluster instead), starts nothing and records
 * nothing, so its status still shows the failover drill never run. It was run on the
 * drill's own local cluster, recorded as the node's PASS, and status said "on time". */
static void test_node_without_failover(void **state)
{
	struct fix *f = *state;
	write_config(f, false);
	int rc = hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--config", f->conf, "--rto",
				 "2s", "--runs", "1", "--report-dir", f->reports, NULL);
	assert_int_equal(rc, 2);
	assert_non_null(hw_said(f->r.err, "node tos-a"));
	assert_non_null(hw_said(f->r.err, "no [failover] section: it cannot fail over"));
	assert_non_null(hw_said(f->r.err, "run without --config"));
	struct hw_drill_row rows[1];
	assert_int_equal(history_rows(f, rows, 1), 0);
	assert_int_equal(access(f->reports, F_OK), -1);
	status(f);
	assert_non_null(strstr(f->r.out, "failover  never run"));
}

/* ---- --connect ------------------------------------------------------------------- */

/* Does the log at path hold lines with needles[0], needles[1], ... in that order? */
static bool log_in_order(const char *path, const char *const *needles, size_t n)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		return false;
	char line[2048];
	size_t k = 0;
	while (k < n && fgets(line, sizeof(line), fp) != NULL)
		k += strstr(line, needles[k]) != NULL;
	fclose(fp);
	return k == n;
}

/* How long the supervisor of the failover tests waits before it restarts a node that
 * exited, as systemd's RestartSec would: past the cluster's rto (2 s), so a standby takes
 * over first and the promotion path is what they exercise. A primary restarted sooner
 * may be elected again (test_connect_restart). */
#define RESTART_DELAY_MS 2500
/* How long a supervisor that holds the standbys back keeps them stopped at most while
 * the restarted node becomes primary again. */
#define HOLD_MS 10000

/* A cluster the drill connects to, and the supervisor that restarts its nodes. The
 * caller sets the first three fields; remote_start() the rest. */
struct remote {
	unsigned standbys;
	int restart_delay_ms; /* as systemd's RestartSec */
	bool hold;            /* restart at once with the other nodes stopped (restart_held) */
	struct hw_cluster *c;
	pthread_t sup;
	volatile bool stop;
	unsigned restarts;
	int64_t exited_ms[8]; /* when the supervisor saw it gone (0: running) */
};

/* Node i has exited (not reaped: WNOWAIT leaves that to bench/cluster.c). */
static bool exited(struct remote *rm, unsigned i)
{
	siginfo_t si = {0};
	pid_t pid = hw_cluster_node_pid(rm->c, i);
	return pid != 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == pid;
}

/* Node i says it is primary, asked within HOLD_MS (only it: the others are stopped). */
static bool primary_again(struct remote *rm, unsigned i)
{
	int64_t until = hw_mono_ms() + HOLD_MS;
	bool primary = false;
	while (!primary && hw_mono_ms() < until) {
		Hawser__Wire__V1__Status *s;
		if (hw_cluster_node_status(rm->c, i, 1000, &s) == 0) {
			primary = s->role == HAWSER__WIRE__V1__ROLE__PRIMARY;
			hawser__wire__v1__status__free_unpacked(s, NULL);
		}
		if (!primary)
			hw_sleep_ms(20);
	}
	return primary;
}

/* Restart node i at once with every other node stopped (SIGSTOP, as hosts that stall
 * for a moment would) until it is primary again: its own voter and the witness are a
 * majority of a cluster with one standby, so the restart wins the election that a
 * standby would otherwise race it for. -ECHILD when it was not for restarting. */
static int restart_held(struct remote *rm, unsigned i)
{
	unsigned n = hw_cluster_nodes(rm->c);
	for (unsigned k = 0; k < n; k++)
		if (k != i)
			hw_cluster_kill(rm->c, k, SIGSTOP);
	int rc = hw_cluster_wait_joined(rm->c, i, 0, NULL, 0) == -ECHILD
			 ? hw_cluster_restart(rm->c, i)
			 : -ECHILD;
	if (rc == 0 && !primary_again(rm, i))
		fprintf(stderr, "supervisor: %s not primary again within %d ms\n",
			hw_cluster_node_id(rm->c, i), HOLD_MS);
	for (unsigned k = 0; k < n; k++)
		if (k != i)
			hw_cluster_kill(rm->c, k, SIGCONT);
	return rc;
}

/* Restart a node restart_delay_ms after it exited (hw_cluster_wait_joined reaps it:
 * -ECHILD), until stop. */
static void *supervise(void *arg)
{
	struct remote *rm = arg;
	while (!rm->stop) {
		for (unsigned i = 0; i < hw_cluster_nodes(rm->c) && i < 8; i++) {
			if (rm->exited_ms[i] == 0 && exited(rm, i))
				rm->exited_ms[i] = hw_mono_ms();
			if (rm->exited_ms[i] == 0 ||
			    hw_mono_ms() - rm->exited_ms[i] < rm->restart_delay_ms)
				continue;
			rm->exited_ms[i] = 0;
			if (rm->hold)
				rm->restarts += restart_held(rm, i) == 0;
			else if (hw_cluster_wait_joined(rm->c, i, 0, NULL, 0) == -ECHILD &&
				 hw_cluster_restart(rm->c, i) == 0)
				rm->restarts++;
		}
		hw_sleep_ms(20);
	}
	return NULL;
}

static void remote_start(struct fix *f, struct remote *rm, bool allow_fault)
{
	char root[HW_PROC_PATH_MAX + 16];
	snprintf(root, sizeof(root), "%s/cluster", f->dir);
	struct hw_cluster_opts o = {.hawser_bin = hw_bin,
				    .root = root,
				    .cluster_id = "remote",
				    .standbys = rm->standbys,
				    .mode = "durable",
				    .k = 1,
				    .failover = true,
				    .rto_ms = 2000,
				    .allow_fault = allow_fault,
				    .start_timeout_ms = 15000};
	assert_int_equal(hw_cluster_start(&o, &rm->c), 0);
	assert_int_equal(pthread_create(&rm->sup, NULL, supervise, rm), 0);
}

/* Stop the supervisor (the cluster is the caller's alone again). */
static void remote_unsupervise(struct remote *rm)
{
	rm->stop = true;
	pthread_join(rm->sup, NULL);
}

/* `hawser drill failover --connect --kill kill` with the cluster's client key, its list
 * written with blanks around the commas (the drill reads it as the client does), and
 * --config conf when not NULL; its exit code. */
static int remote_drill(struct fix *f, struct remote *rm, const char *kill, const char *conf)
{
	const struct hw_client_security *sec = hw_cluster_security(rm->c);
	char list[2048];
	size_t n = 0;
	for (const char *p = hw_cluster_client_list(rm->c); *p && n + 4 < sizeof list; p++)
		n += (size_t)snprintf(list + n, sizeof list - n, *p == ',' ? " , " : "%c", *p);
	return hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--connect", list, "--key",
			       sec->key, "--peers", sec->peers, "--cluster", sec->cluster_id,
			       "--kill", kill, "--runs", "1", "--rto", "2s", "--rpo", "0", "--json",
			       "--report-dir", f->reports, conf ? "--config" : NULL, conf,
			       NULL); /* no conf: the list ends */
}

/* Whether out holds a line with every one of the n needles. */
static bool line_with(const char *out, const char *const *needles, size_t n)
{
	for (const char *line = out; *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		size_t k = 0;
		for (const char *at; k < n; k++)
			if ((at = strstr(line, needles[k])) == NULL || at >= line + len)
				break;
		if (k == n)
			return true;
		line += len + (end != NULL);
	}
	return false;
}

/* Whether node i's store lists an audit event whose line holds the n needles, looked at
 * until AUDIT_WAIT_MS passed (the store commits behind the log); the last list stays in
 * f->a. */
#define AUDIT_WAIT_MS 15000
static bool audit_lists(struct fix *f, struct hw_cluster *c, unsigned i, const char *const *needles,
			size_t n)
{
	for (int64_t end = hw_mono_ms() + AUDIT_WAIT_MS; hw_mono_ms() < end;) {
		if (hw_proc_capture(&f->a, hw_bin, "audit", "--json", hw_cluster_dir(c, i), NULL) ==
			    0 &&
		    line_with(f->a.out, needles, n))
			return true;
		hw_cluster_wait_synced(c, 1000, NULL);
	}
	fprintf(stderr, "no %s ... in %s's audit:\n%s\n", needles[n - 1], hw_cluster_node_id(c, i),
		f->a.out);
	return false;
}

/* Whether node i's store lists the drill event "fault injected: <what>" of the old
 * primary old: the fault's audit event outlived the fault (it was quarantined on the
 * isolated primary's rejoin). */
static bool fault_audited(struct fix *f, struct hw_cluster *c, unsigned i, unsigned old,
			  const char *what)
{
	char node[96], detail[128];
	snprintf(node, sizeof node, "\"node\":\"%s\"", hw_cluster_node_id(c, old));
	snprintf(detail, sizeof detail, "\"detail\":\"fault injected: %s", what);
	const char *const needles[] = {"\"kind\":\"drill\"", node, detail};
	return audit_lists(f, c, i, needles, 3);
}

/* The crash drill on rm's cluster (remote_start with faults allowed), supervised: a PASS
 * with a measured RTO, nothing acknowledged lost, no overlap, and one restart by the
 * supervisor. before and after (cap bytes) get the primary's id before the drill and once
 * it ended, asked before the supervisor ends (a node it restarted dies with its thread:
 * bench/cluster.c starts nodes with PR_SET_PDEATHSIG). The cluster is freed. */
static void crash_drill(struct fix *f, struct remote *rm, char *before, char *after, size_t cap)
{
	remote_start(f, rm, true);
	unsigned b, a;
	assert_int_equal(hw_cluster_primary(rm->c, 5000, &b), 0);
	int rc = remote_drill(f, rm, "primary", NULL);
	if (rc != 0)
		fprintf(stderr, "drill failover --connect exited %d\nstdout: %s\nstderr: %s\n", rc,
			f->r.out, f->r.err);
	int prc = hw_cluster_primary(rm->c, 5000, &a);
	/* before the supervisor ends: a node it restarted dies with it */
	bool audited = prc == 0 && fault_audited(f, rm->c, a, b, "crash");
	remote_unsupervise(rm);
	snprintf(before, cap, "%s", hw_cluster_node_id(rm->c, b));
	snprintf(after, cap, "%s", prc == 0 ? hw_cluster_node_id(rm->c, a) : "");
	hw_cluster_free(rm->c, false);
	assert_int_equal(prc, 0);
	assert_int_equal(rc, 0);
	const char *o = f->r.out;
	assert_non_null(strstr(o, "\"result\":\"PASS\""));
	assert_true(num(o, "measured_rto_ms") > 0);
	assert_true(num(o, "acked_lost") == 0);
	assert_true(num(o, "overlapping_primaries") == 0);
	assert_true(num(o, "acked") > 0);
	assert_int_equal(rm->restarts, 1);
	assert_true(audited);
}

/* The primary of a running cluster crashes itself at the drill's request, a standby takes
 * over, the supervisor restarts the old primary and it rejoins: nothing acknowledged is
 * lost, no overlap, a measured RTO, and the crash's audit event is on the new primary. */
static void test_connect_crash(void **state)
{
	struct fix *f = *state;
	struct remote rm = {.standbys = 2, .restart_delay_ms = RESTART_DELAY_MS};
	char before[64], after[64];
	crash_drill(f, &rm, before, after, sizeof before);
	const char *o = f->r.out;
	assert_true(num(o, "rejoin_ms") >= 0);
	assert_string_not_equal(after, before);
	assert_non_null(strstr(o, "\"recovered_by\":\"failover\""));
	assert_true(num(o, "restarts") == 0);
	assert_true(report_has(f, "\"name\":\"standby promotion\",\"verdict\":\"pass\""));
	/* the primary crashed itself: no kill -9 in the words */
	assert_true(report_has(f, "the primary crashes itself"));
	assert_true(report_has(f, "fault: primary crashed"));
	assert_false(report_has(f, "kill -9"));
}

/* The supervisor restarts the crashed primary at once, within the detection time, with
 * the standby held back meanwhile (restart_held), so the restarted node is elected
 * primary again: no failover, the service came back by the restart. The drill says so
 * (recovered_by restart, the old primary new primary too in a later epoch, the standby
 * promotion check a WARN), holds its RTO to the target as usual and still finds nothing
 * acknowledged lost: PASS. It was a FAIL, "no acknowledged submit on a new primary". */
static void test_connect_restart(void **state)
{
	struct fix *f = *state;
	struct remote rm = {.standbys = 1, .hold = true};
	char before[64], after[64], old[96], nw[96];
	crash_drill(f, &rm, before, after, sizeof before);
	assert_string_equal(after, before);
	const char *o = f->r.out;
	snprintf(old, sizeof(old), "\"old_primary\":\"%s\"", before);
	snprintf(nw, sizeof(nw), "\"new_primary\":\"%s\"", before);
	assert_non_null(strstr(o, "\"recovered_by\":\"restart\""));
	assert_non_null(strstr(o, old));
	assert_non_null(strstr(o, nw));
	assert_true(num(o, "epoch_after") > num(o, "epoch_before"));
	assert_non_null(strstr(o, "\"loss_checked\":true"));
	assert_true(num(o, "rejoin_ms") == -1); /* nothing to rejoin */
	assert_true(num(o, "failovers") == 0);
	assert_true(num(o, "restarts") == 1);
	assert_non_null(strstr(o, "recovered by restart"));
	assert_true(report_has(f, "\"name\":\"standby promotion\",\"verdict\":\"warn\""));
	assert_true(report_has(f, "first commit on restarted primary"));
}

/* Node i's answer to an ISOLATE of duration ms, over the cluster's client channel. */
static int isolate_once(struct remote *rm, unsigned i, uint32_t ms)
{
	struct hw_client *cl;
	int rc = hw_client_connect_secure(hw_cluster_node_addr(rm->c, i),
					  hw_cluster_security(rm->c), &cl);
	if (rc == 0)
		rc = hw_client_drill_isolate(cl, ms, 5000);
	hw_client_close(cl);
	return rc;
}

/* The primary of a running cluster cuts itself off from its standbys and the witness at
 * the drill's request while its clients still reach it: its lease fence stops it
 * acknowledging before a standby takes over (no overlap, nothing lost), and once the
 * isolation ends it heals by itself and rejoins as a standby, never restarted; its audit
 * event of the isolation is on the new primary (it was quarantined with the old
 * primary's suffix when the event was appended just before the links were cut). */
static void test_connect_isolate(void **state)
{
	struct fix *f = *state;
	struct remote rm = {.standbys = 2, .restart_delay_ms = RESTART_DELAY_MS};
	remote_start(f, &rm, true);
	unsigned before, after;
	assert_int_equal(hw_cluster_primary(rm.c, 5000, &before), 0);
	/* bad requests are refused, typed, and cut nothing off */
	unsigned standby = (before + 1) % hw_cluster_nodes(rm.c);
	assert_int_equal(isolate_once(&rm, before, 0), HW_ERANGE);
	assert_int_equal(isolate_once(&rm, before, 600001), HW_ERANGE);
	assert_int_equal(isolate_once(&rm, standby, 1000), HW_ENOT_PRIMARY);
	assert_int_equal(hw_cluster_wait_synced(rm.c, 5000, NULL), 0);
	int rc = remote_drill(f, &rm, "partition-primary", NULL);
	if (rc != 0)
		fprintf(stderr,
			"drill failover --connect isolate exited %d\nstdout: %s\nstderr: %s\n", rc,
			f->r.out, f->r.err);
	remote_unsupervise(&rm);
	int prc = hw_cluster_primary(rm.c, 5000, &after);
	static const char *const order[] = {"event=isolated until_ms=", "event=stepped_down",
					    "event=isolation_ended"};
	bool logged = log_in_order(hw_cluster_log(rm.c, before), order, 3);
	bool audited = prc == 0 && fault_audited(f, rm.c, after, before, "isolated for 2500 ms");
	char old[64];
	snprintf(old, sizeof(old), "\"old_primary\":\"%s\"", hw_cluster_node_id(rm.c, before));
	hw_cluster_free(rm.c, false);
	assert_int_equal(prc, 0);
	assert_int_equal(rc, 0);
	const char *o = f->r.out;
	assert_non_null(strstr(o, "\"result\":\"PASS\""));
	assert_non_null(strstr(o, "\"kill\":\"partition-primary\""));
	assert_non_null(strstr(o, old)); /* still the primary after the refused requests */
	assert_true(num(o, "measured_rto_ms") > 0);
	assert_true(num(o, "acked_lost") == 0);
	assert_true(num(o, "overlapping_primaries") == 0);
	assert_true(num(o, "acked") > 0);
	assert_true(num(o, "rejoin_ms") >= 0);
	assert_true(after != before);
	assert_int_equal(rm.restarts, 0);
	/* the old primary's own log: the isolation, the step-down its fence made, the end */
	assert_true(logged);
	assert_true(audited); /* on the new primary: it outlived the isolation */
}

/* A fault whose audit event no standby makes durable within its bound (the one standby
 * stopped; the witness keeps the primary's lease) is not injected: the request fails
 * with -ETIMEDOUT, the primary does not isolate itself, and its audit trail says the
 * fault was not injected. */
static void test_connect_fault_unrecorded(void **state)
{
	struct fix *f = *state;
	struct remote rm = {.standbys = 1, .restart_delay_ms = RESTART_DELAY_MS};
	remote_start(f, &rm, true);
	unsigned p;
	assert_int_equal(hw_cluster_primary(rm.c, 5000, &p), 0);
	unsigned standby = (p + 1) % hw_cluster_nodes(rm.c);
	assert_int_equal(hw_cluster_wait_synced(rm.c, 5000, NULL), 0);
	assert_int_equal(hw_cluster_kill(rm.c, standby, SIGSTOP), 0);
	int rc = isolate_once(&rm, p, 1000);
	assert_int_equal(hw_cluster_kill(rm.c, standby, SIGCONT), 0);
	const char *const cut[] = {"event=isolated "};
	bool isolated = log_in_order(hw_cluster_log(rm.c, p), cut, 1);
	int prc = hw_cluster_primary(rm.c, 5000, &p);
	bool audited = prc == 0 && fault_audited(f, rm.c, p, p, "isolated for 1000 ms");
	const char *const said[] = {"\"kind\":\"drill\"", "fault not injected"};
	bool said_not = prc == 0 && audit_lists(f, rm.c, p, said, 2);
	remote_unsupervise(&rm);
	hw_cluster_free(rm.c, false);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_false(isolated);
	assert_true(audited);  /* its event, appended at the request, then ... */
	assert_true(said_not); /* ... the one that says the fault was not played */
}

/* Whether a node other than old logged its first acknowledgement as primary, within ms. */
static bool first_ack_elsewhere(struct remote *rm, unsigned old, int ms)
{
	static const char *const ack[] = {"event=first_ack"};
	for (int64_t until = hw_mono_ms() + ms; hw_mono_ms() < until; hw_sleep_ms(20))
		for (unsigned i = 0; i < hw_cluster_nodes(rm->c); i++)
			if (i != old && log_in_order(hw_cluster_log(rm->c, i), ack, 1))
				return true;
	return false;
}

/* A drill stopped by SIGINT after the new primary's first acknowledgement, while its run
 * still loads it, ends in ERROR, exit 130: its rto was measured, but the checks its run
 * never reached, "one primary at a time" and "rejoin", are skipped, not passed (they
 * said PASS). */
static void test_connect_interrupted(void **state)
{
	struct fix *f = *state;
	struct remote rm = {.standbys = 2, .restart_delay_ms = RESTART_DELAY_MS};
	remote_start(f, &rm, true);
	unsigned before;
	assert_int_equal(hw_cluster_primary(rm.c, 5000, &before), 0);
	const struct hw_client_security *sec = hw_cluster_security(rm.c);
	char log[HW_PROC_PATH_MAX + 16];
	snprintf(log, sizeof log, "%s/drill.log", f->dir);
	const char *args[] = {"drill",
			      "failover",
			      "--connect",
			      hw_cluster_client_list(rm.c),
			      "--key",
			      sec->key,
			      "--peers",
			      sec->peers,
			      "--cluster",
			      sec->cluster_id,
			      "--runs",
			      "1",
			      "--rto",
			      "2s",
			      "--report-dir",
			      f->reports,
			      NULL};
	struct hw_proc p;
	assert_int_equal(hw_proc_start(&p, log, args), 0);
	bool acked = first_ack_elsewhere(&rm, before, 20000);
	if (acked)
		assert_int_equal(hw_proc_signal(&p, SIGINT), 0);
	int rc = hw_proc_reap(&p, 60000);
	remote_unsupervise(&rm);
	hw_cluster_free(rm.c, false);
	assert_true(acked);
	assert_int_equal(rc, 128 + SIGINT);
	assert_true(report_dir_has(f, "\"result\":\"ERROR\""));
	assert_true(report_dir_has(f, "\"name\":\"rto\",\"verdict\":\"pass\""));
	assert_true(report_dir_has(f, "\"name\":\"one primary at a time\",\"verdict\":\"skip\""));
	assert_true(report_dir_has(f, "\"name\":\"rejoin\",\"verdict\":\"skip\""));
	assert_false(report_dir_has(f, "\"verdict\":\"fail\""));
}

/* A node whose config does not allow faults refuses the request: the drill ends in ERROR
 * naming [drills] allow_fault, and the primary is the same node. Given a node's config
 * (the cluster's rto 2 s and rpo 0, as the drill's), the report says the running cluster
 * was measured against that node's targets. */
static void test_connect_refused(void **state)
{
	struct fix *f = *state;
	struct remote rm = {.standbys = 2, .restart_delay_ms = RESTART_DELAY_MS};
	remote_start(f, &rm, false);
	unsigned before, after;
	assert_int_equal(hw_cluster_primary(rm.c, 5000, &before), 0);
	char conf[HW_PROC_PATH_MAX + 64], header[128];
	snprintf(conf, sizeof conf, "%s/cluster/%s.ini", f->dir, hw_cluster_node_id(rm.c, 0));
	snprintf(header, sizeof header,
		 "\"node\":\"targets of node %s, measured on the running "
		 "cluster at ",
		 hw_cluster_node_id(rm.c, 0));
	int rc = remote_drill(f, &rm, "primary", conf);
	remote_unsupervise(&rm);
	int prc = hw_cluster_primary(rm.c, 5000, &after);
	hw_cluster_free(rm.c, false);
	assert_int_equal(prc, 0);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(f->r.out, "\"result\":\"ERROR\""));
	assert_non_null(strstr(f->r.out, "allow_fault"));
	assert_non_null(strstr(f->r.out, "HW_EFAULT_OFF"));
	assert_true(report_has(f, header));
	/* nothing measured: no rto verdict and no rto figure (it FAILed with "p99 0 ms") */
	assert_true(report_has(f, "\"name\":\"rto\",\"verdict\":\"skip\",\"detail\":\"not "
				  "measured"));
	assert_true(report_has(f, "\"name\":\"runs\",\"verdict\":\"skip\""));
	assert_false(report_has(f, "\"name\":\"rto p99\""));
	assert_int_equal(after, before);
	assert_int_equal(rm.restarts, 0);
}

/* A cluster the drill cannot reach gets no verdict: ERROR (exit 1), not FAIL, and the
 * checks that no run measured are skipped, not passed (it was a FAIL with "pass rpo 0 of
 * 0 acknowledged records lost"), and say so: the rto is not measured and has no figures
 * (it FAILed with "p99 0 ms" and figures of 0 ms), the run and the runs check say what
 * the result says (they said FAIL), and the rows skipped name no counts of 0. The reason
 * says that no node answered, and what each address gave. */
static void test_connect_unreachable(void **state)
{
	struct fix *f = *state;
	char list[64];
	snprintf(list, sizeof list, "127.0.0.1:%u,127.0.0.1:%u", 1u, 9u); /* nothing listens */
	int rc = hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--connect", list,
				 "--insecure", "--runs", "1", "--report-dir", f->reports, NULL);
	assert_int_equal(rc, 1);
	static const char *const shown[] = {
		/* what each address gave (it said "this node is not the primary": none is) */
		"failover: ERROR: run 1: client: no node answered (127.0.0.1:1: Connection "
		"refused, "
		"127.0.0.1:9: Connection refused)",
		"  run 1: ERROR ",
		"skip  runs                   0 of 1 runs completed; the drill stopped: run 1: ",
		"skip  rto                    not measured",
		"skip  rpo                    not measured",
		"skip  one primary at a time  not measured",
		"skip  rejoin                 not measured",
		"skip  standby promotion      not measured",
	};
	static const char *const not_shown[] = {"pass  ", "fail  ", "0 runs where",
						"not the primary"};
	for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
		assert_non_null(strstr(f->r.out, shown[i]));
	for (size_t i = 0; i < sizeof not_shown / sizeof not_shown[0]; i++)
		assert_null(strstr(f->r.out, not_shown[i]));
	rc = hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--connect", list, "--insecure",
			     "--runs", "1", "--report-dir", f->reports, "--json", NULL);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(f->r.out, "\"rto_ms\":null"));
	assert_false(report_has(f, "\"name\":\"rto p99\""));
	assert_true(report_has(f, "\"name\":\"rto target\""));
}

/* A run's reason too long for its 320 bytes ends with "..." (it was cut silently, in the
 * middle of an address): no node of 4 answered, each named with what it gave. */
static void test_connect_unreachable_cut(void **state)
{
	struct fix *f = *state;
	char list[512] = "";
	for (unsigned i = 0, n = 0; i < 4; i++) /* no such socket */
		n += (unsigned)snprintf(
			list + n, sizeof list - n,
			"%sunix:/nonexistent/hawser-no-node-listens-on-this-socket-%u",
			i ? "," : "", i + 1);
	int rc = hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--connect", list,
				 "--insecure", "--runs", "1", "--report-dir", f->reports, NULL);
	assert_int_equal(rc, 1);
	const char *run = strstr(f->r.out, "\n  run 1: ERROR client: no node answered "
					   "(unix:/nonexistent/hawser-no-node-listens-on-this-"
					   "socket-1: No such file or directory, ");
	assert_non_null(run);
	size_t len = strcspn(run + 1, "\n");
	assert_true(len > 300);
	assert_memory_equal(run + 1 + len - 3, "...", 3);
	assert_true(report_dir_has(f, "this-socket-2: No such file or directory"));
}

/* TMPDIR on a tmpfs of size at mnt, in a mount namespace of the test's own (it goes with
 * the process); skips, saying why, where there is none (not root). */
static void tmpdir_on_tmpfs(const struct fix *f, const char *size, char *mnt, size_t cap)
{
	char opts[32];
	snprintf(opts, sizeof opts, "size=%s", size);
	snprintf(mnt, cap, "%s/tmpfs", f->dir);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		HW_SKIP("no mount namespace of its own: %s (needs root)", strerror(errno));
	if (mkdir(mnt, 0700) != 0 || mount("tmpfs", mnt, "tmpfs", 0, opts) != 0)
		HW_SKIP("no tmpfs at %s: %s", mnt, strerror(errno));
	setenv("TMPDIR", mnt, 1);
}

/* The local cluster runs in the drill's temporary directory, here on a 6 MiB tmpfs that
 * its nodes fill within a few runs: they stop with storage_failed, and the drill ends in
 * ERROR (exit 1) naming the full disk, the cluster's directory and the nodes that
 * stopped. It ended in FAIL, "no primary to take away", and the node logs that said why
 * were deleted with the directory. */
static void test_tmpdir_full(void **state)
{
	struct fix *f = *state;
	char mnt[HW_PROC_PATH_MAX + 16];
	tmpdir_on_tmpfs(f, "6m", mnt, sizeof mnt);
	int rc = hw_proc_capture(&f->r, hw_bin, "drill", "failover", "--runs", "8", "--rto", "2s",
				 "--report-dir", f->reports, NULL);
	setenv("TMPDIR", f->dir, 1);
	umount2(mnt, MNT_DETACH);
	printf("%s%s", f->r.out, f->r.err);
	assert_int_equal(rc, 1);
	char full[HW_PROC_PATH_MAX + 64];
	snprintf(full, sizeof full, ": disk full at %s/hawser-failover-drill-work-", mnt);
	const char *verdict = strstr(f->r.out, "hawser drill failover: ERROR: run ");
	assert_non_null(verdict);
	assert_non_null(strstr(verdict, full));
	assert_non_null(strstr(verdict, " KiB free): storage failed on "));
	assert_null(strstr(f->r.out, ": FAIL"));
}

int main(void)
{
	hw_bin = hw_test_bin();
	if (hw_bin == NULL) {
		fprintf(stderr, "test_drill_failover: HW_BIN not set\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_targets_local_cluster_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_node_without_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partition_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_isolate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_fault_unrecorded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_unreachable_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmpdir_full, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
