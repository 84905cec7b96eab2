// SPDX-License-Identifier: GPL-2.0
/* Which peers can be on this host, judged by their address. */
#include <sys/socket.h>
#include "unit.h"
#include "local_addrs.h"

#define SEC 1000000000ull

static const __u8 v4_loopback[16] = { 127, 0, 0, 1 };
static const __u8 v4_loopback_other[16] = { 127, 1, 2, 3 };
static const __u8 v4_host[16] = { 10, 0, 0, 2 };
static const __u8 v4_remote[16] = { 128, 0, 0, 1 };
static const __u8 v6_loopback[16] = { [15] = 1 };
static const __u8 v6_host[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

TEST(test_local_addrs_loopback_is_the_whole_v4_net_and_v6_one)
{
	CHECK(local_addrs_is_loopback(AF_INET, v4_loopback));
	CHECK(local_addrs_is_loopback(AF_INET, v4_loopback_other));
	CHECK(!local_addrs_is_loopback(AF_INET, v4_remote));
	CHECK(local_addrs_is_loopback(AF_INET6, v6_loopback));
	CHECK(!local_addrs_is_loopback(AF_INET6, v6_host));
	/* The same bytes in the other family are another address. */
	CHECK(!local_addrs_is_loopback(AF_INET6, v4_loopback));
}

TEST(test_local_addrs_interface_addresses_by_family)
{
	struct local_addrs l = { 0 };
	int i;

	/* Fresh, so no re-read replaces what the test put in. */
	l.read_ns = 5 * SEC;
	for (i = 0; i < 40; i++) /* more than one growth */
		local_addrs_add(&l, AF_INET6, v6_loopback);
	local_addrs_add(&l, AF_INET, v4_host);
	local_addrs_add(&l, AF_INET6, v6_host);
	CHECK(local_addrs_contains(&l, AF_INET, v4_host));
	CHECK(!local_addrs_contains(&l, AF_INET6, v4_host));
	CHECK(local_addrs_is_local(&l, AF_INET6, v6_host));
	CHECK(local_addrs_is_local(&l, AF_INET, v4_loopback_other));
	CHECK(!local_addrs_is_local(&l, AF_INET, v4_remote));
	local_addrs_free(&l);
	CHECK_INT(l.count, 0);
}

TEST(test_local_addrs_read_again_when_old)
{
	struct local_addrs l = { 0 };

	/* Whatever interfaces this host has, the set is read anew: the made-up one goes. */
	l.read_ns = 1 * SEC;
	local_addrs_add(&l, AF_INET, v4_remote);
	CHECK(!local_addrs_refresh(&l, 1 * SEC + LOCAL_ADDRS_MAX_AGE_NS - 1));
	CHECK(local_addrs_is_local(&l, AF_INET, v4_remote));
	CHECK(local_addrs_refresh(&l, 1 * SEC + LOCAL_ADDRS_MAX_AGE_NS));
	CHECK(!local_addrs_is_local(&l, AF_INET, v4_remote));
	CHECK_INT(l.read_ns, 1 * SEC + LOCAL_ADDRS_MAX_AGE_NS);
	/* Read again, the same: no change to record. */
	CHECK(!local_addrs_refresh(&l, 1 * SEC + 2 * LOCAL_ADDRS_MAX_AGE_NS));
	local_addrs_free(&l);
}

TEST(test_local_addrs_recorded_are_never_read_again)
{
	struct local_addrs l = { 0 };

	/* A replay's: the recording's addresses stand, however old. */
	l.recorded = true;
	local_addrs_add(&l, AF_INET, v4_remote);
	CHECK(!local_addrs_refresh(&l, 100 * LOCAL_ADDRS_MAX_AGE_NS));
	CHECK(local_addrs_is_local(&l, AF_INET, v4_remote));
	local_addrs_free(&l);
}

TEST(test_local_addrs_read_finds_loopback_interface)
{
	struct local_addrs l = { 0 };

	/* Every network namespace has lo, and it carries 127.0.0.1 once up. */
	CHECK_INT(local_addrs_read(&l), 0);
	CHECK(local_addrs_contains(&l, AF_INET, v4_loopback));
	local_addrs_free(&l);
}
