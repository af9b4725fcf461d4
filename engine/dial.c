/* dial.c: a search's connects, overlapped (engine/dial.h). */
#include "engine/dial.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/names.h"
#include "engine/lookup.h"
#include "hawser_error.h"

/* Keep-alive of a connection to a node: probes after this many idle seconds, one a
 * second, this many unanswered end it. */
#define KEEPALIVE_IDLE_S 2
#define KEEPALIVE_PROBES 3

/* Each submit is one small frame the node waits for: no Nagle delay. A primary whose host
 * vanished sends no FIN or RST: keep-alive probes and a bound on unacknowledged data end
 * such a connection within seconds (the client's HW_ECLOSED), so that a following client
 * searches for the new one. The bound goes once the node's Hello promised heartbeats
 * (hw_dial_heartbeats), whose silence tells then. */
static void tcp_tune(int fd)
{
	int one = 1, idle = KEEPALIVE_IDLE_S, intvl = 1, cnt = KEEPALIVE_PROBES;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	hw_dial_heartbeats(fd, false);
}

void hw_dial_heartbeats(int fd, bool watched)
{
	/* 0: the system's bound, the retransmission count, for minutes */
	unsigned ms = watched ? 0u : (unsigned)(KEEPALIVE_IDLE_S + KEEPALIVE_PROBES) * 1000u;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms); /* TCP only */
}

/* Start a non-blocking connect of a new socket to sa: 0 (connecting or connected, d->fd
 * set) or -errno. */
static int attempt(struct hw_dial *d, int family, int type, int proto, const struct sockaddr *sa,
		   socklen_t salen)
{
	int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	/* A Unix socket connects or fails at once (-EAGAIN: the node's backlog is full). */
	if (connect(fd, sa, salen) != 0 && errno != EINPROGRESS) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	d->fd = fd;
	return 0;
}

/* Start the next of a TCP dial's resolved addresses that will start. */
static void attempt_next_tcp(struct hw_dial *d)
{
	for (struct addrinfo *ai = d->next; ai != NULL; ai = ai->ai_next) {
		d->next = ai->ai_next;
		int rc = attempt(d, ai->ai_family, ai->ai_socktype, ai->ai_protocol, ai->ai_addr,
				 ai->ai_addrlen);
		d->rc = rc; /* 0: under way */
		if (rc == 0)
			return;
	}
}

/* path: hw_addr_parse checked it fits. */
static void start_unix(struct hw_dial *d, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	strcpy(sun.sun_path, path);
	d->rc = attempt(d, AF_UNIX, SOCK_STREAM, 0, (const struct sockaddr *)&sun, sizeof(sun));
}

/* Say on stderr that host's resolution failed (what: how, rc: the dial's code) and what
 * is dialled instead: once a resolution, so at most once a search for a name that does
 * not resolve (dial.h). */
static void say_failed(const struct hw_dial_name *nm, const char *host, int rc, const char *what)
{
	char shown[HW_LOG_ESCAPED_CHARS(HW_ADDR_CHARS_MAX)]; /* a newline or ESC in it: escaped */
	fprintf(stderr, "hawser client: %s: lookup %s, so the dial fails with %s; %s\n",
		hw_log_escaped(host, shown, sizeof shown), what, hw_errname(rc),
		nm->res != NULL ? "the addresses it resolved to before are dialled"
				: "it has no address to dial until a lookup answers");
}

/* How often a dial waiting for a lookup looks whether it is done: between looks it sleeps
 * in poll(2), which a caught signal interrupts (EINTR), so that the signal ends the dial
 * as hawser.h promises; a condition variable's wait (hw_lookup_wait's) is deaf to
 * signals. A lookup's answer waits at most this long to be taken. */
#define LOOKUP_LOOK_MS 10

/* Wait for l by deadline in slices of LOOKUP_LOOK_MS: 1 done, 0 not done by then, or
 * -EINTR for a signal caught meanwhile. */
