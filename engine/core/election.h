/* election.h: who is primary, as a pure state machine (sans-IO, DESIGN.md "Failover
 * model"): epochs, leases, witness votes, fencing and gated promotion.
 *
 * Voters are the primary, the standbys and one witness (a small voter process on a third
 * host), ids 0..V-1; a majority is V/2 + 1. One struct hw_el serves every role: a node
 * starts as a standby (or as the witness, for ever) and moves between standby, candidate
 * and primary. Like repl.h it does no I/O, reads no clock, allocates nothing and draws
 * randomness only from the source in its config: events carry the time, and decisions
 * come back as actions the driver (engine/node.c, or the simulator in chaos/) carries
 * out in the order given.
 *
 * The rules, exactly:
 *
 * Epoch. The epoch is the term; every change of primary raises it. A node persists its
 * hard state (epoch, voted_epoch, voted_for) through HW_EL_PERSIST and tells the core
 * when it is durable (hw_el_on_persisted). No vote leaves a node, and a candidate asks
 * for none, before the vote it stands on is durable: a voter that crashes after voting
 * remembers it.
 *
 * Lease. Every renew_ms the primary sends LEASE_REQ(epoch, round, committed_lsn,
 * per-standby durable LSNs) to every other voter and notes its send time t for that
 * round. A voter grants (LEASE_ACK) unless it knows a higher epoch, and then promises
 * not to vote for another candidate until its own receive time + lease_ms. The primary
 * holds the lease until t + lease_ms - drift_margin_ms, where t is the send time of the
 * newest round acknowledged by a majority (itself included; a voter's ack of a later
 * round covers earlier ones, its promise running longer). The receive time is after the
 * send time, so with clock rates within drift_margin_ms / (2 lease_ms) of each other every
 * voter of that majority is still bound when the primary's lease ends: any majority
 * that elects someone else contains one of them, so a new primary is elected only after
 * the old lease ended. hw_el_may_ack() is the fence: the driver checks it before every
 * release, and it is false once the lease ends. A primary that cannot renew steps down
 * (STEP_DOWN LEASE_LOST) when the lease ends; a new primary that gets no lease within
 * lease_ms of its election steps down too. A voter restarted from disk cannot know what
 * it promised before, so it promises to nobody in particular for lease_ms after init.
 * While a primary holds its lease it refuses votes (it promised itself).
 *
 * Detection. A standby that has heard nothing from the primary of its epoch (any
 * message: hw_el_on_primary_heard, or a LEASE_REQ) for detection_ms, plus a random
 * 0..backoff_ms drawn per attempt, starts an election. First a pre-vote (Raft's): it asks
 * every voter whether it would vote for it in epoch + 1 (VOTE_REQ with pre set), and the
 * voters answer by the rules below but change nothing (no epoch, no vote, no timer), so
 * a candidate that cannot win (behind, cut off from the primary only) disturbs nobody.
 * With a majority of pre-votes it runs the real election: epoch + 1, votes for itself
 * (PERSIST), and once that is durable sends VOTE_REQ(epoch, its last (epoch, lsn, hash),
 * its durable LSN) to all voters. Transfer and forced elections skip the pre-vote.
 * detection_ms >= lease_ms (asserted), so by then its own promise has expired.
 *
 * Votes. A voter grants a vote in epoch e when (checked in this order, the first that
 * fails is the reason, enum hw_el_reason):
 *   - e >= its epoch (STALE otherwise);
 *   - it is not a primary holding its lease, and holds no unexpired promise to another
 *     node (LEASE): a standby that lost only its link to the primary cannot disturb a
 *     healthy primary (F5, F8);
 *   - it did not vote for another candidate in e (VOTED);
 *   - the candidate is not behind: a standby voter needs the candidate's (last epoch,
 *     last LSN) >= its own (BEHIND); the witness needs to know the committed LSN of its
 *     current epoch, from a LEASE_REQ of that epoch, or of an earlier one if every epoch
 *     since is one it voted in for this same candidate (which then holds whatever it
 *     committed as their primary) (NO_INFO; a witness restarted empty knows nothing
 *     until it hears its epoch's primary; one restarted from disk kept its knowledge in
 *     its hard state; at epoch 0, a cluster that never had a primary, nothing was
 *     committed) and the candidate's
 *     durable LSN >= required (NOT_IN_SYNC), where required = committed_lsn for RPO 0, and
 *     for RPO t the committed LSN the primary reported t ms before its newest report (the
 *     witness keeps (time, committed) samples from lease requests; with too short a
 *     history it takes the oldest sample: stricter, never looser). t is the stricter of
 *     the witness's own rpo and the one the primary's lease requests carry
 *     (hw_el_witness_rpo_ms), so a witness configured looser than the nodes judges by
 *     theirs. At RPO t this gate is not what bounds a failover's loss: the commit rule
 *     counts a record safe only on hw_el_k_min(voters) standbys, one of which is in
 *     every electing majority and votes BEHIND (targets.h hw_tg_ahead_k); the gate
 *     refuses what the witness knows to be too far behind. The BEHIND check is the
 *     same at any rpo, so a record on k_min standbys survives a failover at RPO t as
 *     at RPO 0: a node makes a submit in mode received, durable or applied wait for
 *     k_min at RPO t too (engine/config.h hw_config_k_min).
 * A refusal carries the voter's epoch (a stale sender learns it), the reason, and on the
 * witness the committed and required LSNs, so the loss is listed rather than silent. A
 * refusal changes nothing on the voter (not even its epoch), so a candidate that cannot
 * win cannot disturb the voters either; a grant adopts the epoch, resets the voter's
 * detection timer, and is sent once persisted.
 *
 * The vouch has a price: after the witness voted for a candidate that did not win (a
 * split vote), only that candidate can win later epochs until a primary's lease request
 * reaches the witness again; if it is gone, an operator forces a promotion.
 *
 * Between two lease rounds the witness's committed LSN lags the primary's by up to
 * renew_ms; records acknowledged in that gap are durable on k standbys (the RPO 0 rule),
 * and any standby holding them that is among the candidate's voters refuses with BEHIND.
 * That holds only when no majority can be made without one of those k: the old
 * primary's other standbys and the witness must not be a majority by themselves, so k
 * >= hw_el_k_min(V). With one standby (primary, standby, witness) and k = 1 the standby
 * holds them all.
 * A new primary reports at least the LSN it was elected with as committed: its
 * predecessor may have acknowledged all of it.
 *
 * Winning. A candidate with votes from a majority (its own included) becomes primary:
 * BECOME_PRIMARY(epoch, lsn = first LSN it will give out = its last LSN + 1; the driver
 * finishes writing what it holds first), then sends its first lease round at once.
 * may_ack stays false until a majority acks a round. A candidate that has not won
 * within election_ms + a random 0..backoff_ms (split vote, lost messages) tries again
 * with the next epoch. A candidate that hears the primary of its epoch or of a higher
 * one becomes a standby.
 *
 * Higher epoch. Any message with a higher epoch (except a refused VOTE_REQ) makes the
 * node adopt it: a primary steps down (STEP_DOWN HIGHER_EPOCH, or SWITCHOVER
 * when it handed over), a candidate gives up. Lower-epoch requests are refused with the
 * current epoch; lower-epoch replies are ignored.
 *
 * Forced promotion (promote --accept-loss). The operator first reads the loss from the
 * witness (hw_el_loss_range: the candidate's durable + 1 .. committed, or .. UINT64_MAX
 * when the witness knows no committed LSN), then hw_el_on_forced_promote(accepted) on the
 * standby starts an election whose VOTE_REQ carries that range. Voters skip the
 * BEHIND / NO_INFO / NOT_IN_SYNC checks; the witness grants only if the accepted range
 * covers the loss it computes now (LOSS_NOT_ACCEPTED otherwise: the frontier moved,
 * list again) and records the range it granted (w_forced). A forced promotion does not
 * break a live lease: while a primary renews, use a switchover.
 *
 * Switchover to standby X. The primary emits PAUSE_SUBMITS (the driver stops taking
 * submits), waits until its log is durable locally and X's durable LSN equals its last
 * LSN (hw_el_on_progress), then gives up its lease (may_ack false from here on: it never
 * acknowledges again in this epoch) and sends TIMEOUT_NOW(epoch) to X, which starts an
 * election at once marked as a transfer. Voters waive their lease promise for a
 * transfer request (the primary they promised gave up its lease to send it), the old
 * primary grants it, steps down (SWITCHOVER) on the higher epoch, and X wins: one round
 * of votes, no loss. If X is not caught up within xfer_timeout_ms the primary emits
 * RESUME_SUBMITS and carries on; if X has not won within xfer_timeout_ms after
 * TIMEOUT_NOW, the old primary steps down (XFER_FAILED) and a normal election follows.
 *
 * Threading: a struct hw_el belongs to one thread (the node's loop); nothing here blocks,
 * locks or keeps a pointer into an event's arguments.
 *
 * Actions: every event appends at most HW_EL_ACTS_MIN actions; the driver passes an array
 * with at least that much room (asserted) and carries them out in order. */
