/* test_repl.c: the replication state machine (engine/core/repl.h) driven step by step
 * with a fake network and a fake store written here: arrays of actions, positions set
 * by hand, time advanced by hand. The last test runs a primary and two standbys over a
 * seeded network that delays and reorders, and checks after every step that the primary
 * never believes more than is true and releases nothing before its rule holds. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/rng.h"
#include "engine/core/repl.h"
#include "hawser_error.h"

#define ACTS_CAP 256
#define WAITERS  8

struct fx {
	struct hw_primary p;
	struct hw_waiter w[WAITERS];
	struct hw_act buf[ACTS_CAP];
	struct hw_acts out;
};

/* Two standbys, a window of 4 entries, 8 waiters, heartbeat 100 ms, timeout 1 s. */
static const struct hw_repl_config cfg2 = {
	.standbys = 2,
	.window_records = 4,
	.waiters_max = WAITERS,
	.heartbeat_ms = 100,
	.peer_timeout_ms = 1000,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	hw_primary_init(&f->p, &cfg2, 1, 0, f->w);
	f->out = (struct hw_acts){f->buf, 0, ACTS_CAP};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Empty the action array before the next event, with room for cap actions. */
static struct hw_acts *acts(struct fx *f, size_t cap)
{
	f->out.n = 0;
	f->out.cap = cap;
	return &f->out;
}

static size_t count(const struct hw_acts *o, enum hw_act_type t)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++)
		n += o->v[i].type == t;
	return n;
}

/* The i-th action of type t, or fail. */
static const struct hw_act *nth(const struct hw_acts *o, enum hw_act_type t, size_t i)
{
	for (size_t j = 0; j < o->n; j++)
		if (o->v[j].type == t && i-- == 0)
			return &o->v[j];
	fail_msg("no action %d number %zu among %zu", (int)t, i, o->n);
	return NULL;
}

static bool released(const struct hw_acts *o, uint64_t token)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->v[i].type == HW_ACT_RELEASE && o->v[i].token == token)
			return true;
	return false;
}

static void ack(struct fx *f, uint32_t peer, uint64_t r, uint64_t d, uint64_t a, int64_t now)
{
	struct hw_pos pos = {r, d, a};
	hw_primary_on_ack(&f->p, peer, &pos, now, acts(f, ACTS_CAP));
}

