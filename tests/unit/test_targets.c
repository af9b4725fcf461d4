/* test_targets.c: the RTO/RPO planner (engine/core/targets.h): every plan keeps failover
 * within the RTO and its timers within what jitter and drift allow, infeasible targets
 * are refused in words, the commit rule follows the RPO, and the false-failover model
 * behaves as documented. Prints the plans for the default and the loopback examples. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/core/targets.h"
#include "hawser_error.h"

#define YEAR_MS (365.25 * 24.0 * 3600.0 * 1000.0)

/* A LAN-like cluster: p99 one-way delay 200 us, spread 150 us, 50k records/s replay,
 * election 300 ms, resume 500 ms, no backlog, k = 1, commit 400 us local, 900 us durable. */
static struct hw_tg_input lan(int64_t rto_ms, int64_t rpo_ms)
{
	return (struct hw_tg_input){
		.rto_ms = rto_ms,
		.rpo_ms = rpo_ms,
		.jitter_p99_us = 200,
		.jitter_spread_us = 150,
		.replay_rate = 50000.0,
		.election_ms = 300,
		.resume_ms = 500,
		.backlog_records = 0,
		.k = 1,
		.drift_ppm = 0,
		.commit_local_us = 400.0,
		.commit_durable_us = 900.0,
		.jitter_measured = true,
	};
}

static void show(const char *name, const struct hw_tg_plan *p)
{
	print_message("%s: renew %" PRId64 " ms, lease %" PRId64 " ms, drift margin %" PRId64
		      " ms, detection %" PRId64 " ms | failover %" PRId64 " = detection %" PRId64
		      " + election %" PRId64 " + replay %" PRId64 " + resume %" PRId64
		      " ms | replay budget %" PRIu64 " records | %s | false failovers %.3g/year\n",
		      name, p->renew_ms, p->lease_ms, p->drift_margin_ms, p->detection_ms,
		      p->failover_ms, p->detection_ms, p->election_ms, p->replay_ms, p->resume_ms,
		      p->replay_budget_records,
		      p->rule == HW_TG_RULE_DURABLE ? "commit: durable on k" : "commit: ahead",
		      p->false_failovers_per_year);
}

/* The invariants every successful plan keeps. */
static void check_plan(const struct hw_tg_input *in, const struct hw_tg_plan *p)
{
	int64_t ppm = in->drift_ppm > 0 ? in->drift_ppm : HW_TG_DRIFT_PPM_DEFAULT;
	assert_true(p->failover_ms <= in->rto_ms);
	assert_int_equal(p->failover_ms,
			 p->detection_ms + p->election_ms + p->replay_ms + p->resume_ms);
	assert_true(p->replay_ms >= 0);
	assert_true(p->detection_ms >= p->lease_ms + p->drift_margin_ms);
	assert_true(p->lease_ms >= HW_TG_RENEWS_PER_LEASE * p->renew_ms);
	assert_true(p->renew_ms >= p->renew_min_ms);
	assert_true(p->renew_min_ms * 1000 >= HW_TG_JITTER_FACTOR * in->jitter_p99_us);
	assert_true(p->detection_ms >= p->detection_min_ms);
	/* the margin covers two clocks each off by ppm over a lease, plus a ms */
	assert_true(p->drift_margin_ms * 1000000 >= p->lease_ms * 2 * ppm + 1000000);
	/* what the election core asserts of its config */
	assert_true(p->lease_ms >= 2 * p->renew_ms);
	assert_true(p->drift_margin_ms < p->lease_ms - p->renew_ms);
	assert_string_equal(p->why, "");
}

/* Across RTOs from 0.1 s to 10 min and jitters from loopback to a bad WAN, every plan that
 * is made keeps the failover sum within the RTO and its timers within their floors, and
 * every refusal says why. */
static void test_sum_within_rto(void **state)
{
	(void)state;
	static const int64_t rtos[] = {100, 250, 500, 1000, 2000, 5000, 30000, 120000, 600000};
	static const int64_t p99s[] = {0, 100, 1000, 20000, 200000};
	size_t made = 0, refused = 0;
	for (size_t i = 0; i < sizeof rtos / sizeof rtos[0]; i++) {
		for (size_t j = 0; j < sizeof p99s / sizeof p99s[0]; j++) {
			struct hw_tg_input in = lan(rtos[i], 0);
			in.jitter_p99_us = p99s[j];
			in.election_ms = rtos[i] / 20;
			in.resume_ms = rtos[i] / 20;
			struct hw_tg_plan p;
			int rc = hw_tg_plan(&in, &p);
			if (rc == 0) {
				check_plan(&in, &p);
				made++;
			} else {
				assert_int_equal(rc, HW_ERANGE);
				assert_non_null(strstr(p.why, "needs at least"));
				refused++;
			}
		}
	}
	assert_true(made > 20);
	assert_true(refused > 0);
}

