/* test_snapshot.c: a standby so far behind that the primary's log no longer holds its
 * position gets a snapshot over the replication connection, then the log. Real `hawser
 * node` processes on loopback; the primary keeps log_keep_records = 2000. Every
 * acknowledged record must end up on the standby (the same bytes wherever both logs still
 * hold the entry), heads and digests must match, and a standby's old data is kept aside.
 *
 * HW_SNAPSHOT_RECORDS (environment) changes the size of the primary's history for a
 * measurement run; the default keeps the test well under 30 s. */

#include "tests/integration/snapshot_fix.h"

static uint64_t history_records(void)
{
	const char *v = getenv("HW_SNAPSHOT_RECORDS");
	return v != NULL && strtoull(v, NULL, 10) > KEEP_RECORDS * 2 ? strtoull(v, NULL, 10)
								     : HISTORY_RECORDS;
}

/* Wait for the standby's snapshot_installed line and the primary's snapshot_sent; print
 * what they measured. Returns the snapshot's LSN. */
static uint64_t wait_installed(struct fix *f, size_t *smark, size_t *pmark)
{
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	const char *secs = strstr(line, "seconds=");
	print_message("standby: %s\n", strstr(line, "lsn="));
	assert_non_null(secs);
	uint64_t lsn = field_u64(line, "lsn");
	assert_true(field_u64(line, "bytes") > 0);
	assert_true(hw_proc_wait_line(&f->p.proc, pmark, "event=snapshot_sent", "peer=s1",
				      EVENT_WAIT_MS, line, sizeof line));
	print_message("primary: %s\n", strstr(line, "lsn="));
	return lsn;
}

/* Every acknowledged record's entry has the same bytes in both stores wherever both
 * logs still hold it; where one does not, it lies at or before that log's base. */
static void compare_acked(const char *a, const char *b, const struct hw_load *l)
{
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *sa, *sb;
	struct hw_head ba, bb;
	assert_int_equal(hw_store_open(a, &ro, &sa), 0);
	assert_int_equal(hw_store_open(b, &ro, &sb), 0);
	assert_int_equal(hw_store_base(sa, &ba), 0);
	assert_int_equal(hw_store_base(sb, &bb), 0);
	uint64_t both = 0;
	for (uint64_t i = 0; i < l->count; i++) {
		if (!l->done_rec[i] || l->out[i].code != 0)
			continue;
		uint64_t lsn = l->out[i].lsn;
		uint8_t *ea = NULL, *eb = NULL;
		size_t la = 0, lb = 0;
		int ra = hw_store_read_entry(sa, lsn, &ea, &la);
		int rb = hw_store_read_entry(sb, lsn, &eb, &lb);
		if (ra == 0 && rb == 0) {
			assert_int_equal(la, lb);
			assert_memory_equal(ea, eb, la);
			both++;
		} else {
			assert_true((ra == HW_ENOTFOUND && lsn <= ba.lsn) ||
				    (rb == HW_ENOTFOUND && lsn <= bb.lsn));
		}
		free(ea);
		free(eb);
	}
	print_message("acked entries in both logs: %llu; bases: primary %llu, standby %llu\n",
		      (unsigned long long)both, (unsigned long long)ba.lsn,
		      (unsigned long long)bb.lsn);
	assert_true(ba.lsn > 0);
	assert_true(both > 0);
	hw_store_close(sb);
	hw_store_close(sa);
}

/* Catch up, stop both nodes, compare acked entries, heads and digests, and verify the
 * standby (chain and records; its state cannot be rebuilt from a pruned log). */
static void stop_and_compare(struct fix *f, uint64_t last_lsn)
{
	uint64_t seen;
	int rc = hw_tnode_wait_durable(&f->s, last_lsn, CATCHUP_MS, &seen);
	if (rc != 0)
		fail_msg("standby durable at %llu, primary at %llu", (unsigned long long)seen,
			 (unsigned long long)last_lsn);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	compare_acked(f->p.dir, f->s.dir, &f->load);
	char why[256] = "";
	if (hw_tstore_compare(f->p.dir, f->s.dir, NULL, why, sizeof why) != 0)
		fail_msg("primary vs standby: %s", why);
	char log[HW_PROC_PATH_MAX + 16], out[4096];
	snprintf(log, sizeof log, "%s/verify.log", f->root);
	const char *args[] = {"verify", f->s.dir, NULL};
	assert_int_equal(hw_proc_run(log, out, sizeof out, CATCHUP_MS, args), 0);
	assert_non_null(strstr(out, "state tables not checked"));
}

