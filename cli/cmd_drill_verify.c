/* cmd_drill_verify.c: `hawser drill verify`, the integrity of a replica and the digests
 * of several stores compared at one LSN (docs/drills.md): stores on this host (--dir,
 * --compare), or the nodes of a cluster spread over hosts asked over their client ports
 * (--connect, engine/node_digest.c answers). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/names.h"
#include "cli/cmd_drill.h"
#include "cli/isolate.h"
#include "engine/client_int.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"
#include "replica/snapshot.h"
#include "wire.pb-c.h"

static const struct option verify_opts[] = {
	COMMON_OPTS,
	OPT("compare", required_argument, 'x' | HW_CLI_REPEATABLE),
	OPT("scratch", required_argument, 's'),
	OPT("connect", required_argument, 'C'),
	OPT("trust", required_argument, 'T' | HW_CLI_REPEATABLE),
	OPT("at-lsn", required_argument, 'l'),
	OPT("replay-max", required_argument, 'M'),
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

/* ---- verify ------------------------------------------------------------------------- */

/* A verify stopped (HW_ECANCELED: a caught signal, or its process killed) judged nothing
 * past where it stopped: that is no damage, and its checks say so. */
static void verify_stopped_checks(struct hw_report *r, const struct hw_verify_report *v)
{
	char stop[64];
	hw_cli_drill_stopped_why(stop, sizeof stop);
	char at[40] = "";
	if (v->first_bad_lsn)
		snprintf(at, sizeof at, " at LSN %" PRIu64, v->first_bad_lsn);
	hw_report_check(r, "hash chain", HW_VERDICT_SKIP, "not finished: %s%s", stop, at);
	hw_report_check(r, "records decode and validate", HW_VERDICT_SKIP, "not reached: %s", stop);
	hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_SKIP, "not reached: %s", stop);
}

/* The state check of hw_cli_drill_verify_checks. */
static void verify_state_check(struct hw_report *r, const struct hw_verify_report *v,
			       bool state_bad)
{
	char a[2 * HW_HASH_BYTES + 1], b[2 * HW_HASH_BYTES + 1];
	if (state_bad)
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_FAIL,
				"stored %s, rebuilt %s", hw_cli_hex(v->digest_stored, a),
				hw_cli_hex(v->digest_rebuilt, b));
	else if (v->state_rebuilt)
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_PASS, "digest %s",
				hw_cli_hex(v->digest_stored, a));
	else if (v->state_cp_lsn != 0)
		hw_report_check(
			r, "state rebuilt equals stored", HW_VERDICT_PASS,
			"the restore matched it with the digest the checkpoint at LSN %" PRIu64
			" signed%s; digest %s",
			v->state_cp_lsn,
			v->state_cp_beyond ? ", in a copy replayed to it (the restore stops before "
					     "its entry: the signer's key it recorded was judged)"
					   : " and replayed on from there",
			hw_cli_hex(v->digest_stored, a));
	else if (hw_verify_state_unvouched(v) && r->kind == HW_DRILL_RESTORE)
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_FAIL, "%s", v->what);
	else if (hw_verify_state_unvouched(v)) /* a node's own store: it built that state */
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_WARN,
				"%s; compare it with another node's store (--compare) to vouch for "
				"it",
				v->what);
	else
		hw_report_check(
			r, "state rebuilt equals stored", HW_VERDICT_SKIP, "%s",
			v->code != 0 ? "not reached"
				     : "the log starts after a base: nothing rebuilds or vouches "
				       "for the state tables");
}

/* The three things hw_verify proves, as checks; what its code says failed. */
void hw_cli_drill_verify_checks(struct hw_report *r, const struct hw_verify_report *v)
{
	int c = v->code;
	if (c == HW_ECANCELED) {
		verify_stopped_checks(r, v);
		return;
	}
	bool state_bad = c == HW_EDIGEST;
	bool record_bad = hw_is_reject(c);
	bool signer_bad = c == HW_EUNTRUSTED || c == HW_ESIGNATURE;
	/* the walk and the rebuild ran whole: hw_cli_drill_signers() reports it */
	bool unvouched = c == HW_EUNVOUCHED;
	bool chain_bad = c != 0 && !state_bad && !record_bad && !unvouched;
	if (signer_bad) /* hw_cli_drill_signers() reports it: the walk stopped there */
		hw_report_check(r, "hash chain", HW_VERDICT_SKIP,
				"walked to LSN %" PRIu64 ", where a checkpoint failed "
				"(checkpoint signers)",
				v->first_bad_lsn);
	else if (chain_bad && v->first_bad_lsn == 0) /* the store's meta: no entry to name */
		hw_report_check(r, "hash chain", HW_VERDICT_FAIL, "%s: %s", hw_errname(c), v->what);
	else if (chain_bad)
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
				signer_bad ? "not reached" : "not reached: the chain is broken");
	else if (v->base_lsn != 0)
		hw_report_check(r, "records decode and validate", HW_VERDICT_SKIP,
				"the log starts after base LSN %" PRIu64
				": entries checked by hash only",
				v->base_lsn);
	else
		hw_report_check(r, "records decode and validate", HW_VERDICT_PASS,
				"every record decoded, validated and applied again");
	verify_state_check(r, v, state_bad);
}

/* Split hw_verify's run into its two passes from the tracker's marks: the walk reports
 * every HW_PROGRESS_STEP entries, the rebuild after each batch and from 0 again. */
