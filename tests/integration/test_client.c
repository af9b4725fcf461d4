/* test_client.c: the client side of the client port (hw_client_*, hw_client_status)
 * against a tiny fake node run on a thread of this test (fake_node.h): a listening socket
 * on loopback that answers HELLO and then behaves as each test asks (echo replies, close,
 * corrupt a frame, refuse, report status, stay silent, answer late). What the client
 * bounds and settles of the answers (in flight, floods, late answers, resends) is
 * tests/integration/test_client_answers.c, the dial over a slow secure handshake
 * tests/integration/test_client_secure.c, a client following real nodes
 * tests/integration/test_follow.c. */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "engine/client_int.h"
#include "engine/io/frame.h"
#include "hawser.h"
#include "tests/integration/fake_node.h"
#include "tests/integration/fake_wire.h"
#include "tests/integration/proc.h"
#include "tests/skip.h"
#include "wire.pb-c.h"

static const uint8_t record[100] = {0x0a, 0x10};

/* Two host names the resolver below answers for: DEAD_NAME's DNS server does not answer
 * (EAI_AGAIN, at once where a real one would take its timeout), and MOVED_NAME is
 * 127.0.0.1 at moved_port, whatever port is asked for (the node there moves between
 * ports). Each counts its lookups. */
#define DEAD_NAME  "dead.hawser.test"
#define MOVED_NAME "moved.hawser.test"
static atomic_uint dead_lookups, moved_lookups;
static atomic_ushort moved_port;
/* SLOW_NAME's lookup takes until the test posts slow_gate (or GATE_VALVE_S pass), then
 * fails (EAI_AGAIN): a DNS server that does not answer, for as long as the test needs. */
#define SLOW_NAME "slow.hawser.test"
static sem_t slow_gate;

/* The client's dials resolve through this one in this binary (it takes libc's place):
 * DEAD_NAME and MOVED_NAME as above, every other name by libc's. A call for IP addresses
 * only (AI_NUMERICHOST: engine/lookup.c's first look) is no lookup: libc's. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	int (*libc)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
	memcpy(&libc, &(void *){dlsym(RTLD_NEXT, "getaddrinfo")}, sizeof libc);
	char port[8];
	if (hints != NULL && (hints->ai_flags & AI_NUMERICHOST))
		return libc(node, service, hints, res);
	if (node != NULL && strcmp(node, DEAD_NAME) == 0) {
		atomic_fetch_add(&dead_lookups, 1);
		return EAI_AGAIN;
	}
	if (node != NULL && strcmp(node, SLOW_NAME) == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += GATE_VALVE_S;
		while (sem_timedwait(&slow_gate, &ts) != 0 && errno == EINTR)
			;
		return EAI_AGAIN;
	}
	if (node != NULL && strcmp(node, MOVED_NAME) == 0) {
		atomic_fetch_add(&moved_lookups, 1);
		snprintf(port, sizeof port, "%u", (unsigned)atomic_load(&moved_port));
		return libc("127.0.0.1", port, hints, res);
	}
	return libc(node, service, hints, res);
}

/* A plaintext client has no key to check that the node at an address is the one it
 * names (ID@ADDR): such an address, alone or in a list, is refused with HW_ECONFIG before
 * anything is dialled (a dial would say -ECONNREFUSED here). */
static void test_plaintext_named_refused(void **state)
{
	(void)state;
	struct server s;
	server_bind(&s, ECHO); /* never listens */
	char addr[80];
	struct hw_client *c = NULL;
	struct hw_client_security plain = {.insecure = true};
	snprintf(addr, sizeof addr, "p1@127.0.0.1:%u", s.port);
	assert_int_equal(hw_client_connect(addr, &c), HW_ECONFIG);
	assert_int_equal(hw_client_connect_secure(addr, &plain, &c), HW_ECONFIG);
	snprintf(addr, sizeof addr, "127.0.0.1:%u, s1@127.0.0.1:%u", s.port, s.port);
	assert_int_equal(hw_client_connect(addr, &c), HW_ECONFIG);
	assert_null(c);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", s.port); /* a bare one is dialled */
	assert_int_equal(hw_client_connect(addr, &c), -ECONNREFUSED);
	server_unbind(&s);
}

/* A secure client's cluster id past 32 characters is HW_ECONFIG with a line that says so,
 * before anything is dialled: it was said to be missing ("the channel needs a cluster
 * id"), next to the one the caller gave. The id is shown escaped: its newline and a log
 * line after it stay on the one line (they forged a line of their own). */
