// SPDX-License-Identifier: GPL-2.0
#include "open_at_exit.h"

#include <stdlib.h>
#include <string.h>

void open_at_exit_add(struct open_at_exit *o, const struct tw_conn *c)
{
	struct open_at_exit_item *grown;
	size_t cap;

	if (o->count == o->cap) {
		cap = o->cap ? o->cap * 2 : 256;
		grown = realloc(o->items, cap * sizeof(*grown));
		if (!grown) {
			o->dropped++;
			return;
		}
		o->items = grown;
		o->cap = cap;
	}
	o->items[o->count].conn = *c;
	o->items[o->count].ended = false;
	o->count++;
}

static int by_cookie(const void *a, const void *b)
{
	__u64 x = ((const struct open_at_exit_item *)a)->conn.cookie;
	__u64 y = ((const struct open_at_exit_item *)b)->conn.cookie;

	return x < y ? -1 : x > y;
}

void open_at_exit_seal(struct open_at_exit *o)
{
	size_t i, kept = 0;

	if (o->count)
		qsort(o->items, o->count, sizeof(*o->items), by_cookie);
	for (i = 0; i < o->count; i++) {
		/* A socket has one connection at a time: its copies are one. */
		if (kept && o->items[kept - 1].conn.cookie == o->items[i].conn.cookie) {
			o->duplicates++;
			continue;
		}
		o->items[kept++] = o->items[i];
	}
	o->count = kept;
	o->sealed = true;
}

/* When the record's last known step happened. */
static uint64_t last_step_ns(const struct tw_conn *c)
{
	return c->start_ns + (c->nsteps ? c->step_ns[(c->nsteps - 1u) % TW_STEPS_MAX] : 0);
}

bool open_at_exit_end(struct open_at_exit *o, const struct tw_conn *closed)
{
	struct open_at_exit_item key = { .conn.cookie = closed->cookie }, *it;

	if (!o->sealed || !o->count)
		return false;
	/* Sealed, a socket is listed once: its cookie finds it or nothing. */
	it = bsearch(&key, o->items, o->count, sizeof(*o->items), by_cookie);
	if (!it || it->ended || last_step_ns(closed) < it->conn.start_ns)
		return false;
	it->ended = true;
	o->ended++;
	return true;
}

void open_at_exit_free(struct open_at_exit *o)
{
	free(o->items);
	memset(o, 0, sizeof(*o));
}
