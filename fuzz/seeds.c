/* seeds.c: hawser-fuzz-seeds OUT_DIR writes the seed corpus of every harness into
 * OUT_DIR/<harness>/ (scripts/fuzz.sh --seeds writes fuzz/corpus/): records from the
 * workload generator (three profiles, poison included), frames and streams made of them,
 * every wire message with its fields set, the channel's sessions (fuzz/session.h, so
 * the harness replays them exactly), node configs, and a real backup's MANIFEST and log.
 * Deterministic: the same tree gives the same files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/workload.h"
#include "engine/io/frame.h"
#include "fuzz/fuzz.h"
#include "fuzz/session.h"
#include "hawser_limits.h"
#include "replica/backup.h"
#include "replica/entry.h"
#include "replica/store.h"
#include "wire.pb-c.h"

#define END_MS      1767225600000LL /* 2026-01-01: the records' clock */
#define RECORDS_MAX 24u

static const char *out_dir;
static uint8_t records[RECORDS_MAX][HW_RECORD_BYTES_MAX];
static size_t record_len[RECORDS_MAX];

static void put(const char *harness, const char *name, const void *p, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", out_dir, harness);
	FUZZ_CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/%s/%s", out_dir, harness, name);
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL && fwrite(p, 1, len, f) == len && fclose(f) == 0);
}

/* 12 terminal_peak, 6 nagoya_port_peak and 6 poison records (some refused). */
static void make_records(void)
{
	static const char *const profiles[] = {"terminal_peak", "nagoya_port_peak", "poison"};
	static const unsigned counts[] = {12, 6, 6};
	size_t k = 0;
	for (size_t p = 0; p < 3; p++) {
		struct hw_workload_opts o = {
			.profile = profiles[p], .seed = 7, .count = 200, .end_ms = END_MS};
		struct hw_workload *w;
		FUZZ_CHECK(hw_workload_new(&o, &w) == 0);
		for (unsigned i = 0; i < counts[p]; i++, k++) {
			struct hw_work_item it;
			/* Skip ahead so the seeds hold more kinds than the first few. */
			for (unsigned skip = 0; skip <= i % 4; skip++)
				FUZZ_CHECK(hw_workload_next(w, records[k], HW_RECORD_BYTES_MAX,
							    &it) == 0);
			record_len[k] = it.len;
			char name[64];
			snprintf(name, sizeof name, "%s-%02u-%s", profiles[p], i, it.kind);
			put("record", name, records[k], it.len);
		}
		hw_workload_free(w);
	}
}

/* A frame of type around body into buf; returns its length. */
static size_t frame(uint8_t *buf, enum hw_frame_type type, const uint8_t *body, size_t len)
{
	hw_frame_header(buf, type, body, (uint32_t)len);
	if (len > 0)
		memcpy(buf + HW_FRAME_HEADER_BYTES, body, len);
	return HW_FRAME_HEADER_BYTES + len;
}

/* An APPEND body of n chained entries of the first records, from LSN 41. */
static size_t append_body(uint8_t *body, uint32_t n)
{
	struct hw_append_hdr h = {.epoch = 3, .primary_durable = 40, .count = n};
	struct hw_entry e = {0};
	size_t len = HW_APPEND_HEADER_BYTES;
	hw_append_hdr_put(body, &h);
	for (uint32_t i = 0; i < n; i++)
		len += hw_entry_encode(body + len, 41 + i, 3, END_MS - 1000 + i, e.hash, records[i],
				       (uint32_t)record_len[i], &e);
	return len;
}

static size_t submit_body(uint8_t *body, size_t rec)
{
	struct hw_submit_hdr h = {.request_id = 9 + rec, .mode = HW_SUBMIT_MODE_DEFAULT};
	hw_submit_hdr_put(body, &h);
	memcpy(body + HW_SUBMIT_HEADER_BYTES, records[rec], record_len[rec]);
	return HW_SUBMIT_HEADER_BYTES + record_len[rec];
}

/* Every scalar, string and bytes field of m set to a plausible non-default value. */
static void fill(ProtobufCMessage *m)
{
	static uint8_t hash[HW_HASH_BYTES] = {0xab, 0xcd, 0xef};
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		void *at = (char *)m + fd->offset;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		switch (fd->type) {
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_INT32:
		case PROTOBUF_C_TYPE_SINT32:
		case PROTOBUF_C_TYPE_ENUM:
			*(uint32_t *)at = 1 + i % 2;
			break;
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_SINT64:
			*(uint64_t *)at = 40 + i;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)at = 1;
			break;
		case PROTOBUF_C_TYPE_STRING:
			*(const char **)at = i % 2 ? FUZZ_CLUSTER : "s1";
			break;
		case PROTOBUF_C_TYPE_BYTES:
			*(ProtobufCBinaryData *)at = (ProtobufCBinaryData){sizeof hash, hash};
			break;
		default:
			break;
		}
	}
}

