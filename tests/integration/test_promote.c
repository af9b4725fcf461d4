/* test_promote.c: `hawser promote --accept-loss` end to end on a proxied failover
 * cluster of real processes (p1, s1 and a witness, rpo 1 s, mode local): s1 is cut off
 * from the other voters while p1 acknowledges until its RPO rule holds, and stays held
 * past the RPO; p1 dies, s1 comes back behind. Automatic failover must be refused and say why;
 * promote lists the exact LSNs p1 acknowledged that s1 lacks and does nothing without --yes; with
 * --yes s1 becomes primary in a higher epoch, when p1 returns it quarantines exactly the listed
 * range, and s1 acknowledges new submits once p1, its standby, holds what it was promoted with. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
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

#include "base/clock.h"
#include "bench/cluster.h"
#include "engine/voters.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

#define RTO_MS        2000
#define RPO_MS        1000
#define AGED_MS                                                                                        \
	1000                         /* what s1 lacks is older than the rpo by this much: over a       \
				      * renew interval (187 ms at these targets) more than the witness \
				      * needs to judge it so */
#define WAIT_MS       10000          /* bound on any one wait for the cluster */
#define LOOK_EVERY_MS 20             /* pause between two looks at a changing state */
#define LOAD_MAX      60000u         /* records the load may submit (it stops held) */
#define WINDOW        8u

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_cluster *c;
	struct hw_capture cap;
	struct hw_load load;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("promote", f->root, sizeof f->root) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_cluster_free(f->c, false); /* a load still held by p1 loses its connection */
	bool joined = !f->load.threaded || hw_load_join(&f->load, 3 * WAIT_MS);
	int rc = hw_test_rm_rf(f->root);
	if (!joined)
		return -1; /* its thread still uses f */
	hw_load_free(&f->load);
	free(f);
	return rc;
}

/* `hawser ARGS... --insecure --connect addr` into f->cap; returns its exit code. */
static int cli(struct fix *f, const char *cmd, const char *addr, const char *a1, const char *a2)
{
	return hw_proc_capture(&f->cap, hw_test_bin(), cmd, "--insecure", "--connect", addr, a1, a2,
			       NULL);
}

static long long jint(const char *out, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = strstr(out, pat);
	assert_non_null(at);
	return strtoll(at + strlen(pat), NULL, 10);
}

/* Does node i's log (the file, appended across restarts) hold a line with a and b? */
static bool log_has(struct fix *f, unsigned i, const char *a, const char *b, char *line, size_t cap)
{
	FILE *fp = fopen(hw_cluster_log(f->c, i), "r");
	if (fp == NULL)
		return false;
	char buf[2048];
	bool found = false;
	while (!found && fgets(buf, sizeof buf, fp) != NULL) {
		found = strstr(buf, a) != NULL && (b == NULL || strstr(buf, b) != NULL);
		if (found && line != NULL)
			snprintf(line, cap, "%s", buf);
	}
	fclose(fp);
	return found;
}

static bool wait_log(struct fix *f, unsigned i, const char *a, const char *b, char *line,
		     size_t cap)
{
	for (int64_t until = hw_mono_ms() + WAIT_MS; hw_mono_ms() < until; poll(NULL, 0, LOOK_EVERY_MS))
		if (log_has(f, i, a, b, line, cap))
			return true;
	return false;
}

/* The committed LSN the witness keeps in its store (read-only, beside the running
 * witness): what it learned from p1's last lease round. */
