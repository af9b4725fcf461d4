/* cmd_node.c: the commands that talk to a running node over its client port:
 * `hawser submit` (generated records, pipelined) and `hawser status`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"
#include "cli/cli.h"
#include "cli/isolate.h"
#include "cli/json.h"
#include "engine/client_int.h"
#include "engine/client_settle.h"
#include "engine/config.h"
#include "engine/core/repl.h"
#include "hawser.h"
#include "replica/drills.h"
#include "wire.pb-c.h"

/* How long the client's search for a new primary may last when it follows one (given a
 * list: hw_client_set_follow_ms), after which what was in flight is answered in doubt:
 * the library's default, an election within the largest RTO the planner accepts. */
#define FOLLOW_MS 60000
/* How long one wait for an outcome may take before the run is called stuck: a whole
 * search for a new primary (FOLLOW_MS: a wait during one goes on with it, and a failover
 * of 30 to 60 s is not stuck), then far beyond any durability wait of a healthy cluster
 * (peer timeouts are seconds) and a search's last round of dials. */
#define OUTCOME_WAIT_MS (FOLLOW_MS + 30000)
#define STATUS_WAIT_MS  5000
/* Submits in flight at once: the default keeps a LAN round trip busy; the cap bounds the
 * slot table and the node's waiters this one client can take. */
#define WINDOW_DEFAULT 64u
#define WINDOW_MAX     4096u
_Static_assert(WINDOW_MAX <= HW_CLIENT_INFLIGHT_MAX, "a client takes a whole window in flight");
/* Unexpected outcomes described on stderr per run: enough to debug, not a flood. */
#define UNEXPECTED_SHOWN_MAX 5

/* ---- submit */

struct submit_opts {
	const char *connect;
	uint64_t count;
	bool count_given;
	uint64_t seed;
	const char *profile;
	int64_t end_ms; /* the generator's clock: the last record's time (end_given), or now */
	bool end_given;
	enum hw_durability mode;
	uint64_t k;
	uint64_t window;
	bool json;
	struct hw_client_security sec;
};

/* One submit in flight; slot i % window holds record i. With several addresses the
 * client library keeps its bytes and sends it again to a new primary (hawser.h). */
struct slot {
	bool busy;
	uint64_t id;
	int expect;
	const char *kind;
};

struct submit_run {
	struct slot *slots;
	uint64_t window;
	uint64_t submitted;   /* records hw_client_submit took */
	uint64_t outstanding; /* of them, without an outcome (yet) */
	uint64_t accepted, duplicates, rejected, unexpected, errors;
	uint64_t unknown; /* outcomes of no submit in flight: counted, said, nothing else */
	uint64_t first_lsn, last_lsn;
	double seconds;
};

static int submit_opt_cb(void *arg, int key, const char *v)
{
	struct submit_opts *o = arg;
	int m;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	switch (key) {
	case 'c':
		o->connect = v;
		return hw_cli_addrs(v);
	case 'n':
		o->count_given = true;
		return hw_cli_u64(v, &o->count) || o->count == 0 ? -1 : 0;
	case 's':
		return hw_cli_u64(v, &o->seed);
	case 'e':
		o->end_given = true;
		return hw_cli_time_ms(v, &o->end_ms) || o->end_ms < HW_TIME_MIN_MS ? -1 : 0;
	case 'p':
		o->profile = v;
		return hw_workload_profile_known(v) ? 0 : -1;
	case 'm':
		m = hw_mode_parse(v);
		o->mode = (enum hw_durability)m;
		return m < 0 ? -1 : 0;
	case 'k':
		return hw_cli_u64(v, &o->k) || o->k > HW_PEERS_MAX ? -1 : 0;
	case 'w':
		return hw_cli_u64(v, &o->window) || o->window == 0 || o->window > WINDOW_MAX ? -1
											     : 0;
	case 'j':
		o->json = true;
		return 0;
	}
	return -1;
}

static void tally(struct submit_run *r, const struct hw_outcome *o)
{
	struct slot *s = &r->slots[o->request_id % r->window];
	if (!s->busy || s->id != o->request_id) { /* says nothing of a record of this run */
		if (r->unknown++ < UNEXPECTED_SHOWN_MAX)
			fprintf(stderr,
				"hawser submit: outcome %s for request %" PRIu64
				", which is not in flight: counted as unknown\n",
				hw_errname(o->code), o->request_id);
		return;
	}
	s->busy = false;
	r->outstanding--;
	if (o->code == 0) {
		if (o->duplicate)
			r->duplicates++;
		else
			r->accepted++;
		if (r->first_lsn == 0 || o->lsn < r->first_lsn)
			r->first_lsn = o->lsn;
		if (o->lsn > r->last_lsn)
			r->last_lsn = o->lsn;
	} else if (hw_is_reject(o->code) && (o->reject.field[0] || o->reject.rule[0])) {
		r->rejected++;
	} else {
		/* a code of the reject band with no field and rule refused the submit, not its
		 * record: HW_ERANGE for a --mode or --k the node cannot meet */
		bool submit_refused = hw_is_reject(o->code);
		if (r->errors++ < UNEXPECTED_SHOWN_MAX)
			fprintf(stderr, "hawser submit: record %" PRIu64 ": %s (%s)%s\n", s->id,
				hw_strerror(o->code), hw_errname(o->code),
				submit_refused
					? ": the node refused the submit, not the record (a "
					  "--k above its standbys, or a --mode it cannot meet)"
					: "");
		return;
	}
	if (o->code == s->expect)
		return;
	char why[HW_CLI_REJECT_CHARS];
	if (r->unexpected++ < UNEXPECTED_SHOWN_MAX)
		fprintf(stderr,
			"hawser submit: record %" PRIu64 " (%s): expected %s, got %s at %s\n",
			s->id, s->kind, hw_errname(s->expect), hw_errname(o->code),
			hw_cli_reject_shown(&o->reject, why, sizeof why));
}

static int tally_cb(void *arg, const struct hw_outcome *o)
{
	tally(arg, o);
	return 0;
}

