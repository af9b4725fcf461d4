/* rig.h: the failover cluster the failover tests share (test_failover, test_switchover,
 * test_rejoin): a primary p1, standbys s1 and s2 and a witness w1, each a real `hawser
 * node` or `hawser witness` process (tests/integration/proc.h) on loopback, in durable
 * mode with k = 1, rto = HW_RIG_RTO_MS, rpo = 0, plaintext. Files under the rig's root:
 * <id>.ini (config), <id>/ (store), <id>.log (stderr). Every voter names every other
 * voter by its replication address, or through a proxy (chaos/proxy.h) that
 * hw_rig_route() puts in one direction, so a test can blackhole that direction.
 *
 * And the records such a test sends: generated up front (their bytes are resent after a
 * failover and compared with a store's log at the end), with each one's outcome;
 * hawser-chaos (chaos/run.c) keeps its load's records the same way.
 *
 * Like proc.h, nothing here asserts: functions return 0 or a negative code. */
#ifndef HW_TESTS_RIG_H
#define HW_TESTS_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/integration/proc.h"

#define HW_RIG_NODES       3 /* p1, s1, s2 */
#define HW_RIG_VOTERS      4 /* and the witness w1, the last voter */
#define HW_RIG_RTO_MS      2000
#define HW_RIG_PROXIES_MAX 8
#define HW_RIG_ADDR_BYTES  32

/* "p1", "s1", "s2", "w1". */
extern const char *const hw_rig_ids[HW_RIG_VOTERS];

struct hw_proxy;

struct hw_rig {
	char root[HW_PROC_PATH_MAX];
	char listen[HW_RIG_VOTERS][HW_RIG_ADDR_BYTES]; /* replication (witness: voting) */
	char client[HW_RIG_NODES][HW_RIG_ADDR_BYTES];
	char ini[HW_RIG_VOTERS][HW_PROC_PATH_MAX + 16];
	char log[HW_RIG_VOTERS][HW_PROC_PATH_MAX + 16];
	char dir[HW_RIG_VOTERS][HW_PROC_PATH_MAX + 16];
	/* view[i][j]: voter j's address as voter i's config names it (direct or a proxy) */
	char view[HW_RIG_VOTERS][HW_RIG_VOTERS][HW_RIG_ADDR_BYTES];
	struct hw_proc proc[HW_RIG_VOTERS];
	struct hw_proxy *proxy[HW_RIG_PROXIES_MAX];
	unsigned n_proxies;
	unsigned waiters_max; /* the data nodes' [limits] waiters_max; 0: the default */
	unsigned log_keep;    /* the data nodes' [limits] log_keep_records, by count alone
				 ([retention] log_days = 0); 0: the defaults */
};

/* A fresh rig: its root $HW_TEST_TMP/<name>-XXXXXX, free ports, paths, direct views;
 * nothing started. */
int hw_rig_init(struct hw_rig *r, const char *name);

/* Kill what runs, free the proxies, remove the root (the teardown call; safe after a
 * failed hw_rig_init on a zeroed rig). Returns hw_test_rm_rf's code. */
int hw_rig_free(struct hw_rig *r);

/* From now on voter i reaches voter j through a new proxy (call before voter i starts).
 * Returns the proxy (owned by the rig) or NULL. */
struct hw_proxy *hw_rig_route(struct hw_rig *r, int i, int j);

/* Write voter i's config and start it; wait up to wait_ms for its "event=started". */
int hw_rig_start(struct hw_rig *r, int i, int wait_ms);

/* The witness, then the nodes; then wait up to wait_ms for p1 (the configured primary)
 * to win the first election. -ETIMEDOUT when a line did not come. */
int hw_rig_start_all(struct hw_rig *r, int wait_ms);

/* SIGTERM every voter still running and reap it (wait_ms each). Returns 0 when every
 * one exited with 0, else the first other exit code. */
int hw_rig_stop_all(struct hw_rig *r, int wait_ms);

/* ---- records ------------------------------------------------------------------------ */

struct hw_rig_recs {
	uint64_t count;
	uint8_t **rec; /* record i's bytes, len[i] of them */
	size_t *len;
	int *expect; /* the outcome the generator meant */
	/* filled by the test's (or hawser-chaos's) load: */
	bool *done; /* code[i], lsn[i] and at_ms[i] hold record i's final outcome */
	int *code;
	uint64_t *lsn;
	int64_t *at_ms; /* wall time the outcome arrived */
};

/* Draw count records from the workload generator (seed) into r. */
int hw_rig_recs_init(struct hw_rig_recs *r, uint64_t count, uint64_t seed);

/* Free r's arrays; safe on a zeroed one. */
void hw_rig_recs_free(struct hw_rig_recs *r);

/* Check every record is done with the outcome the generator meant, and every success
 * is in store dir's log at its LSN with the same bytes. Returns 0 with *acked the
 * successes, HW_EDIGEST with the first difference in why, or the store's code. */
int hw_rig_recs_check(const struct hw_rig_recs *r, const char *dir, uint64_t *acked, char *why,
		      size_t cap);

/* Check each record is in store dir's log at most once: a success only at its LSN, any
 * other record nowhere (a record resent after a failover and stored again would be at a
 * second LSN). Returns 0, HW_EDIGEST with the first such entry in why, or the store's
 * code. */
int hw_rig_recs_once(const struct hw_rig_recs *r, const char *dir, char *why, size_t cap);

#endif
