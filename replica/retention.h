/* retention.h: what the retention policy lets go, as pure decisions.
 *
 * Nothing in hawser deletes log entries or backup generations except through these
 * rules (docs/operations.md "Retention"): a log entry goes only when both the count
 * (log_keep_records, [limits]) and its age say so, and a backup generation only when both
 * the number of newer generations and its age say so. The ransomware attack that
 * motivates the vault replica (docs/security.md) destroyed three days of backups; the
 * defaults keep at least 30 days.
 *
 * Ages are measured against a "now" the caller hands in: for the log the time of the
 * newest entry (so every node, and a replay, decides the same) but never more than
 * HW_RETENTION_SKEW_MS past the deciding node's own clock (hw_retention_log_now), for
 * backups the wall clock. No function here reads a clock, allocates or does I/O. */
#ifndef HW_REPLICA_RETENTION_H
#define HW_REPLICA_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HW_RETENTION_DAY_MS (24LL * 3600 * 1000)
/* Days and generations past these are typos (a century; years of dailies). */
#define HW_RETENTION_DAYS_MAX        36600u
#define HW_RETENTION_GENERATIONS_MAX 100000u

/* [retention] (engine/config.h). */
struct hw_retention {
	uint32_t log_days;           /* a log entry stays at least this long after its commit
				      * time (0: the count alone decides) */
	uint32_t backup_generations; /* the newest this many generations always stay (>= 1) */
	uint32_t backup_days;        /* a generation younger than this always stays */
};

/* How far the newest entry's time may run ahead of a node's own clock and still be the
 * log's "now". An entry's time is its primary's clock: one set forward by mistake, or a
 * forged stamp, would otherwise age every entry at once on every node that takes it,
 * vault included, and let the count alone prune a month of history. Clocks of a
 * cluster's nodes agree within seconds; an hour is far past that. */
#define HW_RETENTION_SKEW_MS (3600LL * 1000)

/* The "now" of the log's age rule: head_time_ms, the newest entry's time, unless it is
 * more than HW_RETENTION_SKEW_MS after wall_ms, this node's clock; then that bound. */
int64_t hw_retention_log_now(int64_t head_time_ms, int64_t wall_ms);

/* log_days 30, backup_generations 7, backup_days 30. */
void hw_retention_defaults(struct hw_retention *r);

/* May the log entry at lsn, committed at time_ms, be pruned from a log whose newest entry
 * is head_lsn, committed at now_ms? Only when keep_records > 0 (0 keeps the whole log),
 * at least keep_records entries come after it, and it is at least log_days old. */
bool hw_retention_log_may_prune(const struct hw_retention *r, uint64_t keep_records, uint64_t lsn,
				int64_t time_ms, uint64_t head_lsn, int64_t now_ms);

/* Backup generations, newest first, committed at time_ms[0..n-1]: set prune[i] for each
 * that may be removed at now_ms (at least backup_generations newer ones stay, and it is
 * at least backup_days old) and return how many. A generation whose time is after now_ms
 * (a clock set back) stays. */
size_t hw_retention_backups(const struct hw_retention *r, const int64_t *time_ms, size_t n,
			    int64_t now_ms, bool *prune);

#endif
