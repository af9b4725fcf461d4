/* test_wal.c: the write-ahead log: flushed entries survive a reopen, the room written
 * ahead of the entries is never taken for damage, a torn entry at the end of the last
 * segment is cut, a flipped bit anywhere and a gap between segments are HW_ECORRUPT
 * with nothing cut, a full disk stops the log with -ENOSPC and loses nothing it reported,
 * and an open that finds no descriptor only waits. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "engine/io/loop.h"
#include "engine/io/wal.h"
#include "replica/entry.h"
#include "tests/integration/proc.h"
#include "tests/skip.h"

#define RECORD_BYTES 200u
#define WAIT_MS      10000 /* bound on a flush; a failing test stops here, never hangs */

struct fx {
	char dir[300];
	uint8_t *entries; /* a chain of entries back to back, LSN 1 first */
	size_t *off;      /* offset of entry i (LSN i + 1); off[n] is the end */
	size_t n;
	struct hw_loop *loop;
	uint64_t durable; /* what the log reported flushed */
	uint64_t target;  /* stop the loop once durable reaches it */
	int rc;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_int_equal(hw_test_mkdtemp("wal", f->dir, sizeof f->dir), 0);
	assert_int_equal(hw_loop_new(&f->loop), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char mnt[320];
	snprintf(mnt, sizeof mnt, "%s/small", f->dir);
	umount2(mnt, MNT_DETACH); /* test_disk_full's tmpfs, if an assertion left it */
	int rc = hw_test_rm_rf(f->dir);
	hw_loop_free(f->loop);
	free(f->entries);
	free(f->off);
	free(f);
	return rc;
}

/* Make n chained entries of RECORD_BYTES each (record bytes need not be a record here). */
static void make_entries(struct fx *f, size_t n)
{
	size_t each = HW_ENTRY_HEADER_BYTES + RECORD_BYTES;
	f->entries = malloc(n * each);
	f->off = calloc(n + 1, sizeof *f->off);
	f->n = n;
	uint8_t prev[HW_HASH_BYTES] = {0};
	uint8_t rec[RECORD_BYTES];
	for (size_t i = 0; i < n; i++) {
		memset(rec, (int)(i % 251) + 1, sizeof rec);
		struct hw_entry e;
		f->off[i] = i * each;
		hw_entry_encode(f->entries + f->off[i], i + 1, 1, 1000 + (int64_t)i, prev, rec,
				RECORD_BYTES, &e);
		memcpy(prev, e.hash, HW_HASH_BYTES);
	}
	f->off[n] = n * each;
}

static void durable_cb(void *arg, uint64_t durable_lsn, int rc)
{
	struct fx *f = arg;
	assert_true(durable_lsn >= f->durable); /* reported in LSN order, never backwards */
	f->durable = durable_lsn;
	f->rc = rc;
	if (rc != 0 || durable_lsn >= f->target)
		hw_loop_stop(f->loop);
}

static void timeout_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	hw_loop_stop(arg);
}

/* Run the loop until the log reports LSN target flushed or fails (f->rc), or WAIT_MS
 * pass. */
static void wait_durable(struct fx *f, uint64_t target)
{
	f->target = target;
	struct hw_timer *t;
	assert_int_equal(hw_timer_new(f->loop, WAIT_MS, 0, timeout_cb, f->loop, &t), 0);
	hw_loop_run(f->loop);
	hw_timer_free(t);
}

/* Append entries [a, b) (LSNs a + 1 .. b) in batches of batch and wait until the log
 * reports LSN b flushed. */
static void append_and_flush(struct fx *f, struct hw_wal *w, size_t a, size_t b, size_t batch)
{
	for (size_t i = a; i < b; i += batch) {
		size_t end = i + batch < b ? i + batch : b;
		assert_int_equal(
			hw_wal_append(w, f->entries + f->off[i], f->off[end] - f->off[i], end), 0);
	}
	wait_durable(f, b);
	assert_int_equal(f->rc, 0);
	assert_int_equal(f->durable, b);
}

struct seen {
	uint64_t next; /* LSN expected next */
	size_t count;
};

