/* test_snapshot.c: a standby so far behind that the primary's log no longer holds its
 * position gets a snapshot over the replication connection, then the log. Real `hawser
 * node` processes on loopback; the primary keeps log_keep_records = 2000. Every
 * acknowledged record must end up on the standby (the same bytes wherever both logs still
 * hold the entry), heads and digests must match, and a standby's old data is kept aside.
 *
 * HW_SNAPSHOT_RECORDS (environment) changes the size of the primary's history for a
 * measurement run; the default keeps the test well under 30 s. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "bench/workload.h"
#include "engine/core/election.h"
#include "engine/io/frame.h"
#include "engine/io/ring.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "tests/integration/fake_primary.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

#define EVENT_WAIT_MS   20000
#define STOP_WAIT_MS    10000
#define CATCHUP_MS      30000
#define KEEP_RECORDS    2000u
#define HISTORY_RECORDS 20000u /* before the standby starts */
#define LIVE_RECORDS    10000u /* arriving while the snapshot is sent and installed */
#define BEHIND_RECORDS  1000u  /* what the second test's standby has */
#define HISTORY_FAILED  4000u  /* before the failed primary's disk fails: past KEEP_RECORDS */
#define LIVE_FAILED     100000u /* the load the failure interrupts */
#define WINDOW          16u    /* a slow load: records keep arriving during the snapshot */
#define FEED_FRAMES     25u    /* the fake primary's catch-up: frames of FEED_BATCH entries, */
#define FEED_BATCH      100u   /* one every FEED_GAP_MS, so it spans about 2.5 s */
#define FEED_GAP_MS     100
#define IDLE_BEATS      15  /* heartbeats to a caught-up standby, FEED_GAP_MS apart */
#define SNAP_CHUNKS     60u /* the bad snapshot's 4 KiB chunks, FEED_GAP_MS apart */
#define LARGE_RECORDS   500000u /* a compacted copy of about 24 MB */
#define LIVE_PINNED     (6 * KEEP_RECORDS) /* past 4 x keep, short of the pin's 10 x keep */
#define SLOW_ACKS       600 /* a slow standby's acks, FEED_GAP_MS apart: 60 s at most */

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode p;
	struct hw_tnode s;
	struct hw_load load;
	struct hw_capture cap; /* a `hawser status` run's output */
};

static uint64_t history_records(void)
{
	const char *v = getenv("HW_SNAPSHOT_RECORDS");
	return v != NULL && strtoull(v, NULL, 10) > KEEP_RECORDS * 2 ? strtoull(v, NULL, 10)
								     : HISTORY_RECORDS;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("snapshot", f->root, sizeof f->root) != 0)
		return -1;
	f->p.proc.err_fd = f->p.proc.log_fd = -1;
	f->s.proc.err_fd = f->s.proc.log_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	char fs[HW_PROC_PATH_MAX + 8];
	snprintf(fs, sizeof fs, "%s/fs", f->root);
	umount2(fs, MNT_DETACH); /* test_no_room_no_copy's tmpfs, if an assertion left it */
	umount2(f->s.dir, MNT_DETACH); /* test_install_failed_backs_off's */
	bool joined = hw_load_join(&f->load, 60000);
	int rc = hw_test_rm_rf(f->root);
	if (!joined)
		return -1; /* its thread still uses f */
	hw_load_free(&f->load);
	free(f);
	return rc;
}

/* A primary in local mode (the standby is absent or behind for most of the run) that
 * keeps KEEP_RECORDS log entries: its config, not started. */
static void init_primary_in(struct fix *f, const char *root)
{
	struct hw_tnode_opts po = {.primary = true, .standbys = "s1", .mode = "local", .k = 1};
	assert_int_equal(hw_tnode_init(&f->p, root, "p1", &po), 0);
	FILE *ini = fopen(f->p.ini, "a");
	assert_non_null(ini);
	/* the count alone: these entries are seconds old, younger than any log_days */
	fprintf(ini, "[limits]\nlog_keep_records = %u\n[retention]\nlog_days = 0\n", KEEP_RECORDS);
	assert_int_equal(fclose(ini), 0);
}

static void init_primary(struct fix *f)
{
	init_primary_in(f, f->root);
}

static void start_primary(struct fix *f)
{
	init_primary(f);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
}

static void init_standby(struct fix *f)
{
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
}

static void load_start(struct fix *f, uint64_t count)
{
	f->load = (struct hw_load){.addr = f->p.client,
				   .count = count,
				   .window = WINDOW,
				   .mode = HW_LOCAL,
				   .k = 1,
				   .seed = 33};
	assert_int_equal(hw_load_init(&f->load), 0);
	assert_int_equal(hw_load_start(&f->load), 0);
}

/* The load finished with every record acknowledged at LSNs 1..count. */
static uint64_t load_all_acked(struct hw_load *l)
{
	assert_true(hw_load_join(l, CATCHUP_MS));
	assert_int_equal(l->rc, 0);
	assert_int_equal(l->acked, l->count);
	uint64_t last = 0;
	for (uint64_t i = 0; i < l->count; i++)
		last = l->out[i].lsn > last ? l->out[i].lsn : last;
	assert_int_equal(last, l->count);
	return last;
}

/* The value of key (without the '=') in one log line, which must hold it. */
static uint64_t field_u64(const char *line, const char *key)
{
	int64_t v = hw_log_field(line, key, -1);
	assert_true(v >= 0);
	return (uint64_t)v;
}

/* Wait for the standby's snapshot_installed line and the primary's snapshot_sent; print
 * what they measured. Returns the snapshot's LSN. */
static uint64_t wait_installed(struct fix *f, size_t *smark, size_t *pmark)
{
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	const char *secs = strstr(line, "seconds=");
	print_message("standby: %s\n", strstr(line, "lsn="));
	assert_non_null(secs);
	uint64_t lsn = field_u64(line, "lsn");
	assert_true(field_u64(line, "bytes") > 0);
	assert_true(hw_proc_wait_line(&f->p.proc, pmark, "event=snapshot_sent", "peer=s1",
				      EVENT_WAIT_MS, line, sizeof line));
	print_message("primary: %s\n", strstr(line, "lsn="));
	return lsn;
}

/* Every acknowledged record's entry has the same bytes in both stores wherever both
 * logs still hold it; where one does not, it lies at or before that log's base. */
static void compare_acked(const char *a, const char *b, const struct hw_load *l)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *sa, *sb;
	struct hw_head ba, bb;
	assert_int_equal(hw_store_open(a, &ro, &sa), 0);
	assert_int_equal(hw_store_open(b, &ro, &sb), 0);
	assert_int_equal(hw_store_base(sa, &ba), 0);
	assert_int_equal(hw_store_base(sb, &bb), 0);
	uint64_t both = 0;
	for (uint64_t i = 0; i < l->count; i++) {
		if (!l->done_rec[i] || l->out[i].code != 0)
			continue;
		uint64_t lsn = l->out[i].lsn;
		uint8_t *ea = NULL, *eb = NULL;
		size_t la = 0, lb = 0;
		int ra = hw_store_read_entry(sa, lsn, &ea, &la);
		int rb = hw_store_read_entry(sb, lsn, &eb, &lb);
		if (ra == 0 && rb == 0) {
			assert_int_equal(la, lb);
			assert_memory_equal(ea, eb, la);
			both++;
		} else {
			assert_true((ra == HW_ENOTFOUND && lsn <= ba.lsn) ||
				    (rb == HW_ENOTFOUND && lsn <= bb.lsn));
		}
		free(ea);
		free(eb);
	}
	print_message("acked entries in both logs: %llu; bases: primary %llu, standby %llu\n",
		      (unsigned long long)both, (unsigned long long)ba.lsn,
		      (unsigned long long)bb.lsn);
	assert_true(ba.lsn > 0);
	assert_true(both > 0);
	hw_store_close(sb);
	hw_store_close(sa);
}

/* Catch up, stop both nodes, compare acked entries, heads and digests, and verify the
 * standby (chain and records; its state cannot be rebuilt from a pruned log). */
