/* snapshot.c: compacted copies of a running store, their check and their swap into a
 * node's data directory (replica/snapshot.h). */
#include "replica/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/fs.h"
#include "replica/store_int.h"

#define HASH_CHUNK_BYTES (1u << 20)

static int path_join(char out[PATH_MAX], const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int hw_snapshot_rm(const char *dir)
{
	if (access(dir, F_OK) != 0)
		return errno == ENOENT ? 0 : -errno;
	return nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -errno;
}

/* Head, base (may be NULL) and chain identity (may be NULL) of the store in dir, opened
 * read-only and without a lock file: a copy at rest needs none. */
static int read_heads(const char *dir, struct hw_head *head, struct hw_head *base,
		      uint8_t chain[HW_HASH_BYTES])
{
	struct hw_store_opts o = {.read_only = true, .unlocked = true};
	struct hw_store *s;
	int rc = hw_store_open(dir, &o, &s);
	if (rc != 0)
		return rc;
	rc = hw_store_head(s, head);
	if (rc == 0 && base != NULL)
		rc = hw_store_base(s, base);
	if (rc == 0 && chain != NULL)
		rc = hw_store_chain_id(s, chain);
	hw_store_close(s);
	return rc;
}

int hw_snapshot_make(struct hw_store *s, const char *dir, struct hw_snapshot_info *out)
{
	char file[PATH_MAX];
	struct stat st;
	memset(out, 0, sizeof *out);
	int rc = path_join(file, dir, "data.mdb");
	if (rc != 0)
		return rc;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	pthread_rwlock_rdlock(&s->map_lock); /* the copy runs in a read transaction */
	rc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&s->map_lock);
	rc = rc == EEXIST ? -EEXIST : hw_mdb_err(rc);
	if (rc == 0)
		rc = hw_fs_sync(file);
	if (rc == 0)
		rc = hw_fs_sync(dir);
	if (rc == 0)
		rc = read_heads(dir, &out->head, &out->base, NULL);
	if (rc == 0 && stat(file, &st) != 0)
		rc = -errno;
	if (rc == 0)
		out->bytes = (uint64_t)st.st_size;
	return rc;
}

int hw_snapshot_hash(const char *dir, uint8_t out[HW_HASH_BYTES], uint64_t *bytes)
{
	char file[PATH_MAX];
	int rc = path_join(file, dir, "data.mdb");
	if (rc != 0)
		return rc;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint8_t *buf = malloc(HASH_CHUNK_BYTES);
	if (buf == NULL) {
		close(fd);
		return HW_ENOMEM;
	}
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	*bytes = 0;
	for (;;) {
		ssize_t n = read(fd, buf, HASH_CHUNK_BYTES);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : 0;
			break;
		}
		crypto_generichash_update(&st, buf, (unsigned long long)n);
		*bytes += (uint64_t)n;
	}
	crypto_generichash_final(&st, out, HW_HASH_BYTES);
	free(buf);
	close(fd);
	return rc;
}

/* carry_row's target: a node-local table of the copy, in its write transaction. */
struct carry {
	MDB_txn *txn;
	MDB_dbi dbi;
};

static int carry_row(void *arg, const MDB_val *k, const MDB_val *v)
{
	const struct carry *c = arg;
	MDB_val key = *k, val = *v;
	/* rows come in key order into an emptied table */
	return hw_mdb_err(mdb_put(c->txn, c->dbi, &key, &val, MDB_APPEND));
}

/* Empty table `to` of a copy in txn and, with own, fill it with own's table `from`. */
static int carry_table(MDB_txn *txn, MDB_dbi to, struct hw_store *own, MDB_dbi from)
{
	struct carry c = {txn, to};
	int rc = hw_mdb_err(mdb_drop(txn, to, 0));
	if (rc == 0 && own != NULL)
		rc = hw__store_walk(own, from, MDB_FIRST, MDB_NEXT, UINT64_MAX, carry_row, &c);
	return rc;
}

uint64_t hw__snapshot_adopt_map(uint64_t copy_bytes, uint64_t own_used)
{
	uint64_t want = copy_bytes + own_used + HW_MAP_BYTES_INITIAL;
	return want < HW_MAP_BYTES_MAX ? want : HW_MAP_BYTES_MAX;
}

