/* ring.h: TCP and Unix-domain sockets over io_uring (the only module that touches
 * liburing, ring.c).
 *
 * One ring per loop, created SINGLE_ISSUER | DEFER_TASKRUN | TASKRUN_FLAG with a
 * registered eventfd watched by the loop (engineering-notes.md §1.3): SQEs queued during
 * callbacks are submitted once per loop iteration from the loop's before-block hook, which
 * then drains the eventfd, and the eventfd callback calls io_uring_get_events() and reaps
 * every CQE (CQ overflow included). Completions are keyed by connection and generation, never
 * by fd number (fds are reused).
 *
 * A connection keeps one recv in flight into its receive buffer and hands the bytes it
 * has to on_data, which says how many it consumed (whole frames); the rest stays for the
 * next recv. It keeps at most one send in flight (io_uring does not order two sends on
 * one socket); bytes queued meanwhile go out in the next send (natural batching), short
 * sends are resumed. Closing shuts the socket down, waits for every CQE of the
 * connection, then closes the fd, then calls on_close once.
 *
 * Channel (hw_ring_set_channel, engine/io/channel.h): every connection made or accepted
 * afterwards runs the authenticated, encrypted channel inside, so its users see plaintext
 * frames: the handshake is done in here (a dialled connection's on_connect comes once it
 * is open), hw_conn_send() bytes are sealed when they go out (sends queued before the
 * handshake ends wait for it), and received records are opened before on_data sees
 * them. A refused handshake or a record that fails closes the connection with the
 * channel's code (HW_EAUTH, HW_EHANDSHAKE, HW_EDECRYPT, HW_EREPLAY ...; a dialled
 * connection the peer refused ends with HW_EHANDSHAKE), logged as channel_refused or
 * channel_failed with the peer's address and key fingerprint; each open channel is
 * logged as channel_open, with its record cipher. An accepted connection whose peer hangs
 * up during the handshake refused nothing (a port scan, a health check): it is logged as
 * channel_cut and closed with HW_ECLOSED; an accepted connection's channel_refused and
 * channel_cut lines, which a flood repeats per connection, are written in full
 * HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS at most, then counted in one line
 * (base/log.h hw_log_every), per listener that names its port (hw_listener_logs), else
 * per ring. A handshake not done 5 s after the
 * connection was made is closed with -ETIMEDOUT (logged as channel_refused); 1 s for a
 * connection refused (hw_conn_refuse) and for every connection of a listener holding three
 * quarters of its conns_max (hw_listen), so a flood of silent connections holds each
 * descriptor about a second. Send-buffer accounting counts sealed bytes in flight.
 *
 * Addresses: "HOST:PORT" (IPv4 dotted quad or "localhost", or [IPv6]:PORT) or
 * "unix:/path". Loop thread only. SIGPIPE must be ignored by the process (SEND with
 * MSG_NOSIGNAL is used, but LMDB copies to sockets can raise it). */
#ifndef HW_IO_RING_H
#define HW_IO_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "engine/io/channel.h"

struct hw_loop;
struct hw_ring;
struct hw_conn;
struct hw_fault;
struct hw_listener;
struct hw_log_every;

struct hw_conn_ops {
	/* Connected (for hw_connect; accepted connections start connected). */
	void (*on_connect)(struct hw_conn *c, void *arg);
	/* buf[0..len) holds every byte received and not yet consumed. Return how many
	 * bytes were consumed (0..len), or a negative code to close the connection with it. */
	long (*on_data)(struct hw_conn *c, void *arg, const uint8_t *buf, size_t len);
	/* Send buffer drained below half: room to queue more (back-pressure release). */
	void (*on_writable)(struct hw_conn *c, void *arg);
	/* The connection is closed. code: what hw_conn_close() was given (0 for a plain
	 * local close, also when hw_ring_free() closes it), HW_ECLOSED for EOF, HW_EFRAME
	 * when a receive buffer of one whole frame filled and on_data consumed nothing,
	 * HW_ENOMEM, or -errno (-ECONNREFUSED, -ECONNRESET, -EPIPE ...). Called once, also
	 * for a connect that failed; c is freed after it returns, but for one whose
	 * operations the kernel never completed, which hw_ring_free gives up on: its
	 * on_close still comes, the last call for it, and c is left to the kernel. */
	void (*on_close)(struct hw_conn *c, void *arg, int code);
};

