/* backup.h: backups a store can be rebuilt from, and restore to a point in time.
 *
 * A backup directory holds a consistent, compacted copy of the store (mdb_env_copy2 with
 * MDB_CP_COMPACT, in snapshot/) and the log entries appended after it (log.hwl, in
 * entry format), with a MANIFEST naming the snapshot's head, the log's end and the
 * BLAKE2b of every file, so a damaged or incomplete backup is refused instead of
 * restored (docs/formats.md).
 *
 * Layout of a backup directory:
 *   snapshot/data.mdb  the compacted copy (made in snapshot.tmp/, then renamed)
 *   log.hwl            entries after the snapshot, each a 4-byte little-endian length and
 *                      the entry bytes; only the first log_bytes count (an interrupted
 *                      incremental backup may leave a tail, cut off by the next one)
 *   MANIFEST           text, key=value per line: format (1), chain_id (hash of entry 1),
 *                      snapshot_lsn, snapshot_hash, end_lsn, end_hash, snapshot_bytes,
 *                      snapshot_blake2b, log_bytes, log_blake2b (hashes in hex). Written
 *                      to MANIFEST.tmp, fsync'd and renamed: it is the commit point.
 *   .backup-lock       only while hw_backup() writes: the file it holds an flock on
 *                      (none of the backup's content; restore and the drills skip it)
 * Restore opens the snapshot read-only and without a lock file (no snapshot/lock.mdb), and
 * writes nothing into the backup directory: a backup may sit on a read-only or full disk
 * (docs/formats.md). */
#ifndef HW_REPLICA_BACKUP_H
#define HW_REPLICA_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replica/checkpoint.h"
#include "replica/retention.h"
#include "replica/store.h"
#include "replica/verify.h"

struct hw_backup_info {
	uint64_t snapshot_lsn;  /* head of the snapshot */
	uint64_t end_lsn;       /* last LSN the backup holds (snapshot or log after it) */
	bool snapshot;          /* this call wrote a new snapshot (else it appended to one) */
	uint64_t entries_added; /* log entries this call appended (a new snapshot: those
				   written after it) */
	uint64_t bytes;         /* size of the backup directory's files */
	uint64_t base_lsn;      /* a new snapshot of a pruned store: its log starts after this
				   LSN, so a restore copies its state as it was, and only a
				   signed checkpoint in log.hwl vouches for it (0: not pruned,
				   or no new snapshot) */
	uint64_t vouch_lsn;     /* of the entries this call appended, the first checkpoint whose
				   signature checks and that covers the snapshot's head or
				   later: the one hw_restore() compares a copied state with,
				   unless log.hwl held one before (0: none) */
	char what[160];         /* on HW_EBACKUP, what is wrong in words; else "" */
};

/* Back s up into out_dir. If out_dir has no backup, write a new snapshot; if it holds a
 * backup of this store's chain, append the entries after its end to log.hwl (an
 * incremental backup). HW_EBACKUP if out_dir holds a damaged backup or one of another
 * chain; HW_ESTALE (nothing written) if s's state awaits a snapshot; HW_EBUSY (nothing written,
 * "another backup is writing out_dir" in info->what) while another hw_backup() into out_dir
 * runs, in this process or another: each holds an flock on out_dir/.backup-lock from start
 * to end (removed then); -errno for the OS. cb (may be
 * NULL) gets the progress of each phase, every 4,096 units and at the phase's end, counts rising to
 * its total: the snapshot copy in pages (total: the pages the store uses), then the log append in
 * entries (none when nothing is appended). */
int hw_backup(struct hw_store *s, const char *out_dir, hw_progress_cb *cb, void *arg,
	      struct hw_backup_info *info);

/* A new snapshot of a pruned store that nothing in its backup vouches for yet: what the
 * store's log says of the next checkpoint, as a primary signs them (engine/node_audit.c:
 * one checkpoint_interval after its last, 60 s by default, once more entries than that
 * checkpoint's own came since, or every checkpoint_records entries; a checkpoint covers
 * the primary's committed head, so the next one covers the snapshot's head or later). */
