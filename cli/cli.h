/* cli.h: what the files of the `hawser` command share: the command table entry, the
 * option parser every command uses, error reporting with the CLI's exit codes, and small
 * helpers (numbers, times, hex, scratch directories, progress on a terminal).
 *
 * Exit codes, the same for every command: 0 success, 1 runtime error, 2 usage error,
 * 3 damage found (verify), 4 a state no signed checkpoint vouches for (yet), no damage
 * found: a backup of a pruned store written whole (its restore drill with trusted keys
 * fails until an incremental backup holds one), verify --trust of a pruned store, or
 * restore --trust of a pruned store's backup (the store restored). A store a command
 * could not read for damage (HW_ECORRUPT from LMDB, or LMDB aborting or faulting on its
 * pages in the child that read it: cli/isolate.h) is a runtime error, 1: 3 is the verdict
 * of a check, verify's or a drill's; so is an assertion of hawser's own failing in that
 * child (HW_EINTERNAL: a bug, never a verdict). 5 a node that answered reports what stopped it
 * (status): its storage failed, or an entry its store refused blocked its apply.
 * cli/ is the only place that parses command lines. */
#ifndef HW_CLI_H
#define HW_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/clock.h"
#include "base/duration.h"
#include "base/log.h"
#include "hawser_error.h"
#include "hawser_limits.h"
#include "replica/checkpoint.h"
#include "replica/verify.h"

enum {
	HW_CLI_OK = 0,
	HW_CLI_ERROR = 1,
	HW_CLI_USAGE = 2,
	HW_CLI_DAMAGE = 3,
	HW_CLI_UNVOUCHED = 4,
	HW_CLI_NODE_FAULT = 5,
	HW_CLI_RUN = -1, /* hw_cli_parse: options are fine, run the command */
};

/* One command: its name, a line for `hawser --help`, its full usage (printed by
 * `hawser <cmd> --help`: hw_cli_usage_print) and the function that runs it with
 * argv[0] being the command name. */
struct hw_cli_cmd {
	const char *name;
	const char *summary;
	const char *const *usage; /* HW_CLI_USAGE: its parts, then NULL */
	int (*run)(const struct hw_cli_cmd *cmd, int argc, char **argv);
};

/* A command's usage from its parts, printed one after the other as one text. A part is
 * one string literal, and C guarantees one of 4095 bytes (-Woverlength-strings fails the
 * build past that): a usage that grows past it takes one more part, cut at a line's end. */
#define HW_CLI_USAGE(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Print cmd's usage, all its parts, on stdout (--help). */
void hw_cli_usage_print(const struct hw_cli_cmd *cmd);

extern const struct hw_cli_cmd hw_cli_init, hw_cli_ingest, hw_cli_verify, hw_cli_digest, hw_cli_get;
extern const struct hw_cli_cmd hw_cli_backup, hw_cli_restore, hw_cli_prune;
extern const struct hw_cli_cmd hw_cli_demo;
extern const struct hw_cli_cmd hw_cli_submit, hw_cli_status; /* cli/cmd_node.c */
extern const struct hw_cli_cmd hw_cli_node;                  /* cli/cmd_serve.c */
extern const struct hw_cli_cmd hw_cli_witness;               /* cli/cmd_witness.c */
extern const struct hw_cli_cmd hw_cli_bench;                 /* cli/cmd_bench.c */
extern const struct hw_cli_cmd hw_cli_drill;                 /* cli/cmd_drill.c */
extern const struct hw_cli_cmd hw_cli_drill_failover;        /* cli/cmd_drill_failover.c */
extern const struct hw_cli_cmd hw_cli_plan;                  /* cli/cmd_plan.c */
extern const struct hw_cli_cmd hw_cli_keygen;                /* cli/cmd_keygen.c */
extern const struct hw_cli_cmd hw_cli_quarantine;            /* cli/cmd_quarantine.c */
extern const struct hw_cli_cmd hw_cli_switchover;            /* cli/cmd_switchover.c */
extern const struct hw_cli_cmd hw_cli_promote;               /* cli/cmd_promote.c */
extern const struct hw_cli_cmd hw_cli_audit;                 /* cli/cmd_audit.c */

