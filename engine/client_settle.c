/* client_settle.c: the outcomes a client still owes its caller (client_settle.h). */
#include "engine/client_settle.h"

int hw_client_settle(struct hw_client *c, int timeout_ms, const uint64_t *outstanding,
		     hw_settle_cb *cb, void *arg)
{
	while (*outstanding > 0) {
		struct hw_outcome o;
		int rc = hw_client_wait(c, timeout_ms, &o);
		if (rc == 0)
			rc = cb(arg, &o);
		if (rc)
			return rc;
	}
	return 0;
}
