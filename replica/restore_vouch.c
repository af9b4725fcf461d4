/* restore_vouch.c: the record a copying restore leaves of what vouched for its state
 * (replica/restore_vouch.h). */
#include "replica/restore_vouch.h"

#include <stddef.h>
#include <string.h>

#include "base/bytes.h"

#define VOUCH_VERSION 1u
#define VOUCH_FIXED   (1u + 3u * 8u + 3u * 32u + 1u) /* before signer_id */
_Static_assert(VOUCH_FIXED + HW_SIGNER_ID_MAX <= HW_STORE_META_VAL_MAX,
	       "the record fits a meta value");

int hw_restore_vouch_put(struct hw_store *s, const struct hw_restore_vouch *v)
{
	uint8_t buf[VOUCH_FIXED + HW_SIGNER_ID_MAX];
	size_t n = strnlen(v->signer_id, HW_SIGNER_ID_MAX);
	buf[0] = VOUCH_VERSION;
	hw_put_u64(buf + 1, v->cp_lsn);
	hw_put_u64(buf + 9, v->covers);
	hw_put_u64(buf + 17, v->head_lsn);
	memcpy(buf + 25, v->head_hash, HW_HASH_BYTES);
	memcpy(buf + 57, v->digest, HW_HASH_BYTES);
	memcpy(buf + 89, v->signer_pk, HW_SIGN_PK_BYTES);
	buf[121] = (uint8_t)n;
	memcpy(buf + VOUCH_FIXED, v->signer_id, n);
	return hw_store_meta_put(s, HW_RESTORE_VOUCH_KEY, buf, VOUCH_FIXED + n);
}

int hw_restore_vouch_get(struct hw_store *s, struct hw_restore_vouch *v)
{
	uint8_t buf[VOUCH_FIXED + HW_SIGNER_ID_MAX];
	size_t len;
	int rc = hw_store_meta_get(s, HW_RESTORE_VOUCH_KEY, buf, sizeof buf, &len);
	if (rc == HW_ERANGE)
		return HW_ECORRUPT; /* longer than any version 1 record */
	if (rc != 0)
		return rc;
	if (len < VOUCH_FIXED || buf[0] != VOUCH_VERSION || buf[121] > HW_SIGNER_ID_MAX ||
	    len != VOUCH_FIXED + buf[121])
		return HW_ECORRUPT;
	memset(v, 0, sizeof *v);
	v->cp_lsn = hw_get_u64(buf + 1);
	v->covers = hw_get_u64(buf + 9);
	v->head_lsn = hw_get_u64(buf + 17);
	memcpy(v->head_hash, buf + 25, HW_HASH_BYTES);
	memcpy(v->digest, buf + 57, HW_HASH_BYTES);
	memcpy(v->signer_pk, buf + 89, HW_SIGN_PK_BYTES);
	memcpy(v->signer_id, buf + VOUCH_FIXED, buf[121]);
	return 0;
}