static void test_long_cluster_id_named(void **state)
{
	(void)state;
	char dir[HW_PROC_PATH_MAX], path[HW_PROC_PATH_MAX + 16], text[1024];
	assert_int_equal(hw_test_mkdtemp("client-cluster", dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/err", dir);
	struct hw_client_security sec = {.cluster_id = "the-cluster-id-of-33-characters-x\n"
						       "[fake] event=promoted\x1b[2K",
					 .key = "k",
					 .peers = "p"};
	struct hw_test_stderr cap;
	assert_int_equal(hw_test_stderr_begin(&cap, path), 0);
	struct hw_client *c = NULL;
	int rc = hw_client_connect_secure("127.0.0.1:1", &sec, &c);
	assert_int_equal(hw_test_stderr_end(&cap, text, sizeof text), 0);
	assert_int_equal(rc, HW_ECONFIG);
	assert_null(c);
	assert_string_equal(text, "hawser client: cluster id 'the-cluster-id-of-33-characters-x\\n"
				  "[fake] event=promoted\\x1b[2K' is longer than 32 characters\n");
	assert_int_equal(hw_test_rm_rf(dir), 0);
}

/* Nothing listens on the port: connect fails with -ECONNREFUSED and no handle. An address
 * that is none is -EINVAL, and a line on stderr says what an address is (it said nothing,
 * and "Invalid argument" did not say which one), the list escaped: a newline and a log
 * line in it stay on that one line (they forged a line of their own). */
static void test_refused(void **state)
{
	(void)state;
	struct server s;
	server_bind(&s, ECHO); /* never listens: a dial is refused */
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", s.port);
	struct hw_client *c = (struct hw_client *)&s;
	assert_int_equal(hw_client_connect(addr, &c), -ECONNREFUSED);
	assert_null(c);
	char dir[HW_PROC_PATH_MAX], path[HW_PROC_PATH_MAX + 16], text[1024];
	assert_int_equal(hw_test_mkdtemp("client-addr", dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/err", dir);
	struct hw_test_stderr cap;
	assert_int_equal(hw_test_stderr_begin(&cap, path), 0);
	int rc = hw_client_connect("no-port-here\n[fake] event=promoted", &c);
	assert_int_equal(hw_test_stderr_end(&cap, text, sizeof text), 0);
	assert_int_equal(rc, -EINVAL);
	assert_non_null(strstr(text, "hawser client: 'no-port-here\\n[fake] event=promoted' is not "
				     "a list of addresses: HOST:PORT"));
	assert_string_equal(strchr(text, '\n'), "\n"); /* one line */
	assert_int_equal(hw_test_rm_rf(dir), 0);
	server_unbind(&s);
}

/* A list where no node answers is HW_ENOT_PRIMARY (hawser.h), in either order, not the
 * last dial's code (-ECONNREFUSED or -ENOENT, by the order), and a line on stderr names
 * each address's; a NULL out is -EINVAL (it crashed). */
static void test_list_none_answers(void **state)
{
	(void)state;
	struct server s;
	server_bind(&s, ECHO); /* never listens: a dial is refused */
	char dir[HW_PROC_PATH_MAX], path[HW_PROC_PATH_MAX + 16], addr[2][HW_PROC_PATH_MAX + 64];
	assert_int_equal(hw_test_mkdtemp("client-none", dir, sizeof dir), 0);
	snprintf(path, sizeof path, "%s/err", dir);
	snprintf(addr[0], sizeof addr[0], "127.0.0.1:%u,unix:%s/none.sock", s.port, dir);
	snprintf(addr[1], sizeof addr[1], "unix:%s/none.sock,127.0.0.1:%u", dir, s.port);
	for (int i = 0; i < 2; i++) {
		struct hw_test_stderr cap;
		assert_int_equal(hw_test_stderr_begin(&cap, path), 0);
		struct hw_client *c = (struct hw_client *)&s;
		int rc = hw_client_connect(addr[i], &c);
		char text[2048];
		assert_int_equal(hw_test_stderr_end(&cap, text, sizeof text), 0);
		assert_non_null(strstr(text, "no node answered as the primary"));
		assert_non_null(strstr(text, "none.sock: No such file"));
		assert_non_null(strstr(text, "Connection refused"));
		assert_int_equal(rc, HW_ENOT_PRIMARY);
		assert_null(c);
	}
	assert_int_equal(hw_client_connect(addr[0], NULL), -EINVAL);
	assert_int_equal(hw_test_rm_rf(dir), 0);
	server_unbind(&s);
}

/* 1000 submits sent back to back all come back, each once, with lsn = request_id; the
 * client says it is a CLIENT in its Hello. */
static void test_pipelined(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, ECHO);
	struct hw_client *c = connect_to(&s);
	enum { N = 1000 };
	static bool seen[N];
	memset(seen, 0, sizeof seen);
	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(hw_client_submit(c, i + 1, record, sizeof record, HW_DURABLE, 1),
				 0);
	for (int i = 0; i < N; i++) {
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.code, 0);
		assert_true(o.request_id >= 1 && o.request_id <= N);
		assert_int_equal(o.lsn, o.request_id);
		assert_false(seen[o.request_id - 1]);
		seen[o.request_id - 1] = true;
	}
	hw_client_close(c);
	server_join(&s);
	assert_int_equal(s.submits, N);
	assert_int_equal(s.client_role, HAWSER__WIRE__V1__ROLE__CLIENT);
}

/* Bytes waiting to be read on fd, once some have arrived (bounded wait). */
static int queued_bytes(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	int n = 0;
	assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

/* Held submits are not written until the flush, then go out in one write (all their
 * bytes arrive at once) and each gets its outcome; a wait flushes what is held; more than
 * the hold buffer in one burst is written as it fills and nothing is lost. */
static void test_hold_flush(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, GATED);
	struct hw_client *c = connect_to(&s);
	sem_wait(&s.ready);
	hw_client_hold(c);
	for (uint64_t id = 1; id <= 3; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	int n = -1;
	assert_int_equal(ioctl(s.cfd, FIONREAD, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(hw_client_flush(c), 0);
	const int frame = (int)(HW_FRAME_HEADER_BYTES + HW_SUBMIT_HEADER_BYTES + sizeof record);
	assert_int_equal(queued_bytes(s.cfd), 3 * frame);
	sem_post(&s.go);
	struct hw_outcome o;
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.request_id, id);
	}
	hw_client_hold(c);
	assert_int_equal(hw_client_submit(c, 4, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.request_id, 4);
	enum { BURST = 1000 }; /* about 128 KiB of frames: twice the hold buffer */
	hw_client_hold(c);
	for (uint64_t id = 5; id < 5 + BURST; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_flush(c), 0);
	for (uint64_t id = 5; id < 5 + BURST; id++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.lsn, id);
	}
	hw_client_close(c);
	server_join(&s);
	assert_int_equal(s.submits, 4 + BURST);
}

/* With nothing outstanding a wait ends with -ETIMEDOUT, and the stream stays usable; a
 * failed wait's out holds its code, not the outcome an earlier wait gave. */
static void test_wait_timeout(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, ECHO);
	struct hw_client *c = connect_to(&s);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	assert_int_equal(hw_client_wait(c, 20, &o), -ETIMEDOUT);
	assert_int_equal(hw_client_submit(c, 7, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.request_id, 7);
	assert_int_equal(o.code, 0);
	/* a failed wait leaves nothing of the outcome before it: its code is the wait's */
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	assert_int_equal(o.code, -ETIMEDOUT);
	assert_int_equal(o.request_id, 0);
	assert_int_equal(o.lsn, 0);
	assert_false(o.duplicate);
	hw_client_close(c);
	server_join(&s);
	memset(&o, 0xa5, sizeof o); /* and so for a client of NULL */
	assert_int_equal(hw_client_wait(NULL, 0, &o), -EINVAL);
	assert_int_equal(o.code, -EINVAL);
	assert_int_equal(o.request_id, 0);
}

/* The drain after the caller's own poll (hawser bench's): waits with no time left take
 * each outcome that arrived, then say -ETIMEDOUT; the next outcome, once the socket is
 * readable again, is taken at the first such wait, not lost behind the one that found
 * the socket empty. */
static void test_drain_after_poll(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, ECHO);
	struct hw_client *c = connect_to(&s);
	struct pollfd p = {.fd = hw_client_fd(c), .events = POLLIN};
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
		assert_int_equal(poll(&p, 1, 5000), 1);
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, 0, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	}
	hw_client_close(c);
	server_join(&s);
	assert_int_equal(s.submits, 3);
}

/* A refusal carries the code, field and rule through unchanged. */
static void test_reject_passthrough(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, REJECT);
	struct hw_client *c = connect_to(&s);
	struct hw_outcome o;
	assert_int_equal(hw_client_submit(c, 9, record, sizeof record, HW_LOCAL, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.request_id, 9);
	assert_int_equal(o.code, HW_ECHECK_DIGIT);
	assert_int_equal(o.reject.code, HW_ECHECK_DIGIT);
	assert_string_equal(o.reject.field, "unit_event.equipment.container_id");
	assert_string_equal(o.reject.rule, "check digit 3, expected 7");
	/* Bad arguments are refused before anything is sent. */
	static uint8_t big[HW_RECORD_BYTES_MAX + 1];
	assert_int_equal(hw_client_submit(c, 10, big, sizeof big, HW_LOCAL, 0), HW_ETOOBIG);
	assert_int_equal(hw_client_submit(c, 11, record, sizeof record, (enum hw_durability)7, 0),
			 HW_ERANGE);
	assert_int_equal(hw_client_submit(c, 12, NULL, sizeof record, HW_LOCAL, 0), -EINVAL);
	hw_client_close(c);
	server_join(&s);
	assert_int_equal(s.submits, 1);
}

/* A client of one address whose node closed with a submit outstanding: HW_ECLOSED. */
static struct hw_client *closed_client(struct server *s)
{
	server_start(s, CLOSE);
	struct hw_client *c = connect_to(s);
	struct hw_outcome o;
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), HW_ECLOSED);
	return c;
}

