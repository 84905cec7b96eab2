/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records that cross the ring buffer from bpf/tcpwave.bpf.c to user/.
 * Both sides include this file; it is the whole contract between them.
 * Fixed-width types only, and every struct is laid out without implicit
 * padding so that a recording written on one build reads the same on another.
 */
#ifndef TCPWAVE_H
#define TCPWAVE_H

#define TW_COMM_LEN 16

/* Kernel TCP state numbers (include/net/tcp_states.h). */
enum tw_tcp_state {
	TW_ESTABLISHED = 1,
	TW_SYN_SENT = 2,
	TW_SYN_RECV = 3,
	TW_FIN_WAIT1 = 4,
	TW_FIN_WAIT2 = 5,
	TW_TIME_WAIT = 6,
	TW_CLOSE = 7,
	TW_CLOSE_WAIT = 8,
	TW_LAST_ACK = 9,
	TW_LISTEN = 10,
	TW_CLOSING = 11,
	TW_NEW_SYN_RECV = 12,
	TW_STATE_MAX = 13,
};

enum tw_record_type {
	TW_REC_STATE = 1, /* one state transition (struct tw_state_event) */
	TW_REC_CONN = 2, /* one connection's whole timeline (struct tw_conn) */
	TW_REC_RESET = 3, /* a reset after the connection record left (struct tw_reset) */
	TW_REC_STUCK = 4, /* a connection sitting in a close state (struct tw_stuck) */
	/* how an orphan's FIN_WAIT2 in a timewait socket ended (struct tw_handover_end) */
	TW_REC_HANDOVER_END = 5,
};

/* Both ends of a socket. IPv4 addresses use the first 4 bytes of the arrays. */
struct tw_endpoints {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport; /* host byte order */
	__u16 rport; /* host byte order */
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 pad;
};

/* The process a socket belongs to: whoever connected, first read or wrote, or closed it. */
struct tw_owner {
	__u32 pid; /* thread id */
	__u32 tgid; /* process id */
	char comm[TW_COMM_LEN];
};

/* tw_state_event.flags */
#define TW_EV_PROCESS_CTX (1u << 0) /* ran in the owner's process context */
#define TW_EV_OWNER_KNOWN (1u << 1) /* owner is valid */
#define TW_EV_DUR_KNOWN (1u << 2) /* dur_ns is valid: we saw the old state begin */
/* Records of this socket were lost before this one: ring buffer full, or no room for its state. */
#define TW_EV_LOST_BEFORE (1u << 3)

struct tw_state_event {
	__u8 type; /* TW_REC_STATE */
	__u8 old_state;
	__u8 new_state;
	__u8 flags;
	__u32 netns; /* network namespace inode */
	__u64 ts_ns; /* CLOCK_MONOTONIC */
	__u64 cookie; /* socket cookie, as `ss -e` prints it */
	__u64 dur_ns; /* time spent in old_state */
	__u64 cgroup_id; /* cgroup v2 id of the socket */
	struct tw_owner owner;
	struct tw_endpoints ep;
};

/*
 * One connection, accumulated in the socket's storage and handed over once,
 * at its final ->CLOSE (or, still open, when tracing ends).
 *
 * Its timeline is the list of states entered, each with its offset from
 * start_ns. Step 0 is the first state known: SYN_SENT for connect()
 * (first_old_state CLOSE), SYN_RECV for an accepted connection (first_old_state
 * LISTEN; start_ns is then moved back to when the first SYN-ACK left, see
 * handshake_us), or, for a connection already open when tracing began, the
 * state it was in when first seen (at offset 0, its real start unknown).
 */
#define TW_STEPS_MAX 8

enum tw_retrans_kind {
	TW_RETRANS_SYN = 0,
	TW_RETRANS_SYNACK,
	TW_RETRANS_FIN,
	TW_RETRANS_DATA,
	TW_RETRANS_MAX,
};

