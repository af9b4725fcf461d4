/* test_channel_wire.c: the authenticated, encrypted channel (engine/io/channel.h) as the
 * nodes and the client library run it, with real `hawser node` processes: a node whose
 * key is not pinned is refused and logged, a flipped bit on the wire kills the connection
 * and nothing is lost, a config without keys or insecure = true does not start, a
 * capture of the replication traffic shows no container number unless insecure, and a
 * client that the primary's back-pressure holds up for 7 s keeps its connection; a peer
 * that connects and hangs up is logged as cut, not refused, and one whose record would
 * be larger than a port is sent is closed from its header; a flood of such probes to one
 * port has its lines counted apart from the other port's. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "bench/workload.h"
#include "base/bytes.h"
#include "chaos/proxy.h"
#include "engine/client_int.h"
#include "engine/io/channel.h"
#include "hawser.h"
#include "replica/record.h"
#include "tests/integration/proc.h"
#include "tos.pb-c.h"
#include "wire.pb-c.h"

#define CLUSTER_ID "wire"
#define WAIT_MS    10000
/* Records whose container numbers the capture is searched for. */
#define CAPTURE_RECORDS 40u
#define CAPTURE_BYTES   (8u << 20)
#define NUMBERS_MAX     64u

struct fix {
	char root[HW_PROC_PATH_MAX];
	char keys[HW_PROC_PATH_MAX + 8];
	char pins[HW_PROC_PATH_MAX + 8];
	char rogue_fp[HW_CHANNEL_FINGERPRINT_CHARS + 1];
	char client_fp[HW_CHANNEL_FINGERPRINT_CHARS + 1];
	struct hw_tnode p, s;
	struct hw_client_security sec; /* the client's */
	char client_key[HW_PROC_PATH_MAX + 32];
	struct hw_proxy *px;
};

/* ---- keys and configs */

/* A key pair for name: keys/<name>.key, and its node.pub into dir (the pins, or not). */
static void make_key(struct fix *f, const char *name, const char *dir, char *fp)
{
	struct hw_identity id;
	char text[512], path[2 * HW_PROC_PATH_MAX];
	assert_int_equal(hw_identity_generate(&id), 0);
	long n = hw_identity_format_public(&id, text, sizeof text);
	assert_true(n > 0);
	snprintf(path, sizeof path, "%s/%s.pub", dir, name);
	FILE *fp_pub = fopen(path, "w");
	assert_non_null(fp_pub);
	assert_int_equal(fputs(text, fp_pub) >= 0, 1);
	assert_int_equal(fclose(fp_pub), 0);
	n = hw_identity_format_secret(&id, text, sizeof text);
	assert_true(n > 0);
	snprintf(path, sizeof path, "%s/%s.key", f->keys, name);
	FILE *fk = fopen(path, "w");
	assert_non_null(fk);
	assert_int_equal(fchmod(fileno(fk), 0600), 0);
	assert_int_equal(fputs(text, fk) >= 0, 1);
	assert_int_equal(fclose(fk), 0);
	if (fp)
		hw_channel_fingerprint(id.kx_pk, fp);
	hw_identity_wipe(&id);
}

/* [security] for a node using key name, or insecure. */
static void security(const struct fix *f, FILE *ini, const char *key, bool insecure)
{
	if (insecure)
		fprintf(ini, "[security]\ninsecure = true\n");
	else
		fprintf(ini, "[security]\nkey = %s/%s.key\npeers = %s\n", f->keys, key, f->pins);
}

/* Write n's config as an impostor: a primary at n's addresses holding the key pinned as
 * a client's (client.pub), so pinned, but not as any node. */
static void impostor(const struct fix *f, const struct hw_tnode *n)
{
	FILE *ini = fopen(n->ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = " CLUSTER_ID "\nstandbys = s1\n[node]\nid = client\n"
		"role = primary\ndata_dir = %s\nlisten = %s\nclient = %s\n",
		n->dir, n->listen, n->client);
	security(f, ini, "client", false);
	assert_int_equal(fclose(ini), 0);
}

/* Name the primary p1 and standby s1 under root: paths and free ports. */
static void name_nodes(struct fix *f)
{
	struct hw_tnode_opts po = {.primary = true, .standbys = "s1", .mode = "durable", .k = 1};
	assert_int_equal(hw_tnode_init(&f->p, f->root, "p1", &po), 0);
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
}

/* Write p1's config. */
static void primary_config(struct fix *f, bool insecure)
{
	FILE *ini = fopen(f->p.ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = " CLUSTER_ID "\nstandbys = s1\n[node]\nid = p1\nrole = primary\n"
		"data_dir = %s\nlisten = %s\nclient = %s\n[durability]\nmode = durable\nk = 1\n",
		f->p.dir, f->p.listen, f->p.client);
	security(f, ini, "p1", insecure);
	assert_int_equal(fclose(ini), 0);
}

/* Write p1's and s1's configs: the standby connects to primary_addr (NULL: the primary;
 * or a proxy or the tap) with key s_key. */
