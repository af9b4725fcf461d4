/* cmd_bench.c: `hawser bench`: start a local cluster of real nodes (bench/cluster.h), drive
 * its primary through the client port from C connections with W submits outstanding each
 * (closed loop, as pgbench drives PostgreSQL), then check that every acknowledged record is
 * on every standby with the same bytes and that the state digests agree.
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
#include <time.h>
#include <unistd.h>

#include "bench/cluster.h"
#include "bench/workload.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "engine/client_int.h"
#include "engine/core/repl.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "tos.pb-c.h"

/* Driver threads: the bench shares the machine with the nodes it measures (2 cores
 * here), so a few threads each polling many connections, not one thread per client. */
#define THREADS_MAX 4u
/* The node serves at most HW_CLIENTS_MAX (1024) sessions; leave room for status. */
#define CLIENTS_MAX 1000u
#define WINDOW_MAX  4096u
/* No outcome at all for this long means the cluster is stuck, not slow. */
#define STUCK_MS     30000
#define SYNC_WAIT_MS 30000
/* Unexpected outcomes described on stderr: enough to debug, not a flood. */
#define SHOWN_MAX 5
/* Physical limit probes: loopback round trips and 256-byte flushes, medians. */
#define RTT_ROUNDS   1000
#define FSYNC_ROUNDS 50

struct bench_opts {
	unsigned standbys, clients, window;
	uint64_t records, seed;
	uint64_t k;
	const char *profile;
	int mode; /* enum hw_mode; -1: default */
	const char *connect;
	bool keep, json;
};

/* The records, generated before the clock starts and never mutated after. */
struct corpus {
	uint8_t *data;
	size_t *off;
	uint32_t *len;
	int *expect;
	uint64_t count;
	uint64_t bytes;
};

/* Per-record results, each slot written by the thread whose connection sent it. */
struct results {
	uint64_t *sent_ns;
	uint64_t *lat_ns;    /* 0: no outcome */
	uint64_t *acked_lsn; /* 0: not acknowledged */
	uint32_t *pos;       /* while in flight: its place in its connection's inflight */
};

struct conn {
	struct hw_client *cl;
	uint64_t *inflight; /* window records sent and waiting for their outcome */
	unsigned outstanding;
	bool dead;
};

/* Outcomes a worker collects before handing them to the scheduler in one lock. */
#define DONE_MAX 4096u

struct bench;

struct worker {
	struct bench *b;
	pthread_t tid;
	unsigned first, step; /* connections first, first + step, ... */
	uint64_t acked, rejected;
	int rc;
	uint64_t done[DONE_MAX];
	uint64_t done_n;
	uint64_t take[DONE_MAX];
};

/* ---------------------------------------------------------------- options */

static int known_profile(const char *name)
{
	for (const char *const *p = hw_workload_profiles(); *p; p++)
		if (!strcmp(*p, name))
			return 0;
	return -1;
}

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
	switch (key) {
	case 'S':
		/* The primary's core wants at least one standby (engine/core/repl.h). */
		return small_uint(v, 1, HW_PEERS_MAX, &o->standbys);
	case 'C':
		return small_uint(v, 1, CLIENTS_MAX, &o->clients);
	case 'w':
		return small_uint(v, 1, WINDOW_MAX, &o->window);
	case 'n':
		return hw_cli_u64(v, &o->records) || o->records == 0 ? -1 : 0;
	case 'p':
		o->profile = v;
		return known_profile(v);
	case 'm':
		o->mode = hw_mode_parse(v);
		return o->mode < 0 ? -1 : 0;
	case 'k':
		return hw_cli_u64(v, &o->k) || o->k > HW_PEERS_MAX ? -1 : 0;
	case 's':
		return hw_cli_u64(v, &o->seed);
	case 'c':
		o->connect = v;
		return 0;
	case 'K':
		o->keep = true;
		return 0;
	case 'j':
		o->json = true;
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
	{"json", no_argument, NULL, 'j'},           {0},
};

/* ---------------------------------------------------------------- records */

