/* hawser_error.h: the error codes every hawser function returns, and their text.
 *
 * A hawser function returns 0 on success or a negative code: -errno for the operating
 * system (-ENOSPC, -EIO ...), or one of the HW_E* codes below, which live in a band
 * below -6000, clear of errno values and of LMDB's -30799..-30779. Foreign codes are
 * translated where they enter (MDB_MAP_FULL becomes HW_ESTORE_FULL). The numbers are
 * part of the wire and CLI contract: never renumber, only add.
 */
#ifndef HAWSER_ERROR_H
#define HAWSER_ERROR_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* HW_EXPORT marks the functions of the API (here and in hawser.h): libhawser.so is
 * compiled with hidden visibility, so they are the only names it exports. */
#if defined(__GNUC__)
#define HW_EXPORT __attribute__((visibility("default")))
#else
#define HW_EXPORT
#endif

/* X(name, value, text). Validation codes first, then store, then the rest. */
#define HW_ERRNO_MAP(X)                                                                            \
	X(HW_EDECODE, -6001, "record is not a valid protobuf encoding of tos.v1.Record")           \
	X(HW_ENONCANONICAL, -6002, "record bytes are not the canonical encoding")                  \
	X(HW_ETOOBIG, -6003, "record is larger than 64 KiB")                                       \
	X(HW_ESCHEMA, -6004, "unknown schema version")                                             \
	X(HW_EMISSING, -6005, "a required field is missing")                                       \
	X(HW_EUTF8, -6006, "text is not valid UTF-8 or holds control characters")                  \
	X(HW_ECONTAINER_ID, -6007, "container number is malformed")                                \
	X(HW_ECHECK_DIGIT, -6008, "container number check digit is wrong")                         \
	X(HW_ESIZE_TYPE, -6009, "unknown ISO 6346 size/type code")                                 \
	X(HW_EWEIGHT, -6010, "weight is impossible")                                               \
	X(HW_ETIME, -6011, "time is impossible")                                                   \
	X(HW_ERANGE, -6012, "value is out of range or malformed")                                  \
	X(HW_EPOSITION, -6013, "position is invalid")                                              \
	X(HW_ESLOT_OCCUPIED, -6014, "yard slot is already occupied")                               \
	X(HW_ELIFECYCLE, -6015, "move is not allowed in the container's current state")            \
	X(HW_EPOS_MISMATCH, -6016, "move does not start where the container is")                   \
	X(HW_EDUP_VISIT, -6017, "container already has an active visit")                           \
	X(HW_EHOLD_ACTIVE, -6018, "container has an active hold")                                  \
	X(HW_EHOLD_NOT_APPLIED, -6019, "hold release without a matching apply")                    \
	X(HW_EVESSEL_STATE, -6020, "vessel visit is not in a phase that allows this")              \
	X(HW_EWI_STATE, -6021, "work instruction transition is not allowed")                       \
	X(HW_ENOT_REEFER, -6022, "reefer data for a box that is not a plugged reefer")             \
	X(HW_EVGM, -6023, "verified gross mass is missing or invalid")                             \
	X(HW_EIDEMPOTENCY, -6024, "record_id was used before with different bytes")                \
	X(HW_ENOTFOUND, -6025, "not found")                                                        \
	X(HW_ERETRACT, -6026, "retracted record is unknown or belongs to another tenant")          \
	X(HW_ESYSTEM_RECORD, -6027, "checkpoints and node events are hawser's own records")        \
	X(HW_ETENANT, -6028, "record changes what another tenant owns")                            \
	X(HW_ESTORE_FULL, -6100, "store is full (map size or disk space)")                         \
	X(HW_ESTORE_FAILED, -6101, "store failed earlier and is stopped; reopen and verify")       \
	X(HW_ECORRUPT, -6102, "stored data failed its integrity check")                            \
	X(HW_ECHAIN, -6103, "hash chain is broken")                                                \
	X(HW_EFORMAT, -6104, "not a hawser store, or an unknown store format")                     \
	X(HW_EEXIST, -6105, "a hawser store already exists there")                                 \
	X(HW_EBACKUP, -6106, "backup is incomplete or damaged")                                    \
	X(HW_ELSN, -6107, "LSN out of sequence")                                                   \
	X(HW_EDIGEST, -6108, "state digest differs")                                               \
	X(HW_EVAULT, -6120, "a vault never truncates, rewinds or replaces its log")                \
	X(HW_ESIGNATURE, -6109, "checkpoint signature or contents do not verify")                  \
	X(HW_EUNTRUSTED, -6110, "checkpoint is signed by a key that is not trusted")               \
	X(HW_EUNVOUCHED, -6111, "entries past the checkpoint cadence are not vouched for")         \
	X(HW_ESTALE, -6112, "state tables are stale: the store awaits a snapshot")                 \
	X(HW_ESWAP_CUT, -6113, "data directory missing: a snapshot's swap was cut short")          \
	X(HW_EUNFLUSHED, -6114,                                                                    \
	  "store holds a commit a crash left unflushed: a writable open must roll it back first")  \
	X(HW_ENOMEM, -6200, "out of memory")                                                       \
	X(HW_EBUSY, -6201, "resource busy or limit reached")                                       \
	X(HW_ECONFIG, -6202, "configuration is invalid")                                           \
	X(HW_ECANCELED, -6203, "stopped before it finished (ask again)")                           \
	X(HW_EBEHIND, -6204, "standbys are further behind than the rpo allows: nothing written")   \
	X(HW_EINTERNAL, -6205, "hawser failed one of its own checks: a bug in hawser")             \
	X(HW_EFRAME, -6300, "frame is truncated, corrupted or malformed")                          \
	X(HW_EPROTOCOL, -6301, "peer broke the protocol")                                          \
	X(HW_ECLUSTER, -6302, "peer is of another cluster or protocol version")                    \
	X(HW_ENOT_PRIMARY, -6303, "this node is not the primary")                                  \
	X(HW_ECLOSED, -6304, "connection closed")                                                  \
	X(HW_EDIVERGED, -6305, "logs have diverged: the chains do not match")                      \
	X(HW_EAUTH, -6306, "peer key is not trusted")                                              \
	X(HW_EHANDSHAKE, -6307, "handshake failed")                                                \
	X(HW_EREPLAY, -6308, "message replayed or out of order")                                   \
	X(HW_EDECRYPT, -6309, "message failed authentication")                                     \
	X(HW_EFAULT_OFF, -6310, "fault injection is off on this node ([drills] allow_fault)")      \
	X(HW_ESILENT, -6311, "peer sent no complete frame within the silence bound")               \
	X(HW_ECHANNEL, -6312, "peer runs the other channel: plaintext against encrypted")          \
	X(HW_ETOOSLOW, -6313, "snapshot took too long: the log held for it passed its bound")

