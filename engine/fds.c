/* fds.c: a node's descriptor budget (engine/fds.h). */
#include "engine/fds.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>

#include "engine/core/election.h"
#include "engine/io/wal.h"

_Static_assert(HW_FDS_RESERVED >= 2u * (8u + 4u + 4u + HW_EL_VOTERS_MAX + 15u),
	       "the reserve covers what a node opens after start, twice");
_Static_assert(HW_WAL_FLUSHERS + 2u <= 4u, "the log's share of the reserve");

static uint32_t at_most(uint64_t want, uint64_t room)
{
	return (uint32_t)(want < room ? want : room);
}

int hw_fds_budget(uint64_t limit, uint64_t open, const uint32_t want[2], struct hw_fds_budget *out)
{
	*out = (struct hw_fds_budget){.limit = limit, .open = open};
	uint64_t used = open + HW_FDS_RESERVED;
	uint64_t room = limit > used ? limit - used : 0;
	uint64_t repl_room = want[HW_FDS_CLIENT] > 0 ? room / 2 : room;
	out->conns_max[HW_FDS_REPL] = at_most(want[HW_FDS_REPL], repl_room);
	out->conns_max[HW_FDS_CLIENT] =
		at_most(want[HW_FDS_CLIENT], room - out->conns_max[HW_FDS_REPL]);
	for (int p = HW_FDS_CLIENT; p <= HW_FDS_REPL; p++) {
		uint32_t got = out->conns_max[p];
		if (got < want[p] && got < HW_FDS_PORT_MIN)
			return -EMFILE;
	}
	return 0;
}

/* Descriptors open in this process, the one that reads /proc/self/fd left out. */
static int count_open(uint64_t *open)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -errno;
	uint64_t n = 0;
	for (const struct dirent *e; (e = readdir(d)) != NULL;)
		n += e->d_name[0] != '.';
	closedir(d);
	*open = n > 0 ? n - 1 : 0;
	return 0;
}

int hw_fds_budget_now(const uint32_t want[2], struct hw_fds_budget *out)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit raised = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl = raised; /* else: a hard limit past the kernel's nr_open; keep */
	}
	uint64_t open = 0;
	int rc = count_open(&open);
	return rc != 0 ? rc : hw_fds_budget(rl.rlim_cur, open, want, out);
}
