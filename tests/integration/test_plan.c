/* test_plan.c: `hawser plan` run as a real process (HW_BIN): a feasible RTO whose failover
 * terms add up within it, an RTO below what jitter, election and resume allow refused in
 * words (saying the jitter was assumed), one below what a hung primary's clients take
 * refused too, the commit rule following the RPO, the trade-off table, usage errors on
 * bad durations, k checked against --voters as a node's config check does, a warning
 * when a failover leaves the new primary fewer standbys than a commit waits for, and
 * --measure against a closed port and against a running node. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/proc.h"

/* A plan is arithmetic; measuring is 200 loopback round trips: seconds are plenty. */
#define RUN_WAIT_MS 30000
#define OUT_BYTES   (64u * 1024u)
#define ERR_BYTES   (16u * 1024u)

struct fix {
	char root[HW_PROC_PATH_MAX];
	char err_path[HW_PROC_PATH_MAX + 16];
	char out[OUT_BYTES];
	char text[OUT_BYTES]; /* out with its lines joined: a note whatever its wrapping */
	char err[ERR_BYTES];
	char err_text[ERR_BYTES]; /* err with its lines joined, as text is out's */
	struct hw_tnode node;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("plan", f->root, sizeof f->root) != 0)
		return -1;
	snprintf(f->err_path, sizeof f->err_path, "%s/stderr", f->root);
	f->node.proc.err_fd = f->node.proc.log_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_proc_kill(&f->node.proc);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* Fails the test at a line of s wider than 80 columns, naming what printed it (NULL: s
 * is JSON, not held to them); joined gets s with each newline and the indent after it one
 * space. */
static void fits_joined(const char *s, char *joined, const char *what)
{
	for (const char *l = s; what != NULL && *l != '\0';) {
		size_t len = strcspn(l, "\n");
		if (len > 80)
			fail_msg("a %s line of %zu columns: %.*s", what, len, (int)len, l);
		l += len + (l[len] == '\n');
	}
	size_t t = 0;
	for (const char *c = s; *c != '\0'; c++) {
		joined[t++] = *c == '\n' ? ' ' : *c;
		for (bool nl = *c == '\n'; nl && c[1] == ' ';)
			c++;
	}
	joined[t] = '\0';
}

/* Run `hawser plan args...` (NULL-terminated): stdout into f->out, stderr into f->err.
 * The text (not --json) and what stderr says fit 80 columns, every line of them; f->text
 * and f->err_text have them joined (fits_joined). Returns the exit code. */
static int plan(struct fix *f, ...)
{
	const char *args[HW_PROC_ARGS_MAX + 1] = {"plan"};
	size_t n = 1;
	va_list ap;
	va_start(ap, f);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
		assert_true(n < HW_PROC_ARGS_MAX);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	unlink(f->err_path);
	int rc = hw_proc_run(f->err_path, f->out, sizeof f->out, RUN_WAIT_MS, args);
	f->err[0] = '\0';
	FILE *e = fopen(f->err_path, "r");
	if (e != NULL) {
		size_t got = fread(f->err, 1, sizeof f->err - 1, e);
		f->err[got] = '\0';
		fclose(e);
	}
	fits_joined(f->out, f->text, f->out[0] == '{' ? NULL : "plan");
	fits_joined(f->err, f->err_text, "stderr");
	return rc;
}

/* The integer after "key": in json, searching from the first "section": (NULL: the
 * start) and within that object. Fails the test when it is not there. */
static int64_t jint(const char *json, const char *section, const char *key)
{
	char pat[64];
	const char *from = json;
	if (section != NULL) {
		snprintf(pat, sizeof pat, "\"%s\":{", section);
		from = strstr(json, pat);
		assert_non_null(from);
	}
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = strstr(from, pat);
	assert_non_null(at);
	const char *end = section != NULL ? strchr(from, '}') : NULL;
	assert_true(end == NULL || at < end);
	return strtoll(at + strlen(pat), NULL, 10);
}

/* RTO 30 s, RPO 0 on LAN defaults: planned, and detection + election + replay + resume
 * is the reported total and within 30 000 ms; the rule is "durable on k". */
