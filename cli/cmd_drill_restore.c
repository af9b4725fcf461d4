/* cmd_drill_restore.c: `hawser drill restore`, a backup restored into scratch, verified and
 * timed against restore_rto (docs/drills.md). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "cli/cmd_drill.h"
#include "replica/backup.h"
#include "replica/drills.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"
#include "replica/snapshot.h"

static const struct option restore_opts[] = {
	COMMON_OPTS,
	OPT("backup", required_argument, 'b'),
	OPT("backup-dir", required_argument, 'B'),
	OPT("scratch", required_argument, 's'),
	OPT("until-lsn", required_argument, 'l'),
	OPT("until-time", required_argument, 't'),
	OPT("rto", required_argument, 'R'),
	OPT("keep", no_argument, 'k'),
	OPT("connect", required_argument, 'C'),
	OPT("trust", required_argument, 'T' | HW_CLI_REPEATABLE),
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

/* Entries a restore must replay for its replay rate to mean something: fewer take a few
 * ms, which the fixed costs (opening, hashing the backup, flushing) swamp: about 0.1 s at
 * the 90,000 entries/s of the 2-core test machine. */
#define REPLAY_RATE_ENTRIES_MIN 10000u

/* ---- restore ------------------------------------------------------------------------ */

static int hex_equal(const char *text, const uint8_t *hash)
{
	char h[2 * HW_HASH_BYTES + 1];
	return strcmp(text, hw_cli_hex(hash, h)) == 0;
}

/* The node's store (--dir) as a restore of its backup is compared with it. */
struct node_view {
	struct hw_head head;
	uint8_t chain[HW_HASH_BYTES]; /* hash of its entry 1 (zeros: empty) */
	bool at_known;                /* its log holds the restored head's LSN: at_hash */
	uint8_t at_hash[HW_HASH_BYTES];
	struct hw_head base;
	bool signs;      /* its newest entries hold a checkpoint whose signature checks */
	bool next_known; /* its log holds the entry after the restored head: next_ms */
	int64_t next_ms; /* that entry's time */
};

/* The time of the entry after lsn in s into nv (next_known false when the log does not
 * hold it: pruned, or lsn is the head; or it does not decode). */
static void node_next_read(struct hw_store *s, uint64_t lsn, struct node_view *nv)
{
	uint8_t *buf;
	size_t len;
	struct hw_entry e;
	if (lsn >= nv->head.lsn || hw_store_read_entry(s, lsn + 1, &buf, &len) != 0)
		return;
	nv->next_known = hw_entry_decode(buf, len, &e) == 0;
	nv->next_ms = nv->next_known ? e.time_ms : 0;
	free(buf);
}

/* Read from the store in dir what the restored head at lsn is compared with. 0 or the
 * store's error. */
static int node_read(const char *dir, uint64_t lsn, struct node_view *nv)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	enum hw_vouch_outlook ol = HW_VOUCH_UNSIGNED;
	memset(nv, 0, sizeof(*nv));
	int rc = hw_store_open(dir, &o, &s);
	if (rc)
		return rc;
	rc = hw_store_head(s, &nv->head);
	if (rc == 0)
		rc = hw_store_chain_id(s, nv->chain);
	if (rc == 0)
		rc = hw_store_base(s, &nv->base);
	if (rc == 0 && lsn > 0 && lsn <= nv->head.lsn) {
		rc = hw_store_entry_hash(s, lsn, nv->at_hash);
		if (rc == HW_ENOTFOUND && lsn == nv->base.lsn) /* pruned: the base keeps it */
			memcpy(nv->at_hash, nv->base.hash, HW_HASH_BYTES);
		nv->at_known = rc == 0 || lsn == nv->base.lsn;
		rc = rc == HW_ENOTFOUND ? 0 : rc;
	}
	if (rc == 0)
		node_next_read(s, lsn, nv);
	if (rc == 0)
		rc = hw_backup_vouch_outlook(s, 0, &ol);
	nv->signs = ol != HW_VOUCH_UNSIGNED;
	hw_store_close(s);
	return rc;
}

/* The restored store's head and chain. */
static int restored_read(const char *dir, struct hw_head *h, uint8_t chain[HW_HASH_BYTES])
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(dir, &o, &s);
	if (rc)
		return rc;
	rc = hw_store_head(s, h);
	if (rc == 0)
		rc = hw_store_chain_id(s, chain);
	hw_store_close(s);
	return rc;
}

