/* cmd_drill.c: `hawser drill verify|restore|procedure`, the drills that show a recovery
 * works before it is needed (docs/drills.md), and the drill part of `hawser status`.
 *
 * Every drill fills a report (cli/report.h) while it runs, writes it as JSON and HTML
 * into the report directory, appends a row to the node's drill history
 * (replica/drills.h) and exits 0 for PASS, 3 for FAIL (something is wrong with the data
 * or the setup) and 1 for ERROR (the drill could not reach a verdict). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/report.h"
#include "engine/client_int.h"
#include "engine/config.h"
#include "hawser.h"
#include "replica/backup.h"
#include "replica/drills.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"
#include "wire.pb-c.h"

/* Stores one verify drill compares with the node's: a cluster is a primary and a few
 * standbys (HW_PEERS_MAX), and each compare replays a log. */
#define COMPARE_MAX 8
/* Backup generations the procedure drill looks at: years of dailies. */
#define GENERATIONS_MAX 1024
/* How long the procedure drill waits for a witness or the node to answer. */
#define CONNECT_WAIT_MS   2000
#define STATUS_WAIT_MS    5000
#define MS_PER_DAY        (24LL * 3600 * 1000)
#define MANIFEST_READ_MAX 4096

struct drill {
	const struct hw_cli_cmd *cmd;
	struct hw_config cfg;
	const char *config_path;
	const char *dir;
	const char *scratch;
	const char *report_dir;
	const char *backup;
	const char *connect;
	const char *compare[COMPARE_MAX];
	size_t n_compare;
	uint64_t until_lsn;
	int64_t until_ms;
	bool lsn_given, time_given;
	int64_t now_ms;
	bool json, keep, no_record;
	struct hw_report rep;
	uint64_t lsn, entries; /* for the history row */
	int64_t target_ms;
};

/* ---- options, shared by the three drills -------------------------------------------- */

static int opt_cb(void *arg, int key, const char *v)
{
	struct drill *d = arg;
	struct hw_drill_config *c = &d->cfg.drills;
	switch (key) {
	case 'c':
		d->config_path = v;
		return 0;
	case 'd':
		d->dir = v;
		return 0;
	case 's':
		d->scratch = v;
		return 0;
	case 'r':
		d->report_dir = v;
		return 0;
	case 'b':
		d->backup = v;
		return 0;
	case 'B':
		return snprintf(c->backup_dir, sizeof(c->backup_dir), "%s", v) >=
				       (int)sizeof(c->backup_dir)
			       ? -1
			       : 0;
	case 'o':
		return snprintf(c->offsite_dir, sizeof(c->offsite_dir), "%s", v) >=
				       (int)sizeof(c->offsite_dir)
			       ? -1
			       : 0;
	case 'C':
		d->connect = v;
		return 0;
	case 'x':
		if (d->n_compare == COMPARE_MAX)
			return -1;
		d->compare[d->n_compare++] = v;
		return 0;
	case 'l':
		d->lsn_given = true;
		return hw_cli_u64(v, &d->until_lsn) || d->until_lsn == 0 ? -1 : 0;
	case 't':
		d->time_given = true;
		return hw_cli_time_ms(v, &d->until_ms) || d->until_ms <= 0 ? -1 : 0;
	case 'R':
		return hw_duration_parse(v, &c->restore_rto_ms) || c->restore_rto_ms == 0 ? -1
												: 0;
	case 'n':
		return hw_cli_time_ms(v, &d->now_ms);
	case 'j':
		d->json = true;
		return 0;
	case 'k':
		d->keep = true;
		return 0;
	case 'N':
		d->no_record = true;
		return 0;
	}
	return -1;
}

#define OPT(name, arg, key)                                                                        \
	{                                                                                          \
		name, arg, NULL, key                                                               \
	}
#define COMMON_OPTS                                                                                \
	OPT("config", required_argument, 'c'), OPT("dir", required_argument, 'd'),                 \
		OPT("report-dir", required_argument, 'r'), OPT("json", no_argument, 'j'),          \
		OPT("no-record", no_argument, 'N')

static const struct option verify_opts[] = {
	COMMON_OPTS,
	OPT("compare", required_argument, 'x'),
	OPT("scratch", required_argument, 's'),
	{0},
};
static const struct option restore_opts[] = {
	COMMON_OPTS,
	OPT("backup", required_argument, 'b'),
	OPT("backup-dir", required_argument, 'B'),
	OPT("scratch", required_argument, 's'),
	OPT("until-lsn", required_argument, 'l'),
	OPT("until-time", required_argument, 't'),
	OPT("rto", required_argument, 'R'),
	OPT("keep", no_argument, 'k'),
	{0},
};
static const struct option procedure_opts[] = {
	COMMON_OPTS,
	OPT("backup-dir", required_argument, 'B'),
	OPT("offsite-dir", required_argument, 'o'),
	OPT("connect", required_argument, 'C'),
	OPT("scratch", required_argument, 's'),
	OPT("now", required_argument, 'n'),
	{0},
};

/* Read the config (if any) under the options: options given on the command line win, so
 * they are parsed twice, once to find --config and once over the loaded file. */
static int drill_setup(struct drill *d, const struct hw_cli_cmd *cmd, int argc, char **argv,
		       const struct option *opts)
{
	memset(d, 0, sizeof(*d));
	d->cmd = cmd;
	hw_config_defaults(&d->cfg);
	int rc = hw_cli_parse(cmd, argc, argv, opts, opt_cb, d, NULL, 0);
	if (rc != HW_CLI_RUN || !d->config_path)
		goto check;
	char err[600];
	const char *path = d->config_path;
	rc = hw_config_load(path, &d->cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "hawser %s: %s\n", cmd->name, err);
		return HW_CLI_ERROR;
	}
	static struct hw_config loaded;
	loaded = d->cfg;
	memset(d, 0, sizeof(*d));
	d->cmd = cmd;
	d->cfg = loaded;
	rc = hw_cli_parse(cmd, argc, argv, opts, opt_cb, d, NULL, 0);
	d->config_path = path;
check:
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d->dir && d->config_path)
		d->dir = d->cfg.data_dir;
	if (d->lsn_given && d->time_given)
		return hw_cli_usage_error(cmd, "give --until-lsn or --until-time, not both");
	if (d->now_ms == 0)
		d->now_ms = hw_cli_now_ms();
	hw_report_init(&d->rep, HW_DRILL_VERIFY, d->cfg.node_id[0] ? d->cfg.node_id : d->dir);
	return HW_CLI_RUN;
}

/* ---- helpers ------------------------------------------------------------------------ */

/* A fresh directory for a drill's scratch data: under --scratch when given (created if
 * missing), else next to the store. */
