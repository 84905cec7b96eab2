// SPDX-License-Identifier: GPL-2.0
/*
 * diagnosis_make(): for every way the classifier knows a connection to open
 * and close, the state that took the time, how long, why, and the sentence.
 * Verdicts come from conn_classify(), so each diagnosis is checked against
 * what the rest of the record says.
 */
#include <errno.h>
#include "unit.h"
#include "conn.h"
#include "diagnosis.h"
#include "rst_reason.h"
#include "timeline.h"

static const struct conn_env env = { .time_wait_ns = 60000 * MS, .fin_timeout_ns = 60000 * MS };
static const struct diag_thresholds none = { .close_ns = -1, .handshake_ns = -1 };

static struct strbuf sb;

#define FIN_WAIT2_WORDS "the peer did not close its side (half-closed)"

static struct diagnosis diagnose_with(const struct tw_conn *c, const struct diag_thresholds *t)
{
	struct conn_verdict v;
	struct diagnosis d;

	conn_classify(c, &env, &v);
	diagnosis_make(c, &v, t, &d);
	return d;
}

static struct diagnosis diagnose(const struct tw_conn *c)
{
	return diagnose_with(c, &none);
}

/* A FIN_WAIT2 hand-over whose end the hold module learned. */
static struct diagnosis diagnose_ended(const struct tw_conn *c, enum conn_fin_wait2_end end,
				       int64_t end_ns)
{
	struct conn_verdict v;
	struct diagnosis d;

	conn_classify(c, &env, &v);
	conn_end_fin_wait2(&v, end, end_ns);
	diagnosis_make(c, &v, &none, &d);
	return d;
}

static const char *text(const struct diag_phase *p)
{
	strbuf_reset(&sb);
	diagnosis_add_text(&sb, p);
	return sb.data;
}

#define CHECK_PHASE(p, want_state, want_ns, want_cause, want_retrans)                              \
	do {                                                                                       \
		CHECK((p).found);                                                                  \
		CHECK_INT((p).state, want_state);                                                  \
		CHECK_INT((p).ns, want_ns);                                                        \
		CHECK_INT((p).cause, want_cause);                                                  \
		CHECK_INT((p).retransmits, want_retrans);                                          \
	} while (0)

/* An accepted connection whose peer closed first; ours closed cw_ms later. */
static struct tw_conn passive_close(__u64 cw_ms, __u64 last_ack_ms)
{
	struct tw_conn c = TIMELINE(TW_LISTEN, TW_CONN_ORPHAN | TW_CONN_PEER_FIN,
				    { TW_SYN_RECV, 0 }, { TW_ESTABLISHED, 1 * MS },
				    { TW_CLOSE_WAIT, 100 * MS },
				    { TW_LAST_ACK, (100 + cw_ms) * MS },
				    { TW_CLOSE, (100 + cw_ms + last_ack_ms) * MS });

	c.flags |= TW_CONN_HANDSHAKE_KNOWN;
	c.handshake_us = 50;
	c.srtt_us = 40;
	return c;
}

/* connect(), then our close() first, the peer's FIN fw2_ms after the ACK of ours. */
static struct tw_conn active_close(__u64 fw1_ms, __u64 fw2_ms)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_FIN_WAIT2, (10 + fw1_ms) * MS },
				    { TW_CLOSE, (10 + fw1_ms + fw2_ms) * MS });

	c.srtt_us = 400;
	return c;
}

/* An orphan handed over in FIN_WAIT2 at 10 + fw1_ms ms. */
static struct tw_conn orphan_handover(__u64 fw1_ms)
{
	struct tw_conn c = active_close(fw1_ms, 0);

	c.flags = (c.flags & ~TW_CONN_PEER_FIN) | TW_CONN_ORPHAN;
	return c;
}

/* ---- closes ---- */

TEST(test_diagnosis_close_wait_is_the_local_application)
{
	struct tw_conn c = passive_close(4200, 1);
	struct diagnosis d = diagnose(&c);

	CHECK_PHASE(d.close, TW_CLOSE_WAIT, 4200 * MS, DIAG_LOCAL_APP_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close.end, DIAG_END_NORMAL);
	CHECK_INT(d.close_ns, 4201 * MS);
	CHECK_STR(text(&d.close),
		  "CLOSE_WAIT 4.200 s: the local application did not close() after the peer's FIN");
	CHECK_STR(diagnosis_cause_name(d.close.cause), "local_app_did_not_close");
	CHECK(!d.handshake.found);
}

TEST(test_diagnosis_fin_wait2_is_the_peer_half_closed)
{
	struct tw_conn c = active_close(1, 3000);
	struct diagnosis d = diagnose(&c);

	CHECK_PHASE(d.close, TW_FIN_WAIT2, 3000 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
	CHECK_STR(text(&d.close), "FIN_WAIT2 3.000 s: " FIN_WAIT2_WORDS);
	CHECK_STR(diagnosis_cause_name(d.close.cause), "peer_did_not_close");
}

TEST(test_diagnosis_fin_wait1_with_retransmits_is_our_fin_unacknowledged)
{
	struct tw_conn c = active_close(1100, 1);
	struct diagnosis d;

	c.retrans[TW_RETRANS_FIN] = 3;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_FIN_WAIT1, 1100 * MS, DIAG_FIN_RETRANSMITTED, 3);
	CHECK_STR(text(&d.close),
		  "FIN_WAIT1 1.100 s: our FIN went unacknowledged, retransmitted 3 times");
	CHECK_STR(diagnosis_cause_name(d.close.cause), "fin_retransmitted");
}

