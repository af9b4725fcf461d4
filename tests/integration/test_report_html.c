/* test_report_html.c: a drill's HTML report as a browser shows it. Headless Chromium
 * (Debian's chromium, installed by scripts/deps.sh with HW_DEPS_TEST=1) renders the
 * report of a passing restore drill and of one against a damaged backup: a screenshot is
 * taken, and the rendered DOM (--dump-dom) holds the SVG timeline with one bar per phase,
 * each with its verdict, and the figures whole; a procedure judged at another time (--now)
 * says so on the page, with a bar per check and the facts it looked at; a drill that
 * timed nothing draws no empty axis; a path holding ESC, BEL, a newline and a byte that is
 * not UTF-8 shows them escaped as the terminal does; a report of long paths and phase
 * names fits windows 1280 and 800 px wide (measured in the page by a script added to a
 * copy of it).
 * Exit 77 with the reason when chromium is not installed. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/utf8.h"
#include "tests/integration/cli_fix.h"

/* Run bin (hawser or chromium) with the given arguments (NULL-terminated), capturing its
 * output. */
#define run(r, bin, ...) checked(hw_proc_capture((r), (bin), __VA_ARGS__))

static int setup(void **state)
{
	return fix_setup(state, "report-html");
}

static const char *chromium;

/* Chromium's flags for a test: no sandbox (root in CI), nothing from the network, a
 * throw-away profile. */
#define CHROMIUM_FLAGS                                                                             \
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",          \
		"--disable-component-update", "--disable-sync", "--no-first-run"

/* The HTML report's path a drill's summary in f->r.out names ("report: PATH"), into html
 * (cap at least 4096). */
