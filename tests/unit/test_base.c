/* test_base.c: error text and names, an assertion's handler, the fault primitive, the
 * arena, reject filling and the log entry encoding, the logger's escaping of values and
 * the reading of its lines back, the seeded generators, a condition variable's wait to a
 * deadline, one file under two paths, and UTF-8 cut at a character and written as valid. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/assert.h"
#include "base/clock.h"
#include "base/cond.h"
#include "base/duration.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/names.h"
#include "base/reject.h"
#include "base/rng.h"
#include "base/utf8.h"
#include "hawser_error.h"
#include "replica/entry.h"
#include "tests/skip.h"

/* Every project code has its own text and symbolic name; errno codes fall through to the
 * C library; unknown codes still give a string. */
static void test_error_table(void **state)
{
	(void)state;
	static const int codes[] = {
#define CODE_(name, value, text) value,
		HW_ERRNO_MAP(CODE_)
#undef CODE_
	};
	size_t n = sizeof codes / sizeof codes[0];
	for (size_t i = 0; i < n; i++) {
		assert_true(codes[i] < -6000);
		assert_string_not_equal(hw_strerror(codes[i]), "unknown error");
		assert_memory_equal(hw_errname(codes[i]), "HW_E", 4);
		assert_true(hw_errknown(codes[i]));
		for (size_t j = i + 1; j < n; j++) {
			assert_int_not_equal(codes[i], codes[j]);
			assert_string_not_equal(hw_strerror(codes[i]), hw_strerror(codes[j]));
		}
	}
	assert_string_equal(hw_strerror(-ENOSPC), strerror(ENOSPC));
	assert_string_equal(hw_errname(-ENOSPC), "ENOSPC");
	assert_string_equal(hw_errname(0), "OK");
	assert_string_equal(hw_strerror(-99999), "unknown error");
	assert_true(hw_errknown(-ENOSPC) && hw_errknown(0));
	assert_false(hw_errknown(-99999) || hw_errknown(-6999) || hw_errknown(5));
	assert_string_equal(hw_errname(-99999), "EUNKNOWN");
	/* a code in errno's range without a name is unknown too, and its text static: it was
	 * the C library's per-thread "Unknown error N", which the next such call overwrote */
	const char *a = hw_strerror(-200);
	(void)hw_strerror(-300);
	assert_string_equal(a, "unknown error");
	assert_false(hw_errknown(-200));
}

static jmp_buf assert_jump;
static char assert_line[HW_ASSERT_LINE_CHARS];

static void assert_caught(const char *line)
{
	snprintf(assert_line, sizeof assert_line, "%s", line);
	longjmp(assert_jump, 1); /* does not return: the line is not printed, nor aborted on */
}

/* A failed HW_ASSERT hands its line (expression, file and line, context) to the handler
 * first, which may keep it from being printed by not returning (cli/isolate.c's child). */
static void test_assert_handler(void **state)
{
	(void)state;
	volatile int two = 2;
	hw_assert_handle(assert_caught);
	if (setjmp(assert_jump) == 0)
		HW_ASSERT(two == 3);
	hw_assert_handle(NULL);
	const char *want = "hawser: assertion failed: two == 3 at ";
	assert_memory_equal(assert_line, want, strlen(want));
	assert_non_null(strstr(assert_line, "test_base.c:"));
	assert_non_null(strstr(assert_line, " role=- epoch=- lsn=-"));
	assert_null(strchr(assert_line, '\n'));
}

/* A fault fires after its countdown, for its repeat count, then stops; NULL and a
 * disarmed fault never fire. */
static void test_fault(void **state)
{
	(void)state;
	struct hw_fault f;
	hw_fault_init(&f);
	for (int i = 0; i < 10; i++)
		assert_false(hw_fault_tick(&f));
	assert_false(hw_fault_tick(NULL));
	hw_fault_arm(&f, 2, 2);
	assert_false(hw_fault_tick(&f));
	assert_false(hw_fault_tick(&f));
	assert_true(hw_fault_tick(&f));
	assert_true(hw_fault_tick(&f));
	assert_false(hw_fault_tick(&f));
	assert_int_equal(f.fired, 2);
	hw_fault_arm(&f, 0, -1);
	for (int i = 0; i < 100; i++)
		assert_true(hw_fault_tick(&f));
}

/* The arena aligns, reuses its chunks after a reset and refuses past its budget. */
static void test_arena(void **state)
{
	(void)state;
	struct hw_arena a;
	hw_arena_init(&a, 1024, 4096);
	void *p1 = hw_arena_alloc(&a, 3);
	void *p2 = hw_arena_alloc(&a, 5);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_int_equal((uintptr_t)p1 % 16, 0);
	assert_int_equal((uintptr_t)p2 % 16, 0);
	assert_ptr_not_equal(p1, p2);
	void *big = hw_arena_alloc(&a, 2000); /* larger than a chunk: its own chunk */
	assert_non_null(big);
	assert_null(hw_arena_alloc(&a, 4096)); /* over budget */
	hw_arena_reset(&a);
	void *p3 = hw_arena_alloc(&a, 2000);
	assert_ptr_equal(p3, big); /* the spare chunk is reused, nothing allocated */
	hw_arena_fini(&a);
}

/* hw_reject_set fills and truncates, and returns the code for one-line checks. */
static void test_reject(void **state)
{
	(void)state;
	struct hw_reject r;
	char longfield[200];
	memset(longfield, 'f', sizeof longfield - 1);
	longfield[sizeof longfield - 1] = 0;
	assert_int_equal(hw_reject_set(&r, HW_EWEIGHT, longfield, "gross %u < tare %u", 1u, 2u),
			 HW_EWEIGHT);
	assert_int_equal(r.code, HW_EWEIGHT);
	assert_int_equal(strlen(r.field), sizeof r.field - 1);
	assert_string_equal(r.rule, "gross 1 < tare 2");
	assert_int_equal(hw_reject_set(NULL, HW_ETIME, "x", "y"), HW_ETIME);
}

