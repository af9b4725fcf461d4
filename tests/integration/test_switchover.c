/* test_switchover.c: `hawser switchover` between real `hawser node` and `hawser witness`
 * processes on loopback (engine/core/election.h "Switchover"): a cluster of a primary,
 * two standbys and a witness, durable mode, k = 1, rpo = 0. Under a light load (one
 * submit at a time) the primary hands over to a standby: nothing acknowledged is lost,
 * the old primary follows the new one, and the pause (the old primary's last ack to
 * the new one's first, from the nodes' wall-clock log lines) is printed. A switchover
 * the primary must refuse (to the witness, or asked of a standby) changes nothing. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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
#include "base/log.h"
#include "chaos/proxy.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "tests/integration/proc.h"
#include "tests/integration/rig.h"
#include "wire.pb-c.h"

#define EVENT_WAIT_MS 10000
#define STOP_WAIT_MS  10000
#define LOAD_RECORDS  1500u
#define OUTCOME_MS    15000
#define FOLLOW_MS     15000
#define CLI_MS        20000

/* A one-at-a-time load through a client that knows every node: HW_EBUSY (submits
 * paused) resends, HW_ENOT_PRIMARY follows the primary; each record's final outcome is
 * kept with the wall time it arrived. */
struct sload {
	char addrs[HW_RIG_NODES * HW_RIG_ADDR_BYTES];
	struct hw_rig_recs r;
	uint64_t busy; /* HW_EBUSY answers seen */
	uint64_t follows;
	uint64_t acked;
	uint64_t n_done;
	int rc;
	pthread_mutex_t mu;
	pthread_t thread;
	bool running;
};

struct fix {
	struct hw_rig rig;
	char cli_log[HW_PROC_PATH_MAX + 16];
	struct sload load;
};

/* ---- the load --------------------------------------------------------------------- */

static int sload_init(struct sload *l, const char *addrs, uint64_t count)
{
	snprintf(l->addrs, sizeof l->addrs, "%s", addrs);
	pthread_mutex_init(&l->mu, NULL);
	return hw_rig_recs_init(&l->r, count, 11);
}

static void sload_free(struct sload *l)
{
	if (l->r.count > 0)
		pthread_mutex_destroy(&l->mu);
	hw_rig_recs_free(&l->r);
}

/* Submit record i until it has a final outcome (not paused, not a step-down). */
static int submit_one(struct sload *l, struct hw_client *c, uint64_t i)
{
	for (int tries = 0; tries < 100000; tries++) {
		int rc = hw_client_submit(c, i, l->r.rec[i], l->r.len[i], HW_DEFAULT, 0);
		struct hw_outcome o = {0};
		if (rc == 0)
			rc = hw_client_wait(c, OUTCOME_MS, &o);
		if (rc == 0 && o.code == HW_EBUSY) {
			pthread_mutex_lock(&l->mu);
			l->busy++;
			pthread_mutex_unlock(&l->mu);
			continue;
		}
		if (rc == 0 && o.code != HW_ENOT_PRIMARY) {
			pthread_mutex_lock(&l->mu);
			l->r.code[i] = o.code;
			l->r.lsn[i] = o.lsn;
			l->r.at_ms[i] = hw_wall_ms();
			l->acked += o.code == 0;
			l->r.done[i] = true;
			l->n_done++;
			pthread_mutex_unlock(&l->mu);
			return 0;
		}
		if (rc == -ETIMEDOUT || l->follows >= 8)
			return rc != 0 ? rc : o.code;
		l->follows++;
		rc = hw_client_reconnect(c, FOLLOW_MS);
		if (rc != 0)
			return rc;
	}
	return HW_EBUSY;
}

static void *sload_main(void *arg)
{
	struct sload *l = arg;
	struct hw_client *c = NULL;
	int rc = hw_client_connect(l->addrs, &c);
	for (uint64_t i = 0; rc == 0 && i < l->r.count; i++)
		rc = submit_one(l, c, i);
	hw_client_close(c);
	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

static uint64_t sload_acked(struct sload *l)
{
	pthread_mutex_lock(&l->mu);
	uint64_t n = l->acked;
	pthread_mutex_unlock(&l->mu);
	return n;
}

static void sload_join(struct sload *l)
{
	if (l->running) {
		pthread_join(l->thread, NULL);
		l->running = false;
	}
}

/* ---- the cluster ------------------------------------------------------------------ */

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_rig_init(&f->rig, "switchover") != 0)
		return -1;
	snprintf(f->cli_log, sizeof f->cli_log, "%s/cli.log", f->rig.root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	for (int i = 0; i < HW_RIG_VOTERS; i++)
		hw_proc_kill(&f->rig.proc[i]);
	sload_join(&f->load);
	sload_free(&f->load);
	int rc = hw_rig_free(&f->rig);
	free(f);
	return rc;
}

