/* client_handle.h: the insides of a client handle (struct hw_client), shared by
 * engine/client.c (the connection, its frames, submits and waits) and
 * engine/client_follow.c (following the primary: the copies of the submits in flight,
 * the search for a new primary and the resend). Nothing outside those two includes it;
 * the calling thread owns the handle, as for every client call (include/hawser.h). */
#ifndef HW_ENGINE_CLIENT_HANDLE_H
#define HW_ENGINE_CLIENT_HANDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "engine/client_int.h"
#include "engine/dial.h"
#include "engine/io/channel.h"
#include "engine/io/frame.h"
#include "hawser.h"

/* Addresses one client may follow: the nodes of a failover cluster (at most the election's
 * voters less the witness), each at most HW_ADDR_CHARS_MAX (client_int.h). */
#define ADDRS_MAX HW_DIAL_MAX
_Static_assert(ADDRS_MAX <= 32, "one bit of refusals_said per address");

/* One submit in flight while following: what resending it needs. */
struct inflight {
	uint64_t request_id;
	enum hw_durability mode;
	unsigned k;
	bool busy; /* no outcome yet */
	bool sent; /* written on this connection (or its rest waits in pend: resend()) */
	bool answered; /* this connection's node answered it (an outcome that follows) */
	bool doubt;    /* it may be stored: a node answered it in doubt (HW_ECLOSED, or
			* HW_ENOT_PRIMARY at a step-down), or a connection it was written on
			* was lost before it answered */
	bool refused;  /* a node whose storage failed refused it: not stored there */
	uint8_t *bytes;
	size_t len, cap;
};

/* A client handle: its connection, its buffers, and what following the primary needs. */
struct hw_client {
	int fd;
	int failed;    /* sticky error, 0 while the stream is good */
	bool lost;     /* failed with the connection (set_lost): the frames it brought, still
			* in the buffers, are taken before failed is reported */
	uint8_t *rbuf; /* HW_FRAME_BYTES_MAX + HW_FRAME_HEADER_BYTES */
	size_t rcap;
	size_t rhead;  /* first byte not yet consumed */
	size_t rlen;   /* bytes received */
	bool drained;  /* a non-blocking recv just left the socket empty */
	bool unopened; /* raw holds a whole record rbuf had no room for: open_records() */
	uint32_t owed; /* answers to requests that timed out, still to come: hw__client_request() */
	uint32_t unanswered; /* a client given one address: its submits sent (or held) on this
			      * connection whose outcome no wait has returned yet, at most
			      * HW_CLIENT_INFLIGHT_MAX (a following client counts fl_busy) */
	/* Submits held by hw_client_hold(): frames q[0..qlen), SEND_FRAME_MAX bytes. */
	bool holding;
	uint8_t *q;
	size_t qlen;
	struct hw_arena arena; /* protobuf decode of one reply, reset per reply */
	char addrs[ADDRS_MAX][HW_ADDR_CHARS_MAX + 1]; /* as given: ID@ADDR or ADDR */
	uint32_t n_addrs;
	uint32_t cur;      /* the address connected to */
	uint32_t connects; /* connections that reached a node's Hello (hw_client_connects) */
	int role;          /* what the node said in its Hello (wire.proto Role) */
	/* A node whose Hello promised heartbeats: the connection counts as lost once
	 * nothing has come for silence_ms (0: no promise) since rx_ms (hw_mono_ms()). */
	int64_t silence_ms;
	int64_t rx_ms;
	/* Channel (secure only): its settings, this connection's channel, records not yet
	 * opened raw[0..rawlen), and a frame being sealed: pt (plaintext) into ct. */
	bool secure;
	struct hw_identity id;
	uint8_t pins[HW_CHANNEL_PINNED_MAX][HW_CHANNEL_KEY_BYTES];
	char pin_names[HW_CHANNEL_PINNED_MAX][HW_CHANNEL_PIN_NAME_BYTES]; /* by file name */
	size_t n_pins;
	uint32_t refusals_said; /* addresses (bits) whose refusal stderr heard this search */
	char cluster[HW_CHANNEL_CLUSTER_BYTES + 1];
	struct hw_channel *ch;
	uint8_t *raw, *pt, *ct;
	size_t rawlen;
	/* Following (n_addrs > 1): submits in flight, oldest first, in a ring
	 * fl[(fl_head + i) % HW_CLIENT_INFLIGHT_MAX] for i < fl_count (answered ones inside
	 * stay until the oldest is answered); follows in a row without an outcome; once
	 * following failed, the code each record still in flight is answered with; how long
	 * one search for the primary may last (hw_client_set_follow_ms), and when the one
	 * under way ends (0: none under way). */
	struct inflight *fl;
	uint32_t fl_head, fl_count;
	uint32_t fl_busy;   /* of them still without an outcome */
	uint32_t fl_unsent; /* of those, not yet written on this connection (resend()) */
	uint32_t follows;
	/* The address whose node said it is going away (hw__client_left), which searches
	 * pass over as the primary until shun_end (hw_mono_ms(); 0: none). */
	uint32_t shun;
	int64_t shun_end;
	int fl_failed;
	int follow_ms;
	int64_t search_end;
	/* The rest of the frame a resend was writing when its time ran out:
	 * pend[pend_off..pend_len), PEND_BYTES at most, goes before any other byte. */
	uint8_t *pend;
	size_t pend_off, pend_len;
	/* A search for the primary under way (dialing): its dials (engine/dial.h), whose
	 * connects under way go on from one reconnect() to the next, and how long each
	 * address's handshake and Hello may take once another node answered in a round.
	 * What the dials' host names resolved to is kept from one search to the next, for
	 * the handle's life. */
	bool dialing;
	struct hw_dials dials;
	int patience_ms[ADDRS_MAX];
};