static void report_of(const struct fix *f, char *html, size_t cap)
{
	assert_true(cap >= 4096);
	const char *p = strstr(f->r.out, "report: ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "report: %4095s", html), 1);
}

/* Run a restore drill of a fresh store's backup, damaged first when damage is set;
 * copies the HTML report's path into html. Returns the drill's exit code. */
static int restore_report(struct fix *f, const char *tag, int damage, char *html, size_t cap)
{
	char dir[4300], bak[4300], scratch[4300], snap[4400];
	snprintf(dir, sizeof(dir), "%s/%s-store", f->dir, tag);
	snprintf(bak, sizeof(bak), "%s/%s-bak", f->dir, tag);
	snprintf(scratch, sizeof(scratch), "%s/%s-scratch", f->dir, tag);
	assert_int_equal(run(&f->r, hw_bin, "init", dir, NULL), 0);
	assert_int_equal(run(&f->r, hw_bin, "ingest", dir, "--generate", "20000", "--seed", "3",
			     "--end-ms", END_MS, NULL),
			 0);
	assert_int_equal(run(&f->r, hw_bin, "backup", dir, bak, NULL), 0);
	if (damage) {
		snprintf(snap, sizeof(snap), "%s/snapshot/data.mdb", bak);
		FILE *fp = fopen(snap, "r+b");
		assert_non_null(fp);
		assert_int_equal(fseek(fp, 20000, SEEK_SET), 0);
		fputc(0x42, fp);
		fputc(0x24, fp);
		fclose(fp);
	}
	int rc = run(&f->r, hw_bin, "drill", "restore", "--backup", bak, "--scratch", scratch,
		     "--dir", dir, NULL);
	report_of(f, html, cap);
	return rc;
}

/* Chromium's --user-data-dir= flag naming a new profile directory in the test's, into arg. */
static void profile_flag(const struct fix *f, char *arg, size_t cap)
{
	char profile[4300];
	snprintf(profile, sizeof(profile), "%s/chrome-XXXXXX", f->dir);
	assert_non_null(mkdtemp(profile));
	snprintf(arg, cap, "--user-data-dir=%s", profile);
}

/* Render html in chromium: a screenshot (a PNG of some size) and the DOM into f->r.out. */
static void render(struct fix *f, const char *html, const char *png)
{
	char url[4200], shot[4300], dom_profile[4400];
	snprintf(url, sizeof(url), "file://%s", html);
	snprintf(shot, sizeof(shot), "--screenshot=%s", png);
	profile_flag(f, dom_profile, sizeof(dom_profile));
	assert_int_equal(run(&f->r, chromium, CHROMIUM_FLAGS, dom_profile, shot,
			     "--window-size=1200,800", url, NULL),
			 0);
	struct stat st;
	assert_int_equal(stat(png, &st), 0);
	assert_true(st.st_size > 10000); /* a blank 1200x800 page compresses far below */
	FILE *fp = fopen(png, "rb");
	assert_non_null(fp);
	unsigned char magic[8];
	assert_int_equal(fread(magic, 1, 8, fp), 8);
	fclose(fp);
	assert_memory_equal(magic, "\x89PNG\r\n\x1a\n", 8);
	assert_int_equal(run(&f->r, chromium, CHROMIUM_FLAGS, dom_profile, "--dump-dom", url, NULL),
			 0);
}

/* Render the report the last drill's summary names (report_of), its screenshot named
 * after tag: the DOM into f->r.out. */
static void render_last(struct fix *f, const char *tag)
{
	char html[4096], png[4300];
	report_of(f, html, sizeof(html));
	snprintf(png, sizeof(png), "%s/%s.png", f->dir, tag);
	render(f, html, png);
}

/* The file at path, whole (a report: far below the buffer), NUL-terminated. */
static const char *slurp(const char *path)
{
	static char buf[1 << 20];
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	assert_true(n < sizeof(buf) - 1);
	buf[n] = '\0';
	return buf;
}

/* The JSON report beside html (same name, .json). */
static const char *report_json(const char *html)
{
	char path[4200];
	snprintf(path, sizeof(path), "%.*s.json", (int)(strlen(html) - strlen(".html")), html);
	return slurp(path);
}

/* The value of figure name in the JSON report json. */
static double json_figure(const char *json, const char *name)
{
	char key[128];
	snprintf(key, sizeof(key), "{\"name\":\"%s\",\"value\":", name);
	const char *p = strstr(json, key);
	assert_non_null(p);
	return strtod(p + strlen(key), NULL);
}

/* The text of figure name's value cell in the rendered page dom, into buf. */
static const char *html_figure(const char *dom, const char *name, char *buf, size_t cap)
{
	char key[128];
	snprintf(key, sizeof(key), "<td>%s</td><td class=\"num\">", name);
	const char *p = strstr(dom, key);
	assert_non_null(p);
	p += strlen(key);
	snprintf(buf, cap, "%.*s", (int)strcspn(p, "<"), p);
	return buf;
}

/* An integer figure is written whole, its thousands separated: 9756672 is 9,756,672. */
static void assert_whole(const char *dom, const char *json, const char *name)
{
	char want[64], digits[32], got[64];
	double v = json_figure(json, name);
	assert_true(v == floor(v) && v >= 0);
	int n = snprintf(digits, sizeof(digits), "%.0f", v);
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			want[k++] = ',';
		want[k++] = digits[i];
	}
	want[k] = '\0';
	assert_string_equal(html_figure(dom, name, got, sizeof(got)), want);
}

/* A passing restore drill's report renders with its timeline: four phases (backup
 * check, replay, chain walk, rebuild), all green, and the PASS badge; its checks say
 * that no trusted key judged the (absent) checkpoint signers. */
