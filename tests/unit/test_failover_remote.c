/* test_failover_remote.c: the running cluster of `drill failover --connect`
 * (cli/failover_remote.c) as its nodes are named before the drill: a node that does not
 * answer is named by its address, whole (it was cut to an id's 32 characters, in the
 * drill's report and its JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/failover_run.h"
#include "hawser.h"

/* Two nodes that do not answer (no such socket), the first at the longest socket path
 * (107 bytes). */
static void test_unanswered_named_by_address(void **state)
{
	(void)state;
	char addr[sizeof "unix:" + 107], list[2 * HW_ADDR_CHARS_MAX + 2];
	int n = snprintf(addr, sizeof addr, "unix:/nonexistent/hawser-drill-failover-");
	memset(addr + n, 'n', sizeof addr - 1 - (size_t)n);
	addr[sizeof addr - 1] = '\0';
	snprintf(list, sizeof list, "%s,unix:/nonexistent/p2", addr);
	const struct hw_client_security sec = {.insecure = true};
	struct hw_fo_remote *rm = NULL;
	assert_int_equal(hw_fo_remote_new(list, &sec, &rm), 0);
	assert_int_equal(hw_fo_remote_nodes.count(rm), 2);
	assert_string_equal(hw_fo_remote_nodes.id(rm, 0), addr);
	assert_string_equal(hw_fo_remote_nodes.addr(rm, 0), addr);
	assert_string_equal(hw_fo_remote_nodes.id(rm, 1), "unix:/nonexistent/p2");
	hw_fo_remote_free(rm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unanswered_named_by_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
