/* test_status.c: `hawser status --json` on running nodes shows what the node computes
 * about its targets and drills (proto/wire.proto FailoverStatus, DrillStatus): on a
 * failover cluster of p1, s1, s2 and a witness (rto 2 s, rpo 0) the targets equal the
 * config, the predicted terms add up to the total, nothing is at risk once the standbys
 * caught up, and the reasons name the standby that would take over; with p1, s1 and a
 * witness only, the RTO does not hold, as a failover would leave the new primary no
 * standby to acknowledge with; with the witness gone, no failover can happen, and once
 * the primary is gone too the standbys say it is overdue; with the witness stopped
 * (SIGSTOP: its links stay up) a standby counts it unreached within a few of its beats
 * and logs it once (voter_silent),
 * and reached again once it runs (voter_heard); with its standby gone the
 * primary says an operator must act, counts the loss from what the standby last held,
 * and once restarted without it shows its silence as never heard, not the uptime. On a
 * node with a [drills] schedule a drill never run is overdue and a verify drill run
 * against the live store clears it. A standby has joined once it caught up, not as soon
 * as it is connected. With five voters at rpo 0 (k_min 2) and two of three standbys
 * stopped, or durability.k 2 and one of two stopped, the primary's status says its
 * acknowledgements are held and why, and its log says so once when the hold begins and
 * once when it ends. Under load a standby's lag in ms is the age of the oldest entry it
 * has not applied, by that entry's commit time. The procedure drill's standbys check,
 * which reads a node's status, judges a failover cluster's standbys as whichever node
 * leads has them, before and after a failover. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "bench/cluster.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

#define RTO_MS       2000
#define SYNC_MS      10000
#define LOAD_RECORDS 2000u
#define CATCHUP_RECORDS 40000u /* a standby far enough behind to take a while */
#define WINDOW       32u
#define TEXT            ""           /* as `more`: no --json, the text for people */
#define WAIT_ROUNDS  200          /* status looks (a CLI run each) while waiting for a change */
#define TIMER_ROUNDS    3000         /* ... for one the election timers make (a second or two) */
#define HELD_RECORDS    4u           /* submitted while acknowledgements are held */
#define LAG_RECORDS     20000u       /* a load long enough for many looks at a standby's lag */
#define LAG_LOOKS       400u         /* looks at it that found records unapplied, at most */

struct fix {
	char root[HW_PROC_PATH_MAX];
	char cli_log[HW_PROC_PATH_MAX + 16];
	struct hw_cluster *c;
	struct hw_capture cap;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("status", f->root, sizeof f->root) != 0)
		return -1;
	snprintf(f->cli_log, sizeof f->cli_log, "%s/cli.log", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_cluster_free(f->c, false);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* `hawser status --insecure --connect addr more` (more NULL: --json; TEXT: nothing more):
 * exit code, stdout in f->cap.out. The nodes here run with insecure = true. */
static int status(struct fix *f, const char *addr, const char *more)
{
	return hw_proc_capture(&f->cap, hw_test_bin(), "status", "--insecure", "--connect", addr,
			       more == NULL ? "--json"
			       : more[0]    ? more
					    : NULL,
			       NULL);
}

/* The text after "key": at or after from (inside the object section names, if given). */
static const char *jat(const char *out, const char *section, const char *key)
{
	const char *from = out;
	char pat[96];
	if (section != NULL) {
		snprintf(pat, sizeof pat, "\"%s\":{", section);
		from = strstr(out, pat);
		assert_non_null(from);
	}
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = strstr(from, pat);
	assert_non_null(at);
	return at + strlen(pat);
}

static long long jint(const char *out, const char *section, const char *key)
{
	return strtoll(jat(out, section, key), NULL, 10);
}

static bool jtrue(const char *out, const char *section, const char *key)
{
	return strncmp(jat(out, section, key), "true", 4) == 0;
}

/* Lines of the log at path, from byte from on, that hold needle. */
static unsigned log_count_from(const char *path, long from, const char *needle)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, from, SEEK_SET), 0);
	char line[2048];
	unsigned n = 0;
	while (fgets(line, sizeof line, fp) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(fp);
	return n;
}

/* Lines of the log at path that hold needle. */
static unsigned log_count(const char *path, const char *needle)
{
	return log_count_from(path, 0, needle);
}

/* Lines of the log at path that hold needle, once there is one (looked at every 20 ms
 * for at most 5 s): a line logged at the node's next tick after a status already showed
 * what it says. */
static unsigned log_count_soon(const char *path, const char *needle)
{
	int64_t until = hw_mono_ms() + 5000;
	unsigned n;
	while ((n = log_count(path, needle)) == 0 && hw_mono_ms() < until)
		poll(NULL, 0, 20);
	return n;
}

/* The size of the log at path now: where what comes next starts. */
static long log_size(const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	long n = ftell(fp);
	fclose(fp);
	return n;
}

