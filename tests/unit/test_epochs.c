/* test_epochs.c: the epoch history pruning keeps (replica/epochs.h) and what an epoch map
 * says of another log's entry (hw_epoch_map_judge, replica/rejoin.h): pure logic, no
 * store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "hawser_error.h"
#include "replica/epochs.h"
#include "replica/rejoin.h"

/* A history starts empty at base 0, and with the base's epoch after a base. */
static void test_start(void **state)
{
	(void)state;
	struct hw_epoch_hist h;
	hw_epoch_hist_start(&h, 0, 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(h.through_lsn, 0);
	hw_epoch_hist_start(&h, 40, 3);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.epoch[0], 3);
	assert_int_equal(h.first_lsn[0], 40);
	assert_int_equal(h.through_lsn, 40);
}

/* Noting pruned entries one by one: a boundary per new epoch, none for the same one; an
 * LSN that skips or repeats, or an epoch that falls, is damage and changes nothing. */
static void test_note(void **state)
{
	(void)state;
	struct hw_epoch_hist h;
	hw_epoch_hist_start(&h, 0, 0);
	static const uint64_t epochs[] = {1, 1, 1, 4, 4, 7};
	for (uint64_t l = 1; l <= 6; l++)
		assert_int_equal(hw_epoch_hist_note(&h, l, epochs[l - 1]), 0);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.through_lsn, 6);
	assert_int_equal(h.epoch[1], 4);
	assert_int_equal(h.first_lsn[1], 4);
	assert_int_equal(h.first_lsn[2], 6);
	assert_int_equal(hw_epoch_hist_note(&h, 8, 7), HW_ECORRUPT);
	assert_int_equal(hw_epoch_hist_note(&h, 6, 7), HW_ECORRUPT);
	assert_int_equal(hw_epoch_hist_note(&h, 7, 6), HW_ECORRUPT);
	assert_int_equal(h.n, 3);
	assert_int_equal(h.through_lsn, 6);
	/* a history started after a base goes on from it */
	hw_epoch_hist_start(&h, 10, 2);
	assert_int_equal(hw_epoch_hist_note(&h, 11, 2), 0);
	assert_int_equal(hw_epoch_hist_note(&h, 12, 5), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.first_lsn[0], 10);
	assert_int_equal(h.first_lsn[1], 12);
}

/* Past HW_EPOCH_HIST_MAX boundaries the oldest go: the history then starts later. */
static void test_note_bounded(void **state)
{
	(void)state;
	struct hw_epoch_hist h;
	hw_epoch_hist_start(&h, 0, 0);
	for (uint64_t l = 1; l <= HW_EPOCH_HIST_MAX + 5; l++)
		assert_int_equal(hw_epoch_hist_note(&h, l, l), 0);
	assert_int_equal(h.n, HW_EPOCH_HIST_MAX);
	assert_int_equal(h.first_lsn[0], 6);
	assert_int_equal(h.epoch[0], 6);
	assert_int_equal(h.first_lsn[h.n - 1], HW_EPOCH_HIST_MAX + 5);
}

