/* test_cli_store.c: the `hawser` store commands run as a real process (HW_BIN): exit
 * codes, usage errors, --help, init (twice, a path shown escaped, on a full disk: a tmpfs
 * in a mount namespace of the test's own), keygen's refusals, ingest --json, get, digest,
 * backup and restore to a point in time, and digest, get and backup of a store on whose
 * damaged pages LMDB aborts or faults, or whose reading child fails a check of hawser's
 * own; a store's directory that is missing, a node or witness whose ports cannot listen,
 * and a node whose disk is full. verify on intact and damaged stores, and the scratch
 * stores of the commands that rebuild or replay on a full disk, are in test_cli_verify.c. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/cli_fix.h"

#include "bench/workload.h"
#include "hawser_limits.h"

static int setup(void **state)
{
	return fix_setup(state, "cli-store");
}

/* "<hex> lsn=<L>" from `hawser digest`: copies the hex, returns L. */
static uint64_t parse_digest(const struct hw_capture *r, char *hex)
{
	unsigned long long lsn = 0;
	assert_int_equal(sscanf(r->out, "%64s lsn=%llu", hex, &lsn), 2);
	assert_int_equal(strlen(hex), 2 * HW_HASH_BYTES);
	return (uint64_t)lsn;
}

/* ---- tests */

/* Unknown command, missing DIR, both restore limits, a non-numeric count, an option
 * given twice and a --connect that is no address list are usage errors: exit 2 with the
 * reason (wrapped at 80 columns) and where the options are on stderr (not the whole usage
 * that scrolls the reason off a terminal), and nothing on stdout. A time or a duration of
 * the wrong shape says what the right one is. */
static void test_usage_errors(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw(&f->r, "frobnicate", NULL), 2);
	assert_string_equal(f->r.err, "hawser: unknown command 'frobnicate'\n"
				      "Try 'hawser help' for the list.\n");
	assert_int_equal(hw(&f->r, NULL), 2);
	assert_int_equal(hw(&f->r, "init", NULL), 2);
	assert_string_equal(f->r.err, "hawser init: expected 1 argument, got 0\n"
				      "Try 'hawser init --help' for more information.\n");
	assert_int_equal(hw(&f->r, "verify", NULL), 2);
	assert_int_equal(hw(&f->r, "restore", "a", "b", "--until-lsn", "5", "--until-time",
			    "2026-11-26T10:00:00Z", NULL),
			 2);
	assert_non_null(hw_said(f->r.err, "Try 'hawser restore --help'"));
	assert_int_equal(hw(&f->r, "restore", "a", "b", "--until-time", "2026-11-28", NULL), 2);
	assert_string_equal(f->r.err,
			    "hawser restore: bad value '2026-11-28' for --until-time: T is\n"
			    "  YYYY-MM-DDTHH:MM:SSZ (UTC; or with an offset such as +09:00), or "
			    "milliseconds\n"
			    "  since 1970\n"
			    "Try 'hawser restore --help' for more information.\n");
	/* an offset is +HH:MM, two digits each */
	assert_int_equal(
		hw(&f->r, "restore", "a", "b", "--until-time", "2026-11-28T17:22:17+ 9:00", NULL),
		2);
	assert_non_null(hw_said(f->r.err, "T is YYYY-MM-DDTHH:MM:SSZ"));
	assert_int_equal(hw(&f->r, "drill", "failover", "--rto", "2", NULL), 2);
	assert_string_equal(f->r.err,
			    "hawser drill failover: bad value '2' for --rto: a duration takes a "
			    "unit: 500ms,\n"
			    "  30s, 5m, 2h or 1d (a bare number only as 0)\n"
			    "Try 'hawser drill failover --help' for more information.\n");
	/* out of range, not of the wrong shape: no hint */
	assert_int_equal(hw(&f->r, "drill", "failover", "--rto", "0", NULL), 2);
	assert_non_null(hw_said(f->r.err, "bad value '0' for --rto\n"));
	assert_int_equal(hw(&f->r, "ingest", f->dir, "--generate", "lots", NULL), 2);
	assert_non_null(hw_said(f->r.err, "--generate"));
	assert_int_equal(hw(&f->r, "ingest", f->dir, NULL), 2);
	assert_int_equal(hw(&f->r, "ingest", f->dir, "--generate", "5", "--end-ms", "0", NULL), 2);
	assert_int_equal(hw(&f->r, "ingest", f->dir, "--generate", "5", "--batch", "5000", NULL),
			 2);
	assert_int_equal(hw(&f->r, "restore", "a", "b", "--until-time", "yesterday", NULL), 2);
	assert_int_equal(hw(&f->r, "get", f->dir, "vessel", "V1", NULL), 2);
	assert_int_equal(hw(&f->r, "verify", f->dir, "--bogus", NULL), 2);
	/* options that would do nothing, or name a signer no config could */
	assert_int_equal(hw(&f->r, "ingest", f->dir, "--generate", "5", "--node-id", "n1", NULL),
			 2);
	assert_non_null(hw_said(f->r.err, "goes with --sign-key"));
	assert_int_equal(hw(&f->r, "ingest", f->dir, "--generate", "5", "--checkpoint-every", "5",
			    "--sign-key", "k", "--node-id", "bad id!", NULL),
			 2);
	assert_non_null(hw_said(f->r.err, "bad value 'bad id!' for --node-id: an id is"));
	assert_int_equal(hw(&f->r, "plan", "--rto", "30s", "--rpo", "0", "--key", "k", NULL), 2);
	assert_non_null(hw_said(f->r.err, "go with --measure"));
	char store[4200];
	path(f, "store", store, sizeof store);
	assert_int_equal(hw(&f->r, "init", store, NULL), 0);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", store, "--insecure", NULL), 2);
	assert_non_null(hw_said(f->r.err, "go with --connect"));
	assert_int_equal(f->r.out_len, 0);
}

