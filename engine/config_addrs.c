/* config_addrs.c: the addresses of a [failover] config checked (engine/config_addrs.h). */
#include "engine/config_addrs.h"

#include <stdio.h>
#include <string.h>

#include "base/names.h"
#include "hawser_error.h"

/* Two voters at one address would each dial the other's listener as itself, and a witness
 * sharing a node's address is one host's failure away from losing two votes. */
static bool shared(const struct hw_config *c, char *why, size_t cap)
{
	const struct hw_failover *f = &c->failover;
	for (uint32_t i = 0; i < f->n_voters; i++) {
		const char *what = i == f->witness ? "'failover.witness'" : "'failover.voters'";
		for (uint32_t j = 0; j < i; j++)
			if (hw_addr_same(f->voters[i].addr, f->voters[j].addr)) {
				const char *as = f->voters[j].addr; /* when spelt otherwise */
				bool spelt = strcmp(as, f->voters[i].addr) != 0;
				snprintf(
					why, cap,
					"%s gives %s the address %s of %s%s%s%s: every voter needs "
					"its own",
					what, f->voters[i].id, f->voters[i].addr, f->voters[j].id,
					spelt ? " (" : "", spelt ? as : "", spelt ? ")" : "");
				return true;
			}
	}
	const struct hw_voter_addr *w = &f->voters[f->witness];
	if (c->role != HW_ROLE_WITNESS && hw_addr_same(w->addr, c->listen)) {
		snprintf(why, cap,
			 "'failover.witness' %s is this node's 'node.listen': the witness runs "
			 "on a host of its own",
			 w->addr);
		return true;
	}
	return false;
}

/* The other voters dial this process at its own voter address: node.listen may give
 * another host (0.0.0.0, every interface), not another port (or socket path). */
static bool own_port_differs(const struct hw_config *c, char *why, size_t cap)
{
	const struct hw_failover *f = &c->failover;
	struct hw_addr_parts own, listen;
	if (f->self >= f->n_voters || hw_addr_parse(f->voters[f->self].addr, true, &own) != 0 ||
	    hw_addr_parse(c->listen, true, &listen) != 0)
		return false; /* no voter (refused by the load), or shapes it refused */
	bool same = own.path == NULL && listen.path == NULL
			    ? own.port == listen.port
			    : own.path != NULL && listen.path != NULL &&
				      strcmp(own.path, listen.path) == 0;
	if (same)
		return false;
	snprintf(why, cap,
		 "'node.listen' %s is not where the other voters dial this node: %s gives %s "
		 "the address %s (the host may differ, the port may not)",
		 c->listen, f->self == f->witness ? "'failover.witness'" : "'failover.voters'",
		 f->voters[f->self].id, f->voters[f->self].addr);
	return true;
}

bool hw_config_addrs_clash(const struct hw_config *c, char *why, size_t cap)
{
	return shared(c, why, cap) || own_port_differs(c, why, cap);
}

int hw_config_check_addrs(const struct hw_config *c, const char *path, char *err, size_t cap)
{
	char why[HW_ADDR_CHARS_MAX * 3 + 160];
	if (!c->failover.on || !hw_config_addrs_clash(c, why, sizeof why))
		return 0;
	snprintf(err, cap, "%s: %s (their host names looked up)", path, why);
	return HW_ECONFIG;
}