static int scratch_make(const struct drill *d, const char *tag, char *buf, size_t cap)
{
	if (!d->scratch)
		return hw_cli_scratch(d->dir, tag, buf, cap);
	if (mkdir(d->scratch, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (snprintf(buf, cap, "%s/%s-XXXXXX", d->scratch, tag) >= (int)cap)
		return -ENAMETOOLONG;
	return mkdtemp(buf) ? 0 : -errno;
}

/* Progress of hw_verify()/hw_restore(), drawn on a terminal, and the report-clock times
 * at which each pass began: a pass begins at the first call or when done does not grow
 * (each pass counts up from its start). */
#define TRACK_MARKS_MAX 4
struct tracker {
	const struct hw_report *rep;
	const char *label;
	double marks[TRACK_MARKS_MAX];
	int n_marks;
	uint64_t last_done;
};

static void track_cb(void *arg, uint64_t done, uint64_t total)
{
	struct tracker *t = arg;
	if ((t->n_marks == 0 || done <= t->last_done) && t->n_marks < TRACK_MARKS_MAX)
		t->marks[t->n_marks++] = hw_report_clock(t->rep);
	t->last_done = done;
	hw_cli_progress_cb((void *)t->label, done, total);
}

static const char *hex(const uint8_t *hash, char *buf)
{
	return hw_cli_hex(hash, buf);
}

/* The hash of the entry at lsn, or HW_ENOTFOUND when it was pruned. */
static int entry_hash(struct hw_store *s, uint64_t lsn, uint8_t out[HW_HASH_BYTES])
{
	uint8_t *buf;
	size_t len;
	int rc = hw_store_read_entry(s, lsn, &buf, &len);
	if (rc)
		return rc;
	struct hw_entry e;
	rc = hw_entry_decode(buf, len, &e);
	if (rc == 0)
		memcpy(out, e.hash, HW_HASH_BYTES);
	free(buf);
	return rc;
}

/* ---- verify ------------------------------------------------------------------------- */

/* The three things hw_verify proves, as checks; what its code says failed. */
static void verify_checks(struct hw_report *r, const struct hw_verify_report *v)
{
	int c = v->code;
	bool state_bad = c == HW_EDIGEST;
	bool record_bad = hw_is_reject(c);
	bool chain_bad = c != 0 && !state_bad && !record_bad;
	if (chain_bad)
		hw_report_check(r, "hash chain", HW_VERDICT_FAIL, "%s at LSN %" PRIu64 ": %s",
				hw_errname(c), v->first_bad_lsn, v->what);
	else
		hw_report_check(r, "hash chain", HW_VERDICT_PASS,
				"%" PRIu64 " entries chain from LSN %" PRIu64 " to %" PRIu64,
				v->entries, v->base_lsn + 1, v->head_lsn);
	if (record_bad)
		hw_report_check(r, "records decode and validate", HW_VERDICT_FAIL,
				"LSN %" PRIu64 ": %s", v->first_bad_lsn, v->what);
	else if (chain_bad)
		hw_report_check(r, "records decode and validate", HW_VERDICT_SKIP,
				"not reached: the chain is broken");
	else if (v->base_lsn != 0)
		hw_report_check(r, "records decode and validate", HW_VERDICT_SKIP,
				"the log starts after base LSN %" PRIu64
				": entries checked by hash only",
				v->base_lsn);
	else
		hw_report_check(r, "records decode and validate", HW_VERDICT_PASS,
				"every record decoded, validated and applied again");
	char a[2 * HW_HASH_BYTES + 1], b[2 * HW_HASH_BYTES + 1];
	if (state_bad)
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_FAIL,
				"stored %s, rebuilt %s", hex(v->digest_stored, a),
				hex(v->digest_rebuilt, b));
	else if (v->state_rebuilt)
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_PASS, "digest %s",
				hex(v->digest_stored, a));
	else
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_SKIP, "%s",
				c != 0 ? "not reached"
				       : "the log starts after a base: nothing to rebuild from");
}

/* Split hw_verify's run into its two passes from the tracker's marks: the walk reports
 * every 4096 entries, the rebuild after each batch and from 0 again. */
static void verify_phases(struct hw_report *r, const struct tracker *t, double t0, double t1,
			  const struct hw_verify_report *v)
{
	double split = t1;
	if (t->n_marks >= 2)
		split = t->marks[1];
	else if (t->n_marks == 1 && v->state_rebuilt && v->entries < 4096)
		split = t->marks[0]; /* too short a walk to report: the one pass seen is the rebuild
				      */
	enum hw_verdict walk = v->code != 0 && v->code != HW_EDIGEST && !hw_is_reject(v->code)
				       ? HW_VERDICT_FAIL
				       : HW_VERDICT_PASS;
	hw_report_phase(r, "chain walk", t0, split, walk, "%" PRIu64 " entries", v->entries);
	if (split < t1 || v->state_rebuilt)
		hw_report_phase(r, "rebuild and compare", split, t1,
				v->code == 0 ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
				"replayed into scratch, digests compared");
}

/* Verify the store in dir as a phase pair of r. Returns 0 when the check ran. */
static int verify_dir(struct drill *d, const char *dir, struct hw_verify_report *v)
{
	char scratch[PATH_MAX];
	int rc = scratch_make(d, "verify", scratch, sizeof(scratch));
	if (rc)
		return rc;
	struct tracker t = {.rep = &d->rep, .label = "verify"};
	double t0 = hw_report_clock(&d->rep);
	rc = hw_verify(dir, scratch, track_cb, &t, v);
	hw_cli_progress_end();
	double t1 = hw_report_clock(&d->rep);
	hw_cli_rmtree(scratch);
	if (rc == 0)
		verify_phases(&d->rep, &t, t0, t1, v);
	return rc;
}

/* Head, digest and head hash of the store in dir in one go, if no writer moved it in
 * between; *stable false when one did (the caller then replays to a fixed LSN). */
static int digest_now(const char *dir, struct hw_head *h, uint8_t digest[HW_HASH_BYTES],
		      bool *stable)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(dir, &o, &s);
	if (rc)
		return rc;
	struct hw_head again;
	rc = hw_store_head(s, h);
	if (rc == 0)
		rc = hw_store_digest(s, digest);
	if (rc == 0)
		rc = hw_store_head(s, &again);
	*stable = rc == 0 && again.lsn == h->lsn;
	hw_store_close(s);
	return rc;
}

/* Digest of dir at lsn: direct when its head is there, else a replay to lsn. */
static int digest_at(const char *dir, uint64_t lsn, const struct hw_head *h, bool stable,
		     uint8_t digest[HW_HASH_BYTES])
{
	if (stable && h->lsn == lsn)
		return 0; /* digest_now() already has it */
	uint64_t got;
	int rc = hw_cli_digest_at(dir, lsn, digest, &got);
	return rc == 0 && got != lsn ? HW_ELSN : rc;
}

/* Hash of entry lsn of both stores, equal or not; skipped when either pruned it. */
static int chain_compare(const char *a, const char *b, uint64_t lsn, bool *same, bool *known)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *sa = NULL, *sb = NULL;
	uint8_t ha[HW_HASH_BYTES], hb[HW_HASH_BYTES];
	*known = false;
	int rc = hw_store_open(a, &o, &sa);
	if (rc == 0)
		rc = hw_store_open(b, &o, &sb);
	if (rc == 0 && lsn > 0) {
		int ra = entry_hash(sa, lsn, ha), rb = entry_hash(sb, lsn, hb);
		*known = ra == 0 && rb == 0;
		*same = *known && memcmp(ha, hb, HW_HASH_BYTES) == 0;
		rc = ra != 0 && ra != HW_ENOTFOUND ? ra : rb != 0 && rb != HW_ENOTFOUND ? rb : 0;
	}
	hw_store_close(sb);
	hw_store_close(sa);
	return rc;
}

/* Compare the node's store with other's at the LSN both have. */
static void compare_one(struct drill *d, const char *other)
{
	struct hw_head ha, hb;
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	bool sa, sb, same = false, known = false;
	char name[HW_REPORT_NAME_BYTES];
	snprintf(name, sizeof(name), "compare %s", other);
	hw_report_phase_begin(&d->rep);
	int rc = digest_now(d->dir, &ha, da, &sa);
	if (rc == 0)
		rc = digest_now(other, &hb, db, &sb);
	uint64_t lsn = rc == 0 ? (ha.lsn < hb.lsn ? ha.lsn : hb.lsn) : 0;
	if (rc == 0)
		rc = digest_at(d->dir, lsn, &ha, sa, da);
	if (rc == 0)
		rc = digest_at(other, lsn, &hb, sb, db);
	if (rc == 0)
		rc = chain_compare(d->dir, other, lsn, &same, &known);
	char x[2 * HW_HASH_BYTES + 1], y[2 * HW_HASH_BYTES + 1];
	enum hw_verdict v = HW_VERDICT_PASS;
	if (rc) {
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v, "cannot compare: %s (%s)", hw_strerror(rc),
				hw_errname(rc));
	} else if (memcmp(da, db, HW_HASH_BYTES) != 0) {
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v,
				"state digest differs at LSN %" PRIu64 ": %s has %s, %s has %s",
				lsn, d->dir, hex(da, x), other, hex(db, y));
	} else if (known && !same) {
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v,
				"same state but the entry hash at LSN %" PRIu64
				" differs: the chains diverged",
				lsn);
	} else {
		hw_report_check(&d->rep, name, v, "digest %s equal at LSN %" PRIu64 "%s",
				hex(da, x), lsn, known ? ", entry hash equal" : "");
	}
	hw_report_phase_end(&d->rep, name, v, "at LSN %" PRIu64, lsn);
}