static void verify_phases(struct hw_report *r, const struct tracker *t, double t0, double t1,
			  const struct hw_verify_report *v)
{
	double split = t1;
	if (t->n_marks >= 2)
		split = t->marks[1];
	else if (t->n_marks == 1 && v->state_rebuilt && v->entries < HW_PROGRESS_STEP)
		split = t->marks[0]; /* too short a walk to report: the one pass seen is the rebuild
				      */
	int c = v->code;
	/* stopped (HW_ECANCELED): not judged, not failed */
	enum hw_verdict bad = c == HW_ECANCELED ? HW_VERDICT_SKIP : HW_VERDICT_FAIL;
	enum hw_verdict walk = c != 0 && c != HW_EDIGEST && c != HW_EUNVOUCHED && !hw_is_reject(c)
				       ? bad
				       : HW_VERDICT_PASS;
	hw_report_phase(r, "chain walk", t0, split, walk, "%" PRIu64 " entries", v->entries);
	if (split < t1 || v->state_rebuilt)
		hw_report_phase(r, "rebuild and compare", split, t1,
				v->code == 0 ? HW_VERDICT_PASS : bad,
				"replayed into scratch, digests compared");
}

/* End the drill d in ERROR (ENOSPC) in the words of hw_cli_no_room_words(work, what,
 * room, read) around the path of the scratch directory scratch, shortened to fit. */
static void no_room_finish(struct drill *d, const char *work, const char *what, const char *scratch,
			   const struct hw_scratch_room *room, const char *read)
{
	char before[HW_CLI_NO_ROOM_CHARS], after[HW_CLI_NO_ROOM_CHARS];
	hw_cli_no_room_words(work, what, room, read, before, after);
	hw_report_finish_path(&d->rep, HW_DRILL_ERROR, before, scratch, after);
}

/* The drill's ERROR for the verify of dir that could not run (rc, v): the library's words
 * when it has them (they say more, and fit the row), or for want of room in its scratch
 * directory (removed; "" when none was made) the words of no_room_finish, naming it as
 * `hawser verify` does. */
static void verify_unrun(struct drill *d, const char *dir, int rc, const struct hw_verify_report *v,
			 const char *scratch)
{
	if (rc == -ENOSPC && scratch[0])
		no_room_finish(d, "verify", "rebuild", scratch, &v->room, "the store was");
	else
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "verify of %s could not run: %s (%s)",
				 dir, v->what[0] ? v->what : hw_strerror(rc), hw_errname(rc));
}

/* Verify the store in dir as a phase pair of r. Returns 0 when the check ran, else ends
 * the drill in ERROR saying why (verify_unrun). */
int hw_cli_drill_verify_dir(struct drill *d, const char *dir, uint64_t state_cp_lsn,
			    struct hw_verify_report *v)
{
	char scratch[PATH_MAX] = "";
	v->what[0] = '\0'; /* no words of the library's until it ran */
	int rc = hw_cli_drill_scratch(d, "verify", scratch, sizeof(scratch));
	if (rc) {
		verify_unrun(d, dir, rc, v, "");
		return rc;
	}
	struct tracker t = {.rep = &d->rep, .label = "verify"};
	double t0 = hw_report_clock(&d->rep);
	struct hw_verify_trust vt = {.keys = d->trust,
				     .count = d->n_trust,
				     .cadence_records = d->cfg.checkpoint_records,
				     .cadence_ms = d->cfg.checkpoint_interval_ms,
				     .state_cp_lsn = state_cp_lsn};
	/* in a child: LMDB aborts the process on some damaged pages (cli/isolate.h) */
	struct hw_cli_end end;
	rc = hw_cli_verify_isolated(dir, scratch, &vt, hw_cli_drill_track_cb, &t, sizeof t, v,
				    &end);
	hw_cli_drill_died(d, &end);
	hw_cli_progress_end();
	double t1 = hw_report_clock(&d->rep);
	hw_snapshot_rm(scratch);
	if (rc == 0)
		verify_phases(&d->rep, &t, t0, t1, v);
	else
		verify_unrun(d, dir, rc, v, scratch);
	return rc;
}

/* What compare_one needs of one store: its chain's identity (entry 1, or its hash kept
 * once pruned) and the hash of its entry at the LSN compared (HW_ENOTFOUND: pruned). */
struct chain_at {
	int id_rc, hash_rc;
	uint8_t id[HW_HASH_BYTES], hash[HW_HASH_BYTES];
};

static int chain_read(const char *dir, uint64_t lsn, struct chain_at *c)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(dir, &o, &s);
	if (rc)
		return rc;
	c->id_rc = hw_store_chain_id(s, c->id);
	c->hash_rc = hw_store_entry_hash(s, lsn, c->hash);
	hw_store_close(s);
	return 0;
}

/* What compare_one reads of stores a and b, in a child (cli/isolate.h): either may be
 * damaged, and reading names the one it was reading when it died. */
struct compare_job {
	const char *a, *b, *reading;
	char scratch[PATH_MAX]; /* for a replay: made and removed by the parent; "": none */
	struct hw_scratch_room room; /* what a replay needs there, and has */
	uint64_t lsn; /* the LSN both have */
	uint8_t da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	bool same, known, other_chain; /* the entry hash at lsn: equal, read in both */
};

