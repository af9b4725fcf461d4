/* proxy.c: the fault-injecting TCP proxy (chaos/proxy.h): one poll() loop over a
 * listening socket, a wake-up pipe and up to HW_PROXY_PAIRS_MAX connection pairs, each
 * with a bounded buffer per direction. Every control call takes the mutex and writes a
 * byte to the pipe; the loop holds the mutex except while it sleeps in poll(). */
#include "base/clock.h"
#include "base/names.h"
#include "chaos/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hawser_error.h"

#define FLIP_MASK 0x10u

struct mark {
	uint64_t end; /* stream offset just past the read this mark stands for */
	int64_t due_ms;
};

/* One direction of a pair: bytes read from one socket, waiting to be written to the
 * other. buf[head, tail) holds the stream bytes [out, in). */
struct half {
	uint8_t *buf;
	size_t head, tail;
	uint64_t in, out;
	struct mark *marks; /* ring of HW_PROXY_MARKS_MAX */
	uint32_t m_first, m_count;
	bool eof;  /* the source said EOF */
	bool shut; /* the destination was shut for writing after the last byte */
};

struct pair {
	bool used;
	bool connecting;
	int fd[2];        /* [HW_PROXY_UP] the accepted side, [HW_PROXY_DOWN] the target side */
	int pfd[2];       /* their index in this iteration's pollfd array, -1 if not polled */
	struct half h[2]; /* h[d] reads fd[d], writes fd[!d] */
};

struct hw_proxy {
	int lfd;
	int wake[2];
	struct sockaddr_in target;
	char addr[32];
	pthread_t thread;
	bool threaded;
	pthread_mutex_t mu;
	/* control, under mu */
	bool stop;
	bool blackhole;
	int delay_ms;
	bool corrupt_armed[2];
	uint64_t corrupt_at[2]; /* in passed[d] */
	uint64_t drop_left[2];  /* bytes still to drop once passed[d] reaches drop_at[d] */
	uint64_t drop_at[2];    /* in passed[d] */
	bool cut_pending;
	uint64_t passed[2]; /* bytes that passed per direction, over all pairs */
	struct hw_proxy_stats st;
	struct pair pairs[HW_PROXY_PAIRS_MAX];
};

