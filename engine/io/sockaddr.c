/* sockaddr.c: address text and listening sockets for engine/io/ring.c (sockaddr.h). */
#include "engine/io/sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/names.h"
#include "hawser_error.h"

int hw__sockaddr_parse(const char *addr, bool listening, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	struct hw_addr_parts p;
	if (!addr || hw_addr_parse(addr, listening, &p) != 0)
		return HW_ECONFIG;
	memset(ss, 0, sizeof *ss);
	if (p.path) {
		struct sockaddr_un *su = (struct sockaddr_un *)ss;
		size_t n = strlen(p.path);
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, p.path, n + 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		return 0;
	}
	if (p.bracketed) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(p.port);
		*len = sizeof *s6;
		return inet_pton(AF_INET6, p.host, &s6->sin6_addr) == 1 ? 0 : HW_ECONFIG;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(p.port);
	*len = sizeof *s4;
	const char *host = strcmp(p.host, "localhost") == 0 ? "127.0.0.1" : p.host;
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : HW_ECONFIG;
}

void hw__sockaddr_format(const struct sockaddr_storage *ss, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(buf, size, "%s:%u", host, (unsigned)ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(buf, size, "[%s]:%u", host, (unsigned)ntohs(s6->sin6_port));
	} else if (ss->ss_family == AF_UNIX) {
		const struct sockaddr_un *su = (const struct sockaddr_un *)ss;
		bool named = len > offsetof(struct sockaddr_un, sun_path) && su->sun_path[0];
		snprintf(buf, size, "unix:%.*s", (int)sizeof su->sun_path,
			 named ? su->sun_path : "(unnamed)");
	} else {
		snprintf(buf, size, "?");
	}
}

/* A socket file left by a previous run refuses bind: remove it, but only when nothing
 * answers at it (a connect refused); one a running process listens on is -EADDRINUSE, not
 * taken from it. Regular files are kept (bind then says EADDRINUSE). */
static int unix_stale_remove(const struct sockaddr_storage *ss, socklen_t len)
{
	const char *path = ((const struct sockaddr_un *)ss)->sun_path;
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (probe < 0)
		return -errno;
	int rc = 0;
	if (connect(probe, (const struct sockaddr *)ss, len) == 0 || errno == EAGAIN)
		rc = -EADDRINUSE; /* answered, or its backlog is full: it is alive */
	else if (errno == ECONNREFUSED)
		unlink(path);
	else if (errno != ENOENT)
		rc = -errno;
	close(probe);
	return rc;
}

int hw__sockaddr_listen(const struct sockaddr_storage *ss, socklen_t len, int *out)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ss->ss_family == AF_UNIX) {
		int rc = unix_stale_remove(ss, len);
		if (rc != 0) {
			close(fd);
			return rc;
		}
	} else {
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	}
	if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, HW_LISTEN_BACKLOG) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}
