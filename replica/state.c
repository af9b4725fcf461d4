/* state.c: the state tables' encodings, keys and reads (replica/state.h, state_int.h).
 *
 * Every encoding is fixed-layout and little-endian (big-endian only where LMDB's byte
 * order must be numeric order), so equal states are equal bytes on every node and the
 * state digest can be compared across nodes (docs/formats.md).
 *
 * containers  key: container number bytes, no NUL (11 bytes for ISO numbers).
 *             value (44 + n bytes):
 *               off len field
 *                 0   1 format version, 1
 *                 1   1 state (TOS__V1__TRANSIT_STATE__*)
 *                 2   1 full_empty (TOS__V1__FULL_EMPTY__*)
 *                 3   4 size_type, ASCII, NUL-padded ("" if never reported)
 *                 7   4 tare_kg
 *                11   4 gross_kg
 *                15   4 max_gross_kg
 *                19   4 vgm_kg (0: no VGM for the current visit)
 *                23   4 visits
 *                27   8 last_event_ms (signed)
 *                35   8 last_lsn
 *                43   1 n: position length (0..79)
 *                44   n position text (below), no NUL
 *             Active holds are not in the value: they are read from the holds table.
 * slots       key: facility, '/', 20' ground slot "BLOCK-BB-RR-T", bay and row zero-padded
 *             to 2 digits, tier 1 digit ("JPNGO-NCB/3C-13-05-2"). value: container number
 *             bytes. A 40'/45' box in even bay B holds slots B-1 and B+1.
 * holds       key: container number bytes + 1 byte hold type (TOS__V1__HOLD_TYPE__*).
 *             value: 8-byte LSN of the APPLY record (little-endian), 1 byte n, the
 *             APPLY's tenant (n bytes), authority text (hw__hold_value).
 * vessels     key: facility, '/', vessel visit id. value: 1 byte phase
 *             (TOS__V1__VISIT_PHASE__*).
 * wis         key "w/" + wi_id: value 1 byte state (TOS__V1__WI_STATE__*) + container
 *             number bytes (none when the instruction names no container).
 *             key "c/" + container number: value the wi_id of the container's active
 *             instruction (CREATED, DISPATCHED, IN_PROGRESS); deleted when it ends.
 * kv          key: tenant_id + '\0' + key. value: the bytes as given.
 * audit       key: 8-byte big-endian LSN of an audit record. value: empty.
 *
 * Position text (canonical; "from is where it is" compares it byte for byte): the
 * facility of the record that put the box there, '/', and the place:
 *   yard    "yard:<block>-BB-RR-T"          e.g. "JPNGO-NCB/yard:3C-14-05-2" (own bay)
 *   vessel  "vessel:<visit>:BBB-RR-TT"      e.g. "JPNGO-NCB/vessel:V1:078-06-90"
 *   truck   "truck:<visit>:<lane>:<slot>"
 *   rail    "rail:<train>:<wagon>:<slot>"
 *   che     "che:<id>"
 *   ""      not at a known place (advised, or gone without a destination)
 * A facility has no '/' (validate.c) and at most 14 bytes; the place at most 63 bytes:
 * validation refuses a place whose text would be longer (ids of up to 35 characters can
 * take 140 bytes in UTF-8), so no stored position is ever cut short. */
#include "replica/state.h"
#include "replica/state_int.h"

#include <string.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "hawser_error.h"

size_t hw__container_encode(const struct hw_container *c, uint8_t *buf)
{
	size_t pos_len = strnlen(c->position, sizeof c->position - 1);
	size_t st_len = strnlen(c->size_type, 4);

	HW_ASSERT(c->state >= 0 && c->state <= UINT8_MAX);
	HW_ASSERT(c->full_empty >= 0 && c->full_empty <= UINT8_MAX);
	buf[0] = HW_CONTAINER_FORMAT;
	buf[1] = (uint8_t)c->state;
	buf[2] = (uint8_t)c->full_empty;
	memset(buf + 3, 0, 4);
	memcpy(buf + 3, c->size_type, st_len);
	hw_put_u32(buf + 7, c->tare_kg);
	hw_put_u32(buf + 11, c->gross_kg);
	hw_put_u32(buf + 15, c->max_gross_kg);
	hw_put_u32(buf + 19, c->vgm_kg);
	hw_put_u32(buf + 23, c->visits);
	hw_put_u64(buf + 27, (uint64_t)c->last_event_ms);
	hw_put_u64(buf + 35, c->last_lsn);
	buf[43] = (uint8_t)pos_len;
	memcpy(buf + HW_CONTAINER_FIXED_BYTES, c->position, pos_len);
	return HW_CONTAINER_FIXED_BYTES + pos_len;
}

