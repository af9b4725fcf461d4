/* node_digest.c: a node's state digest at an LSN, asked by `hawser drill verify
 * --connect` (wire.proto DigestQuery / DigestReply, docs/drills.md) so the digests of a
 * cluster spread over hosts can be compared at one LSN while every node keeps applying.
 *
 * The work runs on a thread of its own, never on the loop: a digest reads every state
 * table (~15 ms per 100,000 containers) and a replay rewrites the log into a scratch
 * store. Two ways, cheapest first:
 *   SNAPSHOT  the store's head and its digest in one read transaction
 *             (hw_store_digest_head): when the head is the asked LSN, the digest is the
 *             state at that LSN, whatever the writer commits meanwhile. Costs one digest.
 *   REPLAY    the log from entry 1 to the LSN, re-validated and applied into a scratch
 *             store next to data_dir (commits not flushed: nothing there is kept), then
 *             its digest; the scratch is removed. Costs about what `hawser verify`'s
 *             rebuild does for that many entries, and as much disk as the state then.
 *             Refused (HW_ERANGE) past the caller's replay_max or REPLAY_CEILING,
 *             impossible (HW_ENOTFOUND) when the log was pruned (it starts after a base),
 *             and refused (-ENOSPC, naming the scratch, the room needed and free) before
 *             anything is written when the scratch's file system has less room than the
 *             replay needs (hw_scratch_room) and HW_NODE_HEADROOM_BYTES more, which the
 *             node keeps for its own log and store; one that fills all the same part way
 *             (another process writing there) is -ENOSPC too, never a store error, and
 *             so is a scratch directory that cannot be made for want of room (no inode
 *             or quota left). Each answer names the scratch (DigestReply scratch,
 *             need_bytes, free_bytes).
 * The store commits lazily behind the node's write-ahead log (engine/io/writer.h): a
 * query for an LSN the node holds but its store has not committed yet (LSN 0: the node's
 * head) first asks the writer to commit it and starts the thread from the commit's
 * callback, so the loop never waits and the answer covers every acknowledged record.
 * One query at a time per node: another one meanwhile gets an ERROR HW_EBUSY.
 *
 * Logs: digest_answered (lsn, how, entries, code; why, in words, when code is not OK: lsn
 * is then the LSN asked, 0 for the head). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "engine/node_int.h"
#include "replica/backup.h"
#include "replica/snapshot.h"
#include "replica/verify.h"
#include "wire.pb-c.h"

/* Entries one answer may replay at most, whatever the caller allows: about two minutes
 * of replay (~90,000 entries/s, docs/drills.md) and a scratch store the size of the state. */
#define REPLAY_CEILING 10000000u

struct hw_digest {
	struct hw_node *node;
	struct hw_async *done; /* the thread's result is ready: answer on the loop */
	pthread_t thread;
	bool running;          /* query taken and not yet answered */
	bool waiting;          /* running, the thread not started: the store commits first */
	uint64_t cover;        /* waiting: the committed LSN it waits for */
	_Atomic bool finished; /* the thread wrote its answer: joining will not block */
	_Atomic bool cancel;   /* the node reopens its store: a replay stops at its next batch */
	uint32_t index, gen;   /* the session to answer */
	uint64_t lsn, replay_max;
	/* the answer, written by the thread before it sends done */
	int code;
	uint64_t got_lsn, entries;
	uint8_t digest[HW_HASH_BYTES];
	Hawser__Wire__V1__DigestHow how;
	char why[HW_PATH_CHARS_MAX + 160]; /* the path of a replay's scratch and words */
	/* code -ENOSPC: the replay's scratch directory, what it needed there and had (room
	 * short: refused before it started; else it filled part way) */
	char scratch[HW_PATH_CHARS_MAX + 32];
	struct hw_scratch_room room;
};

/* SNAPSHOT: 0 with the digest, 1 when the head is not lsn (lsn 0: any head); h gets the
 * head either way. */
static int snapshot(struct hw_digest *d, struct hw_store *s, struct hw_head *h)
{
	/* The head first (a cached copy): a digest at another head would be thrown away. */
	int rc = hw_store_head(s, h);
	if (rc == 0 && d->lsn != 0 && h->lsn != d->lsn)
		return 1;
	if (rc == 0)
		rc = hw_store_digest_head(s, h, d->digest);
	if (rc != 0)
		return rc;
	if (d->lsn != 0 && h->lsn != d->lsn)
		return 1;
	d->got_lsn = h->lsn;
	d->how = HAWSER__WIRE__V1__DIGEST_HOW__DIGEST_SNAPSHOT;
	return 0;
}

