/* log.c: structured key=value logging (base/log.h).
 *
 * The format is walked here, one conversion at a time, so that every string value is
 * escaped on its way into the line: a peer's cluster id or an operator's detail text
 * can never end a line early or forge a key. Numbers cannot carry such characters and
 * go through snprintf as they are. */
#include "base/log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "base/utf8.h"
#include "hawser_error.h"

/* One log line; longer ones are cut (the line still ends in a newline). */
#define LINE_BYTES_MAX 1024
/* One conversion spec ("%-*.*llu" with its numbers written in). */
#define SPEC_BYTES_MAX 32

static char log_node[48] = "-";

struct line {
	char buf[LINE_BYTES_MAX];
	size_t len; /* < LINE_BYTES_MAX - 1: room for the newline */
};

static void put(struct line *l, const char *s, size_t n)
{
	size_t room = sizeof l->buf - 1 - l->len;
	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* A value that would not read back as one bare token, or that escaping changes: it needs
 * quotes. */
static bool needs_quotes(const char *s)
{
	char one[HW_LOG_ESCAPED_CHAR_MAX];
	for (const char *p = s; *p != '\0';) {
		size_t n = hw_log_escape_char(p, one);
		if (*p == ' ' || *p == '=' || strlen(one) != n || memcmp(one, p, n) != 0)
			return true;
		p += n;
	}
	return false;
}

_Static_assert(HW_LOG_ESCAPED_CHARS(2) >= HW_LOG_ESCAPED_CHAR_MAX, "a C1 control's escape");
size_t hw_log_escape_char(const char *p, char one[HW_LOG_ESCAPED_CHAR_MAX])
{
	static const char named[] = "\n\r\t\"\\", as[] = "nrt\"\\";
	const unsigned char *u = (const unsigned char *)p;
	unsigned long cp;
	size_t n = hw_utf8_decode(u, &cp);
	const char *at = n == 1 ? strchr(named, *p) : NULL;
	if (at != NULL) {
		snprintf(one, HW_LOG_ESCAPED_CHAR_MAX, "\\%c", as[at - named]);
	} else if (n == 0 || cp < ' ' || (cp >= 0x7f && cp <= 0x9f)) {
		n = n ? n : 1; /* a control character's bytes, or the one byte that is not UTF-8 */
		for (size_t k = 0; k < n; k++)
			snprintf(one + 4 * k, HW_LOG_ESCAPED_CHAR_MAX - 4 * k, "\\x%02x", u[k]);
	} else {
		memcpy(one, p, n);
		one[n] = '\0';
	}
	return n;
}

/* Put s escaped (hw_log_escape_char). */
static void put_escaped(struct line *l, const char *s)
{
	char one[HW_LOG_ESCAPED_CHAR_MAX];
	for (const char *p = s; *p != '\0';) {
		p += hw_log_escape_char(p, one);
		put(l, one, strlen(one));
	}
}

size_t hw_log_escape_fit(const char *s, char *buf, size_t cap)
{
	char one[HW_LOG_ESCAPED_CHAR_MAX];
	size_t used = 0, took = 0;
	buf[0] = '\0';
	for (s = s ? s : ""; s[took] != '\0';) {
		size_t n = hw_log_escape_char(s + took, one), len = strlen(one);
		if (used + len >= cap)
			break; /* cut at an escape's end or a character's */
		memcpy(buf + used, one, len + 1);
		used += len;
		took += n;
	}
	return took;
}

const char *hw_log_escaped(const char *s, char *buf, size_t cap)
{
	hw_log_escape_fit(s, buf, cap);
	return buf;
}

/* A string value: inside the caller's quotes it is escaped; bare, it is quoted when it
 * would not read back as one token. */
static void put_value(struct line *l, const char *v, bool in_quotes)
{
	if (in_quotes) {
		put_escaped(l, v);
	} else if (needs_quotes(v)) {
		put(l, "\"", 1);
		put_escaped(l, v);
		put(l, "\"", 1);
	} else {
		put(l, v, strlen(v));
	}
}

/* Copy one conversion spec starting at fmt ('%') into spec, writing the values of '*'
 * width and precision in; returns the length of the spec in fmt, 0 when it is too long
 * (hw_log's format attribute has the compiler check the rest). */
static size_t take_spec(const char *fmt, char spec[SPEC_BYTES_MAX], va_list *ap)
{
	size_t i = 1, o = 1;
	spec[0] = '%';
	while (fmt[i] != '\0' && o < SPEC_BYTES_MAX - 12) {
		char c = fmt[i++];
		if (c == '*')
			o += (size_t)snprintf(spec + o, SPEC_BYTES_MAX - o, "%d", va_arg(*ap, int));
		else
			spec[o++] = c;
		if (strchr("diouxXeEfFgGaAcspn%", c) != NULL) {
			spec[o] = '\0';
			return i;
		}
	}
	return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* Format one integer or floating conversion (spec ends in its conversion letter) with
 * the argument type its length modifier names. */
static void put_number(struct line *l, const char *spec, va_list *ap)
{
	char tmp[128];
	size_t n = strlen(spec);
	char conv = spec[n - 1];
	char len1 = n >= 2 ? spec[n - 2] : 0, len2 = n >= 3 ? spec[n - 3] : 0;
	bool is_signed = conv == 'd' || conv == 'i';
	int w;
	if (strchr("eEfFgGaA", conv) != NULL)
		w = len1 == 'L' ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, long double))
				: snprintf(tmp, sizeof tmp, spec, va_arg(*ap, double));
	else if (conv == 'p')
		w = snprintf(tmp, sizeof tmp, spec, va_arg(*ap, void *));
	else if (len1 == 'l' && len2 == 'l')
		w = is_signed ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, long long))
			      : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, unsigned long long));
	else if (len1 == 'l')
		w = is_signed ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, long))
			      : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, unsigned long));
	else if (len1 == 'z')
		w = is_signed ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, ssize_t))
			      : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, size_t));
	else if (len1 == 'j')
		w = is_signed ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, intmax_t))
			      : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, uintmax_t));
	else if (len1 == 't')
		w = snprintf(tmp, sizeof tmp, spec, va_arg(*ap, ptrdiff_t));
	else /* int and what promotes to it: hh, h, none */
		w = is_signed ? snprintf(tmp, sizeof tmp, spec, va_arg(*ap, int))
			      : snprintf(tmp, sizeof tmp, spec, va_arg(*ap, unsigned));
	if (w > 0)
		put(l, tmp, (size_t)w < sizeof tmp ? (size_t)w : sizeof tmp - 1);
}