static void configs(struct fix *f, const char *s_key, const char *primary_addr, bool insecure)
{
	primary_config(f, insecure);
	FILE *ini = fopen(f->s.ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = " CLUSTER_ID "\n[node]\nid = s1\nrole = standby\ndata_dir = %s\n"
		"client = %s\nprimary = p1@%s\n",
		f->s.dir, f->s.client, primary_addr ? primary_addr : f->p.listen);
	security(f, ini, s_key, insecure);
	assert_int_equal(fclose(ini), 0);
	f->sec.insecure = insecure;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(hw_test_mkdtemp("channel_wire", f->root, sizeof f->root), 0);
	snprintf(f->keys, sizeof f->keys, "%s/keys", f->root);
	snprintf(f->pins, sizeof f->pins, "%s/pins", f->root);
	assert_int_equal(mkdir(f->keys, 0700), 0);
	assert_int_equal(mkdir(f->pins, 0755), 0);
	make_key(f, "p1", f->pins, NULL);
	make_key(f, "s1", f->pins, NULL);
	make_key(f, "client", f->pins, f->client_fp);
	make_key(f, "rogue", f->keys, f->rogue_fp); /* its node.pub pinned nowhere */
	snprintf(f->client_key, sizeof f->client_key, "%s/client.key", f->keys);
	f->sec = (struct hw_client_security){
		.cluster_id = CLUSTER_ID, .key = f->client_key, .peers = f->pins};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	hw_proxy_free(f->px);
	hw_test_rm_rf(f->root);
	free(f);
	return 0;
}

/* ---- clients */

static Hawser__Wire__V1__Status *status_of(const struct hw_client_security *sec, const char *addr)
{
	struct hw_client *c;
	uint8_t *body = NULL;
	size_t len = 0;
	int rc = hw_client_connect_secure(addr, sec, &c);
	if (rc == 0) {
		rc = hw_client_status(c, 2000, &body, &len);
		hw_client_close(c);
	}
	Hawser__Wire__V1__Status *s =
		rc == 0 ? hawser__wire__v1__status__unpack(NULL, len, body) : NULL;
	free(body);
	return s;
}

/* Wait until the standby reports durable_lsn >= lsn, pausing on its log pipe. */
static void wait_standby(struct fix *f, uint64_t lsn)
{
	uint64_t seen = 0;
	for (int i = 0; i < WAIT_MS / 50 && seen < lsn; i++) {
		Hawser__Wire__V1__Status *s = status_of(&f->sec, f->s.client);
		seen = s ? s->durable_lsn : 0;
		hawser__wire__v1__status__free_unpacked(s, NULL);
		if (seen < lsn)
			hw_proc_pump(&f->s.proc, 50);
	}
	assert_true(seen >= lsn);
}

/* Submit count generated records (seed) with mode to the node(s) at addr; every one must
 * be acknowledged. Their bytes are appended to keep[0..*kept) when keep is not NULL.
 * Returns the last LSN. */
static uint64_t submit_to(const struct fix *f, const char *addr, uint64_t seed, unsigned count,
			  enum hw_durability mode, uint8_t *keep, size_t *kept)
{
	struct hw_workload_opts wo = {.seed = seed, .count = count, .end_ms = 1790000000000};
	struct hw_workload *w;
	struct hw_client *c;
	assert_int_equal(hw_workload_new(&wo, &w), 0);
	assert_int_equal(hw_client_connect_secure(addr, &f->sec, &c), 0);
	uint8_t *buf = malloc(HW_RECORD_BYTES_MAX);
	assert_non_null(buf);
	uint64_t lsn = 0;
	for (unsigned i = 0; i < count; i++) {
		struct hw_work_item it;
		struct hw_outcome o;
		assert_int_equal(hw_workload_next(w, buf, HW_RECORD_BYTES_MAX, &it), 0);
		assert_int_equal(hw_client_submit(c, i, buf, it.len, mode, 0), 0);
		assert_int_equal(hw_client_wait(c, WAIT_MS, &o), 0);
		assert_int_equal(o.code, 0);
		lsn = o.lsn;
		if (keep) {
			memcpy(keep + *kept, buf, it.len);
			*kept += it.len;
		}
	}
	free(buf);
	hw_client_close(c);
	hw_workload_free(w);
	return lsn;
}

/* submit_to the primary p1. */
static uint64_t submit(const struct fix *f, uint64_t seed, unsigned count, enum hw_durability mode,
		       uint8_t *keep, size_t *kept)
{
	return submit_to(f, f->p.client, seed, count, mode, keep, kept);
}

/* Records of test_pressed_client_kept: as many as a client may have in flight, key/value
 * records of PRESS_VALUE_BYTES each, 32 MiB: past the 1024 the primary takes (its
 * waiters_max), far more than the sockets between a client and a primary that reads
 * nothing hold (its receive buffer stays at its first size while it reads nothing, the
 * client's send buffer takes 4 MiB at most). */
#define PRESS_RECORDS     HW_CLIENT_INFLIGHT_MAX
#define PRESS_VALUE_BYTES (8u * 1024u)
#define PRESS_MS          7000 /* past the 5 s a dial bounded unacknowledged data to */

/* Record n of test_pressed_client_kept into buf[0..cap): a key/value record, its
 * record_id and key n's own. Its length. */
static size_t press_record(uint8_t *buf, size_t cap, uint32_t n)
{
	static uint8_t value[PRESS_VALUE_BYTES];
	memset(value, (int)(n & 0xff), sizeof value);
	uint8_t rid[HW_RECORD_ID_BYTES] = {0x70};
	memcpy(rid + 1, &n, sizeof n);
	char key[32];
	snprintf(key, sizeof key, "press-%u", n);
	Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
	kv.key = key;
	kv.value = (ProtobufCBinaryData){sizeof value, value};
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	r.record_id = (ProtobufCBinaryData){sizeof rid, rid};
	r.tenant_id = "T1";
	r.facility_id = "JPNGO-NCB";
	r.event_time_ms = hw_wall_ms() - 1000;
	r.schema_version = 1;
	r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
	r.kv_put = &kv;
	return hw_record_encode(&r, buf, cap);
}

/* The submits of test_pressed_client_kept, written from their own thread: they wait to be
 * written while the primary reads nothing. rc: the first submit's error, 0 once all were
 * written; done posted then. */
struct pressed {
	struct hw_client *c;
	int rc;
	sem_t done;
};

