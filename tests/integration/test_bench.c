/* test_bench.c: `hawser bench` end to end: it starts real nodes, drives them through the
 * client port and reports, as JSON, that every acknowledged record reached the standby
 * with equal digests, and that it is not, exit 1, when a standby's state differs. Each
 * run is bounded by coreutils timeout(1) or hw_proc_reap's bound. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "replica/store.h"
#include "tests/integration/proc.h"

/* A 3000-record bench takes a second or two here; the bound is for a hung cluster. */
#define RUN_TIMEOUT_S 120
#define OUT_BYTES_MAX 8192

struct run {
	char out[OUT_BYTES_MAX];
	int exit_code;
};

static const char *bin(void)
{
	const char *b = getenv("HW_BIN");
	return b && *b ? b : "./hawser";
}

/* Run `hawser bench ARGS` (stderr to the test's stderr), capture stdout and exit code. */
static void bench(struct run *r, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "timeout -s KILL %d %s bench %s", RUN_TIMEOUT_S, bin(), args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(r->out, 1, sizeof(r->out) - 1, p);
	r->out[n] = '\0';
	int st = pclose(p);
	r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The number after "key": in the JSON object, or -1 when the key is absent or not a number. */
static long long json_num(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	char *end;
	long long v = strtoll(p, &end, 10);
	return end == p ? -1 : v;
}

static bool json_has(const char *json, const char *key, const char *value)
{
	char pat[96];
	snprintf(pat, sizeof(pat), "\"%s\":%s", key, value);
	return strstr(json, pat) != NULL;
}

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("HW_TEST_TMP");
	if (t && *t) {
		mkdir(t, 0700);
		setenv("TMPDIR", t, 1); /* the bench's scratch cluster goes there */
	}
	return 0;
}

/* A durable bench of 3000 good records from 4 clients (4 lanes) acknowledges every one,
 * refuses none, and the standby holds all of them with the primary's digest; the
 * primary's stage times for the load are there and within the clients' round trips. */
static void test_durable_bench_loses_nothing(void **state)
{
	(void)state;
	static struct run r;
	bench(&r, "--records 3000 --clients 4 --json");
	printf("%s", r.out);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(json_num(r.out, "lanes"), 4);
	assert_int_equal(json_num(r.out, "records"), 3000);
	assert_int_equal(json_num(r.out, "acked"), 3000);
	assert_int_equal(json_num(r.out, "rejected"), 0);
	assert_int_equal(json_num(r.out, "errors"), 0);
	assert_int_equal(json_num(r.out, "missing_on_standby"), 0);
	assert_true(json_has(r.out, "digests_equal", "true"));
	assert_true(json_has(r.out, "mode", "\"durable\""));
	const char *lat = strstr(r.out, "\"latency_us\":");
	assert_non_null(lat);
	assert_true(json_num(lat, "p50") > 0);
	assert_true(json_num(r.out, "rss_kib_primary") > 0);
	assert_true(json_num(r.out, "rss_kib_standby") > 0);
	/* The primary's account of the same load: every stage took time, and a record's
	 * time on the primary is part of its round trip, so their means stay within the
	 * slowest round trip the clients saw. */
	const char *st = strstr(r.out, "\"primary_stages_us\":{");
	assert_non_null(st);
	long long queued = json_num(st, "queued"), store = json_num(st, "store"),
		  durability = json_num(st, "durability");
	assert_true(queued >= 0 && store > 0 && durability > 0);
	assert_true(queued + store + durability <= json_num(lat, "max"));
}

/* In local mode (no standby wait) with one pipelined client (8 submits of one lane in
 * flight, in order) the bench still acknowledges every record and reports the
 * single-client physical limit. */
static void test_local_mode_single_client(void **state)
{
	(void)state;
	static struct run r;
	bench(&r, "--records 1000 --clients 1 --window 8 --mode local --json");
	printf("%s", r.out);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(json_num(r.out, "acked"), 1000);
	assert_int_equal(json_num(r.out, "rejected"), 0);
	assert_int_equal(json_num(r.out, "errors"), 0);
	assert_true(json_has(r.out, "mode", "\"local\""));
	assert_true(json_num(r.out, "limit_us") > 0);
}

