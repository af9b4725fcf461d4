/* test_report.c: a drill's report (cli/report.c) as its HTML page and JSON say it, and
 * the text helpers it writes with (cli/text.c): every text a drill gave escaped for HTML
 * (markup, quotes, a byte that is not UTF-8) and its control characters as a terminal
 * shows them, the timeline's layout decisions (none without phases, rows in order of
 * start, the axis counted in one unit, an event marked at its time, a bar of
 * microseconds still seen), figures without exponents, what was cut or shortened marked
 * "...", a what-if run said as such, lines wrapped at 80 columns with control characters
 * escaped, and the predicted failover status and the demo print. The page in a browser
 * is test_report_html's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/utf8.h"
#include "cli/cli.h"
#include "cli/report.h"
#include "replica/validate.h"
#include "wire.pb-c.h"

/* 2026-11-26T10:00:00.123Z: a report's start, fixed so that its text is too. */
#define STARTED_MS 1795687200123LL

struct fix {
	struct hw_report r;
	char *text; /* what the last emit() wrote */
	size_t len;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	hw_report_init(&f->r, HW_DRILL_VERIFY, "p1");
	f->r.started_ms = STARTED_MS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	free(f->text);
	free(f);
	return 0;
}

/* The report as emit writes it (hw_report_html, hw_report_json), into f->text. */
static const char *emit(struct fix *f, void (*write)(const struct hw_report *, FILE *))
{
	free(f->text);
	f->text = NULL;
	FILE *m = open_memstream(&f->text, &f->len);
	assert_non_null(m);
	write(&f->r, m);
	assert_int_equal(fclose(m), 0);
	return f->text;
}

/* Where needle is in hay; fails the test when it is not there. */
static const char *at(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	if (p == NULL)
		fail_msg("no \"%s\" in:\n%s", needle, hay);
	return p;
}

/* Markup, quotes and ampersands in whatever a drill wrote (its verdict, the node, a
 * phase's name and detail, a check, a figure's unit, a fact) are shown, not obeyed, and a
 * byte that is not UTF-8 becomes \xNN, as the terminal shows it: the page stays one valid
 * UTF-8 document. */
static void test_html_escapes(void **state)
{
	struct fix *f = *state;
	hw_report_cut(f->r.node, sizeof f->r.node, "<node>");
	hw_report_phase(&f->r, "<script>alert(1)</script>", 0, 1, HW_VERDICT_PASS, "a&b \xff");
	hw_report_check(&f->r, "c<1>", HW_VERDICT_FAIL, "'quoted' \"twice\"");
	hw_report_figure(&f->r, "size", 1, "<u>");
	hw_report_fact(&f->r, "path", "/tmp/a\"b<c>");
	hw_report_finish(&f->r, HW_DRILL_FAIL, "lost 1 <record> & more");
	const char *h = emit(f, hw_report_html);
	assert_null(strstr(h, "<script>"));
	assert_null(strstr(h, "<node>"));
	assert_null(strstr(h, "\xff"));
	at(h, "data-phase=\"&lt;script&gt;alert(1)&lt;/script&gt;\"");
	assert_null(strstr(h, HW_UTF8_REPLACEMENT));
	at(h, ". a&amp;b \\xff</title>");
	at(h, "<td>c&lt;1&gt;</td><td class=\"v fail\">fail</td>"
	      "<td>&#39;quoted&#39; &quot;twice&quot;</td>");
	at(h, "<td>&lt;u&gt;</td>");
	at(h, "<code>/tmp/a&quot;b&lt;c&gt;</code>");
	at(h, "<p class=\"what\">lost 1 &lt;record&gt; &amp; more</p>");
	at(h, "node <code>&lt;node&gt;</code>, started 2026-11-26T10:00:00.123Z");
}

/* Control characters (ESC, BEL, a newline, a C1 control), backslashes and bytes that are
 * not UTF-8 in whatever a drill wrote (a path, a node's words) are shown as a terminal
 * shows them (base/log.h hw_log_escaped), HTML's own characters as entities: no control
 * byte reaches the page, where a newline would vanish into a space and ESC or BEL show as
 * nothing or a box, and a name holding "\x1b" as text still reads apart from one holding
 * ESC; UTF-8 text is kept as it is. */
