/* cmd_store.c: the commands that make, fill and read one store: init, ingest, verify,
 * digest, get. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench/workload.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/isolate.h"
#include "cli/json.h"
#include "engine/config.h"
#include "replica/backup.h"
#include "replica/checkpoint.h"
#include "replica/state.h"
#include "replica/store.h"
#include "replica/validate.h"
#include "replica/verify.h"
#include "replica/snapshot.h"

/* ---- init */

static int cmd_init(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	char *dir;
	int rc = hw_cli_parse(cmd, argc, argv, NULL, NULL, NULL, &dir, 1);
	if (rc != HW_CLI_RUN)
		return rc;
	rc = hw_store_init(dir);
	if (rc)
		return hw_cli_fail(cmd->name, dir, rc);
	char shown[HW_LOG_ESCAPED_CHARS(PATH_MAX)];
	printf("hawser init: created an empty store in %s\n",
	       hw_log_escaped(dir, shown, sizeof shown));
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_init = {
	"init", "create an empty store in DIR",
	HW_CLI_USAGE(
		"usage: hawser init DIR\n"
		"  Create an empty store in DIR (created if missing). Fails if DIR holds a store.\n"
		"  A creation that fails (ENOSPC: a full disk) removes what it made.\n"),
	cmd_init};

/* ---- ingest: the loop shared with demo */

/* One batch being filled: records are drawn straight into buf, which holds
 * HW_BATCH_BYTES_MAX, so a batch never exceeds the store's byte bound either. */
struct batch {
	uint8_t *buf;
	size_t used;
	size_t n;
	uint64_t first; /* index of the batch's first record in the run */
	struct hw_submit recs[HW_BATCH_RECORDS_MAX];
	int expect[HW_BATCH_RECORDS_MAX];
	const char *kind[HW_BATCH_RECORDS_MAX];
	struct hw_result res[HW_BATCH_RECORDS_MAX];
};

/* Reported unexpected outcomes per run: enough to debug, not a flood. */
#define UNEXPECTED_SHOWN_MAX 5

static void tally(struct batch *b, struct hw_cli_ingest *in)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct hw_result *r = &b->res[i];
		if (r->code == 0 && r->duplicate)
			in->duplicates++;
		else if (r->code == 0)
			in->accepted++;
		else
			in->rejected++;
		if (r->code == b->expect[i])
			continue;
		char why[HW_CLI_REJECT_CHARS];
		if (in->unexpected++ < UNEXPECTED_SHOWN_MAX)
			fprintf(stderr,
				"hawser ingest: record %" PRIu64
				" (%s): expected %s, got %s at %s\n",
				b->first + i, b->kind[i], hw_errname(b->expect[i]),
				hw_errname(r->code),
				hw_cli_reject_shown(&r->reject, why, sizeof why));
	}
}

/* A signed checkpoint of the head once checkpoint_every entries passed since the last
 * one (*since_lsn): what a primary does (docs/security.md), timed with the store. */
static int maybe_checkpoint(struct hw_store *s, uint64_t epoch, struct hw_cli_ingest *in,
			    uint64_t *since_lsn)
{
	if (in->signer == NULL || in->head_lsn - *since_lsn < in->checkpoint_every)
		return 0;
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	struct hw_submit sub = {.data = buf, .system = true};
	struct hw_result res;
	int64_t now = in->clock_ms ? in->clock_ms : hw_wall_ms();
	double t0 = hw_mono_s();
	int rc = hw_checkpoint_make(s, in->signer, now, buf, sizeof buf, &sub.len, since_lsn);
	if (rc == 0)
		rc = hw_store_submit(s, epoch, now, &sub, 1, &res);
	if (rc == 0)
		rc = res.code;
	in->store_seconds += hw_mono_s() - t0;
	if (rc == 0) {
		in->checkpoints++;
		in->head_lsn = res.lsn;
	}
	return rc;
}

static int flush(struct hw_store *s, uint64_t epoch, struct batch *b, struct hw_cli_ingest *in)
{
	int64_t now = in->clock_ms ? in->clock_ms : hw_wall_ms();
	double t0 = hw_mono_s();
	int rc = hw_store_submit(s, epoch, now, b->recs, b->n, b->res);
	in->store_seconds += hw_mono_s() - t0;
	if (rc)
		return rc;
	tally(b, in);
	b->first += b->n;
	b->n = 0;
	b->used = 0;
	struct hw_head head = {0};
	rc = hw_store_head(s, &head);
	if (rc)
		return rc;
	in->head_lsn = head.lsn;
	if (in->trace) {
		printf("committed lsn=%" PRIu64 "\n", head.lsn);
		fflush(stdout);
	}
	return 0;
}

static bool batch_full(const struct batch *b, const struct hw_cli_ingest *in)
{
	return b->n == in->batch || HW_BATCH_BYTES_MAX - b->used < HW_RECORD_BYTES_MAX;
}