/* Start the cluster o describes as f->c: this hawser, under f's root, plaintext. */
static int start(struct fix *f, struct hw_cluster_opts o)
{
	char root[HW_PROC_PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	o.hawser_bin = hw_test_bin();
	o.root = root;
	o.insecure = true;
	return hw_cluster_start(&o, &f->c);
}

/* A failover cluster of p1, standbys s1 .. and a witness, rto RTO_MS, rpo 0, once it
 * has a primary: its index into *p. */
static int cluster(struct fix *f, unsigned standbys, unsigned *p)
{
	int rc = start(
		f, (struct hw_cluster_opts){
			   .standbys = standbys, .failover = true, .rto_ms = RTO_MS, .rpo_ms = 0});
	return rc != 0 ? rc : hw_cluster_primary(f->c, SYNC_MS, p);
}

/* LOAD_RECORDS durable records through the primary at addr, then every standby synced.
 * Returns how many were acknowledged. */
static uint64_t load(struct fix *f, const char *addr)
{
	struct hw_load l = {.addr = addr,
			    .count = LOAD_RECORDS,
			    .window = WINDOW,
			    .mode = HW_DURABLE,
			    .k = 1,
			    .seed = 7};
	assert_int_equal(hw_load_init(&l), 0);
	assert_int_equal(hw_load_run(&l), 0);
	uint64_t acked = l.acked;
	assert_true(acked > 0);
	hw_load_free(&l);
	assert_int_equal(hw_cluster_wait_synced(f->c, SYNC_MS, NULL), 0);
	return acked;
}

/* A failover cluster (p1, s1, s2, witness) under a short load, once the standbys caught
 * up: the targets are the config's, the terms sum to the predicted total within the RTO,
 * nothing is at risk or would be lost, a standby would be promoted automatically and the
 * other left to it, so the RTO holds; p1 accounts for the load's submits in its submit
 * times; a standby's own status follows p1 and has no submit times. */
static void test_failover_fields(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(cluster(f, 2, &p), 0);
	const char *addr = hw_cluster_node_addr(f->c, p);
	uint64_t acked = load(f, addr);
	/* the standby's ack of what it applied may trail its durable ack: look until the
	 * backlog is gone too */
	for (int i = 0; i < WAIT_ROUNDS; i++) {
		assert_int_equal(status(f, addr, NULL), 0);
		if (jint(f->cap.out, "at_risk", "backlog_records") == 0)
			break;
	}
	const char *o = f->cap.out;
	fprintf(stderr, "test_status: %s", o);
	assert_true(jtrue(o, "failover", "configured"));
	assert_int_equal(jint(o, "targets", "rto_ms"), RTO_MS);
	assert_int_equal(jint(o, "targets", "rpo_ms"), 0);
	long long sum = jint(o, "predicted", "detection_ms") + jint(o, "predicted", "election_ms") +
			jint(o, "predicted", "replay_ms") + jint(o, "predicted", "resume_ms");
	assert_int_equal(sum, jint(o, "predicted", "total_ms"));
	assert_true(jtrue(o, "predicted", "possible"));
	assert_true(jint(o, "predicted", "detection_ms") > 0 && sum <= RTO_MS);
	assert_int_equal(jint(o, "at_risk", "records"), 0);
	assert_int_equal(jint(o, "at_risk", "backlog_records"), 0);
	assert_int_equal(jint(o, "at_risk", "acked_lost_on_failover"), 0);
	assert_true(jtrue(o, "rto", "holds"));
	assert_true(jtrue(o, "rpo", "holds"));
	assert_true(jtrue(o, "failover", "automatic"));
	assert_non_null(strstr(o, "\"promoted\":\"s"));
	assert_non_null(strstr(o, " in sync, lease held by p1"));
	assert_non_null(strstr(o, " is promoted after about "));
	/* where the load's submits spent their time on p1: every record acknowledged was
	 * prepared and answered (and nothing answered that was not prepared), the store and
	 * durability stages took some time, and all three together less than the sync wait
	 * (a stage that wrapped around would be huge) */
	assert_non_null(jat(o, "submit_times", "last_second"));
	long long stored = jint(o, "since_start", "stored");
	long long answered = jint(o, "since_start", "answered");
	assert_true(answered >= (long long)acked && stored >= answered);
	double queued = strtod(jat(o, "since_start", "queued_us"), NULL);
	double store = strtod(jat(o, "since_start", "store_us"), NULL);
	double durability = strtod(jat(o, "since_start", "durability_us"), NULL);
	assert_true(queued >= 0 && store > 0 && durability > 0);
	assert_true(queued + store + durability < SYNC_MS * 1000.0);
	/* the standby's view: it follows p1 and would campaign itself, the other standby
	 * left to it; it times no submits */
	assert_int_equal(status(f, hw_cluster_node_addr(f->c, (p + 1) % 3), NULL), 0);
	assert_non_null(strstr(f->cap.out, "\"role\":\"standby\""));
	assert_null(strstr(f->cap.out, "submit_times"));
	assert_non_null(strstr(f->cap.out, "following p1"));
	assert_int_equal(jint(f->cap.out, "targets", "rto_ms"), RTO_MS);
	assert_true(jtrue(f->cap.out, "rto", "holds"));
	/* the same for people */
	assert_int_equal(status(f, addr, "--connect"), 2); /* --connect needs its address */
	assert_int_equal(status(f, addr, TEXT), 0);
	/* restore_rto as the drills write a duration ([drills] default 12h) */
	assert_non_null(strstr(f->cap.out,
			       "targets: rto 2000 ms holds, rpo 0 ms holds, restore_rto 12h\n"));
	assert_non_null(strstr(f->cap.out, "predicted failover"));
	assert_non_null(strstr(f->cap.out, "failover now: standby s"));
	/* the load may have ended before the last whole second: either form */
	assert_non_null(strstr(f->cap.out, "submit time, last second: "));
}

/* p1, s1 and a witness at rpo 0, in sync: after a failover the new primary would have
 * no standby, and every submit waits for one (k 1), so acknowledgements would stop until
 * a node returned: both nodes say the RTO does not hold, and why, as a person reads it;
 * the RPO holds. */
static void test_minimal_rto(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(cluster(f, 1, &p), 0);
	load(f, hw_cluster_node_addr(f->c, p));
	static const char why[] = "    rto: after a failover the new primary would have 0 "
				  "standbys, fewer than the 1 a submit waits for: "
				  "acknowledgements stop until p1 or another standby returns\n";
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(status(f, hw_cluster_node_addr(f->c, i), TEXT), 0);
		fprintf(stderr, "test_status: %s", f->cap.out);
		assert_non_null(strstr(f->cap.out, "targets: rto 2000 ms DOES NOT HOLD, rpo 0 ms "
						   "holds"));
		assert_non_null(strstr(f->cap.out, why));
	}
	assert_int_equal(status(f, hw_cluster_node_addr(f->c, p), NULL), 0);
	assert_false(jtrue(f->cap.out, "rto", "holds"));
	assert_true(jtrue(f->cap.out, "failover", "automatic"));
}