/* A value past what a node's config takes is a typo, not a bound: a usage error naming
 * it, before anything runs. verify's cadence (three of a huge one overflowed its bound:
 * 3 x 6148914691236517206 records wrapped to 2);
 * a failover drill's targets (the cluster it started refused them: ERROR, "No child
 * processes"); an hour itself is taken. */
static void test_usage_ranges(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw(&f->r, "verify", f->dir, "--checkpoint-interval", "61m", NULL), 2);
	assert_string_equal(f->r.err, "hawser verify: bad value '61m' for --checkpoint-interval\n"
				      "Try 'hawser verify --help' for more information.\n");
	assert_int_equal(
		hw(&f->r, "verify", f->dir, "--checkpoint-records", "6148914691236517206", NULL),
		2);
	assert_non_null(
		hw_said(f->r.err, "bad value '6148914691236517206' for --checkpoint-records"));
	assert_int_equal(hw(&f->r, "drill", "failover", "--rto", "61m", "--runs", "1", NULL), 2);
	assert_non_null(hw_said(f->r.err, "bad value '61m' for --rto\n"));
	assert_int_equal(hw(&f->r, "drill", "failover", "--rpo", "2h", "--runs", "1", NULL), 2);
	assert_non_null(hw_said(f->r.err, "bad value '2h' for --rpo\n"));
	assert_int_equal(f->r.out_len, 0);
	char store[4200];
	path(f, "store", store, sizeof store);
	assert_int_equal(hw(&f->r, "init", store, NULL), 0);
	assert_int_equal(hw(&f->r, "verify", store, "--checkpoint-interval", "1h",
			    "--checkpoint-records", "4294967296", NULL),
			 0);
}

/* Slips an operator makes that are usage errors or said as what they are: an option given
 * twice (only --trust adds one each time), a --trust file that is no node.pub, a --connect
 * or --wait that cannot be; nothing on stdout. */
static void test_usage_slips(void **state)
{
	struct fix *f = *state;
	/* an option given twice is a slip, not an update: only --trust adds one each time */
	assert_int_equal(
		hw(&f->r, "restore", "a", "b", "--until-lsn", "3", "--until-lsn", "4", NULL), 2);
	assert_non_null(strstr(f->r.err, "--until-lsn given twice"));
	assert_int_equal(hw(&f->r, "ingest", f->dir, "--generate", "5", "--json", "--json", NULL),
			 2);
	assert_int_equal(hw(&f->r, "verify", f->dir, "--trust", "a.pub", "--trust", "b.pub", NULL),
			 1); /* past the options: a.pub is no file */
	assert_null(strstr(f->r.err, "twice"));
	/* a --trust file that reads but is no node.pub says so */
	char conf[4200];
	path(f, "base.conf", conf, sizeof(conf));
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fputs("[node]\nid = p1\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hw(&f->r, "verify", f->dir, "--trust", conf, NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_ECONFIG): not a node.pub with a sign line"));
	/* a --connect that is no address list is refused before anything is dialled */
	assert_int_equal(hw(&f->r, "status", "--connect", "bad", "--insecure", NULL), 2);
	assert_non_null(strstr(f->r.err, "bad value 'bad' for --connect"));
	assert_int_equal(hw(&f->r, "switchover", "--connect", "127.0.0.1:1", "--to", "s1", "--wait",
			    "0", "--insecure", NULL),
			 2);
	assert_non_null(strstr(f->r.err, "bad value '0' for --wait"));
	assert_int_equal(hw(&f->r, "submit", "--connect", "127.0.0.1:99999", "--generate", "1",
			    "--insecure", NULL),
			 2);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", f->dir, "--connect", "a:1,,b:2",
			    "--insecure", NULL),
			 2);
	assert_int_equal(f->r.out_len, 0);
}

/* A --connect list longer than the command takes is a usage error that says how many it
 * takes, before anything is dialled: 8 for the commands whose one client follows the list
 * (not "client: Invalid argument" from a drill failover's run), 16 for drill verify,
 * which asks each node with a client of its own. */
static void test_connect_list_bounded(void **state)
{
	struct fix *f = *state;
	char list[17 * 24] = "", *end = list;
	for (int i = 0; i < 17; i++)
		end += sprintf(end, "%s127.0.0.1:%d", i ? "," : "", 20000 + i);
	char nine[sizeof list];
	snprintf(nine, sizeof nine, "%.*s", (int)(strchr(strstr(list, ":20008"), ',') - list),
		 list);
	const char *cmds[][2] = {{"submit", NULL},      {"status", NULL},     {"bench", NULL},
				 {"promote", NULL},     {"switchover", NULL}, {"drill", "failover"},
				 {"drill", "procedure"}};
	char want[64];
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		/* a drill's own word, or for the others their --insecure */
		const char *word = cmds[i][1] ? cmds[i][1] : "--insecure";
		assert_int_equal(hw(&f->r, cmds[i][0], word, "--connect", nine, NULL), 2);
		assert_non_null(strstr(f->r.err, "for --connect: 9 addresses, it takes at most 8"));
		snprintf(want, sizeof want, "Try 'hawser %s%s%s --help'", cmds[i][0],
			 cmds[i][1] ? " " : "", cmds[i][1] ? cmds[i][1] : "");
		assert_non_null(strstr(f->r.err, want));
		assert_int_equal(f->r.out_len, 0);
	}
	assert_int_equal(hw(&f->r, "drill", "verify", "--connect", list, "--insecure", NULL), 2);
	assert_non_null(strstr(f->r.err, "for --connect: 17 addresses, it takes at most 16"));
}

