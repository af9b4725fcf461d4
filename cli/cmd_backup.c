/* cmd_backup.c: backup, pruning backups by the retention policy, and restore to a point
 * in time (replica/backup.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/client_int.h"
#include "engine/config.h"
#include "hawser.h"
#include "replica/backup.h"
#include "replica/store.h"
#include "tos.pb-c.h"

/* ---- backup */

static int cmd_backup(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	char *pos[2];
	int rc = hw_cli_parse(cmd, argc, argv, NULL, NULL, NULL, pos, 2);
	if (rc != HW_CLI_RUN)
		return rc;
	/* Read-only: a backup must be possible while the node keeps writing. */
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	rc = hw_store_open(pos[0], &so, &s);
	if (rc)
		return hw_cli_fail(cmd->name, pos[0], rc);
	struct hw_backup_info info;
	memset(&info, 0, sizeof(info));
	double t0 = hw_mono_s();
	rc = hw_backup(s, pos[1], hw_cli_progress_cb, (void *)"backup", &info);
	hw_cli_progress_end();
	double seconds = hw_mono_s() - t0;
	hw_store_close(s);
	if (rc)
		return hw_cli_fail_why(cmd->name, pos[1], rc, info.what);
	if (info.snapshot)
		printf("hawser backup: new snapshot at lsn %" PRIu64 " in %s", info.snapshot_lsn,
		       pos[1]);
	else if (info.entries_added)
		printf("hawser backup: appended %" PRIu64 " entries to %s (snapshot lsn %" PRIu64
		       ")",
		       info.entries_added, pos[1], info.snapshot_lsn);
	else
		printf("hawser backup: %s is up to date", pos[1]);
	printf(": end lsn %" PRIu64 ", %" PRIu64 " bytes, %.2f s\n", info.end_lsn, info.bytes,
	       seconds);
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_backup = {
	"backup", "back a store up (snapshot, then incremental log)",
	"usage: hawser backup DIR OUT\n"
	"  If OUT is new or empty, write a compacted snapshot of DIR; if it holds a backup\n"
	"  of DIR's chain, append the log entries after its end (incremental). OUT with\n"
	"  files but no MANIFEST (a damaged backup, or not a backup) is refused\n"
	"  (HW_EBACKUP) and left as it is, unless a backup cut short left it. A store whose\n"
	"  state awaits a snapshot (STALE in status) is not backed up (HW_ESTALE). Prints what\n"
	"  it did, the end LSN and the backup's size. On a terminal, shows its progress\n"
	"  (pages copied, then entries appended) on stderr while it runs.\n",
	cmd_backup};

/* ---- prune: backup generations by the retention policy */

struct prune_opts {
	const char *config;
	bool dry_run;
	int64_t now_ms;
};

static int prune_opt_cb(void *arg, int key, const char *v)
{
	struct prune_opts *o = arg;
	if (key == 'c')
		o->config = v;
	else if (key == 'n')
		o->dry_run = true;
	else if (key == 't')
		return hw_cli_time_ms(v, &o->now_ms) || o->now_ms <= 0 ? -1 : 0;
	else
		return -1;
	return 0;
}

static const struct option prune_longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"dry-run", no_argument, NULL, 'n'},
	{"now", required_argument, NULL, 't'},
	{0},
};

static void prune_cb(void *arg, const struct hw_generation *g)
{
	const struct prune_opts *o = arg;
	char when[40];
	printf("  %-7s %s (%s, %.1f days old)%s%s\n",
	       g->pruned       ? (o->dry_run ? "prune" : "pruned")
	       : g->problem[0] ? "damaged"
			       : "keep",
	       g->name, hw_cli_iso(g->time_ms, when, sizeof when),
	       (double)(o->now_ms - g->time_ms) / (double)HW_RETENTION_DAY_MS,
	       g->problem[0] ? ": not counted, left alone: " : "", g->problem);
}