/* p1, s1, s2 and a witness at rpo 1 s, mode local, k 2: the RPO t rule needs each record
 * durable on 2 standbys within the rpo, and a new primary would have 1: the primary says
 * the RTO does not hold (its acknowledgements would stop an rpo after a failover), as the
 * rule would act, not as mode local alone would suggest. */
static void test_rpo_t_needs_k_standbys(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(start(f, (struct hw_cluster_opts){.standbys = 2,
							   .failover = true,
							   .rto_ms = RTO_MS,
							   .rpo_ms = 1000,
							   .mode = "local",
							   .k = 2}),
			 0);
	assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &p), 0);
	assert_int_equal(status(f, hw_cluster_node_addr(f->c, p), TEXT), 0);
	fprintf(stderr, "test_status: %s", f->cap.out);
	assert_non_null(strstr(f->cap.out, "rto 2000 ms DOES NOT HOLD"));
	assert_non_null(strstr(f->cap.out, "after a failover the new primary would have 1 "
					   "standby, fewer than the 2 the rpo rule needs"));
}

/* Look at node i's status (--json, then text) until its text holds want; the last text
 * stays in f->cap.out. */
static void wait_text(struct fix *f, unsigned i, const char *want)
{
	bool seen = false;
	for (int r = 0; r < TIMER_ROUNDS && !seen; r++) {
		assert_int_equal(status(f, hw_cluster_node_addr(f->c, i), TEXT), 0);
		seen = strstr(f->cap.out, want) != NULL;
	}
	fprintf(stderr, "test_status: %s", f->cap.out);
	assert_true(seen);
}

/* A status text's rto line, of p1 or a standby, when the witness does not answer. */
#define NO_FAILOVER_W1                                                                             \
	"    rto: no failover can happen: electing a new primary needs 3 of the 4 voters, and "    \
	"without p1 only 2 are reached (unreached: w1)\n"

/* p1, s1, s2 and the witness (a majority of 3): with the witness killed, p1 still holds
 * its lease through s1 and s2, but without p1 they are no majority: p1 says no failover
 * can happen (the witness does not answer its lease rounds), predicts none and promises
 * no loss of one now, and so do the standbys (their links to it are down). With p1 killed too, the
 * standbys campaign in vain: once p1 has been silent longer than detection + election their status
 * says no failover has happened and why, not that the RTO holds. */
static void test_witness_down(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(cluster(f, 2, &p), 0);
	unsigned sb = (p + 1) % 3;
	pid_t w = hw_cluster_witness_pid(f->c);
	assert_true(w > 0);
	assert_int_equal(kill(w, SIGKILL), 0);
	wait_text(f, p, NO_FAILOVER_W1);
	assert_non_null(strstr(f->cap.out, "targets: rto 2000 ms DOES NOT HOLD"));
	assert_non_null(
		strstr(f->cap.out, "  predicted failover: none, no failover can happen now\n"));
	assert_null(strstr(f->cap.out, "predicted failover 1"));
	assert_non_null(strstr(f->cap.out, "    rpo: no failover can happen now (see rto); should "
					   "one become possible, it loses nothing acknowledged\n"));
	assert_null(strstr(f->cap.out, "a failover now loses"));
	assert_int_equal(status(f, hw_cluster_node_addr(f->c, p), NULL), 0);
	assert_false(jtrue(f->cap.out, "predicted", "possible"));
	assert_non_null(strstr(f->cap.out, "if it stops renewing, "));
	assert_non_null(strstr(f->cap.out, " cannot be elected: electing a new primary needs 3"));
	wait_text(f, sb, NO_FAILOVER_W1);
	assert_non_null(strstr(f->cap.out, "but cannot win"));
	assert_int_equal(hw_cluster_kill(f->c, p, SIGKILL), 0);
	wait_text(f, sb,
		  "ms, and no failover has happened: electing a new primary needs 3 of "
		  "the 4 voters, and without p1 only 2 are reached (unreached: w1)");
	assert_non_null(strstr(f->cap.out, "    rto: p1 silent for "));
	assert_non_null(strstr(f->cap.out, "targets: rto 2000 ms DOES NOT HOLD"));
	assert_non_null(strstr(f->cap.out, "is in sync but has not been elected"));
	assert_null(strstr(f->cap.out, "campaigns after"));
	assert_true(log_count(hw_cluster_log(f->c, sb), "event=election_started ") > 0);
}

