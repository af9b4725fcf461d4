/* config.h: a node's configuration, read from an INI file (libinih).
 *
 *   [cluster]
 *   id = yard-ha              ; every node and client of one cluster shares it
 *   standbys = s1, s2         ; primary: the standbys it expects (n for "k of n")
 *   vaults = v1               ; primary (with [failover]: every node): vault replicas it
 *                             ; streams to; never counted in k of n, never voters
 *
 *   [node]
 *   id = p1
 *   role = primary            ; primary | standby | vault (witness: see below)
 *   data_dir = /var/lib/hawser/p1
 *   listen = 127.0.0.1:7001   ; replication port (the primary listens, standbys connect)
 *   client = 127.0.0.1:7101   ; client port: HOST:PORT or unix:/path
 *   primary = p1@127.0.0.1:7001 ; standby: the primary's id and where it listens (the
 *                             ; id may be left out only with [failover], whose voters
 *                             ; name the nodes, or insecure = true). A vault may list
 *                             ; every node that may be primary ("p1@a:7001, s1@b:7001"):
 *                             ; it tries them in turn
 *   apply_delay = 1h          ; vault only: entries are stored on arrival, applied once
 *                             ; this old (ms, s, m, h, d; default 0, at most 30d)
 *
 *   [durability]
 *   mode = durable            ; local | received | durable | applied
 *   k = 1                     ; standbys that must meet the mode
 *   checkpoint_records = 100000 ; a primary appends a signed checkpoint (docs/security.md)
 *                             ; every this many entries (0: not by count) ...
 *   checkpoint_interval = 60s ; ... or this long after the last one if entries came
 *                             ; since (0: not by time; at most 1h). Signed with
 *                             ; [security] key; insecure nodes make none
 *
 *   [limits]                  ; each has a default; see hawser_limits.h for why
 *   waiters_max = 65536       ; submits waiting at once (back-pressure beyond)
 *   window_records = 65536    ; entries in flight to one standby
 *   heartbeat_ms = 100        ; with [failover]: a hung primary's clients notice it
 *                             ; after 4 of these, at least 1 s, and resume in 300 ms:
 *                             ; that must fit in the rto, else refused
 *   peer_timeout_ms = 5000
 *   log_keep_records = 0      ; log entries a node keeps (0: all); older ones are pruned
 *                             ; and a standby behind them is sent a snapshot
 *
 *   [retention]               ; replica/retention.h; every key optional
 *   log_days = 30             ; a log entry is pruned only past log_keep_records AND
 *                             ; this old (0: the count alone)
 *   backup_generations = 7    ; `hawser backup --prune` keeps the newest this many ...
 *   backup_days = 30          ; ... and every generation younger than this
 *
 *   [security]                ; the channel of every connection (engine/io/channel.h,
 *                             ; docs/security.md); a node starts only with keys or insecure
 *   key = /etc/hawser/node.key     ; this node's secret key (`hawser keygen`)
 *   peers = /etc/hawser/p1.pub, /etc/hawser/s1.pub
 *                             ; node.pub files (or directories of *.pub files) of every
 *                             ; node, witness and client it accepts (at most 16 keys:
 *                             ; during a key rotation, old and new)
 *   insecure = false          ; true: plaintext, no keys (tests, closed lab networks)
 *
 *   [failover]                ; automatic failover (docs/failover.md); without
 *                             ; this section roles are static, as configured (the header
 *                             ; alone, its keys commented out, is refused for them)
 *   voters = p1@10.0.0.1:7001, s1@10.0.0.2:7001
 *                             ; every node of the cluster, ID@its replication address, in
 *                             ; the same order on every node (the order gives voter ids)
 *   witness = 10.0.0.3:7900   ; the witness's address (`hawser witness`); every voter
 *                             ; has an address of its own, and the witness is not at
 *                             ; this node's node.listen (engine/config_addrs.h); a
 *                             ; node's own voter address (the witness's witness) has the
 *                             ; port of its node.listen, whose host may differ
 *   witness_id = w1           ; its id (default "witness")
 *   rto = 30s                 ; recovery-time target: ms, s or m suffix
 *   rpo = 0                   ; recovery-point target: 0 (nothing acknowledged is lost)
 *                             ; or a time: acknowledgements are then held while the
 *                             ; standbys lack a record acknowledged longer ago than rpo
 *                             ; minus a margin (`hawser plan` shows both)
 *   rpo_action = block        ; rpo > 0 only: block (default: new submits wait with
 *                             ; the held ones) or fail (refused at once, HW_EBEHIND)
 *
 * With [failover], node.role is the role a node prefers at start (the primary campaigns
 * first), node.listen is required on every node (voters reach each other there), the
 * standbys of whichever node is primary are all the other voters (cluster.standbys may be
 * left out; if given it must name exactly them), node.primary is only a first hint, and
 * [durability] applies to every node (any may become primary). A witness's config has
 * role = witness, its data_dir and listen, and the same [failover] section.
 *
 *   [drills]                  ; docs/drills.md; every key optional
 *   verify = 1d               ; how often each drill must pass (ms, s, m, h, d; 0: never)
 *   restore = 7d
 *   failover = 30d
 *   procedure = 7d
 *   restore_rto = 12h         ; a restore drill slower than this fails (more than 0)
 *   backup_dir = /backup/p1   ; one backup generation per subdirectory (or itself one)
 *   backup_generations_min = 7
 *   retention_days_min = 30   ; the oldest generation must be at least this old
 *   backup_age_max = 1d       ; the newest generation must be at most this old (> 0)
 *   offsite_dir = /mnt/vault  ; a backup copy out of the primary's reach
 *   keys = /etc/hawser/a.key, /etc/hawser/b.key  ; files that must be present
 *   trust = /offline/p1.pub, /offline/s1.pub     ; node.pub files whose sign keys may
 *                             ; sign checkpoints: the restore drill judges the restored
 *                             ; log's signers against them (docs/drills.md "restore")
 *   witness = 10.0.0.9:7001   ; must accept a TCP connection
 *   rpo = 5s                  ; standby lag the procedure drill accepts
 *   report_dir = /var/lib/hawser/drills  ; default: <data_dir>.drills
 *   allow_fault = false       ; true: `hawser drill failover --connect` may crash this
 *                             ; node or, on a primary, isolate it (engine/node_drill.c)
 *
 * A vault (docs/operations.md "Vault replica") pulls from the cluster and accepts no
 * inbound connection: node.listen, [failover] and [durability] (it never leads) are
 * refused for it, node.client is optional (status and reads; a unix socket keeps it off
 * the network), node.primary is required (each node and address once). apply_delay is
 * refused on any other role.
 *
 * Unknown sections or keys, missing required keys and bad values are errors that name
 * the file, line and key: a typo must not silently become a default. A line may be up to
 * 2048 characters (a path of HW_PATH_CHARS_MAX, a whole list); a list may also go on in
 * indented lines, and none of its items may be empty (a line may end in one comma when
 * the next continues it). A section header is alone on its line (a comment may follow),
 * and a NUL byte anywhere is refused (the file is text). */