/* Both standbys connected at LSN 0 and entries 1..last appended (and sent). */
static void connect_both(struct fx *f, uint64_t last)
{
	hw_primary_on_connect(&f->p, 0, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_connect(&f->p, 1, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_append(&f->p, last, 0, acts(f, ACTS_CAP));
}

/* Names and parsing agree for every mode; unknown names and values are refused; k beyond
 * the configured standbys is impossible except in LOCAL mode. */
static void test_mode_names(void **state)
{
	struct fx *f = *state;
	for (int m = 0; m < HW_MODES; m++)
		assert_int_equal(hw_mode_parse(hw_mode_name((enum hw_mode)m)), m);
	assert_string_equal(hw_mode_name(HW_MODE_DURABLE), "durable");
	assert_int_equal(hw_mode_parse("applied"), HW_MODE_APPLIED);
	assert_int_equal(hw_mode_parse("Durable"), -1);
	assert_int_equal(hw_mode_parse(""), -1);
	assert_int_equal(hw_mode_parse(NULL), -1);
	assert_string_equal(hw_mode_name((enum hw_mode)7), "?");
	assert_true(hw_primary_k_possible(&f->p, HW_MODE_LOCAL, 9));
	assert_true(hw_primary_k_possible(&f->p, HW_MODE_DURABLE, 2));
	assert_false(hw_primary_k_possible(&f->p, HW_MODE_DURABLE, 3));
	assert_false(hw_primary_k_possible(&f->p, HW_MODE_RECEIVED, 3));
	assert_false(hw_primary_k_possible(&f->p, (enum hw_mode)4, 0));
}

/* For each standby mode and k of 1 and 2 out of 2 standbys, a waiter is released exactly
 * when the k-th standby's position for that mode reaches its LSN, and not when only a
 * weaker position does; LOCAL needs no standby at all. */
static void test_release_rule_each_mode(void **state)
{
	struct fx *f = *state;
	/* ack just short of each mode, then just enough: applied <= durable <= received */
	static const struct hw_pos below[HW_MODES] = {{0, 0, 0}, {0, 0, 0}, {1, 0, 0}, {1, 1, 0}};
	static const struct hw_pos meets[HW_MODES] = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {1, 1, 1}};
	for (int m = HW_MODE_RECEIVED; m < HW_MODES; m++) {
		for (uint32_t k = 1; k <= 2; k++) {
			hw_primary_init(&f->p, &cfg2, 1, 0, f->w);
			connect_both(f, 1);
			hw_primary_on_submit(&f->p, 7, 1, 1, (enum hw_mode)m, k, 0,
					     acts(f, ACTS_CAP));
			hw_primary_on_durable(&f->p, 1, 0, acts(f, ACTS_CAP));
			assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
			for (uint32_t peer = 0; peer < 2; peer++) {
				const struct hw_pos *b = &below[m], *g = &meets[m];
				ack(f, peer, b->received, b->durable, b->applied, 1);
				assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
				ack(f, peer, g->received, g->durable, g->applied, 1);
				bool due = peer + 1 == k;
				assert_int_equal(count(&f->out, HW_ACT_RELEASE), due ? 1 : 0);
				if (due) {
					assert_int_equal(nth(&f->out, HW_ACT_RELEASE, 0)->token, 7);
					assert_int_equal(nth(&f->out, HW_ACT_RELEASE, 0)->code, 0);
					assert_int_equal(nth(&f->out, HW_ACT_RELEASE, 0)->lsn, 1);
				}
			}
			assert_int_equal(f->p.w_count, 0);
		}
	}
	hw_primary_init(&f->p, &cfg2, 1, 0, f->w);
	hw_primary_on_append(&f->p, 1, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 8, 1, 1, HW_MODE_LOCAL, 1, 0, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
	hw_primary_on_durable(&f->p, 1, 0, acts(f, ACTS_CAP));
	assert_true(released(&f->out, 8));
}

/* Both standbys have LSN 3 applied, yet a DURABLE k=2 waiter on 3 waits until the
 * primary's own commit of 3 is durable. */
static void test_local_durable_needed(void **state)
{
	struct fx *f = *state;
	connect_both(f, 3);
	hw_primary_on_submit(&f->p, 1, 3, 3, HW_MODE_DURABLE, 2, 0, acts(f, ACTS_CAP));
	ack(f, 0, 3, 3, 3, 1);
	ack(f, 1, 3, 3, 3, 1);
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
	hw_primary_on_durable(&f->p, 2, 0, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
	hw_primary_on_durable(&f->p, 3, 0, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 1);
	assert_true(released(&f->out, 1));
}

/* Peer 1 a vault (the last peer): it is streamed to and acks like a standby, yet its
 * acks never release a waiter, and k = 2 is impossible with one counted standby. */
static void test_vault_not_counted(void **state)
{
	struct fx *f = *state;
	struct hw_repl_config c = cfg2;
	c.vaults = 1;
	hw_primary_init(&f->p, &c, 1, 0, f->w);
	assert_true(hw_primary_k_possible(&f->p, HW_MODE_DURABLE, 1));
	assert_false(hw_primary_k_possible(&f->p, HW_MODE_DURABLE, 2));
	connect_both(f, 3);
	assert_int_equal(count(&f->out, HW_ACT_SEND), 2); /* the vault is sent to as well */
	hw_primary_on_durable(&f->p, 3, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 1, 3, 3, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	ack(f, 1, 3, 3, 3, 1);
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
	ack(f, 0, 3, 3, 0, 1);
	assert_true(released(&f->out, 1));
}

/* With k_min (a failover's majorities, hw_el_k_min), a submit that asks for fewer
 * standbys waits for k_min of them all the same; one in mode local still waits for none. */
static void test_k_min_raises_k(void **state)
{
	struct fx *f = *state;
	struct hw_repl_config c = cfg2;
	c.k_min = 2;
	hw_primary_init(&f->p, &c, 1, 0, f->w);
	connect_both(f, 3);
	hw_primary_on_durable(&f->p, 3, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 1, 2, 2, HW_MODE_LOCAL, 0, 0, acts(f, ACTS_CAP));
	assert_true(released(&f->out, 1));
	hw_primary_on_submit(&f->p, 2, 3, 3, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
	ack(f, 0, 3, 3, 0, 1);
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0); /* k = 1 would be met here */
	ack(f, 1, 3, 3, 0, 1);
	assert_true(released(&f->out, 2));
}

/* Peer gone, then a tick at now (a disconnect alone releases nothing, so the hold is
 * judged again at the next event): the hold must be waiters from lsn, with connected up. */
static void gone_then(struct fx *f, uint32_t peer, int64_t now, uint32_t waiters,
		      uint32_t connected, uint64_t lsn)
{
	hw_primary_on_disconnect(&f->p, peer);
	hw_primary_on_tick(&f->p, now, acts(f, ACTS_CAP));
	assert_int_equal(f->p.hold.waiters, waiters);
	assert_int_equal(f->p.hold.connected, connected);
	assert_int_equal(f->p.hold.lsn, lsn);
}

/* k_min 2 of 2 standbys: a durable waiter is held for lack of standbys only while fewer
 * than its k can give it (connected, or already holding it): not while both are
 * connected and it only waits for their acks; yes once one is gone, counting every such
 * waiter from the oldest; not when the gone one acked it before leaving and the other
 * is connected; a reconnect ends it before any ack does, and so does fail_all. */
static void test_hold_lack_of_standbys(void **state)
{
	struct fx *f = *state;
	struct hw_repl_config c = cfg2;
	c.k_min = 2;
	hw_primary_init(&f->p, &c, 1, 0, f->w);
	connect_both(f, 2);
	hw_primary_on_submit(&f->p, 1, 1, 1, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	hw_primary_on_durable(&f->p, 2, 0, acts(f, ACTS_CAP));
	assert_int_equal(f->p.hold.waiters, 0);
	assert_int_equal(f->p.hold.connected, 2);
	gone_then(f, 1, 10, 1, 1, 1);
	assert_int_equal(f->p.hold.mode, HW_MODE_DURABLE);
	assert_int_equal(f->p.hold.k, 2); /* k_min raised its k of 1 */
	hw_primary_on_submit(&f->p, 2, 2, 2, HW_MODE_DURABLE, 2, 0, acts(f, ACTS_CAP));
	assert_int_equal(f->p.hold.waiters, 2);
	ack(f, 0, 2, 2, 0, 20); /* one standby has both: still one short */
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
	assert_int_equal(f->p.hold.waiters, 2);
	assert_int_equal(f->p.hold.lsn, 1);
	hw_primary_on_connect(&f->p, 1, 0, 30, acts(f, ACTS_CAP));
	assert_int_equal(f->p.hold.waiters, 0); /* it only has to catch up now */
	assert_int_equal(f->p.hold.lsn, 0);
	assert_int_equal(f->p.hold.connected, 2);
	ack(f, 1, 1, 1, 0, 40);
	assert_true(released(&f->out, 1));
	gone_then(f, 0, 50, 0, 1, 0); /* it holds 2; standby 1 may still reach it */
	gone_then(f, 1, 60, 1, 0, 2);
	hw_primary_fail_all(&f->p, HW_ENOT_PRIMARY, acts(f, ACTS_CAP));
	assert_true(released(&f->out, 2));
	assert_int_equal(f->p.hold.waiters, 0);
}

/* With a vault limit set (failover: what any new primary holds), the vault is sent nothing
 * past it while the standby gets everything; as the limit rises, the vault is sent the
 * rest. A limit that falls (a standby gone no longer vouches) stops what is past it: the
 * vault is sent nothing more until it rises again. */
static void test_vault_limit(void **state)
{
	struct fx *f = *state;
	struct hw_repl_config c = cfg2;
	c.vaults = 1;
	hw_primary_init(&f->p, &c, 1, 0, f->w);
	hw_primary_set_vault_limit(&f->p, 2);
	connect_both(f, 3); /* within the window of 4 */
	assert_int_equal(count(&f->out, HW_ACT_SEND), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct hw_act *s = nth(&f->out, HW_ACT_SEND, i);
		assert_int_equal(s->to, s->peer == 1 ? 2 : 3);
	}
	hw_primary_set_vault_limit(&f->p, 3);
	hw_primary_on_tick(&f->p, 10, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->peer, 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 3);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->to, 3);
	/* raised to 5 (a standby made it durable), then back to 3 before the next event
	 * (that standby went): 4 and 5 are held back */
	ack(f, 1, 3, 3, 3, 20);
	hw_primary_on_append(&f->p, 5, 30, acts(f, ACTS_CAP));
	hw_primary_set_vault_limit(&f->p, 5);
	hw_primary_set_vault_limit(&f->p, 3);
	hw_primary_on_tick(&f->p, 40, acts(f, ACTS_CAP));
	for (size_t i = 0; i < count(&f->out, HW_ACT_SEND); i++)
		assert_int_not_equal(nth(&f->out, HW_ACT_SEND, i)->peer, 1);
	hw_primary_set_vault_limit(&f->p, 5);
	hw_primary_on_tick(&f->p, 50, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->peer, 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->to, 5);
}

/* A primary with no standbys (mode local alone) starts, takes no k of any other mode,
 * and releases a local submit once its own log made it durable. */
static void test_no_standbys(void **state)
{
	struct fx *f = *state;
	struct hw_repl_config c = cfg2;
	c.standbys = 0;
	hw_primary_init(&f->p, &c, 1, 0, f->w);
	assert_true(hw_primary_k_possible(&f->p, HW_MODE_LOCAL, 0));
	assert_false(hw_primary_k_possible(&f->p, HW_MODE_DURABLE, 1));
	hw_primary_on_append(&f->p, 1, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 7, 1, 1, HW_MODE_LOCAL, 0, 0, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
	hw_primary_on_durable(&f->p, 1, 0, acts(f, ACTS_CAP));
	assert_true(released(&f->out, 7));
}

/* A LOCAL waiter and a RECEIVED waiter pass an earlier DURABLE one; the ring keeps the
 * DURABLE one at its head until it too is released, then empties. */
static void test_out_of_order_release(void **state)
{
	struct fx *f = *state;
	connect_both(f, 3);
	hw_primary_on_submit(&f->p, 1, 1, 1, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 2, 2, 2, HW_MODE_LOCAL, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 3, 3, 3, HW_MODE_RECEIVED, 1, 0, acts(f, ACTS_CAP));
	hw_primary_on_durable(&f->p, 3, 0, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 1);
	assert_true(released(&f->out, 2));
	assert_int_equal(f->p.w_count, 3);
	ack(f, 1, 3, 0, 0, 1);
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 1);
	assert_true(released(&f->out, 3));
	assert_int_equal(f->p.w_count, 3);
	ack(f, 0, 3, 1, 1, 1);
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 1);
	assert_true(released(&f->out, 1));
	assert_int_equal(f->p.w_count, 0);
}

/* An ack lower than an earlier one (reordered) leaves the positions where they were, so
 * a waiter submitted afterwards is still released at once by the earlier ack. */
static void test_lower_ack_ignored(void **state)
{
	struct fx *f = *state;
	connect_both(f, 3);
	hw_primary_on_durable(&f->p, 3, 0, acts(f, ACTS_CAP));
	ack(f, 0, 3, 3, 2, 1);
	ack(f, 0, 2, 1, 1, 2);
	assert_int_equal(count(&f->out, HW_ACT_DROP), 0);
	assert_int_equal(f->p.peers[0].pos.received, 3);
	assert_int_equal(f->p.peers[0].pos.durable, 3);
	assert_int_equal(f->p.peers[0].pos.applied, 2);
	ack(f, 0, 3, 2, 2, 3); /* lower durable, same applied: still nothing moves back */
	assert_int_equal(f->p.peers[0].pos.durable, 3);
	hw_primary_on_submit(&f->p, 5, 3, 3, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	assert_true(released(&f->out, 5));
	hw_primary_on_submit(&f->p, 6, 3, 3, HW_MODE_APPLIED, 1, 0, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 0);
}

/* An ack for entries never sent, or with durable beyond received, drops the peer with
 * HW_EPROTOCOL; it then counts as gone, and its later acks are ignored. */
static void test_ack_beyond_sent(void **state)
{
	struct fx *f = *state;
	connect_both(f, 2);
	assert_int_equal(f->p.peers[0].sent, 2);
	ack(f, 0, 3, 0, 0, 1);
	assert_int_equal(count(&f->out, HW_ACT_DROP), 1);
	assert_int_equal(nth(&f->out, HW_ACT_DROP, 0)->peer, 0);
	assert_int_equal(nth(&f->out, HW_ACT_DROP, 0)->code, HW_EPROTOCOL);
	assert_false(f->p.peers[0].connected);
	assert_int_equal(f->p.peers[0].pos.received, 0);
	ack(f, 0, 1, 1, 1, 1);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(f->p.peers[0].pos.received, 0);
	ack(f, 1, 1, 2, 0, 1); /* durable beyond received */
	assert_int_equal(count(&f->out, HW_ACT_DROP), 1);
	assert_int_equal(nth(&f->out, HW_ACT_DROP, 0)->peer, 1);
	assert_false(f->p.peers[1].connected);
	/* a standby claiming entries we never wrote is dropped at connect */
	hw_primary_on_connect(&f->p, 1, 9, 5, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_DROP), 1);
	assert_int_equal(count(&f->out, HW_ACT_SEND), 0);
	assert_false(f->p.peers[1].connected);
}

/* With a window of 4 records, a standby that has acked nothing gets entries 1..4 and then
 * nothing more however much is appended, until its acks open the window again. */
static void test_window_backpressure(void **state)
{
	struct fx *f = *state;
	hw_primary_on_connect(&f->p, 0, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_append(&f->p, 10, 1, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->to, 4);
	hw_primary_on_append(&f->p, 12, 2, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 0);
	hw_primary_on_tick(&f->p, 3, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 0);
	ack(f, 0, 2, 0, 0, 4);
	assert_int_equal(count(&f->out, HW_ACT_SEND), 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 5);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->to, 6);
	ack(f, 0, 2, 2, 2, 5); /* durable moved, received did not: window unchanged */
	assert_int_equal(count(&f->out, HW_ACT_SEND), 0);
	ack(f, 0, 6, 2, 2, 6);
	assert_int_equal(count(&f->out, HW_ACT_SEND), 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 7);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->to, 10);
	ack(f, 0, 10, 10, 10, 7);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 11);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->to, 12);
	ack(f, 0, 12, 12, 12, 8);
	assert_int_equal(count(&f->out, HW_ACT_SEND), 0); /* caught up */
}