static void make_frames(void)
{
	static const struct {
		enum hw_frame_type type;
		const ProtobufCMessageDescriptor *d;
	} msgs[] = {
		{HW_FRAME_HELLO, &hawser__wire__v1__hello__descriptor},
		{HW_FRAME_ACK, &hawser__wire__v1__ack__descriptor},
		{HW_FRAME_HEARTBEAT, &hawser__wire__v1__heartbeat__descriptor},
		{HW_FRAME_SNAPSHOT_BEGIN, &hawser__wire__v1__snapshot_begin__descriptor},
		{HW_FRAME_SNAPSHOT_END, &hawser__wire__v1__snapshot_end__descriptor},
		{HW_FRAME_SUBMIT_REPLY, &hawser__wire__v1__submit_reply__descriptor},
		{HW_FRAME_STATUS_REQUEST, &hawser__wire__v1__status_request__descriptor},
		{HW_FRAME_STATUS, &hawser__wire__v1__status__descriptor},
		{HW_FRAME_ERROR, &hawser__wire__v1__error__descriptor},
		{HW_FRAME_LEASE_REQUEST, &hawser__wire__v1__lease_request__descriptor},
		{HW_FRAME_LEASE_ACK, &hawser__wire__v1__lease_ack__descriptor},
		{HW_FRAME_VOTE_REQUEST, &hawser__wire__v1__vote_request__descriptor},
		{HW_FRAME_VOTE, &hawser__wire__v1__vote__descriptor},
		{HW_FRAME_TIMEOUT_NOW, &hawser__wire__v1__timeout_now__descriptor},
		{HW_FRAME_REJOIN, &hawser__wire__v1__rejoin__descriptor},
		{HW_FRAME_SWITCHOVER_REQUEST, &hawser__wire__v1__switchover_request__descriptor},
		{HW_FRAME_SWITCHOVER_REPLY, &hawser__wire__v1__switchover_reply__descriptor},
		{HW_FRAME_PROMOTE_REQUEST, &hawser__wire__v1__promote_request__descriptor},
		{HW_FRAME_PROMOTE_REPLY, &hawser__wire__v1__promote_reply__descriptor},
		{HW_FRAME_LOSS_QUERY, &hawser__wire__v1__loss_query__descriptor},
		{HW_FRAME_LOSS_RANGE, &hawser__wire__v1__loss_range__descriptor},
	};
	static uint8_t body[64 * 1024], buf[2][64 * 1024];
	uint8_t msg[1024];
	char name[64];
	size_t stream = 0;
	for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
		ProtobufCMessage *m = calloc(1, msgs[i].d->sizeof_message);
		FUZZ_CHECK(m != NULL);
		protobuf_c_message_init(msgs[i].d, m);
		fill(m);
		size_t n = protobuf_c_message_pack(m, msg);
		FUZZ_CHECK(n < sizeof msg);
		free(m);
		n = frame(buf[0], msgs[i].type, msg, n);
		snprintf(name, sizeof name, "msg-%02d-%s", msgs[i].type, msgs[i].d->short_name);
		put("wire", name, buf[0], n);
		if (i < 3) { /* hello, ack, heartbeat open the stream seed */
			memcpy(buf[1] + stream, buf[0], n);
			stream += n;
		}
	}
	size_t n = frame(buf[0], HW_FRAME_APPEND, body, append_body(body, 3));
	put("wire", "append-3", buf[0], n);
	memcpy(buf[1] + stream, buf[0], n);
	stream += n;
	for (size_t r = 0; r < 4; r++) {
		n = frame(buf[0], HW_FRAME_SUBMIT, body, submit_body(body, r * 5));
		snprintf(name, sizeof name, "submit-%zu", r * 5);
		put("wire", name, buf[0], n);
	}
	memcpy(buf[1] + stream, buf[0], n);
	stream += n;
	put("wire", "stream", buf[1], stream);
	put("frame", "stream", buf[1], stream);
	put("frame", "append-3", buf[0],
	    frame(buf[0], HW_FRAME_APPEND, body, append_body(body, 3)));
	put("frame", "snapshot-chunk", buf[0],
	    frame(buf[0], HW_FRAME_SNAPSHOT_CHUNK, records[1], record_len[1]));
	put("frame", "empty-status-request", buf[0],
	    frame(buf[0], HW_FRAME_STATUS_REQUEST, NULL, 0));
}

