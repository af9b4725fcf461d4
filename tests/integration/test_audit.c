/* test_audit.c: hawser's own records on a running cluster (docs/security.md "Signed
 * checkpoints", "Audit trail"): a failover cluster of p1, s1 and a witness, encrypted
 * (so each node has a signing key), a checkpoint every 100 entries. Under a load and a
 * switchover to s1, `hawser audit --json` on both stores lists p1's promotion, its
 * switchover and s1's promotion in that order (each with its config's hash), and `hawser verify
 * --trust` finds the checkpoints about every 100 entries, each signed by a trusted node. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bench/cluster.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "tests/integration/proc.h"

#define RTO_MS         2000
#define SYNC_MS        15000
#define LOAD_RECORDS   "450"
#define PER_CHECKPOINT 100u
#define WAIT_MS        15000 /* bound on looking (a status call or a CLI run each) */

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_cluster *c;
	struct hw_capture cap;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("audit", f->root, sizeof f->root) != 0)
		return -1;
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

/* LSN on the first line of out holding "kind":"<kind>" and "node":"<node>"; 0: none. */
static uint64_t event_lsn(const char *out, const char *kind, const char *node)
{
	char k[64], n[64];
	snprintf(k, sizeof k, "\"kind\":\"%s\"", kind);
	snprintf(n, sizeof n, "\"node\":\"%s\"", node);
	for (const char *line = out; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];
		snprintf(buf, sizeof buf, "%.*s", (int)len, line);
		const char *lsn = strstr(buf, "\"lsn\":");
		if (strstr(buf, k) && strstr(buf, n) && lsn)
			return strtoull(lsn + 6, NULL, 10);
		line = end ? end + 1 : NULL;
	}
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* `hawser audit --json` on node i's store until it lists s1's promotion (replication
 * brings it to p1), for at most WAIT_MS; the last output stays in f->cap. */
static void audit_until_promotion(struct fix *f, unsigned i)
{
	for (int64_t end = mono_ms() + WAIT_MS; mono_ms() < end;) {
		assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "audit", "--json",
						 hw_cluster_dir(f->c, i), NULL),
				 0);
		if (event_lsn(f->cap.out, "promotion", "s1") != 0)
			return;
		assert_int_equal(hw_cluster_wait_synced(f->c, SYNC_MS, NULL), 0);
	}
	fail_msg("node %u's audit never showed the promotion: %s", i, f->cap.out);
}

static long long jint(const char *out, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = strstr(out, pat);
	assert_non_null(at);
	return strtoll(at + strlen(pat), NULL, 10);
}

/* A switchover shows up, in order, in the audit of both stores, and both logs carry
 * checkpoints about every PER_CHECKPOINT entries that verify against the nodes' keys. */
static void test_switchover_audited(void **state)
{
	struct fix *f = *state;
	char root[HW_PROC_PATH_MAX + 16], p1pub[HW_PROC_PATH_MAX + 32],
		s1pub[HW_PROC_PATH_MAX + 32];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(),
				    .root = root,
				    .standbys = 1,
				    .failover = true,
				    .rto_ms = RTO_MS,
				    .rpo_ms = 0,
				    .checkpoint_records = PER_CHECKPOINT};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &p), 0);
	assert_int_equal(p, 0);
	const struct hw_client_security *sec = hw_cluster_security(f->c);
	const char *addr = hw_cluster_node_addr(f->c, 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "submit", "--connect", addr,
					 "--generate", LOAD_RECORDS, "--key", sec->key, "--peers",
					 sec->peers, "--cluster", sec->cluster_id, NULL),
			 0);
	assert_int_equal(hw_cluster_wait_synced(f->c, SYNC_MS, NULL), 0);
	/* through the library: `hawser switchover` has no encrypted-channel options yet */
	struct hw_client *cl;
	int code = -1;
	char why[128];
	assert_int_equal(hw_client_connect_secure(addr, sec, &cl), 0);
	assert_int_equal(hw_client_switchover(cl, "s1", SYNC_MS, &code, why, sizeof why), 0);
	hw_client_close(cl);
	assert_int_equal(code, 0);
	/* the hand-over takes a few election rounds: look (a status call each) until s1 */
	for (int64_t end = mono_ms() + WAIT_MS; p != 1 && mono_ms() < end;)
		assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &p), 0);
	assert_int_equal(p, 1);

	snprintf(p1pub, sizeof p1pub, "%s/pins/p1.pub", hw_cluster_root(f->c));
	snprintf(s1pub, sizeof s1pub, "%s/pins/s1.pub", hw_cluster_root(f->c));
	for (unsigned i = 0; i < 2; i++) {
		audit_until_promotion(f, i);
		const char *out = f->cap.out;
		fprintf(stderr, "test_audit: node %u:\n%s", i, out);
		/* with failover every node starts as a standby (its start is only logged): p1's
		 * first event is the election that made it primary */
		uint64_t start = event_lsn(out, "promotion", "p1");
		uint64_t xfer = event_lsn(out, "switchover", "p1");
		uint64_t promo = event_lsn(out, "promotion", "s1");
		assert_true(start > 0 && xfer > start && promo > xfer);
		assert_non_null(strstr(out, "hand over to s1"));
		assert_null(strstr(out, "\"config_sha\":\"\",\"detail\":\"became"));

		assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "verify", "--json",
						 "--trust", p1pub, "--trust", s1pub,
						 hw_cluster_dir(f->c, i), NULL),
				 0);
		long long entries = jint(f->cap.out, "entries");
		long long cps = jint(f->cap.out, "checkpoints");
		fprintf(stderr, "test_audit: node %u verify: %s", i, f->cap.out);
		assert_true(jint(f->cap.out, "good_checkpoint_lsn") > 0);
		/* one per PER_CHECKPOINT entries, give or take the batch that crossed the line */
		assert_true(cps >= 2); /* one at a time: a burst may stretch the gap */
		assert_true(cps <= entries / PER_CHECKPOINT + 1);
	}
	/* a key that is not the nodes': every checkpoint is untrusted, the first reported */
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "verify", "--json", "--trust",
					 s1pub, hw_cluster_dir(f->c, 1), NULL),
			 3);
	assert_non_null(strstr(f->cap.out, "\"code\":\"HW_EUNTRUSTED\""));
}

int main(void)
{
	if (hw_test_bin() == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_switchover_audited, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
