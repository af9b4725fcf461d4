/* node_vault.c: what makes a standby a vault replica (node_int.h).
 *
 * A vault follows like a standby (node_standby.c): it connects out, checks the chain,
 * makes every entry durable in its log on arrival and acknowledges it. Three things
 * differ. The entries wait in memory (and, durably, in the log) until they have been here
 * apply_delay, by this host's monotonic clock, before the writer applies them to the
 * state tables, so a destructive change can be stopped before it lands there: the
 * operator stops the vault and restores from its directory to a point before
 * (docs/operations.md). Not by their commit time: that is the primary's clock, which an
 * attacker holding the primary's site sets back to skip the delay, or forward to jam it. Nothing
 * that would rewrite its log is obeyed: a snapshot over a store that holds entries and a rejoin are
 * refused with HW_EVAULT and logged (vault_refused). And it tries the addresses in cfg.sources in
 * turn, so it finds the primary after a failover without being a voter. */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "engine/node_int.h"
#include "replica/entry.h"

/* One frame's entries, waiting for the delay. */
struct hw_held {
	struct hw_held *next;
	uint32_t count;
	int64_t arrived_ms; /* hw_mono_ms() when it came (at start-up: when the vault started) */
	uint64_t last_lsn;
	size_t len;
	uint8_t data[];
};

int hw__vault_hold(struct hw_node *n, const uint8_t *entries, size_t len, uint32_t count,
		   uint64_t last_lsn)
{
	if (n->block.lsn != 0 && last_lsn >= n->block.lsn) /* kept in the log, never applied */
		return 0;
	struct hw_held *h = malloc(sizeof *h + len);
	if (h == NULL)
		return HW_ENOMEM;
	*h = (struct hw_held){
		.count = count, .arrived_ms = hw_mono_ms(), .last_lsn = last_lsn, .len = len};
	memcpy(h->data, entries, len);
	if (n->held_tail != NULL)
		n->held_tail->next = h;
	else
		n->held_head = h;
	n->held_tail = h;
	n->held_bytes += len;
	return 0;
}

bool hw__vault_room(const struct hw_node *n)
{
	return n->held_bytes + HW_BATCH_BYTES_MAX <= HW_VAULT_HELD_BYTES_MAX;
}

uint64_t hw__vault_held_lsn(const struct hw_node *n)
{
	return n->held_tail != NULL ? n->held_tail->last_lsn : 0;
}

int hw__vault_hold_young(struct hw_node *n, const uint8_t *e, size_t len)
{
	struct hw_entry d;
	if (n->cfg.role != HW_ROLE_VAULT || n->cfg.apply_delay_ms == 0)
		return 0;
	if (hw_entry_decode(e, len, &d) != 0)
		return HW_ECORRUPT;
	/* When it came before the restart is not known: a full delay from now */
	int rc = hw__vault_hold(n, e, len, 1, d.lsn);
	return rc != 0 ? rc : 1;
}

void hw__vault_release(struct hw_node *n)
{
	if (n->writer == NULL || n->failed)
		return;
	int64_t ripe = hw_mono_ms() - n->cfg.apply_delay_ms;
	struct hw_job *j = hw_writer_filling(n->writer);
	bool added = false;
	while (n->held_head != NULL && n->held_head->arrived_ms <= ripe) {
		struct hw_held *h = n->held_head;
		if (j->n + h->count > HW_BATCH_RECORDS_MAX || !hw_job_fits(j, h->len))
			break;
		for (size_t off = 0; off < h->len; off += hw_entry_len(h->data + off))
			hw_job_add(j, h->data + off, hw_entry_len(h->data + off));
		n->held_head = h->next;
		if (n->held_head == NULL)
			n->held_tail = NULL;
		n->held_bytes -= h->len;
		free(h);
		added = true;
	}
	if (added && hw_writer_idle(n->writer))
		hw_writer_kick(n->writer);
	if (added && n->primary_conn != NULL)
		hw_conn_resume(n->primary_conn); /* room to hold again */
}

void hw__vault_next_source(struct hw_node *n)
{
	if (n->cfg.n_sources < 2)
		return;
	n->source = (n->source + 1) % n->cfg.n_sources;
	memcpy(n->cfg.primary, n->cfg.sources[n->source], sizeof n->cfg.primary);
	memcpy(n->cfg.primary_id, n->cfg.source_ids[n->source], sizeof n->cfg.primary_id);
}

void hw__vault_say_refused(struct hw_node *n, const char *what)
{
	hw_log("vault_refused", "code=%s primary=%s our_lsn=%llu what=\"%s\" repeated=%u",
	       hw_errname(HW_EVAULT), n->cfg.primary, (unsigned long long)hw_wal_last(n->wal)->lsn,
	       what, n->refusal_repeats);
}

int hw__vault_refuse(struct hw_node *n, const char *what)
{
	n->refused_code = HW_EVAULT;
	hw__node_refused(n, HW_EVAULT, what);
	n->refusal_quiet = !hw__repeat_say(&n->refusal, HW_EVAULT, &n->refusal_repeats);
	if (!n->refusal_quiet)
		hw__vault_say_refused(n, what);
	return HW_EVAULT;
}

void hw__vault_stop(struct hw_node *n)
{
	while (n->held_head != NULL) {
		struct hw_held *h = n->held_head;
		n->held_head = h->next;
		free(h);
	}
	n->held_tail = NULL;
	n->held_bytes = 0;
}