/* Wait for one outcome and count it. */
static int wait_one(struct hw_client *c, struct submit_run *r)
{
	struct hw_outcome o;
	int rc = hw_client_wait(c, OUTCOME_WAIT_MS, &o);
	if (rc)
		return rc;
	tally(r, &o);
	return 0;
}

/* Submit every record of w with at most r->window in flight, then collect the rest.
 * Returns 0, or the connection or generator error that stopped the run. A submit that
 * failed is not in flight, and the outcomes of those before it still count: the client
 * holds those that arrived before a lost connection (include/hawser.h), so they are
 * collected as at the end, and so after a wait's error (which the client gives after the
 * outcomes before it: the settle ends at once). Not after a wait that ran out
 * (OUTCOME_WAIT_MS, past any search for a primary: stuck), which would only wait as long
 * again. r->outstanding is then what has no outcome: it may or may not be stored. */
static int submit_all(struct hw_client *c, struct hw_workload *w, const struct submit_opts *o,
		      struct submit_run *r)
{
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	int rc = 0;
	for (uint64_t i = 0; rc == 0 && i < o->count; i++) {
		struct slot *s = &r->slots[i % r->window];
		while (rc == 0 && s->busy) /* keeps at most window in flight */
			rc = wait_one(c, r);
		if (rc)
			break;
		struct hw_work_item it;
		rc = hw_workload_next(w, buf, sizeof(buf), &it);
		if (rc == 0)
			rc = hw_client_submit(c, i, buf, it.len, o->mode, (unsigned)o->k);
		if (rc == 0) {
			*s = (struct slot){
				.busy = true, .id = i, .expect = it.expect, .kind = it.kind};
			r->submitted++;
			r->outstanding++;
		}
	}
	if (rc == -ETIMEDOUT)
		return rc;
	int settled = hw_client_settle(c, OUTCOME_WAIT_MS, &r->outstanding, tally_cb, r);
	return rc ? rc : settled;
}

static void submit_print(const struct submit_opts *o, const struct submit_run *r)
{
	/* the records answered: all N, unless the run stopped early */
	uint64_t answered = r->submitted - r->outstanding;
	double rate = r->seconds > 0 ? (double)answered / r->seconds : 0;
	if (!o->json) {
		printf("hawser submit: %" PRIu64 " records (%s, seed %" PRIu64 ", end-ms %" PRId64
		       ", window %" PRIu64 ") in %.2f s: %.0f records/s\n",
		       o->count, o->profile, o->seed, o->end_ms, o->window, r->seconds, rate);
		printf("  accepted %" PRIu64 ", duplicates %" PRIu64 ", rejected %" PRIu64
		       " (unexpected %" PRIu64 "), errors %" PRIu64 ", in flight %" PRIu64
		       ", unsent %" PRIu64 ", unknown %" PRIu64 ", lsn %" PRIu64 "..%" PRIu64 "\n",
		       r->accepted, r->duplicates, r->rejected, r->unexpected, r->errors,
		       r->outstanding, o->count - r->submitted, r->unknown, r->first_lsn,
		       r->last_lsn);
		return;
	}
	struct hw_json j;
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_kv_uint(&j, "records", o->count);
	hw_json_kv_int(&j, "end_ms", o->end_ms);
	hw_json_kv_uint(&j, "accepted", r->accepted);
	hw_json_kv_uint(&j, "rejected", r->rejected);
	hw_json_kv_uint(&j, "duplicates", r->duplicates);
	hw_json_kv_uint(&j, "unexpected", r->unexpected);
	hw_json_kv_uint(&j, "errors", r->errors);
	hw_json_kv_uint(&j, "in_flight", r->outstanding);
	hw_json_kv_uint(&j, "unsent", o->count - r->submitted);
	hw_json_kv_uint(&j, "unknown", r->unknown);
	hw_json_kv_double(&j, "seconds", r->seconds);
	hw_json_kv_double(&j, "records_per_s", rate);
	hw_json_kv_uint(&j, "first_lsn", r->first_lsn);
	hw_json_kv_uint(&j, "last_lsn", r->last_lsn);
	hw_json_object_end(&j);
}