/* Make a ring on loop. -ENOSYS / -EPERM with a hint printed when io_uring is disabled
 * (kernel.io_uring_disabled, seccomp); a kernel that refuses the setup flags (EINVAL,
 * before 6.1) gets a plain ring. Registers one of the loop's before-block hooks: sends
 * queued from a hook registered after it leave one iteration later, so make the ring
 * first. Any thread: the ring is made disabled and the loop's thread takes it over (as
 * its single issuer) on the loop's first iteration, so the loop may run on another
 * thread than the one that made the ring; from then on only that thread submits. Until
 * that first iteration operations only queue, and the queue holds 256: more connects,
 * listens and sends before the loop runs abort the process (an assertion). */
int hw_ring_new(struct hw_loop *loop, struct hw_ring **out);

/* Close every connection (on_close with code 0) and listener and wait (bounded) for their
 * CQEs: on the loop's thread once the loop returned, so that nothing is left in flight
 * for hw_ring_free on another thread (which could not submit the cancels). Not from
 * inside one of the ring's own callbacks. The ring stays usable for new connections. */
void hw_ring_close_all(struct hw_ring *r);

/* hw_ring_close_all, then free the ring: on the loop's thread, or on any thread when
 * hw_ring_close_all ran there after the loop returned (or the loop never ran). Not from
 * inside one of the ring's own callbacks. A connection the kernel never completed the
 * operations of (a kernel bug: its bounded wait says so on stderr) has its on_close all
 * the same, so that its owner frees what it keeps for it; its own memory, which the
 * kernel may still hold, is left. */
void hw_ring_free(struct hw_ring *r);

/* Test hook: while f fires (base/fault.h), reaping takes no completion, as a kernel that
 * never completes an operation. f (NULL: none) outlives r. */
void hw_ring_fault_reap(struct hw_ring *r, struct hw_fault *f);

typedef void hw_accept_cb(struct hw_listener *l, void *arg, struct hw_conn *c);

/* Listen on addr. Each accepted connection is handed to cb, which must call
 * hw_conn_set_ops() on it before returning. The bound address (with the real port when
 * PORT was 0) is readable with hw_listener_addr(). conns_max (1 or more) bounds the
 * connections it accepted that are not closed yet, however far their handshake got (each
 * holds a descriptor): at it no accept is armed, so the next ones wait in the kernel's
 * backlog (128) until one closes, and a line accept_paused (addr, conns, times it filled
 * since the last such line) is logged at most every 10 s. A "unix:" path's socket file
 * left by a dead process is replaced; one a live process listens on is -EADDRINUSE. */
int hw_listen(struct hw_ring *r, const char *addr, uint32_t conns_max, hw_accept_cb *cb, void *arg,
	      struct hw_listener **out);
const char *hw_listener_addr(const struct hw_listener *l);

/* hw_listen in two steps, for a daemon's start: hw_listen_bind binds addr and listens (a
 * port in use, a unix socket's directory missing fail here, and the port is held: a
 * second process is refused it) and hw_listener_start accepts. Between them a connect
 * waits in the kernel's backlog, to be served once the daemon's store is open. */
int hw_listen_bind(struct hw_ring *r, const char *addr, uint32_t conns_max, hw_accept_cb *cb,
		   void *arg, struct hw_listener **out);
void hw_listener_start(struct hw_listener *l);

