/* node_int.h: a node's insides, shared by node.c (set-up, client port), node_status.c
 * (its status), node_primary.c (taking submits, streaming to standbys), node_standby.c
 * (following a primary) and node_snapshot.c (a snapshot for a standby the log cannot
 * catch up). Everything here runs on the node's loop thread unless it says otherwise. */
#ifndef HW_ENGINE_NODE_INT_H
#define HW_ENGINE_NODE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/log.h"
#include "engine/config.h"
#include "engine/fds.h"
#include "engine/core/repl.h"
#include "engine/io/frame.h"
#include "engine/io/loop.h"
#include "engine/io/ring.h"
#include "engine/io/wal.h"
#include "engine/io/writer.h"
#include "engine/port.h"
#include "hawser.h"
#include "replica/checkpoint.h"
#include "replica/store.h"

/* Connections a node serves at once: each costs a receive and a send buffer. The
 * replication port (standbys, vaults, voters, the witness, and whoever dials it before
 * its handshake ends) has HW_REPL_SESSIONS_MAX of them and the client port the rest, so
 * neither port's connections, authenticated or not, can take the other's. A port's
 * sessions all taken, a new one displaces the oldest that has not said its Hello and
 * takes its slot (node.c evict_unsaid), so that those cannot keep a standby or a client
 * out, however full the other port is. */
#define HW_CLIENTS_MAX       1024u
#define HW_REPL_SESSIONS_MAX 64u
/* Connections a port holds past its sessions while they are refused (HW_EBUSY, sent once
 * their channel is open, which is given 1 s: engine/io/ring.h): past those the port
 * accepts nothing until one closes, so its connections, and descriptors, stay bounded
 * however fast they come. */
#define HW_REFUSING_MAX 64u
/* Room a client session's send buffer must have before the node takes its next request:
 * the largest reply a request gets at once (a Status, a few KiB: node_status.c ties it),
 * over a SUBMIT_REPLY's for each submit taken and not answered yet (replies_owed). A
 * client that leaves more than the rest of HW_CONN_SEND_MAX unread is not read from until
 * a send leaves that buffer below half, so a request is only taken when its reply, and
 * those of the submits before it, can be queued, and a client that pipelines without
 * reading is held back through TCP, never dropped. */
#define HW_SESSION_REPLY_ROOM (64u * 1024u)
_Static_assert(HW_SESSION_REPLY_ROOM <= HW_CONN_SEND_MAX / 2,
	       "a session paused for its replies is resumed by on_writable, below half");
/* Entries kept in memory for streaming (the newest); older ones are read from the store. */
#define HW_OUTBOX_BYTES_MAX (64u * 1024u * 1024u)
/* Entries a vault holds in memory for its apply delay (they are durable in its log
 * already): past it the vault stops reading from the primary until some are applied. */
#define HW_VAULT_HELD_BYTES_MAX (256u * 1024u * 1024u)
/* What a node keeps free on its data directory's file system beside a copy it makes
 * there (a snapshot's, node_snapshot.c; a digest replay's scratch, node_digest.c): it
 * goes on writing its log and store there meanwhile, and a disk that fills stops it for
 * good (a storage failure). Two log segments. */
#define HW_NODE_HEADROOM_BYTES (2ull * HW_WAL_SEGMENT_BYTES)
/* Reconnect back-off of a standby: from 50 ms doubling to 1 s. */
#define HW_RECONNECT_MIN_MS 50
#define HW_RECONNECT_MAX_MS 1000
/* ... and after a snapshot it refused (no room, a bad copy): the primary would make a
 * whole copy again at the next connection, so that one waits this long. */
#define HW_SNAPSHOT_RETRY_MS 10000
/* At most one catchup_progress / snapshot_progress line per this long (docs/operations.md) */
#define HW_PROGRESS_MS 1000
/* While a refused entry blocks the apply, apply_blocked is logged again this often: the
 * block lasts until an operator acts, and a log read since the last start shows it. */
#define HW_BLOCKED_LOG_MS 60000
/* Redials of a standby or vault that are refused (nothing listens at the primary's
 * address) are logged at most once per this long, with how many there were: the
 * back-off redials every HW_RECONNECT_MAX_MS. */
#define HW_REFUSED_LOG_MS 10000
/* A standby or vault the primary refuses for what only an operator ends (its store is of
 * another chain, or diverged with no rejoin; not a vault the primary takes; not its
 * standby: HW_EDIVERGED, HW_EVAULT, HW_ECLUSTER), or a vault that refuses the primary's
 * rejoin or snapshot on its own (HW_EVAULT, hw__vault_refuse), redials from HW_RECONNECT_MIN_MS
 * doubling to this instead: each try costs both sides a connection and a check, and
 * the operator's fix on the primary's side is seen at most 30 s late (a standby that is
 * restarted, as after a restore, dials at once). */
#define HW_REFUSED_RETRY_MAX_MS 30000
/* Such a refusal is logged the first time on each side (primary_refused and primary_lost,
 * vault_refused; standby_diverged), then its repeats are counted and said with their
 * count (repeated=N) at most once per this long. */
#define HW_REPEAT_LOG_MS 300000
/* The reason of a standby's or vault's last refusal kept for its status: the primary's
 * ERROR message or this node's own reason, cut to this (they are a sentence). */
#define HW_REFUSAL_WHAT_BYTES 200

struct hw_node;
struct hw_voters;

/* A line said again and again (HW_REPEAT_LOG_MS). */
struct hw_repeat {
	int code;          /* what repeats; 0: nothing yet */
	uint32_t count;    /* repeats not logged since its last line */
	int64_t logged_ms; /* hw_mono_ms() of that line */
};

/* The apply of a standby or vault stopped at an entry its store refused (node_block.c). */
struct hw_block {
	uint64_t lsn;                /* the refused entry; 0: the apply is not blocked */
	uint8_t hash[HW_HASH_BYTES]; /* its hash: the block is that entry's, not its LSN's */
	struct hw_reject rej;        /* why: code, field and rule */
	int64_t logged_ms;           /* hw_mono_ms() of the last apply_blocked line */
};
struct hw_snap_tx;
struct hw_snap_rx;
struct hw_epoch_map;
struct hw_held;

/* A connection a node accepted: on the client port (a TOS, `hawser submit`, the bench) or
 * on the replication port (a standby; its hello says which). */
