/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --read: a recording played back through the steps the live poll loop
 * took, at the times it took them, without BPF, privileges or waiting. The
 * caller supplies the steps (struct replay_ops), so that a replay runs the
 * same reconstruction and formatters as tracing does.
 */
#ifndef TCPWAVE_REPLAY_H
#define TCPWAVE_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/types.h>
#include "recording_read.h"
#include "tcpwave.h"

struct replay_ops {
	/* A ring buffer record that came at recv_ns. Non-zero stops the replay. */
	int (*record)(void *ctx, const void *data, size_t size, uint64_t recv_ns);
	/* Release the finished connections due by now_ns. */
	void (*release)(void *ctx, uint64_t now_ns);
	/* The kernel's counters as read at now_ns (missing ones are 0). */
	void (*counters)(void *ctx, const uint64_t counters[TW_CNT_MAX], uint64_t now_ns);
	/* Tracing stopped at now_ns: release everything; the open connections follow. */
	void (*finish)(void *ctx, uint64_t now_ns);
	/* Cgroup id's path on the tracing host from now on: len bytes; len 0: gone. */
	void (*cgroup)(void *ctx, uint64_t id, const char *path, size_t len);
	/* The tracing host's interface addresses from now on (a local addresses frame). */
	void (*local_addrs)(void *ctx, const struct recording_frame *fr);
	/* What the start-up walk found (a start-up walk frame). */
	void (*snapshot)(void *ctx, const struct recording_frame *fr);
	/* The TIME_WAIT and CLOSE_WAIT sockets when tracing stopped. */
	void (*sockets)(void *ctx, uint64_t time_wait, uint64_t close_wait);
};

struct replay {
	FILE *f;
	const char *name; /* for messages: the path, or "standard input" */
	struct recording_reader reader;
	struct recording_header header;
};

/*
 * Open path ("-": standard input) and read its header. 0, or a negative
 * errno after a message on stderr ("tcpwave: FILE: byte 16: ...").
 */
int replay_open(struct replay *rp, const char *path);
/*
 * Every frame to ops; the recording's RST reason names replace rst_reason's.
 * 0, or a negative errno after a message on stderr; a recording that stops
 * early is released (finish) up to where it stops.
 */
int replay_run(struct replay *rp, const struct replay_ops *ops, void *ctx);
void replay_close(struct replay *rp);

#endif
