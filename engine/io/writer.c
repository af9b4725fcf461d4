/* writer.c: the store writer thread (engine/io/writer.h). */
#include "base/clock.h"
#include "engine/io/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/assert.h"
#include "base/cond.h"
#include "base/log.h"
#include "engine/io/loop.h"
#include "engine/io/wal.h"
#include "replica/entry.h"

struct hw_writer {
	struct hw_store *store;
	enum hw_job_kind kind;
	hw_writer_cb *cb;
	void *cb_arg;
	struct hw_async *async;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	struct hw_job jobs[2];
	struct hw_job *filling;
	struct hw_job *active;  /* in the writer, or done and not yet released; NULL: idle */
	struct hw_segment *out_head, *out_tail; /* under mu: active's entries not yet taken */
	bool done_seen;                         /* the loop heard of active's DONE */
	bool untold;            /* writer: the last piece is published, the loop not woken */
	struct hw_wal *wal;     /* when set: flush the store now and then, and let the log go */
	bool from_primary;      /* append jobs: hw_store_append_primary */
	uint64_t synced_lsn;
	int64_t synced_ms;
	int64_t held_ns;         /* writer: when the held transaction opened; 0: none */
	int64_t idle_ns;         /* writer: when the last job finished */
	uint64_t committed_lsn;  /* under mu: the store's committed head */
	uint64_t wanted_lsn;     /* under mu: commit at each job's end until this is committed */
	int commit_rc;           /* under mu: a commit between jobs failed */
	uint64_t committed_seen; /* loop: committed head reported to cb */
	bool rc_seen;            /* loop: commit_rc reported */
	/* writer-thread scratch for append jobs */
	const uint8_t **ptrs;
	struct hw_submit *subs;
};

void hw_segment_free(struct hw_segment *s)
{
	free(s);
}

static void segments_free(struct hw_segment *s)
{
	while (s != NULL) {
		struct hw_segment *next = s->next;
		hw_segment_free(s);
		s = next;
	}
}

bool hw_job_fits(const struct hw_job *j, size_t len)
{
	return j->n < HW_BATCH_RECORDS_MAX && j->used + len <= HW_BATCH_BYTES_MAX;
}

size_t hw_job_add(struct hw_job *j, const uint8_t *data, size_t len)
{
	HW_ASSERT(hw_job_fits(j, len));
	size_t i = j->n++;
	j->off[i] = j->used;
	j->len[i] = len;
	j->system[i] = false;
	j->refuse_new[i] = 0;
	memcpy(j->buf + j->used, data, len);
	j->used += len;
	return i;
}

static void job_empty(struct hw_job *j)
{
	j->stage = HW_JOB_FILLING;
	j->prepared_n = j->from = j->to = 0;
	j->n = 0;
	j->used = 0;
	segments_free(j->segment); /* those its owner did not take (writer.h) */
	j->segment = NULL;
	j->rc = 0;
	j->last_lsn = 0;
	j->committed_lsn = 0;
	memset(&j->rej, 0, sizeof j->rej);
}

static int job_alloc(struct hw_job *j, enum hw_job_kind kind)
{
	size_t n = HW_BATCH_RECORDS_MAX;
	j->kind = kind;
	/* Entries carry a header per record: room for HW_BATCH_BYTES_MAX of records. */
	j->buf = malloc(HW_BATCH_BYTES_MAX + n * HW_ENTRY_HEADER_BYTES);
	j->off = calloc(n, sizeof *j->off);
	j->len = calloc(n, sizeof *j->len);
	j->token = calloc(n, sizeof *j->token);
	j->mode = calloc(n, 1);
	j->k = calloc(n, 1);
	j->system = calloc(n, sizeof *j->system);
	j->refuse_new = calloc(n, sizeof *j->refuse_new);
	j->res = calloc(n, sizeof *j->res);
	job_empty(j);
	bool ok = j->buf && j->off && j->len && j->token && j->mode && j->k && j->system;
	return ok && j->refuse_new && j->res ? 0 : HW_ENOMEM;
}

static void job_free(struct hw_job *j)
{
	free(j->buf);
	free(j->off);
	free(j->len);
	free(j->token);
	free(j->mode);
	free(j->k);
	free(j->system);
	free(j->refuse_new);
	free(j->res);
	segments_free(j->segment);
}

