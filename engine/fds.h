/* fds.h: how many connections each of a node's ports may hold, from its descriptor limit.
 *
 * Every connection a node accepts holds a descriptor from its accept to its close,
 * authenticated or not, and what the node opens later needs descriptors too: a new log
 * segment, a flusher's file, a snapshot, an outgoing connection. An open() that finds
 * none fails (EMFILE), so connections must not be allowed to take them all. At start a
 * node raises its soft RLIMIT_NOFILE to the hard one, as servers do (nginx's
 * worker_rlimit_nofile, HAProxy's ulimit-n, PostgreSQL's max_safe_fds), counts what it
 * has open, keeps HW_FDS_RESERVED for what it opens later and shares the rest between
 * its ports, whose listeners never hold more (engine/io/ring.h hw_listen). The
 * replication port is served first, up to half, so a flood of the client port can never
 * keep standbys and voters out, nor take the descriptors of the log.
 *
 * Loop thread, at start (node.c open_ports). */
#ifndef HW_ENGINE_FDS_H
#define HW_ENGINE_FDS_H

#include <stdint.h>

/* Descriptors kept for what a node opens after its ports: its store and log, which a
 * start opens after them so that a port that cannot listen leaves no new store behind
 * (node.c node_start: data file, lock file, flush descriptors, the log's segment;
 * measured 5, counted 8); its log's new segment, a file per flusher and a directory
 * opened to flush it (4); a snapshot sent and one received, each a copy and its
 * directory (4); connections it dials, to its primary and to the other voters and the
 * witness (HW_EL_VOTERS_MAX, 9); eventfds and files of threads started later (digest,
 * checkpoint, audit) and of libc (the resolver), about 15: some 40, and as many again
 * for what this count forgets. */
#define HW_FDS_RESERVED 80u
/* The fewest connections a port that listens may hold: a limit that leaves fewer is too
 * low to run a node on (hw_fds_budget: -EMFILE). */
#define HW_FDS_PORT_MIN 8u

/* The ports, as indices of want and conns_max: a node's session's repl flag. */
enum hw_fds_port { HW_FDS_CLIENT = 0, HW_FDS_REPL = 1 };

struct hw_fds_budget {
	uint64_t limit;        /* the soft RLIMIT_NOFILE the node runs with */
	uint64_t open;         /* descriptors it had open when the budget was made */
	uint32_t conns_max[2]; /* connections each port may hold (hw_fds_port) */
};

/* Share limit - open - HW_FDS_RESERVED descriptors between the ports, which want
 * want[port] each (0: it does not listen): the replication port gets what it wants, up
 * to half (all when the client port does not listen), the client port what it wants of
 * the rest. Fills out (limit and open too, whatever it returns). 0, or -EMFILE when a
 * port that listens would get fewer than it wants and fewer than HW_FDS_PORT_MIN.
 * Arithmetic only. */
int hw_fds_budget(uint64_t limit, uint64_t open, const uint32_t want[2], struct hw_fds_budget *out);

/* Raise the soft RLIMIT_NOFILE to the hard one (kept as it is when the kernel refuses),
 * count the descriptors open now (/proc/self/fd) and hw_fds_budget() them. 0, -EMFILE
 * as hw_fds_budget says (out filled), or -errno from getrlimit or /proc. */
int hw_fds_budget_now(const uint32_t want[2], struct hw_fds_budget *out);

#endif
