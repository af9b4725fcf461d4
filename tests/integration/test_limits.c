/* test_limits.c: a node at its client connection limit (HW_CLIENTS_MAX sessions less the
 * replication port's HW_REPL_SESSIONS_MAX) refuses the next client connection with an
 * ERROR frame carrying HW_EBUSY, closes it, and keeps serving: a standby still connects
 * on the replication port, and once a client leaves, a new client is answered again. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "engine/io/frame.h"
#include "engine/node_int.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

#define WAIT_MS 10000

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode t, s; /* the primary and its standby */
	int fd[HW_CLIENTS_MAX];
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

static int setup(void **state)
{
	/* the node (a child) needs more descriptors than the default 1024 */
	struct rlimit rl = {.rlim_cur = 4096, .rlim_max = 4096};
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

/* Silent connections (no handshake, no hello) fill the client port's sessions; the next
 * one gets ERROR HW_EBUSY and is closed; the standby connects on the replication port all
 * the same; the node stays up and, after one client leaves, answers a status. */
static void test_busy_refused_node_survives(void **state)
{
	struct fix *f = *state;
	for (; f->n_fd < HW_CLIENTS_MAX - HW_REPL_SESSIONS_MAX; f->n_fd++) {
		f->fd[f->n_fd] = hw_test_dial(f->t.client);
		assert_true(f->fd[f->n_fd] >= 0);
	}
	int extra = hw_test_dial(f->t.client);
	assert_true(extra >= 0);
	uint8_t buf[512];
	size_t len = read_to_eof(extra, buf, sizeof buf);
	close(extra);
	struct hw_frame fr;
	assert_true(hw_frame_parse(buf, len, &fr) > 0);
	assert_int_equal(fr.type, HW_FRAME_ERROR);
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, fr.len, fr.body);
	assert_non_null(e);
	assert_int_equal(e->code, HW_EBUSY);
	hawser__wire__v1__error__free_unpacked(e, NULL);

	struct hw_tnode_opts so = {.primary_addr = f->t.listen};
	size_t smark = 0;
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(
		hw_proc_wait_line(&f->s.proc, &smark, "event=following", NULL, WAIT_MS, NULL, 0));

	close(f->fd[--f->n_fd]);
	struct hw_tstatus st = {0};
	int rc = -1;
	for (int64_t end = hw_mono_ms() + WAIT_MS; rc != 0 && hw_mono_ms() < end;)
		rc = hw_tnode_status(&f->t, &st);
	assert_int_equal(rc, 0);
	assert_int_equal(st.role, 1); /* the same node, still primary: it did not crash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_busy_refused_node_survives, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