static int lookup_wait(struct hw_lookup *l, int64_t deadline)
{
	for (;;) {
		if (hw_lookup_wait(l, 0))
			return 1;
		int64_t left = deadline - hw_mono_ms();
		if (left <= 0)
			return 0;
		if (poll(NULL, 0, left < LOOKUP_LOOK_MS ? (int)left : LOOKUP_LOOK_MS) < 0 &&
		    errno == EINTR)
			return -EINTR;
	}
}

/* Resolve the host of nm by deadline (dial.h): its lookup runs on a thread of its own
 * (engine/lookup.h), kept in nm->lookup while it is under way. One that is not done by
 * then, or that failed, is a failed resolution: nm->failed says why (-EHOSTUNREACH for a
 * timed out one), what nm resolved to before is kept, and the search waits for no other.
 * A timed out lookup goes on: a later dial of the search takes its answer if it came
 * meanwhile (this is called again then, with failed set: it only looks), and the next
 * search waits for it rather than begin another behind the same silent resolver; but
 * one that came before that search began (lookup_old) is dropped for a fresh one. 0, or
 * -EINTR when a caught signal ended the wait: the lookup goes on, kept for the next dial,
 * and nothing failed. */
static int resolve(struct hw_dial_name *nm, const char *host, const char *port, int64_t deadline)
{
	if (nm->lookup != NULL && nm->lookup_old && hw_lookup_wait(nm->lookup, 0)) {
		hw_lookup_drop(nm->lookup);
		nm->lookup = NULL;
	}
	int rc = nm->lookup != NULL ? 0 : hw_lookup_start(host, port, &nm->lookup);
	nm->lookup_old = false;
	int64_t began = hw_mono_ms();
	char what[128];
	int done = rc == 0 ? lookup_wait(nm->lookup, nm->failed != 0 ? 0 : deadline) : 0;
	if (done < 0)
		return done;
	if (rc == 0 && done == 0) {
		if (nm->failed == 0) {
			snprintf(what, sizeof what, "timed out after %lld ms (the dial's bound)",
				 (long long)(hw_mono_ms() - began));
			nm->failed = -EHOSTUNREACH;
			say_failed(nm, host, nm->failed, what);
		}
		return 0;
	}
	struct addrinfo *res = NULL;
	const char *why = NULL;
	if (rc == 0)
		rc = hw_lookup_take(nm->lookup, &res, &why);
	nm->lookup = NULL;
	if (rc != 0) {
		snprintf(what, sizeof what, "failed (%s)", why != NULL ? why : hw_strerror(rc));
		if (nm->failed == 0)
			say_failed(nm, host, rc, what);
		nm->failed = rc;
		return 0;
	}
	if (nm->res != NULL)
		freeaddrinfo(nm->res);
	nm->res = res;
	nm->stale = false;
	nm->failed = 0;
	return 0;
}

/* "HOST:PORT", HOST possibly "[v6]" (p): its addresses in turn, resolved first when they
 * are stale (dial.h). */
static void start_tcp(struct hw_dial *d, struct hw_dial_name *nm, const struct hw_addr_parts *p)
{
	if (((nm->stale && nm->failed == 0) || nm->lookup != NULL) &&
	    (d->rc = resolve(nm, p->host, p->port_text, d->deadline)) != 0)
		return; /* -EINTR: start() ends the dial */
	d->rc = nm->res != NULL ? -EHOSTUNREACH : nm->failed;
	d->next = nm->res;
	attempt_next_tcp(d);
	nm->stale |= d->fd < 0; /* none of them would start */
}