/* An entry decodes to what was encoded; any flipped bit, a wrong length or a zero LSN is
 * HW_ECORRUPT. */
static void test_entry(void **state)
{
	(void)state;
	uint8_t prev[HW_HASH_BYTES];
	memset(prev, 0xab, sizeof prev);
	const uint8_t rec[] = "a TOS record";
	uint8_t buf[HW_ENTRY_HEADER_BYTES + sizeof rec];
	struct hw_entry e, d;
	size_t len = hw_entry_encode(buf, 5, 2, -7, prev, rec, sizeof rec, &e);
	assert_int_equal(len, sizeof buf);
	assert_int_equal(hw_entry_decode(buf, len, &d), 0);
	assert_int_equal(d.lsn, 5);
	assert_int_equal(d.epoch, 2);
	assert_int_equal(d.time_ms, -7);
	assert_memory_equal(d.prev_hash, prev, HW_HASH_BYTES);
	assert_memory_equal(d.hash, e.hash, HW_HASH_BYTES);
	assert_memory_equal(d.record, rec, sizeof rec);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(hw_entry_decode(buf, len, &d), HW_ECORRUPT);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(hw_entry_decode(buf, len - 1, &d), HW_ECORRUPT);
	assert_int_equal(hw_entry_decode(buf, 10, &d), HW_ECORRUPT);
}

/* Durations parse with their unit, fractions to whole ms; a bare number, junk, a sign,
 * a sub-millisecond fraction and an overflow are refused and leave the output alone. */
static void test_duration(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int64_t ms;
	} good[] = {{"0", 0},          {"500ms", 500},  {"30s", 30000},   {"1.5s", 1500},
		    {"2m", 120000},    {"1.5m", 90000}, {"5min", 300000}, {"12h", 43200000},
		    {"7d", 604800000}, {"0.001s", 1}};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		int64_t ms = -1;
		assert_int_equal(hw_duration_parse(good[i].s, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	static const char *const bad[] = {"",
					  "30",
					  "3w",
					  "h",
					  "-1s",
					  " 1s",
					  "1.5ms",
					  "5.s",
					  "1s ",
					  "0.0000001s",
					  "99999999999999999999d",
					  "9223372036854775807d"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int64_t ms = 42;
		assert_int_equal(hw_duration_parse(bad[i], &ms), -1);
		assert_int_equal(ms, 42);
	}
	assert_int_equal(hw_duration_parse(NULL, &(int64_t){0}), -1);
}

/* Run fn with stderr sent into a pipe and return what it wrote (one log line or more). */
static void capture_stderr(void (*fn)(void), char *out, size_t cap)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	fn();
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(p[1]);
	ssize_t n = read(p[0], out, cap - 1);
	close(p[0]);
	assert_true(n > 0);
	out[n] = '\0';
}

static void log_hostile(void)
{
	hw_log_node("p1");
	/* a peer's cluster id that tries to end the line and forge an event */
	hw_log("peer_refused", "peer=%s cluster=%s version=%u", "10.0.0.9:4000",
	       "c1\nt=2026-01-01T00:00:00.000Z node=p1 event=promoted", 7u);
	hw_log("quoted", "detail=\"%s\" n=%llu x=%.3f z=%zu c=%c", "say \"hi\"\\\t\x01",
	       18446744073709551615ull, 1.5, (size_t)42, ' ');
	hw_log("plain", "peer=%s empty=%s pct=100%% neg=%d long=%ld w=%-4s| p=%.2s u=%s raw=%s",
	       "s1", "", -3, -1234567890123L, "ab", "xyz", "caf\xc3\xa9", "a\xff\xc2\x85");
	hw_log_node(NULL);
}

/* The generators give their published sequences (splitmix64 from 1234567, as in Vigna's
 * reference) and pinned xoshiro256** outputs, so that a seed printed by a run replays it
 * on any platform and after any refactoring. */
static void test_rng_sequences(void **state)
{
	(void)state;
	uint64_t x = 1234567;
	assert_true(hw_splitmix64(&x) == 6457827717110365317ull);
	assert_true(hw_splitmix64(&x) == 3203168211198807973ull);
	assert_true(hw_splitmix64(&x) == 9817491932198370423ull);
	assert_true(hw_mix64(0) == 0);
	uint64_t s[4];
	hw_xoshiro_seed(s, 1);
	assert_true(hw_xoshiro_next(s) == 0xb3f2af6d0fc710c5ull);
	assert_true(hw_xoshiro_next(s) == 0x853b559647364ceaull);
	assert_true(hw_xoshiro_next(s) == 0x92f89756082a4514ull);
	for (int i = 0; i < 997; i++)
		hw_xoshiro_next(s);
	assert_true(hw_xoshiro_next(s) == 0xcdf93337d61f6382ull);
}

/* Values with newlines, spaces, '=', quotes, backslashes, control characters and bytes
 * that are not UTF-8 come out escaped on one line each, quoted when bare; tokens (UTF-8
 * text too) and numbers are untouched. */
static void test_log_escape(void **state)
{
	(void)state;
	char out[4096];
	capture_stderr(log_hostile, out, sizeof out);
	char *l1 = out, *l2 = strchr(l1, '\n');
	assert_non_null(l2);
	*l2++ = '\0';
	char *l3 = strchr(l2, '\n');
	assert_non_null(l3);
	*l3++ = '\0';
	char *end = strchr(l3, '\n');
	assert_non_null(end);
	assert_string_equal(end + 1, ""); /* three lines, no more */
	*end = '\0';
	assert_non_null(strstr(l1,
			       " node=p1 event=peer_refused peer=10.0.0.9:4000 cluster=\"c1\\n"
			       "t=2026-01-01T00:00:00.000Z node=p1 event=promoted\" version=7"));
	assert_non_null(strstr(l2, " event=quoted detail=\"say \\\"hi\\\"\\\\\\t\\x01\" "
				   "n=18446744073709551615 x=1.500 z=42 c=\" \""));
	assert_non_null(strstr(l3, " event=plain peer=s1 empty= pct=100% neg=-3 "
				   "long=-1234567890123 w=\"ab  \"| p=xy u=caf\xc3\xa9 "
				   "raw=\"a\\xff\\xc2\\x85\""));
	assert_memory_equal(l3, "t=", 2);
}

