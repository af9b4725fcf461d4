/* fuzz_backup.c: a backup directory's text and log as hw_restore reads them
 * (replica/backup.h) before it creates anything. Input starting with 'L': the rest is
 * log.hwl (length-prefixed entries), under a MANIFEST this harness writes with the right
 * file hashes and the first entry's predecessor as the snapshot head, so the log's
 * framing, entry decode and chain walk are reached; any other input is the MANIFEST text
 * itself. Files go to a directory under $TMPDIR (default /tmp), removed at exit.
 *
 * Contract checked: restore refuses (the snapshot is an empty file, never a store) with
 * HW_EBACKUP and a reason in info.what, or a -errno; it never creates the target store;
 * nothing leaks (the log mapping is unmapped on every path). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "replica/backup.h"
#include "replica/entry.h"

static char dir[PATH_MAX], target[PATH_MAX];

static void join(char *out, const char *name)
{
	FUZZ_CHECK(snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX);
}

static void put_file(const char *name, const uint8_t *p, size_t len)
{
	char path[PATH_MAX];
	join(path, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(len == 0 || write(fd, p, len) == (ssize_t)len);
	close(fd);
}

static void remove_files(void)
{
	static const char *const names[] = {"MANIFEST", "log.hwl", "snapshot/data.mdb",
					    "snapshot/lock.mdb"};
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		join(path, names[i]);
		unlink(path);
	}
	join(path, "snapshot");
	rmdir(path);
	rmdir(dir);
}

static void hex(char *out, const uint8_t *p, size_t len)
{
	sodium_bin2hex(out, 2 * len + 1, p, len);
}

/* The MANIFEST for a log of len bytes at p: hashes right, end unreachable. */
static void put_manifest_for(const uint8_t *p, size_t len)
{
	uint8_t empty[HW_HASH_BYTES], log[HW_HASH_BYTES], prev[HW_HASH_BYTES] = {0};
	char h_empty[65], h_log[65], h_prev[65], zeros[65], text[1024];
	uint64_t lsn = 0;
	crypto_generichash(empty, sizeof empty, NULL, 0, NULL, 0);
	crypto_generichash(log, sizeof log, p, len, NULL, 0);
	if (len >= 4 + HW_ENTRY_HEADER_BYTES) {
		for (int i = 7; i >= 0; i--)
			lsn = lsn << 8 | p[4 + 8 + i];
		memcpy(prev, p + 4 + 32, HW_HASH_BYTES);
	}
	hex(h_empty, empty, sizeof empty);
	hex(h_log, log, sizeof log);
	hex(h_prev, prev, sizeof prev);
	memset(zeros, '0', 64);
	zeros[64] = '\0';
	int n = snprintf(text, sizeof text,
			 "format=1\nchain_id=%s\nsnapshot_lsn=%llu\nsnapshot_hash=%s\n"
			 "end_lsn=%llu\nend_hash=%s\nsnapshot_bytes=0\nsnapshot_blake2b=%s\n"
			 "log_bytes=%zu\nlog_blake2b=%s\n",
			 zeros, (unsigned long long)(lsn ? lsn - 1 : 0), h_prev,
			 (unsigned long long)UINT64_MAX, zeros, h_empty, len, h_log);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof text);
	put_file("MANIFEST", (const uint8_t *)text, (size_t)n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *tmp = getenv("TMPDIR");
	FUZZ_CHECK(snprintf(dir, sizeof dir, "%s/hw-fuzz-backup-XXXXXX",
			    tmp && tmp[0] ? tmp : "/tmp") < (int)sizeof dir);
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	char path[PATH_MAX];
	join(path, "snapshot");
	FUZZ_CHECK(mkdir(path, 0700) == 0);
	put_file("snapshot/data.mdb", NULL, 0);
	join(target, "restored");
	atexit(remove_files);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 'L') {
		put_file("log.hwl", data + 1, size - 1);
		put_manifest_for(data + 1, size - 1);
	} else {
		char path[PATH_MAX];
		join(path, "log.hwl");
		unlink(path);
		put_file("MANIFEST", data, size);
	}
	struct hw_restore_info info;
	int rc = hw_restore(dir, target, 0, 0, NULL, NULL, &info);
	FUZZ_CHECK(rc == HW_EBACKUP || (rc < 0 && rc > -4096));
	FUZZ_CHECK(memchr(info.what, '\0', sizeof info.what) != NULL);
	if (rc == HW_EBACKUP)
		FUZZ_CHECK(info.what[0] != '\0');
	FUZZ_CHECK(access(target, F_OK) != 0);
	return 0;
}