/* The records of job j before n are prepared, their new entries in seg (NULL: none):
 * the loop may answer and stream them (writer.h, HW_WRITER_PIECE_RECORDS). The loop is
 * woken for the last piece with the DONE that follows at once (a wake-up of the loop
 * less a job), or before a commit comes between them (store_commit). */
static void publish(struct hw_writer *w, struct hw_job *j, size_t n, struct hw_segment *seg)
{
	pthread_mutex_lock(&w->mu);
	if (seg != NULL) {
		if (w->out_tail != NULL)
			w->out_tail->next = seg;
		else
			w->out_head = seg;
		w->out_tail = seg;
	}
	j->prepared_n = n;
	j->stage = HW_JOB_PREPARED;
	pthread_mutex_unlock(&w->mu);
	w->untold = n == j->n;
	if (!w->untold)
		hw_async_send(w->async);
}

static struct hw_segment *segment_copy(const struct hw_batch *b)
{
	if (b->first_lsn == 0)
		return NULL;
	struct hw_segment *s = malloc(sizeof *s + b->len);
	if (s == NULL)
		return NULL;
	s->next = NULL;
	s->first_lsn = b->first_lsn;
	s->last_lsn = b->last_lsn;
	s->len = b->len;
	memcpy(s->data, b->entries, b->len);
	return s;
}

/* With a log in front, the store's commits are flushed by its own thread after them
 * (hw_store_flushed): tell the log, every CHECKPOINT_RECORDS or CHECKPOINT_MS, what it no
 * longer needs to keep; now_anyway: flush everything first. A failed flush fails the job:
 * the store is then stopped. */
#define CHECKPOINT_RECORDS 65536u
#define CHECKPOINT_MS      1000

static int checkpoint(struct hw_writer *w, bool now_anyway)
{
	if (w->wal == NULL)
		return 0;
	uint64_t lsn;
	int rc = now_anyway ? hw_store_sync(w->store) : 0;
	if (rc == 0)
		rc = hw_store_flushed(w->store, &lsn);
	if (rc != 0)
		return rc;
	int64_t now = hw_mono_ms();
	if (!now_anyway && lsn - w->synced_lsn < CHECKPOINT_RECORDS &&
	    now - w->synced_ms < CHECKPOINT_MS)
		return 0;
	w->synced_lsn = lsn;
	w->synced_ms = now;
	hw_wal_checkpoint(w->wal, lsn);
	return 0;
}

void hw_writer_set_wal(struct hw_writer *w, struct hw_wal *wal)
{
	w->wal = wal;
	w->synced_ms = hw_mono_ms();
}

void hw_writer_set_from_primary(struct hw_writer *w)
{
	w->from_primary = true;
}

/* Commit whatever the store holds, flush it now and then (flush: now), and publish the
 * committed head. 0 or the sticky storage failure. */
