/* config_check.c: the checks of a node's config after the whole file is read
 * (config_int.h hw__config_check): the keys each role needs or refuses, k of n, the
 * [failover] voters and targets, the vaults and [security]; and the least k a failover
 * config holds a primary to (config.h hw_config_k_min). Parsing is engine/config.c's. */
#include <stdint.h>
#include <string.h>

#include "base/names.h"
#include "engine/config.h"
#include "engine/config_addrs.h"
#include "engine/config_int.h"
#include "engine/core/election.h"
#include "engine/core/targets.h"

static int check_required(struct parse *p)
{
	static const struct {
		unsigned bit;
		const char *key;
	} required[] = {
		{SEEN_CLUSTER_ID, "cluster.id"},
		{SEEN_NODE_ID, "node.id"},
		{SEEN_ROLE, "node.role"},
		{SEEN_DATA_DIR, "node.data_dir"},
	};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!(p->seen & required[i].bit))
			return fail(p, 0, "missing key '%s'", required[i].key);
	struct hw_config *c = p->c;
	if ((c->role == HW_ROLE_PRIMARY || c->failover.on) && (p->seen & SEEN_LISTEN) &&
	    (p->seen & SEEN_CLIENT) && hw_addr_same(c->listen, c->client)) /* both bound */
		return fail(p, 0, "'node.listen' and 'node.client' are one address (%s)",
			    c->client);
	if (c->failover.on)
		return 1; /* check_failover */
	if (c->role == HW_ROLE_WITNESS)
		return fail(p, 0, "missing section [failover] (required for a witness)");
	if (c->role == HW_ROLE_STANDBY && !(p->seen & SEEN_PRIMARY))
		return fail(p, 0, "missing key 'node.primary' (required for a standby)");
	if (c->role == HW_ROLE_PRIMARY && c->n_standbys + p->n_vaults > 0 &&
	    !(p->seen & SEEN_LISTEN))
		return fail(p, 0,
			    "missing key 'node.listen' (required for a primary with "
			    "standbys or vaults)");
	return 1;
}

/* k of n: a primary cannot wait for more standbys than it has, and a mode beyond local
 * needs at least one. k is only checked when it matters: a local-mode primary may leave
 * the default k = 1 with no standbys. */
static int check_k(struct parse *p)
{
	struct hw_config *c = p->c;
	if (c->role != HW_ROLE_PRIMARY && !(c->failover.on && c->role == HW_ROLE_STANDBY))
		return 1;
	bool need = c->mode != HW_MODE_LOCAL || (p->seen & SEEN_K);
	int line = (p->seen & SEEN_K) ? p->k_line : p->mode_line;
	if (!need)
		return 1;
	if (c->k > c->n_standbys)
		return fail(p, line,
			    "'durability.k' = %u is more than the %u standbys in "
			    "'cluster.standbys'",
			    c->k, c->n_standbys);
	if (c->mode != HW_MODE_LOCAL && c->k == 0)
		return fail(p, line, "'durability.k' must be at least 1 for mode '%s'",
			    hw_mode_name(c->mode));
	return 1;
}

/* The standbys of whichever node is primary: every other node voter, in voter order. If
 * cluster.standbys was given it must name exactly them. */
static int failover_standbys(struct parse *p)
{
	struct hw_config *c = p->c;
	struct hw_failover *f = &c->failover;
	uint32_t nodes = f->n_voters - 1;
	if ((p->seen & SEEN_STANDBYS) && c->n_standbys != nodes - 1)
		return fail(p, 0,
			    "'cluster.standbys' must name every other node of 'failover.voters'");
	for (uint32_t i = 0; i < c->n_standbys; i++) {
		bool found = false;
		for (uint32_t j = 0; j < nodes; j++)
			found |= j != f->self && strcmp(c->standbys[i], f->voters[j].id) == 0;
		if (!found)
			return fail(p, 0,
				    "'cluster.standbys' names '%s', not another node of "
				    "'failover.voters'",
				    c->standbys[i]);
	}
	c->n_standbys = 0;
	for (uint32_t j = 0; j < nodes; j++)
		if (j != f->self)
			memcpy(c->standbys[c->n_standbys++], f->voters[j].id, HW_ID_CHARS_MAX + 1);
	return 1;
}

