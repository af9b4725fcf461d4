/* cmd_audit.c: `hawser audit`: the node events in a store's log (replica/audit.h), and
 * the key files the commands that sign or check checkpoints read. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/json.h"
#include "engine/io/channel.h"
#include "replica/audit.h"
#include "replica/checkpoint.h"
#include "replica/store.h"

/* ---- key files */

int hw_cli_load_signer(const char *key_file, const char *node_id, struct hw_signer *out)
{
	struct hw_identity id;
	if (strlen(node_id) == 0 || strlen(node_id) > HW_SIGNER_ID_MAX)
		return HW_ERANGE;
	int rc = hw_identity_load(key_file, &id);
	if (rc != 0)
		return rc;
	memset(out, 0, sizeof *out);
	memcpy(out->node_id, node_id, strlen(node_id));
	memcpy(out->pk, id.sign_pk, HW_SIGN_PK_BYTES);
	memcpy(out->sk, id.sign_sk, HW_SIGN_SK_BYTES);
	hw_identity_wipe(&id);
	return 0;
}

/* node.pub is small: a larger file is not one. */
#define PUB_FILE_BYTES_MAX 4096

int hw_cli_load_sign_pub(const char *pub_file, uint8_t pk[HW_SIGN_PK_BYTES])
{
	char text[PUB_FILE_BYTES_MAX + 1];
	int fd = open(pub_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, text, sizeof text);
	int rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc != 0)
		return rc;
	if (n > PUB_FILE_BYTES_MAX)
		return HW_ECONFIG;
	text[n] = '\0';
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		size_t bin_len;
		const char *end;
		if (strncmp(line, "sign ", 5) != 0)
			continue;
		if (strlen(line + 5) != 2 * HW_SIGN_PK_BYTES ||
		    sodium_hex2bin(pk, HW_SIGN_PK_BYTES, line + 5, 2 * HW_SIGN_PK_BYTES, NULL,
				   &bin_len, &end) != 0 ||
		    bin_len != HW_SIGN_PK_BYTES)
			return HW_ECONFIG;
		return 0;
	}
	return HW_ECONFIG; /* no sign line: not a node.pub */
}

int hw_cli_trust_add(struct hw_cli_trust *t, const char *file)
{
	if (t->count == HW_VERIFY_TRUST_MAX)
		return -1;
	int rc = hw_cli_load_sign_pub(file, t->keys + t->count * HW_SIGN_PK_BYTES);
	if (rc != 0 && t->bad_file == NULL) {
		t->bad_file = file;
		t->bad_rc = rc;
	}
	t->count += rc == 0;
	return 0;
}

int hw_cli_trust_fail(const char *cmd, const struct hw_cli_trust *t)
{
	return hw_cli_fail_why(cmd, t->bad_file, t->bad_rc,
			       t->bad_rc == HW_ECONFIG ? "not a node.pub with a sign line" : NULL);
}

bool hw_cli_trusted(const struct hw_cli_trust *t, const uint8_t *pk)
{
	for (size_t i = 0; i < t->count; i++)
		if (memcmp(t->keys + i * HW_SIGN_PK_BYTES, pk, HW_SIGN_PK_BYTES) == 0)
			return true;
	return false;
}

/* ---- audit */

struct audit_opts {
	int64_t since_ms;
	bool json;
};

static int audit_opt_cb(void *arg, int key, const char *v)
{
	struct audit_opts *o = arg;
	if (key == 's')
		return hw_cli_time_ms(v, &o->since_ms);
	if (key == 'j') {
		o->json = true;
		return 0;
	}
	return -1;
}

static void print_json(const struct hw_entry *e, const Tos__V1__Record *rec)
{
	const Tos__V1__NodeEvent *ev = rec->node_event;
	char when[40], hex[2 * HW_HASH_BYTES + 1];
	struct hw_json j;
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_kv_string(&j, "time", hw_cli_iso(e->time_ms, when, sizeof when));
	hw_json_kv_int(&j, "time_ms", e->time_ms);
	hw_json_kv_int(&j, "event_time_ms", rec->event_time_ms);
	hw_json_kv_uint(&j, "lsn", e->lsn);
	hw_json_kv_string(&j, "kind", hw_node_event_name(ev->kind));
	hw_json_kv_string(&j, "node", ev->node_id);
	hw_json_kv_uint(&j, "epoch", ev->epoch);
	hw_json_kv_string(&j, "peer_addr", ev->peer_addr);
	hw_json_kv_string(&j, "peer_key",
			  ev->peer_key.len == 32 ? hw_cli_hex(ev->peer_key.data, hex) : "");
	hw_json_kv_string(&j, "config_sha",
			  ev->config_sha.len == 32 ? hw_cli_hex(ev->config_sha.data, hex) : "");
	hw_json_kv_string(&j, "detail", ev->detail);
	hw_json_object_end(&j);
}

