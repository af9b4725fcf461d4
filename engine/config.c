/* config.c: reading a node's INI configuration (config.h) with libinih.
 *
 * libinih calls us once per key, but it does not tell the handler the line number (the
 * Debian build has INI_HANDLER_LINENO off) and it counts a line longer than its buffer as
 * two. So we hand it lines through our own reader, which counts real lines, checks each
 * section header and each line's shape itself, and stops the parse at the first error:
 * every message then names the true file:line and the section.key. */
#include "engine/config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/names.h"
#include "base/duration.h"
#include "engine/config_int.h"
#include "hawser_error.h"
#include "replica/drills.h"

/* Bounds on [limits], so a typo of a few zeros is refused instead of allocating
 * gigabytes at start-up. waiters_max sizes the waiter ring and the action array (about
 * 40 bytes each): 1 Mi keeps both under 64 MiB. window_records: 16 Mi entries in flight
 * is minutes of peak traffic, far past any useful pipeline. Heartbeats slower than a
 * minute make lag invisible; a peer silent for an hour is gone. */
#define WAITERS_MAX_MAX     (1u << 20)
#define WINDOW_RECORDS_MAX  (1ull << 24)
#define HEARTBEAT_MS_MAX    60000
#define PEER_TIMEOUT_MS_MAX 3600000
/* log_keep_records: 0 keeps every entry; more than 2^40 entries is more than any map
 * holds (HW_MAP_BYTES_MAX), so a larger value is a typo. */
#define LOG_KEEP_RECORDS_MAX (1ull << 40)
/* [drills]: generations and retention bounded as HW_DRILL_SPAN_MS_MAX bounds spans. */
#define DRILL_GENERATIONS_MAX 10000u
#define DRILL_RETENTION_DAYS_MAX 36600u
_Static_assert(sizeof(((struct hw_drill_config *)0)->every_ms) / sizeof(int64_t) ==
		       HW_DRILL_KINDS + 1,
	       "one schedule per drill kind");

/* What inih is handed as the value of a long line: the handler takes long_value instead. */
#define LONG_VALUE_MARK "\x01"

/* [drills] keys: their own table and seen mask (parse.seen_drills), so the section can
 * grow without taking bits from the others. */
enum drill_key {
	DRILL_VERIFY,
	DRILL_RESTORE,
	DRILL_FAILOVER,
	DRILL_PROCEDURE,
	DRILL_RTO,
	DRILL_BACKUP_DIR,
	DRILL_GENERATIONS,
	DRILL_RETENTION,
	DRILL_BACKUP_AGE,
	DRILL_OFFSITE,
	DRILL_KEYS,
	DRILL_WITNESS,
	DRILL_RPO,
	DRILL_REPORT_DIR,
	DRILL_ALLOW_FAULT,
	DRILL_TRUST,
	DRILL_KEYS_COUNT
};
static const char *const drill_keys[DRILL_KEYS_COUNT] = {
	"verify",
	"restore",
	"failover",
	"procedure",
	"restore_rto",
	"backup_dir",
	"backup_generations_min",
	"retention_days_min",
	"backup_age_max",
	"offsite_dir",
	"keys",
	"witness",
	"rpo",
	"report_dir",
	"allow_fault",
	"trust",
};

/* ---------------------------------------------------------------- values */

/* Node and cluster ids go into file names, logs and Hello messages: keep them plain. */
static int set_id(struct parse *p, const char *key, const char *v, char *dst)
{
	size_t n = strlen(v);
	if (n == 0)
		return fail(p, p->line, "empty value for '%s'", key);
	if (n > HW_ID_CHARS_MAX)
		return fail(p, p->line, "'%s' is %zu characters long, more than %d", key, n,
			    HW_ID_CHARS_MAX);
	if (!hw_id_ok(v))
		return fail(p, p->line, "bad value '%s' for '%s': use letters, digits, '-', '_'", v,
			    key);
	memcpy(dst, v, n + 1);
	return 1;
}

/* Kept without trailing slashes ("/" stays): a data directory is renamed, and has
 * siblings named after it (a snapshot's ".snapshot-tmp", ".replaced-<ms>"), which
 * "/d/s1/" would put inside itself. */
static int set_path(struct parse *p, const char *key, const char *v, char *dst)
{
	size_t n = strlen(v);
	if (n == 0)
		return fail(p, p->line, "empty value for '%s'", key);
	if (n > HW_PATH_CHARS_MAX)
		return fail(p, p->line, "'%s' is longer than %d characters", key,
			    HW_PATH_CHARS_MAX);
	while (n > 1 && v[n - 1] == '/')
		n--;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 1;
}

/* "HOST:PORT" (HOST may be [v6]) or "unix:/path". A host name is looked up when the node
 * starts (engine/resolve.h);
 * here only the shape is checked, so a typo is caught at start-up. */
static int set_addr(struct parse *p, const char *key, const char *v, char *dst)
{
	size_t n = strlen(v);
	if (n > HW_ADDR_CHARS_MAX)
		return fail(p, p->line, "'%s' is longer than %d characters", key,
			    HW_ADDR_CHARS_MAX);
	if (!hw_addr_ok(v) && strncmp(v, "unix:", 5) == 0)
		return fail(p, p->line,
			    "bad unix socket path '%s' for '%s': expected unix:/absolute/path of "
			    "at most 107 bytes",
			    v, key);
	if (!hw_addr_ok(v))
		return fail(p, p->line,
			    "bad address '%s' for '%s': expected HOST:PORT or unix:/path", v, key);
	memcpy(dst, v, n + 1);
	return 1;
}

