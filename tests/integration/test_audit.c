/* test_audit.c: hawser's own records on a running cluster (docs/security.md "Signed
 * checkpoints", "Audit trail"): a failover cluster of p1, s1 and a witness, encrypted
 * (so each node has a signing key), a checkpoint every 100 entries. Under a load and a
 * switchover to s1, `hawser audit --json` on both stores lists p1's promotion, its
 * switchover and s1's promotion in that order (each with its config's hash), and `hawser verify
 * --trust` finds the checkpoints about every 100 entries, each signed by a trusted node.
 * On the same kind of cluster: refused connections (one event for a flood; none for
 * handshakes cut short), a procedure drill (its summary escaped) and a switchover with
 * the operator's key; on a static pair: a config change, and
 * restores told to the primary. */
#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "bench/cluster.h"
#include "engine/client_int.h"
#include "engine/io/channel.h"
#include "hawser.h"
#include "tests/integration/proc.h"

#define RTO_MS         2000
#define SYNC_MS        15000
#define LOAD_RECORDS   "450"
#define PER_CHECKPOINT 100u
#define WAIT_MS        15000 /* bound on looking (a status call or a CLI run each) */

struct fix {
	char root[HW_PROC_PATH_MAX];
	struct hw_cluster *c;
	struct hw_capture cap;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("audit", f->root, sizeof f->root) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	hw_cluster_free(f->c, false);
	int rc = hw_test_rm_rf(f->root);
	free(f);
	return rc;
}

/* LSN on the first line of out holding "kind":"<kind>" and "node":"<node>"; 0: none. */
static uint64_t event_lsn(const char *out, const char *kind, const char *node)
{
	char k[64], n[64];
	snprintf(k, sizeof k, "\"kind\":\"%s\"", kind);
	snprintf(n, sizeof n, "\"node\":\"%s\"", node);
	for (const char *line = out; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[1024];
		snprintf(buf, sizeof buf, "%.*s", (int)len, line);
		const char *lsn = strstr(buf, "\"lsn\":");
		if (strstr(buf, k) && strstr(buf, n) && lsn)
			return strtoull(lsn + 6, NULL, 10);
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* `hawser audit --json` on node i's store until it lists s1's promotion (replication
 * brings it to p1), for at most WAIT_MS; the last output stays in f->cap. */
static void audit_until_promotion(struct fix *f, unsigned i)
{
	for (int64_t end = hw_mono_ms() + WAIT_MS; hw_mono_ms() < end;) {
		assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "audit", "--json",
						 hw_cluster_dir(f->c, i), NULL),
				 0);
		if (event_lsn(f->cap.out, "promotion", "s1") != 0)
			return;
		assert_int_equal(hw_cluster_wait_synced(f->c, SYNC_MS, NULL), 0);
	}
	fail_msg("node %u's audit never showed the promotion: %s", i, f->cap.out);
}

static long long jint(const char *out, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *at = strstr(out, pat);
	assert_non_null(at);
	return strtoll(at + strlen(pat), NULL, 10);
}

/* `hawser submit` counts a --k the cluster of one standby cannot meet as errors, in the
 * code's own words, and sends the same records again given the --end-ms of an earlier
 * run: duplicates. */
static void submit_refused_and_repeated(struct fix *f, const char *addr,
					const struct hw_client_security *sec)
{
	/* k 2 of one standby: the node refuses the submits, not their records: errors, said
	 * in the code's own words (they were "rejected", unexpected, "at : ") */
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "submit", "--connect", addr,
					 "--generate", "2", "--mode", "durable", "--k", "2",
					 "--json", "--key", sec->key, "--peers", sec->peers,
					 "--cluster", sec->cluster_id, NULL),
			 1);
	assert_int_equal(jint(f->cap.out, "errors"), 2);
	assert_int_equal(jint(f->cap.out, "rejected"), 0);
	assert_int_equal(jint(f->cap.out, "unexpected"), 0);
	assert_non_null(strstr(f->cap.err, "(HW_ERANGE): the node refused the submit, not the "
					   "record (a --k above its standbys"));
	assert_null(strstr(f->cap.err, " at : "));
	/* a run given the --end-ms another printed sends its records again: duplicates */
	for (int run = 0; run < 2; run++) {
		assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "submit", "--connect",
						 addr, "--generate", "3", "--seed", "77",
						 "--end-ms", "2026-01-01T00:00:00Z", "--json",
						 "--key", sec->key, "--peers", sec->peers,
						 "--cluster", sec->cluster_id, NULL),
				 0);
		assert_int_equal(jint(f->cap.out, "end_ms"), 1767225600000LL);
		assert_int_equal(jint(f->cap.out, run ? "duplicates" : "accepted"), 3);
	}
}

