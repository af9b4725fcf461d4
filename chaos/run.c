/* run.c: hawser-chaos, the chaos run with real processes (docs/testing.md "Real
 * processes"). For each schedule it starts a failover cluster of real `hawser node`
 * processes (p1 primary, s1 and s2 standbys, durable k = 1, rto 2 s, rpo 0) and a
 * `hawser witness` on loopback, every voter reaching every other through its own
 * chaos/proxy (12 proxies: voter i's connections to voter j pass proxy [i][j]), runs a
 * client at a steady rate that follows the primary and keeps every outcome, applies a
 * seeded random fault schedule, heals, waits for the cluster to settle, stops it and
 * checks the history (chaos/history.c).
 *
 * The client reaches the nodes' client ports directly: an isolated primary still has its
 * clients (fault F6), which is the case the fence exists for.
 *
 * Every data node runs under the LD_PRELOAD shim chaos/faultfs.c, which a signal arms:
 * its fsync or write calls on its data dir fail with EIO, or its event loop stalls.
 * --lease is the variant that tests the lease alone: every submit in local mode, every
 * fault a stall of the primary's loop past its lease.
 *
 * --net netns (root): every voter and the client run on hosts of their own (network
 * namespaces on one bridge, chaos/netns.h), the proxies [i][j] in voter i's host on its
 * loopback, so partitions are nftables rules dropping packets on the path between
 * hosts, and each data node's data dir is on a small tmpfs a ballast file fills. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/rng.h"
#include "chaos/history.h"
#include "chaos/netns.h"
#include "chaos/proxy.h"
#include "engine/client_int.h"
#include "replica/store.h"
#include "tests/integration/proc.h"

#define START_WAIT_MS   10000
#define STOP_WAIT_MS    10000
#define RTO_MS          2000
#define WINDOW          32u
#define STALL_MS        3000 /* no outcome for this long with submits out: follow */
#define FOLLOW_MS       2000 /* one reconnect attempt */
#define DISK_MB         48   /* a data node's tmpfs under --net netns */
#define PORT_PEER       7100 /* under --net netns every host has its own address */
#define PORT_CLIENT     7200
#define FAULT_AFTER_MAX 8    /* an armed fsync or write fault fires after 0-7 more calls */
#define STORE_WAIT_MS   1000 /* an injected EIO -> the node's storage_failed line */

static const char *const ids[HW_CH_VOTERS] = {"p1", "s1", "s2", "w1"};

struct opts {
	unsigned schedules;
	unsigned seconds;
	uint64_t seed;
	unsigned rate;
	int settle_ms; /* heal -> one primary, both standbys caught up: the bound */
	bool keep;
	bool verbose;
	bool netns;
	bool until_fail; /* stop after the first schedule that fails */
	bool lease;      /* the lease variant: local submits, the primary's loop stalled */
};

static struct hw_ch_net net;
static pid_t live_pids[HW_CH_VOTERS]; /* killed by a fatal signal (hw_ch_net_on_signal) */

/* ---- randomness: splitmix64, enough for a schedule ------------------------------ */

static unsigned rnd_below(uint64_t *s, unsigned n)
{
	return (unsigned)(hw_splitmix64(s) % n);
}

/* ---- the load: a steady rate, following the primary --------------------------- */

static int addr_index(const struct hw_ch_cluster *c, struct hw_client *cl)
{
	const char *a = hw_client_addr(cl);
	for (int i = 0; a != NULL && i < HW_CH_NODES; i++)
		if (strcmp(a, c->client[i]) == 0)
			return i;
	return -1;
}

/* Submit i in its mode: the nodes' default (durable, k = 1), or local for every
 * HW_CH_LOCAL_EVERY-th: acknowledged on the primary's commit alone, so only the lease
 * keeps a cut-off primary from acknowledging after a newer one has. */
static int submit(struct hw_client *cl, const struct hw_ch_load *l, uint64_t i)
{
	bool local = hw_ch_local(l, i);
	return hw_client_submit(cl, i, l->r.rec[i], l->r.len[i], local ? HW_LOCAL : HW_DEFAULT, 0);
}

/* Resend the unanswered ones of the last window; returns how many are out. */
static int resend(struct hw_ch_load *l, struct hw_client *cl, uint64_t next, uint64_t *out)
{
	uint64_t from = next > WINDOW ? next - WINDOW : 0;
	*out = 0;
	for (uint64_t i = from; i < next; i++) {
		if (l->r.done[i])
			continue;
		int rc = submit(cl, l, i);
		if (rc != 0)
			return rc;
		(*out)++;
	}
	return 0;
}

/* One outcome, or the reason to follow the primary. */
static int take(struct hw_ch_load *l, struct hw_client *cl, uint64_t *out, int64_t *progress)
{
	struct hw_outcome o;
	int rc = hw_client_wait(cl, 5, &o);
	if (rc == -ETIMEDOUT)
		return *out > 0 && hw_wall_ms() - *progress > STALL_MS ? -ETIMEDOUT : 0;
	if (rc != 0)
		return rc;
	if (o.code == HW_ENOT_PRIMARY)
		return HW_ENOT_PRIMARY;
	if (o.request_id >= l->r.count)
		return HW_EPROTOCOL;
	*progress = hw_wall_ms();
	uint64_t i = o.request_id;
	if (!l->r.done[i]) {
		l->r.done[i] = true;
		l->r.code[i] = o.code;
		l->r.lsn[i] = o.lsn;
		l->r.at_ms[i] = *progress;
		l->by[i] = addr_index(l->cluster, cl);
		if (*out > 0)
			(*out)--;
	}
	return 0;
}

static bool may_submit(const struct hw_ch_load *l, uint64_t next, uint64_t out, int64_t now)
{
	return next < l->r.count && now < l->submit_until_ms && out < WINDOW &&
	       (next < WINDOW || l->r.done[next - WINDOW]) &&
	       now >= l->t0_ms + (int64_t)(next * 1000u / l->rate);
}