struct hw_session {
	struct hw_node *node;
	struct hw_conn *conn;
	uint32_t index;  /* in node->sessions (left once evicted) */
	uint32_t gen;    /* bumped when the slot is reused: stale replies are dropped */
	bool hello;      /* the peer's hello was taken */
	bool repl;       /* accepted on the replication port */
	int peer;        /* replication: standby index once known, else -1 */
	bool paused;     /* reading stopped for back-pressure: no room for submits */
	bool out_full;   /* reading stopped until its unread replies drain (on_writable) */
	bool digesting;  /* reading stopped until its digest query is answered
			    (node_digest.c), so its answers keep the order of its requests */
	int voter;       /* failover: an election link from this voter id, else -1 */
	uint64_t beat_seen; /* client: hw_conn_queued_total() at the last heartbeat tick */
	uint32_t replies_owed; /* client: submits taken and not answered yet, each owed a
				* SUBMIT_REPLY its send buffer keeps room for (node.c) */
	int64_t accepted_ms;   /* hw__node_now() when accepted: its Hello is due by
				* HW_HELLO_WAIT_MS after (INT64_MAX once closed for it) */
	bool evicted;          /* closed, before its Hello, for a newer connection to a full port:
				* no longer counted in sessions_open, nor in node->sessions (its
				* slot went to the newcomer) */
	bool frame_refused;    /* closed for a frame, which frame_refused logged (a malformed
				* one) or session_closed (one it may not send): no
				* session_lost after it, but a known peer's (node.c) */
};

/* One waiting submit: who to answer, and what. */
struct hw_request {
	bool used;
	uint32_t session; /* index in node->sessions, or UINT32_MAX for an embedded submit */
	uint32_t gen;
	uint64_t request_id;
	uint64_t lsn;       /* the record's LSN (a duplicate's first LSN) */
	bool duplicate;
	bool system;        /* this node's own record (an event, a checkpoint): no client's */
	hw_submit_cb *cb;   /* embedded submits */
	void *cb_arg;
	uint32_t next_free;
	bool stored;       /* its batch was prepared */
	uint64_t since_ns; /* hw_mono_ns() when the loop took it, then when its batch was
			    * prepared (submit times) */
};

/* Submit times on a primary (status SubmitTimes), summed in ns: queued and store over the
 * records of prepared batches (refused ones too), durability over the accepted submits
 * answered. */
struct hw_stage_sums {
	uint64_t queued_ns;
	uint64_t store_ns;
	uint64_t stored;
	uint64_t durability_ns;
	uint64_t answered;
};

/* A submit handed in by another thread (hw_node_submit), waiting for the loop. */
struct hw_ext_submit {
	struct hw_ext_submit *next;
	uint64_t request_id;
	uint8_t mode;
	uint8_t k;
	bool system; /* the node's own record (node_audit.c), hw_submit.system */
	hw_submit_cb *cb;
	void *cb_arg;
	size_t len;
	uint8_t data[];
};

struct hw_standby_link {
	struct hw_session *c; /* its replication connection, NULL when gone */
	struct hw_repeat diverged; /* its standby_diverged lines (node_primary.c) */
	uint64_t pending_from; /* entries the core sent that still wait for send room */
	uint64_t pending_to;
	uint64_t receipt_to; /* the last LSN of a SEND that asked for a receipt: frames up
				to it ask the standby to ack on arrival */
};

struct hw_node {
	struct hw_config cfg;
	struct hw_store *store;
	struct hw_loop *loop;
	struct hw_ring *ring;
	struct hw_writer *writer;
	struct hw_wal *wal; /* the durable point; the store applies behind it */
	struct hw_listener *client_listener;
	struct hw_listener *repl_listener;
	struct hw_fds_budget fds; /* what each listener may hold, from the descriptor limit */
	struct hw_timer *tick;
	struct hw_async *ext_async;
	struct hw_act *acts; /* the core's decisions for one event: HW_ACTS_MIN(waiters) */
	size_t acts_cap;
	int failed;   /* sticky: a storage failure stopped the node */
	int exit_rc;
	uint64_t epoch;

	struct hw_session *sessions[HW_CLIENTS_MAX];
	uint32_t session_gen[HW_CLIENTS_MAX];
	uint32_t sessions_paused; /* how many have paused reading: none spares the scan */
	bool crashing;            /* a crash drill stopped every client session (node_drill.c) */
	uint32_t sessions_open[2]; /* [repl]: of the client port, of the replication port */

	/* primary */
	struct hw_primary core;
	struct hw_waiter *waiters;
	struct hw_request *requests;
	uint32_t free_request;
	uint32_t requests_used;
	uint32_t unprepared;    /* records queued for the writer, not yet waiters of the core */
	bool room_freed;        /* room came (a request slot, the writer's job, the log's):
				 * paused readers and embedded submits may go on */
	uint64_t last_wait_lsn; /* LSN of the newest waiter: keeps the core's ring ordered;
				 * after a promotion at least the epoch's first entry's */
	bool acks_held;         /* "acks_held" logged, "acks_hold_ended" not yet */
	int64_t acks_held_ms;   /* hw__node_now() when it was */
	bool rpo_held;          /* "rpo_acks_held" logged, its end not yet (node_targets.c) */
	int64_t rpo_held_ms;    /* hw__node_now() when it was */
	bool replay_closed;     /* "replay_throttled" logged, its end not yet */
	int64_t replay_closed_ms;
	struct hw_segment *outbox_head; /* oldest */
	struct hw_segment *outbox_tail;
	struct hw_segment *outbox_hint; /* where the last lookup ended: streaming resumes
					   there, not at the oldest of ~64 MiB; NULL: none */
	size_t outbox_bytes;
	struct hw_standby_link links[HW_PEERS_MAX];
	uint64_t committed_lsn; /* last LSN the store committed (readable there) */
	uint64_t apply_wanted;  /* newest LSN a submit in mode applied waits for: heartbeats
				   ask the standbys to commit their stores through it */
	uint8_t *scratch; /* one frame body, for catch-up reads from the store */
	pthread_mutex_t ext_mu;
	struct hw_ext_submit *ext_head;
	struct hw_ext_submit *ext_tail;
	uint32_t ext_count; /* under ext_mu: queued; with ext_taken past waiters_max, HW_EBUSY */
	uint32_t ext_taken; /* under ext_mu: taken from the queue by the primary, not answered */
	size_t ext_bytes;   /* under ext_mu: their records' bytes; past
			     * HW_EMBED_QUEUE_BYTES_MAX, HW_EBUSY */
	bool ext_open; /* under ext_mu: a primary takes embedded submits (from
			* hw__primary_start until it stops or steps down); when false
			* hw_node_submit refuses at once, so none is queued unanswered */
	bool running;  /* under ext_mu: in hw_node_run, on run_thread */
	bool ran;      /* under ext_mu: hw_node_run was called (once per node) */
	bool closing;  /* under ext_mu: in hw_node_close (a second one is refused) */
	pthread_t run_thread; /* hw_node_submit_wait there would wait on itself for ever */