/* A standby that drops and comes back is resent everything after what it held durable;
 * while it is away it gets nothing, and its durable ack keeps counting for waiters. */
static void test_reconnect_resends_from_durable(void **state)
{
	struct fx *f = *state;
	hw_primary_on_connect(&f->p, 0, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_append(&f->p, 6, 1, acts(f, ACTS_CAP));
	hw_primary_on_durable(&f->p, 6, 0, acts(f, ACTS_CAP));
	ack(f, 0, 4, 2, 2, 2); /* SEND 5..6 follows */
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 5);
	assert_int_equal(f->p.peers[0].sent, 6);
	hw_primary_on_disconnect(&f->p, 0);
	hw_primary_on_disconnect(&f->p, 0); /* idempotent */
	assert_false(f->p.peers[0].connected);
	assert_int_equal(f->p.peers[0].sent, 2);
	assert_int_equal(f->p.peers[0].pos.durable, 2);
	hw_primary_on_submit(&f->p, 1, 2, 2, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	assert_true(released(&f->out, 1));
	hw_primary_on_append(&f->p, 7, 3, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 0);
	hw_primary_on_connect(&f->p, 0, 3, 4, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->peer, 0);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 4);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->to, 7);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->lsn, 6); /* primary durable rides along */
}

/* Idle peers get a heartbeat every heartbeat_ms carrying the primary's durable LSN; one
 * silent for more than peer_timeout_ms is dropped with HW_ESILENT and stops getting
 * heartbeats. */
