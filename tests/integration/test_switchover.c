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
#include <time.h>

#include <cmocka.h>

#include "bench/workload.h"
#include "chaos/proxy.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

#define NODES         3 /* p1, s1, s2; the witness is voter 3 */
#define VOTERS        4
#define EVENT_WAIT_MS 10000
#define STOP_WAIT_MS  10000
#define RTO_MS        2000
#define LOAD_RECORDS  1500u
#define OUTCOME_MS    15000
#define FOLLOW_MS     15000
#define CLI_MS        20000

static const char *const ids[VOTERS] = {"p1", "s1", "s2", "w1"};

/* A one-at-a-time load through a client that knows every node: HW_EBUSY (submits
 * paused) resends, HW_ENOT_PRIMARY follows the primary; each record's final outcome is
 * kept with the wall time it arrived. */
struct sload {
	char addrs[NODES * 32];
	uint64_t count;
	uint8_t **rec;
	size_t *len;
	int *expect;
	int *code;
	uint64_t *lsn;
	int64_t *at_ms;
	uint64_t busy; /* HW_EBUSY answers seen */
	uint64_t follows;
	uint64_t acked;
	uint64_t done;
	int rc;
	pthread_mutex_t mu;
	pthread_t thread;
	bool running;
};

struct fix {
	char root[HW_PROC_PATH_MAX];
	char listen[VOTERS][32];
	char client[NODES][32];
	char ini[VOTERS][HW_PROC_PATH_MAX + 16];
	char log[VOTERS][HW_PROC_PATH_MAX + 16];
	char dir[VOTERS][HW_PROC_PATH_MAX + 16];
	char cli_log[HW_PROC_PATH_MAX + 16];
	/* view[i][j]: voter j's address as voter i's config names it (direct or a proxy) */
	char view[VOTERS][VOTERS][32];
	struct hw_proxy *proxy;
	struct hw_proc proc[VOTERS];
	struct sload load;
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the load --------------------------------------------------------------------- */

static int sload_init(struct sload *l, const char *addrs, uint64_t count)
{
	snprintf(l->addrs, sizeof l->addrs, "%s", addrs);
	l->count = count;
	l->rec = calloc(count, sizeof *l->rec);
	l->len = calloc(count, sizeof *l->len);
	l->expect = calloc(count, sizeof *l->expect);
	l->code = calloc(count, sizeof *l->code);
	l->lsn = calloc(count, sizeof *l->lsn);
	l->at_ms = calloc(count, sizeof *l->at_ms);
	pthread_mutex_init(&l->mu, NULL);
	if (!l->rec || !l->len || !l->expect || !l->code || !l->lsn || !l->at_ms)
		return HW_ENOMEM;
	struct hw_workload_opts wo = {.seed = 11, .count = count, .end_ms = wall_ms()};
	struct hw_workload *w;
	int rc = hw_workload_new(&wo, &w);
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	for (uint64_t i = 0; rc == 0 && i < count; i++) {
		struct hw_work_item it;
		rc = hw_workload_next(w, buf, sizeof buf, &it);
		l->rec[i] = rc == 0 ? malloc(it.len) : NULL;
		if (rc == 0 && l->rec[i] == NULL)
			rc = HW_ENOMEM;
		if (rc == 0) {
			memcpy(l->rec[i], buf, it.len);
			l->len[i] = it.len;
			l->expect[i] = it.expect;
		}
	}
	if (rc == 0)
		hw_workload_free(w);
	return rc;
}

static void sload_free(struct sload *l)
{
	for (uint64_t i = 0; l->rec != NULL && i < l->count; i++)
		free(l->rec[i]);
	free(l->rec);
	free(l->len);
	free(l->expect);
	free(l->code);
	free(l->lsn);
	free(l->at_ms);
	if (l->count > 0)
		pthread_mutex_destroy(&l->mu);
}

/* Submit record i until it has a final outcome (not paused, not a step-down). */
static int submit_one(struct sload *l, struct hw_client *c, uint64_t i)
{
	for (int tries = 0; tries < 100000; tries++) {
		int rc = hw_client_submit(c, i, l->rec[i], l->len[i], HW_DEFAULT, 0);
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
			l->code[i] = o.code;
			l->lsn[i] = o.lsn;
			l->at_ms[i] = wall_ms();
			l->acked += o.code == 0;
			l->done++;
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
	for (uint64_t i = 0; rc == 0 && i < l->count; i++)
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
	if (f == NULL || hw_test_mkdtemp("switchover", f->root, sizeof f->root) != 0)
		return -1;
	for (int i = 0; i < VOTERS; i++) {
		f->proc[i].err_fd = f->proc[i].log_fd = -1;
		uint16_t port;
		if (hw_free_port(&port) != 0)
			return -1;
		snprintf(f->listen[i], sizeof f->listen[i], "127.0.0.1:%u", (unsigned)port);
		if (i < NODES) {
			if (hw_free_port(&port) != 0)
				return -1;
			snprintf(f->client[i], sizeof f->client[i], "127.0.0.1:%u", (unsigned)port);
		}
		snprintf(f->ini[i], sizeof f->ini[i], "%s/%s.ini", f->root, ids[i]);
		snprintf(f->log[i], sizeof f->log[i], "%s/%s.log", f->root, ids[i]);
		snprintf(f->dir[i], sizeof f->dir[i], "%s/%s", f->root, ids[i]);
		for (int j = 0; j < VOTERS; j++)
			snprintf(f->view[j][i], sizeof f->view[j][i], "%s", f->listen[i]);
	}
	snprintf(f->cli_log, sizeof f->cli_log, "%s/cli.log", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	for (int i = 0; i < VOTERS; i++)
		hw_proc_kill(&f->proc[i]);
	sload_join(&f->load);
	sload_free(&f->load);
	if (f->proxy != NULL)
		hw_proxy_free(f->proxy);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

static void write_config(struct fix *f, int i)
{
	FILE *fp = fopen(f->ini[i], "w");
	assert_non_null(fp);
	fprintf(fp,
		"[cluster]\nid = itest\n[node]\nid = %s\nrole = %s\ndata_dir = %s\n"
		"listen = %s\n",
		ids[i],
		i == 0      ? "primary"
		: i < NODES ? "standby"
			    : "witness",
		f->dir[i], f->listen[i]);
	if (i < NODES)
		fprintf(fp, "client = %s\n[durability]\nmode = durable\nk = 1\n", f->client[i]);
	fprintf(fp,
		"[failover]\nvoters = p1@%s, s1@%s, s2@%s\nwitness = %s\nwitness_id = w1\n"
		"rto = %dms\nrpo = 0\n[security]\ninsecure = true\n",
		f->view[i][0], f->view[i][1], f->view[i][2], f->view[i][3], RTO_MS);
	fclose(fp);
}

/* Witness, then the nodes; p1 (configured primary) wins the first election. */
static void start_cluster(struct fix *f)
{
	for (int i = VOTERS - 1; i >= 0; i--) {
		write_config(f, i);
		const char *args[] = {i < NODES ? "node" : "witness", "--config", f->ini[i], NULL};
		assert_int_equal(hw_proc_start(&f->proc[i], f->log[i], args), 0);
		size_t from = 0;
		assert_true(hw_proc_wait_line(&f->proc[i], &from, "event=started", NULL,
					      EVENT_WAIT_MS, NULL, 0));
	}
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->proc[0], &from, "event=became_primary", "epoch=1",
				      EVENT_WAIT_MS, NULL, 0));
}

static void start_load(struct fix *f, uint64_t count)
{
	char addrs[NODES * 32];
	snprintf(addrs, sizeof addrs, "%s,%s,%s", f->client[0], f->client[1], f->client[2]);
	assert_int_equal(sload_init(&f->load, addrs, count), 0);
	assert_int_equal(pthread_create(&f->load.thread, NULL, sload_main, &f->load), 0);
	f->load.running = true;
}

/* Wait (pausing on p1's log pipe, never sleeping) until the load acked n. */
static bool wait_acked(struct fix *f, uint64_t n, int timeout_ms)
{
	int64_t end = wall_ms() + timeout_ms;
	while (sload_acked(&f->load) < n) {
		if (wall_ms() > end)
			return false;
		hw_proc_pump(&f->proc[0], 20);
	}
	return true;
}

static long long field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p != NULL ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Node i's status: role (wire.proto Role), epoch, durable and last LSN. */
static int status_of(struct fix *f, int i, int *role, uint64_t *epoch, uint64_t *durable)
{
	struct hw_client *c;
	int rc = hw_client_connect(f->client[i], &c);
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
	struct hw_store *s;
	struct hw_store_opts o = {.read_only = true};
	assert_int_equal(hw_store_open(dir, &o, &s), 0);
	uint64_t acked = 0;
	for (uint64_t i = 0; i < l->count; i++) {
		if (l->code[i] != l->expect[i])
			fail_msg("record %" PRIu64 ": code %s expected %s", i,
				 hw_errname(l->code[i]), hw_errname(l->expect[i]));
		if (l->code[i] != 0)
			continue;
		acked++;
		uint8_t *e;
		size_t len;
		if (hw_store_read_entry(s, l->lsn[i], &e, &len) != 0)
			fail_msg("acknowledged record %" PRIu64 " (lsn %" PRIu64 ") is lost", i,
				 l->lsn[i]);
		bool same = len == HW_ENTRY_HEADER_BYTES + l->len[i] &&
			    memcmp(e + HW_ENTRY_HEADER_BYTES, l->rec[i], l->len[i]) == 0;
		free(e);
		if (!same)
			fail_msg("lsn %" PRIu64 " holds other bytes than record %" PRIu64,
				 l->lsn[i], i);
	}
	hw_store_close(s);
	return acked;
}

static void stop_all(struct fix *f)
{
	for (int i = 0; i < VOTERS; i++)
		if (f->proc[i].pid > 0)
			hw_proc_stop(&f->proc[i], STOP_WAIT_MS);
}

/* The largest gap between two consecutive successes the client saw. */
static int64_t client_gap(const struct sload *l)
{
	int64_t prev = 0, gap = 0;
	for (uint64_t i = 0; i < l->count; i++) {
		if (l->code[i] != 0)
			continue;
		if (prev != 0 && l->at_ms[i] - prev > gap)
			gap = l->at_ms[i] - prev;
		prev = l->at_ms[i];
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
	start_cluster(f);
	start_load(f, LOAD_RECORDS);
	assert_true(wait_acked(f, 300, EVENT_WAIT_MS));
	size_t m0 = hw_proc_mark(&f->proc[0]), m1 = hw_proc_mark(&f->proc[1]);
	char out[1024] = "";
	const char *args[] = {"switchover", "--connect", f->client[0], "--insecure",
			      "--to",       "s1",        NULL};
	int code = hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, args);
	fprintf(stderr, "test_switchover: cli: %s", out);
	assert_int_equal(code, 0);
	assert_non_null(strstr(out, "switchover to s1 done"));
	char down[1024], up[1024], first[1024], follow[1024];
	assert_true(hw_proc_wait_line(&f->proc[0], &m0, "event=stepped_down", "reason=switchover",
				      EVENT_WAIT_MS, down, sizeof down));
	assert_true(hw_proc_wait_line(&f->proc[1], &m1, "event=became_primary", "epoch=2",
				      EVENT_WAIT_MS, up, sizeof up));
	assert_true(hw_proc_wait_line(&f->proc[1], &m1, "event=first_ack", "epoch=2", EVENT_WAIT_MS,
				      first, sizeof first));
	assert_true(hw_proc_wait_line(&f->proc[0], &m0, "event=following_primary", "primary=s1",
				      EVENT_WAIT_MS, follow, sizeof follow));
	sload_join(&f->load);
	struct sload *l = &f->load;
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->done, l->count);
	long long last_old = field(down, "last_ack_wall_ms="), first_new = field(first, "wall_ms=");
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
	int64_t end = wall_ms() + EVENT_WAIT_MS;
	while (got < head && wall_ms() < end) {
		assert_int_equal(status_of(f, 0, &role, &epoch, &got), 0);
		assert_int_equal(role, HAWSER__WIRE__V1__ROLE__STANDBY);
		hw_proc_pump(&f->proc[0], 20);
	}
	assert_true(got >= head);
	stop_all(f);
	assert_true(check_outcomes_in(l, f->dir[1]) > 300);
	char why[256] = "";
	if (hw_tstore_compare(f->dir[0], f->dir[1], NULL, why, sizeof why) != 0)
		fail_msg("p1 and s1 differ after the switchover: %s", why);
}

/* A switchover to the witness, one asked of a standby, and one to an unknown id are
 * refused with exit 1 and the reason; the primary stays primary in epoch 1. */
static void test_switchover_refused(void **state)
{
	struct fix *f = *state;
	start_cluster(f);
	char out[1024];
	const char *to_witness[] = {"switchover", "--connect", f->client[0], "--insecure",
				    "--to",       "w1",        NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, to_witness), 1);
	const char *unknown[] = {"switchover", "--connect", f->client[0], "--insecure",
				 "--to",       "zz",        NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, unknown), 1);
	const char *at_standby[] = {"switchover", "--connect", f->client[1], "--insecure",
				    "--to",       "s2",        NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, at_standby), 1);
	const char *no_to[] = {"switchover", "--connect", f->client[0], "--insecure", NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, no_to), 2);
	size_t m = 0;
	assert_true(hw_proc_wait_line(&f->proc[0], &m, "event=switchover_requested", "to=w1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->proc[0], &m, "event=switchover_requested",
				      "code=HW_ECONFIG", EVENT_WAIT_MS, NULL, 0));
	size_t m1 = 0;
	assert_true(hw_proc_wait_line(&f->proc[1], &m1, "event=switchover_requested",
				      "code=HW_ENOT_PRIMARY", EVENT_WAIT_MS, NULL, 0));
	int role = 0;
	uint64_t epoch = 0, head = 0;
	assert_int_equal(status_of(f, 0, &role, &epoch, &head), 0);
	assert_int_equal(role, HAWSER__WIRE__V1__ROLE__PRIMARY);
	assert_int_equal(epoch, 1);
	size_t m0 = hw_proc_mark(&f->proc[0]);
	assert_false(hw_proc_wait_line(&f->proc[0], &m0, "event=submits_paused", NULL, 0, NULL, 0));
	m0 = 0;
	assert_false(hw_proc_wait_line(&f->proc[0], &m0, "event=submits_paused", NULL, 0, NULL, 0));
}

