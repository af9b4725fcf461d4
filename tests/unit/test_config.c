/* test_config.c: reading a node's INI config (engine/config.h): a full round trip, the
 * defaults, and that every error names file:line and the key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/config.h"
#include "engine/core/targets.h"
#include "engine/voters.h"
#include "replica/drills.h"
#include "replica/store.h"
#include "hawser_error.h"
#include "tests/integration/proc.h"

/* The key files test_security_* load: this node's key (p1.key), its public key in a
 * directory of pins (pins/p1.pub), and a second node's public key beside it (s1.pub). */
struct keys {
	char pins[600], pub[700], key[700], pub2[700];
	struct hw_identity id, id2;
};

struct fx {
	char dir[256];
	char path[300];
	char err[512];
	struct hw_config c;
	struct keys k; /* test_security_*: made by setup_keys */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_int_equal(hw_test_mkdtemp("config", f->dir, sizeof f->dir), 0);
	snprintf(f->path, sizeof f->path, "%s/node.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hw_test_rm_rf(f->dir);
	free(f);
	return 0;
}

/* Write the len bytes of text as the config file and load it; returns hw_config_load's
 * code. */
static int load_bytes(struct fx *f, const char *text, size_t len)
{
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	memset(f->err, 0, sizeof f->err);
	return hw_config_load(f->path, &f->c, f->err, sizeof f->err);
}

static int load(struct fx *f, const char *text)
{
	return load_bytes(f, text, strlen(text));
}

/* Load the len bytes of text, expect HW_ECONFIG, and check the message names
 * "node.conf:<line>" (line 0: no line) and contains want. */
static void expect_error_bytes(struct fx *f, const char *text, size_t len, int line,
			       const char *want)
{
	assert_int_equal(load_bytes(f, text, len), HW_ECONFIG);
	char where[340];
	if (line > 0)
		snprintf(where, sizeof where, "%s:%d: ", f->path, line);
	else
		snprintf(where, sizeof where, "%s: ", f->path);
	if (strncmp(f->err, where, strlen(where)) != 0 || strstr(f->err, want) == NULL)
		fail_msg("error '%s' does not start with '%s' and contain '%s'", f->err, where,
			 want);
}

static void expect_error(struct fx *f, const char *text, int line, const char *want)
{
	expect_error_bytes(f, text, strlen(text), line, want);
}

#define PRIMARY_HEAD                                                                               \
	"[cluster]\n"                                                                              \
	"id = yard-ha\n"                                                                           \
	"standbys = s1, s2\n"                                                                      \
	"[node]\n"                                                                                 \
	"id = p1\n"                                                                                \
	"role = primary\n"                                                                         \
	"data_dir = /var/lib/hawser/p1\n"                                                          \
	"listen = 127.0.0.1:7001\n"

static const char full_primary[] = "; a full primary config\n"
				   "[cluster]\n"
				   "id = yard-ha              ; shared by the cluster\n"
				   "standbys = s1, s2 ,s3\n"
				   "\n"
				   "[node]\n"
				   "id = p1\n"
				   "role = primary\n"
				   "data_dir = /var/lib/hawser/p1\n"
				   "listen = 127.0.0.1:7001\n"
				   "client = unix:/run/hawser/p1.sock\n"
				   "\n"
				   "[durability]\n"
				   "mode = durable\n"
				   "k = 2\n"
				   "\n"
				   "[limits]\n"
				   "waiters_max = 1000\n"
				   "window_records = 2048\n"
				   "heartbeat_ms = 50\n"
				   "peer_timeout_ms = 2500\n";

/* Every key of a full primary config comes back as written. */
static void test_full_primary(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, full_primary), 0);
	assert_string_equal(f->err, "");
	struct hw_config *c = &f->c;
	assert_string_equal(c->cluster_id, "yard-ha");
	assert_string_equal(c->node_id, "p1");
	assert_int_equal(c->role, HW_ROLE_PRIMARY);
	assert_string_equal(c->data_dir, "/var/lib/hawser/p1");
	assert_string_equal(c->listen, "127.0.0.1:7001");
	assert_string_equal(c->client, "unix:/run/hawser/p1.sock");
	assert_string_equal(c->primary, "");
	assert_int_equal(c->n_standbys, 3);
	assert_string_equal(c->standbys[0], "s1");
	assert_string_equal(c->standbys[1], "s2");
	assert_string_equal(c->standbys[2], "s3");
	assert_int_equal(c->mode, HW_MODE_DURABLE);
	assert_int_equal(c->k, 2);
	assert_int_equal(c->waiters_max, 1000);
	assert_int_equal(c->window_records, 2048);
	assert_int_equal(c->heartbeat_ms, 50);
	assert_int_equal(c->peer_timeout_ms, 2500);
}

/* A minimal standby config loads, and every key it leaves out has its default; a path
 * loses its trailing slashes. */
static void test_standby_defaults(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, "[cluster]\nid = yard-ha\n"
				 "[node]\nid = s1\nrole = standby\ndata_dir = /d/s1//\n"
				 "primary = [::1]:7001\n"),
			 0);
	struct hw_config d;
	hw_config_defaults(&d);
	struct hw_config *c = &f->c;
	assert_string_equal(c->data_dir, "/d/s1"); /* its snapshot's siblings stay outside */
	assert_int_equal(c->role, HW_ROLE_STANDBY);
	assert_string_equal(c->primary, "[::1]:7001");
	assert_int_equal(c->n_standbys, 0);
	assert_int_equal(c->mode, d.mode);
	assert_int_equal(c->k, d.k);
	assert_int_equal(c->waiters_max, d.waiters_max);
	assert_int_equal(c->window_records, d.window_records);
	assert_int_equal(c->heartbeat_ms, d.heartbeat_ms);
	assert_int_equal(c->peer_timeout_ms, d.peer_timeout_ms);
}

/* The defaults are the documented ones (config.h) and leave no stray fields set. */
static void test_defaults(void **state)
{
	(void)state;
	struct hw_config c;
	memset(&c, 0x5a, sizeof c);
	hw_config_defaults(&c);
	assert_int_equal(c.mode, HW_MODE_LOCAL);
	assert_int_equal(c.k, 1);
	assert_int_equal(c.waiters_max, 65536);
	assert_int_equal(c.window_records, 65536);
	assert_int_equal(c.heartbeat_ms, 100);
	assert_int_equal(c.peer_timeout_ms, 5000);
	assert_int_equal(c.n_standbys, 0);
	assert_string_equal(c.node_id, "");
	assert_string_equal(c.data_dir, "");
}

/* A missing file is -ENOENT, not a config error. */
static void test_missing_file(void **state)
{
	struct fx *f = *state;
	char err[256];
	struct hw_config c;
	char path[400];
	snprintf(path, sizeof path, "%s/nope.conf", f->dir);
	assert_int_equal(hw_config_load(path, &c, err, sizeof err), -ENOENT);
	assert_non_null(strstr(err, "nope.conf"));
	/* a directory opens, and then cannot be read: said as what it is */
	assert_int_equal(hw_config_load(f->dir, &c, err, sizeof err), -EISDIR);
	snprintf(path, sizeof path, "%s: Is a directory", f->dir);
	assert_string_equal(err, path);
}

/* A misspelt key is refused at its line, by name. */
static void test_unknown_key(void **state)
{
	struct fx *f = *state;
	expect_error(f, PRIMARY_HEAD "lisen = 127.0.0.1:7002\n", 9, "unknown key 'node.lisen'");
}

/* An unknown section is refused at its header, even with no keys in it. */
static void test_unknown_section(void **state)
{
	struct fx *f = *state;
	expect_error(f, PRIMARY_HEAD "[durabilty]\n", 9, "unknown section '[durabilty]'");
	expect_error(f, "[cluster]\nid = a\n[nodes]\nid = p1\n", 3, "unknown section '[nodes]'");
}

