/* test_vault.c: a vault replica (role = vault) with real `hawser node` processes on
 * loopback: it pulls the primary's log byte for byte, listens on nothing but its client
 * port, holds entries for its apply delay (stored and acknowledged, not yet in its state
 * tables), is never counted for a durable submit, with failover is sent no entry or
 * snapshot that a new primary might lack, refuses a primary whose chain diverged with its
 * log untouched, and serves a point-in-time restore from its directory; a primary
 * refuses a vault behind its log, and a flood of such Hellos writes a bounded count of
 * lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/cluster.h"
#include "base/clock.h"
#include "base/log.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "replica/store.h"
#include "tests/integration/fake_primary.h"
#include "tests/integration/proc.h"
#include "wire.pb-c.h"

#define RECORDS       300u
#define WINDOW        32u
#define EVENT_WAIT_MS 20000
#define STOP_WAIT_MS  10000
#define CATCHUP_MS    30000
#define DELAY_S       4 /* the delayed vault's apply_delay: long enough to look before */

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_tnode p;
	struct hw_tnode p2; /* a primary of another history (the diverged one) */
	struct hw_tnode v;
	struct hw_load load;
	struct hw_capture cap;
	struct hw_cluster *c; /* a failover cluster's (test_vault_snapshot_waits_for_acks) */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("vault", f->root, sizeof f->root) != 0)
		return -1;
	f->p.proc.err_fd = f->p.proc.log_fd = -1;
	f->p2.proc.err_fd = f->p2.proc.log_fd = -1;
	f->v.proc.err_fd = f->v.proc.log_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_proc_kill(&f->v.proc);
	hw_proc_kill(&f->p2.proc);
	hw_proc_kill(&f->p.proc);
	hw_cluster_free(f->c, false);
	bool joined = hw_load_join(&f->load, 60000);
	int rc = hw_test_rm_rf(f->root);
	if (!joined)
		return -1; /* its thread still uses f */
	hw_load_free(&f->load);
	free(f);
	return rc;
}

/* Plaintext for these nodes ([security] insecure), unless the config has a [security]
 * section already: the channel is not what this test is about. */
static void plaintext(const char *ini_path)
{
	FILE *ini = fopen(ini_path, "r+");
	assert_non_null(ini);
	char text[4096];
	size_t n = fread(text, 1, sizeof text - 1, ini);
	text[n] = '\0';
	if (strstr(text, "[security]") == NULL)
		fprintf(ini, "[security]\ninsecure = true\n");
	assert_int_equal(fclose(ini), 0);
}

/* A primary named id with standbys (may be "") and the vault v1, in mode. */
static void init_primary(struct fix *f, struct hw_tnode *p, const char *id, const char *standbys,
			 const char *mode)
{
	/* k only with a standby: local mode with none leaves it out */
	struct hw_tnode_opts po = {
		.primary = true, .standbys = standbys, .mode = mode, .k = standbys[0] ? 1 : 0};
	assert_int_equal(hw_tnode_init(p, f->root, id, &po), 0);
	FILE *ini = fopen(p->ini, "a");
	assert_non_null(ini);
	fprintf(ini, "[cluster]\nvaults = v1\n");
	assert_int_equal(fclose(ini), 0);
	plaintext(p->ini);
}

/* The vault's config: pulls from primary_addr, applies after delay (e.g. "0", "3s"). */
static void write_vault(struct fix *f, const char *primary_addr, const char *delay, bool listen)
{
	FILE *ini = fopen(f->v.ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = itest\n[node]\nid = v1\nrole = vault\ndata_dir = %s\n"
		"client = %s\nprimary = %s\napply_delay = %s\n",
		f->v.dir, f->v.client, primary_addr, delay);
	if (listen)
		fprintf(ini, "listen = 127.0.0.1:1\n");
	assert_int_equal(fclose(ini), 0);
	plaintext(f->v.ini);
}

static void init_vault(struct fix *f, const char *primary_addr, const char *delay)
{
	struct hw_tnode_opts vo = {.primary_addr = primary_addr};
	assert_int_equal(hw_tnode_init(&f->v, f->root, "v1", &vo), 0);
	write_vault(f, primary_addr, delay, false);
}

/* Start the vault and wait for it to follow. */
static void start_vault(struct fix *f)
{
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->v, &mark), 0);
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      NULL, 0));
}

/* Poll the log file at path until a line holds needle and needle2 (may be NULL), up to
 * timeout_ms; that line goes to line. A node a bench/cluster.h cluster runs writes its
 * log to a file, not to a pipe of this test's. */
static bool log_wait(const char *path, const char *needle, const char *needle2, int timeout_ms,
		     char *line, size_t cap)
{
	int64_t end = hw_mono_ms() + timeout_ms;
	do {
		FILE *fp = fopen(path, "r");
		while (fp != NULL && fgets(line, (int)cap, fp) != NULL)
			if (strstr(line, needle) && (needle2 == NULL || strstr(line, needle2))) {
				fclose(fp);
				return true;
			}
		if (fp != NULL)
			fclose(fp);
	} while (hw_mono_ms() < end && poll(NULL, 0, 50) == 0);
	return false;
}

/* Submit count records (seed) to p and wait until all are acknowledged. Returns p's
 * last LSN then (the node logs its own records too: audit, checkpoints). */
static uint64_t load(struct fix *f, struct hw_tnode *p, uint64_t count, uint64_t seed)
{
	hw_load_free(&f->load);
	f->load = (struct hw_load){.addr = p->client,
				   .count = count,
				   .window = WINDOW,
				   .mode = HW_LOCAL,
				   .seed = seed};
	assert_int_equal(hw_load_init(&f->load), 0);
	assert_int_equal(hw_load_run(&f->load), 0);
	assert_int_equal(f->load.acked, count);
	struct hw_tstatus st;
	assert_int_equal(hw_tnode_status(p, &st), 0);
	assert_true(st.last_lsn >= count);
	return st.last_lsn;
}

/* The vault's status fields this test reads. */
struct vstatus {
	int role;
	uint64_t last_lsn; /* received */
	uint64_t durable_lsn;
	uint64_t applied_lsn;
	int64_t apply_delay_ms;
	uint64_t at_risk_records; /* durable on its primary, as it last heard, not here */
	bool connected;           /* to its primary */
	int64_t silent_ms;        /* since it last heard from it */
	int64_t silent_limit_ms;
	uint64_t blocked_lsn; /* its apply's block: the refused entry, 0 when none */
	int blocked_code;
};

static int vault_status(const struct hw_tnode *v, struct vstatus *out)
{
	struct hw_client *c;
	int rc = hw_client_connect(v->client, &c);
	if (rc != 0)
		return rc;
	uint8_t *body = NULL;
	size_t len = 0;
	rc = hw_client_status(c, 5000, &body, &len);
	hw_client_close(c);
	if (rc != 0)
		return rc;
	Hawser__Wire__V1__Status *s = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	if (s == NULL)
		return HW_EPROTOCOL;
	*out = (struct vstatus){.role = (int)s->role,
				.last_lsn = s->last_lsn,
				.durable_lsn = s->durable_lsn,
				.applied_lsn = s->applied_lsn,
				.apply_delay_ms = s->apply_delay_ms,
				.at_risk_records = s->failover ? s->failover->at_risk_records : 0,
				.connected = s->primary_connected,
				.silent_ms = s->primary_silent_ms,
				.silent_limit_ms = s->silent_limit_ms,
				.blocked_lsn = s->apply_blocked ? s->apply_blocked->lsn : 0,
				.blocked_code = s->apply_blocked ? s->apply_blocked->code : 0};
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return 0;
}

