/* flood.h: a keyless flood of silent TCP connections to one loopback address, from another
 * host (127.0.0.2), on a thread of the test: it keeps HW_FLOOD_CONNS connections open or
 * on their way at once, never sends a byte, and makes each one the peer closes again at
 * once, counting it. What a machine with no key does to take a port's sessions and
 * descriptors (docs/security.md). The test process needs HW_FLOOD_CONNS descriptors more.
 *
 * Like proc.h, nothing here asserts: functions return 0 or a negative code. */
#ifndef HW_TESTS_FLOOD_H
#define HW_TESTS_FLOOD_H

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* Silent connections the flood keeps open or on their way at once. */
#define HW_FLOOD_CONNS 600u

struct hw_flood {
	struct sockaddr_in to, from; /* from: the flood's own host, 127.0.0.2 */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_ulong cut; /* connections the peer closed (EOF or reset) */
	struct pollfd p[HW_FLOOD_CONNS];
};

/* Start flooding addr ("127.0.0.1:PORT"). 0, -EINVAL for another address, or
 * pthread_create's error (negated). */
int hw_flood_start(struct hw_flood *fl, const char *addr);

/* Connections the peer has closed so far. Any thread. */
unsigned long hw_flood_cut(struct hw_flood *fl);

/* Stop the flood and close its connections; a no-op when it is not running (a zeroed
 * struct hw_flood, or stopped already): safe from a teardown. */
void hw_flood_stop(struct hw_flood *fl);

#endif