/* Check "backup of this store": a backup that holds nothing, or that is not of the node's
 * store (another chain, or an entry hash the store's log differs from at the restored
 * head), proves nothing of the node's recovery, however well it restores: a wiped node's
 * nightly backups, or empty or foreign ones planted in backup_dir. nv gets the node's
 * store (nv->signs false when it was not read). Returns whether the check passed. */
static bool origin_check(struct drill *d, const char *into, const struct hw_restore_info *info,
			 struct node_view *nv)
{
	const char *name = "backup of this store";
	struct hw_head rh;
	uint8_t chain[HW_HASH_BYTES];
	char a[2 * HW_HASH_BYTES + 1], b[2 * HW_HASH_BYTES + 1];
	memset(nv, 0, sizeof(*nv));
	if (info->end_lsn == 0) {
		hw_report_check(
			&d->rep, name, HW_VERDICT_FAIL,
			"the backup ends at LSN 0: it holds no entry (the backup of a wiped "
			"or empty store), and restoring it proves nothing");
		return false;
	}
	if (!d->dir) {
		hw_report_check(&d->rep, name, HW_VERDICT_SKIP,
				"no --dir or --config: not compared with the node's store");
		return false;
	}
	int rc = node_read(d->dir, info->lsn, nv);
	if (rc == 0)
		rc = restored_read(into, &rh, chain);
	if (rc) {
		hw_report_check(&d->rep, name, HW_VERDICT_FAIL,
				"cannot compare with the store %s: %s (%s)", d->dir,
				hw_strerror(rc), hw_errname(rc));
		return false;
	}
	if (nv->head.lsn == 0) {
		hw_report_check(&d->rep, name, HW_VERDICT_FAIL,
				"the store %s holds no entry: the backup (to LSN %" PRIu64
				") is not of it",
				d->dir, info->end_lsn);
		return false;
	}
	if (memcmp(chain, nv->chain, HW_HASH_BYTES) != 0) {
		hw_report_check(
			&d->rep, name, HW_VERDICT_FAIL,
			"the backup is of another chain than the store %s: entry 1 %.16s... "
			"against %.16s...",
			d->dir, hw_cli_hex(chain, a), hw_cli_hex(nv->chain, b));
		return false;
	}
	if (nv->at_known && memcmp(rh.hash, nv->at_hash, HW_HASH_BYTES) != 0) {
		hw_report_check(&d->rep, name, HW_VERDICT_FAIL,
				"entry hash at LSN %" PRIu64
				" %.16s... differs from the store %s's "
				"%.16s...: the chains diverged",
				rh.lsn, hw_cli_hex(rh.hash, a), d->dir, hw_cli_hex(nv->at_hash, b));
		return false;
	}
	hw_report_check(&d->rep, name, HW_VERDICT_PASS,
			"chain %.16s... of the store %s; %s at LSN %" PRIu64
			"%s (the store's log holds LSN %" PRIu64 " to %" PRIu64 ")",
			hw_cli_hex(chain, a), d->dir,
			nv->at_known ? "entry hash equal" : "entry hash not compared", rh.lsn,
			nv->at_known ? "" : ": not in the store's log", nv->base.lsn + 1,
			nv->head.lsn);
	return true;
}

/* Check "signed like the store", when the node's store signs checkpoints: a backup of it
 * restored to its end must hold some (a log without them is nobody's to vouch for: a
 * foreign or rebuilt one, or one whose checkpoints were removed); restored to a point,
 * that point may be before its first. */
static void signed_check(struct drill *d, const struct hw_verify_report *v,
			 const struct node_view *nv, bool to_end)
{
	const char *name = "signed like the store";
	if (!nv->signs)
		return;
	if (v->checkpoints > 0)
		hw_report_check(
			&d->rep, name, HW_VERDICT_PASS,
			"the store %s signs checkpoints, and the restored log holds %" PRIu64,
			d->dir, v->checkpoints);
	else if (v->code == HW_EUNTRUSTED || v->code == HW_ESIGNATURE) /* it holds one */
		hw_report_check(
			&d->rep, name, HW_VERDICT_FAIL,
			"the store %s signs checkpoints; the backup holds one at LSN %" PRIu64
			" %s: nothing vouches that it is this cluster's log",
			d->dir, v->first_bad_lsn,
			v->code == HW_EUNTRUSTED ? "signed by a key not trusted"
						 : "whose signature does not verify");
	else
		hw_report_check(&d->rep, name, to_end ? HW_VERDICT_FAIL : HW_VERDICT_WARN,
				"the store %s signs checkpoints, but the %s holds none%s", d->dir,
				to_end ? "backup" : "log restored to the target point",
				to_end ? ": nothing vouches that it is this cluster's log"
				       : " (the point may be before the first)");
}

