// SPDX-License-Identifier: GPL-2.0
#include "output_summary.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "addr.h"
#include "json.h"
#include "tcp_state.h"
#include "text_fields.h"
#include "timefmt.h"

#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)
/* Width of the text histograms' bars, as bcc's. */
#define BAR_WIDTH 40
/* The top tables' columns. */
#define COL_SLOW 9
#define COL_WORST 13

void output_summary_seconds(struct strbuf *sb, uint64_t seconds, uint32_t ns)
{
	char frac[16];
	int len;

	strbuf_add_u64(sb, seconds);
	if (!ns)
		return;
	len = snprintf(frac, sizeof(frac), "%09" PRIu32, ns);
	while (len > 0 && frac[len - 1] == '0')
		len--;
	strbuf_addc(sb, '.');
	strbuf_add(sb, frac, (size_t)len);
}

/* Writes a top table's key: the remote endpoint or the process. */
typedef void (*key_fn)(struct strbuf *sb, const union summary_top_key *k);

static const char *state_name(int st)
{
	return tcp_state_name(summary_state_tcp((enum summary_state)st));
}

/* "10.0.0.5:5432", "[::1]:*" (any port, as ss writes it). */
static void add_remote(struct strbuf *sb, const union summary_top_key *k)
{
	char ip[ADDR_IP_STRLEN];

	addr_format(ip, k->remote.family, k->remote.addr);
	strbuf_addf(sb, k->remote.family == AF_INET6 ? "[%s]:" : "%s:", ip);
	if (k->remote.port)
		strbuf_add_u64(sb, k->remote.port);
	else
		strbuf_addc(sb, '*');
}

/* ---- text ---- */

static void text_ms(struct strbuf *sb, uint64_t ns)
{
	strbuf_addf(sb, "%" PRIu64 ".%03" PRIu64, ns / NS_PER_MS, ns / 1000 % 1000);
}

static void text_count(struct strbuf *sb, const char *name, uint64_t n, bool first)
{
	strbuf_addf(sb, "%s%s %" PRIu64, first ? "" : ", ", name, n);
}

static void text_counts(struct strbuf *sb, const struct summary *s)
{
	int i;

	strbuf_adds(sb, "  opened     ");
	for (i = 0; i < SUMMARY_OPENS; i++)
		text_count(sb, conn_open_name(i), s->by_open[i], i == 0);
	strbuf_adds(sb, "\n  closed     ");
	for (i = CONN_CLOSE_ACTIVE; i < SUMMARY_CLOSES; i++)
		text_count(sb, conn_close_name(i), s->by_close[i], i == CONN_CLOSE_ACTIVE);
	strbuf_adds(sb, "\n  handed to  ");
	text_count(sb, "TIME_WAIT", s->by_end[CONN_END_TIME_WAIT], true);
	text_count(sb, "FIN_WAIT2", s->by_end[CONN_END_FIN_WAIT2], false);
	strbuf_addf(sb, "; no TIME_WAIT, tcp_max_tw_buckets full: %" PRIu64 "\n", s->tw_overflows);
	strbuf_addf(sb, "  slow       %" PRIu64 " closes took ", s->slow_closes);
	output_summary_seconds(sb, s->slow_close_ns / NS_PER_S,
			       (uint32_t)(s->slow_close_ns % NS_PER_S));
	strbuf_adds(sb, " s or more\n  now        ");
	if (s->sockets.known)
		strbuf_addf(sb, "TIME_WAIT %" PRIu64 ", CLOSE_WAIT %" PRIu64
				" sockets in tcpwave's network namespace\n",
			    s->sockets.time_wait, s->sockets.close_wait);
	else
		strbuf_adds(sb, "TIME_WAIT and CLOSE_WAIT sockets not known\n");
	strbuf_addf(sb, "  lost       %" PRIu64 " records (ring buffer full), %" PRIu64
			" sockets untracked\n",
		    s->counters[TW_CNT_LOST], s->counters[TW_CNT_SOCK_DROPPED]);
	strbuf_addf(sb, "  missed     %" PRIu64 " transitions (program busy), %" PRIu64
			" connections unreported\n",
		    s->counters[TW_CNT_MISSED], s->counters[TW_CNT_UNREPORTED]);
}

