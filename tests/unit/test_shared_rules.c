// SPDX-License-Identifier: GPL-2.0
/* The rules bpf/tcpwave.h shares between the kernel side and userspace. */
#include "unit.h"

#include <linux/types.h>
#include "tcpwave.h"

TEST(test_shared_owner_may_be_lost_only_when_an_owner_was_dropped_and_none_is_known)
{
	struct tw_sock_state st = { .accept_pending = 1 };

	CHECK(tw_owner_may_be_lost(&st, 0, 1));
	/* no entry was ever refused: the application just has not accept()ed it */
	CHECK(!tw_owner_may_be_lost(&st, 0, 0));
	/* an owner is known after all (it closed or shut down the socket itself) */
	CHECK(!tw_owner_may_be_lost(&st, TW_CONN_OWNER_KNOWN, 1));
	/* not waiting for accept(): a connect()ed socket */
	st.accept_pending = 0;
	CHECK(!tw_owner_may_be_lost(&st, 0, 1));
}