/* Check "target reached" for --until-time T. The restore stops before the first entry
 * after T, so a head before the backup's end reached T. A backup that ends before T may
 * lack entries the node made by then: the node's store (nv, of the same chain: same)
 * tells, by the time of its entry after the restored head (the restore's own rule: the
 * first entry after T ends it). At or before T: T is not reachable from this backup. */
static void time_target_check(struct drill *d, const struct hw_restore_info *info,
			      const struct node_view *nv, bool same)
{
	const char *name = "target reached";
	char t[40], at[40], nx[40], ends[160];
	hw_cli_iso(d->until_ms, t, sizeof(t));
	hw_cli_iso(info->time_ms, at, sizeof(at));
	if (info->lsn < info->end_lsn) {
		hw_report_check(&d->rep, name, HW_VERDICT_PASS,
				"restored to LSN %" PRIu64 " (%s), the last entry at or before %s; "
				"the backup goes on to LSN %" PRIu64,
				info->lsn, at, t, info->end_lsn);
		return;
	}
	snprintf(ends, sizeof(ends), "the backup ends at LSN %" PRIu64 " (%s), before %s",
		 info->lsn, at, t);
	if (!same)
		hw_report_check(&d->rep, name, HW_VERDICT_WARN,
				"%s: whether the node made entries after it by then is not known "
				"(no store of this chain to look in)",
				ends);
	else if (nv->head.lsn <= info->lsn)
		hw_report_check(&d->rep, name, HW_VERDICT_PASS,
				"%s, and the store %s holds nothing after it either", ends, d->dir);
	else if (!nv->next_known)
		hw_report_check(&d->rep, name, HW_VERDICT_WARN,
				"%s: the store %s no longer holds LSN %" PRIu64
				" (pruned), so whether it came by then is not known",
				ends, d->dir, info->lsn + 1);
	else if (nv->next_ms <= d->until_ms)
		hw_report_check(
			&d->rep, name, HW_VERDICT_FAIL,
			"not reachable from this backup: %s, and the store holds LSN %" PRIu64
			" at %s",
			ends, info->lsn + 1, hw_cli_iso(nv->next_ms, nx, sizeof(nx)));
	else
		hw_report_check(&d->rep, name, HW_VERDICT_PASS,
				"%s; the store's next entry, LSN %" PRIu64 ", is at %s, after it",
				ends, info->lsn + 1, hw_cli_iso(nv->next_ms, nx, sizeof(nx)));
}

/* The restored store against what the backup promised: head LSN (or for a time, what
 * time_target_check says), and the end hash when restored to the end. */
