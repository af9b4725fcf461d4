/* client_follow.c: a client given a list of addresses follows the primary by itself
 * (include/hawser.h, hw_client_connect): it keeps a copy of every submit in flight, and
 * when the connection is lost or an outcome says HW_ENOT_PRIMARY, searches for the new
 * primary and resends the copies there, oldest first, with the same request ids and
 * bytes (a record stored before comes back as a duplicate: idempotent by record_id).
 *
 * The copies live in a ring, c->fl[(c->fl_head + i) % HW_CLIENT_INFLIGHT_MAX] for
 * i < c->fl_count, oldest first; those answered inside it stay until the oldest is. The
 * connection, its frames and the search's rounds are engine/client.c's
 * (client_handle.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "engine/client_handle.h"
#include "hawser.h"

/* Follows in a row that may pass without one outcome before the submits in flight are
 * answered in doubt: a primary that takes the connection and loses it again each time
 * (it steps down, its frames are damaged) does not hold them for ever. A follow that found
 * the primary with nothing in flight does not count: no outcome could come of it, and an
 * idle client whose primary restarts now and then must not die of it. */
#define FOLLOW_ROUNDS_MAX 8u

/* How long a node that said it is going away is passed over as the primary
 * (hw__client_left). One whose storage failed stops acknowledging at once but steps down
 * only at its next tick (10 ms, longer under load), and until then still answers as the
 * primary: taken again, it would refuse the resent records the same way, and that
 * second refusal is their outcome (hw__client_refused_again), before any standby could be
 * elected. 1 s is far longer than that step-down, and shorter than a restart with its
 * recovery, so a primary with static roles restarted on a sound disk is taken again;
 * one whose storage failed and that stays the primary (static roles) refuses the records
 * resent once more, which is then their outcome (hw__client_refused_again). */
#define SHUN_MS 1000

static struct inflight *fl_at(struct hw_client *c, uint32_t i)
{
	return &c->fl[(c->fl_head + i) % HW_CLIENT_INFLIGHT_MAX];
}

/* The ring is full but some inside it have their outcome (an older one still waits):
 * move those still in flight to the front, in order (swapped: each keeps its buffer). */
static void fl_compact(struct hw_client *c)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < c->fl_count; i++) {
		struct inflight *e = fl_at(c, i);
		if (!e->busy)
			continue;
		struct inflight *to = fl_at(c, kept++), t = *to;
		*to = *e;
		*e = t;
	}
	c->fl_count = kept;
}

/* Keep a copy of a submit about to be sent (not sent yet: fl_unsent counts it). HW_EBUSY
 * when HW_CLIENT_INFLIGHT_MAX are in flight, HW_ENOMEM. */
static int fl_keep(struct hw_client *c, uint64_t request_id, const uint8_t *record, size_t len,
		   enum hw_durability mode, unsigned k)
{
	if (c->fl_busy == HW_CLIENT_INFLIGHT_MAX)
		return HW_EBUSY;
	if (c->fl_count == HW_CLIENT_INFLIGHT_MAX)
		fl_compact(c);
	struct inflight *e = fl_at(c, c->fl_count);
	if (len > e->cap) {
		uint8_t *b = realloc(e->bytes, len);
		if (b == NULL)
			return HW_ENOMEM;
		e->bytes = b;
		e->cap = len;
	}
	if (len)
		memcpy(e->bytes, record, len);
	e->len = len;
	e->request_id = request_id;
	e->mode = mode;
	e->k = k;
	e->busy = true;
	e->sent = false;
	e->answered = e->doubt = e->refused = false;
	c->fl_count++;
	c->fl_busy++;
	c->fl_unsent++;
	return 0;
}

/* The oldest entries that have their outcome leave the ring. */
static void fl_trim(struct hw_client *c)
{
	while (c->fl_count > 0 && !fl_at(c, 0)->busy) {
		c->fl_head = (c->fl_head + 1) % HW_CLIENT_INFLIGHT_MAX;
		c->fl_count--;
	}
}

int hw__client_submit_kept(struct hw_client *c, uint64_t request_id, const uint8_t *record,
			   size_t len, enum hw_durability mode, unsigned k)
{
	bool behind = !c->failed && hw__client_resending(c);
	int rc = fl_keep(c, request_id, record, len, mode, k);
	if (rc)
		return rc;
	if (behind)
		return 0; /* kept: the next wait writes it after the copies before it */
	rc = c->failed ? c->failed : hw__client_send_submit(c, request_id, record, len, mode, k);
	struct inflight *e = fl_at(c, c->fl_count - 1);
	if (rc == 0) {
		e->sent = true;
		c->fl_unsent--;
	}
	if (rc == 0 || hw__client_follow_helps(c, rc))
		return 0; /* or kept: the next wait finds the primary and sends it */
	/* not submitted: the caller hears it here, not as an outcome */
	e->busy = false;
	c->fl_count--;
	c->fl_busy--;
	c->fl_unsent--;
	return rc;
}

