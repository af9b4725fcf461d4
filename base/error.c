/* error.c: text and names for hawser's error codes (hawser_error.h). */
#include "hawser_error.h"
#include "base/reject.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *hw_strerror(int code)
{
	if (code == 0)
		return "success";
	switch (code) {
#define HW_ERRNO_TEXT_(name, value, text) \
	case value:                        \
		return text;
		HW_ERRNO_MAP(HW_ERRNO_TEXT_)
#undef HW_ERRNO_TEXT_
	default:
		break;
	}
	/* Only an errno with a name: the C library's text for one without is "Unknown error
	 * N" in a per-thread buffer that its next such call overwrites (hawser.h: static). */
	if (code < 0 && code > -4096 && strerrorname_np(-code) != NULL)
		return strerror(-code);
	return "unknown error";
}

/* The name of code, or NULL for none (hw_errname's EUNKNOWN). */
static const char *errname(int code)
{
	if (code == 0)
		return "OK";
	switch (code) {
#define HW_ERRNO_NAME_(name, value, text) \
	case value:                        \
		return #name;
		HW_ERRNO_MAP(HW_ERRNO_NAME_)
#undef HW_ERRNO_NAME_
	default:
		break;
	}
	if (code < 0 && code > -4096) {
		const char *name = strerrorname_np(-code);
		if (name != NULL)
			return name;
	}
	return NULL;
}

const char *hw_errname(int code)
{
	const char *name = errname(code);
	return name != NULL ? name : "EUNKNOWN";
}

bool hw_errknown(int code)
{
	return errname(code) != NULL;
}

int hw_reject_set(struct hw_reject *r, int code, const char *field, const char *fmt, ...)
{
	if (r == NULL)
		return code;
	r->code = code;
	snprintf(r->field, sizeof r->field, "%s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->rule, sizeof r->rule, fmt, ap);
	va_end(ap);
	return code;
}
