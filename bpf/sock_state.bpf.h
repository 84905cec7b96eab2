/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-socket bookkeeping shared by both attach modes: the connection's
 * timeline, its owner and addresses, and the facts read from the socket at
 * the moments they matter. Included once, by tcpwave.bpf.c, after its maps.
 */
#ifndef TCPWAVE_SOCK_STATE_BPF_H
#define TCPWAVE_SOCK_STATE_BPF_H

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02
#define TCPHDR_ACK 0x10

/* One transition as either attach mode sees it. */
struct transition {
	const struct sock *sk;
	__u64 ts_ns;
	__u64 cookie;
	__u64 cgroup_id;
	__u32 netns;
	__u8 old_state;
	__u8 new_state;
	__u8 process_ctx;
	/* tuple filters' verdict, where taken before the socket had state (filtered_untracked()) */
	__u8 filter;
	struct tw_endpoints ep;
};

/* --stuck's part of a transition, in stuck.bpf.h. */
static __always_inline void stuck_track(const struct transition *t,
					const struct tw_sock_state *st, __u64 tw_key);

/*
 * Part of this connection's story never reached us: its record says so
 * (lost_events), and with --events its next transition does too.
 */
static __always_inline void mark_lost(struct tw_sock_state *st)
{
	st->conn.flags |= TW_CONN_LOST_EVENTS;
	st->lost = 1;
}

/*
 * Fill in what the socket no longer (or not yet) shows from what we saw
 * earlier, and remember what it shows now. The local port is 0 at ->CLOSE
 * (inet_put_port() has run) and before connect() has chosen it.
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
	if (!is_zero_addr(now->laddr))
		__builtin_memcpy(kept->laddr, now->laddr, 16);
	else
		__builtin_memcpy(now->laddr, kept->laddr, 16);
	if (!is_zero_addr(now->raddr))
		__builtin_memcpy(kept->raddr, now->raddr, 16);
	else
		__builtin_memcpy(now->raddr, kept->raddr, 16);
	kept->family = now->family;
}

/*
 * The socket as the tcp_sock it is. With its BTF type a plain cast would
 * not do: the verifier checks loads against struct sock's size.
 */
static __always_inline const struct tcp_sock *tcp_sock_of(const struct sock *sk, int btf)
{
	return btf ? bpf_skc_to_tcp_sock((void *)sk) : (const void *)sk;
}

/*
 * Whoever works on the socket in process context owns it, except that a
 * kernel thread (the MPTCP worker closing subflows, say) does not take a
 * socket from a process: it becomes the owner only of sockets nobody else has.
 */
static __always_inline void take_current_as_owner(struct tw_conn *c, int btf)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (c->flags & TW_CONN_OWNER_KNOWN) {
		struct task_struct *task = btf ? bpf_get_current_task_btf() :
						 (void *)bpf_get_current_task();

		/* The same thread again (connect, then close): nothing to copy. */
		if (c->owner.pid == (__u32)id || (TW_READ(btf, task, flags) & PF_KTHREAD))
			return;
	}
	c->owner.pid = (__u32)id;
	c->owner.tgid = id >> 32;
	bpf_get_current_comm(c->owner.comm, sizeof(c->owner.comm));
	c->flags |= TW_CONN_OWNER_KNOWN;
}

/* Append the state entered at ts; when full, the last slot keeps the latest. */
static __always_inline void timeline_add(struct tw_conn *c, __u8 state, __u64 ts)
{
	__u32 i = c->nsteps;

	if (i > 0 && c->step_state[(i - 1) & (TW_STEPS_MAX - 1)] == state)
		return; /* shutdown() then close() reports FIN_WAIT1 -> FIN_WAIT1 */
	if (i >= TW_STEPS_MAX) {
		c->flags |= TW_CONN_TRUNCATED;
		i = TW_STEPS_MAX - 1;
	} else {
		c->nsteps = i + 1;
	}
	c->step_ns[i & (TW_STEPS_MAX - 1)] = ts - c->start_ns;
	c->step_state[i & (TW_STEPS_MAX - 1)] = state;
}

