/* test_store_flush.c: a store with a log in front flushes its commits on a thread of its
 * own, and a crash that left the newest commit's meta page on disk without its pages is
 * rolled back to the commit flushed before it (replica/store_flush.c). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "base/clock.h"
#include "base/fault.h"
#include "bench/workload.h"
#include "replica/record.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "tests/skip.h"

#define NOW_MS 1790000000000LL /* 2026-09-21: a fixed clock keeps runs identical */
#define BATCH  200u

struct fx {
	char root[256];
	char dir[300];
	struct hw_workload *load;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(hw_test_mkdtemp("store-flush", f->root, sizeof f->root), 0);
	snprintf(f->dir, sizeof f->dir, "%s/a", f->root);
	assert_int_equal(hw_store_init(f->dir), 0);
	struct hw_workload_opts wo = {
		.profile = "terminal_peak", .seed = 5, .count = 4 * BATCH, .end_ms = NOW_MS};
	assert_int_equal(hw_workload_new(&wo, &f->load), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char mnt[320];
	snprintf(mnt, sizeof mnt, "%s/fs", f->root);
	umount2(mnt, MNT_DETACH); /* test_read_only_mount's tmpfs, if an assertion left it */
	hw_workload_free(f->load);
	hw_test_rm_rf(f->root);
	free(f);
	return 0;
}

static const struct hw_store_opts ahead = {.log_ahead = true};

/* One commit of BATCH generated records (each accepted or refused as the generator says). */
static void commit_batch(struct fx *f, struct hw_store *s)
{
	static uint8_t bufs[BATCH][HW_RECORD_BYTES_MAX];
	struct hw_submit subs[BATCH] = {0};
	struct hw_result res[BATCH];
	for (unsigned i = 0; i < BATCH; i++) {
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(f->load, bufs[i], sizeof bufs[i], &it), 0);
		subs[i] = (struct hw_submit){.data = bufs[i], .len = it.len};
	}
	assert_int_equal(hw_store_submit(s, 1, NOW_MS, subs, BATCH, res), 0);
}

/* The whole of dir's file name into *len bytes (malloc'd). */
static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* Write len bytes of buf over dir's file name in place (the same inode; made if it is
 * not there), zeros after them up to the file's size. */
static void overwrite(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
	if ((size_t)st.st_size > len) {
		uint8_t *zeros = calloc(1, (size_t)st.st_size - len);
		assert_int_equal(pwrite(fd, zeros, (size_t)st.st_size - len, (off_t)len),
				 st.st_size - (off_t)len);
		free(zeros);
	}
	assert_int_equal(fsync(fd), 0);
	close(fd);
}

struct crash {
	struct hw_head flushed; /* the store's head at the commit a crash falls back to */
	struct hw_head lost;    /* the head of the commit after it */
	uint8_t *image;         /* data.mdb as it was flushed at that commit */
	size_t image_len;
	uint8_t *record; /* store.flushed then */
	size_t record_len;
};

/* Two commits, the first flushed; then make dir what a power cut could leave: every page
 * as flushed at the first, but the second's meta page written too (the kernel wrote it
 * back before the pages it names), and the record of the first. */
static void crash_after_meta(struct fx *f, struct crash *c)
{
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	commit_batch(f, s);
	commit_batch(f, s);
	assert_int_equal(hw_store_sync(s), 0);
	uint64_t lsn;
	assert_int_equal(hw_store_flushed(s, &lsn), 0);
	assert_int_equal(hw_store_head(s, &c->flushed), 0);
	assert_int_equal(lsn, c->flushed.lsn);
	c->image = slurp(f->dir, "data.mdb", &c->image_len);
	c->record = slurp(f->dir, "store.flushed", &c->record_len);
	commit_batch(f, s);
	assert_int_equal(hw_store_head(s, &c->lost), 0);
	assert_true(c->lost.lsn > c->flushed.lsn);
	hw_store_close(s);
	/* LMDB's two meta pages (pages 0 and 1) now: the last commit's and the flushed one's */
	size_t metas_len;
	uint8_t *metas = slurp(f->dir, "data.mdb", &metas_len);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	memcpy(c->image, metas, 2 * page);
	free(metas);
	overwrite(f->dir, "data.mdb", c->image, c->image_len);
	overwrite(f->dir, "store.flushed", c->record, c->record_len);
}

static void crash_free(struct crash *c)
{
	free(c->image);
	free(c->record);
}