/* A role other than primary or standby names the key. */
static void test_bad_role(void **state)
{
	struct fx *f = *state;
	expect_error(f, "[cluster]\nid = a\n[node]\nid = p1\nrole = leader\n", 5, "'node.role'");
}

/* A mode other than the four names the key and the value. */
static void test_bad_mode(void **state)
{
	struct fx *f = *state;
	expect_error(f, PRIMARY_HEAD "[durability]\nmode = Durable\n", 10,
		     "bad value 'Durable' for 'durability.mode'");
}

/* A primary cannot wait for more standbys than it lists, nor for none in a mode beyond
 * local; the error points at the k line (or the mode line when k is the default). */
static void test_k_too_big(void **state)
{
	struct fx *f = *state;
	expect_error(f, PRIMARY_HEAD "[durability]\nmode = durable\nk = 3\n", 11,
		     "'durability.k' = 3 is more than the 2 standbys");
	expect_error(f, PRIMARY_HEAD "[durability]\nmode = applied\nk = 0\n", 11,
		     "'durability.k' must be at least 1");
	expect_error(f,
		     "[cluster]\nid = a\n[node]\nid = p1\nrole = primary\ndata_dir = /d\n"
		     "[durability]\nmode = received\n",
		     8, "'durability.k' = 1 is more than the 0 standbys");
	/* k = n is fine, and a standby's k is not checked against a list it does not have. */
	assert_int_equal(load(f, PRIMARY_HEAD "[durability]\nmode = durable\nk = 2\n"), 0);
	assert_int_equal(f->c.k, 2);
}

/* Required keys missing: named, without a line. */
static void test_missing_required(void **state)
{
	struct fx *f = *state;
	expect_error(f, "[cluster]\nid = a\n[node]\nid = p1\nrole = primary\n", 0,
		     "missing key 'node.data_dir'");
	expect_error(f, "[cluster]\nid = a\n[node]\nrole = primary\ndata_dir = /d\n", 0,
		     "missing key 'node.id'");
	expect_error(f, "[node]\nid = p1\nrole = primary\ndata_dir = /d\n", 0,
		     "missing key 'cluster.id'");
	expect_error(f, "[cluster]\nid = a\n[node]\nid = s1\nrole = standby\ndata_dir = /d\n", 0,
		     "missing key 'node.primary'");
}

/* An id over HW_ID_CHARS_MAX characters, or with characters not allowed, is refused. */
static void test_id_too_long(void **state)
{
	struct fx *f = *state;
	char text[512];
	snprintf(text, sizeof text, "[cluster]\nid = a\n[node]\nid = %0*d\n", HW_ID_CHARS_MAX + 1,
		 7);
	expect_error(f, text, 4, "'node.id' is 33 characters long");
	snprintf(text, sizeof text,
		 "[cluster]\nid = a\n[node]\nid = %0*d\nrole = standby\n"
		 "data_dir = /d\nprimary = h:1\n",
		 HW_ID_CHARS_MAX, 7);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(strlen(f->c.node_id), HW_ID_CHARS_MAX);
	expect_error(f, "[cluster]\nid = yard ha\n", 2, "bad value 'yard ha' for 'cluster.id'");
	/* a key pinned as node yard.p1 would be named yard (yard.p1.pub): no dots */
	expect_error(f, "[cluster]\nid = a\n[node]\nid = yard.p1\n", 4,
		     "bad value 'yard.p1' for 'node.id'");
}

/* Numbers: not a number, trailing junk, negative, out of range, zero where 1 is least. */
static void test_bad_number(void **state)
{
	struct fx *f = *state;
	expect_error(f, PRIMARY_HEAD "[limits]\nheartbeat_ms = fast\n", 10,
		     "bad number 'fast' for 'limits.heartbeat_ms'");
	expect_error(f, PRIMARY_HEAD "[limits]\nwaiters_max = 10k\n", 10,
		     "bad number '10k' for 'limits.waiters_max'");
	expect_error(f, PRIMARY_HEAD "[limits]\nwindow_records = -1\n", 10,
		     "bad number '-1' for 'limits.window_records'");
	expect_error(f, PRIMARY_HEAD "[limits]\nwaiters_max = 0\n", 10,
		     "'limits.waiters_max' = 0 is out of range");
	expect_error(f, PRIMARY_HEAD "[limits]\nwaiters_max = 99999999999999999999999\n", 10,
		     "bad number");
	expect_error(f, PRIMARY_HEAD "[limits]\nheartbeat_ms = 500\npeer_timeout_ms = 400\n", 11,
		     "'limits.peer_timeout_ms' = 400 must be more than");
}

/* log_keep_records: 0 (keep all) by default, a count when given, a typo of many zeros
 * refused. */
static void test_log_keep_records(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, PRIMARY_HEAD), 0);
	assert_int_equal(f->c.log_keep_records, 0);
	assert_int_equal(load(f, PRIMARY_HEAD "[limits]\nlog_keep_records = 2000000\n"), 0);
	assert_int_equal(f->c.log_keep_records, 2000000);
	expect_error(f, PRIMARY_HEAD "[limits]\nlog_keep_records = 9000000000000000\n", 10,
		     "'limits.log_keep_records' = 9000000000000000 is out of range");
	expect_error(f, PRIMARY_HEAD "[limits]\nlog_keep_records = 1\nlog_keep_records = 2\n", 11,
		     "given twice");
}

/* More than HW_PEERS_MAX standbys, or one listed twice, is refused. */
static void test_too_many_standbys(void **state)
{
	struct fx *f = *state;
	expect_error(f, "[cluster]\nid = a\nstandbys = a,b,c,d,e,f,g,h,i\n", 3,
		     "'cluster.standbys' lists more than 8 standbys");
	expect_error(f, "[cluster]\nid = a\nstandbys = a, b, a\n", 3, "lists 'a' twice");
	/* a primary waiting on itself would acknowledge nothing */
	expect_error(f,
		     "[cluster]\nid = a\nstandbys = s1, p1\n[node]\nid = p1\nrole = primary\n"
		     "data_dir = /d\nclient = 127.0.0.1:7001\nlisten = 127.0.0.1:7002\n",
		     0, "'cluster.standbys' names this node 'p1'");
	assert_int_equal(load(f, "[cluster]\nid = x\nstandbys = a,b,c,d,e,f,g,h\n"
				 "[node]\nid = p\nrole = primary\ndata_dir = /d\nlisten = :1\n"),
			 HW_ECONFIG); /* eight is fine, but the listen address has no host */
	assert_non_null(strstr(f->err, "bad address ':1' for 'node.listen'"));
	/* a relative socket path would depend on each process's working directory */
	expect_error(f, PRIMARY_HEAD "client = unix:p1.sock\n", 9,
		     "bad unix socket path 'unix:p1.sock' for 'node.client': expected "
		     "unix:/absolute/path");
	assert_int_equal(load(f, "[cluster]\nid = x\nstandbys = a,b,c,d,e,f,g,h\n"
				 "[node]\nid = p\nrole = primary\ndata_dir = /d\nlisten = h:1\n"),
			 0);
	assert_int_equal(f->c.n_standbys, HW_PEERS_MAX);
}

/* Lines that are not key = value, keys outside a section and keys given twice are
 * refused at their own line. */
static void test_syntax(void **state)
{
	struct fx *f = *state;
	expect_error(f, "[cluster]\nid = a\njust words\n", 3, "syntax error");
	expect_error(f, "id = a\n", 1, "outside any section");
	expect_error(f, "[cluster]\nid = a\nid = b\n", 3, "'cluster.id' given twice");
	/* inih drops what follows a section header: a key there would be lost */
	expect_error(f, PRIMARY_HEAD "[durability] mode = durable\n", 9,
		     "syntax error: text after the section header");
	expect_error(f, PRIMARY_HEAD "[node] junk\n", 9, "text after the section header");
	assert_int_equal(load(f, PRIMARY_HEAD "[durability]  ; the acks\nmode = durable\n"), 0);
	assert_int_equal(f->c.mode, HW_MODE_DURABLE);
	/* a NUL byte would cut the value there (fgets keeps it, strlen stops): "9" */
	static const char nul[] = PRIMARY_HEAD "[limits]\npeer_timeout_ms = 9\0 9999\n";
	expect_error_bytes(f, nul, sizeof nul - 1, 10, "a NUL byte: the file is not text");
	char longer[600]; /* and on a line longer than inih's buffer, past its first part */
	int n = snprintf(longer, sizeof longer, PRIMARY_HEAD "[drills]\nbackup_dir = /%0300dX", 0);
	longer[n - 1] = '\0';
	expect_error_bytes(f, longer, (size_t)n, 10, "a NUL byte");
}

