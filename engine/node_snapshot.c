/* node_snapshot.c: a standby so far behind that the primary's log no longer holds its
 * next entry gets a snapshot (a consistent compacted copy of the primary's store,
 * replica/snapshot.h) over its replication connection, then the log from the snapshot's
 * head (engineering-notes.md 4.4, "Catch-up policy"; docs/formats.md).
 *
 * Primary, one snapshot at a time:
 *   COMMITTING  the store commits lazily behind the log (engine/io/writer.h): the copy
 *               must cover every record acknowledged so far, so the writer is asked to
 *               commit through the last LSN it was given, and the copy starts from the
 *               commit's callback (at once when the store covers it already)
 *   COPYING     a short-lived thread copies the store into <data_dir>.snapshot-send/ (it
 *               blocks for as long as the copy takes; the loop goes on); the log is
 *               pinned from the committed head, so nothing after the copy's head goes
 *   HELD        (a vault, with failover) the copy waits until the primary has acknowledged
 *               its head: the store applies entries before they are acknowledged, and a
 *               vault, which never rewrites its log, must not hold one a failover could
 *               discard (docs/operations.md "Vault")
 *   STREAMING   SNAPSHOT_BEGIN{epoch, lsn, hash, bytes}, SNAPSHOT_CHUNK frames of 1 MiB
 *               as the connection has room (on_writable), SNAPSHOT_END{blake2b}; the pin
 *               moves up to the snapshot's head
 *   INSTALLING  waiting for the standby's ack at (or past) the snapshot's head; then it
 *               is connected in the core at that LSN and the log stream follows. The
 *               install (flush, swap, reopen on the standby's loop) may outlast a peer
 *               timeout on a large store: silence is borne for CATCHUP_GRACE_TIMEOUTS of
 *               them, and a connection lost meanwhile goes to CATCHUP with the pin at the
 *               snapshot's head, so the standby comes back to a log that holds its next
 *               entry instead of needing a second snapshot
 *   CATCHUP     the pin follows the standby's durable position until it is within half
 *               of log_keep_records of the head (or CATCHUP_KEEP_FACTOR * keep behind:
 *               the hard cap, so one slow standby cannot fill the disk). A connection
 *               lost meanwhile keeps the pin for CATCHUP_GRACE_TIMEOUTS peer timeouts,
 *               so the standby reconnects to a log that still holds its next entry
 *               instead of needing a second snapshot; another standby asking for a
 *               snapshot then waits (HW_EBUSY) rather than take the pin away
 * The peer is not connected in the core until INSTALLING ends, so no APPEND goes out
 * and its acks are taken here; heartbeats keep it from timing out meanwhile. In every
 * state the pin has catch-up's hard cap and the disk keeps SNAPSHOT_HEADROOM_BYTES free
 * (tx_over_bounds): a standby that acks but reads slowly ends its snapshot, not the
 * primary's disk.
 *
 * Standby: SNAPSHOT_BEGIN opens <data_dir>.snapshot-tmp/data.mdb, chunks are written to
 * it, SNAPSHOT_END checks size, BLAKE2b and the copy's head, then the copy replaces the
 * data directory (the old one is kept as <data_dir>.replaced-<unix ms>) and the node
 * follows from the snapshot's head. Any mismatch closes the connection with the code and
 * leaves the old data in place. A swap a crash cut short (a file system without
 * RENAME_EXCHANGE takes two renames) is finished, or the node refuses to start, when the
 * store is next opened (hw__snapshot_data_dir_check); so is one whose renames failed
 * while the node runs, leaving no data directory, at the reopen that follows the swap,
 * and the snapshot is installed then. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "engine/node_int.h"
#include "replica/drills.h"
#include "replica/rejoin.h"
#include "replica/snapshot.h"
#include "wire.pb-c.h"

/* One SNAPSHOT_CHUNK: large enough that the header is noise, small enough that a
 * heartbeat never waits behind more than a few of them (the send buffer holds 16). */
#define CHUNK_BYTES (1u << 20)
_Static_assert(CHUNK_BYTES <= HW_FRAME_BYTES_MAX, "a chunk fits a frame");
/* Room left in the send buffer for heartbeats between chunks. */
#define SEND_SLACK_BYTES 4096u
/* The catch-up pin is dropped when the standby is this many times log_keep_records
 * behind: it then needs another snapshot rather than an unbounded log. */
#define CATCHUP_KEEP_FACTOR 10u
_Static_assert(CATCHUP_KEEP_FACTOR == 10u, "tx_over_bounds and docs/operations.md say 10");
/* A standby in catch-up whose connection went keeps its pin this many peer timeouts. */
#define CATCHUP_GRACE_TIMEOUTS 4

enum tx_state {
	TX_IDLE,
	TX_COMMITTING,
	TX_COPYING,
	TX_HELD, /* a vault's copy, until every entry in it is acknowledged */
	TX_STREAMING,
	TX_INSTALLING,
	TX_CATCHUP
};

struct hw_snap_tx {
	struct hw_node *node;
	enum tx_state state;
	uint32_t peer;
	struct hw_session *c; /* NULL once the session went away */
	struct hw_async *done;
	pthread_t thread;
	bool thread_running;
	uint64_t cover; /* COMMITTING: the committed LSN the copy waits for */
	char dir[HW_PATH_CHARS_MAX + 32];
	/* written by the copy thread, read on the loop after it is joined */
	int rc;
	struct hw_snapshot_info info;
	uint8_t blake2b[HW_HASH_BYTES];
	/* streaming */
	int fd;
	uint64_t sent;
	uint8_t *chunk;
	uint64_t pin;
	double started_s;
	int64_t last_hb_ms;
	int64_t heard_ms; /* the standby's last ack: it is alive */
	int64_t gone_ms;  /* CATCHUP: when the standby was last seen disconnected, 0 if not */
	int64_t free_ms;  /* when tx_over_bounds last asked the disk its free space */
};

struct hw_snap_rx {
	bool active;
	int fd;
	char dir[HW_PATH_CHARS_MAX + 32];
	struct hw_head head;
	uint64_t bytes;
	uint64_t got;
	double started_s;
	int64_t progress_ms; /* hw_mono_ms() at the last snapshot_progress line (or BEGIN) */
	crypto_generichash_state st;
};

