/* frame.h: framing of every byte stream hawser speaks (replication, client port).
 *
 * A frame is a 12-byte little-endian header and a body:
 *
 *   off len field
 *     0   2  magic 0x5748 ("HW" on the wire)
 *     2   1  version (1)
 *     3   1  type (enum hw_frame_type)
 *     4   4  body length (<= hw_frame_body_max(type))
 *     8   4  CRC32C (Castagnoli) of bytes 0..7 and the body
 *
 * The header is checked before any of the body is looked at, so a truncated, corrupted
 * or oversized frame is refused (HW_EFRAME) before protobuf-c or the entry decoder sees
 * a byte of it; a stream that fails once is not resynchronised: the connection closes.
 *
 * Raw bodies (little-endian):
 *   APPEND  epoch u64 | primary_durable u64 | count u32 | flags u32 | count log entries
 *           (replica/entry.h; each says its own length)
 *   SUBMIT  request_id u64 | mode u8 (0xff: node default) | k u8 (0: default) | 0 u16 |
 *           0 u32 | record bytes
 *   SNAPSHOT_CHUNK  raw bytes of the copy
 * Other bodies are protobuf messages of proto/wire.proto (named after the type). */
#ifndef HW_IO_FRAME_H
#define HW_IO_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser.h"
#include "hawser_error.h"
#include "hawser_limits.h"

struct hw_log_every;

#define HW_FRAME_HEADER_BYTES 12u
#define HW_FRAME_MAGIC        0x5748u
#define HW_FRAME_VERSION      1u
/* A frame holds an APPEND batch of up to 4 MiB: big enough to amortise the header and a
 * send per batch, small enough that one frame never stalls a connection for long. */
#define HW_FRAME_BYTES_MAX (4u * 1024u * 1024u)
_Static_assert(HW_FRAME_BYTES_MAX >= 24u + 96u + HW_RECORD_BYTES_MAX, "one entry fits a frame");
/* The body of every other type, the protobuf control messages (a Hello, an ack, a vote:
 * a few hundred bytes), is at most this: protobuf-c allocates for each unknown field it
 * keeps, and a 4 MiB Hello of 2-byte unknown fields took 178 MiB and 250 ms of the
 * node's loop to decode. Bulk types (hw_frame_body_max) may fill a frame. */
#define HW_FRAME_CONTROL_BYTES_MAX (16u * 1024u)

#define HW_APPEND_HEADER_BYTES 24u
#define HW_SUBMIT_HEADER_BYTES 16u
/* A SUBMIT carries one record: a header announcing more is refused (HW_EFRAME) before its
 * body is buffered. At 4 MiB, as the other raw bodies, a connection that announced one
 * and sent all but its last byte held some 5 MiB of the node's buffers, past its Hello or
 * before it: a thousand of them, 5 GiB. */
#define HW_SUBMIT_BODY_MAX     (HW_SUBMIT_HEADER_BYTES + HW_RECORD_BYTES_MAX)
/* The largest frame anyone sends to a node's or the witness's port: a SUBMIT and its
 * record, or a control message (their streams go the other way). What those ports'
 * channels open in one record (engine/config.h hw_config_channel): the client library
 * seals a frame a record, the nodes' rings 64 KiB at most. */
#define HW_PORT_FRAME_MAX (HW_FRAME_HEADER_BYTES + HW_SUBMIT_BODY_MAX)
_Static_assert(HW_SUBMIT_BODY_MAX >= HW_FRAME_CONTROL_BYTES_MAX, "a port takes every control");
#define HW_SUBMIT_MODE_DEFAULT 0xffu
/* The largest SUBMIT_REPLY frame (wire.proto SubmitReply): three varints (request_id,
 * code, lsn) and a flag, each with its tag, and a refusal's field and rule (struct
 * hw_reject) with their tags and lengths. What a node must have room for to answer a
 * submit it took (engine/node.c), and a client to take an outcome in (engine/client.c). */
