// SPDX-License-Identifier: GPL-2.0
/*
 * What a connection's timeline means. The rules follow the four-way close
 * as the kernel implements it (net/ipv4/tcp.c, tcp_input.c, tcp_minisocks.c):
 * FIN_WAIT1 is entered when we send the first FIN, CLOSE_WAIT when the
 * peer's arrives first, CLOSING when they cross. The tracepoint never shows
 * TIME_WAIT: tcp_time_wait() hands the 4-tuple to a timewait socket and the
 * full socket goes ->CLOSE, which only the close facts tell apart.
 */
#include "conn.h"

#include <errno.h>
#include <stddef.h>

static __u8 last_state(const struct tw_conn *c)
{
	return conn_steps(c) ? c->step_state[conn_steps(c) - 1] : 0;
}

/* The state before the final ->CLOSE, or 0. */
static __u8 state_before_close(const struct tw_conn *c)
{
	int n = conn_steps(c);

	if (n >= 2 && c->step_state[n - 1] == TW_CLOSE)
		return c->step_state[n - 2];
	return 0;
}

static enum conn_open classify_open(const struct tw_conn *c)
{
	if (!conn_steps(c))
		return CONN_OPEN_UNKNOWN;
	if (c->first_old_state == TW_CLOSE && c->step_state[0] == TW_SYN_SENT)
		return CONN_OPEN_ACTIVE;
	if (c->first_old_state == TW_LISTEN && c->step_state[0] == TW_SYN_RECV)
		return CONN_OPEN_PASSIVE;
	return CONN_OPEN_UNKNOWN;
}

static bool is_our_fin_state(__u8 s)
{
	return s == TW_FIN_WAIT1 || s == TW_FIN_WAIT2;
}

static bool is_peer_fin_state(__u8 s)
{
	return s == TW_CLOSE_WAIT || s == TW_LAST_ACK;
}

/* The step where the close began (the first FIN either way), or -1. */
static int close_start_step(const struct tw_conn *c)
{
	int i;

	for (i = 0; i < conn_steps(c); i++) {
		__u8 s = c->step_state[i];

		if (is_our_fin_state(s) || is_peer_fin_state(s) || s == TW_CLOSING)
			return i;
	}
	return -1;
}

/* Whose FIN came first, from the states the socket went through. */
static enum conn_close close_by_fins(const struct tw_conn *c)
{
	int i;

	if (conn_find_state(c, TW_CLOSING) >= 0)
		return CONN_CLOSE_SIMULTANEOUS;
	for (i = 0; i < conn_steps(c); i++) {
		if (is_our_fin_state(c->step_state[i]))
			return CONN_CLOSE_ACTIVE;
		if (is_peer_fin_state(c->step_state[i]))
			return CONN_CLOSE_PASSIVE;
	}
	return CONN_CLOSE_NONE;
}

static bool has_reset(const struct tw_conn *c)
{
	return c->flags & (TW_CONN_RESET_SENT | TW_CONN_RESET_RECEIVED);
}

static enum conn_reset_by classify_reset_by(const struct tw_conn *c)
{
	bool sent = c->flags & TW_CONN_RESET_SENT, received = c->flags & TW_CONN_RESET_RECEIVED;

	if (sent && received)
		return (c->flags & TW_CONN_RESET_SENT_FIRST) ? CONN_RESET_LOCAL : CONN_RESET_PEER;
	if (sent)
		return CONN_RESET_LOCAL;
	if (received)
		return CONN_RESET_PEER;
	return CONN_RESET_NONE;
}

static enum conn_close classify_close(const struct tw_conn *c, enum conn_open open,
				      bool complete)
{
	bool established = conn_find_state(c, TW_ESTABLISHED) >= 0;
	enum conn_close by_fins;

	if (has_reset(c)) {
		/* A connect() answered by RST: the peer refused it. */
		if (!established && open == CONN_OPEN_ACTIVE &&
		    classify_reset_by(c) == CONN_RESET_PEER && c->reset_state == TW_SYN_SENT)
			return CONN_CLOSE_REFUSED;
		return CONN_CLOSE_RESET;
	}
	by_fins = close_by_fins(c);
	if (by_fins != CONN_CLOSE_NONE || !complete)
		return by_fins;
	if (!established && open != CONN_OPEN_UNKNOWN)
		/* ICMP port unreachable refuses as a RST does (tcp_v4_err()). */
		return c->sk_err == ECONNREFUSED ? CONN_CLOSE_REFUSED : CONN_CLOSE_TIMEOUT;
	return CONN_CLOSE_UNKNOWN;
}

