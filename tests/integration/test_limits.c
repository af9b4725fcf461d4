/* test_limits.c: a node at its client connection limit (HW_CLIENTS_MAX sessions less the
 * replication port's HW_REPL_SESSIONS_MAX) refuses the next client connection with an
 * ERROR frame carrying HW_EBUSY, closes it, and keeps serving: a standby still connects
 * on the replication port, and once a client leaves, a new client is answered again. A
 * client that pipelines requests and leaves the replies unread past its connection's
 * send buffer (HW_CONN_SEND_MAX) gets every reply once it reads, on a connection that
 * stays up: the node stops reading it while its buffer still has room for every reply it
 * owes, those of submits still waiting too. A session takes one Hello, and a control
 * frame announcing a body past its limit closes it. A connection that does not say its
 * Hello in time is closed, so silent ones cannot keep a standby out, nor fill the log
 * with a line each (nor do ones that send garbage, not a frame, nor clients that say
 * their Hello and reset, while a standby's loss is written in full); past the replication
 * port's sessions they displace each other, the client port full or not, and a SUBMIT
 * announcing more than one record is refused from its header. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/log.h"
#include "bench/workload.h"
#include "engine/io/frame.h"
#include "engine/node_int.h"
#include "tests/integration/proc.h"
#include "tos.pb-c.h"
#include "wire.pb-c.h"

#define WAIT_MS 10000

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode t, s; /* the primary and its standby */
	int fd[HW_CLIENTS_MAX + 2u * HW_REFUSING_MAX]; /* as many as the node's ports hold */
	unsigned n_fd;
};