static int drill_finish(struct drill *d);

static int run_verify(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct drill d;
	int rc = drill_setup(&d, cmd, argc, argv, verify_opts);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d.dir)
		return hw_cli_usage_error(cmd, "--dir DIR or --config FILE is required");
	d.rep.kind = HW_DRILL_VERIFY;
	struct hw_verify_report v;
	rc = verify_dir(&d, d.dir, &v);
	if (rc) {
		hw_report_finish(&d.rep, HW_DRILL_ERROR, "verify of %s could not run: %s (%s)",
				 d.dir, hw_strerror(rc), hw_errname(rc));
		return drill_finish(&d);
	}
	verify_checks(&d.rep, &v);
	for (size_t i = 0; i < d.n_compare && v.code == 0; i++)
		compare_one(&d, d.compare[i]);
	d.lsn = v.head_lsn;
	d.entries = v.entries;
	char dg[2 * HW_HASH_BYTES + 1];
	hw_report_fact(&d.rep, "store", "%s", d.dir);
	hw_report_fact(&d.rep, "digest", "%s", hex(v.digest_stored, dg));
	hw_report_figure(&d.rep, "head_lsn", (double)v.head_lsn, "lsn");
	hw_report_figure(&d.rep, "entries", (double)v.entries, "entries");
	hw_report_figure(&d.rep, "verify_s", v.seconds, "s");
	hw_report_figure(&d.rep, "entries_per_s", v.seconds > 0 ? (double)v.entries / v.seconds : 0,
			 "entries/s");
	hw_report_figure(&d.rep, "stores_compared", (double)d.n_compare, "stores");
	if (hw_report_worst(&d.rep) == HW_VERDICT_FAIL)
		hw_report_finish(&d.rep, HW_DRILL_FAIL, "%s", "");
	else
		hw_report_finish(&d.rep, HW_DRILL_PASS,
				 "%" PRIu64 " entries intact to LSN %" PRIu64 "%s%s", v.entries,
				 v.head_lsn, v.state_rebuilt ? ", state rebuilt and equal" : "",
				 d.n_compare == 0   ? ""
				 : d.n_compare == 1 ? "; the other store agrees"
						    : "; the other stores agree");
	return drill_finish(&d);
}

/* ---- backups: MANIFEST and generations --------------------------------------------- */

struct generation {
	char path[PATH_MAX];
	int64_t time_ms; /* MANIFEST's mtime: when the backup (or its last increment) committed */
	uint64_t end_lsn;
	char chain_id[2 * HW_HASH_BYTES + 1];
	char end_hash[2 * HW_HASH_BYTES + 1];
	char problem[160]; /* "" when the files match the MANIFEST */
};

static uint64_t file_size(const char *dir, const char *name, bool *exists)
{
	char p[PATH_MAX + 32];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	*exists = stat(p, &st) == 0;
	return *exists ? (uint64_t)st.st_size : 0;
}

static void manifest_value(const char *text, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		size_t n = strcspn(p + klen + 1, "\n");
		snprintf(out, cap, "%.*s", (int)n, p + klen + 1);
		return;
	}
}

/* Read dir's MANIFEST into g, and check the files' sizes against it (the bytes are the
 * restore drill's business). Returns 0, or -ENOENT when there is no MANIFEST. */
static int generation_read(const char *dir, struct generation *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->path, sizeof(g->path), "%s", dir);
	char path[PATH_MAX + 16], text[MANIFEST_READ_MAX + 1], v[80];
	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	ssize_t n = fstat(fd, &st) == 0 ? read(fd, text, MANIFEST_READ_MAX) : -1;
	close(fd);
	if (n < 0)
		return -EIO;
	text[n] = '\0';
	g->time_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	manifest_value(text, "end_lsn", v, sizeof(v));
	g->end_lsn = strtoull(v, NULL, 10);
	manifest_value(text, "chain_id", g->chain_id, sizeof(g->chain_id));
	manifest_value(text, "end_hash", g->end_hash, sizeof(g->end_hash));
	manifest_value(text, "snapshot_bytes", v, sizeof(v));
	uint64_t snap = strtoull(v, NULL, 10);
	manifest_value(text, "log_bytes", v, sizeof(v));
	uint64_t log = strtoull(v, NULL, 10);
	bool have_snap, have_log;
	uint64_t snap_size = file_size(dir, "snapshot/data.mdb", &have_snap);
	uint64_t log_size = file_size(dir, "log.hwl", &have_log);
	if (!g->chain_id[0] || !g->end_hash[0])
		snprintf(g->problem, sizeof(g->problem), "MANIFEST lacks chain_id or end_hash");
	else if (!have_snap || snap_size != snap)
		snprintf(g->problem, sizeof(g->problem),
			 "snapshot/data.mdb is %" PRIu64 " bytes, MANIFEST says %" PRIu64,
			 snap_size, snap);
	else if (log > 0 && (!have_log || log_size < log))
		snprintf(g->problem, sizeof(g->problem),
			 "log.hwl is %" PRIu64 " bytes, MANIFEST says %" PRIu64, log_size, log);
	return 0;
}

static int generation_newer(const void *a, const void *b)
{
	const struct generation *x = a, *y = b;
	return x->time_ms < y->time_ms ? 1 : x->time_ms > y->time_ms ? -1 : 0;
}

/* The backup generations in dir, newest first: dir itself when it holds a MANIFEST, else
 * each subdirectory that does. *partial counts subdirectories without one (a backup
 * that died before its commit point). Returns 0 or -errno for dir. */
static int generations_scan(const char *dir, struct generation *g, size_t cap, size_t *n,
			    size_t *partial)
{
	*n = *partial = 0;
	if (generation_read(dir, &g[0]) == 0) {
		*n = 1;
		return 0;
	}
	DIR *dh = opendir(dir);
	if (!dh)
		return -errno;
	struct dirent *e;
	while ((e = readdir(dh)) != NULL && *n < cap) {
		char sub[PATH_MAX];
		struct stat st;
		if (e->d_name[0] == '.' ||
		    snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub) ||
		    stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		if (generation_read(sub, &g[*n]) == 0)
			(*n)++;
		else
			(*partial)++;
	}
	closedir(dh);
	qsort(g, *n, sizeof(*g), generation_newer);
	return 0;
}

/* ---- restore ------------------------------------------------------------------------ */

static int hex_equal(const char *text, const uint8_t *hash)
{
	char h[2 * HW_HASH_BYTES + 1];
	return strcmp(text, hex(hash, h)) == 0;
}

/* The restored store against what the backup promised: head LSN, and the end hash when
 * restored to the end. */
