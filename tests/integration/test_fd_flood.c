/* test_fd_flood.c: a keyless flood of silent TCP connections to a primary's client port,
 * the primary and its standby running with a descriptor limit of 256: the primary never
 * holds more descriptors than its limit less its reserve, a standby killed during the
 * flood connects again on the replication port, a client connected before the flood has
 * every submit acknowledged (mode durable: the standby holds each) while it lasts, a new
 * client is served after it, and the primary's log says the port filled and nothing of
 * a storage failure. Before the bound, the flood took every descriptor: the replication
 * port's accept failed with EMFILE and the log's next open() stopped the primary for
 * good (storage_failed in=wal code=EMFILE). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "bench/cluster.h"
#include "bench/workload.h"
#include "hawser.h"
#include "tests/integration/flood.h"
#include "tests/integration/proc.h"

/* Each node's RLIMIT_NOFILE, soft and hard: about 20 open at start and 64 kept leave
 * about 170 for connections, where the flood below is more than twice that. */
#define NOFILE 256u
/* Connections the primary must have cut for the flood to count as having run: the
 * client port's bound over several times, each of its connections given 1 s. */
#define FLOOD_CYCLES  3
#define ROUND_RECORDS 16u
#define WAIT_MS       10000 /* one outcome, one start */
#define FLOOD_WAIT_MS 60000 /* the whole flood, a bound only a broken node reaches */

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_cluster *c;
	struct hw_workload *w;
	uint64_t next_id; /* request ids, across clients */
	struct hw_flood fl;
};

static int setup(void **state)
{
	/* the flood's sockets are this process's descriptors */
	struct rlimit rl;
	const rlim_t need = HW_FLOOD_CONNS + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_max < need) { /* raised where it may be (root: CAP_SYS_RESOURCE) */
		struct rlimit up = {.rlim_cur = need, .rlim_max = need};
		if (setrlimit(RLIMIT_NOFILE, &up) != 0) {
			print_message("test_fd_flood: skipped: the hard descriptor limit %llu is "
				      "under %llu and cannot be raised: %s (needs "
				      "CAP_SYS_RESOURCE)\n",
				      (unsigned long long)rl.rlim_max, (unsigned long long)need,
				      strerror(errno));
			exit(77);
		}
		rl = up;
	}
	rl.rlim_cur = rl.rlim_max;
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || setrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    hw_test_mkdtemp("fd_flood", f->root, sizeof f->root) != 0)
		return -1;
	char dir[HW_PROC_PATH_MAX + 16];
	snprintf(dir, sizeof dir, "%s/cluster", f->root);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(),
				    .root = dir,
				    .standbys = 1,
				    .mode = "durable",
				    .k = 1,
				    .failover =
					    true, /* a restarted standby: its own port waited for */
				    .nofile = NOFILE};
	struct hw_workload_opts wo = {.seed = 41, .count = 1u << 20, .end_ms = hw_wall_ms()};
	*state = f;
	if (hw_workload_new(&wo, &f->w) != 0)
		return -1;
	return hw_cluster_start(&o, &f->c);
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_flood_stop(&f->fl);
	if (f->c != NULL)
		hw_cluster_free(f->c, false);
	hw_workload_free(f->w);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* Submit ROUND_RECORDS records on c in mode durable (k 1) and take every outcome: each
 * must be acknowledged. */
static void submit_round(struct fix *f, struct hw_client *c)
{
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	for (unsigned i = 0; i < ROUND_RECORDS; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(f->w, buf, sizeof buf, &it), 0);
		assert_int_equal(hw_client_submit(c, f->next_id++, buf, it.len, HW_DURABLE, 1), 0);
	}
	for (unsigned i = 0; i < ROUND_RECORDS; i++) {
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, WAIT_MS, &o), 0);
		assert_int_equal(o.code, 0);
	}
}

