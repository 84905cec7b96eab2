/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What held a connection up, and why: of its close, the state that took the
 * longest; of its handshake, what made it slow. Decided from the timeline and
 * the verdict alone (pure C, no I/O). The formatters print it; --slow-close
 * and --slow-handshake select records by it.
 */
#ifndef TCPWAVE_DIAGNOSIS_H
#define TCPWAVE_DIAGNOSIS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "conn.h"
#include "strbuf.h"
#include "tcpwave.h"

/*
 * A wait this long is remarkable on any path: TCP_RTO_MIN (include/net/tcp.h),
 * the shortest time after which the kernel retransmits a segment that has not
 * been acknowledged. No ACK is expected to take longer, and an application
 * that takes longer to close is slower than any network.
 */
#define DIAG_REMARKABLE_NS (200 * 1000 * 1000ll)

/* Why the diagnosed state lasted as long as it did. */
enum diag_cause {
	DIAG_CAUSE_NONE,
	DIAG_LOCAL_APP_DID_NOT_CLOSE, /* CLOSE_WAIT: no close() after the peer's FIN */
	DIAG_PEER_DID_NOT_CLOSE, /* FIN_WAIT2: the peer kept its side open */
	DIAG_FIN_RETRANSMITTED, /* FIN_WAIT1, CLOSING, LAST_ACK: our FIN was lost or its ACK */
	DIAG_FIN_ACK_LATE, /* ... acknowledged late, never retransmitted */
	DIAG_SYN_RETRANSMITTED, /* SYN_SENT */
	DIAG_SYN_UNANSWERED, /* SYN_SENT, never retransmitted: no answer before it ended */
	DIAG_SYNACK_RETRANSMITTED, /* SYN_RECV; FIN_WAIT1 of a Fast Open child closed early */
	DIAG_SLOW_PATH, /* no retransmission; about a round trip (srtt) of a slow path */
	DIAG_SLOW_PEER, /* no retransmission; well beyond the round trip (or none known) */
};

/* How the diagnosed phase ended, where that adds to the cause. */
enum diag_end {
	DIAG_END_NORMAL,
	DIAG_END_RESET_BY_PEER,
	DIAG_END_RESET_BY_US,
	DIAG_END_GAVE_UP, /* the kernel gave up: a retransmission timeout or another error */
	DIAG_END_REFUSED,
	DIAG_END_APP_GAVE_UP, /* the application closed a connect() still under way */
	DIAG_END_FIN_WAIT2_WAITING, /* handed to the kernel, still waiting for the peer's FIN */
	DIAG_END_FIN_WAIT2_STILL_WAITING, /* ... and still when tracing ended */
	DIAG_END_FIN_WAIT2_TIMEOUT, /* ... which did not come within tcp_fin_timeout */
	DIAG_END_DATA_AFTER_CLOSE, /* the peer sent data after our close() and was reset */
	DIAG_END_ABORTED_FIN_UNACKED, /* LAST_ACK or CLOSING aborted by the application, no RST */
	DIAG_END_STILL_OPEN, /* it had not ended when tracing did */
};

struct diag_phase {
	bool found; /* false: nothing remarkable (JSON null) */
	__u8 state; /* the state that took the time (TW_*) */
	int64_t ns; /* how long it lasted */
	enum diag_cause cause;
	uint32_t retransmits; /* of the segment that state waited on; 0 if it waited on a peer */
	enum diag_end end;
	/* What the sentence cites. */
	bool orphan; /* its application had closed it: tcp_orphan_retries applies */
	uint16_t sk_err; /* DIAG_END_GAVE_UP: the socket's error */
	uint16_t reset_reason; /* DIAG_END_RESET_BY_US: enum sk_rst_reason */
	int64_t srtt_ns; /* -1: not known */
};

struct diagnosis {
	/* The times --slow-handshake and --slow-close compare; -1: not known. */
	/* handshake_ns, or how long a handshake that failed lasted, or lasted so far */
	int64_t handshake_ns;
	int64_t close_ns; /* the verdict's close_ns, or how long the close lasted so far */
	struct diag_phase handshake;
	struct diag_phase close;
};

/* --slow-close and --slow-handshake, in ns; -1 when not given. */
struct diag_thresholds {
	int64_t close_ns;
	int64_t handshake_ns;
};

/*
 * Diagnose both phases. A phase is diagnosed when it was remarkable: its
 * segment was retransmitted, its longest state lasted DIAG_REMARKABLE_NS or
 * more, or it took at least the threshold given for it. A connection still
 * open when tracing ended (v->open_ns) is diagnosed in the phase it was in,
 * its last state lasting until then.
 */
void diagnosis_make(const struct tw_conn *c, const struct conn_verdict *v,
		    const struct diag_thresholds *t, struct diagnosis *d);
/*
 * Whether the record is printed: true without thresholds; with one or both,
 * when either phase took at least its threshold.
 */
bool diagnosis_selected(const struct diagnosis *d, const struct diag_thresholds *t);

/* The sentence: "CLOSE_WAIT 4.200 s: the local application did not close() ..." */
void diagnosis_add_text(struct strbuf *sb, const struct diag_phase *p);
/* "local_app_did_not_close", "fin_retransmitted", ...; NULL for DIAG_CAUSE_NONE. */
const char *diagnosis_cause_name(enum diag_cause cause);

#endif
