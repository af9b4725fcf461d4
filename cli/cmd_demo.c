/* cmd_demo.c: `hawser demo`, a failover and restore drill on a real local cluster, with
 * evidence. In a temporary directory it starts a primary, two standbys and a witness
 * (real `hawser node` / `hawser witness` processes on loopback, bench/cluster.h; durable
 * k = 1, rto 2 s, rpo 0), drives a compressed terminal peak from a few TOS lanes through
 * a client that follows the primary, prints the primary's predicted failover time and
 * data at risk (its status) every second, kills the primary with SIGKILL, measures the
 * RTO (kill to the first acknowledged submit on the new primary), restarts the old
 * primary and shows whether it rejoins, checks every acknowledged record on the new
 * primary's store (the exact count lost), checks that the old primary is back in sync (a
 * standby of the new epoch whose log holds the new primary's head, within REJOIN_MS of
 * its restart), then stops the cluster, runs a verify drill on the new primary's store
 * and a restore drill from a backup taken during the run, writes the HTML and JSON report
 * (cli/report.h) and ends with one PASS or FAIL line. The load, the fault, the RTO, the
 * rejoin and the loss check are cli/failover_run.h's, the same code `hawser drill
 * failover` runs.
 *
 * Single-threaded: the load, the status lines and the fault all run from this loop, so
 * the order of events is the order they are printed. SIGINT, SIGTERM and SIGHUP
 * (hw_cli_signals_catch) kill every child at once (async-signal-safe kill() of the pids
 * kept in `pids`) and the run unwinds, reaping them and removing the directory. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "bench/cluster.h"
#include "bench/workload.h"
#include "cli/cli.h"
#include "cli/failover_run.h"
#include "cli/report.h"
#include "hawser.h"
#include "replica/backup.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"
#include "replica/snapshot.h"
#include "wire.pb-c.h"

/* A compressed terminal peak: three lanes (gate, quay crane, EDI feed) at a modest
 * total rate, ten seconds of it, the primary killed half way. */
#define DEMO_PROFILE   "terminal_peak"
#define DEMO_SEED      1u
#define DEMO_RATE      300.0 /* records/s over all lanes */
#define DEMO_SECONDS   10.0
#define DEMO_BACKUP_S  2.5 /* the backup the restore drill restores */
#define DEMO_KILL_S    5.0
#define DEMO_RTO_MS    2000
#define DEMO_RPO_MS    0
#define DEMO_K         1u
#define DEMO_STANDBYS  2u
#define DEMO_WINDOW    32u   /* submits in flight */
#define FIRST_ACK_MS   10000 /* fault to the first ack on the new primary, at most */
/* From its restart, the old primary must be a standby in sync with the new primary
 * within this: a rejoin does what a failover does (learn the epoch, find the common
 * point, replay the gap, resume) and a process start besides, so the RTO is its budget;
 * four leave a loaded 2-core CI host room without hiding a rejoin that never ends. */
#define REJOIN_MS      (4 * DEMO_RTO_MS)
#define REJOIN_POLL_MS 50 /* between two looks at both nodes while the rejoin goes on */
#define STATUS_WAIT_MS 500

struct demo {
	char work[4096];   /* temporary: the cluster, backup, scratch stores */
	char report[4096]; /* kept: the report's directory */
	char html[4300];
	struct hw_cluster *c;
	struct hw_report rep;
	struct hw_fo_load load;
	struct hw_fo_run run;
	double t_backup0, t_backup, t_status;
	uint64_t backup_lsn, backup_bytes;
	bool backed_up, keep;
	/* the rejoin check: reached, in sync, restart to in sync, what it saw */
	bool rejoin_checked, rejoin_ok;
	double rejoin_ms;
	char rejoin_what[HW_REPORT_TEXT_BYTES];
	char fail[320];
	bool unrun; /* a drill could not run (fail says why): ERROR, no verdict on the store */
};

/* Children's pids for the signal handler: refreshed after every cluster operation. */
static volatile pid_t pids[8];

/* After a signal that asks the demo to stop (hw_cli_signals_catch): its cluster goes at
 * once. */
static void kill_children(int sig)
{
	(void)sig;
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
}

static void track_pids(const struct demo *d)
{
	unsigned n = d->c ? hw_cluster_nodes(d->c) : 0;
	for (unsigned i = 0; i < 8; i++)
		pids[i] = i < n ? hw_cluster_node_pid(d->c, i) : 0;
	if (d->c && n < 8)
		pids[n] = hw_cluster_witness_pid(d->c);
}

