/* ring.c: TCP and Unix-domain sockets over io_uring (the only file that includes
 * <liburing.h>). See ring.h for the contract and engineering-notes.md §1.3 for why each
 * piece is shaped as it is. Address text and listening sockets, which need no io_uring,
 * are engine/io/sockaddr.c's.
 *
 * Flow of one loop iteration:
 *   - Callbacks never submit: they change a connection's state and put it on the ring's
 *     kick list. hw_conn_send() only copies into the filling send buffer, so every frame
 *     queued in one iteration leaves in one SEND.
 *   - The before-block hook works the kick list (start sends, re-arm receives, cancel and
 *     finish closing connections), submits with io_uring_submit_and_get_events() and
 *     reaps; it repeats while that produced more work, a bounded number of rounds. Then
 *     it drains the eventfd, which its own submits signalled with what they completed,
 *     and looks once more: the kernel sets IORING_SQ_TASKRUN (and posts CQEs) before it
 *     signals, so what a drained signal announced shows in kernel_work_pending().
 *   - The eventfd callback calls io_uring_get_events() (with DEFER_TASKRUN the CQ
 *     stays empty until then) and reaps; the hook drains the eventfd.
 *   - Reaping copies a batch of CQEs out and advances the CQ before running any handler
 *     (TigerBeetle's flush_completions), so a handler never sees the CQ half-consumed.
 * Whenever work is left over after a bound, the hook writes the eventfd itself so the
 * loop comes back instead of blocking.
 *
 * With a channel (hw_ring_set_channel), the send buffer being filled holds plaintext and
 * the other one the records sealed from it: when that one has gone, the filled one is
 * sealed into it in records of SEAL_CHUNK bytes, after any handshake bytes due, and
 * cleared (no swap), so one send stays in flight and queued bytes still batch. Received
 * bytes go through the handshake, then are opened from rbuf into pbuf, which on_data sees.
 *
 * A connection is freed only from the kick list (or hw_ring_free), once it is closing
 * and no operation of it is in flight, so no CQE can ever point at freed memory and no
 * user callback ever returns into a freed connection. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/fault.h"
#include "base/log.h"
#include "base/names.h"
#include "engine/io/channel.h"
#include "engine/io/frame.h"
#include "engine/io/loop.h"
#include "engine/io/ring.h"
#include "engine/io/sockaddr.h"
#include "hawser_error.h"
#include "hawser_limits.h"

/* 256 SQEs is far more than one iteration prepares (at most four operations per
 * connection); the CQ is 8x that so completions never overflow in practice (§1.3.3). */
#define RING_SQ_ENTRIES 256u
#define RING_CQ_ENTRIES (8u * RING_SQ_ENTRIES)
/* Work bounds per call: CQEs copied per batch, batches per reap, flush rounds per hook,
 * kick-list passes per flush round. */
#define REAP_BATCH       64u
#define REAP_ROUNDS_MAX  16
#define FLUSH_ROUNDS_MAX 8
#define KICK_PASSES_MAX  4
/* A receive buffer grows up to one whole frame and its header, never further. */
#define RECV_MAX (HW_FRAME_BYTES_MAX + 64u)
/* The opened bytes of a channel grow further: records ignore frame boundaries, so a
 * frame one byte short of whole may wait for a record that also begins the next. */
#define PLAIN_MAX (RECV_MAX + HW_CHANNEL_PLAINTEXT_MAX)
_Static_assert(64u >= HW_FRAME_HEADER_BYTES, "a frame header fits the slack");
_Static_assert(HW_CONN_RECV_INITIAL <= RECV_MAX, "initial receive buffer within bound");
_Static_assert(HW_CONN_SEND_MAX <= UINT32_MAX, "a send length fits an SQE");
/* Plaintext per sealed record: small enough that a receiver opens and hands over a large
 * batch piece by piece, large enough that the 29 bytes of a record cost 0.04 %. */
#define SEAL_CHUNK (64u * 1024u)
/* A send buffer holds HW_CONN_SEND_MAX of plaintext, or that sealed plus handshake bytes. */
#define SEND_CAP                                                                                   \
	(HW_CONN_SEND_MAX + (HW_CONN_SEND_MAX / SEAL_CHUNK + 1u) * HW_CHANNEL_OVERHEAD_BYTES +     \
	 HW_CHANNEL_HANDSHAKE_BYTES_MAX)
_Static_assert(HW_CHANNEL_RECORD_BYTES(HW_CHANNEL_PLAINTEXT_MAX) <= RECV_MAX,
	       "a whole record of the largest frame fits a receive buffer");
/* A channel's handshake is 1.5 round trips, well under a millisecond on a LAN: a peer that
 * has not finished it in 5 s is a prober or a slow-loris holding a connection. On a
 * listener three quarters full, and for a connection refused before its handshake ended
 * (its refusal waits for the channel), 1 s: 1.5 round trips of 600 ms, slower than any
 * path between a terminal's sites, so a flood of silent connections holds a descriptor
 * for a second, not five. Checked four times a second. */
#define HANDSHAKE_TIMEOUT_MS 5000
#define HANDSHAKE_BUSY_MS    1000
#define HANDSHAKE_SWEEP_MS   250
/* At most one accept_paused line per listener this often (a flood fills it again at
 * every close). */
#define ACCEPT_PAUSED_LOG_MS 10000
/* Back-off before accepting again after running out of fds or memory. */
#define ACCEPT_RETRY_MS 100
#define ADDR_TEXT_MAX   128

enum op_kind { OP_RECV, OP_SEND, OP_CONNECT, OP_CANCEL, OP_ACCEPT, OP_LCANCEL };

/* One operation slot; its address is the SQE's user_data. gen is the owner's generation
 * at submission, checked on completion. */
struct op {
	uint8_t kind;
	bool busy;
	uint32_t gen;
	void *owner;
};

struct hw_ring {
	struct io_uring ring;
	struct hw_loop *loop;
	bool enabled; /* made IORING_SETUP_R_DISABLED: enabled by the thread that submits */
	int efd;
	struct hw_fdwatch *efd_watch;
	bool efd_signalled; /* eventfd_cb ran: the before-block hook drains the eventfd */
	uint32_t next_gen;
	struct hw_conn *conns;
	struct hw_listener *listeners;
	struct hw_conn *kick_head;
	/* Channel settings for new connections (hw_ring_set_channel); secure false: plain. */
	bool secure;
	struct hw_channel_config chcfg;
	struct hw_identity id;
	uint8_t pinned[HW_CHANNEL_PINNED_MAX * HW_CHANNEL_KEY_BYTES];
	char cluster[HW_CHANNEL_CLUSTER_BYTES + 1];
	struct hw_timer *hs_sweep; /* closes handshakes past their deadline */
	hw_refusal_cb *refusal_cb; /* told of accepted connections the channel refused */
	void *refusal_arg;
	/* accepted connections' handshakes that ended unopened: a few lines a second */
	struct hw_log_every refused_every, cut_every;
	struct hw_fault *reap_fault; /* test hook (hw_ring_fault_reap) */
};

