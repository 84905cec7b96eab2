// SPDX-License-Identifier: GPL-2.0
/*
 * Zeek's conn_state for each way tcpwave sees a connection open and close.
 * The records go through conn_classify() first, as in tcpwave, and each
 * test also checks the close class it stands for, so that the README's
 * table (close class -> conn_state) is what these tests hold.
 */
#include <errno.h>
#include "unit.h"
#include "zeek_state.h"

#define MS 1000000ull

static const struct conn_env env = { .time_wait_ns = 60000 * MS, .fin_timeout_ns = 60000 * MS };

/*
 * A record that entered `states` in order, 1 ms apart, the way the kernel
 * side builds it. A RST is taken to have come in the state before the
 * final CLOSE, as conn_apply_late_reset() records it.
 */
static struct tw_conn build(__u8 first_old_state, __u32 flags, const __u8 *states, int n)
{
	struct tw_conn c = { .type = TW_REC_CONN, .first_old_state = first_old_state };
	int i;

	for (i = 0; i < n && i < TW_STEPS_MAX; i++) {
		c.step_state[i] = states[i];
		c.step_ns[i] = i * MS;
	}
	c.nsteps = n;
	c.flags = flags | TW_CONN_OWNER_KNOWN | TW_CONN_COUNTERS_KNOWN;
	c.tw_max = 262144;
	if (n >= 2 && (flags & (TW_CONN_RESET_SENT | TW_CONN_RESET_RECEIVED)))
		c.reset_state = states[n - 2];
	return c;
}

#define CONN(first_old, flags, ...)                                                                \
	build(first_old, flags, (const __u8[]){ __VA_ARGS__ },                                     \
	      sizeof((const __u8[]){ __VA_ARGS__ }))

/* The verdict's close class and Zeek's code, "close/code": "reset/RSTR". */
static const char *classify(const struct tw_conn *c)
{
	static char out[64];
	struct conn_verdict v;
	const char *close;

	conn_classify(c, &env, &v);
	close = conn_close_name(v.close);
	snprintf(out, sizeof(out), "%s/%s", close ? close : "null",
		 zeek_state_name(zeek_state_of(c, &v)));
	return out;
}

#define ACTIVE_OPEN TW_SYN_SENT, TW_ESTABLISHED
#define PASSIVE_OPEN TW_SYN_RECV, TW_ESTABLISHED

/* ---- both sides sent a FIN: SF, whoever opened and whoever closed first ---- */

TEST(test_zeek_state_active_close_to_time_wait_is_sf)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_PEER_FIN | TW_CONN_ORPHAN, ACTIVE_OPEN,
				TW_FIN_WAIT1, TW_FIN_WAIT2, TW_CLOSE);

	CHECK_STR(classify(&c), "active/SF");
}

TEST(test_zeek_state_passive_close_through_last_ack_is_sf)
{
	struct tw_conn c = CONN(TW_LISTEN, TW_CONN_PEER_FIN, PASSIVE_OPEN, TW_CLOSE_WAIT,
				TW_LAST_ACK, TW_CLOSE);

	CHECK_STR(classify(&c), "passive/SF");
	c = CONN(TW_CLOSE, TW_CONN_PEER_FIN, ACTIVE_OPEN, TW_CLOSE_WAIT, TW_LAST_ACK, TW_CLOSE);
	CHECK_STR(classify(&c), "passive/SF");
}

TEST(test_zeek_state_simultaneous_close_is_sf)
{
	struct tw_conn c = CONN(TW_LISTEN, 0, PASSIVE_OPEN, TW_FIN_WAIT1, TW_CLOSING, TW_CLOSE);

	CHECK_STR(classify(&c), "simultaneous/SF");
}

/* tcp_max_tw_buckets full: no TIME_WAIT, but both FINs went. */
TEST(test_zeek_state_fins_exchanged_without_time_wait_is_sf)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_PEER_FIN, ACTIVE_OPEN, TW_FIN_WAIT1,
				TW_FIN_WAIT2, TW_CLOSE);

	c.tw_count = c.tw_max;
	CHECK_STR(classify(&c), "active/SF");
}

/* ---- one FIN: S2 when the originator's, S3 when the responder's ---- */

/* Closed by its application before the peer's FIN: the record leaves at the hand-over. */
TEST(test_zeek_state_fin_wait2_handover_is_s2_for_the_originator)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_ORPHAN, ACTIVE_OPEN, TW_FIN_WAIT1, TW_FIN_WAIT2,
				TW_CLOSE);

	CHECK_STR(classify(&c), "active/S2");
}

