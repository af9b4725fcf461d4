/* voters.h: one voter's side of the election (engine/core/election.h) in a real process:
 * the struct hw_el, a link to every other voter, the election messages on the wire
 * (proto/wire.proto LeaseRequest ... TimeoutNow) and the order the core's actions are
 * carried out in. A node (engine/node_election.c) and the witness (engine/witness.c)
 * both use it; they hand in persistence and what to do when the role changes.
 *
 * Links. This voter dials every other voter's address ([failover] voters and witness,
 * engine/config.h) and opens the link with a Hello (role VOTER, or WITNESS from the
 * witness); it sends its own requests and its answers there and reads nothing back but a
 * Hello or an Error. What the other voters send arrives on the connections they dialed:
 * the owner accepts those on its listener, learns the sender from their Hello
 * (hw_voters_id) and hands each election frame over (hw_voters_on_frame). A link that
 * closes is dialed again after HW_VOTERS_RETRY_MIN_MS, doubling to
 * HW_VOTERS_RETRY_MAX_MS; one whose sent bytes stay unacknowledged for the failure
 * detection time closes (its peer's host is gone without a word: TCP_USER_TIMEOUT). A message for a
 * voter whose link is down or full is dropped: the core repeats what matters on its timers (lease
 * rounds, election retries).
 *
 * Liveness. A voter whose process stopped, or whose loop is stuck, keeps its links up while
 * its kernel answers TCP, and between elections nothing else flows on most of them (a
 * standby's and the witness's to the other standbys and to each other). So every Hello of
 * a voter promises a beat (Hello.heartbeat_ms: its renew interval, hw_voters_plan), and a
 * voter sends a HEARTBEAT (header only, 12 bytes, plus the channel's 29) on each link it
 * dialed whose Hello answer promised one too, whenever it has sent nothing else there for
 * a beat: what the core sends counts, so a primary's lease requests and the lease acks to
 * it are the beats of those links, and only the quiet ones carry HEARTBEATs, one per beat
 * each way (at rto 30 s a beat is 2.5 s; at rto 2 s, 187 ms). Every frame from a voter, on
 * either connection, stamps when it was last heard; hw_voters_reached counts it only while
 * that is within HW_TG_VOTER_SILENT_BEATS of its beats (engine/core/targets.h). A voter
 * whose persist failed sends no more beats: it cannot vote either.
 * Mixed versions: a voter older than this takes a HEARTBEAT on a voter link for a protocol
 * error and closes the link, so none is sent to one whose Hello promised no beat (its
 * heartbeat_ms, a field it knows, is 0 there); it sends none either, so its silence says
 * nothing and it counts as reached while its link is up, as before.
 *
 * Persistence. On HW_EL_PERSIST the owner's persist_cb makes the whole hard state durable
 * before the core hears of it (hw_el_on_persisted) and before any later action runs: it
 * blocks the loop for one flush, which only elections and lease changes of the witness
 * cost. On a data node the hard state is a row of the store's meta table, so the flush
 * also waits for LMDB's write lock: up to HW_WRITER_COMMIT_MS (200 ms; on a standby
 * HW_WRITER_APPLY_COMMIT_MS, 50 ms) when the store writer holds a transaction, which it
 * does only while entries arrive (a vote after the primary went silent finds it
 * committed after HW_WRITER_IDLE_US), and on a standby longer when other work crowds
 * its CPU, since its writer runs below the loop's priority (HW_WRITER_APPLY_NICE). A failed persist
 * is a storage failure: from then on this voter sends nothing and takes no event (it can no longer
 * keep a promise).
 *
 * Logs: election_started (a pre-vote or a vote round begins), vote_granted / vote_denied
 * (this voter's answers to real and pre-votes, with the reason and, on the witness, the
 * committed and required LSNs), vote_refused (a refusal this candidate received),
 * voter_link_up / voter_link_down, isolated / isolation_ended (a drill's partition).
 *
 * Loop thread only; nothing here blocks except persist_cb. */
#ifndef HW_ENGINE_VOTERS_H
#define HW_ENGINE_VOTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/config.h"
#include "engine/core/election.h"
#include "engine/core/targets.h"
#include "engine/io/frame.h"

