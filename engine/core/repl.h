/* repl.h: the replication protocol as a pure state machine (sans-IO, DESIGN.md).
 *
 * The primary side tracks what each standby has received, made durable and applied,
 * decides what to send to whom within a bounded window, and releases each waiting
 * submit when the rule its durability mode names holds. The standby side tracks what it
 * has received and made durable and decides when to acknowledge. Neither does I/O,
 * reads a clock or allocates: events carry the time, the driver hands in every array,
 * and decisions come back as actions the driver (engine/node.c, or the simulator in
 * chaos/) carries out in the order given.
 *
 * Events in:  submit (a record got an LSN), appended, local durable, ack from a peer,
 *             peer connected / gone, timer tick; on the standby: entries, durable,
 *             heartbeat, connected, tick.
 * Actions out: send entries [from, to] to a peer, send an ack or heartbeat, release
 *             waiters, write received entries, drop a peer.
 *
 * Threading: a struct hw_primary or hw_standby belongs to one thread (the node's loop);
 * nothing here blocks, locks or keeps a pointer into an event's arguments.
 *
 * Positions are LSNs; LSN 0 means "nothing", the first entry is LSN 1. Every message
 * carries the sender's epoch, so failover (a later issue) can fence an old primary by
 * epoch alone; this module only carries the epoch for the driver.
 *
 * Action overflow: every event takes a struct hw_acts with room for cap actions and never
 * writes past it. What did not fit is not lost: sends are derived again from sent and
 * the acked positions, releases from scanning the waiters, WRITE from writing_to, an ACK
 * from ack_due and a DROP from drop_code, so the next event (any of them, and at the
 * latest the next tick) emits it. A cap of HW_ACTS_MIN never overflows on one event. */
#ifndef HW_CORE_REPL_H
#define HW_CORE_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Standbys one primary streams to. Every per-peer loop is bounded by it. */
#define HW_PEERS_MAX 8u

/* What a submit waits for before it returns (DESIGN.md "Durability modes"). */
enum hw_mode {
	HW_MODE_LOCAL = 0,    /* the primary's commit is durable */
	HW_MODE_RECEIVED = 1, /* ... and k standbys hold it in memory */
	HW_MODE_DURABLE = 2,  /* ... and k standbys have it durable */
	HW_MODE_APPLIED = 3,  /* ... and k standbys have applied it (reads there see it) */
};
#define HW_MODES 4

/* Name of a mode ("local", "received", "durable", "applied"); "?" for a value out of
 * range. The string is static. */
const char *hw_mode_name(enum hw_mode m);

/* The mode named name (exact, lower case), or -1 if there is none. name may be NULL. */
int hw_mode_parse(const char *name);

/* Cumulative positions a standby reports (PostgreSQL's write/flush/replay): the last LSN
 * it holds in memory, has durable, has applied. Always applied <= durable <= received. */
struct hw_pos {
	uint64_t received;
	uint64_t durable;
	uint64_t applied;
};

enum hw_act_type {
	HW_ACT_SEND,      /* primary: send entries [from, to] to peer (split into frames as
			   * the driver likes; lsn = primary's durable LSN to piggyback;
			   * receipt: ask the peer to ack their arrival at once) */
	HW_ACT_HEARTBEAT, /* primary: send a heartbeat to peer; lsn = primary's durable LSN */
	HW_ACT_RELEASE,   /* primary: the submit token waited for lsn: return code to it
			   * (0: its rule holds; else the code of hw_primary_fail_all) */
	HW_ACT_WRITE,     /* standby: make entries [from, to] durable (they are queued) */
	HW_ACT_ACK,       /* standby: send an ack carrying pos to the primary */
	HW_ACT_DROP,      /* either: close peer's connection; code says why. The primary's
			   * driver then calls hw_primary_on_disconnect (harmless: the core
			   * already counts the peer as gone) */
};