static void assert_head_is(struct hw_store *s, const struct hw_head *want)
{
	struct hw_head h;
	assert_int_equal(hw_store_head(s, &h), 0);
	assert_int_equal(h.lsn, want->lsn);
	assert_memory_equal(h.hash, want->hash, HW_HASH_BYTES);
}

/* Each commit is flushed after it by the store's thread: hw_store_sync waits for it, and
 * hw_store_flushed then names the head. */
static void test_flushed_follows_commits(void **state)
{
	struct fx *f = *state;
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	commit_batch(f, s);
	assert_int_equal(hw_store_sync(s), 0);
	uint64_t lsn;
	struct hw_head h;
	assert_int_equal(hw_store_flushed(s, &lsn), 0);
	assert_int_equal(hw_store_head(s, &h), 0);
	assert_true(h.lsn > 0);
	assert_int_equal(lsn, h.lsn);
	hw_store_close(s);
}

/* The crash's unflushed commit is rolled back at the next open: the store is the flushed
 * commit, whole, and takes the lost batch again to the same head. */
static void test_crash_rolls_back(void **state)
{
	struct fx *f = *state;
	struct crash c;
	crash_after_meta(f, &c);
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	assert_head_is(s, &c.flushed);
	hw_workload_free(f->load); /* the same records again, from the third batch */
	struct hw_workload_opts wo = {
		.profile = "terminal_peak", .seed = 5, .count = 4 * BATCH, .end_ms = NOW_MS};
	assert_int_equal(hw_workload_new(&wo, &f->load), 0);
	commit_batch(f, s);
	commit_batch(f, s);
	assert_head_is(s, &c.flushed); /* duplicates: nothing new */
	commit_batch(f, s);
	assert_head_is(s, &c.lost);
	hw_store_close(s);
	crash_free(&c);
}

/* A read-only open after the crash, with no writer holding the store, rolls back too:
 * it never reads the pages the lost commit did not write. */
static void test_read_only_open_rolls_back(void **state)
{
	struct fx *f = *state;
	struct crash c;
	crash_after_meta(f, &c);
	struct hw_store *s;
	struct hw_store_opts ro = {.read_only = true};
	assert_int_equal(hw_store_open(f->dir, &ro, &s), 0);
	assert_head_is(s, &c.flushed);
	hw_store_close(s);
	crash_free(&c);
}

/* A read-only open after the crash on a file system mounted read-only cannot roll back:
 * it failed with EBADF from its write (logged as store_rolled_back code=EBADF), which
 * said neither what was wrong nor what to do. It fails with HW_EUNFLUSHED, data.mdb as it
 * was; remounted writable, a writable open rolls back. Needs root to mount a tmpfs. */
static void test_read_only_mount(void **state)
{
	struct fx *f = *state;
	char mnt[320];
	snprintf(mnt, sizeof mnt, "%s/fs", f->root);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=64m") != 0)
		HW_SKIP("mount tmpfs at %s: %s (needs CAP_SYS_ADMIN)", mnt, strerror(errno));
	snprintf(f->dir, sizeof f->dir, "%s/fs/a", f->root);
	assert_int_equal(hw_store_init(f->dir), 0);
	struct crash c;
	crash_after_meta(f, &c);
	size_t before_len, after_len;
	uint8_t *before = slurp(f->dir, "data.mdb", &before_len);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, NULL), 0);
	struct hw_store *s;
	struct hw_store_opts ro = {.read_only = true};
	assert_int_equal(hw_store_open(f->dir, &ro, &s), HW_EUNFLUSHED);
	uint8_t *after = slurp(f->dir, "data.mdb", &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, NULL), 0);
	assert_int_equal(hw_store_open(f->dir, NULL, &s), 0);
	assert_head_is(s, &c.flushed);
	hw_store_close(s);
	assert_int_equal(umount(mnt), 0);
	free(after);
	free(before);
	crash_free(&c);
}

/* A record of a commit the file does not hold (flushed pages lost) is refused as damage,
 * and the file is left as it is. */
static void test_record_ahead_of_file(void **state)
{
	struct fx *f = *state;
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	commit_batch(f, s);
	assert_int_equal(hw_store_sync(s), 0);
	size_t image_len, record_len, before_len, after_len;
	uint8_t *image = slurp(f->dir, "data.mdb", &image_len);
	commit_batch(f, s);
	commit_batch(f, s);
	assert_int_equal(hw_store_sync(s), 0);
	uint8_t *record = slurp(f->dir, "store.flushed", &record_len);
	hw_store_close(s);
	overwrite(f->dir, "data.mdb", image, image_len);
	overwrite(f->dir, "store.flushed", record, record_len);
	uint8_t *before = slurp(f->dir, "data.mdb", &before_len);
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), HW_ECORRUPT);
	uint8_t *after = slurp(f->dir, "data.mdb", &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
	free(before);
	free(record);
	free(image);
}

