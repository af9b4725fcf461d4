/* targets.h: the RTO/RPO planner (DESIGN.md "Targets, not knobs"): pure arithmetic that
 * turns the operator's two targets and the measured behaviour of this cluster into the
 * election timers, the replay budget and the commit rule, or refuses with a reason.
 *
 * Failover time = detection + election + replay + resume, and the plan keeps it <= rto:
 *   - election and resume are measured (passed in); replay of the standby's unapplied
 *     backlog is what the RTO leaves once detection is chosen: the replay budget, in
 *     records, is (rto - detection - election - resume) x replay rate. A primary with
 *     [failover] takes no new submit while the standby a failover would promote holds
 *     that many records received and not applied, and takes them again once it is
 *     1/8 below (engine/core/repl.h struct hw_replay). What it took before it stopped
 *     still reaches that standby, so the backlog may pass the budget by the submits in
 *     flight (at most waiters_max) and the entries in flight to it (window_records).
 *   - detection gets half of what remains after election, resume and the replay of the
 *     backlog already there, capped at HW_TG_DETECTION_MAX_MS (a longer wait rides out no
 *     more false alarms worth having: a stall that long is a failure to handle), and
 *     never below what the measured heartbeat jitter allows:
 *       renew_ms  >= max(HW_TG_JITTER_FACTOR x p99 one-way delay, HW_TG_RENEW_FLOOR_MS)
 *       lease_ms   = HW_TG_RENEWS_PER_LEASE x renew_ms or more (one lost renewal is not a
 *                    step-down; Patroni's loop_wait + 2 x retry_timeout <= ttl)
 *       drift_margin_ms >= lease_ms x 2 x drift_ppm / 1e6 + 1 (two clocks, each off by up
 *                    to drift_ppm; 1 ms for timer rounding)
 *       detection_ms = lease_ms + drift_margin_ms (a standby must not win while the old
 *                    lease may be valid)
 *     When even the minimum does not fit, the plan is refused with a reason in words.
 *   - commit rule: RPO 0 waits for `durable` on k standbys. RPO t lets commits run ahead
 *     of the standbys by at most max_ahead_ms = t - ahead_margin_ms: a submit (of any
 *     mode) is acknowledged only while the oldest acknowledged record that is not
 *     durable on k standbys was acknowledged at most max_ahead_ms ago; past it
 *     acknowledgements are held until the standbys catch up (engine/core/repl.h struct
 *     hw_ahead; what a new primary was elected with counts as past it until they hold
 *     it), and with [failover] rpo_action = fail new records are refused meanwhile (a
 *     resend of a stored one is still answered as its duplicate). k is at least
 *     hw_el_k_min(voters) there (hw_tg_ahead_k below), as at RPO 0. The RPO bounds the
 *     loss of mode local's records only: a submit in mode received, durable or applied
 *     still waits for its mode on at least hw_el_k_min(voters) standbys, as at RPO 0
 *     (engine/config.h hw_config_k_min), so a failover loses none of those.
 *     The margin: the witness promotes a standby automatically only if it holds the
 *     committed LSN the primary reported t before its newest lease request, each request
 *     stamped with the witness's own arrival time (engine/core/election.h). A request
 *     that took longer to arrive than the one it is compared with, and clocks that drift
 *     apart over t, shift that judgement younger, so
 *       ahead_margin_ms = renew_min_ms + 2 x drift_ppm x t / 1e6 (rounded up),
 *     renew_min_ms being HW_TG_JITTER_FACTOR p99 one-way delays (at least
 *     HW_TG_RENEW_FLOOR_MS): ample for the difference of two delays. Not a renew
 *     interval: the witness hears the primary once per renew interval, but with a coarse
 *     history it compares against an older sample (a smaller LSN: looser), never a
 *     newer one; and the renew interval may exceed t (rto 30 s makes it 2.5 s). A t at
 *     or below the margin is refused: choose rpo 0.
 *
 * False failovers. A standby fails over falsely when the primary is alive but no
 * heartbeat arrives within detection_ms. Model (an assumption, stated so it can be
 * checked against drills): one-way heartbeat delays are independent, and beyond their
 * p99 their tail is exponential, P(delay > x) = 0.01 exp(-(x - p99) / b), with the scale
 * b taken from the measured spread (p99 - p50) as b = spread / ln 50 (what an exponential
 * distribution would give); below the p99 the same formula is used, capped at 1. After
 * a heartbeat arrives, the heartbeats sent i renew intervals later (i = 1 .. m, i x renew
 * < detection) must all be later than detection - i x renew for the standby to give up,
 * and there is one such chance per renew interval:
 *     false failovers per year = (year / renew) x prod_i P(delay > detection - i renew).
 * It ignores correlated stalls (a paused process, a saturated link, a lost connection):
 * it is a floor on false failovers, not a promise, and it falls as detection grows.
 *
 * No state, no I/O, no libm (the core links nothing): callable from any thread. */
