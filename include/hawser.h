/* hawser.h: the public C API of hawser, a high-availability replication engine for
 * container terminal operating systems (TOS).
 *
 * Two ways in:
 *  - Embed a node in the TOS process: hw_node_open() from a config file, run its loop on
 *    a thread of yours with hw_node_run(), submit records with hw_node_submit() (from any
 *    thread; the callback runs on the node's loop thread) or hw_node_submit_wait()
 *    (blocking; never from the loop thread), stop with hw_node_stop(), free with
 *    hw_node_close().
 *  - Talk to a node in another process over its client port (TCP or a Unix socket, same
 *    framing as replication): hw_client_connect(), hw_client_submit() to send (pipelined:
 *    many may be outstanding), hw_client_wait() for the next outcome. A client handle is
 *    for one thread.
 *
 * A submit carries one encoded tos.v1.Record (proto/tos.proto) and a durability mode:
 * it completes with the record's LSN once the mode's rule holds (DESIGN.md "Durability
 * modes"), or with an error: a validation code (HW_ECHECK_DIGIT ...) with the field and
 * the rule, exactly as the store gave it, or a node or connection error. A record that
 * failed left nothing behind, except with HW_ECLOSED (the node or the connection went
 * away, or the node stopped acknowledging after a storage failure) or HW_ENOT_PRIMARY
 * (the primary stepped down), each with the record in flight: it may or may not be
 * stored. Resubmit it with the same record_id, which is idempotent (a client that
 * follows the primary does so by itself, and sends to the new primary also what its old
 * one refused for its failed storage: see hw_client_connect).
 *
 * Errors are 0 or negative codes; hw_strerror() and hw_errname() give their text. */
#ifndef HAWSER_H
#define HAWSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser_error.h"
#include "hawser_limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Durability modes: what a submit waits for. */
enum hw_durability {
	HW_LOCAL = 0,    /* the primary's commit is durable */
	HW_RECEIVED = 1, /* ... and k standbys hold it in memory */
	HW_DURABLE = 2,  /* ... and k standbys have it durable */
	HW_APPLIED = 3,  /* ... and k standbys have applied it */
	HW_DEFAULT = 255 /* the node's configured mode (and its k for a submit's k of 0) */
};

/* Outcome of one submit. A code of the refused-record band (hw_is_reject) with no
 * reject.field and rule refused the submit, not its record: HW_ERANGE for a k beyond the
 * node's standbys (vaults do not count) in a mode that waits for them. The record may be
 * good: resubmit it with a k the node can meet, do not set it aside as bad. */
struct hw_outcome {
	uint64_t request_id; /* the caller's id, echoed (hw_node_submit_wait takes none: 0) */
	int code;            /* 0, or why it failed */
	uint64_t lsn;        /* on success: the record's LSN */
	bool duplicate;      /* the same bytes were stored before, at lsn */
	struct hw_reject reject; /* for a refused record: field and rule (none: below) */
};

/* ---------------------------------------------------------------- embedded node */

struct hw_node;

/* Open a node from an INI config file (docs/operations.md lists the keys): binds its
 * ports and listens, then opens its store (made when data_dir holds none), then accepts:
 * a port that cannot be had leaves no new store behind, and a connect while the store
 * opens (its recovery) waits in the backlog; a failed start logs start_failed with its
 * code and,
 * when a config key's value failed, that key and value (node.listen, node.client,
 * node.data_dir). HW_ECONFIG for a bad config, with a line on stderr: "hawser:
 * FILE:LINE: configuration is invalid (HW_ECONFIG): REASON" (-errno for a file it cannot
 * read: "hawser: FILE: <strerror> (ENOENT)"). Any
 * thread: hw_node_run may run on another one. Once the config is read it sets SIGPIPE
 * to be ignored, for the whole process (SIG_IGN, which stays after hw_node_close): a peer
 * that goes away must make a write fail with EPIPE, not kill the process (the node's
 * sockets are written from its loop, and copies of its store to sockets can raise it).
 * A TOS that embeds a node keeps it so: a handler of its own must not end the process.
 * It also raises the process's soft RLIMIT_NOFILE to the hard limit, as servers do, and
 * lets its ports hold only what is left of it after the descriptors the process has open
 * then and a reserve of 80 (engine/fds.h: its store's too, opened after the ports);
 * -EMFILE (logged as fd_limit_low) when that leaves a port fewer than 8 connections.
 * Host names in the config are looked up here, once, on threads of their own, waiting
 * at most 5 s for them all (engine/resolve.h; a lookup not done by then goes on,
 * detached): HW_ECONFIG with the key and the name when one fails or takes longer.
 * One node per process, from its hw_node_open to its hw_node_close (SIGINT and SIGTERM stop
 * it, and its id names the process's log lines): an open while another node is open
 * returns HW_EBUSY, says so on stderr and changes nothing (not the first's log name, nor
 * SIGPIPE); open the second after hw_node_close of the first, or in another process.
 * -EINVAL for a config_path or out of NULL. */