/* An RTO whose budget after election and resume is below the jitter floor is refused with
 * the numbers in words; so is one that does not even cover election and resume; a bad
 * input is a config error. */
static void test_infeasible_refused(void **state)
{
	(void)state;
	struct hw_tg_input in = lan(200, 0);
	in.election_ms = 100;
	in.resume_ms = 60;
	in.jitter_p99_us = 1500; /* renew >= 15 ms, lease >= 60 ms, detection >= 62 ms */
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE);
	print_message("refused: %s\n", p.why);
	assert_non_null(strstr(p.why, "rto 200 ms leaves 40 ms for detection"));
	assert_non_null(strstr(p.why, "jitter (p99 1500 us) needs at least 62 ms"));
	assert_int_equal(p.detection_min_ms, 62);
	assert_int_equal(p.renew_min_ms, 15);

	in.election_ms = 150;
	in.resume_ms = 100;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE);
	assert_non_null(strstr(p.why, "leaves 0 ms for detection"));

	in = lan(0, 0);
	assert_int_equal(hw_tg_plan(&in, &p), HW_ECONFIG);
	assert_string_equal(p.why, "rto must be > 0");
	in = lan(1000, 0);
	in.replay_rate = 0.0;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ECONFIG);
	in = lan(1000, 0);
	in.k = 0;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ECONFIG);
	in = lan(1000, -1);
	assert_int_equal(hw_tg_plan(&in, &p), HW_ECONFIG);
}

/* RPO 0 makes the commit rule "durable on k standbys", with the durable latency and the
 * throughput it costs against local commits. */
static void test_rpo0_durable(void **state)
{
	(void)state;
	struct hw_tg_input in = lan(30000, 0);
	in.k = 2;
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	assert_int_equal(p.rule, HW_TG_RULE_DURABLE);
	assert_int_equal(p.k, 2);
	assert_int_equal(p.max_ahead_ms, 0);
	assert_true(p.commit_latency_us == 900.0);
	assert_true(p.throughput_cost > 0.5555 && p.throughput_cost < 0.5556); /* 1 - 4/9 */
}

/* RPO 5 s makes the rule "may run ahead by at most 5 s less the margin", at local
 * latency and no cost. The margin is the renew floor (10 p99 delays, at least 5 ms) plus
 * two clocks' drift over the rpo; an rpo not above it is refused. */
static void test_rpo5s_ahead(void **state)
{
	(void)state;
	struct hw_tg_input in = lan(30000, 5000);
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	assert_int_equal(p.rule, HW_TG_RULE_AHEAD);
	assert_int_equal(p.ahead_margin_ms, 5 + 5); /* floor 5 ms; 2 x 500 ppm x 5 s */
	assert_int_equal(p.max_ahead_ms, 4990);
	assert_true(p.commit_latency_us == 400.0);
	assert_true(p.throughput_cost == 0.0);
	check_plan(&in, &p);
	in.jitter_p99_us = 20000; /* renew floor 200 ms */
	in.drift_ppm = 100;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	assert_int_equal(p.ahead_margin_ms, 200 + 1);
	assert_int_equal(p.max_ahead_ms, 4799);
	in.rpo_ms = 201;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE);
	print_message("refused: %s\n", p.why);
	assert_non_null(strstr(p.why, "rpo 201 ms is not above the 201 ms"));
	assert_non_null(strstr(p.why, "choose rpo 0"));
	in.rpo_ms = 202;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	assert_int_equal(p.max_ahead_ms, 1);
}

/* The false-failover estimate falls as detection grows (strictly, once heartbeats fall
 * inside the window), is year/renew with no heartbeat in the window, and matches the
 * model exactly where it is easy to work out: one heartbeat due exactly at the p99. */
static void test_false_failovers_fall(void **state)
{
	(void)state;
	double prev = hw_tg_false_failovers_per_year(5, 5, 1000, 1000);
	assert_true(prev == YEAR_MS / 5.0);
	bool fell = false;
	for (int64_t d = 6; d <= 400; d++) {
		double f = hw_tg_false_failovers_per_year(d, 5, 1000, 1000);
		assert_true(f <= prev);
		fell |= f < prev;
		prev = f;
	}
	assert_true(fell);
	assert_true(prev < 1e-12);
	/* detection 10, renew 5: one heartbeat, due 5 ms = the p99 late: P = 0.01 exactly */
	double one = hw_tg_false_failovers_per_year(10, 5, 5000, 3000);
	double want = YEAR_MS / 5.0 * 0.01;
	assert_true(one > want * 0.999999 && one < want * 1.000001);
	/* a wider spread (heavier tail) means more false failovers at the same detection */
	assert_true(hw_tg_false_failovers_per_year(20, 5, 1000, 5000) >
		    hw_tg_false_failovers_per_year(20, 5, 1000, 500));
}