/* data_dir + suffix: a sibling of the data directory on the same file system (rename
 * needs that; the config keeps data_dir without trailing slashes). */
static void sibling(const struct hw_node *n, const char *suffix, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", n->cfg.data_dir, suffix);
}

/* ---- primary ------------------------------------------------------------------------ */

bool hw__snapshot_needed(struct hw_node *n, uint64_t its_lsn)
{
	struct hw_head base;
	return hw_store_base(n->store, &base) == 0 && its_lsn < base.lsn;
}

static void tx_pin(struct hw_snap_tx *tx, uint64_t lsn)
{
	tx->pin = lsn;
	hw_store_set_pin(tx->node->store, lsn);
}

static void tx_unpin(struct hw_snap_tx *tx)
{
	tx->pin = HW_STORE_PIN_NONE;
	if (tx->node->store != NULL)
		hw_store_set_pin(tx->node->store, HW_STORE_PIN_NONE);
}

/* Back to idle: temporary copy removed, pin released. The connection is left alone. */
static void tx_reset(struct hw_snap_tx *tx)
{
	if (tx->fd >= 0)
		close(tx->fd);
	tx->fd = -1;
	hw_snapshot_rm(tx->dir); /* the temporary copy, if it is still there */
	tx_unpin(tx);
	tx->state = TX_IDLE;
	tx->c = NULL;
	tx->gone_ms = 0;
}

/* Give up on the snapshot: say why, close the standby's connection (it reconnects and
 * asks again), reset. */
static void tx_fail(struct hw_snap_tx *tx, int rc, const char *what)
{
	hw_log("snapshot_failed", "peer=%s code=%s what=\"%s\"", tx->node->cfg.standbys[tx->peer],
	       hw_errname(rc), what);
	struct hw_session *c = tx->c;
	tx_reset(tx);
	if (c != NULL)
		hw_conn_close(c->conn, rc);
}

static void *copy_main(void *arg)
{
	struct hw_snap_tx *tx = arg;
	pthread_setname_np(pthread_self(), "hw-snapshot"); /* top -H, perf */
	uint64_t bytes = 0;
	tx->rc = hw_snapshot_make(tx->node->store, tx->dir, &tx->info);
	if (tx->rc == 0)
		tx->rc = hw_snapshot_hash(tx->dir, tx->blake2b, &bytes);
	if (tx->rc == 0 && bytes != tx->info.bytes)
		tx->rc = HW_ECORRUPT; /* the file changed under us */
	hw_async_send(tx->done);
	return NULL;
}

static void send_heartbeat(struct hw_snap_tx *tx)
{
	struct hw_node *n = tx->node;
	Hawser__Wire__V1__Heartbeat m = HAWSER__WIRE__V1__HEARTBEAT__INIT;
	m.epoch = n->epoch;
	m.last_lsn = n->core.last_lsn;
	m.durable_lsn = n->core.local_durable;
	m.time_ms = hw_wall_ms();
	hw__node_send_msg(tx->c->conn, HW_FRAME_HEARTBEAT, &m); /* no room: the next one */
	tx->last_hb_ms = hw__node_now(n);
}

/* Send chunks while the connection has room, then END. */
static void pump(struct hw_snap_tx *tx)
{
	while (tx->state == TX_STREAMING && tx->sent < tx->info.bytes) {
		uint64_t left = tx->info.bytes - tx->sent;
		size_t len = left < CHUNK_BYTES ? (size_t)left : CHUNK_BYTES;
		if (hw_conn_send_room(tx->c->conn) <
		    HW_FRAME_HEADER_BYTES + len + SEND_SLACK_BYTES) {
			/* A full buffer's send is in flight: on_writable calls again once half of
			 * it went. Only a refused send asks for that by itself. */
			hw_conn_want_writable(tx->c->conn);
			return;
		}
		/* A read on the loop thread: the copy was written moments ago and sits in the
		 * page cache, and one chunk is bounded; a rare path (STYLE.md 16 bends here). */
		ssize_t got = pread(tx->fd, tx->chunk, len, (off_t)tx->sent);
		if (got != (ssize_t)len) {
			tx_fail(tx, got < 0 ? -errno : HW_ECORRUPT, "copy could not be read back");
			return;
		}
		int rc = hw__node_send_frame(tx->c->conn, HW_FRAME_SNAPSHOT_CHUNK, tx->chunk, len);
		if (rc == HW_EBUSY)
			return;
		if (rc != 0) {
			tx_fail(tx, rc, "send failed");
			return;
		}
		tx->sent += len;
	}
	if (tx->state != TX_STREAMING)
		return;
	Hawser__Wire__V1__SnapshotEnd m = HAWSER__WIRE__V1__SNAPSHOT_END__INIT;
	m.blake2b = (ProtobufCBinaryData){HW_HASH_BYTES, tx->blake2b};
	if (hw__node_send_msg(tx->c->conn, HW_FRAME_SNAPSHOT_END, &m) != 0)
		return; /* no room yet: on_writable calls again */
	close(tx->fd);
	tx->fd = -1;
	hw_snapshot_rm(tx->dir); /* every byte is in the send buffer now */
	tx->state = TX_INSTALLING;
	hw_log("snapshot_sent", "peer=%s lsn=%llu bytes=%llu seconds=%.3f",
	       tx->node->cfg.standbys[tx->peer], (unsigned long long)tx->info.head.lsn,
	       (unsigned long long)tx->info.bytes, hw_mono_s() - tx->started_s);
}