static void test_pass_report_renders(void **state)
{
	struct fix *f = *state;
	char html[4096], png[4300];
	assert_int_equal(restore_report(f, "ok", 0, html, sizeof(html)), 0);
	snprintf(png, sizeof(png), "%s/pass.png", f->dir);
	render(f, html, png);
	const char *dom = f->r.out;
	assert_non_null(strstr(dom, "<svg id=\"timeline\""));
	assert_int_equal(hw_test_count(dom, "<g class=\"phase\""), 4);
	assert_non_null(strstr(dom, "data-phase=\"check backup\""));
	assert_non_null(strstr(dom, "data-phase=\"replay\""));
	assert_non_null(strstr(dom, "data-phase=\"rebuild and compare\""));
	assert_int_equal(hw_test_count(dom, "<rect class=\"bar pass\""), 4);
	assert_non_null(strstr(dom, "id=\"result\">PASS<"));
	assert_non_null(strstr(dom, "restore time within RTO"));
	/* an unsigned store and no trusted key: a pass that says so on the page */
	assert_non_null(strstr(dom, "no trusted keys configured and no signed checkpoint"));
	/* figures: integers whole, a small fraction with its digits, in the JSON too */
	const char *json = report_json(html);
	assert_whole(dom, json, "backup_bytes");
	assert_whole(dom, json, "restored_lsn");
	double used = json_figure(json, "rto_used");
	double want = json_figure(json, "time_to_recovery_s") / json_figure(json, "restore_rto_s");
	assert_true(used > 0 && fabs(used - want) <= 1e-12 * want);
	char cell[64];
	html_figure(dom, "rto_used", cell, sizeof(cell));
	assert_null(strpbrk(cell, "e,")); /* no exponent: 0.0000867 */
	assert_true(fabs(strtod(cell, NULL) - used) <= 1e-5 * used);
	if (getenv("HW_KEEP_PNG"))
		printf("screenshot: %s\n", png);
}

/* A restore drill against a damaged backup renders as FAIL: the backup check's bar is
 * red and the reason is on the page. */
static void test_fail_report_renders(void **state)
{
	struct fix *f = *state;
	char html[4096], png[4300];
	assert_int_equal(restore_report(f, "bad", 1, html, sizeof(html)), 3);
	snprintf(png, sizeof(png), "%s/fail.png", f->dir);
	render(f, html, png);
	const char *dom = f->r.out;
	assert_non_null(strstr(dom, "<svg id=\"timeline\""));
	assert_non_null(strstr(dom, "data-phase=\"check backup\" data-verdict=\"fail\""));
	assert_non_null(strstr(dom, "<rect class=\"bar fail\""));
	assert_non_null(strstr(dom, "id=\"result\">FAIL<"));
	assert_non_null(strstr(dom, "is damaged"));
}

/* A procedure drill judged at another time (--now) says so on the page, under its start:
 * the judged time, and that it is not recorded. Its timeline has a bar per check, named
 * as the check, as docs/drills.md says, and its facts name the store and the backup
 * directories it looked at. The axis counts in one unit, the one its step is in: no
 * "0.0001 s" beside bars in µs. */
static void test_what_if_report_renders(void **state)
{
	struct fix *f = *state;
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/store", f->dir);
	assert_int_equal(run(&f->r, hw_bin, "init", dir, NULL), 0);
	assert_int_equal(run(&f->r, hw_bin, "drill", "procedure", "--dir", dir, "--now",
			     "2031-05-04T03:02:01Z", NULL),
			 3);
	render_last(f, "what-if");
	assert_non_null(strstr(f->r.out,
			       "id=\"judged\">judged at 2031-05-04T03:02:01.000Z (--now): "
			       "not recorded in the drill history</p>"));
	assert_non_null(strstr(f->r.out, "id=\"result\">FAIL<"));
	const char *dom = f->r.out;
	int checks = hw_test_count(dom, "<td class=\"v ");
	assert_true(checks >= 8);
	assert_int_equal(hw_test_count(dom, "<g class=\"phase\""), checks);
	const char *c = strstr(dom, "<table id=\"checks\">"), *end = strstr(c, "</table>");
	while ((c = strstr(c, "<tr><td>")) != NULL && c < end) {
		char bar[128];
		c += strlen("<tr><td>");
		snprintf(bar, sizeof(bar), "data-phase=\"%.*s\"", (int)strcspn(c, "<"), c);
		assert_non_null(strstr(dom, bar));
	}
	char fact[4400];
	snprintf(fact, sizeof(fact), "<td>store</td><td><code>%s</code>", dir);
	assert_non_null(strstr(dom, fact));
	assert_non_null(strstr(dom, "<td>config</td><td><code>none (--dir)</code>"));
	assert_non_null(strstr(dom, "<td>backup_dir</td><td><code>not configured</code>"));
	assert_non_null(strstr(dom, "<td>offsite_dir</td><td><code>not configured</code>"));
	const char *t = strstr(dom, "<g class=\"axis-ticks\">");
	assert_non_null(t);
	end = strstr(t, "</g>");
	while ((t = strstr(t, "text-anchor=\"middle\">")) != NULL && t < end) {
		t += strlen("text-anchor=\"middle\">");
		assert_int_equal(strcspn(t, ".<"), strcspn(t, "<")); /* 100 µs, not 0.0001 s */
	}
}

