/* test_drill_verify_cluster.c: `hawser drill verify --connect` on a running, encrypted
 * cluster of p1, s1 and s2 (bench/cluster.h): every node answers its state digest at one
 * LSN over its client port (engine/node_digest.c), from one read transaction or by
 * replaying its log; equal digests PASS, a standby whose state table was changed behind
 * its back is named with both digests and FAILs (and with only one other node to compare
 * with, neither is called healthy: no majority), one node given at two addresses is an
 * ERROR naming both, a replay past --replay-max is refused with its reason, so is one
 * whose scratch has no room (ENOSPC, naming it, an ERROR of the drill) or whose disk fills
 * during it (the node goes on serving), and bad command lines are usage errors that ask
 * nothing. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cmocka.h>
#include <lmdb.h>

#include "bench/cluster.h"
#include "hawser.h"
#include "tests/integration/proc.h"
#include "tests/skip.h"

#define LOAD_RECORDS "300"
#define SYNC_MS      10000
#define AT_LSN       "10"

struct fix {
	char root[HW_PROC_PATH_MAX];
	char reports[HW_PROC_PATH_MAX + 16];
	char list[512];
	struct hw_cluster *c;
	struct hw_capture cap;
	struct hw_cluster *small; /* test_replay_no_room's, on the tmpfs f->root/small */
};

static int group_teardown(void **state)
{
	struct fix *f = *state;
	if (f == NULL) /* the setup failed: it undid its part */
		return 0;
	hw_cluster_free(f->c, false);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	*state = NULL;
	return rc;
}

static int group_setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("drill-verify-cluster", f->root, sizeof f->root) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	snprintf(f->reports, sizeof f->reports, "%s/reports", f->root);
	char root[HW_PROC_PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(), .root = root, .standbys = 2};
	int rc = hw_cluster_start(&o, &f->c);
	if (rc == 0) {
		snprintf(f->list, sizeof f->list, "%s", hw_cluster_client_list(f->c));
		const struct hw_client_security *s = hw_cluster_security(f->c);
		rc = hw_proc_capture(&f->cap, hw_test_bin(), "submit", "--connect",
				     hw_cluster_client_addr(f->c), "--generate", LOAD_RECORDS,
				     "--key", s->key, "--peers", s->peers, "--cluster",
				     s->cluster_id, NULL);
	}
	if (rc != 0 || hw_cluster_wait_synced(f->c, SYNC_MS, NULL) != 0) {
		group_teardown(state); /* no cluster left running, no directory left behind */
		return -1;
	}
	return 0;
}

/* `hawser drill verify --connect LIST --json` of the nodes of cl with its client key and
 * up to three more arguments (NULL-terminated); its exit status, stdout in f->cap.out. */
static int drill_of(struct fix *f, struct hw_cluster *cl, const char *list, const char *a,
		    const char *b, const char *c)
{
	const struct hw_client_security *s = hw_cluster_security(cl);
	return hw_proc_capture(&f->cap, hw_test_bin(), "drill", "verify", "--connect", list,
			       "--json", "--report-dir", f->reports, "--key", s->key, "--peers",
			       s->peers, "--cluster", s->cluster_id, a, b, c, NULL);
}

/* drill_of() of the group's cluster, f->list. */
static int drill(struct fix *f, const char *a, const char *b, const char *c)
{
	return drill_of(f, f->c, f->list, a, b, c);
}

/* drill() of the node list fmt (printf-style) instead of f->list: its exit status. */
static int drill_list(struct fix *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int drill_list(struct fix *f, const char *fmt, ...)
{
	char list[sizeof f->list];
	snprintf(list, sizeof list, "%s", f->list);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->list, sizeof f->list, fmt, ap);
	va_end(ap);
	int rc = drill(f, NULL, NULL, NULL);
	snprintf(f->list, sizeof f->list, "%s", list);
	return rc;
}

/* Change the last byte of the first value of the containers table in the store at dir,
 * as damage behind the node's back would: the log stays as it was. */