/* Hand the primary role from p1 to s1 through the library (test_refusals_audited asks
 * with `hawser switchover`), at addr, and wait until s1 is the primary. */
static void switchover_by_library(struct fix *f, const char *addr,
				  const struct hw_client_security *sec)
{
	struct hw_client *cl;
	int code = -1;
	char why[128];
	assert_int_equal(hw_client_connect_secure(addr, sec, &cl), 0);
	assert_int_equal(hw_client_switchover(cl, "s1", SYNC_MS, &code, why, sizeof why), 0);
	hw_client_close(cl);
	assert_int_equal(code, 0);
	/* the hand-over takes a few election rounds: look (a status call each) until s1 */
	unsigned p = 0;
	for (int64_t end = hw_mono_ms() + WAIT_MS; p != 1 && hw_mono_ms() < end;)
		assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &p), 0);
	assert_int_equal(p, 1);
}

/* Node i's audit holds p1's election, the switchover and s1's promotion in order, and
 * its log's checkpoints verify against the nodes' keys (p1pub, s1pub), about one every
 * PER_CHECKPOINT entries. */
static void node_audited(struct fix *f, unsigned i, const char *p1pub, const char *s1pub)
{
	audit_until_promotion(f, i);
	const char *out = f->cap.out;
	fprintf(stderr, "test_audit: node %u:\n%s", i, out);
	/* with failover every node starts as a standby (its start is only logged): p1's
	 * first event is the election that made it primary */
	uint64_t start = event_lsn(out, "promotion", "p1");
	uint64_t xfer = event_lsn(out, "switchover", "p1");
	uint64_t promo = event_lsn(out, "promotion", "s1");
	assert_true(start > 0 && xfer > start && promo > xfer);
	/* s1's start, held while it was a standby, is appended as it takes over */
	uint64_t s1_start = event_lsn(out, "node_start", "s1");
	assert_true(s1_start > xfer && s1_start < promo);
	assert_non_null(strstr(out, "hand over to s1"));
	assert_null(strstr(out, "\"config_sha\":\"\",\"detail\":\"became"));

	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "verify", "--json", "--trust",
					 p1pub, "--trust", s1pub, hw_cluster_dir(f->c, i), NULL),
			 0);
	long long entries = jint(f->cap.out, "entries");
	long long cps = jint(f->cap.out, "checkpoints");
	fprintf(stderr, "test_audit: node %u verify: %s", i, f->cap.out);
	assert_true(jint(f->cap.out, "good_checkpoint_lsn") > 0);
	/* one per PER_CHECKPOINT entries, give or take the batch that crossed the line */
	assert_true(cps >= 2); /* one at a time: a burst may stretch the gap */
	assert_true(cps <= entries / PER_CHECKPOINT + 1);
}

/* A switchover shows up, in order, in the audit of both stores, and both logs carry
 * checkpoints about every PER_CHECKPOINT entries that verify against the nodes' keys
 * (node_audited). On the way, `hawser submit` is held to its errors and repeats
 * (submit_refused_and_repeated). */
