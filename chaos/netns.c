/* netns.c: hawser-chaos's namespaces, veths, bridge and nftables rules (netns.h). Every
 * change is made by running `ip` or `nft` (iproute2 and nftables are what CI installs,
 * scripts/deps.sh HW_DEPS_TEST=1); a command's stderr is kept to say why it failed. */
#include "chaos/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hawser_error.h"

#define PREFIX   "hwc-"
#define ARGS_MAX 24

static const char *const hosts[HW_CH_NET_HOSTS + 1] = {"p1", "s1", "s2", "w1", "c", "hub"};

const char *hw_ch_net_addr(int host)
{
	static const char *const addrs[HW_CH_NET_HOSTS] = {"10.77.0.1", "10.77.0.2", "10.77.0.3",
							   "10.77.0.4", "10.77.0.100"};
	return addrs[host];
}

/* Run argv[0] (searched in PATH) to completion; its stderr into why on a failure. */
static int run(char *why, size_t cap, const char *const *argv)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	char err[512];
	size_t got = 0;
	ssize_t r;
	while ((r = read(fds[0], err + got, sizeof err - 1 - got)) > 0)
		got += (size_t)r;
	close(fds[0]);
	err[got] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (why != NULL) {
		size_t n = 0;
		for (int i = 0; argv[i] != NULL && n < cap; i++)
			n += (size_t)snprintf(why + n, cap - n, "%s ", argv[i]);
		char *nl = strchr(err, '\n');
		if (nl != NULL)
			*nl = '\0';
		bool missing = WIFEXITED(status) && WEXITSTATUS(status) == 127 && got == 0;
		if (n < cap)
			snprintf(why + n, cap - n, "failed: %s",
				 got > 0   ? err
				 : missing ? "not found in PATH"
					   : "(no message)");
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT : -EPERM;
}

/* Kill every process in namespace name but this one (it lives in the client host),
 * then delete it. */
static void remove_ns(const char *name)
{
	char path[96];
	snprintf(path, sizeof path, "/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		struct stat ns;
		if (fstat(fd, &ns) == 0) {
			DIR *d = opendir("/proc");
			struct dirent *e;
			while (d != NULL && (e = readdir(d)) != NULL) {
				char link[300];
				struct stat st;
				snprintf(link, sizeof link, "/proc/%s/ns/net", e->d_name);
				if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
				    stat(link, &st) == 0 && st.st_ino == ns.st_ino &&
				    st.st_dev == ns.st_dev && atoi(e->d_name) != getpid())
					kill(atoi(e->d_name), SIGKILL);
			}
			if (d != NULL)
				closedir(d);
		}
		close(fd);
	}
	const char *argv[] = {"ip", "netns", "del", name, NULL};
	run(NULL, 0, argv);
}

/* The pid of a run from a name "hwc-<pid>...", or 0. */
static pid_t owner(const char *name)
{
	if (strncmp(name, PREFIX, strlen(PREFIX)) != 0)
		return 0;
	return (pid_t)atoi(name + strlen(PREFIX));
}

static bool stale(const char *name)
{
	pid_t pid = owner(name);
	return pid > 0 && pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH;
}

static void clean_mounts(void)
{
	FILE *fp = fopen("/proc/self/mounts", "r");
	char src[256], dir[1024];
	while (fp != NULL && fscanf(fp, "%255s %1023s %*[^\n]", src, dir) == 2)
		if (stale(src))
			umount2(dir, MNT_DETACH);
	if (fp != NULL)
		fclose(fp);
}

int hw_ch_net_clean_stale(void)
{
	int removed = 0;
	clean_mounts();
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL)
		if (stale(e->d_name)) {
			remove_ns(e->d_name);
			removed++;
		}
	if (d != NULL)
		closedir(d);
	return removed;
}

/* The commands for host h: its namespace on a veth to the hub's bridge, lo up, its
 * address, an nft table with an output chain. */
static int host_up(struct hw_ch_net *n, int h, char *why, size_t cap)
{
	const char *hub = n->name[HW_CH_NET_HOSTS], *ns = n->name[h];
	char veth[16], cidr[24];
	snprintf(veth, sizeof veth, "v%s", hosts[h]);
	snprintf(cidr, sizeof cidr, "%s/24", hw_ch_net_addr(h));
	const char *const cmds[][ARGS_MAX] = {
		{"ip", "netns", "add", ns, NULL},
		{"ip", "-n", hub, "link", "add", veth, "type", "veth", "peer", "name", "eth0",
		 "netns", ns, NULL},
		{"ip", "-n", hub, "link", "set", veth, "master", "br0", "up", NULL},
		{"ip", "-n", ns, "addr", "add", cidr, "dev", "eth0", NULL},
		{"ip", "-n", ns, "link", "set", "eth0", "up", NULL},
		{"ip", "-n", ns, "link", "set", "lo", "up", NULL},
		{"ip", "netns", "exec", ns, "nft",
		 "add table inet hwc; add chain inet hwc out { type filter hook output priority 0; "
		 "policy accept; }",
		 NULL},
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof cmds / sizeof cmds[0]; i++) {
		rc = run(why, cap, cmds[i]);
		if (i == 0)
			n->made[h] = rc == 0;
	}
	if (rc == 0) {
		char path[96];
		snprintf(path, sizeof path, "/run/netns/%s", ns);
		n->fd[h] = open(path, O_RDONLY | O_CLOEXEC);
		rc = n->fd[h] >= 0 ? 0 : -errno;
	}
	return rc;
}