static int replay_cb(void *arg, const uint8_t *entry, size_t len)
{
	struct seen *s = arg;
	struct hw_entry e;
	assert_int_equal(hw_entry_decode(entry, len, &e), 0);
	assert_int_equal(e.lsn, s->next);
	s->next++;
	s->count++;
	return 0;
}

/* Path of the only (or the first) segment file in dir, and its size. */
static void first_segment(const char *dir, char *path, size_t cap, off_t *size)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	char best[NAME_MAX + 1] = "";
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".wal") != NULL &&
		    (best[0] == '\0' || strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof best, "%s", de->d_name);
	closedir(d);
	assert_true(best[0] != '\0');
	snprintf(path, cap, "%s/%s", dir, best);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	*size = st.st_size;
}

/* Entries flushed through the log are all there after a reopen, followed in their
 * segment by zeros written ahead, which neither the open nor the replay takes for a torn
 * tail. */
static void test_flushed_entries_survive_reopen_past_zeros(void **state)
{
	struct fx *f = *state;
	make_entries(f, 300);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, 0);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, 0, 100, 10);
	append_and_flush(f, w, 100, 300, 50);
	const struct hw_head *queued = hw_wal_last(w); /* the last entry queued, whole */
	assert_int_equal(queued->lsn, 300);
	assert_int_equal(queued->epoch, 1);
	assert_int_equal(queued->time_ms, 1000 + 299);
	hw_wal_close(w);

	char path[400];
	off_t size;
	first_segment(f->dir, path, sizeof path, &size);
	assert_true((size_t)size >= f->off[300] + HW_WAL_PREALLOC_BYTES / 2);

	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, 300);
	struct hw_entry e;
	assert_int_equal(hw_entry_decode(f->entries + f->off[299], f->off[300] - f->off[299], &e),
			 0);
	assert_memory_equal(last.hash, e.hash, HW_HASH_BYTES);
	struct seen s = {.next = 1};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, 300);
	hw_wal_close(w);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, size); /* nothing was cut */
}

/* A batch larger than the zeros ahead gets zeros past it before it is written, so no
 * flush grows the file and a crash leaves its tail zero whatever the file system: after
 * a 3 MiB batch the segment reaches half the room past its last entry. */
static void test_big_batch_is_written_into_zeros(void **state)
{
	struct fx *f = *state;
	size_t n = 10100; /* 100 entries, then about 3 MiB in one batch */
	make_entries(f, n);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, 0, 100, 100);
	append_and_flush(f, w, 100, n, n - 100);
	hw_wal_close(w);
	char path[400];
	off_t size;
	first_segment(f->dir, path, sizeof path, &size);
	assert_true(f->off[n] - f->off[100] > 2 * HW_WAL_PREALLOC_BYTES);
	assert_true((size_t)size >= f->off[n] + HW_WAL_PREALLOC_BYTES / 2);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, n);
	hw_wal_close(w);
}

/* Many small batches, flushed by several flushers at once, are reported durable in LSN
 * order up to the last, and all of them are in the log, in order, after a reopen. */
static void test_many_batches_flush_in_order(void **state)
{
	struct fx *f = *state;
	make_entries(f, 3000);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	size_t at = 0;
	for (size_t size = 1; at < f->n; size = size % 9 + 1) {
		size_t end = at + size < f->n ? at + size : f->n;
		assert_int_equal(
			hw_wal_append(w, f->entries + f->off[at], f->off[end] - f->off[at], end),
			0);
		at = end;
	}
	append_and_flush(f, w, f->n, f->n, 1); /* nothing more: waits for the last */
	hw_wal_close(w);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, f->n);
	struct seen s = {.next = 1};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, f->n);
	hw_wal_close(w);
}

/* Write entries [a, b) into a segment file named for LSN a + 1, followed by pad zeros. */
static void write_segment(struct fx *f, size_t a, size_t b, size_t pad)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%020zu.wal", f->dir, a + 1);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	size_t len = f->off[b] - f->off[a];
	assert_int_equal(fwrite(f->entries + f->off[a], 1, len, fp), len);
	uint8_t *z = calloc(1, pad + 1);
	assert_int_equal(fwrite(z, 1, pad, fp), pad);
	free(z);
	assert_int_equal(fclose(fp), 0);
}

