/* backup.c: backups (a compacted snapshot plus the log after it, under a MANIFEST of
 * hashes: replica/backup.h); restoring one is in restore.c, and the replay both use in
 * replay.c.
 *
 * Backup directory layout:
 *   snapshot/data.mdb  mdb_env_copy2(MDB_CP_COMPACT) of the store, written to
 *                      snapshot.tmp/ first and renamed, so a crash leaves no half copy
 *   log.hwl            entries after the snapshot, each a 4-byte little-endian length
 *                      and the entry bytes (replica/entry.h); only its first log_bytes
 *                      count, so the tail of an interrupted incremental backup is ignored
 *   MANIFEST           text, key=value per line: format=1, chain_id (hash of entry 1),
 *                      snapshot_lsn, snapshot_hash, end_lsn, end_hash, snapshot_bytes,
 *                      snapshot_blake2b, log_bytes, log_blake2b; written to MANIFEST.tmp,
 *                      fsync'd and renamed: the MANIFEST is the commit point. */
#include "replica/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/assert.h"
#include "base/fs.h"
#include "replica/audit.h"
#include "replica/backup_int.h"
#include "replica/checkpoint.h"
#include "replica/entry.h"
#include "replica/snapshot.h"
#include "replica/store_int.h"

#define MANIFEST_FORMAT    1u
#define MANIFEST_BYTES_MAX 4096u /* the real one is under 700 bytes */
#define IO_CHUNK_BYTES     (1u << 20)
#define HEX_BYTES          (2u * HW_HASH_BYTES + 1u)
#define BACKUP_LOCK        ".backup-lock" /* in the backup directory while one writes */

/* ---- files ------------------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Hash up to max_bytes more of fd into st; *size grows by the bytes read. cb (may be NULL)
 * is asked after each chunk whether to go on (a poll, replica/verify.h): its non-zero
 * answer stops the hash and is returned. */
static int hash_fd(int fd, uint64_t max_bytes, crypto_generichash_state *st, uint64_t *size,
		   hw_progress_cb *cb, void *arg)
{
	uint8_t *buf = malloc(IO_CHUNK_BYTES);
	if (buf == NULL)
		return HW_ENOMEM;
	int rc = 0;
	uint64_t got = 0;
	while (got < max_bytes) {
		uint64_t left = max_bytes - got;
		ssize_t n = read(fd, buf, left < IO_CHUNK_BYTES ? (size_t)left : IO_CHUNK_BYTES);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		if (n > 0)
			crypto_generichash_update(st, buf, (unsigned long long)n);
		got += n > 0 ? (uint64_t)n : 0;
		if (cb != NULL && (rc = cb(arg, 0, 0)) != 0) /* a signal's EINTR asks too */
			break;
	}
	free(buf);
	*size += got;
	return rc;
}

static uint64_t file_bytes(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	if (hw__backup_path_join(path, dir, name) != 0 || stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size;
}

/* ---- MANIFEST ---------------------------------------------------------------------- */

enum field_kind { FIELD_U64, FIELD_HASH };

static const struct {
	const char *name;
	enum field_kind kind;
	size_t off;
} fields[] = {
	{"format", FIELD_U64, offsetof(struct manifest, format)},
	{"chain_id", FIELD_HASH, offsetof(struct manifest, chain_id)},
	{"snapshot_lsn", FIELD_U64, offsetof(struct manifest, snapshot_lsn)},
	{"snapshot_hash", FIELD_HASH, offsetof(struct manifest, snapshot_hash)},
	{"end_lsn", FIELD_U64, offsetof(struct manifest, end_lsn)},
	{"end_hash", FIELD_HASH, offsetof(struct manifest, end_hash)},
	{"snapshot_bytes", FIELD_U64, offsetof(struct manifest, snapshot_bytes)},
	{"snapshot_blake2b", FIELD_HASH, offsetof(struct manifest, snapshot_blake2b)},
	{"log_bytes", FIELD_U64, offsetof(struct manifest, log_bytes)},
	{"log_blake2b", FIELD_HASH, offsetof(struct manifest, log_blake2b)},
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])
_Static_assert(FIELD_COUNT <= 32, "seen-bits fit a uint32_t");

/* Render m as text into buf; returns its length. */
static size_t manifest_text(const struct manifest *m, char *buf, size_t cap)
{
	size_t len = 0;
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		const char *p = (const char *)m + fields[i].off;
		char val[HEX_BYTES];
		if (fields[i].kind == FIELD_U64) {
			uint64_t u;
			memcpy(&u, p, sizeof u);
			snprintf(val, sizeof val, "%" PRIu64, u);
		} else {
			sodium_bin2hex(val, sizeof val, (const uint8_t *)p, HW_HASH_BYTES);
		}
		int n = snprintf(buf + len, cap - len, "%s=%s\n", fields[i].name, val);
		HW_ASSERT(n > 0 && (size_t)n < cap - len);
		len += (size_t)n;
	}
	return len;
}