#define HW_SUBMIT_REPLY_FRAME_MAX                                                                  \
	(HW_FRAME_HEADER_BYTES + 3u * 11u + 2u + 2u * 2u +                                         \
	 sizeof(((struct hw_reject *)0)->field) + sizeof(((struct hw_reject *)0)->rule))

enum hw_frame_type {
	HW_FRAME_HELLO = 1,
	HW_FRAME_APPEND = 2,
	HW_FRAME_ACK = 3,
	HW_FRAME_HEARTBEAT = 4,
	HW_FRAME_SNAPSHOT_BEGIN = 5,
	HW_FRAME_SNAPSHOT_CHUNK = 6,
	HW_FRAME_SNAPSHOT_END = 7,
	HW_FRAME_SUBMIT = 8,
	HW_FRAME_SUBMIT_REPLY = 9,
	HW_FRAME_STATUS_REQUEST = 10,
	HW_FRAME_STATUS = 11,
	HW_FRAME_ERROR = 12,
	/* election, between voters (wire.proto LeaseRequest ... TimeoutNow) */
	HW_FRAME_LEASE_REQUEST = 13,
	HW_FRAME_LEASE_ACK = 14,
	HW_FRAME_VOTE_REQUEST = 15,
	HW_FRAME_VOTE = 16,
	HW_FRAME_TIMEOUT_NOW = 17,
	HW_FRAME_REJOIN = 18, /* primary to a diverged standby (wire.proto Rejoin) */
	/* operator to the primary's client port (wire.proto SwitchoverRequest / Reply) */
	HW_FRAME_SWITCHOVER_REQUEST = 19,
	HW_FRAME_SWITCHOVER_REPLY = 20,
	/* operator to a standby's client port (wire.proto PromoteRequest / Reply) */
	HW_FRAME_PROMOTE_REQUEST = 21,
	HW_FRAME_PROMOTE_REPLY = 22,
	/* standby to the witness and back, between voters (wire.proto LossQuery, LossRange) */
	HW_FRAME_LOSS_QUERY = 23,
	HW_FRAME_LOSS_RANGE = 24,
	/* operator to a node's client port: an audit event (wire.proto OperatorEvent); the
	 * reply has an empty body (an ERROR frame when refused) */
	HW_FRAME_OPERATOR_EVENT = 25,
	HW_FRAME_OPERATOR_EVENT_REPLY = 26,
	/* drill to a node's client port: inject a fault on itself (wire.proto DrillFault:
	 * CRASH on any node, ISOLATE on a primary only); the reply has an empty body (an
	 * ERROR frame when refused) */
	HW_FRAME_DRILL_FAULT = 27,
	HW_FRAME_DRILL_FAULT_REPLY = 28,
	/* drill to any node's client port: its state digest at an LSN (wire.proto
	 * DigestQuery / DigestReply, engine/node_digest.c) */
	HW_FRAME_DIGEST_QUERY = 29,
	HW_FRAME_DIGEST_REPLY = 30,
	HW_FRAME_TYPE_MAX = 30,
};

/* CRC32C of buf[0..len), continuing from crc: pass 0 to start, or the value a previous
 * call returned to go on, so hw_crc32c(hw_crc32c(0, a, n), b, m) is the CRC of a then b.
 * The pre- and post-inversion happen inside. check: "123456789" gives 0xE3069283. Uses
 * the SSE4.2 crc32 instruction when the CPU has it, else slice-by-8 tables; both are set
 * up by a load-time constructor, so do not call it from another constructor. Any thread;
 * buf may be NULL when len is 0. */
uint32_t hw_crc32c(uint32_t crc, const void *buf, size_t len);

/* Internal, for tests: the two paths hw_crc32c chooses between. hw__crc32c_hw exists on
 * x86-64 only and may be called only when __builtin_cpu_supports("sse4.2"). */
uint32_t hw__crc32c_sw(uint32_t crc, const void *buf, size_t len);
#if defined(__x86_64__)
uint32_t hw__crc32c_hw(uint32_t crc, const void *buf, size_t len);
#endif

