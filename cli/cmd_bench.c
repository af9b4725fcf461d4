/* cmd_bench.c: `hawser bench`: start a local cluster of real nodes (bench/cluster.h), drive
 * its primary through the client port from C connections with W submits outstanding each
 * (closed loop, as pgbench drives PostgreSQL), then check that every acknowledged record is
 * on every standby with the same bytes and that the state digests agree at the LSN both
 * stores have.
 *
 * Each connection is one lane of the workload (bench/workload.h): its own generator, whose
 * containers, yard blocks, ids and keys no other lane touches, sent strictly in order, as
 * a TOS's gate lanes, cranes and EDI feeds are each a serial stream. The node handles one
 * connection's submits in arrival order, so a lane's causal order holds with W > 1 too,
 * and lanes need no coordination: what is measured is the engine, not a scheduler.
 *
 * DESIGN.md "Benchmarks are fair": clients connect over TCP like a TOS; every figure
 * carries its machine, record size, client count and mode. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/clock.h"
#include "bench/cluster.h"
#include "bench/workload.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "engine/client_int.h"
#include "engine/core/repl.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "wire.pb-c.h"

/* Driver threads: the bench shares the machine with the nodes it measures (2 cores
 * here), so a few threads each polling many connections, not one thread per client. */
#define THREADS_MAX 4u
/* One lane per connection; the node serves up to 1024 sessions, far above this. */
#define CLIENTS_MAX HW_WORKLOAD_LANES_MAX
#define WINDOW_MAX  4096u
_Static_assert(WINDOW_MAX <= HW_CLIENT_INFLIGHT_MAX, "a lane's client takes its whole window");
/* A thread with submits outstanding and no outcome for this long: the cluster is stuck,
 * not slow (a durable round trip is a few ms here). The only timeout the load uses. */
#define STUCK_MS     10000
/* A lane whose client searches for a new primary has no socket to poll: its search goes
 * on (one round over the nodes per hw_client_wait) this often. */
#define SEARCH_STEP_MS 50
/* A node that stopped (its process stopped, its loop stuck) never makes a socket
 * readable: every lane is looked at (hw_client_wait(c, 0), where the client tells a node
 * by its silence, include/hawser.h) at least this often, so that it follows. */
#define QUIET_STEP_MS 500
#define SYNC_WAIT_MS 30000
/* A status look before and after the load: a node answers at once unless it is stuck. */
#define STATUS_WAIT_MS 5000
/* Unexpected outcomes described on stderr: enough to debug, not a flood. */
#define SHOWN_MAX 5
/* Physical limit probes: loopback round trips and 256-byte flushes, medians. */
#define RTT_ROUNDS   1000
#define FSYNC_ROUNDS 50

struct bench_opts {
	unsigned standbys, clients, window;
	bool standbys_given;
	uint64_t records, seed;
	uint64_t k;
	const char *profile;
	int mode; /* enum hw_mode; -1: default */
	const char *connect;
	bool keep, json;
	bool catchup; /* standbys down during the load, then timed catching up */
	struct hw_client_security sec; /* --connect: its channel; else only --insecure */
};

/* One lane's records, generated before the clock starts and never mutated after. */
struct corpus {
	uint8_t *data;
	size_t *off;
	uint32_t *len;
	int *expect;
	uint64_t count;
	uint64_t bytes;
};

/* One client connection and its lane. Only the thread that owns the connection touches
 * it during the load; the results are read after the threads are joined. The request id
 * of a submit is the record's index in the lane. */
struct lane {
	struct corpus cp;
	uint64_t *sent_ns;
	uint64_t *lat_ns;    /* 0: no outcome */
	uint64_t *acked_lsn; /* 0: not acknowledged */
	struct hw_client *cl;
	uint64_t next; /* index of the next record to send */
	unsigned outstanding;
	bool stopped; /* a submit failed: it sends no more, its outcomes still come */
	bool dead;    /* its client reported the loss, or no outcome came: it takes no more */
};

struct bench {
	const struct bench_opts *o;
	struct lane *lanes; /* o->clients of them */
	uint64_t count;     /* records over all lanes */
	uint64_t bytes;
	enum hw_durability mode;
	const struct hw_client_security *sec; /* how the lanes connect */
	atomic_uint shown; /* lines of unexpected outcomes printed */
};

/* A driver thread: connections first, first + step, ... */
struct worker {
	struct bench *b;
	pthread_t tid;
	unsigned first, step;
	uint64_t acked, rejected;
	uint64_t unknown;     /* outcomes of no submit outstanding (tally) */
	uint64_t progress_ns; /* when this thread last got an outcome (or started) */
	int rc;
};

/* ---------------------------------------------------------------- options */

static int small_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t x;
	if (hw_cli_u64(v, &x) || x < lo || x > hi)
		return -1;
	*out = (unsigned)x;
	return 0;
}

static int bench_opt_cb(void *arg, int key, const char *v)
{
	struct bench_opts *o = arg;
	if (hw_cli_security_opt(&o->sec, key, v))
		return 0;
	switch (key) {
	case 'S':
		/* The primary's core wants at least one standby (engine/core/repl.h). */
		o->standbys_given = true;
		return small_uint(v, 1, HW_PEERS_MAX, &o->standbys);
	case 'C':
		return small_uint(v, 1, CLIENTS_MAX, &o->clients);
	case 'w':
		return small_uint(v, 1, WINDOW_MAX, &o->window);
	case 'n':
		return hw_cli_u64(v, &o->records) || o->records == 0 ? -1 : 0;
	case 'p':
		o->profile = v;
		return hw_workload_profile_known(v) ? 0 : -1;
	case 'm':
		o->mode = hw_mode_parse(v);
		return o->mode < 0 ? -1 : 0;
	case 'k':
		return hw_cli_u64(v, &o->k) || o->k > HW_PEERS_MAX ? -1 : 0;
	case 's':
		return hw_cli_u64(v, &o->seed);
	case 'c':
		o->connect = v;
		return hw_cli_addrs(v);
	case 'K':
		o->keep = true;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 'U':
		o->catchup = true;
		return 0;
	}
	return -1;
}

