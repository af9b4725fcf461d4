/* cmd_drill.c: `hawser drill`, the drills that show a recovery works before it is needed
 * (docs/drills.md): the dispatch, what verify, restore and procedure share (options,
 * setup, backup generations, the end of every drill; each drill has its own
 * cmd_drill_<name>.c) and the drill part of `hawser status`.
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmd_drill.h"

#include "base/fs.h"
#include "base/log.h"
#include "cli/isolate.h"
#include "cli/json.h"
#include "replica/backup.h"
#include "replica/drills.h"
#include "replica/store.h"
#include "replica/verify.h"

#define MANIFEST_READ_MAX 4096

/* ---- options, shared by the drills -------------------------------------------------- */

/* Copy the path v into buf (cap bytes): 0, or -1 when it does not fit. */
static int path_set(char *buf, size_t cap, const char *v)
{
	return snprintf(buf, cap, "%s", v) >= (int)cap ? -1 : 0;
}

int hw_cli_drill_opt(void *arg, int key, const char *v)
{
	struct drill *d = arg;
	struct hw_drill_config *c = &d->cfg.drills;
	if (hw_cli_security_opt(&d->sec, key, v))
		return 0;
	switch (key) {
	case 'M':
		return hw_cli_u64(v, &d->replay_max) || d->replay_max == 0 ? -1 : 0;
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
		return path_set(c->backup_dir, sizeof(c->backup_dir), v);
	case 'o':
		return path_set(c->offsite_dir, sizeof(c->offsite_dir), v);
	case 'C': /* drill verify dials each node; the others give the list to one client */
		d->connect = v;
		return d->cmd == &hw_cli_drill_verify ? hw_cli_addrs_max(v, VERIFY_NODES_MAX)
						      : hw_cli_addrs(v);
	case 'T':
		if (d->n_trust_files == HW_DRILL_TRUST_MAX)
			return -1;
		d->trust_files[d->n_trust_files++] = v;
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
		return hw_cli_duration(v, &c->restore_rto_ms) || c->restore_rto_ms == 0 ||
				       c->restore_rto_ms > HW_DRILL_SPAN_MS_MAX
			       ? -1
			       : 0; /* as [drills] restore_rto */
	case 'n':
		d->now_given = true;
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

/* --now T (a usage error out of range: hw_cli_now_check), else the clock. */
static int now_check(struct drill *d)
{
	if (d->now_given)
		return hw_cli_now_check(d->cmd, d->now_ms);
	d->now_ms = hw_wall_ms();
	return HW_CLI_RUN;
}

/* The paths given on the command line are there (a --trust file a node.pub) before the
 * drill starts: a slip in one is
 * the operator's to fix, not a drill result to record (nothing is written, exit 2), and a
 * report or scratch directory that cannot be made fails now rather than after the run. */
static int paths_check(struct drill *d)
{
	struct stat st;
	for (size_t i = 0; i < d->n_compare; i++)
		if (stat(d->compare[i], &st) != 0)
			return hw_cli_usage_error(d->cmd, "--compare %s: %s", d->compare[i],
						  strerror(errno));
	if (d->backup && stat(d->backup, &st) != 0)
		return hw_cli_usage_error(d->cmd, "--backup %s: %s", d->backup, strerror(errno));
	for (d->n_trust = 0; d->n_trust < d->n_trust_files; d->n_trust++) {
		const char *file = d->trust_files[d->n_trust];
		int rc = hw_cli_load_sign_pub(file, d->trust + d->n_trust * HW_SIGN_PK_BYTES);
		if (rc != 0)
			return hw_cli_usage_error(d->cmd, "--trust %s: %s", file,
						  rc == HW_ECONFIG
							  ? "not a node.pub with a sign line"
							  : hw_strerror(rc));
	}
	/* DIR.drills is made beside a store only: a path with no data.mdb in it (a slip such
	 * as /tmp or a store's parent) would get a directory of reports next to it */
	char mdb[PATH_MAX];
	if (d->dir && !d->report_dir && !d->cfg.drills.report_dir[0] &&
	    (snprintf(mdb, sizeof mdb, "%s/data.mdb", d->dir) >= (int)sizeof mdb ||
	     stat(mdb, &st) != 0))
		return hw_cli_usage_error(
			d->cmd,
			"%s is not a hawser store (no data.mdb in it): no "
			"report goes beside it; name a store, or give --report-dir",
			d->dir);
	/* as they are made later: the scratch directory alone, the reports' with parents */
	if (d->scratch && mkdir(d->scratch, 0700) != 0 && errno != EEXIST)
		return hw_cli_fail(d->cmd->name, d->scratch, -errno);
	if (d->scratch && (stat(d->scratch, &st) != 0 || !S_ISDIR(st.st_mode)))
		return hw_cli_fail(d->cmd->name, d->scratch, -ENOTDIR);
	int rc = d->report_dir ? hw_fs_mkdirs(d->report_dir, 0755) : 0;
	return rc == 0 ? HW_CLI_RUN : hw_cli_fail(d->cmd->name, d->report_dir, rc);
}

/* Read the config (if any) under the options: options given on the command line win, so
 * they are parsed twice, once to find --config and once over the loaded file. */
int hw_cli_drill_setup(struct drill *d, const struct hw_cli_cmd *cmd, int argc, char **argv,
		       const struct option *opts)
{
	memset(d, 0, sizeof(*d));
	d->cmd = cmd;
	hw_config_defaults(&d->cfg);
	int rc = hw_cli_parse(cmd, argc, argv, opts, hw_cli_drill_opt, d, NULL, 0);
	if (rc != HW_CLI_RUN || !d->config_path)
		goto check;
	char err[600];
	const char *path = d->config_path;
	rc = hw_config_load(path, &d->cfg, err, sizeof(err));
	if (rc) {
		hw_config_perror(path, rc, err);
		return HW_CLI_ERROR;
	}
	static struct hw_config loaded;
	loaded = d->cfg;
	memset(d, 0, sizeof(*d));
	d->cmd = cmd;
	d->cfg = loaded;
	rc = hw_cli_parse(cmd, argc, argv, opts, hw_cli_drill_opt, d, NULL, 0);
	d->config_path = path;
check:
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d->dir && d->config_path)
		d->dir = d->cfg.data_dir;
	if (d->lsn_given && d->time_given)
		return hw_cli_usage_error(cmd, "give --until-lsn or --until-time, not both");
	rc = now_check(d);
	if (rc == HW_CLI_RUN)
		rc = paths_check(d);
	if (rc != HW_CLI_RUN)
		return rc;
	hw_report_init(&d->rep, HW_DRILL_VERIFY, d->cfg.node_id[0] ? d->cfg.node_id : d->dir);
	d->rep.judged_ms = d->now_given ? d->now_ms : 0;
	return HW_CLI_RUN;
}

/* ---- helpers ------------------------------------------------------------------------ */

/* A fresh directory for a drill's scratch data: under --scratch when given (created if
 * missing), else next to the store. */
int hw_cli_drill_scratch(const struct drill *d, const char *tag, char *buf, size_t cap)
{
	return hw_cli_scratch_in(d->scratch, d->dir, tag, buf, cap);
}

const char *hw_cli_drill_stopped_why(char *buf, size_t cap)
{
	int sig = (int)*hw_cli_interrupted();
	if (sig)
		snprintf(buf, cap, "stopped, interrupted by signal %d", sig);
	else
		snprintf(buf, cap, "stopped, its process killed from outside");
	return buf;
}

int hw_cli_drill_track_cb(void *arg, uint64_t done, uint64_t total)
{
	struct tracker *t = arg;
	if (*hw_cli_interrupted())
		return HW_ECANCELED;
	if (done == 0 && total == 0)
		return 0; /* a poll (replica/verify.h): no progress to mark */
	if ((t->n_marks == 0 || done <= t->last_done) && t->n_marks < TRACK_MARKS_MAX)
		t->marks[t->n_marks++] = hw_report_clock(t->rep);
	t->last_done = done;
	return hw_cli_progress_cb((void *)t->label, done, total);
}

uint64_t hw_cli_drill_file_size(const char *dir, const char *name, bool *exists)
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

static int64_t mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* Read dir's MANIFEST into g, and check the files' sizes against it (the bytes are the
 * restore drill's business). Returns 0, or -ENOENT when there is no MANIFEST. */
int hw_cli_drill_generation_read(const char *dir, struct generation *g)
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
	g->time_ms = mtime_ms(&st);
	manifest_value(text, "end_lsn", v, sizeof(v));
	g->end_lsn = strtoull(v, NULL, 10);
	manifest_value(text, "chain_id", g->chain_id, sizeof(g->chain_id));
	manifest_value(text, "end_hash", g->end_hash, sizeof(g->end_hash));
	char what[160] = "";
	int rc = hw_backup_check(dir, false, what); /* the restore reads the hashes */
	if (rc != 0)
		snprintf(g->problem, sizeof(g->problem), "%s", what[0] ? what : hw_strerror(rc));
	return 0;
}

static int generation_newer(const void *a, const void *b)
{
	const struct generation *x = a, *y = b;
	return x->time_ms < y->time_ms ? 1 : x->time_ms > y->time_ms ? -1 : 0;
}

/* Entries of a subdirectory without a MANIFEST read to date it: a backup holds five at
 * its top; a directory with more is not one, and is dated by the first read. */
#define UNFINISHED_ENTRIES_MAX 256

/* sub (its stat in own), a subdirectory whose MANIFEST did not read (rc), as a backup that
 * did not commit: dated by the newest mtime of what it holds (dot files aside: a running
 * backup's lock), else by its own (empty), and kept in *u when newer than the one there,
 * with what it is in u->problem ("incomplete: ..." or "damaged: ..."). */
static void unfinished_note(const char *sub, const struct stat *own, int rc, struct generation *u)
{
	int64_t t = -1;
	bool marker = false;
	DIR *dh = opendir(sub);
	struct dirent *e;
	for (int i = 0; dh && i < UNFINISHED_ENTRIES_MAX && (e = readdir(dh)) != NULL; i++) {
		char p[PATH_MAX];
		struct stat st;
		if (e->d_name[0] == '.' ||
		    snprintf(p, sizeof(p), "%s/%s", sub, e->d_name) >= (int)sizeof(p) ||
		    lstat(p, &st) != 0)
			continue;
		marker |= strcmp(e->d_name, HW_BACKUP_MARKER) == 0;
		t = mtime_ms(&st) > t ? mtime_ms(&st) : t;
	}
	if (dh)
		closedir(dh);
	bool empty = t < 0;
	t = empty ? mtime_ms(own) : t;
	if (u->path[0] && t <= u->time_ms)
		return;
	memset(u, 0, sizeof(*u));
	snprintf(u->path, sizeof(u->path), "%s", sub);
	u->time_ms = t;
	if (rc != -ENOENT)
		snprintf(u->problem, sizeof(u->problem), "damaged: its MANIFEST cannot be read: %s",
			 hw_strerror(rc));
	else if (marker)
		snprintf(u->problem, sizeof(u->problem),
			 "incomplete: it holds " HW_BACKUP_MARKER " and no MANIFEST (a full "
			 "backup cut short)");
	else
		snprintf(u->problem, sizeof(u->problem), "damaged: it holds %s",
			 empty ? "nothing, no MANIFEST" : "no MANIFEST (removed, or renamed)");
}

/* The backup generations in dir, newest first: dir itself when it holds a MANIFEST, else
 * each subdirectory that does. *partial counts subdirectories without one (a backup
 * that died before its commit point), and *unfinished (may be NULL) gets the newest of
 * them (path "" when none). Returns 0 or -errno for dir. */
int hw_cli_drill_generations_scan(const char *dir, struct generation *g, size_t cap, size_t *n,
				  size_t *partial, struct generation *unfinished)
{
	*n = *partial = 0;
	if (unfinished)
		unfinished->path[0] = '\0';
	if (hw_cli_drill_generation_read(dir, &g[0]) == 0) {
		*n = 1;
		return 0;
	}
	DIR *dh = opendir(dir);
	if (!dh)
		return -errno;
	struct dirent *e;
	struct generation one;
	while ((e = readdir(dh)) != NULL) {
		char sub[PATH_MAX];
		struct stat st;
		if (e->d_name[0] == '.' ||
		    snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub) ||
		    stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		int rc = hw_cli_drill_generation_read(sub, &one);
		if (rc != 0) {
			(*partial)++;
			if (unfinished && !hw_backup_writing(sub)) /* one under way is not judged */
				unfinished_note(sub, &st, rc, unfinished);
			continue;
		}
		if (*n < cap) {
			g[(*n)++] = one;
			continue;
		}
		/* full: the newest cap stay (in listing order they would be any cap of them) */
		size_t oldest = 0;
		for (size_t i = 1; i < cap; i++)
			if (g[i].time_ms < g[oldest].time_ms)
				oldest = i;
		if (one.time_ms > g[oldest].time_ms)
			g[oldest] = one;
	}
	closedir(dh);
	qsort(g, *n, sizeof(*g), generation_newer);
	return 0;
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
		char full[HW_REPORT_NAME_BYTES + HW_REPORT_TEXT_BYTES + 2];
		snprintf(full, sizeof full, "%s: %s", r->checks[i].name, r->checks[i].detail);
		hw_report_cut(r->what, sizeof(r->what), full);
		return;
	}
}

