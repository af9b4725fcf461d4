/* test_client_secure.c: the client's dial over the secure channel (engine/io/channel.h)
 * against a fake node on a thread of this test whose handshake and HELLO are slow: the
 * dial's one deadline covers both (split from test_client.c, whose fake nodes are
 * plaintext). */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/io/channel.h"
#include "engine/io/frame.h"
#include "hawser.h"
#include "tests/integration/fake_node.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

/* The slow node of test_dial_one_deadline: its key, the client's it pins, and what it saw. */
#define SLOW_CLUSTER      "dial"
#define SLOW_HANDSHAKE_MS 3000 /* from its accept to its hello_R | finish_R */
#define SLOW_HELLO_MS     4000 /* from that to its HELLO frame: 7 s after the accept */
struct slow_node {
	int lfd;
	uint16_t port;
	pthread_t thread;
	struct hw_identity id;
	uint8_t pin[HW_CHANNEL_KEY_BYTES];
	bool handshake_done; /* the client's finish_I arrived (read after join) */
};

/* Read from fd into buf[*have..cap) until the channel takes one handshake message. */
static bool slow_handshake_in(struct hw_channel *ch, int fd, uint8_t *buf, size_t cap, size_t *have)
{
	size_t used;
	int rc;
	while ((rc = hw_channel_handshake_in(ch, buf, *have, &used)) == -EAGAIN) {
		ssize_t got = recv(fd, buf + *have, cap - *have, 0);
		if (got <= 0)
			return false;
		*have += (size_t)got;
	}
	memmove(buf, buf + used, *have - used);
	*have -= used;
	return rc == 0;
}

/* The slow node: accept, answer the handshake after SLOW_HANDSHAKE_MS, then send the
 * HELLO frame SLOW_HELLO_MS later; then wait for the client to go. */
static void *serve_slow(void *arg)
{
	struct slow_node *s = arg;
	int fd = accept(s->lfd, NULL, NULL);
	struct hw_channel_config cfg = {.role = HW_CHANNEL_RESPONDER,
					.self = &s->id,
					.pinned = s->pin,
					.pinned_count = 1,
					.cluster_id = SLOW_CLUSTER};
	struct hw_channel *ch = NULL;
	static uint8_t buf[8192], out[1024];
	size_t have = 0, n;
	bool ok = fd >= 0 && hw_channel_new(&cfg, &ch) == 0 &&
		  slow_handshake_in(ch, fd, buf, sizeof buf, &have);
	take_ms(SLOW_HANDSHAKE_MS);
	ok = ok && hw_channel_handshake_out(ch, out, sizeof out, &n) == 0 &&
	     send(fd, out, n, MSG_NOSIGNAL) == (ssize_t)n &&
	     slow_handshake_in(ch, fd, buf, sizeof buf, &have);
	s->handshake_done = ok && hw_channel_is_open(ch);
	take_ms(SLOW_HELLO_MS);
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = 1;
	h.role = HAWSER__WIRE__V1__ROLE__PRIMARY;
	uint8_t frame[128];
	size_t len = hawser__wire__v1__hello__pack(&h, frame + HW_FRAME_HEADER_BYTES);
	hw_frame_header(frame, HW_FRAME_HELLO, frame + HW_FRAME_HEADER_BYTES, (uint32_t)len);
	ok = ok &&
	     hw_channel_seal(ch, frame, HW_FRAME_HEADER_BYTES + len, out, sizeof out, &n) == 0;
	if (ok)
		(void)send(fd, out, n, MSG_NOSIGNAL); /* the client may be gone: EPIPE */
	while (ok && recv(fd, buf, sizeof buf, 0) > 0)
		;
	hw_channel_free(ch);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* A node whose handshake takes 3 s and whose HELLO comes 4 s after that (7 s after the
 * accept): a dial shares one deadline (5 s) among the connect, the handshake and the
 * Hello, so it ends with -ETIMEDOUT before that HELLO can arrive, the handshake done. A
 * Hello read given a fresh 5 s of its own after the handshake would take the HELLO
 * (about 8 s from the accept) and connect. No clock is read here: the node's delays are
 * lower bounds, so the HELLO is sent at least 2 s after the one deadline passed. */
static void test_dial_one_deadline(void **state)
{
	(void)state;
	if (hw_test_bin_or_skip("test_dial_one_deadline (hawser keygen makes its keys)") == NULL)
		skip(); /* needs HW_BIN: run through ctest */
	char root[HW_PROC_PATH_MAX], dir[HW_PROC_PATH_MAX + 16], path[HW_PROC_PATH_MAX + 32];
	char out[1024], log[HW_PROC_PATH_MAX + 16];
	assert_int_equal(hw_test_mkdtemp("client-dial", root, sizeof root), 0);
	snprintf(log, sizeof log, "%s/keygen.log", root);
	static const char *const names[] = {"client", "node"};
	for (int i = 0; i < 2; i++) {
		snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
		const char *args[] = {"keygen", "--out", dir, NULL};
		assert_int_equal(hw_proc_run(log, out, sizeof out, 10000, args), 0);
	}
	struct slow_node s = {0};
	snprintf(path, sizeof path, "%s/node/node.key", root);
	assert_int_equal(hw_identity_load(path, &s.id), 0);
	snprintf(path, sizeof path, "%s/client/node.pub", root);
	assert_int_equal(hw_channel_key_load(path, s.pin), 0);
	struct server bound; /* only its port */
	server_bind(&bound, ECHO);
	s.lfd = bound.lfd;
	s.port = bound.port;
	assert_int_equal(listen(s.lfd, 4), 0);
	assert_int_equal(pthread_create(&s.thread, NULL, serve_slow, &s), 0);
	char key[HW_PROC_PATH_MAX + 32], pub[HW_PROC_PATH_MAX + 32], addr[64];
	snprintf(key, sizeof key, "%s/client/node.key", root);
	snprintf(pub, sizeof pub, "%s/node/node.pub", root);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", s.port);
	struct hw_client_security sec = {.cluster_id = SLOW_CLUSTER, .key = key, .peers = pub};
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect_secure(addr, &sec, &c), -ETIMEDOUT);
	assert_null(c);
	pthread_join(s.thread, NULL);
	server_unbind(&bound);
	hw_identity_wipe(&s.id);
	assert_true(s.handshake_done); /* the time ran out in the Hello, after the handshake */
	assert_int_equal(hw_test_rm_rf(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dial_one_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
