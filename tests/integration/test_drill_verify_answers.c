/* test_drill_verify_answers.c: the verdict of `hawser drill verify --connect` over what
 * the nodes answer (fake nodes of fake_node.h on threads of the test, in plaintext): a
 * node that cannot answer for want of room for its replay's scratch is no verdict on its
 * store, so the drill ends in ERROR (exit 1) naming the node and its words (scratch,
 * room needed and free), not FAIL (exit 3), unless the nodes that answered disagree; and
 * so is a node that cannot be reached, is busy, or refuses a replay past the limit or of
 * a pruned log; a node that answers wrong (unreadable, wrong type, an odd code) FAILs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/integration/fake_node.h"
#include "tests/integration/proc.h"

#define NODES 3

struct fix {
	char dir[HW_PROC_PATH_MAX];
	char reports[HW_PROC_PATH_MAX + 16];
	struct hw_capture cap;
	uint16_t port[NODES]; /* drill()'s fake nodes': their node ids are "fake<port>" */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("drill-verify-answers", f->dir, sizeof f->dir) != 0) {
		free(f);
		return -1;
	}
	snprintf(f->reports, sizeof f->reports, "%s/reports", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	int rc = hw_test_rm_rf(f->dir);
	free(f);
	return rc;
}

/* drill()'s node whose port is bound and never listens: every dial to it is refused. */
#define UNREACHABLE ((enum behaviour) - 1)

/* Fake nodes behaving as how[0..NODES) (their ports in f->port) asked by `hawser drill
 * verify --connect` in plaintext: its exit status, its stdout (--json) in f->cap.out. */
static int drill(struct fix *f, const enum behaviour *how)
{
	struct server s[NODES];
	char list[NODES * 24] = "";
	for (size_t i = 0; i < NODES; i++) {
		server_bind(&s[i], how[i]);
		if (how[i] != UNREACHABLE)
			server_serve(&s[i]);
		f->port[i] = s[i].port;
		size_t at = strlen(list);
		snprintf(list + at, sizeof list - at, "%s127.0.0.1:%u", i ? "," : "",
			 (unsigned)s[i].port);
	}
	int rc = hw_proc_capture(&f->cap, hw_test_bin(), "drill", "verify", "--connect", list,
				 "--insecure", "--report-dir", f->reports, "--json", NULL);
	for (size_t i = 0; i < NODES; i++) {
		if (how[i] == UNREACHABLE)
			server_unbind(&s[i]);
		else
			server_join(&s[i]);
	}
	return rc;
}

/* After a drill() whose node i was not checked, for why (code): its check skipped with the
 * reason, no check failed, and the drill an ERROR (exit 1) naming the node and why. */
static void assert_unchecked(const struct fix *f, int rc, size_t i, const char *code,
			     const char *why)
{
	char want[256];
	assert_int_equal(rc, 1);
	assert_non_null(strstr(f->cap.out, "\"result\":\"ERROR\""));
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"fail\""), 0);
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"skip\""), 1);
	snprintf(want, sizeof want, "127.0.0.1:%u cannot answer: %s (%s)\"", (unsigned)f->port[i],
		 why, code);
	assert_non_null(strstr(f->cap.out, want));
	snprintf(want, sizeof want, "could not be checked (%s): %s\"", code, why);
	const char *what = strstr(f->cap.out, "\"what\":\"node ");
	assert_true(what != NULL && strstr(what, want) != NULL);
}

/* Two nodes agree and the third has no room for its replay's scratch: ERROR (exit 1),
 * the third node's check skipped with its words whole, the summary naming the node, its
 * scratch (shortened to fit: "..." between its start and end), the room it needs and
 * has. */