/* hw_listen_bind, tried again every 20 ms for up to HW_LISTEN_PATIENCE_MS while the address
 * is in use (EADDRINUSE): a process killed a moment ago can still hold its port while the
 * kernel tears down its io_uring (a pending accept keeps the listening socket open), so a
 * restart right after a crash would fail. Before the loop runs: it sleeps. Logs
 * listen_busy once when it waits. */
#define HW_LISTEN_PATIENCE_MS 2000
int hw_listen_bind_patiently(struct hw_ring *r, const char *addr, uint32_t conns_max,
			     hw_accept_cb *cb, void *arg, struct hw_listener **out);
/* Stop accepting; l must not be used afterwards (it is freed once its accept CQE is
 * back). A Unix listener removes its socket file. Connections it accepted live on. */
void hw_listener_close(struct hw_listener *l);

/* Name l's port in the channel_refused and channel_cut lines of the connections it
 * accepts ("peer=ADDR port=NAME key=FP code=CODE") and count those lines through refused
 * and cut (base/log.h hw_log_every, their what "port=NAME"; their owner flushes them,
 * hw_log_every_flush) in place of the ring's own counts, so that a flood on one port
 * leaves another port's lines in full and its count says which port it hit. port,
 * refused and cut outlive l; once l is closed its connections' lines go through the
 * ring's counts again, naming no port. */
void hw_listener_logs(struct hw_listener *l, const char *port, struct hw_log_every *refused,
		      struct hw_log_every *cut);

/* Whether hw_connect and hw_listen take addr as it is: an IPv4 address or localhost, or
 * [IPv6], with a port; or unix:/path. A node's loop looks up no host name (it would wait
 * on DNS): names are looked up once at start (engine/resolve.h). */
bool hw_ring_addr_literal(const char *addr);

/* sa as an address hw_connect and hw_listen take (HOST:PORT, [IPv6]:PORT, unix:/path),
 * into buf[size], as logs show peers. */
void hw_ring_addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size);

/* Connect to addr; ops->on_connect or ops->on_close(code) follows. */
int hw_connect(struct hw_ring *r, const char *addr, const struct hw_conn_ops *ops, void *arg,
	       struct hw_conn **out);

/* Secure the connections made or accepted on r from now on with channels of cfg (copied
 * with its identity and pinned keys; the role is set per connection). cfg->open_max
 * bounds the records of accepted connections only: a dialed one opens any record (a
 * primary's stream to its standby carries 4 MiB frames). NULL or
 * cfg->insecure: plain sockets. Logs the choice (event=security, insecure=true|false,
 * the own key's fingerprint). Returns 0, HW_ECONFIG (no identity, no pinned key or too
 * many, cluster id too long) or HW_ENOMEM. Connections already open keep what they had. */
int hw_ring_set_channel(struct hw_ring *r, const struct hw_channel_config *cfg);

void hw_conn_set_ops(struct hw_conn *c, const struct hw_conn_ops *ops, void *arg);

/* Close c (on_close with -ETIMEDOUT) when bytes it sent stay unacknowledged ms: a peer
 * whose host vanished sends no FIN or RST, and TCP would retransmit for many minutes
 * before giving up (TCP_USER_TIMEOUT). For links that send regularly; a no-op on Unix
 * sockets. 0, or -errno from setsockopt. */
int hw_conn_set_send_timeout(struct hw_conn *c, unsigned ms);

/* Queue len bytes for sending (copied). HW_EBUSY when the send buffer (HW_CONN_SEND_MAX)
 * has no room: wait for on_writable. HW_ECLOSED once the connection is closing;
 * -EMSGSIZE for more than HW_CONN_SEND_MAX bytes at once. Bytes queued before connect
 * completes go out after it. */
int hw_conn_send(struct hw_conn *c, const void *buf, size_t len);

/* Queue two pieces as one (a frame header and its body) without a copy in between. */
int hw_conn_send2(struct hw_conn *c, const void *a, size_t alen, const void *b, size_t blen);

/* Bytes that hw_conn_send() can take now. */
size_t hw_conn_send_room(const struct hw_conn *c);