/* The replay's progress: it stops (HW_ECANCELED) once the node wants its store back. */
static int replay_progress(void *arg, uint64_t done, uint64_t total)
{
	struct hw_digest *d = arg;
	(void)done;
	(void)total;
	return atomic_load(&d->cancel) ? HW_ECANCELED : 0;
}

/* Whether the file system of the scratch directory dir (yet to be made, beside the data
 * directory) has room for a replay of src to lsn (hw_scratch_room) and the node's own
 * HW_NODE_HEADROOM_BYTES after it: -ENOSPC, why naming dir, the room needed and free,
 * before anything is written there. A replay that runs out of room part way has done all
 * the work up to there for nothing, and one that leaves the disk full stops the node. */
static int scratch_room(struct hw_digest *d, struct hw_store *src, uint64_t lsn, const char *dir)
{
	char why[HW_SCRATCH_WHY_CHARS];
	int rc = hw_scratch_room(src, lsn, dir, &d->room);
	if (rc != 0 && rc != -ENOSPC)
		return rc;
	d->room.need_bytes += HW_NODE_HEADROOM_BYTES;
	if (!hw_scratch_room_short(&d->room))
		return 0;
	snprintf(d->scratch, sizeof d->scratch, "%s", dir);
	snprintf(d->why, sizeof d->why,
		 "no room for the replay's scratch store %s and the node's own headroom "
		 "(%llu KiB): %s",
		 dir, HW_NODE_HEADROOM_BYTES / 1024,
		 hw_scratch_room_why(&d->room, why, sizeof why));
	return -ENOSPC;
}

/* The scratch directory of a replay, to be made by mkdtemp: "DATA_DIR.digest-XXXXXX". */
static void scratch_template(const struct hw_digest *d, char *dir, size_t cap)
{
	snprintf(dir, cap, "%s.digest-XXXXXX", d->node->cfg.data_dir);
}

/* mkdtemp of the replay's scratch directory failed with rc after scratch_room() passed:
 * for want of room there (hw_scratch_full), -ENOSPC naming the directory and the room,
 * asked again: a file system that filled since is scratch_room()'s refusal, else what it
 * lacks is an inode or quota, said so beside the bytes it needs and has. The store was
 * only read. Other codes as they are. */
static int scratch_unmade(struct hw_digest *d, struct hw_store *src, uint64_t lsn, int rc)
{
	char dir[sizeof d->scratch], why[HW_SCRATCH_WHY_CHARS];
	if (!hw_scratch_full(rc))
		return rc;
	scratch_template(d, dir, sizeof dir);
	if (scratch_room(d, src, lsn, dir) == -ENOSPC)
		return -ENOSPC;
	snprintf(d->scratch, sizeof d->scratch, "%s", dir);
	snprintf(d->why, sizeof d->why,
		 "no room to make the replay's scratch directory %s (%s: no inode or quota "
		 "left; %s)",
		 dir, hw_errname(rc), hw_scratch_room_why(&d->room, why, sizeof why));
	return -ENOSPC;
}

/* REPLAY, within the limits the header states. */
static int replay(struct hw_digest *d, struct hw_store *src, uint64_t lsn)
{
	uint64_t max = d->replay_max != 0 && d->replay_max < REPLAY_CEILING ? d->replay_max
									    : REPLAY_CEILING;
	struct hw_head base;
	int rc = hw_store_base(src, &base);
	if (rc != 0)
		return rc;
	if (base.lsn != 0) {
		snprintf(d->why, sizeof d->why,
			 "the log starts after LSN %" PRIu64 " (pruned): no replay from entry 1",
			 base.lsn);
		return HW_ENOTFOUND;
	}
	if (lsn > max) {
		snprintf(d->why, sizeof d->why,
			 "a replay of %" PRIu64 " entries passes the limit of %" PRIu64, lsn, max);
		return HW_ERANGE;
	}
	char dir[sizeof d->scratch];
	scratch_template(d, dir, sizeof dir);
	rc = scratch_room(d, src, lsn, dir);
	if (rc == 0 && mkdtemp(dir) == NULL)
		rc = scratch_unmade(d, src, lsn, -errno);
	if (rc != 0)
		return rc;
	rc = hw_store_digest_replayed(src, dir, lsn, replay_progress, d, d->digest);
	hw_snapshot_rm(dir);
	if (hw_scratch_full(rc)) {
		snprintf(d->scratch, sizeof d->scratch, "%s", dir);
		snprintf(d->why, sizeof d->why,
			 "the replay's scratch store ran out of room part way in %s (removed): "
			 "the store was only read",
			 dir);
		return -ENOSPC;
	}
	if (rc != 0)
		return rc;
	d->got_lsn = lsn;
	d->entries = lsn;
	d->how = HAWSER__WIRE__V1__DIGEST_HOW__DIGEST_REPLAY;
	return 0;
}

