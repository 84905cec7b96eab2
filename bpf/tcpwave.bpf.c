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

/*
 * Classic mode has no cookie helper, and the kernel assigns a socket's cookie
 * only when someone asks for it: such sockets get an id from this counter,
 * offset so it cannot meet a real cookie (those count up from 1).
 */
#define SYNTHETIC_ID_BASE (1ull << 48)
__u64 next_synthetic_id;

/* What we remember about a socket between its transitions. */
struct sock_info {
	struct tw_owner owner;
	struct tw_endpoints ep; /* last known non-zero addresses and ports */
	__u64 state_start_ns;
	__u64 cookie;
	__u8 owner_known;
	__u8 accept_pending; /* passive socket whose accepting process is not yet known */
	__u8 pad[6];
};

/* The accepting process of a new connection, recorded at accept()'s return. */
struct accept_owner {
	__u64 cookie; /* guards against the socket's memory being reused meanwhile */
	struct tw_owner owner;
};

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
	__type(value, struct sock_info);
} sock_store SEC(".maps");

/* Classic mode only: the loader disables its creation in tp_btf mode. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64); /* socket address */
	__type(value, struct sock_info);
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
	__type(value, struct accept_owner);
} accept_owners SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &which);

	if (n)
		*n += 1;
}

/* Wake userspace only once enough data waits; it also polls on a short timer. */
static __always_inline __u64 wakeup_flag(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

/* One transition as either attach mode sees it. */
struct transition {
	__u64 sk;
	__u64 ts_ns;
	__u64 cookie;
	__u64 cgroup_id;
	__u32 netns;
	__u8 old_state;
	__u8 new_state;
	__u8 process_ctx;
	struct tw_endpoints ep;
};

static __always_inline int is_zero16(const __u8 *a)
{
	const __u64 *w = (const __u64 *)a;

	return (w[0] | w[1]) == 0;
}

/*
 * Fill in what the socket no longer (or not yet) shows from what we saw
 * earlier, and remember what it shows now. The local port is 0 at ->CLOSE
 * (inet_put_port() has run) and before the connect() port is chosen.
 */
static __always_inline void carry_endpoints(struct tw_endpoints *now, struct tw_endpoints *kept)
{
	if (now->lport)
		kept->lport = now->lport;
	else
		now->lport = kept->lport;
	if (now->rport)
		kept->rport = now->rport;
	else
		now->rport = kept->rport;
	if (!is_zero16(now->laddr))
		__builtin_memcpy(kept->laddr, now->laddr, 16);
	else
		__builtin_memcpy(now->laddr, kept->laddr, 16);
	if (!is_zero16(now->raddr))
		__builtin_memcpy(kept->raddr, now->raddr, 16);
	else
		__builtin_memcpy(now->raddr, kept->raddr, 16);
	kept->family = now->family;
}

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/*
 * Whoever works on the socket in process context owns it, except that a
 * kernel thread (the MPTCP worker closing subflows, say) does not take a
 * socket from a process: it becomes the owner only of sockets nobody else has.
 */
static __always_inline void take_current_as_owner(struct sock_info *si)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 id;

	if (si->owner_known && (BPF_CORE_READ(task, flags) & PF_KTHREAD))
		return;
	id = bpf_get_current_pid_tgid();

	si->owner.pid = (__u32)id;
	si->owner.tgid = id >> 32;
	bpf_get_current_comm(si->owner.comm, sizeof(si->owner.comm));
	si->owner_known = 1;
}

/* A passive socket learns its owner from accept(); see accept_owners. */
static __always_inline void claim_accept_owner(struct transition *t, struct sock_info *si)
{
	struct accept_owner *ao;

	if (!si->accept_pending)
		return;
	ao = bpf_map_lookup_elem(&accept_owners, &t->sk);
	if (!ao)
		return;
	if (!ao->cookie || ao->cookie == t->cookie) {
		si->owner = ao->owner;
		si->owner_known = 1;
		si->accept_pending = 0;
	}
	bpf_map_delete_elem(&accept_owners, &t->sk);
}

/*
 * The work common to both attach modes. si is this socket's state, zeroed
 * when the socket is new to us (fresh says so).
 */
