/* failover_run.c: one failover under TOS load (cli/failover_run.h), and the local
 * cluster's side of struct hw_fo_nodes.
 *
 * The phases of the timeline come from the new primary's own log (one host, one wall
 * clock): detection ends at its first election_started after the fault, the election at
 * elected, the replay (promotion: the store caught up with the log, the primary started)
 * at became_primary; the first commit is the client's first success from it. A remote
 * cluster keeps its logs on its hosts: only the client's measures are known there.
 *
 * Overlapping primaries, exactly: two primaries overlap when the old one acknowledged a
 * submit at or after the new one's first acknowledgement. Both ends are taken where they
 * are known exactly, and each test below can only find a real overlap, never invent one:
 * - the nodes' logs: the new primary's first_ack wall_ms (stamped when it released its
 *   first success in the new epoch) against the old primary's last success: after a
 *   SIGKILL, the wall time once the process was reaped (it released nothing later); when
 *   it was cut off, the largest last_ack_wall_ms (stamped at every success) of the fenced
 *   and stepped_down lines it logged after the fault, or, with no stepped_down line, now
 *   (its term is still open). Equal milliseconds count: their order is unknown.
 * - a remote cluster (no logs): the new primary's first success as the client received it
 *   (no earlier than it was released) against the old primary's last as the client sent
 *   it (released no earlier) when it was isolated; after a crash, the crash's reply.
 * - the outcomes: a success the old primary answered for a submit the client sent after
 *   the new primary's first_ack: the old primary released it after it was sent.
 *
 * Restarted, not failed over: a killed primary that its supervisor restarts within the
 * detection time may win the election before any standby does (it holds the whole log).
 * The process that was killed released nothing after the fault took effect, and the load's
 * client takes every outcome of a connection before it opens another
 * (hw_client_connects): so a success from the old primary's address on a connection opened
 * after the fault came from a process started after it. When the first success after the
 * fault is such a one, the service came back by the restart: the RTO is measured to it as
 * to a new primary's, the losses are looked up on it, and overlap is judged between the
 * killed process and the restarted one (the killed one's successes are those of the
 * connection it had); no standby was promoted and there is nothing to rejoin, which the
 * run says (r->restarted) rather than failing for want of a new primary. */
#include "base/clock.h"
#include "base/log.h"
#include "cli/failover_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "bench/cluster.h"
#include "bench/workload.h"
#include "cli/cli.h"
#include "cli/report.h"
#include "engine/client_int.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "wire.pb-c.h"

#define STALL_MS     3000  /* no outcome for this long with submits in flight: reconnect */
#define PRIMARY_MS   10000 /* a primary answering its status once the client has seen it */
#define TICK_S       0.1   /* the caller's tick, at least this often */
#define DRAIN_MS     15000 /* outcomes of what is in flight once submitting stopped */
#define HEAD_WAIT_MS 5000  /* the new primary's store catching up with its log */
#define STATUS_MS    2000  /* one node's status, for its epoch */

int hw_fo_failed(struct hw_fo_run *r, const char *fmt, ...)
{
	if (r->fail[0] == '\0') {
		char full[sizeof r->fail + 1]; /* a byte past it: that it was longer */
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(full, sizeof full, fmt, ap);
		va_end(ap);
		hw_report_cut(r->fail, sizeof r->fail, full); /* "..." where it was cut */
	}
	return -1;
}

double hw_fo_clock(const struct hw_fo_run *r)
{
	return hw_mono_s() - r->t0;
}

/* The run's cluster: its operations and what they act on. */
static const struct hw_fo_nodes *ops(const struct hw_fo_run *r);
static void *where(const struct hw_fo_run *r)
{
	return r->remote ? (void *)r->remote : (void *)r->c;
}

const char *hw_fo_node_id(const struct hw_fo_run *r, unsigned i)
{
	return ops(r)->id(where(r), i);
}

static bool interrupted(const struct hw_fo_run *r)
{
	return r->interrupted && *r->interrupted;
}

/* ---------------------------------------------------------------- the load */

int hw_fo_load_init(struct hw_fo_load *l, const char *profile, uint64_t seed, uint64_t limit,
		    int64_t end_ms)
{
	memset(l, 0, sizeof(*l));
	l->limit = limit;
	int rc = 0;
	for (unsigned i = 0; rc == 0 && i < HW_FO_LANES; i++) {
		struct hw_workload_opts wo = {.profile = profile,
					      .seed = seed + i,
					      .count = limit / HW_FO_LANES + 1,
					      .end_ms = end_ms,
					      .lane = i + 1};
		rc = hw_workload_new(&wo, &l->w[i]);
	}
	/* Sized for the limit at once: calloc'd pages a run never reaches cost nothing. */
	l->rec = calloc(limit, sizeof(*l->rec));
	l->len = calloc(limit, sizeof(*l->len));
	l->expect = calloc(limit, sizeof(*l->expect));
	l->code = calloc(limit, sizeof(*l->code));
	l->lsn = calloc(limit, sizeof(*l->lsn));
	l->done = calloc(limit, sizeof(*l->done));
	l->by = calloc(limit, sizeof(*l->by));
	l->sent_ms = calloc(limit, sizeof(*l->sent_ms));
	l->at_ms = calloc(limit, sizeof(*l->at_ms));
	l->conn = calloc(limit, sizeof(*l->conn));
	if (rc == 0 && !(l->rec && l->len && l->expect && l->code && l->lsn && l->done && l->by &&
			 l->sent_ms && l->at_ms && l->conn))
		rc = HW_ENOMEM;
	return rc;
}

