/* sim.c: hawser-sim, the deterministic simulator's command line (chaos/sim.h).
 *
 *   hawser-sim --seeds N [--seed S] [--faults none|network|storage|all] [--steps K]
 *              [--rpo-ms T] [--seeds-file F] [--record] [--outcomes-only] [-v [-v]]
 *
 * Runs the seeds kept in chaos/seeds.txt first (every one of them, every time), then N
 * seeds S, S + 1, ... S + N - 1. S defaults to a number derived from the git revision
 * the binary was built at, so CI is reproducible for a commit and varies across
 * commits. One seed in SIM_RPO_SHARE_DIV runs at an rpo t it draws (P-RPO); --rpo-ms T
 * runs every seed at rpo T (0: none). A failing seed prints its number, the first
 * invariant it broke and at which step, and the command that replays it (with the rpo
 * it ran at); --record appends it to the seeds file. The
 * last line is always `seeds=N violations=V` (V counts replayed seeds too), and the exit
 * status is 1 when V > 0. */
#include "chaos/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"

#include "hw_git_rev.h" /* HW_GIT_REV: written at build time (chaos/git_rev.cmake) */
#ifndef HW_SEEDS_FILE
#define HW_SEEDS_FILE "chaos/seeds.txt"
#endif
#ifdef HW_MUTATION_ACK_EARLY
#define MUTATION " mutation=ack_early"
#elif defined(HW_MUTATION_NO_LEASE)
#define MUTATION " mutation=no_lease"
#elif defined(HW_MUTATION_RPO_LOOSE)
#define MUTATION " mutation=rpo_loose"
#else
#define MUTATION ""
#endif

#define STEPS_DEFAULT 10000u
#define KEPT_MAX      1024u

struct opts {
	uint64_t seeds;
	uint64_t base;
	bool base_set;
	enum sim_profile profile;
	uint64_t steps;
	const char *file;
	bool record;
	bool outcomes_only;
	int verbose;
	int64_t rpo_ms; /* struct sim_params.rpo_ms */
};

struct kept {
	uint64_t seed;
	enum sim_profile profile;
	uint64_t steps;
	int64_t rpo_ms;
};

/* ---------------------------------------------------------------- abort path */

/* An HW_ASSERT in a core (or here) aborts the process: say which seed did it. The
 * message is built before each seed, so the handler only writes it. */
static char abort_msg[512];
static size_t abort_len;
static char abort_line[128];
static size_t abort_line_len;
static int abort_fd = -1;
static struct hw_assert_ctx assert_ctx = {.role = abort_msg};

static void on_abort(int sig)
{
	(void)sig;
	ssize_t rc = write(STDERR_FILENO, abort_msg, abort_len);
	if (abort_fd >= 0 && abort_line_len > 0)
		rc = write(abort_fd, abort_line, abort_line_len);
	(void)rc;
	signal(SIGABRT, SIG_DFL);
}

/* " --rpo-ms T" when a run's rpo was not left to the seed (SIM_RPO_SHARE), else "". */
static const char *rpo_arg(int64_t rpo_ms, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (rpo_ms != SIM_RPO_SHARE)
		snprintf(buf, cap, " --rpo-ms %" PRId64, rpo_ms);
	return buf;
}

static void arm_abort(const struct opts *o, const struct sim_params *p)
{
	char rpo[32];
	int n = snprintf(abort_msg, sizeof abort_msg,
			 "sim seed=%" PRIu64 " profile=%s steps=%" PRIu64 " rev=" HW_GIT_REV
			 "; replay: hawser-sim --seed %" PRIu64 " --seeds 1 --faults %s "
			 "--steps %" PRIu64 "%s\n",
			 p->seed, sim_profile_name(p->profile), p->steps, p->seed,
			 sim_profile_name(p->profile), p->steps,
			 rpo_arg(p->rpo_ms, rpo, sizeof rpo));
	abort_len = n > 0 ? (size_t)n : 0;
	if (abort_len >= sizeof abort_msg)
		abort_len = sizeof abort_msg - 1;
	abort_line_len = 0;
	if (o->record) {
		n = snprintf(abort_line, sizeof abort_line,
			     "%" PRIu64 " %s %" PRIu64 " %" PRId64 " # rev " HW_GIT_REV
			     ": aborted\n",
			     p->seed, sim_profile_name(p->profile), p->steps, p->rpo_ms);
		abort_line_len = n > 0 && (size_t)n < sizeof abort_line ? (size_t)n : 0;
	}
}

