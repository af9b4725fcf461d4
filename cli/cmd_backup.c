/* cmd_backup.c: backup, pruning backups by the retention policy, and restore to a point
 * in time (replica/backup.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "cli/cli.h"
#include "cli/isolate.h"
#include "engine/client_int.h"
#include "engine/config.h"
#include "hawser.h"
#include "replica/backup.h"
#include "replica/store.h"
#include "tos.pb-c.h"

/* ---- backup */

/* How long a new snapshot of a pruned store waits by default for the checkpoint that
 * vouches for its state: a primary signs the next one at most checkpoint_interval (60 s by
 * default) after its last while entries come in, then commits it after a state digest
 * (seconds on a large state); twice the default interval leaves room for a late one and
 * still ends a nightly job within minutes. */
#define VOUCH_WAIT_MS_DEFAULT (2 * HW_CHECKPOINT_INTERVAL_MS_DEFAULT)
/* Twice the longest checkpoint_interval a config takes (1h): longer is no wait, a hang. */
#define VOUCH_WAIT_MS_MAX (2LL * HW_TARGET_MS_MAX)
/* How often the store's head is looked at while waiting: a checkpoint comes a minute
 * apart, and a look reads the log back only when the head moved, to the newest one. */
#define VOUCH_POLL_MS 1000

struct backup_opts {
	int64_t vouch_wait_ms;
};

static int backup_opt_cb(void *arg, int key, const char *v)
{
	struct backup_opts *o = arg;
	if (key != 'w')
		return -1;
	return hw_cli_duration(v, &o->vouch_wait_ms) || o->vouch_wait_ms > VOUCH_WAIT_MS_MAX ? -1
											     : 0;
}

static const struct option backup_longopts[] = {
	{"vouch-wait", required_argument, NULL, 'w'},
	{0},
};

/* What one hw_backup() call did, on stdout. */
static void backup_said(const char *out, const struct hw_backup_info *info, double seconds)
{
	if (info->snapshot)
		printf("hawser backup: new snapshot at lsn %" PRIu64 " in %s", info->snapshot_lsn,
		       out);
	else if (info->entries_added)
		printf("hawser backup: appended %" PRIu64 " entries to %s (snapshot lsn %" PRIu64
		       ")",
		       info->entries_added, out, info->snapshot_lsn);
	else
		printf("hawser backup: %s is up to date", out);
	printf(": end lsn %" PRIu64 ", %" PRIu64 " bytes, %.2f s\n", info->end_lsn, info->bytes,
	       seconds);
	fflush(stdout); /* before what a wait says on stderr */
}

/* A new snapshot of a pruned store, and the checkpoint in its backup that vouches for it. */
static int vouched_said(const struct hw_backup_info *first, uint64_t vouch_lsn)
{
	printf("hawser backup: the store's log starts after lsn %" PRIu64 ": the signed "
	       "checkpoint at lsn %" PRIu64 " vouches for the snapshot's state (lsn %" PRIu64 ")\n",
	       first->base_lsn, vouch_lsn, first->snapshot_lsn);
	return HW_CLI_OK;
}

/* Back s up into out (hw_backup) and say what it did. */
static int backup_run(struct hw_store *s, const char *out, struct hw_backup_info *info)
{
	memset(info, 0, sizeof(*info));
	double t0 = hw_mono_s();
	int rc = hw_backup(s, out, hw_cli_progress_cb, (void *)"backup", info);
	hw_cli_progress_end();
	if (rc)
		return hw_cli_fail_why("backup", out, rc, info->what);
	backup_said(out, info, hw_mono_s() - t0);
	return HW_CLI_OK;
}

/* Look at s every VOUCH_POLL_MS, for at most wait_ms, until its log holds a checkpoint
 * that vouches for the snapshot at snapshot_lsn (*ol HW_VOUCH_IN_STORE); *seen gets the
 * head it saw last. */
static int vouch_watch(struct hw_store *s, uint64_t snapshot_lsn, int64_t wait_ms,
		       enum hw_vouch_outlook *ol, struct hw_head *seen)
{
	int64_t end = hw_mono_ms() + wait_ms, now;
	struct hw_head h;
	int rc = hw_store_head(s, seen);
	while (rc == 0 && *ol != HW_VOUCH_IN_STORE && (now = hw_mono_ms()) < end) {
		hw_sleep_ms((double)(end - now < VOUCH_POLL_MS ? end - now : VOUCH_POLL_MS));
		rc = hw_store_head(s, &h);
		if (rc == 0 && h.lsn != seen->lsn) { /* a checkpoint is an entry: the head moves */
			*seen = h;
			rc = hw_backup_vouch_outlook(s, snapshot_lsn, ol);
		}
	}
	return rc;
}