static int set_role(struct parse *p, const char *key, const char *v)
{
	if (strcmp(v, "primary") == 0)
		p->c->role = HW_ROLE_PRIMARY;
	else if (strcmp(v, "standby") == 0)
		p->c->role = HW_ROLE_STANDBY;
	else if (strcmp(v, "witness") == 0)
		p->c->role = HW_ROLE_WITNESS;
	else if (strcmp(v, "vault") == 0)
		p->c->role = HW_ROLE_VAULT;
	else
		return fail(p, p->line,
			    "bad value '%s' for '%s': expected primary, standby, vault or witness",
			    v, key);
	return 1;
}

static int set_mode(struct parse *p, const char *key, const char *v)
{
	int m = hw_mode_parse(v);
	if (m < 0)
		return fail(p, p->line,
			    "bad value '%s' for '%s': expected local, received, durable or "
			    "applied",
			    v, key);
	p->c->mode = (enum hw_mode)m;
	p->mode_line = p->line;
	return 1;
}

/* Whole-string decimal in [lo, hi]. */
static int set_num(struct parse *p, const char *key, const char *v, uint64_t lo, uint64_t hi,
		   uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end || errno)
		return fail(p, p->line, "bad number '%s' for '%s'", v, key);
	if (x < lo || x > hi)
		return fail(p, p->line, "'%s' = %llu is out of range [%llu, %llu]", key, x,
			    (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint64_t)x;
	return 1;
}

/* Trim blanks around t in place. */
static char *trim(char *t)
{
	while (*t == ' ' || *t == '\t')
		t++;
	size_t n = strlen(t);
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = '\0';
	return t;
}

#define EMPTY_ITEM "'%s' lists an empty item (two commas, or one at an end)"

/* The next item of the list at *at (hw_list_item; *at NULL: none left) into t, trimmed:
 * 1, or 0 at the end. An empty item ("s1,,s2", ",") fails the parse: -1. */
static int next_item(struct parse *p, const char *key, const char **at,
		     char (*t)[HW_LIST_CHARS_MAX])
{
	if (*at == NULL)
		return 0;
	size_t len;
	const char *item = hw_list_item(at, &len);
	if (len == 0) {
		fail(p, p->line, EMPTY_ITEM, key);
		return -1;
	}
	snprintf(*t, sizeof *t, "%.*s", (int)len, item); /* the value fits: list_handler */
	return 1;
}

/* "s1, s2" (cluster.standbys or cluster.vaults) into ids[], *n: at most HW_PEERS_MAX
 * ids, no repeats; empty means none. */
static int set_standbys(struct parse *p, const char *key, const char *v,
			char (*ids)[HW_ID_CHARS_MAX + 1], uint32_t *count)
{
	const char *what = ids == p->c->standbys ? "standbys" : "vaults";
	*count = 0;
	char t[HW_LIST_CHARS_MAX];
	int got;
	for (const char *at = *v ? v : NULL; (got = next_item(p, key, &at, &t)) > 0;) {
		if (*count == HW_PEERS_MAX)
			return fail(p, p->line, "'%s' lists more than %u %s", key, HW_PEERS_MAX,
				    what);
		if (!set_id(p, key, t, ids[*count]))
			return 0;
		for (uint32_t i = 0; i < *count; i++)
			if (strcmp(ids[i], t) == 0)
				return fail(p, p->line, "'%s' lists '%s' twice", key, t);
		(*count)++;
	}
	return got == 0;
}

/* Whether node.primary's latest item, c->n_sources, names a node and an address of its
 * own: a vault tries each in turn (a repeat would be tried twice as often). */
static int primary_new(struct parse *p, const char *key)
{
	const struct hw_config *c = p->c;
	uint32_t n = c->n_sources;
	for (uint32_t i = 0; i < n; i++) {
		if (strcmp(c->sources[i], c->sources[n]) == 0)
			return fail(p, p->line, "'%s' lists the address %s twice", key,
				    c->sources[n]);
		if (c->source_ids[i][0] && strcmp(c->source_ids[i], c->source_ids[n]) == 0)
			return fail(p, p->line, "'%s' lists '%s' twice", key, c->source_ids[n]);
	}
	return 1;
}

/* node.primary: one node, ID@HOST:PORT or HOST:PORT, or (a vault) several tried in turn;
 * check_vault (config_check.c) refuses a list on any other role, which follows one
 * primary, and check_primary_ids a node without its id where nothing else names it. */
static int set_primary(struct parse *p, const char *key, const char *v)
{
	struct hw_config *c = p->c;
	c->n_sources = 0;
	char t[HW_LIST_CHARS_MAX];
	int got;
	for (const char *at = *v ? v : NULL; (got = next_item(p, key, &at, &t)) > 0;) {
		if (c->n_sources == HW_VAULT_SOURCES_MAX)
			return fail(p, p->line, "'%s' lists more than %u addresses", key,
				    HW_VAULT_SOURCES_MAX);
		size_t id_len;
		char *addr = t + (hw_addr_split(t, &id_len) - t);
		c->source_ids[c->n_sources][0] = '\0';
		if (addr != t) {
			t[id_len] = '\0';
			if (!set_id(p, key, trim(t), c->source_ids[c->n_sources]))
				return 0;
		}
		if (!set_addr(p, key, trim(addr), c->sources[c->n_sources]))
			return 0;
		if (!primary_new(p, key))
			return 0;
		c->n_sources++;
	}
	if (got < 0)
		return 0;
	if (c->n_sources == 0)
		return fail(p, p->line, "empty value for '%s'", key);
	memcpy(c->primary, c->sources[0], sizeof c->primary);
	memcpy(c->primary_id, c->source_ids[0], sizeof c->primary_id);
	return 1;
}