/* tw_conn.flags */
#define TW_CONN_OWNER_KNOWN (1u << 0)
#define TW_CONN_TRUNCATED (1u << 1) /* more states than TW_STEPS_MAX: the last replaced */
#define TW_CONN_OPEN (1u << 2) /* still open when tracing ended */
#define TW_CONN_PEER_FIN (1u << 3) /* the peer's FIN arrived (SOCK_DONE at close) */
#define TW_CONN_ORPHAN (1u << 4) /* its application had closed it (SOCK_DEAD at close) */
#define TW_CONN_RESET_SENT (1u << 5) /* we sent a RST */
#define TW_CONN_RESET_RECEIVED (1u << 6) /* the peer sent a RST */
#define TW_CONN_RESET_SENT_FIRST (1u << 7) /* of the two, ours came first */
#define TW_CONN_HANDSHAKE_KNOWN (1u << 8) /* handshake_us is valid (accepted connections) */
#define TW_CONN_COUNTERS_KNOWN (1u << 9) /* rx_bytes, tx_bytes, srtt_us, tw_* are valid */
/*
 * Part of the story may be missing: its first transitions went untracked
 * (no room for its state).
 * Userspace also sets it on a record whose late RST may have been lost.
 */
#define TW_CONN_LOST_EVENTS (1u << 10)
/*
 * Handed to a timewait socket in the FIN_WAIT2 substate, which the kernel
 * side watches: a struct tw_handover_end follows when it ends.
 */
#define TW_CONN_HANDOVER_WATCHED (1u << 11)
/*
 * The RST received (TW_CONN_RESET_RECEIVED) came in FIN_WAIT1/2 with our
 * reception shut down, where it may have been the kernel's abort on data:
 * see tw_note_reset().
 */
#define TW_CONN_RESET_MAYBE_OURS (1u << 12)
/*
 * LAST_ACK or CLOSING ended with our FIN not acknowledged (snd_una short of
 * write_seq at ->CLOSE): not the ACK that ends them, but an abort, which in
 * these states sends no RST (tcp_disconnect(): SO_LINGER 0), or a RST or a
 * retransmission timeout, which say so themselves.
 */
#define TW_CONN_FIN_UNACKED (1u << 13)
/*
 * TCP Fast Open: the SYN carried data the server took. An accepted socket
 * was made at the SYN (syn_fastopen_child), so its SYN_RECV began then and
 * its application may answer, even close, before the handshake's final
 * ACK; a connect()'s SYN-ACK acknowledged the SYN's data (syn_data_acked).
 */
#define TW_CONN_FAST_OPEN (1u << 14)

struct tw_conn {
	__u8 type; /* TW_REC_CONN */
	__u8 nsteps; /* valid entries in step_ns and step_state */
	__u8 first_old_state; /* the state before step 0 */
	__u8 reset_state; /* the state when the first RST was sent or received */
	__u32 flags; /* TW_CONN_* */
	__u64 cookie;
	__u64 start_ns; /* CLOCK_MONOTONIC time of step 0 */
	__u64 cgroup_id;
	__u32 netns;
	__u16 sk_err; /* the socket's error at close: ETIMEDOUT, ECONNREFUSED, ... */
	__u16 reset_reason; /* the kernel's enum sk_rst_reason for the RST we sent */
	/*
	 * Accepted connections: from the first SYN-ACK sent to the final ACK
	 * received, as the kernel measured it (tcp_synack_rtt_meas() into
	 * srtt_us, or total_rto_time when the SYN-ACK was retransmitted).
	 */
	__u32 handshake_us;
	__u32 srtt_us; /* smoothed RTT at close */
	__u64 rx_bytes; /* tcp_sock.bytes_received at close */
	__u64 tx_bytes; /* tcp_sock.bytes_acked at close */
	__u32 retrans[TW_RETRANS_MAX];
	__u32 tw_count; /* TIME_WAIT sockets in the namespace at close */
	__u32 tw_max; /* net.ipv4.tcp_max_tw_buckets */
	__u64 step_ns[TW_STEPS_MAX]; /* offset of each step from start_ns */
	__u8 step_state[TW_STEPS_MAX]; /* the state entered at each step */
	struct tw_owner owner;
	struct tw_endpoints ep;
};

