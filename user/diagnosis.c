// SPDX-License-Identifier: GPL-2.0
/*
 * The states a close can dwell in, and what keeps a connection in each
 * (net/ipv4/tcp.c, tcp_input.c, tcp_timer.c):
 *  - CLOSE_WAIT: the peer's FIN came; only our application's close() or
 *    shutdown() moves on. No timer ends it.
 *  - FIN_WAIT2: our FIN was acknowledged; only the peer's FIN (or RST) moves
 *    on, or tcp_fin_timeout once the application has closed the socket.
 *  - FIN_WAIT1, CLOSING, LAST_ACK: our FIN waits for its ACK, behind any data
 *    not yet acknowledged. The retransmission timer resends it, and gives up
 *    after tcp_orphan_retries (an orphan) or tcp_retries2.
 * TIME_WAIT is not close time: the close is over when it begins.
 */
#include "diagnosis.h"

#include <inttypes.h>
#include "errno_name.h"
#include "rst_reason.h"
#include "tcp_state.h"

static bool is_close_state(__u8 s)
{
	return s == TW_FIN_WAIT1 || s == TW_FIN_WAIT2 || s == TW_CLOSE_WAIT || s == TW_LAST_ACK ||
	       s == TW_CLOSING;
}

/* A FIN_WAIT2 hand-over's end: learned, or the end of tracing while still waiting; or -1. */
static int64_t handover_end_ns(const struct conn_verdict *v)
{
	if (v->fin_wait2_end_ns >= 0)
		return v->fin_wait2_end_ns;
	return v->fin_wait2_end == CONN_FW2_WAITING ? v->open_ns : -1;
}

/*
 * Time in step i: until the next step; a handed-over FIN_WAIT2 until its
 * end (handover_end_ns()); the last step of a connection still open until
 * tracing ended.
 */
static int64_t dwell(const struct tw_conn *c, const struct conn_verdict *v, int i)
{
	int64_t handover_end = handover_end_ns(v);

	if (i == conn_steps(c) - 1)
		return v->open_ns - (int64_t)c->step_ns[i];
	if (i == conn_steps(c) - 2 && c->step_state[i] == TW_FIN_WAIT2 && handover_end >= 0)
		return handover_end - (int64_t)c->step_ns[i];
	return (int64_t)(c->step_ns[i + 1] - c->step_ns[i]);
}

/* A reset or an error that ended the socket. */
static enum diag_end socket_end(const struct conn_verdict *v, const struct tw_conn *c)
{
	if (v->reset_by == CONN_RESET_LOCAL)
		return DIAG_END_RESET_BY_US;
	if (v->reset_by == CONN_RESET_PEER)
		return DIAG_END_RESET_BY_PEER;
	if (c->sk_err)
		return DIAG_END_GAVE_UP;
	return (c->flags & TW_CONN_FIN_UNACKED) ? DIAG_END_ABORTED_FIN_UNACKED : DIAG_END_NORMAL;
}

static enum diag_end close_end(const struct conn_verdict *v, const struct tw_conn *c)
{
	if (!v->complete)
		return DIAG_END_STILL_OPEN;
	switch (v->fin_wait2_end) {
	case CONN_FW2_WAITING:
		return v->open_ns >= 0 ? DIAG_END_FIN_WAIT2_STILL_WAITING : DIAG_END_FIN_WAIT2_WAITING;
	case CONN_FW2_PEER_RESET:
		return DIAG_END_RESET_BY_PEER;
	case CONN_FW2_LOCAL_RESET:
		return DIAG_END_DATA_AFTER_CLOSE;
	case CONN_FW2_TIMEOUT:
		return DIAG_END_FIN_WAIT2_TIMEOUT;
	default:
		return socket_end(v, c);
	}
}

static void fill_phase(struct diag_phase *p, const struct tw_conn *c, __u8 state, int64_t ns)
{
	p->state = state;
	p->ns = ns;
	p->orphan = c->flags & TW_CONN_ORPHAN;
	p->sk_err = c->sk_err;
	p->reset_reason = c->reset_reason;
	p->srtt_ns = (c->flags & TW_CONN_COUNTERS_KNOWN) && c->srtt_us ? c->srtt_us * 1000ll : -1;
}

/* How long the close took, or had taken when tracing ended (open_ns); -1 if not known. */
static int64_t close_time(const struct conn_verdict *v)
{
	if (v->close_start_ns < 0 || v->open_ns < 0)
		return v->close_ns;
	return v->open_ns - v->close_start_ns;
}