static void test_no_room_is_error(void **state)
{
	struct fix *f = *state;
	const enum behaviour how[NODES] = {DIGEST_AT, DIGEST_AT, FULL_SCRATCH};
	assert_int_equal(drill(f, how), 1);
	assert_non_null(strstr(f->cap.out, "\"result\":\"ERROR\""));
	assert_null(strstr(f->cap.out, "\"verdict\":\"fail\""));
	char want[128];
	for (size_t i = 0; i < NODES; i++) {
		snprintf(want, sizeof want, "\"node fake%u\",\"verdict\":\"%s\"",
			 (unsigned)f->port[i], i < 2 ? "pass" : "skip");
		assert_non_null(strstr(f->cap.out, want));
	}
	assert_non_null(strstr(f->cap.out, "cannot answer: " NO_ROOM_WHY " (ENOSPC)"));
	const char *what = strstr(f->cap.out, "\"what\":\"node fake");
	assert_non_null(what);
	what = strstr(what, " could not answer (ENOSPC): no room for its replay's scratch "
			    "/srv/hawser/");
	assert_non_null(what);
	const char *end = strstr(what, "\"");
	const char *cut = strstr(what, "...");
	snprintf(want, sizeof want,
		 "/n.digest-XXXXXX: it needs about %u KiB, its file system has %u KiB free\"",
		 NO_ROOM_NEED_KIB, NO_ROOM_FREE_KIB);
	assert_true(end != NULL && cut != NULL && cut < end - strlen(want));
	assert_memory_equal(end + 1 - strlen(want), want, strlen(want));
}

/* The same from a node that does not name its scratch in its reply (a node of before,
 * whose scratch filled with HW_ESTORE_FULL): ERROR all the same, in the node's words, cut
 * at the summary's bound with "..."; and two nodes that disagree beside a node without
 * room: FAIL (exit 3), what they found stands. */
static void test_no_room_unnamed_or_disagree(void **state)
{
	struct fix *f = *state;
	const enum behaviour how[NODES] = {DIGEST_AT, FULL_UNNAMED, DIGEST_AT};
	assert_int_equal(drill(f, how), 1);
	char want[128];
	snprintf(want, sizeof want,
		 "\"what\":\"node fake%u could not answer (HW_ESTORE_FULL): no room for the "
		 "replay's scratch store /srv/hawser/",
		 (unsigned)f->port[1]);
	const char *what = strstr(f->cap.out, want);
	assert_non_null(what);
	assert_memory_equal(strstr(what + 8, "\"") - 3, "...", 3);
	snprintf(want, sizeof want, "\"node fake%u\",\"verdict\":\"skip\"", (unsigned)f->port[1]);
	assert_non_null(strstr(f->cap.out, want));
	const enum behaviour odd[NODES] = {DIGEST_AT, DIGEST_ODD, FULL_SCRATCH};
	assert_int_equal(drill(f, odd), 3);
	assert_non_null(strstr(f->cap.out, "\"result\":\"FAIL\""));
	assert_non_null(strstr(f->cap.out, "nodes disagree at LSN 9, no majority: 1 against 1"));
}

/* A node that cannot be reached, that is busy with another query (HW_EBUSY), whose
 * replay would pass the limit (HW_ERANGE) or whose log was pruned (HW_ENOTFOUND) says
 * nothing of its store: its check is skipped with the reason and the drill is an ERROR
 * (exit 1) naming it, not a FAIL (exit 3), while the two others agree; beside two nodes
 * that disagree the FAIL stands, and a node whose storage failed FAILs. */