/* A writable open without a log in front (a command on a stopped node's store) rolls the
 * crash back too, and drops the record, which its own commits would outdate. */
static void test_writable_open_after_crash(void **state)
{
	struct fx *f = *state;
	struct crash c;
	crash_after_meta(f, &c);
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, NULL, &s), 0);
	assert_head_is(s, &c.flushed);
	char path[400];
	snprintf(path, sizeof path, "%s/store.flushed", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
	hw_store_close(s);
	crash_free(&c);
}

/* One open keeps a store with a log in front at a time, readers still open it, and a
 * clean close leaves no record. */
static void test_one_keeper(void **state)
{
	struct fx *f = *state;
	struct hw_store *s, *t;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	commit_batch(f, s);
	assert_int_equal(hw_store_open(f->dir, &ahead, &t), HW_EBUSY);
	struct hw_store_opts ro = {.read_only = true};
	assert_int_equal(hw_store_open(f->dir, &ro, &t), 0);
	hw_store_close(t);
	char path[400];
	snprintf(path, sizeof path, "%s/store.flushed", f->dir);
	assert_int_equal(access(path, F_OK), 0);
	hw_store_close(s);
	assert_int_equal(access(path, F_OK), -1); /* a clean close leaves nothing to roll back */
	assert_int_equal(errno, ENOENT);
}

/* The test's hold of the record's lock, released once the keeping open has the record
 * open too (it is trying the lock then): an event, not a pause. */
struct holder {
	int fd;
	char path[400];
};

/* Whether a descriptor of this process other than skip names path. */
static bool other_open(const char *path, int skip)
{
	char link[64], name[400];
	for (int fd = 0; fd < 1024; fd++) {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = fd == skip ? -1 : readlink(link, name, sizeof name - 1);
		if (n > 0 && (name[n] = '\0', strcmp(name, path) == 0))
			return true;
	}
	return false;
}

static void *unlock_when_tried(void *arg)
{
	struct holder *h = arg;
	int64_t give_up = hw_mono_ms() + 60000; /* a bound, not a measure: the open comes */
	while (!other_open(h->path, h->fd) && hw_mono_ms() < give_up)
		sched_yield();
	close(h->fd); /* and its lock */
	return NULL;
}

/* A reader rolling a crash back holds the record's lock for a moment: the open that keeps
 * the store waits for it rather than calling the store another's. */
static void test_keeper_waits_for_a_reader(void **state)
{
	struct fx *f = *state;
	struct holder h;
	char rel[400];
	snprintf(rel, sizeof rel, "%s/store.flushed", f->dir);
	h.fd = open(rel, O_RDONLY | O_CREAT, 0600);
	assert_true(h.fd >= 0);
	assert_non_null(realpath(rel, h.path)); /* as /proc names it */
	assert_int_equal(flock(h.fd, LOCK_EX | LOCK_NB), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, unlock_when_tried, &h), 0);
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	pthread_join(t, NULL);
	hw_store_close(s);
}

/* A batch of duplicates only writes nothing, and LMDB's commit of a transaction that
 * wrote nothing is no commit: the next one takes the same transaction id. Asked to flush
 * that id, the thread recorded a commit the file did not have (a crash then left a store
 * no open took: HW_ECORRUPT), and the next real commit, under an id already recorded, was
 * never flushed. */
static void test_duplicates_commit_nothing(void **state)
{
	struct fx *f = *state;
	struct hw_store *s;
	struct hw_head first, h;
	uint64_t lsn;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	commit_batch(f, s);
	assert_int_equal(hw_store_head(s, &first), 0);
	hw_workload_free(f->load); /* the same records again */
	struct hw_workload_opts wo = {
		.profile = "terminal_peak", .seed = 5, .count = 4 * BATCH, .end_ms = NOW_MS};
	assert_int_equal(hw_workload_new(&wo, &f->load), 0);
	commit_batch(f, s);
	assert_int_equal(hw_store_sync(s), 0);
	assert_head_is(s, &first);
	size_t image_len, record_len;
	uint8_t *image = slurp(f->dir, "data.mdb", &image_len);
	uint8_t *record = slurp(f->dir, "store.flushed", &record_len);
	commit_batch(f, s); /* new records */
	assert_int_equal(hw_store_sync(s), 0);
	assert_int_equal(hw_store_head(s, &h), 0);
	assert_true(h.lsn > first.lsn);
	assert_int_equal(hw_store_flushed(s, &lsn), 0);
	assert_int_equal(lsn, h.lsn);
	hw_store_close(s);
	/* killed after the duplicates' commit: the store is the first batch's */
	overwrite(f->dir, "data.mdb", image, image_len);
	overwrite(f->dir, "store.flushed", record, record_len);
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	assert_head_is(s, &first);
	hw_store_close(s);
	free(record);
	free(image);
}