/* Rounds of submits on c while the flood runs, the primary's descriptors looked at after
 * each, until it has cut FLOOD_CYCLES times its client port's bound: the standby (node sb)
 * is killed and started again once the first of those has passed, and at least one
 * round follows its start. The most descriptors seen into *fds_max. */
static void rounds_under_flood(struct fix *f, struct hw_client *c, pid_t pid, unsigned sb,
			       unsigned long conns, long *fds_max)
{
	bool restarted = false;
	unsigned after = 0; /* rounds since the standby started again */
	int64_t end = hw_mono_ms() + FLOOD_WAIT_MS;
	while ((hw_flood_cut(&f->fl) < FLOOD_CYCLES * conns || after == 0) && hw_mono_ms() < end) {
		submit_round(f, c);
		long n = hw_proc_fd_count(pid);
		*fds_max = n > *fds_max ? n : *fds_max;
		after += restarted;
		if (!restarted && hw_flood_cut(&f->fl) >= conns) {
			assert_int_equal(hw_cluster_kill(f->c, sb, SIGKILL), 0);
			assert_int_equal(hw_cluster_restart(f->c, sb), 0);
			restarted = true;
		}
	}
	assert_true(after > 0);
	assert_true(hw_flood_cut(&f->fl) >= FLOOD_CYCLES * conns);
}

/* The flood described at the top, against the cluster's primary. */
static void test_flood_bounded(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, WAIT_MS, &p), 0);
	const char *plog = hw_cluster_log(f->c, p), *addr = hw_cluster_node_addr(f->c, p);
	char line[2048] = "";
	assert_int_equal(hw_test_log_lines(plog, "event=started ", line, sizeof line), 1);
	int64_t reserve = hw_log_field(line, "fd_reserve", -1);
	int64_t conns = hw_log_field(line, "client_conns_max", -1);
	assert_int_equal(hw_log_field(line, "fd_limit", -1), NOFILE);
	assert_true(reserve > 0 && conns > 0 && conns + reserve < NOFILE);
	struct hw_client *c;
	assert_int_equal(hw_client_connect_secure(addr, hw_cluster_security(f->c), &c), 0);
	pid_t pid = hw_cluster_node_pid(f->c, p);
	long fds_max = hw_proc_fd_count(pid);
	/* before any submit: the log's flushers open their files */
	assert_int_equal(hw_flood_start(&f->fl, addr), 0);
	rounds_under_flood(f, c, pid, 1 - p, (unsigned long)conns, &fds_max);
	long rss_kib = hw_proc_rss_kib(pid);
	hw_flood_stop(&f->fl);
	print_message("flood: %lu connections cut, %llu records acknowledged, the primary held "
		      "at most %ld descriptors (limit %u, reserve %lld, client port bound %lld), "
		      "VmRSS %ld KiB\n",
		      hw_flood_cut(&f->fl), (unsigned long long)f->next_id, fds_max, NOFILE,
		      (long long)reserve, (long long)conns, rss_kib);
	assert_true(fds_max <= (long)NOFILE - reserve);
	hw_client_close(c);
	/* a client that comes after the flood is served */
	assert_int_equal(hw_client_connect_secure(addr, hw_cluster_security(f->c), &c), 0);
	submit_round(f, c);
	hw_client_close(c);
	assert_true(hw_test_log_lines(plog, "event=accept_paused ", line, sizeof line) > 0);
	assert_int_equal(hw_test_log_lines(plog, "event=storage_failed", line, sizeof line), 0);
	assert_int_equal(hw_test_log_lines(plog, "Too many open files", line, sizeof line), 0);
}

/* Lines of the log at path of event (needle "event=NAME ") written in full, not those
 * that count the ones left out (hw_log_every: "peer=* more=N", or "peer=* port=NAME
 * reason=WHY more=N" for a line counted per port). */
static unsigned full_lines(const char *path, const char *event)
{
	char line[2048], counts[128];
	snprintf(counts, sizeof counts, "%speer=* ", event);
	return hw_test_log_lines(path, event, line, sizeof line) -
	       hw_test_log_lines(path, counts, line, sizeof line);
}

