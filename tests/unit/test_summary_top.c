// SPDX-License-Identifier: GPL-2.0
/* The top tables: counts per key, rank order, and the bound on their size. */
#include "unit.h"

#include <errno.h>
#include "summary_top.h"

static union summary_top_key key(__u32 pid)
{
	union summary_top_key k;

	memset(&k, 0, sizeof(k));
	k.process.pid = pid;
	snprintf(k.process.comm, sizeof(k.process.comm), "p%u", pid);
	return k;
}

static void add(struct summary_top *t, __u32 pid, uint64_t ns)
{
	union summary_top_key k = key(pid);

	summary_top_add(t, &k, ns);
}

TEST(test_summary_top_counts_per_key_and_keeps_the_worst)
{
	struct summary_top t;

	CHECK_INT(summary_top_init(&t, 8), 0);
	add(&t, 1, 100);
	add(&t, 2, 300);
	add(&t, 1, 500);
	add(&t, 1, 200);
	summary_top_rank(&t);
	CHECK_INT(t.used, 2);
	CHECK_INT(t.entries[0].key.process.pid, 1);
	CHECK_INT(t.entries[0].count, 3);
	CHECK_INT(t.entries[0].worst_ns, 500);
	CHECK_STR(t.entries[0].key.process.comm, "p1");
	CHECK_INT(t.entries[1].key.process.pid, 2);
	CHECK_INT(t.entries[1].count, 1);
	/* Still found by key after ranking moved the entries. */
	add(&t, 2, 100);
	add(&t, 2, 100);
	add(&t, 2, 100);
	summary_top_rank(&t);
	CHECK_INT(t.used, 2);
	CHECK_INT(t.entries[0].key.process.pid, 2);
	CHECK_INT(t.entries[0].count, 4);
	summary_top_free(&t);
}

TEST(test_summary_top_rank_breaks_ties_by_worst_close)
{
	struct summary_top t;

	CHECK_INT(summary_top_init(&t, 8), 0);
	add(&t, 5, 100);
	add(&t, 6, 900);
	add(&t, 7, 500);
	summary_top_rank(&t);
	CHECK_INT(t.entries[0].key.process.pid, 6);
	CHECK_INT(t.entries[1].key.process.pid, 7);
	CHECK_INT(t.entries[2].key.process.pid, 5);
	summary_top_free(&t);
}

TEST(test_summary_top_full_table_evicts_the_lower_half)
{
	struct summary_top t;

	CHECK_INT(summary_top_init(&t, 4), 0);
	add(&t, 1, 10);
	add(&t, 1, 10);
	add(&t, 1, 10);
	add(&t, 2, 10);
	add(&t, 2, 10);
	add(&t, 3, 20);
	add(&t, 4, 10);
	CHECK_INT(t.used, 4);
	CHECK_INT(t.evicted_entries, 0);
	/* A fifth key: 3 and 4 (one slow close each) make room. */
	add(&t, 5, 10);
	CHECK_INT(t.used, 3);
	CHECK_INT(t.evicted_entries, 2);
	CHECK_INT(t.evicted_count, 2);
	summary_top_rank(&t);
	CHECK_INT(t.entries[0].key.process.pid, 1);
	CHECK_INT(t.entries[1].key.process.pid, 2);
	CHECK_INT(t.entries[2].key.process.pid, 5);
	summary_top_free(&t);
}

TEST(test_summary_top_never_exceeds_its_bound_and_loses_no_count)
{
	struct summary_top t;
	uint64_t total = 0, kept;
	__u32 i;

	CHECK_INT(summary_top_init(&t, 16), 0);
	/* Key 0 is a heavy hitter among 5000 one-off keys. */
	for (i = 1; i <= 5000; i++) {
		add(&t, i, i);
		add(&t, 0, 1);
		total += 2;
		if (t.used > 16)
			unit_fail(__FILE__, __LINE__, "%u keys in a table of 16", t.used);
	}
	summary_top_rank(&t);
	for (kept = 0, i = 0; i < t.used; i++)
		kept += t.entries[i].count;
	CHECK_INT(kept + t.evicted_count, total);
	CHECK_INT(t.entries[0].key.process.pid, 0);
	CHECK_INT(t.entries[0].count, 5000);
	summary_top_clear(&t);
	CHECK_INT(t.used, 0);
	CHECK_INT(t.evicted_entries, 0);
	CHECK_INT(t.evicted_count, 0);
	add(&t, 9, 1);
	CHECK_INT(t.used, 1);
	summary_top_free(&t);
}

TEST(test_summary_top_rejects_a_capacity_below_two)
{
	struct summary_top t;

	CHECK_INT(summary_top_init(&t, 1), -EINVAL);
}
