// SPDX-License-Identifier: GPL-2.0
#include "timefmt.h"

#include <time.h>

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

uint64_t timefmt_mono_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ns_of(&ts);
}

int64_t timefmt_real_minus_mono_ns(void)
{
	struct timespec m1, r, m2;

	/* Bracket the realtime read so the offset is good to a fraction of a µs. */
	clock_gettime(CLOCK_MONOTONIC, &m1);
	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m2);
	return ns_of(&r) - (ns_of(&m1) + ns_of(&m2)) / 2;
}

static void split(int64_t unix_ns, time_t *sec, long *ns)
{
	*sec = (time_t)(unix_ns / 1000000000);
	*ns = (long)(unix_ns % 1000000000);
	if (*ns < 0) {
		*ns += 1000000000;
		*sec -= 1;
	}
}

void timefmt_rfc3339(struct strbuf *sb, int64_t unix_ns)
{
	struct tm tm;
	time_t sec;
	long ns;

	split(unix_ns, &sec, &ns);
	gmtime_r(&sec, &tm);
	strbuf_addf(sb, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
}

void timefmt_clock(struct strbuf *sb, int64_t unix_ns)
{
	struct tm tm;
	time_t sec;
	long ns;

	split(unix_ns, &sec, &ns);
	localtime_r(&sec, &tm);
	strbuf_addf(sb, "%02d:%02d:%02d.%06ld", tm.tm_hour, tm.tm_min, tm.tm_sec, ns / 1000);
}
