// SPDX-License-Identifier: GPL-2.0
/* The rules bpf/tcpwave.h shares between the kernel side and userspace. */
#include "unit.h"

#include <linux/types.h>
#include "tcpwave.h"

TEST(test_shared_holder_matches_by_cookie_else_by_ports)
{
	struct tw_endpoints ep = { .lport = 5000, .rport = 40000 };
	struct tw_holder h = { .cookie = 7, .lport = 5000, .rport = 40000 };

	CHECK(tw_holder_matches(&h, 7, &ep));
	/* an earlier socket at the same address: another cookie, whatever the ports */
	CHECK(!tw_holder_matches(&h, 8, &ep));
	/* no cookie when the walk met it: the ports decide */
	h.cookie = 0;
	CHECK(tw_holder_matches(&h, 8, &ep));
	ep.rport = 40001;
	CHECK(!tw_holder_matches(&h, 8, &ep));
}