	/* audit (node_audit.c): the primary's signed checkpoints and node events */
	struct hw_signer signer;      /* from [security] key; secret, wiped at close */
	bool can_sign;                /* a key was given (not insecure) */
	uint8_t config_sha[HW_HASH_BYTES]; /* BLAKE2b-256 of the config file */
	pthread_t cp_thread;          /* makes one checkpoint (a full state digest) */
	bool cp_running;              /* cp_thread started and not yet joined */
	_Atomic bool cp_done;         /* cp_thread finished: join it on the tick */
	int cp_rc;                    /* its result, read after the join */
	uint64_t cp_covers;           /* its checkpoint's LSN, read after the join */
	uint64_t cp_lsn;              /* LSN the last checkpoint made vouches for */
	uint64_t cp_wait;             /* a due checkpoint waits for the store's commit to
					 reach this (0: none waits) */
	int64_t cp_at_ms;             /* node clock when it was made */
	uint64_t checkpoints;         /* made since start */
	struct hw_audit *audit;       /* node events held, refusals counted; NULL insecure */

	/* standby */
	struct hw_standby sb;
	struct hw_conn *primary_conn;
	bool primary_ready;  /* hello exchanged */
	bool primary_key_ok; /* its key is pinned as a node that may be primary */
	bool other_chain;    /* it refused a snapshot of another chain: it follows no more */
	bool hello_pending;  /* connected; the hello waits for the log to flush */
	int64_t primary_heard_ms; /* dialled, hello sent, or a frame came: before the hello
				   * exchange the core does not watch the stream, this does */
	int64_t primary_frame_ms; /* hw__node_now() of the primary's last frame, or of
				   * hw__standby_restart() since (status: last heard) */
	bool primary_heard;       /* a frame of a primary came since the start */
	uint32_t refused_dials;   /* refused since the last primary_unreachable line */
	int64_t refused_logged_ms; /* hw_mono_ms() of that line; 0: none yet */
	struct hw_timer *reconnect;
	int64_t reconnect_ms;
	struct hw_repeat refusal; /* refusals only an operator ends: the primary's, a vault's */
	int refused_code;         /* such a refusal on this connection; 0: none */
	bool refusal_quiet;       /* ... a repeat: its lines are counted, not logged */
	uint32_t refusal_repeats; /* ... else the repeats its line says (repeated=N) */
	/* the last refusal, either side's, since the last hello taken (status): code 0: none */
	struct hw_refusal {
		int code;
		char what[HW_REFUSAL_WHAT_BYTES];
	} last_refusal;
	bool refusal_backoff;     /* reconnect_ms grew on such refusals (HW_REFUSED_RETRY_MAX_MS) */
	char primary_id[HW_ID_CHARS_MAX + 1]; /* the primary of the last hello taken */
	struct hw_block block;
	/* the catchup_progress / catchup_done lines (node_standby.c) */
	struct hw_catchup {
		bool on;           /* from the primary's hello until durable reached target */
		uint64_t target;   /* its hello's last LSN, raised by the durable LSNs it sends */
		uint64_t mark_lsn; /* durable at the last line (or at the hello) */
		int64_t start_ms;  /* hw_mono_ms() at the hello */
		int64_t mark_ms;   /* hw_mono_ms() at the last line (or at the hello) */
	} catchup;

	/* vault (node_vault.c): entries durable in the log, waiting for the apply delay */
	struct hw_held *held_head; /* oldest */
	struct hw_held *held_tail;
	size_t held_bytes;
	uint32_t source;        /* index in cfg.sources of the address tried now */
	uint64_t vault_applied; /* last LSN the store committed (status: applied_lsn) */

	/* snapshots (node_snapshot.c): the one being sent (primary) or received (standby) */
	struct hw_snap_tx *snap_tx;
	struct hw_snap_rx *snap_rx;

	/* failover (node_election.c); voters is NULL with static roles */
	struct hw_voters *voters;
	enum hw_role start_role;  /* cfg.role as configured: a preferred primary campaigns
				   * first, standbys wait a grace period at start */
	int64_t started_ms;
	uint32_t *fenced;         /* request slots whose rule held while the lease did not:
				   * answered once it is held again, failed at step-down */
	uint32_t n_fenced;
	uint64_t acked_lsn;       /* highest LSN acknowledged to a client in this epoch */
	uint64_t start_lsn;       /* primary: its head when it started (node_primary.c
				     static_offer) */
	bool first_ack_logged;    /* "first_ack" logged for this epoch */
	uint64_t last_epoch;      /* epoch of the last entry in the log */
	uint32_t following;       /* voter id of the primary followed, or UINT32_MAX */
	int down_code;            /* enum hw_el_down of the last STEP_DOWN */
	bool submits_paused;      /* a switchover is under way: submits get HW_EBUSY */
	bool xfer_pending;        /* switchover asked: waiting for taken submits to drain */
	uint32_t xfer_to;         /* its target's voter id */
	int64_t xfer_until_ms;    /* drain deadline (loop time) */
	int64_t last_ack_wall_ms; /* wall clock of the last success this node answered */
	bool wal_started;         /* the log's flusher runs (once per log opened) */
	struct hw_epoch_map *rejoin; /* the diverged primary's epochs (node_rejoin.c) */
	struct hw_epoch_map *rejoin_failed; /* the last offer whose rejoin could not be done:
					     * the same one again is not tried again */
	/* what DIR/primary.said says of the primary's durable position (node_rejoin.c) */
	struct hw_said {
		bool known;     /* a value is saved */
		bool listening; /* ... saved while connected: it may have heard more since */
		uint64_t lsn;   /* ... the most the primary said durable */
		uint64_t head_lsn; /* ... this node's log head when saved: trusted only while */
		uint8_t head_hash[HW_HASH_BYTES]; /* the log still ends at that entry */
	} said;
	bool said_told;              /* a record not trusted was logged (at start only) */
	struct hw_digest *digest;    /* node_digest.c: the digest query job, made on first use */