struct hw_conn;
struct hw_loop;
struct hw_ring;
struct hw_voters;

#define HW_VOTERS_RETRY_MIN_MS 50
#define HW_VOTERS_RETRY_MAX_MS 500
/* A link whose sent bytes stay unacknowledged for the failure detection time (at least
 * this) is closed and dialed again (hw_conn_set_send_timeout). */
#define HW_VOTERS_SEND_TIMEOUT_MIN_MS 1000

/* The core's own election timers: a candidate waits this long for votes, plus a random
 * 0..BACKOFF before each attempt (what keeps two candidates from splitting every vote). */
#define HW_VOTERS_VOTE_WAIT_MS 100
#define HW_VOTERS_BACKOFF_MS   100

/* The planner's inputs for c's [failover]: hw_tg_input_defaults, with the heartbeat
 * delay of heartbeat_p99 and heartbeat_spread when they are set (hawser plan --measure
 * prints them for a cluster; then jitter_measured), and the client silence of its
 * [limits] heartbeat_ms. */
void hw_voters_input(const struct hw_config *c, struct hw_tg_input *in);

/* Plan the election timers of c's [failover] (hw_tg_plan on hw_voters_input): fills *el
 * (rand_cb excepted) and *plan. HW_ECONFIG or HW_ERANGE with the planner's reason in
 * plan->why when the RTO cannot be met (an infeasible target is refused at start, never
 * silently stretched). */
int hw_voters_plan(const struct hw_config *c, struct hw_el_config *el, struct hw_tg_plan *plan);

/* hw_voters_plan for the config at path, refused in words an operator can act on: on
 * HW_ECONFIG or HW_ERANGE err gets "<path>: 'failover.rto' = R ms cannot be met: <the
 * planner's reason>; the least these inputs allow is M ms: raise 'failover.rto'", plus,
 * when the heartbeat jitter was assumed rather than configured, that hawser plan
 * --measure and 'failover.heartbeat_p99' give this cluster's. Nodes and the witness
 * check this at open, before anything is written. */
int hw_voters_plan_check(const struct hw_config *c, const char *path, char *err, size_t cap);

struct hw_voters_config {
	const struct hw_config *cfg;   /* cluster and node id, [failover]; copied */
	struct hw_el_config el;        /* from hw_voters_plan; rand_cb and rand_arg are set here */
	const struct hw_el_hard *hard; /* persisted hard state; NULL: it was lost (wiped) */
	uint64_t seed;                 /* the core's random source (logged at start) */
	/* Make *hard durable (the owner's store); 0 or a storage error. */
	int (*persist_cb)(void *arg, const struct hw_el_hard *hard);
	/* BECOME_PRIMARY, STEP_DOWN, PAUSE_SUBMITS, RESUME_SUBMITS, in the core's order. */
	void (*act_cb)(void *arg, const struct hw_el_act *a);
	void *arg;
};

/* Set the voter up (hw_el_init at the loop's now) and start dialing the others. HW_ENOMEM.
 * v must outlive ring: hw_ring_free() calls the links' close callbacks. */
int hw_voters_new(struct hw_loop *loop, struct hw_ring *ring, const struct hw_voters_config *c,
		  struct hw_voters **out);

/* Free, after hw_ring_free() closed the links. NULL is a no-op. */
void hw_voters_free(struct hw_voters *v);

/* The core, to read (role, epoch, primary, may_ack). */
const struct hw_el *hw_voters_el(const struct hw_voters *v);

/* Voter id of node_id (a node or the witness), or -1 when it is not a voter. */
int hw_voters_id(const struct hw_voters *v, const char *node_id);

/* Can this voter reach voter id for an election now: the link it dialed is up (its Hello
 * came back) and voter id was heard lately (hw_tg_voter_heard on the beat its Hello
 * promised, at loop time now; its link alone for an older voter, which promised none)?
 * False for itself, and while a drill isolates it. What a standby's status counts as
 * reached. */
bool hw_voters_reached(const struct hw_voters *v, uint32_t id);

/* Queue this voter's Hello on c: the one it opens its links with, and the answer on a link
 * another voter dialed (role VOTER, or WITNESS from the witness; its epoch; its beat).
 * hw_conn_send's code. */
