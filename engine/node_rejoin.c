/* node_rejoin.c: an old primary comes back with entries the new primary never got (it
 * took them while cut off, in local mode, and acknowledged none of them under RPO 0: see
 * docs/failover.md "Rejoin"). The new primary answers its hello with the epochs of its
 * log (REJOIN) and refuses it (HW_EDIVERGED); this node then finds the last entry both
 * logs hold (replica/rejoin.h), moves its own later entries into the quarantine table,
 * rebuilds its state up to that entry (hw_store_rewind) and follows again. A node whose
 * log was pruned cannot rebuild its state from it: the rewind quarantines the same
 * entries (all it still holds, when the logs part before its base), marks the store
 * stale, and the node's hello then asks the primary for a snapshot (node_snapshot.c),
 * whose install keeps the quarantine rows.
 *
 * A node whose log ends before the primary's base (the primary pruned past it) would get
 * a snapshot at once, replacing a divergent suffix unseen. Its hello names the epoch of
 * its last entry, and the primary judges that entry by its epoch map, which reaches back
 * past its base (the epochs its pruning kept, replica/epochs.h): unless the entry is
 * shown to be the primary's own, it offers the rejoin as above, and the node finds the
 * common point from the map alone. Where the map does not reach back far enough, the node
 * sets aside every entry after the last one shown shared (HW_REJOIN_UNPROVEN) rather than
 * guess.
 *
 * The rewind runs from the reconnect timer, never inside the connection's callbacks: the
 * writer and the log stop first (the writer applies what it took, so the store holds the
 * whole log), the store is flushed and the log emptied, the store rewinds, the log
 * restarts at the new head, and the store, log and writer reopen as after a snapshot. A node that
 * finds nothing to cut (the logs part where the epochs agree: they should not) logs
 * needs_rejoin and dials on, refused, without trying the same offer again (rejoin_failed)
 * instead of looping.
 *
 * Without failover the same rewind serves a standby left longer than its restarted
 * primary's log (docs/failover.md "A static primary restarted"): the primary offers it
 * only then, naming its head and the hash there (Rejoin.last_hash), and the standby sets
 * its entries past that head aside only if its log holds that entry and the primary never
 * said it was durable past that head (static_keeps): a crash, which lost nothing it had
 * acknowledged, not a store put back to an older copy. What it heard is kept in its data
 * directory (hw__said_save) for a judgement after its own restart.
 *
 * Logs: rejoin_offered (primary), rejoin_planned, rejoined, needs_rejoin; without
 * failover ahead_planned, ahead_set_aside, ahead_kept. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "engine/node_int.h"
#include "replica/rejoin.h"
#include "wire.pb-c.h"

/* Send m (our log's epochs up to its_lsn) to the standby on s. */
static int send_map(struct hw_session *s, const struct hw_epoch_map *m)
{
	Hawser__Wire__V1__Rejoin r = HAWSER__WIRE__V1__REJOIN__INIT;
	r.epoch = s->node->epoch;
	r.base_lsn = m->base_lsn;
	r.last_lsn = m->last_lsn;
	r.n_epochs = r.n_first_lsns = m->n;
	r.epochs = (uint64_t *)m->epoch;
	r.first_lsns = (uint64_t *)m->first_lsn;
	if (m->hash_known)
		r.last_hash = (ProtobufCBinaryData){HW_HASH_BYTES, (uint8_t *)m->last_hash};
	return hw__node_send_msg(s->conn, HW_FRAME_REJOIN, &r);
}

/* Build our epoch map up to its_lsn into *m (malloc'd, the caller frees it). */
static int build_map(struct hw_node *n, uint64_t its_lsn, struct hw_epoch_map **m)
{
	*m = malloc(sizeof **m);
	return *m != NULL ? hw_epoch_map_build(n->store, its_lsn, *m) : HW_ENOMEM;
}

