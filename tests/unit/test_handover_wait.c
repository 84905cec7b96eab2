// SPDX-License-Identifier: GPL-2.0
/*
 * The wait of an orphan's FIN_WAIT2 hand-over for its local peer's record or
 * the kernel side's end record: which record is its peer, what each says
 * about the end, and when the wait ends without one.
 */
#include <errno.h>
#include <sys/socket.h>
#include "unit.h"
#include "conn.h"
#include "handover_wait.h"
#include "timeline.h"

#define SEC (1000 * MS)
#define START (100 * SEC)
#define FIN_TIMEOUT (60 * SEC)
#define NETNS 4026531840u

static const struct conn_env env = { .time_wait_ns = 60 * SEC, .fin_timeout_ns = FIN_TIMEOUT };

static void set_ends(struct tw_conn *c, const char *l, __u16 lport, const char *r, __u16 rport)
{
	c->ep.family = AF_INET;
	memcpy(c->ep.laddr, l, 4);
	memcpy(c->ep.raddr, r, 4);
	c->ep.lport = lport;
	c->ep.rport = rport;
	c->netns = NETNS;
	c->start_ns = START;
}

#define LOOPBACK "\x7f\x00\x00\x01"

/* 127.0.0.1:40000 -> :8080 closed first; FIN at 10 ms, acknowledged and handed over at 11 ms. */
static struct tw_conn orphan(void)
{
	struct tw_conn c = TIMELINE(TW_CLOSE, TW_CONN_ORPHAN, { TW_SYN_SENT, 0 },
				    { TW_ESTABLISHED, 1 * MS }, { TW_FIN_WAIT1, 10 * MS },
				    { TW_FIN_WAIT2, 11 * MS }, { TW_CLOSE, 11 * MS });

	set_ends(&c, LOOPBACK, 40000, LOOPBACK, 8080);
	return c;
}

/* Its server: our FIN at 10.5 ms, its own close() (its FIN) at fin_ms. */
static struct tw_conn server(__u64 fin_ms)
{
	struct tw_conn c = TIMELINE(TW_LISTEN, TW_CONN_ORPHAN | TW_CONN_PEER_FIN,
				    { TW_SYN_RECV, 0 }, { TW_ESTABLISHED, 1 * MS },
				    { TW_CLOSE_WAIT, 10500000 }, { TW_LAST_ACK, fin_ms * MS },
				    { TW_CLOSE, fin_ms * MS + 20000 });

	set_ends(&c, LOOPBACK, 8080, LOOPBACK, 40000);
	return c;
}

/* The server reset the connection from CLOSE_WAIT at reset_ms (sent: its RST; else ours). */
static struct tw_conn server_reset(__u64 reset_ms, bool sent)
{
	struct tw_conn c = TIMELINE(TW_LISTEN, 0, { TW_SYN_RECV, 0 }, { TW_ESTABLISHED, 1 * MS },
				    { TW_CLOSE_WAIT, 10500000 }, { TW_CLOSE, reset_ms * MS });

	set_ends(&c, LOOPBACK, 8080, LOOPBACK, 40000);
	c.flags |= sent ? TW_CONN_RESET_SENT | TW_CONN_RESET_SENT_FIRST : TW_CONN_RESET_RECEIVED;
	c.reset_state = TW_CLOSE_WAIT;
	return c;
}

static struct conn_verdict classify(const struct tw_conn *c)
{
	struct conn_verdict v;

	conn_classify(c, &env, &v);
	return v;
}

static struct handover_wait w;

static void start(uint32_t cap)
{
	handover_wait_free(&w);
	handover_wait_init(&w, cap, FIN_TIMEOUT);
}

static void hold(const struct tw_conn *c)
{
	struct conn_verdict v = classify(c);

	CHECK(handover_wait_eligible(c, &v));
	CHECK_INT(handover_wait_hold(&w, c, HANDOVER_BY_PEER), 0);
}

/* A connection whose peer is elsewhere: the kernel side watches its timewait socket. */
static void hold_watched(const struct tw_conn *c)
{
	CHECK_INT(handover_wait_hold(&w, c, HANDOVER_BY_KERNEL), 0);
}