/* More jitter raises the renew floor and with it the detection floor; below the floor
 * constant the jitter does not matter. */
static void test_jitter_raises_minimum(void **state)
{
	(void)state;
	static const int64_t p99s[] = {0, 100, 499, 1000, 10000, 100000};
	static const int64_t want[] = {5, 5, 5, 10, 100, 1000};
	int64_t prev_det = 0;
	for (size_t i = 0; i < sizeof p99s / sizeof p99s[0]; i++) {
		struct hw_tg_input in = lan(600000, 0);
		in.jitter_p99_us = p99s[i];
		struct hw_tg_plan p;
		assert_int_equal(hw_tg_plan(&in, &p), 0);
		assert_int_equal(p.renew_min_ms, want[i]);
		assert_true(p.detection_min_ms >= prev_det);
		prev_det = p.detection_min_ms;
		check_plan(&in, &p);
	}
	assert_true(prev_det >= 4000);
}

/* The replay budget is exactly (rto - detection - election - resume) x replay rate, and
 * a backlog already there takes its replay time out of detection's room. */
static void test_replay_budget(void **state)
{
	(void)state;
	struct hw_tg_input in = lan(6000, 0);
	in.replay_rate = 12345.0;
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	int64_t left = in.rto_ms - p.detection_ms - in.election_ms - in.resume_ms;
	assert_int_equal(p.replay_ms, left);
	assert_int_equal(p.replay_budget_records, (uint64_t)((double)left * 12345.0 / 1000.0));
	assert_false(p.backlog_over_budget);

	/* 5 s of backlog at 10k/s: detection gets what is left (200 ms) */
	in = lan(6000, 0);
	in.replay_rate = 10000.0;
	in.backlog_records = 50000;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	assert_int_equal(p.replay_now_ms, 5000);
	assert_int_equal(p.detection_ms, 200);
	assert_true(p.replay_budget_records >= in.backlog_records);
	check_plan(&in, &p);
	/* 5.2 s of it: no room for detection */
	in.backlog_records = 52000;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE);
	assert_non_null(strstr(p.why, "replay of the current backlog 5200 ms"));
}

/* The default example (RTO 30 s, RPO 0, LAN) gives Patroni-like but tighter numbers:
 * detection at most 10 s where Patroni's ttl is 30 s, renew well under its 10 s loop. */
static void test_default_30s(void **state)
{
	(void)state;
	struct hw_tg_input in = lan(30000, 0);
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	show("rto 30 s, rpo 0, LAN", &p);
	check_plan(&in, &p);
	assert_int_equal(p.detection_ms, HW_TG_DETECTION_MAX_MS);
	assert_true(p.renew_ms < 10000 && p.lease_ms < 30000);
	assert_int_equal(p.replay_budget_records, 960000); /* 19.2 s x 50k/s */
	assert_true(p.false_failovers_per_year < 1e-9);
}

/* RTO 2 s is feasible on loopback jitter (p99 100 us), with a negligible false-failover
 * estimate. */
static void test_rto_2s_loopback(void **state)
{
	(void)state;
	struct hw_tg_input in = lan(2000, 0);
	in.jitter_p99_us = 100;
	in.jitter_spread_us = 60;
	in.election_ms = 50;
	in.resume_ms = 200;
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	show("rto 2 s, rpo 0, loopback", &p);
	check_plan(&in, &p);
	assert_true(p.detection_ms <= 1000);
	assert_true(p.false_failovers_per_year < 1e-6);
}

/* The defaults are the documented ones, plan for 30 s, and a durable commit costs more
 * than a local one. */
static void test_input_defaults(void **state)
{
	(void)state;
	struct hw_tg_input in;
	hw_tg_input_defaults(&in, 30000, 0, 2);
	assert_int_equal(in.rto_ms, 30000);
	assert_int_equal(in.rpo_ms, 0);
	assert_int_equal(in.k, 2);
	assert_int_equal(in.jitter_p99_us, HW_TG_DEFAULT_JITTER_P99_US);
	assert_int_equal(in.election_ms, HW_TG_DEFAULT_ELECTION_MS);
	assert_int_equal(in.resume_ms, HW_TG_DEFAULT_RESUME_MS);
	assert_int_equal(in.backlog_records, 0);
	assert_true(in.commit_durable_us > in.commit_local_us);
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	check_plan(&in, &p);
}

/* The RPO t rule's k: durability.k, at least 1 (mode local names none), raised to the
 * least k with which every majority of the voters holds a standby with the record, as
 * at rpo 0 (k 1 of 5 voters would let two lagging standbys and the witness elect), and
 * never more than there are standbys; voters not known (0) raise nothing. */