/* Wait (bounded, pausing on its log pipe) until the vault has lsn durable in its log
 * (durable) or applied. */
static void wait_vault_at(struct fix *f, uint64_t lsn, bool durable)
{
	struct vstatus st = {0};
	for (int i = 0; i < 400; i++) {
		if (vault_status(&f->v, &st) == 0 &&
		    (durable ? st.durable_lsn : st.applied_lsn) >= lsn)
			return;
		hw_proc_pump(&f->v.proc, 50);
	}
	fail_msg("vault %s %" PRIu64 " of %" PRIu64, durable ? "durable at" : "applied",
		 durable ? st.durable_lsn : st.applied_lsn, lsn);
}

static void wait_applied(struct fix *f, uint64_t lsn)
{
	wait_vault_at(f, lsn, false);
}

/* The head of the store in dir, read as `hawser get` reads it (read-only, beside the
 * running node). */
static uint64_t store_head(const char *dir)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s;
	assert_int_equal(hw_store_open(dir, &o, &s), 0);
	struct hw_head h;
	assert_int_equal(hw_store_head(s, &h), 0);
	hw_store_close(s);
	return h.lsn;
}

/* TCP sockets in LISTEN state that process pid holds (from /proc). */
static unsigned listening_sockets(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	unsigned count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char fd[600], target[64];
		snprintf(fd, sizeof fd, "%s/%s", path, de->d_name);
		ssize_t n = readlink(fd, target, sizeof target - 1);
		unsigned long inode;
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &inode) != 1)
			continue;
		FILE *tcp = fopen("/proc/net/tcp", "r");
		char line[256];
		while (tcp != NULL && fgets(line, sizeof line, tcp) != NULL) {
			unsigned st;
			unsigned long ino;
			if (sscanf(line, " %*u: %*x:%*x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
				   &st, &ino) == 2 &&
			    ino == inode && st == 0x0A)
				count++;
		}
		if (tcp != NULL)
			fclose(tcp);
	}
	closedir(d);
	return count;
}

/* A vault with no delay, whose first address has nobody listening, finds the primary at
 * its second and pulls everything it logged: after both stop, its log and state equal the
 * primary's entry for entry; its one listening socket is its client port, and a config
 * that gives it a replication port is refused. */
static void test_vault_pulls(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	uint16_t dead;
	assert_int_equal(hw_free_port(&dead), 0);
	char sources[96];
	snprintf(sources, sizeof sources, "127.0.0.1:%u, %s", (unsigned)dead, f->p.listen);
	init_vault(f, sources, "0");
	start_vault(f);
	assert_int_equal(listening_sockets(f->v.proc.pid), 1); /* the client port only */
	assert_null(strstr(f->v.proc.log, "port=replication"));
	uint64_t end = load(f, &f->p, RECORDS, 11);
	wait_applied(f, end);
	struct vstatus st;
	assert_int_equal(vault_status(&f->v, &st), 0);
	assert_int_equal(st.role, HAWSER__WIRE__V1__ROLE__VAULT);
	assert_int_equal(st.durable_lsn, end);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char why[256] = "";
	assert_int_equal(hw_tstore_compare(f->p.dir, f->v.dir, &f->load, why, sizeof why), 0);

	write_vault(f, f->p.listen, "0", true);
	const char *bin = hw_test_bin();
	assert_int_equal(hw_proc_capture(&f->cap, bin, "node", "--config", f->v.ini, NULL) != 0, 1);
	assert_non_null(strstr(f->cap.err, "a vault accepts no inbound connections"));
}

/* With apply_delay the vault stores and acknowledges at once but applies later: its
 * durable LSN reaches the load's end while its store (what `hawser get` reads) does not,
 * also across a restart, and then it applies everything. */
static void test_vault_delay(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "4s");
	start_vault(f);
	uint64_t end = load(f, &f->p, RECORDS, 12);
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->v, end, CATCHUP_MS, &seen), 0);
	struct vstatus st;
	assert_int_equal(vault_status(&f->v, &st), 0);
	assert_int_equal(st.durable_lsn, end);
	assert_int_equal(st.apply_delay_ms, DELAY_S * 1000);
	assert_true(st.applied_lsn < RECORDS);
	assert_true(store_head(f->v.dir) < RECORDS);
	/* the primary's view: the vault acks on arrival, yet it is as far behind as the
	 * oldest entry it has not applied (it showed the time since its last ack): a lag
	 * of a second shows within the delay, looked at between pauses on the vault's pipe */
	long long lag_ms = -1;
	for (int64_t until = hw_mono_ms() + (DELAY_S - 1) * 1000;
	     lag_ms < 1000 && hw_mono_ms() < until; hw_proc_pump(&f->v.proc, 100)) {
		assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--connect",
						 f->p.client, "--insecure", "--json", NULL),
				 0);
		const char *lag = strstr(f->cap.out, "\"lag_ms\":");
		assert_non_null(lag);
		lag_ms = strtoll(lag + 9, NULL, 10);
	}
	assert_true(lag_ms >= 1000);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--connect", f->v.client,
					 "--insecure", NULL),
			 0);
	assert_non_null(strstr(f->cap.out, ": vault,"));
	assert_non_null(strstr(f->cap.out, "apply delay 4000 ms"));
	/* a restart holds what is still too young: it is not applied at start-up */
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	start_vault(f);
	assert_int_equal(vault_status(&f->v, &st), 0);
	assert_int_equal(st.durable_lsn, end);
	assert_true(st.applied_lsn < RECORDS);
	wait_applied(f, end);
	assert_int_equal(store_head(f->v.dir), end);
}

/* The delay runs from when an entry reached the vault, not from its commit time (the
 * primary's clock, which an attacker holding the primary's site can set back): entries
 * committed months ago (a store made by ingest with an old clock) that reach a vault only
 * now wait out its whole delay before they are applied (they were applied at once). */
static void test_vault_delay_from_arrival(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "init", f->p.dir, NULL), 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "ingest", f->p.dir, "--generate",
					 "300", "--end-ms", "2026-01-01T00:00:00Z", NULL),
			 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "4s");
	start_vault(f);
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->v, 300, CATCHUP_MS, &seen), 0);
	struct vstatus st;
	/* held, old as they are: for a second, far past a store commit (50 ms at most) */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(vault_status(&f->v, &st), 0);
		assert_true(st.durable_lsn >= 300);
		assert_int_equal(st.applied_lsn, 0);
		hw_proc_pump(&f->v.proc, 50);
	}
	wait_applied(f, 300);
}

/* The vault is never counted: with its one standby down and only the vault connected, a
 * durable submit with k = 1 waits although the vault has the record durable. */
