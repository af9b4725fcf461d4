/* state.h: the terminal state the apply step keeps, as readers see it, and the binary
 * encodings of the state tables (docs/formats.md). Encodings are fixed-layout and
 * little-endian, so equal states are equal bytes and the state digest is the same on
 * every node. */
#ifndef HW_REPLICA_STATE_H
#define HW_REPLICA_STATE_H

#include <stdint.h>

#include "replica/tables.h"

/* One container as the state tables know it. */
struct hw_container {
	char id[16];           /* container number, NUL-terminated */
	int state;             /* TOS__V1__TRANSIT_STATE__*: lifecycle of its current visit */
	int full_empty;        /* TOS__V1__FULL_EMPTY__* */
	char size_type[5];     /* ISO size/type as last reported, "" if never */
	uint32_t tare_kg;
	uint32_t gross_kg;
	uint32_t max_gross_kg;
	uint32_t vgm_kg;       /* 0: no VGM declared for this visit */
	uint32_t visits;       /* facility visits begun so far */
	int64_t last_event_ms; /* event time of the last record that touched it */
	uint64_t last_lsn;     /* LSN of that record */
	char position[80];     /* canonical text, facility first ("JPNGO-NCB/yard:3C-14-05-2",
	                          "JPNGO-NCB/vessel:V1:078-06-90"); "" when not at a known
	                          place */
	uint32_t holds;        /* bit (1u << TOS__V1__HOLD_TYPE__*) per active hold, from the
	                          holds table */
};

/* Read container id inside txn into *out. HW_ENOTFOUND if the store never saw it; an
 * LMDB error code (> 0 errno or MDB_*) on failure. */
int hw_state_container_get(MDB_txn *txn, const struct hw_tables *t, const char *id,
			   struct hw_container *out);

/* Name of a TOS__V1__TRANSIT_STATE__* value ("YARD"), "?" when unknown. */
const char *hw_transit_state_name(int state);

/* Name of a TOS__V1__HOLD_TYPE__* value ("CUSTOMS_HOLD"), "?" when unknown. */
const char *hw_hold_type_name(int hold);

/* Name of a TOS__V1__VISIT_PHASE__* value ("VP_ARRIVED"), "?" when unknown. */
const char *hw_visit_phase_name(int phase);

#endif