static void test_rto30s_rpo0(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--json", NULL), 0);
	assert_non_null(strstr(f->out, "\"feasible\":true"));
	assert_non_null(strstr(f->out, "\"source\":\"lan-defaults\""));
	int64_t sum = jint(f->out, "failover", "detection_ms") +
		      jint(f->out, "failover", "election_ms") +
		      jint(f->out, "failover", "replay_ms") + jint(f->out, "failover", "resume_ms");
	assert_int_equal(sum, jint(f->out, "failover", "total_ms"));
	assert_true(sum <= 30000);
	assert_true(jint(f->out, "failover", "detection_ms") > 0);
	assert_int_equal(jint(f->out, "failover", "detection_ms"),
			 jint(f->out, "timers", "detection_ms"));
	assert_true(jint(f->out, "timers", "lease_ms") >= 4 * jint(f->out, "timers", "renew_ms"));
	assert_non_null(strstr(f->out, "\"rule\":\"durable\""));
	assert_int_equal(jint(f->out, "commit", "k"), 1);

	/* the same plan for people: says it assumed a LAN, shows the terms and the table */
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", NULL), 0);
	assert_non_null(strstr(f->text, "assumed: a LAN"));
	assert_non_null(strstr(f->text, "renew interval"));
	assert_non_null(strstr(f->text, "durable on 1 standby"));
	assert_non_null(strstr(f->text, "Patroni-like"));
}

/* RTO 200 ms cannot cover election, resume and the jitter floor: exit 1, and the reason
 * on stderr names the heartbeat jitter and the smallest RTO that would do. */
static void test_rto200ms_refused(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "200ms", "--rpo", "0", NULL), 1);
	assert_non_null(strstr(f->err_text, "cannot be met safely"));
	assert_non_null(strstr(f->err_text, "the assumed heartbeat jitter (p99 2000 us, a LAN's: "
					    "nothing measured)"));
	assert_non_null(strstr(f->err_text, "smallest safe rto"));
	assert_int_equal(plan(f, "--rto", "200ms", "--rpo", "0", "--json", NULL), 1);
	assert_non_null(strstr(f->out, "\"feasible\":false"));
	assert_true(jint(f->out, NULL, "rto_min_ms") > 200);
}

/* An rpo within what the witness's view of the primary's lag may be off by is refused
 * as the rpo's fault, with no smallest rto (the rto is fine): in words, and in the JSON
 * ("refused": "rpo", no rto_min_ms; an rto refused says "rto"). */
static void test_rpo_margin_refused(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "20ms", NULL), 1);
	assert_non_null(strstr(f->err_text,
			       "hawser plan: rpo 20 ms cannot be met safely: rpo 20 ms is "
			       "not above the 21 ms"));
	assert_null(strstr(f->err_text, "rto"));
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "20ms", "--json", NULL), 1);
	assert_non_null(strstr(f->out, "\"feasible\":false"));
	assert_non_null(strstr(f->out, "\"refused\":\"rpo\""));
	assert_null(strstr(f->text, "rto_min_ms"));
	assert_int_equal(plan(f, "--rto", "200ms", "--rpo", "0", "--json", NULL), 1);
	assert_non_null(strstr(f->out, "\"refused\":\"rto\""));
}

/* An RTO whose terms fit (582 ms on the defaults) but shorter than a hung primary's
 * clients take (1 s of silence at heartbeat_ms 100, then 300 ms to resume) is refused in
 * words, with 1300 ms as the smallest; 1300 ms is planned and says the clients fit. */
static void test_rto_client_silence(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "582ms", "--rpo", "0", NULL), 1);
	assert_non_null(strstr(f->err_text,
			       "rto 582 ms is shorter than a hung primary's clients take: "
			       "they notice it only after 1000 ms of silence"));
	assert_non_null(strstr(f->err_text,
			       "the smallest safe rto here is 1300 ms = client silence "
			       "1000 + resume 300"));
	assert_int_equal(plan(f, "--rto", "582ms", "--rpo", "0", "--json", NULL), 1);
	assert_int_equal(jint(f->out, NULL, "rto_min_ms"), 1300);
	assert_int_equal(plan(f, "--rto", "1300ms", "--rpo", "0", NULL), 0);
	assert_non_null(strstr(f->text, "client silence   1000 ms"));
	assert_non_null(strstr(f->text, "a hung primary's clients notice after 1000 ms, while "
					"detection runs: 1000 + resume 300 = 1300 ms <= rto"));
	/* the trade-off's 0.5x row (650 ms) is refused for the same reason */
	assert_non_null(strstr(f->text, "refused: the smallest safe rto is 1300 ms"));
}