/* A closed segment that ends in zeros (its room written ahead) does not end the log:
 * the open keeps the next segment and the replay goes on into it. */
static void test_zero_tail_of_closed_segment_is_not_the_end(void **state)
{
	struct fx *f = *state;
	make_entries(f, 40);
	write_segment(f, 0, 25, 8192);
	write_segment(f, 25, 40, 4096);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, 40);
	struct seen s = {.next = 11};
	assert_int_equal(hw_wal_replay(w, 10, replay_cb, &s), 0);
	assert_int_equal(s.count, 30);
	hw_wal_close(w);
}

static int cmp_first(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The first LSNs of the segment files in dir, ascending, into first[] (at most cap). */
static size_t segments(const char *dir, uint64_t *first, size_t cap)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		unsigned long long v;
		char tail[8];
		if (sscanf(de->d_name, "%20llu%7s", &v, tail) == 2 && strcmp(tail, ".wal") == 0) {
			assert_true(n < cap);
			first[n++] = v;
		}
	}
	closedir(d);
	qsort(first, n, sizeof *first, cmp_first);
	return n;
}

/* Past HW_WAL_SEGMENT_BYTES the log begins a new segment at the next batch's first LSN;
 * a checkpoint past the first segment's entries, given while the flushers run, drops that
 * file and only it (by the time close has joined them: a flusher drops what a checkpoint
 * allows before it takes work or stops); after a reopen the log ends at the last entry
 * and replays, in order, from the second segment's first. */
static void test_segment_rollover_and_checkpoint(void **state)
{
	enum { CHUNK = 16384, BATCH = 1024 };
	struct fx *f = *state;
	size_t each = HW_ENTRY_HEADER_BYTES + RECORD_BYTES;
	size_t n = HW_WAL_SEGMENT_BYTES / each + 2 * CHUNK;
	make_entries(f, n);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	for (size_t a = 0; a < n; a += CHUNK) /* each chunk under HW_WAL_PENDING_MAX */
		append_and_flush(f, w, a, a + CHUNK < n ? a + CHUNK : n, BATCH);
	uint64_t first[8];
	assert_int_equal(segments(f->dir, first, 8), 2);
	assert_int_equal(first[0], 1);
	assert_true(first[1] > 1 && first[1] <= n);
	hw_wal_checkpoint(w, first[1] - 1);
	hw_wal_close(w);
	assert_int_equal(segments(f->dir, first + 2, 6), 1);
	assert_int_equal(first[2], first[1]);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, n);
	struct seen s = {.next = first[1]};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, n - first[1] + 1);
	hw_wal_close(w);
}

/* A log whose store does not take it (a vault's apply blocked) keeps every segment: no
 * count of them is too many to open, replay, append to and drop (each file here holds
 * one entry, so 4,200 of them stand for 4,200 x 64 MiB). */
static void test_segment_count_has_no_limit(void **state)
{
	enum { SEGS = 4200, CKPT = 4100 };
	struct fx *f = *state;
	make_entries(f, SEGS + 1);
	for (size_t i = 0; i < SEGS; i++)
		write_segment(f, i, i + 1, 0);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, SEGS);
	struct seen s = {.next = 1};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, SEGS);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, SEGS, SEGS + 1, 1);
	hw_wal_checkpoint(w, CKPT);
	hw_wal_close(w);
	uint64_t *first = calloc(SEGS, sizeof *first);
	/* 4,101 .. 4,200, and the one the append began (an opened log writes anew) */
	assert_int_equal(segments(f->dir, first, SEGS), SEGS - CKPT + 1);
	assert_int_equal(first[0], CKPT + 1);
	assert_int_equal(first[SEGS - CKPT], SEGS + 1);
	free(first);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, SEGS + 1);
	hw_wal_close(w);
}

/* A reset (the store holds everything: a rejoin, a recovery) drops every segment and
 * continues after the head it is given: the next entries begin a segment named for
 * their first LSN, and after a reopen the log holds those alone. */