	/* statistics */
	uint64_t submits;
	uint64_t rejected;
	uint64_t rate_count;
	int64_t rate_since_ms;
	int64_t clients_beat_ms; /* hw__node_now() of the last HEARTBEAT to the clients */
	int64_t hello_swept_ms;  /* hw__node_now() of the last look for late Hellos */
	/* Lines a flood of connections would write once per connection (node.c) */
	struct hw_port_logs port_logs[2]; /* session_evicted, session_closed for a late
					   * Hello, session_lost, frame_refused, channel_refused
					   * and channel_cut, by port (repl: 1) */
	double records_per_s;
	struct hw_stage_sums stages_now;   /* the second under way */
	struct hw_stage_sums stages_last;  /* the last whole second */
	struct hw_stage_sums stages_total; /* since the node started */
};

/* Run an event on the replication core and carry out what it decided. */
#define HW_CORE(n, call)                                                                   \
	do {                                                                               \
		struct hw_acts a_ = {.v = (n)->acts, .n = 0, .cap = (n)->acts_cap};        \
		struct hw_acts *acts = &a_;                                                \
		call;                                                                      \
		hw__node_do((n), acts);                                                    \
	} while (0)

/* node.c */
struct hw_acts;
int hw__node_send_frame(struct hw_conn *c, enum hw_frame_type type, const uint8_t *body,
			size_t len);
int hw__node_send_msg(struct hw_conn *c, enum hw_frame_type type, const void *msg);
int hw__node_send_error(struct hw_conn *c, int code, const char *message);
/* The SUBMIT_REPLY of o (hw_frame_submit_reply_body), the one encoder of every reply. */
int hw__node_send_outcome(struct hw_conn *c, const struct hw_outcome *o);
/* Refuse a session's peer: ERROR code with message, then close c once it is sent
 * (hw_conn_close_sent), so the peer learns why. The session lives until on_close. */
void hw__node_refuse(struct hw_conn *c, int code, const char *message);
/* This node's chain identity, the hash of its entry 1, into out: from the store once it
 * committed it, else from the log, which holds it from its arrival on (a standby's writer
 * holds batches open up to HW_WRITER_APPLY_COMMIT_MS, a primary's HW_WRITER_COMMIT_MS, a
 * vault holds entries for its delay, a blocked apply never takes them); all zero for a
 * node with no entry. 0, HW_ENOTFOUND (entries, but neither holds entry 1) or the store's
 * error. Loop thread; reads the store. */
int hw__node_chain_id(struct hw_node *n, uint8_t out[HW_HASH_BYTES]);
/* Send our HELLO as role, at head h; with_chain: with our chain identity (wire.proto
 * Hello.chain), which only a standby's or vault's hello to its primary needs: it costs a
 * read of the store's entry 1 on the loop; and with snapshot_wanted when the store is
 * stale (hw_store_stale). */
int hw__node_send_hello(struct hw_node *n, struct hw_conn *c, int role, const struct hw_head *h,
			bool with_chain);
bool hw__node_wal_room(struct hw_node *n);
void hw__node_storage_failed(struct hw_node *n, int rc, const char *what);
/* A standby or vault was refused by its primary (an ERROR) or refused it (a snapshot it
 * has no room for, a vault's log kept): kept as n->last_refusal for its status until the
 * next primary's hello is taken. */
void hw__node_refused(struct hw_node *n, int code, const char *what);
/* Stop the store writer before the store is closed and opened again (a rejoin, a
 * snapshot's install). The writer commits and flushes what it holds (hw_writer_stop); a
 * failure of that is the store's, which the reopened store would not know, and its
 * recovery would then let the log go of entries never written. So it fails the node
 * (in=what) and stops its loop: the node exits, and a restart recovers from the log,
 * kept whole. 0 or that failure. */
int hw__node_writer_stop(struct hw_node *n, const char *what);
/* The same end for a storage failure rc met while the store is closed and opened again
 * (a rejoin's flush, log reset or rewind): fail the node (in=what), log node_exiting and
 * stop its loop, rather than reopen a store whose flush failed and follow on it. */
void hw__node_exit_failed(struct hw_node *n, int rc, const char *what);
int hw__node_open_store(struct hw_node *n);
/* Whether n's store takes log entries without validating their records again
 * (hw_store_append_primary: only the apply refuses what it cannot keep), wherever they
 * come from: its primary, as they arrive (its writer, hw__standby_restart), or its own
 * log, replayed after a crash (the recovery), so a crash cannot change an entry's
 * outcome. A node that was the primary replays entries it validated itself. False on a
 * vault, which validates every record it keeps (hw_store_append_hold) either way. */
bool hw__node_skips_validation(const struct hw_node *n);
struct hw_session *hw__session_new(struct hw_node *n, struct hw_conn *c, bool repl);
/* The port to name in the peer_refused line of a Hello s's port refuses that anyone may
 * say (another cluster or protocol version, no standby or voter this node knows, a vault
 * behind the log): s's port's name, in full HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS
 * per port; NULL past them, the line counted (engine/port.h hw_port_refused), as a flood
 * of such connections repeats it. */
const char *hw__session_refused_port(struct hw_session *s);
void hw__node_do(struct hw_node *n, struct hw_acts *acts);
int64_t hw__node_now(struct hw_node *n);
/* Sessions that stopped reading for lack of room read again (what they hold is then
 * taken, or refused by the role the node has now). */
void hw__node_resume_sessions(struct hw_node *n);

/* Read s again unless something else still holds it (paused, out_full, digesting). */
void hw__session_resume(struct hw_session *s);

/* Does the peer on c hold the key pinned as node id (hw_security_peer_is)? When not,
 * refused as hw__node_key_refused() says (reason=key_not_that_node). */
bool hw__node_peer_is(struct hw_node *n, struct hw_conn *c, const char *id);

/* The key of the peer on c is not one pinned as node (an id, or words such as "a
 * voter"): logs peer_refused with reason and the key's fingerprint, and records an
 * AUTH_FAILURE event saying "key not pinned as <as> <node>". */
void hw__node_key_refused(struct hw_node *n, struct hw_conn *c, const char *reason, const char *as,
			  const char *node);
/* Start the log's flusher once per log opened; its callback goes to the role running. */
int hw__node_wal_start(struct hw_node *n);

