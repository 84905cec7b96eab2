/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The start-up walk's findings (struct tw_snapshot_counts, filled in by
 * bpf/snapshot.bpf.h) in words, for -v.
 */
#ifndef TCPWAVE_SNAPSHOT_H
#define TCPWAVE_SNAPSHOT_H

#include <stdint.h>
#include <linux/types.h>
#include "strbuf.h"
#include "tcpwave.h"

/* The connections the walk met (those already traced and untracked included). */
uint64_t snapshot_connections(const struct tw_snapshot_counts *c);
/*
 * "start-up walk: 3 connections (2 ESTABLISHED, 1 CLOSE_WAIT), 0 already
 * traced, 0 untracked; 5 TIME_WAIT, 1 FIN_WAIT2 orphan, 0 handshakes, 4
 * listeners; 2 network namespaces, 2.345 ms", without a newline.
 */
void snapshot_describe(struct strbuf *sb, const struct tw_snapshot_counts *c,
		       unsigned int namespaces, uint64_t took_ns);

#endif
