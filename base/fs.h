/* fs.h: what a file system has room for, and where a path's parent is. Any thread. */
#ifndef HW_BASE_FS_H
#define HW_BASE_FS_H

#include <stdint.h>

/* Bytes free for an unprivileged writer on the file system holding path (statvfs:
 * f_bavail blocks of f_frsize). 0 or -errno. */
int hw_fs_free(const char *path, uint64_t *bytes);

/* The parent directory of path (dirname(3): "." for a bare name) into out[PATH_MAX].
 * 0 or -ENAMETOOLONG. */
int hw_fs_parent(const char *path, char *out);

#endif