static void restore_target_checks(struct drill *d, const struct generation *g, bool have_g,
				  const char *restored, const struct hw_restore_info *info,
				  const struct node_view *nv, bool same)
{
	uint64_t want = have_g ? d->lsn_given ? d->until_lsn : g->end_lsn : 0;
	if (d->time_given)
		time_target_check(d, info, nv, same);
	else if (want == 0)
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

/* The backup's identity, so a report ties to one backup: its absolute path and what its
 * MANIFEST says. */
static void backup_facts(struct drill *d, const char *backup, const struct generation *g,
			 bool have_g)
{
	char abs[PATH_MAX];
	hw_report_fact(&d->rep, "backup", "%s", realpath(backup, abs) ? abs : backup);
	if (!have_g) {
		hw_report_fact(&d->rep, "backup_manifest", "%s", "none");
		return;
	}
	hw_report_fact(&d->rep, "backup_chain_id", "%s", g->chain_id);
	hw_report_fact(&d->rep, "backup_end_lsn", "%" PRIu64, g->end_lsn);
	hw_report_fact(&d->rep, "backup_end_hash", "%s", g->end_hash);
}

/* Figure replay_entries_per_s: the entries the restore replayed (a pruned store's
 * backup: those of log.hwl after its snapshot, which was copied, not replayed) over the
 * whole restore's time; left out, saying why, when too few were replayed to mean
 * anything. */
static void replay_rate(struct drill *d, const struct hw_restore_info *info)
{
	uint64_t replayed = info->lsn - info->copied_lsn;
	hw_report_figure(&d->rep, "replayed_entries", (double)replayed, "entries");
	if (info->copied_lsn)
		hw_report_fact(&d->rep, "snapshot_copied",
			       "LSN %" PRIu64 " to %" PRIu64 " came with the copy of the snapshot "
			       "(a pruned store's), not by replay",
			       info->base_lsn + 1, info->copied_lsn);
	if (replayed >= REPLAY_RATE_ENTRIES_MIN && info->seconds > 0)
		hw_report_figure(&d->rep, "replay_entries_per_s", (double)replayed / info->seconds,
				 "entries/s");
	else
		hw_report_fact(&d->rep, "replay_entries_per_s",
			       "not measured: %" PRIu64 " entries replayed, fewer than the %u "
			       "that make a rate",
			       replayed, REPLAY_RATE_ENTRIES_MIN);
}

static void restore_figures(struct drill *d, const struct hw_restore_info *info, double verify_s,
			    const char *backup)
{
	double restore_s = info->seconds;
	double total = restore_s + verify_s;
	int64_t rto = d->cfg.drills.restore_rto_ms;
	/* rounded up: a time past the target by a fraction of a ms still reads past it */
	int64_t total_ms = (int64_t)ceil(total * 1000);
	char a[64], b[64];
	hw_report_check(&d->rep, "restore time within RTO",
			total_ms <= rto ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"%s to a verified store, restore_rto %s",
			hw_drill_duration_vs(total_ms, rto, a, sizeof(a)),
			hw_drill_duration_vs(rto, total_ms, b, sizeof(b)));
	bool e;
	uint64_t bytes = hw_cli_drill_file_size(backup, "snapshot/data.mdb", &e) +
			 hw_cli_drill_file_size(backup, "log.hwl", &e);
	hw_report_figure(&d->rep, "restore_s", restore_s, "s");
	hw_report_figure(&d->rep, "verify_s", verify_s, "s");
	hw_report_figure(&d->rep, "time_to_recovery_s", total, "s");
	hw_report_figure(&d->rep, "restore_rto_s", (double)rto / 1000.0, "s");
	hw_report_figure(&d->rep, "rto_used", rto > 0 ? total * 1000 / (double)rto : 0, "fraction");
	hw_report_figure(&d->rep, "restored_lsn", (double)info->lsn, "lsn");
	replay_rate(d, info);
	hw_report_figure(&d->rep, "backup_bytes", (double)bytes, "bytes");
	d->target_ms = rto;
}

/* The restore itself, as phases "check backup" and "replay". */
static int restore_phase(struct drill *d, const char *backup, const char *into,
			 struct hw_restore_info *info)
{
	struct tracker t = {.rep = &d->rep, .label = "restore"};
	double t0 = hw_report_clock(&d->rep);
	int rc = hw_restore(backup, into, d->until_lsn, d->until_ms, hw_cli_drill_track_cb, &t,
			    info);
	hw_cli_progress_end();
	double t1 = hw_report_clock(&d->rep);
	if (d->connect) {
		/* a failed restore is recorded too: the trail shows who tried what */
		int trc = hw_cli_restore_event(d->connect, &d->sec, backup, into, d->until_lsn,
					       d->until_ms, info, rc, t1 - t0);
		hw_report_check(&d->rep, "restore recorded",
				trc ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
				"in the audit trail of %s%s%s", d->connect, trc ? ": " : "",
				trc ? hw_strerror(trc) : "");
	}
	double split = t.n_marks > 0 ? t.marks[0] : t1;
	/* no room where it restores: no verdict on the backup (restore_no_room) */
	enum hw_verdict v = rc == 0               ? HW_VERDICT_PASS
			    : hw_scratch_full(rc) ? HW_VERDICT_SKIP
						  : HW_VERDICT_FAIL;
	hw_report_phase(&d->rep, "check backup", t0, split,
			split < t1 || rc == 0 || info->checked ? HW_VERDICT_PASS : v,
			"MANIFEST and BLAKE2b of the snapshot and log");
	if (split < t1)
		hw_report_phase(&d->rep, "replay", split, t1, v, "log replayed to LSN %" PRIu64,
				info->lsn);
	return rc;
}

/* The ERROR of a restore of backup that stopped for want of room in into (hw_scratch_full),
 * as the verify drill says it (hw_cli_no_room_words): into, shortened to fit, and the room
 * the restore needs there and has (hw_restore_room; unread, "ran out of room"). */
static void restore_no_room(struct drill *d, const char *backup, const char *into)
{
	struct hw_scratch_room room;
	char before[HW_CLI_NO_ROOM_CHARS], after[HW_CLI_NO_ROOM_CHARS];
	(void)hw_restore_room(backup, into, &room);
	hw_cli_no_room_words("restore", "replay", &room, "the backup was", before, after);
	hw_report_finish_path(&d->rep, HW_DRILL_ERROR, before, into, after);
}

/* The verdict of a restore that stopped with rc; into: where it restored to, which is
 * what a lack of room (hw_scratch_full) is about, not the backup. */
static void restore_verdict(struct drill *d, int rc, const char *backup, const char *into,
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
	} else if (hw_scratch_full(rc)) {
		restore_no_room(d, backup, into);
	} else if (rc) {
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "restore of %s could not run: %s (%s)",
				 backup, hw_strerror(rc), hw_errname(rc));
	}
}