/* Everything the node sends on fd until it closes it (bounded by WAIT_MS). */
static size_t read_to_eof(int fd, uint8_t *buf, size_t cap)
{
	size_t len = 0;
	int64_t end = hw_mono_ms() + WAIT_MS;
	while (len < cap && hw_mono_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t got = read(fd, buf + len, cap - len);
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	return len;
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EPIPE;
}

/* A frame of type carrying msg (NULL: an empty body) at p; its length. */
static size_t put_msg(uint8_t *p, enum hw_frame_type type, const ProtobufCMessage *msg)
{
	size_t len = msg != NULL ? protobuf_c_message_pack(msg, p + HW_FRAME_HEADER_BYTES) : 0;
	hw_frame_header(p, type, p + HW_FRAME_HEADER_BYTES, (uint32_t)len);
	return HW_FRAME_HEADER_BYTES + len;
}

/* A Hello on fd from node node_id (a client: "") of role in cluster (a client may leave
 * it ""). 0 or -errno. */
static int say_hello_as(int fd, Hawser__Wire__V1__Role role, char *node_id, char *cluster)
{
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = 1;
	h.role = role;
	h.node_id = node_id;
	h.cluster_id = cluster;
	uint8_t frame[256];
	return send_all(fd, frame, put_msg(frame, HW_FRAME_HELLO, &h.base));
}

/* A client's Hello on fd, as the client library says it first: the connection is then a
 * session that may stay idle. 0 or -errno. */
static int say_hello(int fd)
{
	return say_hello_as(fd, HAWSER__WIRE__V1__ROLE__CLIENT, "", "");
}

/* Start f's primary with nofile descriptors (its child inherits them). */
static int setup_nofile(void **state, rlim_t nofile)
{
	struct rlimit rl = {.rlim_cur = nofile, .rlim_max = nofile};
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("limits", f->root, sizeof f->root) != 0)
		return -1;
	struct hw_tnode_opts o = {.primary = true, .standbys = "s1", .mode = "local"};
	if (hw_tnode_init(&f->t, f->root, "p1", &o) != 0 || hw_tnode_start(&f->t, NULL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	/* the node (a child) needs more descriptors than the default 1024 */
	return setup_nofile(state, 4096);
}

/* Fewer descriptors (a hard limit, that this process cannot raise again: the last test),
 * so that the client port is full at its descriptors (less one: node.c hw__session_new)
 * long before its sessions. */
static int small_setup(void **state)
{
	return setup_nofile(state, 512);
}

static int teardown(void **state)
{
	struct fix *f = *state;
	for (unsigned i = 0; i < f->n_fd; i++)
		close(f->fd[i]);
	hw_proc_stop(&f->s.proc, 5000);
	hw_proc_stop(&f->t.proc, 5000);
	hw_test_rm_rf(f->root);
	free(f);
	return 0;
}

/* Start the standby s1 of f's primary and wait until it follows. */
static void start_standby(struct fix *f)
{
	struct hw_tnode_opts so = {.primary_addr = f->t.listen};
	size_t smark = 0;
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(
		hw_proc_wait_line(&f->s.proc, &smark, "event=following", NULL, WAIT_MS, NULL, 0));
}

/* Idle clients (a Hello, then nothing) fill the client port's sessions; once the node
 * has taken every Hello (it heartbeats each of them), the next one gets ERROR HW_EBUSY and
 * is closed (a session still without its Hello would have been displaced for it); the
 * standby connects on the replication port all the same; the node stays up and, after
 * one client leaves, answers a status. */
/* Fill the client port up to count sessions, each of whose Hello was taken (answered). */
static void fill_client_port(struct fix *f, unsigned count)
{
	for (; f->n_fd < count; f->n_fd++) {
		f->fd[f->n_fd] = hw_test_dial(f->t.client);
		assert_true(f->fd[f->n_fd] >= 0);
		assert_int_equal(say_hello(f->fd[f->n_fd]), 0);
	}
	for (unsigned i = 0; i < f->n_fd; i++) {
		struct pollfd p = {.fd = f->fd[i], .events = POLLIN};
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	}
}

/* fd is answered with an ERROR frame HW_EBUSY, and closed by the node; closes fd. */
static void expect_busy(int fd)
{
	uint8_t buf[512];
	size_t len = read_to_eof(fd, buf, sizeof buf);
	close(fd);
	struct hw_frame fr;
	assert_true(hw_frame_parse(buf, len, &fr) > 0);
	assert_int_equal(fr.type, HW_FRAME_ERROR);
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, fr.len, fr.body);
	assert_non_null(e);
	assert_int_equal(e->code, HW_EBUSY);
	hawser__wire__v1__error__free_unpacked(e, NULL);
}

static void test_busy_refused_node_survives(void **state)
{
	struct fix *f = *state;
	fill_client_port(f, HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX);
	int extra = hw_test_dial(f->t.client);
	assert_true(extra >= 0);
	expect_busy(extra);

	start_standby(f);

	close(f->fd[--f->n_fd]);
	struct hw_tstatus st = {0};
	int rc = -1;
	for (int64_t end = hw_mono_ms() + WAIT_MS; rc != 0 && hw_mono_ms() < end;)
		rc = hw_tnode_status(&f->t, &st);
	assert_int_equal(rc, 0);
	assert_int_equal(st.role, 1); /* the same node, still primary: it did not crash */
}

/* Connections that never say their Hello (silent, or half a frame header and no more)
 * fill the replication port's sessions before the standby starts: the standby displaces
 * one of them and follows, and the rest are closed once their Hello is late
 * (session_closed ... reason=no_hello), where before they held every session for as
 * long as they stayed connected and kept it out. */
static void test_silent_sessions_closed(void **state)
{
	struct fix *f = *state;
	size_t mark = hw_proc_mark(&f->t.proc);
	uint8_t half[HW_FRAME_HEADER_BYTES];
	hw_frame_header(half, HW_FRAME_HELLO, NULL, 0);
	for (; f->n_fd < HW_REPL_SESSIONS_MAX; f->n_fd++) {
		f->fd[f->n_fd] = hw_test_dial(f->t.listen);
		assert_true(f->fd[f->n_fd] >= 0);
		if (f->n_fd % 2 == 1)
			assert_int_equal(send_all(f->fd[f->n_fd], half, sizeof half / 2), 0);
	}
	start_standby(f);
	assert_true(hw_proc_wait_line(&f->t.proc, &mark, "event=session_closed",
				      "port=replication code=ETIMEDOUT reason=no_hello", WAIT_MS,
				      NULL, 0));
	for (unsigned i = 0; i < f->n_fd; i++) { /* every one was closed by the node */
		uint8_t buf[64];
		assert_int_equal(read_to_eof(f->fd[i], buf, sizeof buf), 0);
	}
}

/* count connections to addr that never say their Hello, kept in f->fd. */
static void dial_silent(struct fix *f, const char *addr, unsigned count)
{
	for (unsigned i = 0; i < count; i++, f->n_fd++) {
		f->fd[f->n_fd] = hw_test_dial(addr);
		assert_true(f->fd[f->n_fd] >= 0);
	}
}

/* Silent connections to the client port dialed after the replication port's flood, with
 * the port three quarters full of clients that said their Hello, so that they are late
 * (HW_HELLO_BUSY_MS) within the same second as the flood: fewer than a second's lines in
 * full (HW_FLOOD_LOG_LINES). */
#define SILENT_CLIENTS (HW_FLOOD_LOG_LINES / 2u)

/* flood of l's lines, from mark on: in full HW_FLOOD_LOG_LINES times a second at most,
 * then counted in lines naming that port (and the reason). Waited for (bounded). */
static void expect_counted(struct hw_proc *proc, size_t mark, unsigned flood,
			   struct hw_port_lines *l)
{
	assert_true(hw_proc_flood_counted(proc, mark, flood, WAIT_MS, l));
}

/* flood of port repl's lines, and a few of port client's in the same second: repl's in
 * full HW_FLOOD_LOG_LINES times a second at most, then counted in lines naming that port
 * and the reason; client's each in full, none counted (a count of its own, no part of
 * repl's). proc's lines from mark on are waited for (bounded). */
static void expect_per_port(struct hw_proc *proc, size_t mark, unsigned flood,
			    struct hw_port_lines *repl, struct hw_port_lines *client)
{
	expect_counted(proc, mark, flood, repl);
	hw_proc_port_lines(proc, mark, SILENT_CLIENTS, WAIT_MS, client);
	assert_int_equal(client->full, SILENT_CLIENTS);
	assert_int_equal(client->counts, 0);
}

/* A port's session_closed lines for a late Hello. */
#define CLOSED_LINES(name)                                                                         \
	{                                                                                          \
		.event = "session_closed", .port = name, .reason = "no_hello",                     \
		.in_full = "port=" name " code=ETIMEDOUT reason=no_hello"                          \
	}

/* As many connections as the replication port holds connect and never say their Hello:
 * the node closes each once its Hello is late (the port is full: HW_HELLO_BUSY_MS) and
 * writes its session_closed ... reason=no_hello in full HW_FLOOD_LOG_LINES times per
 * HW_FLOOD_LOG_MS at most, then one line counting the rest that names the port and the
 * reason (peer=* port=replication reason=no_hello more=N), as it does session_evicted and
 * session_lost. Before, it wrote a line per connection: a flood of silent connections
 * wrote as many lines as it made connections. A few silent ones on the client port, late
 * in the same second, are each written in full: that port's count is its own. Before, one
 * count for both ports named neither port nor reason (peer=* more=N), and took in the
 * client port's lines too. A session closed so writes no session_lost after it: before,
 * each also wrote session_lost ... code=ETIMEDOUT (a flood's, counted), which said
 * nothing new. */
static void test_silent_flood_log_bounded(void **state)
{
	struct fix *f = *state;
	fill_client_port(f, (HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX) * 3u / 4u);
	size_t mark = hw_proc_mark(&f->t.proc);
	unsigned first = f->n_fd;
	dial_silent(f, f->t.listen, HW_REPL_SESSIONS_MAX);
	dial_silent(f, f->t.client, SILENT_CLIENTS);
	for (unsigned i = first; i < f->n_fd; i++) { /* every one was closed by the node */
		uint8_t buf[64];
		assert_int_equal(read_to_eof(f->fd[i], buf, sizeof buf), 0);
	}
	/* each closed one is a line in full or counted in a peer=* line: wait (bounded) for
	 * the counts of every interval the closes fell in */
	struct hw_port_lines repl = CLOSED_LINES("replication"), client = CLOSED_LINES("client");
	expect_per_port(&f->t.proc, mark, HW_REPL_SESSIONS_MAX, &repl, &client);
	assert_false(hw_proc_wait_line(&f->t.proc, &mark, "event=session_lost ", NULL, 0, NULL, 0));
}

/* A port's session_evicted lines (reason=port_full). */
#define EVICTED_LINES(name)                                                                        \
	{                                                                                          \
		.event = "session_evicted", .port = name, .reason = "port_full",                   \
		.in_full = "port=" name " waited_ms="                                              \
	}

/* Silent connections to the replication port displaced by newer ones once it is full. */
#define EVICTED_REPL (2u * HW_FLOOD_LOG_LINES)

/* A flood of silent connections to the full replication port displaces as many as come
 * past its sessions: the node writes its session_evicted ... reason=port_full in full
 * HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS, then one line counting the rest that names
 * the port and the reason (peer=* port=replication reason=port_full more=N). A few silent
 * ones that fill the client port (the rest of it clients that said their Hello), old
 * enough to be displaced by their own host's newcomers (HW_EVICT_AGE_MS), are displaced
 * in the same second once the replication port's lines in full are written: each is
 * written in full, that port's count is its own. Before, one count for both ports named
 * neither (peer=* more=N), and took in the client port's lines too. */
static void test_evicted_flood_log_per_port(void **state)
{
	struct fix *f = *state;
	char line[1024];
	size_t from = 0;
	assert_true(
		hw_proc_wait_line(&f->t.proc, &from, "event=started ", NULL, 0, line, sizeof line));
	int64_t client_conns = hw_log_field(line, "client_conns_max", -1);
	assert_true(client_conns > SILENT_CLIENTS + 1 && client_conns < HW_CLIENTS_MAX / 2);
	fill_client_port(f, (unsigned)client_conns - 1u - SILENT_CLIENTS);
	size_t mark = hw_proc_mark(&f->t.proc);
	from = mark;
	dial_silent(f, f->t.client, SILENT_CLIENTS); /* the client port is full */
	poll(NULL, 0, HW_EVICT_AGE_MS + 100);        /* they are late at HW_HELLO_BUSY_MS */
	dial_silent(f, f->t.listen, HW_REPL_SESSIONS_MAX + EVICTED_REPL);
	for (unsigned i = 0; i < HW_FLOOD_LOG_LINES; i++)
		assert_true(hw_proc_wait_line(&f->t.proc, &from, "event=session_evicted ",
					      "port=replication waited_ms=", WAIT_MS, NULL, 0));
	dial_silent(f, f->t.client, SILENT_CLIENTS); /* each displaces a silent one */
	struct hw_port_lines repl = EVICTED_LINES("replication"), client = EVICTED_LINES("client");
	expect_per_port(&f->t.proc, mark, EVICTED_REPL, &repl, &client);
}

typedef void dial_fn(const char *addr, unsigned count);

/* flood connections to the replication port made by dial, and SILENT_CLIENTS to the
 * client port made by dial_client once HW_FLOOD_LOG_LINES of repl's lines are written in
 * full (in the same second, on a machine not overloaded): their lines as expect_per_port
 * wants them. */
static void flood_then(struct fix *f, dial_fn *dial, dial_fn *dial_client, unsigned flood,
		       struct hw_port_lines *repl, struct hw_port_lines *client)
{
	char event[64];
	snprintf(event, sizeof event, "event=%s ", repl->event);
	size_t mark = hw_proc_mark(&f->t.proc), from = mark;
	dial(f->t.listen, flood);
	for (unsigned i = 0; i < HW_FLOOD_LOG_LINES; i++)
		assert_true(hw_proc_wait_line(&f->t.proc, &from, event, repl->in_full, WAIT_MS,
					      NULL, 0));
	dial_client(f->t.client, SILENT_CLIENTS);
	expect_per_port(&f->t.proc, mark, flood, repl, client);
}

/* flood_then, the client port's connections made as the replication port's. */
static void flood_then_clients(struct fix *f, dial_fn *dial, unsigned flood,
			       struct hw_port_lines *repl, struct hw_port_lines *client)
{
	flood_then(f, dial, dial, flood, repl, client);
}

/* Close fd with a reset (SO_LINGER 0: a RST), so that the node loses its session with
 * ECONNRESET. */
static void reset_fd(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	close(fd);
}

/* count connections to addr, each reset by this side (reset_fd) before its Hello. */
static void dial_reset(const char *addr, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int fd = hw_test_dial(addr);
		assert_true(fd >= 0);
		reset_fd(fd);
	}
}