/*
 * A new connection on this socket: the first one, or connect() again after
 * the last one closed (never while one is open: see timeline_end()). The
 * socket's identity, cgroup and owner carry over.
 */
static __always_inline void timeline_begin(struct tw_sock_state *st, struct transition *t)
{
	struct tw_conn *c = &st->conn;
	struct tw_owner owner = c->owner;
	__u32 owner_known = c->flags & TW_CONN_OWNER_KNOWN;
	__u64 cookie = c->cookie, cgroup_id = c->cgroup_id;

	/* A new connection's ports and addresses are its own (a reconnect picks anew). */
	__builtin_memset(c, 0, sizeof(*c));
	c->type = TW_REC_CONN;
	c->cookie = cookie;
	c->cgroup_id = cgroup_id;
	c->owner = owner;
	c->flags = owner_known;
	c->first_old_state = t->old_state;
	c->start_ns = t->ts_ns;
	/* Seen midway (open before tracing began): its state so far, start unknown. */
	if (t->old_state != TW_CLOSE && t->old_state != TW_LISTEN)
		timeline_add(c, t->old_state, t->ts_ns);
	st->emitted = 0;
	count(TW_CNT_TIMELINES_OPEN);
	st->filter = TW_FILTER_PENDING;
}

/*
 * The connection's ->CLOSE has been dealt with. Counting what begins and
 * ends lets userspace tell, once the exit walks have listed what is still
 * open, how many ended without a record: the kernel runs no program of
 * ours for some transitions and counts no miss for them either.
 */
static __always_inline void timeline_end(struct tw_sock_state *st, const void *sk)
{
	__u64 key = (__u64)sk;

	if (st->emitted)
		return;
	st->emitted = 1;
	count_n(TW_CNT_TIMELINES_OPEN, (__u64)-1);
	if (tracing_ends && bpf_map_lookup_elem(&dumped, &key))
		count(TW_CNT_LISTED_ENDED);
}

/*
 * An accepted connection's handshake began with the SYN, long before the
 * kernel created this socket at the final ACK. The kernel measured it:
 * tcp_synack_rtt_meas() put the time from the first SYN-ACK to the ACK into
 * srtt_us (when no SYN-ACK was retransmitted), and tcp_create_openreq_child()
 * put it into total_rto_time (ms) when one was. req->num_retrans became
 * total_retrans. Move the start back to the first SYN-ACK.
 */
static __always_inline void note_passive_handshake(struct tw_conn *c, const struct tcp_sock *tp,
						   __u64 now, int btf)
{
	__u32 synack_retrans;
	__u64 us = 0;

	synack_retrans = TW_READ(btf, tp, total_retrans);
	c->retrans[TW_RETRANS_SYNACK] = synack_retrans;
	if (!synack_retrans)
		us = TW_READ(btf, tp, srtt_us) >> 3;
	else if (bpf_core_field_exists(tp->total_rto_time))
		us = (__u64)TW_READ(btf, tp, total_rto_time) * 1000;
	if (!us || us * 1000 > now - 1)
		return;
	c->handshake_us = us;
	c->flags |= TW_CONN_HANDSHAKE_KNOWN;
	c->start_ns = now - us * 1000;
}

/*
 * Whether the connection opened by TCP Fast Open (TW_CONN_FAST_OPEN): a
 * connect() whose SYN-ACK acknowledged the SYN's data (syn_data_acked, set
 * by tcp_rcv_fastopen_synack() just after ->ESTABLISHED), or an accepted
 * socket made at the SYN (syn_data_acked too when the SYN carried data,
 * tcp_fastopen_add_skb(); syn_fastopen_child, from tcp_try_fastopen(), on
 * recent kernels only). tcp_disconnect() clears them after ->CLOSE.
 */
static __always_inline int handshake_fast_open(const struct tcp_sock *tp, int btf)
{
	if (TW_READ_BITFIELD(btf, tp, syn_data_acked))
		return 1;
	return bpf_core_field_exists(tp->syn_fastopen_child) &&
	       TW_READ_BITFIELD(btf, tp, syn_fastopen_child);
}