/* A duration ("90s", "12h", "7d", "0") of at most max_ms, which words says in words:
 * node.apply_delay, the [drills] schedules and targets. */
static int set_span(struct parse *p, const char *key, const char *v, int64_t max_ms,
		    const char *words, int64_t *out)
{
	int64_t ms;
	if (hw_duration_parse(v, &ms) != 0)
		return fail(p, p->line,
			    "bad duration '%s' for '%s': expected a number and ms, s, m, h or d", v,
			    key);
	if (ms > max_ms)
		return fail(p, p->line, "'%s' = %s is more than %s", key, v, words);
	*out = ms;
	return 1;
}

static int set_drill_duration(struct parse *p, const char *key, const char *v, int64_t *out)
{
	return set_span(p, key, v, HW_DRILL_SPAN_MS_MAX, "a year", out);
}

/* A limit a drill is held to (restore_rto, backup_age_max): 0 would fail every run, as
 * `hawser drill restore --rto 0` is refused. */
static int set_drill_limit(struct parse *p, const char *key, const char *v, int64_t *out)
{
	if (!set_drill_duration(p, key, v, out))
		return 0;
	return *out > 0 ? 1 : fail(p, p->line, "'%s' must be more than 0", key);
}

/* "a, b": at most max paths into dst, their count into *n. */
static int set_paths(struct parse *p, const char *key, const char *v,
		     char (*dst)[HW_PATH_CHARS_MAX + 1], uint32_t max, uint32_t *n)
{
	*n = 0;
	char t[HW_LIST_CHARS_MAX];
	int got;
	for (const char *at = *v ? v : NULL; (got = next_item(p, key, &at, &t)) > 0;) {
		if (*n == max)
			return fail(p, p->line, "'%s' lists more than %u files", key, max);
		if (!set_path(p, key, t, dst[*n]))
			return 0;
		(*n)++;
	}
	return got == 0;
}

static int set_drill(struct parse *p, enum drill_key which, const char *key, const char *v)
{
	struct hw_drill_config *d = &p->c->drills;
	uint64_t x;
	switch (which) {
	case DRILL_VERIFY:
		return set_drill_duration(p, key, v, &d->every_ms[HW_DRILL_VERIFY]);
	case DRILL_RESTORE:
		return set_drill_duration(p, key, v, &d->every_ms[HW_DRILL_RESTORE]);
	case DRILL_FAILOVER:
		return set_drill_duration(p, key, v, &d->every_ms[HW_DRILL_FAILOVER]);
	case DRILL_PROCEDURE:
		return set_drill_duration(p, key, v, &d->every_ms[HW_DRILL_PROCEDURE]);
	case DRILL_RTO:
		return set_drill_limit(p, key, v, &d->restore_rto_ms);
	case DRILL_BACKUP_AGE:
		return set_drill_limit(p, key, v, &d->backup_age_max_ms);
	case DRILL_RPO:
		return set_drill_duration(p, key, v, &d->rpo_ms);
	case DRILL_BACKUP_DIR:
		return set_path(p, key, v, d->backup_dir);
	case DRILL_OFFSITE:
		return set_path(p, key, v, d->offsite_dir);
	case DRILL_REPORT_DIR:
		return set_path(p, key, v, d->report_dir);
	case DRILL_KEYS:
		return set_paths(p, key, v, d->keys, HW_DRILL_KEYS_MAX, &d->n_keys);
	case DRILL_TRUST:
		return set_paths(p, key, v, d->trust, HW_DRILL_TRUST_MAX, &d->n_trust);
	case DRILL_WITNESS:
		return set_addr(p, key, v, d->witness);
	case DRILL_ALLOW_FAULT:
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return fail(p, p->line, "'%s' = '%s': expected true or false", key, v);
		d->allow_fault = strcmp(v, "true") == 0;
		return 1;
	case DRILL_GENERATIONS:
		if (!set_num(p, key, v, 1, DRILL_GENERATIONS_MAX, &x))
			return 0;
		d->backup_generations_min = (uint32_t)x;
		return 1;
	default:
		if (!set_num(p, key, v, 0, DRILL_RETENTION_DAYS_MAX, &x))
			return 0;
		d->retention_days_min = (uint32_t)x;
		return 1;
	}
}

/* "p1@HOST:PORT, s1@HOST:PORT": the nodes of a failover cluster, in voter-id order. Room
 * is left for the witness, which takes the last id. */
static int set_voters(struct parse *p, const char *key, const char *v)
{
	struct hw_failover *f = &p->c->failover;
	f->n_voters = 0;
	char t[HW_LIST_CHARS_MAX];
	int got;
	for (const char *at = *v ? v : NULL; (got = next_item(p, key, &at, &t)) > 0;) {
		size_t id_len;
		char *addr = t + (hw_addr_split(t, &id_len) - t);
		if (addr == t)
			return fail(p, p->line, "bad voter '%s' in '%s': expected ID@HOST:PORT", t,
				    key);
		t[id_len] = '\0';
		if (f->n_voters + 1 >= HW_EL_VOTERS_MAX)
			return fail(p, p->line, "'%s' lists more than %u nodes", key,
				    HW_EL_VOTERS_MAX - 1);
		struct hw_voter_addr *va = &f->voters[f->n_voters];
		if (!set_id(p, key, trim(t), va->id) || !set_addr(p, key, trim(addr), va->addr))
			return 0;
		for (uint32_t i = 0; i < f->n_voters; i++)
			if (strcmp(f->voters[i].id, va->id) == 0)
				return fail(p, p->line, "'%s' lists '%s' twice", key, va->id);
		f->n_voters++;
	}
	return got == 0;
}

