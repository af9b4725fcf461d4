/* store.c: the LMDB environment of a node: open, group-commit append of records (of
 * entries: store_append.c), head, digest (replica/store.h). */
#include "replica/store_int.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/reject.h"
#include "replica/apply.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "replica/state.h"
#include "replica/validate.h"

#define STORE_MAXDBS    16u
#define META_HEAD_BYTES (8u + 8u + 8u + HW_HASH_BYTES)
/* The most a prepared batch's entries take. */
#define BATCH_ENTRY_BYTES_MAX \
	(HW_BATCH_BYTES_MAX + (size_t)HW_BATCH_RECORDS_MAX * HW_ENTRY_HEADER_BYTES)

/* Order matters: it is the order the digest walks the replicated tables in. */
const struct hw__table hw__tables[HW__TABLES_COUNT] = {
	{"containers", offsetof(struct hw_tables, containers), 1},
	{"slots", offsetof(struct hw_tables, slots), 1},
	{"holds", offsetof(struct hw_tables, holds), 1},
	{"ids", offsetof(struct hw_tables, ids), 1},
	{"kv", offsetof(struct hw_tables, kv), 1},
	{"vessels", offsetof(struct hw_tables, vessels), 1},
	{"wis", offsetof(struct hw_tables, wis), 1},
	{"audit", offsetof(struct hw_tables, audit), 1},
	{"log", offsetof(struct hw_tables, log), 0},
	{"meta", offsetof(struct hw_tables, meta), 0},
	{"quarantine", offsetof(struct hw_tables, quarantine), 0},
	{"drills", offsetof(struct hw_tables, drills), 0},
};
_Static_assert(HW__TABLES_COUNT == sizeof(struct hw_tables) / sizeof(MDB_dbi),
	       "every table is opened");
_Static_assert(HW__TABLES_COUNT <= STORE_MAXDBS, "room for every table");

int hw_mdb_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return HW_ENOTFOUND;
	case MDB_MAP_FULL:
	case ENOSPC:
		return HW_ESTORE_FULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		return HW_ECORRUPT;
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return HW_EFORMAT;
	case ENOMEM:
		return HW_ENOMEM;
	default:
		return rc > 0 ? -rc : HW_ESTORE_FAILED;
	}
}

void hw_lsn_key(uint64_t lsn, uint8_t key[8])
{
	hw_put_be64(key, lsn);
}

uint64_t hw_lsn_from_key(const MDB_val *key)
{
	return key->mv_size == 8 ? hw_get_be64(key->mv_data) : 0;
}

int hw__store_txn_begin(struct hw_store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);
	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return rc;
}

/* A read transaction for any thread: held under the map lock so the writer never grows
 * the map under it. Pair with read_end(). */
int hw__store_read_begin(struct hw_store *s, MDB_txn **txn)
{
	pthread_rwlock_rdlock(&s->map_lock);
	int rc = hw__store_txn_begin(s, MDB_RDONLY, txn);
	if (rc != 0)
		pthread_rwlock_unlock(&s->map_lock);
	return hw_mdb_err(rc);
}

void hw__store_read_end(struct hw_store *s, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->map_lock);
}

int hw__store_walk(struct hw_store *s, MDB_dbi dbi, MDB_cursor_op first, MDB_cursor_op next,
		   uint64_t entries_max, hw__store_visit_fn *visit, void *arg)
{
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	MDB_cursor *cur;
	rc = hw_mdb_err(mdb_cursor_open(txn, dbi, &cur));
	if (rc != 0)
		goto out_txn;
	MDB_val k, v;
	MDB_cursor_op op = first;
	int mrc = 0;
	for (uint64_t seen = 0; seen < entries_max && (mrc = mdb_cursor_get(cur, &k, &v, op)) == 0;
	     seen++) {
		op = next;
		rc = visit(arg, &k, &v);
		if (rc != 0)
			break;
	}
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = hw_mdb_err(mrc);
	mdb_cursor_close(cur);
out_txn:
	hw__store_read_end(s, txn);
	return rc;
}

