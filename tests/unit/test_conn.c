// SPDX-License-Identifier: GPL-2.0
/* conn_classify(): synthetic timelines for every way a connection opens and closes. */
#include <errno.h>
#include "unit.h"
#include "conn.h"
#include "timeline.h"

static const struct conn_env env = { .time_wait_ns = 60000 * MS, .fin_timeout_ns = 30000 * MS };

static struct conn_verdict classify(const struct tw_conn *c)
{
	struct conn_verdict v;

	conn_classify(c, &env, &v);
	return v;
}

static struct tw_conn active_close_client(void)
{
	return TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN | TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
			{ TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 100 * MS },
			{ TW_FIN_WAIT2, 101 * MS }, { TW_CLOSE, 150 * MS });
}

TEST(test_conn_active_close_hands_over_to_time_wait)
{
	struct tw_conn c = active_close_client();
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.open, CONN_OPEN_ACTIVE);
	CHECK_INT(v.close, CONN_CLOSE_ACTIVE);
	CHECK_INT(v.reset_by, CONN_RESET_NONE);
	CHECK_INT(v.end, CONN_END_TIME_WAIT);
	CHECK(v.complete);
	CHECK(!v.tw_overflow);
	CHECK_INT(v.handshake_ns, 1 * MS);
	CHECK_INT(v.lifetime_ns, 150 * MS);
	CHECK_INT(v.close_start_ns, 100 * MS);
	CHECK_INT(v.close_ns, 50 * MS);
	CHECK_INT(v.handover_hold_ns, 60000 * MS);
	CHECK_INT(v.steps[0], STEP_SYN_SENT);
	CHECK_INT(v.steps[1], STEP_SYNACK_RECEIVED);
	CHECK_INT(v.steps[2], STEP_FIN_SENT);
	CHECK_INT(v.steps[3], STEP_FIN_ACKED);
	CHECK_INT(v.steps[4], STEP_TIME_WAIT);
	CHECK_STR(conn_handover_name(v.end), "TIME_WAIT");
}

TEST(test_conn_passive_close_ends_at_final_ack)
{
	struct tw_conn c = TIMELINE(TW_LISTEN, TW_CONN_ORPHAN | TW_CONN_HANDSHAKE_KNOWN,
				    { TW_SYN_RECV, 0 }, { TW_ESTABLISHED, 500000 },
				    { TW_CLOSE_WAIT, 100 * MS }, { TW_LAST_ACK, 300 * MS },
				    { TW_CLOSE, 301 * MS });
	struct conn_verdict v;

	c.handshake_us = 500;
	v = classify(&c);
	CHECK_INT(v.open, CONN_OPEN_PASSIVE);
	CHECK_INT(v.close, CONN_CLOSE_PASSIVE);
	CHECK_INT(v.end, CONN_END_CLOSED);
	CHECK_INT(v.handshake_ns, 500000);
	CHECK_INT(v.close_ns, 201 * MS);
	CHECK_INT(v.handover_hold_ns, -1);
	CHECK_INT(v.steps[0], STEP_SYN_RECEIVED);
	CHECK_INT(v.steps[1], STEP_ACK_RECEIVED);
	CHECK_INT(v.steps[2], STEP_PEER_FIN);
	CHECK_INT(v.steps[3], STEP_LAST_FIN_SENT);
	CHECK_INT(v.steps[4], STEP_FINAL_ACK);
	CHECK(conn_handover_name(v.end) == NULL);
}

TEST(test_conn_fin_wait1_straight_to_time_wait_when_fin_and_ack_arrive_together)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_CLOSE, 11 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.close, CONN_CLOSE_ACTIVE);
	CHECK_INT(v.end, CONN_END_TIME_WAIT);
	CHECK_INT(v.close_ns, 1 * MS);
	CHECK_INT(v.steps[3], STEP_TIME_WAIT);
}

TEST(test_conn_simultaneous_close_goes_through_closing_to_time_wait)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_CLOSING, 210 * MS }, { TW_CLOSE, 420 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.close, CONN_CLOSE_SIMULTANEOUS);
	CHECK_INT(v.end, CONN_END_TIME_WAIT);
	CHECK_INT(v.close_ns, 410 * MS);
	CHECK_INT(v.steps[3], STEP_FINS_CROSSED);
	CHECK_STR(conn_close_name(v.close), "simultaneous");
}