#ifndef HW_CORE_ELECTION_H
#define HW_CORE_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Voters in one cluster: primary, standbys and the witness. Every per-voter loop is
 * bounded by it; 9 is far beyond a terminal's two rooms plus a witness. */
#define HW_EL_VOTERS_MAX 9u

/* The longest lease a voter promises for at a primary's word (hw_el_lease_req.lease_ms):
 * no plan makes a longer one, as the RTO a lease fits in is at most an hour (config.c). */
#define HW_EL_LEASE_MS_MAX (3600 * 1000)

/* Lease rounds whose send times the primary remembers: an ack for an older round is
 * stale (its promise is covered by a newer one or already expired). */
#define HW_EL_ROUNDS 16u

/* (time, committed LSN) samples the witness keeps to turn the RPO into an LSN bound. A
 * sample is kept at most every rpo / (HW_EL_SAMPLES / 2), rpo being the one it judges by
 * (hw_el_witness_rpo_ms), so the ring spans twice the RPO. */
#define HW_EL_SAMPLES 64u

/* A lease request's rpo_ms when the primary sent none (an older one). */
#define HW_EL_RPO_NONE (-1)

/* No node / anybody (a promise after restart binds against every candidate). */
#define HW_EL_NONE UINT32_MAX
#define HW_EL_ANY  (UINT32_MAX - 1u)

