/* failover_run.h: one failover under TOS load on a local cluster (bench/cluster.h) or a
 * running one (--connect), what
 * `hawser demo` and `hawser drill failover` share. A run drives a paced TOS load through a
 * client that follows the primary and keeps every outcome (which node answered it, when
 * it was sent), takes the primary away (SIGKILL, or cut off from the other voters while
 * its clients still reach it), measures the time from the fault to the first acknowledged
 * submit on the new primary, brings the old primary back and times its rejoin, counts the
 * acknowledged records the new primary does not hold, and says whether two primaries
 * acknowledged in overlapping periods. A killed primary that a supervisor restarts within
 * the detection time may be elected again before any standby is: the run then says the
 * service came back by the restart (restarted), not by a failover, times the same RTO to
 * its first acknowledgement and checks the same losses on it; there is nothing to rejoin.
 *
 * Where the nodes are and how the fault reaches the primary is behind struct hw_fo_nodes:
 * a local cluster (r->c) is killed, cut off and read (logs, stores) directly; a running
 * cluster elsewhere (r->remote, cli/failover_remote.c) is reached through its client
 * ports only: its primary crashes itself on request (wire.proto DrillFault), its
 * supervisor restarts it, or it cuts its own voter and replication links for a while and
 * heals by itself; losses are looked up by resubmitting each acknowledged record
 * (answered as a duplicate at its LSN when held).
 *
 * Times are seconds on hw_mono_s() minus the caller's origin t0 (a report's clock
 * when t0 is its t0), so a caller can draw them on its timeline. Single-threaded: the
 * load, the fault and the caller's tick all run on the calling thread, in the order they
 * happen. */
#ifndef HW_CLI_FAILOVER_RUN_H
#define HW_CLI_FAILOVER_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hw_client;
struct hw_client_security;
struct hw_cluster;
struct hw_fo_remote;
struct hw_report;
struct hw_workload;

/* TOS lanes of the load: gate, quay crane, EDI feed, each its own generator. */
#define HW_FO_LANES 3u
/* Nodes whose logs a run reads (a cluster has 1 + HW_PEERS_MAX). */
#define HW_FO_NODES_MAX 16u
/* Follows of the primary one run allows before it gives up (a fault is one or two). */
#define HW_FO_FOLLOWS_MAX 8u

enum hw_fo_fault {
	HW_FO_KILL = 0,      /* SIGKILL of the primary (remote: it crashes itself); rejoin:
				restart it on its store (remote: its supervisor does) */
	HW_FO_PARTITION = 1, /* blackhole its links to every voter and the witness (the
				cluster must be proxied; remote: it cuts them itself for
				isolate_ms); rejoin: let them pass (remote: it heals itself) */
};

/* The load: records drawn from the generators as they are needed, up to limit, and every
 * outcome (arrays of limit entries). One sequence across runs: each run submits the records after
 * the previous run's, so no record is submitted in two runs. */
struct hw_fo_load {
	struct hw_workload *w[HW_FO_LANES];
	uint64_t limit; /* records the generators will give */
	uint64_t count; /* records drawn so far */
	uint64_t next;  /* the next record to submit */
	uint8_t **rec;
	size_t *len;
	int *expect; /* the generator's intent: 0, or the code it must be refused with */
	int *code;   /* the outcome, once done */
	uint64_t *lsn;
	bool *done;
	int *by;          /* index of the node that answered it, -1 when unknown */
	int64_t *sent_ms; /* wall clock of its last submit */
	int64_t *at_ms;   /* wall clock its outcome arrived */
	uint32_t *conn;   /* the load client's connection it came on (hw_client_connects) */
};

/* Make the generators for limit records of profile (lane l has seed seed + l) whose event
 * times end at end_ms. Returns 0, HW_ENOMEM or the generator's error; free with
 * hw_fo_load_free() either way. */
int hw_fo_load_init(struct hw_fo_load *l, const char *profile, uint64_t seed, uint64_t limit,
		    int64_t end_ms);
/* Free what l holds. A zeroed l is fine. */
void hw_fo_load_free(struct hw_fo_load *l);

struct hw_fo_run;

