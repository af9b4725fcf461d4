/* cmd_drill_procedure.c: `hawser drill procedure`, the operator's checklist before
 * trusting a recovery, touching no data (docs/drills.md). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fs.h"
#include "base/names.h"
#include "cli/cmd_drill.h"
#include "engine/client_int.h"
#include "engine/lookup.h"
#include "replica/drills.h"
#include "replica/store.h"
#include "tos.pb-c.h"
#include "wire.pb-c.h"

/* How long the procedure drill waits for a witness or the node to answer. */
#define CONNECT_WAIT_MS 2000
#define STATUS_WAIT_MS  5000
#define MS_PER_DAY      (24LL * 3600 * 1000)

static const struct option procedure_opts[] = {
	COMMON_OPTS,
	OPT("backup-dir", required_argument, 'B'),
	OPT("offsite-dir", required_argument, 'o'),
	OPT("connect", required_argument, 'C'),
	OPT("scratch", required_argument, 's'),
	OPT("now", required_argument, 'n'),
	{0},
};

/* ---- procedure ---------------------------------------------------------------------- */

/* The first of n generations whose files do not match its MANIFEST's sizes (NULL: none);
 * *bad counts them, *other those of another chain than chain_hex (none when ""). Sizes
 * only: the procedure reads metadata, and hashing every byte of every generation would
 * take as long as reading the backups; the restore drill hashes the newest. */
static const struct generation *generations_judge(const struct generation *g, size_t n,
						  const char *chain_hex, size_t *bad, size_t *other)
{
	const struct generation *first_bad = NULL;
	*bad = *other = 0;
	for (size_t i = 0; i < n; i++) {
		if (g[i].problem[0] && !first_bad)
			first_bad = &g[i];
		*bad += g[i].problem[0] != 0;
		*other += chain_hex[0] && strcmp(g[i].chain_id, chain_hex) != 0;
	}
	return first_bad;
}

static void check_backups(struct drill *d, const char *chain_hex)
{
	static struct generation g[GENERATIONS_MAX];
	const struct hw_drill_config *c = &d->cfg.drills;
	size_t n = 0, partial = 0;
	struct generation unfinished;
	char a[32], b[32];
	if (!c->backup_dir[0]) {
		hw_report_check(&d->rep, "backups exist", HW_VERDICT_FAIL,
				"no backup_dir configured");
		return;
	}
	int rc = hw_cli_drill_generations_scan(c->backup_dir, g, GENERATIONS_MAX, &n, &partial,
					       &unfinished);
	if (rc || n == 0) {
		hw_report_check(&d->rep, "backups exist", HW_VERDICT_FAIL,
				"backup_dir %s holds no backup%s%s", c->backup_dir, rc ? ": " : "",
				rc ? hw_strerror(rc) : "");
		return;
	}
	hw_report_check(&d->rep, "backups exist", HW_VERDICT_PASS, "%zu generation%s in %s", n,
			n == 1 ? "" : "s", c->backup_dir);
	int64_t newest = d->now_ms - g[0].time_ms, oldest = d->now_ms - g[n - 1].time_ms;
	hw_report_check(&d->rep, "newest backup age",
			newest <= c->backup_age_max_ms ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"%s old (%s), backup_age_max %s",
			hw_drill_duration_format(newest, a, sizeof(a)), g[0].path,
			hw_drill_duration_format(c->backup_age_max_ms, b, sizeof(b)));
	hw_report_check(&d->rep, "backup generations",
			n >= c->backup_generations_min ? HW_VERDICT_PASS : HW_VERDICT_FAIL,
			"backup_dir %s holds %zu generation%s, %s backup_generations_min = %u%s",
			c->backup_dir, n, n == 1 ? "" : "s",
			n >= c->backup_generations_min ? "at least" : "fewer than",
			c->backup_generations_min,
			partial ? " (and incomplete ones without a MANIFEST)" : "");
	hw_report_check(&d->rep, "retention",
			oldest >= (int64_t)c->retention_days_min * MS_PER_DAY ? HW_VERDICT_PASS
									      : HW_VERDICT_FAIL,
			"oldest generation is %s old, retention_days_min = %u",
			hw_drill_duration_format(oldest, a, sizeof(a)), c->retention_days_min);
	size_t bad, other;
	const struct generation *first_bad = generations_judge(g, n, chain_hex, &bad, &other);
	if (unfinished.path[0] && unfinished.time_ms >= g[0].time_ms) /* as drill restore */
		hw_report_check(&d->rep, "backups complete", HW_VERDICT_FAIL,
				"newest backup %s is %s", unfinished.path, unfinished.problem);
	else if (first_bad)
		hw_report_check(&d->rep, "backups complete", HW_VERDICT_FAIL,
				"%zu incomplete; %s: %s", bad, first_bad->path, first_bad->problem);
	else if (other)
		hw_report_check(&d->rep, "backups complete", HW_VERDICT_FAIL,
				"%zu generation%s of another chain than this store's", other,
				other == 1 ? " is" : "s are");
	else
		hw_report_check(&d->rep, "backups complete", HW_VERDICT_PASS,
				"every generation's files have the sizes its MANIFEST gives (their "
				"hashes are the restore drill's), same chain");
	hw_report_figure(&d->rep, "backup_generations", (double)n, "generations");
	hw_report_figure(&d->rep, "newest_backup_age_s", (double)newest / 1000.0, "s");
	hw_report_figure(&d->rep, "oldest_backup_age_s", (double)oldest / 1000.0, "s");
}