static int ingest_loop(struct hw_store *s, struct hw_workload *w, struct batch *b,
		       struct hw_cli_ingest *in)
{
	struct hw_head head = {0};
	int rc = hw_store_head(s, &head);
	if (rc)
		return rc;
	in->head_lsn = head.lsn;
	uint64_t epoch = head.epoch ? head.epoch : 1;
	uint64_t cp_lsn = head.lsn;
	for (uint64_t drawn = 0; drawn < in->count;) {
		struct hw_work_item it;
		rc = hw_workload_next(w, b->buf + b->used, HW_BATCH_BYTES_MAX - b->used, &it);
		if (rc)
			return rc;
		b->recs[b->n] = (struct hw_submit){.data = b->buf + b->used, .len = it.len};
		b->expect[b->n] = it.expect;
		b->kind[b->n] = it.kind;
		b->used += it.len;
		b->n++;
		drawn++;
		if (batch_full(b, in) || drawn == in->count) {
			rc = flush(s, epoch, b, in);
			if (rc == 0)
				rc = maybe_checkpoint(s, epoch, in, &cp_lsn);
			if (rc)
				return rc;
			hw_cli_progress_cb((void *)in->label, drawn, in->count);
		}
	}
	return 0;
}

int hw_cli_ingest_run(struct hw_store *s, struct hw_workload *w, struct hw_cli_ingest *in)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		return HW_ENOMEM;
	b->buf = malloc(HW_BATCH_BYTES_MAX);
	if (!b->buf) {
		free(b);
		return HW_ENOMEM;
	}
	double t0 = hw_mono_s();
	int rc = ingest_loop(s, w, b, in);
	in->seconds = hw_mono_s() - t0;
	hw_cli_progress_end();
	free(b->buf);
	free(b);
	return rc;
}

/* ---- ingest: the command */

struct ingest_opts {
	uint64_t count;
	uint64_t seed;
	const char *profile;
	int64_t end_ms;
	bool end_given;
	uint64_t batch;
	bool json;
	bool trace;
	bool count_given;
	uint64_t checkpoint_every;
	const char *sign_key;
	const char *node_id;
};

static int ingest_opt_cb(void *arg, int key, const char *v)
{
	struct ingest_opts *o = arg;
	switch (key) {
	case 'n':
		o->count_given = true;
		if (hw_cli_u64(v, &o->count))
			return -1;
		return o->count >= 1 ? 0 : -1;
	case 's':
		return hw_cli_u64(v, &o->seed);
	case 'p':
		o->profile = v;
		return hw_workload_profile_known(v) ? 0 : -1;
	case 'e':
		o->end_given = true; /* before 2001 no record's time is valid (HW_TIME_MIN_MS) */
		return hw_cli_time_ms(v, &o->end_ms) || o->end_ms < HW_TIME_MIN_MS ? -1 : 0;
	case 'b':
		if (hw_cli_u64(v, &o->batch))
			return -1;
		return o->batch >= 1 && o->batch <= HW_BATCH_RECORDS_MAX ? 0 : -1;
	case 'j':
		o->json = true;
		return 0;
	case 't':
		o->trace = true;
		return 0;
	case 'c':
		if (hw_cli_u64(v, &o->checkpoint_every))
			return -1;
		return o->checkpoint_every >= 1 ? 0 : -1;
	case 'k':
		o->sign_key = v;
		return 0;
	case 'i':
		o->node_id = v;
		return hw_cli_id(v);
	}
	return -1;
}

static void ingest_print(const struct ingest_opts *o, const struct hw_cli_ingest *in)
{
	double rate = in->seconds > 0 ? (double)o->count / in->seconds : 0;
	double store_rate = in->store_seconds > 0 ? (double)o->count / in->store_seconds : 0;
	if (!o->json) {
		printf("hawser ingest: %" PRIu64 " records (%s, seed %" PRIu64 ", batch %" PRIu64
		       ") in %.2f s: %.0f records/s (store alone %.2f s: %.0f records/s)\n",
		       o->count, o->profile, o->seed, o->batch, in->seconds, rate,
		       in->store_seconds, store_rate);
		printf("  accepted %" PRIu64 ", duplicates %" PRIu64 ", rejected %" PRIu64
		       " (unexpected %" PRIu64 "), checkpoints %" PRIu64 ", head lsn %" PRIu64 "\n",
		       in->accepted, in->duplicates, in->rejected, in->unexpected, in->checkpoints,
		       in->head_lsn);
		return;
	}
	struct hw_json j;
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_kv_uint(&j, "records", o->count);
	hw_json_kv_uint(&j, "accepted", in->accepted);
	hw_json_kv_uint(&j, "rejected", in->rejected);
	hw_json_kv_uint(&j, "duplicates", in->duplicates);
	hw_json_kv_uint(&j, "unexpected", in->unexpected);
	hw_json_kv_double(&j, "seconds", in->seconds);
	hw_json_kv_double(&j, "records_per_s", rate);
	/* The store's own rate: the generator's time is not charged to it. */
	hw_json_kv_double(&j, "store_seconds", in->store_seconds);
	hw_json_kv_double(&j, "store_records_per_s", store_rate);
	hw_json_kv_uint(&j, "checkpoints", in->checkpoints);
	hw_json_kv_uint(&j, "head_lsn", in->head_lsn);
	hw_json_kv_string(&j, "profile", o->profile);
	hw_json_kv_uint(&j, "batch", o->batch);
	hw_json_object_end(&j);
}