/* Room any single event needs: a message to every other voter plus a few. */
#define HW_EL_ACTS_MIN ((size_t)HW_EL_VOTERS_MAX + 6u)

enum hw_el_role {
	HW_EL_STANDBY = 0,
	HW_EL_CANDIDATE = 1,
	HW_EL_PRIMARY = 2,
	HW_EL_WITNESS = 3,
};

/* Why a vote was refused (HW_EL_R_NONE: granted). */
enum hw_el_reason {
	HW_EL_R_NONE = 0,
	HW_EL_R_STALE,             /* the request's epoch is below the voter's */
	HW_EL_R_LEASE,             /* the voter is bound by a lease (it is, or promised, a
				    * live primary) */
	HW_EL_R_VOTED,             /* the voter voted for another candidate in this epoch */
	HW_EL_R_BEHIND,            /* candidate's (last epoch, last LSN) below the voter's */
	HW_EL_R_NO_INFO,           /* witness: no committed LSN known for its epoch */
	HW_EL_R_NOT_IN_SYNC,       /* witness: candidate's durable LSN below required */
	HW_EL_R_LOSS_NOT_ACCEPTED, /* witness: forced, but the accepted range does not cover
				    * the loss */
	HW_EL_R_NOT_CANDIDATE,     /* the witness cannot be a candidate; id out of range */
	HW_EL_R_STORAGE_FAILED,    /* the voter's storage failed: it votes for nobody */
};
#define HW_EL_REASONS 10

