/* test_dial_lookup.c: host names whose DNS server does not answer, for a client's dial
 * (engine/dial.h, engine/lookup.h) and a node's start (engine/resolve.h). Each case runs
 * in a child process with a network and a mount namespace of its own: loopback up, a UDP
 * socket on 127.0.0.1:53 that takes every query and answers none (so no ICMP refusal ends
 * the wait either), /etc/resolv.conf naming it with 30 s timeouts tried twice,
 * /etc/hosts naming PEER_NAME alone, and /etc/nsswitch.conf asking the hosts file, then
 * DNS. The system resolver alone would take over a minute to give up on another name;
 * the dial and the start must give up within their own 5 s. The parent waits for the
 * child's answer with a bound and kills it past that. Needs root (namespaces and mounts):
 * skipped otherwise, saying so. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "engine/config.h"
#include "engine/resolve.h"
#include "hawser.h"
#include "tests/integration/proc.h"

#define SILENT_NAME "silent.hawser.test"
#define PEER_NAME   "peer.hawser.test" /* in the child's /etc/hosts: 127.0.0.1 */
#define SHORT_NAME  "p1"               /* too: a name shorter than its address */
#define TWIN_NAME   "s1host"           /* too: another name of the same host */
/* The dial's bound is 5 s (hawser.h); far more than that, far less than the resolver's
 * own 2 x 30 s: a dial that returns within it was bounded, one that does not hung. */
#define BOUND_MS 20000

/* What the child says through its pipe. */
struct answer {
	char skip[160]; /* not "": the namespaces could not be had, and why */
	int rc;         /* what the case's call returned */
	int64_t ms;     /* how long it took */
	char text[640]; /* what it said: the error, or the address a name resolved to */
};

/* What a child does in the silent world, into a (rc, ms, text); dir is the fixture's. */
typedef void job_fn(const char *dir, struct answer *a);

struct fix {
	char dir[HW_PROC_PATH_MAX]; /* the child's resolv.conf, nsswitch.conf and stderr */
	pid_t pid;                  /* > 0 while the child runs */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	if (f == NULL || hw_test_mkdtemp("dial-lookup", f->dir, sizeof f->dir) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	int rc = hw_test_rm_rf(f->dir);
	free(f);
	return rc;
}

/* Write text to dir/name and bind it over target (in the child's mount namespace). */
static int bind_file(const char *dir, const char *name, const char *text, const char *target)
{
	char path[HW_PROC_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	if (fp == NULL)
		return -errno;
	int rc = fputs(text, fp) < 0 ? -EIO : 0;
	if (fclose(fp) != 0)
		rc = -EIO;
	if (rc == 0 && mount(path, target, NULL, MS_BIND, NULL) != 0)
		rc = -errno;
	return rc;
}

/* In the child: its own network (loopback up, a DNS server that never answers) and its
 * own view of /etc. *silent is the server's socket. 0, or a step failed: why filled. */
static int silent_world(const char *dir, int *silent, char *why, size_t cap)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
		snprintf(why, cap, "unshare: %s (needs root)", strerror(errno));
		return -1;
	}
	struct ifreq ifr = {0};
	strcpy(ifr.ifr_name, "lo");
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(53),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	/* private: the binds below stay in this namespace, not the host's */
	bool ok = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 && fd >= 0 &&
		  ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	if (!ok || ioctl(fd, SIOCSIFFLAGS, &ifr) != 0 ||
	    bind(fd, (const struct sockaddr *)&sin, sizeof sin) != 0) {
		snprintf(why, cap, "private mounts, loopback or port 53: %s", strerror(errno));
		return -1;
	}
	*silent = fd;
	int rc = bind_file(dir, "resolv.conf",
			   "nameserver 127.0.0.1\noptions timeout:30 attempts:2\n",
			   "/etc/resolv.conf");
	if (rc == 0)
		rc = bind_file(dir, "hosts",
			       "127.0.0.1 " PEER_NAME " " SHORT_NAME " " TWIN_NAME "\n",
			       "/etc/hosts");
	if (rc == 0)
		rc = bind_file(dir, "nsswitch.conf", "hosts: files dns\n", "/etc/nsswitch.conf");
	if (rc != 0)
		snprintf(why, cap, "binding over /etc: %s", strerror(-rc));
	return rc;
}

/* The child: job in the silent world, its stderr into dir/stderr, and say what came on
 * fd. Never returns. */
static _Noreturn void child(const char *dir, int fd, job_fn *job)
{
	struct answer a = {.rc = 1};
	char path[HW_PROC_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/stderr", dir);
	int err = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (err >= 0)
		dup2(err, STDERR_FILENO);
	int silent = -1;
	if (silent_world(dir, &silent, a.skip, sizeof a.skip) == 0)
		job(dir, &a);
	_exit(write(fd, &a, sizeof a) == (ssize_t)sizeof a ? 0 : 1);
}

/* Run job in a child in the silent world: its answer, within BOUND_MS, else the test
 * fails (the child is killed at teardown); skipped when the world cannot be had. */
static void run_child(struct fix *f, job_fn *job, struct answer *a)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		child(f->dir, p[1], job);
	close(p[1]);
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	int n;
	while ((n = poll(&pfd, 1, BOUND_MS)) < 0 && errno == EINTR)
		;
	if (n == 0)
		fail_msg("still blocked after %d ms: a lookup is not bounded", BOUND_MS);
	ssize_t got = read(p[0], a, sizeof *a);
	close(p[0]);
	assert_int_equal(got, sizeof *a);
	if (a->skip[0] != '\0') {
		fprintf(stderr, "test_dial_lookup: skipped, no silent DNS here: %s\n", a->skip);
		skip();
	}
	/* no assert on a->ms: the poll above already bounds the answer's arrival */
}

