/* cluster.h: a local hawser cluster of real `hawser node` processes (one primary, N
 * standbys) on loopback ports in a scratch directory, for `hawser bench`, the demo and
 * the failure drills. The nodes are the same binary and the same client port a TOS uses,
 * so what is measured or broken here is what runs in production.
 *
 * Node index 0 is the primary ("p1"), 1..N the standbys ("s1".."sN"). Layout of the
 * cluster's directory:
 *   <root>/<id>.ini   the node's config (engine/config.h)
 *   <root>/<id>/      its store (data_dir)
 *   <root>/<id>.log   its stdout and stderr, appended across restarts
 *
 * With failover (opts.failover) a witness "w1" (`hawser witness`, files named the same
 * way) runs too and every config has a [failover] section (docs/failover.md):
 * voters p1, s1 .. sN at their own replication ports, the witness last,
 * the targets rto and rpo. Node 0 is then only the primary at start: which node is
 * primary later is whatever the election made it (hw_cluster_primary()).
 *
 * With opts.proxied each voter's view of the others in its [failover] voters and witness
 * is a proxy's address: voter i's connections to voter j pass the proxy [i][j] (the
 * witness is voter N + 1), run on threads of the calling process, as chaos/run.c does.
 *
 * Every connection runs the authenticated, encrypted channel (docs/security.md): each
 * node, the witness and one client identity get a key pair, <root>/keys/<id>.key, whose
 * public halves <root>/pins/<id>.pub every config pins (security.peers = <root>/pins);
 * clients connect with hw_cluster_security(). With opts.insecure the configs say
 * insecure = true instead and no keys are made.
 *
 * Children die with the process that started them (PR_SET_PDEATHSIG), so a crashed bench
 * leaves no node behind. A cluster handle belongs to one thread, the one that started it:
 * the death signal is tied to the thread that forked. */
#ifndef HW_BENCH_CLUSTER_H
#define HW_BENCH_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hw_cluster;
struct hw_client_security;
struct Hawser__Wire__V1__Status;

struct hw_cluster_opts {
	const char *hawser_bin; /* the hawser binary; NULL: this process's (/proc/self/exe) */
	const char *root;       /* directory to create the cluster in (must not exist); NULL:
				   mkdtemp "hawser-cluster-XXXXXX" under $TMPDIR or /tmp */
	const char *cluster_id; /* NULL: "bench" */
	unsigned standbys;      /* 0..HW_PEERS_MAX */
	const char *mode;       /* durability mode name (local, received, durable, applied);
				   NULL: "durable", or "local" with no standby */
	unsigned k;             /* standbys that must meet the mode; 0: 1 (0 with no standby) */
	int start_timeout_ms;   /* bound for start and restart readiness; 0: 10000 */
	bool failover;          /* a witness and [failover] in every config (needs standbys) */
	int64_t rto_ms;         /* [failover] rto; 0: 2000 */
	int64_t rpo_ms;         /* [failover] rpo (0: no acknowledged loss, needs durable) */
	int64_t witness_rpo_ms; /* > 0: the witness's [failover] rpo instead (a witness
				   left at another rpo than the nodes'); 0: rpo_ms */
	bool insecure;          /* plaintext connections ([security] insecure = true) */
	uint64_t checkpoint_records; /* [durability] checkpoint_records (0: the default) */
	bool proxied;           /* with failover: every voter reaches every other voter (and
				   the witness) through its own in-process chaos/proxy, so
				   hw_cluster_isolate() can cut one off; client ports stay
				   direct */
	bool allow_fault;       /* [drills] allow_fault = true in every config: the client's
				   key may crash a node (`hawser drill failover --connect`) */
	const char *extra;      /* with failover: appended to every data node's config (a
				   test's sections, e.g. [cluster] vaults); NULL: nothing */
	unsigned nofile;        /* > 0: every node's and the witness's RLIMIT_NOFILE, soft
				   and hard (set in the child before exec); 0: inherited */
};

/* Make the directory, pick free loopback ports, write the configs, spawn every node and
 * wait (bounded by start_timeout_ms) until the primary's client port answers and its
 * status shows every standby connected. Returns 0 with *out owning the cluster, or
 * -ETIMEDOUT (not ready in time), -ECHILD (a node exited during start: the tail of its
 * log is printed to stderr), HW_ENOMEM, -errno. On failure nothing is left running and
 * the directory is removed. */