static void test_reset_continues_after_head(void **state)
{
	struct fx *f = *state;
	make_entries(f, 80);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, 0, 50, 10);
	hw_wal_close(w);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, 50);
	struct hw_head head = last; /* the store's head: entry 50 */
	assert_int_equal(hw_wal_reset(w, &head), 0);
	uint64_t first[4];
	assert_int_equal(segments(f->dir, first, 4), 0);
	assert_int_equal(hw_wal_last(w)->lsn, 50);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, 50, 80, 10);
	hw_wal_close(w);
	assert_int_equal(segments(f->dir, first, 4), 1);
	assert_int_equal(first[0], 51);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, 80);
	struct seen s = {.next = 51};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, 30);
	hw_wal_close(w);
}

/* The log says the hash of entry 1 (the chain's identity) from its append on, and from
 * the open that finds it; not after a reset, nor for a log that starts after one. */
static void test_chain_id_of_entry_one(void **state)
{
	struct fx *f = *state;
	make_entries(f, 40);
	struct hw_entry one;
	assert_int_equal(hw_entry_decode(f->entries, f->off[1], &one), 0);
	uint8_t id[HW_HASH_BYTES] = {0};
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_chain_id(w, id), HW_ENOTFOUND);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, 0, 20, 10);
	assert_int_equal(hw_wal_chain_id(w, id), 0);
	assert_memory_equal(id, one.hash, HW_HASH_BYTES);
	hw_wal_close(w);
	memset(id, 0, sizeof id);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_chain_id(w, id), 0);
	assert_memory_equal(id, one.hash, HW_HASH_BYTES);
	assert_int_equal(hw_wal_reset(w, &last), 0);
	assert_int_equal(hw_wal_chain_id(w, id), HW_ENOTFOUND);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, 20, 40, 10);
	hw_wal_close(w);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, 40);
	assert_int_equal(hw_wal_chain_id(w, id), HW_ENOTFOUND);
	hw_wal_close(w);
}

/* Past HW_WAL_PENDING_MAX bytes waiting (no flusher takes them here) an append is
 * HW_EBUSY and queues nothing: the caller stops reading (back-pressure). */
static void test_append_past_pending_max_is_busy(void **state)
{
	struct fx *f = *state;
	size_t each = HW_ENTRY_HEADER_BYTES + RECORD_BYTES;
	size_t fit = HW_WAL_PENDING_MAX / each;
	make_entries(f, fit + 1);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_append(w, f->entries, f->off[fit], fit), 0);
	assert_int_equal(hw_wal_pending(w), f->off[fit]);
	assert_int_equal(hw_wal_append(w, f->entries + f->off[fit], each, fit + 1), HW_EBUSY);
	assert_int_equal(hw_wal_pending(w), f->off[fit]);
	assert_int_equal(hw_wal_last(w)->lsn, fit);
	hw_wal_close(w);
}

/* Write n bytes of data (NULL: zeros) at byte `at` of entry i (LSN i + 1) in the
 * segment file beginning at LSN first. Zeros are what a write the disk did not finish
 * leaves. */
static void put_bytes(struct fx *f, size_t first, size_t i, size_t at, const void *data, size_t n)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%020zu.wal", f->dir, first + 1);
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (long)(f->off[i] - f->off[first] + at), SEEK_SET), 0);
	uint8_t *z = data == NULL ? calloc(1, n) : NULL;
	assert_int_equal(fwrite(data != NULL ? data : z, 1, n, fp), n);
	free(z);
	assert_int_equal(fclose(fp), 0);
}

/* Entry i keeps its header and loses its record to zeros, with 4096 more zeros after
 * it: a torn write at the end of what was written. */
static void tear_entry(struct fx *f, size_t first, size_t i)
{
	put_bytes(f, first, i, HW_ENTRY_HEADER_BYTES, NULL, RECORD_BYTES + 4096);
}

