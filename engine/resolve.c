/* resolve.c: a node config's host names looked up once, at start (engine/resolve.h). */
#include "engine/resolve.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/names.h"
#include "engine/config_addrs.h"
#include "engine/io/ring.h"
#include "engine/lookup.h"
#include "hawser_error.h"

#define ITEMS_MAX (3 + HW_VAULT_SOURCES_MAX + HW_EL_VOTERS_MAX + 1)

/* An address of the config whose host is a name, and its lookup. */
struct item {
	const char *key;
	char *addr; /* in the config: rewritten with the answer */
	struct hw_addr_parts p; /* its host and port */
	struct hw_lookup *l;
};

static void add(struct item *it, size_t *n, const char *key, char *addr)
{
	struct item *x = &it[*n];
	if (addr[0] == '\0' || hw_ring_addr_literal(addr) || hw_addr_parse(addr, false, &x->p) != 0)
		return; /* the config checked the shape: HOST:PORT with a name */
	x->key = key;
	x->addr = addr;
	x->l = NULL;
	(*n)++;
}

static size_t collect(struct hw_config *c, struct item *it)
{
	size_t n = 0;
	add(it, &n, "node.listen", c->listen);
	add(it, &n, "node.client", c->client);
	for (uint32_t i = 0; i < c->n_sources; i++) /* c->primary is sources[0] */
		add(it, &n, "node.primary", c->sources[i]);
	const struct hw_failover *fo = &c->failover;
	for (uint32_t i = 0; fo->on && i < fo->n_voters; i++)
		add(it, &n, i + 1 == fo->n_voters ? "failover.witness" : "failover.voters",
		    c->failover.voters[i].addr);
	return n; /* [drills] witness: the drill probes it, with a lookup of its own */
}

/* x's answer into x->addr: HOST:PORT or [HOST]:PORT of its first address. */
static int take(struct item *x, const char *path, char *err, size_t cap)
{
	struct addrinfo *res;
	const char *why;
	int rc = hw_lookup_take(x->l, &res, &why);
	x->l = NULL;
	if (rc != 0) {
		snprintf(err, cap, "%s: '%s' = '%s': lookup of %s failed (%s)", path, x->key,
			 x->addr, x->p.host, why != NULL ? why : hw_strerror(rc));
		return HW_ECONFIG;
	}
	char addr[HW_ADDR_CHARS_MAX + 1];
	hw_ring_addr_format(res->ai_addr, res->ai_addrlen, addr, sizeof addr);
	freeaddrinfo(res);
	hw_log("address_resolved", "key=%s name=%s addr=%s", x->key, x->addr, addr);
	memcpy(x->addr, addr, sizeof addr);
	return 0;
}

int hw_config_resolve(struct hw_config *c, const char *path, char *err, size_t cap)
{
	struct item it[ITEMS_MAX];
	size_t n = collect(c, it);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) { /* all at once: one wait for them all */
		rc = hw_lookup_start(it[i].p.host, it[i].p.port_text, &it[i].l);
		if (rc != 0)
			snprintf(err, cap, "%s: lookup of %s: %s", path, it[i].p.host,
				 hw_strerror(rc));
	}
	int64_t deadline = hw_mono_ms() + HW_RESOLVE_MS;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (hw_lookup_wait(it[i].l, deadline)) {
			rc = take(&it[i], path, err, cap);
			continue;
		}
		snprintf(err, cap,
			 "%s: '%s' = '%s': lookup of %s timed out after %d ms (a node looks its "
			 "host names up at start; give IP addresses where DNS may be down)",
			 path, it[i].key, it[i].addr, it[i].p.host, HW_RESOLVE_MS);
		rc = HW_ECONFIG;
	}
	for (size_t i = 0; i < n; i++)
		hw_lookup_drop(it[i].l);
	if (rc == 0 && c->n_sources > 0)
		memcpy(c->primary, c->sources[0], sizeof c->primary);
	return rc == 0 && n > 0 ? hw_config_check_addrs(c, path, err, cap) : rc;
}