static int compare_read(void *arg)
{
	struct compare_job *j = arg;
	struct chain_at c[2] = {{0}, {0}};
	int rc = hw_cli_digests_common(j->a, j->b, j->scratch, &j->room, &j->lsn, j->da, j->db,
				       &j->reading);
	for (int i = 0; i < 2 && rc == 0 && j->lsn > 0; i++) {
		j->reading = i ? j->b : j->a;
		rc = chain_read(j->reading, j->lsn, &c[i]);
	}
	if (rc || j->lsn == 0)
		return rc;
	j->other_chain =
		c[0].id_rc == 0 && c[1].id_rc == 0 && memcmp(c[0].id, c[1].id, HW_HASH_BYTES) != 0;
	j->known = c[0].hash_rc == 0 && c[1].hash_rc == 0;
	j->same = j->known && memcmp(c[0].hash, c[1].hash, HW_HASH_BYTES) == 0;
	int ra = c[0].hash_rc, rb = c[1].hash_rc;
	return ra != 0 && ra != HW_ENOTFOUND ? ra : rb != 0 && rb != HW_ENOTFOUND ? rb : 0;
}

/* compare_read in a child, its replays in a scratch directory of the drill's (its path
 * in j->scratch, "" when none was made), which is removed after, also when the child
 * died. Returns what hw_cli_read_isolated() does. */
static int compare_isolated(struct drill *d, struct compare_job *j, struct hw_cli_end *end)
{
	int rc = hw_cli_drill_scratch(d, "compare", j->scratch, sizeof(j->scratch));
	if (rc) {
		j->scratch[0] = '\0';
		return rc;
	}
	rc = hw_cli_read_isolated(compare_read, j, sizeof(*j), end);
	hw_snapshot_rm(j->scratch);
	hw_cli_drill_died(d, end);
	return rc;
}

/* A compare (j) whose replay's scratch had less room than the replay needs, which it then
 * did not start (hw_scratch_room): no verdict on the stores, which were only read (skip),
 * and the drill ends in ERROR, naming the scratch directory, the room needed and free. */
static void compare_refused(struct drill *d, const char *name, const struct compare_job *j)
{
	char why[HW_SCRATCH_WHY_CHARS];
	hw_scratch_room_why(&j->room, why, sizeof why);
	hw_report_check(&d->rep, name, HW_VERDICT_SKIP,
			"not compared (ENOSPC): no room for the replay's scratch store in %s "
			"(removed): %s; the stores were only read",
			j->scratch, why);
	no_room_finish(d, "a compare", "replay", j->scratch, &j->room, "the stores were");
}

/* A compare (j) whose replay's scratch store had no room (the code of the child that ran
 * it, rc, says so: hw_scratch_full): before the replay (compare_refused) or part way.
 * The stores were only read, so no verdict on them (skip) and the drill ends in ERROR,
 * naming the scratch directory, as `hawser digest --at-lsn` does. Returns -ENOSPC, or 0
 * for any other outcome. */
static int compare_no_room(struct drill *d, const char *name, const struct compare_job *j, int rc,
			   const struct hw_cli_end *end)
{
	if (end->signo != 0 || !j->scratch[0] || !hw_scratch_full(rc))
		return 0;
	if (hw_scratch_room_short(&j->room)) {
		compare_refused(d, name, j);
		return -ENOSPC;
	}
	hw_report_check(&d->rep, name, HW_VERDICT_SKIP,
			"not compared: the replay's scratch store ran out of room part way "
			"(ENOSPC): %s (removed); the stores were only read",
			j->scratch);
	no_room_finish(d, "a compare", "replay", j->scratch, &j->room, "the stores were");
	return -ENOSPC;
}

/* Compare the node's store with other's at the LSN both have. Returns 0, or -ENOSPC when
 * the compare could not run for its scratch's room (compare_no_room: the drill's verdict
 * is then ERROR, already finished). */
static int compare_one(struct drill *d, const char *other)
{
	char name[PATH_MAX + 16], why[HW_CLI_WHY_CHARS];
	snprintf(name, sizeof(name), "compare %s", other);
	/* the report cuts the name (path as typed) with "...": a fact of it has the whole */
	char abs[PATH_MAX];
	hw_report_fact(&d->rep, name, "%s", realpath(other, abs) ? abs : other);
	hw_report_phase_begin(&d->rep);
	struct compare_job j = {.a = d->dir, .b = other, .reading = d->dir};
	struct hw_cli_end end = {0};
	int rc = compare_isolated(d, &j, &end);
	if (compare_no_room(d, name, &j, rc, &end) != 0) {
		hw_report_phase_end(&d->rep, name, HW_VERDICT_SKIP, "not compared");
		return -ENOSPC;
	}
	uint64_t lsn = j.lsn;
	char x[2 * HW_HASH_BYTES + 1], y[2 * HW_HASH_BYTES + 1];
	enum hw_verdict v = HW_VERDICT_PASS;
	int sig = (int)*hw_cli_interrupted();
	if (rc && sig) { /* stopped: no verdict on the stores */
		v = HW_VERDICT_SKIP;
		hw_report_check(&d->rep, name, v, "not finished: interrupted by signal %d", sig);
	} else if (rc) { /* hawser's own failure is no verdict: the drill ends in ERROR */
		v = rc == HW_EINTERNAL ? HW_VERDICT_SKIP : HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v, "cannot compare: %s (%s)",
				end.signo ? hw_cli_read_why(j.reading, &end, why, sizeof(why))
					  : hw_strerror(rc),
				hw_errname(rc));
	} else if (lsn == 0) { /* two empty states are equal, and prove nothing */
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v, "nothing to compare: %s or %s holds no entry",
				d->dir, other);
	} else if (j.other_chain) {
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v,
				"the stores hold different chains (their entry 1 differs)");
	} else if (memcmp(j.da, j.db, HW_HASH_BYTES) != 0) {
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v,
				"state digest differs at LSN %" PRIu64 ": %s has %s, %s has %s",
				lsn, d->dir, hw_cli_hex(j.da, x), other, hw_cli_hex(j.db, y));
	} else if (j.known && !j.same) {
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v,
				"same state but the entry hash at LSN %" PRIu64
				" differs: the chains diverged",
				lsn);
	} else {
		hw_report_check(&d->rep, name, v, "digest %s equal at LSN %" PRIu64 "%s",
				hw_cli_hex(j.da, x), lsn, j.known ? ", entry hash equal" : "");
	}
	hw_report_phase_end(&d->rep, name, v, "at LSN %" PRIu64, lsn);
	return 0;
}