/* An IPv4 HOST:PORT (hw_addr_parse; listening: port 0 too) into sa: 0 or -EINVAL. */
static int parse_addr(const char *s, bool listening, struct sockaddr_in *sa)
{
	struct hw_addr_parts p;
	if (hw_addr_parse(s, listening, &p) != 0 || p.path != NULL)
		return -EINVAL;
	*sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(p.port)};
	return inet_pton(AF_INET, p.host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static void wake(struct hw_proxy *p)
{
	char c = 1;
	ssize_t w = write(p->wake[1], &c, 1); /* a full pipe is already a wake-up */
	(void)w;
}

/* ---- pairs ------------------------------------------------------------------------ */

static void half_reset(struct half *h)
{
	h->head = h->tail = 0;
	h->out = h->in;
	h->m_first = h->m_count = 0;
}

static void pair_close(struct pair *c)
{
	for (int d = 0; d < 2; d++) {
		if (c->fd[d] >= 0)
			close(c->fd[d]);
		c->fd[d] = -1;
	}
	c->used = false;
}

static int pair_open(struct hw_proxy *p, struct pair *c, int cfd)
{
	int tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (tfd < 0) {
		int rc = -errno;
		close(cfd);
		return rc;
	}
	int one = 1;
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(tfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->used = true;
	c->fd[HW_PROXY_UP] = cfd;
	c->fd[HW_PROXY_DOWN] = tfd;
	c->connecting = false;
	for (int d = 0; d < 2; d++) {
		c->h[d].in = c->h[d].out = 0;
		c->h[d].eof = c->h[d].shut = false;
		half_reset(&c->h[d]);
	}
	if (connect(tfd, (const struct sockaddr *)&p->target, sizeof p->target) != 0) {
		if (errno != EINPROGRESS) {
			pair_close(c);
			return -errno;
		}
		c->connecting = true;
	}
	return 0;
}

static void take_accept(struct hw_proxy *p)
{
	int cfd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	p->st.accepted++;
	for (uint32_t i = 0; i < HW_PROXY_PAIRS_MAX; i++) {
		if (!p->pairs[i].used) {
			pair_open(p, &p->pairs[i], cfd);
			return;
		}
	}
	close(cfd);
}

/* ---- moving bytes ----------------------------------------------------------------- */

/* Offset up to which bytes of h may be written now (delay: whole reads that are due). */
static uint64_t ready_end(const struct half *h, int64_t now)
{
	uint64_t end = h->out;
	for (uint32_t i = 0; i < h->m_count; i++) {
		const struct mark *m = &h->marks[(h->m_first + i) % HW_PROXY_MARKS_MAX];
		if (m->due_ms > now)
			break;
		end = m->end;
	}
	return end;
}

static bool half_can_read(const struct half *h)
{
	return !h->eof && h->m_count < HW_PROXY_MARKS_MAX &&
	       (h->tail < HW_PROXY_BUF_BYTES || h->head > 0);
}

static void flip_if_armed(struct hw_proxy *p, int d, uint8_t *b, size_t n)
{
	if (p->corrupt_armed[d] && p->corrupt_at[d] < p->passed[d] + n) {
		b[p->corrupt_at[d] - p->passed[d]] ^= FLIP_MASK;
		p->corrupt_armed[d] = false;
		p->st.flipped++;
	}
	p->passed[d] += n;
}

/* Cut an armed drop out of the n bytes just read at b: the stream loses them and goes
 * on, so the far side sees a frame continue with the bytes of a later one. Returns the
 * bytes left. Runs before flip_if_armed, which counts what passed. */
static size_t drop_if_armed(struct hw_proxy *p, int d, uint8_t *b, size_t n)
{
	if (p->drop_left[d] == 0 || p->drop_at[d] >= p->passed[d] + n)
		return n;
	size_t off = (size_t)(p->drop_at[d] - p->passed[d]);
	size_t k = n - off < p->drop_left[d] ? n - off : (size_t)p->drop_left[d];
	memmove(b + off, b + off + k, n - off - k);
	p->drop_left[d] -= k;
	p->st.dropped[d] += k;
	return n - k;
}

/* Read from fd[d] into h[d]. Returns false when the pair must close. */
static bool half_read(struct hw_proxy *p, struct pair *c, int d, int64_t now)
{
	struct half *h = &c->h[d];
	if (h->tail == HW_PROXY_BUF_BYTES) {
		memmove(h->buf, h->buf + h->head, h->tail - h->head);
		h->tail -= h->head;
		h->head = 0;
	}
	ssize_t n = recv(c->fd[d], h->buf + h->tail, HW_PROXY_BUF_BYTES - h->tail, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	if (n == 0) {
		h->eof = true;
		return true;
	}
	if (p->blackhole) {
		p->st.dropped[d] += (uint64_t)n;
		return true;
	}
	n = (ssize_t)drop_if_armed(p, d, h->buf + h->tail, (size_t)n);
	if (n == 0)
		return true;
	flip_if_armed(p, d, h->buf + h->tail, (size_t)n);
	h->tail += (size_t)n;
	h->in += (uint64_t)n;
	struct mark *m = &h->marks[(h->m_first + h->m_count) % HW_PROXY_MARKS_MAX];
	*m = (struct mark){.end = h->in, .due_ms = now + p->delay_ms};
	h->m_count++;
	return true;
}

/* Write what is due of h[d] to fd[!d]. Returns false when the pair must close. */
static bool half_write(struct hw_proxy *p, struct pair *c, int d, int64_t now)
{
	struct half *h = &c->h[d];
	uint64_t end = ready_end(h, now);
	if (end > h->out) {
		ssize_t n = send(c->fd[!d], h->buf + h->head, (size_t)(end - h->out), MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
		h->head += (size_t)n;
		h->out += (uint64_t)n;
		p->st.forwarded[d] += (uint64_t)n;
		while (h->m_count > 0 && h->marks[h->m_first].end <= h->out) {
			h->m_first = (h->m_first + 1) % HW_PROXY_MARKS_MAX;
			h->m_count--;
		}
		if (h->head == h->tail)
			h->head = h->tail = 0;
	}
	if (h->eof && h->head == h->tail && !h->shut) {
		shutdown(c->fd[!d], SHUT_WR); /* pass the EOF on once every byte went out */
		h->shut = true;
	}
	return true;
}

static bool finish_connect(struct pair *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->fd[HW_PROXY_DOWN], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
		return false;
	c->connecting = false;
	return true;
}

/* One pair after poll(). Returns false when it must close. */
static bool pair_step(struct hw_proxy *p, struct pair *c, const struct pollfd *pfds, int64_t now)
{
	short rev[2] = {0, 0};
	for (int d = 0; d < 2; d++)
		rev[d] = c->pfd[d] >= 0 ? pfds[c->pfd[d]].revents : 0;
	if ((rev[0] | rev[1]) & (POLLERR | POLLNVAL))
		return false;
	if (c->connecting) {
		if (rev[HW_PROXY_UP] & POLLHUP) /* the client gave up before the target answered */
			return false;
		return !(rev[HW_PROXY_DOWN] & (POLLOUT | POLLHUP)) || finish_connect(c);
	}
	for (int d = 0; d < 2; d++) {
		/* A hang-up with no room to read waits for the writes to drain; the pair closes
		 * once both directions have passed their EOF on. */
		if ((rev[d] & (POLLIN | POLLHUP)) && half_can_read(&c->h[d])) {
			if (!half_read(p, c, d, now))
				return false;
		}
	}
	for (int d = 0; d < 2; d++)
		if (!half_write(p, c, d, now))
			return false;
	return !(c->h[0].shut && c->h[1].shut);
}

/* ---- the loop --------------------------------------------------------------------- */

/* Apply the control state that acts on open pairs. */
static void apply_control(struct hw_proxy *p)
{
	for (uint32_t i = 0; i < HW_PROXY_PAIRS_MAX; i++) {
		struct pair *c = &p->pairs[i];
		if (!c->used)
			continue;
		if (p->cut_pending) {
			pair_close(c);
			p->st.cut++;
			continue;
		}
		if (p->blackhole) /* a partition loses what was in flight too */
			for (int d = 0; d < 2; d++)
				half_reset(&c->h[d]);
	}
	p->cut_pending = false;
}

/* Fill pfds for this iteration; returns their count and sets *timeout_ms. */
static nfds_t build_poll(struct hw_proxy *p, struct pollfd *pfds, int64_t now, int *timeout_ms)
{
	nfds_t n = 0;
	int64_t next = -1;
	pfds[n++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
	pfds[n++] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
	for (uint32_t i = 0; i < HW_PROXY_PAIRS_MAX; i++) {
		struct pair *c = &p->pairs[i];
		c->pfd[0] = c->pfd[1] = -1;
		if (!c->used)
			continue;
		short ev[2] = {0, 0};
		if (c->connecting) {
			ev[HW_PROXY_DOWN] = POLLOUT;
		} else {
			for (int d = 0; d < 2; d++) {
				const struct half *h = &c->h[d];
				if (half_can_read(h))
					ev[d] |= POLLIN;
				if (ready_end(h, now) > h->out)
					ev[!d] |= POLLOUT;
				else if (h->m_count > 0 && h->marks[h->m_first].end > h->out) {
					int64_t due = h->marks[h->m_first].due_ms;
					next = next < 0 || due < next ? due : next;
				}
			}
		}
		for (int d = 0; d < 2; d++) {
			c->pfd[d] = (int)n;
			pfds[n++] = (struct pollfd){.fd = c->fd[d], .events = ev[d]};
		}
	}
	*timeout_ms = next < 0 ? -1 : (int)(next > now ? next - now : 0);
	return n;
}

int hw_proxy_run(struct hw_proxy *p)
{
	struct pollfd pfds[2 + 2 * HW_PROXY_PAIRS_MAX];
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		apply_control(p);
		int timeout_ms;
		nfds_t n = build_poll(p, pfds, hw_mono_ms(), &timeout_ms);
		pthread_mutex_unlock(&p->mu);
		int got = poll(pfds, n, timeout_ms);
		pthread_mutex_lock(&p->mu);
		if (got < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (got <= 0)
			continue;
		if (pfds[0].revents & POLLIN) {
			char buf[64];
			while (read(p->wake[0], buf, sizeof buf) > 0) {
			}
		}
		int64_t now = hw_mono_ms();
		for (uint32_t i = 0; i < HW_PROXY_PAIRS_MAX; i++) {
			struct pair *c = &p->pairs[i];
			if (c->used && c->pfd[0] >= 0 && !pair_step(p, c, pfds, now))
				pair_close(c);
		}
		if (pfds[1].revents & POLLIN)
			take_accept(p);
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static void *proxy_thread(void *arg)
{
	hw_proxy_run(arg);
	return NULL;
}

/* ---- set-up and control ----------------------------------------------------------- */

static int open_listener(struct hw_proxy *p, const char *listen_addr)
{
	struct sockaddr_in sa;
	int rc = parse_addr(listen_addr, true, &sa);
	if (rc != 0)
		return rc;
	p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->lfd < 0)
		return -errno;
	int one = 1;
	setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	socklen_t len = sizeof sa;
	if (bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(p->lfd, 64) != 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&sa, &len) != 0)
		return -errno;
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);
	snprintf(p->addr, sizeof p->addr, "%s:%u", host, (unsigned)ntohs(sa.sin_port));
	return 0;
}

static int alloc_halves(struct hw_proxy *p)
{
	for (uint32_t i = 0; i < HW_PROXY_PAIRS_MAX; i++) {
		p->pairs[i].fd[0] = p->pairs[i].fd[1] = -1;
		for (int d = 0; d < 2; d++) {
			struct half *h = &p->pairs[i].h[d];
			h->buf = malloc(HW_PROXY_BUF_BYTES);
			h->marks = calloc(HW_PROXY_MARKS_MAX, sizeof *h->marks);
			if (h->buf == NULL || h->marks == NULL)
				return HW_ENOMEM;
		}
	}
	return 0;
}

int hw_proxy_new(const char *listen_addr, const char *target, struct hw_proxy **out)
{
	struct hw_proxy *p = calloc(1, sizeof *p);
	if (p == NULL)
		return HW_ENOMEM;
	p->lfd = p->wake[0] = p->wake[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	int rc = parse_addr(target, false, &p->target);
	if (rc == 0)
		rc = pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) == 0 ? 0 : -errno;
	if (rc == 0)
		rc = alloc_halves(p);
	if (rc == 0)
		rc = open_listener(p, listen_addr);
	if (rc != 0) {
		hw_proxy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

const char *hw_proxy_addr(const struct hw_proxy *p)
{
	return p->addr;
}

int hw_proxy_start(struct hw_proxy *p)
{
	int rc = pthread_create(&p->thread, NULL, proxy_thread, p);
	if (rc != 0)
		return -rc;
	p->threaded = true;
	return 0;
}

void hw_proxy_stop(struct hw_proxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_mutex_unlock(&p->mu);
	wake(p);
}

void hw_proxy_free(struct hw_proxy *p)
{
	if (p == NULL)
		return;
	if (p->threaded) {
		hw_proxy_stop(p);
		pthread_join(p->thread, NULL);
	}
	for (uint32_t i = 0; i < HW_PROXY_PAIRS_MAX; i++) {
		if (p->pairs[i].used)
			pair_close(&p->pairs[i]);
		for (int d = 0; d < 2; d++) {
			free(p->pairs[i].h[d].buf);
			free(p->pairs[i].h[d].marks);
		}
	}
	if (p->lfd >= 0)
		close(p->lfd);
	for (int i = 0; i < 2; i++)
		if (p->wake[i] >= 0)
			close(p->wake[i]);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void hw_proxy_pass(struct hw_proxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->blackhole = false;
	p->delay_ms = 0;
	pthread_mutex_unlock(&p->mu);
	wake(p);
}

void hw_proxy_blackhole(struct hw_proxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->blackhole = true;
	pthread_mutex_unlock(&p->mu);
	wake(p);
}

void hw_proxy_corrupt(struct hw_proxy *p, enum hw_proxy_dir dir, uint64_t after_bytes)
{
	pthread_mutex_lock(&p->mu);
	p->corrupt_armed[dir] = true;
	p->corrupt_at[dir] = p->passed[dir] + after_bytes;
	pthread_mutex_unlock(&p->mu);
	wake(p);
}

void hw_proxy_drop(struct hw_proxy *p, enum hw_proxy_dir dir, uint64_t after_bytes, uint64_t count)
{
	pthread_mutex_lock(&p->mu);
	p->drop_left[dir] = count;
	p->drop_at[dir] = p->passed[dir] + after_bytes;
	pthread_mutex_unlock(&p->mu);
	wake(p);
}

void hw_proxy_cut(struct hw_proxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->cut_pending = true;
	pthread_mutex_unlock(&p->mu);
	wake(p);
}

void hw_proxy_delay(struct hw_proxy *p, int delay_ms)
{
	if (delay_ms < 0)
		delay_ms = 0;
	if (delay_ms > HW_PROXY_DELAY_MS_MAX)
		delay_ms = HW_PROXY_DELAY_MS_MAX;
	pthread_mutex_lock(&p->mu);
	p->delay_ms = delay_ms;
	pthread_mutex_unlock(&p->mu);
	wake(p);
}

void hw_proxy_stats(struct hw_proxy *p, struct hw_proxy_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	out->active = 0;
	for (uint32_t i = 0; i < HW_PROXY_PAIRS_MAX; i++)
		out->active += p->pairs[i].used;
	pthread_mutex_unlock(&p->mu);
}
