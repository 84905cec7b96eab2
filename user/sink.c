// SPDX-License-Identifier: GPL-2.0
#include "sink.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

void sink_init_stdout(struct sink *s)
{
	/* EPIPE as an error return rather than a signal: see sink_failed(). */
	signal(SIGPIPE, SIG_IGN);
	s->f = stdout;
	s->name = "standard output";
	s->status = SINK_OK;
}

static enum sink_status sink_failed(struct sink *s, int err)
{
	if (err == EPIPE) {
		s->status = SINK_CLOSED;
	} else {
		fprintf(stderr, "tcpwave: writing %s: %s\n", s->name, strerror(err));
		s->status = SINK_FAILED;
	}
	return s->status;
}

enum sink_status sink_write(struct sink *s, const struct strbuf *sb)
{
	if (s->status != SINK_OK || sb->len == 0)
		return s->status;
	if (fwrite(sb->data, 1, sb->len, s->f) != sb->len)
		return sink_failed(s, errno);
	return SINK_OK;
}

enum sink_status sink_flush(struct sink *s)
{
	if (s->status != SINK_OK)
		return s->status;
	if (fflush(s->f) != 0)
		return sink_failed(s, errno);
	return SINK_OK;
}