/* Is there a directory named <dir>.replaced-* beside dir? Copies its path to out. */
static bool replaced_dir(const char *dir, char *out, size_t cap)
{
	const char *slash = strrchr(dir, '/');
	char parent[HW_PROC_PATH_MAX / 2], prefix[128];
	snprintf(parent, sizeof parent, "%.*s", (int)(slash - dir), dir);
	snprintf(prefix, sizeof prefix, "%s.replaced-", slash + 1);
	DIR *d = opendir(parent);
	assert_non_null(d);
	bool found = false;
	for (struct dirent *e; (e = readdir(d)) != NULL && !found;) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(out, cap, "%.200s/%.200s", parent, e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* dir/name, a file taking bytes on disk (dir is made if missing). */
static void put_file(const char *dir, const char *name, off_t bytes)
{
	char file[HW_PROC_PATH_MAX + 64];
	assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
	snprintf(file, sizeof file, "%s/%s", dir, name);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(bytes > 0 ? posix_fallocate(fd, 0, bytes) : 0, 0);
	assert_int_equal(close(fd), 0);
}

static void pruned_primary(struct fix *f, uint64_t records)
{
	pruned_primary_in(f, f->root, records);
}

/* SNAPSHOT_END, the copy's BLAKE2b sum in it. */
static void put_end(int fd, const uint8_t *sum)
{
	Hawser__Wire__V1__SnapshotEnd e = HAWSER__WIRE__V1__SNAPSHOT_END__INIT;
	e.blake2b = (ProtobufCBinaryData){HW_HASH_BYTES, (uint8_t *)sum};
	hw_fp_msg(fd, HW_FRAME_SNAPSHOT_END, &e.base);
}

/* An empty standby starts after the primary took 20,000 records and pruned all but the
 * last 2,000: it is sent a snapshot (snapshot_installed), then the log, while records
 * keep arriving; at the end every acked record is on it and the digests are equal. */
static void test_empty_standby_gets_snapshot(void **state)
{
	struct fix *f = *state;
	uint64_t history = history_records();
	start_primary(f);
	load_start(f, history + LIVE_RECORDS);
	assert_true(hw_load_wait_acked(&f->load, history, CATCHUP_MS));
	init_standby(f);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	uint64_t lsn = wait_installed(f, &smark, &pmark);
	assert_true(lsn >= history);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_false(replaced_dir(f->s.dir, aside, sizeof aside)); /* it was empty */
	uint64_t acked_then = hw_load_acked(&f->load);
	print_message("records acked when installed: %llu of %llu\n",
		      (unsigned long long)acked_then, (unsigned long long)f->load.count);
	stop_and_compare(f, load_all_acked(&f->load));
}

/* A standby that holds the first 1,000 records of the primary's chain, stopped while
 * the primary takes 20,000 more and prunes past it, gets a snapshot when it comes back;
 * its old data directory is kept aside, whole, and it ends equal to the primary. */
static void test_behind_standby_gets_snapshot(void **state)
{
	struct fix *f = *state;
	uint64_t history = history_records();
	start_primary(f);
	init_standby(f);
	size_t smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	load_start(f, BEHIND_RECORDS + history);
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->s, BEHIND_RECORDS, CATCHUP_MS, &seen), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	hw_proc_kill(&f->s.proc);
	uint64_t last = load_all_acked(&f->load);

	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *old;
	struct hw_head old_head;
	assert_int_equal(hw_store_open(f->s.dir, &ro, &old), 0);
	assert_int_equal(hw_store_head(old, &old_head), 0);
	hw_store_close(old);
	assert_true(old_head.lsn >= BEHIND_RECORDS);
	assert_true(old_head.lsn + KEEP_RECORDS < last); /* the primary pruned past it */

	size_t pmark = hw_proc_mark(&f->p.proc);
	smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(wait_installed(f, &smark, &pmark) >= last);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=catchup_done", NULL, EVENT_WAIT_MS,
				      line, sizeof line));
	assert_true(field_u64(line, "lsn") >= last); /* the snapshot brought it level */
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	struct hw_head aside_head;
	assert_int_equal(hw_store_open(aside, &ro, &old), 0);
	assert_int_equal(hw_store_head(old, &aside_head), 0);
	hw_store_close(old);
	assert_int_equal(aside_head.lsn, old_head.lsn);
	assert_memory_equal(aside_head.hash, old_head.hash, HW_HASH_BYTES);
	stop_and_compare(f, last);
}

/* pruned_primary, and standby s1 named (not started) on a small file system of its own
 * (opts, as small_fs). */
static void pruned_primary_small_standby(struct fix *f, const char *opts, char *fs, size_t cap)
{
	small_fs(f, opts, fs, cap);
	pruned_primary(f, HISTORY_FAILED);
	struct hw_tnode_opts so = {.primary_addr = f->p.listen};
	assert_int_equal(hw_tnode_init(&f->s, fs, "s1", &so), 0);
}

/* A standby whose data directory's file system has no room for the copy and the log's
 * headroom says how much it has in its hello, and the primary refuses it there
 * (snapshot_no_room on=standby, HW_ESTORE_FULL) without copying its store, which the
 * standby would have refused at the announcement (rx_room, for a primary that does not
 * read the figure) after the primary had copied its whole store, at each try; the
 * standby backs off and asks again, and nothing of a snapshot is made or received. */
static void test_standby_no_room_refuses(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8];
	pruned_primary_small_standby(f, "size=64m", fs, sizeof fs);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_no_room", "on=standby",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_ESTORE_FULL", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost", "retry_ms=800",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_no_room", "on=standby",
				      EVENT_WAIT_MS, NULL, 0)); /* asked again */
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_copying"));
	assert_false(file_has(f->s.log, "event=snapshot_receiving"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* A copy a crash left half received beside the standby's data directory takes no room
 * from the next one: it is removed when the standby starts (and counted as room in its
 * hello besides): with a 200 MiB leftover on a 256 MiB file system the primary sends the
 * snapshot (it once refused the hello for ever, the leftover being removed only when a
 * copy was announced), and the standby installs it. */
static void test_leftover_copy_is_room(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8], tmp[HW_PROC_PATH_MAX + 64];
	pruned_primary_small_standby(f, "size=256m", fs, sizeof fs);
	assert_int_equal(hw_store_init(f->s.dir), 0); /* it ran before, then crashed */
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", f->s.dir);
	put_file(tmp, "data.mdb", 200 << 20);
	size_t smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      CATCHUP_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_no_room"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* A standby whose data directory is a mount point cannot have it swapped for a snapshot
 * (EBUSY; docs/operations.md): it says so when it starts, the install fails, its old
 * data stays, and it waits 10 s before it asks again (each try costs the primary a whole
 * copy). */
static void test_install_failed_backs_off(void **state)
{
	struct fix *f = *state;
	pruned_primary(f, HISTORY_FAILED);
	init_standby(f);
	assert_int_equal(mkdir(f->s.dir, 0700), 0);
	if (mount("tmpfs", f->s.dir, "tmpfs", 0, "size=256m") != 0)
		HW_SKIP("mount tmpfs at %s: %s (needs CAP_SYS_ADMIN)", f->s.dir, strerror(errno));
	size_t smark = 0, first = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &first, "event=data_dir_mount_point", f->s.dir,
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "cannot swap the data directory", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost", "retry_ms=10000",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=data_dir_mount_point"));
	assert_int_equal(umount2(f->s.dir, MNT_DETACH), 0);
}

