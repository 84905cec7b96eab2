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

/* Hand-overs not watched for want of room in the table; userspace reads it at exit. */
__u64 handovers_unwatched;
/* Ends a check found but had no ring buffer room for: they wait for the next check. */
__u32 handovers_deferred;

/* A watched hand-over: its end record, ready but for how it ends. */
struct handover {
	struct tw_handover_end rec;
	__u64 expires; /* its timer, as last seen (jiffies): the kernel's deadline */
};

/* Keyed by the timewait socket's address; entries leave as their end is sent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, TW_HANDOVERS_MAX);
	__type(key, __u64);
	__type(value, struct handover);
} handovers SEC(".maps");

/*
 * The substate of skc if it is the timewait socket that took over the
 * connection with this cookie and endpoints, else 0. Timewait sockets come
 * from a SLAB_TYPESAFE_BY_RCU cache: read through an address held without a
 * reference, the memory is a timewait socket still, maybe another one; the
 * cookie (inet_twsk_alloc() copies the socket's) and the ports tell. Classic
 * mode's ids may be synthetic (SYNTHETIC_ID_BASE): the ports alone tell then.
 */
static __always_inline __u8 timewait_substate(const struct sock_common *skc, __u64 cookie,
					      const struct tw_endpoints *ep)
{
	const struct inet_timewait_sock *tw = (const void *)skc;

	if (BPF_CORE_READ(skc, skc_state) != TW_TIME_WAIT ||
	    BPF_CORE_READ(skc, skc_num) != ep->lport ||
	    bpf_ntohs(BPF_CORE_READ(skc, skc_dport)) != ep->rport ||
	    (cookie < SYNTHETIC_ID_BASE && BPF_CORE_READ(skc, skc_cookie.counter) != (__s64)cookie))
		return 0;
	return BPF_CORE_READ(tw, tw_substate);
}

/* How far down its hash chain a fresh timewait socket is looked for. */
#define TIMEWAIT_CHAIN_STEPS 8

/*
 * The timewait socket in the FIN_WAIT2 substate that the orphan sk was just
 * handed to, at FIN_WAIT2 -> CLOSE; 0 if none (its peer's FIN had come: a
 * TIME_WAIT; not an orphan; no timewait socket to be had). tcp_time_wait()
 * hashes it into the socket's own established-hash bucket (same sk_hash),
 * at the head of the chain, before tcp_done() reports ->CLOSE: it is among
 * the first few entries, unless other sockets of the bucket came in between.
 */
static __always_inline __u64 orphan_timewait(const struct sock *sk, const struct tw_conn *c)
{
	__u64 sk_flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	struct inet_hashinfo *hashinfo;
	struct inet_ehash_bucket *bucket;
	struct hlist_nulls_node *node;
	__u32 hash;
	int i;

	if (!(sk_flags & (1ull << SOCK_DEAD)) || (sk_flags & (1ull << SOCK_DONE)))
		return 0;
	hashinfo = BPF_CORE_READ(sk, __sk_common.skc_net.net, ipv4.tcp_death_row.hashinfo);
	if (!hashinfo)
		return 0;
	hash = BPF_CORE_READ(sk, __sk_common.skc_hash);
	bucket = BPF_CORE_READ(hashinfo, ehash) + (hash & BPF_CORE_READ(hashinfo, ehash_mask));
	node = BPF_CORE_READ(bucket, chain.first);
	for (i = 0; i < TIMEWAIT_CHAIN_STEPS; i++) {
		const struct sock_common *skc;

		/* A chain ends in a "nulls" marker, an odd value. */
		if (!node || ((__u64)node & 1))
			return 0;
		skc = (const void *)node - bpf_core_field_offset(struct sock_common, skc_nulls_node);
		if (timewait_substate(skc, c->cookie, &c->ep) == TW_FIN_WAIT2)
			return (__u64)skc;
		node = BPF_CORE_READ(node, next);
	}
	return 0;
}