static void stop_and_compare(struct fix *f, uint64_t last_lsn)
{
	uint64_t seen;
	int rc = hw_tnode_wait_durable(&f->s, last_lsn, CATCHUP_MS, &seen);
	if (rc != 0)
		fail_msg("standby durable at %llu, primary at %llu", (unsigned long long)seen,
			 (unsigned long long)last_lsn);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	compare_acked(f->p.dir, f->s.dir, &f->load);
	char why[256] = "";
	if (hw_tstore_compare(f->p.dir, f->s.dir, NULL, why, sizeof why) != 0)
		fail_msg("primary vs standby: %s", why);
	char log[HW_PROC_PATH_MAX + 16], out[4096];
	snprintf(log, sizeof log, "%s/verify.log", f->root);
	const char *args[] = {"verify", f->s.dir, NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, CATCHUP_MS, args), 0);
	assert_non_null(strstr(out, "state tables not checked"));
}

/* Is there a directory named <dir>.replaced-* beside dir? Copies its path to out. */
static bool replaced_dir(const char *dir, char *out, size_t cap)
{
	const char *slash = strrchr(dir, '/');
	char parent[HW_PROC_PATH_MAX / 2], prefix[128];
	snprintf(parent, sizeof parent, "%.*s", (int)(slash - dir), dir);
	snprintf(prefix, sizeof prefix, "%s.replaced-", slash + 1);
	DIR *d = opendir(parent);
	assert_non_null(d);
	bool found = false;
	for (struct dirent *e; (e = readdir(d)) != NULL && !found;) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(out, cap, "%.200s/%.200s", parent, e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* Whether the file at path holds text. */
static bool file_has(const char *path, const char *text)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof line, fp) != NULL)
		found = strstr(line, text) != NULL;
	fclose(fp);
	return found;
}

/* dir/name, a file taking bytes on disk (dir is made if missing). */
static void put_file(const char *dir, const char *name, off_t bytes)
{
	char file[HW_PROC_PATH_MAX + 64];
	assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
	snprintf(file, sizeof file, "%s/%s", dir, name);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(bytes > 0 ? posix_fallocate(fd, 0, bytes) : 0, 0);
	assert_int_equal(close(fd), 0);
}

/* An empty standby starts after the primary took 20,000 records and pruned all but the
 * last 2,000: it is sent a snapshot (snapshot_installed), then the log, while records
 * keep arriving; at the end every acked record is on it and the digests are equal. */
static void test_empty_standby_gets_snapshot(void **state)
{
	struct fix *f = *state;
	uint64_t history = history_records();
	start_primary(f);
	load_start(f, history + LIVE_RECORDS);
	assert_true(hw_load_wait_acked(&f->load, history, CATCHUP_MS));
	init_standby(f);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	uint64_t lsn = wait_installed(f, &smark, &pmark);
	assert_true(lsn >= history);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_false(replaced_dir(f->s.dir, aside, sizeof aside)); /* it was empty */
	uint64_t acked_then = hw_load_acked(&f->load);
	print_message("records acked when installed: %llu of %llu\n",
		      (unsigned long long)acked_then, (unsigned long long)f->load.count);
	stop_and_compare(f, load_all_acked(&f->load));
}

/* A primary whose disk failed (fsync under its data directory fails once SIGUSR1 arms
 * the LD_PRELOAD shim, chaos/faultfs.c) sends no snapshot: an empty standby that needs
 * one is refused with the storage error, and the primary starts no copy. */
static void test_failed_primary_sends_no_snapshot(void **state)
{
	struct fix *f = *state;
	init_primary(f);
	assert_int_equal(hw_test_fault_fsync_env(HW_FAULTS_LIB, f->p.dir), 0);
	int rc = hw_tnode_start(&f->p, NULL);
	hw_test_fault_env_clear();
	assert_int_equal(rc, 0);
	load_start(f, HISTORY_FAILED + LIVE_FAILED); /* still running when the disk fails */
	assert_true(hw_load_wait_acked(&f->load, HISTORY_FAILED, CATCHUP_MS));
	/* pruned (at a store commit, lazily): an empty standby then needs a snapshot */
	assert_int_equal(hw_tnode_wait_pruned(&f->p, 0, CATCHUP_MS), 0);
	size_t pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_proc_signal(&f->p.proc, SIGUSR1), 0); /* the load's next flush fails */
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=storage_failed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	init_standby(f);
	size_t smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	/* with the storage error, not HW_EBUSY: no copy waits for a commit that cannot come */
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused code=EIO",
				      "no snapshot can be sent now", EVENT_WAIT_MS, NULL, 0));
	/* it asks again and again; up to its third request the primary starts no copy */
	size_t from = pmark;
	char line[512];
	for (int asked = 0; asked < 3;) {
		assert_true(hw_proc_wait_line(&f->p.proc, &from, "event=", NULL, EVENT_WAIT_MS,
					      line, sizeof line));
		assert_null(strstr(line, "event=snapshot_copying"));
		asked += strstr(line, "event=peer_needs_snapshot") != NULL;
	}
}

/* A standby that holds the first 1,000 records of the primary's chain, stopped while
 * the primary takes 20,000 more and prunes past it, gets a snapshot when it comes back;
 * its old data directory is kept aside, whole, and it ends equal to the primary. */
static void test_behind_standby_gets_snapshot(void **state)
{
	struct fix *f = *state;
	uint64_t history = history_records();
	start_primary(f);
	init_standby(f);
	size_t smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	load_start(f, BEHIND_RECORDS + history);
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->s, BEHIND_RECORDS, CATCHUP_MS, &seen), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	hw_proc_kill(&f->s.proc);
	uint64_t last = load_all_acked(&f->load);

	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *old;
	struct hw_head old_head;
	assert_int_equal(hw_store_open(f->s.dir, &ro, &old), 0);
	assert_int_equal(hw_store_head(old, &old_head), 0);
	hw_store_close(old);
	assert_true(old_head.lsn >= BEHIND_RECORDS);
	assert_true(old_head.lsn + KEEP_RECORDS < last); /* the primary pruned past it */

	size_t pmark = hw_proc_mark(&f->p.proc);
	smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(wait_installed(f, &smark, &pmark) >= last);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=catchup_done", NULL, EVENT_WAIT_MS,
				      line, sizeof line));
	assert_true(field_u64(line, "lsn") >= last); /* the snapshot brought it level */
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	struct hw_head aside_head;
	assert_int_equal(hw_store_open(aside, &ro, &old), 0);
	assert_int_equal(hw_store_head(old, &aside_head), 0);
	hw_store_close(old);
	assert_int_equal(aside_head.lsn, old_head.lsn);
	assert_memory_equal(aside_head.hash, old_head.hash, HW_HASH_BYTES);
	stop_and_compare(f, last);
}

/* A tmpfs of opts (its size) mounted at f->root/fs, into fs; the teardown unmounts it.
 * Skips the test where mounting needs a privilege it lacks (CAP_SYS_ADMIN: cmocka prints
 * the test as SKIPPED). */
static void small_fs(struct fix *f, const char *opts, char *fs, size_t cap)
{
	snprintf(fs, cap, "%s/fs", f->root);
	assert_int_equal(mkdir(fs, 0700), 0);
	if (mount("tmpfs", fs, "tmpfs", 0, opts) != 0)
		skip();
}

/* A primary whose file system has no room for a copy of its store and the headroom
 * (two log segments) makes none: an empty standby that needs a snapshot is refused with
 * HW_ESTORE_FULL (snapshot_no_room), no copy is begun, and the primary goes on
 * acknowledging. A copy that filled its disk would have stopped it. Needs root to mount a
 * small tmpfs; skipped otherwise. */
static void pruned_primary_in(struct fix *f, const char *root, uint64_t records);