static void log_offered(uint64_t its_lsn, const struct hw_epoch_map *m, int rc)
{
	hw_log("rejoin_offered", "its_lsn=%llu epochs=%u epochs_from=%llu base=%llu code=%s",
	       (unsigned long long)its_lsn, m != NULL ? m->n : 0,
	       (unsigned long long)(m != NULL && m->n > 0 ? m->first_lsn[0] : 0),
	       (unsigned long long)(m != NULL ? m->base_lsn : 0), hw_errname(rc));
}

void hw__rejoin_offer(struct hw_session *s, uint64_t its_lsn)
{
	struct hw_epoch_map *m;
	int rc = build_map(s->node, its_lsn, &m);
	if (rc == 0)
		rc = send_map(s, m);
	log_offered(its_lsn, m, rc);
	free(m);
}

bool hw__rejoin_behind_base(struct hw_session *s, const struct Hawser__Wire__V1__Hello *h)
{
	struct hw_node *n = s->node;
	if (n->voters == NULL || h->last_lsn == 0 || h->last_epoch == 0)
		return false; /* no rejoin without failover; an older standby names no epoch */
	struct hw_epoch_map *m;
	int rc = build_map(n, h->last_lsn, &m);
	enum hw_epoch_verdict v =
		rc == 0 ? hw_epoch_map_judge(m, h->last_lsn, h->last_epoch) : HW_EPOCH_UNKNOWN;
	if (v == HW_EPOCH_SHARED) { /* a prefix of our log: the snapshot replaces it */
		free(m);
		return false;
	}
	hw_log("standby_diverged",
	       "peer=%s its_lsn=%llu its_epoch=%llu our_base=%llu code=%s reason=behind_base "
	       "verdict=%s",
	       h->node_id, (unsigned long long)h->last_lsn, (unsigned long long)h->last_epoch,
	       (unsigned long long)(m != NULL ? m->base_lsn : 0),
	       hw_errname(rc != 0 ? rc : HW_EDIVERGED),
	       v == HW_EPOCH_PARTED ? "parted" : "unknown");
	if (rc == 0)
		rc = send_map(s, m);
	log_offered(h->last_lsn, m, rc);
	free(m);
	hw__node_refuse(s->conn, rc != 0 ? rc : HW_EDIVERGED,
			rc != 0 ? "cannot offer a rejoin now; retry later"
				: "standby's log ends before the primary's base and its last entry "
				  "is not shown to be the primary's: rejoin first");
	return true;
}

int hw__rejoin_on_frame(struct hw_node *n, const struct hw_frame *f)
{
	Hawser__Wire__V1__Rejoin *r = hawser__wire__v1__rejoin__unpack(NULL, f->len, f->body);
	if (r == NULL)
		return HW_EFRAME;
	int rc = hw__election_primary_frame(n, r->epoch, false);
	if (rc == 0 && (r->n_epochs != r->n_first_lsns || r->n_epochs > HW_REJOIN_EPOCHS_MAX ||
			(r->last_hash.len != 0 && r->last_hash.len != HW_HASH_BYTES)))
		rc = HW_EPROTOCOL;
	if (rc == 0 && n->rejoin == NULL && (n->rejoin = malloc(sizeof *n->rejoin)) == NULL)
		rc = HW_ENOMEM;
	if (rc == 0) {
		struct hw_epoch_map *m = n->rejoin;
		m->base_lsn = r->base_lsn;
		m->last_lsn = r->last_lsn;
		m->n = (uint32_t)r->n_epochs;
		memcpy(m->epoch, r->epochs, m->n * sizeof m->epoch[0]);
		memcpy(m->first_lsn, r->first_lsns, m->n * sizeof m->first_lsn[0]);
		m->hash_known = r->last_hash.len == HW_HASH_BYTES;
		if (m->hash_known)
			memcpy(m->last_hash, r->last_hash.data, HW_HASH_BYTES);
	}
	hawser__wire__v1__rejoin__free_unpacked(r, NULL);
	return rc;
}

/* DIR/primary.said (docs/formats.md), one sector written in place and flushed, beside the
 * store, so that saving it never waits for the store's write lock or a commit: "HWSAID",
 * version 2, listening (1: saved while connected), then the lsn said and this node's log
 * head's LSN (8 bytes each, little-endian) and hash (32), and 8 bytes of BLAKE2b over the
 * first 56. A record is trusted only while the log still ends at that head: anything that
 * moved the head since may have been heard or acknowledged without it. */