void hw_fo_load_free(struct hw_fo_load *l)
{
	for (unsigned i = 0; i < HW_FO_LANES; i++)
		hw_workload_free(l->w[i]);
	for (uint64_t i = 0; l->rec && i < l->count; i++)
		free(l->rec[i]);
	free(l->rec);
	free(l->len);
	free(l->expect);
	free(l->code);
	free(l->lsn);
	free(l->done);
	free(l->by);
	free(l->sent_ms);
	free(l->at_ms);
	free(l->conn);
	memset(l, 0, sizeof(*l));
}

/* Draw records up to index i (inclusive), interleaving the lanes. */
static int load_draw(struct hw_fo_load *l, uint64_t i)
{
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	if (i >= l->limit)
		return HW_ERANGE;
	while (l->count <= i) {
		struct hw_work_item it;
		int rc = hw_workload_next(l->w[l->count % HW_FO_LANES], buf, sizeof(buf), &it);
		if (rc == 0 && !(l->rec[l->count] = malloc(it.len)))
			rc = HW_ENOMEM;
		if (rc)
			return rc;
		memcpy(l->rec[l->count], buf, it.len);
		l->len[l->count] = it.len;
		l->expect[l->count] = it.expect;
		l->by[l->count] = -1;
		l->count++;
	}
	return 0;
}

static int node_of(const struct hw_fo_run *r, struct hw_client *cl)
{
	const char *a = hw_client_addr(cl);
	for (unsigned i = 0; a && i < ops(r)->count(where(r)); i++)
		if (strcmp(a, ops(r)->addr(where(r), i)) == 0)
			return (int)i;
	return -1;
}

static int submit(struct hw_fo_run *r, struct hw_client *cl, uint64_t i)
{
	struct hw_fo_load *l = r->load;
	l->sent_ms[i] = hw_wall_ms();
	return hw_client_submit(cl, i, l->rec[i], l->len[i], HW_DEFAULT, 0);
}

/* The client follows the primary by itself (hw_client_set_follow_ms: for first_ack_ms a
 * search); a stall is what it cannot see: submits in flight on a connection that stays
 * open and answers nothing for STALL_MS. Reconnect by hand and resend what is in
 * flight, in order: a record stored before is answered as a duplicate at its LSN. at
 * holds the address the client is connected to. */
static int unstall(struct hw_fo_run *r, struct hw_client *cl, char *at, size_t cap,
		   bool verbose)
{
	if (interrupted(r) || ++r->follows > HW_FO_FOLLOWS_MAX)
		return -ETIMEDOUT;
	int rc = hw_client_reconnect(cl, r->first_ack_ms); /* an election takes that long */
	uint64_t next = r->load->next;
	uint64_t from = next - r->from > r->window ? next - r->window : r->from;
	for (uint64_t i = from; rc == 0 && i < next; i++)
		if (!r->load->done[i])
			rc = submit(r, cl, i);
	snprintf(at, cap, "%s", hw_client_addr(cl));
	if (verbose)
		printf("  client: reconnects to %s after %d ms without an outcome%s%s\n", at,
		       STALL_MS, rc ? ": " : "", rc ? hw_errname(rc) : "");
	return rc;
}

/* After a step that went through (so the client is on a primary): count a move to
 * another node, the client's own follow, and say so. */
static void moved(struct hw_fo_run *r, struct hw_client *cl, char *at, size_t cap,
		  bool verbose)
{
	if (!strcmp(at, hw_client_addr(cl)))
		return;
	snprintf(at, cap, "%s", hw_client_addr(cl));
	r->follows++;
	if (verbose)
		printf("  client: follows the primary to %s\n", at);
}

/* Record i's success came from the old primary as it was at the fault: its address, and
 * after a kill a connection the load's client had by then (one opened since reached a
 * process started after the kill: see the top). */
static bool from_old_primary(const struct hw_fo_run *r, uint64_t i)
{
	const struct hw_fo_load *l = r->load;
	return l->by[i] == (int)r->old_p &&
	       (r->fault != HW_FO_KILL || l->conn[i] <= r->conn_at_fault);
}