static const struct option ingest_longopts[] = {
	{"generate", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
	{"profile", required_argument, NULL, 'p'},  {"end-ms", required_argument, NULL, 'e'},
	{"batch", required_argument, NULL, 'b'},    {"json", no_argument, NULL, 'j'},
	{"trace", no_argument, NULL, 't'},          {"checkpoint-every", required_argument, NULL, 'c'},
	{"sign-key", required_argument, NULL, 'k'}, {"node-id", required_argument, NULL, 'i'},
	{0},
};

static int cmd_ingest(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct ingest_opts o = {.seed = 1, .profile = "terminal_peak", .batch = 1000};
	char *dir;
	int rc = hw_cli_parse(cmd, argc, argv, ingest_longopts, ingest_opt_cb, &o, &dir, 1);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!o.count_given)
		return hw_cli_usage_error(cmd, "--generate N is required");
	if ((o.checkpoint_every != 0) != (o.sign_key != NULL))
		return hw_cli_usage_error(cmd, "--checkpoint-every and --sign-key go together");
	if (o.node_id && !o.sign_key)
		return hw_cli_usage_error(cmd,
					  "--node-id names the signer: it goes with --sign-key");
	struct hw_signer signer;
	if (o.sign_key) {
		rc = hw_cli_load_signer(o.sign_key, o.node_id ? o.node_id : "ingest", &signer);
		if (rc)
			return hw_cli_fail(cmd->name, o.sign_key, rc);
	}
	/* A given end time is also the store's clock, so two runs give equal stores. */
	struct hw_workload_opts wo = {.profile = o.profile, .seed = o.seed, .count = o.count, .end_ms = o.end_given ? o.end_ms : hw_wall_ms()};
	struct hw_cli_ingest in = {.count = o.count,
				   .batch = (uint32_t)o.batch,
				   .clock_ms = o.end_given ? o.end_ms : 0,
				   .trace = o.trace,
				   .label = "ingest",
				   .signer = o.sign_key ? &signer : NULL,
				   .checkpoint_every = o.checkpoint_every};
	struct hw_workload *w = NULL;
	struct hw_store *s = NULL;
	rc = hw_workload_new(&wo, &w);
	if (rc)
		return hw_cli_fail(cmd->name, "generator", rc);
	rc = hw_store_open(dir, NULL, &s);
	if (rc) {
		hw_workload_free(w);
		return hw_cli_fail(cmd->name, dir, rc);
	}
	rc = hw_cli_ingest_run(s, w, &in);
	hw_store_close(s);
	hw_workload_free(w);
	sodium_memzero(&signer, sizeof signer);
	if (rc)
		return hw_cli_fail(cmd->name, "submit", rc);
	ingest_print(&o, &in);
	return in.unexpected ? HW_CLI_ERROR : HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_ingest = {
	"ingest", "submit generated TOS records to a store",
	HW_CLI_USAGE(
		"usage: hawser ingest DIR --generate N [--seed S] [--profile NAME] [--end-ms T]\n"
		"                     [--batch B] [--json] [--trace]\n"
		"                     [--checkpoint-every N --sign-key FILE [--node-id ID]]\n"
		"  Generate N records (bench/workload.h) and submit them in batches of B (default\n"
		"  1000, at most 4096). Profiles: terminal_peak (default), nagoya_port_peak,\n"
		"  stress, poison. --seed S (default 1). --end-ms T: time of the last record,\n"
		"  integer ms or ISO 8601 UTC, 2001 or later; it is also the store's clock, so\n"
		"  equal runs give equal stores (default: now, and the wall clock). --json: one\n"
		"  JSON object with the counts.\n"
		"  --trace: print 'committed lsn=<head>' after each committed batch.\n"
		"  --checkpoint-every N --sign-key FILE: append a signed checkpoint\n"
		"  (docs/security.md) after each batch that ends N or more entries after the last\n"
		"  one, signed with the Ed25519 key of FILE (a node.key from hawser keygen) as\n"
		"  node ID (default ingest), as a primary does; its time counts as store time.\n"
		"  Exit 1 if a record got a code other than the generator expected.\n"),
	cmd_ingest};

/* ---- verify */

struct verify_opts {
	bool json;
	const char *scratch; /* --scratch: where the rebuild's scratch directory goes */
	struct hw_cli_trust trust;
	struct hw_verify_trust t; /* the cadence; keys from trust */
};

static int verify_opt_cb(void *arg, int key, const char *v)
{
	struct verify_opts *o = arg;
	if (key == 'j') {
		o->json = true;
		return 0;
	}
	if (key == 's') {
		o->scratch = v;
		return 0;
	}
	/* what a config's checkpoint_records and checkpoint_interval take: past it, a typo
	 * (three of a huge cadence overflow the bound on an unvouched tail) */
	if (key == 'r')
		return hw_cli_u64(v, &o->t.cadence_records) ||
				       o->t.cadence_records > HW_CHECKPOINT_RECORDS_MAX
			       ? -1
			       : 0;
	if (key == 'i')
		return hw_cli_duration(v, &o->t.cadence_ms) || o->t.cadence_ms < 0 ||
				       o->t.cadence_ms > HW_TARGET_MS_MAX
			       ? -1
			       : 0;
	return key == 'T' ? hw_cli_trust_add(&o->trust, v) : -1;
}

static void verify_json(const struct hw_verify_report *r)
{
	char hex[2 * HW_HASH_BYTES + 1];
	struct hw_json j;
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_kv_bool(&j, "intact", r->code == 0);
	hw_json_kv_uint(&j, "entries", r->entries);
	hw_json_kv_uint(&j, "head_lsn", r->head_lsn);
	hw_json_kv_string(&j, "code", r->code ? hw_errname(r->code) : "OK");
	hw_json_kv_uint(&j, "first_bad_lsn", r->first_bad_lsn);
	hw_json_kv_string(&j, "what", r->what);
	hw_json_kv_uint(&j, "base_lsn", r->base_lsn);
	hw_json_kv_bool(&j, "state_rebuilt", r->state_rebuilt);
	hw_json_kv_double(&j, "seconds", r->seconds);
	hw_json_kv_string(&j, "digest",
			  r->stored_digested ? hw_cli_hex(r->digest_stored, hex) : "");
	hw_json_kv_uint(&j, "checkpoints", r->checkpoints);
	hw_json_kv_uint(&j, "checkpoints_format3", r->checkpoints_format3);
	hw_json_kv_uint(&j, "good_checkpoint_lsn", r->good_cp_lsn);
	hw_json_kv_uint(&j, "good_checkpoint_covers", r->good_cp_covers);
	hw_json_kv_bool(&j, "keys_judged", r->keys_judged);
	hw_json_kv_uint(&j, "unvouched", r->unvouched);
	hw_json_kv_uint(&j, "state_checkpoint_lsn", r->state_cp_lsn);
	hw_json_kv_bool(&j, "state_checkpoint_recorded", r->state_cp_recorded);
	hw_json_kv_bool(&j, "state_checkpoint_after_head", r->state_cp_beyond);
	hw_json_object_end(&j);
}

/* What the last good checkpoint came before: damage, a tail no checkpoint vouches for,
 * or nothing (a pruned store's state that nothing vouches for is no damage found, and
 * every checkpoint of its log was judged). */
static const char *verify_cp_before(const struct hw_verify_report *r)
{
	if (r->code == 0 || hw_verify_state_unvouched(r))
		return "";
	return r->code == HW_EUNVOUCHED ? " before the entries not vouched for"
					: " before the damage";
}

/* What the signed checkpoints vouch for. */
static void verify_checkpoints(const struct hw_verify_report *r)
{
	if (r->good_cp_lsn == 0)
		printf("  no good signed checkpoint%s\n", verify_cp_before(r));
	else
		printf("  %" PRIu64
		       " signed checkpoints good; the last good one%s is at LSN %" PRIu64
		       " and vouches for LSN %" PRIu64 "\n",
		       r->checkpoints, verify_cp_before(r), r->good_cp_lsn, r->good_cp_covers);
	if (r->checkpoints_format3)
		printf("  %" PRIu64
		       " of them signed before store format 4: their digests match the "
		       "state as format 3 laid it out\n",
		       r->checkpoints_format3);
	if (!r->keys_judged && r->checkpoints)
		printf("  signers' keys not judged: give the trusted node.pub files with --trust\n");
}

/* An intact store whose log starts after a base: what vouches for its state tables. */
static void verify_state_copied(const struct hw_verify_report *r)
{
	printf("  the log starts after LSN %" PRIu64 ": the entries after it checked by hash and "
	       "chain only, their records not decoded or validated; ",
	       r->base_lsn);
	if (r->state_cp_lsn == 0) {
		printf("state tables not checked, nothing rebuilds or vouches for them "
		       "(docs/security.md)\n");
		return;
	}
	printf("state tables not rebuilt: the restore that built the store matched them with the "
	       "digest the checkpoint at LSN %" PRIu64 " signed",
	       r->state_cp_lsn);
	if (r->state_cp_beyond) /* not in the log: the restore stopped before it */
		printf(", whose entry is after the head: its signer's key, as the restore recorded "
		       "it, %s",
		       r->keys_judged ? "is a trusted one" : "not judged (--trust)");
	else
		printf(", %s",
		       r->keys_judged ? "signed by a trusted key" : "its signer not judged");
	if (r->state_cp_recorded)
		printf("; the store's record of that (node.restore_vouch) is as safe as the "
		       "store: whoever can write one can write the other (docs/security.md)");
	printf("\n");
}

static void verify_text(const char *dir, const struct hw_verify_report *r)
{
	char hex[2 * HW_HASH_BYTES + 1];
	if (r->code == 0) {
		printf("hawser verify: %s intact: %" PRIu64 " entries, head lsn %" PRIu64
		       ", digest %s, %.2f s\n",
		       dir, r->entries, r->head_lsn, hw_cli_hex(r->digest_stored, hex), r->seconds);
		if (!r->state_rebuilt)
			verify_state_copied(r);
		verify_checkpoints(r);
		return;
	}
	const char *verdict = r->code == HW_EUNVOUCHED ? "NOT VOUCHED FOR" : "DAMAGED";
	if (r->first_bad_lsn)
		printf("hawser verify: %s %s: first bad lsn %" PRIu64 ": %s (%s)\n", dir, verdict,
		       r->first_bad_lsn, r->what, hw_errname(r->code));
	else /* damage outside the log entries, e.g. the state tables */
		printf("hawser verify: %s %s: %s (%s)\n", dir, verdict, r->what,
		       hw_errname(r->code));
	if (r->stage == HW_VERIFY_AT_OPEN) /* damaged so that it cannot be opened */
		printf("  it cannot be opened: nothing in it checked, %.2f s\n", r->seconds);
	else
		printf("  %" PRIu64 " entries checked, head lsn %" PRIu64 ", %.2f s\n", r->entries,
		       r->head_lsn, r->seconds);
	if (hw_verify_state_unvouched(r))
		printf("  only a restore vouches for such a state: it matches it with the first "
		       "signed checkpoint after the snapshot and records which (hawser restore, "
		       "hawser drill restore)\n");
	else if (r->code == HW_EUNVOUCHED)
		printf("  the cadence is the [durability] checkpoint_records and "
		       "checkpoint_interval the primaries ran with: --checkpoint-records N "
		       "--checkpoint-interval D\n");
	verify_checkpoints(r);
}

/* hw_cli_fail_why(cmd, what, rc, why) for work into the scratch directory scratch ("":
 * none was made), and for -ENOSPC where the room ran out: "  scratch: PATH (removed)". */
static int fail_scratch(const char *cmd, const char *what, int rc, const char *why,
			const char *scratch)
{
	hw_cli_fail_why(cmd, what, rc, why);
	char shown[HW_LOG_ESCAPED_CHARS(4096)];
	if (rc == -ENOSPC && scratch[0])
		fprintf(stderr, "  scratch: %s (removed)\n",
			hw_log_escaped(scratch, shown, sizeof shown));
	return HW_CLI_ERROR;
}

/* Run hw_verify with its rebuild in a scratch directory (its path into scratch, "" when none
 * was made) under --scratch, else next to dir (or under /tmp); *end says how the child
 * that ran it ended. */
static int verify_run(const char *dir, const struct verify_opts *o, struct hw_verify_report *rep,
		      struct hw_cli_end *end, char *scratch, size_t cap)
{
	char rebuild[4200];
	int rc = hw_cli_scratch_in(o->scratch, dir, "verify", scratch, cap);
	if (rc) {
		scratch[0] = '\0';
		return rc;
	}
	snprintf(rebuild, sizeof(rebuild), "%s/rebuild", scratch);
	struct hw_verify_trust t = o->t;
	t.keys = o->trust.keys;
	t.count = o->trust.count;
	/* in a child: LMDB aborts the process on some damaged pages (cli/isolate.h) */
	rc = hw_cli_verify_isolated(dir, rebuild, &t, hw_cli_progress_cb, (void *)"verify", 0, rep,
				    end);
	hw_cli_progress_end();
	hw_snapshot_rm(scratch);
	return rc;
}

static int cmd_verify(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"trust", required_argument, NULL, 'T' | HW_CLI_REPEATABLE},
		{"checkpoint-records", required_argument, NULL, 'r'},
		{"checkpoint-interval", required_argument, NULL, 'i'},
		{"scratch", required_argument, NULL, 's'},
		{0}};
	struct verify_opts o = {.t = {.cadence_records = HW_CHECKPOINT_RECORDS_DEFAULT,
				      .cadence_ms = HW_CHECKPOINT_INTERVAL_MS_DEFAULT}};
	char *dir;
	int rc = hw_cli_parse(cmd, argc, argv, opts, verify_opt_cb, &o, &dir, 1);
	if (rc != HW_CLI_RUN)
		return rc;
	if (o.trust.bad_file)
		return hw_cli_trust_fail(cmd->name, &o.trust);
	struct hw_verify_report rep;
	memset(&rep, 0, sizeof(rep));
	struct hw_cli_end end = {0}; /* also when no child ran */
	char scratch[4096];
	rc = verify_run(dir, &o, &rep, &end, scratch, sizeof scratch);
	if (rc && end.signo)
		return hw_cli_fail_read(cmd->name, dir, rc, &end);
	if (rc)
		return fail_scratch(cmd->name, dir, rc, rep.what, scratch);
	if (o.json)
		verify_json(&rep);
	else
		verify_text(dir, &rep);
	hw_cli_end_detail(&end); /* LMDB's words, when it stopped on the damage */
	/* a pruned store's state that nothing vouches for is no damage found: exit 4 */
	return rep.code == 0                     ? HW_CLI_OK
	       : hw_verify_state_unvouched(&rep) ? HW_CLI_UNVOUCHED
						 : HW_CLI_DAMAGE;
}

