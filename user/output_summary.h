/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The summary (summary.h) as text for people and as one NDJSON record.
 * Nothing is decided here: the summary holds every figure already ranked.
 * real_minus_mono_ns turns its monotonic times into wall-clock time.
 */
#ifndef TCPWAVE_OUTPUT_SUMMARY_H
#define TCPWAVE_OUTPUT_SUMMARY_H

#include <stdint.h>
#include "strbuf.h"
#include "summary.h"

/* The top tables show this many of their ranked entries. */
#define OUTPUT_SUMMARY_TOP 10

/* Counts, then a histogram with bars per duration, then the top tables. */
void output_summary_text(struct strbuf *sb, const struct summary *s, int64_t real_minus_mono_ns);
/* {"type":"summary",...}\n: the keys are a contract with log pipelines, like the conn record's. */
void output_summary_json(struct strbuf *sb, const struct summary *s, int64_t real_minus_mono_ns);

/* "12.5", "0.000001", "0": a decimal with no trailing zeros, exact to the ns. */
void output_summary_seconds(struct strbuf *sb, uint64_t seconds, uint32_t ns);

#endif