/* A port's lines of event, with no reason, of connections that ended with code. */
#define CODE_LINES(ev, name, code)                                                                 \
	{                                                                                          \
		.event = ev, .port = name, .reason = NULL, .in_full = "port=" name " code=" code   \
	}

/* Connections to the replication port reset before their Hello. */
#define LOST_REPL (2u * HW_FLOOD_LOG_LINES)

/* A flood of connections to the replication port, each reset before its Hello: the node
 * writes its session_lost ... port=replication code=ECONNRESET in full HW_FLOOD_LOG_LINES
 * times per HW_FLOOD_LOG_MS, then one line counting the rest that names the port
 * (peer=* port=replication more=N). A few on the client port, reset once the replication
 * port's lines in full are written (in the same second), are each written in full: that
 * port's count is its own. Before, the lines named no port (peer=ADDR code=ECONNRESET),
 * and one count for both ports (peer=* more=N) took in the client port's lines too. */
static void test_lost_flood_log_per_port(void **state)
{
	struct hw_port_lines repl = CODE_LINES("session_lost", "replication", "ECONNRESET"),
			     client = CODE_LINES("session_lost", "client", "ECONNRESET");
	flood_then_clients(*state, dial_reset, LOST_REPL, &repl, &client);
}

/* Send a port scanner's probe on fd (an HTTP request, not a frame): the node closes the
 * connection (HW_EFRAME). 0 or -errno. */
static int send_garbage(int fd)
{
	static const char probe[] = "GET / HTTP/1.1\r\nHost: hawser\r\n\r\n";
	return send_all(fd, (const uint8_t *)probe, sizeof probe - 1);
}

/* count connections to addr, each sending garbage (send_garbage), read until the node
 * closes it, then closed. */
static void dial_garbage(const char *addr, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int fd = hw_test_dial(addr);
		assert_true(fd >= 0);
		assert_int_equal(send_garbage(fd), 0);
		uint8_t buf[64];
		assert_int_equal(read_to_eof(fd, buf, sizeof buf), 0);
		close(fd);
	}
}

/* Connections to the replication port that send garbage. */
#define REFUSED_REPL (4u * HW_FLOOD_LOG_LINES)

/* A flood of connections to the replication port, each sending garbage that is no frame:
 * the node writes its frame_refused ... port=replication code=HW_EFRAME in full
 * HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS, then one line counting the rest that names
 * the port (peer=* port=replication more=N). A few on the client port, once the
 * replication port's lines in full are written (in the same second), are each written in
 * full: that port's count is its own. Before, each connection wrote its line (peer=ADDR
 * code=HW_EFRAME, no port), with no bound: 40 connections, 40 lines. A connection closed
 * so writes no session_lost after its frame_refused: before, each also wrote one. */