int hw__container_decode(const uint8_t *data, size_t len, struct hw_container *out)
{
	if (len < HW_CONTAINER_FIXED_BYTES || data[0] != HW_CONTAINER_FORMAT)
		return MDB_CORRUPTED;
	size_t pos_len = data[43];
	if (pos_len > sizeof out->position - 1 || len != HW_CONTAINER_FIXED_BYTES + pos_len)
		return MDB_CORRUPTED;
	out->state = data[1];
	out->full_empty = data[2];
	memcpy(out->size_type, data + 3, 4);
	out->size_type[4] = '\0';
	out->tare_kg = hw_get_u32(data + 7);
	out->gross_kg = hw_get_u32(data + 11);
	out->max_gross_kg = hw_get_u32(data + 15);
	out->vgm_kg = hw_get_u32(data + 19);
	out->visits = hw_get_u32(data + 23);
	out->last_event_ms = (int64_t)hw_get_u64(data + 27);
	out->last_lsn = hw_get_u64(data + 35);
	memcpy(out->position, data + HW_CONTAINER_FIXED_BYTES, pos_len);
	out->position[pos_len] = '\0';
	return 0;
}

size_t hw__hold_key(const char *id, size_t id_len, int hold, uint8_t *key)
{
	HW_ASSERT(id_len <= HW_CONTAINER_ID_BYTES_MAX && hold > 0 && hold < 32);
	memcpy(key, id, id_len);
	key[id_len] = (uint8_t)hold;
	return id_len + 1;
}

size_t hw__hold_value(uint64_t lsn, const char *tenant, const char *authority, uint8_t *out)
{
	size_t tn = strlen(tenant);
	size_t an = authority != NULL ? strnlen(authority, HW_TEXT_BYTES_MAX) : 0;
	HW_ASSERT(tn <= 255u); /* validate.c: at most 32 characters */
	hw_put_u64(out, lsn);
	out[8] = (uint8_t)tn;
	memcpy(out + 9, tenant, tn);
	memcpy(out + 9 + tn, authority, an);
	return 9 + tn + an;
}

int hw__hold_tenant(const MDB_val *v, MDB_val *tenant, size_t *authority_at)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size < 9u || v->mv_size < 9u + p[8])
		return MDB_CORRUPTED;
	*tenant = hw_mdb_val(p + 9, p[8]);
	*authority_at = 9u + p[8];
	return 0;
}

int hw__holds_mask(MDB_txn *txn, const struct hw_tables *t, const char *id, size_t id_len,
		   uint32_t *mask)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, t->holds, &cur);
	if (rc != 0)
		return rc;
	*mask = 0;
	MDB_val k = hw_mdb_val(id, id_len);
	MDB_val v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		if (k.mv_size != id_len + 1 || memcmp(k.mv_data, id, id_len) != 0)
			break;
		unsigned hold = ((const uint8_t *)k.mv_data)[id_len];
		if (hold == 0 || hold >= 32) {
			rc = MDB_CORRUPTED;
			break;
		}
		*mask |= 1u << hold;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* A containers value v of box id into *out. */
static int container_value(const MDB_val *v, const char *id, size_t id_len,
			   struct hw_container *out)
{
	memset(out, 0, sizeof *out);
	int rc = hw__container_decode(v->mv_data, v->mv_size, out);
	if (rc != 0)
		return rc;
	memcpy(out->id, id, id_len);
	out->id[id_len] = '\0';
	return 0;
}