static void test_no_room_no_copy(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8];
	small_fs(f, "size=96m", fs, sizeof fs);
	pruned_primary_in(f, fs, HISTORY_FAILED);
	init_standby(f);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_no_room", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_ESTORE_FULL", EVENT_WAIT_MS, NULL, 0));
	/* refused before any hello, so the standby backs off rather than ask every 50 ms */
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost", "retry_ms=800",
				      EVENT_WAIT_MS, NULL, 0));
	struct hw_load more = {.addr = f->p.client,
			       .count = 200,
			       .window = WINDOW,
			       .mode = HW_LOCAL,
			       .k = 1,
			       .seed = 34};
	assert_int_equal(hw_load_init(&more), 0);
	assert_int_equal(hw_load_start(&more), 0);
	assert_true(hw_load_join(&more, CATCHUP_MS));
	assert_int_equal(more.acked, more.count);
	hw_load_free(&more);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_copying"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* The primary, its data directory in root, started and loaded with records records, all
 * acknowledged, its log pruned past 0: a new standby needs a snapshot. */
static void pruned_primary_in(struct fix *f, const char *root, uint64_t records)
{
	init_primary_in(f, root);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	load_start(f, records);
	load_all_acked(&f->load);
	assert_int_equal(hw_tnode_wait_pruned(&f->p, 0, CATCHUP_MS), 0);
}

static void pruned_primary(struct fix *f, uint64_t records)
{
	pruned_primary_in(f, f->root, records);
}

/* pruned_primary, and standby s1 named (not started) on a small file system of its own
 * (opts, as small_fs). */
static void pruned_primary_small_standby(struct fix *f, const char *opts, char *fs, size_t cap)
{
	small_fs(f, opts, fs, cap);
	pruned_primary(f, HISTORY_FAILED);
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, fs, "s1", &so), 0);
}

/* A standby whose data directory's file system has no room for the copy and the log's
 * headroom says how much it has in its hello, and the primary refuses it there
 * (snapshot_no_room on=standby, HW_ESTORE_FULL) without copying its store, which the
 * standby would have refused at the announcement (rx_room, for a primary that does not
 * read the figure) after the primary had copied its whole store, at each try; the
 * standby backs off and asks again, and nothing of a snapshot is made or received. */
static void test_standby_no_room_refuses(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8];
	pruned_primary_small_standby(f, "size=64m", fs, sizeof fs);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_no_room", "on=standby",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_ESTORE_FULL", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost", "retry_ms=800",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_no_room", "on=standby",
				      EVENT_WAIT_MS, NULL, 0)); /* asked again */
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_copying"));
	assert_false(file_has(f->s.log, "event=snapshot_receiving"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* A copy a crash left half received beside the standby's data directory takes no room
 * from the next one: it is removed when the standby starts (and counted as room in its
 * hello besides): with a 200 MiB leftover on a 256 MiB file system the primary sends the
 * snapshot (it once refused the hello for ever, the leftover being removed only when a
 * copy was announced), and the standby installs it. */
static void test_leftover_copy_is_room(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8], tmp[HW_PROC_PATH_MAX + 64];
	pruned_primary_small_standby(f, "size=256m", fs, sizeof fs);
	assert_int_equal(hw_store_init(f->s.dir), 0); /* it ran before, then crashed */
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", f->s.dir);
	put_file(tmp, "data.mdb", 200 << 20);
	size_t smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      CATCHUP_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_no_room"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* A standby whose data directory is a mount point cannot have it swapped for a snapshot
 * (EBUSY; docs/operations.md): it says so when it starts, the install fails, its old
 * data stays, and it waits 10 s before it asks again (each try costs the primary a whole
 * copy). */
static void test_install_failed_backs_off(void **state)
{
	struct fix *f = *state;
	pruned_primary(f, HISTORY_FAILED);
	init_standby(f);
	assert_int_equal(mkdir(f->s.dir, 0700), 0);
	if (mount("tmpfs", f->s.dir, "tmpfs", 0, "size=256m") != 0)
		skip(); /* needs CAP_SYS_ADMIN: the reason is printed by cmocka as SKIPPED */
	size_t smark = 0, first = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &first, "event=data_dir_mount_point", f->s.dir,
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "cannot swap the data directory", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost", "retry_ms=10000",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=data_dir_mount_point"));
	assert_int_equal(umount2(f->s.dir, MNT_DETACH), 0);
}

/* ---- a fake primary that sends a bad snapshot ---- */

/* A fake primary listening on 127.0.0.1 (its address to addr) and the config of a standby
 * s1 that follows it, not started. Returns the listening socket. */
static int fake_primary_for(struct fix *f, char *addr, size_t cap)
{
	int lfd = hw_fp_listen(addr, cap);
	struct hw_tnode_opts so = {.primary_addr = addr};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	return lfd;
}

/* The fake primary hangs up; the standby stops cleanly. */
static void fake_primary_done(struct fix *f, int cfd, int lfd)
{
	close(cfd);
	close(lfd);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
}

/* Start the standby and take its connection on lfd; *smark gets its log's mark. */
static int standby_connects(struct fix *f, int lfd, size_t *smark)
{
	assert_int_equal(hw_tnode_start(&f->s, smark), 0);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	return cfd;
}

/* The BEGIN of a snapshot of epoch at LSN 100000, of SNAP_CHUNKS 4 KiB chunks. */
static void put_begin_epoch(int fd, uint64_t epoch)
{
	static uint8_t hash[HW_HASH_BYTES] = {7};
	Hawser__Wire__V1__SnapshotBegin b = HAWSER__WIRE__V1__SNAPSHOT_BEGIN__INIT;
	b.epoch = epoch;
	b.lsn = 100000;
	b.hash = (ProtobufCBinaryData){HW_HASH_BYTES, hash};
	b.bytes = SNAP_CHUNKS * 4096u;
	hw_fp_msg(fd, HW_FRAME_SNAPSHOT_BEGIN, &b.base);
}

/* Hello as a primary far ahead, and the BEGIN of a snapshot of SNAP_CHUNKS 4 KiB chunks. */
static void put_begin(int fd)
{
	hw_fp_hello(fd, "p1", 100000, NULL);
	put_begin_epoch(fd, 1);
}

/* SNAPSHOT_END, the copy's BLAKE2b sum in it. */
static void put_end(int fd, const uint8_t *sum)
{
	Hawser__Wire__V1__SnapshotEnd e = HAWSER__WIRE__V1__SNAPSHOT_END__INIT;
	e.blake2b = (ProtobufCBinaryData){HW_HASH_BYTES, (uint8_t *)sum};
	hw_fp_msg(fd, HW_FRAME_SNAPSHOT_END, &e.base);
}

/* Hello as a primary far ahead, then a snapshot whose bytes do not match its BLAKE2b: its
 * chunks FEED_GAP_MS apart, with no heartbeat, until the standby logs its progress (that
 * line goes to line), then the rest at once. */
static void send_bad_snapshot(int fd, struct hw_proc *s, size_t *smark, char *line, size_t cap)
{
	static uint8_t wrong[HW_HASH_BYTES] = {0};
	uint8_t chunk[4096];
	memset(chunk, 0x5a, sizeof chunk);
	put_begin(fd);
	bool seen = false;
	for (unsigned i = 0; i < SNAP_CHUNKS; i++) {
		/* No heartbeat: on a slow link a primary's heartbeats wait behind megabytes of
		 * chunks, and the chunks themselves show that it is there. */
		hw_fp_frame(fd, HW_FRAME_SNAPSHOT_CHUNK, chunk, sizeof chunk);
		seen = seen || hw_proc_wait_line(s, smark, "event=snapshot_progress", NULL,
						 FEED_GAP_MS, line, cap);
	}
	assert_true(seen);
	put_end(fd, wrong);
}

/* Hello as a primary at LSN FEED_FRAMES * FEED_BATCH, then its entries from LSN 1 (valid
 * generated records, chained), a frame every FEED_GAP_MS: a catch-up of a few seconds. */
static void feed_entries(int fd)
{
	uint64_t total = (uint64_t)FEED_FRAMES * FEED_BATCH;
	hw_fp_hello(fd, "p1", total, NULL);
	struct hw_fp_log log;
	hw_fp_log_init(&log, 5, total);
	for (unsigned fr = 0; fr < FEED_FRAMES; fr++) {
		hw_fp_append(fd, &log, FEED_BATCH, 0);
		hw_sleep_ms(FEED_GAP_MS); /* pacing the feed, not waiting for a condition */
	}
	hw_fp_log_free(&log);
}