static void outcome(struct hw_fo_run *r, struct hw_client *cl, const struct hw_outcome *o,
		    uint64_t *outstanding)
{
	struct hw_fo_load *l = r->load;
	uint64_t i = o->request_id;
	if (i < r->from || i >= l->next || l->done[i])
		return;
	l->done[i] = true;
	l->code[i] = o->code;
	l->lsn[i] = o->lsn;
	l->by[i] = node_of(r, cl);
	l->at_ms[i] = hw_wall_ms();
	l->conn[i] = hw_client_connects(cl);
	r->answered++;
	(*outstanding)--;
	r->unexpected += o->code != l->expect[i];
	if (o->code != 0)
		return;
	r->acked++;
	if (o->lsn > r->max_acked_lsn)
		r->max_acked_lsn = o->lsn;
	if (!r->faulted)
		return;
	if (from_old_primary(r, i))
		r->old_acks_after_fault++;
	else if (r->t_first < 0) {
		r->t_first = hw_fo_clock(r);
		r->measured_rto_ms = (r->t_first - r->t_fault) * 1000;
		r->restarted = l->by[i] == (int)r->old_p;
		if (l->by[i] >= 0)
			r->new_p = (unsigned)l->by[i]; /* promotion() asks who is primary now */
	}
}

/* Submitting has ended: the limit is reached, or after_s has passed since the first ack
 * on the new primary. */
static bool submitting_done(const struct hw_fo_run *r, double now)
{
	if (r->load->next >= r->load->limit)
		return true;
	return r->after_s > 0 && r->t_first >= 0 && now >= r->t_first + r->after_s;
}

/* One step of the load: submit the next record when it is due, else take an outcome
 * (waiting at most until the next due time or tick). Returns 0 or the client error. */
static int load_step(struct hw_fo_run *r, struct hw_client *cl, uint64_t *outstanding, double tick)
{
	struct hw_fo_load *l = r->load;
	double now = hw_fo_clock(r);
	double due = r->t_load + (double)(l->next - r->from) / r->rate;
	bool more = !submitting_done(r, now);
	if (more && now >= due && *outstanding < r->window &&
	    (l->next - r->from < r->window || l->done[l->next - r->window])) {
		int rc = load_draw(l, l->next);
		if (rc)
			return rc;
		rc = submit(r, cl, l->next);
		if (rc == 0) { /* a submit that failed is not in flight, and is the next still */
			l->next++;
			(*outstanding)++;
		}
		return rc;
	}
	double until = (more && due < tick ? due : tick) - now;
	if (*outstanding == 0) {
		hw_sleep_ms(until * 1000);
		return 0;
	}
	struct hw_outcome o;
	int rc = hw_client_wait(cl, until > 0 ? (int)(until * 1000) + 1 : 0, &o);
	if (rc == 0)
		outcome(r, cl, &o, outstanding);
	return rc;
}

/* ---------------------------------------------------------------- the nodes' logs */

static long log_size(const char *path)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

/* The first line of path at or after byte *from holding needle (into line): *from moves
 * past it. False when there is none. */
static bool log_next(const char *path, long *from, const char *needle, char *line, size_t cap)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f)
		return false;
	char buf[1024];
	bool found = false;
	fseek(f, *from, SEEK_SET);
	while (!found && fgets(buf, sizeof(buf), f))
		if (strstr(buf, needle)) {
			snprintf(line, cap, "%s", buf);
			line[strcspn(line, "\n")] = '\0';
			*from = ftell(f);
			found = true;
		}
	fclose(f);
	return found;
}

/* The first line holding needle after *from in node i's log: its time on the run's clock
 * (never before not_before), or not_before when there is none. */
static double log_event(struct hw_fo_run *r, unsigned i, long *from, const char *needle,
			double not_before, char *line, size_t cap)
{
	if (!log_next(ops(r)->log(where(r), i), from, needle, line, cap))
		return not_before;
	int64_t ms = hw_log_line_ms(line);
	double t = r->t_fault + (double)(ms - r->fault_wall_ms) / 1000;
	return ms < 0 || t < not_before ? not_before : t;
}

/* ---------------------------------------------------------------- fault and load */

static int fault(struct hw_fo_run *r, bool verbose)
{
	r->faulted = true;
	if (ops(r)->primary(where(r), 0, &r->old_p) != 0)
		return hw_fo_failed(r, "no primary to take away");
	if (ops(r)->epoch(where(r), r->old_p, &r->epoch_before) != 0)
		r->epoch_before = 0; /* not known; the fault goes on */
	for (unsigned i = 0; i < ops(r)->count(where(r)) && i < HW_FO_NODES_MAX; i++)
		r->log_from[i] = log_size(ops(r)->log(where(r), i));
	const char *id = hw_fo_node_id(r, r->old_p);
	if (verbose && r->remote) {
		printf("  FAULT: %s, the primary, asked to %s\n", id,
		       r->fault == HW_FO_KILL ? "crash itself" : "isolate itself");
	} else if (verbose) {
		if (r->fault == HW_FO_KILL)
			printf("  FAULT: kill -9 %s (pid %d), the primary\n", id,
			       (int)hw_cluster_node_pid(r->c, r->old_p));
		else
			printf("  FAULT: %s, the primary, cut off from the other voters and the "
			       "witness (its clients still reach it)\n",
			       id);
		fflush(stdout);
	}
	r->fault_wall_ms = hw_wall_ms();
	r->t_fault = hw_fo_clock(r);
	int rc = ops(r)->fault(r);
	/* Gone (reaped, or it acknowledged its crash): it released nothing after this. */
	r->old_gone_ms = hw_wall_ms();
	r->faulted = rc == 0; /* refused: the cluster was not tried */
	r->fault_rc = rc;
	return rc ? hw_fo_failed(r, "fault on %s: %s (%s)", id, hw_strerror(rc), hw_errname(rc))
		  : 0;
}