/* An option's val with this bit may be given more than once (--trust, --compare); any other given
 * twice is a usage error. The callback gets val without it. */
#define HW_CLI_REPEATABLE 0x10000

/* Called for each option with getopt_long's val and the option's argument (NULL for a
 * flag). Returns 0, or -1 when the value is bad (the parser reports a usage error). */
typedef int hw_cli_opt_cb(void *arg, int key, const char *value);

/* Parse argv (argv[0] is the command) with getopt_long against opts (terminated by a
 * zeroed entry; "--help" is handled here and must not be in it). Exactly npos positional
 * arguments are stored in pos; an option given twice is a usage error unless its val
 * holds HW_CLI_REPEATABLE. Returns HW_CLI_RUN to go on, HW_CLI_OK after printing the
 * usage for --help, or HW_CLI_USAGE after saying why on stderr (hw_cli_usage_error).
 * cb may be NULL when opts is empty. */
int hw_cli_parse(const struct hw_cli_cmd *cmd, int argc, char **argv, const struct option *opts,
		 hw_cli_opt_cb *cb, void *arg, char **pos, int npos);

/* A daemon's foreground command (`hawser node`, `hawser witness`, cli/cmd_serve.c): parse
 * its one option, --config FILE (required), then serve(FILE), which opens the daemon, runs
 * it until SIGINT or SIGTERM and closes it, returning 0 or a negative code. Returns
 * HW_CLI_OK when serve returned 0, HW_CLI_ERROR when not, or hw_cli_parse's other code. */
int hw_cli_serve_config(const struct hw_cli_cmd *cmd, int argc, char **argv,
			int (*serve)(const char *config));

/* How a command that connects to nodes secures its connections (cli/security.c): add
 * HW_CLI_SECURITY_OPTIONS to its long options, hand every option to
 * hw_cli_security_opt() first (1: it was one of these, taken into *s; 0: not), then call
 * hw_cli_security_check(), which returns HW_CLI_RUN, or a usage error when the command
 * line gives neither --key, --peers and --cluster nor --insecure (plaintext is explicit).
 * HW_CLI_SECURITY_USAGE is the lines for the usage text. */
enum {
	HW_CLI_OPT_KEY = 0x101,
	HW_CLI_OPT_PEERS,
	HW_CLI_OPT_CLUSTER,
	HW_CLI_OPT_INSECURE,
};
#define HW_CLI_SECURITY_OPTIONS                                                                  \
	{"key", required_argument, NULL, HW_CLI_OPT_KEY},                                       \
	{"peers", required_argument, NULL, HW_CLI_OPT_PEERS},                                   \
	{"cluster", required_argument, NULL, HW_CLI_OPT_CLUSTER},                               \
	{"insecure", no_argument, NULL, HW_CLI_OPT_INSECURE}
#define HW_CLI_SECURITY_USAGE                                                                      \
	"  --key FILE --peers LIST --cluster ID: the encrypted channel\n"                          \
	"  (docs/security.md): this client's node.key (hawser keygen; every node pins its\n"       \
	"  node.pub), the nodes' node.pub files or directories of them (comma-separated),\n"       \
	"  the cluster id. Name the node at each address, ID@HOST:PORT or ID@unix:/path\n"         \
	"  (recommended): only the key pinned as ID (its ID.pub) is taken there, another\n"        \
	"  is refused (HW_EAUTH); a bare address takes any pinned key, another client's\n"         \
	"  too.\n"                                                                                 \
	"  --insecure instead: plaintext, for nodes configured insecure = true; an ID@\n"          \
	"  cannot be checked then and is refused (HW_ECONFIG).\n"