/* One history row, appended in a child (cli/isolate.h): the store may be damaged (a
 * verify drill that found its free-page list damaged still writes the row, and other
 * drills read less of it), and LMDB may abort the process on its pages as it writes. */
struct record_job {
	const char *dir;
	struct hw_drill_row row;
	int rc;
};

static void record_isolated_cb(void *shared)
{
	struct record_job *j = shared;
	struct hw_store *s;
	j->rc = hw_store_open(j->dir, NULL, &s);
	if (j->rc == 0) {
		j->rc = hw_store_drill_append(s, &j->row);
		hw_store_close(s);
	}
}

/* The row's writer died as end says: the history misses this run, which the report keeps. */
static void record_died(const struct drill *d, const struct hw_cli_end *end, const char *json_path)
{
	int code = hw_cli_end_code(end);
	fprintf(stderr,
		"hawser %s: drill history of %s not updated: %s writing the row (%s)%s; "
		"the report%s%s is the record of this run\n",
		d->cmd->name, d->dir,
		code == HW_ECORRUPT    ? "LMDB died"
		: code == HW_EINTERNAL ? "a check of hawser's own failed"
				       : "the process was killed",
		strsignal(end->signo),
		code == HW_ECORRUPT    ? ": the store's pages are damaged"
		: code == HW_EINTERNAL ? ": a bug in hawser, not damage to the store"
				       : "",
		json_path[0] ? " " : "", json_path);
	hw_cli_end_detail(end);
}

