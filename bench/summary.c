// SPDX-License-Identifier: GPL-2.0
/*
 * The summary's cost per connection: conn_classify() and summary_add() on
 * realistic timelines, without BPF. Half active and half passive closes;
 * every 100th is slow, or with "storm" every one is, each from another
 * remote address, so that the top tables fill and prune all the time.
 * Prints ns per connection for the classifier alone and with the summary:
 * the difference is the summary's.
 *
 * Build: cc -O2 -Iuser -Ibpf bench/summary.c user/summary.c user/summary_top.c \
 *            user/histogram.c user/conn.c -o build/bench-summary
 * Usage: build/bench-summary [CONNECTIONS [storm]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "summary.h"

#define MS 1000000ull

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static bool storm;

/* Connection i, active or passive, slow every 100th time (every time in a storm). */
static void make(struct tw_conn *c, unsigned long i)
{
	static const __u8 active[] = { TW_SYN_SENT, TW_ESTABLISHED, TW_FIN_WAIT1, TW_FIN_WAIT2,
				       TW_CLOSE };
	static const __u8 passive[] = { TW_SYN_RECV, TW_ESTABLISHED, TW_CLOSE_WAIT, TW_LAST_ACK,
					TW_CLOSE };
	bool is_active = i % 2;
	uint64_t close_ns = i % 100 && !storm ? (i % 7 + 1) * 10000 : 1500 * MS;
	int k;

	memset(c, 0, sizeof(*c));
	c->type = TW_REC_CONN;
	c->first_old_state = is_active ? TW_CLOSE : TW_LISTEN;
	c->nsteps = 5;
	for (k = 0; k < 5; k++)
		c->step_state[k] = is_active ? active[k] : passive[k];
	c->step_ns[1] = 40000 + i % 1000;
	c->step_ns[2] = 2 * MS + i % 100000;
	c->step_ns[3] = c->step_ns[2] + close_ns / 2;
	c->step_ns[4] = c->step_ns[2] + close_ns;
	c->flags = TW_CONN_OWNER_KNOWN | TW_CONN_COUNTERS_KNOWN | TW_CONN_PEER_FIN;
	c->owner.tgid = 1000 + (__u32)(i % 50);
	strcpy(c->owner.comm, "bench");
	c->ep.family = AF_INET;
	c->ep.raddr[0] = 10;
	c->ep.rport = 5432;
	c->tw_max = 262144;
}

/* 10.x.y.z: a new remote address for each connection, 16M of them. */
static void set_remote(struct tw_conn *c, unsigned long i)
{
	c->ep.raddr[1] = (__u8)(i >> 16);
	c->ep.raddr[2] = (__u8)(i >> 8);
	c->ep.raddr[3] = (__u8)i;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000, i;
	const struct conn_env env = { .time_wait_ns = 60000 * MS, .fin_timeout_ns = 60000 * MS };
	static const uint64_t counters[TW_CNT_MAX];
	struct tw_conn *conns = calloc(1024, sizeof(*conns));
	struct conn_verdict v;
	struct summary s;
	double t0, t1, t2;

	if (!conns || summary_init(&s, 1000 * MS, 0, counters))
		return 1;
	storm = argc > 2 && !strcmp(argv[2], "storm");
	for (i = 0; i < 1024; i++)
		make(&conns[i], i);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		set_remote(&conns[i % 1024], i);
		conn_classify(&conns[i % 1024], &env, &v);
	}
	t1 = now_ns();
	for (i = 0; i < n; i++) {
		set_remote(&conns[i % 1024], i);
		conn_classify(&conns[i % 1024], &env, &v);
		summary_add(&s, &conns[i % 1024], &v);
	}
	t2 = now_ns();
	printf("classify %.1f ns/conn, classify+summary %.1f ns/conn, summary %.1f ns/conn "
	       "(%lu connections, %lu slow, %lu remotes evicted)\n",
	       (t1 - t0) / n, (t2 - t1) / n, (t2 - t1 - (t1 - t0)) / n, n, s.slow_closes,
	       s.remotes.evicted_entries);
	summary_free(&s);
	free(conns);
	return 0;
}
