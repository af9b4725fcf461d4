/* fuzz.h: what every harness in fuzz/ asserts about a decoder's answer (docs/testing.md,
 * "Fuzzing"). A broken contract aborts, which libFuzzer reports as a crash with the input
 * that caused it; ASan and UBSan catch the rest (overflow, use after free, leak, UB). */
#ifndef HW_FUZZ_FUZZ_H
#define HW_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "hawser_error.h"

/* Abort with the failed condition when cond is false. Used instead of HW_ASSERT so the
 * message names the harness's contract, not a node's role and LSN. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz contract broken: %s\n", __FILE__, __LINE__,   \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* True for a code a decoder may return: 0, a code of the HW_E* table (so an unknown
 * negative number, or a positive one, is a bug) or a -errno. */
static inline bool fuzz_code_ok(long rc)
{
	switch (rc) {
	case 0:
#define FUZZ_CASE_(name, value, text) case value:
		HW_ERRNO_MAP(FUZZ_CASE_)
#undef FUZZ_CASE_
		return true;
	default:
		return rc < 0 && rc > -4096;
	}
}

#endif
