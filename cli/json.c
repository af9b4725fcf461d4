/* json.c: the CLI's JSON writer (json.h). */
#include "cli/json.h"

#include <inttypes.h>
#include <math.h>

#include "base/assert.h"
#include "base/utf8.h"

void hw_json_init(struct hw_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->after_key = false;
	for (int i = 0; i < HW_JSON_DEPTH_MAX; i++)
		j->has_items[i] = false;
}

/* Every value and key goes through here: a comma before all but the first item of a
 * level, none between a key and its value. */
static void item(struct hw_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0) {
		if (j->has_items[j->depth - 1])
			fputc(',', j->f);
		j->has_items[j->depth - 1] = true;
	}
}

static void open_level(struct hw_json *j, char c)
{
	item(j);
	HW_ASSERT(j->depth < HW_JSON_DEPTH_MAX);
	fputc(c, j->f);
	j->has_items[j->depth] = false;
	j->depth++;
}

static void close_level(struct hw_json *j, char c)
{
	HW_ASSERT(j->depth > 0);
	j->depth--;
	fputc(c, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void hw_json_object_begin(struct hw_json *j)
{
	open_level(j, '{');
}

void hw_json_object_end(struct hw_json *j)
{
	close_level(j, '}');
}

void hw_json_array_begin(struct hw_json *j)
{
	open_level(j, '[');
}

void hw_json_array_end(struct hw_json *j)
{
	close_level(j, ']');
}

/* Write the character at p (not ASCII) to f: a valid sequence as it is, else its first
 * byte, which would make no JSON (a path's raw bytes, a message cut short), as the four
 * characters \xNN (JSON "\\xNN"), as the terminal and the HTML page show it (base/log.h
 * hw_log_escape_char). Returns how many bytes of p it stands for (1 to 4). */
static size_t utf8_put(FILE *f, const unsigned char *p)
{
	unsigned long cp;
	size_t n = hw_utf8_decode(p, &cp);
	if (n == 0) {
		fprintf(f, "\\\\x%02x", *p);
		return 1;
	}
	fwrite(p, 1, n, f);
	return n;
}

static void quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (*p < 0x80)
			fputc(*p, f);
		else
			p += utf8_put(f, p) - 1;
	}
	fputc('"', f);
}

void hw_json_key(struct hw_json *j, const char *key)
{
	item(j);
	quoted(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void hw_json_string(struct hw_json *j, const char *s)
{
	item(j);
	if (s)
		quoted(j->f, s);
	else
		fputs("null", j->f);
}

void hw_json_int(struct hw_json *j, int64_t v)
{
	item(j);
	fprintf(j->f, "%" PRId64, v);
}

void hw_json_uint(struct hw_json *j, uint64_t v)
{
	item(j);
	fprintf(j->f, "%" PRIu64, v);
}

void hw_json_double(struct hw_json *j, double v)
{
	item(j);
	if (!isfinite(v)) {
		fputs("null", j->f);
		return;
	}
	if (v == floor(v) && fabs(v) < 0x1p53) { /* whole, every digit: 9756672.0 */
		fprintf(j->f, "%.1f", v);
		return;
	}
	/* 15 significant digits, as many as a double always holds: a fixed count of decimals
	 * would write a small fraction (a restore's share of its RTO) as 0.000001 or 0, and
	 * 17 would show the noise of a computed 771 ms as 770.9999999999999 */
	fprintf(j->f, "%.15g", v);
}

void hw_json_bool(struct hw_json *j, bool v)
{
	item(j);
	fputs(v ? "true" : "false", j->f);
}

void hw_json_kv_string(struct hw_json *j, const char *key, const char *s)
{
	hw_json_key(j, key);
	hw_json_string(j, s);
}

void hw_json_kv_int(struct hw_json *j, const char *key, int64_t v)
{
	hw_json_key(j, key);
	hw_json_int(j, v);
}

void hw_json_kv_uint(struct hw_json *j, const char *key, uint64_t v)
{
	hw_json_key(j, key);
	hw_json_uint(j, v);
}

void hw_json_kv_double(struct hw_json *j, const char *key, double v)
{
	hw_json_key(j, key);
	hw_json_double(j, v);
}

void hw_json_kv_bool(struct hw_json *j, const char *key, bool v)
{
	hw_json_key(j, key);
	hw_json_bool(j, v);
}
