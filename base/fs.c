/* fs.c: what a file system has room for, and mount points (base/fs.h). */
#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

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

int hw_fs_mkdirs(const char *dir, unsigned mode)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, (mode_t)mode) != 0 && errno != EEXIST ? -errno : 0;
}