/* What tells one store from another (hw_fs_same): its data.mdb, else (no store there
 * yet) the directory, as a path in p[cap]. */
static const char *store_file(const char *dir, char *p, size_t cap)
{
	struct stat st;
	bool mdb = snprintf(p, cap, "%s/data.mdb", dir) < (int)cap && stat(p, &st) == 0;
	return mdb ? p : dir;
}

/* --dir and every --compare name different stores: a store compared with itself (s1 and
 * ./s1/, a link to it or to its data.mdb, a bind mount) agrees, and proves nothing.
 * HW_CLI_RUN or a usage error. */
static int compare_distinct(const struct drill *d)
{
	const char *all[COMPARE_MAX + 1] = {d->dir}, *file[COMPARE_MAX + 1];
	char buf[COMPARE_MAX + 1][PATH_MAX + 16];
	memcpy(all + 1, d->compare, d->n_compare * sizeof(all[0]));
	for (size_t i = 0; i <= d->n_compare; i++) {
		file[i] = store_file(all[i], buf[i], sizeof buf[i]);
		for (size_t j = 0; j < i; j++)
			if (hw_fs_same(file[i], file[j]))
				return hw_cli_usage_error(
					d->cmd,
					"--compare %s is the store of %s %s: compare it with "
					"another node's store",
					all[i], j == 0 ? "--dir" : "--compare", all[j]);
	}
	return HW_CLI_RUN;
}

/* ---- verify --connect: the nodes of a cluster, over their client ports -------------- */

#define NODES_MAX VERIFY_NODES_MAX
/* How long one node may take for one digest: a replay of the default limit, with room. */
#define DIGEST_WAIT_MS 300000
/* Entries a node may replay for its answer unless --replay-max says: seconds of work. */
#define REPLAY_MAX_DEFAULT 1000000u

/* One node of the list and its answer. */
struct member {
	char addr[HW_ADDR_CHARS_MAX + 1]; /* as hw_addrs_parse() gives it */
	struct hw_client *c;
	int code;     /* 0: answered; else why not, in words in why */
	bool replied; /* the node answered (a reply, an ERROR, a frame it should not have sent
		       * or could not be read); else no answer came, code says why */
	char why[HW_REPORT_TEXT_BYTES]; /* as much as its check says */
	/* the node's id once it answered, its address until then */
	char node_id[HW_ADDR_CHARS_MAX + 1];
	uint64_t lsn, entries;
	int how; /* wire.proto DigestHow */
	uint8_t digest[HW_HASH_BYTES];
	/* code -ENOSPC from a node that names its replay's scratch ("": an older node, or
	 * another code) and the room it needed there and had (short: refused before) */
	char scratch[PATH_MAX];
	struct hw_scratch_room room;
};
_Static_assert(sizeof(((struct member *)0)->node_id) == sizeof(((struct member *)0)->addr),
	       "node_id starts as the address");
_Static_assert(HW_ID_CHARS_MAX <= HW_ADDR_CHARS_MAX, "an answer's node id fits node_id");

/* Connect to each address of the comma-separated list; one that fails keeps its code. */
static int members_connect(struct drill *d, struct member *m, size_t *n)
{
	char addrs[NODES_MAX][HW_ADDR_CHARS_MAX + 1];
	if (hw_addrs_parse(d->connect, addrs, NODES_MAX, n) != 0) {
		*n = 0; /* none connected */
		return -1;
	}
	for (size_t i = 0; i < *n; i++) {
		struct member *x = &m[i];
		memset(x, 0, sizeof(*x));
		snprintf(x->addr, sizeof(x->addr), "%s", addrs[i]);
		memcpy(x->node_id, x->addr, sizeof(x->node_id));
		x->code = hw_client_connect_secure(x->addr, &d->sec, &x->c);
		if (x->code)
			snprintf(x->why, sizeof(x->why), "cannot connect: %s",
				 hw_strerror(x->code));
	}
	return *n >= 2 ? 0 : -1;
}

