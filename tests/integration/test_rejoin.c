/* test_rejoin.c: an old primary with a divergent suffix rejoins (docs/failover.md
 * "Rejoin"): a failover cluster of p1, s1, s2 and a witness (durable, k = 1, rpo = 0); p1
 * is cut off from every voter (proxies), acknowledges a few records in local mode that no
 * standby gets, steps down; a standby is promoted and takes records of its own; the cut
 * heals and p1 finds the common point with the new primary, quarantines exactly what it
 * took after the cut, rewinds, follows to the same state, and `hawser quarantine export`
 * lists the quarantined records. Then the same with every log pruned, so the old primary
 * cannot rebuild its state from its own and gets it by a snapshot instead; and with the
 * old primary down until the new one has pruned past all it holds, so only the epochs
 * the new primary kept of its pruned entries tell where the two logs part. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "chaos/proxy.h"
#include "hawser.h"
#include "replica/record.h"
#include "replica/rejoin.h"
#include "replica/store.h"
#include "tests/integration/proc.h"
#include "tests/integration/rig.h"

#define EVENT_WAIT_MS 15000
#define STOP_WAIT_MS  10000
#define BEFORE        20u /* acknowledged (durable) before the cut */
#define LOST          5u  /* acknowledged by p1 alone, in local mode, after it */
#define AFTER         3u  /* taken by the new primary */
#define KEEP          10u /* log_keep_records, in the pruned test: fewer than BEFORE */
#define MORE                                                                                       \
	16u /* taken by the new primary while the old one is down: its base                        \
	       then passes all the old one holds (AFTER + MORE > LOST + KEEP) */

static int setup(void **state)
{
	struct hw_rig *r = calloc(1, sizeof *r);
	if (r == NULL || hw_rig_init(r, "rejoin") != 0)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct hw_rig *r = *state;
	int rc = hw_rig_free(r);
	free(r);
	return rc;
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
	r.event_time_ms = hw_wall_ms() - 1000;
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
static int new_primary(struct hw_rig *r, const size_t *marks)
{
	int64_t end = hw_wall_ms() + EVENT_WAIT_MS;
	while (hw_wall_ms() < end)
		for (int i = 1; i < HW_RIG_NODES; i++) {
			size_t from = marks[i];
			if (hw_proc_wait_line(&r->proc[i], &from, "event=became_primary", NULL, 20,
					      NULL, 0))
				return i;
		}
	return -1;
}

/* Wait (pausing on its log pipe) until node i reports durable_lsn >= lsn. */
static bool wait_durable(struct hw_rig *r, int i, uint64_t lsn)
{
	struct hw_tnode t = {0};
	snprintf(t.client, sizeof t.client, "%s", r->client[i]);
	int64_t end = hw_wall_ms() + EVENT_WAIT_MS;
	while (hw_wall_ms() < end) {
		struct hw_tstatus st;
		if (hw_tnode_status(&t, &st) == 0 && st.durable_lsn >= lsn)
			return true;
		hw_proc_pump(&r->proc[i], 20);
	}
	return false;
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

/* Where diverge() left the cluster. */
struct diverged {
	uint64_t cut_lsn; /* p1's head at the cut: the common point */
	int np;           /* the new primary */
	uint64_t head;    /* its head after its own AFTER records */
	size_t mark0;     /* p1's log offset at the cut */
	struct hw_proxy *cut[2 * (HW_RIG_VOTERS - 1)]; /* p1's routes to and from the others */
	unsigned n_cut;
};

/* The old primary acknowledges LOST records in local mode while cut off; a standby is
 * promoted and takes AFTER of its own. The cut stays: heal() ends it. */
static void diverge_cut(struct hw_rig *r, struct diverged *d)
{
	struct hw_proxy **cut = d->cut;
	unsigned n = 0;
	for (int j = 1; j < HW_RIG_VOTERS; j++) {
		cut[n++] = hw_rig_route(r, 0, j); /* p1 -> the others */
		cut[n++] = hw_rig_route(r, j, 0); /* the others -> p1 */
		assert_non_null(cut[n - 2]);
		assert_non_null(cut[n - 1]);
	}
	d->n_cut = n;
	assert_int_equal(hw_rig_start_all(r, EVENT_WAIT_MS), 0);
	d->cut_lsn = submit(r->client[0], 1, BEFORE, HW_DURABLE);
	assert_true(wait_durable(r, 1, d->cut_lsn) && wait_durable(r, 2, d->cut_lsn));
	size_t marks[HW_RIG_NODES];
	for (int i = 0; i < HW_RIG_NODES; i++)
		marks[i] = hw_proc_mark(&r->proc[i]);
	d->mark0 = marks[0];
	for (unsigned i = 0; i < n; i++)
		hw_proxy_blackhole(cut[i]);
	/* within its lease p1 still acknowledges; local mode needs no standby */
	assert_int_equal(submit(r->client[0], 1000, LOST, HW_LOCAL), d->cut_lsn + LOST);
	size_t from = d->mark0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=stepped_down", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	d->np = new_primary(r, marks);
	assert_true(d->np > 0);
	char addrs[2 * 32];
	snprintf(addrs, sizeof addrs, "%s,%s", r->client[1], r->client[2]);
	d->head = submit(addrs, 2000, AFTER, HW_DURABLE);
	assert_int_equal(d->head, d->cut_lsn + 1 + AFTER); /* after its epoch's PROMOTION event */
}

static void heal(struct diverged *d)
{
	for (unsigned i = 0; i < d->n_cut; i++)
		hw_proxy_pass(d->cut[i]);
}

/* diverge_cut(), then the cut heals. */
static void diverge(struct hw_rig *r, struct diverged *d)
{
	diverge_cut(r, d);
	heal(d);
}

/* p1's rejoined line, with the common point at the cut and LOST quarantined, via how. */
static void check_rejoined(struct hw_rig *r, const struct diverged *d, const char *how)
{
	char line[1024];
	size_t from = d->mark0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=rejoined", NULL, EVENT_WAIT_MS,
				      line, sizeof line));
	fprintf(stderr, "test_rejoin: %s\n", strstr(line, "event="));
	assert_int_equal(hw_log_field(line, "common_lsn", -1), (long long)d->cut_lsn);
	assert_int_equal(hw_log_field(line, "quarantined", -1), LOST);
	assert_non_null(strstr(line, how));
}

