// SPDX-License-Identifier: GPL-2.0
/*
 * tcpwave's kernel side: every TCP state transition, with the socket's owner,
 * into a ring buffer.
 *
 * Two ways to attach to sock:inet_sock_set_state, chosen by the loader:
 *  - tp_btf (preferred): per-socket state lives in socket-local storage, which
 *    the kernel frees with the socket, so nothing fills up or leaks and a new
 *    socket at a reused address starts clean.
 *  - classic tracepoint (fallback for kernels without BTF-enabled tracepoints):
 *    socket storage is refused there, so per-socket state lives in a bounded
 *    hash keyed by socket address that counts what it cannot hold.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcpwave.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u64 wakeup_bytes = 256 * 1024;
const volatile bool emit_transitions = true; /* --events: every transition */
const volatile bool emit_connections = false; /* one record per connection */

/*
 * Classic mode has no cookie helper, and the kernel assigns a socket's cookie
 * only when someone asks for it: such sockets get an id from this counter,
 * offset so it cannot meet a real cookie (those count up from 1).
 */
#define SYNTHETIC_ID_BASE (1ull << 48)
__u64 next_synthetic_id;

/*
 * Set for good the first time a socket goes untracked (no room for its
 * state) or an accept() owner is not recorded. Per-socket marks are then
 * impossible, those sockets having nowhere to keep one; these say which
 * records may be missing a part (see TW_CONN_LOST_EVENTS). Userspace reads
 * them too (skeleton .bss).
 */
bool sock_dropped;
bool owner_dropped;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by the loader */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TW_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tw_sock_state);
} sock_store SEC(".maps");

/* Classic mode only: the loader disables its creation in tp_btf mode. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64); /* socket address */
	__type(value, struct tw_sock_state);
} sock_table SEC(".maps");

/*
 * accept() runs in a syscall tracepoint, where socket storage is refused, so
 * the accepting process waits here, keyed by socket address, until the
 * socket's next transition moves it into the socket's own state. Entries live
 * at most as long as the connection: its final ->CLOSE removes them.
 * Sized for hundreds of thousands of open connections; not preallocated.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct tw_accept_owner);
} accept_owners SEC(".maps");

static __always_inline void count_n(__u32 which, __u64 n)
{
	__u64 *total = bpf_map_lookup_elem(&counters, &which);

	if (total)
		*total += n;
}

static __always_inline void count(__u32 which)
{
	count_n(which, 1);
}

/* Wake userspace only once enough data waits; it also polls on a short timer. */
static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

#include "filter.bpf.h"
#include "sock_state.bpf.h"