/*
 * An accepted connection's handshake, as the final ACK moves it to
 * ESTABLISHED. A Fast Open child's began at the SYN, with the socket, and
 * the SYN-ACKs it resent are counted as they go (on_retransmit_synack_btf).
 */
static __always_inline void note_passive_established(struct tw_conn *c, const struct sock *sk,
						     __u64 now, int btf)
{
	const struct tcp_sock *tp = tcp_sock_of(sk, btf);

	if (tp && !handshake_fast_open(tp, btf))
		note_passive_handshake(c, tp, now, btf);
}

/* Counters the socket takes with it: read at close, or live at exit. */
static __always_inline void note_counters(struct tw_conn *c, const struct sock *sk, int btf)
{
	const struct tcp_sock *tp = tcp_sock_of(sk, btf);

	if (!tp)
		return;
	c->rx_bytes = TW_READ(btf, tp, bytes_received);
	c->tx_bytes = TW_READ(btf, tp, bytes_acked);
	c->srtt_us = TW_READ(btf, tp, srtt_us) >> 3;
	c->flags |= TW_CONN_COUNTERS_KNOWN;
	if (handshake_fast_open(tp, btf))
		c->flags |= TW_CONN_FAST_OPEN;
	death_row_load(sk, &c->tw_count, &c->tw_max, btf);
}

/*
 * At ->CLOSE (tcp_set_state() runs before tcp_done() sets sk_shutdown): did
 * the peer's FIN arrive (tcp_fin() sets SOCK_DONE), had the application
 * closed the socket (SOCK_DEAD), which error ended it, and, from LAST_ACK or
 * CLOSING, was our FIN acknowledged (TW_CONN_FIN_UNACKED; tcp_disconnect()
 * sets the state before it clears the sequence numbers).
 */
static __always_inline void note_close(struct tw_conn *c, const struct sock *sk, __u8 old_state,
				       int btf)
{
	__u64 sk_flags = TW_READ(btf, sk, __sk_common.skc_flags);
	const struct tcp_sock *tp;

	if (sk_flags & (1ull << SOCK_DONE))
		c->flags |= TW_CONN_PEER_FIN;
	if (sk_flags & (1ull << SOCK_DEAD))
		c->flags |= TW_CONN_ORPHAN;
	c->sk_err = TW_READ(btf, sk, sk_err);
	note_counters(c, sk, btf);
	if (old_state != TW_LAST_ACK && old_state != TW_CLOSING)
		return;
	tp = tcp_sock_of(sk, btf);
	if (tp && TW_READ(btf, tp, snd_una) != TW_READ(btf, tp, write_seq))
		c->flags |= TW_CONN_FIN_UNACKED;
}

/* A transition record: one just made, or one held back (tw_held) until the filters decided. */
static __always_inline void emit_transition(struct tw_sock_state *st, const struct tw_held *h,
					    const struct tw_endpoints *ep)
{
	struct tw_state_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	/* The socket remembers the loss; its next record that gets through says so. */
	if (!e) {
		count_lost();
		st->lost = 1;
		return;
	}
	e->type = TW_REC_STATE;
	e->old_state = h->old_state;
	e->new_state = h->new_state;
	e->flags = h->flags | (st->lost ? TW_EV_LOST_BEFORE : 0);
	st->lost = 0;
	e->netns = st->conn.netns;
	e->ts_ns = h->ts_ns;
	e->cookie = st->conn.cookie;
	e->dur_ns = h->dur_ns;
	e->cgroup_id = st->conn.cgroup_id;
	e->owner = st->conn.owner;
	e->ep = *ep;
	bpf_ringbuf_submit(e, wakeup_flag(sizeof(*e)));
}

/* The endpoint fields a held transition did not know yet. */
static __always_inline __u8 unknown_endpoints(const struct tw_endpoints *ep)
{
	return (ep->lport ? 0 : TW_HELD_NO_LPORT) | (ep->rport ? 0 : TW_HELD_NO_RPORT) |
	       (is_zero_addr(ep->laddr) ? TW_HELD_NO_LADDR : 0) |
	       (is_zero_addr(ep->raddr) ? TW_HELD_NO_RADDR : 0);
}