/* One bucket's edges: "[0, 1]" for the first, "(lo, hi]" for the others. */
static void text_bucket_range(char *out, size_t n, unsigned int i)
{
	uint64_t le = histogram_bucket_le_us(i);

	if (i == 0)
		snprintf(out, n, "[0, %" PRIu64 "]", le);
	else
		snprintf(out, n, "(%" PRIu64 ", %" PRIu64 "]", le / 2, le);
}

/* bcc's layout, from the first bucket with values to the last; nothing without values. */
static void text_histogram(struct strbuf *sb, const char *title, const char *kind,
			   const char *title_end, const struct histogram *h)
{
	unsigned int first = 0, last = HISTOGRAM_BUCKETS - 1, i, stars;
	uint64_t max = 0;
	char range[48];

	if (!h->count)
		return;
	while (!h->buckets[first])
		first++;
	while (!h->buckets[last])
		last--;
	for (i = first; i <= last; i++)
		if (h->buckets[i] > max)
			max = h->buckets[i];
	strbuf_addf(sb, "\n%s%s%s (%" PRIu64 ")\n", title, kind, title_end, h->count);
	strbuf_addf(sb, "%24s : %-10s %s\n", "usecs", "count", "distribution");
	for (i = first; i <= last; i++) {
		text_bucket_range(range, sizeof(range), i);
		/* Any bucket with values shows at least one star. */
		stars = (unsigned int)((h->buckets[i] * BAR_WIDTH + max - 1) / max);
		strbuf_addf(sb, "%24s : %-10" PRIu64 " |%-*.*s|\n", range, h->buckets[i], BAR_WIDTH,
			    (int)stars, "****************************************");
	}
}

static void text_histograms(struct strbuf *sb, const struct summary *s)
{
	int i;

	for (i = 0; i < SUMMARY_OPENS; i++)
		text_histogram(sb, "handshake, ", conn_open_name(i), " open", &s->handshake[i]);
	text_histogram(sb, "lifetime", "", "", &s->lifetime);
	for (i = CONN_CLOSE_ACTIVE; i < SUMMARY_CLOSES; i++)
		text_histogram(sb, "close time, ", conn_close_name(i), " close", &s->close[i]);
	for (i = 0; i < SUMMARY_STATES; i++)
		text_histogram(sb, "time in ", state_name(i), "", &s->state[i]);
}

/* PID and COMM as the connection table has them, "-" when the owner is not known. */
static void text_process(struct strbuf *sb, const union summary_top_key *k)
{
	size_t start = sb->len;

	if (k->process.pid)
		strbuf_add_u64(sb, k->process.pid);
	else
		strbuf_addc(sb, '-');
	text_end_column(sb, start, TEXT_COL_PID);
	if (k->process.pid)
		text_add_safe(sb, k->process.comm, sizeof(k->process.comm));
	else
		strbuf_addc(sb, '-');
}

/* The first OUTPUT_SUMMARY_TOP ranked entries, then what the rest and the evicted held. */
static void text_top(struct strbuf *sb, const char *what, const char *columns,
		     const struct summary_top *t, key_fn add_key)
{
	uint64_t more = 0;
	size_t start;
	uint32_t i;

	strbuf_addf(sb, "\ntop %s by slow closes\n  %-*s%-*s%s\n", what, COL_SLOW, "SLOW",
		    COL_WORST, "WORST_MS", columns);
	for (i = 0; i < t->used; i++) {
		if (i >= OUTPUT_SUMMARY_TOP) {
			more += t->entries[i].count;
			continue;
		}
		strbuf_adds(sb, "  ");
		start = sb->len;
		strbuf_add_u64(sb, t->entries[i].count);
		start = text_end_column(sb, start, COL_SLOW);
		text_ms(sb, t->entries[i].worst_ns);
		text_end_column(sb, start, COL_WORST);
		add_key(sb, &t->entries[i].key);
		strbuf_addc(sb, '\n');
	}
	if (t->used > OUTPUT_SUMMARY_TOP)
		strbuf_addf(sb, "  and %" PRIu32 " more %s with %" PRIu64 " slow closes\n",
			    t->used - OUTPUT_SUMMARY_TOP, what, more);
	if (t->evicted_entries)
		strbuf_addf(sb, "  and %" PRIu64 " %s evicted from the table with %" PRIu64
				" slow closes\n",
			    t->evicted_entries, what, t->evicted_count);
}