/* Submit one generated record (of seed) to p1 through a fresh client and wait up to
 * OUTCOME_MS for its outcome into *o: 0 or the client's error. */
static int submit_fresh(struct fix *f, uint64_t seed, struct hw_outcome *o)
{
	struct hw_rig_recs r = {0};
	struct hw_client *c = NULL;
	int rc = hw_rig_recs_init(&r, 1, seed);
	if (rc == 0)
		rc = hw_client_connect(f->rig.client[0], &c);
	if (rc == 0)
		rc = hw_client_submit(c, 0, r.rec[0], r.len[0], HW_DEFAULT, 0);
	if (rc == 0)
		rc = hw_client_wait(c, OUTCOME_MS, o);
	hw_client_close(c);
	hw_rig_recs_free(&r);
	return rc;
}

static void start_load(struct fix *f, uint64_t count)
{
	char addrs[HW_RIG_NODES * HW_RIG_ADDR_BYTES];
	snprintf(addrs, sizeof addrs, "%s,%s,%s", f->rig.client[0], f->rig.client[1],
		 f->rig.client[2]);
	assert_int_equal(sload_init(&f->load, addrs, count), 0);
	assert_int_equal(pthread_create(&f->load.thread, NULL, sload_main, &f->load), 0);
	f->load.running = true;
}

/* Wait (pausing on p1's log pipe, never sleeping) until the load acked n. */
static bool wait_acked(struct fix *f, uint64_t n, int timeout_ms)
{
	int64_t end = hw_wall_ms() + timeout_ms;
	while (sload_acked(&f->load) < n) {
		if (hw_wall_ms() > end)
			return false;
		hw_proc_pump(&f->rig.proc[0], 20);
	}
	return true;
}

/* Node i's status: role (wire.proto Role), epoch, durable and last LSN. */
static int status_of(struct fix *f, int i, int *role, uint64_t *epoch, uint64_t *durable)
{
	struct hw_client *c;
	int rc = hw_client_connect(f->rig.client[i], &c);
	if (rc != 0)
		return rc;
	uint8_t *body;
	size_t len;
	rc = hw_client_status(c, 5000, &body, &len);
	hw_client_close(c);
	if (rc != 0)
		return rc;
	Hawser__Wire__V1__Status *s = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	if (s == NULL)
		return HW_EPROTOCOL;
	*role = (int)s->role;
	*epoch = s->epoch;
	*durable = s->role == HAWSER__WIRE__V1__ROLE__PRIMARY ? s->last_lsn : s->durable_lsn;
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return 0;
}

/* Every record has its meant outcome, and every success is in store dir's log at its
 * LSN with the same bytes. Returns how many were acknowledged. */
static uint64_t check_outcomes_in(struct sload *l, const char *dir)
{
	uint64_t acked;
	char why[256] = "";
	if (hw_rig_recs_check(&l->r, dir, &acked, why, sizeof why) != 0)
		fail_msg("%s", why);
	return acked;
}

/* The largest gap between two consecutive successes the client saw. */
static int64_t client_gap(const struct sload *l)
{
	int64_t prev = 0, gap = 0;
	for (uint64_t i = 0; i < l->r.count; i++) {
		if (l->r.code[i] != 0)
			continue;
		if (prev != 0 && l->r.at_ms[i] - prev > gap)
			gap = l->r.at_ms[i] - prev;
		prev = l->r.at_ms[i];
	}
	return gap;
}

/* ---- tests ------------------------------------------------------------------------ */

/* Under a one-at-a-time load the primary hands over to s1: s1 becomes primary in the
 * next epoch, p1 steps down for the switchover and follows s1, the CLI reports it, every
 * acknowledged record is on s1 with the same bytes, and p1 ends with s1's log. */
