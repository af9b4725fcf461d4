/* config_int.h: the parse of a node's config file, shared by engine/config.c (its lines
 * and keys read into struct hw_config) and engine/config_check.c (the checks after the
 * whole file is read, across keys and sections). For those two files only: config.h is
 * the module's interface. A parse is its caller's alone, on any thread. */
#ifndef HW_ENGINE_CONFIG_INT_H
#define HW_ENGINE_CONFIG_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/config.h"

/* The longest config line: inih's own buffer holds 198 characters (INI_MAX_LINE in the
 * Debian build), so a longer line is read whole by config.c (long_line()) and its value
 * handed over beside inih. Room for a key and the longest path (HW_PATH_CHARS_MAX) or a
 * whole list (HW_LIST_CHARS_MAX) on one line, with a comment. */
#define LINE_CHARS_MAX 2048
_Static_assert(LINE_CHARS_MAX >= HW_LIST_CHARS_MAX + 256 &&
		       LINE_CHARS_MAX >= HW_PATH_CHARS_MAX + 256,
	       "a key with the longest value fits a line");

struct parse {
	const char *path;
	struct hw_config *c;
	FILE *f;
	int line;            /* real line number of the line being parsed */
	bool continued;      /* the line is indented: it continues the key above (inih) */
	bool after_key;      /* a key line came since the last section header */
	bool retention_only; /* hw_config_load_retention: the other sections go unread */
	/* The list key last given (standbys, vaults, primary, voters, peers) and its text so
	 * far, which indented lines continue: lists longer than a line. */
	char list_key[80];
	char list[HW_LIST_CHARS_MAX];
	/* A line longer than inih's buffer (long_line()): read whole, and its value, which
	 * the handler takes when long_pending. */
	char long_line[LINE_CHARS_MAX + 2];
	char long_value[LINE_CHARS_MAX + 2];
	bool long_pending;
	char *err;
	size_t err_len;
	bool failed;
	/* Keys seen, for "given twice" and for the checks after the parse. */
	unsigned seen;
	unsigned seen_drills;    /* [drills], by enum drill_key */
	unsigned seen_retention; /* [retention], by index in retention_keys */
	unsigned seen_security;  /* [security], by index in security_keys */
	char vaults[HW_PEERS_MAX][HW_ID_CHARS_MAX + 1]; /* cluster.vaults, until check_vaults */
	uint32_t n_vaults;
	int k_line;
	int mode_line;
	int timeout_line;
	int heartbeat_line;
	int rto_line;
};

enum seen_bit {
	SEEN_CLUSTER_ID = 1u << 0,
	SEEN_STANDBYS = 1u << 1,
	SEEN_NODE_ID = 1u << 2,
	SEEN_ROLE = 1u << 3,
	SEEN_DATA_DIR = 1u << 4,
	SEEN_LISTEN = 1u << 5,
	SEEN_CLIENT = 1u << 6,
	SEEN_PRIMARY = 1u << 7,
	SEEN_MODE = 1u << 8,
	SEEN_K = 1u << 9,
	SEEN_WAITERS = 1u << 10,
	SEEN_WINDOW = 1u << 11,
	SEEN_HEARTBEAT = 1u << 12,
	SEEN_TIMEOUT = 1u << 13,
	SEEN_LOG_KEEP = 1u << 14,
	SEEN_VOTERS = 1u << 15,
	SEEN_WITNESS = 1u << 16,
	SEEN_WITNESS_ID = 1u << 17,
	SEEN_RTO = 1u << 18,
	SEEN_RPO = 1u << 19,
	SEEN_VAULTS = 1u << 20,
	SEEN_APPLY_DELAY = 1u << 21,
	SEEN_CHECKPOINT_RECORDS = 1u << 22,
	SEEN_CHECKPOINT_INTERVAL = 1u << 23,
	SEEN_HB_P99 = 1u << 24,
	SEEN_HB_SPREAD = 1u << 25,
	SEEN_RPO_ACTION = 1u << 26,
};

/* Record the first error as "<path>:<line>: <message>" (line 0: no line); later ones
 * are dropped because the parse stops at the first. Returns 0 for inih's handler.
 * Static, in this header: config.c and config_check.c each have a copy, and so short a
 * name stays local to them. */
__attribute__((format(printf, 3, 4))) static inline int fail(struct parse *p, int line,
							     const char *fmt, ...)
{
	if (p->failed)
		return 0;
	p->failed = true;
	int n = line > 0 ? snprintf(p->err, p->err_len, "%s:%d: ", p->path, line)
			 : snprintf(p->err, p->err_len, "%s: ", p->path);
	if (n < 0 || (size_t)n >= p->err_len)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

/* The checks after the parse (engine/config_check.c), on p->c as read and the keys seen:
 * what each role needs, k of n, [failover], vaults and [security]; they also fill what
 * the config derives (the witness's voter id and this node's, a failover node's standbys,
 * the vaults after the standbys). Returns 1 when the config holds, else 0 with the first
 * error recorded (fail). Not for hw_config_load_retention's parse. */
int hw__config_check(struct parse *p);

#endif