enum hw_vouch_outlook {
	HW_VOUCH_IN_STORE, /* the store's log holds a checkpoint covering the snapshot's head
			      or later: an incremental hw_backup() appends it */
	HW_VOUCH_DUE,      /* entries came after the newest checkpoint: the primary signs the
			      next within its checkpoint_interval, while it runs */
	HW_VOUCH_IDLE,     /* the store's last entry is the newest checkpoint, covering the
			      entry before it: a primary signs no other until entries come in */
	HW_VOUCH_UNSIGNED, /* no checkpoint whose signature checks among the store's newest
			      HW_BACKUP_VOUCH_LOOKBACK entries: its cluster signs none (insecure,
			      or checkpoints off), or its log was kept shorter than that */
};

/* How far back hw_backup_vouch_outlook() looks for a checkpoint: twice the default
 * checkpoint_records (100,000), so a cluster that signs at its defaults has one in it
 * however fast entries come; about 0.4 s of reading. */
#define HW_BACKUP_VOUCH_LOOKBACK 200000u

/* The outlook for a checkpoint that vouches for a snapshot whose head is snapshot_lsn, from
 * s's head and the newest checkpoint among its last HW_BACKUP_VOUCH_LOOKBACK entries (read
 * from the newest back: it stops at the first one). For a backup whose hw_backup_info
 * vouch_lsn was 0. Any thread, a live store too. 0, or HW_ECORRUPT, HW_ENOMEM or a storage
 * error. */
int hw_backup_vouch_outlook(struct hw_store *s, uint64_t snapshot_lsn, enum hw_vouch_outlook *out);

struct hw_restore_info {
	uint64_t lsn;                 /* head of the restored store */
	int64_t time_ms;              /* its entry time */
	uint8_t digest[HW_HASH_BYTES];
	double seconds;
	uint64_t end_lsn;             /* the backup's last entry (0: not read) */
	bool checked;                 /* the backup and the target point passed their checks:
					 a failure after is the target directory's */
	char what[160];               /* on HW_EBACKUP, what is wrong in words ("log.hwl is
	                                 truncated"); else "" */
	uint64_t base_lsn;            /* the snapshot's log starts after it, so the snapshot was
					 copied whole, its state as it was (0: replayed from
					 entry 1) */
	uint64_t copied_lsn;          /* copied: the snapshot's head, the last entry that came
					 with the copy, not by replay (0: replayed from entry 1):
					 lsn - copied_lsn entries were replayed */
	uint64_t times_unkept_to;     /* copied, to a time: entries 1 .. this were pruned by a
					 build that kept no times, so whether one is stamped
					 after the target is not known (0: every time checked) */
	uint64_t state_cp_lsn;        /* copied: the checkpoint in log.hwl whose signed state
					 digest the copied state, replayed to the LSN it covers,
					 matched (who signed it is verify's to judge:
					 hw_verify_trust.state_cp_lsn); 0: none in log.hwl. Also
					 for a target before that LSN: the check then ran in a
					 copy of its own, replayed that far */
	uint64_t state_cp_covers;     /* the LSN it covers, where the digests were compared
					 (after lsn when the target stops before it) */
	uint8_t state_cp_pk[HW_SIGN_PK_BYTES]; /* its signer's key and node id, as the
						  checkpoint says (not judged here) */
	char state_cp_signer[HW_SIGNER_ID_MAX + 1];
};