bool hw_cli_drill_recorded(const struct drill *d)
{
	/* a run judged at another time (--now) is a what-if, not evidence */
	return !d->no_record && !d->now_given && d->dir;
}

void hw_cli_drill_record(const struct drill *d, const char *json_path)
{
	if (!hw_cli_drill_recorded(d))
		return;
	struct hw_drill_row row = {
		.time_ms = d->rep.started_ms,
		.kind = d->rep.kind,
		.result = d->rep.result,
		.duration_ms = (uint64_t)(d->rep.seconds * 1000),
		.lsn = d->lsn,
		.entries = d->entries,
		.target_ms = (uint64_t)d->target_ms,
		.scope = d->scope,
		.point_lsn = d->point_lsn,
		.point_ms = d->point_ms,
	};
	snprintf(row.what, sizeof(row.what), "%s", d->rep.what);
	_Static_assert(sizeof(row.report) >= PATH_MAX, "the row holds any report's path whole");
	snprintf(row.report, sizeof(row.report), "%s", json_path);
	struct record_job j = {.dir = d->dir, .row = row};
	struct hw_cli_end end;
	int rc = hw_cli_isolated(record_isolated_cb, &j, sizeof(j), &end);
	if (rc == 0 && end.signo != 0)
		record_died(d, &end, json_path);
	else if ((rc = rc != 0 ? rc : j.rc) != 0)
		fprintf(stderr, "hawser %s: drill history of %s not updated: %s (%s)\n",
			d->cmd->name, d->dir, hw_strerror(rc), hw_errname(rc));
}

