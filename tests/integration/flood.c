/* flood.c: a keyless flood of silent connections (tests/integration/flood.h). */
#include "tests/integration/flood.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void flood_fill(struct hw_flood *fl)
{
	for (unsigned i = 0; i < HW_FLOOD_CONNS; i++) {
		if (fl->p[i].fd >= 0)
			continue;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0 && bind(fd, (const struct sockaddr *)&fl->from, sizeof fl->from) != 0) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0 && connect(fd, (const struct sockaddr *)&fl->to, sizeof fl->to) != 0 &&
		    errno != EINPROGRESS) {
			close(fd);
			fd = -1;
		}
		fl->p[i] = (struct pollfd){.fd = fd, .events = POLLIN | POLLRDHUP};
	}
}

static void *flood_main(void *arg)
{
	struct hw_flood *fl = arg;
	while (!atomic_load(&fl->stop)) {
		flood_fill(fl);
		if (poll(fl->p, HW_FLOOD_CONNS, 50) <= 0)
			continue;
		for (unsigned i = 0; i < HW_FLOOD_CONNS; i++) {
			char b;
			if (fl->p[i].fd < 0 || fl->p[i].revents == 0 ||
			    recv(fl->p[i].fd, &b, 1, MSG_DONTWAIT) > 0)
				continue;
			close(fl->p[i].fd); /* the peer closed it (EOF or reset) */
			fl->p[i].fd = -1;
			atomic_fetch_add(&fl->cut, 1);
		}
	}
	for (unsigned i = 0; i < HW_FLOOD_CONNS; i++)
		if (fl->p[i].fd >= 0)
			close(fl->p[i].fd);
	return NULL;
}

int hw_flood_start(struct hw_flood *fl, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	if (colon == NULL)
		return -EINVAL;
	fl->to = (struct sockaddr_in){.sin_family = AF_INET,
				      .sin_port = htons((uint16_t)atoi(colon + 1)),
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	fl->from = (struct sockaddr_in){.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1)};
	atomic_store(&fl->stop, false);
	atomic_store(&fl->cut, 0);
	for (unsigned i = 0; i < HW_FLOOD_CONNS; i++)
		fl->p[i].fd = -1;
	int rc = pthread_create(&fl->thread, NULL, flood_main, fl);
	if (rc != 0)
		return -rc;
	fl->running = true;
	return 0;
}

unsigned long hw_flood_cut(struct hw_flood *fl)
{
	return atomic_load(&fl->cut);
}

void hw_flood_stop(struct hw_flood *fl)
{
	if (!fl->running)
		return;
	atomic_store(&fl->stop, true);
	pthread_join(fl->thread, NULL);
	fl->running = false;
}