TEST(test_conn_abort_in_closing_or_last_ack_is_no_final_ack_nor_time_wait)
{
	/* SO_LINGER 0 with our FIN unacknowledged: tcp_disconnect() sends no RST there. */
	struct tw_conn closing = TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN | TW_CONN_FIN_UNACKED,
					  { TW_SYN_SENT, 0 }, { TW_ESTABLISHED, 1 * MS },
					  { TW_FIN_WAIT1, 10 * MS }, { TW_CLOSING, 20 * MS },
					  { TW_CLOSE, 30 * MS });
	struct tw_conn last_ack = TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN | TW_CONN_FIN_UNACKED,
					   { TW_SYN_SENT, 0 }, { TW_ESTABLISHED, 1 * MS },
					   { TW_CLOSE_WAIT, 10 * MS }, { TW_LAST_ACK, 20 * MS },
					   { TW_CLOSE, 30 * MS });
	struct conn_verdict v;

	closing.tx_bytes = 3; /* the SYN and two bytes: no FIN was acknowledged */
	v = classify(&closing);
	CHECK_INT(v.close, CONN_CLOSE_SIMULTANEOUS);
	CHECK_INT(v.reset_by, CONN_RESET_NONE);
	CHECK_INT(v.end, CONN_END_CLOSED);
	CHECK_INT(v.steps[4], STEP_ABORTED_FIN_UNACKED);
	CHECK_INT(v.tx_bytes, 2);
	v = classify(&last_ack);
	CHECK_INT(v.close, CONN_CLOSE_PASSIVE);
	CHECK_INT(v.end, CONN_END_CLOSED);
	CHECK_INT(v.steps[4], STEP_ABORTED_FIN_UNACKED);
}

/* A RST sent (or received) in each state a connection can be reset in. */
TEST(test_conn_reset_in_each_state_names_who_reset)
{
	static const __u8 states[] = { TW_SYN_RECV, TW_ESTABLISHED, TW_CLOSE_WAIT, TW_FIN_WAIT1,
				       TW_FIN_WAIT2, TW_LAST_ACK, TW_CLOSING };
	unsigned i, sent;

	for (i = 0; i < sizeof(states); i++) {
		for (sent = 0; sent < 2; sent++) {
			struct tw_conn c = TIMELINE(TW_LISTEN, 0, { TW_SYN_RECV, 0 },
						    { states[i], 5 * MS }, { TW_CLOSE, 9 * MS });
			struct conn_verdict v;

			if (states[i] == TW_SYN_RECV)
				c.nsteps = 2, c.step_state[1] = TW_CLOSE;
			c.flags |= sent ? TW_CONN_RESET_SENT | TW_CONN_RESET_SENT_FIRST :
					  TW_CONN_RESET_RECEIVED;
			c.flags |= TW_CONN_PEER_FIN; /* a RST overrides any hand-over */
			c.reset_state = states[i];
			v = classify(&c);
			CHECK_INT(v.close, CONN_CLOSE_RESET);
			CHECK_INT(v.reset_by, sent ? CONN_RESET_LOCAL : CONN_RESET_PEER);
			CHECK_INT(v.end, CONN_END_CLOSED);
			CHECK_INT(v.steps[c.nsteps - 1], sent ? STEP_RESET_SENT : STEP_RESET_RECEIVED);
			CHECK_STR(conn_reset_by_name(v.reset_by), sent ? "local" : "peer");
		}
	}
}

TEST(test_conn_both_resets_name_the_first)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_RESET_SENT | TW_CONN_RESET_RECEIVED,
				    { TW_SYN_SENT, 0 }, { TW_ESTABLISHED, 1 * MS },
				    { TW_CLOSE, 5 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.reset_by, CONN_RESET_PEER);
	c.flags |= TW_CONN_RESET_SENT_FIRST;
	v = classify(&c);
	CHECK_INT(v.reset_by, CONN_RESET_LOCAL);
}

