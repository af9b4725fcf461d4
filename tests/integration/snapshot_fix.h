/* snapshot_fix.h: the fixture of test_snapshot.c (what a standby takes and refuses)
 * and test_snapshot_send.c (what a primary sends, and when it stops): a primary that
 * keeps KEEP_RECORDS log entries and a standby as real `hawser node` processes, a load,
 * the checks of what both stores hold, and a fake primary for a real standby. */
#ifndef HW_TESTS_SNAPSHOT_FIX_H
#define HW_TESTS_SNAPSHOT_FIX_H

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
#include "tests/skip.h"
#include "wire.pb-c.h"

#define EVENT_WAIT_MS   20000
#define STOP_WAIT_MS    10000
#define CATCHUP_MS      30000
#define KEEP_RECORDS    2000u
#define HISTORY_RECORDS 20000u  /* before the standby starts */
#define LIVE_RECORDS    10000u  /* arriving while the snapshot is sent and installed */
#define BEHIND_RECORDS  1000u   /* what the second test's standby has */
#define HISTORY_FAILED  4000u   /* before the failed primary's disk fails: past KEEP_RECORDS */
#define LIVE_FAILED     100000u /* the load the failure interrupts */
#define WINDOW          16u     /* a slow load: records keep arriving during the snapshot */
#define FEED_FRAMES     25u     /* the fake primary's catch-up: frames of FEED_BATCH entries, */
#define FEED_BATCH      100u    /* one every FEED_GAP_MS, so it spans about 2.5 s */
#define FEED_GAP_MS     100
#define IDLE_BEATS      15      /* heartbeats to a caught-up standby, FEED_GAP_MS apart */
#define SNAP_CHUNKS     60u     /* the bad snapshot's 4 KiB chunks, FEED_GAP_MS apart */
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

static inline int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("snapshot", f->root, sizeof f->root) != 0)
		return -1;
	f->p.proc.err_fd = f->p.proc.log_fd = -1;
	f->s.proc.err_fd = f->s.proc.log_fd = -1;
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fix *f = *state;
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	char fs[HW_PROC_PATH_MAX + 8];
	snprintf(fs, sizeof fs, "%s/fs", f->root);
	umount2(fs, MNT_DETACH);       /* test_no_room_no_copy's tmpfs, if an assertion left it */
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
static inline void init_primary_in(struct fix *f, const char *root)
{
	struct hw_tnode_opts po = {.primary = true, .standbys = "s1", .mode = "local", .k = 1};
	assert_int_equal(hw_tnode_init(&f->p, root, "p1", &po), 0);
	FILE *ini = fopen(f->p.ini, "a");
	assert_non_null(ini);
	/* the count alone: these entries are seconds old, younger than any log_days */
	fprintf(ini, "[limits]\nlog_keep_records = %u\n[retention]\nlog_days = 0\n", KEEP_RECORDS);
	assert_int_equal(fclose(ini), 0);
}

static inline void init_primary(struct fix *f)
{
	init_primary_in(f, f->root);
}

static inline void start_primary(struct fix *f)
{
	init_primary(f);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
}

static inline void init_standby(struct fix *f)
{
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
}

static inline void load_start(struct fix *f, uint64_t count)
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
static inline uint64_t load_all_acked(struct hw_load *l)
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
static inline uint64_t field_u64(const char *line, const char *key)
{
	int64_t v = hw_log_field(line, key, -1);
	assert_true(v >= 0);
	return (uint64_t)v;
}

/* Whether the file at path holds text. */
static inline bool file_has(const char *path, const char *text)
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

/* A tmpfs of opts (its size) mounted at f->root/fs, into fs; the teardown unmounts it.
 * Skips the test, saying why, where mounting needs a privilege it lacks (CAP_SYS_ADMIN). */
static inline void small_fs(struct fix *f, const char *opts, char *fs, size_t cap)
{
	snprintf(fs, cap, "%s/fs", f->root);
	assert_int_equal(mkdir(fs, 0700), 0);
	if (mount("tmpfs", fs, "tmpfs", 0, opts) != 0)
		HW_SKIP("mount tmpfs at %s: %s (needs CAP_SYS_ADMIN)", fs, strerror(errno));
}

/* The primary, its data directory in root, started and loaded with records records, all
 * acknowledged, its log pruned past 0: a new standby needs a snapshot. */
static inline void pruned_primary_in(struct fix *f, const char *root, uint64_t records)
{
	init_primary_in(f, root);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	load_start(f, records);
	load_all_acked(&f->load);
	assert_int_equal(hw_tnode_wait_pruned(&f->p, 0, CATCHUP_MS), 0);
}

/* ---- a fake primary for a real standby ---- */

/* A fake primary listening on 127.0.0.1 (its address to addr) and the config of a standby
 * s1 that follows it, not started. Returns the listening socket. */
static inline int fake_primary_for(struct fix *f, char *addr, size_t cap)
{
	int lfd = hw_fp_listen(addr, cap);
	struct hw_tnode_opts so = {.primary_addr = addr};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	return lfd;
}

/* The fake primary hangs up; the standby stops cleanly. */
static inline void fake_primary_done(struct fix *f, int cfd, int lfd)
{
	close(cfd);
	close(lfd);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
}

/* Start the standby and take its connection on lfd; *smark gets its log's mark. */
static inline int standby_connects(struct fix *f, int lfd, size_t *smark)
{
	assert_int_equal(hw_tnode_start(&f->s, smark), 0);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	return cfd;
}

/* The BEGIN of a snapshot of epoch at LSN 100000, of SNAP_CHUNKS 4 KiB chunks. */
static inline void put_begin_epoch(int fd, uint64_t epoch)
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
static inline void put_begin(int fd)
{
	hw_fp_hello(fd, "p1", 100000, NULL);
	put_begin_epoch(fd, 1);
}

/* A store in dir holding the first n of drawn generated records (drawn >= n: the first n
 * of a store made of drawn, the same chain), of epoch, in batches of up to 1,000, keeping
 * keep log entries (0: all) as a node with that log_keep_records would; returns its head. */
static inline struct hw_head make_store_of(const char *dir, uint64_t n, uint64_t drawn,
					   uint64_t keep, uint64_t epoch)
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
static inline struct hw_head make_store_epoch(const char *dir, uint64_t n, uint64_t keep,
					      uint64_t epoch)
{
	return make_store_of(dir, n, n, keep, epoch);
}

static inline struct hw_head make_store(const char *dir, uint64_t n, uint64_t keep)
{
	return make_store_epoch(dir, n, keep, 1);
}

#endif
