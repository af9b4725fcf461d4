/* test_snapshot_send.c: the primary's side of a snapshot: what it sends a standby so far
 * behind that its log no longer holds its position, and when it stops: a primary whose
 * disk failed sends none, one without room for a copy makes none, a copy pins the log for
 * a standby installing it and no longer once the standby is too slow or the disk fills,
 * and the catch-up is logged as it goes. Real `hawser node` processes on loopback, a fake
 * standby where one must stop half way (snapshot_fix.h). */
#include "tests/integration/snapshot_fix.h"

/* Hello as a primary at LSN FEED_FRAMES * FEED_BATCH, then its entries from LSN 1 (valid
 * generated records, chained), a frame every FEED_GAP_MS: a catch-up of a few seconds. */
static void feed_entries(int fd)
{
	uint64_t total = (uint64_t)FEED_FRAMES * FEED_BATCH;
	hw_fp_hello(fd, "p1", total, NULL);
	struct hw_fp_log log;
	hw_fp_log_init(&log, 5, total);
	for (unsigned fr = 0; fr < FEED_FRAMES; fr++) {
		hw_fp_append(fd, &log, FEED_BATCH, 0);
		hw_sleep_ms(FEED_GAP_MS); /* pacing the feed, not waiting for a condition */
	}
	hw_fp_log_free(&log);
}

/* A primary whose disk failed (fsync under its data directory fails once SIGUSR1 arms
 * the LD_PRELOAD shim, chaos/faultfs.c) sends no snapshot: an empty standby that needs
 * one is refused with the storage error, and the primary starts no copy. */
static void test_failed_primary_sends_no_snapshot(void **state)
{
	struct fix *f = *state;
	init_primary(f);
	assert_int_equal(hw_test_fault_fsync_env(HW_FAULTS_LIB, f->p.dir), 0);
	int rc = hw_tnode_start(&f->p, NULL);
	hw_test_fault_env_clear();
	assert_int_equal(rc, 0);
	load_start(f, HISTORY_FAILED + LIVE_FAILED); /* still running when the disk fails */
	assert_true(hw_load_wait_acked(&f->load, HISTORY_FAILED, CATCHUP_MS));
	/* pruned (at a store commit, lazily): an empty standby then needs a snapshot */
	assert_int_equal(hw_tnode_wait_pruned(&f->p, 0, CATCHUP_MS), 0);
	size_t pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_proc_signal(&f->p.proc, SIGUSR1), 0); /* the load's next flush fails */
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=storage_failed", NULL,
				      EVENT_WAIT_MS, NULL, 0));
	init_standby(f);
	size_t smark = 0;
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	/* with the storage error, not HW_EBUSY: no copy waits for a commit that cannot come */
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused code=EIO",
				      "no snapshot can be sent now", EVENT_WAIT_MS, NULL, 0));
	/* it asks again and again; up to its third request the primary starts no copy */
	size_t from = pmark;
	char line[512];
	for (int asked = 0; asked < 3;) {
		assert_true(hw_proc_wait_line(&f->p.proc, &from, "event=", NULL, EVENT_WAIT_MS,
					      line, sizeof line));
		assert_null(strstr(line, "event=snapshot_copying"));
		asked += strstr(line, "event=peer_needs_snapshot") != NULL;
	}
}

/* A primary whose file system has no room for a copy of its store and the headroom
 * (two log segments) makes none: an empty standby that needs a snapshot is refused with
 * HW_ESTORE_FULL (snapshot_no_room), no copy is begun, and the primary goes on
 * acknowledging. A copy that filled its disk would have stopped it. Needs root to mount a
 * small tmpfs; skipped otherwise. */