static void restore_target_checks(struct drill *d, const struct generation *g, bool have_g,
				  const char *restored, const struct hw_restore_info *info)
{
	uint64_t want = 0;
	if (have_g && !d->time_given)
		want = d->lsn_given && d->until_lsn < g->end_lsn ? d->until_lsn : g->end_lsn;
	if (want == 0)
		hw_report_check(&d->rep, "target reached", HW_VERDICT_PASS,
				"restored to LSN %" PRIu64, info->lsn);
	else
		hw_report_check(&d->rep, "target reached",
				info->lsn == want ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
				"restored to LSN %" PRIu64 ", target LSN %" PRIu64, info->lsn,
				want);
	if (!have_g || info->lsn != g->end_lsn)
		return;
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	struct hw_head h;
	int rc = hw_store_open(restored, &o, &s);
	if (rc == 0) {
		rc = hw_store_head(s, &h);
		hw_store_close(s);
	}
	if (rc)
		hw_report_check(&d->rep, "head matches MANIFEST", HW_VERDICT_FAIL, "%s",
				hw_strerror(rc));
	else
		hw_report_check(&d->rep, "head matches MANIFEST",
				hex_equal(g->end_hash, h.hash) ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
				"head hash at LSN %" PRIu64 " against end_hash %.16s...", h.lsn,
				g->end_hash);
}

static void restore_figures(struct drill *d, double restore_s, double verify_s, uint64_t lsn,
			    const char *backup)
{
	double total = restore_s + verify_s;
	int64_t rto = d->cfg.drills.restore_rto_ms;
	char a[32], b[32];
	hw_report_check(&d->rep, "restore time within RTO",
			total * 1000 <= (double)rto ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"%s to a verified store, restore_rto %s",
			hw_drill_duration_format((int64_t)(total * 1000), a, sizeof(a)),
			hw_drill_duration_format(rto, b, sizeof(b)));
	bool e;
	uint64_t bytes =
		file_size(backup, "snapshot/data.mdb", &e) + file_size(backup, "log.hwl", &e);
	hw_report_figure(&d->rep, "restore_s", restore_s, "s");
	hw_report_figure(&d->rep, "verify_s", verify_s, "s");
	hw_report_figure(&d->rep, "time_to_recovery_s", total, "s");
	hw_report_figure(&d->rep, "restore_rto_s", (double)rto / 1000.0, "s");
	hw_report_figure(&d->rep, "rto_used", rto > 0 ? total * 1000 / (double)rto : 0, "fraction");
	hw_report_figure(&d->rep, "restored_lsn", (double)lsn, "lsn");
	hw_report_figure(&d->rep, "replay_entries_per_s",
			 restore_s > 0 ? (double)lsn / restore_s : 0, "entries/s");
	hw_report_figure(&d->rep, "backup_bytes", (double)bytes, "bytes");
	d->target_ms = rto;
}

/* The restore itself, as phases "check backup" and "replay". */
static int restore_phase(struct drill *d, const char *backup, const char *into,
			 struct hw_restore_info *info)
{
	struct tracker t = {.rep = &d->rep, .label = "restore"};
	double t0 = hw_report_clock(&d->rep);
	int rc = hw_restore(backup, into, d->until_lsn, d->until_ms, track_cb, &t, info);
	hw_cli_progress_end();
	double t1 = hw_report_clock(&d->rep);
	double split = t.n_marks > 0 ? t.marks[0] : t1;
	enum hw_verdict v = rc == 0 ? HW_VERDICT_PASS : HW_VERDICT_FAIL;
	hw_report_phase(&d->rep, "check backup", t0, split,
			split < t1 || rc == 0 ? HW_VERDICT_PASS : v,
			"MANIFEST and BLAKE2b of the snapshot and log");
	if (split < t1)
		hw_report_phase(&d->rep, "replay", split, t1, v, "log replayed to LSN %" PRIu64,
				info->lsn);
	return rc;
}

static void restore_verdict(struct drill *d, int rc, const char *backup,
			    const struct hw_restore_info *info)
{
	if (rc == HW_EBACKUP) {
		hw_report_check(&d->rep, "backup intact", HW_VERDICT_FAIL, "%s", info->what);
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "backup %s is damaged: %s", backup,
				 info->what);
	} else if (rc == HW_ENOTFOUND) {
		hw_report_check(&d->rep, "target reached", HW_VERDICT_FAIL, "%s", info->what);
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "target point not in backup %s: %s",
				 backup, info->what[0] ? info->what : "before its first entry");
	} else if (rc) {
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "restore of %s could not run: %s (%s)",
				 backup, hw_strerror(rc), hw_errname(rc));
	}
}

/* Restore, verify the result, time it against the RTO. */
static void restore_run(struct drill *d, const char *backup, const char *into)
{
	struct generation g;
	bool have_g = generation_read(backup, &g) == 0;
	struct hw_restore_info info;
	memset(&info, 0, sizeof(info));
	int rc = restore_phase(d, backup, into, &info);
	if (rc) {
		restore_verdict(d, rc, backup, &info);
		return;
	}
	hw_report_check(&d->rep, "backup intact", HW_VERDICT_PASS,
			"MANIFEST and file hashes match");
	restore_target_checks(d, &g, have_g, into, &info);
	struct hw_verify_report v;
	double t0 = hw_report_clock(&d->rep);
	rc = verify_dir(d, into, &v);
	double verify_s = hw_report_clock(&d->rep) - t0;
	if (rc) {
		hw_report_finish(&d->rep, HW_DRILL_ERROR,
				 "verify of the restored store failed to run: %s", hw_strerror(rc));
		return;
	}
	verify_checks(&d->rep, &v);
	restore_figures(d, info.seconds, verify_s, info.lsn, backup);
	char dg[2 * HW_HASH_BYTES + 1], when[40], rto[32];
	hw_report_fact(&d->rep, "backup", "%s", backup);
	hw_report_fact(&d->rep, "restored_head_time", "%s",
		       hw_cli_iso(info.time_ms, when, sizeof(when)));
	hw_report_fact(&d->rep, "restored_digest", "%s", hex(info.digest, dg));
	d->lsn = info.lsn;
	d->entries = v.entries;
	if (hw_report_worst(&d->rep) == HW_VERDICT_FAIL)
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "%s", "");
	else
		hw_report_finish(
			&d->rep, HW_DRILL_PASS,
			"restored %s to LSN %" PRIu64
			" and verified in %.2f s, within restore_rto %s",
			backup, info.lsn, info.seconds + verify_s,
			hw_drill_duration_format(d->cfg.drills.restore_rto_ms, rto, sizeof(rto)));
}

/* The backup to restore: --backup, else the newest complete generation of backup_dir. */
static const char *restore_pick(struct drill *d)
{
	static struct generation g[GENERATIONS_MAX];
	if (d->backup)
		return d->backup;
	size_t n, partial;
	if (!d->cfg.drills.backup_dir[0] ||
	    generations_scan(d->cfg.drills.backup_dir, g, GENERATIONS_MAX, &n, &partial) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!g[i].problem[0])
			return g[i].path;
	return n > 0 ? g[0].path : NULL;
}

static int run_restore(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct drill d;
	int rc = drill_setup(&d, cmd, argc, argv, restore_opts);
	if (rc != HW_CLI_RUN)
		return rc;
	d.rep.kind = HW_DRILL_RESTORE;
	const char *backup = restore_pick(&d);
	if (!backup)
		return hw_cli_usage_error(cmd,
					  "--backup DIR (or backup_dir in the config) is required");
	if (!d.dir && !d.scratch)
		return hw_cli_usage_error(cmd, "--scratch DIR or --dir DIR is required");
	char scratch[PATH_MAX], into[PATH_MAX + 8];
	rc = scratch_make(&d, "restore", scratch, sizeof(scratch));
	if (rc)
		return hw_cli_fail(cmd->name, d.scratch ? d.scratch : d.dir, rc);
	snprintf(into, sizeof(into), "%s/store", scratch);
	restore_run(&d, backup, into);
	if (d.keep)
		hw_report_fact(&d.rep, "restored_store", "%s", into);
	else
		hw_cli_rmtree(scratch);
	return drill_finish(&d);
}

