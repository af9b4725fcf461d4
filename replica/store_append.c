/* store_append.c: the append of entries a primary made, on a standby and in a restore
 * (hw_store_append_*), one entry's take, and the replay of the held batches into a new
 * transaction (replica/store.h). */
#include "replica/store_int.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"
#include "base/reject.h"
#include "replica/entry.h"

/* How hw__store_append_one() takes an entry. */
enum append_how {
	APPEND_HASHED = 1u << 0,    /* the caller checked its hash (hw_store_append_hold) */
	APPEND_LOG = 1u << 1,       /* into the log table too (not when a rewind replays it) */
	APPEND_VALIDATED = 1u << 2, /* validated before: not again (append_primary, replay) */
};

/* A bad entry: the sender's fault, refused with the store as it was. */
bool hw__store_entry_refused(int rc)
{
	return hw_is_reject(rc) || rc == HW_ELSN || rc == HW_ECHAIN || rc == HW_ECORRUPT;
}

/* Take the held batches' entries again into a new transaction, which must reach the
 * held head: it holds them as before the failed batch. 0 or an LMDB error (txn then
 * aborted; an entry refused now that was taken before is MDB_CORRUPTED). Their records
 * are not validated again: this process took each of them moments ago, validated (pure,
 * at the entry's time: it would pass again) or from its primary unvalidated
 * (hw_store_append_primary), which validating now could only turn into that failure. */
int hw__store_replay_run(struct hw_store *s)
{
	int rc = hw__store_txn_open(s);
	struct hw_head h = s->head;
	struct hw_reject rej;
	for (size_t off = 0, len; rc == 0 && off < s->replay_held; off += len) {
		len = hw_entry_len(s->replay + off);
		hw_arena_reset(&s->arena);
		rc = hw__store_append_one(s, s->txn, &s->cur, &h, s->replay + off, len,
					  APPEND_HASHED | APPEND_LOG | APPEND_VALIDATED, &rej);
		if (hw__store_entry_refused(rc))
			rc = MDB_CORRUPTED;
	}
	if (rc == 0 && h.lsn != s->head.lsn)
		rc = hw__store_meta_write_pos(s, s->txn, "head", &h);
	if (rc == 0 &&
	    (h.lsn != s->held_head.lsn || memcmp(h.hash, s->held_head.hash, HW_HASH_BYTES)))
		rc = MDB_CORRUPTED;
	if (rc != 0 && s->txn != NULL)
		mdb_txn_abort(hw__store_txn_take(s));
	return rc;
}

/* Check that entry e continues head h. */
static int chain_check(const struct hw_head *h, const struct hw_entry *e, struct hw_reject *rej)
{
	if (e->lsn != h->lsn + 1)
		return hw_reject_set(rej, HW_ELSN, "entry.lsn",
				     "entry LSN %llu does not follow %llu",
				     (unsigned long long)e->lsn, (unsigned long long)h->lsn);
	if (memcmp(e->prev_hash, h->hash, HW_HASH_BYTES) != 0)
		return hw_reject_set(rej, HW_ECHAIN, "entry.prev_hash",
				     "entry %llu does not chain to the hash of %llu",
				     (unsigned long long)e->lsn, (unsigned long long)h->lsn);
	return 0;
}

/* Apply the entry in buf on top of head h and move h to it, as how says (enum
 * append_how). */
int hw__store_append_one(struct hw_store *s, MDB_txn *txn, const struct hw__txn_cursors *cur,
			 struct hw_head *h, const uint8_t *buf, size_t len, unsigned how,
			 struct hw_reject *rej)
{
	bool checked = (how & APPEND_HASHED) != 0;
	struct hw_entry e;
	int rc = checked ? hw_entry_parse(buf, len, &e) : hw_entry_decode(buf, len, &e);
	if (rc != 0) /* parse checks the framing alone, decode the hash too */
		return hw_reject_set(
			rej, rc, "entry",
			checked ? "entry after LSN %llu is malformed"
				: "entry after LSN %llu is malformed or fails its hash",
			(unsigned long long)h->lsn);
	rc = chain_check(h, &e, rej);
	if (rc != 0)
		return rc;
	struct hw__take t = {.data = e.record,
			     .len = e.record_len,
			     .lsn = e.lsn,
			     .time_ms = e.time_ms,
			     .trusted = true,
			     .validated = (how & APPEND_VALIDATED) != 0,
			     .cur = cur};
	rc = hw__store_take_record(s, txn, &t, rej);
	if (rc == 0 && t.dup)
		rc = hw_reject_set(rej, HW_EIDEMPOTENCY, "record_id",
				   "entry %llu repeats the record stored at LSN %llu",
				   (unsigned long long)e.lsn, (unsigned long long)t.dup_lsn);
	if (rc == 0 && (how & APPEND_LOG) != 0)
		rc = hw__store_log_put(s, cur->log, e.lsn, buf, len);
	if (rc != 0)
		return rc;
	h->lsn = e.lsn;
	h->epoch = e.epoch;
	h->time_ms = e.time_ms;
	memcpy(h->hash, e.hash, HW_HASH_BYTES);
	return 0;
}