static void test_no_room_no_copy(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8];
	small_fs(f, "size=96m", fs, sizeof fs);
	pruned_primary_in(f, fs, HISTORY_FAILED);
	init_standby(f);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_no_room", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_refused",
				      "code=HW_ESTORE_FULL", EVENT_WAIT_MS, NULL, 0));
	/* refused before any hello, so the standby backs off rather than ask every 50 ms */
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost", "retry_ms=800",
				      EVENT_WAIT_MS, NULL, 0));
	struct hw_load more = {.addr = f->p.client,
			       .count = 200,
			       .window = WINDOW,
			       .mode = HW_LOCAL,
			       .k = 1,
			       .seed = 34};
	assert_int_equal(hw_load_init(&more), 0);
	assert_int_equal(hw_load_start(&more), 0);
	assert_true(hw_load_join(&more, CATCHUP_MS));
	assert_int_equal(more.acked, more.count);
	hw_load_free(&more);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=snapshot_copying"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* ---- a fake standby that takes a snapshot and goes before it acknowledges ---- */

static int dial(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(colon + 1)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* A fake standby's connection to the primary, read frame by frame. */
struct frames {
	int fd;
	uint8_t *buf; /* FRAMES_BUF_BYTES */
	size_t have;
	size_t used; /* the frame returned last: dropped at the next call */
};

#define FRAMES_BUF_BYTES (4u << 20)

/* Dial the primary at addr; a read waits EVENT_WAIT_MS at most. */
static struct frames frames_dial(const char *addr)
{
	struct frames r = {.fd = dial(addr), .buf = malloc(FRAMES_BUF_BYTES)};
	assert_non_null(r.buf);
	struct timeval tv = {.tv_sec = EVENT_WAIT_MS / 1000};
	assert_int_equal(setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
	return r;
}

static void frames_close(struct frames *r)
{
	close(r->fd);
	free(r->buf);
}

/* The next frame of type (those before it are skipped) into f, whose body stays valid
 * until the next call. */
static void frames_next(struct frames *r, enum hw_frame_type type, struct hw_frame *f)
{
	for (;;) {
		memmove(r->buf, r->buf + r->used, r->have - r->used);
		r->have -= r->used;
		r->used = 0;
		long n = hw_frame_parse(r->buf, r->have, f);
		assert_true(n >= 0);
		r->used = (size_t)n;
		if (n > 0 && f->type == type)
			return;
		ssize_t got = n > 0 ? 0 : read(r->fd, r->buf + r->have, FRAMES_BUF_BYTES - r->have);
		assert_true(n > 0 || got > 0);
		r->have += got > 0 ? (size_t)got : 0;
	}
}

/* The snapshot's head, from its BEGIN. */
static void read_begin(struct frames *r, struct hw_head *h)
{
	struct hw_frame f;
	frames_next(r, HW_FRAME_SNAPSHOT_BEGIN, &f);
	Hawser__Wire__V1__SnapshotBegin *m =
		hawser__wire__v1__snapshot_begin__unpack(NULL, f.len, f.body);
	assert_non_null(m);
	h->lsn = m->lsn;
	memcpy(h->hash, m->hash.data, HW_HASH_BYTES);
	hawser__wire__v1__snapshot_begin__free_unpacked(m, NULL);
}

/* Read frames up to SNAPSHOT_END; the snapshot's head (from its BEGIN) goes to h. */
static void read_snapshot(struct frames *r, struct hw_head *h)
{
	struct hw_frame f;
	read_begin(r, h);
	frames_next(r, HW_FRAME_SNAPSHOT_END, &f);
}

/* A standby that received the whole snapshot and went before it acknowledged it (its
 * install, which flushes and reopens a store on its loop, outlasting the link: silent
 * says it stayed connected and silent past the primary's bound instead of closing)
 * comes back at the snapshot's head while the log runs on past log_keep_records (short
 * of the 10 x that ends a snapshot: test_slow_standby_snapshot_ends): the log stayed
 * pinned there, so it is connected, not sent a second snapshot. */
static void installing_standby_returns(struct fix *f, bool silent)
{
	init_primary(f);
	if (silent) { /* the bound: CATCHUP_GRACE_TIMEOUTS (4) peer timeouts, 2 s here */
		FILE *ini = fopen(f->p.ini, "a");
		assert_non_null(ini);
		fprintf(ini, "[limits]\npeer_timeout_ms = 500\n");
		assert_int_equal(fclose(ini), 0);
	}
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	load_start(f, HISTORY_RECORDS + LIVE_PINNED);
	assert_true(hw_load_wait_acked(&f->load, HISTORY_RECORDS, CATCHUP_MS));
	struct frames r = frames_dial(f->p.listen);
	struct hw_head head = {0};
	hw_fp_hello(r.fd, "s1", 0, NULL);
	read_snapshot(&r, &head);
	size_t pmark = hw_proc_mark(&f->p.proc);
	char line[512];
	if (!silent)
		frames_close(&r);
	do /* what the primary makes of it: the pin kept for its return, or dropped */
		assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_", "peer=s1",
					      EVENT_WAIT_MS, line, sizeof line));
	while (strstr(line, "event=snapshot_await") == NULL &&
	       strstr(line, "event=snapshot_failed") == NULL);
	assert_non_null(strstr(line, "event=snapshot_await"));
	if (silent)
		frames_close(&r);
	/* the log runs on past what retention keeps: without the pin it is pruned */
	assert_true(hw_load_wait_acked(&f->load, head.lsn + 4 * KEEP_RECORDS, CATCHUP_MS));
	int fd = dial(f->p.listen);
	hw_fp_hello(fd, "s1", head.lsn, head.hash);
	do /* its answer to the hello: connected, or sent to a snapshot again */
		assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=peer_", "peer=s1",
					      EVENT_WAIT_MS, line, sizeof line));
	while (strstr(line, "event=peer_connected") == NULL &&
	       strstr(line, "event=peer_needs_snapshot") == NULL);
	print_message("primary: %s\n", strstr(line, "event="));
	assert_non_null(strstr(line, "event=peer_connected"));
	assert_int_equal(field_u64(line, "its_lsn"), head.lsn);
	close(fd);
}