static void check_offsite(struct drill *d, const char *chain_hex)
{
	static struct generation g[GENERATIONS_MAX];
	const char *off = d->cfg.drills.offsite_dir;
	size_t n, partial;
	char a[32], b[32];
	if (!off[0]) {
		hw_report_check(
			&d->rep, "offsite copy", HW_VERDICT_FAIL,
			"no offsite_dir configured: every backup is within the primary's reach");
		return;
	}
	if (hw_cli_drill_generations_scan(off, g, GENERATIONS_MAX, &n, &partial, NULL) != 0 ||
	    n == 0) {
		hw_report_check(&d->rep, "offsite copy", HW_VERDICT_FAIL,
				"offsite_dir %s holds no backup", off);
		return;
	}
	size_t bad, other;
	const struct generation *first_bad = generations_judge(g, n, "", &bad, &other);
	int64_t age = d->now_ms - g[0].time_ms, max = d->cfg.drills.backup_age_max_ms;
	hw_drill_duration_format(age, a, sizeof(a));
	if (first_bad) { /* a copy that would not restore is no copy */
		hw_report_check(&d->rep, "offsite copy", HW_VERDICT_FAIL,
				"%zu offsite generation%s incomplete; %s: %s", bad,
				bad == 1 ? "" : "s", first_bad->path, first_bad->problem);
	} else if (chain_hex[0] && strcmp(g[0].chain_id, chain_hex) != 0) {
		hw_report_check(&d->rep, "offsite copy", HW_VERDICT_FAIL,
				"newest offsite backup %s is of another chain", g[0].path);
	} else if (age > max) { /* held to the backups' own limit: no key of its own */
		hw_report_check(&d->rep, "offsite copy", HW_VERDICT_FAIL,
				"newest offsite backup %s is %s old, backup_age_max %s", g[0].path,
				a, hw_drill_duration_format(max, b, sizeof(b)));
	} else {
		struct stat so, sd;
		bool same_fs = d->dir && stat(off, &so) == 0 && stat(d->dir, &sd) == 0 &&
			       so.st_dev == sd.st_dev;
		hw_report_check(
			&d->rep, "offsite copy", same_fs ? HW_VERDICT_WARN : HW_VERDICT_PASS,
			"%zu generation%s in %s, newest %s old%s", n, n == 1 ? "" : "s", off, a,
			same_fs ? "; on the same file system as the data directory" : "");
	}
	hw_report_figure(&d->rep, "offsite_age_s", (double)age / 1000.0, "s");
}