/* A store in dir holding the first n of drawn generated records (drawn >= n: the first n
 * of a store made of drawn, the same chain), of epoch, in batches of up to 1,000, keeping
 * keep log entries (0: all) as a node with that log_keep_records would; returns its head. */
static struct hw_head make_store_of(const char *dir, uint64_t n, uint64_t drawn, uint64_t keep,
				    uint64_t epoch)
{
	struct hw_store *st;
	struct hw_workload *w;
	struct hw_workload_opts o = {.seed = 5, .count = drawn, .end_ms = 1790000000000LL};
	struct hw_store_opts so = {.log_keep_records = keep};
	assert_int_equal(hw_store_init(dir), 0);
	assert_int_equal(hw_store_open(dir, &so, &st), 0);
	assert_int_equal(hw_workload_new(&o, &w), 0);
	enum { BATCH = 1000 };
	uint8_t *buf = malloc((size_t)BATCH * HW_RECORD_BYTES_MAX);
	struct hw_submit *sub = calloc(BATCH, sizeof *sub);
	struct hw_result *r = calloc(BATCH, sizeof *r);
	assert_true(buf != NULL && sub != NULL && r != NULL);
	for (uint64_t i = 0; i < n;) {
		size_t k = 0;
		for (; k < BATCH && i < n; k++, i++) {
			struct hw_work_item it;
			uint8_t *at = buf + k * HW_RECORD_BYTES_MAX;
			assert_int_equal(hw_workload_next(w, at, HW_RECORD_BYTES_MAX, &it), 0);
			sub[k] = (struct hw_submit){.data = at, .len = it.len};
		}
		assert_int_equal(hw_store_submit(st, epoch, o.end_ms, sub, k, r), 0);
	}
	struct hw_head h;
	assert_int_equal(hw_store_head(st, &h), 0);
	free(r);
	free(sub);
	free(buf);
	hw_workload_free(w);
	hw_store_close(st);
	return h;
}

/* The same, of n generated records. */
static struct hw_head make_store_epoch(const char *dir, uint64_t n, uint64_t keep, uint64_t epoch)
{
	return make_store_of(dir, n, n, keep, epoch);
}

static struct hw_head make_store(const char *dir, uint64_t n, uint64_t keep)
{
	return make_store_epoch(dir, n, keep, 1);
}

/* A refused snapshot left the standby's store in dir as it was (head before): not moved
 * aside, no partial copy beside it. */
static void assert_store_kept(const char *dir, const struct hw_head *before)
{
	char aside[HW_PROC_PATH_MAX + 64], tmp[HW_PROC_PATH_MAX + 32];
	assert_false(replaced_dir(dir, aside, sizeof aside));
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", dir);
	struct stat st;
	assert_int_not_equal(stat(tmp, &st), 0);
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *s;
	struct hw_head after;
	assert_int_equal(hw_store_open(dir, &ro, &s), 0);
	assert_int_equal(hw_store_head(s, &after), 0);
	hw_store_close(s);
	assert_int_equal(after.lsn, before->lsn);
	assert_memory_equal(after.hash, before->hash, HW_HASH_BYTES);
}

/* A snapshot whose bytes do not match its BLAKE2b is refused with HW_ECORRUPT: the
 * connection closes, the partial copy is removed, and the standby's own data stays where
 * it was, unchanged and not moved aside; while it came, its progress was logged. */
static void test_bad_snapshot_refused(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store(f->s.dir, 50, 0);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	char line[512];
	send_bad_snapshot(cfd, &f->s.proc, &smark, line, sizeof line);
	print_message("standby: %s\n", strstr(line, "bytes="));
	assert_true(field_u64(line, "bytes") < SNAP_CHUNKS * 4096u);
	assert_int_equal(field_u64(line, "of"), SNAP_CHUNKS * 4096u);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "code=HW_ECORRUPT", EVENT_WAIT_MS, line, sizeof line));
	print_message("standby: %s\n", strstr(line, "lsn="));
	fake_primary_done(f, cfd, lfd);
	assert_store_kept(f->s.dir, &before);
}

/* As a primary of epoch 1 whose store file is file, head its head: the whole file as a
 * snapshot, BEGIN and chunks; its BLAKE2b to sum, for the END. */
static void put_copy(int fd, const char *file, const struct hw_head *head,
		     uint8_t sum[HW_HASH_BYTES])
{
	FILE *fp = fopen(file, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size_t len = (size_t)ftell(fp);
	rewind(fp);
	uint8_t *bytes = malloc(len);
	assert_true(bytes != NULL && fread(bytes, 1, len, fp) == len);
	fclose(fp);
	Hawser__Wire__V1__SnapshotBegin b = HAWSER__WIRE__V1__SNAPSHOT_BEGIN__INIT;
	b.epoch = 1;
	b.lsn = head->lsn;
	b.hash = (ProtobufCBinaryData){HW_HASH_BYTES, (uint8_t *)head->hash};
	b.bytes = len;
	hw_fp_msg(fd, HW_FRAME_SNAPSHOT_BEGIN, &b.base);
	for (size_t off = 0; off < len; off += 1u << 20)
		hw_fp_frame(fd, HW_FRAME_SNAPSHOT_CHUNK, bytes + off,
			    len - off < (1u << 20) ? len - off : (1u << 20));
	crypto_generichash(sum, HW_HASH_BYTES, bytes, len, NULL, 0);
	free(bytes);
}

/* As a primary (an older one, which checks no chain) whose store file is file, head its
 * head: Hello, then the whole file as a snapshot, with its BLAKE2b. */
static void send_snapshot_of(int fd, const char *file, const struct hw_head *head)
{
	uint8_t sum[HW_HASH_BYTES];
	hw_fp_hello(fd, "p1", head->lsn, NULL);
	put_copy(fd, file, head, sum);
	put_end(fd, sum);
}

/* A node a rejoin rewound to LSN 0 holds no entry, but holds the records it set aside:
 * a snapshot replacing its store keeps the old data aside (an empty node's is removed). */
static void test_rewound_node_data_kept(void **state)
{
	struct fix *f = *state;
	char addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	make_store(f->s.dir, 50, 0);
	struct hw_store *st;
	uint64_t moved = 0;
	assert_int_equal(hw_store_open(f->s.dir, NULL, &st), 0);
	assert_int_equal(hw_store_rewind(st, 0, 1790000000000LL, "test", &moved), 0);
	hw_store_close(st);
	assert_int_equal(moved, 50);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 60, 0);
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	send_snapshot_of(cfd, file, &head);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	fake_primary_done(f, cfd, lfd);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	assert_non_null(strstr(line, aside));
}

/* An older primary, which does not check the standby's chain before it copies, sends a
 * whole snapshot of another chain: the standby refuses it (HW_EDIVERGED), keeps its store
 * as it was, and follows no more (an older primary would only copy its store again). */
static void test_other_chain_copy_refused(void **state)
{
	struct fix *f = *state;
	char addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store(f->s.dir, 50, 0);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store_epoch(copy, 60, 0, 2); /* entry 1 differs: epoch 2 */
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	send_snapshot_of(cfd, file, &head);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=not_following", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	fake_primary_done(f, cfd, lfd);
	assert_store_kept(f->s.dir, &before);
}

/* A node's data directory found in <data_dir>.snapshot-tmp (a swap exchanged the
 * directories and a crash came before the old one was set aside) is set aside as
 * <data_dir>.replaced-<ms> when the node starts, never deleted. */
static void test_leftover_data_dir_kept(void **state)
{
	struct fix *f = *state;
	char addr[64], left[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 64];
	int lfd = fake_primary_for(f, addr, sizeof addr); /* it never answers */
	make_store(f->s.dir, 50, 0);
	snprintf(left, sizeof left, "%s.snapshot-tmp", f->s.dir);
	snprintf(file, sizeof file, "%s/wal", left);
	assert_int_equal(mkdir(left, 0700), 0);
	put_file(file, "kept", 0);
	size_t first = 0;
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &first, "event=snapshot_old_data_kept", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	close(lfd);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	snprintf(file, sizeof file, "%.200s/wal/kept", aside);
	assert_int_equal(access(file, F_OK), 0);
	assert_int_not_equal(access(left, F_OK), 0);
}