static void test_switchover_no_loss(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw_rig_start_all(&f->rig, EVENT_WAIT_MS), 0);
	start_load(f, LOAD_RECORDS);
	assert_true(wait_acked(f, 300, EVENT_WAIT_MS));
	size_t m0 = hw_proc_mark(&f->rig.proc[0]), m1 = hw_proc_mark(&f->rig.proc[1]);
	char out[1024] = "";
	const char *args[] = {"switchover", "--connect", f->rig.client[0], "--insecure", "--to",
			      "s1",         NULL};
	int code = hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, args);
	fprintf(stderr, "test_switchover: cli: %s", out);
	assert_int_equal(code, 0);
	assert_non_null(strstr(out, "switchover to s1 done"));
	char down[1024], up[1024], first[1024], follow[1024];
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m0, "event=stepped_down",
				      "reason=switchover", EVENT_WAIT_MS, down, sizeof down));
	assert_true(hw_proc_wait_line(&f->rig.proc[1], &m1, "event=became_primary", "epoch=2",
				      EVENT_WAIT_MS, up, sizeof up));
	assert_true(hw_proc_wait_line(&f->rig.proc[1], &m1, "event=first_ack", "epoch=2",
				      EVENT_WAIT_MS, first, sizeof first));
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m0, "event=following_primary", "primary=s1",
				      EVENT_WAIT_MS, follow, sizeof follow));
	sload_join(&f->load);
	struct sload *l = &f->load;
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->n_done, l->r.count);
	long long last_old = hw_log_field(down, "last_ack_wall_ms", -1),
		  first_new = hw_log_field(first, "wall_ms", -1);
	assert_true(last_old > 0 && first_new >= last_old);
	fprintf(stderr,
		"test_switchover: pause %lld ms (p1's last ack -> s1's first ack); largest gap "
		"between acks the client saw %lld ms; %" PRIu64 " busy answers, %" PRIu64
		" follows\n",
		first_new - last_old, (long long)client_gap(l), l->busy, l->follows);
	/* p1, now a standby of s1, catches up with s1's log */
	int role = 0;
	uint64_t epoch = 0, head = 0, got = 0;
	assert_int_equal(status_of(f, 1, &role, &epoch, &head), 0);
	assert_int_equal(role, HAWSER__WIRE__V1__ROLE__PRIMARY);
	assert_int_equal(epoch, 2);
	int64_t end = hw_wall_ms() + EVENT_WAIT_MS;
	while (got < head && hw_wall_ms() < end) {
		assert_int_equal(status_of(f, 0, &role, &epoch, &got), 0);
		assert_int_equal(role, HAWSER__WIRE__V1__ROLE__STANDBY);
		hw_proc_pump(&f->rig.proc[0], 20);
	}
	assert_true(got >= head);
	hw_rig_stop_all(&f->rig, STOP_WAIT_MS);
	assert_true(check_outcomes_in(l, f->rig.dir[1]) > 300);
	char why[256] = "";
	if (hw_tstore_compare(f->rig.dir[0], f->rig.dir[1], NULL, why, sizeof why) != 0)
		fail_msg("p1 and s1 differ after the switchover: %s", why);
}

/* A switchover to the witness, one asked of a standby, one to an unknown id and one to a
 * standby that is down (it could never catch up) are refused with exit 1 and the reason,
 * before submits are paused; the primary stays primary in epoch 1. */
static void test_switchover_refused(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw_rig_start_all(&f->rig, EVENT_WAIT_MS), 0);
	char out[1024];
	const char *to_witness[] = {
		"switchover", "--connect", f->rig.client[0], "--insecure", "--to", "w1", NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, to_witness), 1);
	const char *unknown[] = {"switchover", "--connect", f->rig.client[0], "--insecure", "--to",
				 "zz",         NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, unknown), 1);
	const char *at_standby[] = {
		"switchover", "--connect", f->rig.client[1], "--insecure", "--to", "s2", NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, at_standby), 1);
	const char *no_to[] = {"switchover", "--connect", f->rig.client[0], "--insecure", NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, no_to), 2);
	size_t lost = 0; /* s2 follows p1 first (it may still be connecting), then dies */
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &lost, "event=peer_connected", "peer=s2",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_signal(&f->rig.proc[2], SIGKILL), 0);
	hw_proc_reap(&f->rig.proc[2], STOP_WAIT_MS);
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &lost, "event=peer_lost", "peer=s2",
				      EVENT_WAIT_MS, NULL, 0));
	const char *to_down[] = {"switchover", "--connect", f->rig.client[0], "--insecure", "--to",
				 "s2",         NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, to_down), 1);
	size_t m = 0;
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m, "event=switchover_requested", "to=w1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m, "event=switchover_requested",
				      "code=HW_ECONFIG", EVENT_WAIT_MS, NULL, 0));
	char busy[1024];
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m, "event=switchover_requested",
				      "code=HW_EBUSY", EVENT_WAIT_MS, busy, sizeof busy));
	assert_non_null(strstr(busy, "not connected"));
	size_t m1 = 0;
	assert_true(hw_proc_wait_line(&f->rig.proc[1], &m1, "event=switchover_requested",
				      "code=HW_ENOT_PRIMARY", EVENT_WAIT_MS, NULL, 0));
	int role = 0;
	uint64_t epoch = 0, head = 0;
	assert_int_equal(status_of(f, 0, &role, &epoch, &head), 0);
	assert_int_equal(role, HAWSER__WIRE__V1__ROLE__PRIMARY);
	assert_int_equal(epoch, 1);
	/* a refusal left submits running: one is answered, not held by a pause */
	struct hw_outcome o = {0};
	assert_int_equal(submit_fresh(f, 29, &o), 0);
	assert_string_equal(hw_errname(o.code), "OK");
	/* stopped, p1's whole log is read (to EOF): no pause in it */
	hw_rig_stop_all(&f->rig, STOP_WAIT_MS);
	size_t m0 = 0;
	assert_false(
		hw_proc_wait_line(&f->rig.proc[0], &m0, "event=submits_paused", NULL, 0, NULL, 0));
}