/* Write the MANIFEST atomically: MANIFEST.tmp, fsync, rename, fsync the directory. */
static int manifest_write(const char *dir, const struct manifest *m)
{
	char tmp[PATH_MAX], path[PATH_MAX], text[MANIFEST_BYTES_MAX];
	int rc = hw__backup_path_join(tmp, dir, "MANIFEST.tmp");
	if (rc == 0)
		rc = hw__backup_path_join(path, dir, "MANIFEST");
	if (rc != 0)
		return rc;
	size_t len = manifest_text(m, text, sizeof text);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, (const uint8_t *)text, len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0)
		rc = hw_fs_sync(dir);
	return rc;
}

/* Parse one "key=value" line into m, setting its bit in *seen. Unknown keys are skipped so
 * a later format can add some. */
static int manifest_line(char *line, struct manifest *m, uint32_t *seen, char *what)
{
	char *eq = strchr(line, '=');
	if (eq == NULL)
		return hw__backup_fail(what, HW_EBACKUP, "MANIFEST line \"%.40s\" is not key=value",
				       line);
	*eq = '\0';
	const char *val = eq + 1;
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		if (strcmp(line, fields[i].name) != 0)
			continue;
		char *p = (char *)m + fields[i].off;
		char *end = NULL;
		size_t bin_len = 0;
		bool ok;
		if (fields[i].kind == FIELD_U64) {
			errno = 0;
			uint64_t u = strtoull(val, &end, 10);
			ok = errno == 0 && end != val && *end == '\0';
			memcpy(p, &u, sizeof u);
		} else {
			ok = sodium_hex2bin((uint8_t *)p, HW_HASH_BYTES, val, strlen(val), NULL,
					    &bin_len, NULL) == 0 &&
			     bin_len == HW_HASH_BYTES;
		}
		if (!ok)
			return hw__backup_fail(what, HW_EBACKUP, "MANIFEST %s has a bad value",
					       line);
		*seen |= 1u << i;
	}
	return 0;
}

int hw__backup_manifest_read(const char *dir, struct manifest *m, char *what)
{
	char path[PATH_MAX], text[MANIFEST_BYTES_MAX + 1];
	int rc = hw__backup_path_join(path, dir, "MANIFEST");
	if (rc != 0)
		return rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && access(dir, F_OK) != 0)
			return -errno; /* no such directory: a wrong path, not a damaged backup */
		return e == ENOENT ? hw__backup_fail(what, HW_EBACKUP, "MANIFEST is missing") : -e;
	}
	ssize_t n = read(fd, text, MANIFEST_BYTES_MAX + 1);
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc != 0)
		return rc;
	if ((size_t)n > MANIFEST_BYTES_MAX)
		return hw__backup_fail(what, HW_EBACKUP, "MANIFEST is too large");
	text[n] = '\0';
	memset(m, 0, sizeof *m);
	uint32_t seen = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line != NULL && rc == 0;
	     line = strtok_r(NULL, "\n", &save))
		rc = manifest_line(line, m, &seen, what);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < FIELD_COUNT; i++) {
		if (!(seen & (1u << i)))
			return hw__backup_fail(what, HW_EBACKUP, "MANIFEST lacks %s",
					       fields[i].name);
	}
	if (m->format != MANIFEST_FORMAT)
		return hw__backup_fail(what, HW_EBACKUP, "MANIFEST format %" PRIu64 " is unknown",
				       m->format);
	if (m->end_lsn < m->snapshot_lsn)
		return hw__backup_fail(what, HW_EBACKUP, "MANIFEST end_lsn is before snapshot_lsn");
	return 0;
}

int hw__backup_snapshot_check(const char *dir, const struct manifest *m, char *snap, char *what,
			      hw_progress_cb *cb, void *arg)
{
	uint8_t h[HW_HASH_BYTES];
	uint64_t size = 0;
	char file[PATH_MAX];
	int rc = hw__backup_path_join(snap, dir, "snapshot");
	if (rc == 0)
		rc = hw__backup_path_join(file, snap, "data.mdb");
	int fd = rc == 0 ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (rc == 0 && fd < 0)
		rc = -errno;
	if (rc == -ENOENT)
		return hw__backup_fail(what, HW_EBACKUP, "snapshot/data.mdb is missing");
	if (rc != 0)
		return rc;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	rc = hash_fd(fd, UINT64_MAX, &st, &size, cb, arg);
	close(fd);
	crypto_generichash_final(&st, h, HW_HASH_BYTES);
	if (rc != 0)
		return rc;
	if (size != m->snapshot_bytes || memcmp(h, m->snapshot_blake2b, HW_HASH_BYTES) != 0)
		return hw__backup_fail(what, HW_EBACKUP,
				       "snapshot/data.mdb does not match its MANIFEST hash");
	return 0;
}

/* Hash the first m->log_bytes of fd (at its start) into st, begun by the caller, and
 * check them against m: HW_EBACKUP when the file is shorter or they differ. */