/* One action; the fields its type does not name are zero. */
struct hw_act {
	enum hw_act_type type;
	uint32_t peer;     /* SEND, HEARTBEAT, DROP on the primary; 0 on the standby */
	int code;          /* RELEASE, DROP */
	uint64_t from;     /* SEND, WRITE */
	uint64_t to;       /* SEND, WRITE */
	uint64_t token;    /* RELEASE */
	uint64_t lsn;      /* RELEASE: the waiter's; SEND, HEARTBEAT: primary's durable */
	struct hw_pos pos; /* ACK */
	bool receipt;      /* SEND: a waiter in RECEIVED mode may wait for these entries, or
			    * the peer's window is half used. Otherwise its durable ack will
			    * do, and an ack per frame would only cost both nodes a wake-up */
};

/* Actions produced by one event, appended at v[n] while n < cap. The driver owns the
 * array, sets n = 0 before an event (or not: the core only appends) and carries them out
 * in order before the next event. */
struct hw_acts {
	struct hw_act *v;
	size_t n;
	size_t cap;
};

/* ---------------------------------------------------------------- primary */

struct hw_repl_config {
	uint32_t standbys;       /* n: standbys named in the config (0..HW_PEERS_MAX); their
				  * peer ids are 0..n-1 */
	uint32_t vaults;         /* of those, the last this many are vault replicas: streamed
				  * to like the others, never counted for k (<= standbys) */
	uint64_t window_records; /* entries sent to a standby and not yet acked as received
				  * (>= 1): bounds the standby's queue and the sender's
				  * in-flight data. Bytes are the driver's affair: it packs a
				  * SEND into frames and a frame never exceeds its buffer */
	uint32_t waiters_max;    /* submits waiting at once (>= 1); more is back-pressure */
	int64_t heartbeat_ms;    /* idle interval after which a heartbeat goes out */
	int64_t peer_timeout_ms; /* no complete frame (ack) from a peer this long: it is
				  * dropped (silent, or stuck mid-frame) */
	uint32_t k_min;          /* a submit in a mode other than local waits for at least
				  * this many standbys, whatever k it asks for: a failover's
				  * majorities then hold it (hw_el_k_min; 0: none) */
	/* The targets' back-pressure (DESIGN.md "Targets, not knobs"); 0 turns each off. */
	int64_t max_ahead_ms;   /* RPO t: the lead rule below (struct hw_ahead), > 0 */
	uint32_t ahead_k;       /* standbys (never a vault) a record must be durable on to
				 * stop counting for it: 1 .. standbys - vaults when max_ahead_ms
				 * is set */
	uint64_t replay_budget; /* records: admission closes while the standby a failover
				 * would promote holds this many received and not applied
				 * (hw_primary_admits) */
};

/* A submit waiting for its rule. */
struct hw_waiter {
	uint64_t token; /* the driver's handle for the submit */
	uint64_t lsn;   /* its last LSN */
	uint64_t acks;  /* the LSN its success tells a client of (<= lsn; 0: none): the RPO
			 * t rule's business (struct hw_ahead) */
	uint8_t mode;   /* enum hw_mode */
	uint8_t k;      /* standbys that must have reached mode */
	bool released;  /* released out of order; popped when it reaches the head */
};

struct hw_peer {
	bool connected;
	int drop_code;      /* != 0: a DROP with this code is owed to the driver */
	uint64_t sent;      /* last LSN handed to the connection */
	struct hw_pos pos;  /* last acked positions (kept across disconnects) */
	int64_t last_rx_ms; /* when it was last heard */
	int64_t last_tx_ms; /* when something was last sent */
};

/* Waiters held for lack of standbys: the primary's commit is durable, the rule does not
 * hold, and fewer than k standbys either hold the entry in the mode's position or are
 * connected to reach it, so no ack can release it until a standby (re)connects. A waiter
 * that only waits for a connected standby to catch up is not held. */
struct hw_hold {
	uint32_t waiters;   /* held now; 0: none (lsn, mode and k are then 0) */
	uint32_t connected; /* standbys connected (never a vault), < k while held */
	uint64_t lsn;       /* the oldest held waiter's */
	uint8_t mode;       /* its enum hw_mode */
	uint8_t k;          /* its k, k_min applied */
};