int hw_voters_send_hello(struct hw_voters *v, struct hw_conn *c);

/* Address of voter id (as this voter's config names it). */
const char *hw_voters_addr(const struct hw_voters *v, uint32_t id);

/* True for the frame types a voter takes on a link dialed to it: election messages and
 * the HEARTBEAT. */
bool hw_voters_frame(enum hw_frame_type t);

/* An election frame or a HEARTBEAT from voter from (its link's Hello named it): voter from
 * was heard now. 0, or HW_EFRAME when the body does not decode (the caller closes that
 * connection). */
int hw_voters_on_frame(struct hw_voters *v, uint32_t from, const struct hw_frame *f);

/* Time passed (every loop tick): redial links, the core's timers unless timers is false (a
 * node's start-up grace: a standby does not campaign before the primary it prefers had
 * its chance), then a HEARTBEAT on each quiet link (Liveness, above). */
void hw_voters_tick(struct hw_voters *v, bool timers);

/* The owner's log and replication view changed (hw_el_on_progress). */
void hw_voters_progress(struct hw_voters *v, const struct hw_el_progress *p);

/* Replication traffic from primary from in epoch (hw_el_on_primary_heard). */
void hw_voters_primary_heard(struct hw_voters *v, uint32_t from, uint64_t epoch);

/* The owner's storage failed (hw_el_on_storage_failed): a primary steps down (its
 * STEP_DOWN goes to act_cb), and the voter neither leads nor votes until restarted. Also
 * on a voter silenced by a failed persist, so that a primary still steps down. */
void hw_voters_storage_failed(struct hw_voters *v);

/* Operator: hand over to voter target (hw_el_on_switchover; its actions are carried
 * out: PAUSE_SUBMITS through act_cb, TIMEOUT_NOW over the link). Its return, or the
 * storage error that silenced this voter. */
int hw_voters_switchover(struct hw_voters *v, uint32_t target);

/* promote --accept-loss. loss_poll: 0 with the witness's answer (*r, and *code: 0 or
 * HW_ENOTFOUND, as hw_el_loss_range for this voter holding durable_lsn), used up so the
 * next listing asks again; else HW_EBUSY after sending it a LossQuery (or while one sent
 * less than HW_VOTERS_RETRY_MAX_MS ago is unanswered: call again), HW_ECONFIG without a
 * witness, HW_ECLOSED when its link is down. The witness answers on its own link.
 * forced_promote: hw_el_on_forced_promote with its actions carried out; its return. */
int hw_voters_loss_poll(struct hw_voters *v, uint64_t durable_lsn, struct hw_el_range *r,
			int *code);
int hw_voters_forced_promote(struct hw_voters *v, const struct hw_el_range *accepted);

/* Drill (engine/node_drill.c, wire.proto DrillFault ISOLATE): cut this voter off until
 * loop time until_ms, as a partition would. Every link it dialed is closed and none is
 * dialed until then; what the core sends meanwhile is dropped and frames from the others
 * are ignored; the owner refuses the links the others dial (hw_voters_isolated). The
 * core's timers run on, so a primary's lease runs out and it steps down by itself. On the
 * first tick at or past until_ms the links are dialed again. Logs isolated (until_ms),
 * then isolation_ended. */
void hw_voters_isolate(struct hw_voters *v, int64_t until_ms);

/* True while an isolation (hw_voters_isolate) lasts. */
bool hw_voters_isolated(const struct hw_voters *v);

/* The fence (hw_el_may_ack) at this instant: the monotonic clock is read now, not the
 * loop's cached time, so a lease never looks longer than it is. */
bool hw_voters_may_ack(const struct hw_voters *v);

struct hw_store;

/* The hard state in store s's meta ("node.election", 41 bytes, docs/formats.md): save
 * makes it durable (hw_store_meta_put); load returns 0, HW_ENOTFOUND when none was ever
 * saved, HW_EFORMAT for a value of another layout, or the store's error. */
int hw_voters_save_hard(struct hw_store *s, const struct hw_el_hard *h);
int hw_voters_load_hard(struct hw_store *s, struct hw_el_hard *h);


#endif