/* The run's timed events; -1 ends the load (r->fail says why). */
static int events(struct hw_fo_run *r, double *tick, bool verbose)
{
	double now = hw_fo_clock(r);
	if (interrupted(r))
		return hw_fo_failed(r, "interrupted by signal %d", (int)*r->interrupted);
	if (!r->faulted && now - r->t_load >= r->fault_after_s && fault(r, verbose))
		return -1;
	if (r->faulted && r->t_first < 0 && (now - r->t_fault) * 1000 > r->first_ack_ms)
		return hw_fo_failed(r,
				    "no acknowledged submit on a new primary within %d ms of "
				    "the fault",
				    r->first_ack_ms);
	if (now >= *tick) {
		if (r->tick && r->tick(r, r->arg))
			return -1;
		*tick = hw_fo_clock(r) + TICK_S;
	}
	return 0;
}

/* The load's client found no primary (HW_ENOT_PRIMARY, whether a node answered as a
 * standby or none answered at all): fail r saying which, by what each node's status
 * gives now, in the list's order ("no node answered (ADDR: why, ...)"). */
static int no_primary(struct hw_fo_run *r)
{
	char each[sizeof r->fail];
	size_t at = 0;
	unsigned answered = 0, n = ops(r)->count(where(r));
	for (unsigned i = 0; i < n && at < sizeof each; i++) {
		uint64_t epoch;
		int rc = ops(r)->epoch(where(r), i, &epoch);
		answered += rc == 0;
		int len = snprintf(each + at, sizeof each - at, "%s%s: %s", i ? ", " : "",
				   ops(r)->addr(where(r), i), rc ? hw_strerror(rc) : "answered");
		at += len > 0 ? (size_t)len : 0;
	}
	return hw_fo_failed(r, "client: %s (%s)",
			    answered ? "no node answered as the primary" : "no node answered",
			    each);
}

static int load_phase(struct hw_fo_run *r, bool verbose)
{
	struct hw_client *cl = NULL;
	int rc = ops(r)->connect(where(r), &cl);
	if (rc == HW_ENOT_PRIMARY)
		return no_primary(r);
	if (rc)
		return hw_fo_failed(r, "client: %s", hw_strerror(rc));
	hw_client_set_follow_ms(cl, r->first_ack_ms);
	char at[HW_ADDR_CHARS_MAX + 1];
	snprintf(at, sizeof at, "%s", hw_client_addr(cl));
	r->from = r->load->next;
	r->t_load = hw_fo_clock(r);
	double tick = r->t_load, progress = r->t_load, drain = -1;
	uint64_t outstanding = 0, seen = 0;
	while (rc == 0) {
		double now = hw_fo_clock(r);
		if (submitting_done(r, now) && outstanding == 0)
			break;
		if (drain < 0 && submitting_done(r, now))
			drain = now;
		if (drain >= 0 && (now - drain) * 1000 > DRAIN_MS) {
			rc = hw_fo_failed(r, "%" PRIu64 " submits unanswered %d ms after the load",
					  outstanding, DRAIN_MS);
			break;
		}
		bool before = !r->faulted;
		if (events(r, &tick, verbose)) {
			rc = -1;
			break;
		}
		if (before && r->faulted) /* every outcome so far came before the fault */
			r->conn_at_fault = hw_client_connects(cl);
		rc = load_step(r, cl, &outstanding, tick);
		now = hw_fo_clock(r);
		if (rc == 0)
			moved(r, cl, at, sizeof at, verbose);
		if (r->answered != seen || outstanding == 0) {
			seen = r->answered;
			progress = now;
		}
		if (rc == -ETIMEDOUT && (now - progress) * 1000 >= STALL_MS) {
			rc = unstall(r, cl, at, sizeof at, verbose);
			progress = hw_fo_clock(r);
		} else if (rc == -ETIMEDOUT) {
			rc = 0; /* no outcome yet, or the client's search goes on */
		}
	}
	hw_client_close(cl);
	r->to = r->load->next;
	r->t_load_end = hw_fo_clock(r);
	if (rc && rc != -1)
		return hw_fo_failed(r, "load: %s (%s)", hw_strerror(rc), hw_errname(rc));
	return rc;
}

/* ---------------------------------------------------------------- after the fault */

