/* validate.c: the stateless record rules of docs/rules.md (replica/validate.h).
 *
 * Order matters because the first broken rule is the one reported: envelope first
 * (schema, ids, tenant and facility, times, source), then the payload. Within a field,
 * the encoding check (UTF-8, control characters) comes before the field's own format, so
 * a mangled string is reported as HW_EUTF8 wherever it appears. */
#include "replica/validate.h"

#include <stdio.h>
#include <string.h>

#include "base/reject.h"
#include "base/utf8.h"
#include "hawser_limits.h"
#include "replica/iso6346.h"
#include "replica/record.h"
#include "replica/state_int.h"

#define FIELD_BYTES  sizeof(((struct hw_reject *)0)->field)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- text */

struct text_info {
	size_t bytes;
	size_t chars;
	size_t bad_at; /* byte offset of the first refused byte */
};

/* C0 controls but tab, DEL, C1 controls, and the Unicode line and paragraph separators
 * (they break log lines and JSON consumers as a newline would). */
static bool is_control(unsigned long cp)
{
	return (cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
	       cp == 0x2028 || cp == 0x2029;
}

/* True when the 8 bytes at p are all printable ASCII (0x20..0x7E), so each is one code
 * point that is_control() accepts. Exact as a yes/no (Bit Twiddling Hacks' hasless and
 * hasmore): a byte below 0x20 sets its top bit in (x - 0x20...) & ~x; a byte of 0x7F or
 * more sets it in (x + 0x01...) | x, and a carry only starts at a byte already caught. */
static bool ascii8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u;
	const uint64_t tops = 0x8080808080808080u;
	uint64_t x;
	memcpy(&x, p, sizeof x);
	uint64_t below = (x - 0x20u * ones) & ~x & tops;
	uint64_t above = ((x + ones) | x) & tops;
	return (below | above) == 0;
}

/* Bytes of printable ASCII at the start of p (n bytes): 8 at a time, then a tail of
 * fewer than 8 as the last 8 bytes of the string at once (they overlap bytes already
 * checked), else one byte at a time. */
static size_t ascii_run(const unsigned char *p, size_t n)
{
	size_t k = 0;
	while (n - k >= 8 && ascii8(p + k))
		k += 8;
	if (k < n && n - k < 8 && n >= 8 && ascii8(p + n - 8))
		return n;
	while (k < n && p[k] >= 0x20 && p[k] < 0x7F)
		k++;
	return k;
}

/* The string's length first (strlen never reads past the NUL), then runs of printable
 * ASCII (ascii_run), and everything else (tab, UTF-8, refused bytes) one code point at a
 * time through the strict decoder: the rules are those of the slow path alone. */
static bool text_scan(const char *s, struct text_info *ti)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p);
	size_t i = 0, chars = 0;
	for (;;) {
		size_t run = ascii_run(p + i, len - i);
		i += run;
		chars += run;
		if (i == len)
			break;
		unsigned long cp;
		size_t n = hw_utf8_decode(p + i, &cp);
		if (n == 0 || is_control(cp)) {
			ti->bad_at = i;
			break;
		}
		i += n;
		chars++;
	}
	ti->chars = chars;
	ti->bytes = i;
	return i == len;
}

/* What hw_validate_decoded() was told of the record's strings, for its call alone, on
 * this thread: TEXTS_SCAN (nothing, and outside it) scans each string; TEXTS_ASCII, all
 * are printable ASCII, so a string's characters are its bytes and its length is all
 * there is to check; TEXTS_SHORT, and none is longer than HW_REF_CHARS_MAX bytes, so
 * each fits every text limit (all at least that: below). A thread's own and back to
 * TEXTS_SCAN before the call returns, so the rules stay a function of their arguments;
 * it spares threading the decoder's word through every check below. */
enum texts { TEXTS_SCAN, TEXTS_ASCII, TEXTS_SHORT };
static _Thread_local enum texts texts_known;

_Static_assert(HW_REF_CHARS_MAX <= HW_TEXT_BYTES_MAX && HW_REF_CHARS_MAX <= HW_KV_KEY_BYTES_MAX,
	       "TEXTS_SHORT: a string of HW_REF_CHARS_MAX bytes fits every text limit");

bool hw_text_ok(const char *s, size_t max_bytes)
{
	struct text_info ti;
	return text_scan(s, &ti) && ti.bytes <= max_bytes;
}

/* buf = prefix "." name, cut to FIELD_BYTES - 1 like hw_reject's own field (a plain
 * copy: snprintf would warn about the truncation we want). */
static const char *join(char *buf, const char *prefix, const char *name)
{
	size_t n = 0;
	for (const char *s = prefix; *s != '\0' && n < FIELD_BYTES - 1; s++)
		buf[n++] = *s;
	if (n < FIELD_BYTES - 1)
		buf[n++] = '.';
	for (const char *s = name; *s != '\0' && n < FIELD_BYTES - 1; s++)
		buf[n++] = *s;
	buf[n] = '\0';
	return buf;
}

/* check_text() (below) without a field: true when s passes. The checks try this first and
 * build the field path (join, snprintf) only for the report of a refused field. */
static bool text_fits(const char *s, size_t max_chars, size_t max_bytes)
{
	struct text_info ti;
	if (texts_known == TEXTS_SHORT)
		return true;
	if (texts_known == TEXTS_ASCII)
		ti.chars = ti.bytes = strlen(s != NULL ? s : "");
	else if (!text_scan(s, &ti))
		return false;
	return (max_chars == 0 || ti.chars <= max_chars) &&
	       (max_bytes == 0 || ti.bytes <= max_bytes);
}

/* Encoding, then size: max_chars counts code points (EDIFACT an..35 counts characters),
 * max_bytes bounds free text. A limit of 0 is no limit. */
static int check_text(const char *s, size_t max_chars, size_t max_bytes, const char *field,
		      struct hw_reject *rej)
{
	struct text_info ti;
	if (texts_known != TEXTS_SCAN && text_fits(s, max_chars, max_bytes))
		return 0;
	if (!text_scan(s, &ti))
		return hw_reject_set(rej, HW_EUTF8, field,
				     "invalid UTF-8 or control character at byte %zu", ti.bad_at);
	if (max_chars != 0 && ti.chars > max_chars)
		return hw_reject_set(rej, HW_ERANGE, field, "%zu characters, more than %zu",
				     ti.chars, max_chars);
	if (max_bytes != 0 && ti.bytes > max_bytes)
		return hw_reject_set(rej, HW_ERANGE, field, "%zu bytes, more than %zu", ti.bytes,
				     max_bytes);
	return 0;
}

/* A reference or code: EDIFACT an..35. */
static int check_ref(const char *s, const char *prefix, const char *name, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	if (text_fits(s, HW_REF_CHARS_MAX, 0))
		return 0;
	return check_text(s, HW_REF_CHARS_MAX, 0, join(f, prefix, name), rej);
}

/* A reference that must be given. */
static int check_ref_req(const char *s, const char *prefix, const char *name, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	if (s == NULL || s[0] == '\0')
		return hw_reject_set(rej, HW_EMISSING, join(f, prefix, name), "required");
	return check_ref(s, prefix, name, rej);
}