const struct hw_cli_cmd hw_cli_verify = {
	"verify", "check the hash chain, every record and the state digest",
	HW_CLI_USAGE(
		"usage: hawser verify DIR [--trust NODE.PUB]... [--checkpoint-records N]\n"
		"                     [--checkpoint-interval D] [--scratch S] [--json]\n"
		"  Walk the hash chain, validate every record, read LMDB's free-page list (which\n"
		"  the next write reuses), rebuild the state in a scratch store and compare\n"
		"  digests.\n"
		"  The scratch store goes in a directory verify-XXXXXX under --scratch S (S made\n"
		"  when missing), else beside DIR (DIR.verify-XXXXXX, else under $TMPDIR or\n"
		"  /tmp), removed after; it needs about DIR's size: a file system with less room\n"
		"  free than the pages DIR's map has used (its free pages counted: an upper\n"
		"  bound), an eighth more and 256 KiB, is an error (1, ENOSPC) before the\n"
		"  rebuild, never damage found, and so is one that fills during the rebuild\n"
		"  (another process writing there); either names the scratch directory.\n"
		"  Check every signed checkpoint: its signature, the chain hash\n"
		"  of the entry it vouches for, that this entry is after the previous\n"
		"  checkpoint's (a repeat is a copy, ESIGNATURE) and, in the rebuild, the state\n"
		"  digest there (for one signed before store format 4, the digest as format 3\n"
		"  laid the state out: counted in checkpoints_format3); report the last good\n"
		"  checkpoint before any damage. A format 3 store is read as it is. --trust\n"
		"  NODE.PUB (repeatable, up to 64): the keys allowed to sign (the sign line of a\n"
		"  node.pub from hawser keygen); a checkpoint by another key is damage\n"
		"  (EUNTRUSTED), and so is a tail of entries no good checkpoint vouches for that\n"
		"  is longer than three cadences, counted from the entry it vouches for\n"
		"  (EUNVOUCHED: its checkpoints removed, or never made).\n"
		"  A store whose log starts after a base (pruned) is checked from there by hash\n"
		"  and chain only (and the epochs kept of the pruned part, meta epochs, must\n"
		"  agree with its base): its records are not validated, its state not rebuilt;\n"
		"  with --trust that state is EUNVOUCHED (exit 4 when nothing else was found),\n"
		"  unless hawser restore built the store from a backup, matched the copied state\n"
		"  with a signed checkpoint's digest and recorded which (meta node.restore_vouch,\n"
		"  good while the head and the state are the restore's): that checkpoint must\n"
		"  pass in the log, or, when the restore stopped before its entry, the key the\n"
		"  restore recorded for it must be trusted. Whoever can write the store can write\n"
		"  that record too.\n"
		"  The store is read in a child process: LMDB aborts the process on some damaged\n"
		"  pages, and a child killed so is damage found (exit 3, 'LMDB aborted reading\n"
		"  the log page after LSN N ...: the store's pages are damaged').\n"
		"  --checkpoint-records N and --checkpoint-interval D: the [durability] cadence\n"
		"  the primaries ran with (default 100000 and 60s; 0 turns either bound off; N\n"
		"  at most 4294967296 and D at most 1h, as the config takes them).\n"
		"  Without --trust, signatures are checked but not who made them. Exit 0 intact,\n"
		"  3 damage found (first bad LSN and what), 4 a pruned store's state not vouched\n"
		"  for and no damage found, 1 error. A store damaged so that it cannot be opened\n"
		"  is damage found (3, at no LSN) when something shows it was a store: data.mdb\n"
		"  shorter than its LMDB meta page counts, a damaged meta page or table\n"
		"  directory, or a file LMDB cannot read that still holds a hawser log entry or\n"
		"  sits beside a node's wal/.\n"
		"  Else it is an error (1) saying what it may be: no such directory, no data.mdb,\n"
		"  not a hawser store (or one overwritten or encrypted whole: nothing shows\n"
		"  which).\n"
		"  --json: one object {intact, entries,\n"
		"  head_lsn, code, first_bad_lsn, what, base_lsn, state_rebuilt, seconds, digest,\n"
		"  checkpoints, checkpoints_format3, good_checkpoint_lsn, good_checkpoint_covers,\n"
		"  keys_judged, unvouched, state_checkpoint_lsn, state_checkpoint_recorded,\n"
		"  state_checkpoint_after_head}; digest is \"\" when the walk found damage, after\n"
		"  which the state tables are not read.\n"),
	cmd_verify};

