// SPDX-License-Identifier: GPL-2.0
/* open_at_exit: connections listed at exit go out once, as listed or as closed. */
#include "unit.h"
#include "open_at_exit.h"

/* A connection begun at start_ns whose last step so far came last_ns after. */
static struct tw_conn conn_at(__u64 cookie, __u64 start_ns, __u64 last_ns, __u32 flags)
{
	struct tw_conn c = { .type = TW_REC_CONN, .cookie = cookie, .start_ns = start_ns,
			     .nsteps = 2, .flags = flags };

	c.step_state[0] = TW_SYN_SENT;
	c.step_state[1] = flags & TW_CONN_OPEN ? TW_ESTABLISHED : TW_CLOSE;
	c.step_ns[1] = last_ns;
	return c;
}

static struct tw_conn listed(__u64 cookie, __u64 start_ns)
{
	return conn_at(cookie, start_ns, 5, TW_CONN_OPEN);
}

static struct tw_conn closed(__u64 cookie, __u64 start_ns, __u64 last_ns)
{
	return conn_at(cookie, start_ns, last_ns, 0);
}

TEST(test_open_at_exit_a_listed_connection_that_closed_after_is_ended)
{
	struct open_at_exit o = { 0 };
	struct tw_conn a = listed(7, 100), b = listed(3, 100), c = closed(7, 100, 50);

	open_at_exit_add(&o, &a);
	open_at_exit_add(&o, &b);
	open_at_exit_seal(&o);
	CHECK(open_at_exit_end(&o, &c));
	CHECK_INT(o.ended, 1);
	CHECK_INT(o.count, 2);
	CHECK_INT(o.items[0].conn.cookie, 3);
	CHECK(!o.items[0].ended);
	CHECK(o.items[1].ended);
	/* Its record ends it once: a second is no listed connection's. */
	CHECK(!open_at_exit_end(&o, &c));
	CHECK_INT(o.ended, 1);
	open_at_exit_free(&o);
}

/* Whether closed ends the one connection listed, as the listing's mark and count say. */
static bool ends_the_listed(struct tw_conn listed_conn, struct tw_conn closed_conn)
{
	struct open_at_exit o = { 0 };
	bool ended;

	open_at_exit_add(&o, &listed_conn);
	open_at_exit_seal(&o);
	ended = open_at_exit_end(&o, &closed_conn);
	CHECK_INT(o.items[0].ended, ended);
	CHECK_INT(o.ended, ended);
	open_at_exit_free(&o);
	return ended;
}

TEST(test_open_at_exit_the_sockets_earlier_connection_does_not_end_the_listed_one)
{
	/* connect() again on the same socket: same cookie, the closed one ended before. */
	CHECK(!ends_the_listed(listed(9, 1000), closed(9, 200, 700)));
}

TEST(test_open_at_exit_an_accepted_connection_whose_start_moved_back_is_still_ended)
{
	/* The record's start goes back to the first SYN-ACK: it still ends after the listing's start. */
	CHECK(ends_the_listed(listed(4, 1000), closed(4, 990, 30)));
}

TEST(test_open_at_exit_nothing_ends_before_the_listing_is_sealed)
{
	struct open_at_exit o = { 0 };
	struct tw_conn a = listed(1, 10), c = closed(1, 10, 5);

	open_at_exit_add(&o, &a);
	CHECK(!open_at_exit_end(&o, &c));
	open_at_exit_free(&o);
}

TEST(test_open_at_exit_a_socket_listed_twice_is_kept_once)
{
	/*
	 * A walk whose table of listed sockets is full may meet a socket again,
	 * its start moved back meanwhile (an accepted connection's handshake).
	 */
	struct open_at_exit o = { 0 };
	struct tw_conn a = listed(5, 10), moved = listed(5, 4), b = listed(6, 10);
	int i;

	for (i = 0; i < 300; i++)
		open_at_exit_add(&o, i % 3 == 0 ? &a : i % 3 == 1 ? &b : &moved);
	open_at_exit_seal(&o);
	CHECK_INT(o.count, 2);
	CHECK_INT(o.items[0].conn.cookie, 5);
	CHECK_INT(o.items[1].conn.cookie, 6);
	CHECK_INT(o.duplicates, 298);
	CHECK_INT(o.dropped, 0);
	open_at_exit_free(&o);
}