/* Short name of a reason ("lease", "not_in_sync"...); "?" out of range. Static. */
const char *hw_el_reason_name(enum hw_el_reason r);

/* Why a primary stepped down. */
enum hw_el_down {
	HW_EL_DOWN_LEASE_LOST = 1,   /* no majority renewed its lease before it ended */
	HW_EL_DOWN_HIGHER_EPOCH = 2, /* it saw a message with a higher epoch */
	HW_EL_DOWN_SWITCHOVER = 3,   /* it handed over and the target started the new epoch */
	HW_EL_DOWN_XFER_FAILED = 4,  /* it handed over and the target did not win in time */
	HW_EL_DOWN_STORAGE = 5,      /* its durable path failed (hw_el_on_storage_failed) */
};

/* Kind of election. */
enum hw_el_kind {
	HW_EL_NORMAL = 0,   /* after detection_ms of silence */
	HW_EL_TRANSFER = 1, /* after TIMEOUT_NOW from the primary: voters waive the lease */
	HW_EL_FORCED = 2,   /* operator accepted a listed loss: log checks skipped */
};

/* An inclusive LSN range; empty when from > to. */
struct hw_el_range {
	uint64_t from;
	uint64_t to;
};

/* What a node persists before acting on a vote: the epoch it is in, and for which epoch
 * it voted for whom (voted_for HW_EL_NONE: no vote). The witness also keeps its commit
 * knowledge here (a few bytes in its own LMDB), so a restart does not cost it: the epoch
 * of the last lease request it heard, the committed LSN that request reported, and the
 * candidate it voted for in every epoch since (HW_EL_NONE: none; HW_EL_ANY: several).
 * It persists them as they change, without waiting: one that crashed first restarts
 * with an older committed LSN, the same gap a renew interval leaves (see above). Other
 * nodes leave them as HW_EL_HARD_FRESH has them. */
struct hw_el_hard {
	uint64_t epoch;
	uint64_t voted_epoch;
	uint32_t voted_for;
	uint32_t w_vouch;
	uint64_t w_epoch;
	uint64_t w_committed;
	int64_t lease_ms; /* the longest lease a primary's word made it promise for, past its
			   * own (0: none): promised again at start, as it cannot know for
			   * whom it promised before it stopped */
};

/* The hard state of a node of a cluster that never had a primary (`hawser init`). */
#define HW_EL_HARD_FRESH ((struct hw_el_hard){0, 0, HW_EL_NONE, HW_EL_NONE, 0, 0, 0})

/* Seeded random source the driver hands in (never rand()): returns 64 uniform bits. */
typedef uint64_t (*hw_el_rand_cb)(void *arg);

struct hw_el_config {
	uint32_t voters;         /* V: 2..HW_EL_VOTERS_MAX */
	uint32_t self;           /* this node's id, < voters */
	uint32_t witness;        /* the witness's id, or HW_EL_NONE (no witness) */
	int64_t renew_ms;        /* lease renew interval (> 0) */
	int64_t lease_ms;        /* >= 2 renew_ms */
	int64_t drift_margin_ms; /* < lease_ms - renew_ms: covers clock rate differences */
	int64_t detection_ms;    /* >= lease_ms */
	int64_t election_ms;     /* a candidate waits this long for votes (> 0) */
	int64_t backoff_ms;      /* random extra wait 0..backoff_ms before each attempt (>= 1) */
	int64_t rpo_ms;          /* 0: no acknowledged record may be lost */
	int64_t xfer_timeout_ms; /* switchover: time to catch up, then time to win (> 0) */
	hw_el_rand_cb rand_cb;   /* required */
	void *rand_arg;
};

/* ---------------------------------------------------------------- messages */

