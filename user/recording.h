/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recording format that --write saves and --read replays, version 1
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

/* PNG's trick: the high byte and CR LF catch 7-bit and text-mode transfers. */
#define RECORDING_MAGIC "\x89TCPWAVE\r\n\x1a\n"
#define RECORDING_MAGIC_LEN 12
/* Written as a native uint32_t: 04 03 02 01 on a little-endian host. */
#define RECORDING_BYTE_ORDER_MARK 0x01020304u
#define RECORDING_VERSION 1

/* Where each header field starts (version 1). */
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
	RECORDING_HEADER_LEN = 64,	   /* what version 1 writes */
};
/* A later writer may append header fields; a reader skips them, up to this. */
#define RECORDING_HEADER_MAX 4096

/* The recording holds transitions (--events), not connection records. */
#define RECORDING_FLAG_EVENTS (1u << 0)

/* What the classification and the formatters need from the host that traced. */
struct recording_header {
	int64_t real_minus_mono_ns; /* CLOCK_REALTIME minus CLOCK_MONOTONIC at start */
	uint64_t fin_timeout_ns;    /* net.ipv4.tcp_fin_timeout */
	uint64_t time_wait_ns;	    /* TCP_TIMEWAIT_LEN */
	uint32_t flags;		    /* RECORDING_FLAG_* */
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
};
#define RECORDING_FRAME_TYPE_MAX RECORDING_FRAME_END

#define RECORDING_COUNTERS_MAX 64
/* An RST reason: uint32_t value, then its name, NUL-padded. */
#define RECORDING_RST_REASON_LEN 48
#define RECORDING_RST_NAME_LEN 44
#define RECORDING_RST_REASONS_MAX 64

#endif