static int corpus_make(const struct bench_opts *o, struct corpus *cp)
{
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	struct hw_workload_opts wo = {o->profile, o->seed, o->records, hw_cli_now_ms()};
	struct hw_workload *w;
	int rc = hw_workload_new(&wo, &w);
	if (rc)
		return rc;
	size_t cap = (size_t)o->records * 512u;
	cp->data = malloc(cap);
	cp->off = calloc(o->records, sizeof(*cp->off));
	cp->len = calloc(o->records, sizeof(*cp->len));
	cp->expect = calloc(o->records, sizeof(*cp->expect));
	rc = cp->data && cp->off && cp->len && cp->expect ? 0 : HW_ENOMEM;
	for (uint64_t i = 0; rc == 0 && i < o->records; i++) {
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

static void corpus_free(struct corpus *cp)
{
	free(cp->data);
	free(cp->off);
	free(cp->len);
	free(cp->expect);
}

/* ---------------------------------------------------------------- causal order
 *
 * The generator's records form one causal history: a work instruction is created before
 * it is dispatched, a box is discharged before it is moved, a slot is emptied before it
 * is reused. A real TOS never has two causally dependent records in flight at once (the
 * crane reports a move after its instruction was acknowledged), but C clients replaying
 * one history in parallel would, and the store would rightly refuse the one that
 * arrived first. So each record waits for the earlier records it depends on: those that
 * name the same container, work instruction, truck or train visit, kv key, yard slot or
 * vessel cell (a 40' slot spans its neighbours, so a bay conflicts with bay +- 1), or a
 * retracted record_id. A vessel visit event waits for every earlier record, and every
 * later record waits for it (see graph_build). Independent records
 * go out in parallel on whichever connection is free: a pool of TOS workers, not
 * pgbench's independent inserts, and the only ordering a replicated TOS needs. */

#define KEYS_MAX 512u

struct keyset {
	uint64_t key[KEYS_MAX];
	bool writer[KEYS_MAX];
	unsigned n;
};

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void key_add(struct keyset *ks, char cls, const void *v, size_t len, bool writer)
{
	if (ks->n >= KEYS_MAX || len == 0)
		return; /* a record is far below this; past it, order is only less strict */
	uint64_t h = fnv(fnv(0xcbf29ce484222325ull, &cls, 1), v, len);
	ks->key[ks->n] = h ? h : 1;
	ks->writer[ks->n++] = writer;
}

/* A slot and its two neighbours, so 20' and 40' positions that overlap conflict. */
static void slot_keys(struct keyset *ks, char cls, const char *area, uint32_t bay, uint32_t row,
		      uint32_t tier)
{
	for (uint32_t b = bay ? bay - 1 : 0; b <= bay + 1; b++) {
		char k[160];
		int n = snprintf(k, sizeof(k), "%s/%u/%u/%u", area ? area : "", b, row, tier);
		key_add(ks, cls, k, n > 0 ? (size_t)n : 0, true);
	}
}

static char string_class(const ProtobufCMessageDescriptor *d, const char *name, bool *writer)
{
	*writer = true;
	if (!strcmp(name, "container_id") || !strcmp(name, "container_ids"))
		return 'c';
	if (!strcmp(name, "wi_id"))
		return 'w';
	if (!strcmp(name, "truck_visit_id"))
		return 't';
	if (!strcmp(name, "train_visit_id"))
		return 'r';
	if (!strcmp(name, "key"))
		return 'k';
	if (!strcmp(name, "visit_id") && d == &tos__v1__vessel_visit_event__descriptor)
		return 'v';
	*writer = false;
	return !strcmp(name, "vessel_visit_id") ? 'v' : 0;
}

static void walk(const ProtobufCMessage *m, struct keyset *ks, unsigned depth);

static void walk_field(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *fd,
		       const void *p, struct keyset *ks, unsigned depth)
{
	bool writer;
	char cls;
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
		cls = string_class(d, fd->name, &writer);
		if (cls && *(char *const *)p)
			key_add(ks, cls, *(char *const *)p, strlen(*(char *const *)p), writer);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		if (!strcmp(fd->name, "record_id") || !strcmp(fd->name, "retracts"))
			key_add(ks, 'i', ((const ProtobufCBinaryData *)p)->data,
				((const ProtobufCBinaryData *)p)->len, true);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		if (*(ProtobufCMessage *const *)p)
			walk(*(ProtobufCMessage *const *)p, ks, depth + 1);
		break;
	default:
		break;
	}
}

static size_t field_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 0; /* scalars carry no key */
	}
}

static void walk(const ProtobufCMessage *m, struct keyset *ks, unsigned depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	if (depth > 8)
		return;
	if (d == &tos__v1__yard_pos__descriptor) {
		const Tos__V1__YardPos *y = (const Tos__V1__YardPos *)m;
		slot_keys(ks, 's', y->block, y->bay, y->row, y->tier);
	} else if (d == &tos__v1__vessel_cell__descriptor) {
		const Tos__V1__VesselCell *c = (const Tos__V1__VesselCell *)m;
		slot_keys(ks, 'V', c->vessel_visit_id, c->bay, c->row, c->tier);
	}
	for (unsigned f = 0; f < d->n_fields; f++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[f];
		size_t sz = field_size(fd);
		if (sz == 0)
			continue;
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + fd->quantifier_offset) != fd->id)
			continue;
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			walk_field(d, fd, base + fd->offset, ks, depth);
			continue;
		}
		size_t count = *(const size_t *)(base + fd->quantifier_offset);
		const char *arr = *(const char *const *)(base + fd->offset);
		for (size_t i = 0; i < count; i++)
			walk_field(d, fd, arr + i * sz, ks, depth);
	}
}

