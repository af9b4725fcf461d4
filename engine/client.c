/* client.c: the client side of a node's client port (include/hawser.h, client_int.h).
 *
 * Plain blocking POSIX sockets, not io_uring: this runs inside other processes (a TOS,
 * `hawser submit`, the bench), one thread per handle. Sends go out whole with sendmsg
 * (MSG_NOSIGNAL: a closed peer is an error code, never SIGPIPE); receives fill one
 * buffer big enough for the largest frame, and frames are parsed in place from it.
 * Any stream or socket failure is sticky: the stream cannot be resynchronised, so every
 * later call returns the same code and the caller reconnects (a client given a list does
 * so by itself, engine/client_follow.c).
 *
 * With security (hw_client_connect_secure) each connection runs the channel of
 * engine/io/channel.h as its initiator: a blocking handshake after the connect (then, at
 * an address that names its node, ID@ADDR, a check that the node's key is that node's),
 * each frame sealed into one record, and received records opened from raw into rbuf,
 * where frames are parsed as before. rbuf then holds two frames, so a record that carries
 * the end of one frame and the start of the next always fits after a partial frame. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/names.h"
#include "base/arena.h"
#include "base/assert.h"
#include "base/log.h"
#include "engine/client_handle.h"
#include "engine/client_int.h"
#include "engine/core/targets.h"
#include "engine/dial.h"
#include "engine/io/channel.h"
#include "engine/io/frame.h"
#include "hawser.h"
#include "wire.pb-c.h"

#define CONNECT_TIMEOUT_MS 5000
#define PROTOCOL_VERSION   1u
/* Decoded replies hold two short strings; a budget keeps a hostile reply from making the
 * client allocate without bound (the frame itself is bounded by HW_FRAME_BYTES_MAX). */
#define DECODE_BYTES_MAX (1u << 20)
/* Pause between two rounds over the addresses while no node answers as the primary
 * (an election under way): short against an RTO of seconds. */
#define RECONNECT_PAUSE_MS 50
/* How long a node may take over its handshake and Hello once another node has answered
 * in the same round (as a standby: an election may be under way), at first in a search;
 * doubled for that node each time it runs out, up to CONNECT_TIMEOUT_MS. A node answers
 * a Hello from its loop within milliseconds; one that accepts and says nothing (its
 * process stopped or its loop stalled, as an old primary's may be) costs a round this,
 * not 5 s, while one merely slow is still reached a few rounds on. */
#define HELLO_PATIENCE_MS 500
/* A node that promised a heartbeat every H ms (its Hello) and sent nothing for
 * HW_TG_CLIENT_SILENT_BEATS of them, and for at least HW_TG_CLIENT_SILENCE_MIN_MS
 * (hw_tg_client_silence_ms, engine/core/targets.h: the planner counts the same time
 * against the RTO), has stopped: its process stopped or its loop is stuck, while its
 * kernel still keeps the connection (TCP's own timeouts never fire). The connection
 * counts as lost (HW_ECLOSED) and a following client looks for the primary. */
/* Following the primary (a client given a list, engine/client_follow.c): how long one
 * search for the new primary lasts by default (an election within the largest RTO the
 * planner accepts by default, with room). */
#define FOLLOW_WAIT_MS 60000

/* The largest frame a client sends (a SUBMIT), and the record it is sealed into. */
#define SEND_FRAME_MAX (HW_FRAME_HEADER_BYTES + HW_SUBMIT_HEADER_BYTES + HW_RECORD_BYTES_MAX)
_Static_assert(SEND_FRAME_MAX <= HW_PORT_FRAME_MAX, "a node's port opens every record sealed");
#define RAW_CAP        HW_CHANNEL_RECORD_BYTES(HW_CHANNEL_PLAINTEXT_MAX)
/* What a resend may leave half written: one SUBMIT frame, sealed. */
#define PEND_BYTES HW_CHANNEL_RECORD_BYTES(SEND_FRAME_MAX)
/* A client has at most HW_CLIENT_INFLIGHT_MAX submits without an outcome
 * (hw_client_submit), and rbuf holds all their outcomes: while a submit waits to be
 * written it can always read (wait_writable), so it always hears a node's heartbeats and
 * silence, and a node never waits for it to read. So rbuf full of frames, heartbeats
 * dropped, holds frames nobody asked for: the node broke the protocol (make_room). */
_Static_assert(HW_FRAME_BYTES_MAX / HW_SUBMIT_REPLY_FRAME_MAX >= HW_CLIENT_INFLIGHT_MAX,
	       "a client's buffer holds the outcomes of all its submits in flight");

/* What this file's stderr lines show of outside text (a list given, a cluster id, a
 * node's words), escaped (hw_log_escaped), at most; an address of the list whole. */
#define SHOWN_TEXT_MAX   1024u
#define SHOWN_ADDR_CHARS HW_LOG_ESCAPED_CHARS(HW_ADDR_CHARS_MAX)

/* Address i of c as its stderr lines show it, into buf[SHOWN_ADDR_CHARS]: a host or a
 * socket's path may hold a newline or ESC, which would forge a line or act on a terminal. */
static const char *shown_addr(const struct hw_client *c, uint32_t i, char *buf)
{
	return hw_log_escaped(c->addrs[i], buf, SHOWN_ADDR_CHARS);
}

/* Milliseconds left until deadline (-1: none) as a poll timeout; 0 once it passed. */
static int left_ms(int64_t deadline)
{
	if (deadline <= 0) /* none, or already past (deadline_of) */
		return deadline < 0 ? -1 : 0;
	int64_t left = deadline - hw_mono_ms();
	return left <= 0 ? 0 : (int)(left > 1000000 ? 1000000 : left);
}

/* The deadline timeout_ms from now: -1 for none (timeout_ms < 0), and 0, a time every
 * reading of the clock is past, for no time at all. A drain of the outcomes buffered after
 * the caller's poll (hw_client_wait with timeout 0, until -ETIMEDOUT) then reads the clock
 * only for what it receives (rx_ms), not once a call and again a read. */
static int64_t deadline_of(int timeout_ms)
{
	if (timeout_ms <= 0)
		return timeout_ms < 0 ? -1 : 0;
	return hw_mono_ms() + timeout_ms;
}

static void *arena_alloc_cb(void *data, size_t size)
{
	return hw_arena_alloc(data, size);
}

static void arena_free_cb(void *data, void *p)
{
	(void)data;
	(void)p; /* the arena owns every byte */
}

/* ---------------------------------------------------------------- frames */

/* The stream is done for: code for good, from now on (a damaged or unexpected frame, a
 * refusal, an ERROR among the outcomes): nothing more is taken from the buffers, and it
 * takes the place of a lost connection's code (set_lost) whose frames were being taken.
 * A connection that timed out (keep-alive, unacknowledged data: the peer's host is gone)
 * is a lost connection, never -ETIMEDOUT, which callers read as "no outcome yet, wait
 * again". */
static int set_failed(struct hw_client *c, int code)
{
	if (!c->failed || c->lost)
		c->failed = code == -ETIMEDOUT ? HW_ECLOSED : code;
	c->lost = false;
	return c->failed;
}

/* client_int.h, client_handle.h */
int hw__client_fail(struct hw_client *c, int code)
{
	return set_failed(c, code);
}

/* The connection is done for (the node closed or reset it, its host vanished, it was
 * silent past the bound, a channel record failed to open): code for good, but the frames it brought
 * that wait in the buffers are still taken first (read_frame), so an outcome that arrived is never
 * reported in doubt. */