void hw__client_kept_done(struct hw_client *c, uint64_t request_id)
{
	for (uint32_t i = 0; i < c->fl_count; i++) {
		struct inflight *e = fl_at(c, i);
		if (e->busy && e->request_id == request_id) {
			e->busy = false;
			c->fl_busy--;
			c->fl_unsent -= !e->sent;
			break;
		}
	}
	fl_trim(c);
}

/* Following failed with rc: the search's last round (a dial's code, HW_ENOT_PRIMARY when
 * a node answered as a standby), or after FOLLOW_ROUNDS_MAX follows the last loss. Every
 * submit in flight is answered in doubt and every call on c returns, for good,
 * HW_ENOT_PRIMARY or else HW_ECLOSED (hawser.h): never rc itself, which may say "try
 * again" (HW_EBUSY from a node at its connection limit, -EAGAIN from a full Unix backlog)
 * to a caller who would then spin on a dead handle. stderr says rc. */
static int follow_failed(struct hw_client *c, int rc)
{
	int code = rc == HW_ENOT_PRIMARY ? HW_ENOT_PRIMARY : HW_ECLOSED;
	fprintf(stderr,
		"hawser client: following the primary failed: %s (%s); the submits in flight "
		"are answered in doubt, and every later call returns %s\n",
		hw_errname(rc), hw_strerror(rc), hw_errname(code));
	hw__client_search_done(c);
	c->fl_failed = code;
	c->failed = code; /* in place of the loss's or the dial's (hw__client_request) */
	c->lost = false;
	return code;
}

/* Find the primary and mark every submit in flight to be sent there again
 * (hw__client_resend writes them). A search lasts at most c->follow_ms, over as many
 * waits as it takes: one that reaches the wait's deadline (-1: none) first returns
 * -ETIMEDOUT and goes on at the next wait. 0, -ETIMEDOUT, -EINTR, or why following
 * failed, HW_ECLOSED or HW_ENOT_PRIMARY (follow_failed): then every submit in flight is
 * answered in doubt, and c's calls return that code for good (fl_failed). */
int hw__client_follow(struct hw_client *c, int64_t deadline)
{
	if (c->search_end == 0 && c->follows++ >= FOLLOW_ROUNDS_MAX)
		return follow_failed(c, c->failed); /* the loss that made this follow */
	if (c->search_end == 0) {
		c->search_end = hw_mono_ms() + c->follow_ms;
		for (uint32_t i = 0; i < c->fl_count; i++) { /* lost with it, or not */
			struct inflight *e = fl_at(c, i);
			e->doubt = e->doubt || (e->busy && e->sent && !e->answered);
		}
	}
	bool cut = deadline >= 0 && deadline < c->search_end;
	int rc = hw__client_search(c, cut ? deadline : c->search_end);
	if (rc == -EINTR) {
		c->follows--; /* interrupted, not failed: the next wait searches again */
		c->search_end = 0;
		hw__client_search_done(c);
		return rc;
	}
	if (rc != 0 && cut && hw_mono_ms() < c->search_end)
		return -ETIMEDOUT; /* the caller's time is up, not the search's */
	c->search_end = 0;
	if (rc)
		return follow_failed(c, rc);
	if (c->fl_busy == 0)
		c->follows--; /* idle: see FOLLOW_ROUNDS_MAX */
	for (uint32_t i = 0; i < c->fl_count; i++)
		fl_at(c, i)->sent = fl_at(c, i)->answered = false;
	c->fl_unsent = c->fl_busy;
	return 0;
}

bool hw__client_resending(const struct hw_client *c)
{
	return c->fl_unsent > 0 || c->pend_off < c->pend_len;
}

/* Write the submits in flight that this connection has not had (hw__client_follow marks
 * them all; one submitted meanwhile waits its turn behind them), oldest first (a record
 * may depend on one before it), with the same id and bytes: one the old primary stored
 * and the new one holds comes back as a duplicate at its first LSN. By deadline: a new
 * primary that reads slowly (back-pressure) cannot hold the wait past it. 0 once all are
 * written, -ETIMEDOUT or -EINTR (a signal caught while writing) with the rest kept for
 * the next wait, or the sticky error (then the wait follows again). Each goes once and
 * in order: the frame under way when time runs out is finished by the next write
 * (c->pend), never begun again. */