/* Free text: at most HW_TEXT_BYTES_MAX bytes. */
static int check_free(const char *s, const char *prefix, const char *name, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	if (text_fits(s, 0, HW_TEXT_BYTES_MAX))
		return 0;
	return check_text(s, 0, HW_TEXT_BYTES_MAX, join(f, prefix, name), rej);
}

/* A repeated string: at most HW_REPEATED_MAX elements, each a reference (free: false) or
 * free text (free: true). */
static int check_list(char *const *v, size_t n, bool free_text, const char *prefix,
		      const char *name, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	if (n > HW_REPEATED_MAX)
		return hw_reject_set(rej, HW_ERANGE, join(f, prefix, name),
				     "%zu elements, more than %u", n, HW_REPEATED_MAX);
	for (size_t i = 0; i < n; i++) {
		if (free_text ? text_fits(v[i], 0, HW_TEXT_BYTES_MAX)
			      : text_fits(v[i], HW_REF_CHARS_MAX, 0))
			continue;
		char fi[FIELD_BYTES];
		snprintf(fi, sizeof fi, "%s.%s[%zu]", prefix, name, i);
		int rc = free_text ? check_text(v[i], 0, HW_TEXT_BYTES_MAX, fi, rej)
				   : check_text(v[i], HW_REF_CHARS_MAX, 0, fi, rej);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* protobuf-c keeps unknown proto3 enum numbers as they came: refuse them here. A
 * required enum must also not be its UNSPECIFIED zero. */
static int check_enum(const ProtobufCEnumDescriptor *d, int v, bool required, const char *prefix,
		      const char *name, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	if (protobuf_c_enum_descriptor_get_value(d, v) == NULL)
		return hw_reject_set(rej, HW_ERANGE, join(f, prefix, name), "unknown %s value %d",
				     d->short_name, v);
	if (required && v == 0)
		return hw_reject_set(rej, HW_EMISSING, join(f, prefix, name), "%s not given",
				     d->short_name);
	return 0;
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
	return ev != NULL ? ev->name : "?";
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* ---------------------------------------------------------------- container numbers */

/* Why character i of a container number is refused, in words. */
static const char *char_problem(unsigned char c)
{
	if (c >= 0x80)
		return "non-ASCII character (look-alike?)";
	if (c >= 'a' && c <= 'z')
		return "lower-case letter (normalise first)";
	if (c == ' ')
		return "space (normalise first)";
	if (c == '-')
		return "hyphen (normalise first)";
	if (c < 0x20 || c == 0x7F)
		return "control character";
	if (!is_upper((char)c) && !is_digit((char)c))
		return "character other than A-Z, 0-9";
	return NULL;
}

int hw_validate_container_id(const char *id, bool non_iso, const char *field, struct hw_reject *rej)
{
	if (id == NULL || id[0] == '\0')
		return hw_reject_set(rej, HW_ECONTAINER_ID, field,
				     "blank container number on an executed record");
	size_t len = strlen(id);
	for (size_t i = 0; i < len; i++) {
		const char *why = char_problem((unsigned char)id[i]);
		if (why != NULL)
			return hw_reject_set(rej, HW_ECONTAINER_ID, field, "%s at byte %zu", why,
					     i);
	}
	if (len != 11)
		return hw_reject_set(rej, HW_ECONTAINER_ID, field,
				     "%zu characters, ISO 6346 needs 11", len);
	for (int i = 0; i < 3; i++)
		if (!is_upper(id[i]))
			return hw_reject_set(rej, HW_ECONTAINER_ID, field,
					     "owner code must be 3 letters A-Z");
	if (non_iso) {
		/* Explicit exemption (rule 3): 4 letters, 7 digits, no category or check. */
		if (!is_upper(id[3]) || !all_digits(id + 4, 7))
			return hw_reject_set(rej, HW_ECONTAINER_ID, field,
					     "non-ISO number must be 4 letters and 7 digits");
		return 0;
	}
	if (id[3] != 'U' && id[3] != 'J' && id[3] != 'Z')
		return hw_reject_set(rej, HW_ECONTAINER_ID, field,
				     "category must be U, J or Z (or set non_iso_id)");
	if (!all_digits(id + 4, 7))
		return hw_reject_set(rej, HW_ECONTAINER_ID, field,
				     "serial and check digit must be 7 digits");
	int want = hw_iso6346_check_digit(id);
	if (want != id[10] - '0')
		return hw_reject_set(rej, HW_ECHECK_DIGIT, field,
				     "check digit %c, ISO 6346 gives %d", id[10], want);
	return 0;
}

/* Encoding first (so a control character is HW_EUTF8 as everywhere), then ISO 6346. */
static int check_container(const char *id, bool non_iso, const char *prefix, const char *name,
			   struct hw_reject *rej)
{
	if (text_fits(id, 0, 0) && hw_validate_container_id(id, non_iso, "", NULL) == 0)
		return 0; /* the checks below again, with the field path, only to report */
	char f[FIELD_BYTES];
	int rc = check_text(id, 0, 0, join(f, prefix, name), rej);
	if (rc != 0)
		return rc;
	return hw_validate_container_id(id, non_iso, f, rej);
}

/* A container a payload without Equipment names: an ISO 6346 number, or one of the
 * non-ISO shape (4 letters, 7 digits), which the apply step takes only for a box a unit
 * event with non_iso_id made known (apply.c box_begin), so a FULL non-ISO box can get its
 * VGM and its holds. */
static int check_box_ref(const char *id, const char *prefix, const char *name,
			 struct hw_reject *rej)
{
	if (text_fits(id, 0, 0) && hw_validate_container_id(id, true, "", NULL) == 0)
		return 0;
	return check_container(id, false, prefix, name, rej);
}

/* ---------------------------------------------------------------- size/type */

/* ISO 6346:1995. Length: 10, 20, 30, 40 ft, then 45, 48, 49, 53 ft. Height/width: the
 * codes of docs/rules.md plus 4 (9 ft), a real code the standard lists. */
static const char iso95_length[] = "1234LMNP";
static const char iso95_height[] = "0245689CDEF";
/* Type codes: details per group, then the group codes DCSA also accepts. */
static const char *const iso95_types[] = {
	"G0", "G1", "G2", "G3", "V0", "V2", "V4", "B0", "B1", "B3", "B4", "B5", "B6", "S0",
	"S1", "S2", "R0", "R1", "R2", "R3", "H0", "H1", "H2", "H5", "H6", "U0", "U1", "U2",
	"U3", "U4", "U5", "P0", "P1", "P2", "P3", "P4", "P5", "T0", "T1", "T2", "T3", "T4",
	"T5", "T6", "T7", "T8", "T9", "A0", "GP", "VH", "BU", "BK", "SN", "RT", "RS", "RC",
	"HR", "HI", "UT", "PL", "PF", "PC", "PS", "TN", "TD", "TG", "AS",
};
/* ISO 6346:1984 (still in BAPLIE D.911 files): length 1-4, height 0 (8'), 2 (8'6"),
 * 3 (9') or 5 (9'6"), and a two-digit type: 0x general, 1x vented, 2x insulated, 3x
 * reefer, 4x reefer with removable plant, 5x open top, 6x platform, 7x tank, 8x bulk,
 * 9x air/surface. */
static const char legacy_length[] = "1234";
static const char legacy_height[] = "0235";
static const char *const legacy_types[] = {
	"00", "01", "02", "03", "04", "05", "10", "11", "12", "13", "20", "21",
	"22", "30", "31", "32", "33", "34", "35", "40", "41", "50", "51", "52",
	"53", "60", "61", "62", "63", "64", "65", "66", "67", "70", "71", "72",
	"73", "74", "75", "76", "77", "78", "79", "80", "81", "82", "90", "91",
};

static bool in_set(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static bool in_table(const char *two, const char *const *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (two[0] == table[i][0] && two[1] == table[i][1])
			return true;
	return false;
}

static bool is_legacy(const char *code)
{
	return is_digit(code[2]) && is_digit(code[3]);
}

int hw_validate_size_type(const char *code, const char *field, struct hw_reject *rej)
{
	if (code == NULL || strlen(code) != 4)
		return hw_reject_set(rej, HW_ESIZE_TYPE, field, "size/type must be 4 characters");
	if (is_legacy(code)) {
		if (!in_set(code[0], legacy_length) || !in_set(code[1], legacy_height))
			return hw_reject_set(rej, HW_ESIZE_TYPE, field,
					     "unknown ISO 6346:1984 length/height code");
		if (!in_table(code + 2, legacy_types, ARRAY_LEN(legacy_types)))
			return hw_reject_set(rej, HW_ESIZE_TYPE, field,
					     "unknown ISO 6346:1984 type code");
		return 0;
	}
	if (!in_set(code[0], iso95_length))
		return hw_reject_set(rej, HW_ESIZE_TYPE, field, "unknown ISO 6346 length code");
	if (!in_set(code[1], iso95_height))
		return hw_reject_set(rej, HW_ESIZE_TYPE, field, "unknown ISO 6346 height code");
	if (!in_table(code + 2, iso95_types, ARRAY_LEN(iso95_types)))
		return hw_reject_set(rej, HW_ESIZE_TYPE, field, "unknown ISO 6346 type code");
	return 0;
}

bool hw_size_type_is_reefer(const char *code)
{
	if (code == NULL || strlen(code) != 4)
		return false;
	if (is_legacy(code))
		return code[2] == '3';
	return code[2] == 'R';
}

unsigned hw_size_type_length_ft(const char *code)
{
	if (code == NULL || code[0] == '\0')
		return 0;
	switch (code[0]) {
	case '1':
		return 10;
	case '2':
		return 20;
	case '3':
		return 30;
	case '4':
		return 40;
	case 'L':
		return 45;
	case 'M':
		return 48;
	case 'N':
		return 49;
	case 'P':
		return 53;
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- places */

/* UN/LOCODE: country [A-Z]{2} and place [A-Z2-9]{3} (rule 20). */
static bool is_locode(const char *s)
{
	if (strlen(s) < 5)
		return false;
	if (!is_upper(s[0]) || !is_upper(s[1]))
		return false;
	for (int i = 2; i < 5; i++)
		if (!is_upper(s[i]) && !(s[i] >= '2' && s[i] <= '9'))
			return false;
	return true;
}

static int check_locode(const char *s, const char *prefix, const char *name, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	int rc = check_ref(s, prefix, name, rej);
	if (rc != 0 || s[0] == '\0')
		return rc;
	if (strlen(s) != 5 || !is_locode(s))
		return hw_reject_set(rej, HW_ERANGE, join(f, prefix, name),
				     "not a UN/LOCODE [A-Z]{2}[A-Z2-9]{3}");
	return 0;
}

/* Facility: a UN/LOCODE, optionally "-" and a terminal code of 1-8 [A-Z0-9]. */
static int check_facility(const char *s, struct hw_reject *rej)
{
	if (s == NULL || s[0] == '\0')
		return hw_reject_set(rej, HW_EMISSING, "facility_id", "required");
	int rc = check_text(s, HW_REF_CHARS_MAX, 0, "facility_id", rej);
	if (rc != 0)
		return rc;
	size_t len = strlen(s);
	bool ok = is_locode(s) && (len == 5 || (s[5] == '-' && len >= 7 && len <= 14));
	for (size_t i = 6; ok && i < len; i++)
		ok = is_upper(s[i]) || is_digit(s[i]);
	if (!ok)
		return hw_reject_set(rej, HW_ERANGE, "facility_id",
				     "must be a UN/LOCODE, optionally -TERMINAL (1-8 A-Z0-9)");
	return 0;
}

static int check_yard(const Tos__V1__YardPos *y, const char *path, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	int rc = check_ref(y->block, path, "block", rej);
	if (rc != 0)
		return rc;
	size_t len = strlen(y->block);
	bool ok = len >= 1 && len <= 4;
	for (size_t i = 0; ok && i < len; i++)
		ok = is_upper(y->block[i]) || is_digit(y->block[i]);
	if (!ok)
		return hw_reject_set(rej, HW_EPOSITION, join(f, path, "block"),
				     "block must be 1-4 of A-Z, 0-9");
	if (y->bay < 1 || y->bay > HW_YARD_BAY_MAX)
		return hw_reject_set(rej, HW_EPOSITION, join(f, path, "bay"), "bay %u not in 1-%u",
				     y->bay, HW_YARD_BAY_MAX);
	if (y->row < 1 || y->row > HW_YARD_ROW_MAX)
		return hw_reject_set(rej, HW_EPOSITION, join(f, path, "row"), "row %u not in 1-%u",
				     y->row, HW_YARD_ROW_MAX);
	if (y->tier < 1 || y->tier > HW_YARD_TIER_MAX)
		return hw_reject_set(rej, HW_EPOSITION, join(f, path, "tier"),
				     "tier %u not in 1-%u", y->tier, HW_YARD_TIER_MAX);
	return 0;
}

/* ISO 9711 cell BBBRRTT: bay 1-199, row 0-25, tier 1-98 (rule 21). */
static int check_cell(const Tos__V1__VesselCell *c, const char *path, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	int rc = check_ref_req(c->vessel_visit_id, path, "vessel_visit_id", rej);
	if (rc != 0)
		return rc;
	if (c->bay < 1 || c->bay > 199)
		return hw_reject_set(rej, HW_EPOSITION, join(f, path, "bay"), "bay %u not in 1-199",
				     c->bay);
	if (c->row > 25)
		return hw_reject_set(rej, HW_EPOSITION, join(f, path, "row"), "row %u not in 0-25",
				     c->row);
	if (c->tier < 1 || c->tier > 98)
		return hw_reject_set(rej, HW_EPOSITION, join(f, path, "tier"),
				     "tier %u not in 1-98", c->tier);
	return 0;
}

static int check_place(const Tos__V1__Location *l, const char *path, struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	if (l == NULL)
		return 0;
	int rc = 0;
	switch (l->where_case) {
	case TOS__V1__LOCATION__WHERE_YARD:
		return check_yard(l->yard, join(f, path, "yard"), rej);
	case TOS__V1__LOCATION__WHERE_VESSEL:
		return check_cell(l->vessel, join(f, path, "vessel"), rej);
	case TOS__V1__LOCATION__WHERE_TRUCK:
		join(f, path, "truck");
		rc = check_ref(l->truck->truck_visit_id, f, "truck_visit_id", rej);
		return rc != 0 ? rc : check_ref(l->truck->lane, f, "lane", rej);
	case TOS__V1__LOCATION__WHERE_RAIL:
		join(f, path, "rail");
		rc = check_ref(l->rail->train_visit_id, f, "train_visit_id", rej);
		return rc != 0 ? rc : check_ref(l->rail->wagon, f, "wagon", rej);
	case TOS__V1__LOCATION__WHERE_CHE:
		return check_ref(l->che->che_id, join(f, path, "che"), "che_id", rej);
	case TOS__V1__LOCATION__WHERE__NOT_SET:
	default:
		return 0; /* an empty Location names no place: same as none */
	}
}

/* A place, and its canonical text within the HW_PLACE_TEXT_MAX bytes the state keeps
 * after the facility (ids of up to 35 characters can take 140 bytes of UTF-8: cut short,
 * a place would compare as another). */
static int check_location(const Tos__V1__Location *l, const char *path, struct hw_reject *rej)
{
	int rc = check_place(l, path, rej);
	char text[HW_POSITION_BYTES];
	size_t need = rc == 0 ? hw__position_text(NULL, l, text) : 0;
	if (need > HW_PLACE_TEXT_MAX)
		return hw_reject_set(rej, HW_EPOSITION, path,
				     "the place's text is %zu bytes, at most %u: shorten its ids",
				     need, HW_PLACE_TEXT_MAX);
	return rc;
}

/* ---------------------------------------------------------------- moves */

enum {
	PLACE_NONE = 1u << 0,
	PLACE_YARD = 1u << 1,
	PLACE_VESSEL = 1u << 2,
	PLACE_OTHER = 1u << 3, /* truck, rail, equipment */
	PLACE_ANY = PLACE_NONE | PLACE_YARD | PLACE_VESSEL | PLACE_OTHER,
};

struct move_rule {
	unsigned from;
	unsigned to;
	bool other_slot; /* to must be a different yard slot */
	bool same_visit; /* to must be on from's vessel visit */
};

#define UET(x) TOS__V1__UNIT_EVENT_TYPE__##x
/* docs/rules.md move table; types not listed (from == 0) take any place or none. */
static const struct move_rule move_rules[] = {
	[UET(DISCHARGE)] = {PLACE_VESSEL, PLACE_YARD, false, false},
	[UET(LOAD)] = {PLACE_YARD, PLACE_VESSEL, false, false},
	[UET(GATE_IN)] = {PLACE_ANY, PLACE_YARD, false, false},
	[UET(RAIL_IN)] = {PLACE_ANY, PLACE_YARD, false, false},
	[UET(BARGE_IN)] = {PLACE_ANY, PLACE_YARD, false, false},
	[UET(GATE_OUT)] = {PLACE_YARD, PLACE_ANY, false, false},
	[UET(RAIL_OUT)] = {PLACE_YARD, PLACE_ANY, false, false},
	[UET(BARGE_OUT)] = {PLACE_YARD, PLACE_ANY, false, false},
	[UET(YARD_MOVE)] = {PLACE_YARD, PLACE_YARD, true, false},
	[UET(YARD_SHIFT)] = {PLACE_YARD, PLACE_YARD, true, false},
	[UET(POSITION_CORRECTION)] = {PLACE_YARD, PLACE_YARD, true, false},
	[UET(RESTOW)] = {PLACE_VESSEL, PLACE_VESSEL, false, true},
	[UET(SHIFT_ON_BOARD)] = {PLACE_VESSEL, PLACE_VESSEL, false, true},
};

static unsigned place_of(const Tos__V1__Location *l)
{
	if (l == NULL)
		return PLACE_NONE;
	switch (l->where_case) {
	case TOS__V1__LOCATION__WHERE_YARD:
		return PLACE_YARD;
	case TOS__V1__LOCATION__WHERE_VESSEL:
		return PLACE_VESSEL;
	case TOS__V1__LOCATION__WHERE__NOT_SET:
		return PLACE_NONE;
	default:
		return PLACE_OTHER;
	}
}

static const char *place_words(unsigned mask)
{
	switch (mask) {
	case PLACE_YARD:
		return "a yard slot";
	case PLACE_VESSEL:
		return "a vessel cell";
	case PLACE_NONE:
		return "no place";
	default:
		return "another place";
	}
}

static bool same_slot(const Tos__V1__YardPos *a, const Tos__V1__YardPos *b)
{
	return strcmp(a->block, b->block) == 0 && a->bay == b->bay && a->row == b->row &&
	       a->tier == b->tier;
}

static int check_move(const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	if ((size_t)ue->type >= ARRAY_LEN(move_rules) || move_rules[ue->type].from == 0)
		return 0;
	const struct move_rule *m = &move_rules[ue->type];
	const char *ev = enum_name(&tos__v1__unit_event_type__descriptor, (int)ue->type);
	unsigned from = place_of(ue->from), to = place_of(ue->to);
	if ((from & m->from) == 0)
		return hw_reject_set(rej, HW_EPOSITION, "unit_event.from",
				     "%s must come from %s, not %s", ev, place_words(m->from),
				     place_words(from));
	if ((to & m->to) == 0)
		return hw_reject_set(rej, HW_EPOSITION, "unit_event.to", "%s must go to %s, not %s",
				     ev, place_words(m->to), place_words(to));
	if (m->other_slot && same_slot(ue->from->yard, ue->to->yard))
		return hw_reject_set(rej, HW_EPOSITION, "unit_event.to",
				     "%s to the slot it comes from", ev);
	if (m->same_visit &&
	    strcmp(ue->from->vessel->vessel_visit_id, ue->to->vessel->vessel_visit_id) != 0)
		return hw_reject_set(rej, HW_EPOSITION, "unit_event.to.vessel.vessel_visit_id",
				     "%s must stay on the same vessel visit", ev);
	return 0;
}

/* ---------------------------------------------------------------- unit events */

static int check_equipment(const Tos__V1__Equipment *eq, struct hw_reject *rej)
{
	static const char p[] = "unit_event.equipment";
	if (eq == NULL)
		return hw_reject_set(rej, HW_EMISSING, p, "a unit event names its equipment");
	int rc = check_container(eq->container_id, eq->non_iso_id, p, "container_id", rej);
	if (rc == 0)
		rc = check_ref(eq->iso_size_type, p, "iso_size_type", rej);
	if (rc == 0 && eq->iso_size_type[0] != '\0')
		rc = hw_validate_size_type(eq->iso_size_type, "unit_event.equipment.iso_size_type",
					   rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__full_empty__descriptor, (int)eq->full_empty, false, p,
				"full_empty", rej);
	if (rc == 0)
		rc = check_ref(eq->line_operator, p, "line_operator", rej);
	if (rc == 0 && eq->tare_kg > HW_TARE_KG_MAX)
		rc = hw_reject_set(rej, HW_EWEIGHT, "unit_event.equipment.tare_kg",
				   "tare %u kg above %u", eq->tare_kg, HW_TARE_KG_MAX);
	return rc;
}

/* Rules 11-12: 0 is "not given"; above 45 t is physically implausible; 36-45 t is kept
 * because real files hold 37.2 t boxes, unless the CSC plate says otherwise. */
static int check_gross(const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	const Tos__V1__Equipment *eq = ue->equipment;
	uint32_t g = ue->gross_kg;
	if (g == 0)
		return 0;
	if (g > HW_GROSS_KG_MAX)
		return hw_reject_set(rej, HW_EWEIGHT, "unit_event.gross_kg", "gross %u kg above %u",
				     g, HW_GROSS_KG_MAX);
	if (eq->tare_kg != 0 && g < eq->tare_kg)
		return hw_reject_set(rej, HW_EWEIGHT, "unit_event.gross_kg",
				     "gross %u kg below tare %u kg", g, eq->tare_kg);
	if (eq->max_gross_kg != 0 && g > eq->max_gross_kg)
		return hw_reject_set(rej, HW_EWEIGHT, "unit_event.gross_kg",
				     "gross %u kg above CSC max gross %u kg", g, eq->max_gross_kg);
	return 0;
}

static int check_ports(const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	static const char p[] = "unit_event";
	int rc = check_locode(ue->pol, p, "pol", rej);
	if (rc == 0)
		rc = check_locode(ue->pod, p, "pod", rej);
	if (rc == 0)
		rc = check_locode(ue->fpod, p, "fpod", rej);
	if (rc == 0 && ue->pol[0] != '\0' && strcmp(ue->pol, ue->pod) == 0)
		rc = hw_reject_set(rej, HW_ERANGE, "unit_event.pod",
				   "port of discharge equals port of loading");
	return rc;
}

/* IMDG class 1-9 with an optional division ("2.1", "6.1"); rule 36. */
static bool is_imdg_class(const char *s)
{
	if (s[0] < '1' || s[0] > '9')
		return false;
	if (s[1] == '\0')
		return true;
	return s[1] == '.' && s[2] >= '1' && s[2] <= '9' && s[3] == '\0';
}

static int check_dg(const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	if (ue->n_dg > HW_REPEATED_MAX)
		return hw_reject_set(rej, HW_ERANGE, "unit_event.dg", "%zu elements, more than %u",
				     ue->n_dg, HW_REPEATED_MAX);
	for (size_t i = 0; i < ue->n_dg; i++) {
		const Tos__V1__Hazard *h = ue->dg[i];
		if (text_fits(h->un_number, HW_REF_CHARS_MAX, 0) &&
		    text_fits(h->imdg_class, HW_REF_CHARS_MAX, 0) &&
		    text_fits(h->packing_group, HW_REF_CHARS_MAX, 0) &&
		    all_digits(h->un_number, 4) && is_imdg_class(h->imdg_class))
			continue; /* the checks below again, with field paths, only to report */
		char p[FIELD_BYTES], f[FIELD_BYTES];
		snprintf(p, sizeof p, "unit_event.dg[%zu]", i);
		int rc = check_ref(h->un_number, p, "un_number", rej);
		if (rc == 0)
			rc = check_ref(h->imdg_class, p, "imdg_class", rej);
		if (rc == 0)
			rc = check_ref(h->packing_group, p, "packing_group", rej);
		if (rc != 0)
			return rc;
		if (!all_digits(h->un_number, 4))
			return hw_reject_set(rej, HW_ERANGE, join(f, p, "un_number"),
					     "UN number must be 4 digits");
		if (!is_imdg_class(h->imdg_class))
			return hw_reject_set(rej, HW_ERANGE, join(f, p, "imdg_class"),
					     "IMDG class must be 1-9, optionally .division");
	}
	return 0;
}

/* Set-point -40..+30 C and humidity up to 100% (rule 35), for readings and settings. */
static int check_reefer_values(int32_t setpoint_decic, uint32_t humidity_pct, const char *prefix,
			       struct hw_reject *rej)
{
	char f[FIELD_BYTES];
	if (setpoint_decic < -400 || setpoint_decic > 300)
		return hw_reject_set(rej, HW_ERANGE, join(f, prefix, "setpoint_decic"),
				     "set-point %d.%d C not in -40..+30 C", setpoint_decic / 10,
				     (setpoint_decic < 0 ? -setpoint_decic : setpoint_decic) % 10);
	if (humidity_pct > 100)
		return hw_reject_set(rej, HW_ERANGE, join(f, prefix, "humidity_pct"),
				     "humidity %u%% above 100%%", humidity_pct);
	return 0;
}

static int check_unit_reefer(const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	const Tos__V1__ReeferSetting *r = ue->reefer;
	if (r == NULL)
		return 0;
	const char *st = ue->equipment->iso_size_type;
	if (st[0] != '\0' && !hw_size_type_is_reefer(st))
		return hw_reject_set(rej, HW_ENOT_REEFER, "unit_event.reefer",
				     "reefer setting on a non-reefer size/type");
	return check_reefer_values(r->setpoint_decic, r->humidity_pct, "unit_event.reefer", rej);
}

static int check_refs_seals(const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	static const char p[] = "unit_event.refs";
	const Tos__V1__Refs *r = ue->refs;
	int rc = 0;
	if (r != NULL) {
		rc = check_list(r->booking_nos, r->n_booking_nos, false, p, "booking_nos", rej);
		if (rc == 0)
			rc = check_list(r->bl_nos, r->n_bl_nos, false, p, "bl_nos", rej);
		if (rc == 0)
			rc = check_ref(r->customs_decl_no, p, "customs_decl_no", rej);
		if (rc == 0)
			rc = check_free(r->release_pin_hash, p, "release_pin_hash", rej);
		if (rc == 0)
			rc = check_ref(r->order_no, p, "order_no", rej);
		if (rc != 0)
			return rc;
	}
	if (ue->n_seals > HW_REPEATED_MAX)
		return hw_reject_set(rej, HW_ERANGE, "unit_event.seals",
				     "%zu elements, more than %u", ue->n_seals, HW_REPEATED_MAX);
	for (size_t i = 0; i < ue->n_seals && rc == 0; i++) {
		if (text_fits(ue->seals[i]->number, HW_REF_CHARS_MAX, 0) &&
		    protobuf_c_enum_descriptor_get_value(&tos__v1__seal_type__descriptor,
							 (int)ue->seals[i]->type) != NULL)
			continue; /* the checks below again, with field paths, only to report */
		char ps[FIELD_BYTES];
		snprintf(ps, sizeof ps, "unit_event.seals[%zu]", i);
		rc = check_ref(ue->seals[i]->number, ps, "number", rej);
		if (rc == 0)
			rc = check_enum(&tos__v1__seal_type__descriptor, (int)ue->seals[i]->type,
					false, ps, "type", rej);
	}
	return rc;
}

static int validate_unit_event(const Tos__V1__UnitEvent *ue, struct hw_reject *rej)
{
	static const char p[] = "unit_event";
	int rc = check_enum(&tos__v1__unit_event_type__descriptor, (int)ue->type, true, p, "type",
			    rej);
	if (rc == 0)
		rc = check_equipment(ue->equipment, rej);
	if (rc == 0)
		rc = check_gross(ue, rej);
	if (rc == 0)
		rc = check_move(ue, rej);
	if (rc == 0)
		rc = check_location(ue->from, "unit_event.from", rej);
	if (rc == 0)
		rc = check_location(ue->to, "unit_event.to", rej);
	if (rc == 0)
		rc = check_ports(ue, rej);
	if (rc == 0)
		rc = check_refs_seals(ue, rej);
	if (rc == 0)
		rc = check_dg(ue, rej);
	if (rc == 0)
		rc = check_unit_reefer(ue, rej);
	if (rc == 0)
		rc = check_list(ue->damage_codes, ue->n_damage_codes, false, p, "damage_codes",
				rej);
	if (rc == 0)
		rc = check_ref(ue->wi_id, p, "wi_id", rej);
	return rc;
}

/* ---------------------------------------------------------------- other payloads */

static int validate_hold(const Tos__V1__HoldEvent *h, struct hw_reject *rej)
{
	static const char p[] = "hold";
	int rc = check_box_ref(h->container_id, p, "container_id", rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__hold_type__descriptor, (int)h->hold, true, p, "hold",
				rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__hold_action__descriptor, (int)h->action, true, p,
				"action", rej);
	if (rc == 0)
		rc = check_ref(h->authority, p, "authority", rej);
	if (rc == 0)
		rc = check_ref(h->reference, p, "reference", rej);
	if (rc == 0)
		rc = check_free(h->reason, p, "reason", rej);
	return rc;
}

static int validate_customs(const Tos__V1__CustomsStatus *c, struct hw_reject *rej)
{
	static const char p[] = "customs";
	int rc = check_box_ref(c->container_id, p, "container_id", rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__customs_state__descriptor, (int)c->state, true, p,
				"state", rej);
	if (rc == 0)
		rc = check_ref(c->declaration_no, p, "declaration_no", rej);
	if (rc == 0)
		rc = check_ref(c->system, p, "system", rej);
	return rc;
}

static int validate_reefer(const Tos__V1__ReeferReading *r, struct hw_reject *rej)
{
	static const char p[] = "reefer";
	int rc = check_box_ref(r->container_id, p, "container_id", rej);
	if (rc == 0)
		rc = check_reefer_values(r->setpoint_decic, r->humidity_pct, p, rej);
	if (rc == 0)
		rc = check_list(r->alarms, r->n_alarms, false, p, "alarms", rej);
	if (rc == 0)
		rc = check_ref(r->source, p, "source", rej);
	return rc;
}

static int validate_wi(const Tos__V1__WorkInstruction *w, struct hw_reject *rej)
{
	static const char p[] = "wi";
	int rc = check_ref_req(w->wi_id, p, "wi_id", rej);
	if (rc == 0)
		rc = check_container(w->container_id, false, p, "container_id", rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__move_kind__descriptor, (int)w->kind, false, p, "kind",
				rej);
	if (rc == 0)
		rc = check_location(w->from, "wi.from", rej);
	if (rc == 0)
		rc = check_location(w->to, "wi.to", rej);
	if (rc == 0)
		rc = check_ref(w->che_id, p, "che_id", rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__wi_state__descriptor, (int)w->state, true, p, "state",
				rej);
	if (rc == 0)
		rc = check_ref(w->point_of_work, p, "point_of_work", rej);
	if (rc == 0)
		rc = check_free(w->fail_reason, p, "fail_reason", rej);
	return rc;
}

static int validate_gate(const Tos__V1__GateTransaction *g, struct hw_reject *rej)
{
	static const char p[] = "gate";
	int rc = check_ref(g->truck_visit_id, p, "truck_visit_id", rej);
	if (rc == 0)
		rc = check_ref(g->lane, p, "lane", rej);
	if (rc == 0)
		rc = check_ref(g->plate, p, "plate", rej);
	if (rc == 0)
		rc = check_ref(g->trucking_co, p, "trucking_co", rej);
	if (rc == 0)
		rc = check_ref(g->appointment_id, p, "appointment_id", rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__gate_tx_type__descriptor, (int)g->tx, false, p, "tx",
				rej);
	if (rc == 0)
		rc = check_enum(&tos__v1__gate_stage__descriptor, (int)g->stage, false, p, "stage",
				rej);
	if (rc == 0 && g->ocr_confidence_pct > 100)
		rc = hw_reject_set(rej, HW_ERANGE, "gate.ocr_confidence_pct", "%u%% above 100%%",
				   g->ocr_confidence_pct);
	if (rc == 0 && g->n_container_ids > HW_REPEATED_MAX)
		rc = hw_reject_set(rej, HW_ERANGE, "gate.container_ids",
				   "%zu elements, more than %u", g->n_container_ids,
				   HW_REPEATED_MAX);
	for (size_t i = 0; rc == 0 && i < g->n_container_ids; i++) {
		if (text_fits(g->container_ids[i], 0, 0) &&
		    hw_validate_container_id(g->container_ids[i], false, "", NULL) == 0)
			continue; /* check_container() again, with the index, only to report */
		char f[FIELD_BYTES];
		snprintf(f, sizeof f, "container_ids[%zu]", i);
		rc = check_container(g->container_ids[i], false, p, f, rej);
	}
	if (rc == 0)
		rc = check_free(g->trouble_reason, p, "trouble_reason", rej);
	return rc;
}

static int validate_vessel_visit(const Tos__V1__VesselVisitEvent *v, struct hw_reject *rej)
{
	static const char p[] = "vessel_visit";
	int rc = check_ref_req(v->visit_id, p, "visit_id", rej);
	if (rc == 0)
		rc = check_ref(v->imo, p, "imo", rej);
	/* Shape only: a wrong IMO check digit is kept, real registries hold them (rule 18). */
	if (rc == 0 && v->imo[0] != '\0' && !all_digits(v->imo, 7))
		rc = hw_reject_set(rej, HW_ERANGE, "vessel_visit.imo",
				   "IMO number must be 7 digits");
	if (rc == 0)
		rc = check_ref(v->call_sign, p, "call_sign", rej);
	if (rc == 0)
		rc = check_ref(v->name, p, "name", rej);
	if (rc == 0)
		rc = check_ref(v->voyage_in, p, "voyage_in", rej);
	if (rc == 0)
		rc = check_ref(v->voyage_out, p, "voyage_out", rej);
	if (rc == 0)
		rc = check_ref(v->operator_, p, "operator", rej);
	if (rc == 0)
		/* no phase: the visit made known, or its berth or names updated (apply.c) */
		rc = check_enum(&tos__v1__visit_phase__descriptor, (int)v->phase, false, p, "phase",
				rej);
	if (rc == 0)
		rc = check_ref(v->berth, p, "berth", rej);
	return rc;
}

static int validate_vgm(const Tos__V1__VgmDeclaration *v, int64_t now_ms, struct hw_reject *rej)
{
	static const char p[] = "vgm";
	int rc = check_box_ref(v->container_id, p, "container_id", rej);
	if (rc == 0 && (v->vgm_kg < 1 || v->vgm_kg > HW_GROSS_KG_MAX))
		rc = hw_reject_set(rej, HW_EWEIGHT, "vgm.vgm_kg", "VGM %u kg not in 1-%u",
				   v->vgm_kg, HW_GROSS_KG_MAX);
	if (rc == 0)
		rc = check_enum(&tos__v1__vgm_method__descriptor, (int)v->method, false, p,
				"method", rej);
	if (rc == 0 && v->method != TOS__V1__VGM_METHOD__SM1 &&
	    v->method != TOS__V1__VGM_METHOD__SM2)
		rc = hw_reject_set(rej, HW_EVGM, "vgm.method", "SOLAS method must be SM1 or SM2");
	if (rc == 0 && v->weighed_at_ms != 0 &&
	    (v->weighed_at_ms < HW_TIME_MIN_MS || v->weighed_at_ms > now_ms + HW_TIME_SKEW_MS))
		rc = hw_reject_set(rej, HW_ETIME, "vgm.weighed_at_ms",
				   "before 2001 or in the future");
	if (rc == 0)
		rc = check_ref(v->responsible_party, p, "responsible_party", rej);
	if (rc == 0)
		rc = check_ref(v->booking_no, p, "booking_no", rej);
	return rc;
}

static bool edi_msg_known(const char *s)
{
	static const char *const types[] = {"BAPLIE", "COPRAR", "COPARN", "COARRI",
					    "CODECO", "MOVINS", "VERMAS"};
	for (size_t i = 0; i < ARRAY_LEN(types); i++)
		if (strcmp(s, types[i]) == 0)
			return true;
	return false;
}

/* Rule 51: the directory versions the adapter parses, alone or followed by ":agency...". */
static bool edi_version_known(const char *s)
{
	static const char *const versions[] = {"D:95B", "D:00B", "D:16A", "D:911"};
	for (size_t i = 0; i < ARRAY_LEN(versions); i++) {
		size_t n = strlen(versions[i]);
		if (strncmp(s, versions[i], n) == 0 && (s[n] == '\0' || s[n] == ':'))
			return true;
	}
	return false;
}

static int validate_edi(const Tos__V1__EdiIngest *e, struct hw_reject *rej)
{
	static const char p[] = "edi";
	int rc = check_ref_req(e->msg_type, p, "msg_type", rej);
	if (rc == 0 && !edi_msg_known(e->msg_type))
		rc = hw_reject_set(rej, HW_ERANGE, "edi.msg_type", "unknown EDIFACT message type");
	if (rc == 0)
		rc = check_ref_req(e->version, p, "version", rej);
	if (rc == 0 && !edi_version_known(e->version))
		rc = hw_reject_set(rej, HW_ERANGE, "edi.version",
				   "version must be D:95B, D:00B, D:16A or D:911");
	if (rc == 0)
		rc = check_ref(e->interchange_ref, p, "interchange_ref", rej);
	if (rc == 0)
		rc = check_ref(e->sender, p, "sender", rej);
	if (rc == 0 && e->raw_sha256.len != 0 && e->raw_sha256.len != 32)
		rc = hw_reject_set(rej, HW_ERANGE, "edi.raw_sha256", "%zu bytes, not 32",
				   e->raw_sha256.len);
	if (rc == 0)
		rc = check_free(e->raw_object_ref, p, "raw_object_ref", rej);
	if (rc == 0)
		rc = check_list(e->errors, e->n_errors, true, p, "errors", rej);
	return rc;
}

static int validate_audit(const Tos__V1__AuditEvent *a, struct hw_reject *rej)
{
	static const char p[] = "audit";
	int rc = check_ref_req(a->actor, p, "actor", rej);
	if (rc == 0)
		rc = check_ref_req(a->action, p, "action", rej);
	if (rc == 0)
		rc = check_free(a->target, p, "target", rej);
	if (rc == 0)
		rc = check_free(a->src_addr, p, "src_addr", rej);
	if (rc == 0)
		rc = check_free(a->detail, p, "detail", rej);
	return rc;
}

/* ---------------------------------------------------------------- system records */

static int check_bytes(size_t len, size_t want, bool optional, const char *field,
		       struct hw_reject *rej)
{
	if (len == want || (optional && len == 0))
		return 0;
	return hw_reject_set(rej, len == 0 ? HW_EMISSING : HW_ERANGE, field, "%zu bytes, not %zu",
			     len, want);
}

/* Shape only: whether the signature holds and matches the log is verify's question
 * (replica/checkpoint.h), so a standby never stops replicating over one. */
static int validate_checkpoint(const Tos__V1__Checkpoint *c, struct hw_reject *rej)
{
	static const char p[] = "checkpoint";
	if (c->lsn == 0)
		return hw_reject_set(rej, HW_EMISSING, "checkpoint.lsn", "an LSN of 1 or more");
	int rc = check_bytes(c->chain_hash.len, HW_HASH_BYTES, false, "checkpoint.chain_hash", rej);
	if (rc == 0)
		rc = check_bytes(c->state_digest.len, HW_HASH_BYTES, false, "checkpoint.state_digest",
				 rej);
	if (rc == 0)
		rc = check_ref_req(c->node_id, p, "node_id", rej);
	if (rc == 0)
		rc = check_bytes(c->public_key.len, 32, false, "checkpoint.public_key", rej);
	if (rc == 0)
		rc = check_bytes(c->signature.len, 64, false, "checkpoint.signature", rej);
	return rc;
}

static int validate_node_event(const Tos__V1__NodeEvent *e, struct hw_reject *rej)
{
	static const char p[] = "node_event";
	if (e->kind <= TOS__V1__NODE_EVENT_KIND__NE_UNSPECIFIED ||
	    e->kind > TOS__V1__NODE_EVENT_KIND__OPERATOR)
		return hw_reject_set(rej, e->kind == 0 ? HW_EMISSING : HW_ERANGE, "node_event.kind",
				     "kind %d is not a known event", (int)e->kind);
	int rc = check_ref_req(e->node_id, p, "node_id", rej);
	if (rc == 0)
		rc = check_ref(e->peer_addr, p, "peer_addr", rej);
	if (rc == 0)
		rc = check_bytes(e->peer_key.len, 32, true, "node_event.peer_key", rej);
	if (rc == 0)
		rc = check_bytes(e->config_sha.len, HW_HASH_BYTES, true, "node_event.config_sha", rej);
	if (rc == 0)
		rc = check_free(e->detail, p, "detail", rej);
	return rc;
}

/* A system record belongs to no tenant and no facility and corrects nothing. */
static int check_system_envelope(const Tos__V1__Record *rec, struct hw_reject *rej)
{
	static const char why[] = "a checkpoint or node event carries none";
	if (rec->tenant_id != NULL && rec->tenant_id[0] != '\0')
		return hw_reject_set(rej, HW_ERANGE, "tenant_id", why);
	if (rec->facility_id != NULL && rec->facility_id[0] != '\0')
		return hw_reject_set(rej, HW_ERANGE, "facility_id", why);
	if (rec->retracts.len != 0)
		return hw_reject_set(rej, HW_ERANGE, "retracts", why);
	if (rec->source != NULL)
		return hw_reject_set(rej, HW_ERANGE, "source", why);
	return 0;
}

/* Keys are 1-256 bytes of text: LMDB keys stop at 511 and the tenant prefix needs room. */
static int check_kv_key(const char *key, const char *field, struct hw_reject *rej)
{
	if (key == NULL || key[0] == '\0')
		return hw_reject_set(rej, HW_EMISSING, field, "key required");
	return check_text(key, 0, HW_KV_KEY_BYTES_MAX, field, rej);
}

static int validate_kv_put(const Tos__V1__KvPut *kv, struct hw_reject *rej)
{
	int rc = check_kv_key(kv->key, "kv_put.key", rej);
	if (rc == 0 && kv->value.len > HW_KV_VALUE_BYTES_MAX)
		rc = hw_reject_set(rej, HW_ERANGE, "kv_put.value", "%zu bytes, more than %u",
				   kv->value.len, HW_KV_VALUE_BYTES_MAX);
	return rc;
}

/* ---------------------------------------------------------------- envelope */

static int check_ids(const Tos__V1__Record *rec, struct hw_reject *rej)
{
	if (rec->schema_version != 1)
		return hw_reject_set(rej, HW_ESCHEMA, "schema_version",
				     "schema_version %u, only 1 is known", rec->schema_version);
	if (rec->record_id.len == 0)
		return hw_reject_set(rej, HW_EMISSING, "record_id", "record_id required");
	if (rec->record_id.len != HW_RECORD_ID_BYTES)
		return hw_reject_set(rej, HW_ERANGE, "record_id", "%zu bytes, not %u",
				     rec->record_id.len, HW_RECORD_ID_BYTES);
	if (rec->retracts.len != 0 && rec->retracts.len != HW_RECORD_ID_BYTES)
		return hw_reject_set(rej, HW_ERANGE, "retracts", "%zu bytes, not 0 or %u",
				     rec->retracts.len, HW_RECORD_ID_BYTES);
	if (hw_record_is_system(rec))
		return check_system_envelope(rec, rej);
	const char *t = rec->tenant_id;
	if (t == NULL || t[0] == '\0')
		return hw_reject_set(rej, HW_EMISSING, "tenant_id", "tenant_id required");
	int rc = check_text(t, 0, HW_TEXT_BYTES_MAX, "tenant_id", rej);
	if (rc != 0)
		return rc;
	size_t len = strlen(t);
	bool ok = len <= 32;
	for (size_t i = 0; ok && i < len; i++)
		ok = is_upper(t[i]) || (t[i] >= 'a' && t[i] <= 'z') || is_digit(t[i]) ||
		     t[i] == '_' || t[i] == '.' || t[i] == '-';
	if (!ok)
		return hw_reject_set(rej, HW_ERANGE, "tenant_id", "must be 1-32 of A-Za-z0-9_.-");
	return check_facility(rec->facility_id, rej);
}

/* Rules 23-24: sentinels (1970, 2000) and clocks running ahead are refused. */
static int check_times(const Tos__V1__Record *rec, int64_t now_ms, struct hw_reject *rej)
{
	int64_t latest = now_ms + HW_TIME_SKEW_MS;
	if (rec->event_time_ms < HW_TIME_MIN_MS)
		return hw_reject_set(rej, HW_ETIME, "event_time_ms",
				     "before 2001-01-01 (unset or a sentinel date)");
	if (rec->event_time_ms > latest)
		return hw_reject_set(rej, HW_ETIME, "event_time_ms",
				     "%lld ms ahead of the store's clock (more than 5 min)",
				     (long long)(rec->event_time_ms - now_ms));
	if (rec->record_time_ms != 0 && rec->record_time_ms < rec->event_time_ms)
		return hw_reject_set(rej, HW_ETIME, "record_time_ms", "before the event time");
	if (rec->record_time_ms > latest)
		return hw_reject_set(rej, HW_ETIME, "record_time_ms",
				     "more than 5 min ahead of the store's clock");
	if (rec->tz_offset_min < -720 || rec->tz_offset_min > 840)
		return hw_reject_set(rej, HW_ERANGE, "tz_offset_min", "%d min not in -720..840",
				     rec->tz_offset_min);
	return 0;
}

static int check_source(const Tos__V1__Source *s, struct hw_reject *rej)
{
	static const char p[] = "source";
	if (s == NULL)
		return 0;
	int rc = check_ref(s->system, p, "system", rej);
	if (rc == 0)
		rc = check_ref(s->device_id, p, "device_id", rej);
	if (rc == 0)
		rc = check_ref(s->user_id, p, "user_id", rej);
	if (rc == 0)
		rc = check_ref(s->edi_interchange_ref, p, "edi_interchange_ref", rej);
	return rc;
}

static int validate_payload(const Tos__V1__Record *rec, int64_t now_ms, struct hw_reject *rej)
{
	/* Every member of the union is a pointer: a set case with NULL is a hand-built
	 * record, never a decoded one. */
	if (rec->payload_case == TOS__V1__RECORD__PAYLOAD__NOT_SET || rec->unit_event == NULL)
		return hw_reject_set(rej, HW_EMISSING, "payload", "a record carries a payload");
	switch (rec->payload_case) {
	case TOS__V1__RECORD__PAYLOAD_UNIT_EVENT:
		return validate_unit_event(rec->unit_event, rej);
	case TOS__V1__RECORD__PAYLOAD_HOLD:
		return validate_hold(rec->hold, rej);
	case TOS__V1__RECORD__PAYLOAD_CUSTOMS:
		return validate_customs(rec->customs, rej);
	case TOS__V1__RECORD__PAYLOAD_REEFER:
		return validate_reefer(rec->reefer, rej);
	case TOS__V1__RECORD__PAYLOAD_WI:
		return validate_wi(rec->wi, rej);
	case TOS__V1__RECORD__PAYLOAD_GATE:
		return validate_gate(rec->gate, rej);
	case TOS__V1__RECORD__PAYLOAD_VESSEL_VISIT:
		return validate_vessel_visit(rec->vessel_visit, rej);
	case TOS__V1__RECORD__PAYLOAD_VGM:
		return validate_vgm(rec->vgm, now_ms, rej);
	case TOS__V1__RECORD__PAYLOAD_EDI:
		return validate_edi(rec->edi, rej);
	case TOS__V1__RECORD__PAYLOAD_AUDIT:
		return validate_audit(rec->audit, rej);
	case TOS__V1__RECORD__PAYLOAD_KV_PUT:
		return validate_kv_put(rec->kv_put, rej);
	case TOS__V1__RECORD__PAYLOAD_KV_DELETE:
		return check_kv_key(rec->kv_delete->key, "kv_delete.key", rej);
	case TOS__V1__RECORD__PAYLOAD_CHECKPOINT:
		return validate_checkpoint(rec->checkpoint, rej);
	case TOS__V1__RECORD__PAYLOAD_NODE_EVENT:
		return validate_node_event(rec->node_event, rej);
	case TOS__V1__RECORD__PAYLOAD__NOT_SET:
	default:
		return hw_reject_set(rej, HW_ERANGE, "payload", "unknown payload %d",
				     (int)rec->payload_case);
	}
}

int hw_validate_record(const Tos__V1__Record *rec, int64_t now_ms, struct hw_reject *rej)
{
	int rc = check_ids(rec, rej);
	if (rc == 0)
		rc = check_times(rec, now_ms, rej);
	if (rc == 0)
		rc = check_source(rec->source, rej);
	if (rc == 0)
		rc = validate_payload(rec, now_ms, rej);
	return rc;
}

int hw_validate_decoded(const Tos__V1__Record *rec, int64_t now_ms,
			const struct hw_pbdec_text *text, struct hw_reject *rej)
{
	texts_known = !text->ascii                              ? TEXTS_SCAN
		      : text->longest_bytes <= HW_REF_CHARS_MAX ? TEXTS_SHORT
								: TEXTS_ASCII;
	int rc = hw_validate_record(rec, now_ms, rej);
	texts_known = TEXTS_SCAN;
	return rc;
}