/* Two lines too long for a log line, of 2-byte characters, one a byte behind the other:
 * one of them is cut where a character's second byte would be. */
static void log_long(void)
{
	char v[1301];
	for (size_t i = 0; i < 650; i++)
		memcpy(v + 2 * i, "\xc3\xa9", 2);
	v[1300] = '\0';
	hw_log("long", "v=%s", v);
	hw_log("long", "v=a%s", v);
}

/* A line cut at its length ends at a character's end: every line is UTF-8. */
static void test_log_cut_utf8(void **state)
{
	(void)state;
	char out[4096];
	capture_stderr(log_long, out, sizeof out);
	int lines = 0;
	unsigned long cp;
	for (const unsigned char *p = (const unsigned char *)out; *p != '\0';) {
		size_t n = hw_utf8_decode(p, &cp);
		assert_int_not_equal(n, 0);
		lines += cp == '\n';
		p += n;
	}
	assert_int_equal(lines, 2);
}

/* hw_log_escaped gives a caller's text as a quoted log value has it, and as a terminal
 * may be shown it: C0, DEL and C1 controls, '"' and '\\' escaped, each byte that is not
 * part of a valid UTF-8 character as \xNN, valid UTF-8 text kept, cut to its buffer at
 * the end of an escape or a character; HW_LOG_ESCAPED_CHARS(strlen(s)) holds any s whole
 * (cap 0 below: exactly that many bytes). */
static void test_log_escaped(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t cap;
		const char *want;
	} cases[] = {
		{"a\nb\"c\\\x01\x7f\t\xc3\xa9", 64, "a\\nb\\\"c\\\\\\x01\\x7f\\t\xc3\xa9"},
		{"a\n\x1b[1m\tb\xc2\x9b"
		 "2J",
		 64, "a\\n\\x1b[1m\\tb\\xc2\\x9b2J"},
		{"\xc2\x85\x1b", 0, "\\xc2\\x85\\x1b"},
		/* valid UTF-8 of 2, 3 and 4 bytes kept, U+00A0 (no C1 control) and U+10FFFF too */
		{"\xc3\xa9\xe5\x90\x8d\xf0\x9f\x9a\xa2\xc2\xa0\xf4\x8f\xbf\xbf", 0,
		 "\xc3\xa9\xe5\x90\x8d\xf0\x9f\x9a\xa2\xc2\xa0\xf4\x8f\xbf\xbf"},
		/* a stray continuation byte, bytes that lead nothing */
		{"a\x80"
		 "b\xbf",
		 0, "a\\x80b\\xbf"},
		{"\xff\xfe\xf5", 0, "\\xff\\xfe\\xf5"}, /* the bound at its edge: 4 per byte */
		/* overlong forms of '/', a surrogate, one above U+10FFFF */
		{"\xc0\xaf\xe0\x80\xaf", 0, "\\xc0\\xaf\\xe0\\x80\\xaf"},
		{"\xf0\x80\x80\xaf", 0, "\\xf0\\x80\\x80\\xaf"},
		{"\xed\xa0\x80", 0, "\\xed\\xa0\\x80"},
		{"\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80"},
		/* truncated: at the end, before ASCII, before a whole character */
		{"\xe5\x90", 0, "\\xe5\\x90"},
		{"\xf0\x9f\x9a"
		 "x",
		 0, "\\xf0\\x9f\\x9ax"},
		{"\xc3\xc3\xa9", 0, "\\xc3\xc3\xa9"},
		/* cut at the end of an escape or a character, never inside one */
		{"ab\n", 3, "ab"},
		{"a\x1b", 4, "a"},
		{"a\xc3\xa9", 3, "a"},
		{"a\xff", 5, "a"},
		{"a\xff", 6, "a\\xff"},
		{"\xf0\x9f\x9a\xa2", 4, ""},
		{"\xf0\x9f\x9a\xa2", 5, "\xf0\x9f\x9a\xa2"},
		{"", 1, ""},
		{NULL, 64, ""},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t cap = cases[i].cap ? cases[i].cap : HW_LOG_ESCAPED_CHARS(strlen(cases[i].s));
		assert_true(cap <= sizeof buf);
		assert_string_equal(hw_log_escaped(cases[i].s, buf, cap), cases[i].want);
	}
}

/* Whatever bytes it is given, hw_log_escaped writes UTF-8 without a control character,
 * within every cap, and whole within HW_LOG_ESCAPED_CHARS; hw_log_escape_fit, which does
 * its work, says how many bytes of them that text holds: those bytes alone escape to it. */
static void test_log_escaped_any(void **state)
{
	(void)state;
	char all[256], buf[HW_LOG_ESCAPED_CHARS(sizeof all)], head[sizeof all], again[sizeof buf];
	for (size_t i = 0; i < 255; i++)
		all[i] = (char)(255 - i); /* 0xff down to 0x01: every byte, in runs of each kind */
	all[255] = '\0';
	size_t whole = strlen(hw_log_escaped(all, again, sizeof again));
	for (size_t cap = 1; cap <= sizeof buf; cap++) {
		const char *t = hw_log_escaped(all, buf, cap);
		assert_true(strlen(t) < cap);
		size_t took = hw_log_escape_fit(all, buf, cap);
		assert_int_equal(took == strlen(all), cap > whole);
		memcpy(head, all, took);
		head[took] = '\0';
		assert_string_equal(hw_log_escaped(head, again, sizeof again), t);
		unsigned long cp;
		for (const unsigned char *p = (const unsigned char *)t; *p != '\0';) {
			size_t n = hw_utf8_decode(p, &cp);
			assert_true(n > 0 && cp >= ' ' && (cp < 0x7f || cp > 0x9f));
			p += n;
		}
	}
	/* its first 128 bytes, 0xff down to 0x80, are none UTF-8's: each \xNN, the bound's
	 * worst case, fills HW_LOG_ESCAPED_CHARS(128) to its last byte */
	char high[HW_LOG_ESCAPED_CHARS(128)];
	assert_int_equal(strlen(hw_log_escaped(all, high, sizeof high)), 4 * 128);
}

