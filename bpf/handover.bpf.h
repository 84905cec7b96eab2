/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An orphan (closed by its application) whose FIN the peer has acknowledged
 * but not answered is handed to a timewait socket in the FIN_WAIT2
 * substate: the tracepoint shows FIN_WAIT2 -> CLOSE and nothing after. The
 * close goes on in that timewait socket, which this file finds at the
 * hand-over and watches until it ends: the peer's FIN, our RST, the
 * kernel's timeout, or a RST from the peer. --stuck watches the same
 * sockets for a stay that lasts (stuck.bpf.h). Included once, by
 * tcpwave.bpf.c, after its maps and before sock_state.bpf.h.
 */
#ifndef TCPWAVE_HANDOVER_BPF_H
#define TCPWAVE_HANDOVER_BPF_H

/* Turns jiffies into time; the loader makes it 0 when the kernel config cannot be read. */
extern unsigned int CONFIG_HZ __kconfig __weak;

/* Set by the loader: connection records are wanted and may wait for their end. */
const volatile bool watch_handovers = false;

/* Entries in the table now: userspace checks while there are any (skeleton .bss). */
__s64 handovers_live;
/* Ends a check found but had no ring buffer room for: they wait for the next check. */
__u32 handovers_deferred;

/* A watched hand-over: its end record, ready but for how it ends. */
struct handover {
	/*
	 * rec.end is 0 while it waits; set (with rec.ts_ns), an end known
	 * already that found no room in the ring buffer: the next check sends it.
	 */
	struct tw_handover_end rec;
	__u64 expires; /* its timer, as last seen (jiffies): the kernel's deadline */
};

/* Keyed by the timewait socket's address; an entry leaves as its end is sent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TW_HANDOVERS_MAX);
	__type(key, __u64);
	__type(value, struct handover);
} handovers SEC(".maps");

/* skc's addresses are ep's (the ports are compared already). */
static __always_inline int same_addresses(const struct sock_common *skc,
					  const struct tw_endpoints *ep)
{
	__u64 mine[4], want[4];

	if (ep->family == AF_INET) {
		__u32 l = BPF_CORE_READ(skc, skc_rcv_saddr), r = BPF_CORE_READ(skc, skc_daddr);
		__u32 want_l, want_r;

		__builtin_memcpy(&want_l, ep->laddr, 4);
		__builtin_memcpy(&want_r, ep->raddr, 4);
		return l == want_l && r == want_r;
	}
	if (bpf_core_read(&mine[0], 16, &skc->skc_v6_rcv_saddr) ||
	    bpf_core_read(&mine[2], 16, &skc->skc_v6_daddr))
		return 0;
	__builtin_memcpy(&want[0], ep->laddr, 16);
	__builtin_memcpy(&want[2], ep->raddr, 16);
	return mine[0] == want[0] && mine[1] == want[1] && mine[2] == want[2] &&
	       mine[3] == want[3];
}

/*
 * The substate of skc if it is a live timewait socket that took over the
 * connection with this cookie and endpoints, else 0. The address is held
 * without a reference: timewait sockets come from a SLAB_TYPESAFE_BY_RCU
 * cache, whose freed objects keep their fields until reused (by another
 * timewait socket, or once the page is freed, anything). A live one is
 * hashed and referenced (the kernel's own lookup takes a reference only if
 * the count is not zero, then checks the keys again); the cookie
 * (inet_twsk_alloc() copies the socket's), ports and addresses tell which
 * connection it is. Classic mode's ids may be synthetic
 * (SYNTHETIC_ID_BASE): the endpoints and the namespace tell then.
 */
