// SPDX-License-Identifier: GPL-2.0
/*
 * Summaries fed the way tcpwave feeds them: a timeline as the kernel side
 * builds it, classified by conn_classify(), then summary_add().
 */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "summary.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

static const struct conn_env env = { .time_wait_ns = 60 * SEC, .fin_timeout_ns = 60 * SEC };
static const uint64_t no_counters[TW_CNT_MAX];
static const struct summary_sockets no_sockets;

/* A connection through states[i] entered at t[i] ns, owned by pid, to 10.0.0.<host>:rport. */
struct spec {
	__u8 first_old_state;
	__u8 reset_state;
	__u32 flags;
	__u32 handshake_us; /* with TW_CONN_HANDSHAKE_KNOWN */
	__u32 pid;
	__u8 host;
	__u16 rport;
	int n;
	__u8 states[TW_STEPS_MAX];
	__u64 t[TW_STEPS_MAX];
};

static void feed(struct summary *s, const struct spec *sp)
{
	struct tw_conn c = { .type = TW_REC_CONN,
			     .first_old_state = sp->first_old_state,
			     .reset_state = sp->reset_state };
	struct conn_verdict v;

	memcpy(c.step_state, sp->states, sizeof(c.step_state));
	memcpy(c.step_ns, sp->t, sizeof(c.step_ns));
	c.nsteps = (__u8)sp->n;
	c.handshake_us = sp->handshake_us;
	c.flags = sp->flags | (sp->pid ? TW_CONN_OWNER_KNOWN : 0);
	c.owner.tgid = c.owner.pid = sp->pid;
	snprintf(c.owner.comm, sizeof(c.owner.comm), "app%u", sp->pid);
	c.ep.family = AF_INET;
	c.ep.raddr[0] = 10;
	c.ep.raddr[3] = sp->host;
	c.ep.rport = sp->rport;
	c.ep.lport = 40000;
	conn_classify(&c, &env, &v);
	summary_add(s, &c, &v);
}

/* connect(), handshake 40 µs, our FIN at 10 ms, FIN_WAIT2 at fw2, TIME_WAIT at end. */
static struct spec active_close(__u64 fw2, __u64 end)
{
	return (struct spec){ .first_old_state = TW_CLOSE, .flags = TW_CONN_PEER_FIN, .pid = 7,
			      .host = 1, .rport = 5432, .n = 5,
			      .states = { TW_SYN_SENT, TW_ESTABLISHED, TW_FIN_WAIT1, TW_FIN_WAIT2,
					  TW_CLOSE },
			      .t = { 0, 40 * US, 10 * MS, fw2, end } };
}

/* Accepted (handshake 30 µs as the kernel measured it), the peer's FIN first. */
static struct spec passive_close(__u64 close_wait_ns)
{
	return (struct spec){ .first_old_state = TW_LISTEN,
			      .flags = TW_CONN_HANDSHAKE_KNOWN | TW_CONN_ORPHAN, .handshake_us = 30,
			      .pid = 8, .host = 2, .rport = 51000, .n = 5,
			      .states = { TW_SYN_RECV, TW_ESTABLISHED, TW_CLOSE_WAIT, TW_LAST_ACK,
					  TW_CLOSE },
			      .t = { 0, 30 * US, 5 * MS, 5 * MS + close_wait_ns,
				     5 * MS + close_wait_ns + 100 * US } };
}

static void start(struct summary *s, uint64_t slow_ns)
{
	if (summary_init(s, slow_ns, 100 * SEC, no_counters)) {
		perror("summary_init");
		exit(1);
	}
}