/* ---- digest */

static int open_ro(const char *dir, struct hw_store **s)
{
	struct hw_store_opts o = {.read_only = true};
	return hw_store_open(dir, &o, s);
}

int hw_cli_digest_now(const char *dir, struct hw_head *head, uint8_t *digest)
{
	struct hw_store *s;
	int rc = open_ro(dir, &s);
	if (rc)
		return rc;
	rc = hw_store_digest_head(s, head, digest);
	hw_store_close(s);
	return rc;
}

/* hw_cli_digest_at() with its replay in scratch/store, removed after, scratch being a
 * directory the caller made and removes: also after a child that ran this died
 * (cmd_digest, the compare of `drill verify`). -ENOSPC, before the scratch store is made,
 * when scratch's file system has not the room *room says it needs (hw_scratch_room). */
static int digest_at_in(const char *dir, uint64_t at_lsn, const char *scratch, uint8_t *digest,
			struct hw_scratch_room *room)
{
	struct hw_store *src;
	struct hw_head head = {0};
	char path[4200];
	int rc = open_ro(dir, &src);
	if (rc)
		return rc;
	rc = hw_store_head(src, &head);
	if (!rc && at_lsn > head.lsn)
		rc = HW_ENOTFOUND; /* beyond the head: nothing to replay to */
	if (!rc) {
		snprintf(path, sizeof(path), "%s/store", scratch);
		rc = hw_scratch_room(src, at_lsn, path, room);
	}
	if (!rc) {
		rc = hw_store_digest_replayed(src, path, at_lsn, hw_cli_progress_cb,
					      (void *)"replay", digest);
		hw_cli_progress_end();
		hw_snapshot_rm(path); /* a second replay into scratch starts empty */
	}
	hw_store_close(src);
	return rc;
}