/* The first run wrote a new snapshot of a pruned store (first->base_lsn) that no checkpoint
 * in the backup vouches for: a restore copies its state, which only a signed checkpoint
 * covering its head vouches for. Wait at most wait_ms for the primary's next one, then
 * append what came (an incremental backup). HW_CLI_OK when one vouches, or none can come
 * (its cluster signs none); HW_CLI_UNVOUCHED when none came, or none will before entries
 * do (the store is idle); HW_CLI_ERROR when the store or the append failed. */
static int vouch_await(struct hw_store *s, const char *out, int64_t wait_ms,
		       const struct hw_backup_info *first)
{
	const uint64_t snap = first->snapshot_lsn;
	enum hw_vouch_outlook ol;
	int rc = hw_backup_vouch_outlook(s, snap, &ol);
	if (rc)
		return hw_cli_fail("backup", "the store's checkpoints", rc);
	if (ol == HW_VOUCH_UNSIGNED) {
		printf("hawser backup: note: the store's log (after lsn %" PRIu64 ", its newest %u "
		       "entries at most) holds no signed checkpoint: its cluster signs none, or "
		       "keeps a log shorter than a checkpoint's cadence; not waiting, and nothing "
		       "vouches for the snapshot's state\n",
		       first->base_lsn, HW_BACKUP_VOUCH_LOOKBACK);
		return HW_CLI_OK;
	}
	if (ol == HW_VOUCH_IDLE) {
		fprintf(stderr,
			"hawser backup: warning: %s is whole, but no signed checkpoint vouches for "
			"its snapshot's state (lsn %" PRIu64 ") yet, and the store is idle: its "
			"last entry is the checkpoint of the one before, and a primary signs no "
			"other until entries come in. Back up into %s again after they do: until "
			"then a restore drill with trusted keys fails it (exit 4)\n",
			out, snap, out);
		return HW_CLI_UNVOUCHED;
	}
	struct hw_head seen = {.lsn = UINT64_MAX}; /* IN_STORE: append at once */
	if (ol == HW_VOUCH_DUE && wait_ms > 0) {
		fprintf(stderr,
			"hawser backup: the store's log starts after lsn %" PRIu64 ": waiting up "
			"to %g s for the primary's next signed checkpoint, to vouch for the "
			"snapshot's state at lsn %" PRIu64 " (--vouch-wait)\n",
			first->base_lsn, (double)wait_ms / 1000, snap);
		rc = vouch_watch(s, snap, wait_ms, &ol, &seen);
		if (rc)
			return hw_cli_fail("backup", "the store's checkpoints", rc);
	}
	struct hw_backup_info info = {0}; /* what came meanwhile, the checkpoint or not */
	rc = seen.lsn != first->end_lsn ? backup_run(s, out, &info) : HW_CLI_OK;
	if (rc != HW_CLI_OK)
		return rc;
	if (info.vouch_lsn != 0)
		return vouched_said(first, info.vouch_lsn);
	fprintf(stderr,
		"hawser backup: warning: %s is whole, but no signed checkpoint covering lsn "
		"%" PRIu64 " came within %g s (is the primary running? its checkpoint_interval "
		"longer than --vouch-wait?). Back up into %s again after its next checkpoint: "
		"until then a restore drill with trusted keys fails it (exit 4)\n",
		out, snap, (double)wait_ms / 1000, out);
	return HW_CLI_UNVOUCHED;
}

/* A backup, run in a child (cli/isolate.h): LMDB may abort or fault on a damaged store's
 * pages as the copy or the walk of its log reads them. The child says what it did. */
struct backup_job {
	const char *dir, *out;
	struct backup_opts o;
	int exit; /* the command's exit code */
};

