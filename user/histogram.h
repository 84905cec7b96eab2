/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log2 histograms of durations, in microseconds as bcc's tools have them,
 * but with each bucket's edges said once and kept everywhere:
 *
 *   bucket 0:  0 <= t <= 1 µs
 *   bucket i:  2^(i-1) µs < t <= 2^i µs      (i >= 1)
 *
 * Upper edges are inclusive, as a Prometheus bucket's `le` is, so the text,
 * JSON and exposition formats show the same buckets. Values are ns; 56
 * buckets hold any uint64_t (UINT64_MAX ns, 2^54.03 µs, is in bucket 55),
 * so nothing is clamped. Adding is O(1): no loop.
 */
#ifndef TCPWAVE_HISTOGRAM_H
#define TCPWAVE_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_BUCKETS 56

struct histogram {
	uint64_t buckets[HISTOGRAM_BUCKETS];
	uint64_t count;
	/*
	 * The sum is sum_s seconds plus sum_ns ns: one uint64_t of ns would
	 * overflow in minutes at 20k connections/s of hour-long lifetimes.
	 */
	uint64_t sum_s;
	uint64_t sum_ns;
};

/* The bucket that holds a duration of ns nanoseconds. */
unsigned int histogram_bucket(uint64_t ns);
/* Bucket i's inclusive upper edge in µs: 2^i. */
uint64_t histogram_bucket_le_us(unsigned int i);

void histogram_add(struct histogram *h, uint64_t ns);
/* The sum of every value added, split as whole seconds and ns (< 10^9). */
void histogram_sum(const struct histogram *h, uint64_t *seconds, uint32_t *ns);

#endif
