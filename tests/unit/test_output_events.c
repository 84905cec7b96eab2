// SPDX-License-Identifier: GPL-2.0
/* `--events` lines, text and JSON, byte for byte. */
#include "unit.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include "output_events.h"

/* The event happened at 2023-11-14T22:13:20.123456789Z, 5 s after boot. */
#define TS_MONO 5000000000ll
#define REAL_MINUS_MONO (1700000000123456789ll - TS_MONO)

static struct strbuf sb;

static struct tw_state_event event(void)
{
	struct tw_state_event e = {
		.type = TW_REC_STATE,
		.old_state = TW_SYN_SENT,
		.new_state = TW_ESTABLISHED,
		.flags = TW_EV_PROCESS_CTX | TW_EV_OWNER_KNOWN | TW_EV_DUR_KNOWN,
		.netns = 4026531840u,
		.ts_ns = TS_MONO,
		.cookie = 4242,
		.dur_ns = 1500000,
		.cgroup_id = 7,
		.owner = { .pid = 1235, .tgid = 1234, .comm = "curl" },
		.ep = { .laddr = { 10, 0, 0, 1 },
			.raddr = { 10, 0, 0, 2 },
			.lport = 43210,
			.rport = 80,
			.family = AF_INET },
	};

	return e;
}

#define CGROUP "/user.slice/user-1000.slice/session-2.scope"

static const char *json_with_cgroup(const struct tw_state_event *e, const char *cgroup)
{
	strbuf_reset(&sb);
	output_event_json(&sb, e, REAL_MINUS_MONO, cgroup);
	return sb.data;
}

static const char *json_of(const struct tw_state_event *e)
{
	return json_with_cgroup(e, CGROUP);
}

static const char *text_of(const struct tw_state_event *e)
{
	setenv("TZ", "UTC", 1);
	tzset();
	strbuf_reset(&sb);
	output_event_text(&sb, e, REAL_MINUS_MONO);
	return sb.data;
}

/* The parts of the JSON line that the tests below do not vary. */
#define JSON_HEAD                                                                                  \
	"{\"type\":\"state\",\"ts\":\"2023-11-14T22:13:20.123456789Z\","                           \
	"\"mono_ns\":5000000000,\"sock\":4242,"
#define JSON_V4                                                                                    \
	"\"family\":\"ipv4\",\"laddr\":\"10.0.0.1\",\"lport\":43210,"                              \
	"\"raddr\":\"10.0.0.2\",\"rport\":80,"
#define JSON_STATES "\"old\":\"SYN_SENT\",\"new\":\"ESTABLISHED\","
#define JSON_TAIL "\"lost_events\":false,\"netns\":4026531840,\"cgroup_id\":7,\"cgroup\":\"" CGROUP "\"}\n"

TEST(test_output_event_json_full_record)
{
	struct tw_state_event e = event();

	CHECK_STR(json_of(&e), JSON_HEAD JSON_V4 JSON_STATES
		  "\"dur_ns\":1500000,\"pid\":1234,\"tid\":1235,\"comm\":\"curl\","
		  "\"process_ctx\":true," JSON_TAIL);
}

TEST(test_output_event_json_cgroup_gone_is_null)
{
	struct tw_state_event e = event();

	CHECK_STR(json_with_cgroup(&e, NULL), JSON_HEAD JSON_V4 JSON_STATES
		  "\"dur_ns\":1500000,\"pid\":1234,\"tid\":1235,\"comm\":\"curl\","
		  "\"process_ctx\":true,\"lost_events\":false,\"netns\":4026531840,\"cgroup_id\":7,"
		  "\"cgroup\":null}\n");
}

TEST(test_output_event_json_unknown_owner_and_duration_are_null)
{
	struct tw_state_event e = event();

	e.flags = 0;
	CHECK_STR(json_of(&e), JSON_HEAD JSON_V4 JSON_STATES
		  "\"dur_ns\":null,\"pid\":null,\"tid\":null,\"comm\":null,"
		  "\"process_ctx\":false," JSON_TAIL);
}

TEST(test_output_event_json_escapes_hostile_comm)
{
	struct tw_state_event e = event();

	memcpy(e.owner.comm, "a\"b\\c\n", sizeof("a\"b\\c\n"));
	CHECK_STR(json_of(&e), JSON_HEAD JSON_V4 JSON_STATES
		  "\"dur_ns\":1500000,\"pid\":1234,\"tid\":1235,\"comm\":\"a\\\"b\\\\c\\u000a\","
		  "\"process_ctx\":true," JSON_TAIL);
}

TEST(test_output_event_json_full_comm_without_nul)
{
	struct tw_state_event e = event();

	memcpy(e.owner.comm, "abcdefghijklmnop", TW_COMM_LEN);
	CHECK_STR(json_of(&e), JSON_HEAD JSON_V4 JSON_STATES
		  "\"dur_ns\":1500000,\"pid\":1234,\"tid\":1235,\"comm\":\"abcdefghijklmnop\","
		  "\"process_ctx\":true," JSON_TAIL);
}