/* Ask m for its digest at lsn (0: at its head now) and keep the answer or why none came. */
static void ask(const struct drill *d, struct member *m, uint64_t lsn)
{
	uint8_t *body;
	size_t len;
	uint64_t max = d->replay_max ? d->replay_max : REPLAY_MAX_DEFAULT;
	int rc = hw_client_digest(m->c, lsn, max, DIGEST_WAIT_MS, &body, &len, &m->replied);
	if (rc) {
		m->code = rc;
		snprintf(m->why, sizeof(m->why), "%s", hw_strerror(rc));
		return;
	}
	Hawser__Wire__V1__DigestReply *r = hawser__wire__v1__digest_reply__unpack(NULL, len, body);
	free(body);
	if (!r || (r->code == 0 && r->digest.len != HW_HASH_BYTES)) {
		m->code = HW_EFRAME;
		snprintf(m->why, sizeof(m->why), "malformed digest reply");
	} else {
		m->code = r->code;
		snprintf(m->why, sizeof(m->why), "%s", r->message);
		if (r->node_id[0])
			snprintf(m->node_id, sizeof(m->node_id), "%s", r->node_id);
		m->lsn = r->lsn;
		m->how = r->how;
		m->entries = r->entries;
		snprintf(m->scratch, sizeof(m->scratch), "%s", r->scratch);
		m->room = (struct hw_scratch_room){r->need_bytes, r->free_bytes};
		if (r->code == 0)
			memcpy(m->digest, r->digest.data, HW_HASH_BYTES);
	}
	if (r)
		hawser__wire__v1__digest_reply__free_unpacked(r, NULL);
}

/* Every node's digest at one LSN: --at-lsn, else the lowest head the nodes report, each
 * node above it asked again at it. *lsn gets the LSN; 0 when no node answered. */
static void gather(const struct drill *d, struct member *m, size_t n, uint64_t *lsn)
{
	uint64_t low = d->lsn_given ? d->until_lsn : UINT64_MAX;
	for (size_t i = 0; i < n; i++)
		if (m[i].code == 0)
			ask(d, &m[i], d->lsn_given ? d->until_lsn : 0);
	for (size_t i = 0; i < n && !d->lsn_given; i++)
		if (m[i].code == 0 && m[i].lsn < low)
			low = m[i].lsn;
	*lsn = low == UINT64_MAX ? 0 : low;
	for (size_t i = 0; i < n && !d->lsn_given; i++)
		if (m[i].code == 0 && m[i].lsn != low)
			ask(d, &m[i], low);
}

/* How many answers share m[i]'s digest (0 when m[i] did not answer). */
static size_t sharing(const struct member *m, size_t n, size_t i)
{
	size_t c = 0;
	for (size_t j = 0; j < n && m[i].code == 0; j++)
		c += m[j].code == 0 && memcmp(m[i].digest, m[j].digest, HW_HASH_BYTES) == 0;
	return c;
}

/* The answer more nodes share than any other digest, NULL when none answered or when
 * two digests tie for the most: then argument order would pick the healthy node. *count
 * gets how many share the most, *second how many share the next digest (0: none). */
static const struct member *majority(const struct member *m, size_t n, size_t *count,
				     size_t *second)
{
	const struct member *best = NULL;
	*count = *second = 0;
	for (size_t i = 0; i < n; i++) {
		size_t c = sharing(m, n, i);
		bool other = best && memcmp(m[i].digest, best->digest, HW_HASH_BYTES) != 0;
		if (c > *count) {
			*second = other ? *count : *second;
			*count = c;
			best = &m[i];
		} else if (other && c > *second) {
			*second = c;
		}
	}
	return *count > 0 && *second == *count ? NULL : best;
}

/* Two answers from one node (the same node id at two addresses, such as 127.0.0.1:P and
 * localhost:P): it would agree with itself. Their indices in *a and *b. */
static bool same_node(const struct member *m, size_t n, size_t *a, size_t *b)
{
	for (*a = 0; *a < n; (*a)++)
		for (*b = *a + 1; *b < n; (*b)++)
			if (m[*a].code == 0 && m[*b].code == 0 &&
			    strcmp(m[*a].node_id, m[*b].node_id) == 0)
				return true;
	return false;
}

/* Whether x has no digest for a reason that says nothing of its store, so its store was
 * not checked (no verdict on it): no answer came (it cannot be reached, the connection
 * failed or closed, the wait timed out), or it answered that it could not do the work:
 * busy with another query (HW_EBUSY), no room for its replay's scratch
 * (hw_scratch_full), a replay past the limit (HW_ERANGE), no log to replay from or no
 * such LSN (HW_ENOTFOUND), a replay stopped by a reopen of its store (HW_ECANCELED), no
 * memory or descriptor to start the digest's thread (HW_ENOMEM, EMFILE, ENFILE). A
 * node that answered anything else is a FAIL: its storage failed (HW_ESTORE_FAILED),
 * another code (its store failing the work), a reply that cannot be read, of the wrong
 * type, or without a whole digest. */
static bool unchecked(const struct member *x)
{
	return x->code != 0 &&
	       (!x->replied || hw_scratch_full(x->code) || x->code == HW_ERANGE ||
		x->code == HW_ENOTFOUND || x->code == HW_EBUSY || x->code == HW_ECANCELED ||
		x->code == HW_ENOMEM || x->code == -EMFILE || x->code == -ENFILE);
}

/* One check per node: its digest and how it was obtained, or why it has none; ref is the
 * digest most nodes share (NULL when none answered, or tie says why there is none). */