static int store_commit(struct hw_writer *w, bool flush)
{
	if (w->untold) { /* the commit takes a while: the loop streams the piece meanwhile */
		w->untold = false;
		hw_async_send(w->async);
	}
	int rc = hw_store_commit(w->store);
	w->held_ns = 0;
	if (rc == 0)
		rc = checkpoint(w, flush);
	struct hw_head h;
	hw_store_head(w->store, &h);
	pthread_mutex_lock(&w->mu);
	w->committed_lsn = h.lsn;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* A reader waits for the store to commit (hw_writer_commit_soon): w->mu held. */
static bool commit_wanted(const struct hw_writer *w)
{
	return w->wanted_lsn > w->committed_lsn;
}

/* How long the writer holds a transaction open while busy (writer.h). */
static int64_t commit_after_ns(const struct hw_writer *w)
{
	int64_t ms = w->kind == HW_JOB_APPEND ? HW_WRITER_APPLY_COMMIT_MS : HW_WRITER_COMMIT_MS;
	return ms * 1000000LL;
}

/* When the held transaction must be committed, in ns of hw_mono_ns(); 0 when none is held.
 * Now, when it is full or wanted. w->mu held. */
static int64_t commit_due_ns(struct hw_writer *w)
{
	uint64_t entries;
	if (!hw_store_held(w->store, &entries))
		return 0;
	if (hw_store_held_full(w->store) || commit_wanted(w))
		return 1;
	int64_t due = w->held_ns + commit_after_ns(w);
	int64_t idle = w->idle_ns + HW_WRITER_IDLE_US * 1000LL;
	return idle < due ? idle : due;
}

/* After a job's batch: commit it, or with a log in front hold it for the next jobs and
 * commit only when due (the log already made it durable). held: the store holds it
 * already (hw_store_append_hold). */
static int job_commit(struct hw_writer *w, bool held)
{
	if (w->wal == NULL)
		return store_commit(w, false);
	if (!held)
		hw_store_hold(w->store);
	int64_t now = (int64_t)hw_mono_ns();
	if (w->held_ns == 0)
		w->held_ns = now;
	w->idle_ns = now;
	pthread_mutex_lock(&w->mu);
	bool wanted = commit_wanted(w);
	pthread_mutex_unlock(&w->mu);
	if (wanted || hw_store_held_full(w->store) || now - w->held_ns >= commit_after_ns(w))
		return store_commit(w, false);
	return 0;
}

/* Finish job j: the head it reached, the committed head, and DONE. */
static void job_done(struct hw_writer *w, struct hw_job *j)
{
	struct hw_head h;
	uint64_t held;
	hw_store_head(w->store, &h);
	hw_store_held(w->store, &held);
	j->committed_lsn = h.lsn;
	if (j->kind == HW_JOB_APPEND)
		j->last_lsn = h.lsn + held;
	pthread_mutex_lock(&w->mu);
	j->stage = HW_JOB_DONE;
	pthread_cond_broadcast(&w->cv); /* hw_writer_stop waits for it */
	pthread_mutex_unlock(&w->mu);
	w->untold = false;
	hw_async_send(w->async);
}

/* Prepare the m records of submit job j from at on, and publish them. 0, or the failure
 * that ends the job (the pieces before stay prepared and held). */
static int prepare_piece(struct hw_writer *w, struct hw_job *j, size_t at, size_t m)
{
	for (size_t i = 0; i < m; i++)
		w->subs[i] = (struct hw_submit){.data = j->buf + j->off[at + i],
						.len = j->len[at + i],
						.system = j->system[at + i],
						.refuse_new = j->refuse_new[at + i]};
	struct hw_batch b;
	int rc = hw_store_prepare(w->store, j->epoch, j->now_ms, w->subs, m, j->res + at, &b);
	if (rc != 0)
		return rc;
	struct hw_segment *seg = segment_copy(&b);
	if (b.first_lsn != 0 && seg == NULL) {
		hw_store_abort(w->store); /* this piece only: held ones stay */
		return HW_ENOMEM;
	}
	if (b.first_lsn != 0)
		j->last_lsn = b.last_lsn;
	publish(w, j, at + m, seg);
	return 0;
}

static void run_submit(struct hw_writer *w, struct hw_job *j)
{
	size_t piece = w->wal != NULL ? HW_WRITER_PIECE_RECORDS : j->n;
	j->rc = 0;
	for (size_t at = 0; at < j->n && j->rc == 0; at += piece) {
		j->rc = prepare_piece(w, j, at, j->n - at < piece ? j->n - at : piece);
		/* held for the next piece, or committed when due: a piece, as a job, starts
		 * with less than HW_STORE_HELD_BYTES held (the store's replay room) */
		if (j->rc == 0)
			j->rc = job_commit(w, false);
	}
	job_done(w, j);
}

/* A refused entry cuts the job (hw_store_append_hold): the entries before it are held
 * and committed as a whole job's would be, and j->rc says why the rest was not taken. */
static void run_append(struct hw_writer *w, struct hw_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		w->ptrs[i] = j->buf + j->off[i];
	int rc = w->from_primary ? hw_store_append_primary(w->store, w->ptrs, j->len, j->n, &j->rej)
				 : hw_store_append_hold(w->store, w->ptrs, j->len, j->n, &j->rej);
	uint64_t held;
	int crc = hw_store_failure(w->store) == 0 && hw_store_held(w->store, &held)
			  ? job_commit(w, true)
			  : 0;
	j->rc = crc != 0 ? crc : rc;
	job_done(w, j);
}

/* The next queued job, committing held batches when they fall due meanwhile (then the
 * loop hears of it through the async). NULL when stopping, after a last commit. */
static struct hw_job *next_job(struct hw_writer *w)
{
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct hw_job *j = w->active;
		if (w->stopping || (j != NULL && j->stage == HW_JOB_QUEUED)) {
			pthread_mutex_unlock(&w->mu);
			return w->stopping ? NULL : j;
		}
		int64_t due = commit_due_ns(w);
		if (due == 0) {
			pthread_cond_wait(&w->cv, &w->mu);
		} else if ((int64_t)hw_mono_ns() < due) {
			hw_cond_wait_until(&w->cv, &w->mu, due);
		} else {
			pthread_mutex_unlock(&w->mu);
			int rc = store_commit(w, false);
			pthread_mutex_lock(&w->mu);
			if (rc != 0 && w->commit_rc == 0)
				w->commit_rc = rc; /* no job to carry it: the loop reads it */
			hw_async_send(w->async);
		}
	}
}