static void test_heartbeat_and_timeout(void **state)
{
	struct fx *f = *state;
	hw_primary_on_durable(&f->p, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_connect(&f->p, 0, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_connect(&f->p, 1, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_tick(&f->p, 99, acts(f, ACTS_CAP));
	assert_int_equal(f->out.n, 0);
	hw_primary_on_tick(&f->p, 100, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_HEARTBEAT), 2);
	assert_int_equal(nth(&f->out, HW_ACT_HEARTBEAT, 1)->peer, 1);
	hw_primary_on_tick(&f->p, 150, acts(f, ACTS_CAP));
	assert_int_equal(f->out.n, 0);
	hw_primary_on_append(&f->p, 1, 180, acts(f, ACTS_CAP)); /* a send resets idleness */
	hw_primary_on_durable(&f->p, 1, 0, acts(f, ACTS_CAP));
	hw_primary_on_tick(&f->p, 200, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_HEARTBEAT), 0);
	hw_primary_on_tick(&f->p, 280, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_HEARTBEAT), 2);
	assert_int_equal(nth(&f->out, HW_ACT_HEARTBEAT, 0)->lsn, 1);
	ack(f, 0, 1, 1, 1, 600);
	hw_primary_on_tick(&f->p, 1000, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_DROP), 0); /* exactly the timeout: not yet */
	assert_int_equal(count(&f->out, HW_ACT_HEARTBEAT), 2);
	hw_primary_on_tick(&f->p, 1001, acts(f, ACTS_CAP));
	assert_int_equal(f->out.n, 1);
	assert_int_equal(nth(&f->out, HW_ACT_DROP, 0)->peer, 1);
	assert_int_equal(nth(&f->out, HW_ACT_DROP, 0)->code, HW_ESILENT);
	hw_primary_on_tick(&f->p, 1100, acts(f, ACTS_CAP));
	assert_int_equal(f->out.n, 1);
	assert_int_equal(nth(&f->out, HW_ACT_HEARTBEAT, 0)->peer, 0);
	assert_false(f->p.peers[1].connected);
	assert_true(f->p.peers[0].connected);
}

/* The ring holds waiters_max waiters; when full, can_wait says no; releasing the head
 * frees slots, and the ring wraps around keeping LSN order. */
static void test_waiters_max(void **state)
{
	struct fx *f = *state;
	connect_both(f, 20);
	for (uint64_t i = 1; i <= WAITERS; i++) {
		assert_true(hw_primary_can_wait(&f->p, 1));
		hw_primary_on_submit(&f->p, i, i, i, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	}
	assert_false(hw_primary_can_wait(&f->p, 1));
	hw_primary_on_durable(&f->p, 20, 0, acts(f, ACTS_CAP));
	assert_false(hw_primary_can_wait(&f->p, 1));
	ack(f, 0, 4, 3, 3, 1);
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 3);
	assert_int_equal(f->p.w_count, WAITERS - 3);
	assert_true(hw_primary_can_wait(&f->p, 3)); /* room for three more, not four */
	assert_false(hw_primary_can_wait(&f->p, 4));
	for (uint64_t i = WAITERS + 1; i <= WAITERS + 3; i++)
		hw_primary_on_submit(&f->p, i, i, i, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	assert_false(hw_primary_can_wait(&f->p, 1));
	ack(f, 1, 4, 4, 4, 2);
	ack(f, 1, 8, 8, 8, 2);
	ack(f, 1, 12, 11, 11, 2);
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(nth(&f->out, HW_ACT_RELEASE, i)->token, 9 + i);
	assert_int_equal(f->p.w_count, 0);
	assert_true(hw_primary_can_wait(&f->p, 1));
}

/* fail_all releases every waiter still waiting with the given code, skipping one that
 * was already released out of order, and empties the ring. */
static void test_fail_all(void **state)
{
	struct fx *f = *state;
	connect_both(f, 3);
	hw_primary_on_submit(&f->p, 1, 1, 1, HW_MODE_DURABLE, 1, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 2, 2, 2, HW_MODE_LOCAL, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_submit(&f->p, 3, 3, 3, HW_MODE_APPLIED, 2, 0, acts(f, ACTS_CAP));
	hw_primary_on_durable(&f->p, 3, 0, acts(f, ACTS_CAP));
	assert_true(released(&f->out, 2));
	hw_primary_fail_all(&f->p, HW_ENOT_PRIMARY, acts(f, 1));
	assert_int_equal(f->out.n, 1); /* cap 1: one now, the rest next call */
	assert_int_equal(nth(&f->out, HW_ACT_RELEASE, 0)->token, 1);
	assert_int_equal(f->p.w_count, 1); /* 1 and the released 2 leave the head */
	hw_primary_fail_all(&f->p, HW_ENOT_PRIMARY, acts(f, ACTS_CAP));
	assert_int_equal(f->out.n, 1);
	assert_int_equal(nth(&f->out, HW_ACT_RELEASE, 0)->token, 3);
	assert_int_equal(nth(&f->out, HW_ACT_RELEASE, 0)->code, HW_ENOT_PRIMARY);
	assert_int_equal(f->p.w_count, 0);
	assert_true(hw_primary_can_wait(&f->p, 1));
}

/* Entries that do not start right after what the standby received drop the connection
 * with HW_ELSN and change nothing; frames still arriving on it are ignored; after a
 * reconnect the right entries are taken. */
static void test_standby_gap(void **state)
{
	(void)state;
	struct hw_act buf[8];
	struct hw_acts o = {buf, 0, 8};
	struct hw_standby s;
	hw_standby_init(&s, 1, 5, 100, 1000);
	hw_standby_on_connect(&s, 0);
	hw_standby_on_entries(&s, 7, 8, 5, true, 1, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_DROP);
	assert_int_equal(buf[0].code, HW_ELSN);
	assert_int_equal(s.pos.received, 5);
	assert_int_equal(s.writing_to, 5);
	assert_false(s.connected);
	o.n = 0;
	hw_standby_on_entries(&s, 6, 6, 5, true, 2, &o);
	hw_standby_on_heartbeat(&s, 9, true, 2, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(s.pos.received, 5);
	hw_standby_on_connect(&s, 3);
	hw_standby_on_entries(&s, 6, 5, 5, true, 4, &o); /* last < first */
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].code, HW_EPROTOCOL);
	o.n = 0;
	hw_standby_on_connect(&s, 5);
	hw_standby_on_entries(&s, 6, 7, 6, true, 6, &o);
	assert_int_equal(o.n, 2);
	assert_int_equal(buf[0].type, HW_ACT_WRITE);
	assert_int_equal(buf[0].from, 6);
	assert_int_equal(buf[0].to, 7);
	assert_int_equal(buf[1].type, HW_ACT_ACK);
	assert_int_equal(buf[1].pos.received, 7);
	assert_int_equal(buf[1].pos.durable, 5);
	assert_int_equal(s.primary_durable, 6);
}

/* The standby acks at once when entries arrive (received moved) and when they become
 * durable (durable = applied), when a heartbeat asks, when idle for ack_interval, and
 * drops a primary silent for longer than its timeout (HW_ESILENT). */
static void test_standby_acks(void **state)
{
	(void)state;
	struct hw_act buf[8];
	struct hw_acts o = {buf, 0, 8};
	struct hw_standby s;
	hw_standby_init(&s, 1, 0, 100, 1000);
	hw_standby_on_connect(&s, 0);
	hw_standby_on_entries(&s, 1, 3, 0, true, 10, &o);
	assert_int_equal(o.n, 2);
	assert_int_equal(buf[1].type, HW_ACT_ACK);
	o.n = 0;
	hw_standby_on_applied(&s, 2, 15, &o); /* stored before the log flushed: not yet */
	assert_int_equal(o.n, 0);
	hw_standby_on_durable(&s, 2, 20, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_ACK);
	assert_int_equal(buf[0].pos.received, 3);
	assert_int_equal(buf[0].pos.durable, 2);
	assert_int_equal(buf[0].pos.applied, 2);
	o.n = 0;
	hw_standby_on_durable(&s, 3, 22, &o); /* durable ahead of the store: applied stays */
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].pos.durable, 3);
	assert_int_equal(buf[0].pos.applied, 2);
	o.n = 0;
	hw_standby_on_applied(&s, 3, 23, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].pos.applied, 3);
	o.n = 0;
	hw_standby_on_durable(&s, 1, 21, &o); /* stale: ignored */
	assert_int_equal(o.n, 0);
	hw_standby_on_heartbeat(&s, 3, false, 50, &o);
	assert_int_equal(o.n, 0);
	assert_int_equal(s.primary_durable, 3);
	hw_standby_on_heartbeat(&s, 3, true, 60, &o);
	assert_int_equal(o.n, 1);
	o.n = 0;
	hw_standby_on_tick(&s, 159, &o);
	assert_int_equal(o.n, 0);
	hw_standby_on_tick(&s, 160, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_ACK);
	o.n = 0;
	hw_standby_on_heartbeat(&s, 3, false, 260, &o); /* ack is 100 ms old */
	assert_int_equal(o.n, 1);
	o.n = 0;
	hw_standby_on_tick(&s, 1260, &o); /* exactly the timeout: an idle ack, no drop */
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_ACK);
	o.n = 0;
	hw_standby_on_tick(&s, 1261, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_DROP);
	assert_int_equal(buf[0].code, HW_ESILENT);
	assert_false(s.connected);
	o.n = 0;
	hw_standby_on_durable(&s, 3, 1262, &o); /* no ack without a connection */
	assert_int_equal(o.n, 0);
	hw_standby_on_connect(&s, 1300);
	assert_int_equal(s.pos.received, 3);
}

