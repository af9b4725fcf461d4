/* fake_node.h: a tiny fake node for the client library's tests (test_client.c): a
 * listening socket on loopback, served on a thread of the test, that answers HELLO and
 * then behaves as the test asks (enum behaviour: echo replies, close, corrupt a frame,
 * refuse, report status, stay silent, answer late, step down ...). It speaks through
 * fake_wire.h; the helpers that set it up assert with cmocka, on the test's thread. */
#ifndef HW_TESTS_FAKE_NODE_H
#define HW_TESTS_FAKE_NODE_H

#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hawser.h"

enum behaviour {
	ECHO,          /* each SUBMIT gets SUBMIT_REPLY {request_id, lsn = request_id} */
	REJECT,        /* each SUBMIT gets a refusal with field and rule */
	CLOSE,         /* close after the first SUBMIT arrives */
	CORRUPT,       /* answer the first SUBMIT with a frame whose body is damaged */
	REFUSE_HELLO,  /* answer HELLO with an ERROR frame */
	STATUS,        /* answer STATUS_REQUEST with a Status */
	GATED,         /* ECHO, but after the HELLO read nothing until the test posts go (or
			* GATE_VALVE_S pass, so that a client stuck in a write still ends) */
	TIMEDOUT,      /* answer the first SUBMIT with ERROR {-ETIMEDOUT}, then close */
	EINTR_ERROR,   /* answer the first SUBMIT with ERROR {-EINTR}, then close */
	ODD_REPLY,     /* answer each SUBMIT with a SUBMIT_REPLY whose code is 5 */
	HOLD_FIRST,    /* ECHO every SUBMIT but the first, which is never answered */
	FLOOD,         /* after the HELLO, heartbeats without end (until the client goes) */
	BUSY_DIGEST,   /* the first DIGEST_QUERY gets ERROR {HW_EBUSY}, the next a DigestReply
			* {lsn 7}; STATUS_REQUEST a Status; the connection stays open */
	REFUSE_DIGEST, /* a DIGEST_QUERY gets ERROR {HW_EFAULT_OFF}, then the node closes */
	NOMEM_DIGEST,  /* a DIGEST_QUERY gets ERROR {HW_ENOMEM}: a node that cannot start the
			* digest's thread */
	FAILED_DIGEST, /* a DIGEST_QUERY gets ERROR {HW_ESTORE_FAILED}: a node whose storage
			* failed (its store's reopen) */
	LATE_DIGEST,   /* the first DIGEST_QUERY is answered (DigestReply {lsn 1}) only when
			* the second comes, which then gets {lsn 2} */
	STANDBY,       /* answer HELLO as a standby, as a node does during an election */
	LATE_HELLO,    /* ECHO, but answer HELLO only once the test posts go (or
			* MUTE_VALVE_S pass): a stopped process, until it goes on */
	SLOW_HELLO,    /* ECHO, but answer each HELLO LATE_REPLY_MS late: a node slow, not
			* stopped */
	STOPPED,       /* promise heartbeats in the HELLO (BEAT_MS), then send nothing: a
			* stopped process, whose kernel still keeps the connection */
	BEATING,       /* promise heartbeats, and keep them up while holding each SUBMIT's
			* answer back for HOLD_MS, past the client's silence bound */
	STEP_DOWN,     /* at the third SUBMIT answer the first HW_ENOT_PRIMARY and the other
			* two accepted, in one write (a primary stepping down mid-batch) */
	LATE_STATUS,   /* ECHO, and answer STATUS_REQUEST with a Status, the first only once
			* the test posts go (or GATE_VALVE_S pass) */
	LATE_PRIMARY,  /* answer HELLO as a standby until the test sets promoted, then as
			* the primary; ECHO */
	FULL_LATER,    /* CLOSE on the first connection; answer the HELLO of every later one
			* with ERROR {HW_EBUSY} and close, as a node at its connection limit
			* does (server_start_many) */
	RESTARTS,      /* answer HELLO as the primary and close at once, on each of the
			* first RESTARTS_N connections (a primary restarting while its client
			* is idle); ECHO from then on (server_start_many) */
	FAILED_STORE,  /* answer HELLO as the primary and each SUBMIT with HW_ESTORE_FAILED: a
			* primary whose storage failed, before its step-down (or for good,
			* with static roles) */
	UNASKED,       /* promise heartbeats (BEAT_MS) in the HELLO, send more outcomes than
			* a client's buffer holds, of no submit, then read and send nothing
			* until the test posts go (or GATE_VALVE_S pass), and close */
	DIGEST_AT,     /* each DIGEST_QUERY gets a DigestReply {node_id "fake<port>", the
			* query's lsn (0: DIGEST_LSN), FAKE_DIGEST, one read transaction} */
	FULL_SCRATCH,  /* each DIGEST_QUERY gets a DigestReply {node_id "fake<port>", code
			* -ENOSPC, NO_ROOM_WHY, scratch NO_ROOM_SCRATCH, need_bytes and
			* free_bytes NO_ROOM_*_KIB}: a node with no room for its replay's
			* scratch, refused before it started */
	FULL_UNNAMED,  /* as FULL_SCRATCH with code HW_ESTORE_FULL and no scratch, need or
			* free: a node of before DigestReply named them */
	DIGEST_ODD,    /* as DIGEST_AT with every byte of its digest FAKE_DIGEST + 1 */
	RANGE_DIGEST,  /* as FULL_UNNAMED with code HW_ERANGE and RANGE_WHY: a node whose
			* replay would pass the drill's limit */
	GONE_DIGEST,   /* as FULL_UNNAMED with code HW_ENOTFOUND and GONE_WHY: a node whose
			* log was pruned, with nothing to replay from */
	JUNK_DIGEST,   /* each DIGEST_QUERY gets a DIGEST_REPLY frame whose body is no
			* DigestReply: a node whose answer is corrupt */
	EMPTY_DIGEST,  /* each DIGEST_QUERY gets a DigestReply {DIGEST_LSN} of code 0 without
			* a digest: a node that says it answered and does not */
	WRONG_REPLY,   /* each DIGEST_QUERY gets a Status frame (STATUS) in answer */
};