int hw_cluster_start(const struct hw_cluster_opts *o, struct hw_cluster **out);

/* count distinct free loopback TCP ports for nodes to listen on, below the kernel's
 * ephemeral range: a port from that range, free when picked, can become the source port
 * of any outgoing connection while its node is down, and the node's restart then fails
 * with EADDRINUSE. Each is bound to check it is free and all are held until all are
 * picked; another process could still take one before the node binds it. 0 or -errno. */
int hw_cluster_free_ports(unsigned count, unsigned short *ports);

/* Index of the node that is primary now, by the nodes' own status (role PRIMARY),
 * polled within timeout_ms. Without failover it is 0 while node 0 runs. Returns 0 with
 * *idx set, -ETIMEDOUT when no running node says it is primary in time. */
int hw_cluster_primary(struct hw_cluster *c, int timeout_ms, unsigned *idx);

/* Nodes reached by their client ports alone, for the status waits below: a running
 * cluster (cli/failover_remote.c) or this module's own. */
struct hw_cluster_addrs {
	const char *(*addr)(const void *at, unsigned i); /* node i's client port, NULL: skip */
	const void *at;                                  /* addr's argument */
	unsigned n;                                      /* nodes 0..n-1 */
	const struct hw_client_security *sec;            /* how to connect (borrowed) */
	int wait_ms;                                     /* for one status reply */
	int poll_ms;                                     /* between two probes */
};

/* The status of the node at client port addr (wire.proto Status; free with
 * hawser__wire__v1__status__free_unpacked), asked over sec on a fresh client connection
 * that waits at most wait_ms for the reply. Returns 0, the client's error (connect,
 * status), or HW_EPROTOCOL when the reply does not decode; *out is NULL on error. */
int hw_cluster_status_at(const char *addr, const struct hw_client_security *sec, int wait_ms,
			 struct Hawser__Wire__V1__Status **out);

/* Index of the first node of a whose status says PRIMARY, polled every a->poll_ms
 * within timeout_ms. Returns 0 with *idx set, or -ETIMEDOUT. */
int hw_cluster_primary_at(const struct hw_cluster_addrs *a, int timeout_ms, unsigned *idx);

/* Wait until node i has joined: the primary of a (hw_cluster_primary_at) is another
 * node, its status shows peer id (node i) connected, and node i's durable LSN has
 * reached that primary's last LSN as it was when it first showed it connected (caught
 * up, not only connected; a new primary, or a reconnection, starts that again). Polled
 * every a->poll_ms within timeout_ms. Returns 0 or -ETIMEDOUT. behind (cap bytes, or
 * NULL): on -ETIMEDOUT when node i was connected at the end, in words, how far it got
 * ("connected as a standby of ADDR but not caught up: durable lsn X of Y"); else "". */
int hw_cluster_wait_joined_at(const struct hw_cluster_addrs *a, unsigned i, const char *id,
			      int timeout_ms, char *behind, size_t cap);

/* Every node's client port, comma-separated in node order (borrowed): what a client
 * that follows the primary (hw_client_connect) is given. */
const char *hw_cluster_client_list(const struct hw_cluster *c);

/* What a client of this cluster connects with (hw_client_connect_secure; borrowed):
 * the client key pair and the pins, or plaintext with opts.insecure. */
const struct hw_client_security *hw_cluster_security(const struct hw_cluster *c);

/* Path of node i's log (borrowed); i == hw_cluster_nodes() names the witness's. NULL
 * when out of range. */
const char *hw_cluster_log(const struct hw_cluster *c, unsigned i);

/* Pid of the witness, 0 when there is none or it is not running. */
pid_t hw_cluster_witness_pid(const struct hw_cluster *c);

/* Wait until node i has joined the primary (hw_cluster_primary()) as
 * hw_cluster_wait_joined_at() says (behind too), bounded by timeout_ms. Returns 0,
 * -ETIMEDOUT, -ECHILD when node i exited (reaped; its pid becomes 0), -ESRCH when it is
 * not running. */
int hw_cluster_wait_joined(struct hw_cluster *c, unsigned i, int timeout_ms, char *behind,
			   size_t cap);

/* Number of nodes (1 + standbys). */
unsigned hw_cluster_nodes(const struct hw_cluster *c);