TEST(test_summary_counts_by_open_close_and_handover)
{
	struct spec client = active_close(11 * MS, 12 * MS), server = passive_close(200 * MS);
	struct spec refused = { .first_old_state = TW_CLOSE,
				.reset_state = TW_SYN_SENT,
				.flags = TW_CONN_RESET_RECEIVED,
				.pid = 7, .host = 3, .rport = 9, .n = 2,
				.states = { TW_SYN_SENT, TW_CLOSE }, .t = { 0, 20 * US } };
	struct spec orphan = active_close(11 * MS, 11 * MS);
	struct summary s;

	start(&s, SEC);
	feed(&s, &client);
	feed(&s, &server);
	feed(&s, &refused);
	/* Closed by its application before the peer's FIN: the FIN_WAIT2 substate. */
	orphan.flags = TW_CONN_ORPHAN;
	feed(&s, &orphan);
	CHECK_INT(s.connections, 4);
	CHECK_INT(s.by_open[CONN_OPEN_ACTIVE], 3);
	CHECK_INT(s.by_open[CONN_OPEN_PASSIVE], 1);
	CHECK_INT(s.by_open[CONN_OPEN_UNKNOWN], 0);
	CHECK_INT(s.by_close[CONN_CLOSE_ACTIVE], 2);
	CHECK_INT(s.by_close[CONN_CLOSE_PASSIVE], 1);
	CHECK_INT(s.by_close[CONN_CLOSE_REFUSED], 1);
	CHECK_INT(s.by_close[CONN_CLOSE_NONE], 0);
	CHECK_INT(s.by_open_close[CONN_OPEN_ACTIVE][CONN_CLOSE_ACTIVE], 2);
	CHECK_INT(s.by_open_close[CONN_OPEN_ACTIVE][CONN_CLOSE_REFUSED], 1);
	CHECK_INT(s.by_open_close[CONN_OPEN_PASSIVE][CONN_CLOSE_PASSIVE], 1);
	CHECK_INT(s.by_end[CONN_END_TIME_WAIT], 1);
	CHECK_INT(s.by_end[CONN_END_FIN_WAIT2], 1);
	CHECK_INT(s.by_end[CONN_END_CLOSED], 2);
	CHECK_INT(s.tw_overflows, 0);
	summary_free(&s);
}

TEST(test_summary_histograms_take_each_duration)
{
	struct spec client = active_close(11 * MS, 12 * MS), server = passive_close(200 * MS);
	struct summary s;
	uint64_t sum_s;
	uint32_t sum_ns;

	start(&s, SEC);
	feed(&s, &client);
	feed(&s, &server);
	/* Active: SYN_SENT to ESTABLISHED, 40 µs: (32, 64]. */
	CHECK_INT(s.handshake[CONN_OPEN_ACTIVE].count, 1);
	CHECK_INT(s.handshake[CONN_OPEN_ACTIVE].buckets[6], 1);
	/* Passive: the kernel's measurement, 30 µs: (16, 32]. */
	CHECK_INT(s.handshake[CONN_OPEN_PASSIVE].count, 1);
	CHECK_INT(s.handshake[CONN_OPEN_PASSIVE].buckets[5], 1);
	/* Lifetimes 12 ms (8192, 16384] and 205.1 ms (131072, 262144]. */
	CHECK_INT(s.lifetime.count, 2);
	CHECK_INT(s.lifetime.buckets[14], 1);
	CHECK_INT(s.lifetime.buckets[18], 1);
	histogram_sum(&s.lifetime, &sum_s, &sum_ns);
	CHECK_INT(sum_s, 0);
	CHECK_INT(sum_ns, 12 * MS + 205 * MS + 100 * US);
	/* Close times per close kind: 2 ms and 200.1 ms. */
	CHECK_INT(s.close[CONN_CLOSE_ACTIVE].count, 1);
	CHECK_INT(s.close[CONN_CLOSE_ACTIVE].buckets[11], 1);
	CHECK_INT(s.close[CONN_CLOSE_PASSIVE].count, 1);
	CHECK_INT(s.close[CONN_CLOSE_PASSIVE].buckets[18], 1);
	CHECK_INT(s.close[CONN_CLOSE_RESET].count, 0);
	summary_free(&s);
}