void hw_cli_drill_write(const struct drill *d, const char *tag, char *json_path, char *html_path,
			size_t cap)
{
	char dir[PATH_MAX + 16];
	if (d->report_dir)
		snprintf(dir, sizeof(dir), "%s", d->report_dir);
	else if (d->cfg.drills.report_dir[0])
		snprintf(dir, sizeof(dir), "%s", d->cfg.drills.report_dir);
	else if (d->dir)
		snprintf(dir, sizeof(dir), "%s.drills", d->dir);
	else if (!tag)
		snprintf(dir, sizeof(dir), "%s/drills", d->scratch);
	else if (hw_cli_scratch(NULL, tag, dir, sizeof(dir)) != 0)
		dir[0] = '\0';
	int rc = dir[0] ? hw_report_write(&d->rep, dir, json_path, html_path, cap) : -ENOENT;
	if (rc) {
		fprintf(stderr, "hawser %s: report not written to %s: %s\n", d->cmd->name, dir,
			hw_strerror(rc));
		json_path[0] = html_path[0] = '\0';
	}
}

/* The columns s takes on a terminal: one per character (UTF-8 continuation bytes take
 * none). */
static int columns(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += (*s & 0xc0) != 0x80;
	return n;
}

static void summary(const struct drill *d, const char *json_path, const char *html_path)
{
	const struct hw_report *r = &d->rep;
	if (d->json) {
		hw_report_json(r, stdout);
		return;
	}
	/* paths and names in them may hold control characters: shown escaped */
	static char shown[2][HW_LOG_ESCAPED_CHARS(PATH_MAX)];
	printf("hawser %s: %s: %s (%.2f s)\n", d->cmd->name, hw_drill_result_name(r->result),
	       hw_log_escaped(r->what, shown[0], sizeof shown[0]), r->seconds);
	int width = 28; /* the details start in one column: past the longest name */
	for (size_t i = 0; i < r->n_checks; i++) {
		int w = columns(hw_log_escaped(r->checks[i].name, shown[1], sizeof shown[1]));
		width = w > width ? w : width;
	}
	for (size_t i = 0; i < r->n_checks; i++) {
		const char *name = hw_log_escaped(r->checks[i].name, shown[1], sizeof shown[1]);
		printf("  %-4s  %s%*s %s\n", hw_verdict_name(r->checks[i].verdict), name,
		       width - columns(name), "",
		       hw_log_escaped(r->checks[i].detail, shown[0], sizeof shown[0]));
	}
	char when[40];
	if (r->judged_ms)
		printf("  judged at %s (--now): " HW_REPORT_WHAT_IF "\n",
		       hw_cli_iso(r->judged_ms, when, sizeof(when)));
	if (html_path[0])
		printf("  report: %s\n          %s\n",
		       hw_log_escaped(html_path, shown[0], sizeof shown[0]),
		       hw_log_escaped(json_path, shown[1], sizeof shown[1]));
}