static int backup_isolated(void *arg)
{
	struct backup_job *j = arg;
	/* Read-only: a backup must be possible while the node keeps writing. */
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(j->dir, &so, &s);
	if (rc) {
		j->exit = hw_cli_fail("backup", j->dir, rc);
		return 0;
	}
	struct hw_backup_info info;
	j->exit = backup_run(s, j->out, &info);
	if (j->exit == HW_CLI_OK && info.snapshot && info.base_lsn != 0 && info.vouch_lsn != 0)
		vouched_said(&info, info.vouch_lsn);
	else if (j->exit == HW_CLI_OK && info.snapshot && info.base_lsn != 0)
		j->exit = vouch_await(s, j->out, j->o.vouch_wait_ms, &info);
	hw_store_close(s);
	return 0;
}

static int cmd_backup(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct backup_opts o = {.vouch_wait_ms = VOUCH_WAIT_MS_DEFAULT};
	char *pos[2];
	int rc = hw_cli_parse(cmd, argc, argv, backup_longopts, backup_opt_cb, &o, pos, 2);
	if (rc != HW_CLI_RUN)
		return rc;
	if (hw_fs_within(pos[1], pos[0])) /* lost with the store it was to save */
		return hw_cli_usage_error(cmd,
					  "OUT %s is in the store's directory %s: a backup "
					  "lives outside what it copies",
					  pos[1], pos[0]);
	/* Killed, the child leaves OUT as a crash would: no new MANIFEST (backup.h). */
	struct backup_job j = {.dir = pos[0], .out = pos[1], .o = o};
	struct hw_cli_end end;
	rc = hw_cli_read_isolated(backup_isolated, &j, sizeof(j), &end);
	return rc ? hw_cli_fail_read(cmd->name, pos[0], rc, &end) : j.exit;
}

const struct hw_cli_cmd hw_cli_backup = {
	"backup", "back a store up (snapshot, then incremental log)",
	HW_CLI_USAGE(
		"usage: hawser backup DIR OUT [--vouch-wait D]\n"
		"  OUT lies outside DIR (one inside it is a usage error: it would be lost with\n"
		"  the store). If OUT is new (made with its parents) or empty, write a compacted\n"
		"  snapshot of DIR; if it holds a backup of DIR's chain, append the log entries\n"
		"  after its end (incremental). OUT with files but no MANIFEST (a damaged backup,\n"
		"  or not a backup) is refused (HW_EBACKUP) and left as it is, unless a backup\n"
		"  cut short left it. A store whose state awaits a snapshot (STALE in status) is\n"
		"  not backed up (HW_ESTALE). Prints what it did, the end LSN and the backup's\n"
		"  size. On a terminal, shows its progress (pages copied, then entries appended)\n"
		"  on stderr while it runs. A backup holds a lock on OUT (flock on\n"
		"  OUT/.backup-lock, removed at its end): a second one into OUT meanwhile is\n"
		"  refused (HW_EBUSY, \"another backup is writing OUT\", exit 1) and writes\n"
		"  nothing.\n"
		"  A new snapshot of a store whose log was pruned (it starts after a base)\n"
		"  restores by copy, and only a signed checkpoint covering its head vouches for\n"
		"  that state (docs/drills.md \"restore\"). When the backup holds none yet, it\n"
		"  waits, saying so on stderr, for the primary's next checkpoint (a primary signs\n"
		"  one each checkpoint_interval while entries come in) and appends it with the\n"
		"  entries before it, as an incremental backup would. --vouch-wait D: wait at\n"
		"  most D (such as 90s or 5m; default 2m, at most 2h; 0: do not wait, exit 4 at\n"
		"  once).\n"
		"  It does not wait when the store's newest 200,000 entries hold no signed\n"
		"  checkpoint (its cluster signs none: insecure), nor when the store is idle (its\n"
		"  last entry is a checkpoint: a primary signs the next only after new entries).\n"
		"  Exit 4 (the backup in OUT is whole, with a warning on stderr) when no\n"
		"  checkpoint came within D (0 too), or the store was idle: run the backup into\n"
		"  OUT again after the next checkpoint, since a restore drill with trusted keys\n"
		"  fails it until then.\n" HW_CLI_READ_USAGE
		"  OUT is then left as a backup cut short leaves it: a new snapshot without a\n"
		"  MANIFEST (restore refuses it, the next backup into OUT starts it again), or an\n"
		"  incremental backup's MANIFEST as it was.\n"),
	cmd_backup};

/* ---- prune: backup generations by the retention policy */