TEST(test_output_event_json_ipv6_without_brackets)
{
	static const __u8 db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct tw_state_event e = event();

	memset(&e.ep, 0, sizeof(e.ep));
	e.ep.family = AF_INET6;
	memcpy(e.ep.laddr, db8_1, 16);
	e.ep.lport = 443;
	CHECK_STR(json_of(&e), JSON_HEAD
		  "\"family\":\"ipv6\",\"laddr\":\"2001:db8::1\",\"lport\":443,"
		  "\"raddr\":\"::\",\"rport\":0," JSON_STATES
		  "\"dur_ns\":1500000,\"pid\":1234,\"tid\":1235,\"comm\":\"curl\","
		  "\"process_ctx\":true," JSON_TAIL);
}

TEST(test_output_events_text_header)
{
	strbuf_reset(&sb);
	output_events_text_header(&sb);
	CHECK_STR(sb.data, "TIME            "
			   "PID     "
			   "COMM             "
			   "LOCAL                   "
			   "REMOTE                  "
			   "TRANSITION                 "
			   "MS\n");
}

TEST(test_output_event_text_full_record)
{
	struct tw_state_event e = event();

	CHECK_STR(text_of(&e), "22:13:20.123456 "
			       "1234    "
			       "curl             "
			       "10.0.0.1:43210          "
			       "10.0.0.2:80             "
			       "SYN_SENT -> ESTABLISHED    "
			       "1.500\n");
}

TEST(test_output_event_text_unknown_owner_and_duration_are_dashes)
{
	struct tw_state_event e = event();

	e.flags = 0;
	CHECK_STR(text_of(&e), "22:13:20.123456 "
			       "-       "
			       "-                "
			       "10.0.0.1:43210          "
			       "10.0.0.2:80             "
			       "SYN_SENT -> ESTABLISHED    "
			       "-\n");
}

TEST(test_output_event_text_escapes_control_bytes_in_comm)
{
	struct tw_state_event e = event();

	memcpy(e.owner.comm, "a\"b\\c\n\x1b[2J", sizeof("a\"b\\c\n\x1b[2J"));
	CHECK_STR(text_of(&e), "22:13:20.123456 "
			       "1234    "
			       "a\"b\\\\c\\x0a\\x1b[2J "
			       "10.0.0.1:43210          "
			       "10.0.0.2:80             "
			       "SYN_SENT -> ESTABLISHED    "
			       "1.500\n");
}

TEST(test_output_event_text_keeps_a_space_after_a_wide_field)
{
	struct tw_state_event e = event();

	memset(e.owner.comm, '\x01', TW_COMM_LEN);
	CHECK_STR(text_of(&e), "22:13:20.123456 "
			       "1234    "
			       "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01"
			       "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01 "
			       "10.0.0.1:43210          "
			       "10.0.0.2:80             "
			       "SYN_SENT -> ESTABLISHED    "
			       "1.500\n");
}

TEST(test_output_event_text_ipv6_in_brackets)
{
	struct tw_state_event e = event();

	memset(&e.ep, 0, sizeof(e.ep));
	e.ep.family = AF_INET6;
	e.ep.laddr[15] = 1;
	e.ep.raddr[15] = 1;
	e.ep.lport = 8080;
	e.ep.rport = 51000;
	CHECK_STR(text_of(&e), "22:13:20.123456 "
			       "1234    "
			       "curl             "
			       "[::1]:8080              "
			       "[::1]:51000             "
			       "SYN_SENT -> ESTABLISHED    "
			       "1.500\n");
}

TEST(test_output_lost_json)
{
	strbuf_reset(&sb);
	output_lost_json(&sb, 1700000000123456789ll, "ring_buffer_full", 3, 10);
	CHECK_STR(sb.data, "{\"type\":\"lost\",\"ts\":\"2023-11-14T22:13:20.123456789Z\","
			   "\"reason\":\"ring_buffer_full\",\"count\":3,\"total\":10}\n");
}

TEST(test_output_event_json_lost_before)
{
	struct tw_state_event e = event();

	e.flags |= TW_EV_LOST_BEFORE;
	CHECK_STR(json_of(&e), JSON_HEAD JSON_V4 JSON_STATES
		  "\"dur_ns\":1500000,\"pid\":1234,\"tid\":1235,\"comm\":\"curl\","
		  "\"process_ctx\":true,\"lost_events\":true,"
		  "\"netns\":4026531840,\"cgroup_id\":7,\"cgroup\":\"" CGROUP "\"}\n");
}

TEST(test_output_event_text_marks_records_lost_before)
{
	struct tw_state_event e = event();

	e.flags |= TW_EV_LOST_BEFORE;
	CHECK_STR(text_of(&e), "22:13:20.123456 "
			       "1234    "
			       "curl             "
			       "10.0.0.1:43210          "
			       "10.0.0.2:80             "
			       "SYN_SENT -> ESTABLISHED    "
			       "1.500 (events lost before)\n");
	e.flags &= ~TW_EV_DUR_KNOWN;
	CHECK(strstr(text_of(&e), "SYN_SENT -> ESTABLISHED    - (events lost before)\n"));
}