/* A config that is refused is said in the form of every command's errors, with the
 * command's name, the file and line, the typed code and the reason (node, witness, status,
 * prune, drill): exit 1. A directory given as the config is EISDIR, not a read error; an
 * empty --config= is a usage error. */
static void test_config_refused(void **state)
{
	struct fix *f = *state;
	char conf[4200], want[9000];
	path(f, "bad.conf", conf, sizeof conf);
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	assert_true(fputs("[cluster]\nid = yard\n[limits]\nheartbeat_ms = 9x\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	static const char *const cmds[][2] = {
		{"node", NULL}, {"witness", NULL}, {"status", NULL}, {"drill", "verify"}};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (cmds[i][1] != NULL)
			assert_int_equal(hw(&f->r, cmds[i][0], cmds[i][1], "--config", conf, NULL),
					 1);
		else
			assert_int_equal(hw(&f->r, cmds[i][0], "--config", conf, NULL), 1);
		snprintf(want, sizeof want,
			 "hawser %s: %s:4: configuration is invalid (HW_ECONFIG): bad number '9x' "
			 "for 'limits.heartbeat_ms'\n",
			 cmds[i][0], conf);
		assert_string_equal(f->r.err, want);
	}
	/* prune reads [retention] alone */
	fp = fopen(conf, "w");
	assert_non_null(fp);
	assert_true(fputs("[retention]\nlog_days = soon\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hw(&f->r, "prune", f->dir, "--config", conf, NULL), 1);
	snprintf(want, sizeof want,
		 "hawser prune: %s:2: configuration is invalid (HW_ECONFIG): bad number 'soon' "
		 "for 'retention.log_days'\n",
		 conf);
	assert_string_equal(f->r.err, want);
	assert_int_equal(hw(&f->r, "node", "--config", f->dir, NULL), 1);
	snprintf(want, sizeof want, "hawser node: %s: Is a directory (EISDIR)\n", f->dir);
	assert_string_equal(f->r.err, want);
	assert_int_equal(hw(&f->r, "node", "--config=", NULL), 2);
	assert_non_null(strstr(f->r.err, "hawser node: bad value '' for --config\n"));
}

/* --help of hawser lists every command; each command's --help prints its usage on
 * stdout and exits 0. */
/* Fails the test at a line of out wider than 80 columns, naming what printed it. */
static void assert_80_columns(const char *out, const char *what)
{
	for (const char *l = out; *l != '\0';) {
		size_t len = strcspn(l, "\n");
		if (len > 80)
			fail_msg("%s: a line of %zu columns: %.*s", what, len, (int)len, l);
		l += len + (l[len] == '\n');
	}
}

/* The commands a list names, each on a line "  NAME  summary", into names (cap of
 * them); returns their count. */
static size_t listed(const char *list, char (*names)[16], size_t cap)
{
	size_t n = 0;
	for (const char *l = list; *l != '\0' && n < cap;) {
		int end = 0;
		bool indented = !strncmp(l, "  ", 2) && l[2] != ' '; /* sscanf's spaces take \n */
		if (indented && sscanf(l, "  %15[a-z]%n", names[n], &end) == 1 && l[end] == ' ')
			n++;
		l += strcspn(l, "\n");
		l += *l == '\n';
	}
	return n;
}

/* A usage as --help prints it (all of its parts, HW_CLI_USAGE): whole lines from its
 * first, "usage: hawser ...", in 80 columns. */
static void assert_usage(const struct fix *f, const char *what)
{
	if (strncmp(f->r.out, "usage: hawser ", 14) != 0 || f->r.out_len == 0 ||
	    f->r.out[f->r.out_len - 1] != '\n')
		fail_msg("%s: a usage that does not start with its first line or end a line", what);
	assert_80_columns(f->r.out, what);
}

/* Every command's --help, and every drill's, prints its usage in 80 columns. */
static void help_widths(struct fix *f, const char *top)
{
	char names[32][16], kinds[8][16], what[64];
	size_t n = listed(top, names, 32);
	assert_true(n >= 20);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(hw(&f->r, names[i], "--help", NULL), 0);
		assert_usage(f, names[i]);
	}
	assert_int_equal(hw(&f->r, "drill", "--help", NULL), 0);
	size_t k = listed(f->r.out, kinds, 8);
	assert_int_equal(k, 4);
	for (size_t i = 0; i < k; i++) {
		snprintf(what, sizeof what, "drill %s", kinds[i]);
		assert_int_equal(hw(&f->r, "drill", kinds[i], "--help", NULL), 0);
		assert_usage(f, what);
	}
}

static void test_help(void **state)
{
	struct fix *f = *state;
	static const char *const cmds[] = {"init",    "ingest", "verify", "digest", "get", "backup",
					   "restore", "node",   "submit", "status", "demo"};
	assert_int_equal(hw(&f->r, "--help", NULL), 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		assert_non_null(strstr(f->r.out, cmds[i]));
	/* one column for the summaries, past the longest name, in 80 columns */
	assert_non_null(strstr(f->r.out, "\n  init       create an empty store"));
	assert_non_null(strstr(f->r.out, "\n  quarantine export the records"));
	assert_non_null(strstr(f->r.out, "\n  switchover hand the primary role"));
	assert_80_columns(f->r.out, "hawser --help");
	static char top[sizeof f->r.out];
	memcpy(top, f->r.out, sizeof top);
	help_widths(f, top);
	/* drill failover's usage is of two parts (HW_CLI_USAGE: one literal holds at most
	 * 4095 bytes, and it is longer): --help prints both, in order, as one text */
	assert_int_equal(hw(&f->r, "drill", "failover", "--help", NULL), 0);
	assert_non_null(strstr(f->r.out, "directory.\n  --connect ADDR,...: a running cluster"));
	assert_string_equal(f->r.out + f->r.out_len - 16, "128+N signal N.\n");
	assert_int_equal(hw(&f->r, "help", NULL), 0);
	assert_int_equal(hw(&f->r, "--version", NULL), 0);
	assert_non_null(strstr(f->r.out, "hawser "));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "usage: hawser %s", cmds[i]);
		assert_int_equal(hw(&f->r, cmds[i], "--help", NULL), 0);
		assert_non_null(strstr(f->r.out, want));
		assert_int_equal(f->r.err_len, 0);
	}
}

