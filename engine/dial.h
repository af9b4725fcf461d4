/* dial.h: the socket connects of a client's search for the primary, overlapped.
 *
 * A client following a cluster (include/hawser.h) looks for the primary among up to
 * HW_DIAL_MAX addresses, in rounds. Dialled strictly one after another, an address whose
 * host is gone (no RST: its SYNs go unanswered) held up the addresses after it for the
 * whole connect timeout, a round at a time, and so the client's view of a failover.
 *
 * Here a round dials the addresses in its order as before, but a connect still under
 * way after HW_DIAL_STAGGER_MS no longer holds up the next one (as RFC 8305 staggers its
 * attempts); a dial that fails, or whose socket is taken, ends its turn at once. The
 * caller takes the sockets as they connect (among those connected together, in the
 * round's order), says hello on each in turn, and keeps the first that answers as it
 * wants. When the caller says a node has answered (as a standby) and the only dials left
 * are connects that have had their stagger, the round ends without waiting for them;
 * they go on connecting, and a later round takes them if they connect. So on a network
 * that connects within the stagger, nodes see one connection at a time, as before, and
 * a silent host costs a round its stagger, not the connect timeout, unless no other node
 * answers at all: then the round waits for it.
 *
 * Each dial has its own deadline, from its start; the time the caller spends on one
 * connected socket (its handshake and Hello) is not charged to the others
 * (hw_dials_charge). A TCP address that resolves to several addresses tries them in
 * turn, as one dial. Plain POSIX sockets and poll(), on the caller's thread (a lookup
 * has one of its own).
 *
 * A host name is resolved at its first dial of a search, and what it resolved to is kept
 * for every later round of the search (hw_dials_close ends one). The lookup is bounded by
 * the dial's own deadline: it runs on a thread of its own (engine/lookup.h, getaddrinfo),
 * and one not done when the dial's timeout runs out is a failed resolution, said on
 * stderr ("lookup timed out"), as one the resolver failed is ("lookup failed"). So a
 * resolver that does not answer (its server down, as it may be in the outage that made
 * the search) costs a search at most one dial's timeout per name, however long its own
 * timeouts (resolv.conf). Within a search a name is resolved again only when its
 * addresses are stale, its last dial having connected to none of them (the node moved; or
 * its host is down, and a resolver that works answers at once), and not after a
 * resolution that failed: what it resolved to before is kept and dialled meanwhile, and
 * the dial's code is -EHOSTUNREACH when there is nothing (-errno for a system error of
 * the resolver's). A timed out lookup goes on, at most one a name: a later dial of the
 * search takes its answer if it has come, and the next search waits for it (within its
 * dial's timeout) rather than begin another. The next search resolves every name again,
 * so a name moved while its old address still answers (repointed at a failover) is
 * followed. */
#ifndef HW_ENGINE_DIAL_H
#define HW_ENGINE_DIAL_H

#include <stdbool.h>
#include <stdint.h>

struct addrinfo;
struct hw_lookup;

#define HW_DIAL_MAX        8u
#define HW_DIAL_STAGGER_MS 200

struct hw_dial {
	int fd;                /* connecting or connected; -1: none */
	int rc;                /* why the last attempt failed; 0: none has */
	bool connected;        /* fd is connected, blocking, not yet taken */
	int64_t deadline;      /* hw_mono_ms() by which it must connect */
	struct addrinfo *next; /* TCP: the next of its name's addresses to try */
};

/* A TCP address's host name, resolved as the top says. */
struct hw_dial_name {
	struct addrinfo *res; /* what it resolved to last; NULL: nothing yet */
	bool stale;           /* no dial has connected to res since: resolve again */
	int failed;           /* why a resolution failed in this search (0: none did) */
	struct hw_lookup *lookup; /* a lookup under way (or done, not yet taken); NULL: none */
	bool lookup_old;          /* lookup began in an earlier search */
};

/* Dials by address index; a round visits them in order[]. */
struct hw_dials {
	struct hw_dial d[HW_DIAL_MAX];
	struct hw_dial_name names[HW_DIAL_MAX];
	const char *addrs[HW_DIAL_MAX];
	uint32_t n;
	uint32_t order[HW_DIAL_MAX];
	uint32_t count;     /* order[0..count): this round's addresses */
	uint32_t started;   /* order[0..started) have begun this round (or go on) */
	int timeout_ms;     /* each dial's */
	int64_t stagger_at; /* when order[started] may begin with another connecting */
};

/* Dials to addrs[0..n) ("HOST:PORT", "[v6]:PORT" or "unix:/path"; the strings must outlive
 * ds), none under way yet, no name resolved yet; each dial (a host name's lookup, then
 * the connect) will be bounded by timeout_ms from its start. Once for the handle: searches follow
 * each other, each ended by hw_dials_close. */
void hw_dials_init(struct hw_dials *ds, const char *const *addrs, uint32_t n, int timeout_ms);

/* Begin a round over the addresses from index first on (wrapping), but for skip (an index
 * to leave out of this round, its connect under way closed: a node the caller passes
 * over; HW_DIAL_MAX or more: none). Connects still under way from the last round go on,
 * within their deadlines; every other address (one whose deadline passed meanwhile too)
 * is dialled again in its turn. */
void hw_dials_round(struct hw_dials *ds, uint32_t first, uint32_t skip);

/* Wait for the next connected socket: 0 with *i its address index and *fd the socket,
 * blocking, now the caller's (TCP: no Nagle, keep-alive and a user timeout set, as every
 * client connection has). Among several connected at once, the first in the round's
 * order. The caller may put why it gave a taken socket up in d[*i].rc. answered: a node
 * has answered this round, so connects that have had their stagger are not waited for.
 * -errno of poll() (-EINTR for a caught signal, also while a host name's lookup is
 * waited for: the lookup goes on, for the next dial), or when the round is over, the last
 * code in its order that is not 0 (-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH also for a host
 * name that did not resolve (its lookup failed or timed out), -EAGAIN for a Unix socket's
 * full backlog, one the caller put ...), 1 when there is none. */
int hw_dials_next(struct hw_dials *ds, bool answered, uint32_t *i, int *fd);

/* The caller spent ms on a socket it took: move every other dial's deadline on by it. */
void hw_dials_charge(struct hw_dials *ds, int64_t ms);

/* The search is over: close every socket not taken. What the names resolved to is kept
 * for the next search, which may resolve each of them once more, and so are lookups
 * still under way. */
void hw_dials_close(struct hw_dials *ds);

/* hw_dials_close, and free what the names resolved to: the handle is done with ds. A
 * lookup still under way is dropped, freed by its thread when it ends (engine/lookup.h):
 * this does not wait for it. */
void hw_dials_fini(struct hw_dials *ds);

/* watched: the node on fd (taken from hw_dials_next) promised heartbeats, whose silence
 * the client watches from now on, waiting to read or to write (engine/client.c): lift the
 * bound on unacknowledged data the dial set, which would end the connection to a live
 * node that reads nothing for 5 s (back-pressure: its window stays shut while it still
 * sends). !watched: set the bound, as every dial does before the Hello. The keep-alive
 * of an idle connection stays. A no-op on a Unix socket. */
void hw_dial_heartbeats(int fd, bool watched);

#endif