static int log_prefix_check(int fd, const struct manifest *m, crypto_generichash_state *st,
			    char *what)
{
	uint64_t size = 0;
	uint8_t h[HW_HASH_BYTES];
	int rc = hash_fd(fd, m->log_bytes, st, &size, NULL, NULL);
	if (rc == 0 && size < m->log_bytes)
		return hw__backup_fail(what, HW_EBACKUP,
				       "log.hwl is truncated: %" PRIu64 " of %" PRIu64 " bytes",
				       size, m->log_bytes);
	crypto_generichash_state copy = *st;
	crypto_generichash_final(&copy, h, HW_HASH_BYTES);
	if (rc == 0 && memcmp(h, m->log_blake2b, HW_HASH_BYTES) != 0)
		return hw__backup_fail(what, HW_EBACKUP,
				       "log.hwl does not match its MANIFEST hash");
	return rc;
}

int hw__backup_log_open(const char *dir, int flags, int *fd, char *what)
{
	char path[PATH_MAX];
	*fd = -1;
	int rc = hw__backup_path_join(path, dir, "log.hwl");
	if (rc != 0)
		return rc;
	*fd = open(path, flags | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT ? hw__backup_fail(what, HW_EBACKUP, "log.hwl is missing")
				       : -errno;
	return 0;
}

/* log.hwl under dir against m (log_prefix_check). */
static int log_check(const char *dir, const struct manifest *m, char *what)
{
	int fd;
	int rc = hw__backup_log_open(dir, O_RDONLY, &fd, what);
	if (rc != 0)
		return rc;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	rc = log_prefix_check(fd, m, &st, what);
	close(fd);
	return rc;
}

int hw_backup_check(const char *backup_dir, bool hashed, char *what)
{
	struct manifest m;
	int rc = hw__backup_manifest_read(backup_dir, &m, what);
	if (rc != 0)
		return rc;
	uint64_t snap = file_bytes(backup_dir, "snapshot/data.mdb"),
		 log = file_bytes(backup_dir, "log.hwl");
	if (snap != m.snapshot_bytes)
		return hw__backup_fail(what, HW_EBACKUP,
				       "snapshot/data.mdb is %" PRIu64
				       " bytes, MANIFEST says %" PRIu64,
				       snap, m.snapshot_bytes);
	if (log < m.log_bytes)
		return hw__backup_fail(what, HW_EBACKUP,
				       "log.hwl is %" PRIu64 " bytes, MANIFEST says %" PRIu64, log,
				       m.log_bytes);
	char snap_dir[PATH_MAX];
	if (hashed)
		rc = hw__backup_snapshot_check(backup_dir, &m, snap_dir, what, NULL, NULL);
	return rc == 0 && hashed ? log_check(backup_dir, &m, what) : rc;
}

/* ---- taking a backup --------------------------------------------------------------- */

/* Progress of one phase of a backup: cb (may be NULL) gets done every HW_PROGRESS_STEP
 * units and once more at total (none for a total of 0), done never above total nor
 * going back. */
struct progress {
	hw_progress_cb *cb;
	void *arg;
	uint64_t total;
	uint64_t shown; /* done at the last call */
};

/* 0, or what cb returned to stop the backup. */
static int progress_at(struct progress *p, uint64_t done)
{
	if (done > p->total)
		done = p->total; /* a writer grew the store after total was read */
	if (p->cb == NULL || done < p->shown + HW_PROGRESS_STEP)
		return 0;
	p->shown = done;
	return p->cb(p->arg, done, p->total);
}

static int progress_end(struct progress *p)
{
	int rc = p->cb != NULL && p->shown < p->total ? p->cb(p->arg, p->total, p->total) : 0;
	p->shown = p->total;
	return rc;
}

/* Hash of the store's entry 1: the identity of its chain (zeros for an empty store),
 * kept in meta once entry 1 is pruned. */
static int chain_identity(struct hw_store *s, uint8_t id[HW_HASH_BYTES])
{
	return hw_store_chain_id(s, id);
}

/* Buffered writer of log.hwl that hashes what it writes, and notes the first checkpoint
 * written that vouches for the snapshot. */
struct sink {
	int fd;
	uint8_t *buf;
	size_t used;
	crypto_generichash_state *st;
	uint64_t bytes;   /* written through this sink */
	uint64_t entries; /* entries written */
	struct progress *prog;
	uint64_t snapshot_lsn;            /* what a checkpoint must cover to vouch */
	struct hw_checkpoint_claim vouch; /* the first that does (lsn 0: none yet) */
	struct hw_arena arena;            /* to decode a checkpoint */
};

static int sink_flush(struct sink *k)
{
	int rc = write_all(k->fd, k->buf, k->used);
	k->used = 0;
	return rc;
}

static int sink_put(struct sink *k, const uint8_t *p, size_t len)
{
	if (k->used + len > IO_CHUNK_BYTES) {
		int rc = sink_flush(k);
		if (rc != 0)
			return rc;
	}
	HW_ASSERT(len <= IO_CHUNK_BYTES);
	memcpy(k->buf + k->used, p, len);
	k->used += len;
	k->bytes += len;
	crypto_generichash_update(k->st, p, len);
	return 0;
}

static int sink_entry(struct sink *k, const uint8_t *entry, size_t len)
{
	uint8_t pre[HW__BACKUP_LEN_PREFIX_BYTES] = {(uint8_t)len, (uint8_t)(len >> 8),
						    (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
	int rc = sink_put(k, pre, sizeof pre);
	if (rc == 0)
		rc = sink_put(k, entry, len);
	if (rc == 0) {
		k->entries++;
		rc = progress_at(k->prog, k->entries);
	}
	return rc;
}

/* Check that the entry at v continues *end, write it to the sink and move *end on. */
static int dump_one(const MDB_val *v, struct sink *k, struct hw_head *end)
{
	struct hw_entry e;
	if (hw_entry_decode(v->mv_data, v->mv_size, &e) != 0)
		return HW_ECORRUPT;
	if (e.lsn != end->lsn + 1)
		return HW_ELSN;
	if (memcmp(e.prev_hash, end->hash, HW_HASH_BYTES) != 0)
		return HW_ECHAIN;
	int rc = sink_entry(k, v->mv_data, v->mv_size);
	if (rc != 0)
		return rc;
	if (k->vouch.lsn == 0)
		hw_checkpoint_claim_of(&e, k->snapshot_lsn, &k->arena, &k->vouch);
	end->lsn = e.lsn;
	memcpy(end->hash, e.hash, HW_HASH_BYTES);
	return 0;
}

/* Write s's entries after end->lsn to the sink, in one read transaction; *end follows. */
static int log_dump(struct hw_store *s, struct sink *k, struct hw_head *end)
{
	MDB_txn *txn;
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	MDB_cursor *cur;
	rc = mdb_cursor_open(txn, s->t.log, &cur);
	if (rc != 0) {
		hw__store_read_end(s, txn);
		return hw_mdb_err(rc);
	}
	MDB_val kv, v;
	rc = mdb_cursor_get(cur, &kv, &v, MDB_LAST); /* the total, in this transaction */
	if (rc == 0 && hw_lsn_from_key(&kv) > end->lsn)
		k->prog->total = hw_lsn_from_key(&kv) - end->lsn;
	uint8_t key[8];
	hw_lsn_key(end->lsn + 1, key);
	kv = (MDB_val){.mv_size = 8, .mv_data = key};
	MDB_cursor_op op = MDB_SET_RANGE;
	while ((rc = mdb_cursor_get(cur, &kv, &v, op)) == 0) {
		op = MDB_NEXT;
		rc = dump_one(&v, k, end);
		if (rc != 0)
			break;
	}
	if (rc == MDB_NOTFOUND) {
		rc = sink_flush(k);
		if (rc == 0)
			rc = progress_end(k->prog);
	} else if (rc > 0 || (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE))
		rc = hw_mdb_err(rc);
	mdb_cursor_close(cur);
	hw__store_read_end(s, txn);
	return rc;
}

/* Append s's entries after m's end to the open log fd (positioned at m->log_bytes, whose
 * hash state is st), fsync it and move m's end, log_bytes and log_blake2b forward; info
 * gets the entries appended and the first checkpoint among them that vouches. */
static int log_extend(struct hw_store *s, int fd, crypto_generichash_state *st, struct manifest *m,
		      struct progress *prog, struct hw_backup_info *info)
{
	struct sink k = {.fd = fd,
			 .buf = malloc(IO_CHUNK_BYTES),
			 .st = st,
			 .prog = prog,
			 .snapshot_lsn = m->snapshot_lsn};
	if (k.buf == NULL)
		return HW_ENOMEM;
	hw_arena_init(&k.arena, 0, 0);
	struct hw_head end = {.lsn = m->end_lsn};
	memcpy(end.hash, m->end_hash, HW_HASH_BYTES);
	int rc = log_dump(s, &k, &end);
	free(k.buf);
	hw_arena_fini(&k.arena);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (rc != 0)
		return rc;
	m->end_lsn = end.lsn;
	memcpy(m->end_hash, end.hash, HW_HASH_BYTES);
	m->log_bytes += k.bytes;
	crypto_generichash_final(st, m->log_blake2b, HW_HASH_BYTES);
	info->entries_added = k.entries;
	info->vouch_lsn = k.vouch.lsn;
	return 0;
}

/* mdb_env_copy2 reports no progress, so the compacting copy is written into a pipe by
 * its own thread while the caller's thread moves it to the file, counting pages. */
struct copy_job {
	MDB_env *env;
	int fd; /* the pipe's write end, closed when the copy ends: the reader's EOF */
	int rc;
};

static void *copy_thread(void *p)
{
	struct copy_job *j = p;
	j->rc = hw_mdb_err(mdb_env_copyfd2(j->env, j->fd, MDB_CP_COMPACT));
	close(j->fd);
	return NULL;
}

/* Move the pipe's bytes to out until EOF, even after a write error (the copy thread must
 * not block on a full pipe), hashing them into st (NULL: not hashed) on the way (no
 * second read of the file) and counting them in *bytes; progress in pages of psize
 * bytes, whose non-zero answer (asked to stop) returns at once. */
static int copy_drain(int in, int out, uint8_t *buf, uint32_t psize, struct progress *prog,
		      crypto_generichash_state *st, uint64_t *bytes)
{
	int rc = 0;
	*bytes = 0;
	for (;;) {
		ssize_t n = read(in, buf, IO_CHUNK_BYTES);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && rc == 0)
			rc = -errno;
		if (n <= 0)
			return rc; /* the caller closes in: a copy still writing gets EPIPE */
		if (rc == 0)
			rc = write_all(out, buf, (size_t)n);
		if (rc == 0 && st != NULL)
			crypto_generichash_update(st, buf, (unsigned long long)n);
		*bytes += (uint64_t)n;
		/* asked to stop: at once; closing in ends the copy (EPIPE: LMDB's copy thread
		 * blocks SIGPIPE) */
		if (rc == 0 && (rc = progress_at(prog, *bytes / psize)) != 0)
			return rc;
	}
}

/* The compacted copy of s into file, its BLAKE2b-256 (hash NULL: not computed) and its
 * size, with progress in pages (total: the pages s uses, which the compacted copy does
 * not exceed). */
static int copy_pages(struct hw_store *s, const char *file, struct progress *prog,
		      uint8_t hash[HW_HASH_BYTES], uint64_t *bytes)
{
	MDB_envinfo ei;
	MDB_stat st;
	int rc = hw_mdb_err(mdb_env_info(s->env, &ei));
	if (rc == 0)
		rc = hw_mdb_err(mdb_env_stat(s->env, &st));
	if (rc != 0)
		return rc;
	prog->total = (uint64_t)ei.me_last_pgno + 1;
	uint8_t *buf = malloc(IO_CHUNK_BYTES);
	int out = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), p[2] = {-1, -1};
	if (buf == NULL || out < 0 || pipe2(p, O_CLOEXEC) != 0) {
		rc = buf == NULL ? HW_ENOMEM : -errno;
		goto close_out;
	}
	struct copy_job job = {.env = s->env, .fd = p[1]};
	pthread_t t;
	pthread_rwlock_rdlock(&s->map_lock); /* the copy runs in a read transaction */
	rc = -pthread_create(&t, NULL, copy_thread, &job);
	if (rc == 0) {
		crypto_generichash_state hs;
		crypto_generichash_init(&hs, NULL, 0, HW_HASH_BYTES);
		rc = copy_drain(p[0], out, buf, st.ms_psize, prog, hash ? &hs : NULL, bytes);
		if (hash != NULL)
			crypto_generichash_final(&hs, hash, HW_HASH_BYTES);
		close(p[0]);
		pthread_join(t, NULL);
		rc = rc != 0 ? rc : job.rc; /* a stop (or a write error) is why the copy failed */
	} else {
		close(p[0]);
		close(p[1]);
	}
	pthread_rwlock_unlock(&s->map_lock);
	if (rc == 0 && fsync(out) != 0)
		rc = -errno;
	if (rc == 0)
		rc = progress_end(prog);
close_out:
	if (out >= 0)
		close(out);
	free(buf);
	return rc;
}

int hw__backup_copy(struct hw_store *s, const char *dir, hw_progress_cb *cb, void *arg)
{
	char file[PATH_MAX];
	struct progress prog = {.cb = cb, .arg = arg};
	uint64_t bytes;
	int rc = hw__backup_path_join(file, dir, "data.mdb");
	if (rc != 0)
		return rc;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	rc = copy_pages(s, file, &prog, NULL, &bytes);
	return rc == 0 ? hw_fs_sync(dir) : rc;
}

/* Copy s into dir (snapshot.tmp), make it durable and read the copy's head and base. */
static int snapshot_copy(struct hw_store *s, const char *dir, struct manifest *m,
			 struct progress *prog, uint64_t *base_lsn)
{
	char file[PATH_MAX];
	int rc = hw__backup_path_join(file, dir, "data.mdb");
	if (rc != 0)
		return rc;
	if (mkdir(dir, 0700) != 0)
		return -errno;
	rc = copy_pages(s, file, prog, m->snapshot_blake2b, &m->snapshot_bytes);
	if (rc != 0)
		return rc;
	/* The copy's own head, not s's: another process may have written since. */
	struct hw_store_opts o = {.read_only = true, .unlocked = true};
	struct hw_store *snap;
	struct hw_head h, base;
	rc = hw_store_open(dir, &o, &snap);
	if (rc != 0)
		return rc;
	rc = hw_store_head(snap, &h);
	if (rc == 0)
		rc = hw_store_base(snap, &base);
	hw_store_close(snap);
	if (rc != 0)
		return rc;
	*base_lsn = base.lsn;
	m->snapshot_lsn = m->end_lsn = h.lsn;
	memcpy(m->snapshot_hash, h.hash, HW_HASH_BYTES);
	memcpy(m->end_hash, h.hash, HW_HASH_BYTES);
	return hw_fs_sync(dir);
}

/* A store's log reaches its head: the head's entry is in the log, with the head's hash
 * (or the log was pruned up to it). A store whose log was cut short behind its head
 * (damage, or someone's hand) would be backed up, or restored, short of what it says it
 * holds: HW_ECORRUPT, named in what as the store's whose is whose. */
int hw__backup_log_reaches_head(struct hw_store *s, const char *whose, char *what)
{
	struct hw_head h, base;
	struct hw_entry e;
	MDB_val v;
	MDB_txn *txn; /* one: a live store's retention may prune between two */
	int rc = hw__store_read_begin(s, &txn);
	if (rc != 0)
		return rc;
	rc = hw__store_head_txn(s, txn, &h);
	if (rc == 0)
		rc = hw__store_base_txn(s, txn, &base);
	bool reaches = true; /* or pruned up to its head */
	if (rc == 0 && base.lsn < h.lsn) {
		int got = hw__store_log_get(s, txn, h.lsn, &v);
		if (got == 0)
			reaches = hw_entry_decode(v.mv_data, v.mv_size, &e) == 0 &&
				  memcmp(e.hash, h.hash, HW_HASH_BYTES) == 0;
		else if (got == MDB_NOTFOUND)
			reaches = false;
		else
			rc = hw_mdb_err(got);
	}
	hw__store_read_end(s, txn);
	if (rc == 0 && !reaches)
		return hw__backup_fail(what, HW_ECORRUPT,
				       "%s log does not reach its head, LSN %" PRIu64
				       ": the store is damaged (hawser verify)",
				       whose, h.lsn);
	return rc;
}

/* Write out/snapshot through out/snapshot.tmp, so a crash leaves no half snapshot. */
static int snapshot_take(struct hw_store *s, const char *out, struct manifest *m,
			 struct progress *prog, uint64_t *base_lsn)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int rc = hw__backup_path_join(tmp, out, "snapshot.tmp");
	if (rc == 0)
		rc = hw__backup_path_join(dst, out, "snapshot");
	if (rc == 0)
		rc = hw_snapshot_rm(tmp);
	if (rc == 0)
		rc = hw_snapshot_rm(dst); /* left by a backup that died before its MANIFEST */
	if (rc == 0)
		rc = snapshot_copy(s, tmp, m, prog, base_lsn);
	if (rc == 0 && rename(tmp, dst) != 0)
		rc = -errno;
	if (rc == 0)
		rc = hw_fs_sync(out);
	else
		hw_snapshot_rm(tmp); /* a copy cut short (a full disk) leaves no room taken */
	return rc;
}