/* The held transitions leave, in order, showing the endpoints as they knew them. */
static __always_inline void release_held(struct tw_sock_state *st)
{
	struct tw_endpoints ep;
	__u32 i;

	for (i = 0; i < TW_HELD_MAX && i < st->nheld; i++) {
		__u8 unknown = st->held[i].unknown;

		ep = st->conn.ep;
		if (unknown & TW_HELD_NO_LPORT)
			ep.lport = 0;
		if (unknown & TW_HELD_NO_RPORT)
			ep.rport = 0;
		if (unknown & TW_HELD_NO_LADDR)
			__builtin_memset(ep.laddr, 0, 16);
		if (unknown & TW_HELD_NO_RADDR)
			__builtin_memset(ep.raddr, 0, 16);
		emit_transition(st, &st->held[i], &ep);
	}
	st->nheld = 0;
}

/*
 * --events: the transition leaves; or, while the filters cannot decide
 * (owner or endpoints not known yet), it waits in the socket's state and
 * shares the fate of the next one they can decide. tuple is the tuple
 * filters' verdict (not a drop: those never get here).
 */
static __always_inline void transition_out(struct transition *t, struct tw_sock_state *st,
					   int fresh, int tuple)
{
	/* The start-up walk only estimated when its state began (tw_age_from). */
	int dur_known = !fresh && st->age_from == TW_AGE_TRANSITION;
	struct tw_held h = {
		.ts_ns = t->ts_ns,
		.dur_ns = dur_known ? t->ts_ns - st->state_start_ns : 0,
		.old_state = t->old_state,
		.new_state = t->new_state,
		.flags = (t->process_ctx ? TW_EV_PROCESS_CTX : 0) |
			 ((st->conn.flags & TW_CONN_OWNER_KNOWN) ? TW_EV_OWNER_KNOWN : 0) |
			 (dur_known ? TW_EV_DUR_KNOWN : 0),
	};
	int v = filters ? filter_and(tuple, filter_owner(&st->conn, t->new_state == TW_CLOSE)) :
			  TW_FILTER_PASS;

	if (v == TW_FILTER_PASS) {
		if (filters)
			release_held(st);
		emit_transition(st, &h, &t->ep);
	} else if (v == TW_FILTER_PENDING) {
		if (st->nheld >= TW_HELD_MAX) {
			count(TW_CNT_HELD_DROPPED);
			return;
		}
		h.unknown = unknown_endpoints(&t->ep);
		st->held[st->nheld & (TW_HELD_MAX - 1)] = h;
		st->nheld++;
	} else {
		filter_count(v, 1 + st->nheld);
		st->nheld = 0;
	}
}

/*
 * The connection record leaves; watch_key is the timewait socket its
 * orphan's FIN_WAIT2 goes on in, if any is to be watched. The record is
 * reserved first, so that the end record of its hand-over, reserved later,
 * comes after it.
 */
static __always_inline void emit_connection(struct tw_sock_state *st, __u64 watch_key,
					    __u64 now)
{
	struct tw_conn *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count_lost();
		return;
	}
	if (watch_key && handover_watch(watch_key, &st->conn, now))
		st->conn.flags |= TW_CONN_HANDOVER_WATCHED;
	__builtin_memcpy(r, &st->conn, sizeof(*r));
	bpf_ringbuf_submit(r, wakeup_flag(sizeof(*r)));
}

/*
 * A socket with no state yet: 1 if the tuple filters drop it at this
 * transition, so that it never gets any. Counted where a record was due:
 * each transition with --events, else the connection at its ->CLOSE (a
 * listener's is none).
 */
static __always_inline int filtered_untracked(struct transition *t)
{
	int final = t->new_state == TW_CLOSE;

	if (!(filters & TW_F_TUPLE))
		return 0;
	t->filter = filter_tuple(&t->ep, t->netns, t->sk, final);
	if (!filter_dropped(t->filter))
		return 0;
	filter_count(t->filter,
		     emit_transitions || (emit_connections && final && t->old_state != TW_LISTEN));
	return 1;
}