HW_EXPORT int hw_node_open(const char *config_path, struct hw_node **out);

/* Run the node's loop on the calling thread (any one, once per node) until
 * hw_node_stop() or a signal (SIGINT, SIGTERM); the node's sockets belong to that thread
 * from its start. Before returning it closes the node's connections, so hw_node_close
 * may then run on any thread. Returns 0, or the error that stopped the node (a storage
 * failure ...); -EINVAL for n of NULL, -EALREADY at once for a second call on n (the
 * first closed its ports: open a new node, once this one is closed). */
HW_EXPORT int hw_node_run(struct hw_node *n);

/* Ask the loop to stop. Any thread; async-signal safe. NULL is a no-op. */
HW_EXPORT void hw_node_stop(struct hw_node *n);

/* Free the node (its loop must have returned, or never run). Any thread; no other call on
 * n may run during it or come after it (stop the threads that submit first). NULL is a
 * no-op; so is a close while hw_node_run or another close runs (from a submit's callback,
 * or another thread), which says so on stderr: the loop, or that close, would go on with
 * the node freed. A primary
 * whose loop never ran answers the submits it took here: their callbacks run on the
 * calling thread, before this returns, each with HW_ECLOSED (nothing stored). (One whose
 * loop ran answered them on the loop thread before hw_node_run returned.) */
HW_EXPORT void hw_node_close(struct hw_node *n);

typedef void hw_submit_cb(void *arg, const struct hw_outcome *o);

/* Submit one record (copied; NULL only with len 0, else -EINVAL; -EINVAL for n of NULL)
 * with mode and k (0: the node's default k). cb (not NULL: -EINVAL) runs on the loop
 * thread with the outcome (but see hw_node_close). Any thread. Refused at once:
 * HW_ETOOBIG past HW_RECORD_BYTES_MAX, HW_ERANGE for a mode not listed above or k > 255;
 * the outcome HW_ERANGE for a k beyond the node's standbys (struct hw_outcome).
 * HW_ENOT_PRIMARY on a standby, and on a node that is no longer primary (stepped down,
 * stopped); a submit taken before that gets its outcome all the same: HW_ENOT_PRIMARY
 * when the node steps down before answering it, HW_ECLOSED (in doubt) when its loop
 * stops, before hw_node_run returns. HW_EBUSY when as many of the submits made here as
 * the node's limit of waiting submits ([limits] waiters_max) are without an outcome
 * (queued for its loop, or taken and waiting for their rule), or its queue holds
 * HW_EMBED_QUEUE_BYTES_MAX of records its loop has not taken yet (back-pressure: retry
 * later); the outcome HW_EBUSY while a switchover pauses submits (nothing stored:
 * resubmit). With [failover] rpo_action = fail, the outcome of a new record (any mode)
 * may be HW_EBEHIND: the standbys are further behind than the rpo allows, nothing was
 * written (retry once they caught up; a record stored before is answered as its
 * duplicate instead, once the rule lets acknowledgements go again: a duplicate's answer
 * is an acknowledgement too; docs/failover.md). */
HW_EXPORT int hw_node_submit(struct hw_node *n, uint64_t request_id, const uint8_t *record,
			     size_t len, enum hw_durability mode, unsigned k, hw_submit_cb *cb,
			     void *arg);

/* Submit and wait for the outcome. Any thread but the loop's: called there (from a
 * submit's callback) it would wait for ever for an outcome only that thread can give, so
 * it returns -EDEADLK at once and submits nothing. Returns out->code; out->request_id is
 * 0 (the outcome is the call's own, not matched by id: calls on several threads at once
 * each get theirs). -EINVAL for n or out of NULL (and then submits nothing). There is no
 * timeout: before hw_node_run has started it waits until it does, and in a mode that
 * waits for standbys it waits while fewer than k are connected and caught up (the node
 * logs acks_held: docs/operations.md), until they are or the loop stops (HW_ECLOSED). */
