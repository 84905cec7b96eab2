/* SPDX-License-Identifier: GPL-2.0 */
/* `--events`: one line per state transition, as text or as JSON. */
#ifndef TCPWAVE_OUTPUT_EVENTS_H
#define TCPWAVE_OUTPUT_EVENTS_H

#include <stdint.h>
#include <linux/types.h>
#include "strbuf.h"
#include "tcpwave.h"

/* Column titles for the text lines. */
void output_events_text_header(struct strbuf *sb);
/* real_minus_mono_ns turns the kernel's monotonic time into wall-clock time. */
void output_event_text(struct strbuf *sb, const struct tw_state_event *e,
		       int64_t real_minus_mono_ns);
/* cgroup: the socket's cgroup v2 path (NULL: not known). */
void output_event_json(struct strbuf *sb, const struct tw_state_event *e,
		       int64_t real_minus_mono_ns, const char *cgroup);
/*
 * {"type":"lost",...}: `count` lost since the last report, `total` in all,
 * and why: "ring_buffer_full" (records), "program_busy" (transitions the
 * kernel never showed us) or "unreported" (connections that left no record).
 */
void output_lost_json(struct strbuf *sb, int64_t unix_ns, const char *reason, uint64_t count,
		      uint64_t total);

#endif
