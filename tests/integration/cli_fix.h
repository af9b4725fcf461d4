/* cli_fix.h: the fixture of the tests that run the hawser command on stores
 * (test_cli_store.c, test_cli_verify.c, test_drills.c, test_report_html.c): a temporary
 * directory per test, hawser run with its output captured, a fixed clock, stores of a
 * workload profile, and a check that --json printed one well-formed object. Include after
 * <cmocka.h>; one test file each. */
#ifndef HW_TESTS_CLI_FIX_H
#define HW_TESTS_CLI_FIX_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/proc.h"

/* A fixed end time (2026-11-26T10:00:00Z): also the store's clock, so runs repeat. */
#define END_MS     "1795687200000"
#define END_MS_NUM 1795687200000LL

struct fix {
	char dir[4096]; /* the test's own temporary directory */
	struct hw_capture r;
};

static const char *hw_bin; /* main sets it: hw_test_bin_or_skip() */

/* A command that cannot be run, or prints more than the capture holds (a runaway), fails
 * the test. */
static inline int checked(int rc)
{
	assert_true(rc >= 0);
	return rc;
}

/* Run hawser with the given arguments (NULL-terminated), capturing its output. */
#define hw(r, ...) checked(hw_proc_capture((r), hw_bin, __VA_ARGS__))

static inline void path(const struct fix *f, const char *name, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", f->dir, name);
}

/* The last run of hawser cmd read the store at dir, whose damaged pages made LMDB stop
 * it on signal sig ("SIGABRT"): it exited 1 (not killed) with HW_ECORRUPT, saying so and
 * what to run, first: LMDB's assertion (SIGABRT) comes only after, marked as a detail,
 * never as a line of its own that reads as a crash. */
static inline void assert_read_damaged(const struct fix *f, const char *cmd, const char *dir,
				       const char *sig)
{
	char want[9000];
	assert_int_equal(f->r.status, 1);
	snprintf(want, sizeof(want), "hawser %s: ", cmd);
	assert_memory_equal(f->r.err, want, strlen(want));
	snprintf(want, sizeof(want),
		 "(HW_ECORRUPT): the store at %s is damaged (LMDB stopped on %s while reading "
		 "it): run `hawser verify %s`\n",
		 dir, sig, dir);
	const char *said = strstr(f->r.err, want);
	assert_non_null(said);
	assert_null(strstr(f->r.err, "\nmdb.c:"));
	if (strcmp(sig, "SIGABRT") == 0)
		assert_memory_equal(said + strlen(want), "  detail: LMDB: mdb.c:", 22);
}

/* The last run of hawser cmd read the store at dir in a child that failed an assertion of
 * hawser's own (HW_FAULT_CHILD_AFTER, cli/isolate.h): it exited 1 with HW_EINTERNAL, a
 * bug and not damage, and the assertion's line after, as a detail. */
static inline void assert_read_internal(const struct fix *f, const char *cmd, const char *dir)
{
	char want[9000];
	assert_int_equal(f->r.status, 1);
	snprintf(want, sizeof(want),
		 "hawser %s: %s: hawser failed one of its own checks: a bug in hawser "
		 "(HW_EINTERNAL): hawser stopped reading the store at %s on a failed check of its "
		 "own, not on damage: please report it with the detail line\n"
		 "  detail: hawser: assertion failed: ",
		 cmd, dir, dir);
	assert_memory_equal(f->r.err, want, strlen(want));
	assert_null(strstr(f->r.err, "damaged"));
}

/* The bytes of the file at path, malloc'd, their count in *len. */
static inline uint8_t *file_bytes(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	*len = (size_t)ftell(fp);
	uint8_t *buf = malloc(*len + 1);
	assert_non_null(buf);
	rewind(fp);
	assert_int_equal(fread(buf, 1, *len, fp), *len);
	fclose(fp);
	return buf;
}

/* No scratch directory of a replay is left in the test's directory. */
static inline void assert_no_scratch(const struct fix *f)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	for (const struct dirent *e; (e = readdir(d)) != NULL;) {
		assert_null(strstr(e->d_name, ".digest-"));
		assert_null(strstr(e->d_name, ".compare-"));
	}
	closedir(d);
}

/* Open the FIFO at p, flags O_WRONLY or O_RDONLY: it returns once the other end was
 * opened (a command reached it), or -1 after 30 s (hw_test_fifo_open). */
static inline int fifo_open(const char *p, int flags)
{
	return hw_test_fifo_open(p, flags, 30);
}

/* A fresh directory $HW_TEST_TMP/<name>-XXXXXX for each test. */
static inline int fix_setup(void **state, const char *name)
{
	static struct fix fx;
	if (hw_test_mkdtemp(name, fx.dir, sizeof(fx.dir)) != 0)
		return -1;
	*state = &fx;
	return 0;
}