static void test_html_controls(void **state)
{
	struct fix *f = *state;
	/* last, a byte that is not UTF-8 (a lead byte) before a backslash: \xc2, then \\ */
	const char *nasty = "a\x1b[2J\x07\n<b>&\\\xc2\x9b\x7f\xc2\\";
	const char *shown = "a\\x1b[2J\\x07\\n&lt;b&gt;&amp;\\\\\\xc2\\x9b\\x7f\\xc2\\\\";
	hw_report_cut(f->r.node, sizeof f->r.node, nasty);
	hw_report_phase(&f->r, nasty, 0, 1, HW_VERDICT_PASS, "%s", nasty);
	hw_report_check(&f->r, nasty, HW_VERDICT_FAIL, "%s", nasty);
	hw_report_figure(&f->r, "size", 1, "\a");
	hw_report_fact(&f->r, nasty, "%s", nasty);
	hw_report_fact(&f->r, "utf8", "caf\xc3\xa9 \xe5\x90\x8d \xf0\x9f\x9a\xa2"); /* kept whole */
	hw_report_finish(&f->r, HW_DRILL_FAIL, "%s", nasty);
	const char *h = emit(f, hw_report_html);
	at(h, "caf\xc3\xa9 \xe5\x90\x8d \xf0\x9f\x9a\xa2");
	unsigned long cp;
	for (const unsigned char *p = (const unsigned char *)h; *p != '\0';) {
		size_t len = hw_utf8_decode(p, &cp);
		assert_int_not_equal(len, 0); /* the page stays UTF-8 */
		assert_true(cp == '\n' || (cp >= 0x20 && cp != 0x7f && (cp < 0x80 || cp > 0x9f)));
		p += len; /* no control character but the page's own line ends */
	}
	int n = 0;
	for (const char *p = h; (p = strstr(p, shown)) != NULL; p++)
		n++;
	assert_int_equal(n, 10); /* node, what; a phase's name thrice, its detail; a check's and
				    a fact's name and text */
	at(h, "<td>\\x07</td>");
}

/* A report without phases says nothing was timed instead of an empty axis (that looks
 * like a hang); with phases there is an SVG and no such line. */
static void test_html_timeline_none(void **state)
{
	struct fix *f = *state;
	hw_report_finish(&f->r, HW_DRILL_ERROR, "stopped");
	const char *h = emit(f, hw_report_html);
	at(h, "<p id=\"timeline-none\">Nothing was timed");
	assert_null(strstr(h, "<svg"));
	hw_report_phase(&f->r, "open", 0, 0.5, HW_VERDICT_PASS, "ok");
	h = emit(f, hw_report_html);
	assert_null(strstr(h, "timeline-none"));
	at(h, "<svg id=\"timeline\"");
	at(h, "1 phases over 0.500 s");
}

/* Rows go down in order of start, whatever order the drill added them in, and phases that
 * start together keep the order they were added in. */
static void test_html_rows_by_start(void **state)
{
	struct fix *f = *state;
	hw_report_phase(&f->r, "late", 2, 3, HW_VERDICT_PASS, "-");
	hw_report_phase(&f->r, "first", 0, 1, HW_VERDICT_PASS, "-");
	hw_report_phase(&f->r, "late too", 2, 2.5, HW_VERDICT_WARN, "-");
	f->r.seconds = 3;
	const char *h = emit(f, hw_report_html);
	const char *a = at(h, "data-phase=\"first\"");
	const char *b = at(h, "data-phase=\"late\"");
	const char *c = at(h, "data-phase=\"late too\" data-verdict=\"warn\"");
	assert_true(a < b && b < c);
}

/* The axis counts its ticks in the unit of its step: microseconds for a run of 400 us
 * (on an axis of 1 ms at least), milliseconds for half a second, seconds for 30 s; never
 * an exponent. */
