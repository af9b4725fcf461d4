/* test_checkpoint.c: hawser's own records (replica/checkpoint.h): signed checkpoints and
 * node events are built, validated, refused when malformed or submitted by a TOS, kept
 * in the log without touching the state, read back (replica/audit.h), and judged by
 * verify (a good chain, a flipped signature, an untrusted key, a wrong digest, a copy of
 * a checkpoint, a checkpoint moved past entries it does not vouch for). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "replica/audit.h"
#include "replica/checkpoint.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "replica/store.h"
#include "replica/verify.h"
#include "tests/integration/proc.h"

#define NOW_MS         1790000000000LL /* 2026-09-21: a fixed clock keeps runs identical */
#define PER_CHECKPOINT 10              /* records between two checkpoints */

struct fx {
	char root[256];
	char a[300], b[300], scratch[300];
	struct hw_store *s;
	struct hw_signer k1, k2;
	unsigned next_id;
	int64_t later_ms; /* put_kv's store clock is NOW_MS + this */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_int_equal(hw_test_mkdtemp("checkpoint", f->root, sizeof f->root), 0);
	snprintf(f->a, sizeof f->a, "%s/a", f->root);
	snprintf(f->b, sizeof f->b, "%s/b", f->root);
	snprintf(f->scratch, sizeof f->scratch, "%s/scratch", f->root);
	assert_int_equal(hw_store_init(f->a), 0);
	assert_int_equal(hw_store_open(f->a, NULL, &f->s), 0);
	assert_int_equal(sodium_init() >= 0, 1);
	strcpy(f->k1.node_id, "p1");
	crypto_sign_keypair(f->k1.pk, f->k1.sk);
	strcpy(f->k2.node_id, "rogue");
	crypto_sign_keypair(f->k2.pk, f->k2.sk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hw_store_close(f->s);
	assert_int_equal(hw_test_rm_rf(f->root), 0);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static void submit_at(struct hw_store *s, int64_t time_ms, const uint8_t *buf, size_t len,
		      bool system, struct hw_result *res)
{
	struct hw_submit sub = {.data = buf, .len = len, .system = system};
	assert_int_equal(hw_store_submit(s, 1, time_ms, &sub, 1, res), 0);
}

static void submit(struct hw_store *s, const uint8_t *buf, size_t len, bool system,
		   struct hw_result *res)
{
	submit_at(s, NOW_MS, buf, len, system, res);
}

/* Submit n key/value records; each must be accepted. */
static void put_kv(struct fx *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t buf[256], rid[16] = {1};
		char key[32];
		unsigned id = f->next_id++;
		memcpy(rid + 1, &id, sizeof id);
		snprintf(key, sizeof key, "k%u", id);
		Tos__V1__Record r = TOS__V1__RECORD__INIT;
		Tos__V1__KvPut kv = TOS__V1__KV_PUT__INIT;
		r.record_id = (ProtobufCBinaryData){sizeof rid, rid};
		r.tenant_id = "T1";
		r.facility_id = "JPNGO-NCB";
		r.event_time_ms = NOW_MS - 1000;
		r.schema_version = 1;
		kv.key = key;
		kv.value = (ProtobufCBinaryData){strlen(key), (uint8_t *)key};
		r.payload_case = TOS__V1__RECORD__PAYLOAD_KV_PUT;
		r.kv_put = &kv;
		struct hw_result res;
		struct hw_submit sub = {.data = buf, .len = hw_record_encode(&r, buf, sizeof buf)};
		assert_int_equal(hw_store_submit(f->s, 1, NOW_MS + f->later_ms, &sub, 1, &res), 0);
		assert_int_equal(res.code, 0);
	}
}

/* Append a checkpoint signed by k; returns its LSN. */
static uint64_t checkpoint(struct fx *f, const struct hw_signer *k)
{
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len;
	uint64_t covers;
	struct hw_result res;
	assert_int_equal(hw_checkpoint_make(f->s, k, NOW_MS, buf, sizeof buf, &len, &covers), 0);
	submit(f->s, buf, len, true, &res);
	assert_int_equal(res.code, 0);
	assert_int_equal(res.lsn, covers + 1);
	return res.lsn;
}

/* Three rounds of PER_CHECKPOINT records and a checkpoint by k1, the second one by
 * second_by; then the store is closed (verify opens it). Checkpoints at 11, 22, 33. */
static void three_checkpoints(struct fx *f, const struct hw_signer *second_by)
{
	for (int i = 0; i < 3; i++) {
		put_kv(f, PER_CHECKPOINT);
		assert_int_equal(checkpoint(f, i == 1 ? second_by : &f->k1),
				 (uint64_t)(i + 1) * (PER_CHECKPOINT + 1));
	}
	hw_store_close(f->s);
	f->s = NULL;
}

static void verify_dir(struct fx *f, const char *dir, const uint8_t *trust, size_t n,
		       struct hw_verify_report *r)
{
	struct hw_verify_trust t = {.keys = trust, .count = n};
	assert_int_equal(hw_verify_trusted(dir, f->scratch, &t, NULL, NULL, r), 0);
}

/* Verify dir trusting k1: damage code at lsn, said in words holding what, and the last
 * good checkpoint before it at good_lsn. */
static void expect_damage(struct fx *f, const char *dir, int code, uint64_t lsn, const char *what,
			  uint64_t good_lsn)
{
	struct hw_verify_report r;
	verify_dir(f, dir, f->k1.pk, 1, &r);
	assert_int_equal(r.code, code);
	assert_int_equal(r.first_bad_lsn, lsn);
	assert_non_null(strstr(r.what, what));
	assert_int_equal(r.good_cp_lsn, good_lsn);
}

static void digest_of(struct hw_store *s, uint8_t d[HW_HASH_BYTES])
{
	assert_int_equal(hw_store_digest(s, d), 0);
}

/* Sign c again, in place, over the layout of checkpoint.h written out again here so the
 * test pins it. */
static void resign(Tos__V1__Checkpoint *c, const struct hw_signer *k)
{
	uint8_t msg[200], *p = msg;
	memcpy(p, "hawser-checkpoint-v1", 20);
	p += 20;
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(c->lsn >> (8 * i)), p[8 + i] = (uint8_t)(c->epoch >> (8 * i));
	p += 16;
	memcpy(p, c->chain_hash.data, 32);
	memcpy(p + 32, c->state_digest.data, 32);
	memcpy(p + 64, c->public_key.data, 32);
	p += 96;
	*p++ = (uint8_t)strlen(c->node_id);
	memcpy(p, c->node_id, strlen(c->node_id));
	p += strlen(c->node_id);
	assert_int_equal(c->signature.len, 64);
	crypto_sign_detached(c->signature.data, NULL, msg, (size_t)(p - msg), k->sk);
}

enum tamper { FLIP_SIGNATURE, WRONG_DIGEST };

/* Copy a's log into a new store b, changing the checkpoint at target_lsn as an attacker
 * who rewrites the log would (records changed, every later hash recomputed), so only the
 * signature or the state can tell. */
static void rewrite(struct fx *f, uint64_t target_lsn, enum tamper how)
{
	struct hw_store *a, *b;
	struct hw_store_opts ro = {.read_only = true};
	struct hw_head h;
	assert_int_equal(hw_store_open(f->a, &ro, &a), 0);
	assert_int_equal(hw_store_init(f->b), 0);
	assert_int_equal(hw_store_open(f->b, NULL, &b), 0);
	assert_int_equal(hw_store_head(a, &h), 0);
	uint8_t prev[HW_HASH_BYTES] = {0};
	for (uint64_t lsn = 1; lsn <= h.lsn; lsn++) {
		uint8_t *old, rec[1024], entry[2048];
		size_t len;
		struct hw_entry e;
		assert_int_equal(hw_store_read_entry(a, lsn, &old, &len), 0);
		assert_int_equal(hw_entry_decode(old, len, &e), 0);
		size_t rlen = e.record_len;
		memcpy(rec, e.record, rlen);
		if (lsn == target_lsn) {
			Tos__V1__Record *r = tos__v1__record__unpack(NULL, rlen, rec);
			assert_non_null(r);
			Tos__V1__Checkpoint *c = r->checkpoint;
			assert_non_null(c);
			if (how == FLIP_SIGNATURE) {
				c->signature.data[5] ^= 0x01;
			} else {
				c->state_digest.data[0] ^= 0x80;
				resign(c, &f->k1);
			}
			rlen = hw_record_encode(r, rec, sizeof rec);
			tos__v1__record__free_unpacked(r, NULL);
		}
		struct hw_entry ne;
		size_t n = hw_entry_encode(entry, lsn, e.epoch, e.time_ms, prev, rec,
					   (uint32_t)rlen, &ne);
		memcpy(prev, ne.hash, HW_HASH_BYTES);
		free(old);
		const uint8_t *p = entry;
		assert_int_equal(hw_store_append_entries(b, &p, &n, 1, NULL), 0);
	}
	hw_store_close(b);
	hw_store_close(a);
}

/* ---- records ---- */

/* A checkpoint vouches for the head it was made at: its hash and digest, under a
 * signature that checks; it changes no state table and a TOS cannot submit one. */
static void test_checkpoint_record(void **state)
{
	struct fx *f = *state;
	put_kv(f, 5);
	struct hw_head h;
	uint8_t before[HW_HASH_BYTES], after[HW_HASH_BYTES], buf[HW_SYSTEM_RECORD_BYTES_MAX];
	assert_int_equal(hw_store_head(f->s, &h), 0);
	digest_of(f->s, before);
	size_t len;
	uint64_t covers;
	assert_int_equal(hw_checkpoint_make(f->s, &f->k1, NOW_MS, buf, sizeof buf, &len, &covers),
			 0);
	assert_int_equal(covers, 5);
	Tos__V1__Record *r = tos__v1__record__unpack(NULL, len, buf);
	assert_non_null(r);
	assert_int_equal(r->payload_case, TOS__V1__RECORD__PAYLOAD_CHECKPOINT);
	assert_true(hw_record_is_system(r));
	assert_int_equal(r->checkpoint->lsn, 5);
	assert_memory_equal(r->checkpoint->chain_hash.data, h.hash, HW_HASH_BYTES);
	assert_memory_equal(r->checkpoint->state_digest.data, before, HW_HASH_BYTES);
	assert_int_equal(hw_checkpoint_check(r->checkpoint), 0);
	r->checkpoint->lsn = 4; /* any signed field changed: the signature fails */
	assert_int_equal(hw_checkpoint_check(r->checkpoint), HW_ESIGNATURE);
	tos__v1__record__free_unpacked(r, NULL);

	struct hw_result res;
	submit(f->s, buf, len, false, &res); /* as a TOS would */
	assert_int_equal(res.code, HW_ESYSTEM_RECORD);
	assert_string_equal(res.reject.field, "payload");
	assert_int_equal(hw_store_head(f->s, &h), 0);
	assert_int_equal(h.lsn, 5);
	submit(f->s, buf, len, true, &res);
	assert_int_equal(res.code, 0);
	assert_int_equal(res.lsn, 6);
	digest_of(f->s, after);
	/* Only the record_id index grew: the TOS tables are as before. */
	assert_memory_not_equal(before, after, HW_HASH_BYTES);
}

/* An empty store has nothing to vouch for. */
static void test_checkpoint_empty_store(void **state)
{
	struct fx *f = *state;
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len;
	uint64_t covers;
	assert_int_equal(hw_checkpoint_make(f->s, &f->k1, NOW_MS, buf, sizeof buf, &len, &covers),
			 HW_ENOTFOUND);
}

/* Submit rec as a system record: it must be refused with code at field, and change
 * nothing. */
static void expect_refused(struct fx *f, Tos__V1__Record *rec, int code, const char *field)
{
	uint8_t buf[1024], rid[16] = {9}, before[HW_HASH_BYTES], after[HW_HASH_BYTES];
	struct hw_head h0, h1;
	struct hw_result res;
	rec->record_id = (ProtobufCBinaryData){sizeof rid, rid};
	rec->event_time_ms = NOW_MS;
	rec->schema_version = 1;
	assert_int_equal(hw_store_head(f->s, &h0), 0);
	digest_of(f->s, before);
	submit(f->s, buf, hw_record_encode(rec, buf, sizeof buf), true, &res);
	assert_int_equal(res.code, code);
	assert_string_equal(res.reject.field, field);
	assert_int_equal(hw_store_head(f->s, &h1), 0);
	assert_int_equal(h1.lsn, h0.lsn);
	digest_of(f->s, after);
	assert_memory_equal(before, after, HW_HASH_BYTES);
}

/* Malformed checkpoints and node events are refused with typed errors naming the field,
 * and leave the store as it was. */
static void test_malformed_refused(void **state)
{
	struct fx *f = *state;
	put_kv(f, 2);
	uint8_t h32[32] = {1}, h31[31] = {1}, sig[64] = {1};
	Tos__V1__Checkpoint c = TOS__V1__CHECKPOINT__INIT;
	c.lsn = 1;
	c.chain_hash = (ProtobufCBinaryData){31, h31};
	c.state_digest = (ProtobufCBinaryData){32, h32};
	c.node_id = "p1";
	c.public_key = (ProtobufCBinaryData){32, h32};
	c.signature = (ProtobufCBinaryData){64, sig};
	Tos__V1__Record r = TOS__V1__RECORD__INIT;
	r.payload_case = TOS__V1__RECORD__PAYLOAD_CHECKPOINT;
	r.checkpoint = &c;
	expect_refused(f, &r, HW_ERANGE, "checkpoint.chain_hash");
	c.chain_hash = (ProtobufCBinaryData){32, h32};
	c.signature.len = 0;
	expect_refused(f, &r, HW_EMISSING, "checkpoint.signature");
	c.signature.len = 64;
	c.lsn = 0;
	expect_refused(f, &r, HW_EMISSING, "checkpoint.lsn");
	c.lsn = 1;
	r.tenant_id = "T1"; /* a system record belongs to no tenant */
	expect_refused(f, &r, HW_ERANGE, "tenant_id");
	r.tenant_id = "";

	Tos__V1__NodeEvent ev = TOS__V1__NODE_EVENT__INIT;
	r.payload_case = TOS__V1__RECORD__PAYLOAD_NODE_EVENT;
	r.node_event = &ev;
	ev.node_id = "p1";
	expect_refused(f, &r, HW_EMISSING, "node_event.kind");
	ev.kind = TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE;
	ev.peer_key = (ProtobufCBinaryData){31, h31};
	expect_refused(f, &r, HW_ERANGE, "node_event.peer_key");
	ev.peer_key.len = 0;
	ev.node_id = "";
	expect_refused(f, &r, HW_EMISSING, "node_event.node_id");

	struct hw_reject rej;
	uint8_t buf[1024];
	size_t len = 0;
	assert_int_equal(hw_node_event_encode(&ev, NOW_MS, buf, sizeof buf, &len, &rej),
			 HW_EMISSING);
	assert_int_equal(len, 0);
}

struct seen {
	unsigned events, checkpoints;
	uint64_t event_lsn;
	Tos__V1__NodeEventKind kind;
};

static int seen_cb(void *arg, const struct hw_entry *e, const Tos__V1__Record *rec)
{
	struct seen *s = arg;
	if (rec->payload_case == TOS__V1__RECORD__PAYLOAD_CHECKPOINT) {
		s->checkpoints++;
		return 0;
	}
	s->events++;
	s->event_lsn = e->lsn;
	s->kind = rec->node_event->kind;
	return 0;
}

/* A node event goes into the log like any record: a standby that appends the primary's
 * entries holds it too, with an equal digest, and the audit walk finds it on both. */
static void test_node_event_replicated(void **state)
{
	struct fx *f = *state;
	put_kv(f, 3);
	Tos__V1__NodeEvent ev = TOS__V1__NODE_EVENT__INIT;
	ev.kind = TOS__V1__NODE_EVENT_KIND__PROMOTION;
	ev.node_id = "s1";
	ev.epoch = 2;
	ev.detail = "lease of p1 expired";
	uint8_t buf[1024];
	size_t len;
	struct hw_reject rej;
	struct hw_result res;
	assert_int_equal(hw_node_event_encode(&ev, NOW_MS, buf, sizeof buf, &len, &rej), 0);
	submit(f->s, buf, len, true, &res);
	assert_int_equal(res.code, 0);
	checkpoint(f, &f->k1);

	struct hw_store *b;
	assert_int_equal(hw_store_init(f->b), 0);
	assert_int_equal(hw_store_open(f->b, NULL, &b), 0);
	uint8_t entries[8192], da[HW_HASH_BYTES], db[HW_HASH_BYTES];
	size_t elen;
	uint64_t last;
	assert_int_equal(hw_store_read_entries(f->s, 1, 100, entries, sizeof entries, &elen, &last),
			 0);
	assert_int_equal(last, 5);
	for (size_t off = 0; off < elen;) {
		struct hw_entry e;
		size_t n = hw_entry_len(entries + off);
		assert_int_equal(hw_entry_decode(entries + off, n, &e), 0);
		const uint8_t *p = entries + off;
		assert_int_equal(hw_store_append_entries(b, &p, &n, 1, NULL), 0);
		off += n;
	}
	digest_of(f->s, da);
	digest_of(b, db);
	assert_memory_equal(da, db, HW_HASH_BYTES);
	struct hw_store *stores[2] = {f->s, b};
	for (int i = 0; i < 2; i++) {
		struct seen s = {0};
		assert_int_equal(hw_audit_walk(stores[i], 0, seen_cb, &s), 0);
		assert_int_equal(s.events, 1);
		assert_int_equal(s.checkpoints, 1);
		assert_int_equal(s.event_lsn, 4);
		assert_int_equal(s.kind, TOS__V1__NODE_EVENT_KIND__PROMOTION);
		s = (struct seen){0};
		assert_int_equal(hw_audit_walk(stores[i], NOW_MS + 1, seen_cb, &s), 0);
		assert_int_equal(s.events, 0); /* --since after it */
	}
	hw_store_close(b);
}

/* Append a node event of kind by node with peer, key (NULL: none) and detail; its LSN. */
static uint64_t append_event(struct fx *f, Tos__V1__NodeEventKind kind, const char *node,
			     const char *peer, uint8_t *key, const char *detail)
{
	Tos__V1__NodeEvent ev = TOS__V1__NODE_EVENT__INIT;
	uint8_t sha[HW_HASH_BYTES];
	memset(sha, (int)kind, sizeof sha);
	ev.kind = kind;
	ev.node_id = (char *)node;
	ev.epoch = 3;
	ev.peer_addr = (char *)peer;
	if (key != NULL)
		ev.peer_key = (ProtobufCBinaryData){32, key};
	if (kind == TOS__V1__NODE_EVENT_KIND__CONFIG_CHANGE)
		ev.config_sha = (ProtobufCBinaryData){sizeof sha, sha};
	ev.detail = (char *)detail;
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len;
	struct hw_reject rej;
	struct hw_result res;
	assert_int_equal(hw_node_event_encode(&ev, NOW_MS, buf, sizeof buf, &len, &rej), 0);
	submit(f->s, buf, len, true, &res);
	assert_int_equal(res.code, 0);
	return res.lsn;
}

struct kinds_seen {
	unsigned n;
	Tos__V1__NodeEventKind kinds[16];
	char peer[16][40];
	size_t key_len[16];
	uint8_t key0[16];
	size_t sha_len[16];
};

static int kinds_cb(void *arg, const struct hw_entry *e, const Tos__V1__Record *rec)
{
	(void)e;
	struct kinds_seen *k = arg;
	const Tos__V1__NodeEvent *ev = rec->node_event;
	assert_true(k->n < 16);
	k->kinds[k->n] = ev->kind;
	snprintf(k->peer[k->n], sizeof k->peer[0], "%s", ev->peer_addr);
	k->key_len[k->n] = ev->peer_key.len;
	k->key0[k->n] = ev->peer_key.len ? ev->peer_key.data[0] : 0;
	k->sha_len[k->n] = ev->config_sha.len;
	k->n++;
	return 0;
}

/* The kinds the node now appends (step-down, config change, refused channel, drill,
 * export, restore, operator command) go into the log and read back with their peer
 * address, key and config hash; each has its name; an address longer than a reference
 * (35 characters: the node cuts a Unix path) is refused. */
static void test_event_kinds(void **state)
{
	struct fx *f = *state;
	static const Tos__V1__NodeEventKind kinds[] = {
		TOS__V1__NODE_EVENT_KIND__STEP_DOWN,    TOS__V1__NODE_EVENT_KIND__CONFIG_CHANGE,
		TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE, TOS__V1__NODE_EVENT_KIND__DRILL,
		TOS__V1__NODE_EVENT_KIND__EXPORT,       TOS__V1__NODE_EVENT_KIND__RESTORE,
		TOS__V1__NODE_EVENT_KIND__OPERATOR};
	static const char *const names[] = {"step_down", "config_change", "auth_failure", "drill",
					    "export",    "restore",       "operator"};
	uint8_t key[32];
	memset(key, 0xab, sizeof key);
	put_kv(f, 2);
	for (size_t i = 0; i < 7; i++) {
		bool who = kinds[i] >= TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE;
		assert_int_equal(append_event(f, kinds[i], "p1", who ? "10.1.2.3:40000" : "",
					      who ? key : NULL, names[i]),
				 3 + i);
		assert_string_equal(hw_node_event_name(kinds[i]), names[i]);
	}
	struct kinds_seen k = {0};
	assert_int_equal(hw_audit_walk(f->s, 0, kinds_cb, &k), 0);
	assert_int_equal(k.n, 7);
	for (size_t i = 0; i < 7; i++) {
		bool who = kinds[i] >= TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE;
		assert_int_equal(k.kinds[i], kinds[i]);
		assert_string_equal(k.peer[i], who ? "10.1.2.3:40000" : "");
		assert_int_equal(k.key_len[i], who ? 32 : 0);
		assert_int_equal(k.key0[i], who ? 0xab : 0);
		assert_int_equal(k.sha_len[i], kinds[i] == TOS__V1__NODE_EVENT_KIND__CONFIG_CHANGE
							? HW_HASH_BYTES
							: 0);
	}
	Tos__V1__NodeEvent ev = TOS__V1__NODE_EVENT__INIT;
	ev.kind = TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE;
	ev.node_id = "p1";
	ev.peer_addr = "unix:/var/run/hawser/a-rather-long-socket-name.sock";
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len = 0;
	struct hw_reject rej;
	assert_int_equal(hw_node_event_encode(&ev, NOW_MS, buf, sizeof buf, &len, &rej), HW_ERANGE);
	assert_string_equal(rej.field, "node_event.peer_addr");
	assert_string_equal(hw_node_event_name((Tos__V1__NodeEventKind)11), "unknown");
}

struct last_seen {
	const char *node;
	unsigned visited;
	uint64_t lsn;
};

/* Newest first: stop at the first event of node. */
static int last_cb(void *arg, const struct hw_entry *e, const Tos__V1__Record *rec)
{
	struct last_seen *l = arg;
	l->visited++;
	if (rec->payload_case != TOS__V1__RECORD__PAYLOAD_NODE_EVENT ||
	    strcmp(rec->node_event->node_id, l->node) != 0)
		return 0;
	l->lsn = e->lsn;
	return 1;
}

/* The backward walk (how a starting node finds its last recorded config) visits the
 * newest system records first, stops where the callback says, and looks no further back
 * than its bound of entries (ordinary records count towards it). */
static void test_walk_back(void **state)
{
	struct fx *f = *state;
	uint64_t old = append_event(f, TOS__V1__NODE_EVENT_KIND__CONFIG_CHANGE, "p1", "", NULL,
				    "older");
	uint64_t newer = append_event(f, TOS__V1__NODE_EVENT_KIND__CONFIG_CHANGE, "p1", "", NULL,
				      "newer");
	append_event(f, TOS__V1__NODE_EVENT_KIND__PROMOTION, "s1", "", NULL, "s1 leads");
	put_kv(f, 5);
	assert_true(newer > old);
	struct last_seen l = {.node = "p1"};
	assert_int_equal(hw_audit_walk_back(f->s, 100, last_cb, &l), 1);
	assert_int_equal(l.lsn, newer);
	assert_int_equal(l.visited, 2); /* s1's event, then p1's newer one */
	l = (struct last_seen){.node = "p1"};
	assert_int_equal(hw_audit_walk_back(f->s, 6, last_cb, &l), 0); /* 5 records + s1's */
	assert_int_equal(l.lsn, 0);
	assert_int_equal(l.visited, 1);
	l = (struct last_seen){.node = "nobody"};
	assert_int_equal(hw_audit_walk_back(f->s, 1000, last_cb, &l), 0);
	assert_int_equal(l.visited, 3);
}

/* ---- verify ---- */

/* A log with three checkpoints by a trusted key verifies; the last one is named. */
static void test_verify_good_chain(void **state)
{
	struct fx *f = *state;
	three_checkpoints(f, &f->k1);
	struct hw_verify_report r;
	verify_dir(f, f->a, f->k1.pk, 1, &r);
	assert_int_equal(r.code, 0);
	assert_true(r.state_rebuilt);
	assert_true(r.keys_judged);
	assert_int_equal(r.checkpoints, 3);
	assert_int_equal(r.good_cp_lsn, 33);
	assert_int_equal(r.good_cp_covers, 32);
	verify_dir(f, f->a, NULL, 0, &r); /* no keys given: signatures still checked */
	assert_int_equal(r.code, 0);
	assert_false(r.keys_judged);
	assert_int_equal(r.checkpoints, 3);
}

/* Whoever rewrites the log can drop the checkpoints after what he changed: with keys to
 * judge by, a tail no trusted checkpoint vouches for that is longer than three cadences,
 * in entries or in the time entries were coming in, is damage (HW_EUNVOUCHED after the
 * entry the last checkpoint vouches for); a pause longer than a cadence (idle, or down)
 * does not count; within the bounds, or with them off, the tail is reported only. */
static void test_verify_unvouched_tail(void **state)
{
	struct fx *f = *state;
	put_kv(f, PER_CHECKPOINT);
	assert_int_equal(checkpoint(f, &f->k1), 11); /* vouches for LSN 10 */
	put_kv(f, 4 * PER_CHECKPOINT);               /* LSN 12..51, at NOW_MS */
	for (int i = 1; i <= 5; i++) {               /* LSN 52..56, 50 s apart */
		f->later_ms = i * 50000;
		put_kv(f, 1);
	}
	f->later_ms = 9 * 3600000; /* LSN 57 after 9 idle hours */
	put_kv(f, 1);
	hw_store_close(f->s);
	f->s = NULL;
	struct hw_verify_report r;
	struct hw_verify_trust t = {.keys = f->k1.pk, .count = 1, .cadence_records = 15};
	assert_int_equal(hw_verify_trusted(f->a, f->scratch, &t, NULL, NULL, &r), 0);
	assert_int_equal(r.code, HW_EUNVOUCHED); /* 47 entries > 3 x 15 */
	assert_int_equal(r.first_bad_lsn, 11);
	assert_int_equal(r.unvouched, 47);
	assert_int_equal(r.unvouched_ms, 0); /* no time cadence: not counted */
	assert_non_null(strstr(r.what, "the 47 entries after LSN 10"));
	t.cadence_records = 16; /* 47 <= 48 */
	assert_int_equal(hw_verify_trusted(f->a, f->scratch, &t, NULL, NULL, &r), 0);
	assert_int_equal(r.code, 0);
	assert_int_equal(r.unvouched, 47);
	t.cadence_ms = 60000; /* 5 steps of 50 s: 250 s > 3 x 60 s; 9 h idle not counted */
	assert_int_equal(hw_verify_trusted(f->a, f->scratch, &t, NULL, NULL, &r), 0);
	assert_int_equal(r.code, HW_EUNVOUCHED);
	assert_int_equal(r.unvouched_ms, 250000);
	t.cadence_ms = 90000; /* 250 s <= 270 s */
	assert_int_equal(hw_verify_trusted(f->a, f->scratch, &t, NULL, NULL, &r), 0);
	assert_int_equal(r.code, 0);
	t = (struct hw_verify_trust){.cadence_records = 1}; /* no keys: nothing to judge by */
	assert_int_equal(hw_verify_trusted(f->a, f->scratch, &t, NULL, NULL, &r), 0);
	assert_int_equal(r.code, 0);
}

/* A copy of a genuine checkpoint, re-encoded with a fresh record_id (which the signature
 * does not cover), vouches for nothing new: no primary writes one (its next checkpoint
 * covers at least the previous one's own entry), and copies spread through a rewritten
 * tail would keep restarting the unvouched bound. It is damage at the copy's LSN. */
static void test_verify_copied_checkpoint(void **state)
{
	struct fx *f = *state;
	put_kv(f, PER_CHECKPOINT);
	assert_int_equal(checkpoint(f, &f->k1), 11); /* vouches for LSN 10 */
	put_kv(f, PER_CHECKPOINT);                   /* LSN 12..21 */
	uint8_t *old, rec[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len;
	struct hw_entry e;
	assert_int_equal(hw_store_read_entry(f->s, 11, &old, &len), 0);
	assert_int_equal(hw_entry_decode(old, len, &e), 0);
	Tos__V1__Record *r = tos__v1__record__unpack(NULL, e.record_len, e.record);
	assert_non_null(r);
	assert_non_null(r->checkpoint);
	r->record_id.data[0] ^= 0xff;
	size_t rlen = hw_record_encode(r, rec, sizeof rec);
	tos__v1__record__free_unpacked(r, NULL);
	free(old);
	struct hw_result res;
	submit(f->s, rec, rlen, true, &res); /* LSN 22, vouching for LSN 10 again */
	assert_int_equal(res.code, 0);
	assert_int_equal(res.lsn, 22);
	hw_store_close(f->s);
	f->s = NULL;
	expect_damage(f, f->a, HW_ESIGNATURE, 22, "a copy", 11);
}

/* The unvouched time runs from the entry the last good checkpoint vouches for, not from
 * the checkpoint's own entry: a genuine checkpoint appended after entries that came in
 * over 250 s (a forger moving it past what he rewrote) does not vouch for them. */
static void test_verify_unvouched_from_covered(void **state)
{
	struct fx *f = *state;
	put_kv(f, PER_CHECKPOINT); /* LSN 1..10 at NOW_MS */
	uint8_t buf[HW_SYSTEM_RECORD_BYTES_MAX];
	size_t len;
	uint64_t covers;
	assert_int_equal(hw_checkpoint_make(f->s, &f->k1, NOW_MS, buf, sizeof buf, &len, &covers),
			 0);
	assert_int_equal(covers, 10);
	for (int i = 1; i <= 5; i++) { /* LSN 11..15, 50 s apart */
		f->later_ms = i * 50000;
		put_kv(f, 1);
	}
	struct hw_result res;
	submit_at(f->s, NOW_MS + f->later_ms, buf, len, true, &res); /* LSN 16 */
	assert_int_equal(res.code, 0);
	assert_int_equal(res.lsn, 16);
	put_kv(f, 1); /* LSN 17, at the same time */
	hw_store_close(f->s);
	f->s = NULL;
	struct hw_verify_report r;
	struct hw_verify_trust t = {.keys = f->k1.pk, .count = 1, .cadence_ms = 60000};
	assert_int_equal(hw_verify_trusted(f->a, f->scratch, &t, NULL, NULL, &r), 0);
	assert_int_equal(r.good_cp_lsn, 16);
	assert_int_equal(r.unvouched, 7);
	assert_int_equal(r.unvouched_ms, 250000); /* > 3 x 60 s */
	assert_int_equal(r.code, HW_EUNVOUCHED);
	assert_int_equal(r.first_bad_lsn, 11);
	t.cadence_ms = 90000; /* 250 s <= 270 s */
	assert_int_equal(hw_verify_trusted(f->a, f->scratch, &t, NULL, NULL, &r), 0);
	assert_int_equal(r.code, 0);
}

/* One flipped signature byte in a rewritten log (hashes recomputed) is found at the
 * checkpoint's LSN; the checkpoint before it is the last good one. */
static void test_verify_flipped_signature(void **state)
{
	struct fx *f = *state;
	three_checkpoints(f, &f->k1);
	rewrite(f, 22, FLIP_SIGNATURE);
	struct hw_verify_report r;
	verify_dir(f, f->b, f->k1.pk, 1, &r);
	assert_int_equal(r.code, HW_ESIGNATURE);
	assert_int_equal(r.first_bad_lsn, 22);
	assert_int_equal(r.good_cp_lsn, 11);
	assert_int_equal(r.checkpoints, 1);
}

/* A checkpoint signed by a key that is not trusted is reported at its LSN. */
static void test_verify_untrusted_key(void **state)
{
	struct fx *f = *state;
	three_checkpoints(f, &f->k2);
	struct hw_verify_report r;
	verify_dir(f, f->a, f->k1.pk, 1, &r);
	assert_int_equal(r.code, HW_EUNTRUSTED);
	assert_int_equal(r.first_bad_lsn, 22);
	assert_int_equal(r.good_cp_lsn, 11);
	assert_non_null(strstr(r.what, "rogue"));
	uint8_t both[64];
	memcpy(both, f->k1.pk, 32);
	memcpy(both + 32, f->k2.pk, 32);
	verify_dir(f, f->a, both, 2, &r); /* trusting both keys: intact */
	assert_int_equal(r.code, 0);
	assert_int_equal(r.checkpoints, 3);
}

/* A validly signed checkpoint whose digest is not the state at the LSN it covers is
 * found by the rebuild, at the checkpoint's LSN (the last one: rewriting an earlier
 * entry changes every later hash, which the next checkpoint's chain hash catches). */
static void test_verify_wrong_digest(void **state)
{
	struct fx *f = *state;
	three_checkpoints(f, &f->k1);
	rewrite(f, 33, WRONG_DIGEST);
	struct hw_verify_report r;
	verify_dir(f, f->b, f->k1.pk, 1, &r);
	assert_int_equal(r.code, HW_EDIGEST);
	assert_int_equal(r.first_bad_lsn, 33);
	assert_int_equal(r.good_cp_lsn, 22);
	assert_int_equal(r.good_cp_covers, 21);
	assert_int_equal(r.checkpoints, 2);
}

/* Rewriting an entry before a checkpoint (hashes recomputed, a plausible forgery) breaks
 * the chain hash the next checkpoint signed: reported there. */
static void test_verify_rewritten_history(void **state)
{
	struct fx *f = *state;
	three_checkpoints(f, &f->k1);
	rewrite(f, 22, WRONG_DIGEST);
	expect_damage(f, f->b, HW_ESIGNATURE, 33, "entry 32", 22);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_checkpoint_record),
		T(test_checkpoint_empty_store),
		T(test_malformed_refused),
		T(test_node_event_replicated),
		T(test_verify_good_chain),
		T(test_verify_unvouched_tail),
		T(test_verify_copied_checkpoint),
		T(test_verify_unvouched_from_covered),
		T(test_verify_flipped_signature),
		T(test_verify_untrusted_key),
		T(test_verify_wrong_digest),
		T(test_verify_rewritten_history),
		T(test_event_kinds),
		T(test_walk_back),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
