/* test_cli_escape.c: what the hawser command (HW_BIN, run as a real process) prints of the
 * outside text it was given: addresses of a --connect list, key paths, a config's path and
 * values, and a node's own words; and what the procedure drill tells a node for its
 * audit trail. A newline, ESC or BEL in them reaches stderr escaped (base/log.h
 * hw_log_escaped), never raw: it cannot forge a line, clear a terminal or set its title. The nodes
 * here are fake ones, forked from the test, on Unix sockets whose paths hold such characters, and a
 * real standby whose primary's address holds them, which `hawser status` shows. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "base/clock.h"
#include "hawser_error.h"
#include "replica/entry.h"
#include "replica/record.h"
#include "replica/store.h"
#include "replica/validate.h"
#include "tests/integration/cli_fix.h"
#include "tests/integration/fake_wire.h"

/* What the tests put into paths and addresses: ESC with a screen clear, a newline, and
 * ESC ] ... BEL (a terminal's title), escaped as hw_log_escaped writes them. */
#define NASTY     "\x1b[2J\nx\x1b]0;t\x07"
#define NASTY_ESC "\\x1b[2J\\nx\\x1b]0;t\\x07"

static int setup(void **state)
{
	return fix_setup(state, "cli-escape");
}

/* text holds no control character raw but the newlines that end its lines: no C0 but
 * '\n', no DEL, no C1 in UTF-8. */
static void assert_no_raw_control(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		assert_true(*p == '\n' || (*p >= 0x20 && *p != 0x7f));
		assert_false(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
	}
}

/* The last command said prefix, then what (escaped) and then after, on one line of its
 * stderr or stdout, and neither holds anything raw (assert_no_raw_control). */
static void assert_said_escaped(const struct fix *f, const char *prefix, const char *what,
				const char *after)
{
	char want[8192];
	snprintf(want, sizeof want, "%s%s%s", prefix, what, after);
	assert_true(strstr(f->r.err, want) != NULL || strstr(f->r.out, want) != NULL);
	assert_no_raw_control(f->r.err);
	assert_no_raw_control(f->r.out);
}

/* How a fake node (fake_start) treats each connection. */
enum fake_how {
	CLOSE_AT_HANDSHAKE, /* read the client's first bytes, then close: a refusal */
	REFUSE_IN_WORDS,    /* answer the HELLO with ERROR {HW_ECLUSTER, NASTY words} */
	REJECT_IN_WORDS,    /* a primary refusing every record, NASTY in field and rule */
	ANSWER_IN_WORDS,    /* a node whose status, switchover and promote replies hold NASTY */
	KEEP_EVENTS,        /* a primary with a key taking operator events (fake_event) */
};

/* REJECT_IN_WORDS's answer to frame fr, when it is a SUBMIT. */
static void fake_reject(int fd, const struct hw_frame *fr)
{
	struct hw_submit_hdr sh;
	if (fr->type != HW_FRAME_SUBMIT || hw_submit_hdr_get(fr->body, fr->len, &sh) != 0)
		return;
	Hawser__Wire__V1__SubmitReply r = HAWSER__WIRE__V1__SUBMIT_REPLY__INIT;
	r.request_id = sh.request_id;
	r.code = HW_ECHECK_DIGIT;
	r.field = (char *)"f" NASTY;
	r.rule = (char *)"r" NASTY;
	uint8_t body[256];
	size_t n = hawser__wire__v1__submit_reply__pack(&r, body);
	(void)hw_fake_send_frame(fd, HW_FRAME_SUBMIT_REPLY, body, (uint32_t)n);
}

/* Where ANSWER_IN_WORDS and KEEP_EVENTS keep the detail of the last operator event they
 * took ("": nowhere); set before fake_start. */
static char fake_event_path[4200];

/* An operator event's detail kept at fake_event_path. Answered as an insecure node does
 * (it only logs one: HW_ECONFIG, "keeps no audit trail"), or (keyed) as a node with a key
 * does: taken when the detail is text a record holds (at most 200 bytes, no control
 * character, UTF-8: replica/validate.h hw_text_ok), else refused (HW_EUTF8) and not
 * kept. */