/* The value round-trips; another version is HW_EFORMAT; a damaged one HW_ECORRUPT. */
static void test_encode_decode(void **state)
{
	(void)state;
	struct hw_epoch_hist h, d;
	uint8_t buf[HW_EPOCH_HIST_BYTES_MAX + 16];
	hw_epoch_hist_start(&h, 0, 0);
	for (uint64_t l = 1; l <= 9; l++)
		assert_int_equal(hw_epoch_hist_note(&h, l, 1 + l / 3), 0);
	size_t len = hw_epoch_hist_encode(&h, buf);
	assert_int_equal(len, HW_EPOCH_HIST_BYTES(4));
	assert_int_equal(hw_epoch_hist_decode(buf, len, &d), 0);
	assert_int_equal(d.n, h.n);
	assert_int_equal(d.through_lsn, 9);
	assert_memory_equal(d.epoch, h.epoch, h.n * sizeof h.epoch[0]);
	assert_memory_equal(d.first_lsn, h.first_lsn, h.n * sizeof h.first_lsn[0]);
	assert_int_equal(hw_epoch_hist_decode(buf, len - 1, &d), HW_ECORRUPT);
	assert_int_equal(hw_epoch_hist_decode(buf, 12, &d), HW_ECORRUPT); /* no boundary */
	assert_int_equal(hw_epoch_hist_decode(buf, 3, &d), HW_ECORRUPT);
	uint8_t bad[sizeof buf];
	memcpy(bad, buf, len);
	hw_put_u32(bad, 2);
	assert_int_equal(hw_epoch_hist_decode(bad, len, &d), HW_EFORMAT);
	memcpy(bad, buf, len);
	hw_put_u64(bad + 4, 5); /* through before the last boundary */
	assert_int_equal(hw_epoch_hist_decode(bad, len, &d), HW_ECORRUPT);
	memcpy(bad, buf, len);
	hw_put_u64(bad + 12 + 16, 1); /* the second boundary's epoch not above the first's */
	assert_int_equal(hw_epoch_hist_decode(bad, len, &d), HW_ECORRUPT);
	memcpy(bad, buf, len);
	hw_put_u64(bad + 20 + 16, 1); /* nor its LSN */
	assert_int_equal(hw_epoch_hist_decode(bad, len, &d), HW_ECORRUPT);
	memcpy(bad, buf, len);
	hw_put_u64(bad + 20, 0); /* no entry 0 */
	assert_int_equal(hw_epoch_hist_decode(bad, len, &d), HW_ECORRUPT);
	/* too many boundaries */
	hw_epoch_hist_start(&h, 0, 0);
	for (uint64_t l = 1; l <= HW_EPOCH_HIST_MAX; l++)
		assert_int_equal(hw_epoch_hist_note(&h, l, l), 0);
	len = hw_epoch_hist_encode(&h, buf);
	assert_int_equal(hw_epoch_hist_decode(buf, len, &d), 0);
	memset(buf + len, 0, 16);
	assert_int_equal(hw_epoch_hist_decode(buf, len + 16, &d), HW_ECORRUPT);
}

/* A map of a log whose epochs 3 and 5 start at 10 and 20, up to 30. */
static struct hw_epoch_map map(void)
{
	struct hw_epoch_map m = {.base_lsn = 25, .last_lsn = 30, .n = 2};
	m.epoch[0] = 3;
	m.first_lsn[0] = 10;
	m.epoch[1] = 5;
	m.first_lsn[1] = 20;
	return m;
}

/* Within the map, the epoch there decides; past its last LSN nothing is held. */
static void test_judge_in_map(void **state)
{
	(void)state;
	struct hw_epoch_map m = map();
	assert_int_equal(hw_epoch_map_judge(&m, 0, 0), HW_EPOCH_SHARED);
	assert_int_equal(hw_epoch_map_judge(&m, 10, 3), HW_EPOCH_SHARED);
	assert_int_equal(hw_epoch_map_judge(&m, 19, 3), HW_EPOCH_SHARED);
	assert_int_equal(hw_epoch_map_judge(&m, 19, 4), HW_EPOCH_PARTED);
	assert_int_equal(hw_epoch_map_judge(&m, 20, 3), HW_EPOCH_PARTED);
	assert_int_equal(hw_epoch_map_judge(&m, 30, 5), HW_EPOCH_SHARED);
	assert_int_equal(hw_epoch_map_judge(&m, 31, 5), HW_EPOCH_PARTED);
}

/* Before the map's first boundary: its epoch means the same entry, a later one another,
 * an earlier one cannot be told; an empty map tells nothing. */
static void test_judge_before_map(void **state)
{
	(void)state;
	struct hw_epoch_map m = map();
	assert_int_equal(hw_epoch_map_judge(&m, 9, 3), HW_EPOCH_SHARED);
	assert_int_equal(hw_epoch_map_judge(&m, 1, 3), HW_EPOCH_SHARED);
	assert_int_equal(hw_epoch_map_judge(&m, 9, 4), HW_EPOCH_PARTED);
	assert_int_equal(hw_epoch_map_judge(&m, 9, 2), HW_EPOCH_UNKNOWN);
	m.n = 0;
	assert_int_equal(hw_epoch_map_judge(&m, 9, 3), HW_EPOCH_UNKNOWN);
	assert_int_equal(hw_epoch_map_judge(&m, 0, 0), HW_EPOCH_SHARED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start),        cmocka_unit_test(test_note),
		cmocka_unit_test(test_note_bounded), cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_judge_in_map), cmocka_unit_test(test_judge_before_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