/*
 * Whether a timewait socket took over at ->CLOSE, and in which substate.
 * The peer's FIN arrived (SOCK_DONE) after ours: TIME_WAIT. The application
 * closed (SOCK_DEAD) while in FIN_WAIT2 and the peer had not sent its FIN:
 * the FIN_WAIT2 substate. Either way only if tcp_max_tw_buckets left room.
 */
static enum conn_end classify_end(const struct tw_conn *c, bool complete, bool *tw_overflow)
{
	__u8 before = state_before_close(c);
	enum conn_end end = CONN_END_CLOSED;

	*tw_overflow = false;
	if (!complete)
		return CONN_END_OPEN;
	/*
	 * tcp_time_wait() sets no error; a retransmission timeout (CLOSING,
	 * ETIMEDOUT) does, and it comes only once our FIN is acknowledged.
	 */
	if (has_reset(c) || c->sk_err || last_state(c) != TW_CLOSE ||
	    (c->flags & TW_CONN_FIN_UNACKED))
		return CONN_END_CLOSED;
	if ((before == TW_FIN_WAIT1 || before == TW_FIN_WAIT2 || before == TW_CLOSING) &&
	    ((c->flags & TW_CONN_PEER_FIN) || before == TW_CLOSING))
		end = CONN_END_TIME_WAIT;
	else if (before == TW_FIN_WAIT2 && (c->flags & TW_CONN_ORPHAN))
		end = CONN_END_FIN_WAIT2;
	if (end == CONN_END_CLOSED)
		return end;
	/*
	 * inet_twsk_alloc() refuses once the namespace holds tw_max timewait
	 * sockets. The count is read just after the attempt: at the limit it
	 * failed, except for the one connection whose success reached it.
	 */
	if ((c->flags & TW_CONN_COUNTERS_KNOWN) && c->tw_count >= c->tw_max) {
		*tw_overflow = true;
		return CONN_END_CLOSED;
	}
	return end;
}

static enum conn_step_event closing_step_event(const struct tw_conn *c,
					       const struct conn_verdict *v, __u8 prev)
{
	if (v->end == CONN_END_TIME_WAIT)
		return STEP_TIME_WAIT;
	if (v->end == CONN_END_FIN_WAIT2)
		return STEP_FIN_WAIT2_HANDOVER;
	if (v->close == CONN_CLOSE_REFUSED)
		return STEP_REFUSED;
	if (v->reset_by == CONN_RESET_LOCAL)
		return STEP_RESET_SENT;
	if (v->reset_by == CONN_RESET_PEER)
		return STEP_RESET_RECEIVED;
	/*
	 * A connect() the kernel gave up on ends with an error (tcp_write_err()); one
	 * without error nor RST was closed by its application before any answer came.
	 */
	if (v->close == CONN_CLOSE_TIMEOUT && v->open == CONN_OPEN_ACTIVE && !c->sk_err)
		return STEP_CONNECT_ABANDONED;
	if (v->close == CONN_CLOSE_TIMEOUT || c->sk_err == ETIMEDOUT)
		return STEP_TIMEOUT;
	if (c->flags & TW_CONN_FIN_UNACKED)
		return STEP_ABORTED_FIN_UNACKED;
	if (prev == TW_LAST_ACK)
		return STEP_FINAL_ACK;
	return STEP_CLOSED;
}

static enum conn_step_event step_event(const struct tw_conn *c, const struct conn_verdict *v,
				       int i)
{
	__u8 state = c->step_state[i];
	__u8 prev = i ? c->step_state[i - 1] : c->first_old_state;
	bool fast_open = c->flags & TW_CONN_FAST_OPEN;

	if (i == 0 && v->open == CONN_OPEN_UNKNOWN)
		return STEP_SEEN;
	switch (state) {
	case TW_SYN_SENT:
		return STEP_SYN_SENT;
	case TW_SYN_RECV:
		return fast_open ? STEP_FAST_OPEN_SYN_RECEIVED : STEP_SYN_RECEIVED;
	case TW_ESTABLISHED:
		if (prev == TW_SYN_SENT)
			return fast_open ? STEP_FAST_OPEN_SYNACK_RECEIVED : STEP_SYNACK_RECEIVED;
		return prev == TW_SYN_RECV ? STEP_ACK_RECEIVED : STEP_OTHER;
	case TW_FIN_WAIT1:
		return prev == TW_SYN_RECV ? STEP_FIN_SENT_IN_HANDSHAKE : STEP_FIN_SENT;
	case TW_FIN_WAIT2:
		return STEP_FIN_ACKED;
	case TW_CLOSE_WAIT:
		return STEP_PEER_FIN;
	case TW_CLOSING:
		return STEP_FINS_CROSSED;
	case TW_LAST_ACK:
		return STEP_LAST_FIN_SENT;
	case TW_CLOSE:
		return closing_step_event(c, v, prev);
	default:
		return STEP_OTHER;
	}
}

