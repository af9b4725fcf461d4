/* fake_wire.h: what the tests' fake nodes write on a client connection, and the port they
 * listen on: the frames of engine/io/frame.h as a node sends them (HELLO, HEARTBEAT,
 * SUBMIT_REPLY, ERROR), on plain blocking loopback sockets. For tests that drive the
 * client library (engine/client.c) against a node that misbehaves on purpose.
 *
 * The writers run on a fake node's own thread, where a cmocka assert cannot jump: they
 * assert nothing, and one whose peer is gone reports it (false) or writes nothing. */
#ifndef HW_TESTS_FAKE_WIRE_H
#define HW_TESTS_FAKE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/io/frame.h"
#include "wire.pb-c.h"

/* The largest SUBMIT_REPLY frame hw_fake_reply_frame() writes. */
#define HW_FAKE_REPLY_BYTES_MAX (HW_FRAME_HEADER_BYTES + 256u)

/* A TCP socket bound to a free port on loopback, not yet listening (a dial to it is
 * refused until it listens): its fd, *port set; or -errno. */
int hw_fake_bind(uint16_t *port);

/* A Unix stream socket listening at path (a file left there is removed first), with
 * room for backlog connections not yet accepted: its fd, or -errno (-ENAMETOOLONG for a
 * path longer than a socket address holds). A client's send buffer alone bounds what
 * the stream between holds (no receive window), so it is full after a few hundred KiB:
 * a fake that reads nothing soon holds a writing client up. */
int hw_fake_listen_unix(const char *path, int backlog);

/* What a fake node has read from a client and not taken as frames yet: buf holds
 * HW_FAKE_STREAM_BYTES, two of the largest frames a client sends. */
#define HW_FAKE_STREAM_BYTES                                                                       \
	(2u * (HW_FRAME_HEADER_BYTES + HW_SUBMIT_HEADER_BYTES + HW_RECORD_BYTES_MAX))
struct hw_fake_stream {
	int fd;
	uint8_t *buf;
	size_t at, have;
};

/* The client's next frame (its body points into s->buf until the next call), reading
 * (blocking) as it needs: false once the client is gone or sent a damaged frame. */
bool hw_fake_next_frame(struct hw_fake_stream *s, struct hw_frame *f);

/* Write one frame whole (blocking). False when the client is gone. */
bool hw_fake_send_frame(int fd, enum hw_frame_type type, const uint8_t *body, uint32_t len);

/* A node's HELLO in role, promising a HEARTBEAT every heartbeat_ms (0: none). */
void hw_fake_send_hello(int fd, Hawser__Wire__V1__Role role, uint32_t heartbeat_ms);

/* An ERROR frame with code and its hw_strerror() text. */
void hw_fake_send_error(int fd, int code);

/* The largest frame hw_fake_heartbeat_frame() writes. */
#define HW_FAKE_HEARTBEAT_BYTES_MAX (HW_FRAME_HEADER_BYTES + 16u)

/* Put a HEARTBEAT frame into out[0..cap) (cap >= HW_FAKE_HEARTBEAT_BYTES_MAX is enough).
 * Returns its length, 0 when it does not fit. */
size_t hw_fake_heartbeat_frame(uint8_t *out, size_t cap);

/* Write the frame of hw_fake_heartbeat_frame(). False when the client is gone. */
bool hw_fake_send_heartbeat(int fd);

/* Put a SUBMIT_REPLY frame into out[0..cap) (cap >= HW_FAKE_REPLY_BYTES_MAX is enough):
 * id's outcome, with lsn = id when code is 0, else a refusal's field and rule; corrupt
 * damages the body after its CRC was taken (the client must notice). Returns the frame's
 * length, 0 when it does not fit. */
size_t hw_fake_reply_frame(uint8_t *out, size_t cap, uint64_t id, int code, bool corrupt);

/* Write the frame of hw_fake_reply_frame(). */
void hw_fake_send_reply(int fd, uint64_t id, int code, bool corrupt);

#endif