TEST(test_diagnosis_fin_wait1_without_retransmits_is_a_late_ack)
{
	struct tw_conn c = active_close(300, 1);
	struct diagnosis d = diagnose(&c);

	CHECK_PHASE(d.close, TW_FIN_WAIT1, 300 * MS, DIAG_FIN_ACK_LATE, 0);
	CHECK_STR(text(&d.close), "FIN_WAIT1 300.000 ms: the ACK of our FIN was late, with no FIN "
				  "retransmitted (data still unacknowledged before it, or a slow "
				  "peer)");
	CHECK_STR(diagnosis_cause_name(d.close.cause), "fin_ack_late");
}

TEST(test_diagnosis_last_ack_with_retransmits_is_the_final_ack_missing)
{
	struct tw_conn c = passive_close(1, 1600);
	struct diagnosis d;

	c.retrans[TW_RETRANS_FIN] = 2;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_LAST_ACK, 1600 * MS, DIAG_FIN_RETRANSMITTED, 2);
	CHECK_STR(text(&d.close),
		  "LAST_ACK 1.600 s: the final ACK did not arrive, FIN retransmitted 2 times");

	c.retrans[TW_RETRANS_FIN] = 0;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_LAST_ACK, 1600 * MS, DIAG_FIN_ACK_LATE, 0);
	CHECK_STR(text(&d.close), "LAST_ACK 1.600 s: the final ACK was late, with no FIN "
				  "retransmitted (data still unacknowledged before it, or a slow "
				  "peer)");
}

TEST(test_diagnosis_closing_is_a_simultaneous_close_with_a_late_ack)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_CLOSING, 11 * MS }, { TW_CLOSE, 511 * MS });
	struct diagnosis d;

	c.retrans[TW_RETRANS_FIN] = 1;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_CLOSING, 500 * MS, DIAG_FIN_RETRANSMITTED, 1);
	CHECK_INT(d.close.end, DIAG_END_NORMAL);
	CHECK_STR(text(&d.close), "CLOSING 500.000 ms: both sides closed at once and the ACK of "
				  "our FIN was late, FIN retransmitted once");
	c.retrans[TW_RETRANS_FIN] = 0;
	d = diagnose(&c);
	CHECK_STR(text(&d.close), "CLOSING 500.000 ms: both sides closed at once and the ACK of "
				  "our FIN was late, with no FIN retransmitted (data still "
				  "unacknowledged before it, or a slow peer)");
}

TEST(test_diagnosis_orphan_whose_fin_retries_ran_out_names_tcp_orphan_retries)
{
	/* tcp_write_timeout(): SOCK_DEAD, so tcp_orphan_retries; tcp_write_err() sets ETIMEDOUT. */
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_CLOSE, 25610 * MS });
	struct diagnosis d;

	c.sk_err = ETIMEDOUT;
	c.retrans[TW_RETRANS_FIN] = 7;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_FIN_WAIT1, 25600 * MS, DIAG_FIN_RETRANSMITTED, 7);
	CHECK_INT(d.close.end, DIAG_END_GAVE_UP);
	CHECK_STR(text(&d.close), "FIN_WAIT1 25.600 s: our FIN went unacknowledged, retransmitted "
				  "7 times, then the kernel gave up (ETIMEDOUT, "
				  "tcp_orphan_retries or TCP_USER_TIMEOUT)");

	/* shutdown() and never close(): still the application's socket, tcp_retries2. */
	c.flags &= ~TW_CONN_ORPHAN;
	d = diagnose(&c);
	CHECK_STR(text(&d.close), "FIN_WAIT1 25.600 s: our FIN went unacknowledged, retransmitted "
				  "7 times, then the kernel gave up (ETIMEDOUT, tcp_retries2 or TCP_USER_TIMEOUT)");

	/* A soft error (an ICMP unreachable) is what tcp_write_err() reports instead. */
	c.sk_err = EHOSTUNREACH;
	d = diagnose(&c);
	CHECK_STR(text(&d.close), "FIN_WAIT1 25.600 s: our FIN went unacknowledged, retransmitted "
				  "7 times, then the kernel gave up (EHOSTUNREACH, tcp_retries2 or TCP_USER_TIMEOUT)");
	c.sk_err = 200;
	d = diagnose(&c);
	CHECK_STR(text(&d.close), "FIN_WAIT1 25.600 s: our FIN went unacknowledged, retransmitted "
				  "7 times, then the kernel gave up (error 200, tcp_retries2 or TCP_USER_TIMEOUT)");
}

TEST(test_diagnosis_last_ack_that_timed_out)
{
	struct tw_conn c = passive_close(2, 12000);
	struct diagnosis d;

	c.flags &= ~TW_CONN_PEER_FIN;
	c.sk_err = ETIMEDOUT;
	c.retrans[TW_RETRANS_FIN] = 6;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_LAST_ACK, 12000 * MS, DIAG_FIN_RETRANSMITTED, 6);
	CHECK_STR(text(&d.close), "LAST_ACK 12.000 s: the final ACK did not arrive, FIN "
				  "retransmitted 6 times, then the kernel gave up (ETIMEDOUT, "
				  "tcp_orphan_retries or TCP_USER_TIMEOUT)");
}