/* Keys that would do nothing on this node's role are refused rather than read as if they
 * did: a witness votes and holds no data (none of these), a vault never leads nor
 * acknowledges a submit (the [durability] ones). */
static int check_unused_keys(struct parse *p)
{
	static const struct {
		unsigned bit;
		const char *key;
		bool vault; /* a vault refuses it too */
	} data_only[] = {
		{SEEN_CLIENT, "node.client", false},
		{SEEN_PRIMARY, "node.primary", false},
		{SEEN_STANDBYS, "cluster.standbys", false},
		{SEEN_VAULTS, "cluster.vaults", false},
		{SEEN_MODE, "durability.mode", true},
		{SEEN_K, "durability.k", true},
		{SEEN_CHECKPOINT_RECORDS, "durability.checkpoint_records", true},
		{SEEN_CHECKPOINT_INTERVAL, "durability.checkpoint_interval", true},
	};
	bool vault = p->c->role == HW_ROLE_VAULT;
	for (size_t i = 0; i < sizeof data_only / sizeof data_only[0]; i++)
		if ((p->seen & data_only[i].bit) && (!vault || data_only[i].vault))
			return fail(p, 0, "'%s' is for a node that %s", data_only[i].key,
				    vault ? "may be primary, not a vault"
					  : "holds data, not a witness");
	return 1;
}

static int check_voter_addrs(struct parse *p)
{
	char why[HW_ADDR_CHARS_MAX * 3 + 160];
	return hw_config_addrs_clash(p->c, why, sizeof why) ? fail(p, 0, "%s", why) : 1;
}

/* A hung primary's clients notice it only after their silence (targets.h
 * hw_tg_client_silence_ms of heartbeat_ms), then resume: that must fit in the RTO, or no
 * failover of a hung primary meets it. */
static int check_client_silence(struct parse *p)
{
	const struct hw_config *c = p->c;
	int64_t rto = c->failover.rto_ms, resume = HW_TG_DEFAULT_RESUME_MS;
	int64_t silence = hw_tg_client_silence_ms(c->heartbeat_ms);
	if (silence + resume <= rto)
		return 1;
	int64_t hb_max = (rto - resume) / HW_TG_CLIENT_SILENT_BEATS;
	if (rto - resume < HW_TG_CLIENT_SILENCE_MIN_MS)
		return fail(p, p->rto_line,
			    "'failover.rto' = %lld ms is shorter than a hung primary's clients "
			    "take: they notice its silence after %lld ms ('limits.heartbeat_ms' = "
			    "%lld: %d heartbeats, at least %d ms) and resume in %lld ms: give "
			    "'failover.rto' at least %lld ms",
			    (long long)rto, (long long)silence, (long long)c->heartbeat_ms,
			    HW_TG_CLIENT_SILENT_BEATS, HW_TG_CLIENT_SILENCE_MIN_MS,
			    (long long)resume, (long long)(silence + resume));
	return fail(p, p->heartbeat_line,
		    "'limits.heartbeat_ms' = %lld: a hung primary's clients notice its silence "
		    "only after %lld ms (%d heartbeats) and resume in %lld ms, past 'failover.rto' "
		    "= %lld ms: give 'limits.heartbeat_ms' at most %lld, or 'failover.rto' at "
		    "least %lld ms",
		    (long long)c->heartbeat_ms, (long long)silence, HW_TG_CLIENT_SILENT_BEATS,
		    (long long)resume, (long long)rto, (long long)hb_max,
		    (long long)(silence + resume));
}