/* p1, s1, s2 and the witness: with the witness stopped (SIGSTOP) its kernel keeps every
 * link to it up, but it sends nothing, so within a few of its beats (3 renew intervals) a
 * standby counts it unreached and says no failover can happen, as p1 does (its lease
 * rounds go unanswered); running again (SIGCONT), it is reached again and the RTO holds.
 * Waits are bounded by status looks, not timed. */
static void test_witness_stopped(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(cluster(f, 2, &p), 0);
	unsigned sb = (p + 1) % 3;
	const char *addr = hw_cluster_node_addr(f->c, sb);
	pid_t w = hw_cluster_witness_pid(f->c);
	assert_true(w > 0);
	static const char holds[] = "targets: rto 2000 ms holds";
	wait_text(f, sb, holds);
	assert_int_equal(kill(w, SIGSTOP), 0);
	wait_text(f, sb, NO_FAILOVER_W1);
	assert_non_null(strstr(f->cap.out, "targets: rto 2000 ms DOES NOT HOLD"));
	assert_int_equal(status(f, addr, NULL), 0);
	assert_false(jtrue(f->cap.out, "rto", "holds"));
	assert_non_null(strstr(f->cap.out, "(unreached: w1)"));
	wait_text(f, p, NO_FAILOVER_W1);
	/* status reads the clock, the log line waits for the node's tick */
	assert_int_equal(log_count_soon(hw_cluster_log(f->c, sb), "event=voter_silent voter=w1 "),
			 1);
	assert_int_equal(log_count(hw_cluster_log(f->c, sb), "event=voter_heard voter=w1 "), 0);
	assert_int_equal(kill(w, SIGCONT), 0);
	wait_text(f, sb, holds);
	assert_int_equal(status(f, addr, NULL), 0);
	assert_true(jtrue(f->cap.out, "rto", "holds"));
	assert_null(strstr(f->cap.out, "unreached"));
	assert_int_equal(log_count(hw_cluster_log(f->c, sb), "event=voter_heard voter=w1 "), 1);
}

/* With its only standby gone the primary says no failover would happen on its own:
 * nobody to promote, an operator must accept a loss, and the RTO no longer holds; the
 * loss it lists counts from what the standby last said it held (all of it: nothing),
 * not from LSN 1; the gone node's own status is an error object. Restarted without its
 * standby, the primary has never heard it: the data at risk is its silence "never
 * heard", not the machine's uptime. */
static void test_no_standby(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(cluster(f, 1, &p), 0);
	const char *addr = hw_cluster_node_addr(f->c, p);
	load(f, addr);
	assert_int_equal(hw_cluster_kill(f->c, 1 - p, SIGKILL), 0);
	bool seen = false;
	for (int i = 0; i < WAIT_ROUNDS && !seen; i++) {
		assert_int_equal(status(f, addr, NULL), 0);
		seen = strstr(f->cap.out, "\"automatic\":false") != NULL;
	}
	assert_true(seen);
	assert_false(jtrue(f->cap.out, "rto", "holds"));
	assert_non_null(strstr(f->cap.out, "no standby connected"));
	assert_non_null(strstr(f->cap.out, "promote --accept-loss"));
	assert_non_null(strstr(f->cap.out, "\"promoted\":\"\""));
	assert_true(jint(f->cap.out, NULL, "durable_lsn") >= LOAD_RECORDS);
	assert_int_equal(jint(f->cap.out, "at_risk", "acked_lost_on_failover"), 0);
	assert_non_null(strstr(f->cap.out, "no standby connected to promote: the one that last "
					   "held the most lacks nothing acknowledged"));
	/* the killed node cannot be asked: exit 1 and, on stdout, why (it printed {}) */
	assert_int_equal(status(f, hw_cluster_node_addr(f->c, 1 - p), NULL), 1);
	if (strstr(f->cap.out, "\"error\":\"ECONNREFUSED\"") == NULL) /* seen once: say what */
		fprintf(stderr, "status of the killed node: %s%s\n", f->cap.out, f->cap.err);
	assert_non_null(strstr(f->cap.out, "\"error\":\"ECONNREFUSED\""));
	/* p1 and the witness elect p1 again, p1 standing with the log it holds (not with
	 * nothing, until a primary's frame that never comes); s1 was never heard since */
	long from = log_size(hw_cluster_log(f->c, p));
	assert_int_equal(hw_cluster_restart(f->c, p), 0);
	seen = false;
	for (int i = 0; i < TIMER_ROUNDS && !seen; i++) {
		assert_int_equal(status(f, addr, NULL), 0);
		seen = strstr(f->cap.out, "\"role\":\"primary\"") != NULL;
	}
	assert_true(seen);
	assert_true(log_count_from(hw_cluster_log(f->c, p), from, "event=election_started ") > 0);
	assert_int_equal(log_count_from(hw_cluster_log(f->c, p), from, " last_lsn=0 durable_lsn=0"),
			 0);
	assert_true(jint(f->cap.out, "at_risk", "records") > 0);
	assert_int_equal(jint(f->cap.out, "at_risk", "ms"), -1);
	assert_int_equal(status(f, addr, TEXT), 0);
	fprintf(stderr, "test_status: %s", f->cap.out);
	assert_non_null(strstr(f->cap.out, "records not yet durable on k standbys (never heard)"));
}

