/* test_report_html.c: a drill's HTML report as a browser shows it. Headless Chromium
 * (Debian's chromium, installed by scripts/deps.sh with HW_DEPS_TEST=1) renders the
 * report of a passing restore drill and of one against a damaged backup: a screenshot is
 * taken, and the rendered DOM (--dump-dom) holds the SVG timeline with one bar per phase,
 * each with its verdict. Exit 77 with the reason when chromium is not installed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define END_MS "1795687200000"

static const char *hw_bin;

/* Output a command may print before the test calls it runaway. */
#define CAPTURE_BYTES_MAX (1u << 20)
#define ARGS_MAX          24

struct run {
	int status; /* exit code, or 128 + signal */
	char out[CAPTURE_BYTES_MAX + 1];
	size_t out_len;
	char err[CAPTURE_BYTES_MAX + 1];
	size_t err_len;
};

struct fix {
	char dir[4096]; /* the test's own temporary directory */
	struct run r;
};

/* Read both pipes until both reach EOF, keeping at most CAPTURE_BYTES_MAX of each. */
static void drain(int out_fd, int err_fd, struct run *r)
{
	struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
	char *buf[2] = {r->out, r->err};
	size_t *len[2] = {&r->out_len, &r->err_len};
	int open_count = 2;
	while (open_count > 0) {
		assert_true(poll(p, 2, -1) > 0 || errno == EINTR);
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			size_t room = CAPTURE_BYTES_MAX - *len[i];
			assert_true(room > 0); /* bounded: a runaway command fails the test */
			ssize_t n = read(p[i].fd, buf[i] + *len[i], room);
			if (n > 0) {
				*len[i] += (size_t)n;
				continue;
			}
			close(p[i].fd);
			p[i].fd = -1;
			open_count--;
		}
	}
	r->out[r->out_len] = '\0';
	r->err[r->err_len] = '\0';
}

/* Run bin with the given arguments (NULL-terminated), capturing its output. */
static int run(struct run *r, const char *bin, ...)
{
	char *argv[ARGS_MAX + 2] = {(char *)bin};
	va_list ap;
	va_start(ap, bin);
	int argc = 1;
	for (char *a; (a = va_arg(ap, char *)) != NULL;) {
		assert_true(argc <= ARGS_MAX);
		argv[argc++] = a;
	}
	va_end(ap);
	int out[2], err[2];
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(out[0]);
		close(err[0]);
		execv(bin, argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	r->out_len = r->err_len = 0;
	drain(out[0], err[0], r);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return r->status;
}

static int rm_tree(const char *p)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
	return system(cmd);
}

static int setup(void **state)
{
	static struct fix fx;
	const char *tmp = getenv("HW_TEST_TMP");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	mkdir(tmp, 0700);
	snprintf(fx.dir, sizeof(fx.dir), "%s/report-html-XXXXXX", tmp);
	if (!mkdtemp(fx.dir))
		return -1;
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	return rm_tree(f->dir) == 0 ? 0 : -1;
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

/* A passing restore drill's report renders with its timeline: four phases (backup
 * check, replay, chain walk, rebuild), all green, and the PASS badge. */
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
	hw_bin = getenv("HW_BIN");
	if (!hw_bin || access(hw_bin, X_OK) != 0) {
		fprintf(stderr, "test_report_html: HW_BIN is not set to the hawser binary\n");
		return 1;
	}
	chromium = find_chromium();
	if (!chromium) {
		printf("test_report_html: skipped: chromium is not installed (Debian package "
		       "chromium; scripts/deps.sh installs it with HW_DEPS_TEST=1)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pass_report_renders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_report_renders, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