static void fake_event(int fd, const struct hw_frame *fr, bool keyed)
{
	Hawser__Wire__V1__OperatorEvent *q =
		hawser__wire__v1__operator_event__unpack(NULL, fr->len, fr->body);
	bool ok = q != NULL && (!keyed || hw_text_ok(q->detail, 200));
	FILE *fp = ok && fake_event_path[0] ? fopen(fake_event_path, "w") : NULL;
	if (fp != NULL) {
		fputs(q->detail, fp);
		fclose(fp);
	}
	hawser__wire__v1__operator_event__free_unpacked(q, NULL);
	if (ok && keyed)
		(void)hw_fake_send_frame(fd, HW_FRAME_OPERATOR_EVENT_REPLY, NULL, 0);
	else
		hw_fake_send_error(fd, keyed ? HW_EUTF8 : HW_ECONFIG);
}

/* ANSWER_IN_WORDS's answer to frame fr: a status of a standby following "p" NASTY, its
 * epoch one more at each (so a switchover's second look sees it handed over); a
 * switchover to "refuse" refused in NASTY words, to another done; a promotion listed with
 * no loss, and refused in NASTY words when accepted; an operator event kept (fake_event). */
static void fake_answer(int fd, const struct hw_frame *fr)
{
	static uint64_t epoch;
	uint8_t body[512];
	size_t n = 0;
	enum hw_frame_type type = HW_FRAME_ERROR;
	if (fr->type == HW_FRAME_OPERATOR_EVENT) {
		fake_event(fd, fr, false);
		return;
	}
	if (fr->type == HW_FRAME_STATUS_REQUEST) {
		Hawser__Wire__V1__Status st = HAWSER__WIRE__V1__STATUS__INIT;
		st.role = HAWSER__WIRE__V1__ROLE__STANDBY;
		st.epoch = ++epoch;
		st.node_id = (char *)"s1";
		st.primary = (char *)"p" NASTY;
		n = hawser__wire__v1__status__pack(&st, body);
		type = HW_FRAME_STATUS;
	} else if (fr->type == HW_FRAME_SWITCHOVER_REQUEST) {
		Hawser__Wire__V1__SwitchoverRequest *q =
			hawser__wire__v1__switchover_request__unpack(NULL, fr->len, fr->body);
		Hawser__Wire__V1__SwitchoverReply r = HAWSER__WIRE__V1__SWITCHOVER_REPLY__INIT;
		bool refuse = q != NULL && strcmp(q->to, "refuse") == 0;
		r.code = refuse ? HW_EBUSY : 0;
		r.message = refuse ? (char *)"w" NASTY : (char *)"";
		hawser__wire__v1__switchover_request__free_unpacked(q, NULL);
		n = hawser__wire__v1__switchover_reply__pack(&r, body);
		type = HW_FRAME_SWITCHOVER_REPLY;
	} else if (fr->type == HW_FRAME_PROMOTE_REQUEST) {
		Hawser__Wire__V1__PromoteRequest *q =
			hawser__wire__v1__promote_request__unpack(NULL, fr->len, fr->body);
		Hawser__Wire__V1__PromoteReply r = HAWSER__WIRE__V1__PROMOTE_REPLY__INIT;
		bool accept = q != NULL && q->accept;
		r.code = accept ? HW_ECLUSTER : 0;
		r.message = accept ? (char *)"w" NASTY : (char *)"";
		r.loss_from = 1; /* from > to: nothing lost */
		hawser__wire__v1__promote_request__free_unpacked(q, NULL);
		n = hawser__wire__v1__promote_reply__pack(&r, body);
		type = HW_FRAME_PROMOTE_REPLY;
	}
	if (type == HW_FRAME_ERROR)
		hw_fake_send_error(fd, HW_EPROTOCOL);
	else
		(void)hw_fake_send_frame(fd, type, body, (uint32_t)n);
}