static void test_installing_standby_keeps_pin(void **state)
{
	installing_standby_returns(*state, false);
}

static void test_silent_installing_standby_keeps_pin(void **state)
{
	installing_standby_returns(*state, true);
}

static void put_ack(int fd)
{
	Hawser__Wire__V1__Ack a = HAWSER__WIRE__V1__ACK__INIT;
	a.epoch = 1;
	hw_fp_msg(fd, HW_FRAME_ACK, &a.base);
}

/* A fake standby on r finds the ERROR with code the primary sent it after the chunks
 * queued before, and the primary logged why (snapshot_failed, to line; *pmark past it). */
static void standby_told(struct fix *f, struct frames *r, size_t *pmark, int code, char *line,
			 size_t cap)
{
	struct hw_frame fr;
	frames_next(r, HW_FRAME_ERROR, &fr);
	Hawser__Wire__V1__Error *e = hawser__wire__v1__error__unpack(NULL, fr.len, fr.body);
	assert_non_null(e);
	assert_int_equal(e->code, code);
	hawser__wire__v1__error__free_unpacked(e, NULL);
	assert_true(hw_proc_wait_line(&f->p.proc, pmark, "event=snapshot_failed", "peer=s1",
				      EVENT_WAIT_MS, line, cap));
	print_message("primary: %s\n", strstr(line, "code="));
	assert_non_null(strstr(line, hw_errname(code)));
}

/* A standby that acknowledges but takes its snapshot slowly (it reads the BEGIN, then
 * nothing, and acks nothing new) holds the primary's log no longer than catch-up may:
 * once the log runs 10 x log_keep_records past the pin the snapshot ends
 * (snapshot_failed code=HW_ETOOSLOW), the standby is told so in an ERROR, and the log is
 * pruned again. Before, the pin held until the standby went silent, past 30,000 entries
 * against the 20,000 bound. */