/* The node closes with a submit outstanding: HW_ECLOSED, and it stays so. */
static void test_closed(void **state)
{
	(void)state;
	struct server s;
	struct hw_client *c = closed_client(&s);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 0, &o), HW_ECLOSED);
	assert_int_equal(hw_client_submit(c, 2, record, sizeof record, HW_DEFAULT, 0), HW_ECLOSED);
	hw_client_close(c);
	server_join(&s);
}

/* A reply whose body does not match its CRC: HW_EFRAME, sticky (no resynchronising). */
static void test_corrupt_frame(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, CORRUPT);
	struct hw_client *c = connect_to(&s);
	struct hw_outcome o;
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), HW_EFRAME);
	assert_int_equal(hw_client_wait(c, 0, &o), HW_EFRAME);
	hw_client_close(c);
	server_join(&s);
}

/* A node that answers HELLO with an ERROR frame: connect returns the frame's code. */
static void test_hello_refused(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, REFUSE_HELLO);
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", s.port);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), HW_ECLUSTER);
	assert_null(c);
	server_join(&s);
}

/* hw_client_status returns the STATUS body, which decodes to what the node sent. */
static void test_status(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, STATUS);
	struct hw_client *c = connect_to(&s);
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(hw_client_status(c, 5000, &body, &len), 0);
	assert_non_null(body);
	Hawser__Wire__V1__Status *st = hawser__wire__v1__status__unpack(NULL, len, body);
	assert_non_null(st);
	assert_string_equal(st->node_id, "fake");
	assert_int_equal(st->epoch, 3);
	assert_int_equal(st->n_peers, 1);
	assert_string_equal(st->peers[0]->node_id, "s1");
	assert_int_equal(st->peers[0]->durable, 39);
	hawser__wire__v1__status__free_unpacked(st, NULL);
	free(body);
	hw_client_close(c);
	server_join(&s);
}

/* A client given two nodes whose first closes the connection on the first submit:
 * the wait follows to the second by itself and every submit in flight is sent there
 * again, so each of them gets exactly one outcome, in order. */
static void test_follows_to_next(void **state)
{
	(void)state;
	struct server a, b;
	server_start(&a, CLOSE);
	server_start(&b, ECHO);
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u , 127.0.0.1:%u", a.port, b.port);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	for (uint64_t id = 1; id <= 3; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	for (uint64_t id = 1; id <= 3; id++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.code, 0);
	}
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	char want[32];
	snprintf(want, sizeof want, "127.0.0.1:%u", b.port);
	assert_string_equal(hw_client_addr(c), want);
	hw_client_close(c);
	server_join(&a);
	server_join(&b);
	assert_int_equal(b.submits, 3);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Catch SIGALRM without SA_RESTART, as a handler for Ctrl-C is installed: the old action
 * into *old, for the test to put back. */