/* A RST on a socket whose connection record already left: the kernel sends
 * the RST of an abort (SO_LINGER 0, close() with unread data) just after
 * the socket's ->CLOSE. Userspace joins it to the record by cookie. */
struct tw_reset {
	__u8 type; /* TW_REC_RESET */
	__u8 sent; /* 1: we sent it; 0: the peer did */
	__u16 reason; /* enum sk_rst_reason, when sent */
	__u32 pad;
	__u64 cookie;
	__u64 ts_ns;
};

/*
 * How the start of a socket's current state was learned. Only a state
 * tcpwave saw begin has an exact start; for a connection that was open
 * before tracing began, the start-up walk takes the latest time the kernel
 * vouches for, so the age it gives is a lower bound.
 */
enum tw_age_from {
	TW_AGE_TRANSITION = 0, /* tcpwave saw the state begin */
	/*
	 * The kernel's time of the last ACK received (tcp_sock.rcv_tstamp),
	 * for states entered on a segment received: CLOSE_WAIT, FIN_WAIT2,
	 * CLOSING. Exact when nothing arrived since.
	 */
	TW_AGE_LAST_ACK,
	/* When a timewait socket took over (inet_timewait_sock.tw_entry_stamp). */
	TW_AGE_TIMEWAIT,
	/*
	 * No clue in the kernel: when tcpwave first saw the socket in that
	 * state (the start-up walk, or a first transition from it to itself).
	 */
	TW_AGE_FIRST_SEEN,
	TW_AGE_MAX,
};

/*
 * A connection that has sat in CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2, LAST_ACK
 * or CLOSING for at least --stuck, reported while it is still there. One
 * per stay in such a state.
 */
struct tw_stuck {
	__u8 type; /* TW_REC_STUCK */
	__u8 state; /* the state it sits in */
	__u8 age_from; /* enum tw_age_from: how state_start_ns was learned */
	/* How it opened: its first state known, and the one before (as in struct tw_conn). */
	__u8 first_old_state;
	__u8 first_state;
	__u8 pad[3];
	__u32 flags; /* TW_CONN_OWNER_KNOWN; TW_CONN_ORPHAN: its application has closed it */
	__u32 netns;
	__u64 cookie;
	__u64 ts_ns; /* when the check found it (CLOCK_MONOTONIC) */
	__u64 state_start_ns; /* in `state` since then, at least */
	__u64 start_ns; /* when its first state known began (struct tw_conn's start_ns) */
	__u64 cgroup_id;
	struct tw_owner owner;
	struct tw_endpoints ep;
};

/* How a watched FIN_WAIT2 hand-over ended (tw_handover_end.end). */
enum tw_handover_end_kind {
	TW_HANDOVER_PEER_FIN = 1, /* the peer's FIN: TIME_WAIT from ts_ns (to the jiffy) */
	TW_HANDOVER_LOCAL_RESET = 2, /* the peer sent data: our RST, at ts_ns */
	TW_HANDOVER_TIMEOUT = 3, /* no FIN in time: gone past the kernel's deadline, ts_ns */
	/*
	 * Gone before its deadline, unseen, between seen_ns and ts_ns: a RST
	 * from the peer (or, before Linux 6.10, ours to its data; or its
	 * namespace went away).
	 */
	TW_HANDOVER_GONE = 4,
};

/*
 * The end of a FIN_WAIT2 hand-over (TW_CONN_HANDOVER_WATCHED), joined to
 * its connection record by the cookie and local end.
 */
struct tw_handover_end {
	__u8 type; /* TW_REC_HANDOVER_END */
	__u8 end; /* enum tw_handover_end_kind */
	__u16 pad;
	__u32 netns;
	__u64 cookie;
	__u64 ts_ns; /* when it ended (CLOCK_MONOTONIC); for TW_HANDOVER_GONE, when found gone */
	__u64 seen_ns; /* the last time it was seen waiting (the hand-over, or a check) */
	struct tw_endpoints ep;
};