TEST(test_diagnosis_fin_wait1_ended_by_the_peers_reset)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_RESET_RECEIVED, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_CLOSE, 2010 * MS });
	struct diagnosis d;

	c.reset_state = TW_FIN_WAIT1;
	c.sk_err = ECONNRESET;
	c.retrans[TW_RETRANS_FIN] = 4;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_FIN_WAIT1, 2000 * MS, DIAG_FIN_RETRANSMITTED, 4);
	CHECK_INT(d.close.end, DIAG_END_RESET_BY_PEER);
	CHECK_STR(text(&d.close), "FIN_WAIT1 2.000 s: our FIN went unacknowledged, retransmitted "
				  "4 times, then the peer reset the connection");
}

TEST(test_diagnosis_close_wait_ended_by_our_reset_names_the_kernel_reason)
{
	/* close() with unread data: CLOSE_WAIT -> CLOSE, then the RST (a late one). */
	struct tw_conn c = TIMELINE(TW_LISTEN, TW_CONN_ORPHAN, { TW_SYN_RECV, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_CLOSE_WAIT, 10 * MS },
				    { TW_CLOSE, 3010 * MS });
	struct tw_reset r = { .type = TW_REC_RESET, .sent = 1, .reason = 11 };
	struct diagnosis d;

	conn_apply_late_reset(&c, &r);
	rst_reason_set(11, "TCP_ABORT_ON_CLOSE");
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_CLOSE_WAIT, 3000 * MS, DIAG_LOCAL_APP_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close.end, DIAG_END_RESET_BY_US);
	CHECK_STR(text(&d.close), "CLOSE_WAIT 3.000 s: the local application did not close() "
				  "after the peer's FIN, then we reset it (TCP_ABORT_ON_CLOSE)");
	rst_reason_set(11, NULL);
	CHECK_STR(text(&d.close), "CLOSE_WAIT 3.000 s: the local application did not close() "
				  "after the peer's FIN, then we reset it");
}

TEST(test_diagnosis_fin_wait2_that_the_kernel_reset_on_its_timer)
{
	/*
	 * tcp_fin_timeout over 60 s keeps an orphan in full FIN_WAIT2, until
	 * tcp_keepalive_timer() resets it.
	 */
	struct tw_conn c = orphan_handover(1);
	struct diagnosis d;

	c.step_ns[4] = 90011 * MS;
	c.flags |= TW_CONN_RESET_SENT | TW_CONN_RESET_SENT_FIRST;
	c.reset_state = TW_FIN_WAIT2;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_FIN_WAIT2, 90000 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close.end, DIAG_END_RESET_BY_US);
	CHECK_STR(text(&d.close), "FIN_WAIT2 90.000 s: the peer did not close its side "
				  "(half-closed), then we reset it");
}

TEST(test_diagnosis_orphan_still_waiting_says_the_kernel_took_over)
{
	struct tw_conn c = orphan_handover(1000);
	struct diagnosis d;

	c.retrans[TW_RETRANS_FIN] = 2;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_FIN_WAIT1, 1000 * MS, DIAG_FIN_RETRANSMITTED, 2);
	CHECK_INT(d.close.end, DIAG_END_FIN_WAIT2_WAITING);
	CHECK_STR(text(&d.close), "FIN_WAIT1 1.000 s: our FIN went unacknowledged, retransmitted "
				  "2 times, then the kernel took the connection over, still "
				  "waiting for the peer's FIN");

	/* A quick hand-over with its end unknown is nothing to report. */
	c = orphan_handover(1);
	d = diagnose(&c);
	CHECK(!d.close.found);
	CHECK_INT(d.close_ns, 1 * MS);
}

TEST(test_diagnosis_orphan_joined_with_its_peers_fin_counts_the_fin_wait2_time)
{
	/* FIN_WAIT2 from 11 ms (handed over at once); the peer's FIN at 1011 ms. */
	struct tw_conn c = orphan_handover(1);
	struct diagnosis d = diagnose_ended(&c, CONN_FW2_PEER_FIN, 1011 * MS);

	CHECK_PHASE(d.close, TW_FIN_WAIT2, 1000 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close.end, DIAG_END_NORMAL);
	CHECK_INT(d.close_ns, 1001 * MS);
	CHECK_STR(text(&d.close), "FIN_WAIT2 1.000 s: " FIN_WAIT2_WORDS);
}