/*
 * The close state that lasted longest, and what kept the connection there.
 * The steps it may be among: all but the last, and that one too while the
 * connection is still open (it lasts until tracing ended).
 */
static void diagnose_close(const struct tw_conn *c, const struct conn_verdict *v,
			   const struct diag_thresholds *t, struct diag_phase *p, int64_t close_ns)
{
	int n = conn_steps(c), end = v->complete ? n - 1 : n, best = -1, i;
	uint32_t fin_retrans = c->retrans[TW_RETRANS_FIN];
	uint32_t synack_retrans = c->retrans[TW_RETRANS_SYNACK];
	int64_t best_ns = -1;
	__u8 state;

	if (close_ns < 0)
		return;
	for (i = 0; i < end; i++) {
		/* A truncated timeline lost steps before its last: that gap is no state's time. */
		if (i == n - 2 && (c->flags & TW_CONN_TRUNCATED))
			continue;
		if (is_close_state(c->step_state[i]) && dwell(c, v, i) > best_ns) {
			best = i;
			best_ns = dwell(c, v, i);
		}
	}
	if (best < 0)
		return;
	state = c->step_state[best];
	fill_phase(p, c, state, best_ns);
	if (state == TW_CLOSE_WAIT) {
		p->cause = DIAG_LOCAL_APP_DID_NOT_CLOSE;
	} else if (state == TW_FIN_WAIT2) {
		p->cause = DIAG_PEER_DID_NOT_CLOSE;
	} else if (state == TW_FIN_WAIT1 && conn_fin_sent_in_handshake(c) && synack_retrans &&
		   !fin_retrans) {
		/* tcp_fastopen_synack_timer() resends the SYN-ACK, not the FIN, until that ACK. */
		p->cause = DIAG_SYNACK_RETRANSMITTED;
		p->retransmits = synack_retrans;
	} else {
		p->cause = fin_retrans ? DIAG_FIN_RETRANSMITTED : DIAG_FIN_ACK_LATE;
		p->retransmits = fin_retrans;
	}
	p->end = close_end(v, c);
	p->found = best_ns >= DIAG_REMARKABLE_NS || fin_retrans || p->retransmits ||
		   (t->close_ns >= 0 && close_ns >= t->close_ns);
}

/* How a handshake that never reached ESTABLISHED ended. */
static enum diag_end failed_handshake_end(const struct conn_verdict *v, const struct tw_conn *c)
{
	if (v->close == CONN_CLOSE_REFUSED)
		return DIAG_END_REFUSED;
	if (v->reset_by == CONN_RESET_NONE && !c->sk_err)
		return DIAG_END_APP_GAVE_UP;
	return socket_end(v, c);
}

/*
 * The handshake: SYN_SENT (connect()) or SYN_RECV (accepted), from its first
 * SYN or SYN-ACK to ESTABLISHED, or to the end of a handshake that failed,
 * or to the end of tracing for one still under way.
 */
static int64_t diagnose_handshake(const struct tw_conn *c, const struct conn_verdict *v,
				  const struct diag_thresholds *t, struct diag_phase *p)
{
	bool established = conn_find_state(c, TW_ESTABLISHED) >= 0;
	bool active = v->open == CONN_OPEN_ACTIVE;
	int64_t ns = established ? v->handshake_ns : v->complete ? v->lifetime_ns : v->open_ns;
	uint32_t retrans;

	/* It did not fail: the application was done before it ended (see diagnose_close()). */
	if (v->open == CONN_OPEN_UNKNOWN || ns < 0 || conn_fin_sent_in_handshake(c))
		return -1;
	retrans = c->retrans[active ? TW_RETRANS_SYN : TW_RETRANS_SYNACK];
	fill_phase(p, c, active ? TW_SYN_SENT : TW_SYN_RECV, ns);
	p->retransmits = retrans;
	if (retrans)
		p->cause = active ? DIAG_SYN_RETRANSMITTED : DIAG_SYNACK_RETRANSMITTED;
	else if (active && !established && v->close != CONN_CLOSE_REFUSED)
		/* No SYN-ACK came, and not even a RST: no answer to be late. */
		p->cause = DIAG_SYN_UNANSWERED;
	else if (p->srtt_ns > 0 && ns <= 2 * p->srtt_ns)
		p->cause = DIAG_SLOW_PATH;
	else
		p->cause = DIAG_SLOW_PEER;
	p->end = established ? DIAG_END_NORMAL :
		 v->complete ? failed_handshake_end(v, c) : DIAG_END_STILL_OPEN;
	p->found = retrans || ns >= DIAG_REMARKABLE_NS ||
		   (t->handshake_ns >= 0 && ns >= t->handshake_ns);
	return ns;
}