static void text_period(struct strbuf *sb, const struct summary *s, int64_t real_minus_mono_ns)
{
	uint64_t len = s->end_ns - s->start_ns;

	strbuf_adds(sb, "\ntcpwave summary ");
	timefmt_clock(sb, timefmt_unix_ns(s->start_ns, real_minus_mono_ns));
	strbuf_adds(sb, " to ");
	timefmt_clock(sb, timefmt_unix_ns(s->end_ns, real_minus_mono_ns));
	strbuf_addf(sb, " (%" PRIu64 ".%03" PRIu64 " s): %" PRIu64 " connections finished\n",
		    len / NS_PER_S, len / NS_PER_MS % 1000, s->connections);
}

void output_summary_text(struct strbuf *sb, const struct summary *s, int64_t real_minus_mono_ns)
{
	text_period(sb, s, real_minus_mono_ns);
	text_counts(sb, s);
	text_histograms(sb, s);
	if (s->slow_closes) {
		text_top(sb, "remote endpoints", "REMOTE", &s->remotes, add_remote);
		text_top(sb, "processes", "PID     COMM", &s->processes, text_process);
	}
}

/* ---- JSON ---- */

/* Replace the trailing comma of the last member with `closer`, or add it. */
static void json_close(struct strbuf *sb, char closer)
{
	if (sb->len && sb->data[sb->len - 1] == ',')
		sb->data[sb->len - 1] = closer;
	else
		strbuf_addc(sb, closer);
}

static void json_time(struct strbuf *sb, const char *key, int64_t unix_ns)
{
	json_add_key(sb, key);
	strbuf_addc(sb, '"');
	timefmt_rfc3339(sb, unix_ns);
	strbuf_adds(sb, "\",");
}

/* {"count":N,"sum_s":S,"buckets":[{"le_us":L,"count":N},...]}: buckets with values only. */
static void json_histogram(struct strbuf *sb, const char *key, const struct histogram *h)
{
	uint64_t sum_s;
	uint32_t sum_ns;
	unsigned int i;

	json_add_key(sb, key);
	strbuf_addc(sb, '{');
	json_add_u64(sb, "count", h->count);
	json_add_key(sb, "sum_s");
	histogram_sum(h, &sum_s, &sum_ns);
	output_summary_seconds(sb, sum_s, sum_ns);
	strbuf_adds(sb, ",\"buckets\":[");
	for (i = 0; i < HISTOGRAM_BUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		strbuf_adds(sb, "{\"le_us\":");
		strbuf_add_u64(sb, histogram_bucket_le_us(i));
		strbuf_adds(sb, ",\"count\":");
		strbuf_add_u64(sb, h->buckets[i]);
		strbuf_adds(sb, "},");
	}
	json_close(sb, ']');
	strbuf_adds(sb, "},");
}

typedef const char *(*kind_name_fn)(int kind);

/* {"kind":histogram,...} for the kinds with values. */
static void json_histograms(struct strbuf *sb, const char *key, const struct histogram *h, int from,
			    int to, kind_name_fn name)
{
	int i;

	json_add_key(sb, key);
	strbuf_addc(sb, '{');
	for (i = from; i < to; i++)
		if (h[i].count)
			json_histogram(sb, name(i), &h[i]);
	json_close(sb, '}');
	strbuf_addc(sb, ',');
}

static const char *open_name(int i)
{
	return conn_open_name((enum conn_open)i);
}

static const char *close_name(int i)
{
	return conn_close_name((enum conn_close)i);
}

static void json_counts(struct strbuf *sb, const char *key, const uint64_t *counts, int from,
			int to, kind_name_fn name)
{
	int i;

	json_add_key(sb, key);
	strbuf_addc(sb, '{');
	for (i = from; i < to; i++)
		json_add_u64(sb, name(i), counts[i]);
	json_close(sb, '}');
	strbuf_addc(sb, ',');
}

static void json_remote(struct strbuf *sb, const union summary_top_key *k)
{
	char ip[ADDR_IP_STRLEN];

	addr_format(ip, k->remote.family, k->remote.addr);
	json_add_name_or_null(sb, "family", addr_family_name(k->remote.family));
	json_add_name_or_null(sb, "raddr", ip);
	json_add_u64_or_null(sb, "rport", k->remote.port != 0, k->remote.port);
}

