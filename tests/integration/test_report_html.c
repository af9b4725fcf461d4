/* test_report_html.c: a drill's HTML report as a browser shows it. Headless Chromium
 * (Debian's chromium, installed by scripts/deps.sh with HW_DEPS_TEST=1) renders the
 * report of a passing restore drill and of one against a damaged backup: a screenshot is
 * taken, and the rendered DOM (--dump-dom) holds the SVG timeline with one bar per phase,
 * each with its verdict, and the figures whole (in the JSON too); a procedure judged at
 * another time (--now) says so on the page, with a bar per check and the facts it
 * looked at; a drill that timed nothing draws no empty axis.
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
	const char *p = strstr(f->r.out, "report: ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "report: %4095s", html), 1);
	assert_true(strlen(html) < cap);
	return rc;
}

/* Render html in chromium: a screenshot (a PNG of some size) and the DOM into f->r.out. */
static void render(struct fix *f, const char *html, const char *png)
{
	char url[4200], shot[4300], profile[4300], dom_profile[4400];
	snprintf(url, sizeof(url), "file://%s", html);
	snprintf(shot, sizeof(shot), "--screenshot=%s", png);
	snprintf(profile, sizeof(profile), "%s/chrome-XXXXXX", f->dir);
	assert_non_null(mkdtemp(profile));
	snprintf(dom_profile, sizeof(dom_profile), "--user-data-dir=%s", profile);
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

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
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
	assert_int_equal(count(dom, "<g class=\"phase\""), 4);
	assert_non_null(strstr(dom, "data-phase=\"check backup\""));
	assert_non_null(strstr(dom, "data-phase=\"replay\""));
	assert_non_null(strstr(dom, "data-phase=\"rebuild and compare\""));
	assert_int_equal(count(dom, "<rect class=\"bar pass\""), 4);
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
 * directories it looked at. */
static void test_what_if_report_renders(void **state)
{
	struct fix *f = *state;
	char dir[4300], html[4096], png[4300];
	snprintf(dir, sizeof(dir), "%s/store", f->dir);
	assert_int_equal(run(&f->r, hw_bin, "init", dir, NULL), 0);
	assert_int_equal(run(&f->r, hw_bin, "drill", "procedure", "--dir", dir, "--now",
			     "2031-05-04T03:02:01Z", NULL),
			 3);
	const char *p = strstr(f->r.out, "report: ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "report: %4095s", html), 1);
	snprintf(png, sizeof(png), "%s/what-if.png", f->dir);
	render(f, html, png);
	assert_non_null(strstr(f->r.out,
			       "id=\"judged\">judged at 2031-05-04T03:02:01.000Z (--now): "
			       "not recorded in the drill history</p>"));
	assert_non_null(strstr(f->r.out, "id=\"result\">FAIL<"));
	const char *dom = f->r.out;
	int checks = count(dom, "<td class=\"v ");
	assert_true(checks >= 8);
	assert_int_equal(count(dom, "<g class=\"phase\""), checks);
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
}

/* A drill that ends in ERROR before its first phase (verify of a directory that holds no
 * store, its report where --report-dir says) shows no empty time axis: a line says
 * nothing was timed. */
static void test_error_report_renders(void **state)
{
	struct fix *f = *state;
	char dir[4300], reports[4300], html[4096], png[4300];
	snprintf(dir, sizeof(dir), "%s/empty", f->dir);
	snprintf(reports, sizeof(reports), "%s/reports", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(
		run(&f->r, hw_bin, "drill", "verify", "--dir", dir, "--report-dir", reports, NULL),
		1);
	const char *p = strstr(f->r.out, "report: ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "report: %4095s", html), 1);
	snprintf(png, sizeof(png), "%s/error.png", f->dir);
	render(f, html, png);
	assert_non_null(strstr(f->r.out, "id=\"result\">ERROR<"));
	assert_null(strstr(f->r.out, "<svg id=\"timeline\""));
	assert_non_null(strstr(f->r.out, "<p id=\"timeline-none\">Nothing was timed"));
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