/* The copy is made (or failed): announce it and start streaming. */
static int stream_begin(struct hw_snap_tx *tx)
{
	char file[HW_PATH_CHARS_MAX + 48];
	snprintf(file, sizeof file, "%s/data.mdb", tx->dir);
	tx->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (tx->fd < 0)
		return -errno;
	/* Entries after the snapshot's head are what the standby needs next. */
	tx_pin(tx, tx->info.head.lsn);
	Hawser__Wire__V1__SnapshotBegin m = HAWSER__WIRE__V1__SNAPSHOT_BEGIN__INIT;
	m.epoch = tx->node->epoch;
	m.lsn = tx->info.head.lsn;
	m.hash = (ProtobufCBinaryData){HW_HASH_BYTES, tx->info.head.hash};
	m.bytes = tx->info.bytes;
	int rc = hw__node_send_msg(tx->c->conn, HW_FRAME_SNAPSHOT_BEGIN, &m);
	if (rc != 0)
		return rc;
	tx->state = TX_STREAMING;
	tx->sent = 0;
	hw_log("snapshot_sending", "peer=%s lsn=%llu base=%llu bytes=%llu copy_seconds=%.3f",
	       tx->node->cfg.standbys[tx->peer], (unsigned long long)tx->info.head.lsn,
	       (unsigned long long)tx->info.base.lsn, (unsigned long long)tx->info.bytes,
	       hw_mono_s() - tx->started_s);
	pump(tx);
	return 0;
}

/* Whether the copy must wait before it goes: to a vault, with failover, while its head is
 * past what the primary has acknowledged. */
static bool held(const struct hw_snap_tx *tx)
{
	const struct hw_node *n = tx->node;
	return n->voters != NULL && tx->peer >= n->cfg.n_standbys &&
	       tx->info.head.lsn > hw__primary_safe_lsn(n);
}

static void copy_done_cb(struct hw_async *a, void *arg)
{
	(void)a;
	struct hw_snap_tx *tx = arg;
	if (!tx->thread_running || tx->state != TX_COPYING)
		return;
	pthread_join(tx->thread, NULL); /* it has sent this: the join is immediate */
	tx->thread_running = false;
	if (tx->c == NULL) {
		tx_reset(tx); /* the standby went away meanwhile */
		return;
	}
	if (tx->rc == 0 && held(tx)) {
		hw_log("snapshot_held", "peer=%s lsn=%llu safe_lsn=%llu what=\"%s\"",
		       tx->node->cfg.standbys[tx->peer], (unsigned long long)tx->info.head.lsn,
		       (unsigned long long)hw__primary_safe_lsn(tx->node),
		       "a vault's copy waits until every entry in it is one any new primary "
		       "holds");
		tx->state = TX_HELD;
		return;
	}
	int rc = tx->rc != 0 ? tx->rc : stream_begin(tx);
	if (rc != 0)
		tx_fail(tx, rc, tx->rc != 0 ? "copy failed" : "copy could not be sent");
}

/* COMMITTING -> COPYING: the store covers tx->cover. 0, or HW_ENOMEM (the caller
 * resets). */
static int copy_start(struct hw_snap_tx *tx)
{
	struct hw_node *n = tx->node;
	if (pthread_create(&tx->thread, NULL, copy_main, tx) != 0)
		return HW_ENOMEM;
	tx->state = TX_COPYING;
	tx->thread_running = true;
	hw_log("snapshot_copying", "peer=%s pinned_after=%llu covers=%llu dir=%s",
	       n->cfg.standbys[tx->peer], (unsigned long long)tx->pin,
	       (unsigned long long)tx->cover, tx->dir);
	return 0;
}

static int tx_new(struct hw_node *n)
{
	struct hw_snap_tx *tx = calloc(1, sizeof *tx);
	if (tx == NULL)
		return HW_ENOMEM;
	tx->node = n;
	tx->fd = -1;
	tx->chunk = malloc(CHUNK_BYTES);
	int rc = tx->chunk == NULL ? HW_ENOMEM : hw_async_new(n->loop, copy_done_cb, tx, &tx->done);
	if (rc != 0) {
		free(tx->chunk);
		free(tx);
		return rc;
	}
	sibling(n, ".snapshot-send", tx->dir, sizeof tx->dir);
	n->snap_tx = tx;
	return 0;
}

/* The copy goes beside the data directory, on its file system, while this node goes on
 * writing its log and store there: a copy that filled the disk would stop the primary
 * (a storage failure is for good). So a copy is made only with room for it and
 * SNAPSHOT_HEADROOM_BYTES more; otherwise HW_ESTORE_FULL, and the standby asks again. */
#define SNAPSHOT_HEADROOM_BYTES HW_NODE_HEADROOM_BYTES
/* How often a snapshot's bounds ask the disk its free space (a statvfs, on the loop): not
 * at every 10 ms tick of a snapshot and its catch-up, which can last hours. */
#define SNAPSHOT_FREE_CHECK_MS 1000
static int room_for_copy(struct hw_node *n, uint32_t peer, const uint64_t *peer_free)
{
	uint64_t used, avail;
	int rc = hw_store_room(n->store, &used, &avail);
	if (rc != 0)
		return rc;
	/* The standby needs as much (rx_room): a compacted copy is at most used */
	bool here = avail >= used + SNAPSHOT_HEADROOM_BYTES;
	if (here && (peer_free == NULL || *peer_free >= used + SNAPSHOT_HEADROOM_BYTES))
		return 0;
	hw_log("snapshot_no_room",
	       "peer=%s on=%s copy_bytes=%llu free_bytes=%llu headroom_bytes=%llu",
	       n->cfg.standbys[peer], here ? "standby" : "primary", (unsigned long long)used,
	       (unsigned long long)(here ? *peer_free : avail),
	       (unsigned long long)SNAPSHOT_HEADROOM_BYTES);
	return HW_ESTORE_FULL;
}

int hw__snapshot_can_send(struct hw_node *n, uint32_t peer, const uint64_t *peer_free)
{
	if (n->failed != 0)
		return n->failed; /* its store commits no more: no copy could cover the log */
	if (n->snap_tx == NULL) {
		int rc = tx_new(n);
		if (rc != 0)
			return rc;
	}
	struct hw_snap_tx *tx = n->snap_tx;
	/* a vault's held copy waits for entries any new primary holds, which a standby
	 * that needs a snapshot itself may be what it waits for: the standby goes first */
	if (tx->state == TX_HELD && peer < n->cfg.n_standbys)
		tx_fail(tx, HW_EBUSY, "a standby needs a snapshot: the vault's held copy yields");
	if (tx->state != TX_IDLE && (tx->state != TX_CATCHUP || tx->peer != peer))
		return HW_EBUSY; /* one at a time; one catching up keeps its pin until done */
	/* a copy a crash left there would count against the room for this one */
	int rc = tx->state == TX_IDLE ? hw_snapshot_rm(tx->dir) : 0;
	if (rc != 0) {
		hw_log("snapshot_failed", "peer=%s code=%s dir=%s what=\"%s\"",
		       n->cfg.standbys[peer], hw_errname(rc), tx->dir,
		       "cannot remove an earlier copy");
		return rc;
	}
	return room_for_copy(n, peer, peer_free);
}

