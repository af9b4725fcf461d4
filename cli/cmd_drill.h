/* cmd_drill.h: what the files of `hawser drill` share (cli/cmd_drill.c: options, setup,
 * backup generations and the end of every drill; cli/cmd_drill_verify.c,
 * cmd_drill_restore.c, cmd_drill_procedure.c, cmd_drill_failover.c: one drill each; the
 * failover drill takes the options, report and history row, not the setup).
 * Internal to those files. */
#ifndef HW_CLI_CMD_DRILL_H
#define HW_CLI_CMD_DRILL_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "cli/isolate.h"
#include "cli/report.h"
#include "engine/config.h"
#include "hawser.h"
#include "replica/checkpoint.h"

/* Stores one verify drill compares with the node's: a cluster is a primary and a few
 * standbys (HW_PEERS_MAX), and each compare replays a log. */
#define COMPARE_MAX 8
/* Backup generations the restore and procedure drills look at: years of dailies. */
#define GENERATIONS_MAX 1024
/* Nodes `drill verify --connect` asks, a client each: a primary, its standbys
 * (HW_PEERS_MAX) and a vault. The other drills' --connect is one client's list. */
#define VERIFY_NODES_MAX 16

/* One drill run: its options (over the config's [drills]), its report and the figures
 * for its history row. */
struct drill {
	const struct hw_cli_cmd *cmd;
	struct hw_config cfg;
	const char *config_path;
	const char *dir;
	const char *scratch;
	const char *report_dir;
	const char *backup;
	const char *connect;
	struct hw_client_security sec; /* with connect: --key/--peers/--cluster or --insecure */
	uint64_t replay_max;           /* verify --connect: entries a node may replay */
	const char *compare[COMPARE_MAX];
	size_t n_compare;
	uint64_t until_lsn;
	int64_t until_ms;
	bool lsn_given, time_given;
	int64_t now_ms;
	bool now_given; /* --now: a what-if run, judged at now_ms, recorded nowhere */
	bool json, keep, no_record;
	/* restore: node.pub files given with --trust (over [drills] trust), and the sign
	 * keys loaded from them (or from [drills] trust) for hw_verify_trusted() */
	const char *trust_files[HW_DRILL_TRUST_MAX];
	size_t n_trust_files;
	uint8_t trust[HW_DRILL_TRUST_MAX * HW_SIGN_PK_BYTES];
	size_t n_trust;
	struct hw_report rep;
	uint64_t lsn, entries; /* for the history row */
	int64_t target_ms;
	struct hw_cli_end died; /* the first child of the run that died on an assertion
				   (hw_cli_drill_died): its words follow the summary */
	unsigned scope;     /* enum hw_drill_scope of the run (a restore's may be partial) */
	uint64_t point_lsn; /* restore: the target point asked for; 0: none */
	int64_t point_ms;
};

/* Progress of hw_verify()/hw_restore(), drawn on a terminal, and the report-clock times
 * at which each pass began: a pass begins at the first call or when done does not grow
 * (each pass counts up from its start). */
#define TRACK_MARKS_MAX 4
struct tracker {
	const struct hw_report *rep;
	const char *label;
	double marks[TRACK_MARKS_MAX];
	int n_marks;
	uint64_t last_done;
};

/* A MANIFEST-bearing backup directory as the drills see it (or, as the unfinished one of
 * hw_cli_drill_generations_scan, the newest directory without a MANIFEST). */
struct generation {
	char path[PATH_MAX];
	int64_t time_ms; /* MANIFEST's mtime: when the backup (or its last increment) committed;
			    unfinished: the newest mtime of what it holds, else its own */
	uint64_t end_lsn;
	char chain_id[2 * HW_HASH_BYTES + 1];
	char end_hash[2 * HW_HASH_BYTES + 1];
	char problem[160]; /* "" when the files match the MANIFEST; unfinished: what it is */
};

/* The options every drill takes (parsed by the shared callback in cmd_drill.c). */
#define OPT(name, arg, key)                                                                        \
	{                                                                                          \
		name, arg, NULL, key                                                               \
	}
#define COMMON_OPTS                                                                                \
	OPT("config", required_argument, 'c'), OPT("dir", required_argument, 'd'),                 \
		OPT("report-dir", required_argument, 'r'), OPT("json", no_argument, 'j'),          \
		OPT("no-record", no_argument, 'N')

#define COMMON_USAGE                                                                               \
	"  --config FILE   the node's config: data_dir, [drills] schedule and targets\n"           \
	"  --dir DIR       the node's store (default: data_dir of --config)\n"                     \
	"  --report-dir D  where the JSON and HTML reports go (default: [drills]\n"                \
	"                  report_dir, else DIR.drills)\n"                                         \
	"  --json          print the report as JSON instead of a summary\n"                        \
	"  --no-record     do not append the run to the store's drill history\n"                   \
	"  Exit 0 PASS, 3 FAIL, 1 ERROR (the drill could not reach a verdict), 128 + N\n"          \
	"  stopped by signal N.\n"

/* Parse the command line (and the config it names, under it) into d, which is zeroed
 * first. Returns HW_CLI_RUN to go on or hw_cli_parse's other code. */
int hw_cli_drill_setup(struct drill *d, const struct hw_cli_cmd *cmd, int argc, char **argv,
		       const struct option *opts);

/* hw_cli_parse's callback for every drill's options; arg is a struct drill. */
int hw_cli_drill_opt(void *arg, int key, const char *v);

/* Write d's report (JSON and HTML) into --report-dir, else [drills] report_dir, else
 * DIR.drills, else (no DIR) SCRATCH/drills when tag is NULL, or a new directory under
 * $TMPDIR named for tag. json_path and html_path (cap bytes each) are "" when it was not
 * written, which is said on stderr. */