/* What differs between a local and a remote cluster. at is r->c or r->remote. */
struct hw_fo_nodes {
	unsigned (*count)(const void *at);
	const char *(*id)(const void *at, unsigned i);          /* node i's id */
	const char *(*addr)(const void *at, unsigned i);        /* its client address */
	int (*connect)(const void *at, struct hw_client **out); /* a client of the cluster */
	/* the node that says it is primary now, polled within timeout_ms; -ETIMEDOUT */
	int (*primary)(void *at, int timeout_ms, unsigned *i);
	int (*epoch)(void *at, unsigned i, uint64_t *epoch); /* node i's, by its status */
	const char *(*log)(const void *at, unsigned i); /* its log file; NULL: not readable */
	int (*fault)(struct hw_fo_run *r); /* take r->old_p away; may move r->t_fault to
					      when the fault took effect */
	int (*heal)(struct hw_fo_run *r);  /* bring r->old_p back (remote: its supervisor
					      does; r->t_heal moves back to the fault) */
	/* node i is a standby the primary shows connected and caught up, within timeout_ms;
	 * on -ETIMEDOUT behind says how far it got, if connected (hw_cluster_wait_joined) */
	int (*wait_joined)(void *at, unsigned i, int timeout_ms, char *behind, size_t cap);
	int (*loss_check)(struct hw_fo_run *r); /* sets r->lost, r->lost_beyond_rpo */
};

/* The caller's timed events, called from the load's loop at least every 100 ms, through
 * the client's search for a new primary too (one dial to a node that does not answer may
 * hold a call up to the client's 5 s connect timeout) (the demo's status line and its
 * backup). Returns 0, or -1 to end the run (set r->fail with
 * hw_fo_failed() first). */
typedef int hw_fo_tick_cb(struct hw_fo_run *r, void *arg);

struct hw_fo_run {
	/* set by the caller */
	struct hw_cluster *c;        /* started with failover (and proxied for HW_FO_PARTITION);
					NULL when remote is set */
	struct hw_fo_remote *remote; /* a running cluster (cli/failover_remote.c), or NULL */
	struct hw_fo_load *load;
	enum hw_fo_fault fault;
	double rate;          /* records/s over all lanes */
	unsigned window;      /* submits in flight at most */
	double t0;            /* origin of the times below, on hw_mono_s() */
	double fault_after_s; /* seconds of load before the fault */
	double after_s;       /* load after the first ack on the new primary; <= 0: until
				 every record of the load (limit) is answered */
	int first_ack_ms;     /* fault to first ack on the new primary: past it, the run fails;
				 also how long the client looks for a new primary
				 (hw_client_set_follow_ms) */
	int rejoin_ms;        /* bound for the old primary's rejoin */
	int isolate_ms;       /* remote HW_FO_PARTITION: how long the primary stays cut off
				 (past the RTO: a new primary must be acknowledging by then) */
	int64_t rpo_ms;       /* the target: a lost record acknowledged longer than this
				 before the fault is counted in lost_beyond_rpo */
	hw_fo_tick_cb *tick;  /* may be NULL */
	void *arg;
	volatile sig_atomic_t *interrupted; /* may be NULL: a signal ends the run */
	/* results */
	uint64_t from, to; /* this run's records: [from, to) of the load */
	double t_load, t_fault, t_detected, t_elected, t_promoted, t_first, t_load_end;
	double t_heal, t_joined; /* rejoin: restart (or heal) begins, the primary sees it */
	unsigned old_p, new_p;
	bool faulted, joined, primary_again; /* faulted: the fault took effect */
	/* HW_FO_KILL: the first success after the fault came from the old primary itself,
	 * on a connection the load's client opened after the fault, so from a process
	 * started after it: restarted (by r->c's caller or a supervisor) and elected again
	 * before any standby was. The service came back by the restart: no standby was
	 * promoted, new_p is old_p, and there is no old primary to rejoin. */
	bool restarted;
	uint32_t conn_at_fault; /* the load client's hw_client_connects() at the fault */
	/* the old primary's epoch before the fault, the new primary's once it acknowledged
	 * (0: its status did not answer); a restarted node elected again has a later one */
	uint64_t epoch_before, epoch_after;
	bool overlap_checked; /* the run got past its rejoin to the overlap check: overlapping
				 means something */
	bool loss_checked; /* the loss check ran: lost and lost_beyond_rpo mean something */
	int fault_rc; /* why the fault could not be applied (e.g. HW_EFAULT_OFF), else 0 */
	unsigned follows; /* the client moved to another primary, or reconnected after a
			     stall (STALL_MS without an outcome) */
	uint64_t answered, acked, unexpected, lost, max_acked_lsn;
	uint64_t lost_beyond_rpo;      /* lost, and its success reached the client more than
					  rpo_ms before the fault: the RPO is broken for sure */
	uint64_t old_acks_after_fault; /* successes from the old primary the client received
					  after the fault */
	/* promoted_ms: -1 when not known (a remote cluster's logs, or the run ended before
	 * the new primary's log was read: t_detected, t_elected, t_promoted are -1 then) */
	double measured_rto_ms, promoted_ms, rejoin_ms_measured;
	int64_t new_first_ack_ms, old_last_ack_ms; /* wall clock, from the nodes' logs */
	unsigned overlapping; /* 1 when two primaries acknowledged in overlapping periods */
	char rejoin_why[320]; /* why the old primary did not rejoin, from the logs */
	int64_t fault_wall_ms, old_gone_ms; /* wall clock: the fault; once it took effect */
	long log_from[HW_FO_NODES_MAX];     /* each node's log size at the fault */
	char fail[320];                     /* why the run failed; "" when it did not */
};

