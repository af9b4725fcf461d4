/* test_rejoin.c: an old primary with a divergent suffix rejoins (docs/operations.md
 * "Rejoin"): a failover cluster of p1, s1, s2 and a witness (durable, k = 1, rpo = 0); p1
 * is cut off from every voter (proxies), acknowledges a few records in local mode that no
 * standby gets, steps down; a standby is promoted and takes records of its own; the cut
 * heals and p1 finds the common point with the new primary, quarantines exactly what it
 * took after the cut, rewinds, follows to the same state, and `hawser quarantine export`
 * lists the quarantined records. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "chaos/proxy.h"
#include "hawser.h"
#include "replica/record.h"
#include "replica/rejoin.h"
#include "replica/store.h"
#include "tests/integration/proc.h"

#define NODES         3 /* p1, s1, s2; the witness is voter 3 */
#define VOTERS        4
#define EVENT_WAIT_MS 15000
#define STOP_WAIT_MS  10000
#define RTO_MS        2000
#define BEFORE        20u /* acknowledged (durable) before the cut */
#define LOST          5u  /* acknowledged by p1 alone, in local mode, after it */
#define AFTER         3u  /* taken by the new primary */

static const char *const ids[VOTERS] = {"p1", "s1", "s2", "w1"};

struct fix {
	char root[HW_PROC_PATH_MAX];
	char listen[VOTERS][32];
	char client[NODES][32];
	char ini[VOTERS][HW_PROC_PATH_MAX + 16];
	char log[VOTERS][HW_PROC_PATH_MAX + 16];
	char dir[VOTERS][HW_PROC_PATH_MAX + 16];
	char view[VOTERS][VOTERS][32]; /* voter j's address as voter i's config names it */
	struct hw_proc proc[VOTERS];
	struct hw_proxy *proxy[8];
	unsigned n_proxies;
};

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("rejoin", f->root, sizeof f->root) != 0)
		return -1;
	for (int i = 0; i < VOTERS; i++) {
		f->proc[i].err_fd = f->proc[i].log_fd = -1;
		uint16_t port;
		if (hw_free_port(&port) != 0)
			return -1;
		snprintf(f->listen[i], sizeof f->listen[i], "127.0.0.1:%u", (unsigned)port);
		if (i < NODES) {
			if (hw_free_port(&port) != 0)
				return -1;
			snprintf(f->client[i], sizeof f->client[i], "127.0.0.1:%u", (unsigned)port);
		}
		snprintf(f->ini[i], sizeof f->ini[i], "%s/%s.ini", f->root, ids[i]);
		snprintf(f->log[i], sizeof f->log[i], "%s/%s.log", f->root, ids[i]);
		snprintf(f->dir[i], sizeof f->dir[i], "%s/%s", f->root, ids[i]);
		for (int j = 0; j < VOTERS; j++)
			snprintf(f->view[j][i], sizeof f->view[j][i], "%s", f->listen[i]);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	for (int i = 0; i < VOTERS; i++)
		hw_proc_kill(&f->proc[i]);
	for (unsigned i = 0; i < f->n_proxies; i++)
		hw_proxy_free(f->proxy[i]);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* Voter i sees voter j through a new proxy. */
static struct hw_proxy *route(struct fix *f, int i, int j)
{
	struct hw_proxy *p;
	assert_int_equal(hw_proxy_new("127.0.0.1:0", f->listen[j], &p), 0);
	assert_int_equal(hw_proxy_start(p), 0);
	f->proxy[f->n_proxies++] = p;
	snprintf(f->view[i][j], sizeof f->view[i][j], "%s", hw_proxy_addr(p));
	return p;
}

static void start(struct fix *f, int i)
{
	FILE *fp = fopen(f->ini[i], "w");
	assert_non_null(fp);
	fprintf(fp,
		"[cluster]\nid = itest\n[node]\nid = %s\nrole = %s\ndata_dir = %s\nlisten = %s\n",
		ids[i],
		i == 0      ? "primary"
		: i < NODES ? "standby"
			    : "witness",
		f->dir[i], f->listen[i]);
	if (i < NODES)
		fprintf(fp, "client = %s\n[durability]\nmode = durable\nk = 1\n", f->client[i]);
	fprintf(fp,
		"[failover]\nvoters = p1@%s, s1@%s, s2@%s\nwitness = %s\nwitness_id = w1\n"
		"rto = %dms\nrpo = 0\n[security]\ninsecure = true\n",
		f->view[i][0], f->view[i][1], f->view[i][2], f->view[i][3], RTO_MS);
	fclose(fp);
	const char *args[] = {i < NODES ? "node" : "witness", "--config", f->ini[i], NULL};
	assert_int_equal(hw_proc_start(&f->proc[i], f->log[i], args), 0);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->proc[i], &from, "event=started", NULL, EVENT_WAIT_MS,
				      NULL, 0));
}