struct hw_listener {
	struct hw_ring *r;
	struct hw_listener *prev, *next;
	int fd;
	uint32_t gen;
	unsigned inflight;
	bool is_unix, closing, in_cb;
	bool accepting; /* hw_listener_start: until then connects wait in the backlog */
	const char *port; /* hw_listener_logs: its name, and the counts of its connections' */
	struct hw_log_every *refused_every, *cut_every; /* channel_refused and channel_cut */
	hw_accept_cb *cb;
	void *arg;
	struct op accept_op, cancel_op;
	struct hw_timer *retry;
	uint32_t conns;     /* connections it accepted that are not finished yet */
	uint32_t conns_max; /* at it no accept is armed (hw_listen) */
	uint32_t paused;    /* times it filled since the last accept_paused line */
	int64_t paused_logged_ms;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char addr[ADDR_TEXT_MAX];
};

struct hw_conn {
	struct hw_ring *r;
	struct hw_conn *prev, *next, *kick_next;
	int fd;
	uint32_t gen;
	unsigned inflight;
	const struct hw_conn_ops *ops;
	void *arg;
	struct op recv_op, send_op, connect_op, cancel_op;
	/* Receive buffer: rbuf[0..rlen) not yet consumed by on_data. */
	uint8_t *rbuf;
	size_t rcap, rlen;
	/* Double send buffer: sbuf[fill] takes new bytes; sbuf[1 - fill] is the one being
	 * sent, of which soff bytes have gone. Each holds up to HW_CONN_SEND_MAX. */
	uint8_t *sbuf[2];
	size_t slen[2];
	uint64_t queued_total; /* bytes hw_conn_send2() took, ever (hw_conn_queued_total) */
	size_t soff;
	unsigned fill;
	int close_code;
	/* Channel (NULL: plain): pbuf[0..plen) opened and not yet consumed by on_data;
	 * hs[0..hslen) handshake bytes waiting for the send buffer. */
	struct hw_channel *ch;
	uint8_t *pbuf;
	size_t pcap, plen;
	uint8_t hs[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
	size_t hslen;
	int64_t hs_started_ms;   /* loop time the channel's handshake began */
	struct hw_listener *lis; /* the listener that accepted it, while that one lives */
	bool dialed; /* made by hw_connect (the channel's initiator) */
	bool refused; /* hw_conn_refuse(): its handshake gets HANDSHAKE_BUSY_MS */
	bool is_tcp, connected, paused, redeliver, closing, cancel_sent, kicked, hit_busy;
	int close_when_sent; /* hw_conn_close_sent: close with this once all is sent */
	struct sockaddr_storage sa; /* connect target */
	socklen_t salen;
	char peer[ADDR_TEXT_MAX];
};

static void conn_close(struct hw_conn *c, int code);
static void listener_conn_gone(struct hw_listener *l);

/* ---- addresses (engine/io/sockaddr.c) */

bool hw_ring_addr_literal(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	return hw__sockaddr_parse(addr, true, &ss, &len) == 0;
}

void hw_ring_addr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	struct sockaddr_storage ss = {0};
	memcpy(&ss, sa, len < sizeof ss ? len : sizeof ss);
	hw__sockaddr_format(&ss, len, buf, size);
}

/* ---- submission and completion */

static struct io_uring_sqe *get_sqe(struct hw_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
	/* SQ full: submit what is queued to make room (never reaps: no handler runs). */
	for (int i = 0; !sqe && i < 8; i++) {
		int rc = io_uring_submit(&r->ring);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
			break;
		sqe = io_uring_get_sqe(&r->ring);
	}
	HW_ASSERT(sqe != NULL);
	return sqe;
}

static struct io_uring_sqe *op_begin(struct hw_ring *r, struct op *op, uint32_t gen,
				     unsigned *inflight)
{
	HW_ASSERT(!op->busy);
	struct io_uring_sqe *sqe = get_sqe(r);
	op->busy = true;
	op->gen = gen;
	(*inflight)++;
	return sqe;
}

static void wake_self(struct hw_ring *r)
{
	eventfd_write(r->efd, 1);
}

static void kick(struct hw_conn *c)
{
	if (c->kicked)
		return;
	c->kicked = true;
	c->kick_next = c->r->kick_head;
	c->r->kick_head = c;
}

/* ---- connections */

static void conn_free(struct hw_conn *c)
{
	hw_channel_free(c->ch);
	free(c->pbuf);
	free(c->rbuf);
	free(c->sbuf[0]);
	free(c->sbuf[1]);
	free(c);
}

/* The channel of a new connection, when the ring has one. */
static int conn_channel(struct hw_ring *r, struct hw_conn *c, enum hw_channel_role role)
{
	if (!r->secure)
		return 0;
	struct hw_channel_config cfg = r->chcfg;
	cfg.role = role;
	if (role == HW_CHANNEL_INITIATOR) /* what it dialed may stream to it: any record */
		cfg.open_max = 0;
	int rc = hw_channel_new(&cfg, &c->ch);
	if (rc)
		return rc;
	c->hs_started_ms = hw_loop_now_ms(r->loop);
	c->pbuf = malloc(HW_CONN_RECV_INITIAL);
	c->pcap = HW_CONN_RECV_INITIAL;
	return c->pbuf ? 0 : HW_ENOMEM;
}

static int conn_new(struct hw_ring *r, int fd, bool is_tcp, enum hw_channel_role role,
		    struct hw_conn **out)
{
	struct hw_conn *c = calloc(1, sizeof *c);
	if (!c)
		return HW_ENOMEM;
	c->rbuf = malloc(HW_CONN_RECV_INITIAL);
	c->sbuf[0] = malloc(SEND_CAP);
	c->sbuf[1] = malloc(SEND_CAP);
	int rc = c->rbuf && c->sbuf[0] && c->sbuf[1] ? conn_channel(r, c, role) : HW_ENOMEM;
	if (rc) {
		conn_free(c);
		return rc;
	}
	c->rcap = HW_CONN_RECV_INITIAL;
	c->r = r;
	c->fd = fd;
	c->gen = ++r->next_gen;
	c->is_tcp = is_tcp;
	c->recv_op = (struct op){.kind = OP_RECV, .owner = c};
	c->send_op = (struct op){.kind = OP_SEND, .owner = c};
	c->connect_op = (struct op){.kind = OP_CONNECT, .owner = c};
	c->cancel_op = (struct op){.kind = OP_CANCEL, .owner = c};
	if (is_tcp) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	*out = c;
	return 0;
}