static void *pressed_submit(void *arg)
{
	struct pressed *p = arg;
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	for (uint32_t i = 0; i < PRESS_RECORDS && p->rc == 0; i++) {
		size_t len = press_record(buf, sizeof buf, i);
		p->rc = len > 0 ? hw_client_submit(p->c, i, buf, len, HW_DURABLE, 1) : HW_ERANGE;
	}
	sem_post(&p->done);
	return NULL;
}

/* A primary with waiters_max durable submits waiting (its standby down) reads nothing more
 * from its client, whose submits wait to be written (the window shut) for 7 s while the
 * primary's heartbeats go on, sealed as all it sends: back-pressure, not a lost node. The
 * connection stays, and once the standby is up every submit is written and answered on
 * it. A dial's bound on unacknowledged data (5 s) ended it before: HW_ECLOSED, with the
 * node alive (test_client_pressure.c has the same against a fake node, in plaintext). */
static void test_pressed_client_kept(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "s1", NULL, false);
	FILE *ini = fopen(f->p.ini, "a");
	assert_non_null(ini);
	fprintf(ini, "[limits]\nwaiters_max = 1024\n"); /* then it reads no more submits */
	assert_int_equal(fclose(ini), 0);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	static struct pressed p; /* its thread may outlive a failed test */
	p = (struct pressed){0};
	assert_int_equal(sem_init(&p.done, 0, 0), 0);
	assert_int_equal(hw_client_connect_secure(f->p.client, &f->sec, &p.c), 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, pressed_submit, &p), 0);
	if (hw_test_sem_wait(&p.done, PRESS_MS)) { /* not held up for all of PRESS_MS */
		assert_int_equal(p.rc, 0); /* HW_ECLOSED: the connection was cut meanwhile */
		fail_msg("%u submits written at once: the primary never pressed", PRESS_RECORDS);
	}
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_true(hw_test_sem_wait(&p.done, WAIT_MS));
	pthread_join(t, NULL);
	assert_int_equal(p.rc, 0);
	static bool seen[PRESS_RECORDS];
	for (unsigned i = 0; i < PRESS_RECORDS; i++) {
		struct hw_outcome o;
		assert_int_equal(hw_client_wait(p.c, WAIT_MS, &o), 0);
		assert_true(o.request_id < PRESS_RECORDS && !seen[o.request_id]);
		seen[o.request_id] = true;
		assert_int_equal(o.code, 0);
	}
	hw_client_close(p.c);
	sem_destroy(&p.done);
}

/* ---- a tap: forwards one connection at a time and keeps every byte */

struct tap {
	int lfd;
	uint16_t target_port;
	char addr[32];
	pthread_t thread;
	atomic_bool stop;
	uint8_t *bytes;
	size_t len;
};