TEST(test_conn_refused_connect_is_a_peer_rst_in_syn_sent)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_RESET_RECEIVED, { TW_SYN_SENT, 0 },
				    { TW_CLOSE, 80000 });
	struct conn_verdict v;

	c.reset_state = TW_SYN_SENT;
	c.sk_err = ECONNREFUSED;
	v = classify(&c);
	CHECK_INT(v.open, CONN_OPEN_ACTIVE);
	CHECK_INT(v.close, CONN_CLOSE_REFUSED);
	CHECK_INT(v.reset_by, CONN_RESET_PEER);
	CHECK_INT(v.handshake_ns, -1);
	CHECK_INT(v.close_ns, -1);
	CHECK_INT(v.lifetime_ns, 80000);
	CHECK_INT(v.steps[1], STEP_REFUSED);
	CHECK_STR(conn_close_name(v.close), "refused");
}

TEST(test_conn_icmp_port_unreachable_is_refused_too)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, 0, { TW_SYN_SENT, 0 }, { TW_CLOSE, 1 * MS });
	struct conn_verdict v;

	c.sk_err = ECONNREFUSED;
	v = classify(&c);
	CHECK_INT(v.close, CONN_CLOSE_REFUSED);
	CHECK_INT(v.steps[1], STEP_REFUSED);
}

TEST(test_conn_syn_timeout_is_a_timeout)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, 0, { TW_SYN_SENT, 0 }, { TW_CLOSE, 3000 * MS });
	struct conn_verdict v;

	c.sk_err = ETIMEDOUT;
	c.retrans[TW_RETRANS_SYN] = 1;
	v = classify(&c);
	CHECK_INT(v.close, CONN_CLOSE_TIMEOUT);
	CHECK_INT(v.end, CONN_END_CLOSED);
	CHECK_INT(v.handshake_ns, -1);
	CHECK_INT(v.steps[1], STEP_TIMEOUT);
}

TEST(test_conn_application_giving_up_on_connect_is_a_timeout_it_abandoned)
{
	/* A non-blocking connect() closed by its application: no error, no RST. */
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_CLOSE, 2000 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.close, CONN_CLOSE_TIMEOUT);
	CHECK_INT(v.steps[1], STEP_CONNECT_ABANDONED);
}