static void conn_finish(struct hw_conn *c)
{
	struct hw_ring *r = c->r;
	HW_ASSERT(c->closing && c->inflight == 0 && !c->kicked);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->lis != NULL)
		listener_conn_gone(c->lis);
	if (c->ops && c->ops->on_close)
		c->ops->on_close(c, c->arg, c->close_code);
	conn_free(c);
}

static size_t send_queued(const struct hw_conn *c)
{
	return c->slen[0] + c->slen[1] - c->soff;
}

/* The send buffer out is empty: put the handshake bytes due into it, then, once the
 * channel is open, the filled buffer sealed. 0, or the channel's error. */
static int seal_out(struct hw_conn *c, unsigned out)
{
	uint8_t *dst = c->sbuf[out];
	size_t n = c->hslen;
	memcpy(dst, c->hs, c->hslen);
	c->hslen = 0;
	const uint8_t *pt = c->sbuf[c->fill];
	size_t left = hw_channel_is_open(c->ch) ? c->slen[c->fill] : 0;
	for (size_t at = 0; at < left;) {
		size_t chunk = left - at < SEAL_CHUNK ? left - at : SEAL_CHUNK;
		size_t got;
		int rc = hw_channel_seal(c->ch, pt + at, chunk, dst + n, SEND_CAP - n, &got);
		if (rc)
			return rc;
		at += chunk;
		n += got;
	}
	if (left)
		c->slen[c->fill] = 0;
	c->slen[out] = n;
	c->soff = 0;
	return 0;
}

static void start_send(struct hw_conn *c)
{
	if (c->send_op.busy || !c->connected || c->closing)
		return;
	unsigned out = 1u - c->fill;
	if (c->slen[out] == c->soff && c->ch) {
		int rc = seal_out(c, out);
		if (rc) {
			conn_close(c, rc);
			return;
		}
		if (c->slen[out] == 0)
			return;
	} else if (c->slen[out] == c->soff) {
		/* Nothing left in flight: swap, the filled buffer goes out. */
		if (c->slen[c->fill] == 0)
			return;
		c->slen[out] = 0;
		c->soff = 0;
		out = c->fill;
		c->fill = 1u - c->fill;
	}
	struct io_uring_sqe *sqe = op_begin(c->r, &c->send_op, c->gen, &c->inflight);
	io_uring_prep_send(sqe, c->fd, c->sbuf[out] + c->soff, c->slen[out] - c->soff,
			   MSG_NOSIGNAL | MSG_WAITALL);
	io_uring_sqe_set_data(sqe, &c->send_op);
}