#ifndef HW_CORE_TARGETS_H
#define HW_CORE_TARGETS_H

#include <stdbool.h>
#include <stdint.h>

/* A renew interval is at least this many p99 one-way delays: a renewal late by p99 then
 * costs a tenth of an interval. */
#define HW_TG_JITTER_FACTOR 10

/* Nor shorter than this: a node's loop wakes about this often, and lease traffic stays
 * far below replication traffic. */
#define HW_TG_RENEW_FLOOR_MS 5

/* Renewals per lease: three may be lost before the primary steps down. */
#define HW_TG_RENEWS_PER_LEASE 4

/* Longest detection the planner picks by itself (Oracle FSFO's threshold defaults to 30 s,
 * Patroni's ttl to 30 s; hawser is tighter on purpose). */
#define HW_TG_DETECTION_MAX_MS 10000

/* Clock rate bound when none is measured: CLOCK_BOOTTIME is slewed by NTP at up to 500
 * ppm. */
#define HW_TG_DRIFT_PPM_DEFAULT 500

/* Room for the reason string, NUL included. */
#define HW_TG_WHY_BYTES 256

/* What the planner assumes before anything is measured: the one set of defaults every
 * node plans its timers with (engine/voters.c), `hawser plan` starts from without
 * --measure and `hawser status` predicts with. A LAN's p99 one-way delay between busy
 * hosts under load and its spread (p99 - p50); an election of a pre-vote and a vote
 * round, their flushes and the random back-off; clients that notice, reconnect and see
 * their first submit return; a standby that applies 20,000 records/s (well under what
 * the store ingests in batches, docs/benchmarks.md, so the replay budget errs short);
 * one local commit, an fsync on a datacenter SSD (a commit durable on a standby costs
 * one more fsync there and a round trip on top). Resume is what clients take once the
 * new primary is up and they look for it: reconnect and see their first submit return.
 * Noticing that the old primary is gone is not in it: a killed one's clients learn at
 * once (its kernel resets the connection), a hung one's only from its silence, which
 * runs alongside detection and election (client_silence_ms below). */
#define HW_TG_DEFAULT_JITTER_P99_US    2000
#define HW_TG_DEFAULT_JITTER_SPREAD_US 1000
#define HW_TG_DEFAULT_ELECTION_MS      200
#define HW_TG_DEFAULT_RESUME_MS        300
#define HW_TG_DEFAULT_REPLAY_RATE      20000.0
#define HW_TG_DEFAULT_COMMIT_LOCAL_US  500.0

/* A client (engine/client.c) takes a primary that went silent (its process stopped or its
 * loop stuck while its kernel keeps the connection open) for gone once it has heard
 * nothing for HW_TG_CLIENT_SILENT_BEATS of the heartbeats the node's Hello promised
 * ([limits] heartbeat_ms), and for at least HW_TG_CLIENT_SILENCE_MIN_MS: fewer would
 * take a busy node for a dead one. Only then does it look for the new primary, so a
 * failover of a hung primary takes at least that long plus resume. */
#define HW_TG_CLIENT_SILENT_BEATS   4
#define HW_TG_CLIENT_SILENCE_MIN_MS 1000
/* [limits] heartbeat_ms when a config leaves it out (engine/config.c). */
#define HW_TG_DEFAULT_HEARTBEAT_MS 100

/* How long a client takes to notice a silent node that promised a heartbeat every
 * heartbeat_ms (> 0): max(HW_TG_CLIENT_SILENT_BEATS x heartbeat_ms,
 * HW_TG_CLIENT_SILENCE_MIN_MS). 0 for 0 (a node that promises none). */
int64_t hw_tg_client_silence_ms(int64_t heartbeat_ms);

/* A voter another one can reach for an election. Between elections nothing flows on the
 * links a standby's fellow voters dialed to it, and a voter whose process stopped (or
 * whose loop is stuck) keeps its link up while its kernel answers TCP: so every voter
 * sends a HEARTBEAT on each link it dialed when it has sent nothing else there for one
 * beat, its beat being its renew interval (the lease's own rhythm, so a primary's lease
 * requests are its beats; promised in its Hello, engine/voters.h). A voter not heard for
 * HW_TG_VOTER_SILENT_BEATS of its beats counts as unreached: one beat lost or late is
 * not an outage, and fewer than HW_TG_RENEWS_PER_LEASE, so a standby says so before a
 * failover (detection) would need that voter's vote. */
