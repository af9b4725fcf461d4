/* fuzz_config.c: the files an operator gives a node: its INI config (engine/config.h)
 * through hw_config_load, the only entry point, reading the input from a memfd by its
 * /proc/self/fd path (no disk); and the same bytes as its key files (engine/io/channel.h):
 * node.key text through hw_identity_parse, a node.pub file through hw_channel_key_load.
 *
 * Contract checked: the config answer is 0, HW_ECONFIG with a one-line reason (non-empty,
 * terminated, no newline), HW_ENOMEM or -EIO; on 0 the reason is empty; loading the same
 * bytes again answers the same, with the same reason (the parse depends on nothing but
 * the text). The key parsers answer 0 or HW_ECONFIG; a node.key that parses formats back
 * to text that parses to the same identity. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/config.h"
#include "engine/io/channel.h"
#include "fuzz/fuzz.h"

static int fd = -1;
static char path[64];
static struct hw_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz_config", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return 0;
}

static int load(char *err, size_t err_len)
{
	int rc = hw_config_load(path, &cfg, err, err_len);
	FUZZ_CHECK(rc == 0 || rc == HW_ECONFIG || rc == HW_ENOMEM || rc == -EIO);
	FUZZ_CHECK(memchr(err, '\0', err_len) != NULL);
	if (rc == 0)
		FUZZ_CHECK(err[0] == '\0');
	else
		FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	return rc;
}

/* data as node.key and node.pub. */
static void load_keys(const uint8_t *data, size_t size)
{
	struct hw_identity id, again;
	char text[512];
	int rc = hw_identity_parse((const char *)data, size, &id);
	FUZZ_CHECK(rc == 0 || rc == HW_ECONFIG);
	if (rc == 0) {
		long n = hw_identity_format_secret(&id, text, sizeof text);
		FUZZ_CHECK(n > 0 && hw_identity_parse(text, (size_t)n, &again) == 0);
		FUZZ_CHECK(memcmp(&id, &again, sizeof id) == 0);
	}
	uint8_t key[HW_CHANNEL_KEY_BYTES];
	rc = hw_channel_key_load(path, key);
	FUZZ_CHECK(rc == 0 || rc == HW_ECONFIG || (rc < 0 && rc > -4096));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err1[256], err2[256];
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	int rc = load(err1, sizeof err1);
	FUZZ_CHECK(load(err2, sizeof err2) == rc && strcmp(err1, err2) == 0);
	load_keys(data, size);
	return 0;
}