/*
 * How many FIN_WAIT2 hand-overs the kernel side watches at once. A check
 * walks every bucket of the table: 0.3 ms.
 */
#define TW_HANDOVERS_MAX 16384

/*
 * How many connections --stuck watches in close states at once. The check
 * walks every bucket of its table, so the size is its cost: 1.3 ms a check.
 */
#define TW_CLOSING_MAX 65536

/*
 * What the start-up walk found, by kind of socket. Connections are counted
 * by the state they were in; those the tracepoints had seen first are in
 * `known` instead.
 */
struct tw_snapshot_counts {
	__u32 conns[TW_STATE_MAX];
	__u32 known;
	__u32 untracked; /* no room for its state (socket storage or the classic table) */
	__u32 listeners;
	__u32 requests; /* request sockets: handshakes waiting for their final ACK */
	__u32 time_wait; /* timewait sockets in TIME_WAIT */
	/* Timewait sockets in the FIN_WAIT2 substate: orphans whose peer has not closed yet. */
	__u32 fin_wait2;
	__u32 owners_dropped; /* holders the owner walk had no room for (file_owners) */
};

/*
 * What the kernel side keeps per socket: the connection so far, and what it
 * needs between transitions. The value of the socket storage map (tp_btf
 * mode) and of the bounded socket table (classic mode), which userspace
 * reads at exit in that mode.
 */
/*
 * --events with filters: a transition the filters cannot decide yet (its
 * owner or, before connect() picks it, the local port not known) waits in the
 * socket's state and shares the fate of the socket's next transition that
 * they can decide. What it needs beyond the socket's state.
 */
#define TW_HELD_MAX 4
/* tw_held.unknown: endpoint fields not known yet at the held transition */
#define TW_HELD_NO_LPORT (1u << 0)
#define TW_HELD_NO_RPORT (1u << 1)
#define TW_HELD_NO_LADDR (1u << 2)
#define TW_HELD_NO_RADDR (1u << 3)

struct tw_held {
	__u64 ts_ns;
	__u64 dur_ns;
	__u8 old_state;
	__u8 new_state;
	__u8 flags; /* TW_EV_* */
	__u8 unknown; /* TW_HELD_NO_* */
	__u32 pad;
};

/* tw_sock_state.filter: what the filters on endpoints, netns and cgroup decided */
enum tw_filter_verdict {
	TW_FILTER_PENDING = 0, /* not yet: an endpoint they need is not known */
	TW_FILTER_PASS = 1,
	TW_FILTER_DROP = 2,
	TW_FILTER_DROP_NETNS = 3, /* dropped by --netns (checked first) */
};

struct tw_sock_state {
	struct tw_conn conn; /* owner and endpoints are kept up to date in it */
	__u64 state_start_ns; /* when the current state began */
	/*
	 * Closed (->CLOSE) with no owner known while a process still held the
	 * socket (a passive one reset before its process read, wrote or closed
	 * it): the record waits for that process's close (tcp_destroy_sock).
	 */
	__u8 awaits_owner;
	__u8 emitted; /* the connection record has left at ->CLOSE */
	__u8 filter; /* enum tw_filter_verdict, for the current connection */
	__u8 nheld; /* valid entries in held */
	__u8 age_from; /* enum tw_age_from: how state_start_ns was learned */
	/*
	 * Made by the start-up walk, and no transition since: not a connection
	 * tcpwave saw do anything, so not listed as still open at the end.
	 */
	__u8 walked;
	__u8 lost; /* --events: a record of this socket was lost since the last one left */
	__u8 pad[1];
	struct tw_held held[TW_HELD_MAX];
};

/* The process holding a socket's file, as the owner walk found it (file_owners). */
struct tw_holder {
	/*
	 * Guard against the socket's memory being reused before the entry is
	 * read: the cookie where the socket had one, else its ports.
	 */
	__u64 cookie;
	__u16 lport;
	__u16 rport;
	__u32 pad;
	struct tw_owner owner;
};

