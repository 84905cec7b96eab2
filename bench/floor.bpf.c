// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's floors: the least a tracer of sock:inet_sock_set_state can
 * do, run in the same rounds as tcpwave so that its share reads against what
 * the design itself costs on this kernel. The loader (bench/floor.c) attaches
 * one of them.
 *
 *  - floor_ring: a record per transition into the ring buffer, wakeups
 *    batched: the performance issue's "costs nothing measurable".
 *  - floor_storage: tcpwave's design reduced to its bones, for a socket
 *    whose slot another holds: socket storage made at its first transition,
 *    each state and its time appended there, one record per socket at
 *    ->CLOSE. No owner, no endpoints, no counters, no filters.
 *  - floor_slots: the same in an array of slots, a socket's slot named by
 *    its cookie, taken at its first transition with a compare-and-swap and
 *    freed at ->CLOSE: tcpwave's slots, which it frees at the socket's
 *    destruction instead. A socket whose slot is taken then is counted and
 *    not followed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define CLOSE 7 /* TCP_CLOSE */
#define LISTEN 10 /* TCP_LISTEN */
#define STEPS 8

char LICENSE[] SEC("license") = "GPL";

__u64 lost; /* records the ring buffer had no room for */

struct floor_transition {
	__u64 sk;
	__u64 ts_ns;
	__u32 old_state;
	__u32 new_state;
};

struct floor_timeline {
	__u64 start_ns;
	__u64 step_ns[STEPS];
	__u8 step_state[STEPS];
	__u32 nsteps;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* tcpwave's default */
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct floor_timeline);
} timelines SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_ring, const struct sock *sk, int old_state, int new_state)
{
	struct floor_transition *r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);

	if (!r) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	r->sk = (__u64)sk;
	r->ts_ns = bpf_ktime_get_ns();
	r->old_state = old_state;
	r->new_state = new_state;
	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	return 0;
}

#define SLOTS 8192 /* tcpwave's default */

struct floor_slot {
	__u64 cookie; /* the socket's whose timeline this is; 0: free */
	struct floor_timeline tl;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, struct floor_slot);
} slots SEC(".maps");

__u64 slot_taken; /* sockets whose slot another held */

/* Appends the state to the socket's timeline; at ->CLOSE sends it, and says so. */
static __always_inline int timeline_step(struct floor_timeline *tl, int new_state)
{
	__u64 now = bpf_ktime_get_ns();
	__u32 i;

	if (!tl->nsteps)
		tl->start_ns = now;
	i = tl->nsteps < STEPS ? tl->nsteps++ : STEPS - 1;
	tl->step_ns[i & (STEPS - 1)] = now - tl->start_ns;
	tl->step_state[i & (STEPS - 1)] = new_state;
	if (new_state != CLOSE)
		return 0;
	if (bpf_ringbuf_output(&records, tl, sizeof(*tl), BPF_RB_NO_WAKEUP))
		__sync_fetch_and_add(&lost, 1);
	return 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_storage, const struct sock *sk, int old_state, int new_state)
{
	struct floor_timeline *tl = bpf_sk_storage_get(&timelines, (void *)sk, 0,
						       BPF_SK_STORAGE_GET_F_CREATE);

	if (tl)
		timeline_step(tl, new_state);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_slots, const struct sock *sk, int old_state, int new_state)
{
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	__u32 i = cookie % SLOTS;
	struct floor_slot *s = bpf_map_lookup_elem(&slots, &i);

	if (!s)
		return 0;
	if (s->cookie != cookie) {
		/* Sockets are followed from their first transition only. */
		if (old_state != CLOSE && old_state != LISTEN)
			return 0;
		if (__sync_val_compare_and_swap(&s->cookie, 0, cookie)) {
			__sync_fetch_and_add(&slot_taken, 1);
			return 0;
		}
		__builtin_memset(&s->tl, 0, sizeof(s->tl));
	}
	if (timeline_step(&s->tl, new_state))
		__sync_lock_test_and_set(&s->cookie, 0);
	return 0;
}