/* hawser export DIR OUT with its stdout on the regular file path, made new as a shell's
 * `> path` makes it: its exit code, or -1. */
static int export_redirected(const char *dir, const char *out, const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
			_exit(126);
		execl(hw_test_bin(), "hawser", "quarantine", "export", dir, out, (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* The export into a file: a new one gets what stdout got (bytes bytes); an existing one
 * (a config named by a slip) is refused and keeps its bytes; /dev/stdout is written,
 * also when `> q.jsonl` made it a regular file (/proc/self/fd/1 too). */
static void export_to_files(struct hw_rig *r, const char *log, size_t bytes)
{
	char path[HW_PROC_PATH_MAX + 16], out[64];
	struct stat st;
	snprintf(path, sizeof path, "%s/q.jsonl", r->root);
	const char *args[] = {"quarantine", "export", r->dir[0], path, NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, STOP_WAIT_MS, args), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, bytes);
	snprintf(path, sizeof path, "%s/kept.conf", r->root);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[node]\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hw_proc_run(log, out, sizeof out, STOP_WAIT_MS, args), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 7);
	/* a file that is no regular one, as a script's /dev/stdout, is written to */
	static char streamed[8192];
	const char *to_dev[] = {"quarantine", "export", r->dir[0], "/dev/stdout", NULL};
	assert_int_equal(hw_proc_run(log, streamed, sizeof streamed, STOP_WAIT_MS, to_dev), 0);
	assert_int_equal(strlen(streamed), bytes);
	static const char *const own[] = {"/dev/stdout", "/proc/self/fd/1"};
	for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
		char to[HW_PROC_PATH_MAX + 32];
		snprintf(to, sizeof to, "%s/redirected-%zu.jsonl", r->root, i);
		assert_int_equal(export_redirected(r->dir[0], own[i], to), 0);
		assert_int_equal(stat(to, &st), 0);
		assert_int_equal((size_t)st.st_size, bytes);
	}
}

/* p1 follows the new primary to the same head, chain and state, and its quarantine, read
 * and exported, lists exactly the LOST records. Stops the rig. */
static void check_followed(struct hw_rig *r, const struct diverged *d)
{
	assert_true(wait_durable(r, 0, d->head));
	assert_int_equal(hw_rig_stop_all(r, STOP_WAIT_MS), 0);
	char why[256] = "";
	assert_int_equal(hw_tstore_compare(r->dir[0], r->dir[d->np], NULL, why, sizeof why), 0);
	check_quarantine(r->dir[0], d->cut_lsn);
	char out[8192], log[HW_PROC_PATH_MAX + 16];
	snprintf(log, sizeof log, "%s/export.log", r->root);
	const char *args[] = {"quarantine", "export", r->dir[0], "-", NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, STOP_WAIT_MS, args), 0);
	unsigned lines = 0;
	for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	assert_int_equal(lines, LOST);
	char want[64];
	snprintf(want, sizeof want, "{\"lsn\":%" PRIu64 ",\"epoch\":1,", d->cut_lsn + 1);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "\"record_id\":\"e8030000000000000000000000000000\""));
	assert_non_null(strstr(out, "\"payload\":\"kv_put\""));
	export_to_files(r, log, strlen(out));
}

/* The old primary acknowledged LOST records in local mode while cut off; after the new
 * primary took AFTER of its own and the cut healed, p1 rejoins at the LSN of the cut with
 * exactly those records quarantined, ends with the new primary's state, and the export
 * lists them. */
static void test_old_primary_rejoins(void **state)
{
	struct hw_rig *r = *state;
	struct diverged d;
	diverge(r, &d);
	check_rejoined(r, &d, "via=rewind");
	check_followed(r, &d);
}