static const struct option bench_longopts[] = {
	{"standbys", required_argument, NULL, 'S'}, {"clients", required_argument, NULL, 'C'},
	{"window", required_argument, NULL, 'w'},   {"records", required_argument, NULL, 'n'},
	{"profile", required_argument, NULL, 'p'},  {"mode", required_argument, NULL, 'm'},
	{"k", required_argument, NULL, 'k'},        {"seed", required_argument, NULL, 's'},
	{"connect", required_argument, NULL, 'c'},  {"keep", no_argument, NULL, 'K'},
	{"json", no_argument, NULL, 'j'},           {"catchup", no_argument, NULL, 'U'},
	HW_CLI_SECURITY_OPTIONS,
	{0},
};

/* ---------------------------------------------------------------- records */

/* Generate count records of lane index + 1 (seed + index) into cp. */
static int corpus_make(const struct bench_opts *o, unsigned index, uint64_t count, int64_t end_ms,
		       struct corpus *cp)
{
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	struct hw_workload_opts wo = {.profile = o->profile,
				      .seed = o->seed + index,
				      .count = count,
				      .end_ms = end_ms,
				      .lane = index + 1};
	struct hw_workload *w;
	int rc = hw_workload_new(&wo, &w);
	if (rc)
		return rc;
	size_t cap = (size_t)count * 512u + 1;
	uint64_t n = count ? count : 1;
	cp->data = malloc(cap);
	cp->off = calloc(n, sizeof(*cp->off));
	cp->len = calloc(n, sizeof(*cp->len));
	cp->expect = calloc(n, sizeof(*cp->expect));
	rc = cp->data && cp->off && cp->len && cp->expect ? 0 : HW_ENOMEM;
	for (uint64_t i = 0; rc == 0 && i < count; i++) {
		struct hw_work_item it;
		rc = hw_workload_next(w, buf, sizeof(buf), &it);
		if (rc)
			break;
		if (cp->bytes + it.len > cap) {
			size_t ncap = cap * 2 + it.len;
			uint8_t *nd = realloc(cp->data, ncap);
			if (!nd) {
				rc = HW_ENOMEM;
				break;
			}
			cp->data = nd;
			cap = ncap;
		}
		memcpy(cp->data + cp->bytes, buf, it.len);
		cp->off[i] = cp->bytes;
		cp->len[i] = (uint32_t)it.len;
		cp->expect[i] = it.expect;
		cp->bytes += it.len;
		cp->count++;
	}
	hw_workload_free(w);
	return rc;
}

/* Every lane's records and result slots: R / C records each, the first R % C lanes one
 * more. All lanes share one ingest clock, so their event times end together. */
static int lanes_make(struct bench *b)
{
	const struct bench_opts *o = b->o;
	int64_t end_ms = hw_wall_ms();
	b->lanes = calloc(o->clients, sizeof(*b->lanes));
	if (!b->lanes)
		return HW_ENOMEM;
	for (unsigned i = 0; i < o->clients; i++) {
		struct lane *ln = &b->lanes[i];
		uint64_t share = o->records / o->clients + (i < o->records % o->clients);
		int rc = corpus_make(o, i, share, end_ms, &ln->cp);
		if (rc)
			return rc;
		ln->sent_ns = calloc(share ? share : 1, sizeof(uint64_t));
		ln->lat_ns = calloc(share ? share : 1, sizeof(uint64_t));
		ln->acked_lsn = calloc(share ? share : 1, sizeof(uint64_t));
		if (!ln->sent_ns || !ln->lat_ns || !ln->acked_lsn)
			return HW_ENOMEM;
		b->count += ln->cp.count;
		b->bytes += ln->cp.bytes;
	}
	return 0;
}

static void lanes_free(struct bench *b)
{
	for (unsigned i = 0; b->lanes && i < b->o->clients; i++) {
		struct lane *ln = &b->lanes[i];
		hw_client_close(ln->cl);
		free(ln->cp.data);
		free(ln->cp.off);
		free(ln->cp.len);
		free(ln->cp.expect);
		free(ln->sent_ns);
		free(ln->lat_ns);
		free(ln->acked_lsn);
	}
	free(b->lanes);
}

/* ---------------------------------------------------------------- load */

/* Connection j failed: what it had in flight has an unknown fate and what it had not
 * sent is never sent; both count as errors. The lane takes no more. */
static void lane_fail(struct worker *wk, unsigned j, int rc)
{
	struct bench *b = wk->b;
	struct lane *ln = &b->lanes[j];
	if (wk->rc == 0)
		wk->rc = rc;
	if (atomic_fetch_add(&b->shown, 1) < SHOWN_MAX)
		fprintf(stderr,
			"hawser bench: connection %u lost: %s (%s), %u submits without an "
			"outcome, %" PRIu64 " not sent\n",
			j, hw_strerror(rc), hw_errname(rc), ln->outstanding,
			ln->cp.count - ln->next);
	ln->dead = true;
}

/* A submit (or the write of the held ones) on connection j failed: the lane sends no
 * more, but what it sent before is counted by its outcome, which the client may hold
 * already: a submit waiting to be written takes in what the node sends, and a lost
 * connection's outcomes come before the loss (include/hawser.h). So its waits go on
 * (drain) until every outcome is in or the client reports the loss (lane_fail). */
static void lane_stop(struct worker *wk, unsigned j, int rc)
{
	if (wk->rc == 0)
		wk->rc = rc;
	wk->b->lanes[j].stopped = true;
}