/* Forward between a and b until one side closes, recording everything. */
static void tap_pair(struct tap *t, int a, int b)
{
	uint8_t buf[64 * 1024];
	struct pollfd pfd[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
	while (!atomic_load(&t->stop)) {
		if (poll(pfd, 2, 50) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(pfd[i].fd, buf, sizeof buf);
			if (n <= 0)
				return;
			size_t room = CAPTURE_BYTES - t->len;
			memcpy(t->bytes + t->len, buf, (size_t)n < room ? (size_t)n : room);
			t->len += (size_t)n < room ? (size_t)n : room;
			for (ssize_t off = 0, w; off < n; off += w)
				if ((w = write(pfd[1 - i].fd, buf + off, (size_t)(n - off))) <= 0)
					return;
		}
	}
}

static void *tap_main(void *arg)
{
	struct tap *t = arg;
	struct pollfd lp = {.fd = t->lfd, .events = POLLIN};
	while (!atomic_load(&t->stop)) {
		if (poll(&lp, 1, 50) <= 0)
			continue;
		int a = accept(t->lfd, NULL, NULL);
		int b = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(t->target_port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (a >= 0 && b >= 0 && connect(b, (struct sockaddr *)&sa, sizeof sa) == 0)
			tap_pair(t, a, b);
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
	return NULL;
}

static void tap_start(struct tap *t, const char *target)
{
	t->bytes = malloc(CAPTURE_BYTES);
	assert_non_null(t->bytes);
	const char *colon = strrchr(target, ':');
	assert_non_null(colon);
	t->target_port = (uint16_t)atoi(colon + 1);
	t->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	assert_int_equal(bind(t->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(t->lfd, 4), 0);
	assert_int_equal(getsockname(t->lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(t->addr, sizeof t->addr, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	assert_int_equal(pthread_create(&t->thread, NULL, tap_main, t), 0);
}

static void tap_stop(struct tap *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	close(t->lfd);
}

/* ISO 6346 container numbers (3 letters, U/J/Z, 7 digits) in buf, at most max. */
static unsigned container_numbers(const uint8_t *buf, size_t len, char (*out)[12], unsigned max)
{
	unsigned n = 0;
	for (size_t i = 0; i + 11 <= len && n < max; i++) {
		bool ok = true;
		for (size_t k = 0; k < 11 && ok; k++) {
			uint8_t ch = buf[i + k];
			ok = k < 3    ? ch >= 'A' && ch <= 'Z'
			     : k == 3 ? ch == 'U' || ch == 'J' || ch == 'Z'
				      : ch >= '0' && ch <= '9';
		}
		if (!ok)
			continue;
		memcpy(out[n], buf + i, 11);
		out[n++][11] = '\0';
		i += 10;
	}
	return n;
}

static bool holds(const uint8_t *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* The start of the file at path (a command's stderr) into text[0..cap), NUL-terminated. */
static void read_log(const char *path, char *text, size_t cap)
{
	FILE *lf = fopen(path, "r");
	assert_non_null(lf);
	size_t n = fread(text, 1, cap - 1, lf);
	fclose(lf);
	text[n] = '\0';
}

/* ---- tests */

/* The rogue standby is asked by a client that pins it too (the pinned set is the client's
 * own choice: the node cannot make a client trust it): it holds nothing, and the primary
 * shows it never connected, durable 0; a client pinning the cluster's keys only is
 * refused by it (HW_EAUTH on the client's side). */
static void rogue_gets_nothing(struct fix *f)
{
	char pins[3 * HW_PROC_PATH_MAX];
	snprintf(pins, sizeof pins, "%s, %s/rogue.pub", f->pins, f->keys);
	struct hw_client_security trusting = f->sec;
	trusting.peers = pins;
	Hawser__Wire__V1__Status *ps = status_of(&f->sec, f->p.client);
	Hawser__Wire__V1__Status *ss = status_of(&trusting, f->s.client);
	assert_null(status_of(&f->sec, f->s.client)); /* HW_EAUTH on the client's side */
	assert_non_null(ps);
	assert_non_null(ss);
	assert_false(ps->insecure);
	assert_int_equal(ps->n_peers, 1);
	assert_false(ps->peers[0]->connected);
	assert_int_equal(ps->peers[0]->durable, 0);
	assert_int_equal(ss->last_lsn, 0);
	hawser__wire__v1__status__free_unpacked(ps, NULL);
	hawser__wire__v1__status__free_unpacked(ss, NULL);
	assert_null(strstr(f->s.proc.log, "event=channel_open"));
}

/* The rogue key as a client is refused (the primary logs it, from *pm on); in a list where
 * no node answered, the refusal is the answer, not "no primary" (a retry would not help):
 * the node that is down first in the list changes nothing. */
static void rogue_client_refused(struct fix *f, size_t *pm)
{
	char rogue_key[2 * HW_PROC_PATH_MAX];
	snprintf(rogue_key, sizeof rogue_key, "%s/rogue.key", f->keys);
	struct hw_client_security bad = f->sec;
	bad.key = rogue_key;
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect_secure(f->p.client, &bad, &c), HW_EHANDSHAKE);
	assert_true(hw_proc_wait_line(&f->p.proc, pm, "event=channel_refused", f->rogue_fp, WAIT_MS,
				      NULL, 0));
	uint16_t dead;
	assert_int_equal(hw_free_port(&dead), 0);
	char list[96];
	snprintf(list, sizeof list, "127.0.0.1:%u, %s", dead, f->p.client);
	assert_int_equal(hw_client_connect_secure(list, &bad, &c), HW_EHANDSHAKE);
	assert_null(c);
}

/* A client of another --cluster is refused in the handshake, told nothing by the node
 * (which logs HW_ECLUSTER, from pm on): the client names what that may be (it said
 * "handshake failed" alone), with the id escaped: its newline and the log line after it
 * stay on the client's line (they forged one of their own). */
static void other_cluster_refused(struct fix *f, size_t pm)
{
	char out[256], log[2 * HW_PROC_PATH_MAX], text[4096];
	snprintf(log, sizeof log, "%s/status.log", f->root);
	const char *other = "other\n[fake] event=promoted";
	const char *args[] = {"status",  "--connect", f->p.client, "--key", f->client_key,
			      "--peers", f->pins,     "--cluster", other,   NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, WAIT_MS, args), 1);
	read_log(log, text, sizeof text);
	assert_non_null(strstr(text, " closed the connection during the handshake: the node "
				     "refused this client, as it does when its cluster id "
				     "differs from --cluster 'other\\n[fake] event=promoted'"));
	assert_non_null(strstr(text, "or it does not pin this client's key"));
	assert_true(hw_proc_wait_line(&f->p.proc, &pm, "event=channel_refused", "HW_ECLUSTER",
				      WAIT_MS, NULL, 0));
}

/* A standby whose key the primary does not pin is refused with HW_EAUTH, logged with its
 * address and key fingerprint, and gets nothing; a client with that key is refused too,
 * and a connection that never starts its handshake is closed after the deadline. */
static void test_unpinned_node_refused(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "rogue", NULL, false);
	size_t pm = 0, sm = 0;
	assert_int_equal(hw_tnode_start(&f->p, &pm), 0);
	int silent = hw_test_dial(f->p.listen); /* and sends nothing */
	assert_true(silent >= 0);
	assert_int_equal(hw_tnode_start(&f->s, &sm), 0);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->p.proc, &pm, "event=channel_refused", "code=HW_EAUTH",
				      WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, f->rogue_fp));
	assert_non_null(strstr(line, "peer=127.0.0.1:"));
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=channel_refused",
				      "code=HW_EHANDSHAKE", WAIT_MS, NULL, 0));
	assert_true(submit(f, 1, 10, HW_LOCAL, NULL, NULL) >= 10);
	rogue_gets_nothing(f);
	rogue_client_refused(f, &pm);
	other_cluster_refused(f, pm);
	/* a plaintext client (told: the other channel) */
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect(f->p.client, &c), HW_ECHANNEL);
	assert_true(hw_proc_wait_line(&f->p.proc, &pm, "event=channel_refused", "ETIMEDOUT",
				      WAIT_MS, NULL, 0));
	struct pollfd pfd = {.fd = silent, .events = POLLIN};
	char byte;
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	assert_true(read(silent, &byte, 1) <= 0); /* closed, and told nothing */
	close(silent);
	assert_int_equal(hw_proc_stop(&f->s.proc, WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, WAIT_MS), 0);
}

/* A key pinned as a client's (client.pub) that dials the replication port saying it is
 * standby s1 is refused with HW_EAUTH and gets no entry: whoever says it is a node must
 * hold the key pinned under that node's name. */
static void test_client_key_as_standby_refused(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "client", NULL, false);
	size_t pm = 0, sm = 0;
	assert_int_equal(hw_tnode_start(&f->p, &pm), 0);
	assert_int_equal(hw_tnode_start(&f->s, &sm), 0);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->p.proc, &pm, "event=peer_refused",
				      "reason=key_not_that_node", WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, "node=s1"));
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=primary_refused", "code=HW_EAUTH",
				      WAIT_MS, NULL, 0));
	assert_true(submit(f, 1, 10, HW_LOCAL, NULL, NULL) >= 10);
	Hawser__Wire__V1__Status *ps = status_of(&f->sec, f->p.client);
	assert_non_null(ps);
	assert_int_equal(ps->n_peers, 1);
	assert_false(ps->peers[0]->connected);
	assert_int_equal(ps->peers[0]->durable, 0);
	hawser__wire__v1__status__free_unpacked(ps, NULL);
	assert_null(strstr(f->s.proc.log, "event=following"));
	assert_int_equal(hw_proc_stop(&f->s.proc, WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, WAIT_MS), 0);
	char out[8192], log[2 * HW_PROC_PATH_MAX]; /* the refusal is in the audit trail */
	snprintf(log, sizeof log, "%s/audit.log", f->root);
	const char *args[] = {"audit", f->p.dir, NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, WAIT_MS, args), 0);
	assert_non_null(strstr(out, "auth_failure"));
	assert_non_null(strstr(out, "key not pinned as node s1"));
}

