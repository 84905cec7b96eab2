/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --write: the recording (recording.h) as tracing goes. Frames collect in a
 * buffer and leave in large writes: a busy host hands over tens of thousands
 * of records a second. The first write error is reported once, on stderr
 * ("tcpwave: writing FILE: No space left on device"), and every later call
 * returns it.
 */
#ifndef TCPWAVE_RECORDING_WRITE_H
#define TCPWAVE_RECORDING_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "local_addrs.h"
#include "recording.h"

struct recording_writer {
	int fd;		  /* -1: not recording, and every call below does nothing */
	const char *name; /* for messages */
	unsigned char *buf;
	size_t len;
	bool started; /* the header is written: the file is a recording */
	int err;      /* the first error, a negative errno; sticky */
};

/* Not recording (yet). */
void recording_writer_init(struct recording_writer *w);
/* Create or truncate path (mode 0666 less the umask, as a shell's > would). */
int recording_writer_open(struct recording_writer *w, const char *path);
int recording_write_header(struct recording_writer *w, const struct recording_header *h);
/* The RST reason names rst_reason holds, for a replay on a host that has none. */
int recording_write_rst_reasons(struct recording_writer *w);
/* A ring buffer record as it came, at time_ns. */
int recording_write_record(struct recording_writer *w, const void *data, size_t size,
			   uint64_t time_ns);
/* The poll loop released the connections due by now_ns. */
int recording_write_release(struct recording_writer *w, uint64_t now_ns);
int recording_write_counters(struct recording_writer *w, const uint64_t *counters, size_t n,
			     uint64_t now_ns);
/* Cgroup id's path as seen at now_ns; NULL: the cgroup was gone. */
int recording_write_cgroup(struct recording_writer *w, uint64_t id, const char *path,
			   uint64_t now_ns);
/* The host's interface addresses from now_ns on. */
int recording_write_local_addrs(struct recording_writer *w, const struct local_addrs *l,
				uint64_t now_ns);
/* The start-up walk: what it found, in how many namespaces, how long it took. */
int recording_write_snapshot(struct recording_writer *w, const struct tw_snapshot_counts *c,
			     uint32_t namespaces, uint64_t took_ns, uint64_t now_ns);
/* The TIME_WAIT and CLOSE_WAIT sockets as tracing stops. */
int recording_write_sockets(struct recording_writer *w, uint64_t time_wait, uint64_t close_wait,
			    uint64_t now_ns);
/* Tracing stopped at now_ns; the open connections' records follow. */
int recording_write_finish(struct recording_writer *w, uint64_t now_ns);
/* Hand what is buffered to the kernel. */
int recording_writer_flush(struct recording_writer *w);
/*
 * The end frame (once the header is written), the last flush, close: 0 or
 * the first error of the whole recording.
 */
int recording_writer_close(struct recording_writer *w);

#endif