/* Seal each record up to n into out from ch, then its final record; returns the length. */
static size_t seal_records(struct hw_channel *ch, size_t n, uint8_t *out, size_t cap)
{
	size_t len = 0, k;
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(hw_channel_seal(ch, records[i], record_len[i], out + len, cap - len,
					   &k) == 0);
		len += k;
	}
	FUZZ_CHECK(hw_channel_close_seal(ch, out + len, cap - len, &k) == 0);
	return len + k;
}

/* The three session seeds (modes 0-2 of fuzz_channel.c), from one handshake run in
 * fuzz_handshake's order so every draw of the generator matches the harness. */
static void make_sessions(const struct fuzz_ids *ids)
{
	static uint8_t s[3][64 * 1024];
	uint8_t msg[HW_CHANNEL_HANDSHAKE_BYTES_MAX];
	size_t len[3] = {1, 1, 1}, n, used;
	struct hw_channel *i, *r;
	fuzz_pair_new(ids, &i, &r);
	for (int k = 0; k < 3; k++)
		s[k][0] = (uint8_t)k;
	FUZZ_CHECK(hw_channel_handshake_out(i, msg, sizeof msg, &n) == 0); /* hello_I */
	FUZZ_CHECK(hw_channel_handshake_in(r, msg, n, &used) == 0);
	memcpy(s[0] + len[0], msg, n);
	len[0] += n;
	FUZZ_CHECK(hw_channel_handshake_out(r, msg, sizeof msg, &n) == 0); /* hello_R|finish_R */
	FUZZ_CHECK(hw_channel_handshake_in(i, msg, n, &used) == 0);
	memcpy(s[1] + len[1], msg, n);
	len[1] += n;
	FUZZ_CHECK(hw_channel_handshake_out(i, msg, sizeof msg, &n) == 0); /* finish_I */
	FUZZ_CHECK(hw_channel_handshake_in(r, msg, n, &used) == 0);
	memcpy(s[0] + len[0], msg, n);
	len[0] += n;
	FUZZ_CHECK(hw_channel_is_open(i) && hw_channel_is_open(r));
	/* I's records go to modes 0 and 2 (the same bytes), R's to mode 1. */
	n = seal_records(i, 4, s[2] + 1, sizeof s[2] - 1);
	memcpy(s[0] + len[0], s[2] + 1, n);
	len[0] += n;
	len[2] += n;
	len[1] += seal_records(r, 3, s[1] + len[1], sizeof s[1] - len[1]);
	put("channel", "responder-session", s[0], len[0]);
	put("channel", "initiator-session", s[1], len[1]);
	put("channel", "records", s[2], len[2]);
	hw_channel_free(i);
	hw_channel_free(r);
}

/* Mode 3: pieces of 3 records' first bytes, each tamper once and untouched. */
static void make_tampers(void)
{
	uint8_t in[1024];
	for (uint8_t op = 0; op < 7; op++) {
		size_t len = 0;
		in[len++] = 3;
		for (size_t k = 0; k < 3; k++) {
			size_t n = record_len[k] < 200 ? record_len[k] : 200;
			in[len++] = (uint8_t)n;
			memcpy(in + len, records[k], n);
			len += n;
		}
		in[len++] = (uint8_t)(op * 37 + 5); /* offset */
		in[len++] = op;
		char name[32];
		snprintf(name, sizeof name, "tamper-%u", op);
		put("channel", name, in, len);
	}
}