/* Entries the primary sent without asking for a receipt are written but not acked on
 * arrival; the ack after the flush carries received and durable together. */
static void test_standby_receipt_when_asked(void **state)
{
	(void)state;
	struct hw_act buf[8];
	struct hw_acts o = {buf, 0, 8};
	struct hw_standby s;
	hw_standby_init(&s, 1, 0, 100, 1000);
	hw_standby_on_connect(&s, 0);
	hw_standby_on_entries(&s, 1, 3, 0, false, 10, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_WRITE);
	assert_int_equal(s.pos.received, 3);
	o.n = 0;
	hw_standby_on_durable(&s, 3, 11, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_ACK);
	assert_int_equal(buf[0].pos.received, 3);
	assert_int_equal(buf[0].pos.durable, 3);
	o.n = 0;
	hw_standby_on_entries(&s, 4, 4, 3, true, 12, &o);
	assert_int_equal(o.n, 2);
	assert_int_equal(buf[1].type, HW_ACT_ACK);
	assert_int_equal(buf[1].pos.received, 4);
}

/* A SEND asks for a receipt when a waiter in RECEIVED mode waits for its entries
 * (registered before the append, as the node does) or when it fills half the peer's
 * window; else not. A RECEIVED waiter whose entry went out without asking is released
 * by the durable ack. */
static void test_primary_asks_receipt(void **state)
{
	(void)state;
	static const struct hw_repl_config cfg = {
		.standbys = 1,
		.window_records = 64,
		.waiters_max = WAITERS,
		.heartbeat_ms = 100,
		.peer_timeout_ms = 1000,
	};
	struct fx f = {0};
	f.out.v = f.buf;
	hw_primary_init(&f.p, &cfg, 1, 0, f.w);
	hw_primary_on_connect(&f.p, 0, 0, 0, acts(&f, ACTS_CAP));
	hw_primary_on_append(&f.p, 1, 1, acts(&f, ACTS_CAP));
	assert_false(nth(&f.out, HW_ACT_SEND, 0)->receipt);
	hw_primary_on_submit(&f.p, 1, 2, 2, HW_MODE_RECEIVED, 1, 0, acts(&f, ACTS_CAP));
	hw_primary_on_append(&f.p, 2, 2, acts(&f, ACTS_CAP));
	assert_int_equal(nth(&f.out, HW_ACT_SEND, 0)->from, 2);
	assert_true(nth(&f.out, HW_ACT_SEND, 0)->receipt);
	hw_primary_on_append(&f.p, 3, 3, acts(&f, ACTS_CAP)); /* before the waiter of 3 */
	assert_false(nth(&f.out, HW_ACT_SEND, 0)->receipt);
	hw_primary_on_submit(&f.p, 2, 3, 3, HW_MODE_RECEIVED, 1, 0, acts(&f, ACTS_CAP));
	hw_primary_on_submit(&f.p, 3, 4, 4, HW_MODE_DURABLE, 1, 0, acts(&f, ACTS_CAP));
	hw_primary_on_append(&f.p, 4, 4, acts(&f, ACTS_CAP));
	assert_false(nth(&f.out, HW_ACT_SEND, 0)->receipt);
	hw_primary_on_append(&f.p, 32, 5, acts(&f, ACTS_CAP)); /* 32 of 64 unacked */
	assert_int_equal(nth(&f.out, HW_ACT_SEND, 0)->to, 32);
	assert_true(nth(&f.out, HW_ACT_SEND, 0)->receipt);
	hw_primary_on_durable(&f.p, 32, 0, acts(&f, ACTS_CAP));
	ack(&f, 0, 4, 4, 0, 6);
	assert_true(released(&f.out, 1));
	assert_true(released(&f.out, 2));
	assert_true(released(&f.out, 3));
}

/* A stream stuck mid-frame (heartbeats lost, the standby's own acks still going out)
 * is dropped with HW_ESILENT one tick past its bound, counted from the last complete
 * frame: sending acks does not count as hearing the primary. */