/* The largest body a frame of type t may carry: HW_FRAME_BYTES_MAX for APPEND,
 * SNAPSHOT_CHUNK (raw bodies) and STATUS (which the client decodes within a budget),
 * HW_SUBMIT_BODY_MAX for SUBMIT, HW_FRAME_CONTROL_BYTES_MAX for the rest. */
uint32_t hw_frame_body_max(enum hw_frame_type t);

/* Write a header for a body of len bytes at body into hdr (the body is not copied; the
 * CRC covers it). type must be a valid hw_frame_type and len <= hw_frame_body_max(type)
 * (asserted: the sender, not the wire, is at fault). body may be NULL when len is 0. */
void hw_frame_header(uint8_t hdr[HW_FRAME_HEADER_BYTES], enum hw_frame_type type,
		     const uint8_t *body, uint32_t len);

/* The same for a body in two pieces, a then b (a small header and the entries it
 * describes), without copying them together. */
void hw_frame_header2(uint8_t hdr[HW_FRAME_HEADER_BYTES], enum hw_frame_type type,
		      const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen);

struct hw_frame {
	enum hw_frame_type type;
	const uint8_t *body; /* points into the parsed buffer */
	uint32_t len;
};

/* Parse one frame at the start of buf[0..avail). Returns the frame's total length
 * (HW_FRAME_HEADER_BYTES + f->len) when a whole, valid frame is there, and fills f; 0
 * when more bytes are needed; HW_EFRAME (negative) when the bytes can never become a
 * valid frame (bad magic, version, type 0 or > HW_FRAME_TYPE_MAX, length over
 * HW_FRAME_BYTES_MAX, CRC mismatch), HW_ECHANNEL when they are the encrypted channel's
 * hello. Magic, version, type and length are checked as soon
 * as bytes 0..7 are in, so a bogus length is refused before its body is waited for. f is
 * untouched unless a frame is returned; bytes after the frame are not looked at. */
long hw_frame_parse(const uint8_t *buf, size_t avail, struct hw_frame *f);

/* The encrypted channel's hello (engine/io/channel.h) starts "HWCH": the frame magic and
 * this in place of the version. A plaintext side that reads it, and an encrypted side
 * that reads a frame where it waits for a hello, know the peer runs the other channel
 * (HW_ECHANNEL) rather than a broken one. */
#define HW_FRAME_CHANNEL_BYTE 'C'

/* True when buf[0..len) starts as a plaintext frame does (magic and version; at least 3
 * bytes). */
bool hw_frame_starts_plain(const uint8_t *buf, size_t len);

/* The protobuf varint of v at p (room for 10 bytes); returns its length. */
size_t hw_frame_varint_put(uint8_t *p, uint64_t v);

/* The ERROR frame (wire.proto Error: sint32 code = 1, string message = 2) of code and
 * message, written into buf[0..cap): what a node sends a peer of the other channel
 * before closing, in plaintext, since it has no session to send it in. The body is
 * encoded here, so the framing layer needs no protobuf; test_frame decodes it with
 * protobuf-c. Returns the frame's length; message must fit (asserted). */
size_t hw_frame_error_put(uint8_t *buf, size_t cap, int code, const char *message);

/* The body of the SUBMIT_REPLY frame of o (wire.proto SubmitReply: its request_id,
 * code, lsn, duplicate, and reject's field and rule, NUL-terminated within their arrays:
 * asserted), written into buf[0..cap), cap at least HW_SUBMIT_REPLY_FRAME_MAX -
 * HW_FRAME_HEADER_BYTES (asserted): the bytes protobuf-c's pack gives (test_frame
 * compares them), without its descriptor walks, for the one reply a node sends per
 * record. Returns its length. */
size_t hw_frame_submit_reply_body(uint8_t *buf, size_t cap, const struct hw_outcome *o);

/* The largest protobuf field number (2^29 - 1). */
#define HW_PB_FIELD_MAX 536870911u