struct hw_client_security;
int hw_cli_security_opt(struct hw_client_security *s, int key, const char *v);
int hw_cli_security_check(const struct hw_cli_cmd *cmd, const struct hw_client_security *s);
/* For a command whose connection is optional (--connect ADDR, NULL when not given):
 * hw_cli_security_check() with connect, else HW_CLI_RUN, or a usage error when *s holds
 * any security option (they go with --connect). */
int hw_cli_security_check_optional(const struct hw_cli_cmd *cmd, const char *connect,
				   const struct hw_client_security *s);
/* The same for a connection that another option (opt, such as "--measure") asks for:
 * given is its value, NULL when not given. */
int hw_cli_security_check_for(const struct hw_cli_cmd *cmd, const char *given, const char *opt,
			      const struct hw_client_security *s);
/* The channel a command uses to connect as the node of config c (its [security] key,
 * peers and the cluster id; a node pins its own key): *out points into c. A config with
 * neither keys nor insecure = true gives key and peers NULL, which
 * hw_client_connect_secure refuses (HW_ECONFIG). */
struct hw_config;
void hw_cli_security_of_config(const struct hw_config *c, struct hw_client_security *out);

/* A restore (hawser restore, hawser drill restore; cli/cmd_backup.c) told to the node at
 * connect, which records a restore event with the channel's key in its audit trail: the
 * backup, the target dir, the point asked for (until_lsn, until_ms; 0: none), the head
 * reached, the result rc and the seconds taken, in at most 200 bytes (the paths escaped,
 * long ones keeping their end: hw_cli_event_text). Returns 0 or the client's error. */
struct hw_restore_info;
int hw_cli_restore_event(const char *connect, const struct hw_client_security *sec,
			 const char *backup, const char *dir, uint64_t until_lsn, int64_t until_ms,
			 const struct hw_restore_info *info, int rc, double seconds);

/* Text for people and terminals, in cli/text.c (no main(): a unit test links it):
 * hw_cli_wrap here, hw_cli_iso, hw_cli_hex, hw_cli_bytes, hw_cli_predicted,
 * hw_cli_reject_shown, hw_cli_event_text and hw_cli_message_shown below; outside text is
 * escaped for them by hw_log_escaped (base/log.h). */

/* The width of the command's text, a terminal's default (--help, plan, refusals). */
#define HW_CLI_COLUMNS 80
/* The longest line hw_cli_usage_error forms whole: a path of PATH_MAX and its words. */
#define HW_CLI_LINE_CHARS 8192

/* Print line (no newline in it) and a newline on f within HW_CLI_COLUMNS: a word that
 * would pass them starts a line of its own, indented hang spaces (a word wider than a
 * line stays whole). */
void hw_cli_wrap(FILE *f, int hang, const char *line);

/* Report a usage error in words (printf format; wrapped by hw_cli_wrap, its line cut at
 * HW_CLI_LINE_CHARS, its control characters escaped by hw_log_escaped, as a path given in
 * it may hold a newline or ESC) and point at `hawser CMD --help` (not the whole usage, which would
 * scroll the reason away); returns HW_CLI_USAGE. */
