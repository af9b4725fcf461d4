/* test_retention.c: the retention policy's decisions (replica/retention.h), and a store
 * that prunes by them: nothing goes unless both the count and the age say so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replica/retention.h"

#define DAY HW_RETENTION_DAY_MS
#define NOW (20000LL * DAY) /* any fixed "now" */

/* The defaults keep at least 30 days of log and backups, and 7 generations. */
static void test_defaults(void **state)
{
	(void)state;
	struct hw_retention r;
	hw_retention_defaults(&r);
	assert_int_equal(r.log_days, 30);
	assert_int_equal(r.backup_generations, 7);
	assert_int_equal(r.backup_days, 30);
}

/* A log entry goes only when keep_records newer entries exist and it is log_days old;
 * keep_records 0 keeps everything, whatever the age. */
static void test_log_both_rules(void **state)
{
	(void)state;
	struct hw_retention r = {.log_days = 30, .backup_generations = 7, .backup_days = 30};
	int64_t old = NOW - 31 * DAY, young = NOW - 29 * DAY;
	/* count says yes (1000 newer), age says yes */
	assert_true(hw_retention_log_may_prune(&r, 1000, 10, old, 1010, NOW));
	/* count says yes, age says no */
	assert_false(hw_retention_log_may_prune(&r, 1000, 10, young, 1010, NOW));
	/* age says yes, count says no (999 newer) */
	assert_false(hw_retention_log_may_prune(&r, 1000, 11, old, 1010, NOW));
	/* keep_records 0: the whole log stays */
	assert_false(hw_retention_log_may_prune(&r, 0, 1, old - 1000 * DAY, 1010, NOW));
	/* exactly log_days old may go */
	assert_true(hw_retention_log_may_prune(&r, 1, 1, NOW - 30 * DAY, 1010, NOW));
	/* an entry after the head, or time after now (clock set back): stays */
	assert_false(hw_retention_log_may_prune(&r, 1, 2000, old, 1010, NOW));
	assert_false(hw_retention_log_may_prune(&r, 1, 1, NOW + 1, 1010, NOW));
	/* log_days 0: the count alone */
	r.log_days = 0;
	assert_true(hw_retention_log_may_prune(&r, 1000, 10, NOW, 1010, NOW));
}

/* The log's "now" is the head's time, up to HW_RETENTION_SKEW_MS past the node's clock:
 * a head behind the clock, or a little ahead, is taken as it is; one far ahead is not. */
static void test_log_now(void **state)
{
	(void)state;
	assert_int_equal(hw_retention_log_now(NOW - DAY, NOW), NOW - DAY);
	assert_int_equal(hw_retention_log_now(NOW + HW_RETENTION_SKEW_MS, NOW),
			 NOW + HW_RETENTION_SKEW_MS);
	assert_int_equal(hw_retention_log_now(NOW + 40 * DAY, NOW), NOW + HW_RETENTION_SKEW_MS);
}

/* Backups, newest first: the newest backup_generations always stay, and older ones only
 * once backup_days old. */
static void test_backups_both_rules(void **state)
{
	(void)state;
	struct hw_retention r = {.log_days = 30, .backup_generations = 3, .backup_days = 30};
	int64_t t[8];
	bool prune[8];
	for (int i = 0; i < 8; i++) /* daily backups: 0 (today) .. 7 days old */
		t[i] = NOW - i * DAY;
	/* 8 generations but none 30 days old: all stay */
	assert_int_equal(hw_retention_backups(&r, t, 8, NOW, prune), 0);
	for (int i = 0; i < 8; i++)
		assert_false(prune[i]);
	/* 40 days later: everything past the newest 3 may go */
	assert_int_equal(hw_retention_backups(&r, t, 8, NOW + 40 * DAY, prune), 5);
	for (int i = 0; i < 8; i++)
		assert_int_equal(prune[i], i >= 3);
	/* the age rule alone is not enough: 3 old generations are all kept */
	assert_int_equal(hw_retention_backups(&r, t, 3, NOW + 400 * DAY, prune), 0);
	/* mixed: only those both past the count and old */
	int64_t m[5] = {NOW, NOW - 40 * DAY, NOW - 41 * DAY, NOW - 5 * DAY, NOW - 50 * DAY};
	r.backup_generations = 1;
	assert_int_equal(hw_retention_backups(&r, m, 5, NOW, prune), 3);
	assert_false(prune[0]);
	assert_true(prune[1] && prune[2] && prune[4]);
	assert_false(prune[3]);
	/* a generation from the future (clock set back) stays */
	int64_t fut[2] = {NOW, NOW + DAY};
	r.backup_days = 0;
	assert_int_equal(hw_retention_backups(&r, fut, 2, NOW, prune), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_log_both_rules),
		cmocka_unit_test(test_log_now),
		cmocka_unit_test(test_backups_both_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