static int open_tables(struct hw_store *s, MDB_txn *txn, unsigned flags)
{
	for (size_t i = 0; i < HW__TABLES_COUNT; i++) {
		int rc = mdb_dbi_open(txn, hw__tables[i].name, flags, hw__table_dbi(&s->t, i));
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void head_encode(const struct hw_head *h, uint8_t out[META_HEAD_BYTES])
{
	hw_put_u64(out, h->lsn);
	hw_put_u64(out + 8, h->epoch);
	hw_put_u64(out + 16, (uint64_t)h->time_ms);
	memcpy(out + 24, h->hash, HW_HASH_BYTES);
}

static void head_decode(const uint8_t *p, struct hw_head *h)
{
	h->lsn = hw_get_u64(p);
	h->epoch = hw_get_u64(p + 8);
	h->time_ms = (int64_t)hw_get_u64(p + 16);
	memcpy(h->hash, p + 24, HW_HASH_BYTES);
}

int hw__store_head_txn(struct hw_store *s, MDB_txn *txn, struct hw_head *h)
{
	MDB_val k = hw_mdb_val("head", 4), v;
	int rc = mdb_get(txn, s->t.meta, &k, &v);
	if (rc != 0 || v.mv_size != META_HEAD_BYTES)
		return rc == 0 || rc == MDB_NOTFOUND ? HW_EFORMAT : hw_mdb_err(rc);
	head_decode(v.mv_data, h);
	return 0;
}

int hw__store_base_txn(struct hw_store *s, MDB_txn *txn, struct hw_head *h)
{
	MDB_val k = hw_mdb_val("base", 4), v;
	memset(h, 0, sizeof *h);
	int rc = mdb_get(txn, s->t.meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return hw_mdb_err(rc);
	if (v.mv_size != META_HEAD_BYTES)
		return HW_ECORRUPT;
	head_decode(v.mv_data, h);
	return 0;
}

/* The head, the base and *format (this build's, or an older one migrate() takes). */
static int meta_read(struct hw_store *s, MDB_txn *txn, unsigned *format)
{
	MDB_val k = hw_mdb_val("format", 6), v;
	int rc = mdb_get(txn, s->t.meta, &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? HW_EFORMAT : hw_mdb_err(rc);
	*format = v.mv_size == 4 ? *(uint8_t *)v.mv_data : 0;
	if (*format < HW__STORE_FMT_QLSN || *format > HW__STORE_FORMAT)
		return HW_EFORMAT;
	rc = hw__store_head_txn(s, txn, &s->head);
	if (rc == 0)
		rc = hw__store_base_txn(s, txn, &s->base);
	return rc != 0 ? rc : hw_mdb_err(hw__store_stale_read(s, txn));
}

int hw__store_meta_write_pos(struct hw_store *s, MDB_txn *txn, const char *key,
			     const struct hw_head *h)
{
	uint8_t buf[META_HEAD_BYTES];
	head_encode(h, buf);
	MDB_val k = hw_mdb_val(key, strlen(key)), v = hw_mdb_val(buf, sizeof buf);
	return mdb_put(txn, s->t.meta, &k, &v, 0);
}

static int meta_write_head(struct hw_store *s, MDB_txn *txn, const struct hw_head *h)
{
	return hw__store_meta_write_pos(s, txn, "head", h);
}

static int format_write(struct hw_store *s, MDB_txn *txn)
{
	uint8_t format[4] = {HW__STORE_FORMAT, 0, 0, 0};
	MDB_val k = hw_mdb_val("format", 6), v = hw_mdb_val(format, sizeof format);
	return mdb_put(txn, s->t.meta, &k, &v, 0);
}

/* The data file must hold every page its meta page counts: LMDB maps the file and would
 * read past the end of a truncated one (SIGBUS), not report it. */
static int size_check(MDB_env *env)
{
	MDB_envinfo info;
	MDB_stat st;
	mdb_filehandle_t fd;
	struct stat fs;
	int rc = mdb_env_info(env, &info);
	if (rc == 0)
		rc = mdb_env_stat(env, &st);
	if (rc == 0)
		rc = mdb_env_get_fd(env, &fd);
	if (rc != 0)
		return hw_mdb_err(rc);
	if (fstat(fd, &fs) != 0)
		return -errno;
	return (uint64_t)fs.st_size < ((uint64_t)info.me_last_pgno + 1) * st.ms_psize ? HW_ECORRUPT
										      : 0;
}

static hw_store_assert_handler *assert_handler;

void hw_store_assert_handle(hw_store_assert_handler *h)
{
	assert_handler = h;
}

static void lmdb_asserted(MDB_env *env, const char *msg)
{
	(void)env;
	if (assert_handler != NULL)
		assert_handler(msg);
}

void hw__store_env_asserts(MDB_env *env)
{
	mdb_env_set_assert(env, lmdb_asserted); /* fails only for a NULL env */
}

/* LMDB's lock file for its default 126 readers (measured: 8 KiB). */
#define LOCK_BYTES 8192

/* Give dir's lock.mdb its blocks before LMDB maps it: LMDB makes it by ftruncate (sparse)
 * and writes it through the map, so on a full file system its first write to a page with
 * no block was a SIGBUS, not an error. 0, or -ENOSPC (-errno) when there is no room. A
 * larger file (more readers) keeps its size; blocks it has are left as they are. */
static int lock_room(const char *dir)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/lock.mdb", dir) >= (int)sizeof path)
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = posix_fallocate(fd, 0, LOCK_BYTES);
	close(fd);
	return -rc;
}

static int env_open(const char *dir, uint64_t map_bytes, unsigned flags, MDB_env **out)
{
	if (!(flags & MDB_RDONLY)) {
		int rc = lock_room(dir);
		if (rc != 0)
			return rc;
	}
	MDB_env *env;
	int rc = mdb_env_create(&env);
	if (rc != 0)
		return hw_mdb_err(rc);
	hw__store_env_asserts(env);
	rc = mdb_env_set_maxdbs(env, STORE_MAXDBS);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, map_bytes);
	if (rc == 0)
		rc = mdb_env_open(env, dir, flags | MDB_NOTLS, 0600);
	if (rc != 0) {
		mdb_env_close(env);
		return rc == ENOENT ? HW_EFORMAT : hw_mdb_err(rc);
	}
	rc = size_check(env);
	if (rc != 0) {
		mdb_env_close(env);
		return rc;
	}
	*out = env;
	return 0;
}

/* 1 when dir holds a data.mdb, 0 when dir is a directory without one, or -errno: a dir
 * that is missing (-ENOENT), not a directory or cannot be searched (-EACCES) is said as
 * it is, not as a directory that holds no store. */
static int data_file_exists(const char *dir)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path)
		return -ENAMETOOLONG;
	if (access(path, F_OK) == 0)
		return 1;
	if (errno != ENOENT)
		return -errno;
	struct stat st;
	if (stat(dir, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* More than a new store's data.mdb takes: LMDB's two meta pages and the pages of its
 * first rows (measured: 16 KiB). */
#define STORE_NEW_BYTES (64u * 1024u)

/* rc, the code a store's creation in dir failed with, as the operator should read it:
 * LMDB reports a write cut short as EIO, whatever cut it; when dir's file system then
 * has less room left than a new store takes, that was a full disk, and says so. */
static int init_err(const char *dir, int rc)
{
	struct statvfs fs;
	if (rc == HW_ESTORE_FULL || (rc == -EIO && statvfs(dir, &fs) == 0 &&
				     (uint64_t)fs.f_bavail * fs.f_frsize < STORE_NEW_BYTES))
		return -ENOSPC;
	return rc;
}

/* The tables and meta of a new store, in the environment env_open made. */
static int init_tables(struct hw_store *s)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return hw_mdb_err(rc);
	rc = open_tables(s, txn, MDB_CREATE);
	if (rc == 0)
		rc = format_write(s, txn);
	if (rc == 0)
		rc = meta_write_head(s, txn, &s->head);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return hw_mdb_err(rc);
	}
	return hw_mdb_err(mdb_txn_commit(txn));
}

/* Remove what a failed hw_store_init made in dir (made: dir itself), so that nothing of
 * it reads as a store later (HW_EEXIST, HW_EFORMAT). */
static void init_undo(const char *dir, bool made)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/data.mdb", dir); /* fits: data_file_exists checked */
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	unlink(path);
	if (made)
		rmdir(dir);
}