static __always_inline int is_tcp_family(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

/* Both ends as the socket's common part holds them (timewait sockets too). */
static __always_inline void btf_endpoints(const struct sock_common *skc, struct tw_endpoints *ep)
{
	ep->family = skc->skc_family;
	ep->lport = skc->skc_num;
	ep->rport = bpf_ntohs(skc->skc_dport);
	if (ep->family == AF_INET) {
		__builtin_memcpy(ep->laddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(ep->raddr, &skc->skc_daddr, 4);
	} else {
		__builtin_memcpy(ep->laddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(ep->raddr, &skc->skc_v6_daddr, 16);
	}
}

/*
 * Socket storage, created on a socket's first transition (tp_btf mode) in
 * the same call that looks it up: the kernel zeroes a new value, and every
 * state that has begun sets conn.type, so a zero type is a fresh socket.
 */
static __always_inline struct tw_sock_state *btf_state(const struct sock *sk, int *fresh)
{
	struct tw_sock_state *st;

	if (!fresh)
		return bpf_sk_storage_get(&sock_store, (void *)sk, 0, 0);
	st = bpf_sk_storage_get(&sock_store, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st) {
		count(TW_CNT_SOCK_DROPPED);
		sock_dropped = true;
		return NULL;
	}
	*fresh = !st->conn.type;
	return st;
}

/* The bounded socket table, entry created on a first transition (classic mode). */
static __always_inline struct tw_sock_state *classic_state(const void *sk, int *fresh)
{
	static const struct tw_sock_state empty;
	__u64 key = (__u64)sk;
	struct tw_sock_state *st = bpf_map_lookup_elem(&sock_table, &key);

	if (st || !fresh)
		return st;
	if (bpf_map_update_elem(&sock_table, &key, &empty, BPF_NOEXIST)) {
		count(TW_CNT_SOCK_DROPPED);
		sock_dropped = true;
		return NULL;
	}
	*fresh = 1;
	return bpf_map_lookup_elem(&sock_table, &key);
}

/* The cgroup a socket was created in (sk_cgrp_data, set once by sk_alloc()). */
static __always_inline __u64 socket_cgroup_id(const struct sock *sk)
{
	if (!bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		return 0;
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

/* Sockets that have socket storage; not timewait or request sockets. */
static __always_inline int is_full_socket(const struct sock *sk)
{
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);

	return state != TW_TIME_WAIT && state != TW_NEW_SYN_RECV;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	struct transition t = {};
	struct tw_sock_state *st = NULL;
	int fresh = 0;

	/* SCTP and the MPTCP socket report here too; TCP subflows stay. */
	if (sk->sk_protocol != IPPROTO_TCP || !is_tcp_family(sk->__sk_common.skc_family))
		return 0;

	t.sk = sk;
	t.ts_ns = bpf_ktime_get_ns();
	t.old_state = oldstate;
	t.new_state = newstate;
	/*
	 * Process context on the owner's behalf is exactly when the socket is
	 * locked by a task (lock_sock(): connect, close, shutdown, backlog
	 * processing in release_sock). Softirq runs with sk_lock.owned == 0, and
	 * whatever task it interrupted is not the owner.
	 */
	t.process_ctx = sk->sk_lock.owned != 0;
	t.netns = sk->__sk_common.skc_net.net->ns.inum;
	btf_endpoints(&sk->__sk_common, &t.ep);

	/* A socket the filters drop from its first transition gets no state, nor a cookie. */
	if (filters & TW_F_TUPLE) {
		st = btf_state(sk, NULL);
		if (!st && filtered_untracked(&t))
			return 0;
	}
	if (!st)
		st = btf_state(sk, &fresh);
	if (!st)
		return 0;
	if (fresh) {
		t.cookie = bpf_get_socket_cookie((void *)sk);
		t.cgroup_id = socket_cgroup_id(sk);
	}
	on_transition(&t, st, fresh);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int on_state_classic(struct trace_event_raw_inet_sock_set_state *ctx)
{
	struct transition t = {};
	const struct sock *sk = ctx->skaddr;
	struct tw_sock_state *st = NULL;
	int fresh = 0;

	if (ctx->protocol != IPPROTO_TCP || !is_tcp_family(ctx->family))
		return 0;

	t.sk = sk;
	t.ts_ns = bpf_ktime_get_ns();
	t.old_state = ctx->oldstate;
	t.new_state = ctx->newstate;
	t.process_ctx = BPF_CORE_READ(sk, sk_lock.owned) != 0;
	t.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	t.ep.family = ctx->family;
	t.ep.lport = ctx->sport;
	t.ep.rport = ctx->dport;
	/* The verifier wants constant-offset context loads; copy the arrays instead. */
	if (t.ep.family == AF_INET) {
		bpf_probe_read_kernel(t.ep.laddr, 4, ctx->saddr);
		bpf_probe_read_kernel(t.ep.raddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(t.ep.laddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(t.ep.raddr, 16, ctx->daddr_v6);
	}

	if (filters & TW_F_TUPLE) {
		st = classic_state(sk, NULL);
		if (!st && filtered_untracked(&t))
			return 0;
	}
	if (!st)
		st = classic_state(sk, &fresh);
	if (!st)
		return 0;
	if (fresh) {
		/* No cookie helper here: read the field, assigned if anyone asked for it. */
		t.cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
		t.cgroup_id = socket_cgroup_id(sk);
	}
	on_transition(&t, st, fresh);
	if (t.new_state == TW_CLOSE) {
		__u64 key = (__u64)sk;

		bpf_map_delete_elem(&sock_table, &key);
	}
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_destroy_btf, struct sock *sk)
{
	struct tw_sock_state *st = btf_state(sk, NULL);

	if (st)
		close_if_missed(sk, st);
	return 0;
}

SEC("tracepoint/tcp/tcp_destroy_sock")
int on_destroy_classic(struct trace_event_raw_tcp_event_sk *ctx)
{
	const struct sock *sk = ctx->skaddr;
	struct tw_sock_state *st = classic_state(sk, NULL);
	__u64 key = (__u64)sk;

	if (!st)
		return 0;
	close_if_missed(sk, st);
	bpf_map_delete_elem(&sock_table, &key);
	return 0;
}

/*
 * Since 6.17 the tracepoint also reports retransmissions that failed before
 * anything was sent: the original still queued on this host (-EBUSY), no
 * memory (-ENOMEM, retried: it would count twice), no route, no window.
 * A retransmission the transmit path refused (a host firewall: -EPERM) is
 * still a retry.
 */
static __always_inline int counts_as_retransmit(int err)
{
	return err != -16 /* EBUSY */ && err != -11 /* EAGAIN */ && err != -12 /* ENOMEM */ &&
	       err != -113 /* EHOSTUNREACH */ && err != -22 /* EINVAL */;
}

static __always_inline void retransmitted(const struct sock *sk, const struct sk_buff *skb,
					  int err)
{
	struct tw_sock_state *st;

	if (!counts_as_retransmit(err))
		return;
	st = btf_state(sk, NULL);
	if (st)
		on_retransmit(st, skb_tcp_flags(skb));
}

/* The loader picks one by the tracepoint's arity: the error argument is 6.17's. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(on_retransmit_err_btf, const struct sock *sk, const struct sk_buff *skb, int err)
{
	retransmitted(sk, skb, err);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(on_retransmit_btf, const struct sock *sk, const struct sk_buff *skb)
{
	retransmitted(sk, skb, 0);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int on_retransmit_classic(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	struct tw_sock_state *st;

	if (bpf_core_field_exists(ctx->err) && !counts_as_retransmit(ctx->err))
		return 0;
	st = classic_state(ctx->skaddr, NULL);
	if (st)
		on_retransmit(st, skb_tcp_flags(ctx->skbaddr));
	return 0;
}

static __always_inline void reset_sent(const struct sock *sk, __u16 reason)
{
	struct tw_sock_state *st;

	if (!sk || !is_full_socket(sk))
		return;
	st = btf_state(sk, NULL);
	if (st)
		on_reset(sk, st, 1, reason);
}

/*
 * sk is NULL when the RST answers a segment no socket wanted (a refused
 * SYN). The loader picks a variant by arity: the reason argument is 6.10's.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_send_reset_reason_btf, const struct sock *sk, const struct sk_buff *skb,
	     const enum sk_rst_reason reason)
{
	reset_sent(sk, reason);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(on_send_reset_btf, const struct sock *sk, const struct sk_buff *skb)
{
	reset_sent(sk, 0);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int on_send_reset_classic(struct trace_event_raw_tcp_send_reset *ctx)
{
	const struct sock *sk = ctx->skaddr;
	struct tw_sock_state *st;

	if (!sk || !is_full_socket(sk))
		return 0;
	st = classic_state(sk, NULL);
	if (st)
		on_reset(sk, st, 1, bpf_core_field_exists(ctx->reason) ? ctx->reason : 0);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_receive_reset_btf, struct sock *sk)
{
	struct tw_sock_state *st = btf_state(sk, NULL);

	if (st && !is_abort_on_data(sk))
		on_reset(sk, st, 0, 0);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int on_receive_reset_classic(struct trace_event_raw_tcp_event_sk *ctx)
{
	struct tw_sock_state *st = classic_state(ctx->skaddr, NULL);

	if (st && !is_abort_on_data(ctx->skaddr))
		on_reset(ctx->skaddr, st, 0, 0);
	return 0;
}

/*
 * The accept() owner waiting for the socket at key, for the iterators: an
 * accepted socket with no transition since to claim it. 1 if found.
 */
static __always_inline int accept_owner_of(__u64 key, __u64 cookie, const struct tw_endpoints *ep,
					   struct tw_owner *out)
{
	struct tw_accept_owner *ao = bpf_map_lookup_elem(&accept_owners, &key);

	if (!ao || !tw_accept_owner_matches(ao, cookie, ep))
		return 0;
	*out = ao->owner;
	return 1;
}

/*
 * When tracing ends: every connection still open, as it stands, with its
 * live counters. Userspace reads the records from the iterator's file.
 */
SEC("iter/bpf_sk_storage_map")
int dump_open_connections(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct tw_sock_state *st = ctx->value;
	struct sock *sk = ctx->sk;
	struct tw_conn c;

	if (!st || !sk || st->emitted || st->walked || !tw_is_connection(&st->conn))
		return 0;
	__builtin_memcpy(&c, &st->conn, sizeof(c));
	c.flags |= TW_CONN_OPEN;
	if (st->accept_pending && accept_owner_of((__u64)sk, c.cookie, &c.ep, &c.owner))
		c.flags |= TW_CONN_OWNER_KNOWN;
	if (filter_open_dropped(st->filter, &c, sk))
		return 0;
	if (tw_owner_may_be_lost(st, c.flags, owner_dropped))
		c.flags |= TW_CONN_LOST_EVENTS;
	note_counters(&c, sk);
	bpf_seq_write(ctx->meta->seq, &c, sizeof(c));
	return 0;
}

/* The per-syscall exit tracepoints' record (see events/syscalls/.../format). */
struct syscall_exit_args {
	struct trace_entry ent;
	int syscall_nr;
	long ret;
};

/* The socket behind file descriptor fd of the current task. */
static __always_inline const struct sock *current_fd_sock(long fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *file = NULL;
	struct socket *sock;

	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

static __always_inline int record_accept_owner(long fd)
{
	struct tw_accept_owner ao = {};
	const struct sock *sk;
	__u64 key, id;

	if (fd < 0)
		return 0;
	sk = current_fd_sock(fd);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    !is_tcp_family(BPF_CORE_READ(sk, __sk_common.skc_family)) || filter_sock_dropped(sk))
		return 0;
	key = (__u64)sk;
	id = bpf_get_current_pid_tgid();
	ao.cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	ao.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	ao.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	ao.owner.pid = (__u32)id;
	ao.owner.tgid = id >> 32;
	bpf_get_current_comm(ao.owner.comm, sizeof(ao.owner.comm));
	if (bpf_map_update_elem(&accept_owners, &key, &ao, BPF_ANY)) {
		count(TW_CNT_ACCEPT_DROPPED);
		owner_dropped = true;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_accept4_exit(struct syscall_exit_args *ctx)
{
	return record_accept_owner(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int on_accept_exit(struct syscall_exit_args *ctx)
{
	return record_accept_owner(ctx->ret);
}

#include "stuck.bpf.h"
#include "snapshot.bpf.h"