#define SAID_BYTES   64u
#define SAID_CHECKED (SAID_BYTES - 8u)
#define SAID_VERSION 2u
static const uint8_t said_magic[6] = {'H', 'W', 'S', 'A', 'I', 'D'};
_Static_assert(24u + HW_HASH_BYTES == SAID_CHECKED, "primary.said's fields fill its sector");

/* Only a standby without failover judges a restarted primary's offer by itself. */
static bool said_kept(const struct hw_node *n)
{
	/* from the config, not n->voters: hw__said_drop runs before the election starts */
	return n->cfg.role == HW_ROLE_STANDBY && !n->cfg.failover.on;
}

static int said_path(const char *dir, char *path)
{
	int len = snprintf(path, PATH_MAX, "%s/%s", dir, HW_SAID_FILE);
	return len >= 0 && len < PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* v from the record in dir, if it is there and whole (else not known, and *why says why
 * when a record is there: "torn" or "version"). 0 or -errno. */
static int said_read(const char *dir, struct hw_said *v, const char **why)
{
	*v = (struct hw_said){0};
	char path[PATH_MAX];
	uint8_t b[SAID_BYTES];
	int rc = said_path(dir, path);
	int fd = rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0)
		return rc != 0 ? rc : errno == ENOENT ? 0 : -errno; /* none: not heard */
	ssize_t got = pread(fd, b, sizeof b, 0);
	rc = got < 0 ? -errno : 0;
	close(fd);
	*why = "torn";
	if (got < 7 || memcmp(b, said_magic, sizeof said_magic) != 0)
		return rc;
	*why = b[6] != SAID_VERSION ? "version" : "torn";
	if (got != (ssize_t)sizeof b || b[6] != SAID_VERSION || b[7] > 1)
		return rc;
	if (!hw_store_record_sealed(b, sizeof b))
		return 0;
	*v = (struct hw_said){.known = true,
			      .listening = b[7] == 1,
			      .lsn = hw_get_u64(b + 8),
			      .head_lsn = hw_get_u64(b + 16)};
	memcpy(v->head_hash, b + 24, HW_HASH_BYTES);
	*why = NULL;
	return 0;
}

/* Write v as the record in dir and flush it (and dir, when it made the file). 0 or
 * -errno. */
static int said_write(const char *dir, const struct hw_said *v)
{
	uint8_t b[SAID_BYTES];
	memcpy(b, said_magic, sizeof said_magic);
	b[6] = SAID_VERSION;
	b[7] = v->listening;
	hw_put_u64(b + 8, v->lsn);
	hw_put_u64(b + 16, v->head_lsn);
	memcpy(b + 24, v->head_hash, HW_HASH_BYTES);
	char path[PATH_MAX];
	int rc = said_path(dir, path);
	int fd = rc == 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
	bool made = rc == 0 && fd < 0 && errno == ENOENT;
	if (made)
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return rc != 0 ? rc : -errno;
	rc = hw_store_record_put(fd, b, sizeof b); /* never retried: the caller fails the node */
	close(fd);
	return rc == 0 && made ? hw_fs_sync(dir) : rc;
}

/* Whether v was saved at this node's log head (its LSN and hash). */
static bool said_at_head(const struct hw_node *n, const struct hw_said *v)
{
	const struct hw_head *h = hw_wal_last(n->wal);
	return v->head_lsn == h->lsn && memcmp(v->head_hash, h->hash, HW_HASH_BYTES) == 0;
}

/* The start's one line for a record that is there and not trusted (why), so that the
 * operator is not surprised by ahead_kept later. */