static bool join(const struct tw_conn *peer, struct handover_release *out)
{
	struct conn_verdict pv = classify(peer);

	return handover_wait_join(&w, peer, &pv, out);
}

TEST(test_handover_wait_only_an_orphans_fin_wait2_handover_is_eligible)
{
	struct tw_conn c = orphan();
	struct conn_verdict v = classify(&c);

	CHECK(handover_wait_eligible(&c, &v));
	/* The peer's FIN came first: TIME_WAIT, nothing left to learn. */
	c.flags |= TW_CONN_PEER_FIN;
	v = classify(&c);
	CHECK(!handover_wait_eligible(&c, &v));
	/* Its FIN was sent before tracing began: no time to check a peer against. */
	c = TIMELINE(TW_ESTABLISHED, TW_CONN_ORPHAN, { TW_FIN_WAIT2, 0 }, { TW_CLOSE, 1 * MS });
	v = classify(&c);
	CHECK_INT(v.end, CONN_END_FIN_WAIT2);
	CHECK(!handover_wait_eligible(&c, &v));
	/* A passive close has no hand-over. */
	c = server(500);
	v = classify(&c);
	CHECK(!handover_wait_eligible(&c, &v));
}

TEST(test_handover_wait_peers_fin_ends_the_wait)
{
	struct tw_conn c = orphan(), peer = server(1011);
	struct handover_release r;

	start(16);
	hold(&c);
	CHECK_INT(w.count, 1);
	CHECK_INT(handover_wait_next_due(&w),
		  START + 11 * MS + FIN_TIMEOUT + HANDOVER_WAIT_MARGIN_NS);
	CHECK(join(&peer, &r));
	CHECK_INT(r.end, CONN_FW2_PEER_FIN);
	CHECK_INT(r.end_ns, 1011 * MS);
	CHECK(memcmp(&r.conn, &c, sizeof(c)) == 0);
	CHECK_INT(w.count, 0);
	CHECK_INT(handover_wait_next_due(&w), UINT64_MAX);
	/* Once only. */
	CHECK(!join(&peer, &r));
}

TEST(test_handover_wait_peer_must_have_got_our_fin_between_sending_and_handover)
{
	struct tw_conn c = orphan(), earlier = server(1011), later = server(1011);
	struct handover_release r;

	start(16);
	hold(&c);
	/* An earlier connection on the same ports: its CLOSE_WAIT before our FIN. */
	earlier.start_ns = START - 1 * SEC;
	CHECK(!join(&earlier, &r));
	/* A later one: its CLOSE_WAIT after our hand-over. */
	later.start_ns = START + 1 * MS;
	CHECK(!join(&later, &r));
	CHECK_INT(w.count, 1);
}

TEST(test_handover_wait_loopback_peer_must_be_in_our_namespace)
{
	struct tw_conn c = orphan(), peer = server(1011);
	struct handover_release r;

	start(16);
	hold(&c);
	peer.netns = NETNS + 1;
	CHECK(!join(&peer, &r));
	peer.netns = NETNS;
	CHECK(join(&peer, &r));
}

TEST(test_handover_wait_ipv6_loopback_peer)
{
	static const __u8 v6_loopback[16] = { [15] = 1 };
	struct tw_conn c = orphan(), peer = server(1011);
	struct handover_release r;

	c.ep.family = peer.ep.family = AF_INET6;
	memcpy(c.ep.laddr, v6_loopback, 16);
	memcpy(c.ep.raddr, v6_loopback, 16);
	memcpy(peer.ep.laddr, v6_loopback, 16);
	memcpy(peer.ep.raddr, v6_loopback, 16);
	start(16);
	hold(&c);
	/* The same ports over IPv4 are another connection. */
	peer.ep.family = AF_INET;
	CHECK(!join(&peer, &r));
	peer.ep.family = AF_INET6;
	peer.netns = NETNS + 1;
	CHECK(!join(&peer, &r));
	peer.netns = NETNS;
	CHECK(join(&peer, &r));
	CHECK_INT(r.end_ns, 1011 * MS);
}