int hw__client_resend(struct hw_client *c, int64_t deadline)
{
	if (!hw__client_resending(c) || c->failed) /* a lost stream: the wait's read says so */
		return 0;
	int rc = hw__client_pend_write(c, deadline, true);
	for (uint32_t i = 0; rc == 0 && c->fl_unsent > 0 && i < c->fl_count; i++) {
		struct inflight *e = fl_at(c, i);
		if (!e->busy || e->sent)
			continue;
		e->sent = true; /* whole, or its rest in c->pend */
		c->fl_unsent--;
		rc = hw__client_send_submit_by(c, e->request_id, e->bytes, e->len, e->mode, e->k,
					       deadline, true);
	}
	return rc;
}

/* A damaged stream: a frame that fails its checks, a channel record that fails to open
 * (forged, replayed, cut), a message outside the protocol. This connection cannot go on,
 * but another can: the frame checks are there so that a corrupted frame costs a
 * reconnect, never data. */
static bool damaged(int rc)
{
	return rc == HW_EFRAME || rc == HW_EPROTOCOL || rc == HW_EDECRYPT || rc == HW_EREPLAY;
}

/* A lost stream (the OS's codes, a damaged one), or a node that is no longer the
 * primary. */
bool hw__client_follow_helps(const struct hw_client *c, int rc)
{
	return c->fl != NULL && c->fl_failed == 0 &&
	       (c->search_end != 0 || rc == HW_ENOT_PRIMARY || rc == HW_ECLOSED || damaged(rc) ||
		(rc < 0 && rc > -4096 && rc != -ETIMEDOUT));
}

/* The node will not take the record, and another may: it is no longer the primary
 * (HW_ENOT_PRIMARY), or it is going away with the record in doubt (HW_ECLOSED: it is
 * stopping, or its storage failed after it took the record: engine/node_primary.c
 * primary_failed), or its storage failed before the record was stored (a store code,
 * HW_ESTORE_FAILED for what came after the failure, HW_ESTORE_FULL ..., or the OS's,
 * -errno, for the batch it was filling): such a node acknowledges nothing more and steps
 * down (STYLE.md 5). Never a final outcome: a success or a duplicate (0), a refusal
 * (hw_is_reject: sent again, after later records, it would be judged against another
 * state), nor the primary's answers to this caller that nothing was written (HW_EBEHIND,
 * HW_EBUSY), which a new primary would not change. A record that the primary found
 * after such a refusal refuses so again (a primary with static roles whose storage failed
 * stays the primary) gets that refusal as its outcome (hw__client_refused_again). */
bool hw__client_outcome_follows(int code)
{
	bool store = code <= HW_ESTORE_FULL && code > HW_ESTORE_FULL - 100;
	return code == HW_ENOT_PRIMARY || code == HW_ECLOSED || store || (code < 0 && code > -4096);
}

bool hw__client_refused_again(struct hw_client *c, struct hw_outcome *out)
{
	struct inflight *e = NULL;
	for (uint32_t i = 0; i < c->fl_count && e == NULL; i++)
		if (fl_at(c, i)->busy && fl_at(c, i)->request_id == out->request_id)
			e = fl_at(c, i);
	if (e == NULL)
		return false; /* not one of ours: the search will not change that */
	e->answered = true;
	/* a primary that steps down answers its waiting submits HW_ENOT_PRIMARY, some of them
	 * in its log and on the standbys: in doubt too */
	if (out->code == HW_ENOT_PRIMARY || out->code == HW_ECLOSED) {
		e->doubt = true;
		return false;
	}
	if (!e->refused) {
		e->refused = true; /* another primary may take it: follow */
		return false;
	}
	if (e->doubt) /* it may be stored all the same, by a node before */
		out->code = HW_ECLOSED;
	hw__client_kept_done(c, out->request_id);
	return true;
}

int hw__client_left(struct hw_client *c, int code)
{
	if (code == HW_ENOT_PRIMARY)
		return code;
	c->shun = c->cur;
	c->shun_end = hw_mono_ms() + SHUN_MS;
	return HW_ECLOSED;
}

bool hw__client_shunned(const struct hw_client *c, uint32_t i)
{
	return i == c->shun && c->shun_end != 0 && hw_mono_ms() < c->shun_end;
}

int hw__client_fail_next(struct hw_client *c, struct hw_outcome *out)
{
	fl_trim(c);
	if (c->fl_count == 0)
		return c->fl_failed;
	struct inflight *e = fl_at(c, 0);
	memset(out, 0, sizeof *out);
	out->request_id = e->request_id;
	/* It may have reached the primary before the connection went: in doubt, whatever
	 * ended the search (a refused dial, a timeout), so the caller resubmits it. */
	out->code = c->fl_failed; /* HW_ECLOSED or HW_ENOT_PRIMARY: follow_failed */
	e->busy = false;
	c->fl_busy--;
	c->fl_unsent -= !e->sent;
	fl_trim(c);
	return 0;
}