/* The tuple filters' verdict on the connection, taken once its endpoints allow. */
static __always_inline int tuple_verdict(struct transition *t, struct tw_sock_state *st)
{
	if (!(filters & TW_F_TUPLE))
		return TW_FILTER_PASS;
	if (st->filter == TW_FILTER_PENDING)
		st->filter = t->filter ? t->filter :
					 filter_tuple(&t->ep, t->netns, t->sk,
						      t->new_state == TW_CLOSE);
	return st->filter;
}

/*
 * A connection the tuple filters dropped: nothing of it leaves, and only the
 * timeline is kept, to tell at its ->CLOSE whether a record was due.
 */
static __always_inline void filtered_transition(struct transition *t, struct tw_sock_state *st)
{
	timeline_add(&st->conn, t->new_state, t->ts_ns);
	if (emit_transitions) {
		filter_count(st->filter, 1 + st->nheld);
		st->nheld = 0;
	}
	if (t->new_state != TW_CLOSE)
		return;
	if (emit_connections && tw_is_connection(&st->conn))
		filter_count(st->filter, 1);
	timeline_end(st, t->sk);
}

/* The connection record is due: the owner filters decide now (and its late RST follows them). */
static __always_inline int owner_filtered(struct tw_sock_state *st)
{
	int v = filter_owner(&st->conn, 1);

	if (!filter_dropped(v))
		return 0;
	filter_count(v, 1);
	st->filter = v;
	return 1;
}

/*
 * A connection closed in softirq (reset, timed out) whose owner nobody has
 * named yet, while a process still holds the socket: that process is the
 * owner, and it names itself when it closes the socket (tcp_destroy_sock).
 * Its record waits till then, or till the walks at exit find the holder.
 * Only a socket with a file of its own waits, as the walks can find it in a
 * process's files: not a kernel socket (no file), nor an MPTCP subflow
 * (grafted to its MPTCP socket, whose socket->sk is not the subflow). An
 * unaccepted child has no holder: its record leaves with no owner.
 */
static __always_inline int awaits_owner(const struct tw_conn *c, const struct sock *sk, int btf)
{
	const struct socket *sock;

	if (!owner_may_wait || (c->flags & (TW_CONN_OWNER_KNOWN | TW_CONN_ORPHAN)))
		return 0;
	sock = TW_READ(btf, sk, sk_socket);
	return sock && TW_READ(btf, sock, file) && TW_READ(btf, sock, sk) == sk;
}

/* The record that waited for its owner leaves, named by the process acting now, if any. */
static __always_inline void release_awaited(struct tw_sock_state *st, const void *sk,
					    int process_ctx, int btf)
{
	st->awaits_owner = 0;
	if (process_ctx)
		take_current_as_owner(&st->conn, btf);
	if (!owner_filtered(st))
		emit_connection(st, 0, 0);
	timeline_end(st, sk);
}

/*
 * The work common to both attach modes. st is this socket's state, zeroed
 * when the socket is new to us (fresh says so); btf: t->sk has its BTF type
 * (see TW_READ).
 */