/* The longest heartbeat delay [failover] may plan for: a lease is 40 of them. */
#define HB_DELAY_MAX_MS 10000

/* "30s", "1500ms", "2m" or "0": a time in ms, at most an hour. */
static int set_duration(struct parse *p, const char *key, const char *v, int64_t *out)
{
	int64_t ms;
	if (hw_duration_parse(v, &ms) != 0)
		return fail(p, p->line, "bad time '%s' for '%s': expected e.g. 30s, 500ms, 2m or 0",
			    v, key);
	if (ms > HW_TARGET_MS_MAX)
		return fail(p, p->line, "'%s' = %s is more than an hour", key, v);
	*out = ms;
	return 1;
}

static int set_failover(struct parse *p, unsigned bit, const char *key, const char *v)
{
	struct hw_failover *f = &p->c->failover;
	f->on = true;
	switch (bit) {
	case SEEN_VOTERS:
		return set_voters(p, key, v);
	case SEEN_WITNESS:
		return set_addr(p, key, v, f->voters[HW_EL_VOTERS_MAX - 1].addr);
	case SEEN_WITNESS_ID:
		return set_id(p, key, v, f->voters[HW_EL_VOTERS_MAX - 1].id);
	case SEEN_RTO:
		p->rto_line = p->line;
		if (!set_duration(p, key, v, &f->rto_ms))
			return 0;
		return f->rto_ms > 0 ? 1 : fail(p, p->line, "'%s' must be more than 0", key);
	case SEEN_HB_P99:
	case SEEN_HB_SPREAD: {
		int64_t ms;
		if (!set_duration(p, key, v, &ms))
			return 0;
		if (ms < 1 || ms > HB_DELAY_MAX_MS)
			return fail(p, p->line, "'%s' = %s: a heartbeat delay is 1ms to %ds", key,
				    v, HB_DELAY_MAX_MS / 1000);
		*(bit == SEEN_HB_P99 ? &f->hb_p99_us : &f->hb_spread_us) = ms * 1000;
		return 1;
	}
	case SEEN_RPO_ACTION:
		if (strcmp(v, "block") != 0 && strcmp(v, "fail") != 0)
			return fail(p, p->line, "'%s' = %s: block or fail", key, v);
		f->rpo_fail = strcmp(v, "fail") == 0;
		return 1;
	default:
		return set_duration(p, key, v, &f->rpo_ms);
	}
}

/* ---------------------------------------------------------------- keys */

static int set_limit(struct parse *p, const char *key, const char *name, const char *v)
{
	struct hw_config *c = p->c;
	uint64_t x;
	if (strcmp(name, "waiters_max") == 0) {
		if (!set_num(p, key, v, 1, WAITERS_MAX_MAX, &x))
			return 0;
		c->waiters_max = (uint32_t)x;
	} else if (strcmp(name, "window_records") == 0) {
		if (!set_num(p, key, v, 1, WINDOW_RECORDS_MAX, &c->window_records))
			return 0;
	} else if (strcmp(name, "log_keep_records") == 0) {
		if (!set_num(p, key, v, 0, LOG_KEEP_RECORDS_MAX, &c->log_keep_records))
			return 0;
	} else if (strcmp(name, "heartbeat_ms") == 0) {
		if (!set_num(p, key, v, 1, HEARTBEAT_MS_MAX, &x))
			return 0;
		c->heartbeat_ms = (int64_t)x;
		p->heartbeat_line = p->line;
	} else {
		if (!set_num(p, key, v, 1, PEER_TIMEOUT_MS_MAX, &x))
			return 0;
		c->peer_timeout_ms = (int64_t)x;
		p->timeout_line = p->line;
	}
	return 1;
}

static int set_key(struct parse *p, unsigned bit, const char *key, const char *name, const char *v)
{
	struct hw_config *c = p->c;
	switch (bit) {
	case SEEN_CLUSTER_ID:
		return set_id(p, key, v, c->cluster_id);
	case SEEN_STANDBYS:
		return set_standbys(p, key, v, c->standbys, &c->n_standbys);
	case SEEN_VAULTS:
		return set_standbys(p, key, v, p->vaults, &p->n_vaults);
	case SEEN_APPLY_DELAY:
		return set_span(p, key, v, HW_APPLY_DELAY_MS_MAX, "30 days", &c->apply_delay_ms);
	case SEEN_NODE_ID:
		return set_id(p, key, v, c->node_id);
	case SEEN_ROLE:
		return set_role(p, key, v);
	case SEEN_DATA_DIR:
		return set_path(p, key, v, c->data_dir);
	case SEEN_LISTEN:
		return set_addr(p, key, v, c->listen);
	case SEEN_CLIENT:
		return set_addr(p, key, v, c->client);
	case SEEN_PRIMARY:
		return set_primary(p, key, v);
	case SEEN_MODE:
		return set_mode(p, key, v);
	case SEEN_VOTERS:
	case SEEN_WITNESS:
	case SEEN_WITNESS_ID:
	case SEEN_RTO:
	case SEEN_RPO:
	case SEEN_HB_P99:
	case SEEN_HB_SPREAD:
	case SEEN_RPO_ACTION:
		return set_failover(p, bit, key, v);
	case SEEN_CHECKPOINT_RECORDS:
		return set_num(p, key, v, 0, HW_CHECKPOINT_RECORDS_MAX, &c->checkpoint_records);
	case SEEN_CHECKPOINT_INTERVAL:
		return set_duration(p, key, v, &c->checkpoint_interval_ms);
	case SEEN_K: {
		uint64_t k;
		if (!set_num(p, key, v, 0, HW_PEERS_MAX, &k))
			return 0;
		c->k = (uint32_t)k;
		p->k_line = p->line;
		return 1;
	}
	default:
		return set_limit(p, key, name, v);
	}
}

