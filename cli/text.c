/* text.c: text for people and terminals (cli/cli.h): lines wrapped at 80 columns, times
 * in ISO 8601, digests in hex, byte counts, a node's predicted failover. No state, no
 * I/O but the FILE it is handed: unit-tested (tests/unit/test_report.c). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/utf8.h"
#include "cli/cli.h"
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