/* The RPO t rule ("lead"): a waiter whose own rule holds is released only while the
 * oldest acknowledged record that is not durable on ahead_k standbys was acknowledged at
 * most max_ahead_ms ago (how far commits run ahead); else it is held until standbys
 * catch up. Every mode: a failover loses at most the acknowledgements of the last
 * max_ahead_ms before the last one, so none may follow while older ones are at risk.
 * That holds a waiter below the records at risk too (one in mode durable or applied
 * that its own rule lets go out of order, or a duplicate of an acknowledged record): its
 * record would survive the failover, but its acknowledgement would be a newer one than
 * theirs, and the loss is measured back from the newest acknowledgement (chaos seed
 * 671325003974). Only a waiter that tells no client of a record (the node's own, acks
 * 0) is never held. "Acknowledged" is the highest acks released with success (acked):
 * every record up to it counts, from the time it first was.
 *
 * The ack times live in a ring of spans, each (last LSN, time): the records after the
 * previous span's LSN up to its own were acknowledged at its time or later. Spans cover
 * (base, acked]; records at or below base count as acknowledged at t0_ms, which is
 * max_ahead_ms + 1 before the first event this primary saw: what the store held at init
 * was acknowledged, if at all, by an earlier primary at a time this one cannot know, so
 * it is past the limit from the start, and nothing is released until ahead_k standbys
 * hold it (else a failover that lacked it would lose acknowledgements older than t
 * before this primary's last); so is a span trimmed away before a standby came back
 * with less. Memory is fixed, and every approximation keeps the older time, so the
 * rule can only hold earlier, never later:
 *   - an ack within gap_ms of the newest span joins it (gap_ms = max_ahead_ms /
 *     (HW_AHEAD_SPANS / 2), at least 1 ms: the rule holds at most that much early, and
 *     the ring spans twice max_ahead_ms before it fills, by when the rule holds anyway);
 *   - with the ring full the two oldest spans merge, keeping the older time;
 *   - spans at or below what every standby (never a vault) holds durable are trimmed.
 * Only reached through repl.c; kept here so that tests and status may look. */
#define HW_AHEAD_SPANS 64u

struct hw_ahead_span {
	uint64_t lsn;
	int64_t at_ms;
};

struct hw_ahead {
	struct hw_ahead_span span[HW_AHEAD_SPANS]; /* ring: LSNs and times ascending */
	uint32_t head, count;
	uint64_t base;  /* spans cover (base, acked] */
	uint64_t acked; /* highest LSN released with success (the init head at first) */
	int64_t gap_ms; /* a new span at most this often */
	int64_t t0_ms;  /* the first event's time - max_ahead_ms - 1; valid once t0_set */
	bool t0_set;
	int64_t oldest_ms; /* ack time of the oldest acknowledged record not durable on
			    * ahead_k standbys after the last event; INT64_MAX: none */
	uint32_t held;     /* waiters the rule held at the last event that releases */
	uint64_t held_lsn; /* the oldest one's; 0 when none */
};

/* The replay throttle: admission (hw_primary_admits) closes when the best connected
 * standby (the most durable, then the most applied: whom the witness would favour) holds
 * replay_budget or more records received and not applied (a promoted standby's writer
 * applies everything it was handed: received, not only durable), and opens again once
 * that falls below replay_budget - replay_budget / HW_REPLAY_RESUME_DIV (hysteresis: not
 * a flip per ack). No standby connected: open (none to promote, none to predict). */
#define HW_REPLAY_RESUME_DIV 8u

struct hw_replay {
	bool closed;
	int peer;         /* the standby judged at the last event; -1: none connected */
	uint64_t backlog; /* its received - applied then */
};

struct hw_primary {
	struct hw_repl_config cfg;
	uint64_t epoch;
	uint64_t last_lsn;      /* last LSN appended (prepared) */
	uint64_t local_durable; /* last LSN durable on the primary; <= last_lsn */
	struct hw_peer peers[HW_PEERS_MAX];
	struct hw_waiter *waiters; /* ring of cfg.waiters_max, LSNs non-decreasing */
	uint32_t w_head;
	uint32_t w_count;
	uint64_t receipt_wanted; /* newest LSN a waiter in RECEIVED mode waits for */
	uint64_t vault_limit;    /* vaults are sent nothing past it (hw_primary_set_vault_limit) */
	struct hw_hold hold;     /* as the last event that releases found it (every one but
				  * on_disconnect and set_vault_limit: the next tick sees those);
				  * fail_all clears it (what it fails waits for no standby) */
	struct hw_ahead ahead;   /* the RPO t rule (cfg.max_ahead_ms > 0), as of the last event */
	struct hw_replay replay; /* the replay throttle (cfg.replay_budget > 0), likewise */
};