TEST(test_conn_fast_open_child_closed_before_the_final_ack_did_not_fail)
{
	/* Made at the SYN, it answered and closed; the final ACK came with the ACK of our FIN. */
	struct tw_conn c = TIMELINE(TW_LISTEN, TW_CONN_PEER_FIN | TW_CONN_ORPHAN | TW_CONN_FAST_OPEN,
				    { TW_SYN_RECV, 0 }, { TW_FIN_WAIT1, 2 * MS },
				    { TW_FIN_WAIT2, 2500 * MS }, { TW_CLOSE, 2501 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.open, CONN_OPEN_PASSIVE);
	CHECK_INT(v.close, CONN_CLOSE_ACTIVE);
	CHECK_INT(v.end, CONN_END_TIME_WAIT);
	CHECK_INT(v.handshake_ns, -1);
	CHECK_INT(v.close_ns, 2499 * MS);
	CHECK_INT(v.steps[0], STEP_FAST_OPEN_SYN_RECEIVED);
	CHECK_INT(v.steps[1], STEP_FIN_SENT_IN_HANDSHAKE);
	CHECK_INT(v.steps[2], STEP_FIN_ACKED);
	CHECK(conn_fin_sent_in_handshake(&c));
}

TEST(test_conn_fast_open_handshakes_say_so_on_both_ends)
{
	struct tw_conn child = TIMELINE(TW_LISTEN, TW_CONN_FAST_OPEN, { TW_SYN_RECV, 0 },
					{ TW_ESTABLISHED, 80000 }, { TW_CLOSE_WAIT, 5 * MS },
					{ TW_LAST_ACK, 6 * MS }, { TW_CLOSE, 7 * MS });
	struct tw_conn client = active_close_client();
	struct conn_verdict v = classify(&child);

	/* The child began at the SYN: its handshake is its own SYN_RECV. */
	CHECK_INT(v.handshake_ns, 80000);
	CHECK_INT(v.steps[0], STEP_FAST_OPEN_SYN_RECEIVED);
	CHECK_INT(v.steps[1], STEP_ACK_RECEIVED);
	CHECK(!conn_fin_sent_in_handshake(&child));
	client.flags |= TW_CONN_FAST_OPEN;
	CHECK_INT(classify(&client).steps[1], STEP_FAST_OPEN_SYNACK_RECEIVED);
}

TEST(test_conn_already_open_when_tracing_began)
{
	struct tw_conn c = TIMELINE(TW_ESTABLISHED, TW_CONN_PEER_FIN, { TW_ESTABLISHED, 0 },
				    { TW_FIN_WAIT1, 0 }, { TW_FIN_WAIT2, 2 * MS },
				    { TW_CLOSE, 7 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.open, CONN_OPEN_UNKNOWN);
	CHECK_INT(v.close, CONN_CLOSE_ACTIVE);
	CHECK_INT(v.end, CONN_END_TIME_WAIT);
	CHECK_INT(v.handshake_ns, -1);
	CHECK_INT(v.lifetime_ns, -1);
	CHECK_INT(v.close_ns, 7 * MS);
	CHECK_INT(v.steps[0], STEP_SEEN);
	CHECK_STR(conn_open_name(v.open), "unknown");
}

TEST(test_conn_close_already_under_way_has_no_known_close_time)
{
	struct tw_conn c = TIMELINE(TW_CLOSE_WAIT, 0, { TW_CLOSE_WAIT, 0 },
				    { TW_LAST_ACK, 4 * MS }, { TW_CLOSE, 5 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.close, CONN_CLOSE_PASSIVE);
	CHECK_INT(v.close_start_ns, -1);
	CHECK_INT(v.close_ns, -1);
	CHECK_INT(v.steps[2], STEP_FINAL_ACK);
}

TEST(test_conn_orphan_in_fin_wait2_hands_over_to_the_fin_wait2_substate)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_FIN_WAIT2, 11 * MS }, { TW_CLOSE, 11 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.close, CONN_CLOSE_ACTIVE);
	CHECK_INT(v.end, CONN_END_FIN_WAIT2);
	CHECK_INT(v.handover_hold_ns, 30000 * MS);
	CHECK_INT(v.steps[4], STEP_FIN_WAIT2_HANDOVER);
	CHECK_STR(conn_handover_name(v.end), "FIN_WAIT2");
}

TEST(test_conn_full_timewait_table_means_no_time_wait)
{
	struct tw_conn c = active_close_client();
	struct conn_verdict v;

	c.tw_count = c.tw_max = 10;
	v = classify(&c);
	CHECK(v.tw_overflow);
	CHECK_INT(v.end, CONN_END_CLOSED);
	CHECK_INT(v.handover_hold_ns, -1);
	c.tw_count = 9;
	v = classify(&c);
	CHECK(!v.tw_overflow);
	CHECK_INT(v.end, CONN_END_TIME_WAIT);

	/* tcp_max_tw_buckets = 0: no TIME_WAIT ever. */
	c.tw_count = c.tw_max = 0;
	v = classify(&c);
	CHECK(v.tw_overflow);
	CHECK_INT(v.end, CONN_END_CLOSED);
}

TEST(test_conn_fin_wait1_retries_exhausted_closes_without_time_wait)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_CLOSE, 9000 * MS });
	struct conn_verdict v;

	c.sk_err = ETIMEDOUT;
	c.retrans[TW_RETRANS_FIN] = 6;
	v = classify(&c);
	CHECK_INT(v.close, CONN_CLOSE_ACTIVE);
	CHECK_INT(v.end, CONN_END_CLOSED);
	CHECK_INT(v.steps[3], STEP_TIMEOUT);
}