/* Send lane j's next records, in order, until W are outstanding. */
static void send_ready(struct worker *wk, unsigned j)
{
	struct bench *b = wk->b;
	struct lane *ln = &b->lanes[j];
	if (ln->dead || ln->stopped)
		return;
	hw_client_hold(ln->cl); /* what the window has room for goes out in one write */
	int rc = 0;
	while (rc == 0 && ln->outstanding < b->o->window && ln->next < ln->cp.count) {
		uint64_t i = ln->next;
		ln->sent_ns[i] = hw_mono_ns();
		rc = hw_client_submit(ln->cl, i, ln->cp.data + ln->cp.off[i], ln->cp.len[i],
				      b->mode, (unsigned)b->o->k);
		ln->next += rc == 0;
		ln->outstanding += rc == 0;
	}
	rc = rc ? rc : hw_client_flush(ln->cl);
	if (rc)
		lane_stop(wk, j, rc);
}

/* Record an outcome on lane j. One of no outstanding submit says nothing of the lane's
 * records: counted as unknown and said, and the lane goes on. */
static void tally(struct worker *wk, unsigned j, const struct hw_outcome *oc, uint64_t t)
{
	struct bench *b = wk->b;
	struct lane *ln = &b->lanes[j];
	uint64_t i = oc->request_id;
	if (i >= ln->next || ln->lat_ns[i] != 0 || ln->outstanding == 0) {
		wk->unknown++;
		if (atomic_fetch_add(&b->shown, 1) < SHOWN_MAX)
			fprintf(stderr,
				"hawser bench: lane %u: outcome %s for request %" PRIu64
				", which is not outstanding: counted as unknown\n",
				j + 1, hw_errname(oc->code), i);
		return;
	}
	ln->outstanding--;
	ln->lat_ns[i] = t > ln->sent_ns[i] ? t - ln->sent_ns[i] : 1;
	wk->progress_ns = t;
	if (oc->code == 0) {
		ln->acked_lsn[i] = oc->lsn;
		wk->acked++;
	} else if (oc->code == ln->cp.expect[i] && hw_is_reject(oc->code)) {
		wk->rejected++;
	} else if (atomic_fetch_add(&b->shown, 1) < SHOWN_MAX) {
		char why[HW_CLI_REJECT_CHARS];
		fprintf(stderr, "hawser bench: lane %u record %" PRIu64 ": %s (%s) %s\n", j + 1, i,
			hw_strerror(oc->code), hw_errname(oc->code),
			hw_cli_reject_shown(&oc->reject, why, sizeof why));
	}
}

/* Take every outcome buffered or readable on connection j. */
static void drain(struct worker *wk, unsigned j)
{
	struct lane *ln = &wk->b->lanes[j];
	while (!ln->dead) {
		struct hw_outcome oc;
		int rc = hw_client_wait(ln->cl, 0, &oc);
		if (rc == -ETIMEDOUT)
			break;
		if (rc == 0)
			tally(wk, j, &oc, hw_mono_ns());
		else
			lane_fail(wk, j, rc);
	}
}

/* Milliseconds until this thread counts as stuck; <= 0 once it is. */
static int stuck_left_ms(const struct worker *wk)
{
	int64_t left = (int64_t)(wk->progress_ns + (uint64_t)STUCK_MS * 1000000u - hw_mono_ns());
	return left <= 0 ? 0 : (int)(left / 1000000 + 1);
}

/* Block in poll() until a connection has outcomes, take them, refill that lane's window.
 * Done when every lane of this thread has sent everything and heard back, or failed. */
static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	pthread_setname_np(pthread_self(), "hw-bench"); /* top -H, perf */
	struct bench *b = wk->b;
	struct pollfd pfd[CLIENTS_MAX];
	unsigned idx[CLIENTS_MAX];
	for (unsigned j = wk->first; j < b->o->clients; j += wk->step)
		send_ready(wk, j);
	for (;;) {
		unsigned n = 0;
		bool searching = false, ready = false;
		for (unsigned j = wk->first; j < b->o->clients; j += wk->step) {
			struct lane *ln = &b->lanes[j];
			/* refilled after every outcome: idle means all sent, or stopped */
			HW_ASSERT(ln->dead || ln->stopped || ln->outstanding > 0 ||
				  ln->next == ln->cp.count);
			if (ln->dead || ln->outstanding == 0)
				continue;
			/* outcomes its submits took while they waited to be written: at once */
			bool now = hw_client_ready(ln->cl);
			pfd[n] = (struct pollfd){.fd = now ? -1 : hw_client_fd(ln->cl),
						 .events = POLLIN};
			ready |= now;
			searching |= pfd[n].fd < 0; /* poll skips it */
			idx[n++] = j;
		}
		if (n == 0)
			return NULL;
		int left = stuck_left_ms(wk);
		int cap = ready ? 0 : searching ? SEARCH_STEP_MS : QUIET_STEP_MS;
		int got = left > 0 ? poll(pfd, n, left < cap ? left : cap) : 0;
		if (got < 0 && errno == EINTR)
			continue;
		bool stuck = got < 0 || (got == 0 && !ready && stuck_left_ms(wk) == 0);
		for (unsigned k = 0; stuck && k < n; k++)
			lane_fail(wk, idx[k], got < 0 ? -errno : -ETIMEDOUT);
		for (unsigned k = 0; !stuck && k < n; k++) {
			if (pfd[k].revents || pfd[k].fd < 0 || got == 0) {
				drain(wk, idx[k]);
				send_ready(wk, idx[k]);
			}
		}
	}
}