/* A drill's or plan's refusal fits 80 columns: it wraps (it came as one line of up to
 * 250 columns), its words whole, its phrases there with the breaks read as spaces. */
static void test_refusals_fit(void **state)
{
	struct fix *f = *state;
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", "/tmp", NULL), 2);
	assert_80_columns(f->r.err, "drill verify --dir");
	assert_non_null(hw_said(f->r.err, "is not a hawser store (no data.mdb in it): no report "
					  "goes beside it; name a store, or give --report-dir"));
	assert_non_null(strstr(f->r.err, "\nTry 'hawser drill verify --help'"));
	assert_int_equal(hw(&f->r, "drill", "verify", "--connect", "127.0.0.1:1,127.0.0.1:2",
			    "--insecure", NULL),
			 2);
	assert_80_columns(f->r.err, "drill verify --connect");
	assert_non_null(hw_said(f->r.err, "--connect needs a place for its report: --report-dir "
					  "D, --dir DIR, --config FILE or --scratch S"));
	assert_int_equal(hw(&f->r, "plan", "--rto", "200ms", "--rpo", "0", NULL), 1);
	assert_80_columns(f->r.err, "plan --rto 200ms");
	assert_non_null(hw_said(f->r.err, "hawser plan: rto 200 ms cannot be met safely: rto "
					  "200 ms leaves 0 ms for detection"));
	assert_int_equal(f->r.out_len, 0);
}

/* A second init of the same directory fails with exit 1 and says the store exists. */
static void test_init_twice(void **state)
{
	struct fix *f = *state;
	char dir[4200];
	path(f, "s", dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 1);
	assert_non_null(strstr(f->r.err, "exists"));
	assert_non_null(strstr(f->r.err, "HW_EEXIST"));
}

/* A path with a newline and an escape sequence in it is shown escaped, in what init says,
 * in an error and in a usage error: it cannot fake a line of hawser's output or colour
 * the terminal (it reached the terminal raw). */
static void test_init_path_shown(void **state)
{
	struct fix *f = *state;
	char dir[4200], want[4400];
	path(f, "a\n\x1b[31mb", dir, sizeof dir);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	snprintf(want, sizeof want, "hawser init: created an empty store in %s/a\\n\\x1b[31mb\n",
		 f->dir);
	assert_string_equal(f->r.out, want);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 1);
	snprintf(want, sizeof want,
		 "hawser init: %s/a\\n\\x1b[31mb: a hawser store already exists there "
		 "(HW_EEXIST)\n",
		 f->dir);
	assert_string_equal(f->r.err, want);
	/* and in a usage error's reason */
	path(f, "n\n\x1b[31mo", dir, sizeof dir);
	assert_int_equal(hw(&f->r, "drill", "verify", "--dir", dir, NULL), 2);
	snprintf(want, sizeof want, "%s/n\\n\\x1b[31mo", f->dir); /* one word: not wrapped */
	assert_non_null(strstr(f->r.err, want));
	assert_non_null(hw_said(f->r.err, "is not a hawser store"));
	assert_null(strchr(f->r.err, '\x1b'));
}

/* keygen refuses to overwrite an identity (EEXIST) or to put one in a file (ENOTDIR); on a
 * file system with room for node.key alone it leaves no half identity and no directory it
 * made (a tmpfs of one page, in this process's own mount namespace). */
static void test_keygen_refusals(void **state)
{
	struct fix *f = *state;
	char dir[4200], file[4300], tiny[4200], made[4300];
	path(f, "id", dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "keygen", "--out", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "keygen", "--out", dir, NULL), 1);
	assert_non_null(strstr(f->r.err, "/node.key: File exists (EEXIST)"));
	snprintf(file, sizeof file, "%s/node.pub", dir);
	assert_int_equal(hw(&f->r, "keygen", "--out", file, NULL), 1);
	assert_non_null(strstr(f->r.err, "(ENOTDIR)"));

	small_fs(f, "size=4k", tiny, sizeof tiny);
	snprintf(made, sizeof made, "%s/k", tiny);
	int rc = hw(&f->r, "keygen", "--out", made, NULL);
	struct stat st;
	int left = stat(made, &st); /* it made k, and took it away again */
	umount2(tiny, MNT_DETACH);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(f->r.err, "/k/node.pub: No space left on device (ENOSPC)"));
	assert_int_equal(f->r.out_len, 0);
	assert_int_equal(left, -1);
}

/* init on a full disk fails with ENOSPC (LMDB says EIO for its short write) and leaves
 * nothing: not the directory it made, so once there is room init makes the store
 * (not HW_EEXIST) and ingest reads it (not HW_EFORMAT). */
static void test_init_full_disk(void **state)
{
	struct fix *f = *state;
	char mnt[4200], dir[4300];
	small_fs(f, "size=16k", mnt, sizeof mnt);
	snprintf(dir, sizeof dir, "%s/i", mnt);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 1);
	assert_non_null(strstr(f->r.err, "No space left on device (ENOSPC)"));
	struct stat st;
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", MS_REMOUNT, "size=4m"), 0);
	assert_int_equal(hw(&f->r, "init", dir, NULL), 0);
	assert_int_equal(hw(&f->r, "ingest", dir, "--generate", "10", "--end-ms", END_MS, NULL), 0);
}