/* A primary binds node.listen and node.client both: one address for the two is refused at
 * load (by value: localhost is 127.0.0.1); a standby without [failover] binds no
 * node.listen, so the same pair loads as it did. */
static void test_listen_is_client(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, PRIMARY_HEAD "client = localhost:7001\n"), HW_ECONFIG);
	assert_non_null(strstr(f->err, "'node.listen' and 'node.client' are one address"));
	assert_int_equal(load(f, PRIMARY_HEAD "client = 127.0.0.1:7101\n"), 0);
	assert_int_equal(load(f, "[cluster]\nid = a\n[node]\nid = s1\nrole = standby\n"
				 "data_dir = /d\nprimary = 10.0.0.1:7001\nlisten = 127.0.0.1:7101\n"
				 "client = 127.0.0.1:7101\n"),
			 0);
}

/* A list item left empty (two commas, a comma alone, a blank between commas) is refused
 * in every list; one comma at the end (where an indented line may go on) is not an item,
 * and an empty value an empty list. */
static void test_empty_items(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"[cluster]\nid = a\nstandbys = s1,,s2\n",
		"[cluster]\nid = a\nstandbys = ,\n",
		"[cluster]\nid = a\nstandbys = s1,\t,\n",
		"[cluster]\nid = a\nstandbys = , s1\n",
		"[cluster]\nid = a\nvaults = v1,,v2\n",
		"[node]\nprimary = h:1,,h:2\n",
		"[failover]\nvoters = p1@h:1,,s1@h:2\n",
		"[drills]\nkeys = /a, , /b\n",
		"[drills]\ntrust = /a,,\n",
		"[security]\npeers = , /p\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(load(f, bad[i]), HW_ECONFIG);
		if (strstr(f->err, "lists an empty item") == NULL)
			fail_msg("'%s': %s", bad[i], f->err);
	}
	assert_int_equal(load(f, PRIMARY_HEAD "[drills]\nkeys = /a, /b,\n"), 0);
	assert_int_equal(f->c.drills.n_keys, 2);
	assert_int_equal(load(f, "[cluster]\nid = a\nstandbys =\n[node]\nid = p1\n"
				 "role = primary\ndata_dir = /d\n"),
			 0);
	assert_int_equal(f->c.n_standbys, 0);
	assert_int_equal(load(f, "[security]\npeers =\n"), HW_ECONFIG); /* no comma: no item */
	assert_non_null(strstr(f->err, "empty value for 'security.peers'"));
}

/* Lines longer than libinih's 198-character buffer: a path up to HW_PATH_CHARS_MAX is
 * taken whole (and its inline comment cut, as on a short line), one past it is refused
 * naming the key, as is a list past HW_LIST_CHARS_MAX on one line, and a line past what
 * any key takes is refused at its line; the lines after a long one are still counted and
 * parsed; a long comment line is a comment. */
static void test_long_lines(void **state)
{
	struct fx *f = *state;
	char dir[HW_PATH_CHARS_MAX + 2], text[4096];
	memset(dir, 'd', sizeof dir);
	dir[0] = '/';
	dir[HW_PATH_CHARS_MAX] = '\0';
	snprintf(text, sizeof text,
		 PRIMARY_HEAD "[drills]\nbackup_dir = %s ; the backup host\nverify = 2d\n", dir);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->c.drills.backup_dir, dir);
	assert_int_equal(f->c.drills.every_ms[HW_DRILL_VERIFY], 2 * 86400000LL);
	snprintf(text, sizeof text, "[cluster]\nid = a\n[node]\ndata_dir = %s\nid = p\n", dir);
	assert_int_equal(load(f, text), HW_ECONFIG); /* roles and the rest missing: not the line */
	assert_null(strstr(f->err, "line is longer"));
	snprintf(text, sizeof text, "[cluster]\nid = a\n[node]\ndata_dir = %sd\nid = p\n", dir);
	expect_error(f, text, 4, "'node.data_dir' is longer than 512 characters");
	char huge[3000];
	memset(huge, 'x', sizeof huge);
	huge[sizeof huge - 1] = '\0';
	snprintf(text, sizeof text, "[cluster]\nid = a\n[node]\ndata_dir = /%s\nid = p\n", huge);
	expect_error(f, text, 4, "line is longer than 2048 characters");
	char list[HW_LIST_CHARS_MAX + 1]; /* a list on one line, one past what a list holds */
	memset(list, 's', sizeof list);
	list[sizeof list - 1] = '\0';
	snprintf(text, sizeof text, "[cluster]\nid = a\nstandbys = %s\n", list);
	expect_error(f, text, 3, "'cluster.standbys' is too long");
	snprintf(text, sizeof text, PRIMARY_HEAD "[drills]\nbackup_dir = %s\nnonsense = 1\n", dir);
	expect_error(f, text, 11, "unknown key 'drills.nonsense'");
	/* a line that starts with a NUL byte (fuzz_config found it read before its start) */
	static const char nul[] = "[cluster]\nid = a\n\0\0xx\n[node]\n";
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(nul, 1, sizeof nul - 1, fp), sizeof nul - 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hw_config_load(f->path, &f->c, f->err, sizeof f->err), HW_ECONFIG);
	assert_non_null(strstr(f->err, "node.conf:3: "));
	/* a long comment, at the start of a line or indented after a key, is a comment */
	snprintf(text, sizeof text, PRIMARY_HEAD "; %s\n[drills]\nverify = 2d\n    # %s\n", dir,
		 dir);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->c.drills.every_ms[HW_DRILL_VERIFY], 2 * 86400000LL);
}

#define FAILOVER_STANDBY                                                                           \
	"[cluster]\n"                                                                              \
	"id = yard-ha\n"                                                                           \
	"[node]\n"                                                                                 \
	"id = s1\n"                                                                                \
	"role = standby\n"                                                                         \
	"data_dir = /var/lib/hawser/s1\n"                                                          \
	"listen = 0.0.0.0:7001\n"                                                                  \
	"[durability]\n"                                                                           \
	"mode = durable\n"                                                                         \
	"[failover]\n"                                                                             \
	"voters = p1@10.0.0.1:7001, s1@10.0.0.2:7001 , s2@10.0.0.4:7001\n"                         \
	"witness = 10.0.0.3:7900\n"                                                                \
	"witness_id = w1\n"

/* A list longer than a line (five voters with real host names) goes on in indented lines,
 * after blanks and comments too; an indented line under any other key is refused; a list
 * on one line longer than inih's buffer is taken whole, and continued from there. */
