/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filters (-p, -c, -P, --lport, --rport, --laddr, --raddr, -4, -6, --netns,
 * --cgroup), decided in the kernel so that what they reject never crosses the
 * ring buffer. As in bcc's libbpf-tools, which filters are on is rodata that
 * the loader sets before load: the verifier prunes the code of the others, so
 * a filter that is off costs nothing. Their values live in maps sized to what
 * was given (user/loader.c).
 *
 * The filters on endpoints, netns and cgroup (the "tuple" filters) are
 * decided once per connection, as soon as the endpoints they need are known,
 * and the decision stays in the socket's state (tw_sock_state.filter). The
 * owner filters are decided where the owner is known. sock_state.bpf.h
 * applies both. userspace applies the same rules in user/filter.c.
 * Included once by tcpwave.bpf.c, after its maps and counters.
 */
#ifndef TCPWAVE_FILTER_BPF_H
#define TCPWAVE_FILTER_BPF_H

const volatile __u32 filters; /* TW_F_* */
/* --cgroup: the subtrees' cgroup ids (kernfs node ids) and depths below the root */
const volatile __u32 filter_ncgroups;
const volatile __u64 filter_cgroup_id[TW_CGROUPS_MAX];
const volatile __u32 filter_cgroup_level[TW_CGROUPS_MAX];
/*
 * Where struct cgroup keeps its ancestors, read by the loader from the
 * kernel's BTF: pointers (ancestors[], 6.0 on) or their ids (ancestor_ids[],
 * before). Not a CO-RE relocation: the layout that is missing would fail
 * the load even where --cgroup is off.
 */
const volatile __u32 cgroup_ancestors_offset;
const volatile bool cgroup_ancestors_are_ids;

/* Each map is resized by the loader to the number of values given (1 when unused). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32); /* process id (tgid) */
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, char[TW_COMM_LEN]); /* NUL-padded, as bpf_get_current_comm() fills it */
	__type(value, __u8);
} filter_comms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u16);
	__type(value, __u8); /* TW_PORT_* */
} filter_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct tw_lpm_v4);
	__type(value, __u8); /* TW_ADDR_* */
} filter_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct tw_lpm_v6);
	__type(value, __u8);
} filter_v6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32); /* network namespace inode */
	__type(value, __u8);
} filter_netns SEC(".maps");

static __always_inline int filter_dropped(int verdict)
{
	return verdict >= TW_FILTER_DROP;
}

/* n records that a filter kept from leaving. */
static __always_inline void filter_count(int verdict, __u64 n)
{
	if (!n)
		return;
	count_n(TW_CNT_FILTERED, n);
	if (verdict == TW_FILTER_DROP_NETNS)
		count_n(TW_CNT_FILTERED_NETNS, n);
}

/* All filters must pass: one that drops decides, else one still pending keeps it open. */
static __always_inline int filter_and(int a, int b)
{
	if (filter_dropped(a) || filter_dropped(b))
		return filter_dropped(a) ? a : b;
	return a == TW_FILTER_PENDING || b == TW_FILTER_PENDING ? TW_FILTER_PENDING :
								  TW_FILTER_PASS;
}

static __always_inline int one_end(int match, int unknown)
{
	return match ? TW_FILTER_PASS : unknown ? TW_FILTER_PENDING : TW_FILTER_DROP;
}

/* An address not known yet (0.0.0.0 or ::); sock_state.bpf.h uses it too. */
static __always_inline int is_zero_addr(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return (w[0] | w[1] | w[2] | w[3]) == 0;
}

/* ::ffff:a.b.c.d, or :: */
static __always_inline int is_v4_mapped_or_zero(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && (w[2] == bpf_htonl(0xffff) || (w[2] | w[3]) == 0);
}

/*
 * The endpoints userspace shows as IPv4 (addr_unmap_endpoints()): an IPv4
 * socket, or a dual-stack one whose addresses are IPv4-mapped or zero (not
 * both zero: that is an unbound IPv6 socket).
 */
static __always_inline int shown_as_ipv4(const struct tw_endpoints *ep)
{
	if (ep->family == AF_INET)
		return 1;
	return is_v4_mapped_or_zero(ep->laddr) && is_v4_mapped_or_zero(ep->raddr) &&
	       !(is_zero_addr(ep->laddr) && is_zero_addr(ep->raddr));
}

/*
 * --laddr/--raddr for one end. An address not known yet is zero (before
 * connect() or for a listener's remote end): pending until final.
 */
static __always_inline int addr_verdict(const __u8 *a, __u16 family, int v4, __u8 end, int final)
{
	__u8 *ends;

	if (v4) {
		struct tw_lpm_v4 k = { .prefixlen = 32 };

		if (family == AF_INET6)
			__builtin_memcpy(k.addr, a + 12, 4);
		else
			__builtin_memcpy(k.addr, a, 4);
		if (!final && *(__u32 *)k.addr == 0)
			return TW_FILTER_PENDING;
		ends = bpf_map_lookup_elem(&filter_v4, &k);
	} else {
		struct tw_lpm_v6 k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, a, 16);
		if (!final && is_zero_addr(k.addr))
			return TW_FILTER_PENDING;
		ends = bpf_map_lookup_elem(&filter_v6, &k);
	}
	return ends && (*ends & end) ? TW_FILTER_PASS : TW_FILTER_DROP;
}

static __always_inline __u8 port_ends(__u16 port)
{
	__u8 *ends;

	if (!port)
		return 0;
	ends = bpf_map_lookup_elem(&filter_ports, &port);
	return ends ? *ends : 0;
}

