/* isolate.h: reading a store that may be damaged in a child process. LMDB aborts the
 * process on some damaged pages (an assertion in mdb.c) rather than returning
 * MDB_CORRUPTED, and may fault on others, which nothing in-process can catch: a command
 * that must give a verdict on any store, or write into one found damaged, does that part
 * in a child and judges how the child ended. Internal to cli/. */
#ifndef HW_CLI_ISOLATE_H
#define HW_CLI_ISOLATE_H

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

/* hw_verify_trusted() in a child (hw_cli_isolated): a child that died on the store's
 * damage gives the verdict hw_verify_killed() makes of what it got to (returns 0, code
 * HW_ECORRUPT, seconds measured here). cb runs in the child with arg, or, when
 * arg_bytes is not 0, with a copy of arg's arg_bytes that is copied back into arg after
 * (a tracker's marks). Returns as hw_verify_trusted(), or hw_cli_isolated()'s error. */
int hw_cli_verify_isolated(const char *dir, const char *scratch, const struct hw_verify_trust *t,
			   hw_progress_cb *cb, void *arg, size_t arg_bytes,
			   struct hw_verify_report *report);

#endif
