/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The summary as Prometheus text exposition (format 0.0.4), for
 * node_exporter's textfile collector. Fed a summary that covers the whole
 * run, so that the counters and histograms are cumulative, as Prometheus
 * wants them. Formatting only: prom_file.h writes the file.
 *
 * Counters and gauges are always written, for every label value; a
 * labelled histogram's series appear once they have a value. Histogram
 * buckets are the summary's log2 buckets in seconds: le = 2^i µs for i in
 * 0..PROM_LAST_BUCKET, then +Inf.
 */
#ifndef TCPWAVE_PROM_H
#define TCPWAVE_PROM_H

#include "strbuf.h"
#include "summary.h"

/* The last finite bucket: le 2^35 µs, 9.5 hours; longer times count in +Inf only. */
#define PROM_LAST_BUCKET 35

void prom_format(struct strbuf *sb, const struct summary *s);

#endif