static void test_ahead_k(void **state)
{
	(void)state;
	assert_int_equal(hw_tg_ahead_k(0, 3, 1), 1);
	assert_int_equal(hw_tg_ahead_k(1, 4, 2), 1);
	assert_int_equal(hw_tg_ahead_k(2, 4, 2), 2);
	assert_int_equal(hw_tg_ahead_k(1, 5, 3), 2);
	assert_int_equal(hw_tg_ahead_k(0, 6, 4), 2);
	assert_int_equal(hw_tg_ahead_k(3, 5, 3), 3);
	assert_int_equal(hw_tg_ahead_k(1, 9, 7), 4);
	assert_int_equal(hw_tg_ahead_k(1, 9, 3), 3);
	assert_int_equal(hw_tg_ahead_k(1, 0, 3), 1);
	assert_int_equal(hw_tg_ahead_k(5, 0, 3), 3);
}

/* A primary (k = 1, rto 2 s, rpo 0) with two standbys: s1 in sync with a backlog, s2
 * disconnected and behind. */
static struct hw_tg_live live2(void)
{
	return (struct hw_tg_live){
		.failover = true,
		.primary = true,
		.self = "p1",
		.primary_id = "",
		.rto_ms = 2000,
		.rpo_ms = 0,
		.k = 1,
		.replay_rate = 20000.0,
		.durable_lsn = 1000,
		.committed_lsn = 990,
		.lease_left_ms = 70,
		.n_standbys = 2,
		.sb = {{"s1", true, 1000, 995, 600, 3}, {"s2", false, 500, 500, 500, 9000}},
	};
}

static struct hw_tg_plan plan_2s(void)
{
	struct hw_tg_input in;
	hw_tg_input_defaults(&in, 2000, 0, 1);
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	return p;
}

/* An in-sync standby: promoted automatically, terms sum up, the replay term is its
 * backlog at the replay rate, the at-risk records are the k-th standby's gap. */
static void test_now_in_sync(void **state)
{
	(void)state;
	struct hw_tg_live l = live2();
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_now o;
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.best, 0);
	assert_int_equal(o.backlog_records, 400);
	assert_int_equal(o.backlog_ms, 20);
	assert_int_equal(o.replay_ms, 20);
	assert_int_equal(o.detection_ms, p.detection_ms);
	assert_int_equal(o.failover_ms, o.detection_ms + o.election_ms + o.replay_ms + o.resume_ms);
	assert_int_equal(o.at_risk_records, 5);
	assert_int_equal(o.at_risk_ms, 3);
	assert_int_equal(o.loss_records, 0);
	assert_true(o.automatic && o.rto_holds && o.rpo_holds);
	assert_non_null(strstr(o.failover_why, "standby s1 in sync, lease held by p1 for 70 ms"));
	assert_non_null(strstr(o.rto_why, "<= rto 2000 ms"));
	assert_non_null(strstr(o.rpo_why, "loses nothing"));
}

/* The best connected standby lacks acknowledged records: no automatic promotion, the
 * loss is listed, neither target holds; a backlog too long to replay breaks the RTO. */
static void test_now_behind(void **state)
{
	(void)state;
	struct hw_tg_live l = live2();
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_now o;
	l.sb[0].durable = 980;
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.loss_records, 10);
	assert_false(o.automatic || o.rto_holds || o.rpo_holds);
	assert_non_null(strstr(o.failover_why, "no in-sync standby (best s1 durable 980 < "
					       "acknowledged 990)"));
	assert_non_null(strstr(o.failover_why, "promote --accept-loss"));
	assert_non_null(strstr(o.rpo_why, "loses 10 acknowledged records (LSNs 981..990)"));
	l = live2();
	l.sb[0].applied = 0; /* 1000 records at 20,000/s: 50 ms */
	l.rto_ms = p.detection_ms + p.election_ms + p.resume_ms + 10;
	hw_tg_now(&l, &p, &o);
	assert_true(o.automatic && o.rpo_holds);
	assert_false(o.rto_holds);
	assert_non_null(strstr(o.rto_why, "replaying 1000 backlog records takes 50 ms"));
	l.sb[0].connected = false;
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.best, -1);
	assert_false(o.automatic);
	assert_non_null(strstr(o.failover_why, "no standby connected"));
}

/* At RPO t a standby lacking only records acknowledged within t is promoted; k = 2
 * counts the second standby's gap;
 * without failover nothing is promised. */