/* The same with every node's log pruned to KEEP entries (the old primary's from before
 * the cut): its state cannot be rebuilt from its log, so it quarantines the same records,
 * marks its store stale and asks the new primary for a snapshot; the install keeps the
 * quarantine rows, and it follows to the same state. */
static void test_pruned_old_primary_rejoins(void **state)
{
	struct hw_rig *r = *state;
	r->log_keep = KEEP;
	struct diverged d;
	diverge(r, &d);
	check_rejoined(r, &d, "via=snapshot");
	size_t from = d.mark0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	check_followed(r, &d);
}

/* The hashes of entries first .. first + LOST - 1 of the stopped node's store in dir. */
static void read_hashes(const char *dir, uint64_t first, uint8_t out[LOST][HW_HASH_BYTES])
{
	struct hw_store *s;
	struct hw_store_opts o = {.read_only = true};
	assert_int_equal(hw_store_open(dir, &o, &s), 0);
	struct hw_head h;
	assert_int_equal(hw_store_head(s, &h), 0);
	assert_int_equal(h.lsn, first + LOST - 1);
	for (unsigned i = 0; i < LOST; i++)
		assert_int_equal(hw_store_entry_hash(s, first + i, out[i]), 0);
	hw_store_close(s);
}

/* Wait (pausing on its log pipe) until node i's log base is past lsn. */
static bool wait_pruned(struct hw_rig *r, int i, uint64_t lsn)
{
	int64_t end = hw_wall_ms() + EVENT_WAIT_MS;
	while (hw_wall_ms() < end) {
		struct hw_store *s;
		struct hw_store_opts o = {.read_only = true};
		struct hw_head b = {0};
		if (hw_store_open(r->dir[i], &o, &s) == 0) {
			hw_store_base(s, &b);
			hw_store_close(s);
		}
		if (b.lsn > lsn)
			return true;
		hw_proc_pump(&r->proc[i], 50);
	}
	return false;
}

struct hashes {
	uint8_t (*want)[HW_HASH_BYTES];
	unsigned n;
};

static int hash_cb(void *arg, const struct hw_quarantined *q)
{
	struct hashes *h = arg;
	if (h->n >= LOST || memcmp(q->entry.hash, h->want[h->n], HW_HASH_BYTES) != 0 ||
	    strstr(q->why, "; behind the primary's log base: state from a snapshot") == NULL)
		return -1;
	h->n++;
	return 0;
}

/* The old primary is cut off as before and stopped while the new primary takes AFTER,
 * then MORE records, until its log's base is past everything p1 holds, so no entry
 * either log holds tells where they part. p1 comes back (the cut healed) and is not
 * simply sent a snapshot: the new primary, from the epochs it kept of its pruned entries,
 * shows p1's last entry is not its own and offers a rejoin; p1 finds the common point
 * (the cut), quarantines exactly the LOST records (by LSN, record and entry hash), marks
 * its store stale, installs the snapshot it then asks for, and ends with the new
 * primary's state. */
static void test_old_primary_behind_base_rejoins(void **state)
{
	struct hw_rig *r = *state;
	r->log_keep = KEEP;
	struct diverged d;
	diverge_cut(r, &d);
	assert_int_equal(hw_proc_stop(&r->proc[0], STOP_WAIT_MS), 0);
	hw_proc_kill(&r->proc[0]); /* its pipe and log buffer: it starts anew below */
	uint8_t lost[LOST][HW_HASH_BYTES];
	read_hashes(r->dir[0], d.cut_lsn + 1, lost);
	char addrs[2 * 32];
	snprintf(addrs, sizeof addrs, "%s,%s", r->client[1], r->client[2]);
	d.head = submit(addrs, 3000, MORE, HW_DURABLE);
	assert_true(wait_pruned(r, d.np, d.cut_lsn + LOST));
	heal(&d);
	assert_int_equal(hw_rig_start(r, 0, EVENT_WAIT_MS), 0);
	d.mark0 = 0; /* the restarted p1's log */
	size_t from = hw_proc_mark(&r->proc[d.np]);
	check_rejoined(r, &d, "via=snapshot");
	char line[1024];
	assert_true(hw_proc_wait_line(&r->proc[d.np], &from, "event=standby_diverged",
				      "reason=behind_base", EVENT_WAIT_MS, line, sizeof line));
	fprintf(stderr, "test_rejoin: %s\n", strstr(line, "event="));
	from = 0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=rejoined", NULL, 0, line,
				      sizeof line));
	assert_non_null(strstr(line, "cut=common"));
	from = 0;
	assert_true(hw_proc_wait_line(&r->proc[0], &from, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	check_followed(r, &d);
	struct hw_store *s;
	struct hw_store_opts o = {.read_only = true};
	assert_int_equal(hw_store_open(r->dir[0], &o, &s), 0);
	struct hashes h = {.want = lost};
	assert_int_equal(hw_quarantine_each(s, hash_cb, &h), 0);
	hw_store_close(s);
	assert_int_equal(h.n, LOST);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_rejoin") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_old_primary_rejoins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pruned_old_primary_rejoins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_primary_behind_base_rejoins, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