/* A standby joins (hw_cluster_wait_joined, where a failover drill's rejoin time ends)
 * once it has caught up, not as soon as it is connected: killed while the primary takes
 * CATCHUP_RECORDS records in mode local and restarted, s1 connects at once and then
 * streams them; when it has joined, the primary shows it holding everything it has. */
static void test_joined_means_caught_up(void **state)
{
	struct fix *f = *state;
	assert_int_equal(start(f, (struct hw_cluster_opts){.standbys = 1, .mode = "local"}), 0);
	assert_int_equal(hw_cluster_kill(f->c, 1, SIGKILL), 0);
	struct hw_load l = {.addr = hw_cluster_node_addr(f->c, 0),
			    .count = CATCHUP_RECORDS,
			    .window = WINDOW,
			    .mode = HW_LOCAL,
			    .seed = 7};
	assert_int_equal(hw_load_init(&l), 0);
	assert_int_equal(hw_load_run(&l), 0);
	uint64_t acked = l.acked;
	hw_load_free(&l);
	assert_true(acked > 0);
	assert_int_equal(hw_cluster_restart(f->c, 1), 0);
	/* looked at while it streams (when a look comes in time), it says how far it got */
	char behind[200];
	for (int i = 0; i < WAIT_ROUNDS; i++) {
		int rc = hw_cluster_wait_joined(f->c, 1, 1, behind, sizeof behind);
		if (rc == 0 || behind[0] != '\0')
			break;
		assert_int_equal(rc, -ETIMEDOUT);
	}
	if (behind[0] != '\0') {
		fprintf(stderr, "test_status: %s\n", behind);
		unsigned long long durable, level;
		const char *at = strstr(behind, "not caught up: durable lsn ");
		assert_non_null(at);
		assert_int_equal(
			sscanf(at, "not caught up: durable lsn %llu of %llu", &durable, &level), 2);
		assert_true(durable < level && level >= acked);
	}
	assert_int_equal(hw_cluster_wait_joined(f->c, 1, SYNC_MS, NULL, 0), 0);
	assert_int_equal(status(f, hw_cluster_node_addr(f->c, 0), NULL), 0);
	long long last = jint(f->cap.out, NULL, "last_lsn");
	assert_true(last >= (long long)acked);
	assert_int_equal(jint(jat(f->cap.out, NULL, "peers"), NULL, "durable"), last);
}

/* A standby's lag in ms is the age of the oldest entry it has not applied, by that
 * entry's commit time (docs/operations.md "Looking at a node"), also while the
 * primary's store has not committed the entry yet (it commits lazily behind the log, so
 * a standby often applies what the primary's store does not hold yet, and the primary
 * answered the time since the standby's last ack instead). Looked at under load, each
 * status gives that commit time (unapplied_since_ms), equal to the entry's in the
 * primary's store read afterwards, and the lag is the status time less it: no clock is
 * read here. */