/* promote --accept-loss while the primary runs: without --yes it lists the loss and does
 * nothing (exit 1, no forced election); with --yes the standby, bound by the primary's
 * lease, refuses (HW_EBUSY); the primary stays primary in epoch 1. */
static void test_promote_needs_yes(void **state)
{
	struct fix *f = *state;
	start_cluster(f);
	start_load(f, 200);
	sload_join(&f->load);
	assert_int_equal(f->load.rc, 0);
	char out[1024] = "";
	const char *list[] = {"promote",    "--connect",     f->client[1],
			      "--insecure", "--accept-loss", NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, list), 1);
	fprintf(stderr, "test_switchover: promote without --yes: %s", out);
	assert_non_null(strstr(out, "not promoted: run again with --yes"));
	const char *no_flag[] = {"promote", "--connect", f->client[1], "--insecure", "--yes", NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, no_flag), 2);
	size_t m1 = 0;
	assert_true(hw_proc_wait_line(&f->proc[1], &m1, "event=loss_listed", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	m1 = 0;
	assert_false(hw_proc_wait_line(&f->proc[1], &m1, "event=forced_promote", NULL, 0, NULL, 0));
	const char *yes[] = {"promote",       "--connect", f->client[1], "--insecure",
			     "--accept-loss", "--yes",     NULL};
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, yes), 1);
	m1 = 0;
	assert_true(hw_proc_wait_line(&f->proc[1], &m1, "event=forced_promote", "code=HW_EBUSY",
				      EVENT_WAIT_MS, NULL, 0));
	int role = 0;
	uint64_t epoch = 0, head = 0;
	assert_int_equal(status_of(f, 0, &role, &epoch, &head), 0);
	assert_int_equal(role, HAWSER__WIRE__V1__ROLE__PRIMARY);
	assert_int_equal(epoch, 1);
}