static void test_list_continued(void **state)
{
	struct fx *f = *state;
	static const char head[] = "[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\n"
				   "data_dir = /d\nlisten = 0.0.0.0:7001\n"
				   "[durability]\nmode = durable\n[failover]\nrto = 2s\nrpo = 1s\n"
				   "witness = w.terminal.example.com:7900\nwitness_id = w1\n";
	char text[2048];
	snprintf(text, sizeof text,
		 "%svoters = p1@tos-db-1.terminal.example.com:7001, "
		 "s1@tos-db-2.terminal.example.com:7001,\n"
		 "    s2@tos-db-3.terminal.example.com:7001\n"
		 "; the fourth node, added in 2026\n\n"
		 "\ts3@tos-db-4.terminal.example.com:7001\n",
		 head);
	assert_int_equal(load(f, text), 0);
	const struct hw_failover *fo = &f->c.failover;
	assert_int_equal(fo->n_voters, 5);
	assert_string_equal(fo->voters[2].addr, "tos-db-3.terminal.example.com:7001");
	assert_string_equal(fo->voters[3].id, "s3");
	assert_string_equal(fo->voters[3].addr, "tos-db-4.terminal.example.com:7001");
	assert_string_equal(f->c.standbys[2], "s3");

	/* inline comments on continued lines, as on key lines */
	snprintf(text, sizeof text,
		 "%svoters = p1@10.0.0.1:7001,    ; the primary\n"
		 "    s1@10.0.0.2:7001          ; its standby\n",
		 head);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(fo->voters[1].addr, "10.0.0.2:7001");
	/* an IPv6 address may start a continued line: inih continues before it sees '[' */
	assert_int_equal(load(f, "[cluster]\nid = c\n[node]\nid = v1\nrole = vault\n"
				 "data_dir = /d\nprimary = [fd00::1]:7001,\n    [fd00::2]:7001\n"),
			 0);
	assert_int_equal(f->c.n_sources, 2);
	assert_string_equal(f->c.sources[1], "[fd00::2]:7001");
	/* a byte-order mark, then an indented first key: a key, not a continuation */
	assert_int_equal(load(f, "\xEF\xBB\xBF[cluster]\n    id = c1\nstandbys = s1\n"
				 "[node]\nid = p1\nrole = primary\ndata_dir = /d\n"
				 "listen = 127.0.0.1:7001\n"),
			 0);
	assert_string_equal(f->c.cluster_id, "c1");
	/* [drills] keys and trust are lists of files too */
	assert_int_equal(load(f, PRIMARY_HEAD "[drills]\ntrust = /offline/p1.pub,\n"
					      "    /offline/s1.pub ; the standby\n"),
			 0);
	assert_int_equal(f->c.drills.n_trust, 2);
	assert_string_equal(f->c.drills.trust[1], "/offline/s1.pub");
	expect_error(f, PRIMARY_HEAD "[durability]\nmode = durable\n  k = 1\n", 11,
		     "an indented line continues only a list");
	/* a list longer than inih's line on one line, and continued from a long line */
	char longest[600];
	snprintf(longest, sizeof longest, "[cluster]\nid = a\nstandbys = %0250d\n", 1);
	expect_error(f, longest, 3, "'cluster.standbys' is 250 characters long, more than 32");
	snprintf(longest, sizeof longest,
		 "%s[failover]\nvoters = p1@h%096d:1, s1@h%096d:2,\n    s2@h:3 ; the third\n"
		 "witness = h:5\nrto = 2s\nrpo = 0\n",
		 "[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\ndata_dir = /d\n"
		 "listen = 127.0.0.1:2\n[durability]\nmode = durable\n",
		 0, 0);
	assert_int_equal(load(f, longest), 0);
	assert_int_equal(f->c.failover.n_voters, 4);
	assert_string_equal(f->c.failover.voters[2].addr, "h:3");
	assert_int_equal(strlen(f->c.failover.voters[1].addr), 99);
}

/* A [failover] section gives voter ids in listed order with the witness last, this node's
 * id, the targets in ms, the standbys of whichever node leads (the other nodes), and
 * rpo_action (block unless it says fail). */
static void test_failover(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 2s\nrpo = 0\n"), 0);
	const struct hw_failover *fo = &f->c.failover;
	assert_true(fo->on);
	assert_int_equal(fo->n_voters, 4);
	assert_int_equal(fo->witness, 3);
	assert_int_equal(fo->self, 1);
	assert_string_equal(fo->voters[2].id, "s2");
	assert_string_equal(fo->voters[2].addr, "10.0.0.4:7001");
	assert_string_equal(fo->voters[3].id, "w1");
	assert_string_equal(fo->voters[3].addr, "10.0.0.3:7900");
	assert_int_equal(fo->rto_ms, 2000);
	assert_int_equal(fo->rpo_ms, 0);
	assert_int_equal(f->c.n_standbys, 2);
	assert_string_equal(f->c.standbys[0], "p1");
	assert_string_equal(f->c.standbys[1], "s2");
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1m\nrpo = 1500ms\n"), 0);
	assert_int_equal(f->c.failover.rto_ms, 60000);
	assert_int_equal(f->c.failover.rpo_ms, 1500);
	assert_false(f->c.failover.rpo_fail); /* rpo_action = block by default */
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1m\nrpo = 1s\nrpo_action = fail\n"), 0);
	assert_true(f->c.failover.rpo_fail);
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1m\nrpo = 1s\nrpo_action = block\n"), 0);
	assert_false(f->c.failover.rpo_fail);
}

/* A [failover] section that cannot work is refused with the reason: a node not among
 * the voters, an RPO of 0 with a mode that acknowledges before a standby has the record,
 * a time without a unit, a missing target, an rpo_action other than block or fail or
 * at rpo 0. */
static void test_failover_refused(void **state)
{
	struct fx *f = *state;
	expect_error(f, FAILOVER_STANDBY "rto = 2s\nrpo = 0\nvoters = p1@h:1\n", 16, "given twice");
	char text[1024];
	snprintf(text, sizeof text, "%s", FAILOVER_STANDBY "rto = 2s\nrpo = 0\n");
	char *m = strstr(text, "mode = durable");
	memcpy(m, "mode = local  ", 14);
	expect_error(f, text, 0, "needs 'durability.mode' durable or applied");
	expect_error(f, FAILOVER_STANDBY "rto = 2\nrpo = 0\n", 14, "bad time '2'");
	expect_error(f, FAILOVER_STANDBY "rto = 2s\n", 0, "needs 'voters', 'witness', 'rto' and 'rpo'");
	expect_error(f, FAILOVER_STANDBY "rto = 2s\nrpo = 1s\nrpo_action = maybe\n", 16,
		     "'failover.rpo_action' = maybe: block or fail");
	expect_error(f, FAILOVER_STANDBY "rto = 2s\nrpo = 0\nrpo_action = fail\n", 0,
		     "'failover.rpo_action' is for rpo > 0");
	snprintf(text, sizeof text, "%s", FAILOVER_STANDBY "rto = 2s\nrpo = 0\n");
	memcpy(strstr(text, "id = s1"), "id = s9", 7);
	expect_error(f, text, 0, "'node.id' 's9' is not in 'failover.voters'");
	/* five voters: with a record durable on k = 1 standby (s1), s2, s3 and the witness
	 * make a majority that could elect s2 without it; k = 2 leaves none without it */
#define FIVE_VOTERS(rpo)                                                                           \
	"[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\ndata_dir = /d\n"                \
	"listen = 127.0.0.1:2\n[failover]\nvoters = p1@h:1, s1@h:2, s2@h:3, s3@h:4\n"              \
	"witness = h:5\nwitness_id = w1\nrto = 2s\nrpo = " rpo "\n[durability]\nmode = durable\n"
	expect_error(f, FIVE_VOTERS("0"), 0,
		     "'failover.rpo' = 0 with 5 voters needs 'durability.k' >= 2, not 1");
	expect_error(f, FIVE_VOTERS("0") "k = 1\n", 16, "needs 'durability.k' >= 2, not 1");
	assert_int_equal(load(f, FIVE_VOTERS("0") "k = 2\n"), 0);
	/* at rpo t k = 1 loads (the node raises it: test_k_min_any_rpo) */
	assert_int_equal(load(f, FIVE_VOTERS("1s")), 0);
#undef FIVE_VOTERS
	/* a witness holds no data: a data node's keys would do nothing there */
	static const char witness[] =
		"[cluster]\nid = yard-ha\n[node]\nid = w1\nrole = witness\n"
		"data_dir = /d\nlisten = 10.0.0.3:7900\n[failover]\n"
		"voters = p1@10.0.0.1:7001, s1@10.0.0.2:7001\n"
		"witness = 10.0.0.3:7900\nwitness_id = w1\nrto = 2s\nrpo = 0\n";
	assert_int_equal(load(f, witness), 0);
	assert_int_equal(hw_config_k_min(&f->c), 0); /* it waits for nothing */
	snprintf(text, sizeof text, "%s[durability]\nk = 7\n", witness);
	expect_error(f, text, 0, "'durability.k' is for a node that holds data, not a witness");
	snprintf(text, sizeof text, "%s[durability]\ncheckpoint_records = 5\n", witness);
	expect_error(f, text, 0, "'durability.checkpoint_records' is for a node that holds data");
	snprintf(text, sizeof text, "%s[cluster]\nstandbys = p1\n", witness);
	expect_error(f, text, 0, "'cluster.standbys' is for a node that holds data");
	/* nor does it serve clients: a slow heartbeat of its own costs no client silence */
	snprintf(text, sizeof text, "%s[limits]\nheartbeat_ms = 500\n", witness);
	assert_int_equal(load(f, text), 0);
	char err[512];
	assert_int_equal(hw_voters_plan_check(&f->c, f->path, err, sizeof err), 0);
}