static void test_lag_is_oldest_unapplied_age(void **state)
{
	struct fix *f = *state;
	struct lag_look {
		uint64_t lsn;
		int64_t since_ms, lag_ms, time_ms;
	} look[LAG_LOOKS];
	size_t n = 0;
	assert_int_equal(start(f, (struct hw_cluster_opts){.standbys = 1}), 0);
	struct hw_load l = {.addr = hw_cluster_node_addr(f->c, 0),
			    .count = LAG_RECORDS,
			    .window = WINDOW,
			    .mode = HW_DURABLE,
			    .k = 1,
			    .seed = 11};
	assert_int_equal(hw_load_init(&l), 0);
	assert_int_equal(hw_load_start(&l), 0);
	for (int i = 0; i < WAIT_ROUNDS * 10 && n < LAG_LOOKS && !hw_load_join(&l, 0); i++) {
		Hawser__Wire__V1__Status *s;
		assert_int_equal(hw_cluster_node_status(f->c, 0, SYNC_MS, &s), 0);
		assert_int_equal(s->n_peers, 1);
		const Hawser__Wire__V1__PeerStatus *p = s->peers[0];
		if (p->lag_records > 0)
			look[n++] = (struct lag_look){p->applied + 1, p->unapplied_since_ms,
						      p->lag_ms, s->time_ms};
		hawser__wire__v1__status__free_unpacked(s, NULL);
	}
	assert_true(hw_load_join(&l, SYNC_MS * 6));
	hw_load_free(&l);
	fprintf(stderr, "test_status: %zu looks with records unapplied\n", n);
	assert_true(n > 0);
	struct hw_store *st;
	struct hw_store_opts ro = {.read_only = true};
	assert_int_equal(hw_store_open(hw_cluster_dir(f->c, 0), &ro, &st), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		struct hw_entry e;
		assert_int_equal(hw_store_read_entry(st, look[i].lsn, &buf, &len), 0);
		assert_int_equal(hw_entry_decode(buf, len, &e), 0);
		free(buf);
		if (look[i].since_ms != e.time_ms)
			fprintf(stderr,
				"test_status: lsn %" PRIu64 " committed at %" PRId64
				", status said %" PRId64 " (lag %" PRId64 " ms)\n",
				look[i].lsn, e.time_ms, look[i].since_ms, look[i].lag_ms);
		assert_int_equal(look[i].since_ms, e.time_ms);
		int64_t age = look[i].time_ms - e.time_ms;
		assert_int_equal(look[i].lag_ms, age > 0 ? age : 0);
	}
	hw_store_close(st);
}

/* `hawser drill procedure --config <node i's config> --no-record [--connect addr]`
 * (exit 3, FAIL: the cluster has no backups), and its "standbys reachable" line into
 * line. */
static void procedure(struct fix *f, unsigned i, const char *addr, char *line, size_t cap)
{
	char ini[HW_PROC_PATH_MAX + 64];
	snprintf(ini, sizeof ini, "%s/%s.ini", hw_cluster_root(f->c), hw_cluster_node_id(f->c, i));
	int rc = addr ? hw_proc_capture(&f->cap, hw_test_bin(), "drill", "procedure", "--config",
					ini, "--no-record", "--connect", addr, NULL)
		      : hw_proc_capture(&f->cap, hw_test_bin(), "drill", "procedure", "--config",
					ini, "--no-record", NULL);
	assert_int_equal(rc, 3); /* no backup_dir, no offsite copy, drills never passed */
	const char *at = strstr(f->cap.out, "standbys reachable");
	assert_non_null(at);
	while (at > f->cap.out && at[-1] != '\n')
		at--;
	snprintf(line, cap, "%.*s", (int)strcspn(at, "\n"), at);
	fprintf(stderr, "test_status: %s (%s)\n", line, addr ? addr : "no --connect");
}

/* The line's verdict and what it must hold. */
static void expect_line(const char *line, const char *verdict, const char *what)
{
	assert_true(strncmp(line, verdict, strlen(verdict)) == 0);
	assert_non_null(strstr(line, what));
}

/* The procedure drill's "standbys reachable" check judges a failover cluster (p1, s1,
 * s2, witness) as it is, whichever node leads. Asked of the primary (its own config, or
 * a standby's config with --connect to it) every other node is its standby, and both are
 * connected; asked of a standby, it follows a connected primary. After a failover the old
 * primary's config asks the new primary (--connect), which misses the old one while it is
 * down and has both once it rejoined; that config alone asks it as the standby it is. */
static void test_procedure_standbys_of_the_leader(void **state)
{
	struct fix *f = *state;
	char line[1024], want[128];
	unsigned p, q;
	assert_int_equal(cluster(f, 2, &p), 0);
	unsigned sb = (p + 1) % 3;
	const char *pid = hw_cluster_node_id(f->c, p), *sid = hw_cluster_node_id(f->c, sb);
	snprintf(want, sizeof want, "2 standby(s) of primary %s connected", pid);
	procedure(f, p, NULL, line, sizeof line);
	expect_line(line, "  pass  standbys reachable", want);
	procedure(f, sb, hw_cluster_node_addr(f->c, p), line, sizeof line);
	expect_line(line, "  pass  standbys reachable", want);
	procedure(f, sb, NULL, line, sizeof line);
	snprintf(want, sizeof want, "node %s is a standby following primary %s (connected", sid,
		 pid);
	expect_line(line, "  pass  standbys reachable", want);

	assert_int_equal(hw_cluster_kill(f->c, p, SIGKILL), 0);
	assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &q), 0);
	const char *qid = hw_cluster_node_id(f->c, q);
	procedure(f, p, hw_cluster_node_addr(f->c, q), line, sizeof line);
	snprintf(want, sizeof want, "standby %s is not connected to primary %s", pid, qid);
	expect_line(line, "  fail  standbys reachable", want);
	assert_int_equal(hw_cluster_restart(f->c, p), 0);
	assert_int_equal(hw_cluster_wait_joined(f->c, p, SYNC_MS, NULL, 0), 0);
	procedure(f, p, hw_cluster_node_addr(f->c, q), line, sizeof line);
	snprintf(want, sizeof want, "2 standby(s) of primary %s connected", qid);
	expect_line(line, "  pass  standbys reachable", want);
	procedure(f, p, NULL, line, sizeof line);
	snprintf(want, sizeof want, "node %s is a standby following primary %s (connected", pid,
		 qid);
	expect_line(line, "  pass  standbys reachable", want);
}

