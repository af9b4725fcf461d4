/* test_fds.c: a node's descriptor budget (engine/fds.h): with descriptors to spare each
 * port gets what it wants; with few, the replication port keeps up to half and the
 * client port gets the rest; a limit that leaves a port fewer than it needs is -EMFILE;
 * an unlimited or overrun limit does not wrap; and hw_fds_budget_now raises the soft
 * limit to the hard one and counts what is open. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "engine/fds.h"
#include "tests/skip.h"

/* What a primary's ports want: 960 sessions and 64 being refused; 64 and 64. */
static const uint32_t WANT[2] = {1024, 128};

/* Plenty (a hard limit of 1M, or unlimited): each port gets what it wants. */
static void test_plenty(void **state)
{
	(void)state;
	struct hw_fds_budget b;
	assert_int_equal(hw_fds_budget(1u << 20, 20, WANT, &b), 0);
	assert_int_equal(b.conns_max[HW_FDS_CLIENT], 1024);
	assert_int_equal(b.conns_max[HW_FDS_REPL], 128);
	assert_int_equal(b.limit, 1u << 20);
	assert_int_equal(b.open, 20);
	assert_int_equal(hw_fds_budget(RLIM_INFINITY, 20, WANT, &b), 0);
	assert_int_equal(b.conns_max[HW_FDS_CLIENT], 1024);
	assert_int_equal(b.conns_max[HW_FDS_REPL], 128);
}

/* 1024, a common default: 1024 - 20 open - 80 kept = 924; the replication port takes its
 * 128, the client port 796 of the rest. 256: 156 to share, 78 each. */
static void test_scarce(void **state)
{
	(void)state;
	struct hw_fds_budget b;
	assert_int_equal(hw_fds_budget(1024, 20, WANT, &b), 0);
	assert_int_equal(b.conns_max[HW_FDS_REPL], 128);
	assert_int_equal(b.conns_max[HW_FDS_CLIENT], 1024 - 20 - HW_FDS_RESERVED - 128);
	assert_int_equal(hw_fds_budget(256, 20, WANT, &b), 0);
	assert_int_equal(b.conns_max[HW_FDS_REPL], 78);
	assert_int_equal(b.conns_max[HW_FDS_CLIENT], 78);
	uint64_t held = b.open + HW_FDS_RESERVED + b.conns_max[0] + b.conns_max[1];
	assert_true(held <= b.limit);
}

/* A port that does not listen wants nothing and leaves the other all there is. */
static void test_one_port(void **state)
{
	(void)state;
	struct hw_fds_budget b;
	const uint32_t client_only[2] = {1024, 0}, repl_only[2] = {0, 128}, none[2] = {0, 0};
	assert_int_equal(hw_fds_budget(256, 20, client_only, &b), 0);
	assert_int_equal(b.conns_max[HW_FDS_CLIENT], 156);
	assert_int_equal(b.conns_max[HW_FDS_REPL], 0);
	assert_int_equal(hw_fds_budget(256, 20, repl_only, &b), 0);
	assert_int_equal(b.conns_max[HW_FDS_REPL], 128);
	assert_int_equal(hw_fds_budget(0, 20, none, &b), 0);
}

/* HW_FDS_PORT_MIN each is the least a node runs with; a port that wants fewer than that
 * may get just what it wants. Less, or more open than the limit, is -EMFILE. */
static void test_too_low(void **state)
{
	(void)state;
	struct hw_fds_budget b;
	uint64_t least = 20 + HW_FDS_RESERVED + 2 * HW_FDS_PORT_MIN;
	assert_int_equal(hw_fds_budget(least, 20, WANT, &b), 0);
	assert_int_equal(b.conns_max[HW_FDS_CLIENT], HW_FDS_PORT_MIN);
	assert_int_equal(b.conns_max[HW_FDS_REPL], HW_FDS_PORT_MIN);
	assert_int_equal(hw_fds_budget(least - 1, 20, WANT, &b), -EMFILE);
	assert_int_equal(b.limit, least - 1); /* for the log line */
	assert_int_equal(hw_fds_budget(10, 20, WANT, &b), -EMFILE);
	assert_int_equal(b.conns_max[HW_FDS_CLIENT], 0);
	const uint32_t few[2] = {2, 1};
	assert_int_equal(hw_fds_budget(20 + HW_FDS_RESERVED + 3, 20, few, &b), 0);
}

/* The soft limit goes up to the hard one, and what is open is counted (stdin, stdout,
 * stderr at least). */
static void test_now_raises(void **state)
{
	(void)state;
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < 512)
		HW_SKIP("the hard RLIMIT_NOFILE is %llu, below 512: nothing to lower first",
			(unsigned long long)rl.rlim_max);
	struct rlimit low = {.rlim_cur = 256, .rlim_max = rl.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	struct hw_fds_budget b;
	assert_int_equal(hw_fds_budget_now(WANT, &b), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(rl.rlim_cur, rl.rlim_max);
	assert_int_equal(b.limit, rl.rlim_max);
	assert_true(b.open >= 3 && b.open < 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plenty),     cmocka_unit_test(test_scarce),
		cmocka_unit_test(test_one_port),   cmocka_unit_test(test_too_low),
		cmocka_unit_test(test_now_raises),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