static void arm_recv(struct hw_conn *c)
{
	if (c->recv_op.busy || c->paused || c->closing || !c->connected)
		return;
	if (c->rlen == c->rcap) {
		/* on_data took nothing from a full buffer: the frame is larger; grow. */
		if (c->rcap >= RECV_MAX) {
			conn_close(c, HW_EFRAME);
			return;
		}
		size_t ncap = c->rcap * 2 < RECV_MAX ? c->rcap * 2 : RECV_MAX;
		uint8_t *nb = realloc(c->rbuf, ncap);
		if (!nb) {
			conn_close(c, HW_ENOMEM);
			return;
		}
		c->rbuf = nb;
		c->rcap = ncap;
	}
	struct io_uring_sqe *sqe = op_begin(c->r, &c->recv_op, c->gen, &c->inflight);
	io_uring_prep_recv(sqe, c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
	io_uring_sqe_set_data(sqe, &c->recv_op);
}

/* ---- the channel's side of a connection */

/* Log a channel's event of c, naming port (NULL: none; a failure's only) after its
 * peer. */
static void log_channel(struct hw_conn *c, const char *event, const char *port, int code)
{
	char fp[HW_CHANNEL_FINGERPRINT_CHARS + 1];
	const uint8_t *key = hw_channel_peer_key(c->ch);
	hw_channel_fingerprint(key ? key : hw_channel_offered_key(c->ch), fp);
	const char *cipher = hw_channel_cipher(c->ch);
	if (code && port != NULL)
		hw_log(event, "peer=%s port=%s key=%s code=%s", c->peer, port, fp,
		       hw_errname(code));
	else if (code)
		hw_log(event, "peer=%s key=%s code=%s", c->peer, fp, hw_errname(code));
	else
		hw_log(event, "peer=%s key=%s cipher=%s", c->peer, fp, cipher ? cipher : "-");
}

/* Log a channel's event; channel_refused and channel_cut of an accepted connection (a
 * flood repeats them per connection) HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS, then
 * how many more there were: through its listener's counts, naming its port, when that
 * one has them (hw_listener_logs), else the ring's. A connection this side dialled is
 * logged each time. */
static void log_unopened(struct hw_conn *c, const char *event, int code)
{
	struct hw_ring *r = c->r;
	const struct hw_listener *l = c->lis != NULL && c->lis->port != NULL ? c->lis : NULL;
	bool cut = strcmp(event, "channel_cut") == 0;
	struct hw_log_every *e = NULL;
	if (cut || strcmp(event, "channel_refused") == 0)
		e = l == NULL ? (cut ? &r->cut_every : &r->refused_every)
			      : (cut ? l->cut_every : l->refused_every);
	if (c->dialed || e == NULL ||
	    hw_log_every(e, event, hw_loop_now_ms(r->loop), HW_FLOOD_LOG_MS, HW_FLOOD_LOG_LINES))
		log_channel(c, event, l != NULL && e != NULL ? l->port : NULL, code);
}

/* Log the channel's refusal of what the peer sent (a key it does not pin, a proof or a
 * message that fails) and, for an accepted connection, tell the refusal callback:
 * someone knocking with the wrong key. A handshake cut short (the peer hung up, or said
 * nothing in time: recv_done, hs_sweep_cb) is logged only: it proves no wrong key, and
 * a node's own reconnect cut mid-handshake (a rejoin's rewind) is no attack. */
static void log_refused(struct hw_conn *c, const char *event, int code)
{
	log_unopened(c, event, code);
	if (!c->dialed && c->r->refusal_cb) {
		const uint8_t *key = hw_channel_peer_key(c->ch);
		c->r->refusal_cb(c->r->refusal_arg, c->peer,
				 key ? key : hw_channel_offered_key(c->ch), code);
	}
}

/* Run the handshake on the received bytes: take what it consumed off *off, queue its
 * answer. An initiator is connected (on_connect) once the channel opens. */
static int handshake_in(struct hw_conn *c, size_t *off)
{
	while (!hw_channel_is_open(c->ch)) {
		size_t used, n;
		int rc = hw_channel_handshake_in(c->ch, c->rbuf + *off, c->rlen - *off, &used);
		if (rc == -EAGAIN)
			return 0;
		if (rc == 0)
			rc = hw_channel_handshake_out(c->ch, c->hs + c->hslen,
						      sizeof c->hs - c->hslen, &n);
		if (rc) {
			log_refused(c, "channel_refused", rc);
			return rc;
		}
		*off += used;
		c->hslen += n;
		kick(c);
	}
	log_channel(c, "channel_open", NULL, 0);
	if (c->ops && c->ops->on_connect && c->dialed)
		c->ops->on_connect(c, c->arg);
	return 0;
}

/* Open every whole record of rbuf into pbuf (handshake first). 0, -ENOBUFS when pbuf is
 * full, or the channel's error. */
static int channel_in(struct hw_conn *c)
{
	size_t off = 0;
	int rc = hw_channel_is_open(c->ch) ? 0 : handshake_in(c, &off);
	int hs_rc = rc; /* handshake_in logged its own refusal */
	while (rc == 0 && hw_channel_is_open(c->ch) && off < c->rlen && !c->closing) {
		size_t used, got;
		rc = hw_channel_open(c->ch, c->rbuf + off, c->rlen - off, &used, c->pbuf + c->plen,
				     c->pcap - c->plen, &got);
		if (rc == 0) {
			off += used;
			c->plen += got;
		}
	}
	c->rlen -= off;
	if (off > 0 && c->rlen > 0)
		memmove(c->rbuf, c->rbuf + off, c->rlen);
	if (rc && !hs_rc && rc != -EAGAIN && rc != -ENOBUFS && rc != HW_ECLOSED)
		log_refused(c, "channel_failed", rc);
	return rc == -EAGAIN ? 0 : rc;
}

/* Close c with code. A peer of the other channel (HW_ECHANNEL) that connected to this side
 * is told first, in plaintext, which it can read whichever channel it runs: a frame where
 * an encrypted peer waits for a hello says so to its channel, and a plaintext peer reads
 * the ERROR frame's code. */
static void fail_conn(struct hw_conn *c, int code)
{
	uint8_t frame[160];
	bool plain_out = c->ch == NULL || !hw_channel_is_open(c->ch);
	if (code != HW_ECHANNEL || c->dialed || !plain_out) {
		conn_close(c, code);
		return;
	}
	size_t n = hw_frame_error_put(
		frame, sizeof frame, HW_ECHANNEL,
		c->ch ? "this node runs the encrypted channel: connect with keys, not insecure"
		      : "this node runs insecure = true (plaintext): connect insecure too");
	if (c->ch != NULL && c->hslen + n <= sizeof c->hs) {
		memcpy(c->hs + c->hslen, frame, n);
		c->hslen += n;
		kick(c);
	} else if (c->ch != NULL || hw_conn_send(c, frame, n) != 0) {
		conn_close(c, code);
		return;
	}
	c->paused = true; /* nothing more is read: the peer's next bytes would refuse again */
	hw_conn_close_sent(c, code);
}

/* Hand buf[0..*len) to on_data and keep the tail it left. Returns the bytes taken, or -1
 * when the connection is closing (on_data closed it, or refused the bytes: closed here). */
static long hand_over(struct hw_conn *c, uint8_t *buf, size_t *len)
{
	long n = c->ops->on_data ? c->ops->on_data(c, c->arg, buf, *len) : (long)*len;
	if (c->closing)
		return -1;
	if (n < 0) {
		fail_conn(c, (int)n);
		return -1;
	}
	HW_ASSERT((size_t)n <= *len);
	*len -= (size_t)n;
	if (n > 0 && *len > 0)
		memmove(buf, buf + n, *len);
	return n;
}

/* Hand pbuf to on_data; with bytes still to open, make room (grow pbuf when on_data took
 * nothing) and go again. What opened before a failure (or the peer's final record) is
 * handed over first: it was authentic. */
static void deliver_secure(struct hw_conn *c)
{
	for (;;) {
		int rc = channel_in(c);
		if (c->closing)
			return;
		long n = c->plen > 0 ? hand_over(c, c->pbuf, &c->plen) : 0;
		if (n < 0)
			return;
		if (rc && rc != -ENOBUFS) {
			fail_conn(c, rc);
			return;
		}
		if (rc != -ENOBUFS)
			return;
		if (c->paused) {
			c->redeliver = true;
			return;
		}
		if (n == 0 && c->pcap >= PLAIN_MAX) {
			conn_close(c, HW_EFRAME);
			return;
		}
		if (n == 0) {
			size_t ncap = c->pcap * 2 < PLAIN_MAX ? c->pcap * 2 : PLAIN_MAX;
			uint8_t *nb = realloc(c->pbuf, ncap);
			if (!nb) {
				conn_close(c, HW_ENOMEM);
				return;
			}
			c->pbuf = nb;
			c->pcap = ncap;
		}
	}
}

/* Hand every unconsumed byte to on_data and keep the tail it left. */
static void deliver(struct hw_conn *c)
{
	c->redeliver = false;
	HW_ASSERT(c->ops != NULL);
	if (c->ch) {
		deliver_secure(c);
		return;
	}
	if (c->rlen > 0)
		hand_over(c, c->rbuf, &c->rlen);
}

static void close_progress(struct hw_conn *c)
{
	if (c->inflight == 0) {
		/* Still queued (closed during this very pass): finish when the list gets to
		 * it, so the list never holds a freed connection. */
		if (!c->kicked)
			conn_finish(c);
		return;
	}
	if (!c->cancel_sent) {
		/* shutdown() already woke the receive; the cancel catches a pending connect or
		 * a send stuck behind a full peer window (§1.3.6). */
		c->cancel_sent = true;
		struct io_uring_sqe *sqe = op_begin(c->r, &c->cancel_op, c->gen, &c->inflight);
		io_uring_prep_cancel_fd(sqe, c->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data(sqe, &c->cancel_op);
	}
}

static void conn_progress(struct hw_conn *c)
{
	if (!c->closing && c->redeliver && !c->paused)
		deliver(c);
	if (!c->closing)
		start_send(c);
	if (!c->closing)
		arm_recv(c);
	if (c->closing)
		close_progress(c);
}

static void run_kicks(struct hw_ring *r)
{
	for (int pass = 0; pass < KICK_PASSES_MAX && r->kick_head; pass++) {
		struct hw_conn *list = r->kick_head;
		r->kick_head = NULL;
		while (list) {
			struct hw_conn *c = list;
			list = c->kick_next;
			c->kicked = false;
			conn_progress(c);
		}
	}
}

static void conn_close(struct hw_conn *c, int code)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_code = code;
	shutdown(c->fd, SHUT_RDWR);
	kick(c);
}

static struct hw_conn *op_conn(struct op *op)
{
	struct hw_conn *c = op->owner;
	HW_ASSERT(op->busy && op->gen == c->gen && c->inflight > 0);
	op->busy = false;
	c->inflight--;
	return c;
}

static void recv_done(struct hw_conn *c, int res)
{
	if (c->closing) {
		kick(c);
		return;
	}
	if (res == -EINTR || res == -EAGAIN) {
		kick(c);
		return;
	}
	if (res == 0 && c->ch && !hw_channel_is_open(c->ch)) {
		/* Cut during the handshake: how an initiator learns it was refused. A peer that
		 * hung up on this side's accept refused nothing (a port scan, a TCP health
		 * check, a client that gave up): one line, channel_cut, and a plain close. */
		int code = c->dialed ? hw_channel_eof(c->ch) : HW_ECLOSED;
		log_unopened(c, c->dialed ? "channel_refused" : "channel_cut", code);
		conn_close(c, code);
		return;
	}
	if (res <= 0) {
		conn_close(c, res == 0 || res == -ECANCELED ? HW_ECLOSED : res);
		return;
	}
	HW_ASSERT((size_t)res <= c->rcap - c->rlen);
	c->rlen += (size_t)res;
	if (c->paused) {
		c->redeliver = true;
		return;
	}
	deliver(c);
	kick(c);
}

static void send_done(struct hw_conn *c, int res)
{
	if (c->closing) {
		kick(c);
		return;
	}
	if (res == -EINTR || res == -EAGAIN) {
		kick(c);
		return;
	}
	if (res <= 0) {
		conn_close(c, res == 0 ? -EIO : res == -ECANCELED ? HW_ECLOSED : res);
		return;
	}
	unsigned out = 1u - c->fill;
	c->soff += (size_t)res;
	HW_ASSERT(c->soff <= c->slen[out]);
	if (c->soff == c->slen[out]) {
		c->slen[out] = 0;
		c->soff = 0;
	}
	kick(c); /* resume a short send, or send what was queued meanwhile */
	if (c->close_when_sent && send_queued(c) == 0 && c->hslen == 0) {
		conn_close(c, c->close_when_sent);
		return;
	}
	if (c->hit_busy && send_queued(c) < HW_CONN_SEND_MAX / 2) {
		c->hit_busy = false;
		if (c->ops && c->ops->on_writable)
			c->ops->on_writable(c, c->arg);
	}
}

static void connect_done(struct hw_conn *c, int res)
{
	if (c->closing) {
		kick(c);
		return;
	}
	if (res < 0) {
		conn_close(c, res);
		return;
	}
	c->connected = true;
	if (c->ch) {
		/* hello_I goes out first; on_connect follows once the channel is open. */
		size_t n;
		int rc = hw_channel_handshake_out(c->ch, c->hs, sizeof c->hs, &n);
		if (rc) {
			conn_close(c, rc);
			return;
		}
		c->hslen = n;
	} else if (c->ops && c->ops->on_connect) {
		c->ops->on_connect(c, c->arg);
	}
	kick(c);
}

/* ---- listeners */

/* Arm the accept, unless one is armed or the listener holds conns_max connections: then
 * the next ones wait in the kernel's backlog until one closes (listener_conn_gone). */
static void arm_accept(struct hw_listener *l)
{
	if (!l->accepting || l->closing || l->accept_op.busy || l->conns >= l->conns_max)
		return;
	struct io_uring_sqe *sqe = op_begin(l->r, &l->accept_op, l->gen, &l->inflight);
	l->peerlen = sizeof l->peer;
	io_uring_prep_accept(sqe, l->fd, (struct sockaddr *)&l->peer, &l->peerlen, SOCK_CLOEXEC);
	io_uring_sqe_set_data(sqe, &l->accept_op);
}

static void listener_finish(struct hw_listener *l)
{
	struct hw_ring *r = l->r;
	HW_ASSERT(l->closing && l->inflight == 0);
	close(l->fd);
	if (l->is_unix)
		unlink(l->addr + 5);
	for (struct hw_conn *c = r->conns; c && l->conns > 0; c = c->next) {
		if (c->lis == l) { /* its connections live on without it */
			c->lis = NULL;
			l->conns--;
		}
	}
	hw_timer_free(l->retry);
	if (l->prev)
		l->prev->next = l->next;
	else
		r->listeners = l->next;
	if (l->next)
		l->next->prev = l->prev;
	free(l);
}

static void accept_retry_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	arm_accept(arg);
}

