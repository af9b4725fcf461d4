#include "base/names.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "hawser_limits.h"

/* PORT of hw_addr_parse into out: 0 or -EINVAL. */
static int port_parse(const char *s, bool listening, struct hw_addr_parts *out)
{
	unsigned long port = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (*s == '\0' || port > 65535 || (port == 0 && !listening))
		return -EINVAL;
	out->port = (uint16_t)port;
	snprintf(out->port_text, sizeof out->port_text, "%lu", port);
	return 0;
}

int hw_addr_parse(const char *addr, bool listening, struct hw_addr_parts *out)
{
	size_t len = strlen(addr);
	*out = (struct hw_addr_parts){.path = NULL};
	if (len > HW_ADDR_CHARS_MAX)
		return -EINVAL;
	if (strncmp(addr, "unix:", 5) == 0) {
		out->path = addr + 5;
		return out->path[0] == '/' && len - 5 < sizeof(((struct sockaddr_un *)0)->sun_path)
			       ? 0
			       : -EINVAL;
	}
	const char *host = addr, *colon = strrchr(addr, ':');
	out->bracketed = addr[0] == '[';
	if (out->bracketed) {
		host = addr + 1;
		colon = strchr(host, ']');
		colon = colon != NULL && colon[1] == ':' ? colon + 1 : NULL;
	}
	size_t host_len = colon != NULL ? (size_t)(colon - host) - out->bracketed : 0;
	if (host_len == 0 || memchr(host, '@', host_len) != NULL)
		return -EINVAL;
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	return port_parse(colon + 1, listening, out);
}

bool hw_addr_ok(const char *addr)
{
	struct hw_addr_parts p;
	return hw_addr_parse(addr, false, &p) == 0;
}

/* addr as one text for hw_addr_same into out[HW_ADDR_CHARS_MAX + 1]: an IP address (or
 * localhost) as inet_ntop writes it, with its port; anything else as it is. */
static void addr_canon(const char *addr, char *out)
{
	struct hw_addr_parts p;
	unsigned char ip[sizeof(struct in6_addr)];
	char host[INET6_ADDRSTRLEN];
	snprintf(out, HW_ADDR_CHARS_MAX + 1, "%s", addr);
	if (hw_addr_parse(addr, true, &p) != 0 || p.path != NULL)
		return;
	int af = p.bracketed ? AF_INET6 : AF_INET;
	const char *in = !p.bracketed && strcmp(p.host, "localhost") == 0 ? "127.0.0.1" : p.host;
	if (inet_pton(af, in, ip) == 1 && inet_ntop(af, ip, host, sizeof host) != NULL)
		snprintf(out, HW_ADDR_CHARS_MAX + 1, p.bracketed ? "[%s]:%u" : "%s:%u", host,
			 (unsigned)p.port);
}

bool hw_addr_same(const char *a, const char *b)
{
	char x[HW_ADDR_CHARS_MAX + 1], y[HW_ADDR_CHARS_MAX + 1];
	addr_canon(a, x);
	addr_canon(b, y);
	return strcmp(x, y) == 0;
}

/* Whether id[0..n) is an id (hw_id_ok). */
static bool id_ok(const char *id, size_t n)
{
	if (n == 0 || n > HW_ID_CHARS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

bool hw_id_ok(const char *id)
{
	return id_ok(id, strlen(id));
}

const char *hw_addr_split(const char *item, size_t *id_len)
{
	const char *at = strncmp(item, "unix:", 5) == 0 ? NULL : strchr(item, '@');
	*id_len = at != NULL ? (size_t)(at - item) : 0;
	return at != NULL ? at + 1 : item;
}

const char *hw_list_item(const char **p, size_t *len)
{
	const char *item = *p;
	while (*item == ' ' || *item == '\t')
		item++;
	const char *end = strchr(item, ',');
	*len = end != NULL ? (size_t)(end - item) : strlen(item);
	*p = end != NULL ? end + 1 : NULL;
	while (*len > 0 && (item[*len - 1] == ' ' || item[*len - 1] == '\t'))
		(*len)--;
	return item;
}

int hw_addrs_parse(const char *list, char (*addrs)[HW_ADDR_CHARS_MAX + 1], size_t cap, size_t *n)
{
	*n = 0;
	for (const char *p = list; p != NULL;) {
		size_t len;
		const char *item = hw_list_item(&p, &len);
		if (len == 0 || len > HW_ADDR_CHARS_MAX || *n == cap)
			return -EINVAL;
		char *a = addrs[(*n)++];
		memcpy(a, item, len);
		a[len] = '\0';
		size_t id_len;
		const char *addr = hw_addr_split(a, &id_len);
		if (!hw_addr_ok(addr) || (addr != a && !id_ok(a, id_len)))
			return -EINVAL;
	}
	return 0;
}