/* Hello as a primary far ahead, then a snapshot whose bytes do not match its BLAKE2b: its
 * chunks FEED_GAP_MS apart, with no heartbeat, until the standby logs its progress (that
 * line goes to line), then the rest at once. */
static void send_bad_snapshot(int fd, struct hw_proc *s, size_t *smark, char *line, size_t cap)
{
	static uint8_t wrong[HW_HASH_BYTES] = {0};
	uint8_t chunk[4096];
	memset(chunk, 0x5a, sizeof chunk);
	put_begin(fd);
	bool seen = false;
	for (unsigned i = 0; i < SNAP_CHUNKS; i++) {
		/* No heartbeat: on a slow link a primary's heartbeats wait behind megabytes of
		 * chunks, and the chunks themselves show that it is there. */
		hw_fp_frame(fd, HW_FRAME_SNAPSHOT_CHUNK, chunk, sizeof chunk);
		seen = seen || hw_proc_wait_line(s, smark, "event=snapshot_progress", NULL,
						 FEED_GAP_MS, line, cap);
	}
	assert_true(seen);
	put_end(fd, wrong);
}

/* A refused snapshot left the standby's store in dir as it was (head before): not moved
 * aside, no partial copy beside it. */
static void assert_store_kept(const char *dir, const struct hw_head *before)
{
	char aside[HW_PROC_PATH_MAX + 64], tmp[HW_PROC_PATH_MAX + 32];
	assert_false(replaced_dir(dir, aside, sizeof aside));
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", dir);
	struct stat st;
	assert_int_not_equal(stat(tmp, &st), 0);
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *s;
	struct hw_head after;
	assert_int_equal(hw_store_open(dir, &ro, &s), 0);
	assert_int_equal(hw_store_head(s, &after), 0);
	hw_store_close(s);
	assert_int_equal(after.lsn, before->lsn);
	assert_memory_equal(after.hash, before->hash, HW_HASH_BYTES);
}

/* A snapshot whose bytes do not match its BLAKE2b is refused with HW_ECORRUPT: the
 * connection closes, the partial copy is removed, and the standby's own data stays where
 * it was, unchanged and not moved aside; while it came, its progress was logged. */
static void test_bad_snapshot_refused(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store(f->s.dir, 50, 0);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	char line[512];
	send_bad_snapshot(cfd, &f->s.proc, &smark, line, sizeof line);
	print_message("standby: %s\n", strstr(line, "bytes="));
	assert_true(field_u64(line, "bytes") < SNAP_CHUNKS * 4096u);
	assert_int_equal(field_u64(line, "of"), SNAP_CHUNKS * 4096u);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "code=HW_ECORRUPT", EVENT_WAIT_MS, line, sizeof line));
	print_message("standby: %s\n", strstr(line, "lsn="));
	fake_primary_done(f, cfd, lfd);
	assert_store_kept(f->s.dir, &before);
}

/* As a primary of epoch 1 whose store file is file, head its head: the whole file as a
 * snapshot, BEGIN and chunks; its BLAKE2b to sum, for the END. */
static void put_copy(int fd, const char *file, const struct hw_head *head,
		     uint8_t sum[HW_HASH_BYTES])
{
	FILE *fp = fopen(file, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	size_t len = (size_t)ftell(fp);
	rewind(fp);
	uint8_t *bytes = malloc(len);
	assert_true(bytes != NULL && fread(bytes, 1, len, fp) == len);
	fclose(fp);
	Hawser__Wire__V1__SnapshotBegin b = HAWSER__WIRE__V1__SNAPSHOT_BEGIN__INIT;
	b.epoch = 1;
	b.lsn = head->lsn;
	b.hash = (ProtobufCBinaryData){HW_HASH_BYTES, (uint8_t *)head->hash};
	b.bytes = len;
	hw_fp_msg(fd, HW_FRAME_SNAPSHOT_BEGIN, &b.base);
	for (size_t off = 0; off < len; off += 1u << 20)
		hw_fp_frame(fd, HW_FRAME_SNAPSHOT_CHUNK, bytes + off,
			    len - off < (1u << 20) ? len - off : (1u << 20));
	crypto_generichash(sum, HW_HASH_BYTES, bytes, len, NULL, 0);
	free(bytes);
}

/* As a primary (an older one, which checks no chain) whose store file is file, head its
 * head: Hello, then the whole file as a snapshot, with its BLAKE2b. */
static void send_snapshot_of(int fd, const char *file, const struct hw_head *head)
{
	uint8_t sum[HW_HASH_BYTES];
	hw_fp_hello(fd, "p1", head->lsn, NULL);
	put_copy(fd, file, head, sum);
	put_end(fd, sum);
}

/* A node a rejoin rewound to LSN 0 holds no entry, but holds the records it set aside:
 * a snapshot replacing its store keeps the old data aside (an empty node's is removed). */
static void test_rewound_node_data_kept(void **state)
{
	struct fix *f = *state;
	char addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	make_store(f->s.dir, 50, 0);
	struct hw_store *st;
	uint64_t moved = 0;
	assert_int_equal(hw_store_open(f->s.dir, NULL, &st), 0);
	assert_int_equal(hw_store_rewind(st, 0, 1790000000000LL, "test", &moved), 0);
	hw_store_close(st);
	assert_int_equal(moved, 50);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 60, 0);
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	send_snapshot_of(cfd, file, &head);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	fake_primary_done(f, cfd, lfd);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	assert_non_null(strstr(line, aside));
}

