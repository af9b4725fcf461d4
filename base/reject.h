/* reject.h: filling a struct hw_reject (hawser_error.h) where a rule is checked. */
#ifndef HW_BASE_REJECT_H
#define HW_BASE_REJECT_H

#include "hawser_error.h"

/* Record that field broke a rule: sets r->code, r->field and r->rule (printf format),
 * truncating to the struct's sizes. r may be NULL. Returns code, so a check reads
 * `return hw_reject_set(r, HW_EWEIGHT, "gross_kg", "gross %u < tare %u", g, t);`. */
int hw_reject_set(struct hw_reject *r, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