TEST(test_zeek_state_fin_wait2_handover_is_s3_for_the_responder)
{
	struct tw_conn c = CONN(TW_LISTEN, TW_CONN_ORPHAN, PASSIVE_OPEN, TW_FIN_WAIT1,
				TW_FIN_WAIT2, TW_CLOSE);

	CHECK_STR(classify(&c), "active/S3");
}

/*
 * A hand-over whose end tcpwave learned from the peer's record on this host
 * (handover_wait.c): the wire saw what that end says.
 */
static const char *classify_fin_wait2_end(struct tw_conn *c, enum conn_fin_wait2_end end)
{
	static char out[64];
	struct conn_verdict v;

	conn_classify(c, &env, &v);
	conn_end_fin_wait2(&v, end, 5 * MS);
	snprintf(out, sizeof(out), "%s/%s", conn_close_name(v.close),
		 zeek_state_name(zeek_state_of(c, &v)));
	return out;
}

TEST(test_zeek_state_fin_wait2_handover_with_a_learned_end)
{
	struct tw_conn client = CONN(TW_CLOSE, TW_CONN_ORPHAN, ACTIVE_OPEN, TW_FIN_WAIT1,
				     TW_FIN_WAIT2, TW_CLOSE);
	struct tw_conn server = CONN(TW_LISTEN, TW_CONN_ORPHAN, PASSIVE_OPEN, TW_FIN_WAIT1,
				     TW_FIN_WAIT2, TW_CLOSE);

	CHECK_STR(classify_fin_wait2_end(&client, CONN_FW2_PEER_FIN), "active/SF");
	CHECK_STR(classify_fin_wait2_end(&server, CONN_FW2_PEER_FIN), "active/SF");
	CHECK_STR(classify_fin_wait2_end(&client, CONN_FW2_PEER_RESET), "active/RSTR");
	CHECK_STR(classify_fin_wait2_end(&server, CONN_FW2_PEER_RESET), "active/RSTO");
	CHECK_STR(classify_fin_wait2_end(&client, CONN_FW2_LOCAL_RESET), "active/RSTO");
	CHECK_STR(classify_fin_wait2_end(&server, CONN_FW2_LOCAL_RESET), "active/RSTR");
	/* The kernel dropped it without a word, or tracing ended first. */
	CHECK_STR(classify_fin_wait2_end(&client, CONN_FW2_TIMEOUT), "active/S2");
	CHECK_STR(classify_fin_wait2_end(&server, CONN_FW2_WAITING), "active/S3");
}

/* Still in CLOSE_WAIT when tracing ended: only the peer's FIN so far. */
TEST(test_zeek_state_still_in_close_wait_names_the_peers_fin)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_OPEN, ACTIVE_OPEN, TW_CLOSE_WAIT);

	CHECK_STR(classify(&c), "passive/S3");
	c = CONN(TW_LISTEN, TW_CONN_OPEN, PASSIVE_OPEN, TW_CLOSE_WAIT);
	CHECK_STR(classify(&c), "passive/S2");
}

/* Our FIN never acknowledged, retransmissions timed out: no RST either way. */
TEST(test_zeek_state_fin_timed_out_is_s2)
{
	struct tw_conn c = CONN(TW_CLOSE, 0, ACTIVE_OPEN, TW_FIN_WAIT1, TW_CLOSE);

	c.sk_err = ETIMEDOUT;
	CHECK_STR(classify(&c), "active/S2");
}

/* ---- resets: RSTO when the originator sent it, RSTR when the responder did ---- */

TEST(test_zeek_state_reset_by_the_connecting_side_is_rsto)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_RESET_SENT, ACTIVE_OPEN, TW_CLOSE);

	CHECK_STR(classify(&c), "reset/RSTO");
	c = CONN(TW_LISTEN, TW_CONN_RESET_RECEIVED, PASSIVE_OPEN, TW_CLOSE);
	CHECK_STR(classify(&c), "reset/RSTO");
}

TEST(test_zeek_state_reset_by_the_accepting_side_is_rstr)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_RESET_RECEIVED, ACTIVE_OPEN, TW_CLOSE);

	CHECK_STR(classify(&c), "reset/RSTR");
	c = CONN(TW_LISTEN, TW_CONN_RESET_SENT, PASSIVE_OPEN, TW_CLOSE);
	CHECK_STR(classify(&c), "reset/RSTR");
}

/* A RST after FINs is still a RST: Zeek's RESET overrides CLOSED. */
TEST(test_zeek_state_reset_after_fins_is_a_reset)
{
	struct tw_conn c = CONN(TW_LISTEN, TW_CONN_RESET_RECEIVED | TW_CONN_PEER_FIN, PASSIVE_OPEN,
				TW_CLOSE_WAIT, TW_LAST_ACK, TW_CLOSE);

	CHECK_STR(classify(&c), "reset/RSTO");
}