/* A node holding a key pinned as a client's (client.pub) that runs as a primary at the
 * address the standby follows is refused before anything is said: the standby follows
 * only the key pinned as the primary node.primary names (p1), so it neither sends its
 * hello nor takes an entry, a REJOIN or an ERROR from it, and says so in its log and its
 * audit trail. */
static void test_client_key_as_primary_refused(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "s1", NULL, false);
	impostor(f, &f->p); /* p1's address, the client's key */
	size_t pm = 0, sm = 0;
	assert_int_equal(hw_tnode_start(&f->p, &pm), 0);
	assert_true(submit(f, 1, 10, HW_LOCAL, NULL, NULL) >= 10);
	assert_int_equal(hw_tnode_start(&f->s, &sm), 0);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=peer_refused",
				      "reason=not_the_primary", WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, "node=p1"));
	assert_non_null(strstr(line, "key not pinned as primary p1"));
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=primary_lost", "code=HW_EAUTH",
				      WAIT_MS, NULL, 0));
	Hawser__Wire__V1__Status *ss = status_of(&f->sec, f->s.client);
	assert_non_null(ss);
	assert_int_equal(ss->last_lsn, 0);
	hawser__wire__v1__status__free_unpacked(ss, NULL);
	assert_null(strstr(f->s.proc.log, "event=following"));
	assert_null(strstr(f->p.proc.log, "event=standby_connected"));
	/* a standby appends nothing to its log: it holds the refusal until it leads */
	size_t from = 0;
	assert_true(hw_proc_wait_line(&f->s.proc, &from, "event=audit_held",
				      "key not pinned as primary p1", WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, WAIT_MS), 0);
}

/* A client that names the node at each address (ID@ADDR) takes only the key pinned as
 * that node's. A machine holding another pinned key (client.pub: another client's) that
 * answers at the address a client dials as p1 is refused with HW_EAUTH: the connect
 * fails, `hawser submit` names the address, the id and the key (as the nodes log it),
 * and nothing is stored there. p1 itself, dialled as p1@, takes the submits; in a list
 * each address is held to its own id, in the first search and in a reconnect, which both
 * meet the impostor first. A bare address still takes any pinned key (the weaker form). */
static void test_client_named_node_impostor_refused(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "s1", NULL, false);
	struct hw_tnode_opts io = {.primary = true, .standbys = "s1"};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "client", &io), 0);
	impostor(f, &f->s);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	char fake_p1[48], real_p1[48], list[96];
	snprintf(fake_p1, sizeof fake_p1, "p1@%s", f->s.client);
	snprintf(real_p1, sizeof real_p1, "p1@%s", f->p.client);
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect_secure(fake_p1, &f->sec, &c), HW_EAUTH);
	assert_null(c);
	char out[256], log[2 * HW_PROC_PATH_MAX], text[4096];
	snprintf(log, sizeof log, "%s/submit.log", f->root);
	const char *args[] = {"submit", "--connect", fake_p1,       "--generate",
			      "3",      "--key",     f->client_key, "--peers",
			      f->pins,  "--cluster", CLUSTER_ID,    NULL};
	assert_int_not_equal(hw_proc_run(log, out, sizeof out, WAIT_MS, args), 0);
	read_log(log, text, sizeof text);
	char *said = strstr(text, fake_p1);
	assert_non_null(said);
	assert_non_null(strstr(said, "not pinned as node p1"));
	assert_non_null(strstr(said, f->client_fp));
	assert_non_null(strstr(said, "HW_EAUTH"));
	assert_true(submit_to(f, real_p1, 1, 5, HW_LOCAL, NULL, NULL) >= 5);
	snprintf(list, sizeof list, "s1@%s, %s", f->s.client, real_p1);
	assert_int_equal(hw_client_connect_secure(list, &f->sec, &c), 0);
	assert_string_equal(hw_client_addr(c), real_p1);
	assert_int_equal(hw_client_reconnect(c, WAIT_MS), 0); /* from after p1: the impostor */
	assert_string_equal(hw_client_addr(c), real_p1);
	hw_client_close(c);
	Hawser__Wire__V1__Status *fs = status_of(&f->sec, f->s.client); /* bare: taken */
	assert_non_null(fs);
	assert_true(fs->last_lsn <= 1); /* its own node_start audit event at most */
	hawser__wire__v1__status__free_unpacked(fs, NULL);
	assert_int_equal(hw_proc_stop(&f->s.proc, WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, WAIT_MS), 0);
}

