// SPDX-License-Identifier: GPL-2.0
/* The summary as text and JSON, byte for byte, from a summary written by hand. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "output_summary.h"
#include "summary_fixture.h"

static const char expected_text[] =
	"\n"
	"tcpwave summary 22:13:20.000000 to 22:13:30.000000 (10.000 s): 4 connections finished\n"
	"  opened     active 2, passive 2, unknown 0\n"
	"  closed     active 2, passive 1, simultaneous 0, reset 1, refused 0, timeout 0, unknown 0\n"
	"  handed to  TIME_WAIT 2, FIN_WAIT2 0; no TIME_WAIT, tcp_max_tw_buckets full: 0\n"
	"  slow       2 closes took 1 s or more\n"
	"  now        TIME_WAIT 9, CLOSE_WAIT 2 sockets in tcpwave's network namespace\n"
	"  lost       4 records (ring buffer full), 0 sockets untracked\n"
	"  missed     0 transitions (program busy), 0 connections unreported\n"
	"\n"
	"handshake, active open (2)\n"
	"                   usecs : count      distribution\n"
	"                (32, 64] : 1          |****************************************|\n"
	"               (64, 128] : 0          |                                        |\n"
	"              (128, 256] : 1          |****************************************|\n"
	"\n"
	"handshake, passive open (1)\n"
	"                   usecs : count      distribution\n"
	"                (16, 32] : 1          |****************************************|\n"
	"\n"
	"lifetime (4)\n"
	"                   usecs : count      distribution\n"
	"       (524288, 1048576] : 1          |**************                          |\n"
	"      (1048576, 2097152] : 3          |****************************************|\n"
	"\n"
	"close time, active close (2)\n"
	"                   usecs : count      distribution\n"
	"       (524288, 1048576] : 1          |****************************************|\n"
	"      (1048576, 2097152] : 1          |****************************************|\n"
	"\n"
	"close time, passive close (1)\n"
	"                   usecs : count      distribution\n"
	"      (1048576, 2097152] : 1          |****************************************|\n"
	"\n"
	"time in FIN_WAIT1 (2)\n"
	"                   usecs : count      distribution\n"
	"       (524288, 1048576] : 1          |****************************************|\n"
	"      (1048576, 2097152] : 1          |****************************************|\n"
	"\n"
	"time in CLOSE_WAIT (1)\n"
	"                   usecs : count      distribution\n"
	"      (1048576, 2097152] : 1          |****************************************|\n"
	"\n"
	"top remote endpoints by slow closes\n"
	"  SLOW     WORST_MS     REMOTE\n"
	"  1        1500.000     10.0.0.1:5432\n"
	"  1        1200.000     [::1]:*\n"
	"\n"
	"top processes by slow closes\n"
	"  SLOW     WORST_MS     PID     COMM\n"
	"  1        1500.000     7       psql\n"
	"  1        1200.000     -       -\n";

static const char expected_json[] =
	"{\"type\":\"summary\",\"ts\":\"2023-11-14T22:13:30.000000000Z\""
	",\"start_ts\":\"2023-11-14T22:13:20.000000000Z\",\"connections\":4,\"open\":{\"active\":2"
	",\"passive\":2,\"unknown\":0},\"close\":{\"active\":2,\"passive\":1,\"simultaneous\":0"
	",\"reset\":1"
	",\"refused\":0,\"timeout\":0,\"unknown\":0},\"handover\":{\"TIME_WAIT\":2,\"FIN_WAIT2\":0}"
	",\"tw_overflow\":0,\"slow_close_ns\":1000000000,\"slow_closes\":2"
	",\"handshake\":{\"active\":{\"count\":2,\"sum_s\":0.00024,\"buckets\":[{\"le_us\":64"
	",\"count\":1},{\"le_us\":256,\"count\":1}]},\"passive\":{\"count\":1,\"sum_s\":0.00003"
	",\"buckets\":[{\"le_us\":32,\"count\":1}]}},\"lifetime\":{\"count\":4,\"sum_s\":4.7"
	",\"buckets\":[{\"le_us\":1048576,\"count\":1},{\"le_us\":2097152,\"count\":3}]}"
	",\"close_time\":{\"active\":{\"count\":2,\"sum_s\":2.4,\"buckets\":[{\"le_us\":1048576"
	",\"count\":1},{\"le_us\":2097152,\"count\":1}]},\"passive\":{\"count\":1,\"sum_s\":1.2"
	",\"buckets\":[{\"le_us\":2097152,\"count\":1}]}},\"state_time\":{\"FIN_WAIT1\":{\"count\":2"
	",\"sum_s\":2.4,\"buckets\":[{\"le_us\":1048576,\"count\":1},{\"le_us\":2097152,\"count\":1}]}"
	",\"CLOSE_WAIT\":{\"count\":1,\"sum_s\":1.2,\"buckets\":[{\"le_us\":2097152,\"count\":1}]}}"
	",\"top_remotes\":[{\"family\":\"ipv4\",\"raddr\":\"10.0.0.1\",\"rport\":5432,\"slow_closes\":1"
	",\"worst_close_ns\":1500000000},{\"family\":\"ipv6\",\"raddr\":\"::1\",\"rport\":null"
	",\"slow_closes\":1,\"worst_close_ns\":1200000000}],\"top_remotes_evicted\":{\"entries\":0"
	",\"slow_closes\":0},\"top_processes\":[{\"pid\":7,\"comm\":\"psql\",\"slow_closes\":1"
	",\"worst_close_ns\":1500000000},{\"pid\":null,\"comm\":null,\"slow_closes\":1"
	",\"worst_close_ns\":1200000000}],\"top_processes_evicted\":{\"entries\":0,\"slow_closes\":0}"
	",\"sockets\":{\"TIME_WAIT\":9,\"CLOSE_WAIT\":2},\"lost\":4"
	",\"sockets_untracked\":0,\"transitions_missed\":0,\"connections_unreported\":0}\n";

TEST(test_output_summary_text_has_counts_histograms_and_top_tables)
{
	struct strbuf sb = { 0 };
	struct summary s;

	setenv("TZ", "UTC", 1);
	tzset();
	summary_fixture(&s);
	output_summary_text(&sb, &s, SUMMARY_FIXTURE_REAL_MINUS_MONO);
	CHECK_STR(sb.data, expected_text);
	strbuf_free(&sb);
	summary_free(&s);
}

TEST(test_output_summary_json_record)
{
	struct strbuf sb = { 0 };
	struct summary s;

	summary_fixture(&s);
	output_summary_json(&sb, &s, SUMMARY_FIXTURE_REAL_MINUS_MONO);
	CHECK_STR(sb.data, expected_json);
	strbuf_free(&sb);
	summary_free(&s);
}

TEST(test_output_summary_without_socket_counts_or_slow_closes)
{
	static const uint64_t counters[TW_CNT_MAX];
	static const struct summary_sockets unknown;
	struct strbuf sb = { 0 };
	struct summary s;

	setenv("TZ", "UTC", 1);
	tzset();
	if (summary_init(&s, 250000000, 100000000000ull, counters)) {
		perror("summary_init");
		exit(1);
	}
	summary_end(&s, 100500000000ull, counters, &unknown);
	output_summary_text(&sb, &s, SUMMARY_FIXTURE_REAL_MINUS_MONO);
	CHECK_STR(sb.data,
		  "\n"
		  "tcpwave summary 22:13:20.000000 to 22:13:20.500000 (0.500 s): 0 connections "
		  "finished\n"
		  "  opened     active 0, passive 0, unknown 0\n"
		  "  closed     active 0, passive 0, simultaneous 0, reset 0, refused 0, timeout 0, "
		  "unknown 0\n"
		  "  handed to  TIME_WAIT 0, FIN_WAIT2 0; no TIME_WAIT, tcp_max_tw_buckets full: 0\n"
		  "  slow       0 closes took 0.25 s or more\n"
		  "  now        TIME_WAIT and CLOSE_WAIT sockets not known\n"
		  "  lost       0 records (ring buffer full), 0 sockets untracked\n"
		  "  missed     0 transitions (program busy), 0 connections unreported\n");
	strbuf_reset(&sb);
	output_summary_json(&sb, &s, SUMMARY_FIXTURE_REAL_MINUS_MONO);
	CHECK(strstr(sb.data, ",\"slow_close_ns\":250000000,\"slow_closes\":0,\"handshake\":{},"
			      "\"lifetime\":{\"count\":0,\"sum_s\":0,\"buckets\":[]},"
			      "\"close_time\":{},\"state_time\":{},\"top_remotes\":[],"));
	CHECK(strstr(sb.data, ",\"sockets\":null,"));
	strbuf_free(&sb);
	summary_free(&s);
}

TEST(test_output_summary_seconds_are_exact_without_trailing_zeros)
{
	struct strbuf sb = { 0 };

	output_summary_seconds(&sb, 0, 0);
	strbuf_addc(&sb, ' ');
	output_summary_seconds(&sb, 0, 1000);
	strbuf_addc(&sb, ' ');
	output_summary_seconds(&sb, 12, 500000000);
	strbuf_addc(&sb, ' ');
	output_summary_seconds(&sb, 34359, 738368000);
	strbuf_addc(&sb, ' ');
	output_summary_seconds(&sb, UINT64_MAX, 999999999);
	CHECK_STR(sb.data, "0 0.000001 12.5 34359.738368 18446744073709551615.999999999");
	strbuf_free(&sb);
}

TEST(test_output_summary_top_tables_show_ten_and_say_what_the_rest_held)
{
	static const uint64_t counters[TW_CNT_MAX];
	static const struct summary_sockets unknown;
	struct strbuf sb = { 0 };
	union summary_top_key k;
	struct summary s;
	const char *p;
	int i, shown;

	if (summary_init(&s, 1000000000ull, 0, counters)) {
		perror("summary_init");
		exit(1);
	}
	/* Twelve processes, pid i with i slow closes; three more already evicted. */
	for (i = 1; i <= 12; i++) {
		memset(&k, 0, sizeof(k));
		k.process.pid = (__u32)i;
		snprintf(k.process.comm, sizeof(k.process.comm), "p%d", i);
		for (shown = 0; shown < i; shown++)
			summary_top_add(&s.processes, &k, 1000000000ull);
		s.slow_closes += (uint64_t)i;
	}
	s.processes.evicted_entries = 3;
	s.processes.evicted_count = 5;
	summary_end(&s, 1000000000ull, counters, &unknown);
	output_summary_text(&sb, &s, 0);
	p = strstr(sb.data, "top processes by slow closes\n");
	CHECK(p != NULL);
	CHECK_STR(p ? p : "", "top processes by slow closes\n"
			      "  SLOW     WORST_MS     PID     COMM\n"
			      "  12       1000.000     12      p12\n"
			      "  11       1000.000     11      p11\n"
			      "  10       1000.000     10      p10\n"
			      "  9        1000.000     9       p9\n"
			      "  8        1000.000     8       p8\n"
			      "  7        1000.000     7       p7\n"
			      "  6        1000.000     6       p6\n"
			      "  5        1000.000     5       p5\n"
			      "  4        1000.000     4       p4\n"
			      "  3        1000.000     3       p3\n"
			      "  and 2 more processes with 3 slow closes\n"
			      "  and 3 processes evicted from the table with 5 slow closes\n");
	strbuf_reset(&sb);
	output_summary_json(&sb, &s, 0);
	for (shown = 0, p = strstr(sb.data, "\"top_processes\":["); p && *p != ']'; p++)
		shown += *p == '{';
	CHECK_INT(shown, OUTPUT_SUMMARY_TOP);
	CHECK(strstr(sb.data, "\"top_processes_evicted\":{\"entries\":3,\"slow_closes\":5}"));
	strbuf_free(&sb);
	summary_free(&s);
}

TEST(test_output_summary_text_first_bucket_is_closed_at_zero)
{
	static const uint64_t counters[TW_CNT_MAX];
	static const struct summary_sockets unknown;
	struct strbuf sb = { 0 };
	struct summary s;
	const char *p;

	if (summary_init(&s, 1000000000ull, 0, counters)) {
		perror("summary_init");
		exit(1);
	}
	histogram_add(&s.lifetime, 0);
	histogram_add(&s.lifetime, 1000);
	histogram_add(&s.lifetime, 3000);
	summary_end(&s, 0, counters, &unknown);
	output_summary_text(&sb, &s, 0);
	p = strstr(sb.data, "\nlifetime (3)\n");
	CHECK_STR(p ? p : "", "\nlifetime (3)\n"
			      "                   usecs : count      distribution\n"
			      "                  [0, 1] : 2          |****************************************|\n"
			      "                  (1, 2] : 0          |                                        |\n"
			      "                  (2, 4] : 1          |********************                    |\n");
	strbuf_free(&sb);
	summary_free(&s);
}