/* Whether out may take a new full backup: it is empty, or a full backup that died before
 * its MANIFEST left it (its marker says so). Files and neither are a damaged backup (one
 * whose MANIFEST went) or not a backup at all: HW_EBACKUP, nothing overwritten. */
static int full_allowed(const char *out, char *what)
{
	DIR *d = opendir(out);
	if (d == NULL)
		return -errno;
	bool marker = false, others = false;
	const struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, HW_BACKUP_MARKER) == 0)
			marker = true;
		else if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
			 strcmp(e->d_name, BACKUP_LOCK) != 0) /* this backup's own */
			others = true;
	}
	closedir(d);
	if (others && !marker)
		return hw__backup_fail(
			what, HW_EBACKUP,
			"holds files but no MANIFEST (a damaged backup, or not a backup): "
			"nothing written; back up into an empty directory");
	return 0;
}

/* Create (make true) or remove the marker, durably. */
static int marker_set(const char *out, bool make)
{
	char path[PATH_MAX];
	int rc = hw__backup_path_join(path, out, HW_BACKUP_MARKER);
	if (rc != 0)
		return rc;
	int fd = make ? open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (make && fd < 0)
		return -errno;
	if (fd >= 0)
		close(fd);
	if (!make && unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return hw_fs_sync(out);
}

static int backup_full(struct hw_store *s, const char *out, const struct progress *prog,
		       struct hw_backup_info *info)
{
	struct manifest m = {.format = MANIFEST_FORMAT};
	struct progress pages = *prog, entries = *prog;
	char log[PATH_MAX];
	int rc = hw__backup_path_join(log, out, "log.hwl");
	if (rc == 0)
		rc = full_allowed(out, info->what);
	if (rc == 0)
		rc = hw__backup_log_reaches_head(s, "the store's", info->what);
	if (rc == 0)
		rc = marker_set(out, true);
	if (rc == 0)
		rc = snapshot_take(s, out, &m, &pages, &info->base_lsn);
	if (rc == 0)
		rc = chain_identity(s, m.chain_id);
	if (rc != 0)
		return rc;
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	rc = log_extend(s, fd, &st, &m, &entries, info);
	close(fd);
	if (rc == 0)
		rc = manifest_write(out, &m);
	if (rc == 0)
		rc = marker_set(out, false);
	info->snapshot = rc == 0;
	info->base_lsn = rc == 0 ? info->base_lsn : 0;
	info->snapshot_lsn = m.snapshot_lsn;
	info->end_lsn = m.end_lsn;
	return rc;
}

/* An incremental backup must continue this store's chain from the backup's end. */
static int incremental_check(struct hw_store *s, const char *out, struct manifest *m, char *what)
{
	static const uint8_t zero[HW_HASH_BYTES];
	uint8_t id[HW_HASH_BYTES];
	int rc = chain_identity(s, id);
	if (rc != 0)
		return rc;
	if (memcmp(m->chain_id, zero, HW_HASH_BYTES) == 0)
		memcpy(m->chain_id, id, HW_HASH_BYTES); /* backed up while empty */
	if (memcmp(m->chain_id, id, HW_HASH_BYTES) != 0 && m->end_lsn != 0)
		return hw__backup_fail(what, HW_EBACKUP, "backup is of another chain");
	/* Hashed, not only sized: the log is only worth extending after a snapshot that
	 * still restores (ransomware encrypts files in place, sizes unchanged). */
	char snap_dir[PATH_MAX];
	rc = hw__backup_snapshot_check(out, m, snap_dir, what, NULL, NULL);
	if (rc != 0)
		return rc;
	if (m->end_lsn == 0)
		return 0;
	struct hw_head base;
	rc = hw_store_base(s, &base);
	if (rc != 0)
		return rc;
	if (m->end_lsn < base.lsn)
		return hw__backup_fail(what, HW_EBACKUP,
				       "store's log starts after LSN %" PRIu64
				       ", past the backup's end (LSN "
				       "%" PRIu64 "): back up into a new directory",
				       base.lsn, m->end_lsn);
	if (m->end_lsn == base.lsn)
		return memcmp(base.hash, m->end_hash, HW_HASH_BYTES) == 0
			       ? 0
			       : hw__backup_fail(what, HW_EBACKUP,
						 "store's LSN %" PRIu64
						 " differs from the backup's",
						 m->end_lsn);
	uint8_t *buf;
	size_t len;
	struct hw_entry e;
	rc = hw_store_read_entry(s, m->end_lsn, &buf, &len);
	if (rc == HW_ENOTFOUND)
		return hw__backup_fail(what, HW_EBACKUP,
				       "store has no LSN %" PRIu64 ": the backup is ahead of it",
				       m->end_lsn);
	if (rc != 0)
		return rc;
	rc = hw_entry_decode(buf, len, &e);
	if (rc == 0 && memcmp(e.hash, m->end_hash, HW_HASH_BYTES) != 0)
		rc = hw__backup_fail(what, HW_EBACKUP,
				     "store's LSN %" PRIu64 " differs from the backup's",
				     m->end_lsn);
	free(buf);
	return rc;
}

/* Open log.hwl, check its first log_bytes against the MANIFEST and leave fd positioned
 * after them with st holding their hash; a longer file is cut back (an interrupted
 * incremental backup wrote past the MANIFEST). */
static int log_reopen(const char *out, const struct manifest *m, int *fd,
		      crypto_generichash_state *st, char *what)
{
	int rc = hw__backup_log_open(out, O_RDWR, fd, what);
	if (rc != 0)
		return rc;
	crypto_generichash_init(st, NULL, 0, HW_HASH_BYTES);
	rc = log_prefix_check(*fd, m, st, what);
	if (rc == 0 && ftruncate(*fd, (off_t)m->log_bytes) != 0)
		rc = -errno;
	if (rc == 0 && lseek(*fd, (off_t)m->log_bytes, SEEK_SET) < 0)
		rc = -errno;
	if (rc != 0)
		close(*fd);
	return rc;
}

static int backup_incremental(struct hw_store *s, const char *out, const struct progress *prog,
			      struct hw_backup_info *info)
{
	struct progress entries = *prog;
	struct manifest m;
	int rc = hw__backup_manifest_read(out, &m, info->what);
	if (rc == 0) /* a crash after the MANIFEST, before the marker went: it goes now */
		rc = marker_set(out, false);
	if (rc == 0)
		rc = incremental_check(s, out, &m, info->what);
	if (rc != 0)
		return rc;
	int fd;
	crypto_generichash_state st;
	rc = log_reopen(out, &m, &fd, &st, info->what);
	if (rc != 0)
		return rc;
	rc = log_extend(s, fd, &st, &m, &entries, info);
	close(fd);
	/* nothing new: the MANIFEST (whose mtime dates the generation) stays as it is */
	if (rc == 0 && info->entries_added > 0)
		rc = manifest_write(out, &m);
	info->snapshot_lsn = m.snapshot_lsn;
	info->end_lsn = m.end_lsn;
	return rc;
}

/* The restore's lock (below): the same flock on a file that goes when released. */
/* Tries of the lock a moment apart before another holder is believed: hw_backup_writing
 * (a prune, a drill) holds it shared for a few microseconds to look. */
#define LOCK_TRIES    20
#define LOCK_RETRY_US 5000

/* flock(fd, LOCK_EX | LOCK_NB), tried LOCK_TRIES times: 0 or -errno. */
static int lock_try(int fd)
{
	for (int i = 0;; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK || i + 1 == LOCK_TRIES)
			return -errno;
		usleep(LOCK_RETRY_US);
	}
}