static void test_switchover_audited(void **state)
{
	struct fix *f = *state;
	char root[HW_PROC_PATH_MAX + 16], p1pub[HW_PROC_PATH_MAX + 32],
		s1pub[HW_PROC_PATH_MAX + 32];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(),
				    .root = root,
				    .standbys = 1,
				    .failover = true,
				    .rto_ms = RTO_MS,
				    .rpo_ms = 0,
				    .checkpoint_records = PER_CHECKPOINT};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &p), 0);
	assert_int_equal(p, 0);
	const struct hw_client_security *sec = hw_cluster_security(f->c);
	const char *addr = hw_cluster_node_addr(f->c, 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "submit", "--connect", addr,
					 "--generate", LOAD_RECORDS, "--key", sec->key, "--peers",
					 sec->peers, "--cluster", sec->cluster_id, NULL),
			 0);
	submit_refused_and_repeated(f, addr, sec);
	assert_int_equal(hw_cluster_wait_synced(f->c, SYNC_MS, NULL), 0);
	switchover_by_library(f, addr, sec);

	snprintf(p1pub, sizeof p1pub, "%s/pins/p1.pub", hw_cluster_root(f->c));
	snprintf(s1pub, sizeof s1pub, "%s/pins/s1.pub", hw_cluster_root(f->c));
	for (unsigned i = 0; i < 2; i++)
		node_audited(f, i, p1pub, s1pub);
	/* a key that is not the nodes': every checkpoint is untrusted, the first reported */
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "verify", "--json", "--trust",
					 s1pub, hw_cluster_dir(f->c, 1), NULL),
			 3);
	assert_non_null(strstr(f->cap.out, "\"code\":\"HW_EUNTRUSTED\""));
}

/* The kx key (64 hex digits) of the node.pub at path into hex. */
static void pub_kx(const char *path, char hex[65])
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char line[256];
	hex[0] = '\0';
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, "kx ", 3) == 0 && strlen(line) >= 3 + 64)
			snprintf(hex, 65, "%.64s", line + 3);
	fclose(fp);
	assert_int_equal(strlen(hex), 64);
}

/* Lines of out holding needle. */
static unsigned count_lines(const char *out, const char *needle)
{
	unsigned n = 0;
	for (const char *line = out; line != NULL && *line != '\0';) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *at = strstr(line, needle);
		n += at != NULL && at < line + len;
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* The first line of out holding needle (into line), asserted to exist. */
static void find_line(const char *out, const char *needle, char *line, size_t cap)
{
	const char *at = strstr(out, needle);
	assert_non_null(at);
	const char *start = at;
	while (start > out && start[-1] != '\n')
		start--;
	const char *end = strchr(at, '\n');
	snprintf(line, cap, "%.*s", (int)(end ? end - start : (ptrdiff_t)strlen(start)), start);
}

/* The line of out that holds kind (an audit event's "kind":"..."), which must name the
 * key whose key-exchange half is kx as its peer_key; the line is left in line. */
static void assert_event_key(const char *out, const char *kind, const char *kx, char *line,
			     size_t cap)
{
	char want[128];
	find_line(out, kind, line, cap);
	snprintf(want, sizeof want, "\"peer_key\":\"%s\"", kx);
	assert_non_null(strstr(line, want));
}

/* Three connections to addr whose channel handshakes are cut short, none of them an
 * authentication failure: one closed before a byte, one silent until the node closes it
 * at its handshake deadline, and one that says hello with the client's pinned key and
 * hangs up at the node's answer (as a rejoining node's reconnect did, cut by its
 * rewind). */
static void cut_handshakes(const char *addr, const struct hw_client_security *sec)
{
	int fd = hw_test_dial(addr), silent = hw_test_dial(addr);
	assert_true(fd >= 0 && silent >= 0);
	close(fd);
	struct hw_identity id;
	assert_int_equal(hw_identity_load(sec->key, &id), 0);
	struct hw_channel_config cfg = {.role = HW_CHANNEL_INITIATOR,
					.self = &id,
					.pinned = id.kx_pk, /* the node's answer is not read */
					.pinned_count = 1,
					.cluster_id = sec->cluster_id};
	struct hw_channel *ch = NULL;
	uint8_t hello[HW_CHANNEL_HANDSHAKE_BYTES_MAX], answer[64];
	size_t n = 0;
	assert_int_equal(hw_channel_new(&cfg, &ch), 0);
	hw_identity_wipe(&id);
	assert_int_equal(hw_channel_handshake_out(ch, hello, sizeof hello, &n), 0);
	hw_channel_free(ch);
	fd = hw_test_dial(addr);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, hello, n, MSG_NOSIGNAL), (ssize_t)n);
	assert_true(recv(fd, answer, sizeof answer, 0) > 0); /* the node took our hello */
	close(fd);
	struct pollfd pfd = {.fd = silent, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, WAIT_MS), 1); /* closed at its deadline */
	close(silent);
}

