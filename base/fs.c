/* fs.c: what a file system has room for, mount points, one file under two paths,
 * making and flushing (base/fs.h). */
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int hw_fs_free(const char *path, uint64_t *bytes)
{
	struct statvfs v;
	if (statvfs(path, &v) != 0)
		return -errno;
	*bytes = (uint64_t)v.f_bavail * v.f_frsize;
	return 0;
}

int hw_fs_parent(const char *path, char *out)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	snprintf(out, PATH_MAX, "%s", dirname(tmp));
	return 0;
}

bool hw_fs_mount_root(const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx) != 0)
		return false;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	char parent[PATH_MAX];
	struct stat a, b;
	return hw_fs_parent(path, parent) == 0 && stat(path, &a) == 0 && stat(parent, &b) == 0 &&
	       a.st_dev != b.st_dev;
}

bool hw_fs_same(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

bool hw_fs_within(const char *path, const char *dir)
{
	char p[PATH_MAX], up[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
		return false;
	/* the part that exists, as its real name (no "..", no links): the rest is made
	 * under it */
	while (realpath(p, up) == NULL) {
		if (errno != ENOENT || hw_fs_parent(p, up) != 0 || strcmp(up, p) == 0)
			return false;
		memcpy(p, up, sizeof p);
	}
	for (;;) {
		if (hw_fs_same(up, dir))
			return true;
		if (strcmp(up, "/") == 0 || hw_fs_parent(up, p) != 0)
			return false;
		memcpy(up, p, sizeof up);
	}
}

int hw_fs_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

int hw_fs_sync_parent(const char *path)
{
	char parent[PATH_MAX];
	int rc = hw_fs_parent(path, parent);
	return rc != 0 ? rc : hw_fs_sync(parent);
}

/* mkdir, and when it made the directory, its entry flushed in the parent; one there
 * already is left as it is, and anything else in its place is -ENOTDIR. */
static int mkdir_synced(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0)
		return hw_fs_sync_parent(path);
	struct stat st;
	if (errno != EEXIST)
		return -errno;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int hw_fs_mkdirs(const char *dir, unsigned mode)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir_synced(p, 0755);
		if (rc != 0)
			return rc;
		*s = '/';
	}
	return mkdir_synced(p, (mode_t)mode);
}
