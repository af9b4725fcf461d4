/* node_audit.c: the primary's own records (replica/checkpoint.h): a signed checkpoint
 * every checkpoint_records entries or checkpoint_interval, and node events (the audit
 * trail: start, promotion, switchover ...). Both are queued like an embedding process's
 * submits with system set, so they take the ordinary path: an LSN, the hash chain, the
 * standbys, backups.
 *
 * A checkpoint needs the full state digest (every state table, ~15 ms per 100,000
 * rows: docs/benchmarks.md), too long for the loop thread, so a thread of its own makes
 * it in a read transaction of the store (which never blocks the writer) and queues the
 * record; the tick joins it. One at a time.
 *
 * Both need a node with a key ([security] key): an insecure node (a lab, a test) keeps
 * its log to the TOS's records and only logs its events.
 *
 * Logs: checkpoint (lsn), checkpoint_failed, audit_failed, audit_local (an event on a
 * node that is not primary, or insecure: not appended). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/log.h"
#include "engine/io/channel.h"
#include "engine/node_int.h"

static void checkpoint_cb(void *arg, const struct hw_outcome *o)
{
	(void)arg;
	if (o->code != 0)
		hw_log("checkpoint_failed", "code=%s", hw_errname(o->code));
	else
		hw_log("checkpoint", "lsn=%" PRIu64, o->lsn);
}

static void event_cb(void *arg, const struct hw_outcome *o)
{
	(void)arg;
	if (o->code != 0)
		hw_log("audit_failed", "code=%s", hw_errname(o->code));
}

/* Mode local: an audit record must not wait for, or hold back, a standby. */
static int queue_system(struct hw_node *n, const uint8_t *rec, size_t len, hw_submit_cb *cb)
{
	return hw__node_enqueue(n, 0, rec, len, HW_LOCAL, 0, true, cb, n);
}

static void *checkpoint_main(void *arg)
{
	struct hw_node *n = arg;
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len = 0;
	n->cp_rc = hw_checkpoint_make(n->store, &n->signer, hw_wall_ms(), buf, sizeof buf, &len,
				      &n->cp_covers);
	if (n->cp_rc == 0)
		n->cp_rc = queue_system(n, buf, len, checkpoint_cb);
	atomic_store(&n->cp_done, true);
	return NULL;
}

static void reap(struct hw_node *n)
{
	pthread_join(n->cp_thread, NULL);
	n->cp_running = false;
	atomic_store(&n->cp_done, false);
	if (n->cp_rc != 0) {
		hw_log("checkpoint_failed", "code=%s covers=%" PRIu64, hw_errname(n->cp_rc),
		       n->committed_lsn);
		n->cp_covers = n->committed_lsn; /* skip this one rather than retry at once */
	} else {
		n->checkpoints++;
	}
	n->cp_lsn = n->cp_covers;
}

void hw__audit_tick(struct hw_node *n)
{
	if (n->cp_running && atomic_load(&n->cp_done))
		reap(n);
	if (n->cp_running || !n->can_sign || n->cfg.role != HW_ROLE_PRIMARY || n->failed)
		return;
	int64_t now = hw__node_now(n);
	if (n->cp_at_ms == 0)
		n->cp_at_ms = now; /* the interval runs from the start */
	/* The last checkpoint's own entry is not news: more than one entry since, or none. */
	uint64_t since = n->committed_lsn > n->cp_lsn ? n->committed_lsn - n->cp_lsn : 0;
	bool by_count = n->cfg.checkpoint_records != 0 && since >= n->cfg.checkpoint_records;
	bool by_time = n->cfg.checkpoint_interval_ms != 0 && since > 1 &&
		       now - n->cp_at_ms >= n->cfg.checkpoint_interval_ms;
	if (!by_count && !by_time)
		return;
	n->cp_at_ms = now;
	if (pthread_create(&n->cp_thread, NULL, checkpoint_main, n) != 0) {
		hw_log("checkpoint_failed", "code=%s what=\"no thread\"", hw_errname(HW_ENOMEM));
		n->cp_lsn = n->committed_lsn;
		return;
	}
	n->cp_running = true;
}

void hw__audit_stop(struct hw_node *n)
{
	if (n->cp_running)
		reap(n);
}

void hw__audit_event(struct hw_node *n, Tos__V1__NodeEventKind kind, const char *peer,
		     const char *detail)
{
	char sha[2 * HW_HASH_BYTES + 1];
	Tos__V1__NodeEvent ev = TOS__V1__NODE_EVENT__INIT;
	ev.kind = kind;
	ev.node_id = n->cfg.node_id;
	ev.epoch = n->epoch;
	ev.peer_addr = (char *)(peer != NULL ? peer : "");
	ev.detail = (char *)(detail != NULL ? detail : "");
	/* the configuration a node runs as primary with: at its start and when elected */
	if (kind == TOS__V1__NODE_EVENT_KIND__NODE_START ||
	    kind == TOS__V1__NODE_EVENT_KIND__PROMOTION)
		ev.config_sha = (ProtobufCBinaryData){HW_HASH_BYTES, n->config_sha};
	sodium_bin2hex(sha, sizeof sha, n->config_sha, HW_HASH_BYTES);
	if (n->cfg.role != HW_ROLE_PRIMARY || !n->can_sign) {
		hw_log("audit_local", "kind=%s epoch=%" PRIu64 " config_sha=%.16s detail=\"%s\"",
		       hw_node_event_name(kind), n->epoch, sha, ev.detail);
		return;
	}
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len;
	struct hw_reject rej;
	int rc = hw_node_event_encode(&ev, hw_wall_ms(), buf, sizeof buf, &len, &rej);
	if (rc == 0)
		rc = queue_system(n, buf, len, event_cb);
	if (rc != 0)
		hw_log("audit_failed", "kind=%s code=%s field=%s", hw_node_event_name(kind),
		       hw_errname(rc), rej.field);
}

/* Hash of the config file as read at start: the NODE_START event names the exact
 * configuration a node ran with. A file that cannot be read hashes as empty. */
static void hash_config(const char *path, uint8_t out[HW_HASH_BYTES])
{
	crypto_generichash_state st;
	uint8_t buf[4096];
	crypto_generichash_init(&st, NULL, 0, HW_HASH_BYTES);
	FILE *f = fopen(path, "rb");
	size_t got;
	while (f != NULL && (got = fread(buf, 1, sizeof buf, f)) > 0)
		crypto_generichash_update(&st, buf, got);
	if (f != NULL)
		fclose(f);
	crypto_generichash_final(&st, out, HW_HASH_BYTES);
}

void hw__audit_open(struct hw_node *n, const char *config_path, const struct hw_identity *id)
{
	hash_config(config_path, n->config_sha);
	if (id == NULL)
		return; /* insecure: no key, no checkpoints */
	size_t idlen = strlen(n->cfg.node_id);
	HW_ASSERT(idlen >= 1 && idlen <= HW_SIGNER_ID_MAX);
	memcpy(n->signer.node_id, n->cfg.node_id, idlen + 1);
	memcpy(n->signer.pk, id->sign_pk, HW_SIGN_PK_BYTES);
	memcpy(n->signer.sk, id->sign_sk, HW_SIGN_SK_BYTES);
	n->can_sign = true;
}
