// SPDX-License-Identifier: GPL-2.0
/*
 * Zeek decides conn_state in conn_state() (scripts/base/protocols/conn/
 * main.zeek) from the state of each endpoint, which its TCP analyzer keeps
 * from the packets that endpoint sent: nothing yet (INACTIVE), a SYN
 * (SYN_SENT), a SYN-ACK (SYN_ACK_SENT), mid-stream packets of a connection
 * whose SYN it missed (PARTIAL), the handshake completed (ESTABLISHED), a
 * FIN (CLOSED), a RST (RESET). tcpwave rebuilds each end's state from the
 * timeline and the verdict, then applies Zeek's rules.
 */
#include "zeek_state.h"

#include <stdbool.h>

enum endpoint {
	EP_INACTIVE,
	EP_SYN_SENT,
	EP_SYN_ACK_SENT,
	EP_PARTIAL,
	EP_ESTABLISHED,
	EP_CLOSED,
	EP_RESET,
};

/* Which of the states in `mask` (bits 1 << TW_*) the timeline entered. */
static bool entered_any(const struct tw_conn *c, unsigned int mask)
{
	int i, n = conn_steps(c);

	for (i = 0; i < n; i++)
		if (c->step_state[i] < TW_STATE_MAX && (mask & (1u << c->step_state[i])))
			return true;
	return false;
}

#define BIT(s) (1u << (s))
/* Every state after the handshake: ESTABLISHED may be cut from a truncated timeline. */
#define AFTER_HANDSHAKE                                                                     \
	(BIT(TW_ESTABLISHED) | BIT(TW_FIN_WAIT1) | BIT(TW_FIN_WAIT2) | BIT(TW_CLOSE_WAIT) | \
	 BIT(TW_LAST_ACK) | BIT(TW_CLOSING))
/* The states we enter by sending our FIN: first (FIN_WAIT1, then on) or second (LAST_ACK). */
#define OUR_FIN_SENT (BIT(TW_FIN_WAIT1) | BIT(TW_FIN_WAIT2) | BIT(TW_CLOSING) | BIT(TW_LAST_ACK))
/* The states the peer's FIN moves us into. */
#define PEER_FIN_RECEIVED (BIT(TW_CLOSE_WAIT) | BIT(TW_LAST_ACK) | BIT(TW_CLOSING))

/*
 * A RST goes to whoever the verdict says reset the connection: the first
 * RST (the kernel's abort on data, which fires tcp_receive_reset with no
 * RST received, is ours: see tw_note_reset()). After a FIN_WAIT2 hand-over, what the
 * peer's record showed of its end (fin_wait2_end) counts as seen: the
 * peer's FIN or RST, or our timewait socket's RST.
 */
static enum endpoint local_endpoint(const struct tw_conn *c, const struct conn_verdict *v)
{
	if (v->reset_by == CONN_RESET_LOCAL || v->fin_wait2_end == CONN_FW2_LOCAL_RESET)
		return EP_RESET;
	if (entered_any(c, OUR_FIN_SENT))
		return EP_CLOSED;
	if (v->open == CONN_OPEN_UNKNOWN)
		return EP_PARTIAL;
	if (entered_any(c, AFTER_HANDSHAKE))
		return EP_ESTABLISHED;
	return v->open == CONN_OPEN_ACTIVE ? EP_SYN_SENT : EP_SYN_ACK_SENT;
}