static int failed(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record why the demo failed (the first reason wins); returns -1. */
static int failed(struct demo *d, const char *fmt, ...)
{
	if (d->fail[0] == '\0') {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->fail, sizeof(d->fail), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---------------------------------------------------------------- status lines */

static void status_line(struct demo *d)
{
	double t = hw_report_clock(&d->rep) - d->run.t_load;
	unsigned p;
	Hawser__Wire__V1__Status *s = NULL;
	if (hw_cluster_primary(d->c, 0, &p) != 0 ||
	    hw_cluster_node_status(d->c, p, STATUS_WAIT_MS, &s) != 0) {
		printf("  t=%4.1fs primary=none (election) acked=%" PRIu64 "\n", t, d->run.acked);
		return;
	}
	char peers[256] = "";
	size_t n = 0;
	for (size_t i = 0; i < s->n_peers && n < sizeof(peers); i++)
		n += (size_t)snprintf(peers + n, sizeof(peers) - n, " %s:%s%" PRIu64,
				      s->peers[i]->node_id, s->peers[i]->connected ? "" : "(down)",
				      s->peers[i]->durable);
	/* the node's own prediction and data at risk (engine/core/targets.h hw_tg_now), the
	 * numbers `hawser status` shows; in three lines that fit 80 columns */
	const Hawser__Wire__V1__FailoverStatus *fo = s->failover;
	if (fo == NULL || !fo->configured) {
		printf("  t=%4.1fs %s primary, epoch %" PRIu64 ": no failover status\n", t,
		       hw_cluster_node_id(d->c, p), s->epoch);
	} else {
		printf("  t=%4.1fs %s primary epoch %" PRIu64 " lsn %" PRIu64 " acked %" PRIu64
		       " durable%s\n",
		       t, hw_cluster_node_id(d->c, p), s->epoch, s->last_lsn, d->run.acked, peers);
		char predicted[HW_CLI_PREDICTED_CHARS]; /* as status says it, terse */
		printf("    %s\n", hw_cli_predicted(fo, true, predicted, sizeof predicted));
		printf("    target %" PRId64 " ms; at risk %" PRIu64 " records, %" PRIu64
		       " acked not on %s (rpo %" PRId64 ")\n",
		       fo->rto_ms, fo->at_risk_records, fo->loss_records,
		       fo->promoted[0] ? fo->promoted : "any standby", fo->rpo_ms);
	}
	fflush(stdout);
	hawser__wire__v1__status__free_unpacked(s, NULL);
}

/* ---------------------------------------------------------------- the load */

/* The backup the restore drill restores, taken from a standby while the load runs
 * (read-only: the node keeps writing). */
static int backup_mid(struct demo *d)
{
	char path[4200];
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	struct hw_backup_info info;
	double t0 = hw_report_clock(&d->rep);
	d->backed_up = true;
	int rc = hw_store_open(hw_cluster_dir(d->c, 1), &so, &s);
	if (rc)
		return failed(d, "backup: open %s: %s", hw_cluster_dir(d->c, 1), hw_strerror(rc));
	snprintf(path, sizeof(path), "%s/backup", d->work);
	memset(&info, 0, sizeof(info));
	rc = hw_backup(s, path, NULL, NULL, &info);
	hw_store_close(s);
	if (rc)
		return failed(d, "backup: %s %s", hw_strerror(rc), info.what);
	d->backup_lsn = info.end_lsn;
	d->backup_bytes = info.bytes;
	d->t_backup0 = t0;
	d->t_backup = hw_report_clock(&d->rep);
	printf("  backup: s1 backed up under load at lsn %" PRIu64 " (%" PRIu64 " bytes)\n",
	       info.end_lsn, info.bytes);
	return 0;
}

/* The demo's timed events during the run (cli/failover_run.h hw_fo_tick_cb): the backup
 * under load, a status line a second; the pids the signal handler kills, fresh. */
static int demo_tick(struct hw_fo_run *r, void *arg)
{
	struct demo *d = arg;
	track_pids(d);
	double t = hw_report_clock(&d->rep) - r->t_load;
	if (!d->backed_up && t >= DEMO_BACKUP_S && backup_mid(d))
		return hw_fo_failed(r, "%s", d->fail);
	if (hw_report_clock(&d->rep) >= d->t_status) {
		status_line(d);
		d->t_status = hw_report_clock(&d->rep) + 1.0;
	}
	return 0;
}

/* ---------------------------------------------------------------- after the fault */

/* The failover's lines and the report's phases: the run's timeline, the load around it
 * and the check of every acknowledged record. */
static void failover_told(struct demo *d)
{
	const struct hw_fo_run *r = &d->run;
	hw_report_phase(&d->rep, "traffic", r->t_load, r->faulted ? r->t_fault : r->t_load_end,
			HW_VERDICT_PASS, "%u lanes at %.0f records/s, durable k=%u", HW_FO_LANES,
			DEMO_RATE, DEMO_K);
	if (d->backed_up)
		hw_report_phase(&d->rep, "backup of s1", d->t_backup0, d->t_backup, HW_VERDICT_PASS,
				"snapshot at lsn %" PRIu64 ", %" PRIu64 " bytes, taken under load",
				d->backup_lsn, d->backup_bytes);
	hw_fo_report(r, &d->rep, "", DEMO_RTO_MS);
	if (r->t_first < 0)
		return;
	hw_report_phase(&d->rep, "traffic after failover", r->t_first, r->t_load_end,
			HW_VERDICT_PASS, "the client followed the primary %u time(s)", r->follows);
	const char *old = hw_cluster_node_id(d->c, r->old_p);
	const char *nw = hw_cluster_node_id(d->c, r->new_p);
	if (r->promoted_ms >= 0)
		printf("failover %s promoted %.0f ms after the kill\n", nw, r->promoted_ms);
	else /* the run ended before the new primary's log was read */
		printf("failover %s took over (its promotion not read: %s)\n", nw, r->fail);
	printf("rto      first acknowledged submit on %s %.0f ms after the kill (target %d ms)\n",
	       nw, r->measured_rto_ms, DEMO_RTO_MS);
	if (r->t_joined <= 0)
		return;
	/* "rejoin": restart until it follows, as the report's rejoin phase; "in sync" (the
	 * rejoin check) comes later and takes longer */
	if (r->joined)
		printf("rejoin   %s restarted and follows %s as a standby, %.0f ms after its "
		       "restart\n",
		       old, nw, r->rejoin_ms_measured);
	else
		printf("rejoin   %s restarted but did not rejoin within %d ms; it is not primary. "
		       "It said: %s\n",
		       old, REJOIN_MS, r->rejoin_why);
	if (r->fail[0])
		return;
	hw_report_phase(&d->rep, "acknowledged records check", r->t_joined,
			hw_report_clock(&d->rep), r->lost ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
			"%" PRIu64 " acknowledged records, %" PRIu64 " lost on %s", r->acked,
			r->lost, nw);
	printf("check    %" PRIu64 " acknowledged records on %s: %" PRIu64
	       " lost, overlapping primaries %u\n",
	       r->acked, nw, r->lost, r->overlapping);
}

/* ---------------------------------------------------------------- the rejoin check */

/* Both nodes as the rejoin check last saw them. */
struct rejoin_seen {
	bool new_answered;           /* the new primary answered its status */
	uint64_t epoch, lsn;         /* its epoch and head */
	int old_role;                /* the old primary's (wire Role; 0: no answer) */
	uint64_t old_epoch, old_lsn; /* its epoch and durable LSN */
	char old_follows[64];        /* the primary it says it follows */
	uint8_t hash[HW_HASH_BYTES]; /* the new primary's entry at lsn */
	int same;                    /* the old primary's entry at lsn: 1 same hash, 0 not,
					-1 not read (either store is not there yet) */
};

/* The hash of entry lsn in the store in dir (a running node's, read-only): HW_ENOTFOUND
 * while its store has not committed that far (it follows its log by some ms). */
static int entry_hash_at(const char *dir, uint64_t lsn, uint8_t hash[HW_HASH_BYTES])
{
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(dir, &so, &s);
	if (rc != 0)
		return rc;
	rc = hw_store_entry_hash(s, lsn, hash);
	hw_store_close(s);
	return rc;
}

/* One look at both nodes: is the old primary a standby of the new primary's epoch whose
 * log holds the new primary's head with the same hash (so the chains agree up to it)? */
static bool rejoin_look(struct demo *d, struct rejoin_seen *w)
{
	const struct hw_fo_run *r = &d->run;
	Hawser__Wire__V1__Status *np = NULL, *op = NULL;
	uint8_t old_hash[HW_HASH_BYTES];
	memset(w, 0, sizeof(*w));
	w->same = -1;
	if (hw_cluster_node_status(d->c, r->new_p, STATUS_WAIT_MS, &np) != 0)
		return false;
	w->new_answered = true;
	w->epoch = np->epoch;
	w->lsn = np->last_lsn;
	hawser__wire__v1__status__free_unpacked(np, NULL);
	if (hw_cluster_node_status(d->c, r->old_p, STATUS_WAIT_MS, &op) != 0)
		return false;
	w->old_role = op->role;
	w->old_epoch = op->epoch;
	w->old_lsn = op->durable_lsn;
	snprintf(w->old_follows, sizeof(w->old_follows), "%s", op->primary ? op->primary : "");
	hawser__wire__v1__status__free_unpacked(op, NULL);
	if (w->old_role != HAWSER__WIRE__V1__ROLE__STANDBY || w->old_epoch != w->epoch ||
	    w->old_lsn < w->lsn || w->lsn == 0)
		return false;
	if (entry_hash_at(hw_cluster_dir(d->c, r->new_p), w->lsn, w->hash) != 0 ||
	    entry_hash_at(hw_cluster_dir(d->c, r->old_p), w->lsn, old_hash) != 0)
		return false;
	w->same = memcmp(w->hash, old_hash, HW_HASH_BYTES) == 0;
	return w->same == 1;
}

/* What the last look saw, in words, for a rejoin that did not come. */
static void rejoin_words(const struct demo *d, const struct rejoin_seen *w, char *buf, size_t cap)
{
	const char *old = hw_cluster_node_id(d->c, d->run.old_p);
	const char *nw = hw_cluster_node_id(d->c, d->run.new_p);
	if (!w->new_answered)
		snprintf(buf, cap, "%s, the new primary, does not answer its status", nw);
	else if (w->old_role == 0)
		snprintf(buf, cap, "%s does not answer its status", old);
	else if (w->same == 0)
		snprintf(buf, cap,
			 "%s's entry at lsn %" PRIu64 " differs from %s's: the logs diverged", old,
			 w->lsn, nw);
	else
		snprintf(buf, cap,
			 "%s is %s at epoch %" PRIu64 " following '%s', durable lsn %" PRIu64
			 "; %s is primary at epoch %" PRIu64 ", head lsn %" PRIu64,
			 old,
			 w->old_role == HAWSER__WIRE__V1__ROLE__STANDBY ? "standby" : "not standby",
			 w->old_epoch, w->old_follows, w->old_lsn, nw, w->epoch, w->lsn);
}

/* The restarted old primary must be back in the cluster, not only running: its own
 * status says standby of the new primary's epoch, and its log holds the new primary's
 * head with the same hash (whatever it held that the new primary did not was set aside
 * by the rejoin). Looked at until REJOIN_MS after its restart; fails the demo if not. */
static int rejoin_check(struct demo *d)
{
	const struct hw_fo_run *r = &d->run;
	const char *old = hw_cluster_node_id(d->c, r->old_p);
	const char *nw = hw_cluster_node_id(d->c, r->new_p);
	struct rejoin_seen w;
	double t0 = hw_report_clock(&d->rep), until = r->t_heal + REJOIN_MS / 1000.0;
	bool ok = rejoin_look(d, &w);
	while (!ok && !*hw_cli_interrupted() && hw_report_clock(&d->rep) < until) {
		hw_sleep_ms(REJOIN_POLL_MS);
		ok = rejoin_look(d, &w);
	}
	double t1 = hw_report_clock(&d->rep);
	char hex[2 * HW_HASH_BYTES + 1];
	d->rejoin_checked = true;
	d->rejoin_ok = ok;
	/* whole ms: the same number on stdout, in the report's figure and on the last line */
	d->rejoin_ms = ok ? rint((t1 - r->t_heal) * 1000) : -1;
	if (ok)
		snprintf(d->rejoin_what, sizeof(d->rejoin_what),
			 "%s is a standby of %s at epoch %" PRIu64
			 "; its log holds %s's head, lsn %" PRIu64
			 ", hash %.16s..., in sync %.0f ms after its restart (bound %d ms)",
			 old, nw, w.epoch, nw, w.lsn, hw_cli_hex(w.hash, hex), d->rejoin_ms,
			 REJOIN_MS);
	else
		rejoin_words(d, &w, d->rejoin_what, sizeof(d->rejoin_what));
	hw_report_phase(&d->rep, "rejoin check", t0, t1, ok ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"%s", d->rejoin_what);
	if (!ok)
		return failed(d, "rejoin: %s not in sync with %s within %d ms of its restart: %s",
			      old, nw, REJOIN_MS, d->rejoin_what);
	printf("in sync  %s: standby of %s at epoch %" PRIu64 ", %.0f ms after its restart "
	       "(bound %d ms)\n         its log holds %s's head, lsn %" PRIu64 ", hash %.16s...\n",
	       old, nw, w.epoch, d->rejoin_ms, REJOIN_MS, nw, w.lsn, hex);
	return 0;
}

/* ---------------------------------------------------------------- drills */

/* HW_FAULT_DEMO_PAUSE=at (docs/testing.md): stop this process (SIGSTOP) at the point at
 * names, once the cluster has stopped ("1": before the drills; "verified": after the
 * verify drill, before the restore drill's restore; "restore": after that restore,
 * before its digest, where), saying where its work directory is, so that a test
 * (test_demo) can take that file system's room and see a drill's ERROR; it goes on at
 * SIGCONT. */
static void pause_for_test(const struct demo *d, const char *at, const char *where)
{
	const char *on = getenv("HW_FAULT_DEMO_PAUSE");
	if (on == NULL || strcmp(on, at) != 0)
		return;
	char shown[HW_LOG_ESCAPED_CHARS(sizeof d->work)];
	fprintf(stderr, "hawser demo: cluster stopped in %s, paused %s\n",
		hw_log_escaped(d->work, shown, sizeof shown), where);
	raise(SIGSTOP);
}

/* The drill of phase ("verify drill") on node id could not run: no verdict on the store
 * (skip), and the demo ends in ERROR saying why in the words before, shown, after. */
static int unrun(struct demo *d, const char *phase, const char *id, const char *before,
		 const char *shown, const char *after, double t0, double t1)
{
	d->unrun = true;
	hw_report_phase(&d->rep, phase, t0, t1, HW_VERDICT_SKIP, "%s: %s%s%s", id, before, shown,
			after);
	return failed(d, "%s: %s%s%s", id, before, shown, after);
}

/* unrun() for want of room for the what ("rebuild", "replay") of work in its scratch
 * directory scratch (removed), as `hawser drill verify` says it (hw_cli_no_room_words:
 * room, read): the scratch (its path shortened to fit) and the room needed and free. */
static int no_room(struct demo *d, const char *phase, const char *id, const char *work,
		   const char *what, const struct hw_scratch_room *room, const char *read,
		   const char *scratch, double t0, double t1)
{
	char before[HW_CLI_NO_ROOM_CHARS], after[HW_CLI_NO_ROOM_CHARS], shown[sizeof d->fail];
	hw_cli_no_room_words(work, what, room, read, before, after);
	size_t words = strlen(id) + 2 + strlen(before) + strlen(after);
	hw_report_shorten(shown, sizeof shown, scratch,
			  words < sizeof d->fail - 1 ? sizeof d->fail - 1 - words : 0);
	return unrun(d, phase, id, before, shown, after, t0, t1);
}

/* The verify drill of node id could not run (rc, r; its scratch directory scratch): for
 * want of room, no_room(); else the library's words. */
static int verify_unrun(struct demo *d, const char *id, int rc, const struct hw_verify_report *r,
			const char *scratch, double t0, double t1)
{
	char after[64];
	if (rc == -ENOSPC)
		return no_room(d, "verify drill", id, "verify", "rebuild", &r->room,
			       "the store was", scratch, t0, t1);
	snprintf(after, sizeof after, " (%s)", hw_errname(rc));
	return unrun(d, "verify drill", id,
		     "verify could not run: ", r->what[0] ? r->what : hw_strerror(rc), after, t0,
		     t1);
}

static int verify_drill(struct demo *d)
{
	char scratch[4200];
	struct hw_verify_report r;
	double t0 = hw_report_clock(&d->rep);
	snprintf(scratch, sizeof(scratch), "%s/verify-rebuild", d->work);
	int rc = hw_verify(hw_cluster_dir(d->c, d->run.new_p), scratch, NULL, NULL, &r);
	double t1 = hw_report_clock(&d->rep);
	const char *id = hw_cluster_node_id(d->c, d->run.new_p);
	if (rc)
		return verify_unrun(d, id, rc, &r, scratch, t0, t1);
	if (r.code) {
		hw_report_phase(&d->rep, "verify drill", t0, t1, HW_VERDICT_FAIL, "%s: %s", id,
				r.what);
		return failed(d, "verify %s: %s", id, r.what);
	}
	hw_report_phase(&d->rep, "verify drill", t0, t1, HW_VERDICT_PASS,
			"%s intact: %" PRIu64 " entries, state rebuilt and digest equal", id,
			r.entries);
	printf("verify   %s intact: %" PRIu64 " entries rebuilt, digest equal (%.2f s)\n", id,
	       r.entries, r.seconds);
	return 0;
}

/* The restore drill's restore of bak stopped for want of room in dir (hw_scratch_full):
 * no verdict on the backup, no_room() with the room it needs there and has
 * (hw_restore_room; unread, "ran out of room"), as `hawser drill restore` says it. */
static int restore_no_room(struct demo *d, const char *bak, const char *dir, double t0)
{
	struct hw_scratch_room room;
	(void)hw_restore_room(bak, dir, &room);
	return no_room(d, "restore drill", "backup", "restore", "replay", &room, "the backup was",
		       dir, t0, hw_report_clock(&d->rep));
}

/* Restore the backup taken under load and compare it with the new primary's log
 * replayed to the same LSN: a restore, or a replay, without room is no verdict on the
 * backup (restore_no_room, no_room). */
static int restore_drill(struct demo *d)
{
	char bak[4200], dir[4200], scratch[4200] = "", hex[2 * HW_HASH_BYTES + 1];
	struct hw_restore_info info;
	struct hw_scratch_room room;
	uint8_t digest[HW_HASH_BYTES];
	pause_for_test(d, "verified", "before the restore drill's restore");
	double t0 = hw_report_clock(&d->rep);
	snprintf(bak, sizeof(bak), "%s/backup", d->work);
	snprintf(dir, sizeof(dir), "%s/restored", d->work);
	memset(&info, 0, sizeof(info));
	int rc = hw_restore(bak, dir, 0, 0, NULL, NULL, &info);
	if (hw_scratch_full(rc))
		return restore_no_room(d, bak, dir, t0);
	pause_for_test(d, "restore", "before the restore's digest");
	if (rc == 0)
		rc = hw_cli_digest_at(hw_cluster_dir(d->c, d->run.new_p), info.lsn, digest, scratch,
				      sizeof(scratch), &room);
	double t1 = hw_report_clock(&d->rep);
	if (scratch[0] && hw_scratch_full(rc))
		return no_room(d, "restore drill", hw_cluster_node_id(d->c, d->run.new_p),
			       "the restore's compare", "replay", &room, "the store was", scratch,
			       t0, t1);
	bool same = rc == 0 && info.lsn == d->backup_lsn &&
		    memcmp(digest, info.digest, HW_HASH_BYTES) == 0;
	hw_report_phase(&d->rep, "restore drill", t0, t1, same ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"backup restored to lsn %" PRIu64 " in %.2f s: %s", info.lsn, info.seconds,
			rc     ? hw_strerror(rc)
			: same ? "digest equals the new primary's log replayed to it"
			       : "digest differs");
	if (!same)
		return failed(d, "restore drill: %s",
			      rc ? hw_strerror(rc) : "restore_digest=differs");
	printf("restore  backup restored to lsn %" PRIu64 " in %.2f s, digest %.16s...\n"
	       "         equals %s's log replayed to it\n",
	       info.lsn, info.seconds, hw_cli_hex(info.digest, hex),
	       hw_cluster_node_id(d->c, d->run.new_p));
	return 0;
}

/* ---------------------------------------------------------------- the run */

static int start_cluster(struct demo *d)
{
	char root[4200];
	snprintf(root, sizeof(root), "%s/cluster", d->work);
	struct hw_cluster_opts o = {.root = root,
				    .cluster_id = "demo",
				    .standbys = DEMO_STANDBYS,
				    .mode = "durable",
				    .k = DEMO_K,
				    .failover = true,
				    .rto_ms = DEMO_RTO_MS,
				    .rpo_ms = DEMO_RPO_MS};
	double t0 = hw_report_clock(&d->rep);
	int rc = hw_cluster_start(&o, &d->c);
	if (rc)
		return failed(d, "start the cluster: %s", hw_strerror(rc));
	track_pids(d);
	hw_report_phase(&d->rep, "start cluster", t0, hw_report_clock(&d->rep), HW_VERDICT_PASS,
			"p1 primary, s1 and s2 standbys, witness w1: real processes on loopback");
	printf("cluster  p1 primary, s1 s2 standbys, w1 witness; durable k=%u, rto %d ms, "
	       "rpo %d\n         pids",
	       DEMO_K, DEMO_RTO_MS, DEMO_RPO_MS);
	for (unsigned i = 0; i < hw_cluster_nodes(d->c); i++)
		printf(" %s %d", hw_cluster_node_id(d->c, i), (int)hw_cluster_node_pid(d->c, i));
	printf(" w1 %d\n         clients at %s\n", (int)hw_cluster_witness_pid(d->c),
	       hw_cluster_client_list(d->c));
	return 0;
}

/* Stop the cluster, or after an interrupt reap what kill_children killed: those ends are
 * the demo's own doing, not the nodes' failures to report. */
static void cluster_down(struct demo *d)
{
	if (*hw_cli_interrupted())
		hw_cluster_reap_killed(d->c);
	else
		hw_cluster_stop(d->c);
}

static int stop_cluster(struct demo *d)
{
	double t0 = hw_report_clock(&d->rep);
	cluster_down(d);
	track_pids(d);
	hw_report_phase(&d->rep, "stop cluster", t0, hw_report_clock(&d->rep), HW_VERDICT_PASS,
			"every node and the witness stopped");
	int sig = (int)*hw_cli_interrupted();
	return sig ? failed(d, "interrupted by signal %d", sig) : 0;
}

static int run(struct demo *d)
{
	printf("hawser demo: a failover and restore drill on a local cluster\nwork     %s\n",
	       d->work);
	uint64_t count = (uint64_t)(DEMO_RATE * DEMO_SECONDS);
	int rc = hw_fo_load_init(&d->load, DEMO_PROFILE, DEMO_SEED, count,
				 hw_wall_ms() + (int64_t)(DEMO_SECONDS * 1000));
	if (rc)
		return failed(d, "generator: %s", hw_strerror(rc));
	if (start_cluster(d))
		return -1;
	d->run = (struct hw_fo_run){.c = d->c,
				    .load = &d->load,
				    .fault = HW_FO_KILL,
				    .rate = DEMO_RATE,
				    .window = DEMO_WINDOW,
				    .t0 = d->rep.t0,
				    .fault_after_s = DEMO_KILL_S,
				    .first_ack_ms = FIRST_ACK_MS,
				    .rejoin_ms = REJOIN_MS,
				    .rpo_ms = DEMO_RPO_MS,
				    .tick = demo_tick,
				    .arg = d,
				    .interrupted = hw_cli_interrupted()};
	printf("traffic  %" PRIu64 " records from %u lanes (%s) at %.0f records/s\n", count,
	       HW_FO_LANES, DEMO_PROFILE, DEMO_RATE);
	rc = hw_fo_run(&d->run, true);
	track_pids(d);
	failover_told(d);
	if (rc)
		return failed(d, "%s", d->run.fail);
	rc = rejoin_check(d);
	int src = stop_cluster(d);
	if (rc == 0)
		rc = src;
	pause_for_test(d, "1", "before the drills");
	if (rc == 0)
		rc = verify_drill(d);
	if (rc == 0)
		rc = restore_drill(d);
	return rc;
}

/* The rto check: measured; or failed, the kill done and no first ack by the run's end
 * (not interrupted); or not run (why). */
static void rto_check(struct demo *d, const char *why)
{
	const struct hw_fo_run *fo = &d->run;
	if (fo->t_first >= 0)
		hw_report_check(&d->rep, "rto",
				fo->measured_rto_ms <= DEMO_RTO_MS ? HW_VERDICT_PASS
								   : HW_VERDICT_FAIL,
				"kill to first acknowledged submit %.0f ms, target %d ms",
				fo->measured_rto_ms, DEMO_RTO_MS);
	else if (fo->faulted && !*hw_cli_interrupted())
		hw_report_check(&d->rep, "rto", HW_VERDICT_FAIL,
				"no acknowledged submit on a new primary after the kill: %.250s",
				d->fail);
	else
		hw_report_check(&d->rep, "rto", HW_VERDICT_SKIP, "%s", why);
}

/* The old primary's last acknowledgement and the new one's first, as UTC times, and the
 * gap between them (negative: they overlapped) into buf. */
static const char *acks_apart(const struct hw_fo_run *fo, char *buf, size_t cap)
{
	char old[40], nw[40];
	snprintf(buf, cap, "old primary's last ack %s, new primary's first %s: %lld ms after",
		 hw_cli_iso(fo->old_last_ack_ms, old, sizeof old),
		 hw_cli_iso(fo->new_first_ack_ms, nw, sizeof nw),
		 (long long)(fo->new_first_ack_ms - fo->old_last_ack_ms));
	return buf;
}

/* The run's checks. One the run ended before (interrupted, or failed earlier) is
 * skipped with that reason, never passed: a loss check that never ran found no loss. */
static void checks(struct demo *d)
{
	struct hw_report *r = &d->rep;
	const struct hw_fo_run *fo = &d->run;
	char why[HW_REPORT_TEXT_BYTES], t[HW_REPORT_TEXT_BYTES];
	snprintf(why, sizeof(why), "not run: the run ended before it (%.250s)", d->fail);
	rto_check(d, why);
	snprintf(t, sizeof(t),
		 "%" PRIu64 " of %" PRIu64 " acknowledged records lost (%" PRIu64
		 " beyond the rpo target of %d ms)",
		 fo->lost, fo->acked, hw_fo_lost_over_rpo(fo), DEMO_RPO_MS);
	hw_report_check(r, "rpo",
			!fo->loss_checked         ? HW_VERDICT_SKIP
			: hw_fo_lost_over_rpo(fo) ? HW_VERDICT_FAIL
						  : HW_VERDICT_PASS,
			"%s", fo->loss_checked ? t : why);
	/* the overlap check runs with the loss check (hw_fo_run) */
	acks_apart(fo, t, sizeof t);
	hw_report_check(r, "one primary at a time",
			fo->overlapping    ? HW_VERDICT_FAIL
			: fo->loss_checked ? HW_VERDICT_PASS
					   : HW_VERDICT_SKIP,
			"%s", fo->overlapping || fo->loss_checked ? t : why);
	hw_report_check(r, "old primary rejoined",
			!d->rejoin_checked ? HW_VERDICT_SKIP
			: d->rejoin_ok     ? HW_VERDICT_PASS
					   : HW_VERDICT_FAIL,
			"%s", d->rejoin_checked ? d->rejoin_what : "not reached");
	hw_report_check(r, "outcomes", fo->unexpected ? HW_VERDICT_WARN : HW_VERDICT_PASS,
			"%" PRIu64 " of %" PRIu64 " records answered otherwise than the generator "
			"expected",
			fo->unexpected, fo->to - fo->from);
}

/* The report's figures and facts: only what the run measured. */
static void figures(struct demo *d)
{
	struct hw_report *r = &d->rep;
	const struct hw_fo_run *fo = &d->run;
	hw_report_figure(r, "rto target", DEMO_RTO_MS, "ms");
	if (fo->t_first >= 0)
		hw_report_figure(r, "measured rto", fo->measured_rto_ms, "ms");
	if (fo->promoted_ms >= 0)
		hw_report_figure(r, "promotion", fo->promoted_ms, "ms");
	hw_report_figure(r, "records", (double)(fo->to - fo->from), "records");
	hw_report_figure(r, "acknowledged", (double)fo->acked, "records");
	if (fo->loss_checked) {
		hw_report_figure(r, "acknowledged lost", (double)fo->lost, "records");
		hw_report_figure(r, "overlapping primaries", fo->overlapping, "");
	}
	if (fo->joined) /* restart until it follows, as the rejoin phase */
		hw_report_figure(r, "rejoin", rint(fo->rejoin_ms_measured), "ms");
	if (d->rejoin_ok) /* restart until in sync, as the rejoin check */
		hw_report_figure(r, "in sync", d->rejoin_ms, "ms");
	hw_report_fact(r, "cluster",
		       "p1 primary, s1 s2 standbys, w1 witness; durable k=%u; rto "
		       "%d ms, rpo %d",
		       DEMO_K, DEMO_RTO_MS, DEMO_RPO_MS);
	hw_report_fact(r, "load", "%s, %u lanes, %.0f records/s, seed %u", DEMO_PROFILE,
		       HW_FO_LANES, DEMO_RATE, DEMO_SEED);
}

/* Checks and figures of the report, and the verdict against the targets. */
static void judge(struct demo *d, int rc)
{
	const struct hw_fo_run *fo = &d->run;
	if (rc == 0 && fo->measured_rto_ms > DEMO_RTO_MS)
		rc = failed(d, "measured_rto=%.0fms is over the target %dms", fo->measured_rto_ms,
			    DEMO_RTO_MS);
	if (rc == 0 && hw_fo_lost_over_rpo(fo))
		rc = failed(d, "%" PRIu64 " acknowledged records lost (rpo %d ms)",
			    hw_fo_lost_over_rpo(fo), DEMO_RPO_MS);
	if (rc == 0 && fo->overlapping) {
		char t[HW_REPORT_TEXT_BYTES];
		rc = failed(d, "two primaries acknowledged in overlapping periods: %s",
			    acks_apart(fo, t, sizeof t));
	}
	checks(d);
	figures(d);
	if (*hw_cli_interrupted() || d->unrun) /* as the drills say it: no verdict */
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "%s", d->fail);
	else if (rc)
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "%s", d->fail);
	else
		hw_report_finish(&d->rep, HW_DRILL_PASS,
				 "failover in %.0f ms (target %d ms), %" PRIu64
				 " acknowledged records lost",
				 fo->measured_rto_ms, DEMO_RTO_MS, fo->lost);
}

static int keep_opt_cb(void *arg, int key, const char *v)
{
	struct demo *d = arg;
	if (key == 'k')
		d->keep = true;
	else if (key == 'r')
		snprintf(d->report, sizeof(d->report), "%s", v);
	else
		return -1;
	return 0;
}

static int finish(struct demo *d, int rc)
{
	char json[4300];
	judge(d, rc);
	rc = d->fail[0] ? -1 : 0;
	int wrc = hw_report_write(&d->rep, d->report, json, d->html, sizeof(d->html));
	if (wrc) {
		snprintf(d->html, sizeof(d->html), "(not written: %s)", hw_strerror(wrc));
		rc = failed(d, "report: %s", hw_strerror(wrc));
	}
	/* -1: not measured, not checked, not in sync */
	printf("hawser demo: %s%s rto_target=%dms measured_rto=%.0fms rpo_target=%d "
	       "acked_lost=%lld in_sync=%.0fms records=%" PRIu64 " report=%s\n",
	       *hw_cli_interrupted() || d->unrun ? "ERROR "
	       : rc                              ? "FAIL "
						 : "PASS",
	       rc ? d->fail : "", DEMO_RTO_MS, d->run.t_first >= 0 ? d->run.measured_rto_ms : -1.0,
	       DEMO_RPO_MS, d->run.loss_checked ? (long long)d->run.lost : -1LL,
	       d->rejoin_ok ? d->rejoin_ms : -1.0, d->run.to - d->run.from, d->html);
	return rc;
}

static int cmd_demo(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"keep", no_argument, NULL, 'k'},
					     {"report-dir", required_argument, NULL, 'r'},
					     {0}};
	static struct demo d; /* static: large buffers stay off the stack */
	int rc = hw_cli_parse(cmd, argc, argv, opts, keep_opt_cb, &d, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	rc = hw_cli_scratch(NULL, "demo", d.work, sizeof(d.work));
	if (rc == 0 && d.report[0] == '\0')
		rc = hw_cli_scratch(NULL, "demo-report", d.report, sizeof(d.report));
	if (rc)
		return hw_cli_fail(cmd->name, "temporary directory", rc);
	hw_cli_signals_catch(kill_children);
	hw_report_init(&d.rep, HW_DRILL_FAILOVER, "demo cluster: p1 s1 s2 w1");
	rc = run(&d);
	if (d.c != NULL && *hw_cli_interrupted())
		hw_cluster_reap_killed(d.c); /* kill_children's: no word of how they ended */
	hw_cluster_free(d.c, true);          /* stops and reaps whatever still runs */
	track_pids(&(struct demo){.c = NULL});
	rc = finish(&d, rc);
	if (d.keep)
		printf("hawser demo: kept %s\n", d.work);
	else
		hw_snapshot_rm(d.work);
	hw_fo_load_free(&d.load);
	if (*hw_cli_interrupted())
		return 128 + (int)*hw_cli_interrupted();
	return rc ? HW_CLI_ERROR : HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_demo = {
	"demo", "failover and restore drill on a local cluster, with a report",
	HW_CLI_USAGE(
		"usage: hawser demo [--keep] [--report-dir DIR]\n"
		"  In a temporary directory, start a local cluster of real processes on loopback:\n"
		"  a primary, two standbys and a witness (durable k=1, rto 2s, rpo 0). Drive\n"
		"  about ten seconds of a compressed terminal peak from three TOS lanes through a\n"
		"  client that follows the primary, printing each second the predicted failover\n"
		"  time (the primary's own, as `hawser status` shows it) against the target and\n"
		"  the data at risk.\n"
		"  Halfway, kill the primary with SIGKILL: show the promotion and the measured\n"
		"  RTO (kill to the first acknowledged submit on the new primary). Restart the\n"
		"  old primary and show whether it rejoins, look every acknowledged record up on\n"
		"  the new primary's store, and check that the old primary is back in sync: it\n"
		"  reports standby at the new primary's epoch and its log holds the new primary's\n"
		"  head, same hash, within 4 x rto (8 s) of its restart; else the demo fails.\n"
		"  Stop the cluster, run a verify drill on the new primary's store and a restore\n"
		"  drill from a backup taken under load, write the HTML and JSON report, and end\n"
		"  with one line: hawser demo: PASS|FAIL rto_target= measured_rto= rpo_target=\n"
		"  acked_lost= in_sync= (restart to in sync) records= report=PATH, -1 for what\n"
		"  the run did not measure or check (it ended first). \"rejoin\" is the shorter\n"
		"  restart until it follows. Exit 1 on FAIL. A check the run did not reach is\n"
		"  skipped in the report, never passed. A verify drill, or a restore drill's\n"
		"  restore or replay, that cannot run (ENOSPC: its scratch has less room than it\n"
		"  needs, or filled, named) ends the run in ERROR (1).\n"
		"  Ctrl-C stops every process and ends the run in ERROR, \"interrupted by signal\n"
		"  N\" (exit 128 + the signal's number).\n"
		"  --keep: keep the temporary directory (its path is printed).\n"
		"  --report-dir DIR: write the report there (default: a new demo-report directory\n"
		"  under $TMPDIR or /tmp).\n"),
	cmd_demo};
