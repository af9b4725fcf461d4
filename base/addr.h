/* addr.h: the one check of the addresses people write ("HOST:PORT", HOST possibly [v6],
 * or "unix:/path"): in config files (listen, client, primary, voters) and in every
 * --connect list. Only the shape: the host is resolved when it is dialled. Pure; any
 * thread. */
#ifndef HW_BASE_ADDR_H
#define HW_BASE_ADDR_H

#include <stdbool.h>

/* Whether addr is "HOST:PORT" with a non-empty HOST and PORT all digits in 1..65535, or
 * "unix:" and a path that fits a Unix socket address. */
bool hw_addr_ok(const char *addr);

#endif
