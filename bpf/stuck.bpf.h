/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stuck: connections that sit in CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2, LAST_ACK
 * or CLOSING. A leak never closes, so no transition will report it: the poll
 * loop runs a check over the sockets in such a state (check_stuck, run on
 * demand with BPF_PROG_TEST_RUN), and each find leaves as a struct tw_stuck
 * through the ring buffer, like every other record. Included once, by tcpwave.bpf.c, after sock_state.bpf.h.
 *
 * Walking every socket's state instead would cost about 1 µs per connection
 * and check (80-100 ms at 100k connections): the table below holds only the
 * sockets in a close state, which rarely stay there for long.
 */
#ifndef TCPWAVE_STUCK_BPF_H
#define TCPWAVE_STUCK_BPF_H

/*
 * A find whose owner is not known is held back and counted in
 * stuck_unowned; userspace then runs the owner walk (iter/task_file) and
 * checks again with stuck_report_unowned set, which reports it as it is.
 */
bool stuck_report_unowned;
__u32 stuck_unowned;
/*
 * Finds the ring buffer had no room for, in this check: they stay unmarked,
 * and userspace checks again once it has drained the ring buffer.
 */
__u32 stuck_deferred;

/* A connection in a close state: its record, ready to go but for the time it is found. */
struct closing {
	struct tw_stuck rec;
	__u8 reported; /* sent, for this stay */
	__u8 tuple; /* the tuple filters' verdict on the connection so far (tw_sock_state.filter) */
	/*
	 * Keyed by a timewait socket in the FIN_WAIT2 substate, not a full
	 * socket: no transition ends its stay, the check finds out itself.
	 */
	__u8 timewait;
	__u8 pad[5];
};

/*
 * The sockets in a close state, keyed by socket address: the state
 * tracepoint puts a socket in as it enters such a state and takes it out as
 * it leaves. An update replaces the element whole (not preallocated: a new
 * element goes in under RCU), so the check sees one stay or the next, never
 * a mix of both.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TW_CLOSING_MAX);
	__type(key, __u64);
	__type(value, struct closing);
} closing SEC(".maps");

static __always_inline int is_close_state(__u8 state)
{
	return state == TW_CLOSE_WAIT || state == TW_FIN_WAIT1 || state == TW_FIN_WAIT2 ||
	       state == TW_LAST_ACK || state == TW_CLOSING;
}

/* The record of a socket's stay in `state`, as its state stands. */
static __always_inline void closing_begin(struct closing *v, const struct tw_sock_state *st,
					  __u8 state)
{
	const struct tw_conn *c = &st->conn;
	struct tw_stuck *r = &v->rec;

	r->type = TW_REC_STUCK;
	r->state = state;
	r->age_from = st->age_from;
	r->first_old_state = c->first_old_state;
	r->first_state = c->step_state[0];
	r->flags = c->flags & TW_CONN_OWNER_KNOWN;
	r->netns = c->netns;
	r->cookie = c->cookie;
	r->state_start_ns = st->state_start_ns;
	r->start_ns = c->start_ns;
	r->cgroup_id = c->cgroup_id;
	r->owner = c->owner;
	r->ep = c->ep;
	v->tuple = st->filter;
}

/* Put a socket in the table, or replace its entry: a new stay. */
static __always_inline void closing_put(__u64 key, const struct tw_sock_state *st, __u8 state)
{
	struct closing v = {};

	closing_begin(&v, st, state);
	if (bpf_map_update_elem(&closing, &key, &v, BPF_ANY))
		count(TW_CNT_CLOSING_DROPPED);
}

/*
 * An orphan's FIN_WAIT2 went on in the timewait socket at tw_key: the same
 * stay, now watched under the timewait socket's address.
 */
static __always_inline void closing_follow_handover(__u64 key, __u64 tw_key)
{
	struct closing *v = bpf_map_lookup_elem(&closing, &key);

	if (!v)
		return;
	v->timewait = 1;
	v->rec.flags |= TW_CONN_ORPHAN;
	if (bpf_map_update_elem(&closing, &tw_key, v, BPF_ANY))
		count(TW_CNT_CLOSING_DROPPED);
}

/*
 * The state tracepoint's part, after st took the transition in: a stay in
 * a close state begins or ends. A transition from a state to itself
 * (shutdown() then close() in FIN_WAIT1) is the same stay. tw_key is the
 * timewait socket an orphan's FIN_WAIT2 goes on in, if any.
 */
static __always_inline void stuck_track(const struct transition *t, const struct tw_sock_state *st,
					__u64 tw_key)
{
	__u64 key;

	if (!stuck_after_ns)
		return;
	key = (__u64)t->sk;
	if (is_close_state(t->new_state)) {
		if (t->old_state != t->new_state || !bpf_map_lookup_elem(&closing, &key))
			closing_put(key, st, t->new_state);
	} else if (is_close_state(t->old_state)) {
		if (tw_key)
			closing_follow_handover(key, tw_key);
		bpf_map_delete_elem(&closing, &key);
	}
}

/*
 * The filters' last word on a report, as on a connection still open at the
 * end (filter_at_exit()): its owner is as known as it will get. sk may
 * be a socket's bare address, or NULL for a timewait socket, which has no
 * cgroup: only BPF_CORE_READ() reaches through it.
 */
