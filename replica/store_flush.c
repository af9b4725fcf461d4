/* store_flush.c: a store with a write-ahead log in front flushes its commits on a thread
 * of its own (store_int.h, "Deferred flushes").
 *
 * Such a store commits with MDB_NOSYNC: the writer hands the commit's pages and meta page
 * to the kernel and goes on, and this thread fdatasyncs data.mdb after each commit, then
 * writes that commit's transaction id to DIR/store.flushed (flushed too). The write-ahead
 * log keeps every entry after the head of the last commit recorded there
 * (hw_store_flushed), so nothing acknowledged hangs on a commit that is not yet flushed.
 *
 * What a crash leaves: the kernel writes pages back in any order, so the meta page of an
 * unflushed commit may be on disk without the pages it names. Two rules make that
 * harmless:
 * - a commit waits until the one before it is flushed and recorded (hw__store_txn_commit):
 *   at most one commit, the newest, is unflushed at any moment;
 * - LMDB reuses a page only two transactions after the one that freed it (mdb_page_alloc
 *   takes free-list records older than the oldest reader, at most the transaction before
 *   its own), so while commit R+1 and transaction R+2 write, every page of commit R's
 *   tree stays as it was.
 * So after a crash, when data.mdb's newest meta page is R+1 and the record says R, the
 * meta page of R (the other of LMDB's two) is copied over it before LMDB opens the file
 * (hw__flush_recover): the store is then exactly commit R, and the log replays the rest.
 * An open that cannot write data.mdb (a read-only mount) writes nothing and fails with
 * HW_EUNFLUSHED: reading commit R+1 would read pages it may not have.
 * A record that does not belong to this data.mdb (another inode: a copy or a snapshot's
 * install) counts for nothing.
 *
 * The open that keeps the store for writing holds an flock on DIR/store.flushed until it
 * closes, so that another open never rolls back a commit of a store in use; a close that
 * flushed everything removes the record, so that a store stopped cleanly is LMDB's alone
 * again (a commit of an LMDB tool there is never rolled back); and no open rolls back
 * while another process has the environment open (env_in_use: no crash came since).
 * LMDB's meta page layout (0.9, 64-bit: mdb.c's MDB_page and MDB_meta) is read and copied
 * here; tests/unit/test_store_flush.c opens rolled-back stores at the recorded commit's
 * head, which a misread layout would not. */
#include "replica/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/log.h"

#define RECORD_NAME  "store.flushed"
#define RECORD_BYTES 32u /* magic, txnid, data.mdb's inode, check: one sector */
static const uint8_t record_magic[8] = {'H', 'W', 'F', 'L', 'U', 'S', 'H', '1'};

/* LMDB's meta page: a page header (pgno 8 bytes, pad 2, flags 2, bounds 4), then
 * MDB_meta (magic, version, address, map size, two MDB_db of 48 bytes, last page,
 * txnid). The page size is in the free DB's md_pad. */
#define META_FLAGS_OFF   10u
#define META_P_META      0x08u
#define META_MAGIC_OFF   16u
#define META_MAGIC       0xBEEFC0DEu
#define META_VERSION_OFF 20u
#define META_VERSION     1u
#define META_PSIZE_OFF   40u
#define META_TXNID_OFF   144u
#define META_BYTES       152u
#define META_PAGE_MAX    65536u

struct hw__flusher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t kick;              /* to the thread: a commit to flush, or stop */
	pthread_cond_t done;              /* from it: flushed moved on, or it failed */
	uint64_t want_id, want_lsn;       /* the last commit made, and its head's LSN */
	uint64_t flushed_id, flushed_lsn; /* the last one flushed and recorded */
	int failed;                       /* the store's failure, once a flush failed */
	void (*fail_cb)(void *arg);       /* hw_store_on_failure */
	void *fail_arg;
	bool stopping;
	int data_fd; /* data.mdb, flushed only by the thread (one file, one error report) */
	int lock_fd; /* DIR/store.flushed, flocked */
	uint64_t ino;
};

static void path_of(const char *dir, const char *name, char *buf)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name); /* fits: env_open checked data.mdb's */
}

