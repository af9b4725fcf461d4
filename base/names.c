#include "base/names.h"

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
	if (colon == NULL || colon == addr || colon[1] == '\0')
		return false;
	unsigned long port = 0;
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || port > 65535)
			return false;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	return port >= 1 && port <= 65535;
}

bool hw_id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > HW_ID_CHARS_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}