/* ---- procedure ---------------------------------------------------------------------- */

static void check_backups(struct drill *d, const char *chain_hex)
{
	static struct generation g[GENERATIONS_MAX];
	const struct hw_drill_config *c = &d->cfg.drills;
	size_t n = 0, partial = 0;
	char a[32], b[32];
	if (!c->backup_dir[0]) {
		hw_report_check(&d->rep, "backups exist", HW_VERDICT_FAIL,
				"no backup_dir configured");
		return;
	}
	int rc = generations_scan(c->backup_dir, g, GENERATIONS_MAX, &n, &partial);
	if (rc || n == 0) {
		hw_report_check(&d->rep, "backups exist", HW_VERDICT_FAIL,
				"backup_dir %s holds no backup%s%s", c->backup_dir, rc ? ": " : "",
				rc ? hw_strerror(rc) : "");
		return;
	}
	hw_report_check(&d->rep, "backups exist", HW_VERDICT_PASS, "%zu generation%s in %s", n,
			n == 1 ? "" : "s", c->backup_dir);
	int64_t newest = d->now_ms - g[0].time_ms, oldest = d->now_ms - g[n - 1].time_ms;
	hw_report_check(&d->rep, "newest backup age",
			newest <= c->backup_age_max_ms ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"%s old (%s), backup_age_max %s",
			hw_drill_duration_format(newest, a, sizeof(a)), g[0].path,
			hw_drill_duration_format(c->backup_age_max_ms, b, sizeof(b)));
	hw_report_check(&d->rep, "backup generations",
			n >= c->backup_generations_min ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"backup_dir %s holds %zu generation%s, %s backup_generations_min = %u%s",
			c->backup_dir, n, n == 1 ? "" : "s",
			n >= c->backup_generations_min ? "at least" : "fewer than",
			c->backup_generations_min,
			partial ? " (and incomplete ones without a MANIFEST)" : "");
	hw_report_check(&d->rep, "retention",
			oldest >= (int64_t)c->retention_days_min * MS_PER_DAY ? HW_VERDICT_PASS
									      : HW_VERDICT_FAIL,
			"oldest generation is %s old, retention_days_min = %u",
			hw_drill_duration_format(oldest, a, sizeof(a)), c->retention_days_min);
	size_t bad = 0, other = 0;
	const struct generation *first_bad = NULL;
	for (size_t i = 0; i < n; i++) {
		if (g[i].problem[0] && !first_bad)
			first_bad = &g[i];
		bad += g[i].problem[0] != 0;
		other += chain_hex[0] && strcmp(g[i].chain_id, chain_hex) != 0;
	}
	if (first_bad)
		hw_report_check(&d->rep, "backups complete", HW_VERDICT_FAIL,
				"%zu incomplete; %s: %s", bad, first_bad->path, first_bad->problem);
	else if (other)
		hw_report_check(&d->rep, "backups complete", HW_VERDICT_FAIL,
				"%zu generation%s of another chain than this store's", other,
				other == 1 ? " is" : "s are");
	else
		hw_report_check(&d->rep, "backups complete", HW_VERDICT_PASS,
				"every generation's files match its MANIFEST, same chain");
	hw_report_figure(&d->rep, "backup_generations", (double)n, "generations");
	hw_report_figure(&d->rep, "newest_backup_age_s", (double)newest / 1000.0, "s");
	hw_report_figure(&d->rep, "oldest_backup_age_s", (double)oldest / 1000.0, "s");
}

static void check_offsite(struct drill *d, const char *chain_hex)
{
	static struct generation g[GENERATIONS_MAX];
	const char *off = d->cfg.drills.offsite_dir;
	size_t n, partial;
	char a[32];
	if (!off[0]) {
		hw_report_check(
			&d->rep, "offsite copy", HW_VERDICT_FAIL,
			"no offsite_dir configured: every backup is within the primary's reach");
		return;
	}
	if (generations_scan(off, g, GENERATIONS_MAX, &n, &partial) != 0 || n == 0) {
		hw_report_check(&d->rep, "offsite copy", HW_VERDICT_FAIL,
				"offsite_dir %s holds no backup", off);
		return;
	}
	if (chain_hex[0] && strcmp(g[0].chain_id, chain_hex) != 0) {
		hw_report_check(&d->rep, "offsite copy", HW_VERDICT_FAIL,
				"newest offsite backup %s is of another chain", g[0].path);
		return;
	}
	struct stat so, sd;
	bool same_fs =
		d->dir && stat(off, &so) == 0 && stat(d->dir, &sd) == 0 && so.st_dev == sd.st_dev;
	hw_report_check(&d->rep, "offsite copy", same_fs ? HW_VERDICT_WARN : HW_VERDICT_PASS,
			"%zu generation%s in %s, newest %s old%s", n, n == 1 ? "" : "s", off,
			hw_drill_duration_format(d->now_ms - g[0].time_ms, a, sizeof(a)),
			same_fs ? "; on the same file system as the data directory" : "");
}

static void check_keys(struct drill *d)
{
	const struct hw_drill_config *c = &d->cfg.drills;
	if (c->n_keys == 0) {
		hw_report_check(&d->rep, "keys present", HW_VERDICT_SKIP, "no keys configured");
		return;
	}
	for (uint32_t i = 0; i < c->n_keys; i++) {
		struct stat st;
		const char *k = c->keys[i];
		if (stat(k, &st) != 0 || access(k, R_OK) != 0) {
			hw_report_check(&d->rep, "keys present", HW_VERDICT_FAIL, "%s: %s", k,
					strerror(errno));
			return;
		}
		if (!S_ISREG(st.st_mode) || st.st_size == 0) {
			hw_report_check(&d->rep, "keys present", HW_VERDICT_FAIL,
					"%s is not a non-empty file", k);
			return;
		}
		if (st.st_mode & 077) {
			hw_report_check(&d->rep, "keys present", HW_VERDICT_WARN,
					"%s is readable by group or others (mode %03o)", k,
					(unsigned)(st.st_mode & 0777));
			return;
		}
	}
	hw_report_check(&d->rep, "keys present", HW_VERDICT_PASS, "%u key file%s present",
			c->n_keys, c->n_keys == 1 ? "" : "s");
}

/* Connect to addr (HOST:PORT or unix:/path) within CONNECT_WAIT_MS. 0 or -errno. */
static int tcp_probe(const char *addr)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	const struct sockaddr *sa = (const struct sockaddr *)&un;
	socklen_t sl = sizeof(un);
	int family = AF_UNIX;
	if (strncmp(addr, "unix:", 5) == 0) {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", addr + 5);
	} else {
		char host[HW_ADDR_CHARS_MAX + 1];
		snprintf(host, sizeof(host), "%s", addr);
		char *colon = strrchr(host, ':');
		if (!colon)
			return -EINVAL;
		*colon = '\0';
		char *h = host[0] == '[' ? host + 1 : host;
		if (h != host && h[strlen(h) - 1] == ']')
			h[strlen(h) - 1] = '\0';
		if (getaddrinfo(h, colon + 1, &hints, &ai) != 0 || !ai)
			return -EHOSTUNREACH;
		sa = ai->ai_addr;
		sl = ai->ai_addrlen;
		family = ai->ai_family;
	}
	int rc = 0, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		rc = -errno;
	else if (connect(fd, sa, sl) != 0 && errno != EINPROGRESS)
		rc = -errno;
	if (fd >= 0 && rc == 0) {
		struct pollfd p = {fd, POLLOUT, 0};
		int err = 0;
		socklen_t el = sizeof(err);
		if (poll(&p, 1, CONNECT_WAIT_MS) != 1)
			rc = -ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err)
			rc = -(err ? err : errno);
	}
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return rc;
}