int hw_ch_net_up(struct hw_ch_net *n, char *why, size_t cap)
{
	memset(n, 0, sizeof *n);
	snprintf(n->prefix, sizeof n->prefix, PREFIX "%ld", (long)getpid());
	for (int h = 0; h <= HW_CH_NET_HOSTS; h++)
		snprintf(n->name[h], sizeof n->name[h], "%s-%s", n->prefix, hosts[h]);
	for (int h = 0; h < HW_CH_NET_HOSTS; h++)
		n->fd[h] = -1;
	const char *hub = n->name[HW_CH_NET_HOSTS];
	const char *const cmds[][ARGS_MAX] = {
		{"ip", "netns", "add", hub, NULL},
		{"ip", "-n", hub, "link", "add", "br0", "type", "bridge", NULL},
		{"ip", "-n", hub, "link", "set", "br0", "up", NULL},
	};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof cmds / sizeof cmds[0]; i++) {
		rc = run(why, cap, cmds[i]);
		if (i == 0)
			n->made[HW_CH_NET_HOSTS] = rc == 0;
	}
	for (int h = 0; rc == 0 && h < HW_CH_NET_HOSTS; h++)
		rc = host_up(n, h, why, cap);
	return rc;
}

int hw_ch_net_enter(const struct hw_ch_net *n, int host)
{
	return setns(n->fd[host], CLONE_NEWNET) == 0 ? 0 : -errno;
}

int hw_ch_net_drop(struct hw_ch_net *n, int a, int b)
{
	char rule[96];
	snprintf(rule, sizeof rule, "add rule inet hwc out ip daddr %s drop", hw_ch_net_addr(b));
	const char *argv[] = {"ip", "netns", "exec", n->name[a], "nft", rule, NULL};
	n->rules |= 1u << a;
	return run(NULL, 0, argv);
}

int hw_ch_net_heal(struct hw_ch_net *n)
{
	int rc = 0;
	for (int h = 0; h < HW_CH_NET_HOSTS; h++) {
		if (!(n->rules & 1u << h))
			continue;
		const char *argv[] = {
			"ip", "netns", "exec", n->name[h], "nft", "flush chain inet hwc out", NULL};
		int r = run(NULL, 0, argv);
		if (r != 0 && rc == 0)
			rc = r;
	}
	n->rules = 0;
	return rc;
}

void hw_ch_net_down(struct hw_ch_net *n)
{
	for (int i = 0; i < HW_CH_NET_HOSTS; i++)
		if (n->mount[i][0] != '\0')
			hw_ch_net_untmpfs(n, n->mount[i]);
	for (int h = 0; h < HW_CH_NET_HOSTS; h++)
		if (n->fd[h] >= 0) {
			close(n->fd[h]);
			n->fd[h] = -1;
		}
	for (int h = 0; h <= HW_CH_NET_HOSTS; h++)
		if (n->made[h]) {
			remove_ns(n->name[h]);
			n->made[h] = false;
		}
}

/* ---- a fatal signal ----------------------------------------------------------------- */

static struct hw_ch_net *sig_net;
static const pid_t *sig_pids;
static int sig_n_pids;

static void on_fatal(int sig)
{
	for (int i = 0; i < sig_n_pids; i++)
		if (sig_pids[i] > 0)
			kill(sig_pids[i], SIGKILL);
	for (int i = 0; sig_net != NULL && i < HW_CH_NET_HOSTS; i++)
		if (sig_net->mount[i][0] != '\0')
			umount2(sig_net->mount[i], MNT_DETACH);
	for (int h = 0; sig_net != NULL && h <= HW_CH_NET_HOSTS; h++) {
		if (!sig_net->made[h])
			continue;
		const char *argv[] = {"ip", "netns", "del", sig_net->name[h], NULL};
		pid_t pid = fork();
		if (pid == 0) {
			execvp(argv[0], (char *const *)argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(128 + sig);
}

void hw_ch_net_on_signal(struct hw_ch_net *n, const pid_t *pids, int n_pids)
{
	sig_net = n;
	sig_pids = pids;
	sig_n_pids = n_pids;
	struct sigaction sa = {.sa_handler = on_fatal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* ---- small disks ---------------------------------------------------------------------- */

int hw_ch_net_tmpfs(struct hw_ch_net *n, const char *dir, unsigned size_mb)
{
	int slot = 0;
	while (slot < HW_CH_NET_HOSTS && n->mount[slot][0] != '\0')
		slot++;
	if (slot == HW_CH_NET_HOSTS || strlen(dir) >= sizeof n->mount[slot])
		return slot == HW_CH_NET_HOSTS ? -ENOSPC : -ENAMETOOLONG;
	char opts[32];
	snprintf(opts, sizeof opts, "size=%um,mode=0700", size_mb);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	if (mount(n->prefix, dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
		return -errno;
	snprintf(n->mount[slot], sizeof n->mount[slot], "%s", dir);
	return 0;
}

void hw_ch_net_untmpfs(struct hw_ch_net *n, const char *dir)
{
	for (int i = 0; i < HW_CH_NET_HOSTS; i++)
		if (n->mount[i][0] != '\0' && strcmp(n->mount[i], dir) == 0) {
			umount2(dir, MNT_DETACH);
			n->mount[i][0] = '\0';
		}
}
