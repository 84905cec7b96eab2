// SPDX-License-Identifier: GPL-2.0
#include "timefmt.h"

#include <stdbool.h>
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

int64_t timefmt_unix_ns(uint64_t mono_ns, int64_t real_minus_mono_ns)
{
	return (int64_t)(mono_ns + (uint64_t)real_minus_mono_ns);
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

/*
 * Records come many to a second: the date and time of day are converted
 * once per second (gmtime_r and above all localtime_r are not cheap).
 */
struct second_cache {
	time_t sec;
	long zone; /* tzset()'s timezone when the text was made */
	char text[24];
	size_t len;
	bool valid;
};

typedef struct tm *(*breakdown_fn)(const time_t *, struct tm *);

static const char *second_text(struct second_cache *cache, time_t sec, breakdown_fn breakdown,
			       const char *fmt, size_t *len)
{
	struct tm tm;

	if (!cache->valid || cache->sec != sec || cache->zone != timezone) {
		breakdown(&sec, &tm);
		cache->len = strftime(cache->text, sizeof(cache->text), fmt, &tm);
		cache->sec = sec;
		cache->zone = timezone;
		cache->valid = true;
	}
	*len = cache->len;
	return cache->text;
}

void timefmt_rfc3339(struct strbuf *sb, int64_t unix_ns)
{
	/*
	 * Two seconds at a time: a connection record prints its close (ts) and
	 * its start (start_ts), which for any connection that spans a second
	 * boundary would evict each other from a single entry.
	 */
	static struct second_cache cache[2];
	static unsigned int least_recent;
	unsigned int k;
	const char *text;
	size_t len;
	time_t sec;
	long ns;

	split(unix_ns, &sec, &ns);
	k = cache[0].valid && cache[0].sec == sec ? 0 :
	    cache[1].valid && cache[1].sec == sec ? 1 : least_recent;
	least_recent = k ^ 1;
	text = second_text(&cache[k], sec, gmtime_r, "%Y-%m-%dT%H:%M:%S", &len);
	strbuf_add(sb, text, len);
	strbuf_addc(sb, '.');
	strbuf_add_zero_padded(sb, (uint32_t)ns, 9);
	strbuf_addc(sb, 'Z');
}

void timefmt_clock(struct strbuf *sb, int64_t unix_ns)
{
	static struct second_cache cache;
	const char *text;
	size_t len;
	time_t sec;
	long ns;

	split(unix_ns, &sec, &ns);
	text = second_text(&cache, sec, localtime_r, "%H:%M:%S", &len);
	strbuf_add(sb, text, len);
	strbuf_addc(sb, '.');
	strbuf_add_zero_padded(sb, (uint32_t)(ns / 1000), 6);
}