/* The least k a primary makes a received, durable or applied submit wait for
 * (hw_config_k_min): k_min of the voters, at rpo 1 s as at rpo 0, for the modes that
 * promise no loss lose none in a failover at any rpo. Five voters make it 2 with
 * durability.k 1 at rpo 1 s or 5 min (which loads: the node raises k, it does not refuse
 * a config that loaded before) and with k 2 at rpo 0; four voters 1; a node without
 * [failover] 0 (a witness too: test_failover_refused). */
static void test_k_min_any_rpo(void **state)
{
	struct fx *f = *state;
#define FIVE_VOTERS(rpo, k)                                                                        \
	"[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\ndata_dir = /d\n"                \
	"listen = 127.0.0.1:2\n[failover]\nvoters = p1@h:1, s1@h:2, s2@h:3, s3@h:4\n"              \
	"witness = h:5\nwitness_id = w1\nrto = 2s\nrpo = " rpo "\n[durability]\nmode = durable\n"  \
	"k = " k "\n"
	static const struct {
		const char *text;
		uint32_t k, k_min;
	} cases[] = {
		{FIVE_VOTERS("1s", "1"), 1, 2},
		{FIVE_VOTERS("5m", "1"), 1, 2},
		{FIVE_VOTERS("0", "2"), 2, 2},
		{FAILOVER_STANDBY "rto = 2s\nrpo = 1s\n", 1, 1},
		{FAILOVER_STANDBY "rto = 2s\nrpo = 0\n", 1, 1},
		{PRIMARY_HEAD, 1, 0},
	};
#undef FIVE_VOTERS
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(load(f, cases[i].text), 0);
		assert_int_equal(f->c.k, cases[i].k);
		assert_int_equal(hw_config_k_min(&f->c), cases[i].k_min);
	}
}

/* A hung primary's clients notice it after 4 heartbeats, at least 1 s, then resume in
 * 300 ms: with [failover], a heartbeat_ms that makes that longer than the RTO is refused
 * at its line with the numbers and the most it may be; an RTO even 1 s of silence does
 * not fit is refused at its own line; the largest heartbeat that fits loads, and a node
 * without [failover] (no RTO) takes the slowest. */
static void test_failover_client_silence(void **state)
{
	struct fx *f = *state;
	expect_error(f, FAILOVER_STANDBY "rto = 5s\nrpo = 0\n[limits]\nheartbeat_ms = 2000\n", 17,
		     "'limits.heartbeat_ms' = 2000: a hung primary's clients notice its silence "
		     "only after 8000 ms (4 heartbeats) and resume in 300 ms, past "
		     "'failover.rto' = 5000 ms: give 'limits.heartbeat_ms' at most 1175, or "
		     "'failover.rto' at least 8300 ms");
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 5s\nrpo = 0\n[limits]\nheartbeat_ms = "
						  "1175\n"),
			 0);
	expect_error(f, FAILOVER_STANDBY "rto = 1200ms\nrpo = 0\n", 14,
		     "'failover.rto' = 1200 ms is shorter than a hung primary's clients take: "
		     "they notice its silence after 1000 ms ('limits.heartbeat_ms' = 100: 4 "
		     "heartbeats, at least 1000 ms) and resume in 300 ms: give 'failover.rto' at "
		     "least 1300 ms");
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1300ms\nrpo = 0\n"), 0);
	assert_int_equal(load(f, PRIMARY_HEAD "[limits]\nheartbeat_ms = 60000\n"
					      "peer_timeout_ms = 70000\n"),
			 0);
	/* the node's plan agrees: what the config allows, the planner does */
	struct hw_el_config el;
	struct hw_tg_plan plan;
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1300ms\nrpo = 0\n"), 0);
	assert_int_equal(hw_voters_plan(&f->c, &el, &plan), 0);
	assert_int_equal(plan.failover_ms, 1300);
}

/* A [failover] header asks for failover even with every key commented out: refused for
 * the keys it lacks rather than read as a static node. */
static void test_failover_empty_section(void **state)
{
	struct fx *f = *state;
	expect_error(f, PRIMARY_HEAD "[failover]\n; voters = p1@h:1, s1@h:2\n; rto = 5s\n", 0,
		     "[failover] needs 'voters', 'witness', 'rto' and 'rpo'");
	expect_error(f, PRIMARY_HEAD "[failover]\n", 0, "[failover] needs 'voters'");
	assert_int_equal(load(f, PRIMARY_HEAD), 0);
	assert_false(f->c.failover.on);
}

/* Two voters at one address, or a witness at this node's own listen address, are
 * refused naming both, an IP address in another spelling or as localhost (which a node
 * dials as 127.0.0.1 without a lookup) too; so is a node or witness whose own voter
 * address is at another port than its node.listen (its host may differ). */
static void test_failover_duplicate_addrs(void **state)
{
	struct fx *f = *state;
	static const char head[] = "[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\n"
				   "data_dir = /d\nlisten = 127.0.0.1:7002\n[durability]\n"
				   "mode = durable\n[failover]\nrto = 2s\nrpo = 0\n";
	char text[1024];
	snprintf(text, sizeof text, "%svoters = p1@h:1, s1@127.0.0.1:7002\nwitness = h:1\n", head);
	expect_error(f, text, 0,
		     "'failover.witness' gives witness the address h:1 of p1: every voter needs "
		     "its own");
	snprintf(text, sizeof text,
		 "%svoters = p1@h:1, s1@h:2, s2@h:1\nwitness = h:5\nwitness_id = w1\n", head);
	expect_error(f, text, 0, "'failover.voters' gives s2 the address h:1 of p1");
	snprintf(text, sizeof text, "%svoters = p1@h:1, s1@h:2\nwitness = 127.0.0.1:7002\n", head);
	expect_error(f, text, 0, "'failover.witness' 127.0.0.1:7002 is this node's 'node.listen'");
	snprintf(text, sizeof text, "%svoters = p1@h:1, s1@h:7002\nwitness = h:3\n", head);
	assert_int_equal(load(f, text), 0);
	snprintf(text, sizeof text,
		 "%svoters = p1@localhost:7002, s1@127.0.0.1:7002\nwitness = h:3\n", head);
	expect_error(
		f, text, 0,
		"'failover.voters' gives s1 the address 127.0.0.1:7002 of p1 (localhost:7002)");
	snprintf(text, sizeof text, "%svoters = p1@[::1]:1, s1@h:7002\nwitness = [0:0::1]:1\n",
		 head);
	expect_error(f, text, 0, "gives witness the address [0:0::1]:1 of p1 ([::1]:1)");
	snprintf(text, sizeof text, "%svoters = p1@h:1, s1@h:7002\nwitness = localhost:7002\n",
		 head);
	expect_error(f, text, 0, "'failover.witness' localhost:7002 is this node's 'node.listen'");
	snprintf(text, sizeof text, "%svoters = p1@h:1, s1@h:7005\nwitness = h:3\n", head);
	expect_error(f, text, 0,
		     "'node.listen' 127.0.0.1:7002 is not where the other voters dial this node: "
		     "'failover.voters' gives s1 the address h:7005 (the host may differ, the port "
		     "may not)");
	expect_error(f,
		     "[cluster]\nid = yard-ha\n[node]\nid = w1\nrole = witness\ndata_dir = /d\n"
		     "listen = 0.0.0.0:7999\n[failover]\nvoters = p1@h:1, s1@h:2\n"
		     "witness = 10.0.0.3:7900\nwitness_id = w1\nrto = 2s\nrpo = 0\n",
		     0, "'failover.witness' gives w1 the address 10.0.0.3:7900");
	assert_int_equal(load(f, "[cluster]\nid = yard-ha\n[node]\nid = w1\nrole = witness\n"
				 "data_dir = /d\nlisten = 0.0.0.0:7900\n[failover]\n"
				 "voters = p1@h:1, s1@h:2\nwitness = 10.0.0.3:7900\n"
				 "witness_id = w1\nrto = 2s\nrpo = 0\n"),
			 0);
}

