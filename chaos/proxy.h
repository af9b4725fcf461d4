/* proxy.h: a fault-injecting TCP proxy for tests: it listens on a loopback port and
 * forwards every connection it accepts to one target, byte for byte, until a test
 * switches a fault on: drop everything (a partition that keeps sockets open), flip one
 * bit once at a chosen stream offset, drop a run of bytes once mid-stream, cut every
 * connection, or hold bytes back for a delay. Faults act on bytes as they are read,
 * whatever the protocol.
 *
 * One thread runs the proxy's poll() loop: hw_proxy_start() makes that thread (a test
 * keeps its own thread free to drive processes), or a caller runs hw_proxy_run() on a
 * thread of its own. The control calls (hw_proxy_pass ... hw_proxy_stats) may be made
 * from any thread while the loop runs; they take effect at the loop's next iteration.
 *
 * Addresses are IPv4 "HOST:PORT" (tests run on loopback, DESIGN.md's test rules). */
#ifndef HW_CHAOS_PROXY_H
#define HW_CHAOS_PROXY_H

#include <stdint.h>

/* Connection pairs a proxy holds at once; a further connection is closed at accept.
 * A node has one replication connection per standby; reconnects replace old ones. */
#define HW_PROXY_PAIRS_MAX 16u
/* Bytes buffered per direction of a pair: enough for a full 4 MiB frame to pass in
 * pieces, small enough that the proxy applies back-pressure like a real path. */
#define HW_PROXY_BUF_BYTES (256u * 1024u)
/* Reads remembered per direction for delay: each read is released as a whole. */
#define HW_PROXY_MARKS_MAX 4096u
/* Longest delay: a test that wants a longer one wants a partition (blackhole). */
#define HW_PROXY_DELAY_MS_MAX 60000

struct hw_proxy;

/* Directions of a connection pair: up is what the connecting side (the client) sends to
 * the target; down is what the target sends back. */
enum hw_proxy_dir { HW_PROXY_UP = 0, HW_PROXY_DOWN = 1 };

struct hw_proxy_stats {
	uint64_t accepted;     /* connections accepted since hw_proxy_new */
	uint64_t active;       /* pairs open now */
	uint64_t forwarded[2]; /* bytes written to the other side, per direction */
	uint64_t dropped[2];   /* bytes read and thrown away by a blackhole or hw_proxy_drop,
				* per direction */
	uint64_t flipped;      /* bits flipped by hw_proxy_corrupt (0 or 1 per arming) */
	uint64_t cut;          /* pairs closed by hw_proxy_cut */
};

/* Make a proxy listening on listen ("127.0.0.1:0" picks a free port) that forwards to
 * target. It passes bytes unchanged until told otherwise. Returns 0, -EINVAL for a bad
 * address, -errno when the socket cannot be bound, HW_ENOMEM. Nothing runs until
 * hw_proxy_start() or hw_proxy_run(). */
int hw_proxy_new(const char *listen, const char *target, struct hw_proxy **out);

/* The address it listens on, "127.0.0.1:PORT" with the port it got (borrowed). */
const char *hw_proxy_addr(const struct hw_proxy *p);

/* Run the loop on a new thread. 0 or -errno. */
int hw_proxy_start(struct hw_proxy *p);

/* Run the loop on the calling thread until hw_proxy_stop(). 0, or -errno if poll()
 * failed. */
int hw_proxy_run(struct hw_proxy *p);

/* Ask the loop to return. Any thread. */
void hw_proxy_stop(struct hw_proxy *p);

/* Stop the loop (joining the thread hw_proxy_start made), close every socket and free.
 * NULL is a no-op. Not from the loop's thread. */
void hw_proxy_free(struct hw_proxy *p);

/* Forward unchanged, with no delay (clears blackhole and delay; an armed corruption
 * stays armed). */
void hw_proxy_pass(struct hw_proxy *p);

/* Read and drop every byte in both directions, on open and new connections, until
 * hw_proxy_pass(). Connections stay open: the peers see silence, not a close. */
void hw_proxy_blackhole(struct hw_proxy *p);

/* Flip one bit (0x10) of the byte at offset after_bytes from now in direction dir,
 * counted over every connection in bytes that pass (a blackhole's dropped bytes do not
 * count): 0 is the next byte to pass. Once: the fault disarms itself after the flip. */
void hw_proxy_corrupt(struct hw_proxy *p, enum hw_proxy_dir dir, uint64_t after_bytes);

/* Throw away count bytes once, starting at offset after_bytes from now in direction dir
 * (counted like hw_proxy_corrupt), and keep the connection open: the receiver reads the
 * rest of the stream shifted, as after bytes lost in flight on a path that kept the TCP
 * connection. Re-arming replaces an armed drop; count 0 disarms. */
void hw_proxy_drop(struct hw_proxy *p, enum hw_proxy_dir dir, uint64_t after_bytes, uint64_t count);

/* Close both sides of every open connection now (a one-shot cut; later connections are
 * accepted and forwarded as before). */
void hw_proxy_cut(struct hw_proxy *p);

/* Hold each read for delay_ms (0 ... HW_PROXY_DELAY_MS_MAX) before it is forwarded. */
void hw_proxy_delay(struct hw_proxy *p, int delay_ms);

/* A copy of the counters. Any thread. */
void hw_proxy_stats(struct hw_proxy *p, struct hw_proxy_stats *out);

#endif
