/* client_settle.h: taking every outcome a client still owes a caller that counts its
 * submits in flight, so that nothing acknowledged is counted as lost: at the end of a
 * run, and after a hw_client_submit() or hw_client_flush() that failed. A submit's error
 * (a lost connection, among others) says nothing of the submits before it: the outcomes
 * that arrived before the loss wait in the client and come through its waits, before
 * the loss (include/hawser.h, hw_client_wait). */
#ifndef HW_ENGINE_CLIENT_SETTLE_H
#define HW_ENGINE_CLIENT_SETTLE_H

#include <stdint.h>

#include "hawser.h"

/* Called with each outcome taken; counts it and counts down the caller's *outstanding
 * (an outcome of no submit of the caller's leaves it as it is). Returns 0 to go on, else
 * a code that ends hw_client_settle() with it. */
typedef int hw_settle_cb(void *arg, const struct hw_outcome *o);

/* Wait for the outcomes of c's submits in flight, each wait up to timeout_ms (< 0:
 * forever), and hand each to cb(arg, ...) until *outstanding, which cb counts down, is
 * 0. Returns 0 then; else what ended it: the client's error (HW_ECLOSED for a lost
 * connection, after the outcomes that came before it), -ETIMEDOUT when no outcome came
 * within timeout_ms, or cb's code. What is still outstanding then has no outcome: it
 * may or may not be stored (resubmit it with the same record_id to know). The thread
 * that owns c. */
int hw_client_settle(struct hw_client *c, int timeout_ms, const uint64_t *outstanding,
		     hw_settle_cb *cb, void *arg);

#endif