TEST(test_diagnosis_orphan_joined_with_a_reset_says_who_reset)
{
	struct tw_conn c = orphan_handover(1);
	struct diagnosis d = diagnose_ended(&c, CONN_FW2_PEER_RESET, 2011 * MS);

	CHECK_PHASE(d.close, TW_FIN_WAIT2, 2000 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
	CHECK_STR(text(&d.close), "FIN_WAIT2 2.000 s: the peer did not close its side "
				  "(half-closed), then the peer reset the connection");
	d = diagnose_ended(&c, CONN_FW2_LOCAL_RESET, 2011 * MS);
	CHECK_INT(d.close.end, DIAG_END_DATA_AFTER_CLOSE);
	CHECK_STR(text(&d.close), "FIN_WAIT2 2.000 s: the peer did not close its side "
				  "(half-closed), then the peer sent data after our close() and "
				  "was reset");
}

TEST(test_diagnosis_orphan_whose_peer_never_closed_is_a_fin_wait2_timeout)
{
	struct tw_conn c = orphan_handover(1);
	struct diagnosis d = diagnose_ended(&c, CONN_FW2_TIMEOUT, (11 + 60000) * MS);

	CHECK_PHASE(d.close, TW_FIN_WAIT2, 60000 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close.end, DIAG_END_FIN_WAIT2_TIMEOUT);
	CHECK_INT(d.close_ns, 60001 * MS);
	CHECK_STR(text(&d.close), "FIN_WAIT2 60.000 s: the peer did not close its side "
				  "(half-closed), then the kernel dropped the connection after "
				  "tcp_fin_timeout");
}

TEST(test_diagnosis_quick_close_is_unremarkable_unless_asked_for)
{
	struct tw_conn c = active_close(1, 5);
	struct diag_thresholds slow = { .close_ns = 6 * MS, .handshake_ns = -1 };
	struct diagnosis d = diagnose(&c);

	CHECK(!d.close.found);
	CHECK(!d.handshake.found);
	CHECK_INT(d.close_ns, 6 * MS);
	/* --slow-close 6 selects it, so it is diagnosed all the same. */
	d = diagnose_with(&c, &slow);
	CHECK_PHASE(d.close, TW_FIN_WAIT2, 5 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
	slow.close_ns = 7 * MS;
	d = diagnose_with(&c, &slow);
	CHECK(!d.close.found);
}

TEST(test_diagnosis_remarkable_from_the_rto_minimum_on)
{
	struct tw_conn c = passive_close(199, 1);

	CHECK(!diagnose(&c).close.found);
	c = passive_close(200, 1);
	CHECK(diagnose(&c).close.found);
}

TEST(test_diagnosis_any_fin_retransmit_is_remarkable)
{
	struct tw_conn c = passive_close(1, 12);
	struct diagnosis d;

	c.retrans[TW_RETRANS_FIN] = 1;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_LAST_ACK, 12 * MS, DIAG_FIN_RETRANSMITTED, 1);
}

TEST(test_diagnosis_equal_states_blame_the_first)
{
	struct tw_conn c = active_close(500, 500);

	CHECK_INT(diagnose(&c).close.state, TW_FIN_WAIT1);
}

TEST(test_diagnosis_no_close_phase_no_close_diagnosis)
{
	/* Reset while established, refused, still open, close under way at start. */
	struct tw_conn reset = TIMELINE(TW_CLOSE, TW_CONN_RESET_RECEIVED, { TW_SYN_SENT, 0 },
					{ TW_ESTABLISHED, 1 * MS }, { TW_CLOSE, 5000 * MS });
	struct tw_conn open = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 },
				       { TW_ESTABLISHED, 1 * MS }, { TW_CLOSE_WAIT, 2 * MS });
	struct tw_conn midway = TIMELINE(TW_CLOSE_WAIT, 0, { TW_CLOSE_WAIT, 0 },
					 { TW_LAST_ACK, 5000 * MS }, { TW_CLOSE, 5001 * MS });
	const struct diag_thresholds all = { .close_ns = 0, .handshake_ns = -1 };

	reset.reset_state = TW_ESTABLISHED;
	CHECK(!diagnose_with(&reset, &all).close.found);
	CHECK_INT(diagnose(&reset).close_ns, -1);
	CHECK(!diagnose_with(&open, &all).close.found);
	CHECK(!diagnose_with(&midway, &all).close.found);
	CHECK_INT(diagnose(&midway).close_ns, -1);
}

TEST(test_diagnosis_truncated_timeline_blames_no_state_for_its_lost_steps)
{
	/* Steps were lost before the last slot: the gap to it is no one state's time. */
	struct tw_conn c = passive_close(300, 1);

	c.flags |= TW_CONN_TRUNCATED;
	c.step_ns[4] = 9000 * MS;
	CHECK_PHASE(diagnose(&c).close, TW_CLOSE_WAIT, 300 * MS, DIAG_LOCAL_APP_DID_NOT_CLOSE, 0);
}

TEST(test_diagnosis_last_ack_aborted_by_the_application_says_so)
{
	struct tw_conn c = passive_close(1, 2000);
	struct diagnosis d;

	c.flags |= TW_CONN_FIN_UNACKED;
	c.retrans[TW_RETRANS_FIN] = 3;
	d = diagnose(&c);
	CHECK_PHASE(d.close, TW_LAST_ACK, 2000 * MS, DIAG_FIN_RETRANSMITTED, 3);
	CHECK_INT(d.close.end, DIAG_END_ABORTED_FIN_UNACKED);
	CHECK_STR(text(&d.close), "LAST_ACK 2.000 s: the final ACK did not arrive, FIN "
				  "retransmitted 3 times, then the application closed it before "
				  "our FIN was acknowledged (no RST in this state)");
}

/* ---- handshakes ---- */

TEST(test_diagnosis_syn_retransmits_in_a_slow_connect)
{
	struct tw_conn c = active_close(1, 1);
	struct diagnosis d;

	c.step_ns[1] = 3000 * MS;
	c.step_ns[2] = 3010 * MS;
	c.step_ns[3] = 3011 * MS;
	c.step_ns[4] = 3012 * MS;
	c.retrans[TW_RETRANS_SYN] = 2;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_SENT, 3000 * MS, DIAG_SYN_RETRANSMITTED, 2);
	CHECK_INT(d.handshake.end, DIAG_END_NORMAL);
	CHECK_INT(d.handshake_ns, 3000 * MS);
	CHECK_STR(text(&d.handshake),
		  "SYN_SENT 3.000 s: our SYN went unanswered, retransmitted 2 times");
	CHECK_STR(diagnosis_cause_name(d.handshake.cause), "syn_retransmitted");
	CHECK(!d.close.found);
}