/* With --voters N the plan says in words (and in JSON) when a failover leaves the new
 * primary fewer standbys than a commit waits for: 3 voters (primary, standby, witness)
 * and k 1 leave none; 4 voters leave one; 5 voters with k 3 leave two; at rpo 1 s the
 * RPO t rule needs one too, and with 5 voters it counts on k_min 2 whatever k. Without
 * the voters nothing is said. */
static void test_after_failover(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", "--voters", "3", NULL), 0);
	assert_non_null(strstr(f->text,
			       "warning: a failover leaves the new primary 0 standbys of 3 "
			       "voters, fewer than the 1 an rpo 0 commit waits for: once "
			       "the primary is lost for good, acknowledgements stop until "
			       "it or another standby returns"));
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", "--voters", "3", "--json", NULL), 0);
	assert_int_equal(jint(f->out, "after_failover", "standbys"), 0);
	assert_int_equal(jint(f->out, "after_failover", "k"), 1);
	assert_non_null(strstr(f->out, "\"acks_stop\":true"));
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", "--voters", "4", NULL), 0);
	assert_null(strstr(f->text, "a failover leaves the new primary"));
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", "--voters", "4", "--json", NULL), 0);
	assert_non_null(strstr(f->out, "\"acks_stop\":false"));
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", "--voters", "5", "--k", "3", NULL),
			 0);
	assert_non_null(strstr(f->text, "leaves the new primary 2 standbys of 5 voters, fewer than "
					"the 3"));
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", NULL), 0);
	assert_null(strstr(f->text, "a failover leaves the new primary"));
	/* at rpo t the RPO t rule needs a standby too: acknowledgements stop */
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "1s", "--voters", "3", NULL), 0);
	assert_non_null(strstr(f->text, "fewer than the 1 the rpo rule needs: once the primary is "
					"lost for good, acknowledgements stop until it or another "
					"standby returns"));
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "1s", "--voters", "4", "--json", NULL), 0);
	assert_non_null(strstr(f->out, "\"acks_stop\":false"));
	/* with 5 voters the rule counts a record behind until it is on k_min 2 standbys */
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "1s", "--voters", "5", "--k", "1", NULL),
			 0);
	assert_non_null(strstr(f->text, "5 voters: a record is behind until durable on 2 standbys "
					"(k 1, at least 1 and k_min 2"));
}

/* RPO 5 s makes the rule "ahead by at most 5 s less the margin" (the LAN defaults'
 * renew floor, 20 ms, and 5 ms of drift) at no throughput cost; an rpo within the margin
 * is refused; --k is kept. */
static void test_rpo5s_ahead(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "5s", "--json", NULL), 0);
	assert_non_null(strstr(f->out, "\"rule\":\"ahead\""));
	assert_int_equal(jint(f->out, "commit", "max_ahead_ms"), 4975);
	assert_int_equal(jint(f->out, "commit", "ahead_margin_ms"), 25);
	const char *cost = strstr(f->out, "\"throughput_cost\":");
	assert_non_null(cost);
	assert_true(strtod(cost + strlen("\"throughput_cost\":"), NULL) == 0);
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "5s", NULL), 0);
	assert_non_null(strstr(f->text, "ahead of the standbys by at most 4975 ms (rpo 5 s less "
					"a 25 ms margin"));
	assert_non_null(strstr(f->text, "then block (or fail: [failover] rpo_action)"));
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "20ms", NULL), 1);
	assert_non_null(strstr(f->err_text, "rpo 20 ms is not above the 21 ms"));
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--k", "2", "--json", NULL), 0);
	assert_int_equal(jint(f->out, "commit", "k"), 2);
}

/* --voters N: five voters at rpo 0 make k_min 2, the plan's k without --k; --k 1 is
 * refused (exit 1) with the reason on stderr and in the JSON object, as a node refuses
 * such a config at start, and so are nine voters with k 3 and a k above the N - 2
 * standbys; four voters allow k 1; at rpo 5 s k_min is 2 too (a received, durable or
 * applied commit waits for it: such a commit is not lost), and --k 1 is not refused
 * but said to be raised, as a node raises it; a voter count no config can have is a
 * usage error. */