static void check_keys(struct drill *d)
{
	const struct hw_drill_config *c = &d->cfg.drills;
	if (c->n_keys == 0) {
		hw_report_check(&d->rep, "keys present", HW_VERDICT_SKIP, "no keys configured");
		return;
	}
	for (uint32_t i = 0; i < c->n_keys; i++) {
		struct stat st;
		const char *k = c->keys[i];
		if (stat(k, &st) != 0 || access(k, R_OK) != 0) {
			hw_report_check(&d->rep, "keys present", HW_VERDICT_FAIL, "%s: %s", k,
					strerror(errno));
			return;
		}
		if (!S_ISREG(st.st_mode) || st.st_size == 0) {
			hw_report_check(&d->rep, "keys present", HW_VERDICT_FAIL,
					"%s is not a non-empty file", k);
			return;
		}
		if (st.st_mode & 077) {
			hw_report_check(&d->rep, "keys present", HW_VERDICT_WARN,
					"%s is readable by group or others (mode %03o)", k,
					(unsigned)(st.st_mode & 0777));
			return;
		}
	}
	hw_report_check(&d->rep, "keys present", HW_VERDICT_PASS, "%u key file%s present",
			c->n_keys, c->n_keys == 1 ? "" : "s");
}

/* host's addresses at port, looked up within CONNECT_WAIT_MS: a DNS server that does not
 * answer would hold the drill for the resolver's own timeouts (engine/lookup.h). 0 with
 * *ai, or -EHOSTUNREACH (as when the name does not resolve), -errno. */
static int probe_lookup(const char *host, const char *port, struct addrinfo **ai)
{
	struct hw_lookup *l;
	int rc = hw_lookup_start(host, port, &l);
	if (rc != 0)
		return rc;
	if (!hw_lookup_wait(l, hw_mono_ms() + CONNECT_WAIT_MS)) {
		hw_lookup_drop(l); /* freed by its thread when the resolver gives up */
		return -EHOSTUNREACH;
	}
	const char *why;
	return hw_lookup_take(l, ai, &why);
}

/* Connect to addr (HOST:PORT or unix:/path), its lookup and its connect each within
 * CONNECT_WAIT_MS. 0 or -errno. */
static int tcp_probe(const char *addr)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct addrinfo *ai = NULL;
	const struct sockaddr *sa = (const struct sockaddr *)&un;
	socklen_t sl = sizeof(un);
	int family = AF_UNIX;
	struct hw_addr_parts parts;
	if (hw_addr_parse(addr, false, &parts) != 0)
		return -EINVAL;
	if (parts.path != NULL) {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", parts.path);
	} else {
		int rc = probe_lookup(parts.host, parts.port_text, &ai);
		if (rc != 0)
			return rc;
		sa = ai->ai_addr;
		sl = ai->ai_addrlen;
		family = ai->ai_family;
	}
	int rc = 0, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		rc = -errno;
	else if (connect(fd, sa, sl) != 0 && errno != EINPROGRESS)
		rc = -errno;
	if (fd >= 0 && rc == 0) {
		struct pollfd p = {fd, POLLOUT, 0};
		int err = 0;
		socklen_t el = sizeof(err);
		if (poll(&p, 1, CONNECT_WAIT_MS) != 1)
			rc = -ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err)
			rc = -(err ? err : errno);
	}
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return rc;
}

static void check_witness(struct drill *d)
{
	const struct hw_failover *fo = &d->cfg.failover;
	const char *w = d->cfg.drills.witness;
	if (!w[0] && fo->on && fo->witness < fo->n_voters)
		w = fo->voters[fo->witness]
			    .addr; /* [failover]'s witness, when [drills] names none */
	if (!w[0]) {
		hw_report_check(&d->rep, "witness reachable", HW_VERDICT_SKIP,
				"no witness configured");
		return;
	}
	int rc = tcp_probe(w);
	hw_report_check(&d->rep, "witness reachable", rc ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
			"%s%s%s", w, rc ? ": " : " accepts connections", rc ? hw_strerror(rc) : "");
}