/* [failover]: every key there, this node among the voters, the witness last. */
static int check_failover(struct parse *p)
{
	struct hw_config *c = p->c;
	struct hw_failover *f = &c->failover;
	if (!f->on)
		return 1;
	if (!(p->seen & SEEN_VOTERS) || !(p->seen & SEEN_WITNESS) || !(p->seen & SEEN_RTO) ||
	    !(p->seen & SEEN_RPO))
		return fail(p, 0, "[failover] needs 'voters', 'witness', 'rto' and 'rpo'");
	if (f->n_voters < 2)
		return fail(p, 0, "'failover.voters' must list at least 2 nodes");
	if ((p->seen & SEEN_RPO_ACTION) && f->rpo_ms == 0)
		return fail(p, 0,
			    "'failover.rpo_action' is for rpo > 0: at rpo 0 a submit "
			    "waits for its standbys by its mode");
	if ((p->seen & SEEN_HB_SPREAD) && !(p->seen & SEEN_HB_P99))
		return fail(p, 0, "'failover.heartbeat_spread' needs 'failover.heartbeat_p99'");
	if (f->hb_spread_us > f->hb_p99_us)
		return fail(p, 0,
			    "'failover.heartbeat_spread' is more than 'failover.heartbeat_p99' "
			    "(the spread is p99 - p50)");
	if (!(p->seen & SEEN_LISTEN))
		return fail(p, 0, "missing key 'node.listen' (required with [failover])");
	struct hw_voter_addr *w = &f->voters[HW_EL_VOTERS_MAX - 1];
	if (!(p->seen & SEEN_WITNESS_ID))
		strcpy(w->id, "witness");
	f->witness = f->n_voters++;
	if (f->witness != HW_EL_VOTERS_MAX - 1)
		f->voters[f->witness] = *w;
	f->self = UINT32_MAX;
	for (uint32_t i = 0; i < f->n_voters; i++) {
		if (i != f->witness && strcmp(f->voters[i].id, w->id) == 0)
			return fail(p, 0, "'failover.witness_id' '%s' is also a node", w->id);
		if (strcmp(f->voters[i].id, c->node_id) == 0)
			f->self = i;
	}
	if (!check_voter_addrs(p))
		return 0;
	bool witness = c->role == HW_ROLE_WITNESS;
	if (witness && f->self != f->witness)
		return fail(p, 0, "a witness's 'node.id' must be 'failover.witness_id'");
	if (!witness && (f->self == UINT32_MAX || f->self == f->witness))
		return fail(p, 0, "'node.id' '%s' is not in 'failover.voters'", c->node_id);
	if (c->role == HW_ROLE_WITNESS)
		return check_unused_keys(p);
	if (!failover_standbys(p) || !check_client_silence(p))
		return 0;
	if (f->rpo_ms == 0 && c->mode != HW_MODE_DURABLE && c->mode != HW_MODE_APPLIED)
		return fail(
			p, 0,
			"'failover.rpo' = 0 needs 'durability.mode' durable or applied "
			"(a record acknowledged before it is durable on a standby could be lost)");
	uint32_t k_min = hw_el_k_min(f->n_voters);
	if (f->rpo_ms == 0 && c->k < k_min)
		return fail(p, (p->seen & SEEN_K) ? p->k_line : 0,
			    "'failover.rpo' = 0 with %u voters needs 'durability.k' >= %u, not "
			    "%u: " HW_EL_K_MIN_WHY,
			    f->n_voters, k_min, c->k);
	return 1;
}

uint32_t hw_config_k_min(const struct hw_config *c)
{
	if (!c->failover.on || c->role == HW_ROLE_WITNESS)
		return 0;
	return hw_el_k_min(c->failover.n_voters);
}

/* A vault pulls and is never promoted: it has a primary to pull from, no replication
 * port, no [failover]. Only a vault delays, and only a vault lists several primaries. */