/* l took its conns_max-th connection: say so, at most once per ACCEPT_PAUSED_LOG_MS. */
static void accept_paused(struct hw_listener *l)
{
	int64_t now = hw_loop_now_ms(l->r->loop);
	l->paused++;
	if (l->paused_logged_ms != 0 && now - l->paused_logged_ms < ACCEPT_PAUSED_LOG_MS)
		return;
	hw_log("accept_paused", "addr=%s conns=%u times=%u what=\"%s\"", l->addr, l->conns,
	       l->paused,
	       "every connection this port may hold is taken: the next wait in the "
	       "kernel's backlog until one closes");
	l->paused = 0;
	l->paused_logged_ms = now;
}

/* One of l's connections finished: accept again if that made room. */
static void listener_conn_gone(struct hw_listener *l)
{
	HW_ASSERT(l->conns > 0);
	l->conns--;
	arm_accept(l);
}

static void accepted(struct hw_listener *l, int fd)
{
	struct hw_conn *c;
	if (conn_new(l->r, fd, !l->is_unix, HW_CHANNEL_RESPONDER, &c)) {
		fprintf(stderr, "hawser: %s: out of memory for a new connection\n", l->addr);
		close(fd);
		return;
	}
	c->lis = l;
	if (++l->conns == l->conns_max)
		accept_paused(l);
	c->connected = true;
	hw__sockaddr_format(&l->peer, l->peerlen, c->peer, sizeof c->peer);
	l->in_cb = true;
	l->cb(l, l->arg, c);
	l->in_cb = false;
	HW_ASSERT(c->ops != NULL); /* the accept callback must call hw_conn_set_ops() */
	kick(c);
}

static void accept_done(struct hw_listener *l, int res)
{
	if (l->closing && res >= 0)
		close(res); /* raced with hw_listener_close(): refuse it */
	if (!l->closing) {
		if (res >= 0) {
			accepted(l, res);
		} else if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
			fprintf(stderr, "hawser: %s: accept: %s; retrying in %d ms\n", l->addr,
				strerror(-res), ACCEPT_RETRY_MS);
			if (l->retry)
				hw_timer_again(l->retry, ACCEPT_RETRY_MS);
			else if (hw_timer_new(l->r->loop, ACCEPT_RETRY_MS, 0, accept_retry_cb, l,
					      &l->retry) != 0)
				l->retry = NULL;
			return;
		}
	}
	if (l->closing) {
		if (l->inflight == 0)
			listener_finish(l);
		return;
	}
	arm_accept(l);
}