static void dial_silent(const char *dir, struct answer *a)
{
	(void)dir;
	struct hw_client *c = NULL;
	int64_t began = hw_mono_ms();
	a->rc = hw_client_connect(SILENT_NAME ":7000", &c);
	a->ms = hw_mono_ms() - began;
	hw_client_close(c);
}

/* A client given a host name whose DNS server is silent: hw_client_connect returns
 * -EHOSTUNREACH within the dial's bound, where getaddrinfo alone would block for its 2 x
 * 30 s, and says on stderr that the name's lookup timed out. */
static void test_silent_dns_bounded(void **state)
{
	struct fix *f = *state;
	struct answer a;
	run_child(f, dial_silent, &a);
	print_message("hw_client_connect(" SILENT_NAME ") returned %s after %lld ms\n",
		      hw_errname(a.rc), (long long)a.ms);
	assert_int_equal(a.rc, -EHOSTUNREACH);
	char path[HW_PROC_PATH_MAX + 32], line[256] = "";
	snprintf(path, sizeof path, "%s/stderr", f->dir);
	assert_int_equal(
		hw_test_log_lines(path, SILENT_NAME ": lookup timed out", line, sizeof line), 1);
	print_message("%s\n", line);
}

/* A standby's config (dir/node.conf) naming its primary by host, and with voters when
 * voters is not NULL, loaded and resolved as a node's start does: rc, and the error or
 * the primary's address, in a. */
static void start_resolve(const char *dir, const char *host, const char *voters, struct answer *a)
{
	char path[HW_PROC_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/node.conf", dir);
	FILE *fp = fopen(path, "w");
	if (fp == NULL)
		return;
	fprintf(fp,
		"[cluster]\nid = yard\n[node]\nid = s1\nrole = standby\ndata_dir = %s/s1\n"
		"client = 127.0.0.1:7101\nlisten = 127.0.0.2:7001\n",
		dir);
	if (voters != NULL)
		fprintf(fp,
			"[durability]\nmode = durable\n[failover]\nvoters = %s\n"
			"witness = 10.0.0.3:7900\nwitness_id = w1\nrto = 5s\nrpo = 0\n",
			voters);
	else
		fprintf(fp, "primary = %s:7001\n", host);
	fputs("[security]\ninsecure = true\n", fp);
	fclose(fp);
	struct hw_config c;
	int64_t began = hw_mono_ms();
	a->rc = hw_config_load(path, &c, a->text, sizeof a->text);
	if (a->rc == 0)
		a->rc = hw_config_resolve(&c, path, a->text, sizeof a->text);
	a->ms = hw_mono_ms() - began;
	if (a->rc == 0)
		snprintf(a->text, sizeof a->text, "%s", c.primary);
}

static void start_peer(const char *dir, struct answer *a)
{
	start_resolve(dir, PEER_NAME, NULL, a);
}

static void start_short(const char *dir, struct answer *a)
{
	start_resolve(dir, SHORT_NAME, NULL, a);
}

static void start_silent(const char *dir, struct answer *a)
{
	start_resolve(dir, SILENT_NAME, NULL, a);
}

static void start_twins(const char *dir, struct answer *a)
{
	start_resolve(dir, NULL, SHORT_NAME "@" SHORT_NAME ":7001, s1@" TWIN_NAME ":7001", a);
}

/* A node's start looks its config's host names up once (its loop dials IP addresses
 * alone): one the hosts file knows becomes its address, logged, a name shorter than its
 * address too; two voters' names of one host are refused as one address given twice;
 * one whose DNS server is
 * silent fails the start within HW_RESOLVE_MS, naming the key and the name, where it
 * used to start and then dial nothing, for ever, without a word. */
static void test_node_start_names(void **state)
{
	struct fix *f = *state;
	struct answer a;
	run_child(f, start_peer, &a);
	assert_int_equal(a.rc, 0);
	assert_string_equal(a.text, "127.0.0.1:7001");
	char path[HW_PROC_PATH_MAX + 32], line[256] = "";
	snprintf(path, sizeof path, "%s/stderr", f->dir);
	assert_int_equal(hw_test_log_lines(path,
					   "event=address_resolved key=node.primary "
					   "name=" PEER_NAME ":7001 addr=127.0.0.1:7001",
					   line, sizeof line),
			 1);
	run_child(f, start_short, &a); /* its answer is longer than it */
	assert_int_equal(a.rc, 0);
	assert_string_equal(a.text, "127.0.0.1:7001");
	run_child(f, start_twins, &a); /* two names, one host: as if given twice */
	assert_int_equal(a.rc, HW_ECONFIG);
	assert_non_null(strstr(a.text, "'failover.voters' gives s1 the address 127.0.0.1:7001 "
				       "of p1: every voter needs its own (their host names looked "
				       "up)"));
	run_child(f, start_silent, &a);
	print_message("start with " SILENT_NAME ": %s after %lld ms: %s\n", hw_errname(a.rc),
		      (long long)a.ms, a.text);
	assert_int_equal(a.rc, HW_ECONFIG);
	assert_non_null(strstr(a.text,
			       "'node.primary' = '" SILENT_NAME ":7001': lookup of " SILENT_NAME
			       " timed out after 5000 ms"));
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_dial_lookup: skipped: needs root for its namespaces\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_silent_dns_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_start_names, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