void hw_cli_drill_write(const struct drill *d, const char *tag, char *json_path, char *html_path,
			size_t cap);

/* Append d's row to the drill history of d->dir (unless --no-record, --now or no dir): the
 * report's time, kind, result, duration and what, d's lsn, entries, target_ms, scope
 * and target point. It is written in a child process (cli/isolate.h), since the store
 * may be damaged. A failure is said on stderr; when the store cannot take the row (it
 * cannot be opened, or LMDB died writing), the report at json_path is the only record
 * of the run. */
void hw_cli_drill_record(const struct drill *d, const char *json_path);
/* Whether hw_cli_drill_record appends a row for d: not with --no-record, --now, or no
 * store to append to. */
bool hw_cli_drill_recorded(const struct drill *d);

/* The end of every drill: write the JSON and HTML reports, append the history row, print
 * the summary. Returns the exit code for the report's result. A drill that caught a
 * signal asking it to stop (hw_cli_signals_catch; its progress callbacks stopped its
 * work, and it removed its scratch) ends in ERROR "interrupted by signal N", whatever it
 * had found (its checks stay in the report), and returns 128 + N. */
int hw_cli_drill_finish(struct drill *d);

/* A fresh directory for a drill's scratch data: under --scratch when given (created if
 * missing), else next to the store. Returns 0 or -errno. */
int hw_cli_drill_scratch(const struct drill *d, const char *tag, char *buf, size_t cap);

/* Keep end in d->died when it is the first of the run's children to die on an
 * assertion, or the first to die on one of hawser's own after LMDB's: hw_cli_drill_finish()
 * prints its words after the summary (hw_cli_end_detail), and a run in which it was
 * hawser's own ends in ERROR (a bug, not a verdict, even after damage was found). */
void hw_cli_drill_died(struct drill *d, const struct hw_cli_end *end);

/* hw_progress_cb for hw_verify()/hw_restore(); arg is a struct tracker. Returns
 * HW_ECANCELED, which stops the work, once a caught signal asks the drill to stop
 * (hw_cli_interrupted). */
int hw_cli_drill_track_cb(void *arg, uint64_t done, uint64_t total);

/* Verify the store in dir as a phase pair of d's report (cli/cmd_drill_verify.c), and
 * the three things hw_verify proves as checks. hw_cli_drill_verify_dir judges each
 * checkpoint's signer against d's n_trust keys (none: signatures only), takes the state
 * of a store whose log starts after a base as vouched for by checkpoint state_cp_lsn (a
 * restore's hw_restore_info.state_cp_lsn; 0: none) and returns 0 when the check ran;
 * else it ends the drill in ERROR, "verify of DIR could not run: WHY (CODE)", naming the
 * scratch directory too when it had no room (ENOSPC), and returns the code. */
struct hw_verify_report;
int hw_cli_drill_verify_dir(struct drill *d, const char *dir, uint64_t state_cp_lsn,
			    struct hw_verify_report *v);

/* Load the sign key of each [drills] trust file into d->trust, when no --trust gave keys
 * (hw_cli_drill_setup loaded those). A file that does not load ends the drill in ERROR,
 * naming it: a drill that
 * silently trusted fewer keys would fail for the wrong reason, or pass on a typo.
 * Returns 0 or the error. */
int hw_cli_drill_trust_load(struct drill *d);

/* Who signed the checkpoints of the log v walked (docs/drills.md), as the check
 * "checkpoint signers" with its detail also in why: an untrusted signer fails the drill
 * (HW_EUNTRUSTED); signed checkpoints with no trusted key to judge them by fail it when
 * strict (a restore: a backup signed by any key would pass) and warn otherwise (a verify
 * of a node's own store); a log with no checkpoint passes with a warning that nothing but
 * its hash chain vouches for it. */
enum hw_verdict hw_cli_drill_signers(struct drill *d, const struct hw_verify_report *v, bool strict,
				     char *why, size_t cap);
void hw_cli_drill_verify_checks(struct hw_report *r, const struct hw_verify_report *v);
/* Why a verify that ended HW_ECANCELED reached no verdict, into buf: "stopped,
 * interrupted by signal N" (a caught signal), else "stopped, its process killed from
 * outside". Returns buf. */
const char *hw_cli_drill_stopped_why(char *buf, size_t cap);

/* Size of dir/name, 0 when missing (*exists false). */
uint64_t hw_cli_drill_file_size(const char *dir, const char *name, bool *exists);

/* Read dir's MANIFEST into g, and check the files' sizes against it (the bytes are the
 * restore drill's business). Returns 0, or -ENOENT when there is no MANIFEST. */
int hw_cli_drill_generation_read(const char *dir, struct generation *g);

/* The backup generations in dir, newest first: dir itself when it holds a MANIFEST, else
 * each subdirectory that does, at most the newest cap of them. *partial counts
 * subdirectories without one (a backup that died before its commit point, or one whose
 * MANIFEST went). *unfinished (may be NULL) gets the newest of those (path "" when
 * none), dated by the newest mtime of what it holds (dot files aside), else by its own,
 * with problem "incomplete: ..." (it holds INCOMPLETE) or "damaged: ...". Returns 0 or
 * -errno for dir. */
int hw_cli_drill_generations_scan(const char *dir, struct generation *g, size_t cap, size_t *n,
				  size_t *partial, struct generation *unfinished);

extern const struct hw_cli_cmd hw_cli_drill_verify;    /* cli/cmd_drill_verify.c */
extern const struct hw_cli_cmd hw_cli_drill_restore;   /* cli/cmd_drill_restore.c */
extern const struct hw_cli_cmd hw_cli_drill_procedure; /* cli/cmd_drill_procedure.c */

#endif