static int64_t handshake_ns(const struct tw_conn *c, enum conn_open open)
{
	int est = conn_find_state(c, TW_ESTABLISHED);

	if (open == CONN_OPEN_PASSIVE && (c->flags & TW_CONN_HANDSHAKE_KNOWN))
		return (int64_t)c->handshake_us * 1000;
	if (open == CONN_OPEN_UNKNOWN || est < 0)
		return -1;
	return (int64_t)(c->step_ns[est] - c->step_ns[0]);
}

/* Did the peer acknowledge our FIN? Its ACK moved us out of the state that sent it. */
static bool our_fin_acked(const struct tw_conn *c, const struct conn_verdict *v)
{
	__u8 before = state_before_close(c);

	if (conn_find_state(c, TW_FIN_WAIT2) >= 0 || v->end == CONN_END_TIME_WAIT)
		return true;
	return !has_reset(c) && !c->sk_err && !(c->flags & TW_CONN_FIN_UNACKED) &&
	       (before == TW_LAST_ACK || before == TW_CLOSING);
}

/*
 * bytes_received and bytes_acked count sequence space: the peer's FIN, and
 * on our side the SYN (when connect() got its SYN-ACK: an accepted socket
 * starts past it) and the FIN once acknowledged.
 */
static void payload_bytes(const struct tw_conn *c, struct conn_verdict *v)
{
	bool syn_acked = v->open == CONN_OPEN_ACTIVE && conn_find_state(c, TW_ESTABLISHED) >= 0;
	bool peer_fin = (c->flags & TW_CONN_PEER_FIN) || conn_find_state(c, TW_CLOSE_WAIT) >= 0 ||
			conn_find_state(c, TW_CLOSING) >= 0;
	uint64_t rx = c->rx_bytes, tx = c->tx_bytes;

	v->rx_bytes = v->tx_bytes = -1;
	if (!(c->flags & TW_CONN_COUNTERS_KNOWN))
		return;
	if (peer_fin && rx)
		rx--;
	if (syn_acked && tx)
		tx--;
	if (our_fin_acked(c, v) && tx)
		tx--;
	v->rx_bytes = (int64_t)rx;
	v->tx_bytes = (int64_t)tx;
}

void conn_classify(const struct tw_conn *c, const struct conn_env *env, struct conn_verdict *v)
{
	int n = conn_steps(c), start, i;

	v->complete = !(c->flags & TW_CONN_OPEN);
	v->open = classify_open(c);
	v->reset_by = classify_reset_by(c);
	v->close = classify_close(c, v->open, v->complete);
	v->end = classify_end(c, v->complete, &v->tw_overflow);
	v->handshake_ns = handshake_ns(c, v->open);
	v->lifetime_ns =
		v->complete && n && v->open != CONN_OPEN_UNKNOWN ? (int64_t)c->step_ns[n - 1] : -1;

	/* A close already under way when tracing began has no known start. */
	start = close_start_step(c);
	if (start == 0 && v->open == CONN_OPEN_UNKNOWN)
		start = -1;
	v->close_start_ns = start >= 0 ? (int64_t)c->step_ns[start] : -1;
	v->close_ns = start >= 0 && v->complete ?
			      (int64_t)(c->step_ns[n - 1] - c->step_ns[start]) : -1;
	v->open_ns = -1;

	v->handover_hold_ns = v->end == CONN_END_TIME_WAIT ? (int64_t)env->time_wait_ns :
			      v->end == CONN_END_FIN_WAIT2 ? (int64_t)env->fin_timeout_ns :
							     -1;
	v->fin_wait2_end = v->end == CONN_END_FIN_WAIT2 ? CONN_FW2_WAITING : CONN_FW2_NONE;
	v->fin_wait2_end_ns = -1;
	payload_bytes(c, v);
	for (i = 0; i < TW_STEPS_MAX; i++)
		v->steps[i] = i < n ? step_event(c, v, i) : STEP_OTHER;
}