static void test_garbage_flood_log_per_port(void **state)
{
	struct fix *f = *state;
	size_t mark = hw_proc_mark(&f->t.proc);
	struct hw_port_lines repl = CODE_LINES("frame_refused", "replication", "HW_EFRAME"),
			     client = CODE_LINES("frame_refused", "client", "HW_EFRAME");
	flood_then_clients(f, dial_garbage, REFUSED_REPL, &repl, &client);
	assert_false(hw_proc_wait_line(&f->t.proc, &mark, "event=session_lost ", NULL, 0, NULL, 0));
}

/* count connections to addr, each sending a HEARTBEAT before any Hello (a well-formed
 * frame, but none a session may send first), read until the node closes it, then
 * closed. */
static void dial_beat_first(const char *addr, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int fd = hw_test_dial(addr);
		assert_true(fd >= 0);
		uint8_t frame[HW_FRAME_HEADER_BYTES];
		assert_int_equal(send_all(fd, frame, put_msg(frame, HW_FRAME_HEARTBEAT, NULL)), 0);
		uint8_t buf[256];
		read_to_eof(fd, buf, sizeof buf);
		close(fd);
	}
}

/* Connections to the replication port that send a HEARTBEAT first. */
#define BEAT_REPL (3u * HW_FLOOD_LOG_LINES)

/* A flood of connections to the replication port, each sending a HEARTBEAT before its
 * Hello: the node closes each (HW_EPROTOCOL) and writes its session_closed ...
 * port=replication code=HW_EPROTOCOL in full HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS,
 * then one line counting the rest that names the port (peer=* port=replication more=N).
 * A few on the client port, in the same second, are each written in full: that port's
 * count is its own. Before, each connection wrote its line (peer=ADDR code=HW_EPROTOCOL,
 * no port), with no bound: 30 connections, 30 lines. A connection closed so writes no
 * session_lost after its session_closed: before, each also wrote one that said the same. */
static void test_beat_first_flood_log_per_port(void **state)
{
	struct fix *f = *state;
	size_t mark = hw_proc_mark(&f->t.proc);
	struct hw_port_lines repl = CODE_LINES("session_closed", "replication", "HW_EPROTOCOL"),
			     client = CODE_LINES("session_closed", "client", "HW_EPROTOCOL");
	flood_then_clients(f, dial_beat_first, BEAT_REPL, &repl, &client);
	assert_false(hw_proc_wait_line(&f->t.proc, &mark, "event=session_lost ", NULL, 0, NULL, 0));
}

/* A Hello that the replication port refuses, and anyone may say: of another cluster, of
 * a standby the primary does not know, of a voter of no failover. */
static const struct {
	Hawser__Wire__V1__Role role;
	char *node, *cluster;
} strangers[] = {{HAWSER__WIRE__V1__ROLE__CLIENT, "", "other"},
		 {HAWSER__WIRE__V1__ROLE__STANDBY, "s9", "itest"},
		 {HAWSER__WIRE__V1__ROLE__VOTER, "v9", "itest"}};

/* count connections to addr, each saying the Hello strangers[i % kinds], read until the
 * node closes it (after its ERROR), then closed. */
static void dial_strangers(const char *addr, unsigned count, unsigned kinds)
{
	for (unsigned i = 0; i < count; i++) {
		int fd = hw_test_dial(addr);
		assert_true(fd >= 0);
		unsigned k = i % kinds;
		assert_int_equal(say_hello_as(fd, strangers[k].role, strangers[k].node,
					      strangers[k].cluster),
				 0);
		uint8_t buf[512];
		read_to_eof(fd, buf, sizeof buf);
		close(fd);
	}
}

/* Connections saying each of the strangers' Hellos in turn (the replication port refuses
 * them all). */
static void dial_stranger_nodes(const char *addr, unsigned count)
{
	dial_strangers(addr, count, sizeof strangers / sizeof strangers[0]);
}

/* Connections saying a Hello of another cluster (the client port refuses it too). */
static void dial_other_cluster(const char *addr, unsigned count)
{
	dial_strangers(addr, count, 1);
}

/* A port's peer_refused lines. */
#define REFUSED_LINES(name)                                                                        \
	{                                                                                          \
		.event = "peer_refused", .port = name, .reason = NULL,                             \
		.in_full = "port=" name " node="                                                   \
	}

/* A flood of connections to the replication port, each saying a Hello it refuses
 * (reason=cluster_or_version, unknown_standby, not_a_voter in turn): the node writes its
 * peer_refused ... port=replication in full HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS,
 * then one line counting the rest that names the port (peer=* port=replication more=N).
 * A few of another cluster on the client port, in the same second, are each written in
 * full: that port's count is its own. Before, each connection wrote its line in full
 * (naming no port), with no bound: 30 connections, 30 lines. */
static void test_stranger_flood_log_per_port(void **state)
{
	struct hw_port_lines repl = REFUSED_LINES("replication"), client = REFUSED_LINES("client");
	flood_then(*state, dial_stranger_nodes, dial_other_cluster, BEAT_REPL, &repl, &client);
}

/* Wait (bounded) for the node's first bytes on fd: its answer to a Hello. */
static void wait_answer(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
}

/* Wait for the answer to fd's Hello, then reset fd (reset_fd): the node loses a session
 * it took the Hello of. */
static void reset_answered(int fd)
{
	wait_answer(fd);
	reset_fd(fd);
}

/* Standby s1's connection to the replication port at addr, its Hello answered (the node
 * links it: peer_connected): the fd, and in lost the start of its session_lost line. */
static int dial_s1(const char *addr, char *lost, size_t cap)
{
	int fd = hw_test_dial(addr);
	assert_true(fd >= 0);
	struct sockaddr_in sa;
	socklen_t sa_len = sizeof sa;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sa_len), 0);
	snprintf(lost, cap, "event=session_lost peer=127.0.0.1:%u ", ntohs(sa.sin_port));
	assert_int_equal(say_hello_as(fd, HAWSER__WIRE__V1__ROLE__STANDBY, "s1", "itest"), 0);
	wait_answer(fd);
	return fd;
}

/* count clients to addr, each reset once its Hello is answered. */
static void dial_said_reset(const char *addr, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int fd = hw_test_dial(addr);
		assert_true(fd >= 0);
		assert_int_equal(say_hello(fd), 0);
		reset_answered(fd);
	}
}

/* Clients to the client port reset after their Hello. */
#define SAID_CLIENTS (2u * HW_FLOOD_LOG_LINES)

