/* verify.h: the integrity check of a store: walk the hash chain, decode and validate
 * every record, rebuild the state from the log in a scratch store and compare its digest
 * with the stored state. Reports the first bad LSN.
 *
 * A store whose log starts after a base (pruned, replica/store.h) is checked from the
 * base: the first entry must continue the base's hash, and each entry after it its own
 * hash and the chain; its records are not decoded or validated (that takes the state
 * before them), nor can its state be rebuilt from the log (the entries that made most of
 * it are gone). The report then says state_rebuilt false and base_lsn, and intact means
 * "hash chain intact from the base", no more; with trusted keys it means that only when
 * a checkpoint vouches for the state (hw_verify_trusted()).
 *
 * Signed checkpoints (replica/checkpoint.h) are checked on the way: each one's signature,
 * its key against the trusted keys (when any are given), that the entry it covers has
 * its chain hash and epoch, and that it covers a later LSN than the checkpoint before it
 * (a primary's next checkpoint always does: it signs a head that holds the previous
 * checkpoint's entry, so a repeat is a copy, HW_ESIGNATURE); during the rebuild, that the
 * state digest at the LSN it covers is its state_digest. The report names the last
 * checkpoint that passed before the first damage, so an operator knows up to where the
 * log is vouched for. */
#ifndef HW_REPLICA_VERIFY_H
#define HW_REPLICA_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser_error.h"
#include "hawser_limits.h"

/* Units (entries, or pages of a snapshot copy) between two progress calls of a walk or
 * a copy: often enough to show progress and to stop soon, too seldom to cost anything
 * per unit. */
#define HW_PROGRESS_STEP 4096u

/* Progress of a long operation: done out of total units (entries). Called from the
 * working thread every HW_PROGRESS_STEP units, or after each batch of a replay (at most
 * HW_BATCH_RECORDS_MAX entries). Returns 0 to go on; anything else stops the operation
 * at that point, which then returns that value (a node stopping a digest's replay to
 * reopen its store, say). A stretch with nothing to count (a restore hashing a backup's
 * files) calls it with done and total 0 after each MiB, only to ask whether to go on: a
 * poll, which shows no progress. */
typedef int hw_progress_cb(void *arg, uint64_t done, uint64_t total);

/* The room a replay into a new scratch store needs, and what its file system has free
 * (hw_scratch_room). */
struct hw_scratch_room {
	uint64_t need_bytes; /* 0 until the estimate was made */
	uint64_t free_bytes;
};

/* What a check was reading (hw_verify_report.stage), so that a run that died there can
 * still say where the damage is (hw_verify_killed). */
enum hw_verify_stage {
	HW_VERIFY_AT_OPEN = 0, /* the store's meta: LMDB's meta pages, the table directory,
				  hawser's meta table */
	HW_VERIFY_AT_WALK,     /* the log, entry by entry */
	HW_VERIFY_AT_STATE,    /* the state tables, for their digest */
	HW_VERIFY_AT_FREE,     /* LMDB's list of free pages, which the next write reuses */
	HW_VERIFY_AT_REBUILD,  /* the log again, and the scratch store it is replayed into */
	HW_VERIFY_AT_END,
};