/* The standbys of primary as the config has them into ids: cluster.standbys with static
 * roles; with [failover] every node voter but primary (whichever of them leads now:
 * the config's cluster.standbys are only those of the node it configures, as if it
 * led). Returns how many. */
static uint32_t standbys_of(const struct hw_config *c, const char *primary,
			    const char *ids[HW_PEERS_MAX])
{
	const struct hw_failover *fo = &c->failover;
	uint32_t n = 0;
	if (!fo->on) {
		for (; n < c->n_standbys; n++)
			ids[n] = c->standbys[n];
		return n;
	}
	for (uint32_t i = 0; i < fo->n_voters && n < HW_PEERS_MAX; i++)
		if (i != fo->witness && strcmp(fo->voters[i].id, primary) != 0)
			ids[n++] = fo->voters[i].id;
	return n;
}

/* Asked of a standby (or vault): it follows a primary, connected and heard within its
 * silence limit, its apply not blocked. The primary's standbys and their lag are the
 * primary's to show: the same drill on it, or --connect to its client port. */
static void follower_judge(struct drill *d, const Hawser__Wire__V1__Status *s, const char *addr)
{
	const char *me = s->node_id && s->node_id[0] ? s->node_id : addr;
	const char *p = s->primary && s->primary[0] ? s->primary : "none known";
	bool silent = s->silent_limit_ms > 0 && s->primary_silent_ms > s->silent_limit_ms;
	if (!s->primary_connected || silent || s->apply_blocked != NULL) {
		hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_FAIL,
				"node %s is not a primary, and does not follow one: primary %s, %s "
				"(last heard %.1f s ago)%s",
				me, p, s->primary_connected ? "connected" : "not connected",
				(double)s->primary_silent_ms / 1000.0,
				s->apply_blocked ? ", its apply blocked" : "");
		return;
	}
	hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_PASS,
			"node %s is a standby following primary %s (connected, heard %.1f s ago, "
			"durable lsn %" PRIu64 "); %s's standbys and their lag are judged by "
			"asking it (this drill on %s, or --connect to its client port)",
			me, p, (double)s->primary_silent_ms / 1000.0, s->durable_lsn, p, p);
}

/* Asked of a primary: each of its standbys (standbys_of) connected to it, lagging no
 * more than the RPO. */
static void standbys_judge(struct drill *d, const Hawser__Wire__V1__Status *s, const char *addr)
{
	const struct hw_config *c = &d->cfg;
	const char *me = s->node_id && s->node_id[0] ? s->node_id : addr;
	const char *ids[HW_PEERS_MAX];
	uint32_t n = standbys_of(c, me, ids);
	int64_t worst = 0;
	if (n == 0) {
		hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_WARN,
				"node at %s answers, but no standbys are configured", addr);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const Hawser__Wire__V1__PeerStatus *p = NULL;
		for (size_t j = 0; j < s->n_peers; j++)
			if (s->peers[j]->node_id && strcmp(s->peers[j]->node_id, ids[i]) == 0)
				p = s->peers[j];
		if (!p || !p->connected) {
			hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_FAIL,
					"standby %s is not connected to primary %s", ids[i], me);
			return;
		}
		if (p->lag_ms > c->drills.rpo_ms) {
			hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_FAIL,
					"standby %s lags %" PRId64 " ms (%" PRIu64
					" records), more than rpo %" PRId64 " ms",
					ids[i], p->lag_ms, p->lag_records, c->drills.rpo_ms);
			return;
		}
		worst = p->lag_ms > worst ? p->lag_ms : worst;
	}
	hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_PASS,
			"%u standby(s) of primary %s connected, worst lag %" PRId64
			" ms within rpo %" PRId64 " ms",
			n, me, worst, c->drills.rpo_ms);
	hw_report_figure(&d->rep, "standby_lag_ms_max", (double)worst, "ms");
}