/* One flipped bit in the replication stream fails the record's authentication: the
 * standby drops the connection, reconnects, and ends with the primary's exact state. */
static void test_corrupt_byte_rejected(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	assert_int_equal(hw_proxy_new("127.0.0.1:0", f->p.listen, &f->px), 0);
	assert_int_equal(hw_proxy_start(f->px), 0);
	configs(f, "s1", hw_proxy_addr(f->px), false);
	size_t sm = 0;
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	assert_int_equal(hw_tnode_start(&f->s, &sm), 0);
	assert_true(
		hw_proc_wait_line(&f->s.proc, &sm, "event=channel_open", NULL, WAIT_MS, NULL, 0));
	wait_standby(f, submit(f, 1, 20, HW_DURABLE, NULL, NULL));
	hw_proxy_corrupt(f->px, HW_PROXY_DOWN, 200);
	char line[1024];
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=channel_failed", NULL, WAIT_MS, line,
				      sizeof line));
	/* a flip in a ciphertext or tag fails authentication; in the clear header it is a
	 * sequence or length the channel refuses just the same */
	assert_true(strstr(line, "code=HW_EDECRYPT") || strstr(line, "code=HW_EREPLAY") ||
		    strstr(line, "code=HW_EFRAME"));
	assert_true(
		hw_proc_wait_line(&f->s.proc, &sm, "event=channel_open", NULL, WAIT_MS, NULL, 0));
	struct hw_proxy_stats st;
	hw_proxy_stats(f->px, &st);
	assert_int_equal(st.flipped, 1);
	uint64_t lsn = submit(f, 2, 20, HW_DURABLE, NULL, NULL);
	wait_standby(f, lsn);
	assert_int_equal(hw_proc_stop(&f->s.proc, WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, WAIT_MS), 0);
	char dp[256], ds[256], log[2 * HW_PROC_PATH_MAX];
	snprintf(log, sizeof log, "%s/digest.log", f->root);
	const char *ap[] = {"digest", f->p.dir, NULL}, *as[] = {"digest", f->s.dir, NULL};
	assert_int_equal(hw_proc_run(log, dp, sizeof dp, WAIT_MS, ap), 0);
	assert_int_equal(hw_proc_run(log, ds, sizeof ds, WAIT_MS, as), 0);
	assert_string_equal(dp, ds);
}

/* A keyed vault (s1 here) refuses an operator's audit event (hawser quarantine export,
 * drill restore ... --connect) with HW_ECONFIG: a vault never appends to its log, so it
 * held the event for ever and confirmed it, a false confirmation. It logs it. */
static void test_vault_refuses_operator_event(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	FILE *ini = fopen(f->p.ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = " CLUSTER_ID "\nvaults = s1\n[node]\nid = p1\nrole = primary\n"
		"data_dir = %s\nlisten = %s\nclient = %s\n[durability]\nmode = local\n",
		f->p.dir, f->p.listen, f->p.client);
	security(f, ini, "p1", false);
	assert_int_equal(fclose(ini), 0);
	ini = fopen(f->s.ini, "w");
	assert_non_null(ini);
	fprintf(ini,
		"[cluster]\nid = " CLUSTER_ID "\n[node]\nid = s1\nrole = vault\ndata_dir = %s\n"
		"client = %s\nprimary = p1@%s\napply_delay = 0\n",
		f->s.dir, f->s.client, f->p.listen);
	security(f, ini, "s1", false);
	assert_int_equal(fclose(ini), 0);
	size_t sm = 0;
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	assert_int_equal(hw_tnode_start(&f->s, &sm), 0);
	struct hw_client *c;
	assert_int_equal(hw_client_connect_secure(f->s.client, &f->sec, &c), 0);
	assert_int_equal(hw_client_operator_event(c, TOS__V1__NODE_EVENT_KIND__EXPORT,
						  "quarantine export", WAIT_MS),
			 HW_ECONFIG);
	hw_client_close(c);
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=audit_local", "kind=export", WAIT_MS,
				      NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, WAIT_MS), 0);
}

/* A node config with neither keys nor insecure = true does not start, and says what to
 * add; keys together with insecure = true are refused too. */
static void test_config_without_keys_refused(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	static const char *const extra[] = {"", "[security]\ninsecure = true\nkey = /x.key\n"};
	static const char *const want[] = {"insecure = true", "choose one"};
	for (int i = 0; i < 2; i++) {
		FILE *ini = fopen(f->p.ini, "w");
		assert_non_null(ini);
		fprintf(ini,
			"[cluster]\nid = " CLUSTER_ID "\nstandbys = s1\n[node]\nid = p1\n"
			"role = primary\ndata_dir = %s\nlisten = %s\nclient = %s\n%s",
			f->p.dir, f->p.listen, f->p.client, extra[i]);
		assert_int_equal(fclose(ini), 0);
		char out[64], log[2 * HW_PROC_PATH_MAX], text[4096];
		snprintf(log, sizeof log, "%s/refused-%d.log", f->root, i);
		const char *args[] = {"node", "--config", f->p.ini, NULL};
		assert_int_not_equal(hw_proc_run(log, out, sizeof out, WAIT_MS, args), 0);
		read_log(log, text, sizeof text);
		assert_non_null(strstr(text, want[i]));
		assert_true(i == 1 || strstr(text, "[security] section") != NULL);
	}
}

/* A node and a peer of the other channel (one encrypted, one plaintext) say so on both
 * sides, HW_ECHANNEL, instead of a failed handshake or a bare close: an insecure primary
 * and an encrypted standby, a client with keys at the insecure node, a plaintext client at
 * the encrypted one. */