/* Check the backup in backup_dir and rebuild a store from it in dir (which must not hold
 * a store, nor a node's log in dir/wal: HW_EEXIST), built in dir/.restore-tmp and moved
 * into dir only whole (a restore cut short leaves no store there), replaying its log up to
 * until_lsn (0: all) and no entry whose time is after until_time_ms (0: no limit). HW_EBACKUP for a
 * damaged or incomplete backup (a backup_dir without a MANIFEST too; -ENOENT when there is no
 * backup_dir at all); HW_ENOTFOUND (with the reason in info->what) when the target point
 * is before anything the backup holds, or until_lsn is after its last entry. A snapshot whose log
 * starts after a base (a backup of a pruned store) cannot be replayed from entry 1: it is copied
 * into dir whole (mdb_env_copy2) and log.hwl replayed on top, so the target must be at or after the
 * snapshot's head, and until_time_ms at or after the time of the snapshot's base and of every entry
 * its log kept and of the latest pruned before it (a clock set back stamps a later entry
 * earlier; meta "pruned_times", where a build that kept it pruned: info->times_unkept_to
 * names those not checked): HW_ENOTFOUND, with the reason in info->what, naming the first
 * entry (or the pruned range) stamped after it. Nothing but a signed checkpoint can vouch for such
 * a copied state: the first one in log.hwl whose signature checks and that covers the snapshot's
 * head or later has its state digest compared when the replay reaches the LSN it covers
 * (info->state_cp_lsn; HW_EBACKUP when they differ). The copied state does not depend on the
 * target: one that stops before that LSN is restored after the same check, run first in a copy of
 * the snapshot in dir/.restore-tmp replayed that far and removed (a second copy's time; the disk
 * holds one copy at a time). A copied store gets a record of what vouched for it
 * (replica/restore_vouch.h: the checkpoint, its signer's key, the restored head and digest; cp_lsn
 * 0 when nothing did), for hw_verify_trusted() to judge later. cb (may be NULL) is polled
 * as the backup's files are hashed (done and total 0), gets the pages of a snapshot's copy
 * and then the entries replayed: its non-zero answer stops the restore wherever it is,
 * which removes what it made and returns that value. */
int hw_restore(const char *backup_dir, const char *dir, uint64_t until_lsn,
	       int64_t until_time_ms, hw_progress_cb *cb, void *arg,
	       struct hw_restore_info *info);

/* What a hw_restore() of the backup in backup_dir into dir needs where dir is (or its
 * parent, when dir is yet to be made) and what that file system has free (hw_scratch_room_for):
 * for a store of about the snapshot's bytes and half again log.hwl's, as its MANIFEST
 * names them (a log replayed on a snapshot took 1.43 times its bytes in the store: 11.6 MB
 * of log.hwl, 39,926 generated entries on a snapshot of 20,000, made it 16.7 MB larger).
 * So a restore that stopped for want of room (hw_scratch_full) can say how much it
 * lacked. Returns 0 when there is that room, -ENOSPC when not (*room filled either way),
 * the MANIFEST's error (HW_EBACKUP, -errno) or that of reading the free space. */
int hw_restore_room(const char *backup_dir, const char *dir, struct hw_scratch_room *room);

/* Whether a hw_restore() of backup_dir into dir that failed with rc stopped for want of
 * room in dir's file system: the OS said so (-ENOSPC, -EDQUOT), or the store filled
 * (HW_ESTORE_FULL, which LMDB gives for a full disk and a full map alike) and that file
 * system has less room than the restore needs (hw_restore_room, into *room). A store
 * full with room to spare is its map, not the disk: false, as for any other rc. *room is
 * zero unless rc is one of those codes. */
bool hw_restore_no_room(int rc, const char *backup_dir, const char *dir,
			struct hw_scratch_room *room);

/* Copy the log entries of src after dst's head, up to until_lsn (0: all) and no entry
 * whose time is after until_time_ms (0: no limit), into dst through
 * hw_store_append_entries() (so every entry is checked and applied again), in batches.
 * Used by restore, verify's rebuild and `digest --at-lsn`. HW_ECHAIN if dst's head is not
 * on src's chain; HW_ENOTFOUND if src's log starts after dst's head (pruned: dst needs a
 * snapshot, replica/snapshot.h). cb may be NULL. */
