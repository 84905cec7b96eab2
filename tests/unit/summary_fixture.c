// SPDX-License-Identifier: GPL-2.0
#include "summary_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

static void slow_close(struct summary *s, const union summary_top_key *remote, __u32 pid,
		       const char *comm, uint64_t ns)
{
	union summary_top_key k;

	summary_top_add(&s->remotes, remote, ns);
	memset(&k, 0, sizeof(k));
	k.process.pid = pid;
	strcpy(k.process.comm, comm);
	summary_top_add(&s->processes, &k, ns);
}

void summary_fixture(struct summary *s)
{
	static const uint64_t start[TW_CNT_MAX], end[TW_CNT_MAX] = { [TW_CNT_LOST] = 4 };
	static const struct summary_sockets sockets = { .known = true, .time_wait = 9,
							.close_wait = 2 };
	union summary_top_key k;

	if (summary_init(s, SEC, 100 * SEC, start)) {
		perror("summary_init");
		exit(1);
	}
	s->connections = 4;
	s->by_open[CONN_OPEN_ACTIVE] = 2;
	s->by_open[CONN_OPEN_PASSIVE] = 2;
	s->by_close[CONN_CLOSE_ACTIVE] = 2;
	s->by_close[CONN_CLOSE_PASSIVE] = 1;
	s->by_close[CONN_CLOSE_RESET] = 1;
	s->by_open_close[CONN_OPEN_ACTIVE][CONN_CLOSE_ACTIVE] = 2;
	s->by_open_close[CONN_OPEN_PASSIVE][CONN_CLOSE_PASSIVE] = 1;
	s->by_open_close[CONN_OPEN_PASSIVE][CONN_CLOSE_RESET] = 1;
	s->by_end[CONN_END_TIME_WAIT] = 2;
	s->by_end[CONN_END_CLOSED] = 2;
	s->slow_closes = 2;
	histogram_add(&s->handshake[CONN_OPEN_ACTIVE], 40 * US);
	histogram_add(&s->handshake[CONN_OPEN_ACTIVE], 200 * US);
	histogram_add(&s->handshake[CONN_OPEN_PASSIVE], 30 * US);
	histogram_add(&s->lifetime, 1600 * MS);
	histogram_add(&s->lifetime, 1200 * MS);
	histogram_add(&s->lifetime, 1300 * MS);
	histogram_add(&s->lifetime, 600 * MS);
	histogram_add(&s->close[CONN_CLOSE_ACTIVE], 1500 * MS);
	histogram_add(&s->close[CONN_CLOSE_ACTIVE], 900 * MS);
	histogram_add(&s->close[CONN_CLOSE_PASSIVE], 1200 * MS);
	histogram_add(&s->state[SUMMARY_FIN_WAIT1], 1500 * MS);
	histogram_add(&s->state[SUMMARY_FIN_WAIT1], 900 * MS);
	histogram_add(&s->state[SUMMARY_CLOSE_WAIT], 1200 * MS);

	memset(&k, 0, sizeof(k));
	k.remote.family = AF_INET;
	k.remote.addr[0] = 10;
	k.remote.addr[3] = 1;
	k.remote.port = 5432;
	slow_close(s, &k, 7, "psql", 1500 * MS);
	memset(&k, 0, sizeof(k));
	k.remote.family = AF_INET6;
	k.remote.addr[15] = 1;
	slow_close(s, &k, 0, "", 1200 * MS);
	summary_end(s, 110 * SEC, end, &sockets);
}
