/* isolate.h: reading a store that may be damaged in a child process. LMDB aborts the
 * process on some damaged pages (an assertion in mdb.c) rather than returning
 * MDB_CORRUPTED, and may fault on others, which nothing in-process can catch: a command
 * that must give a verdict on any store, or write into one found damaged, does that part
 * in a child and judges how the child ended. Internal to cli/. */
#ifndef HW_CLI_ISOLATE_H
#define HW_CLI_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "replica/verify.h"

/* Run cb(copy) in a child process, copy being the bytes of shared copied into memory both
 * processes see, and copy them back into shared after, also when the child died: so its
 * results, and how far it got, reach the caller. Returns 0 when the child returned from cb (*signo
 * 0) or was killed (*signo the signal), HW_ECANCELED when it exited otherwise, or -errno when it
 * could not be started. Buffered output is flushed first. Call it with no other thread running: the
 * child has only the calling one, and a lock another held stays locked in it. */
typedef void hw_cli_isolated_cb(void *shared);
int hw_cli_isolated(hw_cli_isolated_cb *cb, void *shared, size_t bytes, int *signo);

/* Whether a child killed by signo died as LMDB does on a damaged page: an assertion in
 * mdb.c (SIGABRT), or a fault (SIGSEGV, SIGBUS). */
bool hw_cli_killed_by_damage(int signo);

/* A command's read of a store, in a child (hw_cli_isolated), so that a store whose damaged
 * pages make LMDB abort or fault gives an error instead of a process killed with LMDB's
 * own words: cb(copy) runs there, copy being arg's bytes, copied back into arg after,
 * also when the child died (how far it got). What cb writes elsewhere, through pointers
 * in arg included, stays in the child; what it prints is flushed before it ends. Returns
 * what cb returned (0 or a negative code), HW_ECORRUPT when the child died on SIGABRT,
 * SIGSEGV or SIGBUS (what LMDB does on such pages), HW_ECANCELED when it died on another
 * signal or exited otherwise, or hw_cli_isolated()'s error; *signo is the signal the child
 * died on, else 0. As hw_cli_isolated(): no other thread may run. */
typedef int hw_cli_read_cb(void *arg);
int hw_cli_read_isolated(hw_cli_read_cb *cb, void *arg, size_t bytes, int *signo);

/* What the usage of a command that reads a store through hw_cli_read_isolated() says. */
#define HW_CLI_READ_USAGE                                                                          \
	"  The store is read in a child process: one whose damaged pages make LMDB abort or\n"     \
	"  fault is an error that names it and says to run hawser verify (HW_ECORRUPT, exit 1).\n"

/* The words for a read of the store at dir whose child died on signal signo
 * (hw_cli_read_isolated), into buf: "the store at DIR is damaged (LMDB stopped on SIGABRT
 * while reading it): run `hawser verify DIR`", or that something else killed it; "" for
 * signo 0. Returns buf. HW_CLI_WHY_CHARS holds them with two paths of PATH_MAX. */
#define HW_CLI_WHY_CHARS 8400
const char *hw_cli_read_why(const char *dir, int signo, char *buf, size_t cap);

/* hw_cli_fail_why(cmd, dir, rc, ...) for a read of the store at dir by
 * hw_cli_read_isolated() that returned rc, signo: the words above when its child died.
 * Returns HW_CLI_ERROR: a store too damaged to read is HW_ECORRUPT, exit 1, as when LMDB
 * itself reports the damage. */
int hw_cli_fail_read(const char *cmd, const char *dir, int rc, int signo);

/* hw_verify_trusted() in a child (hw_cli_isolated): a child that died on the store's
 * damage gives the verdict hw_verify_killed() makes of what it got to (returns 0, code
 * HW_ECORRUPT, seconds measured here). cb runs in the child with arg, or, when
 * arg_bytes is not 0, with a copy of arg's arg_bytes that is copied back into arg after
 * (a tracker's marks). Returns as hw_verify_trusted(), or hw_cli_isolated()'s error. */
int hw_cli_verify_isolated(const char *dir, const char *scratch, const struct hw_verify_trust *t,
			   hw_progress_cb *cb, void *arg, size_t arg_bytes,
			   struct hw_verify_report *report);

#endif
