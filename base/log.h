/* log.h: structured logs: one line per event on stderr, key=value pairs, so an operator
 * can grep them and a script (or hw_log_field, below) can parse them:
 *
 *   t=2026-11-26T10:12:44.123Z node=p1 event=peer_connected peer=s1 lsn=1200
 *
 * Every string value (%s, %c) is escaped here, so a value from a peer or an operator
 * cannot end the line or forge a key: inside quotes of the format ("\"%s\"", for text)
 * '"', '\\', control characters and bytes that are not UTF-8 are escaped (\", \\, \n,
 * \r, \t, \xNN: hw_log_escaped); a bare value (key=%s, for tokens) that contains any of
 * them, a space or '=' is quoted and escaped the same way. Numbers go as formatted. The
 * node id and event are treated as values. %n is not supported (the line ends there). A
 * line longer than 1,023 bytes is cut, at the end of a character. Any thread: each line
 * is one write(2). */
#ifndef HW_BASE_LOG_H
#define HW_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Name every line of this process carries after t= (the node id); NULL clears. */
void hw_log_node(const char *node_id);

/* The command this process runs, which operator messages name after "hawser"
 * (hw_log_error): `hawser node` sets "node"; NULL (the default, as in a program that
 * embeds hawser) names none. Set before other threads run. */
void hw_log_command(const char *cmd);

/* An error for the operator rather than an event, in the form every hawser command's
 * errors take (cli/cli.h hw_cli_fail_why): "hawser CMD: WHAT: <hw_strerror(code)>
 * (<hw_errname(code)>): WHY\n" on stderr, CMD as hw_log_command set it ("hawser: WHAT
 * ..." with none), ": WHY" left out when why is NULL or empty, WHAT and WHY escaped
 * (hw_log_escaped: a path or a config value in them may hold a newline or ESC), each
 * whole up to a path of PATH_MAX bytes. Any thread. */
void hw_log_error(const char *what, int code, const char *why);

/* hw_log_error naming command cmd (NULL: none) instead of the one hw_log_command set:
 * the hawser command's own errors (cli/cli.h hw_cli_fail_why), whose name may be more
 * than its first word ("drill restore"). Any thread. */
void hw_log_error_of(const char *cmd, const char *what, int code, const char *why);

/* Where a node's or witness's start failed: the config key whose value failed, and that
 * value (key NULL: none did). */
struct hw_start_at {
	const char *key;
	const char *value;
};

/* The start_failed line of a start that failed with code: "code=NAME what=\"TEXT\"",
 * and "key=KEY value=VALUE" when at names them. */
void hw_log_start_failed(int code, const struct hw_start_at *at);

/* s (NULL: "") into buf as hawser writes outside text (a path, an address, a node id, a
 * peer's words) in a log line's quoted value, on stderr or on a terminal: each control
 * character (C0, DEL, and C1 in UTF-8, U+0080..U+009F) becomes \n, \r, \t or \xNN (per
 * byte), each byte that is not part of a valid UTF-8 character (base/utf8.h
 * hw_utf8_decode: a stray continuation byte, an overlong form, a surrogate, a sequence cut
 * short, 0xf5..0xff) becomes \xNN, and '"' and '\\' become \" and \\, so the text cannot end
 * a line, forge one after it, send a terminal an escape sequence (colours, a cleared
 * screen, a title), close a quoted value or make a line that is not UTF-8, and it reads
 * back as it was (a path holding a backslash and an 'n' never shows as one holding a
 * newline); every other character is kept, so UTF-8 text stays readable. The one escaper
 * of such text: log lines (hw_log), the client library's stderr and the hawser command's
 * output all use it. HW_LOG_ESCAPED_CHARS(strlen(s)) bytes hold any s whole; a smaller
 * cap (at least 1) cuts it at the end of an escape or a character. Returns buf. Any
 * thread. */
#define HW_LOG_ESCAPED_CHARS(len) (4 * (len) + 1)
const char *hw_log_escaped(const char *s, char *buf, size_t cap);

/* hw_log_escaped's work, saying where it cut: s (NULL is "") escaped into buf, as much as
 * fits in cap bytes (at least 1), whole escapes and characters; returns how many bytes of
 * s buf holds (strlen(s) when all of it), so a caller can cut s elsewhere instead
 * (cli/text.c hw_cli_event_text keeps a long s's end). Any thread. */
size_t hw_log_escape_fit(const char *s, char *buf, size_t cap);

/* The character at p (not NUL) as hw_log_escaped writes it, into one, ended by a NUL (a
 * C1 control's escape is the longest); returns how many bytes of p it took: a whole
 * character's (1 to 4), or 1 for a byte that is not UTF-8. Any thread. */
#define HW_LOG_ESCAPED_CHAR_MAX 9
size_t hw_log_escape_char(const char *p, char one[HW_LOG_ESCAPED_CHAR_MAX]);

/* Write "t=... node=... event=<event> <fmt...>\n" to stderr. */
void hw_log(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line that a flood would repeat once per connection (a handshake cut, a session lost
 * before its Hello), logged a bounded number of times per interval: the first `lines` of
 * an interval in full, the others left out and counted, and their count as one line of
 * the same event once the interval has passed: "event=EVENT peer=* more=N in_ms=MS", or
 * "event=EVENT peer=* WHAT more=N in_ms=MS" when the lines of one event are counted apart
 * (one counter per port, say) and `what` names which ones this counter counts. Zero it to
 * start (then set what, if any). Owned by one thread. */
struct hw_log_every {
	int64_t from_ms; /* when the interval's first line was logged */
	uint32_t full;   /* lines logged in full in it */
	uint32_t more;   /* lines left out since */
	const char *what; /* NULL, or the key=value pairs of the lines counted (as their lines
			   * in full write them), written as they are: the code's own words,
			   * never outside text ("port=client reason=no_hello") */
};

/* Whether to log this occurrence of event in full (one of the first `lines` of its
 * interval of every_ms); false: it was counted. Logs the count of the interval before
 * when that one has passed. */
bool hw_log_every(struct hw_log_every *e, const char *event, int64_t now_ms, int64_t every_ms,
		  uint32_t lines);

/* Log the count of an interval that has passed (call it from a timer, so the last count
 * of a flood is not held until the next line). */
void hw_log_every_flush(struct hw_log_every *e, const char *event, int64_t now_ms,
			int64_t every_ms);

/* Reading lines back (a checker, a drill): the whole-number value of key (without the
 * '=') in one line as written above, or missing when the line holds no such key or its
 * value is not a whole number (quoted, empty, trailing text). Only whole keys match, at
 * the start of the line or after a space ("wall_ms" is not "last_ack_wall_ms"), and
 * nothing inside a quoted value does. The line ends at its newline: line may point into
 * a buffer of many lines, and nothing after that newline is read. Any thread. */
int64_t hw_log_field(const char *line, const char *key, int64_t missing);

/* The time of one line (its t= value, YYYY-MM-DDTHH:MM:SS.mmmZ as hw_log_time_ms reads
 * it) in wall ms since the epoch, or -1 when the line has no t= value or it is not such
 * a time. Any thread. */
int64_t hw_log_line_ms(const char *line);

/* An ISO 8601 UTC time, YYYY-MM-DDTHH:MM:SS[.f]Z with 0 to 3 digits of fraction (the t=
 * stamp, or what an operator types), into *ms since the epoch: 0, or -EINVAL when s is
 * not exactly such a time (*ms is then unchanged). Any thread. */
int hw_log_time_ms(const char *s, int64_t *ms);

#endif