/* Another process's read-only open of dir: once a byte comes on go, it opens the store
 * (its keeper running), says so on ready, and closes it at the next byte on go. */
static void reader_child(const char *dir, int go, int ready)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *s;
	char c;
	if (read(go, &c, 1) != 1 || hw_store_open(dir, &ro, &s) != 0)
		_exit(1);
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(2);
	hw_store_close(s);
	_exit(0);
}

/* A keeper killed after a commit its thread had not flushed yet, while another process
 * has the store open: the machine did not crash, the commit is whole, and the next open
 * keeps it (store_roll_back_skipped). Rolled back under that process, the file changed
 * under its transactions, and LMDB's last transaction id in lock.mdb (not reset while a
 * process has it open) named a commit the file no longer had. */
static void test_no_roll_back_under_a_reader(void **state)
{
	struct fx *f = *state;
	int go[2], ready[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork(); /* before this process has a thread */
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]); /* so that a failed test's exit ends it */
		close(ready[0]);
		reader_child(f->dir, go[0], ready[1]);
	}
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	commit_batch(f, s);
	assert_int_equal(hw_store_sync(s), 0);
	size_t record_len;
	uint8_t *record = slurp(f->dir, "store.flushed", &record_len);
	char c = 'g';
	assert_int_equal(write(go[1], &c, 1), 1);
	assert_int_equal(read(ready[0], &c, 1), 1);
	commit_batch(f, s);
	struct hw_head h;
	assert_int_equal(hw_store_head(s, &h), 0);
	hw_store_close(s);
	overwrite(f->dir, "store.flushed", record, record_len); /* as a kill before its flush */
	assert_int_equal(hw_store_open(f->dir, &ahead, &s), 0);
	assert_head_is(s, &h);
	hw_store_close(s);
	assert_int_equal(write(go[1], &c, 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(ready[i]);
	}
	free(record);
}

/* The test's mdb_txn_commit (-Wl,--wrap=mdb_txn_commit): once armed with a store, right
 * after the real commit, a node-local meta value is put in it, as the loop may between the
 * writer's commit and its asking for that commit's flush. */
static struct hw_store *put_between;

int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn)
{
	int rc = __real_mdb_txn_commit(txn);
	struct hw_store *s = put_between;
	put_between = NULL;
	if (rc == 0 && s != NULL)
		assert_int_equal(hw_store_meta_put(s, "node.test", "v", 1), 0);
	return rc;
}

/* The writer's commit N asks for its flush after the loop's meta value, commit N + 1, was
 * flushed: that ask is already answered. Taken as the newest commit, it had the thread
 * flush and record N again, under N + 1 (a crash then rolled the flushed value back), or
 * leave the loop waiting for N + 1 for good. No flush after the two the commits need. */
static void test_late_ask_after_newer_commit(void **state)
{
	struct fx *f = *state;
	struct hw_fault flushes;
	hw_fault_init(&flushes);
	hw_fault_arm(&flushes, 2, -1); /* any flush after N's and N + 1's fails */
	struct hw_store_opts o = ahead;
	o.sync_fault = &flushes;
	struct hw_store *s;
	assert_int_equal(hw_store_open(f->dir, &o, &s), 0);
	put_between = s;
	commit_batch(f, s);
	assert_null(put_between);
	hw_store_close(s); /* flushes whatever is asked for, then stops */
	assert_int_equal(flushes.fired, 0);
	char path[400];
	snprintf(path, sizeof path, "%s/store.flushed", f->dir);
	assert_int_equal(access(path, F_OK), -1); /* a clean close */
	struct hw_store_opts ro = {.read_only = true};
	assert_int_equal(hw_store_open(f->dir, &ro, &s), 0);
	uint8_t v[8];
	size_t len;
	assert_int_equal(hw_store_meta_get(s, "node.test", v, sizeof v, &len), 0);
	assert_int_equal(len, 1);
	hw_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flushed_follows_commits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_open_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_mount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_ahead_of_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writable_open_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_keeper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keeper_waits_for_a_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_ask_after_newer_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_commit_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_roll_back_under_a_reader, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