#define HW_TG_VOTER_SILENT_BEATS 3
_Static_assert(HW_TG_VOTER_SILENT_BEATS < HW_TG_RENEWS_PER_LEASE,
	       "a silent voter is seen before detection");

/* Is a voter that promised a heartbeat every beat_ms, last heard at heard_ms, heard
 * recently enough at now_ms (the caller's clock, the same for both) to count as reached:
 * now_ms - heard_ms <= HW_TG_VOTER_SILENT_BEATS x beat_ms? beat_ms <= 0 (an older voter,
 * which promised none): true, its link being all there is to judge it by; a beat_ms
 * above HW_TG_DETECTION_MAX_MS (no plan makes one) counts as that. Pure. */
bool hw_tg_voter_heard(int64_t heard_ms, int64_t now_ms, int64_t beat_ms);

struct hw_tg_input {
	int64_t rto_ms;           /* > 0 */
	int64_t rpo_ms;           /* 0 (no acknowledged loss) or the loss window, > 0 */
	int64_t jitter_p99_us;    /* measured p99 one-way heartbeat delay (>= 0) */
	int64_t jitter_spread_us; /* measured p99 - p50 of it (>= 1) */
	double replay_rate;       /* records/s a standby applies (> 0) */
	int64_t election_ms;      /* measured or estimated election length, ms (>= 0) */
	int64_t resume_ms;        /* clients re-routed, first submit returns (>= 0) */
	uint64_t backlog_records; /* a standby's unapplied backlog now */
	uint32_t k;               /* standbys an RPO 0 commit waits for (>= 1) */
	int64_t drift_ppm;        /* clock rate bound; 0: HW_TG_DRIFT_PPM_DEFAULT */
	double commit_local_us;   /* measured commit latency, local durability */
	double commit_durable_us; /* measured commit latency, durable on k standbys */
	bool jitter_measured;     /* jitter_* were measured (or configured from a measure),
				   * not assumed: the reasons say which */
	int64_t client_silence_ms; /* a hung primary's clients notice after this long
				    * (hw_tg_client_silence_ms); 0: not judged. It runs alongside
				    * detection + election + replay, so client_silence_ms +
				    * resume_ms must fit in rto too */
};

enum hw_tg_rule {
	HW_TG_RULE_DURABLE = 0, /* RPO 0: a commit returns when durable on k standbys */
	HW_TG_RULE_AHEAD = 1,   /* RPO t: local commits, held at max_ahead_ms ahead */
};

struct hw_tg_plan {
	/* election timers (struct hw_el_config's fields of the same names) */
	int64_t renew_ms;
	int64_t lease_ms;
	int64_t drift_margin_ms;
	int64_t detection_ms;
	/* the floors jitter and drift impose */
	int64_t renew_min_ms;
	int64_t detection_min_ms;
	/* failover, term by term; failover_ms = their sum <= rto */
	int64_t election_ms;
	int64_t replay_ms; /* the replay budget in time */
	int64_t resume_ms;
	int64_t failover_ms;
	uint64_t replay_budget_records; /* new submits wait while a backlog is this long */
	int64_t replay_now_ms;          /* replaying the current backlog */
	bool backlog_over_budget;       /* the current backlog is already past the budget */
	/* commit rule */
	enum hw_tg_rule rule;
	uint32_t k;           /* DURABLE */
	int64_t max_ahead_ms; /* AHEAD: rpo - ahead_margin_ms */
	int64_t ahead_margin_ms; /* AHEAD: see "commit rule" above */
	double commit_latency_us;
	double throughput_cost; /* 0..1: throughput lost to the rule per closed-loop client,
				 * 1 - local / durable latency under DURABLE, 0 under AHEAD */
	double false_failovers_per_year; /* at detection_ms, by the model above */
	char why[HW_TG_WHY_BYTES];       /* reason when refused; "" when planned */
	bool rpo_refused;                /* refused for the rpo (too close to the margin), not
					  * the rto */
};

/* Fill *in with the targets, k and the defaults above for everything else: no backlog,
 * drift HW_TG_DRIFT_PPM_DEFAULT, a durable commit costing one more local commit plus a
 * round trip at the p50 delay (p99 - spread, twice), clients of a node with the default
 * heartbeat (HW_TG_DEFAULT_HEARTBEAT_MS), jitter not measured. */