static uint64_t witness_committed(struct fix *f)
{
	struct hw_store *s;
	struct hw_store_opts o = {.read_only = true};
	struct hw_el_hard h = {0};
	char dir[HW_PROC_PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s/cluster/w1", f->root);
	if (hw_store_open(dir, &o, &s) != 0)
		return 0;
	if (hw_voters_load_hard(s, &h) != 0)
		h.w_committed = 0;
	hw_store_close(s);
	return h.w_committed;
}

/* The largest LSN the load saw acknowledged so far (its thread may still run). */
static uint64_t load_acked_lsn(struct hw_load *l)
{
	uint64_t acked = 0;
	pthread_mutex_lock(&l->mu);
	for (uint64_t i = 0; i < l->count; i++)
		if (l->done_rec[i] && l->out[i].code == 0 && l->out[i].lsn > acked)
			acked = l->out[i].lsn;
	pthread_mutex_unlock(&l->mu);
	return acked;
}

/* Start the cluster and load p1; cut s1 off. p1 acknowledges until the RPO t rule holds
 * its acknowledgements (rpo_acks_held: the oldest record s1 lacks is rpo less the margin
 * old), with the load's whole window waiting; the test waits on p1's status until that
 * record is AGED_MS older than the rpo, so that the witness, which judges by the
 * committed LSN p1 reported an rpo before its newest lease round, requires all of it.
 * Returns the last LSN p1 acknowledged, once the witness knows it; *written gets p1's
 * last LSN, past it by the held submits (written, never acknowledged). */
static uint64_t load_past_rpo(struct fix *f, uint64_t *written)
{
	char root[HW_PROC_PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(),
				    .root = root,
				    .standbys = 1,
				    .mode = "local",
				    .failover = true,
				    .rto_ms = RTO_MS,
				    .rpo_ms = RPO_MS,
				    .insecure = true,
				    .proxied = true};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, WAIT_MS, &p), 0);
	assert_int_equal(p, 0);
	f->load = (struct hw_load){.addr = hw_cluster_node_addr(f->c, 0),
				   .count = LOAD_MAX,
				   .window = WINDOW,
				   .mode = HW_LOCAL,
				   .seed = 11};
	assert_int_equal(hw_load_init(&f->load), 0);
	assert_int_equal(hw_load_start(&f->load), 0);
	assert_true(hw_load_wait_acked(&f->load, 200, WAIT_MS));
	assert_int_equal(hw_cluster_isolate(f->c, 1, true), 0);
	assert_true(wait_log(f, 0, "event=rpo_acks_held", NULL, NULL, 0));
	Hawser__Wire__V1__Status *st = NULL;
	bool aged = false;
	for (int64_t until = hw_mono_ms() + WAIT_MS; !aged && hw_mono_ms() < until;
	     poll(NULL, 0, LOOK_EVERY_MS)) {
		if (st != NULL)
			hawser__wire__v1__status__free_unpacked(st, NULL);
		st = NULL;
		aged = hw_cluster_node_status(f->c, 0, WAIT_MS, &st) == 0 && st->rpo_hold != NULL &&
		       st->rpo_hold->submits >= WINDOW && st->rpo_hold->ahead_ms > RPO_MS + AGED_MS;
	}
	assert_true(aged);
	*written = st->last_lsn;
	hawser__wire__v1__status__free_unpacked(st, NULL);
	/* the whole window waits: no acknowledgement is on its way to the load */
	uint64_t acked = load_acked_lsn(&f->load);
	assert_true(acked > 200 && acked < *written);
	/* the witness learns p1's committed LSN with the next lease round */
	bool known = false;
	for (int64_t until = hw_mono_ms() + WAIT_MS; !known && hw_mono_ms() < until;
	     poll(NULL, 0, LOOK_EVERY_MS))
		known = witness_committed(f) == acked;
	assert_true(known);
	return acked;
}

/* The LSNs node i quarantined, from `hawser quarantine export` (into a file: each
 * record's bytes come along): count, lowest, highest. */
static void quarantined(struct fix *f, unsigned i, uint64_t *n, uint64_t *lo, uint64_t *hi)
{
	char path[HW_PROC_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/quarantine.jsonl", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "quarantine", "export",
					 hw_cluster_dir(f->c, i), path, NULL),
			 0);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	*n = 0;
	*lo = UINT64_MAX;
	*hi = 0;
	static char line[256 * 1024]; /* one record's JSON: its hex bytes at most 128 KiB */
	while (fgets(line, sizeof line, fp) != NULL) {
		const char *at = strstr(line, "{\"lsn\":");
		assert_non_null(at);
		uint64_t lsn = strtoull(at + 7, NULL, 10);
		(*n)++;
		*lo = lsn < *lo ? lsn : *lo;
		*hi = lsn > *hi ? lsn : *hi;
	}
	fclose(fp);
}

/* p1 dies and s1 returns behind it (durable < last): the witness refuses s1, and s1's
 * status says why and that an operator must act. */
static void refused_behind(struct fix *f, const char *s1, long long durable, uint64_t last)
{
	assert_int_equal(hw_cluster_kill(f->c, 0, SIGKILL), 0);
	assert_int_equal(hw_cluster_isolate(f->c, 1, false), 0);
	char line[2048];
	assert_true(wait_log(f, 1, "event=vote_refused", "reason=not_in_sync", line, sizeof line));
	fprintf(stderr, "test_promote: %s", line);
	assert_true(wait_log(f, 2, "event=vote_denied", "reason=not_in_sync", NULL, 0));
	char why[128];
	snprintf(why, sizeof why, "is behind (durable %lld < %" PRIu64 ")", durable, last);
	bool said = false;
	for (int64_t until = hw_mono_ms() + WAIT_MS; !said && hw_mono_ms() < until;
	     poll(NULL, 0, LOOK_EVERY_MS)) {
		assert_int_equal(cli(f, "status", s1, "--json", NULL), 0);
		said = strstr(f->cap.out, why) != NULL;
	}
	fprintf(stderr, "test_promote: s1 status: %s", f->cap.out);
	assert_true(said);
	assert_non_null(strstr(f->cap.out, "\"automatic\":false"));
}

/* promote without --yes lists the loss (want, in text; in records with --json) and
 * changes nothing: s1 is a standby in the same epoch. */
