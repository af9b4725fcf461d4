/* client_int.h: what the hawser command needs from a client connection beyond the public
 * API of include/hawser.h: a node's status, for `hawser status`, and the other requests of
 * an operator's commands (engine/client_request.c); and, last, the one request primitive
 * those are built on (engine/client.c). */
#ifndef HW_ENGINE_CLIENT_INT_H
#define HW_ENGINE_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/io/frame.h"
#include "hawser.h"

struct ProtobufCMessage;

/* Ask the node for its status (a STATUS_REQUEST frame asking for peers) and wait up to
 * timeout_ms (< 0: forever) for the STATUS frame. On success *body is a malloc'd copy of
 * the frame's body, a protobuf hawser.wire.v1.Status (proto/wire.proto) for the caller to
 * decode and free(), and *len its length. Call it with no submit outstanding: any other
 * frame in between is HW_EPROTOCOL. Errors as for hw_client_wait(), plus HW_ENOMEM and
 * the code of an ERROR frame the node sent instead: the node answers a request it does
 * not serve (now) that way and keeps the connection, so c stays good for the next call
 * (a node that closes after all: the next call says HW_ECLOSED). A request that timed
 * out (-ETIMEDOUT) is still answered later: the next request skips that answer and waits
 * for its own, and hw_client_wait() skips it among the outcomes of submits made since.
 * The calling thread owns c. */
int hw_client_status(struct hw_client *c, int timeout_ms, uint8_t **body, size_t *len);

/* Ask the primary to hand over to node to (a SWITCHOVER_REQUEST frame) and wait up to
 * timeout_ms for its SWITCHOVER_REPLY: *code gets the node's answer (0: started, else
 * the HW_E* code) and why[0..cap) its reason. Returns 0 when a reply came, else errors
 * as for hw_client_status(). Call it with no submit outstanding. */
int hw_client_switchover(struct hw_client *c, const char *to, int timeout_ms, int *code, char *why,
			 size_t cap);

/* Send a PROMOTE_REQUEST (accept: start a forced election accepting the loss
 * [from, to]; else list the loss) to a standby and wait up to timeout_ms for its
 * PROMOTE_REPLY; *body is a malloc'd copy of it (wire.proto PromoteReply) for the caller
 * to decode and free(). Errors as for hw_client_status(). */
int hw_client_promote(struct hw_client *c, bool accept, uint64_t from, uint64_t to, int timeout_ms,
		      uint8_t **body, size_t *len);

/* Put an event of kind (tos.v1.NodeEventKind DRILL, EXPORT, RESTORE or OPERATOR) with
 * detail (at most 200 bytes) in the node's audit trail (an OPERATOR_EVENT frame) and
 * wait up to timeout_ms for its reply. The node names this connection's key as the
 * operator's. 0 when it took the event (appended, or held by a standby until it is
 * primary), HW_ERANGE for another kind or a longer detail, else errors as for
 * hw_client_status(). Call it with no submit outstanding. */
int hw_client_operator_event(struct hw_client *c, unsigned kind, const char *detail,
			     int timeout_ms);

/* Ask the node to crash itself (a DRILL_FAULT frame, wire.proto DrillFault: `hawser
 * drill failover --connect`) and wait up to timeout_ms for its reply, sent just before
 * it exits. 0 when it took the request, HW_EFAULT_OFF when its config does not allow
 * faults or this connection has no pinned key, else errors as for hw_client_status().
 * Call it with no submit outstanding. */
int hw_client_drill_crash(struct hw_client *c, int timeout_ms);
/* Ask the node (a primary of a [failover] cluster) to cut its voter and replication links
 * for duration_ms (wire.proto DrillFault ISOLATE); its client port stays open. 0 once it
 * is cut off, HW_EFAULT_OFF as above, HW_ENOT_PRIMARY from a standby, HW_ECONFIG without
 * [failover], HW_ERANGE for a duration_ms outside 1..600000, else errors as for
 * hw_client_status(). Call it with no submit outstanding. */
int hw_client_drill_isolate(struct hw_client *c, uint32_t duration_ms, int timeout_ms);