/* ---------------------------------------------------------------- seeds file */

/* Lines "seed [profile] [steps] [rpo_ms] [# comment]"; blank lines and comments skipped.
 * A line without rpo_ms runs at rpo 0: it was kept before runs at rpo t existed. */
static size_t read_kept(const char *path, const struct opts *o, struct kept *k, size_t max)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return 0;
	char line[256];
	size_t n = 0;
	while (n < max && fgets(line, sizeof line, f) != NULL) {
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		char prof[32] = "";
		unsigned long long seed, steps = o->steps;
		long long rpo = 0;
		int got = sscanf(line, "%llu %31s %llu %lld", &seed, prof, &steps, &rpo);
		if (got < 1)
			continue;
		int p = got >= 2 ? sim_profile_parse(prof) : (int)o->profile;
		k[n++] = (struct kept){seed, p < 0 ? o->profile : (enum sim_profile)p, steps,
				       rpo > 0 ? rpo : 0};
	}
	fclose(f);
	return n;
}

static void record_seed(const char *path, const struct sim_params *p, const struct sim_world *w)
{
	FILE *f = fopen(path, "a");
	if (f == NULL) {
		fprintf(stderr, "hawser-sim: cannot append to %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "%" PRIu64 " %s %" PRIu64 " %" PRId64 " # rev %s: %s at step %" PRIu64 "\n",
		p->seed, sim_profile_name(p->profile), p->steps, w->rpo_ms, HW_GIT_REV, w->v.name,
		w->v.step);
	fclose(f);
}

/* ---------------------------------------------------------------- running */

static void dump(const struct sim_world *w)
{
	for (uint32_t i = 0; i < w->nodes; i++) {
		const struct sim_node *n = &w->nd[i];
		fprintf(stderr,
			"  node %u%s up=%d role=%d dr=%d epoch=%" PRIu64 " log=%" PRIu64
			" durable=%" PRIu64 " applied=%" PRIu64 " crashes=%" PRIu64
			" fail_stops=%" PRIu64 " pauses=%" PRIu64 "\n",
			i, n->witness ? " (witness)" : "", n->up, (int)n->el.role, (int)n->dr,
			n->el.hard.epoch, n->disk.n, n->disk.durable, n->applied, n->crashes,
			n->fail_stops, n->pauses);
	}
}

static void add_stats(struct sim_stats *a, const struct sim_stats *b)
{
	const uint64_t *src = (const uint64_t *)b;
	uint64_t *dst = (uint64_t *)a;
	_Static_assert(sizeof *a % sizeof(uint64_t) == 0, "stats are counters");
	for (size_t i = 0; i < sizeof *a / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

/* The widest loss of a promotion over the runs, and the rpo of its run (kept seeds carry
 * their own). */
struct widest {
	int64_t span_ms, rpo_ms;
};

/* One seed; prints a failure. Returns 1 on a violation. */
static int run_one(struct sim_world *w, const struct opts *o, const struct sim_params *p,
		   struct sim_stats *total, struct widest *widest)
{
	arm_abort(o, p);
	int rc = sim_run(w, p);
	add_stats(total, &w->st);
	if (w->rpo_span_max > widest->span_ms)
		*widest = (struct widest){w->rpo_span_max, w->rpo_ms};
	if (o->verbose)
		printf("seed %" PRIu64 " %s: %s data=%u rpo=%" PRId64 " w_rpo=%" PRId64
		       " ahead_k=%u steps=%" PRIu64 " elections=%" PRIu64 " acked=%" PRIu64
		       " crashes=%" PRIu64 " digest=%016" PRIx64 "\n",
		       p->seed, sim_profile_name(p->profile), rc ? "FAIL" : "ok", w->data,
		       w->rpo_ms, w->w_rpo_ms, w->rcfg.ahead_k, w->st.steps, w->st.elections,
		       w->st.acked[0] + w->st.acked[1] + w->st.acked[2] + w->st.acked[3],
		       w->st.crashes, sim_digest(w));
	if (rc == 0)
		return 0;
	char rpo[32];
	printf("FAIL seed=%" PRIu64 " profile=%s steps=%" PRIu64 " rpo=%" PRId64 " rev=%s" MUTATION
	       ": %s at step %" PRIu64 ": %s\n"
	       "  replay: hawser-sim --seed %" PRIu64 " --seeds 1 --faults %s --steps %" PRIu64
	       "%s -v\n",
	       p->seed, sim_profile_name(p->profile), p->steps, w->rpo_ms, HW_GIT_REV, w->v.name,
	       w->v.step, w->v.detail, p->seed, sim_profile_name(p->profile), p->steps,
	       rpo_arg(p->rpo_ms, rpo, sizeof rpo));
	if (o->verbose)
		dump(w);
	if (o->record)
		record_seed(o->file, p, w);
	return 1;
}

static uint64_t rev_seed(void)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *s = HW_GIT_REV; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return sim_mix(h) & 0xffffffffffull; /* short enough to type */
}

static int usage(void)
{
	fprintf(stderr, "usage: hawser-sim --seeds N [--seed S] [--faults none|network|storage|all]"
			" [--steps K] [--rpo-ms T] [--seeds-file F] [--record] [--outcomes-only]"
			" [-v]\n");
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.seeds = 100,
			   .profile = SIM_PROFILE_ALL,
			   .steps = STEPS_DEFAULT,
			   .file = HW_SEEDS_FILE,
			   .rpo_ms = SIM_RPO_SHARE};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-v") == 0) {
			o->verbose++;
		} else if (strcmp(a, "--record") == 0) {
			o->record = true;
		} else if (strcmp(a, "--outcomes-only") == 0) {
			o->outcomes_only = true;
		} else if (v == NULL) {
			return usage();
		} else if (strcmp(a, "--seeds") == 0) {
			o->seeds = strtoull(v, NULL, 0), i++;
		} else if (strcmp(a, "--seed") == 0) {
			o->base = strtoull(v, NULL, 0), o->base_set = true, i++;
		} else if (strcmp(a, "--steps") == 0) {
			o->steps = strtoull(v, NULL, 0), i++;
		} else if (strcmp(a, "--rpo-ms") == 0) {
			/* 0, or above the least rpo a plan accepts on the fastest network */
			long long t = strtoll(v, NULL, 0);
			if (t < 0 || (t > 0 && t < 10))
				return usage();
			o->rpo_ms = t, i++;
		} else if (strcmp(a, "--seeds-file") == 0) {
			o->file = v, i++;
		} else if (strcmp(a, "--faults") == 0) {
			int p = sim_profile_parse(v);
			if (p < 0)
				return usage();
			o->profile = (enum sim_profile)p, i++;
		} else {
			return usage();
		}
	}
	if (!o->base_set)
		o->base = rev_seed();
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* only to report speed; never into a run */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The totals of the runs (runs of them in dt seconds), and those at rpo t. */
static void print_stats(uint64_t runs, double dt, const struct sim_stats *s,
			const struct widest *widest)
{
	printf("stats: %" PRIu64 " runs in %.1f s (%.0f seeds/s), %" PRIu64 " simulated s; "
	       "elections %" PRIu64 ", step-downs %" PRIu64 ", switchovers %" PRIu64
	       "; acked local %" PRIu64 " received %" PRIu64 " durable %" PRIu64 " applied %" PRIu64
	       ", failed %" PRIu64 "; crashes %" PRIu64 ", fail-stops %" PRIu64 ", torn %" PRIu64
	       ", pauses %" PRIu64 ", partitions %" PRIu64 ", clock jumps %" PRIu64
	       "; rewinds %" PRIu64 " (%" PRIu64
	       " entries), acked lost as their mode allows %" PRIu64 "\n",
	       runs, dt, dt > 0 ? (double)runs / dt : 0.0, s->steps / 1000, s->elections,
	       s->step_downs, s->switchovers, s->acked[0], s->acked[1], s->acked[2], s->acked[3],
	       s->failed, s->crashes, s->fail_stops, s->torn, s->pauses, s->partitions,
	       s->clock_jumps, s->rewinds, s->truncated, s->lost_allowed);
	if (s->rpo_runs > 0)
		printf("rpo: %" PRIu64 " runs at rpo t; promotions %" PRIu64 ", acked records they "
		       "lost %" PRIu64 " (widest loss %" PRId64 " ms, at rpo %" PRId64
		       " ms), witness not_in_sync refusals "
		       "%" PRIu64 ", %" PRIu64 " ms with no primary able to acknowledge, %" PRIu64
		       " ms with its acknowledgements held by the rule\n",
		       s->rpo_runs, s->rpo_elections, s->rpo_lost, widest->span_ms, widest->rpo_ms,
		       s->rpo_not_in_sync, s->rpo_no_primary_ms, s->rpo_held_ms);
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) != 0)
		return 2;
	struct sim_world *w = sim_world_new();
	if (w == NULL) {
		fprintf(stderr, "hawser-sim: out of memory\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	hw_assert_context(&assert_ctx);
	signal(SIGABRT, on_abort);
	if (o.record)
		abort_fd = open(o.file, O_WRONLY | O_APPEND | O_CREAT, 0644);
	static struct kept kept[KEPT_MAX];
	size_t nk = read_kept(o.file, &o, kept, KEPT_MAX);
	char rpo_s[32];
	snprintf(rpo_s, sizeof rpo_s, "1/%d of seeds", SIM_RPO_SHARE_DIV);
	if (o.rpo_ms != SIM_RPO_SHARE)
		snprintf(rpo_s, sizeof rpo_s, "%" PRId64 " ms", o.rpo_ms);
	printf("hawser-sim: rev=%s" MUTATION " seed=%" PRIu64 " seeds=%" PRIu64
	       " profile=%s steps=%" PRIu64 " rpo=%s kept=%zu (%s)\n",
	       HW_GIT_REV, o.base, o.seeds, sim_profile_name(o.profile), o.steps, rpo_s, nk,
	       o.file);
	struct sim_stats st = {0};
	struct widest widest = {0, 0};
	uint64_t violations = 0, first_fail = 0;
	double t0 = now_s();
	for (size_t i = 0; i < nk; i++) {
		struct sim_params p = {kept[i].seed, kept[i].profile, kept[i].steps,
				       o.verbose,    o.outcomes_only, kept[i].rpo_ms};
		violations += (uint64_t)run_one(w, &o, &p, &st, &widest);
	}
	for (uint64_t i = 0; i < o.seeds; i++) {
		struct sim_params p = {o.base + i, o.profile,       o.steps,
				       o.verbose,  o.outcomes_only, o.rpo_ms};
		int rc = run_one(w, &o, &p, &st, &widest);
		if (rc != 0 && first_fail == 0)
			first_fail = i + 1;
		violations += (uint64_t)rc;
	}
	double dt = now_s() - t0;
	uint64_t runs = o.seeds + nk;
	print_stats(runs, dt, &st, &widest);
	if (first_fail != 0)
		printf("first violation after %" PRIu64 " seeds (seed %" PRIu64 ")\n", first_fail,
		       o.base + first_fail - 1);
	printf("seeds=%" PRIu64 " violations=%" PRIu64 "\n", o.seeds, violations);
	if (abort_fd >= 0)
		close(abort_fd);
	sim_world_free(w);
	return violations > 0 ? 1 : 0;
}
