/* fs.h: what a file system has room for, where a path's parent is, whether a
 * directory is a mount point, whether two paths name one file, making a directory
 * with its parents, and flushing them. Any thread. */
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

/* Whether paths a and b name one file or directory: the same device and inode (stat(2),
 * links followed), so two spellings ("s1", "./s1/"), a symbolic link, a hard link and a
 * bind mount all name the one they lead to, where comparing realpath(3)s misses the last
 * two. false when either cannot be stat'ed. */
bool hw_fs_same(const char *a, const char *b);

/* mkdir -p: dir with mode (an existing one is left as it is), its missing parents with
 * 0755, each new directory's entry flushed in its parent. 0 or -errno: -ENOTDIR when
 * a file stands where a directory goes. */
int hw_fs_mkdirs(const char *dir, unsigned mode);

/* Whether path (which need not exist yet) is dir or lies under it: the real name of the
 * part of path that exists (realpath: "..", links and a relative path resolved), or a
 * directory above it, is the same file as dir (hw_fs_same). false when dir does not
 * exist. */
bool hw_fs_within(const char *path, const char *dir);

/* Flush a file or directory by path. 0 or -errno. */
int hw_fs_sync(const char *path);

/* Flush the directory holding path (its entry in it: after a create or a rename). 0 or
 * -errno. */
int hw_fs_sync_parent(const char *path);

#endif
