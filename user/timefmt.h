/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel timestamps are CLOCK_MONOTONIC; people and log pipelines want wall
 * clock. The offset between the two is taken once at start.
 */
#ifndef TCPWAVE_TIMEFMT_H
#define TCPWAVE_TIMEFMT_H

#include <stdint.h>
#include "strbuf.h"

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns, now. */
int64_t timefmt_real_minus_mono_ns(void);
/*
 * The wall-clock time (ns since the Unix epoch) of a CLOCK_MONOTONIC time.
 * It wraps rather than overflows: a replayed recording's times are whatever
 * its file says.
 */
int64_t timefmt_unix_ns(uint64_t mono_ns, int64_t real_minus_mono_ns);
/* CLOCK_MONOTONIC now, in ns. */
uint64_t timefmt_mono_now_ns(void);
/* "2026-11-25T04:19:00.123456789Z" for ns since the Unix epoch. */
void timefmt_rfc3339(struct strbuf *sb, int64_t unix_ns);
/* "04:19:00.123456", local time of day, for terminal output. */
void timefmt_clock(struct strbuf *sb, int64_t unix_ns);

#endif
