/* store_probe.c: what a data.mdb that hw_store_open() refused is: a damaged store, or
 * no store (replica/store.h hw_store_probe). It claims damage only on evidence: LMDB's
 * own meta says the file is cut short or one of its meta pages is gone, LMDB finds its
 * pages inconsistent, or the file holds a hawser log entry (or sits beside a node's
 * write-ahead log) though LMDB cannot read it as a store. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replica/entry.h"
#include "replica/store_int.h"

/* LMDB's on-disk meta page (mdb.c, data version 1): a 16-byte page header whose flags
 * (2 bytes at 10) hold P_META, then mm_magic and mm_version. Stable since 2013. */
#define LMDB_PAGE_FLAGS_AT 10
#define LMDB_P_META        0x08u
#define LMDB_MAGIC_AT      16
#define LMDB_MAGIC         0xBEEFC0DEu
#define LMDB_DATA_VERSION  1u
/* LMDB's page size: the OS page size when the store was made; this host's. */
#define PROBE_PAGE_BYTES 4096u
/* Pages read, spread evenly over the file, looking for a log entry: a few MB of reads
 * however large the store, and each leaf page of the log holds a dozen entries, so one
 * survives any damage short of the whole file. */
#define PROBE_SAMPLES 1024u

static bool meta_page_ok(const uint8_t *p)
{
	uint16_t flags;
	uint32_t magic, version;
	memcpy(&flags, p + LMDB_PAGE_FLAGS_AT, 2);
	memcpy(&magic, p + LMDB_MAGIC_AT, 4);
	memcpy(&version, p + LMDB_MAGIC_AT + 4, 4);
	return (flags & LMDB_P_META) && magic == LMDB_MAGIC && version == LMDB_DATA_VERSION;
}

/* Whether either of the file's two meta pages is LMDB's. */
static bool some_meta_ok(int fd)
{
	uint8_t buf[2 * PROBE_PAGE_BYTES];
	ssize_t got = pread(fd, buf, sizeof buf, 0);
	return (got >= PROBE_PAGE_BYTES && meta_page_ok(buf)) ||
	       (got == (ssize_t)sizeof buf && meta_page_ok(buf + PROBE_PAGE_BYTES));
}

/* A log entry that passes its hash check in one of the pages sampled: *lsn its LSN. */
static bool entry_seen(int fd, uint64_t size, uint64_t *lsn)
{
	uint8_t buf[2 * PROBE_PAGE_BYTES]; /* an entry starting in the page may run on */
	uint64_t pages = size / PROBE_PAGE_BYTES;
	uint64_t step = pages > PROBE_SAMPLES ? pages / PROBE_SAMPLES : 1;
	for (uint64_t n = 0; n < pages; n += step) {
		ssize_t got = pread(fd, buf, sizeof buf, (off_t)(n * PROBE_PAGE_BYTES));
		for (size_t i = 0;
		     got > 0 && i < PROBE_PAGE_BYTES && i + HW_ENTRY_HEADER_BYTES <= (size_t)got;
		     i++) {
			struct hw_entry e;
			size_t len = hw_entry_len(buf + i);
			if (memcmp(buf + i, HW_ENTRY_MAGIC, 4) == 0 && len <= (size_t)got - i &&
			    hw_entry_decode(buf + i, len, &e) == 0) {
				*lsn = e.lsn;
				return true;
			}
		}
	}
	return false;
}