int hw_snapshot_adopt(const char *dir, struct hw_store *own)
{
	uint64_t used = 0, avail;
	int rc = own != NULL ? hw_store_room(own, &used, &avail) : 0;
	char file[PATH_MAX];
	struct stat st;
	snprintf(file, sizeof file, "%s/data.mdb", dir);
	if (rc == 0 && stat(file, &st) != 0)
		rc = -errno;
	if (rc != 0)
		return rc;
	/* LMDB maps a file larger than the size asked for at its own size, leaving no page
	 * to write: the map is sized past the copy, own's rows and room for the drops */
	struct hw_store_opts o = {.map_bytes = hw__snapshot_adopt_map((uint64_t)st.st_size, used)};
	struct hw_store *s;
	rc = hw_store_open(dir, &o, &s);
	if (rc != 0)
		return rc;
	MDB_txn *txn;
	rc = hw_mdb_err(mdb_txn_begin(s->env, NULL, 0, &txn));
	if (rc == 0) {
		rc = carry_table(txn, s->t.quarantine, own, own ? own->t.quarantine : 0);
		if (rc == 0)
			rc = carry_table(txn, s->t.drills, own, own ? own->t.drills : 0);
		if (rc == 0) /* a full commit: this store has no log in front */
			rc = hw_mdb_err(hw__store_txn_commit(s, txn, NULL));
		else
			mdb_txn_abort(txn);
	}
	hw_store_close(s);
	return rc;
}

int hw_snapshot_check(const char *dir, const struct hw_head *want,
		      const uint8_t chain[HW_HASH_BYTES])
{
	static const uint8_t none[HW_HASH_BYTES];
	struct hw_head h;
	uint8_t id[HW_HASH_BYTES];
	int rc = read_heads(dir, &h, NULL, id);
	if (rc != 0)
		return rc;
	if (h.lsn != want->lsn || memcmp(h.hash, want->hash, HW_HASH_BYTES) != 0)
		return HW_ECHAIN;
	if (chain != NULL && memcmp(chain, none, HW_HASH_BYTES) != 0 &&
	    memcmp(chain, id, HW_HASH_BYTES) != 0)
		return HW_EDIVERGED;
	return 0;
}

/* The mark, in a copy the fallback swap moves in, that it is whole and flushed: made
 * before the first of the two renames, so a crash between them leaves it to be told from
 * a copy half received (hw_snapshot_swap_finish). */
#define SWAP_READY "swap-ready"

static int ready_mark(const char *dir)
{
	char file[PATH_MAX];
	int rc = path_join(file, dir, SWAP_READY);
	if (rc != 0)
		return rc;
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc == 0 ? hw_fs_sync(dir) : rc;
}

/* The copy is data_dir now: its mark goes (one a crash leaves there is never read: only a
 * missing data_dir is), and the parent is flushed. */
static int swapped(const char *data_dir, const char *parent)
{
	char file[PATH_MAX];
	if (path_join(file, data_dir, SWAP_READY) == 0)
		unlink(file);
	return hw_fs_sync(parent);
}

int hw_snapshot_swap(const char *data_dir, const char *new_dir, int64_t now_ms, char *aside,
		     size_t cap)
{
	char parent[PATH_MAX];
	int rc = hw_fs_parent(data_dir, parent);
	if (rc != 0)
		return rc;
	if (snprintf(aside, cap, "%s.replaced-%" PRId64, data_dir, now_ms) >= (int)cap)
		return -ENAMETOOLONG;
	/* One step, so that no crash finds no data directory (a node would start an empty
	 * store there, without its election state); the old data is set aside after. */
	if (renameat2(AT_FDCWD, new_dir, AT_FDCWD, data_dir, RENAME_EXCHANGE) == 0) {
		if (rename(new_dir, aside) != 0)
			snprintf(aside, cap, "%s", new_dir); /* the old data stays there */
		return hw_fs_sync(parent);
	}
	if (errno != ENOENT && errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* No data directory yet, or a file system without the exchange: two renames, the
	 * copy marked whole first. */
	rc = ready_mark(new_dir);
	if (rc != 0)
		return rc;
	bool moved = true;
	if (rename(data_dir, aside) != 0) {
		if (errno != ENOENT)
			return -errno;
		moved = false;
		aside[0] = '\0';
	}
	if (rename(new_dir, data_dir) != 0) {
		rc = -errno;
		if (moved)
			rename(aside, data_dir); /* put the old data back where it was */
		return rc;
	}
	return swapped(data_dir, parent);
}

int hw_snapshot_swap_finish(const char *data_dir, const char *new_dir)
{
	char parent[PATH_MAX], file[PATH_MAX];
	int rc = hw_fs_parent(data_dir, parent);
	if (rc == 0)
		rc = path_join(file, new_dir, SWAP_READY);
	if (rc != 0)
		return rc;
	if (access(file, F_OK) != 0)
		return errno == ENOENT ? HW_ENOTFOUND : -errno;
	if (rename(new_dir, data_dir) != 0)
		return -errno;
	return swapped(data_dir, parent);
}