/* Lines a flood of keyless connections to the replication port repeats per connection. */
static const char *const flood_events[] = {"event=channel_refused ", "event=channel_cut ",
					   "event=session_lost ", "event=session_evicted "};
#define FLOOD_EVENTS (sizeof flood_events / sizeof flood_events[0])

/* The standby is killed, a keyless flood of silent connections from another host
 * (127.0.0.2) fills the primary's replication port and keeps it full (the node closes
 * them, the flood makes them again at once), and the standby is started again while it
 * runs: it must follow before the flood stops, within its third dial (its log says of
 * two failed dials at most), where before the port, full of connections in their
 * handshake, refused it HW_EBUSY or left it in the kernel's backlog dial after dial (19 s
 * measured at 110 connections a second; this flood kept it out for the whole minute).
 * The primary writes each line the flood repeats per connection HW_FLOOD_LOG_LINES times
 * a second in full at most (then a count): before, two lines per connection. */
static void test_repl_flood_standby_follows(void **state)
{
	struct fix *f = *state;
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, WAIT_MS, &p), 0);
	unsigned sb = 1 - p;
	const char *plog = hw_cluster_log(f->c, p), *slog = hw_cluster_log(f->c, sb);
	assert_int_equal(hw_cluster_wait_joined(f->c, sb, FLOOD_WAIT_MS, NULL, 0), 0);
	unsigned full_before[FLOOD_EVENTS];
	for (size_t i = 0; i < FLOOD_EVENTS; i++)
		full_before[i] = full_lines(plog, flood_events[i]);
	int64_t began = hw_mono_ms();
	assert_int_equal(hw_cluster_kill(f->c, sb, SIGKILL), 0);
	assert_int_equal(hw_flood_start(&f->fl, hw_cluster_repl_addr(f->c, p)), 0);
	int64_t end = hw_mono_ms() + FLOOD_WAIT_MS; /* the port filled and turned over twice */
	while (hw_flood_cut(&f->fl) < 2u * HW_FLOOD_CONNS && hw_mono_ms() < end)
		poll(NULL, 0, 50);
	unsigned long cut_at_start = hw_flood_cut(&f->fl);
	assert_true(cut_at_start >= 2u * HW_FLOOD_CONNS);
	char line[2048];
	/* each dial that ends before the standby follows (refused, or left silent in the
	 * kernel's backlog) ends in one such line */
	unsigned failed_before = hw_test_log_lines(slog, "event=primary_lost ", line, sizeof line);
	assert_int_equal(hw_cluster_restart(f->c, sb), 0);
	char behind[256];
	assert_int_equal(hw_cluster_wait_joined(f->c, sb, FLOOD_WAIT_MS, behind, sizeof behind), 0);
	unsigned long cut_at_join = hw_flood_cut(&f->fl);
	hw_flood_stop(&f->fl);
	int64_t elapsed_ms = hw_mono_ms() - began;
	unsigned failed_dials =
		hw_test_log_lines(slog, "event=primary_lost ", line, sizeof line) - failed_before;
	print_message("repl flood: %lu connections cut before the standby's start, %lu until it "
		      "joined; %u of its dials failed; %lld ms in all\n",
		      cut_at_start, cut_at_join, failed_dials, (long long)elapsed_ms);
	assert_true(cut_at_join > cut_at_start); /* it joined while the flood ran */
	assert_true(failed_dials <= 2);
	for (size_t i = 0; i < FLOOD_EVENTS; i++) {
		unsigned full = full_lines(plog, flood_events[i]) - full_before[i];
		print_message("  %s%u in full\n", flood_events[i], full);
		assert_true(full <=
			    ((unsigned)(elapsed_ms / HW_FLOOD_LOG_MS) + 2u) * HW_FLOOD_LOG_LINES);
	}
}

int main(void)
{
	if (hw_test_bin_or_skip("test_fd_flood") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flood_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repl_flood_standby_follows, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