/* A procedure drill as p1 (its config's keys): the node answers over the channel, and the
 * drill says it recorded, its summary holding ESC (a --backup-dir holding one, relative,
 * so that it falls within the event's 160 characters wherever the test runs): a record
 * holds no control character, so it goes escaped. */
static void procedure_drill_as_p1(struct fix *f, const char *addr)
{
	char path[HW_PROC_PATH_MAX + 48], line[1024];
	snprintf(path, sizeof path, "%s/p1.ini", hw_cluster_root(f->c));
	hw_proc_capture(&f->cap, hw_test_bin(), "drill", "procedure", "--config", path, "--connect",
			addr, "--backup-dir", "b\x1b[2J", "--no-record", "--json", NULL);
	const char *checks = strstr(f->cap.out, "\"checks\":[");
	assert_non_null(checks);
	find_line(checks, "{\"name\":\"standbys reachable\"", line, sizeof line);
	char *check = strstr(line, "{\"name\":\"standbys reachable\"");
	*strchr(check, '}') = '\0';
	fprintf(stderr, "test_audit: procedure: %s %s\n", check, f->cap.err);
	assert_null(strstr(check, "node at")); /* the node answered over the channel */
	assert_null(strstr(f->cap.err, "did not record"));
}

/* A quarantine export told to the node at addr and a switchover to s1, each with the
 * cluster's client key (sec); keys without --connect are a usage error (export, status). */
static void export_and_switchover(struct fix *f, const char *addr,
				  const struct hw_client_security *sec)
{
	char path[HW_PROC_PATH_MAX + 48];
	snprintf(path, sizeof path, "%s/quarantine.jsonl", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "quarantine", "export",
					 hw_cluster_dir(f->c, 0), path, "--key", sec->key, NULL),
			 2); /* keys without --connect: a usage error */
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--dir",
					 hw_cluster_dir(f->c, 0), "--insecure", NULL),
			 2); /* the same for status */
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "quarantine", "export",
					 hw_cluster_dir(f->c, 0), path, "--connect", addr, "--key",
					 sec->key, "--peers", sec->peers, "--cluster",
					 sec->cluster_id, NULL),
			 0);

	/* the switchover through the CLI, with the cluster's client key */
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "switchover", "--connect", addr,
					 "--to", "s1", "--key", sec->key, "--peers", sec->peers,
					 "--cluster", sec->cluster_id, NULL),
			 0);
}

/* p1's audit (in f->cap, --json) lists one auth_failure, by the rogue key, and the
 * switchover, the drill and the export, each by the key it came with; the text names the
 * rogue key's fingerprint. */
