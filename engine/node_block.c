/* node_block.c: the apply of a standby or vault stopped at an entry its store refuses.
 *
 * An entry can pass every check a follower makes on arrival (its hash, its LSN, its link
 * to the entry before) and still be one the store refuses: a record that is no protobuf,
 * a record_id used before with other bytes. A primary never makes such an entry, but a
 * primary with a replaced binary (the ransomware a vault exists for) can. It is no
 * storage failure: the disk is fine, and the log holds the entry as it came. So the
 * store takes the entries before it (the append cuts the job there), and the
 * apply stops at it for good: it and every later entry stay in the log only. A vault goes
 * on pulling and storing what follows, so the genuine entries after a poisoned one are
 * not lost to it; a standby, whose state can no longer be its primary's, stops following
 * and may not lead (hw__election_progress reports it stale). Either keeps answering
 * status, which shows the block (docs/operations.md "Reading status: what stops a node").
 *
 * The block is kept in the store's meta (node.apply_blocked: docs/formats.md), with the
 * refused entry's hash, so a restart comes back to it: the recovery applies the log up
 * to it and stops there (node.c). A block the log does not hold at that LSN (a store
 * copied from a blocked node's, under a log of its own) is dropped.
 *
 * Logs: apply_blocked (at the block, at every start, and again every HW_BLOCKED_LOG_MS),
 * apply_block_dropped. */
#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/clock.h"
#include "base/log.h"
#include "engine/node_int.h"
#include "replica/entry.h"

/* meta key and layout: version 1 | lsn (8) | hash (32) | code (4) | field | rule,
 * little-endian; lsn 0: no block (one dropped). */
#define BLOCK_KEY        "node.apply_blocked"
#define BLOCK_FIELD_AT   (1u + 8u + HW_HASH_BYTES + 4u)
#define BLOCK_FIELD_SIZE sizeof(((struct hw_reject *)0)->field)
#define BLOCK_RULE_SIZE  sizeof(((struct hw_reject *)0)->rule)
#define BLOCK_BYTES      (BLOCK_FIELD_AT + BLOCK_FIELD_SIZE + BLOCK_RULE_SIZE)
_Static_assert(BLOCK_BYTES <= HW_STORE_META_VAL_MAX, "a block fits a meta value");

bool hw__block_follows(const struct hw_node *n)
{
	return n->cfg.role != HW_ROLE_PRIMARY || n->cfg.failover.on;
}

static int block_save(struct hw_node *n)
{
	const struct hw_block *b = &n->block;
	uint8_t v[BLOCK_BYTES] = {1};
	hw_put_u64(v + 1, b->lsn);
	memcpy(v + 9, b->hash, HW_HASH_BYTES);
	hw_put_u32(v + 9 + HW_HASH_BYTES, (uint32_t)b->rej.code);
	memcpy(v + BLOCK_FIELD_AT, b->rej.field, BLOCK_FIELD_SIZE);
	memcpy(v + BLOCK_FIELD_AT + BLOCK_FIELD_SIZE, b->rej.rule, BLOCK_RULE_SIZE);
	return hw_store_meta_put(n->store, BLOCK_KEY, v, sizeof v);
}

static void block_log(struct hw_node *n)
{
	const struct hw_block *b = &n->block;
	const char *what =
		n->cfg.role == HW_ROLE_VAULT
			? "the store refuses this entry: the entries before it are applied, it and "
			  "every later one are kept in the log and not applied; the vault goes on "
			  "pulling (docs/operations.md \"Vault replica\")"
			: "the store refuses this entry: the entries before it are applied, it and "
			  "every later one are not; this standby follows no more and may not lead "
			  "(docs/operations.md \"Reading status: what stops a node\")";
	hw_log("apply_blocked", "lsn=%llu code=%s field=%s rule=\"%s\" stored_lsn=%llu what=\"%s\"",
	       (unsigned long long)b->lsn, hw_errname(b->rej.code), b->rej.field, b->rej.rule,
	       (unsigned long long)hw_wal_last(n->wal)->lsn, what);
	n->block.logged_ms = hw_mono_ms();
}

int hw__block_set(struct hw_node *n, const uint8_t *entry, size_t len, const struct hw_reject *rej)
{
	struct hw_entry e;
	int prc = hw_entry_parse(entry, len, &e);
	HW_ASSERT(prc == 0); /* checked on arrival, or by the log that replayed it */
	n->block = (struct hw_block){.lsn = e.lsn, .rej = *rej};
	memcpy(n->block.hash, e.hash, HW_HASH_BYTES);
	block_log(n);
	return block_save(n);
}

int hw__block_load(struct hw_node *n)
{
	uint8_t v[BLOCK_BYTES];
	size_t len = 0;
	n->block = (struct hw_block){0};
	int rc = hw__block_follows(n) ? hw_store_meta_get(n->store, BLOCK_KEY, v, sizeof v, &len)
				      : HW_ENOTFOUND;
	if (rc != 0)
		return rc == HW_ENOTFOUND ? 0 : rc;
	if (len != BLOCK_BYTES || v[0] != 1)
		return HW_EFORMAT;
	struct hw_block *b = &n->block;
	b->lsn = hw_get_u64(v + 1);
	memcpy(b->hash, v + 9, HW_HASH_BYTES);
	b->rej.code = (int)hw_get_u32(v + 9 + HW_HASH_BYTES);
	memcpy(b->rej.field, v + BLOCK_FIELD_AT, BLOCK_FIELD_SIZE);
	memcpy(b->rej.rule, v + BLOCK_FIELD_AT + BLOCK_FIELD_SIZE, BLOCK_RULE_SIZE);
	b->rej.field[BLOCK_FIELD_SIZE - 1] = '\0';
	b->rej.rule[BLOCK_RULE_SIZE - 1] = '\0';
	return 0;
}

bool hw__block_at(struct hw_node *n, const uint8_t *entry, size_t len)
{
	struct hw_entry e;
	if (n->block.lsn == 0 || hw_entry_parse(entry, len, &e) != 0 || e.lsn != n->block.lsn ||
	    memcmp(e.hash, n->block.hash, HW_HASH_BYTES) != 0)
		return false;
	block_log(n);
	return true;
}

int hw__block_drop(struct hw_node *n)
{
	if (n->block.lsn == 0)
		return 0;
	hw_log("apply_block_dropped", "lsn=%llu code=%s what=\"%s\"",
	       (unsigned long long)n->block.lsn, hw_errname(n->block.rej.code),
	       "the log does not hold the refused entry there: a block of another log (a "
	       "store copied from a blocked node's?); applying as usual");
	n->block = (struct hw_block){0};
	return block_save(n);
}

void hw__block_tick(struct hw_node *n)
{
	if (n->block.lsn != 0 && hw_mono_ms() - n->block.logged_ms >= HW_BLOCKED_LOG_MS)
		block_log(n);
}