/* heartbeat_p99 and heartbeat_spread (what hawser plan --measure prints) are what the
 * node plans its election timers for; without them it plans for the defaults. Bad values
 * are refused with the reason. */
static void test_failover_heartbeat(void **state)
{
	struct fx *f = *state;
	struct hw_el_config el;
	struct hw_tg_plan dflt, told, want;
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 30s\nrpo = 0\n"), 0);
	assert_int_equal(hw_voters_plan(&f->c, &el, &dflt), 0);
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 30s\nrpo = 0\nheartbeat_p99 = 5ms\n"
						  "heartbeat_spread = 2ms\n"),
			 0);
	assert_int_equal(f->c.failover.hb_p99_us, 5000);
	assert_int_equal(f->c.failover.hb_spread_us, 2000);
	assert_int_equal(hw_voters_plan(&f->c, &el, &told), 0);
	struct hw_tg_input in;
	hw_tg_input_defaults(&in, 30000, 0, 1);
	in.jitter_p99_us = 5000;
	in.jitter_spread_us = 2000;
	assert_int_equal(hw_tg_plan(&in, &want), 0);
	assert_int_equal(told.renew_ms, want.renew_ms);
	assert_int_equal(told.detection_ms, want.detection_ms);
	assert_int_equal(el.renew_ms, want.renew_ms);
	assert_int_equal(told.renew_min_ms, want.renew_min_ms);
	assert_true(told.renew_min_ms > dflt.renew_min_ms);
	/* An RTO the defaults allow and this jitter does not: the node refuses it, saying
	 * the jitter is the configured (measured) one. */
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1500ms\nrpo = 0\n"), 0);
	assert_int_equal(hw_voters_plan(&f->c, &el, &dflt), 0);
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1500ms\nrpo = 0\nheartbeat_p99 = 30ms\n"),
			 0);
	assert_int_equal(f->c.failover.hb_spread_us, 0);
	assert_int_not_equal(hw_voters_plan(&f->c, &el, &told), 0);
	assert_non_null(strstr(told.why, "the measured heartbeat jitter (p99 30000 us)"));
	/* as a node or witness refuses it at open: the file, the key, the least it takes */
	char err[512], head[400];
	assert_int_equal(hw_voters_plan_check(&f->c, f->path, err, sizeof err), HW_ERANGE);
	snprintf(head, sizeof head,
		 "%s: 'failover.rto' = 1500 ms cannot be met: rto 1500 ms "
		 "leaves ",
		 f->path);
	assert_true(strncmp(err, head, strlen(head)) == 0);
	assert_non_null(strstr(err, "the measured heartbeat jitter (p99 30000 us) needs at least "
				    "1203 ms; the least these inputs allow is 1703 ms: raise "
				    "'failover.rto'"));
	assert_null(strstr(err, "--measure"));
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 1703ms\nrpo = 0\nheartbeat_p99 = 30ms\n"),
			 0);
	assert_int_equal(hw_voters_plan_check(&f->c, f->path, err, sizeof err), 0);
	/* an rpo within the RPO t rule's margin: the key to change is the rpo */
	assert_int_equal(load(f, FAILOVER_STANDBY "rto = 30s\nrpo = 15ms\n"), 0);
	assert_int_equal(hw_voters_plan_check(&f->c, f->path, err, sizeof err), HW_ERANGE);
	assert_non_null(
		strstr(err, "'failover.rpo' = 15 ms cannot be met: rpo 15 ms is not above"));
	assert_non_null(strstr(err, "(set it above 21 ms, or to 0)"));
	assert_null(strstr(err, "'failover.rto'"));
	expect_error(f, FAILOVER_STANDBY "rto = 30s\nrpo = 0\nheartbeat_spread = 2ms\n", 0,
		     "'failover.heartbeat_spread' needs 'failover.heartbeat_p99'");
	expect_error(f,
		     FAILOVER_STANDBY "rto = 30s\nrpo = 0\nheartbeat_p99 = 2ms\n"
				      "heartbeat_spread = 3ms\n",
		     0, "is more than 'failover.heartbeat_p99'");
	expect_error(f, FAILOVER_STANDBY "rto = 30s\nrpo = 0\nheartbeat_p99 = 0\n", 16,
		     "a heartbeat delay is 1ms to 10s");
	expect_error(f, FAILOVER_STANDBY "rto = 30s\nrpo = 0\nheartbeat_p99 = 11s\n", 16,
		     "a heartbeat delay is 1ms to 10s");
}

/* The election's hard state in a store (engine/voters.c, docs/formats.md): version 2
 * keeps the longest lease promised; a version 1 value (written before) reads with none,
 * and anything else is HW_EFORMAT. */
static void test_hard_state_versions(void **state)
{
	struct fx *f = *state;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/store", f->dir);
	assert_int_equal(hw_store_init(dir), 0);
	struct hw_store *s;
	assert_int_equal(hw_store_open(dir, NULL, &s), 0);
	struct hw_el_hard h = {7, 6, 1, 2, 5, 99, 400}, got;
	assert_int_equal(hw_voters_save_hard(s, &h), 0);
	assert_int_equal(hw_voters_load_hard(s, &got), 0);
	assert_memory_equal(&got, &h, sizeof h);
	uint8_t v1[41] = {1};
	v1[1] = 7; /* epoch 7, little-endian */
	assert_int_equal(hw_store_meta_put(s, "node.election", v1, sizeof v1), 0);
	assert_int_equal(hw_voters_load_hard(s, &got), 0);
	assert_int_equal(got.epoch, 7);
	assert_int_equal(got.lease_ms, 0);
	v1[0] = 3;
	assert_int_equal(hw_store_meta_put(s, "node.election", v1, sizeof v1), 0);
	assert_int_equal(hw_voters_load_hard(s, &got), HW_EFORMAT);
	hw_store_close(s);
}

#define VAULT_HEAD                                                                                 \
	"[cluster]\n"                                                                              \
	"id = yard-ha\n"                                                                           \
	"[node]\n"                                                                                 \
	"id = v1\n"                                                                                \
	"role = vault\n"                                                                           \
	"data_dir = /var/lib/hawser/v1\n"

/* A vault: a list of addresses to pull from (each node and address once), an apply
 * delay, no replication port, no [failover], no [durability]; apply_delay and address
 * lists are refused on other roles. */