static void said_untrusted(const struct hw_node *n, const char *why)
{
	hw_log("primary_said_untrusted",
	       "why=%s said_lsn=%llu said_head=%llu our_lsn=%llu what=\"%s\"", why,
	       (unsigned long long)n->said.lsn, (unsigned long long)n->said.head_lsn,
	       (unsigned long long)hw_wal_last(n->wal)->lsn,
	       "DIR/" HW_SAID_FILE " is not trusted: a restarted primary's offer to set entries "
	       "aside is refused (ahead_kept) until a connection's end saves it anew");
}

int hw__said_load(struct hw_node *n)
{
	n->said = (struct hw_said){0};
	if (!said_kept(n))
		return 0;
	const char *why = NULL;
	int rc = said_read(n->cfg.data_dir, &n->said, &why);
	if (rc == 0 && n->said.known && why == NULL)
		why = n->said.listening            ? "listening"
		      : !said_at_head(n, &n->said) ? "head_moved"
						   : NULL;
	if (rc == 0 && n->said.known && why == NULL) {
		/* it heard all there was to hear before it stopped, and has followed no further */
		n->sb.primary_durable = n->said.lsn;
		n->sb.primary_heard = true;
	}
	if (rc == 0 && why != NULL && !n->said_told)
		said_untrusted(n, why);
	n->said_told = true; /* a rewind or an install moves the head: no news */
	return rc;
}

int hw__said_save(struct hw_node *n, bool listening)
{
	if (!said_kept(n) || n->store == NULL || n->wal == NULL ||
	    (!listening && !n->sb.primary_heard))
		return 0; /* it heard nothing: what is saved stays true */
	const struct hw_head *h = hw_wal_last(n->wal);
	struct hw_said v = {.known = true,
			    .listening = listening,
			    .lsn = n->sb.primary_durable,
			    .head_lsn = h->lsn};
	memcpy(v.head_hash, h->hash, HW_HASH_BYTES);
	if (n->said.known && n->said.listening == v.listening && n->said.lsn == v.lsn &&
	    said_at_head(n, &n->said))
		return 0;
	int rc = said_write(n->cfg.data_dir, &v);
	if (rc == 0)
		n->said = v;
	return rc;
}

int hw__said_drop(struct hw_node *n)
{
	char path[PATH_MAX];
	if (said_kept(n))
		return 0;
	int rc = said_path(n->cfg.data_dir, path);
	if (rc == 0 && unlink(path) != 0)
		rc = errno == ENOENT ? 1 : -errno;
	if (rc == 0)
		hw_log("primary_said_dropped", "what=\"%s\"",
		       "DIR/" HW_SAID_FILE " of a run as a static standby removed: this node keeps "
		       "none, and what it hears and writes now would not be in it");
	return rc == 0 ? hw_fs_sync(n->cfg.data_dir) : rc > 0 ? 0 : rc;
}

/* Without failover (hw__rejoin_planned): why this standby keeps its entries past the
 * restarted primary's head, or NULL when it may set them aside. Those entries were never
 * acknowledged if the primary crashed: every mode answers a submit only once the
 * primary's own log has it durable (engine/core/repl.c rule_holds), and a restart
 * recovers all its log made durable. Not so if its store was put back to an older copy
 * (a restore, a virtual machine rolled back): that primary had said it was durable past
 * the head it came back with, and this standby heard it say so (struct hw_standby). */
static const char *static_keeps(const struct hw_node *n, const struct hw_epoch_map *m)
{
	if (!m->hash_known)
		return "the primary names no hash at its head (a primary older than this node)";
	if (hw_wal_last(n->wal)->lsn <= m->last_lsn)
		return "this standby's log is not longer than the primary's";
	if (!n->sb.primary_heard)
		return "this standby does not know what the primary last said (DIR/" HW_SAID_FILE
		       " missing, torn, of another version, saved while it listened: killed while "
		       "connected, or at another log head: it followed in another mode, was "
		       "restored or copied, set entries aside, or a crash lost its log's unflushed "
		       "tail), so it cannot tell a crash from a store put back to an older copy";
	if (n->sb.primary_durable > m->last_lsn)
		return "the primary had said it was durable past the head it came back with: "
		       "its store was put back to an older copy, and entries kept here may have "
		       "been acknowledged";
	return NULL;
}

