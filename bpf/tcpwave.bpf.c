// SPDX-License-Identifier: GPL-2.0
/*
 * tcpwave's kernel side: every TCP state transition, with the socket's owner,
 * into a ring buffer.
 *
 * Two ways to attach to sock:inet_sock_set_state, chosen by the loader:
 *  - tp_btf (preferred): per-socket state lives in the preallocated slot the
 *    socket's cookie names while that one is free, else in socket-local
 *    storage, which the kernel frees with the socket; so nothing is evicted
 *    (see sock_slots).
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
#define E2BIG 7
#define EEXIST 17

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile __u64 wakeup_bytes = 256 * 1024;
const volatile bool emit_transitions = true; /* --events: every transition */
const volatile bool emit_connections = false; /* one record per connection */
/*
 * The exit walks can list a record that waits for its owner (awaits_owner
 * in sock_state.bpf.h): without them, records never wait.
 */
const volatile bool owner_may_wait = false;
/* --stuck, in ns; 0 (no --stuck) prunes stuck.bpf.h's part from the state tracepoint. */
const volatile __u64 stuck_after_ns = 0;

/*
 * Classic mode has no cookie helper, and the kernel assigns a socket's cookie
 * only when someone asks for it: such sockets get an id from this counter,
 * offset so it cannot meet a real cookie (those count up from 1).
 */
#define SYNTHETIC_ID_BASE (1ull << 48)
__u64 next_synthetic_id;

/*
 * Set for good the first time a socket goes untracked (no room for its
 * state). Per-socket marks are then impossible, those sockets having nowhere
 * to keep one; this says which records may be missing a part (see
 * TW_CONN_LOST_EVENTS). Userspace reads it too (skeleton .bss).
 */
bool sock_dropped;

/*
 * Set by userspace as tracing ends, before it lists the connections still
 * open: from then on no connection begins, so each one begun either ends
 * with its record in the ring buffer or is still open for the walks to find
 * (save an orphan of another namespace: see TW_CNT_UNREPORTED).
 */
bool tracing_ends;

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

/*
 * tp_btf mode keeps a socket's state in a slot of sock_slots when the one
 * its cookie names is free, and in the socket's own storage (sock_store)
 * otherwise, so that no number of open sockets evicts any. The slots are an
 * array made at start: finding one is an index and a compare, taking and
 * freeing one allocates nothing, where socket storage allocates twice per
 * socket and frees through RCU, which cost a loopback churn several points
 * of its throughput (README, Performance). A socket's slot is its cookie
 * modulo slot_count (--slots; 0: storage only): the kernel hands out
 * cookies in runs, 4096 to a CPU at a time, so the sockets alive at once
 * mostly name different slots.
 */
const volatile __u32 slot_count = 0;

/*
 * A cookie made while another was being made on the same CPU (a softirq's,
 * nested) comes from the top of the range, counting down: such sockets
 * keep their state in storage, and a slot's cookie while it is being taken
 * is one of these values, which no socket in a slot has.
 */
#define SLOTLESS_COOKIES (1ull << 63)
#define SLOT_TAKING ((__u64)-1)

struct tw_slot {
	/* The cookie of the socket whose state this is; 0: free; or SLOT_TAKING. */
	__u64 cookie;
	__u64 sk; /* that socket's address, to tell an abandoned slot (slot_abandoned()) */
	struct tw_sock_state st;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* slot_count, set by the loader */
	__type(key, __u32);
	__type(value, struct tw_slot);
} sock_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tw_sock_state);
} sock_store SEC(".maps");

/*
 * Classic mode only: the loader disables its creation in tp_btf mode. An
 * entry lives as long as the socket, as socket storage would: the RST of an
 * abort comes after ->CLOSE, and tcp_destroy_sock removes it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64); /* socket address */
	__type(value, struct tw_sock_state);
} sock_table SEC(".maps");

/*
 * The sockets listed as still open at exit, by address: a socket can be held
 * by several processes, and met by both walks. One that ends after all, in
 * the instant before the programs are detached, is counted
 * (TW_CNT_LISTED_ENDED).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, __u8);
} dumped SEC(".maps");

/*
 * Atomic: another of our programs nested in this one on the same CPU (a
 * softirq's) may add to the same counter, and TW_CNT_TIMELINES_OPEN must
 * lose no step.
 */
