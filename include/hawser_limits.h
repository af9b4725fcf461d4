/* hawser_limits.h: every bound hawser enforces, in one place, each with its reason
 * (STYLE.md 7). Changing one is a format or protocol decision: read the comment first. */
#ifndef HAWSER_LIMITS_H
#define HAWSER_LIMITS_H

/* Largest encoded TOS record. tos-domain.md §7: 1% of records are 2-16 KiB (EDI
 * summaries, audit details); nothing real comes near 64 KiB, so larger is an error. */
#define HW_RECORD_BYTES_MAX (64u * 1024u)

/* record_id is a 16-byte UUID (v7 recommended); shorter ids collide, longer waste. */
#define HW_RECORD_ID_BYTES 16u

/* Hash chain and digests: BLAKE2b-256 (libsodium crypto_generichash). */
#define HW_HASH_BYTES 32u

/* Records per append batch (one LMDB write transaction). Bounds the transaction's dirty
 * pages far below MDB_TXN_FULL and the memory a batch pins: 4096 x 64 KiB = 256 MiB worst
 * case, about 1 MiB at typical 250-byte records. */
#define HW_BATCH_RECORDS_MAX 4096u

/* Bytes of records per append batch, whatever their count (worst case above). */
#define HW_BATCH_BYTES_MAX (16u * 1024u * 1024u)

/* Text fields: EDIFACT an..35 references; longer free text is capped at 512 bytes, and
 * repeated fields at 64 elements, so one record cannot hide a payload in a list. */
#define HW_REF_CHARS_MAX 35u
#define HW_TEXT_BYTES_MAX 512u
#define HW_REPEATED_MAX 64u

/* Generic key/value: LMDB keys are limited to 511 bytes; the tenant prefix needs room. */
#define HW_KV_KEY_BYTES_MAX 256u
#define HW_KV_VALUE_BYTES_MAX (32u * 1024u)

/* Clock skew a record's event time may run ahead of the store's clock (rule 23). */
#define HW_TIME_SKEW_MS (5 * 60 * 1000)

/* Earliest plausible event time: 2001-01-01T00:00:00Z. Sentinels such as 1970-01-01 and
 * 2000-01-01 are refused (rule 24). */
#define HW_TIME_MIN_MS 978307200000LL

/* Weights (rule 11-12): 45 t is physically implausible for any ISO box. */
#define HW_GROSS_KG_MAX 45000u
#define HW_TARE_KG_MAX 12000u

/* Yard geometry: bays on the 20' grid, rows across, tiers up. */
#define HW_YARD_BAY_MAX 99u
#define HW_YARD_ROW_MAX 20u
#define HW_YARD_TIER_MAX 7u

/* Submits a client may have without an outcome (hw_client_submit: HW_EBUSY past it): its
 * buffer holds all their outcomes (engine/client.c ties it), so it always reads, and a
 * client that follows the primary keeps copies of them to resend to a new one, each at
 * most one record. A pipelined TOS keeps far fewer outstanding. */
#define HW_CLIENT_INFLIGHT_MAX 4096u

/* Bytes of records an embedding process's submits may hold in the node's queue, not yet
 * taken by its loop (hw_node_submit: HW_EBUSY past it). Two append batches
 * (HW_BATCH_BYTES_MAX) keep the writer fed; the count bound alone (waiters_max, 65536 by
 * default) let a TOS process grow by GiBs of 32-64 KiB records while a standby was down. */
#define HW_EMBED_QUEUE_BYTES_MAX (2u * HW_BATCH_BYTES_MAX)

/* Connections a witness holds at once: one per other voter, plus reconnects racing the
 * old ones; a connection past them displaces one that has not said its Hello
 * (engine/port.h hw_port_evict), else it is refused (HW_EBUSY) and closed. */
#define HW_WITNESS_SESSIONS_MAX 32u

/* A connection a node or the witness accepted must say its Hello this soon after its
 * accept: a client or a node sends it as soon as its connection, or channel, is open.
 * One that has not is closed (session_closed ... reason=no_hello), else a peer that
 * connects and says nothing, or half a frame, holds one of the port's sessions for as
 * long as it likes: with no channel (insecure) anyone can, with one any pinned key (a
 * client's) can, and a port's worth of them keep every standby and voter out. A channel
 * still in its handshake is left to the ring, which cuts it at 5 s, 1 s at three quarters
 * full (engine/io/ring.h: channel_refused ... ETIMEDOUT); these are twice that, so a
 * peer whose handshake took all its time has as long again for its Hello, and a flood
 * holds each session about two seconds, less when a newer connection displaces it from
 * a full port (engine/port.h hw_port_evict). HW_HELLO_BUSY_MS once the port's sessions are
 * three quarters of what it may hold. */
#define HW_HELLO_WAIT_MS 10000
#define HW_HELLO_BUSY_MS 2000
/* A client session that has not said its Hello this long after its accept may be
 * displaced from a full client port by a newer connection from its own host (engine/port.h
 * hw_port_evict, when no other host holds more such sessions); a younger one is not: a
 * real client's handshake and Hello take milliseconds. */
#define HW_EVICT_AGE_MS 500

/* A node or the witness logs a line that a flood of connections would repeat once per
 * connection (a handshake cut or timed out; a session lost before its Hello, evicted, or
 * closed for a late one, these three per port) at most HW_FLOOD_LOG_LINES times in full per
 * HW_FLOOD_LOG_MS, then one line with the count of the rest (base/log.h hw_log_every):
 * 5,000 probes wrote 10,000 lines. Ten keep each of the few refusals an operator's mistake
 * makes at once (a node with the wrong key redialing, a client of another cluster) on a
 * line of its own. */
#define HW_FLOOD_LOG_MS    1000
#define HW_FLOOD_LOG_LINES 10u

/* LMDB map: reserve address space up front (it costs no memory or disk, lmdb.h) and grow
 * by doubling when it fills; the ceiling keeps a runaway from eating the address space. */
#define HW_MAP_BYTES_INITIAL (1ull << 30)
#define HW_MAP_BYTES_MAX (1ull << 40)

/* A store with a log in front holds batches in one write transaction until it has this
 * many entries, or this many bytes of them (kept to take them again after a failed
 * batch), at most (replica/store.h hw_store_held_full). */
#define HW_STORE_HELD_ENTRIES 16384u
#define HW_STORE_HELD_BYTES (32u << 20)

/* A node's address as a config and a client's list give it: HOST:PORT or unix:/path; a
 * DNS name is at most 253 characters, a sun_path 107, so 128 fits every real one. */
#define HW_ADDR_CHARS_MAX 128u
/* The longest node or cluster id (letters, digits, '-', '_'; base/names.c). */
#define HW_ID_CHARS_MAX 32

#endif
