#include "base/names.h"

#include <errno.h>
#include <string.h>
#include <sys/un.h>

#include "hawser_limits.h"

bool hw_addr_ok(const char *addr)
{
	if (strncmp(addr, "unix:", 5) == 0) {
		size_t n = strlen(addr + 5);
		return n > 0 && n < sizeof(((struct sockaddr_un *)0)->sun_path);
	}
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || colon == addr || colon[1] == '\0' ||
	    memchr(addr, '@', (size_t)(colon - addr)) != NULL) /* ID@ is not part of it */
		return false;
	unsigned long port = 0;
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535;
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
