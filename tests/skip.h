/* skip.h: skip a cmocka test and say why. cmocka's skip() prints only "[  SKIPPED ]"
 * and the test's name, and a test skipped without a reason (STYLE.md) hides a case that
 * never ran: what was missing, with strerror(errno) of the call that failed, goes to
 * stderr first. Include after <cmocka.h>. */
#ifndef HW_TESTS_SKIP_H
#define HW_TESTS_SKIP_H

#include <stdio.h>

/* Print "<function>: skipped: " and the printf-style reason (a string literal format
 * and its arguments) on a line of stderr, then skip() the running test (it does not
 * return). */
#define HW_SKIP(...)                                                                               \
	do {                                                                                       \
		fprintf(stderr, "%s: skipped: ", __func__);                                        \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		skip();                                                                            \
	} while (0)

#endif