TEST(test_conn_late_reset_after_close_makes_it_a_local_reset)
{
	/* SO_LINGER 0: ESTABLISHED -> CLOSE, then tcp_send_active_reset(). */
	struct tw_conn c = TIMELINE(TW_LISTEN, 0, { TW_SYN_RECV, 0 }, { TW_ESTABLISHED, 1 * MS },
				    { TW_CLOSE, 50 * MS });
	struct tw_reset r = { .type = TW_REC_RESET, .sent = 1, .reason = 12, .cookie = 7 };
	struct conn_verdict v;

	conn_apply_late_reset(&c, &r);
	v = classify(&c);
	CHECK_INT(v.close, CONN_CLOSE_RESET);
	CHECK_INT(v.reset_by, CONN_RESET_LOCAL);
	CHECK_INT(c.reset_state, TW_ESTABLISHED);
	CHECK_INT(c.reset_reason, 12);
	CHECK_INT(v.steps[2], STEP_RESET_SENT);
}

/* After close(): FIN_WAIT1 -> CLOSE on a RST received (maybe our abort on data). */
static struct tw_conn reset_in_fin_wait1(void)
{
	struct tw_conn c = TIMELINE(TW_LISTEN, 0, { TW_SYN_RECV, 0 }, { TW_ESTABLISHED, 1 * MS },
				    { TW_FIN_WAIT1, 20 * MS }, { TW_CLOSE, 21 * MS });

	tw_note_reset(&c, TW_FIN_WAIT1, 0, 0, 1);
	return c;
}

TEST(test_conn_reset_received_after_our_close_is_the_peers_unless_ours_follows)
{
	struct tw_conn peer = reset_in_fin_wait1(), abort = reset_in_fin_wait1();
	struct tw_reset ours = { .type = TW_REC_RESET, .sent = 1, .reason = 9, .cookie = 7 };
	struct conn_verdict v;

	/* A real RST: none of ours can follow it. */
	CHECK(conn_reset_may_follow(&peer));
	v = classify(&peer);
	CHECK_INT(v.close, CONN_CLOSE_RESET);
	CHECK_INT(v.reset_by, CONN_RESET_PEER);
	CHECK_INT(v.steps[3], STEP_RESET_RECEIVED);

	/* The kernel's abort on data: tcp_reset(), CLOSE, then our RST. */
	conn_apply_late_reset(&abort, &ours);
	CHECK(!conn_reset_may_follow(&abort));
	v = classify(&abort);
	CHECK_INT(v.close, CONN_CLOSE_RESET);
	CHECK_INT(v.reset_by, CONN_RESET_LOCAL);
	CHECK_INT(abort.flags & (TW_CONN_RESET_RECEIVED | TW_CONN_RESET_MAYBE_OURS), 0);
	CHECK_INT(abort.reset_state, TW_FIN_WAIT1);
	CHECK_INT(abort.reset_reason, 9);
	CHECK_INT(v.steps[3], STEP_RESET_SENT);
}

TEST(test_conn_reset_received_with_reception_open_is_the_peers_at_once)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, 0, { TW_SYN_SENT, 0 }, { TW_ESTABLISHED, MS },
				    { TW_CLOSE, 2 * MS });
	struct tw_reset ours = { .type = TW_REC_RESET, .sent = 1, .cookie = 7 };

	tw_note_reset(&c, TW_ESTABLISHED, 0, 0, 0);
	CHECK(!conn_reset_may_follow(&c));
	/* Had one of ours come after all, the peer's was still first. */
	conn_apply_late_reset(&c, &ours);
	CHECK_INT(classify(&c).reset_by, CONN_RESET_PEER);
}

TEST(test_conn_still_open_is_incomplete_with_what_is_known)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 2 * MS });
	struct conn_verdict v = classify(&c);

	CHECK(!v.complete);
	CHECK_INT(v.close, CONN_CLOSE_NONE);
	CHECK(conn_close_name(v.close) == NULL);
	CHECK_INT(v.end, CONN_END_OPEN);
	CHECK_INT(v.handshake_ns, 2 * MS);
	CHECK_INT(v.lifetime_ns, -1);
	CHECK_INT(v.close_ns, -1);

	/* Closing already: which side began it is known. */
	c.step_state[2] = TW_CLOSE_WAIT;
	c.step_ns[2] = 9 * MS;
	c.nsteps = 3;
	v = classify(&c);
	CHECK_INT(v.close, CONN_CLOSE_PASSIVE);
	CHECK_INT(v.close_start_ns, 9 * MS);
	CHECK_INT(v.close_ns, -1);
}