static void damage_state(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "containers", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_FIRST), 0);
	uint8_t buf[4096];
	assert_true(v.mv_size > 0 && v.mv_size <= sizeof buf);
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size - 1] ^= 0x01;
	MDB_val nv = {.mv_size = v.mv_size, .mv_data = buf};
	mdb_cursor_close(cur);
	assert_int_equal(mdb_put(txn, dbi, &k, &nv, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* After a load, the three nodes' digests are equal at the lowest head: PASS, exit 0,
 * each node named with its digest and how it got it. */
static void test_equal_pass(void **state)
{
	struct fix *f = *state;
	assert_int_equal(drill(f, NULL, NULL, NULL), 0);
	assert_non_null(strstr(f->cap.out, "\"result\":\"PASS\""));
	for (unsigned i = 0; i < 3; i++) {
		char name[48];
		snprintf(name, sizeof name, "\"node %s\"", hw_cluster_node_id(f->c, i));
		assert_non_null(strstr(f->cap.out, name));
	}
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"fail\""), 0);
}

/* At an LSN below every head each node replays its log to it and they agree; with
 * --replay-max below that LSN every node refuses with HW_ERANGE and its reason, and
 * with nobody to compare the drill is an ERROR. */
static void test_replay_and_limit(void **state)
{
	struct fix *f = *state;
	assert_int_equal(drill(f, "--at-lsn", AT_LSN, NULL), 0);
	assert_int_equal(hw_test_count(f->cap.out, "log replayed, " AT_LSN " entries"), 3);
	assert_int_equal(drill(f, "--at-lsn", AT_LSN, "--replay-max=5"), 1);
	assert_int_equal(hw_test_count(f->cap.out, "HW_ERANGE"), 3 + 1); /* each node, the result */
	assert_non_null(strstr(f->cap.out, "passes the limit of 5"));
	assert_non_null(strstr(f->cap.out, "\"result\":\"ERROR\""));
}

/* A cluster of p1 and s1 (f->small) whose data directories are on a tmpfs at mnt, in a
 * mount namespace of this test's own (its nodes inherit it; it goes with the process),
 * loaded with RECORDS_NO_ROOM records; skips, saying why, where there is none (not
 * root). */
#define RECORDS_NO_ROOM "2000"
static void small_cluster(struct fix *f, char *mnt, size_t cap)
{
	snprintf(mnt, cap, "%s/small", f->root);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		HW_SKIP("no mount namespace of its own: %s (needs root)", strerror(errno));
	if ((mkdir(mnt, 0700) != 0 && errno != EEXIST) ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=64m") != 0)
		HW_SKIP("no tmpfs at %s: %s", mnt, strerror(errno));
	char root[HW_PROC_PATH_MAX + 32];
	snprintf(root, sizeof root, "%s/cluster", mnt);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(), .root = root, .standbys = 1};
	assert_int_equal(hw_cluster_start(&o, &f->small), 0);
	const struct hw_client_security *s = hw_cluster_security(f->small);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "submit", "--connect",
					 hw_cluster_client_addr(f->small), "--generate",
					 RECORDS_NO_ROOM, "--key", s->key, "--peers", s->peers,
					 "--cluster", s->cluster_id, NULL),
			 0);
	assert_int_equal(hw_cluster_wait_synced(f->small, SYNC_MS, NULL), 0);
}

static int small_teardown(void **state)
{
	struct fix *f = *state;
	char mnt[HW_PROC_PATH_MAX + 16];
	hw_cluster_free(f->small, false);
	f->small = NULL;
	snprintf(mnt, sizeof mnt, "%s/small", f->root);
	umount2(mnt, MNT_DETACH); /* small_cluster's, if it got that far */
	return 0;
}

/* Whether a replay's scratch directory (NAME.digest-XXXXXX) is left in dir. */
static bool scratch_left(const char *dir)
{
	char pattern[HW_PROC_PATH_MAX + 48];
	glob_t g;
	snprintf(pattern, sizeof pattern, "%s/*.digest-*", dir);
	int rc = glob(pattern, 0, NULL, &g);
	globfree(&g);
	return rc != GLOB_NOMATCH;
}