HW_EXPORT int hw_node_submit_wait(struct hw_node *n, const uint8_t *record, size_t len,
				  enum hw_durability mode, unsigned k, struct hw_outcome *out);

/* ---------------------------------------------------------------- client */

/* A call below given c of NULL returns -EINVAL (hw_client_hold does nothing, and
 * hw_client_close), as hw_client_wait does given out of NULL. */
struct hw_client;

/* Connect in plaintext (for nodes configured insecure = true; else use
 * hw_client_connect_secure) to a node's client port: "HOST:PORT" or "unix:/path", or a
 * comma-separated list of them (the nodes of a failover cluster, at most 8). An address
 * may name the node there, "ID@HOST:PORT" or "ID@unix:/path" (as node.primary does; at
 * most 128 characters with its ID@), which a secure client checks (see
 * hw_client_connect_secure); a plaintext one cannot, and refuses such an address with
 * HW_ECONFIG (and a message on stderr) rather than take the claim unchecked. With a list,
 * the first that answers as the primary is taken, and HW_ENOT_PRIMARY returned when none
 * does (an election may be under way: retry, or hw_client_reconnect()), whatever each dial
 * gave, which a line on stderr names by address when none answered at all ("hawser client:
 * no node answered as the primary: ..."); but when none answered and a node refused this
 * client (HW_EHANDSHAKE, HW_EAUTH, HW_ECHANNEL or HW_ECLUSTER: a retry cannot help), the
 * first such code in the list's order. -EINTR when a caught signal ended it. -EINVAL
 * for an addr or out of NULL, and for an addr that is no such list (a line on stderr
 * says why). Blocking, with a 5 s
 * timeout per address for the whole dial (the connect, the secure handshake and the
 * node's Hello together, not counting time spent on other nodes). Resolving a host name
 * is within that bound too: the lookup runs on a thread of its own (every signal blocked
 * there; hw_client_close does not wait for it, it ends with the resolver), and one that the
 * system resolver has not answered when the 5 s run out (its DNS server down, whose own
 * timeouts and attempts, resolv.conf, may take minutes) fails that dial with -EHOSTUNREACH,
 * as a name that does not resolve does, saying on stderr "HOST: lookup timed out" (or
 * "lookup failed" and why). c resolves a name at its first dial of a search (a
 * connect's, a hw_client_reconnect()'s, or a following client's search for a new
 * primary) and keeps its addresses for the search's later rounds; within the search it
 * resolves it again only once a dial connected to none of them, and after a resolution
 * that failed not again (the addresses it resolved to before, if any, are dialled
 * meanwhile; a timed out lookup goes on, and a later round takes its answer if it came):
 * a resolver that does not answer costs a search at most 5 s per name, not that per
 * round, and a name repointed at a failover is followed by the next search. Give IP
 * addresses (or names the hosts file has) where even that is too long. The addresses are
 * dialled in order, but a connect not done within 200 ms no longer holds up the next
 * address, so a host that is gone without a word (no RST) does not hold up the others.
 * A node that refuses the client answers its Hello with an ERROR frame and closes: the
 * dial ends with the frame's code (HW_ECLUSTER ...), or -EAGAIN when a Unix socket's
 * backlog is full.
 *
 * A client given a list follows the primary by itself: it keeps a copy of every submit
 * in flight (at most HW_CLIENT_INFLIGHT_MAX, as for every client: hw_client_submit), and
 * when the connection is lost (closed, silent, or its stream damaged: a frame or channel
 * record that fails its checks, HW_EFRAME, HW_EDECRYPT, HW_EREPLAY, HW_EPROTOCOL, which
 * end a client given one address for good; a code from the node that names nothing, or
 * -EINTR and -EAGAIN, which this API gives meanings of its own, is HW_EPROTOCOL too) or
 * an outcome says that its node will not take the record while another may: HW_ENOT_PRIMARY
 * (it stepped down), HW_ECLOSED (it is stopping, or its storage failed after it took the
 * record: in doubt), or a code of its failed storage (a store's, -6199..-6100, such as
 * HW_ESTORE_FAILED and HW_ESTORE_FULL, or the OS's, -errno: it failed before the record
 * was stored; such a node acknowledges nothing more and steps down), hw_client_wait()
 * searches for the new primary, for at most 60 s a
 * search (hw_client_set_follow_ms), and resends them in submission order with the same
 * request ids and bytes; a record stored before comes back as a duplicate at its first
 * LSN (idempotent by record_id), so each is committed once. Every other outcome is final
 * and is the caller's, never sent again: a success or a duplicate, a refusal (a
 * validation code: sent after later records it could be judged against another state),
 * HW_EBEHIND. A node that answered that it is going away (all but HW_ENOT_PRIMARY) still
 * answers as the primary until its step-down (its next tick, 10 ms): the searches pass it
 * over for 1 s, not even dialling it. One that stays the primary (static roles) is taken
 * again after that, and a record refused for failed storage a second time (by it, or by
 * whichever primary the search found) gets that code as its outcome, final: it was not stored; or
 * HW_ECLOSED, in doubt, when a node answered it HW_ECLOSED or HW_ENOT_PRIMARY before, or a
 * connection it was written on was lost before its answer. A hw_client_submit() or
 * hw_client_flush() whose send fails that way keeps its records for that search and
 * returns 0. A wait searches until its own timeout (after at least one round over the
 * addresses, each dial bounded by 5 s), then returns -ETIMEDOUT with the copies kept,
 * and the next wait goes on with the same search. In its rounds, once a node has
 * answered as a standby, a round does not wait for a connect not done within 200 ms (it
 * goes on, and a later round of the search takes it) nor for a node that accepts and
 * says nothing (a stopped process) past that node's patience: 500 ms, twice that each
 * time it runs out, up to the 5 s. The resend is bounded by the wait's timeout too (a
 * new primary that reads slowly, under back-pressure, holds it up): a wait that runs
 * out during it returns an outcome that has arrived, else -ETIMEDOUT with the copies
 * kept, and the next wait goes on with the resend where it stopped, so each record
 * reaches the new primary once, whole and in order; a hw_client_submit() meanwhile
 * keeps its record, to be sent after them by a wait, and returns 0. A signal caught
 * meanwhile (a handler installed without SA_RESTART, as for Ctrl-C) ends the wait with
 * -EINTR at once, the copies stay kept, and the next hw_client_wait() searches afresh
 * (or, after a signal during the resend, goes on with it; or close). When no primary is
 * found within the search (or 8 searches in a row, with submits in flight, bring none of
 * them an outcome; a search that finds the primary with nothing in flight is not counted,
 * so an idle client outlives any number of restarts of its primary), each submit still
 * in flight gets an outcome in doubt, HW_ECLOSED (HW_ENOT_PRIMARY when only standbys
 * answered, or the last primary stepped down): it may be stored, so resubmit it with the
 * same record_id. Then every call on c returns that code, for good: never the last
 * dial's own code (-ETIMEDOUT, HW_EBUSY from a node at its connection limit, -EAGAIN
 * from a full Unix backlog, -ECONNREFUSED ...), which a line on stderr gives ("hawser
 * client: following the primary failed: ..."). Close c, or hw_client_reconnect(). A
 * caught signal also ends a connect's dial with -EINTR. A connection to a node that stopped while
 * its host runs on (its process stopped, its loop stuck: the kernel still keeps the connection) or
 * whose host vanished (no FIN, no RST) counts as lost once the client waiting on it, for an outcome
 * or to write a submit, has heard nothing for 4 of the heartbeats the node's Hello promised (a node
 * sends its clients a HEARTBEAT every [limits] heartbeat_ms), and for at least 1 s; an idle one to
 * a vanished host ends within about 5 s (TCP keep-alive). A node that reads nothing for a while but
 * still sends (back-pressure: its queues are full) keeps the connection: a submit waits to be
 * written for as long as that lasts, and takes what the node sends meanwhile into the
 * client, for the waits, as far as its buffer holds (at least 4 MiB of frames, heartbeats
 * aside: more than 100,000 outcomes, so always the outcomes of the HW_CLIENT_INFLIGHT_MAX
 * submits a client may have in flight). Only a node that sends what was not asked for
 * can fill it, and the client then ends the connection at once, over TCP and Unix
 * sockets alike, with HW_EPROTOCOL as for a damaged frame (what the buffer held goes with
 * it; a client given one address keeps that code for good, one that follows searches for
 * the primary): a client that could not read could not tell a stopped node from one
 * waiting for it to read, nor end its wait to write on a Unix socket. The outcomes that
 * arrived before a connection was lost come first (hw_client_wait), and so
 * do, for a client that follows, those that arrived after an outcome that made it follow
 * (a primary that steps down may have acknowledged records sent after the one it refused):
 * only then does it search. A node whose Hello promises no heartbeats (older ones): TCP
 * keep-alive and a 5 s bound on unacknowledged data end the connection to a vanished
 * host, and to a node that reads nothing for 5 s. */