static void *load_main(void *arg)
{
	struct hw_ch_load *l = arg;
	struct hw_client *cl = NULL;
	uint64_t next = 0, out = 0;
	int64_t progress = hw_wall_ms();
	while (hw_wall_ms() < l->end_ms && !atomic_load(&l->stop)) {
		int rc;
		bool sent = true; /* rc is a submit's: outcomes taken in before it wait */
		if (cl == NULL) {
			rc = hw_client_connect(l->addrs, &cl);
			if (rc != 0) {
				hw_client_close(cl);
				cl = NULL;
				hw_sleep_ms(50);
				continue;
			}
			rc = resend(l, cl, next, &out);
		} else if (may_submit(l, next, out, hw_wall_ms())) {
			rc = submit(cl, l, next);
			next++;
			out++;
		} else if (out == 0 && hw_wall_ms() >= l->submit_until_ms) {
			break;
		} else {
			rc = take(l, cl, &out, &progress);
			sent = false;
		}
		/* the client holds the outcomes that came before a lost connection (hawser.h):
		 * take them, or acknowledged records would count as unanswered */
		while (rc != 0 && sent && out > 0 && take(l, cl, &out, &progress) == 0)
			;
		if (rc != 0) {
			l->follows++;
			progress = hw_wall_ms();
			rc = hw_client_reconnect(cl, FOLLOW_MS);
			if (rc == 0)
				rc = resend(l, cl, next, &out);
			if (rc != 0 && rc != HW_ENOT_PRIMARY) {
				hw_client_close(cl);
				cl = NULL;
			}
		}
	}
	hw_client_close(cl);
	l->submitted = next;
	return NULL;
}

static int load_init(struct hw_ch_load *l, struct hw_ch_cluster *c, uint64_t count, uint64_t seed)
{
	memset(l, 0, sizeof *l);
	l->cluster = c;
	snprintf(l->addrs, sizeof l->addrs, "%s,%s,%s", c->client[0], c->client[1], c->client[2]);
	l->by = calloc(count, sizeof *l->by);
	if (l->by == NULL)
		return HW_ENOMEM;
	return hw_rig_recs_init(&l->r, count, seed);
}

static void load_free(struct hw_ch_load *l)
{
	hw_rig_recs_free(&l->r);
	free(l->by);
}

/* ---- the cluster ---------------------------------------------------------------- */

static int write_config(struct hw_ch_cluster *c, int i)
{
	FILE *fp = fopen(c->ini[i], "w");
	if (fp == NULL)
		return -errno;
	fprintf(fp,
		"[cluster]\nid = chaos\n[node]\nid = %s\nrole = %s\ndata_dir = %s\nlisten = %s\n",
		ids[i],
		i == 0            ? "primary"
		: i < HW_CH_NODES ? "standby"
				  : "witness",
		c->dir[i], c->listen[i]);
	if (i < HW_CH_NODES)
		fprintf(fp, "client = %s\n[durability]\nmode = durable\nk = 1\n", c->client[i]);
	const char *v[HW_CH_VOTERS];
	for (int j = 0; j < HW_CH_VOTERS; j++)
		v[j] = j == i ? c->listen[j] : hw_proxy_addr(c->px[i][j]);
	fprintf(fp,
		"[failover]\nvoters = p1@%s, s1@%s, s2@%s\nwitness = %s\nwitness_id = w1\n"
		"rto = %dms\nrpo = 0\n"
		"[security]\ninsecure = true\n", /* the channel is not under test here */
		v[0], v[1], v[2], v[3], RTO_MS);
	return fclose(fp) == 0 ? 0 : -errno;
}

/* ---- the disk fault shim (chaos/faultfs.c) ------------------------------------------ */

static const char *const fault_vars[] = {"HW_FAULT_PATH", "HW_FAULT_FSYNC_AFTER",
					 "HW_FAULT_WRITE_EIO_AFTER", "HW_FAULT_ARM",
					 "HW_FAULT_STALL_MS"};
static char faults_lib[PATH_MAX];   /* libhawser-faults.so */
static char preload_base[PATH_MAX]; /* LD_PRELOAD as the run found it */

/* Find the shim ($HW_FAULTS_LIB, else libhawser-faults.so next to this binary) and give
 * every variable a node's start sets a slot in the environment now, before any thread
 * runs: a later setenv of a name that exists swaps one pointer in place, so another
 * thread's getenv never sees the array moved. 0 or -errno. */
static int faults_init(void)
{
	const char *lib = getenv("HW_FAULTS_LIB");
	if (lib != NULL) {
		snprintf(faults_lib, sizeof faults_lib, "%s", lib);
	} else {
		ssize_t n = readlink("/proc/self/exe", faults_lib, sizeof faults_lib - 32);
		char *slash = n > 0 ? memrchr(faults_lib, '/', (size_t)n) : NULL;
		if (slash == NULL)
			return -ENOENT;
		strcpy(slash + 1, "libhawser-faults.so");
	}
	if (access(faults_lib, R_OK) != 0)
		return -errno;
	const char *pre = getenv("LD_PRELOAD");
	snprintf(preload_base, sizeof preload_base, "%s", pre != NULL ? pre : "");
	setenv("LD_PRELOAD", preload_base, 1);
	for (size_t k = 0; k < sizeof fault_vars / sizeof fault_vars[0]; k++)
		setenv(fault_vars[k], "", 1);
	return 0;
}

/* The environment voter i starts in: a data node runs under the shim, armed on its data
 * dir, its counts started by SIGUSR1 (fsync) or SIGUSR2 (write) from apply(), its loop
 * stalled on SIGWINCH. i < 0: back to the run's own (after the fork). */