static void test_vault_not_counted(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "s1", "durable");
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "0");
	start_vault(f);
	f->load = (struct hw_load){.addr = f->p.client,
				   .count = 1,
				   .window = 1,
				   .mode = HW_DURABLE,
				   .k = 1,
				   .seed = 13,
				   .wait_ms = 60000};
	assert_int_equal(hw_load_init(&f->load), 0);
	assert_int_equal(hw_load_start(&f->load), 0);
	struct hw_tstatus ps = {0};
	for (int i = 0; i < 200 && (hw_tnode_status(&f->p, &ps) != 0 || ps.waiting != 1); i++)
		hw_proc_pump(&f->p.proc, 50);
	assert_int_equal(ps.waiting, 1);
	uint64_t lsn = ps.last_lsn, seen; /* the submit's (or a later one's) */
	assert_int_equal(hw_tnode_wait_durable(&f->v, lsn, CATCHUP_MS, &seen), 0);
	for (int i = 0; i < 200 && (hw_tnode_status(&f->p, &ps) != 0 || ps.peer_durable[1] < lsn);
	     i++)
		hw_proc_pump(&f->p.proc, 50);
	assert_int_equal(ps.n_peers, 2);        /* s1, then the vault */
	assert_true(ps.peer_durable[1] >= lsn); /* the vault has it durable ... */
	assert_int_equal(ps.waiting, 1);        /* ... and the submit still waits */
	assert_false(hw_load_wait_acked(&f->load, 1, 500));
	assert_int_equal(hw_load_acked(&f->load), 0);
	hw_proc_kill(&f->p.proc); /* the submit fails with the connection */
}

/* Refused tries of a vault on another chain watched: 50 ms doubling, about 0.75 s. */
#define DIVERGED_TRIES 4

/* A primary whose chain is not the vault's (another history, longer) is refused with
 * HW_EVAULT logged once however often the vault tries again, and the vault's log and
 * state stay as they were. */
static void test_vault_refuses_diverged(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "0");
	start_vault(f);
	wait_applied(f, load(f, &f->p, RECORDS / 2, 14));
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "digest", f->v.dir, NULL), 0);
	char before[256];
	assert_true(f->cap.out_len < sizeof before);
	memcpy(before, f->cap.out, f->cap.out_len + 1);

	init_primary(f, &f->p2, "p2", "", "local");
	assert_int_equal(hw_tnode_start(&f->p2, NULL), 0);
	load(f, &f->p2, RECORDS, 15);
	write_vault(f, f->p2.listen, "0", false);
	size_t mark, pmark = hw_proc_mark(&f->p2.proc);
	assert_int_equal(hw_tnode_start(&f->v, &mark), 0);
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=vault_refused", "HW_EVAULT",
				      EVENT_WAIT_MS, NULL, 0));
	/* it keeps trying, backing off, and says so once (docs/operations.md) */
	for (int i = 0; i < DIVERGED_TRIES; i++)
		assert_true(hw_proc_wait_line(&f->p2.proc, &pmark, "event=session_lost",
					      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_null(
		strstr(strstr(f->v.proc.log, "event=vault_refused") + 1, "event=vault_refused"));
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "digest", f->v.dir, NULL), 0);
	assert_string_equal(f->cap.out, before);
}

/* The head and base of the store in dir, read as a reader beside its node; left as
 * they were when it cannot be opened now. */
static void store_heads(const char *dir, struct hw_head *head, struct hw_head *base)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *st;
	if (hw_store_open(dir, &ro, &st) != 0)
		return;
	hw_store_head(st, head);
	hw_store_base(st, base);
	hw_store_close(st);
}

/* A failover cluster (p1, s1, a witness) as f->c, with the vault v1 named and more in
 * extra (with failover, hw_cluster_opts.extra); its primary's index to *p. */
static void vault_cluster(struct fix *f, const char *extra, unsigned *p)
{
	char root[HW_PROC_PATH_MAX + 8], all[256];
	snprintf(root, sizeof root, "%s/c", f->root);
	snprintf(all, sizeof all, "[cluster]\nvaults = v1\n%s", extra);
	struct hw_cluster_opts o = {
		.hawser_bin = hw_test_bin(),
		.root = root,
		.cluster_id = "itest",
		.standbys = 1,
		.failover = true,
		.insecure = true,
		.extra = all,
	};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	assert_int_equal(hw_cluster_primary(f->c, EVENT_WAIT_MS, p), 0);
}

/* Start the vault on f->c: it pulls from the primary p, or from the standby once that
 * is primary. */
static void start_cluster_vault(struct fix *f, unsigned p)
{
	char sources[160];
	snprintf(sources, sizeof sources, "%s, %s", hw_cluster_repl_addr(f->c, p),
		 hw_cluster_repl_addr(f->c, 1 - p));
	init_vault(f, sources, "0");
	start_vault(f);
}

/* The primary's status fields these tests read. */
struct pstatus {
	uint64_t last_lsn;
	uint64_t durable_lsn;
	uint64_t waiting;
	bool sb_connected; /* its standby s1, as it sees it */
};

static struct pstatus primary_status(struct fix *f, unsigned p)
{
	Hawser__Wire__V1__Status *st;
	assert_int_equal(hw_cluster_node_status(f->c, p, 5000, &st), 0);
	assert_true(st->n_peers >= 1); /* the standby, then the vault */
	struct pstatus ps = {.last_lsn = st->last_lsn,
			     .durable_lsn = st->durable_lsn,
			     .waiting = st->waiting,
			     .sb_connected = st->peers[0]->connected};
	hawser__wire__v1__status__free_unpacked(st, NULL);
	return ps;
}

/* count durable submits (seed) to primary p, as f's load on a thread (the teardown joins
 * it): with the standby stopped they wait, durable on the primary and unacknowledged.
 * Returns once the primary holds them all waiting, with its last LSN then. */
static uint64_t hold_submits(struct fix *f, unsigned p, uint64_t count, uint64_t seed)
{
	struct hw_load *held = &f->load;
	*held = (struct hw_load){.addr = hw_cluster_node_addr(f->c, p),
				 .count = count,
				 .window = (unsigned)count,
				 .mode = HW_DURABLE,
				 .k = 1,
				 .seed = seed};
	assert_int_equal(hw_load_init(held), 0);
	assert_int_equal(hw_load_start(held), 0);
	struct pstatus ps = {0};
	for (int64_t end = hw_mono_ms() + EVENT_WAIT_MS;
	     (ps.waiting < count || ps.durable_lsn < ps.last_lsn) && hw_mono_ms() < end;) {
		poll(NULL, 0, 20);
		ps = primary_status(f, p);
	}
	assert_int_equal(ps.waiting, count);
	assert_true(ps.durable_lsn >= ps.last_lsn); /* the primary's own store has them */
	return ps.last_lsn;
}

/* Wait until the vault has heard that its primary holds lsn durable: its status counts
 * at risk what it lacks of it (a heartbeat or an APPEND carries the primary's durable
 * LSN, behind any entries sent before it on the one connection). Its status then. */
static struct vstatus vault_heard(struct fix *f, uint64_t lsn)
{
	struct vstatus vs = {0};
	for (int i = 0; i < 400 && vs.durable_lsn + vs.at_risk_records < lsn; i++) {
		assert_int_equal(vault_status(&f->v, &vs), 0);
		hw_proc_pump(&f->v.proc, 50);
	}
	print_message("vault heard of %" PRIu64 ": received %" PRIu64 ", durable %" PRIu64
		      ", at risk %" PRIu64 "\n",
		      lsn, vs.last_lsn, vs.durable_lsn, vs.at_risk_records);
	assert_true(vs.durable_lsn + vs.at_risk_records >= lsn);
	return vs;
}