HW_EXPORT int hw_client_connect(const char *addr, struct hw_client **out);

/* How a client connection is secured (docs/security.md): the channel of the nodes'
 * [security] section, with this client's own key pair (`hawser keygen`), which every
 * node must pin. peers are the keys it accepts from a node; one in a file named ID.pub
 * (or ID.<anything>.pub: the name up to the file's first dot, as the nodes read it) is
 * node ID's, and is the only one taken at an address that names ID (ID@ADDR). An address
 * without ID takes any of them: weaker, since a pinned directory often holds other
 * clients' keys too, and whoever holds one of those could answer at a node's address and
 * pass for the node. Name the nodes. */
struct hw_client_security {
	const char *cluster_id; /* the nodes' [cluster] id */
	const char *key;        /* this client's node.key (mode 0600) */
	const char *peers;      /* the nodes' node.pub files, or directories of them, comma-
				 * separated: the keys this client accepts */
	bool insecure;          /* plaintext, for nodes with insecure = true; the rest unused */
};

/* hw_client_connect() over the authenticated, encrypted channel of sec (NULL or
 * sec->insecure: plaintext). A node that refuses this client's key closes the connection
 * during the handshake: HW_EHANDSHAKE; a node whose key is not pinned here: HW_EAUTH; a
 * node of the other channel (insecure where this client has keys, or the reverse):
 * HW_ECHANNEL, from either side. At
 * an address that names its node (ID@ADDR) the node's key must be pinned as ID (struct
 * hw_client_security), else HW_EAUTH too, with a line on stderr naming the address, ID
 * and the key's fingerprint (as the nodes log it), before any frame is sent on that
 * connection; each address of a list is held to its own ID, in every search for the
 * primary (a refused one is passed over like one that does not answer). HW_ECONFIG (and
 * a message on stderr) for keys that cannot be read. */