static void test_slow_standby_snapshot_ends(void **state)
{
	struct fix *f = *state;
	start_primary(f);
	load_start(f, HISTORY_RECORDS + LIVE_FAILED);
	assert_true(hw_load_wait_acked(&f->load, HISTORY_RECORDS, CATCHUP_MS));
	size_t pmark = hw_proc_mark(&f->p.proc);
	struct frames r = frames_dial(f->p.listen);
	hw_fp_hello(r.fd, "s1", 0, NULL);
	struct hw_head head;
	read_begin(&r, &head);
	/* it acks (alive: not timed out) until the log nears the bound, then only reads */
	uint64_t near = head.lsn + (10 - 1) * KEEP_RECORDS;
	for (int i = 0; i < SLOW_ACKS && !hw_load_wait_acked(&f->load, near, FEED_GAP_MS); i++)
		put_ack(r.fd);
	assert_true(hw_load_acked(&f->load) >= near);
	char line[512];
	standby_told(f, &r, &pmark, HW_ETOOSLOW, line, sizeof line);
	uint64_t pinned = field_u64(line, "pinned_after");
	assert_int_equal(pinned, head.lsn);
	assert_true(field_u64(line, "last_lsn") > pinned + 10 * KEEP_RECORDS);
	frames_close(&r);
	assert_int_equal(hw_tnode_wait_pruned(&f->p, head.lsn, CATCHUP_MS), 0);
}

/* A standby whose snapshot the primary ended as too slow (HW_ETOOSLOW, in an ERROR
 * after its BEGIN) waits 10 s before it asks again, as after a snapshot it refused: each
 * try costs the primary a whole copy. */
static void test_too_slow_standby_backs_off(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	put_begin(cfd);
	Hawser__Wire__V1__Error e = HAWSER__WIRE__V1__ERROR__INIT;
	e.code = HW_ETOOSLOW;
	e.message = "too slow";
	hw_fp_msg(cfd, HW_FRAME_ERROR, &e.base);
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=primary_lost",
				      "code=HW_ETOOSLOW retry_ms=10000", EVENT_WAIT_MS, NULL, 0));
	fake_primary_done(f, cfd, lfd);
}

/* A slow standby's snapshot holds the primary's log while the disk fills (here another
 * file fills it): once less than the headroom (two log segments, 128 MiB) is free, the
 * snapshot ends (snapshot_no_room on=primary, snapshot_failed code=HW_ESTORE_FULL), its
 * copy and its pin go and the standby is told HW_ESTORE_FULL, before the primary's own
 * writes could fail for want of room. The room was checked only when the copy began.
 * Needs root to mount a small tmpfs; skipped otherwise. */
