/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The connections still open when tracing ends. They are listed while the
 * programs are still attached, so that one closing as tracing stops is in
 * the list or in the ring buffer, and never in neither. One in both (it
 * closed between the listing and the detach) goes out once, as its closed
 * record: its listed copy is marked ended and not handed over.
 */
#ifndef TCPWAVE_OPEN_AT_EXIT_H
#define TCPWAVE_OPEN_AT_EXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

struct open_at_exit_item {
	struct tw_conn conn;
	bool ended; /* its closed record came after it was listed */
};

struct open_at_exit {
	struct open_at_exit_item *items; /* sorted by cookie once sealed */
	size_t count, cap;
	uint64_t ended; /* items marked ended */
	uint64_t dropped; /* items that found no memory: listed, not kept */
	uint64_t duplicates; /* sockets listed twice (a walk met one again), kept once */
	bool sealed;
};

/* A connection as listed (TW_CONN_OPEN): kept, or counted in dropped. */
void open_at_exit_add(struct open_at_exit *o, const struct tw_conn *c);
/* The listing is complete: duplicates go, and from now on closed records can end items. */
void open_at_exit_seal(struct open_at_exit *o);
/*
 * A closed record arrived: if it is the end of a listed connection (same
 * cookie, and it ended after that connection began: a socket's earlier
 * connection does not count), that item is marked ended. True if so.
 */
bool open_at_exit_end(struct open_at_exit *o, const struct tw_conn *closed);
void open_at_exit_free(struct open_at_exit *o);

#endif