static void refusals_listed(struct fix *f, const char *rogue_kx, const char *client_kx,
			    const char *p1_kx)
{
	char line[1024], want[128];
	const char *out = f->cap.out;
	fprintf(stderr, "test_audit: refusals:\n%s", out);
	assert_int_equal(count_lines(out, "\"kind\":\"auth_failure\""), 1);
	assert_event_key(out, "\"kind\":\"auth_failure\"", rogue_kx, line, sizeof line);
	assert_non_null(strstr(line, "\"node\":\"p1\""));
	assert_non_null(strstr(line, "\"peer_addr\":\"127.0.0.1:"));
	assert_non_null(strstr(line, "HW_EAUTH"));
	assert_event_key(out, "\"kind\":\"switchover\"", client_kx, line, sizeof line);
	/* the drill, by the key it ran with: p1's own, from the config */
	assert_event_key(out, "\"kind\":\"drill\"", p1_kx, line, sizeof line);
	assert_non_null(strstr(line, "drill procedure "));
	assert_non_null(strstr(line, "backup_dir b\\\\x1b[2J holds")); /* JSON of \x1b */
	assert_event_key(out, "\"kind\":\"export\"", client_kx, line, sizeof line);
	assert_non_null(strstr(line, "quarantine export of 0 records"));
	assert_int_equal(
		hw_proc_capture(&f->cap, hw_test_bin(), "audit", hw_cluster_dir(f->c, 0), NULL), 0);
	find_line(f->cap.out, " auth_failure ", line, sizeof line);
	snprintf(want, sizeof want, " key=%.16s", rogue_kx); /* the fingerprint */
	assert_non_null(strstr(line, want));
}

/* Handshakes cut short (a pinned key's hello, then nothing; none at all) are no
 * authentication failure. A client with a key no node pins is refused: the primary
 * appends one auth_failure event naming its address and key (the first refusal of a host
 * within the minute: a cut one counted before it would have taken its place), and a flood
 * of 50 more from the same host within the minute adds none; a procedure drill asks the node over
 * the config's keys and leaves a drill event with that key; a quarantine export told to the node
 * and a switchover asked with `hawser switchover` name the operator's key. */
static void test_refusals_audited(void **state)
{
	struct fix *f = *state;
	char root[HW_PROC_PATH_MAX + 16], rogue[HW_PROC_PATH_MAX + 16],
		rogue_key[HW_PROC_PATH_MAX + 32], path[HW_PROC_PATH_MAX + 48];
	char rogue_kx[65], client_kx[65], p1_kx[65];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	snprintf(rogue, sizeof rogue, "%s/rogue", f->root);
	snprintf(rogue_key, sizeof rogue_key, "%s/node.key", rogue);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(),
				    .root = root,
				    .standbys = 1,
				    .failover = true,
				    .rto_ms = RTO_MS,
				    .rpo_ms = 0};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	unsigned p;
	assert_int_equal(hw_cluster_primary(f->c, SYNC_MS, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "keygen", "--out", rogue, NULL),
			 0);
	snprintf(path, sizeof path, "%s/node.pub", rogue);
	pub_kx(path, rogue_kx);
	snprintf(path, sizeof path, "%s/pins/client.pub", hw_cluster_root(f->c));
	pub_kx(path, client_kx);
	snprintf(path, sizeof path, "%s/pins/p1.pub", hw_cluster_root(f->c));
	pub_kx(path, p1_kx);

	const struct hw_client_security *sec = hw_cluster_security(f->c);
	struct hw_client_security bad = *sec;
	bad.key = rogue_key;
	const char *addr = hw_cluster_node_addr(f->c, 0);
	cut_handshakes(addr, sec);
	for (int i = 0; i < 51; i++) {
		struct hw_client *cl = NULL;
		assert_int_equal(hw_client_connect_secure(addr, &bad, &cl), HW_EHANDSHAKE);
	}

	procedure_drill_as_p1(f, addr);
	export_and_switchover(f, addr, sec);
	audit_until_promotion(f, 0); /* everything p1 appended before it is in the log */
	refusals_listed(f, rogue_kx, client_kx, p1_kx);
}

/* `hawser audit --json` on node 0's store until it lists want (a string of its output)
 * n times, for at most WAIT_MS; the last output stays in f->cap. */
static void audit_until_count(struct fix *f, const char *want, unsigned n)
{
	for (int64_t end = hw_mono_ms() + WAIT_MS; hw_mono_ms() < end;) {
		assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "audit", "--json",
						 hw_cluster_dir(f->c, 0), NULL),
				 0);
		if (count_lines(f->cap.out, want) >= n)
			return;
		assert_int_equal(hw_cluster_wait_synced(f->c, SYNC_MS, NULL), 0);
	}
	fail_msg("node 0's audit never showed %u of %s: %s", n, want, f->cap.out);
}