void hw_tg_input_defaults(struct hw_tg_input *in, int64_t rto_ms, int64_t rpo_ms, uint32_t k);

/* Plan for in. Returns 0 with *plan filled; HW_ECONFIG when an input is out of its range
 * (why names it); HW_ERANGE when the targets cannot be met safely (why says by how much,
 * e.g. "rto 200 ms leaves 40 ms for detection ... but the measured heartbeat jitter
 * (p99 15000 us) needs at least 150 ms", or "the assumed heartbeat jitter (p99 2000 us,
 * a LAN's: nothing measured) ..." when jitter_measured is false; or "rto 800 ms is
 * shorter than a hung primary's clients take: they notice after 1000 ms ..."; or an rpo
 * t within the margin: "rpo 20 ms is not above the 21 ms ..."). On error the floors
 * (renew_min_ms, detection_min_ms) are filled when they could be computed. */
int hw_tg_plan(const struct hw_tg_input *in, struct hw_tg_plan *plan);

/* The standbys the RPO t rule counts a record safe on (engine/core/repl.h
 * hw_repl_config.ahead_k): k (durability.k; 0, mode local, counts as 1), at least
 * hw_el_k_min(voters) (voters 0: not known, not applied), at most standbys. With
 * k_min of them, every majority that can elect a new primary without the old one holds
 * one, which votes against a candidate with less (election.h, BEHIND): whichever
 * majority elects, the new primary holds every record acknowledged more than
 * max_ahead_ms before the old primary's last acknowledgement, so a failover loses at
 * most the last t. With fewer (k 1 of 5 voters), the other standbys and the witness
 * could elect one lacking records acknowledged long before, and only the witness's
 * knowledge of the commit frontier would stand in the way: it ends at the last lease
 * request the witness heard, and a primary whose lease the standbys renew may go on
 * long after (the simulator's P-RPO found both). Pure. */
uint32_t hw_tg_ahead_k(uint32_t k, uint32_t voters, uint32_t standbys);

/* The smallest RTO in allows, plan being hw_tg_plan's answer for it (its floors, filled
 * on HW_ERANGE too): every term at its floor (election + resume + replay of the backlog
 * now + the detection floor), and no less than a hung primary's clients take to notice
 * and resume (client_silence_ms + resume_ms). */
int64_t hw_tg_rto_min_ms(const struct hw_tg_input *in, const struct hw_tg_plan *plan);

/* Expected false failovers per year for a detection time and renew interval under the
 * model above (renew_ms > 0; p99_us < 0 counts as 0, spread_us < 1 as 1). When no
 * heartbeat is sent inside the window (detection_ms <= renew_ms) every renew interval is
 * one: year / renew. */
double hw_tg_false_failovers_per_year(int64_t detection_ms, int64_t renew_ms, int64_t p99_us,
				      int64_t spread_us);

/* ---- now: the targets against a node's live state (`hawser status`) ---------------- */

#define HW_TG_STANDBYS_MAX 8
#define HW_TG_VOTERS_MAX   9 /* HW_EL_VOTERS_MAX */

/* silent_ms of a node not heard since this one started: not a time. */
#define HW_TG_NEVER (-1)

struct hw_tg_standby {
	const char *id; /* node id, for the reasons */
	bool connected;
	uint64_t received, durable, applied;
	int64_t silent_ms; /* since it was last heard (>= 0); HW_TG_NEVER: never heard */
	int64_t lacks_ms;  /* how long ago the oldest acknowledged record it lacks was
			    * acknowledged (0: it lacks none; hw_primary_acked_age_ms); < 0:
			    * not known (a standby judging itself knows no ack times) */
};

/* A voter an election without the primary would ask, as this node sees it now. */
struct hw_tg_voter {
	const char *id;
	bool reached;        /* a primary: it answered one of the last two lease rounds; a
			      * standby: its link to it is up and it was heard lately
			      * (hw_tg_voter_heard; itself: true) */
	const char *refused; /* a standby: its refusal in this node's current election
			      * ("lease", "not_in_sync" ...) of a voter reached; a primary:
			      * "storage_failed" for a voter that refused its last lease rounds
			      * (not reached); NULL or "": none */
};

/* A primary describes itself and its standbys; a standby describes itself as the one
 * standby (n_standbys 1) against what it last heard from its primary. */