int hw_store_init(const char *dir)
{
	bool made = mkdir(dir, 0700) == 0;
	if (!made && errno != EEXIST)
		return -errno;
	int exists = data_file_exists(dir);
	if (exists != 0)
		return exists > 0 ? HW_EEXIST : exists;
	struct hw_store s = {0};
	int rc = env_open(dir, HW_MAP_BYTES_INITIAL, 0, &s.env);
	if (rc == 0) {
		rc = init_tables(&s);
		mdb_env_close(s.env);
	}
	if (rc == 0)
		return 0;
	rc = init_err(dir, rc); /* before init_undo frees the room */
	init_undo(dir, made);
	return rc;
}

static int rebuild_txn(struct hw_store *s, MDB_txn *txn, uint64_t lsn, struct hw_head *h);

/* One try of migrate(): 0, or the LMDB error or refusal that stopped it. */
static int migrate_txn(struct hw_store *s, unsigned format)
{
	MDB_txn *txn;
	int rc = hw__store_txn_begin(s, 0, &txn);
	if (rc != 0)
		return rc;
	struct hw_head h;
	if (format == HW__STORE_FMT_QLSN)
		rc = hw__quarantine_rekey(s, txn);
	if (rc == 0)
		rc = rebuild_txn(s, txn, s->head.lsn, &h);
	if (rc == 0 && memcmp(h.hash, s->head.hash, HW_HASH_BYTES) != 0)
		rc = MDB_CORRUPTED;
	if (rc == 0)
		rc = format_write(s, txn);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = hw__store_txn_commit(s, txn, NULL);
	return rc != 0 || s->fl != NULL ? rc : mdb_env_sync(s->env, 1);
}

/* An older format becomes this one in one transaction, flushed, so a crash leaves the
 * store wholly in one format or the other:
 * - format 2 keyed the quarantine by LSN alone: its rows are rekeyed as rewind 1's. A
 *   writable handle must, before it adds a row: rewind 2's keys would sort among format
 *   2's (by their first 8 bytes), so the last row would no longer be the last rewind's
 *   (hw__quarantine_next);
 * - formats 2 and 3 kept places without their facility: the derived tables are rebuilt
 *   from the log as a standby replays it (apply.c "Replay", format 3's outcomes), which
 *   must then still start at entry 1 (HW_EFORMAT otherwise: such a store is replaced by
 *   a snapshot of a peer, or restored from a backup). The rebuild writes the tables
 *   anew beside the old ones: a full map grows and the migration starts again.
 * A log that no longer replays is HW_ECORRUPT (verify the store). A read-only handle
 * reads the store as it is (format 2's quarantine keys as rewind 1's, replica/rejoin.c). */
static int migrate(struct hw_store *s, unsigned format)
{
	if (s->base.lsn > 0)
		return HW_EFORMAT;
	for (;;) {
		int rc = migrate_txn(s, format);
		if (rc == 0)
			return 0;
		if (hw_is_reject(rc) || rc == HW_EIDEMPOTENCY || rc == MDB_CORRUPTED)
			return HW_ECORRUPT;
		if (!hw__store_batch_failed(s, rc))
			return s->failed;
	}
}

static int store_load(struct hw_store *s)
{
	MDB_txn *txn;
	unsigned format = 0;
	int rc = hw__store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc != 0)
		return hw_mdb_err(rc);
	rc = open_tables(s, txn, 0);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return HW_EFORMAT;
	}
	rc = rc != 0 ? hw_mdb_err(rc) : meta_read(s, txn, &format);
	if (rc == 0)
		rc = hw_mdb_err(mdb_txn_commit(txn)); /* keeps the dbi handles */
	else
		mdb_txn_abort(txn);
	s->format = s->opts.read_only ? format : HW__STORE_FORMAT; /* a writable open migrates */
	return rc == 0 && format != HW__STORE_FORMAT && !s->opts.read_only ? migrate(s, format)
									   : rc;
}

/* The entries a writable store keeps at most, allocated at open so that no batch
 * allocates (a failed allocation would stop the store for good): the held batches',
 * committed once they pass HW_STORE_HELD_BYTES (hw_store_held_full), and one batch
 * more. Pages never written cost no memory. */
static size_t replay_bytes(const struct hw_store_opts *o)
{
	return o->read_only ? 0 : HW_STORE_HELD_BYTES + BATCH_ENTRY_BYTES_MAX;
}

int hw_store_open(const char *dir, const struct hw_store_opts *opts, struct hw_store **out)
{
	/* libsodium picks its fastest BLAKE2b (AVX2 here: 2.1x fewer instructions per
	 * entry hash than the reference code it starts with) in sodium_init only. */
	if (sodium_init() < 0)
		return -EIO;
	int exists = data_file_exists(dir);
	if (exists <= 0)
		return exists < 0 ? exists : HW_EFORMAT;
	struct hw_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return HW_ENOMEM;
	if (opts != NULL)
		s->opts = *opts;
	s->map_bytes = s->opts.map_bytes ? s->opts.map_bytes : HW_MAP_BYTES_INITIAL;
	s->dir = strdup(dir);
	hw_arena_init(&s->arena, 256 * 1024, 0);
	pthread_rwlock_init(&s->map_lock, NULL);
	pthread_mutex_init(&s->head_mu, NULL);
	atomic_init(&s->pin, HW_STORE_PIN_NONE);
	int rc = HW_ENOMEM;
	s->replay_cap = replay_bytes(&s->opts);
	s->replay = s->replay_cap ? malloc(s->replay_cap) : NULL;
	if (s->dir == NULL || (s->replay_cap && s->replay == NULL))
		goto fail;
	/* A log_ahead store's commits are flushed by its flusher (store_flush.c). */
	unsigned flags = s->opts.read_only ? MDB_RDONLY | (s->opts.unlocked ? MDB_NOLOCK : 0)
			 : s->opts.scratch || s->opts.log_ahead ? MDB_NOSYNC
								: 0;
	int lock = -1;
	if (!s->opts.unlocked && !s->opts.scratch)
		rc = hw__flush_recover(dir,
				       s->opts.read_only   ? HW__FLUSH_READ
				       : s->opts.log_ahead ? HW__FLUSH_KEEP
							   : HW__FLUSH_WRITE,
				       &lock);
	else
		rc = 0;
	if (rc == 0)
		rc = env_open(dir, s->map_bytes, flags, &s->env);
	if (rc == 0 && lock >= 0)
		rc = hw__flusher_start(s, lock);
	else if (lock >= 0)
		close(lock);
	if (rc != 0)
		goto fail;
	int dead;
	mdb_reader_check(s->env, &dead);
	/* A copied or grown store may be mapped larger than asked: grow from what it is. */
	MDB_envinfo info;
	if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_bytes)
		s->map_bytes = info.me_mapsize;
	rc = store_load(s);
	if (rc != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	hw_store_close(s);
	return rc;
}