struct hw_verify_report {
	uint64_t entries;        /* log entries checked */
	uint64_t head_lsn;       /* head recorded in meta */
	uint64_t base_lsn;       /* the log starts after it (0: the whole log is there) */
	bool state_rebuilt;      /* the state was rebuilt from the log and compared: false
	                            for a log that starts after a base, or damage found
	                            before the rebuild */
	int code;                /* 0 intact; else HW_ECORRUPT, HW_ECHAIN, HW_ELSN,
				    HW_EDIGEST, HW_ESIGNATURE, HW_EUNTRUSTED, HW_ESTALE
				    (hw_store_stale) or the validation code of a bad
				    record */
	uint64_t first_bad_lsn;  /* LSN where damage starts; 0 when intact or not an entry */
	char what[160];          /* what is wrong, in words; "" when intact */
	uint64_t checkpoints;    /* checkpoints that passed every check that ran */
	uint64_t good_cp_lsn;    /* LSN of the last checkpoint that passed before any damage */
	uint64_t good_cp_covers; /* the LSN it vouches for (0: none passed) */
	uint64_t checkpoints_format3; /* of those, signed by a format 3 node: their digest
					 matched the state as format 3 laid it out */
	bool keys_judged;        /* trusted keys were given: a checkpoint by another key is
	                            damage (HW_EUNTRUSTED); else only signatures are checked */
	uint64_t unvouched;      /* entries after the last one a good checkpoint vouches
				    for (or after the base: all, without one) */
	int64_t unvouched_ms;    /* the time entries were coming in after the one the last
				    good checkpoint vouches for (or the base), not after the
				    checkpoint's own: the steps between two entries, each of
				    at most one cadence_ms (a longer one, the cluster idle or
				    down, counts nothing); 0 without a time cadence */
	uint64_t state_cp_lsn;   /* state not rebuilt (a log after a base): the checkpoint
				    that vouches for it (hw_verify_trust.state_cp_lsn, or
				    the record the restore that built the store left,
				    replica/restore_vouch.h), found to pass every check in
				    the log, or after the head (state_cp_beyond); 0: none */
	bool state_cp_recorded;  /* it is the one the store's record names, which holds
				    while the head and the state are the restore's */
	bool state_cp_beyond;    /* its entry is after the head (the restore stopped before
				    it): not in the log, so only its recorded key was
				    judged (with keys), not its signature */
	bool stored_digested;    /* digest_stored was read: not when the walk found damage
				    (reading a damaged store on may abort, verify.c) */
	uint8_t digest_stored[HW_HASH_BYTES];
	uint8_t digest_rebuilt[HW_HASH_BYTES];
	struct hw_scratch_room room; /* what the rebuild needs where its scratch is, and has
					(hw_scratch_room: asked before it starts) */
	double seconds;
	enum hw_verify_stage stage; /* what it read last: kept up to date as it goes;
				       HW_VERIFY_AT_OPEN after a verdict: the store was found
				       damaged at open, so head_lsn and the counts are 0 */
};

/* Whether r's verdict is about the state tables, which nothing vouches for
 * (hw_verify_trusted()), rather than about the log's entries. */
static inline bool hw_verify_state_unvouched(const struct hw_verify_report *r)
{
	return r->code == HW_EUNVOUCHED && r->first_bad_lsn == 0;
}

/* Verify the store in dir (opened read-only), rebuilding into scratch_dir (created, then
 * removed). Returns 0 when the check ran (see report->code for its verdict) or an error
 * that kept it from running (HW_EFORMAT, -errno ...; report->what then says why in
 * words, or is ""). A store that cannot be opened because it was damaged is a verdict:
 * code HW_ECORRUPT, first_bad_lsn 0, entries 0 (hw_store_probe() judges that, on
 * evidence only: a file that shows nothing of a store is HW_EFORMAT, however it came to
 * be); a directory that does not exist is -ENOENT. The rebuild needs about the store's
 * size free where scratch_dir is (or its parent, when it is to be made; hw_scratch_room()
 * to the head): -ENOSPC, why in report->what, before it starts when there is less, since
 * a full disk there would fail it part way, as an error or a SIGBUS that
 * hw_verify_killed() takes for damage; and -ENOSPC too, why in report->what, when that
 * file system fills during the rebuild all the same (another process writing there): no
 * verdict, the store was only read. cb may be NULL. */
int hw_verify(const char *dir, const char *scratch_dir, hw_progress_cb *cb, void *arg,
	      struct hw_verify_report *report);

/* Whether rc, from work into a scratch store (hw_verify's rebuild, the replay of `hawser
 * digest --at-lsn`), says its file system had no room: HW_ESTORE_FULL, -ENOSPC or
 * -EDQUOT. Such work only read the store it started from: it is -ENOSPC, saying so,
 * never the store's own lack of room. */
bool hw_scratch_full(int rc);

struct hw_store;

/* Whether the file system of scratch_dir (or of its parent, when it is yet to be made)
 * has room for a replay of src's log to lsn into a new store there (hw_verify's rebuild,
 * to src's head; hw_store_digest_replayed), asked before anything is written there: a
 * replay that runs out of room fails part way, after all the work up to there. The
 * estimate is the share lsn / head of the pages src has in use (hw_store_room: its free
 * pages counted, so an upper bound of a copy to its head), an eighth more (replays were
 * measured at up to a tenth more than their share: the state weighs more early in a log)
 * and 256 KiB for a new store's own pages and lock file. Fills *room (free_bytes as
 * hw_fs_free() says). Returns 0 when the file system has that room, -ENOSPC when not,
 * or the error of reading src's size or the free space. Any thread. */
int hw_scratch_room(struct hw_store *src, uint64_t lsn, const char *scratch_dir,
		    struct hw_scratch_room *room);

