// SPDX-License-Identifier: GPL-2.0
#include "conn_queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conn.h"

struct conn_queue_item {
	struct tw_conn conn;
	uint64_t due_ns;
	uint64_t lost_before; /* the lost count, read before the kernel made the record */
};

void conn_queue_init(struct conn_queue *q, uint64_t grace_ns)
{
	memset(q, 0, sizeof(*q));
	q->grace_ns = grace_ns;
}

void conn_queue_free(struct conn_queue *q)
{
	free(q->items);
	memset(q, 0, sizeof(*q));
}

static struct conn_queue_item *at(const struct conn_queue *q, size_t i)
{
	return &q->items[(q->head + i) % q->cap];
}

/* Double the ring, keeping the order. */
static void grow(struct conn_queue *q)
{
	size_t cap = q->cap ? q->cap * 2 : 64, i;
	struct conn_queue_item *items = malloc(cap * sizeof(*items));

	if (!items) {
		fputs("tcpwave: out of memory\n", stderr);
		exit(1);
	}
	for (i = 0; i < q->count; i++)
		items[i] = *at(q, i);
	free(q->items);
	q->items = items;
	q->cap = cap;
	q->head = 0;
}

/*
 * The lost count from before the kernel made this record, at its ->CLOSE:
 * its RST, if lost, was lost after that. The record came with this drain of
 * the ring buffer, so the kernel made it after the previous drain ended,
 * after the count read before that one (lost_prev); the count read after
 * the previous drain (lost_last) is before it only if read before its close.
 */
static uint64_t lost_before(const struct conn_queue *q, const struct tw_conn *c)
{
	unsigned int n = (unsigned int)conn_steps(c);
	uint64_t closed_ns = n ? c->start_ns + c->step_ns[n - 1] : 0;

	return closed_ns > q->lost_last_ns ? q->lost_last : q->lost_prev;
}

void conn_queue_push(struct conn_queue *q, const struct tw_conn *c, uint64_t now_ns)
{
	struct conn_queue_item *item;

	if (q->count == q->cap)
		grow(q);
	item = at(q, q->count);
	item->conn = *c;
	item->due_ns = now_ns + q->grace_ns;
	item->lost_before = lost_before(q, c);
	q->count++;
}

int conn_queue_apply_reset(struct conn_queue *q, const struct tw_reset *r)
{
	size_t i;

	/* The newest first: a late RST follows its connection within microseconds. */
	for (i = q->count; i-- > 0;) {
		struct conn_queue_item *item = at(q, i);

		if (item->conn.cookie == r->cookie) {
			conn_apply_late_reset(&item->conn, r);
			return 0;
		}
	}
	return -ENOENT;
}

void conn_queue_note_lost(struct conn_queue *q, uint64_t lost, uint64_t now_ns)
{
	q->lost_prev = q->lost_last;
	q->lost_last = lost;
	q->lost_last_ns = now_ns;
}

bool conn_queue_pop_due(struct conn_queue *q, uint64_t now_ns, struct tw_conn *out)
{
	struct conn_queue_item *item;

	if (!q->count)
		return false;
	item = at(q, 0);
	if (item->due_ns > now_ns)
		return false;
	*out = item->conn;
	if (q->lost_last > item->lost_before && conn_reset_may_follow(out))
		out->flags |= TW_CONN_LOST_EVENTS;
	q->head = (q->head + 1) % q->cap;
	q->count--;
	return true;
}

uint64_t conn_queue_next_due(const struct conn_queue *q)
{
	return q->count ? at(q, 0)->due_ns : UINT64_MAX;
}
