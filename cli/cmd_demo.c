/* cmd_demo.c: `hawser demo`, a store-only tour with numbers, until replication exists:
 * ingest a generated TOS day, verify, back up, ingest more, back up incrementally,
 * restore to the midpoint and to the end, and compare the restored digest with the live
 * store's. Everything happens in a fresh temporary directory; the lines printed are also
 * kept in a small report directory. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench/workload.h"
#include "cli/cli.h"
#include "replica/backup.h"
#include "replica/store.h"
#include "replica/verify.h"

/* A generated day of the shared Nagoya TOS, and a later burst: sized so the whole demo
 * runs in seconds on a laptop, big enough that the rates mean something. */
#define DEMO_PROFILE      "nagoya_port_peak"
#define DEMO_SEED         1u
#define DEMO_DAY_RECORDS  200000u
#define DEMO_MORE_RECORDS 20000u

struct demo {
	char work[4096];   /* temporary directory holding every store */
	char report[4096]; /* directory holding report.txt, kept */
	FILE *out;         /* report.txt */
	struct hw_workload *w;
	uint64_t records;
	uint64_t rejected;
	uint64_t unexpected;
	uint64_t head_lsn;
	uint8_t live_digest[HW_HASH_BYTES];
	char fail[256];
};

static void say(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print a line to stdout and to the report. */
static void say(struct demo *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (d->out) {
		va_start(ap, fmt);
		vfprintf(d->out, fmt, ap);
		va_end(ap);
	}
}

/* Record why the demo failed; returns -1 for the caller to pass up. */
static int failed(struct demo *d, const char *step, int code)
{
	snprintf(d->fail, sizeof(d->fail), "%s: %s (%s)", step, hw_strerror(code),
		 hw_errname(code));
	return -1;
}

static const char *sub(const struct demo *d, const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", d->work, name);
	return buf;
}

static int ingest(struct demo *d, struct hw_store *s, uint64_t count, const char *label)
{
	struct hw_cli_ingest in = {.count = count, .batch = 1000, .label = label};
	int rc = hw_cli_ingest_run(s, d->w, &in);
	if (rc)
		return failed(d, label, rc);
	d->records += count;
	d->rejected += in.rejected;
	d->unexpected += in.unexpected;
	d->head_lsn = in.head_lsn;
	say(d,
	    "%-8s %" PRIu64 " records in %.2f s (%.0f records/s): accepted %" PRIu64
	    ", rejected %" PRIu64 ", head lsn %" PRIu64 "\n",
	    label, count, in.seconds, in.seconds > 0 ? (double)count / in.seconds : 0, in.accepted,
	    in.rejected, in.head_lsn);
	return 0;
}

static int backup(struct demo *d, struct hw_store *s, const char *label)
{
	char path[4200];
	struct hw_backup_info info;
	double t0 = hw_cli_mono_s();
	int rc = hw_backup(s, sub(d, "backup", path, sizeof(path)), &info);
	if (rc)
		return failed(d, label, rc);
	double seconds = hw_cli_mono_s() - t0;
	if (info.entries_added)
		say(d, "%-8s appended %" PRIu64 " entries after the snapshot at lsn %" PRIu64,
		    label, info.entries_added, info.snapshot_lsn);
	else
		say(d, "%-8s new snapshot at lsn %" PRIu64, label, info.snapshot_lsn);
	say(d, ": end lsn %" PRIu64 ", %" PRIu64 " bytes, %.2f s\n", info.end_lsn, info.bytes,
	    seconds);
	return 0;
}

static int verify(struct demo *d)
{
	char store[4200], rebuild[4200];
	struct hw_verify_report r;
	int rc = hw_verify(sub(d, "store", store, sizeof(store)),
			   sub(d, "verify-rebuild", rebuild, sizeof(rebuild)), hw_cli_progress_cb,
			   (void *)"verify", &r);
	hw_cli_progress_end();
	if (rc)
		return failed(d, "verify", rc);
	if (r.code) {
		snprintf(d->fail, sizeof(d->fail), "verify: damage at lsn %" PRIu64 ": %s",
			 r.first_bad_lsn, r.what);
		return -1;
	}
	say(d, "verify   intact: %" PRIu64 " entries in %.2f s (%.0f entries/s)\n", r.entries,
	    r.seconds, r.seconds > 0 ? (double)r.entries / r.seconds : 0);
	return 0;
}

/* First part of the day, verify (which opens the store itself, so it is closed here:
 * LMDB forbids one environment open twice in a process), and the first backup. */
static int day(struct demo *d)
{
	char path[4200];
	struct hw_store *s;
	int rc = hw_store_init(sub(d, "store", path, sizeof(path)));
	if (!rc)
		rc = hw_store_open(path, NULL, &s);
	if (rc)
		return failed(d, "init", rc);
	say(d, "init     store in %s\n", path);
	rc = ingest(d, s, DEMO_DAY_RECORDS, "ingest");
	hw_store_close(s);
	if (rc || verify(d))
		return -1;
	return 0;
}

/* The later burst, the incremental backup, and the live digest to compare with. */
static int more(struct demo *d)
{
	char path[4200];
	struct hw_store *s;
	int rc = hw_store_open(sub(d, "store", path, sizeof(path)), NULL, &s);
	if (rc)
		return failed(d, "reopen", rc);
	rc = backup(d, s, "backup");
	if (!rc)
		rc = ingest(d, s, DEMO_MORE_RECORDS, "ingest+");
	if (!rc)
		rc = backup(d, s, "backup+");
	if (!rc) {
		rc = hw_store_digest(s, d->live_digest);
		if (rc)
			rc = failed(d, "digest", rc);
	}
	hw_store_close(s);
	return rc;
}

static int restore(struct demo *d, const char *name, uint64_t until_lsn,
		   struct hw_restore_info *info)
{
	char bak[4200], path[4200], hex[2 * HW_HASH_BYTES + 1];
	int rc = hw_restore(sub(d, "backup", bak, sizeof(bak)), sub(d, name, path, sizeof(path)),
			    until_lsn, 0, hw_cli_progress_cb, (void *)"restore", info);
	hw_cli_progress_end();
	if (rc)
		return failed(d, name, rc);
	if (until_lsn && info->lsn != until_lsn) {
		snprintf(d->fail, sizeof(d->fail), "%s: head lsn %" PRIu64 ", wanted %" PRIu64,
			 name, info->lsn, until_lsn);
		return -1;
	}
	say(d, "%-8s to lsn %" PRIu64 " in %.2f s, digest %s\n", "restore", info->lsn,
	    info->seconds, hw_cli_hex(info->digest, hex));
	return 0;
}

/* The midpoint restore must equal the live log replayed to the same LSN. */
static int check_mid(struct demo *d, const struct hw_restore_info *mid)
{
	char store[4200];
	uint8_t digest[HW_HASH_BYTES];
	uint64_t lsn;
	int rc = hw_cli_digest_at(sub(d, "store", store, sizeof(store)), mid->lsn, digest, &lsn);
	if (rc)
		return failed(d, "digest --at-lsn", rc);
	if (lsn != mid->lsn || memcmp(digest, mid->digest, HW_HASH_BYTES)) {
		snprintf(d->fail, sizeof(d->fail),
			 "restore_digest=differs at lsn %" PRIu64 " from the live log replayed",
			 mid->lsn);
		return -1;
	}
	say(d, "compare  midpoint restore equals the live log replayed to lsn %" PRIu64 "\n", lsn);
	return 0;
}

static int restores(struct demo *d)
{
	struct hw_restore_info mid, full;
	if (restore(d, "restore-mid", d->head_lsn / 2, &mid) || check_mid(d, &mid) ||
	    restore(d, "restore-full", 0, &full))
		return -1;
	if (full.lsn != d->head_lsn || memcmp(full.digest, d->live_digest, HW_HASH_BYTES)) {
		snprintf(d->fail, sizeof(d->fail),
			 "restore_digest=differs (restored lsn %" PRIu64 ", live %" PRIu64 ")",
			 full.lsn, d->head_lsn);
		return -1;
	}
	say(d, "compare  full restore digest equals the live store's at lsn %" PRIu64 "\n",
	    full.lsn);
	return 0;
}

static int run(struct demo *d)
{
	struct hw_workload_opts wo = {.profile = DEMO_PROFILE, .seed = DEMO_SEED, .count = DEMO_DAY_RECORDS + DEMO_MORE_RECORDS, .end_ms = hw_cli_now_ms()};
	int rc = hw_workload_new(&wo, &d->w);
	if (rc)
		return failed(d, "generator", rc);
	say(d, "hawser demo: %s, seed %u, %u + %u records, work dir %s\n", DEMO_PROFILE, DEMO_SEED,
	    DEMO_DAY_RECORDS, DEMO_MORE_RECORDS, d->work);
	rc = day(d) || more(d) || restores(d) ? -1 : 0;
	if (!rc && d->unexpected) {
		snprintf(d->fail, sizeof(d->fail),
			 "%" PRIu64 " records got a code the generator did not expect",
			 d->unexpected);
		rc = -1;
	}
	hw_workload_free(d->w);
	return rc;
}

static int open_dirs(struct demo *d)
{
	char path[4200];
	int rc = hw_cli_scratch(NULL, "demo", d->work, sizeof(d->work));
	if (!rc)
		rc = hw_cli_scratch(NULL, "demo-report", d->report, sizeof(d->report));
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/report.txt", d->report);
	d->out = fopen(path, "w");
	return 0;
}

static int keep_opt_cb(void *arg, int key, const char *v)
{
	(void)v;
	*(bool *)arg = true;
	return key == 'k' ? 0 : -1;
}

static int cmd_demo(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"keep", no_argument, NULL, 'k'}, {0}};
	bool keep = false;
	int rc = hw_cli_parse(cmd, argc, argv, opts, keep_opt_cb, &keep, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	static struct demo d; /* static: large path buffers stay off the stack */
	rc = open_dirs(&d);
	if (rc)
		return hw_cli_fail(cmd->name, "temporary directory", rc);
	rc = run(&d);
	if (!keep)
		hw_cli_rmtree(d.work);
	if (rc)
		say(&d, "hawser demo: FAIL %s report=%s\n", d.fail, d.report);
	else
		say(&d,
		    "hawser demo: PASS records=%" PRIu64 " rejected=%" PRIu64
		    " verify=intact restore_digest=equal report=%s\n",
		    d.records, d.rejected, d.report);
	if (d.out)
		fclose(d.out);
	return rc ? HW_CLI_ERROR : HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_demo = {
	"demo", "store-only demo: ingest, verify, backup, restore, compare",
	"usage: hawser demo [--keep]\n"
	"  In a fresh temporary directory: ingest a generated TOS day (nagoya_port_peak,\n"
	"  200,000 records, seed 1), verify, back up, ingest 20,000 more, back up\n"
	"  incrementally, restore to the midpoint LSN and to the end, and compare the full\n"
	"  restore's digest with the live store's. Ends with one PASS or FAIL line; the\n"
	"  lines are also written to report.txt in the report directory it names.\n"
	"  --keep: keep the temporary directory (its path is printed).\n",
	cmd_demo};