static void faults_env(const struct hw_ch_cluster *c, int i)
{
	bool on = i >= 0 && i < HW_CH_NODES;
	char pre[2 * PATH_MAX + 2], after[16], stall[16];
	snprintf(pre, sizeof pre, "%s%s%s", on ? faults_lib : "",
		 on && preload_base[0] != '\0' ? " " : "", preload_base);
	snprintf(after, sizeof after, "%u", c->fault_after);
	snprintf(stall, sizeof stall, "%u", c->stall_ms);
	setenv("LD_PRELOAD", pre, 1);
	setenv("HW_FAULT_PATH", on ? c->dir[i] : "", 1);
	setenv("HW_FAULT_FSYNC_AFTER", on ? after : "", 1);
	setenv("HW_FAULT_WRITE_EIO_AFTER", on ? after : "", 1);
	setenv("HW_FAULT_ARM", on ? "signal" : "", 1);
	setenv("HW_FAULT_STALL_MS", on ? stall : "", 1);
}

static int start_once(struct hw_ch_cluster *c, int i)
{
	hw_proc_kill(&c->proc[i]);
	const char *args[] = {i < HW_CH_NODES ? "node" : "witness", "--config", c->ini[i], NULL};
	/* a child forked while this thread is in voter i's host runs there */
	int rc = c->net != NULL ? hw_ch_net_enter(c->net, i) : 0;
	faults_env(c, i);
	if (rc == 0)
		rc = hw_proc_start(&c->proc[i], c->log[i], args);
	faults_env(c, -1);
	if (c->net != NULL && hw_ch_net_enter(c->net, HW_CH_NET_CLIENT) != 0)
		rc = rc != 0 ? rc : -EPERM;
	live_pids[i] = c->proc[i].pid;
	size_t from = 0;
	if (rc == 0 &&
	    !hw_proc_wait_line(&c->proc[i], &from, "event=started", NULL, START_WAIT_MS, NULL, 0))
		rc = -ETIMEDOUT;
	c->stopped[i] = false;
	return rc;
}

static bool port_busy(const struct hw_ch_cluster *c, int i)
{
	return c->proc[i].log != NULL && strstr(c->proc[i].log, "EADDRINUSE") != NULL;
}

/* A restart can find its port still bound for a moment after the SIGKILLed incarnation
 * was reaped (probably its io_uring, which holds the listening socket until the kernel's
 * asynchronous teardown; seen under --net netns, where ports are fixed): the rig's race,
 * not a fault under test, so the start is tried again, at most 20 times 100 ms apart. */
static int start_voter(struct hw_ch_cluster *c, int i)
{
	int rc = start_once(c, i);
	for (int tries = 0; tries < 20 && rc == -ETIMEDOUT && port_busy(c, i); tries++) {
		hw_sleep_ms(100);
		rc = start_once(c, i);
	}
	return rc;
}

/* Voter i's addresses: free loopback ports, or its host's address under --net netns. */
static int addresses(struct hw_ch_cluster *c, int i)
{
	uint16_t port = PORT_PEER, cport = PORT_CLIENT;
	const char *host = c->net != NULL ? hw_ch_net_addr(i) : "127.0.0.1";
	int rc = c->net != NULL ? 0 : hw_free_port(&port);
	if (rc == 0 && c->net == NULL && i < HW_CH_NODES)
		rc = hw_free_port(&cport);
	snprintf(c->listen[i], sizeof c->listen[i], "%s:%u", host, (unsigned)port);
	if (i < HW_CH_NODES)
		snprintf(c->client[i], sizeof c->client[i], "%s:%u", host, (unsigned)cport);
	snprintf(c->ini[i], sizeof c->ini[i], "%s/%s.ini", c->root, ids[i]);
	snprintf(c->log[i], sizeof c->log[i], "%s/%s.log", c->root, ids[i]);
	snprintf(c->dir[i], sizeof c->dir[i], "%s/%s", c->root, ids[i]);
	if (rc != 0 || c->net == NULL || i >= HW_CH_NODES)
		return rc;
	/* the data dir inside a small disk of its own, with room for a ballast file */
	snprintf(c->disk[i], sizeof c->disk[i], "%s/%s-disk", c->root, ids[i]);
	snprintf(c->dir[i], sizeof c->dir[i], "%s/data", c->disk[i]);
	return hw_ch_net_tmpfs(c->net, c->disk[i], DISK_MB);
}

/* Proxy [i][j] in voter i's host: it listens on that host's loopback, and what it
 * forwards to j crosses the hosts' network (and its nftables rules). */
static int proxy_up(struct hw_ch_cluster *c, int i, int j)
{
	int rc = c->net != NULL ? hw_ch_net_enter(c->net, i) : 0;
	if (rc == 0)
		rc = hw_proxy_new("127.0.0.1:0", c->listen[j], &c->px[i][j]);
	if (rc == 0)
		rc = hw_proxy_start(c->px[i][j]); /* its thread stays in i's host */
	if (c->net != NULL && hw_ch_net_enter(c->net, HW_CH_NET_CLIENT) != 0)
		rc = rc != 0 ? rc : -EPERM;
	return rc;
}

/* Set up and start c (zeroed) on network n: its shims fail after fault_after calls, a
 * stall sleeps stall_ms, lease: every stall hits the primary (struct hw_ch_cluster). */
static int cluster_init(struct hw_ch_cluster *c, struct hw_ch_net *n, unsigned fault_after,
			unsigned stall_ms, bool lease)
{
	c->net = n;
	c->fault_after = fault_after;
	c->stall_ms = stall_ms;
	c->lease = lease;
	char name[32]; /* the run's pid in the name: clean_stale_dirs() */
	snprintf(name, sizeof name, "chaos-%ld", (long)getpid());
	int rc = hw_test_mkdtemp(name, c->root, sizeof c->root);
	for (int i = 0; i < HW_CH_VOTERS; i++)
		c->proc[i].err_fd = c->proc[i].log_fd = -1;
	for (int i = 0; rc == 0 && i < HW_CH_VOTERS; i++)
		rc = addresses(c, i);
	for (int i = 0; rc == 0 && i < HW_CH_VOTERS; i++)
		for (int j = 0; rc == 0 && j < HW_CH_VOTERS; j++)
			if (i != j)
				rc = proxy_up(c, i, j);
	for (int i = 0; rc == 0 && i < HW_CH_VOTERS; i++)
		rc = write_config(c, i);
	/* witness first, then the nodes: p1 wins the first election */
	for (int i = HW_CH_VOTERS - 1; rc == 0 && i >= 0; i--)
		rc = start_voter(c, i);
	size_t from = 0;
	if (rc == 0 && !hw_proc_wait_line(&c->proc[0], &from, "event=became_primary", NULL,
					  START_WAIT_MS, NULL, 0))
		rc = -ETIMEDOUT;
	return rc;
}

