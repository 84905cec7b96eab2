/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where records go. A reader that goes away (tcpwave | head) ends tcpwave
 * quietly; any other write failure (a full disk) is an error.
 */
#ifndef TCPWAVE_SINK_H
#define TCPWAVE_SINK_H

#include <stdio.h>
#include "strbuf.h"

enum sink_status {
	SINK_OK = 0,
	SINK_CLOSED, /* the reader went away: stop, exit 0 */
	SINK_FAILED, /* reported on stderr: stop, exit 1 */
};

struct sink {
	FILE *f;
	const char *name; /* for messages */
	enum sink_status status;
};

void sink_init_stdout(struct sink *s);
/* Write the whole buffer; once the sink is not SINK_OK, writes are dropped. */
enum sink_status sink_write(struct sink *s, const struct strbuf *sb);
enum sink_status sink_flush(struct sink *s);

#endif