/* A cap that no single event overflows: a release per waiter plus a drop, a send and a
 * heartbeat per peer. The standby needs at most 3 (DROP, WRITE, ACK). */
#define HW_ACTS_MIN(waiters_max) ((size_t)(waiters_max) + 3u * HW_PEERS_MAX)

/* Set p up as primary of epoch. cfg is copied; waiters is the caller's array of
 * cfg->waiters_max entries, used for p's lifetime (the core allocates nothing).
 * last_lsn is the store's head at start, durable by definition. No peer is connected.
 * Asserts the config's bounds above. */
void hw_primary_init(struct hw_primary *p, const struct hw_repl_config *cfg, uint64_t epoch,
		     uint64_t last_lsn, struct hw_waiter *waiters);

/* Send vaults nothing past lsn (no limit after init). A vault never rewrites its log, so
 * it must not hold entries a failover may discard: with failover the driver keeps this at
 * what every possible new primary holds (the LSN it has acknowledged, or past it what
 * every connected standby has made durable). It may fall, when a standby goes: what was
 * sent stays sent, and nothing more past lsn goes. */
void hw_primary_set_vault_limit(struct hw_primary *p, uint64_t lsn);

/* Room for more waiters? The driver counts the submits it took that are not waiters yet
 * (queued for its store) and stops taking submits while there is no room for them and one
 * more (back-pressure) until a release frees a slot. */
bool hw_primary_can_wait(const struct hw_primary *p, uint32_t more);

/* May the driver take a new submit, as far as the replay throttle goes (struct
 * hw_replay; always true with cfg.replay_budget 0)? When it is false the driver stops
 * taking submits, as for want of room, and takes them again after an event that made it
 * true: every event re-judges it. */
bool hw_primary_admits(const struct hw_primary *p);

/* How far commits run ahead at now_ms (the RPO t rule's measure): how long ago the
 * oldest acknowledged record that is not durable on cfg.ahead_k standbys was
 * acknowledged (at most: see struct hw_ahead), as of the last event; 0 when there is
 * none or the rule is off. The driver may refuse new submits while it is past
 * cfg.max_ahead_ms rather than let them wait ([failover] rpo_action = fail). */
int64_t hw_primary_ahead_ms(const struct hw_primary *p, int64_t now_ms);

/* How long ago, at now_ms, the oldest acknowledged record above lsn was acknowledged (at
 * most, as above): what a standby durable through lsn would lose in a failover, in time.
 * 0 when lsn holds every acknowledged record. For status (not the hot path: it scans
 * the ring). */
int64_t hw_primary_acked_age_ms(const struct hw_primary *p, uint64_t lsn, int64_t now_ms);

/* Could a submit in mode with k ever be released? LOCAL: always (k is ignored). Other
 * modes: k <= cfg.standbys - cfg.vaults. The core lets an impossible waiter wait forever (until
 * fail_all); the driver calls this first and refuses such a submit with HW_ECONFIG. */
bool hw_primary_k_possible(const struct hw_primary *p, enum hw_mode mode, uint32_t k);

/* Entries up to last_lsn exist in the primary's log (prepared; maybe not yet durable
 * locally): send what each connected peer's window allows. last_lsn never decreases.
 * The driver chooses the send point by when it calls this (engineering-notes 4.4): at
 * prepare, so the local fsync and the network overlap, or after the local commit. */
void hw_primary_on_append(struct hw_primary *p, uint64_t last_lsn, int64_t now_ms,
			  struct hw_acts *out);