static void test_unchecked_is_error(void **state)
{
	struct fix *f = *state;
	char want[64];
	const enum behaviour gone[NODES] = {DIGEST_AT, DIGEST_AT, UNREACHABLE};
	assert_unchecked(f, drill(f, gone), 2, "ECONNREFUSED",
			 "cannot connect: Connection refused");
	snprintf(want, sizeof want, "\"what\":\"node 127.0.0.1:%u could", (unsigned)f->port[2]);
	assert_non_null(strstr(f->cap.out, want));
	const enum behaviour busy[NODES] = {BUSY_DIGEST, DIGEST_AT, DIGEST_AT};
	assert_unchecked(f, drill(f, busy), 0, "HW_EBUSY", hw_strerror(HW_EBUSY));
	const enum behaviour range[NODES] = {DIGEST_AT, RANGE_DIGEST, DIGEST_AT};
	assert_unchecked(f, drill(f, range), 1, "HW_ERANGE", RANGE_WHY);
	snprintf(want, sizeof want, "\"what\":\"node fake%u could", (unsigned)f->port[1]);
	assert_non_null(strstr(f->cap.out, want));
	const enum behaviour pruned[NODES] = {GONE_DIGEST, DIGEST_AT, DIGEST_AT};
	assert_unchecked(f, drill(f, pruned), 0, "HW_ENOTFOUND", GONE_WHY);
	const enum behaviour nomem[NODES] = {DIGEST_AT, DIGEST_AT, NOMEM_DIGEST};
	assert_unchecked(f, drill(f, nomem), 2, "HW_ENOMEM", hw_strerror(HW_ENOMEM));
	const enum behaviour odd[NODES] = {UNREACHABLE, DIGEST_ODD, DIGEST_AT};
	assert_int_equal(drill(f, odd), 3);
	assert_non_null(strstr(f->cap.out, "nodes disagree at LSN 9, no majority: 1 against 1"));
	/* a node whose storage failed is no such case: FAIL */
	const enum behaviour failed[NODES] = {DIGEST_AT, FAILED_DIGEST, DIGEST_AT};
	assert_int_equal(drill(f, failed), 3);
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"fail\""), 1);
	assert_non_null(strstr(f->cap.out, "(HW_ESTORE_FAILED)"));
	assert_non_null(strstr(f->cap.out, "2 of 3 nodes agree at LSN 9"));
}

/* After a drill() whose node i answered something other than a digest that says nothing
 * of its being unable to do the work (code, in why): FAIL (exit 3), its check the one
 * that failed, the two others agreeing. */
static void assert_answered_fail(const struct fix *f, int rc, size_t i, const char *code,
				 const char *why)
{
	char want[256];
	assert_int_equal(rc, 3);
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"fail\""), 1);
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"skip\""), 0);
	snprintf(want, sizeof want, "127.0.0.1:%u cannot answer: %s (%s)\"", (unsigned)f->port[i],
		 why, code);
	assert_non_null(strstr(f->cap.out, want));
	assert_non_null(strstr(f->cap.out, "2 of 3 nodes agree at LSN 9"));
}

/* A node that answers, but with a reply that cannot be read, a digest that is not one,
 * a frame of the wrong type or a code that is no reason to skip it (it refused the query
 * as no node should), reached the drill and said something wrong of itself: FAIL (exit
 * 3), not ERROR. */
static void test_wrong_answer_is_fail(void **state)
{
	struct fix *f = *state;
	const enum behaviour unreadable[NODES] = {DIGEST_AT, DIGEST_AT, JUNK_DIGEST};
	assert_answered_fail(f, drill(f, unreadable), 2, "HW_EFRAME", "malformed digest reply");
	const enum behaviour empty[NODES] = {EMPTY_DIGEST, DIGEST_AT, DIGEST_AT};
	assert_answered_fail(f, drill(f, empty), 0, "HW_EFRAME", "malformed digest reply");
	const enum behaviour wrong[NODES] = {DIGEST_AT, WRONG_REPLY, DIGEST_AT};
	assert_answered_fail(f, drill(f, wrong), 1, "HW_EPROTOCOL", hw_strerror(HW_EPROTOCOL));
	const enum behaviour refused[NODES] = {DIGEST_AT, DIGEST_AT, REFUSE_DIGEST};
	assert_answered_fail(f, drill(f, refused), 2, "HW_EFAULT_OFF", hw_strerror(HW_EFAULT_OFF));
}

int main(void)
{
	if (hw_test_bin_or_skip("test_drill_verify_answers") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_room_is_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_unnamed_or_disagree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchecked_is_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_answer_is_fail, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