static __always_inline int stuck_filtered(const struct tw_stuck *r, int tuple,
					  const struct sock *sk)
{
	struct tw_conn c;

	if (!filters)
		return 0;
	/* The filters read these fields only. */
	c.flags = r->flags;
	c.owner = r->owner;
	c.ep = r->ep;
	c.netns = r->netns;
	if (!filter_dropped(filter_at_exit(tuple, &c, sk)))
		return 0;
	filter_count(TW_FILTER_DROP, 1);
	return 1;
}

/*
 * One entry of the table, when the poll loop checks. An entry leaves the
 * table at the transition that ends the stay, before its socket can be
 * freed; the socket's own state (read through its address, as the entry
 * holds no reference) tells whether that transition is under way.
 */
static long check_closing(struct bpf_map *map, __u64 *key, struct closing *v, void *ctx)
{
	const struct sock_common *skc;
	struct tw_stuck *r;
	__u64 now, sk_flags = 0;
	__u8 live = 0;

	skc = (const void *)*key;
	/* A timewait socket's stay ends unseen: its entry goes once it has. */
	if (v->timewait &&
	    timewait_substate(skc, v->rec.cookie, v->rec.netns, &v->rec.ep) != TW_FIN_WAIT2) {
		bpf_map_delete_elem(map, key);
		return 0;
	}
	if (v->reported)
		return 0;
	now = bpf_ktime_get_ns();
	if (now < v->rec.state_start_ns || now - v->rec.state_start_ns < stuck_after_ns)
		return 0;
	if (!v->timewait) {
		BPF_CORE_READ_INTO(&live, skc, skc_state);
		if (live != v->rec.state)
			return 0;
	}

	/* Once the ring buffer is full, leave the rest for the next check. */
	r = stuck_deferred ? NULL : bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		stuck_deferred++;
		return 0;
	}
	__builtin_memcpy(r, &v->rec, sizeof(*r));
	r->ts_ns = now;
	/* Nobody holds a timewait socket's file: no owner walk can find one. */
	if (!(r->flags & TW_CONN_OWNER_KNOWN) && !stuck_report_unowned && !v->timewait) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		stuck_unowned++;
		return 0;
	}
	/* A timewait socket has no cgroup to filter on (see stuck_filtered()). */
	if (stuck_filtered(r, v->tuple, v->timewait ? NULL : (const void *)skc)) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		v->reported = 1;
		return 0;
	}
	if (!v->timewait)
		BPF_CORE_READ_INTO(&sk_flags, skc, skc_flags);
	if (sk_flags & (1ull << SOCK_DEAD))
		r->flags |= TW_CONN_ORPHAN;
	v->reported = 1;
	/* Userspace polls right after the check: no wakeup needed. */
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * The check itself. A raw_tp program attached nowhere, run by userspace
 * with BPF_PROG_TEST_RUN: map iterators (iter/bpf_map_elem) would do, but
 * some kernels' security policies refuse them.
 */
SEC("raw_tp")
int check_stuck(void *ctx)
{
	bpf_for_each_map_elem(&closing, check_closing, NULL, 0);
	return 0;
}

/*
 * A timewait socket in the FIN_WAIT2 substate, met by the start-up walk: an
 * orphan whose peer has not closed, watched from now on like one handed
 * over while traced. It took over when our FIN was acknowledged
 * (tcp_time_wait() stamps tw_entry_stamp with tcp_time_stamp_ms(),
 * CLOCK_MONOTONIC in ms).
 */
static __always_inline void stuck_watch_timewait(struct tcp_timewait_sock *ttw)
{
	struct inet_timewait_sock *tw = &ttw->tw_sk;
	struct closing v = {};
	struct tw_stuck *r = &v.rec;
	__u64 now, key = (__u64)ttw;
	__u32 ms;

	if (!stuck_after_ns || !bpf_core_field_exists(tw->tw_entry_stamp))
		return;
	now = bpf_ktime_get_ns();
	/* Both ends were cut to the ms: one less is a lower bound. */
	ms = (__u32)(now / 1000000) - tw->tw_entry_stamp;
	if (ms)
		ms--;
	r->type = TW_REC_STUCK;
	r->state = TW_FIN_WAIT2;
	r->age_from = TW_AGE_TIMEWAIT;
	r->first_old_state = TW_FIN_WAIT2;
	r->first_state = TW_FIN_WAIT2;
	r->flags = TW_CONN_ORPHAN;
	r->netns = tw->__tw_common.skc_net.net->ns.inum;
	r->cookie = BPF_CORE_READ(tw, __tw_common.skc_cookie.counter);
	r->state_start_ns = now - (__u64)ms * 1000000;
	r->start_ns = r->state_start_ns;
	btf_endpoints(&tw->__tw_common, &r->ep);
	v.tuple = TW_FILTER_PENDING;
	v.timewait = 1;
	if (bpf_map_update_elem(&closing, &key, &v, BPF_ANY))
		count(TW_CNT_CLOSING_DROPPED);
}

#endif /* TCPWAVE_STUCK_BPF_H */