static __always_inline __u8 timewait_substate(const struct sock_common *skc, __u64 cookie,
					      __u32 netns, const struct tw_endpoints *ep)
{
	const struct inet_timewait_sock *tw = (const void *)skc;

	if (BPF_CORE_READ(skc, skc_state) != TW_TIME_WAIT ||
	    !BPF_CORE_READ(skc, skc_refcnt.refs.counter) ||
	    !BPF_CORE_READ(skc, skc_nulls_node.pprev) ||
	    BPF_CORE_READ(skc, skc_num) != ep->lport ||
	    bpf_ntohs(BPF_CORE_READ(skc, skc_dport)) != ep->rport || !same_addresses(skc, ep))
		return 0;
	if (cookie < SYNTHETIC_ID_BASE ?
		    BPF_CORE_READ(skc, skc_cookie.counter) != (__s64)cookie :
		    BPF_CORE_READ(skc, skc_net.net, ns.inum) != netns)
		return 0;
	return BPF_CORE_READ(tw, tw_substate);
}

/*
 * The established hash sk is in: since 6.1 a namespace may have one of its
 * own (net.ipv4.tcp_child_ehash_entries), found through its death row;
 * before, there is one for all, the protocol's.
 */
static __always_inline struct inet_hashinfo *ehash_of(const struct sock *sk)
{
	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);

	if (bpf_core_field_exists(net->ipv4.tcp_death_row.hashinfo))
		return BPF_CORE_READ(net, ipv4.tcp_death_row.hashinfo);
	return BPF_CORE_READ(sk, __sk_common.skc_prot, h.hashinfo);
}

/*
 * Whether to watch an orphan's hand-over to ep's peer. Not for a peer at a
 * loopback address, in the orphan's own namespace and traced too, whose
 * record tells the end to the nanosecond (user/handover_wait.c), unless
 * the filters may keep that record back.
 */
static __always_inline int handover_worth_watching(const struct tw_endpoints *ep)
{
	return watch_handovers && (filters || !tw_is_loopback(ep->family, ep->raddr));
}

/*
 * The timewait sockets of sk's namespace, and how many it may have
 * (net.ipv4.tcp_max_tw_buckets). tw_refcount starts at 1 for the namespace
 * itself (inet_twsk_alloc()). Older kernels keep these elsewhere: then the
 * limit reads as unlimited.
 */
static __always_inline void death_row_load(const struct sock *sk, __u32 *count, __u32 *max,
					   int btf)
{
	struct net *net = TW_READ(btf, sk, __sk_common.skc_net.net);

	*count = 0;
	*max = ~0u;
	if (bpf_core_field_exists(net->ipv4.tcp_death_row.sysctl_max_tw_buckets) &&
	    bpf_core_field_exists(net->ipv4.tcp_death_row.tw_refcount)) {
		*count = TW_READ(btf, net, ipv4.tcp_death_row.tw_refcount.refs.counter) - 1;
		*max = TW_READ(btf, net, ipv4.tcp_death_row.sysctl_max_tw_buckets);
	}
}

/* How far along its hash chain a fresh timewait socket is looked for. */
#define TIMEWAIT_CHAIN_STEPS 8

/*
 * The timewait socket in the FIN_WAIT2 substate that the orphan sk was just
 * handed to, at FIN_WAIT2 -> CLOSE; 0 if none: the peer's FIN had come (a
 * TIME_WAIT), it is no orphan, a RST ended it, or no timewait socket was to
 * be had (tcp_max_tw_buckets). tcp_time_wait() hashes it into the socket's own
 * bucket of the established hash (same sk_hash) before tcp_done() reports
 * ->CLOSE: at the chain's head, in the socket's place or at the tail,
 * depending on the kernel version, so among the first entries of a chain
 * that the hash keeps short. Not found there where a watch was wanted
 * (watch), it is counted unwatched.
 */