int hw__backup_lock_take(const char *path, const char *dir, int *lock, char *what)
{
	*lock = -1;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		int rc = lock_try(fd);
		if (rc != 0) {
			close(fd);
			return rc == -EWOULDBLOCK
				       ? hw__backup_fail(what, HW_EBUSY,
							 "another restore into %s is running", dir)
				       : rc;
		}
		struct stat held, named;
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
		    held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
			*lock = fd;
			return 0;
		}
		close(fd); /* unlinked by the restore that held it: the next file is the lock */
	}
}

/* Take the flock on out/BACKUP_LOCK for the whole backup (*lock, else -1): two backups
 * into one directory would each take the other's files for a damaged backup, and an
 * incremental one could cut log.hwl back under a MANIFEST the other just committed.
 * HW_EBUSY while another backup holds it. */
static int backup_lock(const char *out, int *lock, char *what)
{
	char path[PATH_MAX];
	int rc = hw__backup_path_join(path, out, BACKUP_LOCK);
	if (rc == 0)
		rc = hw__backup_lock_take(path, out, lock, what);
	return rc == HW_EBUSY ? hw__backup_fail(what, rc, "another backup is writing %s", out) : rc;
}

bool hw_backup_writing(const char *dir)
{
	char path[PATH_MAX];
	int fd = hw__backup_path_join(path, dir, BACKUP_LOCK) == 0
			 ? open(path, O_RDONLY | O_CLOEXEC)
			 : -1;
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd); /* lets go of a shared lock it took */
	return held;
}

