/* cmd_quarantine.c: `hawser quarantine export DIR OUT`: the records a rejoin set aside
 * (replica/rejoin.h), as JSON lines for the people who reconcile them with the TOS; with
 * --connect, the export goes into that node's audit trail. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "replica/rejoin.h"
#include "tos.pb-c.h"

/* How long the node at --connect has to answer. */
#define TELL_WAIT_MS 5000

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
		hw_json_kv_string(j, "record_id", id);
		free(id);
	}
	hw_json_kv_string(j, "tenant_id", r->tenant_id);
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
		&tos__v1__record__descriptor, (unsigned)r->payload_case);
	hw_json_kv_string(j, "payload", f != NULL ? f->name : NULL);
	tos__v1__record__free_unpacked(r, NULL);
}

/* Where the rows go, and how many went. */
struct sink {
	FILE *out;
	uint64_t rows;
};

static int row_cb(void *arg, const struct hw_quarantined *q)
{
	struct sink *sk = arg;
	FILE *out = sk->out;
	sk->rows++;
	char iso[32];
	struct hw_json j;
	hw_json_init(&j, out);
	hw_json_object_begin(&j);
	hw_json_kv_uint(&j, "lsn", q->lsn);
	hw_json_kv_uint(&j, "epoch", q->entry.epoch);
	hw_json_kv_uint(&j, "rejoin", q->rejoin);
	hw_json_kv_string(&j, "time", hw_cli_iso(q->entry.time_ms, iso, sizeof iso));
	hw_json_kv_string(&j, "quarantined", hw_cli_iso(q->quarantined_ms, iso, sizeof iso));
	hw_json_kv_string(&j, "why", q->why);
	record_fields(&j, &q->entry);
	char *hex = malloc(2 * (size_t)q->entry.record_len + 1);
	if (hex == NULL)
		return HW_ENOMEM;
	hex_of(q->entry.record, q->entry.record_len, hex);
	hw_json_kv_string(&j, "record_hex", hex);
	free(hex);
	hw_json_object_end(&j);
	return ferror(out) ? -EIO : 0;
}

struct q_opts {
	const char *connect; /* the node to tell (--connect), NULL: none */
	struct hw_client_security sec;
};

static int opt_cb(void *arg, int key, const char *v)
{
	struct q_opts *o = arg;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	if (key != 'c')
		return -1;
	o->connect = v;
	return hw_cli_addrs(v);
}

/* The most of the store's path an export event keeps, "..." and its end (where a store
 * is names it, as a restore event's paths): the rest of its 200 bytes takes 55 at most. */
#define EVENT_DIR_CHARS 145

/* The export in the audit trail of the node at o->connect (docs/security.md "Audit
 * trail"), as the operator whose key the channel shows; the path escaped
 * (hw_cli_event_text), as a node with a key takes it. */
static int tell_node(const struct q_opts *o, const char *dir, uint64_t rows)
{
	char detail[201], from[EVENT_DIR_CHARS + 1];
	snprintf(detail, sizeof detail, "quarantine export of %llu records from %s",
		 (unsigned long long)rows, hw_cli_event_text(dir, true, from, sizeof from));
	struct hw_client *c;
	int rc = hw_client_connect_secure(o->connect, &o->sec, &c);
	if (rc == 0) {
		rc = hw_client_operator_event(c, TOS__V1__NODE_EVENT_KIND__EXPORT, detail,
					      TELL_WAIT_MS);
		hw_client_close(c);
	}
	return rc;
}

/* OUT: '-' or a name of this process's own stdout (/dev/stdout, /proc/self/fd/1, whatever
 * the shell redirected it to, a regular file too) is stdout, and an existing file that is
 * no regular one (a FIFO) is written as a stream; else a regular file made new by this
 * export (*made), so an existing one (a config given by a slip, an earlier export) is
 * never cut short. NULL with errno. */
