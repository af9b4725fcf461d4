/* failover_remote.c: the remote side of struct hw_fo_nodes (cli/failover_run.h): a
 * running cluster the operator points at (`hawser drill failover --connect`), reached
 * through its nodes' client ports only, over the channel the operator's key opens.
 *
 * The fault: the primary is asked to crash itself, or to isolate itself (wire.proto
 * DrillFault), which it does only with [drills] allow_fault = true and for a pinned key;
 * the fault counts from its acknowledgement (a crashing node exits right after sending
 * it; an isolating one has cut its links by then). After a crash its supervisor (systemd
 * Restart=) brings it back; an isolated node takes links again after isolate_ms by
 * itself. The rejoin is the time from then until the new primary's status shows it
 * connected as a standby and caught up (hw_cluster_wait_joined_at). The loss check
 * resubmits every acknowledged record to the new primary: hawser is idempotent by
 * record_id, so a record it holds comes back as a duplicate at its first LSN, which must
 * be the LSN it was acknowledged at; anything else (stored anew, refused) is a lost
 * record. An answer in doubt (the connection lost, the node stepped down) or none says
 * nothing of the store: such a record is not counted as lost, and the check fails.
 * A supervisor that restarts the crashed node within the detection time may see it
 * elected again before any standby (cli/failover_run.c: the run is then restarted, not a
 * failover); the loss check then resubmits to it, as to any new primary. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/names.h"
#include "bench/cluster.h"
#include "cli/failover_run.h"
#include "engine/client_int.h"
#include "engine/client_settle.h"
#include "engine/config.h"
#include "hawser.h"
#include "wire.pb-c.h"

#define STATUS_MS 2000  /* one node's status */
#define POLL_MS   50    /* between status polls */
#define FAULT_MS  5000  /* the fault request's reply */
#define CHECK_MS  10000 /* one resubmit's outcome during the loss check */

struct hw_fo_remote {
	const struct hw_client_security *sec;
	char *list; /* the addresses as given, for the load's client */
	unsigned n;
	char addr[HW_FO_NODES_MAX][HW_ADDR_CHARS_MAX + 1];
	/* each node's id, or its address when it did not answer (an address is longer) */
	char id[HW_FO_NODES_MAX][HW_ADDR_CHARS_MAX + 1];
};

int hw_fo_remote_new(const char *addrs, const struct hw_client_security *sec,
		     struct hw_fo_remote **out)
{
	struct hw_fo_remote *rm = calloc(1, sizeof *rm);
	if (!rm || !(rm->list = strdup(addrs))) {
		free(rm);
		return HW_ENOMEM;
	}
	rm->sec = sec;
	size_t n;
	if (hw_addrs_parse(addrs, rm->addr, HW_FO_NODES_MAX, &n) != 0) {
		hw_fo_remote_free(rm);
		return HW_ERANGE;
	}
	rm->n = (unsigned)n;
	for (unsigned i = 0; i < rm->n; i++) {
		Hawser__Wire__V1__Status *s;
		bool named = hw_cluster_status_at(rm->addr[i], rm->sec, STATUS_MS, &s) == 0;
		if (named) {
			snprintf(rm->id[i], sizeof rm->id[i], "%s", s->node_id);
			hawser__wire__v1__status__free_unpacked(s, NULL);
		} else {
			memcpy(rm->id[i], rm->addr[i], sizeof rm->id[i]);
		}
	}
	*out = rm;
	return 0;
}

void hw_fo_remote_free(struct hw_fo_remote *rm)
{
	if (rm)
		free(rm->list);
	free(rm);
}

static unsigned remote_count(const void *at)
{
	const struct hw_fo_remote *rm = at;
	return rm->n;
}

static const char *remote_id(const void *at, unsigned i)
{
	const struct hw_fo_remote *rm = at;
	return i < rm->n ? rm->id[i] : "?";
}

static const char *remote_addr(const void *at, unsigned i)
{
	const struct hw_fo_remote *rm = at;
	return i < rm->n ? rm->addr[i] : NULL;
}

static int remote_connect(const void *at, struct hw_client **out)
{
	const struct hw_fo_remote *rm = at;
	return hw_client_connect_secure(rm->list, rm->sec, out);
}

/* rm's nodes for bench/cluster.h's status waits. */
static struct hw_cluster_addrs nodes_of(const struct hw_fo_remote *rm)
{
	return (struct hw_cluster_addrs){.addr = remote_addr,
					 .at = rm,
					 .n = rm->n,
					 .sec = rm->sec,
					 .wait_ms = STATUS_MS,
					 .poll_ms = POLL_MS};
}

static int remote_primary(void *at, int timeout_ms, unsigned *i)
{
	struct hw_cluster_addrs a = nodes_of(at);
	return hw_cluster_primary_at(&a, timeout_ms, i);
}

static int remote_epoch(void *at, unsigned i, uint64_t *epoch)
{
	const struct hw_fo_remote *rm = at;
	Hawser__Wire__V1__Status *s;
	int rc = i < rm->n ? hw_cluster_status_at(rm->addr[i], rm->sec, STATUS_MS, &s) : -ESRCH;
	if (rc == 0) {
		*epoch = s->epoch;
		hawser__wire__v1__status__free_unpacked(s, NULL);
	}
	return rc;
}

static const char *remote_log(const void *at, unsigned i)
{
	(void)at;
	(void)i;
	return NULL;
}