/* One connection of a fake node, on its own process. */
static void fake_serve(int fd, enum fake_how how)
{
	if (how == CLOSE_AT_HANDSHAKE) {
		uint8_t buf[256];
		(void)!read(fd, buf, sizeof buf);
		return;
	}
	struct hw_fake_stream s = {.fd = fd, .buf = malloc(HW_FAKE_STREAM_BYTES)};
	struct hw_frame fr;
	bool hello = s.buf != NULL && hw_fake_next_frame(&s, &fr) && fr.type == HW_FRAME_HELLO;
	if (hello && how == REJECT_IN_WORDS) {
		hw_fake_send_hello(fd, HAWSER__WIRE__V1__ROLE__PRIMARY, 0);
		while (hw_fake_next_frame(&s, &fr))
			fake_reject(fd, &fr);
	} else if (hello && how == ANSWER_IN_WORDS) {
		hw_fake_send_hello(fd, HAWSER__WIRE__V1__ROLE__STANDBY, 0);
		while (hw_fake_next_frame(&s, &fr))
			fake_answer(fd, &fr);
	} else if (hello && how == KEEP_EVENTS) {
		hw_fake_send_hello(fd, HAWSER__WIRE__V1__ROLE__PRIMARY, 0);
		while (hw_fake_next_frame(&s, &fr) && fr.type == HW_FRAME_OPERATOR_EVENT)
			fake_event(fd, &fr, true);
	} else if (hello) {
		Hawser__Wire__V1__Error e = HAWSER__WIRE__V1__ERROR__INIT;
		e.code = HW_ECLUSTER;
		e.message = (char *)"cluster " NASTY " differs";
		uint8_t body[128];
		size_t n = hawser__wire__v1__error__pack(&e, body);
		(void)hw_fake_send_frame(fd, HW_FRAME_ERROR, body, (uint32_t)n);
	}
	free(s.buf);
}

/* A fake node listening at path (made before this returns, so a dial finds it), serving
 * every connection as how says, on a child process: its pid, for fake_stop(). */
static pid_t fake_start(const char *path, enum fake_how how)
{
	int lfd = hw_fake_listen_unix(path, 8);
	assert_true(lfd >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the test, whatever failed */
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				_exit(1);
			fake_serve(fd, how);
			close(fd);
		}
	}
	close(lfd);
	return pid;
}

/* fake_start at f->dir/name, its address ("unix:" and the path) into conn[4300]. */
static pid_t fake_at(const struct fix *f, const char *name, enum fake_how how, char *conn)
{
	char sock[4200];
	path(f, name, sock, sizeof sock);
	snprintf(conn, 4300, "unix:%s", sock);
	return fake_start(sock, how);
}

