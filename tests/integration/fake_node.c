/* fake_node.c: the fake node of the client library's tests (fake_node.h). */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "engine/io/frame.h"
#include "tests/integration/fake_node.h"
#include "tests/integration/fake_wire.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

/* The fake node runs on its own thread, where a cmocka assert cannot jump: it reports
 * nothing and the client side's asserts see the effect. */
/* Per-connection buffer of the fake node; one frame at most plus a partial one. */
#define SRV_BUF_BYTES (2u * (HW_FRAME_HEADER_BYTES + HW_SUBMIT_HEADER_BYTES + HW_RECORD_BYTES_MAX))
/* UNASKED's outcomes: past a plaintext client's buffer (a largest frame and its header),
 * by less than any socket buffer between holds, so the node's send of them ends. */
#define UNASKED_BYTES (HW_FRAME_BYTES_MAX + HW_FRAME_HEADER_BYTES + 4096u)

static void send_digest_reply(int fd, uint64_t lsn)
{
	Hawser__Wire__V1__DigestReply r = HAWSER__WIRE__V1__DIGEST_REPLY__INIT;
	r.lsn = lsn;
	uint8_t buf[64];
	size_t n = hawser__wire__v1__digest_reply__pack(&r, buf);
	(void)hw_fake_send_frame(fd, HW_FRAME_DIGEST_REPLY, buf, (uint32_t)n);
}

/* The answer of DIGEST_AT, DIGEST_ODD, FULL_SCRATCH, FULL_UNNAMED, RANGE_DIGEST or
 * GONE_DIGEST to the query f. */
static void answer_digest(const struct server *s, int fd, const struct hw_frame *f)
{
	Hawser__Wire__V1__DigestQuery *q =
		hawser__wire__v1__digest_query__unpack(NULL, f->len, f->body);
	Hawser__Wire__V1__DigestReply r = HAWSER__WIRE__V1__DIGEST_REPLY__INIT;
	uint8_t digest[HW_HASH_BYTES], buf[512];
	char id[16];
	snprintf(id, sizeof id, "fake%u", (unsigned)s->port);
	memset(digest, s->how == DIGEST_ODD ? FAKE_DIGEST + 1 : FAKE_DIGEST, sizeof digest);
	r.node_id = id;
	r.lsn = q != NULL && q->lsn != 0 ? q->lsn : DIGEST_LSN;
	if (s->how == FULL_UNNAMED) {
		r.code = HW_ESTORE_FULL;
		r.message = NO_ROOM_WHY;
	} else if (s->how == RANGE_DIGEST || s->how == GONE_DIGEST) {
		r.code = s->how == RANGE_DIGEST ? HW_ERANGE : HW_ENOTFOUND;
		r.message = s->how == RANGE_DIGEST ? RANGE_WHY : GONE_WHY;
	} else if (s->how == FULL_SCRATCH) {
		r.code = -ENOSPC;
		r.message = NO_ROOM_WHY;
		r.scratch = NO_ROOM_SCRATCH;
		r.need_bytes = NO_ROOM_NEED_KIB * 1024ull;
		r.free_bytes = NO_ROOM_FREE_KIB * 1024ull;
	} else {
		r.how = HAWSER__WIRE__V1__DIGEST_HOW__DIGEST_SNAPSHOT;
		r.digest = (ProtobufCBinaryData){.len = sizeof digest, .data = digest};
	}
	if (q != NULL)
		hawser__wire__v1__digest_query__free_unpacked(q, NULL);
	size_t n = hawser__wire__v1__digest_reply__pack(&r, buf);
	(void)hw_fake_send_frame(fd, HW_FRAME_DIGEST_REPLY, buf, (uint32_t)n);
}

