/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reconstruction: what a connection's timeline (struct tw_conn, as the kernel
 * side accumulated it) means. How it opened and closed, who reset it, how
 * long each phase took, whether TIME_WAIT took over, and what happened at
 * each step. Pure C: no BPF, no I/O; formatters print what this decides.
 */
#ifndef TCPWAVE_CONN_H
#define TCPWAVE_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

enum conn_open {
	CONN_OPEN_ACTIVE, /* connect() */
	CONN_OPEN_PASSIVE, /* accepted from a listener */
	CONN_OPEN_UNKNOWN, /* already open when tracing began */
};

enum conn_close {
	CONN_CLOSE_NONE, /* not closing yet: still open when tracing ended (JSON null) */
	CONN_CLOSE_ACTIVE, /* we sent the first FIN */
	CONN_CLOSE_PASSIVE, /* the peer's FIN came first */
	CONN_CLOSE_SIMULTANEOUS, /* both FINs crossed: CLOSING */
	CONN_CLOSE_RESET, /* aborted by a RST */
	CONN_CLOSE_REFUSED, /* connect() answered by a RST (or ICMP port unreachable) */
	CONN_CLOSE_TIMEOUT, /* the handshake never completed */
	CONN_CLOSE_UNKNOWN, /* closed without a FIN or RST we saw */
};

enum conn_reset_by {
	CONN_RESET_NONE,
	CONN_RESET_LOCAL,
	CONN_RESET_PEER,
};

/* How the socket left. */
enum conn_end {
	CONN_END_OPEN, /* it did not: still open when tracing ended */
	CONN_END_CLOSED, /* CLOSE, nothing left behind */
	CONN_END_TIME_WAIT, /* a timewait socket holds the 4-tuple in TIME_WAIT */
	/*
	 * Closed by its application before the peer's FIN: a timewait socket
	 * in the FIN_WAIT2 substate keeps waiting for it (tcp_time_wait(sk,
	 * TCP_FIN_WAIT2, ...)). The connection is still closing.
	 */
	CONN_END_FIN_WAIT2,
};

/*
 * How a FIN_WAIT2 hand-over ended. The tracepoint never shows it (a timewait
 * socket's states are not reported); tcpwave learns it from the record of a
 * peer on this host, or from the kernel side watching the timewait socket
 * (user/handover_wait.c, bpf/handover.bpf.h), or learns nothing.
 */
enum conn_fin_wait2_end {
	CONN_FW2_NONE, /* no FIN_WAIT2 hand-over (JSON null) */
	CONN_FW2_WAITING, /* not learned: the kernel was still waiting for the peer's FIN */
	CONN_FW2_PEER_FIN, /* the peer's FIN came; TIME_WAIT followed */
	CONN_FW2_PEER_RESET, /* the peer reset the connection */
	/* The peer sent data after our close(): the timewait socket answered with a RST. */
	CONN_FW2_LOCAL_RESET,
	CONN_FW2_TIMEOUT, /* no FIN within tcp_fin_timeout: the kernel dropped the connection */
};

/* What happened at a step of the timeline: the reason its state was entered. */
enum conn_step_event {
	STEP_SEEN, /* already in this state when tracing began */
	STEP_SYN_SENT, /* SYN_SENT: connect() sent the SYN */
	STEP_SYN_RECEIVED, /* SYN_RECV: the peer's SYN arrived, SYN-ACK sent */
	STEP_FAST_OPEN_SYN_RECEIVED, /* ... the socket made at once (TCP Fast Open) */
	STEP_SYNACK_RECEIVED, /* ESTABLISHED from SYN_SENT: SYN-ACK received, ACK sent */
	STEP_FAST_OPEN_SYNACK_RECEIVED, /* ... acknowledging the SYN's data (TCP Fast Open) */
	STEP_ACK_RECEIVED, /* ESTABLISHED from SYN_RECV: the handshake's final ACK */
	STEP_FIN_SENT, /* FIN_WAIT1: we sent the first FIN */
	STEP_FIN_SENT_IN_HANDSHAKE, /* FIN_WAIT1 from SYN_RECV: a Fast Open child's, early */
	STEP_FIN_ACKED, /* FIN_WAIT2: the peer acknowledged our FIN */
	STEP_PEER_FIN, /* CLOSE_WAIT: the peer's FIN arrived first */
	STEP_FINS_CROSSED, /* CLOSING: the peer's FIN arrived before the ACK of ours */
	STEP_LAST_FIN_SENT, /* LAST_ACK: we sent our FIN after the peer's */
	STEP_FINAL_ACK, /* CLOSE from LAST_ACK: our FIN acknowledged */
	STEP_ABORTED_FIN_UNACKED, /* CLOSE from LAST_ACK or CLOSING by the application, no RST */
	STEP_TIME_WAIT, /* CLOSE: handed over to TIME_WAIT */
	STEP_FIN_WAIT2_HANDOVER, /* CLOSE: handed over, still waiting for the peer's FIN */
	STEP_RESET_SENT, /* CLOSE: we sent a RST */
	STEP_RESET_RECEIVED, /* CLOSE: the peer sent a RST */
	STEP_REFUSED, /* CLOSE from SYN_SENT: the peer refused */
	STEP_TIMEOUT, /* CLOSE: the handshake or a retransmission timed out */
	STEP_CONNECT_ABANDONED, /* CLOSE from SYN_SENT: the application closed it, no error */
	STEP_CLOSED, /* CLOSE, otherwise */
	STEP_OTHER, /* a transition the textbook does not name */
};

