/* drills.c: the drill history in the store's `drills` table, and the schedule logic
 * (replica/drills.h). */
#include "replica/drills.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "replica/store_int.h"

#define ROW_FORMAT       1u
#define ROW_FORMAT_POINT 2u /* format 1 and the target point */
#define KEY_BYTES        12u
#define ROW_FIXED        (4u + 4u * 8u)
#define ROW_POINT        (2u * 8u) /* format 2: point_lsn, point_ms after the fixed part */
#define MS_PER_SECOND 1000LL
#define MS_PER_MINUTE (60 * MS_PER_SECOND)
#define MS_PER_HOUR   (60 * MS_PER_MINUTE)
#define MS_PER_DAY    (24 * MS_PER_HOUR)

_Static_assert(HW_DRILL_ROW_BYTES_MAX == ROW_FIXED + ROW_POINT + 2u + HW_DRILL_WHAT_BYTES + 2u +
						 HW_DRILL_REPORT_BYTES,
	       "the bound matches the layout");
_Static_assert(HW_DRILL_REPORT_BYTES < 65536 && HW_DRILL_WHAT_BYTES < 65536,
	       "string lengths fit their u16");

static const char *const kind_names[HW_DRILL_KINDS + 1] = {
	NULL, "verify", "restore", "failover", "procedure",
};

const char *hw_drill_kind_name(enum hw_drill_kind kind)
{
	return kind >= 1 && kind <= HW_DRILL_KINDS ? kind_names[kind] : "?";
}

