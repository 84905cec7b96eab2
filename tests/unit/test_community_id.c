// SPDX-License-Identifier: GPL-2.0
/*
 * Community ID v1 against known values: the TCP flows of the spec's own
 * baseline (corelight/community-id-spec, baseline/baseline_deflt.json and
 * baseline_seed1.json), each seen from both ends, and flows whose values
 * were computed apart from tcpwave (Python's hashlib over the spec's byte
 * layout) for what the baseline does not cover.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include "community_id.h"

/* One end's view: laddr:lport -> raddr:rport. */
static struct tw_endpoints endpoints(int family, const char *laddr, __u16 lport, const char *raddr,
				     __u16 rport)
{
	struct tw_endpoints ep = { .lport = lport, .rport = rport, .family = family };

	if (inet_pton(family, laddr, ep.laddr) != 1 || inet_pton(family, raddr, ep.raddr) != 1)
		unit_fail(__FILE__, __LINE__, "bad test address %s or %s", laddr, raddr);
	return ep;
}

/* Hashed afresh: an empty memo each time. */
static const char *cid(const struct tw_endpoints *ep, uint16_t seed)
{
	static struct community_id_memo memo;
	static char out[COMMUNITY_ID_STRLEN];

	memset(&memo, 0, sizeof(memo));
	if (community_id_tcp(&memo, out, ep, seed))
		return "(error)";
	return out;
}

/* Both ends of one flow: the ID does not depend on which end tcpwave saw. */
#define CHECK_FLOW(family, a, aport, b, bport, seed, want)                                         \
	do {                                                                                       \
		struct tw_endpoints fwd_ = endpoints(family, a, aport, b, bport);                  \
		struct tw_endpoints rev_ = endpoints(family, b, bport, a, aport);                  \
		CHECK_STR(cid(&fwd_, seed), want);                                                 \
		CHECK_STR(cid(&rev_, seed), want);                                                 \
	} while (0)

TEST(test_community_id_spec_baseline_ipv4)
{
	CHECK_FLOW(AF_INET, "128.232.110.120", 34855, "66.35.250.204", 80, 0,
		   "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	CHECK_FLOW(AF_INET, "128.232.110.120", 34855, "66.35.250.204", 80, 1,
		   "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
}

TEST(test_community_id_spec_baseline_ipv6)
{
	CHECK_FLOW(AF_INET6, "2001:470:e5bf:dead:4957:2174:e82c:4887", 63943,
		   "2607:f8b0:400c:c03::1a", 25, 0, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
	CHECK_FLOW(AF_INET6, "2001:470:e5bf:dead:4957:2174:e82c:4887", 63943,
		   "2607:f8b0:400c:c03::1a", 25, 1, "1:eJYTW6AOzFLlSUoESovMjnu7rMw=");
}

/* Loopback: equal addresses, so the smaller port goes first. */
TEST(test_community_id_equal_addresses_order_by_port)
{
	CHECK_FLOW(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 5000, 0,
		   "1:3XXY1G8TOhY/bA0M3U9S+iQbj1Q=");
}

/* Both bytes of the seed, in network order. */
TEST(test_community_id_largest_seed)
{
	CHECK_FLOW(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 5000, 65535,
		   "1:mfQtKEn+HHm+8Y4nw4+/tp8N7Is=");
}

/* A dual-stack socket's IPv4 connection is IPv4 on the wire, and hashed as such. */
TEST(test_community_id_v4_mapped_is_hashed_as_ipv4)
{
	CHECK_FLOW(AF_INET6, "::ffff:128.232.110.120", 34855, "::ffff:66.35.250.204", 80, 0,
		   "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

/* Each call empties out first: what a memo gave before does not show through. */
#define CHECK_NO_ID(memo, ep)                                                                      \
	do {                                                                                       \
		char out_[COMMUNITY_ID_STRLEN] = "x";                                              \
		CHECK_INT(community_id_tcp(memo, out_, ep, 0), -EINVAL);                           \
		CHECK_STR(out_, "");                                                               \
	} while (0)

TEST(test_community_id_unknown_port_or_address_is_an_error)
{
	struct tw_endpoints ep = endpoints(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 9);
	struct community_id_memo memo = { 0 };
	char out[COMMUNITY_ID_STRLEN];

	/* A flow the memo holds first, with the same ports as some of those below. */
	CHECK_INT(community_id_tcp(&memo, out, &ep, 0), 0);
	ep = endpoints(AF_INET, "127.0.0.1", 0, "127.0.0.1", 9);
	CHECK_NO_ID(&memo, &ep);
	ep = endpoints(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 0);
	CHECK_NO_ID(&memo, &ep);
	ep = endpoints(AF_INET6, "::", 40000, "::1", 9);
	CHECK_NO_ID(&memo, &ep);
	ep = endpoints(AF_INET, "10.0.0.1", 40000, "0.0.0.0", 9);
	CHECK_NO_ID(&memo, &ep);
}

/*
 * More flows than the memo has slots, through one memo, one way and back:
 * two of them at least share a slot, and each still gets its own ID; the
 * other end of each flow, seen later, gets the same.
 */
TEST(test_community_id_memo_gives_each_flow_its_own_id)
{
	enum { FLOWS = COMMUNITY_ID_MEMO_SLOTS * 2 + 1 };
	static char fresh[FLOWS][COMMUNITY_ID_STRLEN];
	struct community_id_memo memo = { 0 };
	char out[COMMUNITY_ID_STRLEN];
	struct tw_endpoints ep;
	int i;

	for (i = 0; i < FLOWS; i++) {
		ep = endpoints(AF_INET, "10.0.0.1", (uint16_t)(1000 + 257 * i), "10.0.0.2", 80);
		snprintf(fresh[i], sizeof(fresh[i]), "%s", cid(&ep, 7));
		CHECK_INT(community_id_tcp(&memo, out, &ep, 7), 0);
		CHECK_STR(out, fresh[i]);
	}
	for (i = FLOWS - 1; i >= 0; i--) {
		ep = endpoints(AF_INET, "10.0.0.2", 80, "10.0.0.1", (uint16_t)(1000 + 257 * i));
		CHECK_INT(community_id_tcp(&memo, out, &ep, 7), 0);
		CHECK_STR(out, fresh[i]);
	}
	/*
	 * An IPv6 flow whose first 16 bytes hashed are an IPv4 flow's, with the
	 * same ports, shares its slot: the memo tells them apart by length.
	 */
	ep = endpoints(AF_INET6, "a00:1:a00:2:600:3e8:50::", 1000, "fd00::2", 80);
	CHECK_INT(community_id_tcp(&memo, out, &ep, 0), 0);
	CHECK_STR(out, cid(&ep, 0));
	ep = endpoints(AF_INET, "10.0.0.1", 1000, "10.0.0.2", 80);
	CHECK_INT(community_id_tcp(&memo, out, &ep, 0), 0);
	CHECK_STR(out, cid(&ep, 0));
	/* The seed is hashed too: the same 4-tuple under another seed is another ID. */
	CHECK_INT(community_id_tcp(&memo, out, &ep, 8), 0);
	CHECK_STR(out, cid(&ep, 8));
	CHECK(strcmp(out, fresh[0]) != 0);
}