/* The verdict of a restore whose checks ran (sv: that of "checkpoint signers"): a PASS
 * says what it was, when not the run the restore schedule counts, and what it warned
 * of. */
/* The PASS and its one line: the backup's path shortened in its middle, so that the
 * claim around it and its warnings fit the line whole (the history row's what). */
static void restore_pass(struct drill *d, const char *scope, const char *backup, uint64_t lsn,
			 double seconds, const char *warn1, const char *warn2)
{
	char rto[32], before[96], claim[HW_DRILL_WHAT_BYTES];
	snprintf(before, sizeof(before), "%srestored ", scope);
	snprintf(claim, sizeof(claim),
		 " to LSN %" PRIu64 " and verified in %.2f s, within restore_rto %s%s%s", lsn,
		 seconds, hw_drill_duration_format(d->cfg.drills.restore_rto_ms, rto, sizeof(rto)),
		 warn1, warn2);
	hw_report_finish_path(&d->rep, HW_DRILL_PASS, before, backup, claim);
}

static void restore_end_verdict(struct drill *d, const char *backup,
				const struct hw_restore_info *info, double verify_s,
				enum hw_verdict sv, const char *signers)
{
	char scope[64] = "";
	bool target_warn = false;
	for (size_t i = 0; i < d->rep.n_checks; i++)
		target_warn |= !strcmp(d->rep.checks[i].name, "target reached") &&
			       d->rep.checks[i].verdict == HW_VERDICT_WARN;
	if (d->scope != HW_DRILL_SCOPE_FULL)
		snprintf(scope, sizeof(scope), "%s: ", hw_drill_scope_name(d->scope));
	if (sv == HW_VERDICT_FAIL) /* the hash chain check names an untrusted one too */
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "checkpoint signers: %s", signers);
	else if (hw_report_worst(&d->rep) == HW_VERDICT_FAIL)
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "%s", "");
	else
		restore_pass(
			d, scope, backup, info->lsn, info->seconds + verify_s,
			target_warn ? "; warning: target time not confirmed" : "",
			sv != HW_VERDICT_WARN ? ""
			: d->n_trust
				? "; warning: no signed checkpoint"
				: "; warning: no trusted keys configured, no signed checkpoint");
}

/* Restore, verify the result, time it against the RTO. A caught signal (the restore's
 * progress callback stopped it) ends it where it is: hw_cli_drill_finish says so. */
static void restore_run(struct drill *d, const char *backup, const char *into)
{
	struct generation g;
	bool have_g = hw_cli_drill_generation_read(backup, &g) == 0;
	backup_facts(d, backup, &g, have_g);
	struct hw_restore_info info;
	memset(&info, 0, sizeof(info));
	int rc = restore_phase(d, backup, into, &info);
	if (rc || *hw_cli_interrupted()) {
		restore_verdict(d, rc, backup, into, &info);
		return;
	}
	hw_report_check(&d->rep, "backup intact", HW_VERDICT_PASS,
			"MANIFEST and file hashes match");
	struct node_view nv;
	bool same = origin_check(d, into, &info, &nv);
	restore_target_checks(d, &g, have_g, into, &info, &nv, same);
	struct hw_verify_report v;
	double t0 = hw_report_clock(&d->rep);
	rc = hw_cli_drill_verify_dir(d, into, info.state_cp_lsn, &v);
	double verify_s = hw_report_clock(&d->rep) - t0;
	if (rc)
		return; /* it ended the drill in ERROR, saying why */
	hw_cli_drill_verify_checks(&d->rep, &v);
	char signers[HW_REPORT_TEXT_BYTES];
	enum hw_verdict sv = hw_cli_drill_signers(d, &v, true, signers, sizeof(signers));
	signed_check(d, &v, &nv, info.lsn == info.end_lsn);
	restore_figures(d, &info, verify_s, backup);
	char dg[2 * HW_HASH_BYTES + 1], when[40];
	hw_report_fact(&d->rep, "restored_head_time", "%s",
		       hw_cli_iso(info.time_ms, when, sizeof(when)));
	hw_report_fact(&d->rep, "restored_digest", "%s", hw_cli_hex(info.digest, dg));
	d->lsn = info.lsn;
	d->entries = v.entries;
	restore_end_verdict(d, backup, &info, verify_s, sv, signers);
}

