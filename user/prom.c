// SPDX-License-Identifier: GPL-2.0
#include "prom.h"

#include <inttypes.h>
#include "output_summary.h"
#include "tcp_state.h"

#define US_PER_S 1000000u

static void family(struct strbuf *sb, const char *name, const char *type, const char *help)
{
	strbuf_addf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * name{key="value"} and a space, or name and a space for key NULL. The
 * values are tcpwave's own names (state and kind names): nothing to escape.
 */
static void series(struct strbuf *sb, const char *name, const char *suffix, const char *key,
		   const char *value)
{
	strbuf_adds(sb, name);
	strbuf_adds(sb, suffix);
	if (key)
		strbuf_addf(sb, "{%s=\"%s\"}", key, value);
	strbuf_addc(sb, ' ');
}

static void sample(struct strbuf *sb, const char *name, const char *key, const char *value,
		   uint64_t v)
{
	series(sb, name, "", key, value);
	strbuf_add_u64(sb, v);
	strbuf_addc(sb, '\n');
}

static void counter(struct strbuf *sb, const char *name, const char *help, uint64_t v)
{
	family(sb, name, "counter", help);
	sample(sb, name, NULL, NULL, v);
}

/* One label set's _bucket, _sum and _count lines; key NULL for none. */
static void histogram_series(struct strbuf *sb, const char *name, const char *key,
			     const char *value, const struct histogram *h)
{
	uint64_t cumulative = 0, le_us, sum_s;
	uint32_t sum_ns;
	unsigned int i;

	for (i = 0; i <= PROM_LAST_BUCKET + 1; i++) {
		strbuf_addf(sb, "%s_bucket{", name);
		if (key)
			strbuf_addf(sb, "%s=\"%s\",", key, value);
		strbuf_adds(sb, "le=\"");
		if (i <= PROM_LAST_BUCKET) {
			cumulative += h->buckets[i];
			le_us = histogram_bucket_le_us(i);
			output_summary_seconds(sb, le_us / US_PER_S,
					       (uint32_t)(le_us % US_PER_S) * 1000);
		} else {
			cumulative = h->count;
			strbuf_adds(sb, "+Inf");
		}
		strbuf_adds(sb, "\"} ");
		strbuf_add_u64(sb, cumulative);
		strbuf_addc(sb, '\n');
	}
	series(sb, name, "_sum", key, value);
	histogram_sum(h, &sum_s, &sum_ns);
	output_summary_seconds(sb, sum_s, sum_ns);
	strbuf_addc(sb, '\n');
	series(sb, name, "_count", key, value);
	strbuf_add_u64(sb, h->count);
	strbuf_addc(sb, '\n');
}

static void connections(struct strbuf *sb, const struct summary *s)
{
	int open, close;

	family(sb, "tcpwave_connections_total", "counter",
	       "TCP connections that finished, by how they opened and how they closed.");
	for (open = 0; open < SUMMARY_OPENS; open++)
		for (close = CONN_CLOSE_ACTIVE; close < SUMMARY_CLOSES; close++)
			strbuf_addf(sb, "tcpwave_connections_total{open=\"%s\",close=\"%s\"} %" PRIu64
					"\n",
				    conn_open_name(open), conn_close_name(close),
				    s->by_open_close[open][close]);
	family(sb, "tcpwave_handovers_total", "counter",
	       "Finished connections the kernel handed to a timewait socket, by its state.");
	sample(sb, "tcpwave_handovers_total", "state", "TIME_WAIT", s->by_end[CONN_END_TIME_WAIT]);
	sample(sb, "tcpwave_handovers_total", "state", "FIN_WAIT2", s->by_end[CONN_END_FIN_WAIT2]);
	counter(sb, "tcpwave_time_wait_overflows_total",
		"Connections left without TIME_WAIT: net.ipv4.tcp_max_tw_buckets was full.",
		s->tw_overflows);
	counter(sb, "tcpwave_slow_closes_total",
		"Connections whose close took tcpwave_slow_close_threshold_seconds or longer.",
		s->slow_closes);
	family(sb, "tcpwave_slow_close_threshold_seconds", "gauge",
	       "From how long a close counts as slow.");
	strbuf_adds(sb, "tcpwave_slow_close_threshold_seconds ");
	output_summary_seconds(sb, s->slow_close_ns / (US_PER_S * 1000ull),
			       (uint32_t)(s->slow_close_ns % (US_PER_S * 1000ull)));
	strbuf_addc(sb, '\n');
}

/* The kernel side's losses, each a counter of struct summary's counters. */
static const struct loss_metric {
	const char *name;
	const char *help;
	enum tw_counter counter;
} loss_metrics[] = {
	{ "tcpwave_lost_events_total",
	  "Records the kernel side could not hand over: the ring buffer was full.", TW_CNT_LOST },
	{ "tcpwave_sockets_untracked_total",
	  "Sockets traced without their state: the classic mode's socket table was full.",
	  TW_CNT_SOCK_DROPPED },
	{ "tcpwave_transitions_missed_total",
	  "Runs of tcpwave's programs the kernel skipped: already running on that CPU.",
	  TW_CNT_MISSED },
	{ "tcpwave_connections_unreported_total",
	  "Connections that left no record, known when tracing ends.", TW_CNT_UNREPORTED },
};

static void kernel_side(struct strbuf *sb, const struct summary *s)
{
	size_t i;

	for (i = 0; i < sizeof(loss_metrics) / sizeof(loss_metrics[0]); i++)
		counter(sb, loss_metrics[i].name, loss_metrics[i].help,
			s->counters[loss_metrics[i].counter]);
	if (!s->sockets.known)
		return;
	family(sb, "tcpwave_sockets", "gauge",
	       "TCP sockets in tcpwave's network namespace, by state, when the file was written.");
	sample(sb, "tcpwave_sockets", "state", "TIME_WAIT", s->sockets.time_wait);
	sample(sb, "tcpwave_sockets", "state", "CLOSE_WAIT", s->sockets.close_wait);
}

static void histograms(struct strbuf *sb, const struct summary *s)
{
	int i;

	family(sb, "tcpwave_handshake_seconds", "histogram",
	       "Handshake time: connect() from SYN to ESTABLISHED; "
	       "accepted, first SYN-ACK to the final ACK.");
	for (i = 0; i < SUMMARY_OPENS; i++)
		if (s->handshake[i].count)
			histogram_series(sb, "tcpwave_handshake_seconds", "open", conn_open_name(i),
					 &s->handshake[i]);
	family(sb, "tcpwave_lifetime_seconds", "histogram",
	       "Connection lifetime, first state to CLOSE.");
	histogram_series(sb, "tcpwave_lifetime_seconds", NULL, NULL, &s->lifetime);
	family(sb, "tcpwave_close_seconds", "histogram",
	       "Close time: first FIN sent or received to CLOSE "
	       "or the hand-over to a timewait socket.");
	for (i = CONN_CLOSE_ACTIVE; i < SUMMARY_CLOSES; i++)
		if (s->close[i].count)
			histogram_series(sb, "tcpwave_close_seconds", "close", conn_close_name(i),
					 &s->close[i]);
	family(sb, "tcpwave_close_state_seconds", "histogram",
	       "Time a closing connection spent in each close state.");
	for (i = 0; i < SUMMARY_STATES; i++)
		if (s->state[i].count)
			histogram_series(sb, "tcpwave_close_state_seconds", "state",
					 tcp_state_name(summary_state_tcp(i)), &s->state[i]);
}

void prom_format(struct strbuf *sb, const struct summary *s)
{
	connections(sb, s);
	kernel_side(sb, s);
	histograms(sb, s);
}