/* The copies a crash leaves beside a data directory, <data_dir>.snapshot-send (a primary
 * killed while it streamed a snapshot) and <data_dir>.snapshot-tmp (a standby killed
 * while it received one), are removed when the node starts (snapshot_leftover_removed),
 * whatever its role: they took their room until the next snapshot before. */
static void test_leftover_copies_removed(void **state)
{
	struct fix *f = *state;
	char send[HW_PROC_PATH_MAX + 32], tmp[HW_PROC_PATH_MAX + 32];
	init_primary(f);
	assert_int_equal(hw_store_init(f->p.dir), 0); /* it ran before, then crashed */
	snprintf(send, sizeof send, "%s.snapshot-send", f->p.dir);
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", f->p.dir);
	put_file(send, "data.mdb", 1 << 20);
	put_file(tmp, "data.mdb", 1 << 20);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	size_t first = 0;
	assert_true(hw_proc_wait_line(&f->p.proc, &first, "event=snapshot_leftover_removed", send,
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &first, "event=snapshot_leftover_removed", tmp,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_not_equal(access(send, F_OK), 0);
	assert_int_not_equal(access(tmp, F_OK), 0);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_false(replaced_dir(f->p.dir, aside, sizeof aside));
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
}

/* A standby whose store is of another chain (its entry 1 differs: the primary's data was
 * wiped or swapped, or the standby points at the wrong primary), behind the primary's
 * pruned log, is refused with HW_EDIVERGED: no snapshot is copied or sent, and its store
 * stays as it was, not moved aside. A snapshot would have replaced it. */
static void test_other_chain_refused(void **state)
{
	struct fix *f = *state;
	pruned_primary(f, HISTORY_RECORDS);
	init_standby(f);
	struct hw_head before = make_store(f->s.dir, 50, 0);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=standby_diverged",
				      "reason=other_chain", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_copying"));
	assert_store_kept(f->s.dir, &before);
}

/* A standby whose log already holds entries of epoch 2 refuses a primary of epoch 1 (a
 * deposed one) without voters to tell it: stale_epoch, and its log is left as it was
 * (it followed it). */
static void test_stale_primary_refused(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store_epoch(f->s.dir, 50, 0, 2);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	hw_fp_hello(cfd, "p1", 100, NULL); /* epoch 1 */
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=stale_epoch", "its_epoch=1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_null(strstr(f->s.proc.log, "event=following"));
	fake_primary_done(f, cfd, lfd);
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *st;
	struct hw_head after;
	assert_int_equal(hw_store_open(f->s.dir, &ro, &st), 0);
	assert_int_equal(hw_store_head(st, &after), 0);
	hw_store_close(st);
	assert_int_equal(after.lsn, before.lsn);
}

/* A standby whose log holds entries of epoch 2, following a primary whose hello says
 * epoch 2, refuses a SNAPSHOT_BEGIN of epoch begin_epoch, as it refuses the primary's
 * other frames (snapshot_refused): no copy is received, and its store stays as it was.
 * It was received and could be installed. */
static void other_epoch_begin_refused(struct fix *f, uint64_t begin_epoch)
{
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store_epoch(f->s.dir, 50, 0, 2);
	size_t smark = 0, from;
	int cfd = standby_connects(f, lfd, &smark);
	hw_fp_hello_epoch(cfd, "p1", 100000, NULL, 2);
	put_begin_epoch(cfd, begin_epoch);
	from = smark;
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "snapshot of another epoch than its primary's", EVENT_WAIT_MS,
				      NULL, 0));
	/* one older than this node holds is a deposed primary's, queued before it lost */
	assert_true(begin_epoch > 2 || hw_proc_wait_line(&f->s.proc, &from, "event=stale_epoch",
							 "its_epoch=1", EVENT_WAIT_MS, NULL, 0));
	fake_primary_done(f, cfd, lfd);
	assert_false(file_has(f->s.log, "event=snapshot_receiving"));
	assert_store_kept(f->s.dir, &before);
}

static void test_old_epoch_snapshot_refused(void **state)
{
	other_epoch_begin_refused(*state, 1);
}

/* ... and one of a later epoch than its hello's: not the primary it follows. */
static void test_new_epoch_snapshot_refused(void **state)
{
	other_epoch_begin_refused(*state, 3);
}

/* Make fake_primary_for's standby s1 a voter too: [failover] voters p1, s1 and s2 and
 * witness w1, where nothing listens at p1's, s2's or w1's address (s1 follows the fake
 * primary at node.primary, a bare hint, and a test dials s1's election port, whose
 * address goes to listen, as another voter). rto 30 s: s1 stands in no election of its
 * own meanwhile; heartbeat_ms 1000: a fake primary that sends none is not silent for
 * 3 s. */
static void standby_votes(struct fix *f, char *listen, size_t cap)
{
	uint16_t port[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(hw_free_port(&port[i]), 0);
	snprintf(listen, cap, "127.0.0.1:%u", (unsigned)port[0]);
	FILE *ini = fopen(f->s.ini, "a");
	assert_non_null(ini);
	fprintf(ini,
		"[node]\nlisten = %s\n[durability]\nmode = durable\n[limits]\nheartbeat_ms = 1000\n"
		"[failover]\nvoters = p1@127.0.0.1:%u, s1@%s, s2@127.0.0.1:%u\n"
		"witness = 127.0.0.1:%u\nwitness_id = w1\nrto = 30s\nrpo = 0\n",
		listen, (unsigned)port[1], listen, (unsigned)port[2], (unsigned)port[3]);
	assert_int_equal(fclose(ini), 0);
}

/* As voter s2 of standby_votes (voter id 2), on a link it dials to listen: its Hello,
 * then a request for a vote in epoch, its log ahead of any, as the target of a switchover
 * (kind transfer: the voter waives the lease it promises every primary at its start).
 * Returns the link's socket. */
static int ask_vote(const char *listen, uint64_t epoch)
{
	int fd = hw_test_dial(listen);
	assert_true(fd >= 0);
	hw_fp_voter_hello(fd, "s2", 0);
	Hawser__Wire__V1__VoteRequest r = HAWSER__WIRE__V1__VOTE_REQUEST__INIT;
	r.epoch = epoch;
	r.candidate = 2;
	r.kind = HW_EL_TRANSFER;
	r.last_epoch = epoch - 1;
	r.last_lsn = r.durable_lsn = UINT32_MAX;
	hw_fp_msg(fd, HW_FRAME_VOTE_REQUEST, &r.base);
	return fd;
}

/* A standby that votes takes a whole snapshot of its own chain from its primary of epoch
 * 1 and, before the END comes, grants another voter its vote in epoch 2 (vote_granted; the
 * primary handed over to it, as in a switchover): a new primary may be elected, the
 * sender is deposed. At the END the copy, whole and
 * matching its announcement, is refused for its epoch (stale_epoch its_epoch=1
 * our_epoch=2, snapshot_refused code=HW_EPROTOCOL): the standby's store stays as it was,
 * not swapped or set aside. The BEGIN's check passed it; only the END's catches it. */
static void test_deposed_snapshot_refused_at_end(void **state)
{
	struct fix *f = *state;
	char addr[64], listen[32], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	standby_votes(f, listen, sizeof listen);
	struct hw_head before = make_store_of(f->s.dir, 50, 60, 0, 1);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 60, 0); /* its chain, 10 entries ahead */
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	hw_fp_hello(cfd, "p1", head.lsn, NULL);
	uint8_t sum[HW_HASH_BYTES];
	put_copy(cfd, file, &head, sum);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_receiving", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	int vfd = ask_vote(listen, 2);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=vote_granted",
				      "candidate=s2 epoch=2 pre=0", EVENT_WAIT_MS, NULL, 0));
	put_end(cfd, sum);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=stale_epoch",
				      "its_epoch=1 our_epoch=2", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "code=HW_EPROTOCOL", EVENT_WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, "snapshot of an epoch older than this node's now"));
	assert_int_equal(field_u64(line, "got"), field_u64(line, "bytes")); /* it was whole */
	close(vfd);
	fake_primary_done(f, cfd, lfd);
	assert_false(file_has(f->s.log, "event=snapshot_installed"));
	assert_store_kept(f->s.dir, &before);
}