/* With the poison profile on 3 pipelined lanes, the bad records are refused with exactly
 * the codes the generator tagged them with (an unexpected outcome would be an error), every
 * good one is acknowledged, and the standby still matches. */
static void test_poison_only_expected_rejections(void **state)
{
	(void)state;
	static struct run r;
	bench(&r, "--records 3000 --clients 3 --window 4 --profile poison --json");
	printf("%s", r.out);
	assert_int_equal(r.exit_code, 0);
	long long rejected = json_num(r.out, "rejected");
	assert_true(rejected > 0); /* about 1% are poison */
	assert_true(rejected < 150);
	assert_int_equal(json_num(r.out, "acked") + rejected, 3000);
	assert_int_equal(json_num(r.out, "errors"), 0);
	assert_int_equal(json_num(r.out, "missing_on_standby"), 0);
	assert_true(json_has(r.out, "digests_equal", "true"));
}

/* What a test does to the standby's store (dir) while the bench is paused. */
typedef void change_fn(const char *dir);

/* Run a 300-record bench paused once its nodes stopped (HW_FAULT_BENCH_PAUSE), change
 * its standby's store with change, let it check; its output (stderr and the JSON) into
 * r->out, its exit code into r->exit_code. */
static void bench_changed(struct run *r, change_fn *change)
{
	const char *t = getenv("HW_TEST_TMP");
	char log[HW_PROC_PATH_MAX], line[HW_PROC_PATH_MAX + 128], dir[HW_PROC_PATH_MAX + 132];
	snprintf(log, sizeof log, "%s/bench-changed.log", t && *t ? t : "/tmp");
	const char *args[] = {"bench", "--records", "300", "--clients", "2", "--json", NULL};
	struct hw_proc p;
	setenv("HW_FAULT_BENCH_PAUSE", "1", 1);
	int rc = hw_proc_start_out(&p, log, args);
	unsetenv("HW_FAULT_BENCH_PAUSE");
	assert_int_equal(rc, 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&p, &from, "paused before the check", NULL,
				      RUN_TIMEOUT_S * 1000, line, sizeof line));
	int st = 0; /* it raises SIGSTOP right after that line */
	assert_int_equal(waitpid(p.pid, &st, WUNTRACED), p.pid);
	assert_true(WIFSTOPPED(st));
	const char *root = strstr(line, "stopped in ");
	const char *end = strstr(line, ", paused");
	assert_true(root != NULL && end != NULL);
	root += strlen("stopped in ");
	snprintf(dir, sizeof dir, "%.*s/s1", (int)(end - root), root);
	change(dir);
	assert_int_equal(hw_proc_signal(&p, SIGCONT), 0);
	r->exit_code = hw_proc_reap(&p, RUN_TIMEOUT_S * 1000);
	snprintf(r->out, sizeof r->out, "%s", p.log);
	hw_proc_kill(&p);
	printf("%s", r->out);
}

/* A kv row the standby's records never made: its state differs, its chain is the
 * primary's. */
static void add_row(const char *dir)
{
	assert_int_equal(hw_test_put_row(dir, "kv", "test_bench", "not the primary's"), 0);
}

/* Every log entry of the standby damaged (its hash no longer matches its bytes): it
 * holds none of the acknowledged records for sure; its state tables are untouched. */
static void damage_log(const char *dir)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *s;
	struct hw_head h;
	assert_int_equal(hw_store_open(dir, &ro, &s), 0);
	int rc = hw_store_head(s, &h);
	hw_store_close(s);
	assert_int_equal(rc, 0);
	assert_true(h.lsn > 0);
	for (uint64_t lsn = 1; lsn <= h.lsn; lsn++)
		assert_int_equal(hw_test_damage_entry(dir, lsn), 0);
}

/* The check sees what the standby's store holds once the nodes stopped: a standby whose
 * state differs from the primary's at the same LSN is reported (digests_equal false,
 * nothing missing), one whose log no longer holds the acknowledged records too (each
 * missing); either fails the bench (exit 1). */