static __always_inline void on_transition(struct transition *t, struct tw_sock_state *st,
					  int fresh, int btf)
{
	struct tw_conn *c = &st->conn;
	__u64 tw_key = 0;
	int tuple, watch = 0;

	/* The socket is used again (connect() after a reset): its last record leaves first. */
	if (st->awaits_owner)
		release_awaited(st, t->sk, t->process_ctx, btf);
	/*
	 * A connection that would begin now is past the end of tracing
	 * (tracing_ends): its socket's state is left unbegun (no type), so
	 * that its later transitions, resets and retransmits are passed over
	 * too and the walks do not list it.
	 */
	if (tracing_ends && (!c->type || st->emitted)) {
		c->type = 0;
		return;
	}
	if (fresh) {
		c->cookie = t->cookie ? t->cookie :
					SYNTHETIC_ID_BASE + __sync_fetch_and_add(&next_synthetic_id, 1);
		c->cgroup_id = t->cgroup_id;
		timeline_begin(st, t);
		/*
		 * Seen midway: open before tracing began, or untracked until now
		 * for want of room, its earlier transitions lost.
		 */
		if (sock_dropped && t->old_state != TW_CLOSE && t->old_state != TW_LISTEN) {
			mark_lost(st);
		}
	} else if (st->emitted && t->old_state == TW_CLOSE) {
		timeline_begin(st, t);
	} else if (!st->emitted && c->nsteps &&
		   t->old_state != c->step_state[(c->nsteps - 1) & (TW_STEPS_MAX - 1)]) {
		/* A transition in between never reached us: the kernel skipped our program. */
		mark_lost(st);
	}
	carry_endpoints(&t->ep, &c->ep);
	tuple = tuple_verdict(t, st);
	if (filter_dropped(tuple)) {
		filtered_transition(t, st);
		return;
	}
	if (t->old_state == TW_SYN_RECV && t->new_state == TW_ESTABLISHED &&
	    c->first_old_state == TW_LISTEN && c->nsteps == 1)
		note_passive_established(c, t->sk, t->ts_ns, btf);
	timeline_add(c, t->new_state, t->ts_ns);
	c->netns = t->netns;
	st->walked = 0;
	if (t->process_ctx)
		take_current_as_owner(c, btf);

	if (emit_transitions)
		transition_out(t, st, fresh, tuple);
	/* A socket first seen going from a state to itself was in it already. */
	if (fresh || t->old_state != t->new_state) {
		st->state_start_ns = t->ts_ns;
		st->age_from = t->old_state != t->new_state ? TW_AGE_TRANSITION : TW_AGE_FIRST_SEEN;
	}
	/* An orphan's FIN_WAIT2 handed to a timewait socket goes on there. */
	if (t->old_state == TW_FIN_WAIT2 && t->new_state == TW_CLOSE) {
		watch = handover_worth_watching(&c->ep);
		if (watch || stuck_after_ns)
			tw_key = orphan_timewait(t->sk, c, watch);
	}
	stuck_track(t, st, tw_key);

	if (t->new_state != TW_CLOSE)
		return;
	if (emit_connections && tw_is_connection(c)) {
		note_close(c, t->sk, t->old_state, btf);
		if (awaits_owner(c, t->sk, btf)) {
			st->awaits_owner = 1;
			return;
		}
		if (!owner_filtered(st))
			emit_connection(st, watch ? tw_key : 0, t->ts_ns);
	}
	timeline_end(st, t->sk);
}

/*
 * A socket is destroyed (tcp_destroy_sock, from tcp_v4_destroy_sock()) only
 * after its ->CLOSE, unless the kernel skipped our program there: it does
 * when the program is already running on that CPU and a softirq nests in it
 * (bpf_prog_info.recursion_misses, which userspace reports). The connection
 * would then leave no record: it gets its ->CLOSE now, marked as having
 * lost events. Its endpoints come from what was kept (carry_endpoints()).
 */
static __always_inline void close_if_missed(const struct sock *sk, struct tw_sock_state *st,
					    int btf)
{
	struct tw_conn *c = &st->conn;
	struct transition t = {};

	if (st->emitted || !c->nsteps)
		return;
	t.sk = sk;
	t.ts_ns = bpf_ktime_get_ns();
	t.old_state = c->step_state[(c->nsteps - 1) & (TW_STEPS_MAX - 1)];
	t.new_state = TW_CLOSE;
	t.netns = c->netns;
	t.ep.family = c->ep.family;
	mark_lost(st);
	on_transition(&t, st, 0, btf);
}

#define RCV_SHUTDOWN 1

/*
 * A RST received now may be the kernel's abort on data (see tw_note_reset()):
 * in FIN_WAIT1/2, our reception shut down by close() or shutdown(SHUT_RD).
 * (The peer's FIN shuts it down too, in the other close states, where a
 * peer sending data after its FIN is too rare to hold its RSTs back for.)
 */
static __always_inline int maybe_abort_on_data(const struct sock *sk, __u8 state)
{
	return (state == TW_FIN_WAIT1 || state == TW_FIN_WAIT2) &&
	       (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown) & RCV_SHUTDOWN);
}

