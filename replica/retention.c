/* retention.c: the retention policy's decisions (retention.h). */
#include "replica/retention.h"

void hw_retention_defaults(struct hw_retention *r)
{
	r->log_days = 30;
	r->backup_generations = 7;
	r->backup_days = 30;
}

/* Is something committed at time_ms at least days old at now_ms? */
static bool old_enough(uint32_t days, int64_t time_ms, int64_t now_ms)
{
	return time_ms <= now_ms && now_ms - time_ms >= (int64_t)days * HW_RETENTION_DAY_MS;
}

int64_t hw_retention_log_now(int64_t head_time_ms, int64_t wall_ms)
{
	int64_t bound = wall_ms + HW_RETENTION_SKEW_MS;
	return head_time_ms > bound ? bound : head_time_ms;
}

bool hw_retention_log_may_prune(const struct hw_retention *r, uint64_t keep_records, uint64_t lsn,
				int64_t time_ms, uint64_t head_lsn, int64_t now_ms)
{
	if (keep_records == 0 || lsn > head_lsn || head_lsn - lsn < keep_records)
		return false;
	return old_enough(r->log_days, time_ms, now_ms);
}

size_t hw_retention_backups(const struct hw_retention *r, const int64_t *time_ms, size_t n,
			    int64_t now_ms, bool *prune)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		prune[i] = i >= r->backup_generations &&
			   old_enough(r->backup_days, time_ms[i], now_ms);
		count += prune[i];
	}
	return count;
}