int hw__snapshot_send(struct hw_session *s, uint32_t peer)
{
	struct hw_node *n = s->node;
	int rc = hw__snapshot_can_send(n, peer, NULL); /* the hello's room was checked */
	if (rc != 0)
		return rc;
	struct hw_snap_tx *tx = n->snap_tx;
	if (tx->state == TX_CATCHUP)
		tx_reset(tx); /* the same standby, behind its pin: it starts over */
	/* Everything after the committed head stays until the copy's head is known; the
	 * copy's read transaction starts later and sees at least this much. */
	tx_pin(tx, n->committed_lsn);
	tx->state = TX_COMMITTING;
	tx->cover = n->core.last_lsn;
	tx->peer = peer;
	tx->c = s;
	tx->rc = 0;
	tx->sent = 0;
	memset(&tx->info, 0, sizeof tx->info);
	tx->started_s = hw_mono_s();
	tx->last_hb_ms = tx->heard_ms = hw__node_now(n);
	if (n->committed_lsn >= tx->cover) {
		rc = copy_start(tx);
		if (rc != 0)
			tx_reset(tx);
		return rc;
	}
	hw_writer_commit_soon(n->writer, tx->cover); /* copy_start() from its callback */
	return 0;
}

void hw__snapshot_on_committed(struct hw_node *n)
{
	struct hw_snap_tx *tx = n->snap_tx;
	if (tx == NULL || tx->state != TX_COMMITTING)
		return;
	if (n->failed != 0) { /* that commit will not come: the standby asks again later */
		tx_fail(tx, n->failed, "the store failed before the snapshot's commit");
		return;
	}
	if (n->committed_lsn < tx->cover)
		return;
	if (tx->c == NULL) {
		tx_reset(tx); /* the standby went away meanwhile */
		return;
	}
	int rc = copy_start(tx);
	if (rc != 0)
		tx_fail(tx, rc, "no copy thread");
}

bool hw__snapshot_on_ack(struct hw_node *n, uint32_t peer, const struct hw_pos *pos)
{
	struct hw_snap_tx *tx = n->snap_tx;
	if (tx == NULL || tx->peer != peer || tx->c == NULL || tx->state == TX_IDLE ||
	    tx->state == TX_CATCHUP || n->links[peer].c != tx->c)
		return false;
	tx->heard_ms = hw__node_now(n);
	if (tx->state != TX_INSTALLING || pos->durable < tx->info.head.lsn)
		return true; /* acks of its old log, or of the snapshot not yet installed */
	tx->state = TX_CATCHUP;
	hw_log("peer_connected", "peer=%s its_lsn=%llu our_lsn=%llu via=snapshot",
	       n->cfg.standbys[peer], (unsigned long long)pos->durable,
	       (unsigned long long)n->core.last_lsn);
	HW_CORE(n, hw_primary_on_connect(&n->core, peer, tx->info.head.lsn, hw__node_now(n), acts));
	return false; /* the core takes the ack too */
}

void hw__snapshot_on_writable(struct hw_session *s)
{
	struct hw_snap_tx *tx = s->node->snap_tx;
	if (tx != NULL && tx->c == s && tx->state == TX_STREAMING)
		pump(tx);
}

/* The standby has the whole copy and lost its connection while installing it: it comes
 * back at the snapshot's head. Catch-up's grace keeps the pin there meanwhile. */
static void await_return(struct hw_snap_tx *tx)
{
	hw_log("snapshot_await", "peer=%s lsn=%llu what=\"%s\"", tx->node->cfg.standbys[tx->peer],
	       (unsigned long long)tx->info.head.lsn,
	       "connection lost while the standby installs: the log stays pinned at the "
	       "snapshot's head for its return");
	tx->state = TX_CATCHUP;
	tx->c = NULL;
	tx->gone_ms = hw__node_now(tx->node);
}

void hw__snapshot_session_gone(struct hw_node *n, struct hw_session *s)
{
	struct hw_snap_tx *tx = n->snap_tx;
	if (tx == NULL || tx->c != s)
		return;
	if (tx->state == TX_COPYING || tx->state == TX_COMMITTING || tx->state == TX_CATCHUP) {
		tx->c = NULL; /* the copy's callbacks clean up; catch-up keeps its pin a while */
		return;
	}
	if (tx->state == TX_INSTALLING) {
		await_return(tx);
		return;
	}
	hw_log("snapshot_abandoned", "peer=%s sent=%llu of %llu", n->cfg.standbys[tx->peer],
	       (unsigned long long)tx->sent, (unsigned long long)tx->info.bytes);
	tx_reset(tx);
}

/* Catch-up: the pin follows the standby until it is near the head, or too far behind. */
static void catchup_tick(struct hw_snap_tx *tx)
{
	struct hw_node *n = tx->node;
	const struct hw_peer *p = &n->core.peers[tx->peer];
	uint64_t keep = n->cfg.log_keep_records;
	uint64_t behind = n->core.last_lsn - p->pos.durable;
	int64_t now = hw__node_now(n);
	if (!p->connected && tx->gone_ms == 0)
		tx->gone_ms = now;
	if (p->connected)
		tx->gone_ms = 0;
	bool lost = tx->gone_ms != 0 &&
		    now - tx->gone_ms > CATCHUP_GRACE_TIMEOUTS * n->cfg.peer_timeout_ms;
	if (!p->connected && !lost)
		return; /* reconnecting: the log keeps its next entry meanwhile */
	if (lost || behind <= keep / 2 || behind > CATCHUP_KEEP_FACTOR * keep) {
		hw_log("snapshot_done", "peer=%s durable=%llu behind=%llu",
		       n->cfg.standbys[tx->peer], (unsigned long long)p->pos.durable,
		       (unsigned long long)behind);
		tx_reset(tx);
		return;
	}
	if (p->pos.durable > tx->pin)
		tx_pin(tx, p->pos.durable);
}

