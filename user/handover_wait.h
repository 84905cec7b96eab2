/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A connection its application closed before the peer's FIN (an orphan)
 * leaves the tracepoint's view when the kernel hands it to a timewait socket
 * in the FIN_WAIT2 substate: the socket goes FIN_WAIT2 -> CLOSE while the
 * close goes on unseen. Two things can show when that close ended: the
 * kernel side, which watches the timewait socket (bpf/handover.bpf.h) and
 * sends a struct tw_handover_end, and, when the peer is on this host, the
 * peer's own record: its FIN (CLOSE_WAIT -> LAST_ACK) or its RST. Such
 * connections wait here until the first of those comes, until the kernel
 * must have dropped them (tcp_fin_timeout after the hand-over), or until
 * tracing ends, so that each is printed once, with its whole close. Pure C,
 * no I/O.
 *
 * The peer's record never comes first: ours leaves at the hand-over, which
 * the peer's ACK of our FIN caused, and the peer's record leaves only once
 * our timewait socket has acknowledged its FIN (tcp_timewait_state_process())
 * or it has sent a RST, both later. The ring buffer keeps that order.
 */
#ifndef TCPWAVE_HANDOVER_WAIT_H
#define TCPWAVE_HANDOVER_WAIT_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "conn.h"
#include "tcpwave.h"

/*
 * Past the kernel's deadline, a held connection waits this much longer for
 * a peer's record that left in time but is still on its way to us (the ring
 * buffer's poll interval, the late-reset grace, a busy tracer).
 */
#define HANDOVER_WAIT_MARGIN_NS (1000 * 1000 * 1000ull)

struct handover_wait_entry;

struct handover_wait {
	struct handover_wait_entry *entries; /* cap slots, allocated by the first hold */
	uint32_t *buckets; /* cap chains of held entries, by their local address and port */
	uint32_t cap; /* a power of two */
	uint32_t count;
	uint32_t oldest, newest; /* held entries in arrival order, which is hand-over order */
	uint32_t free; /* unused slots */
	uint64_t fin_timeout_ns; /* net.ipv4.tcp_fin_timeout */
	uint64_t full; /* connections not held because cap were waiting */
};

/* A connection that waited, and how its FIN_WAIT2 ended (end_ns: from its start, or -1). */
struct handover_release {
	struct tw_conn conn;
	enum conn_fin_wait2_end end;
	int64_t end_ns;
};

void handover_wait_init(struct handover_wait *w, uint32_t cap, uint64_t fin_timeout_ns);
void handover_wait_free(struct handover_wait *w);
/* A FIN_WAIT2 hand-over whose end a peer's record could show. */
bool handover_wait_eligible(const struct tw_conn *c, const struct conn_verdict *v);
/*
 * Who is to tell a held connection's end. One held for its peer's record
 * keeps the kernel side's word, which is coarser (a jiffy), for when that
 * record does not come by its deadline.
 */
enum handover_teller {
	HANDOVER_BY_PEER, /* its peer's record, on this host: exact */
	HANDOVER_BY_KERNEL, /* the kernel side, watching its timewait socket */
};

/* Hold an eligible connection: 0, or -ENOSPC when cap wait already (counted in full). */
int handover_wait_hold(struct handover_wait *w, const struct tw_conn *c,
		       enum handover_teller by);
/*
 * A finished connection, offered as a peer: when it is the other end of a
 * held connection and shows how that one's close ended, take the held one
 * out into *out.
 */
bool handover_wait_join(struct handover_wait *w, const struct tw_conn *peer,
			const struct conn_verdict *pv, struct handover_release *out);
/*
 * The kernel side's word on a held connection's end: take that connection
 * out into *out, if it waits for that word (one waiting for its peer's
 * record keeps it for its deadline).
 */
bool handover_wait_end(struct handover_wait *w, const struct tw_handover_end *e,
		       struct handover_release *out);
/*
 * The oldest held connection past its deadline by now_ns: the end the
 * kernel side told, or else the kernel has dropped it (a timeout).
 */
bool handover_wait_pop_expired(struct handover_wait *w, uint64_t now_ns,
			       struct handover_release *out);
/* The oldest held connection, its end not known: for the end of tracing. */
bool handover_wait_pop_any(struct handover_wait *w, struct handover_release *out);
/* When the oldest held connection expires; UINT64_MAX when none waits. */
uint64_t handover_wait_next_due(const struct handover_wait *w);

#endif