static const struct {
	const char *section;
	const char *name;
	unsigned bit;
} keys[] = {
	{"cluster", "id", SEEN_CLUSTER_ID},
	{"cluster", "standbys", SEEN_STANDBYS},
	{"cluster", "vaults", SEEN_VAULTS},
	{"node", "id", SEEN_NODE_ID},
	{"node", "role", SEEN_ROLE},
	{"node", "data_dir", SEEN_DATA_DIR},
	{"node", "listen", SEEN_LISTEN},
	{"node", "client", SEEN_CLIENT},
	{"node", "primary", SEEN_PRIMARY},
	{"node", "apply_delay", SEEN_APPLY_DELAY},
	{"durability", "mode", SEEN_MODE},
	{"durability", "k", SEEN_K},
	{"durability", "checkpoint_records", SEEN_CHECKPOINT_RECORDS},
	{"durability", "checkpoint_interval", SEEN_CHECKPOINT_INTERVAL},
	{"limits", "waiters_max", SEEN_WAITERS},
	{"limits", "window_records", SEEN_WINDOW},
	{"limits", "heartbeat_ms", SEEN_HEARTBEAT},
	{"limits", "peer_timeout_ms", SEEN_TIMEOUT},
	{"limits", "log_keep_records", SEEN_LOG_KEEP},
	{"failover", "voters", SEEN_VOTERS},
	{"failover", "witness", SEEN_WITNESS},
	{"failover", "witness_id", SEEN_WITNESS_ID},
	{"failover", "rto", SEEN_RTO},
	{"failover", "rpo", SEEN_RPO},
	{"failover", "heartbeat_p99", SEEN_HB_P99},
	{"failover", "heartbeat_spread", SEEN_HB_SPREAD},
	{"failover", "rpo_action", SEEN_RPO_ACTION},
};
#define KEYS_COUNT (sizeof(keys) / sizeof(keys[0]))

static const char *const sections[] = {"cluster", "node",     "durability", "limits",
					"drills",  "failover", "retention", "security"};

/* One key of [drills]. */
static int drill_handler(struct parse *p, const char *key, const char *name, const char *value)
{
	for (int i = 0; i < DRILL_KEYS_COUNT; i++) {
		if (strcmp(drill_keys[i], name) != 0)
			continue;
		if ((p->seen_drills & (1u << i)) && !p->continued)
			return fail(p, p->line, "'%s' given twice", key);
		p->seen_drills |= 1u << i;
		return set_drill(p, (enum drill_key)i, key, value);
	}
	return fail(p, p->line, "unknown key '%s'", key);
}

/* [retention] keys, by their bit in parse.seen_retention. */
static const char *const retention_keys[] = {"log_days", "backup_generations", "backup_days"};

/* One key of [retention]: days in [0, HW_RETENTION_DAYS_MAX], generations at least 1 (a
 * policy that may remove the newest backup is a typo). */
static int retention_handler(struct parse *p, const char *key, const char *name, const char *v)
{
	struct hw_retention *r = &p->c->retention;
	for (unsigned i = 0; i < sizeof retention_keys / sizeof retention_keys[0]; i++) {
		if (strcmp(retention_keys[i], name) != 0)
			continue;
		if (p->seen_retention & (1u << i))
			return fail(p, p->line, "'%s' given twice", key);
		p->seen_retention |= 1u << i;
		uint64_t x;
		uint64_t lo = i == 1 ? 1 : 0;
		uint64_t hi = i == 1 ? HW_RETENTION_GENERATIONS_MAX : HW_RETENTION_DAYS_MAX;
		if (!set_num(p, key, v, lo, hi, &x))
			return 0;
		uint32_t *dst = i == 0   ? &r->log_days
				: i == 1 ? &r->backup_generations
					 : &r->backup_days;
		*dst = (uint32_t)x;
		return 1;
	}
	return fail(p, p->line, "unknown key '%s'", key);
}

/* [security] keys, by their bit in parse.seen_security. */
static const char *const security_keys[] = {"key", "peers", "insecure"};

/* security.peers: node.pub files or directories of them, each read now so a bad one is
 * named at load. */
static int set_peers(struct parse *p, const char *key, const char *v)
{
	struct hw_security *s = &p->c->security;
	char bad[HW_PATH_CHARS_MAX + 1];
	size_t n = 0;
	int rc = hw_channel_pins_parse(v, s->peers, s->peer_names, HW_CHANNEL_PINNED_MAX, &n, bad,
				       sizeof bad);
	s->n_peers = (uint32_t)n;
	if (strlen(v) >= sizeof s->peer_files)
		return fail(p, p->line, "'%s' is too long", key);
	snprintf(s->peer_files, sizeof s->peer_files, "%s", v);
	if (rc == -E2BIG)
		return fail(p, p->line, "'%s' lists more than %u keys", key, HW_CHANNEL_PINNED_MAX);
	if (rc == -ENOENT && bad[0] == '\0')
		return strchr(v, ',') != NULL ? fail(p, p->line, EMPTY_ITEM, key)
					      : fail(p, p->line, "empty value for '%s'", key);
	if (rc)
		return fail(p, p->line, "'%s': %s: %s", key, bad, hw_channel_pins_strerror(rc));
	return 1;
}