static void test_snapshot_ends_when_disk_fills(void **state)
{
	struct fix *f = *state;
	char fs[HW_PROC_PATH_MAX + 8], fill[HW_PROC_PATH_MAX + 16], copy[HW_PROC_PATH_MAX + 32];
	small_fs(f, "size=256m", fs, sizeof fs);
	pruned_primary_in(f, fs, HISTORY_FAILED);
	size_t pmark = hw_proc_mark(&f->p.proc);
	struct frames r = frames_dial(f->p.listen);
	hw_fp_hello(r.fd, "s1", 0, NULL);
	struct hw_head head;
	read_begin(&r, &head);
	struct statvfs sv;
	assert_int_equal(statvfs(fs, &sv), 0);
	uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	print_message("free when the snapshot began: %llu MiB\n",
		      (unsigned long long)(avail >> 20));
	assert_true(avail > (64u << 20));
	snprintf(fill, sizeof fill, "%s/fill", fs);
	int fd = open(fill, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(posix_fallocate(fd, 0, (off_t)(avail - (64u << 20))), 0);
	close(fd);
	char line[512];
	size_t from = pmark;
	standby_told(f, &r, &pmark, HW_ESTORE_FULL, line, sizeof line);
	assert_true(hw_proc_wait_line(&f->p.proc, &from, "event=snapshot_no_room", "on=primary",
				      EVENT_WAIT_MS, NULL, 0));
	frames_close(&r);
	snprintf(copy, sizeof copy, "%s.snapshot-send", f->p.dir);
	assert_int_not_equal(access(copy, F_OK), 0);
	assert_int_equal(unlink(fill), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	assert_false(file_has(f->p.log, "event=storage_failed"));
	assert_int_equal(umount2(fs, MNT_DETACH), 0);
}

/* An empty standby fed a few seconds of entries by a fake primary logs catchup_progress
 * lines with rising LSNs towards the hello's LSN, then catchup_done at it; level and
 * idle under heartbeats, it logs no progress line. */
static void test_catchup_progress_logged(void **state)
{
	struct fix *f = *state;
	char addr[64];
	int lfd = fake_primary_for(f, addr, sizeof addr);
	size_t smark = 0;
	int cfd = standby_connects(f, lfd, &smark);
	feed_entries(cfd);
	uint64_t total = (uint64_t)FEED_FRAMES * FEED_BATCH, prev = 0;
	unsigned lines = 0;
	char line[512];
	for (;;) {
		assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=catchup_", NULL,
					      EVENT_WAIT_MS, line, sizeof line));
		if (strstr(line, "event=catchup_done") != NULL)
			break;
		assert_non_null(strstr(line, "event=catchup_progress"));
		uint64_t lsn = field_u64(line, "lsn");
		assert_true(lsn > prev);
		assert_true(lsn < total);
		assert_int_equal(field_u64(line, "of"), total);
		assert_non_null(strstr(line, "rate="));
		prev = lsn;
		lines++;
	}
	print_message("catchup_progress lines: %u; %s\n", lines, strstr(line, "lsn="));
	assert_true(lines >= 1);
	assert_int_equal(field_u64(line, "lsn"), total);
	assert_non_null(strstr(line, "seconds="));
	for (int i = 0; i < IDLE_BEATS; i++) {
		hw_fp_heartbeat(cfd, total);
		assert_false(hw_proc_wait_line(&f->s.proc, &smark, "_progress", NULL, FEED_GAP_MS,
					       NULL, 0));
	}
	fake_primary_done(f, cfd, lfd);
}

/* A snapshot larger than a connection's send buffer (HW_CONN_SEND_MAX, 16 MiB): a
 * primary that took LARGE_RECORDS records and kept KEEP_RECORDS of its log sends all of
 * it to an empty standby, which installs it and ends equal to the primary. */
static void test_large_snapshot(void **state)
{
	struct fix *f = *state;
	init_primary(f);
	struct hw_head head = make_store(f->p.dir, LARGE_RECORDS, KEEP_RECORDS);
	assert_int_equal(hw_tnode_start(&f->p, NULL), 0);
	init_standby(f);
	size_t smark = 0, pmark = hw_proc_mark(&f->p.proc);
	assert_int_equal(hw_tnode_start(&f->s, &smark), 0);
	char line[512];
	assert_true(hw_proc_wait_line(&f->s.proc, &smark, "event=snapshot_installed", NULL,
				      EVENT_WAIT_MS, line, sizeof line));
	print_message("standby: %s\n", strstr(line, "lsn="));
	assert_int_equal(field_u64(line, "lsn"), head.lsn);
	assert_true(field_u64(line, "bytes") > HW_CONN_SEND_MAX);
	assert_true(hw_proc_wait_line(&f->p.proc, &pmark, "event=snapshot_sent", "peer=s1",
				      EVENT_WAIT_MS, NULL, 0));
	uint64_t seen;
	assert_int_equal(hw_tnode_wait_durable(&f->s, head.lsn, CATCHUP_MS, &seen), 0);
	assert_int_equal(hw_proc_stop(&f->s.proc, STOP_WAIT_MS), 0);
	assert_int_equal(hw_proc_stop(&f->p.proc, STOP_WAIT_MS), 0);
	char why[256] = "";
	if (hw_tstore_compare(f->p.dir, f->s.dir, NULL, why, sizeof why) != 0)
		fail_msg("primary vs standby: %s", why);
}

int main(void)
{
	if (hw_test_bin_or_skip("test_snapshot_send") == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_installing_standby_keeps_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_installing_standby_keeps_pin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slow_standby_snapshot_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_slow_standby_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_ends_when_disk_fills, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_room_no_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_catchup_progress_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_primary_sends_no_snapshot, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