/* A key/value record with record_id n (16 bytes, n in the first four). */
static size_t record(uint8_t *buf, size_t cap, uint32_t n)
{
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	uint8_t rid[16] = {0};
	memcpy(rid, &n, sizeof n);
	char key[16];
	snprintf(key, sizeof key, "k%u", n % 4);
	r.record_id.data = rid;
	r.record_id.len = sizeof rid;
	r.tenant_id = "T1";
	r.facility_id = "JPNGO-NCB";
	r.event_time_ms = wall_ms() - 1000;
	r.schema_version = 1;
	kv.key = key;
	kv.value.data = (uint8_t *)"v";
	kv.value.len = 1;
	r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	r.kv_put = &kv;
	size_t len = hw_record_encode(&r, buf, cap);
	assert_true(len > 0);
	return len;
}

/* Submit records first .. first + count - 1 to addr in mode, all at once (pipelined: the
 * ones after the cut must land within p1's lease), each acknowledged. Returns the highest
 * LSN. */
static uint64_t submit(const char *addr, uint32_t first, uint32_t count, enum hw_durability mode)
{
	struct hw_client *c;
	assert_int_equal(hw_client_connect(addr, &c), 0);
	for (uint32_t n = first; n < first + count; n++) {
		uint8_t buf[256];
		size_t len = record(buf, sizeof buf, n);
		assert_int_equal(hw_client_submit(c, n, buf, len, mode, 0), 0);
	}
	uint64_t lsn = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(c, EVENT_WAIT_MS, &o), 0);
		if (o.code != 0)
			fail_msg("record %" PRIu64 " to %s: %s", o.request_id, addr,
				 hw_errname(o.code));
		lsn = o.lsn > lsn ? o.lsn : lsn;
	}
	hw_client_close(c);
	return lsn;
}

/* Which standby became primary after marks (its log offsets at the cut; an election may
 * take more than one epoch under load); its index, or -1. */
static int new_primary(struct fix *f, const size_t *marks)
{
	int64_t end = wall_ms() + EVENT_WAIT_MS;
	while (wall_ms() < end)
		for (int i = 1; i < NODES; i++) {
			size_t from = marks[i];
			if (hw_proc_wait_line(&f->proc[i], &from, "event=became_primary", NULL, 20,
					      NULL, 0))
				return i;
		}
	return -1;
}

/* Wait (pausing on its log pipe) until node i reports durable_lsn >= lsn. */
static bool wait_durable(struct fix *f, int i, uint64_t lsn)
{
	struct hw_tnode t = {0};
	snprintf(t.client, sizeof t.client, "%s", f->client[i]);
	int64_t end = wall_ms() + EVENT_WAIT_MS;
	while (wall_ms() < end) {
		struct hw_tstatus st;
		if (hw_tnode_status(&t, &st) == 0 && st.durable_lsn >= lsn)
			return true;
		hw_proc_pump(&f->proc[i], 20);
	}
	return false;
}

static long long field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p != NULL ? strtoll(p + strlen(key), NULL, 10) : -1;
}

struct rows {
	uint64_t lsn[LOST + 1];
	uint32_t id[LOST + 1];
	unsigned n;
};

static int row_cb(void *arg, const struct hw_quarantined *q)
{
	struct rows *r = arg;
	if (r->n > LOST)
		return -1;
	Tos__V1__Record *rec = tos__v1__record__unpack(NULL, q->entry.record_len, q->entry.record);
	if (rec == NULL)
		return -1;
	r->lsn[r->n] = q->lsn;
	memcpy(&r->id[r->n++], rec->record_id.data, sizeof(uint32_t));
	tos__v1__record__free_unpacked(rec, NULL);
	return 0;
}

