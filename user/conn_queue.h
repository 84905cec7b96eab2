/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finished connections wait here a moment before they are printed. The RST
 * of an abort (SO_LINGER 0, close() with unread data, a FIN after close())
 * leaves the kernel just after the socket's ->CLOSE, as a record of its own;
 * the wait lets it join its connection, by cookie.
 */
#ifndef TCPWAVE_CONN_QUEUE_H
#define TCPWAVE_CONN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

struct conn_queue_item;

struct conn_queue {
	struct conn_queue_item *items; /* a ring of cap entries */
	size_t head; /* oldest */
	size_t count;
	size_t cap;
	uint64_t grace_ns;
	uint64_t lost_last; /* the kernel's lost-record count, as last read */
	uint64_t lost_last_ns; /* just after that read */
	uint64_t lost_prev; /* the count as read the time before */
};

void conn_queue_init(struct conn_queue *q, uint64_t grace_ns);
void conn_queue_free(struct conn_queue *q);
/* A connection record that arrived at now_ns; due grace_ns later. */
void conn_queue_push(struct conn_queue *q, const struct tw_conn *c, uint64_t now_ns);
/* Join a late RST to its waiting connection: 0, or -ENOENT when none waits. */
int conn_queue_apply_reset(struct conn_queue *q, const struct tw_reset *r);
/*
 * The kernel's count of lost records (TW_CNT_LOST), read after each drain of
 * the ring buffer, and the time just after it was read. A connection whose
 * late RST may have been among the records lost since it closed
 * (conn_reset_may_follow()) leaves the queue marked TW_CONN_LOST_EVENTS.
 */
void conn_queue_note_lost(struct conn_queue *q, uint64_t lost, uint64_t now_ns);
/* Take the oldest connection due by now_ns (UINT64_MAX: any). */
bool conn_queue_pop_due(struct conn_queue *q, uint64_t now_ns, struct tw_conn *out);
/* When the oldest becomes due, or UINT64_MAX when the queue is empty. */
uint64_t conn_queue_next_due(const struct conn_queue *q);

#endif
