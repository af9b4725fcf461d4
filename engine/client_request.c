/* client_request.c: the requests an operator's command makes on a client connection
 * besides submits: status, switchover, promotion, digest, drill faults and audit events
 * (engine/client_int.h). Each is one message and its one reply, over hw__client_request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/client_int.h"
#include "engine/io/frame.h"
#include "hawser.h"
#include "wire.pb-c.h"

/* A request whose reply body the caller decodes: a malloc'd copy in *body. *answered
 * (when not NULL): whether the node answered at all (hw_client_digest). */
static int request_body(struct hw_client *c, enum hw_frame_type req_type, const ProtobufCMessage *q,
			enum hw_frame_type reply_type, int timeout_ms, uint8_t **body, size_t *len,
			bool *answered)
{
	*body = NULL;
	*len = 0;
	struct hw_frame f;
	int rc = hw__client_request(c, req_type, q, reply_type, timeout_ms, &f);
	if (answered) /* a frame, or one damaged on its way (no frame: type 0) */
		*answered = rc == 0 || f.type != 0 || rc == HW_EFRAME;
	if (rc)
		return rc;
	*body = malloc(f.len ? f.len : 1);
	if (!*body && answered)
		*answered = false; /* its answer lost here: no word on the node */
	if (!*body)
		return HW_ENOMEM;
	memcpy(*body, f.body, f.len);
	*len = f.len;
	return 0;
}

int hw_client_status(struct hw_client *c, int timeout_ms, uint8_t **body, size_t *len)
{
	Hawser__Wire__V1__StatusRequest q = HAWSER__WIRE__V1__STATUS_REQUEST__INIT;
	q.peers = 1;
	return request_body(c, HW_FRAME_STATUS_REQUEST, &q.base, HW_FRAME_STATUS, timeout_ms, body,
			    len, NULL);
}

int hw_client_switchover(struct hw_client *c, const char *to, int timeout_ms, int *code, char *why,
			 size_t cap)
{
	Hawser__Wire__V1__SwitchoverRequest q = HAWSER__WIRE__V1__SWITCHOVER_REQUEST__INIT;
	q.to = (char *)to;
	struct hw_frame f;
	int rc = hw__client_request(c, HW_FRAME_SWITCHOVER_REQUEST, &q.base,
				    HW_FRAME_SWITCHOVER_REPLY, timeout_ms, &f);
	if (rc)
		return rc;
	Hawser__Wire__V1__SwitchoverReply *r =
		hawser__wire__v1__switchover_reply__unpack(NULL, f.len, f.body);
	if (r == NULL)
		return hw__client_fail(c, HW_EFRAME);
	*code = r->code;
	snprintf(why, cap, "%s", r->message);
	hawser__wire__v1__switchover_reply__free_unpacked(r, NULL);
	return 0;
}

int hw_client_operator_event(struct hw_client *c, unsigned kind, const char *detail, int timeout_ms)
{
	Hawser__Wire__V1__OperatorEvent q = HAWSER__WIRE__V1__OPERATOR_EVENT__INIT;
	q.kind = kind;
	q.detail = (char *)detail;
	struct hw_frame f;
	return hw__client_request(c, HW_FRAME_OPERATOR_EVENT, &q.base,
				  HW_FRAME_OPERATOR_EVENT_REPLY, timeout_ms, &f);
}

/* A DRILL_FAULT of kind (for duration_ms: ISOLATE) and its reply. */
static int drill_fault(struct hw_client *c, Hawser__Wire__V1__DrillFaultKind kind,
		       uint32_t duration_ms, int timeout_ms)
{
	Hawser__Wire__V1__DrillFault q = HAWSER__WIRE__V1__DRILL_FAULT__INIT;
	q.kind = kind;
	q.duration_ms = duration_ms;
	struct hw_frame f;
	return hw__client_request(c, HW_FRAME_DRILL_FAULT, &q.base, HW_FRAME_DRILL_FAULT_REPLY,
				  timeout_ms, &f);
}

int hw_client_drill_crash(struct hw_client *c, int timeout_ms)
{
	return drill_fault(c, HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_CRASH, 0, timeout_ms);
}

int hw_client_drill_isolate(struct hw_client *c, uint32_t duration_ms, int timeout_ms)
{
	return drill_fault(c, HAWSER__WIRE__V1__DRILL_FAULT_KIND__DRILL_FAULT_ISOLATE, duration_ms,
			   timeout_ms);
}

int hw_client_digest(struct hw_client *c, uint64_t lsn, uint64_t replay_max, int timeout_ms,
		     uint8_t **body, size_t *len, bool *answered)
{
	Hawser__Wire__V1__DigestQuery q = HAWSER__WIRE__V1__DIGEST_QUERY__INIT;
	q.lsn = lsn;
	q.replay_max = replay_max;
	return request_body(c, HW_FRAME_DIGEST_QUERY, &q.base, HW_FRAME_DIGEST_REPLY, timeout_ms,
			    body, len, answered);
}

int hw_client_promote(struct hw_client *c, bool accept, uint64_t from, uint64_t to, int timeout_ms,
		      uint8_t **body, size_t *len)
{
	Hawser__Wire__V1__PromoteRequest q = HAWSER__WIRE__V1__PROMOTE_REQUEST__INIT;
	q.accept = accept;
	q.accept_from = from;
	q.accept_to = to;
	return request_body(c, HW_FRAME_PROMOTE_REQUEST, &q.base, HW_FRAME_PROMOTE_REPLY,
			    timeout_ms, body, len, NULL);
}