static void cluster_free(struct hw_ch_cluster *c, bool remove)
{
	for (int i = 0; i < HW_CH_VOTERS; i++) {
		if (c->stopped[i])
			hw_proc_signal(&c->proc[i], SIGCONT);
		hw_proc_kill(&c->proc[i]);
	}
	for (int i = 0; i < HW_CH_VOTERS; i++)
		for (int j = 0; j < HW_CH_VOTERS; j++)
			hw_proxy_free(c->px[i][j]);
	/* a kept directory keeps its data: copied off the small disk before it goes */
	for (int i = 0; i < HW_CH_NODES; i++) {
		if (c->disk[i][0] == '\0')
			continue;
		if (!remove) {
			char cmd[3 * HW_PROC_PATH_MAX + 64];
			snprintf(cmd, sizeof cmd, "cp -a '%s' '%s.kept'", c->disk[i], c->disk[i]);
			if (system(cmd) != 0)
				fprintf(stderr, "hawser-chaos: could not keep %s\n", c->disk[i]);
		}
		hw_ch_net_untmpfs(c->net, c->disk[i]);
	}
	if (remove) {
		hw_test_rm_rf(c->root);
		return;
	}
	char kept[HW_PROC_PATH_MAX + 8];
	snprintf(kept, sizeof kept, "%s/KEPT", c->root);
	int fd = open(kept, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

/* SIGKILL the processes a dead run left running on dir: their command line names a file
 * in it (a node's --config). */
static void kill_orphans(const char *dir)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t len = strlen(dir);
	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[64], args[4096];
		long pid = strtol(e->d_name, NULL, 10);
		if (pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, args, sizeof args - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0)
			args[n] = '\0';
		for (ssize_t at = 0; at < n; at += (ssize_t)strlen(args + at) + 1) {
			if (strncmp(args + at, dir, len) == 0 && args[at + (ssize_t)len] == '/') {
				kill((pid_t)pid, SIGKILL);
				break;
			}
		}
	}
	if (d != NULL)
		closedir(d);
}

/* Schedule directories ("chaos-<pid>-XXXXXX" in $HW_TEST_TMP) that a run killed before
 * its cleanup left, its pid gone (the rule of its namespaces): the processes still
 * running on one are killed and it is removed, unless kept on purpose (a KEPT file:
 * --keep, or a failing schedule). Returns how many. */
static int clean_stale_dirs(void)
{
	const char *tmp = getenv("HW_TEST_TMP");
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	DIR *d = opendir(tmp);
	struct dirent *e;
	int removed = 0;
	while (d != NULL && (e = readdir(d)) != NULL) {
		long pid = 0;
		int end = 0;
		char path[HW_PROC_PATH_MAX + 16];
		if (sscanf(e->d_name, "chaos-%ld-%*6[A-Za-z0-9]%n", &pid, &end) != 1 || end == 0 ||
		    e->d_name[end] != '\0' || pid <= 0 || pid == (long)getpid() ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof path, "%s/%s/KEPT", tmp, e->d_name);
		if (access(path, F_OK) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
		kill_orphans(path);
		removed += hw_test_rm_rf(path) == 0;
	}
	if (d != NULL)
		closedir(d);
	return removed;
}

/* Read data node i's store head (the node dead, or alive: LMDB takes readers from other
 * processes) as a mark: what a later rejoin must move into quarantine rather than drop
 * (hw_ch_check_quarantine). A store that does not open (a full disk) leaves none. */
static void mark_head(struct hw_ch_cluster *c, int i)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *s;
	struct hw_head h;
	int64_t now = hw_wall_ms();
	if (i >= HW_CH_NODES || c->n_marks[i] == HW_CH_MARKS_MAX ||
	    hw_store_open(c->dir[i], &ro, &s) != 0)
		return;
	if (hw_store_head(s, &h) == 0) {
		struct hw_ch_mark *m = &c->marks[i][c->n_marks[i]++];
		m->wall_ms = now;
		m->lsn = h.lsn;
		memcpy(m->hash, h.hash, HW_HASH_BYTES);
	}
	hw_store_close(s);
}

/* A node's stderr ended while nothing of ours stopped it: it died on its own (an
 * assertion, a fail-stop). Reaped, counted, restarted by the next heal. */
static void crashed(struct hw_ch_cluster *c, int i)
{
	int status = hw_proc_reap(&c->proc[i], STOP_WAIT_MS);
	c->crashes++;
	if (c->crash_what[0] == '\0')
		snprintf(c->crash_what, sizeof c->crash_what, "%s exited with status %d", ids[i],
			 status);
	if (c->n_ends[i] < HW_CH_INCARNATIONS_MAX)
		c->ends[i][c->n_ends[i]++] = hw_wall_ms();
	mark_head(c, i);
	c->stopped[i] = false;
	c->dead[i] = true;
}

/* Read every node's stderr (a full pipe would block a node) for about ms. */
static void pump_for(struct hw_ch_cluster *c, int ms)
{
	int64_t end = hw_wall_ms() + ms;
	do {
		for (int i = 0; i < HW_CH_VOTERS; i++)
			if (c->proc[i].err_fd >= 0 && hw_proc_pump(&c->proc[i], 0) < 0 &&
			    !c->dead[i])
				crashed(c, i);
		hw_sleep_ms(5);
	} while (hw_wall_ms() < end);
}