/* Which node took over, and the phases from its log. */
static int promotion(struct hw_fo_run *r)
{
	char line[1024];
	if (!r->faulted)
		return hw_fo_failed(r, "the load ended before the fault");
	unsigned p;
	int rc = ops(r)->primary(where(r), PRIMARY_MS, &p);
	if (r->restarted && (rc != 0 || p != r->old_p))
		return hw_fo_failed(r,
				    "%s acknowledged again after its restart, then %s: the "
				    "primary changed again",
				    hw_fo_node_id(r, r->old_p),
				    rc ? "no node was primary" : hw_fo_node_id(r, p));
	if (rc == 0)
		r->new_p = p;
	if (!r->restarted && (rc != 0 || p == r->old_p))
		return hw_fo_failed(r, "no standby became primary");
	if (r->t_first < 0)
		return hw_fo_failed(r, "no acknowledged submit on the new primary");
	if (ops(r)->epoch(where(r), r->new_p, &r->epoch_after) != 0)
		r->epoch_after = 0;
	long from = r->new_p < HW_FO_NODES_MAX ? r->log_from[r->new_p] : 0;
	unsigned n = r->new_p;
	r->t_detected =
		log_event(r, n, &from, "event=election_started", r->t_fault, line, sizeof(line));
	r->t_elected = log_event(r, n, &from, "event=elected", r->t_detected, line, sizeof(line));
	r->t_promoted =
		log_event(r, n, &from, "event=became_primary", r->t_elected, line, sizeof(line));
	if (log_next(ops(r)->log(where(r), n), &from, "event=first_ack", line, sizeof(line)))
		r->new_first_ack_ms = hw_log_field(line, "wall_ms", -1);
	if (r->new_first_ack_ms <= 0) /* the client's receipt: no earlier than the ack */
		r->new_first_ack_ms = r->fault_wall_ms + (int64_t)r->measured_rto_ms;
	/* no log here (remote): not known */
	r->promoted_ms = ops(r)->log(where(r), n) ? (r->t_promoted - r->t_fault) * 1000 : -1;
	return 0;
}

/* Why the old primary did not rejoin, in one line: how far it got when it was connected
 * but behind (behind, else ""), then what its log or the new primary's says. */
static void why_not_joined(struct hw_fo_run *r, long from_old, long from_new, const char *behind)
{
	static const char *const needles[] = {"diverged", "refused", "stepped_down", "error"};
	char line[1024], last[1024] = "";
	if (ops(r)->log(where(r), r->old_p) == NULL) {
		snprintf(r->rejoin_why, sizeof(r->rejoin_why), "%s; its log is on its host",
			 behind[0] != '\0' ? behind
					   : "not back as a standby in time (is a supervisor "
					     "restarting it?)");
		return;
	}
	snprintf(r->rejoin_why, sizeof(r->rejoin_why), "%s",
		 behind[0] != '\0' ? behind : "no reason logged");
	for (size_t k = 0; k < sizeof(needles) / sizeof(needles[0]) && !last[0]; k++) {
		long a = from_old, b = from_new;
		while (log_next(ops(r)->log(where(r), r->old_p), &a, needles[k], line,
				sizeof(line)) ||
		       log_next(ops(r)->log(where(r), r->new_p), &b, needles[k], line,
				sizeof(line)))
			snprintf(last, sizeof(last), "%s", line);
	}
	if (last[0]) {
		const char *e = strstr(last, "event=");
		size_t at = behind[0] != '\0' ? strlen(r->rejoin_why) : 0;
		snprintf(r->rejoin_why + at, sizeof(r->rejoin_why) - at, "%s%.300s", at ? "; " : "",
			 e ? e : last);
	}
}

/* The old primary back (restarted on its own store, or its links passing again): it must
 * not become primary again; it rejoins as a standby if it can. */
static int rejoin(struct hw_fo_run *r)
{
	const char *id = hw_fo_node_id(r, r->old_p);
	if (r->restarted) {
		snprintf(r->rejoin_why, sizeof(r->rejoin_why),
			 "%s is primary again after its restart: no failover, nothing to rejoin",
			 id);
		return 0;
	}
	long from_old = log_size(ops(r)->log(where(r), r->old_p));
	long from_new = log_size(ops(r)->log(where(r), r->new_p));
	r->t_heal = hw_fo_clock(r);
	int rc = ops(r)->heal(r);
	char behind[sizeof r->rejoin_why] = "";
	if (rc == 0)
		rc = ops(r)->wait_joined(where(r), r->old_p, r->rejoin_ms, behind, sizeof behind);
	r->t_joined = hw_fo_clock(r);
	unsigned p;
	if (ops(r)->primary(where(r), 0, &p) == 0 && p == r->old_p) {
		r->primary_again = true;
		return hw_fo_failed(r, "the old primary %s became primary again", id);
	}
	r->joined = rc == 0;
	if (r->joined)
		r->rejoin_ms_measured = (r->t_joined - r->t_heal) * 1000;
	else
		why_not_joined(r, from_old, from_new, behind);
	if (!r->joined && rc != -ETIMEDOUT)
		snprintf(r->rejoin_why + strlen(r->rejoin_why),
			 sizeof(r->rejoin_why) - strlen(r->rejoin_why), " (%s)", hw_errname(rc));
	return 0;
}