static void send_status(int fd)
{
	Hawser__Wire__V1__PeerStatus p = HAWSER__WIRE__V1__PEER_STATUS__INIT;
	p.node_id = "s1";
	p.connected = 1;
	p.received = 40;
	p.durable = 39;
	p.applied = 38;
	p.lag_records = 2;
	p.lag_ms = 3;
	Hawser__Wire__V1__PeerStatus *peers[1] = {&p};
	Hawser__Wire__V1__Status s = HAWSER__WIRE__V1__STATUS__INIT;
	s.node_id = "fake";
	s.role = HAWSER__WIRE__V1__ROLE__PRIMARY;
	s.epoch = 3;
	s.last_lsn = 40;
	s.durable_lsn = 40;
	s.mode = "durable";
	s.k = 1;
	s.n_peers = 1;
	s.peers = peers;
	uint8_t buf[512];
	size_t n = hawser__wire__v1__status__pack(&s, buf);
	(void)hw_fake_send_frame(fd, HW_FRAME_STATUS, buf, (uint32_t)n);
}

bool gate_wait(struct server *s, int ms)
{
	s->gate_expired = !hw_test_sem_wait(&s->go, ms);
	return !s->gate_expired;
}

/* UNASKED: outcomes of no submit (ids from 1 << 40), UNASKED_BYTES of them at least, in
 * one write. */
static void send_unasked(int fd)
{
	uint8_t *out = malloc(UNASKED_BYTES + HW_FAKE_REPLY_BYTES_MAX);
	size_t len = 0;
	for (uint64_t id = 1ull << 40; out != NULL && len < UNASKED_BYTES; id++)
		len += hw_fake_reply_frame(out + len, HW_FAKE_REPLY_BYTES_MAX, id, 0, false);
	if (out != NULL)
		(void)send(fd, out, len, MSG_NOSIGNAL);
	free(out);
}

/* STEP_DOWN: once three SUBMITs came, the first refused HW_ENOT_PRIMARY and the next two
 * accepted, all in one write, so that they reach the client together. */
static void step_down(const struct server *s, int fd)
{
	uint8_t out[3 * HW_FAKE_REPLY_BYTES_MAX];
	size_t len = 0;
	for (uint64_t i = 0; s->submits == 3 && i < 3; i++)
		len += hw_fake_reply_frame(out + len, sizeof out - len, s->ids[i],
					   i == 0 ? HW_ENOT_PRIMARY : 0, false);
	if (len > 0)
		(void)send(fd, out, len, MSG_NOSIGNAL);
}

/* The client's hello: false when the connection is to end. */
static bool on_hello(struct server *s, int fd, const struct hw_frame *f)
{
	Hawser__Wire__V1__Hello *h = hawser__wire__v1__hello__unpack(NULL, f->len, f->body);
	if (!h)
		return false;
	s->client_role = h->role;
	bool ok = h->protocol_version == 1;
	hawser__wire__v1__hello__free_unpacked(h, NULL);
	if (s->how == REFUSE_HELLO || !ok) {
		hw_fake_send_error(fd, HW_ECLUSTER);
		return false;
	}
	if (s->how == FULL_LATER && s->connections > 1) {
		hw_fake_send_error(fd, HW_EBUSY);
		return false;
	}
	if (s->how == LATE_HELLO)
		gate_wait(s, MUTE_VALVE_S * 1000);
	if (s->how == SLOW_HELLO)
		gate_wait(s, LATE_REPLY_MS);
	bool standby = s->how == STANDBY || (s->how == LATE_PRIMARY && !atomic_load(&s->promoted));
	hw_fake_send_hello(
		fd, standby ? HAWSER__WIRE__V1__ROLE__STANDBY : HAWSER__WIRE__V1__ROLE__PRIMARY,
		s->how == STOPPED || s->how == BEATING || s->how == UNASKED ? BEAT_MS : 0);
	if (s->how == RESTARTS && s->connections <= RESTARTS_N)
		return false;
	if (s->how == UNASKED) {
		send_unasked(fd);
		gate_wait(s, GATE_VALVE_S * 1000);
		return false;
	}
	while (s->how == FLOOD)
		if (!hw_fake_send_heartbeat(fd))
			return false;
	if (s->how == GATED) {
		s->cfd = fd;
		sem_post(&s->ready);
		gate_wait(s, GATE_VALVE_S * 1000);
	}
	return true;
}