/* ---- the record ------------------------------------------------------------------ */

int hw_store_record_put(int fd, uint8_t *rec, size_t len)
{
	crypto_generichash(rec + len - 8, 8, rec, len - 8, NULL, 0);
	ssize_t put = pwrite(fd, rec, len, 0);
	if (put != (ssize_t)len)
		return put < 0 ? -errno : -EIO;
	return fdatasync(fd) == 0 ? 0 : -errno;
}

bool hw_store_record_sealed(const uint8_t *rec, size_t len)
{
	uint8_t check[8];
	crypto_generichash(check, sizeof check, rec, len - 8, NULL, 0);
	return memcmp(check, rec + len - 8, sizeof check) == 0;
}

/* Read fd's record of data.mdb (inode ino): 1 with *txnid, 0 when there is none that
 * counts (empty, torn, another file's), or -errno. */
static int record_read(int fd, uint64_t ino, uint64_t *txnid)
{
	uint8_t rec[RECORD_BYTES];
	ssize_t n = pread(fd, rec, sizeof rec, 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof rec || memcmp(rec, record_magic, 8) != 0)
		return 0;
	if (!hw_store_record_sealed(rec, sizeof rec) || hw_get_u64(rec + 16) != ino)
		return 0;
	*txnid = hw_get_u64(rec + 8);
	return 1;
}

static int record_write(int fd, uint64_t ino, uint64_t txnid)
{
	uint8_t rec[RECORD_BYTES];
	memcpy(rec, record_magic, 8);
	hw_put_u64(rec + 8, txnid);
	hw_put_u64(rec + 16, ino);
	return -hw_store_record_put(fd, rec, sizeof rec);
}

/* ---- recovery: the meta pages -------------------------------------------------------- */

struct meta {
	uint8_t *page;
	uint64_t txnid;
};

/* Read LMDB's two meta pages of fd into buf (2 x META_PAGE_MAX): 0, HW_EFORMAT when they
 * are not LMDB 0.9's, or -errno. *psize gets the page size. */
static int metas_read(int fd, uint8_t *buf, struct meta m[2], uint32_t *psize)
{
	if (pread(fd, buf, META_BYTES, 0) != (ssize_t)META_BYTES)
		return HW_EFORMAT;
	*psize = hw_get_u32(buf + META_PSIZE_OFF);
	if (*psize < 512 || *psize > META_PAGE_MAX || (*psize & (*psize - 1)) != 0)
		return HW_EFORMAT;
	for (unsigned i = 0; i < 2; i++) {
		m[i].page = buf + (size_t)i * META_PAGE_MAX;
		ssize_t n = pread(fd, m[i].page, *psize, (off_t)i * *psize);
		if (n < 0)
			return -errno;
		const uint8_t *p = m[i].page;
		if (n != (ssize_t)*psize || !(hw_get_u16(p + META_FLAGS_OFF) & META_P_META) ||
		    hw_get_u32(p + META_MAGIC_OFF) != META_MAGIC ||
		    hw_get_u32(p + META_VERSION_OFF) != META_VERSION)
			return HW_EFORMAT;
		m[i].txnid = hw_get_u64(p + META_TXNID_OFF);
	}
	return 0;
}

static void log_roll(const char *dir, const char *event, uint64_t newest, uint64_t recorded, int rc)
{
	char shown[HW_LOG_ESCAPED_CHARS(PATH_MAX)];
	hw_log(event, "dir=%s txn=%" PRIu64 " recorded=%" PRIu64 " code=%s",
	       hw_log_escaped(dir, shown, sizeof shown), newest, recorded, hw_errname(rc));
}

/* Whether some process (this one too) has dir's LMDB environment open: LMDB holds a
 * lock on lock.mdb's first byte while it does (mdb.c, mdb_env_excl_lock). Then the
 * machine has not crashed since that open, whose own roll back (or a keeper's) came
 * first: the newest commit is whole in the page cache (a process killed mid-commit wrote
 * its meta page last). Rolled back under it, the file would change under its open
 * transactions, and LMDB's last transaction id, kept in lock.mdb, would name a commit
 * the file no longer has. (The open's descriptor closed drops this process's locks on
 * the file, as any second open of one environment in a process does: lmdb.h.) */