/*
 * Rules both sides apply: the kernel side as records leave, userspace when
 * it reads the classic mode's socket table at exit.
 */
#define TW_SHARED static inline __attribute__((always_inline))

/*
 * Listening sockets are not connections: a listener seen from its start
 * begins with LISTEN, one that was listening before tracing began shows just
 * LISTEN -> CLOSE, a single step CLOSE.
 */
TW_SHARED int tw_is_connection(const struct tw_conn *c)
{
	if (!c->nsteps || c->step_state[0] == TW_LISTEN)
		return 0;
	return c->nsteps > 1 || c->step_state[0] != TW_CLOSE;
}

/*
 * A loopback address: 127.0.0.0/8, ::1, or IPv4's mapped into IPv6. A peer
 * there is in the socket's own namespace. (AF_INET is 2 on every Linux.)
 */
TW_SHARED int tw_is_loopback(__u16 family, const __u8 addr[16])
{
	int i;

	if (family == 2)
		return addr[0] == 127;
	for (i = 0; i < 10; i++)
		if (addr[i])
			return 0;
	if (addr[10] == 0xff && addr[11] == 0xff)
		return addr[12] == 127;
	for (i = 10; i < 15; i++)
		if (addr[i])
			return 0;
	return addr[15] == 1;
}

/*
 * A holder entry is this socket's, not one left by an earlier socket at the
 * same address: same cookie, or (the socket had none then) the same ports.
 */
TW_SHARED int tw_holder_matches(const struct tw_holder *h, __u64 cookie,
				const struct tw_endpoints *ep)
{
	if (h->cookie)
		return h->cookie == cookie;
	return h->lport == ep->lport && h->rport == ep->rport;
}

/*
 * A RST sent or received, noted in the record; state is the socket's then.
 * tcp_reset() fires tcp_receive_reset for a RST that came in, and also when
 * data arrives after our reception was shut down (tcp_rcv_state_process():
 * close() or shutdown(SHUT_RD), then FIN_WAIT1/2 or a later close state):
 * the kernel's abort on data, whose RST we send just after (for an orphan,
 * after destroying it: see reset_of_destroyed()). A RST received in
 * FIN_WAIT1/2 with reception shut down (maybe_ours) is therefore noted as
 * the peer's until one of ours follows, which tells it was the abort: the
 * kernel never answers a RST with a RST.
 */
TW_SHARED void tw_note_reset(struct tw_conn *c, __u8 state, int sent, __u16 reason,
			     int maybe_ours)
{
	if (sent && (c->flags & TW_CONN_RESET_MAYBE_OURS)) {
		/* The abort began at the receive: its state stands, and it was ours. */
		c->flags &= ~(TW_CONN_RESET_RECEIVED | TW_CONN_RESET_MAYBE_OURS);
		c->flags |= TW_CONN_RESET_SENT_FIRST;
	} else if (!(c->flags & (TW_CONN_RESET_SENT | TW_CONN_RESET_RECEIVED))) {
		c->reset_state = state;
		if (sent)
			c->flags |= TW_CONN_RESET_SENT_FIRST;
	}
	if (sent) {
		c->flags |= TW_CONN_RESET_SENT;
		c->reset_reason = reason;
	} else {
		c->flags |= TW_CONN_RESET_RECEIVED;
		if (maybe_ours)
			c->flags |= TW_CONN_RESET_MAYBE_OURS;
	}
}

