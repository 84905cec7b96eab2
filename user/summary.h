/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Summaries: the figures of many connections over a period (the run, or one
 * --interval). Fed each finished connection with its verdict; pure C, no
 * I/O, nothing printed. Adding a connection is O(1): counters, a histogram
 * bucket per duration, and for a slow close one update of each top table.
 *
 * A connection still open when tracing ends is not counted: it has not
 * finished, and its close time is not known.
 */
#ifndef TCPWAVE_SUMMARY_H
#define TCPWAVE_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include "conn.h"
#include "histogram.h"
#include "summary_top.h"
#include "tcpwave.h"

/* A close is slow from this long when no --slow-close threshold was given. */
#define SUMMARY_SLOW_CLOSE_DEFAULT_NS 1000000000ull
/* Keys kept by each top table; see summary_top.h for what happens past it. */
#define SUMMARY_TOP_KEYS 1024

/* The close states whose time is summed from each connection's timeline. */
enum summary_state {
	SUMMARY_FIN_WAIT1,
	SUMMARY_FIN_WAIT2,
	SUMMARY_CLOSE_WAIT,
	SUMMARY_LAST_ACK,
	SUMMARY_CLOSING,
	SUMMARY_STATES,
};

/* Each is the last of its enum in conn.h. */
#define SUMMARY_OPENS (CONN_OPEN_UNKNOWN + 1)
#define SUMMARY_CLOSES (CONN_CLOSE_UNKNOWN + 1)
#define SUMMARY_ENDS (CONN_END_FIN_WAIT2 + 1)

/* The sockets the kernel holds when the summary ends (sock_count.h). */
struct summary_sockets {
	bool known; /* false: the kernel could not be asked */
	uint64_t time_wait;
	uint64_t close_wait;
};

struct summary {
	uint64_t slow_close_ns; /* the threshold */
	uint64_t start_ns; /* CLOCK_MONOTONIC: the period covered */
	uint64_t end_ns;

	uint64_t connections;
	uint64_t by_open[SUMMARY_OPENS];
	uint64_t by_close[SUMMARY_CLOSES]; /* CONN_CLOSE_NONE stays 0: only finished ones */
	uint64_t by_open_close[SUMMARY_OPENS][SUMMARY_CLOSES];
	uint64_t by_end[SUMMARY_ENDS]; /* hand-overs: CONN_END_TIME_WAIT, _FIN_WAIT2 */
	uint64_t tw_overflows; /* FINs exchanged, but tcp_max_tw_buckets was full */
	uint64_t slow_closes;

	struct histogram handshake[SUMMARY_OPENS];
	struct histogram lifetime;
	struct histogram close[SUMMARY_CLOSES];
	/* Time the socket spent in each close state, one value per stay. */
	struct histogram state[SUMMARY_STATES];

	/* Slow closes by remote endpoint and by process; ranked by summary_end(). */
	struct summary_top remotes;
	struct summary_top processes;

	/* Set by summary_end(). */
	uint64_t counters[TW_CNT_MAX]; /* the kernel side's counters over the period */
	struct summary_sockets sockets;
	uint64_t counters_base[TW_CNT_MAX]; /* their totals when the period began */
};

/* The kernel state number of a summary_state (TW_FIN_WAIT1, ...). */
__u8 summary_state_tcp(enum summary_state st);

/*
 * Begin at now_ns (CLOCK_MONOTONIC) with the kernel side's counters as they
 * are now. A close is slow from slow_close_ns. 0 or -ENOMEM.
 */
int summary_init(struct summary *s, uint64_t slow_close_ns, uint64_t now_ns,
		 const uint64_t counters[TW_CNT_MAX]);
void summary_free(struct summary *s);

void summary_add(struct summary *s, const struct tw_conn *c, const struct conn_verdict *v);

/*
 * End the period at now_ns: the counters' totals now, and the sockets the
 * kernel holds now. Ranks the top tables. Adding may go on, and a later
 * summary_end() covers everything since the start.
 */
void summary_end(struct summary *s, uint64_t now_ns, const uint64_t counters[TW_CNT_MAX],
		 const struct summary_sockets *sockets);
/* Begin the next period where the last summary_end() left off, from zero. */
void summary_restart(struct summary *s);

#endif