/* A RST after the record of connection cookie left at ->CLOSE: on its own (struct tw_reset). */
static __always_inline void emit_late_reset(__u64 cookie, int sent, __u16 reason)
{
	struct tw_reset *r;

	if (!emit_connections)
		return;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count_lost();
		return;
	}
	r->type = TW_REC_RESET;
	r->sent = sent;
	r->reason = reason;
	r->pad = 0;
	r->cookie = cookie;
	r->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(r, wakeup_flag(sizeof(*r)));
}

/* A RST sent or received. */
static __always_inline void on_reset(const struct sock *sk, struct tw_sock_state *st, int sent,
				     __u16 reason)
{
	struct tw_conn *c = &st->conn;
	__u8 state;

	if (!c->type || (filters && filter_dropped(st->filter)))
		return;
	if (st->emitted) {
		emit_late_reset(c->cookie, sent, reason);
		return;
	}
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	tw_note_reset(c, state, sent, reason, !sent && maybe_abort_on_data(sk, state));
}

/*
 * An orphan aborted on data (see tw_note_reset()) is destroyed in tcp_done()
 * before tcp_v4_do_rcv() sends its RST, which then finds no state. Its
 * destruction leaves the socket and its record's cookie here, on its CPU,
 * for that RST: both run in one softirq, microseconds apart.
 */
struct destroyed_orphan {
	__u64 sk;
	__u64 cookie;
	__u64 ts_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct destroyed_orphan);
} destroyed_orphans SEC(".maps");

#define DESTROYED_ORPHAN_RST_NS 1000000 /* a stale entry never names a later socket */

static __always_inline void remember_if_maybe_aborted(const struct sock *sk,
						      const struct tw_sock_state *st)
{
	struct destroyed_orphan *d;
	__u32 zero = 0;

	if (!st->emitted || !(st->conn.flags & TW_CONN_RESET_MAYBE_OURS) ||
	    (filters && filter_dropped(st->filter)))
		return;
	d = bpf_map_lookup_elem(&destroyed_orphans, &zero);
	if (!d)
		return;
	d->sk = (__u64)sk;
	d->cookie = st->conn.cookie;
	d->ts_ns = bpf_ktime_get_ns();
}

/* Our RST from a socket with no state: a destroyed orphan's abort, if it was that socket. */
static __always_inline void reset_of_destroyed(const struct sock *sk, __u16 reason)
{
	struct destroyed_orphan *d;
	__u32 zero = 0;

	d = bpf_map_lookup_elem(&destroyed_orphans, &zero);
	if (!d || d->sk != (__u64)sk || bpf_ktime_get_ns() - d->ts_ns > DESTROYED_ORPHAN_RST_NS)
		return;
	d->sk = 0;
	emit_late_reset(d->cookie, 1, reason);
}

/* The socket is destroyed; process_ctx: by its process's close(). */
static __always_inline void on_destroy(const struct sock *sk, struct tw_sock_state *st,
				       int process_ctx, int btf)
{
	if (st->awaits_owner)
		release_awaited(st, sk, process_ctx, btf);
	else
		close_if_missed(sk, st, btf);
	remember_if_maybe_aborted(sk, st);
}

/* A retransmitted segment, classified by what it carried. */
static __always_inline void on_retransmit(struct tw_sock_state *st, __u16 tcp_flags)
{
	__u32 kind;

	if (!st->conn.type || (filters && filter_dropped(st->filter)))
		return;
	if (tcp_flags & TCPHDR_SYN)
		kind = (tcp_flags & TCPHDR_ACK) ? TW_RETRANS_SYNACK : TW_RETRANS_SYN;
	else if (tcp_flags & TCPHDR_FIN)
		kind = TW_RETRANS_FIN;
	else
		kind = TW_RETRANS_DATA;
	st->conn.retrans[kind & (TW_RETRANS_MAX - 1)]++;
}

/* TCP_SKB_CB(skb)->tcp_flags: the control block lives in skb->cb. */
static __always_inline __u16 skb_tcp_flags(const struct sk_buff *skb)
{
	const struct tcp_skb_cb *tcb = (const void *)skb->cb;

	return BPF_CORE_READ(tcb, tcp_flags);
}

#endif /* TCPWAVE_SOCK_STATE_BPF_H */