/* The backup to restore: --backup, else the newest generation of backup_dir, whole or
 * not: a newest backup that does not restore is what the drill exists to find, so an
 * older one is never restored in its place (the restore fails naming it and why). The
 * newest is judged by what the directories hold, so one without a MANIFEST (cut short,
 * or its MANIFEST gone) counts too: NULL then, with it in *bad (else bad->path "").
 * newest (PATH_MAX bytes) gets that newest ("" when backup_dir is not set, cannot be
 * read or holds none): a --backup that is not it restores an older generation. */
static const char *restore_pick(struct drill *d, struct generation *bad, char *newest)
{
	static struct generation g[GENERATIONS_MAX];
	size_t n = 0, partial;
	bad->path[0] = newest[0] = '\0';
	bool scanned = d->cfg.drills.backup_dir[0] &&
		       hw_cli_drill_generations_scan(d->cfg.drills.backup_dir, g, GENERATIONS_MAX,
						     &n, &partial, bad) == 0;
	bool bad_newest = scanned && bad->path[0] && (n == 0 || bad->time_ms >= g[0].time_ms);
	if (bad_newest || (scanned && n > 0))
		snprintf(newest, PATH_MAX, "%s", bad_newest ? bad->path : g[0].path);
	if (d->backup) {
		bad->path[0] = '\0';
		if (d->cfg.drills.backup_dir[0] && !(newest[0] && hw_fs_same(d->backup, newest)))
			d->scope |= HW_DRILL_SCOPE_OLDER;
		return d->backup;
	}
	if (!scanned || bad_newest)
		return NULL;
	bad->path[0] = '\0';
	return n > 0 ? g[0].path : NULL;
}

/* What a run of full scope is to the restore schedule: counted, unless it leaves no row
 * (--no-record). */
static const char *counted(const struct drill *d)
{
	return hw_cli_drill_recorded(d) ? "the run the restore schedule counts"
					: "a run the restore schedule would count, not recorded";
}

/* The run's target point and scope (d->scope: restore_pick set OLDER) as facts, for the
 * history row, and as check "scope": only a restore of the newest backup of backup_dir
 * (without one, of the backup named) to its end is the run the restore schedule counts
 * (hw_store_drill_last); another is recorded, but keeps no schedule. */
static void scope_note(struct drill *d, const char *newest)
{
	char when[40], older[PATH_MAX + 64] = "", point[80] = "";
	d->point_lsn = d->lsn_given ? d->until_lsn : 0;
	d->point_ms = d->time_given ? d->until_ms : 0;
	if (d->lsn_given) {
		hw_report_fact(&d->rep, "target_lsn", "%" PRIu64, d->until_lsn);
		snprintf(point, sizeof(point), "; to LSN %" PRIu64, d->until_lsn);
	} else if (d->time_given) {
		hw_cli_iso(d->until_ms, when, sizeof(when));
		hw_report_fact(&d->rep, "target_time", "%s", when);
		snprintf(point, sizeof(point), "; to %s", when);
	}
	d->scope |= point[0] ? HW_DRILL_SCOPE_POINT : 0;
	hw_report_fact(&d->rep, "scope", "%s", hw_drill_scope_name(d->scope));
	if (d->scope == HW_DRILL_SCOPE_FULL) {
		hw_report_check(&d->rep, "scope", HW_VERDICT_PASS, "%s, to its end: %s",
				d->cfg.drills.backup_dir[0] ? "the newest backup of backup_dir"
							    : "the backup named (no backup_dir)",
				counted(d));
		return;
	}
	if (d->scope & HW_DRILL_SCOPE_OLDER)
		snprintf(older, sizeof(older), "; the newest backup of backup_dir is %s",
			 newest[0] ? newest : "not known (none there)");
	hw_report_check(&d->rep, "scope", HW_VERDICT_SKIP,
			"%s%s%s: %s the restore schedule counts only the newest backup of "
			"backup_dir restored to its end",
			hw_drill_scope_name(d->scope), older, point,
			hw_cli_drill_recorded(d) ? "recorded, but" : "not recorded;");
}