TEST(test_summary_state_times_from_timeline_steps)
{
	struct spec client = active_close(11 * MS, 12 * MS), server = passive_close(3 * SEC);
	struct summary s;

	start(&s, SEC);
	feed(&s, &client);
	feed(&s, &server);
	/* FIN_WAIT1 1 ms (512, 1024]; FIN_WAIT2 1 ms too; CLOSE_WAIT 3 s; LAST_ACK 100 µs. */
	CHECK_INT(s.state[SUMMARY_FIN_WAIT1].count, 1);
	CHECK_INT(s.state[SUMMARY_FIN_WAIT1].buckets[10], 1);
	CHECK_INT(s.state[SUMMARY_FIN_WAIT2].count, 1);
	CHECK_INT(s.state[SUMMARY_FIN_WAIT2].buckets[10], 1);
	CHECK_INT(s.state[SUMMARY_CLOSE_WAIT].count, 1);
	CHECK_INT(s.state[SUMMARY_CLOSE_WAIT].buckets[histogram_bucket(3 * SEC)], 1);
	CHECK_INT(s.state[SUMMARY_LAST_ACK].count, 1);
	CHECK_INT(s.state[SUMMARY_LAST_ACK].buckets[7], 1);
	CHECK_INT(s.state[SUMMARY_CLOSING].count, 0);
	CHECK_INT(summary_state_tcp(SUMMARY_CLOSE_WAIT), TW_CLOSE_WAIT);
	CHECK_INT(summary_state_tcp(SUMMARY_CLOSING), TW_CLOSING);
	summary_free(&s);
}

TEST(test_summary_truncated_timeline_leaves_out_the_step_before_its_last_slot)
{
	/* Eight slots, the last overwritten: FIN_WAIT2 did not end where CLOSE was written. */
	struct spec c = { .first_old_state = TW_CLOSE, .flags = TW_CONN_TRUNCATED, .pid = 7,
			  .host = 1, .rport = 80, .n = 8,
			  .states = { TW_SYN_SENT, TW_ESTABLISHED, TW_FIN_WAIT1, TW_FIN_WAIT1,
				      TW_FIN_WAIT1, TW_FIN_WAIT1, TW_FIN_WAIT2, TW_CLOSE },
			  .t = { 0, 1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS, 6 * MS, 90 * MS } };
	struct summary s;

	start(&s, SEC);
	feed(&s, &c);
	CHECK_INT(s.state[SUMMARY_FIN_WAIT1].count, 4);
	CHECK_INT(s.state[SUMMARY_FIN_WAIT2].count, 0);
	summary_free(&s);
}

TEST(test_summary_still_open_connection_is_not_counted)
{
	struct spec c = active_close(11 * MS, 12 * MS);
	struct summary s;

	start(&s, SEC);
	c.flags |= TW_CONN_OPEN;
	c.n = 3;
	feed(&s, &c);
	CHECK_INT(s.connections, 0);
	CHECK_INT(s.by_open[CONN_OPEN_ACTIVE], 0);
	CHECK_INT(s.handshake[CONN_OPEN_ACTIVE].count, 0);
	CHECK_INT(s.state[SUMMARY_FIN_WAIT1].count, 0);
	summary_free(&s);
}