void conn_open_until(struct conn_verdict *v, const struct tw_conn *c, uint64_t end_ns)
{
	int n = conn_steps(c);

	/* An end before its last step (a clock gone wrong) would measure nothing. */
	if ((!v->complete || v->fin_wait2_end == CONN_FW2_WAITING) && n &&
	    end_ns >= c->start_ns + c->step_ns[n - 1])
		v->open_ns = (int64_t)(end_ns - c->start_ns);
}

void conn_end_fin_wait2(struct conn_verdict *v, enum conn_fin_wait2_end end, int64_t end_ns)
{
	if (v->end != CONN_END_FIN_WAIT2)
		return;
	v->fin_wait2_end = end;
	v->fin_wait2_end_ns = end_ns;
	if (end_ns < 0)
		return;
	if (v->close_start_ns >= 0 && v->close_ns >= 0)
		v->close_ns = end_ns - v->close_start_ns;
	if (v->lifetime_ns >= 0)
		v->lifetime_ns = end_ns;
}

void conn_apply_late_reset(struct tw_conn *c, const struct tw_reset *r)
{
	tw_note_reset(c, state_before_close(c), r->sent, r->reason, 0);
}

/*
 * The kernel sends a RST just after ->CLOSE when close() aborts (SO_LINGER
 * 0, unread data: tcp_close(), tcp_disconnect()) or gives up an orphan
 * (tcp_close() with linger2 < 0, too many orphans). None follows a hand-over
 * to TIME_WAIT, a connection that never got past SYN_SENT, or one already
 * reset; any other close may have been such an abort. So may one reset on
 * receiving data after our close (TW_CONN_RESET_MAYBE_OURS).
 */
bool conn_reset_may_follow(const struct tw_conn *c)
{
	bool tw_overflow;
	__u8 before = state_before_close(c);

	if (c->flags & TW_CONN_RESET_MAYBE_OURS)
		return true;
	if (has_reset(c) || (c->flags & TW_CONN_OPEN) || !before || before == TW_SYN_SENT)
		return false;
	return classify_end(c, true, &tw_overflow) != CONN_END_TIME_WAIT;
}

const char *conn_open_name(enum conn_open open)
{
	switch (open) {
	case CONN_OPEN_ACTIVE:
		return "active";
	case CONN_OPEN_PASSIVE:
		return "passive";
	default:
		return "unknown";
	}
}

const char *conn_close_name(enum conn_close close)
{
	static const char *const names[] = {
		[CONN_CLOSE_NONE] = NULL,
		[CONN_CLOSE_ACTIVE] = "active",
		[CONN_CLOSE_PASSIVE] = "passive",
		[CONN_CLOSE_SIMULTANEOUS] = "simultaneous",
		[CONN_CLOSE_RESET] = "reset",
		[CONN_CLOSE_REFUSED] = "refused",
		[CONN_CLOSE_TIMEOUT] = "timeout",
		[CONN_CLOSE_UNKNOWN] = "unknown",
	};

	return (unsigned)close < sizeof(names) / sizeof(names[0]) ? names[close] : "unknown";
}

const char *conn_reset_by_name(enum conn_reset_by by)
{
	return by == CONN_RESET_LOCAL ? "local" : by == CONN_RESET_PEER ? "peer" : NULL;
}

const char *conn_handover_name(enum conn_end end)
{
	return end == CONN_END_TIME_WAIT ? "TIME_WAIT" : end == CONN_END_FIN_WAIT2 ? "FIN_WAIT2" : NULL;
}

const char *conn_fin_wait2_end_name(enum conn_fin_wait2_end end)
{
	static const char *const names[] = {
		[CONN_FW2_NONE] = NULL,
		[CONN_FW2_WAITING] = "waiting",
		[CONN_FW2_PEER_FIN] = "peer_fin",
		[CONN_FW2_PEER_RESET] = "peer_reset",
		[CONN_FW2_LOCAL_RESET] = "local_reset",
		[CONN_FW2_TIMEOUT] = "timeout",
	};

	return (unsigned)end < sizeof(names) / sizeof(names[0]) ? names[end] : NULL;
}