void hw_cli_drill_died(struct drill *d, const struct hw_cli_end *end)
{
	bool first = d->died.who == HW_CLI_WHO_NONE;
	bool bug = end->who == HW_CLI_WHO_HAWSER && d->died.who != HW_CLI_WHO_HAWSER;
	if (end->who != HW_CLI_WHO_NONE && (first || bug))
		d->died = *end;
}

int hw_cli_drill_finish(struct drill *d)
{
	int sig = (int)*hw_cli_interrupted();
	if (sig)
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "interrupted by signal %d", sig);
	fill_what(&d->rep);
	char json_path[PATH_MAX] = "", html_path[PATH_MAX] = "";
	hw_cli_drill_write(d, NULL, json_path, html_path, sizeof(json_path));
	hw_cli_drill_record(d, json_path);
	summary(d, json_path, html_path);
	fflush(stdout); /* the summary before the words it explains */
	hw_cli_end_detail(&d->died);
	if (sig)
		return 128 + sig;
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
	hw_json_kv_string(j, "kind", hw_drill_kind_name((enum hw_drill_kind)k));
	hw_json_kv_int(j, "every_ms", every_ms);
	hw_json_kv_string(j, "state", hw_drill_state_name(due->state));
	hw_json_kv_string(j, "due",
			  due->due_ms ? hw_cli_iso(due->due_ms, when, sizeof(when)) : NULL);
	/* a kind never passed is overdue by no count of ms: since forever, null */
	hw_json_kv_bool(j, "overdue",
			due->state == HW_DRILL_OVERDUE || due->state == HW_DRILL_NEVER);
	hw_json_key(j, "overdue_ms");
	if (due->state == HW_DRILL_NEVER)
		hw_json_string(j, NULL);
	else
		hw_json_int(j, due->overdue_ms);
	hw_json_kv_string(j, "last_pass",
			  pass ? hw_cli_iso(pass->time_ms, when, sizeof(when)) : NULL);
	hw_json_key(j, "last");
	if (!last) {
		hw_json_string(j, NULL);
	} else {
		hw_json_object_begin(j);
		hw_json_kv_string(j, "time", hw_cli_iso(last->time_ms, when, sizeof(when)));
		hw_json_kv_string(j, "result", hw_drill_result_name(last->result));
		hw_json_kv_double(j, "seconds", (double)last->duration_ms / 1000.0);
		hw_json_kv_uint(j, "lsn", last->lsn);
		hw_json_kv_string(j, "what", last->what);
		hw_json_kv_string(j, "report", last->report);
		hw_json_object_end(j);
	}
	hw_json_object_end(j);
}