/* A checker reading lines back finds whole keys only, never text inside a quoted value,
 * and refuses a missing key, a non-numeric value and a malformed time stamp. */
/* A flood's 1,000 occurrences over 2.5 s of time, one every 2.5 ms, with a flush at
 * every 250 ms as a node's timer does: each second the first ten in full and the rest as
 * one count, and the counts add up to what was left out. */
static void log_flood(void)
{
	struct hw_log_every e = {0};
	int full = 0;
	for (int64_t i = 0; i < 1000; i++) {
		int64_t now = 10000 + i * 5 / 2;
		if (hw_log_every(&e, "channel_cut", now, 1000, 10)) {
			hw_log("channel_cut", "peer=10.0.0.9:%lld code=HW_ECLOSED", (long long)i);
			full++;
		}
		if (now % 250 == 0)
			hw_log_every_flush(&e, "channel_cut", now, 1000);
	}
	hw_log_every_flush(&e, "channel_cut", 10000 + 1000 * 5 / 2 + 1000, 1000);
	assert_int_equal(full, 30);
}

static void test_log_every(void **state)
{
	(void)state;
	char out[4096];
	capture_stderr(log_flood, out, sizeof out);
	int lines = 0, full = 0;
	int64_t more = 0;
	for (char *l = out; *l != '\0'; l = strchr(l, '\n') + 1, lines++) {
		assert_non_null(strstr(l, "event=channel_cut "));
		int64_t m = hw_log_field(l, "more", -1);
		if (m < 0)
			full++;
		else
			more += m;
	}
	assert_int_equal(full, 30);
	assert_int_equal(lines, 33); /* ten in full a second, three counts */
	assert_int_equal(more, 1000 - 30);
}

/* One event counted apart by port, as a node counts its two ports' session_closed: a
 * flood on the replication port, 25 lines at once, gives ten in full and a count that
 * names that port and the reason; the client port's counter, flushed alike, is untouched
 * and writes nothing. */
static struct hw_log_every port_every[2] = {{.what = "port=client reason=no_hello"},
					    {.what = "port=replication reason=no_hello"}};

static void log_flood_one_port(void)
{
	for (int i = 0; i < 25; i++)
		if (hw_log_every(&port_every[1], "session_closed", 5000, 1000, 10))
			hw_log("session_closed",
			       "peer=10.0.0.9:%d port=replication reason=no_hello", i);
	for (int p = 0; p < 2; p++)
		hw_log_every_flush(&port_every[p], "session_closed", 6000, 1000);
}

static void test_log_every_what(void **state)
{
	(void)state;
	char out[4096];
	capture_stderr(log_flood_one_port, out, sizeof out);
	const char *count = strstr(out, " event=session_closed peer=* port=replication "
					"reason=no_hello more=15 in_ms=1000\n");
	assert_non_null(count);
	assert_int_equal(hw_log_field(count, "more", -1), 15);
	assert_null(strstr(out, "port=client"));
	assert_string_equal(strchr(count, '\n') + 1, ""); /* the count is the last line */
	assert_int_equal(port_every[0].full + port_every[0].more, 0);
}

