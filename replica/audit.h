/* audit.h: reading hawser's own records back out of a store's log: node events (the
 * audit trail, `hawser audit`) and checkpoints (replica/checkpoint.h). They are kept in
 * the log only, so this walks it. */
#ifndef HW_REPLICA_AUDIT_H
#define HW_REPLICA_AUDIT_H

#include <stdint.h>

#include "replica/entry.h"
#include "tos.pb-c.h"

struct hw_store;

/* Called for each system record, oldest first: e is its entry (LSN, epoch, time), rec
 * the decoded record; both valid only during the call. A non-zero return stops the walk
 * and is returned by hw_audit_walk. */
typedef int hw_audit_cb(void *arg, const struct hw_entry *e, const Tos__V1__Record *rec);

/* Walk s's committed log in one read transaction (any thread, a live store too) and call
 * cb for every checkpoint and node event whose entry time is at or after since_ms (0:
 * all). Entries that fail their hash or do not decode stop the walk with HW_ECORRUPT
 * (hawser verify says where). Returns 0, cb's non-zero value, HW_ENOMEM or a storage
 * error. */
int hw_audit_walk(struct hw_store *s, int64_t since_ms, hw_audit_cb *cb, void *arg);

/* hw_audit_walk newest first, over at most entries_max of the newest entries (system or
 * not): for finding the last event of some kind without reading a long log through. */
int hw_audit_walk_back(struct hw_store *s, uint64_t entries_max, hw_audit_cb *cb, void *arg);

#endif