TEST(test_conn_close_without_fin_or_rst_is_unknown)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, 0, { TW_SYN_SENT, 0 }, { TW_ESTABLISHED, 1 * MS },
				    { TW_CLOSE, 9 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.close, CONN_CLOSE_UNKNOWN);
	CHECK_INT(v.steps[2], STEP_CLOSED);
	CHECK_STR(conn_close_name(v.close), "unknown");
}

TEST(test_conn_names)
{
	CHECK_STR(conn_open_name(CONN_OPEN_ACTIVE), "active");
	CHECK_STR(conn_open_name(CONN_OPEN_PASSIVE), "passive");
	CHECK_STR(conn_close_name(CONN_CLOSE_ACTIVE), "active");
	CHECK_STR(conn_close_name(CONN_CLOSE_PASSIVE), "passive");
	CHECK_STR(conn_close_name(CONN_CLOSE_RESET), "reset");
	CHECK_STR(conn_close_name(CONN_CLOSE_TIMEOUT), "timeout");
	CHECK(conn_reset_by_name(CONN_RESET_NONE) == NULL);
}

TEST(test_conn_payload_bytes_leave_out_syn_and_fin)
{
	/* Client: sent 5 bytes; counters include its SYN and FIN and the peer's FIN. */
	struct tw_conn c = active_close_client();
	struct conn_verdict v;

	c.tx_bytes = 5 + 1 + 1;
	c.rx_bytes = 3 + 1;
	v = classify(&c);
	CHECK_INT(v.tx_bytes, 5);
	CHECK_INT(v.rx_bytes, 3);

	/* An accepted socket starts past the SYN; a reset leaves the FIN unacknowledged. */
	c = TIMELINE(TW_LISTEN, TW_CONN_RESET_SENT, { TW_SYN_RECV, 0 }, { TW_ESTABLISHED, 1 },
		     { TW_CLOSE, 2 });
	c.tx_bytes = 9;
	c.rx_bytes = 4;
	v = classify(&c);
	CHECK_INT(v.tx_bytes, 9);
	CHECK_INT(v.rx_bytes, 4);

	c.flags &= ~TW_CONN_COUNTERS_KNOWN;
	v = classify(&c);
	CHECK_INT(v.tx_bytes, -1);
	CHECK_INT(v.rx_bytes, -1);
}

TEST(test_conn_closing_that_times_out_is_no_time_wait)
{
	/* FINs crossed, then our FIN went unacknowledged until the retries ran out. */
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_PEER_FIN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_CLOSING, 11 * MS }, { TW_CLOSE, 5000 * MS });
	struct conn_verdict v;

	c.sk_err = ETIMEDOUT;
	v = classify(&c);
	CHECK_INT(v.close, CONN_CLOSE_SIMULTANEOUS);
	CHECK_INT(v.end, CONN_END_CLOSED);
	CHECK_INT(v.steps[4], STEP_TIMEOUT);
}

TEST(test_conn_fin_wait2_handover_waits_until_its_end_is_learned)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_FIN_WAIT2, 11 * MS }, { TW_CLOSE, 11 * MS });
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.fin_wait2_end, CONN_FW2_WAITING);
	CHECK_INT(v.fin_wait2_end_ns, -1);
	CHECK_STR(conn_fin_wait2_end_name(v.fin_wait2_end), "waiting");
	CHECK_INT(v.close_ns, 1 * MS);

	/* The peer's FIN came 1 s after the hand-over: the close lasted until then. */
	conn_end_fin_wait2(&v, CONN_FW2_PEER_FIN, 1011 * MS);
	CHECK_INT(v.fin_wait2_end, CONN_FW2_PEER_FIN);
	CHECK_INT(v.fin_wait2_end_ns, 1011 * MS);
	CHECK_INT(v.close_ns, 1001 * MS);
	CHECK_INT(v.lifetime_ns, 1011 * MS);
	CHECK_INT(v.end, CONN_END_FIN_WAIT2);
	CHECK_STR(conn_fin_wait2_end_name(v.fin_wait2_end), "peer_fin");
}