static __always_inline void count_n(__u32 which, __u64 n)
{
	__u64 *total = bpf_map_lookup_elem(&counters, &which);

	if (total)
		__sync_fetch_and_add(total, n);
}

static __always_inline void count(__u32 which)
{
	count_n(which, 1);
}

/*
 * Records the ring buffer had no room for (TW_CNT_LOST), counted here rather
 * than with the per-CPU counters: userspace reads this from its mapped
 * section at every turn of its loop, and reads the others, a system call,
 * only when this moved or every 100 ms. A section of its own: when the ring
 * buffer is full every CPU adds to it, and the line it sits on would
 * otherwise hold variables that every transition reads (tracing_ends).
 */
__u64 records_lost SEC(".data.lost") = 0;

static __always_inline void count_lost(void)
{
	__sync_fetch_and_add(&records_lost, 1);
}

/*
 * Wake userspace once per wakeup_bytes of data waiting: when the record just
 * reserved (size bytes, before its header) took what waits across a multiple
 * of it. Not at every record past it, which while userspace lags (the traced
 * workload has its CPUs) would be a wakeup per record. It also polls on a
 * short timer, which covers a crossing that two CPUs' records hid from
 * each other.
 */
static __always_inline __u64 wakeup_flag(__u64 size)
{
	__u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 before = waiting - ((size + BPF_RINGBUF_HDR_SZ + 7) & ~7ull);

	return waiting / wakeup_bytes != before / wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
								   BPF_RB_NO_WAKEUP;
}

/*
 * A field of a kernel struct. btf: p came with its BTF type (tp_btf
 * arguments and what is loaded through them), so a plain load does, which the
 * verifier lets fault safely and which costs an instruction; else p is a
 * bare address (a classic tracepoint's), read with a probe read, some tens
 * of ns each. btf is a constant at every call site: one branch is compiled.
 */
#define TW_READ(btf, p, field) ((btf) ? (p)->field : BPF_CORE_READ(p, field))
/* The same for a bitfield. */
#define TW_READ_BITFIELD(btf, p, field)                                                            \
	((btf) ? BPF_CORE_READ_BITFIELD(p, field) : BPF_CORE_READ_BITFIELD_PROBED(p, field))

#include "filter.bpf.h"
#include "handover.bpf.h"
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
 * The local port, where the socket's common part no longer (or not yet)
 * shows it: inet_put_port() zeroes skc_num by ->CLOSE, and a connect()
 * picks its port only after ->SYN_SENT. inet_sport, the classic
 * tracepoint's sport, is set with the port and never cleared.
 */