static int cmd_prune(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct prune_opts o = {0};
	char *pos[1];
	int rc = hw_cli_parse(cmd, argc, argv, prune_longopts, prune_opt_cb, &o, pos, 1);
	if (rc != HW_CLI_RUN)
		return rc;
	struct hw_retention r;
	hw_retention_defaults(&r);
	if (o.config != NULL) {
		char err[256] = "";
		rc = hw_config_load_retention(o.config, &r, err, sizeof err);
		if (rc != 0) {
			fprintf(stderr, "hawser prune: %s\n", err[0] ? err : hw_strerror(rc));
			return HW_CLI_ERROR;
		}
	}
	if (o.now_ms == 0)
		o.now_ms = hw_wall_ms();
	printf("hawser prune: %s: keep the newest %u generations and every one younger than "
	       "%u days%s\n",
	       pos[0], r.backup_generations, r.backup_days, o.dry_run ? " (dry run)" : "");
	size_t pruned = 0;
	rc = hw_backup_prune(pos[0], &r, o.now_ms, o.dry_run, prune_cb, &o, &pruned);
	if (rc)
		return hw_cli_fail(cmd->name, pos[0], rc);
	printf("hawser prune: %zu generation%s %s\n", pruned, pruned == 1 ? "" : "s",
	       o.dry_run ? "would be removed" : "removed");
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_prune = {
	"prune", "remove backup generations by the retention policy",
	"usage: hawser prune BACKUPS [--config FILE] [--dry-run] [--now T]\n"
	"  BACKUPS holds one backup generation per subdirectory (each with a MANIFEST; its\n"
	"  mtime is the generation's time). Remove those past the newest\n"
	"  [retention] backup_generations whole ones AND at least backup_days old (FILE's\n"
	"  policy: its [retention] section alone is read, so a node's config or a file of\n"
	"  that section serves; default 7 and 30). A generation whose MANIFEST does not\n"
	"  parse or whose files are not the sizes it names is 'damaged': not counted and\n"
	"  not removed. Nothing else is touched. --dry-run: only say what would go.\n"
	"  --now T: judge ages at T (ISO 8601 UTC or integer ms) instead of the clock.\n"
	"  Prints each generation with its age and the verdict.\n",
	cmd_prune};

/* ---- restore */

/* How long the node at --connect has to answer. */
#define TELL_WAIT_MS 5000
/* The most of a path a restore event keeps: two fit in its 200 bytes with the rest. */
#define EVENT_PATH_CHARS 40

/* The end of path, at most EVENT_PATH_CHARS of it: where a backup is names it. */
static const char *path_tail(const char *path)
{
	size_t n = strlen(path);
	const char *t = n > EVENT_PATH_CHARS ? path + n - EVENT_PATH_CHARS : path;
	while ((*t & 0xC0) == 0x80) /* not inside a UTF-8 character */
		t++;
	return t;
}

/* hw_cli_restore_event on a client already connected. */
static int restore_event_on(struct hw_client *c, const char *backup, const char *dir,
			    uint64_t until_lsn, int64_t until_ms,
			    const struct hw_restore_info *info, int rc, double seconds)
{
	char until[48] = "end", when[40], detail[201];
	if (until_lsn)
		snprintf(until, sizeof(until), "lsn %" PRIu64, until_lsn);
	else if (until_ms)
		snprintf(until, sizeof(until), "time %s", hw_cli_iso(until_ms, when, sizeof(when)));
	snprintf(detail, sizeof(detail),
		 "restore of %s%s into %s%s until %s: %s, head lsn %" PRIu64 ", %.2f s",
		 path_tail(backup) == backup ? "" : "...", path_tail(backup),
		 path_tail(dir) == dir ? "" : "...", path_tail(dir), until,
		 rc ? hw_errname(rc) : "ok", info->lsn, seconds);
	return hw_client_operator_event(c, TOS__V1__NODE_EVENT_KIND__RESTORE, detail, TELL_WAIT_MS);
}

int hw_cli_restore_event(const char *connect, const struct hw_client_security *sec,
			 const char *backup, const char *dir, uint64_t until_lsn, int64_t until_ms,
			 const struct hw_restore_info *info, int rc, double seconds)
{
	struct hw_client *c;
	int trc = hw_client_connect_secure(connect, sec, &c);
	if (trc == 0) {
		trc = restore_event_on(c, backup, dir, until_lsn, until_ms, info, rc, seconds);
		hw_client_close(c);
	}
	return trc;
}

struct restore_opts {
	uint64_t until_lsn;
	int64_t until_ms;
	bool lsn_given;
	bool time_given;
	const char *connect; /* the node to tell (--connect), NULL: none */
	struct hw_client_security sec;
};

static int restore_opt_cb(void *arg, int key, const char *v)
{
	struct restore_opts *o = arg;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	if (key == 'l') {
		o->lsn_given = true;
		return hw_cli_u64(v, &o->until_lsn) || o->until_lsn == 0 ? -1 : 0;
	}
	if (key == 't') {
		o->time_given = true;
		return hw_cli_time_ms(v, &o->until_ms) || o->until_ms <= 0 ? -1 : 0;
	}
	if (key == 'c') {
		o->connect = v;
		return 0;
	}
	return -1;
}

static const struct option restore_longopts[] = {
	{"until-lsn", required_argument, NULL, 'l'},
	{"until-time", required_argument, NULL, 't'},
	{"connect", required_argument, NULL, 'c'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

/* The options, checked before anything is restored. */
static int restore_parse(const struct hw_cli_cmd *cmd, int argc, char **argv,
			 struct restore_opts *o, char *pos[2])
{
	int rc = hw_cli_parse(cmd, argc, argv, restore_longopts, restore_opt_cb, o, pos, 2);
	if (rc != HW_CLI_RUN)
		return rc;
	if (o->lsn_given && o->time_given)
		return hw_cli_usage_error(cmd, "give --until-lsn or --until-time, not both");
	return hw_cli_security_check_optional(cmd, o->connect, &o->sec);
}

/* The path a failed restore names: the directory restored into when, the backup checked,
 * it is what failed (it holds a store or another restore, its disk is full, the OS
 * refused: -errno); else the backup. */
static const char *restore_blame(char *pos[2], int rc, const struct hw_restore_info *info)
{
	bool target = rc == HW_EEXIST || rc == HW_EBUSY || rc == HW_ESTORE_FULL ||
		      rc == HW_ESTORE_FAILED || (rc < 0 && rc > -4096);
	return info->checked && target ? pos[1] : pos[0];
}

static int cmd_restore(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct restore_opts o = {0};
	char *pos[2];
	int rc = restore_parse(cmd, argc, argv, &o, pos);
	if (rc != HW_CLI_RUN)
		return rc;
	/* The node to tell is reached first: a wrong key or address changes nothing. */
	struct hw_client *c = NULL;
	rc = o.connect ? hw_client_connect_secure(o.connect, &o.sec, &c) : 0;
	if (rc) {
		hw_cli_fail(cmd->name, o.connect, rc);
		fprintf(stderr, "hawser restore: nothing restored\n");
		return HW_CLI_ERROR;
	}
	struct hw_restore_info info;
	memset(&info, 0, sizeof(info));
	double t0 = hw_mono_s();
	rc = hw_restore(pos[0], pos[1], o.until_lsn, o.until_ms, hw_cli_progress_cb,
			(void *)"restore", &info);
	hw_cli_progress_end();
	/* a failed restore is recorded too: the trail shows who tried what */
	int trc = c ? restore_event_on(c, pos[0], pos[1], o.until_lsn, o.until_ms, &info, rc,
				       hw_mono_s() - t0)
		    : 0;
	hw_client_close(c);
	if (trc)
		hw_cli_fail(cmd->name, o.connect, trc);
	if (rc)
		return hw_cli_fail_why(cmd->name, restore_blame(pos, rc, &info), rc, info.what);
	char hex[2 * HW_HASH_BYTES + 1], when[40];
	printf("hawser restore: %s restored into %s: head lsn %" PRIu64 " (%s), digest %s,"
	       " %.2f s\n",
	       pos[0], pos[1], info.lsn, hw_cli_iso(info.time_ms, when, sizeof(when)),
	       hw_cli_hex(info.digest, hex), info.seconds);
	if (info.base_lsn != 0 && info.state_cp_lsn != 0)
		printf("hawser restore: the snapshot's log starts after lsn %" PRIu64
		       ": its state, copied as it was, matched the digest the checkpoint at lsn "
		       "%" PRIu64 " signed\n",
		       info.base_lsn, info.state_cp_lsn);
	else if (info.base_lsn != 0)
		printf("hawser restore: note: the snapshot's log starts after lsn %" PRIu64
		       ": its state was copied as it was, and no signed checkpoint in the "
		       "backup's log after the snapshot vouches for it\n",
		       info.base_lsn);
	if (o.time_given && info.end_lsn > 0 && info.lsn == info.end_lsn &&
	    info.time_ms < o.until_ms) { /* T is later than the backup's last entry */
		char until[40];
		printf("hawser restore: note: the backup ends at lsn %" PRIu64 " (%s), before %s: "
		       "what came after it is not in this backup\n",
		       info.lsn, when, hw_cli_iso(o.until_ms, until, sizeof(until)));
	}
	return trc ? HW_CLI_ERROR : HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_restore = {
	"restore", "rebuild a store from a backup, to a point in time",
	"usage: hawser restore OUT DIR2 [--until-lsn N | --until-time T]\n"
	"                      [--connect ADDR (--key F --peers L --cluster ID | --insecure)]\n"
	"  Check the backup in OUT and rebuild a store in DIR2 (which must not hold one),\n"
	"  replaying its log to the end, up to LSN N, or up to T (ISO 8601 UTC such as\n"
	"  2026-11-26T10:00:00Z, or integer ms): it stops before the first entry whose time\n"
	"  is after T: the last entry not after T only while entry times grow (a primary's\n"
	"  clock set back gives a later entry an earlier time; it is left out all the same).\n"
	"  Prints the restored head LSN, its digest and the time taken. An N past the\n"
	"  backup's last entry is refused (HW_ENOTFOUND) and nothing is restored; a T the\n"
	"  backup's last entry comes before restores all of it, with a note that the backup\n"
	"  ends there. A backup of a pruned store is restored by copying its snapshot (N or\n"
	"  T at or after its head only), whose state is checked against the first signed\n"
	"  checkpoint in its log after it: the restore says whether one vouched for it.\n"
	"  OUT is only read (it may be read-only).\n"
	"  --connect ADDR: then tell the node at ADDR (its client port; a standby holds it\n"
	"  until it is primary), which records a restore event with this command's key in\n"
	"  its audit trail (hawser audit): backup, DIR2, the target point, the head LSN\n"
	"  reached, the result and the time, for a failed restore too. Only with --connect\n"
	"  is a restore recorded. The node is reached first: when it cannot be (address,\n"
	"  keys), nothing is restored; exit 1 too when it does not take the event after the\n"
	"  restore (the store is restored).\n"
	"  With --connect:\n" HW_CLI_SECURITY_USAGE,
	cmd_restore};