/* What the load measured, merged over the workers. */
struct load_result {
	uint64_t acked, rejected, errors;
	uint64_t unknown; /* outcomes of no outstanding submit: not among the records' */
	uint64_t max_lsn;
	double seconds;
	uint64_t p50_us, p99_us, p999_us, max_us;
	/* the primary's own account of the load (status SubmitTimes), mean us a record */
	bool stages_known;
	double queued_us, store_us, durability_us;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Percentiles of the latencies that got an outcome, over all lanes (sorts a copy). */
static int percentiles(const struct bench *b, struct load_result *lr)
{
	uint64_t n = 0, *v = malloc(b->count * sizeof(*v) + 1);
	if (!v)
		return HW_ENOMEM;
	for (unsigned j = 0; j < b->o->clients; j++) {
		const struct lane *ln = &b->lanes[j];
		for (uint64_t i = 0; i < ln->cp.count; i++) {
			if (ln->lat_ns[i])
				v[n++] = ln->lat_ns[i];
			if (ln->acked_lsn[i] > lr->max_lsn)
				lr->max_lsn = ln->acked_lsn[i];
		}
	}
	if (n > 0) {
		qsort(v, n, sizeof(*v), cmp_u64);
		lr->p50_us = v[(n - 1) * 50 / 100] / 1000;
		lr->p99_us = v[(n - 1) * 99 / 100] / 1000;
		lr->p999_us = v[(n - 1) * 999 / 1000] / 1000;
		lr->max_us = v[n - 1] / 1000;
	}
	free(v);
	return 0;
}

static int connect_all(struct bench *b, const char *addr)
{
	for (unsigned j = 0; j < b->o->clients; j++) {
		int rc = hw_client_connect_secure(addr, b->sec, &b->lanes[j].cl);
		if (rc)
			return rc;
	}
	return 0;
}

/* The primary's submit times since it started (NULL: unknown; free with free_unpacked). */
static Hawser__Wire__V1__Status *primary_times(const struct bench *b, const char *addr)
{
	Hawser__Wire__V1__Status *st = NULL;
	if (hw_cluster_status_at(addr, b->sec, STATUS_WAIT_MS, &st) == 0 &&
	    st->submit_since_start == NULL) {
		hawser__wire__v1__status__free_unpacked(st, NULL);
		st = NULL;
	}
	return st;
}

/* The mean of a stage between two looks at running means: a over na records, then b
 * over nb. */
static double mean_between(double a, uint64_t na, double b, uint64_t nb)
{
	return nb > na ? (b * (double)nb - a * (double)na) / (double)(nb - na) : 0;
}

/* Fill lr's stage times from the primary's totals before (s0) and after (s1) the load. */
static void stages_between(const Hawser__Wire__V1__Status *s0, const Hawser__Wire__V1__Status *s1,
			   struct load_result *lr)
{
	if (s0 == NULL || s1 == NULL)
		return;
	const Hawser__Wire__V1__SubmitTimes *t0 = s0->submit_since_start;
	const Hawser__Wire__V1__SubmitTimes *t1 = s1->submit_since_start;
	lr->stages_known = t1->stored > t0->stored && t1->answered > t0->answered;
	lr->queued_us = mean_between(t0->queued_us, t0->stored, t1->queued_us, t1->stored);
	lr->store_us = mean_between(t0->store_us, t0->stored, t1->store_us, t1->stored);
	lr->durability_us =
		mean_between(t0->durability_us, t0->answered, t1->durability_us, t1->answered);
}

/* Drive every lane through the client port; fills lr. Returns 0 or the first error that
 * stopped a connection. Every record without an expected outcome is an error. */
static int run_load(struct bench *b, const char *addr, struct load_result *lr)
{
	unsigned nt = b->o->clients < THREADS_MAX ? b->o->clients : THREADS_MAX;
	struct worker *wk = calloc(nt, sizeof(*wk));
	int rc = wk ? connect_all(b, addr) : HW_ENOMEM;
	Hawser__Wire__V1__Status *before = rc == 0 ? primary_times(b, addr) : NULL;
	unsigned started = 0;
	double t0 = hw_mono_s();
	for (; rc == 0 && started < nt; started++) {
		wk[started] = (struct worker){
			.b = b, .first = started, .step = nt, .progress_ns = hw_mono_ns()};
		rc = -pthread_create(&wk[started].tid, NULL, worker_main, &wk[started]);
		if (rc)
			break;
	}
	for (unsigned t = 0; t < started; t++) {
		pthread_join(wk[t].tid, NULL);
		lr->acked += wk[t].acked;
		lr->rejected += wk[t].rejected;
		lr->unknown += wk[t].unknown;
		if (rc == 0)
			rc = wk[t].rc;
	}
	lr->seconds = hw_mono_s() - t0;
	lr->errors = b->count - lr->acked - lr->rejected;
	free(wk);
	if (before != NULL) {
		Hawser__Wire__V1__Status *after = primary_times(b, addr);
		stages_between(before, after, lr);
		hawser__wire__v1__status__free_unpacked(before, NULL);
		if (after != NULL)
			hawser__wire__v1__status__free_unpacked(after, NULL);
	}
	int prc = percentiles(b, lr);
	return rc ? rc : prc;
}

/* ---------------------------------------------------------------- physical limit */

static void *echo_main(void *arg)
{
	int lfd = *(int *)arg, fd = accept(lfd, NULL, NULL);
	char buf[64];
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0 || send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	}
	close(fd);
	return NULL;
}