/* One key of [security]. */
static int security_handler(struct parse *p, const char *key, const char *name, const char *v)
{
	struct hw_security *s = &p->c->security;
	for (unsigned i = 0; i < sizeof security_keys / sizeof security_keys[0]; i++) {
		if (strcmp(security_keys[i], name) != 0)
			continue;
		if ((p->seen_security & (1u << i)) && !p->continued)
			return fail(p, p->line, "'%s' given twice", key);
		p->seen_security |= 1u << i;
		if (i == 0)
			return set_path(p, key, v, s->key);
		if (i == 1)
			return set_peers(p, key, v);
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return fail(p, p->line, "'%s' = '%s': expected true or false", key, v);
		s->insecure = strcmp(v, "true") == 0;
		return 1;
	}
	return fail(p, p->line, "unknown key '%s'", key);
}

static bool is_list(const char *key)
{
	static const char *const lists[] = {"cluster.standbys", "cluster.vaults", "node.primary",
					    "failover.voters",  "security.peers", "drills.keys",
					    "drills.trust"};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (strcmp(key, lists[i]) == 0)
			return true;
	return false;
}

static int key_handler(struct parse *p, const char *key, const char *section, const char *name,
		       const char *value);

/* A list key with p->list, its items so far: checked whole, without the one comma a line
 * may end in before the next one continues it (another is an empty item). */
static int list_handler(struct parse *p, const char *key, const char *section, const char *name)
{
	char items[HW_LIST_CHARS_MAX];
	size_t n = strlen(p->list);
	bool comma = false;
	for (char ch;
	     n > 0 && ((ch = p->list[n - 1]) == ' ' || ch == '\t' || (ch == ',' && !comma)); n--)
		comma |= ch == ',';
	if (n == 0 && strchr(p->list, ','))
		return fail(p, p->line, EMPTY_ITEM, key);
	snprintf(items, sizeof items, "%.*s", (int)n, p->list);
	return key_handler(p, key, section, name, items);
}

/* An indented line: inih hands it over as the key above again. It continues a list (its
 * items appended, the whole list checked again); anything else is an error. */
static int continue_list(struct parse *p, const char *key, const char *section, const char *name,
			 const char *value)
{
	if (strcmp(key, p->list_key) != 0)
		return fail(p, p->line,
			    "an indented line continues only a list (standbys, vaults, "
			    "primary, voters, peers, keys, trust), not '%s'",
			    key);
	/* inih leaves an inline comment on a continued line: cut it as on a key line */
	size_t len = strlen(value);
	for (size_t i = 1; i < len; i++)
		if (value[i] == ';' && (value[i - 1] == ' ' || value[i - 1] == '\t'))
			len = i;
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	size_t n = strlen(p->list);
	bool comma = n > 0 && p->list[n - 1] != ',' && value[0] != ',';
	if (n + len + 2 >= sizeof p->list)
		return fail(p, p->line, "'%s' is too long", key);
	snprintf(p->list + n, sizeof p->list - n, "%s%.*s", comma ? "," : "", (int)len, value);
	return list_handler(p, key, section, name);
}

/* inih's handler: one key of one section. Returns 1 to go on, 0 on error. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	if (p->long_pending && strcmp(value, LONG_VALUE_MARK) == 0)
		value = p->long_value;
	p->long_pending = false;
	char key[80];
	snprintf(key, sizeof(key), "%s.%s", section, name);
	if (section[0] == '\0')
		return fail(p, p->line, "key '%s' outside any section", name);
	if (p->retention_only && strcmp(section, "retention") != 0)
		return 1;
	if (p->continued)
		return continue_list(p, key, section, name, value);
	p->list_key[0] = '\0';
	if (!is_list(key))
		return key_handler(p, key, section, name, value);
	if (snprintf(p->list, sizeof p->list, "%s", value) >= (int)sizeof p->list)
		return fail(p, p->line, "'%s' is too long", key);
	snprintf(p->list_key, sizeof p->list_key, "%s", key);
	return list_handler(p, key, section, name);
}

/* One key: its section's handler, or the table of the others. A list continued on an
 * indented line (continue_list) comes here again, whole. */
static int key_handler(struct parse *p, const char *key, const char *section, const char *name,
		       const char *value)
{
	if (strcmp(section, "drills") == 0)
		return drill_handler(p, key, name, value);
	if (strcmp(section, "retention") == 0)
		return retention_handler(p, key, name, value);
	if (strcmp(section, "security") == 0)
		return security_handler(p, key, name, value);
	for (size_t i = 0; i < KEYS_COUNT; i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		if ((p->seen & keys[i].bit) && !p->continued)
			return fail(p, p->line, "'%s' given twice", key);
		p->seen |= keys[i].bit;
		return set_key(p, keys[i].bit, key, name, value);
	}
	return fail(p, p->line, "unknown key '%s'", key);
}

/* ---------------------------------------------------------------- lines */

/* Check the shape of one whole line before inih parses it: a known [section], a
 * comment, a blank, or key = value. */
