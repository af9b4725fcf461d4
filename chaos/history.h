/* history.h: what hawser-chaos (chaos/run.c) shares with its history checker
 * (chaos/history.c): the cluster of real processes behind per-link proxies, the client's
 * history (every submit and its outcome) and a schedule's result. */
#ifndef HW_CHAOS_HISTORY_H
#define HW_CHAOS_HISTORY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench/workload.h"
#include "hawser.h"
#include "tests/integration/proc.h"
#include "tests/integration/rig.h"

#define HW_CH_NODES            3 /* p1, s1, s2 */
#define HW_CH_VOTERS           4 /* ... and the witness w1 */
#define HW_CH_INCARNATIONS_MAX 256
#define HW_CH_LOCAL_EVERY      4 /* every 4th submit in local mode: the lease's own test */
/* store heads read per data node and schedule */
#define HW_CH_MARKS_MAX 512

struct hw_proxy;
struct hw_ch_net;

/* A data node's store head (LSN, chain hash) as read at wall_ms (before the read): what
 * it held then. */
struct hw_ch_mark {
	int64_t wall_ms;
	uint64_t lsn;
	uint8_t hash[HW_HASH_BYTES];
};

struct hw_ch_cluster {
	char root[HW_PROC_PATH_MAX];
	char listen[HW_CH_VOTERS][32];
	char client[HW_CH_NODES][32];
	char ini[HW_CH_VOTERS][HW_PROC_PATH_MAX + 16];
	char log[HW_CH_VOTERS][HW_PROC_PATH_MAX + 16];
	char dir[HW_CH_VOTERS][HW_PROC_PATH_MAX + 16 + sizeof "/data"]; /* or disk[i]/data */
	struct hw_proxy *px[HW_CH_VOTERS][HW_CH_VOTERS]; /* [i][j]: i's connections to j */
	struct hw_proc proc[HW_CH_VOTERS];
	bool stopped[HW_CH_VOTERS]; /* SIGSTOPped now, since stop_ms */
	int64_t stop_ms[HW_CH_VOTERS];
	bool dead[HW_CH_VOTERS]; /* killed, not yet restarted */
	/* per incarnation (in the order of its log's event=started lines): a wall time no
	 * acknowledgement of that incarnation can be later than (its SIGKILL, or its SIGSTOP
	 * when it was killed stopped, or its final stop) */
	int64_t ends[HW_CH_VOTERS][HW_CH_INCARNATIONS_MAX];
	unsigned n_ends[HW_CH_VOTERS];
	/* data nodes: the store's head after a SIGKILL or a crash, and at every heal before
	 * the traffic passes (before a rejoin it lets happen), oldest first */
	struct hw_ch_mark marks[HW_CH_NODES][HW_CH_MARKS_MAX];
	unsigned n_marks[HW_CH_NODES];
	bool caught_up[HW_CH_NODES]; /* at settle: a standby durable at the primary's last LSN */
	unsigned crashes;            /* processes that died without our SIGKILL */
	char crash_what[128];        /* the first of them */
	/* --net netns (chaos/netns.h): hosts per voter, data dirs on small tmpfs disks */
	struct hw_ch_net *net;
	char disk[HW_CH_NODES][HW_PROC_PATH_MAX + 16]; /* the tmpfs mount; dir is in it */
	bool full[HW_CH_NODES];                        /* a ballast file fills the disk now */
	/* disk errors and stalls (chaos/faultfs.c, both modes): data nodes run under it */
	unsigned fault_after;           /* an armed shim fails after this many more calls */
	unsigned stall_ms;              /* a stalled loop sleeps this long (SIGWINCH) */
	bool lease;                     /* --lease: every stall hits the primary */
	bool eio[HW_CH_NODES];          /* its shim is armed now */
	size_t store_mark[HW_CH_NODES]; /* log offset at the disk fault (full or EIO) */
	unsigned store_failed;          /* storage faults a node reported, typed */
	/* ... with a code outside HW_ESTORE_*, ENOSPC and EIO, or none after an EIO */
	unsigned store_untyped;
	char store_what[128]; /* the first of those */
	int net_rc;           /* the first nft rule that could not be added, 0: none */
};