static uint64_t median_ns(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* Median TCP loopback round trip of 32 bytes, in ns (0 when it cannot be measured). */
static uint64_t loopback_rtt_ns(void)
{
	static uint64_t v[RTT_ROUNDS];
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd = -1, one = 1;
	pthread_t tid;
	uint64_t med = 0;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) ||
	    pthread_create(&tid, NULL, echo_main, &lfd))
		goto out;
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd >= 0 && connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		char buf[32] = {0};
		unsigned i = 0;
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		for (; i < RTT_ROUNDS; i++) {
			uint64_t t = hw_mono_ns();
			if (send(cfd, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf) ||
			    recv(cfd, buf, sizeof(buf), MSG_WAITALL) != (ssize_t)sizeof(buf))
				break;
			v[i] = hw_mono_ns() - t;
		}
		med = i == RTT_ROUNDS ? median_ns(v, RTT_ROUNDS) : 0;
	}
	if (cfd >= 0)
		shutdown(cfd, SHUT_RDWR);
	else
		shutdown(lfd, SHUT_RDWR);
	pthread_join(tid, NULL);
out:
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	return med;
}

/* Median of one 256-byte append + fdatasync in dir, in ns (0 when it cannot be measured). */
static uint64_t fsync_ns(const char *dir)
{
	uint64_t v[FSYNC_ROUNDS];
	char path[4096], buf[256] = {0};
	snprintf(path, sizeof(path), "%s/fsync-probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 0;
	unsigned i = 0;
	for (; i < FSYNC_ROUNDS; i++) {
		uint64_t t = hw_mono_ns();
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fdatasync(fd) != 0)
			break;
		v[i] = hw_mono_ns() - t;
	}
	close(fd);
	unlink(path);
	return i == FSYNC_ROUNDS ? median_ns(v, FSYNC_ROUNDS) : 0;
}

/* ---------------------------------------------------------------- check the copies */

/* What the cluster looked like after the load. */
struct check {
	bool done; /* false with --connect: nulls in the JSON */
	bool synced;
	uint64_t missing; /* worst standby */
	bool digests_equal;
	uint64_t rss_primary; /* KiB */
	uint64_t rss_standby; /* KiB, largest standby */
};

/* Acknowledged records the standby lacks, through the hash chain: if it holds the entry
 * at LSN max_lsn with the primary's hash, it holds every earlier one with the same bytes
 * too; if its head is an entry of the primary's chain, it lacks exactly the acknowledged
 * LSNs above its head; if the chains differ, it holds none of them for sure. */
static uint64_t missing_on(const struct bench *b, struct hw_store *p, struct hw_store *s,
			   uint64_t max_lsn, uint64_t acked)
{
	struct hw_head h;
	uint8_t hp[HW_HASH_BYTES], hs[HW_HASH_BYTES];
	if (max_lsn == 0)
		return 0;
	if (hw_store_head(s, &h) != 0)
		return acked;
	uint64_t at = h.lsn >= max_lsn ? max_lsn : h.lsn;
	if (at > 0 && (hw_store_entry_hash(p, at, hp) != 0 || hw_store_entry_hash(s, at, hs) != 0 ||
		       memcmp(hp, hs, HW_HASH_BYTES) != 0))
		return acked;
	uint64_t n = 0;
	for (unsigned j = 0; j < b->o->clients; j++)
		for (uint64_t i = 0; i < b->lanes[j].cp.count; i++)
			n += b->lanes[j].acked_lsn[i] > at;
	return n;
}

static int open_ro(const char *dir, struct hw_store **s)
{
	struct hw_store_opts so = {.read_only = true};
	return hw_store_open(dir, &so, s);
}

/* Open every stopped node's store read-only and count what the standbys lack; then
 * compare each standby's state digest with the primary's at the LSN both have. The
 * primary may stop with entries no standby got (a checkpoint it appended after the last
 * sync check): those are compared as of the standby's head, by a replay of the
 * primary's log. The stores are closed before that: LMDB forbids opening one twice in a
 * process. */
static int check_stores(const struct bench *b, struct hw_cluster *cl, const struct load_result *lr,
			struct check *ck)
{
	struct hw_store *p = NULL;
	int rc = open_ro(hw_cluster_dir(cl, 0), &p);
	for (unsigned i = 1; rc == 0 && i < hw_cluster_nodes(cl); i++) {
		struct hw_store *s = NULL;
		rc = open_ro(hw_cluster_dir(cl, i), &s);
		if (rc == 0) {
			uint64_t m = missing_on(b, p, s, lr->max_lsn, lr->acked);
			if (m > ck->missing)
				ck->missing = m;
		}
		hw_store_close(s);
	}
	hw_store_close(p);
	ck->digests_equal = true;
	for (unsigned i = 1; rc == 0 && i < hw_cluster_nodes(cl); i++) {
		uint8_t dp[HW_HASH_BYTES], ds[HW_HASH_BYTES];
		uint64_t at;
		rc = hw_cli_digests_common(hw_cluster_dir(cl, 0), hw_cluster_dir(cl, i), NULL, NULL,
					   &at, dp, ds, NULL);
		if (rc == 0 && memcmp(dp, ds, HW_HASH_BYTES) != 0)
			ck->digests_equal = false;
	}
	return rc;
}

/* --catchup: the standbys, stopped before the load, start again; how long until they
 * hold everything the primary took meanwhile (behind: entries past their head). */
struct catchup {
	bool done;
	uint64_t behind;
	double seconds;
};

static int stop_standbys(struct hw_cluster *cl, uint64_t *head)
{
	int rc = hw_cluster_wait_synced(cl, SYNC_WAIT_MS, head);
	for (unsigned i = 1; rc == 0 && i < hw_cluster_nodes(cl); i++)
		rc = hw_cluster_kill(cl, i, SIGTERM);
	return rc;
}

static int time_catchup(struct hw_cluster *cl, uint64_t head, struct catchup *cu)
{
	uint64_t t0 = hw_mono_ns(), last = 0;
	int rc = 0;
	for (unsigned i = 1; rc == 0 && i < hw_cluster_nodes(cl); i++)
		rc = hw_cluster_restart(cl, i);
	if (rc == 0)
		rc = hw_cluster_wait_synced(cl, SYNC_WAIT_MS * 4, &last);
	if (rc != 0)
		return rc;
	cu->seconds = (double)(hw_mono_ns() - t0) / 1e9;
	cu->behind = last - head;
	cu->done = true;
	return 0;
}