TEST(test_diagnosis_connect_that_timed_out_names_tcp_syn_retries)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, 0, { TW_SYN_SENT, 0 }, { TW_CLOSE, 3000 * MS });
	struct diagnosis d;

	c.sk_err = ETIMEDOUT;
	c.retrans[TW_RETRANS_SYN] = 2;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_SENT, 3000 * MS, DIAG_SYN_RETRANSMITTED, 2);
	CHECK_INT(d.handshake_ns, 3000 * MS);
	CHECK_STR(text(&d.handshake), "SYN_SENT 3.000 s: our SYN went unanswered, retransmitted "
				      "2 times, then the kernel gave up (ETIMEDOUT, "
				      "tcp_syn_retries or TCP_SYNCNT)");
}

TEST(test_diagnosis_connect_refused_after_retransmits)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_RESET_RECEIVED, { TW_SYN_SENT, 0 },
				    { TW_CLOSE, 1000 * MS });
	struct diagnosis d;

	c.reset_state = TW_SYN_SENT;
	c.sk_err = ECONNREFUSED;
	c.retrans[TW_RETRANS_SYN] = 1;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_SENT, 1000 * MS, DIAG_SYN_RETRANSMITTED, 1);
	CHECK_INT(d.handshake.end, DIAG_END_REFUSED);
	CHECK_STR(text(&d.handshake), "SYN_SENT 1.000 s: our SYN went unanswered, retransmitted "
				      "once, then the peer refused the connection");

	/* Refused at once: a fast answer, nothing to report. */
	c.retrans[TW_RETRANS_SYN] = 0;
	c.step_ns[1] = 80000;
	d = diagnose(&c);
	CHECK(!d.handshake.found);
	CHECK_INT(d.handshake_ns, 80000);

	/* Refused late, the first SYN answered: a RST is an answer. */
	c.step_ns[1] = 300 * MS;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_SENT, 300 * MS, DIAG_SLOW_PEER, 0);
}

TEST(test_diagnosis_connect_the_application_gave_up_on_went_unanswered)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_CLOSE, 2000 * MS });
	struct diagnosis d = diagnose(&c);

	CHECK_PHASE(d.handshake, TW_SYN_SENT, 2000 * MS, DIAG_SYN_UNANSWERED, 0);
	CHECK_INT(d.handshake.end, DIAG_END_APP_GAVE_UP);
	CHECK_STR(text(&d.handshake), "SYN_SENT 2.000 s: our SYN went unanswered, then the "
				      "application gave up");
	CHECK_STR(diagnosis_cause_name(d.handshake.cause), "syn_unanswered");
	/* However slow the round trip: no answer came to be slow. */
	c.srtt_us = 1500000;
	d = diagnose(&c);
	CHECK_INT(d.handshake.cause, DIAG_SYN_UNANSWERED);
}

TEST(test_diagnosis_synack_retransmits_in_a_slow_accept)
{
	struct tw_conn c = passive_close(1, 1);
	struct diagnosis d;

	c.handshake_us = 1200000; /* total_rto_time */
	c.retrans[TW_RETRANS_SYNACK] = 1;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_RECV, 1200 * MS, DIAG_SYNACK_RETRANSMITTED, 1);
	CHECK_STR(text(&d.handshake), "SYN_RECV 1.200 s: the handshake's final ACK did not "
				      "arrive, SYN-ACK retransmitted once");
	CHECK_STR(diagnosis_cause_name(d.handshake.cause), "synack_retransmitted");
}

/* A Fast Open child that answered and closed at 2 ms; the final ACK came at fw1_ms. */
static struct tw_conn fast_open_closed_in_handshake(__u64 fw1_ms, __u32 synacks_again)
{
	struct tw_conn c = TIMELINE(TW_LISTEN, TW_CONN_PEER_FIN | TW_CONN_ORPHAN | TW_CONN_FAST_OPEN,
				    { TW_SYN_RECV, 0 }, { TW_FIN_WAIT1, 2 * MS },
				    { TW_FIN_WAIT2, (2 + fw1_ms) * MS },
				    { TW_CLOSE, (2 + fw1_ms) * MS + 10000 });

	c.retrans[TW_RETRANS_SYNACK] = synacks_again;
	c.srtt_us = 40;
	return c;
}

TEST(test_diagnosis_fast_open_child_closed_before_the_final_ack_waits_in_fin_wait1)
{
	struct tw_conn c = fast_open_closed_in_handshake(3000, 2);
	struct diagnosis d = diagnose(&c);

	/* Its handshake did not fail: it was answered and closed. */
	CHECK(!d.handshake.found);
	CHECK_INT(d.handshake_ns, -1);
	CHECK_PHASE(d.close, TW_FIN_WAIT1, 3000 * MS, DIAG_SYNACK_RETRANSMITTED, 2);
	CHECK_INT(d.close.end, DIAG_END_NORMAL);
	CHECK_STR(text(&d.close), "FIN_WAIT1 3.000 s: the handshake's final ACK did not arrive, "
				  "SYN-ACK retransmitted 2 times");
}

TEST(test_diagnosis_fast_open_child_whose_final_ack_never_came_names_tcp_synack_retries)
{
	struct tw_conn c = fast_open_closed_in_handshake(0, 6);
	struct diagnosis d;

	/* tcp_fastopen_synack_timer() gave up while our FIN waited behind the handshake. */
	c.flags &= ~TW_CONN_PEER_FIN;
	c.nsteps = 3;
	c.step_state[2] = TW_CLOSE;
	c.step_ns[2] = 127002 * MS;
	c.sk_err = ETIMEDOUT;
	d = diagnose(&c);
	CHECK(!d.handshake.found);
	CHECK_PHASE(d.close, TW_FIN_WAIT1, 127000 * MS, DIAG_SYNACK_RETRANSMITTED, 6);
	CHECK_STR(text(&d.close), "FIN_WAIT1 127.000 s: the handshake's final ACK did not arrive, "
				  "SYN-ACK retransmitted 6 times, then the kernel gave up "
				  "(ETIMEDOUT, tcp_synack_retries or TCP_SYNCNT)");
}