/* The primary crashes or isolates itself; the fault is when it said it did. */
static int remote_fault(struct hw_fo_run *r)
{
	struct hw_client *cl = NULL;
	int rc = hw_client_connect_secure(r->remote->addr[r->old_p], r->remote->sec, &cl);
	if (rc == 0)
		rc = r->fault == HW_FO_PARTITION
			     ? hw_client_drill_isolate(cl, (uint32_t)r->isolate_ms, FAULT_MS)
			     : hw_client_drill_crash(cl, FAULT_MS);
	if (rc == 0) {
		r->fault_wall_ms = hw_wall_ms();
		r->t_fault = hw_fo_clock(r);
	}
	hw_client_close(cl);
	return rc;
}

/* Crashed: its supervisor restarts it, maybe before this is called: the rejoin counts
 * from the crash, the supervisor's delay included. Isolated: it heals by itself at the
 * isolation's end, which this waits for; the rejoin counts from there. */
static int remote_heal(struct hw_fo_run *r)
{
	if (r->fault != HW_FO_PARTITION) {
		r->t_heal = r->t_fault;
		return 0;
	}
	double end = r->t_fault + r->isolate_ms / 1000.0;
	double now = hw_fo_clock(r);
	if (now < end)
		hw_sleep_ms((end - now) * 1000);
	r->t_heal = end;
	return 0;
}

static int remote_wait_joined(void *at, unsigned i, int timeout_ms, char *behind, size_t cap)
{
	const struct hw_fo_remote *rm = at;
	struct hw_cluster_addrs a = nodes_of(rm);
	return hw_cluster_wait_joined_at(&a, i, rm->id[i], timeout_ms, behind, cap);
}

/* The loss check under way: the run, its resubmits without an outcome, and the
 * records the new primary answered for (of the run's r->acked). */
struct check {
	struct hw_fo_run *r;
	uint64_t outstanding;
	uint64_t checked;
};

/* A resubmit's outcome: held (a duplicate at the LSN it was acknowledged at) or lost
 * (stored anew, or refused). An error that says nothing of the new primary's store (the
 * connection went, it stepped down, back-pressure) leaves the record unchecked: it is
 * not counted as lost. */
static int check_cb(void *arg, const struct hw_outcome *o)
{
	struct check *ck = arg;
	struct hw_fo_run *r = ck->r;
	uint64_t i = o->request_id;
	if (i < r->from || i >= r->to)
		return 0;
	ck->outstanding--;
	if (o->code != 0 && !hw_is_reject(o->code))
		return 0;
	bool held = o->code == 0 && o->duplicate && o->lsn == r->load->lsn[i];
	ck->checked++;
	r->lost += !held;
	r->lost_beyond_rpo += !held && r->load->at_ms[i] < r->fault_wall_ms - r->rpo_ms;
	return 0;
}

/* Resubmit every acknowledged record of the run, at most a window in flight, and count
 * the outcomes. Returns 0, or the error that stopped it: after a resubmit that failed
 * too, the outcomes the client holds for those before it count (a lost connection's come
 * before the loss, include/hawser.h). */
static int resubmit_all(struct hw_client *cl, struct check *ck)
{
	const struct hw_fo_run *r = ck->r;
	const struct hw_fo_load *l = r->load;
	int rc = 0;
	bool waited_out = false; /* a wait's error, which comes after the outcomes before it */
	for (uint64_t i = r->from; i < r->to; i++) {
		if (!l->done[i] || l->code[i] != 0)
			continue;
		while (rc == 0 && ck->outstanding >= r->window) {
			struct hw_outcome o;
			rc = hw_client_wait(cl, CHECK_MS, &o);
			waited_out = rc != 0;
			rc = rc ? rc : check_cb(ck, &o);
		}
		if (rc == 0)
			rc = hw_client_submit(cl, i, l->rec[i], l->len[i], HW_DEFAULT, 0);
		ck->outstanding += rc == 0;
	}
	int settled =
		waited_out ? 0 : hw_client_settle(cl, CHECK_MS, &ck->outstanding, check_cb, ck);
	return rc ? rc : settled;
}

/* Resubmit every acknowledged record of the run and compare; a record without a verdict
 * fails the check (r->lost counts only those found lost). */
static int remote_loss_check(struct hw_fo_run *r)
{
	struct hw_client *cl = NULL;
	struct check ck = {.r = r};
	int rc = remote_connect(r->remote, &cl);
	if (rc == 0)
		rc = resubmit_all(cl, &ck);
	hw_client_close(cl);
	uint64_t left = r->acked - ck.checked;
	if (rc)
		return hw_fo_failed(r,
				    "loss check on the new primary: %s (%s), %" PRIu64
				    " of %" PRIu64 " acknowledged records not checked",
				    hw_strerror(rc), hw_errname(rc), left, r->acked);
	if (left)
		return hw_fo_failed(r,
				    "loss check on the new primary: %" PRIu64 " of %" PRIu64
				    " acknowledged records answered in doubt",
				    left, r->acked);
	return 0;
}

const struct hw_fo_nodes hw_fo_remote_nodes = {
	.count = remote_count,
	.id = remote_id,
	.addr = remote_addr,
	.connect = remote_connect,
	.primary = remote_primary,
	.epoch = remote_epoch,
	.log = remote_log,
	.fault = remote_fault,
	.heal = remote_heal,
	.wait_joined = remote_wait_joined,
	.loss_check = remote_loss_check,
};
