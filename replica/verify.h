/* verify.h: the integrity check of a store: walk the hash chain, decode and validate
 * every record, rebuild the state from the log in a scratch store and compare its digest
 * with the stored state. Reports the first bad LSN.
 *
 * A store whose log starts after a base (pruned, replica/store.h) is checked from the
 * base: the first entry must continue the base's hash. Its state cannot be rebuilt from
 * the log (the entries that made most of it are gone): the report then says
 * state_rebuilt false and base_lsn, and intact means "chain and records intact". */
#ifndef HW_REPLICA_VERIFY_H
#define HW_REPLICA_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "hawser_limits.h"

/* Progress of a long operation: done out of total units (entries). Called from the
 * working thread at most every few thousand units. */
typedef void hw_progress_cb(void *arg, uint64_t done, uint64_t total);

struct hw_verify_report {
	uint64_t entries;        /* log entries checked */
	uint64_t head_lsn;       /* head recorded in meta */
	uint64_t base_lsn;       /* the log starts after it (0: the whole log is there) */
	bool state_rebuilt;      /* the state was rebuilt from the log and compared: false
	                            for a log that starts after a base, or damage found
	                            before the rebuild */
	int code;                /* 0 intact; else HW_ECORRUPT, HW_ECHAIN, HW_ELSN,
	                            HW_EDIGEST or the validation code of a bad record */
	uint64_t first_bad_lsn;  /* LSN where damage starts; 0 when intact or not an entry */
	char what[160];          /* what is wrong, in words; "" when intact */
	uint8_t digest_stored[HW_HASH_BYTES];
	uint8_t digest_rebuilt[HW_HASH_BYTES];
	double seconds;
};

/* Verify the store in dir (opened read-only), rebuilding into scratch_dir (created, then
 * removed). Returns 0 when the check ran (see report->code for its verdict) or an error
 * that kept it from running (HW_EFORMAT, -errno ...). cb may be NULL. */
int hw_verify(const char *dir, const char *scratch_dir, hw_progress_cb *cb, void *arg,
	      struct hw_verify_report *report);

#endif