/* Run one failover on r->c: the load, the fault after fault_after_s, the first ack on the
 * new primary (or on the old one restarted: r->restarted), the end of the load, the rejoin
 * (none after a restart), the loss check on the new primary's store and the overlap
 * check. Returns 0 when the run reached its measures (judging them
 * against targets is the caller's), or -1 with r->fail saying why. Prints a line for the
 * fault, each follow and the rejoin on stdout when verbose. */
int hw_fo_run(struct hw_fo_run *r, bool verbose);

/* The fault in words, for the outputs: "kill -9 of the primary" (local HW_FO_KILL), "the
 * primary crashes itself" (remote HW_FO_KILL), "the primary cut off from standbys and
 * witness" (HW_FO_PARTITION). Static strings. */
const char *hw_fo_fault_words(bool remote, enum hw_fo_fault fault);

/* Add the run's timeline to rep (its t0 must be r->t0): "fault: kill -9 primary" (or,
 * remote, "fault: primary crashed"; "fault: primary cut off"), "detection" (to the new
 * primary's first election_started), "election" (to elected), "replay" (to
 * became_primary), "first commit on new primary" ("... on restarted primary" when
 * r->restarted; to the client's first success from it, held to rto_ms) and "rejoin",
 * each named with prefix (e.g. "" or "slowest run 3: "). Phases the run did not reach
 * are left out. */
void hw_fo_report(const struct hw_fo_run *r, struct hw_report *rep, const char *prefix,
		  int64_t rto_ms);

/* Node i's id on the run's cluster (local or remote). */
const char *hw_fo_node_id(const struct hw_fo_run *r, unsigned i);

/* A running cluster reached through its client ports: addrs is a comma-separated list
 * (as hw_client_connect takes), sec the channel (not copied: it must outlive the
 * remote). Asks each node's status for its id (a node that does not answer is named by
 * its address). Returns 0 with *out (free with hw_fo_remote_free), HW_ERANGE for an
 * empty list or more than HW_FO_NODES_MAX addresses, HW_ENOMEM. */
int hw_fo_remote_new(const char *addrs, const struct hw_client_security *sec,
		     struct hw_fo_remote **out);
void hw_fo_remote_free(struct hw_fo_remote *rm);
/* The remote's operations (cli/failover_remote.c). */
extern const struct hw_fo_nodes hw_fo_remote_nodes;

/* The acknowledged records whose loss breaks the run's RPO target (rpo_ms): at rpo 0
 * every one lost; else those lost_beyond_rpo, acknowledged longer than rpo_ms before the
 * fault. Means something only when r->loss_checked. */
uint64_t hw_fo_lost_over_rpo(const struct hw_fo_run *r);

/* Whether nodes of r's local cluster stopped for a storage failure (its status says so,
 * or the storage_failed line of its log): why names the cluster's directory, then the
 * nodes and the code of each, "disk full at DIR (0 KiB free): storage failed on s1
 * (HW_ESTORE_FULL), s2 (ENOSPC)" ("disk failed" for codes other than ENOSPC, EDQUOT and
 * HW_ESTORE_FULL). False for a remote cluster, whose disks are the cluster's own. Asks
 * each node's status (2 s at most each). */
bool hw_fo_storage_failed(const struct hw_fo_run *r, char *why, size_t cap);

/* Record why the run failed (the first reason wins; one longer than r->fail is cut with
 * "...", hw_report_cut); returns -1. */
int hw_fo_failed(struct hw_fo_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The current time on the run's clock (hw_mono_s() - r->t0). */
double hw_fo_clock(const struct hw_fo_run *r);

#endif