/* Bytes hw_conn_send() has taken since the connection began: whether any went out
 * between two looks. */
uint64_t hw_conn_queued_total(const struct hw_conn *c);

/* Ask for on_writable once the send buffer drains below half, as a send refused with
 * HW_EBUSY does: for a sender that checks hw_conn_send_room() itself and stops short of
 * filling the buffer. */
void hw_conn_want_writable(struct hw_conn *c);

/* Stop and restart reading (back-pressure towards the peer through TCP). While paused
 * on_data is not called; bytes that had already arrived are handed over after resume. */
void hw_conn_pause(struct hw_conn *c);
void hw_conn_resume(struct hw_conn *c);

/* Close (idempotent: the first code stands). Bytes still queued in the send buffer are
 * dropped. on_close follows, never from inside this call, once the kernel has returned
 * every CQE. */
void hw_conn_close(struct hw_conn *c, int code);
/* Close once everything queued has been sent (a refusal's ERROR frame must reach the
 * peer; hw_conn_close would drop it), or now if nothing is queued. A peer that never
 * reads keeps the connection until the kernel's buffer takes the bytes. */
void hw_conn_close_sent(struct hw_conn *c, int code);
/* Whether c is closing or will once what is queued is sent (hw_conn_close,
 * hw_conn_close_sent, or the peer's or a failure's close). */
bool hw_conn_closing(const struct hw_conn *c);
/* Refuse c, which has no owner (an accept callback turning it away): its callbacks are
 * replaced by none (nothing more is read, on_close is not called, so no owner's state is
 * reached), then hw_conn_close_sent(c, code): a refusal frame queued before the call
 * still reaches the peer, on a channel once its handshake ends, which is given 1 s (a
 * silent peer does not hold the descriptor for the 5 s others get). Satisfies the accept
 * callback's hw_conn_set_ops() duty. */
void hw_conn_refuse(struct hw_conn *c, int code);

/* Peer address text, for logs. */
const char *hw_conn_peer(const struct hw_conn *c);

/* The peer's authenticated key (HW_CHANNEL_KEY_BYTES) once its channel is open; NULL on
 * a plain connection or before the handshake ends. Valid while c is. */
const uint8_t *hw_conn_peer_key(const struct hw_conn *c);

/* Whether c, accepted at accepted_ms on a port open of whose cap sessions are taken and
 * silent since (no Hello), is late at now: its Hello is due HW_HELLO_WAIT_MS after its
 * accept, HW_HELLO_BUSY_MS at three quarters of cap. One still in its channel's handshake
 * (on a node that is not insecure) is the ring's to time out, never late. */
bool hw_conn_hello_late(const struct hw_conn *c, bool insecure, int64_t accepted_ms, int64_t now,
			uint64_t open, uint64_t cap);

/* Told of each accepted connection whose channel refused what the peer sent (a key it
 * does not pin, a handshake message or proof that fails, a record that fails after it:
 * the channel_refused / channel_failed logs of those; not connections this side
 * dialled, nor a handshake cut short: the peer's end of stream or -ETIMEDOUT before it
 * was done, which are logged only): peer is its address, key the key it offered or
 * authenticated (HW_CHANNEL_KEY_BYTES, NULL when none arrived), code the channel's
 * error. Both valid only during the call. */
typedef void hw_refusal_cb(void *arg, const char *peer, const uint8_t *key, int code);

/* Call cb for refusals from now on (NULL: none). */
void hw_ring_set_refusal_cb(struct hw_ring *r, hw_refusal_cb *cb, void *arg);

/* Buffer bounds: a receive buffer grows from 256 KiB up to one whole frame (with the
 * channel, its opened bytes up to one frame and one record more); a send buffer holds
 * at most HW_CONN_SEND_MAX queued bytes. */
#define HW_CONN_RECV_INITIAL (256u * 1024u)
#define HW_CONN_SEND_MAX (16u * 1024u * 1024u)

#endif
