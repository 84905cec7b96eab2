// SPDX-License-Identifier: GPL-2.0
#include "summary_top.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: the keys are 20 bytes, and few reach the table (only slow closes). */
static uint32_t key_hash(const union summary_top_key *key)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(key->bytes); i++)
		h = (h ^ key->bytes[i]) * 16777619u;
	return h;
}

int summary_top_init(struct summary_top *t, uint32_t capacity)
{
	memset(t, 0, sizeof(*t));
	if (capacity < 2)
		return -EINVAL;
	t->capacity = capacity;
	t->nslots = 4;
	while (t->nslots < 2 * capacity)
		t->nslots *= 2;
	t->entries = calloc(capacity, sizeof(*t->entries));
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->entries || !t->slots) {
		summary_top_free(t);
		return -ENOMEM;
	}
	return 0;
}

void summary_top_free(struct summary_top *t)
{
	free(t->entries);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void summary_top_clear(struct summary_top *t)
{
	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	t->used = 0;
	t->evicted_entries = 0;
	t->evicted_count = 0;
}

/* The slot that holds key, or the empty slot where it would go. */
static uint32_t *find_slot(const struct summary_top *t, const union summary_top_key *key)
{
	uint32_t mask = t->nslots - 1, i = key_hash(key) & mask;

	/* At most half the slots are in use, so the probe ends. */
	while (t->slots[i] && memcmp(&t->entries[t->slots[i] - 1].key, key, sizeof(*key)) != 0)
		i = (i + 1) & mask;
	return &t->slots[i];
}

static void rebuild_slots(struct summary_top *t)
{
	uint32_t i;

	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	for (i = 0; i < t->used; i++)
		*find_slot(t, &t->entries[i].key) = i + 1;
}

/* Rank order: more slow closes, then a worse close, then the key. */
static int rank_cmp(const void *a, const void *b)
{
	const struct summary_top_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->worst_ns != y->worst_ns)
		return x->worst_ns > y->worst_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

void summary_top_rank(struct summary_top *t)
{
	qsort(t->entries, t->used, sizeof(*t->entries), rank_cmp);
	rebuild_slots(t);
}

/* Evict the lower half by rank, keeping their slow closes in the tally. */
static void prune(struct summary_top *t)
{
	uint32_t keep = t->used - t->used / 2, i;

	qsort(t->entries, t->used, sizeof(*t->entries), rank_cmp);
	for (i = keep; i < t->used; i++)
		t->evicted_count += t->entries[i].count;
	t->evicted_entries += t->used - keep;
	t->used = keep;
	rebuild_slots(t);
}

void summary_top_add(struct summary_top *t, const union summary_top_key *key, uint64_t close_ns)
{
	uint32_t *slot = find_slot(t, key);
	struct summary_top_entry *e;

	if (!*slot) {
		if (t->used == t->capacity) {
			prune(t);
			slot = find_slot(t, key);
		}
		e = &t->entries[t->used++];
		memset(e, 0, sizeof(*e));
		e->key = *key;
		*slot = t->used;
	}
	e = &t->entries[*slot - 1];
	e->count++;
	if (close_ns > e->worst_ns)
		e->worst_ns = close_ns;
}
