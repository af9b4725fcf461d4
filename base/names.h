/* names.h: the one check of the names people write: node and cluster ids, and addresses
 * ("HOST:PORT", HOST possibly [v6], or "unix:/path", each possibly naming the node there
 * as "ID@ADDR"), in config files and on command lines (every --connect list, --node-id,
 * node.primary, failover.voters). Only the shape: a host is resolved when it is dialled.
 * Pure; any thread. */
#ifndef HW_BASE_NAMES_H
#define HW_BASE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser_limits.h"

/* An address in its parts (hw_addr_parse). */
struct hw_addr_parts {
	const char *path; /* "unix:PATH": PATH, in the address parsed; NULL for HOST:PORT */
	bool bracketed;   /* HOST was written "[HOST]" (an IPv6 address) */
	char host[HW_ADDR_CHARS_MAX + 1]; /* HOST, without its brackets */
	char port_text[6];                /* PORT in decimal, for getaddrinfo() */
	uint16_t port;
};

/* The one split of an address: "unix:PATH" with an absolute PATH of 1 to 107 bytes (what
 * a Unix socket address holds; a relative one would depend on each process's working
 * directory), or "HOST:PORT": HOST non-empty and without '@' (an ID@ is not
 * part of an address, hw_addr_split), "[HOST]" when it starts with '[' (an IPv6
 * address; else HOST ends at the last ':', so "::1:7001" is host "::1"), PORT all
 * digits, in 1..65535, or 0 too when listening (a listener's "any free port"). The whole
 * is at most HW_ADDR_CHARS_MAX characters. Only the shape: HOST may be a name, looked up
 * when it is dialled. 0 with *out filled, or -EINVAL (*out then means nothing). */
int hw_addr_parse(const char *addr, bool listening, struct hw_addr_parts *out);

/* Whether addr is an address to dial (hw_addr_parse, not listening). */
bool hw_addr_ok(const char *addr);

/* Whether addresses a and b name one endpoint as written: an IPv4 or IPv6 address compares
 * by its value whatever its spelling ("[0::1]:7" is "[::1]:7"), and "localhost" is
 * 127.0.0.1, as hw_connect takes it without a lookup (engine/io/ring.h); any other host
 * name, and a unix:/path, compares as written (a name is compared again once looked up,
 * engine/resolve.h). */
bool hw_addr_same(const char *a, const char *b);

/* Whether id is 1..HW_ID_CHARS_MAX letters, digits, '-' or '_'. No '.': a key pinned
 * as node ID is the file ID.pub or ID.<anything>.pub (hw_channel_pinned_as), so with
 * dots one id's key could pass for another's. */
bool hw_id_ok(const char *id);

/* The node an address names: "ID@ADDR" is the node ID at ADDR, a bare ADDR names none.
 * The ID ends at the first '@'; an item that starts "unix:" is a bare ADDR (a socket's
 * path may hold '@'), so "ID@unix:/path" names one and "unix:/a@b" does not. Returns
 * where ADDR starts in item (item itself when it names none) and puts ID's length in
 * *id_len (0: none). Only splits: hw_id_ok and hw_addr_ok check the parts. */
const char *hw_addr_split(const char *item, size_t *id_len);

/* The next item of the comma-separated list at *p, trimmed of the blanks (spaces, tabs)
 * around it: its start, and its length in *len (0 for an empty item). *p moves past the
 * item's comma, or to NULL after the last item. */
const char *hw_list_item(const char **p, size_t *len);

/* Split the comma-separated address list ("a, p1@b,c") into addrs[0..*n), each trimmed of
 * the blanks (spaces, tabs) around it and kept whole, its "ID@" too (hw_addr_split), as
 * hw_client_connect() reads a list: every reader of a --connect list uses this, so an
 * address compares equal to hw_client_addr(). 0, or -EINVAL for an empty list, an empty
 * item, one longer than HW_ADDR_CHARS_MAX (its ID@ counted), one whose ADDR is not an
 * address (hw_addr_ok) or whose ID is not an id (hw_id_ok), or more than cap of them
 * (addrs[0..cap) may then hold some). */
int hw_addrs_parse(const char *list, char (*addrs)[HW_ADDR_CHARS_MAX + 1], size_t cap, size_t *n);

#endif