static void test_vault(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f,
			      VAULT_HEAD "primary = 10.0.0.1:7001, 10.0.0.2:7001\n"
					 "apply_delay = 1h\nclient = unix:/run/hawser/v1.sock\n"),
			 0);
	assert_int_equal(f->c.role, HW_ROLE_VAULT);
	assert_int_equal(f->c.apply_delay_ms, 3600000);
	assert_int_equal(f->c.n_sources, 2);
	assert_string_equal(f->c.sources[1], "10.0.0.2:7001");
	assert_string_equal(f->c.primary, "10.0.0.1:7001");
	assert_int_equal(load(f, VAULT_HEAD "primary = 10.0.0.1:7001\n"), 0);
	assert_int_equal(f->c.apply_delay_ms, 0); /* default: no delay */
	assert_string_equal(f->c.client, "");     /* no port at all */
	expect_error(f, VAULT_HEAD "primary = 10.0.0.1:7001\nlisten = 127.0.0.1:7001\n", 0,
		     "a vault accepts no inbound connections: remove 'node.listen'");
	expect_error(f, VAULT_HEAD, 0, "missing key 'node.primary' (required for a vault)");
	expect_error(f,
		     VAULT_HEAD "primary = a:1\n[failover]\nvoters = p1@a:1, v1@b:1\n"
				"witness = c:1\nrto = 30s\nrpo = 0\n",
		     0, "a vault never votes");
	expect_error(f, VAULT_HEAD "primary = a:1\napply_delay = 31d\n", 8,
		     "'node.apply_delay' = 31d is more than 30 days");
	expect_error(f, VAULT_HEAD "primary = a:1\napply_delay = soon\n", 8,
		     "bad duration 'soon' for 'node.apply_delay'");
	expect_error(f, VAULT_HEAD "primary = a:1, b\n", 7, "bad address 'b' for 'node.primary'");
	expect_error(f, VAULT_HEAD "primary = a:1, ,b:1\n", 7, "lists an empty item");
	/* each node and each address once: a repeat would be tried twice as often */
	expect_error(f, VAULT_HEAD "primary = p1@a:1, p1@b:1\n", 7,
		     "'node.primary' lists 'p1' twice");
	expect_error(f, VAULT_HEAD "primary = p1@a:1, s1@a:1\n", 7,
		     "'node.primary' lists the address a:1 twice");
	expect_error(f, VAULT_HEAD "primary = a:1, a:1\n", 7, "lists the address a:1 twice");
	/* a vault never leads nor acknowledges a submit: [durability] would do nothing */
	expect_error(f, VAULT_HEAD "primary = a:1\n[durability]\nmode = durable\n", 0,
		     "'durability.mode' is for a node that may be primary, not a vault");
	expect_error(f, VAULT_HEAD "primary = a:1\n[durability]\ncheckpoint_interval = 5s\n", 0,
		     "'durability.checkpoint_interval' is for a node that may be primary");
	expect_error(f,
		     "[cluster]\nid = c\n[node]\nid = s1\nrole = standby\ndata_dir = /d\n"
		     "primary = a:1\napply_delay = 1h\n",
		     0, "'node.apply_delay' is for role = vault only");
	expect_error(f,
		     "[cluster]\nid = c\n[node]\nid = s1\nrole = standby\ndata_dir = /d\n"
		     "primary = a:1, b:1\n",
		     0, "'node.primary' lists 2 addresses: only a vault");
	expect_error(f, "[node]\nrole = vaults\n", 2,
		     "expected primary, standby, vault or witness");
}

/* cluster.vaults: after the standbys in standbys[], never counted for k, never a standby
 * or the node itself, and together with the standbys within the peer limit. */
static void test_vaults_of_primary(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f,
			      PRIMARY_HEAD "[cluster]\nvaults = v1\n[durability]\nmode = durable\n"
					   "k = 2\n"),
			 0);
	assert_int_equal(f->c.n_standbys, 2);
	assert_int_equal(f->c.n_vaults, 1);
	assert_string_equal(f->c.standbys[2], "v1");
	expect_error(f,
		     PRIMARY_HEAD "[cluster]\nvaults = v1\n[durability]\nmode = durable\nk = 3\n",
		     13, "'durability.k' = 3 is more than the 2 standbys");
	expect_error(f, PRIMARY_HEAD "[cluster]\nvaults = s2\n", 0,
		     "'s2' is both a standby and a vault");
	expect_error(f, PRIMARY_HEAD "[cluster]\nvaults = p1\n", 0,
		     "'cluster.vaults' names this node");
	expect_error(f, PRIMARY_HEAD "[cluster]\nvaults = a,b,c,d,e,f,g\n", 0,
		     "2 standbys and 7 vaults are more than 8 peers");
	expect_error(f, PRIMARY_HEAD "[cluster]\nvaults = a, a\n", 10, "lists 'a' twice");
	/* a vault connects to the primary's replication port, as a standby does */
	expect_error(f,
		     "[cluster]\nid = c\nvaults = v1\n[node]\nid = p1\nrole = primary\n"
		     "data_dir = /d\nclient = 127.0.0.1:7001\n[durability]\nmode = local\n",
		     0,
		     "missing key 'node.listen' (required for a primary with standbys or vaults)");
}

/* [retention]: 30 days of log, 7 generations and 30 days of backups by default; values in
 * range are taken; zero generations, out-of-range days, non-numbers, repeats and unknown
 * keys are refused with file:line and the key. */
static void test_retention(void **state)
{
	struct fx *f = *state;
	assert_int_equal(load(f, PRIMARY_HEAD), 0);
	assert_int_equal(f->c.retention.log_days, 30);
	assert_int_equal(f->c.retention.backup_generations, 7);
	assert_int_equal(f->c.retention.backup_days, 30);
	assert_int_equal(load(f, PRIMARY_HEAD "[retention]\nlog_days = 0\nbackup_generations = 30\n"
					      "backup_days = 365\n"),
			 0);
	assert_int_equal(f->c.retention.log_days, 0);
	assert_int_equal(f->c.retention.backup_generations, 30);
	assert_int_equal(f->c.retention.backup_days, 365);
	expect_error(f, PRIMARY_HEAD "[retention]\nbackup_generations = 0\n", 10,
		     "'retention.backup_generations' = 0 is out of range [1, 100000]");
	expect_error(f, PRIMARY_HEAD "[retention]\nlog_days = 36601\n", 10,
		     "'retention.log_days' = 36601 is out of range");
	expect_error(f, PRIMARY_HEAD "[retention]\nbackup_days = -1\n", 10,
		     "bad number '-1' for 'retention.backup_days'");
	expect_error(f, PRIMARY_HEAD "[retention]\nlog_days = 30d\n", 10,
		     "bad number '30d' for 'retention.log_days'");
	expect_error(f, PRIMARY_HEAD "[retention]\nlog_days = 1\nlog_days = 2\n", 11,
		     "'retention.log_days' given twice");
	expect_error(f, PRIMARY_HEAD "[retention]\nlog_keep_days = 1\n", 10,
		     "unknown key 'retention.log_keep_days'");

	/* The section alone, as a backup host keeps it (hawser prune --config): read by
	 * itself, where a node's load wants a whole node; a node's whole config also serves,
	 * its other sections unread; a typo in the section is still one. */
	struct hw_retention r;
	assert_int_equal(load(f, "[retention]\nbackup_generations = 3\n"), HW_ECONFIG);
	assert_int_equal(hw_config_load_retention(f->path, &r, f->err, sizeof f->err), 0);
	assert_int_equal(r.backup_generations, 3);
	assert_int_equal(r.backup_days, 30);
	assert_int_equal(load(f, PRIMARY_HEAD "[security]\nkey = /nowhere/node.key\n"
					      "peers = /nowhere\n[retention]\nbackup_days = 9\n"),
			 HW_ECONFIG);
	assert_int_equal(hw_config_load_retention(f->path, &r, f->err, sizeof f->err), 0);
	assert_int_equal(r.backup_days, 9);
	assert_int_equal(load(f, "[retention]\nbackup_generation = 3\n"), HW_ECONFIG);
	assert_int_equal(hw_config_load_retention(f->path, &r, f->err, sizeof f->err), HW_ECONFIG);
	assert_non_null(strstr(f->err, "unknown key 'retention.backup_generation'"));
}

static void write_key(const char *path, const struct hw_identity *id, bool secret)
{
	char text[4096];
	long n = secret ? hw_identity_format_secret(id, text, sizeof text)
			: hw_identity_format_public(id, text, sizeof text);
	FILE *fp = fopen(path, "w");
	assert_true(n > 0 && fp && fchmod(fileno(fp), 0600) == 0 && fputs(text, fp) >= 0 &&
		    fclose(fp) == 0);
}