/* No inode left where the nodes' scratch directories go (the tmpfs at mnt remounted to
 * the inodes it uses), bytes enough for the replay: each node answers -ENOSPC naming the
 * scratch directory it could not make and the room, saying an inode or quota is what it
 * lacks (never a bare "No space left on device"), and logs it; no verdict on the stores
 * (skip), the drill an ERROR naming the first node's scratch. */
static void assert_no_inode(struct fix *f, const char *mnt, const char *list)
{
	struct statvfs v;
	char opts[64], want[HW_PROC_PATH_MAX + 128], line[1024];
	assert_int_equal(statvfs(mnt, &v), 0);
	snprintf(opts, sizeof opts, "size=512m,nr_inodes=%llu",
		 (unsigned long long)(v.f_files - v.f_ffree));
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, opts), 0);
	assert_int_equal(drill_of(f, f->small, list, "--at-lsn", "1500", NULL), 1);
	assert_non_null(strstr(f->cap.out, "\"result\":\"ERROR\""));
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"skip\""), 2);
	const char *what = strstr(f->cap.out, "\"what\":\"node p1 could not answer (ENOSPC): its "
					      "replay's scratch store ran out of room in ");
	assert_true(what != NULL && strstr(what, "digest-XXXXXX (removed); its store was only "
						 "read\"") != NULL);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(want, sizeof want,
			 "no room to make the replay's scratch directory %s.digest-XXXXXX (ENOSPC: "
			 "no inode or quota left; it needs about ",
			 hw_cluster_dir(f->small, i));
		assert_non_null(strstr(f->cap.out, want));
		assert_int_equal(hw_test_log_lines(hw_cluster_log(f->small, i),
						   "event=digest_answered", line, sizeof line),
				 3); /* at its head, refused for room, then this */
		assert_non_null(strstr(line, "code=ENOSPC why=\"no room to make the replay's "));
	}
}

/* Nodes whose data directories' file system has room for their stores and 64 MiB more
 * (the tmpfs remounted to that size), asked for their digests at an LSN below their
 * heads: room for the replay (about 1 MiB) but not for the 128 MiB the node keeps for its
 * own log after it, so each refuses the replay before it starts, answering -ENOSPC with
 * its scratch directory (beside its data_dir), the room needed and free, and logs that
 * answer; nothing is left in the scratch's place (a replay into a tmpfs of 256 KiB free
 * ran until it was full, the answer the scratch store's HW_ESTORE_FULL, saying nothing of
 * room). No verdict on their stores (skip): the drill is an ERROR naming the first node,
 * its scratch and the room. Both nodes still run and answer the next query from a read
 * transaction: PASS. With no inode left for the scratch directory, each refuses so too
 * (assert_no_inode). */
