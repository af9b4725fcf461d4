/* drills.h: the drill history of one node (a row per run of a restore, verify, failover
 * or procedure drill, kept in the store's `drills` table) and the schedule logic that
 * says which kind of drill is due or overdue.
 *
 * The table is node-local: not in the log, not replicated, not in the state digest
 * (replica/store.h). A backup's snapshot copies it along with the rest of data.mdb; a
 * store restored by replay starts with an empty history.
 *
 * Key: the run's start time (8-byte big-endian ms since 1970) and a 4-byte big-endian
 * sequence number that tells apart runs started in the same millisecond, so a cursor
 * walks the history in time order. Value (little-endian), format 1:
 *   u8 format (1), u8 kind, u8 result, u8 scope (enum hw_drill_scope; rows written
 *   before it was a field hold 0 there, HW_DRILL_SCOPE_FULL, which they were),
 *   u64 duration_ms, u64 lsn, u64 entries, u64 target_ms,
 *   u16 what length, what bytes, u16 report length, report bytes (no NULs).
 * Format 2, for a run given a target point: format 1 with u64 point_lsn and u64
 * point_ms after target_ms. A row with no target point is written as format 1, so
 * builds that know only format 1 still read it. A value of another format, or whose
 * lengths do not add up, is HW_ECORRUPT. */
#ifndef HW_REPLICA_DRILLS_H
#define HW_REPLICA_DRILLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hw_store;

enum hw_drill_kind {
	HW_DRILL_VERIFY = 1,    /* integrity of a replica; digests across nodes */
	HW_DRILL_RESTORE = 2,   /* full restore of a backup into scratch, timed */
	HW_DRILL_FAILOVER = 3,  /* a primary taken away and a standby promoted */
	HW_DRILL_PROCEDURE = 4, /* the operator's checklist, without touching data */
};
#define HW_DRILL_KINDS 4

/* What a run covered of what its kind proves (bits; 0: all of it). Only a run of full
 * scope speaks for its kind's schedule (hw_store_drill_last): a restore of an older
 * backup shows that one restores, not that the node's newest does, and a restore to a
 * point leaves the rest of the backup untried. A restore of the newest backup to a point
 * that failed on something other than the point (the backup damaged, say) is of full
 * scope, its point kept in point_lsn or point_ms: a restore to the end would fail too. */
enum hw_drill_scope {
	HW_DRILL_SCOPE_FULL = 0,
	HW_DRILL_SCOPE_OLDER = 1u << 0, /* restore: not the newest backup of backup_dir */
	HW_DRILL_SCOPE_POINT = 1u << 1, /* restore: to a point (--until-lsn, --until-time) */
};

enum hw_drill_result {
	HW_DRILL_PASS = 0,
	HW_DRILL_FAIL = 1,  /* the drill ran and found something wrong */
	HW_DRILL_ERROR = 2, /* the drill could not run to a verdict */
};

/* Bounds of the text fields: a reason is one line; a report path is kept whole, any
 * path the system takes (PATH_MAX on Linux, with its NUL), so the row always names the
 * report's file (cut at 512 bytes, a deep report directory's row named none). A build
 * before that refuses a row whose path is 512 bytes or more (HW_ECORRUPT). */
#define HW_DRILL_WHAT_BYTES   200
#define HW_DRILL_REPORT_BYTES 4096
/* Largest encoded value: the fixed part and both strings at their longest. */
#define HW_DRILL_ROW_BYTES_MAX                                                                     \
	(4u + 6u * 8u + 2u + HW_DRILL_WHAT_BYTES + 2u + HW_DRILL_REPORT_BYTES)

struct hw_drill_row {
	int64_t time_ms; /* start of the run, wall clock */
	uint32_t seq;    /* set by hw_store_drill_append() */
	enum hw_drill_kind kind;
	enum hw_drill_result result;
	uint64_t duration_ms; /* how long the run took */
	uint64_t lsn;         /* LSN the drill reached (verified head, restored head) */
	uint64_t entries;     /* log entries checked or replayed */
	uint64_t target_ms;   /* the target it was held to (restore: restore_rto); 0: none */
	unsigned scope;       /* enum hw_drill_scope bits */
	uint64_t point_lsn;   /* restore: the --until-lsn asked for; 0: none */
	int64_t point_ms;     /* restore: the --until-time asked for; 0: none */
	char what[HW_DRILL_WHAT_BYTES];     /* reason of a FAIL or ERROR; summary on PASS */
	char report[HW_DRILL_REPORT_BYTES]; /* path of the JSON report; "" when none */
};

