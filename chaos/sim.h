/* sim.h: the deterministic cluster simulator (hawser-sim), TigerBeetle's VOPR in small.
 *
 * One process runs a whole cluster from one seed: two to four data nodes running the
 * real replication core (engine/core/repl.h) and the real election core
 * (engine/core/election.h) on every voter plus a witness, clients that submit records
 * with random durability modes, a simulated network (sim_net.c), simulated storage
 * (sim_disk.c) and simulated clocks. The simulator is the driver: it carries out every
 * action the cores emit, and after every simulated millisecond it checks the promises of
 * reference/reliability-security.md 2.1 (P-SB, P-DUR, P-ORD), and at each election of a
 * run at rpo t P-RPO, against the truth it holds (sim_check.c). Nothing reads the real
 * clock or an unseeded source: a seed, the profile, the step count and the rpo replay a
 * run exactly, on any machine, at the same revision.
 *
 * Files: sim.c (command line, seed list, summary), sim_world.c (one run: setup from the
 * seed, the step loop, faults, clients, heal), sim_node.c (the driver of one node: its
 * cores, connections, roles), sim_net.c, sim_disk.c, sim_check.c (invariants).
 *
 * Threading: a struct sim_world belongs to one thread; nothing here is shared. */
#ifndef HW_CHAOS_SIM_H
#define HW_CHAOS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/fault.h"
#include "engine/core/election.h"
#include "engine/core/repl.h"

/* Data nodes (primary + standbys) a run may have, plus the witness. */
#define SIM_DATA_MAX  4u
#define SIM_NODES_MAX (SIM_DATA_MAX + 1u)
/* Log entries per node and records submitted per run: a run stops submitting at the
 * limit (a 5,000-step run submits about 1,500). */
#define SIM_LOG_MAX 8192u
/* Entries in one ENTRIES frame; also the largest window a run draws. */
#define SIM_FRAME_ENTRIES 16u
/* Waiters per primary (hw_repl_config.waiters_max). */
#define SIM_WAITERS 32u
/* Entries a standby holds between receiving and writing: one window. */
#define SIM_STAGE_MAX 64u
/* Messages in flight in the whole network; a send beyond it is lost. */
#define SIM_NET_MAX 4096u
/* Disk operations queued per node; beyond it the node stops taking submits. */
#define SIM_DISK_QUEUE 256u
/* Epochs a run tracks the owner of (one primary per epoch). */
#define SIM_EPOCH_MAX 65536u
/* Room for one event's actions: the largest fail_all plus everything else. */
#define SIM_ACTS_CAP    (HW_ACTS_MIN(SIM_WAITERS) + 8u)
#define SIM_EL_ACTS_CAP (4u * HW_EL_ACTS_MIN)

_Static_assert(SIM_FRAME_ENTRIES * 2u <= SIM_STAGE_MAX, "a standby stages a whole window");
_Static_assert(SIM_DATA_MAX - 1u <= HW_PEERS_MAX, "standbys fit the repl core");
_Static_assert(SIM_NODES_MAX <= HW_EL_VOTERS_MAX, "voters fit the election core");

/* ---------------------------------------------------------------- randomness */

/* xoshiro256**, seeded through splitmix64 (base/rng.h): the only randomness in a run
 * (sim_world.c). */
