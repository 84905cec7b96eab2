// SPDX-License-Identifier: GPL-2.0
/* Wall-clock formatting: RFC 3339 in UTC for JSON, time of day for text. */
#include "unit.h"

#include <stdlib.h>
#include <time.h>
#include "timefmt.h"

static struct strbuf sb;

static const char *rfc3339_of(int64_t unix_ns)
{
	strbuf_reset(&sb);
	timefmt_rfc3339(&sb, unix_ns);
	return sb.data;
}

static const char *clock_of(const char *tz, int64_t unix_ns)
{
	setenv("TZ", tz, 1);
	tzset();
	strbuf_reset(&sb);
	timefmt_clock(&sb, unix_ns);
	setenv("TZ", "UTC", 1);
	tzset();
	return sb.data;
}

TEST(test_timefmt_rfc3339_epoch)
{
	CHECK_STR(rfc3339_of(0), "1970-01-01T00:00:00.000000000Z");
}

TEST(test_timefmt_rfc3339_keeps_all_nanoseconds)
{
	CHECK_STR(rfc3339_of(1700000000123456789), "2023-11-14T22:13:20.123456789Z");
	CHECK_STR(rfc3339_of(1700000000000000001), "2023-11-14T22:13:20.000000001Z");
}

TEST(test_timefmt_rfc3339_leap_day)
{
	CHECK_STR(rfc3339_of(951782400000000000), "2000-02-29T00:00:00.000000000Z");
}

TEST(test_timefmt_rfc3339_before_epoch)
{
	CHECK_STR(rfc3339_of(-1), "1969-12-31T23:59:59.999999999Z");
	CHECK_STR(rfc3339_of(-1000000000), "1969-12-31T23:59:59.000000000Z");
	CHECK_STR(rfc3339_of(-1500000000), "1969-12-31T23:59:58.500000000Z");
}

TEST(test_timefmt_rfc3339_is_utc_whatever_the_zone)
{
	setenv("TZ", "<+02>-2", 1);
	tzset();
	CHECK_STR(rfc3339_of(0), "1970-01-01T00:00:00.000000000Z");
	setenv("TZ", "UTC", 1);
	tzset();
}

TEST(test_timefmt_rfc3339_appends)
{
	strbuf_reset(&sb);
	strbuf_adds(&sb, "ts=");
	timefmt_rfc3339(&sb, 0);
	CHECK_STR(sb.data, "ts=1970-01-01T00:00:00.000000000Z");
}

TEST(test_timefmt_clock_utc_truncates_to_microseconds)
{
	CHECK_STR(clock_of("UTC", 1700000000123456789), "22:13:20.123456");
	CHECK_STR(clock_of("UTC", 0), "00:00:00.000000");
}

TEST(test_timefmt_clock_before_epoch)
{
	CHECK_STR(clock_of("UTC", -1), "23:59:59.999999");
}

TEST(test_timefmt_clock_uses_local_zone)
{
	CHECK_STR(clock_of("<+02>-2", 1700000000123456789), "00:13:20.123456");
	CHECK_STR(clock_of("<-05>5", 1700000000123456789), "17:13:20.123456");
}

TEST(test_timefmt_unix_ns_adds_the_offset_and_wraps_rather_than_overflowing)
{
	CHECK_INT(timefmt_unix_ns(5000, 1764000000000000000ll), 1764000000000005000ll);
	CHECK_INT(timefmt_unix_ns(5000, -1000), 4000);
	/* A recording's times are whatever its file says; the sum must not be undefined. */
	CHECK_INT(timefmt_unix_ns(UINT64_MAX, 1), 0);
	CHECK_INT(timefmt_unix_ns((uint64_t)INT64_MAX, 1), INT64_MIN);
	CHECK_STR(rfc3339_of(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
}