/* ---- dispatch, reaping, the loop hooks */

struct done {
	struct op *op;
	int res;
};

static void complete(struct op *op, int res)
{
	struct hw_listener *l;
	switch (op->kind) {
	case OP_RECV:
		recv_done(op_conn(op), res);
		break;
	case OP_SEND:
		send_done(op_conn(op), res);
		break;
	case OP_CONNECT:
		connect_done(op_conn(op), res);
		break;
	case OP_CANCEL:
		kick(op_conn(op));
		break;
	case OP_ACCEPT:
	case OP_LCANCEL:
		l = op->owner;
		HW_ASSERT(op->busy && op->gen == l->gen && l->inflight > 0);
		op->busy = false;
		l->inflight--;
		if (op->kind == OP_ACCEPT)
			accept_done(l, res);
		else if (l->inflight == 0)
			listener_finish(l);
		break;
	default:
		HW_ASSERT(!"unknown io_uring operation");
	}
}

static void reap(struct hw_ring *r)
{
	struct io_uring_cqe *cqes[REAP_BATCH];
	struct done d[REAP_BATCH];
	if (hw_fault_tick(r->reap_fault))
		return;
	for (int round = 0; round < REAP_ROUNDS_MAX; round++) {
		unsigned n = io_uring_peek_batch_cqe(&r->ring, cqes, REAP_BATCH);
		if (n == 0)
			return;
		for (unsigned i = 0; i < n; i++) {
			d[i].op = io_uring_cqe_get_data(cqes[i]);
			d[i].res = cqes[i]->res;
		}
		io_uring_cq_advance(&r->ring, n);
		for (unsigned i = 0; i < n; i++)
			complete(d[i].op, d[i].res);
	}
	wake_self(r); /* more may be waiting: come back next iteration */
}

static bool kernel_work_pending(struct hw_ring *r)
{
	unsigned kflags = IO_URING_READ_ONCE(*r->ring.sq.kflags);
	return io_uring_sq_ready(&r->ring) > 0 ||
	       (kflags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0;
}

static void submit(struct hw_ring *r)
{
	for (int i = 0; i < 8; i++) {
		int rc = io_uring_submit_and_get_events(&r->ring);
		if (rc >= 0)
			return;
		if (rc == -EBUSY || rc == -EAGAIN)
			reap(r); /* CQ overcommitted: make room, then retry */
		else if (rc != -EINTR) {
			fprintf(stderr, "hawser: io_uring submit: %s\n", strerror(-rc));
			return;
		}
	}
}

/* A SINGLE_ISSUER ring belongs to the task that enables it: the loop's thread on its
 * first iteration (hw_node_run may run on another thread than hw_node_open), or the
 * thread that frees a ring whose loop never ran. */
static void ring_enable(struct hw_ring *r)
{
	if (r->enabled)
		return;
	r->enabled = true;
	/* io_uring_enable_rings() is in liburing's header but not in every library build */
	if (syscall(__NR_io_uring_register, r->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL,
		    0) < 0)
		fprintf(stderr, "hawser: io_uring enable: %s\n", strerror(errno));
}

/* Nothing for the ring to do before the loop blocks. run_kicks stops after its passes:
 * kicks it left must not wait for a wake-up either. */
static bool ring_idle(struct hw_ring *r)
{
	return !r->kick_head && !kernel_work_pending(r) && io_uring_cq_ready(&r->ring) == 0;
}

static void before_block_cb(void *arg)
{
	struct hw_ring *r = arg;
	ring_enable(r);
	bool entered = false;
	for (int round = 0; round < FLUSH_ROUNDS_MAX; round++) {
		run_kicks(r);
		if (ring_idle(r))
			break;
		submit(r);
		reap(r);
		entered = true;
	}
	if (!ring_idle(r)) {
		wake_self(r);
		return;
	}
	/* Completions posted during the submits above (a send done at once) signalled the
	 * eventfd, and were reaped: drained here, the loop blocks instead of waking to find
	 * nothing (an epoll_wait, a read and an io_uring_enter each time). So is the signal
	 * that woke eventfd_cb, one read for both. What arrived meanwhile shows in
	 * ring_idle() once it is drained, and the loop comes back. */
	if (entered || r->efd_signalled) {
		eventfd_t v;
		eventfd_read(r->efd, &v);
		r->efd_signalled = false;
		if (!ring_idle(r))
			wake_self(r);
	}
}

static void eventfd_cb(struct hw_fdwatch *w, void *arg)
{
	(void)w;
	struct hw_ring *r = arg;
	r->efd_signalled = true; /* drained before the loop blocks (before_block_cb) */
	/* With DEFER_TASKRUN an eventfd signal means task work, not yet a CQE (§1.3.1). */
	io_uring_get_events(&r->ring);
	reap(r);
}

/* ---- public */

static int ring_init(struct hw_ring *r)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		  IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_CQSIZE | IORING_SETUP_R_DISABLED;
	p.cq_entries = RING_CQ_ENTRIES;
	int rc = io_uring_queue_init_params(RING_SQ_ENTRIES, &r->ring, &p);
	if (rc == -EINVAL) {
		/* Kernel older than 6.1: plain ring, completions posted directly, any thread. */
		memset(&p, 0, sizeof p);
		rc = io_uring_queue_init_params(RING_SQ_ENTRIES, &r->ring, &p);
		r->enabled = true;
	}
	if (rc == -EPERM || rc == -ENOSYS) {
		fprintf(stderr,
			"hawser: io_uring is unavailable (%s): check the sysctl "
			"kernel.io_uring_disabled (0 enables it for everyone, 1 only for "
			"kernel.io_uring_group) and any seccomp profile of the container "
			"runtime, which may block io_uring_setup\n",
			strerror(-rc));
	}
	return rc;
}

int hw_ring_new(struct hw_loop *loop, struct hw_ring **out)
{
	struct hw_ring *r = calloc(1, sizeof *r);
	if (!r)
		return HW_ENOMEM;
	r->loop = loop;
	int rc = ring_init(r);
	if (rc < 0)
		goto err_free;
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		rc = -errno;
		goto err_ring;
	}
	rc = io_uring_register_eventfd(&r->ring, r->efd);
	if (rc < 0)
		goto err_efd;
	rc = hw_fdwatch_new(loop, r->efd, eventfd_cb, r, &r->efd_watch);
	if (rc < 0)
		goto err_efd;
	rc = hw_loop_before_block(loop, before_block_cb, r);
	if (rc < 0)
		goto err_watch;
	*out = r;
	return 0;
