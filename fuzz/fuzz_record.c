/* fuzz_record.c: a submitted TOS record as the store takes it (replica/store.c): the
 * canonical decode (replica/record.h), then the stateless rules (replica/validate.h).
 *
 * Contract checked: the decode answers 0 or one of its four codes, with rej saying the
 * same code, and the same answer as protobuf-c itself (tests/unit/pb_oracle.h: unpack,
 * no unknown fields, re-pack equal to the input), which the decoder (replica/pbdec.h)
 * replaced; a record that decodes re-encodes to exactly the input bytes (canonical);
 * validation answers 0 or a record-refusal code (hw_is_reject) with rej naming a field,
 * and answers the same the second time (it is pure). */
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "fuzz/fuzz.h"
#include "hawser_limits.h"
#include "replica/record.h"
#include "replica/validate.h"
#include "tests/unit/pb_oracle.h"

/* The store's clock for the time rules: fixed, so a crash replays (2026-01-01). */
#define NOW_MS 1767225600000LL

static struct hw_arena arena;
static uint8_t encoded[HW_RECORD_BYTES_MAX];

/* hw_record_decode agrees with protobuf-c on data (within the size limit). */
static void check_oracle(const uint8_t *data, size_t size, int rc)
{
	ProtobufCMessage *ref;
	if (size > HW_RECORD_BYTES_MAX)
		return;
	int orc = pb_oracle(&tos__v1__record__descriptor, data, size, encoded, &ref);
	if (ref != NULL)
		protobuf_c_message_free_unpacked(ref, NULL);
	FUZZ_CHECK(rc == orc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	hw_arena_init(&arena, 0, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Tos__V1__Record *rec = NULL;
	struct hw_reject rej;
	memset(&rej, 0, sizeof rej);
	hw_arena_reset(&arena);
	int rc = hw_record_decode(data, size, &arena, &rec, &rej);
	check_oracle(data, size, rc);
	if (rc != 0) {
		FUZZ_CHECK(rc == HW_ETOOBIG || rc == HW_EDECODE || rc == HW_ENONCANONICAL ||
			   rc == HW_ENOMEM);
		FUZZ_CHECK(rej.code == rc && rec == NULL);
		return 0;
	}
	FUZZ_CHECK(rec != NULL && size <= HW_RECORD_BYTES_MAX);
	size_t n = hw_record_encode(rec, encoded, sizeof encoded);
	FUZZ_CHECK(n == size && memcmp(encoded, data, size) == 0);
	FUZZ_CHECK(hw_record_kind(rec) != NULL);

	struct hw_reject v1, v2;
	memset(&v1, 0, sizeof v1);
	memset(&v2, 0, sizeof v2);
	int vrc = hw_validate_record(rec, NOW_MS, &v1);
	FUZZ_CHECK(vrc == 0 || hw_is_reject(vrc));
	if (vrc != 0) {
		FUZZ_CHECK(v1.code == vrc && v1.field[0] != '\0');
		FUZZ_CHECK(memchr(v1.field, '\0', sizeof v1.field) != NULL);
		FUZZ_CHECK(memchr(v1.rule, '\0', sizeof v1.rule) != NULL);
	}
	FUZZ_CHECK(hw_validate_record(rec, NOW_MS, &v2) == vrc && v2.code == v1.code);
	return 0;
}
