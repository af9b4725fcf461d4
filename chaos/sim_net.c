/* sim_net.c: the simulated network (chaos/sim.h): per-direction links with bounded
 * random delay, loss, duplication and reordering, partitions that come and go, and one
 * min-heap of messages in flight ordered by (delivery time, send order).
 *
 * Election messages are datagrams: every fault applies and reordering falls out of the
 * random delays. Replication frames ride a stream (TCP): they arrive in order; a loss
 * costs a retransmission delay; a frame sent into a partition is lost, and the
 * receiver, seeing the gap in stream_seq, takes nothing more from that connection (a
 * stalled TCP connection) until the cores' timeouts close it. With raw_streams a run
 * lets streams misbehave like datagrams too, to show the cores stay safe when the
 * transport does not keep its promises. */
#include "chaos/sim.h"

#include <string.h>

#include "base/assert.h"

/* ---------------------------------------------------------------- heap */

static bool earlier(const struct sim_net *net, uint32_t a, uint32_t b)
{
	const struct sim_msg *x = &net->pool[a], *y = &net->pool[b];
	return x->at < y->at || (x->at == y->at && x->seq < y->seq);
}

static void heap_push(struct sim_net *net, uint32_t idx)
{
	uint32_t i = net->n_heap++;
	net->heap[i] = idx;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!earlier(net, net->heap[i], net->heap[parent]))
			break;
		uint32_t tmp = net->heap[i];
		net->heap[i] = net->heap[parent];
		net->heap[parent] = tmp;
		i = parent;
	}
}

static uint32_t heap_pop(struct sim_net *net)
{
	uint32_t top = net->heap[0];
	net->heap[0] = net->heap[--net->n_heap];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < net->n_heap && earlier(net, net->heap[l], net->heap[m]))
			m = l;
		if (r < net->n_heap && earlier(net, net->heap[r], net->heap[m]))
			m = r;
		if (m == i)
			break;
		uint32_t tmp = net->heap[i];
		net->heap[i] = net->heap[m];
		net->heap[m] = tmp;
		i = m;
	}
	return top;
}

/* ---------------------------------------------------------------- api */

void sim_net_init(struct sim_net *net, struct sim_msg *pool)
{
	memset(net, 0, sizeof *net);
	net->pool = pool;
	for (uint32_t i = 0; i < SIM_NET_MAX; i++)
		net->free_list[i] = SIM_NET_MAX - 1 - i;
	net->n_free = SIM_NET_MAX;
	for (uint32_t a = 0; a < SIM_NODES_MAX; a++)
		for (uint32_t b = 0; b < SIM_NODES_MAX; b++)
			net->link[a][b] =
				(struct sim_link){.up = true, .delay_min_ms = 1, .delay_max_ms = 1};
}

static void enqueue(struct sim_net *net, const struct sim_msg *m, int64_t at, uint64_t seq)
{
	if (net->n_free == 0) {
		net->dropped_full++;
		return;
	}
	uint32_t idx = net->free_list[--net->n_free];
	net->pool[idx] = *m;
	net->pool[idx].at = at;
	net->pool[idx].seq = seq;
	heap_push(net, idx);
}

void sim_net_send(struct sim_net *net, struct sim_rng *r, int64_t now, const struct sim_msg *m,
		  bool stream)
{
	HW_ASSERT(m->from < SIM_NODES_MAX && m->to < SIM_NODES_MAX && m->from != m->to);
	struct sim_link *l = &net->link[m->from][m->to];
	net->sent++;
	bool datagram = !stream || net->raw_streams;
	if (!l->up) {
		net->lost++;
		return;
	}
	int64_t at = now + sim_range(r, l->delay_min_ms, l->delay_max_ms);
	if (sim_chance(r, l->loss_ppm)) {
		if (datagram) {
			net->lost++;
			return;
		}
		at += 3 * l->delay_max_ms + 20; /* a retransmission */
	}
	if (!datagram) {
		if (at < l->stream_last_at)
			at = l->stream_last_at;
		l->stream_last_at = at;
	}
	enqueue(net, m, at, net->seq++);
	if (datagram && sim_chance(r, l->dup_ppm)) {
		struct sim_msg d = *m;
		d.dup = true;
		net->duplicated++;
		enqueue(net, &d, now + sim_range(r, l->delay_min_ms, 2 * l->delay_max_ms),
			net->seq++);
	}
}

bool sim_net_pop(struct sim_net *net, int64_t now, struct sim_msg *m)
{
	if (net->n_heap == 0 || net->pool[net->heap[0]].at > now)
		return false;
	uint32_t idx = heap_pop(net);
	*m = net->pool[idx];
	net->free_list[net->n_free++] = idx;
	return true;
}

void sim_net_defer(struct sim_net *net, const struct sim_msg *m, int64_t at)
{
	enqueue(net, m, at, m->seq);
}

void sim_net_heal(struct sim_net *net)
{
	for (uint32_t a = 0; a < SIM_NODES_MAX; a++)
		for (uint32_t b = 0; b < SIM_NODES_MAX; b++)
			net->link[a][b].up = true;
}

void sim_net_isolate(struct sim_net *net, uint32_t i, uint32_t nodes, bool out, bool in)
{
	for (uint32_t j = 0; j < nodes; j++) {
		if (j == i)
			continue;
		if (out)
			net->link[i][j].up = false;
		if (in)
			net->link[j][i].up = false;
	}
}