static void member_check(struct hw_report *r, const struct member *x, const struct member *ref,
			 uint64_t lsn, const char *tie)
{
	char name[sizeof(x->node_id) + 8], how[64], a[2 * HW_HASH_BYTES + 1],
		b[2 * HW_HASH_BYTES + 1];
	snprintf(name, sizeof(name), "node %s", x->node_id);
	if (x->code) { /* not checked (unchecked): no verdict on its store */
		hw_report_check(r, name, unchecked(x) ? HW_VERDICT_SKIP : HW_VERDICT_FAIL,
				"%s cannot answer: %s (%s)", x->addr, x->why, hw_errname(x->code));
		return;
	}
	if (x->how == HAWSER__WIRE__V1__DIGEST_HOW__DIGEST_REPLAY)
		snprintf(how, sizeof(how), "log replayed, %" PRIu64 " entries", x->entries);
	else
		snprintf(how, sizeof(how), "one read transaction");
	if (!ref)
		hw_report_check(r, name, HW_VERDICT_FAIL,
				"%s: digest %s at LSN %" PRIu64 " (%s); %s", x->addr,
				hw_cli_hex(x->digest, a), lsn, how, tie);
	else if (memcmp(x->digest, ref->digest, HW_HASH_BYTES) != 0)
		hw_report_check(r, name, HW_VERDICT_FAIL,
				"%s: digest %s at LSN %" PRIu64 " (%s) differs from %s of %s",
				x->addr, hw_cli_hex(x->digest, a), lsn, how,
				hw_cli_hex(ref->digest, b), ref->node_id);
	else
		hw_report_check(r, name, HW_VERDICT_PASS, "%s: digest %s at LSN %" PRIu64 " (%s)",
				x->addr, hw_cli_hex(x->digest, a), lsn, how);
}

/* The facts and figures of a --connect run over n nodes; returns the count that answered. */
static size_t connect_figures(struct drill *d, const struct member *m, size_t n, uint64_t lsn)
{
	size_t answered = 0, replays = 0;
	uint64_t replayed = 0;
	for (size_t i = 0; i < n; i++) {
		answered += m[i].code == 0;
		replays +=
			m[i].code == 0 && m[i].how == HAWSER__WIRE__V1__DIGEST_HOW__DIGEST_REPLAY;
		replayed += m[i].code == 0 ? m[i].entries : 0;
	}
	d->lsn = lsn;
	hw_report_fact(&d->rep, "nodes", "%s", d->connect);
	hw_report_fact(&d->rep, "lsn", "%" PRIu64, lsn);
	hw_report_figure(&d->rep, "nodes", (double)n, "nodes");
	hw_report_figure(&d->rep, "nodes_answered", (double)answered, "nodes");
	hw_report_figure(&d->rep, "replays", (double)replays, "nodes");
	hw_report_figure(&d->rep, "entries_replayed", (double)replayed, "entries");
	return answered;
}

/* The first of the n nodes m whose store was not checked (unchecked), NULL when none. */
static const struct member *first_unchecked(const struct member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (unchecked(&m[i]))
			return &m[i];
	return NULL;
}

/* End the drill d in ERROR for node x, whose store was not checked (first_unchecked):
 * naming the node and why, in its words or the connection's. For want of room for its
 * replay's scratch (hw_scratch_full), its scratch directory (shortened to fit), with the
 * room it needed and had when it refused before the replay, as a local compare says it;
 * in the node's own words when it did not name its scratch. */
static void unchecked_finish_node(struct drill *d, const struct member *x)
{
	char before[HW_ADDR_CHARS_MAX + 96], after[HW_SCRATCH_WHY_CHARS + 4];
	char why[HW_SCRATCH_WHY_CHARS];
	if (!hw_scratch_full(x->code)) {
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "node %s could not be checked (%s): %s",
				 x->node_id, hw_errname(x->code), x->why);
		return;
	}
	if (!x->scratch[0]) {
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "node %s could not answer (%s): %s",
				 x->node_id, hw_errname(x->code), x->why);
		return;
	}
	bool refused = hw_scratch_room_short(&x->room);
	snprintf(before, sizeof before,
		 refused ? "node %s could not answer (ENOSPC): no room for its replay's scratch "
			 : "node %s could not answer (ENOSPC): its replay's scratch store ran out "
			   "of room in ",
		 x->node_id);
	if (refused)
		snprintf(after, sizeof after, ": %s",
			 hw_scratch_room_why(&x->room, why, sizeof why));
	else
		snprintf(after, sizeof after, " (removed); its store was only read");
	hw_report_finish_path(&d->rep, HW_DRILL_ERROR, before, x->scratch, after);
}

/* The checks and the verdict of a --connect run over n nodes: a node whose store was not
 * checked (first_unchecked: unreachable, busy, no room, past a limit) is no verdict on
 * its store, and unless the others found something wrong the drill ends in ERROR naming
 * it (unchecked_finish_node). */