/* End the snapshot for one of the primary's own bounds: the pin goes at once, so pruning
 * goes on, and the standby is told why (an ERROR, then its connection closes; in
 * catch-up it is connected in the core and only loses the pin). A copy still being made
 * is removed by copy_done_cb once its thread is done. */
static void tx_end(struct hw_snap_tx *tx, int code, const char *what)
{
	struct hw_node *n = tx->node;
	hw_log("snapshot_failed", "peer=%s code=%s pinned_after=%llu last_lsn=%llu what=\"%s\"",
	       n->cfg.standbys[tx->peer], hw_errname(code), (unsigned long long)tx->pin,
	       (unsigned long long)n->core.last_lsn, what);
	struct hw_session *c = tx->state == TX_CATCHUP ? NULL : tx->c;
	tx_unpin(tx);
	tx->c = NULL;
	if (tx->state != TX_COPYING)
		tx_reset(tx);
	if (c != NULL)
		hw__node_refuse(c->conn, code, what);
}

/* The bounds catch-up has, kept in every state of a snapshot: a standby that acknowledges
 * but takes the copy slowly (or a vault's copy held long) would keep the log growing past
 * retention until the disk filled, and a full disk fails the store for good. The log may
 * run CATCHUP_KEEP_FACTOR * log_keep_records past the pin (0 keeps every entry anyway),
 * and the disk keeps SNAPSHOT_HEADROOM_BYTES free (asked every SNAPSHOT_FREE_CHECK_MS),
 * as when the copy was begun (room_for_copy). True when the snapshot ended. */
static bool tx_over_bounds(struct hw_snap_tx *tx)
{
	struct hw_node *n = tx->node;
	uint64_t keep = n->cfg.log_keep_records, avail;
	if (tx->pin == HW_STORE_PIN_NONE)
		return false; /* ended: its copy is still being made */
	int64_t now = hw_loop_now_ms(n->loop);
	bool ask = now - tx->free_ms >= SNAPSHOT_FREE_CHECK_MS;
	if (ask)
		tx->free_ms = now;
	if (ask && hw_fs_free(n->cfg.data_dir, &avail) == 0 && avail < SNAPSHOT_HEADROOM_BYTES) {
		hw_log("snapshot_no_room", "peer=%s on=primary free_bytes=%llu headroom_bytes=%llu",
		       n->cfg.standbys[tx->peer], (unsigned long long)avail,
		       (unsigned long long)SNAPSHOT_HEADROOM_BYTES);
		tx_end(tx, HW_ESTORE_FULL, "the primary's disk is nearly full: snapshot ended");
		return true;
	}
	if (tx->state == TX_CATCHUP || keep == 0 || n->core.last_lsn <= tx->pin ||
	    n->core.last_lsn - tx->pin <= CATCHUP_KEEP_FACTOR * keep)
		return false; /* catch-up's own bound follows the standby (catchup_tick) */
	tx_end(tx, HW_ETOOSLOW,
	       "the snapshot took so long that the log it held for it passed its bound "
	       "(log_keep_records times 10): released; ask again later");
	return true;
}

void hw__snapshot_tick(struct hw_node *n)
{
	struct hw_snap_tx *tx = n->snap_tx;
	if (tx == NULL || tx->state == TX_IDLE || tx_over_bounds(tx))
		return;
	if (tx->state == TX_CATCHUP) {
		catchup_tick(tx);
		return;
	}
	if (tx->c == NULL)
		return;
	if (tx->state == TX_HELD && !held(tx)) {
		int rc = stream_begin(tx);
		if (rc != 0)
			tx_fail(tx, rc, "copy could not be sent");
		return;
	}
	/* The core does not time this peer out (it is not connected there yet): a standby
	 * that stopped acking for peer_timeout_ms frees the snapshot slot. */
	bool local = tx->state == TX_COPYING || tx->state == TX_COMMITTING ||
		     tx->state == TX_HELD; /* no ack due */
	int64_t bound =
		n->cfg.peer_timeout_ms * (tx->state == TX_INSTALLING ? CATCHUP_GRACE_TIMEOUTS : 1);
	if (!local && hw__node_now(n) - tx->heard_ms > bound && tx->state == TX_INSTALLING) {
		struct hw_session *c = tx->c; /* it may still be installing: as if it had gone */
		await_return(tx);
		hw_conn_close(c->conn, -ETIMEDOUT);
		return;
	}
	if (!local && hw__node_now(n) - tx->heard_ms > bound) {
		tx_fail(tx, -ETIMEDOUT, "standby went silent");
		return;
	}
	if (hw__node_now(n) - tx->last_hb_ms >= n->cfg.heartbeat_ms)
		send_heartbeat(tx);
}

/* ---- standby ------------------------------------------------------------------------ */

/* Whether dir holds a log: a node's data directory, not a copy (data.mdb only). */
static bool holds_wal(const char *dir)
{
	char wal[HW_PATH_CHARS_MAX + 48];
	return snprintf(wal, sizeof wal, "%s/wal", dir) < (int)sizeof wal && access(wal, F_OK) == 0;
}

/* Clear dir, which should hold a received copy only (data.mdb). A node's data directory
 * there (it has a log: a swap exchanged the directories, then a crash or an error came
 * before the old one was set aside) is a replica's data: set aside as
 * <data_dir>.replaced-<ms>, never deleted. 0 or -errno. */
static int rx_clear(const struct hw_node *n, const char *dir)
{
	char aside[HW_PATH_CHARS_MAX + 64];
	if (!holds_wal(dir))
		return hw_snapshot_rm(dir);
	snprintf(aside, sizeof aside, "%s.replaced-%lld", n->cfg.data_dir, (long long)hw_wall_ms());
	if (rename(dir, aside) != 0)
		return -errno;
	hw_log("snapshot_old_data_kept", "dir=%s what=\"%s\"", aside,
	       "a data directory left where a snapshot is received: set aside, not deleted");
	return hw_fs_sync_parent(aside);
}