/* The cluster's directory for a line of text, escaped (hw_log_escaped): it is made under
 * TMPDIR, which may hold ESC or BEL. Returns buf. */
#define ROOT_SHOWN_CHARS HW_LOG_ESCAPED_CHARS(PATH_MAX)
static const char *root_shown(const struct hw_cluster *cl, char buf[ROOT_SHOWN_CHARS])
{
	return hw_log_escaped(hw_cluster_root(cl), buf, ROOT_SHOWN_CHARS);
}

/* HW_FAULT_BENCH_PAUSE=1 (docs/testing.md): stop this process (SIGSTOP) once the nodes
 * have stopped, before their stores are checked, so that a test (test_bench) can change
 * a standby's store and see the check find it; it goes on at SIGCONT. */
static void pause_for_test(const struct hw_cluster *cl)
{
	const char *on = getenv("HW_FAULT_BENCH_PAUSE");
	if (on == NULL || strcmp(on, "1") != 0)
		return;
	char shown[ROOT_SHOWN_CHARS];
	fprintf(stderr, "hawser bench: nodes stopped in %s, paused before the check\n",
		root_shown(cl, shown));
	raise(SIGSTOP);
}

/* After the load: wait for the standbys, read peak memory, stop the nodes, check. */
static int finish_cluster(const struct bench *b, struct hw_cluster *cl,
			  const struct load_result *lr, struct check *ck)
{
	int rc = hw_cluster_wait_synced(cl, SYNC_WAIT_MS, NULL);
	ck->synced = rc == 0;
	if (rc)
		fprintf(stderr, "hawser bench: standbys did not catch up within %d s: %s\n",
			SYNC_WAIT_MS / 1000, hw_strerror(rc));
	hw_cluster_node_rss_kib(cl, 0, &ck->rss_primary);
	for (unsigned i = 1; i < hw_cluster_nodes(cl); i++) {
		uint64_t kib = 0;
		hw_cluster_node_rss_kib(cl, i, &kib);
		if (kib > ck->rss_standby)
			ck->rss_standby = kib;
	}
	char shown[ROOT_SHOWN_CHARS];
	if (hw_cluster_stop(cl) != 0)
		fprintf(stderr, "hawser bench: a node did not stop cleanly (see its log in %s%s)\n",
			root_shown(cl, shown), b->o->keep ? "" : ", kept only with --keep");
	pause_for_test(cl);
	rc = check_stores(b, cl, lr, ck);
	ck->done = rc == 0;
	return rc;
}

/* ---------------------------------------------------------------- report */

static void machine(char *buf, size_t cap)
{
	char line[256];
	unsigned long long kib = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	snprintf(buf, cap, "%ld cores, %.1f GiB", sysconf(_SC_NPROCESSORS_ONLN),
		 (double)kib / (1024.0 * 1024.0));
}

static void json_u64_or_null(struct hw_json *j, const char *key, bool have, uint64_t v)
{
	hw_json_key(j, key);
	if (have)
		hw_json_uint(j, v);
	else
		hw_json_string(j, NULL);
}

static void print_latency(struct hw_json *j, const struct load_result *lr)
{
	hw_json_key(j, "latency_us");
	hw_json_object_begin(j);
	hw_json_kv_uint(j, "p50", lr->p50_us);
	hw_json_kv_uint(j, "p99", lr->p99_us);
	hw_json_kv_uint(j, "p999", lr->p999_us);
	hw_json_kv_uint(j, "max", lr->max_us);
	hw_json_object_end(j);
}

/* Where the primary says the load's submits spent their time; null when it did not say. */
static void print_stages(struct hw_json *j, const struct load_result *lr)
{
	hw_json_key(j, "primary_stages_us");
	if (!lr->stages_known) {
		hw_json_string(j, NULL);
		return;
	}
	hw_json_object_begin(j);
	hw_json_kv_double(j, "queued", lr->queued_us);
	hw_json_kv_double(j, "store", lr->store_us);
	hw_json_kv_double(j, "durability", lr->durability_us);
	hw_json_object_end(j);
}

static void print_catchup(struct hw_json *j, const struct catchup *cu)
{
	hw_json_key(j, "catchup");
	if (!cu->done) {
		hw_json_string(j, NULL);
		return;
	}
	hw_json_object_begin(j);
	hw_json_kv_uint(j, "entries", cu->behind);
	hw_json_kv_double(j, "seconds", cu->seconds);
	hw_json_kv_double(j, "entries_per_s",
			  cu->seconds > 0 ? (double)cu->behind / cu->seconds : 0);
	hw_json_object_end(j);
}