/* A flood of clients that say their Hello, then reset the connection (anyone may, on an
 * insecure node): the node writes their session_lost ... port=client in full
 * HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS, then one line counting the rest that names
 * the port (peer=* port=client more=N). The standby s1, linked on the replication port
 * and reset there once that port's flood of resets before a Hello has had its lines in
 * full (in the same second), has its session_lost written in full all the same: a known
 * peer's loss is what an operator looks for; so has s1 linked again and closed for
 * sending garbage (after its frame_refused, which a flood may leave only counted). Before, each
 * session lost after its Hello wrote its line in full, with no bound: 20 clients, 20 lines. */
static void test_said_flood_log_per_port(void **state)
{
	struct fix *f = *state;
	size_t from = hw_proc_mark(&f->t.proc);
	dial_reset(f->t.listen, LOST_REPL);
	for (unsigned i = 0; i < HW_FLOOD_LOG_LINES; i++)
		assert_true(hw_proc_wait_line(&f->t.proc, &from, "event=session_lost ",
					      "port=replication code=", WAIT_MS, NULL, 0));
	char s1[64];
	reset_fd(dial_s1(f->t.listen, s1, sizeof s1));
	assert_true(hw_proc_wait_line(&f->t.proc, &from, "event=peer_connected peer=s1 ", NULL,
				      WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->t.proc, &from, s1, "port=replication code=", WAIT_MS,
				      NULL, 0));
	int fd = dial_s1(f->t.listen, s1, sizeof s1); /* then garbage: frame_refused, and */
	assert_int_equal(send_garbage(fd), 0);
	static uint8_t sent[1u << 16]; /* what the node streams it until it closes it */
	read_to_eof(fd, sent, sizeof sent);
	close(fd);
	assert_true(hw_proc_wait_line(&f->t.proc, &from, s1, "port=replication code=HW_EFRAME",
				      WAIT_MS, NULL, 0));
	from = hw_proc_mark(&f->t.proc);
	dial_said_reset(f->t.client, SAID_CLIENTS);
	struct hw_port_lines client = CODE_LINES("session_lost", "client", "");
	expect_counted(&f->t.proc, from, SAID_CLIENTS, &client);
}

/* Silent connections to the replication port past its sessions, while every session of
 * the client port is taken by a client that said its Hello: each displaces a silent one
 * (session_evicted port=replication), none is refused, and the standby dialing through
 * them is not refused either and follows. Before, the two ports' sessions took every slot
 * (HW_CLIENTS_MAX) and a displaced session kept its own until its close completed: no
 * newcomer displaced one, each was refused (HW_EBUSY), the standby too, until the silent
 * ones were closed for a late Hello. */
static void test_repl_flood_client_port_full(void **state)
{
	struct fix *f = *state;
	fill_client_port(f, HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX);
	size_t mark = hw_proc_mark(&f->t.proc);
	unsigned first = f->n_fd;
	const unsigned flood = HW_REPL_SESSIONS_MAX + HW_REFUSING_MAX / 2u;
	dial_silent(f, f->t.listen, flood);
	size_t smark = 0;
	start_standby(f);
	assert_false(
		hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused", NULL, 0, NULL, 0));
	unsigned refused = 0;
	for (unsigned i = first; i < f->n_fd; i++) { /* each closed: displaced, or late */
		uint8_t buf[512];
		struct hw_frame fr;
		size_t len = read_to_eof(f->fd[i], buf, sizeof buf);
		refused +=
			len > 0 && hw_frame_parse(buf, len, &fr) > 0 && fr.type == HW_FRAME_ERROR;
	}
	print_message("silent replication connections: %u, refused: %u\n", flood, refused);
	assert_int_equal(refused, 0);
	struct hw_port_lines repl = EVICTED_LINES("replication");
	hw_proc_port_lines(&f->t.proc, mark, flood - HW_REPL_SESSIONS_MAX, WAIT_MS, &repl);
	assert_true(repl.full + repl.more >= flood - HW_REPL_SESSIONS_MAX);
}

/* ---- clients that do not read their replies ------------------------------------------ */

/* A node on a busy shared host answers some 100k requests in this. */
#define FLOOD_WAIT_MS 120000
/* A raw client's receive buffer, fixed (no autotuning), so that the kernel holds few of
 * the replies the node sends it; the node's own socket holds at most tcp_wmem's 4 MiB. A
 * flood of replies worth twice HW_CONN_SEND_MAX fills both and the node's send buffer. */
#define CLIENT_RCVBUF_BYTES (256 * 1024)
/* Submits whose outcomes, 16 bytes or more each (a frame header and a SubmitReply with a
 * request id and an LSN), need twice the room a session's send buffer keeps for one
 * request's reply (HW_SESSION_REPLY_ROOM): the node must keep room for each. */
#define HELD_SUBMITS (2u * HW_SESSION_REPLY_ROOM / 16u)
#define MARKER       "limits-flood-end"

struct answer {
	bool got;
	int code;
	uint64_t lsn;
	bool duplicate;
};

/* What a raw client read: replies by kind, and how the reading ended. */
struct replies {
	size_t status;  /* Status frames */
	size_t submits; /* SubmitReply frames, by request id in answers[] */
	bool marker;    /* the operator event's answer (ERROR HW_ECONFIG) */
	bool closed;    /* the node closed the connection (EOF or reset) */
};

struct flood_fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode p, s; /* a primary and (mode durable) its standby, started late */
	int fd;               /* the raw client's connection */
	uint8_t *out;         /* everything it sends after its hello and first status */
	size_t out_len, out_cap;
	pthread_t writer;
	bool writing;
	int write_rc; /* the writer's: 0 when everything was sent, or -errno */
	uint8_t *in;  /* bytes read and not yet taken as frames */
	size_t in_off, in_len;
	struct answer *answers; /* by request id, 1..HELD_SUBMITS */
};

#define IN_CAP (HW_FRAME_HEADER_BYTES + HW_FRAME_BYTES_MAX)

static int flood_fix_new(void **state, const struct hw_tnode_opts *o)
{
	struct flood_fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("limits-flood", f->root, sizeof f->root) != 0)
		return -1;
	f->fd = -1;
	f->in = malloc(IN_CAP);
	f->answers = calloc(HELD_SUBMITS + 1, sizeof *f->answers);
	*state = f;
	if (f->in == NULL || f->answers == NULL || hw_tnode_init(&f->p, f->root, "p1", o) != 0 ||
	    hw_tnode_start(&f->p, NULL) != 0)
		return -1;
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	return o->standbys != NULL ? hw_tnode_init(&f->s, f->root, "s1", &so) : 0;
}

