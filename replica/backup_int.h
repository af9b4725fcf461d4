/* backup_int.h: what taking a backup (backup.c) and restoring one (restore.c) share: the
 * MANIFEST, log.hwl's framing, the check that a store's log reaches its head, and the two
 * small helpers both files write their errors and paths with. Not public. */
#ifndef HW_REPLICA_BACKUP_INT_H
#define HW_REPLICA_BACKUP_INT_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"

/* log.hwl frames each entry with its length: this many bytes, little-endian. */
#define HW__BACKUP_LEN_PREFIX_BYTES 4u

/* A backup's MANIFEST, read (the keys in replica/backup.h). */
struct manifest {
	uint64_t format;
	uint64_t snapshot_lsn;
	uint64_t end_lsn;
	uint64_t snapshot_bytes;
	uint64_t log_bytes;
	uint8_t chain_id[HW_HASH_BYTES];
	uint8_t snapshot_hash[HW_HASH_BYTES];
	uint8_t end_hash[HW_HASH_BYTES];
	uint8_t snapshot_blake2b[HW_HASH_BYTES];
	uint8_t log_blake2b[HW_HASH_BYTES];
};

/* Read dir/MANIFEST into *m: every key there once, a known format, the end not before the
 * snapshot. 0, HW_EBACKUP with what is wrong in what[160] (missing, too large, a bad line),
 * or -errno. */
int hw__backup_manifest_read(const char *dir, struct manifest *m, char *what);

/* s's log reaches its head: the head's entry is in the log with the head's hash (or the
 * log was pruned up to it). HW_ECORRUPT, in what[160] named as whose ("the store's"), for
 * a log cut short behind its head; else 0 or a storage error. Any thread. */
int hw__backup_log_reaches_head(struct hw_store *s, const char *whose, char *what);

/* Open dir/log.hwl with flags into *fd: HW_EBACKUP ("log.hwl is missing" in what) when it
 * is not there, else 0 or -errno. */
int hw__backup_log_open(const char *dir, int flags, int *fd, char *what);

/* The snapshot under dir (a backup's; its path into snap[PATH_MAX]) against m:
 * HW_EBACKUP when it is missing, or of another size or hash than m names (ransomware
 * encrypts files in place, sizes kept); else 0 or -errno. cb (may be NULL) is polled
 * after each MiB hashed (done and total 0, replica/verify.h): its non-zero answer stops
 * the check and is returned, so a restore asked to stop does not hash a large snapshot
 * to its end first. */
int hw__backup_snapshot_check(const char *dir, const struct manifest *m, char *snap, char *what,
			      hw_progress_cb *cb, void *arg);

/* The compacted copy of s (mdb_env_copyfd2, one read transaction) into dir/data.mdb (dir
 * made if missing; data.mdb must not exist), flushed, with cb (may be NULL) getting the
 * progress in pages every HW_PROGRESS_STEP of them and at the end: its non-zero answer
 * stops the copy and is returned (a copy of gigabytes that a restore asked to stop does
 * not finish first). The caller removes what a copy that failed left. 0, an LMDB error
 * translated, or -errno. */
int hw__backup_copy(struct hw_store *s, const char *dir, hw_progress_cb *cb, void *arg);

/* Take the flock on the lock file at path (a restore's into dir, a backup's of dir):
 * *lock gets its descriptor once locked (else -1). The file one that ends unlinks may be
 * the one just opened: locked, it is checked to be the one at path still, else taken
 * anew, so two never hold two files. HW_EBUSY ("another restore into dir is running" in
 * what: a backup says its own) while another holds it for 0.1 s (a look by
 * hw_backup_writing holds it a moment, and is waited out). */
int hw__backup_lock_take(const char *path, const char *dir, int *lock, char *what);

/* Say what is wrong in what[160] and return code. */
static inline int hw__backup_fail(char *what, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int hw__backup_fail(char *what, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, 160, fmt, ap);
	va_end(ap);
	return code;
}

/* out = dir/name; -ENAMETOOLONG past PATH_MAX. */
static inline int hw__backup_path_join(char out[PATH_MAX], const char *dir, const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

#endif
