/* writer.h: the store writer: LMDB commits on their own thread, so the loop never blocks
 * on a flush (STYLE.md 16).
 *
 * The loop fills a job (records to submit on a primary, entries to append on a standby,
 * whose hashes it has checked: hw_store_append_hold, or hw_store_append_primary after
 * hw_writer_set_from_primary) while the writer works on the previous one, and hands it
 * over when the writer is idle:
 * whatever arrived during one commit goes into the next (group commit, with no timer).
 * For a submit job the writer prepares the batch (validate, LSNs, chain, apply), copies
 * the new entries into a segment the loop then owns and can stream to standbys at once,
 * and only then commits: so the primary's flush and the standbys' flushes overlap. With a
 * log in front it prepares a job in pieces of HW_WRITER_PIECE_RECORDS and hands each over
 * as it is ready, so the first records of a large batch go to the log and the standbys
 * while the rest are validated. Each stage wakes the loop through an async (the last
 * piece's together with the DONE right after it, unless a commit comes between them);
 * the loop reads the job's stage on its thread.
 *
 * Two jobs exist per writer, allocated at start (bounded by HW_BATCH_RECORDS_MAX items
 * and HW_BATCH_BYTES_MAX bytes): one filling on the loop, one on the writer. */
#ifndef HW_IO_WRITER_H
#define HW_IO_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replica/store.h"

struct hw_loop;
struct hw_writer;

enum hw_job_kind { HW_JOB_SUBMIT, HW_JOB_APPEND };

enum hw_job_stage {
	HW_JOB_FILLING,   /* on the loop, taking items */
	HW_JOB_QUEUED,    /* handed to the writer */
	HW_JOB_PREPARED,  /* submit: results and entries of some records known */
	HW_JOB_DONE,      /* finished (rc 0: committed, or held with a log) or failed (rc) */
	HW_JOB_COMMITTED, /* not a job's stage: cb(arg, NULL, HW_JOB_COMMITTED) says the store
			     committed held batches after the last DONE (hw_writer_committed) */
};

/* New entries of a prepared batch, owned by whoever holds the pointer (free with
 * hw_segment_free()). */
struct hw_segment {
	struct hw_segment *next; /* for the owner's list */
	uint64_t first_lsn;
	uint64_t last_lsn;
	size_t len;
	uint8_t data[]; /* entries back to back */
};
void hw_segment_free(struct hw_segment *s);

struct hw_job {
	enum hw_job_kind kind;
	enum hw_job_stage stage; /* written by the writer under its lock */
	size_t prepared_n;       /* submit: records prepared so far (writer, under its lock) */
	size_t from, to;         /* submit, loop: the records a PREPARED callback is about;
				    those from to on were not prepared (yet) */
	/* input, filled on the loop */
	size_t n;
	uint8_t *buf; /* item bytes back to back */
	size_t used;
	size_t *off; /* per item */
	size_t *len;
	uint64_t *token; /* submit: the driver's handle per record */
	uint8_t *mode;
	uint8_t *k;
	bool *system; /* submit: the node's own record (hw_submit.system); hw_job_add clears */
	int *refuse_new; /* submit: hw_submit.refuse_new; hw_job_add clears */
	uint64_t epoch;
	int64_t now_ms;
	uint64_t kicked_ns; /* hw_mono_ns() when handed to the writer (submit times) */
	/* output, written by the writer */
	struct hw_result *res;       /* submit: per record */
	struct hw_segment *segment;  /* submit, PREPARED: new entries of records from..to, a
					list by next (NULL if none); the loop takes it */
	uint64_t last_lsn;           /* head after the job (committed or held); after an
					append refusal the last entry taken */
	uint64_t committed_lsn;      /* the store's committed head when the job finished:
	                                readable there, and no longer needed elsewhere */
	int rc;                      /* storage error, or an append refusal: the entries
					before the refused one were taken all the same,
					and it is last_lsn + 1 (hw_store_append_hold) */
	struct hw_reject rej;        /* append: why an entry was refused */
};

/* Room for an item of len bytes in a filling job. */
bool hw_job_fits(const struct hw_job *j, size_t len);

/* Add an item (copied). Requires hw_job_fits(). Returns its index. */
size_t hw_job_add(struct hw_job *j, const uint8_t *data, size_t len);

typedef void hw_writer_cb(void *arg, struct hw_job *j, enum hw_job_stage stage);

/* Start the writer thread on store s (which it then uses exclusively for writes). cb runs
 * on the loop thread for each stage the job in the writer reaches, in order: PREPARED
 * (submit jobs, once or more: the results j->res[j->from..j->to) and their entries
 * j->segment are ready) and DONE (j->rc says whether the job held; after a failure the
 * records from j->to on were not prepared). After DONE the loop calls hw_writer_release().
 *
 * An append writer (a standby's apply) runs HW_WRITER_APPLY_NICE steps below the thread
 * that starts it. It is on no acknowledgement's path but mode applied's: the log's flush
 * makes an entry durable and the loop acknowledges it. Wherever the two share a busy
 * CPU, a wake-up of the loop or a log flusher then preempts the apply at once instead of
 * waiting out its time slice (docs/benchmarks-rounds.md, seventh round). Against a busy thread
 * of normal priority the apply still gets about a tenth of a core. When that is too
 * little, the standby's jobs fill, it stops reading, and the primary is held back as by
 * any slow standby; the replay budget (engine/core/targets.h) bounds the backlog either
 * way. Unprivileged, a thread can lower its priority but not raise it again, so a
 * promotion starts a new writer at the loop's priority, after the old one applied what
 * it took (hw_writer_stop, at most two jobs): on a CPU other work keeps busy, that wait
 * runs at the lower priority and counts in the failover time (became_primary took_ms). */
