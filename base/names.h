/* names.h: the one check of the names people write: node and cluster ids, and addresses
 * ("HOST:PORT", HOST possibly [v6], or "unix:/path"), in config files and on command lines
 * (every --connect list, --node-id). Only the shape: a host is resolved when it is
 * dialled. Pure; any thread. */
#ifndef HW_BASE_NAMES_H
#define HW_BASE_NAMES_H

#include <stdbool.h>

/* Whether addr is "HOST:PORT" with a non-empty HOST and PORT all digits in 1..65535, or
 * "unix:" and a path that fits a Unix socket address. */
bool hw_addr_ok(const char *addr);

/* Whether id is 1..HW_ID_CHARS_MAX letters, digits, '-', '_' or '.'. */
bool hw_id_ok(const char *id);

#endif
