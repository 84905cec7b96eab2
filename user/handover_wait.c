// SPDX-License-Identifier: GPL-2.0
#include "handover_wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "local_addrs.h"

#define NONE UINT32_MAX

struct handover_wait_entry {
	struct tw_conn conn;
	uint64_t due_ns;
	enum handover_teller by;
	/*
	 * Held for its peer's record, the kernel side's word as it came
	 * (enum tw_handover_end_kind, 0 for none): the end, should that
	 * record never come.
	 */
	__u8 kernel_end;
	uint64_t kernel_end_ns;
	uint32_t prev, next; /* arrival order; next also links the free slots */
	uint32_t chain; /* the next entry in the same bucket */
};

void handover_wait_init(struct handover_wait *w, uint32_t cap, uint64_t fin_timeout_ns)
{
	memset(w, 0, sizeof(*w));
	w->cap = cap;
	w->oldest = w->newest = w->free = NONE;
	w->fin_timeout_ns = fin_timeout_ns;
}

void handover_wait_free(struct handover_wait *w)
{
	free(w->entries);
	free(w->buckets);
	handover_wait_init(w, w->cap, w->fin_timeout_ns);
}

/* CLOCK_MONOTONIC time of step i: every record on this host has the same clock. */
static uint64_t step_time(const struct tw_conn *c, int i)
{
	return c->start_ns + c->step_ns[i];
}

static uint64_t handover_time(const struct tw_conn *c)
{
	return step_time(c, conn_steps(c) - 1);
}

/* FNV-1a over an address and port. */
static uint32_t bucket_of(const struct handover_wait *w, __u16 family, const __u8 addr[16],
			  __u16 port)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	h = (h ^ port) * 16777619u;
	h = (h ^ family) * 16777619u;
	return h & (w->cap - 1);
}

static void allocate(struct handover_wait *w)
{
	uint32_t i;

	w->entries = calloc(w->cap, sizeof(*w->entries));
	w->buckets = malloc(w->cap * sizeof(*w->buckets));
	if (!w->entries || !w->buckets) {
		fputs("tcpwave: out of memory\n", stderr);
		exit(1);
	}
	for (i = 0; i < w->cap; i++) {
		w->buckets[i] = NONE;
		w->entries[i].next = i + 1 < w->cap ? i + 1 : NONE;
	}
	w->free = 0;
}

bool handover_wait_eligible(const struct tw_conn *c, const struct conn_verdict *v)
{
	/* The peer's CLOSE_WAIT is checked against our FIN: without it, nothing to join. */
	return v->fin_wait2_end == CONN_FW2_WAITING && conn_find_state(c, TW_FIN_WAIT1) >= 0;
}

int handover_wait_hold(struct handover_wait *w, const struct tw_conn *c,
		       enum handover_teller by)
{
	struct handover_wait_entry *e;
	uint32_t slot, *bucket;

	if (!w->entries)
		allocate(w);
	if (w->free == NONE) {
		w->full++;
		return -ENOSPC;
	}
	slot = w->free;
	e = &w->entries[slot];
	w->free = e->next;
	e->conn = *c;
	e->by = by;
	e->due_ns = handover_time(c) + w->fin_timeout_ns + HANDOVER_WAIT_MARGIN_NS;
	e->kernel_end = 0;
	e->prev = w->newest;
	e->next = NONE;
	if (w->newest != NONE)
		w->entries[w->newest].next = slot;
	else
		w->oldest = slot;
	w->newest = slot;
	bucket = &w->buckets[bucket_of(w, c->ep.family, c->ep.laddr, c->ep.lport)];
	e->chain = *bucket;
	*bucket = slot;
	w->count++;
	return 0;
}

/* A held connection's end at t_end, as an offset from its start: no earlier than its hand-over. */
static int64_t end_offset(const struct tw_conn *held, uint64_t t_end)
{
	if (t_end < handover_time(held))
		t_end = handover_time(held);
	return (int64_t)(t_end - held->start_ns);
}

/* Take a held entry out into *out. */
static void take(struct handover_wait *w, uint32_t slot, enum conn_fin_wait2_end end,
		 int64_t end_ns, struct handover_release *out)
{
	struct handover_wait_entry *e = &w->entries[slot];
	const struct tw_endpoints *ep = &e->conn.ep;
	uint32_t *link = &w->buckets[bucket_of(w, ep->family, ep->laddr, ep->lport)];

	while (*link != slot)
		link = &w->entries[*link].chain;
	*link = e->chain;
	if (e->prev != NONE)
		w->entries[e->prev].next = e->next;
	else
		w->oldest = e->next;
	if (e->next != NONE)
		w->entries[e->next].prev = e->prev;
	else
		w->newest = e->prev;
	out->conn = e->conn;
	out->end = end;
	out->end_ns = end_ns;
	e->next = w->free;
	w->free = slot;
	w->count--;
}

/*
 * How the peer's record ends our FIN_WAIT2, at *t (CLOCK_MONOTONIC): its
 * FIN, or a RST from CLOSE_WAIT (sent by it, or by our timewait socket when
 * it sent data). Anything else shows nothing about our end.
 */
static bool peer_end(const struct tw_conn *peer, const struct conn_verdict *pv, uint64_t *t,
		     enum conn_fin_wait2_end *end)
{
	int n = conn_steps(peer), last_ack = conn_find_state(peer, TW_LAST_ACK);