struct hw_el_lease_req {
	uint64_t epoch;
	uint64_t round;                     /* 1, 2, ... within the epoch */
	uint64_t committed_lsn;             /* highest LSN acknowledged to clients */
	uint64_t durable[HW_EL_VOTERS_MAX]; /* each standby's durable LSN as acked to the
					     * primary (0 for the primary and the witness) */
	int64_t lease_ms;                   /* the primary's lease: a voter promises for
					     * at least that long (its own may be shorter
					     * while configs change); 0 from an older node */
	int64_t rpo_ms;                     /* the primary's rpo (its cfg.rpo_ms): the
					     * witness judges by the stricter of it and its
					     * own; HW_EL_RPO_NONE from an older primary */
};

struct hw_el_lease_ack {
	uint64_t epoch; /* the voter's epoch (higher than the request's when refused) */
	uint64_t round;
	bool granted;
};

struct hw_el_vote_req {
	uint64_t epoch;
	uint32_t candidate;
	uint8_t kind;        /* enum hw_el_kind */
	uint64_t last_epoch; /* epoch of the candidate's last log entry */
	uint64_t last_lsn;
	uint64_t last_hash; /* first 8 bytes of that entry's chain hash: for the driver's
			     * divergence report; the core compares (epoch, lsn) only, which
			     * name one entry since one primary writes each epoch */
	uint64_t durable_lsn;
	struct hw_el_range accepted; /* FORCED: the loss the operator accepted */
	bool pre;                    /* pre-vote: would you? (nothing changes on the voter) */
};

struct hw_el_vote {
	uint64_t epoch; /* the voter's epoch; a granted pre-vote: the epoch asked about */
	bool granted;
	bool pre;               /* answer to a pre-vote */
	uint8_t reason;         /* enum hw_el_reason */
	uint64_t committed_lsn; /* witness: committed LSN it knows (0 if none) */
	uint64_t required_lsn;  /* witness: the durable LSN a candidate needs */
};

/* ---------------------------------------------------------------- actions */

enum hw_el_act_type {
	HW_EL_SEND_LEASE_REQ,   /* send m.lease_req to peer */
	HW_EL_SEND_LEASE_ACK,   /* send m.lease_ack to peer */
	HW_EL_SEND_VOTE_REQ,    /* send m.vote_req to peer */
	HW_EL_SEND_VOTE,        /* send m.vote to peer */
	HW_EL_PERSIST,          /* make hard durable, then call hw_el_on_persisted(hard) */
	HW_EL_BECOME_PRIMARY,   /* primary of epoch; lsn = first LSN to give out */
	HW_EL_STEP_DOWN,        /* no longer primary; epoch = the epoch now known; code =
				 * enum hw_el_down. The driver fails waiting submits with
				 * HW_ENOT_PRIMARY and follows */
	HW_EL_PAUSE_SUBMITS,    /* switchover: stop taking submits (refuse new ones) */
	HW_EL_RESUME_SUBMITS,   /* switchover aborted before the hand-over: take them again */
	HW_EL_SEND_TIMEOUT_NOW, /* send TIMEOUT_NOW(epoch) to peer */
};

/* One action; fields its type does not name are zero. */
struct hw_el_act {
	enum hw_el_act_type type;
	uint32_t peer;          /* SEND_* */
	int code;               /* STEP_DOWN */
	uint64_t epoch;         /* BECOME_PRIMARY, STEP_DOWN, SEND_TIMEOUT_NOW */
	uint64_t lsn;           /* BECOME_PRIMARY */
	struct hw_el_hard hard; /* PERSIST */
	union {
		struct hw_el_lease_req lease_req;
		struct hw_el_lease_ack lease_ack;
		struct hw_el_vote_req vote_req;
		struct hw_el_vote vote;
	} m;
};

/* Actions appended at v[n]; the driver owns the array (cap >= HW_EL_ACTS_MIN). */
struct hw_el_acts {
	struct hw_el_act *v;
	size_t n;
	size_t cap;
};