static off_t file_size(const struct fx *f, size_t first)
{
	char path[400];
	snprintf(path, sizeof path, "%s/%020zu.wal", f->dir, first + 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* The log of segments 0 and 20 opens ending at lsn, its last segment cut there and
 * the one before whole, and replays lsn entries. */
static void open_is_cut_at(struct fx *f, size_t lsn)
{
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, lsn);
	struct seen s = {.next = 1};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, lsn);
	hw_wal_close(w);
	assert_int_equal((size_t)file_size(f, 0), f->off[20]);
	assert_int_equal((size_t)file_size(f, 20), f->off[lsn] - f->off[20]);
}

/* An entry torn by a crash at the end of the last segment, with the zeros written ahead
 * after it, is cut at open: the log ends at the last whole entry. */
static void test_torn_entry_of_last_segment_is_cut(void **state)
{
	struct fx *f = *state;
	make_entries(f, 30);
	write_segment(f, 0, 20, 0);
	write_segment(f, 20, 30, 0);
	tear_entry(f, 20, 27);
	open_is_cut_at(f, 27);
}

/* Two flushes in flight land in any order, so a torn entry may have whole entries after
 * it, none of them acknowledged (the log reports flushes in LSN order): an entry never
 * written (all zeros), and one whose bytes from a sector's start on were not (a write
 * cut short at a page; also with the magic's bytes in its record before that), each
 * followed by whole entries in the same sector, are cut with them at open. */
static void test_torn_entry_before_whole_entries_is_cut(void **state)
{
	struct fx *f = *state;
	make_entries(f, 30);
	for (size_t i = 21; i < 29; i++) {
		size_t from = f->off[i] - f->off[20], to = f->off[i + 1] - f->off[20];
		size_t sector = (from / 512 + 1) * 512;
		for (int how = 0; how < 3; how++) {
			if (how > 0 && (sector >= to || sector - from < HW_ENTRY_HEADER_BYTES + 12))
				continue; /* no sector starts inside this entry's record */
			write_segment(f, 0, 20, 0);
			write_segment(f, 20, 30, 4096);
			size_t at = how == 0 ? 0 : sector - from;
			if (how == 2)
				put_bytes(f, 20, i, HW_ENTRY_HEADER_BYTES + 8, HW_ENTRY_MAGIC, 4);
			put_bytes(f, 20, i, at, NULL, to - from - at);
			open_is_cut_at(f, i);
		}
	}
}

/* A write cut short at any byte inside an entry's last sector (a page copied in part,
 * written back, the power lost): its last 1 to 7 bytes zero, and after them either
 * zeros to the page's end, or (the later batch landed) the next entry whole. Each is
 * cut at open. */
static void test_entry_cut_short_near_its_end_is_cut(void **state)
{
	struct fx *f = *state;
	make_entries(f, 30);
	for (size_t i = 21; i < 29; i++)
		for (size_t k = 1; k < 8; k++)
			for (int later_landed = 0; later_landed < 2; later_landed++) {
				write_segment(f, 0, 20, 0);
				write_segment(f, 20, 30, 4096);
				size_t len = f->off[i + 1] - f->off[i];
				size_t q = f->off[i + 1] - f->off[20] - k; /* in the file */
				size_t page_end = (q / 4096 + 1) * 4096;
				put_bytes(f, 20, i, len - k, NULL, later_landed ? k : page_end - q);
				open_is_cut_at(f, i);
			}
}

/* The log of segments 0 and 20 opens HW_ECORRUPT, and neither is cut. */
static void open_is_corrupt(struct fx *f)
{
	off_t first = file_size(f, 0), second = file_size(f, 20);
	struct hw_wal *w = NULL;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), HW_ECORRUPT);
	assert_null(w);
	assert_int_equal(file_size(f, 0), first);
	assert_int_equal(file_size(f, 20), second);
}

/* Damage in a segment before the last (entries flushed, perhaps acknowledged: a crash
 * tears only the last) is HW_ECORRUPT at open, and nothing is cut or dropped. */
static void test_damage_before_last_segment_is_corrupt(void **state)
{
	struct fx *f = *state;
	make_entries(f, 30);
	write_segment(f, 0, 20, 0);
	tear_entry(f, 0, 19);
	write_segment(f, 20, 30, 0);
	open_is_corrupt(f);
}