/* With failover a vault is sent nothing past what any new primary holds
 * (hw__primary_safe_lsn): the acknowledged LSN or, past it, what every connected standby
 * has made durable. On an idle failover cluster (p1, s1, a witness) the primary's log
 * holds only its own records (its PROMOTION), which no client's submit acknowledged: with
 * s1 killed once it had them, the vault hears of them (vault_heard) and is sent none, a
 * standby gone vouching for nothing; they reach it once s1 runs again. With s1 stopped
 * (SIGSTOP), durable submits wait while the primary has them durable: the vault hears of
 * them and receives none; with s1 running again they are acknowledged and reach it. Sent
 * at once, a failover that dropped them would leave the vault refusing every later
 * primary. */
static void test_vault_limit(void **state)
{
	struct fix *f = *state;
	unsigned p;
	vault_cluster(f, "", &p);
	unsigned sb = 1 - p;
	uint64_t last = 0, seen;
	for (int64_t end = hw_mono_ms() + EVENT_WAIT_MS; last == 0 && hw_mono_ms() < end;)
		assert_int_equal(hw_cluster_wait_synced(f->c, EVENT_WAIT_MS, &last), 0);
	assert_true(last > 0); /* its own records: nothing was submitted */
	assert_int_equal(hw_cluster_kill(f->c, sb, SIGKILL), 0);
	for (int i = 0; i < 400 && primary_status(f, p).sb_connected; i++)
		poll(NULL, 0, 20);
	assert_false(primary_status(f, p).sb_connected);
	start_cluster_vault(f, p);
	assert_int_equal(vault_heard(f, last).last_lsn, 0);
	assert_int_equal(hw_cluster_restart(f->c, sb), 0);
	assert_int_equal(hw_tnode_wait_durable(&f->v, last, CATCHUP_MS, &seen), 0);

	assert_int_equal(hw_cluster_kill(f->c, sb, SIGSTOP), 0);
	/* what the primary held when s1 stopped: s1 has nothing past it */
	uint64_t before = primary_status(f, p).last_lsn;
	uint64_t end = hold_submits(f, p, 5, 41);
	assert_true(end >= before + f->load.count);
	struct vstatus vs = vault_heard(f, end);
	assert_true(vs.last_lsn <= before);
	assert_true(vs.at_risk_records >= f->load.count);
	assert_int_equal(hw_cluster_kill(f->c, sb, SIGCONT), 0);
	assert_true(hw_load_join(&f->load, EVENT_WAIT_MS));
	assert_int_equal(f->load.acked, f->load.count);
	assert_int_equal(hw_tnode_wait_durable(&f->v, end, CATCHUP_MS, &seen), 0);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_cluster_stop(f->c), 0);
}

/* Wait until primary p's log is pruned (lazily, at a store commit): an empty vault then
 * needs a snapshot. Returns the head of its store then. */
static uint64_t wait_pruned(struct fix *f, unsigned p)
{
	struct hw_head base = {0}, head = {0};
	for (int64_t end = hw_mono_ms() + EVENT_WAIT_MS; base.lsn == 0 && hw_mono_ms() < end;) {
		store_heads(hw_cluster_dir(f->c, p), &head, &base);
		if (base.lsn == 0)
			poll(NULL, 0, 50);
	}
	assert_true(base.lsn > 0);
	return head.lsn;
}

/* A vault's snapshot held: a failover cluster that pruned its log (RECORDS durable
 * records, all acknowledged); its standby stopped (SIGSTOP), so 20 durable submits (f's
 * load, on a thread) wait while the primary's store has applied them; an empty vault
 * then asks for a snapshot, whose copy is held (snapshot_held), being past what any new
 * primary holds. Returns the copy's LSN, with the primary's index in *p. */
static uint64_t vault_snapshot_held(struct fix *f, unsigned *p)
{
	struct hw_load *held = &f->load;
	char line[512];
	vault_cluster(f, "[limits]\nlog_keep_records = 100\n[retention]\nlog_days = 0\n", p);
	struct hw_load l = {.addr = hw_cluster_node_addr(f->c, *p),
			    .count = RECORDS,
			    .window = WINDOW,
			    .mode = HW_DURABLE,
			    .k = 1,
			    .seed = 31};
	assert_int_equal(hw_load_init(&l), 0);
	assert_int_equal(hw_load_run(&l), 0);
	assert_int_equal(l.acked, l.count);
	hw_load_free(&l);
	uint64_t acked_head = wait_pruned(f, *p);
	assert_int_equal(hw_cluster_kill(f->c, 1 - *p, SIGSTOP), 0);
	/* in the primary's store before the vault asks, so that its snapshot holds them */
	assert_true(hold_submits(f, *p, 20, 32) >= acked_head + held->count);
	struct hw_head base, head = {0};
	for (int64_t end = hw_mono_ms() + EVENT_WAIT_MS;
	     head.lsn < acked_head + held->count && hw_mono_ms() < end;) {
		poll(NULL, 0, 20);
		store_heads(hw_cluster_dir(f->c, *p), &head, &base);
	}
	assert_true(head.lsn >= acked_head + held->count);
	start_cluster_vault(f, *p);
	assert_true(log_wait(hw_cluster_log(f->c, *p), "event=snapshot_held", "peer=v1",
			     EVENT_WAIT_MS, line, sizeof line));
	uint64_t lsn = (uint64_t)hw_log_field(line, "lsn", -1);
	assert_true(lsn > (uint64_t)hw_log_field(line, "safe_lsn", -1));
	return lsn;
}

/* With failover a vault is sent a snapshot only once every entry in it is one any new
 * primary holds: held while s1 is stopped (vault_snapshot_held), it goes once s1 runs
 * again, and the vault installs it. Sent at once, a failover that dropped that
 * unacknowledged tail would leave the vault refusing every later primary. */
static void test_vault_snapshot_waits_for_acks(void **state)
{
	struct fix *f = *state;
	unsigned p;
	uint64_t lsn = vault_snapshot_held(f, &p);
	assert_int_equal(hw_cluster_kill(f->c, 1 - p, SIGCONT), 0);
	char line[512];
	size_t mark = 0;
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	assert_int_equal(hw_log_field(line, "lsn", -1), (int64_t)lsn);
	assert_true(hw_load_join(&f->load, EVENT_WAIT_MS));
	assert_int_equal(f->load.acked, f->load.count);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_cluster_stop(f->c), 0);
}

/* The primary has one snapshot slot, and a vault's held copy (vault_snapshot_held) waits
 * for entries only a standby's durable ack can vouch for: it yields to a standby that
 * needs a snapshot itself. s1 loses its store (killed, its data directory removed) and
 * comes back empty: the vault's copy gives way (snapshot_failed code=HW_EBUSY), s1 gets
 * its snapshot and acknowledges the held submits, and the vault, asking again, gets
 * one too. Kept, the held copy would refuse s1 for ever: nothing else raises what
 * any new primary holds. */