static void test_voters(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--voters", "5", "--json", NULL), 0);
	assert_int_equal(jint(f->out, NULL, "voters"), 5);
	assert_int_equal(jint(f->out, NULL, "k_min"), 2);
	assert_int_equal(jint(f->out, "commit", "k"), 2);
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--voters", "5", NULL), 0);
	assert_non_null(strstr(f->text, "durable on 2 standbys"));
	assert_non_null(strstr(f->text, "5 voters: an rpo 0 commit waits for at least k_min 2"));
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--voters", "5", "--k", "1", NULL),
			 1);
	assert_non_null(strstr(f->err_text, "rpo 0 with 5 voters needs k >= 2, not 1"));
	assert_null(strstr(f->text, "renew interval"));
	assert_int_equal(
		plan(f, "--rto", "30s", "--rpo", "0", "--voters", "5", "--k", "1", "--json", NULL),
		1);
	assert_non_null(strstr(f->out, "\"feasible\":false"));
	assert_non_null(strstr(f->text, "needs k >= 2, not 1"));
	assert_int_equal(jint(f->out, NULL, "k_min"), 2);
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--voters", "9", "--k", "3", NULL),
			 1);
	assert_non_null(strstr(f->err_text, "rpo 0 with 9 voters needs k >= 4, not 3"));
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--voters", "4", "--k", "3", NULL),
			 1);
	assert_non_null(strstr(f->err_text, "k 3 is more than the 2 standbys of 4 voters"));
	assert_int_equal(
		plan(f, "--rto", "30s", "--rpo", "0", "--voters", "4", "--k", "1", "--json", NULL),
		0);
	assert_int_equal(jint(f->out, NULL, "k_min"), 1);
	assert_int_equal(
		plan(f, "--rto", "30s", "--rpo", "5s", "--voters", "5", "--k", "1", "--json", NULL),
		0);
	assert_int_equal(jint(f->out, NULL, "k_min"), 2);
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "5s", "--voters", "5", "--k", "1", NULL),
			 0);
	assert_non_null(strstr(f->text,
			       "5 voters: a commit in mode received, durable or applied "
			       "waits for at least k_min 2 standbys, whatever its k, as at "
			       "rpo 0, so a failover does not lose it"));
	assert_non_null(strstr(f->text, "a commit in mode local it may lose, up to the last 5 s"));
	assert_non_null(strstr(f->text, "(rpo 0 instead: durable on 2,"));
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "5s", NULL), 0);
	assert_non_null(strstr(f->text, "voters not given: k_min not known"));
	static const char *const bad[] = {"2", "10", "x", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", "--voters", bad[i], NULL),
				 2);
}

/* The trade-off for RTO 10 s holds 5 s, 10 s, 20 s and 30 s in order, and a longer RTO
 * never gets a shorter detection time nor more false failovers; printed, it fits 80
 * columns. */
static void test_tradeoff_rows(void **state)
{
	struct fix *f = *state;
	assert_int_equal(plan(f, "--rto", "10s", "--rpo", "0", "--json", NULL), 0);
	static const int64_t want[] = {5000, 10000, 20000, 30000};
	const char *p = strstr(f->out, "\"tradeoff\":[");
	assert_non_null(p);
	int64_t last_detection = 0;
	for (size_t i = 0; i < 4; i++) {
		p = strchr(p, '{');
		assert_non_null(p);
		assert_int_equal(jint(p, NULL, "rto_ms"), want[i]);
		int64_t d = jint(p, NULL, "detection_ms");
		assert_true(d >= last_detection);
		last_detection = d;
		p++;
	}
	assert_null(strchr(p, '{'));
	/* as text, the table fits an 80-column terminal (it took 100) */
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "0", NULL), 0);
	const char *t = strstr(f->out, "\ntrade-off (same cluster, other RTOs)\n");
	assert_non_null(t);
	assert_non_null(strstr(t, "\n  30 s     target, Patroni-like  10000 ms"));
	for (t++; *t != '\0';) {
		size_t len = strcspn(t, "\n");
		assert_true(len <= 80);
		t += len + (t[len] == '\n');
	}
}

/* A bad or missing duration, or one past an hour (which no node's [failover] takes), is
 * a usage error (exit 2). */
static void test_bad_duration(void **state)
{
	struct fix *f = *state;
	static const char *const bad[] = {"30", "30x", "-1s", "s", "1.5ms", "", "5.s"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(plan(f, "--rto", bad[i], "--rpo", "0", NULL), 2);
	assert_int_equal(plan(f, "--rto", "0", "--rpo", "0", NULL), 2);
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "5", NULL), 2);
	assert_non_null(strstr(f->err_text, "bad value '5' for --rpo: a duration takes a unit"));
	assert_int_equal(plan(f, "--rto", "30s", NULL), 2);
	assert_non_null(strstr(f->err, "\nTry 'hawser plan --help' for more information.\n"));
	assert_int_equal(plan(f, "--rto", "61m", "--rpo", "0", NULL), 2);
	assert_int_equal(plan(f, "--rto", "30s", "--rpo", "2h", NULL), 2);
	/* the units that are accepted */
	assert_int_equal(plan(f, "--rto", "1.5m", "--rpo", "1h", "--json", NULL), 0);
	assert_int_equal(jint(f->out, NULL, "rto_ms"), 90000);
	assert_int_equal(jint(f->out, NULL, "rpo_ms"), 3600 * 1000);
}