/* A SUBMIT_REPLY body (wire.proto SubmitReply) into o, the inverse of
 * hw_frame_submit_reply_body for the client, which takes one per record: without
 * protobuf-c's descriptor walks and allocations. It reads what protobuf-c's unpack reads
 * as protobuf-c does (fields in any order, the last of a repeated one kept, unknown
 * fields of wire types 0, 1, 2 and 5 skipped; the strings cut at their first NUL and to
 * reject's arrays) and refuses at least what it refuses (a field cut short, a known field
 * with another wire type, field number 0, a key or a length of more than 5 bytes, a
 * varint of more than 10, wire types 3, 4, 6 and 7): test_frame compares the two.
 * o->reject.code is o->code. 0, or HW_EPROTOCOL (o then holds what came before the
 * fault: the caller drops it). */
int hw_frame_submit_reply_get(const uint8_t *body, size_t len, struct hw_outcome *o);

/* Where a connection's frames come from, as hw_frames_take's frame_refused line names it. */
struct hw_frames_from {
	const char *peer; /* hw_conn_peer(), or what the connection is ("primary") */
	const char *port; /* the port it was accepted on ("client"); NULL: this side dialled */
	struct hw_log_every *every; /* the port's count of such lines (what: "port=NAME"),
				     * its owner's to flush (hw_log_every_flush); NULL with
				     * port */
	int64_t now_ms;             /* loop time, for every */
	bool *refused;              /* NULL, or set true when a malformed frame was refused (its
				     * frame_refused written): the close's line, which the owner's
				     * on_close need not repeat */
};

/* A connection's on_data over frames: hand the whole frames at the front of buf[0..len)
 * to on_frame, in order. on_frame returns 0 (taken, go on), 1 (not taken: it paused the
 * connection, and the frame comes again when reading resumes) or a negative code (stop:
 * the connection closes). Returns the bytes taken (a partial frame at the end waits for
 * more), on_frame's negative code, or a malformed frame's, logged as frame_refused:
 * "peer=PEER code=CODE" of a connection this side dialled, each in full; "peer=PEER
 * port=PORT code=CODE" of one accepted on a port, through from->every (base/log.h
 * hw_log_every) HW_FLOOD_LOG_LINES times per HW_FLOOD_LOG_MS in full, then counted ("peer=*
 * port=PORT more=N in_ms=MS"), since a peer that sends garbage (a port scanner's probe)
 * and is closed can connect again at once, and the next, and flood the log. */
long hw_frames_take(const uint8_t *buf, size_t len, const struct hw_frames_from *from,
		    int (*on_frame)(void *arg, const struct hw_frame *f), void *arg);

/* Raw body layouts. */
struct hw_append_hdr {
	uint64_t epoch;
	uint64_t primary_durable;
	uint32_t count;
	uint32_t flags; /* HW_APPEND_* */
};
/* The entries need no ack on arrival: the standby's ack after its flush will do (no
 * submit waits in mode received for them). Without it a standby acks at once, as
 * standbys did before the flag existed (the word was reserved zero), so a primary
 * without it still works with a newer standby; an older standby refuses the flag
 * (HW_EFRAME): upgrade standbys first. */
#define HW_APPEND_NO_RECEIPT 1u
#define HW_APPEND_FLAGS      HW_APPEND_NO_RECEIPT /* every flag a reader knows */
void hw_append_hdr_put(uint8_t *p, const struct hw_append_hdr *h);
/* put writes HW_APPEND_HEADER_BYTES at p. get reads them: 0, or HW_EFRAME if len <
 * HW_APPEND_HEADER_BYTES or flags holds a bit outside HW_APPEND_FLAGS. */
int hw_append_hdr_get(const uint8_t *p, size_t len, struct hw_append_hdr *h);

struct hw_submit_hdr {
	uint64_t request_id;
	uint8_t mode; /* enum hw_mode, or HW_SUBMIT_MODE_DEFAULT */
	uint8_t k;    /* 0: the node's default */
};
/* As for APPEND, with HW_SUBMIT_HEADER_BYTES; both reserved fields must be zero. mode and
 * k are not range-checked here: the receiver of the request does that. */
void hw_submit_hdr_put(uint8_t *p, const struct hw_submit_hdr *h);
int hw_submit_hdr_get(const uint8_t *p, size_t len, struct hw_submit_hdr *h);

#endif