static void test_other_channel_told(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "s1", NULL, false);
	primary_config(f, true);
	size_t pm = 0, sm = 0;
	assert_int_equal(hw_tnode_start(&f->p, &pm), 0);
	assert_int_equal(hw_tnode_start(&f->s, &sm), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=channel_refused", "code=HW_ECHANNEL",
				      WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &pm, "event=frame_refused", "code=HW_ECHANNEL",
				      WAIT_MS, NULL, 0));
	struct hw_client *c = NULL;
	assert_int_equal(hw_client_connect_secure(f->p.client, &f->sec, &c), HW_ECHANNEL);
	assert_null(c);
	assert_int_equal(hw_client_connect(f->s.client, &c), HW_ECHANNEL);
	assert_null(c);
	assert_true(hw_proc_wait_line(&f->s.proc, &sm, "event=channel_refused", "code=HW_ECHANNEL",
				      WAIT_MS, NULL, 0));
	assert_non_null(strstr(hw_strerror(HW_ECHANNEL), "plaintext"));
}

/* A peer that connects and hangs up before a byte (a port scan, a TCP health check) is
 * one line, channel_cut code=HW_ECLOSED: not a refused handshake (channel_refused
 * code=HW_EHANDSHAKE, and session_lost with it, two lines a probe: 10,000 lines for a
 * scan of 5,000), which it is not. */
static void test_probe_cut_not_refused(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "s1", NULL, false);
	size_t pm = 0;
	assert_int_equal(hw_tnode_start(&f->p, &pm), 0);
	int fd = hw_test_dial(f->p.client);
	assert_true(fd >= 0);
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	char peer[64], line[512], refused[96], lost[96];
	snprintf(peer, sizeof peer, "peer=127.0.0.1:%u ", ntohs(sa.sin_port));
	assert_true(hw_proc_wait_line(&f->p.proc, &pm, "event=channel_cut", peer, WAIT_MS, line,
				      sizeof line));
	assert_non_null(strstr(line, "code=HW_ECLOSED"));
	snprintf(refused, sizeof refused, "event=channel_refused %s", peer);
	snprintf(lost, sizeof lost, "event=session_lost %s", peer);
	assert_null(strstr(f->p.proc.log, refused));
	assert_null(strstr(f->p.proc.log, lost));
}

/* count connections to addr, each closed before a byte (a port scan's probe). */
static void dial_probes(const char *addr, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		int fd = hw_test_dial(addr);
		assert_true(fd >= 0);
		close(fd);
	}
}

/* Probes to the client port, and to the replication port once the client port's lines in
 * full are written. */
#define CUT_CLIENT (2u * HW_FLOOD_LOG_LINES)
#define CUT_REPL   (HW_FLOOD_LOG_LINES / 2u)

/* A flood of probes to the client port: the node writes their channel_cut ... port=client
 * in full HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS, then one line counting the rest
 * that names the port (peer=* port=client more=N). A few probes to the replication port
 * once those are written (in the same second) are each written in full (port=replication):
 * that port's count is its own. Before, the lines named no port and one count for both
 * ports (peer=* more=N) took in the replication port's lines too: a flood on the client
 * port swallowed a standby's channel_refused into its count. */
static void test_cut_flood_log_per_port(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "s1", NULL, false);
	size_t pm = 0;
	assert_int_equal(hw_tnode_start(&f->p, &pm), 0);
	size_t full = pm, counted = pm, repl = pm;
	dial_probes(f->p.client, CUT_CLIENT);
	for (unsigned i = 0; i < HW_FLOOD_LOG_LINES; i++)
		assert_true(hw_proc_wait_line(&f->p.proc, &full, "event=channel_cut ",
					      "port=client key=", WAIT_MS, NULL, 0));
	dial_probes(f->p.listen, CUT_REPL);
	for (unsigned i = 0; i < CUT_REPL; i++)
		assert_true(hw_proc_wait_line(&f->p.proc, &repl, "event=channel_cut ",
					      "port=replication key=", WAIT_MS, NULL, 0));
	unsigned in_full = HW_FLOOD_LOG_LINES, counts = 0;
	int64_t more = 0, end = hw_mono_ms() + WAIT_MS;
	char line[512];
	while (in_full + more < CUT_CLIENT && hw_mono_ms() < end) {
		while (hw_proc_wait_line(&f->p.proc, &full, "event=channel_cut ",
					 "port=client key=", 0, NULL, 0))
			in_full++;
		if (hw_proc_wait_line(&f->p.proc, &counted,
				      "event=channel_cut peer=* port=client more=", NULL, 100, line,
				      sizeof line)) {
			counts++;
			more += hw_log_field(line, "more", 0);
		}
	}
	print_message("channel_cut port=client x %u: %u lines in full, %lld counted in %u\n",
		      CUT_CLIENT, in_full, (long long)more, counts);
	assert_int_equal(in_full + more, CUT_CLIENT);
	assert_true(counts > 0 && in_full <= counts * HW_FLOOD_LOG_LINES);
	assert_false(hw_proc_wait_line(&f->p.proc, &pm, "event=channel_cut peer=* port=replication",
				       NULL, 0, NULL, 0));
}

/* A channel to addr as the client (its key, p1's pinned), its handshake done on the
 * blocking socket: the socket, *ch the open channel (the caller frees it). */
