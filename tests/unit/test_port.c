/* test_port.c: which session a full port lets go for a newcomer (engine/port.h
 * hw_port_evictee), on a port of sessions that have not said their Hello, each a peer and
 * an accept time: the oldest of the host holding the most goes; the newcomer's own host
 * only when it holds at least as many as any other, and on a client port only once silent
 * own_age_ms; so neither a flood nor a newcomer from the same host cuts a peer in its
 * handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "engine/port.h"

#define SLOTS 64u

/* A port's sessions: peer NULL for a slot that is free, or said its Hello. */
struct fake_port {
	char peer[SLOTS][32];
	int64_t at[SLOTS];
};

static bool unsaid(void *arg, uint32_t i, struct hw_port_unsaid *out)
{
	const struct fake_port *fp = arg;
	if (fp->peer[i][0] == '\0')
		return false;
	*out = (struct hw_port_unsaid){.conn = NULL, .peer = fp->peer[i], .accepted_ms = fp->at[i]};
	return true;
}

/* Session i from host ("127.0.0.2") at port 40000 + i, accepted at at_ms. */
static void put(struct fake_port *fp, uint32_t i, const char *host, int64_t at_ms)
{
	snprintf(fp->peer[i], sizeof fp->peer[i], "%s:%u", host, 40000u + i);
	fp->at[i] = at_ms;
}

static struct hw_port_view view(struct fake_port *fp, int64_t own_age_ms)
{
	return (struct hw_port_view){.name = "test",
				     .slots = SLOTS,
				     .own_age_ms = own_age_ms,
				     .unsaid = unsaid,
				     .arg = fp};
}

/* A flood from one host fills the port: its own next connection displaces its oldest. */
static void test_flood_displaces_its_own(void **state)
{
	(void)state;
	static struct fake_port fp;
	for (uint32_t i = 0; i < SLOTS; i++)
		put(&fp, i, "127.0.0.2", 1000 + (int64_t)((i + 7) % SLOTS));
	struct hw_port_view p = view(&fp, 0);
	assert_int_equal(hw_port_evictee(&p, "127.0.0.2:9", 2000), SLOTS - 7);
}

/* A voter from elsewhere gets in through the flood: the flood's oldest goes, not the one
 * session of a third host that is older still (a peer in its handshake). */
static void test_voter_through_flood(void **state)
{
	(void)state;
	static struct fake_port fp;
	put(&fp, 0, "10.0.0.3", 900); /* the oldest of all: a lone peer mid-handshake */
	for (uint32_t i = 1; i < SLOTS; i++)
		put(&fp, i, "127.0.0.2", 1000 + (int64_t)i);
	struct hw_port_view p = view(&fp, 0);
	assert_int_equal(hw_port_evictee(&p, "127.0.0.1:9", 2000), 1);
}

/* Two voters of one host dial a flooded witness: the second displaces the flood, not the
 * first, which is still in its handshake (it did: its host's own came first, at any age). */
static void test_same_host_peer_kept(void **state)
{
	(void)state;
	static struct fake_port fp;
	for (uint32_t i = 0; i + 1 < SLOTS; i++)
		put(&fp, i, "127.0.0.2", 1000 + (int64_t)i);
	put(&fp, SLOTS - 1, "127.0.0.1", 100); /* the first voter: older than the flood's */
	struct hw_port_view p = view(&fp, 0);
	assert_int_equal(hw_port_evictee(&p, "127.0.0.1:9", 2000), 0);
}

/* A client port: a burst of real clients from one host, whose handshakes are young, is not
 * cut by its own newcomer (refused instead), and a host with fewer is not cut either; once
 * silent own_age_ms its oldest goes. */
static void test_young_own_refused(void **state)
{
	(void)state;
	static struct fake_port fp;
	for (uint32_t i = 0; i < SLOTS - 2; i++)
		put(&fp, i, "10.0.0.5", 1800 + (int64_t)i);
	put(&fp, SLOTS - 2, "10.0.0.6", 10);
	put(&fp, SLOTS - 1, "10.0.0.6", 20);
	struct hw_port_view p = view(&fp, 500);
	assert_int_equal(hw_port_evictee(&p, "10.0.0.5:9", 2000), -1);
	assert_int_equal(hw_port_evictee(&p, "10.0.0.5:9", 2300), 0);
}

/* Nothing unsaid (every session said its Hello): none goes, the newcomer is refused. */
static void test_none_unsaid(void **state)
{
	(void)state;
	static struct fake_port fp;
	struct hw_port_view p = view(&fp, 0);
	assert_int_equal(hw_port_evictee(&p, "127.0.0.1:9", 2000), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_displaces_its_own),
		cmocka_unit_test(test_voter_through_flood),
		cmocka_unit_test(test_same_host_peer_kept),
		cmocka_unit_test(test_young_own_refused),
		cmocka_unit_test(test_none_unsaid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