static bool wal_beside(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof path, "%s/wal", dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The store format its meta table names, read without hawser's other tables: 0 when
 * there is no meta table or no format in it. */
static unsigned meta_format(MDB_env *env)
{
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = hw_mdb_val("format", 6), v;
	unsigned format = 0;
	if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if (mdb_dbi_open(txn, "meta", 0, &meta) == 0 && mdb_get(txn, meta, &k, &v) == 0 &&
	    v.mv_size == 4)
		format = *(const uint8_t *)v.mv_data;
	mdb_txn_abort(txn);
	return format;
}

struct probe {
	const char *dir;
	int fd;
	uint64_t size;
	int open_rc;
	bool *damaged;
	char *what;
	size_t cap;
};

/* LMDB opened the file: is it whole, and hawser's? */
static void env_probe(struct probe *p, MDB_env *env)
{
	MDB_envinfo info;
	MDB_stat st;
	uint64_t lsn = 0;
	if (mdb_env_info(env, &info) == 0 && mdb_env_stat(env, &st) == 0 &&
	    p->size < ((uint64_t)info.me_last_pgno + 1) * st.ms_psize) {
		*p->damaged = true;
		snprintf(p->what, p->cap,
			 "data.mdb is %" PRIu64 " bytes, shorter than the %" PRIu64
			 " its LMDB meta page counts: the file was cut short",
			 p->size, ((uint64_t)info.me_last_pgno + 1) * st.ms_psize);
		return;
	}
	unsigned format = p->open_rc == HW_EFORMAT ? meta_format(env) : 0;
	if (p->open_rc == HW_ECORRUPT) {
		*p->damaged = true;
		snprintf(p->what, p->cap,
			 "LMDB finds the pages of data.mdb's table directory or hawser's meta "
			 "damaged: the store cannot be opened");
	} else if (format != 0) {
		snprintf(p->what, p->cap,
			 "data.mdb names store format %u (this build reads %u to %u), but its "
			 "tables or head cannot be read",
			 format, HW__STORE_FMT_QLSN, HW__STORE_FORMAT);
	} else if ((*p->damaged = entry_seen(p->fd, p->size, &lsn))) {
		snprintf(p->what, p->cap,
			 "LMDB reads data.mdb but not hawser's tables, yet it holds hawser log "
			 "entries (LSN %" PRIu64 " intact): its table directory is damaged",
			 lsn);
	} else if ((*p->damaged = wal_beside(p->dir))) {
		snprintf(p->what, p->cap,
			 "LMDB reads data.mdb but not hawser's tables, beside a node's write-ahead "
			 "log: its table directory is damaged");
	} else {
		snprintf(p->what, p->cap,
			 "data.mdb is an LMDB file without hawser's tables: not a hawser store");
	}
}

/* LMDB could not open the file (rc): which of its pages are gone, if it was a store. */
static void raw_probe(struct probe *p, int rc)
{
	uint64_t lsn = 0;
	if (rc == MDB_VERSION_MISMATCH) {
		snprintf(p->what, p->cap, "data.mdb is an LMDB file of another data version");
		return;
	}
	if (p->size > 0 && some_meta_ok(p->fd)) {
		*p->damaged = true;
		snprintf(p->what, p->cap,
			 "one of data.mdb's two LMDB meta pages is damaged, or the file is cut "
			 "short within them");
		return;
	}
	bool entry = p->size > 0 && entry_seen(p->fd, p->size, &lsn);
	bool wal = wal_beside(p->dir);
	*p->damaged = entry || wal;
	if (entry)
		snprintf(p->what, p->cap,
			 "data.mdb has no LMDB meta page, yet it holds hawser log entries (LSN "
			 "%" PRIu64 " intact): its first pages were overwritten or encrypted",
			 lsn);
	else if (wal)
		snprintf(p->what, p->cap, "data.mdb is %s, beside a node's write-ahead log: %s",
			 p->size == 0 ? "empty" : "not an LMDB file",
			 p->size == 0 ? "the store was cut to nothing"
				      : "the store was overwritten or encrypted whole");
	else if (p->size == 0)
		snprintf(p->what, p->cap,
			 "data.mdb is empty: not a hawser store, or one cut short");
	else
		snprintf(p->what, p->cap,
			 "data.mdb holds no LMDB meta page and no hawser log entry: not a hawser "
			 "store, or one overwritten or encrypted whole");
}

int hw_store_probe(const char *dir, int open_rc, bool *damaged, char *what, size_t cap)
{
	char path[PATH_MAX];
	struct stat st;
	*damaged = false;
	what[0] = '\0';
	if (stat(dir, &st) != 0)
		return -errno;
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(what, cap, "no data.mdb in it");
		return 0;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		int rc = -errno;
		if (fd >= 0)
			close(fd);
		return rc;
	}
	struct probe p = {dir, fd, (uint64_t)st.st_size, open_rc, damaged, what, cap};
	MDB_env *env;
	int rc = mdb_env_create(&env);
	if (rc != 0)
		goto out_fd;
	hw__store_env_asserts(env);
	rc = mdb_env_set_maxdbs(env, HW__TABLES_COUNT + 1);
	if (rc == 0)
		rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600);
	if (rc == 0)
		env_probe(&p, env);
	else if (rc != ENOMEM)
		raw_probe(&p, rc);
	rc = rc == ENOMEM ? rc : 0;
	mdb_env_close(env);
out_fd:
	close(fd);
	return hw_mdb_err(rc);
}