static void test_standby_silent_mid_frame(void **state)
{
	(void)state;
	struct hw_act buf[8];
	struct hw_acts o = {buf, 0, 8};
	struct hw_standby s;
	hw_standby_init(&s, 1, 0, 100, 300);
	hw_standby_on_connect(&s, 0);
	hw_standby_on_entries(&s, 1, 2, 0, true, 50, &o); /* the last complete frame */
	hw_standby_on_durable(&s, 2, 60, &o);
	for (int64_t t = 160; t <= 350; t += 100) {
		o.n = 0;
		hw_standby_on_tick(&s, t, &o); /* idle acks go out; no drop yet */
		assert_int_equal(count(&o, HW_ACT_DROP), 0);
		assert_true(s.connected);
	}
	o.n = 0;
	hw_standby_on_tick(&s, 351, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_DROP);
	assert_int_equal(buf[0].code, HW_ESILENT);
	assert_false(s.connected);
	o.n = 0;
	hw_standby_on_entries(&s, 3, 3, 0, true, 352, &o); /* the dead stream's bytes: ignored */
	assert_int_equal(count(&o, HW_ACT_WRITE), 0);
	assert_int_equal(s.pos.received, 2);
	hw_standby_on_connect(&s, 400); /* reconnected: resumes after its durable LSN */
	o.n = 0;
	hw_standby_on_entries(&s, 3, 3, 0, true, 410, &o);
	assert_int_equal(count(&o, HW_ACT_WRITE), 1);
}

/* A snapshot's frames (hw_standby_on_heard) keep the stream alive while no heartbeat
 * comes through; once they stop, the timeout counts from the last. */
static void test_standby_heard_snapshot(void **state)
{
	(void)state;
	struct hw_act buf[8];
	struct hw_acts o = {buf, 0, 8};
	struct hw_standby s;
	hw_standby_init(&s, 1, 0, 100, 300);
	hw_standby_on_connect(&s, 0);
	for (int64_t t = 200; t <= 1000; t += 200) {
		hw_standby_on_heard(&s, t);
		o.n = 0;
		hw_standby_on_tick(&s, t + 100, &o);
		assert_int_equal(count(&o, HW_ACT_DROP), 0);
	}
	o.n = 0;
	hw_standby_on_tick(&s, 1301, &o);
	assert_int_equal(count(&o, HW_ACT_DROP), 1);
	assert_false(s.connected);
	hw_standby_on_heard(&s, 1302); /* not connected: nothing to keep alive */
	assert_false(s.connected);
}

/* Events whose actions do not fit lose nothing: the primary's sends, releases and drops,
 * and the standby's write and ack come out, once each, on the next events. */
static void test_overflow_recovers(void **state)
{
	struct fx *f = *state;
	hw_primary_on_connect(&f->p, 0, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_connect(&f->p, 1, 0, 0, acts(f, ACTS_CAP));
	for (uint64_t i = 1; i <= 3; i++)
		hw_primary_on_submit(&f->p, i, i, i, HW_MODE_LOCAL, 0, 0, acts(f, ACTS_CAP));
	hw_primary_on_append(&f->p, 3, 1, acts(f, 1));
	assert_int_equal(f->out.n, 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->peer, 0);
	hw_primary_on_durable(&f->p, 3, 0, acts(f, 2));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 2);
	assert_true(released(&f->out, 1) && released(&f->out, 2));
	/* beyond sent: a drop is owed and there is no room for it */
	hw_primary_on_ack(&f->p, 0, &(struct hw_pos){4, 0, 0}, 2, acts(f, 0));
	assert_int_equal(f->out.n, 0);
	assert_false(f->p.peers[0].connected);
	hw_primary_on_tick(&f->p, 3, acts(f, ACTS_CAP));
	assert_int_equal(count(&f->out, HW_ACT_RELEASE), 1);
	assert_true(released(&f->out, 3));
	assert_int_equal(count(&f->out, HW_ACT_SEND), 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->peer, 1);
	assert_int_equal(nth(&f->out, HW_ACT_SEND, 0)->from, 1);
	assert_int_equal(nth(&f->out, HW_ACT_DROP, 0)->peer, 0);
	assert_int_equal(count(&f->out, HW_ACT_HEARTBEAT), 0);
	hw_primary_on_tick(&f->p, 4, acts(f, ACTS_CAP));
	assert_int_equal(f->out.n, 0); /* nothing twice */

	struct hw_act buf[4];
	struct hw_acts o = {buf, 0, 0};
	struct hw_standby s;
	hw_standby_init(&s, 1, 0, 100, 1000);
	hw_standby_on_connect(&s, 0);
	hw_standby_on_entries(&s, 1, 2, 0, true, 1, &o);
	hw_standby_on_entries(&s, 3, 3, 0, true, 2, &o);
	assert_int_equal(s.pos.received, 3);
	o.cap = 1;
	hw_standby_on_tick(&s, 3, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_WRITE);
	assert_int_equal(buf[0].from, 1);
	assert_int_equal(buf[0].to, 3);
	o.n = 0;
	o.cap = 4;
	hw_standby_on_tick(&s, 4, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(buf[0].type, HW_ACT_ACK);
	assert_int_equal(buf[0].pos.received, 3);
	o.n = 0;
	hw_standby_on_tick(&s, 5, &o);
	assert_int_equal(o.n, 0);
}

/* ------------------------------------------------ seeded run over a fake network */

#define R_SB      2
#define R_WAITERS 16
#define R_NETQ    32
#define R_SUBS    4096
#define R_STEPS   4000
#define R_RUNS    100

struct r_msg {
	bool heartbeat;
	uint64_t first, last, pdur;
	bool receipt;
};

/* One connection: data primary -> standby in order (TCP), acks back delivered in any
 * order (the test's stand-in for reordering; the core must not care). */
struct r_link {
	bool up;
	struct r_msg data[R_NETQ];
	size_t nd;
	struct hw_pos acks[R_NETQ];
	size_t na;
	uint64_t next_send; /* the LSN the next SEND must start at */
};

/* A standby node: its state machine and its fake store and writer. */
struct r_node {
	struct hw_standby s;
	uint64_t store_durable; /* what its store really has durable */
	uint64_t writer_to;     /* what its writer was handed */
	uint64_t received_hwm;  /* the most it ever held in memory */
};

struct r_sub {
	uint64_t lsn;
	uint8_t mode, k;
	bool released;
};

struct r_world {
	uint64_t seed, rng;
	size_t step;
	int64_t now;
	struct hw_primary p;
	struct hw_waiter w[R_WAITERS];
	uint64_t p_durable; /* the primary's store */
	struct r_node sb[R_SB];
	struct r_link link[R_SB];
	struct r_sub sub[R_SUBS];
	uint64_t nsub;
	struct hw_act buf[64];
	struct hw_acts out;
	size_t released_by_mode[HW_MODES], reordered, drops, sends;
};

#define R_CHECK(world, cond)                                                                       \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fail_msg("seed %" PRIu64 " step %zu: %s", (world)->seed, (world)->step,    \
				 #cond);                                                           \
	} while (0)

static uint64_t below_n(struct r_world *r, uint64_t n)
{
	return hw_splitmix64(&r->rng) % n;
}

/* An action array for one event: usually roomy, sometimes tiny or full, so overflow is
 * part of every run. */
static struct hw_acts *r_acts(struct r_world *r)
{
	r->out.n = 0;
	r->out.cap = below_n(r, 4) == 0 ? (size_t)below_n(r, 3) : 64;
	return &r->out;
}

