/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The start-up walk: TCP sockets that were open before tracing began get
 * their state as if tcpwave had seen them from their current state on
 * (iter/tcp), and the processes that hold them become their owners
 * (iter/task_file, which runs first). Included once, by tcpwave.bpf.c, after
 * stuck.bpf.h.
 *
 * The tracepoints are attached first, so the walk may meet a socket that
 * already has its state: that one is exact and stays as it is. The tcp
 * iterator runs the program with the socket locked (bpf_iter_tcp_seq_show():
 * lock_sock_fast()), as every state change runs, so the walk and a
 * transition never interleave on one socket.
 */
#ifndef TCPWAVE_SNAPSHOT_BPF_H
#define TCPWAVE_SNAPSHOT_BPF_H


/* What the walk met; userspace reads it after each walk. */
struct tw_snapshot_counts snapshot_counts;

/*
 * The process holding a socket's file owns it, where no connect(), read,
 * write or close() has named the owner yet. The owner walk
 * (iter/task_file) runs before the start-up walk, at exit, and when --stuck
 * finds a connection nobody is known to own. It cannot reach the socket's
 * storage: the kernel hands it the socket as an untrusted pointer
 * (socket->sk), which bpf_sk_storage_get() refuses. So it leaves the holder
 * in file_owners, keyed by socket address, for the walks that follow it;
 * userspace empties the table after each use. A --stuck entry it fills in
 * directly.
 */
bool collect_file_owners; /* set by userspace around the walks that read file_owners */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct tw_holder);
} file_owners SEC(".maps");

static __always_inline void owner_from_task(struct tw_owner *owner, __u32 *flags,
					    struct task_struct *task)
{
	if (*flags & TW_CONN_OWNER_KNOWN)
		return;
	owner->pid = task->pid;
	owner->tgid = task->tgid;
	bpf_probe_read_kernel(owner->comm, sizeof(owner->comm), task->comm);
	*flags |= TW_CONN_OWNER_KNOWN;
}

/* The holder the last owner walk found for the socket at key, if the owner is unknown yet. */
static __always_inline void owner_from_file(struct tw_owner *owner, __u32 *flags, __u64 key,
					    __u64 cookie, const struct tw_endpoints *ep)
{
	struct tw_holder *holder;

	if (*flags & TW_CONN_OWNER_KNOWN)
		return;
	holder = bpf_map_lookup_elem(&file_owners, &key);
	if (!holder || !tw_holder_matches(holder, cookie, ep))
		return;
	*owner = holder->owner;
	*flags |= TW_CONN_OWNER_KNOWN;
}

static __always_inline struct sock *file_sock(struct file *file)
{
	struct socket *sock = file ? bpf_sock_from_file(file) : NULL;

	return sock ? sock->sk : NULL;
}

