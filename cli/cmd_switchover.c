/* cmd_switchover.c: `hawser switchover`: a planned hand-over of the primary role to a
 * standby with no loss (engine/core/election.h "Switchover"). The primary pauses submits
 * (it stops reading its clients' submits; after the hand-over they get HW_ENOT_PRIMARY
 * and follow the new primary), waits for the target to hold its whole log, gives up
 * its lease and tells the target to start an election at once; the command then watches
 * the old primary's status until it follows the new one, within a bound. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "wire.pb-c.h"

#define REPLY_WAIT_MS   5000
#define STATUS_WAIT_MS  2000
#define POLL_EVERY_MS   10
#define DEFAULT_WAIT_MS 10000

struct sw_opts {
	const char *connect;
	const char *to;
	int64_t wait_ms;
	bool json;
	struct hw_client_security sec;
};

static int opt_cb(void *arg, int key, const char *v)
{
	struct sw_opts *o = arg;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	switch (key) {
	case 'c':
		o->connect = v;
		return hw_cli_addrs(v);
	case 't': /* an id as a config's voters have it: never a control character */
		o->to = v;
		return hw_cli_id(v);
	case 'w':
		/* 0 would look once, before the hand-over can be done, and say it was not */
		return hw_cli_duration(v, &o->wait_ms) || o->wait_ms <= 0 ? -1 : 0;
	case 'j':
		o->json = true;
		return 0;
	default:
		return -1;
	}
}