static void catch_alarm(struct sigaction *old)
{
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, old), 0);
}

/* SIGALRM in 200 ms, once. */
static void alarm_soon(void)
{
	struct itimerval it = {.it_value = {.tv_usec = 200000}};
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

/* What a silent node (silent_start) does once let go: it takes the one connection that
 * filled its backlog, so SYNs get answered again, and serves the next connection as an
 * ECHO primary (if the client still dials it). */
static void *silent_valve(void *arg)
{
	struct server *s = arg;
	gate_wait(s, SILENT_VALVE_S * 1000);
	int filler = accept(s->lfd, NULL, NULL);
	if (filler >= 0)
		close(filler);
	sem_post(&s->ready); /* SYNs are answered again */
	return serve(s);
}

/* A node whose host does not answer, as when it lost power: a listening socket whose
 * backlog (of one) is full, so the kernel drops SYNs to it, until it is let go (posting
 * s->go, or after SILENT_VALVE_S). *filler: the connection that fills the backlog. False
 * (skip) when this kernel answers a SYN all the same: a probe connects within 300 ms. */
static bool silent_start(struct server *s, int *filler)
{
	server_bind(s, ECHO);
	assert_int_equal(listen(s->lfd, 0), 0);
	struct sockaddr_in sin = server_sin(s);
	*filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(*filler, (struct sockaddr *)&sin, sizeof sin), 0);
	int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(connect(probe, (struct sockaddr *)&sin, sizeof sin) != 0 &&
		    errno == EINPROGRESS);
	struct pollfd pfd = {.fd = probe, .events = POLLOUT};
	bool silent = poll(&pfd, 1, 300) == 0;
	close(probe);
	if (!silent) {
		fprintf(stderr, "silent host: skipped: this kernel answers a SYN past a full "
				"backlog, so no silent host can be made\n");
		close(*filler);
		server_unbind(s);
		return false;
	}
	assert_int_equal(pthread_create(&s->thread, NULL, silent_valve, s), 0);
	return true;
}

/* Let the silent node go and end it: its serve() takes a connection made here, once
 * the backlog has room again. */
static void silent_end(struct server *s, int filler)
{
	sem_post(&s->go);
	while (sem_wait(&s->ready) != 0 && errno == EINTR)
		;
	close(filler);
	poke(s);
	server_join(s);
}

/* A client connected to a (which closes on the first submit) whose node a has since
 * gone (its port refuses), with the two other nodes of list "a,b,c" after it: the next
 * search begins at b. */