int hw_cli_usage_error(const struct hw_cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print "hawser <cmd>: <what>: <hw_strerror(code)> (<hw_errname(code)>)" to stderr, what's
 * control characters escaped (hw_log_escaped: a path with a newline or ESC in it); returns
 * HW_CLI_ERROR. */
int hw_cli_fail(const char *cmd, const char *what, int code);
/* hw_cli_fail, and why (when not empty) after a colon: the library's own words, escaped
 * as what is (the line is base/log.h hw_log_error_of's, the form of the library's
 * operator errors too). */
int hw_cli_fail_why(const char *cmd, const char *what, int code, const char *why);

/* Parse a decimal unsigned integer, the whole string. Returns 0 or -1. */
int hw_cli_u64(const char *s, uint64_t *out);

/* Whether s is a --connect list, by its shape (hw_addrs_parse: addresses, ID@ADDR,
 * comma-separated), of at most max addresses: 0 or -1, so a typo or a list longer than
 * the command takes is a usage error before anything is dialled (for the latter,
 * hw_cli_parse's "bad value" says how many). hw_cli_addrs is for a list that one client
 * takes (hw_client_connect): at most HW_DIAL_MAX. */
int hw_cli_addrs_max(const char *s, size_t max);
int hw_cli_addrs(const char *s);

/* Whether s is a node id (base/names.h hw_id_ok, as a config's ids are): 0 or -1, so an
 * id that holds a control character, a space or a dot is a usage error before anything is
 * dialled (hw_cli_parse's "bad value" says what an id is). */
int hw_cli_id(const char *s);

/* Parse a time: integer milliseconds since 1970 or ISO 8601 UTC
 * "2026-11-26T10:00:00Z" (optionally with .mmm before the Z), or the same with an offset
 * instead of the Z ("2026-11-26T19:00:00+09:00", converted to UTC). Returns 0 or -1; on
 * -1, hw_cli_parse's "bad value" says what a time looks like. */
int hw_cli_time_ms(const char *s, int64_t *out);

/* Parse a duration with hw_duration_parse (base/duration.h). Returns 0 or -1; on -1,
 * hw_cli_parse's "bad value" says that a duration takes a unit. */
int hw_cli_duration(const char *s, int64_t *ms);

/* A --now T parsed by hw_cli_time_ms (every command's: drill procedure, status, prune)
 * against what a time to judge at can be: HW_CLI_RUN for one from 2001 (HW_TIME_MIN_MS)
 * to the year 9999, else a usage error naming it (exit 2): an integer T is milliseconds,
 * and one in seconds (the year 1970) or microseconds (the year 50000) would judge ages and
 * schedules for nothing. */
int hw_cli_now_check(const struct hw_cli_cmd *cmd, int64_t now_ms);

/* Format ms as ISO 8601 UTC with milliseconds into buf (at least 32 bytes). */
const char *hw_cli_iso(int64_t ms, char *buf, size_t cap);

/* Lower-case hex of a digest into buf (at least 2 * HW_HASH_BYTES + 1 bytes). */
const char *hw_cli_hex(const uint8_t *hash, char *buf);

/* bytes for people into buf: "512 bytes", "9.7 MiB", "1.5 TiB" (units of 1024). */
const char *hw_cli_bytes(uint64_t bytes, char *buf, size_t cap);

/* The failover a node predicts now (its status's f, configured), one line into buf (no
 * newline; HW_CLI_PREDICTED_CHARS hold any): "predicted failover N ms = detection D +
 * election E + replay R + resume S", with terse "detect" and "elect" (the demo's line,
 * indented deeper in 80 columns), or "predicted failover: none, no failover can happen
 * now" when no standby can take over. Returns buf. */
#define HW_CLI_PREDICTED_CHARS 192
struct Hawser__Wire__V1__FailoverStatus;
const char *hw_cli_predicted(const struct Hawser__Wire__V1__FailoverStatus *f, bool terse,
			     char *buf, size_t cap);

/* A refused record's field and rule, "FIELD: RULE", each escaped (hw_log_escaped: a node's
 * words, which may quote a record's text) into buf; HW_CLI_REJECT_CHARS hold any. Returns
 * buf. */
#define HW_CLI_REJECT_CHARS                                                                        \
	(HW_LOG_ESCAPED_CHARS(sizeof(((struct hw_reject *)0)->field)) +                            \
	 HW_LOG_ESCAPED_CHARS(sizeof(((struct hw_reject *)0)->rule)) + 2)
const char *hw_cli_reject_shown(const struct hw_reject *r, char *buf, size_t cap);

/* Outside text (an operator's path, a node's words) as an audit event's detail carries it
 * (engine/client_int.h hw_client_operator_event), into buf: escaped as the terminal shows
 * it (hw_log_escaped: a control character and a byte that is not UTF-8 as \xNN), which a
 * node with a key takes (replica/validate.h hw_text_ok: UTF-8, no control character); at
 * most cap - 1 bytes: s whole when it fits, else
 * (tail) "..." and its end from the start of an escape or a character (cap at least 4),
 * or (!tail) its start cut at the end of one. s NULL is "". Returns buf. */
const char *hw_cli_event_text(const char *s, bool tail, char *buf, size_t cap);

/* Escape every string of the decoded message m, and of the messages in it, in place, for
 * a terminal (hw_log_escaped): a node's words, ids and addresses (a status's), which may
 * hold a newline or an escape sequence. A string that changes is replaced by a malloc'd
 * copy, which protobuf_c_message_free_unpacked(m, NULL) frees as it would have freed the
 * one replaced: m must have been unpacked with the default allocator. Returns 0, or
 * HW_ENOMEM (m then holds some strings escaped and the others as they were). */
struct ProtobufCMessage;
int hw_cli_message_shown(struct ProtobufCMessage *m);

/* Make a fresh scratch directory next to near ("<near>.<tag>-XXXXXX") or, when that
 * fails, under $TMPDIR or /tmp. Writes the path into buf. Returns 0 or -errno. */
int hw_cli_scratch(const char *near, const char *tag, char *buf, size_t cap);

/* A fresh scratch directory "<under>/<tag>-XXXXXX" when under is not NULL (under made when
 * missing, one level), else hw_cli_scratch(near, ...): a command's --scratch. Writes the
 * path into buf. Returns 0 or -errno. */
int hw_cli_scratch_in(const char *under, const char *near, const char *tag, char *buf, size_t cap);

/* The words before and after the path of a scratch directory (removed) whose file system
 * had no room for the what ("rebuild", "replay") of work ("verify", "a compare"), into
 * before and after (HW_CLI_NO_ROOM_CHARS each): refused before it started when room says
 * it was short (hw_scratch_room_short), "WORK could not run (ENOSPC): no room for its
 * WHAT's scratch " and " (removed): it needs about N KiB, its file system has M KiB
 * free"; else it ran out of room part way, "WORK could not run (ENOSPC): its WHAT's
 * scratch store ran out of room in " and " (removed); READ only read" (read: "the store
 * was"). The drills' and the demo's verdicts say it so. */
#define HW_CLI_NO_ROOM_CHARS 192
void hw_cli_no_room_words(const char *work, const char *what, const struct hw_scratch_room *room,
			  const char *read, char *before, char *after);

/* Progress callback (replica/verify.h hw_progress_cb) drawing "<label> done/total" on
 * stderr, only when stderr is a terminal (a poll, done and total 0, draws nothing); arg
 * is the label. Returns 0, the work goes on, or HW_ECANCELED once a caught signal asks
 * the command to stop (hw_cli_interrupted), which stops the work there.
 * hw_cli_progress_end ends the line. */
int hw_cli_progress_cb(void *arg, uint64_t done, uint64_t total);
void hw_cli_progress_end(void);

/* Signals that ask a command to stop (SIGINT, SIGTERM, SIGHUP: Ctrl-C, the timeout of
 * cron or of a systemd unit, a closed terminal), caught so that the command stops where
 * it can, removes what it made (scratch copies, child processes) and says how it ended
 * rather than dying with them left behind. After hw_cli_signals_catch() such a signal
 * sets the flag hw_cli_interrupted() points to (its number; 0: none) and then calls also
 * (may be NULL) in the handler: async-signal-safe calls only, such as kill(2). No
 * SA_RESTART: a wait (poll, a pipe's read) returns EINTR, so a loop sees the flag soon.
 * Child processes forked later inherit the handler (and the flag as it is). A command
 * stopped so exits 128 + the signal, as the shell reports a process a signal killed. */
void hw_cli_signals_catch(void (*also)(int sig));
/* Have the handler of hw_cli_signals_catch() pass each such signal on to pid as well (a
 * child process the command waits for: cli/isolate.h), from the moment of the call, so
 * that one caught while the command waits is never missed; 0: to none. */
void hw_cli_signals_forward(pid_t pid);
volatile sig_atomic_t *hw_cli_interrupted(void);

struct hw_store;
struct hw_workload;

/* Settings and results of an ingest run (shared by `ingest` and `demo`). */
struct hw_cli_ingest {
	uint64_t count;    /* records to draw from the generator */
	uint32_t batch;    /* records per hw_store_submit */
	int64_t clock_ms;  /* store clock; 0: the wall clock at each batch */
	bool trace;        /* print "committed lsn=<head>" after each batch */
	const char *label; /* progress label */
	uint64_t accepted; /* results, added to */
	uint64_t duplicates;
	uint64_t rejected;
	uint64_t unexpected; /* refused (or accepted) other than the generator expected */
	uint64_t head_lsn;
	double seconds;
	double store_seconds; /* of seconds, the time spent inside hw_store_submit() */
	const struct hw_signer *signer; /* NULL: no checkpoints */
	uint64_t checkpoint_every;      /* with signer: a checkpoint after every this many
	                                   entries (checked after each batch) */
	uint64_t checkpoints;           /* result: checkpoints appended (in store_seconds) */
};

/* Draw in->count records from w and submit them to s in batches. Fills the results.
 * Returns 0 or the storage or generator error that stopped it (what was committed
 * before stays). Unexpected outcomes are counted, and the first few described on
 * stderr, not returned. */
int hw_cli_ingest_run(struct hw_store *s, struct hw_workload *w, struct hw_cli_ingest *in);

struct hw_head;
struct hw_scratch_room;

/* The head of the store in dir (opened read-only) and its digest at that head, both from
 * one read transaction, so they match however fast a running node commits meanwhile.
 * digest gets HW_HASH_BYTES. Returns 0 or the open or store error. */
int hw_cli_digest_now(const char *dir, struct hw_head *head, uint8_t *digest);

/* Digest of the store in dir (opened read-only) as it was at at_lsn: its log replayed up
 * to at_lsn into a scratch store in a directory next to dir (or under /tmp), its path
 * into scratch[cap] ("" when none was made), removed afterwards. HW_ENOTFOUND if at_lsn
 * is past the head, -ENOSPC before the replay when the scratch's file system has less
 * room than it needs (hw_scratch_room: *room says how much, and what it has), else as
 * hw_store_digest_replayed() (HW_ELSN if the replay ends short of at_lsn; a scratch that
 * filled part way, hw_scratch_full). */
int hw_cli_digest_at(const char *dir, uint64_t at_lsn, uint8_t *digest, char *scratch, size_t cap,
		     struct hw_scratch_room *room);

/* The state digests of the stores in dirs a and b at the LSN both have, the lower of
 * their heads (*lsn): a store whose head is there as it is, one ahead replayed to it
 * (hw_cli_digest_at). So two copies agree however far one got past the other, and differ
 * only where they hold different states at the same point. A replay goes into
 * scratch/store, removed after, scratch being a directory the caller made and removes
 * (so a child that dies replaying leaves nothing the caller does not remove), or, with
 * scratch NULL, into a scratch directory of its own next to its store. da and db get
 * HW_HASH_BYTES. *reading (when reading is not NULL) is set to a or b before that store is
 * read: the one a child that died (hw_cli_read_isolated) was reading. Once a caught
 * signal asks the command to stop (hw_cli_interrupted) it reads no further digest and a
 * replay stops at its next batch: HW_ECANCELED. Returns 0 or the first open, store or
 * replay error: -ENOSPC, before a replay, when its scratch's file system has less room than
 * the replay needs (hw_scratch_room; with scratch given and room not NULL, *room says how
 * much it needs and has). */
int hw_cli_digests_common(const char *a, const char *b, const char *scratch,
			  struct hw_scratch_room *room, uint64_t *lsn, uint8_t *da, uint8_t *db,
			  const char **reading);

struct hw_signer;

/* The node's checkpoint signer (replica/checkpoint.h) from its node.key (hw_identity_load:
 * mode 0600, HW_ECONFIG when malformed) and node_id (1..HW_SIGNER_ID_MAX characters,
 * HW_ERANGE otherwise). Returns 0 or the error. cli/cmd_audit.c. */
int hw_cli_load_signer(const char *key_file, const char *node_id, struct hw_signer *out);

/* The Ed25519 key on the "sign" line of a node.pub file (hawser keygen) into pk[32].
 * Returns 0, -errno, or HW_ECONFIG when the file has no well-formed sign line. */
int hw_cli_load_sign_pub(const char *pub_file, uint8_t pk[32]);

/* The keys a command was given with --trust NODE.PUB (verify, restore): the first file
 * that did not load is kept, for the command to report before it runs. */
struct hw_cli_trust {
	uint8_t keys[HW_VERIFY_TRUST_MAX * HW_SIGN_PK_BYTES];
	size_t count;
	const char *bad_file;
	int bad_rc;
};

/* Load the sign key of file into t: 0 (a file that does not load is noted in t), or -1
 * (a usage error) past HW_VERIFY_TRUST_MAX keys. */
int hw_cli_trust_add(struct hw_cli_trust *t, const char *file);

/* Report t's first file that did not load ("not a node.pub with a sign line" for one
 * that reads but holds no key); returns HW_CLI_ERROR. */
int hw_cli_trust_fail(const char *cmd, const struct hw_cli_trust *t);

/* Whether pk (HW_SIGN_PK_BYTES) is one of t's keys. */
bool hw_cli_trusted(const struct hw_cli_trust *t, const uint8_t *pk);

struct hw_json;
struct hw_drill_config;

/* The drill part of `hawser status` (cli/cmd_drill.c): per drill kind the last run, its
 * result and figures, and whether it is on time, overdue or never passed at now_ms under
 * the schedule in c, from the history of the store in dir (opened read-only, in a child:
 * hw_cli_read_isolated, whose *end it passes on); judged_ms is now_ms when --now gave it
 * (a what-if, said as such: hw_cli_drill_status_begin), else 0. With j, written as keys
 * "judged_at", "drills" (an array) and "drills_overdue" into the object j is inside;
 * else as text on stdout.
 * Returns 0 or the store's error (nothing written when the store could not be read). */
struct hw_cli_end;
int hw_cli_drill_status(const char *dir, const struct hw_drill_config *c, int64_t now_ms,
			int64_t judged_ms, struct hw_json *j, struct hw_cli_end *end);

/* One drill kind of that part, from figures already at hand (a node's status reply):
 * with j one object of the "drills" array, else one line on stdout. last is the newest
 * run of any result, pass the newest that passed (each NULL when none). A kind overdue
 * or never passed is added to overdue (HW_CLI_OVERDUE_CHARS, "" at first), which
 * hw_cli_drill_status_end() prints after the last kind and ends the array with. */
#define HW_CLI_OVERDUE_CHARS 128
/* Before the first kind: with j the key "judged_at" (judged_ms as ISO 8601, null when 0)
 * and the "drills" array opened; else the line "drills (<whose> <name>):", name's
 * control characters escaped (hw_log_escaped), with ", as of T (--now: a what-if)" before
 * the colon when judged_ms is not 0. */
void hw_cli_drill_status_begin(struct hw_json *j, const char *whose, const char *name,
			       int64_t judged_ms);
struct hw_drill_due;
struct hw_drill_row;
void hw_cli_drill_status_kind(struct hw_json *j, int kind, const struct hw_drill_due *due,
			      const struct hw_drill_row *last, const struct hw_drill_row *pass,
			      int64_t every_ms, char *overdue);
void hw_cli_drill_status_end(struct hw_json *j, const char *overdue);

#endif
