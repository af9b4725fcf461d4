/* text.c: text for people and terminals (cli/cli.h): lines wrapped at 80 columns, times
 * in ISO 8601, digests in hex, byte counts, a node's predicted failover, a decoded
 * message's strings escaped, outside text for an audit event's detail. No state, no I/O but the
 * FILE it is handed: unit-tested (tests/unit/test_report.c). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "cli/cli.h"
#include "hawser_error.h"
#include "wire.pb-c.h"

void hw_cli_wrap(FILE *f, int hang, const char *line)
{
	size_t col = 0;
	bool fresh = true; /* nothing on this line yet but its indent */
	for (const char *s = line; *s != '\0';) {
		size_t sp = strspn(s, " "), w = strcspn(s + sp, " ");
		if (!fresh && col + sp + w > HW_CLI_COLUMNS) {
			fprintf(f, "\n%*s", hang, "");
			col = (size_t)hang;
			s += sp;
			sp = 0;
		}
		fprintf(f, "%.*s", (int)(sp + w), s);
		col += sp + w;
		s += sp + w;
		fresh = false;
	}
	fputc('\n', f);
}

const char *hw_cli_iso(int64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	if (frac < 0) {
		frac += 1000;
		t -= 1;
	}
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, cap, "%lld", (long long)ms);
		return buf;
	}
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03dZ", frac);
	return buf;
}

const char *hw_cli_hex(const uint8_t *hash, char *buf)
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < HW_HASH_BYTES; i++) {
		buf[2 * i] = digits[hash[i] >> 4];
		buf[2 * i + 1] = digits[hash[i] & 15];
	}
	buf[2 * HW_HASH_BYTES] = '\0';
	return buf;
}

const char *hw_cli_bytes(uint64_t bytes, char *buf, size_t cap)
{
	static const char *const unit[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(buf, cap, "%" PRIu64 " bytes", bytes);
		return buf;
	}
	double v = (double)bytes / 1024.0;
	size_t u = 0;
	for (; v >= 1024.0 && u + 1 < sizeof unit / sizeof unit[0]; u++)
		v /= 1024.0;
	snprintf(buf, cap, "%.1f %s", v, unit[u]);
	return buf;
}

const char *hw_cli_predicted(const Hawser__Wire__V1__FailoverStatus *f, bool terse, char *buf,
			     size_t cap)
{
	if (f->no_failover) /* the rto line says why: no time to predict */
		snprintf(buf, cap, "predicted failover: none, no failover can happen now");
	else
		snprintf(buf, cap,
			 "predicted failover %" PRId64 " ms = %s %" PRId64 " + %s %" PRId64
			 " + replay %" PRId64 " + resume %" PRId64,
			 f->failover_ms, terse ? "detect" : "detection", f->detection_ms,
			 terse ? "elect" : "election", f->election_ms, f->replay_ms, f->resume_ms);
	return buf;
}

const char *hw_cli_reject_shown(const struct hw_reject *r, char *buf, size_t cap)
{
	char field[HW_LOG_ESCAPED_CHARS(sizeof r->field)],
		rule[HW_LOG_ESCAPED_CHARS(sizeof r->rule)];
	snprintf(buf, cap, "%s: %s", hw_log_escaped(r->field, field, sizeof field),
		 hw_log_escaped(r->rule, rule, sizeof rule));
	return buf;
}

const char *hw_cli_event_text(const char *s, bool tail, char *buf, size_t cap)
{
	s = s ? s : "";
	size_t n = strlen(s);
	if (hw_log_escape_fit(s, buf, cap) == n || !tail)
		return buf;
	/* from its second character on, the first whose end fits after "..." (each byte of s
	 * takes one of buf at least: strlen first spares escaping ends that cannot fit) */
	char one[HW_LOG_ESCAPED_CHAR_MAX];
	const char *t = s;
	do
		t += hw_log_escape_char(t, one);
	while (strlen(t) > cap - 4 || hw_log_escape_fit(t, buf + 3, cap - 3) != strlen(t));
	memcpy(buf, "...", 3);
	return buf;
}

/* The string at *at escaped (hw_log_escaped) in place: replaced by a malloc'd copy when
 * escaping changes it, the one replaced freed (never a field's static default). */
static int string_shown(char **at, const void *default_value)
{
	if (*at == NULL)
		return 0;
	size_t len = strlen(*at);
	char *shown = malloc(HW_LOG_ESCAPED_CHARS(len));
	if (shown == NULL)
		return HW_ENOMEM;
	if (strcmp(hw_log_escaped(*at, shown, HW_LOG_ESCAPED_CHARS(len)), *at) == 0) {
		free(shown); /* nothing to escape: as it was */
		return 0;
	}
	if (*at != default_value)
		free(*at);
	*at = shown;
	return 0;
}

int hw_cli_message_shown(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	int rc = 0;
	for (unsigned i = 0; i < d->n_fields && rc == 0; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *base = (char *)m;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue; /* another member of its oneof is set: this one is not there */
		bool many = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t n = many ? *(const size_t *)(base + f->quantifier_offset) : 1;
		void *at = many ? *(void **)(base + f->offset) : base + f->offset;
		for (size_t k = 0; k < n && at != NULL && rc == 0; k++) {
			if (f->type == PROTOBUF_C_TYPE_STRING)
				rc = string_shown((char **)at + k, f->default_value);
			else if (f->type == PROTOBUF_C_TYPE_MESSAGE && ((void **)at)[k] != NULL)
				rc = hw_cli_message_shown(((ProtobufCMessage **)at)[k]);
		}
	}
	return rc;
}