#ifndef HW_ENGINE_CONFIG_H
#define HW_ENGINE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/election.h"
#include "engine/core/repl.h"
#include "engine/io/channel.h"
#include "hawser_limits.h"
#include "replica/retention.h"

#define HW_PATH_CHARS_MAX 512
/* The longest list a config takes (voters, peers ...) over continued lines: 8 voters of
 * the longest id and address, with separators. */
#define HW_LIST_CHARS_MAX (HW_EL_VOTERS_MAX * (HW_ID_CHARS_MAX + HW_ADDR_CHARS_MAX + 4))
/* [durability] checkpoint defaults: one a minute, or sooner past 100,000 entries. Each
 * is a full state digest (20-30 ms at 200,000 records, growing with the state): at 10,000
 * a 40,000 records/s burst made four a second and cost 10-20 % of the throughput
 * (docs/benchmarks.md); below 1,700 records/s, a terminal's peak, the minute comes
 * first either way. */
#define HW_CHECKPOINT_RECORDS_DEFAULT 100000u
#define HW_CHECKPOINT_INTERVAL_MS_DEFAULT 60000
/* The most checkpoint_records takes: a checkpoint per 2^32 entries vouches for nothing
 * useful (hawser verify --checkpoint-records takes the same). */
#define HW_CHECKPOINT_RECORDS_MAX (1ull << 32)
/* Addresses a vault tries in turn: every node that may be primary. */
#define HW_VAULT_SOURCES_MAX 8u
/* The longest apply delay: past it the vault's held entries are weeks of traffic. */
#define HW_APPLY_DELAY_MS_MAX (30LL * 24 * 3600 * 1000)

/* PRIMARY and STANDBY: the role a node runs as (with [failover], the one it starts
 * with; the node changes it when it is promoted or steps down). WITNESS: `hawser
 * witness`. VAULT: a replica that follows and is never promoted. */