/* ingest --json prints one well-formed object: every terminal_peak record accepted; the
 * poison profile has refusals, each with the code the generator expected. */
static void test_ingest_json(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200];
	path(f, "peak", a, sizeof(a));
	path(f, "poison", b, sizeof(b));
	assert_int_equal(hw(&f->r, "init", a, NULL), 0);
	assert_int_equal(
		hw(&f->r, "ingest", a, "--generate", "4000", "--end-ms", END_MS, "--json", NULL),
		0);
	assert_json_object(f->r.out);
	assert_int_equal(json_u64(f->r.out, "records"), 4000);
	assert_int_equal(json_u64(f->r.out, "accepted"), 4000);
	assert_int_equal(json_u64(f->r.out, "head_lsn"), 4000);
	assert_int_equal(json_u64(f->r.out, "rejected"), 0);
	assert_non_null(strstr(f->r.out, "\"profile\":\"terminal_peak\""));

	assert_int_equal(hw(&f->r, "init", b, NULL), 0);
	assert_int_equal(hw(&f->r, "ingest", b, "--generate", "5000", "--profile", "poison",
			    "--end-ms", END_MS, "--batch", "300", "--json", NULL),
			 0);
	assert_json_object(f->r.out);
	assert_true(json_u64(f->r.out, "rejected") > 0);
	assert_int_equal(json_u64(f->r.out, "unexpected"), 0);
	assert_int_equal(json_u64(f->r.out, "batch"), 300);
}

/* Two ingests with the same seed and --end-ms give stores with equal digests and heads. */
static void test_ingest_deterministic(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200], ha[80], hb[80];
	make_profile_store(f, "a", "nagoya_port_peak", "3000");
	make_profile_store(f, "b", "nagoya_port_peak", "3000");
	path(f, "a", a, sizeof(a));
	path(f, "b", b, sizeof(b));
	assert_int_equal(hw(&f->r, "digest", a, NULL), 0);
	uint64_t la = parse_digest(&f->r, ha);
	assert_int_equal(hw(&f->r, "digest", b, NULL), 0);
	uint64_t lb = parse_digest(&f->r, hb);
	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_string_equal(ha, hb);
}

static bool is_container_id(const uint8_t *p)
{
	for (int i = 0; i < 3; i++) {
		if (p[i] < 'A' || p[i] > 'Z')
			return false;
	}
	if (p[3] != 'U' && p[3] != 'J' && p[3] != 'Z')
		return false;
	for (int i = 4; i < 11; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
	}
	return true;
}

/* The container number in the first unit event the generator makes for make_store's
 * settings, found by scanning the encoded record. */
static void known_container(const char *count, char id[12])
{
	struct hw_workload_opts o = {.profile = "terminal_peak",
				     .seed = 3,
				     .count = strtoull(count, NULL, 10),
				     .end_ms = END_MS_NUM};
	struct hw_workload *w;
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	struct hw_work_item it;
	assert_int_equal(hw_workload_new(&o, &w), 0);
	id[0] = '\0';
	while (!id[0] && hw_workload_next(w, buf, sizeof(buf), &it) == 0) {
		if (strcmp(it.kind, "unit_event") != 0)
			continue;
		for (size_t i = 0; i + 11 <= it.len && !id[0]; i++) {
			if (is_container_id(buf + i)) {
				memcpy(id, buf + i, 11);
				id[11] = '\0';
			}
		}
	}
	hw_workload_free(w);
	assert_int_equal(strlen(id), 11);
}

/* get prints a known container's state and LSN; an unknown one exits 1 "not found", or
 * with the ISO 6346 rule it breaks. */