static int flood_setup(void **state)
{
	struct hw_tnode_opts o = {.primary = true, .mode = "local"};
	return flood_fix_new(state, &o);
}

/* Submits in mode durable wait for s1, which is not started yet. */
static int held_setup(void **state)
{
	struct hw_tnode_opts o = {.primary = true, .standbys = "s1", .mode = "durable"};
	return flood_fix_new(state, &o);
}

static int flood_teardown(void **state)
{
	struct flood_fix *f = *state;
	if (f->fd >= 0)
		shutdown(f->fd, SHUT_RDWR); /* a writer still blocked gets its error */
	if (f->writing)
		pthread_join(f->writer, NULL);
	if (f->fd >= 0)
		close(f->fd);
	hw_proc_stop(&f->s.proc, 5000);
	hw_proc_stop(&f->p.proc, 5000);
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	int rc = hw_test_rm_rf(f->root);
	free(f->out);
	free(f->in);
	free(f->answers);
	free(f);
	return rc;
}

/* All of p on the blocking socket fd: a blocking send() returns short only when the
 * connection failed (this test catches no signal). 0, or -errno. */
/* Room for len more bytes in f->out. */
static uint8_t *out_room(struct flood_fix *f, size_t len)
{
	if (f->out_len + len > f->out_cap) {
		size_t cap = f->out_cap * 2 > f->out_len + len ? f->out_cap * 2 : f->out_len + len;
		f->out = realloc(f->out, cap);
		assert_non_null(f->out);
		f->out_cap = cap;
	}
	return f->out + f->out_len;
}

/* Append such a frame to f->out. */
static void out_msg(struct flood_fix *f, enum hw_frame_type type, const ProtobufCMessage *msg)
{
	size_t len = msg != NULL ? protobuf_c_message_get_packed_size(msg) : 0;
	f->out_len += put_msg(out_room(f, HW_FRAME_HEADER_BYTES + len), type, msg);
}

/* The next frame the node sent into *fr (valid until the next call), heartbeats skipped
 * (a node sends each client one every heartbeat_ms): 1; 0 once the node closed the
 * connection (EOF, or a reset); -ETIMEDOUT when no other frame came within WAIT_MS. */
static int read_frame(struct flood_fix *f, struct hw_frame *fr)
{
	int64_t end = hw_mono_ms() + WAIT_MS;
	for (;;) {
		long got = hw_frame_parse(f->in + f->in_off, f->in_len - f->in_off, fr);
		assert_true(got >= 0);
		if (got > 0) {
			f->in_off += (size_t)got;
			if (fr->type == HW_FRAME_HEARTBEAT)
				continue;
			return 1;
		}
		memmove(f->in, f->in + f->in_off, f->in_len - f->in_off);
		f->in_len -= f->in_off;
		f->in_off = 0;
		struct pollfd p = {.fd = f->fd, .events = POLLIN};
		int64_t left = end - hw_mono_ms();
		int ready = left <= 0 ? 0 : poll(&p, 1, (int)left);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready == 0)
			return -ETIMEDOUT;
		ssize_t n = recv(f->fd, f->in + f->in_len, IN_CAP - f->in_len, 0);
		if (n <= 0)
			return 0;
		f->in_len += (size_t)n;
	}
}

/* Send one request of type (msg: its body, or NULL) and take its reply, of type want. */
static void exchange(struct flood_fix *f, enum hw_frame_type type, const ProtobufCMessage *msg,
		     enum hw_frame_type want, struct hw_frame *fr)
{
	uint8_t buf[256];
	assert_true(msg == NULL || protobuf_c_message_get_packed_size(msg) <= sizeof buf - 64);
	assert_int_equal(send_all(f->fd, buf, put_msg(buf, type, msg)), 0);
	assert_int_equal(read_frame(f, fr), 1);
	assert_int_equal(fr->type, want);
}

/* A raw client on the primary's client port, after its hello. Returns the size of a
 * Status frame the node sends it now. */