/* Per key: the last record that changed it and the records that read it since. */
struct key_slot {
	uint64_t key;     /* 0: empty */
	uint64_t writer;  /* record index + 1; 0: none */
	uint64_t readers; /* head of a list in graph.rd (index + 1); 0: none */
};

struct reader {
	uint64_t rec;
	uint64_t next;
};

struct graph {
	struct key_slot *slots;
	uint64_t cap, used;
	struct reader *rd;
	uint64_t rd_n, rd_cap;
	uint64_t (*edge)[2]; /* from, to */
	uint64_t edge_n, edge_cap;
};

static int grow(void **p, uint64_t *cap, size_t elem)
{
	uint64_t ncap = *cap ? *cap * 2 : 4096;
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return HW_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static struct key_slot *key_find(struct graph *g, uint64_t key)
{
	uint64_t i = key & (g->cap - 1);
	while (g->slots[i].key && g->slots[i].key != key)
		i = (i + 1) & (g->cap - 1);
	return &g->slots[i];
}

static int key_rehash(struct graph *g)
{
	struct key_slot *old = g->slots;
	uint64_t ocap = g->cap;
	g->cap = ocap ? ocap * 2 : 1u << 16;
	g->slots = calloc(g->cap, sizeof(*g->slots));
	if (!g->slots) {
		g->slots = old;
		g->cap = ocap;
		return HW_ENOMEM;
	}
	for (uint64_t i = 0; i < ocap; i++)
		if (old[i].key)
			*key_find(g, old[i].key) = old[i];
	free(old);
	return 0;
}

static int edge_add(struct graph *g, uint64_t from, uint64_t to)
{
	if (from == to)
		return 0;
	if (g->edge_n == g->edge_cap && grow((void **)&g->edge, &g->edge_cap, sizeof(*g->edge)))
		return HW_ENOMEM;
	g->edge[g->edge_n][0] = from;
	g->edge[g->edge_n++][1] = to;
	return 0;
}

/* Record i touches key: add its edges and take its place in the key's history. */
static int key_touch(struct graph *g, uint64_t i, uint64_t key, bool writer)
{
	if ((g->used + 1) * 2 > g->cap && key_rehash(g))
		return HW_ENOMEM;
	struct key_slot *s = key_find(g, key);
	if (!s->key) {
		s->key = key;
		g->used++;
	}
	int rc = s->writer ? edge_add(g, s->writer - 1, i) : 0;
	if (writer) {
		for (uint64_t r = s->readers; r && rc == 0; r = g->rd[r - 1].next)
			rc = edge_add(g, g->rd[r - 1].rec, i);
		s->readers = 0;
		s->writer = i + 1;
		return rc;
	}
	if (rc == 0 && g->rd_n == g->rd_cap && grow((void **)&g->rd, &g->rd_cap, sizeof(*g->rd)))
		rc = HW_ENOMEM;
	if (rc == 0) {
		g->rd[g->rd_n] = (struct reader){i, s->readers};
		s->readers = ++g->rd_n;
	}
	return rc;
}

static void graph_free(struct graph *g)
{
	free(g->slots);
	free(g->rd);
	free(g->edge);
}

/* Which records wait for which: children of i are child[child_at[i] .. child_at[i + 1]),
 * and pending[i] counts the unfinished records i waits for. Shared by the workers under
 * mu; each record enters the ready ring once, so count slots suffice. */
struct sched {
	pthread_mutex_t mu;
	uint64_t count;
	uint32_t *pending;
	uint64_t *child_at;
	uint64_t *child;
	uint64_t *ready;
	uint64_t ready_head, ready_tail;
	uint64_t finished;
	uint64_t edges;
	uint64_t depth;       /* longest chain of records each waiting for the one before */
	uint64_t progress_ns; /* when a record last finished */
};

static int graph_build(const struct corpus *cp, struct graph *g)
{
	static struct keyset ks;
	int rc = 0;
	for (uint64_t i = 0; rc == 0 && i < cp->count; i++) {
		Tos__V1__Record *r =
			tos__v1__record__unpack(NULL, cp->len[i], cp->data + cp->off[i]);
		ks.n = 0;
		/* A vessel's phase changes what is allowed for every box on board (a departed
		 * vessel ends their visits), and those records need not name the vessel: so a
		 * vessel visit event waits for everything before it, and everything after
		 * waits for it. Such events are a few per vessel call. */
		key_add(&ks, 'B', "*", 1,
			r && r->payload_case == TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT);
		if (r) /* a poison record may not decode: it depends on nothing else */
			walk(&r->base, &ks, 0);
		tos__v1__record__free_unpacked(r, NULL);
		for (unsigned k = 0; rc == 0 && k < ks.n; k++)
			rc = key_touch(g, i, ks.key[k], ks.writer[k]);
	}
	return rc;
}

/* Records in the longest dependency chain: no run can take less than this many round
 * trips, whatever its client count (edges go from lower to higher index). */
static uint64_t longest_chain(const struct sched *s)
{
	uint32_t *d = calloc(s->count ? s->count : 1, sizeof(*d));
	uint64_t best = 0;
	if (!d)
		return 0;
	for (uint64_t i = 0; i < s->count; i++) {
		uint32_t di = ++d[i];
		best = di > best ? di : best;
		for (uint64_t c = s->child_at[i]; c < s->child_at[i + 1]; c++)
			if (d[s->child[c]] < di)
				d[s->child[c]] = di;
	}
	free(d);
	return best;
}

static int sched_init(struct sched *s, const struct corpus *cp)
{
	struct graph g = {0};
	uint64_t n = cp->count;
	int rc = graph_build(cp, &g);
	s->count = n;
	s->pending = calloc(n, sizeof(*s->pending));
	s->child_at = calloc(n + 1, sizeof(*s->child_at));
	s->child = malloc((g.edge_n + 1) * sizeof(*s->child));
	s->ready = malloc(n * sizeof(*s->ready));
	if (rc == 0 && !(s->pending && s->child_at && s->child && s->ready))
		rc = HW_ENOMEM;
	if (rc == 0) {
		for (uint64_t e = 0; e < g.edge_n; e++) {
			s->child_at[g.edge[e][0] + 1]++;
			s->pending[g.edge[e][1]]++;
		}
		for (uint64_t i = 0; i < n; i++)
			s->child_at[i + 1] += s->child_at[i];
		for (uint64_t e = 0; e < g.edge_n; e++) /* fill, then shift back below */
			s->child[s->child_at[g.edge[e][0]]++] = g.edge[e][1];
		for (uint64_t i = n; i > 0; i--)
			s->child_at[i] = s->child_at[i - 1];
		s->child_at[0] = 0;
		for (uint64_t i = 0; i < n; i++)
			if (s->pending[i] == 0)
				s->ready[s->ready_tail++] = i;
		s->edges = g.edge_n;
		s->depth = longest_chain(s);
		pthread_mutex_init(&s->mu, NULL);
	}
	graph_free(&g);
	return rc;
}

static void sched_free(struct sched *s)
{
	if (s->pending)
		pthread_mutex_destroy(&s->mu);
	free(s->pending);
	free(s->child_at);
	free(s->child);
	free(s->ready);
}

/* Under mu: record i has its outcome; release what waited only for it. */
static void sched_finish(struct sched *s, uint64_t i)
{
	for (uint64_t c = s->child_at[i]; c < s->child_at[i + 1]; c++)
		if (--s->pending[s->child[c]] == 0)
			s->ready[s->ready_tail++] = s->child[c];
	s->finished++;
}

struct bench {
	const struct bench_opts *o;
	struct corpus corpus;
	struct results res;
	struct sched sched;
	struct conn *conns;
	enum hw_durability mode;
	atomic_uint shown; /* lines of unexpected outcomes printed */
};

/* ---------------------------------------------------------------- load */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A validation refusal (the record's fault) rather than a node or connection error. */
static bool is_rejection(int code)
{
	return code <= HW_EDECODE && code > HW_ESTORE_FULL;
}

/* Take record i off cn's in-flight list (swap with the last). */
static bool inflight_remove(struct bench *b, struct conn *cn, uint64_t i)
{
	if (i >= b->corpus.count || b->res.pos[i] >= cn->outstanding ||
	    cn->inflight[b->res.pos[i]] != i)
		return false;
	uint64_t last = cn->inflight[--cn->outstanding];
	cn->inflight[b->res.pos[i]] = last;
	b->res.pos[last] = b->res.pos[i];
	return true;
}

static void tally(struct worker *wk, struct conn *cn, const struct hw_outcome *oc, uint64_t t)
{
	struct bench *b = wk->b;
	uint64_t i = oc->request_id;
	if (!inflight_remove(b, cn, i)) {
		fprintf(stderr, "hawser bench: outcome for unknown request %" PRIu64 "\n", i);
		return;
	}
	b->res.lat_ns[i] = t > b->res.sent_ns[i] ? t - b->res.sent_ns[i] : 1;
	wk->done[wk->done_n++] = i;
	if (oc->code == 0) {
		b->res.acked_lsn[i] = oc->lsn;
		wk->acked++;
	} else if (oc->code == b->corpus.expect[i] && is_rejection(oc->code)) {
		wk->rejected++;
	} else if (atomic_fetch_add(&b->shown, 1) < SHOWN_MAX) {
		fprintf(stderr, "hawser bench: record %" PRIu64 ": %s (%s) %s %s\n", i,
			hw_strerror(oc->code), hw_errname(oc->code), oc->reject.field,
			oc->reject.rule);
	}
}

/* Hand the records finished since the last call to the scheduler. */
static void flush_done(struct worker *wk)
{
	struct sched *s = &wk->b->sched;
	if (wk->done_n == 0)
		return;
	pthread_mutex_lock(&s->mu);
	for (uint64_t k = 0; k < wk->done_n; k++)
		sched_finish(s, wk->done[k]);
	s->progress_ns = now_ns();
	pthread_mutex_unlock(&s->mu);
	wk->done_n = 0;
}

/* A connection failed: what it had in flight has an unknown fate (an error, finished so
 * that what waits for it goes on elsewhere); the connection takes no more. */
static void conn_fail(struct worker *wk, unsigned j, int rc)
{
	struct bench *b = wk->b;
	struct conn *cn = &b->conns[j];
	if (wk->rc == 0)
		wk->rc = rc;
	if (atomic_fetch_add(&b->shown, 1) < SHOWN_MAX)
		fprintf(stderr, "hawser bench: connection %u lost: %s (%s), %u submits in flight\n",
			j, hw_strerror(rc), hw_errname(rc), cn->outstanding);
	while (cn->outstanding > 0) {
		wk->done[wk->done_n++] = cn->inflight[--cn->outstanding];
		if (wk->done_n == DONE_MAX)
			flush_done(wk);
	}
	cn->dead = true;
	flush_done(wk);
}

/* Take ready records for the worker's connections with room in their window and send
 * them. Returns true while records are unfinished. */
static bool fill(struct worker *wk)
{
	struct bench *b = wk->b;
	struct sched *s = &b->sched;
	unsigned want = 0;
	for (unsigned j = wk->first; j < b->o->clients; j += wk->step)
		if (!b->conns[j].dead)
			want += b->o->window - b->conns[j].outstanding;
	pthread_mutex_lock(&s->mu);
	bool more = s->finished < s->count;
	uint64_t n = s->ready_tail - s->ready_head;
	n = n < want ? n : want;
	n = n < DONE_MAX ? n : DONE_MAX;
	memcpy(wk->take, s->ready + s->ready_head, n * sizeof(*wk->take));
	s->ready_head += n;
	pthread_mutex_unlock(&s->mu);
	uint64_t k = 0;
	for (unsigned j = wk->first; k < n && j < b->o->clients; j += wk->step) {
		struct conn *cn = &b->conns[j];
		while (k < n && !cn->dead && cn->outstanding < b->o->window) {
			uint64_t i = wk->take[k++];
			b->res.pos[i] = cn->outstanding;
			cn->inflight[cn->outstanding++] = i;
			b->res.sent_ns[i] = now_ns();
			int rc = hw_client_submit(cn->cl, i, b->corpus.data + b->corpus.off[i],
						  b->corpus.len[i], b->mode, (unsigned)b->o->k);
			if (rc)
				conn_fail(wk, j, rc);
		}
	}
	/* Taken but not sent (a connection failed under them): finished, as errors. */
	while (k < n) {
		wk->done[wk->done_n++] = wk->take[k++];
		if (wk->done_n == DONE_MAX)
			flush_done(wk);
	}
	flush_done(wk);
	return more;
}

/* Take every outcome buffered or readable on connection j. */
static void drain(struct worker *wk, unsigned j)
{
	struct conn *cn = &wk->b->conns[j];
	while (!cn->dead) {
		struct hw_outcome oc;
		int rc = hw_client_wait(cn->cl, 0, &oc);
		if (rc == -ETIMEDOUT)
			break;
		if (rc) {
			conn_fail(wk, j, rc);
			break;
		}
		tally(wk, cn, &oc, now_ns());
		if (wk->done_n == DONE_MAX)
			flush_done(wk);
	}
	flush_done(wk);
}

/* No outcome anywhere for STUCK_MS: the cluster is stuck, not slow. */
static bool stuck(struct bench *b)
{
	pthread_mutex_lock(&b->sched.mu);
	bool st = now_ns() - b->sched.progress_ns > (uint64_t)STUCK_MS * 1000000u;
	pthread_mutex_unlock(&b->sched.mu);
	return st;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct bench *b = wk->b;
	struct pollfd pfd[CLIENTS_MAX];
	unsigned idx[CLIENTS_MAX];
	for (;;) {
		bool more = fill(wk);
		unsigned n = 0, room = 0;
		for (unsigned j = wk->first; j < b->o->clients; j += wk->step) {
			struct conn *cn = &b->conns[j];
			if (cn->dead)
				continue;
			room += cn->outstanding < b->o->window;
			if (cn->outstanding == 0)
				continue;
			pfd[n] = (struct pollfd){.fd = hw_client_fd(cn->cl), .events = POLLIN};
			idx[n++] = j;
		}
		if (n == 0 && (!more || room == 0))
			return NULL; /* all finished, or every connection of this worker failed */
		/* With room but nothing ready, records may become ready on another worker:
		 * look again soon. */
		int got = poll(pfd, n, room ? 1 : 100);
		if (got < 0 && errno != EINTR) {
			wk->rc = -errno;
			return NULL;
		}
		for (unsigned k = 0; got > 0 && k < n; k++)
			if (pfd[k].revents)
				drain(wk, idx[k]);
		if (got <= 0 && stuck(b)) {
			for (unsigned k = 0; k < n; k++)
				conn_fail(wk, idx[k], -ETIMEDOUT);
			return NULL;
		}
	}
}

/* What the load measured, merged over the workers. */
struct load_result {
	uint64_t acked, rejected, errors;
	uint64_t max_lsn;
	double seconds;
	uint64_t p50_us, p99_us, p999_us, max_us;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Percentiles of the latencies that got an outcome (sorts a copy). */
static int percentiles(const struct bench *b, struct load_result *lr)
{
	uint64_t n = 0, *v = malloc(b->corpus.count * sizeof(*v) + 1);
	if (!v)
		return HW_ENOMEM;
	for (uint64_t i = 0; i < b->corpus.count; i++) {
		if (b->res.lat_ns[i])
			v[n++] = b->res.lat_ns[i];
		if (b->res.acked_lsn[i] > lr->max_lsn)
			lr->max_lsn = b->res.acked_lsn[i];
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
		int rc = hw_client_connect(addr, &b->conns[j].cl);
		if (rc)
			return rc;
	}
	return 0;
}

/* Drive every record through the client port; fills lr. Returns 0 or the first error
 * that stopped a connection. Every record without an expected outcome is an error. */
static int run_load(struct bench *b, const char *addr, struct load_result *lr)
{
	unsigned nt = b->o->clients < THREADS_MAX ? b->o->clients : THREADS_MAX;
	struct worker *wk = calloc(nt, sizeof(*wk));
	int rc = wk ? connect_all(b, addr) : HW_ENOMEM;
	unsigned started = 0;
	double t0 = hw_cli_mono_s();
	b->sched.progress_ns = now_ns();
	for (; rc == 0 && started < nt; started++) {
		wk[started] = (struct worker){.b = b, .first = started, .step = nt};
		rc = -pthread_create(&wk[started].tid, NULL, worker_main, &wk[started]);
		if (rc)
			break;
	}
	for (unsigned t = 0; t < started; t++) {
		pthread_join(wk[t].tid, NULL);
		lr->acked += wk[t].acked;
		lr->rejected += wk[t].rejected;
		if (rc == 0)
			rc = wk[t].rc;
	}
	lr->seconds = hw_cli_mono_s() - t0;
	lr->errors = b->corpus.count - lr->acked - lr->rejected;
	free(wk);
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
			uint64_t t = now_ns();
			if (send(cfd, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf) ||
			    recv(cfd, buf, sizeof(buf), MSG_WAITALL) != (ssize_t)sizeof(buf))
				break;
			v[i] = now_ns() - t;
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
		uint64_t t = now_ns();
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || fdatasync(fd) != 0)
			break;
		v[i] = now_ns() - t;
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

static int entry_hash(struct hw_store *s, uint64_t lsn, uint8_t hash[HW_HASH_BYTES])
{
	uint8_t *e;
	size_t len;
	int rc = hw_store_read_entry(s, lsn, &e, &len);
	if (rc)
		return rc;
	if (len < HW_ENTRY_HEADER_BYTES) {
		free(e);
		return HW_ECORRUPT;
	}
	memcpy(hash, e + 64, HW_HASH_BYTES);
	free(e);
	return 0;
}

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
	if (at > 0 && (entry_hash(p, at, hp) != 0 || entry_hash(s, at, hs) != 0 ||
		       memcmp(hp, hs, HW_HASH_BYTES) != 0))
		return acked;
	uint64_t n = 0;
	for (uint64_t i = 0; i < b->corpus.count; i++)
		if (b->res.acked_lsn[i] > at)
			n++;
	return n;
}

static int open_ro(const char *dir, struct hw_store **s)
{
	struct hw_store_opts so = {.read_only = true};
	return hw_store_open(dir, &so, s);
}

/* Open every stopped node's store read-only; count what standbys lack, compare digests. */
static int check_stores(const struct bench *b, struct hw_cluster *cl, const struct load_result *lr,
			struct check *ck)
{
	struct hw_store *p;
	uint8_t dp[HW_HASH_BYTES], ds[HW_HASH_BYTES];
	int rc = open_ro(hw_cluster_dir(cl, 0), &p);
	if (rc == 0)
		rc = hw_store_digest(p, dp);
	if (rc) {
		hw_store_close(p);
		return rc;
	}
	ck->digests_equal = true;
	for (unsigned i = 1; i < hw_cluster_nodes(cl); i++) {
		struct hw_store *s;
		rc = open_ro(hw_cluster_dir(cl, i), &s);
		if (rc == 0)
			rc = hw_store_digest(s, ds);
		if (rc == 0) {
			uint64_t m = missing_on(b, p, s, lr->max_lsn, lr->acked);
			if (m > ck->missing)
				ck->missing = m;
			if (memcmp(dp, ds, HW_HASH_BYTES) != 0)
				ck->digests_equal = false;
		}
		hw_store_close(s);
		if (rc)
			break;
	}
	hw_store_close(p);
	return rc;
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
	if (hw_cluster_stop(cl) != 0)
		fprintf(stderr, "hawser bench: a node did not stop cleanly (see its log in %s%s)\n",
			hw_cluster_root(cl), b->o->keep ? "" : ", kept only with --keep");
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
	hw_json_key(j, "p50");
	hw_json_uint(j, lr->p50_us);
	hw_json_key(j, "p99");
	hw_json_uint(j, lr->p99_us);
	hw_json_key(j, "p999");
	hw_json_uint(j, lr->p999_us);
	hw_json_key(j, "max");
	hw_json_uint(j, lr->max_us);
	hw_json_object_end(j);
}

static void print_json(const struct bench *b, const struct load_result *lr, const struct check *ck,
		       uint64_t limit_ns)
{
	const struct bench_opts *o = b->o;
	char mach[64];
	struct hw_json j;
	machine(mach, sizeof(mach));
	hw_json_init(&j, stdout);
	hw_json_object_begin(&j);
	hw_json_key(&j, "mode");
	hw_json_string(&j, hw_mode_name((enum hw_mode)o->mode));
	json_u64_or_null(&j, "standbys", !o->connect, o->standbys);
	hw_json_key(&j, "clients");
	hw_json_uint(&j, o->clients);
	hw_json_key(&j, "window");
	hw_json_uint(&j, o->window);
	hw_json_key(&j, "records");
	hw_json_uint(&j, b->corpus.count);
	hw_json_key(&j, "seconds");
	hw_json_double(&j, lr->seconds);
	hw_json_key(&j, "records_per_s");
	hw_json_double(&j, lr->seconds > 0 ? (double)lr->acked / lr->seconds : 0);
	print_latency(&j, lr);
	hw_json_key(&j, "acked");
	hw_json_uint(&j, lr->acked);
	hw_json_key(&j, "rejected");
	hw_json_uint(&j, lr->rejected);
	hw_json_key(&j, "errors");
	hw_json_uint(&j, lr->errors);
	json_u64_or_null(&j, "missing_on_standby", ck->done, ck->missing);
	hw_json_key(&j, "digests_equal");
	if (ck->done)
		hw_json_bool(&j, ck->digests_equal);
	else
		hw_json_string(&j, NULL);
	json_u64_or_null(&j, "rss_kib_primary", ck->done, ck->rss_primary);
	json_u64_or_null(&j, "rss_kib_standby", ck->done && o->standbys, ck->rss_standby);
	hw_json_key(&j, "machine");
	hw_json_string(&j, mach);
	hw_json_key(&j, "dependency_depth");
	hw_json_uint(&j, b->sched.depth);
	hw_json_key(&j, "record_bytes_mean");
	hw_json_double(&j, b->corpus.count ? (double)b->corpus.bytes / (double)b->corpus.count : 0);
	if (o->clients == 1)
		json_u64_or_null(&j, "limit_us", limit_ns > 0, limit_ns / 1000);
	hw_json_object_end(&j);
}

static void print_human(const struct bench *b, const struct load_result *lr, const struct check *ck)
{
	const struct bench_opts *o = b->o;
	fprintf(stderr,
		"hawser bench: %" PRIu64 " records (%.0f B mean), mode %s, %u client%s x %u "
		"outstanding: %.0f records/s\n"
		"  latency p50 %" PRIu64 " us, p99 %" PRIu64 " us, p99.9 %" PRIu64
		" us, max %" PRIu64 " us\n  acked %" PRIu64 ", rejected %" PRIu64
		", errors %" PRIu64 "\n",
		b->corpus.count, (double)b->corpus.bytes / (double)b->corpus.count,
		hw_mode_name((enum hw_mode)o->mode), o->clients, o->clients == 1 ? "" : "s",
		o->window, lr->seconds > 0 ? (double)lr->acked / lr->seconds : 0, lr->p50_us,
		lr->p99_us, lr->p999_us, lr->max_us, lr->acked, lr->rejected, lr->errors);
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
	if (o->mode < 0)
		o->mode = o->standbys == 0 && !o->connect ? HW_MODE_LOCAL : HW_MODE_DURABLE;
	if (!o->connect && o->k > o->standbys)
		return hw_cli_usage_error(cmd, "--k %" PRIu64 " is more than --standbys %u", o->k,
					  o->standbys);
	if (!o->connect && o->standbys == 0 && o->mode != HW_MODE_LOCAL)
		return hw_cli_usage_error(cmd, "--mode %s needs at least one standby",
					  hw_mode_name((enum hw_mode)o->mode));
	if ((uint64_t)o->clients * o->window > 65536u)
		return hw_cli_usage_error(cmd, "--clients x --window is over 65536, the node's "
					       "default limit of waiting submits");
	return HW_CLI_RUN;
}

static int bench_alloc(struct bench *b)
{
	uint64_t n = b->corpus.count ? b->corpus.count : 1;
	int rc = sched_init(&b->sched, &b->corpus);
	if (rc)
		return rc;
	b->res.sent_ns = calloc(n, sizeof(uint64_t));
	b->res.lat_ns = calloc(n, sizeof(uint64_t));
	b->res.acked_lsn = calloc(n, sizeof(uint64_t));
	b->res.pos = calloc(n, sizeof(uint32_t));
	b->conns = calloc(b->o->clients, sizeof(*b->conns));
	if (!b->res.sent_ns || !b->res.lat_ns || !b->res.acked_lsn || !b->res.pos || !b->conns)
		return HW_ENOMEM;
	for (unsigned j = 0; j < b->o->clients; j++) {
		b->conns[j].inflight = calloc(b->o->window, sizeof(uint64_t));
		if (!b->conns[j].inflight)
			return HW_ENOMEM;
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	for (unsigned j = 0; b->conns && j < b->o->clients; j++) {
		hw_client_close(b->conns[j].cl);
		free(b->conns[j].inflight);
	}
	free(b->conns);
	free(b->res.sent_ns);
	free(b->res.lat_ns);
	free(b->res.acked_lsn);
	free(b->res.pos);
	sched_free(&b->sched);
	corpus_free(&b->corpus);
}

static int start_cluster(const struct bench_opts *o, struct hw_cluster **cl)
{
	struct hw_cluster_opts co = {
		.standbys = o->standbys,
		.mode = hw_mode_name((enum hw_mode)o->mode),
		.k = (unsigned)o->k,
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
	if (ck->done && o->mode != HW_MODE_LOCAL && (ck->missing > 0 || !ck->digests_equal))
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
	rc = corpus_make(&o, &b.corpus);
	if (rc == 0)
		rc = bench_alloc(&b);
	if (rc) {
		bench_free(&b);
		return hw_cli_fail(cmd->name, "records", rc);
	}
	if (!o.connect && (rc = start_cluster(&o, &cl)) != 0) {
		bench_free(&b);
		return hw_cli_fail(cmd->name, "starting the cluster", rc);
	}
	if (o.clients == 1)
		limit_ns = limit_probe(cl);
	rc = run_load(&b, o.connect ? o.connect : hw_cluster_client_addr(cl), &lr);
	if (rc)
		hw_cli_fail(cmd->name, "load", rc);
	if (cl) {
		int crc = finish_cluster(&b, cl, &lr, &ck);
		if (crc)
			hw_cli_fail(cmd->name, "checking the stores", crc);
		if (o.keep)
			fprintf(stderr, "hawser bench: cluster kept in %s\n", hw_cluster_root(cl));
		rc = rc ? rc : crc;
	}
	print_json(&b, &lr, &ck, limit_ns);
	if (!o.json)
		print_human(&b, &lr, &ck);
	int code = verdict(&o, &lr, &ck, rc);
	hw_cluster_free(cl, o.keep);
	bench_free(&b);
	return code;
}

const struct hw_cli_cmd hw_cli_bench = {
	"bench", "measure a local cluster (or a running node) through the client port",
	"usage: hawser bench [--standbys N] [--clients C] [--window W] [--records R]\n"
	"                    [--profile NAME] [--mode M] [--k K] [--seed S]\n"
	"                    [--connect ADDR] [--keep] [--json]\n"
	"  Start a primary and N standbys (default 1) as `hawser node` processes on loopback\n"
	"  in a scratch directory, generate R records (default 100000; profile NAME, default\n"
	"  terminal_peak; seed S, default 1) and submit them through the primary's client\n"
	"  port from C connections (default 32, at most 1000) with W submits outstanding on\n"
	"  each (default 1: closed loop, as pgbench). A record is sent only once the earlier\n"
	"  records it depends on (same container, work instruction, slot, vessel ...) have\n"
	"  their outcome, as a TOS would; dependency_depth is the longest such chain.\n"
	"  --mode M (local, received, durable, applied; default durable) and --k K (default\n"
	"  1) set the cluster's and every submit's durability. Afterwards wait for the\n"
	"  standbys, stop the nodes and check that every acknowledged record is on every\n"
	"  standby with the same bytes and that the state digests agree (N: 1 to 8).\n"
	"  --connect ADDR: drive a running node instead (no cluster, no checks).\n"
	"  --keep: keep the scratch directory (configs, stores, node logs).\n"
	"  Prints one JSON object on stdout (throughput, latency p50/p99/p99.9/max in us,\n"
	"  acked, errors, missing_on_standby, digests_equal, peak RSS, machine, mean record\n"
	"  size; with --clients 1 also limit_us, a loopback round trip plus one flush), and\n"
	"  a summary on stderr unless --json. Exit 1 on any error, or for modes other than\n"
	"  local when a standby misses an acknowledged record or a digest differs.\n",
	cmd_bench};
