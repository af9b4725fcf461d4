/* rig.c: the failover tests' cluster and records (rig.h). */
#include "tests/integration/rig.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "bench/workload.h"
#include "chaos/proxy.h"
#include "hawser.h"
#include "replica/entry.h"
#include "replica/store.h"

const char *const hw_rig_ids[HW_RIG_VOTERS] = {"p1", "s1", "s2", "w1"};

static int free_addr(char *dst)
{
	uint16_t port;
	int rc = hw_free_port(&port);
	if (rc == 0)
		snprintf(dst, HW_RIG_ADDR_BYTES, "127.0.0.1:%u", (unsigned)port);
	return rc;
}

int hw_rig_init(struct hw_rig *r, const char *name)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < HW_RIG_VOTERS; i++)
		r->proc[i].err_fd = r->proc[i].log_fd = -1;
	int rc = hw_test_mkdtemp(name, r->root, sizeof r->root);
	for (int i = 0; rc == 0 && i < HW_RIG_VOTERS; i++) {
		rc = free_addr(r->listen[i]);
		if (rc == 0 && i < HW_RIG_NODES)
			rc = free_addr(r->client[i]);
		snprintf(r->ini[i], sizeof r->ini[i], "%s/%s.ini", r->root, hw_rig_ids[i]);
		snprintf(r->log[i], sizeof r->log[i], "%s/%s.log", r->root, hw_rig_ids[i]);
		snprintf(r->dir[i], sizeof r->dir[i], "%s/%s", r->root, hw_rig_ids[i]);
		for (int j = 0; j < HW_RIG_VOTERS; j++)
			snprintf(r->view[j][i], sizeof r->view[j][i], "%s", r->listen[i]);
	}
	return rc;
}

int hw_rig_free(struct hw_rig *r)
{
	for (int i = 0; i < HW_RIG_VOTERS; i++)
		hw_proc_kill(&r->proc[i]);
	for (unsigned i = 0; i < r->n_proxies; i++)
		hw_proxy_free(r->proxy[i]);
	r->n_proxies = 0;
	return hw_test_rm_rf(r->root);
}

struct hw_proxy *hw_rig_route(struct hw_rig *r, int i, int j)
{
	struct hw_proxy *p;
	if (r->n_proxies == HW_RIG_PROXIES_MAX ||
	    hw_proxy_new("127.0.0.1:0", r->listen[j], &p) != 0)
		return NULL;
	r->proxy[r->n_proxies++] = p;
	if (hw_proxy_start(p) != 0)
		return NULL;
	snprintf(r->view[i][j], sizeof r->view[i][j], "%s", hw_proxy_addr(p));
	return p;
}

static int write_config(const struct hw_rig *r, int i)
{
	FILE *fp = fopen(r->ini[i], "w");
	if (fp == NULL)
		return -errno;
	const char *role = i == 0 ? "primary" : i < HW_RIG_NODES ? "standby" : "witness";
	fprintf(fp,
		"[cluster]\nid = itest\n[node]\nid = %s\nrole = %s\ndata_dir = %s\nlisten = %s\n",
		hw_rig_ids[i], role, r->dir[i], r->listen[i]);
	if (i < HW_RIG_NODES)
		fprintf(fp, "client = %s\n[durability]\nmode = durable\nk = 1\n", r->client[i]);
	if (i < HW_RIG_NODES && (r->waiters_max > 0 || r->log_keep > 0))
		fprintf(fp, "[limits]\n");
	if (i < HW_RIG_NODES && r->waiters_max > 0)
		fprintf(fp, "waiters_max = %u\n", r->waiters_max);
	if (i < HW_RIG_NODES && r->log_keep > 0)
		fprintf(fp, "log_keep_records = %u\n[retention]\nlog_days = 0\n", r->log_keep);
	fprintf(fp,
		"[failover]\nvoters = p1@%s, s1@%s, s2@%s\nwitness = %s\nwitness_id = w1\n"
		"rto = %dms\nrpo = 0\n[security]\ninsecure = true\n",
		r->view[i][0], r->view[i][1], r->view[i][2], r->view[i][3], HW_RIG_RTO_MS);
	return fclose(fp) == 0 ? 0 : -errno;
}

int hw_rig_start(struct hw_rig *r, int i, int wait_ms)
{
	int rc = write_config(r, i);
	const char *args[] = {i < HW_RIG_NODES ? "node" : "witness", "--config", r->ini[i], NULL};
	if (rc == 0)
		rc = hw_proc_start(&r->proc[i], r->log[i], args);
	size_t from = 0;
	if (rc == 0 &&
	    !hw_proc_wait_line(&r->proc[i], &from, "event=started", NULL, wait_ms, NULL, 0))
		rc = -ETIMEDOUT;
	return rc;
}

int hw_rig_start_all(struct hw_rig *r, int wait_ms)
{
	int rc = 0;
	for (int i = HW_RIG_VOTERS - 1; rc == 0 && i >= 0; i--)
		rc = hw_rig_start(r, i, wait_ms);
	size_t from = 0;
	if (rc == 0 && !hw_proc_wait_line(&r->proc[0], &from, "event=became_primary", "epoch=1",
					  wait_ms, NULL, 0))
		rc = -ETIMEDOUT;
	return rc;
}

int hw_rig_stop_all(struct hw_rig *r, int wait_ms)
{
	int first = 0;
	for (int i = 0; i < HW_RIG_VOTERS; i++) {
		if (r->proc[i].pid <= 0)
			continue;
		int code = hw_proc_stop(&r->proc[i], wait_ms);
		if (code != 0 && first == 0)
			first = code;
	}
	return first;
}