static void backup_unlock(const char *out, int lock)
{
	char path[PATH_MAX];
	if (lock >= 0 && hw__backup_path_join(path, out, BACKUP_LOCK) == 0)
		unlink(path); /* before the close: one that opened it then takes it anew */
	if (lock >= 0)
		close(lock);
}

int hw_backup(struct hw_store *s, const char *out_dir, hw_progress_cb *cb, void *arg,
	      struct hw_backup_info *info)
{
	const struct progress prog = {.cb = cb, .arg = arg};
	struct hw_backup_info local;
	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof *info);
	if (hw_store_stale(s)) /* its restore would bring back state that is not its log's */
		return hw__backup_fail(
			info->what, HW_ESTALE,
			"the store's state awaits a snapshot (a rejoin set its log aside): "
			"back up another node");
	int rc = hw_fs_mkdirs(out_dir, 0700);
	if (rc != 0)
		return rc;
	char path[PATH_MAX];
	int lock = -1;
	rc = hw__backup_path_join(path, out_dir, "MANIFEST");
	if (rc == 0)
		rc = backup_lock(out_dir, &lock, info->what);
	if (rc != 0)
		return rc;
	if (access(path, F_OK) == 0)
		rc = backup_incremental(s, out_dir, &prog, info);
	else if (errno == ENOENT)
		rc = backup_full(s, out_dir, &prog, info);
	else
		rc = -errno;
	if (rc == 0)
		info->bytes = file_bytes(out_dir, "snapshot/data.mdb") +
			      file_bytes(out_dir, "log.hwl") + file_bytes(out_dir, "MANIFEST");
	backup_unlock(out_dir, lock);
	return rc;
}