static void test_vault_snapshot_yields(void **state)
{
	struct fix *f = *state;
	unsigned p;
	uint64_t lsn = vault_snapshot_held(f, &p);
	unsigned sb = 1 - p;
	assert_int_equal(hw_cluster_kill(f->c, sb, SIGKILL), 0);
	assert_int_equal(hw_test_rm_rf(hw_cluster_dir(f->c, sb)), 0);
	assert_int_equal(hw_cluster_restart(f->c, sb), 0);
	char line[512];
	assert_true(log_wait(hw_cluster_log(f->c, sb), "event=snapshot_installed", NULL,
			     EVENT_WAIT_MS, line, sizeof line));
	assert_true(log_wait(hw_cluster_log(f->c, p), "event=snapshot_failed", "peer=v1",
			     EVENT_WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, "code=HW_EBUSY"));
	assert_true(hw_load_join(&f->load, EVENT_WAIT_MS));
	assert_int_equal(f->load.acked, f->load.count);
	size_t mark = 0;
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	assert_true(hw_log_field(line, "lsn", -1) >= (int64_t)lsn);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_cluster_stop(f->c), 0);
}

/* p keeps 100 records of its log, pruning past them at once. */
static void keep_short_log(struct hw_tnode *p)
{
	FILE *ini = fopen(p->ini, "a");
	assert_non_null(ini);
	fprintf(ini, "[limits]\nlog_keep_records = 100\n[retention]\nlog_days = 0\n");
	assert_int_equal(fclose(ini), 0);
}

/* A vault whose next entry the primary pruned is not sent a snapshot that would replace
 * its store: the primary refuses it with HW_EVAULT, and its log stays as it was. */
static void test_vault_refuses_snapshot(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	keep_short_log(&f->p);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "0");
	start_vault(f);
	uint64_t vault_lsn = load(f, &f->p, 50, 17);
	wait_applied(f, vault_lsn);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "digest", f->v.dir, NULL), 0);
	char before[256];
	assert_true(f->cap.out_len < sizeof before);
	memcpy(before, f->cap.out, f->cap.out_len + 1);
	load(f, &f->p, RECORDS, 18); /* the primary prunes past the vault's end */
	assert_int_equal(hw_tnode_wait_pruned(&f->p, vault_lsn, 20000), 0);
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->v, &mark), 0);
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=primary_refused", "HW_EVAULT",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "digest", f->v.dir, NULL), 0);
	assert_string_equal(f->cap.out, before);
}

/* Connections saying a Hello of the vault v1 behind the primary's log. */
#define BEHIND_HELLOS 30u

/* A flood of connections to the primary's replication port, each saying v1's Hello with
 * a log that ends before the primary's pruned base (anyone may, to an insecure primary),
 * read until the primary closes it: the primary refuses each (HW_EVAULT) and writes its
 * peer_refused ... port=replication reason=vault_behind_log in full HW_FLOOD_LOG_LINES
 * times per HW_FLOOD_LOG_MS, then one line counting the rest that names the port (peer=*
 * port=replication more=N). Before, each connection wrote its line in full (naming no
 * port), with no bound: 30 connections, 30 lines. */
static void test_vault_behind_flood_log(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	keep_short_log(&f->p);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	load(f, &f->p, RECORDS, 19);
	assert_int_equal(hw_tnode_wait_pruned(&f->p, 1, 20000), 0);
	size_t mark = hw_proc_mark(&f->p.proc);
	for (unsigned i = 0; i < BEHIND_HELLOS; i++) {
		int fd = hw_test_dial(f->p.listen);
		assert_true(fd >= 0);
		hw_fp_vault_hello(fd, "v1", 1);
		char buf[512];
		struct pollfd pc = {.fd = fd, .events = POLLIN};
		while (poll(&pc, 1, EVENT_WAIT_MS) == 1 && read(fd, buf, sizeof buf) > 0)
			; /* its ERROR, then the end */
		close(fd);
	}
	struct hw_port_lines l = {.event = "peer_refused",
				  .port = "replication",
				  .in_full = "port=replication node=v1 reason=vault_behind_log"};
	assert_true(hw_proc_flood_counted(&f->p.proc, mark, BEHIND_HELLOS, EVENT_WAIT_MS, &l));
}

/* A vault whose every entry waits for its delay (durable in its log, none in its store)
 * still says its chain (the hash of its entry 1, from its log) in its hello: a primary of
 * another history refuses it as of another chain (reason=other_chain), not as a log that
 * diverged further on, and the vault's log and store stay as they were. Read from its
 * store alone, it said no chain. */
static void test_vault_held_chain_said(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "1h");
	start_vault(f);
	uint64_t last = load(f, &f->p, RECORDS / 2, 14);
	wait_vault_at(f, last, true);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_int_equal(store_head(f->v.dir), 0);

	init_primary(f, &f->p2, "p2", "", "local");
	assert_int_equal(hw_tnode_start(&f->p2, NULL), 0);
	load(f, &f->p2, RECORDS, 15);
	write_vault(f, f->p2.listen, "1h", false);
	size_t mark, pmark = hw_proc_mark(&f->p2.proc);
	assert_int_equal(hw_tnode_start(&f->v, &mark), 0);
	assert_true(hw_proc_wait_line(&f->p2.proc, &pmark, "event=standby_diverged",
				      "reason=other_chain", EVENT_WAIT_MS, NULL, 0));
	struct vstatus vs;
	assert_int_equal(vault_status(&f->v, &vs), 0);
	assert_int_equal(vs.durable_lsn, last);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(store_head(f->v.dir), 0);
}

/* ---- a hostile primary poisons the vault ---- */

#define POISON_LSN   25u /* in the second frame of POISON_FRAME entries */
#define POISON_FRAME 20u

/* The vault's config with a fake primary at addr: a beat of 1 s, so that the test's
 * pauses (a status command, a restart) never look like a silent primary. */
static void init_poisoned_vault(struct fix *f, const char *addr)
{
	init_vault(f, addr, "1s");
	FILE *ini = fopen(f->v.ini, "a");
	assert_non_null(ini);
	fprintf(ini, "[limits]\nheartbeat_ms = 1000\n");
	assert_int_equal(fclose(ini), 0);
}

/* Heartbeats from the fake primary on cfd (its log durable through lsn), a pause on the
 * vault's log pipe after each, until the vault is durable at lsn. Its status then. */
static struct vstatus beat_until_durable(struct fix *f, int cfd, uint64_t lsn)
{
	struct vstatus vs = {0};
	for (int i = 0; i < 400 && vs.durable_lsn < lsn; i++) {
		hw_fp_heartbeat(cfd, lsn);
		assert_int_equal(vault_status(&f->v, &vs), 0);
		hw_proc_pump(&f->v.proc, 50);
	}
	assert_int_equal(vs.durable_lsn, lsn);
	return vs;
}

/* ... until the vault logs a line holding needle and needle2 (may be NULL), from *mark. */
static bool beat_until_line(struct fix *f, int cfd, uint64_t lsn, size_t *mark, const char *needle,
			    const char *needle2)
{
	for (int i = 0; i < EVENT_WAIT_MS / 100; i++) {
		hw_fp_heartbeat(cfd, lsn);
		if (hw_proc_wait_line(&f->v.proc, mark, needle, needle2, 100, NULL, 0))
			return true;
	}
	return false;
}

/* `hawser status` of the vault (with --json when json) into f->cap: its exit code. */
static int vault_cli_status(struct fix *f, bool json)
{
	return hw_proc_capture(&f->cap, hw_test_bin(), "status", "--connect", f->v.client,
			       "--insecure", json ? "--json" : NULL, NULL);
}