static void print_json(const struct bench *b, const struct load_result *lr, const struct check *ck,
		       uint64_t limit_ns, const struct catchup *cu)
{
	const struct bench_opts *o = b->o;
	char mach[64];
	struct hw_json j;
	machine(mach, sizeof(mach));
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_kv_string(&j, "mode", hw_mode_name((enum hw_mode)o->mode));
	json_u64_or_null(&j, "standbys", !o->connect, o->standbys);
	hw_json_kv_bool(&j, "insecure", o->sec.insecure);
	hw_json_kv_uint(&j, "clients", o->clients);
	hw_json_kv_uint(&j, "window", o->window);
	hw_json_kv_uint(&j, "lanes", o->clients);
	hw_json_kv_uint(&j, "records", b->count);
	hw_json_kv_double(&j, "seconds", lr->seconds);
	hw_json_kv_double(&j, "records_per_s",
			  lr->seconds > 0 ? (double)lr->acked / lr->seconds : 0);
	print_latency(&j, lr);
	print_stages(&j, lr);
	hw_json_kv_uint(&j, "acked", lr->acked);
	hw_json_kv_uint(&j, "rejected", lr->rejected);
	hw_json_kv_uint(&j, "errors", lr->errors);
	hw_json_kv_uint(&j, "unknown", lr->unknown);
	json_u64_or_null(&j, "missing_on_standby", ck->done, ck->missing);
	hw_json_key(&j, "digests_equal");
	if (ck->done)
		hw_json_bool(&j, ck->digests_equal);
	else
		hw_json_string(&j, NULL);
	json_u64_or_null(&j, "rss_kib_primary", ck->done, ck->rss_primary);
	json_u64_or_null(&j, "rss_kib_standby", ck->done, ck->rss_standby);
	hw_json_kv_string(&j, "machine", mach);
	hw_json_kv_double(&j, "record_bytes_mean",
			  b->count ? (double)b->bytes / (double)b->count : 0);
	if (o->clients == 1)
		json_u64_or_null(&j, "limit_us", limit_ns > 0, limit_ns / 1000);
	if (o->catchup)
		print_catchup(&j, cu);
	hw_json_object_end(&j);
}

static void print_human(const struct bench *b, const struct load_result *lr, const struct check *ck)
{
	const struct bench_opts *o = b->o;
	fprintf(stderr,
		"hawser bench: %" PRIu64 " records (%.0f B mean), mode %s, %u client%s (a lane "
		"each) x %u outstanding: %.0f records/s\n"
		"  latency p50 %" PRIu64 " us, p99 %" PRIu64 " us, p99.9 %" PRIu64
		" us, max %" PRIu64 " us\n  acked %" PRIu64 ", rejected %" PRIu64
		", errors %" PRIu64 ", unknown %" PRIu64 "\n",
		b->count, b->count ? (double)b->bytes / (double)b->count : 0,
		hw_mode_name((enum hw_mode)o->mode), o->clients, o->clients == 1 ? "" : "s",
		o->window, lr->seconds > 0 ? (double)lr->acked / lr->seconds : 0, lr->p50_us,
		lr->p99_us, lr->p999_us, lr->max_us, lr->acked, lr->rejected, lr->errors,
		lr->unknown);
	if (lr->stages_known)
		fprintf(stderr,
			"  on the primary, a record's mean: queued %.0f us, store %.0f us, "
			"durability %.0f us\n",
			lr->queued_us, lr->store_us, lr->durability_us);
	if (ck->done)
		fprintf(stderr,
			"  %u standby%s: missing %" PRIu64 ", digests %s; peak RSS primary %" PRIu64
			" KiB, standby %" PRIu64 " KiB\n",
			o->standbys, o->standbys == 1 ? "" : "s", ck->missing,
			ck->digests_equal ? "equal" : "DIFFER", ck->rss_primary, ck->rss_standby);
}

/* ---------------------------------------------------------------- command */

static int check_opts(const struct hw_cli_cmd *cmd, struct bench_opts *o)
{
	if (o->catchup && (o->connect || (o->mode >= 0 && o->mode != HW_MODE_LOCAL)))
		return hw_cli_usage_error(cmd, "--catchup runs its own cluster in mode local (its "
					       "standbys are down during the load)");
	if (o->mode < 0)
		o->mode = o->catchup ? HW_MODE_LOCAL : HW_MODE_DURABLE;
	if (!o->connect && o->k > o->standbys)
		return hw_cli_usage_error(cmd, "--k %" PRIu64 " is more than --standbys %u", o->k,
					  o->standbys);
	if ((uint64_t)o->clients * o->window > 65536u)
		return hw_cli_usage_error(cmd, "--clients x --window is over 65536, the node's "
					       "default limit of waiting submits");
	if (o->connect && (o->standbys_given || o->keep))
		return hw_cli_usage_error(cmd, "--standbys and --keep are for the local cluster, "
					       "not with --connect");
	if (o->connect)
		return hw_cli_security_check(cmd, &o->sec);
	if (o->sec.key || o->sec.peers || o->sec.cluster_id)
		return hw_cli_usage_error(cmd, "--key, --peers and --cluster go with --connect: "
					       "the local cluster makes its own keys");
	return HW_CLI_RUN;
}

static int start_cluster(const struct bench_opts *o, struct hw_cluster **cl)
{
	struct hw_cluster_opts co = {
		.standbys = o->standbys,
		.mode = hw_mode_name((enum hw_mode)o->mode),
		.k = (unsigned)o->k,
		.insecure = o->sec.insecure,
	};
	return hw_cluster_start(&co, cl);
}

/* The single-client durable latency floor: one loopback round trip plus one flush. */
static uint64_t limit_probe(const struct hw_cluster *cl)
{
	const char *tmp = getenv("TMPDIR");
	const char *dir = cl ? hw_cluster_root(cl) : tmp && *tmp ? tmp : "/tmp";
	uint64_t rtt = loopback_rtt_ns(), fs = fsync_ns(dir);
	return rtt && fs ? rtt + fs : 0;
}

static int verdict(const struct bench_opts *o, const struct load_result *lr, const struct check *ck,
		   int rc)
{
	if (rc || lr->errors > 0)
		return HW_CLI_ERROR;
	if (ck->done && (o->mode != HW_MODE_LOCAL || o->catchup) &&
	    (ck->missing > 0 || !ck->digests_equal))
		return HW_CLI_ERROR;
	return HW_CLI_OK;
}