/* A status request or digest query: 1 answered (go on), 0 refused (end the connection),
 * -1 not one this server's how answers here. */
static int on_query(struct server *s, int fd, const struct hw_frame *f)
{
	if (f->type == HW_FRAME_STATUS_REQUEST && s->how == LATE_STATUS && s->queries++ == 0)
		gate_wait(s, GATE_VALVE_S * 1000);
	if (f->type == HW_FRAME_STATUS_REQUEST &&
	    (s->how == STATUS || s->how == BUSY_DIGEST || s->how == LATE_STATUS)) {
		send_status(fd);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == REFUSE_DIGEST) {
		hw_fake_send_error(fd, HW_EFAULT_OFF);
		return 0;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == NOMEM_DIGEST) {
		hw_fake_send_error(fd, HW_ENOMEM);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == FAILED_DIGEST) {
		hw_fake_send_error(fd, HW_ESTORE_FAILED);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == BUSY_DIGEST && s->queries++ == 0) {
		hw_fake_send_error(fd, HW_EBUSY);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == BUSY_DIGEST) {
		send_digest_reply(fd, 7);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY &&
	    (s->how == DIGEST_AT || s->how == DIGEST_ODD || s->how == FULL_SCRATCH ||
	     s->how == FULL_UNNAMED || s->how == RANGE_DIGEST || s->how == GONE_DIGEST)) {
		answer_digest(s, fd, f);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == JUNK_DIGEST) {
		static const uint8_t junk[] = {0xff, 0xff, 0xff}; /* a varint without end */
		(void)hw_fake_send_frame(fd, HW_FRAME_DIGEST_REPLY, junk, sizeof junk);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == EMPTY_DIGEST) {
		send_digest_reply(fd, DIGEST_LSN);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == WRONG_REPLY) {
		send_status(fd);
		return 1;
	}
	if (f->type == HW_FRAME_DIGEST_QUERY && s->how == LATE_DIGEST) {
		if (++s->queries == 2) {
			send_digest_reply(fd, 1);
			send_digest_reply(fd, 2);
		}
		return 1;
	}
	return -1;
}

/* One frame from the client: false when it closed or sent garbage. */
static bool on_frame(struct server *s, int fd, const struct hw_frame *f)
{
	if (f->type == HW_FRAME_HELLO)
		return on_hello(s, fd, f);
	int q = on_query(s, fd, f);
	if (q >= 0)
		return q == 1;
	struct hw_submit_hdr sh;
	if (f->type != HW_FRAME_SUBMIT || hw_submit_hdr_get(f->body, f->len, &sh) != 0)
		return false;
	if (s->submits < IDS_MAX)
		s->ids[s->submits] = sh.request_id;
	s->submits++;
	switch (s->how) {
	case BEATING:
		for (int t = 0; t < HOLD_MS; t += BEAT_MS) {
			if (!hw_fake_send_heartbeat(fd))
				return false;
			if (gate_wait(s, BEAT_MS))
				break; /* the test let the answer go */
		}
		hw_fake_send_reply(fd, sh.request_id, 0, false);
		return true;
	case STOPPED:
		return true; /* read, never answered */
	case ECHO:
	case GATED:
	case SLOW_HELLO:
	case LATE_HELLO:
	case LATE_STATUS:
	case LATE_PRIMARY:
	case RESTARTS:
		hw_fake_send_reply(fd, sh.request_id, 0, false);
		return true;
	case REJECT:
		hw_fake_send_reply(fd, sh.request_id, HW_ECHECK_DIGIT, false);
		return true;
	case FAILED_STORE:
		hw_fake_send_reply(fd, sh.request_id, HW_ESTORE_FAILED, false);
		return true;
	case TIMEDOUT:
		hw_fake_send_error(fd, -ETIMEDOUT);
		return false;
	case EINTR_ERROR:
		hw_fake_send_error(fd, -EINTR);
		return false;
	case ODD_REPLY:
		hw_fake_send_reply(fd, sh.request_id, 5, false);
		return true;
	case HOLD_FIRST:
		if (s->submits > 1)
			hw_fake_send_reply(fd, sh.request_id, 0, false);
		return true;
	case CORRUPT:
		hw_fake_send_reply(fd, sh.request_id, 0, true);
		return true;
	case STEP_DOWN:
		step_down(s, fd);
		return true;
	default:
		return false; /* CLOSE */
	}
}