int hw__container_read(MDB_cursor *cur, const char *id, size_t id_len, struct hw_container *out)
{
	HW_ASSERT(id_len > 0 && id_len <= HW_CONTAINER_ID_BYTES_MAX);
	MDB_val k = hw_mdb_val(id, id_len);
	MDB_val v;
	int rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
	if (rc == MDB_NOTFOUND)
		return HW_ENOTFOUND;
	return rc != 0 ? rc : container_value(&v, id, id_len, out);
}

int hw_state_container_get(MDB_txn *txn, const struct hw_tables *t, const char *id,
			   struct hw_container *out)
{
	size_t id_len = strlen(id);
	if (id_len == 0 || id_len > HW_CONTAINER_ID_BYTES_MAX)
		return HW_ENOTFOUND;
	MDB_val k = hw_mdb_val(id, id_len);
	MDB_val v;
	int rc = mdb_get(txn, t->containers, &k, &v);
	if (rc == MDB_NOTFOUND)
		return HW_ENOTFOUND;
	if (rc == 0)
		rc = container_value(&v, id, id_len, out);
	return rc != 0 ? rc : hw__holds_mask(txn, t, id, id_len, &out->holds);
}

/* Text being built into a position: appends past cap bytes are cut, and counted in need
 * (validation refuses a place whose text would not fit). Hand-built rather than
 * snprintf'd: this runs for every unit event and printf was a tenth of the ingest path. */
struct text {
	char *out;
	size_t n;
	size_t cap;  /* bytes of text allowed, NUL excluded */
	size_t need; /* bytes the whole text takes */
};

static void text_str(struct text *t, const char *s)
{
	size_t len = strlen(s);
	t->need += len;
	while (*s != '\0' && t->n < t->cap)
		t->out[t->n++] = *s++;
	t->out[t->n] = '\0';
}

/* v in decimal, zero-padded to at least width digits: printf's "%0<width>u". */
static void text_uint(struct text *t, unsigned v, unsigned width)
{
	char d[16];
	unsigned n = 0;
	do {
		d[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v != 0);
	while (n < width)
		d[n++] = '0';
	t->need += n;
	while (n > 0 && t->n < t->cap)
		t->out[t->n++] = d[--n];
	t->out[t->n] = '\0';
}

/* The place part of a position (the table at the top). */
static void place_text(struct text *t, const Tos__V1__Location *loc)
{
	switch (loc->where_case) {
	case TOS__V1__LOCATION__WHERE_YARD: /* "yard:%s-%02u-%02u-%u" */
		text_str(t, "yard:");
		text_str(t, loc->yard->block);
		text_str(t, "-");
		text_uint(t, loc->yard->bay, 2);
		text_str(t, "-");
		text_uint(t, loc->yard->row, 2);
		text_str(t, "-");
		text_uint(t, loc->yard->tier, 1);
		break;
	case TOS__V1__LOCATION__WHERE_VESSEL: /* "vessel:%s:%03u-%02u-%02u" */
		text_str(t, "vessel:");
		text_str(t, loc->vessel->vessel_visit_id);
		text_str(t, ":");
		text_uint(t, loc->vessel->bay, 3);
		text_str(t, "-");
		text_uint(t, loc->vessel->row, 2);
		text_str(t, "-");
		text_uint(t, loc->vessel->tier, 2);
		break;
	case TOS__V1__LOCATION__WHERE_TRUCK: /* "truck:%s:%s:%u" */
		text_str(t, "truck:");
		text_str(t, loc->truck->truck_visit_id);
		text_str(t, ":");
		text_str(t, loc->truck->lane);
		text_str(t, ":");
		text_uint(t, loc->truck->chassis_slot, 1);
		break;
	case TOS__V1__LOCATION__WHERE_RAIL: /* "rail:%s:%s:%u" */
		text_str(t, "rail:");
		text_str(t, loc->rail->train_visit_id);
		text_str(t, ":");
		text_str(t, loc->rail->wagon);
		text_str(t, ":");
		text_uint(t, loc->rail->slot, 1);
		break;
	case TOS__V1__LOCATION__WHERE_CHE:
		text_str(t, "che:");
		text_str(t, loc->che->che_id);
		break;
	default:
		break;
	}
}

size_t hw__position_text(const char *facility, const Tos__V1__Location *loc,
			 char out[HW_POSITION_BYTES])
{
	out[0] = '\0';
	if (loc == NULL || loc->where_case == TOS__V1__LOCATION__WHERE__NOT_SET)
		return 0;
	size_t prefix = 0;
	if (facility != NULL) {
		prefix = strnlen(facility, HW_POSITION_BYTES - 2u - HW_PLACE_TEXT_MAX);
		memcpy(out, facility, prefix);
		out[prefix++] = '/';
	}
	struct text t = {.out = out + prefix, .n = 0, .cap = HW_PLACE_TEXT_MAX};
	place_text(&t, loc);
	return t.need;
}

size_t hw__slot_key(const char *facility, const char *block, unsigned bay, unsigned row,
		    unsigned tier, char *out)
{
	/* "%.14s/%.4s-%02u-%02u-%u" with bay and row below 100 and tier below 10. */
	size_t f = strnlen(facility, 14);
	memcpy(out, facility, f);
	out[f] = '/';
	char *p = out + f + 1;
	size_t n = strnlen(block, 4);
	memcpy(p, block, n);
	p += n;
	bay %= 100u;
	row %= 100u;
	*p++ = '-';
	*p++ = (char)('0' + bay / 10u);
	*p++ = (char)('0' + bay % 10u);
	*p++ = '-';
	*p++ = (char)('0' + row / 10u);
	*p++ = (char)('0' + row % 10u);
	*p++ = '-';
	*p++ = (char)('0' + tier % 10u);
	*p = '\0';
	n = (size_t)(p - out);
	HW_ASSERT(n < HW_SLOT_KEY_BYTES);
	return n;
}

static unsigned slots_of(const char *facility, const char *block, unsigned bay, unsigned row,
			 unsigned tier, char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES])
{
	if (bay % 2u == 1u) {
		hw__slot_key(facility, block, bay, row, tier, keys[0]);
		return 1;
	}
	hw__slot_key(facility, block, bay - 1u, row, tier, keys[0]);
	hw__slot_key(facility, block, bay + 1u, row, tier, keys[1]);
	return 2;
}