TEST(test_diagnosis_fast_open_child_with_a_fin_retransmit_blames_the_fin)
{
	/* Once the handshake ended, the FIN was what went again. */
	struct tw_conn c = fast_open_closed_in_handshake(700, 1);

	c.retrans[TW_RETRANS_FIN] = 1;
	CHECK_PHASE(diagnose(&c).close, TW_FIN_WAIT1, 700 * MS, DIAG_FIN_RETRANSMITTED, 1);
}

TEST(test_diagnosis_fast_open_child_whose_synack_retries_ran_out)
{
	/* TCP Fast Open makes the child at the SYN: a full socket in SYN_RECV. */
	struct tw_conn c = TIMELINE(TW_LISTEN, 0, { TW_SYN_RECV, 0 }, { TW_CLOSE, 63000 * MS });
	struct diagnosis d;

	c.sk_err = ETIMEDOUT;
	c.retrans[TW_RETRANS_SYNACK] = 5;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_RECV, 63000 * MS, DIAG_SYNACK_RETRANSMITTED, 5);
	CHECK_STR(text(&d.handshake), "SYN_RECV 63.000 s: the handshake's final ACK did not "
				      "arrive, SYN-ACK retransmitted 5 times, then the kernel gave "
				      "up (ETIMEDOUT, tcp_synack_retries or TCP_SYNCNT)");
}

TEST(test_diagnosis_slow_handshake_without_retransmits_against_the_rtt)
{
	struct tw_conn c = active_close(1, 1);
	struct diagnosis d;

	c.step_ns[1] = 300 * MS;
	c.step_ns[2] = 310 * MS;
	c.step_ns[3] = 311 * MS;
	c.step_ns[4] = 312 * MS;
	/* Every round trip is that slow: the path. */
	c.srtt_us = 250000;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_SENT, 300 * MS, DIAG_SLOW_PATH, 0);
	CHECK_STR(text(&d.handshake), "SYN_SENT 300.000 ms: no retransmission: the round trip "
				      "itself is that slow (srtt 250.000 ms)");
	CHECK_STR(diagnosis_cause_name(d.handshake.cause), "slow_path");
	/* Round trips take 1 ms: the peer took its time to answer. */
	c.srtt_us = 1000;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_SENT, 300 * MS, DIAG_SLOW_PEER, 0);
	CHECK_STR(text(&d.handshake), "SYN_SENT 300.000 ms: the peer answered late, with no "
				      "retransmission (srtt 1.000 ms)");
	CHECK_STR(diagnosis_cause_name(d.handshake.cause), "slow_peer");
	/* No round trip known: no comparison. */
	c.flags &= ~TW_CONN_COUNTERS_KNOWN;
	d = diagnose(&c);
	CHECK_STR(text(&d.handshake),
		  "SYN_SENT 300.000 ms: the peer answered late, with no retransmission");
}

TEST(test_diagnosis_slow_accept_without_retransmits)
{
	struct tw_conn c = passive_close(1, 1);
	struct diagnosis d;

	c.handshake_us = 300000;
	c.srtt_us = 10;
	d = diagnose(&c);
	CHECK_PHASE(d.handshake, TW_SYN_RECV, 300 * MS, DIAG_SLOW_PEER, 0);
	CHECK_STR(text(&d.handshake), "SYN_RECV 300.000 ms: the handshake's final ACK came late, "
				      "with no retransmission (srtt 0.010 ms)");
}

TEST(test_diagnosis_handshake_ended_well_even_if_the_connection_was_reset_later)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_RESET_RECEIVED, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 2000 * MS }, { TW_CLOSE, 2001 * MS });
	struct diagnosis d;

	c.reset_state = TW_ESTABLISHED;
	c.retrans[TW_RETRANS_SYN] = 1;
	d = diagnose(&c);
	CHECK_INT(d.handshake.end, DIAG_END_NORMAL);
	CHECK_STR(text(&d.handshake),
		  "SYN_SENT 2.000 s: our SYN went unanswered, retransmitted once");
}

TEST(test_diagnosis_no_handshake_seen_no_handshake_diagnosis)
{
	struct tw_conn c = TIMELINE(TW_ESTABLISHED, 0, { TW_ESTABLISHED, 0 },
				    { TW_FIN_WAIT1, 0 }, { TW_FIN_WAIT2, 1 * MS },
				    { TW_CLOSE, 2 * MS });
	const struct diag_thresholds all = { .close_ns = -1, .handshake_ns = 0 };
	struct diagnosis d = diagnose_with(&c, &all);

	CHECK(!d.handshake.found);
	CHECK_INT(d.handshake_ns, -1);
	CHECK(!diagnosis_selected(&d, &all));
}

/* ---- connections still open when tracing ended ---- */

#define TRACING_STARTED_NS (1000 * MS) /* the records' start_ns */

/* Diagnosed as printed at exit: open until end_ms after its first step. */
static struct diagnosis diagnose_open_until(struct tw_conn *c, const struct diag_thresholds *t,
					    __u64 end_ms)
{
	struct conn_verdict v;
	struct diagnosis d;

	c->start_ns = TRACING_STARTED_NS;
	conn_classify(c, &env, &v);
	conn_open_until(&v, c, TRACING_STARTED_NS + end_ms * MS);
	diagnosis_make(c, &v, t, &d);
	return d;
}