/* The data node whose log last says became_primary with the highest epoch. */
static int current_primary(struct hw_ch_cluster *c)
{
	int best = 0;
	long long best_e = -1;
	for (int i = 0; i < HW_CH_NODES; i++) {
		const char *log = c->proc[i].log, *up = NULL, *p;
		for (p = log; p != NULL && (p = strstr(p, "event=became_primary")) != NULL; p++)
			up = p;
		if (up == NULL || strstr(up, "event=stepped_down") != NULL ||
		    strstr(up, "event=started") != NULL)
			continue;
		long long epoch = hw_log_field(up, "epoch", 0); /* its line's, no further */
		if (epoch > best_e) {
			best_e = epoch;
			best = i;
		}
	}
	return best;
}

/* ---- faults --------------------------------------------------------------------- */

/* F_FULL comes last: the proxy mode draws from the ones before it (no small disks). */
enum fault {
	F_KILL,
	F_STOP,
	F_PART,
	F_ONEWAY,
	F_DELAY,
	F_CORRUPT,
	F_CUT,
	F_ISO_P,
	F_ISO_W,
	F_STALL,
	F_FSYNC,
	F_WRITE,
	F_FULL,
	F_N
};

/* a's traffic to b goes silent: a blackhole of proxy [a][b] (a's connections to b hear
 * nothing, b's to a still work), or under --net netns an nftables rule in a's host
 * dropping every packet to b (b's connections to a then lose their replies: TCP over a
 * one-way IP partition stalls both ways, first on a's side). */
static void silence(struct hw_ch_cluster *c, int a, int b)
{
	int rc = c->net != NULL ? hw_ch_net_drop(c->net, a, b) : 0;
	if (c->net == NULL)
		hw_proxy_blackhole(c->px[a][b]);
	if (rc != 0 && c->net_rc == 0)
		c->net_rc = rc; /* the schedule ends with an error: its fault did not happen */
}

static void isolate(struct hw_ch_cluster *c, int v)
{
	for (int j = 0; j < HW_CH_VOTERS; j++)
		if (j != v) {
			silence(c, v, j);
			silence(c, j, v);
		}
}

static void kill_voter(struct hw_ch_cluster *c, int v)
{
	int64_t now = hw_wall_ms();
	/* a stopped process acknowledged nothing after it stopped */
	int64_t bound = c->stopped[v] ? c->stop_ms[v] : now;
	if (c->dead[v])
		return; /* crashed by itself: reaped and counted already */
	hw_proc_signal(&c->proc[v], SIGKILL);
	hw_proc_reap(&c->proc[v], STOP_WAIT_MS);
	if (c->n_ends[v] < HW_CH_INCARNATIONS_MAX)
		c->ends[v][c->n_ends[v]++] = bound;
	mark_head(c, v);
	c->stopped[v] = false;
	c->dead[v] = true;
}

/* Fill data node i's disk with a ballast file, to the last block: its next write to
 * its log or its store meets ENOSPC. */