static int set_lost(struct hw_client *c, int code)
{
	if (c->failed)
		return c->failed;
	c->lost = true;
	c->failed = code == -ETIMEDOUT ? HW_ECLOSED : code;
	return c->failed;
}

/* One non-blocking recv into buf[*len..cap), which must have room: the bytes read (> 0),
 * each a sign that the node is there (rx_ms); 0 when none waited; or the sticky error:
 * end of stream is HW_ECLOSED, or on a channel cut short the channel's verdict. It never
 * sleeps, so no signal interrupts it: the poll before it is where a signal comes
 * (receive). */
static ssize_t recv_some(struct hw_client *c, uint8_t *buf, size_t cap, size_t *len)
{
	HW_ASSERT(*len < cap); /* a recv of nothing would read as the end of the stream */
	ssize_t got = recv(c->fd, buf + *len, cap - *len, MSG_DONTWAIT);
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (got < 0)
		return set_lost(c, errno == ECONNRESET ? HW_ECLOSED : -errno);
	if (got == 0) {
		int rc = c->ch && !hw_channel_is_open(c->ch) ? hw_channel_eof(c->ch) : 0;
		return set_lost(c, rc ? rc : HW_ECLOSED);
	}
	c->rx_ms = hw_mono_ms();
	*len += (size_t)got;
	return got;
}

/* Wait until deadline for bytes and add them to buf[*len..cap). 0, -ETIMEDOUT (not
 * sticky: the stream is still good), -EINTR for a caught signal when intr (a dial's
 * handshake and Hello: hawser.h ends a connect's dial so; else the wait goes on), or the
 * sticky error. A deadline already past reads without polling first: draining what is
 * buffered (hw_client_wait with timeout 0, after the caller's own poll) takes one recv
 * per read, not a poll and a recv. And when such a recv read less than it had room for,
 * the socket was empty: the next read with no time left returns -ETIMEDOUT without asking
 * it again (once; the caller polls before it reads again), so a drain costs one recv, not
 * two. */
static int receive(struct hw_client *c, uint8_t *buf, size_t cap, size_t *len, int64_t deadline,
		   bool intr)
{
	for (;;) {
		int wait = left_ms(deadline);
		if (wait == 0 && c->drained) {
			c->drained = false;
			return -ETIMEDOUT;
		}
		int64_t quiet_end = c->silence_ms > 0 ? c->rx_ms + c->silence_ms : -1;
		if (wait != 0) {
			/* wake when the node has been silent too long, if that comes first */
			int quiet = quiet_end >= 0 ? left_ms(quiet_end) : -1;
			bool by_silence = quiet >= 0 && (wait < 0 || quiet < wait);
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
			int n = poll(&pfd, 1, by_silence ? quiet : wait);
			if (n < 0 && errno == EINTR && !intr)
				continue;
			if (n < 0)
				return errno == EINTR ? -EINTR : set_lost(c, -errno);
			if (n == 0)
				return by_silence ? set_lost(c, -ETIMEDOUT) : -ETIMEDOUT;
		}
		size_t room = cap - *len;
		ssize_t got = recv_some(c, buf, cap, len);
		if (got < 0)
			return (int)got;
		if (got == 0 && wait == 0) /* nothing came: has the node been silent too long? */
			return quiet_end >= 0 && hw_mono_ms() >= quiet_end ? set_lost(c, -ETIMEDOUT)
									   : -ETIMEDOUT;
		if (got == 0)
			continue; /* polled readable, and nothing there after all */
		c->drained = wait == 0 && (size_t)got < room;
		return 0;
	}
}

/* Open the whole records in raw into rbuf, as far as rbuf has room (c->unopened: a whole
 * one is left that did not fit). Returns how many were opened (> 0), 0 when none is whole
 * yet, or the sticky error. */
static int open_records(struct hw_client *c)
{
	size_t off = 0;
	int opened = 0, rc = 0;
	while (rc == 0 && off < c->rawlen) {
		size_t used, got;
		rc = hw_channel_open(c->ch, c->raw + off, c->rawlen - off, &used, c->rbuf + c->rlen,
				     c->rcap - c->rlen, &got);
		if (rc == 0) {
			off += used;
			c->rlen += got;
			opened++;
		}
	}
	c->rawlen -= off;
	memmove(c->raw, c->raw + off, c->rawlen);
	c->unopened = rc == -ENOBUFS;
	if (rc == 0 || rc == -EAGAIN || rc == -ENOBUFS)
		return opened;
	/* a record that fails ends the stream, but what opened before it was authenticated:
	 * taken first, as a lost connection's frames are */
	int lost = set_lost(c, rc);
	return opened > 0 ? opened : lost;
}

/* Drop from rbuf what no wait needs: the bytes already taken, and the heartbeats among
 * the frames kept (they only said that the node was there, which rx_ms noted as they
 * came). A node under back-pressure for hours sends a great many while a submit waits to
 * be written. The other frames stay, in order; a damaged one and what follows it stay as
 * they are, for read_frame to report. */
static void drop_beats(struct hw_client *c)
{
	size_t at = c->rhead, kept = 0;
	struct hw_frame f;
	long r;
	while ((r = hw_frame_parse(c->rbuf + at, c->rlen - at, &f)) > 0) {
		if (f.type != HW_FRAME_HEARTBEAT) {
			memmove(c->rbuf + kept, c->rbuf + at, (size_t)r);
			kept += (size_t)r;
		}
		at += (size_t)r;
	}
	memmove(c->rbuf + kept, c->rbuf + at, c->rlen - at);
	c->rlen = kept + (c->rlen - at);
	c->rhead = 0;
}

/* Room to read into while a submit waits to be written: in rbuf (plaintext) or in raw
 * (secure: its records opened into rbuf as far as rbuf has room), once there is none
 * after dropping what no wait needs (drop_beats). 0 when the stream failed: a record did
 * not open, or the buffers are full all the same. Those hold the outcomes of every
 * submit in flight with room to spare (the _Static_assert at the top), so they are full
 * of frames nobody asked for: HW_EPROTOCOL, sticky, as for a damaged frame (a client
 * that follows searches again). A client that could not read would not tell a stopped
 * node from one waiting for it to read, and on a Unix socket (no TCP_USER_TIMEOUT)
 * nothing would end its wait to write. */
static size_t make_room(struct hw_client *c)
{
	for (bool dropped = false;; dropped = true) {
		if (c->secure && open_records(c) < 0)
			return 0;
		size_t room = c->secure ? RAW_CAP - c->rawlen : c->rcap - c->rlen;
		if (room > 0)
			return room;
		if (dropped) {
			(void)set_failed(c, HW_EPROTOCOL);
			return 0;
		}
		drop_beats(c);
	}
}

/* Take what the node sent while a submit waits to be written (make_room), for the waits
 * to take in their turn: 0, or the sticky error (the node closed, or filled the buffers
 * with what was not asked for, among others). */
static int take_arrived(struct hw_client *c)
{
	c->drained = false; /* what the socket holds is this read's now, not the caller's */
	for (;;) {
		size_t room = make_room(c);
		if (c->failed) /* make_room has room, or c failed */
			return c->failed;
		uint8_t *buf = c->secure ? c->raw : c->rbuf;
		size_t *len = c->secure ? &c->rawlen : &c->rlen;
		ssize_t got = recv_some(c, buf, *len + room, len);
		if (got <= 0)
			return (int)got;
	}
}