/* A phase still under way: CHECK_PHASE's, ended by the end of tracing. */
#define CHECK_STILL_OPEN_PHASE(p, want_state, want_ns, want_cause, want_retrans)                   \
	do {                                                                                       \
		CHECK_PHASE(p, want_state, want_ns, want_cause, want_retrans);                     \
		CHECK_INT((p).end, DIAG_END_STILL_OPEN);                                           \
	} while (0)

TEST(test_diagnosis_connect_still_retrying_its_syn_at_exit)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 });
	struct diagnosis d;

	c.retrans[TW_RETRANS_SYN] = 2;
	d = diagnose_open_until(&c, &none, 3000);
	CHECK_STILL_OPEN_PHASE(d.handshake, TW_SYN_SENT, 3000 * MS, DIAG_SYN_RETRANSMITTED, 2);
	CHECK_INT(d.handshake_ns, 3000 * MS);
	CHECK_STR(text(&d.handshake), "SYN_SENT 3.000 s: our SYN went unanswered, retransmitted "
				      "2 times, and it was still open when tracing ended");
	CHECK(!d.close.found);
	CHECK_INT(d.close_ns, -1);
}

TEST(test_diagnosis_connect_not_yet_answered_at_exit)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 });
	struct diagnosis d = diagnose_open_until(&c, &none, 300);

	CHECK_STILL_OPEN_PHASE(d.handshake, TW_SYN_SENT, 300 * MS, DIAG_SYN_UNANSWERED, 0);
	CHECK_STR(text(&d.handshake), "SYN_SENT 300.000 ms: our SYN went unanswered, and it "
				      "was still open when tracing ended");
}

TEST(test_diagnosis_close_wait_still_waiting_for_the_application_at_exit)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_OPEN | TW_CONN_PEER_FIN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_CLOSE_WAIT, 2 * MS });
	struct diag_thresholds t = none;
	struct diagnosis d = diagnose_open_until(&c, &t, 5002);

	CHECK_STILL_OPEN_PHASE(d.close, TW_CLOSE_WAIT, 5000 * MS, DIAG_LOCAL_APP_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close_ns, 5000 * MS);
	CHECK_STR(text(&d.close), "CLOSE_WAIT 5.000 s: the local application did not close() "
				  "after the peer's FIN, and it was still open when tracing ended");
	CHECK(!d.handshake.found);
	CHECK_INT(d.handshake_ns, 1 * MS);
	/* --slow-close takes it by how long its close had lasted. */
	t.close_ns = 5000 * MS;
	CHECK(diagnosis_selected(&d, &t));
	t.close_ns = 5001 * MS;
	CHECK(!diagnosis_selected(&d, &t));
	/* Quickly after the peer's FIN: nothing remarkable yet. */
	d = diagnose_open_until(&c, &none, 52);
	CHECK(!d.close.found);
	CHECK_INT(d.close_ns, 50 * MS);
}

TEST(test_diagnosis_longest_close_state_of_an_open_connection_may_be_an_earlier_one)
{
	/* FIN_WAIT1 for 2 s (FIN retransmitted), then FIN_WAIT2 for 1 s so far. */
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_FIN_WAIT2, 2010 * MS });
	struct diagnosis d;

	c.retrans[TW_RETRANS_FIN] = 3;
	d = diagnose_open_until(&c, &none, 3010);
	CHECK_STILL_OPEN_PHASE(d.close, TW_FIN_WAIT1, 2000 * MS, DIAG_FIN_RETRANSMITTED, 3);
	CHECK_INT(d.close_ns, 3000 * MS);
	/* A longer wait for the peer's FIN wins. */
	d = diagnose_open_until(&c, &none, 6010);
	CHECK_STILL_OPEN_PHASE(d.close, TW_FIN_WAIT2, 4000 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
}

TEST(test_diagnosis_orphan_still_waiting_when_tracing_ended_counts_its_fin_wait2_so_far)
{
	/* FIN_WAIT2 from 11 ms, handed over at once; tracing ended at 3011 ms. */
	struct tw_conn c = orphan_handover(1);
	struct diag_thresholds t = none;
	struct diagnosis d = diagnose_open_until(&c, &t, 3011);

	CHECK_PHASE(d.close, TW_FIN_WAIT2, 3000 * MS, DIAG_PEER_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close.end, DIAG_END_FIN_WAIT2_STILL_WAITING);
	CHECK_INT(d.close_ns, 3001 * MS);
	CHECK_STR(text(&d.close), "FIN_WAIT2 3.000 s: " FIN_WAIT2_WORDS ", then the kernel took "
				  "the connection over, still waiting for the peer's FIN when "
				  "tracing ended");
	t.close_ns = 3001 * MS;
	CHECK(diagnosis_selected(&d, &t));
}

TEST(test_diagnosis_open_connection_not_closing_has_no_close_diagnosis)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS });
	const struct diag_thresholds all = { .close_ns = 0, .handshake_ns = -1 };
	struct diagnosis d = diagnose_open_until(&c, &all, 9000);

	CHECK(!d.close.found);
	CHECK_INT(d.close_ns, -1);
	CHECK(!d.handshake.found);
	CHECK_INT(d.handshake_ns, 1 * MS);
}

TEST(test_diagnosis_open_until_before_the_last_step_measures_nothing)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_CLOSE_WAIT, 2000 * MS });
	struct diagnosis d = diagnose_open_until(&c, &none, 1000);

	CHECK(!d.close.found);
	CHECK_INT(d.close_ns, -1);
}