static int check_vault(struct parse *p)
{
	struct hw_config *c = p->c;
	bool vault = c->role == HW_ROLE_VAULT;
	if (!vault && (p->seen & SEEN_APPLY_DELAY))
		return fail(p, 0, "'node.apply_delay' is for role = vault only");
	if (!vault && c->n_sources > 1)
		return fail(p, 0, "'node.primary' lists %u addresses: only a vault takes a list",
			    c->n_sources);
	if (!vault)
		return 1;
	if (c->failover.on)
		return fail(p, 0, "a vault never votes: remove [failover] from its config");
	if (p->seen & SEEN_LISTEN)
		return fail(p, 0, "a vault accepts no inbound connections: remove 'node.listen'");
	if (!(p->seen & SEEN_PRIMARY))
		return fail(p, 0, "missing key 'node.primary' (required for a vault)");
	return check_unused_keys(p);
}

/* cluster.vaults go after the standbys (config.h); a node is either, and together they
 * fit the primary's peers. */
static int check_vaults(struct parse *p)
{
	struct hw_config *c = p->c;
	if (c->n_standbys + p->n_vaults > HW_PEERS_MAX)
		return fail(p, 0, "%u standbys and %u vaults are more than %u peers", c->n_standbys,
			    p->n_vaults, HW_PEERS_MAX);
	for (uint32_t i = 0; i < c->n_standbys; i++)
		if (strcmp(c->standbys[i], c->node_id) == 0)
			return fail(p, 0, "'cluster.standbys' names this node '%s'", c->node_id);
	for (uint32_t j = 0; j < p->n_vaults; j++) {
		if (strcmp(p->vaults[j], c->node_id) == 0)
			return fail(p, 0, "'cluster.vaults' names this node '%s'", c->node_id);
		for (uint32_t i = 0; i < c->n_standbys; i++)
			if (strcmp(c->standbys[i], p->vaults[j]) == 0)
				return fail(p, 0, "'%s' is both a standby and a vault",
					    p->vaults[j]);
		memcpy(c->standbys[c->n_standbys + j], p->vaults[j], HW_ID_CHARS_MAX + 1);
	}
	c->n_vaults = p->n_vaults;
	return 1;
}

/* Keys and insecure = true exclude each other; a key needs peers and peers a key. */
static int check_security(struct parse *p)
{
	const struct hw_security *s = &p->c->security;
	if (s->insecure && (s->key[0] || s->n_peers))
		return fail(p, 0,
			    "'security.insecure' = true with 'security.key' or "
			    "'security.peers': choose one");
	if (!s->key[0] != !s->n_peers)
		return fail(p, 0, "'security.%s' is missing (key and peers go together)",
			    s->key[0] ? "peers" : "key");
	return 1;
}

/* A standby or vault follows only the key pinned as its primary's id, so with channel
 * keys node.primary names it (ID@HOST:PORT): any other pinned key, a client's say, would
 * otherwise be taken for the primary's. With [failover] the voters name the nodes that
 * may lead; a plaintext node checks no keys (and one with neither does not start). */
static int check_primary_ids(struct parse *p)
{
	const struct hw_config *c = p->c;
	for (uint32_t i = 0; i < c->n_sources; i++) {
		const char *id = c->source_ids[i];
		if (strcmp(id, c->node_id) == 0)
			return fail(p, 0, "'node.primary' names this node '%s'", id);
		if (id[0] == '\0' && !c->failover.on && c->security.key[0] != '\0')
			return fail(p, 0,
				    "'node.primary' must name the node at each address: %s@%s "
				    "(only the key pinned as <id>.pub is followed; [failover] "
				    "voters or insecure = true need no id)",
				    "<id>", c->sources[i]);
	}
	return 1;
}

int hw__config_check(struct parse *p)
{
	if (!check_security(p))
		return 0;
	if (!check_required(p) || !check_vault(p) || !check_failover(p) || !check_k(p) ||
	    !check_vaults(p) || !check_primary_ids(p))
		return 0;
	struct hw_config *c = p->c;
	if (c->peer_timeout_ms <= c->heartbeat_ms)
		return fail(p, p->timeout_line,
			    "'limits.peer_timeout_ms' = %lld must be more than "
			    "'limits.heartbeat_ms' = %lld",
			    (long long)c->peer_timeout_ms, (long long)c->heartbeat_ms);
	return 1;
}