/* Flip one bit at byte `at` of entry i (LSN i + 1) in the segment beginning at first,
 * written from f->entries. */
static void flip_bit(struct fx *f, size_t first, size_t i, size_t at)
{
	uint8_t b = f->entries[f->off[i] + at] ^ 0x10;
	put_bytes(f, first, i, at, &b, 1);
}

/* A flipped bit in an entry of the last segment is damage to what was flushed, not a
 * crash's tear, which leaves zeros: HW_ECORRUPT at open, and nothing is cut. In any
 * byte of every entry there (the very last one too): its length longer or shorter by a
 * few bytes, by pages or past any record, its chain fields, its hash, its record. */
static void test_flipped_bit_in_last_segment_is_corrupt(void **state)
{
	struct fx *f = *state;
	make_entries(f, 30);
	for (size_t i = 20; i < 30; i++)
		for (size_t at = 0; at < f->off[i + 1] - f->off[i]; at++) {
			write_segment(f, 0, 20, 0);
			write_segment(f, 20, 30, 4096);
			flip_bit(f, 20, i, at);
			open_is_corrupt(f);
		}
}

/* A length damaged in two bits, so that it runs over the next five entries into the
 * zeros ahead, is damage too: the entry ends where the next whole one begins. */
static void test_length_stretched_over_entries_is_corrupt(void **state)
{
	struct fx *f = *state;
	make_entries(f, 30);
	write_segment(f, 0, 20, 0);
	write_segment(f, 20, 30, 4096);
	uint8_t len[4];
	hw_put_u32(len, RECORD_BYTES ^ 0x600u); /* 200 -> 1736: entries 25-29 and 56 zeros */
	put_bytes(f, 20, 24, 4, len, sizeof len);
	open_is_corrupt(f);
}

/* Segments whose LSNs do not follow on (one lost between them) are HW_ECORRUPT at open,
 * and both stay. */
static void test_gap_between_segments_is_corrupt(void **state)
{
	struct fx *f = *state;
	make_entries(f, 30);
	write_segment(f, 0, 20, 0);
	write_segment(f, 22, 30, 0);
	struct hw_wal *w = NULL;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), HW_ECORRUPT);
	assert_int_equal((size_t)file_size(f, 0), f->off[20]);
	assert_int_equal((size_t)file_size(f, 22), f->off[30] - f->off[22]);
}

/* A disk that fills under the log: the flush that finds no room fails the log with
 * -ENOSPC, which the loop hears; nothing past the last flush is reported durable, and
 * later appends get the same code. Reopened, the log replays an unbroken chain holding
 * every entry it reported; once there is room again it takes the rest. The room runs
 * out while zeros are written ahead, with no entry at stake: of batches of 100 (the log
 * fills its room, a flush waited for every 1,000), or of one batch larger than the disk
 * after 200 flushed (big). Needs root to mount a small tmpfs; skipped otherwise. */
static void disk_full(struct fx *f, bool big)
{
	char mnt[320], dir[340];
	snprintf(mnt, sizeof mnt, "%s/small", f->dir);
	snprintf(dir, sizeof dir, "%s/wal", mnt);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=2m") != 0)
		HW_SKIP("mount tmpfs at %s: %s (needs CAP_SYS_ADMIN)", mnt, strerror(errno));
	size_t n = 16000; /* about 4 MiB of entries: twice the room */
	make_entries(f, n);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(dir, &w, &last), 0);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, 0, 200, 100);
	int rc = 0;
	for (size_t at = 200, step = big ? n - 200 : 100; at < n && rc == 0; at += step) {
		rc = hw_wal_append(w, f->entries + f->off[at], f->off[at + step] - f->off[at],
				   at + step);
		if (rc == 0 && (big || (at + step) % 1000 == 0)) {
			wait_durable(f, at + step);
			rc = f->rc;
		}
	}
	assert_int_equal(rc, -ENOSPC);
	if (f->rc == 0) /* the append saw it first: the loop hears it next */
		wait_durable(f, n);
	assert_int_equal(f->rc, -ENOSPC);
	assert_true(f->durable >= 200 && f->durable < n);
	uint64_t reported = f->durable;
	assert_int_equal(hw_wal_append(w, f->entries, f->off[1], n + 1), -ENOSPC);
	hw_wal_close(w);

	assert_int_equal(hw_wal_open(dir, &w, &last), 0);
	assert_true(last.lsn >= reported && last.lsn < n);
	struct seen s = {.next = 1};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, last.lsn);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=16m"), 0);
	f->durable = 0;
	f->rc = 0;
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	append_and_flush(f, w, last.lsn, n, 100);
	hw_wal_close(w);
	assert_int_equal(hw_wal_open(dir, &w, &last), 0);
	s = (struct seen){.next = 1};
	assert_int_equal(hw_wal_replay(w, 0, replay_cb, &s), 0);
	assert_int_equal(s.count, n);
	hw_wal_close(w);
	assert_int_equal(umount(mnt), 0);
}