/* `hawser status` of the standby, as a person asks it: the text, or with json --json;
 * the output in f->cap.out. */
static void standby_status(struct fix *f, bool json)
{
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--connect", f->s.client,
					 "--insecure", json ? "--json" : NULL, NULL),
			 0);
}

/* A standby whose store a rejoin of its pruned log left stale (rewound past its base: the
 * state tables cannot be rebuilt, replica/store.h hw_store_stale), started with no primary
 * reachable, so no snapshot ends the mark: `hawser status` shows STALE, and "stale":true
 * with --json. Started again under a primary that sends it a snapshot, it shows neither
 * once that is installed. */
static void test_stale_standby_status(void **state)
{
	struct fix *f = *state;
	uint16_t dead;
	char nobody[32], addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	assert_int_equal(hw_free_port(&dead), 0);
	snprintf(nobody, sizeof nobody, "127.0.0.1:%u", (unsigned)dead);
	struct hw_tnode_opts so = {.primary_addr = nobody};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	make_store(f->s.dir, 50, 20);
	struct hw_store *st;
	struct hw_head base;
	uint64_t moved = 0;
	assert_int_equal(hw_store_open(f->s.dir, NULL, &st), 0);
	assert_int_equal(hw_store_base(st, &base), 0);
	assert_true(base.lsn > 0 && base.lsn < 45);
	assert_int_equal(hw_store_rewind(st, 45, 1790000000000LL, "test", &moved), 0);
	assert_true(hw_store_stale(st));
	hw_store_close(st);
	assert_int_equal(moved, 5);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	standby_status(f, false);
	assert_non_null(strstr(f->cap.out, ": standby,"));
	assert_non_null(strstr(f->cap.out, "STALE: its state tables await a snapshot"));
	standby_status(f, true);
	assert_non_null(strstr(f->cap.out, "\"stale\":true"));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);

	int lfd = fake_primary_for(f, addr, sizeof addr);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 50, 0); /* the same chain, not pruned */
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	send_snapshot_of(cfd, file, &head);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	standby_status(f, false);
	assert_null(strstr(f->cap.out, "STALE"));
	standby_status(f, true);
	assert_non_null(strstr(f->cap.out, "\"stale\":false"));
	fake_primary_done(f, cfd, lfd);
}

/* ---- a swap cut short ---- */

static const char *const swap_fault_vars[] = {"LD_PRELOAD",
					      "HW_FAULT_PATH",
					      "HW_FAULT_NO_EXCHANGE",
					      "HW_FAULT_RENAME_EXIT_AFTER",
					      "HW_FAULT_RENAME_EIO_AFTER",
					      "HW_FAULT_RENAME_EIO_TIMES"};

/* Set swap_fault_vars to values (in their order; a NULL value unsets its variable), or
 * unset them all when values is NULL: the next node started sees them. */
static void swap_fault_env(const char *const *values)
{
	for (size_t i = 0; i < sizeof swap_fault_vars / sizeof swap_fault_vars[0]; i++)
		assert_int_equal(values != NULL && values[i] != NULL
					 ? setenv(swap_fault_vars[i], values[i], 1)
					 : unsetenv(swap_fault_vars[i]),
				 0);
}

/* The next node started runs under the shim (chaos/faultfs.c) on what it takes for a file
 * system that cannot exchange two directories (renameat2 RENAME_EXCHANGE: EINVAL), and
 * ends (exit code 86, as a crash) at its second rename from or to dir; on NULL, unset. */
static void swap_cut_env(const char *dir)
{
	const char *values[] = {HW_FAULTS_LIB, dir, "1", "1", NULL, NULL};
	swap_fault_env(dir != NULL ? values : NULL);
}

/* A standby on a file system that cannot exchange two directories installs a snapshot
 * with two renames and crashes between them (its data directory set aside, the copy not
 * yet moved in: no data directory). Started again it finishes the install from the copy,
 * marked whole before the first rename (snapshot_install_finished): it holds the
 * snapshot's head, and its old data is kept aside (not yet removed, though empty). It
 * started an empty store before, at epoch 0: a voter's epoch and vote forgotten. */
static void test_cut_swap_finished(void **state)
{
	struct fix *f = *state;
	char addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr); /* the standby starts empty */
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 60, 0);
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	swap_cut_env(f->s.dir);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	swap_cut_env(NULL);
	send_snapshot_of(cfd, file, &head);
	assert_int_equal(hw_proc_reap(&f->s.proc, EVENT_WAIT_MS), 86);
	close(cfd);
	close(lfd);
	assert_true(file_has(f->s.log, "event=fault_injected call=rename"));
	assert_int_not_equal(access(f->s.dir, F_OK), 0);
	/* on new ports: the crashed process's ring may hold its listening socket a while */
	hw_proc_kill(&f->s.proc);
	struct hw_tnode_opts so = {.primary_addr = addr};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	size_t first = 0;
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &first, "event=snapshot_install_finished", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *st;
	struct hw_head now, kept;
	assert_int_equal(hw_store_open(f->s.dir, &ro, &st), 0);
	assert_int_equal(hw_store_head(st, &now), 0);
	hw_store_close(st);
	assert_int_equal(now.lsn, head.lsn);
	assert_memory_equal(now.hash, head.hash, HW_HASH_BYTES);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	assert_int_equal(hw_store_open(aside, &ro, &st), 0);
	assert_int_equal(hw_store_head(st, &kept), 0);
	hw_store_close(st);
	assert_int_equal(kept.lsn, 0);
}

/* A node whose data directory is missing while a <data_dir>.replaced-* is beside it (an
 * install cut short whose copy is gone, or data moved by hand) does not start: no empty
 * store is made (data_dir_missing code=HW_ESWAP_CUT says what to do), and its old data
 * stays where it is. It started empty, at epoch 0. */
static void test_cut_swap_refused(void **state)
{
	struct fix *f = *state;
	char addr[64], old[HW_PROC_PATH_MAX + 32];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	make_store(f->s.dir, 50, 0);
	snprintf(old, sizeof old, "%s.replaced-1790000000000", f->s.dir);
	assert_int_equal(rename(f->s.dir, old), 0);
	assert_int_not_equal(hw_tnode_start(&f->s, NULL), 0);
	hw_proc_reap(&f->s.proc, STOP_WAIT_MS);
	close(lfd);
	assert_true(file_has(f->s.log, "event=data_dir_missing"));
	assert_true(file_has(f->s.log, "code=HW_ESWAP_CUT"));
	assert_int_not_equal(access(f->s.dir, F_OK), 0);
	assert_int_equal(access(old, F_OK), 0);
}

/* A standby on a file system that cannot exchange two directories installs a snapshot
 * with two renames while the primary's load runs: its data directory goes aside, then
 * the renames that move the copy in and put its data back are refused (EIO, by the shim's
 * HW_FAULT_RENAME_EIO_*). No data directory is left (snapshot_swap_cut code=EIO); the
 * reopen that follows, in the running node, finishes the install from the copy marked
 * whole (snapshot_install_finished), or, with that rename refused too (finish_refused),
 * fails and the node stops: its copy is kept, and it finishes the install when it next
 * starts. Either way it then follows the log on from the snapshot's head to equal the
 * primary. Returns with both nodes stopped. */