enum hw_role { HW_ROLE_PRIMARY = 1, HW_ROLE_STANDBY = 2, HW_ROLE_WITNESS = 3, HW_ROLE_VAULT = 4 };

struct hw_voter_addr {
	char id[HW_ID_CHARS_MAX + 1];
	char addr[HW_ADDR_CHARS_MAX + 1];
};

/* The longest [failover] rto or rpo (and any time there): past an hour is not high
 * availability but a typo. hawser plan takes the same. */
#define HW_TARGET_MS_MAX 3600000

/* [failover]: voter ids are the index in voters[]: the nodes in the order listed, then
 * the witness (id n_voters - 1). */
struct hw_failover {
	bool on;
	uint32_t n_voters;
	struct hw_voter_addr voters[HW_EL_VOTERS_MAX];
	uint32_t witness; /* its voter id */
	uint32_t self;    /* this process's voter id */
	int64_t rto_ms;
	int64_t rpo_ms;
	/* heartbeat_p99, heartbeat_spread: the heartbeat delay the election timers are
	 * planned for (hawser plan --measure prints them); 0: the planner's defaults */
	int64_t hb_p99_us;
	int64_t hb_spread_us;
	/* rpo_action = fail: at rpo > 0, while the standbys are further behind than the
	 * commit rule allows, a new record (any mode: the rule holds all) is refused with
	 * HW_EBEHIND (nothing written) instead of waiting, a resend of a stored one still
	 * answered as its duplicate; block (the default): it waits, as one already taken
	 * does either way (engine/core/targets.h "commit rule") */
	bool rpo_fail;
};

/* Key files the procedure drill checks: a node has a handful (TLS, backup encryption). */
#define HW_DRILL_KEYS_MAX 8
/* node.pub files the restore drill trusts to sign checkpoints: every node that may be
 * primary (a primary and its standbys), old and new during a key rotation, fits in 8
 * for a cluster of three or four. */
#define HW_DRILL_TRUST_MAX 8

/* A [drills] schedule or target past a year is a typo (a drill nobody runs proves
 * nothing): the config and a drill's --rto refuse it. */
#define HW_DRILL_SPAN_MS_MAX (366LL * 24 * 3600 * 1000)

/* [drills]: schedules and the targets the drills are held to (cli/cmd_drill*.c). */
struct hw_drill_config {
	int64_t every_ms[5]; /* by enum hw_drill_kind (replica/drills.h), [0] unused; 0: none */
	int64_t restore_rto_ms;
	int64_t backup_age_max_ms;
	int64_t rpo_ms;
	uint32_t backup_generations_min;
	uint32_t retention_days_min;
	char backup_dir[HW_PATH_CHARS_MAX + 1]; /* "" when not set */
	char offsite_dir[HW_PATH_CHARS_MAX + 1];
	char report_dir[HW_PATH_CHARS_MAX + 1];
	char keys[HW_DRILL_KEYS_MAX][HW_PATH_CHARS_MAX + 1];
	uint32_t n_keys;
	char trust[HW_DRILL_TRUST_MAX][HW_PATH_CHARS_MAX + 1]; /* node.pub files, as given */
	uint32_t n_trust;
	char witness[HW_ADDR_CHARS_MAX + 1];
	bool allow_fault; /* a pinned client may ask this node to crash or isolate itself
			   * (DrillFault) */
};

/* [security]: paths as given; the pinned keys are read from their files at load. */
struct hw_security {
	bool insecure;
	char key[HW_PATH_CHARS_MAX + 1]; /* "" when not set */
	uint8_t peers[HW_CHANNEL_PINNED_MAX][HW_CHANNEL_KEY_BYTES];
	char peer_names[HW_CHANNEL_PINNED_MAX][HW_CHANNEL_PIN_NAME_BYTES]; /* by file name */
	uint32_t n_peers;
	/* peers as given, for a command that connects as this node (hw_client_security
	 * peers), over continued lines too */
	char peer_files[HW_LIST_CHARS_MAX];
};