HW_EXPORT int hw_client_connect_secure(const char *addr, const struct hw_client_security *sec,
				       struct hw_client **out);

/* Reconnect by hand (a client given a list follows by itself, see above): close c's
 * connection and try its addresses in turn, starting after the current one, until one
 * answers as the primary (with a single address: until it answers at all), pausing 50 ms
 * between rounds, until timeout_ms has passed (< 0: no limit), after at least one round: a
 * round waits for each address's dial up to the dial's own 5 s (less once a node answered
 * as a standby, see hw_client_connect), so a host that does not answer can hold a call up
 * to 5 s past a shorter timeout_ms, as it does a following client's wait. Outcomes not yet read are
 * lost with the old connection, and so are the copies a following client kept: resubmit what was in
 * flight with the same bytes and request ids; a record stored before is answered as a duplicate at
 * its first LSN (idempotent by record_id), so each is committed once. 0, or the last round's error,
 * as hw_client_connect's (-EINTR when a caught signal ended the search); c then stays failed with
 * HW_ENOT_PRIMARY when a node answered as a standby, else HW_ECLOSED, never with that error
 * (-ETIMEDOUT, -EINTR, HW_EBUSY or -EAGAIN would read "call again" to later calls). Its rounds are
 * a search's, as above; one that ran out of time without finding the primary goes on at the next
 * call (connects under way and each node's patience carry over), one that found it or was
 * interrupted ends. */
HW_EXPORT int hw_client_reconnect(struct hw_client *c, int timeout_ms);

/* How long one search for a new primary by a client that follows (see
 * hw_client_connect) may last in all, over however many calls it spans: ms > 0 (default
 * 60000). A TOS with an RTO target sets it to about that, so that a failover slower than
 * promised reaches it as failed outcomes instead of a longer wait. Takes effect from the
 * next search. The calling thread owns c. 0, or HW_ERANGE for ms <= 0 (there is no "no
 * limit"), which changes nothing. */