static int cmd_bench(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	struct bench_opts o = {.standbys = 1,
			       .clients = 32,
			       .window = 1,
			       .records = 100000,
			       .seed = 1,
			       .profile = "terminal_peak",
			       .mode = -1};
	int rc = hw_cli_parse(cmd, argc, argv, bench_longopts, bench_opt_cb, &o, NULL, 0);
	if (rc == HW_CLI_RUN)
		rc = check_opts(cmd, &o);
	if (rc != HW_CLI_RUN)
		return rc;
	struct bench b = {.o = &o, .mode = (enum hw_durability)o.mode};
	struct hw_cluster *cl = NULL;
	struct load_result lr = {0};
	struct check ck = {0};
	uint64_t limit_ns = 0;
	rc = lanes_make(&b);
	if (rc) {
		lanes_free(&b);
		return hw_cli_fail(cmd->name, "records", rc);
	}
	if (!o.connect && (rc = start_cluster(&o, &cl)) != 0) {
		lanes_free(&b);
		return hw_cli_fail(cmd->name, "starting the cluster", rc);
	}
	b.sec = cl ? hw_cluster_security(cl) : &o.sec;
	if (o.clients == 1)
		limit_ns = limit_probe(cl);
	struct catchup cu = {0};
	uint64_t head = 0;
	if (o.catchup && (rc = stop_standbys(cl, &head)) != 0)
		hw_cli_fail(cmd->name, "stopping the standbys", rc);
	if (rc == 0 && (rc = run_load(&b, o.connect ? o.connect : hw_cluster_client_addr(cl),
				     &lr)) != 0)
		hw_cli_fail(cmd->name, "load", rc);
	if (rc == 0 && o.catchup && (rc = time_catchup(cl, head, &cu)) != 0)
		hw_cli_fail(cmd->name, "catching up", rc);
	if (cl) {
		int crc = finish_cluster(&b, cl, &lr, &ck);
		if (crc)
			hw_cli_fail(cmd->name, "checking the stores", crc);
		char shown[ROOT_SHOWN_CHARS];
		if (o.keep)
			fprintf(stderr, "hawser bench: cluster kept in %s\n",
				root_shown(cl, shown));
		rc = rc ? rc : crc;
	}
	print_json(&b, &lr, &ck, limit_ns, &cu);
	if (!o.json)
		print_human(&b, &lr, &ck);
	int code = verdict(&o, &lr, &ck, rc);
	hw_cluster_free(cl, o.keep);
	lanes_free(&b);
	return code;
}

const struct hw_cli_cmd hw_cli_bench = {
	"bench", "measure a local cluster (or a running node) through the client port",
	HW_CLI_USAGE(
		"usage: hawser bench [--standbys N] [--clients C] [--window W] [--records R]\n"
		"                    [--profile NAME] [--mode M] [--k K] [--seed S]\n"
		"                    [--connect ADDR] [--keep] [--json] [--insecure] [--catchup]\n"
		"  Start a primary and N standbys (default 1) as `hawser node` processes on\n"
		"  loopback in a scratch directory and submit R records (default 100000; profile\n"
		"  NAME, default terminal_peak) through the primary's client port from C\n"
		"  connections (default 32, at most 256), each one lane of the workload, as a\n"
		"  TOS's gate lanes, cranes and EDI feeds are: connection i (from 0) generates\n"
		"  its R / C records (the first R % C one more) as lane i + 1 with seed S + i (S\n"
		"  default 1), whose containers, yard blocks and ids are its own, and sends them\n"
		"  strictly in order with W submits outstanding (default 1: closed loop, as\n"
		"  pgbench; C x W at most 65536). Records are generated before the clock starts.\n"
		"  --mode M (local, received, durable, applied; default durable) and --k K\n"
		"  (default 1) set the cluster's and every submit's durability. Afterwards wait\n"
		"  for the standbys, stop the nodes and check that every acknowledged record is\n"
		"  on every standby with the same bytes and that the state digests agree at the\n"
		"  LSN both stores have (N: 1 to 8).\n"
		"  --connect ADDR: drive a running node instead, with the same lanes (no cluster,\n"
		"  no checks). Use a fresh store: a lane's ids do not change with the seed, so a\n"
		"  second run's records collide with the first's. ADDR may list the nodes of a\n"
		"  failover cluster, comma-separated: each connection follows the primary\n"
		"  (include/hawser.h), sending what was in flight to the new one with the same\n"
		"  bytes.\n"
		"  --keep: keep the scratch directory (configs, stores, node logs).\n"
		"  --catchup: stop the standbys before the load (mode local) and start them again\n"
		"  after it; \"catchup\" in the JSON says how many entries they were behind and "
		"how\n"
		"  long they took to hold them all (from their restart), and the checks below\n"
		"  hold as for the other modes.\n"
		"  Every connection of the local cluster runs the encrypted channel, with keys\n"
		"  made for it (bench/cluster.h); --insecure runs it in plaintext, to measure the\n"
		"  channel's cost (docs/benchmarks.md). With --connect:\n" HW_CLI_SECURITY_USAGE
		"  Prints one JSON object on stdout (lanes, throughput, latency p50/p99/p99.9/max\n"
		"  in us, acked, rejected (poison records refused with their expected code),\n"
		"  errors, unknown (outcomes for a request id not outstanding: said on stderr, no\n"
		"  error), primary_stages_us (the primary's mean time a record of the load spent\n"
		"  queued for its store, in it, and waiting for durability: docs/operations.md),\n"
		"  missing_on_standby, digests_equal, peak RSS, machine, mean record size; with\n"
		"  --clients 1 also limit_us, a loopback round trip plus one flush), and a\n"
		"  summary on stderr unless --json. Exit 1 on any error (an outcome other than\n"
		"  the expected one, a lost connection, no outcome for 10 s), or for modes other\n"
		"  than local, or with\n"
		"  --catchup, when a standby misses an acknowledged record or a digest differs.\n"),
	cmd_bench};