/* Submit n records in mode durable with k (0: the node's) to the primary at addr, on a
 * thread (l), and look at its status until it holds all n for lack of standbys; the last
 * status (--json) stays in f->cap.out. */
static void hold_submits(struct fix *f, const char *addr, struct hw_load *l, unsigned n, unsigned k)
{
	*l = (struct hw_load){.addr = addr,
			      .count = n,
			      .window = n,
			      .mode = HW_DURABLE,
			      .k = k,
			      .wait_ms = 4 * SYNC_MS,
			      .seed = 7};
	assert_int_equal(hw_load_init(l), 0);
	assert_int_equal(hw_load_start(l), 0);
	bool held = false;
	for (int i = 0; i < WAIT_ROUNDS && !held; i++) {
		assert_int_equal(status(f, addr, NULL), 0);
		held = jtrue(f->cap.out, "acks_held", "held") &&
		       jint(f->cap.out, "acks_held", "submits") == n;
	}
	fprintf(stderr, "test_status: %s\n", f->cap.out);
	assert_true(held);
	assert_int_equal(hw_load_acked(l), 0);
}

/* Restart node i: every submit of l is acknowledged, and the status at addr (the primary)
 * holds none any more, in JSON and text. */
static void restart_unholds(struct fix *f, const char *addr, struct hw_load *l, unsigned i)
{
	assert_int_equal(hw_cluster_restart(f->c, i), 0);
	assert_true(hw_load_join(l, 4 * SYNC_MS));
	assert_int_equal(l->acked, l->count);
	hw_load_free(l);
	assert_int_equal(status(f, addr, NULL), 0);
	assert_false(jtrue(f->cap.out, "acks_held", "held"));
	assert_int_equal(jint(f->cap.out, "acks_held", "submits"), 0);
	assert_int_equal(status(f, addr, TEXT), 0);
	assert_null(strstr(f->cap.out, "ACKS HELD"));
}

/* Five voters (p1, three standbys, the witness) at rpo 0 need every submit durable on
 * k_min = 2 standbys. With two standbys stopped, submits of k 1 wait (raised to 2) with
 * one standby connected: the primary's status says acknowledgements are held, for how
 * many submits, for how many standbys and why (k_min for 5 voters), in JSON and text,
 * and logs "acks_held" once for all of them; a standby restarted ends the hold
 * ("acks_hold_ended"), every submit is acknowledged, and the status says none is held. */
static void test_acks_held_for_standbys(void **state)
{
	struct fix *f = *state;
	assert_int_equal(start(f,
			       (struct hw_cluster_opts){
				       .standbys = 3, .k = 2, .failover = true, .rto_ms = RTO_MS}),
			 0);
	unsigned p, gone[2], n_gone = 0;
	assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &p), 0);
	const char *addr = hw_cluster_node_addr(f->c, p), *plog = hw_cluster_log(f->c, p);
	for (unsigned i = 0; i < hw_cluster_nodes(f->c) && n_gone < 2; i++)
		if (i != p)
			gone[n_gone++] = i;
	assert_int_equal(status(f, addr, NULL), 0);
	assert_int_equal(jint(f->cap.out, "failover", "voters"), 5);
	assert_int_equal(jint(f->cap.out, "failover", "k_min"), 2);
	assert_false(jtrue(f->cap.out, "acks_held", "held"));
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(hw_cluster_kill(f->c, gone[i], SIGKILL), 0);
	struct hw_load l;
	hold_submits(f, addr, &l, HELD_RECORDS, 1);
	const char *o = f->cap.out;
	assert_int_equal(jint(o, "acks_held", "k"), 2);
	assert_int_equal(jint(o, "acks_held", "connected"), 1);
	assert_non_null(strstr(o, "\"mode\":\"durable\""));
	assert_non_null(strstr(o, "4 submits wait for mode durable on 2 standbys (k_min 2 for 5 "
				  "voters) but only 1 is connected"));
	assert_int_equal(log_count(plog, "event=acks_held "), 1); /* once, not per record */
	assert_int_equal(log_count(plog, "event=acks_hold_ended "), 0);
	assert_int_equal(status(f, addr, TEXT), 0);
	assert_non_null(strstr(f->cap.out, "mode durable, k 2, k_min 2 (5 voters)"));
	assert_non_null(strstr(f->cap.out, "ACKS HELD for "));
	assert_non_null(strstr(f->cap.out, "only 1 is connected: acknowledgements are held"));
	restart_unholds(f, addr, &l, gone[0]);
	assert_true(log_count(plog, "event=acks_hold_ended ") >= 1);
	assert_int_equal(log_count(plog, "event=acks_held "),
			 log_count(plog, "event=acks_hold_ended "));
}