static void test_now_rpo_k_static(void **state)
{
	(void)state;
	struct hw_tg_live l = live2();
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_now o;
	l.rpo_ms = 5000;
	l.sb[0].durable = 980;
	l.sb[0].lacks_ms = 4000; /* 981 was acknowledged 4 s ago */
	hw_tg_now(&l, &p, &o);
	assert_true(o.automatic && o.rpo_holds);
	assert_non_null(strstr(o.failover_why, "within the rpo"));
	assert_non_null(strstr(o.rpo_why, "within the rpo 5000 ms"));
	l = live2();
	l.k = 2;
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.at_risk_records, 500);
	assert_int_equal(o.at_risk_ms, 9000);
	l.k = 3; /* more than there are: everything durable locally is at risk */
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.at_risk_records, 1000);
	l = live2();
	l.failover = false;
	hw_tg_now(&l, NULL, &o);
	assert_false(o.automatic || o.rto_holds || o.rpo_holds);
	assert_int_equal(o.failover_ms, 0);
	assert_int_equal(o.backlog_records, 400);
	assert_non_null(strstr(o.failover_why, "no [failover]"));
}

/* At RPO t the verdict is by data: how long ago the oldest acknowledged record the
 * standby a failover would promote lacks was acknowledged, not when it was last heard. A
 * standby heard 10 ms ago that lacks 60,000 records, the oldest acknowledged 5 s ago,
 * breaks an rpo of 1 s; one whose oldest missing record is 800 ms old keeps it. */
static void test_now_rpo_by_data(void **state)
{
	(void)state;
	struct hw_tg_live l = live2();
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_now o;
	l.rpo_ms = 1000;
	l.durable_lsn = l.committed_lsn = 70000;
	l.sb[0] = (struct hw_tg_standby){"s1", true, 10000, 10000, 10000, 10, 5000};
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.loss_records, 60000);
	assert_int_equal(o.loss_age_ms, 5000);
	assert_false(o.rpo_holds || o.automatic);
	print_message("rpo: %s\n", o.rpo_why);
	assert_non_null(strstr(o.rpo_why, "the oldest acknowledged 5000 ms ago), more than the "
					  "rpo 1000 ms allows"));
	assert_non_null(strstr(o.failover_why, "no in-sync standby"));
	l.sb[0].lacks_ms = 800;
	hw_tg_now(&l, &p, &o);
	assert_true(o.rpo_holds && o.automatic);
	assert_non_null(strstr(o.rpo_why, "800 ms ago), within the rpo 1000 ms"));
	l.sb[0].lacks_ms = -1; /* not known: when it was heard decides */
	hw_tg_now(&l, &p, &o);
	assert_true(o.rpo_holds);
	assert_non_null(strstr(o.rpo_why, "judged by when the primary was last heard, 10 ms"));
	l.sb[0].silent_ms = 1001;
	hw_tg_now(&l, &p, &o);
	assert_false(o.rpo_holds);
}

/* A standby judges itself against its primary's durable LSN. */
static void test_now_standby(void **state)
{
	(void)state;
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_live l = {.failover = true,
			       .self = "s1",
			       .primary_id = "p1",
			       .rto_ms = 2000,
			       .k = 1,
			       .replay_rate = 20000.0,
			       .durable_lsn = 50,
			       .committed_lsn = 50,
			       .lease_left_ms = -1,
			       .n_standbys = 1,
			       .sb = {{"s1", true, 50, 50, 50, 4, -1}}};
	struct hw_tg_now o;
	hw_tg_now(&l, &p, &o);
	assert_true(o.automatic && o.rto_holds && o.rpo_holds);
	assert_int_equal(o.at_risk_records, 0);
	assert_non_null(strstr(o.failover_why, "following p1 (heard 4 ms ago)"));
	l.committed_lsn = l.durable_lsn = 60;
	hw_tg_now(&l, &p, &o);
	assert_false(o.automatic);
	assert_int_equal(o.at_risk_records, 10);
	assert_non_null(strstr(o.failover_why, "is behind (durable 50 < 60)"));
}

/* Without a measure the refusal says the jitter was assumed (the LAN default), not
 * measured; a measured one says measured. */
static void test_refusal_says_assumed(void **state)
{
	(void)state;
	struct hw_tg_input in;
	hw_tg_input_defaults(&in, 500, 0, 1);
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE);
	print_message("refused: %s\n", p.why);
	assert_non_null(strstr(p.why, "but the assumed heartbeat jitter (p99 2000 us, a LAN's: "
				      "nothing measured) needs at least"));
	assert_null(strstr(p.why, "measured heartbeat"));
	in.jitter_measured = true;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE);
	assert_non_null(strstr(p.why, "but the measured heartbeat jitter (p99 2000 us) needs"));
}

/* A hung primary's clients notice after max(4 heartbeats, 1 s): an RTO shorter than that
 * plus resume is refused in words, even where detection, election and replay fit, and the
 * smallest RTO counts it; the defaults judge clients of a 100 ms heartbeat. */