/* Kernel facts that are the same for every connection (read once). */
struct conn_env {
	uint64_t time_wait_ns; /* TCP_TIMEWAIT_LEN: 60 s */
	uint64_t fin_timeout_ns; /* net.ipv4.tcp_fin_timeout */
};

struct conn_verdict {
	enum conn_open open;
	enum conn_close close;
	enum conn_reset_by reset_by;
	enum conn_end end;
	bool complete; /* false: still open when tracing ended */
	bool tw_overflow; /* tcp_max_tw_buckets was reached: no TIME_WAIT despite the FINs */
	/* Durations in ns; -1 where they do not apply or are not known. */
	int64_t handshake_ns; /* SYN sent (or first SYN-ACK sent) to ESTABLISHED */
	int64_t lifetime_ns; /* first step to the last */
	int64_t close_start_ns; /* offset of the first FIN sent or received */
	int64_t close_ns; /* first FIN to CLOSE or the hand-over */
	int64_t open_ns; /* not over: first step to the end of tracing (conn_open_until()) */
	int64_t handover_hold_ns; /* how long the kernel keeps the timewait socket */
	enum conn_fin_wait2_end fin_wait2_end;
	int64_t fin_wait2_end_ns; /* offset of that end from the first step, or -1 */
	/* Payload bytes: the kernel's counters less the SYN and FIN they include. */
	int64_t rx_bytes;
	int64_t tx_bytes;
	enum conn_step_event steps[TW_STEPS_MAX]; /* one per step of the timeline */
};

/* The steps a record holds: nsteps comes from the kernel side, the arrays are fixed. */
static inline int conn_steps(const struct tw_conn *c)
{
	return c->nsteps < TW_STEPS_MAX ? c->nsteps : TW_STEPS_MAX;
}

/*
 * An accepted Fast Open child whose application answered and closed before
 * the handshake's final ACK came (SYN_RECV -> FIN_WAIT1): that ACK moves no
 * state, and waiting for it is FIN_WAIT1's time.
 */
static inline bool conn_fin_sent_in_handshake(const struct tw_conn *c)
{
	return conn_steps(c) >= 2 && c->step_state[0] == TW_SYN_RECV &&
	       c->step_state[1] == TW_FIN_WAIT1;
}

/* The first step that entered state, or -1. */
static inline int conn_find_state(const struct tw_conn *c, __u8 state)
{
	int i;

	for (i = 0; i < conn_steps(c); i++)
		if (c->step_state[i] == state)
			return i;
	return -1;
}

void conn_classify(const struct tw_conn *c, const struct conn_env *env, struct conn_verdict *v);

/*
 * A FIN_WAIT2 hand-over's end, learned after the record (end_ns: its offset
 * from the first step, or -1): the close and the lifetime extend to it.
 */
void conn_end_fin_wait2(struct conn_verdict *v, enum conn_fin_wait2_end end, int64_t end_ns);
/*
 * A connection not over when tracing ended, at end_ns (monotonic, as
 * c->start_ns): still open, or handed over in FIN_WAIT2 and still waiting
 * for the peer's FIN (after conn_end_fin_wait2()). How long it had lasted by
 * then (open_ns), so that the phase it was still in is diagnosed. Nothing
 * for a connection that was over.
 */
void conn_open_until(struct conn_verdict *v, const struct tw_conn *c, uint64_t end_ns);

/* Join a RST that came after the connection record (struct tw_reset). */
void conn_apply_late_reset(struct tw_conn *c, const struct tw_reset *r);

/*
 * Could a RST still follow this finished connection's record? Then a lost
 * record may have been that RST, and the record is marked (see conn_queue).
 */
bool conn_reset_may_follow(const struct tw_conn *c);

/* Names used in JSON and text: "active", "passive", "simultaneous", ... */
const char *conn_open_name(enum conn_open open);
/* NULL for CONN_CLOSE_NONE. */
const char *conn_close_name(enum conn_close close);
/* "local", "peer", or NULL for CONN_RESET_NONE. */
const char *conn_reset_by_name(enum conn_reset_by by);
/* "TIME_WAIT", "FIN_WAIT2", or NULL when nothing was handed over. */
const char *conn_handover_name(enum conn_end end);
/* "waiting", "peer_fin", "peer_reset", "local_reset", "timeout", or NULL for CONN_FW2_NONE. */
const char *conn_fin_wait2_end_name(enum conn_fin_wait2_end end);

#endif