static struct hw_client *connect_then_lose(struct server *a, const struct server *b,
					   const struct server *c)
{
	char addr[96];
	snprintf(addr, sizeof addr, "127.0.0.1:%u,127.0.0.1:%u,127.0.0.1:%u", a->port, b->port,
		 c->port);
	struct hw_client *cl = NULL;
	assert_int_equal(hw_client_connect(addr, &cl), 0);
	assert_int_equal(hw_client_submit(cl, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	server_join(a); /* it closed on the submit, and its port with it */
	return cl;
}

/* A silent host listed before the primary: a connect still under way after the stagger
 * (engine/dial.h) no longer holds up the next address, so the client takes the primary.
 * The silent host answers, as a primary too, once let go after SILENT_VALVE_S: a dial
 * that waited on it first, for its 5 s, would have got it (Linux sends the SYN again
 * after 1 s and 3 s), and taken it. */
static void test_silent_host_first(void **state)
{
	(void)state;
	struct server silent, b;
	int filler;
	if (!silent_start(&silent, &filler))
		HW_SKIP("this kernel answers SYNs past a full backlog: no silent host to dial");
	server_start(&b, ECHO);
	char addr[64], want[32];
	pair_addr(addr, sizeof addr, &silent, &b);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	snprintf(want, sizeof want, "127.0.0.1:%u", b.port);
	assert_string_equal(hw_client_addr(c), want);
	struct hw_outcome o;
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.code, 0);
	hw_client_close(c);
	silent_end(&silent, filler);
	server_join(&b);
	assert_int_equal(silent.submits, 0);
	assert_int_equal(b.submits, 1);
}

/* A search (hw_client_reconnect: one round at least) over a silent host and a standby,
 * as during an election after the primary's host lost power: once the standby has
 * answered, the round does not wait out the silent host's connect, so it ends with
 * HW_ENOT_PRIMARY (retry) before the silent host, let go after SILENT_VALVE_S, could
 * answer. A round that waited for it would have connected to it as the primary. */
static void test_silent_host_round_ends(void **state)
{
	(void)state;
	struct server a, silent, b;
	int filler;
	if (!silent_start(&silent, &filler))
		HW_SKIP("this kernel answers SYNs past a full backlog: no silent host to dial");
	server_start(&a, CLOSE);
	server_start(&b, STANDBY);
	struct hw_client *c = connect_then_lose(&a, &silent, &b);
	assert_int_equal(hw_client_reconnect(c, 100), HW_ENOT_PRIMARY);
	hw_client_close(c);
	silent_end(&silent, filler);
	server_join(&b);
	assert_int_equal(silent.submits, 0);
}

/* A search over a standby and a node that accepts and says nothing (its process
 * stopped, as an old primary's may be): once the standby has answered, the node's Hello
 * is waited for its patience (HELLO_PATIENCE_MS in engine/client.c, 500 ms at first),
 * not the dial's 5 s, so the round ends with HW_ENOT_PRIMARY before the node, let go
 * after MUTE_VALVE_S, answers as a primary. A dial that waited its 5 s would have
 * connected to it. */
static void test_mute_node_patience(void **state)
{
	(void)state;
	struct server a, b, mute;
	server_start(&a, CLOSE);
	server_start(&b, STANDBY);
	server_start(&mute, LATE_HELLO);
	struct hw_client *c = connect_then_lose(&a, &b, &mute);
	assert_int_equal(hw_client_reconnect(c, 100), HW_ENOT_PRIMARY);
	hw_client_close(c);
	sem_post(&mute.go);
	server_join(&b);
	server_join(&mute);
	assert_int_equal(mute.submits, 0);
}

/* A following client whose primary went, over a standby and a node that answers each
 * Hello LATE_REPLY_MS late, searching in waits of 100 ms: the search goes on from one
 * wait to the next with each node's patience, so the slow node, cut at 500 ms in the
 * first round, gets 1 s (or more) in a later one and is taken as the primary, where the
 * record in flight is sent again. A search that began afresh at each wait would give it
 * 500 ms for ever, until following gives up. */
static void test_patience_across_waits(void **state)
{
	(void)state;
	struct server a, b, slow;
	server_start(&a, CLOSE);
	server_start_many(&b, STANDBY);
	server_start_many(&slow, SLOW_HELLO);
	struct hw_client *c = connect_then_lose(&a, &b, &slow);
	hw_client_set_follow_ms(c, 6000); /* it takes about 1.5 s, at worst 2.5 */
	struct hw_outcome o;
	int rc = -ETIMEDOUT;
	for (int i = 0; i < 1000 && rc == -ETIMEDOUT; i++) /* a round each: past 6 s */
		rc = hw_client_wait(c, 100, &o);
	assert_int_equal(rc, 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(o.code, 0);
	char want[32];
	snprintf(want, sizeof want, "127.0.0.1:%u", slow.port);
	assert_string_equal(hw_client_addr(c), want);
	hw_client_close(c);
	server_stop(&b);
	server_stop(&slow);
	assert_int_equal(slow.submits, 1);
}

/* A client given nodes a (behaving as how) and b (ECHO) submits one record, which its
 * wait of up to wait_ms returns answered, by b. */
static void submit_follows(enum behaviour how, int wait_ms, struct server *a, struct server *b)
{
	server_start(a, how);
	server_start(b, ECHO);
	struct hw_client *c = connect_pair(a, b);
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, wait_ms, &o), 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(o.code, 0);
	hw_client_close(c);
	server_join(a);
	server_join(b);
	assert_int_equal(b->submits, 1);
}

/* A node that promised heartbeats and then says nothing, with a submit out, as a
 * stopped process does (its kernel still acknowledges the bytes, so TCP's own timeouts
 * never end the connection): after 1 s of silence (4 heartbeats, at least 1 s:
 * engine/client.c) the client counts the connection lost and, given the next node,
 * resends there. Without the rule the wait runs its 10 s out on the stopped node. */
static void test_stopped_node_followed(void **state)
{
	(void)state;
	struct server a, b;
	submit_follows(STOPPED, 10000, &a, &b);
	assert_int_equal(a.submits, 1);
}

/* A node that keeps its heartbeats up while it holds a submit's answer back for 2.5 s,
 * past the 1 s silence bound: its heartbeats say it is alive, so the client waits and
 * takes the answer from it. */
static void test_beating_node_waited_for(void **state)
{
	(void)state;
	struct server a;
	server_start(&a, BEATING);
	struct hw_client *c = connect_to(&a);
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 10000, &o), 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(o.code, 0);
	hw_client_close(c);
	server_join(&a);
	assert_int_equal(a.submits, 1);
}

/* A following client given a (which closes the connection on the first submit) and b
 * (bound, refused until it listens), with record id in flight and a search bound of
 * follow_ms (0: the default), once a has closed: its thread has ended, and its port
 * still listens but accepts no more (server_unbind closes it). */
static struct hw_client *follow_lost(struct server *a, struct server *b, uint64_t id, int follow_ms)
{
	server_start(a, CLOSE);
	server_bind(b, ECHO);
	struct hw_client *c = connect_pair(a, b);
	if (follow_ms > 0)
		hw_client_set_follow_ms(c, follow_ms);
	assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	assert_int_equal(pthread_join(a->thread, NULL), 0);
	return c;
}

/* hw_client_reconnect ended by a caught signal (handler without SA_RESTART) returns
 * -EINTR once; the client then stays failed as a closed one, HW_ECLOSED, never with a
 * sticky -EINTR that a caller retrying on EINTR would spin on. */
static void test_reconnect_interrupted(void **state)
{
	(void)state;
	struct server s;
	struct hw_client *c = closed_client(&s);
	server_join(&s); /* now no node listens */
	struct sigaction old;
	catch_alarm(&old);
	alarm_soon();
	assert_int_equal(hw_client_reconnect(c, 5000), -EINTR);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_int_equal(hw_client_submit(c, 2, record, sizeof record, HW_DEFAULT, 0), HW_ECLOSED);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 0, &o), HW_ECLOSED);
	hw_client_close(c);
}

/* A following client whose nodes are both gone searches for a primary (for up to 60 s);
 * a signal caught meanwhile (handler without SA_RESTART, as for Ctrl-C) ends the wait
 * with -EINTR, the search begins again on the next wait, and a second signal ends that
 * one too: the record in flight is never reported failed. A record submitted after them
 * is kept, and once a node answers, the next wait searches again, finds it and sends
 * both there, in order. */
static void test_follow_interrupted(void **state)
{
	(void)state;
	struct server a, b;
	struct hw_client *c = follow_lost(&a, &b, 1, 0);
	server_unbind(&a); /* now no node listens */
	struct sigaction old;
	catch_alarm(&old);
	struct hw_outcome o;
	for (int i = 0; i < 2; i++) {
		alarm_soon();
		assert_int_equal(hw_client_wait(c, 5000, &o), -EINTR);
	}
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_int_equal(hw_client_submit(c, 2, record, sizeof record, HW_DEFAULT, 0), 0);
	server_serve(&b);
	for (uint64_t id = 1; id <= 2; id++) {
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.request_id, id);
		assert_int_equal(o.code, 0);
	}
	hw_client_close(c);
	server_join(&b);
	assert_int_equal(b.submits, 2);
}