static size_t client_open(struct flood_fix *f)
{
	f->fd = hw_test_dial(f->p.client);
	assert_true(f->fd >= 0);
	int rcvbuf = CLIENT_RCVBUF_BYTES;
	assert_int_equal(setsockopt(f->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
	f->in_off = f->in_len = 0;
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = 1;
	h.role = HAWSER__WIRE__V1__ROLE__CLIENT;
	struct hw_frame fr;
	exchange(f, HW_FRAME_HELLO, &h.base, HW_FRAME_HELLO, &fr);
	exchange(f, HW_FRAME_STATUS_REQUEST, NULL, HW_FRAME_STATUS, &fr);
	return HW_FRAME_HEADER_BYTES + fr.len;
}

/* Append count submits (request ids 1..count, the node's mode and k), records of the
 * stress profile. */
static void out_submits(struct flood_fix *f, uint32_t count)
{
	struct hw_workload_opts wo = {
		.profile = "stress", .seed = 17, .count = count, .end_ms = hw_wall_ms()};
	struct hw_workload *w;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	for (uint32_t i = 1; i <= count; i++) {
		const size_t at = HW_FRAME_HEADER_BYTES + HW_SUBMIT_HEADER_BYTES;
		uint8_t *p = out_room(f, at + HW_RECORD_BYTES_MAX);
		struct hw_work_item it;
		assert_int_equal(hw_workload_next(w, p + at, HW_RECORD_BYTES_MAX, &it), 0);
		struct hw_submit_hdr h = {.request_id = i, .mode = HW_SUBMIT_MODE_DEFAULT};
		hw_submit_hdr_put(p + HW_FRAME_HEADER_BYTES, &h);
		uint32_t len = HW_SUBMIT_HEADER_BYTES + (uint32_t)it.len;
		hw_frame_header(p, HW_FRAME_SUBMIT, p + HW_FRAME_HEADER_BYTES, len);
		f->out_len += HW_FRAME_HEADER_BYTES + len;
	}
	hw_workload_free(w);
}

/* Append n status requests, then the marker: an operator event, which a node without a
 * key (insecure) logs as audit_local and answers with ERROR HW_ECONFIG. */
static void out_flood(struct flood_fix *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_msg(f, HW_FRAME_STATUS_REQUEST, NULL);
	Hawser__Wire__V1__OperatorEvent ev = HAWSER__WIRE__V1__OPERATOR_EVENT__INIT;
	ev.kind = TOS__V1__NODE_EVENT_KIND__OPERATOR;
	ev.detail = MARKER;
	out_msg(f, HW_FRAME_OPERATOR_EVENT, &ev.base);
}

static void *writer_main(void *arg)
{
	struct flood_fix *f = arg;
	f->write_rc = send_all(f->fd, f->out, f->out_len);
	return NULL;
}

/* Send f->out on a thread of its own: the node may stop reading it before the end, and
 * the test reads only later. */
static void writer_start(struct flood_fix *f)
{
	assert_int_equal(pthread_create(&f->writer, NULL, writer_main, f), 0);
	f->writing = true;
}

static int writer_join(struct flood_fix *f)
{
	pthread_join(f->writer, NULL);
	f->writing = false;
	return f->write_rc;
}

/* Wait for the node to stop reading the client (session_paused: true) or to take the
 * marker behind everything it sent (a node that reads on regardless: false). */
static bool wait_paused_or_marker(struct hw_proc *p)
{
	for (int64_t end = hw_mono_ms() + FLOOD_WAIT_MS; hw_mono_ms() < end;) {
		if (p->log != NULL && strstr(p->log, "event=session_paused") != NULL)
			return true;
		if (p->log != NULL && strstr(p->log, MARKER) != NULL)
			return false;
		if (hw_proc_pump(p, 1000) < 0)
			break;
	}
	fail_msg("the node neither stopped reading the client nor took all it sent");
	return false;
}

/* One SubmitReply into f->answers. */
static void take_answer(struct flood_fix *f, const struct hw_frame *fr, struct replies *r)
{
	Hawser__Wire__V1__SubmitReply *m =
		hawser__wire__v1__submit_reply__unpack(NULL, fr->len, fr->body);
	assert_non_null(m);
	assert_true(m->request_id >= 1 && m->request_id <= HELD_SUBMITS);
	struct answer *a = &f->answers[m->request_id];
	if (a->got)
		fail_msg("request %llu answered twice", (unsigned long long)m->request_id);
	*a = (struct answer){true, m->code, m->lsn, m->duplicate};
	r->submits++;
	hawser__wire__v1__submit_reply__free_unpacked(m, NULL);
}

/* Read until the marker's answer (want 0) or want submits' outcomes, the node's close, or
 * WAIT_MS without one. */
static void read_replies(struct flood_fix *f, size_t want, struct replies *r)
{
	*r = (struct replies){0};
	memset(f->answers, 0, (HELD_SUBMITS + 1) * sizeof *f->answers);
	struct hw_frame fr;
	while (want == 0 ? !r->marker : r->submits < want) {
		int rc = read_frame(f, &fr);
		r->closed = rc == 0;
		if (rc != 1)
			return;
		if (fr.type == HW_FRAME_STATUS) {
			r->status++;
		} else if (fr.type == HW_FRAME_SUBMIT_REPLY) {
			take_answer(f, &fr, r);
		} else {
			assert_int_equal(fr.type, HW_FRAME_ERROR);
			Hawser__Wire__V1__Error *e =
				hawser__wire__v1__error__unpack(NULL, fr.len, fr.body);
			assert_non_null(e);
			assert_int_equal(e->code, HW_ECONFIG);
			hawser__wire__v1__error__free_unpacked(e, NULL);
			r->marker = true;
		}
	}
}

/* A client pipelines status requests worth twice HW_CONN_SEND_MAX of replies, then an
 * operator event, and reads nothing until the node has stopped reading it (or has taken
 * all of it). Then it reads: a Status for every request, and the operator event's answer
 * after them, on a connection that stayed up. */
static void test_unread_replies_all_come(void **state)
{
	struct flood_fix *f = *state;
	size_t n = 2 * HW_CONN_SEND_MAX / client_open(f) + 1;
	out_flood(f, n);
	writer_start(f);
	wait_paused_or_marker(&f->p.proc);
	struct replies r;
	read_replies(f, 0, &r);
	if (r.status != n)
		fail_msg("%zu of %zu status requests unanswered (connection closed: %d)",
			 n - r.status, n, r.closed);
	assert_true(r.marker);
	assert_false(r.closed);
	assert_int_equal(writer_join(f), 0);
}

/* Wait until the primary holds no submit: each was answered, or given up with its
 * session. Paused on its stderr between looks. */
static void wait_none_waiting(struct flood_fix *f)
{
	struct hw_tstatus st = {0};
	for (int64_t end = hw_mono_ms() + FLOOD_WAIT_MS; hw_mono_ms() < end;) {
		if (hw_tnode_status(&f->p, &st) == 0 && st.last_lsn >= HELD_SUBMITS &&
		    st.waiting == 0)
			return;
		hw_proc_pump(&f->p.proc, 100);
	}
	fail_msg("the primary still holds %llu submits", (unsigned long long)st.waiting);
}

/* Every one of HELD_SUBMITS outcomes came, accepted and stored once. */
static void assert_all_stored(struct flood_fix *f)
{
	bool *seen = calloc(HELD_SUBMITS + 1, sizeof *seen);
	assert_non_null(seen);
	for (uint32_t i = 1; i <= HELD_SUBMITS; i++) {
		const struct answer *a = &f->answers[i];
		assert_true(a->got);
		assert_int_equal(a->code, 0);
		assert_false(a->duplicate);
		assert_true(a->lsn >= 1 && a->lsn <= HELD_SUBMITS && !seen[a->lsn]);
		seen[a->lsn] = true;
	}
	free(seen);
	struct hw_tstatus st;
	assert_int_equal(hw_tnode_status(&f->p, &st), 0);
	assert_int_equal(st.last_lsn, HELD_SUBMITS); /* each stored once */
}

/* A client pipelines HELD_SUBMITS submits in mode durable while the standby is down (they
 * wait), then status requests worth twice HW_CONN_SEND_MAX of replies, and reads nothing.
 * The node stops reading it while its send buffer still has room for the submits'
 * outcomes; the standby comes, and every outcome is queued behind the Status replies
 * left unread. Once the client reads, it gets them all, each stored once, and a Status
 * for every request, on a connection that stayed up. A node that took requests while
 * only one reply had room closed the connection when the outcomes found none
 * (HW_EBUSY), and a client that does not follow the primary heard its records in doubt. */
static void test_owed_outcomes_all_come(void **state)
{
	struct flood_fix *f = *state;
	size_t n = 2 * HW_CONN_SEND_MAX / client_open(f) + 1;
	out_submits(f, HELD_SUBMITS);
	out_flood(f, n);
	writer_start(f);
	assert_true(wait_paused_or_marker(&f->p.proc));
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	wait_none_waiting(f);
	struct replies r;
	read_replies(f, 0, &r);
	if (r.closed || r.submits != HELD_SUBMITS)
		fail_msg("%zu of %u submits unanswered (connection closed: %d)",
			 HELD_SUBMITS - r.submits, HELD_SUBMITS, r.closed);
	assert_int_equal(r.status, n);
	assert_true(r.marker);
	assert_int_equal(writer_join(f), 0);
	assert_all_stored(f);
}

/* A digest is answered later, from a thread, and the node reads nothing more from that
 * client until then: requests sent behind a digest query in one write are answered
 * after its DigestReply, in the order sent (a Status taken meanwhile came first, and a
 * client counting its answers took one for the other). */
static void test_answers_follow_requests(void **state)
{
	struct flood_fix *f = *state;
	client_open(f);
	f->out_len = 0;
	Hawser__Wire__V1__DigestQuery q = HAWSER__WIRE__V1__DIGEST_QUERY__INIT;
	out_msg(f, HW_FRAME_DIGEST_QUERY, &q.base);
	out_msg(f, HW_FRAME_STATUS_REQUEST, NULL);
	out_msg(f, HW_FRAME_DIGEST_QUERY, &q.base);
	out_msg(f, HW_FRAME_STATUS_REQUEST, NULL);
	assert_int_equal(send_all(f->fd, f->out, f->out_len), 0);
	const enum hw_frame_type want[] = {HW_FRAME_DIGEST_REPLY, HW_FRAME_STATUS,
					   HW_FRAME_DIGEST_REPLY, HW_FRAME_STATUS};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct hw_frame fr;
		assert_int_equal(read_frame(f, &fr), 1);
		assert_int_equal(fr.type, want[i]);
	}
}

/* A session takes one Hello: a second closes it (HW_EPROTOCOL; each was decoded on the
 * node's loop). A control message whose header announces more than
 * HW_FRAME_CONTROL_BYTES_MAX closes it from the header alone, before any body: protobuf-c
 * spent 178 MiB and 250 ms of the loop on one 4 MiB Hello of unknown fields. The node
 * answers the next client. */
static void test_control_frames_bounded(void **state)
{
	struct flood_fix *f = *state;
	client_open(f);
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = 1;
	h.role = HAWSER__WIRE__V1__ROLE__CLIENT;
	uint8_t buf[256];
	size_t from = hw_proc_mark(&f->p.proc);
	assert_int_equal(send_all(f->fd, buf, put_msg(buf, HW_FRAME_HELLO, &h.base)), 0);
	struct hw_frame fr;
	assert_int_equal(read_frame(f, &fr), 0); /* closed */
	assert_true(hw_proc_wait_line(&f->p.proc, &from, "event=session_closed",
				      "code=HW_EPROTOCOL", WAIT_MS, NULL, 0));
	close(f->fd);
	f->fd = -1;
	const enum hw_frame_type types[] = {HW_FRAME_STATUS_REQUEST, HW_FRAME_DIGEST_QUERY};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		client_open(f);
		hw_frame_header(buf, types[i], NULL, 0);
		hw_put_u32(buf + 4, HW_FRAME_CONTROL_BYTES_MAX + 1); /* the body never comes */
		assert_int_equal(send_all(f->fd, buf, HW_FRAME_HEADER_BYTES), 0);
		assert_int_equal(read_frame(f, &fr), 0);
		close(f->fd);
		f->fd = -1;
	}
	client_open(f); /* its Hello and a Status answered */
}