struct prune_opts {
	const char *config;
	bool dry_run;
	bool now_given;
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
		return o->now_given = true, hw_cli_time_ms(v, &o->now_ms);
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
	printf("  %-10s %s (%s, %.1f days old)%s%s\n",
	       g->pruned       ? (o->dry_run ? "prune" : "pruned")
	       : g->writing    ? "writing"
	       : g->unfinished ? "unfinished"
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
	if (rc == HW_CLI_RUN && o.now_given) /* a T in seconds would prune for nothing */
		rc = hw_cli_now_check(cmd, o.now_ms);
	if (rc != HW_CLI_RUN)
		return rc;
	struct hw_retention r;
	hw_retention_defaults(&r);
	if (o.config != NULL) {
		char err[256] = "";
		rc = hw_config_load_retention(o.config, &r, err, sizeof err);
		if (rc != 0) {
			hw_config_perror(o.config, rc, err);
			return HW_CLI_ERROR;
		}
	}
	struct stat st; /* a slip in BACKUPS is an error before any policy is announced */
	if (stat(pos[0], &st) != 0)
		return hw_cli_fail(cmd->name, pos[0], -errno);
	if (!S_ISDIR(st.st_mode))
		return hw_cli_fail(cmd->name, pos[0], -ENOTDIR);
	if (!o.now_given)
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
	HW_CLI_USAGE(
		"usage: hawser prune BACKUPS [--config FILE] [--dry-run] [--now T]\n"
		"  BACKUPS holds one backup generation per subdirectory (each with a MANIFEST;\n"
		"  its mtime is the generation's time). Remove those past the newest\n"
		"  [retention] backup_generations whole ones AND at least backup_days old (FILE's\n"
		"  policy: its [retention] section alone is read, so a node's config or a file of\n"
		"  that section serves; default 7 and 30). A generation whose MANIFEST does not\n"
		"  parse, whose files are not the sizes it names, or (for those that may count\n"
		"  toward the newest kept, read whole) not the hashes, is 'damaged': not counted\n"
		"  and not removed; so is one 'unfinished' (INCOMPLETE, no MANIFEST: a backup cut\n"
		"  short; its age is the marker's), and one 'writing' (a backup holds its\n"
		"  .backup-lock now). Nothing else is touched.\n"
		"  --dry-run: only say what would go.\n"
		"  --now T: judge ages at T (ISO 8601 UTC or integer ms) instead of the clock; a\n"
		"  T before 2001 or after 9999 (seconds for ms, say) is a usage error (exit 2).\n"
		"  Prints each generation with its age and the verdict.\n"),
	cmd_prune};

/* ---- restore */

/* How long the node at --connect has to answer. */
#define TELL_WAIT_MS 5000
/* The most of a path a restore event keeps, "..." and its end: two fit in its 200 bytes
 * with the rest. */
#define EVENT_PATH_CHARS 43

/* hw_cli_restore_event on a client already connected; the paths escaped
 * (hw_cli_event_text), as a node with a key takes them. */
static int restore_event_on(struct hw_client *c, const char *backup, const char *dir,
			    uint64_t until_lsn, int64_t until_ms,
			    const struct hw_restore_info *info, int rc, double seconds)
{
	char until[48] = "end", when[40], detail[201], from[EVENT_PATH_CHARS + 1],
	     into[EVENT_PATH_CHARS + 1];
	if (until_lsn)
		snprintf(until, sizeof(until), "lsn %" PRIu64, until_lsn);
	else if (until_ms)
		snprintf(until, sizeof(until), "time %s", hw_cli_iso(until_ms, when, sizeof(when)));
	snprintf(detail, sizeof(detail),
		 "restore of %s into %s until %s: %s, head lsn %" PRIu64 ", %.2f s",
		 hw_cli_event_text(backup, true, from, sizeof from),
		 hw_cli_event_text(dir, true, into, sizeof into), until, rc ? hw_errname(rc) : "ok",
		 info->lsn, seconds);
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
	struct hw_cli_trust trust; /* --trust: who may sign a copied state's checkpoint */
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
		return hw_cli_addrs(v);
	}
	return key == 'T' ? hw_cli_trust_add(&o->trust, v) : -1;
}