/* p1's quarantine holds exactly records 1000 .. 1000 + LOST - 1, at LSNs after cut_lsn. */
static void check_quarantine(const char *dir, uint64_t cut_lsn)
{
	struct hw_store *s;
	struct hw_store_opts o = {.read_only = true};
	assert_int_equal(hw_store_open(dir, &o, &s), 0);
	struct rows r = {0};
	assert_int_equal(hw_quarantine_each(s, row_cb, &r), 0);
	hw_store_close(s);
	assert_int_equal(r.n, LOST);
	for (unsigned i = 0; i < LOST; i++) {
		assert_int_equal(r.lsn[i], cut_lsn + 1 + i);
		assert_int_equal(r.id[i], 1000 + i);
	}
}

/* The old primary acknowledged LOST records in local mode while cut off; after the new
 * primary took AFTER of its own and the cut healed, p1 rejoins at the LSN of the cut with
 * exactly those records quarantined, ends with the new primary's state, and the export
 * lists them. */
static void test_old_primary_rejoins(void **state)
{
	struct fix *f = *state;
	struct hw_proxy *cut[2 * (VOTERS - 1)];
	unsigned n = 0;
	for (int j = 1; j < VOTERS; j++) {
		cut[n++] = route(f, 0, j); /* p1 -> the others */
		cut[n++] = route(f, j, 0); /* the others -> p1 */
	}
	for (int i = VOTERS - 1; i >= 0; i--)
		start(f, i);
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->proc[0], &from, "event=became_primary", "epoch=1",
				      EVENT_WAIT_MS, NULL, 0));
	uint64_t cut_lsn = submit(f->client[0], 1, BEFORE, HW_DURABLE);
	assert_true(wait_durable(f, 1, cut_lsn) && wait_durable(f, 2, cut_lsn));
	size_t marks[NODES];
	for (int i = 0; i < NODES; i++)
		marks[i] = hw_proc_mark(&f->proc[i]);
	size_t mark0 = marks[0];
	for (unsigned i = 0; i < n; i++)
		hw_proxy_blackhole(cut[i]);
	/* within its lease p1 still acknowledges; local mode needs no standby */
	assert_int_equal(submit(f->client[0], 1000, LOST, HW_LOCAL), cut_lsn + LOST);
	assert_true(hw_proc_wait_line(&f->proc[0], &mark0, "event=stepped_down", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	int np = new_primary(f, marks);
	assert_true(np > 0);
	char addrs[2 * 32];
	snprintf(addrs, sizeof addrs, "%s,%s", f->client[1], f->client[2]);
	uint64_t head = submit(addrs, 2000, AFTER, HW_DURABLE);
	assert_int_equal(head, cut_lsn + AFTER);
	for (unsigned i = 0; i < n; i++)
		hw_proxy_pass(cut[i]);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->proc[0], &mark0, "event=rejoined", NULL, EVENT_WAIT_MS,
				      line, sizeof line));
	fprintf(stderr, "test_rejoin: %s\n", strstr(line, "event="));
	assert_int_equal(field(line, "common_lsn="), (long long)cut_lsn);
	assert_int_equal(field(line, "quarantined="), LOST);
	assert_true(wait_durable(f, 0, head));
	for (int i = 0; i < VOTERS; i++)
		assert_int_equal(hw_proc_stop(&f->proc[i], STOP_WAIT_MS), 0);
	char why[256] = "";
	assert_int_equal(hw_tstore_compare(f->dir[0], f->dir[np], NULL, why, sizeof why), 0);
	check_quarantine(f->dir[0], cut_lsn);
	char out[8192], log[HW_PROC_PATH_MAX + 16];
	snprintf(log, sizeof log, "%s/export.log", f->root);
	const char *args[] = {"quarantine", "export", f->dir[0], "-", NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, STOP_WAIT_MS, args), 0);
	unsigned lines = 0;
	for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, LOST);
	char want[64];
	snprintf(want, sizeof want, "{\"lsn\":%" PRIu64 ",\"epoch\":1,", cut_lsn + 1);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"record_id\":\"e8030000000000000000000000000000\""));
	assert_non_null(strstr(out, "\"payload\":\"kv_put\""));
}

int main(void)
{
	if (hw_test_bin() == NULL) {
		fprintf(stderr, "test_rejoin: skipped: HW_BIN does not name the hawser binary"
				" (run through ctest)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_old_primary_rejoins, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