/* One conversion; false when the line cannot go on (an unknown or %n conversion). */
static bool put_conversion(struct line *l, const char *spec, bool in_quotes, va_list *ap)
{
	char tmp[LINE_BYTES_MAX];
	char conv = spec[strlen(spec) - 1];
	if (conv == '%') {
		put(l, "%", 1);
	} else if (conv == 's') {
		const char *v = va_arg(*ap, const char *);
		snprintf(tmp, sizeof tmp, spec, v != NULL ? v : "(null)");
		put_value(l, tmp, in_quotes);
	} else if (conv == 'c') {
		snprintf(tmp, sizeof tmp, spec, va_arg(*ap, int));
		put_value(l, tmp, in_quotes);
	} else if (conv == 'n') {
		return false;
	} else {
		put_number(l, spec, ap);
	}
	return true;
}
#pragma GCC diagnostic pop

/* Format fmt into l; a literal '"' in fmt opens or closes the caller's quotes. */
static void format(struct line *l, const char *fmt, va_list *ap)
{
	bool in_quotes = false;
	while (*fmt != '\0') {
		size_t lit = strcspn(fmt, "%\"");
		put(l, fmt, lit);
		fmt += lit;
		if (*fmt == '"') {
			in_quotes = !in_quotes;
			put(l, "\"", 1);
			fmt++;
			continue;
		}
		if (*fmt == '\0')
			return;
		char spec[SPEC_BYTES_MAX];
		size_t used = take_spec(fmt, spec, ap);
		if (used == 0 || !put_conversion(l, spec, in_quotes, ap))
			return;
		fmt += used;
	}
}

void hw_log_node(const char *node_id)
{
	snprintf(log_node, sizeof log_node, "%s", node_id ? node_id : "-");
}

static const char *log_command; /* hw_log_command */

void hw_log_command(const char *cmd)
{
	log_command = cmd;
}

void hw_log_error(const char *what, int code, const char *why)
{
	hw_log_error_of(log_command, what, code, why);
}

void hw_log_error_of(const char *cmd, const char *what, int code, const char *why)
{
	bool reason = why != NULL && why[0] != '\0';
	/* a path, or a config's value, in them may hold a newline or ESC: escaped */
	char shown[2][HW_LOG_ESCAPED_CHARS(PATH_MAX)];
	fprintf(stderr, "hawser%s%s: %s: %s (%s)%s%s\n", cmd ? " " : "", cmd ? cmd : "",
		hw_log_escaped(what, shown[0], sizeof shown[0]), hw_strerror(code),
		hw_errname(code), reason ? ": " : "",
		hw_log_escaped(reason ? why : "", shown[1], sizeof shown[1]));
}

void hw_log_start_failed(int code, const struct hw_start_at *at)
{
	if (at->key != NULL)
		hw_log("start_failed", "code=%s what=\"%s\" key=%s value=%s", hw_errname(code),
		       hw_strerror(code), at->key, at->value);
	else
		hw_log("start_failed", "code=%s what=\"%s\"", hw_errname(code), hw_strerror(code));
}

/* Start l with the line's head: "t=... node=... event=EVENT ". */
static void put_head(struct line *l, const char *event)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char head[64];
	int n = snprintf(head, sizeof head,
			 "t=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ node=", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000);
	put(l, head, n > 0 ? (size_t)n : 0);
	put_value(l, log_node, false);
	put(l, " event=", 7);
	put_value(l, event, false);
	put(l, " ", 1);
}