/* Node configs, and node A's key files (fuzz_config.c reads its input as both). */
static void make_configs(const struct fuzz_ids *ids)
{
	static const struct {
		const char *name, *text;
	} c[] = {
		{"primary", "[cluster]\nid = yard-ha\nstandbys = s1, s2\n[node]\nid = p1\n"
			    "role = primary\ndata_dir = /var/lib/hawser/p1\n"
			    "listen = 10.0.0.1:7001      ; replication port\n"
			    "client = unix:/run/hawser.sock\n[durability]\nmode = durable\nk = 1\n"
			    "[limits]\nwaiters_max = 1024\nwindow_records = 4096\n"
			    "heartbeat_ms = 100\npeer_timeout_ms = 2000\nlog_keep_records = 0\n"},
		{"standby", "[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\n"
			    "data_dir = /var/lib/hawser/s1\nclient = 10.0.0.2:7102\n"
			    "primary = 10.0.0.1:7001\n"},
		{"failover", "[cluster]\nid = yard-ha\nstandbys = s1\n[node]\nid = p1\n"
			     "role = primary\ndata_dir = /d/p1\nlisten = 10.0.0.1:7001\n"
			     "[failover]\nvoters = p1@10.0.0.1:7001, s1@10.0.0.2:7001\n"
			     "witness = 10.0.0.3:7900\nwitness_id = w1\nrto = 30s\nrpo = 0\n"},
		{"drills",
		 "\xEF\xBB\xBF# with a BOM\n[cluster]\nid = yard-ha\n[node]\nid = s1\n"
		 "role = standby\ndata_dir = /d/s1\nprimary = 10.0.0.1:7001\n[drills]\n"
		 "verify = 1d\nrestore = 7d\nfailover = 30d\nprocedure = 7d\n"
		 "restore_rto = 12h\nbackup_dir = /backup/p1\nbackup_generations_min = 7\n"
		 "retention_days_min = 30\nbackup_age_max = 1d\n"
		 "offsite_dir = /mnt/vault/p1\nkeys = /etc/hawser/tls.key\n"
		 "witness = 10.0.0.9:7900\n[retention]\nlog_days = 30\n"
		 "backup_generations = 7\nbackup_days = 30\n"},
		{"security", "[cluster]\nid = yard-ha\n[node]\nid = s1\nrole = standby\n"
			     "data_dir = /d/s1\nprimary = 10.0.0.1:7001\n[security]\n"
			     "insecure = true\n"},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		put("config", c[i].name, c[i].text, strlen(c[i].text));
	char key[512];
	long n = hw_identity_format_secret(&ids->a, key, sizeof key);
	FUZZ_CHECK(n > 0);
	put("config", "node.key", key, (size_t)n);
	n = hw_identity_format_public(&ids->a, key, sizeof key);
	FUZZ_CHECK(n > 0);
	put("config", "node.pub", key, (size_t)n);
}

static void copy_file(const char *from, const char *harness, const char *name, char prefix)
{
	static uint8_t buf[1u << 20];
	FILE *f = fopen(from, "rb");
	FUZZ_CHECK(f != NULL);
	size_t len = 0;
	if (prefix)
		buf[len++] = (uint8_t)prefix;
	len += fread(buf + len, 1, sizeof buf - len, f);
	fclose(f);
	put(harness, name, buf, len);
}

/* A real backup: 10 records, a full backup (its MANIFEST), 6 more, an incremental one
 * (its MANIFEST and log.hwl). */
static void make_backup(void)
{
	char dir[PATH_MAX], store[PATH_MAX], bdir[PATH_MAX], path[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/hw-fuzz-seeds-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(bdir, sizeof bdir, "%s/backup", dir);
	struct hw_store *s;
	FUZZ_CHECK(hw_store_init(store) == 0 && hw_store_open(store, NULL, &s) == 0);
	struct hw_submit sub[8];
	struct hw_result res[8];
	for (size_t round = 0; round < 2; round++) {
		for (size_t k = 0; k < 8; k++)
			sub[k] = (struct hw_submit){.data = records[round * 8 + k],
						    .len = record_len[round * 8 + k]};
		FUZZ_CHECK(hw_store_submit(s, 1, END_MS, sub, 8, res) == 0);
		FUZZ_CHECK(hw_backup(s, bdir, NULL, NULL, NULL) == 0);
		snprintf(path, sizeof path, "%s/MANIFEST", bdir);
		copy_file(path, "backup", round ? "manifest-incremental" : "manifest-full", 0);
	}
	snprintf(path, sizeof path, "%s/log.hwl", bdir);
	copy_file(path, "backup", "log", 'L');
	hw_store_close(s);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	FUZZ_CHECK(system(cmd) == 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hawser-fuzz-seeds OUT_DIR\n");
		return 2;
	}
	out_dir = argv[1];
	FUZZ_CHECK(mkdir(out_dir, 0755) == 0 || errno == EEXIST);
	struct fuzz_ids ids;
	fuzz_rng_install();
	fuzz_ids_make(&ids);
	make_records();
	make_frames();
	make_sessions(&ids);
	make_tampers();
	make_configs(&ids);
	make_backup();
	return 0;
}