/* A submit (token) got lsn at now_ms and waits for mode from k standbys. Requires
 * hw_primary_can_wait(p, 1) and lsn >= every waiting LSN (LSNs are given out in order).
 * acks (<= lsn) is the record its success tells a client of: lsn itself for a new
 * record; a duplicate's first LSN when it waits for a later lsn to keep the order; 0
 * for the node's own record, which tells no client anything. The RPO t rule holds every
 * waiter but those with acks 0 (struct hw_ahead). Releases at once if
 * the rule already holds (e.g. LOCAL and lsn already durable). An impossible k waits
 * forever: see hw_primary_k_possible(). May come before the hw_primary_on_append()
 * that covers lsn, and should: a RECEIVED waiter registered first makes the SEND of
 * its entry ask for a receipt (else its peers' durable acks release it, later). */
void hw_primary_on_submit(struct hw_primary *p, uint64_t token, uint64_t lsn, uint64_t acks,
			  enum hw_mode mode, uint32_t k, int64_t now_ms, struct hw_acts *out);

/* The local commit up to lsn is durable at now_ms (lsn <= last_lsn; a lower value than
 * before is ignored). Releases the waiters whose rule now holds. */
void hw_primary_on_durable(struct hw_primary *p, uint64_t lsn, int64_t now_ms, struct hw_acts *out);

/* Standby peer (< cfg.standbys) connected; the driver has checked that its chain
 * matches ours up to its_lsn, everything it holds durable. Its positions and sent become
 * its_lsn (lower than an earlier ack if it lost data: the truth wins for later waiters),
 * any owed drop of the old connection is forgotten, then entries are sent and waiters
 * released. its_lsn > last_lsn is a protocol error: DROP HW_EPROTOCOL, not connected. */
void hw_primary_on_connect(struct hw_primary *p, uint32_t peer, uint64_t its_lsn, int64_t now_ms,
			   struct hw_acts *out);

/* Standby peer acknowledged pos. Each position only moves forward: a lower value (a
 * reordered or stale ack) is ignored, so no ack undoes a release. An ack with received >
 * sent, or not applied <= durable <= received, is a protocol error: DROP HW_EPROTOCOL
 * and the peer counts as gone. An ack from a peer not connected is ignored. Otherwise
 * releases waiters and sends into the window the ack opened. */
void hw_primary_on_ack(struct hw_primary *p, uint32_t peer, const struct hw_pos *pos,
		       int64_t now_ms, struct hw_acts *out);

/* The connection to peer is gone. Its positions stay (a durable ack remains true; a
 * received ack was true when given, which is all RECEIVED promises) but sent falls back
 * to pos.durable, so a reconnect resends. Idempotent. */
void hw_primary_on_disconnect(struct hw_primary *p, uint32_t peer);

/* Time passed. A connected peer that sent no complete frame for more than
 * peer_timeout_ms is dropped (DROP HW_ESILENT); one we sent nothing to for heartbeat_ms
 * or more gets a HEARTBEAT. Also emits whatever an earlier event could not fit (sends,
 * releases, drops). */
void hw_primary_on_tick(struct hw_primary *p, int64_t now_ms, struct hw_acts *out);

/* Release every waiter with code (shutdown, storage failure, loss of primacy). Waiters
 * that do not fit in out stay and are failed by the next call. */
void hw_primary_fail_all(struct hw_primary *p, int code, struct hw_acts *out);

/* ---------------------------------------------------------------- standby */

struct hw_standby {
	uint64_t epoch;
	struct hw_pos pos;        /* received >= durable >= applied: received = handed to the
				   * log, durable = flushed in the log, applied = in the store
				   * (reads see it) and flushed in the log */
	uint64_t stored;          /* last LSN the store applied (may run ahead of durable) */
	uint64_t writing_to;      /* last LSN handed to the writer; durable <= it <= received */
	uint64_t primary_durable; /* primary's durable LSN, the most any message said */
	bool primary_heard;       /* a message gave primary_durable since init (or the
				   * driver set it from what it kept: node_rejoin.c): what a
				   * restarted primary's head must reach for a crash that lost
				   * nothing it had acknowledged (docs/failover.md) */
	bool connected;
	bool ack_due;  /* positions moved or a reply was asked: ACK owed */
	int drop_code; /* != 0: a DROP with this code is owed to the driver */
	int64_t last_rx_ms;
	int64_t last_ack_ms;
	int64_t ack_interval_ms; /* ack at least this often when idle (< the primary's
				  * peer_timeout_ms, or it drops us) */
	int64_t timeout_ms;      /* no complete frame (entries or heartbeat) from the primary
				  * this long: drop and reconnect. A stream that keeps its TCP
				  * connection after losing bytes mid-frame looks like this, so
				  * the driver derives it from the heartbeat interval */
};

