/* epochs.c: the epoch history of a log's pruned part (replica/epochs.h). */
#include "replica/epochs.h"

#include <stdbool.h>
#include <string.h>

#include "base/bytes.h"
#include "hawser_error.h"

_Static_assert(HW_EPOCH_HIST_BYTES_MAX < 8192, "one meta value, read and written per prune");

void hw_epoch_hist_start(struct hw_epoch_hist *h, uint64_t base_lsn, uint64_t base_epoch)
{
	h->through_lsn = base_lsn;
	h->n = 0;
	if (base_lsn > 0) {
		h->epoch[0] = base_epoch;
		h->first_lsn[0] = base_lsn;
		h->n = 1;
	}
}

int hw_epoch_hist_note(struct hw_epoch_hist *h, uint64_t lsn, uint64_t epoch)
{
	if (h->n > 0 && (lsn != h->through_lsn + 1 || epoch < h->epoch[h->n - 1]))
		return HW_ECORRUPT;
	if (h->n == 0 || epoch != h->epoch[h->n - 1]) {
		if (h->n == HW_EPOCH_HIST_MAX) { /* keep the newest */
			memmove(h->epoch, h->epoch + 1, (h->n - 1) * sizeof h->epoch[0]);
			memmove(h->first_lsn, h->first_lsn + 1,
				(h->n - 1) * sizeof h->first_lsn[0]);
			h->n--;
		}
		h->epoch[h->n] = epoch;
		h->first_lsn[h->n++] = lsn;
	}
	h->through_lsn = lsn;
	return 0;
}

size_t hw_epoch_hist_encode(const struct hw_epoch_hist *h, uint8_t *buf)
{
	hw_put_u32(buf, HW_EPOCH_HIST_VERSION);
	hw_put_u64(buf + 4, h->through_lsn);
	for (uint32_t i = 0; i < h->n; i++) {
		hw_put_u64(buf + 12 + 16 * i, h->epoch[i]);
		hw_put_u64(buf + 20 + 16 * i, h->first_lsn[i]);
	}
	return HW_EPOCH_HIST_BYTES(h->n);
}

int hw_epoch_hist_decode(const uint8_t *p, size_t len, struct hw_epoch_hist *h)
{
	if (len < 4)
		return HW_ECORRUPT;
	if (hw_get_u32(p) != HW_EPOCH_HIST_VERSION)
		return HW_EFORMAT;
	if (len < HW_EPOCH_HIST_BYTES(1) || len > HW_EPOCH_HIST_BYTES_MAX || (len - 12) % 16 != 0)
		return HW_ECORRUPT;
	h->through_lsn = hw_get_u64(p + 4);
	h->n = (uint32_t)((len - 12) / 16);
	for (uint32_t i = 0; i < h->n; i++) {
		h->epoch[i] = hw_get_u64(p + 12 + 16 * i);
		h->first_lsn[i] = hw_get_u64(p + 20 + 16 * i);
		bool rises = i == 0 ? h->first_lsn[0] > 0
				    : h->first_lsn[i] > h->first_lsn[i - 1] &&
					      h->epoch[i] > h->epoch[i - 1];
		if (!rises || h->first_lsn[i] > h->through_lsn)
			return HW_ECORRUPT;
	}
	return 0;
}