static void status_text_kind(int k, const struct hw_drill_due *due, const struct hw_drill_row *last,
			     int64_t every_ms)
{
	char when[40], dur[32], every[32], what[HW_LOG_ESCAPED_CHARS(HW_DRILL_WHAT_BYTES)];
	printf("  %-9s ", hw_drill_kind_name((enum hw_drill_kind)k));
	if (last)
		printf("last %s %s (%s, lsn %" PRIu64 ")%s%s; ", hw_drill_result_name(last->result),
		       hw_cli_iso(last->time_ms, when, sizeof(when)),
		       hw_drill_duration_format((int64_t)last->duration_ms, dur, sizeof(dur)),
		       last->lsn, last->result != HW_DRILL_PASS ? ": " : "",
		       last->result != HW_DRILL_PASS ? hw_log_escaped(last->what, what, sizeof what)
						     : "");
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
			      int64_t every_ms, char *overdue)
{
	size_t used = strlen(overdue);
	if (due->state == HW_DRILL_OVERDUE || due->state == HW_DRILL_NEVER)
		snprintf(overdue + used, HW_CLI_OVERDUE_CHARS - used, "%s%s", used ? ", " : "",
			 hw_drill_kind_name((enum hw_drill_kind)kind));
	if (j)
		status_json_kind(j, kind, due, last, pass, every_ms);
	else
		status_text_kind(kind, due, last, every_ms);
}

void hw_cli_drill_status_begin(struct hw_json *j, const char *whose, const char *name,
			       int64_t judged_ms)
{
	char when[40];
	if (j) {
		hw_json_kv_string(j, "judged_at",
				  judged_ms ? hw_cli_iso(judged_ms, when, sizeof(when)) : NULL);
		hw_json_key(j, "drills");
		hw_json_array_begin(j);
		return;
	}
	size_t cap = HW_LOG_ESCAPED_CHARS(strlen(name));
	char *shown = malloc(cap);
	printf("drills (%s %s)", whose, shown ? hw_log_escaped(name, shown, cap) : "?");
	free(shown);
	if (judged_ms)
		printf(", as of %s (--now: a what-if)", hw_cli_iso(judged_ms, when, sizeof(when)));
	printf(":\n");
}

void hw_cli_drill_status_end(struct hw_json *j, const char *overdue)
{
	if (j) {
		hw_json_array_end(j);
		hw_json_kv_string(j, "drills_overdue", overdue);
	} else {
		printf("  overdue: %s\n", overdue[0] ? overdue : "none");
	}
}