unsigned hw__yard_slots(const char *facility, const Tos__V1__YardPos *pos,
			char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES])
{
	if (pos == NULL || pos->bay == 0)
		return 0;
	return slots_of(facility, pos->block, pos->bay, pos->row, pos->tier, keys);
}

/* The facility of a stored position into out (15 bytes) and the place after it; NULL
 * when pos has no facility. */
static const char *position_place(const char *pos, char facility[15])
{
	const char *slash = strchr(pos, '/');
	if (slash == NULL || slash == pos || slash - pos > 14)
		return NULL;
	memcpy(facility, pos, (size_t)(slash - pos));
	facility[slash - pos] = '\0';
	return slash + 1;
}

/* Whether s has shape's length and shape ('9' a digit, anything else itself). */
static bool shaped(const char *s, const char *shape)
{
	for (; *shape != '\0'; s++, shape++) {
		bool digit = *s >= '0' && *s <= '9';
		if (*shape == '9' ? !digit : *s != *shape)
			return false;
	}
	return true;
}

unsigned hw__position_slots(const char *pos, char keys[HW_SLOTS_PER_BOX_MAX][HW_SLOT_KEY_BYTES])
{
	char facility[15];
	pos = position_place(pos, facility);
	if (pos == NULL || strncmp(pos, "yard:", 5) != 0)
		return 0;
	/* "yard:" block "-BB-RR-T": the block is whatever precedes the fixed 8-byte tail. */
	size_t len = strlen(pos);
	if (len < 5 + 1 + 8)
		return 0;
	const char *tail = pos + len - 8;
	/* The tail is exactly what hw__position_text() writes for a bay and row below 100:
	 * "-BB-RR-T", digits only. */
	if (!shaped(tail, "-99-99-9"))
		return 0;
	unsigned bay = (unsigned)(tail[1] - '0') * 10u + (unsigned)(tail[2] - '0');
	unsigned row = (unsigned)(tail[4] - '0') * 10u + (unsigned)(tail[5] - '0');
	unsigned tier = (unsigned)(tail[7] - '0');
	if (bay == 0)
		return 0;
	char block[8];
	size_t block_len = (size_t)(tail - (pos + 5));
	if (block_len == 0 || block_len >= sizeof block)
		return 0;
	memcpy(block, pos + 5, block_len);
	block[block_len] = '\0';
	return slots_of(facility, block, bay, row, tier, keys);
}