static void fake_stop(pid_t pid)
{
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* A --connect list the client parsed and dialled: the addresses the client library names
 * on stderr (no node answered at either; one naming a node without keys to check it; a
 * host whose lookup fails) are escaped, as the command's own failure line is. */
static void test_connect_list(void **state)
{
	struct fix *f = *state;
	char a[4200], b[4200], list[8500];
	path(f, "a" NASTY, a, sizeof a);
	path(f, "b" NASTY, b, sizeof b);
	snprintf(list, sizeof list, "unix:%s,unix:%s", a, b);
	assert_int_equal(
		hw(&f->r, "submit", "--connect", list, "--insecure", "--generate", "1", NULL), 1);
	char want[8500];
	snprintf(want, sizeof want, "unix:%s/a", f->dir);
	assert_said_escaped(f, "hawser client: no node answered as the primary: ", want,
			    NASTY_ESC ": No such file or directory, unix:");
	assert_said_escaped(f, "hawser submit: ", want, NASTY_ESC ",unix:");
	snprintf(list, sizeof list, "p1@unix:%s", a);
	assert_int_equal(hw(&f->r, "status", "--connect", list, "--insecure", NULL), 1);
	snprintf(want, sizeof want, "hawser client: p1@unix:%s/a", f->dir);
	assert_said_escaped(f, want, NASTY_ESC, " names node p1, which a plaintext connection");
	assert_int_equal(hw(&f->r, "submit", "--connect", "bad" NASTY ".invalid:1", "--insecure",
			    "--generate", "1", NULL),
			 1);
	assert_said_escaped(f, "hawser client: bad", NASTY_ESC, ".invalid: lookup failed");
}

/* Key paths given (--peers, --key) that the client cannot read are named escaped. */
static void test_key_paths(void **state)
{
	struct fix *f = *state;
	char keys[4200], key[4300], pub[4300], bad[4300], sock[4300];
	path(f, "k", keys, sizeof keys);
	snprintf(key, sizeof key, "%s/node.key", keys);
	snprintf(pub, sizeof pub, "%s/node.pub", keys);
	path(f, "s", sock, sizeof sock);
	char conn[4400];
	snprintf(conn, sizeof conn, "unix:%s", sock);
	assert_int_equal(hw(&f->r, "keygen", "--out", keys, NULL), 0);
	path(f, "p" NASTY ".pub", bad, sizeof bad);
	assert_int_equal(hw(&f->r, "status", "--connect", conn, "--key", key, "--peers", bad,
			    "--cluster", "yard", NULL),
			 1);
	assert_said_escaped(f, "hawser client: pinned key ", f->dir, "/p" NASTY_ESC ".pub: ");
	path(f, "k" NASTY, bad, sizeof bad);
	assert_int_equal(hw(&f->r, "status", "--connect", conn, "--key", bad, "--peers", pub,
			    "--cluster", "yard", NULL),
			 1);
	assert_said_escaped(f, "hawser client: key ", f->dir, "/k" NASTY_ESC ": ");
}

/* A node that closes the connection in the handshake (it refused this client), and one
 * that refuses it in words of its own: the address and the words are escaped. */
static void test_node_refusals(void **state)
{
	struct fix *f = *state;
	char keys[4200], key[4300], pub[4300], sock[4300], conn[4400], want[4400];
	path(f, "k", keys, sizeof keys);
	snprintf(key, sizeof key, "%s/node.key", keys);
	snprintf(pub, sizeof pub, "%s/node.pub", keys);
	assert_int_equal(hw(&f->r, "keygen", "--out", keys, NULL), 0);
	path(f, "s" NASTY, sock, sizeof sock);
	snprintf(conn, sizeof conn, "unix:%s", sock);
	pid_t node = fake_start(sock, CLOSE_AT_HANDSHAKE);
	int rc = hw(&f->r, "status", "--connect", conn, "--key", key, "--peers", pub, "--cluster",
		    "yard", NULL);
	fake_stop(node);
	assert_int_equal(rc, 1);
	snprintf(want, sizeof want, "hawser client: unix:%s/s", f->dir);
	assert_said_escaped(f, want, NASTY_ESC, " closed the connection during the handshake");
	node = fake_start(sock, REFUSE_IN_WORDS);
	rc = hw(&f->r, "status", "--connect", conn, "--insecure", NULL);
	fake_stop(node);
	assert_int_equal(rc, 1);
	assert_said_escaped(f, "hawser client: node refused: cluster ", NASTY_ESC, " differs\n");
}

/* A primary that refuses records in words holding ESC, a newline and BEL: submit and bench
 * (its --connect) say each refusal's field and rule escaped. */
static void test_refused_records(void **state)
{
	struct fix *f = *state;
	char conn[4300];
	pid_t node = fake_at(f, "p.sock", REJECT_IN_WORDS, conn);
	/* their exit codes are theirs: the words are what is checked here */
	(void)hw(&f->r, "submit", "--connect", conn, "--insecure", "--generate", "1", NULL);
	assert_said_escaped(f, "got HW_ECHECK_DIGIT at f", NASTY_ESC, ": r" NASTY_ESC "\n");
	(void)hw(&f->r, "bench", "--connect", conn, "--insecure", "--clients", "1", "--records",
		 "1", NULL);
	fake_stop(node);
	assert_said_escaped(f, "(HW_ECHECK_DIGIT) f", NASTY_ESC, ": r" NASTY_ESC "\n");
}

/* A node that refuses a switchover and a promotion in words holding ESC, a newline and
 * BEL, and reports a primary's address holding them: switchover and promote say the
 * words escaped, and switchover the primary the old one follows. A switchover --to an
 * id holding them is a usage error naming it escaped, asked of no node (the fake would
 * hand over to it). */
static void test_node_answers(void **state)
{
	struct fix *f = *state;
	char conn[4300];
	pid_t node = fake_at(f, "n.sock", ANSWER_IN_WORDS, conn);
	int rc[4];
	rc[3] = hw(&f->r, "switchover", "--connect", conn, "--insecure", "--to", "s" NASTY, NULL);
	assert_said_escaped(f, "hawser switchover: bad value 's", NASTY_ESC, "' for --to: an id");
	assert_null(strstr(f->r.out, "switchover to"));
	rc[0] = hw(&f->r, "switchover", "--connect", conn, "--insecure", "--to", "refuse", NULL);
	assert_said_escaped(f, "hawser switchover: refused (HW_EBUSY): w", NASTY_ESC, "\n");
	rc[1] = hw(&f->r, "switchover", "--connect", conn, "--insecure", "--to", "s2", NULL);
	assert_said_escaped(f, "the old primary follows p", NASTY_ESC, "; submits paused");
	rc[2] = hw(&f->r, "promote", "--connect", conn, "--insecure", "--accept-loss", "--yes",
		   NULL);
	fake_stop(node);
	assert_said_escaped(f, "hawser promote: refused (HW_ECLUSTER): w", NASTY_ESC, "\n");
	assert_int_equal(rc[0], 1);
	assert_int_equal(rc[1], 0);
	assert_int_equal(rc[2], 1);
	assert_int_equal(rc[3], 2);
}

/* A node at a Unix socket path holding ESC, a newline and BEL: plan --measure names the
 * address it measured, and a procedure drill the node that did not record its run (the
 * fake answers its event with an error), escaped. */
static void test_node_address_named(void **state)
{
	struct fix *f = *state;
	char conn[4300], dir[4200], want[4400];
	pid_t node = fake_at(f, "a" NASTY ".sock", ANSWER_IN_WORDS, conn);
	path(f, "st", dir, sizeof dir);
	assert_int_equal(hw_store_init(dir), 0);
	int rc[2];
	rc[0] = hw(&f->r, "plan", "--measure", conn, "--insecure", "--rto", "10s", "--rpo", "0",
		   NULL);
	snprintf(want, sizeof want, "unix:%s/a", f->dir);
	assert_said_escaped(f, want, NASTY_ESC, ".sock,");
	char none[4400];
	snprintf(none, sizeof none, "%s-none", conn);
	assert_int_equal(hw(&f->r, "plan", "--measure", none, "--insecure", "--rto", "10s", "--rpo",
			    "0", NULL),
			 1);
	assert_said_escaped(f, want, NASTY_ESC,
			    ".sock-none:"); /* wrapped: the words around it may go to other lines */
	assert_non_null(strstr(f->r.err, "hawser plan: cannot measure"));
	rc[1] = hw(&f->r, "drill", "procedure", "--dir", dir, "--connect", conn, NULL);
	fake_stop(node);
	/* the node's words in a check's detail, escaped once where the summary prints it */
	assert_said_escaped(f, "does not follow one: primary p", NASTY_ESC, ", not connected");
	snprintf(want, sizeof want, "hawser drill procedure: the node at unix:%s/a", f->dir);
	assert_said_escaped(f, want, NASTY_ESC, ".sock did not record the run: ");
	assert_int_equal(rc[0], 0);
	assert_int_not_equal(rc[1], 0); /* a store with no backups fails the drill */
}

/* The detail of the operator event the fake node kept last into got[1024], the file
 * then removed (an event a later command's node does not take leaves none): text a
 * record holds (hw_text_ok). Returns its length. */
static size_t event_kept(char *got)
{
	FILE *fp = fopen(fake_event_path, "r");
	assert_non_null(fp);
	size_t len = fread(got, 1, 1023, fp);
	fclose(fp);
	got[len] = '\0';
	assert_int_equal(unlink(fake_event_path), 0);
	assert_true(hw_text_ok(got, 200));
	return len;
}

/* A procedure drill's summary holding an operator's path of ESCs (its --backup-dir,
 * relative: where in the summary it falls is the same wherever the test runs), as the
 * node it asked is told it for its audit trail (fake_event): escaped, so that a node
 * with a key takes it (replica/validate.h hw_text_ok: no control character), and cut
 * at the end of an escape, keeping as much as fits. Two runs, a path one byte longer in
 * the second, put the cut at two places of a 4-character escape: one of them inside it. */
static void test_drill_event_escaped(void **state)
{
	struct fix *f = *state;
	char conn[4300], dir[4200], bak[64], got[1024];
	path(f, "event", fake_event_path, sizeof fake_event_path);
	pid_t node = fake_at(f, "n.sock", ANSWER_IN_WORDS, conn);
	path(f, "st", dir, sizeof dir);
	assert_int_equal(hw_store_init(dir), 0);
	for (int run = 0; run < 2; run++) {
		snprintf(bak, sizeof bak, "%.*s", run + 1, "bb");
		memset(bak + 1 + run, '\x1b', 40);
		bak[41 + run] = '\0';
		assert_int_equal(hw(&f->r, "drill", "procedure", "--dir", dir, "--connect", conn,
				    "--backup-dir", bak, NULL),
				 3); /* FAIL: no backups there */
		size_t len = event_kept(got);
		assert_memory_equal(got, "drill procedure FAIL: ", 22);
		const char *p = strstr(got, "; first: backup_dir b");
		assert_non_null(p);
		for (p += strlen("; first: backup_dir ") + 1 + (size_t)run;
		     strncmp(p, "\\x1b", 4) == 0;)
			p += 4; /* whole escapes of ESC to the end */
		assert_string_equal(p, "");
		assert_true(len - 22 > 160 - 4 && len - 22 <= 160); /* as much as fits */
	}
	fake_stop(node);
	fake_event_path[0] = '\0';
}

/* A Japanese character (U+540D, 3 bytes), and n of it, then more, into buf. */
#define JP "\xe5\x90\x8d"
static const char *jp_times(size_t n, const char *more, char *buf, size_t cap)
{
	assert_true(3 * n + strlen(more) < cap);
	for (size_t i = 0; i < n; i++)
		memcpy(buf + 3 * i, JP, 3);
	strcpy(buf + 3 * n, more);
	return buf;
}

/* A restore (`hawser restore`, `hawser drill restore`) of a backup whose path holds ESC, a
 * newline and BEL, into a directory whose path holds them and a byte that is not UTF-8,
 * told to a node with a key
 * (KEEP_EVENTS): the node takes the event (the paths' ends escaped; raw, it refused it, the
 * restore exited 1 and the drill failed its "restore recorded" check); and one of a backup
 * and into a directory named in Japanese, longer than an event keeps: "..." and as many of
 * their last characters as fit in 40 bytes, whole. */
static void test_restore_event_escaped(void **state)
{
	struct fix *f = *state;
	char conn[4300], st[4200], bak[4300], into[4300], tmp[4200], name[128], got[1024],
		want[256];
	path(f, "event", fake_event_path, sizeof fake_event_path);
	pid_t node = fake_at(f, "n.sock", KEEP_EVENTS, conn);
	path(f, "st", st, sizeof st);
	assert_int_equal(hw_store_init(st), 0);
	assert_int_equal(hw(&f->r, "ingest", st, "--generate", "5", "--end-ms", END_MS, NULL), 0);
	path(f, "b" NASTY, bak, sizeof bak);
	assert_int_equal(hw(&f->r, "backup", st, bak, NULL), 0);
	path(f, "r" NASTY "\xff", into, sizeof into); /* and a byte that is not UTF-8 */
	assert_int_equal(hw(&f->r, "restore", bak, into, "--connect", conn, "--insecure", NULL), 0);
	event_kept(got);
	assert_non_null(strstr(got, "/b" NASTY_ESC " into ..."));
	assert_non_null(strstr(got, "/r" NASTY_ESC "\\xff until end: ok, head lsn 5, "));
	path(f, "s", into, sizeof into);
	path(f, "rp", tmp, sizeof tmp);
	assert_int_equal(hw(&f->r, "drill", "restore", "--backup", bak, "--scratch", into,
			    "--report-dir", tmp, "--rto", "1h", "--no-record", "--connect", conn,
			    "--insecure", NULL),
			 0); /* a FAIL of its check "restore recorded" fails it (exit 3) */
	event_kept(got);
	assert_non_null(strstr(got, "/b" NASTY_ESC " into ..."));
	path(f, jp_times(20, "", name, sizeof name), bak, sizeof bak);
	assert_int_equal(hw(&f->r, "backup", st, bak, NULL), 0);
	path(f, jp_times(30, "", name, sizeof name), into, sizeof into);
	assert_int_equal(hw(&f->r, "restore", bak, into, "--connect", conn, "--insecure", NULL), 0);
	event_kept(got);
	fake_stop(node);
	fake_event_path[0] = '\0';
	char jp13[64];
	snprintf(want, sizeof want, "restore of ...%s into ...%s until end: ok, head lsn 5, ",
		 jp_times(13, "", name, sizeof name), jp_times(13, "", jp13, sizeof jp13));
	assert_memory_equal(got, want, strlen(want)); /* 13 of 3 bytes: as many as fit in 40 */
}

/* A quarantine export of a store whose path holds ESC, a newline and BEL told to a node
 * with a key (KEEP_EVENTS): it takes the event, the path escaped; and of stores whose paths
 * end in 60 Japanese characters, longer than an event keeps: "..." and as many of their
 * last characters as fit in 142 bytes, whole (the path's first 150 bytes, it was, cut
 * inside a character in two runs of three: each a byte longer, one cuts at each byte of
 * a character; the node refused it and the export exited 1). */
static void test_export_event_escaped(void **state)
{
	struct fix *f = *state;
	char conn[4300], st[4400], name[200], jp[192], got[1024], want[320];
	path(f, "event", fake_event_path, sizeof fake_event_path);
	pid_t node = fake_at(f, "n.sock", KEEP_EVENTS, conn);
	path(f, "q" NASTY, st, sizeof st);
	assert_int_equal(hw_store_init(st), 0);
	assert_int_equal(
		hw(&f->r, "quarantine", "export", st, "-", "--connect", conn, "--insecure", NULL),
		0);
	size_t len = event_kept(got);
	assert_memory_equal(got, "quarantine export of 0 records from ", 36);
	assert_string_equal(got + len - strlen("/q" NASTY_ESC), "/q" NASTY_ESC);
	snprintf(want, sizeof want, "quarantine export of 0 records from ...%s",
		 jp_times(47, "", jp, sizeof jp)); /* 47 of 3 bytes fit in 142, 48 not */
	for (int run = 0; run < 3; run++) {
		snprintf(name, sizeof name, "q%.*s%s", run, "xx", jp_times(60, "", jp, sizeof jp));
		path(f, name, st, sizeof st);
		assert_int_equal(hw_store_init(st), 0);
		assert_int_equal(hw(&f->r, "quarantine", "export", st, "-", "--connect", conn,
				    "--insecure", NULL),
				 0);
		event_kept(got);
		assert_string_equal(got, want);
	}
	fake_stop(node);
	fake_event_path[0] = '\0';
}

/* A store whose log holds a node event with ESC, a newline and BEL in its node id, peer
 * address and detail, appended as a standby appends its primary's entries (unchecked):
 * `hawser audit` lists them escaped. */
static void test_audit_of_store(void **state)
{
	struct fix *f = *state;
	char dir[4200];
	path(f, "st", dir, sizeof dir);
	Tos__V1__NodeEvent ev = TOS__V1__NODE_EVENT__INIT;
	ev.kind = TOS__V1__NODE_EVENT_KIND__AUTH_FAILURE;
	ev.node_id = (char *)"n" NASTY;
	ev.epoch = 1;
	ev.peer_addr = (char *)"a" NASTY;
	ev.detail = (char *)"d" NASTY;
	uint8_t id[HW_RECORD_ID_BYTES] = {1};
	Tos__V1__Record rec = TOS__V1__RECORD__INIT;
	rec.payload_case = TOS__V1__RECORD__PAYLOAD_NODE_EVENT;
	rec.node_event = &ev;
	rec.record_id = (ProtobufCBinaryData){sizeof id, id};
	rec.event_time_ms = hw_wall_ms();
	rec.schema_version = 1;
	uint8_t body[512], entry[1024];
	size_t len = hw_record_encode(&rec, body, sizeof body);
	assert_true(len > 0);
	struct hw_store *st;
	struct hw_head head;
	struct hw_entry e;
	struct hw_reject rej;
	assert_int_equal(hw_store_init(dir), 0);
	assert_int_equal(hw_store_open(dir, NULL, &st), 0);
	assert_int_equal(hw_store_head(st, &head), 0);
	size_t n =
		hw_entry_encode(entry, 1, 1, rec.event_time_ms, head.hash, body, (uint32_t)len, &e);
	const uint8_t *p = entry;
	assert_int_equal(hw_store_append_primary(st, &p, &n, 1, &rej), 0);
	assert_int_equal(hw_store_commit(st), 0);
	hw_store_close(st);
	assert_int_equal(hw(&f->r, "audit", dir, NULL), 0);
	assert_said_escaped(f, "auth_failure node=n", NASTY_ESC, " epoch=1 peer=a");
	assert_said_escaped(f, " peer=a", NASTY_ESC, " d");
	assert_said_escaped(f, " d", NASTY_ESC, "\n");
}

/* A bench whose scratch cluster is made under a TMPDIR holding ESC and BEL (a config line,
 * where its path goes, holds no newline): --keep names the directory kept escaped. */
static void test_bench_root(void **state)
{
	struct fix *f = *state;
	char tmp[4200];
	path(f, "t\x1b]0;t\x07", tmp, sizeof tmp);
	assert_int_equal(mkdir(tmp, 0700), 0);
	setenv("TMPDIR", tmp, 1);
	/* its exit code is its verdict on the numbers: the words are what is checked here */
	(void)hw(&f->r, "bench", "--keep", "--clients", "1", "--records", "20", NULL);
	unsetenv("TMPDIR");
	assert_said_escaped(f, "hawser bench: cluster kept in ", f->dir,
			    "/t\\x1b]0;t\\x07/hawser-cluster-");
}

/* An insecure standby s1's config at f->dir/n.conf (its path into conf[4200]), its store
 * f->dir/n.d, following primary, with its ports at listen and client. */
static void standby_config(const struct fix *f, const char *primary, const char *listen,
			   const char *client, char *conf)
{
	char data[4200];
	path(f, "n.conf", conf, 4200);
	path(f, "n.d", data, sizeof data);
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp,
		"[cluster]\nid = yard\n[node]\nid = s1\nrole = standby\ndata_dir = %s\n"
		"primary = %s\nlisten = %s\nclient = %s\n[security]\ninsecure = true\n",
		data, primary, listen, client);
	fclose(fp);
}