/* The node's log and replication view, from the driver (hw_el_on_progress). */
struct hw_el_progress {
	uint64_t last_epoch;                     /* epoch of the last entry in the local log */
	uint64_t last_lsn;                       /* LSN of the last entry in the local log */
	uint64_t last_hash;                      /* first 8 bytes of its chain hash */
	uint64_t durable_lsn;                    /* last LSN durable locally (<= last_lsn) */
	uint64_t committed_lsn;                  /* primary: highest LSN acknowledged to clients */
	uint64_t peer_durable[HW_EL_VOTERS_MAX]; /* primary: each standby's durable LSN */
	bool stale; /* the node's state tables are not its log's (a rejoin of a pruned log
		     * set them aside to await a snapshot, or its apply is blocked at an entry
		     * its store refused): it votes as usual, but never stands (a candidacy
		     * under way ends at its deadline), ignores TIMEOUT_NOW, and a forced
		     * promotion returns HW_ESTALE, until a snapshot clears it */
};

/* ---------------------------------------------------------------- state */

struct hw_el_sample {
	int64_t at_ms;
	uint64_t committed;
};

struct hw_el {
	struct hw_el_config cfg;
	enum hw_el_role role;
	struct hw_el_hard hard;    /* wanted: in memory, maybe not yet durable */
	struct hw_el_hard durable; /* last reported durable */
	bool lost;                 /* started with no state (wiped): knows no commit info */
	uint32_t primary;          /* primary of hard.epoch as far as known, or HW_EL_NONE */
	int64_t last_heard_ms;     /* standby: primary (or a granted vote) last heard */
	int64_t jitter_ms;         /* random part of the current detection / retry wait */
	struct hw_el_progress prog;
	bool failed; /* storage failed: never leads, campaigns or votes */

	/* voter: the lease promise */
	uint32_t promise_to; /* HW_EL_NONE, a node id, or HW_EL_ANY after restart */
	int64_t promise_until_ms;
	bool vote_owed; /* a granted vote waits for its PERSIST */
	uint32_t vote_to;
	struct hw_el_vote vote_msg;

	/* candidate */
	uint8_t kind; /* enum hw_el_kind */
	bool pre;     /* in the pre-vote: hard.epoch is still the old one */
	struct hw_el_range accepted;
	bool asked;                     /* VOTE_REQs sent (own vote durable) */
	bool granted[HW_EL_VOTERS_MAX]; /* votes received this attempt */
	uint8_t why[HW_EL_VOTERS_MAX];  /* last refusal reason per voter (status, "why not") */
	uint64_t w_committed_seen;      /* committed LSN in the witness's last reply */
	int64_t deadline_ms;            /* retry at */

	/* primary */
	uint64_t round;
	int64_t round_sent_ms[HW_EL_ROUNDS];
	int64_t acked_sent_ms[HW_EL_VOTERS_MAX]; /* send time of newest round each acked */
	/* send time of the newest round each refused in this epoch: a voter refuses a
	 * current lease only when its storage failed (hw_el_on_lease_req) */
	int64_t refused_sent_ms[HW_EL_VOTERS_MAX];
	int64_t lease_until_ms;
	int64_t next_renew_ms;
	int64_t since_ms;      /* became primary at */
	uint64_t commit_floor; /* last LSN it was elected with: reported committed */
	uint32_t xfer_to;      /* switchover target, or HW_EL_NONE */
	bool xfer_sent;        /* TIMEOUT_NOW sent: lease given up */
	int64_t xfer_deadline_ms;

	/* witness: commit knowledge is in hard (w_epoch, w_committed, w_vouch) */
	bool w_info;       /* hard.w_* are known (false after a wiped restart) */
	int64_t w_last_ms; /* when the newest lease request arrived: the RPO window ends */
	bool w_in_sync[HW_EL_VOTERS_MAX];
	struct hw_el_sample w_samples[HW_EL_SAMPLES];
	uint32_t w_head; /* oldest */
	uint32_t w_count;
	struct hw_el_range w_forced; /* last loss range granted to a forced promotion */
	bool w_forced_set;
	int64_t w_rpo_primary; /* rpo_ms of the newest lease request (HW_EL_RPO_NONE: none) */
};

