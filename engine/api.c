/* api.c: the embedding API of a node (include/hawser.h): submits from any thread. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/node_int.h"

int hw_node_submit(struct hw_node *n, uint64_t request_id, const uint8_t *record, size_t len,
		   enum hw_durability mode, unsigned k, hw_submit_cb *cb, void *arg)
{
	if (n == NULL)
		return -EINVAL;
	return hw__node_enqueue(n, request_id, record, len, mode, k, false, cb, arg);
}

int hw__node_enqueue(struct hw_node *n, uint64_t request_id, const uint8_t *record, size_t len,
		     enum hw_durability mode, unsigned k, bool system, hw_submit_cb *cb,
		     void *arg)
{
	if (cb == NULL || (record == NULL && len > 0))
		return -EINVAL; /* as for every argument of NULL (hawser.h) */
	if (len > HW_RECORD_BYTES_MAX)
		return HW_ETOOBIG;
	if (k > 255 || (mode > HW_APPLIED && mode != HW_DEFAULT))
		return HW_ERANGE;
	struct hw_ext_submit *e = malloc(sizeof *e + len);
	if (e == NULL)
		return HW_ENOMEM;
	*e = (struct hw_ext_submit){.request_id = request_id, .mode = (uint8_t)mode,
				    .k = (uint8_t)k, .system = system, .cb = cb, .cb_arg = arg,
				    .len = len};
	if (len > 0) /* record may be NULL then */
		memcpy(e->data, record, len);
	/* The role is read under the queue's lock, which the primary's start and stop take
	 * too: a submit is either refused here or queued where the primary answers it, or
	 * its stop fails it (HW_ENOT_PRIMARY at a step-down); never left unanswered. */
	pthread_mutex_lock(&n->ext_mu);
	/* Bounded by the limit of waiting submits, counting those queued and those taken
	 * that wait for their outcome (the queue's own bound let twice that be without one),
	 * and in bytes (a node's own records are not refused; a record of any size goes into
	 * an empty queue) */
	bool full = n->ext_count + n->ext_taken >= n->cfg.waiters_max ||
		    (n->ext_count > 0 && n->ext_bytes + len > HW_EMBED_QUEUE_BYTES_MAX);
	int rc = !n->ext_open ? HW_ENOT_PRIMARY : full && !system ? HW_EBUSY : 0;
	if (rc != 0) {
		pthread_mutex_unlock(&n->ext_mu);
		free(e);
		return rc;
	}
	n->ext_count++;
	n->ext_bytes += len;
	if (n->ext_tail != NULL)
		n->ext_tail->next = e;
	else
		n->ext_head = e;
	n->ext_tail = e;
	hw_async_send(n->ext_async); /* only signals the loop: safe under the lock */
	pthread_mutex_unlock(&n->ext_mu);
	return 0;
}

void hw__node_ext_close(struct hw_node *n, int code)
{
	pthread_mutex_lock(&n->ext_mu);
	n->ext_open = false;
	struct hw_ext_submit *e = n->ext_head;
	n->ext_head = n->ext_tail = NULL;
	n->ext_count = 0;
	n->ext_bytes = 0;
	pthread_mutex_unlock(&n->ext_mu);
	while (e != NULL) { /* callbacks outside the lock: one may submit again */
		struct hw_ext_submit *next = e->next;
		struct hw_outcome o = {.request_id = e->request_id, .code = code};
		e->cb(e->cb_arg, &o);
		free(e);
		e = next;
	}
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	struct hw_outcome *out;
};

static void wait_cb(void *arg, const struct hw_outcome *o)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	*w->out = *o;
	w->done = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

int hw_node_submit_wait(struct hw_node *n, const uint8_t *record, size_t len,
			enum hw_durability mode, unsigned k, struct hw_outcome *out)
{
	if (out == NULL)
		return -EINVAL;
	struct waiter w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
			   .out = out};
	memset(out, 0, sizeof *out);
	if (n == NULL)
		return out->code = -EINVAL;
	pthread_mutex_lock(&n->ext_mu);
	bool on_loop = n->running && pthread_equal(n->run_thread, pthread_self());
	pthread_mutex_unlock(&n->ext_mu);
	/* the outcome would come on this thread, after this wait for it: never */
	int rc = on_loop ? -EDEADLK : hw_node_submit(n, 0, record, len, mode, k, wait_cb, &w);
	if (rc != 0) {
		out->code = rc;
		return rc;
	}
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &w.mu);
	pthread_mutex_unlock(&w.mu);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return out->code;
}