static const struct option restore_longopts[] = {
	{"until-lsn", required_argument, NULL, 'l'},
	{"until-time", required_argument, NULL, 't'},
	{"connect", required_argument, NULL, 'c'},
	{"trust", required_argument, NULL, 'T' | HW_CLI_REPEATABLE},
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
	if (o->trust.bad_file) /* before anything is restored */
		return hw_cli_trust_fail(cmd->name, &o->trust);
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

/* The restore into pos[1] stopped for want of room in its file system
 * (hw_restore_no_room, room as it found it), after the backup's checks: ENOSPC naming
 * pos[1] and the room the restore needs there and has, not the bare code of the store
 * that filled. */
static int restore_no_room(const struct hw_cli_cmd *cmd, char *pos[2],
			   const struct hw_scratch_room *room)
{
	char why[HW_SCRATCH_WHY_CHARS + 96], need[HW_SCRATCH_WHY_CHARS];
	bool refused = hw_scratch_room_short(room);
	snprintf(why, sizeof why, "%s%s; nothing restored, the backup only read",
		 refused ? "no room for the restored store: "
			 : "the restored store ran out of room",
		 refused ? hw_scratch_room_why(room, need, sizeof need) : "");
	return hw_cli_fail_why(cmd->name, pos[1], -ENOSPC, why);
}

_Static_assert(HW_SIGN_PK_BYTES == HW_HASH_BYTES, "hw_cli_hex prints a key");

/* What vouched for a copied snapshot's state: the checkpoint whose digest it matched, its
 * signer, and (--trust) whether that is a trusted key; the restored store records the
 * same for verify (replica/restore_vouch.h). HW_CLI_UNVOUCHED when keys were given and no
 * trusted key's checkpoint vouched (the store is restored all the same), else HW_CLI_OK. */
static int restore_vouch_note(const struct restore_opts *o, const struct hw_restore_info *info)
{
	if (info->base_lsn == 0)
		return HW_CLI_OK; /* replayed from entry 1: verify checks every checkpoint */
	bool judged = o->trust.count > 0;
	bool trusted = info->state_cp_lsn != 0 && hw_cli_trusted(&o->trust, info->state_cp_pk);
	char hex[2 * HW_SIGN_PK_BYTES + 1];
	if (info->state_cp_lsn == 0)
		printf("hawser restore: note: the snapshot's log starts after lsn %" PRIu64
		       ": its state was copied as it was, and no signed checkpoint in the "
		       "backup's log after the snapshot vouches for it\n",
		       info->base_lsn);
	else
		printf("hawser restore: the snapshot's log starts after lsn %" PRIu64
		       ": its state, copied as it was and replayed to lsn %" PRIu64
		       "%s, matched the digest the checkpoint at lsn %" PRIu64
		       " signed, by %s with key %.16s...: %s\n",
		       info->base_lsn, info->state_cp_covers,
		       info->lsn < info->state_cp_covers ? " in a copy of its own" : "",
		       info->state_cp_lsn, info->state_cp_signer,
		       hw_cli_hex(info->state_cp_pk, hex), /* a key is a hash's size */
		       !judged   ? "not judged (give --trust NODE.PUB)"
		       : trusted ? "a trusted key"
				 : "NOT a trusted key");
	if (!judged || trusted)
		return HW_CLI_OK;
	fprintf(stderr, "hawser restore: warning: no checkpoint signed by a trusted key vouches "
			"for the copied state (exit 4); the store is restored\n");
	return HW_CLI_UNVOUCHED;
}

/* After a restore to time until_ms (its head's time in when): every entry restored is
 * stamped at or before it, since the restore stops before the first after it and refuses
 * a copied snapshot that holds one whose time is kept; say what that leaves out. */
static void restore_time_notes(const struct hw_restore_info *info, int64_t until_ms,
			       const char *when)
{
	char until[40];
	hw_cli_iso(until_ms, until, sizeof(until));
	if (info->end_lsn > 0 && info->lsn == info->end_lsn && info->time_ms < until_ms)
		printf("hawser restore: note: the backup ends at lsn %" PRIu64 " (%s), before %s: "
		       "what came after it is not in this backup\n",
		       info->lsn, when, until);
	if (info->times_unkept_to > 0) /* pruned by a build that kept no times */
		printf("hawser restore: note: the times of the entries up to lsn %" PRIu64
		       " are not kept (pruned before the snapshot by an older build): whether "
		       "one is stamped after %s was not checked\n",
		       info->times_unkept_to, until);
}

static int cmd_restore(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct restore_opts o = {0};
	char *pos[2];
	int rc = restore_parse(cmd, argc, argv, &o, pos);
	if (rc != HW_CLI_RUN)
		return rc;
	if (hw_fs_within(pos[1], pos[0])) /* the restored store would change the backup */
		return hw_cli_usage_error(cmd, "DIR2 %s is in the backup %s: restore outside it",
					  pos[1], pos[0]);
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
	struct hw_scratch_room room;
	if (info.checked && hw_restore_no_room(rc, pos[0], pos[1], &room))
		return restore_no_room(cmd, pos, &room);
	if (rc)
		return hw_cli_fail_why(cmd->name, restore_blame(pos, rc, &info), rc, info.what);
	char hex[2 * HW_HASH_BYTES + 1], when[40];
	printf("hawser restore: %s restored into %s: head lsn %" PRIu64 " (%s), digest %s,"
	       " %.2f s\n",
	       pos[0], pos[1], info.lsn, hw_cli_iso(info.time_ms, when, sizeof(when)),
	       hw_cli_hex(info.digest, hex), info.seconds);
	int vrc = restore_vouch_note(&o, &info);
	if (o.time_given)
		restore_time_notes(&info, o.until_ms, when);
	return trc ? HW_CLI_ERROR : vrc;
}

const struct hw_cli_cmd hw_cli_restore = {
	"restore", "rebuild a store from a backup, to a point in time",
	HW_CLI_USAGE(
		"usage: hawser restore OUT DIR2 [--until-lsn N | --until-time T]\n"
		"                      [--trust NODE.PUB]...\n"
		"                      [--connect ADDR (--key F --peers L --cluster ID |\n"
		"                                       --insecure)]\n"
		"  Check the backup in OUT and rebuild a store in DIR2 (which must not hold one,\n"
		"  nor lie inside OUT), replaying its log to the end, up to LSN N, or up to T\n"
		"  (ISO 8601 UTC such as 2026-11-26T10:00:00Z, or with an offset for the Z,\n"
		"  2026-11-26T19:00:00+09:00, or integer ms): it stops before\n"
		"  the first entry whose time is after T: the last entry not after T only while\n"
		"  entry times grow (a primary's clock set back gives a later entry an earlier\n"
		"  time; it is left out all the same). Prints the restored head LSN, its digest\n"
		"  and the time taken. An N past the backup's last entry is refused\n"
		"  (HW_ENOTFOUND) and nothing is restored; a T the backup's last entry comes\n"
		"  before restores all of it, with a note that the backup ends there. A backup of\n"
		"  a pruned store is restored by copying its snapshot, so N must be at or after\n"
		"  its head and T at or after the time of every entry it holds (HW_ENOTFOUND\n"
		"  names the first stamped after T): the times of its base, of the entries its\n"
		"  log kept and the latest of those pruned before are checked (a store pruned by\n"
		"  an older build kept no such time: a note says so). Its state is checked\n"
		"  against the first signed checkpoint in its log after it, replayed to the LSN\n"
		"  that checkpoint covers (for N or T before that LSN, in a copy of its own\n"
		"  first: a second copy's time): the restore says whether one vouched for it,\n"
		"  which, and its signer's key, and records it in DIR2 for hawser verify --trust\n"
		"  to judge (meta node.restore_vouch).\n"
		"  --trust NODE.PUB (repeatable, up to 64): judge that signer here too; exit 4\n"
		"  (the store restored) when it is not a trusted key or nothing vouched.\n"
		"  OUT is only read (it may be read-only). An OUT that does not exist is ENOENT;\n"
		"  one without a MANIFEST, or whose files do not match it, is HW_EBACKUP.\n"
		"  A DIR2 whose file system has no room for the store is ENOSPC, with the room\n"
		"  the restore needs there and has; nothing is restored.\n"
		"  --connect ADDR: then tell the node at ADDR (its client port; a standby holds\n"
		"  it until it is primary), which records a restore event with this command's key\n"
		"  in its audit trail (hawser audit): backup, DIR2, the target point, the head\n"
		"  LSN reached, the result and the time, for a failed restore too. Only with\n"
		"  --connect is a restore recorded. The node is reached first: when it cannot be\n"
		"  (address, keys), nothing is restored; exit 1 too when it does not take the\n"
		"  event after the restore (the store is restored).\n"
		"  With --connect:\n" HW_CLI_SECURITY_USAGE),
	cmd_restore};