struct hw_tg_live {
	bool failover;          /* [failover] configured: promotion is automatic when safe */
	bool primary;           /* this node is the primary */
	const char *self;       /* this node's id */
	const char *primary_id; /* a standby's primary; "" when none is known */
	int64_t rto_ms, rpo_ms; /* the targets (0, 0 without failover) */
	uint32_t k;             /* standbys a record must be durable on (>= 1) */
	double replay_rate;     /* records/s (> 0) */
	uint64_t durable_lsn;   /* primary: durable locally; standby: the primary's, as heard */
	uint64_t committed_lsn; /* primary: highest acknowledged; standby: as durable_lsn */
	int64_t lease_left_ms;  /* primary: what is left of its lease (< 0: none held) */
	uint32_t n_standbys;    /* <= HW_TG_STANDBYS_MAX */
	struct hw_tg_standby sb[HW_TG_STANDBYS_MAX];
	/* What a failover needs besides an in-sync standby (the RTO verdict). Left zero,
	 * nothing of it is judged. */
	uint32_t ack_standbys;   /* standbys a submit of the node's durability waits for, its
				  * k_min applied (0: none, mode local at rpo 0); at rpo t at
				  * least 1, the RPO t rule's: a new primary with fewer holds
				  * every acknowledgement (at rpo t from the start: what it was
				  * elected with counts as past the limit until they hold it) */
	uint32_t standbys_after; /* a standby: the other standbys it reaches (its primary
				  * excepted), which would follow it once it is promoted; a
				  * primary's are its connected sb[] but the one promoted */
	uint32_t voters;         /* V, the witness included; 0: elections not judged */
	uint32_t n_electors;     /* <= HW_TG_VOTERS_MAX */
	struct hw_tg_voter electors[HW_TG_VOTERS_MAX]; /* every voter but the primary (on
							* a standby, itself first) */
	int64_t primary_silent_ms; /* a standby: since its election core last heard its
				    * primary (or granted a vote); < 0 on a primary */
};

struct hw_tg_now {
	/* a failover now, term by term: detection, election and resume as planned (the
	 * node's timers), replay of the promoted standby's backlog; failover_ms = the sum */
	int64_t detection_ms, election_ms, replay_ms, resume_ms, failover_ms;
	/* durable locally, not yet durable on k standbys: how many, and how long since the
	 * standby that would close the gap was last heard (0 when none; HW_TG_NEVER when
	 * it was never heard) */
	uint64_t at_risk_records;
	int64_t at_risk_ms;
	/* received but not applied on the standby a failover would promote, and its replay */
	uint64_t backlog_records;
	int64_t backlog_ms;
	/* acknowledged records that standby lacks: a failover now loses them; how long ago
	 * the oldest of them was acknowledged (its lacks_ms; < 0: not known) */
	uint64_t loss_records;
	int64_t loss_age_ms;
	int best;       /* index in sb of the standby a failover promotes; -1: none connected */
	bool automatic; /* a failover now would promote best without an operator */
	/* the electors reached make no majority of the voters: no failover can happen, so
	 * the terms predict none and rpo_why promises nothing of now */
	bool no_failover;
	bool rto_holds; /* automatic, and failover_ms <= rto */
	bool rpo_holds; /* a failover now stays within the rpo */
	char rto_why[HW_TG_WHY_BYTES];
	char rpo_why[HW_TG_WHY_BYTES];
	char failover_why[HW_TG_WHY_BYTES]; /* why a failover would or would not happen now */
};

/* Judge l against plan (the timers the node runs; NULL without failover) into *out: the
 * terms, data at risk, the standby promoted, whether each target holds and why, in
 * words. A standby is in sync when it holds every acknowledged record durable; at RPO 0
 * only an in-sync one is promoted automatically, at RPO t also one that lacks only
 * records acknowledged within t (its lacks_ms <= t: the data, as the witness judges it,
 * engine/core/election.h), or, when lacks_ms is not known (a standby judging itself),
 * one that heard its primary within t. With no standby connected the loss counts from
 * the highest durable LSN known of any (as last heard). The RTO holds only if, besides
 * that and failover_ms <= rto:
 *   - the voters an election without the primary asks that are reached (electors) make
 *     a majority of l->voters: else no standby can be elected at all;
 *   - a standby's primary has not been silent longer than detection + election: else a
 *     failover was due and has not happened (the reason names the voters unreached or
 *     refusing);
 *   - the standbys left to the new primary (standbys_after) are at least ack_standbys:
 *     else it holds every acknowledgement until the lost node or another standby
 *     returns, and service does not resume.
 * Never fails. */
void hw_tg_now(const struct hw_tg_live *l, const struct hw_tg_plan *plan, struct hw_tg_now *out);

#endif