/* ---------------------------------------------------------------- API */

/* Set el up at now_ms: the witness if cfg->self == cfg->witness, else a standby (a node
 * never starts as primary: it wins an election first). hard is the persisted state, or
 * NULL when it was lost (wiped): then the node starts at epoch 0 and, if it is the
 * witness, knows no committed LSN in any epoch until a primary tells it. A fresh cluster
 * passes hard = &HW_EL_HARD_FRESH (from `hawser init`). Either way the node promises
 * nobody a vote for lease_ms (it may have promised one before it stopped). Asserts the
 * config bounds named in struct hw_el_config. */
void hw_el_init(struct hw_el *el, const struct hw_el_config *cfg, const struct hw_el_hard *hard,
		int64_t now_ms);

/* May the primary acknowledge (release) a submit at now_ms? True only for a primary
 * inside its lease that has not handed over. The driver checks it before every release:
 * this is the fence that keeps an old primary silent once a new one may exist. */
bool hw_el_may_ack(const struct hw_el *el, int64_t now_ms);

/* Majority of the configured voters: V/2 + 1. */
uint32_t hw_el_majority(const struct hw_el *el);

/* The least k (standbys a record is durable on before it is acknowledged) with which
 * every majority of `voters` (the data nodes and a witness, 3..HW_EL_VOTERS_MAX) that
 * can elect a new primary without the old one holds each acknowledged record:
 * standbys + 2 - majority, i.e. 1 for up to 4 voters, 2 for 5 or 6, 3 for 7 or 8, 4 for 9. */
uint32_t hw_el_k_min(uint32_t voters);
/* Why, in the words the config check and `hawser plan` refuse a smaller k with. */
#define HW_EL_K_MIN_WHY                                                                            \
	"with fewer, a majority of the voters could elect a standby that lacks an acknowledged "   \
	"record"

/* Time passed: a primary renews (a round every renew_ms), steps down at the end of its
 * lease, times out a switchover; a standby starts an election after detection; a
 * candidate retries after its deadline. */
void hw_el_on_tick(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out);

/* The driver's log and replication view changed (or periodically): a standby's last
 * entry and durable LSN go into its vote requests and comparisons; a primary's committed
 * and per-standby durable LSNs into its lease requests, and a switchover proceeds when
 * its target caught up. p is copied. On the primary the driver carries out the releases
 * the replication core made for the same ack before calling this. */
void hw_el_on_progress(struct hw_el *el, const struct hw_el_progress *p, int64_t now_ms,
		       struct hw_el_acts *out);

/* A message from the primary `from` in epoch arrived (replication traffic, heartbeat):
 * resets detection if epoch is ours, adopts a higher one. Lower epochs are ignored. */
void hw_el_on_primary_heard(struct hw_el *el, uint32_t from, uint64_t epoch, int64_t now_ms,
			    struct hw_el_acts *out);

/* Lease protocol: a request from the primary `from`, an ack from voter `from` (one that
 * refuses in the primary's own epoch is kept in refused_sent_ms: its storage failed). */
void hw_el_on_lease_req(struct hw_el *el, uint32_t from, const struct hw_el_lease_req *req,
			int64_t now_ms, struct hw_el_acts *out);
void hw_el_on_lease_ack(struct hw_el *el, uint32_t from, const struct hw_el_lease_ack *ack,
			int64_t now_ms, struct hw_el_acts *out);

/* Vote protocol: a request from candidate `from`, a reply from voter `from`. */
void hw_el_on_vote_req(struct hw_el *el, uint32_t from, const struct hw_el_vote_req *req,
		       int64_t now_ms, struct hw_el_acts *out);
void hw_el_on_vote(struct hw_el *el, uint32_t from, const struct hw_el_vote *vote, int64_t now_ms,
		   struct hw_el_acts *out);

