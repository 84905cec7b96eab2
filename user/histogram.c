// SPDX-License-Identifier: GPL-2.0
#include "histogram.h"

#define NS_PER_US 1000u
#define NS_PER_S 1000000000ull
/* sum_ns is folded into sum_s past this, long before an added int64_t could overflow it. */
#define SUM_FOLD_NS (1ull << 62)

unsigned int histogram_bucket(uint64_t ns)
{
	/*
	 * t <= 2^i µs is ceil(t in µs) <= 2^i, because 2^i µs is a whole
	 * number of µs; the smallest such i is the bit length of ceil - 1.
	 */
	uint64_t us_ceil = ns / NS_PER_US + (ns % NS_PER_US != 0);

	if (us_ceil <= 1)
		return 0;
	return 64 - (unsigned int)__builtin_clzll(us_ceil - 1);
}

uint64_t histogram_bucket_le_us(unsigned int i)
{
	return 1ull << i;
}

void histogram_add(struct histogram *h, uint64_t ns)
{
	h->buckets[histogram_bucket(ns)]++;
	h->count++;
	if (ns >= SUM_FOLD_NS - h->sum_ns) {
		h->sum_s += h->sum_ns / NS_PER_S + ns / NS_PER_S;
		h->sum_ns = h->sum_ns % NS_PER_S + ns % NS_PER_S;
	} else {
		h->sum_ns += ns;
	}
}

void histogram_sum(const struct histogram *h, uint64_t *seconds, uint32_t *ns)
{
	*seconds = h->sum_s + h->sum_ns / NS_PER_S;
	*ns = (uint32_t)(h->sum_ns % NS_PER_S);
}