/* hw__rejoin_planned without failover: logs ahead_planned or (unless quiet) ahead_kept. */
static bool static_planned(struct hw_node *n, bool quiet)
{
	const struct hw_epoch_map *m = n->rejoin;
	const char *why = static_keeps(n, m);
	uint64_t ours = hw_wal_last(n->wal)->lsn;
	if (why != NULL && !quiet)
		hw_log("ahead_kept",
		       "primary=%s code=%s primary_lsn=%llu our_lsn=%llu primary_durable=%llu "
		       "what=\"%s; not following: an operator decides (docs/failover.md)\"",
		       n->cfg.primary, hw_errname(HW_EDIVERGED), (unsigned long long)m->last_lsn,
		       (unsigned long long)ours, (unsigned long long)n->sb.primary_durable, why);
	if (why == NULL)
		hw_log("ahead_planned",
		       "primary=%s primary_lsn=%llu our_lsn=%llu primary_durable=%llu entries=%llu",
		       n->cfg.primary, (unsigned long long)m->last_lsn, (unsigned long long)ours,
		       (unsigned long long)n->sb.primary_durable,
		       (unsigned long long)(ours - m->last_lsn));
	else
		hw__rejoin_stop(n); /* the reconnect timer runs no rewind */
	return why == NULL;
}

/* The same offer as a and b: the same log on the primary's side. */
static bool map_same(const struct hw_epoch_map *a, const struct hw_epoch_map *b)
{
	return a->base_lsn == b->base_lsn && a->last_lsn == b->last_lsn && a->n == b->n &&
	       a->hash_known == b->hash_known &&
	       (!a->hash_known || memcmp(a->last_hash, b->last_hash, HW_HASH_BYTES) == 0) &&
	       memcmp(a->epoch, b->epoch, a->n * sizeof a->epoch[0]) == 0 &&
	       memcmp(a->first_lsn, b->first_lsn, a->n * sizeof a->first_lsn[0]) == 0;
}

/* The rejoin could not be done (code): logged needs_rejoin (unless quiet), and status
 * says it. The node dials on (the primary refusing it, as one only an operator ends). */
static void needs_rejoin(struct hw_node *n, int code, uint64_t common, bool quiet)
{
	const char *what = "needs_rejoin: this standby's log differs from the primary's at or "
			   "below its head; not following: an operator decides";
	if (code != HW_EDIVERGED)
		what = "needs_rejoin: cannot read this standby's store to find where it parts from "
		       "the primary; not following: an operator decides";
	else if (n->voters != NULL)
		what = "needs_rejoin: cannot set the divergent suffix aside; not following";
	hw__node_refused(n, code, what);
	if (!quiet)
		hw_log("needs_rejoin", "primary=%s code=%s common_lsn=%llu what=\"%s\"",
		       n->cfg.primary, hw_errname(code), (unsigned long long)common,
		       what + sizeof "needs_rejoin: " - 1);
}

bool hw__rejoin_planned(struct hw_node *n, bool quiet)
{
	if (n->rejoin != NULL && n->rejoin_failed != NULL &&
	    map_same(n->rejoin, n->rejoin_failed)) {
		needs_rejoin(n, HW_EDIVERGED, 0, quiet); /* what the last try found: no rewind */
		hw__rejoin_stop(n);
		return false;
	}
	if (n->rejoin != NULL && n->voters == NULL && n->cfg.role == HW_ROLE_STANDBY)
		return static_planned(n, quiet);
	if (n->rejoin == NULL || n->voters == NULL)
		return false;
	const struct hw_epoch_map *m = n->rejoin;
	hw_log("rejoin_planned",
	       "primary=%s our_lsn=%llu primary_base=%llu epochs=%u epochs_from=%llu",
	       n->cfg.primary, (unsigned long long)hw_wal_last(n->wal)->lsn,
	       (unsigned long long)m->base_lsn, m->n,
	       (unsigned long long)(m->n > 0 ? m->first_lsn[0] : 0));
	return true;
}

