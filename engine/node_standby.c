/* node_standby.c: a standby node: connects to its primary, takes the entries it streams,
 * has the writer check, store and apply them, and acknowledges what it received and
 * what is durable. It refuses entries that do not continue its chain, and says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/log.h"
#include "engine/node_int.h"
#include "replica/entry.h"
#include "wire.pb-c.h"



static void connect_primary(struct hw_node *n);

static void send_ack(struct hw_node *n, const struct hw_pos *pos)
{
	if (n->primary_conn == NULL || !n->primary_ready)
		return;
	Hawser__Wire__V1__Ack m = HAWSER__WIRE__V1__ACK__INIT;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	m.epoch = n->epoch;
	m.received = pos->received;
	m.durable = pos->durable;
	m.applied = pos->applied;
	m.time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	hw__node_send_msg(n->primary_conn, HW_FRAME_ACK, &m);
}

void hw__standby_act(struct hw_node *n, const struct hw_act *a)
{
	switch (a->type) {
	case HW_ACT_WRITE:
		if (hw_writer_idle(n->writer) && hw_writer_filling(n->writer)->n > 0 && !n->failed)
			hw_writer_kick(n->writer);
		break;
	case HW_ACT_ACK:
		send_ack(n, &a->pos);
		break;
	case HW_ACT_DROP:
		if (n->primary_conn != NULL) {
			hw_log("primary_dropped", "code=%s", hw_errname(a->code));
			hw_conn_close(n->primary_conn, a->code);
		}
		break;
	default:
		HW_ASSERT(!"primary action on a standby");
	}
}

static uint64_t entry_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Split an APPEND body into entries and queue them for the writer. Returns 0, 1 when
 * the writer's job has no room (the frame stays unread), or a code. */
static int take_append(struct hw_node *n, const struct hw_frame *f)
{
	struct hw_append_hdr ah;
	if (hw_append_hdr_get(f->body, f->len, &ah) != 0 || ah.count == 0)
		return HW_EFRAME;
	const uint8_t *p = f->body + HW_APPEND_HEADER_BYTES;
	size_t len = f->len - HW_APPEND_HEADER_BYTES;
	struct hw_job *j = hw_writer_filling(n->writer);
	if (j->n + ah.count > HW_BATCH_RECORDS_MAX || !hw_job_fits(j, len))
		return 1;
	uint64_t first = len >= HW_ENTRY_HEADER_BYTES ? entry_u64(p + 8) : 0;
	if (first != n->sb.pos.received + 1) {
		hw_log("append_gap", "expected=%llu got=%llu", (unsigned long long)n->sb.pos.received + 1,
		       (unsigned long long)first);
		return HW_ELSN;
	}
	uint64_t last = first - 1;
	size_t off = 0;
	for (uint32_t i = 0; i < ah.count; i++) {
		if (len - off < HW_ENTRY_HEADER_BYTES)
			return HW_EFRAME;
		size_t el = HW_ENTRY_HEADER_BYTES + (p[off + 4] | (size_t)p[off + 5] << 8 |
						     (size_t)p[off + 6] << 16 | (size_t)p[off + 7] << 24);
		if (el > len - off)
			return HW_EFRAME;
		hw_job_add(j, p + off, el);
		last = entry_u64(p + off + 8);
		off += el;
	}
	if (off != len)
		return HW_EFRAME;
	HW_CORE(n, hw_standby_on_entries(&n->sb, first, last, ah.primary_durable, hw__node_now(n), acts));
	return 0;
}

static int take_primary_hello(struct hw_node *n, const struct hw_frame *f)
{
	Hawser__Wire__V1__Hello *m = hawser__wire__v1__hello__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	int rc = 0;
	if (m->protocol_version != 1 || strcmp(m->cluster_id, n->cfg.cluster_id) != 0 ||
	    m->role != HAWSER__WIRE__V1__ROLE__PRIMARY) {
		rc = HW_ECLUSTER;
	} else {
		snprintf(n->primary_id, sizeof n->primary_id, "%s", m->node_id);
		n->epoch = m->epoch;
		n->primary_ready = true;
		n->reconnect_ms = HW_RECONNECT_MIN_MS;
		hw_standby_on_connect(&n->sb, hw__node_now(n));
		hw_log("following", "primary=%s its_lsn=%llu our_lsn=%llu epoch=%llu", m->node_id,
		       (unsigned long long)m->last_lsn, (unsigned long long)n->sb.pos.durable,
		       (unsigned long long)m->epoch);
	}
	hawser__wire__v1__hello__free_unpacked(m, NULL);
	return rc;
}

static int take_error(const struct hw_frame *f)
{
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, f->len, f->body);
	if (e == NULL)
		return HW_EFRAME;
	int code = e->code < 0 ? e->code : HW_EPROTOCOL;
	hw_log("primary_refused", "code=%s what=\"%s\"", hw_errname(code), e->message);
	hawser__wire__v1__error__free_unpacked(e, NULL);
	return code;
}

static int take_heartbeat(struct hw_node *n, const struct hw_frame *f)
{
	Hawser__Wire__V1__Heartbeat *m = hawser__wire__v1__heartbeat__unpack(NULL, f->len, f->body);
	if (m == NULL)
		return HW_EFRAME;
	HW_CORE(n, hw_standby_on_heartbeat(&n->sb, m->durable_lsn, m->reply_requested,
					hw__node_now(n), acts));
	hawser__wire__v1__heartbeat__free_unpacked(m, NULL);
	return 0;
}