/* Node 0's client port as "127.0.0.1:PORT" (borrowed, valid until hw_cluster_free): the
 * primary's, or with failover the primary's at start. */
const char *hw_cluster_client_addr(const struct hw_cluster *c);

/* Client port of node i (borrowed). NULL if i is out of range. */
const char *hw_cluster_node_addr(const struct hw_cluster *c, unsigned i);

/* With failover: node i's replication port (borrowed), where standbys and vaults connect
 * when it is primary. NULL if i is out of range. */
const char *hw_cluster_repl_addr(const struct hw_cluster *c, unsigned i);

/* Node i's id ("p1", "s1" ...) (borrowed). NULL if i is out of range. */
const char *hw_cluster_node_id(const struct hw_cluster *c, unsigned i);

/* Node i's status: hw_cluster_status_at() at its client port, or -ESRCH when i is out
 * of range (*out NULL). */
int hw_cluster_node_status(const struct hw_cluster *c, unsigned i, int wait_ms,
			   struct Hawser__Wire__V1__Status **out);

/* Pid of node i, or 0 when it is not running (stopped, killed and reaped, out of range). */
pid_t hw_cluster_node_pid(const struct hw_cluster *c, unsigned i);

/* Store directory (data_dir) of node i (borrowed). NULL if i is out of range. */
const char *hw_cluster_dir(const struct hw_cluster *c, unsigned i);

/* The cluster's root directory (borrowed). */
const char *hw_cluster_root(const struct hw_cluster *c);

/* Peak resident memory of running node i in KiB (VmHWM of /proc/PID/status) into *kib.
 * -ESRCH when it is not running; -errno. */
int hw_cluster_node_rss_kib(const struct hw_cluster *c, unsigned i, uint64_t *kib);

/* Wait until every standby's durable LSN, as the primary reports it, has reached the
 * primary's last LSN, polling the primary's status (bounded by timeout_ms). *lsn (may be
 * NULL) gets the primary's last LSN. Returns 0, -ETIMEDOUT, or the client error. */
int hw_cluster_wait_synced(struct hw_cluster *c, int timeout_ms, uint64_t *lsn);

/* Send sig to node i. For SIGKILL, SIGTERM and SIGINT also wait for it to exit (bounded:
 * SIGKILL after 5 s) and reap it, so its pid becomes 0 and it can be restarted; other
 * signals (SIGSTOP, SIGCONT ...) are only sent. -ESRCH when it is not running. */
int hw_cluster_kill(struct hw_cluster *c, unsigned i, int sig);

/* Start node i again with the same config (stopping it first with SIGTERM if it is
 * running) and wait, bounded by start_timeout_ms, until its client port answers and, if
 * the primary is running, the primary shows every running standby connected. With
 * failover only the node's own client port is waited for: whether it rejoins is the
 * caller's question (hw_cluster_wait_joined()). Returns 0, -ETIMEDOUT, -ECHILD (it
 * exited: tail of its log on stderr), -errno. */
int hw_cluster_restart(struct hw_cluster *c, unsigned i);

/* With opts.proxied: cut node i off from every other voter and the witness (on true), or
 * let its links pass again (on false). The cut is a blackhole: its connections stay open
 * and carry nothing, in both directions, as a partition does; its client port still
 * answers. Returns 0, -EINVAL when the cluster is not proxied or i is out of range. Any
 * thread. */
int hw_cluster_isolate(struct hw_cluster *c, unsigned i, bool on);

/* Stop every running node (and the witness): SIGTERM, wait up to 5 s, then SIGKILL; always reaps
 * every child. Returns 0 when every node exited with status 0 after SIGTERM, -ECHILD when one had
 * to be killed or exited otherwise (the cluster is stopped either way). */
int hw_cluster_stop(struct hw_cluster *c);

/* The caller killed every node and the witness itself (SIGKILL from a signal handler, all
 * such a handler may do, hw_cluster_node_pid): reap them all, saying nothing of how they
 * ended, which hw_cluster_stop would call a death "on stop" pointing at their logs. */
void hw_cluster_reap_killed(struct hw_cluster *c);

/* Stop what is still running, remove the directory unless keep, free. NULL is a no-op. */
void hw_cluster_free(struct hw_cluster *c, bool keep);

#endif