void hw_dials_init(struct hw_dials *ds, const char *const *addrs, uint32_t n, int timeout_ms)
{
	ds->n = n < HW_DIAL_MAX ? n : HW_DIAL_MAX;
	for (uint32_t i = 0; i < ds->n; i++) {
		ds->d[i] = (struct hw_dial){.fd = -1};
		ds->names[i] = (struct hw_dial_name){.stale = true};
		ds->addrs[i] = addrs[i];
	}
	ds->timeout_ms = timeout_ms;
	hw_dials_round(ds, 0, HW_DIAL_MAX);
}

void hw_dials_round(struct hw_dials *ds, uint32_t first, uint32_t skip)
{
	int64_t now = hw_mono_ms();
	ds->count = 0;
	for (uint32_t k = 0; k < ds->n; k++) {
		if ((first + k) % ds->n != skip)
			ds->order[ds->count++] = (first + k) % ds->n;
		struct hw_dial *d = &ds->d[k];
		bool spent = now >= d->deadline; /* while the caller was away */
		if (d->fd >= 0 && (spent || k == skip)) {
			close(d->fd);
			*d = (struct hw_dial){.fd = -1};
			ds->names[k].stale |= spent; /* skipped: nothing learnt of its name */
		}
	}
	ds->started = 0;
	ds->stagger_at = 0;
}

/* Begin the round's next dial, unless it is still connecting from the last round. Its
 * stagger runs from when its connect starts (after resolving a host name); one that
 * failed at once gives its turn up. */
static int start(struct hw_dials *ds)
{
	uint32_t i = ds->order[ds->started++];
	struct hw_dial *d = &ds->d[i];
	if (d->fd >= 0)
		return 0;
	*d = (struct hw_dial){.fd = -1, .deadline = hw_mono_ms() + ds->timeout_ms};
	struct hw_addr_parts p;
	if (hw_addr_parse(ds->addrs[i], false, &p) != 0)
		d->rc = -EINVAL;
	else if (p.path != NULL)
		start_unix(d, p.path);
	else
		start_tcp(d, &ds->names[i], &p);
	if (d->rc == -EINTR && d->fd < 0)
		return -EINTR; /* a signal caught in its lookup ends the dial (hawser.h) */
	int64_t now = hw_mono_ms();
	ds->stagger_at = d->fd >= 0 ? now + HW_DIAL_STAGGER_MS : now;
	return 0;
}

/* The socket of d polled ready (or its deadline passed, timed_out): connected, made
 * blocking; or closed, with the next resolved address started (nm: d's name, stale once
 * none is left). */
static void settle(struct hw_dial *d, struct hw_dial_name *nm, bool timed_out)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	if (timed_out)
		soerr = ETIMEDOUT;
	else if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	int fl = soerr ? 0 : fcntl(d->fd, F_GETFL);
	if (soerr == 0 && (fl < 0 || fcntl(d->fd, F_SETFL, fl & ~O_NONBLOCK) != 0))
		soerr = errno;
	if (soerr == 0) {
		d->connected = true;
		return;
	}
	close(d->fd);
	d->fd = -1;
	d->rc = -soerr;
	if (!timed_out && d->next != NULL)
		attempt_next_tcp(d);
	nm->stale |= d->fd < 0;
}

/* Dial i failed, or its socket was taken: if the turn was its (the round's latest),
 * the next may begin now. */
static void turn_over(struct hw_dials *ds, uint32_t i, int64_t now)
{
	if (ds->started > 0 && ds->order[ds->started - 1] == i)
		ds->stagger_at = now;
}

/* Poll every dial still connecting, until one is ready, the first deadline among them
 * passes or stagger_at (when it matters: wake) comes, and settle what came; a dial that
 * failed gives its turn up. 0, or -EINTR. */