/* Wait until the socket takes more bytes, or deadline (-1: none). 0, -ETIMEDOUT, -EINTR
 * for a caught signal when intr (else the wait goes on), or the sticky error.
 *
 * A node that reads nothing for a while (back-pressure: its queues are full) is not lost:
 * with a node whose Hello promised heartbeats (and so no bound on unacknowledged data,
 * hw_dial_heartbeats) the wait lasts as long as that does, and takes what the node sends
 * meanwhile (take_arrived), so that the silence rule of a read tells a node that stopped
 * (HW_ECLOSED once it sent nothing for c->silence_ms) and the node's answers do not back
 * up behind this write. The buffers always have room for those answers: a node that
 * fills them with frames not asked for ends the stream (make_room), so the client never
 * stops reading, nor judging silence, while it waits. */
static int wait_writable(struct hw_client *c, int64_t deadline, bool intr)
{
	for (;;) {
		bool watch = c->silence_ms > 0 && make_room(c) > 0;
		if (c->failed)
			return c->failed;
		int wait = left_ms(deadline);
		int quiet = watch ? left_ms(c->rx_ms + c->silence_ms) : -1;
		bool by_silence = watch && (wait < 0 || quiet < wait);
		struct pollfd pfd = {.fd = c->fd,
				     .events = (short)(POLLOUT | (watch ? POLLIN : 0))};
		int n = poll(&pfd, 1, by_silence ? quiet : wait);
		if (n < 0 && errno == EINTR && !intr)
			continue;
		if (n < 0)
			return errno == EINTR ? -EINTR : set_lost(c, -errno);
		if (n == 0)
			return by_silence ? set_lost(c, -ETIMEDOUT) : -ETIMEDOUT;
		if ((pfd.revents & ~POLLIN) != 0)
			return 0; /* writable, or an error or a hang-up: the write says which */
		int rc = take_arrived(c);
		if (rc)
			return rc;
	}
}

/* A write failed for good with code: what the node sent before is still taken (as far
 * as there is room), so that its outcomes come before the loss is reported (set_lost).
 * Once the node's Hello is in, that is (silence_ms: before it, the bytes are the
 * handshake's or the Hello's own). */
static int write_failed(struct hw_client *c, int code)
{
	if (c->silence_ms > 0)
		(void)take_arrived(c);
	return set_lost(c, code);
}

/* Write iov[0..*n) as they are, by deadline, moving *iov and *n past what went. 0 once
 * all went; -ETIMEDOUT (the deadline passed), -EINTR (intr and a caught signal), each with
 * *n > 0 and the stream still good; or the sticky error. */
static int write_iov(struct hw_client *c, struct iovec **iovp, int *np, int64_t deadline, bool intr)
{
	struct iovec *iov = *iovp;
	int n = *np, rc = 0;
	while (rc == 0 && n > 0) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			rc = wait_writable(c, deadline, intr);
		else if (w < 0 && errno != EINTR)
			rc = write_failed(c, errno == EPIPE || errno == ECONNRESET ? HW_ECLOSED
										   : -errno);
		size_t done = w > 0 ? (size_t)w : 0;
		while (n > 0 && done >= iov->iov_len) {
			done -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	*iovp = iov;
	*np = n;
	return rc;
}

/* Write what a resend left in c->pend, by deadline: as write_iov (client_handle.h). */
int hw__client_pend_write(struct hw_client *c, int64_t deadline, bool intr)
{
	if (c->pend_off == c->pend_len)
		return 0;
	struct iovec one = {c->pend + c->pend_off, c->pend_len - c->pend_off}, *iov = &one;
	int n = 1;
	int rc = write_iov(c, &iov, &n, deadline, intr);
	c->pend_off = n > 0 ? (size_t)((uint8_t *)one.iov_base - c->pend) : 0;
	c->pend_len = n > 0 ? c->pend_len : 0;
	return rc;
}

/* Write the iovecs whole, as they are, after what c->pend holds. Ordinary sends block
 * (deadline -1, intr false). A resend (engine/client_follow.c) passes its caller's deadline and
 * intr, with c->pend empty: when time runs out (or a signal comes) part-way, the rest goes to
 * c->pend, to be written before any other byte, and -ETIMEDOUT (-EINTR) says so; the
 * bytes count as sent either way, so a frame is never cut short or begun twice. */
static int send_raw(struct hw_client *c, struct iovec *iov, int n, int64_t deadline, bool intr)
{
	HW_ASSERT((deadline < 0 && !intr) || c->pend_off == c->pend_len);
	int rc = hw__client_pend_write(c, -1, false);
	if (rc == 0)
		rc = write_iov(c, &iov, &n, deadline, intr);
	if (n > 0 && (rc == -ETIMEDOUT || rc == -EINTR)) {
		size_t len = 0;
		for (int i = 0; i < n; i++) {
			HW_ASSERT(len + iov[i].iov_len <= PEND_BYTES);
			memcpy(c->pend + len, iov[i].iov_base, iov[i].iov_len);
			len += iov[i].iov_len;
		}
		c->pend_off = 0;
		c->pend_len = len;
	}
	return rc;
}

/* Write the iovecs (whole frames, at most SEND_FRAME_MAX bytes) whole: secure, sealed as
 * one record (never plaintext). deadline and intr as for send_raw. */
static int send_until(struct hw_client *c, struct iovec *iov, int n, int64_t deadline, bool intr)
{
	struct iovec sealed;
	if (c->secure) {
		const uint8_t *pt = iov[0].iov_base;
		size_t len = iov[0].iov_len;
		if (n > 1) { /* gathered into pt */
			len = 0;
			for (int i = 0; i < n; i++) {
				HW_ASSERT(len + iov[i].iov_len <= SEND_FRAME_MAX);
				memcpy(c->pt + len, iov[i].iov_base, iov[i].iov_len);
				len += iov[i].iov_len;
			}
			pt = c->pt;
		}
		HW_ASSERT(len <= SEND_FRAME_MAX);
		size_t out;
		int rc = hw_channel_seal(c->ch, pt, len, c->ct,
					 HW_CHANNEL_RECORD_BYTES(SEND_FRAME_MAX), &out);
		if (rc)
			return set_failed(c, rc);
		sealed = (struct iovec){c->ct, out};
		iov = &sealed;
		n = 1;
	}
	return send_raw(c, iov, n, deadline, intr);
}

/* An ordinary send: blocking. */
static int send_now(struct hw_client *c, struct iovec *iov, int n)
{
	return send_until(c, iov, n, -1, false);
}

/* Send the held frames, in one record and one write. */
static int send_held(struct hw_client *c)
{
	struct iovec iov = {c->q, c->qlen};
	c->qlen = 0;
	return iov.iov_len ? send_now(c, &iov, 1) : 0;
}

/* Send a frame, or while holding add it to the held ones (sent first if it does not fit
 * after them). */
static int send_or_hold(struct hw_client *c, struct iovec *iov, int n)
{
	if (!c->holding)
		return send_now(c, iov, n);
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (c->qlen + len > SEND_FRAME_MAX) {
		int rc = send_held(c);
		if (rc)
			return rc;
	}
	for (int i = 0; i < n; i++) {
		memcpy(c->q + c->qlen, iov[i].iov_base, iov[i].iov_len);
		c->qlen += iov[i].iov_len;
	}
	return 0;
}

/* A frame other than a submit: held submits go first, then it, at once. */
static int send_frame(struct hw_client *c, enum hw_frame_type type, const uint8_t *body,
		      uint32_t len)
{
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	hw_frame_header(hdr, type, body, len);
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)body, len}};
	int rc = send_held(c);
	return rc ? rc : send_now(c, iov, len ? 2 : 1);
}