/* A caught signal during a dial's Hello, to a node that accepts and says nothing (its
 * process stopped, until the test lets it go), ends the dial with -EINTR (hawser.h): that
 * of hw_client_connect, which returns it, and that of a following client's search, whose
 * wait returns it with the record kept; the next wait, once the node answers, finds it
 * and resends the record there. The signal was swallowed: the dial waited on for the
 * Hello, which came when the node's valve opened (MUTE_VALVE_S). */
static void test_dial_interrupted(void **state)
{
	(void)state;
	struct server a, mute;
	server_start(&mute, LATE_HELLO);
	char addr[64];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", mute.port);
	struct sigaction old;
	catch_alarm(&old);
	alarm_soon();
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), -EINTR);
	assert_null(c);
	sem_post(&mute.go);
	server_join(&mute);

	server_start(&a, CLOSE);
	server_start_many(&mute, LATE_HELLO);
	c = connect_pair(&a, &mute);
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	server_join(&a); /* closed on the submit, and its port with it */
	alarm_soon();
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 10000, &o), -EINTR);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	sem_post(&mute.go); /* the interrupted dial's Hello, then the next one's */
	sem_post(&mute.go);
	assert_int_equal(hw_client_wait(c, 10000, &o), 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(o.code, 0);
	hw_client_close(c);
	server_stop(&mute);
	assert_int_equal(mute.submits, 1);
}

/* A caught signal while a dial waits for a host name's lookup (its DNS server silent)
 * ends the dial with -EINTR, as hawser.h promises, and hw_client_connect returns it at
 * once; the lookup goes on, on its thread. The dial waited on for its whole 5 s bound,
 * deaf to the signal, and failed with -EHOSTUNREACH. The alarm repeats (every 50 ms) so
 * that one lands in the wait whatever the wait's start. */
static void test_lookup_interrupted(void **state)
{
	(void)state;
	assert_int_equal(sem_init(&slow_gate, 0, 0), 0);
	struct sigaction old;
	catch_alarm(&old);
	struct itimerval it = {.it_value = {.tv_usec = 200000}, .it_interval = {.tv_usec = 50000}};
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	struct hw_client *c = NULL;
	int rc = hw_client_connect(SLOW_NAME ":1", &c);
	it = (struct itimerval){0};
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	sem_post(&slow_gate); /* the lookup's thread ends, and frees what it holds */
	assert_int_equal(rc, -EINTR);
	assert_null(c);
}

/* Host names are resolved once a search and kept for its rounds (engine/dial.h): a
 * following client's search, many rounds long, over its primary a (closed), MOVED_NAME
 * (a standby, s) and DEAD_NAME (its DNS server down) looks each name up once, and so
 * does the next search (hw_client_reconnect). Each round looked both up again: with a
 * resolver that takes its timeout to fail, a round cost that. MOVED_NAME repointed at p,
 * the primary, while s still answers at its old address (a DNS name moved at a
 * failover): the next search finds p there. */
static void test_names_resolved_once(void **state)
{
	(void)state;
	struct server a, s, p;
	server_start(&a, CLOSE);
	server_start_many(&s, STANDBY);
	server_start(&p, ECHO);
	atomic_store(&moved_port, s.port);
	char addr[96];
	snprintf(addr, sizeof addr, "127.0.0.1:%u," MOVED_NAME ":1," DEAD_NAME ":1", a.port);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	unsigned moved0 = atomic_load(&moved_lookups), dead0 = atomic_load(&dead_lookups);
	hw_client_set_follow_ms(c, 500); /* rounds of a few ms each */
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	server_join(&a); /* closed on the submit, and its port with it */
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 30000, &o), 0);
	assert_int_equal(o.code, HW_ENOT_PRIMARY); /* only s answered */
	assert_int_equal(atomic_load(&moved_lookups) - moved0, 1);
	assert_int_equal(atomic_load(&dead_lookups) - dead0, 1);
	atomic_store(&moved_port, p.port); /* s still answers at the old address */
	assert_int_equal(hw_client_reconnect(c, 10000), 0);
	assert_string_equal(hw_client_addr(c), MOVED_NAME ":1");
	assert_int_equal(atomic_load(&moved_lookups) - moved0, 2);
	assert_int_equal(atomic_load(&dead_lookups) - dead0, 2);
	assert_acked(c, 2);
	hw_client_close(c);
	server_join(&p);
	server_stop(&s);
}

/* A following client whose primary closed while no other node answers yet: a short wait
 * ends at its own timeout with the record kept (-ETIMEDOUT), and once a node answers, the
 * next wait goes on with the search, resends the record there and returns its outcome. */
static void test_follow_wait_timeout(void **state)
{
	(void)state;
	struct server a, b;
	struct hw_client *c = follow_lost(&a, &b, 1, 0);
	server_unbind(&a); /* now no node listens */
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 100, &o), -ETIMEDOUT);
	assert_int_equal(hw_client_wait(c, 0, &o), -ETIMEDOUT);
	server_serve(&b);
	assert_int_equal(hw_client_wait(c, 5000, &o), 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(o.code, 0);
	hw_client_close(c);
	server_join(&b);
	assert_int_equal(b.submits, 1);
}

/* A following client with a 200 ms search bound and no node answering: its short waits
 * time out until the search ends, then the record in flight is answered with the error. */
