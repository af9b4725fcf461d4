/* writer.c: the store writer thread (engine/io/writer.h). */
#include "engine/io/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
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
	struct hw_job *active; /* in the writer, or done and not yet released; NULL: idle */
	enum hw_job_stage seen; /* last stage of active reported to the loop */
	struct hw_wal *wal;    /* when set: flush the store now and then, and let the log go */
	uint64_t synced_lsn;
	int64_t synced_ms;
	/* writer-thread scratch for append jobs */
	const uint8_t **ptrs;
	struct hw_submit *subs;
};

void hw_segment_free(struct hw_segment *s)
{
	free(s);
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
	memcpy(j->buf + j->used, data, len);
	j->used += len;
	return i;
}

static void job_empty(struct hw_job *j)
{
	j->stage = HW_JOB_FILLING;
	j->prepared = false;
	j->n = 0;
	j->used = 0;
	j->segment = NULL;
	j->rc = 0;
	j->last_lsn = 0;
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
	j->res = calloc(n, sizeof *j->res);
	job_empty(j);
	return j->buf && j->off && j->len && j->token && j->mode && j->k && j->res ? 0 : HW_ENOMEM;
}

static void job_free(struct hw_job *j)
{
	free(j->buf);
	free(j->off);
	free(j->len);
	free(j->token);
	free(j->mode);
	free(j->k);
	free(j->res);
	hw_segment_free(j->segment);
}

static void set_stage(struct hw_writer *w, struct hw_job *j, enum hw_job_stage stage)
{
	pthread_mutex_lock(&w->mu);
	j->stage = stage;
	if (stage == HW_JOB_PREPARED)
		j->prepared = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
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

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* With a log in front, the store commits without flushing its meta page: flush it now
 * and then (every CHECKPOINT_RECORDS or CHECKPOINT_MS), and tell the log what it no
 * longer needs to keep. A failed flush fails the job: the store is then stopped. */
#define CHECKPOINT_RECORDS 65536u
#define CHECKPOINT_MS 1000

static int checkpoint(struct hw_writer *w)
{
	if (w->wal == NULL)
		return 0;
	struct hw_head h;
	hw_store_head(w->store, &h);
	int64_t now = mono_ms();
	if (h.lsn - w->synced_lsn < CHECKPOINT_RECORDS && now - w->synced_ms < CHECKPOINT_MS)
		return 0;
	int rc = hw_store_sync(w->store);
	if (rc != 0)
		return rc;
	w->synced_lsn = h.lsn;
	w->synced_ms = now;
	hw_wal_checkpoint(w->wal, h.lsn);
	return 0;
}

void hw_writer_set_wal(struct hw_writer *w, struct hw_wal *wal)
{
	w->wal = wal;
	w->synced_ms = mono_ms();
}

static void run_submit(struct hw_writer *w, struct hw_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		w->subs[i] = (struct hw_submit){.data = j->buf + j->off[i], .len = j->len[i]};
	struct hw_batch b;
	j->rc = hw_store_prepare(w->store, j->epoch, j->now_ms, w->subs, j->n, j->res, &b);
	if (j->rc != 0) {
		set_stage(w, j, HW_JOB_DONE);
		return;
	}
	j->segment = segment_copy(&b);
	if (b.first_lsn != 0 && j->segment == NULL) {
		hw_store_abort(w->store);
		j->rc = HW_ENOMEM;
		set_stage(w, j, HW_JOB_DONE);
		return;
	}
	j->last_lsn = b.first_lsn ? b.last_lsn : 0;
	set_stage(w, j, HW_JOB_PREPARED);
	j->rc = hw_store_commit(w->store);
	if (j->rc == 0)
		j->rc = checkpoint(w);
	set_stage(w, j, HW_JOB_DONE);
}

static void run_append(struct hw_writer *w, struct hw_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		w->ptrs[i] = j->buf + j->off[i];
	j->rc = hw_store_append_entries(w->store, w->ptrs, j->len, j->n, &j->rej);
	if (j->rc == 0)
		j->rc = checkpoint(w);
	struct hw_head h;
	hw_store_head(w->store, &h);
	j->last_lsn = h.lsn;
	set_stage(w, j, HW_JOB_DONE);
}

static void *writer_main(void *arg)
{
	struct hw_writer *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->stopping && (w->active == NULL || w->active->stage != HW_JOB_QUEUED))
			pthread_cond_wait(&w->cv, &w->mu);
		struct hw_job *j = w->stopping ? NULL : w->active;
		pthread_mutex_unlock(&w->mu);
		if (j == NULL)
			return NULL;
		if (j->kind == HW_JOB_SUBMIT)
			run_submit(w, j);
		else
			run_append(w, j);
	}
}

/* Loop thread: report the active job's stages in order, PREPARED (if it happened) then
 * DONE, however the wake-ups coalesced. */
static void writer_async_cb(struct hw_async *a, void *arg)
{
	(void)a;
	struct hw_writer *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		struct hw_job *j = w->active;
		enum hw_job_stage next = HW_JOB_FILLING;
		if (j != NULL && j->prepared && w->seen < HW_JOB_PREPARED)
			next = HW_JOB_PREPARED;
		else if (j != NULL && j->stage == HW_JOB_DONE && w->seen < HW_JOB_DONE)
			next = HW_JOB_DONE;
		if (next != HW_JOB_FILLING)
			w->seen = next;
		pthread_mutex_unlock(&w->mu);
		if (next == HW_JOB_FILLING)
			return;
		w->cb(w->cb_arg, j, next);
	}
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
	pthread_cond_init(&w->cv, NULL);
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
	w->seen = HW_JOB_QUEUED;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
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
	hw_async_free(w->async);
	job_free(&w->jobs[0]);
	job_free(&w->jobs[1]);
	free(w->ptrs);
	free(w->subs);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