static void check_witness(struct drill *d)
{
	const struct hw_failover *fo = &d->cfg.failover;
	const char *w = d->cfg.drills.witness;
	if (!w[0] && fo->on && fo->witness < fo->n_voters)
		w = fo->voters[fo->witness]
			    .addr; /* [failover]'s witness, when [drills] names none */
	if (!w[0]) {
		hw_report_check(&d->rep, "witness reachable", HW_VERDICT_SKIP,
				"no witness configured");
		return;
	}
	int rc = tcp_probe(w);
	hw_report_check(&d->rep, "witness reachable", rc ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
			"%s%s%s", w, rc ? ": " : " accepts connections", rc ? hw_strerror(rc) : "");
}

/* Each configured standby connected to the node, lagging no more than the RPO. */
static void standbys_judge(struct drill *d, const Hawser__Wire__V1__Status *s)
{
	const struct hw_config *c = &d->cfg;
	int64_t worst = 0;
	for (uint32_t i = 0; i < c->n_standbys; i++) {
		const Hawser__Wire__V1__PeerStatus *p = NULL;
		for (size_t j = 0; j < s->n_peers; j++)
			if (s->peers[j]->node_id &&
			    strcmp(s->peers[j]->node_id, c->standbys[i]) == 0)
				p = s->peers[j];
		if (!p || !p->connected) {
			hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_FAIL,
					"standby %s is not connected to the node", c->standbys[i]);
			return;
		}
		if (p->lag_ms > c->drills.rpo_ms) {
			hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_FAIL,
					"standby %s lags %" PRId64 " ms (%" PRIu64
					" records), more than rpo %" PRId64 " ms",
					c->standbys[i], p->lag_ms, p->lag_records,
					c->drills.rpo_ms);
			return;
		}
		worst = p->lag_ms > worst ? p->lag_ms : worst;
	}
	hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_PASS,
			"%u standby(s) connected, worst lag %" PRId64 " ms within rpo %" PRId64
			" ms",
			c->n_standbys, worst, c->drills.rpo_ms);
	hw_report_figure(&d->rep, "standby_lag_ms_max", (double)worst, "ms");
}

static void check_standbys(struct drill *d)
{
	const char *addr = d->connect ? d->connect : d->cfg.client[0] ? d->cfg.client : NULL;
	if (!addr) {
		hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_SKIP,
				"no client address to ask the node (--connect or node.client)");
		return;
	}
	struct hw_client *cl;
	uint8_t *body = NULL;
	size_t len = 0;
	int rc = hw_client_connect(addr, &cl);
	if (rc == 0) {
		rc = hw_client_status(cl, STATUS_WAIT_MS, &body, &len);
		hw_client_close(cl);
	}
	Hawser__Wire__V1__Status *s = rc ? NULL : hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	if (!s) {
		hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_FAIL, "node at %s: %s",
				addr, hw_strerror(rc ? rc : HW_EPROTOCOL));
		return;
	}
	if (d->cfg.n_standbys == 0)
		hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_WARN,
				"node at %s answers, but no standbys are configured", addr);
	else
		standbys_judge(d, s);
	hawser__wire__v1__status__free_unpacked(s, NULL);
}

/* Room for a restore where the drills put it, and for the store to grow. */
static void check_disk(struct drill *d)
{
	bool e;
	uint64_t store = d->dir ? file_size(d->dir, "data.mdb", &e) : 0;
	const char *where[2] = {d->scratch ? d->scratch : d->dir, d->dir};
	const char *what[2] = {"scratch", "data directory"};
	for (int i = 0; i < 2; i++) {
		struct statvfs v;
		if (!where[i] || statvfs(where[i], &v) != 0) {
			hw_report_check(&d->rep, "disk space", HW_VERDICT_FAIL, "%s %s: %s",
					what[i], where[i] ? where[i] : "(none)", strerror(errno));
			return;
		}
		uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
		hw_report_figure(&d->rep, i == 0 ? "scratch_free_bytes" : "data_free_bytes",
				 (double)avail, "bytes");
		if (avail < store) {
			hw_report_check(&d->rep, "disk space", HW_VERDICT_FAIL,
					"%s %s has %" PRIu64
					" bytes free, less than the store's %" PRIu64,
					what[i], where[i], avail, store);
			return;
		}
	}
	hw_report_check(&d->rep, "disk space", HW_VERDICT_PASS,
			"room for a restore of the %" PRIu64 "-byte store", store);
}

/* The other kinds within their schedule (procedure itself is being run now). */
static void check_schedule(struct drill *d, struct hw_store *s)
{
	char late[160] = "";
	size_t used = 0;
	for (int k = 1; k <= HW_DRILL_KINDS; k++) {
		if (k == HW_DRILL_PROCEDURE)
			continue;
		struct hw_drill_row row;
		int rc = hw_store_drill_last(s, (enum hw_drill_kind)k, true, &row);
		struct hw_drill_due due;
		hw_drill_due(d->cfg.drills.every_ms[k], rc == 0 ? &row : NULL, d->now_ms, &due);
		if (due.state != HW_DRILL_OVERDUE && due.state != HW_DRILL_NEVER)
			continue;
		int n = snprintf(late + used, sizeof(late) - used, "%s%s (%s)", used ? ", " : "",
				 hw_drill_kind_name((enum hw_drill_kind)k),
				 hw_drill_state_name(due.state));
		used = n > 0 && used + (size_t)n < sizeof(late) ? used + (size_t)n : used;
	}
	hw_report_check(&d->rep, "drills within schedule", used ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
			"%s", used ? late : "every scheduled drill passed within its interval");
}

/* A check as a timed phase: the timeline shows where a slow check spent its time. */
static void timed(struct drill *d, void (*fn)(struct drill *))
{
	hw_report_phase_begin(&d->rep);
	size_t before = d->rep.n_checks;
	fn(d);
	if (d->rep.n_checks > before) {
		const struct hw_report_check *c = &d->rep.checks[d->rep.n_checks - 1];
		hw_report_phase_end(&d->rep, c->name, c->verdict, "%s", c->detail);
	}
}

/* The checks that need the store open: its head, chain, backups and the history. */
static void procedure_store(struct drill *d)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s = NULL;
	char chain[2 * HW_HASH_BYTES + 1] = "";
	uint8_t id[HW_HASH_BYTES];
	struct hw_head h = {0};
	hw_report_phase_begin(&d->rep);
	int rc = hw_store_open(d->dir, &o, &s);
	if (rc == 0)
		rc = hw_store_head(s, &h);
	if (rc == 0 && h.lsn > 0 && hw_store_chain_id(s, id) == 0)
		hex(id, chain);
	if (rc)
		hw_report_check(&d->rep, "store opens", HW_VERDICT_FAIL, "%s: %s", d->dir,
				hw_strerror(rc));
	else
		hw_report_check(&d->rep, "store opens", HW_VERDICT_PASS, "%s: head LSN %" PRIu64,
				d->dir, h.lsn);
	hw_report_phase_end(&d->rep, "store opens", rc ? HW_VERDICT_FAIL : HW_VERDICT_PASS, "%s",
			    d->dir);
	d->lsn = h.lsn;
	hw_report_phase_begin(&d->rep);
	check_backups(d, chain);
	hw_report_phase_end(&d->rep, "backups", HW_VERDICT_PASS, "generations, ages, retention");
	hw_report_phase_begin(&d->rep);
	check_offsite(d, chain);
	hw_report_phase_end(&d->rep, "offsite copy", d->rep.checks[d->rep.n_checks - 1].verdict,
			    "%s", d->rep.checks[d->rep.n_checks - 1].detail);
	if (s) {
		hw_report_phase_begin(&d->rep);
		check_schedule(d, s);
		hw_report_phase_end(&d->rep, "drills within schedule",
				    d->rep.checks[d->rep.n_checks - 1].verdict, "history");
	}
	hw_store_close(s);
}