/* A primary restarted with an edited config file appends a config_change naming the
 * start it differs from; restarted again with the same file, only its start. */
static void test_config_change_audited(void **state)
{
	struct fix *f = *state;
	char root[HW_PROC_PATH_MAX + 16], ini[HW_PROC_PATH_MAX + 32], line[1024];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(), .root = root, .standbys = 1};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	audit_until_count(f, "\"kind\":\"node_start\"", 1);
	uint64_t first = event_lsn(f->cap.out, "node_start", "p1");
	assert_true(first > 0);

	snprintf(ini, sizeof ini, "%s/p1.ini", hw_cluster_root(f->c));
	FILE *fp = fopen(ini, "a");
	assert_non_null(fp);
	fputs("; edited by the operator\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hw_cluster_restart(f->c, 0), 0);
	audit_until_count(f, "\"kind\":\"node_start\"", 2);
	assert_int_equal(count_lines(f->cap.out, "\"kind\":\"config_change\""), 1);
	find_line(f->cap.out, "\"kind\":\"config_change\"", line, sizeof line);
	char want[64];
	snprintf(want, sizeof want, "config changed since lsn %llu", (unsigned long long)first);
	assert_non_null(strstr(line, want));
	assert_null(strstr(line, "\"config_sha\":\"\""));

	assert_int_equal(hw_cluster_restart(f->c, 0), 0);
	audit_until_count(f, "\"kind\":\"node_start\"", 3);
	assert_int_equal(count_lines(f->cap.out, "\"kind\":\"config_change\""), 1);
}

/* Restores of backup told to the node at addr with the cluster's client key (sec): keys
 * without --connect are a usage error that restores nothing; one until LSN 1; one of a
 * backup that is not there (ENOENT); one into a long Japanese directory. */
static void restores_told(struct fix *f, const char *backup, const char *addr,
			  const struct hw_client_security *sec)
{
	char into[HW_PROC_PATH_MAX + 16], path[HW_PROC_PATH_MAX + 48];
	snprintf(into, sizeof into, "%s/restored0", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "restore", backup, into,
					 "--until-lsn", "1", "--key", sec->key, NULL),
			 2); /* keys without --connect: a usage error, nothing restored */
	assert_int_not_equal(access(into, F_OK), 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "restore", backup, into,
					 "--until-lsn", "1", "--connect", addr, "--key", sec->key,
					 "--peers", sec->peers, "--cluster", sec->cluster_id, NULL),
			 0);
	snprintf(path, sizeof path, "%s/missing", f->root);
	snprintf(into, sizeof into, "%s/restored1", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "restore", path, into,
					 "--connect", addr, "--key", sec->key, "--peers", sec->peers,
					 "--cluster", sec->cluster_id, NULL),
			 1);
	fprintf(stderr, "test_audit: failed restore: %s", f->cap.err);
	assert_non_null(strstr(f->cap.err, "(ENOENT)")); /* no such directory */
	/* a long Japanese directory: the event keeps the path's tail, cut between characters
	 * (cut inside one, the node refused the event and the restore said nothing) */
	char jp[HW_PROC_PATH_MAX + 128];
	snprintf(jp, sizeof jp, "%s/%s", f->root,
		 "\xe5\xbe\xa9\xe5\x85\x83\xe5\x85\x88\x5f\xe5\x90\x8d\xe5\x8f\xa4"
		 "\xe5\xb1\x8b\xe6\xb8\xaf\xe3\x82\xb3\xe3\x83\xb3\xe3\x83\x86\xe3"
		 "\x83\x8a\xe3\x82\xbf\xe3\x83\xbc\xe3\x83\x9f\xe3\x83\x8a\xe3\x83"
		 "\xab\x5f\x32");
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "restore", backup, jp,
					 "--until-lsn", "1", "--connect", addr, "--key", sec->key,
					 "--peers", sec->peers, "--cluster", sec->cluster_id, NULL),
			 0);
}

