/* cluster.c: a local cluster of `hawser node` processes (bench/cluster.h).
 *
 * Readiness is observed the way an operator would: through the client ports (connect,
 * then the primary's status), polled every POLL_MS within a bound. This is a CLI and
 * test-harness helper, not the engine: a short poll is simpler and as exact here as any
 * event, and every wait has a deadline. */
#include "base/assert.h"
#include "base/clock.h"
#include "bench/cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ftw.h>

#include "chaos/proxy.h"
#include "engine/client_int.h"
#include "engine/core/repl.h"
#include "engine/io/channel.h"
#include "hawser.h"
#include "wire.pb-c.h"

#define START_TIMEOUT_MS_DEFAULT 10000
#define POLL_MS                  20
/* A node gets this long to exit after SIGTERM before SIGKILL (it flushes and closes). */
#define STOP_GRACE_MS  5000
#define STATUS_WAIT_MS 2000
/* Bytes of a node's log shown when it died during start: its last few lines. */
#define LOG_TAIL_BYTES 2048
#define NODES_MAX      (1u + HW_PEERS_MAX)

struct node {
	char id[8];
	char cfg[PATH_MAX];
	char dir[PATH_MAX];
	char log[PATH_MAX];
	char addr[32];   /* client port */
	char listen[32]; /* replication port (with failover; else only the primary's) */
	pid_t pid;       /* 0: not running */
};

struct hw_cluster {
	char root[PATH_MAX];
	char bin[PATH_MAX];
	char listen[32]; /* primary's replication port */
	unsigned n;      /* nodes: primary + standbys */
	int timeout_ms;
	bool failover;
	unsigned nofile; /* opts.nofile */
	struct node nodes[NODES_MAX];
	struct node wit; /* the witness, with failover */
	char clients[NODES_MAX * 32];
	/* With opts.proxied: [i][j] carries voter i's connections to voter j (the witness
	 * is voter n); NULL on the diagonal and without proxies. */
	struct hw_proxy *px[NODES_MAX + 1][NODES_MAX + 1];
	/* The channel: where the keys are, and what clients connect with. */
	bool insecure;
	bool allow_fault; /* opts.allow_fault */
	char keys[PATH_MAX + 8], pins[PATH_MAX + 8], client_key[PATH_MAX + 24];
	char cluster_id[64];
	struct hw_client_security sec;
};

/* ---------------------------------------------------------------- small helpers */

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
	return rc == 0 || errno == ENOENT ? 0 : -1;
}

static void rmtree(const char *path)
{
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

#define PORTS_MAX (2 * NODES_MAX + 2)
#define PORTS_LO  10000 /* below: well-known and registered services */

/* The first port of the kernel's ephemeral range (ip_local_port_range), 32768 if unread. */
static unsigned ephemeral_lo(void)
{
	unsigned lo = 32768, hi;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f != NULL) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	return lo;
}