int hw__snapshot_rx_free(const struct hw_node *n, uint64_t *avail)
{
	char tmp[HW_PATH_CHARS_MAX + 48], file[HW_PATH_CHARS_MAX + 64];
	sibling(n, ".snapshot-tmp", tmp, sizeof tmp);
	char parent[PATH_MAX];
	int rc = hw_fs_parent(n->cfg.data_dir, parent);
	if (rc == 0)
		rc = hw_fs_free(parent, avail);
	/* a copy a crash left there goes before the next one is received (rx_clear) */
	struct stat st;
	snprintf(file, sizeof file, "%s/data.mdb", tmp);
	if (rc == 0 && stat(file, &st) == 0 && !holds_wal(tmp))
		*avail += (uint64_t)st.st_blocks * 512;
	return rc;
}

static void rx_abort(const struct hw_node *n, struct hw_snap_rx *rx)
{
	if (rx->fd >= 0)
		close(rx->fd);
	rx->fd = -1;
	if (rx->active)
		rx_clear(n, rx->dir);
	rx->active = false;
}

/* A snapshot refused or not installed: drop what was received, and ask again only after
 * HW_SNAPSHOT_RETRY_MS, as the next try costs the primary a whole copy. */
static void rx_give_up(struct hw_node *n)
{
	rx_abort(n, n->snap_rx);
	n->reconnect_ms = HW_SNAPSHOT_RETRY_MS;
}

/* Refuse the snapshot: log, give up on it, close with code. Old data stays. */
static int rx_refuse(struct hw_node *n, int code, const char *what)
{
	struct hw_snap_rx *rx = n->snap_rx;
	hw_log("snapshot_refused", "lsn=%llu got=%llu bytes=%llu code=%s what=\"%s\"",
	       (unsigned long long)rx->head.lsn, (unsigned long long)rx->got,
	       (unsigned long long)rx->bytes, hw_errname(code), what);
	hw__node_refused(n, code, what);
	rx_give_up(n);
	return code;
}

/* Whether the file system of rx->dir has room for the announced copy and
 * SNAPSHOT_HEADROOM_BYTES more, as the primary asks of its own: a copy that filled the
 * disk would fail this node's next log or election write for good. 0, HW_ESTORE_FULL
 * (the standby asks again after HW_SNAPSHOT_RETRY_MS) or -errno. */
static int rx_room(const struct hw_snap_rx *rx)
{
	uint64_t avail;
	int rc = hw_fs_free(rx->dir, &avail);
	if (rc != 0 || avail >= rx->bytes + SNAPSHOT_HEADROOM_BYTES)
		return rc;
	hw_log("snapshot_no_room", "bytes=%llu free_bytes=%llu headroom_bytes=%llu",
	       (unsigned long long)rx->bytes, (unsigned long long)avail,
	       (unsigned long long)SNAPSHOT_HEADROOM_BYTES);
	return HW_ESTORE_FULL;
}

static int rx_begin(struct hw_node *n, const struct hw_frame *f)
{
	struct hw_snap_rx *rx = n->snap_rx;
	if (rx->active)
		return HW_EPROTOCOL;
	Hawser__Wire__V1__SnapshotBegin *m =
		hawser__wire__v1__snapshot_begin__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	rx->head = (struct hw_head){.lsn = m->lsn, .epoch = m->epoch};
	rx->bytes = m->bytes;
	rx->got = 0;
	bool ok = m->hash.len == HW_HASH_BYTES && m->bytes > 0 && m->bytes <= HW_MAP_BYTES_MAX;
	if (ok)
		memcpy(rx->head.hash, m->hash.data, HW_HASH_BYTES);
	hawser__wire__v1__snapshot_begin__free_unpacked(m, NULL);
	if (!ok)
		return rx_refuse(n, HW_EFRAME, "snapshot announcement is malformed");
	/* judged as any frame of the primary's: a deposed primary's snapshot, or one of
	 * another epoch than the hello said, must not replace this store */
	int rc = hw__election_primary_frame(n, rx->head.epoch, true);
	if (rc != 0 || rx->head.epoch != n->epoch)
		return rx_refuse(n, HW_EPROTOCOL, "snapshot of another epoch than its primary's");
	/* a stale store asked for one wherever its log ends: its own base may be ahead of
	 * the primary's head when the logs parted before it (hw_rejoin_cut) */
	if (rx->head.lsn < n->sb.pos.durable && !hw_store_stale(n->store))
		return rx_refuse(n, HW_EPROTOCOL, "snapshot is older than this standby's log");
	sibling(n, ".snapshot-tmp", rx->dir, sizeof rx->dir);
	char file[HW_PATH_CHARS_MAX + 48];
	snprintf(file, sizeof file, "%s/data.mdb", rx->dir);
	rc = rx_clear(n, rx->dir); /* left by a crash */
	if (rc == 0 && mkdir(rx->dir, 0700) != 0)
		rc = -errno;
	if (rc != 0)
		return rx_refuse(n, rc, "cannot make the snapshot directory");
	rc = rx_room(rx);
	if (rc != 0)
		return rx_refuse(n, rc, "no room for the snapshot and the log's headroom");
	rx->active = true;
	rx->fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (rx->fd < 0)
		return rx_refuse(n, -errno, "cannot create the snapshot file");
	crypto_generichash_init(&rx->st, NULL, 0, HW_HASH_BYTES);
	rx->started_s = hw_mono_s();
	rx->progress_ms = hw_mono_ms();
	hw_log("snapshot_receiving", "lsn=%llu bytes=%llu our_lsn=%llu",
	       (unsigned long long)rx->head.lsn, (unsigned long long)rx->bytes,
	       (unsigned long long)n->sb.pos.durable);
	return 0;
}

/* One chunk to the file. Written on the loop thread: this path is rare, a chunk is at
 * most 1 MiB into the page cache, and the one flush waits for END. */