/*
 * Data after our shutdown: we send the RST and the kernel also fires
 * tcp_receive_reset for the abort. Only our RST went on the wire.
 */
TEST(test_zeek_state_our_reset_with_the_kernels_own_receive_reset_is_ours)
{
	struct tw_conn c = CONN(TW_LISTEN,
				TW_CONN_RESET_SENT | TW_CONN_RESET_RECEIVED |
					TW_CONN_RESET_SENT_FIRST | TW_CONN_PEER_FIN,
				PASSIVE_OPEN, TW_FIN_WAIT1, TW_FIN_WAIT2, TW_CLOSE);

	CHECK_STR(classify(&c), "reset/RSTR");
}

/*
 * Our RST in SYN_SENT answers an unacceptable SYN-ACK: the responder did
 * reply, so Zeek has it past INACTIVE and says RSTO, not RSTOS0.
 */
TEST(test_zeek_state_our_reset_before_the_handshake_is_rsto)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_RESET_SENT, TW_SYN_SENT, TW_CLOSE);

	CHECK_STR(classify(&c), "reset/RSTO");
}

/* ---- attempts ---- */

TEST(test_zeek_state_refused_by_rst_is_rej)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_RESET_RECEIVED, TW_SYN_SENT, TW_CLOSE);

	c.sk_err = ECONNREFUSED;
	CHECK_STR(classify(&c), "refused/REJ");
}

/* ICMP port unreachable: no TCP reply at all, which Zeek calls S0. */
TEST(test_zeek_state_refused_by_icmp_is_s0)
{
	struct tw_conn c = CONN(TW_CLOSE, 0, TW_SYN_SENT, TW_CLOSE);

	c.sk_err = ECONNREFUSED;
	CHECK_STR(classify(&c), "refused/S0");
}

TEST(test_zeek_state_syn_timeout_is_s0)
{
	struct tw_conn c = CONN(TW_CLOSE, 0, TW_SYN_SENT, TW_CLOSE);

	c.sk_err = ETIMEDOUT;
	CHECK_STR(classify(&c), "timeout/S0");
	/* The application gave up: close() in SYN_SENT sends nothing. */
	c.sk_err = 0;
	CHECK_STR(classify(&c), "timeout/S0");
}

TEST(test_zeek_state_still_connecting_at_exit_is_s0)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_OPEN, TW_SYN_SENT);

	CHECK_STR(classify(&c), "null/S0");
}

/* An accepted socket that dies in SYN_RECV: SYN and SYN-ACK, no more. */
TEST(test_zeek_state_accepted_socket_closed_before_the_handshake_is_oth)
{
	struct tw_conn c = CONN(TW_LISTEN, 0, TW_SYN_RECV, TW_CLOSE);

	c.sk_err = ETIMEDOUT;
	CHECK_STR(classify(&c), "timeout/OTH");
}

/* ---- established, no FIN or RST ---- */

TEST(test_zeek_state_still_open_is_s1)
{
	struct tw_conn c = CONN(TW_CLOSE, TW_CONN_OPEN, ACTIVE_OPEN);

	CHECK_STR(classify(&c), "null/S1");
	c = CONN(TW_LISTEN, TW_CONN_OPEN, PASSIVE_OPEN);
	CHECK_STR(classify(&c), "null/S1");
}

/* Data retransmissions timed out: the socket died without a FIN or RST. */
TEST(test_zeek_state_closed_without_fin_or_rst_is_s1)
{
	struct tw_conn c = CONN(TW_CLOSE, 0, ACTIVE_OPEN, TW_CLOSE);

	c.sk_err = ETIMEDOUT;
	CHECK_STR(classify(&c), "unknown/S1");
}

/* ---- already open when tracing began: the originator is not known ---- */

TEST(test_zeek_state_unknown_opener_with_both_fins_is_sf)
{
	struct tw_conn c = CONN(0, TW_CONN_PEER_FIN, TW_ESTABLISHED, TW_FIN_WAIT1, TW_FIN_WAIT2,
				TW_CLOSE);

	CHECK_STR(classify(&c), "active/SF");
	c = CONN(0, 0, TW_ESTABLISHED, TW_CLOSE_WAIT, TW_LAST_ACK, TW_CLOSE);
	CHECK_STR(classify(&c), "passive/SF");
}

