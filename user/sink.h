/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where records go: standard output, or a file (-o) appended to and reopened
 * on request (SIGHUP, for logrotate). A reader that goes away (tcpwave |
 * head) ends tcpwave quietly; any other write failure (a full disk) is an
 * error.
 *
 * Records are buffered whole and each write(2) carries whole records only:
 * a log pipeline reading the file never meets half a line, even when
 * tcpwave is ended at once (a second signal) with records still held. A
 * pipe can be left half a record only when that second signal ends a
 * write(2) that a full pipe holds up.
 */
#ifndef TCPWAVE_SINK_H
#define TCPWAVE_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

/* A file tcpwave creates is rw-r----- (less the umask): records name processes. */
#define SINK_FILE_MODE 0640

enum sink_status {
	SINK_OK = 0,
	SINK_CLOSED, /* the reader went away: stop, exit 0 */
	SINK_FAILED, /* reported on stderr: stop, exit 1 */
};

struct sink {
	int fd;
	char *buffer; /* records not written yet, whole */
	size_t len;
	bool at_once; /* a terminal: each record goes out as it comes */
	const char *name; /* for messages */
	const char *path; /* the file to reopen; NULL for standard output */
	enum sink_status status;
};

void sink_init_stdout(struct sink *s);
/* Append to path, creating it with SINK_FILE_MODE. 0 or -errno, said on stderr. */
int sink_open_file(struct sink *s, const char *path);
/*
 * Open the path again (logrotate has moved the file away) and write there
 * from now on, after what is buffered has gone to the old file. If it
 * cannot be opened, that is said on stderr and writing goes on to the old
 * file. 0 or -errno; nothing to do for standard output.
 */
int sink_reopen(struct sink *s);
/* Write the whole buffer; once the sink is not SINK_OK, writes are dropped. */
enum sink_status sink_write(struct sink *s, const struct strbuf *sb);
enum sink_status sink_flush(struct sink *s);
/* Flush, and close a file (standard output stays open). */
enum sink_status sink_close(struct sink *s);

#endif