void hw_store_close(struct hw_store *s)
{
	if (s == NULL)
		return;
	if (s->txn != NULL)
		mdb_txn_abort(s->txn);
	hw__flusher_stop(s);
	if (s->env != NULL)
		mdb_env_close(s->env);
	hw_arena_fini(&s->arena);
	pthread_rwlock_destroy(&s->map_lock);
	pthread_mutex_destroy(&s->head_mu);
	free(s->replay);
	free(s->dir);
	free(s);
}

int hw_store_head(struct hw_store *s, struct hw_head *out)
{
	if (!s->opts.read_only) {
		pthread_mutex_lock(&s->head_mu); /* the only writer: the cache is exact */
		*out = s->head;
		pthread_mutex_unlock(&s->head_mu);
		return 0;
	}
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = hw__store_head_txn(s, txn, out);
	hw__store_read_end(s, txn);
	return rc;
}

const char *hw_store_dir(const struct hw_store *s)
{
	return s->dir;
}

/* ---- taking one record: the path both submit and append_entries share ---------- */

int hw__store_log_get(struct hw_store *s, MDB_txn *txn, uint64_t lsn, MDB_val *v)
{
	uint8_t key[8];
	hw_lsn_key(lsn, key);
	MDB_val k = hw_mdb_val(key, 8);
	return mdb_get(txn, s->t.log, &k, v);
}