/* The hard state *hard (one the core asked for in a PERSIST) is durable. Sends what
 * waited for it: a granted vote, a candidate's vote requests. */
void hw_el_on_persisted(struct hw_el *el, const struct hw_el_hard *hard, int64_t now_ms,
			struct hw_el_acts *out);

/* The node's durable path failed (a log flush or write, or the store): its log may not
 * hold what it acknowledged, so it must neither acknowledge, nor lead, nor vote. A
 * primary steps down at once (STEP_DOWN HW_EL_DOWN_STORAGE) and renews no more, so an
 * in-sync standby takes over after detection_ms; a candidate gives up. From now on the
 * node never campaigns, refuses every vote (HW_EL_R_STORAGE_FAILED) and lease request
 * (an ack not granted, in the request's epoch), ignores TIMEOUT_NOW, and a forced
 * promotion returns HW_ESTORE_FAILED, until it is restarted (hw_el_init). Idempotent;
 * no effect on the witness (witness.c stops on its own storage failure). */
void hw_el_on_storage_failed(struct hw_el *el, int64_t now_ms, struct hw_el_acts *out);

/* Operator: hand over to standby target. Returns 0 (PAUSE_SUBMITS emitted, and
 * TIMEOUT_NOW at once if the target is already caught up), HW_ENOT_PRIMARY if this node
 * is not a primary holding its lease, HW_EBUSY if a switchover is under way, HW_ECONFIG
 * if target is this node, the witness or out of range. */
int hw_el_on_switchover(struct hw_el *el, uint32_t target, int64_t now_ms, struct hw_el_acts *out);

/* TIMEOUT_NOW(epoch) from from: a standby in that epoch, following from, starts a
 * transfer election at once. Anything else is ignored. */
void hw_el_on_timeout_now(struct hw_el *el, uint32_t from, uint64_t epoch, int64_t now_ms,
			  struct hw_el_acts *out);

/* Operator: promote this standby accepting the loss *accepted (from hw_el_loss_range on
 * the witness). Returns 0 (an election starts, replacing one under way: the operator may
 * re-issue with a corrected range), HW_EBUSY if this node is not a standby or candidate
 * or still holds a lease promise to a live primary (use a switchover), HW_ERANGE if
 * accepted does not start at or before durable_lsn + 1, HW_ESTORE_FAILED after
 * hw_el_on_storage_failed. */
int hw_el_on_forced_promote(struct hw_el *el, const struct hw_el_range *accepted, int64_t now_ms,
			    struct hw_el_acts *out);

/* Witness: the LSNs candidate (holding durable_lsn) would lose if promoted now:
 * durable_lsn + 1 .. committed (empty, from > to, when it holds them all). When the
 * witness knows no committed LSN it can vouch for (restarted, or a primary it never
 * heard may have been elected since, which a candidate whose log holds an epoch newer
 * than the witness has heard of, last_epoch, proves) the range is durable_lsn + 1 ..
 * UINT64_MAX (everything after it may be lost) and the return is HW_ENOTFOUND; else 0.
 * HW_ECONFIG on a node that is not the witness. */
int hw_el_loss_range(const struct hw_el *w, uint32_t candidate, uint64_t durable_lsn,
		     uint64_t last_epoch, struct hw_el_range *r);

/* Witness: the committed LSN a candidate must hold now (RPO applied); 0 when unknown. */
uint64_t hw_el_required_lsn(const struct hw_el *w);

/* Witness: the rpo it judges candidates by: the stricter (smaller) of its own
 * (cfg.rpo_ms) and the one the newest lease request carried, its own when that sent
 * none (an older primary) or none came yet. A witness whose config was left at a looser
 * rpo than the nodes' would otherwise promote standbys further behind than the nodes
 * hold their standbys to; the driver logs a difference (engine/voters.c). */
int64_t hw_el_witness_rpo_ms(const struct hw_el *w);

/* Witness: was standby id in sync (durable >= required) at the last lease request? */
bool hw_el_in_sync(const struct hw_el *w, uint32_t id);

#endif