static void test_client_silence(void **state)
{
	(void)state;
	assert_int_equal(hw_tg_client_silence_ms(100), 1000);
	assert_int_equal(hw_tg_client_silence_ms(2000), 8000);
	assert_int_equal(hw_tg_client_silence_ms(0), 0);
	struct hw_tg_input in;
	hw_tg_input_defaults(&in, 1000, 0, 1);
	assert_int_equal(in.client_silence_ms, 1000);
	struct hw_tg_plan p;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE); /* 582 ms of terms fit; clients do not */
	print_message("refused: %s\n", p.why);
	assert_non_null(strstr(p.why, "rto 1000 ms is shorter than a hung primary's clients take: "
				      "they notice it only after 1000 ms of silence (4 of the "
				      "node's heartbeats, at least 1000 ms) and resume takes 300 "
				      "ms more"));
	assert_int_equal(hw_tg_rto_min_ms(&in, &p), 1300);
	in.rto_ms = 1300;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	check_plan(&in, &p);
	in.client_silence_ms = hw_tg_client_silence_ms(2000);
	in.rto_ms = 5000;
	assert_int_equal(hw_tg_plan(&in, &p), HW_ERANGE);
	assert_int_equal(hw_tg_rto_min_ms(&in, &p), 8300);
	/* not judged (0): only the terms count */
	in.client_silence_ms = 0;
	in.rto_ms = 600;
	assert_int_equal(hw_tg_plan(&in, &p), 0);
	assert_int_equal(hw_tg_rto_min_ms(&in, &p), 582);
}

/* Never heard is not a time: a standby never heard shows HW_TG_NEVER as its at-risk
 * silence, and a standby that never heard its primary says so. With no standby
 * connected the loss counts from the highest durable LSN known of a disconnected one. */
static void test_now_never_heard(void **state)
{
	(void)state;
	struct hw_tg_live l = live2();
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_now o;
	l.sb[0].connected = false;
	l.sb[0].durable = 600;
	l.sb[1].durable = 700;
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.best, -1);
	assert_int_equal(o.loss_records, 290); /* 990 acknowledged, s2 durable 700 */
	assert_string_equal(o.rpo_why, "no standby connected to promote: the one that last held "
				       "the most lacks 290 acknowledged records (LSNs 701..990)");
	l.sb[0].durable = 950; /* the most any says it holds */
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.loss_records, 40);
	l.sb[0].durable = 995;
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.loss_records, 0);
	assert_false(o.rpo_holds);
	assert_string_equal(o.rpo_why, "no standby connected to promote: the one that last held "
				       "the most lacks nothing acknowledged");
	l = live2();
	l.k = 2;
	l.sb[1].silent_ms = HW_TG_NEVER;
	hw_tg_now(&l, &p, &o);
	assert_int_equal(o.at_risk_records, 500);
	assert_int_equal(o.at_risk_ms, HW_TG_NEVER);
	struct hw_tg_live s = {.failover = true,
			       .self = "s1",
			       .primary_id = "p1",
			       .rto_ms = 2000,
			       .rpo_ms = 1000,
			       .k = 1,
			       .replay_rate = 20000.0,
			       .durable_lsn = 60,
			       .committed_lsn = 60,
			       .lease_left_ms = -1,
			       .n_standbys = 1,
			       .sb = {{"s1", true, 50, 50, 50, HW_TG_NEVER, -1}}};
	hw_tg_now(&s, &p, &o);
	assert_non_null(strstr(o.failover_why, "following p1 (never heard)"));
	assert_false(o.automatic); /* behind, and never heard is not within the rpo */
}

/* live2() with the election view: p1, s1, s2 and w1 (4 voters, a majority of 3), every
 * other voter answering p1's lease rounds, and a submit waiting for 1 standby. */
static struct hw_tg_live live2_voters(void)
{
	struct hw_tg_live l = live2();
	l.sb[1].connected = true;
	l.sb[1].durable = l.sb[1].received = 995; /* s1 is ahead in applied: promoted */
	l.sb[1].applied = 500;
	l.ack_standbys = 1;
	l.voters = 4;
	l.n_electors = 3;
	l.electors[0] = (struct hw_tg_voter){"s1", true, NULL};
	l.electors[1] = (struct hw_tg_voter){"s2", true, NULL};
	l.electors[2] = (struct hw_tg_voter){"w1", true, NULL};
	l.primary_silent_ms = -1;
	return l;
}