/* A submit sent while a switchover pauses submits is not answered HW_EBUSY (an outcome
 * hawser.h does not give a client): its session waits, and when the switchover ends
 * without a hand-over (s1, stopped, never catches up) the primary answers it as usual. */
static void test_switchover_pause_holds_submits(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw_rig_start_all(&f->rig, EVENT_WAIT_MS), 0);
	size_t m = 0;
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m, "event=peer_connected", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_signal(&f->rig.proc[1], SIGSTOP), 0);
	struct hw_proc cli = {0};
	const char *to_s1[] = {"switchover", "--connect", f->rig.client[0], "--insecure", "--to",
			       "s1",         NULL};
	assert_int_equal(hw_proc_start(&cli, f->cli_log, to_s1), 0);
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m, "event=submits_paused", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	struct hw_outcome o = {0};
	int rc = submit_fresh(f, 23, &o);
	assert_int_equal(hw_proc_signal(&f->rig.proc[1], SIGCONT), 0);
	hw_proc_reap(&cli, CLI_MS);
	hw_proc_kill(&cli);
	assert_int_equal(rc, 0);
	assert_string_equal(hw_errname(o.code), "OK");
	assert_true(o.lsn > 0);
	assert_true(hw_proc_wait_line(&f->rig.proc[0], &m, "event=submits_resumed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
}

/* promote --accept-loss while the primary runs: without --yes it lists the loss and does
 * nothing (exit 1, no forced election); with --yes the standby, bound by the primary's
 * lease, refuses (HW_EBUSY); the primary stays primary in epoch 1. */
static void test_promote_needs_yes(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw_rig_start_all(&f->rig, EVENT_WAIT_MS), 0);
	start_load(f, 200);
	sload_join(&f->load);
	assert_int_equal(f->load.rc, 0);
	char out[1024] = "";
	const char *list[] = {"promote",    "--connect",     f->rig.client[1],
			      "--insecure", "--accept-loss", NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, list), 1);
	fprintf(stderr, "test_switchover: promote without --yes: %s", out);
	assert_non_null(strstr(out, "not promoted: run again with --yes"));
	const char *no_flag[] = {"promote",    "--connect", f->rig.client[1],
				 "--insecure", "--yes",     NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, no_flag), 2);
	size_t m1 = 0;
	assert_true(hw_proc_wait_line(&f->rig.proc[1], &m1, "event=loss_listed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	const char *yes[] = {"promote",    "--connect",     f->rig.client[1],
			     "--insecure", "--accept-loss", "--yes",
			     NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, yes), 1);
	m1 = 0;
	assert_true(hw_proc_wait_line(&f->rig.proc[1], &m1, "event=forced_promote", "code=HW_EBUSY",
				      EVENT_WAIT_MS, NULL, 0));
	int role = 0;
	uint64_t epoch = 0, head = 0;
	assert_int_equal(status_of(f, 0, &role, &epoch, &head), 0);
	assert_int_equal(role, HAWSER__WIRE__V1__ROLE__PRIMARY);
	assert_int_equal(epoch, 1);
	/* stopped, s1's whole log is read (to EOF): the --yes run was its only forced
	 * election, none came of the run without --yes */
	hw_rig_stop_all(&f->rig, STOP_WAIT_MS);
	m1 = 0;
	char first[1024];
	assert_true(hw_proc_wait_line(&f->rig.proc[1], &m1, "event=forced_promote", NULL, 0, first,
				      sizeof first));
	assert_non_null(strstr(first, "code=HW_EBUSY"));
	assert_false(
		hw_proc_wait_line(&f->rig.proc[1], &m1, "event=forced_promote", NULL, 0, NULL, 0));
}