static void swap_refused_running(struct fix *f, bool finish_refused)
{
	start_primary(f);
	load_start(f, HISTORY_RECORDS + LIVE_RECORDS);
	assert_true(hw_load_wait_acked(&f->load, HISTORY_RECORDS, CATCHUP_MS));
	init_standby(f);
	/* the swap's first rename (the data aside) is made, the next two or three refused */
	const char *values[] = {HW_FAULTS_LIB, f->s.dir, "1",
				NULL,          "1",      finish_refused ? "3" : "2"};
	swap_fault_env(values);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	int rc = hw_tnode_start(&f->s, &smark);
	swap_fault_env(NULL);
	assert_int_equal(rc, 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_swap_cut", "code=EIO",
				      EVENT_WAIT_MS, NULL, 0));
	if (finish_refused) { /* started again, on new ports (its ring may hold the old a while) */
		assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=data_dir_missing",
					      "copy_code=EIO", EVENT_WAIT_MS, NULL, 0));
		assert_int_not_equal(hw_proc_reap(&f->s.proc, STOP_WAIT_MS), 0);
		hw_proc_kill(&f->s.proc);
		init_standby(f);
		smark = 0;
		assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	}
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_install_finished",
				      f->s.dir, EVENT_WAIT_MS, NULL, 0));
	if (!finish_refused)
		assert_true(wait_installed(f, &smark, &pmark) >= HISTORY_RECORDS);
	stop_and_compare(f, load_all_acked(&f->load));
	assert_true(file_has(f->s.log, "event=fault_injected call=rename"));
	assert_false(file_has(f->s.log, "event=snapshot_refused"));
	char tmp[HW_PROC_PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", f->s.dir);
	assert_int_not_equal(access(tmp, F_OK), 0);
}

/* Renames refused twice: the running node finishes the install and counts it installed
 * (snapshot_installed, never snapshot_refused), and nothing of the swap is left beside its
 * data directory (an empty node's old data goes, as after any install). It logged the
 * install refused before, closed the connection and waited 10 s to ask again, on a pin
 * the primary keeps for it only 4 peer timeouts. */
static void test_cut_swap_finished_running(void **state)
{
	struct fix *f = *state;
	swap_refused_running(f, false);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_false(replaced_dir(f->s.dir, aside, sizeof aside));
}

/* Three times: the finish is refused too, so the node stops with HW_ESWAP_CUT; it kept
 * the copy marked whole and finishes the install from it when it starts again (its old
 * data kept aside, as at any start). It removed that copy before, as a snapshot refused,
 * and then would not start (data_dir_missing). */
static void test_cut_swap_kept_when_refused(void **state)
{
	struct fix *f = *state;
	swap_refused_running(f, true);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
}

/* ---- a fake standby that takes a snapshot and goes before it acknowledges ---- */

static int dial(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(colon + 1)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* A fake standby's connection to the primary, read frame by frame. */
struct frames {
	int fd;
	uint8_t *buf; /* FRAMES_BUF_BYTES */
	size_t have;
	size_t used; /* the frame returned last: dropped at the next call */
};

#define FRAMES_BUF_BYTES (4u << 20)

/* Dial the primary at addr; a read waits EVENT_WAIT_MS at most. */
static struct frames frames_dial(const char *addr)
{
	struct frames r = {.fd = dial(addr), .buf = malloc(FRAMES_BUF_BYTES)};
	assert_non_null(r.buf);
	struct timeval tv = {.tv_sec = EVENT_WAIT_MS / 1000};
	assert_int_equal(setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	return r;
}

static void frames_close(struct frames *r)
{
	close(r->fd);
	free(r->buf);
}

/* The next frame of type (those before it are skipped) into f, whose body stays valid
 * until the next call. */
static void frames_next(struct frames *r, enum hw_frame_type type, struct hw_frame *f)
{
	for (;;) {
		memmove(r->buf, r->buf + r->used, r->have - r->used);
		r->have -= r->used;
		r->used = 0;
		long n = hw_frame_parse(r->buf, r->have, f);
		assert_true(n >= 0);
		r->used = (size_t)n;
		if (n > 0 && f->type == type)
			return;
		ssize_t got = n > 0 ? 0 : read(r->fd, r->buf + r->have, FRAMES_BUF_BYTES - r->have);
		assert_true(n > 0 || got > 0);
		r->have += got > 0 ? (size_t)got : 0;
	}
}

/* The snapshot's head, from its BEGIN. */
static void read_begin(struct frames *r, struct hw_head *h)
{
	struct hw_frame f;
	frames_next(r, HW_FRAME_SNAPSHOT_BEGIN, &f);
	Hawser__Wire__V1__SnapshotBegin *m =
		hawser__wire__v1__snapshot_begin__unpack(NULL, f.len, f.body);
	assert_non_null(m);
	h->lsn = m->lsn;
	memcpy(h->hash, m->hash.data, HW_HASH_BYTES);
	hawser__wire__v1__snapshot_begin__free_unpacked(m, NULL);
}

/* Read frames up to SNAPSHOT_END; the snapshot's head (from its BEGIN) goes to h. */
static void read_snapshot(struct frames *r, struct hw_head *h)
{
	struct hw_frame f;
	read_begin(r, h);
	frames_next(r, HW_FRAME_SNAPSHOT_END, &f);
}

/* A standby that received the whole snapshot and went before it acknowledged it (its
 * install, which flushes and reopens a store on its loop, outlasting the link: silent
 * says it stayed connected and silent past the primary's bound instead of closing)
 * comes back at the snapshot's head while the log runs on past log_keep_records (short
 * of the 10 x that ends a snapshot: test_slow_standby_snapshot_ends): the log stayed
 * pinned there, so it is connected, not sent a second snapshot. */
static void installing_standby_returns(struct fix *f, bool silent)
{
	init_primary(f);
	if (silent) { /* the bound: CATCHUP_GRACE_TIMEOUTS (4) peer timeouts, 2 s here */
		FILE *ini = fopen(f->p.ini, "a");
		assert_non_null(ini);
		fprintf(ini, "[limits]\npeer_timeout_ms = 500\n");
		assert_int_equal(fclose(ini), 0);
	}
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	load_start(f, HISTORY_RECORDS + LIVE_PINNED);
	assert_true(hw_load_wait_acked(&f->load, HISTORY_RECORDS, CATCHUP_MS));
	struct frames r = frames_dial(f->p.listen);
	struct hw_head head = {0};
	hw_fp_hello(r.fd, "s1", 0, NULL);
	read_snapshot(&r, &head);
	size_t pmark = hw_proc_mark(&f->p.proc);
	char line[512];
	if (!silent)
		frames_close(&r);
	do /* what the primary makes of it: the pin kept for its return, or dropped */
		assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_", "peer=s1",
					      EVENT_WAIT_MS, line, sizeof line));
	while (strstr(line, "event=snapshot_await") == NULL &&
	       strstr(line, "event=snapshot_failed") == NULL);
	assert_non_null(strstr(line, "event=snapshot_await"));
	if (silent)
		frames_close(&r);
	/* the log runs on past what retention keeps: without the pin it is pruned */
	assert_true(hw_load_wait_acked(&f->load, head.lsn + 4 * KEEP_RECORDS, CATCHUP_MS));
	int fd = dial(f->p.listen);
	hw_fp_hello(fd, "s1", head.lsn, head.hash);
	do /* its answer to the hello: connected, or sent to a snapshot again */
		assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=peer_", "peer=s1",
					      EVENT_WAIT_MS, line, sizeof line));
	while (strstr(line, "event=peer_connected") == NULL &&
	       strstr(line, "event=peer_needs_snapshot") == NULL);
	print_message("primary: %s\n", strstr(line, "event="));
	assert_non_null(strstr(line, "event=peer_connected"));
	assert_int_equal(field_u64(line, "its_lsn"), head.lsn);
	close(fd);
}

static void test_installing_standby_keeps_pin(void **state)
{
	installing_standby_returns(*state, false);
}

static void test_silent_installing_standby_keeps_pin(void **state)
{
	installing_standby_returns(*state, true);
}

static void put_ack(int fd)
{
	Hawser__Wire__V1__Ack a = HAWSER__WIRE__V1__ACK__INIT;
	a.epoch = 1;
	hw_fp_msg(fd, HW_FRAME_ACK, &a.base);
}

/* A fake standby on r finds the ERROR with code the primary sent it after the chunks
 * queued before, and the primary logged why (snapshot_failed, to line; *pmark past it). */