/* The client's history; written by the load's thread only, read after it is joined. */
struct hw_ch_load {
	struct hw_ch_cluster *cluster;
	char addrs[HW_CH_NODES * 32];
	struct hw_rig_recs r; /* the records (one generator, drawn before the run) and their
				 outcomes: what the thread submits and what it received */
	int *by;              /* the data node that answered record i (r.count of them) */
	unsigned rate;  /* submits per second */
	bool local_all; /* --lease: every submit in local mode */
	int64_t t0_ms;  /* submit i is due at t0_ms + i * 1000 / rate */
	int64_t submit_until_ms;
	int64_t end_ms; /* the thread gives up collecting outcomes here */
	uint64_t submitted;
	unsigned follows;
	atomic_bool stop;
	atomic_bool finished;
	pthread_t thread;
};

struct hw_ch_result {
	unsigned faults;
	bool settled;
	int64_t settle_ms;
	int primary; /* final primary, -1 when none settled */
	uint64_t submitted, acked, failed, unknown;
	uint64_t lost;        /* acked, absent (or other bytes) on the final primary or a
				 caught-up standby */
	uint64_t moved;       /* acked at one LSN, found (same bytes) at another */
	uint64_t local_lost;  /* acked in local mode, on no node: that mode's allowed loss */
	uint64_t pruned;      /* acked below the final primary's log base: not checkable */
	uint64_t overlapping; /* pairs of primary terms whose acknowledgements overlap */
	uint64_t untyped;     /* failed outcomes without a known code, or a poison acked */
	unsigned primaries;   /* primary terms with acknowledgements, from the logs */
	unsigned caught_up;
	unsigned diverged;     /* caught-up standbys whose head or state differs */
	unsigned crashes;      /* nodes that died on their own (an assertion, a fail-stop) */
	unsigned store_failed; /* disk faults a node reported (storage_failed, typed) */
	uint64_t quarantined;  /* entries rejoins moved aside, found in quarantine tables */
	/* ... absent there, or a marked head there with other bytes (hw_ch_check_quarantine) */
	uint64_t quarantine_missing;
	char crash_what[128];
	char first[256]; /* the first problem found, for the line */
	char root[HW_PROC_PATH_MAX];
};


/* The load's thread (pthread start routine). */
void *hw_ch_load_thread(void *arg);

/* Submit i of l goes in local mode (HW_LOCAL, k = 0), else in the nodes' default mode:
 * every HW_CH_LOCAL_EVERY-th, or all of them under --lease. */
bool hw_ch_local(const struct hw_ch_load *l, uint64_t i);

/* Check the history of a stopped cluster: acked records on the final primary and on
 * every caught-up standby, or, when primary is -1 (the schedule did not settle), each on
 * at least one data node; the primary terms in the logs; the outcome codes; every data
 * node's rejoins against its quarantine table (hw_ch_check_quarantine). Fills r; 0
 * or the code of a store that could not be read. */
int hw_ch_check(const struct hw_ch_cluster *c, const struct hw_ch_load *l, int primary,
		struct hw_ch_result *r);

/* The primary terms in the data nodes' logs (c->log) against each other, each killed or
 * stopped incarnation bounded by c->ends (the top of history.c): counts r->primaries and
 * r->overlapping. A log that cannot be read is noted in r->first. */
void hw_ch_check_terms(const struct hw_ch_cluster *c, struct hw_ch_result *r);

/* The rejoins of one data node against its quarantine table: the node's log (all its
 * incarnations) names each rejoin's moved entries (event=rejoined common_lsn=C
 * quarantined=M: LSNs C+1..C+M), and each must be a row of the quarantine table of the
 * store in dir; each of marks[0..n_marks) (oldest first), the head the store held at its
 * wall_ms, must be a row at its LSN with its hash when the first rejoin logged at or
 * after that time cut below it (a later rejoin over that LSN adds a row beside it: rows
 * are keyed by rewind and LSN, replica/rejoin.h). A snapshot install replaces the store
 * but carries its quarantine rows: every rejoin is checked, but only the marks after the
 * last install (a node behind the new primary's base gets a snapshot without a rejoin,
 * docs/failover.md "Rejoin": what its head held then is in no quarantine). Counts r->quarantined
 * and r->quarantine_missing; 0, or the code of a log or store that could not be read. */
int hw_ch_check_quarantine(const char *dir, const char *log, const struct hw_ch_mark *marks,
			   unsigned n_marks, struct hw_ch_result *r);

/* A safety promise was broken: lost, overlapping, untyped, diverged, quarantine_missing,
 * or a node crashed. */
bool hw_ch_unsafe(const struct hw_ch_result *r);

/* The schedule failed: unsafe, or it did not settle (liveness). */
bool hw_ch_failed(const struct hw_ch_result *r);

/* One line for a schedule. */
void hw_ch_print(uint64_t seed, int rc, const struct hw_ch_result *r);

#endif
