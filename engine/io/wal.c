/* wal.c: the write-ahead log and its flusher thread (engine/io/wal.h). */
#include "engine/io/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/cond.h"
#include "base/fs.h"
#include "base/log.h"
#include "engine/io/loop.h"
#include "replica/entry.h"

#define WAL_SECTOR_BYTES 512u /* the smallest unit a disk writes whole */
#define TEAR_ZEROS_MIN   8u   /* zeros that end a sector's share of a torn entry */
/* An open that found no descriptor or memory is tried again this often (open_patiently):
 * a connection or a snapshot closing frees one within moments. */
#define WAL_REOPEN_MS 100

struct hw_wal {
	char dir[PATH_MAX];
	uint64_t *seg_first; /* first LSN of each segment, ascending (seg_room) */
	size_t nseg, seg_cap;
	int fd;                /* current segment, for beginning it and its zeros (exclusive;
				  flushes go through each flusher's own file); -1: none yet */
	uint64_t seg_bytes;    /* bytes of entries in the current segment */
	uint64_t seg_zeroed;   /* the current segment is written (zeros past seg_bytes) to here */
	struct hw_head last;   /* last entry queued (loop thread) */
	bool has_chain;        /* it holds entry 1, whose hash is chain (loop thread) */
	uint8_t chain[HW_HASH_BYTES];
	/* shared with the flushers, under mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* a flusher waiting to open a file again: the stop wakes it. Not cv: an append's
	 * signal there, meant for one flusher that takes the batch, would be spent on it */
	pthread_cond_t retry_cv;
	pthread_t threads[HW_WAL_FLUSHERS];
	unsigned started;      /* flusher threads running */
	bool stopping;
	uint8_t *pending;      /* entries waiting for the next flush */
	size_t pending_len;
	uint64_t pending_last;
	uint8_t *spare[HW_WAL_FLUSHERS]; /* buffers not pending: one per flush in flight */
	uint64_t taken;        /* flushes begun */
	uint64_t retired;      /* flushes done whose every predecessor is done */
	struct {
		uint64_t last;     /* its last LSN */
		bool done;
	} flights[HW_WAL_FLUSHERS]; /* flush number i in flights[i % HW_WAL_FLUSHERS] */
	bool exclusive;        /* a segment is being opened or zeroed: nothing is written */
	uint64_t dropped_to;   /* checkpoint whose segments were dropped */
	uint64_t durable;      /* last LSN flushed */
	uint64_t ckpt;         /* store flushed up to here */
	int failed;
	/* loop side */
	struct hw_async *async;
	hw_wal_cb *cb;
	void *cb_arg;
	uint64_t reported;
};