/* The log in front still holds the suffix: restart it at the store's new head. */
static int wal_reset_to_store(struct hw_node *n)
{
	char dir[HW_PATH_CHARS_MAX + 8];
	snprintf(dir, sizeof dir, "%s/wal", n->cfg.data_dir);
	struct hw_head last, head;
	struct hw_wal *w;
	int rc = hw_wal_open(dir, &w, &last);
	if (rc != 0)
		return rc;
	hw_store_head(n->store, &head);
	rc = hw_wal_reset(w, &head);
	hw_wal_close(w);
	return rc;
}

/* What a quarantine row's why adds to "rejoin epoch=E primary=P": how the cut was found
 * and where the state comes from (docs/failover.md "Rejoin"). */
static const char *why_tail(enum hw_rejoin_how how, bool pruned, bool behind)
{
	if (how == HW_REJOIN_UNPROVEN)
		return "; parting older than the primary's epochs: all after the cut set aside";
	if (how == HW_REJOIN_BEFORE)
		return "; log pruned past the common point: state from a snapshot";
	if (behind)
		return "; behind the primary's log base: state from a snapshot";
	return pruned ? "; log pruned: state from a snapshot" : "";
}

/* Without failover the cut is the primary's head, where this log must hold the entry the
 * primary named (Rejoin.last_hash); else the logs differ at or below that head, and
 * nothing is set aside (HW_EDIVERGED). */
static int static_cut_checked(struct hw_node *n, uint64_t cut, enum hw_rejoin_how how)
{
	uint8_t h[HW_HASH_BYTES];
	if (how != HW_REJOIN_COMMON || cut != n->rejoin->last_lsn)
		return HW_EDIVERGED;
	int rc = hw_store_hash_at(n->store, cut, h);
	if (rc != 0)
		return rc == HW_ENOTFOUND ? HW_EDIVERGED : rc;
	return memcmp(h, n->rejoin->last_hash, HW_HASH_BYTES) == 0 ? 0 : HW_EDIVERGED;
}

/* The why of the quarantine rows a rewind makes (at most HW_REWIND_WHY_MAX). */
static void rewind_why(struct hw_node *n, char *why, size_t cap, enum hw_rejoin_how how,
		       bool pruned, uint64_t common)
{
	if (n->voters == NULL)
		snprintf(why, cap,
			 "primary %.80s restarted at lsn %llu, having said durable %llu: "
			 "never acknowledged",
			 n->cfg.primary, (unsigned long long)common,
			 (unsigned long long)n->sb.primary_durable);
	else
		snprintf(why, cap, "rejoin epoch=%llu primary=%.80s%s",
			 (unsigned long long)n->epoch, n->cfg.primary,
			 why_tail(how, pruned, common < n->rejoin->base_lsn));
}

/* Find the cut (hw_rejoin_cut: the common point, this node's log base when they part
 * before it, or the last entry shown shared) and rewind to it: *common gets the LSN the
 * log now ends at, *how how it was found.
 *
 * The log is emptied first, once the store holds and has flushed all it held: a crash
 * after the rewind must not find the suffix still in the log, where recovery would take
 * it back into the store (its first entry follows the common point). A crash before the
 * rewind leaves the node as it was, diverged, to rejoin again. A pruned log cannot
 * rebuild the state: the rewind marks the store stale and a snapshot replaces it. */
static int rewind_store(struct hw_node *n, uint64_t *common, uint64_t *moved,
			enum hw_rejoin_how *how, bool *wrote)
{
	struct hw_head h, b;
	hw_store_head(n->store, &h);
	int rc = hw_store_base(n->store, &b);
	if (rc == 0)
		rc = hw_rejoin_cut(n->store, n->rejoin, common, how);
	if (rc == 0 && n->voters == NULL)
		rc = static_cut_checked(n, *common, *how);
	/* parting before a wholly pruned log moves nothing, but its state is still not ours */
	if (rc != 0 || (*common >= h.lsn && *how == HW_REJOIN_COMMON))
		return rc != 0 ? rc : HW_EDIVERGED;
	*wrote = true; /* a failure from here on is of a flush or a write */
	rc = hw_store_sync(n->store);
	if (rc == 0)
		rc = wal_reset_to_store(n);
	if (rc != 0)
		return rc;
	char why[HW_REWIND_WHY_MAX + 1];
	rewind_why(n, why, sizeof why, *how, b.lsn > 0, *common);
	rc = hw_store_rewind(n->store, *common, hw_wall_ms(), why, moved);
	return rc == 0 ? wal_reset_to_store(n) : rc;
}