static void connect_finish(struct drill *d, const struct member *m, size_t n, uint64_t lsn)
{
	size_t agree, second, a, b;
	char hex[2 * HW_HASH_BYTES + 1], tie[128];
	size_t answered = connect_figures(d, m, n, lsn);
	if (same_node(m, n, &a, &b)) {
		hw_report_check(&d->rep, "nodes", HW_VERDICT_FAIL,
				"%s and %s both answer as node %s: one node given twice", m[a].addr,
				m[b].addr, m[a].node_id);
		hw_report_finish(&d->rep, HW_DRILL_ERROR,
				 "%s and %s are one node, %s: give each node once", m[a].addr,
				 m[b].addr, m[a].node_id);
		return;
	}
	const struct member *ref = majority(m, n, &agree, &second);
	snprintf(tie, sizeof(tie), "no majority: %zu against %zu; compare with %s", agree, second,
		 answered == 2 ? "a third node" : "another node");
	for (size_t i = 0; i < n; i++)
		member_check(&d->rep, &m[i], ref, lsn, tie);
	const struct member *skipped = first_unchecked(m, n);
	if (answered >= 2 && !ref)
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "nodes disagree at LSN %" PRIu64 ", %s",
				 lsn, tie);
	else if (answered >= 2 && hw_report_worst(&d->rep) == HW_VERDICT_FAIL)
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "%zu of %zu nodes agree at LSN %" PRIu64,
				 agree, n, lsn);
	else if (skipped)
		unchecked_finish_node(d, skipped);
	else if (answered < 2)
		hw_report_finish(&d->rep, HW_DRILL_ERROR,
				 "%zu of %zu nodes answered: nothing to compare", answered, n);
	else
		hw_report_finish(&d->rep, HW_DRILL_PASS,
				 "%zu nodes agree at LSN %" PRIu64 ", digest %.16s...", n, lsn,
				 hw_cli_hex(ref->digest, hex));
}

/* --connect: ask each node for its digest at one LSN and compare them. */
static int run_connect(struct drill *d)
{
	static struct member m[NODES_MAX];
	size_t n;
	uint64_t lsn;
	double t0 = hw_report_clock(&d->rep);
	if (members_connect(d, m, &n) != 0) {
		for (size_t i = 0; i < n; i++)
			hw_client_close(m[i].c);
		return hw_cli_usage_error(
			d->cmd, "--connect takes 2 to %d addresses, comma-separated", NODES_MAX);
	}
	double t1 = hw_report_clock(&d->rep);
	gather(d, m, n, &lsn);
	double t2 = hw_report_clock(&d->rep);
	for (size_t i = 0; i < n; i++)
		hw_client_close(m[i].c);
	hw_report_phase(&d->rep, "connect", t0, t1, HW_VERDICT_PASS, "%zu nodes", n);
	hw_report_phase(&d->rep, "digests", t1, t2, HW_VERDICT_PASS, "at LSN %" PRIu64, lsn);
	hw_report_figure(&d->rep, "digest_s", t2 - t1, "s");
	connect_finish(d, m, n, lsn);
	return hw_cli_drill_finish(d);
}

/* The channel: the command line's, else the --config node's own. */
static int connect_setup(struct drill *d)
{
	if (d->n_trust_files > 0)
		return hw_cli_usage_error(d->cmd, "--trust judges a store's checkpoints: it goes "
						  "with --dir or --config, not --connect");
	const struct hw_client_security *s = &d->sec;
	if (d->n_compare)
		return hw_cli_usage_error(d->cmd,
					  "--compare is for stores on this host, not --connect");
	if (!s->key && !s->peers && !s->cluster_id && !s->insecure && d->config_path)
		hw_cli_security_of_config(&d->cfg, &d->sec);
	int rc = hw_cli_security_check(d->cmd, &d->sec);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d->report_dir && !d->cfg.drills.report_dir[0] && !d->dir && !d->scratch)
		return hw_cli_usage_error(
			d->cmd, "--connect needs a place for its report: --report-dir D, "
				"--dir DIR, --config FILE or --scratch S (the report then "
				"goes to S/drills)");
	if (!d->rep.node[0])
		snprintf(d->rep.node, sizeof(d->rep.node), "%s", d->connect);
	return HW_CLI_RUN;
}

/* The history row's numbers, the report's facts and figures of the drill d after its
 * verify (v) and compares, and its verdict, unless a compare that could not run for its
 * scratch's room (no_room, compare_one) finished it. */
static void verify_finish(struct drill *d, const struct hw_verify_report *v, int no_room)
{
	d->lsn = v->head_lsn;
	d->entries = v->entries;
	char dg[2 * HW_HASH_BYTES + 1];
	hw_report_fact(&d->rep, "store", "%s", d->dir);
	hw_report_fact(&d->rep, "digest", "%s",
		       v->stored_digested ? hw_cli_hex(v->digest_stored, dg)
					  : "not read: damage found first");
	hw_report_figure(&d->rep, "head_lsn", (double)v->head_lsn, "lsn");
	hw_report_figure(&d->rep, "entries", (double)v->entries, "entries");
	hw_report_figure(&d->rep, "verify_s", v->seconds, "s");
	hw_report_figure(&d->rep, "entries_per_s",
			 v->seconds > 0 ? (double)v->entries / v->seconds : 0, "entries/s");
	hw_report_figure(&d->rep, "stores_compared", (double)d->n_compare, "stores");
	if (no_room != 0)
		return; /* compare_no_room finished it: ERROR */
	if (d->died.who == HW_CLI_WHO_HAWSER)
		hw_report_finish(&d->rep, HW_DRILL_ERROR, "a compare could not run: %s (%s)",
				 hw_strerror(HW_EINTERNAL), hw_errname(HW_EINTERNAL));
	else if (hw_report_worst(&d->rep) == HW_VERDICT_FAIL)
		hw_report_finish(&d->rep, HW_DRILL_FAIL, "%s", "");
	else
		hw_report_finish(&d->rep, HW_DRILL_PASS,
				 "%" PRIu64 " entries intact to LSN %" PRIu64 "%s%s", v->entries,
				 v->head_lsn, v->state_rebuilt ? ", state rebuilt and equal" : "",
				 d->n_compare == 0   ? ""
				 : d->n_compare == 1 ? "; the other store agrees"
						     : "; the other stores agree");
}