/* Write l to stderr, ended by its newline; a line cut at its length ends at a character's
 * end, so it stays UTF-8. */
static void write_line(struct line *l)
{
	l->buf[l->len] = '\0';
	hw_utf8_trim(l->buf);
	l->len = strlen(l->buf);
	l->buf[l->len++] = '\n';
	ssize_t w = write(STDERR_FILENO, l->buf, l->len);
	(void)w;
}

void hw_log(const char *event, const char *fmt, ...)
{
	struct line l = {.len = 0};
	put_head(&l, event);
	va_list ap;
	va_start(ap, fmt);
	format(&l, fmt, &ap);
	va_end(ap);
	write_line(&l);
}

void hw_log_every_flush(struct hw_log_every *e, const char *event, int64_t now_ms, int64_t every_ms)
{
	if (e->full == 0 || now_ms - e->from_ms < every_ms)
		return;
	if (e->more > 0) {
		struct line l = {.len = 0};
		put_head(&l, event);
		put(&l, "peer=* ", 7);
		if (e->what != NULL) { /* key=value pairs already: not one value to quote */
			put(&l, e->what, strlen(e->what));
			put(&l, " ", 1);
		}
		char tail[64];
		int n = snprintf(tail, sizeof tail, "more=%u in_ms=%lld", e->more,
				 (long long)(now_ms - e->from_ms));
		put(&l, tail, n > 0 ? (size_t)n : 0);
		write_line(&l);
	}
	e->full = 0;
	e->more = 0;
}

bool hw_log_every(struct hw_log_every *e, const char *event, int64_t now_ms, int64_t every_ms,
		  uint32_t lines)
{
	hw_log_every_flush(e, event, now_ms, every_ms);
	if (e->full >= lines) {
		e->more++;
		return false;
	}
	if (e->full++ == 0)
		e->from_ms = now_ms;
	return true;
}

/* ---- reading lines back ------------------------------------------------------------ */

/* Where a bare value or a key without a value ends; a newline also ends the line. */
#define TOKEN_END " \n\r"
#define BLANKS    " \r"

/* The end of the value at v: past its closing quote when quoted (escapes skipped, as
 * put_escaped wrote them), else at the next space or the line's end. */
static const char *value_end(const char *v)
{
	if (*v != '"')
		return v + strcspn(v, TOKEN_END);
	for (v++; *v != '\0' && *v != '\n' && *v != '"'; v++)
		if (*v == '\\' && v[1] != '\0' && v[1] != '\n')
			v++;
	return *v == '"' ? v + 1 : v;
}

/* The value of key in line (*len bytes from the return), or NULL. The line is walked
 * pair by pair, so text inside a quoted value is never taken for a key, and only up to
 * its newline: a buffer of several lines yields the first line's value or none. */
static const char *find_value(const char *line, const char *key, size_t *len)
{
	size_t key_len = strlen(key);
	const char *p = line + strspn(line, BLANKS);
	while (*p != '\0' && *p != '\n') {
		size_t name = strcspn(p, "=" TOKEN_END);
		const char *end = p + name;
		if (*end == '=') {
			end = value_end(p + name + 1);
			if (name == key_len && memcmp(p, key, key_len) == 0) {
				*len = (size_t)(end - (p + name + 1));
				return p + name + 1;
			}
		}
		p = end + strspn(end, BLANKS);
	}
	return NULL;
}

int64_t hw_log_field(const char *line, const char *key, int64_t missing)
{
	size_t len;
	const char *v = find_value(line, key, &len);
	if (v == NULL || len == 0)
		return missing;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	return end == v + len && errno == 0 ? (int64_t)n : missing;
}

int64_t hw_log_line_ms(const char *line)
{
	char stamp[32];
	size_t len;
	const char *v = find_value(line, "t", &len);
	int64_t ms;
	if (v == NULL || len >= sizeof stamp)
		return -1;
	memcpy(stamp, v, len);
	stamp[len] = '\0';
	return hw_log_time_ms(stamp, &ms) == 0 ? ms : -1;
}

int hw_log_time_ms(const char *s, int64_t *ms)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd"; /* d: a digit; exactly these widths */
	for (size_t i = 0; i + 1 < sizeof shape; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return -EINVAL;
	struct tm tm = {0};
	int frac = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
		return -EINVAL;
	const char *p = s + used;
	if (*p == '.') {
		int d = 0;
		for (p++; *p >= '0' && *p <= '9' && d < 3; p++, d++)
			frac = frac * 10 + (*p - '0');
		for (; d < 3; d++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int mday = tm.tm_mday, mon = tm.tm_mon;
	time_t t = timegm(&tm);
	/* timegm moves a day the month does not have (November 31st) into the next month */
	if (t == (time_t)-1 || tm.tm_mday != mday || tm.tm_mon != mon)
		return -EINVAL;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}
