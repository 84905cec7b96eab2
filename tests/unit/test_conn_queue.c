// SPDX-License-Identifier: GPL-2.0
/* conn_queue: finished connections wait out their grace; late resets join by cookie. */
#include <errno.h>
#include "unit.h"
#include "conn_queue.h"

static struct tw_conn closed_conn(__u64 cookie, __u16 lport)
{
	struct tw_conn c = { .type = TW_REC_CONN, .cookie = cookie, .nsteps = 2,
			     .first_old_state = TW_LISTEN };

	c.step_state[0] = TW_ESTABLISHED;
	c.step_state[1] = TW_CLOSE;
	c.ep.lport = lport;
	return c;
}

TEST(test_conn_queue_holds_a_connection_until_its_grace_passes)
{
	struct conn_queue q;
	struct tw_conn c = closed_conn(1, 80), out;

	conn_queue_init(&q, 10);
	conn_queue_push(&q, &c, 100);
	CHECK_INT(conn_queue_next_due(&q), 110);
	CHECK(!conn_queue_pop_due(&q, 109, &out));
	CHECK(conn_queue_pop_due(&q, 110, &out));
	CHECK_INT(out.cookie, 1);
	CHECK(!conn_queue_pop_due(&q, UINT64_MAX, &out));
	CHECK_INT(conn_queue_next_due(&q), UINT64_MAX);
	conn_queue_free(&q);
}

TEST(test_conn_queue_late_reset_joins_its_own_connection_at_a_reused_address)
{
	/* Two connections at the same address, one after the other: cookies tell them apart. */
	struct conn_queue q;
	struct tw_conn a = closed_conn(41, 8080), b = closed_conn(42, 8080), out;
	struct tw_reset r = { .type = TW_REC_RESET, .sent = 0, .cookie = 41 };

	conn_queue_init(&q, 10);
	conn_queue_push(&q, &a, 0);
	conn_queue_push(&q, &b, 1);
	CHECK_INT(conn_queue_apply_reset(&q, &r), 0);
	CHECK(conn_queue_pop_due(&q, UINT64_MAX, &out));
	CHECK_INT(out.cookie, 41);
	CHECK(out.flags & TW_CONN_RESET_RECEIVED);
	CHECK(conn_queue_pop_due(&q, UINT64_MAX, &out));
	CHECK_INT(out.cookie, 42);
	CHECK(!(out.flags & (TW_CONN_RESET_RECEIVED | TW_CONN_RESET_SENT)));
	r.cookie = 99;
	CHECK_INT(conn_queue_apply_reset(&q, &r), -ENOENT);
	conn_queue_free(&q);
}

TEST(test_conn_queue_keeps_order_while_growing)
{
	struct conn_queue q;
	struct tw_conn c, out;
	__u64 i;

	conn_queue_init(&q, 0);
	for (i = 0; i < 50; i++) {
		c = closed_conn(i, 1);
		conn_queue_push(&q, &c, i);
	}
	for (i = 0; i < 30; i++)
		CHECK(conn_queue_pop_due(&q, UINT64_MAX, &out) && out.cookie == i);
	for (i = 50; i < 300; i++) {
		c = closed_conn(i, 1);
		conn_queue_push(&q, &c, i);
	}
	for (i = 30; i < 300; i++)
		CHECK(conn_queue_pop_due(&q, UINT64_MAX, &out) && out.cookie == i);
	CHECK(!conn_queue_pop_due(&q, UINT64_MAX, &out));
	conn_queue_free(&q);
}

/* Closed at closed_ns from ESTABLISHED with nothing else said: an abort whose RST may follow. */
static struct tw_conn aborted_conn(__u64 cookie, __u64 closed_ns)
{
	struct tw_conn c = closed_conn(cookie, 1);

	c.first_old_state = TW_CLOSE;
	c.step_state[0] = TW_ESTABLISHED;
	c.start_ns = closed_ns - 5;
	c.step_ns[1] = 5;
	return c;
}

TEST(test_conn_queue_marks_a_connection_whose_reset_may_have_been_lost)
{
	struct conn_queue q;
	struct tw_conn a = aborted_conn(1, 150), b = aborted_conn(2, 250), out;

	conn_queue_init(&q, 10);
	conn_queue_note_lost(&q, 5, 100);
	conn_queue_push(&q, &a, 200);
	/* nothing lost while it waited: as it came */
	conn_queue_note_lost(&q, 5, 210);
	CHECK(conn_queue_pop_due(&q, 210, &out));
	CHECK(!(out.flags & TW_CONN_LOST_EVENTS));
	/* a record lost while it waited */
	conn_queue_push(&q, &b, 300);
	conn_queue_note_lost(&q, 6, 310);
	CHECK(conn_queue_pop_due(&q, 310, &out));
	CHECK_INT(out.cookie, 2);
	CHECK(out.flags & TW_CONN_LOST_EVENTS);
	conn_queue_free(&q);
}

TEST(test_conn_queue_counts_from_a_read_before_the_connection_closed)
{
	/*
	 * The kernel closed the connection at 150 and lost its RST; the count
	 * was read at 160 (after both, so it includes the loss); the next drain
	 * brought the record. The read before, at 100, is the baseline.
	 */
	struct conn_queue q;
	struct tw_conn a = aborted_conn(1, 150), b = aborted_conn(2, 170), out;

	conn_queue_init(&q, 10);
	conn_queue_note_lost(&q, 5, 100);
	conn_queue_note_lost(&q, 6, 160);
	conn_queue_push(&q, &a, 200);
	/* b closed after the read at 160: a loss that read counted is not its own */
	conn_queue_push(&q, &b, 200);
	conn_queue_note_lost(&q, 6, 210);
	CHECK(conn_queue_pop_due(&q, 210, &out));
	CHECK_INT(out.cookie, 1);
	CHECK(out.flags & TW_CONN_LOST_EVENTS);
	CHECK(conn_queue_pop_due(&q, 210, &out));
	CHECK_INT(out.cookie, 2);
	CHECK(!(out.flags & TW_CONN_LOST_EVENTS));
	conn_queue_free(&q);
}

TEST(test_conn_queue_does_not_mark_a_connection_no_reset_can_follow)
{
	struct conn_queue q;
	struct tw_conn reset = aborted_conn(1, 10), time_wait = closed_conn(2, 1), out;

	reset.flags |= TW_CONN_RESET_SENT;
	/* FIN_WAIT2 -> CLOSE after the peer's FIN: TIME_WAIT took over */
	time_wait.first_old_state = TW_CLOSE;
	time_wait.step_state[0] = TW_FIN_WAIT2;
	time_wait.flags |= TW_CONN_PEER_FIN;
	conn_queue_init(&q, 10);
	conn_queue_push(&q, &reset, 20);
	conn_queue_push(&q, &time_wait, 20);
	conn_queue_note_lost(&q, 100, 30);
	CHECK(conn_queue_pop_due(&q, UINT64_MAX, &out));
	CHECK(!(out.flags & TW_CONN_LOST_EVENTS));
	CHECK(conn_queue_pop_due(&q, UINT64_MAX, &out));
	CHECK(!(out.flags & TW_CONN_LOST_EVENTS));
	conn_queue_free(&q);
}