TEST(test_handover_wait_peer_in_another_namespace_by_a_host_address)
{
	/* 10.0.0.1 (a container) to the host's 10.0.0.2; the server in the host's namespace. */
	struct tw_conn c = orphan(), peer = server(2011);
	struct handover_release r;

	set_ends(&c, "\x0a\x00\x00\x01", 40000, "\x0a\x00\x00\x02", 8080);
	set_ends(&peer, "\x0a\x00\x00\x02", 8080, "\x0a\x00\x00\x01", 40000);
	c.netns = NETNS + 7;
	start(16);
	hold(&c);
	CHECK(join(&peer, &r));
	CHECK_INT(r.end_ns, 2011 * MS);
}

TEST(test_handover_wait_peer_behind_nat_is_known_by_our_end)
{
	/* The host's 10.0.0.2:8080 forwarded (DNAT) to a container's 172.17.0.2:80. */
	struct tw_conn c = orphan(), peer = server(1011), other = server(1011);
	struct handover_release r;

	set_ends(&c, "\x0a\x00\x00\x02", 40000, "\x0a\x00\x00\x02", 8080);
	set_ends(&peer, "\xac\x11\x00\x02", 80, "\x0a\x00\x00\x02", 40000);
	set_ends(&other, "\xac\x11\x00\x02", 80, "\x0a\x00\x00\x02", 40001);
	start(16);
	hold(&c);
	CHECK(!join(&other, &r));
	CHECK(join(&peer, &r));
	CHECK_INT(r.end, CONN_FW2_PEER_FIN);
}

TEST(test_handover_wait_peer_reset_and_our_reset)
{
	struct tw_conn c = orphan(), sent = server_reset(3011, true),
		       received = server_reset(3011, false);
	struct handover_release r;

	start(16);
	hold(&c);
	CHECK(join(&sent, &r));
	CHECK_INT(r.end, CONN_FW2_PEER_RESET);
	CHECK_INT(r.end_ns, 3011 * MS);
	/* It sent data after our close(): the timewait socket's RST ended both. */
	hold(&c);
	CHECK(join(&received, &r));
	CHECK_INT(r.end, CONN_FW2_LOCAL_RESET);
	CHECK_INT(r.end_ns, 3011 * MS);
}

TEST(test_handover_wait_peer_record_without_an_end_of_ours_leaves_it_waiting)
{
	/* The peer closed from CLOSE_WAIT with neither FIN nor RST (its retries ran out). */
	struct tw_conn c = orphan(), peer = server_reset(3011, false);
	struct handover_release r;

	peer.flags &= ~TW_CONN_RESET_RECEIVED;
	peer.sk_err = ETIMEDOUT;
	start(16);
	hold(&c);
	CHECK(!join(&peer, &r));
	/* Still open at exit: nothing about its end either. */
	peer = server(1011);
	peer.flags |= TW_CONN_OPEN;
	CHECK(!join(&peer, &r));
	CHECK_INT(w.count, 1);
}

TEST(test_handover_wait_peer_fin_after_the_kernels_deadline_is_a_timeout)
{
	struct tw_conn c = orphan(), peer = server(11 + 60000 + 5);
	struct handover_release r;

	start(16);
	hold(&c);
	CHECK(join(&peer, &r));
	CHECK_INT(r.end, CONN_FW2_TIMEOUT);
	CHECK_INT(r.end_ns, 11 * MS + FIN_TIMEOUT);
}

TEST(test_handover_wait_peer_fin_stamped_before_the_handover_arrived_after_it)
{
	/* The FIN left while our socket was handing over: it met the timewait socket. */
	struct tw_conn c = orphan(), peer = server(11);
	struct handover_release r;

	c.step_ns[3] = c.step_ns[4] = 11 * MS + 5000;
	start(16);
	hold(&c);
	CHECK(join(&peer, &r));
	CHECK_INT(r.end, CONN_FW2_PEER_FIN);
	CHECK_INT(r.end_ns, 11 * MS + 5000);
}

