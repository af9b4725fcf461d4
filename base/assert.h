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

_Noreturn void hw__assert_fail(const char *expr, const char *file, int line);

#define HW_ASSERT(expr) ((expr) ? (void)0 : hw__assert_fail(#expr, __FILE__, __LINE__))

#ifdef HW_DEBUG
#define HW_DEBUG_ASSERT(expr) HW_ASSERT(expr)
#else
#define HW_DEBUG_ASSERT(expr) ((void)0)
#endif

#endif