static void *digest_main(void *arg)
{
	struct hw_digest *d = arg;
	pthread_setname_np(pthread_self(), "hw-digest"); /* top -H, perf */
	struct hw_store *s = d->node->store;
	struct hw_head h;
	int rc = snapshot(d, s, &h);
	uint64_t lsn = d->lsn != 0 || rc != 1 ? d->lsn : h.lsn; /* h is set when rc is 1 */
	if (rc == 1 && lsn > h.lsn) {
		snprintf(d->why, sizeof d->why,
			 "LSN %" PRIu64 " is past this store's head %" PRIu64, lsn, h.lsn);
		rc = HW_ENOTFOUND;
	} else if (rc == 1) {
		rc = replay(d, s, lsn);
	}
	d->code = rc;
	if (rc != 0 && d->why[0] == '\0')
		snprintf(d->why, sizeof d->why, "%s", hw_strerror(rc));
	atomic_store(&d->finished, true);
	hw_async_send(d->done);
	return NULL;
}

/* The session that asked d's query, if it is still there. */
static struct hw_session *asker(const struct hw_digest *d)
{
	struct hw_session *s = d->node->sessions[d->index];
	return s != NULL && s->gen == d->gen ? s : NULL;
}

/* s's query is answered (or refused): read its next requests. */
static void answered(struct hw_session *s)
{
	s->digesting = false;
	hw__session_resume(s);
}

/* The query of d could not start: ERROR code to its session, which is closed when that
 * answer cannot be queued (the client must not wait on a live connection for nothing). */
static void refuse(struct hw_digest *d, int code)
{
	d->waiting = false;
	d->running = false;
	struct hw_session *s = asker(d);
	if (s == NULL)
		return;
	int rc = hw__node_send_error(s->conn, code, "cannot start the digest");
	if (rc != 0)
		hw_conn_close(s->conn, rc);
	else
		answered(s);
}

/* Join the thread and answer the session if it is still there. */
static void finish(struct hw_digest *d)
{
	pthread_join(d->thread, NULL);
	d->running = false;
	struct hw_node *n = d->node;
	if (d->code != 0) /* why in words too, and the LSN asked: as it answered the query */
		hw_log("digest_answered",
		       "lsn=%" PRIu64 " how=none entries=%" PRIu64 " code=%s why=\"%s\"", d->lsn,
		       d->entries, hw_errname(d->code), d->why);
	else
		hw_log("digest_answered", "lsn=%" PRIu64 " how=%s entries=%" PRIu64 " code=%s",
		       d->got_lsn,
		       d->how == HAWSER__WIRE__V1__DIGEST_HOW__DIGEST_REPLAY ? "replay"
									     : "snapshot",
		       d->entries, hw_errname(d->code));
	struct hw_session *s = asker(d);
	if (s == NULL)
		return;
	Hawser__Wire__V1__DigestReply r = HAWSER__WIRE__V1__DIGEST_REPLY__INIT;
	r.node_id = n->cfg.node_id;
	r.code = d->code;
	r.lsn = d->code == 0 ? d->got_lsn : d->lsn;
	r.how = d->code == 0 ? d->how : HAWSER__WIRE__V1__DIGEST_HOW__DIGEST_NONE;
	r.entries = d->entries;
	r.message = d->code == 0 ? "" : d->why;
	if (d->scratch[0] != '\0') { /* no room for the replay's scratch: where, and how much */
		r.scratch = d->scratch;
		r.need_bytes = d->room.need_bytes;
		r.free_bytes = d->room.free_bytes;
	}
	if (d->code == 0)
		r.digest = (ProtobufCBinaryData){.len = HW_HASH_BYTES, .data = d->digest};
	int rc = hw__node_send_msg(s->conn, HW_FRAME_DIGEST_REPLY, &r);
	if (rc != 0)
		hw_conn_close(s->conn, rc);
	else
		answered(s);
}