static int run_verify(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct drill d;
	int rc = hw_cli_drill_setup(&d, cmd, argc, argv, verify_opts);
	if (rc != HW_CLI_RUN)
		return rc;
	d.rep.kind = HW_DRILL_VERIFY;
	if (d.connect) {
		rc = connect_setup(&d);
		return rc == HW_CLI_RUN ? run_connect(&d) : rc;
	}
	if (d.lsn_given || d.replay_max)
		return hw_cli_usage_error(cmd, "--at-lsn and --replay-max go with --connect");
	rc = hw_cli_security_check_optional(cmd, NULL, &d.sec);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d.dir)
		return hw_cli_usage_error(cmd, "--dir DIR, --config FILE or --connect is required");
	rc = compare_distinct(&d);
	if (rc != HW_CLI_RUN)
		return rc;
	hw_cli_signals_catch(NULL); /* stopped, it removes its scratch and says so */
	if (hw_cli_drill_trust_load(&d) != 0)
		return hw_cli_drill_finish(&d);
	struct hw_verify_report v = {0};
	if (hw_cli_drill_verify_dir(&d, d.dir, 0, &v) != 0)
		return hw_cli_drill_finish(&d); /* it said why: ERROR */
	hw_cli_drill_verify_checks(&d.rep, &v);
	char signers[512];
	hw_cli_drill_signers(&d, &v, false, signers, sizeof(signers));
	int no_room = 0; /* a compare's scratch ran out of room: the drill is finished */
	for (size_t i = 0; i < d.n_compare && (v.code == 0 || hw_verify_state_unvouched(&v)) &&
			   !*hw_cli_interrupted() && no_room == 0;
	     i++)
		no_room = compare_one(&d, d.compare[i]);
	verify_finish(&d, &v, no_room);
	return hw_cli_drill_finish(&d);
}

const struct hw_cli_cmd hw_cli_drill_verify = {
	"drill verify", "integrity of a replica; digests across stores",
	HW_CLI_USAGE(
		"usage: hawser drill verify (--dir DIR | --config FILE) [--compare DIR2]...\n"
		"                           [--trust NODE.PUB]... [--scratch S] [--report-dir D]\n"
		"                           [--json] [--no-record]\n"
		"       hawser drill verify --connect ADDR,ADDR[,...] [--at-lsn N]\n"
		"                           [--replay-max N]\n"
		"                           (--key FILE --peers LIST --cluster ID | --insecure |\n"
		"                            --config FILE) [--dir DIR] [--scratch S]\n"
		"                           [--report-dir D] [--json]\n"
		"  Walk DIR's hash chain, decode and validate every record, rebuild the state\n"
		"  from the log in scratch and compare it with the stored state, in a child\n"
		"  process: a store whose damaged pages make LMDB abort it fails the drill; a\n"
		"  scratch (--scratch, else beside DIR) with less room free than about DIR's size\n"
		"  is an ERROR (ENOSPC) naming it, not a verdict on the store. With --compare\n"
		"  (up to 8 times), compare the state digests of DIR and DIR2 at the LSN both\n"
		"  have, and the entry hash there (the stores of a running cluster can be read\n"
		"  live; in a child too: a store LMDB aborts on fails the compare, naming it; a\n"
		"  DIR2 that is DIR's store by another path is a usage error; a replay to that\n"
		"  LSN is an ERROR naming its scratch when that has less room free than the\n"
		"  replay needs, as hawser digest --at-lsn asks, or runs out of room). Each\n"
		"  signed checkpoint's signer is judged against the node.pub files of --trust (up\n"
		"  to 8), else of [drills] trust: an untrusted one fails the drill\n"
		"  (HW_EUNTRUSTED); with none configured, signed checkpoints only warn that no\n"
		"  signer was judged.\n"
		"  A store whose log was pruned is checked from its base by hash and chain only;\n"
		"  with trusted keys its state, which nothing vouches for, is a warning (the\n"
		"  node built it itself; --compare with another node's store vouches for it).\n"
		"  With --connect (2 to 16 client addresses, one per node), ask every node over\n"
		"  its client port for its state digest at one LSN (--at-lsn, else the lowest\n"
		"  head the nodes report) and compare them (no majority when two digests tie:\n"
		"  each node then FAILs; one node at two addresses is an ERROR); each node\n"
		"  answers from one read transaction when its head is that LSN, else by replaying\n"
		"  its log to it in scratch (at most --replay-max entries, default 1000000; a\n"
		"  scratch with less room free than the replay needs is ENOSPC, naming it). A\n"
		"  node not reached, busy (HW_EBUSY), past the limit (HW_ERANGE), pruned\n"
		"  (HW_ENOTFOUND) or without room is no verdict on its store: unless the\n"
		"  others disagree the drill is an ERROR naming it. A node that answers\n"
		"  anything else (another code, a reply that is no digest) FAILs.\n"
		"  Without --key/--insecure the --config node's own [security] is used;\n"
		"  --dir/--config then only name the history's store. It needs one of\n"
		"  --report-dir, --dir, --config or --scratch S (the report then goes to\n"
		"  S/drills) for its report.\n" HW_CLI_SECURITY_USAGE COMMON_USAGE),
	run_verify};
