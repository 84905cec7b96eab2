// SPDX-License-Identifier: GPL-2.0
/* event_decode_*: only well-formed records pass, dual-stack reads as IPv4. */
#include "unit.h"

#include <errno.h>
#include <sys/socket.h>
#include "event.h"

static const __u8 mapped_10_0_0_1[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
static const __u8 mapped_10_0_0_2[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 };
static const __u8 v4_10_0_0_1[16] = { 10, 0, 0, 1 };
static const __u8 v4_10_0_0_2[16] = { 10, 0, 0, 2 };
static const __u8 db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static struct tw_state_event record(void)
{
	struct tw_state_event e = {
		.type = TW_REC_STATE,
		.old_state = TW_SYN_SENT,
		.new_state = TW_ESTABLISHED,
		.flags = TW_EV_OWNER_KNOWN,
		.netns = 4026531840u,
		.ts_ns = 5000000000,
		.cookie = 4242,
		.dur_ns = 1500000,
		.cgroup_id = 7,
		.owner = { .pid = 1235, .tgid = 1234, .comm = "curl" },
		.ep = { .lport = 43210, .rport = 80, .family = AF_INET6 },
	};

	memcpy(e.ep.laddr, db8_1, 16);
	memcpy(e.ep.raddr, db8_1, 16);
	return e;
}

TEST(test_event_decode_copies_well_formed_record)
{
	struct tw_state_event in = record(), out;

	CHECK_INT(event_decode_state(&in, sizeof(in), &out), 0);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
}

TEST(test_event_decode_rejects_short_records)
{
	struct tw_state_event in = record(), out;

	CHECK_INT(event_decode_state(&in, sizeof(in) - 1, &out), -EINVAL);
	CHECK_INT(event_decode_state(&in, 0, &out), -EINVAL);
}

TEST(test_event_decode_ignores_trailing_bytes)
{
	unsigned char buf[sizeof(struct tw_state_event) + 8] = { 0 };
	struct tw_state_event in = record(), out;

	memcpy(buf, &in, sizeof(in));
	CHECK_INT(event_decode_state(buf, sizeof(buf), &out), 0);
	CHECK_INT(out.cookie, 4242);
}

TEST(test_event_decode_rejects_wrong_type)
{
	struct tw_state_event in = record(), out;

	in.type = 0;
	CHECK_INT(event_decode_state(&in, sizeof(in), &out), -EINVAL);
	in.type = TW_REC_STATE + 1;
	CHECK_INT(event_decode_state(&in, sizeof(in), &out), -EINVAL);
}

TEST(test_event_decode_rejects_states_out_of_range)
{
	struct tw_state_event in = record(), out;

	in.old_state = TW_STATE_MAX;
	CHECK_INT(event_decode_state(&in, sizeof(in), &out), -EINVAL);
	in = record();
	in.new_state = TW_STATE_MAX;
	CHECK_INT(event_decode_state(&in, sizeof(in), &out), -EINVAL);
	in = record();
	in.new_state = 255;
	CHECK_INT(event_decode_state(&in, sizeof(in), &out), -EINVAL);
}

TEST(test_event_decode_accepts_last_state)
{
	struct tw_state_event in = record(), out;

	in.old_state = TW_NEW_SYN_RECV;
	in.new_state = TW_NEW_SYN_RECV;
	CHECK_INT(event_decode_state(&in, sizeof(in), &out), 0);
}

TEST(test_event_decode_unmaps_v4_mapped_endpoints)
{
	struct tw_state_event in = record(), out;

	memcpy(in.ep.laddr, mapped_10_0_0_1, 16);
	memcpy(in.ep.raddr, mapped_10_0_0_2, 16);
	CHECK_INT(event_decode_state(&in, sizeof(in), &out), 0);
	CHECK_INT(out.ep.family, AF_INET);
	CHECK(memcmp(out.ep.laddr, v4_10_0_0_1, 16) == 0);
	CHECK(memcmp(out.ep.raddr, v4_10_0_0_2, 16) == 0);
	CHECK_INT(out.ep.lport, 43210);
	CHECK_INT(out.ep.rport, 80);
	/* the record itself is left as it came */
	CHECK_INT(in.ep.family, AF_INET6);
}

/* A watched hand-over's end: a kind tcpwave knows, found no earlier than last seen waiting. */
TEST(test_event_decode_handover_end_checks_kind_and_times)
{
	struct tw_handover_end in = {
		.type = TW_REC_HANDOVER_END,
		.end = TW_HANDOVER_PEER_FIN,
		.cookie = 4242,
		.ts_ns = 5000000000,
		.seen_ns = 4900000000,
		.ep = { .lport = 43210, .rport = 80, .family = AF_INET6 },
	}, out;

	memcpy(in.ep.laddr, mapped_10_0_0_1, 16);
	memcpy(in.ep.raddr, mapped_10_0_0_2, 16);
	CHECK_INT(event_decode_handover_end(&in, sizeof(in), &out), 0);
	CHECK_INT(out.ep.family, AF_INET);
	CHECK(memcmp(out.ep.laddr, v4_10_0_0_1, 16) == 0);
	CHECK_INT(event_decode_handover_end(&in, sizeof(in) - 1, &out), -EINVAL);
	in.end = TW_HANDOVER_GONE;
	CHECK_INT(event_decode_handover_end(&in, sizeof(in), &out), 0);
	in.end = TW_HANDOVER_GONE + 1;
	CHECK_INT(event_decode_handover_end(&in, sizeof(in), &out), -EINVAL);
	in.end = 0;
	CHECK_INT(event_decode_handover_end(&in, sizeof(in), &out), -EINVAL);
	in.end = TW_HANDOVER_TIMEOUT;
	in.seen_ns = in.ts_ns + 1;
	CHECK_INT(event_decode_handover_end(&in, sizeof(in), &out), -EINVAL);
	in.seen_ns = in.ts_ns;
	in.type = TW_REC_STUCK;
	CHECK_INT(event_decode_handover_end(&in, sizeof(in), &out), -EINVAL);
}
