/* sim_disk.c: a node's simulated storage (chaos/sim.h): a log that is durable only after
 * a flush completes, the election hard state, crashes that lose what was not flushed
 * and may tear the first unflushed entry, and write and fsync failures from the one
 * fault primitive. Time is the world's true time; latencies come from the seed. */
#include "chaos/sim.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"

uint64_t sim_entry_hash(const struct sim_entry *e)
{
	uint64_t h = sim_mix(e->prev_hash ^ 0x68617773657231ull);
	h = sim_mix(h ^ e->epoch);
	h = sim_mix(h ^ e->lsn);
	h = sim_mix(h ^ e->record_id);
	h = sim_mix(h ^ e->payload);
	h = sim_mix(h ^ (uint64_t)e->wall_ms);
	return h | 1u; /* 0 means "no entry" */
}

void sim_disk_init(struct sim_disk *d, struct sim_entry *log, int64_t lat_min, int64_t lat_max)
{
	memset(d, 0, sizeof *d);
	d->log = log;
	d->hard = HW_EL_HARD_FRESH;
	d->lat_min_ms = lat_min;
	d->lat_max_ms = lat_max;
	hw_fault_init(&d->write_fault);
	hw_fault_init(&d->sync_fault);
}

int sim_disk_append(struct sim_disk *d, const struct sim_entry *e)
{
	HW_ASSERT(d->n < SIM_LOG_MAX);
	HW_ASSERT(e->lsn == d->n + 1);
	HW_ASSERT(e->prev_hash == sim_disk_hash_at(d, d->n) && e->hash == sim_entry_hash(e));
	d->writes++;
	if (hw_fault_tick(&d->write_fault)) {
		d->write_errors++;
		return -EIO;
	}
	d->log[d->n++] = *e;
	d->torn = false;
	return 0;
}

void sim_disk_truncate(struct sim_disk *d, uint64_t keep)
{
	if (keep >= d->n)
		return;
	d->n = keep;
	if (d->durable > keep)
		d->durable = keep;
	for (uint32_t i = 0; i < d->q_count; i++) {
		struct sim_io *io = &d->q[(d->q_head + i) % SIM_DISK_QUEUE];
		if (io->type != SIM_IO_HARD && io->upto > keep)
			io->upto = keep;
	}
}

int sim_disk_queue(struct sim_disk *d, struct sim_rng *r, int64_t now, enum sim_io_type type,
		   uint64_t upto, const struct hw_el_hard *hard)
{
	if (d->q_count == SIM_DISK_QUEUE)
		return -EBUSY;
	int64_t at = now + sim_range(r, d->lat_min_ms, d->lat_max_ms);
	if (d->q_count > 0) {
		const struct sim_io *last = &d->q[(d->q_head + d->q_count - 1) % SIM_DISK_QUEUE];
		if (at < last->at)
			at = last->at; /* one queue: completions in order */
	}
	struct sim_io *io = &d->q[(d->q_head + d->q_count) % SIM_DISK_QUEUE];
	*io = (struct sim_io){.at = at, .type = (uint8_t)type, .upto = upto};
	if (hard != NULL)
		io->hard = *hard;
	d->q_count++;
	return 0;
}

bool sim_disk_due(struct sim_disk *d, int64_t now, struct sim_io *io, int *err)
{
	*err = 0;
	if (d->q_count == 0 || d->q[d->q_head].at > now)
		return false;
	*io = d->q[d->q_head];
	d->q_head = (d->q_head + 1) % SIM_DISK_QUEUE;
	d->q_count--;
	if (io->type == SIM_IO_APPLY)
		return true;
	d->syncs++;
	if (hw_fault_tick(&d->sync_fault)) {
		/* the kernel may have dropped the dirty pages: nothing more is durable, and
		 * the caller must stop (STYLE.md 5: never retry an fsync) */
		d->sync_errors++;
		*err = -EIO;
		return true;
	}
	if (io->type == SIM_IO_HARD)
		d->hard = io->hard;
	else if (io->upto > d->durable)
		d->durable = io->upto <= d->n ? io->upto : d->n;
	return true;
}

void sim_disk_crash(struct sim_disk *d, bool tear)
{
	bool pending = d->n > d->durable;
	d->q_head = 0;
	d->q_count = 0;
	d->torn = false;
	if (pending && tear) {
		/* half of the first unflushed entry reached the platter: it stays, damaged */
		struct sim_entry *e = &d->log[d->durable];
		e->payload ^= 0x5a5a5a5aull;
		d->torn = true;
	}
	d->n = d->durable;
}

uint64_t sim_disk_recover(struct sim_disk *d)
{
	/* the torn entry sits at log[n] (n == durable): recovery reads one past the end,
	 * as a log scan that stops at the first bad checksum does */
	uint64_t dropped = 0;
	if (d->torn) {
		const struct sim_entry *e = &d->log[d->n];
		bool ok = e->lsn == d->n + 1 && e->prev_hash == sim_disk_hash_at(d, d->n) &&
			  e->hash == sim_entry_hash(e);
		HW_ASSERT(!ok); /* a torn entry must fail its check */
		d->torn = false;
		d->torn_found++;
		dropped++;
	}
	/* what was flushed must read back intact (paired with the append's checks) */
	for (uint64_t i = 0; i < d->n; i++) {
		const struct sim_entry *e = &d->log[i];
		uint64_t prev = i == 0 ? 0 : d->log[i - 1].hash;
		HW_ASSERT(e->lsn == i + 1 && e->prev_hash == prev && e->hash == sim_entry_hash(e));
	}
	return dropped;
}

uint64_t sim_disk_hash_at(const struct sim_disk *d, uint64_t lsn)
{
	if (lsn == 0 || lsn > d->n)
		return 0;
	return d->log[lsn - 1].hash;
}
