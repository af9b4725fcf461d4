/* backup_prune.c: hw_backup_prune() (replica/backup.h), the backup generations in one
 * directory that the retention policy (replica/retention.h) lets go, removed MANIFEST
 * first. */
#include "replica/backup.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replica/snapshot.h"

static int generation_newer(const void *a, const void *b)
{
	const struct hw_generation *x = a, *y = b;
	return x->time_ms < y->time_ms   ? 1
	       : x->time_ms > y->time_ms ? -1
					 : strcmp(x->name, y->name);
}

/* The generations under dir into g[0..*n), newest first. */
static int generations_scan(const char *dir, struct hw_generation *g, size_t *n)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -errno;
	int rc = 0;
	*n = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof g->name)
			continue;
		snprintf(path, sizeof path, "%s/%s/MANIFEST", dir, de->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (*n == HW_BACKUP_GENERATIONS_MAX) {
			rc = -E2BIG;
			break;
		}
		g[*n] = (struct hw_generation){.time_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
							  st.st_mtim.tv_nsec / 1000000};
		memcpy(g[*n].name, de->d_name, strlen(de->d_name) + 1);
		(*n)++;
	}
	closedir(d);
	if (rc == 0)
		qsort(g, *n, sizeof *g, generation_newer);
	return rc;
}

int hw_backup_prune(const char *dir, const struct hw_retention *r, int64_t now_ms, bool dry_run,
		    hw_generation_cb *cb, void *arg, size_t *pruned)
{
	*pruned = 0;
	struct hw_generation *g = calloc(HW_BACKUP_GENERATIONS_MAX, sizeof *g);
	int64_t *times = calloc(HW_BACKUP_GENERATIONS_MAX, sizeof *times);
	bool *prune = calloc(HW_BACKUP_GENERATIONS_MAX, sizeof *prune);
	size_t n = 0;
	int rc = g != NULL && times != NULL && prune != NULL ? generations_scan(dir, g, &n)
							     : HW_ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++)
		times[i] = g[i].time_ms;
	if (rc == 0)
		*pruned = hw_retention_backups(r, times, n, now_ms, prune);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, g[i].name);
		g[i].pruned = prune[i];
		/* The MANIFEST goes first: a removal cut short leaves no generation behind
		 * that looks whole. */
		if (prune[i] && !dry_run) {
			char manifest[PATH_MAX + 16];
			snprintf(manifest, sizeof manifest, "%s/MANIFEST", path);
			rc = unlink(manifest) == 0 ? hw_snapshot_rm(path) : -errno;
		}
		if (rc == 0 && cb != NULL)
			cb(arg, &g[i]);
	}
	free(prune);
	free(times);
	free(g);
	return rc;
}