/* The id of cg's ancestor at depth level (0: the root); level <= cg->level. */
static __always_inline __u64 cgroup_ancestor_id(const struct cgroup *cg, __u32 level)
{
	const void *slot = (const void *)cg + cgroup_ancestors_offset + level * sizeof(__u64);
	struct cgroup *anc = NULL;
	__u64 id = 0;

	if (cgroup_ancestors_are_ids) {
		bpf_probe_read_kernel(&id, sizeof(id), slot);
		return id;
	}
	bpf_probe_read_kernel(&anc, sizeof(anc), slot);
	return anc ? BPF_CORE_READ(anc, kn, id) : 0;
}

/*
 * --cgroup: is the socket's cgroup (sk_cgrp_data.cgroup, where
 * cgroup_sk_alloc() put the creating task's; an accepted socket has its
 * listener's) one of the subtrees or below one: its ancestor at the
 * subtree's depth (cgroup->ancestors[], which includes itself) is it.
 * The helpers that test a cgroup ancestry do not fit: the cgroup-array ones
 * test skbs or the current task (softirq runs in anyone's), and the verifier
 * refuses bpf_cgroup_ancestor() this pointer ("R1 must be a rcu pointer").
 */
static __always_inline int cgroup_verdict(const struct sock *sk)
{
	struct cgroup *cg = NULL;
	__u32 i, level;

	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	if (!cg)
		return TW_FILTER_DROP;
	level = BPF_CORE_READ(cg, level);
	for (i = 0; i < TW_CGROUPS_MAX && i < filter_ncgroups; i++)
		if (filter_cgroup_level[i] <= level &&
		    cgroup_ancestor_id(cg, filter_cgroup_level[i]) == filter_cgroup_id[i])
			return TW_FILTER_PASS;
	return TW_FILTER_DROP;
}

#define REQUIRE(verdict)                                                                           \
	do {                                                                                       \
		int v_ = (verdict);                                                                \
		if (filter_dropped(v_))                                                            \
			return v_;                                                                 \
		pending |= v_ == TW_FILTER_PENDING;                                                \
	} while (0)

/*
 * The tuple filters on a connection's endpoints (as carried: fields seen
 * earlier fill in what the socket no longer shows), netns and cgroup. A
 * zero port or address is not known yet; `final` (at ->CLOSE) says it never
 * will be, and then it matches no filter value, as it would in userspace.
 * --netns goes first: what it drops is counted on its own as well.
 */
static __always_inline int filter_tuple(const struct tw_endpoints *ep, __u32 netns,
					const struct sock *sk, int final)
{
	int pending = 0, v4;
	__u8 lends, rends;

	if ((filters & TW_F_NETNS) && !bpf_map_lookup_elem(&filter_netns, &netns))
		return TW_FILTER_DROP_NETNS;
	v4 = shown_as_ipv4(ep);
	if ((filters & (TW_F_IPV4 | TW_F_IPV6)) && !(filters & (v4 ? TW_F_IPV4 : TW_F_IPV6)))
		return TW_FILTER_DROP;
	if (filters & TW_F_PORTS) {
		lends = port_ends(ep->lport);
		rends = port_ends(ep->rport);
		if (filters & TW_F_PORT)
			REQUIRE(one_end((lends | rends) & TW_PORT_EITHER,
					!final && (!ep->lport || !ep->rport)));
		if (filters & TW_F_LPORT)
			REQUIRE(one_end(lends & TW_PORT_LOCAL, !final && !ep->lport));
		if (filters & TW_F_RPORT)
			REQUIRE(one_end(rends & TW_PORT_REMOTE, !final && !ep->rport));
	}
	if (filters & TW_F_LADDR)
		REQUIRE(addr_verdict(ep->laddr, ep->family, v4, TW_ADDR_LOCAL, final));
	if (filters & TW_F_RADDR)
		REQUIRE(addr_verdict(ep->raddr, ep->family, v4, TW_ADDR_REMOTE, final));
	if (filters & TW_F_CGROUP)
		REQUIRE(cgroup_verdict(sk));
	return pending ? TW_FILTER_PENDING : TW_FILTER_PASS;
}

#undef REQUIRE

/* The owner filters: an owner not known yet is pending, and at the end matches nothing. */
static __always_inline int filter_owner(const struct tw_conn *c, int final)
{
	if (!(filters & TW_F_OWNER))
		return TW_FILTER_PASS;
	if (!(c->flags & TW_CONN_OWNER_KNOWN))
		return final ? TW_FILTER_DROP : TW_FILTER_PENDING;
	if ((filters & TW_F_PID) && !bpf_map_lookup_elem(&filter_pids, &c->owner.tgid))
		return TW_FILTER_DROP;
	if ((filters & TW_F_COMM) && !bpf_map_lookup_elem(&filter_comms, c->owner.comm))
		return TW_FILTER_DROP;
	return TW_FILTER_PASS;
}

/*
 * A connection still open when tracing ends, as it stands, or a closed one
 * whose record waited for its owner (tuple: its verdict so far): the
 * filters decide for good.
 */
static __always_inline int filter_at_exit(int tuple, const struct tw_conn *c,
					  const struct sock *sk)
{
	if (!filters)
		return TW_FILTER_PASS;
	if (!(filters & TW_F_TUPLE))
		tuple = TW_FILTER_PASS;
	else if (tuple == TW_FILTER_PENDING)
		tuple = filter_tuple(&c->ep, c->netns, sk, 1);
	return filter_and(tuple, filter_owner(c, 1));
}

#endif /* TCPWAVE_FILTER_BPF_H */
