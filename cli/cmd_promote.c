/* cmd_promote.c: `hawser promote --accept-loss`: promote a standby when no standby can
 * be elected without losing acknowledged records (engine/core/election.h "Forced
 * promotion"). It first lists, through the witness, the exact LSNs that would be lost;
 * only with --yes does it start the forced election, accepting that range (the witness
 * refuses if the loss grew since). */
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "wire.pb-c.h"

#define REPLY_WAIT_MS 5000
#define LIST_WAIT_MS  5000
#define POLL_EVERY_MS 10

struct pr_opts {
	const char *connect;
	bool accept_loss;
	bool yes;
	bool json;
	struct hw_client_security sec;
};

static int opt_cb(void *arg, int key, const char *v)
{
	struct pr_opts *o = arg;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	switch (key) {
	case 'c':
		o->connect = v;
		return hw_cli_addrs(v);
	case 'a':
		o->accept_loss = true;
		return 0;
	case 'y':
		o->yes = true;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	default:
		return -1;
	}
}

static const struct option longopts[] = {
	{"connect", required_argument, NULL, 'c'},
	{"accept-loss", no_argument, NULL, 'a'},
	{"yes", no_argument, NULL, 'y'},
	{"json", no_argument, NULL, 'j'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

struct pr_reply {
	int code;
	char why[256];
	uint64_t from, to, durable;
	bool knows;
};

static int ask(const struct pr_opts *o, bool accept, uint64_t from, uint64_t to,
	       struct pr_reply *out)
{
	struct hw_client *c;
	int rc = hw_client_connect_secure(o->connect, &o->sec, &c);
	if (rc)
		return rc;
	uint8_t *body;
	size_t len;
	rc = hw_client_promote(c, accept, from, to, REPLY_WAIT_MS, &body, &len);
	hw_client_close(c);
	if (rc)
		return rc;
	Hawser__Wire__V1__PromoteReply *r =
		hawser__wire__v1__promote_reply__unpack(NULL, len, body);
	free(body);
	if (r == NULL)
		return HW_EPROTOCOL;
	out->code = r->code;
	snprintf(out->why, sizeof out->why, "%s", r->message ? r->message : "");
	out->from = r->loss_from;
	out->to = r->loss_to;
	out->durable = r->durable_lsn;
	out->knows = r->witness_knows;
	hawser__wire__v1__promote_reply__free_unpacked(r, NULL);
	return 0;
}

/* The loss, through the witness: the standby answers HW_EBUSY until it has it. */
static int list(const struct pr_opts *o, struct pr_reply *out)
{
	int64_t until = hw_wall_ms() + LIST_WAIT_MS;
	for (;;) {
		int rc = ask(o, false, 0, 0, out);
		if (rc != 0 || out->code != HW_EBUSY || hw_wall_ms() >= until)
			return rc;
		poll(NULL, 0, POLL_EVERY_MS); /* the witness's answer is one round trip away */
	}
}

/* The listing as --json: the range only when there is one (none: loss_records 0, not an
 * empty range printed backwards); code "ok" only for a promotion started (exit 0), and
 * "not_promoted" for a listing without --yes (exit 1), else the refusal's. */
static void print_loss_json(const struct pr_reply *r, bool acted, int code)
{
	bool none = r->from > r->to;
	struct hw_json j;
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_kv_uint(&j, "durable_lsn", r->durable);
	if (none) {
		hw_json_kv_uint(&j, "loss_records", 0);
	} else {
		hw_json_kv_uint(&j, "loss_from", r->from);
		if (r->knows) {
			hw_json_kv_uint(&j, "loss_to", r->to);
			hw_json_kv_uint(&j, "loss_records", r->to - r->from + 1);
		}
	}
	hw_json_kv_bool(&j, "witness_knows", r->knows);
	hw_json_kv_bool(&j, "promoted", acted && code == 0);
	hw_json_kv_string(&j, "code",
			  !acted      ? "not_promoted"
			  : code == 0 ? "ok"
				      : hw_errname(code));
	hw_json_object_end(&j);
	fputc('\n', stdout);
}

static void print_loss(const struct pr_opts *o, const struct pr_reply *r, bool acted, int code)
{
	bool none = r->from > r->to;
	if (o->json) {
		print_loss_json(r, acted, code);
		return;
	}
	if (none)
		printf("promoting it loses nothing: it holds every committed LSN (durable %" PRIu64
		       ")\n",
		       r->durable);
	else if (!r->knows)
		printf("would lose LSNs %" PRIu64 "..(everything after it): the witness knows no "
		       "committed LSN it can vouch for\n",
		       r->from);
	else
		printf("would lose LSNs %" PRIu64 "..%" PRIu64 " (%" PRIu64 " committed "
		       "records; durable %" PRIu64 ")\n",
		       r->from, r->to, r->to - r->from + 1, r->durable);
	if (!acted)
		printf("not promoted: run again with --yes to accept this loss\n");
	else if (code == 0)
		printf("forced election started\n");
}

static int cmd_promote(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct pr_opts o = {0};
	int rc = hw_cli_parse(cmd, argc, argv, longopts, opt_cb, &o, NULL, 0);
	if (rc != HW_CLI_RUN)
		return rc;
	if (o.connect == NULL || !o.accept_loss)
		return hw_cli_usage_error(cmd, "--connect ADDR and --accept-loss are required");
	rc = hw_cli_security_check(cmd, &o.sec);
	if (rc != HW_CLI_RUN)
		return rc;
	struct pr_reply r = {0};
	rc = list(&o, &r);
	if (rc)
		return hw_cli_fail(cmd->name, o.connect, rc);
	char shown[HW_LOG_ESCAPED_CHARS(sizeof r.why)]; /* the node's words */
	if (r.code != 0) {
		fprintf(stderr, "hawser %s: cannot list the loss (%s): %s\n", cmd->name,
			hw_errname(r.code), hw_log_escaped(r.why, shown, sizeof shown));
		return HW_CLI_ERROR;
	}
	if (!o.yes) {
		print_loss(&o, &r, false, 0);
		return HW_CLI_ERROR; /* nothing done: a script must not read this as promoted */
	}
	struct pr_reply a = {0};
	rc = ask(&o, true, r.from, r.to, &a);
	if (rc)
		return hw_cli_fail(cmd->name, o.connect, rc);
	print_loss(&o, &r, true, a.code);
	if (a.code != 0) {
		fprintf(stderr, "hawser %s: refused (%s): %s\n", cmd->name, hw_errname(a.code),
			hw_log_escaped(a.why, shown, sizeof shown));
		return HW_CLI_ERROR;
	}
	return HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_promote = {
	"promote", "promote a standby accepting a listed loss",
	HW_CLI_USAGE(
		"usage: hawser promote --connect STANDBY_ADDR --accept-loss [--yes] [--json]\n"
		"                      (--key FILE --peers LIST --cluster ID | --insecure)\n"
		"  When no standby can be elected without losing acknowledged records (the\n"
		"  witness refuses them: not_in_sync, no_info), promote the standby at\n"
		"  STANDBY_ADDR (its client port) anyway. It first prints the exact LSNs that\n"
		"  would be lost, as the witness computes them; without --yes nothing is done\n"
		"  (exit 1). With --yes the standby starts a forced election accepting that\n"
		"  range; the witness refuses if the loss grew since (list again). A standby\n"
		"  still bound by a live primary's lease refuses (HW_EBUSY): use `hawser\n"
		"  switchover` while a primary runs.\n"
		"  --json: durable_lsn, loss_from, loss_to and loss_records (loss_records 0 alone\n"
		"  when nothing is lost; loss_from alone when the witness knows no bound),\n"
		"  witness_knows, promoted, code: ok (exit 0) for a forced election started,\n"
		"  not_promoted without --yes (exit 1), else the refusal's HW_ name (exit "
		"1).\n" HW_CLI_SECURITY_USAGE),
	cmd_promote};