static void check_line(struct parse *p, const char *s)
{
	if (p->continued)
		return; /* the rest of a list: items, no '=' */
	if (p->line == 1 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
	    (unsigned char)s[2] == 0xBF)
		s += 3;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '\n' || *s == '\r' || *s == ';' || *s == '#')
		return;
	if (*s != '[') {
		if (!strchr(s, '=') && !strchr(s, ':'))
			fail(p, p->line, "syntax error: expected 'key = value'");
		return;
	}
	const char *end = strchr(s, ']');
	if (!end) {
		fail(p, p->line, "syntax error: section header without ']'");
		return;
	}
	size_t n = (size_t)(end - s - 1);
	/* inih drops what follows the ']': "[durability] mode = durable" would lose the key */
	const char *rest = end + 1 + strspn(end + 1, " \t\r\n");
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		fail(p, p->line,
		     "syntax error: text after the section header (a key goes on a "
		     "line of its own)");
		return;
	}
	/* [failover] alone asks for failover: with its keys left out (commented), the check
	 * after the parse names them rather than a static primary starting */
	if (n == 8 && strncmp(s + 1, "failover", n) == 0 && !p->retention_only)
		p->c->failover.on = true;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strlen(sections[i]) == n && strncmp(sections[i], s + 1, n) == 0)
			return;
	fail(p, p->line, "unknown section '[%.*s]'", (int)(n > 64 ? 64 : n), s + 1);
}

/* Whether line s continues the key above, as inih takes it: an indented line with
 * something on it after a key line (a section header ends that; blanks and comments do
 * not). */
static void mark_continued(struct parse *p, const char *s)
{
	if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* a byte-order mark, which inih skips too */
	const char *t = s + strspn(s, " \t");
	if (*t == '\0' || *t == '\r' || *t == '\n' || *t == ';' || *t == '#')
		return; /* nothing for inih: the state stays */
	/* inih asks "continued?" before "section?": an indented [v6]:port goes on a list */
	p->continued = t > s && p->after_key;
	p->after_key = p->continued || *t != '[';
}

/* Where inih's find_chars_or_comment() stops in s: at one of chars (NULL: none), at an
 * inline comment (';' after a blank) or at the end. */
static const char *chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;
	while (*s && (chars == NULL || !strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = *s == ' ' || *s == '\t' || *s == '\r' || *s == '\n';
		s++;
	}
	return s;
}

/* fgets for the parse: the next line of p->f (its first num - 1 bytes at most) into buf,
 * or NULL at the end of the file. A NUL byte, which fgets keeps and strlen then cuts the
 * line at ("9\0 9999" read as 9), fails the parse at line. */
static char *get_text(struct parse *p, char *buf, int num, int line)
{
	int i = 0, ch = 0;
	while (i < num - 1 && ch != '\n' && (ch = getc(p->f)) != EOF) {
		if (ch == '\0') {
			fail(p, line, "a NUL byte: the file is not text");
			return NULL;
		}
		buf[i++] = (char)ch;
	}
	buf[i] = '\0';
	return i > 0 ? buf : NULL;
}

/* The rest of a line longer than inih's buffer, whose first num - 1 characters are in
 * str: read whole into p->long_line (at most LINE_CHARS_MAX), checked as any line, its
 * value kept in p->long_value as inih would cut it, and str turned into the same line
 * with LONG_VALUE_MARK for the value. NULL on an error (recorded). */
static char *long_line(struct parse *p, char *str, int num)
{
	char *b = p->long_line;
	size_t n = strlen(str);
	memcpy(b, str, n + 1);
	while (b[n - 1] != '\n' && n < LINE_CHARS_MAX &&
	       get_text(p, b + n, (int)(sizeof p->long_line - n), p->line))
		n += strlen(b + n);
	if (p->failed)
		return NULL;
	if (b[n - 1] != '\n' && !feof(p->f)) {
		fail(p, p->line,
		     "line is longer than %d characters (only a list goes on, in indented lines)",
		     LINE_CHARS_MAX);
		return NULL;
	}
	const char *first = b + strspn(b, " \t");
	if (*first == ';' || *first == '#') { /* a comment: inih skips it, whatever it holds */
		snprintf(str, (size_t)num, ";\n");
		return str;
	}
	mark_continued(p, b);
	check_line(p, b);
	if (p->failed)
		return NULL;
	const char *v = b; /* a continued line is all value; inih leaves its comment */
	const char *cut = b + n;
	size_t head = 0; /* what inih keeps of the line: its indent, or the key and '=' */
	if (!p->continued) {
		v = chars_or_comment(b, "=:");
		if (*v != '=' && *v != ':') {
			fail(p, p->line, "syntax error: expected 'key = value'");
			return NULL;
		}
		head = (size_t)(++v - b);
		cut = chars_or_comment(v, NULL);
	} else {
		head = strspn(b, " \t");
	}
	while (v < cut && (*v == ' ' || *v == '\t'))
		v++;
	while (cut > v && strchr(" \t\r\n", cut[-1]))
		cut--;
	if (head + sizeof " " LONG_VALUE_MARK "\n" > (size_t)num) {
		fail(p, p->line, "key is too long");
		return NULL;
	}
	snprintf(p->long_value, sizeof p->long_value, "%.*s", (int)(cut - v), v);
	snprintf(str, (size_t)num, "%.*s " LONG_VALUE_MARK "\n", (int)head, b);
	p->long_pending = true;
	return str;
}

/* inih's reader (fgets-like): counts real lines, checks each, and ends the stream at
 * the first error so the first message stands. A line longer than inih's buffer goes
 * through long_line(). */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	if (p->failed)
		return NULL;
	char *s = get_text(p, str, num, p->line + 1);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	bool ended = n > 0 && s[n - 1] == '\n';
	p->line++;
	if (!ended && !feof(p->f))
		return long_line(p, str, num);
	mark_continued(p, s);
	check_line(p, s);
	return p->failed ? NULL : s;
}