static void test_log_read(void **state)
{
	(void)state;
	const char *line = "t=2026-11-26T10:12:44.123Z node=p1 event=fenced "
			   "what=\"no lease epoch=9 \\\" wall_ms=1 \" last_ack_wall_ms=1700 "
			   "epoch=4 wall_ms=1800 neg=-3 q=\"12\" e= x=12y\n";
	assert_int_equal(hw_log_field(line, "epoch", -1), 4);      /* not the quoted 9 */
	assert_int_equal(hw_log_field(line, "wall_ms", -1), 1800); /* past the \" too */
	assert_int_equal(hw_log_field(line, "last_ack_wall_ms", -1), 1700);
	assert_int_equal(hw_log_field(line, "neg", 0), -3);
	assert_int_equal(hw_log_field(line, "lsn", -1), -1); /* not in the line */
	assert_int_equal(hw_log_field(line, "ack_wall_ms", -1), -1);
	assert_int_equal(hw_log_field(line, "q", -1), -1);
	assert_int_equal(hw_log_field(line, "e", -1), -1);
	assert_int_equal(hw_log_field(line, "x", -1), -1);
	assert_int_equal(hw_log_field("epoch=5", "epoch", -1), 5);
	assert_int_equal(hw_log_field("what=\"epoch=5\"", "epoch", -1), -1);
	assert_int_equal(hw_log_field("", "epoch", -1), -1);
	/* One line: a key on the next one is not this line's. */
	assert_int_equal(
		hw_log_field("event=x wall_ms=5\nt=x event=started epoch=9\n", "epoch", -1), -1);
	assert_int_equal(hw_log_field("what=\"open\nepoch=9", "epoch", -1), -1);
	assert_int_equal(hw_log_field("event=x wall_ms=5\nepoch=9", "wall_ms", -1), 5);

	assert_int_equal(hw_log_line_ms(line), 1795687964123);
	assert_int_equal(hw_log_line_ms("t=1970-01-01T00:00:01.5Z node=p1"), 1500);
	assert_int_equal(hw_log_line_ms("node=p1 event=x"), -1);
	assert_int_equal(hw_log_line_ms("t=2026-11-26T10:12:44.123 node=p1"), -1);
	assert_int_equal(hw_log_line_ms("t=2026-13-26T10:12:44.123Z node=p1"), -1);
	assert_int_equal(hw_log_line_ms("t=2026-11-26T10:12:44.1234Z node=p1"), -1);
	assert_int_equal(hw_log_line_ms("t=\"2026-11-26T10:12:44.123Z\""), -1);
	int64_t ms = 7;
	assert_int_equal(hw_log_time_ms("2026-11-26T10:12:44Z", &ms), 0);
	assert_int_equal(ms, 1795687964000);
	assert_int_equal(hw_log_time_ms("2026-11-26T10:12:44Zx", &ms), -EINVAL);
	/* a day the month does not have, a leap day of a common year, a short field, a
	 * sign: refused, never moved to another day */
	static const char *const bad[] = {
		"2026-11-31T10:00:00Z", "2026-02-29T00:00:00Z", "2026-1-5T01:02:03Z",
		"2026-11-26T1:02:03Z",  "2026-11-26T10:12:60Z", "2026-11-+6T10:12:44Z",
		"2026-00-26T10:12:44Z", "20261126T101244Z",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(hw_log_time_ms(bad[i], &ms), -EINVAL);
	assert_int_equal(ms, 1795687964000);
	assert_int_equal(hw_log_time_ms("2028-02-29T23:59:59.5Z", &ms), 0);
	assert_int_equal(ms, 1835481599500);
}

/* The exit status of child pid, which must exit. */
static int child_exit(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Milliseconds of clock id minus hw_mono_ms(), in a child whose time namespace puts
 * CLOCK_BOOTTIME a day ahead (as after a day suspended); it exits with 0 when that is
 * about zero. -errno of unshare when time namespaces are not to be had here (it needs
 * root and CONFIG_TIME_NS). */
static int boottime_child(clockid_t id)
{
	if (unshare(CLONE_NEWTIME) != 0)
		return -errno;
	FILE *fp = fopen("/proc/self/timens_offsets", "w");
	int rc = fp != NULL && fprintf(fp, "boottime 86400 0\n") > 0 ? 0 : -1;
	if (fp != NULL && fclose(fp) != 0)
		rc = -1;
	assert_int_equal(rc, 0); /* a new namespace takes offsets until a process enters it */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct timespec ts;
		clock_gettime(id, &ts);
		int64_t diff = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - hw_mono_ms();
		_exit(diff > -1000 && diff < 1000 ? 0 : 1);
	}
	return child_exit(pid);
}

/* The monotonic clock that deadlines and leases are measured on goes on while the host
 * is suspended: it is CLOCK_BOOTTIME, not CLOCK_MONOTONIC (base/clock.h). */
static void test_mono_counts_time_suspended(void **state)
{
	(void)state;
	int boot = boottime_child(CLOCK_BOOTTIME);
	if (boot < 0)
		HW_SKIP("no time namespace: unshare(CLONE_NEWTIME): %s (needs root and "
			"CONFIG_TIME_NS)",
			strerror(-boot));
	assert_int_equal(boot, 0);
	assert_int_equal(boottime_child(CLOCK_MONOTONIC), 1);
}

/* A condition variable's wait to a deadline (base/cond.h): one nobody signals returns
 * the timeout, at once for a deadline already past; a signal wakes one whose deadline
 * is an hour away (the test's CTest timeout is far shorter). */
struct cond_fx {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool said;
};

static void *cond_signal_main(void *arg)
{
	struct cond_fx *f = arg;
	pthread_mutex_lock(&f->mu);
	f->said = true;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

static void test_cond_wait_until(void **state)
{
	(void)state;
	struct cond_fx f = {.mu = PTHREAD_MUTEX_INITIALIZER};
	hw_cond_init(&f.cv);
	pthread_mutex_lock(&f.mu);
	assert_int_equal(hw_cond_wait_until(&f.cv, &f.mu, (int64_t)hw_mono_ns() - 1000000),
			 -ETIMEDOUT);
	assert_int_equal(hw_cond_wait_until(&f.cv, &f.mu, (int64_t)hw_mono_ns() + 1000000),
			 -ETIMEDOUT);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cond_signal_main, &f), 0);
	int64_t hour_ns = 3600LL * 1000000000LL;
	int rc = 0;
	while (!f.said && rc == 0)
		rc = hw_cond_wait_until(&f.cv, &f.mu, (int64_t)hw_mono_ns() + hour_ns);
	assert_int_equal(rc, 0);
	assert_true(f.said);
	pthread_mutex_unlock(&f.mu);
	pthread_join(t, NULL);
	pthread_cond_destroy(&f.cv);
}

/* A list's items come trimmed of the blanks around them, empty ones as length 0, and
 * the cursor ends NULL after the last. */
static void test_list_items(void **state)
{
	(void)state;
	static const char *const want[] = {"a:1", "", "unix:/s x", ""};
	const char *p = " a:1 ,\t, unix:/s x\t,";
	size_t i = 0, len;
	while (p != NULL) {
		const char *item = hw_list_item(&p, &len);
		assert_true(i < 4);
		assert_int_equal(len, strlen(want[i]));
		assert_memory_equal(item, want[i], len);
		i++;
	}
	assert_int_equal(i, 4);
}

/* A list with blanks around its commas splits into the same items a client connects to,
 * each kept whole, a node's ID@ too; an empty item, one too long (its ID@ counted), more
 * than the cap, one whose address is not HOST:PORT (a port out of range would wrap to
 * another node's; a HOST never holds the '@') or unix:/path (absolute), or whose ID is not
 * an id (empty, with a blank or a '!', longer than HW_ID_CHARS_MAX) is refused. */