/* A restore of the newest backup to a point that failed on something other than that
 * point (check "target reached"): the backup damaged or incomplete, none there, its
 * signers, its origin, its verify, its time. A restore of it to its end would fail the
 * same, so the run speaks for the newest backup whole: its scope becomes full (the target
 * point stays in the row and the report), and status shows it as the last restore, where
 * a point-in-time run would have left the last full run showing, the damage hidden. */
static void scope_widen(struct drill *d)
{
	bool beyond_point = false;
	char when[40];
	if (d->scope != HW_DRILL_SCOPE_POINT || d->rep.result != HW_DRILL_FAIL ||
	    *hw_cli_interrupted()) /* stopped: no verdict to speak for anything */
		return;
	for (size_t i = 0; i < d->rep.n_checks; i++)
		beyond_point |= d->rep.checks[i].verdict == HW_VERDICT_FAIL &&
				strcmp(d->rep.checks[i].name, "target reached") != 0;
	if (!beyond_point)
		return;
	d->scope = HW_DRILL_SCOPE_FULL;
	for (size_t i = 0; i < d->rep.n_facts; i++)
		if (!strcmp(d->rep.facts[i].name, "scope"))
			snprintf(d->rep.facts[i].value, sizeof(d->rep.facts[i].value), "%s",
				 hw_drill_scope_name(d->scope));
	for (size_t i = 0; i < d->rep.n_checks; i++) {
		struct hw_report_check *c = &d->rep.checks[i];
		if (strcmp(c->name, "scope") != 0)
			continue;
		c->verdict = HW_VERDICT_PASS;
		if (d->point_lsn)
			snprintf(when, sizeof(when), "LSN %" PRIu64, d->point_lsn);
		else
			hw_cli_iso(d->point_ms, when, sizeof(when));
		snprintf(c->detail, sizeof(c->detail),
			 "point in time; to %s, but the newest backup failed beyond that point, "
			 "as a restore to its end would: %s",
			 when, counted(d));
	}
}

/* The end of a restore drill (hw_cli_drill_finish), its scope widened first. */
static int restore_finish(struct drill *d)
{
	scope_widen(d);
	return hw_cli_drill_finish(d);
}

/* No backup to restore: backup_dir holds none (backups stopped: that is the finding, not
 * a usage error), does not exist (ERROR), or its newest did not commit (bad). */
static int restore_none(struct drill *d, const struct generation *bad)
{
	const char *dir = d->cfg.drills.backup_dir;
	bool gone = access(dir, F_OK) != 0;
	if (bad->path[0]) {
		hw_report_check(&d->rep, "backup intact", HW_VERDICT_FAIL, "%s is %s", bad->path,
				bad->problem);
		hw_report_finish(&d->rep, HW_DRILL_FAIL,
				 "newest backup %s is %s; an older one is not restored in its "
				 "place",
				 bad->path, bad->problem);
		return restore_finish(d);
	}
	hw_report_check(&d->rep, "backup", HW_VERDICT_FAIL, "%s %s", dir,
			gone ? "does not exist" : "holds no backup");
	hw_report_finish_path(&d->rep, gone ? HW_DRILL_ERROR : HW_DRILL_FAIL, "backup_dir ", dir,
			      gone ? " does not exist" : " holds no backup");
	return restore_finish(d);
}