unsigned hw__position_vessel_bay(const char *pos)
{
	char facility[15];
	pos = position_place(pos, facility);
	if (pos == NULL || strncmp(pos, "vessel:", 7) != 0)
		return 0;
	/* "vessel:" visit ":BBB-RR-TT": the fixed 10-byte tail hw__position_text() writes. */
	size_t len = strlen(pos);
	if (len < 7 + 1 + 10)
		return 0;
	const char *tail = pos + len - 10;
	if (!shaped(tail, ":999-99-99"))
		return 0;
	return (unsigned)(tail[1] - '0') * 100u + (unsigned)(tail[2] - '0') * 10u +
	       (unsigned)(tail[3] - '0');
}

size_t hw__vessel_key(const char *facility, const char *visit, char key[HW_VESSEL_KEY_BYTES])
{
	size_t f = strnlen(facility, 14);
	size_t v = strnlen(visit, HW_VESSEL_KEY_BYTES - 16u);
	if (v == 0)
		return 0;
	memcpy(key, facility, f);
	key[f] = '/';
	memcpy(key + f + 1, visit, v);
	key[f + 1 + v] = '\0';
	return f + 1 + v;
}

bool hw__position_vessel_key(const char *pos, char key[HW_VESSEL_KEY_BYTES])
{
	char facility[15];
	pos = position_place(pos, facility);
	if (pos == NULL || strncmp(pos, "vessel:", 7) != 0)
		return false;
	const char *start = pos + 7;
	/* The cell after the last ':' has no ':', so the visit id may hold one. */
	const char *end = strrchr(start, ':');
	if (end == NULL || (size_t)(end - start) >= HW_VESSEL_KEY_BYTES - 16u)
		return false;
	char visit[HW_VESSEL_KEY_BYTES];
	memcpy(visit, start, (size_t)(end - start));
	visit[end - start] = '\0';
	return hw__vessel_key(facility, visit, key) > 0;
}

int hw__vessel_phase(MDB_txn *txn, const struct hw_tables *t, const char *key, int *phase,
		     bool *found)
{
	MDB_val k = hw_mdb_val(key, strlen(key));
	MDB_val v;
	*phase = 0;
	*found = false;
	if (k.mv_size == 0)
		return 0;
	int rc = mdb_get(txn, t->vessels, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 1)
		return MDB_CORRUPTED;
	*phase = ((const uint8_t *)v.mv_data)[0];
	*found = true;
	return 0;
}

int hw__container_active(MDB_txn *txn, const struct hw_tables *t, const struct hw_container *c,
			 bool *active)
{
	switch (c->state) {
	case TOS__V1__TRANSIT_STATE__ADVISED:
	case TOS__V1__TRANSIT_STATE__INBOUND:
	case TOS__V1__TRANSIT_STATE__EC_IN:
	case TOS__V1__TRANSIT_STATE__YARD:
	case TOS__V1__TRANSIT_STATE__EC_OUT:
		*active = true;
		return 0;
	case TOS__V1__TRANSIT_STATE__LOADED:
		break;
	default:
		*active = false;
		return 0;
	}
	/* LOADED: still ours until its vessel visit departs. A visit the store never saw
	 * has not departed. */
	char key[HW_VESSEL_KEY_BYTES];
	int phase = 0;
	bool found = false;
	if (hw__position_vessel_key(c->position, key)) {
		int rc = hw__vessel_phase(txn, t, key, &phase, &found);
		if (rc != 0)
			return rc;
	}
	*active = phase < TOS__V1__VISIT_PHASE__VP_DEPARTED;
	return 0;
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int value)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	return v != NULL ? v->name : "?";
}

const char *hw_transit_state_name(int state)
{
	return enum_name(&tos__v1__transit_state__descriptor, state);
}

const char *hw_hold_type_name(int hold)
{
	return enum_name(&tos__v1__hold_type__descriptor, hold);
}

const char *hw_visit_phase_name(int phase)
{
	return enum_name(&tos__v1__visit_phase__descriptor, phase);
}
