/* test_chaos_history.c: hawser-chaos's quarantine check (hw_ch_check_quarantine in
 * chaos/history.c) against fabricated stores and node logs: an old primary's store that
 * a rejoin rewound (its suffix in quarantine) and one that dropped the suffix instead;
 * and its split-brain check (hw_ch_check_terms) against fabricated logs of an old
 * primary killed in the middle of a stall of its loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "chaos/history.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "tests/integration/proc.h"

#define RECORDS 5               /* entries 1..5 in epoch 1 */
#define COMMON  3               /* the rejoin's common point: 4 and 5 are the divergent suffix */
#define MARK_MS 1795687201000LL /* 2026-11-26T10:00:01Z: between the logs' two lines */

struct fx {
	char root[HW_PROC_PATH_MAX];
	char kept[HW_PROC_PATH_MAX + 16];    /* rewound: 4 and 5 in its quarantine */
	char dropped[HW_PROC_PATH_MAX + 16]; /* 1..3 only, an empty quarantine */
	char log[HW_PROC_PATH_MAX + 16];
	struct hw_ch_mark mark;  /* the old primary's head (5) before the rejoin */
	struct hw_ch_mark other; /* lsn 5 with the hash of entry 4 */
};

static struct hw_store *make_store(const char *dir)
{
	struct hw_store *s;
	assert_int_equal(hw_store_init(dir), 0);
	assert_int_equal(hw_store_open(dir, NULL, &s), 0);
	return s;
}

/* Entries 1..RECORDS of generated terminal traffic into s, in epoch 1. */
static void fill(struct hw_store *s)
{
	static uint8_t buf[RECORDS][HW_RECORD_BYTES_MAX];
	struct hw_workload_opts wo = {.seed = 7, .count = RECORDS, .end_ms = hw_wall_ms()};
	struct hw_workload *w;
	struct hw_submit sub[RECORDS] = {{0}};
	struct hw_result res[RECORDS];
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	for (int i = 0; i < RECORDS; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(w, buf[i], sizeof buf[i], &it), 0);
		sub[i] = (struct hw_submit){.data = buf[i], .len = it.len};
	}
	hw_workload_free(w);
	assert_int_equal(hw_store_submit(s, 1, wo.end_ms, sub, RECORDS, res), 0);
	for (int i = 0; i < RECORDS; i++)
		assert_int_equal(res[i].lsn, (uint64_t)i + 1);
}

