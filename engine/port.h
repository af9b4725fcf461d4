/* port.h: a listening port's sessions before their Hello, as a node's client and
 * replication ports (engine/node.c) and the witness's port (engine/witness.c) hold them:
 * which one a full port lets go for a newcomer, and the closing of one whose Hello is
 * late (engine/io/ring.h hw_conn_hello_late), so that connections that never say who they
 * are (a flood of them from a machine with no key) cannot keep a standby, a voter or a
 * client out, nor fill the log with a line each. The owner keeps its sessions and their
 * counts; it hands in a look at them. Loop thread only. */
#ifndef HW_ENGINE_PORT_H
#define HW_ENGINE_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"

struct hw_conn;
struct hw_listener;

/* A session that has not said its Hello: its connection, its peer (hw_conn_peer()) and
 * the loop time of its accept. */
struct hw_port_unsaid {
	struct hw_conn *conn;
	const char *peer;
	int64_t accepted_ms;
};

/* Whether the owner's session in slot i has not said its Hello and may still be displaced
 * (not one displaced already, nor one closing, whose refusal is on its way); if so, what
 * hw_port_evict needs of it into *out. */
typedef bool hw_port_unsaid_cb(void *arg, uint32_t i, struct hw_port_unsaid *out);

/* A port's sessions as hw_port_evict looks at them. */
struct hw_port_view {
	const char *name;   /* the port, as its log lines name it (port=NAME) */
	uint32_t slots;     /* the slots 0..slots-1 unsaid is asked about */
	int64_t own_age_ms; /* a session of the newcomer's own host goes only once silent this
			     * long (0: at any age) */
	hw_port_unsaid_cb *unsaid;
	void *arg;
	struct hw_log_every *every; /* the port's own session_evicted lines (its hw_port_logs'
				     * evicted) */
};

/* The port p's sessions are all taken as c comes, at loop time now: close (HW_EBUSY) one
 * that has not said its Hello, so that c may have its place. The one closed is the oldest
 * of the host that holds the most such sessions: another host's when it holds more than
 * c's own (a standby, a voter or a client dialing through a flood gets in, and neither a
 * flood nor a newcomer from the same host as a peer mid-handshake cuts that peer, unless
 * its host holds more), else c's own once silent p->own_age_ms (a flood from one host
 * displaces its own connections; a burst of real clients from one host, whose handshakes
 * and Hellos take milliseconds, is not cut by its own newcomers when own_age_ms says so).
 * Hosts are told apart up to a bound (port.c HOSTS_MAX); the sessions of more go
 * uncounted. Logs session_evicted (peer, port, waited_ms, reason=port_full, by). Returns
 * the slot of the session closed, which the owner counts no more (its on_close comes
 * later), or -1 when none may go: c is to be refused (HW_EBUSY). */
int hw_port_evict(const struct hw_port_view *p, const struct hw_conn *c, int64_t now);

/* The choice hw_port_evict makes for a newcomer from peer (HOST:PORT), without closing or
 * logging: the slot, or -1. */
int hw_port_evictee(const struct hw_port_view *p, const char *peer, int64_t now);

/* Close c (-ETIMEDOUT), a session of port that has said no Hello since its accept at
 * accepted_ms and is late at now (hw_conn_hello_late). Logs session_closed (peer, port,
 * code=ETIMEDOUT, reason=no_hello, waited_ms) through *every, port's hw_port_logs' closed:
 * its only line (no session_lost after it). */
void hw_port_close_late(struct hw_conn *c, const char *port, int64_t accepted_ms, int64_t now,
			struct hw_log_every *every);

/* The lines of one port's sessions that a flood repeats per connection (session_evicted
 * by hw_port_evict, session_closed by hw_port_close_late, session_lost by hw_port_lost,
 * frame_refused by engine/io/frame.h hw_frames_take through refused, channel_refused and
 * channel_cut by the ring, engine/io/ring.h hw_listener_logs, session_closed by
 * hw_port_closed, and peer_refused of a Hello the port refuses by hw_port_refused):
 * each written in full HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS, then counted in one
 * line that names the port (and the reason) as the lines in full do
 * ("event=session_evicted peer=* port=client reason=port_full more=N in_ms=MS"), so that
 * the count says which port a flood hit, and a flood on one of a node's two ports leaves
 * the other's lines in full. Set up by hw_port_logs_init, in place (the counters' what
 * point into it); loop thread only. */
struct hw_port_logs {
	struct hw_log_every evicted; /* session_evicted ... reason=port_full */
	struct hw_log_every closed;  /* session_closed ... reason=no_hello */
	struct hw_log_every lost;    /* session_lost, but a known peer's (a node's ports only) */
	struct hw_log_every refused; /* frame_refused, before a Hello or after */
	struct hw_log_every said;    /* session_closed for a frame the session sent
				      * (hw_port_closed; a node's ports only) */
	struct hw_log_every refused_peer; /* peer_refused of a Hello the port refuses
					   * (hw_port_refused) */
	struct hw_log_every channel_refused, channel_cut; /* the channel's, of the port's
							   * connections (hw_port_logs_listen) */
	const char *port;            /* its name, as hw_port_logs_init took it */
	char evicted_what[48], closed_what[48], port_what[32];
};

/* Set l up for port (its name as its lines say it: client, replication, witness; a
 * string that outlives l). */
void hw_port_logs_init(struct hw_port_logs *l, const char *port);

/* Have the ring count l's channel_refused and channel_cut lines of the connections
 * listener accepts, and name its port in them (engine/io/ring.h hw_listener_logs). l
 * outlives listener. */
void hw_port_logs_listen(struct hw_port_logs *l, struct hw_listener *listener);

/* Log session_lost (peer, l's port, code) of a session of l's port that ended with code
 * at now, a loss no other line tells of (not a close of the node's own: 0, HW_ECLOSED, a
 * displacement, a late Hello, a malformed frame but a known peer's): in full when it is a
 * known peer's (known: a standby's or a voter's, by the node id its Hello gave, which a
 * node with a key checks against the key it pins), else through l's lost counter, as a
 * flood of connections repeats it (before their Hello, or after one, which on an
 * insecure node anyone may say). */
void hw_port_lost(struct hw_port_logs *l, const char *peer, int code, bool known, int64_t now);

/* Log session_closed (peer, l's port, code) of a session of l's port that the node closed
 * with code at now for a frame it sent (one it may not send then, a HEARTBEAT before its
 * Hello say, or one the node could not take): in full when it is a known peer's (as
 * hw_port_lost), else through l's said counter, as a flood of connections repeats it. */
void hw_port_closed(struct hw_port_logs *l, const char *peer, int code, bool known, int64_t now);

/* A peer_refused line of l's port at now, of a Hello the port refuses that a flood of
 * connections may repeat (another cluster or version; no standby, vault or voter the
 * port's owner knows; a vault behind the primary's log; on the witness, a key not pinned
 * as the voter said): the port's name to write in it, HW_FLOOD_LOG_LINES times per
 * HW_FLOOD_LOG_MS; NULL past them, the line counted (l's refused_peer) and not written. */
const char *hw_port_refused(struct hw_port_logs *l, int64_t now);

/* Write l's counts of the lines left out, for each counter whose interval has passed at
 * now (hw_log_every_flush): call it from a timer. */
void hw_port_logs_flush(struct hw_port_logs *l, int64_t now);

#endif