/* An older primary, which does not check the standby's chain before it copies, sends a
 * whole snapshot of another chain: the standby refuses it (HW_EDIVERGED), keeps its store
 * as it was, and follows no more (an older primary would only copy its store again). */
static void test_other_chain_copy_refused(void **state)
{
	struct fix *f = *state;
	char addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store(f->s.dir, 50, 0);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store_epoch(copy, 60, 0, 2); /* entry 1 differs: epoch 2 */
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	send_snapshot_of(cfd, file, &head);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=not_following", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	fake_primary_done(f, cfd, lfd);
	assert_store_kept(f->s.dir, &before);
}

/* A node's data directory found in <data_dir>.snapshot-tmp (a swap exchanged the
 * directories and a crash came before the old one was set aside) is set aside as
 * <data_dir>.replaced-<ms> when the node starts, never deleted. */
static void test_leftover_data_dir_kept(void **state)
{
	struct fix *f = *state;
	char addr[64], left[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 64];
	int lfd = fake_primary_for(f, addr, sizeof addr); /* it never answers */
	make_store(f->s.dir, 50, 0);
	snprintf(left, sizeof left, "%s.snapshot-tmp", f->s.dir);
	snprintf(file, sizeof file, "%s/wal", left);
	assert_int_equal(mkdir(left, 0700), 0);
	put_file(file, "kept", 0);
	size_t first = 0;
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &first, "event=snapshot_old_data_kept", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	close(lfd);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	snprintf(file, sizeof file, "%.200s/wal/kept", aside);
	assert_int_equal(access(file, F_OK), 0);
	assert_int_not_equal(access(left, F_OK), 0);
}

/* The copies a crash leaves beside a data directory, <data_dir>.snapshot-send (a primary
 * killed while it streamed a snapshot) and <data_dir>.snapshot-tmp (a standby killed
 * while it received one), are removed when the node starts (snapshot_leftover_removed),
 * whatever its role: they took their room until the next snapshot before. */
static void test_leftover_copies_removed(void **state)
{
	struct fix *f = *state;
	char send[HW_PROC_PATH_MAX + 32], tmp[HW_PROC_PATH_MAX + 32];
	init_primary(f);
	assert_int_equal(hw_store_init(f->p.dir), 0); /* it ran before, then crashed */
	snprintf(send, sizeof send, "%s.snapshot-send", f->p.dir);
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", f->p.dir);
	put_file(send, "data.mdb", 1 << 20);
	put_file(tmp, "data.mdb", 1 << 20);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	size_t first = 0;
	assert_true(hw_proc_wait_line(&f->p.proc, &first, "event=snapshot_leftover_removed", send,
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->p.proc, &first, "event=snapshot_leftover_removed", tmp,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_not_equal(access(send, F_OK), 0);
	assert_int_not_equal(access(tmp, F_OK), 0);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_false(replaced_dir(f->p.dir, aside, sizeof aside));
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
}

/* A standby whose store is of another chain (its entry 1 differs: the primary's data was
 * wiped or swapped, or the standby points at the wrong primary), behind the primary's
 * pruned log, is refused with HW_EDIVERGED: no snapshot is copied or sent, and its store
 * stays as it was, not moved aside. A snapshot would have replaced it. */
static void test_other_chain_refused(void **state)
{
	struct fix *f = *state;
	pruned_primary(f, HISTORY_RECORDS);
	init_standby(f);
	struct hw_head before = make_store(f->s.dir, 50, 0);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	char line[512];
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=standby_diverged",
				      "reason=other_chain", EVENT_WAIT_MS, line, sizeof line));
	/* a field of its own, not quoted into code's value */
	assert_non_null(strstr(line, " code=HW_EDIVERGED reason=other_chain repeated=0"));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_copying"));
	assert_store_kept(f->s.dir, &before);
}

/* Lines of log (read so far) holding event (and needle2 when not NULL). */
static unsigned lines_with(const char *log, const char *event, const char *needle2)
{
	unsigned n = 0;
	for (const char *at = log; (at = strstr(at, event)) != NULL; at++) {
		const char *end = strchr(at, '\n');
		const char *two = needle2 != NULL ? strstr(at, needle2) : at;
		n += two != NULL && (end == NULL || two < end);
	}
	return n;
}

/* Tries of a refused standby the test watches: 50 ms doubling, so the seventh comes
 * about 3.2 s after the first and the eighth 3.2 s after that; with the 1 s cap of an
 * ordinary redial, 1 s. */
#define REFUSED_TRIES 8u
/* A gap between the last two that only a back-off past the ordinary cap (1 s) makes: a
 * loaded machine makes gaps longer, never shorter. */
#define REFUSED_GAP_MIN_MS 2000

/* A standby of another chain keeps being refused until an operator acts: it redials
 * backing off past the ordinary 1 s cap, and each side logs the refusal once (the
 * primary standby_diverged, the standby primary_refused and primary_lost), not at every
 * try; restored (stopped, its store moved away, started empty), it follows at once. */