static int rx_chunk(struct hw_node *n, const struct hw_frame *f)
{
	struct hw_snap_rx *rx = n->snap_rx;
	if (!rx->active)
		return HW_EPROTOCOL;
	if (f->len > rx->bytes - rx->got)
		return rx_refuse(n, HW_ECORRUPT, "more bytes than the snapshot announced");
	const uint8_t *p = f->body;
	size_t left = f->len;
	while (left > 0) {
		ssize_t w = write(rx->fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return rx_refuse(n, -errno, "cannot write the snapshot file");
		p += w;
		left -= (size_t)w;
	}
	crypto_generichash_update(&rx->st, f->body, f->len);
	rx->got += f->len;
	int64_t now = hw_mono_ms();
	if (now - rx->progress_ms >= HW_PROGRESS_MS) { /* at most a line a second */
		hw_log("snapshot_progress", "bytes=%llu of=%llu", (unsigned long long)rx->got,
		       (unsigned long long)rx->bytes);
		rx->progress_ms = now;
	}
	return 0;
}

static int any_row(void *arg, const struct hw_quarantined *q)
{
	(void)arg;
	(void)q;
	return 1;
}

/* Put the received copy in place of the data directory and follow from its head. The
 * writer and the log stop first (the writer finishes its job), the store closes, the
 * directories swap, and store, log (reset to the snapshot's head) and writer restart. */
static int install(struct hw_node *n, char *aside, size_t cap)
{
	struct hw_snap_rx *rx = n->snap_rx;
	/* a new standby: nothing of its own to keep (a node that quarantined records keeps
	 * them, and one that ran drills their history: hw_snapshot_adopt carries them) */
	struct hw_drill_row drill;
	size_t drills = 1;
	bool empty = n->sb.pos.received == 0 && hw_quarantine_each(n->store, any_row, NULL) == 0 &&
		     hw_store_drill_list(n->store, 0, &drill, 1, &drills) == 0 && drills == 0;
	int src = hw__node_writer_stop(n, "snapshot");
	if (src != 0)
		return src;
	hw_wal_close(n->wal);
	n->wal = NULL;
	hw__digest_wait(n); /* its thread reads the store */
	aside[0] = '\0';
	const char *what = "cannot carry this node's quarantine and drill history into the copy";
	int rc = hw_snapshot_adopt(rx->dir, n->store); /* read before the store closes */
	hw_store_close(n->store);
	n->store = NULL;
	if (rc == 0) {
		what = "cannot keep this node's election state";
		/* DIR/primary.said stays with the data set aside: the copy holds none, so
		 * neither its sender's nor what this node heard before is trusted after a
		 * restart (hw__said_load), until a connection's end saves it anew */
		rc = hw__election_state_into(n, rx->dir);
	}
	if (rc == 0) {
		what = "cannot swap the data directory";
		rc = hw_snapshot_swap(n->cfg.data_dir, rx->dir, hw_wall_ms(), aside, cap);
	}
	/* A swap that set the old data aside, then could neither move the copy in nor put the
	 * old data back, left no data directory: the reopen finishes it from the copy, marked
	 * whole (hw__snapshot_data_dir_check), which is installed then, and is kept until it
	 * is (a finish that fails is tried again at the next start). */
	bool cut = rc != 0 && access(n->cfg.data_dir, F_OK) != 0 && errno == ENOENT;
	if (cut)
		hw_log("snapshot_swap_cut", "code=%s dir=%s old_data=%s what=\"%s\"",
		       hw_errname(rc), n->cfg.data_dir, aside[0] ? aside : "none",
		       "the swap left no data directory: the copy, marked whole, goes in its place "
		       "as the store reopens");
	else if (rc != 0)
		hw_log("snapshot_refused", "code=%s what=\"%s\"", hw_errname(rc), what);
	if (rc == 0 || cut)
		rx->active = false; /* rx->dir is the data directory now, or is to be */
	/* Whether the swap held or not, a store is there to reopen. */
	int orc = hw__node_open_store(n);
	if (orc == 0)
		orc = hw__standby_restart(n);
	if (orc != 0) {
		hw__node_storage_failed(n, orc, "snapshot");
		if (n->store == NULL || n->wal == NULL) /* nothing to run on: exit, restart */
			hw_loop_stop(n->loop);          /* from the disk (exit code: the failure) */
		return orc;
	}
	if (cut)
		rc = 0; /* the copy is the store reopened */
	if (rc == 0 && empty && aside[0] != '\0' && hw_snapshot_rm(aside) == 0)
		aside[0] = '\0';
	return rc;
}

static int rx_end(struct hw_node *n, const struct hw_frame *f)
{
	struct hw_snap_rx *rx = n->snap_rx;
	if (!rx->active)
		return HW_EPROTOCOL;
	Hawser__Wire__V1__SnapshotEnd *m =
		hawser__wire__v1__snapshot_end__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return rx_refuse(n, HW_EFRAME, "snapshot end is malformed");
	uint8_t h[HW_HASH_BYTES];
	crypto_generichash_final(&rx->st, h, HW_HASH_BYTES);
	bool same =
		m->blake2b.len == HW_HASH_BYTES && memcmp(h, m->blake2b.data, HW_HASH_BYTES) == 0;
	hawser__wire__v1__snapshot_end__free_unpacked(m, NULL);
	if (rx->got != rx->bytes)
		return rx_refuse(n, HW_ECORRUPT, "snapshot is shorter than announced");
	if (!same)
		return rx_refuse(n, HW_ECORRUPT, "snapshot does not match its BLAKE2b");
	if (fsync(rx->fd) != 0)
		return rx_refuse(n, -errno, "cannot flush the snapshot file");
	close(rx->fd);
	rx->fd = -1;
	int frc = hw_fs_sync(rx->dir); /* its entry in the directory, too */
	if (frc != 0)
		return rx_refuse(n, frc, "cannot flush the snapshot's directory");
	/* Only a snapshot of this standby's own chain replaces its store (the primary checks
	 * it first from the Hello; an older primary does not): a store of another chain is
	 * not this standby's to give up. */
	uint8_t own[HW_HASH_BYTES];
	int rc = hw__node_chain_id(n, own);
	if (rc != 0)
		return rx_refuse(n, rc, "cannot read this standby's chain identity");
	rc = hw_snapshot_check(rx->dir, &rx->head, own);
	n->other_chain = rc == HW_EDIVERGED;
	if (rc == HW_EDIVERGED)
		return rx_refuse(n, rc,
				 "the snapshot is of another chain than this standby's "
				 "store (entry 1 differs): nothing replaced");
	if (rc != 0)
		return rx_refuse(n, rc, "snapshot's head is not the announced LSN and hash");
	/* this node may have voted in a later epoch while the copy came: its sender is
	 * deposed then, and what it sent is not installed */
	if (hw__election_primary_frame(n, rx->head.epoch, false) != 0)
		return rx_refuse(n, HW_EPROTOCOL,
				 "snapshot of an epoch older than this node's now");
	char aside[HW_PATH_CHARS_MAX + 64];
	rc = install(n, aside, sizeof aside);
	if (rc != 0) {
		rx_give_up(n); /* install() said why */
		return rc;
	}
	hw_log("snapshot_installed", "lsn=%llu bytes=%llu seconds=%.3f old_data=%s",
	       (unsigned long long)rx->head.lsn, (unsigned long long)rx->bytes,
	       hw_mono_s() - rx->started_s, aside[0] ? aside : "none");
	hw__standby_installed(n);
	return 0;
}

int hw__snapshot_on_frame(struct hw_node *n, const struct hw_frame *f)
{
	if (n->snap_rx == NULL) {
		n->snap_rx = calloc(1, sizeof *n->snap_rx);
		if (n->snap_rx == NULL)
			return HW_ENOMEM;
		n->snap_rx->fd = -1;
	}
	if (n->failed)
		return HW_ESTORE_FAILED;
	switch (f->type) {
	case HW_FRAME_SNAPSHOT_BEGIN:
		return rx_begin(n, f);
	case HW_FRAME_SNAPSHOT_CHUNK:
		return rx_chunk(n, f);
	default:
		return rx_end(n, f);
	}
}

void hw__snapshot_conn_lost(struct hw_node *n)
{
	if (n->snap_rx != NULL && n->snap_rx->active) {
		hw_log("snapshot_abandoned", "lsn=%llu got=%llu bytes=%llu",
		       (unsigned long long)n->snap_rx->head.lsn,
		       (unsigned long long)n->snap_rx->got, (unsigned long long)n->snap_rx->bytes);
		rx_abort(n, n->snap_rx);
	}
}

/* ---- both ----------------------------------------------------------------------------- */

void hw__snapshot_clear_left(const struct hw_node *n)
{
	static const char *const suffix[] = {".snapshot-send", ".snapshot-tmp"};
	char dir[HW_PATH_CHARS_MAX + 32];
	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		sibling(n, suffix[i], dir, sizeof dir);
		if (access(dir, F_OK) != 0)
			continue;
		bool data = holds_wal(dir); /* set aside and logged by rx_clear */
		int rc = rx_clear(n, dir);
		if (rc != 0 || !data)
			hw_log("snapshot_leftover_removed", "dir=%s code=%s what=\"%s\"", dir,
			       hw_errname(rc),
			       "a snapshot's copy a crash left: removed at start, it would take "
			       "the room of the next one");
	}
}

