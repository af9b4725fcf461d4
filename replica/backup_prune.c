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

#include "hawser_error.h"
#include "replica/snapshot.h"

static int generation_newer(const void *a, const void *b)
{
	const struct hw_generation *x = a, *y = b;
	return x->time_ms < y->time_ms   ? 1
	       : x->time_ms > y->time_ms ? -1
					 : strcmp(x->name, y->name);
}

/* The generations under dir into g[0..*n), newest first: those with a MANIFEST, and
 * those a full backup has not finished (its marker, no MANIFEST). */
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
		bool whole = stat(path, &st) == 0 && S_ISREG(st.st_mode);
		snprintf(path, sizeof path, "%s/%s/" HW_BACKUP_MARKER, dir, de->d_name);
		if (!whole && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
			continue;
		if (*n == HW_BACKUP_GENERATIONS_MAX) {
			rc = -E2BIG;
			break;
		}
		g[*n] = (struct hw_generation){.time_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
							  st.st_mtim.tv_nsec / 1000000,
					       .unfinished = !whole};
		memcpy(g[*n].name, de->d_name, strlen(de->d_name) + 1);
		(*n)++;
	}
	closedir(d);
	if (rc == 0)
		qsort(g, *n, sizeof *g, generation_newer);
	return rc;
}

/* Which of g[0..n) (newest first) are whole: their times into times[0..*whole), their
 * indexes into idx; the others get their problem. Hashed until keep of them count, by
 * sizes after (hw_backup_prune). */
static void generations_check(const char *dir, uint32_t keep, struct hw_generation *g, size_t n,
			      int64_t *times, size_t *idx, size_t *whole)
{
	*whole = 0;
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, g[i].name);
		g[i].writing = hw_backup_writing(path);
		if (g[i].writing || g[i].unfinished) {
			snprintf(g[i].problem, sizeof g[i].problem, "%s",
				 g[i].writing ? "a backup is writing into it now"
					      : "no MANIFEST, only " HW_BACKUP_MARKER
						": a backup cut short");
			continue;
		}
		int rc = hw_backup_check(path, *whole < keep, g[i].problem);
		if (rc != 0 && !g[i].problem[0])
			snprintf(g[i].problem, sizeof g[i].problem, "MANIFEST unreadable: %s",
				 hw_strerror(rc));
		if (rc == 0) {
			times[*whole] = g[i].time_ms;
			idx[(*whole)++] = i;
		}
	}
}

int hw_backup_prune(const char *dir, const struct hw_retention *r, int64_t now_ms, bool dry_run,
		    hw_generation_cb *cb, void *arg, size_t *pruned)
{
	*pruned = 0;
	struct hw_generation *g = calloc(HW_BACKUP_GENERATIONS_MAX, sizeof *g);
	int64_t *times = calloc(HW_BACKUP_GENERATIONS_MAX, sizeof *times);
	size_t *idx = calloc(HW_BACKUP_GENERATIONS_MAX, sizeof *idx);
	bool *prune = calloc(HW_BACKUP_GENERATIONS_MAX, sizeof *prune);
	size_t n = 0, whole = 0;
	int rc = g != NULL && times != NULL && idx != NULL && prune != NULL
			 ? generations_scan(dir, g, &n)
			 : HW_ENOMEM;
	if (rc == 0) {
		generations_check(dir, r->backup_generations, g, n, times, idx, &whole);
		*pruned = hw_retention_backups(r, times, whole, now_ms, prune);
		for (size_t w = 0; w < whole; w++)
			g[idx[w]].pruned = prune[w];
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, g[i].name);
		/* The MANIFEST goes first: a removal cut short leaves no generation behind
		 * that looks whole. */
		if (g[i].pruned && !dry_run) {
			char manifest[PATH_MAX + 16];
			snprintf(manifest, sizeof manifest, "%s/MANIFEST", path);
			rc = unlink(manifest) == 0 ? hw_snapshot_rm(path) : -errno;
		}
		if (rc == 0 && cb != NULL)
			cb(arg, &g[i]);
	}
	free(prune);
	free(idx);
	free(times);
	free(g);
	return rc;
}