/* `hawser status` on the vault, as text and --json, reports its apply blocked at
 * POISON_LSN (a WARNING line, apply_blocked) and exits 5; its primary is connected. */
static void status_shows_block(struct fix *f)
{
	assert_int_equal(vault_cli_status(f, false), 5);
	assert_non_null(strstr(f->cap.out, "  primary: p1\n"));
	assert_non_null(strstr(f->cap.out, "WARNING: apply blocked at lsn 25 (HW_EDECODE, "));
	assert_int_equal(vault_cli_status(f, true), 5);
	assert_non_null(strstr(f->cap.out, "\"apply_blocked\":{\"blocked\":true,\"lsn\":25,"
					   "\"code\":\"HW_EDECODE\""));
	assert_non_null(strstr(f->cap.out, "\"primary_connected\":true"));
	assert_non_null(strstr(f->cap.out, "\"failed\":\"\""));
	assert_non_null(strstr(f->cap.out, "\"warnings\":[\"apply blocked at lsn 25"));
}

/* The vault, started with its fake primary at lfd (whose log ends at last), connects:
 * the connection, once the vault took the primary's hello. */
static int poisoned_vault_connects(struct fix *f, int lfd, uint64_t last, size_t *mark)
{
	assert_int_equal(hw_tnode_start(&f->v, mark), 0);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	hw_fp_hello(cfd, "p1", last, NULL);
	assert_true(hw_proc_wait_line(&f->v.proc, mark, "event=following", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	return cfd;
}

/* A primary with a replaced binary sends an entry that hashes and chains like any other
 * but that no store takes (16 bytes that are no Record), in a frame of genuine ones and
 * followed by more: the vault stores and acknowledges them all, and when its delay runs
 * out applies every entry before the poisoned one (batched with it in one job) and stops
 * there, logged apply_blocked, no storage failure; `hawser status` says so and exits 5.
 * It goes on pulling: entries sent after the block are durable too, before and after a
 * restart, which comes back to the same block at once (it failed, a delay later, and the
 * vault then never redialed, its status silent on all of it). */
static void test_vault_poison_blocks_apply(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = hw_fp_listen(addr, sizeof addr);
	init_poisoned_vault(f, addr);
	struct hw_fp_log log;
	hw_fp_log_init(&log, 5, 100);
	size_t mark = 0;
	int cfd = poisoned_vault_connects(f, lfd, 2 * POISON_FRAME, &mark);
	hw_fp_append(cfd, &log, POISON_FRAME, 0);
	hw_fp_append(cfd, &log, POISON_FRAME, POISON_LSN);
	beat_until_durable(f, cfd, 2 * POISON_FRAME);
	assert_true(beat_until_line(f, cfd, log.lsn, &mark, "event=apply_blocked", "lsn=25 "));
	hw_fp_append(cfd, &log, POISON_FRAME, 0); /* after the block: stored all the same */
	struct vstatus vs = beat_until_durable(f, cfd, 3 * POISON_FRAME);
	wait_applied(f, POISON_LSN - 1);
	assert_int_equal(vault_status(&f->v, &vs), 0);
	assert_int_equal(vs.applied_lsn, POISON_LSN - 1);
	assert_int_equal(vs.blocked_lsn, POISON_LSN);
	assert_int_equal(vs.blocked_code, HW_EDECODE);
	assert_null(strstr(f->v.proc.log, "event=storage_failed"));
	status_shows_block(f);

	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	close(cfd);
	assert_int_equal(store_head(f->v.dir), POISON_LSN - 1);
	mark = 0;
	cfd = poisoned_vault_connects(f, lfd, log.lsn, &mark);
	mark = 0; /* blocked again at start, before any delay */
	assert_true(
		hw_proc_wait_line(&f->v.proc, &mark, "event=apply_blocked", "lsn=25 ", 0, NULL, 0));
	assert_int_equal(vault_status(&f->v, &vs), 0);
	assert_int_equal(vs.applied_lsn, POISON_LSN - 1);
	assert_int_equal(vs.blocked_lsn, POISON_LSN);
	status_shows_block(f);
	hw_fp_append(cfd, &log, POISON_FRAME, 0);
	beat_until_durable(f, cfd, 4 * POISON_FRAME);
	assert_null(strstr(f->v.proc.log, "event=storage_failed"));
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	assert_int_equal(store_head(f->v.dir), POISON_LSN - 1);
	close(cfd);
	close(lfd);
	hw_fp_log_free(&log);
}

/* A fake primary listening (its socket returned) and the vault configured to follow it,
 * applying at once. */
static int fake_primary_vault(struct fix *f)
{
	char addr[64];
	int lfd = hw_fp_listen(addr, sizeof addr);
	init_vault(f, addr, "0");
	return lfd;
}

/* An empty vault sent a snapshot it has no room for (announced at HW_MAP_BYTES_MAX, a
 * TiB, more than the test's disk has free) refuses it, and its `hawser status` says why
 * it is not following, the refusal's code and reason (--json: refused_code and
 * refused_what), not only that its primary is silent. */
static void test_vault_no_room_status(void **state)
{
	struct fix *f = *state;
	int lfd = fake_primary_vault(f);
	size_t mark = 0;
	int cfd = poisoned_vault_connects(f, lfd, 100, &mark);
	uint8_t hash[HW_HASH_BYTES] = {1};
	Hawser__Wire__V1__SnapshotBegin b = HAWSER__WIRE__V1__SNAPSHOT_BEGIN__INIT;
	b.epoch = 1;
	b.lsn = 100;
	b.hash = (ProtobufCBinaryData){HW_HASH_BYTES, hash};
	b.bytes = HW_MAP_BYTES_MAX;
	hw_fp_msg(cfd, HW_FRAME_SNAPSHOT_BEGIN, &b.base);
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=snapshot_refused",
				      "code=HW_ESTORE_FULL", EVENT_WAIT_MS, NULL, 0));
	close(cfd);
	assert_int_equal(vault_cli_status(f, false), 0);
	assert_non_null(strstr(f->cap.out, "WARNING: not following: its last try was refused "
					   "(HW_ESTORE_FULL: no room for the snapshot"));
	assert_int_equal(vault_cli_status(f, true), 0);
	assert_non_null(strstr(f->cap.out, "\"refused_code\":\"HW_ESTORE_FULL\",\"refused_what\":"
					   "\"no room for the snapshot"));
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	close(lfd);
}

/* The vault's next dial at the fake primary's lfd, within EVENT_WAIT_MS: sent a REJOIN
 * (a hostile primary asking it to rewind its log), which the vault refuses on its own;
 * returns once the vault closed the connection. */
static void rejoin_refused(int lfd)
{
	struct pollfd pl = {.fd = lfd, .events = POLLIN};
	assert_int_equal(poll(&pl, 1, EVENT_WAIT_MS), 1);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	hw_fp_frame(cfd, HW_FRAME_REJOIN, NULL, 0);
	char buf[512];
	struct pollfd pc = {.fd = cfd, .events = POLLIN};
	while (poll(&pc, 1, EVENT_WAIT_MS) == 1 && read(cfd, buf, sizeof buf) > 0)
		; /* its hello, then the end */
	close(cfd);
}

