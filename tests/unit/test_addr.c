// SPDX-License-Identifier: GPL-2.0
/* Addresses as people read them, and dual-stack sockets seen as IPv4. */
#include "unit.h"

#include <sys/socket.h>
#include "addr.h"

static const __u8 v4_10_0_0_1[16] = { 10, 0, 0, 1 };
static const __u8 v4_10_0_0_2[16] = { 10, 0, 0, 2 };
static const __u8 mapped_10_0_0_1[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };
static const __u8 mapped_10_0_0_2[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 2 };
static const __u8 mapped_127_0_0_1[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
static const __u8 v4_127_0_0_1[16] = { 127, 0, 0, 1 };
static const __u8 db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const __u8 db8_2[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const __u8 zero[16];

static struct tw_endpoints endpoints(__u16 family, const __u8 l[16], const __u8 r[16])
{
	struct tw_endpoints ep = { .lport = 43210, .rport = 80, .family = family };

	memcpy(ep.laddr, l, 16);
	memcpy(ep.raddr, r, 16);
	return ep;
}

TEST(test_addr_format_ipv4)
{
	char s[ADDR_IP_STRLEN];

	addr_format(s, AF_INET, v4_10_0_0_1);
	CHECK_STR(s, "10.0.0.1");
}

TEST(test_addr_format_ipv4_every_octet_width)
{
	static const __u8 a[16] = { 0, 9, 99, 255 }, b[16] = { 100, 10, 1, 200 };
	char s[ADDR_IP_STRLEN];

	addr_format(s, AF_INET, a);
	CHECK_STR(s, "0.9.99.255");
	addr_format(s, AF_INET, b);
	CHECK_STR(s, "100.10.1.200");
}

TEST(test_addr_format_ipv6_compresses_zeros)
{
	char s[ADDR_IP_STRLEN];

	addr_format(s, AF_INET6, db8_1);
	CHECK_STR(s, "2001:db8::1");
	addr_format(s, AF_INET6, zero);
	CHECK_STR(s, "::");
}

TEST(test_addr_format_port_ipv4)
{
	char s[ADDR_STRLEN];

	addr_format_port(s, AF_INET, v4_10_0_0_1, 80);
	CHECK_STR(s, "10.0.0.1:80");
}

TEST(test_addr_format_port_ipv6_in_brackets)
{
	char s[ADDR_STRLEN];

	addr_format_port(s, AF_INET6, db8_1, 443);
	CHECK_STR(s, "[2001:db8::1]:443");
	addr_format_port(s, AF_INET6, mapped_10_0_0_1, 0);
	CHECK_STR(s, "[::ffff:10.0.0.1]:0");
}

TEST(test_addr_format_port_longest_fits)
{
	static const __u8 all_ones[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char s[ADDR_STRLEN];

	addr_format_port(s, AF_INET6, all_ones, 65535);
	CHECK_STR(s, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

TEST(test_addr_is_v4_mapped)
{
	CHECK(addr_is_v4_mapped(mapped_10_0_0_1));
	CHECK(!addr_is_v4_mapped(db8_1));
	CHECK(!addr_is_v4_mapped(zero));
}

TEST(test_addr_unmap_v4_mapped_pair_becomes_ipv4)
{
	struct tw_endpoints ep = endpoints(AF_INET6, mapped_10_0_0_1, mapped_10_0_0_2);

	addr_unmap_endpoints(&ep);
	CHECK_INT(ep.family, AF_INET);
	CHECK(memcmp(ep.laddr, v4_10_0_0_1, 16) == 0);
	CHECK(memcmp(ep.raddr, v4_10_0_0_2, 16) == 0);
	CHECK_INT(ep.lport, 43210);
	CHECK_INT(ep.rport, 80);
}

TEST(test_addr_unmap_v4_mapped_local_with_zero_remote)
{
	struct tw_endpoints ep = endpoints(AF_INET6, mapped_127_0_0_1, zero);

	addr_unmap_endpoints(&ep);
	CHECK_INT(ep.family, AF_INET);
	CHECK(memcmp(ep.laddr, v4_127_0_0_1, 16) == 0);
	CHECK(memcmp(ep.raddr, zero, 16) == 0);
}

TEST(test_addr_unmap_keeps_unbound_ipv6_pair)
{
	struct tw_endpoints ep = endpoints(AF_INET6, zero, zero);

	addr_unmap_endpoints(&ep);
	CHECK_INT(ep.family, AF_INET6);
	CHECK(memcmp(ep.laddr, zero, 16) == 0);
	CHECK(memcmp(ep.raddr, zero, 16) == 0);
}

TEST(test_addr_unmap_keeps_real_ipv6)
{
	struct tw_endpoints ep = endpoints(AF_INET6, db8_1, db8_2);

	addr_unmap_endpoints(&ep);
	CHECK_INT(ep.family, AF_INET6);
	CHECK(memcmp(ep.laddr, db8_1, 16) == 0);
	CHECK(memcmp(ep.raddr, db8_2, 16) == 0);
}

TEST(test_addr_unmap_keeps_pair_with_one_real_ipv6_end)
{
	struct tw_endpoints ep = endpoints(AF_INET6, mapped_10_0_0_1, db8_2);

	addr_unmap_endpoints(&ep);
	CHECK_INT(ep.family, AF_INET6);
	CHECK(memcmp(ep.laddr, mapped_10_0_0_1, 16) == 0);
	CHECK(memcmp(ep.raddr, db8_2, 16) == 0);
}

TEST(test_addr_unmap_leaves_ipv4_alone)
{
	struct tw_endpoints ep = endpoints(AF_INET, v4_10_0_0_1, v4_10_0_0_2);

	addr_unmap_endpoints(&ep);
	CHECK_INT(ep.family, AF_INET);
	CHECK(memcmp(ep.laddr, v4_10_0_0_1, 16) == 0);
	CHECK(memcmp(ep.raddr, v4_10_0_0_2, 16) == 0);
}

TEST(test_addr_family_names)
{
	CHECK_STR(addr_family_name(AF_INET), "ipv4");
	CHECK_STR(addr_family_name(AF_INET6), "ipv6");
}