/* node_primary.c */
int hw__primary_start(struct hw_node *n);
void hw__primary_stop(struct hw_node *n);
/* Answer every submit the primary took HW_ECLOSED: the loop stopped. */
void hw__primary_fail_taken(struct hw_node *n);
long hw__primary_on_submit(struct hw_session *c, const struct hw_frame *f);
long hw__primary_on_repl(struct hw_session *c, const struct hw_frame *f);
void hw__primary_on_close(struct hw_session *c);
void hw__primary_on_writable(struct hw_session *c);
void hw__primary_act(struct hw_node *n, const struct hw_act *a);
void hw__primary_tick(struct hw_node *n);
void hw__primary_take_ext(struct hw_node *n);
/* A request slot came free since the last call (a release, an answer): take embedded
 * submits and let paused sessions read again. After every batch of the core's actions. */
void hw__primary_room(struct hw_node *n);
void hw__primary_session_gone(struct hw_node *n, struct hw_session *c);
void hw__primary_wal_cb(struct hw_node *n, uint64_t durable, int rc);
/* Answer request slot: code 0 with its LSN (the fence let it go), else the failure. */
void hw__primary_answer(struct hw_node *n, uint32_t slot, int code);
/* Log "acks_held" when the core begins to hold submits for lack of standbys
 * (core.hold) and "acks_hold_ended" when it stops: once each, never per record. After
 * every batch of the core's actions. */
void hw__primary_hold_check(struct hw_node *n);
/* Why the core holds submits for lack of standbys, in words, into buf (cap bytes; all of
 * it fits in HW_HOLD_WHY_BYTES); "" when it holds none. */
void hw__primary_hold_why(const struct hw_node *n, char *buf, size_t cap);
#define HW_HOLD_WHY_BYTES 384
/* The commit time (the primary's wall clock) of our entry at lsn into *time_ms: from the
 * outbox, which holds every entry the store has not committed yet (it commits lazily
 * behind the log), else from the store. 0, HW_ENOTFOUND (pruned, or never made), or
 * the store's error. Loop thread, a primary's. */
int hw__primary_entry_time(struct hw_node *n, uint64_t lsn, int64_t *time_ms);

/* node_targets.c: the back-pressure of the [failover] targets (see there). */
/* The core's RPO t rule and replay throttle limits from the node's plan into *rc; left
 * 0 (off) without [failover]. */
void hw__targets_config(const struct hw_node *n, struct hw_repl_config *rc);
/* The standbys the RPO t rule needs a record durable on (hw_tg_ahead_k: durability.k,
 * at least 1 and k_min for the voters, at most the standbys configured). */
uint32_t hw__targets_ahead_k(const struct hw_node *n);
/* May a submit be taken now? 0: yes; 1: not now, as for want of room (the replay
 * throttle: taken once it opens); HW_EBEHIND: only as a duplicate of a stored record:
 * the caller has the store refuse it with HW_EBEHIND if it would be new
 * (hw_submit.refuse_new), so a resend still gets its LSN. That is rpo_action = fail
 * while the RPO t rule holds acknowledgements (every mode). system: the node's own
 * record, always taken. */
int hw__targets_admit(struct hw_node *n, bool system);
/* Log a hold or throttle that began or ended, once each; an opened throttle lets paused
 * submits go on. After every batch of the core's actions, on a primary. */
void hw__targets_check(struct hw_node *n);
/* The primary's role ends (reason: "stepped_down", "stopped"): log the end of a hold or
 * throttle under way (with reason=, so an alert on its start sees it end), before the
 * waiters are failed. The next primary start begins with neither. */
void hw__targets_end(struct hw_node *n, const char *reason);
/* Why acknowledgements are held by the RPO t rule / new submits wait for the replay
 * throttle, in words into buf (all of it fits in HW_HOLD_WHY_BYTES); "" when not. */
void hw__targets_rpo_why(struct hw_node *n, char *buf, size_t cap);
void hw__targets_replay_why(const struct hw_node *n, char *buf, size_t cap);
/* Both for a status reply into r and t; their why points into rpo_why and replay_why
 * (HW_HOLD_WHY_BYTES each), which must outlive the send. */
struct Hawser__Wire__V1__RpoHold;
struct Hawser__Wire__V1__ReplayThrottle;
void hw__targets_status(struct hw_node *n, struct Hawser__Wire__V1__RpoHold *r,
			struct Hawser__Wire__V1__ReplayThrottle *t, char *rpo_why,
			char *replay_why);

/* node_audit.c. Append a node event (kind, this node, its epoch; peer, key (the peer's or
 * operator's HW_CHANNEL_KEY_BYTES key) and detail may be NULL) when primary with a key:
 * queued like an embedding submit, system set, mode local (it must not wait on a
 * standby). A node with a key that is not primary holds it (encoded now) until it is;
 * an insecure node only logs it ("audit_local"), but appends a PROMOTION too, as its
 * epoch's first entry: docs/security.md "Audit trail". Loop thread. 0, or why it was
 * not taken (HW_EBUSY: too many held; a record's code: its detail refused; the queue's
 * code), logged too. */
int hw__audit_event(struct hw_node *n, Tos__V1__NodeEventKind kind, const char *peer,
		    const uint8_t *key, const char *detail);
/* The event as hw__audit_event, but on a primary that keeps an audit trail and has
 * standbys, queued in mode durable with the node's k (at least 1) instead of local:
 * cb(arg, outcome of request_id) comes on the loop thread once k standbys hold it
 * durable, or with the code that failed it (HW_ENOT_PRIMARY at a step-down: not held
 * for later). For an event that must survive what the node does next (a drill's fault:
 * node_drill.c). Returns 0 (cb will come), 1 when the node has no such trail (insecure,
 * a vault, not primary, no standby: the event was taken as hw__audit_event takes it and
 * cb never comes), or why it was not queued (logged; cb never comes). Loop thread. */
int hw__audit_event_durable(struct hw_node *n, Tos__V1__NodeEventKind kind, const char *peer,
			    const uint8_t *key, const char *detail, uint64_t request_id,
			    hw_submit_cb *cb, void *arg);
/* A session's OPERATOR_EVENT frame (wire.proto OperatorEvent): the event with the
 * session's address and channel key, then the reply. Returns 0 or a code to close with. */
int hw__audit_on_operator_event(struct hw_session *s, const struct hw_frame *f);

/* An AUTH_FAILURE event for a refused peer (what: why), rate-limited per host as refused
 * channels are: the first at once, the rest counted in one event per window. */
