/* netns.h: hawser-chaos's network of namespaces (chaos/run.c --net netns). One run makes
 * a hub namespace holding a bridge and one namespace per host (the voters p1, s1, s2, w1
 * and the client host), each on a veth to the bridge with the address 10.77.0.(index+1)
 * (the client host: 10.77.0.100), loopback up, and an nftables table `inet hwc` with an
 * output chain the faults fill: a rule drops by peer address. Names are
 * "hwc-<pid>-<host>", unique per run; hw_ch_net_clean_stale() removes what a run that
 * died left (its pid gone): processes in its namespaces, the namespaces, its tmpfs
 * mounts. hw_ch_net_down() undoes a run's own, on any exit path; a fatal signal does it
 * too (hw_ch_net_on_signal).
 *
 * The caller's threads move between namespaces with setns(): a process forked while a
 * thread is in host h runs in h, a socket made there belongs to h. Needs root (CAP_NET_ADMIN,
 * CAP_SYS_ADMIN), iproute2 and nft. */
#ifndef HW_CHAOS_NETNS_H
#define HW_CHAOS_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HW_CH_NET_HOSTS  5 /* p1, s1, s2, w1, the client host */
#define HW_CH_NET_CLIENT 4

struct hw_ch_net {
	char prefix[32];                    /* "hwc-<pid>" */
	char name[HW_CH_NET_HOSTS + 1][48]; /* the hosts, then the hub */
	int fd[HW_CH_NET_HOSTS];            /* open namespace handles, -1: none */
	unsigned rules;                     /* bit h: host h has drop rules */
	char mount[HW_CH_NET_HOSTS][512];   /* tmpfs mounted here, "": none */
	bool made[HW_CH_NET_HOSTS + 1];
};

/* The host's address, "10.77.0.N" (static storage). */
const char *hw_ch_net_addr(int host);

/* Remove the namespaces, processes and tmpfs mounts of dead runs ("hwc-<pid>" with no
 * such pid). Returns how many namespaces it removed. */
int hw_ch_net_clean_stale(void);

/* Make this run's network. 0, or a negative code with why (the failing command and its
 * message) filled: the caller says it is skipped and why. Undone by hw_ch_net_down,
 * also after a failure. */
int hw_ch_net_up(struct hw_ch_net *n, char *why, size_t cap);

/* Move the calling thread into host h. 0 or -errno. */
int hw_ch_net_enter(const struct hw_ch_net *n, int host);

/* Drop host a's packets to host b (one direction, in a's output chain): b's packets
 * still reach a. 0 or a negative code. */
int hw_ch_net_drop(struct hw_ch_net *n, int a, int b);

/* Remove every drop rule. 0 or a negative code. */
int hw_ch_net_heal(struct hw_ch_net *n);

/* Delete the namespaces (a process still inside is killed by the caller first). */
void hw_ch_net_down(struct hw_ch_net *n);

/* Remember pids to SIGKILL and n to take down when SIGINT, SIGTERM or SIGHUP ends the
 * run (the handler uses only async-signal-safe calls). pids is owned by the caller and
 * read by the handler. */
void hw_ch_net_on_signal(struct hw_ch_net *n, const pid_t *pids, int n_pids);

/* A tmpfs of size_mb at dir (made if missing), its source named after this run; at most
 * HW_CH_NET_HOSTS at once. 0 or -errno (-ENOSPC: no slot left). */
int hw_ch_net_tmpfs(struct hw_ch_net *n, const char *dir, unsigned size_mb);

/* Unmount (lazily) what hw_ch_net_tmpfs mounted at dir. hw_ch_net_down and a fatal
 * signal unmount every one still mounted. */
void hw_ch_net_untmpfs(struct hw_ch_net *n, const char *dir);

#endif
