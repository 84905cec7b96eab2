/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Getting the BPF side running: privilege and BTF checks, open, load,
 * attach (tp_btf, or the classic tracepoint where the kernel cannot), the
 * ring buffer, and the kernel's counters.
 */
#ifndef TCPWAVE_LOADER_H
#define TCPWAVE_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "netns_each.h"
#include "options.h"
#include "tcpwave.h"

struct tcpwave_bpf;

/* struct tracer's programs, by what they are for. */
enum tracer_prog {
	TRACER_STATE,
	TRACER_RETRANSMIT,
	TRACER_RETRANSMIT_SYNACK,
	TRACER_SEND_RESET,
	TRACER_RECEIVE_RESET,
	TRACER_DESTROY,
	/* Those before: a run the kernel skips loses part of a connection's story. */
	TRACER_STORY_PROGS,
	/* Reads and writes: they name an accepted socket's owner. */
	TRACER_RECEIVE = TRACER_STORY_PROGS,
	TRACER_SEND,
	TRACER_PROGS,
};

struct tracer {
	struct tcpwave_bpf *skel;
	struct ring_buffer *rb;
	/*
	 * This mode's: state, retransmit, SYN-ACK retransmit, send and receive reset, socket
	 * destroyed; then read and write, which name an accepted socket's owner
	 * (tp_btf mode only, where the kernel has them; else NULL).
	 */
	struct bpf_program *progs[TRACER_PROGS];
	struct bpf_link *links[TRACER_PROGS]; /* a program has one link at most */
	size_t nlinks;
	/*
	 * tp_btf mode: the iterators that list the connections still open at
	 * exit (the sockets processes hold, then the orphans of tcpwave's
	 * namespace), attached at setup while tcpwave may still create BPF
	 * links (see privilege.h); dump_err if that failed.
	 */
	struct bpf_link *dump_held_link, *dump_orphans_link;
	int dump_err;
	enum attach_mode mode; /* ATTACH_BTF or ATTACH_CLASSIC once open */
	int ncpus;
	/* BPF iterators; NULL where the kernel refused them (or no --stuck). */
	struct bpf_link *snapshot_link; /* the start-up walk (iter/tcp) */
	struct bpf_link *owners_link; /* the owner walk (iter/task_file) */
	struct tw_snapshot_counts snapshot; /* what the start-up walk found */
	struct netns_each_result snapshot_netns; /* in how many namespaces */
	uint64_t snapshot_ns; /* how long the start-up walk took, owner walk included */
	uint64_t stuck_checks; /* --stuck checks run */
	uint64_t stuck_check_ns; /* their time, all told */
	uint64_t stuck_check_max_ns; /* the longest */
	uint64_t misses; /* the programs' recursion misses (TW_CNT_MISSED), as last read */
	uint64_t misses_read_ns; /* when */
	uint64_t counters_read_ns; /* when the counters were last read */
	uint64_t lost_read; /* records_lost as then */
	bool listed_at_exit; /* see tracer_listed_at_exit() */
	uint64_t table_listed; /* classic mode: the open timelines its table held at exit */
	uint64_t listed_not_kept; /* of those listed, the ones userspace did not keep */
};

/*
 * Everything up to a running tracer, and every descriptor it will need
 * later; records go to on_record(ctx, ...).
 * Prints its own message (tcpwave: ...) on failure and returns a negative
 * errno.
 */
int tracer_open(struct tracer *t, const struct options *o, ring_buffer_sample_fn on_record,
		void *ctx);
/*
 * --stuck: hand each connection that has now sat in a close state for
 * options.stuck_ns to on_record (through the ring buffer), once per stay.
 * 1 when the ring buffer filled up first: check again once it is drained.
 */
int tracer_check_stuck(struct tracer *t);
/*
 * Look at the timewait sockets that took over orphans' FIN_WAIT2 (see
 * bpf/handover.bpf.h): those whose wait has ended send their end record
 * through the ring buffer. 0, 1 when some had no room there and wait for
 * the next check, or -errno.
 */
int tracer_check_handovers(struct tracer *t);
/* Whether the kernel side watches any such timewait socket now. */
bool tracer_handovers_pending(const struct tracer *t);
/* Wait up to timeout_ms for records, then hand over all that wait. */
int tracer_poll(struct tracer *t, int timeout_ms);
/* Sum of the kernel's per-CPU counters (enum tw_counter). */
int tracer_read_counters(struct tracer *t, uint64_t out[TW_CNT_MAX]);
/*
 * Whether to read the counters at this turn of the loop: a record was lost
 * since the last read (a memory read to learn), or that read is 100 ms old.
 */
bool tracer_counters_due(const struct tracer *t, uint64_t now_ns);
/* Detach the programs: nothing more enters the ring buffer. */
void tracer_detach(struct tracer *t);
/* From now on no connection begins; those begun go on to their end (see tracing_ends). */
void tracer_end_beginnings(struct tracer *t);
/*
 * Hand each connection still open to on_record, as a struct tw_conn with
 * TW_CONN_OPEN set. For the end of tracing, after tracer_end_beginnings().
 */
int tracer_dump_open(struct tracer *t, ring_buffer_sample_fn on_record, void *ctx);
/*
 * The listing is done and dealt with, after tracer_detach(): of the
 * connections tracer_dump_open() listed, not_kept found no memory or were
 * listed twice. TW_CNT_UNREPORTED is known from now on.
 */
void tracer_listed_at_exit(struct tracer *t, uint64_t not_kept);
void tracer_close(struct tracer *t);

#endif