/* Set s up as standby in epoch with everything up to durable_lsn durable (and applied)
 * in its store. Not connected. */
void hw_standby_init(struct hw_standby *s, uint64_t epoch, uint64_t durable_lsn,
		     int64_t ack_interval_ms, int64_t timeout_ms);

/* Entries [first, last] (first <= last) arrived from the primary and the driver queued
 * them. first must be received + 1, else DROP HW_ELSN (HW_EPROTOCOL if last < first) and
 * nothing else changes: the standby resumes from its durable position on reconnect.
 * Otherwise received = last, WRITE [first, last], and an ACK at once when the primary
 * asked for a receipt (its SEND's receipt: a submit in RECEIVED mode waits, or its window
 * fills); else the ACK after the flush (hw_standby_on_durable) carries received. A
 * dropped standby counts as not connected at once. Ignored when not connected (frames
 * of a dropped connection still being parsed). */
void hw_standby_on_entries(struct hw_standby *s, uint64_t first, uint64_t last,
			   uint64_t primary_durable, bool receipt, int64_t now_ms,
			   struct hw_acts *out);

/* The log flushed everything up to lsn (<= writing_to): durable = lsn, then ACK (when
 * connected). A lower value than before is ignored. */
void hw_standby_on_durable(struct hw_standby *s, uint64_t lsn, int64_t now_ms, struct hw_acts *out);

/* The store applied everything up to lsn (<= writing_to). applied becomes min(lsn,
 * durable): an entry counts as applied once it is both readable and flushed. ACK when it
 * moved. A lower value than before is ignored. */
void hw_standby_on_applied(struct hw_standby *s, uint64_t lsn, int64_t now_ms, struct hw_acts *out);

/* A heartbeat from the primary: records primary_durable; ACKs when reply_requested or
 * the last ack is ack_interval_ms old. Ignored when not connected. */
void hw_standby_on_heartbeat(struct hw_standby *s, uint64_t primary_durable, bool reply_requested,
			     int64_t now_ms, struct hw_acts *out);

/* Another whole frame from the primary (a snapshot's): the stream is not silent. A
 * snapshot's chunks can fill a slow link for seconds, and its heartbeats wait behind
 * them. Ignored when not connected. */
void hw_standby_on_heard(struct hw_standby *s, int64_t now_ms);

/* The connection to the primary is gone (closed by the peer, or after our own DROP:
 * then this is harmless). Entries queued but not yet handed to the writer (received >
 * writing_to) are dead: no WRITE is emitted for them while not connected, and the driver
 * may discard them. Positions stay until hw_standby_on_connect. Idempotent. */
void hw_standby_on_disconnect(struct hw_standby *s);

/* (Re)connected to the primary. The driver has waited for the writer to finish what it
 * was handed (pos.durable == writing_to, asserted: else the primary's resend from
 * durable + 1 would overlap entries still being written) and tells the primary
 * pos.durable in its hello: received falls back to durable (the queue is gone) and the
 * primary resends from durable + 1. The driver also waits until its store has applied
 * everything durable (stored == durable) before the hello, because the primary takes the
 * hello's LSN as received, durable and applied at once (hw_primary_on_connect). */
void hw_standby_on_connect(struct hw_standby *s, int64_t now_ms);

/* Time passed. No complete frame from the primary for more than timeout_ms: DROP
 * HW_ESILENT (the stream is silent, or stuck mid-frame), not connected.
 * Otherwise an ACK if the last is ack_interval_ms old. Also emits what an earlier event
 * could not fit. */
void hw_standby_on_tick(struct hw_standby *s, int64_t now_ms, struct hw_acts *out);

#endif
