/* embed_node.c: a hawser node inside the program (docs/embedding.md). Opens the node of
 * the config file given, runs its loop on a thread of its own, stores three records from
 * the main thread, prints their LSNs, then stops and closes the node.
 *
 *   cc embed_node.c tos.pb-c.c $(pkg-config --cflags --libs hawser-static) -o embed_node
 *   (libhawser.so: $(pkg-config --cflags --libs hawser libprotobuf-c), docs/embedding.md)
 *   ./embed_node node.ini */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "hawser.h"
#include "kv_record.h"

static int run_rc;

/* The node's loop thread: its sockets and its submits' callbacks belong to it. */
static void *loop_main(void *arg)
{
	run_rc = hw_node_run(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: embed_node NODE.INI\n");
		return 2;
	}
	struct hw_node *n;
	int rc = hw_node_open(argv[1], &n);
	if (rc != 0) {
		fprintf(stderr, "embed_node: %s: %s (%s)\n", argv[1], hw_strerror(rc),
			hw_errname(rc));
		return 1;
	}
	pthread_t loop;
	if (pthread_create(&loop, NULL, loop_main, n) != 0) {
		hw_node_close(n);
		return 1;
	}
	int failed = 0;
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	for (int i = 0; i < 3 && !failed; i++) {
		char value[16];
		snprintf(value, sizeof value, "v%d", i);
		size_t len = kv_record("example.key", value, buf);
		struct hw_outcome out;
		/* Blocking, so never from the loop thread (-EDEADLK there); HW_DEFAULT: the
		 * node's configured durability mode and k. */
		rc = len == 0 ? -EIO : hw_node_submit_wait(n, buf, len, HW_DEFAULT, 0, &out);
		if (rc == 0) {
			printf("lsn=%llu\n", (unsigned long long)out.lsn);
		} else if (hw_is_reject(rc)) {
			fprintf(stderr, "embed_node: refused: %s: %s: %s\n", hw_errname(rc),
				out.reject.field, out.reject.rule);
			failed = 1;
		} else {
			fprintf(stderr, "embed_node: submit: %s\n", hw_strerror(rc));
			failed = 1;
		}
	}
	hw_node_stop(n);          /* any thread */
	pthread_join(loop, NULL); /* hw_node_run returned: close may run here */
	hw_node_close(n);
	if (run_rc != 0)
		fprintf(stderr, "embed_node: node stopped: %s\n", hw_strerror(run_rc));
	return failed || run_rc != 0;
}
