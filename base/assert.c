/* assert.c: the failure path of HW_ASSERT (base/assert.h). */
#include "base/assert.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local const struct hw_assert_ctx *assert_ctx;

void hw_assert_context(const struct hw_assert_ctx *ctx)
{
	assert_ctx = ctx;
}

void hw__assert_fail(const char *expr, const char *file, int line)
{
	const struct hw_assert_ctx *c = assert_ctx;
	if (c != NULL)
		fprintf(stderr, "hawser: assertion failed: %s at %s:%d role=%s epoch=%" PRIu64
				" lsn=%" PRIu64 "\n",
			expr, file, line, c->role ? c->role : "-", c->epoch, c->lsn);
	else
		fprintf(stderr, "hawser: assertion failed: %s at %s:%d role=- epoch=- lsn=-\n", expr,
			file, line);
	fflush(stderr);
	abort();
}