/* The node's client address the procedure asks (--connect, else node.client), or NULL. */
static const char *node_addr(const struct drill *d)
{
	return d->connect ? d->connect : d->cfg.client[0] ? d->cfg.client : NULL;
}

/* Connect as the node of --config: its keys (or insecure = true); with --dir alone, in
 * plaintext. */
static int node_connect(const struct drill *d, struct hw_client **cl)
{
	struct hw_client_security sec;
	hw_cli_security_of_config(&d->cfg, &sec);
	return hw_client_connect_secure(node_addr(d), d->config_path ? &sec : NULL, cl);
}

/* The node answered check_standbys: record_on_node tells it the result. */
static bool node_answered;

static void check_standbys(struct drill *d)
{
	const char *addr = node_addr(d);
	if (!addr) {
		hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_SKIP,
				"no client address to ask the node (--connect or node.client)");
		return;
	}
	struct hw_client *cl;
	uint8_t *body = NULL;
	size_t len = 0;
	int rc = node_connect(d, &cl);
	if (rc == 0) {
		rc = hw_client_status(cl, STATUS_WAIT_MS, &body, &len);
		hw_client_close(cl);
	}
	Hawser__Wire__V1__Status *s = rc ? NULL : hawser__wire__v1__status__unpack(NULL, len, body);
	free(body);
	if (!s) {
		hw_report_check(&d->rep, "standbys reachable", HW_VERDICT_FAIL, "node at %s: %s",
				addr, hw_strerror(rc ? rc : HW_EPROTOCOL));
		return;
	}
	node_answered = true;
	if (s->role == HAWSER__WIRE__V1__ROLE__STANDBY || s->role == HAWSER__WIRE__V1__ROLE__VAULT)
		follower_judge(d, s, addr);
	else
		standbys_judge(d, s, addr);
	hawser__wire__v1__status__free_unpacked(s, NULL);
}

/* Room for a restore where the drills put it, and for the store to grow. */
static void check_disk(struct drill *d)
{
	bool e;
	uint64_t store = d->dir ? hw_cli_drill_file_size(d->dir, "data.mdb", &e) : 0;
	const char *where[2] = {d->scratch ? d->scratch : d->dir, d->dir};
	const char *what[2] = {"scratch", "data directory"};
	char a[32], b[32]; /* the figures keep the bytes (JSON: raw numbers) */
	for (int i = 0; i < 2; i++) {
		uint64_t avail;
		int rc = where[i] ? hw_fs_free(where[i], &avail) : -ENOENT;
		if (rc != 0) {
			hw_report_check(&d->rep, "disk space", HW_VERDICT_FAIL, "%s %s: %s",
					what[i], where[i] ? where[i] : "(none)", strerror(-rc));
			return;
		}
		hw_report_figure(&d->rep, i == 0 ? "scratch_free_bytes" : "data_free_bytes",
				 (double)avail, "bytes");
		if (avail < store) {
			hw_report_check(&d->rep, "disk space", HW_VERDICT_FAIL,
					"%s %s has %s free, less than the store's %s", what[i],
					where[i], hw_cli_bytes(avail, a, sizeof a),
					hw_cli_bytes(store, b, sizeof b));
			return;
		}
	}
	hw_report_check(&d->rep, "disk space", HW_VERDICT_PASS,
			"room for a restore of the store (%s)", hw_cli_bytes(store, a, sizeof a));
}