int hw_store_replay(struct hw_store *src, struct hw_store *dst, uint64_t until_lsn,
		    int64_t until_time_ms, hw_progress_cb *cb, void *arg);

/* The state digest (hw_store_digest()) at lsn by replay: src's log from entry 1 to lsn
 * re-validated and applied (hw_store_replay(), cb as there: its non-zero return stops the
 * replay and is returned) into a new store made in scratch_dir (absent or empty: HW_EEXIST
 * when it holds a store), whose commits are not flushed. lsn 0 is the empty state's digest.
 * HW_ELSN when the replay ends short of lsn (src's head is before it), HW_ENOTFOUND when
 * src's log was pruned, else as hw_store_replay(). The caller removes scratch_dir. Used by
 * a node's digest query (engine/node_digest.c) and `digest --at-lsn`. */
int hw_store_digest_replayed(struct hw_store *src, const char *scratch_dir, uint64_t lsn,
			     hw_progress_cb *cb, void *arg, uint8_t digest[HW_HASH_BYTES]);

/* Whether backup_dir is whole: its MANIFEST parses and its files are the sizes it names
 * (log.hwl at least: an interrupted increment leaves a tail); hashed: and the snapshot
 * and the first log_bytes of log.hwl have the hashes it names too (reading them all:
 * files encrypted in place keep their sizes). 0, HW_EBACKUP with what is wrong in
 * what[160], or -errno. */
int hw_backup_check(const char *backup_dir, bool hashed, char *what);

/* Whether a hw_backup() is writing into dir now (it holds dir's .backup-lock): a
 * directory without a MANIFEST then is a backup under way, not one cut short. */
bool hw_backup_writing(const char *dir);

/* Backup generations hw_backup_prune() looks at in one directory: years of dailies. */
#define HW_BACKUP_GENERATIONS_MAX 4096u

/* One generation as hw_backup_prune() judged it. */
/* A full backup keeps this file in its directory until its MANIFEST is written. */
#define HW_BACKUP_MARKER "INCOMPLETE"

struct hw_generation {
	char name[256];    /* subdirectory name */
	int64_t time_ms;   /* its MANIFEST's mtime: when it (or its last increment) committed */
	bool pruned;       /* the policy let it go (and, unless a dry run, it was removed) */
	bool unfinished;   /* no MANIFEST yet, only HW_BACKUP_MARKER (time_ms: its mtime) */
	bool writing;      /* a backup writes into it now (hw_backup_writing): not judged */
	char problem[160]; /* why it is not whole (hw_backup_check), or "" */
};

/* Called once per generation, newest first, after the decision (and the removal). */
typedef void hw_generation_cb(void *arg, const struct hw_generation *g);

/* Remove the backup generations under dir that the retention policy lets go at now_ms:
 * each subdirectory holding a MANIFEST is a generation; only those past the newest
 * r->backup_generations whole ones and at least r->backup_days old go
 * (replica/retention.h). Whole is hw_backup_check(), hashed for the generations that
 * may count towards those newest ones (so copies encrypted in place, sizes kept, cannot
 * push out a good one), by sizes for those older. A generation that is not whole neither
 * counts nor goes:
 * it is reported with its problem, for the operator to look at, and so is an unfinished
 * one (HW_BACKUP_MARKER and no MANIFEST: a backup cut short) and one a backup is writing
 * into now (its lock held: an incremental, or a full backup under way).
 * Anything else in dir (files, other directories: an operator's copy) is left alone,
 * and nothing else in hawser deletes a backup. dry_run:
 * decide and report, remove nothing. *pruned gets the count. -ENOENT or another -errno
 * when dir cannot be read, -E2BIG past HW_BACKUP_GENERATIONS_MAX generations (nothing
 * removed), or the first removal's -errno (later ones are not tried). cb may be NULL. */
int hw_backup_prune(const char *dir, const struct hw_retention *r, int64_t now_ms, bool dry_run,
		    hw_generation_cb *cb, void *arg, size_t *pruned);

#endif
