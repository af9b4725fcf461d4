/* port.c: a port's sessions before their Hello (engine/port.h). */
#include "engine/port.h"

#include <errno.h>
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

/* How many sessions of p from host's host have not said their Hello. */
static uint32_t unsaid_of(const struct hw_port_view *p, const char *host)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < p->slots; i++) {
		struct hw_conn *conn;
		int64_t at;
		k += p->unsaid(p->arg, i, &conn, &at) && same_host(hw_conn_peer(conn), host);
	}
	return k;
}

/* A session hw_port_evict may close: its slot (-1: none yet), accept time and connection. */
struct pick {
	int slot;
	int64_t at;
	struct hw_conn *conn;
};

int hw_port_evict(const struct hw_port_view *p, const struct hw_conn *c, int64_t now)
{
	struct pick own = {.slot = -1}, other = {.slot = -1};
	for (uint32_t i = 0; i < p->slots; i++) {
		struct pick s = {.slot = (int)i};
		if (!p->unsaid(p->arg, i, &s.conn, &s.at))
			continue;
		struct pick *to = same_host(hw_conn_peer(s.conn), hw_conn_peer(c)) ? &own : &other;
		if (to->slot < 0 || s.at < to->at)
			*to = s;
	}
	const struct pick *go = NULL;
	if (own.slot >= 0 && own.at <= now - p->own_age_ms)
		go = &own;
	else if (other.slot >= 0 &&
		 unsaid_of(p, hw_conn_peer(other.conn)) > unsaid_of(p, hw_conn_peer(c)))
		go = &other;
	if (go == NULL)
		return -1;
	if (hw_log_every(p->every, "session_evicted", now, HW_FLOOD_LOG_MS, HW_FLOOD_LOG_LINES))
		hw_log("session_evicted", "peer=%s port=%s waited_ms=%lld reason=port_full by=%s",
		       hw_conn_peer(go->conn), p->name, (long long)(now - go->at), hw_conn_peer(c));
	hw_conn_close(go->conn, HW_EBUSY);
	return go->slot;
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