/* The other kinds within their schedule (procedure itself is being run now). */
static void check_schedule(struct drill *d, struct hw_store *s)
{
	char late[160] = "";
	size_t used = 0;
	for (int k = 1; k <= HW_DRILL_KINDS; k++) {
		if (k == HW_DRILL_PROCEDURE)
			continue;
		struct hw_drill_row row;
		int rc = hw_store_drill_last(s, (enum hw_drill_kind)k, true, &row);
		struct hw_drill_due due;
		hw_drill_due(d->cfg.drills.every_ms[k], rc == 0 ? &row : NULL, d->now_ms, &due);
		if (due.state != HW_DRILL_OVERDUE && due.state != HW_DRILL_NEVER)
			continue;
		int n = snprintf(late + used, sizeof(late) - used, "%s%s (%s)", used ? ", " : "",
				 hw_drill_kind_name((enum hw_drill_kind)k),
				 hw_drill_state_name(due.state)); /* "never passed", "overdue" */
		used = n > 0 && used + (size_t)n < sizeof(late) ? used + (size_t)n : used;
	}
	hw_report_check(&d->rep, "drills within schedule", used ? HW_VERDICT_FAIL : HW_VERDICT_PASS,
			"%s", used ? late : "every scheduled drill passed within its interval");
}

/* The checks that need the store open: its head, chain, backups and the history. */
static void procedure_store(struct drill *d)
{
	struct hw_store_opts o = {.read_only = true};
	struct hw_store *s = NULL;
	char chain[2 * HW_HASH_BYTES + 1] = "";
	uint8_t id[HW_HASH_BYTES];
	struct hw_head h = {0};
	int rc = hw_store_open(d->dir, &o, &s);
	if (rc == 0)
		rc = hw_store_head(s, &h);
	if (rc == 0 && h.lsn > 0 && hw_store_chain_id(s, id) == 0)
		hw_cli_hex(id, chain);
	if (rc)
		hw_report_check(&d->rep, "store opens", HW_VERDICT_FAIL, "%s: %s", d->dir,
				hw_strerror(rc));
	else
		hw_report_check(&d->rep, "store opens", HW_VERDICT_PASS, "%s: head LSN %" PRIu64,
				d->dir, h.lsn);
	d->lsn = h.lsn;
	check_backups(d, chain);
	check_offsite(d, chain);
	if (s)
		check_schedule(d, s);
	hw_store_close(s);
}

/* Each check as a bar of the timeline, from the verdict before it (the first: from
 * start) to its own: one scan of backup_dir gives the verdicts of five checks, and its
 * time is the first's; a slow check (a witness that does not answer) stands out. */
static void checks_timed(struct hw_report *r, double start)
{
	for (size_t i = 0; i < r->n_checks; i++) {
		const struct hw_report_check *c = &r->checks[i];
		hw_report_phase(r, c->name, start, c->at_s, c->verdict, "%s", c->detail);
		start = c->at_s;
	}
}

/* What the run looked at, so the report names the store and backups it speaks for. */
static void procedure_facts(struct drill *d)
{
	const struct hw_drill_config *c = &d->cfg.drills;
	const char *none = "not configured";
	hw_report_fact(&d->rep, "store", "%s", d->dir);
	hw_report_fact(&d->rep, "config", "%s", d->config_path ? d->config_path : "none (--dir)");
	hw_report_fact(&d->rep, "backup_dir", "%s", c->backup_dir[0] ? c->backup_dir : none);
	hw_report_fact(&d->rep, "offsite_dir", "%s", c->offsite_dir[0] ? c->offsite_dir : none);
}

/* The most of the summary a drill event's detail keeps (the node takes at most 200 bytes
 * of detail: engine/client_int.h hw_client_operator_event). */
#define EVENT_WHAT_CHARS 160

/* The run in the audit trail of the node it asked (docs/security.md "Audit trail"), as
 * the operator whose key the channel shows; a node that does not take it is a warning
 * on stderr, not a failed drill. The summary goes escaped (hw_cli_event_text): it may
 * hold a node's words or an operator's path; cut at an escape's end. */
