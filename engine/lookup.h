/* lookup.h: a host name's lookup (getaddrinfo) run on a thread of its own, so that whoever
 * needs the answer waits for it no longer than it chooses.
 *
 * getaddrinfo blocks for as long as the system resolver takes: its own timeouts and
 * attempts per server (resolv.conf), a minute or more when its DNS servers do not answer,
 * as they may not in the outage that makes a client search for a new primary. Nothing
 * can cut it short, so it runs on a detached thread (all signals blocked there: the
 * process's signals go to its own threads) and the caller waits with a deadline
 * (hw_lookup_wait). A lookup not done by then is not cancelled, since it cannot be: it goes
 * on, and the caller may wait for it again later, take its answer once done, or drop it
 * (hw_lookup_drop), and then whichever of the two lets go of it last, the caller or the
 * thread, frees it: the thread never writes to memory the caller freed, and the caller
 * never waits for the thread to end.
 *
 * glibc's getaddrinfo_a() + gai_suspend() would bound the wait too, but its request
 * stays in use by glibc's thread after a gai_cancel() that returns EAI_NOTCANCELED (an
 * answer under way, the common case), with no word when it is done short of a SIGEV
 * notification thread per request; and it calls glibc's getaddrinfo inside libc, past a
 * getaddrinfo of the program's own (tests/integration/test_client.c's). A plain thread
 * has neither problem, and is POSIX. Each lookup costs a thread for as long as the
 * resolver takes: engine/dial.c keeps at most one under way per address of a client. */
#ifndef HW_ENGINE_LOOKUP_H
#define HW_ENGINE_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

struct addrinfo;
struct hw_lookup;

/* Begin looking up host and port (any address family, SOCK_STREAM) on a new thread, or
 * done at once when host is an IP address; the strings are copied. 0 with *out, which the caller
 * ends with hw_lookup_take or hw_lookup_drop; -EINVAL for a host or port longer than
 * HW_ADDR_CHARS_MAX, HW_ENOMEM, or -errno of pthread_create (-EAGAIN: no thread to be had). Any
 * thread. */
int hw_lookup_start(const char *host, const char *port, struct hw_lookup **out);

/* Wait until l is done or deadline (hw_mono_ms()) comes, whichever is first; a deadline
 * passed already just looks. Whether l is done. A caught signal does not end the wait.
 * The thread that holds l. */
bool hw_lookup_wait(struct hw_lookup *l, int64_t deadline);

/* l is done (hw_lookup_wait said so): its answer, and l is freed. 0 with *res, the
 * addresses (the caller frees them with freeaddrinfo); or, when it failed, -errno
 * (EAI_SYSTEM) or else -EHOSTUNREACH, with *why saying why (a static string). */
int hw_lookup_take(struct hw_lookup *l, struct addrinfo **res, const char **why);

/* The caller is done with l, done or not: freed now, or by its thread once getaddrinfo
 * returns. NULL is a no-op. */
void hw_lookup_drop(struct hw_lookup *l);

#endif