static void test_replay_no_room(void **state)
{
	struct fix *f = *state;
	char mnt[HW_PROC_PATH_MAX + 16], opts[64], want[HW_PROC_PATH_MAX + 128], line[1024];
	small_cluster(f, mnt, sizeof mnt);
	const char *list = hw_cluster_client_list(f->small);
	/* at their heads: their stores commit every record first, and agree */
	assert_int_equal(drill_of(f, f->small, list, NULL, NULL, NULL), 0);
	struct statvfs v;
	assert_int_equal(statvfs(mnt, &v), 0);
	unsigned long long used = (unsigned long long)(v.f_blocks - v.f_bfree) * v.f_frsize;
	snprintf(opts, sizeof opts, "size=%llu", used + 64ull * 1024 * 1024);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, opts), 0);
	assert_int_equal(drill_of(f, f->small, list, "--at-lsn", "1500", NULL), 1);
	assert_non_null(strstr(f->cap.out, "\"result\":\"ERROR\""));
	assert_int_equal(hw_test_count(f->cap.out, "(ENOSPC)"),
			 2 + 1); /* each node, and the result */
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"skip\""), 2); /* no verdict */
	const char *what = strstr(f->cap.out, "\"what\":\"node p1 could not answer (ENOSPC): no "
					      "room for its replay's scratch ");
	assert_true(what != NULL && strstr(what, ".digest-XXXXXX: it needs about ") != NULL);
	for (unsigned i = 0; i < 2; i++) {
		snprintf(want, sizeof want,
			 "no room for the replay's scratch store %s.digest-XXXXXX and the "
			 "node's own headroom (131072 KiB): it needs about ",
			 hw_cluster_dir(f->small, i));
		const char *said = strstr(f->cap.out, want);
		unsigned long long need_kib = 0, free_kib = 0;
		assert_true(said != NULL && sscanf(said + strlen(want),
						   "%llu KiB, its file system has %llu KiB free",
						   &need_kib, &free_kib) == 2);
		/* room for the replay (a store of 2,000 records: about 1 MiB), not the rest */
		assert_true(need_kib > free_kib && free_kib > 60 * 1024);
		assert_int_equal(hw_test_log_lines(hw_cluster_log(f->small, i),
						   "event=digest_answered", line, sizeof line),
				 2); /* at its head, then refused */
		assert_non_null(strstr(line,
				       "lsn=1500 how=none entries=0 code=ENOSPC why=\"no room "
				       "for the replay's scratch store "));
	}
	char root[HW_PROC_PATH_MAX + 32];
	snprintf(root, sizeof root, "%s/cluster", mnt);
	assert_false(scratch_left(root));
	assert_no_inode(f, mnt, list);
	/* room for the replay, but an inode for its scratch directory alone: it fills
	 * after the check, and the answer says so, never that the node's store is full */
	assert_int_equal(statvfs(mnt, &v), 0);
	snprintf(opts, sizeof opts, "size=512m,nr_inodes=%llu",
		 (unsigned long long)(v.f_files - v.f_ffree) + 1);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, opts), 0);
	assert_int_equal(drill_of(f, f->small, list, "--at-lsn", "1500", NULL), 1);
	assert_int_equal(hw_test_count(f->cap.out,
				       "the replay's scratch store ran out of room part way "
				       "in "),
			 2);
	assert_int_equal(hw_test_count(f->cap.out, "(removed): the store was only read (ENOSPC)"),
			 2);
	assert_null(strstr(f->cap.out, "HW_ESTORE_FULL"));
	assert_false(scratch_left(root));
	assert_int_equal(drill_of(f, f->small, list, NULL, NULL, NULL), 0);
	assert_non_null(strstr(f->cap.out, "\"result\":\"PASS\""));
	assert_int_equal(hw_test_count(f->cap.out, "(one read transaction)"), 2);
}

/* Take every free block of the file system of path, in a new file there. */
static void fill(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	off_t at = 0;
	for (off_t len = 1 << 26; len >= 4096; len /= 2)
		while (posix_fallocate(fd, at, len) == 0)
			at += len;
	close(fd);
}

/* Start node i of f->small again under the shim (libhawser-faults.so), which holds the
 * 4th write into a replay's scratch (".digest-" under mnt: the store's creation writes 3
 * times before its first batch), opening the FIFO fifo until the test closes it. */
