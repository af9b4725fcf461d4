/* fs.h: what a file system has room for, where a path's parent is, whether a
 * directory is a mount point, and making one with its parents. Any thread. */
#ifndef HW_BASE_FS_H
#define HW_BASE_FS_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes free for an unprivileged writer on the file system holding path (statvfs:
 * f_bavail blocks of f_frsize). 0 or -errno. */
int hw_fs_free(const char *path, uint64_t *bytes);

/* The parent directory of path (dirname(3): "." for a bare name) into out[PATH_MAX].
 * 0 or -ENAMETOOLONG. */
int hw_fs_parent(const char *path, char *out);

/* Whether the directory path is the root of a mount (bind mounts too: statx's
 * STATX_ATTR_MOUNT_ROOT, else a device other than its parent's). false when it cannot
 * be told (it does not exist, say). */
bool hw_fs_mount_root(const char *path);

/* mkdir -p: dir with mode (an existing one is left as it is), its missing parents with
 * 0755. 0 or -errno. */
int hw_fs_mkdirs(const char *dir, unsigned mode);

#endif