/* ---- engine/client.c, for engine/client_follow.c (and hw__client_fail, client_int.h) */

/* Rounds of a search for the primary over c's addresses, until one finds it or deadline
 * (hw_mono_ms(), -1: none) passes; at least one. 0 once connected to it, else the last
 * round's error, a dial's own (c failed with HW_ENOT_PRIMARY when a node answered as a
 * standby, else HW_ECLOSED: never that error): a search not ended
 * (hw__client_search_done) goes on at the next call. */
int hw__client_search(struct hw_client *c, int64_t deadline);

/* The search is over: found, given up, or the handle closing. */
void hw__client_search_done(struct hw_client *c);

/* Send a SUBMIT frame, or hold it (hw_client_hold): 0 or the sticky error. */
int hw__client_send_submit(struct hw_client *c, uint64_t request_id, const uint8_t *record,
			   size_t len, enum hw_durability mode, unsigned k);

/* Write a SUBMIT frame whole by deadline (intr: a caught signal ends it with -EINTR),
 * after what c->pend holds: with -ETIMEDOUT or -EINTR its rest waits in c->pend, to go
 * before any other byte (client.c send_raw). */
int hw__client_send_submit_by(struct hw_client *c, uint64_t request_id, const uint8_t *record,
			      size_t len, enum hw_durability mode, unsigned k, int64_t deadline,
			      bool intr);

/* Write what c->pend holds by deadline: 0, -ETIMEDOUT, -EINTR or the sticky error. */
int hw__client_pend_write(struct hw_client *c, int64_t deadline, bool intr);

/* ---- engine/client_follow.c, for engine/client.c */

/* A client given a list (c->fl) keeps a copy of each submit and sends it (or keeps it
 * for the next wait's search or resend): 0, HW_EBUSY (HW_CLIENT_INFLIGHT_MAX in flight),
 * HW_ENOMEM, or the send's error when following would not help. */
int hw__client_submit_kept(struct hw_client *c, uint64_t request_id, const uint8_t *record,
			   size_t len, enum hw_durability mode, unsigned k);

/* request_id has its outcome: forget its copy (the oldest such, if ids repeat). */
void hw__client_kept_done(struct hw_client *c, uint64_t request_id);

/* Would following help after rc (a wait's or send's code, or an outcome's)? */
bool hw__client_follow_helps(const struct hw_client *c, int rc);

/* Does an outcome with code say that the node will not take the record while another may
 * (include/hawser.h, hw_client_connect)? Then a following client keeps it in flight and
 * sends it to the new primary; else the outcome is final and goes to the caller. */
bool hw__client_outcome_follows(int code);

/* The node of c's connection answered out, an outcome that follows
 * (hw__client_outcome_follows), for a submit in flight: kept for the record. True when
 * that outcome is final all the same: the record was refused for a node's failed storage
 * (not stored) once before, and a primary found since refused it so again (the same node,
 * which stays the primary with static roles, or another); out->code is then the outcome,
 * HW_ECLOSED when the record is in doubt (inflight.doubt), and the copy is forgotten. */
bool hw__client_refused_again(struct hw_client *c, struct hw_outcome *out);

/* The node of c's connection answered an outcome that follows (hw__client_outcome_follows)
 * with code: the code the connection ends with, HW_ENOT_PRIMARY when it stepped down, else
 * HW_ECLOSED, the node going away (its storage failed, or it is stopping), which the
 * searches then pass over as the primary for a while, not dialling it
 * (hw__client_shunned). */
int hw__client_left(struct hw_client *c, int code);

/* Is address i that of a node going away, not to be taken as the primary now? */
bool hw__client_shunned(const struct hw_client *c, uint32_t i);

/* Find the primary and mark every submit in flight to be sent there again, by deadline
 * (a search lasts at most c->follow_ms over as many waits as it takes). 0, -ETIMEDOUT
 * (the deadline came first: the search goes on at the next call), -EINTR, or following
 * failed, HW_ENOT_PRIMARY or HW_ECLOSED (never a dial's own code, which stderr says):
 * then every submit in flight is answered in doubt (hw__client_fail_next) and c's calls
 * return that code for good. */
int hw__client_follow(struct hw_client *c, int64_t deadline);

/* A resend under way: copies the connection has not had, or the rest of one begun. */
bool hw__client_resending(const struct hw_client *c);

/* Write the copies this connection has not had, oldest first, by deadline: 0, -ETIMEDOUT
 * or -EINTR with the rest kept, or the sticky error. */
int hw__client_resend(struct hw_client *c, int64_t deadline);

/* Following failed: the oldest submit still in flight is answered, in doubt (into out:
 * 0), or c->fl_failed once none is left. */
int hw__client_fail_next(struct hw_client *c, struct hw_outcome *out);

#endif
