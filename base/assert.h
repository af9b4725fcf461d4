/* assert.h: hawser's assertions. They stay on in production (STYLE.md 6): a broken
 * invariant in a replication engine must stop the process before it acknowledges or
 * stores something wrong, and say where: file, line, and the node's role, epoch and LSN
 * from the context the node registered. HW_DEBUG_ASSERT is for checks too costly for
 * production (on with -DHW_DEBUG). */
#ifndef HW_BASE_ASSERT_H
#define HW_BASE_ASSERT_H

#include <stdint.h>

/* What an assertion failure prints besides file and line. Set by the node (or a test)
 * on the thread it runs on; a thread that never set it prints "-". */
struct hw_assert_ctx {
	const char *role;
	uint64_t epoch;
	uint64_t lsn;
};

/* Register ctx for the calling thread; ctx must outlive the registration; NULL clears. */
void hw_assert_context(const struct hw_assert_ctx *ctx);

/* What a failed HW_ASSERT hands its line to (no newline; at most HW_ASSERT_LINE_CHARS
 * with the terminator) before it prints the line to stderr and aborts. A handler that
 * does not return (it aborts itself) keeps the line off stderr, for whoever it gave it
 * to: the child that reads a store for a command (cli/isolate.c), whose parent tells
 * hawser's own failure, a bug, from LMDB's on a damaged page and prints it after its own
 * words. Process-wide: set it before other threads start; NULL clears. */
#define HW_ASSERT_LINE_CHARS 512
typedef void hw_assert_handler(const char *line);
void hw_assert_handle(hw_assert_handler *h);

_Noreturn void hw__assert_fail(const char *expr, const char *file, int line);

#define HW_ASSERT(expr) ((expr) ? (void)0 : hw__assert_fail(#expr, __FILE__, __LINE__))

#ifdef HW_DEBUG
#define HW_DEBUG_ASSERT(expr) HW_ASSERT(expr)
#else
#define HW_DEBUG_ASSERT(expr) ((void)0)
#endif

#endif