	if (last_ack >= 0) {
		*t = step_time(peer, last_ack);
		*end = CONN_FW2_PEER_FIN;
		return true;
	}
	if (n < 2 || peer->step_state[n - 2] != TW_CLOSE_WAIT || pv->reset_by == CONN_RESET_NONE)
		return false;
	*t = step_time(peer, n - 1);
	*end = pv->reset_by == CONN_RESET_LOCAL ? CONN_FW2_PEER_RESET : CONN_FW2_LOCAL_RESET;
	return true;
}

/*
 * The peer has our address and port as its remote end (its own address may
 * differ: NAT between us), and got our FIN between our sending it and our
 * hand-over. A loopback address is every namespace's own: the peer must be
 * in ours.
 */
static bool is_peer_of(const struct tw_conn *held, const struct tw_conn *peer, uint64_t t_fin)
{
	const struct tw_endpoints *h = &held->ep, *p = &peer->ep;

	if (h->family != p->family || h->lport != p->rport || memcmp(h->laddr, p->raddr, 16))
		return false;
	if (local_addrs_is_loopback(h->family, h->raddr) && held->netns != peer->netns)
		return false;
	return step_time(held, conn_find_state(held, TW_FIN_WAIT1)) <= t_fin &&
	       t_fin <= handover_time(held);
}

bool handover_wait_join(struct handover_wait *w, const struct tw_conn *peer,
			const struct conn_verdict *pv, struct handover_release *out)
{
	int close_wait = conn_find_state(peer, TW_CLOSE_WAIT);
	enum conn_fin_wait2_end end;
	uint64_t t_fin, t_end, deadline;
	uint32_t slot;

	if (!w->count || close_wait < 0 || !pv->complete || !peer_end(peer, pv, &t_end, &end))
		return false;
	t_fin = step_time(peer, close_wait);
	slot = w->buckets[bucket_of(w, peer->ep.family, peer->ep.raddr, peer->ep.rport)];
	for (; slot != NONE; slot = w->entries[slot].chain) {
		const struct tw_conn *held = &w->entries[slot].conn;

		if (!is_peer_of(held, peer, t_fin))
			continue;
		/* Past the kernel's deadline the FIN or RST met no timewait socket. */
		deadline = handover_time(held) + w->fin_timeout_ns;
		if (t_end > deadline) {
			end = CONN_FW2_TIMEOUT;
			t_end = deadline;
		}
		/* Sent just before the hand-over, it arrived after it. */
		take(w, slot, end, end_offset(held, t_end), out);
		return true;
	}
	return false;
}

/* What the kernel side saw end a watched FIN_WAIT2 (enum tw_handover_end_kind). */
static enum conn_fin_wait2_end watched_end(__u8 kind)
{
	switch (kind) {
	case TW_HANDOVER_PEER_FIN:
		return CONN_FW2_PEER_FIN;
	case TW_HANDOVER_LOCAL_RESET:
		return CONN_FW2_LOCAL_RESET;
	case TW_HANDOVER_TIMEOUT:
		return CONN_FW2_TIMEOUT;
	default:
		/* Gone before its time without our RST: the peer's RST killed it. */
		return CONN_FW2_PEER_RESET;
	}
}

bool handover_wait_end(struct handover_wait *w, const struct tw_handover_end *e,
		       struct handover_release *out)
{
	const struct tw_endpoints *ep = &e->ep;
	uint32_t slot;

	if (!w->count)
		return false;
	slot = w->buckets[bucket_of(w, ep->family, ep->laddr, ep->lport)];
	for (; slot != NONE; slot = w->entries[slot].chain) {
		struct handover_wait_entry *entry = &w->entries[slot];

		if (entry->conn.cookie != e->cookie || entry->conn.netns != e->netns)
			continue;
		if (entry->by == HANDOVER_BY_PEER) {
			entry->kernel_end = e->end;
			entry->kernel_end_ns = e->ts_ns;
			return false;
		}
		/* A jiffy's rounding may put it before the hand-over. */
		take(w, slot, watched_end(e->end), end_offset(&entry->conn, e->ts_ns), out);
		return true;
	}
	return false;
}

bool handover_wait_pop_expired(struct handover_wait *w, uint64_t now_ns,
			       struct handover_release *out)
{
	const struct handover_wait_entry *e;

	if (!w->count || w->entries[w->oldest].due_ns > now_ns)
		return false;
	e = &w->entries[w->oldest];
	/* Its peer's record never came: the kernel side's word, if it had one. */
	if (e->kernel_end)
		take(w, w->oldest, watched_end(e->kernel_end),
		     end_offset(&e->conn, e->kernel_end_ns), out);
	else
		take(w, w->oldest, CONN_FW2_TIMEOUT,
		     end_offset(&e->conn, handover_time(&e->conn) + w->fin_timeout_ns), out);
	return true;
}

bool handover_wait_pop_any(struct handover_wait *w, struct handover_release *out)
{
	if (!w->count)
		return false;
	take(w, w->oldest, CONN_FW2_WAITING, -1, out);
	return true;
}

uint64_t handover_wait_next_due(const struct handover_wait *w)
{
	return w->count ? w->entries[w->oldest].due_ns : UINT64_MAX;
}