static const char *how_name(enum hw_rejoin_how how)
{
	return how == HW_REJOIN_BEFORE ? "base" : how == HW_REJOIN_UNPROVEN ? "unproven" : "common";
}

int hw__rejoin_run(struct hw_node *n)
{
	double t0 = hw_mono_s();
	int src = hw__node_writer_stop(n, "rejoin"); /* the store holds the whole log */
	if (src != 0)
		return src;
	hw_wal_close(n->wal);
	n->wal = NULL;
	uint64_t common = 0, moved = 0, primary_base = n->rejoin->base_lsn;
	enum hw_rejoin_how how = HW_REJOIN_COMMON;
	bool wrote = false;
	int rc = rewind_store(n, &common, &moved, &how, &wrote);
	/* a failed flush or write is final (STYLE.md 5); a failed read (HW_ECORRUPT,
	 * HW_ENOMEM) changed nothing: needs_rejoin with its code, as a divergence */
	if (rc != 0 && rc != HW_EDIVERGED && (wrote || hw_store_failure(n->store) != 0)) {
		hw__node_exit_failed(n, rc, "rejoin");
		return rc;
	}
	uint64_t said = n->sb.primary_durable; /* before the restart forgets it */
	free(n->rejoin_failed);
	n->rejoin_failed = rc != 0 ? n->rejoin : NULL; /* the same offer again: not tried */
	if (rc == 0)
		free(n->rejoin);
	n->rejoin = NULL;
	if (rc != 0)
		needs_rejoin(n, rc, common, false);
	/* The rewind held the loop (a whole replay of the log): a hello stamped with the
	 * time before it read as silent at the next tick, and the reconnect was dropped. */
	hw_loop_now_update(n->loop);
	/* Whether the rewind held or not, the store and its log reopen. */
	hw__digest_wait(n); /* its thread reads the store */
	hw_store_close(n->store);
	n->store = NULL;
	int orc = hw__node_open_store(n);
	if (orc == 0)
		orc = hw__standby_restart(n);
	if (orc != 0) {
		hw__node_storage_failed(n, orc, "rejoin");
		if (n->store == NULL || n->wal == NULL) /* nothing to run on: exit, restart */
			hw_loop_stop(n->loop);          /* from the disk, as an install does */
		return orc;
	}
	hw__election_progress(n);
	if (rc == 0 && n->voters == NULL)
		hw_log("ahead_set_aside",
		       "primary=%s primary_lsn=%llu set_aside=%llu primary_durable=%llu via=%s "
		       "seconds=%.3f what=\"%s\"",
		       n->cfg.primary, (unsigned long long)common, (unsigned long long)moved,
		       (unsigned long long)said, hw_store_stale(n->store) ? "snapshot" : "rewind",
		       hw_mono_s() - t0,
		       "entries past the restarted primary's head, which it never had durable: "
		       "no client was acknowledged for them; kept in quarantine");
	else if (rc == 0)
		hw_log("rejoined",
		       "common_lsn=%llu quarantined=%llu via=%s cut=%s primary_base=%llu "
		       "seconds=%.3f",
		       (unsigned long long)common, (unsigned long long)moved,
		       hw_store_stale(n->store) ? "snapshot" : "rewind", how_name(how),
		       (unsigned long long)primary_base, hw_mono_s() - t0);
	return rc;
}

void hw__rejoin_stop(struct hw_node *n)
{
	free(n->rejoin);
	n->rejoin = NULL;
}

void hw__rejoin_free(struct hw_node *n)
{
	hw__rejoin_stop(n);
	free(n->rejoin_failed);
	n->rejoin_failed = NULL;
}