static void test_differing_standby_fails(void **state)
{
	(void)state;
	static struct run r;
	bench_changed(&r, add_row);
	assert_true(json_has(r.out, "digests_equal", "false"));
	assert_int_equal(json_num(r.out, "missing_on_standby"), 0);
	assert_int_equal(r.exit_code, 1);
	bench_changed(&r, damage_log);
	assert_true(json_has(r.out, "digests_equal", "true"));
	assert_int_equal(json_num(r.out, "missing_on_standby"), 300);
	assert_int_equal(r.exit_code, 1);
}

/* More clients than records: the lanes with no share send nothing, the rest everything. */
static void test_more_lanes_than_records(void **state)
{
	(void)state;
	static struct run r;
	bench(&r, "--records 5 --clients 8 --json");
	printf("%s", r.out);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(json_num(r.out, "lanes"), 8);
	assert_int_equal(json_num(r.out, "acked"), 5);
	assert_int_equal(json_num(r.out, "errors"), 0);
}

/* --catchup: the standby, stopped while the primary takes 5000 records in mode local,
 * comes back and catches up: the JSON says how many entries it was behind (every
 * acknowledged record, and any checkpoint the primary wrote) and how long it took, and
 * it then holds every acknowledged record with the primary's digest. */
static void test_catchup(void **state)
{
	(void)state;
	static struct run r;
	bench(&r, "--records 5000 --clients 4 --window 8 --catchup --json");
	printf("%s", r.out);
	assert_int_equal(r.exit_code, 0);
	assert_true(json_has(r.out, "mode", "\"local\""));
	assert_int_equal(json_num(r.out, "acked"), 5000);
	const char *cu = strstr(r.out, "\"catchup\":{");
	assert_non_null(cu);
	assert_true(json_num(cu, "entries") >= 5000);
	assert_true(strstr(cu, "\"seconds\":") != NULL);
	assert_int_equal(json_num(r.out, "missing_on_standby"), 0);
	assert_true(json_has(r.out, "digests_equal", "true"));
}

/* Bad options are usage errors (exit 2) that start nothing. */
static void test_usage_errors(void **state)
{
	(void)state;
	static struct run r;
	bench(&r, "--clients 0");
	assert_int_equal(r.exit_code, 2);
	bench(&r, "--clients 257"); /* one lane each, and there are 256 */
	assert_int_equal(r.exit_code, 2);
	bench(&r, "--mode sometimes");
	assert_int_equal(r.exit_code, 2);
	bench(&r, "--standbys 1 --k 2");
	assert_int_equal(r.exit_code, 2);
	bench(&r, "--catchup --mode durable"); /* its standbys are down during the load */
	assert_int_equal(r.exit_code, 2);
	bench(&r, "--catchup --connect 127.0.0.1:1 --insecure");
	assert_int_equal(r.exit_code, 2);
	/* the local cluster's options say nothing about a running one */
	bench(&r, "--connect 127.0.0.1:1 --insecure --standbys 3");
	assert_int_equal(r.exit_code, 2);
	bench(&r, "--connect 127.0.0.1:1 --insecure --keep");
	assert_int_equal(r.exit_code, 2);
	bench(&r, "--no-such-option");
	assert_int_equal(r.exit_code, 2);
	assert_string_equal(r.out, "");
}

/* With --connect to a port nobody listens on, the bench fails (exit 1) without hanging. */
static void test_connect_refused(void **state)
{
	(void)state;
	static struct run r;
	bench(&r, "--connect 127.0.0.1:1 --insecure --records 10 --json");
	assert_int_equal(r.exit_code, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durable_bench_loses_nothing),
		cmocka_unit_test(test_local_mode_single_client),
		cmocka_unit_test(test_poison_only_expected_rejections),
		cmocka_unit_test(test_more_lanes_than_records),
		cmocka_unit_test(test_differing_standby_fails),
		cmocka_unit_test(test_catchup),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_connect_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