/* Where its log cannot be read: the old primary's last success by the client's outcomes,
 * as the time the client sent it (it was released no earlier; see the top). */
static int64_t old_last_ack_seen(const struct hw_fo_run *r)
{
	const struct hw_fo_load *l = r->load;
	int64_t last = -1;
	for (uint64_t i = r->from; i < r->to; i++)
		if (l->done[i] && l->code[i] == 0 && from_old_primary(r, i) && l->sent_ms[i] > last)
			last = l->sent_ms[i];
	return last;
}

/* The old primary's last success, by its own log after the fault (see the top). */
static int64_t old_last_ack(struct hw_fo_run *r)
{
	if (r->fault == HW_FO_KILL)
		return r->old_gone_ms;
	if (ops(r)->log(where(r), r->old_p) == NULL)
		return old_last_ack_seen(r);
	char line[1024];
	long from = r->old_p < HW_FO_NODES_MAX ? r->log_from[r->old_p] : 0, at = from;
	int64_t last = -1;
	while (log_next(ops(r)->log(where(r), r->old_p), &at, "event=fenced", line, sizeof(line)))
		if (hw_log_field(line, "last_ack_wall_ms", -1) > last)
			last = hw_log_field(line, "last_ack_wall_ms", -1);
	at = from;
	if (!log_next(ops(r)->log(where(r), r->old_p), &at, "event=stepped_down", line,
		      sizeof(line)))
		return hw_wall_ms(); /* its term is still open */
	int64_t down = hw_log_field(line, "last_ack_wall_ms", -1);
	return down > last ? down : last;
}

static void overlap(struct hw_fo_run *r)
{
	const struct hw_fo_load *l = r->load;
	r->old_last_ack_ms = old_last_ack(r);
	uint64_t late = 0;
	for (uint64_t i = r->from; i < r->to; i++)
		late += l->done[i] && l->code[i] == 0 && from_old_primary(r, i) &&
			l->sent_ms[i] > r->new_first_ack_ms;
	r->overlapping = r->old_last_ack_ms >= r->new_first_ack_ms || late > 0;
}

/* Every record of the run acknowledged, looked up on the new primary's store at its LSN
 * with its bytes. A running node's store follows its log by up to HW_WRITER_COMMIT_MS
 * (engine/io/writer.h): wait (bounded) until its head reaches the highest acknowledged LSN. */
static int local_loss_check(struct hw_fo_run *r)
{
	const struct hw_fo_load *l = r->load;
	struct hw_store_opts so = {.read_only = true};
	struct hw_store *s;
	struct hw_head h;
	double until = hw_fo_clock(r) + HEAD_WAIT_MS / 1000.0;
	const char *dir = hw_cluster_dir(r->c, r->new_p);
	for (;;) {
		s = NULL;
		int rc = hw_store_open(dir, &so, &s);
		if (rc == 0)
			rc = hw_store_head(s, &h);
		if (rc) {
			hw_store_close(s);
			return hw_fo_failed(r, "open the new primary's store %s: %s", dir,
					    hw_strerror(rc));
		}
		if (h.lsn >= r->max_acked_lsn || hw_fo_clock(r) >= until)
			break;
		hw_store_close(s);
		hw_sleep_ms(20);
	}
	for (uint64_t i = r->from; i < r->to; i++) {
		if (!l->done[i] || l->code[i] != 0)
			continue;
		uint8_t *e = NULL;
		size_t len = 0;
		bool held = hw_store_read_entry(s, l->lsn[i], &e, &len) == 0;
		held = held && len == HW_ENTRY_HEADER_BYTES + l->len[i] &&
		       memcmp(e + HW_ENTRY_HEADER_BYTES, l->rec[i], l->len[i]) == 0;
		free(e);
		r->lost += !held;
		r->lost_beyond_rpo += !held && l->at_ms[i] < r->fault_wall_ms - r->rpo_ms;
	}
	hw_store_close(s);
	return 0;
}

/* ---------------------------------------------------------------- a local cluster */

static unsigned local_count(const void *at)
{
	return hw_cluster_nodes(at);
}

static const char *local_id(const void *at, unsigned i)
{
	return hw_cluster_node_id(at, i);
}

static const char *local_addr(const void *at, unsigned i)
{
	return hw_cluster_node_addr(at, i);
}

static int local_connect(const void *at, struct hw_client **out)
{
	return hw_client_connect_secure(hw_cluster_client_list(at), hw_cluster_security(at), out);
}

static int local_primary(void *at, int timeout_ms, unsigned *i)
{
	return hw_cluster_primary(at, timeout_ms, i);
}

static int local_epoch(void *at, unsigned i, uint64_t *epoch)
{
	Hawser__Wire__V1__Status *s;
	int rc = hw_cluster_node_status(at, i, STATUS_MS, &s);
	if (rc == 0) {
		*epoch = s->epoch;
		hawser__wire__v1__status__free_unpacked(s, NULL);
	}
	return rc;
}

static const char *local_log(const void *at, unsigned i)
{
	return hw_cluster_log(at, i);
}