/* On a primary: with every voter answering and a standby left over, the RTO holds; with
 * the witness silent s1 and s2 are no majority without p1, so no failover can happen:
 * the RTO does not hold, both reasons say why, and the RPO's promises nothing of a
 * failover now (no_failover: status shows no prediction), and a standby whose storage
 * failed (it refuses the lease) is named as refusing, not as unreached; with only one
 * standby connected, the
 * new primary would have none left for a submit's k, and the RTO does not hold either. */
static void test_now_primary_hurdles(void **state)
{
	(void)state;
	struct hw_tg_live l = live2_voters();
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_now o;
	hw_tg_now(&l, &p, &o);
	assert_true(o.automatic && o.rto_holds);
	assert_false(o.no_failover);
	assert_string_equal(o.rpo_why, "a failover now loses nothing acknowledged");
	assert_non_null(strstr(o.failover_why, "s1 is promoted after about"));
	l.electors[2].reached = false;
	hw_tg_now(&l, &p, &o);
	assert_true(o.automatic && o.rpo_holds && o.no_failover);
	assert_false(o.rto_holds);
	assert_string_equal(o.rpo_why, "no failover can happen now (see rto); should one become "
				       "possible, it loses nothing acknowledged");
	print_message("rto: %s\nfailover: %s\n", o.rto_why, o.failover_why);
	assert_string_equal(o.rto_why, "no failover can happen: electing a new primary needs 3 of "
				       "the 4 voters, and without p1 only 2 are reached "
				       "(unreached: w1)");
	assert_non_null(strstr(o.failover_why, "if it stops renewing, s1 cannot be elected: "
					       "electing a new primary needs 3 of the 4 voters"));
	l.electors[2].reached = true;
	l.electors[1] = (struct hw_tg_voter){"s2", false, "storage_failed"}; /* refused leases */
	hw_tg_now(&l, &p, &o);
	assert_string_equal(o.rto_why, "no failover can happen: electing a new primary needs 3 of "
				       "the 4 voters, and without p1 only 2 are reached "
				       "(refused by s2 (storage_failed))");
	l = live2_voters();
	l.sb[1].connected = false; /* s2 gone: s1 would be alone */
	hw_tg_now(&l, &p, &o);
	assert_false(o.rto_holds);
	assert_string_equal(o.rto_why, "after a failover the new primary would have 0 standbys, "
				       "fewer than the 1 a submit waits for: acknowledgements "
				       "stop until p1 or another standby returns");
	l.ack_standbys = 0; /* mode local: nothing waits for a standby */
	hw_tg_now(&l, &p, &o);
	assert_true(o.rto_holds);
}

/* s1 judging itself as the one standby of p1, in sync, with s2 and the witness w1 all
 * reached (4 voters, k 1), p1 heard 4 ms ago. */
static struct hw_tg_live standby_live(void)
{
	return (struct hw_tg_live){
		.failover = true,
		.self = "s1",
		.primary_id = "p1",
		.rto_ms = 2000,
		.k = 1,
		.replay_rate = 20000.0,
		.durable_lsn = 50,
		.committed_lsn = 50,
		.lease_left_ms = -1,
		.n_standbys = 1,
		.sb = {{"s1", true, 50, 50, 50, 4, -1}},
		.ack_standbys = 1,
		.standbys_after = 1,
		.voters = 4,
		.n_electors = 3,
		.electors = {{"s1", true, NULL}, {"s2", true, NULL}, {"w1", true, NULL}},
		.primary_silent_ms = 4};
}

/* On a standby (s1 of p1, s2, w1): its primary silent past detection + election with no
 * failover says the RTO does not hold, naming who would not vote; the same with the
 * witness's link down says no majority is reached; before that, a witness unreached
 * already keeps the RTO from holding; and a standby alone (the minimal topology, k = 1)
 * would leave acknowledgements stopped. */