void *serve(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	s->connections++;
	uint8_t *buf = malloc(SRV_BUF_BYTES);
	size_t have = 0;
	bool going = buf != NULL;
	while (going) {
		ssize_t got = recv(fd, buf + have, SRV_BUF_BYTES - have, 0);
		if (got <= 0)
			break;
		have += (size_t)got;
		size_t at = 0;
		struct hw_frame f;
		long r;
		while (going && (r = hw_frame_parse(buf + at, have - at, &f)) > 0) {
			going = on_frame(s, fd, &f);
			at += (size_t)r;
		}
		memmove(buf, buf + at, have - at);
		have -= at;
	}
	free(buf);
	close(fd);
	return NULL;
}

/* s behaves as how, its semaphores ready, no socket yet. */
static void server_init(struct server *s, enum behaviour how)
{
	memset(s, 0, sizeof *s);
	s->how = how;
	sem_init(&s->ready, 0, 0);
	sem_init(&s->go, 0, 0);
}

void server_bind(struct server *s, enum behaviour how)
{
	server_init(s, how);
	s->lfd = hw_fake_bind(&s->port);
	assert_true(s->lfd >= 0);
}

void server_serve(struct server *s)
{
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

void server_start(struct server *s, enum behaviour how)
{
	server_bind(s, how);
	server_serve(s);
}

void server_start_unix(struct server *s, enum behaviour how, const char *path)
{
	server_init(s, how);
	s->lfd = hw_fake_listen_unix(path, 4);
	assert_true(s->lfd >= 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

/* Serve connections one after another until server_stop. */
static void *serve_many(void *arg)
{
	struct server *s = arg;
	while (!atomic_load(&s->stop))
		serve(s);
	return NULL;
}

void server_start_many(struct server *s, enum behaviour how)
{
	server_bind(s, how);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve_many, s), 0);
}

void server_unbind(struct server *s)
{
	close(s->lfd);
	sem_destroy(&s->ready);
	sem_destroy(&s->go);
}

void server_join(struct server *s)
{
	pthread_join(s->thread, NULL);
	server_unbind(s);
}

struct sockaddr_in server_sin(const struct server *s)
{
	return (struct sockaddr_in){.sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				    .sin_port = htons(s->port)};
}

void poke(const struct server *s)
{
	struct sockaddr_in sin = server_sin(s);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	close(fd);
}

void server_stop(struct server *s)
{
	atomic_store(&s->stop, true);
	sem_post(&s->go); /* a delay under way ends */
	poke(s);
	server_join(s);
}

struct hw_client *connect_to(const struct server *s)
{
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", s->port);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	assert_non_null(c);
	return c;
}

void pair_addr(char *buf, size_t cap, const struct server *a, const struct server *b)
{
	snprintf(buf, cap, "127.0.0.1:%u,127.0.0.1:%u", a->port, b->port);
}

struct hw_client *connect_pair(const struct server *a, const struct server *b)
{
	char addr[64];
	pair_addr(addr, sizeof addr, a, b);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	return c;
}

void assert_acked(struct hw_client *c, uint64_t id)
{
	static const uint8_t record[100] = {0x0a, 0x10};
	struct hw_outcome o;
	assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.request_id, id);
	assert_int_equal(o.code, 0);
}

void take_ms(int64_t ms)
{
	int64_t end = hw_mono_ms() + ms;
	for (int64_t left = ms; left > 0; left = end - hw_mono_ms())
		(void)poll(NULL, 0, (int)left);
}