/* The newest <data_dir>.replaced-* beside the data directory into out ("" if none). */
static void newest_replaced(const struct hw_node *n, char *out, size_t cap)
{
	char parent[PATH_MAX], prefix[HW_PATH_CHARS_MAX + 16], name[NAME_MAX + 1] = "";
	const char *slash = strrchr(n->cfg.data_dir, '/');
	snprintf(prefix, sizeof prefix, "%s.replaced-",
		 slash != NULL ? slash + 1 : n->cfg.data_dir);
	DIR *d = hw_fs_parent(n->cfg.data_dir, parent) == 0 ? opendir(parent) : NULL;
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strcmp(e->d_name, name) > 0)
			snprintf(name, sizeof name, "%s", e->d_name); /* ms, all of one length */
	if (d != NULL)
		closedir(d);
	if (snprintf(out, cap, "%s%s%s", name[0] ? parent : "", name[0] ? "/" : "", name) >=
	    (int)cap)
		out[0] = '\0'; /* a path past the node's bound is none it made */
}

int hw__snapshot_data_dir_check(const struct hw_node *n)
{
	char tmp[HW_PATH_CHARS_MAX + 32], old[HW_PATH_CHARS_MAX + 64];
	if (access(n->cfg.data_dir, F_OK) == 0 || errno != ENOENT)
		return 0; /* there (another error is hw_store_init's to say) */
	sibling(n, ".snapshot-tmp", tmp, sizeof tmp);
	newest_replaced(n, old, sizeof old);
	bool copy = access(tmp, F_OK) == 0;
	if (!copy && old[0] == '\0')
		return 0; /* a new node: its store is made */
	int rc = copy && !holds_wal(tmp) ? hw_snapshot_swap_finish(n->cfg.data_dir, tmp)
					 : HW_ENOTFOUND;
	if (rc == 0) {
		hw_log("snapshot_install_finished", "dir=%s old_data=%s what=\"%s\"",
		       n->cfg.data_dir, old[0] ? old : "none",
		       "a snapshot's swap cut short between its two renames is finished: its "
		       "copy was whole");
		return 0;
	}
	hw_log("data_dir_missing", "dir=%s copy=%s copy_code=%s old_data=%s code=%s what=\"%s\"",
	       n->cfg.data_dir, copy ? tmp : "none", copy ? hw_errname(rc) : "none",
	       old[0] ? old : "none", hw_errname(HW_ESWAP_CUT),
	       "the data directory is gone but a snapshot install's directories are beside it: "
	       "an empty store would forget this node's epoch and vote, so none is made. Move "
	       "old_data back to dir to start from it, or move copy and every "
	       "<dir>.replaced-* elsewhere to start this node empty");
	return HW_ESWAP_CUT;
}

void hw__snapshot_stop(struct hw_node *n)
{
	struct hw_snap_tx *tx = n->snap_tx;
	if (tx != NULL) {
		if (tx->thread_running)
			pthread_join(tx->thread, NULL);
		tx->thread_running = false;
		tx_reset(tx);
		hw_async_free(tx->done);
		free(tx->chunk);
		free(tx);
		n->snap_tx = NULL;
	}
	if (n->snap_rx != NULL) {
		rx_abort(n, n->snap_rx);
		free(n->snap_rx);
		n->snap_rx = NULL;
	}
}
