/* state_int.h: the state tables' encodings and keys (replica/state.c), shared with the
 * apply step (replica/apply.c). Internal to replica/; the layouts are documented at the
 * top of state.c. Every function is pure or reads inside the caller's transaction; none
 * writes. */
#ifndef HW_REPLICA_STATE_INT_H
#define HW_REPLICA_STATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hawser_limits.h"
#include "replica/state.h"
#include "replica/tables.h"
#include "tos.pb-c.h"

/* Version byte of a containers value. */
#define HW_CONTAINER_FORMAT 1u

/* A stored position: "<facility>/<place>", the facility at most 14 bytes and the place
 * at most HW_PLACE_TEXT_MAX, so 78 bytes and a NUL. */
#define HW_PLACE_TEXT_MAX 63u
#define HW_POSITION_BYTES 80u

/* Largest containers value: fixed part plus a position. */
#define HW_CONTAINER_FIXED_BYTES     44u
#define HW_CONTAINER_VALUE_BYTES_MAX (HW_CONTAINER_FIXED_BYTES + HW_POSITION_BYTES - 1u)

/* Slot key "<facility>/BLOCK-BB-RR-T": a facility of at most 14 bytes and a block of at
 * most 4, so 27 bytes and a NUL. */
#define HW_SLOT_KEY_BYTES 32u

/* Vessels key "<facility>/<visit id>": a visit id of at most 35 characters of UTF-8. */
#define HW_VESSEL_KEY_BYTES (15u + 4u * HW_REF_CHARS_MAX + 1u)

/* A yard position occupies one slot (20', 10') or two (40', 45'). */
#define HW_SLOTS_PER_BOX_MAX 2u

/* A record's facility as it starts a position and every slot and vessel key, and its
 * tenant as a hold and a kv key keep it (validate.c: a UN/LOCODE with an optional
 * terminal, 5-14 bytes; a tenant of 1-32 characters of A-Za-z0-9_.-). */
#define HW_FACILITY_BYTES_MAX 14u
#define HW_TENANT_BYTES_MAX   32u

/* Container number bytes as stored (no NUL); at most 15 (struct hw_container.id). */
#define HW_CONTAINER_ID_BYTES_MAX 15u

/* Encode c into buf (HW_CONTAINER_VALUE_BYTES_MAX bytes); returns the length. */
size_t hw__container_encode(const struct hw_container *c, uint8_t *buf);

/* Decode a containers value into *out (id and holds untouched). MDB_CORRUPTED when the
 * bytes are not a value hw__container_encode() makes. */
int hw__container_decode(const uint8_t *data, size_t len, struct hw_container *out);

/* hw_state_container_get() for an id of 1..HW_CONTAINER_ID_BYTES_MAX bytes through cur, a
 * cursor on the containers table, which it leaves on the box when found (so a write can
 * replace it with MDB_CURRENT), and without the holds: out->holds is 0. The apply step
 * reads a box for every record that names one and needs its holds for only a few rules,
 * which call hw__holds_mask() themselves. */
int hw__container_read(MDB_cursor *cur, const char *id, size_t id_len, struct hw_container *out);

/* Bitmask of the active holds of container id (id_len bytes), by a range scan of the
 * holds table over the id's prefix. 0 or an LMDB error. */
int hw__holds_mask(MDB_txn *txn, const struct hw_tables *t, const char *id, size_t id_len,
		   uint32_t *mask);

/* Holds key: container number + 1 byte hold type; returns its length. key holds
 * HW_CONTAINER_ID_BYTES_MAX + 1 bytes. */
size_t hw__hold_key(const char *id, size_t id_len, int hold, uint8_t *key);

/* The longest holds value: LSN, tenant (at most 255 bytes) and authority. */
#define HW_HOLD_VALUE_BYTES_MAX (9u + 255u + HW_TEXT_BYTES_MAX)

/* Holds value of the APPLY at lsn by tenant with authority (NULL: none) into out
 * (HW_HOLD_VALUE_BYTES_MAX); returns its length. */
size_t hw__hold_value(uint64_t lsn, const char *tenant, const char *authority, uint8_t *out);

/* The tenant of holds value v (it borrows v's bytes) and the offset of its authority.
 * MDB_CORRUPTED when v is not a value hw__hold_value() makes. */
int hw__hold_tenant(const MDB_val *v, MDB_val *tenant, size_t *authority_at);

/* Canonical text of loc at facility into out (HW_POSITION_BYTES; "" when loc is NULL or
 * names no place): "<facility>/<place>", or the place alone when facility is NULL (the
 * validator's measure). The place is cut at HW_PLACE_TEXT_MAX bytes; returns the length
 * of the whole place text (more than HW_PLACE_TEXT_MAX: validation refuses it). */
size_t hw__position_text(const char *facility, const Tos__V1__Location *loc,
			 char out[HW_POSITION_BYTES]);

/* Slot key of one 20' ground slot of facility into out (HW_SLOT_KEY_BYTES); returns its
 * length. */
size_t hw__slot_key(const char *facility, const char *block, unsigned bay, unsigned row,
		    unsigned tier, char *out);

/* Slot keys a yard place of facility occupies: one for an odd bay, bay - 1 and bay + 1
 * for an even bay (the 40' convention). Returns how many (0 when pos is not a yard place). */
unsigned hw__yard_slots(const char *facility, const Tos__V1__YardPos *pos,
			char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES]);

/* The same from a stored position "JPNGO-NCB/yard:3C-14-05-2"; 0 when it is not a yard
 * one. */
unsigned hw__position_slots(const char *pos, char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES]);
/* The bay of a stored vessel-cell position, or 0 when pos is not one. */
unsigned hw__position_vessel_bay(const char *pos);

/* Vessels key "<facility>/<visit>" into key (HW_VESSEL_KEY_BYTES); returns its length, 0
 * when visit is empty. */
size_t hw__vessel_key(const char *facility, const char *visit, char key[HW_VESSEL_KEY_BYTES]);

/* Vessels key of a stored position "<facility>/vessel:<visit>:BBB-RR-TT" into key
 * (HW_VESSEL_KEY_BYTES); false when pos is not a vessel position. */
bool hw__position_vessel_key(const char *pos, char key[HW_VESSEL_KEY_BYTES]);

/* Phase (TOS__V1__VISIT_PHASE__*) of the vessel visit under key (hw__vessel_key); *found
 * false (phase 0) when the store never saw it. 0 or an LMDB error. */
int hw__vessel_phase(MDB_txn *txn, const struct hw_tables *t, const char *key, int *phase,
		     bool *found);

/* True when c has an active visit (docs/rules.md): ADVISED, INBOUND, EC_IN, YARD, EC_OUT,
 * or LOADED on a vessel visit that has not DEPARTED. Reads the vessel phase. */
int hw__container_active(MDB_txn *txn, const struct hw_tables *t, const struct hw_container *c,
			 bool *active);

#endif