static void test_follow_ms_bound(void **state)
{
	(void)state;
	struct server a, b; /* b never listens */
	struct hw_client *c = follow_lost(&a, &b, 7, 200);
	server_unbind(&a);
	struct hw_outcome o;
	int rc = -ETIMEDOUT;
	for (int i = 0; i < 1000 && rc == -ETIMEDOUT; i++) /* 50 ms each: far past 200 ms */
		rc = hw_client_wait(c, 50, &o);
	assert_int_equal(rc, 0);
	assert_int_equal(o.request_id, 7);
	assert_int_equal(o.code, HW_ECLOSED); /* in doubt: a refused dial says nothing of it */
	hw_client_close(c);
	server_unbind(&b);
}

/* A search bound that is none (ms <= 0: -1 reads "no limit", as a wait's timeout does) is
 * refused with HW_ERANGE and changes nothing: the search keeps its 60 s, and a wait of
 * 50 ms after the loss, both nodes refusing, finds it still under way. -1 was taken: the
 * search ended after one round, the record came back in doubt at once, and the client
 * failed for good. A client or outcome of NULL is -EINVAL (they crashed). */
static void test_follow_ms_refused(void **state)
{
	(void)state;
	struct server a, b;
	struct hw_client *c = follow_lost(&a, &b, 7, 0);
	assert_int_equal(hw_client_set_follow_ms(c, -1), HW_ERANGE);
	assert_int_equal(hw_client_set_follow_ms(c, 0), HW_ERANGE);
	server_unbind(&a);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 50, &o), -ETIMEDOUT);
	assert_int_equal(hw_client_wait(c, 0, NULL), -EINVAL);
	assert_int_equal(hw_client_wait(NULL, 0, &o), -EINVAL);
	assert_int_equal(hw_client_submit(NULL, 1, record, sizeof record, HW_DEFAULT, 0), -EINVAL);
	hw_client_hold(NULL);
	assert_int_equal(hw_client_flush(NULL), -EINVAL);
	assert_int_equal(hw_client_reconnect(NULL, 0), -EINVAL);
	assert_int_equal(hw_client_set_follow_ms(NULL, 100), -EINVAL);
	hw_client_close(c);
	server_unbind(&b);
}

/* A following client whose search ends without a primary, its last dial timed out: a,
 * which closed on the submit, listens on but accepts no more (a stopped process: a dial
 * connects, and its Hello times out after 5 s), b refuses. The record in flight is
 * answered in doubt, HW_ECLOSED, and then every wait and submit says HW_ECLOSED for good:
 * never -ETIMEDOUT, which a caller reads as "no outcome yet" and would retry for ever. */
static void test_follow_timed_out_closed(void **state)
{
	(void)state;
	struct server a, b;                                /* b never listens */
	struct hw_client *c = follow_lost(&a, &b, 1, 200); /* one round: its dial to a, 5 s */
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 30000, &o), 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(o.code, HW_ECLOSED);
	assert_int_equal(hw_client_wait(c, 0, &o), HW_ECLOSED);
	assert_int_equal(hw_client_wait(c, 100, &o), HW_ECLOSED);
	assert_int_equal(hw_client_submit(c, 2, record, sizeof record, HW_DEFAULT, 0), HW_ECLOSED);
	hw_client_close(c);
	server_unbind(&a);
	server_unbind(&b);
}

/* Every call on a client that failed for good says code: a wait, a submit, a request. */
static void assert_failed_with(struct hw_client *c, int code)
{
	struct hw_outcome o;
	uint8_t *body = NULL;
	size_t len = 0;
	assert_int_equal(hw_client_wait(c, 0, &o), code);
	assert_int_equal(hw_client_wait(c, 100, &o), code);
	assert_int_equal(hw_client_submit(c, 2, record, sizeof record, HW_DEFAULT, 0), code);
	assert_int_equal(hw_client_status(c, 100, &body, &len), code);
	assert_null(body);
}

/* A following client whose primary restarts RESTARTS_N times (it answers the Hello and
 * closes), each found again by a search; then it stays. With nothing in flight the
 * searches bring no outcome, since none is asked for, and do not count toward the 8
 * without one that end a client (hawser.h): it keeps following and its next submit is
 * answered (it gave up for good at the 9th, HW_ECLOSED). With a submit in flight the rule
 * holds: after 8 searches the record is answered in doubt, with connections to spare. */
static void restarts_followed(bool in_flight)
{
	struct server a, b;
	server_start_many(&a, RESTARTS);
	server_bind(&b, ECHO); /* never listens */
	struct hw_client *c = connect_pair(&a, &b);
	struct hw_outcome o;
	if (in_flight) {
		assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
		assert_int_equal(hw_client_wait(c, 30000, &o), 0);
		assert_int_equal(o.request_id, 1);
		assert_int_equal(o.code, HW_ECLOSED);
		assert_true(hw_client_connects(c) < RESTARTS_N);
	} else {
		while (hw_client_connects(c) <= RESTARTS_N)
			assert_int_equal(hw_client_wait(c, 100, &o), -ETIMEDOUT);
		assert_acked(c, 1);
	}
	hw_client_close(c);
	server_stop(&a);
	server_unbind(&b);
}

static void test_idle_follows_restarts(void **state)
{
	(void)state;
	restarts_followed(false);
}

static void test_follows_in_flight_bounded(void **state)
{
	(void)state;
	restarts_followed(true);
}

/* A following client whose primary a closed on the first submit and whose search then
 * meets refusals only, a at its connection limit (ERROR {HW_EBUSY}) and b's port (not
 * listening): the record in flight is answered in doubt, HW_ECLOSED, and every later
 * call says HW_ECLOSED for good (hawser.h). The last dial's own code stayed instead, and
 * HW_EBUSY, which says "wait for an outcome, then submit again", had a caller spin on a
 * dead handle. */
