/* sockaddr.h: the plain-socket side of engine/io/ring.c: hawser's address text (HOST:PORT,
 * [IPv6]:PORT, unix:/path) as socket addresses and back, and listening sockets. No
 * io_uring here: ring.c, the only user of <liburing.h>, hands the sockets these make to
 * the ring. Internal to engine/io (ring.c); any thread. */
#ifndef HW_IO_SOCKADDR_H
#define HW_IO_SOCKADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* A listening socket's queue of connections not yet accepted (listen(2)). */
#define HW_LISTEN_BACKLOG 128

/* addr (hw_addr_parse; listening: port 0 too) as a socket address into *ss, *len: an
 * IPv4 address or localhost, [IPv6], or unix:/path. No name is looked up. 0 or
 * HW_ECONFIG. */
int hw__sockaddr_parse(const char *addr, bool listening, struct sockaddr_storage *ss,
		       socklen_t *len);

/* ss (len bytes) as hw__sockaddr_parse takes it, into buf[size]: "HOST:PORT",
 * "[IPv6]:PORT", "unix:/path" ("unix:(unnamed)" for an unbound one), "?" for another
 * family. */
void hw__sockaddr_format(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t size);

/* A socket bound to ss and listening (HW_LISTEN_BACKLOG), close-on-exec, into *out. A
 * TCP one reuses its address (SO_REUSEADDR); a Unix one replaces a socket file left by a
 * dead process (one a live process answers at is -EADDRINUSE; a regular file is kept,
 * and bind says EADDRINUSE). 0 or -errno; nothing is left open on failure. */
int hw__sockaddr_listen(const struct sockaddr_storage *ss, socklen_t len, int *out);

#endif