TEST(test_diagnosis_finished_connection_ignores_the_end_of_tracing)
{
	struct tw_conn c = passive_close(4200, 1);
	struct diagnosis d = diagnose_open_until(&c, &none, 99000);

	CHECK_PHASE(d.close, TW_CLOSE_WAIT, 4200 * MS, DIAG_LOCAL_APP_DID_NOT_CLOSE, 0);
	CHECK_INT(d.close.end, DIAG_END_NORMAL);
	CHECK_INT(d.close_ns, 4201 * MS);
}

/* ---- selection ---- */

TEST(test_diagnosis_selection_is_either_threshold)
{
	struct tw_conn slow_close = passive_close(1500, 1), slow_hs = passive_close(1, 1),
		       neither = passive_close(1, 1);
	struct diag_thresholds t = none;
	struct diagnosis a, b, n;

	slow_hs.handshake_us = 2000000;
	a = diagnose(&slow_close);
	b = diagnose(&slow_hs);
	n = diagnose(&neither);
	/* No threshold: everything. */
	CHECK(diagnosis_selected(&a, &t) && diagnosis_selected(&b, &t) &&
	      diagnosis_selected(&n, &t));
	t.close_ns = 1000 * MS;
	CHECK(diagnosis_selected(&a, &t));
	CHECK(!diagnosis_selected(&b, &t));
	CHECK(!diagnosis_selected(&n, &t));
	t.handshake_ns = 1000 * MS;
	CHECK(diagnosis_selected(&a, &t));
	CHECK(diagnosis_selected(&b, &t));
	CHECK(!diagnosis_selected(&n, &t));
	t.close_ns = -1;
	CHECK(!diagnosis_selected(&a, &t));
	CHECK(diagnosis_selected(&b, &t));
	/* The threshold is inclusive: "at least MS". */
	t.close_ns = a.close_ns;
	t.handshake_ns = -1;
	CHECK(diagnosis_selected(&a, &t));
	t.close_ns = a.close_ns + 1;
	CHECK(!diagnosis_selected(&a, &t));
}

/* ---- the sentence's time ---- */

#define LOCAL_APP_WORDS "the local application did not close() after the peer's FIN"

/* The sentence of a close whose CLOSE_WAIT, its longest state, lasted cw_ns. */
static const char *close_wait_text(__u64 cw_ns)
{
	struct tw_conn c = passive_close(1, 1);
	struct diagnosis d;

	c.step_ns[3] = c.step_ns[2] + cw_ns;
	c.step_ns[4] = c.step_ns[3] + 1 * MS;
	d = diagnose(&c);
	return text(&d.close);
}

TEST(test_diagnosis_time_rounds_to_the_last_digit_shown)
{
	struct tw_conn last_ack = passive_close(1, 1);
	struct tw_conn syn_sent = active_close(1, 1);
	struct diagnosis d;

	/* The timeline shows this LAST_ACK as 1668.996 ms. */
	last_ack.step_ns[4] = last_ack.step_ns[3] + 1668996000;
	d = diagnose(&last_ack);
	CHECK_PHASE(d.close, TW_LAST_ACK, 1668996000, DIAG_FIN_ACK_LATE, 0);
	CHECK_STR(text(&d.close), "LAST_ACK 1.669 s: the final ACK was late, with no FIN "
				  "retransmitted (data still unacknowledged before it, or a slow "
				  "peer)");

	syn_sent.step_ns[1] = 1005670000;
	syn_sent.step_ns[2] = syn_sent.step_ns[1] + 1 * MS;
	syn_sent.step_ns[3] = syn_sent.step_ns[2] + 1 * MS;
	syn_sent.step_ns[4] = syn_sent.step_ns[3] + 1 * MS;
	syn_sent.retrans[TW_RETRANS_SYN] = 1;
	d = diagnose(&syn_sent);
	CHECK_PHASE(d.handshake, TW_SYN_SENT, 1005670000, DIAG_SYN_RETRANSMITTED, 1);
	CHECK_STR(text(&d.handshake),
		  "SYN_SENT 1.006 s: our SYN went unanswered, retransmitted once");

	/* Seconds: the timeline's µs rounded to the ms, half a ms up. */
	CHECK_STR(close_wait_text(1999500000), "CLOSE_WAIT 2.000 s: " LOCAL_APP_WORDS);
	CHECK_STR(close_wait_text(1999499999), "CLOSE_WAIT 1.999 s: " LOCAL_APP_WORDS);
	CHECK_STR(close_wait_text(1000000000), "CLOSE_WAIT 1.000 s: " LOCAL_APP_WORDS);
}

TEST(test_diagnosis_time_under_a_second_is_the_timelines_to_the_us)
{
	/* The timeline cuts to the µs (format_ms()): the same digits here. */
	CHECK_STR(close_wait_text(300000999), "CLOSE_WAIT 300.000 ms: " LOCAL_APP_WORDS);
	CHECK_STR(close_wait_text(300001000), "CLOSE_WAIT 300.001 ms: " LOCAL_APP_WORDS);
	CHECK_STR(close_wait_text(999999999), "CLOSE_WAIT 999.999 ms: " LOCAL_APP_WORDS);
}

TEST(test_diagnosis_cause_names)
{
	CHECK(diagnosis_cause_name(DIAG_CAUSE_NONE) == NULL);
	CHECK(diagnosis_cause_name((enum diag_cause)99) == NULL);
}