/* A mark at the head (RECORDS) carrying the hash of entry lsn of s. */
static void take_mark(struct hw_store *s, uint64_t lsn, struct hw_ch_mark *m)
{
	uint8_t *e;
	size_t len;
	struct hw_entry parsed;
	assert_int_equal(hw_store_read_entry(s, lsn, &e, &len), 0);
	assert_int_equal(hw_entry_decode(e, len, &parsed), 0);
	m->wall_ms = MARK_MS;
	m->lsn = RECORDS;
	memcpy(m->hash, parsed.hash, HW_HASH_BYTES);
	free(e);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_int_equal(hw_test_mkdtemp("chaos-history", f->root, sizeof f->root), 0);
	snprintf(f->kept, sizeof f->kept, "%s/kept", f->root);
	snprintf(f->dropped, sizeof f->dropped, "%s/dropped", f->root);
	snprintf(f->log, sizeof f->log, "%s/node.log", f->root);
	struct hw_store *a = make_store(f->kept), *b = make_store(f->dropped);
	fill(a);
	take_mark(a, RECORDS, &f->mark);
	take_mark(a, RECORDS - 1, &f->other);
	for (uint64_t l = 1; l <= COMMON; l++) {
		uint8_t *e;
		size_t len;
		assert_int_equal(hw_store_read_entry(a, l, &e, &len), 0);
		const uint8_t *p = e;
		assert_int_equal(hw_store_append_entries(b, &p, &len, 1, NULL), 0);
		free(e);
	}
	uint64_t moved = 0;
	assert_int_equal(hw_store_rewind(a, COMMON, hw_wall_ms(), "test", &moved), 0);
	assert_int_equal(moved, RECORDS - COMMON);
	hw_store_close(a);
	hw_store_close(b);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* Write the node's log: a primary killed before MARK_MS, restarted, rejoined after it
 * (common point COMMON, moved entries moved); tail: more lines after it. */
static void write_log(const struct fx *f, unsigned moved, const char *tail)
{
	FILE *fp = fopen(f->log, "w");
	assert_non_null(fp);
	fprintf(fp,
		"t=2026-11-26T10:00:00.000Z node=p1 event=started\n"
		"t=2026-11-26T10:00:00.100Z node=p1 event=became_primary epoch=1\n"
		"t=2026-11-26T10:00:01.500Z node=p1 event=started\n"
		"t=2026-11-26T10:00:02.000Z node=p1 event=rejoined common_lsn=%d quarantined=%u "
		"seconds=0.010\n%s",
		COMMON, moved, tail);
	assert_int_equal(fclose(fp), 0);
}

/* The rewound suffix is in quarantine with the bytes the killed incarnation held: it
 * passes, counting both entries. */
static void test_suffix_quarantined_passes(void **state)
{
	struct fx *f = *state;
	struct hw_ch_result r = {0};
	write_log(f, RECORDS - COMMON, "");
	assert_int_equal(hw_ch_check_quarantine(f->kept, f->log, &f->mark, 1, &r), 0);
	assert_int_equal(r.quarantined, RECORDS - COMMON);
	assert_int_equal(r.quarantine_missing, 0);
	assert_string_equal(r.first, "");
	assert_false(hw_ch_unsafe(&r));
}

/* A node that logged a rejoin but dropped the suffix: both entries and the marked head
 * are reported missing, and the schedule is unsafe. */
static void test_suffix_dropped_reported(void **state)
{
	struct fx *f = *state;
	struct hw_ch_result r = {0};
	write_log(f, RECORDS - COMMON, "");
	assert_int_equal(hw_ch_check_quarantine(f->dropped, f->log, &f->mark, 1, &r), 0);
	assert_int_equal(r.quarantined, 0);
	assert_int_equal(r.quarantine_missing, RECORDS - COMMON + 1);
	assert_non_null(strstr(r.first, "lacks lsn 4"));
	assert_true(hw_ch_unsafe(&r));
}

/* The row at the marked head holds other bytes than the node had there: reported. */
static void test_other_bytes_reported(void **state)
{
	struct fx *f = *state;
	struct hw_ch_result r = {0};
	write_log(f, RECORDS - COMMON, "");
	assert_int_equal(hw_ch_check_quarantine(f->kept, f->log, &f->other, 1, &r), 0);
	assert_int_equal(r.quarantined, RECORDS - COMMON);
	assert_int_equal(r.quarantine_missing, 1);
	assert_non_null(strstr(r.first, "holds other bytes"));
}

/* The rejoin says it moved one entry while the node held two past the common point: the
 * marked head was dropped, reported. */
static void test_head_past_moved_reported(void **state)
{
	struct fx *f = *state;
	struct hw_ch_result r = {0};
	write_log(f, 1, "");
	assert_int_equal(hw_ch_check_quarantine(f->kept, f->log, &f->mark, 1, &r), 0);
	assert_int_equal(r.quarantined, 1);
	assert_int_equal(r.quarantine_missing, 1);
	assert_non_null(strstr(r.first, "lacks it"));
}

/* A mark read after the rejoin (the head at the common point by then, say) is not held
 * against that rejoin: the same store and log pass with a mark past the rejoin's time. */
static void test_rejoin_before_mark_not_held(void **state)
{
	struct fx *f = *state;
	struct hw_ch_result r = {0};
	struct hw_ch_mark late = f->other;
	late.wall_ms = MARK_MS + 5000;
	write_log(f, RECORDS - COMMON, "");
	assert_int_equal(hw_ch_check_quarantine(f->kept, f->log, &late, 1, &r), 0);
	assert_int_equal(r.quarantine_missing, 0);
	assert_int_equal(hw_ch_check_quarantine(f->kept, f->log, &f->other, 1, &r), 0);
	assert_int_equal(r.quarantine_missing, 1);
}

/* A mark taken before a snapshot replaced the store is not held against the new store,
 * but a rejoin before it is (the install carries the quarantine rows): a store that has
 * its rows passes, one without them is reported; a rejoin that moved nothing checks
 * nothing. */
static void test_snapshot_keeps_rejoins(void **state)
{
	struct fx *f = *state;
	struct hw_ch_result r = {0};
	write_log(f, RECORDS - COMMON,
		  "t=2026-11-26T10:00:03.000Z node=p1 event=snapshot_installed lsn=9 bytes=1\n"
		  "t=2026-11-26T10:00:04.000Z node=p1 event=rejoined common_lsn=9 quarantined=0\n");
	assert_int_equal(hw_ch_check_quarantine(f->kept, f->log, &f->other, 1, &r), 0);
	assert_int_equal(r.quarantined, RECORDS - COMMON);
	assert_int_equal(r.quarantine_missing, 0);
	r = (struct hw_ch_result){0};
	assert_int_equal(hw_ch_check_quarantine(f->dropped, f->log, &f->mark, 1, &r), 0);
	assert_int_equal(r.quarantined, 0);
	assert_int_equal(r.quarantine_missing, RECORDS - COMMON);
}

/* A log that cannot be read is an error and counts nothing. */
static void test_no_log_is_an_error(void **state)
{
	struct fx *f = *state;
	struct hw_ch_result r = {0};
	char missing[HW_PROC_PATH_MAX + 16];
	snprintf(missing, sizeof missing, "%s/absent.log", f->root);
	assert_int_not_equal(hw_ch_check_quarantine(f->kept, missing, &f->mark, 1, &r), 0);
	assert_int_equal(r.quarantined + r.quarantine_missing, 0);
}

/* p1 primary in epoch 1 from T0, stalled at T0 + 100 (the fault shim's line), killed at
 * T0 + 3000; s1 primary in epoch 2 from T0 + 1000. stall_end: the shim's stall_ended
 * line at that time, 0: none (still stalled when killed). The overlapping terms found. */
static uint64_t overlaps_after_stall(const struct fx *f, long long stall_end)
{
	const long long t0 = MARK_MS;
	struct hw_ch_cluster *c = calloc(1, sizeof *c);
	assert_non_null(c);
	for (int i = 0; i < HW_CH_NODES; i++) {
		snprintf(c->log[i], sizeof c->log[i], "%s/n%d.log", f->root, i);
		FILE *fp = fopen(c->log[i], "w");
		assert_non_null(fp);
		fprintf(fp, "t=2026-11-26T10:00:00.000Z node=n%d event=started\n", i);
		if (i == 0) {
			fprintf(fp,
				"t=x node=p1 event=became_primary epoch=1 wall_ms=%lld\n"
				"t=x node=p1 event=first_ack epoch=1 wall_ms=%lld\n"
				"hawser-faults: event=stall_injected call=epoll_wait stall_ms=2500 "
				"wall_ms=%lld\n",
				t0, t0 + 10, t0 + 100);
			if (stall_end > 0)
				fprintf(fp,
					"hawser-faults: event=stall_ended call=epoll_wait "
					"stall_ms=2500 wall_ms=%lld\n",
					stall_end);
		} else if (i == 1) {
			fprintf(fp,
				"t=x node=s1 event=became_primary epoch=2 wall_ms=%lld\n"
				"t=x node=s1 event=first_ack epoch=2 wall_ms=%lld\n",
				t0 + 1000, t0 + 1010);
		}
		assert_int_equal(fclose(fp), 0);
		c->ends[i][0] = t0 + (i == 0 ? 3000 : 9000);
		c->n_ends[i] = 1;
	}
	struct hw_ch_result r = {0};
	hw_ch_check_terms(c, &r);
	assert_null(strstr(r.first, "cannot read"));
	assert_int_equal(r.primaries, 2);
	free(c);
	return r.overlapping;
}

/* Killed while its loop was stalled, the old primary acknowledged nothing after the
 * stall began, before the new one was elected: no overlap. */
static void test_killed_mid_stall_no_overlap(void **state)
{
	assert_int_equal(overlaps_after_stall(*state, 0), 0);
}

/* A stall that ended before the kill bounds nothing: the loop ran again and could have
 * acknowledged until the kill, after the new primary began. */
static void test_stall_ended_before_kill_overlaps(void **state)
{
	assert_int_equal(overlaps_after_stall(*state, MARK_MS + 2600), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_suffix_quarantined_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suffix_dropped_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_bytes_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_past_moved_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejoin_before_mark_not_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_keeps_rejoins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_log_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_mid_stall_no_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stall_ended_before_kill_overlaps, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