/* A tmpfs of opts (mount's: "size=64k") at f->dir/small, its path into mnt, for a full
 * disk. It is mounted in a mount namespace of this test process's own (made once: the
 * hawser commands the test runs inherit it, and it ends with the process, whatever a
 * failed assertion left mounted); the teardown unmounts it. Without root the test is
 * skipped, saying why. */
static inline void small_fs(const struct fix *f, const char *opts, char *mnt, size_t cap)
{
	static bool own;
	char why[4400] = ""; /* "no tmpfs at MNT: ...", mnt up to 4,200 bytes */
	if (!own &&
	    (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0))
		snprintf(why, sizeof why, "no mount namespace of its own: %s (needs root)",
			 strerror(errno));
	own = why[0] == '\0';
	snprintf(mnt, cap, "%s/small", f->dir);
	if (own && (mkdir(mnt, 0700) != 0 || mount("tmpfs", mnt, "tmpfs", 0, opts) != 0))
		snprintf(why, sizeof why, "no tmpfs at %s: %s", mnt, strerror(errno));
	if (why[0] != '\0') {
		print_message("skipped: %s\n", why);
		skip();
	}
}

static inline int teardown(void **state)
{
	struct fix *f = *state;
	char mnt[4200];
	snprintf(mnt, sizeof mnt, "%s/small", f->dir);
	umount2(mnt, MNT_DETACH);         /* small_fs's, if an assertion left it */
	unsetenv("HW_FAULT_CHILD_AFTER"); /* a test's faults end with it */
	unsetenv("HW_FAULT_CHILD_HOW");
	unsetenv("HW_FAULT_CHILD_FIFO");
	return hw_test_rm_rf(f->dir) == 0 ? 0 : -1;
}

/* Flip the last record byte of every copy of the entry at lsn in data.mdb (LMDB may
 * keep stale copies in free pages); returns how many copies were changed. */
static inline int flip_entry(const char *store, uint64_t lsn)
{
	char file[4400];
	snprintf(file, sizeof(file), "%s/data.mdb", store);
	FILE *fp = fopen(file, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size_t size = (size_t)ftell(fp);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	rewind(fp);
	assert_int_equal(fread(buf, 1, size, fp), size);
	int flipped = 0;
	for (size_t off = 0; off + 96 <= size; off++) {
		if (memcmp(buf + off, "HWE1", 4) != 0)
			continue;
		uint32_t len;
		uint64_t at;
		memcpy(&len, buf + off + 4, 4); /* little-endian header, as on this host */
		memcpy(&at, buf + off + 8, 8);
		if (at != lsn || len == 0 || off + 96 + len > size)
			continue;
		size_t pos = off + 96 + len - 1;
		buf[pos] ^= 0x01;
		assert_int_equal(fseek(fp, (long)pos, SEEK_SET), 0);
		assert_int_equal(fputc(buf[pos], fp), buf[pos]);
		flipped++;
	}
	fclose(fp);
	free(buf);
	return flipped;
}

/* Init a store at f->dir/name and ingest n records of profile into it (seed 3, fixed
 * time). */
static inline void make_profile_store(struct fix *f, const char *name, const char *profile,
				      const char *n)
{
	char dir[4200];
	path(f, name, dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "ingest", dir, "--generate", n, "--seed", "3", "--profile",
			    profile, "--end-ms", END_MS, NULL),
			 0);
}

/* ---- a minimal JSON parser: enough to say an object is well formed */

static inline const char *json_value(const char *p);

static inline const char *json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static inline const char *json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p && *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\' && !*++p)
			return NULL;
	}
	return *p == '"' ? p + 1 : NULL;
}

static inline const char *json_items(const char *p, char close, bool keys)
{
	p = json_ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (keys) {
			p = json_string(json_ws(p));
			if (!p || *(p = json_ws(p)) != ':')
				return NULL;
			p++;
		}
		p = json_value(p);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static inline const char *json_value(const char *p)
{
	p = json_ws(p);
	if (*p == '{')
		return json_items(p + 1, '}', true);
	if (*p == '[')
		return json_items(p + 1, ']', false);
	if (*p == '"')
		return json_string(p);
	for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1) {
		if (!strncmp(p, lit, strlen(lit)))
			return p + strlen(lit);
	}
	char *end;
	strtod(p, &end);
	return end == p ? NULL : end;
}

/* The object in s is well formed and alone (trailing whitespace aside). */
static inline void assert_json_object(const char *s)
{
	assert_int_equal(*json_ws(s), '{');
	const char *end = json_value(s);
	assert_non_null(end);
	assert_int_equal(*json_ws(end), '\0');
}

/* The number after the first "key": in s, which must be there. */
static inline uint64_t json_u64(const char *s, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(s, pat);
	assert_non_null(p);
	return strtoull(p + strlen(pat), NULL, 10);
}

#endif