static void restart_held(struct fix *f, unsigned i, const char *mnt, const char *fifo)
{
	assert_int_equal(hw_cluster_kill(f->small, i, SIGTERM), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(setenv("LD_PRELOAD", HW_FAULTS_LIB, 1), 0);
	assert_int_equal(setenv("HW_FAULT_PATH", mnt, 1), 0);
	assert_int_equal(setenv("HW_FAULT_HOLD_AFTER", "3", 1), 0);
	assert_int_equal(setenv("HW_FAULT_HOLD_FIFO", fifo, 1), 0);
	assert_int_equal(setenv("HW_FAULT_HOLD_MATCH", ".digest-", 1), 0);
	int rc = hw_cluster_restart(f->small, i);
	hw_test_fault_env_clear();
	unsetenv("HW_FAULT_HOLD_AFTER");
	unsetenv("HW_FAULT_HOLD_FIFO");
	unsetenv("HW_FAULT_HOLD_MATCH");
	assert_int_equal(rc, 0);
	assert_int_equal(hw_cluster_wait_synced(f->small, SYNC_MS, NULL), 0);
}

/* s1's disk fills during its replay, after its room check passed (the shim holds its
 * replay's write while the test takes every free block): s1 answers -ENOSPC saying its
 * scratch ran out of room part way, logs it with the LSN asked, removes its scratch and
 * answers the next query; p1, whose replay ran before, answered: no verdict on s1's store,
 * the drill is an ERROR naming s1 (the log said lsn=0, not the LSN asked). */
static void test_replay_fills_part_way(void **state)
{
	struct fix *f = *state;
	char mnt[HW_PROC_PATH_MAX + 16], fifo[HW_PROC_PATH_MAX + 16], path[HW_PROC_PATH_MAX + 32];
	char line[1024], log[HW_PROC_PATH_MAX + 16];
	small_cluster(f, mnt, sizeof mnt);
	/* room for the replays and the nodes' headroom: the check passes */
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=512m"), 0);
	snprintf(fifo, sizeof fifo, "%s/hold", f->root);
	restart_held(f, 1, mnt, fifo);
	const struct hw_client_security *sec = hw_cluster_security(f->small);
	const char *args[] = {
		"drill",         "verify",       "--connect", hw_cluster_client_list(f->small),
		"--json",        "--report-dir", f->reports,  "--key",
		sec->key,        "--peers",      sec->peers,  "--cluster",
		sec->cluster_id, "--at-lsn",     "1500",      NULL};
	struct hw_proc p = {.err_fd = -1, .log_fd = -1};
	snprintf(log, sizeof log, "%s/held-drill.log", f->root);
	assert_int_equal(hw_proc_start_out(&p, log, args), 0);
	int fd = hw_test_fifo_open(fifo, O_WRONLY, 30); /* s1's replay waits on it */
	assert_true(fd >= 0);
	snprintf(path, sizeof path, "%s/fill", mnt);
	fill(path);
	close(fd);
	int rc = hw_proc_reap(&p, 60000);
	assert_non_null(strstr(p.log, "\"result\":\"ERROR\""));
	assert_non_null(strstr(p.log, "\"what\":\"node s1 could not answer (ENOSPC): its "
				      "replay's scratch store ran out of room in "));
	assert_non_null(strstr(p.log, "(removed); its store was only read\""));
	assert_non_null(strstr(p.log, "\"node p1\",\"verdict\":\"pass\""));
	assert_non_null(strstr(p.log, "\"node s1\",\"verdict\":\"skip\""));
	hw_proc_kill(&p);
	assert_int_equal(rc, 1);
	assert_int_equal(hw_test_log_lines(hw_cluster_log(f->small, 1), "event=digest_answered",
					   line, sizeof line),
			 1);
	assert_non_null(strstr(line, "lsn=1500 how=none entries=0 code=ENOSPC why=\"the replay's "
				     "scratch store ran out of room part way in "));
	char root[HW_PROC_PATH_MAX + 32];
	snprintf(root, sizeof root, "%s/cluster", mnt);
	assert_false(scratch_left(root));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(drill_of(f, f->small, hw_cluster_client_list(f->small), NULL, NULL, NULL),
			 0);
	assert_int_equal(hw_test_count(f->cap.out, "(one read transaction)"), 2);
}

/* s2 stopped, one value of its containers table changed, restarted: FAIL, exit 3, s2
 * named with both digests, p1 and s1 still pass. */
static void test_damaged_standby_fails(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw_cluster_kill(f->c, 2, SIGTERM), 0);
	damage_state(hw_cluster_dir(f->c, 2));
	assert_int_equal(hw_cluster_restart(f->c, 2), 0);
	assert_int_equal(drill(f, NULL, NULL, NULL), 3);
	assert_non_null(strstr(f->cap.out, "\"result\":\"FAIL\""));
	const char *s2 = strstr(f->cap.out, "\"node s2\"");
	assert_non_null(s2);
	assert_non_null(strstr(s2, "differs from"));
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"fail\""), 1);
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"pass\""), 2 + 2); /* + 2 phases */
	/* p1 and s2 alone, in either order: no majority, so neither is called healthy */
	for (unsigned i = 0; i < 2; i++) {
		const char *a = hw_cluster_node_addr(f->c, i ? 2 : 0);
		const char *b = hw_cluster_node_addr(f->c, i ? 0 : 2);
		assert_int_equal(drill_list(f, "%s,%s", a, b), 3);
		assert_int_equal(hw_test_count(f->cap.out,
					       "no majority: 1 against 1; compare with a "
					       "third node"),
				 2 + 1); /* both nodes, and the result */
		assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"fail\""), 2);
		assert_non_null(strstr(f->cap.out, "\"result\":\"FAIL\""));
	}
}