/* A vault that refuses a primary's REJOIN on its own (not an ERROR from the primary) is
 * refused for good as when the primary says so: it logs vault_refused once, not at each
 * of its backed-off redials, no primary_lost after the first, and no redial as one that
 * nothing took (primary_unreachable). */
static void test_vault_own_refusal_said_once(void **state)
{
	struct fix *f = *state;
	int lfd = fake_primary_vault(f);
	size_t mark = 0;
	assert_int_equal(hw_tnode_start(&f->v, &mark), 0);
	for (int i = 0; i < DIVERGED_TRIES; i++)
		rejoin_refused(lfd);
	rejoin_refused(lfd); /* the last one's lines are written by now */
	close(lfd);
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	const char *first = strstr(f->v.proc.log, "event=vault_refused");
	assert_non_null(first);
	assert_non_null(strstr(first, "asks for a rejoin"));
	assert_null(strstr(first + 1, "event=vault_refused"));
	const char *lost = strstr(f->v.proc.log, "event=primary_lost");
	assert_non_null(lost);
	assert_non_null(strstr(lost, "code=HW_EVAULT"));
	assert_null(strstr(lost + 1, "event=primary_lost"));
	assert_null(strstr(f->v.proc.log, "event=primary_unreachable")); /* it did answer */
}

/* A vault whose primary is gone (killed: nothing listens at its address) logs its
 * refused redials (primary_unreachable, not one per redial), keeps naming it in `hawser
 * status`, marked not connected with when it was last heard, and past a few heartbeats of
 * silence shows a WARNING (--json: primary_connected false, a warning); nothing stopped
 * it, so the status exits 0. */
static void test_vault_primary_gone_status(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "0");
	size_t mark;
	assert_int_equal(hw_tnode_start(&f->v, &mark), 0);
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=following", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	wait_applied(f, load(f, &f->p, 50, 19));
	hw_proc_kill(&f->p.proc);
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=primary_lost", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	assert_true(hw_proc_wait_line(&f->v.proc, &mark, "event=primary_unreachable",
				      "code=ECONNREFUSED", EVENT_WAIT_MS, NULL, 0));
	struct vstatus vs = {.connected = true};
	for (int i = 0; i < 400 && (vs.connected || vs.silent_ms <= vs.silent_limit_ms); i++) {
		assert_int_equal(vault_status(&f->v, &vs), 0);
		hw_proc_pump(&f->v.proc, 50);
	}
	assert_false(vs.connected);
	assert_true(vs.silent_limit_ms > 0 && vs.silent_ms > vs.silent_limit_ms);
	assert_int_equal(vault_cli_status(f, false), 0);
	assert_non_null(strstr(f->cap.out, "  primary: p1 (not connected, last heard "));
	assert_non_null(strstr(f->cap.out, "WARNING: no word from its primary for "));
	assert_null(strstr(f->cap.out, "apply blocked"));
	assert_int_equal(vault_cli_status(f, true), 0);
	assert_non_null(strstr(f->cap.out, "\"primary\":\"p1\""));
	assert_non_null(strstr(f->cap.out, "\"primary_connected\":false"));
	assert_non_null(strstr(f->cap.out, "\"warnings\":[\"no word from its primary"));
	assert_non_null(strstr(f->cap.out, "\"apply_blocked\":{\"blocked\":false"));
	/* the first refusal said at once, then a line for many (not one per redial) */
	const char *p = strstr(f->v.proc.log, "event=primary_unreachable");
	assert_int_equal(hw_log_field(p, "refused", -1), 1);
	while ((p = strstr(p + 1, "event=primary_unreachable")) != NULL)
		assert_true(hw_log_field(p, "refused", -1) > 1);
}

/* Point-in-time restore from the vault's directory: a backup of it, restored to an LSN
 * in the middle, has the primary's state at that LSN. */
static void test_vault_restore(void **state)
{
	struct fix *f = *state;
	init_primary(f, &f->p, "p1", "", "local");
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_vault(f, f->p.listen, "0");
	start_vault(f);
	wait_applied(f, load(f, &f->p, RECORDS, 16));
	assert_int_equal(hw_proc_stop(&f->v.proc, STOP_WAIT_MS), 0);
	char bk[HW_PROC_PATH_MAX + 16], dst[HW_PROC_PATH_MAX + 16];
	snprintf(bk, sizeof bk, "%s/bk", f->root);
	snprintf(dst, sizeof dst, "%s/told", f->root);
	const char *bin = hw_test_bin();
	assert_int_equal(hw_proc_capture(&f->cap, bin, "backup", f->v.dir, bk, NULL), 0);
	/* told to a node without a key: it keeps no audit trail, and says so (exit 1) */
	assert_int_equal(hw_proc_capture(&f->cap, bin, "restore", bk, dst, "--connect", f->p.client,
					 "--insecure", NULL),
			 1);
	assert_non_null(strstr(f->cap.err, "keeps no audit trail"));
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	snprintf(dst, sizeof dst, "%s/restored", f->root);
	assert_int_equal(
		hw_proc_capture(&f->cap, bin, "restore", bk, dst, "--until-lsn", "123", NULL), 0);
	assert_int_equal(hw_proc_capture(&f->cap, bin, "digest", dst, NULL), 0);
	char restored[256];
	assert_true(f->cap.out_len < sizeof restored);
	memcpy(restored, f->cap.out, f->cap.out_len + 1);
	assert_non_null(strstr(restored, "lsn=123"));
	assert_int_equal(hw_proc_capture(&f->cap, bin, "digest", f->p.dir, "--at-lsn", "123", NULL),
			 0);
	assert_string_equal(f->cap.out, restored);
}

/* A backup generation named name under dir, of store, its MANIFEST dated days ago. */
static void generation(struct fix *f, const char *dir, const char *name, const char *store,
		       int days)
{
	char g[HW_PROC_PATH_MAX + 64], m[HW_PROC_PATH_MAX + 80];
	snprintf(g, sizeof g, "%s/%s", dir, name);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "backup", store, g, NULL), 0);
	snprintf(m, sizeof m, "%s/MANIFEST", g);
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= (time_t)days * 24 * 3600;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, m, t, 0), 0);
}

