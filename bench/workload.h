/* workload.h: a generator of realistic TOS traffic (tos-domain.md §7), deterministic
 * from a seed.
 *
 * It keeps its own model of the terminal (vessel visits, containers and their visits,
 * yard slots, holds, work instructions) so that the records it makes respect the
 * rules in docs/rules.md: every container number passes ISO 6346 (about 9% with check
 * digit 0), every box follows its lifecycle, no slot is double-booked, VGM comes before
 * a full box is loaded, holds are released before the box leaves. The `poison` profile
 * also mixes in about 1% of bad records, each tagged with the code the store must give.
 *
 * Profiles: terminal_peak (one tenant, a compressed peak with EDI bursts and reefer
 * polls), nagoya_port_peak (five tenants sharing one TOS, weights 43/22/21/10/4%),
 * stress (no pacing, small records), poison (terminal_peak plus bad records). */
#ifndef HW_BENCH_WORKLOAD_H
#define HW_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hw_workload;

struct hw_workload_opts {
	const char *profile; /* NULL: "terminal_peak" */
	uint64_t seed;
	uint64_t count;      /* records that will be drawn; event times are spaced at the
	                        profile's mean rate (terminal_peak 6/s, nagoya_port_peak 5/s,
	                        stress 1000/s), never before 2001-01-01 */
	int64_t end_ms;      /* event time of the last record (the ingest's clock); no record
	                        time is later, except a poison HW_ETIME record's */
	uint32_t lane;       /* 0, or 1..HW_WORKLOAD_LANES_MAX: a lane's containers, yard
	                        blocks, ids and keys are its own, so generators of other
	                        lanes can feed one store at once (one TOS lane or feed each,
	                        as the bench's clients do), each in its own order */
};

#define HW_WORKLOAD_LANES_MAX 256u

/* One generated record. */
struct hw_work_item {
	size_t len;          /* encoded tos.v1.Record bytes in the caller's buffer */
	int expect;          /* 0 for a good record; for a poison record the HW_E* code the
	                        store must refuse it with */
	const char *kind;    /* payload kind, static ("unit_event", "reefer" ...) */
};

/* New generator. HW_ERANGE for an unknown profile or an end_ms before 2001-01-01
 * (HW_TIME_MIN_MS); HW_ENOMEM. The model is sized here (a few MB); drawing allocates
 * nothing. */
int hw_workload_new(const struct hw_workload_opts *o, struct hw_workload **out);

/* Draw the next record into buf (cap >= HW_RECORD_BYTES_MAX is always enough). Returns
 * 0, or HW_ERANGE when count records were drawn already or when the record did not fit
 * in cap (that record is then lost: the model has moved on). it->kind is the name
 * hw_record_kind() gives the payload. One thread at a time. */
int hw_workload_next(struct hw_workload *w, uint8_t *buf, size_t cap, struct hw_work_item *it);

/* Free. NULL is a no-op. */
void hw_workload_free(struct hw_workload *w);

/* NULL-terminated list of profile names. */
const char *const *hw_workload_profiles(void);

/* Whether name is one of hw_workload_profiles() (what a command checks its --profile
 * against). */
bool hw_workload_profile_known(const char *name);

#endif