/* The backups phase is judged by its checks: mark it with the worst of them. */
static void backups_phase_verdict(struct hw_report *r)
{
	for (size_t i = 0; i < r->n_phases; i++) {
		if (strcmp(r->phases[i].name, "backups") != 0)
			continue;
		for (size_t j = 0; j < r->n_checks; j++) {
			const char *n = r->checks[j].name;
			bool ours = !strncmp(n, "backup", 6) || !strcmp(n, "newest backup age") ||
				    !strcmp(n, "retention");
			if (ours && r->checks[j].verdict == HW_VERDICT_FAIL)
				r->phases[i].verdict = HW_VERDICT_FAIL;
		}
	}
}

static int run_procedure(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct drill d;
	int rc = drill_setup(&d, cmd, argc, argv, procedure_opts);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d.dir)
		return hw_cli_usage_error(cmd, "--dir DIR or --config FILE is required");
	d.rep.kind = HW_DRILL_PROCEDURE;
	procedure_store(&d);
	backups_phase_verdict(&d.rep);
	timed(&d, check_keys);
	timed(&d, check_witness);
	timed(&d, check_standbys);
	timed(&d, check_disk);
	size_t fails = 0, warns = 0;
	const char *first = NULL;
	for (size_t i = 0; i < d.rep.n_checks; i++) {
		const struct hw_report_check *c = &d.rep.checks[i];
		if (c->verdict == HW_VERDICT_FAIL && fails++ == 0)
			first = c->detail;
		warns += c->verdict == HW_VERDICT_WARN;
	}
	if (fails)
		hw_report_finish(&d.rep, HW_DRILL_FAIL, "%zu of %zu checks failed; first: %s",
				 fails, d.rep.n_checks, first);
	else
		hw_report_finish(&d.rep, HW_DRILL_PASS,
				 "%zu checks passed or skipped, %zu warning%s",
				 d.rep.n_checks - warns, warns, warns == 1 ? "" : "s");
	return drill_finish(&d);
}

/* ---- the end of every drill: report files, history row, summary ------------------- */

/* A FAIL found by the checks names the first failing one. */
static void fill_what(struct hw_report *r)
{
	if (r->what[0] || r->result != HW_DRILL_FAIL)
		return;
	for (size_t i = 0; i < r->n_checks; i++) {
		if (r->checks[i].verdict != HW_VERDICT_FAIL)
			continue;
		snprintf(r->what, sizeof(r->what), "%s: %s", r->checks[i].name,
			 r->checks[i].detail);
		return;
	}
}

static void record(struct drill *d, const char *json_path)
{
	if (d->no_record || !d->dir)
		return;
	struct hw_drill_row row = {
		.time_ms = d->rep.started_ms,
		.kind = d->rep.kind,
		.result = d->rep.result,
		.duration_ms = (uint64_t)(d->rep.seconds * 1000),
		.lsn = d->lsn,
		.entries = d->entries,
		.target_ms = (uint64_t)d->target_ms,
	};
	snprintf(row.what, sizeof(row.what), "%s", d->rep.what);
	snprintf(row.report, sizeof(row.report), "%s", json_path);
	struct hw_store *s;
	int rc = hw_store_open(d->dir, NULL, &s);
	if (rc == 0) {
		rc = hw_store_drill_append(s, &row);
		hw_store_close(s);
	}
	if (rc)
		fprintf(stderr, "hawser %s: drill history of %s not updated: %s (%s)\n",
			d->cmd->name, d->dir, hw_strerror(rc), hw_errname(rc));
}

static void summary(const struct drill *d, const char *json_path, const char *html_path)
{
	const struct hw_report *r = &d->rep;
	if (d->json) {
		hw_report_json(r, stdout);
		return;
	}
	printf("hawser %s: %s: %s (%.2f s)\n", d->cmd->name, hw_drill_result_name(r->result),
	       r->what, r->seconds);
	for (size_t i = 0; i < r->n_checks; i++)
		printf("  %-4s  %-28s %s\n", hw_verdict_name(r->checks[i].verdict),
		       r->checks[i].name, r->checks[i].detail);
	if (html_path[0])
		printf("  report: %s\n          %s\n", html_path, json_path);
}

static int drill_finish(struct drill *d)
{
	fill_what(&d->rep);
	char dir[PATH_MAX], json_path[PATH_MAX] = "", html_path[PATH_MAX] = "";
	if (d->report_dir)
		snprintf(dir, sizeof(dir), "%s", d->report_dir);
	else if (d->cfg.drills.report_dir[0])
		snprintf(dir, sizeof(dir), "%s", d->cfg.drills.report_dir);
	else if (d->dir)
		snprintf(dir, sizeof(dir), "%s.drills", d->dir);
	else
		snprintf(dir, sizeof(dir), "%s/drills", d->scratch);
	int rc = hw_report_write(&d->rep, dir, json_path, html_path, sizeof(json_path));
	if (rc) {
		fprintf(stderr, "hawser %s: report not written to %s: %s\n", d->cmd->name, dir,
			hw_strerror(rc));
		json_path[0] = html_path[0] = '\0';
	}
	record(d, json_path);
	summary(d, json_path, html_path);
	switch (d->rep.result) {
	case HW_DRILL_PASS:
		return HW_CLI_OK;
	case HW_DRILL_FAIL:
		return HW_CLI_DAMAGE;
	default:
		return HW_CLI_ERROR;
	}
}

/* ---- status: the drill part of `hawser status` ------------------------------------- */

static void status_json_kind(struct hw_json *j, int k, const struct hw_drill_due *due,
			     const struct hw_drill_row *last, const struct hw_drill_row *pass,
			     int64_t every_ms)
{
	char when[40];
	hw_json_object_begin(j);
	hw_json_key(j, "kind");
	hw_json_string(j, hw_drill_kind_name((enum hw_drill_kind)k));
	hw_json_key(j, "every_ms");
	hw_json_int(j, every_ms);
	hw_json_key(j, "state");
	hw_json_string(j, hw_drill_state_name(due->state));
	hw_json_key(j, "due");
	hw_json_string(j, due->due_ms ? hw_cli_iso(due->due_ms, when, sizeof(when)) : NULL);
	hw_json_key(j, "overdue_ms");
	hw_json_int(j, due->overdue_ms);
	hw_json_key(j, "last_pass");
	hw_json_string(j, pass ? hw_cli_iso(pass->time_ms, when, sizeof(when)) : NULL);
	hw_json_key(j, "last");
	if (!last) {
		hw_json_string(j, NULL);
	} else {
		hw_json_object_begin(j);
		hw_json_key(j, "time");
		hw_json_string(j, hw_cli_iso(last->time_ms, when, sizeof(when)));
		hw_json_key(j, "result");
		hw_json_string(j, hw_drill_result_name(last->result));
		hw_json_key(j, "seconds");
		hw_json_double(j, (double)last->duration_ms / 1000.0);
		hw_json_key(j, "lsn");
		hw_json_uint(j, last->lsn);
		hw_json_key(j, "what");
		hw_json_string(j, last->what);
		hw_json_key(j, "report");
		hw_json_string(j, last->report);
		hw_json_object_end(j);
	}
	hw_json_object_end(j);
}