HW_EXPORT int hw_client_set_follow_ms(struct hw_client *c, int ms);

/* Send one submit; returns once it is written. Does not wait for the outcome. At most
 * HW_CLIENT_INFLIGHT_MAX submits of c may be without an outcome (one a hw_client_wait()
 * has returned): past that it returns HW_EBUSY and sends nothing, so wait for an outcome
 * first. c then always has room for the outcomes of what it sent, so it reads while a
 * submit waits to be written, and a node never has to stop reading it, or close its
 * connection, for outcomes it leaves unread. A node under back-pressure holds the write
 * up for as long as it reads nothing (see hw_client_connect); the outcomes it sends
 * meanwhile wait in c for hw_client_wait. A client that follows the primary keeps a
 * copy; while it resends what was in flight to a new primary (see hw_client_connect), it
 * only keeps the copy, which a wait then writes after those. request_id is the caller's,
 * echoed in the outcome (hw_client_wait); the ids of c's submits without an outcome must
 * differ: a client that follows matches outcomes to its copies by id (the oldest with
 * it), and with a repeat it may take one's outcome for the other's copy, so that after a
 * failover it resends the record answered and never the one still in flight. It does not
 * check (that would search the copies at each submit).
 * The record (NULL only with len 0, else -EINVAL) is copied or written before this returns;
 * HW_ETOOBIG past HW_RECORD_BYTES_MAX, HW_ERANGE for a mode not listed or k > 255.
 * An error here is this submit's only (it was not sent): the outcomes of earlier ones
 * that c holds are still to be taken with hw_client_wait before c is closed or
 * reconnected, or a caller counting what is in flight counts them as lost. */
HW_EXPORT int hw_client_submit(struct hw_client *c, uint64_t request_id, const uint8_t *record,
			       size_t len, enum hw_durability mode, unsigned k);

/* Hold the next submits in c instead of writing each at once, and write them together at
 * hw_client_flush(): one write and, on a secure connection, one sealed record for a burst
 * (up to 64 KiB; more are written as that fills), for a caller with several records at
 * hand (a lane with several outstanding, an EDI interchange). Each submit still gets its
 * own outcome. Any other request, and hw_client_wait(), flush first: a submit is never
 * held while its caller waits for it. */
HW_EXPORT void hw_client_hold(struct hw_client *c);

/* Write the held submits and stop holding. 0, or the error hw_client_submit() would have
 * given (a following client whose write fails keeps them for its next wait's search). */
HW_EXPORT int hw_client_flush(struct hw_client *c);

/* Wait up to timeout_ms (< 0: forever) for the next outcome of any outstanding submit
 * (with none outstanding, a wait < 0 returns only once the connection is lost).
 * Returns 0 with the outcome in *out (its code 0, or why that submit failed), or the
 * wait's own error, with *out cleared but for out->code, set to that error (as
 * hw_node_submit_wait does): never what an earlier wait left in it.
 * -ETIMEDOUT when none came (a following client's search for the primary may still be
 * under way: see hw_client_connect). With timeout 0 it only takes what has arrived
 * (once a read found nothing more waiting, the next such call says -ETIMEDOUT without
 * asking the socket again), except that a following client in a search still makes its
 * round over the addresses first (see hw_client_connect), and one in a resend writes what
 * the socket takes; HW_ECLOSED when the connection is lost: the node closed it, its
 * host vanished, or it stopped (silent past the bound of hw_client_connect), once the
 * outcomes that arrived before it are returned (outstanding submits without one may or
 * may not have been stored: resubmit them with the same record_id, which is idempotent).
 * An ERROR frame among the outcomes means the node is closing the connection: the wait
 * returns its code, and so does every later call on c. (The node
 * answers the requests of the hawser command, engine/client_int.h, that it does not
 * serve with an ERROR and keeps the connection: there the code is that request's answer
 * only, and c stays good.) */
HW_EXPORT int hw_client_wait(struct hw_client *c, int timeout_ms, struct hw_outcome *out);

/* Close and free. NULL is a no-op. */
HW_EXPORT void hw_client_close(struct hw_client *c);

#ifdef __cplusplus
}
#endif
#endif