static void test_other_chain_backs_off(void **state)
{
	struct fix *f = *state;
	start_primary(f);
	load_start(f, 20);
	load_all_acked(&f->load);
	init_standby(f);
	make_store(f->s.dir, 50, 0);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	int64_t seen[REFUSED_TRIES];
	for (unsigned i = 0; i < REFUSED_TRIES; i++) {
		assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=session_lost",
					      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
		seen[i] = hw_mono_ms();
	}
	hw_proc_pump(&f->s.proc, 0);
	assert_int_equal(lines_with(f->p.proc.log, "event=standby_diverged", "other_chain"), 1);
	assert_int_equal(lines_with(f->s.proc.log, "event=primary_refused", "HW_EDIVERGED"), 1);
	assert_int_equal(lines_with(f->s.proc.log, "event=primary_lost", "HW_EDIVERGED"), 1);
	assert_true(seen[REFUSED_TRIES - 1] - seen[REFUSED_TRIES - 2] >= REFUSED_GAP_MIN_MS);

	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	char aside[HW_PROC_PATH_MAX + 16];
	snprintf(aside, sizeof aside, "%s.other", f->s.dir);
	assert_int_equal(rename(f->s.dir, aside), 0);
	smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=following", NULL, EVENT_WAIT_MS,
				      NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
}

/* The shim's variables that hold a node's write (chaos/faultfs.c HW_FAULT_HOLD_*). */
static const char *const hold_vars[] = {"LD_PRELOAD", "HW_FAULT_PATH", "HW_FAULT_HOLD_AFTER",
					"HW_FAULT_HOLD_FIFO", "HW_FAULT_HOLD_MATCH"};

/* Start node with the shim holding its write after the three that create its store
 * (its first commit after them), until the test opens fifo for writing and closes it;
 * *mark (NULL: none) gets its log's mark. */
static void start_held(struct hw_tnode *node, const char *fifo, size_t *mark)
{
	const char *values[] = {HW_FAULTS_LIB, node->dir, "3", fifo, "data.mdb"};
	for (size_t i = 0; i < sizeof hold_vars / sizeof hold_vars[0]; i++)
		assert_int_equal(setenv(hold_vars[i], values[i], 1), 0);
	int rc = hw_tnode_start(node, mark);
	for (size_t i = 0; i < sizeof hold_vars / sizeof hold_vars[0]; i++)
		unsetenv(hold_vars[i]);
	assert_int_equal(rc, 0);
}

/* The held write goes on. */
static void release_held(const char *fifo)
{
	int fd = hw_test_fifo_open(fifo, O_WRONLY, 30);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
}

/* A standby of the primary's own chain is taken while the primary's store has not yet
 * committed entry 1 (its writer holds the batch open up to HW_WRITER_COMMIT_MS; here
 * the shim holds that commit's write, the first after the three that create the store,
 * until the test lets it through): entry 1's hash is in the outbox then. Read from the
 * store alone, it was all zero, and the restarted standby was refused as of another
 * chain (HW_EDIVERGED, "entry 1 differs") until the commit. */
static void test_own_chain_before_commit(void **state)
{
	struct fix *f = *state;
	char fifo[HW_PROC_PATH_MAX + 8];
	snprintf(fifo, sizeof fifo, "%s/hold", f->root);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	init_primary(f);
	start_held(&f->p, fifo, NULL);
	load_start(f, 1); /* entry 1: its commit is held, not its log write */
	load_all_acked(&f->load);
	size_t pmark = 0;
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=hold_injected", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	init_standby(f);
	size_t smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=following", "its_lsn=1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=following", "our_lsn=1",
				      EVENT_WAIT_MS, NULL, 0));
	hw_proc_pump(&f->p.proc, 0);
	hw_proc_pump(&f->s.proc, 0);
	assert_int_equal(lines_with(f->p.proc.log, "event=standby_diverged", NULL), 0);
	assert_int_equal(lines_with(f->s.proc.log, "event=primary_refused", NULL), 0);
	release_held(fifo);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
}

/* Entries a standby's log holds and its store has not committed yet (its writer holds
 * batches open up to HW_WRITER_APPLY_COMMIT_MS; here the shim holds that commit's
 * write) are its chain all the same: a snapshot of another chain, from an older primary
 * that checks none, is refused (HW_EDIVERGED) and they stay. Read from the store alone,
 * its chain was none, and the copy replaced them. */
static void test_other_chain_copy_refused_uncommitted(void **state)
{
	struct fix *f = *state;
	char addr[64], fifo[HW_PROC_PATH_MAX + 8], copy[HW_PROC_PATH_MAX + 32];
	char file[HW_PROC_PATH_MAX + 48];
	snprintf(fifo, sizeof fifo, "%s/hold", f->root);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	int lfd = fake_primary_for(f, addr, sizeof addr);
	size_t smark = 0;
	start_held(&f->s, fifo, &smark);
	int cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	struct hw_fp_log log;
	hw_fp_log_init(&log, 1, 50);
	hw_fp_hello(cfd, "p1", 50, NULL);
	hw_fp_append(cfd, &log, 50, 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=hold_injected", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 60, 0);
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	uint8_t sum[HW_HASH_BYTES];
	put_copy(cfd, file, &head, sum);
	put_end(cfd, sum);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "code=HW_EDIVERGED", EVENT_WAIT_MS, NULL, 0));
	release_held(fifo);
	fake_primary_done(f, cfd, lfd);
	struct hw_head kept = {.lsn = log.lsn};
	memcpy(kept.hash, log.hash, HW_HASH_BYTES);
	hw_fp_log_free(&log);
	assert_store_kept(f->s.dir, &kept);
}

/* A standby whose log already holds entries of epoch 2 refuses a primary of epoch 1 (a
 * deposed one) without voters to tell it: stale_epoch, and its log is left as it was
 * (it followed it). */
static void test_stale_primary_refused(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store_epoch(f->s.dir, 50, 0, 2);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	hw_fp_hello(cfd, "p1", 100, NULL); /* epoch 1 */
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=stale_epoch", "its_epoch=1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_null(strstr(f->s.proc.log, "event=following"));
	fake_primary_done(f, cfd, lfd);
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *st;
	struct hw_head after;
	assert_int_equal(hw_store_open(f->s.dir, &ro, &st), 0);
	assert_int_equal(hw_store_head(st, &after), 0);
	hw_store_close(st);
	assert_int_equal(after.lsn, before.lsn);
}