static void status_text_kind(int k, const struct hw_drill_due *due, const struct hw_drill_row *last,
			     int64_t every_ms)
{
	char when[40], dur[32], every[32];
	printf("  %-9s ", hw_drill_kind_name((enum hw_drill_kind)k));
	if (last)
		printf("last %s %s (%s, lsn %" PRIu64 ")%s%s; ", hw_drill_result_name(last->result),
		       hw_cli_iso(last->time_ms, when, sizeof(when)),
		       hw_drill_duration_format((int64_t)last->duration_ms, dur, sizeof(dur)),
		       last->lsn, last->result != HW_DRILL_PASS ? ": " : "",
		       last->result != HW_DRILL_PASS ? last->what : "");
	else
		printf("never run; ");
	hw_drill_duration_format(every_ms, every, sizeof(every));
	switch (due->state) {
	case HW_DRILL_UNSCHEDULED:
		printf("not scheduled\n");
		break;
	case HW_DRILL_ON_TIME:
		printf("on time (every %s), next due %s\n", every,
		       hw_cli_iso(due->due_ms, when, sizeof(when)));
		break;
	case HW_DRILL_OVERDUE:
		printf("OVERDUE by %s (every %s)\n",
		       hw_drill_duration_format(due->overdue_ms, dur, sizeof(dur)), every);
		break;
	case HW_DRILL_NEVER:
		printf("OVERDUE: never passed (every %s)\n", every);
		break;
	}
}

void hw_cli_drill_status_kind(struct hw_json *j, int kind, const struct hw_drill_due *due,
			      const struct hw_drill_row *last, const struct hw_drill_row *pass,
			      int64_t every_ms)
{
	if (j)
		status_json_kind(j, kind, due, last, pass, every_ms);
	else
		status_text_kind(kind, due, last, every_ms);
}

int hw_cli_drill_status(const char *dir, const struct hw_drill_config *c, int64_t now_ms,
			struct hw_json *j)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(dir, &o, &s);
	if (rc)
		return rc;
	char overdue[128] = "";
	if (j) {
		hw_json_key(j, "drills");
		hw_json_array_begin(j);
	} else {
		printf("drills (store %s):\n", dir);
	}
	for (int k = 1; k <= HW_DRILL_KINDS && rc == 0; k++) {
		struct hw_drill_row last, pass;
		int rl = hw_store_drill_last(s, (enum hw_drill_kind)k, false, &last);
		int rp = hw_store_drill_last(s, (enum hw_drill_kind)k, true, &pass);
		rc = rl != 0 && rl != HW_ENOTFOUND ? rl : rp != 0 && rp != HW_ENOTFOUND ? rp : 0;
		struct hw_drill_due due;
		hw_drill_due(c->every_ms[k], rp == 0 ? &pass : NULL, now_ms, &due);
		if (due.state == HW_DRILL_OVERDUE || due.state == HW_DRILL_NEVER)
			snprintf(overdue + strlen(overdue), sizeof(overdue) - strlen(overdue),
				 "%s%s", overdue[0] ? ", " : "",
				 hw_drill_kind_name((enum hw_drill_kind)k));
		hw_cli_drill_status_kind(j, k, &due, rl == 0 ? &last : NULL, rp == 0 ? &pass : NULL,
					 c->every_ms[k]);
	}
	if (j) {
		hw_json_array_end(j);
		hw_json_key(j, "drills_overdue");
		hw_json_string(j, overdue);
	} else {
		printf("  overdue: %s\n", overdue[0] ? overdue : "none");
	}
	hw_store_close(s);
	return rc;
}

/* ---- dispatch ----------------------------------------------------------------------- */

#define COMMON_USAGE                                                                               \
	"  --config FILE   the node's config: data_dir, [drills] schedule and targets\n"           \
	"  --dir DIR       the node's store (default: data_dir of --config)\n"                     \
	"  --report-dir D  where the JSON and HTML reports go (default: [drills] report_dir,\n"    \
	"                  else DIR.drills)\n"                                                     \
	"  --json          print the report as JSON instead of a summary\n"                        \
	"  --no-record     do not append the run to the store's drill history\n"                   \
	"  Exit 0 PASS, 3 FAIL, 1 ERROR (the drill could not reach a verdict).\n"

static const struct hw_cli_cmd drill_verify = {
	"drill verify", "integrity of a replica; digests across stores",
	"usage: hawser drill verify (--dir DIR | --config FILE) [--compare DIR2]...\n"
	"                           [--scratch S] [--report-dir D] [--json] [--no-record]\n"
	"  Walk DIR's hash chain, decode and validate every record, rebuild the state from\n"
	"  the log in scratch and compare it with the stored state. With --compare (up to\n"
	"  8 times), compare the state digests of DIR and DIR2 at the LSN both have, and\n"
	"  the entry hash there (the stores of a running cluster can be read live).\n" COMMON_USAGE,
	run_verify};

static const struct hw_cli_cmd drill_restore = {
	"drill restore", "restore a backup into scratch, verify, time it against the RTO",
	"usage: hawser drill restore [--backup B] --scratch S [--until-lsn N | --until-time T]\n"
	"                            [--dir DIR | --config FILE] [--rto DUR] [--keep] ...\n"
	"  Restore backup B (default: the newest complete generation in backup_dir) into a\n"
	"  fresh directory under S, replaying to the end or to the target point, verify the\n"
	"  result, and hold the time to a verified store to restore_rto (--rto, e.g. 12h).\n"
	"  The history row goes to DIR's store. --keep leaves the restored store in S.\n"
	"  --backup-dir D overrides backup_dir.\n" COMMON_USAGE,
	run_restore};

static const struct hw_cli_cmd drill_procedure = {
	"drill procedure", "the operator's pre-recovery checklist, touching no data",
	"usage: hawser drill procedure (--dir DIR | --config FILE) [--backup-dir D]\n"
	"                              [--offsite-dir D] [--connect ADDR] [--scratch S]\n"
	"                              [--now T] ...\n"
	"  Check, without changing any data: backups exist, the newest one's age, the count\n"
	"  of generations and how far back they reach, that each matches its MANIFEST, a\n"
	"  copy outside the primary's reach (offsite_dir), key files present, the witness\n"
	"  and the standbys reachable with lag within rpo (asking the node at ADDR or\n"
	"  node.client), disk space for a restore, and every other drill within its\n"
	"  schedule. --now T judges ages and schedules at T instead of now.\n" COMMON_USAGE,
	run_procedure};

static const struct hw_cli_cmd *const subs[] = {&drill_verify, &drill_restore, &drill_procedure,
						 &hw_cli_drill_failover};
#define SUBS_COUNT (sizeof(subs) / sizeof(subs[0]))

static int cmd_drill(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	if (argc < 2)
		return hw_cli_usage_error(cmd, "give a drill: verify, restore, procedure or failover");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cmd->usage, stdout);
		return HW_CLI_OK;
	}
	for (size_t i = 0; i < SUBS_COUNT; i++)
		if (!strcmp(argv[1], subs[i]->name + strlen("drill ")))
			return subs[i]->run(subs[i], argc - 1, argv + 1);
	return hw_cli_usage_error(cmd, "unknown drill '%s'", argv[1]);
}

const struct hw_cli_cmd hw_cli_drill = {
	"drill", "restore, verify, procedure and failover drills, with reports",
	"usage: hawser drill verify|restore|procedure|failover [options]   (--help after each)\n"
	"  verify     integrity of a replica, and digests across stores at one LSN\n"
	"  restore    restore a backup into scratch, verify it, time it against restore_rto\n"
	"  procedure  the checks before trusting a recovery, without touching data\n"
	"  failover   failovers under load on a local cluster: measured RTO, loss, overlap\n"
	"  Each writes a JSON and an HTML report and appends to the store's drill history;\n"
	"  `hawser status --dir DIR` shows the last runs and what is overdue\n"
	"  (docs/drills.md).\n",
	cmd_drill};
