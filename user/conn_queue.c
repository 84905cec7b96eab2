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

void conn_queue_push(struct conn_queue *q, const struct tw_conn *c, uint64_t now_ns)
{
	struct conn_queue_item *item;

	if (q->count == q->cap)
		grow(q);
	item = at(q, q->count);
	item->conn = *c;
	item->due_ns = now_ns + q->grace_ns;
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

bool conn_queue_pop_due(struct conn_queue *q, uint64_t now_ns, struct tw_conn *out)
{
	struct conn_queue_item *item;

	if (!q->count)
		return false;
	item = at(q, 0);
	if (item->due_ns > now_ns)
		return false;
	*out = item->conn;
	q->head = (q->head + 1) % q->cap;
	q->count--;
	return true;
}

uint64_t conn_queue_next_due(const struct conn_queue *q)
{
	return q->count ? at(q, 0)->due_ns : UINT64_MAX;
}