static void test_get(void **state)
{
	struct fix *f = *state;
	char dir[4200], id[12];
	make_profile_store(f, "g", "terminal_peak", "2000");
	path(f, "g", dir, sizeof(dir));
	known_container("2000", id);
	assert_int_equal(hw(&f->r, "get", dir, "container", id, NULL), 0);
	assert_non_null(strstr(f->r.out, id));
	assert_non_null(strstr(f->r.out, "state"));
	assert_non_null(strstr(f->r.out, "last_lsn"));
	assert_null(strstr(f->r.out, "state       ?"));
	assert_int_equal(hw(&f->r, "get", dir, "container", "CSQU3054383", NULL), 1);
	assert_non_null(strstr(f->r.err, "not found (HW_ENOTFOUND)"));
	/* a typo is named for the rule it breaks, not only as "not found", with the digit the
	 * rule gives */
	assert_int_equal(hw(&f->r, "get", dir, "container", "CSQU3054384", NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_ECHECK_DIGIT): not in the store"));
	assert_non_null(strstr(f->r.err, "check digit 4, ISO 6346 gives 3"));
	assert_int_equal(hw(&f->r, "get", dir, "container", "csqu3054383", NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_ECONTAINER_ID): not in the store"));
}

/* digest, now and --at-lsn, of a store whose damaged pages make LMDB abort as it reads
 * them: exit 1 with HW_ECORRUPT, naming the store and `hawser verify` (it reads in a
 * child), not a process killed with LMDB's words alone; the replay leaves no scratch
 * store behind. */
static void test_digest_damaged(void **state)
{
	struct fix *f = *state;
	char dir[4200];
	make_profile_store(f, "z", "terminal_peak", "3000");
	path(f, "z", dir, sizeof(dir));
	assert_int_equal(hw_test_damage_pages(dir, 200, 20, false), 0);
	assert_int_equal(hw(&f->r, "digest", dir, NULL), 1);
	assert_read_damaged(f, "digest", dir, "SIGABRT");
	assert_int_equal(hw(&f->r, "digest", dir, "--at-lsn", "2000", NULL), 1);
	assert_read_damaged(f, "digest", dir, "SIGABRT");
	assert_no_scratch(f);
}

/* digest (now and --at-lsn), get and verify of an intact store whose reading child fails
 * an assertion of hawser's own (HW_FAULT_CHILD_AFTER=0: the first child, a bug on
 * purpose): exit 1 with HW_EINTERNAL, a bug in hawser and not damage, the assertion's
 * line after as a detail; not "the store is damaged", and verify not DAMAGED (exit 3).
 * The replay's scratch is removed. */
static void test_read_internal_error(void **state)
{
	struct fix *f = *state;
	char dir[4200];
	make_profile_store(f, "i", "terminal_peak", "1000");
	path(f, "i", dir, sizeof(dir));
	assert_int_equal(setenv("HW_FAULT_CHILD_AFTER", "0", 1), 0);
	assert_int_equal(hw(&f->r, "digest", dir, NULL), 1);
	assert_read_internal(f, "digest", dir);
	/* the child fails before the lookup: any container would do */
	assert_int_equal(hw(&f->r, "get", dir, "container", "ZZZU0000000", NULL), 1);
	assert_read_internal(f, "get", dir);
	assert_int_equal(hw(&f->r, "verify", dir, NULL), 1);
	assert_read_internal(f, "verify", dir);
	assert_int_equal(hw(&f->r, "digest", dir, "--at-lsn", "500", NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_EINTERNAL): hawser stopped reading the store"));
	assert_no_scratch(f);
	unsetenv("HW_FAULT_CHILD_AFTER");
	assert_int_equal(hw(&f->r, "verify", dir, NULL), 0);
}

/* get of a container in a store whose damaged branch pages make LMDB abort the lookup:
 * exit 1 with HW_ECORRUPT naming the store, as digest. */
static void test_get_damaged(void **state)
{
	struct fix *f = *state;
	char dir[4200], id[12];
	make_profile_store(f, "b", "terminal_peak", "3000");
	path(f, "b", dir, sizeof(dir));
	known_container("3000", id);
	assert_true(hw_test_damage_branches(dir) > 0);
	assert_int_equal(hw(&f->r, "get", dir, "container", id, NULL), 1);
	assert_read_damaged(f, "get", dir, "SIGABRT");
}

/* backup of a store whose garbled pages make LMDB fault as the copy reads them: exit 1
 * with HW_ECORRUPT naming the store, as digest, and no MANIFEST in OUT: nothing a restore
 * would take. */
static void test_backup_damaged(void **state)
{
	struct fix *f = *state;
	char dir[4200], bak[4200], back[4200], file[4300];
	make_profile_store(f, "g", "terminal_peak", "3000");
	path(f, "g", dir, sizeof(dir));
	path(f, "bak", bak, sizeof(bak));
	path(f, "back", back, sizeof(back));
	assert_int_equal(hw_test_damage_pages(dir, 200, 20, true), 0);
	assert_int_equal(hw(&f->r, "backup", dir, bak, NULL), 1);
	assert_read_damaged(f, "backup", dir, "SIGSEGV");
	snprintf(file, sizeof(file), "%s/MANIFEST", bak);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(hw(&f->r, "restore", bak, back, NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_EBACKUP): MANIFEST is missing"));
}

/* A store "src" of 3,000 records and its backup "gens/bak" (made with its parent), their
 * paths in src and bak. */
static void backed_up(struct fix *f, char *src, char *bak, size_t cap)
{
	make_profile_store(f, "src", "terminal_peak", "3000");
	path(f, "src", src, cap);
	path(f, "gens/bak", bak, cap);
	assert_int_equal(hw(&f->r, "backup", src, bak, NULL), 0);
	assert_non_null(strstr(f->r.out, "new snapshot at lsn 3000"));
}

/* A backup or restore that cannot be what was asked is refused with the reason and writes
 * nothing: a backup inside its store or a restore inside its backup, a restore whose node
 * to tell cannot be reached, a target that is a file, a backup path that does not exist or
 * is no backup; a backup with nothing new says so and leaves the MANIFEST as it was. */
static void test_backup_restore_refused(void **state)
{
	struct fix *f = *state;
	char src[4200], bak[4200], full[4200], manifest[4300];
	backed_up(f, src, bak, sizeof src);
	path(f, "full", full, sizeof(full));
	/* a backup inside its store, or a restore inside its backup, goes with what it is
	 * to be independent of: refused before anything is written */
	snprintf(manifest, sizeof manifest, "%s/bak", src);
	assert_int_equal(hw(&f->r, "backup", src, manifest, NULL), 2);
	assert_non_null(hw_said(f->r.err, "a backup lives outside what it copies"));
	assert_int_equal(access(manifest, F_OK), -1);
	snprintf(manifest, sizeof manifest, "%s/r", bak);
	assert_int_equal(hw(&f->r, "restore", bak, manifest, NULL), 2);
	assert_int_equal(access(manifest, F_OK), -1);
	/* nothing new: said so, and the MANIFEST (which dates the generation) not rewritten */
	snprintf(manifest, sizeof manifest, "%s/MANIFEST", bak);
	struct stat st0, st1;
	assert_int_equal(stat(manifest, &st0), 0);
	assert_int_equal(hw(&f->r, "backup", src, bak, NULL), 0);
	assert_non_null(strstr(f->r.out, "is up to date: end lsn 3000"));
	assert_int_equal(stat(manifest, &st1), 0);
	assert_true(st1.st_mtim.tv_sec == st0.st_mtim.tv_sec &&
		    st1.st_mtim.tv_nsec == st0.st_mtim.tv_nsec);
	/* the node to tell is reached first: one that cannot be leaves nothing restored */
	assert_int_equal(
		hw(&f->r, "restore", bak, full, "--connect", "127.0.0.1:1", "--insecure", NULL), 1);
	assert_non_null(strstr(f->r.err, "nothing restored"));
	assert_int_not_equal(access(full, F_OK), 0);
	/* a target that is a file: the message names it, not the backup */
	char file[4200];
	path(f, "file", file, sizeof(file));
	FILE *fp = fopen(file, "w");
	assert_non_null(fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hw(&f->r, "restore", bak, file, NULL), 1);
	assert_non_null(strstr(f->r.err, "file: Not a directory"));
	/* a mistyped backup path is no such directory, not a damaged backup; a directory
	 * without a MANIFEST is one */
	char missing[4200];
	path(f, "no-such-backup", missing, sizeof(missing));
	assert_int_equal(hw(&f->r, "restore", missing, full, NULL), 1);
	assert_non_null(strstr(f->r.err, "no-such-backup: No such file or directory (ENOENT)"));
	assert_int_equal(hw(&f->r, "restore", src, full, NULL), 1);
	assert_non_null(strstr(f->r.err, "(HW_EBACKUP): MANIFEST is missing"));
}

/* backup then restore: the restored store's digest equals the source's; restore
 * --until-lsn N equals `digest --at-lsn N` of the source, and one past the backup's end
 * is refused with the reason; an incremental backup after more records restores to the
 * new head. */
static void test_backup_restore(void **state)
{
	struct fix *f = *state;
	char src[4200], bak[4200], full[4200], part[4200], more[4200];
	char h_src[80], h_full[80], h_at[80], h_part[80];
	backed_up(f, src, bak, sizeof src);
	path(f, "full", full, sizeof(full));
	path(f, "part", part, sizeof(part));
	path(f, "more", more, sizeof(more));
	assert_int_equal(hw(&f->r, "restore", bak, full, NULL), 0);
	assert_int_equal(hw(&f->r, "digest", src, NULL), 0);
	uint64_t l_src = parse_digest(&f->r, h_src);
	assert_int_equal(hw(&f->r, "digest", full, NULL), 0);
	assert_int_equal(parse_digest(&f->r, h_full), l_src);
	assert_string_equal(h_full, h_src);

	assert_int_equal(hw(&f->r, "restore", bak, part, "--until-lsn", "1234", NULL), 0);
	assert_int_equal(hw(&f->r, "digest", part, NULL), 0);
	assert_int_equal(parse_digest(&f->r, h_part), 1234);
	assert_int_equal(hw(&f->r, "digest", src, "--at-lsn", "1234", NULL), 0);
	assert_int_equal(parse_digest(&f->r, h_at), 1234);
	assert_string_equal(h_part, h_at);
	assert_string_not_equal(h_part, h_src);
	/* a target past the backup's end is no restore, and says why */
	char past[4200];
	path(f, "past", past, sizeof(past));
	assert_int_equal(hw(&f->r, "restore", bak, past, "--until-lsn", "3001", NULL), 1);
	assert_non_null(strstr(f->r.err, "HW_ENOTFOUND): the backup ends at LSN 3000"));
	assert_int_not_equal(access(past, F_OK), 0);
	/* a time after the backup's end restores all of it, and says the backup ends there */
	assert_int_equal(
		hw(&f->r, "restore", bak, past, "--until-time", "2099-01-01T00:00:00Z", NULL), 0);
	assert_non_null(strstr(f->r.out, "note: the backup ends at lsn 3000"));
	/* at the last entry's own time the backup reaches T: no note */
	const char *at = strstr(f->r.out, "head lsn 3000 (");
	assert_non_null(at);
	char last[40];
	snprintf(last, sizeof last, "%.24s", at + strlen("head lsn 3000 ("));
	char late[4200];
	path(f, "late", late, sizeof(late));
	assert_int_equal(hw(&f->r, "restore", bak, late, "--until-time", last, NULL), 0);
	assert_non_null(strstr(f->r.out, "head lsn 3000"));
	assert_null(strstr(f->r.out, "note:"));

	/* Incremental: more records, a second backup appends, the restore reaches them. A
	 * second generator run does not know the first one's terminal, so some of its records
	 * may be refused (exit 1); what matters is that the head moved. */
	int rc = hw(&f->r, "ingest", src, "--generate", "500", "--seed", "4", "--end-ms",
		    "1795690800000", NULL);
	assert_true(rc == 0 || rc == 1);
	assert_int_equal(hw(&f->r, "digest", src, NULL), 0);
	assert_true(parse_digest(&f->r, h_src) > 3000);
	assert_int_equal(hw(&f->r, "backup", src, bak, NULL), 0);
	assert_non_null(strstr(f->r.out, "appended"));
	assert_int_equal(hw(&f->r, "restore", bak, more, NULL), 0);
	assert_int_equal(hw(&f->r, "digest", src, NULL), 0);
	l_src = parse_digest(&f->r, h_src);
	assert_int_equal(hw(&f->r, "digest", more, NULL), 0);
	assert_int_equal(parse_digest(&f->r, h_full), l_src);
	assert_string_equal(h_full, h_src);
}

/* A store's directory that is missing or not a directory is said as it is, not as a
 * directory that holds no store (HW_EFORMAT, "not a hawser store"). */
static void test_no_such_dir(void **state)
{
	struct fix *f = *state;
	char dir[4200], file[4300];
	path(f, "none", dir, sizeof(dir));
	assert_int_equal(hw(&f->r, "digest", dir, NULL), 1);
	assert_non_null(strstr(f->r.err, "No such file or directory (ENOENT)"));
	assert_null(strstr(f->r.err, "HW_EFORMAT"));
	make_profile_store(f, "s", "terminal_peak", "10");
	path(f, "s/data.mdb", file, sizeof(file));
	assert_int_equal(hw(&f->r, "backup", file, dir, NULL), 1);
	assert_non_null(strstr(f->r.err, "(ENOTDIR)"));
	assert_null(strstr(f->r.err, "HW_EFORMAT"));
}

/* A primary config (insecure) into f->dir/name.conf, its data_dir f->dir/name.d, client
 * and listen (NULL: none) as given; its path into conf. */
static void node_config(const struct fix *f, const char *name, const char *data_dir,
			const char *client, const char *listen, char *conf, size_t cap)
{
	snprintf(conf, cap, "%s/%s.conf", f->dir, name);
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp, "[cluster]\nid = yard\n[node]\nid = p1\nrole = primary\ndata_dir = %s\n",
		data_dir);
	fprintf(fp, "client = %s\n", client);
	if (listen != NULL)
		fprintf(fp, "listen = %s\n", listen);
	fprintf(fp, "[security]\ninsecure = true\n");
	fclose(fp);
}

/* The last run was a node whose start failed with code on the config key's value: exit 1,
 * a start_failed line naming them, a stopped line with the code (not code=OK) last,
 * and no store made in data_dir, which does not exist. */
static void assert_start_failed(const struct fix *f, const char *code, const char *key,
				const char *value, const char *data_dir)
{
	char want[4400];
	assert_int_equal(f->r.status, 1);
	snprintf(want, sizeof want, "event=start_failed code=%s ", code);
	const char *line = strstr(f->r.err, want);
	assert_non_null(line);
	snprintf(want, sizeof want, "key=%s value=%s\n", key, value);
	assert_non_null(strstr(line, want));
	snprintf(want, sizeof want, "event=stopped code=%s\n", code);
	const char *stopped = strstr(f->r.err, want);
	assert_non_null(stopped);
	assert_string_equal(stopped + strlen(want), "");
	struct stat st;
	assert_int_equal(stat(data_dir, &st), -1);
}

/* A node whose ports cannot listen (its replication port taken by another socket:
 * EADDRINUSE, after HW_LISTEN_PATIENCE_MS; a unix socket in a directory that does not
 * exist: ENOENT) fails its start before it makes a store, naming the key and the
 * address; one port for both is refused when the config loads. */
static void test_node_port_refused(void **state)
{
	struct fix *f = *state;
	char conf[4300], data[4300], addr[64], sock[4300];
	uint16_t port;
	assert_int_equal(hw_free_port(&port), 0);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	path(f, "same.d", data, sizeof data);
	node_config(f, "same", data, addr, addr, conf, sizeof conf);
	assert_int_equal(hw(&f->r, "node", "--config", conf, NULL), 1); /* refused at load */
	assert_non_null(strstr(f->r.err, "'node.listen' and 'node.client' are one address"));
	char client[64];
	assert_int_equal(hw_free_port(&port), 0);
	snprintf(client, sizeof client, "127.0.0.1:%u", port);
	int busy = hw_test_busy_port(addr, sizeof addr);
	node_config(f, "same", data, client, addr, conf, sizeof conf);
	hw(&f->r, "node", "--config", conf, NULL);
	close(busy);
	assert_start_failed(f, "EADDRINUSE", "node.listen", addr, data);
	snprintf(sock, sizeof sock, "unix:%s/none/x.sock", f->dir);
	path(f, "unix.d", data, sizeof data);
	node_config(f, "unix", data, sock, NULL, conf, sizeof conf);
	hw(&f->r, "node", "--config", conf, NULL);
	assert_start_failed(f, "ENOENT", "node.client", sock, data);
}

/* A witness whose port is taken fails its start the same way: naming node.listen and
 * EADDRINUSE, its stopped line with that code, and no store made for it. */
static void test_witness_port_refused(void **state)
{
	struct fix *f = *state;
	char conf[4300], data[4300], addr[64];
	int busy = hw_test_busy_port(addr, sizeof addr);
	path(f, "w.d", data, sizeof data);
	snprintf(conf, sizeof conf, "%s/w.conf", f->dir);
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp,
		"[cluster]\nid = yard\n[node]\nid = w1\nrole = witness\ndata_dir = %s\n"
		"listen = %s\n[failover]\nrto = 2s\nrpo = 0\n"
		"voters = p1@127.0.0.1:1, s1@127.0.0.1:2\nwitness = %s\nwitness_id = w1\n"
		"[security]\ninsecure = true\n",
		data, addr, addr);
	assert_int_equal(fclose(fp), 0);
	hw(&f->r, "witness", "--config", conf, NULL);
	close(busy);
	assert_start_failed(f, "EADDRINUSE", "node.listen", addr, data);
}

/* A node whose store cannot be made (a full disk) fails its start naming data_dir and
 * ENOSPC, and leaves nothing there that a later start would take for a store. */
static void test_node_full_disk(void **state)
{
	struct fix *f = *state;
	char mnt[4200], conf[4300], data[4300], addr[64];
	small_fs(f, "size=16k", mnt, sizeof mnt);
	snprintf(data, sizeof data, "%s/n", mnt);
	uint16_t port;
	assert_int_equal(hw_free_port(&port), 0);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	node_config(f, "full", data, addr, NULL, conf, sizeof conf);
	hw(&f->r, "node", "--config", conf, NULL);
	assert_start_failed(f, "ENOSPC", "node.data_dir", data, data);
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_cli_store");
	if (hw_bin == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_slips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connect_list_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keygen_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_path_shown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_full_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ingest_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_internal_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_restore_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_port_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_full_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_witness_port_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