static __always_inline __u64 orphan_timewait(const struct sock *sk, const struct tw_conn *c,
					     int watch)
{
	const __u32 reset = TW_CONN_RESET_SENT | TW_CONN_RESET_RECEIVED;
	__u64 sk_flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	struct inet_hashinfo *hashinfo;
	struct inet_ehash_bucket *bucket;
	struct hlist_nulls_node *node;
	__u32 hash, tw_count, tw_max;
	int i;

	if (!(sk_flags & (1ull << SOCK_DEAD)) || (sk_flags & (1ull << SOCK_DONE)) ||
	    (c->flags & reset))
		return 0;
	hashinfo = ehash_of(sk);
	hash = BPF_CORE_READ(sk, __sk_common.skc_hash);
	bucket = BPF_CORE_READ(hashinfo, ehash) + (hash & BPF_CORE_READ(hashinfo, ehash_mask));
	node = BPF_CORE_READ(bucket, chain.first);
	for (i = 0; i < TIMEWAIT_CHAIN_STEPS; i++) {
		const struct sock_common *skc;

		/* A chain ends in a "nulls" marker, an odd value; NULL: not readable. */
		if (!node || ((__u64)node & 1))
			break;
		skc = (const void *)node - bpf_core_field_offset(struct sock_common, skc_nulls_node);
		if (timewait_substate(skc, c->cookie, c->netns, &c->ep) == TW_FIN_WAIT2)
			return (__u64)skc;
		node = BPF_CORE_READ(node, next);
	}
	/*
	 * Unless the namespace's timewait sockets were all taken (the
	 * connection just ended), a watch wanted here is not to be had.
	 */
	death_row_load(sk, &tw_count, &tw_max, 0);
	if (tw_count < tw_max && watch)
		count(TW_CNT_HANDOVER_UNWATCHED);
	return 0;
}

static __always_inline __u64 timewait_expires(__u64 tw_key)
{
	const struct inet_timewait_sock *tw = (const void *)tw_key;

	return BPF_CORE_READ(tw, tw_timer.expires);
}

/* CLOCK_MONOTONIC time of jiffy j, now being now_ns; now_ns if it cannot be told. */
static __always_inline __u64 jiffies_to_mono(__u64 j, __u64 now_ns)
{
	__u64 now_j = bpf_jiffies64();

	if (!CONFIG_HZ || j >= now_j)
		return now_ns;
	return now_ns - (now_j - j) * (1000000000 / CONFIG_HZ);
}

/*
 * Send the end of the hand-over h at key, `kind` at ts_ns, and take it out
 * of the table. -1 when the ring buffer has no room (the entry stays); 0
 * when sent, or when someone else (the check, the RST tracepoint, a new
 * hand-over at the same address) took it out first. The record is filled
 * before the delete: a deleted element may be reused at once. may_wake:
 * userspace is woken if this record makes enough wait (wakeup_flag()).
 */
static __always_inline int handover_send_end(__u64 key, const struct handover *h, __u8 kind,
					     __u64 ts_ns, bool may_wake)
{
	struct tw_handover_end *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	struct handover *now_at_key;

	if (!r)
		return -1;
	__builtin_memcpy(r, &h->rec, sizeof(*r));
	r->end = kind;
	/* It ended after it was last seen waiting; jiffies are coarser than that. */
	r->ts_ns = ts_ns < r->seen_ns ? r->seen_ns : ts_ns;
	now_at_key = bpf_map_lookup_elem(&handovers, &key);
	if (now_at_key != h || now_at_key->rec.cookie != r->cookie ||
	    bpf_map_delete_elem(&handovers, &key)) {
		bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
		return 0;
	}
	__sync_fetch_and_add(&handovers_live, -1);
	bpf_ringbuf_submit(r, may_wake ? wakeup_flag(sizeof(*r)) : BPF_RB_NO_WAKEUP);
	return 0;
}

/*
 * A watched timewait socket no longer waits (substate: what it is now, 0
 * if gone): its end and when, as far as the kernel tells. The peer's FIN
 * rescheduled its timer to TCP_TIMEWAIT_LEN (60 s) ahead, which dates the
 * FIN to the jiffy, unless the peer sent it again before this check; gone
 * past its timer's deadline, the kernel timed it out then.
 */
static __always_inline __u8 handover_end_kind(__u64 key, const struct handover *h, __u8 substate,
					      __u64 now, __u64 *ts_ns)
{
	*ts_ns = now;
	if (h->rec.end) {
		*ts_ns = h->rec.ts_ns;
		return h->rec.end;
	}
	if (substate == TW_TIME_WAIT) {
		*ts_ns = jiffies_to_mono(timewait_expires(key) - 60 * (__u64)CONFIG_HZ, now);
		return TW_HANDOVER_PEER_FIN;
	}
	if (bpf_jiffies64() >= h->expires) {
		*ts_ns = jiffies_to_mono(h->expires, now);
		return TW_HANDOVER_TIMEOUT;
	}
	return TW_HANDOVER_GONE;
}

