/* isolate.h: reading a store that may be damaged in a child process. LMDB aborts the
 * process on some damaged pages (an assertion in mdb.c) rather than returning
 * MDB_CORRUPTED, and may fault on others, which nothing in-process can catch: a command
 * that must give a verdict on any store, or write into one found damaged, does that part
 * in a child and judges how the child ended. Internal to cli/. */
#ifndef HW_CLI_ISOLATE_H
#define HW_CLI_ISOLATE_H

#include <stddef.h>

#include "replica/verify.h"

/* How a child of hw_cli_isolated() ended: the signal it died on and, when an assertion
 * stopped it, whose and its words. LMDB fails its own on some damaged pages: damage.
 * hawser's own (HW_ASSERT) failing is a bug in hawser, never taken for damage. Either's
 * line is kept off the child's stderr and handed to the parent, to print after its own
 * words (hw_cli_end_detail): an operator reads hawser's verdict first, not a crash. */
enum hw_cli_who {
	HW_CLI_WHO_NONE = 0, /* no assertion: a fault, a kill, or another abort */
	HW_CLI_WHO_LMDB,     /* LMDB's (replica/store.h hw_store_assert_handle) */
	HW_CLI_WHO_HAWSER,   /* hawser's own (base/assert.h hw_assert_handle) */
};
#define HW_CLI_WORDS_CHARS 600 /* "LMDB: " and LMDB's line (under 400), or an HW_ASSERT's */
struct hw_cli_end {
	int signo;                      /* the signal the child died on; 0: it returned from cb */
	enum hw_cli_who who;            /* whose assertion it died on */
	char words[HW_CLI_WORDS_CHARS]; /* "LMDB: mdb.c:..." or "hawser: assertion failed:
					   ...", "" when none */
};

/* Run cb(copy) in a child process, copy being the bytes of shared copied into memory both
 * processes see, and copy them back into shared after, also when the child died: so its
 * results, and how far it got, reach the caller. Returns 0 when the child returned from cb
 * or was killed (*end says how), HW_ECANCELED when it exited otherwise, or -errno when it
 * could not be started. Buffered output is flushed first. Call it with no other thread
 * running: the child has only the calling one, and a lock another held stays locked in it.
 * For tests (docs/testing.md): with HW_FAULT_CHILD_AFTER=N in the environment, N children
 * run, then the next fails an HW_ASSERT as it starts, or with HW_FAULT_CHILD_HOW=kill
 * kills itself with SIGKILL: a bug in hawser, and a kill that is no damage; with
 * HW_FAULT_CHILD_HOW=hold it holds until a signal asks it to stop (at most 60 s), having
 * opened HW_FAULT_CHILD_FIFO for writing as its cue. A signal that asks the command to
 * stop (hw_cli_signals_catch) from the fork on is passed on to the child by the handler
 * (hw_cli_signals_forward), so none is missed however it falls against the wait; the
 * child inherited the handler, and its work stops where it polls hw_cli_interrupted(). */
typedef void hw_cli_isolated_cb(void *shared);
int hw_cli_isolated(hw_cli_isolated_cb *cb, void *shared, size_t bytes, struct hw_cli_end *end);

/* What a child's end means for what it read: 0 when it returned; HW_EINTERNAL when an
 * assertion of hawser's own stopped it; HW_ECORRUPT when it died as LMDB does on a
 * damaged page: an assertion in mdb.c (SIGABRT: any abort but hawser's own), or a fault
 * (SIGSEGV, SIGBUS); else HW_ECANCELED (killed from outside). */
int hw_cli_end_code(const struct hw_cli_end *end);

/* Print the words of the assertion the child died on (end->words), when there are any, to
 * stderr as "  detail: WORDS": after the command's own message, which says what it means. */
void hw_cli_end_detail(const struct hw_cli_end *end);

/* A command's read of a store, in a child (hw_cli_isolated), so that a store whose damaged
 * pages make LMDB abort or fault gives an error instead of a process killed with LMDB's
 * own words: cb(copy) runs there, copy being arg's bytes, copied back into arg after,
 * also when the child died (how far it got). What cb writes elsewhere, through pointers
 * in arg included, stays in the child; what it prints is flushed before it ends. Returns
 * what cb returned (0 or a negative code), hw_cli_end_code() when the child died
 * (HW_ECORRUPT, HW_EINTERNAL, HW_ECANCELED), HW_ECANCELED when it exited otherwise, or
 * hw_cli_isolated()'s error; *end says how the child ended. As hw_cli_isolated(): no
 * other thread may run. */
typedef int hw_cli_read_cb(void *arg);
int hw_cli_read_isolated(hw_cli_read_cb *cb, void *arg, size_t bytes, struct hw_cli_end *end);

/* What the usage of a command that reads a store through hw_cli_read_isolated() says. */
#define HW_CLI_READ_USAGE                                                                          \
	"  The store is read in a child process: one whose damaged pages make LMDB abort\n"        \
	"  or fault is an error that names it and says to run hawser verify (HW_ECORRUPT,\n"       \
	"  exit 1); a failed check of hawser's own there is a bug, not damage\n"                   \
	"  (HW_EINTERNAL, exit 1).\n"

/* The words for a read of the store at dir whose child ended as end says
 * (hw_cli_read_isolated), into buf: "the store at DIR is damaged (LMDB stopped on SIGABRT
 * while reading it): run `hawser verify DIR`", that a check of hawser's own failed (a bug,
 * not damage), or that something else killed it; "" for a child that returned. Returns
 * buf. HW_CLI_WHY_CHARS holds them with two paths of PATH_MAX. */
#define HW_CLI_WHY_CHARS 8400
const char *hw_cli_read_why(const char *dir, const struct hw_cli_end *end, char *buf, size_t cap);

/* hw_cli_fail_why(cmd, dir, rc, ...) for a read of the store at dir by
 * hw_cli_read_isolated() that returned rc, end: the words above when its child died, then
 * hw_cli_end_detail(). Returns HW_CLI_ERROR: a store too damaged to read is HW_ECORRUPT,
 * exit 1, as when LMDB itself reports the damage; hawser's own failure HW_EINTERNAL. */
int hw_cli_fail_read(const char *cmd, const char *dir, int rc, const struct hw_cli_end *end);

/* hw_verify_trusted() in a child (hw_cli_isolated): a child that died on the store's
 * damage gives the verdict hw_verify_killed() makes of what it got to (returns 0, code
 * HW_ECORRUPT, seconds measured here); one stopped by an assertion of hawser's own gives
 * none (HW_EINTERNAL). cb runs in the child with arg, or, when arg_bytes is not 0, with a
 * copy of arg's arg_bytes that is copied back into arg after (a tracker's marks). *end
 * says how the child ended. Returns as hw_verify_trusted(), HW_EINTERNAL, or
 * hw_cli_isolated()'s error. */
int hw_cli_verify_isolated(const char *dir, const char *scratch, const struct hw_verify_trust *t,
			   hw_progress_cb *cb, void *arg, size_t arg_bytes,
			   struct hw_verify_report *report, struct hw_cli_end *end);

#endif