static int poll_dials(struct hw_dials *ds, bool wake)
{
	struct pollfd pfd[HW_DIAL_MAX];
	uint32_t who[HW_DIAL_MAX], m = 0;
	int64_t first = wake ? ds->stagger_at : INT64_MAX;
	for (uint32_t i = 0; i < ds->n; i++)
		if (ds->d[i].fd >= 0 && !ds->d[i].connected) {
			pfd[m] = (struct pollfd){.fd = ds->d[i].fd, .events = POLLOUT};
			who[m++] = i;
			if (ds->d[i].deadline < first)
				first = ds->d[i].deadline;
		}
	int64_t left = first - hw_mono_ms();
	int n = poll(pfd, m, left <= 0 ? 0 : (int)left);
	if (n < 0)
		return -errno; /* -EINTR: a caught signal ends the dial (hawser.h) */
	int64_t now = hw_mono_ms();
	for (uint32_t k = 0; k < m; k++) {
		struct hw_dial *d = &ds->d[who[k]];
		if (pfd[k].revents == 0 && now < d->deadline)
			continue;
		settle(d, &ds->names[who[k]], pfd[k].revents == 0);
		if (d->fd < 0)
			turn_over(ds, who[k], now);
	}
	return 0;
}

/* A connected dial of the round's begun ones (its address index), or -1; *connecting:
 * whether one of them is still connecting. */
static int ready(const struct hw_dials *ds, bool *connecting)
{
	*connecting = false;
	for (uint32_t k = 0; k < ds->started; k++) {
		const struct hw_dial *d = &ds->d[ds->order[k]];
		if (d->connected)
			return (int)ds->order[k];
		*connecting |= d->fd >= 0;
	}
	return -1;
}

int hw_dials_next(struct hw_dials *ds, bool answered, uint32_t *i, int *fd)
{
	for (;;) {
		bool connecting;
		int k = ready(ds, &connecting);
		if (k >= 0) {
			struct hw_dial *d = &ds->d[k];
			d->connected = false;
			*i = (uint32_t)k;
			*fd = d->fd;
			d->fd = -1;
			d->rc = 0;
			turn_over(ds, (uint32_t)k, hw_mono_ms());
			ds->names[k].stale = false;
			if (ds->names[k].res != NULL)
				tcp_tune(*fd);
			return 0;
		}
		int64_t now = hw_mono_ms();
		bool all = ds->started == ds->count;
		if (!all && (!connecting || now >= ds->stagger_at)) {
			int rc = start(ds);
			if (rc != 0)
				return rc;
			continue;
		}
		if (!connecting || (all && answered && now >= ds->stagger_at))
			break; /* what is still connecting goes on into the next round */
		int rc = poll_dials(ds, !all || answered);
		if (rc != 0)
			return rc;
	}
	int rc = 1;
	for (uint32_t k = 0; k < ds->count; k++)
		if (ds->d[ds->order[k]].rc != 0)
			rc = ds->d[ds->order[k]].rc;
	return rc;
}

void hw_dials_charge(struct hw_dials *ds, int64_t ms)
{
	for (uint32_t k = 0; k < ds->n; k++)
		if (ds->d[k].fd >= 0)
			ds->d[k].deadline += ms;
}

void hw_dials_close(struct hw_dials *ds)
{
	for (uint32_t k = 0; k < ds->n; k++) {
		if (ds->d[k].fd >= 0)
			close(ds->d[k].fd);
		ds->d[k] = (struct hw_dial){.fd = -1};
		/* the next search resolves each name again, once: a name moved to another node
		 * while its old address still answers (a DNS name repointed at a failover, the
		 * old primary a standby now) is found by the next search */
		ds->names[k].failed = 0;
		ds->names[k].stale = true;
		ds->names[k].lookup_old = true; /* one under way goes on (resolve) */
	}
}

void hw_dials_fini(struct hw_dials *ds)
{
	hw_dials_close(ds);
	for (uint32_t k = 0; k < ds->n; k++) {
		if (ds->names[k].res != NULL)
			freeaddrinfo(ds->names[k].res);
		ds->names[k].res = NULL;
		hw_lookup_drop(ds->names[k].lookup); /* freed by its thread if under way */
		ds->names[k].lookup = NULL;
	}
}