/* ---- records ------------------------------------------------------------------------ */

int hw_rig_recs_init(struct hw_rig_recs *r, uint64_t count, uint64_t seed)
{
	memset(r, 0, sizeof *r);
	r->count = count;
	r->rec = calloc(count, sizeof *r->rec);
	r->len = calloc(count, sizeof *r->len);
	r->expect = calloc(count, sizeof *r->expect);
	r->done = calloc(count, sizeof *r->done);
	r->code = calloc(count, sizeof *r->code);
	r->lsn = calloc(count, sizeof *r->lsn);
	r->at_ms = calloc(count, sizeof *r->at_ms);
	if (!r->rec || !r->len || !r->expect || !r->done || !r->code || !r->lsn || !r->at_ms)
		return HW_ENOMEM;
	struct hw_workload_opts wo = {.seed = seed, .count = count, .end_ms = hw_wall_ms()};
	struct hw_workload *w;
	int rc = hw_workload_new(&wo, &w);
	if (rc != 0)
		return rc;
	static uint8_t buf[HW_RECORD_BYTES_MAX];
	for (uint64_t i = 0; rc == 0 && i < count; i++) {
		struct hw_work_item it;
		rc = hw_workload_next(w, buf, sizeof buf, &it);
		r->rec[i] = rc == 0 ? malloc(it.len) : NULL;
		if (rc == 0 && r->rec[i] == NULL)
			rc = HW_ENOMEM;
		if (rc == 0) {
			memcpy(r->rec[i], buf, it.len);
			r->len[i] = it.len;
			r->expect[i] = it.expect;
		}
	}
	hw_workload_free(w);
	return rc;
}

void hw_rig_recs_free(struct hw_rig_recs *r)
{
	for (uint64_t i = 0; r->rec != NULL && i < r->count; i++)
		free(r->rec[i]);
	free(r->rec);
	free(r->len);
	free(r->expect);
	free(r->done);
	free(r->code);
	free(r->lsn);
	free(r->at_ms);
	memset(r, 0, sizeof *r);
}

/* Record i's success is at its LSN in s with the same bytes: 0, or HW_EDIGEST and why. */
static int rec_stored(const struct hw_rig_recs *r, struct hw_store *s, uint64_t i, char *why,
		      size_t cap)
{
	uint8_t *e;
	size_t len;
	if (hw_store_read_entry(s, r->lsn[i], &e, &len) != 0) {
		snprintf(why, cap, "acknowledged record %" PRIu64 " (lsn %" PRIu64 ") is lost", i,
			 r->lsn[i]);
		return HW_EDIGEST;
	}
	bool same = len == HW_ENTRY_HEADER_BYTES + r->len[i] &&
		    memcmp(e + HW_ENTRY_HEADER_BYTES, r->rec[i], r->len[i]) == 0;
	free(e);
	if (!same) {
		snprintf(why, cap, "lsn %" PRIu64 " holds other bytes than record %" PRIu64,
			 r->lsn[i], i);
		return HW_EDIGEST;
	}
	return 0;
}

int hw_rig_recs_check(const struct hw_rig_recs *r, const char *dir, uint64_t *acked, char *why,
		      size_t cap)
{
	struct hw_store *s;
	struct hw_store_opts o = {.read_only = true};
	*acked = 0;
	int rc = hw_store_open(dir, &o, &s);
	if (rc != 0)
		return rc;
	for (uint64_t i = 0; rc == 0 && i < r->count; i++) {
		if (!r->done[i] || r->code[i] != r->expect[i]) {
			snprintf(why, cap, "record %" PRIu64 ": done %d code %s expected %s", i,
				 r->done[i], hw_errname(r->code[i]), hw_errname(r->expect[i]));
			rc = HW_EDIGEST;
		} else if (r->code[i] == 0) {
			rc = rec_stored(r, s, i, why, cap);
			*acked += rc == 0;
		}
	}
	hw_store_close(s);
	return rc;
}

/* The record whose bytes entry e (len bytes, header and record) holds, or r->count. */
static uint64_t rec_of(const struct hw_rig_recs *r, const uint8_t *e, size_t len)
{
	for (uint64_t i = 0; i < r->count; i++)
		if (len == HW_ENTRY_HEADER_BYTES + r->len[i] &&
		    memcmp(e + HW_ENTRY_HEADER_BYTES, r->rec[i], r->len[i]) == 0)
			return i;
	return r->count;
}

int hw_rig_recs_once(const struct hw_rig_recs *r, const char *dir, char *why, size_t cap)
{
	struct hw_store *s;
	struct hw_store_opts o = {.read_only = true};
	int rc = hw_store_open(dir, &o, &s);
	if (rc != 0)
		return rc;
	struct hw_head h;
	rc = hw_store_head(s, &h);
	for (uint64_t lsn = 1; rc == 0 && lsn <= h.lsn; lsn++) {
		uint8_t *e;
		size_t len;
		rc = hw_store_read_entry(s, lsn, &e, &len);
		if (rc != 0)
			break;
		uint64_t i = rec_of(r, e, len);
		free(e);
		if (i < r->count && !(r->done[i] && r->code[i] == 0 && r->lsn[i] == lsn)) {
			snprintf(why, cap,
				 "lsn %" PRIu64 " holds record %" PRIu64
				 " (outcome %s at lsn %" PRIu64 ")",
				 lsn, i, hw_errname(r->code[i]), r->lsn[i]);
			rc = HW_EDIGEST;
		}
	}
	hw_store_close(s);
	return rc;
}