/* Where Zeek's answer would depend on who sent the SYN: OTH. */
TEST(test_zeek_state_unknown_opener_otherwise_is_oth)
{
	struct tw_conn c = CONN(0, TW_CONN_ORPHAN, TW_ESTABLISHED, TW_FIN_WAIT1, TW_FIN_WAIT2,
				TW_CLOSE);

	CHECK_STR(classify(&c), "active/OTH");
	c = CONN(0, TW_CONN_RESET_RECEIVED, TW_ESTABLISHED, TW_CLOSE);
	CHECK_STR(classify(&c), "reset/OTH");
	c = CONN(0, TW_CONN_RESET_SENT, TW_ESTABLISHED, TW_CLOSE);
	CHECK_STR(classify(&c), "reset/OTH");
	c = CONN(0, TW_CONN_OPEN, TW_ESTABLISHED);
	CHECK_STR(classify(&c), "null/OTH");
}

/*
 * RSTOS0, RSTRH, SH and SHR need an endpoint Zeek saw send nothing, or
 * only mid-stream packets, beside one that sent a SYN, SYN-ACK, FIN or
 * RST. tcpwave's endpoint always sent its SYN or SYN-ACK when it saw the
 * opening, and when it did not, the code would depend on who opened. Try
 * every opening, a set of closings, every combination of close flags and
 * every learned end of a FIN_WAIT2 hand-over.
 */
TEST(test_zeek_state_never_gives_the_codes_of_one_sided_captures)
{
	static const __u8 closings[][4] = {
		{ TW_CLOSE },
		{ TW_FIN_WAIT1, TW_CLOSE },
		{ TW_FIN_WAIT1, TW_FIN_WAIT2, TW_CLOSE },
		{ TW_FIN_WAIT1, TW_CLOSING, TW_CLOSE },
		{ TW_CLOSE_WAIT, TW_CLOSE },
		{ TW_CLOSE_WAIT, TW_LAST_ACK, TW_CLOSE },
		{ TW_FIN_WAIT1 },
		{ TW_CLOSE_WAIT },
	};
	static const struct {
		__u8 first_old;
		__u8 states[2];
		int n;
	} openings[] = {
		{ TW_CLOSE, { TW_SYN_SENT, TW_ESTABLISHED }, 2 },
		{ TW_CLOSE, { TW_SYN_SENT }, 1 },
		{ TW_LISTEN, { TW_SYN_RECV, TW_ESTABLISHED }, 2 },
		{ TW_LISTEN, { TW_SYN_RECV }, 1 },
		{ 0, { TW_ESTABLISHED }, 1 },
	};
	const __u32 flag_bits[] = { TW_CONN_PEER_FIN,	    TW_CONN_ORPHAN,
				    TW_CONN_RESET_SENT,	    TW_CONN_RESET_RECEIVED,
				    TW_CONN_RESET_SENT_FIRST, TW_CONN_OPEN };
	unsigned int o, k, f, b, tried = 0;

	for (o = 0; o < sizeof(openings) / sizeof(openings[0]); o++) {
		for (k = 0; k < sizeof(closings) / sizeof(closings[0]); k++) {
			for (f = 0; f < 1u << 6; f++) {
				__u8 states[TW_STEPS_MAX] = { 0 };
				struct conn_verdict v;
				struct tw_conn c;
				enum conn_fin_wait2_end end;
				__u32 flags = 0;
				int n = openings[o].n, i;
				enum zeek_state z;

				for (b = 0; b < 6; b++)
					if (f & (1u << b))
						flags |= flag_bits[b];
				for (i = 0; i < n; i++)
					states[i] = openings[o].states[i];
				for (i = 0; i < 4 && closings[k][i]; i++)
					states[n++] = closings[k][i];
				c = build(openings[o].first_old, flags, states, n);
				for (end = CONN_FW2_NONE; end <= CONN_FW2_TIMEOUT; end++) {
					conn_classify(&c, &env, &v);
					conn_end_fin_wait2(&v, end, 5 * MS);
					z = zeek_state_of(&c, &v);
					tried++;
					if (z == ZEEK_RSTOS0 || z == ZEEK_RSTRH || z == ZEEK_SH ||
					    z == ZEEK_SHR)
						unit_fail(__FILE__, __LINE__,
							  "opening %u, closing %u, flags %#x, "
							  "FIN_WAIT2 end %d gave %s",
							  o, k, flags, end, zeek_state_name(z));
				}
			}
		}
	}
	CHECK_INT(tried, 5 * 8 * 64 * (CONN_FW2_TIMEOUT + 1));
}

TEST(test_zeek_state_names_as_zeek_logs_them)
{
	static const char *const want[ZEEK_STATE_MAX] = {
		"S0",	"S1",	  "SF",	   "REJ", "S2",	 "S3", "RSTO",
		"RSTR", "RSTOS0", "RSTRH", "SH",  "SHR", "OTH",
	};
	int s;

	for (s = 0; s < ZEEK_STATE_MAX; s++)
		CHECK_STR(zeek_state_name(s), want[s]);
}