/* On the loop, when the thread is done (a wait may have answered already). */
static void done_cb(struct hw_async *a, void *arg)
{
	(void)a;
	struct hw_digest *d = arg;
	if (d->running && atomic_load(&d->finished)) /* not a send left over from a waited job */
		finish(d);
}

static int start_thread(struct hw_digest *d)
{
	atomic_store(&d->cancel, false);
	if (pthread_create(&d->thread, NULL, digest_main, d) != 0)
		return HW_ENOMEM;
	d->waiting = false;
	return 0;
}

/* The store's committed head and the last LSN this node holds (the writer's, in its log). */
static void heads(struct hw_node *n, uint64_t *committed, uint64_t *held)
{
	if (n->cfg.role == HW_ROLE_PRIMARY) {
		*committed = n->committed_lsn;
		*held = n->core.last_lsn;
	} else {
		*committed = n->vault_applied;
		/* a vault holds entries back by design, and a blocked apply never takes those
		 * after the block: what its store has is its answer */
		*held = n->cfg.role == HW_ROLE_STANDBY && n->block.lsn == 0
				? hw_wal_last(n->wal)->lsn
				: *committed;
	}
}

/* Start the thread for m, making the node's one job on first use; when the node holds
 * the LSN asked but its store has not committed it, ask for the commit instead and start
 * from hw__digest_on_committed(). */
static int start(struct hw_session *s, const Hawser__Wire__V1__DigestQuery *m)
{
	struct hw_node *n = s->node;
	if (n->digest == NULL) {
		struct hw_digest *d = calloc(1, sizeof *d);
		if (d == NULL)
			return HW_ENOMEM;
		d->node = n;
		int rc = hw_async_new(n->loop, done_cb, d, &d->done);
		if (rc != 0) {
			free(d);
			return rc;
		}
		n->digest = d;
	}
	struct hw_digest *d = n->digest;
	struct hw_async *done = d->done;
	*d = (struct hw_digest){.node = n,
				.done = done,
				.index = s->index,
				.gen = s->gen,
				.lsn = m->lsn,
				.replay_max = m->replay_max};
	uint64_t committed, held;
	heads(n, &committed, &held);
	d->cover = m->lsn != 0 ? m->lsn : held;
	if (d->cover > committed && d->cover <= held && n->writer != NULL && !n->failed) {
		d->waiting = true;
		d->running = true;
		hw_writer_commit_soon(n->writer, d->cover);
		return 0;
	}
	int rc = start_thread(d);
	d->running = rc == 0;
	return rc;
}

void hw__digest_on_committed(struct hw_node *n)
{
	struct hw_digest *d = n->digest;
	uint64_t committed, held;
	if (d == NULL || !d->waiting)
		return;
	heads(n, &committed, &held);
	if (n->writer != NULL && committed < d->cover && d->cover <= held && !n->failed)
		return;
	if (start_thread(d) != 0)
		refuse(d, HW_ENOMEM);
}

int hw__digest_on_query(struct hw_session *s, const struct hw_frame *f)
{
	struct hw_node *n = s->node;
	Hawser__Wire__V1__DigestQuery *m =
		hawser__wire__v1__digest_query__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	int rc = n->store == NULL                          ? HW_ESTORE_FAILED /* a reopen failed */
		 : n->digest != NULL && n->digest->running ? HW_EBUSY
							   : start(s, m);
	hawser__wire__v1__digest_query__free_unpacked(m, NULL);
	if (rc == 0) { /* answered later: nothing more is read from s until then */
		s->digesting = true;
		hw_conn_pause(s->conn);
		return 0;
	}
	if (rc == HW_EBUSY)
		return hw__node_send_error(s->conn, rc, "a digest query is under way on this node");
	return rc != 0 ? hw__node_send_error(s->conn, rc, "cannot start the digest") : 0;
}

void hw__digest_wait(struct hw_node *n)
{
	struct hw_digest *d = n->digest;
	if (d != NULL && d->waiting && start_thread(d) != 0) {
		refuse(d, HW_ENOMEM);
		return;
	}
	if (d != NULL && d->running) {
		atomic_store(&d->cancel, true); /* a replay ends within a batch, not minutes */
		finish(d);
	}
}

void hw__digest_stop(struct hw_node *n)
{
	struct hw_digest *d = n->digest;
	if (d == NULL)
		return;
	if (d->running && !d->waiting)
		pthread_join(d->thread, NULL);
	hw_async_free(d->done);
	free(d);
	n->digest = NULL;
}