static int local_fault(struct hw_fo_run *r)
{
	return r->fault == HW_FO_KILL ? hw_cluster_kill(r->c, r->old_p, SIGKILL)
				      : hw_cluster_isolate(r->c, r->old_p, true);
}

static int local_heal(struct hw_fo_run *r)
{
	return r->fault == HW_FO_KILL ? hw_cluster_restart(r->c, r->old_p)
				      : hw_cluster_isolate(r->c, r->old_p, false);
}

static int local_wait_joined(void *at, unsigned i, int timeout_ms, char *behind, size_t cap)
{
	return hw_cluster_wait_joined(at, i, timeout_ms, behind, cap);
}

static const struct hw_fo_nodes local_nodes = {
	.count = local_count,
	.id = local_id,
	.addr = local_addr,
	.connect = local_connect,
	.primary = local_primary,
	.epoch = local_epoch,
	.log = local_log,
	.fault = local_fault,
	.heal = local_heal,
	.wait_joined = local_wait_joined,
	.loss_check = local_loss_check,
};

static const struct hw_fo_nodes *ops(const struct hw_fo_run *r)
{
	return r->remote ? &hw_fo_remote_nodes : &local_nodes;
}

/* Node i of the local cluster (the witness at i == hw_cluster_nodes()) stopped for a
 * storage failure: the name of its code into name. Its status says so (failed); for one
 * that does not answer (the witness has no client port; a node may have exited), the
 * storage_failed line of its log, if the disk had room for it. */
static bool node_storage_failed(const struct hw_fo_run *r, unsigned i, char *name, size_t cap)
{
	Hawser__Wire__V1__Status *s;
	if (i < hw_cluster_nodes(r->c) && hw_cluster_node_status(r->c, i, STATUS_MS, &s) == 0) {
		int code = s->failed;
		hawser__wire__v1__status__free_unpacked(s, NULL);
		snprintf(name, cap, "%s", hw_errname(code));
		return code != 0;
	}
	char line[1024];
	long from = 0;
	if (!log_next(hw_cluster_log(r->c, i), &from, "event=storage_failed", line, sizeof line))
		return false;
	const char *code = strstr(line, " code=");
	code = code != NULL ? code + strlen(" code=") : "?";
	snprintf(name, cap, "%.*s", (int)strcspn(code, " "), code);
	return true;
}

/* "p1, s1 (HW_ESTORE_FULL), s2 (ENOSPC)": the n nodes ids[] by the code of each, names[],
 * into buf. */
static void nodes_by_code(const char *const *ids, char (*names)[32], unsigned n, char *buf,
			  size_t cap)
{
	bool said[HW_FO_NODES_MAX + 1] = {false};
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		if (said[i])
			continue;
		for (unsigned j = i; j < n; j++) {
			if (strcmp(names[j], names[i]) != 0)
				continue;
			size_t at = strlen(buf);
			snprintf(buf + at, cap - at, "%s%.32s", at ? ", " : "", ids[j]);
			said[j] = true;
		}
		size_t at = strlen(buf);
		snprintf(buf + at, cap - at, " (%s)", names[i]);
	}
}

bool hw_fo_storage_failed(const struct hw_fo_run *r, char *why, size_t cap)
{
	if (r->c == NULL)
		return false;
	const char *ids[HW_FO_NODES_MAX + 1];
	char names[HW_FO_NODES_MAX + 1][32];
	unsigned n = 0;
	bool full = false;
	for (unsigned i = 0; i <= hw_cluster_nodes(r->c) && n <= HW_FO_NODES_MAX; i++) {
		if (!node_storage_failed(r, i, names[n], sizeof names[n]))
			continue;
		full = full || strcmp(names[n], "ENOSPC") == 0 || strcmp(names[n], "EDQUOT") == 0 ||
		       strcmp(names[n], "HW_ESTORE_FULL") == 0;
		ids[n] = hw_cluster_node_id(r->c, i) != NULL ? hw_cluster_node_id(r->c, i)
							     : "the witness";
		n++;
	}
	if (n == 0)
		return false;
	char nodes[200];
	nodes_by_code(ids, names, n, nodes, sizeof nodes);
	const char *root = hw_cluster_root(r->c);
	struct statvfs fs;
	long long kib =
		statvfs(root, &fs) == 0 ? (long long)(fs.f_bavail * fs.f_frsize / 1024) : -1;
	snprintf(why, cap, "%s at %s (%lld KiB free): storage failed on %s",
		 full ? "disk full" : "disk failed", root, kib, nodes);
	return true;
}

uint64_t hw_fo_lost_over_rpo(const struct hw_fo_run *r)
{
	/* at rpo 0 nothing acknowledged may be lost, even a record the old primary
	 * acknowledged after the fault; past it, only what was acknowledged longer than the
	 * rpo before the fault is lost for sure */
	return r->rpo_ms ? r->lost_beyond_rpo : r->lost;
}