static int primary_frame(struct hw_node *n, const struct hw_frame *f)
{
	if (f->type == HW_FRAME_ERROR)
		return take_error(f);
	if (f->type == HW_FRAME_HELLO)
		return n->primary_ready ? HW_EPROTOCOL : take_primary_hello(n, f);
	if (!n->primary_ready)
		return HW_EPROTOCOL;
	switch (f->type) {
	case HW_FRAME_APPEND:
		return take_append(n, f);
	case HW_FRAME_HEARTBEAT:
		return take_heartbeat(n, f);
	default:
		return HW_EPROTOCOL;
	}
}

static long primary_on_data(struct hw_conn *c, void *arg, const uint8_t *buf, size_t len)
{
	struct hw_node *n = arg;
	size_t used = 0;
	while (used < len) {
		struct hw_frame f;
		long got = hw_frame_parse(buf + used, len - used, &f);
		if (got == 0)
			break;
		if (got < 0) {
			hw_log("frame_refused", "peer=primary code=%s", hw_errname((int)got));
			return got;
		}
		int rc = primary_frame(n, &f);
		if (rc == 1) {
			hw_conn_pause(c);
			break;
		}
		if (rc < 0)
			return rc;
		used += (size_t)got;
	}
	return (long)used;
}

static void primary_on_connect(struct hw_conn *c, void *arg)
{
	struct hw_node *n = arg;
	hw__node_send_hello(n, c, HAWSER__WIRE__V1__ROLE__STANDBY);
}

static void reconnect_cb(struct hw_timer *t, void *arg)
{
	(void)t;
	connect_primary(arg);
}

static void primary_on_close(struct hw_conn *c, void *arg, int code)
{
	(void)c;
	struct hw_node *n = arg;
	if (n->primary_ready || code != -ECONNREFUSED)
		hw_log("primary_lost", "code=%s retry_ms=%lld", hw_errname(code),
		       (long long)n->reconnect_ms);
	n->primary_conn = NULL;
	n->primary_ready = false;
	hw_standby_on_disconnect(&n->sb);
	hw_timer_again(n->reconnect, n->reconnect_ms);
	n->reconnect_ms = n->reconnect_ms * 2 < HW_RECONNECT_MAX_MS ? n->reconnect_ms * 2
								      : HW_RECONNECT_MAX_MS;
}

static const struct hw_conn_ops primary_ops = {
	.on_connect = primary_on_connect,
	.on_data = primary_on_data,
	.on_close = primary_on_close,
};

static void connect_primary(struct hw_node *n)
{
	if (n->primary_conn != NULL || n->failed)
		return;
	int rc = hw_connect(n->ring, n->cfg.primary, &primary_ops, n, &n->primary_conn);
	if (rc != 0) {
		n->primary_conn = NULL;
		hw_timer_again(n->reconnect, n->reconnect_ms);
	}
}

static void writer_cb(void *arg, struct hw_job *j, enum hw_job_stage stage)
{
	struct hw_node *n = arg;
	HW_ASSERT(stage == HW_JOB_DONE);
	if (j->rc == 0) {
		n->rate_count += j->n;
		HW_CORE(n, hw_standby_on_durable(&n->sb, j->last_lsn, hw__node_now(n), acts));
	} else {
		bool refused = hw_is_reject(j->rc) || j->rc == HW_ELSN || j->rc == HW_ECHAIN ||
			       j->rc == HW_ECORRUPT;
		hw_log(refused ? "append_refused" : "storage_failed",
		       "code=%s field=%s rule=\"%s\" durable_lsn=%llu", hw_errname(j->rc),
		       j->rej.field, j->rej.rule, (unsigned long long)j->last_lsn);
		if (!refused)
			n->failed = n->exit_rc = j->rc;
		struct hw_job *f = hw_writer_filling(n->writer);
		f->n = 0; /* they follow the refused entries: they cannot fit either */
		f->used = 0;
		if (n->primary_conn != NULL)
			hw_conn_close(n->primary_conn, j->rc);
	}
	hw_writer_release(n->writer);
	if (hw_writer_filling(n->writer)->n > 0 && !n->failed)
		hw_writer_kick(n->writer);
	if (n->primary_conn != NULL)
		hw_conn_resume(n->primary_conn);
}

void hw__standby_tick(struct hw_node *n)
{
	if (n->primary_ready)
		HW_CORE(n, hw_standby_on_tick(&n->sb, hw__node_now(n), acts));
}

int hw__standby_start(struct hw_node *n)
{
	struct hw_head h;
	hw_store_head(n->store, &h);
	n->epoch = h.epoch;
	hw_standby_init(&n->sb, h.epoch, h.lsn, n->cfg.heartbeat_ms, n->cfg.peer_timeout_ms);
	n->reconnect_ms = HW_RECONNECT_MIN_MS;
	int rc = hw_timer_new(n->loop, 1000000000, 0, reconnect_cb, n, &n->reconnect);
	if (rc == 0)
		rc = hw_writer_start(n->store, n->loop, HW_JOB_APPEND, writer_cb, n, &n->writer);
	if (rc == 0)
		connect_primary(n);
	return rc;
}

void hw__standby_stop(struct hw_node *n)
{
	if (n->reconnect != NULL)
		hw_timer_free(n->reconnect);
	n->reconnect = NULL;
}