static void standby_told(struct fix *f, struct frames *r, size_t *pmark, int code, char *line,
			 size_t cap)
{
	struct hw_frame fr;
	frames_next(r, HW_FRAME_ERROR, &fr);
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, fr.len, fr.body);
	assert_non_null(e);
	assert_int_equal(e->code, code);
	hawser__wire__v1__error__free_unpacked(e, NULL);
	assert_true(hw_proc_wait_line(&f->p.proc, pmark, "event=snapshot_failed", "peer=s1",
				      EVENT_WAIT_MS, line, cap));
	print_message("primary: %s\n", strstr(line, "code="));
	assert_non_null(strstr(line, hw_errname(code)));
}

/* A standby that acknowledges but takes its snapshot slowly (it reads the BEGIN, then
 * nothing, and acks nothing new) holds the primary's log no longer than catch-up may:
 * once the log runs 10 x log_keep_records past the pin the snapshot ends
 * (snapshot_failed code=HW_ETOOSLOW), the standby is told so in an ERROR, and the log is
 * pruned again. Before, the pin held until the standby went silent, past 30,000 entries
 * against the 20,000 bound. */
static void test_slow_standby_snapshot_ends(void **state)
{
	struct fix *f = *state;
	start_primary(f);
	load_start(f, HISTORY_RECORDS + LIVE_FAILED);
	assert_true(hw_load_wait_acked(&f->load, HISTORY_RECORDS, CATCHUP_MS));
	size_t pmark = hw_proc_mark(&f->p.proc);
	struct frames r = frames_dial(f->p.listen);
	hw_fp_hello(r.fd, "s1", 0, NULL);
	struct hw_head head;
	read_begin(&r, &head);
	/* it acks (alive: not timed out) until the log nears the bound, then only reads */
	uint64_t near = head.lsn + (10 - 1) * KEEP_RECORDS;
	for (int i = 0; i < SLOW_ACKS && !hw_load_wait_acked(&f->load, near, FEED_GAP_MS); i++)
		put_ack(r.fd);
	assert_true(hw_load_acked(&f->load) >= near);
	char line[512];
	standby_told(f, &r, &pmark, HW_ETOOSLOW, line, sizeof line);
	uint64_t pinned = field_u64(line, "pinned_after");
	assert_int_equal(pinned, head.lsn);
	assert_true(field_u64(line, "last_lsn") > pinned + 10 * KEEP_RECORDS);
	frames_close(&r);
	assert_int_equal(hw_tnode_wait_pruned(&f->p, head.lsn, CATCHUP_MS), 0);
}

/* A standby whose snapshot the primary ended as too slow (HW_ETOOSLOW, in an ERROR
 * after its BEGIN) waits 10 s before it asks again, as after a snapshot it refused: each
 * try costs the primary a whole copy. */
static void test_too_slow_standby_backs_off(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	put_begin(cfd);
	Hawser__Wire__V1__Error e = HAWSER__WIRE__V1__ERROR__INIT;
	e.code = HW_ETOOSLOW;
	e.message = "too slow";
	hw_fp_msg(cfd, HW_FRAME_ERROR, &e.base);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost",
				      "code=HW_ETOOSLOW retry_ms=10000", EVENT_WAIT_MS, NULL, 0));
	fake_primary_done(f, cfd, lfd);
}

/* A slow standby's snapshot holds the primary's log while the disk fills (here another
 * file fills it): once less than the headroom (two log segments, 128 MiB) is free, the
 * snapshot ends (snapshot_no_room on=primary, snapshot_failed code=HW_ESTORE_FULL), its
 * copy and its pin go and the standby is told HW_ESTORE_FULL, before the primary's own
 * writes could fail for want of room. The room was checked only when the copy began.
 * Needs root to mount a small tmpfs; skipped otherwise. */
static void test_snapshot_ends_when_disk_fills(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8], fill[HW_PROC_PATH_MAX + 16], copy[HW_PROC_PATH_MAX + 32];
	small_fs(f, "size=256m", fs, sizeof fs);
	pruned_primary_in(f, fs, HISTORY_FAILED);
	size_t pmark = hw_proc_mark(&f->p.proc);
	struct frames r = frames_dial(f->p.listen);
	hw_fp_hello(r.fd, "s1", 0, NULL);
	struct hw_head head;
	read_begin(&r, &head);
	struct statvfs sv;
	assert_int_equal(statvfs(fs, &sv), 0);
	uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	print_message("free when the snapshot began: %llu MiB\n",
		      (unsigned long long)(avail >> 20));
	assert_true(avail > (64u << 20));
	snprintf(fill, sizeof fill, "%s/fill", fs);
	int fd = open(fill, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(posix_fallocate(fd, 0, (off_t)(avail - (64u << 20))), 0);
	close(fd);
	char line[512];
	size_t from = pmark;
	standby_told(f, &r, &pmark, HW_ESTORE_FULL, line, sizeof line);
	assert_true(hw_proc_wait_line(&f->p.proc, &from, "event=snapshot_no_room", "on=primary",
				      EVENT_WAIT_MS, NULL, 0));
	frames_close(&r);
	snprintf(copy, sizeof copy, "%s.snapshot-send", f->p.dir);
	assert_int_not_equal(access(copy, F_OK), 0);
	assert_int_equal(unlink(fill), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=storage_failed"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* An empty standby fed a few seconds of entries by a fake primary logs catchup_progress
 * lines with rising LSNs towards the hello's LSN, then catchup_done at it; level and
 * idle under heartbeats, it logs no progress line. */
static void test_catchup_progress_logged(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	feed_entries(cfd);
	uint64_t total = (uint64_t)FEED_FRAMES * FEED_BATCH, prev = 0;
	unsigned lines = 0;
	char line[512];
	for (;;) {
		assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=catchup_", NULL,
					      EVENT_WAIT_MS, line, sizeof line));
		if (strstr(line, "event=catchup_done") != NULL)
			break;
		assert_non_null(strstr(line, "event=catchup_progress"));
		uint64_t lsn = field_u64(line, "lsn");
		assert_true(lsn > prev);
		assert_true(lsn < total);
		assert_int_equal(field_u64(line, "of"), total);
		assert_non_null(strstr(line, "rate="));
		prev = lsn;
		lines++;
	}
	print_message("catchup_progress lines: %u; %s\n", lines, strstr(line, "lsn="));
	assert_true(lines >= 1);
	assert_int_equal(field_u64(line, "lsn"), total);
	assert_non_null(strstr(line, "seconds="));
	for (int i = 0; i < IDLE_BEATS; i++) {
		hw_fp_heartbeat(cfd, total);
		assert_false(hw_proc_wait_line(&f->s.proc, &smark, "_progress", NULL, FEED_GAP_MS,
					       NULL, 0));
	}
	fake_primary_done(f, cfd, lfd);
}

/* A snapshot larger than a connection's send buffer (HW_CONN_SEND_MAX, 16 MiB): a
 * primary that took LARGE_RECORDS records and kept KEEP_RECORDS of its log sends all of
 * it to an empty standby, which installs it and ends equal to the primary. */
static void test_large_snapshot(void **state)
{
	struct fix *f = *state;
	init_primary(f);
	struct hw_head head = make_store(f->p.dir, LARGE_RECORDS, KEEP_RECORDS);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_standby(f);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	print_message("standby: %s\n", strstr(line, "lsn="));
	assert_int_equal(field_u64(line, "lsn"), head.lsn);
	assert_true(field_u64(line, "bytes") > HW_CONN_SEND_MAX);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_sent", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->s, head.lsn, CATCHUP_MS, &seen), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char why[256] = "";
	if (hw_tstore_compare(f->p.dir, f->s.dir, NULL, why, sizeof why) != 0)
		fail_msg("primary vs standby: %s", why);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_snapshot") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_standby_gets_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby_no_room_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_copy_is_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_failed_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_behind_standby_gets_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_snapshot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_chain_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_chain_copy_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewound_node_data_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_installing_standby_keeps_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_installing_standby_keeps_pin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slow_standby_snapshot_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_slow_standby_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_ends_when_disk_fills, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_leftover_data_dir_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_copies_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_finished_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_kept_when_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_room_no_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catchup_progress_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_primary_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_epoch_snapshot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_epoch_snapshot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deposed_snapshot_refused_at_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_standby_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_primary_sends_no_snapshot, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
