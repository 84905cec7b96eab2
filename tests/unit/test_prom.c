// SPDX-License-Identifier: GPL-2.0
/* Prometheus exposition text, byte for byte, and the file it is written to. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include "prom.h"
#include "summary_fixture.h"

/* Two finished connections, both active; lifetimes 3 µs and 40 s; one record lost. */
static void small_summary(struct summary *s)
{
	static const uint64_t start[TW_CNT_MAX], end[TW_CNT_MAX] = { [TW_CNT_LOST] = 1 };
	static const struct summary_sockets sockets = { .known = true, .time_wait = 5 };

	if (summary_init(s, 1000000000ull, 0, start)) {
		perror("summary_init");
		exit(1);
	}
	s->connections = 2;
	s->by_open[CONN_OPEN_ACTIVE] = 2;
	s->by_close[CONN_CLOSE_ACTIVE] = 1;
	s->by_close[CONN_CLOSE_REFUSED] = 1;
	s->by_open_close[CONN_OPEN_ACTIVE][CONN_CLOSE_ACTIVE] = 1;
	s->by_open_close[CONN_OPEN_ACTIVE][CONN_CLOSE_REFUSED] = 1;
	s->by_end[CONN_END_TIME_WAIT] = 1;
	histogram_add(&s->lifetime, 3000);
	histogram_add(&s->lifetime, 40000000000ull);
	summary_end(s, 1000000000ull, end, &sockets);
}

/* Byte for byte what node_exporter is given for small_summary(). */
static const char expected_small[] =
	"# HELP tcpwave_connections_total TCP connections that finished, by"
	" how they opened and how they closed.\n"
	"# TYPE tcpwave_connections_total counter\n"
	"tcpwave_connections_total{open=\"active\",close=\"active\"} 1\n"
	"tcpwave_connections_total{open=\"active\",close=\"passive\"} 0\n"
	"tcpwave_connections_total{open=\"active\",close=\"simultaneous\"} 0\n"
	"tcpwave_connections_total{open=\"active\",close=\"reset\"} 0\n"
	"tcpwave_connections_total{open=\"active\",close=\"refused\"} 1\n"
	"tcpwave_connections_total{open=\"active\",close=\"timeout\"} 0\n"
	"tcpwave_connections_total{open=\"active\",close=\"unknown\"} 0\n"
	"tcpwave_connections_total{open=\"passive\",close=\"active\"} 0\n"
	"tcpwave_connections_total{open=\"passive\",close=\"passive\"} 0\n"
	"tcpwave_connections_total{open=\"passive\",close=\"simultaneous\"} 0\n"
	"tcpwave_connections_total{open=\"passive\",close=\"reset\"} 0\n"
	"tcpwave_connections_total{open=\"passive\",close=\"refused\"} 0\n"
	"tcpwave_connections_total{open=\"passive\",close=\"timeout\"} 0\n"
	"tcpwave_connections_total{open=\"passive\",close=\"unknown\"} 0\n"
	"tcpwave_connections_total{open=\"unknown\",close=\"active\"} 0\n"
	"tcpwave_connections_total{open=\"unknown\",close=\"passive\"} 0\n"
	"tcpwave_connections_total{open=\"unknown\",close=\"simultaneous\"} 0\n"
	"tcpwave_connections_total{open=\"unknown\",close=\"reset\"} 0\n"
	"tcpwave_connections_total{open=\"unknown\",close=\"refused\"} 0\n"
	"tcpwave_connections_total{open=\"unknown\",close=\"timeout\"} 0\n"
	"tcpwave_connections_total{open=\"unknown\",close=\"unknown\"} 0\n"
	"# HELP tcpwave_handovers_total Finished connections the kernel handed"
	" to a timewait socket, by its state.\n"
	"# TYPE tcpwave_handovers_total counter\n"
	"tcpwave_handovers_total{state=\"TIME_WAIT\"} 1\n"
	"tcpwave_handovers_total{state=\"FIN_WAIT2\"} 0\n"
	"# HELP tcpwave_time_wait_overflows_total Connections left without"
	" TIME_WAIT: net.ipv4.tcp_max_tw_buckets was full.\n"
	"# TYPE tcpwave_time_wait_overflows_total counter\n"
	"tcpwave_time_wait_overflows_total 0\n"
	"# HELP tcpwave_slow_closes_total Connections whose close took"
	" tcpwave_slow_close_threshold_seconds or longer.\n"
	"# TYPE tcpwave_slow_closes_total counter\n"
	"tcpwave_slow_closes_total 0\n"
	"# HELP tcpwave_slow_close_threshold_seconds From how long a close counts as slow.\n"
	"# TYPE tcpwave_slow_close_threshold_seconds gauge\n"
	"tcpwave_slow_close_threshold_seconds 1\n"
	"# HELP tcpwave_lost_events_total Records the kernel side could not"
	" hand over: the ring buffer was full.\n"
	"# TYPE tcpwave_lost_events_total counter\n"
	"tcpwave_lost_events_total 1\n"
	"# HELP tcpwave_sockets_untracked_total Sockets traced without their"
	" state: the classic mode's socket table was full.\n"
	"# TYPE tcpwave_sockets_untracked_total counter\n"
	"tcpwave_sockets_untracked_total 0\n"
	"# HELP tcpwave_transitions_missed_total Runs of tcpwave's programs the kernel"
	" skipped: already running on that CPU.\n"
	"# TYPE tcpwave_transitions_missed_total counter\n"
	"tcpwave_transitions_missed_total 0\n"
	"# HELP tcpwave_connections_unreported_total Connections that left no record,"
	" known when tracing ends.\n"
	"# TYPE tcpwave_connections_unreported_total counter\n"
	"tcpwave_connections_unreported_total 0\n"
	"# HELP tcpwave_sockets TCP sockets in tcpwave's network namespace, by"
	" state, when the file was written.\n"
	"# TYPE tcpwave_sockets gauge\n"
	"tcpwave_sockets{state=\"TIME_WAIT\"} 5\n"
	"tcpwave_sockets{state=\"CLOSE_WAIT\"} 0\n"
	"# HELP tcpwave_handshake_seconds Handshake time: connect() from SYN"
	" to ESTABLISHED; accepted, first SYN-ACK to the final ACK.\n"
	"# TYPE tcpwave_handshake_seconds histogram\n"
	"# HELP tcpwave_lifetime_seconds Connection lifetime, first state to CLOSE.\n"
	"# TYPE tcpwave_lifetime_seconds histogram\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000001\"} 0\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000002\"} 0\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000004\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000008\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000016\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000032\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000064\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000128\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000256\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.000512\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.001024\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.002048\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.004096\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.008192\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.016384\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.032768\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.065536\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.131072\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.262144\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"0.524288\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"1.048576\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"2.097152\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"4.194304\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"8.388608\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"16.777216\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"33.554432\"} 1\n"
	"tcpwave_lifetime_seconds_bucket{le=\"67.108864\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"134.217728\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"268.435456\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"536.870912\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"1073.741824\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"2147.483648\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"4294.967296\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"8589.934592\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"17179.869184\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"34359.738368\"} 2\n"
	"tcpwave_lifetime_seconds_bucket{le=\"+Inf\"} 2\n"
	"tcpwave_lifetime_seconds_sum 40.000003\n"
	"tcpwave_lifetime_seconds_count 2\n"
	"# HELP tcpwave_close_seconds Close time: first FIN sent or received"
	" to CLOSE or the hand-over to a timewait socket.\n"
	"# TYPE tcpwave_close_seconds histogram\n"
	"# HELP tcpwave_close_state_seconds Time a closing connection spent in each close state.\n"
	"# TYPE tcpwave_close_state_seconds histogram\n";