/* hw_scratch_room() for a new store of about bytes in scratch_dir, whatever it is built
 * from (a restore: hw_restore_room): bytes, an eighth more and 256 KiB. Fills *room.
 * Returns 0 when the file system has that room, -ENOSPC when not, or the error of reading
 * the free space. Any thread. */
int hw_scratch_room_for(uint64_t bytes, const char *scratch_dir, struct hw_scratch_room *room);

/* Whether room holds an estimate that its file system's free bytes fall short of: the
 * -ENOSPC of hw_scratch_room(), not one of a scratch that filled later. */
static inline bool hw_scratch_room_short(const struct hw_scratch_room *room)
{
	return room->free_bytes < room->need_bytes;
}

/* "it needs about N KiB, its file system has M KiB free" into buf[cap] from room (the
 * words after "no room for the ... scratch store: "); cap HW_SCRATCH_WHY_CHARS holds
 * them. Returns buf. */
#define HW_SCRATCH_WHY_CHARS 96
const char *hw_scratch_room_why(const struct hw_scratch_room *room, char *buf, size_t cap);

/* What hw_verify_trusted() judges by: count Ed25519 public keys (32 bytes each, back to
 * back, HW_VERIFY_TRUST_MAX at most), the checkpoint cadence the primaries ran with
 * ([durability] checkpoint_records and checkpoint_interval; 0 turns either off) and, for
 * a store whose log starts after a base, state_cp_lsn: the checkpoint (its own LSN) whose
 * signed digest the restore that built the store matched its state with
 * (hw_restore_info.state_cp_lsn; 0: the one the store's record names, if any). */
#define HW_VERIFY_TRUST_MAX 64u
struct hw_verify_trust {
	const uint8_t *keys;
	size_t count;
	uint64_t cadence_records;
	int64_t cadence_ms;
	uint64_t state_cp_lsn;
};

/* A log's unvouched tail may be this many cadences long: a primary that stopped just
 * before its next checkpoint, an outage shorter than a cadence, and the node that leads
 * next (a new primary, or the same one restarted), which makes its first checkpoint a
 * cadence after it starts. */
#define HW_VERIFY_CADENCE_SLACK 3

/* hw_verify() that also judges each checkpoint's key: a checkpoint signed by a key not
 * in t->keys is damage (HW_EUNTRUSTED at its LSN; more than HW_VERIFY_TRUST_MAX keys is
 * HW_ERANGE); and, since whoever rewrites the log can drop the checkpoints after what he
 * changed, so is a tail of entries no good checkpoint vouches for that is longer than
 * HW_VERIFY_CADENCE_SLACK cadences, in entries or in time (HW_EUNVOUCHED at its first
 * LSN). And since whoever can write a store can set its base to its head, drop the log
 * and change the state tables, so is a state that was neither rebuilt (the log starts
 * after a base) nor matched with a checkpoint that passed every check: t->state_cp_lsn, or
 * the one named by the record the restore that built the store left, while the store's head
 * and state digest are the record's (replica/restore_vouch.h); a checkpoint the restore
 * stopped before is not in the log, and then the signer's key it recorded must be trusted
 * (HW_EUNVOUCHED, first_bad_lsn 0: the state, not an entry). t NULL or t->count 0 is
 * hw_verify() (which reports state_cp_lsn all the same). */
int hw_verify_trusted(const char *dir, const char *scratch_dir, const struct hw_verify_trust *t,
		      hw_progress_cb *cb, void *arg, struct hw_verify_report *report);

/* Make report, which a run of hw_verify_trusted() left as it was killed by signal signo
 * (the report in memory shared with the process that ran it), its verdict. LMDB aborts
 * the process on some damaged pages (an assertion in mdb.c) rather than returning
 * MDB_CORRUPTED, and may fault (SIGSEGV, SIGBUS) on others: no caller can catch that
 * in-process, so a caller that must give a verdict on any store runs the check in a
 * child process and calls this when the child died. For SIGABRT, SIGSEGV or SIGBUS the
 * verdict is damage found: a finding the run had already made stands; else code
 * HW_ECORRUPT and, from report->stage, where: the log page after the entries walked
 * (first_bad_lsn the next one), the state tables or the store's meta (first_bad_lsn 0).
 * Returns 0, or HW_ECANCELED for another signal (killed from outside: no verdict).
 * state_rebuilt is false after it. */
int hw_verify_killed(struct hw_verify_report *report, int signo);

#endif