struct sim_rng {
	uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in 0..n-1 (0 when n is 0). */
uint64_t sim_below(struct sim_rng *r, uint64_t n);
/* Uniform in lo..hi (inclusive). */
int64_t sim_range(struct sim_rng *r, int64_t lo, int64_t hi);
/* True with probability ppm / 1,000,000. */
bool sim_chance(struct sim_rng *r, uint32_t ppm);
/* splitmix64 finaliser: also the content hash's mixer. */
uint64_t sim_mix(uint64_t x);

/* ---------------------------------------------------------------- profiles */

enum sim_profile {
	SIM_PROFILE_NONE = 0, /* no faults: delays, drift, switchovers only */
	SIM_PROFILE_NETWORK,  /* loss, duplication, reordering, partitions, pauses */
	SIM_PROFILE_STORAGE,  /* write and fsync failures, crashes (torn writes), restarts */
	SIM_PROFILE_ALL,      /* both, plus wall-clock jumps */
};
#define SIM_PROFILES 4

const char *sim_profile_name(enum sim_profile p);
/* The profile named name, or -1. */
int sim_profile_parse(const char *name);

/* ---------------------------------------------------------------- log and disk */

/* One log entry: what the TOS record would be, reduced to what the checks need. The
 * hash chains the entry to its predecessor (prev_hash), so equal hashes at an LSN mean
 * equal logs up to it. */
struct sim_entry {
	uint64_t epoch;
	uint64_t lsn;
	uint64_t record_id; /* index into the run's history */
	uint64_t payload;   /* the record's bytes, in small */
	int64_t wall_ms;    /* the primary's wall clock at submit: data, never time */
	uint64_t prev_hash;
	uint64_t hash;
};

/* The hash an entry must carry: of its content and prev_hash. */
uint64_t sim_entry_hash(const struct sim_entry *e);

enum sim_io_type {
	SIM_IO_FLUSH, /* the log up to upto is durable */
	SIM_IO_HARD,  /* the election hard state is durable */
	SIM_IO_APPLY, /* the store applied the log up to upto */
};

struct sim_io {
	int64_t at;
	uint8_t type; /* enum sim_io_type */
	uint64_t upto;
	struct hw_el_hard hard;
};

/* A node's storage: the log (entries [0, n) are written, [0, durable) are on disk),
 * the election hard state, and a FIFO of operations in flight. A crash keeps only what
 * is on disk, and may leave the first unflushed entry torn (its bytes damaged), which
 * recovery must find and drop. Write and fsync failures come from the one fault
 * primitive (base/fault.h), armed from the seed. */
struct sim_disk {
	struct sim_entry *log; /* SIM_LOG_MAX entries, owned by the world */
	uint64_t n;
	uint64_t durable;
	bool torn; /* log[durable] holds a torn entry past n (after a crash) */
	struct hw_el_hard hard;
	struct sim_io q[SIM_DISK_QUEUE];
	uint32_t q_head, q_count;
	int64_t lat_min_ms, lat_max_ms; /* flush latency */
	struct hw_fault write_fault, sync_fault;
	uint64_t writes, syncs, write_errors, sync_errors, torn_found;
};

void sim_disk_init(struct sim_disk *d, struct sim_entry *log, int64_t lat_min, int64_t lat_max);
/* Append e at n (page cache). -EIO when the write fault fires: nothing written. */
int sim_disk_append(struct sim_disk *d, const struct sim_entry *e);
/* Drop entries past keep (written or durable): the rewind of a divergent suffix, one
 * atomic store commit, so durable at once. Pending flushes shrink with it. */
void sim_disk_truncate(struct sim_disk *d, uint64_t keep);
/* Queue an operation finishing at now + latency (FIFO: never before an earlier one).
 * -EBUSY when the queue is full. */
int sim_disk_queue(struct sim_disk *d, struct sim_rng *r, int64_t now, enum sim_io_type type,
		   uint64_t upto, const struct hw_el_hard *hard);
/* The next operation due at now, popped into *io; false if none. io->type FLUSH or HARD
 * with a firing sync fault returns -EIO in *err and changes nothing on disk. */
bool sim_disk_due(struct sim_disk *d, int64_t now, struct sim_io *io, int *err);
/* Crash: unflushed entries and queued operations are gone; with tear the first
 * unflushed entry is left half written. */
void sim_disk_crash(struct sim_disk *d, bool tear);
/* Restart: find the torn entry past the end (its check fails) and forget it, and check
 * the whole durable chain reads back intact (asserted). Returns the entries dropped. */
uint64_t sim_disk_recover(struct sim_disk *d);
/* Hash of the entry at lsn (1-based) in the written log, 0 for lsn 0 or past n. */
uint64_t sim_disk_hash_at(const struct sim_disk *d, uint64_t lsn);

/* ---------------------------------------------------------------- network */

enum sim_msg_type {
	SIM_M_LEASE_REQ,
	SIM_M_LEASE_ACK,
	SIM_M_VOTE_REQ,
	SIM_M_VOTE,
	SIM_M_TIMEOUT_NOW,
	/* replication stream (a TCP connection, conn != 0) */
	SIM_M_HELLO,   /* standby -> primary: lsn = its durable LSN, hash = its hash there */
	SIM_M_REWIND,  /* primary -> standby: lsn, hash = the primary's there */
	SIM_M_ENTRIES, /* primary -> standby */
	SIM_M_HB,      /* primary -> standby heartbeat */
	SIM_M_ACK,     /* standby -> primary */
	SIM_M_CLOSE,   /* either: FIN / RST */
};

struct sim_msg {
	int64_t at;
	uint64_t seq; /* global send order: ties in at keep it */
	uint8_t type; /* enum sim_msg_type */
	uint8_t from, to;
	bool dup; /* a duplicate the network made */
	uint64_t conn;
	uint64_t stream_seq; /* per connection and direction, from 1 */
	uint64_t epoch;
	union {
		struct hw_el_lease_req lease_req;
		struct hw_el_lease_ack lease_ack;
		struct hw_el_vote_req vote_req;
		struct hw_el_vote vote;
		struct {
			uint64_t lsn, hash;
		} hello;
		struct {
			uint64_t first, last, pdur;
			uint32_t count;
			bool receipt; /* the SEND's: ack on arrival */
			struct sim_entry e[SIM_FRAME_ENTRIES];
		} entries;
		struct {
			uint64_t pdur;
			bool reply;
		} hb;
		struct hw_pos ack;
	} u;
};

/* One direction of a link. Datagrams (election messages) see every fault; a stream
 * (replication) sees delay, and loss as a retransmission delay, in order. */
struct sim_link {
	bool up;
	uint32_t loss_ppm, dup_ppm;
	int64_t delay_min_ms, delay_max_ms;
	int64_t stream_last_at; /* streams deliver in order */
};

struct sim_net {
	struct sim_link link[SIM_NODES_MAX][SIM_NODES_MAX];
	bool raw_streams;     /* streams misbehave like datagrams (duplicates, reordering) */
	struct sim_msg *pool; /* SIM_NET_MAX, owned by the world */
	uint32_t free_list[SIM_NET_MAX];
	uint32_t n_free;
	uint32_t heap[SIM_NET_MAX]; /* pool indices, min-heap on (at, seq) */
	uint32_t n_heap;
	uint64_t seq;
	uint64_t sent, lost, duplicated, dropped_full;
};

void sim_net_init(struct sim_net *net, struct sim_msg *pool);
/* Send m (its at and seq are set here) from m->from to m->to at now. stream: a
 * replication frame. Lost, duplicated and delayed as the link says. */
void sim_net_send(struct sim_net *net, struct sim_rng *r, int64_t now, const struct sim_msg *m,
		  bool stream);
/* Pop the earliest message due at now into *m; false if none. */
bool sim_net_pop(struct sim_net *net, int64_t now, struct sim_msg *m);
/* Put m back to be delivered at at (a paused receiver), keeping its seq. */
void sim_net_defer(struct sim_net *net, const struct sim_msg *m, int64_t at);
/* All links up (heal) or down from/to node i (isolate); one-way if only one flag. */
void sim_net_heal(struct sim_net *net);
void sim_net_isolate(struct sim_net *net, uint32_t i, uint32_t nodes, bool out, bool in);

/* ---------------------------------------------------------------- nodes */

enum sim_data_role {
	SIM_DR_NONE = 0, /* settling: waits for its log to be durable, then standby */
	SIM_DR_STANDBY,
	SIM_DR_PRIMARY,
};

/* One end of a replication connection. */
struct sim_conn {
	bool open;
	uint64_t id;
	uint32_t peer;
	uint64_t epoch;
	uint64_t tx_seq;
	uint64_t rx_seq;
	bool stalled; /* a frame was lost: TCP delivers nothing after it */
};

struct sim_node {
	uint32_t id;
	bool witness;
	bool up;
	int64_t down_until;
	int64_t paused_until;
	uint64_t crashes, pauses, fail_stops;
	/* clock: local monotonic = off + t + t * ppm / 1e6; wall = local + wall_off */
	int64_t off_ms, ppm, wall_off_ms;
	struct sim_rng rng; /* the election core's seeded source */
	struct hw_el el;
	struct sim_disk disk;
	/* data role */
	enum sim_data_role dr;
	bool promote; /* BECOME_PRIMARY seen: primary once the log is durable */
	uint64_t promote_epoch;
	bool submits_paused; /* switchover */
	struct hw_primary prim;
	struct hw_waiter waiters[SIM_WAITERS];
	struct sim_conn pconn[SIM_DATA_MAX]; /* by repl peer index */
	uint64_t committed;                  /* highest LSN it acknowledged as primary */
	struct hw_standby sb;
	struct sim_conn sconn;
	int64_t next_hello;
	struct sim_entry stage[SIM_STAGE_MAX]; /* by lsn % SIM_STAGE_MAX */
	uint64_t applied;                      /* the store's applied LSN (truth) */
	bool apply_busy;
};

/* ---------------------------------------------------------------- history */

enum sim_rec_state {
	SIM_REC_PENDING = 0,
	SIM_REC_ACKED,
	SIM_REC_FAILED, /* refused, fenced or cut off: no promise */
};

struct sim_rec {
	uint64_t epoch, lsn, hash, payload;
	uint32_t node;
	uint8_t mode, k;
	uint8_t state;
	bool at_risk;     /* a node that held it crashed before it was durable there:
			   * a RECEIVED promise may be lost */
	bool lost;        /* a promotion's timeline lacks it (P-RPO judged it then); a
			   * later one that holds it again clears it */
	uint8_t held;     /* nodes that ever held it in memory (bit per node) */
	int64_t acked_at; /* true time */
};

/* ---------------------------------------------------------------- world */

struct sim_params {
	uint64_t seed;
	enum sim_profile profile;
	uint64_t steps; /* simulated ms before the heal */
	int verbose;
	bool outcomes_only; /* skip the checks of decisions (sim_check.c) */
	/* SIM_RPO_SHARE: one seed in SIM_RPO_SHARE_DIV runs at an rpo drawn from the seed,
	 * the rest at rpo 0; 0: every seed at rpo 0; > 0: every seed at this rpo */
	int64_t rpo_ms;
};
#define SIM_RPO_SHARE     (-1)
#define SIM_RPO_SHARE_DIV 4
/* The rpo a share seed draws, ms: about a lease (200 ms) to a dozen of them. */
#define SIM_RPO_MIN_MS 300
#define SIM_RPO_MAX_MS 2500

struct sim_stats {
	uint64_t steps, submits, acked[HW_MODES], failed, elections, step_downs, switchovers;
	uint64_t crashes, restarts, pauses, fail_stops, partitions, heals, clock_jumps;
	uint64_t rewinds, truncated, lost_allowed, msgs, msgs_lost, msgs_dup, torn;
	/* runs at rpo t > 0 (P-RPO): their seeds, promotions, acknowledged records their
	 * promotions lost (within t, so allowed), the witness's refusals of a candidate as
	 * not in sync (pre-votes included), ms before the heal in which no node could
	 * acknowledge, and ms in which a serving primary's RPO t rule held acknowledgements */
	uint64_t rpo_runs, rpo_elections, rpo_lost, rpo_not_in_sync, rpo_no_primary_ms;
	uint64_t rpo_held_ms;
};

struct sim_violation {
	bool set;
	uint64_t step;
	char name[48];
	char detail[384];
};

/* Per-run fault rates, drawn from the seed (swarm testing: each run its own mix). */
struct sim_rates {
	uint32_t submit_ppm, crash_ppm, pause_ppm, part_ppm, heal_ppm, jump_ppm, xfer_ppm;
	uint32_t sync_fault_every, write_fault_every; /* 0: off; else ~ one per N ops */
	int64_t down_min_ms, down_max_ms, pause_max_ms;
	bool tight_acts; /* repl events often get a tiny action array (overflow path) */
};

struct sim_world {
	struct sim_params prm;
	struct sim_rng rng;
	int64_t t;
	uint64_t step;
	uint32_t data;  /* data nodes: 2 to 4 */
	uint32_t nodes; /* data + the witness, whose id is data */
	struct sim_rates rates;
	struct hw_repl_config rcfg;
	struct hw_el_config ecfg;
	/* the RPO of the run (P-RPO; 0: none) as the nodes have it, and the witness's own,
	 * which a misconfigured witness has otherwise (the primary's goes in its lease
	 * requests); with rpo_fail a submit is refused while the RPO t rule holds acks */
	int64_t rpo_ms, w_rpo_ms;
	bool rpo_fail;
	int64_t last_ack_at;  /* true time of the newest acknowledgement */
	int64_t rpo_span_max; /* the widest loss of a promotion: its newest acknowledgement
			       * less the oldest lost one (P-RPO holds it <= rpo_ms) */
	struct sim_node nd[SIM_NODES_MAX];
	struct sim_net net;
	uint64_t conn_seq;
	bool healing;
	/* the truth the checks hold */
	struct sim_rec *hist; /* SIM_LOG_MAX */
	uint64_t nhist;
	uint8_t *owner; /* SIM_EPOCH_MAX: node + 1 that became primary in an epoch, 0 none */
	uint64_t max_primary_epoch;
	struct sim_violation v;
	struct sim_stats st;
	/* storage the world owns (allocated once, reused by every run) */
	struct sim_entry *logs;
	struct sim_msg *pool;
};

/* Allocate a world (logs, history, message pool); NULL when out of memory. */
struct sim_world *sim_world_new(void);
void sim_world_free(struct sim_world *w);
/* Run one seed to the end (or its first violation). Returns 0, or 1 with w->v set. */
int sim_run(struct sim_world *w, const struct sim_params *prm);
/* A digest of the run's end state (logs, epochs, history): equal for equal seeds. */
uint64_t sim_digest(const struct sim_world *w);

/* -vv: one line per notable event (role changes, crashes, rewinds, acks), for replay. */
void sim_trace(const struct sim_world *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define SIM_TRACE(w, ...)                                                                          \
	do {                                                                                       \
		if ((w)->prm.verbose >= 2)                                                         \
			sim_trace((w), __VA_ARGS__);                                               \
	} while (0)

/* sim_world.c, for the node driver */
int64_t sim_local(const struct sim_world *w, uint32_t i);
int64_t sim_wall(const struct sim_world *w, uint32_t i);

/* sim_node.c: the driver of one node */
void sim_node_start(struct sim_world *w, uint32_t i);
void sim_node_crash(struct sim_world *w, uint32_t i, const char *why);
void sim_node_deliver(struct sim_world *w, const struct sim_msg *m);
void sim_node_disk(struct sim_world *w, uint32_t i);
void sim_node_tick(struct sim_world *w, uint32_t i);
/* A client submits a record to node i; false if the node refused it (not a serving
 * primary, paused, full). */
bool sim_node_submit(struct sim_world *w, uint32_t i, uint8_t mode, uint8_t k);
/* Operator: switch over from primary i to standby target. */
void sim_node_switchover(struct sim_world *w, uint32_t i, uint32_t target);
/* Repl peer index of data node j on primary i, and back. */
uint32_t sim_peer_index(uint32_t i, uint32_t j);
uint32_t sim_peer_node(uint32_t i, uint32_t p);

/* sim_check.c: the invariants. Each returns false after recording the violation. */
bool sim_violate(struct sim_world *w, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After every step. */
bool sim_check_step(struct sim_world *w);
/* A release with code 0 that passed the driver's fence: the client is acknowledged. */
void sim_check_ack(struct sim_world *w, uint32_t i, uint64_t token);
/* Node i is about to drop its log past keep (a rewind). */
void sim_check_truncate(struct sim_world *w, uint32_t i, uint64_t keep);
/* Node i appends e received from a primary (chain and content checks); false (and the
 * violation recorded) when it must not. */
bool sim_check_append(struct sim_world *w, uint32_t i, const struct sim_entry *e);
/* BECOME_PRIMARY on node i for epoch. */
void sim_check_become(struct sim_world *w, uint32_t i, uint64_t epoch);
/* Node i is about to lose its unflushed entries (crash or fail-stop). */
void sim_check_lost_volatile(struct sim_world *w, uint32_t i);
/* Every acknowledged record on at least k + 1 nodes (a full sweep). */
bool sim_check_sweep(struct sim_world *w);
/* After the heal: one primary with a lease, standbys caught up and equal, every
 * protected acknowledged record in the final primary's log. */
bool sim_check_final(struct sim_world *w);
/* The heal's goal: one data node serves as primary holding its lease, and every other
 * data node follows it with the primary's whole log durable. */
bool sim_converged(const struct sim_world *w);
/* Is record r protected against loss by its mode (k >= 1 and not at risk)? */
bool sim_rec_protected(const struct sim_rec *r);

#endif