int hw_cli_digest_at(const char *dir, uint64_t at_lsn, uint8_t *digest, char *scratch, size_t cap,
		     struct hw_scratch_room *room)
{
	*room = (struct hw_scratch_room){0};
	int rc = hw_cli_scratch(dir, "digest", scratch, cap);
	if (rc) {
		scratch[0] = '\0';
		return rc;
	}
	rc = digest_at_in(dir, at_lsn, scratch, digest, room);
	hw_snapshot_rm(scratch);
	return rc;
}

/* The digest of the store in dir at lsn by replay: in scratch (hw_cli_digests_common),
 * else in a scratch directory of its own. */
static int replayed(const char *dir, uint64_t lsn, const char *scratch, uint8_t *digest,
		    struct hw_scratch_room *room)
{
	char own[4096];
	return scratch ? digest_at_in(dir, lsn, scratch, digest, room)
		       : hw_cli_digest_at(dir, lsn, digest, own, sizeof(own), room);
}

/* Digest of the store in dir, whose head was head, as of lsn <= head: replayed when it
 * is ahead, else as it is, and replayed after all when a running node moved it meanwhile. */
static int digest_as_of(const char *dir, uint64_t head, uint64_t lsn, const char *scratch,
			uint8_t *digest, struct hw_scratch_room *room)
{
	if (head > lsn)
		return replayed(dir, lsn, scratch, digest, room);
	struct hw_head now;
	int rc = hw_cli_digest_now(dir, &now, digest);
	return rc == 0 && now.lsn != lsn ? replayed(dir, lsn, scratch, digest, room) : rc;
}

