/* test_drills.c: the drill history (replica/drills.h): row encoding (scope and target
 * point too), append and list on a real store, that the last run and pass pass over rows
 * of partial scope, that the history stays out of the state digest, the schedule logic
 * (on time, due, overdue, never passed, not scheduled), durations, and [drills] in the node
 * config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/config.h"
#include "hawser_error.h"
#include "replica/drills.h"
#include "replica/store.h"

#define DAY_MS  (24LL * 3600 * 1000)
#define HOUR_MS (3600LL * 1000)
/* 2026-11-26T10:00:00Z: a fixed "now" so the schedule tests repeat. */
#define NOW_MS 1795687200000LL

struct fx {
	char dir[256];
	char store[300];
	char conf[300];
	struct hw_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const char *tmp = getenv("HW_TEST_TMP");
	if (tmp == NULL || !*tmp)
		tmp = "/tmp";
	mkdir(tmp, 0700);
	snprintf(f->dir, sizeof f->dir, "%s/drills-XXXXXX", tmp);
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->store, sizeof f->store, "%s/store", f->dir);
	snprintf(f->conf, sizeof f->conf, "%s/node.conf", f->dir);
	if (hw_store_init(f->store) != 0 || hw_store_open(f->store, NULL, &f->s) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

static struct hw_drill_row row_of(enum hw_drill_kind kind, enum hw_drill_result result,
				  int64_t time_ms, const char *what)
{
	struct hw_drill_row r;
	memset(&r, 0, sizeof r);
	r.kind = kind;
	r.result = result;
	r.time_ms = time_ms;
	r.duration_ms = 1234;
	r.lsn = 200000;
	r.entries = 199999;
	r.target_ms = 12 * HOUR_MS;
	snprintf(r.what, sizeof r.what, "%s", what);
	snprintf(r.report, sizeof r.report, "/var/lib/hawser/p1.drills/%s.json",
		 hw_drill_kind_name(kind));
	return r;
}

/* A row survives encode and decode field for field; a cut or altered value is refused. */
static void test_row_round_trip(void **state)
{
	(void)state;
	struct hw_drill_row in =
		row_of(HW_DRILL_RESTORE, HW_DRILL_FAIL, NOW_MS, "log.hwl is truncated");
	uint8_t buf[HW_DRILL_ROW_BYTES_MAX];
	size_t len;
	assert_int_equal(hw_drill_row_encode(&in, buf, sizeof buf, &len), 0);
	struct hw_drill_row out;
	memset(&out, 0, sizeof out);
	assert_int_equal(hw_drill_row_decode(buf, len, &out), 0);
	assert_int_equal(out.kind, HW_DRILL_RESTORE);
	assert_int_equal(out.result, HW_DRILL_FAIL);
	assert_int_equal(out.duration_ms, 1234);
	assert_int_equal(out.lsn, 200000);
	assert_int_equal(out.entries, 199999);
	assert_int_equal(out.target_ms, 12 * HOUR_MS);
	assert_string_equal(out.what, "log.hwl is truncated");
	assert_string_equal(out.report, in.report);
	assert_int_equal(hw_drill_row_decode(buf, len - 1, &out), HW_ECORRUPT);
	buf[0] = 9; /* unknown format */
	assert_int_equal(hw_drill_row_decode(buf, len, &out), HW_ECORRUPT);
	in.kind = (enum hw_drill_kind)7;
	assert_int_equal(hw_drill_row_encode(&in, buf, sizeof buf, &len), HW_ERANGE);
}

/* A row's scope and target point survive encode and decode: format 2 with a point, format
 * 1 (the scope in its once reserved byte) without, so that a row written before the scope
 * was a field (that byte 0) reads as of full scope. */
static void test_row_scope_point(void **state)
{
	(void)state;
	struct hw_drill_row in = row_of(HW_DRILL_RESTORE, HW_DRILL_PASS, NOW_MS, "ok");
	in.scope = HW_DRILL_SCOPE_OLDER | HW_DRILL_SCOPE_POINT;
	in.point_ms = NOW_MS - HOUR_MS;
	uint8_t buf[HW_DRILL_ROW_BYTES_MAX];
	size_t len;
	struct hw_drill_row out;
	assert_int_equal(hw_drill_row_encode(&in, buf, sizeof buf, &len), 0);
	assert_int_equal(buf[0], 2);
	memset(&out, 0, sizeof out);
	assert_int_equal(hw_drill_row_decode(buf, len, &out), 0);
	assert_int_equal(out.scope, HW_DRILL_SCOPE_OLDER | HW_DRILL_SCOPE_POINT);
	assert_int_equal(out.point_lsn, 0);
	assert_int_equal(out.point_ms, NOW_MS - HOUR_MS);
	assert_string_equal(out.report, in.report);
	assert_string_equal(hw_drill_scope_name(out.scope), "older generation, point in time");
	assert_int_equal(hw_drill_row_decode(buf, len - 1, &out), HW_ECORRUPT);
	in.point_ms = 0;
	in.scope = HW_DRILL_SCOPE_OLDER;
	assert_int_equal(hw_drill_row_encode(&in, buf, sizeof buf, &len), 0);
	assert_int_equal(buf[0], 1);
	assert_int_equal(hw_drill_row_decode(buf, len, &out), 0);
	assert_int_equal(out.scope, HW_DRILL_SCOPE_OLDER);
	assert_int_equal(out.point_ms, 0);
	buf[3] = 0; /* as written before */
	assert_int_equal(hw_drill_row_decode(buf, len, &out), 0);
	assert_int_equal(out.scope, HW_DRILL_SCOPE_FULL);
	assert_string_equal(hw_drill_scope_name(out.scope), "full");
}

/* A row not of full scope (an older generation restored, or to a point) is history, not
 * the run the schedule counts: the last row and the last pass pass over it, and the list
 * has it. */
static void test_last_full_scope(void **state)
{
	struct fx *f = *state;
	struct hw_drill_row fail = row_of(HW_DRILL_RESTORE, HW_DRILL_FAIL, NOW_MS - DAY_MS, "bad");
	struct hw_drill_row older = row_of(HW_DRILL_RESTORE, HW_DRILL_PASS, NOW_MS, "older");
	older.scope = HW_DRILL_SCOPE_OLDER;
	assert_int_equal(hw_store_drill_append(f->s, &fail), 0);
	assert_int_equal(hw_store_drill_append(f->s, &older), 0);
	struct hw_drill_row got;
	assert_int_equal(hw_store_drill_last(f->s, HW_DRILL_RESTORE, false, &got), 0);
	assert_string_equal(got.what, "bad");
	assert_int_equal(hw_store_drill_last(f->s, HW_DRILL_RESTORE, true, &got), HW_ENOTFOUND);
	struct hw_drill_row rows[4];
	size_t n;
	assert_int_equal(hw_store_drill_list(f->s, HW_DRILL_RESTORE, rows, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].scope, HW_DRILL_SCOPE_OLDER);
}

/* Rows come back newest first, filtered by kind; two runs in one millisecond both stay. */
static void test_append_and_list(void **state)
{
	struct fx *f = *state;
	struct hw_drill_row r[4] = {
		row_of(HW_DRILL_VERIFY, HW_DRILL_PASS, NOW_MS - 2 * DAY_MS, "ok"),
		row_of(HW_DRILL_RESTORE, HW_DRILL_PASS, NOW_MS - DAY_MS, "ok"),
		row_of(HW_DRILL_VERIFY, HW_DRILL_FAIL, NOW_MS, "digest differs"),
		row_of(HW_DRILL_VERIFY, HW_DRILL_PASS, NOW_MS, "ok again"),
	};
	for (int i = 0; i < 4; i++)
		assert_int_equal(hw_store_drill_append(f->s, &r[i]), 0);
	assert_int_equal(r[2].seq, 0);
	assert_int_equal(r[3].seq, 1); /* same millisecond: next sequence */
	struct hw_drill_row got[8];
	size_t n;
	assert_int_equal(hw_store_drill_list(f->s, 0, got, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(got[0].what, "ok again");
	assert_string_equal(got[1].what, "digest differs");
	assert_int_equal(got[2].kind, HW_DRILL_RESTORE);
	assert_int_equal(got[3].time_ms, NOW_MS - 2 * DAY_MS);
	assert_int_equal(hw_store_drill_list(f->s, HW_DRILL_VERIFY, got, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(got[1].result, HW_DRILL_FAIL);
	struct hw_drill_row last;
	assert_int_equal(hw_store_drill_last(f->s, HW_DRILL_RESTORE, true, &last), 0);
	assert_int_equal(last.time_ms, NOW_MS - DAY_MS);
	assert_int_equal(hw_store_drill_last(f->s, HW_DRILL_FAILOVER, false, &last), HW_ENOTFOUND);
}

/* The newest pass is found behind newer failures, and a read-only handle reads it too. */
static void test_last_pass_read_only(void **state)
{
	struct fx *f = *state;
	struct hw_drill_row pass =
		row_of(HW_DRILL_RESTORE, HW_DRILL_PASS, NOW_MS - 3 * DAY_MS, "ok");
	struct hw_drill_row fail1 = row_of(HW_DRILL_RESTORE, HW_DRILL_FAIL, NOW_MS - DAY_MS, "bad");
	struct hw_drill_row fail2 = row_of(HW_DRILL_RESTORE, HW_DRILL_ERROR, NOW_MS, "no disk");
	assert_int_equal(hw_store_drill_append(f->s, &pass), 0);
	assert_int_equal(hw_store_drill_append(f->s, &fail1), 0);
	assert_int_equal(hw_store_drill_append(f->s, &fail2), 0);
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *ro;
	assert_int_equal(hw_store_open(f->store, &o, &ro), 0);
	struct hw_drill_row got;
	assert_int_equal(hw_store_drill_last(ro, HW_DRILL_RESTORE, true, &got), 0);
	assert_int_equal(got.time_ms, NOW_MS - 3 * DAY_MS);
	assert_int_equal(hw_store_drill_last(ro, HW_DRILL_RESTORE, false, &got), 0);
	assert_int_equal(got.result, HW_DRILL_ERROR);
	assert_int_equal(hw_store_drill_append(ro, &pass), -EROFS);
	hw_store_close(ro);
}

/* The history is node-local: appending rows leaves the state digest and the head alone. */
static void test_history_not_in_digest(void **state)
{
	struct fx *f = *state;
	uint8_t before[HW_HASH_BYTES], after[HW_HASH_BYTES];
	struct hw_head h0, h1;
	assert_int_equal(hw_store_digest(f->s, before), 0);
	assert_int_equal(hw_store_head(f->s, &h0), 0);
	struct hw_drill_row r = row_of(HW_DRILL_VERIFY, HW_DRILL_PASS, NOW_MS, "ok");
	assert_int_equal(hw_store_drill_append(f->s, &r), 0);
	assert_int_equal(hw_store_digest(f->s, after), 0);
	assert_int_equal(hw_store_head(f->s, &h1), 0);
	assert_memory_equal(before, after, HW_HASH_BYTES);
	assert_int_equal(h0.lsn, h1.lsn);
}

/* Schedule: unscheduled, never passed (its name says so: a kind whose runs failed has
 * run), on time, exactly due (not yet overdue), overdue. */
static void test_schedule_due(void **state)
{
	(void)state;
	struct hw_drill_due d;
	struct hw_drill_row r = row_of(HW_DRILL_VERIFY, HW_DRILL_PASS, NOW_MS - DAY_MS / 2, "ok");
	hw_drill_due(0, &r, NOW_MS, &d);
	assert_int_equal(d.state, HW_DRILL_UNSCHEDULED);
	hw_drill_due(DAY_MS, NULL, NOW_MS, &d);
	assert_int_equal(d.state, HW_DRILL_NEVER);
	assert_string_equal(hw_drill_state_name(d.state), "never passed");
	hw_drill_due(DAY_MS, &r, NOW_MS, &d);
	assert_int_equal(d.state, HW_DRILL_ON_TIME);
	assert_int_equal(d.due_ms, NOW_MS + DAY_MS / 2);
	r.time_ms = NOW_MS - DAY_MS;
	hw_drill_due(DAY_MS, &r, NOW_MS, &d);
	assert_int_equal(d.state, HW_DRILL_ON_TIME);
	r.time_ms = NOW_MS - 8 * DAY_MS;
	hw_drill_due(7 * DAY_MS, &r, NOW_MS, &d);
	assert_int_equal(d.state, HW_DRILL_OVERDUE);
	assert_int_equal(d.overdue_ms, DAY_MS);
	assert_string_equal(hw_drill_state_name(d.state), "overdue");
}

/* Durations format for people; kind names parse back (durations parse in base/duration.h,
 * tests/unit/test_base.c). */
static void test_durations(void **state)
{
	(void)state;
	char buf[32];
	assert_string_equal(hw_drill_duration_format(DAY_MS + 2 * HOUR_MS, buf, sizeof buf),
			    "1d2h");
	assert_string_equal(hw_drill_duration_format(1250, buf, sizeof buf), "1.25 s");
	assert_string_equal(hw_drill_duration_format(7 * DAY_MS, buf, sizeof buf), "7d");
	assert_int_equal(hw_drill_kind_parse("restore"), HW_DRILL_RESTORE);
	assert_int_equal(hw_drill_kind_parse("fire"), -1);
}

/* A time judged against a target reads as larger than it when it is: a restore 59 s past
 * a 12 h restore_rto printed "12h ... restore_rto 12h" and failed, a failover p99 of
 * 2000.4 ms "2000 ms is over the target 2000 ms". Times that read apart already, or equal
 * ones, keep their short form. */
static void test_durations_against_target(void **state)
{
	(void)state;
	char a[64], b[64];
	int64_t past = 12 * HOUR_MS + 59000;
	assert_string_equal(hw_drill_duration_vs(past, 12 * HOUR_MS, a, sizeof a), "12h0m59s");
	assert_string_equal(hw_drill_duration_vs(12 * HOUR_MS, past, b, sizeof b), "12h0m0s");
	assert_string_equal(hw_drill_duration_vs(DAY_MS + 59 * 60000, DAY_MS, a, sizeof a),
			    "1d0h59m0s");
	assert_string_equal(hw_drill_duration_vs(12 * HOUR_MS + 1, 12 * HOUR_MS, a, sizeof a),
			    "12h0m0.001s");
	assert_string_equal(hw_drill_duration_vs(-(DAY_MS + 1000), -DAY_MS, a, sizeof a),
			    "-1d0h0m1s");
	assert_string_equal(hw_drill_duration_vs(13 * HOUR_MS, 12 * HOUR_MS, a, sizeof a), "13h");
	assert_string_equal(hw_drill_duration_vs(DAY_MS, DAY_MS, a, sizeof a), "1d");
	assert_string_equal(hw_drill_ms_format(2000.4, 2000, a, sizeof a), "2000.4");
	assert_string_equal(hw_drill_ms_format(2000.04, 2000, a, sizeof a), "2000.04");
	assert_string_equal(hw_drill_ms_format(2000.0, 2000, a, sizeof a), "2000");
	assert_string_equal(hw_drill_ms_format(1999.7, 2000, a, sizeof a), "2000");
	assert_string_equal(hw_drill_ms_format(2000.6, 2000, a, sizeof a), "2001");
	assert_string_equal(hw_drill_ms_format(1234.4, 2000, a, sizeof a), "1234");
}

static int load(struct fx *f, const char *text, struct hw_config *c, char *err, size_t cap)
{
	FILE *fp = fopen(f->conf, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	return hw_config_load(f->conf, c, err, cap);
}

#define CONF_HEAD "[cluster]\nid = yard\n[node]\nid = p1\nrole = primary\ndata_dir = /x\n"

/* [drills] reads schedules, targets and paths; defaults fill what is left out. */
static void test_config_drills(void **state)
{
	struct fx *f = *state;
	static struct hw_config c;
	char err[512];
	assert_int_equal(load(f,
			      CONF_HEAD "[drills]\nverify = 12h\nfailover = 0\nrestore_rto = 2h\n"
					"backup_dir = /backup/p1\nbackup_generations_min = 3\n"
					"keys = /etc/a.key, /etc/b.key\nwitness = 127.0.0.1:7900\n",
			      &c, err, sizeof err),
			 0);
	assert_int_equal(c.drills.every_ms[HW_DRILL_VERIFY], 12 * HOUR_MS);
	assert_int_equal(c.drills.every_ms[HW_DRILL_RESTORE], 7 * DAY_MS); /* default */
	assert_int_equal(c.drills.every_ms[HW_DRILL_FAILOVER], 0);
	assert_int_equal(c.drills.restore_rto_ms, 2 * HOUR_MS);
	assert_string_equal(c.drills.backup_dir, "/backup/p1");
	assert_int_equal(c.drills.backup_generations_min, 3);
	assert_int_equal(c.drills.retention_days_min, 30);
	assert_int_equal(c.drills.n_keys, 2);
	assert_string_equal(c.drills.keys[1], "/etc/b.key");
	assert_string_equal(c.drills.witness, "127.0.0.1:7900");
	assert_false(c.drills.allow_fault); /* default: no fault injection */
}

/* [drills] allow_fault takes true or false only; anything else names the key. */
static void test_config_allow_fault(void **state)
{
	struct fx *f = *state;
	static struct hw_config c;
	char err[512];
	assert_int_equal(load(f, CONF_HEAD "[drills]\nallow_fault = true\n", &c, err, sizeof err),
			 0);
	assert_true(c.drills.allow_fault);
	assert_int_equal(load(f, CONF_HEAD "[drills]\nallow_fault = yes\n", &c, err, sizeof err),
			 HW_ECONFIG);
	assert_non_null(strstr(err, "drills.allow_fault"));
	assert_non_null(strstr(err, "expected true or false"));
}

/* [drills] trust lists the node.pub files the restore drill trusts to sign checkpoints:
 * none by default, up to HW_DRILL_TRUST_MAX, one more is refused naming the key. */
static void test_config_trust(void **state)
{
	struct fx *f = *state;
	static struct hw_config c;
	char err[512];
	assert_int_equal(load(f, CONF_HEAD "[drills]\nverify = 1d\n", &c, err, sizeof err), 0);
	assert_int_equal(c.drills.n_trust, 0);
	assert_int_equal(load(f, CONF_HEAD "[drills]\ntrust = /off/p1.pub, /off/s1.pub\n", &c, err,
			      sizeof err),
			 0);
	assert_int_equal(c.drills.n_trust, 2);
	assert_string_equal(c.drills.trust[0], "/off/p1.pub");
	assert_string_equal(c.drills.trust[1], "/off/s1.pub");
	assert_int_equal(
		load(f, CONF_HEAD "[drills]\ntrust = a,b,c,d,e,f,g,h,i\n", &c, err, sizeof err),
		HW_ECONFIG);
	assert_non_null(strstr(err, "drills.trust"));
	assert_non_null(strstr(err, "more than 8 files"));
}

/* A bad duration, an unknown key and a repeated key in [drills] name file:line and key;
 * a restore_rto or backup_age_max of 0, which every drill would fail (the CLI's --rto 0 is
 * refused), is refused too, where a schedule of 0 means none. */
static void test_config_drills_errors(void **state)
{
	struct fx *f = *state;
	static struct hw_config c;
	char err[512];
	assert_int_equal(load(f, CONF_HEAD "[drills]\nrestore = 7 days\n", &c, err, sizeof err),
			 HW_ECONFIG);
	assert_non_null(strstr(err, "node.conf:8:"));
	assert_non_null(strstr(err, "drills.restore"));
	assert_int_equal(load(f, CONF_HEAD "[drills]\nrestor = 7d\n", &c, err, sizeof err),
			 HW_ECONFIG);
	assert_non_null(strstr(err, "unknown key 'drills.restor'"));
	assert_int_equal(
		load(f, CONF_HEAD "[drills]\nverify = 1d\nverify = 2d\n", &c, err, sizeof err),
		HW_ECONFIG);
	assert_non_null(strstr(err, "given twice"));
	static const char *const zero[] = {"restore_rto", "backup_age_max"};
	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
		char text[256], want[80];
		snprintf(text, sizeof text, CONF_HEAD "[drills]\nverify = 0\n%s = 0\n", zero[i]);
		assert_int_equal(load(f, text, &c, err, sizeof err), HW_ECONFIG);
		snprintf(want, sizeof want, "node.conf:9: 'drills.%s' must be more than 0",
			 zero[i]);
		assert_non_null(strstr(err, want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_round_trip),
		cmocka_unit_test(test_row_scope_point),
		cmocka_unit_test_setup_teardown(test_last_full_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_pass_read_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_not_in_digest, setup, teardown),
		cmocka_unit_test(test_schedule_due),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_durations_against_target),
		cmocka_unit_test_setup_teardown(test_config_drills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_drills_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_allow_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_trust, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