/* Ask the node for its state digest at lsn (0: at its store's head now), replaying at
 * most replay_max log entries for it (0: the node's own ceiling): a DIGEST_QUERY frame,
 * `hawser drill verify --connect`. Waits up to timeout_ms for the DIGEST_REPLY; *body is
 * a malloc'd copy of it (wire.proto DigestReply: its code says whether the node could
 * answer) for the caller to decode and free(). HW_EBUSY while another query runs on the
 * node (c stays good: ask again later), else errors as for hw_client_status(). *answered
 * says whether the node answered the query at all: true with 0, with the code of an ERROR
 * frame it answered with, with HW_EPROTOCOL for a frame of another type or a malformed
 * ERROR and with HW_EFRAME for a damaged frame; false when nothing came (the connection
 * failed or closed, -ETIMEDOUT, c failed before with another code) or HW_ENOMEM lost the
 * answer here. Call it with no submit outstanding. */
int hw_client_digest(struct hw_client *c, uint64_t lsn, uint64_t replay_max, int timeout_ms,
		     uint8_t **body, size_t *len, bool *answered);

/* The connection's socket, so one thread can poll() many connections (the bench). Only
 * for POLLIN: read nothing from it yourself. Readable, or hw_client_ready(c), means
 * hw_client_wait(c, 0, ...) will make progress; outcomes may also sit buffered in c
 * already, so call it until -ETIMEDOUT after each readable event. Poll it only while
 * hw_client_ready(c) is false: a submit (or flush, or a wait's resend) that waited to be
 * written takes what the node sent meanwhile into c, and the socket then stays unreadable
 * with those outcomes in c. -1 while a following client searches for a new primary or
 * resends to it what was in flight (hw_client_connect): nothing to poll then, call
 * hw_client_wait() again. */
int hw_client_fd(const struct hw_client *c);

/* Whether hw_client_wait(c, 0, ...) returns at once without the socket: a frame (an
 * outcome) waits in c, taken while a submit waited to be written (a node under
 * back-pressure), or the connection is lost or failed (the wait says so, after the
 * outcomes that arrived before). False while hw_client_fd(c) is -1 for a search. Any
 * thread that owns c; cheap (no system call). */
bool hw_client_ready(const struct hw_client *c);

/* The address c is connected to, as its list gave it (ID@ included; borrowed). */
const char *hw_client_addr(const struct hw_client *c);

/* How long c hears nothing from its node before the connection counts as lost
 * (hw_tg_client_silence_ms of the heartbeat_ms the node's Hello promised; 0: it promised
 * none): `hawser plan --measure` counts it against the RTO. */
int64_t hw_client_silence_ms(const struct hw_client *c);

/* How many connections c has opened so far: each that reached a node's Hello (its first,
 * a following client's searches, those to a standby it then closed included, and
 * hw_client_reconnect()'s). It only grows, and an outcome hw_client_wait() returns came
 * on the connection c had when it returned (a lost connection's outcomes come before the
 * search that replaces it; hw_client_reconnect() drops those not read), so a caller that
 * noted it can tell an outcome that came on a connection opened since: `hawser drill
 * failover` tells a restarted node from the process it killed that way. The calling
 * thread owns c. */
uint32_t hw_client_connects(const struct hw_client *c);

/* ---- for engine/client_request.c */

/* Send the request message q as one frame of type req_type (held submits go first) and
 * wait up to timeout_ms (< 0: forever) for the node's reply of type reply_type, skipping
 * heartbeats and the answers still owed to earlier requests that timed out. On 0, *f is
 * the reply, its body valid until the next read on c. An ERROR frame instead is the
 * node's answer: its code is returned and c stays good. Else -ETIMEDOUT (not sticky),
 * HW_ERANGE for a message over 256 bytes, HW_EPROTOCOL for another frame (sticky), or the
 * connection's sticky error. On an error *f is the frame the node answered with (an ERROR,
 * or the other frame), or zeroed, type 0, when no frame answered (a damaged frame
 * included: HW_EFRAME). The calling thread owns c. */
int hw__client_request(struct hw_client *c, enum hw_frame_type req_type,
		       const struct ProtobufCMessage *q, enum hw_frame_type reply_type,
		       int timeout_ms, struct hw_frame *f);

/* A reply that cannot be decoded: c's stream is done for, with code from now on (as for
 * every later call); returns the sticky code. */
int hw__client_fail(struct hw_client *c, int code);

#endif