static void record_on_node(const struct drill *d)
{
	char what[EVENT_WHAT_CHARS + 1], detail[201];
	snprintf(detail, sizeof detail, "drill procedure %s: %s",
		 hw_drill_result_name(d->rep.result),
		 hw_cli_event_text(d->rep.what, false, what, sizeof what));
	struct hw_client *cl;
	int rc = node_connect(d, &cl);
	if (rc == 0) {
		rc = hw_client_operator_event(cl, TOS__V1__NODE_EVENT_KIND__DRILL, detail,
					      STATUS_WAIT_MS);
		hw_client_close(cl);
	}
	char shown[HW_LOG_ESCAPED_CHARS(PATH_MAX)]; /* a unix: path may hold ESC */
	if (rc != 0)
		fprintf(stderr,
			"hawser drill procedure: the node at %s did not record the run: %s\n",
			hw_log_escaped(node_addr(d), shown, sizeof shown), hw_strerror(rc));
}

static int run_procedure(const struct hw_cli_cmd *cmd, int argc, char **argv)
{
	static struct drill d;
	int rc = hw_cli_drill_setup(&d, cmd, argc, argv, procedure_opts);
	if (rc != HW_CLI_RUN)
		return rc;
	if (!d.dir)
		return hw_cli_usage_error(cmd, "--dir DIR or --config FILE is required");
	d.rep.kind = HW_DRILL_PROCEDURE;
	double start = hw_report_clock(&d.rep);
	procedure_facts(&d);
	procedure_store(&d);
	check_keys(&d);
	check_witness(&d);
	check_standbys(&d);
	check_disk(&d);
	checks_timed(&d.rep, start);
	size_t fails = 0, warns = 0;
	const char *first = NULL;
	for (size_t i = 0; i < d.rep.n_checks; i++) {
		const struct hw_report_check *c = &d.rep.checks[i];
		if (c->verdict == HW_VERDICT_FAIL && fails++ == 0)
			first = c->detail;
		warns += c->verdict == HW_VERDICT_WARN;
	}
	if (fails)
		hw_report_finish(&d.rep, HW_DRILL_FAIL, "%zu of %zu checks failed; first: %s",
				 fails, d.rep.n_checks, first);
	else
		hw_report_finish(&d.rep, HW_DRILL_PASS,
				 "%zu checks passed or skipped, %zu warning%s",
				 d.rep.n_checks - warns, warns, warns == 1 ? "" : "s");
	if (node_answered && !d.now_given) /* a what-if (--now) is no run to record */
		record_on_node(&d);
	return hw_cli_drill_finish(&d);
}

const struct hw_cli_cmd hw_cli_drill_procedure = {
	"drill procedure", "the operator's pre-recovery checklist, touching no data",
	HW_CLI_USAGE(
		"usage: hawser drill procedure (--dir DIR | --config FILE) [--backup-dir D]\n"
		"                              [--offsite-dir D] [--connect ADDR] [--scratch S]\n"
		"                              [--now T] ...\n"
		"  Check, without changing any data: backups exist, the newest one's age, the\n"
		"  count of generations and how far back they reach, that each one's files have\n"
		"  its MANIFEST's sizes (and that the newest has one), a copy outside the\n"
		"  primary's reach (offsite_dir) as whole and as young (backup_age_max), key\n"
		"  files present, the witness and the standbys reachable with lag within rpo\n"
		"  (asking the node at ADDR or node.client, over the channel of the config's\n"
		"  [security] keys, ID@ADDR taking only the key pinned as ID; plaintext with\n"
		"  --dir alone: a primary's standbys, with [failover] every other node voter; a\n"
		"  standby: the primary it follows), disk space for a restore, and every other\n"
		"  drill within its schedule. --now T judges ages and schedules at T instead of\n"
		"  now (ISO 8601 UTC or ms since 1970, 2001 to 9999): a what-if, which the report\n"
		"  and the summary mark and nothing records (no history row, no audit event).\n"
		"  Otherwise a node that answered gets the result for its audit trail (hawser\n"
		"  audit: a drill event with the key this command connected with).\n" COMMON_USAGE),
	run_procedure};