static int run_restore(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct drill d;
	int rc = hw_cli_drill_setup(&d, cmd, argc, argv, restore_opts);
	if (rc != HW_CLI_RUN)
		return rc;
	d.rep.kind = HW_DRILL_RESTORE;
	rc = hw_cli_security_check_optional(cmd, d.connect, &d.sec);
	if (rc != HW_CLI_RUN)
		return rc;
	static struct generation bad;
	static char newest[PATH_MAX];
	hw_cli_signals_catch(NULL); /* stopped, it removes its scratch and says so */
	const char *backup = restore_pick(&d, &bad, newest);
	if (!backup && !d.cfg.drills.backup_dir[0])
		return hw_cli_usage_error(cmd,
					  "--backup DIR (or backup_dir in the config) is required");
	scope_note(&d, newest);
	if (!backup)
		return restore_none(&d, &bad);
	if (!d.dir && !d.scratch)
		return hw_cli_usage_error(cmd, "--scratch DIR or --dir DIR is required");
	if (hw_cli_drill_trust_load(&d) != 0)
		return hw_cli_drill_finish(&d);
	char scratch[PATH_MAX], into[PATH_MAX + 8];
	rc = hw_cli_drill_scratch(&d, "restore", scratch, sizeof(scratch));
	if (rc)
		return hw_cli_fail(cmd->name, d.scratch ? d.scratch : d.dir, rc);
	snprintf(into, sizeof(into), "%s/store", scratch);
	restore_run(&d, backup, into);
	if (d.keep && !*hw_cli_interrupted())
		hw_report_fact(&d.rep, "restored_store", "%s", into);
	else
		hw_snapshot_rm(scratch);
	return restore_finish(&d);
}

const struct hw_cli_cmd hw_cli_drill_restore = {
	"drill restore", "restore a backup into scratch, verify, time it against the RTO",
	HW_CLI_USAGE(
		"usage: hawser drill restore [--backup B] [--scratch S]\n"
		"                            [--until-lsn N | --until-time T]\n"
		"                            [--dir DIR | --config FILE] [--rto DUR] [--keep]\n"
		"                            [--trust NODE.PUB]...\n"
		"                            [--connect ADDR (--key F --peers L --cluster ID |\n"
		"                            --insecure)] ...\n"
		"  Restore backup B (default: the newest generation in backup_dir, judged by what\n"
		"  its directory holds; a damaged one, or one with no MANIFEST (INCOMPLETE: cut\n"
		"  short; or its MANIFEST gone), fails the drill, naming it: an older one is not\n"
		"  restored instead) into a fresh directory under S (default: beside DIR's store;\n"
		"  one of the two is required), replaying to the end or to the target point,\n"
		"  verify the result, and hold the time to a verified store to restore_rto\n"
		"  (--rto, e.g. 12h; above 0, at most a year). Check \"scope\": only the newest\n"
		"  generation of backup_dir (without backup_dir, B) restored to its end is the\n"
		"  run the restore schedule counts; a restore of another backup or to a point is\n"
		"  recorded, not counted, unless one of the newest to a point fails on more than\n"
		"  the point (the backup damaged, say): a restore to its end would fail too, and\n"
		"  status shows it.\n"
		"  --until-time T: a backup that ends before T fails \"target reached\" when "
		"DIR's\n"
		"  store holds the entry after its end stamped by T (T is not reachable from it);\n"
		"  a warning when that cannot be told. Stopped by SIGINT, SIGTERM or SIGHUP, it\n"
		"  removes its scratch and records the run (ERROR), exiting 128 + the signal.\n"
		"  --trust NODE.PUB (up to 8; default: [drills] trust): the node.pub of each node\n"
		"  that may sign checkpoints. Check \"checkpoint signers\": a checkpoint signed "
		"by\n"
		"  another key fails (EUNTRUSTED); so do signed checkpoints when no key is given;\n"
		"  a restored log with no checkpoint is a warning (but see below). A backup of a\n"
		"  pruned store is restored by copying its snapshot: with keys given, its state\n"
		"  must match the digest of the first signed checkpoint after it, else the drill\n"
		"  fails.\n"
		"  Check \"backup of this store\": the backup is DIR's own; one that ends at LSN "
		"0\n"
		"  (holds nothing), is of another chain, or whose entry at the restored head\n"
		"  differs from DIR's fails (SKIP without DIR). Check \"signed like the store\":\n"
		"  when DIR's store signs checkpoints, a backup restored to its end without any\n"
		"  fails. The report names the backup: path, chain_id, end LSN and hash.\n"
		"  The history row goes to DIR's store. --keep leaves the restored store in S.\n"
		"  --backup-dir D overrides backup_dir.\n"
		"  --connect ADDR: tell the node at ADDR (its client port), which records a\n"
		"  restore event with this command's key in its audit trail (hawser audit), for a\n"
		"  failed restore too; only with --connect is a restore recorded. The check\n"
		"  \"restore recorded\" fails when the node does not take it. With "
		"--connect:\n" HW_CLI_SECURITY_USAGE COMMON_USAGE),
	run_restore};