static void link_down(struct r_world *r, uint32_t i)
{
	r->link[i].up = false;
	r->link[i].nd = 0;
	r->link[i].na = 0;
	hw_primary_on_disconnect(&r->p, i);
	hw_standby_on_disconnect(&r->sb[i].s);
}

/* The safety rule, against the truth: the primary's store has lsn durable, and k
 * standbys really hold it as the mode says (RECEIVED: held in memory at some time). */
static void check_release(struct r_world *r, const struct hw_act *a)
{
	R_CHECK(r, a->code == 0);
	R_CHECK(r, a->token < r->nsub);
	struct r_sub *s = &r->sub[a->token];
	R_CHECK(r, !s->released);
	R_CHECK(r, a->lsn == s->lsn);
	R_CHECK(r, r->p_durable >= s->lsn);
	uint32_t have = 0;
	for (uint32_t i = 0; i < R_SB; i++) {
		uint64_t truth = s->mode == HW_MODE_RECEIVED ? r->sb[i].received_hwm
							     : r->sb[i].store_durable;
		have += truth >= s->lsn;
	}
	R_CHECK(r, s->mode == HW_MODE_LOCAL || have >= s->k);
	s->released = true;
	r->released_by_mode[s->mode]++;
}

static void run_primary_acts(struct r_world *r)
{
	for (size_t j = 0; j < r->out.n; j++) {
		const struct hw_act *a = &r->out.v[j];
		struct r_link *l = &r->link[a->peer];
		switch (a->type) {
		case HW_ACT_SEND:
		case HW_ACT_HEARTBEAT:
			R_CHECK(r, a->peer < R_SB && l->up);
			if (a->type == HW_ACT_SEND) {
				R_CHECK(r, a->from == l->next_send && a->to >= a->from);
				R_CHECK(r, a->to <= r->p.last_lsn);
				l->next_send = a->to + 1;
				r->sends++;
			}
			if (l->nd == R_NETQ) { /* socket buffer full: the link breaks */
				link_down(r, a->peer);
				break;
			}
			l->data[l->nd++] =
				(struct r_msg){a->type == HW_ACT_HEARTBEAT, a->from, a->to, a->lsn, a->receipt};
			break;
		case HW_ACT_RELEASE:
			check_release(r, a);
			break;
		case HW_ACT_DROP:
			R_CHECK(r, a->code == HW_ESILENT);
			r->drops++;
			if (l->up)
				link_down(r, a->peer);
			break;
		default:
			fail_msg("seed %" PRIu64 ": standby action from the primary", r->seed);
		}
	}
}

static void run_standby_acts(struct r_world *r, uint32_t i)
{
	struct r_node *n = &r->sb[i];
	struct r_link *l = &r->link[i];
	if (n->s.pos.received > n->received_hwm)
		n->received_hwm = n->s.pos.received;
	for (size_t j = 0; j < r->out.n; j++) {
		const struct hw_act *a = &r->out.v[j];
		switch (a->type) {
		case HW_ACT_WRITE:
			R_CHECK(r, a->from == n->writer_to + 1 && a->to >= a->from);
			n->writer_to = a->to;
			break;
		case HW_ACT_ACK:
			R_CHECK(r, a->pos.durable <= n->store_durable);
			R_CHECK(r, a->pos.received <= n->received_hwm);
			if (!l->up)
				break;
			if (l->na == R_NETQ) {
				link_down(r, i);
				break;
			}
			l->acks[l->na++] = a->pos;
			break;
		case HW_ACT_DROP:
			R_CHECK(r, a->code == HW_ESILENT);
			r->drops++;
			if (l->up)
				link_down(r, i);
			break;
		default:
			fail_msg("seed %" PRIu64 ": primary action from a standby", r->seed);
		}
	}
}

/* The primary never believes more than is true, and its ring stays in LSN order. */
static void check_world(struct r_world *r)
{
	const struct hw_primary *p = &r->p;
	R_CHECK(r, p->local_durable == r->p_durable && p->local_durable <= p->last_lsn);
	for (uint32_t i = 0; i < R_SB; i++) {
		const struct hw_peer *pr = &p->peers[i];
		R_CHECK(r, pr->pos.durable <= r->sb[i].store_durable);
		R_CHECK(r, pr->pos.applied <= r->sb[i].store_durable);
		R_CHECK(r, pr->pos.received <= r->sb[i].received_hwm);
		R_CHECK(r, !pr->connected || r->link[i].up);
		R_CHECK(r, r->sb[i].s.pos.durable <= r->sb[i].store_durable);
	}
	/* a hold names waiters still there that fewer than their k connected standbys serve */
	R_CHECK(r, p->hold.waiters <= p->w_count);
	R_CHECK(r, p->hold.waiters == 0 || p->hold.connected < p->hold.k);
	for (uint32_t j = 1; j < p->w_count; j++)
		R_CHECK(r, p->waiters[(p->w_head + j - 1) % R_WAITERS].lsn <=
				   p->waiters[(p->w_head + j) % R_WAITERS].lsn);
}

static void r_submit(struct r_world *r)
{
	if (!hw_primary_can_wait(&r->p, 1) || r->nsub == R_SUBS)
		return;
	uint64_t lsn = r->p.last_lsn + 1;
	struct r_sub *s = &r->sub[r->nsub];
	/* one draw per statement: the order of evaluation inside an initializer or an argument
	 * list is unspecified, and a replayable run cannot depend on the compiler */
	uint8_t mode = (uint8_t)below_n(r, HW_MODES);
	uint8_t k = (uint8_t)below_n(r, R_SB + 1);
	*s = (struct r_sub){.lsn = lsn, .mode = mode, .k = k};
	bool append_first = below_n(r, 2) == 0;
	if (append_first) {
		hw_primary_on_append(&r->p, lsn, r->now, r_acts(r));
		run_primary_acts(r);
	}
	hw_primary_on_submit(&r->p, r->nsub++, lsn, lsn, (enum hw_mode)s->mode, s->k, 0, r_acts(r));
	run_primary_acts(r);
	if (!append_first) {
		hw_primary_on_append(&r->p, lsn, r->now, r_acts(r));
		run_primary_acts(r);
	}
}

static void r_deliver_data(struct r_world *r, uint32_t i)
{
	struct r_link *l = &r->link[i];
	if (!l->up || l->nd == 0)
		return;
	struct r_msg m = l->data[0];
	memmove(l->data, l->data + 1, --l->nd * sizeof l->data[0]);
	bool reply = below_n(r, 4) == 0;
	struct hw_acts *out = r_acts(r);
	if (m.heartbeat)
		hw_standby_on_heartbeat(&r->sb[i].s, m.pdur, reply, r->now, out);
	else
		hw_standby_on_entries(&r->sb[i].s, m.first, m.last, m.pdur, m.receipt, r->now,
				      out);
	run_standby_acts(r, i);
}