/* Next whole frame, waiting until deadline (-1: none; intr as for receive). f->body
 * points into c->rbuf and stays valid until the next call. After the connection was lost
 * (set_lost) the frames it brought are still taken, and then its code is returned. */
/* After a lost connection, one non-blocking read of what the kernel still holds of what
 * the node sent before (the socket stays open until the next connection): > 0 bytes
 * added, else 0 or the sticky error. */
static ssize_t drain_lost(struct hw_client *c)
{
	uint8_t *buf = c->secure ? c->raw : c->rbuf;
	size_t *len = c->secure ? &c->rawlen : &c->rlen;
	size_t cap = c->secure ? RAW_CAP : c->rcap;
	if (!c->lost || c->fd < 0 || *len == cap)
		return 0;
	return recv_some(c, buf, cap, len);
}

static int read_frame(struct hw_client *c, int64_t deadline, bool intr, struct hw_frame *f)
{
	for (;;) {
		if (c->failed && !c->lost)
			return c->failed;
		long r = hw_frame_parse(c->rbuf + c->rhead, c->rlen - c->rhead, f);
		if (r > 0) {
			c->rhead += (size_t)r;
			return 0;
		}
		if (r < 0)
			return set_failed(c, HW_EFRAME);
		if (c->rhead > 0) { /* room for a whole frame at the start of the buffer */
			memmove(c->rbuf, c->rbuf + c->rhead, c->rlen - c->rhead);
			c->rlen -= c->rhead;
			c->rhead = 0;
		}
		int rc = c->secure ? open_records(c) : 0;
		if (rc > 0)
			continue;
		/* Lost, and nothing whole is left of what it brought (a record that failed
		 * comes after those before it): what the kernel still holds of it first, then
		 * the loss alone, for good and for free; nothing the node sends later. */
		if (rc == 0 && c->failed && drain_lost(c) > 0)
			continue;
		if (rc < 0 || c->failed) {
			c->lost = false;
			return c->failed;
		}
		rc = c->secure ? receive(c, c->raw, RAW_CAP, &c->rawlen, deadline, intr)
			       : receive(c, c->rbuf, c->rcap, &c->rlen, deadline, intr);
		if (rc != 0 && c->lost)
			continue; /* lost meanwhile: what it brought comes first */
		if (rc)
			return rc;
	}
}

/* After a frame that answers nothing (a heartbeat): is the caller's time up, with no
 * byte read and left? Then the wait ends; a node sending heartbeats without end cannot
 * hold it past its deadline, and what was read already is still taken. */
static bool past_with_nothing_buffered(const struct hw_client *c, int64_t deadline)
{
	return deadline >= 0 && hw_mono_ms() >= deadline && c->rhead == c->rlen && c->rawlen == 0;
}

/* Whether a code a node sent may reach the caller as it is: 0 (when zero_ok) or a code
 * hawser_error.h names (an HW_E* code, or an errno). -EINTR and -EAGAIN may not: the API
 * gives them meanings of their own (call again), so a node that sent one would make a
 * caller retry for ever. */
static bool wire_code_ok(int code, bool zero_ok)
{
	if (code == 0)
		return zero_ok;
	return code < 0 && code != -EINTR && code != -EAGAIN && hw_errknown(code);
}

/* The code an ERROR frame carries (a malformed one, or one wire_code_ok refuses, is
 * HW_EPROTOCOL, sticky).
 *
 * Which ERROR ends the connection follows from what the node does (engine/node*.c). It
 * refuses a connection with an ERROR and then closes it: another cluster or protocol
 * version at the Hello (hw__node_refuse), too many connections (hw__session_new, before
 * the Hello is read). It answers a request it does not serve with an ERROR and keeps the
 * connection open (hw__node_send_error alone): a DIGEST_QUERY while another runs
 * (HW_EBUSY) or that cannot start, an OPERATOR_EVENT or a DRILL_FAULT it refuses. It
 * never answers a SUBMIT with one (a refused submit gets a SUBMIT_REPLY with its code).
 * So an ERROR is read by where it comes: in answer to the Hello or among the outcomes
 * (error_frame) the node is closing, and its code is sticky; in answer to a request
 * (hw__client_request()) it is that request's answer, returned while the stream stays
 * good (should the node close after all, the next read finds the close: HW_ECLOSED). */
static int error_code(struct hw_client *c, const struct hw_frame *f)
{
	char shown[HW_LOG_ESCAPED_CHARS(SHOWN_TEXT_MAX)]; /* the node's words, escaped */
	ProtobufCAllocator pa = {arena_alloc_cb, arena_free_cb, &c->arena};
	hw_arena_reset(&c->arena);
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(&pa, f->len, f->body);
	if (e == NULL || !wire_code_ok(e->code, false))
		return set_failed(c, HW_EPROTOCOL);
	if (e->message && e->message[0])
		fprintf(stderr, "hawser client: node refused: %s\n",
			hw_log_escaped(e->message, shown, sizeof shown));
	return e->code;
}

/* An ERROR where the node closes after it (error_code): sticky. */
static int error_frame(struct hw_client *c, const struct hw_frame *f)
{
	return set_failed(c, error_code(c, f));
}

/* ---------------------------------------------------------------- hello */

/* Send this side's Hello and read the node's by deadline: the dial's, which the connect
 * and the handshake before it used too. A caught signal ends it, -EINTR (receive). The
 * sends of a dial (the Hello, the handshake's) are a few hundred bytes on a fresh
 * connection, which its socket buffer takes at once: they never wait. */
static int hello(struct hw_client *c, int64_t deadline)
{
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = PROTOCOL_VERSION;
	h.role = HAWSER__WIRE__V1__ROLE__CLIENT;
	uint8_t buf[64];
	size_t n = hawser__wire__v1__hello__get_packed_size(&h);
	if (n > sizeof(buf))
		return HW_EPROTOCOL;
	hawser__wire__v1__hello__pack(&h, buf);
	int rc = send_frame(c, HW_FRAME_HELLO, buf, (uint32_t)n);
	if (rc)
		return rc;
	struct hw_frame f;
	rc = read_frame(c, deadline, true, &f);
	if (rc)
		return rc;
	if (f.type == HW_FRAME_ERROR)
		return error_frame(c, &f);
	if (f.type != HW_FRAME_HELLO)
		return set_failed(c, HW_EPROTOCOL);
	ProtobufCAllocator pa = {arena_alloc_cb, arena_free_cb, &c->arena};
	hw_arena_reset(&c->arena);
	Hawser__Wire__V1__Hello *r = hawser__wire__v1__hello__unpack(&pa, f.len, f.body);
	if (r == NULL)
		return set_failed(c, HW_EPROTOCOL);
	if (r->protocol_version != PROTOCOL_VERSION)
		return set_failed(c, HW_ECLUSTER);
	c->role = (int)r->role;
	c->silence_ms = hw_tg_client_silence_ms((int64_t)r->heartbeat_ms);
	if (c->silence_ms > 0) /* its silence tells a lost node now (wait_writable too) */
		hw_dial_heartbeats(c->fd, true);
	return 0;
}