/* Indexes of the per-CPU counter array "counters". */
enum tw_counter {
	/*
	 * Ring buffer full: a record could not be reserved. Counted in
	 * records_lost (tcpwave.bpf.c), which the loader puts here.
	 */
	TW_CNT_LOST = 0,
	/*
	 * Unused: recordings keep each counter in its place. It counted
	 * accept() owners a table had no room for, before owners came from
	 * reads and writes (they need no table).
	 */
	TW_CNT_RETIRED_ACCEPT_DROPPED,
	TW_CNT_SOCK_DROPPED, /* classic mode socket table full: socket tracked without state */
	TW_CNT_FILTERED, /* records not delivered because a filter rejected them */
	TW_CNT_FILTERED_NETNS, /* of those, the ones --netns rejected */
	TW_CNT_HELD_DROPPED, /* more than TW_HELD_MAX transitions waited for a decision */
	/*
	 * Not counted by the BPF side: runs of our programs the kernel skipped
	 * because the program was already running on that CPU (an interrupt's
	 * softirq nested in it), each a transition, retransmit or reset never
	 * seen. The loader reads them from bpf_prog_info.recursion_misses.
	 */
	TW_CNT_MISSED,
	/* Counted by the BPF side again; after the others, as recordings keep their order. */
	TW_CNT_CLOSING_DROPPED, /* --stuck's table full: a connection in a close state unwatched */
	/* An orphan's FIN_WAIT2 hand-over not watched: its timewait socket not found, or no room */
	TW_CNT_HANDOVER_UNWATCHED,
	/*
	 * Timelines begun less those ended (at ->CLOSE: a record out, filtered,
	 * or no connection), over every socket with state. A CPU's own value
	 * wraps when another CPU ended what it began; their sum does not.
	 */
	TW_CNT_TIMELINES_OPEN,
	TW_CNT_LISTED_AT_EXIT, /* of those, the ones the exit walks found still open */
	TW_CNT_LISTED_ENDED, /* of those, the ones that ended before the programs were detached */
	/*
	 * Not counted by the BPF side, known once the exit walks have run: the
	 * timelines still open when the programs stopped (open, plus listed
	 * and ended) that were not listed, so left no record (see
	 * tracer_read_counters()).
	 */
	TW_CNT_UNREPORTED,
	/* tp_btf mode: sockets whose state went to socket storage, the slot their cookie names taken */
	TW_CNT_SLOT_TAKEN,
	TW_CNT_MAX,
};

/*
 * Filters, set by the loader: which are on (rodata, so that the verifier
 * prunes the code of those that are off), and the keys and values of the
 * maps that hold their values.
 */
#define TW_F_PID (1u << 0) /* -p: the owner's process id, map filter_pids */
#define TW_F_COMM (1u << 1) /* -c: the owner's name, map filter_comms */
#define TW_F_PORT (1u << 2) /* -P: either port, map filter_ports */
#define TW_F_LPORT (1u << 3) /* --lport */
#define TW_F_RPORT (1u << 4) /* --rport */
#define TW_F_LADDR (1u << 5) /* --laddr: maps filter_v4, filter_v6 */
#define TW_F_RADDR (1u << 6) /* --raddr */
#define TW_F_IPV4 (1u << 7) /* -4 */
#define TW_F_IPV6 (1u << 8) /* -6 */
#define TW_F_NETNS (1u << 9) /* --netns: map filter_netns */
#define TW_F_CGROUP (1u << 10) /* --cgroup: filter_cgroup_id/level */
#define TW_F_OWNER (TW_F_PID | TW_F_COMM)
#define TW_F_PORTS (TW_F_PORT | TW_F_LPORT | TW_F_RPORT)
#define TW_F_TUPLE                                                                                 \
	(TW_F_PORTS | TW_F_LADDR | TW_F_RADDR | TW_F_IPV4 | TW_F_IPV6 | TW_F_NETNS | TW_F_CGROUP)

/* filter_ports values: which options named the port */
#define TW_PORT_EITHER (1u << 0)
#define TW_PORT_LOCAL (1u << 1)
#define TW_PORT_REMOTE (1u << 2)

/*
 * filter_v4/filter_v6 values: the ends a prefix applies to. A trie lookup
 * finds only the longest matching prefix, so each entry also carries the
 * ends of every shorter prefix that contains it.
 */
#define TW_ADDR_LOCAL (1u << 0)
#define TW_ADDR_REMOTE (1u << 1)

struct tw_lpm_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct tw_lpm_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* --cgroup: at most this many subtrees, each tested as an ancestor of the socket's cgroup */
#define TW_CGROUPS_MAX 8

#endif /* TCPWAVE_H */