static void fill(struct hw_ch_cluster *c, int i)
{
	static const char zero[65536];
	char path[HW_PROC_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/ballast", c->disk[i]);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	for (size_t chunk = sizeof zero; fd >= 0 && chunk >= 512;)
		if (write(fd, zero, chunk) < 0)
			chunk /= 2;
	if (fd >= 0)
		close(fd);
	c->full[i] = true;
	c->store_mark[i] = hw_proc_mark(&c->proc[i]);
}

/* Arm data node i's shim (chaos/faultfs.c): its next few fsync and fdatasync (sync) or
 * write calls (else) on files of its data dir fail with EIO, and every one after. */
static void disk_error(struct hw_ch_cluster *c, int i, bool sync)
{
	c->eio[i] = true;
	c->store_mark[i] = hw_proc_mark(&c->proc[i]);
	hw_proc_signal(&c->proc[i], sync ? SIGUSR1 : SIGUSR2);
}

/* A storage failure must carry a storage code: the store's, or the errno it met. */
static bool storage_typed(const char *name)
{
	return strncmp(name, "HW_ESTORE_", 10) == 0 || strcmp(name, "ENOSPC") == 0 ||
	       strcmp(name, "EIO") == 0;
}

/* Did data node i report a storage failure since the fault (waiting up to wait_ms for
 * the line)? A typed one counts in store_failed, any other code as untyped. */
static bool storage_failed(struct hw_ch_cluster *c, int i, int wait_ms, const char *fault)
{
	size_t from = c->store_mark[i];
	char line[1024], name[48] = "";
	if (!hw_proc_wait_line(&c->proc[i], &from, "event=storage_failed", NULL, wait_ms, line,
			       sizeof line))
		return false;
	const char *code = strstr(line, "code=");
	if (code != NULL)
		sscanf(code + 5, "%47[A-Z_]", name);
	if (storage_typed(name)) {
		c->store_failed++;
	} else {
		c->store_untyped++;
		if (c->store_what[0] == '\0')
			snprintf(c->store_what, sizeof c->store_what, "%s on %s: code=%s", ids[i],
				 fault, name);
	}
	return true;
}

/* The disk gets its room back. A node that stopped on the full disk (it must say so
 * with a typed code) is restarted from its disk: that is the operator's step after a
 * storage failure (it does not resume). */
static void unfill(struct hw_ch_cluster *c, int i)
{
	char path[HW_PROC_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/ballast", c->disk[i]);
	unlink(path);
	c->full[i] = false;
	if (!c->dead[i] && storage_failed(c, i, 0, "a full disk"))
		kill_voter(c, i);
}

/* The disk error heals with the incarnation: a node whose call failed must have said so
 * (storage_failed, typed) and stopped acknowledging; every armed node is killed, so the
 * heal restarts it clean from its disk (log replay) and the schedule's settle proves it
 * caught up. An armed node that met no write or fsync in the fault's time is killed
 * too: its shim would fire later, outside any fault. */
static void unfault(struct hw_ch_cluster *c, int i)
{
	c->eio[i] = false;
	if (c->dead[i])
		return; /* crashed by itself: counted in crashes */
	size_t from = c->store_mark[i];
	if (hw_proc_wait_line(&c->proc[i], &from, "event=fault_injected", NULL, 0, NULL, 0) &&
	    !storage_failed(c, i, STORE_WAIT_MS, "an EIO")) {
		c->store_untyped++;
		if (c->store_what[0] == '\0')
			snprintf(c->store_what, sizeof c->store_what,
				 "%s met an injected EIO and logged no storage_failed", ids[i]);
	}
	kill_voter(c, i);
}

/* Apply one fault; *what gets its description. */
static void apply(struct hw_ch_cluster *c, uint64_t *rs, enum fault f, char *what, size_t cap)
{
	int a = (int)rnd_below(rs, HW_CH_VOTERS);
	int b = (a + 1 + (int)rnd_below(rs, HW_CH_VOTERS - 1)) % HW_CH_VOTERS;
	switch (f) {
	case F_KILL:
		kill_voter(c, a);
		snprintf(what, cap, "kill %s", ids[a]);
		break;
	case F_STOP:
		hw_proc_signal(&c->proc[a], SIGSTOP);
		c->stopped[a] = true;
		c->stop_ms[a] = hw_wall_ms();
		snprintf(what, cap, "stop %s", ids[a]);
		break;
	case F_PART:
		silence(c, a, b);
		silence(c, b, a);
		snprintf(what, cap, "partition %s-%s", ids[a], ids[b]);
		break;
	case F_ONEWAY:
		silence(c, a, b);
		snprintf(what, cap, "oneway %s->%s", ids[a], ids[b]);
		break;
	case F_DELAY: {
		int ms = 20 + (int)rnd_below(rs, 480);
		hw_proxy_delay(c->px[a][b], ms);
		hw_proxy_delay(c->px[b][a], ms);
		snprintf(what, cap, "delay %s-%s %dms", ids[a], ids[b], ms);
		break;
	}
	case F_CORRUPT: {
		enum hw_proxy_dir d = rnd_below(rs, 2) ? HW_PROXY_DOWN : HW_PROXY_UP;
		hw_proxy_corrupt(c->px[a][b], d, rnd_below(rs, 8192));
		snprintf(what, cap, "corrupt %s->%s %s", ids[a], ids[b], d ? "down" : "up");
		break;
	}
	case F_CUT:
		hw_proxy_cut(c->px[a][b]);
		hw_proxy_cut(c->px[b][a]);
		snprintf(what, cap, "cut %s-%s", ids[a], ids[b]);
		break;
	case F_ISO_P:
		a = current_primary(c);
		isolate(c, a);
		snprintf(what, cap, "isolate %s (primary)", ids[a]);
		break;
	case F_ISO_W:
		isolate(c, 3);
		snprintf(what, cap, "isolate w1 (witness)");
		break;
	case F_STALL:
		a = rnd_below(rs, 2) || c->lease ? current_primary(c) : a % HW_CH_NODES;
		hw_proc_signal(&c->proc[a], SIGWINCH);
		snprintf(what, cap, "stall %s %ums", ids[a], c->stall_ms);
		break;
	case F_FSYNC:
	case F_WRITE:
		/* the primary in half of them: its log is the one acknowledgements wait on */
		a = rnd_below(rs, 2) ? current_primary(c) : a % HW_CH_NODES;
		disk_error(c, a, f == F_FSYNC);
		snprintf(what, cap, "%s error %s", f == F_FSYNC ? "fsync" : "write", ids[a]);
		break;
	default:
		a %= HW_CH_NODES;
		fill(c, a);
		snprintf(what, cap, "disk full %s", ids[a]);
		break;
	}
}

/* Lift every fault: proxies pass, stopped processes continue, dead ones restart. */
static int heal(struct hw_ch_cluster *c)
{
	for (int i = 0; i < HW_CH_NODES; i++)
		if (!c->dead[i])
			mark_head(c, i); /* an isolated old primary's suffix, before it rejoins */
	int rc = c->net != NULL ? hw_ch_net_heal(c->net) : 0;
	for (int i = 0; i < HW_CH_VOTERS; i++)
		for (int j = 0; j < HW_CH_VOTERS; j++)
			if (c->px[i][j] != NULL)
				hw_proxy_pass(c->px[i][j]);
	for (int i = 0; i < HW_CH_NODES; i++) {
		if (c->full[i])
			unfill(c, i);
		if (c->eio[i])
			unfault(c, i);
	}
	for (int i = 0; i < HW_CH_VOTERS; i++) {
		if (c->stopped[i]) {
			hw_proc_signal(&c->proc[i], SIGCONT);
			c->stopped[i] = false;
		}
		if (c->dead[i] && rc == 0) {
			rc = start_voter(c, i);
			c->dead[i] = false;
		}
	}
	return rc;
}

/* The schedule: one fault at a time, held 0.3-3 s, then healed, 0.2-1.5 s apart. */
static int run_faults(struct hw_ch_cluster *c, uint64_t *rs, int64_t until, unsigned *n,
		      const struct opts *o)
{
	int rc = 0;
	*n = 0;
	pump_for(c, 500 + (int)rnd_below(rs, 1000));
	while (rc == 0 && hw_wall_ms() < until) {
		char what[96];
		unsigned f = rnd_below(rs, c->net != NULL ? F_N : F_FULL);
		apply(c, rs, o->lease ? F_STALL : (enum fault)f, what, sizeof what);
		(*n)++;
		if (o->verbose)
			fprintf(stderr, "hawser-chaos:   +%s\n", what);
		pump_for(c, 300 + (int)rnd_below(rs, 2700));
		rc = heal(c);
		if (rc == 0)
			rc = c->net_rc;
		pump_for(c, 200 + (int)rnd_below(rs, 1300));
	}
	return rc;
}

/* Wait until one data node is primary and both others are standbys durable at its last
 * LSN, with the load done. The primary's index, or -1 past the bound. */
static int settle(struct hw_ch_cluster *c, struct hw_ch_load *l, int bound_ms, int64_t *settle_ms)
{
	int64_t t0 = hw_wall_ms(), end = t0 + bound_ms;
	while (hw_wall_ms() < end) {
		pump_for(c, 200);
		if (!atomic_load(&l->finished))
			continue;
		struct hw_tstatus st[HW_CH_NODES];
		int primary = -1, primaries = 0;
		bool ok = true;
		for (int i = 0; i < HW_CH_NODES && ok; i++) {
			struct hw_tnode n = {0};
			snprintf(n.client, sizeof n.client, "%s", c->client[i]);
			ok = hw_tnode_status(&n, &st[i]) == 0;
			if (ok && st[i].role == 1) {
				primary = i;
				primaries++;
			}
		}
		if (!ok || primaries != 1) {
			memset(c->caught_up, 0, sizeof c->caught_up);
			continue;
		}
		/* caught up: durable at the primary's last LSN by its own report, and the
		 * primary streams to that many standbys at it (a standby with a diverged log
		 * of the same length is not following) */
		const struct hw_tstatus *ps = &st[primary];
		unsigned streamed = 0, level = 0;
		for (size_t k = 0; k < ps->n_peers; k++)
			streamed += ps->peer_connected[k] && ps->peer_durable[k] >= ps->last_lsn;
		for (int i = 0; i < HW_CH_NODES; i++) {
			c->caught_up[i] = i != primary && st[i].durable_lsn >= ps->last_lsn;
			level += c->caught_up[i];
		}
		if (level == 2 && streamed >= 2) {
			*settle_ms = hw_wall_ms() - t0;
			return primary;
		}
	}
	/* not settled: no standby counts as caught up (its log may be another branch) */
	memset(c->caught_up, 0, sizeof c->caught_up);
	*settle_ms = hw_wall_ms() - t0;
	return -1;
}

static void stop_all(struct hw_ch_cluster *c)
{
	for (int i = 0; i < HW_CH_VOTERS; i++) {
		if (c->proc[i].pid <= 0)
			continue;
		if (c->stopped[i])
			hw_proc_signal(&c->proc[i], SIGCONT);
		c->stopped[i] = false;
		if (c->n_ends[i] < HW_CH_INCARNATIONS_MAX)
			c->ends[i][c->n_ends[i]++] = hw_wall_ms();
		hw_proc_stop(&c->proc[i], STOP_WAIT_MS);
	}
}

/* ---- one schedule ----------------------------------------------------------------- */

static int schedule(const struct opts *o, uint64_t seed, struct hw_ch_result *r)
{
	struct hw_ch_cluster *c = calloc(1, sizeof *c);
	struct hw_ch_load *l = calloc(1, sizeof *l);
	if (c == NULL || l == NULL) {
		free(c);
		free(l);
		return HW_ENOMEM;
	}
	uint64_t rs = seed;
	struct hw_ch_net *n = o->netns ? &net : NULL;
	unsigned after = rnd_below(&rs, FAULT_AFTER_MAX);
	/* a stall past the lease and the election (about 1.5 s here) fails the node over */
	unsigned stall = o->lease ? 1500 + rnd_below(&rs, 1500) : 300 + rnd_below(&rs, 2700);
	int rc = cluster_init(c, n, after, stall, o->lease);
	/* A cluster that could not start (a port the kernel handed to another socket in the
	 * meantime: EADDRINUSE in a node's log) is set up again, once: that is the test
	 * rig's race, not a fault under test. */
	if (rc != 0) {
		cluster_free(c, true);
		memset(c, 0, sizeof *c);
		rc = cluster_init(c, n, after, stall, o->lease);
	}
	if (rc == 0)
		rc = load_init(l, c, (uint64_t)o->rate * o->seconds, seed);
	unsigned faults = 0;
	int64_t settle_ms = 0;
	int primary = -1;
	if (rc == 0) {
		l->rate = o->rate;
		l->local_all = o->lease;
		l->t0_ms = hw_wall_ms();
		l->submit_until_ms = l->t0_ms + (int64_t)o->seconds * 1000;
		l->end_ms = l->submit_until_ms + o->settle_ms;
		rc = pthread_create(&l->thread, NULL, hw_ch_load_thread, l) == 0 ? 0 : -EAGAIN;
	}
	if (rc == 0) {
		rc = run_faults(c, &rs, l->submit_until_ms, &faults, o);
		if (rc == 0)
			rc = heal(c);
		primary = settle(c, l, o->settle_ms, &settle_ms);
		atomic_store(&l->stop, true);
		pthread_join(l->thread, NULL);
		stop_all(c);
		r->faults = faults;
		r->settle_ms = settle_ms;
		r->settled = primary >= 0;
		r->crashes = c->crashes;
		snprintf(r->crash_what, sizeof r->crash_what, "%s", c->crash_what);
		r->store_failed = c->store_failed;
		r->untyped += c->store_untyped;
		snprintf(r->first, sizeof r->first, "%s", c->store_what);
		if (rc == 0)
			rc = hw_ch_check(c, l, primary, r);
	}
	bool keep = o->keep || rc != 0 || hw_ch_failed(r);
	snprintf(r->root, sizeof r->root, "%s", keep ? c->root : "-");
	cluster_free(c, !keep);
	load_free(l);
	free(c);
	free(l);
	return rc;
}

void *hw_ch_load_thread(void *arg)
{
	struct hw_ch_load *l = arg;
	load_main(l);
	atomic_store(&l->finished, true);
	return NULL;
}

/* $HW_BIN, else the hawser binary next to this one. */
static void find_bin(void)
{
	if (getenv("HW_BIN") != NULL)
		return;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
	if (n <= 0)
		return;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash == NULL)
		return;
	strcpy(slash + 1, "hawser");
	setenv("HW_BIN", self, 1);
}

/* --net netns: this run's hosts, with what dead runs left removed first; the main
 * thread then lives in the client's host. 0, or 77 (the ctest skip code) with the
 * reason printed when namespaces cannot be made here (not root, no ip or nft). */
static int net_up(void)
{
	int stale = hw_ch_net_clean_stale();
	if (stale > 0)
		fprintf(stderr, "hawser-chaos: removed %d namespaces of dead runs\n", stale);
	char why[512] = "";
	int rc = hw_ch_net_up(&net, why, sizeof why);
	if (rc == 0)
		rc = hw_ch_net_enter(&net, HW_CH_NET_CLIENT);
	if (rc != 0) {
		hw_ch_net_down(&net);
		printf("hawser-chaos: SKIPPED: --net netns needs network namespaces and nftables "
		       "(root, iproute2, nft): %s (%s)\n",
		       why[0] != '\0' ? why : "setns failed", hw_errname(rc));
		return 77;
	}
	hw_ch_net_on_signal(&net, live_pids, HW_CH_VOTERS);
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.schedules = 1,
			   .seconds = 10,
			   .seed = (uint64_t)time(NULL),
			   .rate = 300,
			   .settle_ms = 20000};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--keep") == 0) {
			o->keep = true;
		} else if (strcmp(a, "--lease") == 0) {
			o->lease = true;
		} else if (strcmp(a, "--until-fail") == 0) {
			o->until_fail = true;
		} else if (strcmp(a, "-v") == 0) {
			o->verbose = true;
		} else if (v != NULL && strcmp(a, "--schedules") == 0) {
			o->schedules = (unsigned)strtoul(v, NULL, 10), i++;
		} else if (v != NULL && strcmp(a, "--seconds") == 0) {
			o->seconds = (unsigned)strtoul(v, NULL, 10), i++;
		} else if (v != NULL && strcmp(a, "--seed") == 0) {
			o->seed = strtoull(v, NULL, 10), i++;
		} else if (v != NULL && strcmp(a, "--settle-ms") == 0) {
			o->settle_ms = atoi(v), i++;
		} else if (v != NULL && strcmp(a, "--rate") == 0) {
			o->rate = (unsigned)strtoul(v, NULL, 10), i++;
		} else if (v != NULL && strcmp(a, "--net") == 0 &&
			   (strcmp(v, "netns") == 0 || strcmp(v, "proxy") == 0)) {
			o->netns = strcmp(v, "netns") == 0, i++;
		} else {
			fprintf(stderr,
				"usage: hawser-chaos [--schedules N] [--seconds S] [--seed X] "
				"[--rate R] [--settle-ms MS] [--net proxy|netns] [--lease] "
				"[--until-fail] [--keep] [-v]\n");
			return -EINVAL;
		}
	}
	if (o->schedules == 0 || o->seconds == 0 || o->rate == 0 || o->rate > 5000 ||
	    o->settle_ms < 1000)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	find_bin();
	if (hw_test_bin() == NULL) {
		fprintf(stderr, "hawser-chaos: no hawser binary (set HW_BIN)\n");
		return 2;
	}
	if (faults_init() != 0) {
		fprintf(stderr,
			"hawser-chaos: no fault shim %s (cmake --build build --target "
			"hawser-faults, or set HW_FAULTS_LIB)\n",
			faults_lib);
		return 2;
	}
	if (o.netns) {
		int rc = net_up();
		if (rc != 0)
			return rc;
	}
	int stale = clean_stale_dirs();
	if (stale > 0)
		fprintf(stderr, "hawser-chaos: removed %d directories of dead runs\n", stale);
	printf("hawser-chaos: seed=%" PRIu64 " schedules=%u seconds=%u rate=%u net=%s%s\n", o.seed,
	       o.schedules, o.seconds, o.rate, o.netns ? "netns" : "proxy",
	       o.lease ? " lease" : "");
	fflush(stdout);
	uint64_t acked = 0, lost = 0, overlapping = 0, untyped = 0, diverged = 0, crashes = 0,
		 errors = 0, unsettled = 0, store_failed = 0, quarantined = 0, qmissing = 0;
	unsigned ran = 0, failed = 0; /* schedules with an error or a FAIL: the exit status */
	for (unsigned s = 0; s < o.schedules; s++) {
		uint64_t seed = o.seed + s;
		struct hw_ch_result r = {0};
		int rc = schedule(&o, seed, &r);
		hw_ch_print(seed, rc, &r);
		fflush(stdout);
		acked += r.acked;
		lost += r.lost;
		overlapping += r.overlapping;
		untyped += r.untyped;
		diverged += r.diverged;
		crashes += r.crashes;
		errors += rc != 0;
		unsettled += rc == 0 && !r.settled;
		store_failed += r.store_failed;
		quarantined += r.quarantined;
		qmissing += r.quarantine_missing;
		failed += rc != 0 || hw_ch_failed(&r);
		ran++;
		/* how fast a broken engine is caught: schedules until the first broken promise
		 * of safety (a schedule that only did not settle runs on) */
		if (o.until_fail && (rc != 0 || hw_ch_unsafe(&r)))
			break;
	}
	if (o.netns)
		hw_ch_net_down(&net);
	printf("schedules=%u acked=%" PRIu64 " lost=%" PRIu64 " overlapping_primaries=%" PRIu64
	       " untyped=%" PRIu64 " diverged=%" PRIu64 " crashes=%" PRIu64 " errors=%" PRIu64
	       " unsettled=%" PRIu64 " store_failed=%" PRIu64 " quarantined=%" PRIu64
	       " quarantine_missing=%" PRIu64 "\n",
	       ran, acked, lost, overlapping, untyped, diverged, crashes, errors, unsettled,
	       store_failed, quarantined, qmissing);
	return failed > 0 ? 1 : 0;
}