/*
 * Watch the timewait socket tw_key that took over connection c at now: 1
 * if it is watched (its end record will follow), 0 if not (counted).
 */
static __always_inline int handover_watch(__u64 tw_key, const struct tw_conn *c, __u64 now)
{
	struct handover h = {}, *old = bpf_map_lookup_elem(&handovers, &tw_key);
	__u64 ts_ns;
	__u8 kind;

	/* Its address held another timewait socket, gone since the last check: end that first. */
	if (old) {
		kind = handover_end_kind(tw_key, old, 0, now, &ts_ns);
		if (handover_send_end(tw_key, old, kind, ts_ns, true)) {
			count_lost();
			if (!bpf_map_delete_elem(&handovers, &tw_key))
				__sync_fetch_and_add(&handovers_live, -1);
		}
	}
	h.rec.type = TW_REC_HANDOVER_END;
	h.rec.netns = c->netns;
	h.rec.cookie = c->cookie;
	h.rec.seen_ns = now;
	h.rec.ep = c->ep;
	h.expires = timewait_expires(tw_key);
	if (bpf_map_update_elem(&handovers, &tw_key, &h, BPF_NOEXIST)) {
		count(TW_CNT_HANDOVER_UNWATCHED);
		return 0;
	}
	__sync_fetch_and_add(&handovers_live, 1);
	return 1;
}

/*
 * One watched hand-over, when userspace checks: still waiting (the check
 * notes when it saw it so, and its deadline), or ended, and its end leaves.
 */
static long check_handover(struct bpf_map *map, __u64 *key, struct handover *h, void *ctx)
{
	__u8 substate = h->rec.end ? 0 :
				     timewait_substate((const void *)*key, h->rec.cookie,
						       h->rec.netns, &h->rec.ep);
	__u64 now = bpf_ktime_get_ns(), ts_ns;
	__u8 kind;

	if (substate == TW_FIN_WAIT2) {
		h->rec.seen_ns = now;
		h->expires = timewait_expires(*key);
		return 0;
	}
	if (handovers_deferred) {
		handovers_deferred++;
		return 0;
	}
	kind = handover_end_kind(*key, h, substate, now, &ts_ns);
	/* Userspace polls right after the check: no wakeup needed. */
	if (handover_send_end(*key, h, kind, ts_ns, false))
		handovers_deferred++;
	return 0;
}

/* The check itself, run by userspace with BPF_PROG_TEST_RUN (as check_stuck). */
SEC("raw_tp")
int check_handovers(void *ctx)
{
	bpf_for_each_map_elem(&handovers, check_handover, NULL, 0);
	return 0;
}

/*
 * A RST from a timewait socket: in the FIN_WAIT2 substate, the answer to
 * data after our close() (tcp_timewait_state_process() then kills it).
 * The tcp_send_reset tracepoint sees timewait sockets since Linux 6.10;
 * before, such an end is found gone by the check.
 */
static __always_inline void handover_reset_sent(const struct sock *sk)
{
	__u64 key = (__u64)sk, now = bpf_ktime_get_ns();
	struct handover *h = bpf_map_lookup_elem(&handovers, &key);

	/* Its memory may hold another timewait socket since the watched one died. */
	if (!h || h->rec.end ||
	    timewait_substate((const void *)sk, h->rec.cookie, h->rec.netns, &h->rec.ep) !=
		    TW_FIN_WAIT2)
		return;
	if (handover_send_end(key, h, TW_HANDOVER_LOCAL_RESET, now, true)) {
		/* No room now: the next check sends it. */
		h->rec.ts_ns = now;
		h->rec.end = TW_HANDOVER_LOCAL_RESET;
	}
}

#endif /* TCPWAVE_HANDOVER_BPF_H */