/* A fourth address where no node listens is named with the reason it cannot answer:
 * its check skipped, no verdict on a store nobody read, and the drill an ERROR (exit 1)
 * naming it, not a FAIL, while the three nodes that answered agree. */
static void test_unreachable_node_named(void **state)
{
	struct fix *f = *state;
	uint16_t port;
	assert_int_equal(hw_free_port(&port), 0);
	char list[sizeof f->list], want[96];
	snprintf(list, sizeof list, "%s", f->list); /* not f->list itself: it is written */
	assert_int_equal(drill_list(f, "%.400s,127.0.0.1:%u", list, (unsigned)port), 1);
	assert_non_null(strstr(f->cap.out, "cannot answer: cannot connect"));
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"fail\""), 0);
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"skip\""), 1);
	snprintf(want, sizeof want, "node 127.0.0.1:%u could not be checked (ECONNREFUSED)",
		 (unsigned)port);
	assert_non_null(strstr(f->cap.out, want));
	assert_non_null(strstr(f->cap.out, "\"result\":\"ERROR\""));
}

/* One node given twice, by two addresses that reach it (127.0.0.1:P and localhost:P), is
 * an ERROR naming both, not a node that agrees with itself. */
static void test_same_node_twice(void **state)
{
	struct fix *f = *state;
	const char *p1 = hw_cluster_node_addr(f->c, 0);
	const char *port = strrchr(p1, ':') + 1;
	assert_int_equal(drill_list(f, "%s,localhost:%s", p1, port), 1);
	char want[128];
	snprintf(want, sizeof want, "%s and localhost:%s both answer as node p1", p1, port);
	assert_non_null(strstr(f->cap.out, want));
	assert_non_null(strstr(f->cap.out, "\"result\":\"ERROR\""));
	assert_int_equal(hw_test_count(f->cap.out, "\"verdict\":\"pass\""), 2); /* the 2 phases */
}

/* One address, no key, no place for the report, --compare with --connect and --at-lsn
 * without it are usage errors (exit 2) that ask no node. */
static void test_usage_errors(void **state)
{
	struct fix *f = *state;
	const char *bin = hw_test_bin();
	assert_int_equal(hw_proc_capture(&f->cap, bin, "drill", "verify", "--connect",
					 hw_cluster_client_addr(f->c), "--insecure", "--report-dir",
					 f->reports, NULL),
			 2);
	assert_int_equal(hw_proc_capture(&f->cap, bin, "drill", "verify", "--connect", f->list,
					 "--report-dir", f->reports, NULL),
			 2);
	/* no place for its report: the error names every way to give one (it left out
	 * --scratch, which works) */
	assert_int_equal(hw_proc_capture(&f->cap, bin, "drill", "verify", "--connect", f->list,
					 "--insecure", NULL),
			 2);
	assert_non_null(hw_said(f->cap.err, "--report-dir D, --dir DIR, --config FILE or "
					    "--scratch S"));
	assert_int_equal(drill(f, "--compare", f->root, NULL), 2);
	assert_int_equal(hw_proc_capture(&f->cap, bin, "drill", "verify", "--dir",
					 hw_cluster_dir(f->c, 0), "--at-lsn", "3", NULL),
			 2);
	assert_int_equal(drill(f, "--replay-max", "0", NULL), 2);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_drill_verify_cluster") == NULL)
		return 77; /* else the cluster's nodes would be this test's own binary */
	const struct CMUnitTest tests[] = {
		/* in this order on one cluster: the damage comes last */
		cmocka_unit_test(test_equal_pass),
		cmocka_unit_test(test_replay_and_limit),
		cmocka_unit_test_teardown(test_replay_no_room, small_teardown),
		cmocka_unit_test_teardown(test_replay_fills_part_way, small_teardown),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_unreachable_node_named),
		cmocka_unit_test(test_same_node_twice),
		cmocka_unit_test(test_damaged_standby_fails),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