TEST(test_handover_wait_expires_when_the_kernel_has_dropped_it)
{
	struct tw_conn c = orphan();
	uint64_t due = START + 11 * MS + FIN_TIMEOUT + HANDOVER_WAIT_MARGIN_NS;
	struct handover_release r;

	start(16);
	hold(&c);
	CHECK(!handover_wait_pop_expired(&w, due - 1, &r));
	CHECK(handover_wait_pop_expired(&w, due, &r));
	CHECK_INT(r.end, CONN_FW2_TIMEOUT);
	CHECK_INT(r.end_ns, 11 * MS + FIN_TIMEOUT);
	CHECK(!handover_wait_pop_expired(&w, UINT64_MAX, &r));
}

TEST(test_handover_wait_at_the_end_of_tracing_all_leave_still_waiting)
{
	struct tw_conn a = orphan(), b = orphan();
	struct handover_release r;

	b.ep.lport = 40001;
	start(16);
	hold(&a);
	hold(&b);
	CHECK(handover_wait_pop_any(&w, &r));
	CHECK_INT(r.end, CONN_FW2_WAITING);
	CHECK_INT(r.end_ns, -1);
	CHECK_INT(r.conn.ep.lport, 40000);
	CHECK(handover_wait_pop_any(&w, &r));
	CHECK_INT(r.conn.ep.lport, 40001);
	CHECK(!handover_wait_pop_any(&w, &r));
}

TEST(test_handover_wait_full_table_counts_and_frees_slots_for_reuse)
{
	struct tw_conn a = orphan(), b = orphan(), c = orphan(), peer_b = server(500);
	struct handover_release r;

	b.ep.lport = peer_b.ep.rport = 40001;
	c.ep.lport = 40002;
	start(2);
	hold(&a);
	hold(&b);
	CHECK_INT(handover_wait_hold(&w, &c, HANDOVER_BY_PEER), -ENOSPC);
	CHECK_INT(w.full, 1);
	/* The middle one leaves; the order of the others stays. */
	CHECK(join(&peer_b, &r));
	CHECK_INT(r.conn.ep.lport, 40001);
	CHECK_INT(handover_wait_hold(&w, &c, HANDOVER_BY_PEER), 0);
	CHECK(handover_wait_pop_any(&w, &r));
	CHECK_INT(r.conn.ep.lport, 40000);
	CHECK(handover_wait_pop_any(&w, &r));
	CHECK_INT(r.conn.ep.lport, 40002);
}

TEST(test_handover_wait_same_local_port_to_two_servers)
{
	/* connect() may reuse a local port for another destination. */
	struct tw_conn a = orphan(), b = orphan(), peer_a = server(1011), peer_b = server(900);
	struct handover_release r;

	set_ends(&b, LOOPBACK, 40000, "\x7f\x00\x00\x02", 9090);
	set_ends(&peer_b, "\x7f\x00\x00\x02", 9090, LOOPBACK, 40000);
	/* b closed 5 s after a. */
	b.start_ns = peer_b.start_ns = START + 5 * SEC;
	start(16);
	hold(&a);
	hold(&b);
	/* b was held last, so it is looked at first: a's peer is not b's. */
	CHECK(join(&peer_a, &r));
	CHECK_INT(r.conn.ep.rport, 8080);
	CHECK(join(&peer_b, &r));
	CHECK_INT(r.conn.ep.rport, 9090);
	CHECK_INT(r.end_ns, 900 * MS);
	CHECK_INT(w.count, 0);
}

/* The kernel side's end record of c's hand-over: `kind` at ts_ns (CLOCK_MONOTONIC). */
static struct tw_handover_end watched_end(const struct tw_conn *c, __u8 kind, __u64 ts_ns)
{
	struct tw_handover_end e = {
		.type = TW_REC_HANDOVER_END,
		.end = kind,
		.netns = c->netns,
		.cookie = c->cookie,
		.ts_ns = ts_ns,
		.seen_ns = ts_ns,
		.ep = c->ep,
	};

	return e;
}

/* The orphan, its timewait socket watched by the kernel side. */
static struct tw_conn watched_orphan(void)
{
	struct tw_conn c = orphan();

	c.cookie = 77;
	c.flags |= TW_CONN_HANDOVER_WATCHED;
	return c;
}