void hw__audit_refusal(struct hw_node *n, const char *peer, const uint8_t *key, const char *what);
/* A session's DRILL_FAULT frame (wire.proto DrillFault, node_drill.c): refused with an
 * ERROR HW_EFAULT_OFF unless [drills] allow_fault and a pinned key; CRASH answers, then
 * exits the process; ISOLATE cuts a primary's voter and replication links for its
 * duration_ms (hw_voters_isolate), then answers. On a primary with an audit trail and
 * standbys, either waits until its DRILL event is durable on k standbys (at most 2 s;
 * else an ERROR and no fault). Returns 0 or a code to close with. */
int hw__drill_on_fault(struct hw_session *s, const struct hw_frame *f);
/* Drop a fault still waiting for its audit event (hw_node_close, before the loop). */
void hw__drill_stop(struct hw_node *n);
/* node_status.c: a session's STATUS_REQUEST frame answered with a STATUS frame
 * (wire.proto Status: role, LSNs, peers and their lag, holds, targets, drills), built on
 * the stack and sent at once. Returns 0 or a code to close with. */
int hw__status_send(struct hw_session *s);
/* node_digest.c: a session's DIGEST_QUERY frame (wire.proto DigestQuery): start the
 * digest at its LSN on a thread; the DIGEST_REPLY follows when it is done (an ERROR
 * HW_EBUSY while another query runs). Returns 0 or a code to close with. */
int hw__digest_on_query(struct hw_session *s, const struct hw_frame *f);
/* Wait for a digest under way and answer it: before n->store is closed and reopened
 * (rejoin, snapshot install), since the digest's thread reads it. A replay under way
 * stops at its next batch of entries and answers HW_ECANCELED, so the loop waits
 * milliseconds, not the minutes a long replay takes. */
void hw__digest_wait(struct hw_node *n);
/* The store committed more (writer callback, either role), or the writer stopped (it
 * commits what it held; n->writer is NULL): a digest that waited for its LSN starts. */
void hw__digest_on_committed(struct hw_node *n);
/* Join a digest under way without answering (the sessions are gone) and free the job
 * (hw_node_close, before the store and loop). */
void hw__digest_stop(struct hw_node *n);
/* After the node started (store open, ring made): the NODE_START event, CONFIG_CHANGE
 * when this node's last recorded config hash differs, and AUTH_FAILURE events for the
 * channels the ring refuses from now on. */
void hw__audit_start(struct hw_node *n);
/* Primary: start a checkpoint when checkpoint_records entries passed since the last one
 * or checkpoint_interval did with some entries; reap a finished one. Loop thread, from
 * the tick and after commits. */
void hw__audit_tick(struct hw_node *n);
/* Wait for a checkpoint under way (its record may still be queued: it fails with the
 * other queued submits). Before the primary's submits are failed. Loop thread. */
void hw__audit_stop(struct hw_node *n);
/* Hash the config file (for NODE_START) and take the signing key from id (NULL when
 * insecure: no checkpoints). hw_node_open, before the roles start. 0 or HW_ENOMEM. */
struct hw_identity;
int hw__audit_open(struct hw_node *n, const char *config_path, const struct hw_identity *id);
/* Free what hw__audit_open made; after the roles stopped (hw_node_close). */
void hw__audit_close(struct hw_node *n);

/* node.c: whether this time code is to be logged: the first time, a new code, or
 * HW_REPEAT_LOG_MS or more after r's last line (*repeats gets how many were not logged
 * since: say them); else it is counted. */
bool hw__repeat_say(struct hw_repeat *r, int code, uint32_t *repeats);

/* api.c: queue a submit for the loop (any thread), as hw_node_submit() does; HW_ENOT_PRIMARY
 * unless a primary takes them (ext_open); system marks the node's own record
 * (hw_submit.system). */
int hw__node_enqueue(struct hw_node *n, uint64_t request_id, const uint8_t *record, size_t len,
		     enum hw_durability mode, unsigned k, bool system, hw_submit_cb *cb,
		     void *arg);
/* api.c: no longer take embedded submits (hw_node_submit answers HW_ENOT_PRIMARY from
 * now on) and fail those queued with code, their callbacks run on the calling thread.
 * The loop's thread, or after the loop returned. */
void hw__node_ext_close(struct hw_node *n, int code);
/* Step down (failover): stop the writer (the log is brought level with the store), fail
 * every submit still waiting with code, close the standbys' connections and free what
 * hw__primary_start made; the node is then neither role until hw__standby_restart(). */
void hw__primary_leave(struct hw_node *n, int code);

/* node_standby.c */
int hw__standby_start(struct hw_node *n);
void hw__standby_stop(struct hw_node *n);
void hw__standby_act(struct hw_node *n, const struct hw_act *a);
void hw__standby_tick(struct hw_node *n);
int hw__standby_restart(struct hw_node *n);
void hw__standby_installed(struct hw_node *n);
void hw__standby_wal_cb(struct hw_node *n, uint64_t durable, int rc);
/* Failover: stop following (the connection to the primary closes and is not redialed)
 * and stop the writer once it applied everything it took (store head = log end). */
void hw__standby_leave(struct hw_node *n);
/* Failover: follow the node at cfg.primary now (the primary changed; the old connection
 * is closed first). */
void hw__standby_follow(struct hw_node *n);

/* node_vault.c: a vault replica (docs/operations.md "Vault replica"): a standby that is
 * never counted or promoted, refuses to rewrite its log, and applies entries only once
 * they have been here cfg.apply_delay_ms (this host's monotonic clock, not their commit
 * time: the primary's clock). */
/* Hold entries (back to back, count of them, the last at last_lsn) that are durable in the
 * log until they have been here long enough; copied. Not once the apply is blocked: the
 * log alone keeps them. HW_ENOMEM. */
int hw__vault_hold(struct hw_node *n, const uint8_t *entries, size_t len, uint32_t count,
		   uint64_t last_lsn);
/* Room to hold another frame of entries? (false: stop reading, HW_VAULT_HELD_BYTES_MAX) */
bool hw__vault_room(const struct hw_node *n);
/* Hand the held entries that are old enough to the writer, as far as its job has room,
 * and kick it. From the tick and after each job. */
void hw__vault_release(struct hw_node *n);
/* Start-up (recovery from the log): hold the entry at e (len bytes) when this is a vault
 * with a delay, for a full delay from now (when it came is not known). 1 held, 0 not
 * (apply it now), or HW_ECORRUPT / HW_ENOMEM. */