static void test_addrs_parse(void **state)
{
	(void)state;
	char a[3][HW_ADDR_CHARS_MAX + 1];
	size_t n;
	assert_int_equal(hw_addrs_parse(" h1:1 ,\tp1@h2:2\t, s1@unix:/s@x ", a, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(a[0], "h1:1");
	assert_string_equal(a[1], "p1@h2:2");
	assert_string_equal(a[2], "s1@unix:/s@x");
	assert_int_equal(hw_addrs_parse("h1:1, ,h2:2", a, 3, &n), -EINVAL);
	assert_int_equal(hw_addrs_parse("", a, 3, &n), -EINVAL);
	assert_int_equal(hw_addrs_parse("a:1,b:1,c:1,d:1", a, 3, &n), -EINVAL);
	static const char *const bad[] = {
		"h:86353",      "h:65536",     "h:0",     "h:+20817", "h: 20817",
		"h:20817x",     "h:",          ":1",      "h",        "unix:",
		"h:1,",         "@h:1",        "p 1@h:1", "p1@",      "p1@h",
		"p1@h:0",       "p!@h:1",      "p1@@h:1", "a@b@c:1",  "p1@unix:",
		"h:1, p1 @h:2", "yard.p1@h:1", /* a key pinned as yard.p1 would be named yard
						  (yard.p1.pub) */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (hw_addrs_parse(bad[i], a, 3, &n) != -EINVAL)
			fail_msg("'%s' taken", bad[i]);
	/* a relative socket path would name a socket only from some working directory */
	assert_int_equal(hw_addrs_parse("unix:relative.sock", a, 3, &n), -EINVAL);
	assert_int_equal(hw_addrs_parse("p1@unix:run/p1.sock", a, 3, &n), -EINVAL);
	assert_int_equal(hw_addrs_parse("[::1]:65535", a, 3, &n), 0);
	char longest[HW_ADDR_CHARS_MAX + 2];
	memset(longest, 'x', sizeof longest - 1);
	memcpy(longest + sizeof longest - 3, ":1", 3);
	assert_int_equal(hw_addrs_parse(longest, a, 3, &n), -EINVAL);
	memcpy(longest + sizeof longest - 4, ":1", 3);
	assert_int_equal(hw_addrs_parse(longest, a, 3, &n), 0);
	assert_int_equal(n, 1);
	longest[0] = 'p'; /* the same length with an ID@ */
	longest[1] = '@';
	assert_int_equal(hw_addrs_parse(longest, a, 3, &n), 0);
	char id[HW_ID_CHARS_MAX + 2], item[HW_ID_CHARS_MAX + 16];
	memset(id, 'i', sizeof id - 1);
	id[sizeof id - 1] = '\0'; /* one character too long */
	snprintf(item, sizeof item, "%s@h:1", id);
	assert_int_equal(hw_addrs_parse(item, a, 3, &n), -EINVAL);
	snprintf(item, sizeof item, "%s@h:1", id + 1);
	assert_int_equal(hw_addrs_parse(item, a, 3, &n), 0);
}

/* An address may name the node there, ID@ADDR, as a client's --connect list and
 * node.primary write it: the ID ends at the first '@', a "unix:" address is never split
 * (its path may hold '@'), and a HOST never holds one. */
static void test_addr_split(void **state)
{
	(void)state;
	static const struct {
		const char *item, *addr;
		size_t id_len;
	} split[] = {
		{"p1@10.0.0.1:7001", "10.0.0.1:7001", 2},
		{"10.0.0.1:7001", "10.0.0.1:7001", 0},
		{"s-2.a_b@[::1]:1", "[::1]:1", 7},
		{"p1@unix:/run/p1.sock", "unix:/run/p1.sock", 2},
		{"unix:/run/a@b", "unix:/run/a@b", 0},
		{"@h:1", "h:1", 0},
	};
	for (size_t i = 0; i < sizeof split / sizeof split[0]; i++) {
		size_t id_len = 99;
		assert_string_equal(hw_addr_split(split[i].item, &id_len), split[i].addr);
		assert_int_equal(id_len, split[i].id_len);
	}
	assert_false(hw_addr_ok("p1@h:1"));
	assert_true(hw_addr_ok("unix:/run/a@b"));
}

/* An address splits into its parts one way for every reader (base/names.h): HOST ends
 * at the last ':' unless bracketed, PORT is digits in 1..65535 (0 only for a listener),
 * a unix: path fits a socket address, and the whole fits HW_ADDR_CHARS_MAX; two IP
 * addresses (localhost too) are one endpoint by value, names as written. */
static void test_addr_parse(void **state)
{
	/* one endpoint in two spellings (hw_addr_same), not two names of one host */
	assert_true(hw_addr_same("localhost:7", "127.0.0.1:7"));
	assert_true(hw_addr_same("[0:0::1]:7", "[::1]:7"));
	assert_true(hw_addr_same("h:7", "h:7"));
	assert_false(hw_addr_same("127.0.0.1:7", "127.0.0.1:8"));
	assert_false(hw_addr_same("[::1]:7", "127.0.0.1:7"));
	assert_false(hw_addr_same("h:7", "localhost:7"));
	assert_false(hw_addr_same("unix:/a", "unix:/b"));
	(void)state;
	struct hw_addr_parts p;
	assert_int_equal(hw_addr_parse("tos-a.example:7001", false, &p), 0);
	assert_null(p.path);
	assert_false(p.bracketed);
	assert_string_equal(p.host, "tos-a.example");
	assert_int_equal(p.port, 7001);
	assert_string_equal(p.port_text, "7001");
	assert_int_equal(hw_addr_parse("[::1]:065535", false, &p), 0);
	assert_true(p.bracketed);
	assert_string_equal(p.host, "::1");
	assert_string_equal(p.port_text, "65535");
	assert_int_equal(hw_addr_parse("::1:7001", false, &p), 0); /* a name to look up */
	assert_false(p.bracketed);
	assert_string_equal(p.host, "::1");
	assert_int_equal(hw_addr_parse("unix:/run/a@b:1", false, &p), 0);
	assert_string_equal(p.path, "/run/a@b:1");
	assert_int_equal(hw_addr_parse("127.0.0.1:0", true, &p), 0);
	assert_int_equal(p.port, 0);
	static const char *const bad[] = {
		"h",     "h:",    "h:0",      "h:65536", "h:99999999999999999999",
		"h:7x",  "h:+7",  "h: 7",     "h:-1",    ":7",
		"[]:7",  "[::1]", "[::1]x:7", "[::1:7",  "p@h:7",
		"unix:", "",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (hw_addr_parse(bad[i], false, &p) != -EINVAL || hw_addr_ok(bad[i]))
			fail_msg("'%s' taken", bad[i]);
	assert_int_equal(hw_addr_parse("h:65536", true, &p), -EINVAL);
	char a[HW_ADDR_CHARS_MAX + 2]; /* a host one too long, then just long enough */
	memset(a, 'h', sizeof a - 1);
	memcpy(a + sizeof a - 3, ":1", 3);
	assert_int_equal(hw_addr_parse(a, false, &p), -EINVAL);
	assert_int_equal(hw_addr_parse(a + 1, false, &p), 0);
	assert_int_equal(strlen(p.host), HW_ADDR_CHARS_MAX - 2);
	char u[5 + 108 + 1] = "unix:"; /* a path one too long for sun_path, then one that fits */
	memset(u + 5, 'u', 108);
	u[5] = '/';
	u[5 + 108] = '\0';
	assert_int_equal(hw_addr_parse(u, false, &p), -EINVAL);
	u[5 + 107] = '\0';
	assert_int_equal(hw_addr_parse(u, false, &p), 0);
}

/* A path's parent: the directory a sibling of it is made in, "/" for a top-level one,
 * "." for a bare name; a path too long for PATH_MAX is refused. */
static void test_fs_parent(void **state)
{
	(void)state;
	char out[PATH_MAX];
	assert_int_equal(hw_fs_parent("/var/lib/hawser/p1", out), 0);
	assert_string_equal(out, "/var/lib/hawser");
	assert_int_equal(hw_fs_parent("/p1", out), 0);
	assert_string_equal(out, "/");
	assert_int_equal(hw_fs_parent("p1", out), 0);
	assert_string_equal(out, ".");
	char *longp = malloc(PATH_MAX + 8);
	assert_non_null(longp);
	memset(longp, 'a', PATH_MAX + 7);
	longp[PATH_MAX + 7] = '\0';
	assert_int_equal(hw_fs_parent(longp, out), -ENAMETOOLONG);
	free(longp);
}

/* The directories fsync was called on (test_base links with -Wl,--wrap=fsync), newest
 * last, as /proc/self/fd names them. */
static char fsynced[8][PATH_MAX];
static int fsynced_n;

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	char link[64];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	char *out = fsynced[fsynced_n % 8];
	ssize_t n = readlink(link, out, PATH_MAX - 1);
	out[n > 0 ? n : 0] = '\0';
	fsynced_n++;
	return __real_fsync(fd);
}

static bool fsynced_has(const char *path)
{
	for (int i = 0; i < fsynced_n && i < 8; i++)
		if (strcmp(fsynced[i], path) == 0)
			return true;
	return false;
}

/* mkdir -p: the missing parents with 0755 and the directory with its mode, each new
 * entry flushed in its parent (a crash must not lose a backup's directory whose files
 * were flushed); an existing directory is left alone, a file in the way is -ENOTDIR. */
static void test_fs_mkdirs(void **state)
{
	(void)state;
	const char *tmp = getenv("HW_TEST_TMP");
	char made[PATH_MAX], root[PATH_MAX], dir[PATH_MAX + 16], mid[PATH_MAX + 8],
		file[PATH_MAX + 8];
	snprintf(made, sizeof made, "%s/mkdirs-XXXXXX", tmp != NULL ? tmp : "/tmp");
	mkdir(tmp != NULL ? tmp : "/tmp", 0700);
	assert_non_null(mkdtemp(made));
	assert_non_null(realpath(made, root)); /* /proc names the real path */
	snprintf(mid, sizeof mid, "%s/a", root);
	snprintf(dir, sizeof dir, "%s/a/b", root);
	fsynced_n = 0;
	assert_int_equal(hw_fs_mkdirs(dir, 0700), 0);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(mid, &st), 0);
	mode_t um = umask(0);
	umask(um);
	assert_int_equal(st.st_mode & 0777, 0755 & ~um);
	assert_true(fsynced_has(root)); /* a's entry */
	assert_true(fsynced_has(mid));  /* b's entry */
	assert_int_equal(fsynced_n, 2);

	fsynced_n = 0;
	assert_int_equal(hw_fs_mkdirs(dir, 0700), 0); /* there already: nothing to flush */
	assert_int_equal(fsynced_n, 0);

	snprintf(file, sizeof file, "%s/f", root);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(hw_fs_mkdirs(file, 0700), -ENOTDIR);
	snprintf(dir, sizeof dir, "%s/f/c", root);
	assert_int_equal(hw_fs_mkdirs(dir, 0700), -ENOTDIR);
	unlink(file);
	rmdir(dir);
	snprintf(dir, sizeof dir, "%s/a/b", root);
	rmdir(dir);
	rmdir(mid);
	assert_int_equal(rmdir(root), 0);
}

/* In a child with a mount namespace of its own: whether b, with a bound over it, is the
 * same as a (exit 0) or not (1); 77 when no namespace or mount is to be had (root). */
static int bind_child(const char *a, const char *b)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *what = unshare(CLONE_NEWNS) != 0 ? "unshare(CLONE_NEWNS)"
				   : mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
					   ? "making / private"
				   : mount(a, b, NULL, MS_BIND, NULL) != 0 ? "the bind mount"
									   : NULL;
		if (what != NULL) { /* the case is left out: say why */
			fprintf(stderr, "test_fs_same: bind mount case skipped: %s: %s\n", what,
				strerror(errno));
			_exit(77);
		}
		_exit(hw_fs_same(a, b) ? 0 : 1);
	}
	return child_exit(pid);
}