void diagnosis_make(const struct tw_conn *c, const struct conn_verdict *v,
		    const struct diag_thresholds *t, struct diagnosis *d)
{
	*d = (struct diagnosis){ .close_ns = close_time(v) };
	d->handshake_ns = diagnose_handshake(c, v, t, &d->handshake);
	diagnose_close(c, v, t, &d->close, d->close_ns);
}

bool diagnosis_selected(const struct diagnosis *d, const struct diag_thresholds *t)
{
	if (t->close_ns < 0 && t->handshake_ns < 0)
		return true;
	return (t->close_ns >= 0 && d->close_ns >= t->close_ns) ||
	       (t->handshake_ns >= 0 && d->handshake_ns >= t->handshake_ns);
}

const char *diagnosis_cause_name(enum diag_cause cause)
{
	static const char *const names[] = {
		[DIAG_CAUSE_NONE] = NULL,
		[DIAG_LOCAL_APP_DID_NOT_CLOSE] = "local_app_did_not_close",
		[DIAG_PEER_DID_NOT_CLOSE] = "peer_did_not_close",
		[DIAG_FIN_RETRANSMITTED] = "fin_retransmitted",
		[DIAG_FIN_ACK_LATE] = "fin_ack_late",
		[DIAG_SYN_RETRANSMITTED] = "syn_retransmitted",
		[DIAG_SYN_UNANSWERED] = "syn_unanswered",
		[DIAG_SYNACK_RETRANSMITTED] = "synack_retransmitted",
		[DIAG_SLOW_PATH] = "slow_path",
		[DIAG_SLOW_PEER] = "slow_peer",
	};

	return (unsigned)cause < sizeof(names) / sizeof(names[0]) ? names[cause] : NULL;
}

/* ---- the sentence ---- */

/*
 * "4.200 s" from a second on, "0.250 ms" below: the unit a reader expects,
 * agreeing with the timeline beside it, which shows milliseconds cut to the
 * µs: below a second the same digits, from a second on those rounded to the
 * ms (1668.996 ms is 1.669 s).
 */
static void add_duration(struct strbuf *sb, int64_t ns)
{
	uint64_t u = ns > 0 ? (uint64_t)ns : 0;
	uint64_t ms = (u / 1000 + 500) / 1000;

	if (u >= 1000000000)
		strbuf_addf(sb, "%" PRIu64 ".%03" PRIu64 " s", ms / 1000, ms % 1000);
	else
		strbuf_addf(sb, "%" PRIu64 ".%03" PRIu64 " ms", u / 1000000, u / 1000 % 1000);
}

static void add_times(struct strbuf *sb, uint32_t n)
{
	if (n == 1)
		strbuf_adds(sb, "once");
	else
		strbuf_addf(sb, "%u times", n);
}

static void add_srtt(struct strbuf *sb, const struct diag_phase *p)
{
	if (p->srtt_ns <= 0)
		return;
	strbuf_adds(sb, " (srtt ");
	add_duration(sb, p->srtt_ns);
	strbuf_addc(sb, ')');
}

#define CLOSING_WORDS "both sides closed at once and the ACK of our FIN was late"
#define SYN_UNANSWERED_WORDS "our SYN went unanswered"

static void add_cause(struct strbuf *sb, const struct diag_phase *p)
{
	switch (p->cause) {
	case DIAG_LOCAL_APP_DID_NOT_CLOSE:
		strbuf_adds(sb, "the local application did not close() after the peer's FIN");
		break;
	case DIAG_PEER_DID_NOT_CLOSE:
		strbuf_adds(sb, "the peer did not close its side (half-closed)");
		break;
	case DIAG_FIN_RETRANSMITTED:
		if (p->state == TW_LAST_ACK)
			strbuf_adds(sb, "the final ACK did not arrive, FIN retransmitted ");
		else if (p->state == TW_CLOSING)
			strbuf_adds(sb, CLOSING_WORDS ", FIN retransmitted ");
		else
			strbuf_adds(sb, "our FIN went unacknowledged, retransmitted ");
		add_times(sb, p->retransmits);
		break;
	case DIAG_FIN_ACK_LATE:
		if (p->state == TW_CLOSING)
			strbuf_adds(sb, CLOSING_WORDS);
		else
			strbuf_adds(sb, p->state == TW_LAST_ACK ? "the final ACK was late"
								: "the ACK of our FIN was late");
		strbuf_adds(sb, ", with no FIN retransmitted (data still unacknowledged before "
				"it, or a slow peer)");
		break;
	case DIAG_SYN_RETRANSMITTED:
		strbuf_adds(sb, SYN_UNANSWERED_WORDS ", retransmitted ");
		add_times(sb, p->retransmits);
		break;
	case DIAG_SYN_UNANSWERED:
		strbuf_adds(sb, SYN_UNANSWERED_WORDS);
		break;
	case DIAG_SYNACK_RETRANSMITTED:
		strbuf_adds(sb, "the handshake's final ACK did not arrive, SYN-ACK retransmitted ");
		add_times(sb, p->retransmits);
		break;
	case DIAG_SLOW_PATH:
		strbuf_adds(sb, "no retransmission: the round trip itself is that slow");
		add_srtt(sb, p);
		break;
	case DIAG_SLOW_PEER:
		strbuf_adds(sb, p->state == TW_SYN_RECV ? "the handshake's final ACK came late"
							: "the peer answered late");
		strbuf_adds(sb, ", with no retransmission");
		add_srtt(sb, p);
		break;
	default:
		strbuf_addc(sb, '?');
	}
}