/* A standby whose log holds entries of epoch 2, following a primary whose hello says
 * epoch 2, refuses a SNAPSHOT_BEGIN of epoch begin_epoch, as it refuses the primary's
 * other frames (snapshot_refused): no copy is received, and its store stays as it was.
 * It was received and could be installed. */
static void other_epoch_begin_refused(struct fix *f, uint64_t begin_epoch)
{
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	struct hw_head before = make_store_epoch(f->s.dir, 50, 0, 2);
	size_t smark = 0, from;
	int cfd = standby_connects(f, lfd, &smark);
	hw_fp_hello_epoch(cfd, "p1", 100000, NULL, 2);
	put_begin_epoch(cfd, begin_epoch);
	from = smark;
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "snapshot of another epoch than its primary's", EVENT_WAIT_MS,
				      NULL, 0));
	/* one older than this node holds is a deposed primary's, queued before it lost */
	assert_true(begin_epoch > 2 || hw_proc_wait_line(&f->s.proc, &from, "event=stale_epoch",
							 "its_epoch=1", EVENT_WAIT_MS, NULL, 0));
	fake_primary_done(f, cfd, lfd);
	assert_false(file_has(f->s.log, "event=snapshot_receiving"));
	assert_store_kept(f->s.dir, &before);
}

static void test_old_epoch_snapshot_refused(void **state)
{
	other_epoch_begin_refused(*state, 1);
}

/* ... and one of a later epoch than its hello's: not the primary it follows. */
static void test_new_epoch_snapshot_refused(void **state)
{
	other_epoch_begin_refused(*state, 3);
}

/* Make fake_primary_for's standby s1 a voter too: [failover] voters p1, s1 and s2 and
 * witness w1, where nothing listens at p1's, s2's or w1's address (s1 follows the fake
 * primary at node.primary, a bare hint, and a test dials s1's election port, whose
 * address goes to listen, as another voter). rto 30 s: s1 stands in no election of its
 * own meanwhile; heartbeat_ms 1000: a fake primary that sends none is not silent for
 * 3 s. */
static void standby_votes(struct fix *f, char *listen, size_t cap)
{
	uint16_t port[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(hw_free_port(&port[i]), 0);
	snprintf(listen, cap, "127.0.0.1:%u", (unsigned)port[0]);
	FILE *ini = fopen(f->s.ini, "a");
	assert_non_null(ini);
	fprintf(ini,
		"[node]\nlisten = %s\n[durability]\nmode = durable\n[limits]\nheartbeat_ms = 1000\n"
		"[failover]\nvoters = p1@127.0.0.1:%u, s1@%s, s2@127.0.0.1:%u\n"
		"witness = 127.0.0.1:%u\nwitness_id = w1\nrto = 30s\nrpo = 0\n",
		listen, (unsigned)port[1], listen, (unsigned)port[2], (unsigned)port[3]);
	assert_int_equal(fclose(ini), 0);
}

/* As voter s2 of standby_votes (voter id 2), on a link it dials to listen: its Hello,
 * then a request for a vote in epoch, its log ahead of any, as the target of a switchover
 * (kind transfer: the voter waives the lease it promises every primary at its start).
 * Returns the link's socket. */
static int ask_vote(const char *listen, uint64_t epoch)
{
	int fd = hw_test_dial(listen);
	assert_true(fd >= 0);
	hw_fp_voter_hello(fd, "s2", 0);
	Hawser__Wire__V1__VoteRequest r = HAWSER__WIRE__V1__VOTE_REQUEST__INIT;
	r.epoch = epoch;
	r.candidate = 2;
	r.kind = HW_EL_TRANSFER;
	r.last_epoch = epoch - 1;
	r.last_lsn = r.durable_lsn = UINT32_MAX;
	hw_fp_msg(fd, HW_FRAME_VOTE_REQUEST, &r.base);
	return fd;
}

/* A standby that votes takes a whole snapshot of its own chain from its primary of epoch
 * 1 and, before the END comes, grants another voter its vote in epoch 2 (vote_granted; the
 * primary handed over to it, as in a switchover): a new primary may be elected, the
 * sender is deposed. At the END the copy, whole and
 * matching its announcement, is refused for its epoch (stale_epoch its_epoch=1
 * our_epoch=2, snapshot_refused code=HW_EPROTOCOL): the standby's store stays as it was,
 * not swapped or set aside. The BEGIN's check passed it; only the END's catches it. */
static void test_deposed_snapshot_refused_at_end(void **state)
{
	struct fix *f = *state;
	char addr[64], listen[32], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	standby_votes(f, listen, sizeof listen);
	struct hw_head before = make_store_of(f->s.dir, 50, 60, 0, 1);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 60, 0); /* its chain, 10 entries ahead */
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	hw_fp_hello(cfd, "p1", head.lsn, NULL);
	uint8_t sum[HW_HASH_BYTES];
	put_copy(cfd, file, &head, sum);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_receiving", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	int vfd = ask_vote(listen, 2);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=vote_granted",
				      "candidate=s2 epoch=2 pre=0", EVENT_WAIT_MS, NULL, 0));
	put_end(cfd, sum);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=stale_epoch",
				      "its_epoch=1 our_epoch=2", EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_refused",
				      "code=HW_EPROTOCOL", EVENT_WAIT_MS, line, sizeof line));
	assert_non_null(strstr(line, "snapshot of an epoch older than this node's now"));
	assert_int_equal(field_u64(line, "got"), field_u64(line, "bytes")); /* it was whole */
	close(vfd);
	fake_primary_done(f, cfd, lfd);
	assert_false(file_has(f->s.log, "event=snapshot_installed"));
	assert_store_kept(f->s.dir, &before);
}