/* A node's config: its path, and a value in it whose lookup fails, as `hawser node` says
 * them when it cannot start. */
static void test_node_config(void **state)
{
	struct fix *f = *state;
	char conf[4200];
	path(f, "none" NASTY ".conf", conf, sizeof conf);
	assert_int_equal(hw(&f->r, "node", "--config", conf, NULL), 1);
	assert_said_escaped(f, "hawser node: ", f->dir, "/none" NASTY_ESC ".conf: No such file");
	standby_config(f, "bad\x1b[2J.invalid:7001", "127.0.0.1:1", "127.0.0.1:2", conf);
	assert_int_equal(hw(&f->r, "node", "--config", conf, NULL), 1);
	assert_said_escaped(f, "'node.primary' = 'bad", "\\x1b[2J", ".invalid:7001': lookup of ");
}

/* A standby whose primary is at a Unix socket path holding ESC and BEL (a config line
 * holds no newline): `hawser status` shows the address the node reports escaped. */
static void test_status_of_node(void **state)
{
	struct fix *f = *state;
	char conf[4200], log[4200], primary[4300], listen[4300], conn[4300], want[4400];
	path(f, "s.log", log, sizeof log);
	snprintf(primary, sizeof primary, "unix:%s/p\x1b[2J\x1b]0;t\x07.sock", f->dir);
	snprintf(listen, sizeof listen, "unix:%s/l.sock", f->dir);
	snprintf(conn, sizeof conn, "unix:%s/c.sock", f->dir);
	standby_config(f, primary, listen, conn, conf);
	const char *args[] = {"node", "--config", conf, NULL};
	struct hw_proc node;
	assert_int_equal(hw_proc_start(&node, log, args), 0);
	size_t from = 0;
	bool up = hw_proc_wait_line(&node, &from, "event=started", NULL, 30000, NULL, 0);
	int rc = up ? hw(&f->r, "status", "--connect", conn, "--insecure", NULL) : -1;
	hw_proc_kill(&node);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof want, "  primary: unix:%s/p", f->dir);
	assert_said_escaped(f, want, "\\x1b[2J\\x1b]0;t\\x07", ".sock (not connected");
}

int main(void)
{
	hw_bin = hw_test_bin_or_skip("test_cli_escape");
	if (hw_bin == NULL)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connect_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_address_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drill_event_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_event_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_event_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_of_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bench_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_of_node, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