err_watch:
	hw_fdwatch_free(r->efd_watch);
err_efd:
	close(r->efd);
err_ring:
	io_uring_queue_exit(&r->ring);
err_free:
	free(r);
	return rc;
}

void hw_ring_close_all(struct hw_ring *r)
{
	ring_enable(r);
	for (struct hw_listener *l = r->listeners; l;) {
		struct hw_listener *next = l->next;
		hw_listener_close(l); /* may free l */
		l = next;
	}
	for (struct hw_conn *c = r->conns; c; c = c->next)
		conn_close(c, 0);
	/* Bounded wait: every operation was shut down and cancelled, so each CQE is due at
	 * once; 100 waits of 100 ms only guard against a kernel bug. */
	for (int i = 0; i < 100 && (r->conns || r->listeners || r->kick_head); i++) {
		run_kicks(r);
		if (!r->conns && !r->listeners)
			break;
		struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
		struct io_uring_cqe *cqe;
		io_uring_submit(&r->ring);
		io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
		reap(r);
	}
	if (r->conns || r->listeners)
		fprintf(stderr, "hawser: io_uring: operations still in flight at ring free\n");
}

/* c's operations never completed (hw_ring_close_all gave up on it): its owner hears
 * on_close all the same, its last call, and c is left to the kernel, which may still
 * hold its buffers; its descriptor goes (the kernel holds its own reference). */
static void conn_abandon(struct hw_conn *c)
{
	close(c->fd);
	if (c->ops && c->ops->on_close)
		c->ops->on_close(c, c->arg, c->close_code);
	c->ops = NULL;
}

void hw_ring_free(struct hw_ring *r)
{
	if (!r)
		return;
	hw_ring_close_all(r);
	for (struct hw_conn *c = r->conns; c; c = c->next)
		conn_abandon(c);
	hw_timer_free(r->hs_sweep);
	hw_loop_before_block_cancel(r->loop, before_block_cb, r);
	hw_fdwatch_free(r->efd_watch);
	io_uring_unregister_eventfd(&r->ring);
	close(r->efd);
	io_uring_queue_exit(&r->ring);
	hw_identity_wipe(&r->id);
	free(r);
}

void hw_ring_fault_reap(struct hw_ring *r, struct hw_fault *f)
{
	r->reap_fault = f;
}

int hw_listen_bind(struct hw_ring *r, const char *addr, uint32_t conns_max, hw_accept_cb *cb,
		   void *arg, struct hw_listener **out)
{
	HW_ASSERT(cb != NULL && conns_max > 0);
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = -1;
	int rc = hw__sockaddr_parse(addr, true, &ss, &len);
	if (rc)
		return rc;
	rc = hw__sockaddr_listen(&ss, len, &fd);
	if (rc)
		return rc;
	struct hw_listener *l = calloc(1, sizeof *l);
	if (!l) {
		close(fd);
		return HW_ENOMEM;
	}
	socklen_t blen = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &blen) == 0)
		len = blen;
	hw__sockaddr_format(&ss, len, l->addr, sizeof l->addr);
	l->r = r;
	l->fd = fd;
	l->gen = ++r->next_gen;
	l->is_unix = ss.ss_family == AF_UNIX;
	l->conns_max = conns_max;
	l->cb = cb;
	l->arg = arg;
	l->accept_op = (struct op){.kind = OP_ACCEPT, .owner = l};
	l->cancel_op = (struct op){.kind = OP_LCANCEL, .owner = l};
	l->next = r->listeners;
	if (r->listeners)
		r->listeners->prev = l;
	r->listeners = l;
	*out = l;
	return 0;
}

void hw_listener_logs(struct hw_listener *l, const char *port, struct hw_log_every *refused,
		      struct hw_log_every *cut)
{
	l->port = port;
	l->refused_every = refused;
	l->cut_every = cut;
}

void hw_listener_start(struct hw_listener *l)
{
	l->accepting = true;
	arm_accept(l);
}

int hw_listen(struct hw_ring *r, const char *addr, uint32_t conns_max, hw_accept_cb *cb, void *arg,
	      struct hw_listener **out)
{
	int rc = hw_listen_bind(r, addr, conns_max, cb, arg, out);
	if (rc == 0)
		hw_listener_start(*out);
	return rc;
}

int hw_listen_bind_patiently(struct hw_ring *r, const char *addr, uint32_t conns_max,
			     hw_accept_cb *cb, void *arg, struct hw_listener **out)
{
	int64_t until = (int64_t)hw_mono_ms() + HW_LISTEN_PATIENCE_MS;
	int rc = hw_listen_bind(r, addr, conns_max, cb, arg, out);
	if (rc == -EADDRINUSE)
		hw_log("listen_busy", "addr=%s wait_ms=%d", addr, HW_LISTEN_PATIENCE_MS);
	while (rc == -EADDRINUSE && (int64_t)hw_mono_ms() < until) {
		poll(NULL, 0, 20);
		rc = hw_listen_bind(r, addr, conns_max, cb, arg, out);
	}
	return rc;
}

const char *hw_listener_addr(const struct hw_listener *l)
{
	return l->addr;
}

void hw_listener_close(struct hw_listener *l)
{
	if (!l || l->closing)
		return;
	l->closing = true;
	shutdown(l->fd, SHUT_RDWR);
	if (l->accept_op.busy) {
		struct io_uring_sqe *sqe = op_begin(l->r, &l->cancel_op, l->gen, &l->inflight);
		io_uring_prep_cancel_fd(sqe, l->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data(sqe, &l->cancel_op);
	} else if (!l->in_cb) {
		listener_finish(l);
	}
	/* else accept_done() finishes it once the accept callback returns */
}

int hw_connect(struct hw_ring *r, const char *addr, const struct hw_conn_ops *ops, void *arg,
	       struct hw_conn **out)
{
	HW_ASSERT(ops != NULL);
	struct sockaddr_storage ss;
	socklen_t len;
	int rc = hw__sockaddr_parse(addr, false, &ss, &len);
	if (rc)
		return rc;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	struct hw_conn *c;
	rc = conn_new(r, fd, ss.ss_family != AF_UNIX, HW_CHANNEL_INITIATOR, &c);
	if (rc) {
		close(fd);
		return rc;
	}
	c->ops = ops;
	c->arg = arg;
	c->dialed = true;
	c->sa = ss;
	c->salen = len;
	hw__sockaddr_format(&ss, len, c->peer, sizeof c->peer);
	struct io_uring_sqe *sqe = op_begin(r, &c->connect_op, c->gen, &c->inflight);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&c->sa, c->salen);
	io_uring_sqe_set_data(sqe, &c->connect_op);
	*out = c;
	return 0;
}

