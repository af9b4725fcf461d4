/* config_addrs.h: where the voters of a [failover] config are: each at an address of its
 * own (hw_addr_same: localhost is 127.0.0.1, an IP address in any spelling is itself), the
 * witness not at this node's node.listen, and this process's own voter address (a node's
 * in voters, the witness's witness) at the port it listens on. Checked when a config loads
 * (engine/config_check.c) and again once its host names are looked up (engine/resolve.h).
 * Pure; any thread. */
#ifndef HW_ENGINE_CONFIG_ADDRS_H
#define HW_ENGINE_CONFIG_ADDRS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/config.h"

/* Whether c's [failover] addresses break a rule above: the reason into why[cap] when so.
 * c->failover's witness and self are set (self UINT32_MAX: this process is no voter). */
bool hw_config_addrs_clash(const struct hw_config *c, char *why, size_t cap);

/* The load's check (hw_config_addrs_clash) again, for addresses whose host names were
 * looked up since (engine/resolve.h): two names of one host. 0 without [failover] or when
 * it holds, or HW_ECONFIG with err naming path. */
int hw_config_check_addrs(const struct hw_config *c, const char *path, char *err, size_t cap);

#endif