/* The newest run and the newest pass of each drill kind (rl, rp: 0, HW_ENOTFOUND or the
 * store's error), read in a child (cli/isolate.h): the store may be damaged. */
struct drill_rows {
	const char *dir;
	struct hw_drill_row last[HW_DRILL_KINDS + 1], pass[HW_DRILL_KINDS + 1];
	int rl[HW_DRILL_KINDS + 1], rp[HW_DRILL_KINDS + 1];
};

static int drill_rows_read(void *arg)
{
	struct drill_rows *r = arg;
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(r->dir, &o, &s);
	if (rc)
		return rc;
	for (int k = 1; k <= HW_DRILL_KINDS; k++) {
		r->rl[k] = hw_store_drill_last(s, (enum hw_drill_kind)k, false, &r->last[k]);
		r->rp[k] = hw_store_drill_last(s, (enum hw_drill_kind)k, true, &r->pass[k]);
	}
	hw_store_close(s);
	return 0;
}

int hw_cli_drill_status(const char *dir, const struct hw_drill_config *c, int64_t now_ms,
			int64_t judged_ms, struct hw_json *j, struct hw_cli_end *end)
{
	struct drill_rows r = {.dir = dir};
	int rc = hw_cli_read_isolated(drill_rows_read, &r, sizeof(r), end);
	if (rc)
		return rc;
	char overdue[HW_CLI_OVERDUE_CHARS] = "";
	hw_cli_drill_status_begin(j, "store", dir, judged_ms);
	for (int k = 1; k <= HW_DRILL_KINDS && rc == 0; k++) {
		int rl = r.rl[k], rp = r.rp[k];
		rc = rl != 0 && rl != HW_ENOTFOUND ? rl : rp != 0 && rp != HW_ENOTFOUND ? rp : 0;
		struct hw_drill_due due;
		hw_drill_due(c->every_ms[k], rp == 0 ? &r.pass[k] : NULL, now_ms, &due);
		hw_cli_drill_status_kind(j, k, &due, rl == 0 ? &r.last[k] : NULL,
					 rp == 0 ? &r.pass[k] : NULL, c->every_ms[k], overdue);
	}
	hw_cli_drill_status_end(j, overdue);
	return rc;
}

/* ---- dispatch ----------------------------------------------------------------------- */

static const struct hw_cli_cmd *const subs[] = {&hw_cli_drill_verify, &hw_cli_drill_restore,
						&hw_cli_drill_procedure, &hw_cli_drill_failover};
#define SUBS_COUNT (sizeof(subs) / sizeof(subs[0]))

static int cmd_drill(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	if (argc < 2)
		return hw_cli_usage_error(cmd,
					  "give a drill: verify, restore, procedure or failover");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		hw_cli_usage_print(cmd);
		return HW_CLI_OK;
	}
	for (size_t i = 0; i < SUBS_COUNT; i++)
		if (!strcmp(argv[1], subs[i]->name + strlen("drill ")))
			return subs[i]->run(subs[i], argc - 1, argv + 1);
	return hw_cli_usage_error(cmd, "unknown drill '%s'", argv[1]);
}

const struct hw_cli_cmd hw_cli_drill = {
	"drill", "restore, verify, procedure and failover drills, with reports",
	HW_CLI_USAGE(
		"usage: hawser drill verify|restore|procedure|failover [options]  (--help each)\n"
		"  verify     integrity of a replica, and digests across stores at one LSN\n"
		"  restore    restore a backup in scratch, verify it, time it against restore_rto\n"
		"  procedure  the checks before trusting a recovery, without touching data\n"
		"  failover   failovers under load on a local cluster: the RTO, loss, overlap\n"
		"  Each writes a JSON and an HTML report and appends to the store's drill\n"
		"  history; `hawser status --dir DIR` shows the last runs and what is overdue\n"
		"  (docs/drills.md).\n"),
	cmd_drill};

/* ---- trusted signers ---------------------------------------------------------------- */

/* Where the trusted keys came from, for the report. */
static const char *trust_source(const struct drill *d)
{
	return d->n_trust_files ? "--trust" : "[drills] trust";
}