int hw__vault_hold_young(struct hw_node *n, const uint8_t *e, size_t len);
/* The last LSN held (0 when none). */
uint64_t hw__vault_held_lsn(const struct hw_node *n);
/* After a connection to the primary closed: try the next address of cfg.sources. */
void hw__vault_next_source(struct hw_node *n);
/* A request to rewrite the log (a snapshot over a store that holds entries, a rejoin):
 * refused as one only an operator ends (node_standby.c backs the redial off), logged
 * vault_refused the first time, then its repeats counted (hw__repeat_say). Returns
 * HW_EVAULT. */
int hw__vault_refuse(struct hw_node *n, const char *what);
/* The vault_refused line of a refusal decided elsewhere (the primary's, said once as
 * n->refusal_quiet and n->refusal_repeats tell). */
void hw__vault_say_refused(struct hw_node *n, const char *what);
/* Free what is held (it is durable in the log: the next start holds it again, up to a
 * block). At the stop, and when the apply blocked before it (node_standby.c). */
void hw__vault_stop(struct hw_node *n);

/* node_block.c: an entry a standby's or vault's store refused stops its apply there (the
 * entries before it are applied), for good and across restarts; a vault goes on storing
 * what follows in its log, a standby stops following and never stands for election.
 * Loop thread, or the open's before the loop runs. */
/* Whether the node starts as a standby or vault, whose apply may block: with failover
 * every node does. A primary without it never follows, and its own log holds no entry its
 * store refuses (its recovery fails on one). */
bool hw__block_follows(const struct hw_node *n);
/* Block at the log entry (len bytes) the store refused with rej: kept in n->block,
 * logged (apply_blocked) and written to the store's meta. 0 or the storage failure. */
int hw__block_set(struct hw_node *n, const uint8_t *entry, size_t len, const struct hw_reject *rej);
/* At the open, before the recovery: the block the store's meta keeps into n->block
 * (none, or not hw__block_follows: zeroed). 0, HW_EFORMAT or a storage error. */
int hw__block_load(struct hw_node *n);
/* Recovery, for each log entry it replays: true when it is the one n->block names (LSN
 * and hash): logged again, and the replay stops before it. */
bool hw__block_at(struct hw_node *n, const uint8_t *entry, size_t len);
/* The recovery did not meet n->block's entry in the log (a block of another log: a
 * store copied from a blocked node's): forget it, logged apply_block_dropped and written.
 * 0 (also when there is none) or the storage failure. */
int hw__block_drop(struct hw_node *n);
/* From the tick: apply_blocked again every HW_BLOCKED_LOG_MS while blocked. */
void hw__block_tick(struct hw_node *n);

/* node_election.c: automatic failover (DESIGN.md "Failover model"). Every function is a
 * no-op (or says yes) when the config has no [failover]. */
/* Plan the timers (an infeasible RTO is refused here with the planner's reason), load the
 * election's hard state from the store, start the voter. After the ring, before ports. */
int hw__election_start(struct hw_node *n);
void hw__election_stop(struct hw_node *n);
void hw__election_tick(struct hw_node *n);
/* How long a replication stream may deliver no complete frame before it is closed with
 * HW_ESILENT (bytes lost mid-frame on a connection that stayed open look like this):
 * derived from heartbeat_ms and the failover plan's detection time, at most
 * limits.peer_timeout_ms. Valid once hw__election_start has run (or without failover). */
int64_t hw__node_silent_ms(const struct hw_node *n);
/* The least k a primary's submit in a mode other than local waits for (repl.h k_min):
 * with failover hw_config_k_min (hw_el_k_min of the voters, at any rpo), else 0. */
uint32_t hw__node_k_min(const struct hw_node *n);
/* The log or replication view moved: tell the core (after the releases of the event). */
void hw__election_progress(struct hw_node *n);
/* A replication frame of epoch from the primary followed: refused (HW_EPROTOCOL, logged
 * stale_epoch) when epoch is lower than ours, else 0; heard: it counts as the primary's
 * traffic (every frame but its Hello, which comes before we know who sent it). */
int hw__election_primary_frame(struct hw_node *n, uint64_t epoch, bool heard);
/* A Hello of role VOTER or WITNESS on the replication port: an election link. 0 or the
 * code to close with. */
int hw__election_on_hello(struct hw_session *s, int role, const char *node_id);
/* An election frame on such a link. */
int hw__election_on_frame(struct hw_session *s, const struct hw_frame *f);
/* The fence: may request slot (its rule held, at lsn) be answered with success now? If
 * not it is kept (answered when the lease is back, failed at step-down). */
bool hw__election_may_release(struct hw_node *n, uint32_t slot, uint64_t lsn);
/* A snapshot's store in dir is about to replace this node's: put this node's durable
 * election state in it first (the copy holds the sender's), so that no crash after the
 * swap can bring the node back with another node's epoch and vote. 0 without failover. */
int hw__election_state_into(struct hw_node *n, const char *dir);
/* A SWITCHOVER_REQUEST on the client port: start the hand-over, answer at once with a
 * SWITCHOVER_REPLY. 0, or a code to close with (an undecodable body). */
int hw__election_on_switchover(struct hw_session *s, const struct hw_frame *f);
/* A PROMOTE_REQUEST on the client port (promote --accept-loss): list the loss through
 * the witness, or start a forced election; answers with a PROMOTE_REPLY. */
int hw__election_on_promote(struct hw_session *s, const struct hw_frame *f);

/* node_rejoin.c: an old primary with a divergent suffix follows again (rejoin).
 * Primary: send a diverged standby (whose log ends at its_lsn) the epochs of our log,
 * before the ERROR that refuses it. */
void hw__rejoin_offer(struct hw_session *s, uint64_t its_lsn);
/* Primary, for a standby whose hello h names a last LSN before our log's base: unless its
 * last entry is shown to be ours (h->last_epoch against our epoch map, which reaches back
 * past the base: replica/epochs.h), it may hold a divergent suffix no snapshot may
 * silently replace, so send it our epochs and refuse it (HW_EDIVERGED): it rejoins first,
 * then asks for the snapshot. True when it was refused (logged standby_diverged
 * reason=behind_base); false (nothing sent) when the snapshot may go: no failover, an
 * older standby (no last_epoch), or its entry is ours. */
struct Hawser__Wire__V1__Hello;
bool hw__rejoin_behind_base(struct hw_session *s, const struct Hawser__Wire__V1__Hello *h);
/* Standby: keep a REJOIN frame's epochs for the rejoin. 0 or the code to close with. */
int hw__rejoin_on_frame(struct hw_node *n, const struct hw_frame *f);
/* Standby refused with HW_EDIVERGED: true (logged) when a rejoin can run (the primary's
 * epochs kept; failover on, or without it a standby longer than the restarted primary's
 * log that can show its entries past that head were never acknowledged: else logged
 * ahead_kept, unless quiet): the caller arms the reconnect timer, which runs it. false
 * too for the offer whose rejoin could not be done last time (logged needs_rejoin, unless
 * quiet): it is not tried again. */
