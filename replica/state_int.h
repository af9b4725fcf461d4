/* state_int.h: the state tables' encodings and keys (replica/state.c), shared with the
 * apply step (replica/apply.c). Internal to replica/; the layouts are documented at the
 * top of state.c. Every function is pure or reads inside the caller's transaction; none
 * writes. */
#ifndef HW_REPLICA_STATE_INT_H
#define HW_REPLICA_STATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replica/state.h"
#include "replica/tables.h"
#include "tos.pb-c.h"

/* Version byte of a containers value. */
#define HW_CONTAINER_FORMAT 1u

/* Largest containers value: fixed part plus a position of up to 63 bytes. */
#define HW_CONTAINER_FIXED_BYTES     44u
#define HW_CONTAINER_VALUE_BYTES_MAX (HW_CONTAINER_FIXED_BYTES + 63u)

/* Slot key "BLOCK-BB-RR-T": block of at most 4 characters, so 12 bytes and a NUL. */
#define HW_SLOT_KEY_BYTES 16u

/* A yard position occupies one slot (20', 10') or two (40', 45'). */
#define HW_SLOTS_PER_BOX_MAX 2u

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

/* Canonical text of loc into out (64 bytes, "" when loc is NULL or empty), cut at 63
 * bytes; returns the length of the whole text (more than 63: validation refuses it). */
size_t hw__position_text(const Tos__V1__Location *loc, char out[64]);

/* Slot key of one 20' ground slot into out (HW_SLOT_KEY_BYTES); returns its length. */
size_t hw__slot_key(const char *block, unsigned bay, unsigned row, unsigned tier, char *out);

/* Slot keys a yard place occupies: one for an odd bay, bay - 1 and bay + 1 for an even
 * bay (the 40' convention). Returns how many (0 when pos is not a yard place). */
unsigned hw__yard_slots(const Tos__V1__YardPos *pos,
			char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES]);

/* The same from a stored position text "yard:3C-14-05-2"; 0 when it is not a yard one. */
unsigned hw__position_slots(const char *pos, char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES]);

/* Vessel visit id of a stored position "vessel:<visit>:BBB-RR-TT" into out (cap bytes);
 * false when pos is not a vessel position. */
bool hw__position_vessel_visit(const char *pos, char *out, size_t cap);

/* Phase (TOS__V1__VISIT_PHASE__*) of vessel visit id; *found false (phase 0) when the
 * store never saw it. 0 or an LMDB error. */
int hw__vessel_phase(MDB_txn *txn, const struct hw_tables *t, const char *visit, int *phase,
		     bool *found);

/* True when c has an active visit (docs/rules.md): ADVISED, INBOUND, EC_IN, YARD, EC_OUT,
 * or LOADED on a vessel visit that has not DEPARTED. Reads the vessel phase. */
int hw__container_active(MDB_txn *txn, const struct hw_tables *t, const struct hw_container *c,
			 bool *active);

#endif