/* s2 is cut off from the primary's stream and falls behind; p1 and s1 die, the witness
 * refuses s2 (not_in_sync). promote lists exactly the LSNs s2 lacks (its durable + 1 ..
 * the committed LSN the witness knows); with --yes s2 starts a forced election and the
 * witness grants it (the accepted range covers the loss). With two of four voters left
 * it still cannot win: a forced promotion needs a majority like any election. */
static void test_promote_accepting_loss(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw_proxy_new("127.0.0.1:0", f->listen[0], &f->proxy), 0);
	assert_int_equal(hw_proxy_start(f->proxy), 0);
	snprintf(f->view[2][0], sizeof f->view[2][0], "%s", hw_proxy_addr(f->proxy));
	start_cluster(f);
	start_load(f, 1000);
	assert_true(wait_acked(f, 100, EVENT_WAIT_MS));
	hw_proxy_blackhole(f->proxy);
	sload_join(&f->load);
	assert_int_equal(f->load.rc, 0);
	/* The witness learns the committed LSN from the primary's lease rounds (every renew
	 * interval): list the loss (p1 still alive) until it reaches the last acknowledged
	 * LSN, so the witness knows everything committed before p1 dies. */
	uint64_t last = 0;
	for (uint64_t i = 0; i < f->load.count; i++)
		if (f->load.code[i] == 0 && f->load.lsn[i] > last)
			last = f->load.lsn[i];
	char out[1024] = "", want[128];
	snprintf(want, sizeof want, "..%" PRIu64 " (", last);
	const char *list[] = {"promote",    "--connect",     f->client[2],
			      "--insecure", "--accept-loss", NULL};
	bool known = false;
	for (int i = 0; i < 100 && !known; i++) {
		assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, list), 1);
		known = strstr(out, want) != NULL;
		if (!known)
			hw_proc_pump(&f->proc[2], 50);
	}
	assert_true(known);
	size_t m2 = hw_proc_mark(&f->proc[2]);
	assert_int_equal(hw_proc_signal(&f->proc[0], SIGKILL), 0);
	assert_int_equal(hw_proc_signal(&f->proc[1], SIGKILL), 0);
	hw_proc_reap(&f->proc[0], STOP_WAIT_MS);
	hw_proc_reap(&f->proc[1], STOP_WAIT_MS);
	char refused[1024];
	assert_true(hw_proc_wait_line(&f->proc[2], &m2, "event=vote_refused", "reason=not_in_sync",
				      EVENT_WAIT_MS, refused, sizeof refused));
	long long committed = field(refused, "committed_lsn="),
		  ours = field(refused, "our_durable_lsn=");
	assert_int_equal(committed, (long long)last);
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, list), 1);
	fprintf(stderr, "test_switchover: behind standby, listing: %s", out);
	snprintf(want, sizeof want, "would lose LSNs %lld..%lld ", ours + 1, committed);
	assert_non_null(strstr(out, want));
	const char *yes[] = {"promote",       "--connect", f->client[2], "--insecure",
			     "--accept-loss", "--yes",     NULL};
	size_t mw = hw_proc_mark(&f->proc[3]);
	assert_int_equal(hw_proc_run(f->cli_log, out, sizeof out, CLI_MS, yes), 0);
	assert_non_null(strstr(out, "forced election started"));
	assert_true(hw_proc_wait_line(&f->proc[2], &m2, "event=election_started", "kind=2",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->proc[3], &mw, "event=vote_granted",
				      "candidate=s2 epoch=", EVENT_WAIT_MS, NULL, 0));
	assert_false(
		hw_proc_wait_line(&f->proc[2], &m2, "event=became_primary", NULL, RTO_MS, NULL, 0));
}

int main(void)
{
	if (hw_test_bin() == NULL) {
		fprintf(stderr, "test_switchover: skipped: HW_BIN does not name the hawser binary"
				" (run through ctest)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_switchover_no_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switchover_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promote_needs_yes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promote_accepting_loss, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