/* Bind a loopback TCP socket to port (0: the kernel picks one); the socket, or -errno. */
static int bind_port(unsigned short *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(*port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

int hw_cluster_free_ports(unsigned count, unsigned short *ports)
{
	HW_ASSERT(count <= PORTS_MAX);
	int fds[PORTS_MAX];
	unsigned lo = ephemeral_lo(), made = 0;
	unsigned span = lo > PORTS_LO ? lo - PORTS_LO : 0;
	static unsigned next;
	if (next == 0)
		next = (unsigned)getpid() * 7919u + (unsigned)hw_mono_ns();
	int rc = 0;
	for (unsigned tries = 0; made < count && rc == 0; tries++) {
		unsigned short port = 0; /* the kernel's choice when there is no room below */
		if (span > 0 && tries < 64 * PORTS_MAX)
			port = (unsigned short)(PORTS_LO + (next++ * 2654435761u) % span);
		int fd = bind_port(&port);
		if (fd == -EADDRINUSE || fd == -EACCES)
			continue; /* taken: another one */
		if (fd < 0) {
			rc = fd;
		} else {
			fds[made] = fd;
			ports[made++] = port;
		}
	}
	while (made > 0)
		close(fds[--made]);
	return rc;
}

static void print_log_tail(const struct node *nd)
{
	char buf[LOG_TAIL_BYTES + 1];
	int fd = open(nd->log, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > LOG_TAIL_BYTES ? end - LOG_TAIL_BYTES : 0;
	ssize_t got = pread(fd, buf, LOG_TAIL_BYTES, from);
	close(fd);
	if (got < 0)
		got = 0;
	buf[got] = '\0';
	fprintf(stderr, "hawser cluster: node %s exited; end of %s:\n%s", nd->id, nd->log, buf);
	if (got > 0 && buf[got - 1] != '\n')
		fputc('\n', stderr);
}

/* Call probe(arg) every poll_ms until it returns other than 0 (1: what is awaited holds,
 * negative: a code that ends the wait), for at most timeout_ms (at least once): the
 * polling loop of every wait here but reap's. Returns 0 when it held, probe's negative
 * code or -ETIMEDOUT. */
static int poll_until(int (*probe)(void *arg), void *arg, int timeout_ms, int poll_ms)
{
	int64_t deadline = hw_mono_ms() + timeout_ms;
	for (;;) {
		int rc = probe(arg);
		if (rc)
			return rc > 0 ? 0 : rc;
		if (hw_mono_ms() >= deadline)
			return -ETIMEDOUT;
		hw_sleep_ms(poll_ms);
	}
}

/* ---------------------------------------------------------------- configs */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int rc = fputs(text, f) < 0 ? -EIO : 0;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* The config text with [security] after it: id's key and the pins, or insecure; and
 * [drills] allow_fault when asked. */
static int write_config(const struct hw_cluster *c, const char *id, const char *path,
			const char *text)
{
	char all[4 * PATH_MAX + 4096];
	const char *drills = c->allow_fault ? "[drills]\nallow_fault = true\n" : "";
	if (c->insecure)
		snprintf(all, sizeof all, "%s%s[security]\ninsecure = true\n", text, drills);
	else
		snprintf(all, sizeof all, "%s%s[security]\nkey = %s/%s.key\npeers = %s\n", text,
			 drills, c->keys, id, c->pins);
	return write_file(path, all);
}

/* A key pair for id: <keys>/<id>.key (mode 0600) and <pins>/<id>.pub. */
static int make_key(const struct hw_cluster *c, const char *id)
{
	struct hw_identity ident;
	char text[512], path[2 * PATH_MAX];
	int rc = hw_identity_generate(&ident);
	long n = rc ? rc : hw_identity_format_public(&ident, text, sizeof text);
	snprintf(path, sizeof path, "%s/%s.pub", c->pins, id);
	rc = n < 0 ? (int)n : write_file(path, text);
	n = rc ? rc : hw_identity_format_secret(&ident, text, sizeof text);
	hw_identity_wipe(&ident);
	snprintf(path, sizeof path, "%s/%s.key", c->keys, id);
	int fd = n < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	rc = n < 0 ? (int)n : fd < 0 ? -errno : 0;
	if (rc == 0 && write(fd, text, (size_t)n) != n)
		rc = -EIO;
	if (fd >= 0)
		close(fd);
	memset(text, 0, sizeof text);
	return rc;
}

/* Keys for every node, the witness and the client, unless insecure. */
static int make_keys(struct hw_cluster *c, const struct hw_cluster_opts *o)
{
	snprintf(c->cluster_id, sizeof c->cluster_id, "%s",
		 o->cluster_id ? o->cluster_id : "bench");
	c->insecure = o->insecure;
	c->allow_fault = o->allow_fault;
	c->sec = (struct hw_client_security){.insecure = c->insecure};
	if (c->insecure)
		return 0;
	snprintf(c->keys, sizeof c->keys, "%s/keys", c->root);
	snprintf(c->pins, sizeof c->pins, "%s/pins", c->root);
	snprintf(c->client_key, sizeof c->client_key, "%s/client.key", c->keys);
	if (mkdir(c->keys, 0700) != 0 || mkdir(c->pins, 0755) != 0)
		return -errno;
	int rc = make_key(c, "client");
	for (unsigned i = 0; rc == 0 && i < c->n; i++)
		rc = make_key(c, c->nodes[i].id);
	if (rc == 0 && c->failover)
		rc = make_key(c, c->wit.id);
	c->sec = (struct hw_client_security){
		.cluster_id = c->cluster_id, .key = c->client_key, .peers = c->pins};
	return rc;
}

/* Where voter self reaches voter j (the witness is voter n): j's replication port, or
 * with proxies the proxy in between. */
static const char *voter_addr(const struct hw_cluster *c, unsigned self, unsigned j)
{
	if (c->px[self][j])
		return hw_proxy_addr(c->px[self][j]);
	return j < c->n ? c->nodes[j].listen : c->wit.listen;
}

/* [failover] as voter self (the witness is voter n) reads it. */
static void failover_section(const struct hw_cluster *c, const struct hw_cluster_opts *o,
			     unsigned self, char *buf, size_t cap)
{
	size_t len = (size_t)snprintf(buf, cap, "[failover]\nvoters = ");
	for (unsigned i = 0; i < c->n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s@%s", i ? ", " : "",
					c->nodes[i].id, voter_addr(c, self, i));
	int64_t rpo = self == c->n && o->witness_rpo_ms > 0 ? o->witness_rpo_ms : o->rpo_ms;
	if (len < cap)
		snprintf(buf + len, cap - len,
			 "\nwitness = %s\nwitness_id = %s\nrto = %lldms\nrpo = %lldms\n",
			 voter_addr(c, self, c->n), c->wit.id,
			 (long long)(o->rto_ms > 0 ? o->rto_ms : 2000), (long long)rpo);
}

/* durability.checkpoint_records when the options set it, else "" (the default). */
static const char *checkpoint_line(const struct hw_cluster_opts *o, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (o->checkpoint_records != 0)
		snprintf(buf, cap, "checkpoint_records = %llu\n",
			 (unsigned long long)o->checkpoint_records);
	return buf;
}

/* Every node a voter at its own replication port; the one configured primary campaigns
 * first, the others find it by election (no cluster.standbys, no node.primary). */
static int write_failover_configs(struct hw_cluster *c, const struct hw_cluster_opts *o)
{
	char text[2 * PATH_MAX + 3072], fo[1024], cp[64];
	const char *id = o->cluster_id ? o->cluster_id : "bench";
	int rc = 0;
	for (unsigned i = 0; rc == 0 && i < c->n; i++) {
		const struct node *nd = &c->nodes[i];
		failover_section(c, o, i, fo, sizeof(fo));
		snprintf(text, sizeof(text),
			 "[cluster]\nid = %s\n[node]\nid = %s\nrole = %s\ndata_dir = %s\n"
			 "listen = %s\nclient = %s\n[durability]\nmode = %s\nk = %u\n%s%s%s",
			 id, nd->id, i == 0 ? "primary" : "standby", nd->dir, nd->listen, nd->addr,
			 o->mode ? o->mode : "durable", o->k ? o->k : 1,
			 checkpoint_line(o, cp, sizeof cp), fo, o->extra ? o->extra : "");
		rc = write_config(c, nd->id, nd->cfg, text);
	}
	if (rc == 0) {
		failover_section(c, o, c->n, fo, sizeof(fo));
		snprintf(text, sizeof(text),
			 "[cluster]\nid = %s\n[node]\nid = %s\nrole = witness\ndata_dir = %s\n"
			 "listen = %s\n%s",
			 id, c->wit.id, c->wit.dir, c->wit.listen, fo);
		rc = write_config(c, c->wit.id, c->wit.cfg, text);
	}
	return rc;
}

static int write_configs(struct hw_cluster *c, const struct hw_cluster_opts *o)
{
	if (c->failover)
		return write_failover_configs(c, o);
	char text[2 * PATH_MAX + 1024], names[HW_PEERS_MAX * 8 + 16] = "", cp[64];
	const char *id = o->cluster_id ? o->cluster_id : "bench";
	unsigned sb = c->n - 1;
	const char *mode = o->mode ? o->mode : sb ? "durable" : "local";
	unsigned k = o->k ? o->k : sb ? 1 : 0;
	for (unsigned i = 1; i < c->n; i++) {
		size_t len = strlen(names);
		snprintf(names + len, sizeof(names) - len, "%s%s", i > 1 ? ", " : "",
			 c->nodes[i].id);
	}
	const struct node *p = &c->nodes[0];
	snprintf(text, sizeof(text),
		 "[cluster]\nid = %s\n%s%s%s[node]\nid = %s\nrole = primary\ndata_dir = %s\n"
		 "listen = %s\nclient = %s\n[durability]\nmode = %s\nk = %u\n%s",
		 id, sb ? "standbys = " : "", names, sb ? "\n" : "", p->id, p->dir, c->listen,
		 p->addr, mode, k, checkpoint_line(o, cp, sizeof cp));
	int rc = write_config(c, p->id, p->cfg, text);
	for (unsigned i = 1; rc == 0 && i < c->n; i++) {
		const struct node *s = &c->nodes[i];
		snprintf(text, sizeof(text),
			 "[cluster]\nid = %s\n[node]\nid = %s\nrole = standby\ndata_dir = %s\n"
			 "client = %s\nprimary = %s@%s\n",
			 id, s->id, s->dir, s->addr, p->id, c->listen);
		rc = write_config(c, s->id, s->cfg, text);
	}
	return rc;
}

static int name_files(const struct hw_cluster *c, struct node *nd)
{
	if (snprintf(nd->cfg, sizeof(nd->cfg), "%s/%s.ini", c->root, nd->id) >=
		    (int)sizeof(nd->cfg) ||
	    snprintf(nd->dir, sizeof(nd->dir), "%s/%s", c->root, nd->id) >= (int)sizeof(nd->dir) ||
	    snprintf(nd->log, sizeof(nd->log), "%s/%s.log", c->root, nd->id) >=
		    (int)sizeof(nd->log))
		return -ENAMETOOLONG;
	return 0;
}

/* Name every node and its files, and give it its ports: a client port each, and the
 * primary's replication port, or with failover one per node and the witness's. */
static int lay_out(struct hw_cluster *c)
{
	unsigned short ports[PORTS_MAX];
	unsigned count = c->failover ? 2 * c->n + 1 : c->n + 1;
	int rc = hw_cluster_free_ports(count, ports);
	if (rc)
		return rc;
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:%u", ports[c->n]);
	size_t len = 0;
	for (unsigned i = 0; rc == 0 && i < c->n; i++) {
		struct node *nd = &c->nodes[i];
		if (i == 0)
			snprintf(nd->id, sizeof(nd->id), "p1");
		else
			snprintf(nd->id, sizeof(nd->id), "s%u", i % NODES_MAX); /* i < n */
		snprintf(nd->addr, sizeof(nd->addr), "127.0.0.1:%u", ports[i]);
		snprintf(nd->listen, sizeof(nd->listen), "127.0.0.1:%u",
			 c->failover ? ports[c->n + 1 + i] : ports[c->n]);
		len += (size_t)snprintf(c->clients + len, sizeof(c->clients) - len, "%s%s",
					i ? "," : "", nd->addr);
		rc = name_files(c, nd);
	}
	if (rc == 0 && c->failover) {
		snprintf(c->wit.id, sizeof(c->wit.id), "w1");
		snprintf(c->wit.listen, sizeof(c->wit.listen), "127.0.0.1:%u", ports[c->n]);
		rc = name_files(c, &c->wit);
	}
	return rc;
}

/* ---------------------------------------------------------------- processes */

static int spawn(struct hw_cluster *c, struct node *nd)
{
	char bin[PATH_MAX], cfg[PATH_MAX];
	char a0[] = "hawser", a1[] = "witness", a2[] = "--config";
	if (nd != &c->wit)
		snprintf(a1, sizeof(a1), "node");
	snprintf(bin, sizeof(bin), "%s", c->bin);
	snprintf(cfg, sizeof(cfg), "%s", nd->cfg);
	char *argv[] = {a0, a1, a2, cfg, NULL};
	int logfd = open(nd->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0)
		return -errno;
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0) {
		int e = -errno;
		close(logfd);
		return e;
	}
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		/* Die with the parent; if it is gone already, do not start at all. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		struct rlimit nofile = {.rlim_cur = c->nofile, .rlim_max = c->nofile};
		if (c->nofile > 0 && setrlimit(RLIMIT_NOFILE, &nofile) != 0)
			_exit(126);
		dup2(nullfd, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execv(bin, argv);
		_exit(127);
	}
	int e = pid < 0 ? -errno : 0;
	close(logfd);
	close(nullfd);
	if (pid > 0)
		nd->pid = pid;
	return e;
}

/* Reap nd if it exited (or wait up to timeout_ms for it). Returns true when it is gone;
 * *status gets its wait status. */
static bool reap(struct node *nd, int timeout_ms, int *status)
{
	int64_t deadline = hw_mono_ms() + timeout_ms;
	for (;;) {
		pid_t r = waitpid(nd->pid, status, WNOHANG);
		if (r == nd->pid || (r < 0 && errno == ECHILD)) {
			nd->pid = 0;
			return true;
		}
		if (hw_mono_ms() >= deadline)
			return false;
		hw_sleep_ms(5);
	}
}

/* Send sig (0: it was sent already: a second SIGTERM can hit a node whose handler is
 * gone during its shutdown), wait bounded, then SIGKILL. Returns 0 for a clean exit 0,
 * else -ECHILD. */
static int stop_node(struct node *nd, int sig)
{
	if (nd->pid == 0)
		return 0;
	int status = 0;
	if (sig)
		kill(nd->pid, sig);
	if (!reap(nd, sig == SIGKILL ? 60000 : STOP_GRACE_MS, &status)) {
		kill(nd->pid, SIGKILL);
		reap(nd, 60000, &status);
		return -ECHILD;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (sig != SIGKILL)
		fprintf(stderr, "hawser cluster: node %s %s %d on stop (log: %s)\n", nd->id,
			WIFEXITED(status) ? "exited with status" : "died of signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), nd->log);
	return -ECHILD;
}

/* ---------------------------------------------------------------- status */

int hw_cluster_status_at(const char *addr, const struct hw_client_security *sec, int wait_ms,
			 Hawser__Wire__V1__Status **out)
{
	struct hw_client *cl;
	*out = NULL;
	int rc = hw_client_connect_secure(addr, sec, &cl);
	if (rc)
		return rc;
	uint8_t *body;
	size_t len;
	rc = hw_client_status(cl, wait_ms, &body, &len);
	hw_client_close(cl);
	if (rc)
		return rc;
	*out = hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	return *out ? 0 : HW_EPROTOCOL;
}

int hw_cluster_node_status(const struct hw_cluster *c, unsigned i, int wait_ms,
			   Hawser__Wire__V1__Status **out)
{
	*out = NULL;
	return i < c->n ? hw_cluster_status_at(c->nodes[i].addr, &c->sec, wait_ms, out) : -ESRCH;
}

/* Peer id in the status s, or NULL. */
static const Hawser__Wire__V1__PeerStatus *peer_of(const Hawser__Wire__V1__Status *s,
						   const char *id)
{
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i]->node_id && !strcmp(s->peers[i]->node_id, id))
			return s->peers[i];
	return NULL;
}

static bool peer_connected(const Hawser__Wire__V1__Status *s, const char *id)
{
	const Hawser__Wire__V1__PeerStatus *peer = peer_of(s, id);
	return peer != NULL && peer->connected;
}

static bool answers(const struct hw_cluster *c, const struct node *nd)
{
	struct hw_client *cl;
	if (hw_client_connect_secure(nd->addr, &c->sec, &cl) != 0)
		return false;
	hw_client_close(cl);
	return true;
}

/* The first node of a whose status says PRIMARY now (one probe over all), its status in
 * *out (caller frees). */
static bool probe_at(const struct hw_cluster_addrs *a, unsigned *idx,
		     Hawser__Wire__V1__Status **out)
{
	for (unsigned i = 0; i < a->n; i++) {
		Hawser__Wire__V1__Status *s;
		const char *addr = a->addr(a->at, i);
		if (!addr || hw_cluster_status_at(addr, a->sec, a->wait_ms, &s) != 0)
			continue;
		if (s->role == HAWSER__WIRE__V1__ROLE__PRIMARY) {
			*idx = i;
			*out = s;
			return true;
		}
		hawser__wire__v1__status__free_unpacked(s, NULL);
	}
	return false;
}

/* Node i's client address while it runs, else NULL (struct hw_cluster_addrs.addr). */
static const char *running_addr(const void *at, unsigned i)
{
	const struct hw_cluster *c = at;
	return c->nodes[i].pid ? c->nodes[i].addr : NULL;
}

/* c's running nodes as struct hw_cluster_addrs: without failover only node 0 can be
 * primary, so only it is asked. */
static struct hw_cluster_addrs addrs_of(const struct hw_cluster *c)
{
	return (struct hw_cluster_addrs){.addr = running_addr,
					 .at = c,
					 .n = c->failover ? c->n : 1u,
					 .sec = &c->sec,
					 .wait_ms = STATUS_WAIT_MS,
					 .poll_ms = POLL_MS};
}

/* The running node whose status says PRIMARY now (one probe), its status in *out
 * (caller frees). */
static bool probe_primary(const struct hw_cluster *c, unsigned *idx,
			  Hawser__Wire__V1__Status **out)
{
	struct hw_cluster_addrs a = addrs_of(c);
	return probe_at(&a, idx, out);
}

/* One readiness probe: every running node answers on its client port, and the primary
 * (if one runs) shows every running standby connected; with failover a primary must
 * have been elected. */
static bool ready(struct hw_cluster *c)
{
	for (unsigned i = 1; i < c->n; i++)
		if (c->nodes[i].pid && !answers(c, &c->nodes[i]))
			return false;
	if (!c->failover && c->nodes[0].pid == 0)
		return true;
	Hawser__Wire__V1__Status *s;
	unsigned p;
	if (!probe_primary(c, &p, &s))
		return false;
	bool ok = true;
	for (unsigned i = 0; i < c->n && ok; i++)
		ok = i == p || c->nodes[i].pid == 0 || peer_connected(s, c->nodes[i].id);
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return ok;
}

/* -ECHILD (and the log's tail) when a node or the witness started exited. */
static int check_exited(struct hw_cluster *c)
{
	int status;
	for (unsigned i = 0; i <= c->n; i++) {
		struct node *nd = i < c->n ? &c->nodes[i] : &c->wit;
		if (nd->pid && reap(nd, 0, &status)) {
			print_log_tail(nd);
			return -ECHILD;
		}
	}
	return 0;
}

static int ready_probe(void *arg)
{
	struct hw_cluster *c = arg;
	int rc = check_exited(c);
	return rc ? rc : ready(c);
}

static int wait_ready(struct hw_cluster *c)
{
	return poll_until(ready_probe, c, c->timeout_ms, POLL_MS);
}

/* ---------------------------------------------------------------- proxies */

static void proxies_free(struct hw_cluster *c)
{
	for (unsigned i = 0; i <= c->n; i++)
		for (unsigned j = 0; j <= c->n; j++) {
			hw_proxy_free(c->px[i][j]);
			c->px[i][j] = NULL;
		}
}

/* A proxy for every ordered pair of voters, each on its own thread, before the configs
 * that name them are written. */
static int proxies_start(struct hw_cluster *c)
{
	int rc = 0;
	for (unsigned i = 0; rc == 0 && i <= c->n; i++)
		for (unsigned j = 0; rc == 0 && j <= c->n; j++) {
			if (i == j)
				continue;
			const char *to = j < c->n ? c->nodes[j].listen : c->wit.listen;
			rc = hw_proxy_new("127.0.0.1:0", to, &c->px[i][j]);
			if (rc == 0)
				rc = hw_proxy_start(c->px[i][j]);
		}
	return rc;
}

/* ---------------------------------------------------------------- API */

static int make_root(struct hw_cluster *c, const struct hw_cluster_opts *o)
{
	if (o->root) {
		if (snprintf(c->root, sizeof(c->root), "%s", o->root) >= (int)sizeof(c->root))
			return -ENAMETOOLONG;
		return mkdir(c->root, 0700) == 0 ? 0 : -errno;
	}
	const char *tmp = getenv("TMPDIR");
	if (snprintf(c->root, sizeof(c->root), "%s/hawser-cluster-XXXXXX",
		     tmp && *tmp ? tmp : "/tmp") >= (int)sizeof(c->root))
		return -ENAMETOOLONG;
	return mkdtemp(c->root) ? 0 : -errno;
}

static int find_bin(struct hw_cluster *c, const struct hw_cluster_opts *o)
{
	if (o->hawser_bin) {
		snprintf(c->bin, sizeof(c->bin), "%s", o->hawser_bin);
		return access(c->bin, X_OK) == 0 ? 0 : -errno;
	}
	ssize_t n = readlink("/proc/self/exe", c->bin, sizeof(c->bin) - 1);
	if (n < 0)
		return -errno;
	c->bin[n] = '\0';
	return 0;
}

int hw_cluster_start(const struct hw_cluster_opts *o, struct hw_cluster **out)
{
	*out = NULL;
	if (o->standbys > HW_PEERS_MAX)
		return -EINVAL;
	struct hw_cluster *c = calloc(1, sizeof(*c));
	if (!c)
		return HW_ENOMEM;
	c->n = 1 + o->standbys;
	c->failover = o->failover;
	c->nofile = o->nofile;
	if ((c->failover && o->standbys == 0) || (o->proxied && !c->failover)) {
		free(c);
		return -EINVAL;
	}
	c->timeout_ms = o->start_timeout_ms > 0 ? o->start_timeout_ms : START_TIMEOUT_MS_DEFAULT;
	int rc = find_bin(c, o);
	if (rc)
		goto out_free;
	rc = make_root(c, o);
	if (rc)
		goto out_free;
	rc = lay_out(c);
	if (rc == 0)
		rc = make_keys(c, o);
	if (rc == 0 && o->proxied)
		rc = proxies_start(c);
	if (rc == 0)
		rc = write_configs(c, o);
	/* The witness first: the nodes' first election needs it. */
	if (rc == 0 && c->failover)
		rc = spawn(c, &c->wit);
	for (unsigned i = 0; rc == 0 && i < c->n; i++)
		rc = spawn(c, &c->nodes[i]);
	if (rc == 0)
		rc = wait_ready(c);
	if (rc == 0) {
		*out = c;
		return 0;
	}
	hw_cluster_stop(c);
	rmtree(c->root);
out_free:
	proxies_free(c);
	free(c);
	return rc;
}

/* What the primary and joined waits poll for. */
struct primary_wait {
	const struct hw_cluster_addrs *a;
	struct hw_cluster *c; /* joined: reap node i of this local cluster, or NULL */
	unsigned i;           /* joined: the node */
	const char *id;       /* joined: its id */
	uint64_t level;       /* joined: the primary's last LSN when it first saw node i */
	unsigned level_of;    /* connected (since then), which primary that was; node i */
	bool level_seen;      /* has joined once its durable LSN reaches level */
	uint64_t durable;     /* joined: node i's durable LSN, when last seen connected */
	unsigned *idx;        /* primary: where its index goes */
};

static int primary_found(void *arg)
{
	struct primary_wait *w = arg;
	Hawser__Wire__V1__Status *s;
	if (!probe_at(w->a, w->idx, &s))
		return 0;
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return 1;
}

int hw_cluster_primary_at(const struct hw_cluster_addrs *a, int timeout_ms, unsigned *idx)
{
	struct primary_wait w = {.a = a, .idx = idx};
	return poll_until(primary_found, &w, timeout_ms, a->poll_ms);
}

int hw_cluster_primary(struct hw_cluster *c, int timeout_ms, unsigned *idx)
{
	struct hw_cluster_addrs a = addrs_of(c);
	return hw_cluster_primary_at(&a, timeout_ms, idx);
}

const char *hw_cluster_client_list(const struct hw_cluster *c)
{
	return c->clients;
}

const struct hw_client_security *hw_cluster_security(const struct hw_cluster *c)
{
	return &c->sec;
}

const char *hw_cluster_log(const struct hw_cluster *c, unsigned i)
{
	if (i < c->n)
		return c->nodes[i].log;
	return i == c->n && c->failover ? c->wit.log : NULL;
}

pid_t hw_cluster_witness_pid(const struct hw_cluster *c)
{
	return c->wit.pid;
}

static int joined(void *arg)
{
	struct primary_wait *w = arg;
	int status;
	if (w->c && reap(&w->c->nodes[w->i], 0, &status))
		return -ECHILD;
	Hawser__Wire__V1__Status *s;
	unsigned p;
	if (!probe_at(w->a, &p, &s)) {
		w->level_seen = false; /* nothing known now: not connected, as far as it says */
		return 0;
	}
	const Hawser__Wire__V1__PeerStatus *peer = p != w->i ? peer_of(s, w->id) : NULL;
	bool connected = peer != NULL && peer->connected;
	if (!connected || !w->level_seen || w->level_of != p) {
		w->level = s->last_lsn; /* a new primary, or node i connects again */
		w->level_of = p;
		w->level_seen = connected;
	}
	w->durable = connected ? peer->durable : 0;
	bool ok = connected && peer->durable >= w->level;
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return ok;
}

/* Both joined waits: c (or NULL) as struct primary_wait says. */
static int wait_joined(const struct hw_cluster_addrs *a, struct hw_cluster *c, unsigned i,
		       const char *id, int timeout_ms, char *behind, size_t cap)
{
	struct primary_wait w = {.a = a, .c = c, .i = i, .id = id};
	int rc = poll_until(joined, &w, timeout_ms, a->poll_ms);
	if (behind != NULL && cap > 0)
		behind[0] = '\0';
	const char *to = w.level_seen ? a->addr(a->at, w.level_of) : NULL;
	if (rc == -ETIMEDOUT && behind != NULL && w.level_seen)
		snprintf(behind, cap,
			 "connected as a standby of %s but not caught up: durable lsn %" PRIu64
			 " of %" PRIu64,
			 to != NULL ? to : "the primary", w.durable, w.level);
	return rc;
}

int hw_cluster_wait_joined_at(const struct hw_cluster_addrs *a, unsigned i, const char *id,
			      int timeout_ms, char *behind, size_t cap)
{
	return wait_joined(a, NULL, i, id, timeout_ms, behind, cap);
}

int hw_cluster_wait_joined(struct hw_cluster *c, unsigned i, int timeout_ms, char *behind,
			   size_t cap)
{
	if (behind != NULL && cap > 0)
		behind[0] = '\0';
	if (i >= c->n || c->nodes[i].pid == 0)
		return -ESRCH;
	struct hw_cluster_addrs a = addrs_of(c);
	return wait_joined(&a, c, i, c->nodes[i].id, timeout_ms, behind, cap);
}

unsigned hw_cluster_nodes(const struct hw_cluster *c)
{
	return c->n;
}

const char *hw_cluster_client_addr(const struct hw_cluster *c)
{
	return c->nodes[0].addr;
}

const char *hw_cluster_node_addr(const struct hw_cluster *c, unsigned i)
{
	return i < c->n ? c->nodes[i].addr : NULL;
}

const char *hw_cluster_repl_addr(const struct hw_cluster *c, unsigned i)
{
	return i < c->n ? c->nodes[i].listen : NULL;
}

const char *hw_cluster_node_id(const struct hw_cluster *c, unsigned i)
{
	return i < c->n ? c->nodes[i].id : NULL;
}

pid_t hw_cluster_node_pid(const struct hw_cluster *c, unsigned i)
{
	return i < c->n ? c->nodes[i].pid : 0;
}

const char *hw_cluster_dir(const struct hw_cluster *c, unsigned i)
{
	return i < c->n ? c->nodes[i].dir : NULL;
}

const char *hw_cluster_root(const struct hw_cluster *c)
{
	return c->root;
}

int hw_cluster_node_rss_kib(const struct hw_cluster *c, unsigned i, uint64_t *kib)
{
	char path[64], line[256];
	*kib = 0;
	if (i >= c->n || c->nodes[i].pid == 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)c->nodes[i].pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int rc = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		if (sscanf(line, "VmHWM: %llu kB", &v) == 1) {
			*kib = v;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Every standby durable at the primary's last LSN, per the primary's status. */
static bool synced(const Hawser__Wire__V1__Status *s, unsigned standbys)
{
	unsigned ok = 0;
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i]->durable >= s->last_lsn)
			ok++;
	return ok >= standbys;
}

struct sync_wait {
	struct hw_cluster *c;
	uint64_t *lsn;
};

/* The primary's status, once: synced, not yet (with failover, also while no node is
 * primary), or the client error. */
static int synced_probe(void *arg)
{
	struct sync_wait *w = arg;
	Hawser__Wire__V1__Status *s;
	unsigned p;
	if (w->c->failover) {
		if (!probe_primary(w->c, &p, &s))
			return 0;
	} else {
		int rc = hw_cluster_node_status(w->c, 0, STATUS_WAIT_MS, &s);
		if (rc)
			return rc;
	}
	bool done = synced(s, w->c->n - 1);
	if (w->lsn)
		*w->lsn = s->last_lsn;
	hawser__wire__v1__status__free_unpacked(s, NULL);
	return done;
}

int hw_cluster_wait_synced(struct hw_cluster *c, int timeout_ms, uint64_t *lsn)
{
	struct sync_wait w = {c, lsn};
	return poll_until(synced_probe, &w, timeout_ms, POLL_MS);
}

int hw_cluster_kill(struct hw_cluster *c, unsigned i, int sig)
{
	if (i >= c->n || c->nodes[i].pid == 0)
		return -ESRCH;
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
		stop_node(&c->nodes[i], sig);
		return 0;
	}
	return kill(c->nodes[i].pid, sig) == 0 ? 0 : -errno;
}

struct restart_wait {
	struct hw_cluster *c;
	struct node *nd;
};

static int answers_probe(void *arg)
{
	struct restart_wait *w = arg;
	int status;
	if (reap(w->nd, 0, &status)) {
		print_log_tail(w->nd);
		return -ECHILD;
	}
	return answers(w->c, w->nd);
}

int hw_cluster_restart(struct hw_cluster *c, unsigned i)
{
	if (i >= c->n)
		return -EINVAL;
	stop_node(&c->nodes[i], SIGTERM);
	int rc = spawn(c, &c->nodes[i]);
	if (rc || !c->failover)
		return rc ? rc : wait_ready(c);
	struct restart_wait w = {c, &c->nodes[i]};
	return poll_until(answers_probe, &w, c->timeout_ms, POLL_MS);
}

int hw_cluster_isolate(struct hw_cluster *c, unsigned i, bool on)
{
	if (i >= c->n || !c->px[i][(i + 1) % (c->n + 1)])
		return -EINVAL;
	for (unsigned j = 0; j <= c->n; j++) {
		if (j == i)
			continue;
		if (on) {
			hw_proxy_blackhole(c->px[i][j]);
			hw_proxy_blackhole(c->px[j][i]);
		} else {
			hw_proxy_pass(c->px[i][j]);
			hw_proxy_pass(c->px[j][i]);
		}
	}
	return 0;
}

int hw_cluster_stop(struct hw_cluster *c)
{
	int rc = 0;
	/* Standbys first would make the primary log their loss; the primary first makes
	 * them reconnect. Signal all at once, then reap each within the grace period. */
	for (unsigned i = 0; i < c->n; i++)
		if (c->nodes[i].pid)
			kill(c->nodes[i].pid, SIGTERM);
	if (c->wit.pid)
		kill(c->wit.pid, SIGTERM);
	for (unsigned i = 0; i < c->n; i++)
		if (stop_node(&c->nodes[i], 0) != 0)
			rc = -ECHILD;
	if (stop_node(&c->wit, 0) != 0)
		rc = -ECHILD;
	return rc;
}

void hw_cluster_reap_killed(struct hw_cluster *c)
{
	for (unsigned i = 0; i < c->n; i++)
		stop_node(&c->nodes[i], SIGKILL); /* SIGKILL: no word of how they ended */
	stop_node(&c->wit, SIGKILL);
}

void hw_cluster_free(struct hw_cluster *c, bool keep)
{
	if (!c)
		return;
	hw_cluster_stop(c);
	proxies_free(c);
	if (!keep)
		rmtree(c->root);
	free(c);
}