static int client_channel(const struct fix *f, const char *addr, struct hw_channel **ch)
{
	struct hw_identity id;
	uint8_t node[HW_CHANNEL_KEY_BYTES], buf[1024];
	char pub[2 * HW_PROC_PATH_MAX];
	snprintf(pub, sizeof pub, "%s/p1.pub", f->pins);
	assert_int_equal(hw_identity_load(f->client_key, &id), 0);
	assert_int_equal(hw_channel_key_load(pub, node), 0);
	struct hw_channel_config cfg = {.role = HW_CHANNEL_INITIATOR,
					.self = &id,
					.pinned = node,
					.pinned_count = 1,
					.cluster_id = CLUSTER_ID};
	assert_int_equal(hw_channel_new(&cfg, ch), 0);
	hw_identity_wipe(&id);
	int fd = hw_test_dial(addr);
	assert_true(fd >= 0);
	size_t have = 0, n = 0, used = 0;
	for (;;) { /* hello_I; hello_R | finish_R; finish_I, and it is open */
		uint8_t out[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
		assert_int_equal(hw_channel_handshake_out(*ch, out, sizeof out, &n), 0);
		assert_int_equal(send(fd, out, n, MSG_NOSIGNAL), (ssize_t)n);
		if (hw_channel_is_open(*ch))
			break;
		int rc = hw_channel_handshake_in(*ch, buf, have, &used);
		while (rc == -EAGAIN) {
			ssize_t got = recv(fd, buf + have, sizeof buf - have, 0);
			assert_true(got > 0);
			have += (size_t)got;
			rc = hw_channel_handshake_in(*ch, buf, have, &used);
		}
		assert_int_equal(rc, 0);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	return fd;
}

/* A record sent to a node's port may hold one frame a port is sent (HW_PORT_FRAME_MAX: a
 * SUBMIT and its record): a pinned client whose record header announces more is closed
 * from the header (channel_failed code=HW_EFRAME). The node waited for up to 4 MiB of
 * its body, so each such connection, all but the last byte sent, held some 4.4 MiB of
 * the node's memory (a full client port, 4 GiB). Its standby's stream, 4 MiB frames, is
 * not bounded so. */
static void test_port_records_bounded(void **state)
{
	struct fix *f = *state;
	name_nodes(f);
	configs(f, "s1", NULL, false);
	size_t pm = 0, sm = 0;
	assert_int_equal(hw_tnode_start(&f->p, &pm), 0);
	struct hw_channel *ch = NULL;
	int fd = client_channel(f, f->p.client, &ch);
	uint8_t hdr[HW_CHANNEL_RECORD_HEADER_BYTES] = {0};
	hw_put_u32(hdr, HW_PORT_FRAME_MAX + 1 + HW_CHANNEL_ABYTES); /* seq 0 */
	hdr[12] = 1;                                                /* a message */
	assert_int_equal(send(fd, hdr, sizeof hdr, MSG_NOSIGNAL), (ssize_t)sizeof hdr);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char byte;
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1);
	assert_true(read(fd, &byte, 1) <= 0); /* closed at once, told nothing */
	close(fd);
	hw_channel_free(ch);
	assert_true(hw_proc_wait_line(&f->p.proc, &pm, "event=channel_failed", "code=HW_EFRAME",
				      WAIT_MS, NULL, 0));
	assert_int_equal(hw_tnode_start(&f->s, &sm), 0);
	assert_true(submit(f, 1, 200, HW_DURABLE, NULL, NULL) >= 200);
}

/* Run p1 and s1 with the standby's replication through a tap, submit CAPTURE_RECORDS
 * durable records, and return how many of their container numbers the tap saw. */
static unsigned captured_numbers(struct fix *f, bool insecure, unsigned *numbers)
{
	struct tap t = {0};
	name_nodes(f);
	tap_start(&t, f->p.listen);
	configs(f, "s1", t.addr, insecure);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	uint8_t *kept = malloc(CAPTURE_RECORDS * HW_RECORD_BYTES_MAX);
	assert_non_null(kept);
	size_t kept_len = 0;
	wait_standby(f, submit(f, 7, CAPTURE_RECORDS, HW_DURABLE, kept, &kept_len));
	/* plaintext is shown: in the status and the start-up log */
	Hawser__Wire__V1__Status *st = status_of(&f->sec, f->p.client);
	assert_non_null(st);
	assert_int_equal(st->insecure, insecure);
	hawser__wire__v1__status__free_unpacked(st, NULL);
	size_t m = 0;
	assert_true(hw_proc_wait_line(&f->p.proc, &m, "event=security",
				      insecure ? "insecure=true" : "insecure=false", 0, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, WAIT_MS), 0);
	hw_proc_kill(&f->s.proc);
	hw_proc_kill(&f->p.proc);
	tap_stop(&t);
	char nums[NUMBERS_MAX][12];
	*numbers = container_numbers(kept, kept_len, nums, NUMBERS_MAX);
	unsigned seen = 0;
	for (unsigned i = 0; i < *numbers; i++)
		seen += holds(t.bytes, t.len, nums[i]);
	assert_true(t.len > kept_len); /* the records did pass the tap */
	free(kept);
	free(t.bytes);
	hw_test_rm_rf(f->p.dir);
	hw_test_rm_rf(f->s.dir);
	return seen;
}

/* A capture of the replication traffic holds none of the records' container numbers;
 * the same run with insecure = true (the control) shows them, and says so in its status
 * and start-up log. */
static void test_capture_holds_no_container_numbers(void **state)
{
	struct fix *f = *state;
	unsigned numbers;
	assert_int_equal(captured_numbers(f, false, &numbers), 0);
	assert_true(numbers >= 5);
	unsigned plain = captured_numbers(f, true, &numbers);
	assert_int_equal(plain, numbers);
}

int main(void)
{
	if (hw_test_bin() == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unpinned_node_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_key_as_standby_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_key_as_primary_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_named_node_impostor_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_byte_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_channel_told, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_cut_not_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_flood_log_per_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_records_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pressed_client_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_without_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vault_refuses_operator_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_holds_no_container_numbers, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