/* s2 is cut off from the primary's stream and falls behind; p1 and s1 die, the witness
 * refuses s2 (not_in_sync). promote lists exactly the LSNs s2 lacks (its durable + 1 ..
 * the committed LSN the witness knows); with --yes s2 starts a forced election and the
 * witness grants it (the accepted range covers the loss). With two of four voters left
 * it still cannot win: a forced promotion needs a majority like any election. */
static void test_promote_accepting_loss(void **state)
{
	struct fix *f = *state;
	struct hw_proxy *s2_to_p1 = hw_rig_route(&f->rig, 2, 0);
	assert_non_null(s2_to_p1);
	assert_int_equal(hw_rig_start_all(&f->rig, EVENT_WAIT_MS), 0);
	start_load(f, 1000);
	assert_true(wait_acked(f, 100, EVENT_WAIT_MS));
	hw_proxy_blackhole(s2_to_p1);
	sload_join(&f->load);
	assert_int_equal(f->load.rc, 0);
	/* The witness learns the committed LSN from the primary's lease rounds (every renew
	 * interval): list the loss (p1 still alive) until it reaches the last acknowledged
	 * LSN, so the witness knows everything committed before p1 dies. */
	uint64_t last = 0;
	for (uint64_t i = 0; i < f->load.r.count; i++)
		if (f->load.r.code[i] == 0 && f->load.r.lsn[i] > last)
			last = f->load.r.lsn[i];
	char out[1024] = "", want[128];
	snprintf(want, sizeof want, "..%" PRIu64 " (", last);
	const char *list[] = {"promote",    "--connect",     f->rig.client[2],
			      "--insecure", "--accept-loss", NULL};
	bool known = false;
	for (int i = 0; i < 100 && !known; i++) {
		assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, list), 1);
		known = strstr(out, want) != NULL;
		if (!known)
			hw_proc_pump(&f->rig.proc[2], 50);
	}
	assert_true(known);
	size_t m2 = hw_proc_mark(&f->rig.proc[2]);
	assert_int_equal(hw_proc_signal(&f->rig.proc[0], SIGKILL), 0);
	assert_int_equal(hw_proc_signal(&f->rig.proc[1], SIGKILL), 0);
	hw_proc_reap(&f->rig.proc[0], STOP_WAIT_MS);
	hw_proc_reap(&f->rig.proc[1], STOP_WAIT_MS);
	char refused[1024];
	assert_true(hw_proc_wait_line(&f->rig.proc[2], &m2, "event=vote_refused",
				      "reason=not_in_sync", EVENT_WAIT_MS, refused,
				      sizeof refused));
	long long committed = hw_log_field(refused, "committed_lsn", -1),
		  ours = hw_log_field(refused, "our_durable_lsn", -1);
	assert_int_equal(committed, (long long)last);
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, list), 1);
	fprintf(stderr, "test_switchover: behind standby, listing: %s", out);
	snprintf(want, sizeof want, "would lose LSNs %lld..%lld ", ours + 1, committed);
	assert_non_null(strstr(out, want));
	const char *yes[] = {"promote",    "--connect",     f->rig.client[2],
			     "--insecure", "--accept-loss", "--yes",
			     NULL};
	size_t mw = hw_proc_mark(&f->rig.proc[3]);
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, yes), 0);
	assert_non_null(strstr(out, "forced election started"));
	assert_true(hw_proc_wait_line(&f->rig.proc[2], &m2, "event=election_started", "kind=2",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->rig.proc[3], &mw, "event=vote_granted",
				      "candidate=s2 epoch=", EVENT_WAIT_MS, NULL, 0));
	assert_false(hw_proc_wait_line(&f->rig.proc[2], &m2, "event=became_primary", NULL,
				       HW_RIG_RTO_MS, NULL, 0));
}

int main(void)
{
	if (hw_test_bin_or_skip("test_switchover") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_switchover_no_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switchover_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switchover_pause_holds_submits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_promote_needs_yes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promote_accepting_loss, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
