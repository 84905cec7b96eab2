// SPDX-License-Identifier: GPL-2.0
/* --stuck: how often the check runs, what a stuck record says, and how it is printed. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "event.h"
#include "output_stuck.h"
#include "stuck.h"

#define MS 1000000ull
/* 2023-11-14T22:13:20Z as CLOCK_REALTIME minus CLOCK_MONOTONIC: mono 0 is that instant. */
#define REAL_MINUS_MONO 1700000000000000000ll

static const __u8 mapped_10_0_0_1[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };

/* A server socket in CLOSE_WAIT for 4.2 s, accepted while tcpwave watched. */
static struct tw_stuck close_wait(void)
{
	struct tw_stuck s = {
		.type = TW_REC_STUCK,
		.state = TW_CLOSE_WAIT,
		.age_from = TW_AGE_TRANSITION,
		.first_old_state = TW_LISTEN,
		.first_state = TW_SYN_RECV,
		.flags = TW_CONN_OWNER_KNOWN,
		.netns = 4026531840u,
		.cookie = 4242,
		.ts_ns = 5123456789,
		.state_start_ns = 923456789,
		.start_ns = 123456789,
		.cgroup_id = 7,
		.owner = { .pid = 124, .tgid = 123, .comm = "nginx" },
		.ep = { .laddr = { 10, 0, 0, 1 }, .raddr = { 10, 0, 0, 2 }, .lport = 80,
			.rport = 43210, .family = AF_INET },
	};

	return s;
}

/* An orphan in LAST_ACK that was already there when tracing began. */
static struct tw_stuck orphan_seen_at_start(void)
{
	struct tw_stuck s = close_wait();

	s.state = TW_LAST_ACK;
	s.age_from = TW_AGE_FIRST_SEEN;
	s.first_old_state = TW_LAST_ACK;
	s.first_state = TW_LAST_ACK;
	s.flags = TW_CONN_ORPHAN;
	s.state_start_ns = s.start_ns = 3123456789;
	return s;
}

TEST(test_stuck_check_interval_is_a_quarter_within_bounds)
{
	CHECK_INT(stuck_check_interval_ns(2000 * MS), 500 * MS);
	CHECK_INT(stuck_check_interval_ns(4000 * MS), 1000 * MS);
	CHECK_INT(stuck_check_interval_ns(60000 * MS), 1000 * MS);
	CHECK_INT(stuck_check_interval_ns(40 * MS), 10 * MS);
	CHECK_INT(stuck_check_interval_ns(1 * MS), 10 * MS);
	CHECK_INT(stuck_check_interval_ns(100 * MS), 25 * MS);
}

TEST(test_stuck_age_is_time_in_state_when_found)
{
	struct tw_stuck s = close_wait();

	CHECK_INT(stuck_age_ns(&s), 4200 * MS);
	CHECK(stuck_age_exact(&s));
	s.state_start_ns = s.ts_ns + 1; /* never negative */
	CHECK_INT(stuck_age_ns(&s), 0);
	s = orphan_seen_at_start();
	CHECK(!stuck_age_exact(&s));
}

TEST(test_stuck_open_follows_the_connection_rules)
{
	struct tw_stuck s = close_wait();

	CHECK_INT(stuck_open(&s), CONN_OPEN_PASSIVE);
	s.first_old_state = TW_CLOSE;
	s.first_state = TW_SYN_SENT;
	CHECK_INT(stuck_open(&s), CONN_OPEN_ACTIVE);
	s = orphan_seen_at_start();
	CHECK_INT(stuck_open(&s), CONN_OPEN_UNKNOWN);
}

TEST(test_stuck_age_from_names)
{
	CHECK_STR(stuck_age_from_name(TW_AGE_TRANSITION), "transition");
	CHECK_STR(stuck_age_from_name(TW_AGE_LAST_ACK), "last_ack");
	CHECK_STR(stuck_age_from_name(TW_AGE_TIMEWAIT), "timewait_entry");
	CHECK_STR(stuck_age_from_name(TW_AGE_FIRST_SEEN), "first_seen");
	CHECK_STR(stuck_age_from_name(TW_AGE_MAX), "?");
}

TEST(test_stuck_decode_copies_well_formed_record)
{
	struct tw_stuck in = close_wait(), out;

	CHECK_INT(event_decode_stuck(&in, sizeof(in), &out), 0);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	CHECK_INT(event_type(&in, sizeof(in)), TW_REC_STUCK);
}