static int head_of(const char *dir, struct hw_head *head)
{
	struct hw_store *s = NULL;
	int rc = open_ro(dir, &s);
	if (rc == 0)
		rc = hw_store_head(s, head);
	hw_store_close(s);
	return rc;
}

int hw_cli_digests_common(const char *a, const char *b, const char *scratch,
			  struct hw_scratch_room *room, uint64_t *lsn, uint8_t *da, uint8_t *db,
			  const char **reading)
{
	const char *dirs[2] = {a, b}, *spare;
	uint8_t *digests[2] = {da, db};
	struct hw_head heads[2] = {{0}, {0}};
	struct hw_scratch_room unasked;
	if (reading == NULL)
		reading = &spare;
	if (room == NULL)
		room = &unasked;
	int rc = 0;
	for (int i = 0; i < 2 && rc == 0; i++) {
		*reading = dirs[i];
		rc = head_of(dirs[i], &heads[i]);
	}
	*lsn = heads[0].lsn < heads[1].lsn ? heads[0].lsn : heads[1].lsn;
	for (int i = 0; i < 2 && rc == 0; i++) {
		*reading = dirs[i];
		/* asked to stop (a drill's signal): not another digest; a replay polls too */
		rc = *hw_cli_interrupted()
			     ? HW_ECANCELED
			     : digest_as_of(dirs[i], heads[i].lsn, *lsn, scratch, digests[i], room);
	}
	return rc;
}

struct digest_opts {
	uint64_t at_lsn;
	bool at_given;
};

static int digest_opt_cb(void *arg, int key, const char *v)
{
	struct digest_opts *o = arg;
	o->at_given = true;
	return key == 'a' ? hw_cli_u64(v, &o->at_lsn) : -1;
}

/* What `hawser digest` reads, in a child (cli/isolate.h): the store may be damaged. */
struct digest_job {
	const char *dir;
	struct digest_opts o;
	char scratch[4096];  /* with at_given: the replay's, made and removed by the parent */
	struct hw_scratch_room room; /* what the replay needs there, and has */
	struct hw_head head;         /* the LSN printed: the head now, or at_lsn */
	uint8_t digest[HW_HASH_BYTES];
};

static int digest_read(void *arg)
{
	struct digest_job *j = arg;
	return j->o.at_given ? digest_at_in(j->dir, j->o.at_lsn, j->scratch, j->digest, &j->room)
			     : hw_cli_digest_now(j->dir, &j->head, j->digest);
}

/* digest --at-lsn's replay (j) failed with rc, its child ended as end says: the store's
 * error, or -ENOSPC when the scratch store's file system had no room (the store was only
 * read), before the replay (the room it needs and has) or part way, naming the scratch
 * directory. Returns HW_CLI_ERROR. */
static int digest_at_fail(const struct hw_cli_cmd *cmd, const struct digest_job *j, int rc,
			  const struct hw_cli_end *end)
{
	char what[4200], why[HW_CLI_WHY_CHARS];
	snprintf(what, sizeof(what), "%s at lsn %" PRIu64, j->dir, j->o.at_lsn);
	hw_cli_read_why(j->dir, end, why, sizeof(why));
	if (end->signo == 0 && j->scratch[0] && hw_scratch_room_short(&j->room)) {
		char room[HW_SCRATCH_WHY_CHARS];
		snprintf(why, sizeof(why),
			 "no room for the replay's scratch store: %s: the store was only read",
			 hw_scratch_room_why(&j->room, room, sizeof(room)));
	} else if (end->signo == 0 && j->scratch[0] && hw_scratch_full(rc)) {
		rc = -ENOSPC;
		snprintf(why, sizeof(why),
			 "the replay's scratch store ran out of room part way: the store was "
			 "only read");
	}
	rc = fail_scratch(cmd->name, what, rc, why, j->scratch);
	hw_cli_end_detail(end);
	return rc;
}

