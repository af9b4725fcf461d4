/* config.h: a node's configuration, read from an INI file (libinih).
 *
 *   [cluster]
 *   id = yard-ha              ; every node and client of one cluster shares it
 *   standbys = s1, s2         ; primary: the standbys it expects (n for "k of n")
 *
 *   [node]
 *   id = p1
 *   role = primary            ; primary | standby
 *   data_dir = /var/lib/hawser/p1
 *   listen = 127.0.0.1:7001   ; replication port (the primary listens, standbys connect)
 *   client = 127.0.0.1:7101   ; client port: HOST:PORT or unix:/path
 *   primary = 127.0.0.1:7001  ; standby: where the primary listens
 *
 *   [durability]
 *   mode = durable            ; local | received | durable | applied
 *   k = 1                     ; standbys that must meet the mode
 *
 *   [limits]                  ; each has a default; see hawser_limits.h for why
 *   waiters_max = 65536       ; submits waiting at once (back-pressure beyond)
 *   window_records = 65536    ; entries in flight to one standby
 *   heartbeat_ms = 100
 *   peer_timeout_ms = 5000
 *   log_keep_records = 0      ; log entries a node keeps (0: all); older ones are pruned
 *                             ; and a standby behind them is sent a snapshot
 *
 * Unknown sections or keys, missing required keys and bad values are errors that name
 * the file, line and key: a typo must not silently become a default. */
#ifndef HW_ENGINE_CONFIG_H
#define HW_ENGINE_CONFIG_H

#include <stdint.h>

#include "engine/core/repl.h"

#define HW_ID_CHARS_MAX 32
#define HW_ADDR_CHARS_MAX 128
#define HW_PATH_CHARS_MAX 512

enum hw_role { HW_ROLE_PRIMARY = 1, HW_ROLE_STANDBY = 2 };

struct hw_config {
	char cluster_id[HW_ID_CHARS_MAX + 1];
	char node_id[HW_ID_CHARS_MAX + 1];
	enum hw_role role;
	char data_dir[HW_PATH_CHARS_MAX + 1];
	char listen[HW_ADDR_CHARS_MAX + 1];
	char client[HW_ADDR_CHARS_MAX + 1];
	char primary[HW_ADDR_CHARS_MAX + 1];
	char standbys[HW_PEERS_MAX][HW_ID_CHARS_MAX + 1];
	uint32_t n_standbys;
	enum hw_mode mode;
	uint32_t k;
	uint32_t waiters_max;
	uint64_t window_records;
	int64_t heartbeat_ms;
	int64_t peer_timeout_ms;
	uint64_t log_keep_records; /* 0: keep the whole log (replica/store.h, retention) */
};

/* Fill *c with defaults, then read path over them and check the result. Returns 0, or
 * HW_ECONFIG with a one-line reason in err ("node.conf:7: unknown key 'lisen'"), or
 * -errno when the file cannot be read. */
int hw_config_load(const char *path, struct hw_config *c, char *err, size_t err_len);

/* Defaults for every optional key. */
void hw_config_defaults(struct hw_config *c);

#endif