static const struct option submit_longopts[] = {
	{"connect", required_argument, NULL, 'c'},
	{"generate", required_argument, NULL, 'n'},
	{"seed", required_argument, NULL, 's'},
	{"end-ms", required_argument, NULL, 'e'},
	{"profile", required_argument, NULL, 'p'},
	{"mode", required_argument, NULL, 'm'},
	{"k", required_argument, NULL, 'k'},
	{"window", required_argument, NULL, 'w'},
	{"json", no_argument, NULL, 'j'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

static int cmd_submit(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct submit_opts o = {.seed = 1,
				.profile = "terminal_peak",
				.mode = HW_DEFAULT,
				.window = WINDOW_DEFAULT};
	int rc = hw_cli_parse(cmd, argc, argv, submit_longopts, submit_opt_cb, &o, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!o.connect)
		return hw_cli_usage_error(cmd, "--connect ADDR is required");
	if (!o.count_given)
		return hw_cli_usage_error(cmd, "--generate N is required");
	rc = hw_cli_security_check(cmd, &o.sec);
	if (rc != HW_CLI_RUN)
		return rc;
	struct submit_run r = {.window = o.window};
	r.slots = calloc(o.window, sizeof(*r.slots));
	if (!r.slots)
		return hw_cli_fail(cmd->name, "memory", HW_ENOMEM);
	if (!o.end_given)
		o.end_ms = hw_wall_ms();
	struct hw_workload_opts wo = {
		.profile = o.profile, .seed = o.seed, .count = o.count, .end_ms = o.end_ms};
	struct hw_workload *w = NULL;
	struct hw_client *c = NULL;
	rc = hw_workload_new(&wo, &w);
	if (rc) {
		free(r.slots);
		return hw_cli_fail(cmd->name, "generator", rc);
	}
	rc = hw_client_connect_secure(o.connect, &o.sec, &c);
	if (rc) {
		hw_workload_free(w);
		free(r.slots);
		return hw_cli_fail(cmd->name, o.connect, rc);
	}
	hw_client_set_follow_ms(c, FOLLOW_MS); /* what OUTCOME_WAIT_MS outlasts */
	double t0 = hw_mono_s();
	rc = submit_all(c, w, &o, &r);
	r.seconds = hw_mono_s() - t0;
	hw_client_close(c);
	hw_workload_free(w);
	free(r.slots);
	if (rc)
		hw_cli_fail(cmd->name, o.connect, rc);
	submit_print(&o, &r);
	return rc || r.unexpected || r.errors ? HW_CLI_ERROR : HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_submit = {
	"submit", "submit generated TOS records to a running node",
	HW_CLI_USAGE(
		"usage: hawser submit --connect ADDR --generate N [--seed S] [--end-ms T]\n"
		"                     [--profile NAME] [--mode M] [--k K] [--window W] [--json]\n"
		"                     (--key FILE --peers LIST --cluster ID | --insecure)\n"
		"  Generate N records (bench/workload.h) and submit them to the node's client\n"
		"  port ADDR ([ID@]HOST:PORT or [ID@]unix:/path), pipelined with at most W in\n"
		"  flight (default 64, at most 4096), then wait for every outcome. Profiles:\n"
		"  terminal_peak (default), nagoya_port_peak, stress, poison. --seed S (default\n"
		"  1). --end-ms T: the time of the last record, integer ms or ISO 8601 (default:\n"
		"  now, printed): the same N, S, T and profile make the same records, ids and\n"
		"  bytes, so a run given a printed T sends them again (those stored come back as\n"
		"  duplicates).\n"
		"  --mode M: local, received, durable or applied; --k K: standbys that must meet\n"
		"  it (default: the node's). Prints accepted, duplicates, rejected, unexpected\n"
		"  (other than the generator expected), errors (outcomes that failed, a submit\n"
		"  the node refused as a whole, such as a --k above its standbys, too), in flight\n"
		"  (submitted, no outcome when the run stopped: may or may not be stored), unsent\n"
		"  (never submitted), unknown (outcomes for a request id not in flight: counted,\n"
		"  said on stderr, no error) and the time taken; --json: one JSON object. Every\n"
		"  outcome the client received counts, those that came before a lost connection\n"
		"  too.\n"
		"  ADDR may list the nodes of a failover cluster, comma-separated: the submits go\n"
		"  to the primary, and when it fails, steps down or its storage fails they follow\n"
		"  the new one, sending again with the same bytes what was in flight, what the\n"
		"  old one answered in doubt and what it refused for its failed storage (a record\n"
		"  already stored comes back as a duplicate: each is committed once, or reported\n"
		"  as an error in doubt when no primary is found; one that the primary found\n"
		"  next refuses so again, as a static one whose storage failed does, reports\n"
		"  that refusal, or in doubt when it may be stored); a search for the new\n"
		"  primary lasts up to 60 s, and a wait for an outcome up to 90 s.\n"
		"  Exit 1 if any outcome was unexpected or any submit "
		"failed.\n" HW_CLI_SECURITY_USAGE),
	cmd_submit};

/* ---- status */

struct status_opts {
	const char *connect;
	const char *dir;    /* the node's store: drill history (cli/cmd_drill.c) */
	const char *config; /* the node's config: [drills] schedule, data_dir */
	int64_t now_ms;     /* judge the schedule at this time (now_given); else now */
	bool now_given;
	bool json;
	bool drills_shown; /* the node sent its own drill history */
	bool fault;        /* the node reports its storage failed or its apply blocked */
	struct hw_client_security sec;
};

static int status_opt_cb(void *arg, int key, const char *v)
{
	struct status_opts *o = arg;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	if (key == 'c') {
		o->connect = v;
		return hw_cli_addrs(v);
	}
	if (key == 'j') {
		o->json = true;
		return 0;
	}
	if (key == 'd' || key == 'f') {
		*(key == 'd' ? &o->dir : &o->config) = v;
		return 0;
	}
	if (key == 'n') {
		o->now_given = true;
		return hw_cli_time_ms(v, &o->now_ms);
	}
	return -1;
}

static const char *role_name(Hawser__Wire__V1__Role r)
{
	switch (r) {
	case HAWSER__WIRE__V1__ROLE__PRIMARY:
		return "primary";
	case HAWSER__WIRE__V1__ROLE__STANDBY:
		return "standby";
	case HAWSER__WIRE__V1__ROLE__CLIENT:
		return "client";
	case HAWSER__WIRE__V1__ROLE__WITNESS:
		return "witness";
	case HAWSER__WIRE__V1__ROLE__VAULT:
		return "vault";
	default:
		return "unknown";
	}
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* The state hw_drill_state_name() named, back. */
static enum hw_drill_state drill_state(const char *name)
{
	static const enum hw_drill_state all[] = {HW_DRILL_UNSCHEDULED, HW_DRILL_ON_TIME,
						  HW_DRILL_OVERDUE, HW_DRILL_NEVER};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (name && !strcmp(name, hw_drill_state_name(all[i])))
			return all[i];
	if (name && !strcmp(name, "never run")) /* what an older node calls it */
		return HW_DRILL_NEVER;
	return HW_DRILL_UNSCHEDULED;
}

static void status_failover_json_holds(struct hw_json *j, const Hawser__Wire__V1__FailoverStatus *f)
{
	hw_json_key(j, "rto");
	hw_json_object_begin(j);
	hw_json_kv_bool(j, "holds", f->rto_holds);
	hw_json_kv_string(j, "why", str_or_empty(f->rto_why));
	hw_json_object_end(j);
	hw_json_key(j, "rpo");
	hw_json_object_begin(j);
	hw_json_kv_bool(j, "holds", f->rpo_holds);
	hw_json_kv_string(j, "why", str_or_empty(f->rpo_why));
	hw_json_object_end(j);
	hw_json_kv_string(j, "promoted", str_or_empty(f->promoted));
	hw_json_kv_bool(j, "automatic", f->automatic);
	hw_json_kv_string(j, "why", str_or_empty(f->failover_why));
}

/* The targets and a failover now, as the node judged them (engine/core/targets.h). */
static void status_failover_text(const Hawser__Wire__V1__FailoverStatus *f)
{
	if (f == NULL || !f->configured) {
		printf("  failover: %s\n", f ? str_or_empty(f->failover_why) : "not reported");
		return;
	}
	printf("  targets: rto %" PRId64 " ms %s, rpo %" PRId64 " ms %s", f->rto_ms,
	       f->rto_holds ? "holds" : "DOES NOT HOLD", f->rpo_ms,
	       f->rpo_holds ? "holds" : "DOES NOT HOLD");
	char dur[32];
	if (f->restore_rto_ms) /* a drills' duration, as [drills] and the drills write it */
		printf(", restore_rto %s",
		       hw_drill_duration_format(f->restore_rto_ms, dur, sizeof dur));
	printf("\n    rto: %s\n    rpo: %s\n", str_or_empty(f->rto_why), str_or_empty(f->rpo_why));
	char predicted[HW_CLI_PREDICTED_CHARS];
	printf("  %s\n", hw_cli_predicted(f, false, predicted, sizeof predicted));
	char heard[40] = "never heard"; /* the standby closing the gap: since when silent */
	if (f->at_risk_ms >= 0)
		snprintf(heard, sizeof heard, "%" PRId64 " ms", f->at_risk_ms);
	printf("  at risk: %" PRIu64 " records not yet durable on k standbys (%s), backlog %" PRIu64
	       " records unapplied (%" PRId64 " ms to replay)\n",
	       f->at_risk_records, heard, f->backlog_records, f->backlog_ms);
	printf("  failover now: %s\n", str_or_empty(f->failover_why));
}

static void status_failover_json(struct hw_json *j, const Hawser__Wire__V1__FailoverStatus *f)
{
	static const Hawser__Wire__V1__FailoverStatus none =
		HAWSER__WIRE__V1__FAILOVER_STATUS__INIT;
	f = f ? f : &none;
	hw_json_key(j, "failover");
	hw_json_object_begin(j);
	hw_json_kv_bool(j, "configured", f->configured);
	hw_json_kv_uint(j, "voters", f->voters);
	hw_json_kv_uint(j, "k_min", f->k_min);
	hw_json_key(j, "targets");
	hw_json_object_begin(j);
	hw_json_kv_int(j, "rto_ms", f->rto_ms);
	hw_json_kv_int(j, "rpo_ms", f->rpo_ms);
	hw_json_kv_int(j, "restore_rto_ms", f->restore_rto_ms);
	hw_json_object_end(j);
	hw_json_key(j, "predicted");
	hw_json_object_begin(j);
	hw_json_kv_bool(j, "possible", !f->no_failover);
	hw_json_kv_int(j, "detection_ms", f->detection_ms);
	hw_json_kv_int(j, "election_ms", f->election_ms);
	hw_json_kv_int(j, "replay_ms", f->replay_ms);
	hw_json_kv_int(j, "resume_ms", f->resume_ms);
	hw_json_kv_int(j, "total_ms", f->failover_ms);
	hw_json_object_end(j);
	hw_json_key(j, "at_risk");
	hw_json_object_begin(j);
	hw_json_kv_uint(j, "records", f->at_risk_records);
	hw_json_kv_int(j, "ms", f->at_risk_ms);
	hw_json_kv_uint(j, "backlog_records", f->backlog_records);
	hw_json_kv_int(j, "backlog_ms", f->backlog_ms);
	hw_json_kv_uint(j, "acked_lost_on_failover", f->loss_records);
	hw_json_object_end(j);
	status_failover_json_holds(j, f);
	hw_json_object_end(j);
}

/* A primary's submit times over the last second (SubmitTimes); nothing on a standby. */
static void status_times_text(const Hawser__Wire__V1__SubmitTimes *t)
{
	if (t == NULL)
		return;
	if (t->stored == 0 && t->answered == 0)
		printf("  submit time, last second: no submits\n");
	else
		printf("  submit time, last second: queued %.0f us, store %.0f us, durability %.0f"
		       " us (%" PRIu64 " stored, %" PRIu64 " answered)\n",
		       t->queued_us, t->store_us, t->durability_us, t->stored, t->answered);
}

static void status_times_json(struct hw_json *j, const char *key,
			      const Hawser__Wire__V1__SubmitTimes *t)
{
	hw_json_key(j, key);
	hw_json_object_begin(j);
	hw_json_kv_double(j, "queued_us", t->queued_us);
	hw_json_kv_double(j, "store_us", t->store_us);
	hw_json_kv_uint(j, "stored", t->stored);
	hw_json_kv_double(j, "durability_us", t->durability_us);
	hw_json_kv_uint(j, "answered", t->answered);
	hw_json_object_end(j);
}

/* A primary's submits held for lack of standbys (AckHold): a line only while some are. */
static void status_hold_text(const Hawser__Wire__V1__AckHold *h)
{
	if (h != NULL && h->submits > 0)
		printf("  ACKS HELD for %" PRId64 " ms: %s\n", h->held_ms, str_or_empty(h->why));
}

static void status_hold_json(struct hw_json *j, const Hawser__Wire__V1__AckHold *h)
{
	if (h == NULL)
		return;
	hw_json_key(j, "acks_held");
	hw_json_object_begin(j);
	hw_json_kv_bool(j, "held", h->submits > 0);
	hw_json_kv_uint(j, "submits", h->submits);
	hw_json_kv_uint(j, "lsn", h->lsn);
	hw_json_kv_string(j, "mode", str_or_empty(h->mode));
	hw_json_kv_uint(j, "k", h->k);
	hw_json_kv_uint(j, "connected", h->connected);
	hw_json_kv_int(j, "held_ms", h->held_ms);
	hw_json_kv_string(j, "why", str_or_empty(h->why));
	hw_json_object_end(j);
}

/* A primary's back-pressure from its targets (RpoHold, ReplayThrottle): a line each
 * only while it acts. */
static void status_targets_text(const Hawser__Wire__V1__Status *s)
{
	const Hawser__Wire__V1__RpoHold *r = s->rpo_hold;
	const Hawser__Wire__V1__ReplayThrottle *t = s->replay_throttle;
	if (r != NULL && r->held)
		printf("  RPO HOLD for %" PRId64 " ms: %s\n", r->held_ms, str_or_empty(r->why));
	if (t != NULL && t->throttled)
		printf("  SUBMITS THROTTLED for %" PRId64 " ms: %s\n", t->throttled_ms,
		       str_or_empty(t->why));
}

static void status_targets_json(struct hw_json *j, const Hawser__Wire__V1__Status *s)
{
	const Hawser__Wire__V1__RpoHold *r = s->rpo_hold;
	const Hawser__Wire__V1__ReplayThrottle *t = s->replay_throttle;
	if (r != NULL) {
		hw_json_key(j, "rpo_hold");
		hw_json_object_begin(j);
		hw_json_kv_bool(j, "held", r->held);
		hw_json_kv_int(j, "max_ahead_ms", r->max_ahead_ms);
		hw_json_kv_int(j, "margin_ms", r->margin_ms);
		hw_json_kv_int(j, "ahead_ms", r->ahead_ms);
		hw_json_kv_uint(j, "submits", r->submits);
		hw_json_kv_uint(j, "lsn", r->lsn);
		hw_json_kv_int(j, "held_ms", r->held_ms);
		hw_json_kv_uint(j, "k", r->k);
		hw_json_kv_string(j, "action", str_or_empty(r->action));
		hw_json_kv_string(j, "why", str_or_empty(r->why));
		hw_json_object_end(j);
	}
	if (t != NULL) {
		hw_json_key(j, "replay_throttle");
		hw_json_object_begin(j);
		hw_json_kv_bool(j, "throttled", t->throttled);
		hw_json_kv_uint(j, "budget_records", t->budget_records);
		hw_json_kv_uint(j, "resume_records", t->resume_records);
		hw_json_kv_string(j, "standby", str_or_empty(t->standby));
		hw_json_kv_uint(j, "backlog_records", t->backlog_records);
		hw_json_kv_int(j, "throttled_ms", t->throttled_ms);
		hw_json_kv_string(j, "why", str_or_empty(t->why));
		hw_json_object_end(j);
	}
}

/* ---- status: what stops a node, and a follower's link to its primary */

#define STATUS_WARNINGS_MAX  4
#define STATUS_WARNING_BYTES 400

static bool status_follows(const Hawser__Wire__V1__Status *s)
{
	return s->role == HAWSER__WIRE__V1__ROLE__STANDBY ||
	       s->role == HAWSER__WIRE__V1__ROLE__VAULT;
}

/* The node reports what stopped it: its storage failed, or a refused entry blocked its
 * apply (exit HW_CLI_NODE_FAULT). */
static bool status_fault(const Hawser__Wire__V1__Status *s)
{
	return s->failed != 0 || s->apply_blocked != NULL;
}

/* A standby or vault that has not heard from its primary for longer than a stream may be
 * silent (a few heartbeats): one gone, or one it cannot reach. Not a standby blocked, which
 * follows no more on purpose, nor a node older than these fields (limit 0). */
static bool status_unheard(const Hawser__Wire__V1__Status *s)
{
	bool parted = s->apply_blocked != NULL && s->role == HAWSER__WIRE__V1__ROLE__STANDBY;
	return status_follows(s) && !parted && s->silent_limit_ms > 0 &&
	       s->primary_silent_ms > s->silent_limit_ms;
}

/* What an operator must see at once, in words, into w; returns how many. */
static size_t status_warnings(const Hawser__Wire__V1__Status *s,
			      char w[STATUS_WARNINGS_MAX][STATUS_WARNING_BYTES])
{
	size_t k = 0;
	const Hawser__Wire__V1__ApplyBlocked *b = s->apply_blocked;
	if (s->failed != 0)
		snprintf(w[k++], STATUS_WARNING_BYTES,
			 "storage failed (%s: %s): the node acknowledges nothing more; fix the "
			 "cause, verify its store, restart it",
			 hw_errname(s->failed), hw_strerror(s->failed));
	if (b != NULL)
		snprintf(w[k++], STATUS_WARNING_BYTES,
			 "apply blocked at lsn %" PRIu64 " (%s, %s: %s): its store refuses that "
			 "entry; those before it are applied, it and every later one are kept in "
			 "the log only%s (docs/operations.md \"Reading status: what stops a "
			 "node\")",
			 b->lsn, hw_errname(b->code), str_or_empty(b->field), str_or_empty(b->rule),
			 s->role == HAWSER__WIRE__V1__ROLE__VAULT
				 ? "; the vault goes on storing what its primary sends"
				 : "; this standby follows no more and may not lead");
	if (status_follows(s) && s->refused_code != 0)
		snprintf(w[k++], STATUS_WARNING_BYTES,
			 "not following: its last try was refused (%s: %s)",
			 hw_errname(s->refused_code), str_or_empty(s->refused_what));
	if (status_unheard(s))
		snprintf(w[k++], STATUS_WARNING_BYTES,
			 "no word from its primary for %.1f s (%s; silent past %" PRId64 " ms: a "
			 "primary gone, or one it cannot reach)",
			 (double)s->primary_silent_ms / 1000.0,
			 s->primary_connected ? "connected" : "not connected", s->silent_limit_ms);
	return k;
}

/* The primary a standby or vault follows, marked when it is not connected. */
static void status_primary_text(const Hawser__Wire__V1__Status *s)
{
	const char *who = s->primary && s->primary[0] ? s->primary : "none known";
	if (!status_follows(s) || s->silent_limit_ms == 0) { /* a primary, or an older node */
		if (s->primary && s->primary[0])
			printf("  primary: %s\n", s->primary);
	} else if (s->primary_connected) {
		printf("  primary: %s\n", who);
	} else {
		printf("  primary: %s (not connected, %s %.1f s ago)\n", who,
		       s->primary_heard ? "last heard" : "never heard; following since",
		       (double)s->primary_silent_ms / 1000.0);
	}
}

static void status_health_json(struct hw_json *j, const Hawser__Wire__V1__Status *s)
{
	const Hawser__Wire__V1__ApplyBlocked *b = s->apply_blocked;
	if (status_follows(s)) {
		hw_json_kv_bool(j, "primary_connected", s->primary_connected);
		hw_json_kv_bool(j, "primary_heard", s->primary_heard);
		hw_json_kv_int(j, "primary_silent_ms", s->primary_silent_ms);
		hw_json_kv_int(j, "silent_limit_ms", s->silent_limit_ms);
		hw_json_kv_string(j, "refused_code",
				  s->refused_code ? hw_errname(s->refused_code) : "");
		hw_json_kv_string(j, "refused_what", str_or_empty(s->refused_what));
	}
	hw_json_kv_string(j, "failed", s->failed ? hw_errname(s->failed) : "");
	hw_json_key(j, "apply_blocked");
	hw_json_object_begin(j);
	hw_json_kv_bool(j, "blocked", b != NULL);
	hw_json_kv_uint(j, "lsn", b ? b->lsn : 0);
	hw_json_kv_string(j, "code", b ? hw_errname(b->code) : "");
	hw_json_kv_string(j, "field", b ? str_or_empty(b->field) : "");
	hw_json_kv_string(j, "rule", b ? str_or_empty(b->rule) : "");
	hw_json_object_end(j);
	char w[STATUS_WARNINGS_MAX][STATUS_WARNING_BYTES];
	size_t n = status_warnings(s, w);
	hw_json_key(j, "warnings");
	hw_json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		hw_json_string(j, w[i]);
	hw_json_array_end(j);
}

static void status_print_text(const Hawser__Wire__V1__Status *s)
{
	printf("node %s: %s, epoch %" PRIu64 "\n", str_or_empty(s->node_id), role_name(s->role),
	       s->epoch);
	status_primary_text(s);
	char w[STATUS_WARNINGS_MAX][STATUS_WARNING_BYTES];
	for (size_t i = 0, n = status_warnings(s, w); i < n; i++)
		printf("  WARNING: %s\n", w[i]);
	printf("  last lsn %" PRIu64 ", durable lsn %" PRIu64 "\n", s->last_lsn, s->durable_lsn);
	if (s->stale)
		printf("  STALE: its state tables await a snapshot from the primary (a rejoin of a "
		       "pruned log set its divergent entries aside); reads refuse, it does not "
		       "stand for election\n");
	if (s->role == HAWSER__WIRE__V1__ROLE__VAULT)
		printf("  stored lsn %" PRIu64 ", applied lsn %" PRIu64 ", apply delay %" PRId64
		       " ms\n",
		       s->durable_lsn, s->applied_lsn, s->apply_delay_ms);
	printf("  mode %s, k %u", str_or_empty(s->mode), s->k);
	if (s->failover && s->failover->k_min)
		printf(", k_min %u (%u voters)", s->failover->k_min, s->failover->voters);
	printf("%s\n", s->insecure ? ", insecure=true (plaintext connections)" : "");
	printf("  submits %" PRIu64 ", rejected %" PRIu64 ", %.0f records/s, waiting %" PRIu64 "\n",
	       s->submits, s->rejected, s->records_per_s, s->waiting);
	status_hold_text(s->acks_held);
	status_targets_text(s);
	status_times_text(s->submit_last_second);
	if (s->n_peers)
		printf("  peers:\n");
	for (size_t i = 0; i < s->n_peers; i++) {
		const Hawser__Wire__V1__PeerStatus *p = s->peers[i];
		printf("    %-12s %-12s received %" PRIu64 ", durable %" PRIu64 ", applied %" PRIu64
		       ", lag %" PRIu64 " records, %" PRId64 " ms\n",
		       str_or_empty(p->node_id), p->connected ? "connected" : "disconnected",
		       p->received, p->durable, p->applied, p->lag_records, p->lag_ms);
	}
	status_failover_text(s->failover);
}

static void status_print_peers_json(struct hw_json *j, const Hawser__Wire__V1__Status *s)
{
	hw_json_key(j, "peers");
	hw_json_array_begin(j);
	for (size_t i = 0; i < s->n_peers; i++) {
		const Hawser__Wire__V1__PeerStatus *p = s->peers[i];
		hw_json_object_begin(j);
		hw_json_kv_string(j, "node_id", str_or_empty(p->node_id));
		hw_json_kv_bool(j, "connected", p->connected);
		hw_json_kv_uint(j, "received", p->received);
		hw_json_kv_uint(j, "durable", p->durable);
		hw_json_kv_uint(j, "applied", p->applied);
		hw_json_kv_uint(j, "lag_records", p->lag_records);
		hw_json_kv_int(j, "lag_ms", p->lag_ms);
		hw_json_kv_int(j, "unapplied_since_ms", p->unapplied_since_ms);
		hw_json_object_end(j);
	}
	hw_json_array_end(j);
}

/* The node's fields into the object j is inside (cmd_status opens and closes it). */
static void status_print_json(const Hawser__Wire__V1__Status *s, struct hw_json *jp)
{
	struct hw_json j = *jp;
	hw_json_kv_string(&j, "node_id", str_or_empty(s->node_id));
	hw_json_kv_string(&j, "role", role_name(s->role));
	hw_json_kv_uint(&j, "epoch", s->epoch);
	hw_json_kv_uint(&j, "last_lsn", s->last_lsn);
	hw_json_kv_uint(&j, "durable_lsn", s->durable_lsn);
	if (s->role == HAWSER__WIRE__V1__ROLE__VAULT) {
		hw_json_kv_uint(&j, "applied_lsn", s->applied_lsn);
		hw_json_kv_int(&j, "apply_delay_ms", s->apply_delay_ms);
	}
	hw_json_kv_string(&j, "mode", str_or_empty(s->mode));
	hw_json_kv_uint(&j, "k", s->k);
	hw_json_kv_uint(&j, "submits", s->submits);
	hw_json_kv_uint(&j, "rejected", s->rejected);
	hw_json_kv_double(&j, "records_per_s", s->records_per_s);
	hw_json_kv_uint(&j, "waiting", s->waiting);
	status_hold_json(&j, s->acks_held);
	if (s->submit_last_second && s->submit_since_start) {
		hw_json_key(&j, "submit_times");
		hw_json_object_begin(&j);
		status_times_json(&j, "last_second", s->submit_last_second);
		status_times_json(&j, "since_start", s->submit_since_start);
		hw_json_object_end(&j);
	}
	hw_json_kv_string(&j, "primary", str_or_empty(s->primary));
	hw_json_kv_bool(&j, "insecure", s->insecure);
	hw_json_kv_bool(&j, "stale", s->stale);
	status_health_json(&j, s);
	status_print_peers_json(&j, s);
	status_failover_json(&j, s->failover);
	status_targets_json(&j, s);
	hw_json_kv_int(&j, "time_ms", s->time_ms);
	*jp = j;
}

/* The node's drill history against its schedule, as `hawser status --dir` shows it: as
 * the node judged it, or with --now (judged_ms) judged again at that time. */
static void status_drills_of(struct hw_json *j, const Hawser__Wire__V1__Status *s,
			     int64_t judged_ms)
{
	char overdue[HW_CLI_OVERDUE_CHARS] = "";
	hw_cli_drill_status_begin(j, "node", str_or_empty(s->node_id), judged_ms);
	for (size_t i = 0; i < s->n_drills; i++) {
		const Hawser__Wire__V1__DrillStatus *d = s->drills[i];
		int kind = hw_drill_kind_parse(str_or_empty(d->kind));
		if (kind < 0)
			continue; /* a kind this client does not know */
		struct hw_drill_row last = {
			.time_ms = d->last_ms,
			.kind = (enum hw_drill_kind)kind,
			.result = d->last_result && !strcmp(d->last_result, "PASS") ? HW_DRILL_PASS
										    : HW_DRILL_FAIL,
			.duration_ms = d->last_duration_ms,
			.lsn = d->last_lsn,
			.entries = d->last_entries,
			.target_ms = d->last_target_ms};
		if (d->last_result && !strcmp(d->last_result, "ERROR"))
			last.result = HW_DRILL_ERROR;
		snprintf(last.what, sizeof last.what, "%s", str_or_empty(d->last_what));
		snprintf(last.report, sizeof last.report, "%s", str_or_empty(d->last_report));
		struct hw_drill_row pass = {.time_ms = d->last_pass_ms};
		struct hw_drill_due due = {.state = drill_state(d->state),
					   .due_ms = d->due_ms,
					   .overdue_ms = d->overdue_ms};
		if (judged_ms)
			hw_drill_due(d->every_ms, d->last_pass_ms ? &pass : NULL, judged_ms, &due);
		hw_cli_drill_status_kind(j, kind, &due, d->has_last ? &last : NULL,
					 d->last_pass_ms ? &pass : NULL, d->every_ms, overdue);
	}
	hw_cli_drill_status_end(j, overdue);
}

static const struct option status_longopts[] = {
	{"connect", required_argument, NULL, 'c'},
	{"json", no_argument, NULL, 'j'},
	{"dir", required_argument, NULL, 'd'},
	{"config", required_argument, NULL, 'f'},
	{"now", required_argument, NULL, 'n'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

static int status_node(const struct hw_cli_cmd *cmd, struct status_opts *o, struct hw_json *j);
static int status_drills(const struct hw_cli_cmd *cmd, struct status_opts *o, struct hw_json *j);

static int cmd_status(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct status_opts o = {0};
	int rc = hw_cli_parse(cmd, argc, argv, status_longopts, status_opt_cb, &o, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!o.connect && !o.dir && !o.config)
		return hw_cli_usage_error(cmd, "--connect ADDR, --dir DIR or --config FILE is required");
	if (o.now_given && (rc = hw_cli_now_check(cmd, o.now_ms)) != HW_CLI_RUN)
		return rc;
	if ((rc = hw_cli_security_check_optional(cmd, o.connect, &o.sec)) != HW_CLI_RUN)
		return rc;
	struct hw_json j;
	if (o.json) {
		hw_json_init(&j, stdout);
		hw_json_object_begin(&j);
	}
	rc = o.connect ? status_node(cmd, &o, o.json ? &j : NULL) : HW_CLI_OK;
	if (rc == HW_CLI_OK && (o.dir || o.config) && !o.drills_shown)
		rc = status_drills(cmd, &o, o.json ? &j : NULL);
	if (o.json)
		hw_json_object_end(&j);
	return rc == HW_CLI_OK && o.fault ? HW_CLI_NODE_FAULT : rc;
}

/* The drill history of the node's store, judged against the [drills] schedule. */
static int status_drills(const struct hw_cli_cmd *cmd, struct status_opts *o, struct hw_json *j)
{
	static struct hw_config cfg;
	hw_config_defaults(&cfg);
	if (o->config) {
		char err[600];
		int rc = hw_config_load(o->config, &cfg, err, sizeof(err));
		if (rc) {
			hw_config_perror(o->config, rc, err);
			return HW_CLI_ERROR;
		}
		if (!o->dir)
			o->dir = cfg.data_dir;
	}
	struct hw_cli_end end;
	int rc = hw_cli_drill_status(o->dir, &cfg.drills, o->now_given ? o->now_ms : hw_wall_ms(),
				     o->now_given ? o->now_ms : 0, j, &end);
	if (rc == 0)
		return HW_CLI_OK;
	if (j) { /* as status_fail: no object a script could take for a status */
		char why[HW_CLI_WHY_CHARS];
		hw_json_kv_string(j, "error", hw_errname(rc));
		hw_json_kv_string(j, "message",
				  end.signo ? hw_cli_read_why(o->dir, &end, why, sizeof why)
					    : hw_strerror(rc));
	}
	return hw_cli_fail_read(cmd->name, o->dir, rc, &end);
}

/* The node could not be asked: said on stderr and, with --json, in the object ("error",
 * "message"), so a script reading stdout never takes an empty object for a status. */
static int status_fail(const struct hw_cli_cmd *cmd, const char *what, int rc, struct hw_json *j)
{
	if (j) {
		hw_json_kv_string(j, "error", hw_errname(rc));
		hw_json_kv_string(j, "message", hw_strerror(rc));
	}
	return hw_cli_fail(cmd->name, what, rc);
}

/* The node's words in s (its id, its primary's address, the reasons it gives) escaped
 * for the terminal (hw_cli_message_shown), but the drills' rows, which
 * hw_cli_drill_status_kind escapes as it prints them. 0 or HW_ENOMEM. */
static int status_shown(Hawser__Wire__V1__Status *s)
{
	size_t n_drills = s->n_drills;
	s->n_drills = 0;
	int rc = hw_cli_message_shown(&s->base);
	s->n_drills = n_drills;
	return rc;
}

static int status_node(const struct hw_cli_cmd *cmd, struct status_opts *o, struct hw_json *j)
{
	struct hw_client *c;
	int rc = hw_client_connect_secure(o->connect, &o->sec, &c);
	if (rc)
		return status_fail(cmd, o->connect, rc, j);
	uint8_t *body;
	size_t len;
	rc = hw_client_status(c, STATUS_WAIT_MS, &body, &len);
	hw_client_close(c);
	if (rc)
		return status_fail(cmd, o->connect, rc, j);
	Hawser__Wire__V1__Status *s = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	if (!s)
		return status_fail(cmd, "status reply", HW_EPROTOCOL, j);
	rc = j ? 0 : status_shown(s);
	if (rc) {
		hawser__wire__v1__status__free_unpacked(s, NULL);
		return status_fail(cmd, "status reply", rc, j);
	}
	if (j)
		status_print_json(s, j);
	else
		status_print_text(s);
	o->drills_shown = s->n_drills > 0;
	o->fault = status_fault(s);
	if (o->drills_shown)
		status_drills_of(j, s, o->now_given ? o->now_ms : 0);
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_status = {
	"status", "show a node's replication status and drill schedule",
	HW_CLI_USAGE(
		"usage: hawser status [--connect ADDR] [--dir DIR] [--config FILE] [--now T]\n"
		"                     [--json]\n"
		"                     [--key FILE --peers LIST --cluster ID | --insecure]\n"
		"  Ask the node at ADDR (its client port: [ID@]HOST:PORT or [ID@]unix:/path) for\n"
		"  its status: role, epoch, last and durable LSN, durability mode and k, submits,\n"
		"  throughput and waiting submits; on a primary, a submit's mean time queued for\n"
		"  the store, in it and waiting for its durability rule (last second, and since\n"
		"  start in --json); when submits wait for standbys that are not connected (their\n"
		"  k, or the k_min a failover cluster of 5 or more voters needs), ACKS HELD: how\n"
		"  many, for how many standbys and why (--json: acks_held); with [failover], RPO\n"
		"  HOLD while the rpo's commit rule holds acknowledgements (rpo_hold) and SUBMITS\n"
		"  THROTTLED while a standby's unapplied backlog is past the replay budget\n"
		"  (replay_throttle); per standby what it has\n"
		"  received, made durable and applied, with its lag in records and ms; the voters\n"
		"  and k_min; the targets (rto, rpo, restore_rto),\n"
		"  a failover now term by term (detection + election + replay + resume; none,\n"
		"  said so, when no majority of voters could elect a successor), the data\n"
		"  at risk, whether each target holds and why (the rto does not when no majority\n"
		"  of voters could elect a successor, when a standby's primary has been silent\n"
		"  past detection + election with no failover, or when a failover would leave the\n"
		"  new primary fewer standbys than a submit waits for), and why a failover would\n"
		"  or would not happen now (docs/operations.md \"Reading status\"); and the last\n"
		"  run of each drill kind against the node's [drills] schedule. --json: one JSON\n"
		"  object.\n"
		"  With --dir DIR (a store) or --config FILE (its data_dir and [drills] schedule;\n"
		"  with both, FILE's schedule for the store in DIR) and no --connect: the drill\n"
		"  part read from the store itself, a stopped node's too (docs/drills.md), in a\n"
		"  child process: a store whose damaged pages make LMDB abort or fault is an\n"
		"  error that names it and says to run hawser verify (HW_ECORRUPT, exit 1).\n"
		"  --now T judges the drill schedule at time T (ISO 8601 UTC or integer ms; one\n"
		"  before 2001 or after 9999, seconds say, is a usage error), a node's history\n"
		"  too: a what-if, shown \"as of T\" (--json: judged_at, else null).\n"
		"  The status says insecure=true when the node's connections are plaintext, and\n"
		"  STALE (stale in --json) while a standby's state awaits a snapshot after a\n"
		"  rejoin of a pruned log. A vault also shows its stored and applied LSN and its\n"
		"  apply delay. A standby or vault names its primary, marked (not connected, last\n"
		"  heard N s ago)\n"
		"  while the connection is down (--json: primary_connected, primary_silent_ms).\n"
		"  WARNING lines (--json: warnings) say what an operator must see at once: the\n"
		"  node's storage failed (failed), its apply is blocked at an entry its store\n"
		"  refuses (apply_blocked: LSN, code, field, rule), a standby or vault is not\n"
		"  following because its last try was refused, by the primary or by itself\n"
		"  (refused_code, refused_what), or it has had no word from its primary for\n"
		"  longer than a few heartbeats. Exit 5 (after printing the status) when the\n"
		"  storage failed or the apply is blocked (docs/operations.md \"Reading status:\n"
		"  what stops a node\").\n"
		"  With --connect:\n" HW_CLI_SECURITY_USAGE),
	cmd_status};
