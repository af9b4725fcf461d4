/* resolve.h: the host names of a node's config looked up once, at start.
 *
 * A node's loop never waits on DNS: hw_connect and hw_listen take IP addresses only
 * (hw_ring_addr_literal). So a node (or a witness) looks up every host name its config
 * gives (node.listen, node.client, node.primary and a vault's sources, the [failover]
 * voters, its own among them, and witness) before its loop starts, all at once and
 * within HW_RESOLVE_MS together (engine/lookup.h), checks again that no two voters share
 * an address (hw_config_check_addrs), and runs on the addresses they gave until it is
 * restarted: a node moved to another address needs its peers restarted, or IP addresses
 * in the configs. [drills] witness is the drill's to look up (it probes it). */
#ifndef HW_ENGINE_RESOLVE_H
#define HW_ENGINE_RESOLVE_H

#include <stddef.h>

#include "engine/config.h"

/* How long a start waits for its lookups, together. */
#define HW_RESOLVE_MS 5000

/* Replace every host name among c's addresses with the first address it resolves to
 * (HOST:PORT, [IPv6]:PORT), logging address_resolved for each. 0, or HW_ECONFIG with
 * err naming path, the key, the name and why (the lookup failed or timed out), or
 * HW_ENOMEM / -errno (no thread). */
int hw_config_resolve(struct hw_config *c, const char *path, char *err, size_t cap);

#endif