/* The restore drill of backup tells the node at addr the same way, and checks that it
 * took it; it trusts the primary's key, so a checkpoint signed before the backup (a slow
 * run) passes. */
static void restore_drill_told(struct fix *f, const char *backup, const char *addr,
			       const struct hw_client_security *sec)
{
	char trust[HW_PROC_PATH_MAX + 48], path[HW_PROC_PATH_MAX + 48], into[HW_PROC_PATH_MAX + 16],
		line[1024];
	snprintf(trust, sizeof trust, "%s/pins/p1.pub", hw_cluster_root(f->c));
	snprintf(path, sizeof path, "%s/scratch", f->root);
	snprintf(into, sizeof into, "%s/reports", f->root);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "drill", "restore", "--backup",
					 backup, "--scratch", path, "--report-dir", into, "--rto",
					 "1h", "--no-record", "--json", "--trust", trust,
					 "--connect", addr, "--key", sec->key, "--peers",
					 sec->peers, "--cluster", sec->cluster_id, NULL),
			 0);
	find_line(f->cap.out, "\"name\":\"restore recorded\"", line, sizeof line);
}

/* A restore of a backup of the primary's store, told to the primary with the cluster's
 * client key, appends one restore event naming that key, the target LSN and the head
 * reached; a restore of a backup that is not there exits with its error (ENOENT: no such
 * directory) and still appends a failed restore event; keys without --connect are a usage error; a
 * restore drill with --connect appends one too. */
static void test_restore_audited(void **state)
{
	struct fix *f = *state;
	char root[HW_PROC_PATH_MAX + 16], backup[HW_PROC_PATH_MAX + 16],
		path[HW_PROC_PATH_MAX + 48], line[1024];
	char client_kx[65];
	snprintf(root, sizeof root, "%s/cluster", f->root);
	snprintf(backup, sizeof backup, "%s/backup", f->root);
	struct hw_cluster_opts o = {.hawser_bin = hw_test_bin(), .root = root, .standbys = 1};
	assert_int_equal(hw_cluster_start(&o, &f->c), 0);
	audit_until_count(f, "\"kind\":\"node_start\"", 1);
	snprintf(path, sizeof path, "%s/pins/client.pub", hw_cluster_root(f->c));
	pub_kx(path, client_kx);
	const struct hw_client_security *sec = hw_cluster_security(f->c);
	const char *addr = hw_cluster_node_addr(f->c, 0);
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "backup", hw_cluster_dir(f->c, 0),
					 backup, NULL),
			 0);
	restores_told(f, backup, addr, sec);
	restore_drill_told(f, backup, addr, sec);

	audit_until_count(f, "\"kind\":\"restore\"", 4);
	const char *out = f->cap.out;
	fprintf(stderr, "test_audit: restores:\n%s", out);
	assert_int_equal(count_lines(out, "\"kind\":\"restore\""), 4);
	assert_int_equal(
		count_lines(out, "\xe3\x82\xbf\xe3\x83\xbc\xe3\x83\x9f\xe3\x83\x8a\xe3\x83\xab_2"),
		1);
	assert_int_equal(count_lines(out, "/store until end: ok, head lsn "), 1); /* the drill */
	assert_event_key(out, "until lsn 1: ok, head lsn 1,", client_kx, line, sizeof line);
	assert_non_null(strstr(line, "\"kind\":\"restore\""));
	assert_non_null(strstr(line, "/backup into "));
	assert_event_key(out, "until end: ENOENT, head lsn 0,", client_kx, line, sizeof line);
	assert_non_null(strstr(line, "\"kind\":\"restore\""));
	assert_non_null(strstr(line, "/missing into "));
}

int main(void)
{
	if (hw_test_bin() == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_switchover_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_change_audited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_audited, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