TEST(test_handover_wait_kernel_side_end_releases_a_watched_orphan)
{
	static const struct {
		__u8 kind;
		enum conn_fin_wait2_end end;
	} ends[] = {
		{ TW_HANDOVER_PEER_FIN, CONN_FW2_PEER_FIN },
		{ TW_HANDOVER_LOCAL_RESET, CONN_FW2_LOCAL_RESET },
		{ TW_HANDOVER_TIMEOUT, CONN_FW2_TIMEOUT },
		/* Gone early with no RST of ours: the peer's RST. */
		{ TW_HANDOVER_GONE, CONN_FW2_PEER_RESET },
	};
	struct tw_conn c = watched_orphan();
	struct tw_handover_end e;
	struct handover_release r;
	size_t i;

	/* A remote peer: nothing but the kernel side can tell. */
	set_ends(&c, LOOPBACK, 40000, "\x0a\x00\x00\x09", 8080);
	start(16);
	for (i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		hold_watched(&c);
		e = watched_end(&c, ends[i].kind, START + 2011 * MS);
		CHECK(handover_wait_end(&w, &e, &r));
		CHECK_INT(r.end, ends[i].end);
		CHECK_INT(r.end_ns, 2011 * MS);
		CHECK(memcmp(&r.conn, &c, sizeof(c)) == 0);
		CHECK_INT(w.count, 0);
		/* Once only: a second word on it finds nothing. */
		CHECK(!handover_wait_end(&w, &e, &r));
	}
}

TEST(test_handover_wait_kernel_side_end_must_be_this_connections)
{
	struct tw_conn c = watched_orphan(), peer = server(1011);
	struct tw_handover_end e;
	struct handover_release r;

	start(16);
	hold_watched(&c);
	/* Another socket that had the same ports, or the same cookie in another namespace. */
	e = watched_end(&c, TW_HANDOVER_PEER_FIN, START + 500 * MS);
	e.cookie = 78;
	CHECK(!handover_wait_end(&w, &e, &r));
	e.cookie = 77;
	e.netns = NETNS + 1;
	CHECK(!handover_wait_end(&w, &e, &r));
	/* A jiffy's rounding put the end before the hand-over: it is the hand-over. */
	e.netns = NETNS;
	e.ts_ns = START + 10 * MS;
	CHECK(handover_wait_end(&w, &e, &r));
	CHECK_INT(r.end_ns, 11 * MS);
	/* The local peer's record, coming after, finds nothing left to end. */
	CHECK(!join(&peer, &r));
	/* Held for its local peer's exact word, it does not take the kernel side's. */
	hold(&c);
	CHECK(!handover_wait_end(&w, &e, &r));
	CHECK(join(&peer, &r));
	CHECK_INT(r.end_ns, 1011 * MS);
}

TEST(test_handover_wait_peer_record_that_never_comes_leaves_the_kernel_sides_word)
{
	struct tw_conn c = watched_orphan();
	struct tw_handover_end e;
	struct handover_release r;

	start(16);
	hold(&c);
	e = watched_end(&c, TW_HANDOVER_GONE, START + 3011 * MS);
	CHECK(!handover_wait_end(&w, &e, &r));
	CHECK_INT(w.count, 1);
	/* At its deadline, what the kernel side told rather than a timeout. */
	CHECK(!handover_wait_pop_expired(&w, START + 11 * MS + FIN_TIMEOUT, &r));
	CHECK(handover_wait_pop_expired(&w, START + 11 * MS + FIN_TIMEOUT +
						    HANDOVER_WAIT_MARGIN_NS, &r));
	CHECK_INT(r.end, CONN_FW2_PEER_RESET);
	CHECK_INT(r.end_ns, 3011 * MS);
}

TEST(test_handover_wait_nothing_held_joins_nothing)
{
	struct tw_conn peer = server(1011);
	struct handover_release r;

	start(16);
	CHECK(!join(&peer, &r));
	CHECK_INT(handover_wait_next_due(&w), UINT64_MAX);
	CHECK(!handover_wait_pop_expired(&w, UINT64_MAX, &r));
	handover_wait_free(&w);
}
