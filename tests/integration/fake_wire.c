/* fake_wire.c: the frames a test's fake node writes (fake_wire.h). */
#include "tests/integration/fake_wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "hawser.h"

int hw_fake_bind(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sin;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

int hw_fake_listen_unix(const char *path, int backlog)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sun.sun_path)
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(fd, backlog) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

bool hw_fake_next_frame(struct hw_fake_stream *s, struct hw_frame *f)
{
	for (;;) {
		long r = hw_frame_parse(s->buf + s->at, s->have - s->at, f);
		if (r > 0) {
			s->at += (size_t)r;
			return true;
		}
		if (r < 0)
			return false;
		memmove(s->buf, s->buf + s->at, s->have - s->at);
		s->have -= s->at;
		s->at = 0;
		ssize_t got = recv(s->fd, s->buf + s->have, HW_FAKE_STREAM_BYTES - s->have, 0);
		if (got <= 0)
			return false;
		s->have += (size_t)got;
	}
}

bool hw_fake_send_frame(int fd, enum hw_frame_type type, const uint8_t *body, uint32_t len)
{
	uint8_t hdr[HW_FRAME_HEADER_BYTES];
	hw_frame_header(hdr, type, body, len);
	struct iovec iov[2] = {{hdr, sizeof hdr}, {(void *)body, len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)(sizeof hdr + len);
}

void hw_fake_send_hello(int fd, Hawser__Wire__V1__Role role, uint32_t heartbeat_ms)
{
	Hawser__Wire__V1__Hello h = HAWSER__WIRE__V1__HELLO__INIT;
	h.protocol_version = 1;
	h.role = role;
	h.heartbeat_ms = heartbeat_ms;
	h.node_id = "fake";
	uint8_t buf[128];
	size_t n = hawser__wire__v1__hello__pack(&h, buf);
	(void)hw_fake_send_frame(fd, HW_FRAME_HELLO, buf, (uint32_t)n);
}

void hw_fake_send_error(int fd, int code)
{
	Hawser__Wire__V1__Error e = HAWSER__WIRE__V1__ERROR__INIT;
	e.code = code;
	e.message = (char *)hw_strerror(code);
	uint8_t buf[128];
	size_t n = hawser__wire__v1__error__pack(&e, buf);
	(void)hw_fake_send_frame(fd, HW_FRAME_ERROR, buf, (uint32_t)n);
}

/* Put msg as a frame of type into out[0..cap): its length, 0 when it does not fit. */
static size_t put_frame(uint8_t *out, size_t cap, enum hw_frame_type type,
			const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (cap < HW_FRAME_HEADER_BYTES || n > cap - HW_FRAME_HEADER_BYTES)
		return 0;
	uint8_t *body = out + HW_FRAME_HEADER_BYTES;
	protobuf_c_message_pack(msg, body);
	hw_frame_header(out, type, body, (uint32_t)n);
	return HW_FRAME_HEADER_BYTES + n;
}

size_t hw_fake_heartbeat_frame(uint8_t *out, size_t cap)
{
	Hawser__Wire__V1__Heartbeat hb = HAWSER__WIRE__V1__HEARTBEAT__INIT;
	hb.epoch = 1;
	return put_frame(out, cap, HW_FRAME_HEARTBEAT, &hb.base);
}

bool hw_fake_send_heartbeat(int fd)
{
	uint8_t frame[HW_FAKE_HEARTBEAT_BYTES_MAX];
	size_t n = hw_fake_heartbeat_frame(frame, sizeof frame);
	return send(fd, frame, n, MSG_NOSIGNAL) == (ssize_t)n;
}

size_t hw_fake_reply_frame(uint8_t *out, size_t cap, uint64_t id, int code, bool corrupt)
{
	Hawser__Wire__V1__SubmitReply r = HAWSER__WIRE__V1__SUBMIT_REPLY__INIT;
	r.request_id = id;
	r.code = code;
	r.lsn = code ? 0 : id;
	if (code) {
		r.field = "unit_event.equipment.container_id";
		r.rule = "check digit 3, expected 7";
	}
	size_t n = put_frame(out, cap, HW_FRAME_SUBMIT_REPLY, &r.base);
	if (n > 0 && corrupt)
		out[HW_FRAME_HEADER_BYTES] ^=
			0x40; /* after the CRC was taken: it must be noticed */
	return n;
}

void hw_fake_send_reply(int fd, uint64_t id, int code, bool corrupt)
{
	uint8_t frame[HW_FAKE_REPLY_BYTES_MAX];
	size_t n = hw_fake_reply_frame(frame, sizeof frame, id, code, corrupt);
	(void)send(fd, frame, n, MSG_NOSIGNAL);
}