/* `hawser status` of the standby, as a person asks it: the text, or with json --json;
 * the output in f->cap.out. */
static void standby_status(struct fix *f, bool json)
{
	assert_int_equal(hw_proc_capture(&f->cap, hw_test_bin(), "status", "--connect", f->s.client,
					 "--insecure", json ? "--json" : NULL, NULL),
			 0);
}

/* A standby whose store a rejoin of its pruned log left stale (rewound past its base: the
 * state tables cannot be rebuilt, replica/store.h hw_store_stale), started with no primary
 * reachable, so no snapshot ends the mark: `hawser status` shows STALE, and "stale":true
 * with --json. Started again under a primary that sends it a snapshot, it shows neither
 * once that is installed. */
static void test_stale_standby_status(void **state)
{
	struct fix *f = *state;
	uint16_t dead;
	char nobody[32], addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	assert_int_equal(hw_free_port(&dead), 0);
	snprintf(nobody, sizeof nobody, "127.0.0.1:%u", (unsigned)dead);
	struct hw_tnode_opts so = {.primary_addr = nobody};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	make_store(f->s.dir, 50, 20);
	struct hw_store *st;
	struct hw_head base;
	uint64_t moved = 0;
	assert_int_equal(hw_store_open(f->s.dir, NULL, &st), 0);
	assert_int_equal(hw_store_base(st, &base), 0);
	assert_true(base.lsn > 0 && base.lsn < 45);
	assert_int_equal(hw_store_rewind(st, 45, 1790000000000LL, "test", &moved), 0);
	assert_true(hw_store_stale(st));
	hw_store_close(st);
	assert_int_equal(moved, 5);
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	standby_status(f, false);
	assert_non_null(strstr(f->cap.out, ": standby,"));
	assert_non_null(strstr(f->cap.out, "STALE: its state tables await a snapshot"));
	standby_status(f, true);
	assert_non_null(strstr(f->cap.out, "\"stale\":true"));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);

	int lfd = fake_primary_for(f, addr, sizeof addr);
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 50, 0); /* the same chain, not pruned */
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	send_snapshot_of(cfd, file, &head);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	standby_status(f, false);
	assert_null(strstr(f->cap.out, "STALE"));
	standby_status(f, true);
	assert_non_null(strstr(f->cap.out, "\"stale\":false"));
	fake_primary_done(f, cfd, lfd);
}

/* ---- a swap cut short ---- */

static const char *const swap_fault_vars[] = {"LD_PRELOAD",
					      "HW_FAULT_PATH",
					      "HW_FAULT_NO_EXCHANGE",
					      "HW_FAULT_RENAME_EXIT_AFTER",
					      "HW_FAULT_RENAME_EIO_AFTER",
					      "HW_FAULT_RENAME_EIO_TIMES"};

/* Set swap_fault_vars to values (in their order; a NULL value unsets its variable), or
 * unset them all when values is NULL: the next node started sees them. */
static void swap_fault_env(const char *const *values)
{
	for (size_t i = 0; i < sizeof swap_fault_vars / sizeof swap_fault_vars[0]; i++)
		assert_int_equal(values != NULL && values[i] != NULL
					 ? setenv(swap_fault_vars[i], values[i], 1)
					 : unsetenv(swap_fault_vars[i]),
				 0);
}

/* The next node started runs under the shim (chaos/faultfs.c) on what it takes for a file
 * system that cannot exchange two directories (renameat2 RENAME_EXCHANGE: EINVAL), and
 * ends (exit code 86, as a crash) at its second rename from or to dir; on NULL, unset. */
static void swap_cut_env(const char *dir)
{
	const char *values[] = {HW_FAULTS_LIB, dir, "1", "1", NULL, NULL};
	swap_fault_env(dir != NULL ? values : NULL);
}

/* A standby on a file system that cannot exchange two directories installs a snapshot
 * with two renames and crashes between them (its data directory set aside, the copy not
 * yet moved in: no data directory). Started again it finishes the install from the copy,
 * marked whole before the first rename (snapshot_install_finished): it holds the
 * snapshot's head, and its old data is kept aside (not yet removed, though empty). It
 * started an empty store before, at epoch 0: a voter's epoch and vote forgotten. */
static void test_cut_swap_finished(void **state)
{
	struct fix *f = *state;
	char addr[64], copy[HW_PROC_PATH_MAX + 32], file[HW_PROC_PATH_MAX + 48];
	int lfd = fake_primary_for(f, addr, sizeof addr); /* the standby starts empty */
	snprintf(copy, sizeof copy, "%s/other", f->root);
	struct hw_head head = make_store(copy, 60, 0);
	snprintf(file, sizeof file, "%s/data.mdb", copy);
	swap_cut_env(f->s.dir);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	swap_cut_env(NULL);
	send_snapshot_of(cfd, file, &head);
	assert_int_equal(hw_proc_reap(&f->s.proc, EVENT_WAIT_MS), 86);
	close(cfd);
	close(lfd);
	assert_true(file_has(f->s.log, "event=fault_injected call=rename"));
	assert_int_not_equal(access(f->s.dir, F_OK), 0);
	/* on new ports: the crashed process's ring may hold its listening socket a while */
	hw_proc_kill(&f->s.proc);
	struct hw_tnode_opts so = {.primary_addr = addr};
	assert_int_equal(hw_tnode_init(&f->s, f->root, "s1", &so), 0);
	size_t first = 0;
	assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &first, "event=snapshot_install_finished", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	struct hw_store_opts ro = {.read_only = true};
	struct hw_store *st;
	struct hw_head now, kept;
	assert_int_equal(hw_store_open(f->s.dir, &ro, &st), 0);
	assert_int_equal(hw_store_head(st, &now), 0);
	hw_store_close(st);
	assert_int_equal(now.lsn, head.lsn);
	assert_memory_equal(now.hash, head.hash, HW_HASH_BYTES);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
	assert_int_equal(hw_store_open(aside, &ro, &st), 0);
	assert_int_equal(hw_store_head(st, &kept), 0);
	hw_store_close(st);
	assert_int_equal(kept.lsn, 0);
}