/* Whatever makes k: without failover, a primary with two standbys and durability.k = 2,
 * one standby killed, holds a submit of the node's k, and its status says so, naming
 * durability.k; the standby restarted releases it. */
static void test_acks_held_durability_k(void **state)
{
	struct fix *f = *state;
	assert_int_equal(start(f, (struct hw_cluster_opts){.standbys = 2, .k = 2}), 0);
	const char *addr = hw_cluster_node_addr(f->c, 0);
	assert_int_equal(hw_cluster_kill(f->c, 2, SIGKILL), 0);
	struct hw_load l;
	hold_submits(f, addr, &l, 1, 0);
	assert_non_null(strstr(f->cap.out, "1 submit waits for mode durable on 2 standbys "
					   "(durability.k 2) but only 1 is connected"));
	assert_int_equal(jint(f->cap.out, "failover", "k_min"), 0);
	restart_unholds(f, addr, &l, 2);
}

/* The state of kind in the node's "drills" array. */
static const char *drill_state(const char *out, const char *kind, char *buf, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, "{\"kind\":\"%s\"", kind);
	const char *at = strstr(out, pat);
	assert_non_null(at);
	const char *s = jat(at, NULL, "state");
	assert_true(*s == '"');
	size_t n = strcspn(s + 1, "\"");
	assert_true(n < cap);
	memcpy(buf, s + 1, n);
	buf[n] = '\0';
	return buf;
}

/* A node whose [drills] schedule wants a verify every day reports it overdue (never
 * passed) in its own status; a verify drill against its live store clears it, and
 * --now judges that history again at a later time, saying it is a what-if; kinds with
 * no schedule say so; a node with static roles reports no targets. */
static void test_drills_overdue(void **state)
{
	struct fix *f = *state;
	char root[HW_PROC_PATH_MAX + 16], ini[HW_PROC_PATH_MAX + 32];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	struct hw_cluster_opts co = {
		.hawser_bin = hw_test_bin(), .root = root, .standbys = 1, .insecure = true};
	assert_int_equal(hw_cluster_start(&co, &f->c), 0);
	snprintf(ini, sizeof ini, "%s/p1.ini", root);
	FILE *fp = fopen(ini, "a");
	assert_non_null(fp);
	fprintf(fp, "\n[drills]\nverify = 1d\nrestore = 0\nfailover = 0\nprocedure = 0\n"
		    "restore_rto = 12h\n");
	fclose(fp);
	assert_int_equal(hw_cluster_restart(f->c, 0), 0);
	const char *addr = hw_cluster_node_addr(f->c, 0);
	char st[32];
	assert_int_equal(status(f, addr, NULL), 0);
	assert_string_equal(drill_state(f->cap.out, "verify", st, sizeof st), "never passed");
	assert_string_equal(drill_state(f->cap.out, "restore", st, sizeof st), "not scheduled");
	assert_non_null(strstr(f->cap.out, "\"drills_overdue\":\"verify\""));
	assert_int_equal(jint(f->cap.out, "targets", "restore_rto_ms"), 12 * 3600 * 1000);
	assert_false(jtrue(f->cap.out, "failover", "configured"));
	assert_non_null(strstr(f->cap.out, "no [failover] configured"));
	assert_int_equal(status(f, addr, TEXT), 0);
	assert_non_null(strstr(f->cap.out, "OVERDUE: never passed"));

	char reports[HW_PROC_PATH_MAX + 16];
	snprintf(reports, sizeof reports, "%s/reports", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "drill", "verify", "--dir",
					 hw_cluster_dir(f->c, 0), "--report-dir", reports, NULL),
			 0);
	assert_int_equal(status(f, addr, NULL), 0);
	assert_string_equal(drill_state(f->cap.out, "verify", st, sizeof st), "on time");
	assert_non_null(strstr(f->cap.out, "\"drills_overdue\":\"\""));
	assert_non_null(strstr(f->cap.out, "\"result\":\"PASS\""));
	assert_non_null(strstr(f->cap.out, "\"judged_at\":null"));
	/* --now judges the node's history again at that time, and says so */
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--insecure",
					 "--connect", addr, "--now", "2099-01-01T00:00:00Z",
					 "--json", NULL),
			 0);
	assert_string_equal(drill_state(f->cap.out, "verify", st, sizeof st), "overdue");
	assert_non_null(strstr(f->cap.out, "\"judged_at\":\"2099-01-01T00:00:00.000Z\""));
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--insecure",
					 "--connect", addr, "--now", "2099-01-01T00:00:00Z", NULL),
			 0);
	assert_non_null(strstr(f->cap.out, "drills (node p1), as of 2099-01-01T00:00:00.000Z "
					   "(--now: a what-if):\n"));
	assert_non_null(strstr(f->cap.out, "verify    last PASS"));
	assert_non_null(strstr(f->cap.out, "OVERDUE by "));
}

int main(void)
{
	if (hw_test_bin_or_skip("test_status") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failover_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minimal_rto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpo_t_needs_k_standbys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_witness_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_witness_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acks_held_for_standbys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_acks_held_durability_k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_joined_means_caught_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drills_overdue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lag_is_oldest_unapplied_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_procedure_standbys_of_the_leader, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
