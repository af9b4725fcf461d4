/* apply.h: the deterministic apply step: check a record against the terminal's state
 * (per-container lifecycle, yard slots, holds, vessel visit phases, work instructions,
 * key/value) and change that state. Two stores fed the same log reach the same state. */
#ifndef HW_REPLICA_APPLY_H
#define HW_REPLICA_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "hawser_error.h"
#include "replica/tables.h"
#include "tos.pb-c.h"

struct hw_apply_ctx {
	MDB_txn *txn;               /* the write transaction (the store's carries many batches) */
	const struct hw_tables *t;
	uint64_t lsn;               /* LSN the record gets */
	MDB_cursor *boxes;          /* on t->containers in txn, the caller's: opened once per
				     * write transaction, not per record or batch (it is a
				     * malloc); hw_apply moves it and leaves it open */
	MDB_cursor *wis;            /* on t->wis in txn, the caller's, as boxes: a work
				     * instruction is read and written back where it stands */
	bool replay;                /* an entry a primary accepted (a standby, a restore, a
				     * rebuild): the rules added with store format 4 are not
				     * checked again (apply.c "Replay") */
};

/* Apply rec, decoded by hw_record_decode(), at c->lsn. A record hw_validate_record()
 * passed gets the state rules alone; any other record the decoder accepts is safe too:
 * what apply reads that validation would refuse (a tenant or facility it cannot keep, an
 * enum number it cannot name, a vessel cell without a visit) is refused here, never
 * asserted on or written. Returns 0 when the state was changed; an HW_E* reject code
 * (hw_is_reject) with rej filled when a rule refuses it, in which case nothing was
 * written; or a storage error straight from LMDB (an errno value > 0 or an MDB_* code),
 * in which case the caller must abort the transaction. */
int hw_apply(const struct hw_apply_ctx *c, const Tos__V1__Record *rec, struct hw_reject *rej);

#endif
