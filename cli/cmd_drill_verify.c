/* cmd_drill_verify.c: `hawser drill verify`, the integrity of a replica and the digests
 * of several stores compared at one LSN (docs/drills.md). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_drill.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "replica/verify.h"

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

static const struct option verify_opts[] = {
	COMMON_OPTS,
	OPT("compare", required_argument, 'x'),
	OPT("scratch", required_argument, 's'),
	{0},
};

/* ---- verify ------------------------------------------------------------------------- */

/* The three things hw_verify proves, as checks; what its code says failed. */
void hw_cli_drill_verify_checks(struct hw_report *r, const struct hw_verify_report *v)
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
				"stored %s, rebuilt %s", hw_cli_hex(v->digest_stored, a),
				hw_cli_hex(v->digest_rebuilt, b));
	else if (v->state_rebuilt)
		hw_report_check(r, "state rebuilt equals stored", HW_VERDICT_PASS, "digest %s",
				hw_cli_hex(v->digest_stored, a));
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
int hw_cli_drill_verify_dir(struct drill *d, const char *dir, struct hw_verify_report *v)
{
	char scratch[PATH_MAX];
	int rc = hw_cli_drill_scratch(d, "verify", scratch, sizeof(scratch));
	if (rc)
		return rc;
	struct tracker t = {.rep = &d->rep, .label = "verify"};
	double t0 = hw_report_clock(&d->rep);
	rc = hw_verify(dir, scratch, hw_cli_drill_track_cb, &t, v);
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
				lsn, d->dir, hw_cli_hex(da, x), other, hw_cli_hex(db, y));
	} else if (known && !same) {
		v = HW_VERDICT_FAIL;
		hw_report_check(&d->rep, name, v,
				"same state but the entry hash at LSN %" PRIu64
				" differs: the chains diverged",
				lsn);
	} else {
		hw_report_check(&d->rep, name, v, "digest %s equal at LSN %" PRIu64 "%s",
				hw_cli_hex(da, x), lsn, known ? ", entry hash equal" : "");
	}
	hw_report_phase_end(&d->rep, name, v, "at LSN %" PRIu64, lsn);
}

static int run_verify(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct drill d;
	int rc = hw_cli_drill_setup(&d, cmd, argc, argv, verify_opts);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d.dir)
		return hw_cli_usage_error(cmd, "--dir DIR or --config FILE is required");
	d.rep.kind = HW_DRILL_VERIFY;
	struct hw_verify_report v;
	rc = hw_cli_drill_verify_dir(&d, d.dir, &v);
	if (rc) {
		hw_report_finish(&d.rep, HW_DRILL_ERROR, "verify of %s could not run: %s (%s)",
				 d.dir, hw_strerror(rc), hw_errname(rc));
		return hw_cli_drill_finish(&d);
	}
	hw_cli_drill_verify_checks(&d.rep, &v);
	for (size_t i = 0; i < d.n_compare && v.code == 0; i++)
		compare_one(&d, d.compare[i]);
	d.lsn = v.head_lsn;
	d.entries = v.entries;
	char dg[2 * HW_HASH_BYTES + 1];
	hw_report_fact(&d.rep, "store", "%s", d.dir);
	hw_report_fact(&d.rep, "digest", "%s", hw_cli_hex(v.digest_stored, dg));
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
	return hw_cli_drill_finish(&d);
}

const struct hw_cli_cmd hw_cli_drill_verify = {
	"drill verify", "integrity of a replica; digests across stores",
	"usage: hawser drill verify (--dir DIR | --config FILE) [--compare DIR2]...\n"
	"                           [--scratch S] [--report-dir D] [--json] [--no-record]\n"
	"  Walk DIR's hash chain, decode and validate every record, rebuild the state from\n"
	"  the log in scratch and compare it with the stored state. With --compare (up to\n"
	"  8 times), compare the state digests of DIR and DIR2 at the LSN both have, and\n"
	"  the entry hash there (the stores of a running cluster can be read live).\n" COMMON_USAGE,
	run_verify};
