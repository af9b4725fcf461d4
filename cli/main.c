/* main.c: the `hawser` command: dispatch to the commands, and the helpers they share
 * (cli.h): option parsing, error reporting, numbers, times, scratch directories, and the
 * signals that ask a command to stop. */
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/names.h"
#include "engine/dial.h"
#include "hawser_error.h"

/* CMake may pass the project version; the fallback keeps a plain compile working. */
#ifndef HW_VERSION
#define HW_VERSION "0.1.0"
#endif

static const struct hw_cli_cmd *const commands[] = {
	&hw_cli_init,   &hw_cli_ingest, &hw_cli_verify,  &hw_cli_digest,
	&hw_cli_get,    &hw_cli_backup, &hw_cli_restore, &hw_cli_prune, &hw_cli_node,
	&hw_cli_witness,
	&hw_cli_submit, &hw_cli_status, &hw_cli_demo,
	&hw_cli_bench,
	&hw_cli_plan,
	&hw_cli_drill,
	&hw_cli_keygen,
	&hw_cli_quarantine,
	&hw_cli_switchover,
	&hw_cli_promote,
	&hw_cli_audit,
};
#define COMMANDS_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *f)
{
	fputs("usage: hawser <command> [options]   (hawser <command> --help for its options)\n"
	      "Each option is given once (a second one is a usage error), but --trust and\n"
	      "drill verify's --compare.\n"
	      "\ncommands:\n",
	      f);
	int w = 4; /* "help" */
	for (size_t i = 0; i < COMMANDS_COUNT; i++)
		if ((int)strlen(commands[i]->name) > w)
			w = (int)strlen(commands[i]->name);
	for (size_t i = 0; i < COMMANDS_COUNT; i++)
		fprintf(f, "  %-*s %s\n", w, commands[i]->name, commands[i]->summary);
	fprintf(f, "  %-*s this list\n", w, "help");
	fputs("\nexit codes: 0 success, 1 error, 2 usage error, 3 damage found (verify), 4 a\n"
	      "state no signed checkpoint vouches for yet, no damage found (backup, verify,\n"
	      "restore --trust), 5 the node's storage failed or its apply is blocked (status)\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("hawser: no command given\n", stderr);
		print_help(stderr);
		return HW_CLI_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		print_help(stdout);
		return HW_CLI_OK;
	}
	if (!strcmp(name, "--version")) {
		printf("hawser %s\n", HW_VERSION);
		return HW_CLI_OK;
	}
	for (size_t i = 0; i < COMMANDS_COUNT; i++) {
		if (!strcmp(name, commands[i]->name)) {
			hw_log_command(name); /* the library's operator messages name it */
			return commands[i]->run(commands[i], argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "hawser: unknown command '%s'\nTry 'hawser help' for the list.\n", name);
	return HW_CLI_USAGE;
}

void hw_cli_usage_print(const struct hw_cli_cmd *cmd)
{
	for (const char *const *part = cmd->usage; *part != NULL; part++)
		fputs(*part, stdout);
}

/* The reason and where the options are, as git and coreutils say it: the whole usage
 * (40 lines and more) would scroll the reason off a terminal. */
int hw_cli_usage_error(const struct hw_cli_cmd *cmd, const char *fmt, ...)
{
	char line[HW_CLI_LINE_CHARS];
	int n = snprintf(line, sizeof line, "hawser %s: ", cmd->name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	/* a path in it (a store, a file given) with a newline or ESC cannot fake a line */
	char shown[HW_LOG_ESCAPED_CHARS(HW_CLI_LINE_CHARS)];
	hw_cli_wrap(stderr, 2, hw_log_escaped(line, shown, sizeof shown));
	fprintf(stderr, "Try 'hawser %s --help' for more information.\n", cmd->name);
	return HW_CLI_USAGE;
}

int hw_cli_fail(const char *cmd, const char *what, int code)
{
	return hw_cli_fail_why(cmd, what, code, NULL);
}

int hw_cli_fail_why(const char *cmd, const char *what, int code, const char *why)
{
	hw_log_error_of(cmd, what, code, why); /* the library's operator errors' form */
	return HW_CLI_ERROR;
}

/* What a value of the shape a parser refused must look like, when "bad value" alone would
 * leave the reader guessing (a unit, a time zone): set by hw_cli_duration and
 * hw_cli_time_ms, said and cleared by hw_cli_parse. NULL: nothing to add. */
static const char *value_hint;

/* Long options of cmd plus --help, in one getopt_long table (at most 15 of cmd's). */
static void with_help(const struct option *opts, struct option *all, size_t cap)
{
	size_t n = 0;
	while (opts && opts[n].name && n + 2 < cap) {
		all[n] = opts[n];
		n++;
	}
	all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	all[n] = (struct option){0};
}

int hw_cli_parse(const struct hw_cli_cmd *cmd, int argc, char **argv, const struct option *opts,
		 hw_cli_opt_cb *cb, void *arg, char **pos, int npos)
{
	struct option all[24];
	with_help(opts, all, sizeof(all) / sizeof(all[0]));
	optind = 0; /* glibc: full reinitialisation, and permute so options may follow DIR */
	opterr = 0;
	int c, idx = -1;
	uint32_t seen = 0; /* by index in all: a second --until-lsn is a slip, not an update */
	_Static_assert(sizeof all / sizeof all[0] <= 32, "seen holds a bit an option");
	while ((c = getopt_long(argc, argv, ":h", all, &idx)) != -1) {
		if (c == 'h') {
			hw_cli_usage_print(cmd);
			return HW_CLI_OK;
		}
		if (c == '?' || c == ':')
			return hw_cli_usage_error(cmd, "%s option '%s'",
						  c == ':' ? "missing value for" : "unknown",
						  argv[optind - 1]);
		if (idx >= 0 && !(all[idx].val & HW_CLI_REPEATABLE) && (seen >> idx & 1u))
			return hw_cli_usage_error(cmd, "--%s given twice", all[idx].name);
		if (idx >= 0)
			seen |= 1u << idx;
		value_hint = NULL;
		if (!cb || cb(arg, c & ~HW_CLI_REPEATABLE, optarg) != 0)
			return hw_cli_usage_error(
				cmd, "bad value '%s' for --%s%s%s", optarg ? optarg : "",
				idx >= 0 ? all[idx].name : "?", value_hint ? ": " : "",
				value_hint ? value_hint : "");
		idx = -1;
	}
	int given = argc - optind;
	if (given != npos)
		return hw_cli_usage_error(cmd, "expected %d argument%s, got %d", npos,
					  npos == 1 ? "" : "s", given);
	for (int i = 0; i < npos; i++)
		pos[i] = argv[optind + i];
	return HW_CLI_RUN;
}

int hw_cli_addrs_max(const char *s, size_t max)
{
	static char addrs[64][HW_ADDR_CHARS_MAX + 1]; /* more than any command takes */
	static char hint[96];
	size_t n;
	if (hw_addrs_parse(s, addrs, sizeof addrs / sizeof addrs[0], &n) != 0)
		return -1;
	if (n <= max)
		return 0;
	snprintf(hint, sizeof hint, "%zu addresses, it takes at most %zu", n, max);
	value_hint = hint;
	return -1;
}

int hw_cli_addrs(const char *s)
{
	return hw_cli_addrs_max(s, HW_DIAL_MAX);
}

int hw_cli_id(const char *s)
{
	static char hint[64];
	if (hw_id_ok(s))
		return 0;
	snprintf(hint, sizeof hint, "an id is 1 to %d letters, digits, '-' or '_'",
		 HW_ID_CHARS_MAX);
	value_hint = hint;
	return -1;
}

int hw_cli_u64(const char *s, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int hw_cli_duration(const char *s, int64_t *ms)
{
	if (hw_duration_parse(s, ms) == 0)
		return 0;
	value_hint = "a duration takes a unit: 500ms, 30s, 5m, 2h or 1d (a bare number only "
		     "as 0)";
	return -1;
}

/* s, ISO 8601 with an offset from UTC ("2026-11-28T17:22:17+09:00", seconds with .mmm
 * or not), as UTC milliseconds. Returns 0 or -1. */
static int offset_time_ms(const char *s, int64_t *out)
{
	size_t len = strlen(s);
	char utc[40];
	if (len < 7 || len - 6 + 2 > sizeof utc)
		return -1;
	const char *o = s + len - 6; /* +HH:MM, each a digit */
	for (int i = 1; i < 6; i++)
		if (i == 3 ? o[i] != ':' : o[i] < '0' || o[i] > '9')
			return -1;
	int hh = (o[1] - '0') * 10 + (o[2] - '0'), mm = (o[4] - '0') * 10 + (o[5] - '0');
	if ((o[0] != '+' && o[0] != '-') || hh > 23 || mm > 59)
		return -1;
	snprintf(utc, sizeof utc, "%.*sZ", (int)(len - 6), s);
	int64_t local;
	if (hw_log_time_ms(utc, &local) != 0)
		return -1;
	int64_t offset_ms = ((int64_t)hh * 60 + mm) * 60000;
	*out = o[0] == '+' ? local - offset_ms : local + offset_ms;
	return 0;
}

int hw_cli_time_ms(const char *s, int64_t *out)
{
	uint64_t v;
	if (hw_cli_u64(s, &v) == 0) {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)v;
		return 0;
	}
	if (hw_log_time_ms(s, out) == 0 || offset_time_ms(s, out) == 0)
		return 0;
	value_hint = "T is YYYY-MM-DDTHH:MM:SSZ (UTC; or with an offset such as +09:00), or "
		     "milliseconds since 1970";
	return -1;
}

/* The latest time ISO 8601 as --now takes it can write: 9999-12-31T23:59:59.999Z. */
#define NOW_MAX_MS 253402300799999LL

int hw_cli_now_check(const struct hw_cli_cmd *cmd, int64_t now_ms)
{
	char when[40];
	if (now_ms >= HW_TIME_MIN_MS && now_ms <= NOW_MAX_MS)
		return HW_CLI_RUN;
	return hw_cli_usage_error(cmd,
				  "--now %s is not a time to judge at (before 2001 or after 9999): "
				  "T is ISO 8601 UTC or milliseconds since 1970",
				  hw_cli_iso(now_ms, when, sizeof(when)));
}

int hw_cli_scratch(const char *near, const char *tag, char *buf, size_t cap)
{
	if (near) {
		size_t len = strlen(near);
		while (len > 1 && near[len - 1] == '/')
			len--;
		int n = snprintf(buf, cap, "%.*s.%s-XXXXXX", (int)len, near, tag);
		if (n > 0 && (size_t)n < cap && mkdtemp(buf))
			return 0;
	}
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(buf, cap, "%s/hawser-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return mkdtemp(buf) ? 0 : -errno;
}

int hw_cli_scratch_in(const char *under, const char *near, const char *tag, char *buf, size_t cap)
{
	if (!under)
		return hw_cli_scratch(near, tag, buf, cap);
	if (mkdir(under, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (snprintf(buf, cap, "%s/%s-XXXXXX", under, tag) >= (int)cap)
		return -ENAMETOOLONG;
	return mkdtemp(buf) ? 0 : -errno;
}

void hw_cli_no_room_words(const char *work, const char *what, const struct hw_scratch_room *room,
			  const char *read, char *before, char *after)
{
	char why[HW_SCRATCH_WHY_CHARS];
	bool refused = hw_scratch_room_short(room);
	if (refused)
		snprintf(after, HW_CLI_NO_ROOM_CHARS, " (removed): %s",
			 hw_scratch_room_why(room, why, sizeof why));
	else
		snprintf(after, HW_CLI_NO_ROOM_CHARS, " (removed); %s only read", read);
	snprintf(before, HW_CLI_NO_ROOM_CHARS,
		 refused ? "%s could not run (ENOSPC): no room for its %s's scratch "
			 : "%s could not run (ENOSPC): its %s's scratch store ran out of room in ",
		 work, what);
}

static bool progress_shown;

int hw_cli_progress_cb(void *arg, uint64_t done, uint64_t total)
{
	if (*hw_cli_interrupted())
		return HW_ECANCELED;
	if ((done == 0 && total == 0) || !isatty(STDERR_FILENO))
		return 0; /* a poll (replica/verify.h) shows nothing */
	const char *label = arg ? (const char *)arg : "progress";
	if (total)
		fprintf(stderr, "\r%s %llu/%llu (%.0f%%)   ", label, (unsigned long long)done,
			(unsigned long long)total, 100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r%s %llu   ", label, (unsigned long long)done);
	progress_shown = true;
	return 0;
}

void hw_cli_progress_end(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr);
	progress_shown = false;
}

static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t forward_to; /* a pid, hw_cli_signals_forward(); 0: none */
static void (*interrupted_also)(int);

static void on_signal(int sig)
{
	interrupted = sig;
	if (forward_to > 0)
		kill((pid_t)forward_to, sig);
	if (interrupted_also)
		interrupted_also(sig);
}

void hw_cli_signals_forward(pid_t pid)
{
	forward_to = (sig_atomic_t)pid;
}

void hw_cli_signals_catch(void (*also)(int sig))
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	interrupted_also = also;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

volatile sig_atomic_t *hw_cli_interrupted(void)
{
	return &interrupted;
}