/* A node whose data directory is missing while a <data_dir>.replaced-* is beside it (an
 * install cut short whose copy is gone, or data moved by hand) does not start: no empty
 * store is made (data_dir_missing code=HW_ESWAP_CUT says what to do), and its old data
 * stays where it is. It started empty, at epoch 0. */
static void test_cut_swap_refused(void **state)
{
	struct fix *f = *state;
	char addr[64], old[HW_PROC_PATH_MAX + 32];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	make_store(f->s.dir, 50, 0);
	snprintf(old, sizeof old, "%s.replaced-1790000000000", f->s.dir);
	assert_int_equal(rename(f->s.dir, old), 0);
	assert_int_not_equal(hw_tnode_start(&f->s, NULL), 0);
	hw_proc_reap(&f->s.proc, STOP_WAIT_MS);
	close(lfd);
	assert_true(file_has(f->s.log, "event=data_dir_missing"));
	assert_true(file_has(f->s.log, "code=HW_ESWAP_CUT"));
	assert_int_not_equal(access(f->s.dir, F_OK), 0);
	assert_int_equal(access(old, F_OK), 0);
}

/* A standby on a file system that cannot exchange two directories installs a snapshot
 * with two renames while the primary's load runs: its data directory goes aside, then
 * the renames that move the copy in and put its data back are refused (EIO, by the shim's
 * HW_FAULT_RENAME_EIO_*). No data directory is left (snapshot_swap_cut code=EIO); the
 * reopen that follows, in the running node, finishes the install from the copy marked
 * whole (snapshot_install_finished), or, with that rename refused too (finish_refused),
 * fails and the node stops: its copy is kept, and it finishes the install when it next
 * starts. Either way it then follows the log on from the snapshot's head to equal the
 * primary. Returns with both nodes stopped. */
static void swap_refused_running(struct fix *f, bool finish_refused)
{
	start_primary(f);
	load_start(f, HISTORY_RECORDS + LIVE_RECORDS);
	assert_true(hw_load_wait_acked(&f->load, HISTORY_RECORDS, CATCHUP_MS));
	init_standby(f);
	/* the swap's first rename (the data aside) is made, the next two or three refused */
	const char *values[] = {HW_FAULTS_LIB, f->s.dir, "1",
				NULL,          "1",      finish_refused ? "3" : "2"};
	swap_fault_env(values);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	int rc = hw_tnode_start(&f->s, &smark);
	swap_fault_env(NULL);
	assert_int_equal(rc, 0);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_swap_cut", "code=EIO",
				      EVENT_WAIT_MS, NULL, 0));
	if (finish_refused) { /* started again, on new ports (its ring may hold the old a while) */
		assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=data_dir_missing",
					      "copy_code=EIO", EVENT_WAIT_MS, NULL, 0));
		assert_int_not_equal(hw_proc_reap(&f->s.proc, STOP_WAIT_MS), 0);
		hw_proc_kill(&f->s.proc);
		init_standby(f);
		smark = 0;
		assert_int_equal(hw_tnode_start(&f->s, NULL), 0);
	}
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_install_finished",
				      f->s.dir, EVENT_WAIT_MS, NULL, 0));
	if (!finish_refused)
		assert_true(wait_installed(f, &smark, &pmark) >= HISTORY_RECORDS);
	stop_and_compare(f, load_all_acked(&f->load));
	assert_true(file_has(f->s.log, "event=fault_injected call=rename"));
	assert_false(file_has(f->s.log, "event=snapshot_refused"));
	char tmp[HW_PROC_PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s.snapshot-tmp", f->s.dir);
	assert_int_not_equal(access(tmp, F_OK), 0);
}

/* Renames refused twice: the running node finishes the install and counts it installed
 * (snapshot_installed, never snapshot_refused), and nothing of the swap is left beside its
 * data directory (an empty node's old data goes, as after any install). It logged the
 * install refused before, closed the connection and waited 10 s to ask again, on a pin
 * the primary keeps for it only 4 peer timeouts. */
static void test_cut_swap_finished_running(void **state)
{
	struct fix *f = *state;
	swap_refused_running(f, false);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_false(replaced_dir(f->s.dir, aside, sizeof aside));
}

/* Three times: the finish is refused too, so the node stops with HW_ESWAP_CUT; it kept
 * the copy marked whole and finishes the install from it when it starts again (its old
 * data kept aside, as at any start). It removed that copy before, as a snapshot refused,
 * and then would not start (data_dir_missing). */
static void test_cut_swap_kept_when_refused(void **state)
{
	struct fix *f = *state;
	swap_refused_running(f, true);
	char aside[HW_PROC_PATH_MAX + 64];
	assert_true(replaced_dir(f->s.dir, aside, sizeof aside));
}

int main(void)
{
	if (hw_test_bin_or_skip("test_snapshot") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_standby_gets_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standby_no_room_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_copy_is_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_failed_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_behind_standby_gets_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_snapshot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_chain_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_chain_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_chain_before_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_chain_copy_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_chain_copy_refused_uncommitted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rewound_node_data_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_data_dir_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_copies_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_finished_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_swap_kept_when_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_primary_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_epoch_snapshot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_epoch_snapshot_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deposed_snapshot_refused_at_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stale_standby_status, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
