// SPDX-License-Identifier: GPL-2.0
#include "summary.h"

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

static const __u8 state_tcp[SUMMARY_STATES] = {
	[SUMMARY_FIN_WAIT1] = TW_FIN_WAIT1,
	[SUMMARY_FIN_WAIT2] = TW_FIN_WAIT2,
	[SUMMARY_CLOSE_WAIT] = TW_CLOSE_WAIT,
	[SUMMARY_LAST_ACK] = TW_LAST_ACK,
	[SUMMARY_CLOSING] = TW_CLOSING,
};

__u8 summary_state_tcp(enum summary_state st)
{
	return (unsigned)st < SUMMARY_STATES ? state_tcp[st] : 0;
}

static int summary_state_of(__u8 tcp_state)
{
	switch (tcp_state) {
	case TW_FIN_WAIT1:
		return SUMMARY_FIN_WAIT1;
	case TW_FIN_WAIT2:
		return SUMMARY_FIN_WAIT2;
	case TW_CLOSE_WAIT:
		return SUMMARY_CLOSE_WAIT;
	case TW_LAST_ACK:
		return SUMMARY_LAST_ACK;
	case TW_CLOSING:
		return SUMMARY_CLOSING;
	default:
		return -1;
	}
}

/* Zero the figures (everything from `connections` on), keep the tables' memory. */
static void clear_figures(struct summary *s)
{
	memset(&s->connections, 0,
	       offsetof(struct summary, remotes) - offsetof(struct summary, connections));
	summary_top_clear(&s->remotes);
	summary_top_clear(&s->processes);
	memset(s->counters, 0, sizeof(s->counters));
	memset(&s->sockets, 0, sizeof(s->sockets));
}

int summary_init(struct summary *s, uint64_t slow_close_ns, uint64_t now_ns,
		 const uint64_t counters[TW_CNT_MAX])
{
	int err;

	memset(s, 0, sizeof(*s));
	err = summary_top_init(&s->remotes, SUMMARY_TOP_KEYS);
	if (!err)
		err = summary_top_init(&s->processes, SUMMARY_TOP_KEYS);
	if (err) {
		summary_free(s);
		return err;
	}
	s->slow_close_ns = slow_close_ns;
	s->start_ns = s->end_ns = now_ns;
	memcpy(s->counters_base, counters, sizeof(s->counters_base));
	return 0;
}

void summary_free(struct summary *s)
{
	summary_top_free(&s->remotes);
	summary_top_free(&s->processes);
}

/*
 * Time in each close state: from the step that entered it to the next.
 * A truncated timeline's last slot holds the latest state, overwritten as
 * later ones came (TW_CONN_TRUNCATED), so the step before it did not end
 * where that slot begins.
 */
static void add_state_times(struct summary *s, const struct tw_conn *c)
{
	int n = conn_steps(c);
	int ends = (c->flags & TW_CONN_TRUNCATED) ? n - 2 : n - 1;
	int i, st;

	for (i = 0; i < ends; i++) {
		st = summary_state_of(c->step_state[i]);
		if (st >= 0 && c->step_ns[i + 1] >= c->step_ns[i])
			histogram_add(&s->state[st], c->step_ns[i + 1] - c->step_ns[i]);
	}
}

/*
 * The remote end of a slow close: with its port for a connection we opened
 * (the port names the service), without for an accepted one (its port is
 * the peer's ephemeral one) or one already open when tracing began.
 */
static void remote_key(union summary_top_key *k, const struct tw_conn *c, enum conn_open open)
{
	memset(k, 0, sizeof(*k));
	k->remote.family = c->ep.family;
	memcpy(k->remote.addr, c->ep.raddr, c->ep.family == AF_INET ? 4 : sizeof(k->remote.addr));
	if (open == CONN_OPEN_ACTIVE)
		k->remote.port = c->ep.rport;
}

static void process_key(union summary_top_key *k, const struct tw_conn *c)
{
	memset(k, 0, sizeof(*k));
	if (!(c->flags & TW_CONN_OWNER_KNOWN))
		return;
	k->process.pid = c->owner.tgid;
	memcpy(k->process.comm, c->owner.comm, sizeof(k->process.comm));
}

void summary_add(struct summary *s, const struct tw_conn *c, const struct conn_verdict *v)
{
	union summary_top_key key;

	if (!v->complete)
		return;
	s->connections++;
	s->by_open[v->open]++;
	s->by_close[v->close]++;
	s->by_open_close[v->open][v->close]++;
	s->by_end[v->end]++;
	s->tw_overflows += v->tw_overflow;
	if (v->handshake_ns >= 0)
		histogram_add(&s->handshake[v->open], (uint64_t)v->handshake_ns);
	if (v->lifetime_ns >= 0)
		histogram_add(&s->lifetime, (uint64_t)v->lifetime_ns);
	add_state_times(s, c);
	if (v->close_ns < 0)
		return;
	histogram_add(&s->close[v->close], (uint64_t)v->close_ns);
	if ((uint64_t)v->close_ns < s->slow_close_ns)
		return;
	s->slow_closes++;
	remote_key(&key, c, v->open);
	summary_top_add(&s->remotes, &key, (uint64_t)v->close_ns);
	process_key(&key, c);
	summary_top_add(&s->processes, &key, (uint64_t)v->close_ns);
}

void summary_end(struct summary *s, uint64_t now_ns, const uint64_t counters[TW_CNT_MAX],
		 const struct summary_sockets *sockets)
{
	int i;

	s->end_ns = now_ns;
	for (i = 0; i < TW_CNT_MAX; i++)
		s->counters[i] = counters[i] - s->counters_base[i];
	s->sockets = *sockets;
	summary_top_rank(&s->remotes);
	summary_top_rank(&s->processes);
}

void summary_restart(struct summary *s)
{
	int i;

	for (i = 0; i < TW_CNT_MAX; i++)
		s->counters_base[i] += s->counters[i];
	s->start_ns = s->end_ns;
	clear_figures(s);
}