static FILE *open_out(const char *path, bool *made)
{
	struct stat st, out;
	*made = false;
	if (strcmp(path, "-") == 0)
		return stdout;
	bool exists = stat(path, &st) == 0;
	if (exists && fstat(STDOUT_FILENO, &out) == 0 && st.st_dev == out.st_dev &&
	    st.st_ino == out.st_ino)
		return stdout;
	if (exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return fopen(path, "we");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		int e = errno;
		close(fd);
		unlink(path);
		errno = e;
	}
	*made = f != NULL;
	return f;
}

static int cmd_quarantine(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"connect", required_argument, NULL, 'c'}, HW_CLI_SECURITY_OPTIONS, {0}};
	struct q_opts qo = {0};
	char *pos[3];
	int prc = hw_cli_parse(cmd, argc, argv, opts, opt_cb, &qo, pos, 3);
	if (prc == HW_CLI_RUN)
		prc = hw_cli_security_check_optional(cmd, qo.connect, &qo.sec);
	if (prc != HW_CLI_RUN)
		return prc;
	if (strcmp(pos[0], "export") != 0)
		return hw_cli_usage_error(cmd, "unknown action '%s' (export)", pos[0]);
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	int rc = hw_store_open(pos[1], &o, &s);
	if (rc != 0)
		return hw_cli_fail("quarantine", pos[1], rc);
	bool made;
	struct sink sk = {.out = open_out(pos[2], &made)};
	if (sk.out == NULL) {
		rc = -errno;
		hw_store_close(s);
		return hw_cli_fail("quarantine", pos[2], rc);
	}
	rc = hw_quarantine_each(s, row_cb, &sk);
	if (made && (fflush(sk.out) != 0 || fsync(fileno(sk.out)) != 0) && rc == 0)
		rc = -errno;
	if (sk.out != stdout && fclose(sk.out) != 0 && rc == 0)
		rc = -errno;
	hw_store_close(s);
	if (rc != 0 && made)
		unlink(pos[2]); /* half an export reads as a whole one */
	if (rc != 0)
		return hw_cli_fail("quarantine", "export", rc);
	rc = qo.connect != NULL ? tell_node(&qo, pos[1], sk.rows) : 0;
	return rc == 0 ? HW_CLI_OK : hw_cli_fail("quarantine", qo.connect, rc);
}

const struct hw_cli_cmd hw_cli_quarantine = {
	"quarantine", "export the records a rejoin set aside",
	HW_CLI_USAGE(
		"usage: hawser quarantine export DIR OUT [--connect ADDR (--key FILE --peers LIST\n"
		"                                         --cluster ID | --insecure)]\n"
		"  Write the records the store in DIR quarantined on rejoin (entries an old\n"
		"  primary took that the new primary never got) to OUT, one JSON object a line,\n"
		"  by rejoin then LSN: lsn, epoch, rejoin (1 for the store's first rewind, 2 for\n"
		"  the next: one LSN may be in several), time (the entry's, UTC), quarantined\n"
		"  (when), why, record_id (hex), tenant_id, payload (its kind) and record_hex\n"
		"  (the tos.v1.Record bytes). OUT is a new file: an existing one is refused\n"
		"  (EEXIST) and left as it is, and one an error cut short is removed; '-' is\n"
		"  stdout, as is an OUT that names it (/dev/stdout, /proc/self/fd/1, also when a\n"
		"  redirect made it a regular file), and an existing OUT that is no regular file\n"
		"  (a FIFO) is written to.\n"
		"  Opens the store read-only, so it works on a running node; in a store written\n"
		"  before quarantine keys carried the rewind (format 2) every row is listed as\n"
		"  rewind 1 (its node's next start migrates the keys to say so).\n"
		"  --connect ADDR: then tell the node at ADDR (its client port), which records a\n"
		"  quarantine export event with this command's key in its audit trail (hawser\n"
		"  audit); exit 1 when it does not (the file is written).\n"
		"  With --connect:\n" HW_CLI_SECURITY_USAGE),
	cmd_quarantine};
