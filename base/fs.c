/* fs.c: what a file system has room for (base/fs.h). */
#include "base/fs.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
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