struct hw_config {
	char cluster_id[HW_ID_CHARS_MAX + 1];
	char node_id[HW_ID_CHARS_MAX + 1];
	enum hw_role role;
	char data_dir[HW_PATH_CHARS_MAX + 1];
	char listen[HW_ADDR_CHARS_MAX + 1];
	char client[HW_ADDR_CHARS_MAX + 1];
	char primary[HW_ADDR_CHARS_MAX + 1];
	/* standbys[0 .. n_standbys - 1] count for k of n; the vaults follow them at
	 * standbys[n_standbys .. n_standbys + n_vaults - 1] (peers that never count) */
	char standbys[HW_PEERS_MAX][HW_ID_CHARS_MAX + 1];
	uint32_t n_standbys;
	uint32_t n_vaults;
	/* The id of the node at primary, whose pinned key alone is followed ("" when
	 * node.primary gave none, or with [failover] until the voters elect one). */
	char primary_id[HW_ID_CHARS_MAX + 1];
	/* vault: the nodes node.primary lists, addresses and ids (sources[0] and
	 * source_ids[0] are also in primary and primary_id) */
	char sources[HW_VAULT_SOURCES_MAX][HW_ADDR_CHARS_MAX + 1];
	char source_ids[HW_VAULT_SOURCES_MAX][HW_ID_CHARS_MAX + 1];
	uint32_t n_sources;
	int64_t apply_delay_ms;
	enum hw_mode mode;
	uint32_t k;
	uint64_t checkpoint_records;    /* 0: no checkpoints by count */
	int64_t checkpoint_interval_ms; /* 0: none by time */
	uint32_t waiters_max;
	uint64_t window_records;
	int64_t heartbeat_ms;
	int64_t peer_timeout_ms;
	uint64_t log_keep_records; /* 0: keep the whole log (replica/store.h, retention) */
	struct hw_retention retention;
	struct hw_drill_config drills;
	struct hw_failover failover;
	struct hw_security security;
};

/* Fill *c with defaults, then read path over them and check the result. Returns 0, or
 * HW_ECONFIG with a one-line reason in err ("node.conf:7: unknown key 'lisen'"), or
 * -errno when the file cannot be read. */
int hw_config_load(const char *path, struct hw_config *c, char *err, size_t err_len);

/* Print to stderr why config path was refused (rc, with err as hw_config_load or a start
 * check after it wrote it: "PATH[:LINE]: REASON") in the form of every hawser command's
 * errors (base/log.h hw_log_error): "hawser CMD: PATH:LINE: configuration is invalid
 * (HW_ECONFIG): REASON", or "hawser CMD: PATH: Is a directory (EISDIR)". Any thread. */
void hw_config_perror(const char *path, int rc, const char *err);

/* Only the [retention] section of path (defaults for what it leaves out): a node's whole
 * config, or a file of that section alone, as on a backup host (hawser prune). The other
 * sections are not read; as hw_config_load otherwise. */
int hw_config_load_retention(const char *path, struct hw_retention *r, char *err, size_t err_len);

/* The channel settings of c for hw_ring_set_channel() (role left for it to set): loads
 * the secret key into *id (wipe it when done) and points out->pinned into c; records
 * sent to the ports are bounded by HW_PORT_FRAME_MAX (open_max). Refuses
 * (HW_ECONFIG, with a message naming what to add in err) a config with neither keys nor
 * insecure = true; HW_ECONFIG too for a key file that cannot be read or used, with why
 * (missing, no access: strerror) in err. */
int hw_config_channel(const struct hw_config *c, const char *path, struct hw_identity *id,
		      struct hw_channel_config *out, char *err, size_t err_len);

/* May the peer whose channel key is key (hw_conn_peer_key: NULL on a plaintext
 * connection) say it is node id? With keys, only if key is pinned under that name
 * (its file s1.pub, s1.new.pub ... for s1): one pinned set serves every port, and a
 * client's key must not pass for a standby, a voter or the witness. Without keys
 * (insecure), yes. */
bool hw_security_peer_is(const struct hw_security *s, const uint8_t *key, const char *id);

/* The least k a data node of c, as primary, makes a submit in mode received, durable or
 * applied wait for, whatever k the submit asks for (engine/core/repl.h
 * hw_repl_config.k_min): with [failover], hw_el_k_min of its voters (2 with 5 or 6), at
 * rpo 0 and at rpo t alike; 0 without [failover] and on a witness. Those modes promise
 * no loss (received: unless its standbys fail too), and the election keeps that promise
 * at rpo t as at rpo 0 only for a record on k_min standbys: every majority that can
 * elect without the old primary then holds one, which refuses (BEHIND) a candidate
 * lacking it, whatever the witness's looser RPO t gate grants (election.h "Votes"). At
 * rpo 0 hw_config_load refuses a durability.k below it; at rpo t the node raises k (a
 * config that loaded before still loads), and status and plan show it. */
uint32_t hw_config_k_min(const struct hw_config *c);

/* Defaults for every optional key. */
void hw_config_defaults(struct hw_config *c);

/* Defaults of [drills] alone (for the drill commands run without a config file). */
void hw_drill_config_defaults(struct hw_drill_config *d);

#endif