/* Whether c's handshake ran past its bound at now: HANDSHAKE_BUSY_MS when it was refused
 * or its listener is three quarters full, else HANDSHAKE_TIMEOUT_MS. */
static bool handshake_late(const struct hw_conn *c, int64_t now)
{
	const struct hw_listener *l = c->lis;
	bool busy =
		c->refused || (l != NULL && (uint64_t)l->conns * 4u >= (uint64_t)l->conns_max * 3u);
	return now - c->hs_started_ms >= (busy ? HANDSHAKE_BUSY_MS : HANDSHAKE_TIMEOUT_MS);
}

static void hs_sweep_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	struct hw_ring *r = arg;
	int64_t now = hw_loop_now_ms(r->loop);
	for (struct hw_conn *c = r->conns; c; c = c->next) {
		if (c->ch && !c->closing && !hw_channel_is_open(c->ch) && handshake_late(c, now)) {
			log_unopened(c, "channel_refused", -ETIMEDOUT);
			conn_close(c, -ETIMEDOUT);
		}
	}
	hw_log_every_flush(&r->refused_every, "channel_refused", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&r->cut_every, "channel_cut", now, HW_FLOOD_LOG_MS);
}

int hw_conn_set_send_timeout(struct hw_conn *c, unsigned ms)
{
	if (!c->is_tcp)
		return 0;
	return setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms) == 0 ? 0 : -errno;
}

int hw_ring_set_channel(struct hw_ring *r, const struct hw_channel_config *cfg)
{
	r->secure = false;
	hw_timer_free(r->hs_sweep);
	r->hs_sweep = NULL;
	hw_identity_wipe(&r->id);
	if (cfg == NULL || cfg->insecure) {
		hw_log("security", "insecure=true channel=off");
		return 0;
	}
	if (cfg->self == NULL || cfg->cluster_id == NULL || cfg->pinned_count == 0 ||
	    cfg->pinned_count > HW_CHANNEL_PINNED_MAX ||
	    strlen(cfg->cluster_id) > HW_CHANNEL_CLUSTER_BYTES)
		return HW_ECONFIG;
	r->chcfg = *cfg;
	r->id = *cfg->self;
	memcpy(r->pinned, cfg->pinned, cfg->pinned_count * HW_CHANNEL_KEY_BYTES);
	strcpy(r->cluster, cfg->cluster_id);
	r->chcfg.self = &r->id;
	r->chcfg.pinned = r->pinned;
	r->chcfg.cluster_id = r->cluster;
	int rc = hw_timer_new(r->loop, HANDSHAKE_SWEEP_MS, HANDSHAKE_SWEEP_MS, hs_sweep_cb, r,
			      &r->hs_sweep);
	if (rc)
		return rc;
	r->secure = true;
	char fp[HW_CHANNEL_FINGERPRINT_CHARS + 1];
	hw_channel_fingerprint(r->id.kx_pk, fp);
	hw_log("security", "insecure=false channel=on key=%s pinned=%zu", fp, cfg->pinned_count);
	return 0;
}

void hw_conn_set_ops(struct hw_conn *c, const struct hw_conn_ops *ops, void *arg)
{
	HW_ASSERT(ops != NULL);
	c->ops = ops;
	c->arg = arg;
}

int hw_conn_send2(struct hw_conn *c, const void *a, size_t alen, const void *b, size_t blen)
{
	if (c->closing)
		return HW_ECLOSED;
	size_t len = alen + blen;
	if (len > HW_CONN_SEND_MAX)
		return -EMSGSIZE;
	if (len > hw_conn_send_room(c)) {
		c->hit_busy = true;
		return HW_EBUSY;
	}
	if (len == 0)
		return 0;
	uint8_t *dst = c->sbuf[c->fill] + c->slen[c->fill];
	if (alen)
		memcpy(dst, a, alen);
	if (blen)
		memcpy(dst + alen, b, blen);
	c->slen[c->fill] += len;
	c->queued_total += len;
	if (!c->send_op.busy)
		kick(c);
	return 0;
}

int hw_conn_send(struct hw_conn *c, const void *buf, size_t len)
{
	return hw_conn_send2(c, buf, len, NULL, 0);
}

uint64_t hw_conn_queued_total(const struct hw_conn *c)
{
	return c->queued_total;
}

size_t hw_conn_send_room(const struct hw_conn *c)
{
	/* Sealed bytes in flight may pass HW_CONN_SEND_MAX by their records' overhead. */
	size_t q = send_queued(c);
	return c->closing || q >= HW_CONN_SEND_MAX ? 0 : HW_CONN_SEND_MAX - q;
}

void hw_conn_want_writable(struct hw_conn *c)
{
	c->hit_busy = true;
}

void hw_conn_pause(struct hw_conn *c)
{
	c->paused = true;
}

void hw_conn_resume(struct hw_conn *c)
{
	if (!c->paused)
		return;
	c->paused = false;
	if (c->rlen > 0 || c->plen > 0)
		c->redeliver = true;
	kick(c);
}

void hw_conn_close(struct hw_conn *c, int code)
{
	conn_close(c, code);
}

void hw_conn_close_sent(struct hw_conn *c, int code)
{
	if (c->send_op.busy || send_queued(c) > 0 || c->hslen > 0)
		c->close_when_sent = code ? code : HW_ECLOSED;
	else
		conn_close(c, code);
}

bool hw_conn_hello_late(const struct hw_conn *c, bool insecure, int64_t accepted_ms, int64_t now,
			uint64_t open, uint64_t cap)
{
	int64_t wait = open * 4u >= cap * 3u ? HW_HELLO_BUSY_MS : HW_HELLO_WAIT_MS;
	return now - accepted_ms >= wait && (insecure || hw_conn_peer_key(c) != NULL);
}

bool hw_conn_closing(const struct hw_conn *c)
{
	return c->closing || c->close_when_sent != 0;
}

/* A refused connection's callbacks: none (no owner to tell). */
static const struct hw_conn_ops refused_ops = {0};

void hw_conn_refuse(struct hw_conn *c, int code)
{
	hw_conn_set_ops(c, &refused_ops, NULL);
	c->refused = true;
	hw_conn_close_sent(c, code);
}

const char *hw_conn_peer(const struct hw_conn *c)
{
	return c->peer;
}

const uint8_t *hw_conn_peer_key(const struct hw_conn *c)
{
	return c->ch && hw_channel_is_open(c->ch) ? hw_channel_peer_key(c->ch) : NULL;
}

void hw_ring_set_refusal_cb(struct hw_ring *r, hw_refusal_cb *cb, void *arg)
{
	r->refusal_cb = cb;
	r->refusal_arg = arg;
}
