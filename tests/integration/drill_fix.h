/* drill_fix.h: what the tests of `hawser drill` share on top of cli_fix.h (test_drills.c,
 * test_drill_records.c, test_drill_signals.c): stores, backup generations aged as a test needs,
 * node configs with [drills] lines, and the drill summary's check lines. Include after cli_fix.h;
 * one test file each. */
#ifndef HW_TESTS_DRILL_FIX_H
#define HW_TESTS_DRILL_FIX_H

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "tests/integration/cli_fix.h"

#define DAY_MS (24LL * 3600 * 1000)

/* A path as the terminal shows it (hw_log_escaped: a byte that is not UTF-8 as \xNN, a
 * backslash doubled) back to its bytes, in place. */
static inline void unshown(char *s)
{
	char *w = s;
	for (const char *p = s; *p != '\0'; p++) {
		unsigned byte;
		if (p[0] == '\\' && p[1] == 'x' && sscanf(p + 2, "%2x", &byte) == 1) {
			*w++ = (char)byte;
			p += 3;
		} else {
			*w++ = *p;
			p += p[0] == '\\' && p[1] == '\\';
		}
	}
	*w = '\0';
}

/* The paths of "  report: HTML\n          JSON" in a drill's summary (4,200 bytes each),
 * checked to be there. */
static inline void report_paths(const struct hw_capture *r, char *html, char *json)
{
	const char *p = strstr(r->out, "report: ");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "report: %4199s %4199s", html, json), 2);
	unshown(html);
	unshown(json);
	assert_non_null(strstr(html, ".html"));
	assert_non_null(strstr(json, ".json"));
	assert_int_equal(access(html, R_OK), 0);
	assert_int_equal(access(json, R_OK), 0);
}

/* The whole of file p (at most cap - 1 bytes) into buf. */
static inline void read_all(const char *p, char *buf, size_t cap)
{
	FILE *fp = fopen(p, "r");
	assert_non_null(fp);
	size_t n = fread(buf, 1, cap - 1, fp);
	fclose(fp);
	buf[n] = '\0';
}

/* The drill's summary names its report, written with a timeline and no script. */
static inline void assert_report(const struct hw_capture *r)
{
	char html[4200], json[4200];
	report_paths(r, html, json);
	static char page[1 << 20];
	read_all(html, page, sizeof(page));
	assert_non_null(strstr(page, "<svg id=\"timeline\""));
	assert_non_null(strstr(page, "class=\"phase\""));
	assert_null(strstr(page, "<script"));
}

/* Entries of dir whose names start with prefix. */
static inline int entries_named(const char *dir, const char *prefix)
{
	int n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

/* Init a store at f->dir/name and ingest n records with seed (fixed time). */
static inline void make_store(struct fix *f, const char *name, const char *seed, const char *n)
{
	char dir[4200];
	path(f, name, dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(
		hw(&f->r, "ingest", dir, "--generate", n, "--seed", seed, "--end-ms", END_MS, NULL),
		0);
}

/* The store f->dir/r (3,000 records; its path into dir) backed up into f->dir/bak (bak),
 * with a FIFO in the place of the backup's file name (the file moved to real; each 4,400
 * bytes): a drill that opens it waits for the test. log gets a log file's path. */
static inline void backup_with_fifo(struct fix *f, const char *name, char *dir, char *bak,
				    char *fifo, char *real, char *log)
{
	make_store(f, "r", "3", "3000");
	path(f, "r", dir, 4200);
	path(f, "bak", bak, 4200);
	path(f, "drill.log", log, 4300);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 0);
	snprintf(fifo, 4400, "%s/%s", bak, name);
	snprintf(real, 4400, "%s/%s.real", bak, name);
	assert_int_equal(rename(fifo, real), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
}

/* make_store(), and the store's path into dir (4,200 bytes). */
static inline void make_store_at(struct fix *f, const char *name, const char *seed, const char *n,
				 char *dir)
{
	make_store(f, name, seed, n);
	path(f, name, dir, 4200);
}

static inline void write_file(const char *p, const char *text, mode_t mode)
{
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(p, mode), 0);
}

/* Set the mtime of file p to age_ms ago. */
static inline void age_file(const char *p, int64_t age_ms)
{
	int64_t t = hw_wall_ms() - age_ms;
	struct timespec ts[2] = {{t / 1000, (t % 1000) * 1000000},
				 {t / 1000, (t % 1000) * 1000000}};
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* Set the MANIFEST of backup dir to have committed age_ms ago. */
static inline void age_backup(const char *dir, int64_t age_ms)
{
	char m[4600];
	snprintf(m, sizeof(m), "%s/MANIFEST", dir);
	age_file(m, age_ms);
}

/* A node config for store name with [drills] lines added. */
static inline void write_config(struct fix *f, const char *name, const char *drills, char *conf,
				size_t cap)
{
	char dir[4200];
	static char text[24 * 1024]; /* dir and the largest drills a test writes (16 KiB) */
	path(f, name, dir, sizeof(dir));
	snprintf(conf, cap, "%s/%s.conf", f->dir, name);
	snprintf(text, sizeof(text),
		 "[cluster]\nid = yard\n[node]\nid = p1\nrole = primary\ndata_dir = %s\n"
		 "[drills]\n%s",
		 dir, drills);
	write_file(conf, text, 0644);
}

/* Make n backup generations of store dir under bdir, generation i aged ages[i] ms. */
static inline void make_generations(struct fix *f, const char *dir, const char *bdir, int n,
				    const int64_t *ages)
{
	mkdir(bdir, 0755);
	for (int i = 0; i < n; i++) {
		char g[4400];
		snprintf(g, sizeof(g), "%s/gen-%d", bdir, i);
		assert_int_equal(hw(&f->r, "backup", dir, g, NULL), 0);
		age_backup(g, ages[i]);
	}
}

/* The summary's line for check name, "  verdict  name  detail", copied into line. */
static inline void check_line(const char *out, const char *name, char *line, size_t cap)
{
	char want[128];
	const char *p = NULL;
	static const char *const verdicts[] = {"pass", "warn", "fail", "skip"};
	for (size_t i = 0; i < 4 && p == NULL; i++) {
		snprintf(want, sizeof(want), "\n  %-4s  %s ", verdicts[i], name);
		p = strstr(out, want);
	}
	assert_non_null(p);
	p++;
	snprintf(line, cap, "%.*s", (int)strcspn(p, "\n"), p);
}

/* The summary's check name has verdict ("pass", "fail" ...) and its detail holds text. */
static inline void check_is(const struct fix *f, const char *name, const char *verdict,
			    const char *text)
{
	char line[1024], want[16];
	check_line(f->r.out, name, line, sizeof(line));
	snprintf(want, sizeof(want), "  %s  ", verdict);
	assert_non_null(strstr(line, want));
	assert_non_null(strstr(line, text));
}

#endif