/* Send this side's handshake bytes due now, raw. */
static int handshake_send(struct hw_client *c)
{
	uint8_t out[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
	size_t n;
	int rc = hw_channel_handshake_out(c->ch, out, sizeof out, &n);
	if (rc)
		return set_failed(c, rc);
	struct iovec iov = {out, n};
	return n ? send_raw(c, &iov, 1, -1, false) : 0;
}

/* The handshake with the node at address i (c->cur) failed with rc: when the node closed
 * the connection before its reply (HW_EHANDSHAKE, the stream lost), it refused this client
 * as it refuses, telling nothing, one whose cluster id (--cluster) or protocol version is
 * not its own and one whose key it does not pin: the client cannot tell which (the node's
 * log does), so it names both, on stderr once per address in a search. */
static void say_closed_in_handshake(struct hw_client *c, int rc)
{
	uint32_t i = c->cur;
	if (rc != HW_EHANDSHAKE || !c->lost || (c->refusals_said & 1u << i))
		return;
	char addr[SHOWN_ADDR_CHARS], cluster[HW_LOG_ESCAPED_CHARS(HW_CHANNEL_CLUSTER_BYTES)];
	fprintf(stderr,
		"hawser client: %s closed the connection during the handshake: the node refused "
		"this client, as it does when its cluster id differs from --cluster '%s' (or its "
		"protocol version differs) or it does not pin this client's key; its log says "
		"which (channel_refused code=HW_ECLUSTER or HW_EAUTH)\n",
		shown_addr(c, i, addr), hw_log_escaped(c->cluster, cluster, sizeof cluster));
	c->refusals_said |= 1u << i;
}

/* A fresh channel on the new connection and its handshake, blocking up to deadline; a
 * caught signal ends it, -EINTR, never sticky (the dial ends: connect_round). */
static int handshake(struct hw_client *c, int64_t deadline)
{
	hw_channel_free(c->ch);
	c->ch = NULL;
	c->rawlen = 0;
	struct hw_channel_config cfg = {
		.role = HW_CHANNEL_INITIATOR,
		.self = &c->id,
		.pinned = &c->pins[0][0],
		.pinned_count = c->n_pins,
		.cluster_id = c->cluster,
	};
	int rc = hw_channel_new(&cfg, &c->ch);
	if (rc == 0)
		rc = handshake_send(c);
	while (rc == 0 && !hw_channel_is_open(c->ch)) {
		size_t used;
		rc = hw_channel_handshake_in(c->ch, c->raw, c->rawlen, &used);
		if (rc == -EAGAIN) {
			rc = receive(c, c->raw, RAW_CAP, &c->rawlen, deadline, true);
			continue;
		}
		if (rc == 0) {
			c->rawlen -= used;
			memmove(c->raw, c->raw + used, c->rawlen);
			rc = handshake_send(c);
		}
	}
	say_closed_in_handshake(c, rc);
	return rc == 0 || rc == -EINTR ? rc : set_failed(c, rc);
}

/* The node address i names (ID@ADDR) into id, "" when it names none. */
static void addr_node(const struct hw_client *c, uint32_t i, char id[HW_ID_CHARS_MAX + 1])
{
	size_t n;
	hw_addr_split(c->addrs[i], &n);
	HW_ASSERT(n <= HW_ID_CHARS_MAX); /* hw_addrs_parse checked it */
	memcpy(id, c->addrs[i], n);
	id[n] = '\0';
}

/* Whether the node on c's channel may answer at address i: the address names no node,
 * or the key the handshake authenticated is pinned as the node it names (ID@ADDR: its
 * file ID.pub or ID.<anything>.pub), the rule the nodes check each other by
 * (hw_security_peer_is). id gets the name ("" for none). */
static bool named_node(const struct hw_client *c, uint32_t i, char id[HW_ID_CHARS_MAX + 1])
{
	addr_node(c, i, id);
	return id[0] == '\0' || hw_channel_pinned_as(c->pins, c->pin_names, c->n_pins,
						     hw_channel_peer_key(c->ch), id);
}

/* Refuse another pinned key (a client's, say) that answers at an address naming its node
 * (named_node), before a frame is sent: 0, or HW_EAUTH (sticky), said on stderr once per
 * address in a search. */
static int check_node_key(struct hw_client *c, uint32_t i)
{
	char id[HW_ID_CHARS_MAX + 1];
	if (named_node(c, i, id))
		return 0;
	if (!(c->refusals_said & 1u << i)) {
		char fp[HW_CHANNEL_FINGERPRINT_CHARS + 1], addr[SHOWN_ADDR_CHARS];
		hw_channel_fingerprint(hw_channel_peer_key(c->ch), fp);
		fprintf(stderr,
			"hawser client: %s refused: the key that answered, key=%s, is not pinned "
			"as node %s (%s.pub), so it is not %s (code=HW_EAUTH)\n",
			shown_addr(c, i, addr), fp, id, id, id);
	}
	c->refusals_said |= 1u << i;
	return set_failed(c, HW_EAUTH);
}

/* Take fd, connected to address i, as the connection: a fresh stream (what was
 * buffered from the old one is dropped), then the handshake and the Hello, by deadline.
 * 0 or the error; c->fd is -1 after an error. */
static int connect_to(struct hw_client *c, uint32_t i, int fd, int64_t deadline)
{
	HW_ASSERT(c->fd < 0); /* connect_round closed the last one */
	c->fd = fd;
	c->failed = 0;
	c->lost = false;
	c->rhead = c->rlen = 0;
	c->drained = false;
	c->unopened = false;
	c->owed = 0;
	c->unanswered = 0; /* a fresh stream: the old one's outcomes are gone with it */
	c->pend_off = c->pend_len = 0;
	c->role = 0;
	c->silence_ms = 0; /* until the node's Hello says */
	c->rx_ms = hw_mono_ms();
	c->cur = i;
	int rc = c->secure ? handshake(c, deadline) : 0;
	if (rc == 0 && c->secure)
		rc = check_node_key(c, i);
	if (rc == 0)
		rc = hello(c, deadline);
	if (rc != 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->connects += rc == 0;
	return rc;
}

/* c's dials, once (engine/dial.h): what their host names resolve to is kept from one
 * search to the next. */
static void dials_init(struct hw_client *c)
{
	const char *addrs[ADDRS_MAX];
	for (uint32_t k = 0; k < c->n_addrs; k++) {
		size_t id_len;
		addrs[k] = hw_addr_split(c->addrs[k], &id_len); /* dialled without its ID@ */
	}
	hw_dials_init(&c->dials, addrs, c->n_addrs, CONNECT_TIMEOUT_MS);
}

/* Begin a search for the primary, unless one is under way. */
static void search_begin(struct hw_client *c)
{
	if (c->dialing)
		return;
	for (uint32_t k = 0; k < c->n_addrs; k++)
		c->patience_ms[k] = HELLO_PATIENCE_MS;
	c->refusals_said = 0;
	c->dialing = true;
}

/* The search is over: found, given up, or the handle closing (client_handle.h). */
void hw__client_search_done(struct hw_client *c)
{
	if (c->dialing)
		hw_dials_close(&c->dials);
	c->dialing = false;
}

/* One round of the search over the addresses starting after c->cur (at it when
 * first): the first primary, or with one address that node whatever its role. The
 * connects overlap (engine/dial.h): one that has not connected within HW_DIAL_STAGGER_MS
 * no longer holds up the next address. The nodes that connect are asked in turn, in the
 * round's order. A dial (its connect, the secure handshake and the Hello) lasts at most
 * CONNECT_TIMEOUT_MS of its own (hawser.h's 5 s per address), however the time falls
 * between them. Except in a connect's first round (first), once a node has answered as
 * a standby the round does not wait for connects that have had their stagger (they go
 * on into the next round), and a node's handshake and Hello may take its patience
 * (HELLO_PATIENCE_MS, doubled each time it runs out): so a host that does not answer,
 * or a process that accepts and says nothing, costs a round the stagger or the patience,
 * not the timeout. */
static int connect_round(struct hw_client *c, bool first)
{
	struct hw_dials *ds = &c->dials;
	if (c->fd >= 0) /* a search has no connection (hw_client_fd) */
		close(c->fd);
	c->fd = -1;
	/* a node passed over is not dialled either (its Hello would be thrown away), but for
	 * the only one */
	bool shun = c->n_addrs > 1 && hw__client_shunned(c, c->shun);
	hw_dials_round(ds, (c->cur + (first ? 0 : 1)) % c->n_addrs, shun ? c->shun : HW_DIAL_MAX);
	bool standby_seen = false;
	uint32_t i;
	int fd, rc;
	while ((rc = hw_dials_next(ds, standby_seen && !first, &i, &fd)) == 0) {
		int64_t began = hw_mono_ms(), deadline = ds->d[i].deadline;
		bool cut = standby_seen && !first && began + c->patience_ms[i] < deadline;
		rc = connect_to(c, i, fd, cut ? began + c->patience_ms[i] : deadline);
		if (rc == -EINTR ||
		    (rc == 0 && (c->n_addrs == 1 || c->role == HAWSER__WIRE__V1__ROLE__PRIMARY)))
			break;
		if (rc == -ETIMEDOUT && cut && c->patience_ms[i] < CONNECT_TIMEOUT_MS)
			c->patience_ms[i] *= 2;
		if (rc == 0) {
			close(c->fd);
			c->fd = -1;
			standby_seen = true;
		}
		ds->d[i].rc = rc;
		hw_dials_charge(ds, hw_mono_ms() - began);
	}
	if (rc == 0 || rc == -EINTR)
		return rc;
	/* a node that answered as a standby says more than a refused dial */
	return standby_seen || rc > 0 ? HW_ENOT_PRIMARY : rc;
}

/* Rounds of the search (connect_round), pausing between them, until one finds the
 * primary or deadline (-1: none) comes; at least one round. A search that has not found
 * it goes on at the next call (client_handle.h). */
int hw__client_search(struct hw_client *c, int64_t deadline)
{
	c->holding = false; /* held frames die with the connection (a follower resends) */
	c->qlen = 0;
	search_begin(c);
	for (;;) {
		int rc = connect_round(c, false);
		if (rc == 0) {
			hw__client_search_done(c);
			return 0;
		}
		/* A round that found no primary leaves no connection, and c failed with what
		 * hawser.h promises: HW_ENOT_PRIMARY when a node answered as a standby, else
		 * HW_ECLOSED. Never the round's own code, which the search returns: callers read
		 * -ETIMEDOUT as "no outcome yet", -EINTR as "call again", HW_EBUSY (a node at its
		 * connection limit) and -EAGAIN (a full Unix backlog) as "try again", and would
		 * spin on a dead handle. */
		c->failed = rc == HW_ENOT_PRIMARY ? HW_ENOT_PRIMARY : HW_ECLOSED;
		c->lost = false; /* no connection: nothing of one is left to take */
		if (rc == -EINTR || (deadline >= 0 && hw_mono_ms() + RECONNECT_PAUSE_MS > deadline))
			return rc;
		if (poll(NULL, 0, RECONNECT_PAUSE_MS) < 0 && errno == EINTR)
			return -EINTR;
	}
}

int hw_client_reconnect(struct hw_client *c, int timeout_ms)
{
	if (c == NULL)
		return -EINVAL;
	/* the caller resubmits what was in flight: the copies kept to follow go */
	c->fl_head = c->fl_count = c->fl_busy = c->fl_unsent = 0;
	c->fl_failed = 0;
	c->follows = 0;
	c->search_end = 0;
	c->shun_end = 0;
	int rc = hw__client_search(c, deadline_of(timeout_ms));
	if (rc == -EINTR)
		hw__client_search_done(c);
	return rc;
}

int hw_client_set_follow_ms(struct hw_client *c, int ms)
{
	if (c == NULL)
		return -EINVAL;
	if (ms <= 0) /* not "no limit", as a wait's < 0 is: a search ended after one round */
		return HW_ERANGE;
	c->follow_ms = ms;
	return 0;
}

const char *hw_client_addr(const struct hw_client *c)
{
	return c->addrs[c->cur];
}

int64_t hw_client_silence_ms(const struct hw_client *c)
{
	return c->silence_ms;
}

uint32_t hw_client_connects(const struct hw_client *c)
{
	return c->connects;
}

/* Take sec's keys into c (NULL: plaintext). HW_ECONFIG with a message on stderr. */
static int take_security(struct hw_client *c, const struct hw_client_security *sec)
{
	if (sec == NULL || sec->insecure)
		return 0;
	if (!sec->cluster_id || !sec->key || !sec->peers) {
		fprintf(stderr, "hawser client: the channel needs a cluster id, this client's "
				"node.key and the nodes' node.pub files (or insecure)\n");
		return HW_ECONFIG;
	}
	if (strlen(sec->cluster_id) > HW_CHANNEL_CLUSTER_BYTES) {
		char shown[HW_LOG_ESCAPED_CHARS(
			SHOWN_TEXT_MAX)]; /* the caller's: it forges no line */
		fprintf(stderr, "hawser client: cluster id '%s' is longer than %u characters\n",
			hw_log_escaped(sec->cluster_id, shown, sizeof shown),
			(unsigned)HW_CHANNEL_CLUSTER_BYTES);
		return HW_ECONFIG;
	}
	char bad[256], shown[HW_LOG_ESCAPED_CHARS(PATH_MAX)]; /* paths given: escaped */
	int rc = hw_channel_pins_parse(sec->peers, c->pins, c->pin_names, HW_CHANNEL_PINNED_MAX,
				       &c->n_pins, bad, sizeof bad);
	if (rc) {
		fprintf(stderr, "hawser client: pinned key %s: %s\n",
			hw_log_escaped(bad, shown, sizeof shown), hw_channel_pins_strerror(rc));
		return HW_ECONFIG;
	}
	rc = hw_identity_load(sec->key, &c->id);
	if (rc) {
		fprintf(stderr, "hawser client: key %s: %s\n",
			hw_log_escaped(sec->key, shown, sizeof shown),
			rc == HW_ECONFIG ? "not a node.key of hawser keygen, or readable by group "
					   "or others (chmod 600)"
					 : hw_strerror(rc));
		return HW_ECONFIG;
	}
	strcpy(c->cluster, sec->cluster_id);
	c->raw = malloc(RAW_CAP);
	c->pt = malloc(SEND_FRAME_MAX);
	c->ct = malloc(HW_CHANNEL_RECORD_BYTES(SEND_FRAME_MAX));
	c->secure = true;
	return c->raw && c->pt && c->ct ? 0 : HW_ENOMEM;
}

/* A plaintext client has no key to check that a node is the one an address names
 * (ID@ADDR): such an address is refused, HW_ECONFIG with a message on stderr, rather than
 * taken as if it had been checked. */
static int check_plaintext_addrs(const struct hw_client *c)
{
	for (uint32_t k = 0; !c->secure && k < c->n_addrs; k++) {
		char id[HW_ID_CHARS_MAX + 1], addr[SHOWN_ADDR_CHARS];
		addr_node(c, k, id);
		if (id[0] != '\0') {
			fprintf(stderr,
				"hawser client: %s names node %s, which a plaintext connection "
				"cannot check: connect with keys, or give the address alone\n",
				shown_addr(c, k, addr), id);
			return HW_ECONFIG;
		}
	}
	return 0;
}

/* Whether a dial's code says the node refused this client's channel, keys or cluster:
 * a retry cannot help, the client's settings must change. */
static bool refused_us(int rc)
{
	return rc == HW_EHANDSHAKE || rc == HW_EAUTH || rc == HW_ECHANNEL || rc == HW_ECLUSTER;
}

/* A connect given a list where no node answered as the primary: HW_ENOT_PRIMARY, as
 * hawser.h says, not the last dial's code (which depended on the order: -ECONNREFUSED
 * here, -ENOENT there), unless a node refused this client (refused_us: the first such
 * code, in the list's order); what each address gave goes on stderr for the operator. */
static int no_primary(const struct hw_client *c)
{
	char line[HW_DIAL_MAX * (SHOWN_ADDR_CHARS + 64)], addr[SHOWN_ADDR_CHARS];
	size_t at = 0;
	int refused = 0;
	for (uint32_t i = 0; i < c->n_addrs && at < sizeof line; i++) {
		int rc = c->dials.d[i].rc;
		int len = snprintf(line + at, sizeof line - at, "%s %s: %s", i ? "," : "",
				   shown_addr(c, i, addr), rc != 0 ? hw_strerror(rc) : "a standby");
		at += len > 0 ? (size_t)len : 0;
		if (refused == 0 && refused_us(rc))
			refused = rc;
	}
	fprintf(stderr, "hawser client: no node answered as the primary:%s\n", line);
	return refused != 0 ? refused : HW_ENOT_PRIMARY;
}

int hw_client_connect(const char *addr, struct hw_client **out)
{
	return hw_client_connect_secure(addr, NULL, out);
}

int hw_client_connect_secure(const char *addr, const struct hw_client_security *sec,
			     struct hw_client **out)
{
	if (out == NULL)
		return -EINVAL;
	*out = NULL;
	if (addr == NULL)
		return -EINVAL;
	struct hw_client *c = calloc(1, sizeof(*c));
	if (!c)
		return HW_ENOMEM;
	c->fd = -1;
	c->follow_ms = FOLLOW_WAIT_MS;
	/* a channel's records may straddle frames: room for two (see the top) */
	bool secure = sec != NULL && !sec->insecure;
	c->rcap = (HW_FRAME_BYTES_MAX + HW_FRAME_HEADER_BYTES) * (secure ? 2u : 1u);
	c->rbuf = malloc(c->rcap);
	c->q = malloc(SEND_FRAME_MAX);
	hw_arena_init(&c->arena, 4096, DECODE_BYTES_MAX);
	int rc = c->rbuf && c->q ? take_security(c, sec) : HW_ENOMEM;
	if (rc) {
		hw_client_close(c);
		return rc;
	}
	size_t n_addrs = 0;
	rc = hw_addrs_parse(addr, c->addrs, ADDRS_MAX, &n_addrs);
	c->n_addrs = (uint32_t)n_addrs;
	char shown[HW_LOG_ESCAPED_CHARS(SHOWN_TEXT_MAX)]; /* the caller's: it forges no line */
	if (rc != 0) /* -EINVAL alone does not say which part of the list is wrong */
		fprintf(stderr,
			"hawser client: '%s' is not a list of addresses: HOST:PORT or unix:/path "
			"(ID@ in front or not), at most %u, comma-separated\n",
			hw_log_escaped(addr, shown, sizeof shown), (unsigned)ADDRS_MAX);
	if (rc == 0)
		rc = check_plaintext_addrs(c);
	if (rc == 0 && c->n_addrs > 1 &&
	    (!(c->fl = calloc(HW_CLIENT_INFLIGHT_MAX, sizeof *c->fl)) ||
	     !(c->pend = malloc(PEND_BYTES))))
		rc = HW_ENOMEM;
	if (rc == 0) {
		dials_init(c);
		search_begin(c);
		rc = connect_round(c, true);
		if (rc < 0 && rc != -EINTR && rc != HW_ENOT_PRIMARY && c->n_addrs > 1)
			rc = no_primary(c); /* before the dials, and their codes, are closed */
		hw__client_search_done(c);
	}
	if (rc) {
		hw_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void hw_client_close(struct hw_client *c)
{
	if (!c)
		return;
	hw__client_search_done(c);
	hw_dials_fini(&c->dials);
	if (c->fd >= 0)
		close(c->fd);
	hw_arena_fini(&c->arena);
	hw_channel_free(c->ch);
	hw_identity_wipe(&c->id);
	free(c->raw);
	free(c->pt);
	free(c->ct);
	free(c->rbuf);
	free(c->q);
	for (uint32_t i = 0; c->fl != NULL && i < HW_CLIENT_INFLIGHT_MAX; i++)
		free(c->fl[i].bytes);
	free(c->fl);
	free(c->pend);
	free(c);
}

/* ---------------------------------------------------------------- submit, wait */

/* The header bytes of a SUBMIT frame: the frame's header, then the submit header. */
#define SUBMIT_HEAD_BYTES (HW_FRAME_HEADER_BYTES + HW_SUBMIT_HEADER_BYTES)

/* A SUBMIT frame in iov[0..n), n returned: its header and submit header in head, then the
 * record where the caller has it (none when len is 0). The frame's CRC covers both pieces
 * (hw_frame_header2), so the record is not copied to make the body one piece: a sealed or
 * held frame copies it once, a plaintext one not at all (sendmsg gathers). */
static int submit_frame(uint64_t request_id, const uint8_t *record, size_t len,
			enum hw_durability mode, unsigned k, uint8_t head[SUBMIT_HEAD_BYTES],
			struct iovec iov[2])
{
	struct hw_submit_hdr sh = {
		.request_id = request_id,
		.mode = mode == HW_DEFAULT ? (uint8_t)HW_SUBMIT_MODE_DEFAULT : (uint8_t)mode,
		.k = (uint8_t)k,
	};
	uint8_t *sub = head + HW_FRAME_HEADER_BYTES;
	hw_submit_hdr_put(sub, &sh);
	hw_frame_header2(head, HW_FRAME_SUBMIT, sub, HW_SUBMIT_HEADER_BYTES, record, (uint32_t)len);
	iov[0] = (struct iovec){head, SUBMIT_HEAD_BYTES};
	iov[1] = (struct iovec){(void *)record, len};
	return len ? 2 : 1;
}

int hw__client_send_submit(struct hw_client *c, uint64_t request_id, const uint8_t *record,
			   size_t len, enum hw_durability mode, unsigned k)
{
	uint8_t head[SUBMIT_HEAD_BYTES];
	struct iovec iov[2];
	int n = submit_frame(request_id, record, len, mode, k, head, iov);
	return send_or_hold(c, iov, n);
}

int hw__client_send_submit_by(struct hw_client *c, uint64_t request_id, const uint8_t *record,
			      size_t len, enum hw_durability mode, unsigned k, int64_t deadline,
			      bool intr)
{
	uint8_t head[SUBMIT_HEAD_BYTES];
	struct iovec iov[2];
	int n = submit_frame(request_id, record, len, mode, k, head, iov);
	return send_until(c, iov, n, deadline, intr);
}

int hw_client_submit(struct hw_client *c, uint64_t request_id, const uint8_t *record, size_t len,
		     enum hw_durability mode, unsigned k)
{
	if (c == NULL)
		return -EINVAL;
	if (c->fl_failed)
		return c->fl_failed;
	if (record == NULL && len > 0)
		return -EINVAL;
	if (len > HW_RECORD_BYTES_MAX)
		return HW_ETOOBIG;
	if ((mode > HW_APPLIED && mode != HW_DEFAULT) || k > 255)
		return HW_ERANGE;
	if (c->fl != NULL)
		return hw__client_submit_kept(c, request_id, record, len, mode, k);
	if (c->failed)
		return c->failed;
	if (c->unanswered == HW_CLIENT_INFLIGHT_MAX)
		return HW_EBUSY; /* its outcomes might not fit in rbuf: wait for one first */
	int rc = hw__client_send_submit(c, request_id, record, len, mode, k);
	c->unanswered += rc == 0;
	return rc;
}

/* A SUBMIT_REPLY into out: decoded by hand (hw_frame_submit_reply_get), the one frame a
 * record brings back. */
static int reply(struct hw_client *c, const struct hw_frame *f, struct hw_outcome *out)
{
	if (hw_frame_submit_reply_get(f->body, f->len, out) != 0 || !wire_code_ok(out->code, true))
		return set_failed(c, HW_EPROTOCOL);
	return 0;
}

/* The next outcome into out, by deadline. Among the outcomes, a frame other than a
 * SUBMIT_REPLY or a heartbeat is the late answer of a request that timed out, while one
 * is owed (hw__client_request: an ERROR too, a request's answer that keeps the
 * connection): skipped, as a request skips it. Any other is the node closing (an ERROR:
 * its code) or breaking the protocol, sticky. */
static int wait_frame(struct hw_client *c, int64_t deadline, struct hw_outcome *out)
{
	for (;;) {
		struct hw_frame f;
		int rc = read_frame(c, deadline, false, &f);
		if (rc)
			return rc;
		if (c->owed > 0 && f.type != HW_FRAME_SUBMIT_REPLY &&
		    f.type != HW_FRAME_HEARTBEAT) {
			c->owed--;
			continue;
		}
		switch (f.type) {
		case HW_FRAME_SUBMIT_REPLY:
			return reply(c, &f, out);
		case HW_FRAME_ERROR:
			return error_frame(c, &f);
		case HW_FRAME_HEARTBEAT: /* keep-alive: carries no outcome */
			if (past_with_nothing_buffered(c, deadline))
				return -ETIMEDOUT; /* however many more come */
			continue;
		default:
			return set_failed(c, HW_EPROTOCOL);
		}
	}
}

void hw_client_hold(struct hw_client *c)
{
	if (c != NULL)
		c->holding = true;
}

int hw_client_flush(struct hw_client *c)
{
	if (c == NULL)
		return -EINVAL;
	c->holding = false;
	if (c->fl_failed)
		return c->fl_failed;
	int rc = c->failed ? c->failed : send_held(c);
	if (rc && hw__client_follow_helps(c, rc))
		return 0; /* kept: the next wait finds the primary and sends them */
	return rc;
}

/* hw_client_wait() on a c and out that are there; out may hold a frame's partial outcome
 * when this fails (hw_client_wait clears it). */
static int wait_outcome(struct hw_client *c, int timeout_ms, struct hw_outcome *out)
{
	int64_t deadline = deadline_of(timeout_ms);
	if (c->holding) { /* what is held goes out before waiting for its outcome */
		int rc = hw_client_flush(c);
		if (rc && c->fl == NULL && !c->lost) /* else what arrived comes first */
			return rc;
	}
	if (c->fl_failed)
		return hw__client_fail_next(c, out);
	for (;;) {
		/* a resend first; when the time runs out in it, or the connection is lost, what
		 * has arrived is still taken */
		int rc = hw__client_resend(c, deadline);
		if (rc == -EINTR)
			return rc;
		rc = wait_frame(c, deadline, out);
		if (c->fl == NULL) {
			/* an outcome not asked for (a node's mistake) does not count below 0 */
			c->unanswered -= rc == 0 && c->unanswered > 0;
			return rc;
		}
		if (rc == 0 && !hw__client_outcome_follows(out->code)) {
			hw__client_kept_done(c, out->request_id);
			c->follows = 0;
			return 0;
		}
		if (rc == 0) {
			/* The node stepped down, or is going away (stopping, or its storage
			 * failed). The outcomes it sent after this one, successes among them, are
			 * taken first, as a lost connection's are (set_lost): a search now would
			 * drop them, and their records would come back in doubt or as duplicates.
			 * This one, and any other it answered so, stays in flight, to be sent to
			 * the new primary, unless it was refused so for failed storage before. */
			bool final = hw__client_refused_again(c, out);
			set_lost(c, hw__client_left(c, out->code));
			if (final) {
				c->follows = 0;
				return 0;
			}
			continue;
		}
		if (!hw__client_follow_helps(c, rc))
			return rc;
		rc = hw__client_follow(c, deadline);
		if (rc == -EINTR || rc == -ETIMEDOUT)
			return rc;
		if (rc != 0)
			return hw__client_fail_next(c, out);
	}
}

int hw_client_wait(struct hw_client *c, int timeout_ms, struct hw_outcome *out)
{
	if (out == NULL)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	int rc = c == NULL ? -EINVAL : wait_outcome(c, timeout_ms, out);
	if (rc != 0) { /* no outcome: nothing of an earlier one, nor of a frame cut short */
		memset(out, 0, sizeof *out);
		out->code = rc;
	}
	return rc;
}

int hw_client_fd(const struct hw_client *c)
{
	return hw__client_resending(c) ? -1 : c->fd;
}

bool hw_client_ready(const struct hw_client *c)
{
	if (c->fd < 0) /* a search: hw_client_fd() says so */
		return false;
	struct hw_frame f; /* a whole frame (or a damaged one), or the end of the connection */
	return c->failed != 0 || c->unopened ||
	       hw_frame_parse(c->rbuf + c->rhead, c->rlen - c->rhead, &f) != 0;
}

/* client_int.h. The late answers of earlier requests that timed out (c->owed) are
 * skipped, so a late reply is never taken for this one's; an ERROR frame leaves the
 * connection good (error_code says why). */
int hw__client_request(struct hw_client *c, enum hw_frame_type req_type,
		       const struct ProtobufCMessage *q, enum hw_frame_type reply_type,
		       int timeout_ms, struct hw_frame *f)
{
	*f = (struct hw_frame){0}; /* type 0: no frame answered (client_int.h) */
	if (c->failed)
		return c->failed;
	uint8_t buf[256];
	if (protobuf_c_message_get_packed_size(q) > sizeof buf)
		return HW_ERANGE;
	size_t n = protobuf_c_message_pack(q, buf);
	int rc = send_frame(c, req_type, buf, (uint32_t)n);
	if (rc)
		return rc;
	/* The node answers a connection's requests in order, one answer each: those of
	 * requests that timed out come first and are not this one's. */
	c->owed++;
	int64_t deadline = deadline_of(timeout_ms);
	do {
		do
			rc = read_frame(c, deadline, false, f);
		while (rc == 0 && f->type == HW_FRAME_HEARTBEAT &&
		       !past_with_nothing_buffered(c, deadline));
		if (rc == 0 && f->type == HW_FRAME_HEARTBEAT)
			rc = -ETIMEDOUT;
		if (rc) { /* a heartbeat, or an answer owed to an earlier request, is none */
			*f = (struct hw_frame){0};
			return rc;
		}
	} while (--c->owed > 0);
	if (f->type == HW_FRAME_ERROR) /* the node's answer: it keeps the connection */
		return error_code(c, f);
	return f->type == reply_type ? 0 : set_failed(c, HW_EPROTOCOL);
}