static __always_inline void on_transition(struct transition *t, struct sock_info *si, int fresh)
{
	struct tw_state_event *e;

	if (fresh) {
		si->cookie = t->cookie ? t->cookie :
					 SYNTHETIC_ID_BASE + __sync_fetch_and_add(&next_synthetic_id, 1);
		/* A child cloned from a listener waits for accept() to name its owner. */
		si->accept_pending = t->old_state == TW_LISTEN && t->new_state == TW_SYN_RECV;
	}
	carry_endpoints(&t->ep, &si->ep);
	claim_accept_owner(t, si);
	if (t->process_ctx)
		take_current_as_owner(si);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->type = TW_REC_STATE;
		e->old_state = t->old_state;
		e->new_state = t->new_state;
		e->flags = (t->process_ctx ? TW_EV_PROCESS_CTX : 0) |
			   (si->owner_known ? TW_EV_OWNER_KNOWN : 0) | (fresh ? 0 : TW_EV_DUR_KNOWN);
		e->netns = t->netns;
		e->ts_ns = t->ts_ns;
		e->cookie = si->cookie;
		e->dur_ns = fresh ? 0 : t->ts_ns - si->state_start_ns;
		e->cgroup_id = t->cgroup_id;
		e->owner = si->owner;
		e->ep = t->ep;
		bpf_ringbuf_submit(e, wakeup_flag());
	} else {
		count(TW_CNT_LOST);
	}
	si->state_start_ns = t->ts_ns;

	if (t->new_state == TW_CLOSE && si->accept_pending)
		bpf_map_delete_elem(&accept_owners, &t->sk);
}

static __always_inline int is_tcp_family(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state_btf, const struct sock *sk, const int oldstate, const int newstate)
{
	struct transition t = {};
	struct sock_info *si;
	int fresh = 0;

	/* SCTP and the MPTCP socket report here too; TCP subflows stay. */
	if (sk->sk_protocol != IPPROTO_TCP || !is_tcp_family(sk->__sk_common.skc_family))
		return 0;

	t.sk = (__u64)sk;
	t.ts_ns = bpf_ktime_get_ns();
	t.old_state = oldstate;
	t.new_state = newstate;
	t.cookie = bpf_get_socket_cookie((void *)sk);
	/*
	 * Process context on the owner's behalf is exactly when the socket is
	 * locked by a task (lock_sock(): connect, close, shutdown, backlog
	 * processing in release_sock). Softirq runs with sk_lock.owned == 0, and
	 * whatever task it interrupted is not the owner.
	 */
	t.process_ctx = sk->sk_lock.owned != 0;
	t.netns = sk->__sk_common.skc_net.net->ns.inum;
	t.cgroup_id = sk->sk_cgrp_data.cgroup ? sk->sk_cgrp_data.cgroup->kn->id : 0;
	t.ep.family = sk->__sk_common.skc_family;
	t.ep.lport = sk->__sk_common.skc_num;
	t.ep.rport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (t.ep.family == AF_INET) {
		__builtin_memcpy(t.ep.laddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(t.ep.raddr, &sk->__sk_common.skc_daddr, 4);
	} else {
		BPF_CORE_READ_INTO(&t.ep.laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&t.ep.raddr, sk, __sk_common.skc_v6_daddr);
	}

	si = bpf_sk_storage_get(&sock_store, (void *)sk, 0, 0);
	if (!si) {
		si = bpf_sk_storage_get(&sock_store, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!si) {
			count(TW_CNT_SOCK_DROPPED);
			return 0;
		}
		fresh = 1;
	}
	on_transition(&t, si, fresh);
	return 0;
}

SEC("tracepoint/sock/inet_sock_set_state")
int on_state_classic(struct trace_event_raw_inet_sock_set_state *ctx)
{
	static const struct sock_info empty;
	struct transition t = {};
	const struct sock *sk = ctx->skaddr;
	struct sock_info *si;
	int fresh = 0;

	if (ctx->protocol != IPPROTO_TCP || !is_tcp_family(ctx->family))
		return 0;

	t.sk = (__u64)sk;
	t.ts_ns = bpf_ktime_get_ns();
	t.old_state = ctx->oldstate;
	t.new_state = ctx->newstate;
	/* No cookie helper here: read the field, assigned if anyone asked for it. */
	t.cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	t.process_ctx = BPF_CORE_READ(sk, sk_lock.owned) != 0;
	t.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	t.cgroup_id = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
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

	si = bpf_map_lookup_elem(&sock_table, &t.sk);
	if (!si) {
		if (bpf_map_update_elem(&sock_table, &t.sk, &empty, BPF_NOEXIST)) {
			count(TW_CNT_SOCK_DROPPED);
			return 0;
		}
		si = bpf_map_lookup_elem(&sock_table, &t.sk);
		if (!si)
			return 0;
		fresh = 1;
	}
	on_transition(&t, si, fresh);
	if (t.new_state == TW_CLOSE)
		bpf_map_delete_elem(&sock_table, &t.sk);
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
	struct accept_owner ao = {};
	const struct sock *sk;
	__u64 key, id;

	if (fd < 0)
		return 0;
	sk = current_fd_sock(fd);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    !is_tcp_family(BPF_CORE_READ(sk, __sk_common.skc_family)))
		return 0;
	key = (__u64)sk;
	id = bpf_get_current_pid_tgid();
	ao.cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	ao.owner.pid = (__u32)id;
	ao.owner.tgid = id >> 32;
	bpf_get_current_comm(ao.owner.comm, sizeof(ao.owner.comm));
	if (bpf_map_update_elem(&accept_owners, &key, &ao, BPF_ANY))
		count(TW_CNT_ACCEPT_DROPPED);
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