TEST(test_stuck_decode_rejects_malformed_records)
{
	struct tw_stuck in = close_wait(), out;

	CHECK_INT(event_decode_stuck(&in, sizeof(in) - 1, &out), -EINVAL);
	in.type = TW_REC_CONN;
	CHECK_INT(event_decode_stuck(&in, sizeof(in), &out), -EINVAL);
	in = close_wait();
	in.state = TW_STATE_MAX;
	CHECK_INT(event_decode_stuck(&in, sizeof(in), &out), -EINVAL);
	in = close_wait();
	in.age_from = TW_AGE_MAX;
	CHECK_INT(event_decode_stuck(&in, sizeof(in), &out), -EINVAL);
	in = close_wait();
	in.first_old_state = 200;
	CHECK_INT(event_decode_stuck(&in, sizeof(in), &out), -EINVAL);
	in = close_wait();
	in.first_state = TW_STATE_MAX;
	CHECK_INT(event_decode_stuck(&in, sizeof(in), &out), -EINVAL);
}

TEST(test_stuck_decode_unmaps_v4_mapped_endpoints)
{
	struct tw_stuck in = close_wait(), out;

	in.ep.family = AF_INET6;
	memcpy(in.ep.laddr, mapped_10_0_0_1, 16);
	memset(in.ep.raddr, 0, 16);
	CHECK_INT(event_decode_stuck(&in, sizeof(in), &out), 0);
	CHECK_INT(out.ep.family, AF_INET);
	CHECK_INT(out.ep.laddr[0], 10);
	CHECK_INT(out.ep.laddr[3], 1);
}

static struct strbuf sb;

static const char *json_of(const struct tw_stuck *s, const char *community_id,
			   const char *cgroup)
{
	strbuf_reset(&sb);
	output_stuck_json(&sb, s, stuck_open(s), REAL_MINUS_MONO, community_id, cgroup);
	return sb.data;
}

static const char *text_of(const struct tw_stuck *s)
{
	setenv("TZ", "UTC", 1);
	tzset();
	strbuf_reset(&sb);
	output_stuck_text(&sb, s, stuck_open(s), REAL_MINUS_MONO);
	return sb.data;
}

TEST(test_stuck_json_close_wait)
{
	struct tw_stuck s = close_wait();

	CHECK_STR(json_of(&s, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "/system.slice/nginx.service"),
		  "{\"type\":\"stuck\",\"ts\":\"2023-11-14T22:13:25.123456789Z\",\"sock\":4242,"
		  "\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\","
		  "\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\",\"lport\":80,\"raddr\":\"10.0.0.2\","
		  "\"rport\":43210,\"pid\":123,\"tid\":124,\"comm\":\"nginx\","
		  "\"state\":\"CLOSE_WAIT\",\"age_ns\":4200000000,\"age_from\":\"transition\","
		  "\"since_ts\":\"2023-11-14T22:13:20.923456789Z\",\"open\":\"passive\","
		  "\"start_ts\":\"2023-11-14T22:13:20.123456789Z\",\"netns\":4026531840,"
		  "\"cgroup_id\":7,\"cgroup\":\"/system.slice/nginx.service\",\"orphan\":false}\n");
}

TEST(test_stuck_json_orphan_without_owner)
{
	struct tw_stuck s = orphan_seen_at_start();

	CHECK_STR(json_of(&s, NULL, NULL),
		  "{\"type\":\"stuck\",\"ts\":\"2023-11-14T22:13:25.123456789Z\",\"sock\":4242,"
		  "\"community_id\":null,"
		  "\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\",\"lport\":80,\"raddr\":\"10.0.0.2\","
		  "\"rport\":43210,\"pid\":null,\"tid\":null,\"comm\":null,"
		  "\"state\":\"LAST_ACK\",\"age_ns\":2000000000,\"age_from\":\"first_seen\","
		  "\"since_ts\":\"2023-11-14T22:13:23.123456789Z\",\"open\":\"unknown\","
		  "\"start_ts\":\"2023-11-14T22:13:23.123456789Z\",\"netns\":4026531840,"
		  "\"cgroup_id\":7,\"cgroup\":null,\"orphan\":true}\n");
}

TEST(test_stuck_text_close_wait)
{
	struct tw_stuck s = close_wait();

	CHECK_STR(text_of(&s), "22:13:25.123456 STUCK CLOSE_WAIT 4.200 s pid 123 (nginx) "
			       "10.0.0.1:80 -> 10.0.0.2:43210 open passive\n");
}

TEST(test_stuck_text_lower_bound_and_orphan)
{
	struct tw_stuck s = orphan_seen_at_start();

	CHECK_STR(text_of(&s), "22:13:25.123456 STUCK LAST_ACK at least 2.000 s pid - "
			       "10.0.0.1:80 -> 10.0.0.2:43210 open unknown, orphan\n");
}

TEST(test_stuck_text_escapes_hostile_comm)
{
	struct tw_stuck s = close_wait();

	memcpy(s.owner.comm, "a\x1b[2Jb", 7);
	CHECK(strstr(text_of(&s), "pid 123 (a\\x1b[2Jb) ") != NULL);
}