/* An append writer's thread steps below its creator (writer.h); on Linux, who = 0 of
 * PRIO_PROCESS is the calling thread alone. Named only after, so whoever sees the name
 * sees the priority too. */
static void *writer_main(void *arg)
{
	struct hw_writer *w = arg;
	if (w->kind == HW_JOB_APPEND) {
		errno = 0;
		int nice = getpriority(PRIO_PROCESS, 0) + HW_WRITER_APPLY_NICE;
		if (errno != 0 || setpriority(PRIO_PROCESS, 0, nice < 19 ? nice : 19) != 0)
			hw_log("writer_priority_kept", "errno=%d what=\"%s\"", errno,
			       "the apply keeps the loop's priority: on a busy CPU "
			       "acknowledgements may wait for it");
	}
	pthread_setname_np(pthread_self(), "hw-store"); /* top -H, perf */
	for (;;) {
		struct hw_job *j = next_job(w);
		if (j == NULL) { /* a failure stays the store's, read by its next commit */
			store_commit(w, true);
			return NULL;
		}
		if (j->kind == HW_JOB_SUBMIT)
			run_submit(w, j);
		else
			run_append(w, j);
	}
}

/* Loop thread: report a commit between jobs (or its failure) not yet seen through a DONE. */
static void report_committed(struct hw_writer *w)
{
	uint64_t lsn;
	int rc = hw_writer_committed(w, &lsn);
	if (lsn <= w->committed_seen && (rc == 0 || w->rc_seen))
		return;
	w->committed_seen = lsn > w->committed_seen ? lsn : w->committed_seen;
	w->rc_seen = rc != 0;
	w->cb(w->cb_arg, NULL, HW_JOB_COMMITTED);
}

/* Loop thread: report the active job's stages in order, PREPARED (if it happened) then
 * DONE, however the wake-ups coalesced. A commit between jobs that failed goes first:
 * the job's own failure (the store's sticky HW_ESTORE_FAILED) comes from it, and the node
 * logs the first cause it hears. */
static void writer_async_cb(struct hw_async *a, void *arg)
{
	(void)a;
	struct hw_writer *w = arg;
	uint64_t lsn;
	if (hw_writer_committed(w, &lsn) != 0)
		report_committed(w);
	for (;;) {
		pthread_mutex_lock(&w->mu);
		struct hw_job *j = w->active;
		enum hw_job_stage next = HW_JOB_FILLING;
		if (j != NULL && j->prepared_n > j->to) { /* the pieces published since */
			next = HW_JOB_PREPARED;
			j->from = j->to;
			j->to = j->prepared_n;
			j->segment = w->out_head;
			w->out_head = w->out_tail = NULL;
		} else if (j != NULL && j->stage == HW_JOB_DONE && !w->done_seen) {
			next = HW_JOB_DONE;
			w->done_seen = true;
		}
		if (next == HW_JOB_DONE && j->committed_lsn > w->committed_seen)
			w->committed_seen = j->committed_lsn;
		pthread_mutex_unlock(&w->mu);
		if (next == HW_JOB_FILLING)
			break;
		w->cb(w->cb_arg, j, next);
	}
	report_committed(w);
}

void hw_writer_commit_soon(struct hw_writer *w, uint64_t lsn)
{
	pthread_mutex_lock(&w->mu);
	if (lsn > w->wanted_lsn)
		w->wanted_lsn = lsn;
	pthread_cond_signal(&w->cv); /* a writer between jobs commits at once */
	pthread_mutex_unlock(&w->mu);
}