static void json_process(struct strbuf *sb, const union summary_top_key *k)
{
	json_add_u64_or_null(sb, "pid", k->process.pid != 0, k->process.pid);
	json_add_key(sb, "comm");
	if (k->process.pid)
		json_add_string(sb, k->process.comm, sizeof(k->process.comm));
	else
		strbuf_adds(sb, "null");
	strbuf_addc(sb, ',');
}

/* "key":[{...,"slow_closes":N,"worst_close_ns":N},...],"key_evicted":{...}, */
static void json_top(struct strbuf *sb, const char *key, const char *evicted_key,
		     const struct summary_top *t, key_fn add_key)
{
	uint32_t i;

	json_add_key(sb, key);
	strbuf_addc(sb, '[');
	for (i = 0; i < t->used && i < OUTPUT_SUMMARY_TOP; i++) {
		strbuf_addc(sb, '{');
		add_key(sb, &t->entries[i].key);
		json_add_u64(sb, "slow_closes", t->entries[i].count);
		json_add_u64(sb, "worst_close_ns", t->entries[i].worst_ns);
		json_close(sb, '}');
		strbuf_addc(sb, ',');
	}
	json_close(sb, ']');
	strbuf_addc(sb, ',');
	json_add_key(sb, evicted_key);
	strbuf_addc(sb, '{');
	json_add_u64(sb, "entries", t->evicted_entries);
	json_add_u64(sb, "slow_closes", t->evicted_count);
	json_close(sb, '}');
	strbuf_addc(sb, ',');
}

static void json_sockets(struct strbuf *sb, const struct summary_sockets *sk)
{
	json_add_key(sb, "sockets");
	if (!sk->known) {
		strbuf_adds(sb, "null,");
		return;
	}
	strbuf_addc(sb, '{');
	json_add_u64(sb, "TIME_WAIT", sk->time_wait);
	json_add_u64(sb, "CLOSE_WAIT", sk->close_wait);
	json_close(sb, '}');
	strbuf_addc(sb, ',');
}

void output_summary_json(struct strbuf *sb, const struct summary *s, int64_t real_minus_mono_ns)
{
	strbuf_adds(sb, "{\"type\":\"summary\",");
	json_time(sb, "ts", timefmt_unix_ns(s->end_ns, real_minus_mono_ns));
	json_time(sb, "start_ts", timefmt_unix_ns(s->start_ns, real_minus_mono_ns));
	json_add_u64(sb, "connections", s->connections);
	json_counts(sb, "open", s->by_open, 0, SUMMARY_OPENS, open_name);
	json_counts(sb, "close", s->by_close, CONN_CLOSE_ACTIVE, SUMMARY_CLOSES, close_name);
	strbuf_adds(sb, "\"handover\":{");
	json_add_u64(sb, "TIME_WAIT", s->by_end[CONN_END_TIME_WAIT]);
	json_add_u64(sb, "FIN_WAIT2", s->by_end[CONN_END_FIN_WAIT2]);
	json_close(sb, '}');
	strbuf_addc(sb, ',');
	json_add_u64(sb, "tw_overflow", s->tw_overflows);
	json_add_u64(sb, "slow_close_ns", s->slow_close_ns);
	json_add_u64(sb, "slow_closes", s->slow_closes);
	json_histograms(sb, "handshake", s->handshake, 0, SUMMARY_OPENS, open_name);
	json_histogram(sb, "lifetime", &s->lifetime);
	json_histograms(sb, "close_time", s->close, CONN_CLOSE_ACTIVE, SUMMARY_CLOSES, close_name);
	json_histograms(sb, "state_time", s->state, 0, SUMMARY_STATES, state_name);
	json_top(sb, "top_remotes", "top_remotes_evicted", &s->remotes, json_remote);
	json_top(sb, "top_processes", "top_processes_evicted", &s->processes, json_process);
	json_sockets(sb, &s->sockets);
	json_add_u64(sb, "lost", s->counters[TW_CNT_LOST]);
	json_add_u64(sb, "sockets_untracked", s->counters[TW_CNT_SOCK_DROPPED]);
	json_add_u64(sb, "transitions_missed", s->counters[TW_CNT_MISSED]);
	json_add_u64(sb, "connections_unreported", s->counters[TW_CNT_UNREPORTED]);
	json_close(sb, '}');
	strbuf_addc(sb, '\n');
}