static void seg_path(const struct hw_wal *w, uint64_t first, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%020" PRIu64 ".wal", w->dir, first);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Room in seg_first for one more segment. No count is too many: a log whose store
 * cannot take it (a vault's apply blocked: engine/node_block.c) grows until the disk is
 * full, which is a typed error, not an assertion or a log that no longer opens. */
static int seg_room(struct hw_wal *w)
{
	if (w->nseg < w->seg_cap)
		return 0;
	size_t cap = w->seg_cap != 0 ? w->seg_cap * 2 : 64;
	uint64_t *p = realloc(w->seg_first, cap * sizeof *p);
	if (p == NULL)
		return -ENOMEM; /* open_patiently waits and tries again, as for a descriptor */
	w->seg_first = p;
	w->seg_cap = cap;
	return 0;
}

static int list_segments(struct hw_wal *w)
{
	DIR *d = opendir(w->dir);
	if (d == NULL)
		return -errno;
	struct dirent *e;
	w->nseg = 0;
	while ((e = readdir(d)) != NULL) {
		uint64_t first;
		char tail[8];
		if (sscanf(e->d_name, "%20" SCNu64 "%7s", &first, tail) != 2 ||
		    strcmp(tail, ".wal") != 0)
			continue;
		if (seg_room(w) != 0) {
			closedir(d);
			return HW_ENOMEM;
		}
		w->seg_first[w->nseg++] = first;
	}
	closedir(d);
	if (w->nseg > 1) /* seg_first is NULL in a log with none */
		qsort(w->seg_first, w->nseg, sizeof w->seg_first[0], cmp_u64);
	return 0;
}

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = fstat(fd, &st) == 0 ? 0 : -errno;
	*len = rc == 0 ? (size_t)st.st_size : 0;
	*buf = rc == 0 ? malloc(*len ? *len : 1) : NULL;
	if (rc == 0 && *buf == NULL)
		rc = HW_ENOMEM;
	for (size_t off = 0; rc == 0 && off < *len;) {
		ssize_t n = pread(fd, *buf + off, *len - off, (off_t)off);
		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	close(fd);
	if (rc != 0)
		free(*buf);
	return rc;
}

/* Walk one segment's entries: each must check and continue the chain from *last.
 * Returns the offset of the first entry that does not (len when all do). */
static size_t scan_segment(const uint8_t *buf, size_t len, struct hw_head *last, bool first_seg,
			   int (*cb)(void *, const uint8_t *, size_t), void *arg, uint64_t after,
			   int *cb_rc)
{
	size_t off = 0;
	while (off + HW_ENTRY_HEADER_BYTES <= len) {
		size_t el = hw_entry_len(buf + off);
		struct hw_entry e;
		if (el > len - off || hw_entry_decode(buf + off, el, &e) != 0)
			break;
		bool starts = first_seg && off == 0 && last->lsn == 0;
		if (!starts && (e.lsn != last->lsn + 1 ||
				memcmp(e.prev_hash, last->hash, HW_HASH_BYTES) != 0))
			break;
		if (cb != NULL && e.lsn > after && (*cb_rc = cb(arg, buf + off, el)) != 0)
			return off;
		*last = (struct hw_head){.lsn = e.lsn, .epoch = e.epoch, .time_ms = e.time_ms};
		memcpy(last->hash, e.hash, HW_HASH_BYTES);
		off += el;
	}
	return off;
}

/* Cut the last segment at off: a crash tore its tail. */
static int cut_tail(struct hw_wal *w, size_t off, size_t len)
{
	char path[PATH_MAX + 32];
	seg_path(w, w->seg_first[w->nseg - 1], path, sizeof path);
	hw_log("wal_tail_cut", "segment=%s offset=%zu bytes_dropped=%zu", path, off, len - off);
	if (truncate(path, (off_t)off) != 0)
		return -errno;
	return hw_fs_sync(path);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Whether the entry at p (rest bytes readable) checks once one bit of its length is put
 * back: then that bit is all that is wrong with it, flipped after it was written. */
static bool length_bit_flipped(const uint8_t *p, size_t rest)
{
	uint8_t *copy = malloc(HW_ENTRY_BYTES_MAX);
	uint32_t record_len = hw_get_u32(p + 4);
	bool found = false;
	for (unsigned bit = 0; copy != NULL && !found && bit < 32; bit++) {
		uint32_t want = record_len ^ (1u << bit);
		size_t el = HW_ENTRY_HEADER_BYTES + (size_t)want;
		if (want > HW_RECORD_BYTES_MAX || el > rest)
			continue;
		memcpy(copy, p, el);
		hw_put_u32(copy + 4, want);
		struct hw_entry e;
		found = hw_entry_decode(copy, el, &e) == 0;
	}
	free(copy);
	return found;
}

/* The offset of the first whole entry (one that checks) starting in [from, to) of
 * buf[0..len), or to when there is none. */
static size_t next_entry(const uint8_t *buf, size_t len, size_t from, size_t to)
{
	for (const uint8_t *p = buf + from;
	     (p = memmem(p, (size_t)(buf + to - p), HW_ENTRY_MAGIC, 4)) != NULL; p++) {
		size_t at = (size_t)(p - buf);
		size_t el = len - at >= HW_ENTRY_HEADER_BYTES ? hw_entry_len(p) : SIZE_MAX;
		struct hw_entry e;
		if (el <= len - at && hw_entry_decode(p, el, &e) == 0)
			return at;
	}
	return to;
}

/* Whether the entry at off..end ends as a write cut short inside its last sector leaves
 * it (a page copied in part, then written back, and the power lost): its last byte zero,
 * and after it more zeros to that sector's end (or the file's) or to TEAR_ZEROS_MIN in
 * all, or a later batch's entry begun right there. A record ending in a zero byte (about
 * 1 in 1,000 of the benchmark's) looks the same. */
static bool cut_in_last_sector(const uint8_t *buf, size_t len, size_t off, size_t end)
{
	size_t zeros = 0;
	while (end - zeros > off && buf[end - 1 - zeros] == 0)
		zeros++;
	if (zeros == 0)
		return false;
	size_t sector_end = ((end - 1) / WAL_SECTOR_BYTES + 1) * WAL_SECTOR_BYTES;
	size_t stop = sector_end < len ? sector_end : len, after = end;
	while (after < stop && buf[after] == 0)
		after++;
	return after == stop || zeros + (after - end) >= TEAR_ZEROS_MIN ||
	       (len - end >= 4 && memcmp(buf + end, HW_ENTRY_MAGIC, 4) == 0);
}

/* Whether the entry at off, where the chain stops, was torn by a crash rather than
 * damaged after it was flushed. The log is written into zeros, and a write the disk did
 * not finish leaves the entry's bytes in each sector it did not finish zero from some
 * point to that sector's end, or the entry's. So the entry is torn when the file ends
 * inside it, when its magic is zero (nothing of it written: a later flush may have
 * landed after it), when one sector's share of its bytes ends in TEAR_ZEROS_MIN zeros
 * (all of a shorter share), or when it ends as cut_in_last_sector() says. Its bytes end
 * at its length, the file's end or the next whole entry, whichever comes first, so that
 * a length damaged in a few bits does not stretch it over whole entries (it may still
 * stretch the log's last entry into the zeros ahead) and a record holding the magic's
 * bytes does not cut it short. A length no record can have is damage (a tear only
 * zeroes), and so is an entry that checks once one bit of its length is put back. The
 * benchmark's records hold no run of 8 zeros, and headers one only when the low byte of
 * time_ms happens to be zero, so damage is mostly told apart. */
static bool torn_at(const uint8_t *buf, size_t len, size_t off)
{
	size_t rest = len - off;
	if (rest < HW_ENTRY_HEADER_BYTES || all_zero(buf + off, 4))
		return true;
	size_t el = hw_entry_len(buf + off);
	if (el - HW_ENTRY_HEADER_BYTES > HW_RECORD_BYTES_MAX || length_bit_flipped(buf + off, rest))
		return false;
	size_t end = off + (el < rest ? el : rest);
	size_t next = next_entry(buf, len, off + HW_ENTRY_HEADER_BYTES, end);
	if (next < end)
		end = next;
	else if (el > rest)
		return true; /* the file ends inside it: its write never finished */
	for (size_t at = off; at < end;) {
		size_t share_end = (at / WAL_SECTOR_BYTES + 1) * WAL_SECTOR_BYTES;
		if (share_end > end)
			share_end = end;
		size_t run = share_end - at < TEAR_ZEROS_MIN ? share_end - at : TEAR_ZEROS_MIN;
		if (all_zero(buf + share_end - run, run))
			return true;
		at = share_end;
	}
	return cut_in_last_sector(buf, len, off, end);
}

/* Scan every segment (cutting a torn tail when cut is set), calling cb for entries after
 * `after`. Zeros after a segment's last entry are its preallocated room, not damage.
 * Only the last segment can have a torn tail: a new one is begun with no flush in
 * flight. So damage in an earlier one, or a gap between two, is in entries flushed and
 * perhaps acknowledged: HW_ECORRUPT, and nothing is cut. So is a bad entry of the last
 * segment that is not torn (torn_at): a flipped bit in what was flushed. */
static int scan(struct hw_wal *w, bool cut, int (*cb)(void *, const uint8_t *, size_t),
		void *arg, uint64_t after, struct hw_head *last)
{
	*last = (struct hw_head){0};
	for (size_t i = 0; i < w->nseg; i++) {
		char path[PATH_MAX + 32];
		seg_path(w, w->seg_first[i], path, sizeof path);
		uint8_t *buf = NULL;
		size_t len = 0;
		int rc = read_file(path, &buf, &len);
		if (rc != 0)
			return rc;
		int cb_rc = 0;
		size_t ok = scan_segment(buf, len, last, i == 0, cb, arg, after, &cb_rc);
		size_t used = ok < len && all_zero(buf + ok, len - ok) ? ok : len;
		bool torn = ok < used && torn_at(buf, len, ok);
		free(buf);
		if (cb_rc != 0)
			return cb_rc;
		bool last_seg = i + 1 == w->nseg;
		if (ok == used && (last_seg || w->seg_first[i + 1] == last->lsn + 1))
			continue;
		if (!cut)
			return 0;
		if (last_seg && torn)
			return cut_tail(w, ok, len);
		hw_log("wal_damaged", "segment=%s offset=%zu last_lsn=%llu next_segment=%llu", path,
		       ok, (unsigned long long)last->lsn,
		       (unsigned long long)(last_seg ? 0 : w->seg_first[i + 1]));
		return HW_ECORRUPT;
	}
	return 0;
}

/* Make the log as read durable: a crashed process may have left the last segment's
 * pages written and not flushed (and a new log's directory not in its parent). */
static int flush_found(struct hw_wal *w, bool made)
{
	int rc = made ? hw_fs_sync_parent(w->dir) : 0;
	if (rc != 0 || w->nseg == 0)
		return rc;
	char path[PATH_MAX + 32];
	seg_path(w, w->seg_first[w->nseg - 1], path, sizeof path);
	return hw_fs_sync(path);
}

/* At open, for each entry found: entry 1 gives the chain's identity (hw_wal_chain_id). */
static int note_chain(void *arg, const uint8_t *entry, size_t len)
{
	struct hw_wal *w = arg;
	struct hw_entry e;
	if (hw_entry_parse(entry, len, &e) == 0 && e.lsn == 1) {
		memcpy(w->chain, e.hash, HW_HASH_BYTES);
		w->has_chain = true;
	}
	return 0;
}

int hw_wal_open(const char *dir, struct hw_wal **out, struct hw_head *last)
{
	bool made = mkdir(dir, 0700) == 0;
	if (!made && errno != EEXIST)
		return -errno;
	struct hw_wal *w = calloc(1, sizeof *w);
	if (w == NULL)
		return HW_ENOMEM;
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	w->fd = -1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	hw_cond_init(&w->retry_cv); /* open_patiently() waits on it to its next try */
	w->pending = malloc(HW_WAL_PENDING_MAX);
	bool ok = w->pending != NULL;
	for (unsigned i = 0; i < HW_WAL_FLUSHERS; i++)
		ok = (w->spare[i] = malloc(HW_WAL_PENDING_MAX)) != NULL && ok;
	int rc = ok ? list_segments(w) : HW_ENOMEM;
	if (rc == 0)
		rc = scan(w, true, note_chain, w, 0, &w->last);
	if (rc == 0)
		rc = flush_found(w, made);
	if (rc != 0) {
		hw_wal_close(w);
		return rc;
	}
	w->durable = w->reported = w->last.lsn;
	*last = w->last;
	*out = w;
	return 0;
}

int hw_wal_replay(struct hw_wal *w, uint64_t after,
		  int (*cb)(void *arg, const uint8_t *entry, size_t len), void *arg)
{
	struct hw_head last;
	return scan(w, false, cb, arg, after, &last);
}

int hw_wal_reset(struct hw_wal *w, const struct hw_head *head)
{
	HW_ASSERT(!w->started);
	for (size_t i = 0; i < w->nseg; i++) {
		char path[PATH_MAX + 32];
		seg_path(w, w->seg_first[i], path, sizeof path);
		if (unlink(path) != 0 && errno != ENOENT)
			return -errno;
	}
	w->nseg = 0;
	w->last = *head;
	w->has_chain = false;
	w->durable = w->reported = head->lsn;
	return hw_fs_sync(w->dir);
}

/* ---- the flusher -------------------------------------------------------------------- */

static int open_segment(struct hw_wal *w, uint64_t first)
{
	char path[PATH_MAX + 32];
	pthread_mutex_lock(&w->mu);
	int rc = seg_room(w); /* before the file: a failure leaves nothing half made */
	pthread_mutex_unlock(&w->mu);
	if (rc != 0)
		return rc;
	if (w->fd >= 0)
		close(w->fd);
	seg_path(w, first, path, sizeof path);
	/* Not O_APPEND: entries overwrite the zeros written ahead of them. A file of this
	 * name can only hold no entries (one that held some is named by an earlier LSN). */
	w->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return -errno;
	pthread_mutex_lock(&w->mu);
	if (w->nseg == 0 || w->seg_first[w->nseg - 1] != first)
		w->seg_first[w->nseg++] = first;
	pthread_mutex_unlock(&w->mu);
	w->seg_bytes = 0;
	w->seg_zeroed = 0;
	return hw_fs_sync(w->dir);
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Write zeros ahead of the entries, HW_WAL_PREALLOC_BYTES at a time (more when the batch
 * waiting needs them to reach upto), and flush them: an
 * fdatasync after an append that grows the file also commits the file system's journal
 * (the new size and blocks), one after an overwrite only writes the data, about half the
 * time here (docs/benchmarks.md). 4 KiB writes: a file grown by large writes is cached
 * in large blocks, each later small flush then writing a whole block back
 * (engineering-notes.md 5). With no flush in flight (exclusive). */
static int zero_ahead(struct hw_wal *w, uint64_t upto)
{
	static const uint8_t zeros[4096];
	uint64_t end = w->seg_zeroed + HW_WAL_PREALLOC_BYTES;
	if (end < upto)
		end = (upto + sizeof zeros - 1) / sizeof zeros * sizeof zeros;
	for (uint64_t off = w->seg_zeroed; off < end; off += sizeof zeros) {
		int rc = pwrite_all(w->fd, zeros, sizeof zeros, off);
		if (rc != 0)
			return rc;
	}
	if (fdatasync(w->fd) != 0)
		return -errno;
	w->seg_zeroed = end;
	return 0;
}

/* How far the zeros must reach before the pending batch is written: past it by half the
 * room, so that no flush grows the file (mu held). */
static uint64_t zeros_wanted(const struct hw_wal *w)
{
	return w->seg_bytes + w->pending_len + HW_WAL_PREALLOC_BYTES / 2;
}

/* Does the next flush need the file to itself first (a new segment, or zeros ahead)? */
static bool needs_exclusive(const struct hw_wal *w)
{
	return w->fd < 0 || w->seg_bytes >= HW_WAL_SEGMENT_BYTES || w->seg_zeroed < zeros_wanted(w);
}

/* A flusher's own open file of the current segment. Linux reports a write-back error
 * once per open file: two flushes sharing one, the one that asked first would see it and
 * the other could be reported durable with its pages lost. */
struct flusher_file {
	int fd;         /* -1: none yet */
	uint64_t first; /* the segment it is open on */
};

/* Open ff on the segment beginning at first, unless it is open there already. */
static int flusher_open(struct hw_wal *w, struct flusher_file *ff, uint64_t first)
{
	if (ff->fd >= 0 && ff->first == first)
		return 0;
	if (ff->fd >= 0)
		close(ff->fd);
	char path[PATH_MAX + 32];
	seg_path(w, first, path, sizeof path);
	ff->fd = open(path, O_WRONLY | O_CLOEXEC);
	ff->first = first;
	return ff->fd < 0 ? -errno : 0;
}

/* Open a file of the log (mu not held): with ff NULL begin the segment at first
 * (open_segment), else ff's file on it (flusher_open). An open that finds no descriptor
 * or no memory (EMFILE, ENFILE, ENOMEM) says nothing about what the log holds, unlike a
 * failed write or flush (STYLE.md 5): it is tried again every WAL_REOPEN_MS, the flush
 * and its acknowledgements waiting meanwhile (logged as wal_open_waiting, then
 * wal_open_resumed), until it succeeds, fails otherwise, or the log stops. */
static int open_patiently(struct hw_wal *w, struct flusher_file *ff, uint64_t first)
{
	const char *file = ff == NULL ? "segment" : "flusher";
	int64_t since_ms = -1;
	for (;;) {
		int rc = ff == NULL ? open_segment(w, first) : flusher_open(w, ff, first);
		if (rc != -EMFILE && rc != -ENFILE && rc != -ENOMEM) {
			if (rc == 0 && since_ms >= 0)
				hw_log("wal_open_resumed", "file=%s waited_ms=%lld", file,
				       (long long)(hw_mono_ms() - since_ms));
			return rc;
		}
		if (since_ms < 0) {
			since_ms = hw_mono_ms();
			hw_log("wal_open_waiting", "file=%s code=%s retry_ms=%d what=\"%s\"", file,
			       hw_errname(rc), WAL_REOPEN_MS,
			       "no descriptor or memory to open the log's next file: nothing "
			       "written is at stake, acknowledgements wait until it opens");
		}
		pthread_mutex_lock(&w->mu);
		if (!w->stopping)
			hw_cond_wait_until(&w->retry_cv, &w->mu,
					   (int64_t)hw_mono_ns() + WAL_REOPEN_MS * 1000000LL);
		bool stopping = w->stopping;
		pthread_mutex_unlock(&w->mu);
		if (stopping)
			return rc;
	}
}

/* With no flush in flight (mu held, exclusive set, dropped meanwhile): begin a segment
 * at the pending batch's first LSN when due, then write zeros ahead. */
static int prepare_file(struct hw_wal *w)
{
	int rc = 0;
	if (w->fd < 0 || w->seg_bytes >= HW_WAL_SEGMENT_BYTES) {
		uint64_t first = hw_entry_lsn(w->pending);
		pthread_mutex_unlock(&w->mu);
		rc = open_patiently(w, NULL, first);
		pthread_mutex_lock(&w->mu);
	}
	uint64_t upto = zeros_wanted(w);
	if (rc == 0 && w->seg_zeroed < upto) {
		pthread_mutex_unlock(&w->mu);
		rc = zero_ahead(w, upto);
		pthread_mutex_lock(&w->mu);
	}
	return rc;
}

/* Retire flushes in order: durable moves only over a run of finished ones, so an LSN is
 * reported only once every entry up to it was flushed (mu held). Whether it moved. */
static bool retire(struct hw_wal *w)
{
	bool moved = false;
	while (w->retired < w->taken && w->flights[w->retired % HW_WAL_FLUSHERS].done) {
		w->durable = w->flights[w->retired % HW_WAL_FLUSHERS].last;
		w->retired++;
		moved = true;
	}
	return moved;
}

/* Take the pending entries and write and flush them at the end of the current segment
 * through ff (mu held, dropped meanwhile). Flushes on other threads overlap with this
 * one: each writes its own byte range, and retire() reports them in order. */
static int flush_pending(struct hw_wal *w, uint8_t **buf, struct flusher_file *ff)
{
	uint8_t *data = w->pending;
	size_t len = w->pending_len;
	uint64_t off = w->seg_bytes;
	uint64_t first = w->seg_first[w->nseg - 1];
	uint64_t n = w->taken++;
	w->flights[n % HW_WAL_FLUSHERS].last = w->pending_last;
	w->flights[n % HW_WAL_FLUSHERS].done = false;
	w->pending = *buf;
	w->pending_len = 0;
	*buf = data;
	w->seg_bytes += len;
	HW_ASSERT(w->seg_bytes <= w->seg_zeroed); /* needs_exclusive() saw to it */
	pthread_mutex_unlock(&w->mu);
	int rc = open_patiently(w, ff, first); /* this flight keeps the segment current */
	if (rc == 0)
		rc = pwrite_all(ff->fd, data, len, off);
	if (rc == 0 && fdatasync(ff->fd) != 0)
		rc = -errno; /* never retried: the pages may be gone (STYLE.md 5) */
	pthread_mutex_lock(&w->mu);
	w->flights[n % HW_WAL_FLUSHERS].done = rc == 0;
	return rc;
}

/* Drop segments whose every entry the store has flushed (never the current one). mu
 * held; dropped while the files go. */
static void drop_checkpointed(struct hw_wal *w)
{
	uint64_t ckpt = w->ckpt;
	w->dropped_to = ckpt;
	size_t drop = 0;
	while (drop + 1 < w->nseg && w->seg_first[drop + 1] <= ckpt + 1)
		drop++;
	uint64_t *gone = drop > 0 ? malloc(drop * sizeof *gone) : NULL;
	if (gone == NULL)
		return; /* nothing to drop, or a later checkpoint drops them */
	memcpy(gone, w->seg_first, drop * sizeof gone[0]);
	memmove(w->seg_first, w->seg_first + drop, (w->nseg - drop) * sizeof w->seg_first[0]);
	w->nseg -= drop;
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < drop; i++) {
		char path[PATH_MAX + 32];
		seg_path(w, gone[i], path, sizeof path);
		unlink(path);
	}
	free(gone);
	pthread_mutex_lock(&w->mu);
}

/* One of HW_WAL_FLUSHERS threads. A flusher takes what is pending whenever fewer than
 * HW_WAL_FLUSHERS flushes are in flight, so a batch that arrives during a flush starts
 * its own at once instead of waiting for the device (engineering-notes.md 5: several
 * durable writes in flight, acknowledged in LSN order). A new segment or zeros ahead wait
 * until nothing is in flight. */
static void *flusher_main(void *arg)
{
	struct hw_wal *w = arg;
	pthread_setname_np(pthread_self(), "hw-wal"); /* top -H, perf */
	uint8_t *buf = NULL;
	struct flusher_file ff = {.fd = -1};
	pthread_mutex_lock(&w->mu);
	for (unsigned i = 0; i < HW_WAL_FLUSHERS && buf == NULL; i++) {
		buf = w->spare[i];
		w->spare[i] = NULL;
	}
	HW_ASSERT(buf != NULL);
	while (w->failed == 0) {
		bool work = w->pending_len > 0 && !w->exclusive &&
			    w->taken - w->retired < HW_WAL_FLUSHERS;
		if (w->ckpt != w->dropped_to) {
			drop_checkpointed(w);
			continue;
		}
		if (!work) {
			if (w->stopping && w->pending_len == 0)
				break;
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		int rc = 0;
		if (needs_exclusive(w)) {
			if (w->taken != w->retired) { /* wait for the flights to land */
				pthread_cond_wait(&w->cv, &w->mu);
				continue;
			}
			w->exclusive = true;
			rc = prepare_file(w);
			w->exclusive = false;
			if (rc == 0 && needs_exclusive(w))
				continue; /* the batch grew while zeros were written: more zeros */
		}
		if (rc == 0 && w->pending_len > 0)
			rc = flush_pending(w, &buf, &ff);
		if (rc != 0 && w->failed == 0)
			w->failed = rc;
		/* The loop hears of it with mu let go: woken on the other core at once, it
		 * would find mu held (wal_async_cb) and sleep again, two switches for one. */
		if (retire(w) || rc != 0) {
			pthread_mutex_unlock(&w->mu);
			hw_async_send(w->async);
			pthread_mutex_lock(&w->mu);
		}
		/* Only a flusher that waits for this flight to land (more is pending, or the
		 * file wants to be alone) has a reason to wake: an idle one would only find
		 * nothing to do, at the price of a context switch per batch. */
		if (w->pending_len > 0)
			pthread_cond_broadcast(&w->cv);
	}
	pthread_cond_broadcast(&w->cv);
	for (unsigned i = 0; i < HW_WAL_FLUSHERS; i++)
		if (w->spare[i] == NULL) {
			w->spare[i] = buf;
			break;
		}
	pthread_mutex_unlock(&w->mu);
	if (ff.fd >= 0)
		close(ff.fd);
	return NULL;
}

static void wal_async_cb(struct hw_async *a, void *arg)
{
	(void)a;
	struct hw_wal *w = arg;
	pthread_mutex_lock(&w->mu);
	uint64_t durable = w->durable;
	int failed = w->failed;
	pthread_mutex_unlock(&w->mu);
	if (durable > w->reported || failed != 0) {
		w->reported = durable;
		w->cb(w->cb_arg, durable, failed);
	}
}

/* Let the flushers write what is queued and end; join them. */
static void stop_flushers(struct hw_wal *w)
{
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->cv);
	pthread_cond_broadcast(&w->retry_cv);
	pthread_mutex_unlock(&w->mu);
	for (unsigned i = 0; i < w->started; i++)
		pthread_join(w->threads[i], NULL);
	w->started = 0;
}

int hw_wal_start(struct hw_wal *w, struct hw_loop *loop, hw_wal_cb *cb, void *arg)
{
	w->cb = cb;
	w->cb_arg = arg;
	int rc = hw_async_new(loop, wal_async_cb, w, &w->async);
	if (rc != 0)
		return rc;
	for (; w->started < HW_WAL_FLUSHERS; w->started++)
		if (pthread_create(&w->threads[w->started], NULL, flusher_main, w) != 0)
			break;
	if (w->started == HW_WAL_FLUSHERS)
		return 0;
	stop_flushers(w);
	hw_async_free(w->async);
	w->async = NULL;
	return HW_ENOMEM;
}

int hw_wal_append(struct hw_wal *w, const uint8_t *entries, size_t len, uint64_t last_lsn)
{
	HW_ASSERT(last_lsn > w->last.lsn);
	pthread_mutex_lock(&w->mu);
	int rc = w->failed;
	if (rc == 0 && w->pending_len + len > HW_WAL_PENDING_MAX)
		rc = HW_EBUSY;
	if (rc == 0) {
		memcpy(w->pending + w->pending_len, entries, len);
		w->pending_len += len;
		w->pending_last = last_lsn;
	}
	pthread_mutex_unlock(&w->mu);
	if (rc == 0) {
		/* One flusher takes it all. Signalled with mu let go: a flusher woken while
		 * this thread holds it sleeps again on mu at once. */
		pthread_cond_signal(&w->cv);
		/* The caller checked the chain; keep our view of its end. */
		size_t off = 0, last_off = 0;
		while (off < len) {
			last_off = off;
			off += hw_entry_len(entries + off);
		}
		struct hw_entry e;
		if (w->last.lsn == 0 && hw_entry_parse(entries, hw_entry_len(entries), &e) == 0 &&
		    e.lsn == 1) {
			memcpy(w->chain, e.hash, HW_HASH_BYTES); /* entry 1: the log was empty */
			w->has_chain = true;
		}
		hw_entry_parse(entries + last_off, len - last_off, &e);
		w->last = (struct hw_head){.lsn = last_lsn, .epoch = e.epoch, .time_ms = e.time_ms};
		memcpy(w->last.hash, e.hash, HW_HASH_BYTES);
	}
	return rc;
}

const struct hw_head *hw_wal_last(const struct hw_wal *w)
{
	return &w->last;
}

int hw_wal_chain_id(const struct hw_wal *w, uint8_t out[HW_HASH_BYTES])
{
	if (!w->has_chain)
		return HW_ENOTFOUND;
	memcpy(out, w->chain, HW_HASH_BYTES);
	return 0;
}

size_t hw_wal_pending(struct hw_wal *w)
{
	pthread_mutex_lock(&w->mu);
	size_t n = w->pending_len;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void hw_wal_checkpoint(struct hw_wal *w, uint64_t lsn)
{
	pthread_mutex_lock(&w->mu);
	if (lsn > w->ckpt) {
		w->ckpt = lsn;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
}

void hw_wal_close(struct hw_wal *w)
{
	if (w == NULL)
		return;
	if (w->started > 0) {
		stop_flushers(w);
		hw_async_free(w->async);
	}
	if (w->fd >= 0)
		close(w->fd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->retry_cv);
	free(w->pending);
	for (unsigned i = 0; i < HW_WAL_FLUSHERS; i++)
		free(w->spare[i]);
	free(w->seg_first);
	free(w);
}