int hw_writer_committed(struct hw_writer *w, uint64_t *lsn)
{
	pthread_mutex_lock(&w->mu);
	*lsn = w->committed_lsn;
	int rc = w->commit_rc;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* The store's flusher thread: one of its flushes failed. The store says so at its next
 * commit, which an idle writer may not make: the loop hears it now, as a failed commit
 * between jobs. */
static void store_failed_cb(void *arg)
{
	struct hw_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	if (w->commit_rc == 0)
		w->commit_rc = hw_store_failure(w->store);
	pthread_mutex_unlock(&w->mu);
	hw_async_send(w->async);
}

int hw_writer_start(struct hw_store *s, struct hw_loop *loop, enum hw_job_kind kind,
		    hw_writer_cb *cb, void *arg, struct hw_writer **out)
{
	struct hw_writer *w = calloc(1, sizeof *w);
	if (w == NULL)
		return HW_ENOMEM;
	w->store = s;
	w->kind = kind;
	w->cb = cb;
	w->cb_arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	hw_cond_init(&w->cv); /* next_job() waits on it for the next commit's due time */
	struct hw_head h;
	hw_store_head(s, &h);
	w->committed_lsn = h.lsn;
	w->committed_seen = h.lsn;
	w->ptrs = calloc(HW_BATCH_RECORDS_MAX, sizeof *w->ptrs);
	w->subs = calloc(HW_BATCH_RECORDS_MAX, sizeof *w->subs);
	int rc = HW_ENOMEM;
	if (w->ptrs == NULL || w->subs == NULL || job_alloc(&w->jobs[0], kind) != 0 ||
	    job_alloc(&w->jobs[1], kind) != 0)
		goto fail;
	w->filling = &w->jobs[0];
	rc = hw_async_new(loop, writer_async_cb, w, &w->async);
	if (rc != 0)
		goto fail;
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		hw_async_free(w->async);
		rc = HW_ENOMEM;
		goto fail;
	}
	hw_store_on_failure(s, store_failed_cb, w);
	*out = w;
	return 0;
fail:
	job_free(&w->jobs[0]);
	job_free(&w->jobs[1]);
	free(w->ptrs);
	free(w->subs);
	free(w);
	return rc;
}

struct hw_job *hw_writer_filling(struct hw_writer *w)
{
	return w->filling;
}

bool hw_writer_idle(const struct hw_writer *w)
{
	return w->active == NULL;
}

void hw_writer_kick(struct hw_writer *w)
{
	HW_ASSERT(w->active == NULL);
	HW_ASSERT(w->filling->n > 0);
	struct hw_job *j = w->filling;
	w->filling = j == &w->jobs[0] ? &w->jobs[1] : &w->jobs[0];
	job_empty(w->filling);
	pthread_mutex_lock(&w->mu);
	j->stage = HW_JOB_QUEUED;
	w->active = j;
	w->done_seen = false;
	pthread_mutex_unlock(&w->mu);
	/* after mu is let go: a writer woken while the loop holds it sleeps again on mu */
	pthread_cond_signal(&w->cv);
}

void hw_writer_release(struct hw_writer *w)
{
	pthread_mutex_lock(&w->mu);
	HW_ASSERT(w->active != NULL && w->active->stage == HW_JOB_DONE);
	w->active = NULL;
	pthread_mutex_unlock(&w->mu);
}

void hw_writer_stop(struct hw_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	/* Let a queued or running job finish: its commit may be under way. */
	while (w->active != NULL && w->active->stage != HW_JOB_DONE)
		pthread_cond_wait(&w->cv, &w->mu);
	/* A standby applies what it took before it stops: its log holds those entries
	 * already, and a store that stopped behind its log only costs a replay at the next
	 * start. (A primary's unprepared submits are dropped: nobody is there to answer.) */
	if (w->kind == HW_JOB_APPEND && w->filling->n > 0) {
		w->active = NULL;
		pthread_mutex_unlock(&w->mu);
		hw_writer_kick(w);
		pthread_mutex_lock(&w->mu);
		while (w->active->stage != HW_JOB_DONE)
			pthread_cond_wait(&w->cv, &w->mu);
	}
	w->stopping = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	hw_store_on_failure(w->store, NULL, NULL);
	hw_async_free(w->async);
	job_free(&w->jobs[0]);
	job_free(&w->jobs[1]);
	segments_free(w->out_head); /* pieces the loop did not take */
	free(w->ptrs);
	free(w->subs);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