int hw__store_entry_at(struct hw_store *s, MDB_txn *txn, uint64_t lsn, struct hw_entry *e)
{
	MDB_val v;
	int rc = hw__store_log_get(s, txn, lsn, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
	if (hw_entry_decode(v.mv_data, v.mv_size, e) != 0 || e->lsn != lsn)
		return MDB_CORRUPTED;
	return 0;
}

/* Result of claiming record_id in the ids table. */
enum id_seen { ID_NEW, ID_NONE, ID_SAME, ID_OTHER, ID_PRUNED };

/* Claim record_id for LSN t->lsn: one MDB_NOOVERWRITE put either adds it (ID_NEW; the
 * caller deletes it again if the record is then refused, so a refused record still
 * writes nothing) or hands back the LSN it was stored at, so the tree is walked once
 * per record and not twice (a get before apply, a put after). ID_NONE: record_id is not
 * 16 bytes, nothing is put and the validator refuses it.
 *
 * The ids table keeps only the LSN (8 bytes): on the rare record_id hit the record's
 * bytes are read back from its log entry and compared in full, which is exact and spares
 * a hash of every record. Within a batch the entry is already in txn: the log append
 * follows hw__store_take_record() before the next record is taken. */
static int id_claim(struct hw_store *s, MDB_txn *txn, const Tos__V1__Record *rec,
		    const struct hw__take *t, enum id_seen *seen, uint64_t *lsn)
{
	*seen = ID_NONE;
	if (rec->record_id.len != HW_RECORD_ID_BYTES)
		return 0;
	uint8_t idv[8];
	hw_lsn_key(t->lsn, idv);
	MDB_val k = hw_mdb_val(rec->record_id.data, rec->record_id.len);
	MDB_val v = hw_mdb_val(idv, sizeof idv);
	int rc = mdb_put(txn, s->t.ids, &k, &v, MDB_NOOVERWRITE);
	*seen = ID_NEW;
	if (rc != MDB_KEYEXIST)
		return rc;
	if (v.mv_size != 8) /* v is the stored value now (lmdb.h, MDB_NOOVERWRITE) */
		return MDB_CORRUPTED;
	*lsn = hw_lsn_from_key(&v);
	if (*lsn <= s->base.lsn) {
		*seen = ID_PRUNED; /* its entry, and so its bytes, are gone */
		return 0;
	}
	struct hw_entry e;
	rc = hw__store_entry_at(s, txn, *lsn, &e);
	if (rc != 0)
		return rc;
	bool same =
		e.record_len == t->len && (t->len == 0 || memcmp(e.record, t->data, t->len) == 0);
	*seen = same ? ID_SAME : ID_OTHER;
	return 0;
}

/* A retraction must name a record of the same tenant that the store holds [45]. When
 * that record's entry was pruned its tenant cannot be read: a primary refuses, and an
 * entry a primary made (trusted) was checked there while the entry still existed. */
static int retract_check(struct hw_store *s, MDB_txn *txn, const Tos__V1__Record *rec, bool trusted,
			 struct hw_reject *rej)
{
	if (rec->retracts.len == 0)
		return 0;
	/* Only a record_id's length names one, and validation's code says so; a key longer
	 * than LMDB's 511 bytes is not looked up (lmdb.h makes no promise for one). */
	if (rec->retracts.len != HW_RECORD_ID_BYTES)
		return hw_reject_set(rej, HW_ERANGE, "retracts", "%zu bytes, not %u",
				     rec->retracts.len, HW_RECORD_ID_BYTES);
	/* The record's own record_id is in ids already (id_claim) but names no stored one. */
	bool self = rec->retracts.len == rec->record_id.len &&
		    memcmp(rec->retracts.data, rec->record_id.data, rec->retracts.len) == 0;
	MDB_val k = hw_mdb_val(rec->retracts.data, rec->retracts.len), v;
	int rc = self ? MDB_NOTFOUND : mdb_get(txn, s->t.ids, &k, &v);
	if (rc == MDB_NOTFOUND)
		return hw_reject_set(rej, HW_ERETRACT, "retracts",
				     "retracted record_id is unknown");
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	uint64_t lsn = hw_lsn_from_key(&v);
	if (lsn <= s->base.lsn)
		return trusted ? 0
			       : hw_reject_set(rej, HW_ERETRACT, "retracts",
					       "retracted record (LSN %llu) is before the log's "
					       "base: its tenant cannot be checked",
					       (unsigned long long)lsn);
	struct hw_entry e;
	rc = hw__store_entry_at(s, txn, lsn,
				&e); /* our own log: damage there is a storage failure */
	if (rc != 0)
		return rc;
	Tos__V1__Record *old = tos__v1__record__unpack(NULL, e.record_len, e.record);
	if (old == NULL)
		return ENOMEM; /* its hash held: bytes the store took, so only memory failed */
	int same = strcmp(old->tenant_id, rec->tenant_id) == 0;
	tos__v1__record__free_unpacked(old, NULL);
	if (!same)
		return hw_reject_set(rej, HW_ERETRACT, "retracts",
				     "retracted record belongs to another tenant");
	return 0;
}

/* The checks and the apply of a record whose record_id was claimed: 0, a reject code
 * with rej filled, or an LMDB error. */
static int check_apply(struct hw_store *s, MDB_txn *txn, const struct hw__take *t,
		       const Tos__V1__Record *rec, struct hw_reject *rej)
{
	if (!t->trusted && !t->system && hw_record_is_system(rec))
		return hw_reject_set(rej, HW_ESYSTEM_RECORD, "payload",
				     "%s records are made by hawser, not submitted",
				     hw_record_kind(rec));
	/* hw_apply() and retract_check() are safe on a record validation would refuse. */
	int rc = t->validated ? 0 : hw_validate_decoded(rec, t->time_ms, &t->text, rej);
	if (rc == 0)
		rc = retract_check(s, txn, rec, t->trusted, rej);
	if (rc != 0)
		return rc;
	struct hw_apply_ctx c = {.txn = txn,
				 .t = &s->t,
				 .lsn = t->lsn,
				 .boxes = t->cur->boxes,
				 .wis = t->cur->wis,
				 .replay = t->trusted};
	return hw_apply(&c, rec, rej);
}

/* Whether hw__store_take_record's rc refused the record (nothing written): a reject
 * code, or the code it was to be refused with as new. */
static bool take_refused(const struct hw__take *t, int rc)
{
	return hw_is_reject(rc) || (rc != 0 && rc == t->refuse_new);
}

/* Decode, check and apply one record inside txn. Returns 0 (accepted, or t->dup), a
 * reject code with rej filled or t->refuse_new (nothing written: take_refused), or an
 * LMDB error (abort the txn). */
int hw__store_take_record(struct hw_store *s, MDB_txn *txn, struct hw__take *t,
			  struct hw_reject *rej)
{
	Tos__V1__Record *rec;
	/* One record's decode at a time: a 64 KiB record of many empty repeated fields
	 * decodes into megabytes, and a batch of 16 MiB of them must not add up. */
	hw_arena_reset(&s->arena);
	int rc = hw_record_decode_text(t->data, t->len, &s->arena, &rec, &t->text, rej);
	if (rc != 0)
		return rc == HW_ENOMEM ? ENOMEM : rc;
	enum id_seen seen;
	rc = id_claim(s, txn, rec, t, &seen, &t->dup_lsn);
	if (rc != 0)
		return rc;
	t->dup = seen == ID_SAME;
	if (seen == ID_SAME)
		return 0;
	if (seen == ID_OTHER)
		return hw_reject_set(rej, HW_EIDEMPOTENCY, "record_id",
				     "record_id was stored at LSN %llu with different bytes",
				     (unsigned long long)t->dup_lsn);
	if (seen == ID_PRUNED)
		return hw_reject_set(rej, HW_EIDEMPOTENCY, "record_id",
				     "record_id was stored at LSN %llu, before the log's base: "
				     "its bytes are no longer kept to compare",
				     (unsigned long long)t->dup_lsn);
	/* new (or without a record_id): no check can make it a duplicate */
	rc = t->refuse_new != 0 ? t->refuse_new : check_apply(s, txn, t, rec, rej);
	if (!take_refused(t, rc) || seen != ID_NEW)
		return rc;
	MDB_val k = hw_mdb_val(rec->record_id.data, rec->record_id.len);
	int del = mdb_del(txn, s->t.ids, &k, NULL); /* give the claim back */
	return del != 0 ? del : rc;
}

/* Append the entry at lsn through the transaction's log cursor. */
int hw__store_log_put(struct hw_store *s, MDB_cursor *log, uint64_t lsn, const uint8_t *entry,
		      size_t len)
{
	if (hw_fault_tick(s->opts.mapfull_fault))
		return MDB_MAP_FULL;
	uint8_t key[8];
	hw_lsn_key(lsn, key);
	MDB_val k = hw_mdb_val(key, 8), v = hw_mdb_val(entry, len);
	/* MDB_APPEND: the cheap path for ordered keys, and a free check that LSNs only grow
	 * (a smaller or equal key fails with MDB_KEYEXIST). */
	int rc = mdb_cursor_put(log, &k, &v, MDB_APPEND);
	HW_ASSERT(rc != MDB_KEYEXIST);
	return rc;
}

/* Commit txn, which already holds head h. Returns 0 or the LMDB error; the caller makes
 * a failure sticky (STYLE.md 5). */
int hw__store_commit(struct hw_store *s, MDB_txn *txn, const struct hw_head *h)
{
	int rc;
	if (hw_fault_tick(s->opts.commit_fault)) {
		mdb_txn_abort(txn);
		rc = EIO;
	} else if (hw_fault_tick(s->opts.commit_mapfull_fault)) {
		mdb_txn_abort(txn);
		rc = MDB_MAP_FULL;
	} else {
		rc = hw__store_txn_commit(s, txn, h); /* frees txn even on failure */
	}
	if (rc == 0) {
		pthread_mutex_lock(&s->head_mu);
		s->head = *h;
		pthread_mutex_unlock(&s->head_mu);
		hw__store_retain(s);
	}
	return rc;
}

/* LMDB reports a write that ran out of space as EIO when the write was short: ask the
 * file system, so an operator reads "full" and not "I/O error". */
static bool disk_full(const struct hw_store *s)
{
	uint64_t avail;
	return hw_fs_free(s->dir, &avail) == 0 && avail < HW_BATCH_BYTES_MAX + HW_ENTRY_BYTES_MAX;
}

int hw__store_batch_failed(struct hw_store *s, int rc)
{
	if (rc == MDB_MAP_FULL && s->map_bytes < HW_MAP_BYTES_MAX) {
		uint64_t want = s->map_bytes * 2;
		pthread_rwlock_wrlock(&s->map_lock);
		int grc = mdb_env_set_mapsize(s->env, want);
		pthread_rwlock_unlock(&s->map_lock);
		if (grc == 0) {
			s->map_bytes = want;
			return 1;
		}
		rc = grc;
	}
	hw__store_fail(s, rc);
	return 0;
}

int hw__store_fail(struct hw_store *s, int rc)
{
	int code = disk_full(s) ? HW_ESTORE_FULL : hw_mdb_err(rc);
	if (code == 0 || hw_is_reject(code))
		code = HW_ESTORE_FAILED;
	int none = 0;
	atomic_compare_exchange_strong(&s->failed, &none, code);
	return s->failed;
}

/* Open txn's cursors (hw__txn_cursors), once per write transaction and not per record
 * or batch; LMDB closes them when txn ends, also after a failure here. */
static int cursors_open(struct hw_store *s, MDB_txn *txn, struct hw__txn_cursors *cur)
{
	int rc = mdb_cursor_open(txn, s->t.containers, &cur->boxes);
	if (rc == 0)
		rc = mdb_cursor_open(txn, s->t.wis, &cur->wis);
	if (rc == 0)
		rc = mdb_cursor_open(txn, s->t.log, &cur->log);
	return rc;
}

/* Detach the open transaction (to commit it or abort it) and forget what it held. */
MDB_txn *hw__store_txn_take(struct hw_store *s)
{
	MDB_txn *txn = s->txn;
	s->txn = NULL;
	s->cur = (struct hw__txn_cursors){0};
	s->prepared = s->holding = false;
	s->replay_held = s->replay_len = 0;
	return txn;
}

/* Begin a write transaction with its cursor on containers, for the held batches' replay
 * or for a batch when nothing is held. */
int hw__store_txn_open(struct hw_store *s)
{
	int rc = hw__store_txn_begin(s, 0, &s->txn);
	if (rc != 0) {
		s->txn = NULL;
		return rc;
	}
	rc = cursors_open(s, s->txn, &s->cur);
	if (rc != 0)
		mdb_txn_abort(hw__store_txn_take(s));
	return rc;
}

/* Drop the batch under way (its writes are in the open transaction): abort the
 * transaction and take the held batches again into a new one. rc: why the batch failed,
 * or 0 when it is dropped on purpose (hw_store_abort, a refused entry), which leaves the
 * store as before it; a MAP_FULL grows the map first, any other failure is for good.
 * Returns 1 to retry the batch, else 0 (s->failed set on a failure; the held batches are
 * then lost to the store, not to the log in front of it, which replays them at the next
 * start). */
int hw__store_batch_undo(struct hw_store *s, int rc)
{
	mdb_txn_abort(s->txn);
	s->txn = NULL;
	s->cur = (struct hw__txn_cursors){0};
	s->prepared = false;
	s->replay_len = s->replay_held;
	int again = rc == 0 ? 0 : hw__store_batch_failed(s, rc);
	int rrc = s->failed == 0 && s->holding ? hw__store_replay_run(s) : 0;
	if (rrc != 0)
		hw__store_batch_failed(s, rrc == MDB_MAP_FULL ? EIO : rrc);
	if (s->failed != 0)
		hw__store_txn_take(s);
	return s->failed != 0 ? 0 : again;
}

/* Begin a batch: in the open transaction after the held batches, or in a new one. *h
 * gets the head the batch starts from. */
int hw__store_batch_begin(struct hw_store *s, struct hw_head *h)
{
	HW_ASSERT(!s->prepared);
	*h = s->holding ? s->held_head : s->head;
	hw_arena_reset(&s->arena);
	return s->txn != NULL ? 0 : hw__store_txn_open(s);
}

/* The batch ended at head h: it is the prepared one. */
int hw__store_batch_end(struct hw_store *s, uint64_t start_lsn, const struct hw_head *h)
{
	int rc = h->lsn != start_lsn ? meta_write_head(s, s->txn, h) : 0;
	if (rc == 0) {
		s->prepared = true;
		s->prepared_head = *h;
	}
	return rc;
}

/* Run one batch in the open (or a new) write transaction, its entries written after the
 * held ones in replay. Returns 0 or an error (its writes stay in s->txn:
 * hw__store_batch_undo). */
static int prepare_batch(struct hw_store *s, uint64_t epoch, int64_t now_ms,
			 const struct hw_submit *recs, size_t n, struct hw_result *res,
			 struct hw_batch *out)
{
	struct hw_head h;
	HW_ASSERT(s->replay_cap - s->replay_len >= BATCH_ENTRY_BYTES_MAX); /* replay_bytes() */
	int rc = hw__store_batch_begin(s, &h);
	if (rc != 0)
		return rc;
	const uint64_t start_lsn = h.lsn;
	*out = (struct hw_batch){.entries = s->replay + s->replay_len};
	for (size_t i = 0; i < n; i++) {
		struct hw__take t = {.data = recs[i].data,
				     .len = recs[i].len,
				     .lsn = h.lsn + 1,
				     .time_ms = now_ms,
				     .system = recs[i].system,
				     .refuse_new = recs[i].refuse_new,
				     .cur = &s->cur};
		memset(&res[i], 0, sizeof res[i]);
		rc = hw__store_take_record(s, s->txn, &t, &res[i].reject);
		if (take_refused(&t, rc)) {
			res[i].code = rc;
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		res[i].duplicate = t.dup;
		res[i].lsn = t.dup ? t.dup_lsn : t.lsn;
		if (t.dup)
			continue;
		struct hw_entry e;
		uint8_t *at = s->replay + s->replay_len;
		size_t len = hw_entry_encode(at, t.lsn, epoch, now_ms, h.hash, t.data,
					     (uint32_t)t.len, &e);
		rc = hw__store_log_put(s, s->cur.log, t.lsn, at, len);
		if (rc != 0)
			break;
		s->replay_len += len;
		out->len += len;
		h = (struct hw_head){.lsn = t.lsn, .epoch = epoch, .time_ms = now_ms};
		memcpy(h.hash, e.hash, HW_HASH_BYTES);
		out->first_lsn = out->first_lsn ? out->first_lsn : t.lsn;
	}
	if (rc == 0)
		rc = hw__store_batch_end(s, start_lsn, &h);
	out->last_lsn = out->first_lsn ? h.lsn : 0;
	return rc;
}

static size_t batch_bytes(const struct hw_submit *recs, size_t n)
{
	size_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += recs[i].len < HW_RECORD_BYTES_MAX ? recs[i].len : HW_RECORD_BYTES_MAX;
	return sum;
}

int hw_store_prepare(struct hw_store *s, uint64_t epoch, int64_t now_ms,
		     const struct hw_submit *recs, size_t n, struct hw_result *res,
		     struct hw_batch *out)
{
	HW_ASSERT(n <= HW_BATCH_RECORDS_MAX);
	HW_ASSERT(batch_bytes(recs, n) <= HW_BATCH_BYTES_MAX);
	HW_ASSERT(!s->prepared);
	if (s->failed != 0)
		return HW_ESTORE_FAILED;
	if (s->opts.read_only)
		return -EROFS;
	for (;;) {
		int rc = prepare_batch(s, epoch, now_ms, recs, n, res, out);
		if (rc == 0)
			return 0;
		if (!hw__store_batch_undo(s, rc))
			return s->failed;
	}
}

/* Commit the open transaction through head h: 0 or the sticky failure. A commit can
 * itself run out of map (LMDB saves its free list then): the map grows, everything the
 * transaction held is taken again from its entries into a new one (hw__store_replay_run,
 * which can run out too: it grows again), and that one commits. */
static int txn_commit(struct hw_store *s, const struct hw_head *h)
{
	struct hw_head target = *h;     /* h may be s->held_head, which hw__store_txn_take keeps */
	size_t entries = s->replay_len; /* the held batches' and the prepared one's */
	int rc = hw__store_commit(s, hw__store_txn_take(s), &target);
	while (rc == MDB_MAP_FULL && hw__store_batch_failed(s, rc) == 1) {
		s->replay_held = s->replay_len = entries;
		s->held_head = target;
		s->holding = true;
		rc = hw__store_replay_run(s);
		if (rc == 0)
			rc = hw__store_commit(s, hw__store_txn_take(s), &target);
	}
	if (rc != 0 && s->failed == 0)
		hw__store_batch_failed(s, rc);
	return rc == 0 ? 0 : s->failed;
}

void hw_store_hold(struct hw_store *s)
{
	HW_ASSERT(s->prepared);
	s->prepared = false;
	s->holding = true;
	s->held_head = s->prepared_head;
	s->replay_held = s->replay_len;
}

bool hw_store_held(const struct hw_store *s, uint64_t *entries)
{
	*entries = s->holding ? s->held_head.lsn - s->head.lsn : 0;
	return s->holding;
}

bool hw_store_held_full(const struct hw_store *s)
{
	return s->holding && (s->held_head.lsn - s->head.lsn >= HW_STORE_HELD_ENTRIES ||
			      s->replay_held >= HW_STORE_HELD_BYTES);
}

int hw_store_commit(struct hw_store *s)
{
	if (s->failed != 0) {
		if (s->txn != NULL) /* sticky: nothing more is committed (the log keeps it) */
			mdb_txn_abort(hw__store_txn_take(s));
		return HW_ESTORE_FAILED;
	}
	if (s->txn == NULL)
		return 0;
	return txn_commit(s, s->prepared ? &s->prepared_head : &s->held_head);
}

void hw_store_abort(struct hw_store *s)
{
	if (s->prepared)
		hw__store_batch_undo(s, 0); /* the held batches stay */
}

int hw_store_submit(struct hw_store *s, uint64_t epoch, int64_t now_ms,
		    const struct hw_submit *recs, size_t n, struct hw_result *res)
{
	struct hw_batch b;
	int rc = hw_store_prepare(s, epoch, now_ms, recs, n, res, &b);
	return rc != 0 ? rc : hw_store_commit(s);
}

int hw_store_failure(const struct hw_store *s)
{
	return s->failed;
}

int hw_store_sync(struct hw_store *s)
{
	if (s->failed != 0)
		return HW_ESTORE_FAILED;
	if (s->fl != NULL) /* the flusher's own failure is the store's */
		return hw__store_flush_all(s);
	int rc = hw_fault_tick(s->opts.sync_fault) ? EIO : mdb_env_sync(s->env, 1);
	return rc == 0 ? 0 : hw__store_fail(s, rc == MDB_MAP_FULL ? EIO : rc); /* never retried */
}

/* ---- retention: pruning the log after a base ---------------------------------------- */

int hw_store_base(struct hw_store *s, struct hw_head *out)
{
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = hw__store_base_txn(s, txn, out);
	hw__store_read_end(s, txn);
	return rc;
}

int hw_store_chain_id(struct hw_store *s, uint8_t out[HW_HASH_BYTES])
{
	MDB_txn *txn;
	memset(out, 0, HW_HASH_BYTES);
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	struct hw_entry e;
	MDB_val v;
	rc = hw__store_log_get(s, txn, 1, &v);
	if (rc == 0) {
		rc = hw_entry_decode(v.mv_data, v.mv_size, &e);
		if (rc == 0)
			memcpy(out, e.hash, HW_HASH_BYTES);
	} else if (rc == MDB_NOTFOUND) {
		/* Entry 1 pruned (meta "chain" holds its hash) or an empty store. */
		MDB_val ck = hw_mdb_val("chain", 5), cv;
		rc = mdb_get(txn, s->t.meta, &ck, &cv);
		if (rc == 0 && cv.mv_size == HW_HASH_BYTES)
			memcpy(out, cv.mv_data, HW_HASH_BYTES);
		rc = rc == MDB_NOTFOUND ? 0 : hw_mdb_err(rc);
	} else {
		rc = hw_mdb_err(rc);
	}
	hw__store_read_end(s, txn);
	return rc;
}

/* ---- node-local meta values ---------------------------------------------------- */

int hw_store_meta_put(struct hw_store *s, const char *key, const void *val, size_t len)
{
	HW_ASSERT(hw__store_meta_key_ok(key) && len <= HW_STORE_META_VAL_MAX);
	if (s->failed != 0)
		return HW_ESTORE_FAILED;
	/* The map lock as a reader: the writer never grows the map under this transaction. */
	pthread_rwlock_rdlock(&s->map_lock);
	MDB_txn *txn;
	int rc = hw__store_txn_begin(s, 0, &txn);
	if (rc == 0) {
		MDB_val k = hw_mdb_val(key, strlen(key)), v = hw_mdb_val(val, len);
		rc = mdb_put(txn, s->t.meta, &k, &v, 0);
		if (rc == 0)
			rc = hw__store_txn_commit(s, txn, NULL); /* flushed */
		else
			mdb_txn_abort(txn);
	}
	pthread_rwlock_unlock(&s->map_lock);
	if (rc != 0)
		hw__store_batch_failed(s,
				       rc == MDB_MAP_FULL ? EIO : rc); /* sticky, never retried */
	return rc == 0 ? 0 : s->failed;
}

/* ---- rewind (rejoin) ----------------------------------------------------------- */

/* Copy the log entry at lsn out of txn into *buf (grown as needed): a value read in a
 * write transaction is only valid until the next update in it (lmdb.h). */
static int entry_copy(struct hw_store *s, MDB_txn *txn, uint64_t lsn, uint8_t **buf,
		      size_t *cap, size_t *len)
{
	MDB_val v;
	int rc = hw__store_log_get(s, txn, lsn, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
	if (v.mv_size > *cap) {
		uint8_t *b = realloc(*buf, v.mv_size);
		if (b == NULL)
			return ENOMEM;
		*buf = b;
		*cap = v.mv_size;
	}
	memcpy(*buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return 0;
}

/* Move entry lsn from the log into the quarantine table as a row of rewind `rejoin`. */
static int quarantine_one(struct hw_store *s, MDB_txn *txn, uint64_t rejoin, uint64_t lsn,
			  const uint8_t *entry, size_t len, int64_t now_ms, const char *why)
{
	int rc = hw__quarantine_put(s, txn, rejoin, lsn, entry, len, now_ms, why);
	uint8_t key[8];
	hw_lsn_key(lsn, key);
	MDB_val k = hw_mdb_val(key, 8);
	return rc != 0 ? rc : mdb_del(txn, s->t.log, &k, NULL);
}

/* Empty the derived tables in txn and take entries 1..lsn of the log again; *h ends at
 * lsn's head. */
static int rebuild_txn(struct hw_store *s, MDB_txn *txn, uint64_t lsn, struct hw_head *h)
{
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < HW__TABLES_COUNT; i++)
		if (hw__tables[i].replicated)
			rc = mdb_drop(txn, *hw__table_dbi(&s->t, i), 0);
	struct hw_reject rej;
	struct hw__txn_cursors cur = {
		0}; /* opened after the drop, which unsets the table's cursors */
	*h = (struct hw_head){0};
	if (rc == 0)
		rc = cursors_open(s, txn, &cur);
	for (uint64_t l = 1; rc == 0 && l <= lsn; l++) {
		rc = entry_copy(s, txn, l, &buf, &cap, &len);
		hw_arena_reset(&s->arena);
		if (rc == 0) /* the state tables were emptied: the log's entries again */
			rc = hw__store_append_one(s, txn, &cur, h, buf, len, 0, &rej);
	}
	free(buf);
	return rc;
}

/* The whole rewind in txn: quarantine the suffix, empty the state, replay 1..lsn (a
 * pruned log cannot: the state is marked stale instead). */
static int rewind_txn(struct hw_store *s, MDB_txn *txn, uint64_t lsn, int64_t now_ms,
		      const char *why, struct hw_head *h)
{
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	uint64_t rejoin;
	int rc = hw__quarantine_next(s, txn, &rejoin);
	for (uint64_t l = s->head.lsn; rc == 0 && l > lsn; l--) {
		rc = entry_copy(s, txn, l, &buf, &cap, &len);
		if (rc == 0)
			rc = quarantine_one(s, txn, rejoin, l, buf, len, now_ms, why);
	}
	free(buf);
	if (rc == 0)
		rc = s->base.lsn > 0 ? hw__store_stale_put(s, txn, lsn, h)
				     : rebuild_txn(s, txn, lsn, h);
	if (rc == 0)
		rc = meta_write_head(s, txn, h);
	return rc;
}

int hw_store_rewind(struct hw_store *s, uint64_t lsn, int64_t now_ms, const char *why,
		    uint64_t *moved)
{
	HW_ASSERT(s->txn == NULL && strlen(why) <= HW_REWIND_WHY_MAX);
	if (s->failed != 0)
		return HW_ESTORE_FAILED;
	if (s->opts.read_only)
		return -EROFS;
	if (lsn > s->head.lsn)
		return HW_ERANGE;
	if (lsn < s->base.lsn)
		return HW_ENOTFOUND; /* its entry is gone: only a snapshot replaces the store */
	*moved = s->head.lsn - lsn;
	for (;;) {
		MDB_txn *txn = NULL;
		struct hw_head h;
		int rc = hw__store_txn_begin(s, 0, &txn);
		if (rc == 0)
			rc = rewind_txn(s, txn, lsn, now_ms, why, &h);
		if (rc == 0)
			rc = hw__store_commit(s, txn, &h);
		else if (txn != NULL)
			mdb_txn_abort(txn);
		if (rc == 0) /* the log in front is reset after this */
			rc = s->fl != NULL ? hw__store_flush_all(s) : mdb_env_sync(s->env, 1);
		s->stale = s->stale || (rc == 0 && s->base.lsn > 0);
		if (rc == 0)
			return 0;
		if (hw__store_entry_refused(rc) || rc == HW_EIDEMPOTENCY)
			return HW_ECORRUPT; /* our own log no longer replays: verify the store */
		if (!hw__store_batch_failed(s, rc))
			return s->failed;
	}
}