static bool exists(const char *dir, const char *name)
{
	char path[HW_PROC_PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* A store of 50 records, an empty backups directory and the path of a policy file (not
 * written) under f's root, for prune's tests; returns the hawser binary. */
static const char *prune_setup(struct fix *f, char *store, char *bk, char *ini)
{
	size_t cap = HW_PROC_PATH_MAX + 16;
	snprintf(store, cap, "%s/store", f->root);
	snprintf(bk, cap, "%s/backups", f->root);
	snprintf(ini, cap, "%s/policy.ini", f->root);
	const char *bin = hw_test_bin();
	assert_int_equal(hw_proc_capture(&f->cap, bin, "init", store, NULL), 0);
	assert_int_equal(hw_proc_capture(&f->cap, bin, "ingest", store, "--generate", "50", NULL),
			 0);
	assert_int_equal(mkdir(bk, 0700), 0);
	return bin;
}

/* `hawser prune` removes only the generations both past the newest backup_generations
 * and backup_days old, after a dry run that removes nothing; a directory without a
 * MANIFEST is never touched, and a bad [retention] value is refused naming the key. */
static void test_prune_backups(void **state)
{
	struct fix *f = *state;
	char store[HW_PROC_PATH_MAX + 16], bk[HW_PROC_PATH_MAX + 16], ini[HW_PROC_PATH_MAX + 16];
	const char *bin = prune_setup(f, store, bk, ini);
	generation(f, bk, "g40", store, 40);
	generation(f, bk, "g35", store, 35);
	generation(f, bk, "g20", store, 20);
	generation(f, bk, "g1", store, 1);
	char unfinished[HW_PROC_PATH_MAX + 32];
	snprintf(unfinished, sizeof unfinished, "%s/unfinished", bk);
	assert_int_equal(mkdir(unfinished, 0700), 0);
	FILE *c = fopen(ini, "w");
	assert_non_null(c);
	fprintf(c,
		"[cluster]\nid = itest\n[node]\nid = v1\nrole = vault\ndata_dir = %s\n"
		"primary = 127.0.0.1:1\n[retention]\nbackup_generations = 1\nbackup_days = 30\n"
		"[security]\ninsecure = true\n",
		store);
	assert_int_equal(fclose(c), 0);
	assert_int_equal(
		hw_proc_capture(&f->cap, bin, "prune", bk, "--config", ini, "--dry-run", NULL), 0);
	assert_non_null(strstr(f->cap.out, "2 generations would be removed"));
	assert_true(exists(bk, "g40") && exists(bk, "g35"));
	assert_int_equal(hw_proc_capture(&f->cap, bin, "prune", bk, "--config", ini, NULL), 0);
	assert_non_null(strstr(f->cap.out, "2 generations removed"));
	assert_false(exists(bk, "g40") || exists(bk, "g35"));
	assert_true(exists(bk, "g20") && exists(bk, "g1") && exists(bk, "unfinished"));
	/* the defaults (7 generations, 30 days) keep all that is left */
	assert_int_equal(hw_proc_capture(&f->cap, bin, "prune", bk, NULL), 0);
	assert_non_null(strstr(f->cap.out, "0 generations removed"));
	/* a BACKUPS that is not there announces no policy: it is an error at once */
	assert_int_equal(hw_proc_capture(&f->cap, bin, "prune", ini, NULL), 1);
	assert_non_null(strstr(f->cap.err, "(ENOTDIR)"));
	assert_int_equal(f->cap.out_len, 0);

	c = fopen(ini, "a");
	assert_non_null(c);
	fprintf(c, "[retention]\nbackup_days = 30\n");
	assert_int_equal(fclose(c), 0);
	assert_int_equal(hw_proc_capture(&f->cap, bin, "prune", bk, "--config", ini, NULL), 1);
	assert_non_null(strstr(f->cap.err, "'retention.backup_days' given twice"));
}

/* Overwrite the file at path with as many other bytes: encrypted in place, size kept. */
static void encrypt_in_place(const char *path)
{
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	long size = ftell(fp);
	rewind(fp);
	for (long i = 0; i < size; i++)
		assert_int_equal(fputc((int)((i * 131 + 7) & 0xff), fp),
				 (int)((i * 131 + 7) & 0xff));
	assert_int_equal(fclose(fp), 0);
}

/* Generations that are not whole (a MANIFEST of garbage, a snapshot cut short, files
 * encrypted in place with their sizes kept) neither count toward the newest
 * backup_generations nor go: with one generation kept, the only whole one, 40 days old,
 * stays though three damaged ones are newer, and each damaged one is listed with its
 * problem. Nor does one a backup is writing into now (its
 * .backup-lock held): it is listed as such, and stays. */
static void test_prune_counts_whole_only(void **state)
{
	struct fix *f = *state;
	char store[HW_PROC_PATH_MAX + 16], bk[HW_PROC_PATH_MAX + 16], ini[HW_PROC_PATH_MAX + 16];
	char path[HW_PROC_PATH_MAX + 64];
	const char *bin = prune_setup(f, store, bk, ini);
	generation(f, bk, "g40", store, 40);
	generation(f, bk, "gcut", store, 1);
	snprintf(path, sizeof path, "%s/gcut/snapshot/data.mdb", bk);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 4096), 0);
	generation(f, bk, "genc", store, 1);
	snprintf(path, sizeof path, "%s/genc/snapshot/data.mdb", bk);
	encrypt_in_place(path);
	snprintf(path, sizeof path, "%s/genc/log.hwl", bk);
	encrypt_in_place(path);
	snprintf(path, sizeof path, "%s/junk", bk);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/junk/MANIFEST", bk);
	FILE *c = fopen(path, "w");
	assert_non_null(c);
	fprintf(c, "garbage\n");
	assert_int_equal(fclose(c), 0);
	snprintf(path, sizeof path, "%s/gunfinished", bk); /* a full backup cut short */
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/gunfinished/INCOMPLETE", bk);
	c = fopen(path, "w");
	assert_non_null(c);
	assert_int_equal(fclose(c), 0);
	c = fopen(ini, "w");
	assert_non_null(c);
	fprintf(c, "[retention]\nbackup_generations = 1\nbackup_days = 30\n");
	assert_int_equal(fclose(c), 0);
	assert_int_equal(hw_proc_capture(&f->cap, bin, "prune", bk, "--config", ini, NULL), 0);
	fprintf(stderr, "%s", f->cap.out);
	assert_non_null(strstr(f->cap.out, "0 generations removed"));
	assert_true(exists(bk, "g40") && exists(bk, "gcut") && exists(bk, "junk") &&
		    exists(bk, "gunfinished/INCOMPLETE"));
	assert_non_null(strstr(f->cap.out, "keep       g40"));
	assert_non_null(strstr(f->cap.out, "does not match its MANIFEST hash"));
	const char *unf = strstr(f->cap.out, "unfinished gunfinished");
	assert_non_null(unf);
	assert_non_null(strstr(unf, "a backup cut short"));
	/* with a whole g2 newer, g40 would go; with its lock held (an incremental appending
	 * to it) it is not judged, and stays */
	generation(f, bk, "g2", store, 2);
	snprintf(path, sizeof path, "%s/g40/.backup-lock", bk);
	int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(lfd >= 0 && flock(lfd, LOCK_EX) == 0);
	int rc = hw_proc_capture(&f->cap, bin, "prune", bk, "--config", ini, NULL);
	close(lfd);
	assert_int_equal(rc, 0);
	assert_true(exists(bk, "g40/MANIFEST"));
	const char *w = strstr(f->cap.out, "writing    g40");
	assert_non_null(w);
	assert_non_null(strstr(w, "a backup is writing into it now"));
	const char *cut = strstr(f->cap.out, "damaged    gcut");
	assert_non_null(cut);
	assert_non_null(strstr(cut, "snapshot/data.mdb is "));
	const char *junk = strstr(f->cap.out, "damaged    junk");
	assert_non_null(junk);
	assert_non_null(strstr(junk, "MANIFEST line"));
}

int main(void)
{
	if (hw_test_bin() == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vault_pulls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_delay_from_arrival, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_not_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_refuses_diverged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_held_chain_said, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_refuses_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_behind_flood_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_poison_blocks_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_primary_gone_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_own_refusal_said_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_no_room_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_snapshot_waits_for_acks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vault_snapshot_yields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_backups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_counts_whole_only, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
