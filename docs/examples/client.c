/* client.c: a program that talks to a running `hawser node` over its client port
 * (docs/embedding.md). Pipelines three records, then waits for their outcomes and prints
 * the LSN of each. ADDR is HOST:PORT or unix:/path, or a comma-separated list of a
 * failover cluster's nodes (the client then follows the primary). Without keys it speaks
 * plaintext, to nodes with insecure = true.
 *
 *   cc client.c tos.pb-c.c $(pkg-config --cflags --libs hawser-static) -o client
 *   (libhawser.so: $(pkg-config --cflags --libs hawser libprotobuf-c), docs/embedding.md)
 *   ./client ADDR [CLUSTER_ID CLIENT_KEY NODE_PUBS] */
#include <errno.h>
#include <stdio.h>

#include "hawser.h"
#include "kv_record.h"

#define RECORDS 3

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 5) {
		fprintf(stderr, "usage: client ADDR [CLUSTER_ID CLIENT_KEY NODE_PUBS]\n");
		return 2;
	}
	struct hw_client_security sec = {.insecure = argc == 2};
	if (argc == 5) {
		sec.cluster_id = argv[2];
		sec.key = argv[3];
		sec.peers = argv[4];
	}
	struct hw_client *c; /* for this thread only */
	int rc = hw_client_connect_secure(argv[1], &sec, &c);
	if (rc != 0) {
		fprintf(stderr, "client: %s: %s (%s)\n", argv[1], hw_strerror(rc), hw_errname(rc));
		return 1;
	}
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	int sent = 0;
	for (; sent < RECORDS; sent++) {
		char value[16];
		snprintf(value, sizeof value, "v%d", sent);
		size_t len = kv_record("example.key", value, buf);
		/* request id: ours, echoed in the outcome; distinct among those in flight */
		rc = len == 0 ? -EIO : hw_client_submit(c, (uint64_t)sent, buf, len, HW_DEFAULT, 0);
		if (rc != 0) {
			fprintf(stderr, "client: submit: %s\n", hw_strerror(rc));
			break;
		}
	}
	int failed = rc != 0;
	for (int got = 0; got < sent; got++) { /* the outcomes of what was sent */
		struct hw_outcome out;
		rc = hw_client_wait(c, 30000, &out);
		if (rc != 0) { /* HW_ECLOSED: those without an outcome are in doubt */
			fprintf(stderr, "client: wait: %s\n", hw_strerror(rc));
			failed = 1;
			break;
		}
		if (out.code == 0) {
			printf("request=%llu lsn=%llu%s\n", (unsigned long long)out.request_id,
			       (unsigned long long)out.lsn, out.duplicate ? " duplicate" : "");
		} else {
			fprintf(stderr, "client: request %llu: %s (%s) %s %s\n",
				(unsigned long long)out.request_id, hw_strerror(out.code),
				hw_errname(out.code), out.reject.field, out.reject.rule);
			failed = 1;
		}
	}
	hw_client_close(c);
	return failed;
}