/* Take entries into the open (or a new) transaction as the prepared batch, like
 * prepare_batch(). hold: the held path (hw_store_append_hold): the caller checked the
 * entries' hashes, and each is kept in replay, since the batch will be held. validated:
 * hw_store_append_primary. *at gets the index of the entry that failed (n when none did). */
static int append_batch(struct hw_store *s, const uint8_t *const *entries, const size_t *lens,
			size_t n, bool hold, bool validated, size_t *at, struct hw_reject *rej)
{
	unsigned how =
		APPEND_LOG | (hold ? APPEND_HASHED : 0u) | (validated ? APPEND_VALIDATED : 0u);
	struct hw_head h;
	int rc = hw__store_batch_begin(s, &h);
	const uint64_t start_lsn = h.lsn;
	size_t i = 0;
	for (; i < n && rc == 0; i++) {
		HW_ASSERT(!hold || s->replay_cap - s->replay_len >= lens[i]); /* replay_bytes() */
		rc = hw__store_append_one(s, s->txn, &s->cur, &h, entries[i], lens[i], how, rej);
		if (rc == 0 && hold) {
			memcpy(s->replay + s->replay_len, entries[i], lens[i]);
			s->replay_len += lens[i];
		}
	}
	*at = rc != 0 && i > 0 ? i - 1 : i;
	return rc != 0 ? rc : hw__store_batch_end(s, start_lsn, &h);
}

/* append_batch() with the checks, the refusal of bad entries and the retry after a
 * grown map. hold: also a refused entry cuts the batch (hw_store_append_hold): the
 * entries before it are taken again on their own and prepared, and its code returned. */
static int append_take(struct hw_store *s, const uint8_t *const *entries, const size_t *lens,
		       size_t n, bool hold, bool validated, struct hw_reject *rej)
{
	HW_ASSERT(n <= HW_BATCH_RECORDS_MAX);
	HW_ASSERT(!s->prepared);
	memset(rej, 0, sizeof *rej);
	if (s->failed != 0)
		return HW_ESTORE_FAILED;
	if (s->opts.read_only)
		return -EROFS;
	int refused = 0;
	for (;;) {
		size_t at;
		int rc = append_batch(s, entries, lens, n, hold, validated, &at, rej);
		if (rc == 0)
			return refused;
		if (hw__store_batch_undo(s, hw__store_entry_refused(rc) ? 0 : rc))
			continue;
		if (s->failed != 0)
			return s->failed;
		if (!hold || at == 0)
			return rc; /* refused: the sender's fault */
		refused = rc;      /* rej keeps its why: the entries before it do not fail */
		n = at;
	}
}

int hw_store_append_entries(struct hw_store *s, const uint8_t *const *entries, const size_t *lens,
			    size_t n, struct hw_reject *rej)
{
	struct hw_reject scratch;
	if (rej == NULL)
		rej = &scratch;
	for (;;) {
		int rc = append_take(s, entries, lens, n, false, false, rej);
		if (rc != 0 || s->holding)
			return rc != 0 ? rc : hw_store_commit(s);
		/* Alone in its transaction: a map full at commit grows the map and retries. */
		rc = hw__store_commit(s, hw__store_txn_take(s), &s->prepared_head);
		if (rc == 0)
			return 0;
		if (!hw__store_batch_failed(s, rc))
			return s->failed;
	}
}

/* hw_store_append_hold() and hw_store_append_primary() (validated). */
static int append_held(struct hw_store *s, const uint8_t *const *entries, const size_t *lens,
		       size_t n, bool validated, struct hw_reject *rej)
{
	struct hw_reject scratch;
	if (rej == NULL)
		rej = &scratch;
	int rc = append_take(s, entries, lens, n, true, validated, rej);
	if (s->prepared) /* all of them, or those before a refused one */
		hw_store_hold(s);
	return rc;
}

int hw_store_append_hold(struct hw_store *s, const uint8_t *const *entries, const size_t *lens,
			 size_t n, struct hw_reject *rej)
{
	return append_held(s, entries, lens, n, false, rej);
}

int hw_store_append_primary(struct hw_store *s, const uint8_t *const *entries, const size_t *lens,
			    size_t n, struct hw_reject *rej)
{
	return append_held(s, entries, lens, n, true, rej);
}