/*
 * The limit that ran out when the kernel gave up in this state:
 * tcp_write_timeout(), and tcp_fastopen_synack_timer() for a Fast Open
 * child, the only full socket that resends its SYN-ACK (in SYN_RECV, or in
 * FIN_WAIT1 once its application closed it). A socket option set on the socket
 * overrides the sysctl, and the record does not say whether one was set:
 * both are named.
 */
static const char *retry_limit(const struct diag_phase *p)
{
	if (p->state == TW_SYN_SENT)
		return "tcp_syn_retries or TCP_SYNCNT";
	if (p->state == TW_SYN_RECV || p->cause == DIAG_SYNACK_RETRANSMITTED)
		return "tcp_synack_retries or TCP_SYNCNT";
	return p->orphan ? "tcp_orphan_retries or TCP_USER_TIMEOUT" :
			   "tcp_retries2 or TCP_USER_TIMEOUT";
}

static void add_gave_up(struct strbuf *sb, const struct diag_phase *p)
{
	const char *err = errno_name(p->sk_err);

	strbuf_adds(sb, ", then the kernel gave up (");
	if (err)
		strbuf_adds(sb, err);
	else
		strbuf_addf(sb, "error %u", p->sk_err);
	strbuf_addf(sb, ", %s)", retry_limit(p));
}

static void add_end(struct strbuf *sb, const struct diag_phase *p)
{
	const char *reason;

	switch (p->end) {
	case DIAG_END_RESET_BY_PEER:
		strbuf_adds(sb, ", then the peer reset the connection");
		break;
	case DIAG_END_RESET_BY_US:
		strbuf_adds(sb, ", then we reset it");
		reason = rst_reason_name(p->reset_reason);
		if (reason)
			strbuf_addf(sb, " (%s)", reason);
		break;
	case DIAG_END_GAVE_UP:
		add_gave_up(sb, p);
		break;
	case DIAG_END_REFUSED:
		strbuf_adds(sb, ", then the peer refused the connection");
		break;
	case DIAG_END_APP_GAVE_UP:
		strbuf_adds(sb, ", then the application gave up");
		break;
	case DIAG_END_FIN_WAIT2_WAITING:
	case DIAG_END_FIN_WAIT2_STILL_WAITING:
		strbuf_adds(sb, ", then the kernel took the connection over, still waiting for the "
				"peer's FIN");
		if (p->end == DIAG_END_FIN_WAIT2_STILL_WAITING)
			strbuf_adds(sb, " when tracing ended");
		break;
	case DIAG_END_FIN_WAIT2_TIMEOUT:
		strbuf_adds(sb, ", then the kernel dropped the connection after tcp_fin_timeout");
		break;
	case DIAG_END_DATA_AFTER_CLOSE:
		strbuf_adds(sb, ", then the peer sent data after our close() and was reset");
		break;
	case DIAG_END_ABORTED_FIN_UNACKED:
		strbuf_adds(sb, ", then the application closed it before our FIN was acknowledged "
				"(no RST in this state)");
		break;
	case DIAG_END_STILL_OPEN:
		strbuf_adds(sb, ", and it was still open when tracing ended");
		break;
	default:
		break;
	}
}

void diagnosis_add_text(struct strbuf *sb, const struct diag_phase *p)
{
	strbuf_adds(sb, tcp_state_name(p->state));
	strbuf_addc(sb, ' ');
	add_duration(sb, p->ns);
	strbuf_adds(sb, ": ");
	add_cause(sb, p);
	add_end(sb, p);
}