#define HW_WRITER_APPLY_NICE 10
int hw_writer_start(struct hw_store *s, struct hw_loop *loop, enum hw_job_kind kind,
		    hw_writer_cb *cb, void *arg, struct hw_writer **out);

struct hw_wal;

/* Put a write-ahead log in front of the store (opened with log_ahead): the writer then
 * holds consecutive jobs in one store transaction (hw_store_hold) and commits it when it
 * has been open HW_WRITER_COMMIT_MS (a submit writer's, a primary's) or
 * HW_WRITER_APPLY_COMMIT_MS (an append writer's), is full (hw_store_held_full), the writer
 * was idle HW_WRITER_IDLE_US, a reader asked for it (hw_writer_commit_soon), or it stops;
 * the store's own thread flushes each commit after it, and the writer checkpoints the log
 * every so often at what that thread flushed (hw_store_flushed: the log keeps everything
 * the store has not flushed). A job's DONE may then come before its commit
 * (j->committed_lsn says how far the store committed); a commit between jobs is
 * reported as HW_JOB_COMMITTED. Before the first kick.
 *
 * So what readers of the store see (hawser get on a running node, a standby's applied
 * position, status, a snapshot, a digest, a checkpoint) lags the log by up to that
 * while the writer is busy and HW_WRITER_IDLE_US after it goes idle, unless they ask
 * for a commit first. Few, large commits are the point: each is one fdatasync of
 * scattered B-tree pages that the log's own flushes (which acknowledgements wait for)
 * would otherwise queue behind on the same disk, and the larger, the fewer pages a
 * record writes (docs/benchmarks-rounds.md, twelfth round). A primary's writer is the serial
 * stage of its submits, so its commits are the larger; a standby's apply is on no
 * acknowledgement's path but mode applied's, and what it committed is what reads there
 * see and what a failover to it counts as replayed (engine/core/targets.c), so its
 * commits stay small (larger ones measured no faster there). */
void hw_writer_set_wal(struct hw_writer *w, struct hw_wal *wal);
#define HW_WRITER_PIECE_RECORDS   64    /* a submit job's records handed over at once */
#define HW_WRITER_COMMIT_MS       200   /* bounds what a crash makes the log replay */
#define HW_WRITER_APPLY_COMMIT_MS 50    /* the same for an append writer */
#define HW_WRITER_IDLE_US         20000 /* readers that do not ask see data this soon */

/* The entries of append jobs come straight from the primary that made them, as a
 * standby's do (engine/node_standby.c take_append), so the store does not validate their
 * records again (hw_store_append_primary), as the node's recovery does not when it takes
 * them from its log (engine/node_int.h hw__node_skips_validation). Not a vault's: it
 * validates every record it keeps. Before the first kick. */
void hw_writer_set_from_primary(struct hw_writer *w);

/* Ask for the store to commit through lsn without waiting for it: the writer commits the
 * held transaction when its current job ends (or at once between jobs), and again after
 * every job until the store's committed head reaches lsn; then the policy above resumes.
 * The loop hears of each commit through cb, as DONE (j->committed_lsn) or
 * HW_JOB_COMMITTED (hw_writer_committed): a caller that needs committed >= lsn starts
 * its work from there, or at once when hw_writer_committed() already covers it. lsn
 * should be at most the last LSN handed to the writer (else every job commits until it
 * is reached). Several requests keep the highest. Loop thread; never blocks beyond the
 * writer's lock. Without a log every job commits anyway. */
void hw_writer_commit_soon(struct hw_writer *w, uint64_t lsn);

/* The store's committed head as of the last commit, and the commit's failure (0, or the
 * sticky storage error: the node must stop). Loop thread, from cb. */
int hw_writer_committed(struct hw_writer *w, uint64_t *lsn);

/* The job the loop fills now (stage FILLING). */
struct hw_job *hw_writer_filling(struct hw_writer *w);

/* True when the writer holds no job: the filling job can be handed over. */
bool hw_writer_idle(const struct hw_writer *w);

/* Hand the filling job to the writer (it must be idle and the job non-empty); the other
 * job becomes the filling one, emptied. */
void hw_writer_kick(struct hw_writer *w);

/* Mark the job in the writer as consumed after its DONE callback (the writer is then
 * idle). Called by the loop from cb or later. */
void hw_writer_release(struct hw_writer *w);

/* Stop the thread after its current job and free everything. What the store holds is
 * committed and, with a log in front (hw_writer_set_wal), flushed: whoever starts from
 * the store's head next (a promotion, a step-down, a restart) takes it as durable,
 * though the log may not have flushed those entries yet. A failure of either is the
 * store's (sticky): hw_store_failure() returns it. */
void hw_writer_stop(struct hw_writer *w);

#endif