static const struct option longopts[] = {
	{"connect", required_argument, NULL, 'c'},
	{"to", required_argument, NULL, 't'},
	{"wait", required_argument, NULL, 'w'},
	{"json", no_argument, NULL, 'j'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

/* The node's role, epoch and the primary it follows, on a fresh connection (the node
 * may close client connections while it changes role). */
struct sw_seen {
	int role;
	uint64_t epoch;
	char primary[128];
};

static int look(const struct sw_opts *o, struct sw_seen *out)
{
	struct hw_client *c;
	int rc = hw_client_connect_secure(o->connect, &o->sec, &c);
	if (rc)
		return rc;
	uint8_t *body;
	size_t len;
	rc = hw_client_status(c, STATUS_WAIT_MS, &body, &len);
	hw_client_close(c);
	if (rc)
		return rc;
	Hawser__Wire__V1__Status *s = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	if (s == NULL)
		return HW_EPROTOCOL;
	out->role = (int)s->role;
	out->epoch = s->epoch;
	snprintf(out->primary, sizeof out->primary, "%s", s->primary ? s->primary : "");
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return 0;
}

/* Ask the primary at addr to hand over; *code is its answer. */
static int ask(const struct sw_opts *o, int *code, char *why, size_t cap)
{
	struct hw_client *c;
	int rc = hw_client_connect_secure(o->connect, &o->sec, &c);
	if (rc)
		return rc;
	rc = hw_client_switchover(c, o->to, REPLY_WAIT_MS, code, why, cap);
	hw_client_close(c);
	return rc;
}

/* Until the old primary reports itself a standby of a later epoch that follows a
 * primary: the target won (a transfer election has one candidate). */
static bool wait_handed(const struct sw_opts *o, uint64_t epoch0, int64_t until,
			struct sw_seen *seen)
{
	for (;;) {
		if (look(o, seen) == 0 && seen->role == HAWSER__WIRE__V1__ROLE__STANDBY &&
		    seen->epoch > epoch0 && seen->primary[0] != '\0')
			return true;
		if (hw_wall_ms() >= until)
			return false;
		poll(NULL, 0, POLL_EVERY_MS); /* a CLI's status poll, not a test's wait */
	}
}

static void print_result(const struct sw_opts *o, bool done, uint64_t epoch0,
			 const struct sw_seen *seen, int64_t took_ms)
{
	if (o->json) {
		struct hw_json j;
		hw_json_init(&j, stdout);
		hw_json_object_begin(&j);
		hw_json_kv_string(&j, "to", o->to);
		hw_json_kv_bool(&j, "done", done);
		hw_json_kv_uint(&j, "old_epoch", epoch0);
		hw_json_kv_uint(&j, "new_epoch", seen->epoch);
		hw_json_kv_string(&j, "new_primary", seen->primary);
		hw_json_kv_int(&j, "pause_ms", took_ms);
		hw_json_object_end(&j);
		fputc('\n', stdout);
		return;
	}
	/* the address the node reports (a config's: a unix: path may hold ESC) escaped */
	char shown[HW_LOG_ESCAPED_CHARS(sizeof seen->primary)];
	if (done)
		printf("switchover to %s done: epoch %llu -> %llu, the old primary follows %s; "
		       "submits paused at most %lld ms (request to hand-over seen)\n",
		       o->to, (unsigned long long)epoch0, (unsigned long long)seen->epoch,
		       hw_log_escaped(seen->primary, shown, sizeof shown), (long long)took_ms);
	else
		printf("switchover to %s not seen within %lld ms: the old primary is still "
		       "in epoch %llu (it resumes submits, or steps down and a normal election "
		       "follows)\n",
		       o->to, (long long)took_ms, (unsigned long long)seen->epoch);
}

static int cmd_switchover(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct sw_opts o = {.wait_ms = DEFAULT_WAIT_MS};
	int rc = hw_cli_parse(cmd, argc, argv, longopts, opt_cb, &o, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (o.connect == NULL || o.to == NULL)
		return hw_cli_usage_error(cmd, "--connect ADDR and --to NODE_ID are required");
	struct sw_seen seen0 = {0};
	rc = hw_cli_security_check(cmd, &o.sec);
	if (rc != HW_CLI_RUN)
		return rc;
	rc = look(&o, &seen0);
	if (rc)
		return hw_cli_fail(cmd->name, o.connect, rc);
	int code = 0;
	char why[256] = "";
	int64_t t0 = hw_wall_ms();
	rc = ask(&o, &code, why, sizeof why);
	if (rc)
		return hw_cli_fail(cmd->name, o.connect, rc);
	if (code != 0) {
		char shown[HW_LOG_ESCAPED_CHARS(sizeof why)]; /* the node's words */
		fprintf(stderr, "hawser %s: refused (%s): %s\n", cmd->name, hw_errname(code),
			hw_log_escaped(why, shown, sizeof shown));
		return HW_CLI_ERROR;
	}
	struct sw_seen seen = seen0;
	bool done = wait_handed(&o, seen0.epoch, t0 + o.wait_ms, &seen);
	print_result(&o, done, seen0.epoch, &seen, hw_wall_ms() - t0);
	return done ? HW_CLI_OK : HW_CLI_ERROR;
}

const struct hw_cli_cmd hw_cli_switchover = {
	"switchover", "hand the primary role to a standby, with no loss",
	HW_CLI_USAGE(
		"usage: hawser switchover --connect PRIMARY_ADDR --to NODE_ID [--wait DURATION]\n"
		"                         [--json]\n"
		"                         (--key FILE --peers LIST --cluster ID | --insecure)\n"
		"  Ask the primary at PRIMARY_ADDR (its client port) to hand over to standby\n"
		"  NODE_ID (a voter of its [failover] cluster): it pauses submits (clients wait,\n"
		"  then get HW_ENOT_PRIMARY and follow NODE_ID; embedded submits get HW_EBUSY),\n"
		"  waits until NODE_ID holds its whole log, gives up its lease and has\n"
		"  NODE_ID elected at once. Nothing acknowledged is lost. The command waits (at\n"
		"  most --wait, above 0, default 10s) until the old primary follows the new one\n"
		"  and prints the time from the request to then: a bound on the pause clients\n"
		"  saw. Exit 1 when the primary refuses (not primary, one under way, no such\n"
		"  standby) or the hand-over is not seen in time.\n" HW_CLI_SECURITY_USAGE),
	cmd_switchover};
