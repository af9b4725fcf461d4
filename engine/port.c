/* port.c: a port's sessions before their Hello (engine/port.h). */
#include "engine/port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/io/ring.h"
#include "hawser_error.h"
#include "hawser_limits.h"

/* Whether peers a and b, as hw_conn_peer() gives them (HOST:PORT), are one host. */
static bool same_host(const char *a, const char *b)
{
	const char *ca = strrchr(a, ':'), *cb = strrchr(b, ':');
	size_t na = ca != NULL ? (size_t)(ca - a) : strlen(a);
	size_t nb = cb != NULL ? (size_t)(cb - b) : strlen(b);
	return na == nb && memcmp(a, b, na) == 0;
}

/* A host's sessions that have not said their Hello: how many, and the oldest. */
struct host {
	const char *peer; /* one of them */
	uint32_t n;
	int slot; /* the oldest's (-1: none yet) */
	int64_t at;
};

/* Hosts hw_port_evictee tells apart besides the newcomer's: more, of a flood from that
 * many hosts, go uncounted (docs/security.md says what such a flood can still do). */
#define HOSTS_MAX 32u

static void host_add(struct host *h, uint32_t slot, int64_t at)
{
	h->n++;
	if (h->slot < 0 || at < h->at) {
		h->slot = (int)slot;
		h->at = at;
	}
}

/* The other host's entry for peer in h[0..*n), added when there is room; NULL when not. */
static struct host *host_of(struct host *h, uint32_t *n, const char *peer)
{
	for (uint32_t j = 0; j < *n; j++)
		if (same_host(h[j].peer, peer))
			return &h[j];
	if (*n == HOSTS_MAX)
		return NULL;
	h[*n] = (struct host){.peer = peer, .slot = -1};
	return &h[(*n)++];
}

int hw_port_evictee(const struct hw_port_view *p, const char *peer, int64_t now)
{
	struct host own = {.peer = peer, .slot = -1}, other[HOSTS_MAX];
	uint32_t n = 0;
	for (uint32_t i = 0; i < p->slots; i++) {
		struct hw_port_unsaid u;
		if (!p->unsaid(p->arg, i, &u))
			continue;
		struct host *h = same_host(u.peer, peer) ? &own : host_of(other, &n, u.peer);
		if (h != NULL)
			host_add(h, i, u.accepted_ms);
	}
	const struct host *big = NULL;
	for (uint32_t j = 0; j < n; j++)
		if (big == NULL || other[j].n > big->n)
			big = &other[j];
	if (big != NULL && big->n > own.n)
		return big->slot;
	return own.n > 0 && own.at <= now - p->own_age_ms ? own.slot : -1;
}

int hw_port_evict(const struct hw_port_view *p, const struct hw_conn *c, int64_t now)
{
	int i = hw_port_evictee(p, hw_conn_peer(c), now);
	struct hw_port_unsaid u;
	if (i < 0 || !p->unsaid(p->arg, (uint32_t)i, &u))
		return -1;
	if (hw_log_every(p->every, "session_evicted", now, HW_FLOOD_LOG_MS, HW_FLOOD_LOG_LINES))
		hw_log("session_evicted", "peer=%s port=%s waited_ms=%lld reason=port_full by=%s",
		       u.peer, p->name, (long long)(now - u.accepted_ms), hw_conn_peer(c));
	hw_conn_close(u.conn, HW_EBUSY);
	return i;
}

void hw_port_close_late(struct hw_conn *c, const char *port, int64_t accepted_ms, int64_t now,
			struct hw_log_every *every)
{
	if (hw_log_every(every, "session_closed", now, HW_FLOOD_LOG_MS, HW_FLOOD_LOG_LINES))
		hw_log("session_closed", "peer=%s port=%s code=%s reason=no_hello waited_ms=%lld",
		       hw_conn_peer(c), port, hw_errname(-ETIMEDOUT),
		       (long long)(now - accepted_ms));
	hw_conn_close(c, -ETIMEDOUT);
}

void hw_port_logs_init(struct hw_port_logs *l, const char *port)
{
	*l = (struct hw_port_logs){.evicted = {.what = l->evicted_what},
				   .closed = {.what = l->closed_what},
				   .lost = {.what = l->port_what},
				   .refused = {.what = l->port_what},
				   .said = {.what = l->port_what},
				   .refused_peer = {.what = l->port_what},
				   .channel_refused = {.what = l->port_what},
				   .channel_cut = {.what = l->port_what},
				   .port = port};
	snprintf(l->evicted_what, sizeof l->evicted_what, "port=%s reason=port_full", port);
	snprintf(l->closed_what, sizeof l->closed_what, "port=%s reason=no_hello", port);
	snprintf(l->port_what, sizeof l->port_what, "port=%s", port);
}

void hw_port_logs_listen(struct hw_port_logs *l, struct hw_listener *listener)
{
	hw_listener_logs(listener, l->port, &l->channel_refused, &l->channel_cut);
}

/* A session's line event (peer, l's port, code): a known peer's in full, else through
 * every. */
static void session_line(const struct hw_port_logs *l, struct hw_log_every *every,
			 const char *event, const char *peer, int code, bool known, int64_t now)
{
	if (known || hw_log_every(every, event, now, HW_FLOOD_LOG_MS, HW_FLOOD_LOG_LINES))
		hw_log(event, "peer=%s port=%s code=%s", peer, l->port, hw_errname(code));
}

void hw_port_lost(struct hw_port_logs *l, const char *peer, int code, bool known, int64_t now)
{
	session_line(l, &l->lost, "session_lost", peer, code, known, now);
}

void hw_port_closed(struct hw_port_logs *l, const char *peer, int code, bool known, int64_t now)
{
	session_line(l, &l->said, "session_closed", peer, code, known, now);
}

const char *hw_port_refused(struct hw_port_logs *l, int64_t now)
{
	return hw_log_every(&l->refused_peer, "peer_refused", now, HW_FLOOD_LOG_MS,
			    HW_FLOOD_LOG_LINES)
		       ? l->port
		       : NULL;
}

void hw_port_logs_flush(struct hw_port_logs *l, int64_t now)
{
	hw_log_every_flush(&l->evicted, "session_evicted", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&l->closed, "session_closed", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&l->lost, "session_lost", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&l->refused, "frame_refused", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&l->said, "session_closed", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&l->refused_peer, "peer_refused", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&l->channel_refused, "channel_refused", now, HW_FLOOD_LOG_MS);
	hw_log_every_flush(&l->channel_cut, "channel_cut", now, HW_FLOOD_LOG_MS);
}