static int setup_keys(void **state)
{
	setup(state);
	struct fx *f = *state;
	struct keys *k = &f->k;
	assert_int_equal(hw_identity_generate(&k->id), 0);
	assert_int_equal(hw_identity_generate(&k->id2), 0);
	snprintf(k->pins, sizeof k->pins, "%s/pins", f->dir);
	assert_int_equal(mkdir(k->pins, 0700), 0);
	snprintf(k->pub, sizeof k->pub, "%s/p1.pub", k->pins);
	snprintf(k->key, sizeof k->key, "%s/p1.key", f->dir);
	snprintf(k->pub2, sizeof k->pub2, "%s/s1.pub", f->dir);
	write_key(k->pub, &k->id, false);
	write_key(k->key, &k->id, true);
	write_key(k->pub2, &k->id2, false);
	return 0;
}

/* [security]: key and peers load the pinned keys (a file and a directory), each key once,
 * and give the channel its identity and pins. */
static void test_security_pins(void **state)
{
	struct fx *f = *state;
	const struct keys *k = &f->k;
	char text[4096];
	struct hw_identity self;
	struct hw_channel_config cc;
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\nkey = %s\npeers = %s, %s\n", k->key,
		 k->pins, k->pub2);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->c.security.n_peers, 2);
	/* one key pinned twice under one name (a file listed twice, or also in a listed
	 * directory) is pinned once */
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\nkey = %s\npeers = %s, %s, %s\n",
		 k->key, k->pub, k->pins, k->pub);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->c.security.n_peers, 1);
	/* continued, the first line ending in a comma: the list is what counts, whole */
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\nkey = %s\npeers = %s,\n  %s\n",
		 k->key, k->pins, k->pub2);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(f->c.security.n_peers, 2);
	assert_non_null(strstr(f->c.security.peer_files, k->pub2));
	assert_memory_equal(f->c.security.peers[0], k->id.kx_pk, 32);
	assert_memory_equal(f->c.security.peers[1], k->id2.kx_pk, 32);
	assert_int_equal(hw_config_channel(&f->c, f->path, &self, &cc, f->err, sizeof f->err), 0);
	assert_false(cc.insecure);
	assert_int_equal(cc.pinned_count, 2);
	assert_memory_equal(self.kx_pk, k->id.kx_pk, 32);
	assert_string_equal(cc.cluster_id, "yard-ha");
	hw_identity_wipe(&self);
}

/* insecure = true alone is plaintext; a config with neither does not give a channel, and
 * says what to add; a key file that cannot be read does not either (HW_ECONFIG); keys
 * with insecure, a key without peers, a bad node.pub, a bad value and an unknown key are
 * refused. */
static void test_security_refused(void **state)
{
	struct fx *f = *state;
	const struct keys *k = &f->k;
	char text[4096];
	struct hw_identity self;
	struct hw_channel_config cc;
	assert_int_equal(load(f, PRIMARY_HEAD "[security]\ninsecure = true\n"), 0);
	assert_int_equal(hw_config_channel(&f->c, f->path, &self, &cc, f->err, sizeof f->err), 0);
	assert_true(cc.insecure);
	assert_int_equal(load(f, PRIMARY_HEAD), 0);
	assert_int_equal(hw_config_channel(&f->c, f->path, &self, &cc, f->err, sizeof f->err),
			 HW_ECONFIG);
	assert_non_null(strstr(f->err, "add a [security] section with key ="));
	assert_non_null(strstr(f->err, "insecure = true"));
	/* a security.key that cannot be read is a bad config too (hawser.h: HW_ECONFIG), with
	 * the reason, not the bare -ENOENT */
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\nkey = %s/none.key\npeers = %s\n",
		 f->dir, k->pins);
	assert_int_equal(load(f, text), 0);
	assert_int_equal(hw_config_channel(&f->c, f->path, &self, &cc, f->err, sizeof f->err),
			 HW_ECONFIG);
	assert_non_null(strstr(f->err, "none.key: No such file"));

	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\ninsecure = true\nkey = %s\n", k->key);
	expect_error(f, text, 0, "choose one");
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\nkey = %s\n", k->key);
	expect_error(f, text, 0, "'security.peers' is missing");
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\npeers = %s\n", k->key);
	expect_error(f, text, 10, "not a node.pub of hawser keygen"); /* a node.key */
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\npeers = %s/none.pub\n", f->dir);
	expect_error(f, text, 10, "No such file");
	char empty[600]; /* a directory that exists, with no *.pub in it */
	snprintf(empty, sizeof empty, "%s/empty-pins", f->dir);
	assert_int_equal(mkdir(empty, 0700), 0);
	snprintf(text, sizeof text, PRIMARY_HEAD "[security]\npeers = %s\n", empty);
	expect_error(f, text, 10, "empty-pins: no node.pub in it");
	expect_error(f, PRIMARY_HEAD "[security]\ninsecure = yes\n", 10, "expected true or false");
	expect_error(f, PRIMARY_HEAD "[security]\ncert = x\n", 10, "unknown key 'security.cert'");
}

/* With keys, a standby's and a vault's node.primary name the node whose key alone they
 * follow; a bare address is refused, and so is this node's own id. */
static void test_security_primary_named(void **state)
{
	struct fx *f = *state;
	const struct keys *k = &f->k;
	char text[4096];
#define STANDBY_HEAD "[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\ndata_dir = /d\n"
	snprintf(text, sizeof text,
		 STANDBY_HEAD "primary = 10.0.0.1:7001\n[security]\nkey = %s\npeers = %s\n", k->key,
		 k->pins);
	expect_error(f, text, 0,
		     "'node.primary' must name the node at each address: <id>@10.0.0.1:7001");
	snprintf(text, sizeof text,
		 STANDBY_HEAD "primary = s1@10.0.0.1:7001\n[security]\nkey = %s\npeers = %s\n",
		 k->key, k->pins);
	expect_error(f, text, 0, "'node.primary' names this node 's1'");
	static const char *const named[][3] = {
		{"p1 @ 10.0.0.1:7001", "p1", "10.0.0.1:7001"},
		/* the id ends at the first '@': a socket's path may hold more */
		{"p1@unix:/run/p1@yard.sock", "p1", "unix:/run/p1@yard.sock"},
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		snprintf(text, sizeof text,
			 STANDBY_HEAD "primary = %s\n[security]\nkey = %s\npeers = %s\n",
			 named[i][0], k->key, k->pins);
		assert_int_equal(load(f, text), 0);
		assert_string_equal(f->c.primary_id, named[i][1]);
		assert_string_equal(f->c.primary, named[i][2]);
	}
	snprintf(text, sizeof text,
		 VAULT_HEAD "primary = p1@10.0.0.1:7001, 10.0.0.2:7001\n"
			    "[security]\nkey = %s\npeers = %s\n",
		 k->key, k->pins);
	expect_error(f, text, 0, "<id>@10.0.0.2:7001");
	snprintf(text, sizeof text,
		 VAULT_HEAD "primary = p1@10.0.0.1:7001, s1@10.0.0.2:7001\n"
			    "[security]\nkey = %s\npeers = %s\n",
		 k->key, k->pins);
	assert_int_equal(load(f, text), 0);
	assert_string_equal(f->c.source_ids[1], "s1");
	expect_error(f, STANDBY_HEAD "primary = p 1@10.0.0.1:7001\n", 7, "bad value 'p 1'");
#undef STANDBY_HEAD
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_k_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_number, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_keep_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_standbys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_is_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_continued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_k_min_any_rpo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_client_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_empty_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_duplicate_addrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failover_heartbeat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_state_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vaults_of_primary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_pins, setup_keys, teardown),
		cmocka_unit_test_setup_teardown(test_security_refused, setup_keys, teardown),
		cmocka_unit_test_setup_teardown(test_security_primary_named, setup_keys, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