/* Load the sign key of each [drills] trust file into d->trust, when no --trust gave keys
 * (hw_cli_drill_setup loaded those). A file that does not load ends the drill in ERROR,
 * naming it: a drill that
 * silently trusted fewer keys would fail for the wrong reason, or pass on a typo.
 * Returns 0 or the error. */
int hw_cli_drill_trust_load(struct drill *d)
{
	const struct hw_drill_config *c = &d->cfg.drills;
	/* --trust's keys were loaded with the other paths (hw_cli_drill_setup) */
	for (; d->n_trust_files == 0 && d->n_trust < c->n_trust; d->n_trust++) {
		const char *f = c->trust[d->n_trust];
		int rc = hw_cli_load_sign_pub(f, d->trust + d->n_trust * HW_SIGN_PK_BYTES);
		if (rc == 0)
			continue;
		const char *why =
			rc == HW_ECONFIG ? "not a node.pub with a sign line" : hw_strerror(rc);
		hw_report_check(&d->rep, "checkpoint signers", HW_VERDICT_FAIL,
				"trusted key %s (%s) cannot be used: %s", f, trust_source(d), why);
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "trusted key %s cannot be used: %s", f,
				 why);
		return rc;
	}
	if (d->n_trust > 0)
		hw_report_fact(&d->rep, "trusted_keys", "%zu node.pub file%s of %s", d->n_trust,
			       d->n_trust == 1 ? "" : "s", trust_source(d));
	else
		hw_report_fact(&d->rep, "trusted_keys", "none configured");
	return 0;
}

enum hw_verdict hw_cli_drill_signers(struct drill *d, const struct hw_verify_report *v, bool strict,
				     char *why, size_t cap)
{
	enum hw_verdict verdict = HW_VERDICT_PASS;
	size_t n = d->n_trust;
	const char *keys = n == 1 ? "key" : "keys";
	bool state_only = hw_verify_state_unvouched(v); /* the state check reports it */
	if (v->code == HW_EUNTRUSTED || v->code == HW_ESIGNATURE ||
	    (v->code == HW_EUNVOUCHED && !state_only)) {
		verdict = HW_VERDICT_FAIL;
		snprintf(why, cap, "%s at LSN %" PRIu64 ": %s (%zu trusted %s of %s)",
			 hw_errname(v->code), v->first_bad_lsn, v->what, n, keys, trust_source(d));
	} else if (v->code == HW_ECANCELED) {
		verdict = HW_VERDICT_SKIP;
		char stop[64];
		snprintf(why, cap, "not judged: %s before the log's end",
			 hw_cli_drill_stopped_why(stop, sizeof stop));
	} else if (v->code != 0 && !state_only) {
		verdict = HW_VERDICT_SKIP;
		snprintf(why, cap, "not judged: the store is damaged");
	} else if (n == 0 && v->checkpoints > 0) {
		verdict = strict ? HW_VERDICT_FAIL : HW_VERDICT_WARN;
		snprintf(why, cap,
			 "no trusted keys configured: %" PRIu64 " signed checkpoints, signer not "
			 "checked (a log signed by any key would pass); set [drills] trust or "
			 "--trust",
			 v->checkpoints);
	} else if (v->checkpoints == 0) {
		verdict = HW_VERDICT_WARN;
		snprintf(why, cap,
			 "%s and no signed checkpoint in the log: nothing but its hash chain "
			 "vouches for it",
			 n ? "trusted keys configured" : "no trusted keys configured");
	} else {
		snprintf(why, cap,
			 "%" PRIu64 " checkpoints, each signed by one of %zu trusted %s of %s; "
			 "the last, at LSN %" PRIu64 ", vouches for LSN %" PRIu64,
			 v->checkpoints, n, keys, trust_source(d), v->good_cp_lsn,
			 v->good_cp_covers);
	}
	hw_report_check(&d->rep, "checkpoint signers", verdict, "%s", why);
	hw_report_figure(&d->rep, "checkpoints", (double)v->checkpoints, "checkpoints");
	return verdict;
}