TEST(test_conn_fin_wait2_end_unknown_changes_no_time)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_FIN_WAIT2, 11 * MS }, { TW_CLOSE, 11 * MS });
	struct conn_verdict v = classify(&c);

	conn_end_fin_wait2(&v, CONN_FW2_WAITING, -1);
	CHECK_INT(v.close_ns, 1 * MS);
	CHECK_INT(v.lifetime_ns, 11 * MS);

	/* Seen midway: no close start, no lifetime; the end is kept all the same. */
	c = TIMELINE(TW_ESTABLISHED, TW_CONN_ORPHAN, { TW_ESTABLISHED, 0 }, { TW_FIN_WAIT1, 0 },
		     { TW_FIN_WAIT2, 1 * MS }, { TW_CLOSE, 1 * MS });
	v = classify(&c);
	CHECK_INT(v.close_ns, 1 * MS);
	conn_end_fin_wait2(&v, CONN_FW2_TIMEOUT, 30001 * MS);
	CHECK_INT(v.close_ns, 30001 * MS);
	CHECK_INT(v.lifetime_ns, -1);
	CHECK_STR(conn_fin_wait2_end_name(v.fin_wait2_end), "timeout");
}

TEST(test_conn_only_a_fin_wait2_handover_takes_a_fin_wait2_end)
{
	struct tw_conn c = active_close_client();
	struct conn_verdict v = classify(&c);

	CHECK_INT(v.fin_wait2_end, CONN_FW2_NONE);
	CHECK(conn_fin_wait2_end_name(v.fin_wait2_end) == NULL);
	conn_end_fin_wait2(&v, CONN_FW2_PEER_FIN, 5000 * MS);
	CHECK_INT(v.fin_wait2_end, CONN_FW2_NONE);
	CHECK_INT(v.close_ns, 50 * MS);
	CHECK_STR(conn_fin_wait2_end_name(CONN_FW2_PEER_RESET), "peer_reset");
	CHECK_STR(conn_fin_wait2_end_name(CONN_FW2_LOCAL_RESET), "local_reset");
	CHECK(conn_fin_wait2_end_name((enum conn_fin_wait2_end)99) == NULL);
}

TEST(test_conn_reset_may_follow_an_abort_but_not_time_wait)
{
	/* close() with SO_LINGER 0 from ESTABLISHED: CLOSE now, the RST just after */
	struct tw_conn abort = TIMELINE(TW_CLOSE, 0, { TW_SYN_SENT, 0 }, { TW_ESTABLISHED, MS },
					{ TW_CLOSE, 2 * MS });
	struct tw_conn from_close_wait = TIMELINE(TW_LISTEN, TW_CONN_PEER_FIN, { TW_SYN_RECV, 0 },
						  { TW_ESTABLISHED, MS },
						  { TW_CLOSE_WAIT, 2 * MS }, { TW_CLOSE, 3 * MS });
	struct tw_conn time_wait = active_close_client();
	struct tw_conn refused = TIMELINE(TW_CLOSE, TW_CONN_RESET_RECEIVED, { TW_SYN_SENT, 0 },
					  { TW_CLOSE, MS });
	struct tw_conn syn_timeout = TIMELINE(TW_CLOSE, 0, { TW_SYN_SENT, 0 }, { TW_CLOSE, MS });
	struct tw_conn reset = abort;
	struct tw_conn open = TIMELINE(TW_CLOSE, TW_CONN_OPEN, { TW_SYN_SENT, 0 },
				       { TW_ESTABLISHED, MS });
	struct tw_conn orphan_fin_wait2 = active_close_client();

	CHECK(conn_reset_may_follow(&abort));
	CHECK(conn_reset_may_follow(&from_close_wait));
	/* orphaned in FIN_WAIT2 with tcp_fin_timeout < 0: CLOSE, then a RST */
	orphan_fin_wait2.flags &= ~TW_CONN_PEER_FIN;
	CHECK(conn_reset_may_follow(&orphan_fin_wait2));
	CHECK(!conn_reset_may_follow(&time_wait));
	CHECK(!conn_reset_may_follow(&refused));
	CHECK(!conn_reset_may_follow(&syn_timeout));
	reset.flags |= TW_CONN_RESET_SENT;
	CHECK(!conn_reset_may_follow(&reset));
	CHECK(!conn_reset_may_follow(&open));
}