/* Two paths name one file when device and inode agree (base/fs.h): another spelling, a
 * symbolic link, a hard link (which realpath(3) tells apart) and a bind mount (which it
 * does too; in a mount namespace, where the test can make one) do; two directories, or
 * one and a path to nothing, do not. */
static void test_fs_same(void **state)
{
	(void)state;
	const char *tmp = getenv("HW_TEST_TMP");
	char root[PATH_MAX], a[PATH_MAX + 16], b[PATH_MAX + 16], p[PATH_MAX + 16], q[PATH_MAX + 16];
	snprintf(root, sizeof root, "%s/test_base.XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
	assert_int_equal(hw_fs_mkdirs(tmp != NULL && tmp[0] ? tmp : "/tmp", 0700), 0);
	assert_non_null(mkdtemp(root));
	snprintf(a, sizeof a, "%s/a", root);
	snprintf(b, sizeof b, "%s/b", root);
	assert_int_equal(mkdir(a, 0700) | mkdir(b, 0700), 0);
	snprintf(p, sizeof p, "%s/a/./", root);
	assert_true(hw_fs_same(a, p));
	assert_false(hw_fs_same(a, b));
	snprintf(p, sizeof p, "%s/link", root);
	assert_int_equal(symlink(a, p), 0);
	assert_true(hw_fs_same(p, a));
	assert_int_equal(unlink(p), 0);
	assert_false(hw_fs_same(a, p)); /* gone */
	snprintf(p, sizeof p, "%s/a/data.mdb", root);
	snprintf(q, sizeof q, "%s/b/data.mdb", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(link(p, q), 0);
	assert_true(hw_fs_same(p, q));
	assert_int_equal(unlink(p) | unlink(q), 0);
	int bound = bind_child(a, b);
	if (bound != 77)
		assert_int_equal(bound, 0);
	assert_int_equal(rmdir(a) | rmdir(b) | rmdir(root), 0);
}

/* A path is within a directory when it is the directory or any name on its way passes
 * through it, whether or not the path exists yet, relative ones from the working
 * directory; a sibling, the parent and a missing directory are not. */
static void test_fs_within(void **state)
{
	(void)state;
	const char *tmp = getenv("HW_TEST_TMP");
	char root[PATH_MAX], a[PATH_MAX + 16], p[PATH_MAX + 32], cwd[PATH_MAX];
	snprintf(root, sizeof root, "%s/within.XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
	assert_int_equal(hw_fs_mkdirs(tmp != NULL && tmp[0] ? tmp : "/tmp", 0700), 0);
	assert_non_null(mkdtemp(root));
	snprintf(a, sizeof a, "%s/a", root);
	assert_int_equal(mkdir(a, 0700), 0);
	assert_true(hw_fs_within(a, a));
	snprintf(p, sizeof p, "%s/a/new/deeper", root);
	assert_true(hw_fs_within(p, a)); /* not there yet */
	snprintf(p, sizeof p, "%s/a/../a/x", root);
	assert_true(hw_fs_within(p, a));
	snprintf(p, sizeof p, "%s/ab", root);
	assert_false(hw_fs_within(p, a)); /* a sibling whose name starts the same */
	assert_false(hw_fs_within(root, a));
	snprintf(p, sizeof p, "%s/missing", root);
	assert_false(hw_fs_within(a, p));
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(a), 0);
	assert_true(hw_fs_within("sub/out", a));
	assert_true(hw_fs_within(".", a));
	assert_false(hw_fs_within("../b", a));
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rmdir(a) | rmdir(root), 0);
}

/* A string cut short by snprintf in the middle of a character loses that character's
 * bytes, and only those; whole characters, ASCII and bytes that are no UTF-8 at all stay. */
static void test_utf8_trim(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"ab\xe6\x97\xa5", "ab\xe6\x97\xa5"},     /* whole: 日 */
		{"ab\xe6\x97", "ab"},                     /* 2 of its 3 bytes */
		{"ab\xe6", "ab"},                         /* its lead alone */
		{"\xf0\x9f\x9a\xa2", "\xf0\x9f\x9a\xa2"}, /* whole: a 4-byte ship */
		{"x\xf0\x9f\x9a", "x"},                   /* 3 of its 4 */
		{"\xc3\xa9", "\xc3\xa9"},                 /* é */
		{"a\xc3", "a"},
		{"a\x81", "a\x81"}, /* a stray continuation is not a cut */
		{"", ""},
		{"plain", "plain"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		hw_utf8_trim(buf);
		assert_string_equal(buf, cases[i].out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_table),
		cmocka_unit_test(test_assert_handler),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_entry),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_list_items),
		cmocka_unit_test(test_addrs_parse),
		cmocka_unit_test(test_addr_split),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_log_escape),
		cmocka_unit_test(test_log_escaped),
		cmocka_unit_test(test_log_escaped_any),
		cmocka_unit_test(test_log_cut_utf8),
		cmocka_unit_test(test_log_read),
		cmocka_unit_test(test_log_every),
		cmocka_unit_test(test_log_every_what),
		cmocka_unit_test(test_rng_sequences),
		cmocka_unit_test(test_mono_counts_time_suspended),
		cmocka_unit_test(test_cond_wait_until),
		cmocka_unit_test(test_fs_parent),
		cmocka_unit_test(test_fs_mkdirs),
		cmocka_unit_test(test_fs_same),
		cmocka_unit_test(test_fs_within),
		cmocka_unit_test(test_utf8_trim),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