TEST(test_prom_exposition_of_a_small_summary)
{
	struct strbuf sb = { 0 };
	struct summary s;

	small_summary(&s);
	prom_format(&sb, &s);
	CHECK_STR(sb.data, expected_small);
	strbuf_free(&sb);
	summary_free(&s);
}

/* The lines of text that begin with prefix, joined; for one series' checks. */
static void lines_starting(struct strbuf *out, const char *text, const char *prefix)
{
	const char *p, *end;

	strbuf_reset(out);
	for (p = text; *p; p = end + 1) {
		end = strchr(p, '\n');
		if (!end)
			break;
		if (!strncmp(p, prefix, strlen(prefix)))
			strbuf_add(out, p, (size_t)(end - p + 1));
	}
}

static int count_lines(const char *text)
{
	int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

TEST(test_prom_labelled_histograms_are_cumulative_per_label)
{
	struct strbuf sb = { 0 }, part = { 0 };
	struct summary s;

	summary_fixture(&s);
	prom_format(&sb, &s);
	/* Close times 0.9 s and 1.5 s: (0.524288, 1.048576] and (1.048576, 2.097152]. */
	lines_starting(&part, sb.data, "tcpwave_close_seconds_bucket{close=\"active\",le=\"0.524288\"}");
	CHECK_STR(part.data ? part.data : "",
		  "tcpwave_close_seconds_bucket{close=\"active\",le=\"0.524288\"} 0\n");
	lines_starting(&part, sb.data, "tcpwave_close_seconds_bucket{close=\"active\",le=\"1.048576\"}");
	CHECK_STR(part.data ? part.data : "",
		  "tcpwave_close_seconds_bucket{close=\"active\",le=\"1.048576\"} 1\n");
	lines_starting(&part, sb.data, "tcpwave_close_seconds_bucket{close=\"active\",le=\"+Inf\"}");
	CHECK_STR(part.data ? part.data : "",
		  "tcpwave_close_seconds_bucket{close=\"active\",le=\"+Inf\"} 2\n");
	lines_starting(&part, sb.data, "tcpwave_close_seconds_");
	CHECK(strstr(part.data, "tcpwave_close_seconds_sum{close=\"active\"} 2.4\n"
				"tcpwave_close_seconds_count{close=\"active\"} 2\n"));
	CHECK(strstr(part.data, "tcpwave_close_seconds_sum{close=\"passive\"} 1.2\n"));
	/* Kinds with no value have no series. */
	CHECK(!strstr(part.data, "close=\"reset\""));
	lines_starting(&part, sb.data, "tcpwave_close_state_seconds_count");
	CHECK_STR(part.data ? part.data : "",
		  "tcpwave_close_state_seconds_count{state=\"FIN_WAIT1\"} 2\n"
		  "tcpwave_close_state_seconds_count{state=\"CLOSE_WAIT\"} 1\n");
	lines_starting(&part, sb.data, "tcpwave_handshake_seconds_count");
	CHECK_STR(part.data ? part.data : "",
		  "tcpwave_handshake_seconds_count{open=\"active\"} 2\n"
		  "tcpwave_handshake_seconds_count{open=\"passive\"} 1\n");
	/* Each series has PROM_LAST_BUCKET + 1 finite buckets and +Inf. */
	lines_starting(&part, sb.data, "tcpwave_handshake_seconds_bucket{open=\"passive\"");
	CHECK_INT(count_lines(part.data), PROM_LAST_BUCKET + 2);
	strbuf_free(&part);
	strbuf_free(&sb);
	summary_free(&s);
}