static void r_deliver_ack(struct r_world *r, uint32_t i, bool in_order)
{
	struct r_link *l = &r->link[i];
	if (!l->up || l->na == 0)
		return;
	size_t k = in_order ? 0 : (size_t)below_n(r, l->na);
	r->reordered += k != 0;
	struct hw_pos pos = l->acks[k];
	memmove(l->acks + k, l->acks + k + 1, (--l->na - k) * sizeof l->acks[0]);
	hw_primary_on_ack(&r->p, i, &pos, r->now, r_acts(r));
	run_primary_acts(r);
}

/* The writer commits some or all of what it was handed. */
static void r_write(struct r_world *r, uint32_t i, bool all)
{
	struct r_node *n = &r->sb[i];
	if (n->writer_to == n->store_durable)
		return;
	uint64_t span = n->writer_to - n->store_durable;
	n->store_durable += all ? span : 1 + below_n(r, span);
	hw_standby_on_durable(&n->s, n->store_durable, r->now, r_acts(r));
	run_standby_acts(r, i);
	hw_standby_on_applied(&n->s, n->store_durable, r->now, r_acts(r));
	run_standby_acts(r, i);
}

/* Reconnect a standby whose link is down: its writer finishes first (repl.h), then the
 * hello carries its durable LSN. */
static void r_reconnect(struct r_world *r, uint32_t i)
{
	if (r->link[i].up)
		return;
	r_write(r, i, true);
	hw_standby_on_connect(&r->sb[i].s, r->now);
	r->link[i].up = true;
	r->link[i].next_send = r->sb[i].s.pos.durable + 1;
	hw_primary_on_connect(&r->p, i, r->sb[i].s.pos.durable, r->now, r_acts(r));
	run_primary_acts(r);
}

static void r_tick(struct r_world *r, int64_t dt)
{
	r->now += dt;
	hw_primary_on_tick(&r->p, r->now, r_acts(r));
	run_primary_acts(r);
	for (uint32_t i = 0; i < R_SB; i++) {
		hw_standby_on_tick(&r->sb[i].s, r->now, r_acts(r));
		run_standby_acts(r, i);
	}
}

static void r_step(struct r_world *r)
{
	uint32_t i = (uint32_t)below_n(r, R_SB);
	uint64_t dice = below_n(r, 100);
	if (dice < 20) {
		r_submit(r);
	} else if (dice < 30) {
		if (r->p_durable < r->p.last_lsn) {
			r->p_durable += 1 + below_n(r, r->p.last_lsn - r->p_durable);
			hw_primary_on_durable(&r->p, r->p_durable, 0, r_acts(r));
			run_primary_acts(r);
		}
	} else if (dice < 55) {
		r_deliver_data(r, i);
	} else if (dice < 75) {
		r_deliver_ack(r, i, false);
	} else if (dice < 87) {
		r_write(r, i, below_n(r, 2) == 0);
	} else if (dice < 97) {
		r_tick(r, (int64_t)below_n(r, 80));
	} else if (dice < 98) {
		if (r->link[i].up)
			link_down(r, i);
	} else {
		r_reconnect(r, i);
	}
}

/* Heal: everything up, delivered in order, written and durable, until every submit is
 * released (all k here are possible), with roomy action arrays. */
static void r_settle(struct r_world *r)
{
	for (int round = 0; round < 200; round++) {
		r->p_durable = r->p.last_lsn;
		hw_primary_on_durable(&r->p, r->p_durable, 0, r_acts(r));
		run_primary_acts(r);
		for (uint32_t i = 0; i < R_SB; i++) {
			r_reconnect(r, i);
			while (r->link[i].up && r->link[i].nd > 0)
				r_deliver_data(r, i);
			r_write(r, i, true);
			while (r->link[i].up && r->link[i].na > 0)
				r_deliver_ack(r, i, true);
		}
		r_tick(r, 1);
		check_world(r);
		if (r->p.w_count == 0)
			break;
	}
}

static void r_run(struct r_world *r, uint64_t seed)
{
	static const struct hw_repl_config cfg = {
		.standbys = R_SB,
		.window_records = 8,
		.waiters_max = R_WAITERS,
		.heartbeat_ms = 50,
		.peer_timeout_ms = 400,
	};
	memset(r, 0, sizeof *r);
	r->seed = seed;
	r->rng = seed;
	r->out.v = r->buf;
	hw_primary_init(&r->p, &cfg, 1, 0, r->w);
	for (uint32_t i = 0; i < R_SB; i++)
		hw_standby_init(&r->sb[i].s, 1, 0, 100, 400);
	for (r->step = 0; r->step < R_STEPS; r->step++) {
		r_step(r);
		check_world(r);
	}
	r_settle(r);
	for (uint64_t t = 0; t < r->nsub; t++)
		R_CHECK(r, r->sub[t].released);
	R_CHECK(r, r->p.w_count == 0);
}

/* A primary and two standbys over a network that delays data, reorders acks, breaks and
 * times out, with action arrays that overflow: after every step the primary believes no
 * more than the standbys really hold, every release met its rule against the fake
 * stores' true positions, and once the network heals every submit is released. */
static void test_randomised(void **state)
{
	(void)state;
	uint64_t base = 0x9e3779b97f4a7c15ull;
	const char *env = getenv("HW_SEED");
	if (env != NULL)
		base = strtoull(env, NULL, 0);
	print_message("test_randomised: seed base 0x%" PRIx64 " (HW_SEED=... to replay), %d runs\n",
		      base, R_RUNS);
	struct r_world *r = calloc(1, sizeof *r);
	assert_non_null(r);
	size_t total[HW_MODES] = {0}, reordered = 0, drops = 0, sends = 0, subs = 0;
	for (uint64_t run = 0; run < R_RUNS; run++) {
		r_run(r, base + run);
		for (int m = 0; m < HW_MODES; m++)
			total[m] += r->released_by_mode[m];
		reordered += r->reordered;
		drops += r->drops;
		sends += r->sends;
		subs += r->nsub;
	}
	free(r);
	print_message("test_randomised: %zu submits released (local %zu, received %zu, durable "
		      "%zu, applied %zu), %zu sends, %zu reordered acks, %zu drops\n",
		      subs, total[0], total[1], total[2], total[3], sends, reordered, drops);
	/* the run must have exercised what it claims to */
	for (int m = 0; m < HW_MODES; m++)
		assert_true(total[m] > 100);
	assert_true(reordered > 100);
	assert_true(drops > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_rule_each_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_durable_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_not_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_k_min_raises_k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_lack_of_standbys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_standbys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lower_ack_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_beyond_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_resends_from_durable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_and_timeout, setup, teardown),
		cmocka_unit_test(test_standby_silent_mid_frame),
		cmocka_unit_test(test_standby_heard_snapshot),
		cmocka_unit_test_setup_teardown(test_waiters_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_all, setup, teardown),
		cmocka_unit_test(test_standby_gap),
		cmocka_unit_test(test_standby_acks),
		cmocka_unit_test(test_standby_receipt_when_asked),
		cmocka_unit_test(test_primary_asks_receipt),
		cmocka_unit_test_setup_teardown(test_overflow_recovers, setup, teardown),
		cmocka_unit_test(test_randomised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
