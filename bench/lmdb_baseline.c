/* lmdb_baseline.c: LMDB's own batched put rate for records of the sizes hawser stores,
 * the yardstick ingest is compared to (docs/benchmarks.md).
 *
 * Records come from the workload generator (terminal_peak), so their sizes are realistic;
 * each value is the record plus a 96-byte header, the size of a log entry. They are all
 * generated before the clock starts, then put under 8-byte big-endian counter keys with
 * MDB_APPEND, B per write transaction, with LMDB's default durability (sync on commit).
 * Prints one JSON line: {records, batch, seconds, records_per_s, bytes_per_record_mean}.
 *
 * Usage: hawser-lmdb-bench [--records N] [--batch B] [--dir DIR]
 *   N default 1000000; B default 1000; DIR default a mkdtemp under /tmp, removed after
 *   (a given DIR is kept, and must not hold an LMDB environment already). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "bench/workload.h"
#include "hawser_error.h"
#include "hawser_limits.h"

#define HEADER_BYTES    96u             /* replica/entry.h HW_ENTRY_HEADER_BYTES */
#define END_MS          1790000000000LL /* fixed clock: runs are comparable */
#define SEED            1u
#define RECORDS_DEFAULT 1000000u
#define BATCH_DEFAULT   1000u
#define MAP_SLACK_BYTES (1ull << 30) /* room for LMDB's branch pages and free lists */

struct opts {
	uint64_t records;
	uint64_t batch;
	const char *dir; /* NULL: a temporary directory */
};

/* All values back to back; value i is data[off[i] .. off[i + 1]). */
struct values {
	uint8_t *data;
	size_t *off;
	size_t used;
	size_t cap;
};

static void usage(void)
{
	fprintf(stderr, "usage: hawser-lmdb-bench [--records N] [--batch B] [--dir DIR]\n");
	exit(2);
}

static uint64_t parse_count(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0)
		usage();
	return (uint64_t)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	o->records = RECORDS_DEFAULT;
	o->batch = BATCH_DEFAULT;
	o->dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--records") == 0)
			o->records = parse_count(argv[++i]);
		else if (strcmp(argv[i], "--batch") == 0)
			o->batch = parse_count(argv[++i]);
		else if (strcmp(argv[i], "--dir") == 0)
			o->dir = argv[++i];
		else
			usage();
	}
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "hawser-lmdb-bench: %s: %s\n", what, why);
	exit(1);
}

/* Make room for one more value of at most need bytes. */
static void values_reserve(struct values *v, size_t need)
{
	if (v->used + need <= v->cap)
		return;
	size_t cap = v->cap ? v->cap : 64u << 20;
	while (v->used + need > cap)
		cap *= 2;
	uint8_t *p = realloc(v->data, cap);
	if (p == NULL)
		die("values", "out of memory");
	v->data = p;
	v->cap = cap;
}

/* Draw n records; each value is a 96-byte header (its counter, then zeros) + the record. */
static void generate(uint64_t n, struct values *v)
{
	struct hw_workload_opts wo = {
		.profile = "terminal_peak", .seed = SEED, .count = n, .end_ms = END_MS};
	struct hw_workload *w;
	int rc = hw_workload_new(&wo, &w);
	if (rc != 0)
		die("workload", hw_strerror(rc));
	v->off = malloc((n + 1) * sizeof *v->off);
	if (v->off == NULL)
		die("values", "out of memory");
	for (uint64_t i = 0; i < n; i++) {
		struct hw_work_item it;
		values_reserve(v, HEADER_BYTES + HW_RECORD_BYTES_MAX);
		uint8_t *p = v->data + v->used;
		memset(p, 0, HEADER_BYTES);
		memcpy(p, &i, sizeof i);
		rc = hw_workload_next(w, p + HEADER_BYTES, HW_RECORD_BYTES_MAX, &it);
		if (rc != 0)
			die("workload", hw_strerror(rc));
		v->off[i] = v->used;
		v->used += HEADER_BYTES + it.len;
	}
	v->off[n] = v->used;
	hw_workload_free(w);
}

static void key_of(uint64_t i, uint8_t key[8])
{
	for (int b = 7; b >= 0; b--) {
		key[b] = (uint8_t)i;
		i >>= 8;
	}
}

static MDB_env *env_open(const char *dir, size_t data_bytes)
{
	MDB_env *env;
	int rc = mdb_env_create(&env);
	if (rc == 0)
		rc = mdb_env_set_mapsize(env, 2 * data_bytes + MAP_SLACK_BYTES);
	if (rc == 0)
		rc = mdb_env_open(env, dir, 0, 0600);
	if (rc != 0)
		die(dir, mdb_strerror(rc));
	return env;
}

static int put_one(MDB_txn *txn, MDB_dbi dbi, const struct values *v, uint64_t i)
{
	uint8_t key[8];
	key_of(i + 1, key);
	MDB_val k = {.mv_size = 8, .mv_data = key};
	MDB_val val = {.mv_size = v->off[i + 1] - v->off[i], .mv_data = v->data + v->off[i]};
	return mdb_put(txn, dbi, &k, &val, MDB_APPEND);
}

/* Put every value, batch per write transaction; returns the seconds it took. */
static double put_all(MDB_env *env, const struct values *v, uint64_t n, uint64_t batch)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc == 0)
		rc = mdb_dbi_open(txn, NULL, 0, &dbi);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	if (rc != 0)
		die("open", mdb_strerror(rc));
	double t0 = hw_mono_s();
	for (uint64_t i = 0; i < n && rc == 0;) {
		rc = mdb_txn_begin(env, NULL, 0, &txn);
		if (rc != 0)
			break;
		uint64_t end = i + batch < n ? i + batch : n;
		for (; i < end && rc == 0; i++)
			rc = put_one(txn, dbi, v, i);
		if (rc == 0)
			rc = mdb_txn_commit(txn); /* syncs: LMDB's default durability */
		else
			mdb_txn_abort(txn);
	}
	if (rc != 0)
		die("put", mdb_strerror(rc));
	return hw_mono_s() - t0;
}

static void remove_env(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

/* The directory to use: o->dir (created if missing, must hold no environment) or a
 * fresh temporary one (*temp set). */
static const char *bench_dir(const struct opts *o, char tmp[64], bool *temp)
{
	*temp = o->dir == NULL;
	if (*temp) {
		snprintf(tmp, 64, "/tmp/hawser-lmdb-XXXXXX");
		if (mkdtemp(tmp) == NULL)
			die("mkdtemp", strerror(errno));
		return tmp;
	}
	char path[PATH_MAX];
	if (mkdir(o->dir, 0700) != 0 && errno != EEXIST)
		die(o->dir, strerror(errno));
	snprintf(path, sizeof path, "%s/data.mdb", o->dir);
	if (access(path, F_OK) == 0)
		die(o->dir, "holds an LMDB environment already");
	return o->dir;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct values v = {0};
	char tmp[64];
	bool temp;
	parse_args(argc, argv, &o);
	generate(o.records, &v);
	const char *dir = bench_dir(&o, tmp, &temp);
	MDB_env *env = env_open(dir, v.used);
	double secs = put_all(env, &v, o.records, o.batch);
	mdb_env_close(env);
	if (temp)
		remove_env(dir);
	printf("{\"records\":%" PRIu64 ",\"batch\":%" PRIu64 ",\"seconds\":%.3f,"
	       "\"records_per_s\":%.0f,\"bytes_per_record_mean\":%.1f}\n",
	       o.records, o.batch, secs, (double)o.records / secs,
	       (double)v.used / (double)o.records);
	free(v.data);
	free(v.off);
	return 0;
}