static void test_disk_full_in_zeros_ahead(void **state)
{
	disk_full(*state, false);
}

static void test_disk_full_ahead_of_a_big_batch(void **state)
{
	disk_full(*state, true);
}

/* Descriptors this process may still open, all taken: dups of stdin up to a soft limit
 * lowered to DESC_LIMIT (the hard one stays, so it can go back up). */
#define DESC_LIMIT 256
struct taken {
	struct rlimit was;
	int fd[DESC_LIMIT];
	int n;
};

static void descriptors_take(struct taken *t)
{
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &t->was), 0);
	struct rlimit low = {.rlim_cur = DESC_LIMIT, .rlim_max = t->was.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (t->n = 0; t->n < DESC_LIMIT && (t->fd[t->n] = dup(0)) >= 0; t->n++)
		;
	assert_int_equal(errno, EMFILE);
}

static void descriptors_give_back(struct taken *t)
{
	while (t->n > 0)
		close(t->fd[--t->n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &t->was), 0);
}

/* With no descriptor left, the log's first flush cannot open its segment (EMFILE): that
 * is no failure of the log, which reports nothing durable and nothing failed while the
 * loop runs 300 ms; once descriptors are given back it opens it, flushes, and reports
 * every entry, all there after a reopen. (It was a sticky failure: a flood of connections
 * taking every descriptor stopped a primary acknowledging until restarted.) */
static void test_no_descriptor_waits(void **state)
{
	struct fx *f = *state;
	make_entries(f, 10);
	struct hw_wal *w;
	struct hw_head last;
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(hw_wal_start(w, f->loop, durable_cb, f), 0);
	static struct taken t;
	descriptors_take(&t);
	assert_int_equal(hw_wal_append(w, f->entries, f->off[10], 10), 0);
	f->target = 10;
	struct hw_timer *tm;
	assert_int_equal(hw_timer_new(f->loop, 300, 0, timeout_cb, f->loop, &tm), 0);
	hw_loop_run(f->loop);
	hw_timer_free(tm);
	int rc = f->rc;
	uint64_t durable = f->durable;
	descriptors_give_back(&t);
	assert_int_equal(rc, 0);
	assert_int_equal(durable, 0);
	wait_durable(f, 10);
	assert_int_equal(f->rc, 0);
	assert_int_equal(f->durable, 10);
	hw_wal_close(w);
	assert_int_equal(hw_wal_open(f->dir, &w, &last), 0);
	assert_int_equal(last.lsn, 10);
	hw_wal_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flushed_entries_survive_reopen_past_zeros,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_batch_is_written_into_zeros, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_batches_flush_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_rollover_and_checkpoint, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reset_continues_after_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_id_of_entry_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_segment_count_has_no_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_past_pending_max_is_busy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_zero_tail_of_closed_segment_is_not_the_end,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_entry_of_last_segment_is_cut, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damage_before_last_segment_is_corrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_entry_before_whole_entries_is_cut, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_entry_cut_short_near_its_end_is_cut, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_length_stretched_over_entries_is_corrupt,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_bit_in_last_segment_is_corrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gap_between_segments_is_corrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_in_zeros_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_descriptor_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_ahead_of_a_big_batch, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