TEST(test_summary_slow_closes_fill_the_top_tables)
{
	struct spec slow_client = active_close(11 * MS, 150 * MS);
	struct spec fast_client = active_close(11 * MS, 12 * MS);
	struct spec slow_server = passive_close(400 * MS);
	struct spec unowned = passive_close(500 * MS);
	struct summary s;
	const union summary_top_key *k;

	/* 100 ms: the client's 140 ms close and both servers' are slow, not the 2 ms one. */
	start(&s, 100 * MS);
	feed(&s, &slow_client);
	feed(&s, &slow_client);
	feed(&s, &fast_client);
	feed(&s, &slow_server);
	unowned.pid = 0;
	feed(&s, &unowned);
	CHECK_INT(s.slow_closes, 4);
	summary_end(&s, 110 * SEC, no_counters, &no_sockets);

	/*
	 * Remotes: accepted peers by address only, ours with the service's
	 * port. Two slow closes each: the worse close ranks first.
	 */
	CHECK_INT(s.remotes.used, 2);
	k = &s.remotes.entries[0].key;
	CHECK_INT(s.remotes.entries[0].count, 2);
	CHECK_INT(s.remotes.entries[0].worst_ns, 500 * MS + 100 * US);
	CHECK_INT(k->remote.family, AF_INET);
	CHECK_INT(k->remote.addr[0], 10);
	CHECK_INT(k->remote.addr[3], 2);
	CHECK_INT(k->remote.port, 0);
	k = &s.remotes.entries[1].key;
	CHECK_INT(s.remotes.entries[1].count, 2);
	CHECK_INT(s.remotes.entries[1].worst_ns, 140 * MS);
	CHECK_INT(k->remote.addr[3], 1);
	CHECK_INT(k->remote.port, 5432);

	/* Processes: by pid and comm; an unknown owner is pid 0. */
	CHECK_INT(s.processes.used, 3);
	CHECK_INT(s.processes.entries[0].key.process.pid, 7);
	CHECK_STR(s.processes.entries[0].key.process.comm, "app7");
	CHECK_INT(s.processes.entries[0].count, 2);
	CHECK_INT(s.processes.entries[1].key.process.pid, 0);
	CHECK_STR(s.processes.entries[1].key.process.comm, "");
	CHECK_INT(s.processes.entries[2].key.process.pid, 8);
	summary_free(&s);
}

TEST(test_summary_end_takes_counters_over_the_period_and_restart_clears)
{
	const uint64_t at_start[TW_CNT_MAX] = { [TW_CNT_LOST] = 5, [TW_CNT_HELD_DROPPED] = 1 };
	const uint64_t at_end[TW_CNT_MAX] = { [TW_CNT_LOST] = 12, [TW_CNT_HELD_DROPPED] = 1,
					      [TW_CNT_SOCK_DROPPED] = 3 };
	const uint64_t later[TW_CNT_MAX] = { [TW_CNT_LOST] = 20, [TW_CNT_HELD_DROPPED] = 2,
					     [TW_CNT_SOCK_DROPPED] = 3 };
	const struct summary_sockets sockets = { .known = true, .time_wait = 9, .close_wait = 2 };
	struct spec slow_client = active_close(11 * MS, 2 * SEC);
	struct summary s;

	if (summary_init(&s, SEC, 100 * SEC, at_start)) {
		perror("summary_init");
		exit(1);
	}
	feed(&s, &slow_client);
	summary_end(&s, 110 * SEC, at_end, &sockets);
	CHECK_INT(s.start_ns, 100 * SEC);
	CHECK_INT(s.end_ns, 110 * SEC);
	CHECK_INT(s.counters[TW_CNT_LOST], 7);
	CHECK_INT(s.counters[TW_CNT_HELD_DROPPED], 0);
	CHECK_INT(s.counters[TW_CNT_SOCK_DROPPED], 3);
	CHECK(s.sockets.known);
	CHECK_INT(s.sockets.time_wait, 9);
	CHECK_INT(s.sockets.close_wait, 2);
	CHECK_INT(s.connections, 1);
	CHECK_INT(s.remotes.used, 1);

	summary_restart(&s);
	CHECK_INT(s.start_ns, 110 * SEC);
	CHECK_INT(s.connections, 0);
	CHECK_INT(s.by_open[CONN_OPEN_ACTIVE], 0);
	CHECK_INT(s.lifetime.count, 0);
	CHECK_INT(s.slow_closes, 0);
	CHECK_INT(s.remotes.used, 0);
	CHECK_INT(s.processes.used, 0);
	CHECK_INT(s.slow_close_ns, SEC);
	summary_end(&s, 120 * SEC, later, &no_sockets);
	CHECK_INT(s.counters[TW_CNT_LOST], 8);
	CHECK_INT(s.counters[TW_CNT_HELD_DROPPED], 1);
	CHECK_INT(s.counters[TW_CNT_SOCK_DROPPED], 0);
	CHECK(!s.sockets.known);
	summary_free(&s);
}