enum hw_errno {
#define HW_ERRNO_ENUM_(name, value, text) name = (value),
	HW_ERRNO_MAP(HW_ERRNO_ENUM_)
#undef HW_ERRNO_ENUM_
};

/* True for the codes a refused record gets (validation and state rules, -6001..-6099),
 * as opposed to storage, connection and system errors: resubmitting the same record will
 * be refused the same way. An outcome with such a code and no reject field refused the
 * submit instead (HW_ERANGE: a k the node cannot meet; hawser.h struct hw_outcome). */
static inline int hw_is_reject(int code)
{
	return code <= -6001 && code > -6100;
}

/* Text for any code a hawser function returns: HW_E*, -errno or 0; "unknown error" for
 * a code without a name (hw_errknown). Never NULL; the string is static. Any thread. */
HW_EXPORT const char *hw_strerror(int code);

/* Short symbolic name ("HW_ECHECK_DIGIT", "ENOSPC") for logs and JSON. Never NULL. */
HW_EXPORT const char *hw_errname(int code);

/* Whether code has a name (hw_errname does not say EUNKNOWN): an HW_E*, an errno, or 0. */
HW_EXPORT bool hw_errknown(int code);

/* Why a record was refused: the code, the field (a dotted path such as
 * "unit_event.equipment.container_id") and the rule it broke, in words. Filled by the
 * validator and the apply step; copied unchanged to clients. */
struct hw_reject {
	int code;
	char field[48];
	char rule[112];
};

#ifdef __cplusplus
}
#endif
#endif