static void print_text(const struct hw_entry *e, const Tos__V1__Record *rec)
{
	const Tos__V1__NodeEvent *ev = rec->node_event;
	char when[40], hex[2 * HW_HASH_BYTES + 1];
	/* the log's words, a primary's, which a standby stores unchecked (its live append),
	 * may hold a newline or ESC; a node's own event holds no more than free text does
	 * (replica/validate.c), a longer one is cut (--json has it whole) */
	char shown[HW_LOG_ESCAPED_CHARS(HW_TEXT_BYTES_MAX)];
	printf("%s lsn=%" PRIu64 " %s node=%s epoch=%" PRIu64,
	       hw_cli_iso(e->time_ms, when, sizeof when), e->lsn, hw_node_event_name(ev->kind),
	       hw_log_escaped(ev->node_id, shown, sizeof shown), ev->epoch);
	if (ev->peer_addr != NULL && ev->peer_addr[0] != '\0')
		printf(" peer=%s", hw_log_escaped(ev->peer_addr, shown, sizeof shown));
	if (ev->peer_key.len == 32)
		printf(" key=%.16s", hw_cli_hex(ev->peer_key.data, hex));
	if (ev->config_sha.len == 32)
		printf(" config=%.16s", hw_cli_hex(ev->config_sha.data, hex));
	/* held by a standby until it was primary: when it happened */
	if (e->time_ms - rec->event_time_ms >= 1000)
		printf(" happened=%s", hw_cli_iso(rec->event_time_ms, when, sizeof when));
	if (ev->detail != NULL && ev->detail[0] != '\0')
		printf(" %s", hw_log_escaped(ev->detail, shown, sizeof shown));
	putchar('\n');
}

static int audit_cb(void *arg, const struct hw_entry *e, const Tos__V1__Record *rec)
{
	const struct audit_opts *o = arg;
	if (rec->payload_case != TOS__V1__RECORD__PAYLOAD_NODE_EVENT)
		return 0; /* checkpoints: hawser verify */
	if (o->json)
		print_json(e, rec);
	else
		print_text(e, rec);
	return 0;
}

static int cmd_audit(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"since", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'}, {0}};
	struct audit_opts o = {0};
	char *dir;
	int rc = hw_cli_parse(cmd, argc, argv, opts, audit_opt_cb, &o, &dir, 1);
	if (rc != HW_CLI_RUN)
		return rc;
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	rc = hw_store_open(dir, &so, &s);
	if (rc)
		return hw_cli_fail(cmd->name, dir, rc);
	rc = hw_audit_walk(s, o.since_ms, audit_cb, &o);
	hw_store_close(s);
	fflush(stdout);
	return rc ? hw_cli_fail(cmd->name, dir, rc) : HW_CLI_OK;
}

const struct hw_cli_cmd hw_cli_audit = {
	"audit", "list a store's node events: promotions, switchovers, refusals ...",
	HW_CLI_USAGE(
		"usage: hawser audit DIR [--since T] [--json]\n"
		"  List the node events the primaries appended to the log (docs/security.md\n"
		"  \"Audit trail\"), oldest first, one line each: time, LSN, kind, node, epoch,\n"
		"  details.\n"
		"  They are replicated, so every node's store shows the same list up to its head.\n"
		"  Works on a live store (read-only). --since T: events at or after T (integer ms\n"
		"  or ISO 8601 UTC). --json: one JSON object per line {time, time_ms,\n"
		"  event_time_ms, lsn, kind, node, epoch, peer_addr, peer_key, config_sha,\n"
		"  detail}: time is when the event was appended, event_time_ms when it happened\n"
		"  (earlier for one a standby held until it was primary; the text shows it as\n"
		"  happened=). key= is the fingerprint of\n"
		"  the peer's or operator's key. Checkpoints are checked by hawser verify.\n"),
	cmd_audit};