static __always_inline __u64 timewait_expires(__u64 tw_key)
{
	const struct inet_timewait_sock *tw = (const void *)tw_key;

	return BPF_CORE_READ(tw, tw_timer.expires);
}

/*
 * Watch the timewait socket tw_key that took over connection c at now: 1
 * if it is watched (its end record will follow), 0 if the table is full.
 */
static __always_inline int handover_watch(__u64 tw_key, const struct tw_conn *c, __u64 now)
{
	struct handover h = {};

	h.rec.type = TW_REC_HANDOVER_END;
	h.rec.netns = c->netns;
	h.rec.cookie = c->cookie;
	h.rec.seen_ns = now;
	h.rec.ep = c->ep;
	h.expires = timewait_expires(tw_key);
	if (bpf_map_update_elem(&handovers, &tw_key, &h, BPF_ANY)) {
		handovers_unwatched++;
		return 0;
	}
	return 1;
}

/* CLOCK_MONOTONIC time of jiffy j, now being now_ns; now_ns if it cannot be told. */
static __always_inline __u64 jiffies_to_mono(__u64 j, __u64 now_ns)
{
	__u64 now_j = bpf_jiffies64();

	if (!CONFIG_HZ || j >= now_j)
		return now_ns;
	return now_ns - (now_j - j) * (1000000000 / CONFIG_HZ);
}

/* include/net/tcp.h: how long TIME_WAIT lasts, from the FIN that began it. */
#define TCP_TIMEWAIT_LEN_S 60

/*
 * One watched hand-over, when userspace checks: still waiting (the check
 * notes when it saw it so), or ended, and its end record leaves.
 */
static long check_handover(struct bpf_map *map, __u64 *key, struct handover *h, void *ctx)
{
	const struct sock_common *skc = (const void *)*key;
	__u8 substate = timewait_substate(skc, h->rec.cookie, &h->rec.ep);
	__u64 now = bpf_ktime_get_ns(), end_ns = now;
	struct tw_handover_end *r;

	if (substate == TW_FIN_WAIT2) {
		h->rec.seen_ns = now;
		h->expires = timewait_expires(*key);
		return 0;
	}
	r = handovers_deferred ? NULL : bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		handovers_deferred++;
		return 0;
	}
	__builtin_memcpy(r, &h->rec, sizeof(*r));
	if (substate == TW_TIME_WAIT) {
		/* The peer's FIN rescheduled the timer (inet_twsk_reschedule()). */
		r->end = TW_HANDOVER_PEER_FIN;
		end_ns = jiffies_to_mono(timewait_expires(*key) - TCP_TIMEWAIT_LEN_S * CONFIG_HZ,
					 now);
	} else if (bpf_jiffies64() >= h->expires) {
		r->end = TW_HANDOVER_TIMEOUT;
		end_ns = jiffies_to_mono(h->expires, now);
	} else {
		r->end = TW_HANDOVER_GONE;
	}
	/* It ended after it was last seen waiting; jiffies are coarser than that. */
	r->ts_ns = end_ns < r->seen_ns ? r->seen_ns : end_ns;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	bpf_map_delete_elem(map, key);
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
 */
static __always_inline void handover_reset_sent(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct handover *h = bpf_map_lookup_elem(&handovers, &key);
	struct tw_handover_end *r;

	if (!h)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (r) {
		__builtin_memcpy(r, &h->rec, sizeof(*r));
		r->end = TW_HANDOVER_LOCAL_RESET;
		r->ts_ns = bpf_ktime_get_ns();
		r->seen_ns = r->ts_ns;
		bpf_ringbuf_submit(r, wakeup_flag());
	} else {
		count(TW_CNT_LOST);
	}
	bpf_map_delete_elem(&handovers, &key);
}

#endif /* TCPWAVE_HANDOVER_BPF_H */
