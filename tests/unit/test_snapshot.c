// SPDX-License-Identifier: GPL-2.0
/* The start-up walk's findings in words (-v). */
#include "unit.h"

#include "snapshot.h"

TEST(test_snapshot_describe_counts_by_state)
{
	struct tw_snapshot_counts c = {
		.known = 1, .time_wait = 5, .fin_wait2 = 1, .listeners = 4
	};
	struct strbuf sb = {};

	c.conns[TW_ESTABLISHED] = 2;
	c.conns[TW_CLOSE_WAIT] = 1;
	CHECK_INT(snapshot_connections(&c), 4);
	snapshot_describe(&sb, &c, 2, 2345678);
	CHECK_STR(sb.data, "start-up walk: 4 connections (2 ESTABLISHED, 1 CLOSE_WAIT), "
			   "1 already traced, 0 untracked; 5 TIME_WAIT, 1 FIN_WAIT2 orphan, "
			   "0 handshakes, 4 listeners; 2 network namespaces, 2.345 ms");
	strbuf_free(&sb);
}

TEST(test_snapshot_describe_nothing_found)
{
	struct tw_snapshot_counts c = { .requests = 1, .listeners = 1 };
	struct strbuf sb = {};

	snapshot_describe(&sb, &c, 1, 0);
	CHECK_STR(sb.data, "start-up walk: 0 connections, 0 already traced, 0 untracked; "
			   "0 TIME_WAIT, 0 FIN_WAIT2 orphans, 1 handshake, 1 listener; "
			   "1 network namespace, 0.000 ms");
	strbuf_free(&sb);
}