/* What tw_holder_matches() checks, read now: the socket's cookie, if any, and ports. */
static __always_inline void holder_guard(struct tw_holder *h, const struct sock *sk)
{
	h->cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	h->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	h->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

SEC("iter/task_file")
int find_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct sock *sk = file_sock(ctx->file);
	struct tw_holder holder = {};
	__u32 flags = 0;
	__u64 key;

	if (!sk || !task || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	key = (__u64)sk;
	if (stuck_after_ns) {
		struct closing *v = bpf_map_lookup_elem(&closing, &key);

		if (v)
			owner_from_task(&v->rec.owner, &v->rec.flags, task);
	}
	if (!collect_file_owners)
		return 0;
	holder_guard(&holder, sk);
	owner_from_task(&holder.owner, &flags, task);
	/* The first holder stays: a socket passed on (fork, SCM_RIGHTS) is shared. */
	if (bpf_map_update_elem(&file_owners, &key, &holder, BPF_NOEXIST) == -E2BIG)
		snapshot_counts.owners_dropped++;
	return 0;
}

/*
 * How long the socket has been in its state, at least, and how that is
 * known. CLOSE_WAIT, FIN_WAIT2 and CLOSING are entered on a segment received
 * (the peer's FIN, or the ACK of ours), which tcp_ack() stamped into
 * rcv_tstamp, as it stamps every later ACK: the time since is a lower
 * bound, exact when the peer has sent nothing since. The kernel keeps no
 * such clue for the other states (not even a socket's creation time).
 */
static __always_inline __u8 snapshot_age(const struct tcp_sock *tp, __u8 state, __u64 *age_ns)
{
	__u32 ticks;

	*age_ns = 0;
	if ((state != TW_CLOSE_WAIT && state != TW_FIN_WAIT2 && state != TW_CLOSING) || !CONFIG_HZ)
		return TW_AGE_FIRST_SEEN;
	/* tcp_jiffies32 is jiffies cut to 32 bits; either reading may sit anywhere in its tick. */
	ticks = (__u32)bpf_jiffies64() - tp->rcv_tstamp;
	if (ticks)
		ticks--;
	*age_ns = (__u64)ticks * (1000000000 / CONFIG_HZ);
	return TW_AGE_LAST_ACK;
}

/* A connection's state as of now, begun (at the latest) age ago. */
static __always_inline void snapshot_take(struct tw_sock_state *st, const struct tcp_sock *tp,
					  __u8 state)
{
	const struct sock *sk = (const void *)tp;
	struct transition t = {};
	__u64 age_ns;

	if (st->conn.type) {
		snapshot_counts.known++;
		return;
	}
	t.sk = sk;
	t.old_state = state;
	t.new_state = state;
	t.cookie = bpf_get_socket_cookie((void *)sk);
	t.cgroup_id = socket_cgroup_id(sk, 1);
	t.netns = sk->__sk_common.skc_net.net->ns.inum;
	btf_endpoints(&sk->__sk_common, &t.ep);
	st->age_from = snapshot_age(tp, state, &age_ns);
	t.ts_ns = bpf_ktime_get_ns() - age_ns;
	st->conn.cookie = t.cookie;
	timeline_begin(st, &t);
	carry_endpoints(&t.ep, &st->conn.ep);
	st->conn.netns = t.netns;
	st->conn.cgroup_id = t.cgroup_id;
	st->state_start_ns = t.ts_ns;
	st->walked = 1;
	owner_from_file(&st->conn.owner, &st->conn.flags, (__u64)sk, t.cookie, &st->conn.ep);
	if (stuck_after_ns && is_close_state(state))
		closing_put((__u64)sk, st, state);
	if (state < TW_STATE_MAX)
		snapshot_counts.conns[state]++;
}

/*
 * Count what is not a connection; return a connection's socket. Timewait
 * and request sockets have no socket storage: they are counted, and a
 * timewait socket still waiting for its peer's FIN may be stuck already.
 */
static __always_inline struct tcp_sock *snapshot_visit(struct sock_common *skc, __u8 state)
{
	struct tcp_timewait_sock *tw;
	struct tcp_sock *tp;

	switch (state) {
	case TW_TIME_WAIT:
		tw = bpf_skc_to_tcp_timewait_sock(skc);
		if (tw && tw->tw_sk.tw_substate == TW_FIN_WAIT2) {
			snapshot_counts.fin_wait2++;
			stuck_watch_timewait(tw);
		} else if (tw) {
			snapshot_counts.time_wait++;
		}
		return NULL;
	case TW_NEW_SYN_RECV:
		snapshot_counts.requests++;
		return NULL;
	case TW_LISTEN:
		snapshot_counts.listeners++;
		return NULL;
	case TW_CLOSE: /* not connected (yet, or any more) */
		return NULL;
	}
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp || tp->inet_conn.icsk_inet.sk.sk_protocol != IPPROTO_TCP)
		return NULL;
	return tp;
}

SEC("iter/tcp")
int snapshot_btf(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tw_sock_state *st;
	struct tcp_sock *tp;
	__u8 state;

	if (!skc)
		return 0;
	state = skc->skc_state;
	tp = snapshot_visit(skc, state);
	if (!tp)
		return 0;
	st = btf_state_make((const struct sock *)tp);
	if (st)
		snapshot_take(st, tp, state);
	else
		snapshot_counts.untracked++;
	return 0;
}

SEC("iter/tcp")
int snapshot_classic(struct bpf_iter__tcp *ctx)
{
	static const struct tw_sock_state empty;
	struct sock_common *skc = ctx->sk_common;
	struct tw_sock_state *st;
	struct tcp_sock *tp;
	__u64 key;
	__u8 state;
	long err;

	if (!skc)
		return 0;
	state = skc->skc_state;
	tp = snapshot_visit(skc, state);
	if (!tp)
		return 0;
	key = (__u64)tp;
	err = bpf_map_update_elem(&sock_table, &key, &empty, BPF_NOEXIST);
	if (err == -EEXIST)
		snapshot_counts.known++;
	else if (err)
		snapshot_counts.untracked++;
	else if ((st = bpf_map_lookup_elem(&sock_table, &key)))
		snapshot_take(st, tp, state);
	return 0;
}

#endif /* TCPWAVE_SNAPSHOT_BPF_H */
