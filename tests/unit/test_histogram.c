// SPDX-License-Identifier: GPL-2.0
/* Log2 buckets: each edge on the side the header says, from 0 to UINT64_MAX. */
#include "unit.h"

#include "histogram.h"

#define US 1000ull

TEST(test_histogram_first_bucket_holds_zero_to_one_microsecond)
{
	CHECK_INT(histogram_bucket(0), 0);
	CHECK_INT(histogram_bucket(1), 0);
	CHECK_INT(histogram_bucket(999), 0);
	CHECK_INT(histogram_bucket(1 * US), 0);
	CHECK_INT(histogram_bucket(1 * US + 1), 1);
}

TEST(test_histogram_upper_edges_are_inclusive)
{
	unsigned int i;

	CHECK_INT(histogram_bucket(2 * US), 1);
	CHECK_INT(histogram_bucket(2 * US + 1), 2);
	CHECK_INT(histogram_bucket(3 * US), 2);
	CHECK_INT(histogram_bucket(4 * US), 2);
	CHECK_INT(histogram_bucket(4 * US + 1), 3);
	/* Every edge the ns range holds: 2^i µs is bucket i, a ns more is the next. */
	for (i = 1; i <= 54; i++) {
		uint64_t edge = (1ull << i) * US;

		if (histogram_bucket(edge) != i || histogram_bucket(edge + 1) != i + 1 ||
		    histogram_bucket(edge - 1) != i)
			unit_fail(__FILE__, __LINE__, "edge 2^%u us: buckets %u %u %u", i,
				  histogram_bucket(edge - 1), histogram_bucket(edge),
				  histogram_bucket(edge + 1));
	}
}

TEST(test_histogram_huge_values_fit_the_last_buckets)
{
	/* INT64_MAX ns is 2^53.03 µs, UINT64_MAX ns 2^54.03 µs. */
	CHECK_INT(histogram_bucket(INT64_MAX), 54);
	CHECK_INT(histogram_bucket(UINT64_MAX), 55);
	CHECK_INT(HISTOGRAM_BUCKETS, 56);
}

TEST(test_histogram_bucket_le_is_a_power_of_two_microseconds)
{
	CHECK_INT(histogram_bucket_le_us(0), 1);
	CHECK_INT(histogram_bucket_le_us(1), 2);
	CHECK_INT(histogram_bucket_le_us(10), 1024);
	CHECK(histogram_bucket_le_us(55) == 1ull << 55);
}

TEST(test_histogram_add_counts_and_sums)
{
	struct histogram h = { 0 };
	uint64_t s;
	uint32_t ns;

	histogram_add(&h, 0);
	histogram_add(&h, 1500);
	histogram_add(&h, 1500);
	histogram_add(&h, 2500000000ull);
	CHECK_INT(h.count, 4);
	CHECK_INT(h.buckets[0], 1);
	CHECK_INT(h.buckets[1], 2);
	CHECK_INT(h.buckets[histogram_bucket(2500000000ull)], 1);
	histogram_sum(&h, &s, &ns);
	CHECK_INT(s, 2);
	CHECK_INT(ns, 500003000);
}

TEST(test_histogram_sum_does_not_overflow)
{
	struct histogram h = { 0 };
	uint64_t s;
	uint32_t ns;

	/* 3 x INT64_MAX ns = 27670116110564327421 ns, past what a uint64_t of ns holds. */
	histogram_add(&h, INT64_MAX);
	histogram_add(&h, INT64_MAX);
	histogram_add(&h, INT64_MAX);
	histogram_add(&h, 7);
	histogram_sum(&h, &s, &ns);
	CHECK_INT(s, 27670116110ll);
	CHECK_INT(ns, 564327428);
	CHECK_INT(h.buckets[54], 3);
}