/* A drill that ends in ERROR before its first phase (verify of a directory that holds no
 * store, its report where --report-dir says) shows no empty time axis: a line says
 * nothing was timed. */
static void test_error_report_renders(void **state)
{
	struct fix *f = *state;
	char dir[4300], reports[4300];
	snprintf(dir, sizeof(dir), "%s/empty", f->dir);
	snprintf(reports, sizeof(reports), "%s/reports", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(
		run(&f->r, hw_bin, "drill", "verify", "--dir", dir, "--report-dir", reports, NULL),
		1);
	render_last(f, "error");
	assert_non_null(strstr(f->r.out, "id=\"result\">ERROR<"));
	assert_null(strstr(f->r.out, "<svg id=\"timeline\""));
	assert_non_null(strstr(f->r.out, "<p id=\"timeline-none\">Nothing was timed"));
}

/* A string holding ESC, BEL, a newline, '<', '&' and a byte that is not UTF-8 (a
 * --backup-dir path, which the procedure names in a fact, a check and its bar, and its
 * summary) shows in the rendered page as the terminal's summary shows it, \x1b, \x07, \n
 * and \xff, beside "<" and "&" as text: no control character reaches the DOM, where a
 * newline would show as a space and ESC or BEL as nothing, and no U+FFFD, which an
 * operator could not match to the terminal's \xff. */
static void test_controls_shown(void **state)
{
	struct fix *f = *state;
	char dir[4300], bak[4300], want[4500];
	snprintf(dir, sizeof(dir), "%s/store", f->dir);
	snprintf(bak, sizeof(bak), "%s/b\x1b[2J\x07\n<i>&\xff", f->dir);
	assert_int_equal(run(&f->r, hw_bin, "init", dir, NULL), 0);
	assert_int_equal(
		run(&f->r, hw_bin, "drill", "procedure", "--dir", dir, "--backup-dir", bak, NULL),
		3);
	snprintf(want, sizeof(want), "backup_dir %s/b\\x1b[2J\\x07\\n<i>&\\xff holds no backup",
		 f->dir);
	assert_non_null(strstr(f->r.out, want)); /* the terminal's summary */
	render_last(f, "controls");
	const char *dom = f->r.out;
	assert_null(strchr(dom, '\x1b'));
	assert_null(strchr(dom, '\x07'));
	assert_null(strstr(dom, HW_UTF8_REPLACEMENT));
	snprintf(want, sizeof(want),
		 "<td>backup_dir</td><td><code>%s/b\\x1b[2J\\x07\\n&lt;i&gt;&amp;\\xff<", f->dir);
	assert_non_null(strstr(dom, want));
	snprintf(want, sizeof(want),
		 "backup_dir %s/b\\x1b[2J\\x07\\n&lt;i&gt;&amp;\\xff holds no backup", f->dir);
	assert_true(hw_test_count(dom, want) >= 2); /* the check's row and its bar's title */
}

/* What a layout test adds to a copy of a report: a script listing in <pre id="measured">
 * what does not fit the window (the page wider than it, a text of the timeline outside
 * the drawing or the window, the header or a table cell past its right edge), else
 * "fits". */
static const char measure_js[] =
	"<script>(function () {"
	"var vw = document.documentElement.clientWidth, bad = [];"
	"var page = document.documentElement.scrollWidth;"
	"if (page > vw) bad.push('page ' + page + ' px wide in ' + vw);"
	"var svg = document.getElementById('timeline'), s = svg.getBoundingClientRect();"
	"svg.querySelectorAll('text').forEach(function (t) {"
	"  var b = t.getBoundingClientRect();"
	"  if (b.left < s.left - 1 || b.right > s.right + 1 || b.right > vw)"
	"    bad.push('cut: ' + t.textContent);"
	"});"
	"document.querySelectorAll('header, td, th').forEach(function (e) {"
	"  if (e.getBoundingClientRect().right > vw)"
	"    bad.push('off the page: ' + e.textContent.slice(0, 60));"
	"});"
	"var p = document.createElement('pre');"
	"p.id = 'measured';"
	"p.textContent = bad.length ? bad.join(' | ') : 'fits';"
	"document.body.appendChild(p);"
	"})();</script>";

/* Render a copy of html with measure_js in a window px wide: what it measured. */
static const char *measured(struct fix *f, const char *html, int px)
{
	char copy[4300], url[4400], size[32], dom_profile[4400];
	snprintf(copy, sizeof(copy), "%s/measure-%d.html", f->dir, px);
	const char *page = slurp(html), *end = strstr(page, "</body>");
	assert_non_null(end);
	FILE *fp = fopen(copy, "wb");
	assert_non_null(fp);
	fprintf(fp, "%.*s%s%s", (int)(end - page), page, measure_js, end);
	assert_int_equal(fclose(fp), 0);
	snprintf(url, sizeof(url), "file://%s", copy);
	snprintf(size, sizeof(size), "--window-size=%d,900", px);
	profile_flag(f, dom_profile, sizeof(dom_profile));
	assert_int_equal(
		run(&f->r, chromium, CHROMIUM_FLAGS, dom_profile, size, "--dump-dom", url, NULL),
		0);
	const char *m = strstr(f->r.out, "<pre id=\"measured\">");
	assert_non_null(m);
	m += strlen("<pre id=\"measured\">");
	print_message("%d px: %.*s\n", px, (int)strcspn(m, "<"), m);
	return m;
}

/* A report of long paths without spaces fits windows 1280 and 800 px wide: the header and
 * the tables break the paths, and the timeline is as wide as the page and shows each
 * phase's name whole. (A verify drill comparing stores under such paths: its compare
 * phase and check are named after the other store.) */
static void test_long_paths_fit(void **state)
{
	struct fix *f = *state;
	char a[4300], b[4300], html[4096];
	const char *deep = "terminal_operating_system_replica_directory_for_the_yard_and_"
			   "berth_planning_of_terminal_one";
	snprintf(a, sizeof(a), "%s/%s", f->dir, deep);
	assert_int_equal(mkdir(a, 0755), 0);
	snprintf(b, sizeof(b), "%s/%s/%s_copy", f->dir, deep, deep);
	snprintf(a, sizeof(a), "%s/%s/%s", f->dir, deep, deep);
	for (int i = 0; i < 2; i++) {
		const char *dir = i ? b : a;
		assert_int_equal(run(&f->r, hw_bin, "init", dir, NULL), 0);
		assert_int_equal(run(&f->r, hw_bin, "ingest", dir, "--generate", "200", "--seed",
				     "3", "--end-ms", END_MS, NULL),
				 0);
	}
	assert_int_equal(run(&f->r, hw_bin, "drill", "verify", "--dir", a, "--compare", b, NULL),
			 0);
	report_of(f, html, sizeof(html));
	assert_memory_equal(measured(f, html, 1280), "fits<", 5);
	assert_memory_equal(measured(f, html, 800), "fits<", 5);
}

static const char *find_chromium(void)
{
	static const char *const paths[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_report_html");
	if (hw_bin == NULL)
		return 77;
	chromium = find_chromium();
	if (!chromium) {
		printf("test_report_html: skipped: chromium is not installed (Debian package "
		       "chromium; scripts/deps.sh installs it with HW_DEPS_TEST=1)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pass_report_renders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_report_renders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_what_if_report_renders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_report_renders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_controls_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_paths_fit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