static bool env_in_use(const char *dir)
{
	char path[PATH_MAX];
	path_of(dir, "lock.mdb", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
	bool used = fcntl(fd, F_OFD_GETLK, &l) == 0 && l.l_type != F_UNLCK;
	close(fd);
	return used;
}

/* Make data.mdb (fd) the recorded commit again when a crash left the commit after it
 * unflushed: its meta page becomes a copy of the recorded one's (not while a process has
 * the store open: env_in_use). 0, HW_ECORRUPT (the record names a commit the file no
 * longer has), HW_EUNFLUSHED (it must roll back and fd is not writable: a read-only
 * mount; nothing written), or another error. */
static int metas_roll_back(const char *dir, int fd, bool writable, uint64_t recorded)
{
	uint8_t *buf = malloc(2 * META_PAGE_MAX);
	if (buf == NULL)
		return HW_ENOMEM;
	struct meta m[2];
	uint32_t psize;
	int rc = metas_read(fd, buf, m, &psize);
	unsigned newer = m[1].txnid > m[0].txnid;
	uint64_t newest = rc == 0 ? m[newer].txnid : 0;
	if (rc == 0 && newest == recorded + 1 && env_in_use(dir)) {
		log_roll(dir, "store_roll_back_skipped", newest, recorded, 0);
	} else if (rc == 0 && newest == recorded + 1 && m[!newer].txnid == recorded && !writable) {
		rc = HW_EUNFLUSHED; /* a writable open rolls it back */
		log_roll(dir, "store_roll_back_needed", newest, recorded, rc);
	} else if (rc == 0 && newest == recorded + 1 && m[!newer].txnid == recorded) {
		hw_put_u64(m[!newer].page, newer); /* the page's own number */
		if (pwrite(fd, m[!newer].page, psize, (off_t)newer * psize) != (ssize_t)psize ||
		    fdatasync(fd) != 0)
			rc = errno ? -errno : -EIO;
		log_roll(dir, "store_rolled_back", newest, recorded, rc);
	} else if (rc == 0 && (newest < recorded || newest == recorded + 1)) {
		/* The recorded commit was flushed: a file without it lost flushed pages. (Past
		 * recorded + 1: commits of an open that flushed its own, LMDB's default.) */
		log_roll(dir, "store_flushed_lost", newest, recorded, HW_ECORRUPT);
		rc = HW_ECORRUPT;
	}
	free(buf);
	return rc;
}

static int file_ino(const char *dir, uint64_t *ino)
{
	char path[PATH_MAX];
	struct stat st;
	path_of(dir, "data.mdb", path);
	if (stat(path, &st) != 0)
		return -errno;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

/* With the record's lock held: roll data.mdb back to the recorded commit if need be. */
static int recover_locked(const char *dir, int lock_fd)
{
	uint64_t ino = 0, recorded = 0;
	int rc = file_ino(dir, &ino);
	if (rc == 0)
		rc = record_read(lock_fd, ino, &recorded);
	if (rc <= 0)
		return rc;
	char path[PATH_MAX];
	path_of(dir, "data.mdb", path);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	bool writable = fd >= 0;
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC); /* enough unless it must roll back */
	if (fd < 0)
		return -errno;
	rc = metas_roll_back(dir, fd, writable, recorded);
	close(fd);
	return rc;
}

/* A reader that found no writer keeps the record's lock while it rolls back (a moment):
 * the open that would keep the store tries again meanwhile, up to about a second, before
 * it says the store is another's. */
#define KEEP_LOCK_TRIES   20
#define KEEP_LOCK_WAIT_US 50000

static bool lock_patiently(int fd, int tries)
{
	for (int i = 0; i < tries; i++) {
		if (i > 0)
			usleep(KEEP_LOCK_WAIT_US);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
	}
	return false;
}

int hw__flush_recover(const char *dir, enum hw__flush_open how, int *lock_out)
{
	*lock_out = -1;
	char path[PATH_MAX];
	path_of(dir, RECORD_NAME, path);
	int fd = open(path,
		      how == HW__FLUSH_KEEP ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC,
		      0600);
	if (fd < 0)
		return how == HW__FLUSH_KEEP || errno != ENOENT ? -errno : 0;
	if (!lock_patiently(fd, how == HW__FLUSH_KEEP ? KEEP_LOCK_TRIES : 1)) {
		/* A store in use: its writer keeps it whole. Only one writer keeps it. */
		int rc = how == HW__FLUSH_KEEP ? HW_EBUSY : 0;
		close(fd);
		return rc;
	}
	int rc = recover_locked(dir, fd);
	if (rc == 0 && how == HW__FLUSH_WRITE) {
		/* This open's commits flush themselves: an older record must not roll one of
		 * them back at the next open. */
		rc = unlink(path) == 0 ? hw_fs_sync(dir) : -errno;
	}
	if (rc == 0 && how == HW__FLUSH_KEEP)
		*lock_out = fd;
	else
		close(fd); /* and its lock */
	return rc;
}

/* ---- the thread ---------------------------------------------------------------------- */

/* Flush data.mdb and record txnid: 0 or an errno. */
static int flush_one(struct hw_store *s, struct hw__flusher *f, uint64_t txnid)
{
	if (hw_fault_tick(s->opts.sync_fault))
		return EIO;
	if (fdatasync(f->data_fd) != 0)
		return errno;
	return record_write(f->lock_fd, f->ino, txnid);
}

static void *flusher_main(void *arg)
{
	struct hw_store *s = arg;
	struct hw__flusher *f = s->fl;
	pthread_setname_np(pthread_self(), "hw-store-sync"); /* top -H, perf */
	pthread_mutex_lock(&f->mu);
	for (;;) {
		while (f->want_id == f->flushed_id && !f->stopping && f->failed == 0)
			pthread_cond_wait(&f->kick, &f->mu);
		if (f->failed != 0 || f->want_id == f->flushed_id)
			break;
		uint64_t id = f->want_id, lsn = f->want_lsn;
		pthread_mutex_unlock(&f->mu);
		int rc = flush_one(s, f, id);
		pthread_mutex_lock(&f->mu);
		if (rc != 0) {
			f->failed = hw__store_fail(s, rc);
			if (f->fail_cb != NULL)
				f->fail_cb(f->fail_arg); /* under mu: hw_store_on_failure waits */
		} else {
			f->flushed_id = id;
			f->flushed_lsn = lsn;
		}
		pthread_cond_broadcast(&f->done);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* Ask for commit txnid's flush; h: the head it took the store to (NULL: the one before).
 * f->mu held. Two threads commit (the writer; the loop, a meta value) and each asks once
 * its commit is made, so a later commit may have asked first, or been flushed: it holds
 * this one, which asks for nothing then. Asked back to an older commit, the thread would
 * record it again, under the newer one (a crash then rolled that back), and a wait for
 * the newer one would wait for good. */
static void flush_ask(struct hw__flusher *f, uint64_t txnid, const struct hw_head *h)
{
	if (h != NULL) /* a later commit has it too: the writer alone moves the head */
		f->want_lsn = h->lsn;
	if (f->want_id < txnid) {
		f->want_id = txnid;
		pthread_cond_signal(&f->kick);
	}
}

/* Wait until commit txnid is flushed (asking for it): 0 or the store's failure. f->mu
 * held. */
static int flushed_wait(struct hw__flusher *f, uint64_t txnid)
{
	flush_ask(f, txnid, NULL); /* committed elsewhere than hw__store_txn_commit */
	while (f->flushed_id < txnid && f->failed == 0)
		pthread_cond_wait(&f->done, &f->mu);
	return f->failed;
}

/* The newest commit's id, from its meta page in the map: on the writer's thread (which
 * alone grows the map) or under the map lock. */
static uint64_t last_txnid(const struct hw_store *s)
{
	MDB_envinfo info;
	return mdb_env_info(s->env, &info) == 0 ? (uint64_t)info.me_last_txnid : 0;
}

static void flusher_free(struct hw__flusher *f)
{
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->kick);
	pthread_cond_destroy(&f->done);
	close(f->data_fd);
	close(f->lock_fd); /* and its lock */
	free(f);
}

int hw__flusher_start(struct hw_store *s, int lock_fd)
{
	struct hw__flusher *f = calloc(1, sizeof *f);
	if (f == NULL)
		return HW_ENOMEM;
	f->lock_fd = lock_fd;
	char path[PATH_MAX];
	path_of(s->dir, "data.mdb", path);
	f->data_fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = f->data_fd < 0 ? -errno : file_ino(s->dir, &f->ino);
	/* What LMDB holds now is flushed and recorded before the first commit that is not:
	 * the record's file itself too, made by this open perhaps. */
	uint64_t id = last_txnid(s);
	if (rc == 0)
		rc = fdatasync(f->data_fd) == 0 ? -record_write(lock_fd, f->ino, id) : -errno;
	if (rc == 0)
		rc = hw_fs_sync(s->dir);
	if (rc != 0) {
		if (f->data_fd >= 0)
			close(f->data_fd);
		close(lock_fd);
		free(f);
		return rc;
	}
	f->want_id = f->flushed_id = id;
	f->want_lsn = f->flushed_lsn = s->head.lsn;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->kick, NULL);
	pthread_cond_init(&f->done, NULL);
	s->fl = f;
	if (pthread_create(&f->thread, NULL, flusher_main, s) != 0) {
		s->fl = NULL;
		flusher_free(f);
		return HW_ENOMEM;
	}
	return 0;
}

void hw__flusher_stop(struct hw_store *s)
{
	struct hw__flusher *f = s->fl;
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->stopping = true; /* after the last commit's flush */
	pthread_cond_signal(&f->kick);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	s->fl = NULL;
	if (f->failed == 0) {
		/* Every commit is flushed: nothing for the next open to roll back, and nothing
		 * to take from a commit made meanwhile by an open that flushes its own (an LMDB
		 * tool on a stopped node's store). */
		char path[PATH_MAX];
		path_of(s->dir, RECORD_NAME, path);
		if (unlink(path) == 0)
			hw_fs_sync(s->dir);
	}
	flusher_free(f);
}

int hw__store_txn_commit(struct hw_store *s, MDB_txn *txn, const struct hw_head *h)
{
	struct hw__flusher *f = s->fl;
	if (f == NULL)
		return mdb_txn_commit(txn);
	uint64_t id = (uint64_t)mdb_txn_id(txn);
	pthread_mutex_lock(&f->mu);
	int rc = flushed_wait(f, id - 1); /* at most one commit unflushed (top of file) */
	pthread_mutex_unlock(&f->mu);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0 || last_txnid(s) < id) /* a transaction that wrote nothing: no commit, */
		return rc;                 /* and the next one takes its id */
	pthread_mutex_lock(&f->mu);
	flush_ask(f, id, h);
	rc = h != NULL ? 0 : flushed_wait(f, id);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

int hw__store_flush_all(struct hw_store *s)
{
	struct hw__flusher *f = s->fl;
	if (f == NULL) /* commits flush themselves (LMDB's default), or never (scratch) */
		return 0;
	pthread_mutex_lock(&f->mu);
	int rc = flushed_wait(f, last_txnid(s));
	pthread_mutex_unlock(&f->mu);
	return rc;
}

int hw_store_flushed(struct hw_store *s, uint64_t *lsn)
{
	struct hw__flusher *f = s->fl;
	if (f == NULL) {
		*lsn = s->head.lsn; /* the writing thread's: every commit was flushed */
		return s->failed;
	}
	pthread_mutex_lock(&f->mu);
	*lsn = f->flushed_lsn;
	int rc = f->failed;
	pthread_mutex_unlock(&f->mu);
	return rc != 0 ? rc : s->failed;
}

void hw_store_on_failure(struct hw_store *s, void (*cb)(void *arg), void *arg)
{
	struct hw__flusher *f = s->fl;
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->fail_cb = cb;
	f->fail_arg = arg;
	pthread_mutex_unlock(&f->mu);
}
