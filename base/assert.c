/* assert.c: the failure path of HW_ASSERT (base/assert.h). */
#include "base/assert.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local const struct hw_assert_ctx *assert_ctx;
static hw_assert_handler *handler;

void hw_assert_context(const struct hw_assert_ctx *ctx)
{
	assert_ctx = ctx;
}

void hw_assert_handle(hw_assert_handler *h)
{
	handler = h;
}

void hw__assert_fail(const char *expr, const char *file, int line)
{
	const struct hw_assert_ctx *c = assert_ctx;
	char buf[HW_ASSERT_LINE_CHARS];
	if (c != NULL)
		snprintf(buf, sizeof buf,
			 "hawser: assertion failed: %s at %s:%d role=%s epoch=%" PRIu64
			 " lsn=%" PRIu64,
			 expr, file, line, c->role ? c->role : "-", c->epoch, c->lsn);
	else
		snprintf(buf, sizeof buf,
			 "hawser: assertion failed: %s at %s:%d role=- epoch=- lsn=-", expr, file,
			 line);
	if (handler != NULL)
		handler(buf);
	fprintf(stderr, "%s\n", buf);
	fflush(stderr);
	abort();
}