/* A SUBMIT whose header announces more than one record and its header
 * (HW_SUBMIT_BODY_MAX) closes the session from the header alone (HW_EFRAME), as a control
 * message past its limit does: the node waited for up to 4 MiB of its body, some 5 MiB of
 * buffers per connection that sent all but its last byte. */
static void test_submit_frames_bounded(void **state)
{
	struct flood_fix *f = *state;
	client_open(f);
	uint8_t buf[HW_FRAME_HEADER_BYTES];
	hw_frame_header(buf, HW_FRAME_SUBMIT, NULL, 0);
	hw_put_u32(buf + 4, HW_FRAME_BYTES_MAX); /* the body never comes */
	size_t from = hw_proc_mark(&f->p.proc);
	assert_int_equal(send_all(f->fd, buf, sizeof buf), 0);
	struct hw_frame fr;
	assert_int_equal(read_frame(f, &fr), 0); /* closed */
	assert_true(hw_proc_wait_line(&f->p.proc, &from, "event=frame_refused", "code=HW_EFRAME",
				      WAIT_MS, NULL, 0));
	close(f->fd);
	f->fd = -1;
	client_open(f); /* the node answers the next client */
}

/* A client still saying its Hello when the port's last session is taken keeps its session:
 * the newcomer is refused (HW_EBUSY), not the client displaced (evict_unsaid displaces
 * only a session silent for HW_EVICT_AGE_MS). It was cut with no ERROR frame, and
 * hw_client then reported a handshake refusal or a lost connection. */
static void test_young_session_kept(void **state)
{
	struct fix *f = *state;
	fill_client_port(f, HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX - 1);
	int first = hw_test_dial(f->t.client); /* takes the last session */
	assert_true(first >= 0);
	int second = hw_test_dial(f->t.client); /* accepted after it: the port is full */
	assert_true(second >= 0);
	assert_int_equal(say_hello(first), 0);
	expect_busy(second);
	struct pollfd p = {.fd = first, .events = POLLIN};
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	uint8_t buf[512];
	ssize_t n = read(first, buf, sizeof buf);
	struct hw_frame fr;
	assert_true(n > 0 && hw_frame_parse(buf, (size_t)n, &fr) > 0);
	assert_int_equal(fr.type, HW_FRAME_HELLO);
	close(first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_young_session_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_refused_node_survives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_sessions_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_flood_log_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_flood_log_per_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_flood_log_per_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_said_flood_log_per_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beat_first_flood_log_per_port, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stranger_flood_log_per_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repl_flood_client_port_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unread_replies_all_come, flood_setup,
						flood_teardown),
		cmocka_unit_test_setup_teardown(test_owed_outcomes_all_come, held_setup,
						flood_teardown),
		cmocka_unit_test_setup_teardown(test_answers_follow_requests, flood_setup,
						flood_teardown),
		cmocka_unit_test_setup_teardown(test_control_frames_bounded, flood_setup,
						flood_teardown),
		cmocka_unit_test_setup_teardown(test_submit_frames_bounded, flood_setup,
						flood_teardown),
		/* last: it lowers this process's descriptor limit for good */
		cmocka_unit_test_setup_teardown(test_evicted_flood_log_per_port, small_setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