#define DIGEST_LSN  9
#define FAKE_DIGEST 0xd1 /* every byte of DIGEST_AT's digest */
/* FULL_SCRATCH's scratch: longer than a drill's summary holds with the words around it */
#define NO_ROOM_SCRATCH                                                                            \
	"/srv/hawser/a-long-enough-directory-name-for-the-data-of-this-node/and-another-one-"      \
	"under-it/n.digest-XXXXXX"
#define NO_ROOM_NEED_KIB 140000u
#define NO_ROOM_FREE_KIB 70000u
#define NO_ROOM_WHY                                                                                \
	"no room for the replay's scratch store " NO_ROOM_SCRATCH " and the node's own "           \
	"headroom (131072 KiB): it needs about 140000 KiB, its file system has 70000 KiB free"

#define RANGE_WHY      "a replay of 9 entries passes the limit of 5"
#define GONE_WHY       "the log starts after LSN 4 (pruned): no replay from entry 1"

#define IDS_MAX        512u
#define GATE_VALVE_S   20
#define SILENT_VALVE_S 2   /* a silent node answers after it (the old dial: at 3 s) */
#define MUTE_VALVE_S   4   /* a mute node answers after it (a dial's Hello: 5 s) */
#define LATE_REPLY_MS  700 /* over the first patience (500 ms), under the second */
#define BEAT_MS        100 /* STOPPED, BEATING: the client's silence bound is then 1 s */
#define HOLD_MS        2500
#define RESTARTS_N     12 /* RESTARTS: past the 8 follows without an outcome allowed */

/* A fake node: how it behaves, its port, its thread, and what it saw. */
struct server {
	enum behaviour how;
	int lfd;
	uint16_t port;
	pthread_t thread;
	uint64_t submits;      /* SUBMIT frames seen (read after join) */
	uint64_t queries;      /* DIGEST_QUERY frames seen */
	uint32_t connections;  /* connections accepted */
	uint64_t ids[IDS_MAX]; /* request ids of the first SUBMIT frames, as they came */
	bool gate_expired;     /* GATED: go never came, the valve opened the gate */
	int client_role;       /* role in the client's Hello */
	int cfd; /* GATED: the connection, posted on ready once the HELLO is answered */
	sem_t ready, go;
	atomic_bool stop;     /* server_start_many: serve no more connections */
	atomic_bool promoted; /* LATE_PRIMARY: the primary from now on */
};

/* Wait until the test posts s->go or ms pass (then s->gate_expired): every delay a fake
 * node makes is this, so a test can end it at once. True when go came. */
bool gate_wait(struct server *s, int ms);

/* Serve one connection until the client closes or the behaviour ends it. */
void *serve(void *arg);

/* A fake node's port, bound but not yet listening (a dial is refused). */
void server_bind(struct server *s, enum behaviour how);

/* Listen on the bound port and serve one connection on a thread. */
void server_serve(struct server *s);

/* server_bind and server_serve: a fake node serving one connection as how. */
void server_start(struct server *s, enum behaviour how);

/* A fake node serving one connection as how on a Unix socket at path (port 0). */
void server_start_unix(struct server *s, enum behaviour how, const char *path);

/* A fake node that serves every connection, one at a time (a node that answers each
 * round of a search), until server_stop. */
void server_start_many(struct server *s, enum behaviour how);

/* Undo server_bind: for a port that never served (server_join does it for one that did). */
void server_unbind(struct server *s);

/* Wait for the thread of a node that served, then server_unbind. */
void server_join(struct server *s);

/* A fake node's address on loopback. */
struct sockaddr_in server_sin(const struct server *s);

/* Connect to the node and close: ends a serve() waiting in accept. */
void poke(const struct server *s);

/* Stop a server_start_many node: its last accept takes a connection made here. */
void server_stop(struct server *s);

/* A client connected to the node, asserted: its one address. */
struct hw_client *connect_to(const struct server *s);

/* "127.0.0.1:A,127.0.0.1:B": a client's list of two fake nodes. */
void pair_addr(char *buf, size_t cap, const struct server *a, const struct server *b);

/* A client given the list "a,b", asserted: it follows the primary. */
struct hw_client *connect_pair(const struct server *a, const struct server *b);

/* Submit a record of 100 bytes as id on c and assert its outcome: acknowledged. */
void assert_acked(struct hw_client *c, uint64_t id);

/* At least ms pass: a slow node's delay, not a wait for a condition (nothing to wait on). */
void take_ms(int64_t ms);

#endif