/* "verify", "restore", "failover", "procedure"; "?" for anything else. */
const char *hw_drill_kind_name(enum hw_drill_kind kind);
/* The kind named name, or -1. */
int hw_drill_kind_parse(const char *name);
/* "PASS", "FAIL", "ERROR"; "?" for anything else. */
const char *hw_drill_result_name(enum hw_drill_result result);
/* "full", "older generation", "point in time", "older generation, point in time";
 * "partial" for bits this build does not know. */
const char *hw_drill_scope_name(unsigned scope);

/* Encode row (its strings cut at their bounds) into buf[0..cap); *len gets the size.
 * HW_ERANGE if cap is too small or the kind or result is unknown. */
int hw_drill_row_encode(const struct hw_drill_row *row, uint8_t *buf, size_t cap, size_t *len);
/* Decode a value (key fields time_ms and seq are left as they are). HW_ECORRUPT. */
int hw_drill_row_decode(const uint8_t *buf, size_t len, struct hw_drill_row *row);

/* Append row to s's history in its own write transaction, durable when it returns 0;
 * row->seq gets the sequence used. s must be opened for writing: a separate handle in
 * the CLI's process is fine (LMDB serialises writers across processes), but the
 * node's own handle only from its writer thread and never between prepare and commit.
 * HW_ERANGE for a row that does not encode; HW_EBUSY if more than HW_DRILL_SEQ_MAX rows
 * share its millisecond; a storage error otherwise. */
int hw_store_drill_append(struct hw_store *s, struct hw_drill_row *row);
#define HW_DRILL_SEQ_MAX 1024u

/* The newest rows first, up to cap, of kind (0: every kind) into rows; *n gets how many.
 * Any thread and any handle, read-only ones included (its own read transaction).
 * HW_ECORRUPT for a row that does not decode. */
int hw_store_drill_list(struct hw_store *s, int kind, struct hw_drill_row *rows, size_t cap,
			size_t *n);

/* The newest row of kind of full scope, or with pass_only the newest such that passed:
 * the run its schedule counts (hw_drill_due), so a row of another scope is passed over
 * (hw_store_drill_list has it): a failed restore of the newest backup stays the last
 * one until a restore of the newest backup to its end passes. HW_ENOTFOUND when there
 * is none. Any thread and any handle. */
int hw_store_drill_last(struct hw_store *s, enum hw_drill_kind kind, bool pass_only,
			struct hw_drill_row *out);

/* ---- schedule: pure functions, no store, no clock */

/* How often each kind must pass, indexed by kind (index 0 unused); 0: not scheduled. */
struct hw_drill_schedule {
	int64_t every_ms[HW_DRILL_KINDS + 1];
};

enum hw_drill_state {
	HW_DRILL_UNSCHEDULED = 0, /* no schedule for this kind */
	HW_DRILL_ON_TIME = 1,     /* passed within its interval */
	HW_DRILL_OVERDUE = 2,     /* its last pass is older than the interval */
	HW_DRILL_NEVER = 3,       /* scheduled, never passed: overdue since forever */
};

struct hw_drill_due {
	enum hw_drill_state state;
	int64_t due_ms;     /* when the next run is due (last pass + interval); 0 for NEVER
			       and UNSCHEDULED */
	int64_t overdue_ms; /* now - due_ms when OVERDUE; else 0 */
};

/* Where a kind stands at now_ms given its interval every_ms (0: unscheduled) and its
 * last passing run (NULL: none). Only a pass keeps a schedule: a failed run shows the
 * drill was tried, not that recovery works. A run exactly one interval old is due, not
 * overdue. */
void hw_drill_due(int64_t every_ms, const struct hw_drill_row *last_pass, int64_t now_ms,
		  struct hw_drill_due *out);

/* "on time", "overdue", "never passed", "not scheduled". (HW_DRILL_NEVER is "never passed":
 * a kind whose runs all failed has run.) */
const char *hw_drill_state_name(enum hw_drill_state state);

/* Format ms for people into buf: "3d4h", "7d", "12h", "5m30s", "1.25 s", "250 ms". */
const char *hw_drill_duration_format(int64_t ms, char *buf, size_t cap);
/* ms as hw_drill_duration_format has it, unless that reads as other_ms does though the
 * two differ: then every unit down to the second, and the milliseconds when there are
 * any ("12h0m59s" against "12h", "1d0h0m0s" against "1d0h59m0s"), so that two times
 * compared in a verdict show which is the larger. Returns buf. */
const char *hw_drill_duration_vs(int64_t ms, int64_t other_ms, char *buf, size_t cap);
/* ms, a time judged against target_ms, in whole milliseconds ("2000"), or with as many
 * decimals (up to 6) as it takes for a time over the target not to read as the target
 * ("2000.4" against 2000). Returns buf. */
const char *hw_drill_ms_format(double ms, int64_t target_ms, char *buf, size_t cap);

#endif