/* --measure against a port nothing listens on: exit 1 and a message naming the address. */
static void test_measure_closed_port(void **state)
{
	struct fix *f = *state;
	uint16_t port;
	assert_int_equal(hw_free_port(&port), 0);
	char addr[32];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
	assert_int_equal(
		plan(f, "--rto", "30s", "--rpo", "0", "--measure", addr, "--insecure", NULL), 1);
	assert_non_null(strstr(f->err_text, "cannot measure"));
	assert_non_null(strstr(f->err_text, addr));
	assert_null(strstr(f->text, "renew interval"));
}

/* --measure against a running primary (its standby absent): 200 round trips measured,
 * the node's role and k read, and a plan made from them. */
static void test_measure_node(void **state)
{
	struct fix *f = *state;
	struct hw_tnode_opts o = {.primary = true, .standbys = "s1", .mode = "durable", .k = 1};
	assert_int_equal(hw_tnode_init(&f->node, f->root, "p1", &o), 0);
	assert_int_equal(hw_tnode_start(&f->node, NULL), 0);
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", "--measure", f->node.client,
			      "--insecure", "--json", NULL),
			 0);
	assert_non_null(strstr(f->out, "\"source\":\"measured\""));
	assert_non_null(strstr(f->out, "\"role\":\"primary\""));
	assert_int_equal(jint(f->out, NULL, "voters"), 0); /* no [failover]: none to check */
	assert_int_equal(jint(f->out, "inputs", "samples"), 200);
	int64_t p50 = jint(f->out, "inputs", "rtt_p50_us");
	int64_t p99 = jint(f->out, "inputs", "rtt_p99_us");
	print_message("loopback status round trip: p50 %lld us, p99 %lld us\n", (long long)p50,
		      (long long)p99);
	assert_true(p50 > 0 && p99 >= p50);
	/* planned in whole ms, rounded up: the [failover] heartbeat_p99 it prints */
	int64_t p99_ms = (p99 + 999) / 1000;
	assert_int_equal(jint(f->out, "inputs", "jitter_p99_us"), 1000 * p99_ms);
	int64_t spread = jint(f->out, "inputs", "jitter_spread_us");
	assert_true(spread >= 1000 && spread <= 1000 * p99_ms && spread % 1000 == 0);
	print_message("planned for: heartbeat_p99 %lld ms, spread %lld ms\n", (long long)p99_ms,
		      (long long)(spread / 1000));
	assert_int_equal(jint(f->out, "inputs", "backlog_records"), 0);
	assert_true(jint(f->out, "failover", "total_ms") <= 5000);
	/* its clients are promised a heartbeat each 100 ms: they notice silence after 1 s */
	assert_int_equal(jint(f->out, "inputs", "client_silence_ms"), 1000);
	assert_int_equal(plan(f, "--rto", "5s", "--rpo", "0", "--measure", f->node.client,
			      "--insecure", NULL),
			 0);
	assert_non_null(strstr(f->text, "measured against"));
	/* The [failover] lines it prints are the heartbeat delay this run planned with. */
	long long us_p99, us_spread, ms_p99, ms_spread;
	const char *h = strstr(f->text, "heartbeat delay  p99 ");
	assert_non_null(h);
	assert_int_equal(sscanf(h, "heartbeat delay  p99 %lld us, spread (p99 - p50) %lld us",
				&us_p99, &us_spread),
			 2);
	h = strstr(f->out, "  heartbeat_p99 = ");
	assert_non_null(h);
	assert_int_equal(sscanf(h, "  heartbeat_p99 = %lldms\n  heartbeat_spread = %lldms", &ms_p99,
				&ms_spread),
			 2);
	assert_int_equal(1000 * ms_p99, us_p99);
	assert_int_equal(1000 * ms_spread, us_spread);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_plan") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rto30s_rpo0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rto200ms_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpo_margin_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rto_client_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpo5s_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tradeoff_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measure_closed_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_measure_node, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