static enum endpoint peer_endpoint(const struct tw_conn *c, const struct conn_verdict *v)
{
	if (v->reset_by == CONN_RESET_PEER || v->fin_wait2_end == CONN_FW2_PEER_RESET)
		return EP_RESET;
	if ((c->flags & TW_CONN_PEER_FIN) || entered_any(c, PEER_FIN_RECEIVED) ||
	    v->end == CONN_END_TIME_WAIT || v->fin_wait2_end == CONN_FW2_PEER_FIN)
		return EP_CLOSED;
	if (v->open == CONN_OPEN_UNKNOWN)
		return EP_PARTIAL;
	if (entered_any(c, AFTER_HANDSHAKE))
		return EP_ESTABLISHED;
	if (v->open == CONN_OPEN_PASSIVE)
		return EP_SYN_SENT;
	/*
	 * Our connect() never completed. The kernel sends a RST in SYN_SENT only
	 * in answer to an unacceptable SYN-ACK (tcp_rcv_synsent_state_process(),
	 * reset_and_undo); close() and SO_LINGER 0 send none there
	 * (tcp_need_reset()). So a RST of ours means the peer did answer.
	 */
	return v->reset_by == CONN_RESET_LOCAL ? EP_SYN_ACK_SENT : EP_INACTIVE;
}

static bool inactive(enum endpoint e)
{
	return e == EP_INACTIVE || e == EP_PARTIAL;
}

/*
 * Zeek's conn_state() for TCP, for the endpoint states above. Two of its
 * cases cannot arise from them: both ends RESET (REJ when no payload went
 * either way; tcpwave attributes a reset to one end), and RSTOS0, which
 * needs an originator that sent a SYN and then a RST with the responder
 * inactive (see peer_endpoint()): an originator that is RESET beside an
 * inactive responder is one whose SYN tcpwave did not see, OTH for Zeek.
 */
static enum zeek_state from_endpoints(enum endpoint orig, enum endpoint resp)
{
	if (resp == EP_RESET) {
		if (orig == EP_SYN_SENT || orig == EP_SYN_ACK_SENT)
			return ZEEK_REJ;
		return inactive(orig) ? ZEEK_RSTRH : ZEEK_RSTR;
	}
	if (orig == EP_RESET)
		return inactive(resp) ? ZEEK_OTH : ZEEK_RSTO;
	if (orig == EP_CLOSED && resp == EP_CLOSED)
		return ZEEK_SF;
	if (orig == EP_CLOSED)
		return inactive(resp) ? ZEEK_SH : ZEEK_S2;
	if (resp == EP_CLOSED)
		return inactive(orig) ? ZEEK_SHR : ZEEK_S3;
	if (orig == EP_SYN_SENT && resp == EP_INACTIVE)
		return ZEEK_S0;
	if (orig == EP_ESTABLISHED && resp == EP_ESTABLISHED)
		return ZEEK_S1;
	return ZEEK_OTH;
}

enum zeek_state zeek_state_of(const struct tw_conn *c, const struct conn_verdict *v)
{
	enum endpoint local = local_endpoint(c, v), peer = peer_endpoint(c, v);
	enum zeek_state as_orig, as_resp;

	if (v->open == CONN_OPEN_ACTIVE)
		return from_endpoints(local, peer);
	if (v->open == CONN_OPEN_PASSIVE)
		return from_endpoints(peer, local);
	/*
	 * Already open when tracing began: who sent the SYN is not known. Zeek
	 * would pick a side; tcpwave gives a code only where the choice makes
	 * no difference (SF: both sent a FIN), OTH otherwise.
	 */
	as_orig = from_endpoints(local, peer);
	as_resp = from_endpoints(peer, local);
	return as_orig == as_resp ? as_orig : ZEEK_OTH;
}

const char *zeek_state_name(enum zeek_state s)
{
	static const char *const names[ZEEK_STATE_MAX] = {
	    [ZEEK_S0] = "S0",	    [ZEEK_S1] = "S1",	  [ZEEK_SF] = "SF",
	    [ZEEK_REJ] = "REJ",	    [ZEEK_S2] = "S2",	  [ZEEK_S3] = "S3",
	    [ZEEK_RSTO] = "RSTO",   [ZEEK_RSTR] = "RSTR", [ZEEK_RSTOS0] = "RSTOS0",
	    [ZEEK_RSTRH] = "RSTRH", [ZEEK_SH] = "SH",	  [ZEEK_SHR] = "SHR",
	    [ZEEK_OTH] = "OTH",
	};

	return (unsigned int)s < ZEEK_STATE_MAX ? names[s] : "OTH";
}