static void listed_not_acted(struct fix *f, const char *s1, const char *want, long long loss,
			     long long epoch)
{
	assert_int_equal(cli(f, "promote", s1, "--accept-loss", NULL), 1);
	fprintf(stderr, "test_promote: listing: %s", f->cap.out);
	assert_non_null(strstr(f->cap.out, want));
	assert_non_null(strstr(f->cap.out, "not promoted"));
	assert_int_equal(cli(f, "promote", s1, "--accept-loss", "--json"), 1);
	assert_int_equal(jint(f->cap.out, "loss_records"), loss);
	assert_non_null(strstr(f->cap.out, "\"promoted\":false,\"code\":\"not_promoted\""));
	assert_int_equal(cli(f, "status", s1, "--json", NULL), 0);
	assert_non_null(strstr(f->cap.out, "\"role\":\"standby\""));
	assert_int_equal(jint(f->cap.out, "epoch"), epoch);
	assert_false(log_has(f, 1, "event=became_primary", NULL, NULL, 0));
}

/* p1 returns and joins s1: the listed range and the unacknowledged rest up to written go
 * to its quarantine; with p1 its standby holding what it was promoted with, s1
 * acknowledges (the RPO t rule counts that as past the limit until a standby holds it). */
static void rejoined_and_acks(struct fix *f, const char *s1, long long durable, uint64_t written)
{
	assert_int_equal(hw_cluster_restart(f->c, 0), 0);
	assert_int_equal(hw_cluster_wait_joined(f->c, 0, WAIT_MS, NULL, 0), 0);
	uint64_t n, lo, hi;
	quarantined(f, 0, &n, &lo, &hi);
	assert_int_equal(n, written - (uint64_t)durable);
	assert_int_equal(lo, (uint64_t)durable + 1);
	assert_int_equal(hi, written);

	struct hw_load after = {.addr = s1, .count = 50, .window = 4, .mode = HW_LOCAL, .seed = 12};
	assert_int_equal(hw_load_init(&after), 0);
	assert_int_equal(hw_load_run(&after), 0);
	assert_int_equal(after.acked, after.count);
	for (uint64_t i = 0; i < after.count; i++)
		assert_true(after.out[i].lsn > (uint64_t)durable);
	hw_load_free(&after);
}

/* p1, in sync, would lose nothing: said so, not as a range from past its end back to the
 * committed LSN, and a listing (exit 1) is no "ok". */
static void in_sync_loses_none(struct fix *f)
{
	assert_int_equal(hw_cluster_wait_synced(f->c, WAIT_MS, NULL), 0);
	const char *p1 = hw_cluster_node_addr(f->c, 0);
	assert_int_equal(cli(f, "promote", p1, "--accept-loss", "--json"), 1);
	fprintf(stderr, "test_promote: p1 listing: %s", f->cap.out);
	assert_int_equal(jint(f->cap.out, "loss_records"), 0);
	assert_null(strstr(f->cap.out, "\"loss_from\""));
	assert_null(strstr(f->cap.out, "\"loss_to\""));
	assert_non_null(strstr(f->cap.out, "\"code\":\"not_promoted\""));
}

/* p1 acknowledges while s1 is cut off until the RPO rule holds, then holds for longer
 * than the RPO, then dies; s1 returns. The witness refuses s1 and its status says an
 * operator must act; promote lists exactly s1's durable + 1 .. p1's last acknowledged
 * LSN and changes nothing without --yes; with --yes s1 is primary in a higher epoch, p1
 * rejoins quarantining what s1 lacks (the listed range and, after it, the held submits
 * it wrote and never acknowledged), and s1, p1 now its standby, acknowledges new
 * submits. --json says the loss in records, and p1 in sync then would lose none. */
static void test_promote_lists_and_acts(void **state)
{
	struct fix *f = *state;
	uint64_t written;
	uint64_t last = load_past_rpo(f, &written);
	const char *s1 = hw_cluster_node_addr(f->c, 1);
	assert_int_equal(cli(f, "status", s1, "--json", NULL), 0);
	long long epoch = jint(f->cap.out, "epoch"), durable = jint(f->cap.out, "durable_lsn");
	assert_true(durable > 0 && (uint64_t)durable < last);
	refused_behind(f, s1, durable, last);

	char want[160];
	snprintf(want, sizeof want,
		 "would lose LSNs %lld..%" PRIu64 " (%" PRIu64 " committed records; durable %lld)",
		 durable + 1, last, last - (uint64_t)durable, durable);
	listed_not_acted(f, s1, want, (long long)(last - (uint64_t)durable), epoch);

	/* accepted */
	assert_int_equal(cli(f, "promote", s1, "--accept-loss", "--yes"), 0);
	assert_non_null(strstr(f->cap.out, want));
	unsigned p = 0;
	assert_int_equal(hw_cluster_primary(f->c, WAIT_MS, &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(cli(f, "status", s1, "--json", NULL), 0);
	assert_true(jint(f->cap.out, "epoch") > epoch);

	rejoined_and_acks(f, s1, durable, written);
	in_sync_loses_none(f);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_promote") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_promote_lists_and_acts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