int hw_fo_run(struct hw_fo_run *r, bool verbose)
{
	r->t_first = -1;
	/* not read until promotion(): a run that ends before it has no such phases */
	r->t_detected = r->t_elected = r->t_promoted = r->promoted_ms = -1;
	int rc = load_phase(r, verbose);
	if (rc == 0)
		rc = promotion(r);
	if (rc == 0)
		rc = rejoin(r);
	if (rc == 0) {
		overlap(r);
		r->overlap_checked = true;
		rc = ops(r)->loss_check(r);
		r->loss_checked = rc == 0; /* records left unchecked: the rpo check is no pass */
	}
	return rc;
}

/* ---------------------------------------------------------------- the timeline */

static void phase(struct hw_report *rep, const char *prefix, const char *name, double a, double b,
		  enum hw_verdict v, const char *detail)
{
	char full[HW_REPORT_NAME_BYTES];
	snprintf(full, sizeof(full), "%s%s", prefix, name);
	hw_report_phase(rep, full, a, b, v, "%s", detail);
}

/* Detection, election and replay: from the new primary's log. */
static void log_phases(const struct hw_fo_run *r, struct hw_report *rep, const char *prefix,
		       const char *nw)
{
	char t[HW_REPORT_TEXT_BYTES];
	snprintf(t, sizeof(t), "%s started an election %.0f ms after the fault", nw,
		 (r->t_detected - r->t_fault) * 1000);
	phase(rep, prefix, "detection", r->t_fault, r->t_detected, HW_VERDICT_PASS, t);
	snprintf(t, sizeof(t), "%s won the votes in %.0f ms", nw,
		 (r->t_elected - r->t_detected) * 1000);
	phase(rep, prefix, "election", r->t_detected, r->t_elected, HW_VERDICT_PASS, t);
	snprintf(t, sizeof(t), "%s primary %.0f ms after the fault", nw, r->promoted_ms);
	phase(rep, prefix, "replay", r->t_elected, r->t_promoted, HW_VERDICT_PASS, t);
}

/* What the fault is called, by [remote][fault]: in a run's summary (words), as the
 * report's phase, what it did to the primary, and how the primary came back. */
static const struct fault_text {
	const char *words, *phase, *done, *back;
} fault_texts[2][2] = {
	{[HW_FO_KILL] = {"kill -9 of the primary", "fault: kill -9 primary",
			 "killed with SIGKILL", "was restarted"},
	 [HW_FO_PARTITION] = {"the primary cut off from standbys and witness",
			      "fault: primary cut off", "cut off from the other voters",
			      "was reconnected"}},
	{[HW_FO_KILL] = {"the primary crashes itself", "fault: primary crashed",
			 "crashed itself at the drill's request", "crashed"},
	 [HW_FO_PARTITION] = {"the primary cut off from standbys and witness",
			      "fault: primary cut off", "cut itself off at the drill's request",
			      "healed"}},
};

const char *hw_fo_fault_words(bool remote, enum hw_fo_fault fault)
{
	return fault_texts[remote][fault].words;
}

void hw_fo_report(const struct hw_fo_run *r, struct hw_report *rep, const char *prefix,
		  int64_t rto_ms)
{
	char t[HW_REPORT_TEXT_BYTES];
	if (!r->faulted || r->t_first < 0)
		return;
	const char *old = hw_fo_node_id(r, r->old_p);
	const char *nw = hw_fo_node_id(r, r->new_p);
	const struct fault_text *ft = &fault_texts[r->remote != NULL][r->fault];
	snprintf(t, sizeof(t), "%s, the primary, %s under load", old, ft->done);
	char name[HW_REPORT_NAME_BYTES];
	snprintf(name, sizeof(name), "%s%s", prefix, ft->phase);
	hw_report_event(rep, name, r->t_fault, HW_VERDICT_PASS, "%s", t); /* a moment */
	if (ops(r)->log(where(r), r->new_p) && r->t_promoted >= 0)
		log_phases(r, rep, prefix, nw);
	char ms[32];
	snprintf(t, sizeof(t), "fault to first acknowledged submit on %s%s: %s ms (target %lld ms)",
		 nw, r->restarted ? ", restarted and elected again (no standby promoted)" : "",
		 hw_drill_ms_format(r->measured_rto_ms, rto_ms, ms, sizeof ms), (long long)rto_ms);
	phase(rep, prefix,
	      r->restarted ? "first commit on restarted primary" : "first commit on new primary",
	      r->t_promoted >= 0 ? r->t_promoted : r->t_fault, r->t_first,
	      r->measured_rto_ms <= (double)rto_ms ? HW_VERDICT_PASS : HW_VERDICT_FAIL, t);
	if (r->t_joined <= 0)
		return;
	if (r->joined)
		snprintf(t, sizeof(t), "%s follows %s as a standby, %.0f ms after it %s", old, nw,
			 r->rejoin_ms_measured, ft->back);
	else
		snprintf(t, sizeof(t), "%s did not rejoin; it is not primary: %.250s", old,
			 r->rejoin_why);
	phase(rep, prefix, "rejoin", r->t_heal, r->t_joined,
	      r->joined ? HW_VERDICT_PASS : HW_VERDICT_WARN, t);
}