bool hw__rejoin_planned(struct hw_node *n, bool quiet);
/* From the reconnect timer: quarantine the suffix, rewind, restart store, log and writer
 * at the common point (without failover: the primary's head, where this log must hold
 * the entry the primary named). 0 (then connect again; logged rejoined, or ahead_set_aside
 * without failover) or a code (HW_EDIVERGED, logged needs_rejoin: the caller dials
 * again later, as after a refusal only an operator ends; or a storage failure, which
 * fails the node and stops its loop, hw__node_exit_failed): do not connect now. */
int hw__rejoin_run(struct hw_node *n);
void hw__rejoin_stop(struct hw_node *n);
/* hw__rejoin_stop, and forget the offer whose rejoin could not be done (a hello taken, a
 * promotion, the node's close): a refusal after it is judged anew. */
void hw__rejoin_free(struct hw_node *n);
/* A standby without failover keeps in its data directory (DIR/primary.said,
 * docs/formats.md) the most its primary said durable, so that after a restart it judges a
 * restarted primary's offer as it would have before (docs/failover.md "A static primary
 * restarted"). hw__said_load: after hw_standby_init, the saved value, if saved while not
 * listening and at this node's log head (its LSN and hash, hw_wal_last), is what the
 * standby heard (sb.primary_durable, sb.primary_heard); a record torn, damaged, of
 * another version, saved while listening or at another head (the log moved since: it
 * followed in another mode, a restore, a copy, a set-aside, a crash that lost an
 * unflushed tail) is not heard, and the first load (at start) logs why. hw__said_save:
 * save what the standby heard, with the log's head, as listening (a primary's hello was
 * taken: a crash from then on may lose what it hears) or not (the connection closed: it
 * hears nothing more); written and flushed only when it differs from what is saved. It
 * never waits for the store (its write lock, a commit), but its own write and flush
 * (64 bytes) hold the loop, at a connection's start and end only. hw__said_drop: a node
 * that keeps no record (a primary, a vault, a node with failover) removes one left from
 * a run as a static standby, at start: what it hears and writes would not be in it. Each
 * a no-op for other nodes; 0 or -errno (a storage error, sticky). Loop thread. */
int hw__said_load(struct hw_node *n);
int hw__said_save(struct hw_node *n, bool listening);
int hw__said_drop(struct hw_node *n);

/* node_snapshot.c. Primary: */
/* True when a standby whose log ends at its_lsn cannot be streamed to: our log starts
 * after it (its next entry was pruned). */
bool hw__snapshot_needed(struct hw_node *n, uint64_t its_lsn);
/* Begin a snapshot for standby peer on session s (its hello was taken): copy, stream,
 * then connect it in the core at the snapshot's head. HW_EBUSY while another is sent;
 * the storage failure once the node has one (and one waiting for its commit then fails:
 * hw__snapshot_on_committed, called by hw__node_storage_failed). */
int hw__snapshot_send(struct hw_session *s, uint32_t peer);
/* Whether a snapshot could be sent to peer now (0), or why not: the store failed,
 * another standby's is under way (HW_EBUSY), no disk room here or, when its hello said
 * how much it has (peer_free, else NULL), on the standby (HW_ESTORE_FULL). Checked
 * before the primary answers the standby's hello, so a refused one gets no hello (which
 * would reset its back-off) and asks again later. */
int hw__snapshot_can_send(struct hw_node *n, uint32_t peer, const uint64_t *peer_free);
/* What any new primary holds (with failover): the acknowledged LSN, or past it what every
 * standby, all connected, has made durable (this node's own records, its events and
 * checkpoints, which no client's acknowledgement covers). Vaults get nothing past it. */
uint64_t hw__primary_safe_lsn(const struct hw_node *n);
/* The bytes a snapshot received here could take, as the check at its announcement counts
 * them (rx_room): free on the file system of the data directory's parent, where the copy
 * goes, plus a copy a crash left there, which is removed first. For the hello. */
int hw__snapshot_rx_free(const struct hw_node *n, uint64_t *avail);
/* An ack from peer: true when the snapshot took it (the peer is not streaming yet). */
bool hw__snapshot_on_ack(struct hw_node *n, uint32_t peer, const struct hw_pos *pos);
/* The store committed through n->committed_lsn: a snapshot that waited for its store to
 * cover every record handed to the writer starts its copy. */
void hw__snapshot_on_committed(struct hw_node *n);
void hw__snapshot_on_writable(struct hw_session *s);
void hw__snapshot_session_gone(struct hw_node *n, struct hw_session *s);
void hw__snapshot_tick(struct hw_node *n);
/* Standby: a SNAPSHOT_BEGIN, _CHUNK or _END frame; 0 or the code to close with. */
int hw__snapshot_on_frame(struct hw_node *n, const struct hw_frame *f);
void hw__snapshot_conn_lost(struct hw_node *n);
/* Both: join the copy thread, remove temporary files, free. */
void hw__snapshot_stop(struct hw_node *n);
/* Before the store is opened (at start, after a snapshot's swap): a data directory that
 * is missing while <data_dir>.snapshot-tmp or a <data_dir>.replaced-* is beside it is
 * no new node's but one whose snapshot install a crash cut short between the two renames
 * of a swap without RENAME_EXCHANGE. The copy marked whole is moved in (0,
 * snapshot_install_finished); else HW_ESWAP_CUT, and data_dir_missing says what the
 * operator can do: no empty store is made, which would start without this node's
 * election state (its epoch and vote). 0 also when the data directory is there, or it
 * is missing with nothing beside it (a new node). */
int hw__snapshot_data_dir_check(const struct hw_node *n);
/* At start, once the store is open: remove the copies a crash left beside the data
 * directory, <data_dir>.snapshot-send (made for a standby) and <data_dir>.snapshot-tmp
 * (half received), which would take the room of the next one; a data directory found in
 * .snapshot-tmp (a crash during a swap) is set aside as <data_dir>.replaced-<ms>, never
 * deleted. Logged (snapshot_leftover_removed, snapshot_old_data_kept); one that cannot
 * be removed is logged with its code and left for the next snapshot. */
void hw__snapshot_clear_left(const struct hw_node *n);

#endif