static int cmd_digest(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{"at-lsn", required_argument, NULL, 'a'}, {0}};
	struct digest_opts o = {0};
	char *dir, hex[2 * HW_HASH_BYTES + 1];
	int rc = hw_cli_parse(cmd, argc, argv, opts, digest_opt_cb, &o, &dir, 1);
	if (rc != HW_CLI_RUN)
		return rc;
	struct digest_job j = {.dir = dir, .o = o, .head = {.lsn = o.at_lsn}};
	struct hw_cli_end end = {0};
	rc = o.at_given ? hw_cli_scratch(dir, "digest", j.scratch, sizeof(j.scratch)) : 0;
	if (rc == 0) {
		rc = hw_cli_read_isolated(digest_read, &j, sizeof(j), &end);
		if (o.at_given)
			hw_snapshot_rm(j.scratch);
	} else {
		j.scratch[0] = '\0';
	}
	if (rc && o.at_given)
		return digest_at_fail(cmd, &j, rc, &end);
	if (rc)
		return hw_cli_fail_read(cmd->name, dir, rc, &end);
	printf("%s lsn=%" PRIu64 "\n", hw_cli_hex(j.digest, hex), j.head.lsn);
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_digest = {
	"digest", "print the state digest and head LSN",
	HW_CLI_USAGE(
		"usage: hawser digest DIR [--at-lsn N]\n"
		"  Print '<hex digest> lsn=<head>'. --at-lsn N: replay the log up to N into a\n"
		"  scratch store (DIR.digest-XXXXXX beside DIR, else under $TMPDIR or /tmp;\n"
		"  removed afterwards) and print its digest instead. A file system there with\n"
		"  less room free than the replay needs (the share N / head of the pages DIR\n"
		"  uses, an eighth more and 256 KiB) is an error (1, ENOSPC) before the replay,\n"
		"  saying what it needs and has, and so is one that fills during the replay;\n"
		"  either names the scratch directory: DIR is only read.\n" HW_CLI_READ_USAGE),
	cmd_digest};

/* ---- get */

static const char *full_empty_name(int fe)
{
	/* tos.proto FullEmpty follows EDIFACT 8169: 4 empty, 5 full. */
	return fe == 5 ? "FULL" : fe == 4 ? "EMPTY" : "-";
}

static void print_holds(uint32_t holds)
{
	if (!holds) {
		printf("  holds       none\n");
		return;
	}
	printf("  holds      ");
	for (int bit = 0; bit < 32; bit++) {
		if (holds & (1u << bit))
			printf(" %s", hw_hold_type_name(bit));
	}
	printf("\n");
}

static void print_container(const struct hw_container *c)
{
	char when[40];
	printf("container %s\n", c->id);
	printf("  state       %s\n", hw_transit_state_name(c->state));
	printf("  position    %s\n", c->position[0] ? c->position : "-");
	printf("  visits      %" PRIu32 "\n", c->visits);
	printf("  size_type   %s\n", c->size_type[0] ? c->size_type : "-");
	printf("  full_empty  %s\n", full_empty_name(c->full_empty));
	printf("  weights_kg  tare %" PRIu32 ", gross %" PRIu32 ", max gross %" PRIu32 "\n",
	       c->tare_kg, c->gross_kg, c->max_gross_kg);
	if (c->vgm_kg)
		printf("  vgm_kg      %" PRIu32 "\n", c->vgm_kg);
	else
		printf("  vgm_kg      none\n");
	print_holds(c->holds);
	printf("  last_event  %s\n", hw_cli_iso(c->last_event_ms, when, sizeof(when)));
	printf("  last_lsn    %" PRIu64 "\n", c->last_lsn);
}

/* What `hawser get` reads, in a child (cli/isolate.h): the store may be damaged. */
struct get_job {
	const char *dir, *id;
	bool opened; /* else the error is the store's, not the container's */
	struct hw_container c;
};

static int get_read(void *arg)
{
	struct get_job *j = arg;
	struct hw_store *s;
	int rc = open_ro(j->dir, &s);
	if (rc)
		return rc;
	j->opened = true;
	rc = hw_store_get_container(s, j->id, &j->c);
	hw_store_close(s);
	return rc;
}

static int cmd_get(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	char *pos[3];
	int rc = hw_cli_parse(cmd, argc, argv, NULL, NULL, NULL, pos, 3);
	if (rc != HW_CLI_RUN)
		return rc;
	if (strcmp(pos[1], "container") != 0)
		return hw_cli_usage_error(cmd, "unknown kind '%s' (known: container)", pos[1]);
	struct get_job j = {.dir = pos[0], .id = pos[2]};
	struct hw_cli_end end;
	rc = hw_cli_read_isolated(get_read, &j, sizeof(j), &end);
	if (rc && (end.signo != 0 || !j.opened))
		return hw_cli_fail_read(cmd->name, pos[0], rc, &end);
	struct hw_reject rej = {0};
	char what[128], why[192];
	snprintf(what, sizeof(what), "container %s", pos[2]);
	if (rc == HW_ENOTFOUND && hw_validate_container_id(pos[2], false, "ID", &rej) != 0) {
		snprintf(why, sizeof why, "not in the store, and not an ISO 6346 number either: %s",
			 rej.rule);
		return hw_cli_fail_why(cmd->name, what, rej.code, why);
	}
	if (rc)
		return hw_cli_fail(cmd->name, what, rc);
	print_container(&j.c);
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_get = {
	"get", "show one container's state (works on a live store)",
	HW_CLI_USAGE(
		"usage: hawser get DIR container ID\n"
		"  Print the container's state, position, visits, size/type, weights, VGM, active\n"
		"  holds, last event time (UTC) and LSN. Opens the store read-only, so it works\n"
		"  while another process writes it. Exit 1 if the store never saw ID:\n"
		"  HW_ENOTFOUND, or the ISO 6346 rule ID breaks (HW_ECHECK_DIGIT,\n"
		"  HW_ECONTAINER_ID) when it does, as a typo most often does (a non-ISO id\n"
		"  exempted by its record is still found).\n" HW_CLI_READ_USAGE),
	cmd_get};