int hw_drill_kind_parse(const char *name)
{
	for (int k = 1; k <= HW_DRILL_KINDS; k++)
		if (name != NULL && strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

const char *hw_drill_result_name(enum hw_drill_result result)
{
	switch (result) {
	case HW_DRILL_PASS:
		return "PASS";
	case HW_DRILL_FAIL:
		return "FAIL";
	case HW_DRILL_ERROR:
		return "ERROR";
	}
	return "?";
}

const char *hw_drill_scope_name(unsigned scope)
{
	static const char *const names[] = {"full", "older generation", "point in time",
					    "older generation, point in time"};
	return scope < sizeof names / sizeof names[0] ? names[scope] : "partial";
}

/* ---- row encoding ------------------------------------------------------------------ */

/* A u16 length and the string's bytes, at most max - 1 of them (the field's NUL). */
static size_t put_str(uint8_t *p, const char *s, size_t max)
{
	size_t n = strnlen(s, max - 1);
	hw_put_u16(p, (uint16_t)n);
	memcpy(p + 2, s, n);
	return 2 + n;
}

static int get_str(const uint8_t *buf, size_t len, size_t *off, char *dst, size_t max)
{
	if (len - *off < 2)
		return HW_ECORRUPT;
	size_t n = hw_get_u16(buf + *off);
	*off += 2;
	if (n >= max || len - *off < n || memchr(buf + *off, '\0', n) != NULL)
		return HW_ECORRUPT;
	memcpy(dst, buf + *off, n);
	dst[n] = '\0';
	*off += n;
	return 0;
}

int hw_drill_row_encode(const struct hw_drill_row *row, uint8_t *buf, size_t cap, size_t *len)
{
	if (row->kind < 1 || row->kind > HW_DRILL_KINDS || (unsigned)row->result > HW_DRILL_ERROR ||
	    row->scope > UINT8_MAX || row->point_ms < 0)
		return HW_ERANGE;
	bool point = row->point_lsn != 0 || row->point_ms != 0;
	size_t off = ROW_FIXED + (point ? ROW_POINT : 0);
	size_t need = off + 2 + strnlen(row->what, HW_DRILL_WHAT_BYTES - 1) + 2 +
		      strnlen(row->report, HW_DRILL_REPORT_BYTES - 1);
	if (need > cap)
		return HW_ERANGE;
	buf[0] = point ? ROW_FORMAT_POINT : ROW_FORMAT;
	buf[1] = (uint8_t)row->kind;
	buf[2] = (uint8_t)row->result;
	buf[3] = (uint8_t)row->scope;
	hw_put_u64(buf + 4, row->duration_ms);
	hw_put_u64(buf + 12, row->lsn);
	hw_put_u64(buf + 20, row->entries);
	hw_put_u64(buf + 28, row->target_ms);
	if (point) {
		hw_put_u64(buf + ROW_FIXED, row->point_lsn);
		hw_put_u64(buf + ROW_FIXED + 8, (uint64_t)row->point_ms);
	}
	off += put_str(buf + off, row->what, HW_DRILL_WHAT_BYTES);
	off += put_str(buf + off, row->report, HW_DRILL_REPORT_BYTES);
	HW_ASSERT(off == need);
	*len = off;
	return 0;
}

int hw_drill_row_decode(const uint8_t *buf, size_t len, struct hw_drill_row *row)
{
	bool point = len > 0 && buf[0] == ROW_FORMAT_POINT;
	size_t off = ROW_FIXED + (point ? ROW_POINT : 0);
	if (len < off || (buf[0] != ROW_FORMAT && !point) || buf[1] < 1 ||
	    buf[1] > HW_DRILL_KINDS || buf[2] > HW_DRILL_ERROR)
		return HW_ECORRUPT;
	row->kind = (enum hw_drill_kind)buf[1];
	row->result = (enum hw_drill_result)buf[2];
	row->scope = buf[3];
	row->duration_ms = hw_get_u64(buf + 4);
	row->lsn = hw_get_u64(buf + 12);
	row->entries = hw_get_u64(buf + 20);
	row->target_ms = hw_get_u64(buf + 28);
	row->point_lsn = point ? hw_get_u64(buf + ROW_FIXED) : 0;
	row->point_ms = point ? (int64_t)hw_get_u64(buf + ROW_FIXED + 8) : 0;
	if (row->point_ms < 0)
		return HW_ECORRUPT;
	int rc = get_str(buf, len, &off, row->what, sizeof row->what);
	if (rc == 0)
		rc = get_str(buf, len, &off, row->report, sizeof row->report);
	return rc == 0 && off != len ? HW_ECORRUPT : rc;
}

static void key_encode(int64_t time_ms, uint32_t seq, uint8_t key[KEY_BYTES])
{
	hw_lsn_key((uint64_t)time_ms, key); /* the same 8-byte big-endian as an LSN */
	for (int i = 0; i < 4; i++)
		key[8 + i] = (uint8_t)(seq >> (24 - 8 * i));
}

static int key_decode(const MDB_val *k, struct hw_drill_row *row)
{
	if (k->mv_size != KEY_BYTES)
		return HW_ECORRUPT;
	MDB_val t = {.mv_size = 8, .mv_data = k->mv_data};
	const uint8_t *p = (const uint8_t *)k->mv_data + 8;
	row->time_ms = (int64_t)hw_lsn_from_key(&t);
	row->seq = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

/* ---- the table --------------------------------------------------------------------- */

/* Put with the first free sequence of the row's millisecond. */
static int put_row(struct hw_store *s, MDB_txn *txn, struct hw_drill_row *row, const MDB_val *v)
{
	for (uint32_t seq = 0; seq < HW_DRILL_SEQ_MAX; seq++) {
		uint8_t key[KEY_BYTES];
		key_encode(row->time_ms, seq, key);
		MDB_val k = {.mv_size = KEY_BYTES, .mv_data = key};
		MDB_val data = *v; /* on MDB_KEYEXIST LMDB points it at the existing value */
		int rc = mdb_put(txn, s->t.drills, &k, &data, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST)
			continue;
		if (rc == 0)
			row->seq = seq;
		return rc == 0 ? 0 : hw_mdb_err(rc);
	}
	return HW_EBUSY;
}

int hw_store_drill_append(struct hw_store *s, struct hw_drill_row *row)
{
	if (s->failed)
		return HW_ESTORE_FAILED;
	if (s->opts.read_only)
		return -EROFS;
	uint8_t buf[HW_DRILL_ROW_BYTES_MAX];
	size_t len;
	int rc = hw_drill_row_encode(row, buf, sizeof buf, &len);
	if (rc != 0)
		return rc;
	MDB_val v = {.mv_size = len, .mv_data = buf};
	MDB_txn *txn;
	pthread_rwlock_rdlock(&s->map_lock);
	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc == MDB_MAP_RESIZED) { /* another process grew the map: adopt its size */
		rc = mdb_env_set_mapsize(s->env, 0);
		if (rc == 0)
			rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	}
	if (rc != 0) {
		pthread_rwlock_unlock(&s->map_lock);
		return hw_mdb_err(rc);
	}
	rc = put_row(s, txn, row, &v);
	if (rc == 0)
		rc = hw_mdb_err(hw__store_txn_commit(s, txn, NULL)); /* flushed */
	else
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->map_lock);
	return rc;
}

/* One walk_back: the kind it keeps (0: all) and where the rows go. */
struct back {
	int kind;
	int (*take)(void *, const struct hw_drill_row *);
	void *arg;
};

/* 1 stops the walk (take had enough), as a decoding error does. */
static int visit_row(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct back *b = arg;
	struct hw_drill_row row;
	memset(&row, 0, sizeof row);
	int rc = key_decode(k, &row);
	if (rc == 0)
		rc = hw_drill_row_decode(v->mv_data, v->mv_size, &row);
	if (rc != 0)
		return rc;
	if (b->kind != 0 && (int)row.kind != b->kind)
		return 0;
	return b->take(b->arg, &row) != 0;
}

/* Walk from the newest row back, handing each decoded row of kind to take() until it
 * returns non-zero. */
static int walk_back(struct hw_store *s, int kind, int (*take)(void *, const struct hw_drill_row *),
		     void *arg)
{
	struct back b = {.kind = kind, .take = take, .arg = arg};
	int rc = hw__store_walk(s, s->t.drills, MDB_LAST, MDB_PREV, UINT64_MAX, visit_row, &b);
	return rc == 1 ? 0 : rc;
}

struct list_arg {
	struct hw_drill_row *rows;
	size_t cap;
	size_t n;
	bool scheduled_only; /* full scope only (hw_store_drill_last) */
	bool pass_only;
};

static int take_row(void *arg, const struct hw_drill_row *row)
{
	struct list_arg *a = arg;
	if (a->scheduled_only && row->scope != HW_DRILL_SCOPE_FULL)
		return 0;
	if (a->pass_only && row->result != HW_DRILL_PASS)
		return 0;
	if (a->n < a->cap)
		a->rows[a->n++] = *row;
	return a->n >= a->cap;
}

int hw_store_drill_list(struct hw_store *s, int kind, struct hw_drill_row *rows, size_t cap,
			size_t *n)
{
	struct list_arg a = {.rows = rows, .cap = cap};
	*n = 0;
	if (cap == 0)
		return 0;
	int rc = walk_back(s, kind, take_row, &a);
	*n = a.n;
	return rc;
}

int hw_store_drill_last(struct hw_store *s, enum hw_drill_kind kind, bool pass_only,
			struct hw_drill_row *out)
{
	struct list_arg a = {.rows = out, .cap = 1, .scheduled_only = true, .pass_only = pass_only};
	int rc = walk_back(s, (int)kind, take_row, &a);
	return rc != 0 ? rc : a.n == 1 ? 0 : HW_ENOTFOUND;
}

/* ---- schedule ---------------------------------------------------------------------- */

void hw_drill_due(int64_t every_ms, const struct hw_drill_row *last_pass, int64_t now_ms,
		  struct hw_drill_due *out)
{
	memset(out, 0, sizeof *out);
	if (every_ms <= 0) {
		out->state = HW_DRILL_UNSCHEDULED;
		return;
	}
	if (last_pass == NULL) {
		out->state = HW_DRILL_NEVER;
		return;
	}
	out->due_ms = last_pass->time_ms + every_ms;
	if (now_ms > out->due_ms) {
		out->state = HW_DRILL_OVERDUE;
		out->overdue_ms = now_ms - out->due_ms;
	} else {
		out->state = HW_DRILL_ON_TIME;
	}
}

const char *hw_drill_state_name(enum hw_drill_state state)
{
	switch (state) {
	case HW_DRILL_UNSCHEDULED:
		return "not scheduled";
	case HW_DRILL_ON_TIME:
		return "on time";
	case HW_DRILL_OVERDUE:
		return "overdue";
	case HW_DRILL_NEVER:
		return "never passed";
	}
	return "?";
}

/* "<major><unit>[<minor><unit>]": the minor part only when it is not zero. */
static void two_units(char *buf, size_t cap, const char *sign, int64_t a, int64_t major,
		      const char *mu, int64_t minor, const char *nu)
{
	int64_t rest = a % major / minor;
	if (rest)
		snprintf(buf, cap, "%s%lld%s%lld%s", sign, (long long)(a / major), mu,
			 (long long)rest, nu);
	else
		snprintf(buf, cap, "%s%lld%s", sign, (long long)(a / major), mu);
}

const char *hw_drill_duration_format(int64_t ms, char *buf, size_t cap)
{
	int64_t a = ms < 0 ? -ms : ms;
	const char *sign = ms < 0 ? "-" : "";
	if (a >= MS_PER_DAY)
		two_units(buf, cap, sign, a, MS_PER_DAY, "d", MS_PER_HOUR, "h");
	else if (a >= MS_PER_HOUR)
		two_units(buf, cap, sign, a, MS_PER_HOUR, "h", MS_PER_MINUTE, "m");
	else if (a >= MS_PER_MINUTE)
		two_units(buf, cap, sign, a, MS_PER_MINUTE, "m", MS_PER_SECOND, "s");
	else if (a >= MS_PER_SECOND)
		snprintf(buf, cap, "%s%.2f s", sign, (double)a / 1000.0);
	else
		snprintf(buf, cap, "%s%lld ms", sign, (long long)a);
	return buf;
}

/* Every unit from the largest one ms holds down to the second: "12h0m59s", "1m0.250s". */
static void all_units(int64_t ms, char *buf, size_t cap)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {{MS_PER_DAY, "d"}, {MS_PER_HOUR, "h"}, {MS_PER_MINUTE, "m"}};
	int64_t a = ms < 0 ? -ms : ms;
	size_t n = (size_t)snprintf(buf, cap, "%s", ms < 0 ? "-" : "");
	bool started = false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && n < cap; i++) {
		started = started || a >= units[i].ms;
		if (started)
			n += (size_t)snprintf(buf + n, cap - n, "%lld%s",
					      (long long)(a / units[i].ms), units[i].unit);
		a %= units[i].ms;
	}
	if (n >= cap)
		return;
	if (a % MS_PER_SECOND)
		snprintf(buf + n, cap - n, "%lld.%03llds", (long long)(a / MS_PER_SECOND),
			 (long long)(a % MS_PER_SECOND));
	else
		snprintf(buf + n, cap - n, "%llds", (long long)(a / MS_PER_SECOND));
}

const char *hw_drill_duration_vs(int64_t ms, int64_t other_ms, char *buf, size_t cap)
{
	char other[64];
	hw_drill_duration_format(ms, buf, cap);
	hw_drill_duration_format(other_ms, other, sizeof other);
	if (ms != other_ms && !strcmp(buf, other))
		all_units(ms, buf, cap);
	return buf;
}

const char *hw_drill_ms_format(double ms, int64_t target_ms, char *buf, size_t cap)
{
	double target = (double)target_ms;
	for (int decimals = 0;; decimals++) {
		snprintf(buf, cap, "%.*f", decimals, ms);
		/* rounded, a time over the target must still read over it */
		if (!(ms > target) || decimals == 6 || strtod(buf, NULL) > target)
			return buf;
	}
}
