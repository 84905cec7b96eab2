/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recording format that --write saves and --read replays, version 2
 * (docs/recording-format.md says it field by field). A header, then frames:
 * the records exactly as they came off the ring buffer, each with the
 * CLOCK_MONOTONIC time it came, and what the poll loop did between them, so
 * that a replay makes the same decisions and prints the same output.
 *
 * Every field is in the writer's byte order, which the header's byte-order
 * mark names; the records are the structs of bpf/tcpwave.h, whose sizes the
 * header carries.
 */
#ifndef TCPWAVE_RECORDING_H
#define TCPWAVE_RECORDING_H

#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

/* PNG's trick: the high byte and CR LF catch 7-bit and text-mode transfers. */
#define RECORDING_MAGIC "\x89TCPWAVE\r\n\x1a\n"
#define RECORDING_MAGIC_LEN 12
/* Written as a native uint32_t: 04 03 02 01 on a little-endian host. */
#define RECORDING_BYTE_ORDER_MARK 0x01020304u
#define RECORDING_VERSION 2
/* Version 1 lacks the cgroup and local address frames; a replay then asks its own host. */
#define RECORDING_VERSION_MIN 1

/* Where each header field starts (versions 1 and 2). */
enum recording_header_field {
	RECORDING_AT_MAGIC = 0,
	RECORDING_AT_BYTE_ORDER = 12,	   /* uint32_t */
	RECORDING_AT_VERSION = 16,	   /* uint32_t */
	RECORDING_AT_HEADER_LEN = 20,	   /* uint32_t: where the first frame starts */
	RECORDING_AT_REAL_MINUS_MONO = 24, /* int64_t */
	RECORDING_AT_FIN_TIMEOUT = 32,	   /* uint64_t */
	RECORDING_AT_TIME_WAIT = 40,	   /* uint64_t */
	RECORDING_AT_FLAGS = 48,	   /* uint32_t */
	RECORDING_AT_STATE_SIZE = 52,	   /* uint32_t: sizeof(struct tw_state_event) */
	RECORDING_AT_CONN_SIZE = 56,	   /* uint32_t: sizeof(struct tw_conn) */
	RECORDING_AT_RESET_SIZE = 60,	   /* uint32_t: sizeof(struct tw_reset) */
	RECORDING_HEADER_LEN = 64,	   /* what versions 1 and 2 write */
};
/* A later writer may append header fields; a reader skips them, up to this. */
#define RECORDING_HEADER_MAX 4096

/* The recording holds transitions (--events), not connection records. */
#define RECORDING_FLAG_EVENTS (1u << 0)
/*
 * Filters chose what the recording holds: a peer's record an orphan would
 * wait for may be missing, and a replay decides as the filtered run did.
 */
#define RECORDING_FLAG_FILTERED (1u << 1)
#define RECORDING_FLAGS_KNOWN (RECORDING_FLAG_EVENTS | RECORDING_FLAG_FILTERED)

/* What the classification and the formatters need from the host that traced. */
struct recording_header {
	int64_t real_minus_mono_ns; /* CLOCK_REALTIME minus CLOCK_MONOTONIC at start */
	uint64_t fin_timeout_ns;    /* net.ipv4.tcp_fin_timeout */
	uint64_t time_wait_ns;	    /* TCP_TIMEWAIT_LEN */
	uint32_t flags;		    /* RECORDING_FLAG_* */
	uint32_t version;	    /* the format version read (a writer writes its own) */
};

/* A frame: uint16_t type, uint16_t reserved (0), uint32_t length, uint64_t time_ns, payload. */
#define RECORDING_FRAME_HEADER_LEN 16
/* Records are a few hundred bytes; no frame may make a reader allocate more than this. */
#define RECORDING_FRAME_MAX 65536

enum recording_frame_type {
	/* A ring buffer record, opaque; time: when it came off the ring buffer. */
	RECORDING_FRAME_RECORD = 1,
	/* The poll loop released the finished connections due by time. Empty. */
	RECORDING_FRAME_RELEASE = 2,
	/* The kernel's counters (enum tw_counter order, uint64_t each), as read at time. */
	RECORDING_FRAME_COUNTERS = 3,
	/* The kernel's names of its RST reasons: entries of RECORDING_RST_REASON_LEN bytes. */
	RECORDING_FRAME_RST_REASONS = 4,
	/* Tracing stopped at time; the connections still open follow as records. Empty. */
	RECORDING_FRAME_FINISH = 5,
	/* The last frame of a complete recording. Empty. */
	RECORDING_FRAME_END = 6,
	/*
	 * Version 2. A cgroup's path as the tracing host saw it at time: uint64_t
	 * id, then the path (no NUL); none when the cgroup was gone. Written
	 * before the first record that names the cgroup, and again when its
	 * path changes.
	 */
	RECORDING_FRAME_CGROUP = 7,
	/*
	 * Version 2. The tracing host's interface addresses from time on
	 * (whether an orphan's peer can be on this host): entries of
	 * RECORDING_LOCAL_ADDR_LEN bytes. Written at start and when they change.
	 */
	RECORDING_FRAME_LOCAL_ADDRS = 8,
	/*
	 * Version 2. The start-up walk: struct tw_snapshot_counts, then uint32_t
	 * network namespaces walked, uint32_t 0, uint64_t how long it took (ns).
	 * After the header, when the walk ran.
	 */
	RECORDING_FRAME_SNAPSHOT = 9,
	/*
	 * Version 2. The TIME_WAIT and CLOSE_WAIT sockets of tcpwave's network
	 * namespace when tracing stopped (uint64_t each), for a replay's
	 * summary. Before the finish frame, when they could be counted.
	 */
	RECORDING_FRAME_SOCKETS = 10,
};
#define RECORDING_FRAME_TYPE_MAX RECORDING_FRAME_SOCKETS
#define RECORDING_FRAME_TYPE_MAX_V1 RECORDING_FRAME_END

#define RECORDING_COUNTERS_MAX 64
/* An RST reason: uint32_t value, then its name, NUL-padded. */
#define RECORDING_RST_REASON_LEN 48
#define RECORDING_RST_NAME_LEN 44
#define RECORDING_RST_REASONS_MAX 64
/* A cgroup frame: uint64_t id, then at most this many bytes of path. */
#define RECORDING_CGROUP_PATH_MAX 4095
/* A local address: uint16_t family (AF_INET, AF_INET6), uint16_t 0, 16 bytes (IPv4: 4, then 0). */
#define RECORDING_LOCAL_ADDR_LEN 20
#define RECORDING_SNAPSHOT_LEN (sizeof(struct tw_snapshot_counts) + 16)
#define RECORDING_SOCKETS_LEN 16

#endif
