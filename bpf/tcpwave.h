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

/* The process a socket belongs to: whoever connected, accepted or closed it. */
struct tw_owner {
	__u32 pid; /* thread id */
	__u32 tgid; /* process id */
	char comm[TW_COMM_LEN];
};

/* tw_state_event.flags */
#define TW_EV_PROCESS_CTX (1u << 0) /* ran in the owner's process context */
#define TW_EV_OWNER_KNOWN (1u << 1) /* owner is valid */
#define TW_EV_DUR_KNOWN (1u << 2) /* dur_ns is valid: we saw the old state begin */

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

/* Indexes of the per-CPU counter array "counters". */
enum tw_counter {
	TW_CNT_LOST = 0, /* ring buffer full: a record could not be reserved */
	TW_CNT_ACCEPT_DROPPED, /* accept owner table full: an owner was not recorded */
	TW_CNT_SOCK_DROPPED, /* classic mode socket table full: socket tracked without state */
	TW_CNT_MAX,
};

#endif /* TCPWAVE_H */