/* The newest checkpoint a walk back from the head met whose signature checks. */
struct newest_checkpoint {
	struct hw_arena arena;
	struct hw_checkpoint_claim cp;
};

static int newest_checkpoint_cb(void *arg, const struct hw_entry *e, const Tos__V1__Record *rec)
{
	struct newest_checkpoint *n = arg;
	if (rec->payload_case != TOS__V1__RECORD__PAYLOAD_CHECKPOINT)
		return 0; /* a node event */
	/* 1 stops the walk: found */
	return hw_checkpoint_claim_of(e, 0, &n->arena, &n->cp) ? 1 : 0;
}

int hw_backup_vouch_outlook(struct hw_store *s, uint64_t snapshot_lsn, enum hw_vouch_outlook *out)
{
	struct newest_checkpoint n = {.cp = {0}};
	struct hw_head h;
	int rc = hw_store_head(s, &h); /* first: the walk sees this head or a later one */
	if (rc != 0)
		return rc;
	hw_arena_init(&n.arena, 0, 0);
	rc = hw_audit_walk_back(s, HW_BACKUP_VOUCH_LOOKBACK, newest_checkpoint_cb, &n);
	hw_arena_fini(&n.arena);
	if (rc < 0)
		return rc;
	if (n.cp.lsn == 0)
		*out = HW_VOUCH_UNSIGNED;
	else if (n.cp.covers >= snapshot_lsn)
		*out = HW_VOUCH_IN_STORE;
	/* node_audit.c: "the last checkpoint's own entry is not news" */
	else if (n.cp.lsn == h.lsn && n.cp.covers + 1 == h.lsn)
		*out = HW_VOUCH_IDLE;
	else
		*out = HW_VOUCH_DUE;
	return 0;
}