static __always_inline __u16 inet_source_port(const struct sock *sk)
{
	return bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

/* The slot a socket's cookie names; NULL without slots, a cookie, or with a slotless one. */
static __always_inline struct tw_slot *slot_named(__u64 cookie)
{
	__u32 i;

	if (!slot_count || !cookie || cookie >= SLOTLESS_COOKIES)
		return NULL;
	i = cookie % slot_count;
	return bpf_map_lookup_elem(&sock_slots, &i);
}

/* The slot the cookie names, if that cookie's socket holds it. */
static __always_inline struct tw_slot *slot_holding(__u64 cookie)
{
	struct tw_slot *s = slot_named(cookie);

	return s && s->cookie == cookie ? s : NULL;
}

/*
 * The socket's slot, if it holds it. A socket is given state only with a
 * cookie (btf_state_make()), so one without any has none anywhere.
 */
static __always_inline struct tw_slot *own_slot(const struct sock *sk)
{
	return slot_holding(sk->__sk_common.skc_cookie.counter);
}

/* The socket's state in its storage, if it has any there. */
static __always_inline struct tw_sock_state *stored_state(const struct sock *sk)
{
	if (!sk->__sk_common.skc_cookie.counter)
		return NULL;
	return bpf_sk_storage_get(&sock_store, (void *)sk, 0, 0);
}

/* The socket's state: its slot, else its storage; NULL if it has none yet. */
static __always_inline struct tw_sock_state *btf_state_lookup(const struct sock *sk)
{
	struct tw_slot *s = own_slot(sk);

	return s ? &s->st : stored_state(sk);
}

/*
 * A slot whose socket's tcp_destroy_sock our program missed (the kernel
 * skips a program that would nest in itself; counted as a miss) would stay
 * taken for good: its socket, gone, no longer has the slot's cookie. Socket
 * memory is reused only as another socket (SLAB_TYPESAFE_BY_RCU), which has
 * a cookie of its own or none.
 */
static __always_inline bool slot_abandoned(__u64 cookie, __u64 sk)
{
	return sk && BPF_CORE_READ((const struct sock *)sk, __sk_common.skc_cookie.counter) !=
			     (__s64)cookie;
}

/*
 * Take the slot for the socket if it is free or abandoned: marked as being
 * taken first, so that no other socket sees it half made, then zeroed. A
 * slot held is read again with an atomic that always stores, a full barrier
 * on every architecture (a failed compare-and-swap is not one on arm64
 * without LSE), so that the address read after it is that cookie's socket's.
 */
static __always_inline bool slot_take(struct tw_slot *s, __u64 cookie, const struct sock *sk)
{
	__u64 held = __sync_val_compare_and_swap(&s->cookie, 0, SLOT_TAKING);

	if (held) {
		held = __sync_fetch_and_or(&s->cookie, 0);
		if (!held || held == SLOT_TAKING || !slot_abandoned(held, s->sk) ||
		    __sync_val_compare_and_swap(&s->cookie, held, SLOT_TAKING) != held)
			return false;
	}
	__builtin_memset(&s->st, 0, sizeof(s->st));
	s->sk = (__u64)sk;
	__sync_lock_test_and_set(&s->cookie, cookie);
	return true;
}

/* The socket is destroyed: its slot is free for the next socket that names it. */
static __always_inline void slot_free(struct tw_slot *s)
{
	__sync_lock_test_and_set(&s->cookie, 0);
}

/*
 * The socket's state, made if it has none: the slot its cookie names if free,
 * else socket storage. Either comes zeroed, and every state that has begun
 * sets conn.type, so a zero type is a fresh socket. Only the socket's own
 * transitions (under its lock) and the start-up walk (which locks it too)
 * make state, so no two runs make one socket's at once. A socket already in
 * storage stays there when its slot comes free.
 */
static __always_inline struct tw_sock_state *btf_state_make(const struct sock *sk)
{
	/* Every transition comes here: the helper only where no cookie is set yet. */
	__u64 cookie = sk->__sk_common.skc_cookie.counter ?: bpf_get_socket_cookie((void *)sk);
	struct tw_slot *s = slot_named(cookie);
	struct tw_sock_state *st;

	if (s && s->cookie == cookie)
		return &s->st;
	st = bpf_sk_storage_get(&sock_store, (void *)sk, 0, 0);
	if (st)
		return st;
	if (s && slot_take(s, cookie, sk))
		return &s->st;
	st = bpf_sk_storage_get(&sock_store, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (st && slot_count)
		count(TW_CNT_SLOT_TAKEN);
	return st;
}

/* tp_btf mode: fresh NULL looks the state up, else makes it if need be. */
static __always_inline struct tw_sock_state *btf_state(const struct sock *sk, int *fresh)
{
	struct tw_sock_state *st;

	if (!fresh)
		return btf_state_lookup(sk);
	st = btf_state_make(sk);
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
static __always_inline __u64 socket_cgroup_id(const struct sock *sk, int btf)
{
	if (!bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		return 0;
	if (btf)
		return sk->sk_cgrp_data.cgroup->kn->id;
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
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
	/* A connect that failed in SYN_SENT showed its port at no transition. */
	if (oldstate == TW_SYN_SENT && newstate == TW_CLOSE && !t.ep.lport)
		t.ep.lport = inet_source_port(sk);

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
		t.cgroup_id = socket_cgroup_id(sk, 1);
	}
	on_transition(&t, st, fresh, 1);
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
		t.cgroup_id = socket_cgroup_id(sk, 0);
	}
	on_transition(&t, st, fresh, 0);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_destroy_btf, struct sock *sk)
{
	struct tw_slot *s = own_slot(sk);
	struct tw_sock_state *st = s ? &s->st : stored_state(sk);

	if (st)
		on_destroy(sk, st, sk->sk_lock.owned != 0, 1);
	if (s)
		slot_free(s);
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
	on_destroy(sk, st, BPF_CORE_READ(sk, sk_lock.owned) != 0, 0);
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

/*
 * A SYN-ACK sent again. A request socket's names its listener as sk, and
 * its count reaches the socket it becomes (note_passive_handshake()); a Fast
 * Open child, already a full socket (SYN_RECV, or FIN_WAIT1 once its
 * application closed it), resends its own, and total_retrans, which also
 * counts its data, cannot tell them apart.
 */
static __always_inline void synack_retransmitted(struct tw_sock_state *st)
{
	if (st)
		on_retransmit(st, TCPHDR_SYN | TCPHDR_ACK);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(on_retransmit_synack_btf, const struct sock *sk, const struct request_sock *req)
{
	if (sk->__sk_common.skc_state != TW_LISTEN)
		synack_retransmitted(btf_state(sk, NULL));
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int on_retransmit_synack_classic(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	const struct sock *sk = ctx->skaddr;

	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TW_LISTEN)
		synack_retransmitted(classic_state(sk, NULL));
	return 0;
}

/*
 * Whether a RST sent by sk (not NULL) is a full socket's, which has socket
 * state; not a request socket's, nor a timewait socket's, whose RST ends a
 * watched hand-over.
 */
static __always_inline int rst_from_full_socket(const struct sock *sk)
{
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);

	if (state == TW_TIME_WAIT && watch_handovers)
		handover_reset_sent(sk);
	return state != TW_TIME_WAIT && state != TW_NEW_SYN_RECV;
}

static __always_inline void reset_sent(const struct sock *sk, __u16 reason)
{
	struct tw_sock_state *st;

	if (!sk || !rst_from_full_socket(sk))
		return;
	st = btf_state(sk, NULL);
	if (st)
		on_reset(sk, st, 1, reason);
	else
		reset_of_destroyed(sk, reason);
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
	__u16 reason = bpf_core_field_exists(ctx->reason) ? ctx->reason : 0;

	if (!sk || !rst_from_full_socket(sk))
		return 0;
	st = classic_state(sk, NULL);
	if (st)
		on_reset(sk, st, 1, reason);
	else
		reset_of_destroyed(sk, reason);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(on_receive_reset_btf, struct sock *sk)
{
	struct tw_sock_state *st = btf_state(sk, NULL);

	if (st)
		on_reset(sk, st, 0, 0);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int on_receive_reset_classic(struct trace_event_raw_tcp_event_sk *ctx)
{
	struct tw_sock_state *st = classic_state(ctx->skaddr, NULL);

	if (st)
		on_reset(ctx->skaddr, st, 0, 0);
	return 0;
}

/*
 * A passive socket's transitions so far ran in softirq: its owner is the
 * first process to read or write it, in tcp_recvmsg() and tcp_sendmsg()
 * with the socket locked (sk_lock.owned), or else the one that closes it.
 * (A tracepoint on accept() would name it sooner, but a syscall tracepoint
 * sends every system call of every process through the slow path: 5% of
 * the churn benchmark's throughput with an empty program.) A kernel thread
 * reading for the socket (kTLS, strparser) is not its owner. tp_btf mode
 * only: classic tracepoint programs share one per-CPU busy mark, and one on
 * every read would make the kernel skip more transitions in softirq
 * (tcp_sendmsg_locked's classic record names no socket anyway). Reads and
 * writes come many to a connection: for a socket in a slot, finding its
 * state is an index and a compare (own_slot()).
 */
static __always_inline void owner_from_io(struct sock *sk)
{
	struct tw_sock_state *st = btf_state(sk, NULL);

	if (!st || !st->conn.type || (st->conn.flags & TW_CONN_OWNER_KNOWN))
		return;
	if (!sk->sk_lock.owned || (bpf_get_current_task_btf()->flags & PF_KTHREAD))
		return;
	take_current_as_owner(&st->conn, 1);
}

SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(on_receive_btf, struct sock *sk)
{
	owner_from_io(sk);
	return 0;
}

/* Since Linux 6.16; the loader leaves it out where the kernel lacks it. */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(on_send_btf, struct sock *sk)
{
	owner_from_io(sk);
	return 0;
}

#include "stuck.bpf.h"
#include "snapshot.bpf.h"

/*
 * When tracing ends: every connection still open, as it stands, with its
 * live counters, into the iterator's file for userspace. Map iterators
 * (iter/bpf_sk_storage_map) would be the direct way, but some kernels'
 * security policies refuse them, and by now tcpwave has given up the
 * privilege to enter other network namespaces (as iter/tcp would need). So
 * two walks: the sockets processes hold, in every namespace
 * (iter/task_file), then those of tcpwave's own namespace (iter/tcp), which
 * adds the orphans, closed by their process and still closing. The owner
 * walk has just run: the process holding a connection is its owner, if none
 * is known yet.
 */

/* A copy of a socket's state, read from outside (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_sock_state);
} state_copy SEC(".maps");

static __always_inline void dump_open(struct seq_file *seq, const struct sock *sk,
				      const struct tw_sock_state *st)
{
	__u64 key = (__u64)sk;
	__u8 yes = 1;
	struct tw_conn c;
	int verdict;

	/* No timeline, or one ended: nothing open (no type: see tracing_ends). */
	if (st->emitted || !st->conn.type)
		return;
	/* When full, write it anyway: userspace may see it twice, never not at all. */
	if (bpf_map_update_elem(&dumped, &key, &yes, BPF_NOEXIST) == -EEXIST)
		return;
	count(TW_CNT_LISTED_AT_EXIT);
	if (st->walked || !tw_is_connection(&st->conn))
		return;
	__builtin_memcpy(&c, &st->conn, sizeof(c));
	/* A closed one waiting for its owner is complete: the walk found the holder. */
	if (!st->awaits_owner)
		c.flags |= TW_CONN_OPEN;
	/* Still in SYN_SENT, seen only before the kernel picked its port. */
	if (!c.ep.lport)
		c.ep.lport = inet_source_port(sk);
	owner_from_file(&c.owner, &c.flags, key, c.cookie, &c.ep);
	verdict = filter_at_exit(st->filter, &c, sk);
	if (filter_dropped(verdict)) {
		/* A waiting record was due, as at ->CLOSE (owner_filtered()). */
		if (st->awaits_owner)
			filter_count(verdict, 1);
		return;
	}
	if (!st->awaits_owner)
		note_counters(&c, sk, 0);
	bpf_seq_write(seq, &c, sizeof(c));
}

#define STORAGE_LIST_MAX 8

/*
 * The task_file walk meets the socket as an untrusted pointer (socket->sk),
 * which bpf_sk_storage_get() refuses: find our map's element the way
 * bpf_local_storage_lookup() does (the cache slot the map owns, else the
 * socket's list of elements) and copy its value. The walk runs under RCU,
 * which keeps an element it meets from being freed meanwhile.
 */
static __always_inline struct tw_sock_state *copy_state(const struct sock *sk)
{
	struct bpf_local_storage_map *smap = (void *)&sock_store;
	struct bpf_local_storage *ls = BPF_CORE_READ(sk, sk_bpf_storage);
	struct bpf_local_storage_data *sdata;
	struct bpf_local_storage_elem *selem;
	struct hlist_node *node;
	struct tw_sock_state *copy;
	__u32 zero = 0, i;

	if (!ls)
		return NULL;
	sdata = BPF_CORE_READ(ls, cache[smap->cache_idx & 15]);
	if (!sdata || BPF_CORE_READ(sdata, smap) != smap) {
		sdata = NULL;
		node = BPF_CORE_READ(ls, list.first);
		for (i = 0; i < STORAGE_LIST_MAX && node && !sdata; i++) {
			selem = container_of(node, struct bpf_local_storage_elem, snode);
			if (BPF_CORE_READ(selem, sdata.smap) == smap)
				sdata = &selem->sdata;
			node = BPF_CORE_READ(node, next);
		}
	}
	copy = bpf_map_lookup_elem(&state_copy, &zero);
	if (!sdata || !copy || bpf_probe_read_kernel(copy, sizeof(*copy), sdata->data))
		return NULL;
	return copy;
}

SEC("iter/task_file")
int dump_open_held(struct bpf_iter__task_file *ctx)
{
	struct sock *sk = file_sock(ctx->file);
	struct tw_sock_state *st;
	struct tw_slot *s;

	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	/* Its slot (own_slot(), through the untrusted pointer), else storage. */
	s = slot_holding(BPF_CORE_READ(sk, __sk_common.skc_cookie.counter));
	st = s ? &s->st : copy_state(sk);
	if (st)
		dump_open(ctx->meta->seq, sk, st);
	return 0;
}

SEC("iter/tcp")
int dump_open_orphans(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tw_sock_state *st;
	struct tcp_sock *tp;

	if (!skc || skc->skc_state == TW_TIME_WAIT || skc->skc_state == TW_NEW_SYN_RECV)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	st = btf_state_lookup((const struct sock *)tp);
	if (st)
		dump_open(ctx->meta->seq, (const struct sock *)tp, st);
	return 0;
}
