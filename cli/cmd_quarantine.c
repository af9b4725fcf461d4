/* cmd_quarantine.c: `hawser quarantine export DIR OUT`: the records a rejoin set aside
 * (replica/rejoin.h), as JSON lines for the people who reconcile them with the TOS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "replica/rejoin.h"
#include "tos.pb-c.h"

static void hex_of(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

/* What of the record is easy to read without its payload's full schema: tenant, id and
 * the payload's name; the bytes follow in hex for a program. */
static void record_fields(struct hw_json *j, const struct hw_entry *e)
{
	Tos__V1__Record *r = tos__v1__record__unpack(NULL, e->record_len, e->record);
	if (r == NULL)
		return;
	char *id = malloc(2 * r->record_id.len + 1);
	if (id != NULL) {
		hex_of(r->record_id.data, r->record_id.len, id);
		hw_json_key(j, "record_id");
		hw_json_string(j, id);
		free(id);
	}
	hw_json_key(j, "tenant_id");
	hw_json_string(j, r->tenant_id);
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
		&tos__v1__record__descriptor, (unsigned)r->payload_case);
	hw_json_key(j, "payload");
	hw_json_string(j, f != NULL ? f->name : NULL);
	tos__v1__record__free_unpacked(r, NULL);
}

static int row_cb(void *arg, const struct hw_quarantined *q)
{
	FILE *out = arg;
	char iso[32];
	struct hw_json j;
	hw_json_init(&j, out);
	hw_json_object_begin(&j);
	hw_json_key(&j, "lsn");
	hw_json_uint(&j, q->lsn);
	hw_json_key(&j, "epoch");
	hw_json_uint(&j, q->entry.epoch);
	hw_json_key(&j, "time");
	hw_json_string(&j, hw_cli_iso(q->entry.time_ms, iso, sizeof iso));
	hw_json_key(&j, "quarantined");
	hw_json_string(&j, hw_cli_iso(q->quarantined_ms, iso, sizeof iso));
	hw_json_key(&j, "why");
	hw_json_string(&j, q->why);
	record_fields(&j, &q->entry);
	char *hex = malloc(2 * (size_t)q->entry.record_len + 1);
	if (hex == NULL)
		return HW_ENOMEM;
	hex_of(q->entry.record, q->entry.record_len, hex);
	hw_json_key(&j, "record_hex");
	hw_json_string(&j, hex);
	free(hex);
	hw_json_object_end(&j);
	return ferror(out) ? -EIO : 0;
}

static int cmd_quarantine(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {{0}};
	char *pos[3];
	int prc = hw_cli_parse(cmd, argc, argv, opts, NULL, NULL, pos, 3);
	if (prc != HW_CLI_RUN)
		return prc;
	if (strcmp(pos[0], "export") != 0)
		return hw_cli_usage_error(cmd, "unknown action '%s' (export)", pos[0]);
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(pos[1], &o, &s);
	if (rc != 0)
		return hw_cli_fail("quarantine", pos[1], rc);
	FILE *out = strcmp(pos[2], "-") == 0 ? stdout : fopen(pos[2], "w");
	if (out == NULL) {
		hw_store_close(s);
		return hw_cli_fail("quarantine", pos[2], -errno);
	}
	rc = hw_quarantine_each(s, row_cb, out);
	if (out != stdout && fclose(out) != 0 && rc == 0)
		rc = -EIO;
	hw_store_close(s);
	return rc == 0 ? HW_CLI_OK : hw_cli_fail("quarantine", "export", rc);
}

const struct hw_cli_cmd hw_cli_quarantine = {
	"quarantine", "export the records a rejoin set aside",
	"usage: hawser quarantine export DIR OUT\n"
	"  Write the records the store in DIR quarantined on rejoin (entries an old primary\n"
	"  took that the new primary never got) to OUT ('-': stdout), one JSON object a\n"
	"  line: lsn, epoch, time (the entry's, UTC), quarantined (when), why, record_id\n"
	"  (hex), tenant_id, payload (its kind) and record_hex (the tos.v1.Record bytes).\n"
	"  Opens the store read-only, so it works on a running node.\n",
	cmd_quarantine};