static void test_html_axis_unit(void **state)
{
	struct fix *f = *state;
	static const struct {
		double span;
		const char *over, *tick, *unlike;
	} cases[] = {{0.0004, "over 0.001 s", ">100 \xc2\xb5s</text>", " ms</text>"},
		     {0.5, "over 0.500 s", ">50 ms</text>", " s</text>"},
		     {30, "over 30.000 s", ">5 s</text>", " ms</text>"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		hw_report_init(&f->r, HW_DRILL_RESTORE, "p1");
		hw_report_phase(&f->r, "restore", 0, cases[i].span, HW_VERDICT_PASS, "-");
		f->r.seconds = cases[i].span;
		const char *h =
			at(at(emit(f, hw_report_html), cases[i].over), "<g class=\"axis-ticks\">");
		char axis[4096];
		snprintf(axis, sizeof axis, "%.*s", (int)(at(h, "</g>") - h), h);
		at(axis, cases[i].tick);
		assert_null(strstr(axis, cases[i].unlike));
		assert_null(strstr(axis, "e-0"));
	}
}

/* An event is a mark at its time ("at 1.5 s"), not a bar; a check of microseconds in a run
 * of seconds still gets a bar of the least width a reader sees, with its duration in us. */
static void test_html_marks_and_bars(void **state)
{
	struct fix *f = *state;
	hw_report_event(&f->r, "fault", 1.5, HW_VERDICT_WARN, "kill -9");
	hw_report_phase(&f->r, "digest", 2, 2.000004, HW_VERDICT_PASS, "-");
	f->r.seconds = 10;
	const char *h = emit(f, hw_report_html);
	const char *fault = at(h, "data-phase=\"fault\"");
	const char *mark = at(fault, "<circle class=\"mark warn\"");
	assert_true(mark < at(fault, "</g>"));
	at(fault, "<title>fault: at 1.50 s, warn. kill -9</title>");
	const char *digest = at(h, "data-phase=\"digest\"");
	at(digest, "width=\"0.25%\"");
	at(digest, ">4 \xc2\xb5s</text>");
}

/* Figures as people read them: an integer with its thousands separated, a fraction with
 * its trailing zeros dropped (and its point, when nothing is left after it), a tiny one
 * with its digits, a negative one signed. */
static void test_html_figures(void **state)
{
	struct fix *f = *state;
	hw_report_figure(&f->r, "bytes", 9756672, "bytes");
	hw_report_figure(&f->r, "p99", 780.5, "ms");
	hw_report_figure(&f->r, "tiny", 0.000000770491, "s");
	hw_report_figure(&f->r, "skew", -1234.25, "ms");
	hw_report_figure(&f->r, "ratio", 2.0001, "x");
	const char *h = emit(f, hw_report_html);
	at(h, "<td class=\"num\">9,756,672</td>");
	at(h, "<td class=\"num\">780.5</td>");
	at(h, "<td class=\"num\">0.000000770491</td>");
	at(h, "<td class=\"num\">-1,234.25</td>");
	at(h, "<td class=\"num\">2</td>"); /* 2.000, its point gone with its zeros */
}

/* Text too long for its field ends with "..." at a character's boundary (never half a
 * character); a path too long for its sentence keeps its start and its end. */
static void test_cut_and_shorten(void **state)
{
	(void)state;
	char dst[8];
	hw_report_cut(dst, sizeof dst, "short");
	assert_string_equal(dst, "short");
	hw_report_cut(dst, sizeof dst, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"); /* 4 x e-acute */
	assert_string_equal(dst, "\xc3\xa9\xc3\xa9...");
	hw_report_cut(dst, sizeof dst, "a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"); /* not a half */
	assert_string_equal(dst, "a\xc3\xa9...");
	char p[64];
	/* 21 bytes: a third of what is not the mark for the start, the rest for the end */
	hw_report_shorten(p, sizeof p, "/srv/hawser/a-long-directory-name/store", 21);
	assert_string_equal(p, "/srv/h...y-name/store");
	hw_report_shorten(p, sizeof p, "/srv/store", 21);
	assert_string_equal(p, "/srv/store");
}

/* A run judged at another time (--now) says so on the page and in the JSON; one judged
 * now has judged_at null. Entries past a bound are counted on the page. */
static void test_judged_and_dropped(void **state)
{
	struct fix *f = *state;
	hw_report_finish(&f->r, HW_DRILL_PASS, "on time");
	const char *h = emit(f, hw_report_html);
	assert_null(strstr(h, "id=\"judged\""));
	assert_null(strstr(h, "did not fit"));
	at(emit(f, hw_report_json), "\"judged_at\":null");
	f->r.judged_ms = STARTED_MS + 86400000;
	f->r.dropped = 3;
	h = emit(f, hw_report_html);
	at(h, "<p class=\"judged\" id=\"judged\">judged at 2026-11-27T10:00:00.123Z (--now): "
	      "not recorded in the drill history</p>");
	at(h, "<p>3 entries did not fit in the report.</p>");
	const char *j = emit(f, hw_report_json);
	at(j, "\"judged_at\":\"2026-11-27T10:00:00.123Z\"");
	at(j, "\"dropped\":3");
}

/* The JSON holds what the page shows, its strings escaped as JSON; a byte that is not
 * UTF-8 (a lone lead, 0xff, an overlong's) is the four characters \xNN there, as on the
 * page and the terminal ("\\xff" in the JSON), UTF-8 text as it is, and no U+FFFD. */
static void test_json_escapes(void **state)
{
	struct fix *f = *state;
	hw_report_check(&f->r, "digest", HW_VERDICT_FAIL, "at \"lsn\" 5\nthen 6");
	hw_report_fact(&f->r, "path", "/a\xc3/b\xff/caf\xc3\xa9\xc0\xaf");
	hw_report_finish(&f->r, HW_DRILL_FAIL, "bad");
	const char *j = emit(f, hw_report_json);
	at(j, "\"/a\\\\xc3/b\\\\xff/caf\xc3\xa9\\\\xc0\\\\xaf\"");
	assert_null(strstr(j, HW_UTF8_REPLACEMENT));
	at(j, "\"kind\":\"verify\",\"result\":\"FAIL\",\"what\":\"bad\",\"node\":\"p1\"");
	at(j, "\"started\":\"2026-11-26T10:00:00.123Z\"");
	at(j,
	   "{\"name\":\"digest\",\"verdict\":\"fail\",\"detail\":\"at \\\"lsn\\\" 5\\nthen 6\"}");
}

/* hw_cli_wrap: within 80 columns, a word that would pass them on a line of its own under
 * the hang, a word wider than a line whole. */
static void test_text(void **state)
{
	(void)state;
	char *out = NULL, line[400], word[120];
	size_t len = 0;
	memset(word, 'w', 100);
	word[100] = '\0';
	snprintf(line, sizeof line, "%s %s %s",
		 "hawser x: the reason is this, and here a long one:",
		 "0123456789012345678901234567890", word);
	FILE *m = open_memstream(&out, &len);
	assert_non_null(m);
	hw_cli_wrap(m, 2, line);
	assert_int_equal(fclose(m), 0);
	char want[400];
	snprintf(want, sizeof want,
		 "hawser x: the reason is this, and here a long one:\n"
		 "  0123456789012345678901234567890\n  %s\n",
		 word);
	assert_string_equal(out, want);
	free(out);
}

/* hw_cli_message_shown: the strings of a decoded Status and of the peers in it escaped in
 * place, one with nothing to escape kept, all freed as the decoder's own. */
static void test_message_shown(void **state)
{
	(void)state;
	Hawser__Wire__V1__Status st = HAWSER__WIRE__V1__STATUS__INIT;
	Hawser__Wire__V1__PeerStatus peer = HAWSER__WIRE__V1__PEER_STATUS__INIT;
	Hawser__Wire__V1__PeerStatus *peers[1] = {&peer};
	st.node_id = (char *)"s1";
	st.primary = (char *)"unix:/p\x1b[2J\x07";
	peer.node_id = (char *)"a\nb";
	st.n_peers = 1;
	st.peers = peers;
	uint8_t buf[512];
	size_t len = hawser__wire__v1__status__get_packed_size(&st);
	assert_true(len <= sizeof buf);
	hawser__wire__v1__status__pack(&st, buf);
	Hawser__Wire__V1__Status *s = hawser__wire__v1__status__unpack(NULL, len, buf);
	assert_non_null(s);
	assert_int_equal(hw_cli_message_shown(&s->base), 0);
	assert_string_equal(s->node_id, "s1");
	assert_string_equal(s->primary, "unix:/p\\x1b[2J\\x07");
	assert_string_equal(s->peers[0]->node_id, "a\\nb");
	assert_string_equal(s->mode, ""); /* unset: its default, kept */
	hawser__wire__v1__status__free_unpacked(s, NULL);
}

/* hw_cli_event_text: outside text as an audit event's detail carries it, which a node
 * with a key takes (hw_text_ok): a control character escaped as a terminal shows it, a
 * byte that starts no UTF-8 character as \xNN; whole when it fits, else its start cut at
 * the end of an escape or a character, or "..." and its end from the start of one. */
static void test_event_text(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool tail;
		size_t cap;
		const char *want;
	} cases[] = {
		{"a\x1b\nb\xff"
		 "c",
		 false, 16, "a\\x1b\\nb\\xffc"}, /* whole: it fits */
		{"a\x1b\nb\xff"
		 "c",
		 true, 16, "a\\x1b\\nb\\xffc"},
		{NULL, true, 12, ""},
		/* cut: never inside an escape, nor inside a character (U+00E9, 2 bytes) */
		{"ab\x1b\x1b\x1b"
		 "cd",
		 false, 12, "ab\\x1b\\x1b"},
		{"ab\x1b\x1b\x1b"
		 "cd",
		 true, 12, "...\\x1bcd"},
		{"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", false, 12,
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"},
		{"x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", true, 12,
		 "...\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"},
		/* a byte that is no character's (a stray continuation byte) is one to cut at */
		{"abcdefgh\x80\x80ij", true, 12, "...\\x80ij"},
	};
	char buf[16];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(hw_cli_event_text(cases[i].s, cases[i].tail, buf, cases[i].cap),
				    cases[i].want);
	for (size_t cap = 4; cap <= sizeof buf; cap++) {
		for (int tail = 0; tail < 2; tail++) {
			const char *t = hw_cli_event_text("\x1b\xc2\x85\xe5\x90\x8d\xf0\x9f\x9a"
							  "\xa2\xff\x07\xc3",
							  tail, buf, cap);
			assert_true(strlen(t) < cap && hw_text_ok(t, cap));
		}
	}
}

/* The failover a node predicts, as status says it and, terse, as the demo does under its
 * deeper indent: its terms, or, when no standby can take over, that none can happen (the
 * demo's line for that was never run by a test); the longest fits its buffer whole. */
static void test_predicted(void **state)
{
	(void)state;
	Hawser__Wire__V1__FailoverStatus fo = HAWSER__WIRE__V1__FAILOVER_STATUS__INIT;
	fo.configured = true;
	fo.no_failover = true;
	fo.failover_ms = 1234; /* what a node that can fail over would predict: not said */
	char buf[HW_CLI_PREDICTED_CHARS];
	assert_string_equal(hw_cli_predicted(&fo, true, buf, sizeof buf),
			    "predicted failover: none, no failover can happen now");
	assert_string_equal(hw_cli_predicted(&fo, false, buf, sizeof buf),
			    "predicted failover: none, no failover can happen now");
	fo.no_failover = false;
	fo.detection_ms = 800;
	fo.election_ms = 100;
	fo.replay_ms = 34;
	fo.resume_ms = 300;
	assert_string_equal(hw_cli_predicted(&fo, true, buf, sizeof buf),
			    "predicted failover 1234 ms = detect 800 + elect 100 + replay 34 + "
			    "resume 300");
	assert_string_equal(hw_cli_predicted(&fo, false, buf, sizeof buf),
			    "predicted failover 1234 ms = detection 800 + election 100 + replay "
			    "34 + resume 300");
	fo.failover_ms = fo.detection_ms = fo.election_ms = fo.replay_ms = fo.resume_ms = INT64_MIN;
	hw_cli_predicted(&fo, false, buf, sizeof buf);
	assert_string_equal(buf + strlen(buf) - 27, "resume -9223372036854775808");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_html_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_controls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_timeline_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_rows_by_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_axis_unit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_marks_and_bars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html_figures, setup, teardown),
		cmocka_unit_test(test_cut_and_shorten),
		cmocka_unit_test_setup_teardown(test_judged_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_escapes, setup, teardown),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_message_shown),
		cmocka_unit_test(test_predicted),
		cmocka_unit_test(test_event_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
