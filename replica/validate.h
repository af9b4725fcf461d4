/* validate.h: the rules a TOS record must meet on its own, before it gets an LSN
 * (tos-domain.md §8). Rules that depend on the terminal's state (lifecycle, slot
 * occupancy, holds, vessel phases) are the apply step's (replica/apply.h).
 *
 * Every function here is pure: no I/O, no clock (now_ms is given), no global state (but
 * the thread-local through which hw_validate_decoded() hands its word on the strings to
 * the checks, for its own call alone), so any node validates a record as another did. */
#ifndef HW_REPLICA_VALIDATE_H
#define HW_REPLICA_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser_error.h"
#include "replica/pbdec.h"
#include "tos.pb-c.h"

/* Check every stateless rule of rec. now_ms is the store's clock for the time rules
 * (event time no later than now + HW_TIME_SKEW_MS, none before HW_TIME_MIN_MS). Returns 0,
 * or the first broken rule's HW_E* code with rej naming the field and the rule. */
int hw_validate_record(const Tos__V1__Record *rec, int64_t now_ms, struct hw_reject *rej);

/* hw_validate_record() of a record as hw_record_decode_text() decoded it (unchanged
 * since), text being what that decode said of its strings: when all are printable
 * ASCII, each passes every text field's encoding rules and only its length is checked
 * (and not even that when none is longer than HW_REF_CHARS_MAX bytes, which every text
 * limit allows); else each is scanned as hw_validate_record() does. The same result as
 * hw_validate_record() for the same record. */
int hw_validate_decoded(const Tos__V1__Record *rec, int64_t now_ms,
			const struct hw_pbdec_text *text, struct hw_reject *rej);

/* ISO 6346 container number: 11 characters, owner [A-Z]{3}, category U/J/Z, serial
 * [0-9]{6}, correct check digit (remainder 10 gives 0). With non_iso set, any 4 letters
 * and 7 digits pass (explicit exemption, rule 3). field names the field for rej.
 * HW_ECHECK_DIGIT for a wrong check digit; HW_ECONTAINER_ID for everything else,
 * including blank, lower case, spaces, hyphens and any non-ASCII byte (look-alikes such
 * as Cyrillic or full-width characters: the rule text says "non-ASCII character"). */
int hw_validate_container_id(const char *id, bool non_iso, const char *field,
			     struct hw_reject *rej);

/* ISO 6346 size/type code: 1995 codes ("22G1", "45R1", "L5G1", group codes "22GP") and
 * legacy 1984 codes ("2200", "4500", "4530", "2232"). */
int hw_validate_size_type(const char *code, const char *field, struct hw_reject *rej);

/* True when code's type group is a reefer: 1995 group R (R0-R3, RT, RS, RC; insulated H*
 * is not), legacy 1984 types 30-39 (2232, 4530, 4532 ...). Assumes a code that
 * hw_validate_size_type() accepted. */
bool hw_size_type_is_reefer(const char *code);

/* Length of the box in feet from a valid size/type code: 1 2 3 4 give 10 20 30 40,
 * L M N P give 45 48 49 53; 0 for anything else. */
unsigned hw_size_type_length_ft(const char *code);

/* Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF) without control
 * characters (C0 but tab, DEL, C1, U+2028, U+2029) and at most max_bytes long. NULL
 * counts as the empty string. */
bool hw_text_ok(const char *s, size_t max_bytes);

#endif