int hw_config_channel(const struct hw_config *c, const char *path, struct hw_identity *id,
		      struct hw_channel_config *out, char *err, size_t err_len)
{
	const struct hw_security *s = &c->security;
	memset(out, 0, sizeof *out);
	out->insecure = s->insecure;
	out->cluster_id = c->cluster_id;
	if (s->insecure)
		return 0;
	if (!s->key[0]) {
		snprintf(err, err_len,
			 "%s: no channel keys: add a [security] section with key = <node.key> "
			 "and peers = <node.pub files> (hawser keygen), or insecure = true for "
			 "plaintext",
			 path);
		return HW_ECONFIG;
	}
	int rc = hw_identity_load(s->key, id);
	if (rc) {
		snprintf(err, err_len, "%s: security.key %s: %s", path, s->key,
			 rc == HW_ECONFIG ? "not a node.key of hawser keygen, or readable by "
					    "group or others (chmod 600)"
					  : strerror(-rc));
		return HW_ECONFIG; /* a key that cannot be read (missing, no access) too */
	}
	out->self = id;
	out->pinned = &s->peers[0][0];
	out->pinned_count = s->n_peers;
	/* what is sent to the ports: a record announcing more is refused before it is held */
	out->open_max = HW_PORT_FRAME_MAX;
	return 0;
}

void hw_config_defaults(struct hw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = HW_MODE_LOCAL;
	c->k = 1;
	c->checkpoint_records = HW_CHECKPOINT_RECORDS_DEFAULT;
	c->checkpoint_interval_ms = HW_CHECKPOINT_INTERVAL_MS_DEFAULT;
	c->waiters_max = 65536;
	c->window_records = 65536;
	c->heartbeat_ms = 100;
	c->peer_timeout_ms = 5000;
	hw_retention_defaults(&c->retention);
	hw_drill_config_defaults(&c->drills);
}

void hw_drill_config_defaults(struct hw_drill_config *d)
{
	memset(d, 0, sizeof(*d));
	d->every_ms[HW_DRILL_VERIFY] = 24LL * 3600 * 1000;
	d->every_ms[HW_DRILL_RESTORE] = 7LL * 24 * 3600 * 1000;
	d->every_ms[HW_DRILL_FAILOVER] = 30LL * 24 * 3600 * 1000;
	d->every_ms[HW_DRILL_PROCEDURE] = 7LL * 24 * 3600 * 1000;
	d->restore_rto_ms = 12LL * 3600 * 1000;
	d->backup_age_max_ms = 24LL * 3600 * 1000;
	d->rpo_ms = 5000;
	d->backup_generations_min = 7;
	d->retention_days_min = 30;
}

/* Read path into c (defaults first); retention_only: only [retention], and no check of
 * what a node needs. */
static int load(const char *path, struct hw_config *c, bool retention_only, char *err,
		size_t err_len)
{
	char scratch[1];
	struct parse p = {
		.path = path,
		.c = c,
		.retention_only = retention_only,
		.err = err_len ? err : scratch,
		.err_len = err_len ? err_len : sizeof(scratch),
	};
	p.err[0] = '\0';
	hw_config_defaults(c);
	p.f = fopen(path, "r");
	struct stat st;
	int rc = p.f == NULL ? -errno : fstat(fileno(p.f), &st) != 0 ? -errno : 0;
	if (rc == 0 && S_ISDIR(st.st_mode))
		rc = -EISDIR; /* fopen takes one, and its read fails: not a read error */
	if (rc != 0) {
		snprintf(p.err, p.err_len, "%s: %s", path, strerror(-rc));
		if (p.f != NULL)
			fclose(p.f);
		return rc;
	}
	rc = ini_parse_stream(reader, &p, handler, &p);
	bool read_error = ferror(p.f) != 0;
	fclose(p.f);
	if (read_error && !p.failed) {
		snprintf(p.err, p.err_len, "%s: read error", path);
		return -EIO;
	}
	if (rc == -2 && !p.failed) {
		snprintf(p.err, p.err_len, "%s: out of memory", path);
		return HW_ENOMEM;
	}
	if (rc > 0 && !p.failed)
		fail(&p, rc, "syntax error");
	if (!p.failed && !retention_only)
		hw__config_check(&p);
	return p.failed ? HW_ECONFIG : 0;
}

void hw_config_perror(const char *path, int rc, const char *err)
{
	size_t n = strlen(path), end = n;
	bool ours = strncmp(err, path, n) == 0 && err[n] == ':';
	if (ours && err[n + 1] != ' ')
		end = n + 1 + strspn(err + n + 1, "0123456789"); /* PATH:LINE */
	char what[PATH_MAX + 16];
	const char *why = err;
	if (ours && strncmp(err + end, ": ", 2) == 0 && end < sizeof what) {
		snprintf(what, sizeof what, "%.*s", (int)end, err);
		why = err + end + 2;
	} else {
		snprintf(what, sizeof what, "%s", path);
	}
	/* an OS error's err is "PATH: <its text>": the text once */
	hw_log_error(what, rc, strcmp(why, hw_strerror(rc)) == 0 ? NULL : why);
}

int hw_config_load(const char *path, struct hw_config *c, char *err, size_t err_len)
{
	return load(path, c, false, err, err_len);
}

int hw_config_load_retention(const char *path, struct hw_retention *r, char *err, size_t err_len)
{
	static _Thread_local struct hw_config c;
	int rc = load(path, &c, true, err, err_len);
	if (rc == 0)
		*r = c.retention;
	return rc;
}

bool hw_security_peer_is(const struct hw_security *s, const uint8_t *key, const char *id)
{
	return s->insecure || hw_channel_pinned_as(s->peers, s->peer_names, s->n_peers, key, id);
}