static void test_now_standby_hurdles(void **state)
{
	(void)state;
	struct hw_tg_plan p = plan_2s();
	struct hw_tg_live l = standby_live();
	struct hw_tg_now o;
	hw_tg_now(&l, &p, &o);
	assert_true(o.automatic && o.rto_holds);
	l.primary_silent_ms = p.detection_ms + p.election_ms + 1;
	l.sb[0].silent_ms = l.primary_silent_ms;
	l.electors[2].refused = "not_in_sync";
	hw_tg_now(&l, &p, &o);
	assert_false(o.rto_holds);
	print_message("rto: %s\nfailover: %s\n", o.rto_why, o.failover_why);
	assert_non_null(strstr(o.rto_why, "ms, and no failover has happened: refused by w1 "
					  "(not_in_sync)"));
	assert_non_null(strstr(o.rto_why, "p1 silent for "));
	assert_non_null(strstr(o.failover_why, "(s1) is in sync but has not been elected"));
	l.electors[2] = (struct hw_tg_voter){"w1", false, NULL};
	hw_tg_now(&l, &p, &o);
	assert_non_null(strstr(o.rto_why, "no failover has happened: electing a new primary "
					  "needs 3 of the 4 voters, and without p1 only 2 are "
					  "reached (unreached: w1)"));
	l.primary_silent_ms = l.sb[0].silent_ms = 4; /* p1 heard: a failover still could not be */
	hw_tg_now(&l, &p, &o);
	assert_false(o.rto_holds);
	assert_non_null(strstr(o.rto_why, "no failover can happen"));
	assert_non_null(strstr(o.failover_why, "campaigns after"));
	assert_non_null(strstr(o.failover_why, "but cannot win"));
	/* primary, s1, witness (k = 1): s1 promoted has no standby */
	l.voters = 3;
	l.n_electors = 2;
	l.electors[1] = (struct hw_tg_voter){"w1", true, NULL};
	l.standbys_after = 0;
	hw_tg_now(&l, &p, &o);
	assert_false(o.rto_holds);
	assert_non_null(strstr(o.rto_why, "the new primary would have 0 standbys, fewer than the 1 "
					  "a submit waits for: acknowledgements stop until p1 or "
					  "another standby returns"));
}

/* A voter is heard while the last frame from it is at most 3 of its beats old (the renew
 * interval it promised: 187 ms at rto 2 s), with fake times; an older voter that promised
 * no beat is judged by its link alone, and a beat no plan makes is capped at the longest
 * detection. A standby whose witness went silent counts it unreached. */
static void test_voter_heard(void **state)
{
	(void)state;
	struct hw_tg_plan p = plan_2s();
	int64_t beat = p.renew_ms, heard = 1000000;
	assert_int_equal(beat, 187);
	assert_true(hw_tg_voter_heard(heard, heard, beat));
	assert_true(hw_tg_voter_heard(heard, heard + 2 * beat + beat / 2, beat)); /* two lost */
	assert_true(hw_tg_voter_heard(heard, heard + HW_TG_VOTER_SILENT_BEATS * beat, beat));
	assert_false(hw_tg_voter_heard(heard, heard + HW_TG_VOTER_SILENT_BEATS * beat + 1, beat));
	assert_true(hw_tg_voter_heard(heard, heard - 5, beat)); /* heard after now was read */
	/* detection (4 renewals and the drift margin) outlasts the silence that counts */
	assert_true(HW_TG_VOTER_SILENT_BEATS * beat < p.detection_ms);
	/* an older voter promised nothing: its silence says nothing */
	assert_true(hw_tg_voter_heard(heard, heard + 86400000, 0));
	int64_t cap = HW_TG_VOTER_SILENT_BEATS * HW_TG_DETECTION_MAX_MS;
	assert_true(hw_tg_voter_heard(heard, heard + cap, INT64_MAX / 4));
	assert_false(hw_tg_voter_heard(heard, heard + cap + 1, INT64_MAX / 4));
	/* s1 judging itself, s2 and the witness, the witness silent for 4 beats */
	int64_t now = heard + 4 * beat;
	struct hw_tg_live l = standby_live();
	l.electors[1].reached = hw_tg_voter_heard(now - beat, now, beat);
	l.electors[2].reached = hw_tg_voter_heard(heard, now, beat);
	struct hw_tg_now o;
	hw_tg_now(&l, &p, &o);
	assert_false(o.rto_holds);
	print_message("rto: %s\n", o.rto_why);
	assert_non_null(strstr(o.rto_why, "no failover can happen: electing a new primary needs 3 "
					  "of the 4 voters, and without p1 only 2 are reached "
					  "(unreached: w1)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum_within_rto),
		cmocka_unit_test(test_infeasible_refused),
		cmocka_unit_test(test_rpo0_durable),
		cmocka_unit_test(test_now_rpo_by_data),
		cmocka_unit_test(test_rpo5s_ahead),
		cmocka_unit_test(test_false_failovers_fall),
		cmocka_unit_test(test_jitter_raises_minimum),
		cmocka_unit_test(test_replay_budget),
		cmocka_unit_test(test_default_30s),
		cmocka_unit_test(test_rto_2s_loopback),
		cmocka_unit_test(test_input_defaults),
		cmocka_unit_test(test_ahead_k),
		cmocka_unit_test(test_now_in_sync),
		cmocka_unit_test(test_now_behind),
		cmocka_unit_test(test_now_rpo_k_static),
		cmocka_unit_test(test_now_standby),
		cmocka_unit_test(test_refusal_says_assumed),
		cmocka_unit_test(test_client_silence),
		cmocka_unit_test(test_now_never_heard),
		cmocka_unit_test(test_now_primary_hurdles),
		cmocka_unit_test(test_now_standby_hurdles),
		cmocka_unit_test(test_voter_heard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