static void test_follow_failed_closed(void **state)
{
	(void)state;
	struct server a, b;
	server_start_many(&a, FULL_LATER);
	server_bind(&b, ECHO); /* never listens */
	struct hw_client *c = connect_pair(&a, &b);
	hw_client_set_follow_ms(c, 300);
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 30000, &o), 0);
	assert_int_equal(o.request_id, 1);
	assert_int_equal(o.code, HW_ECLOSED);
	assert_failed_with(c, HW_ECLOSED);
	hw_client_close(c);
	server_stop(&a);
	server_unbind(&b);
	assert_true(a.connections > 1); /* the search was refused there */
}

/* hw_client_reconnect of a client whose node closed, to that node now at its connection
 * limit: it returns the dial's code, HW_EBUSY, and c stays failed with HW_ECLOSED, not
 * with HW_EBUSY ("try again"). */
static void test_reconnect_failed_closed(void **state)
{
	(void)state;
	struct server s;
	server_start_many(&s, FULL_LATER);
	struct hw_client *c = connect_to(&s);
	assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
	struct hw_outcome o;
	assert_int_equal(hw_client_wait(c, 5000, &o), HW_ECLOSED);
	assert_int_equal(hw_client_reconnect(c, 100), HW_EBUSY);
	assert_failed_with(c, HW_ECLOSED);
	hw_client_close(c);
	server_stop(&s);
}

/* A following client whose primary answers its first record HW_ENOT_PRIMARY and, in the
 * same write, accepts the next two (it stepped down between them): the two successes
 * are outcomes, from a, before the client follows to b, which gets the first record
 * alone. A search at the refusal dropped them with the connection: sent again, they came
 * back from b as duplicates, or in doubt. */
static void test_step_down_outcomes_first(void **state)
{
	(void)state;
	struct server a, b;
	server_start(&a, STEP_DOWN);
	server_start(&b, ECHO);
	struct hw_client *c = connect_pair(&a, &b);
	for (uint64_t id = 1; id <= 3; id++)
		assert_int_equal(hw_client_submit(c, id, record, sizeof record, HW_DEFAULT, 0), 0);
	static const uint64_t order[3] = {2, 3, 1};
	for (int i = 0; i < 3; i++) {
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, 5000, &o), 0);
		assert_int_equal(o.request_id, order[i]);
		assert_int_equal(o.code, 0);
	}
	hw_client_close(c);
	server_join(&a);
	server_join(&b);
	assert_int_equal(b.submits, 1);
	assert_int_equal(b.ids[0], 1);
}

/* A following client whose primary sends a damaged frame (its CRC fails) treats the
 * stream as lost: it follows to the next node and resends there, so the record gets its
 * outcome. Its copy was neither resent nor answered in doubt: HW_EFRAME for good. */
static void test_damaged_frame_follows(void **state)
{
	(void)state;
	struct server a, b;
	submit_follows(CORRUPT, 5000, &a, &b);
	assert_int_equal(a.submits, 1);
}

/* A connection that ended in a timeout (here a node's ERROR carrying -ETIMEDOUT, as a
 * TCP keep-alive or user timeout would end it) is a lost connection: the client follows
 * to the next node instead of answering -ETIMEDOUT for ever. */
static void test_timed_out_connection_follows(void **state)
{
	(void)state;
	struct server a, b;
	submit_follows(TIMEDOUT, 5000, &a, &b);
}

/* A code from the node that the API gives another meaning or that names nothing is
 * HW_EPROTOCOL, sticky: an ERROR carrying -EINTR ("a signal came, call again") made
 * every later wait say -EINTR, and a caller that retried on it spun on a dead connection;
 * a SUBMIT_REPLY's positive code reached the outcome. */
static void test_odd_codes_refused(void **state)
{
	(void)state;
	static const enum behaviour how[] = {EINTR_ERROR, ODD_REPLY};
	for (size_t i = 0; i < sizeof how / sizeof how[0]; i++) {
		struct server s;
		server_start(&s, how[i]);
		struct hw_client *c = connect_to(&s);
		assert_int_equal(hw_client_submit(c, 1, record, sizeof record, HW_DEFAULT, 0), 0);
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, 5000, &o), HW_EPROTOCOL);
		assert_int_equal(hw_client_wait(c, 0, &o), HW_EPROTOCOL);
		hw_client_close(c);
		server_join(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_long_cluster_id_named),
		cmocka_unit_test(test_list_none_answers),
		cmocka_unit_test(test_plaintext_named_refused),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_wait_timeout),
		cmocka_unit_test(test_drain_after_poll),
		cmocka_unit_test(test_reject_passthrough),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_reconnect_interrupted),
		cmocka_unit_test(test_corrupt_frame),
		cmocka_unit_test(test_hello_refused),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_follows_to_next),
		cmocka_unit_test(test_silent_host_first),
		cmocka_unit_test(test_silent_host_round_ends),
		cmocka_unit_test(test_mute_node_patience),
		cmocka_unit_test(test_patience_across_waits),
		cmocka_unit_test(test_stopped_node_followed),
		cmocka_unit_test(test_beating_node_waited_for),
		cmocka_unit_test(test_hold_flush),
		cmocka_unit_test(test_follow_interrupted),
		cmocka_unit_test(test_dial_interrupted),
		cmocka_unit_test(test_lookup_interrupted),
		cmocka_unit_test(test_names_resolved_once),
		cmocka_unit_test(test_follow_wait_timeout),
		cmocka_unit_test(test_follow_ms_bound),
		cmocka_unit_test(test_follow_ms_refused),
		cmocka_unit_test(test_timed_out_connection_follows),
		cmocka_unit_test(test_odd_codes_refused),
		cmocka_unit_test(test_follow_timed_out_closed),
		cmocka_unit_test(test_follow_failed_closed),
		cmocka_unit_test(test_idle_follows_restarts),
		cmocka_unit_test(test_follows_in_flight_bounded),
		cmocka_unit_test(test_reconnect_failed_closed),
		cmocka_unit_test(test_step_down_outcomes_first),
		cmocka_unit_test(test_damaged_frame_follows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
