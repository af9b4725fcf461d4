/* witness.h: the witness, a small voter on a third host (DESIGN.md "Failover model",
 * `hawser witness --config FILE`). It holds no log: only the election's hard state
 * (epoch, its vote, and the commit frontier the primary reports in its lease requests,
 * engine/core/election.h) in a store of its own, made durable before it answers. It
 * grants lease renewals, and a vote only to a candidate holding every committed record
 * (RPO 0) or the RPO's worth (RPO t), which is how an out-of-date standby is never
 * promoted silently: the refusal is logged on both sides with the LSNs (vote_denied
 * here, vote_refused on the candidate).
 *
 * Its config (engine/config.h) has role = witness, node.id = failover.witness_id, a
 * data_dir, node.listen (where the nodes reach it) and the cluster's [failover] section.
 * A data_dir with no store yet is a new cluster's witness (it starts at epoch 0, having
 * voted for nobody); one whose store lost the state starts knowing nothing (it refuses
 * votes with no_info until a primary's lease request reaches it). One loop thread. */
#ifndef HW_ENGINE_WITNESS_H
#define HW_ENGINE_WITNESS_H

struct hw_witness;

/* Read the config at path, open (or make) the store, listen, dial the nodes. 0, or
 * HW_ECONFIG (the reason printed on stderr), a store error, -errno. */
int hw_witness_open(const char *config_path, struct hw_witness **out);

/* Run until SIGINT or SIGTERM. Returns 0, or the storage error that stopped it. */
int hw_witness_run(struct hw_witness *w);

/* Close everything and free. NULL is a no-op. */
void hw_witness_close(struct hw_witness *w);

#endif
