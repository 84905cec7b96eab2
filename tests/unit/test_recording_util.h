/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the recording tests: a small recording made by the writer, with the
 * offset of each frame, to read whole or to break in known places; and
 * stderr caught while a test provokes a message.
 */
#ifndef TCPWAVE_TEST_RECORDING_UTIL_H
#define TCPWAVE_TEST_RECORDING_UTIL_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "tcpwave.h"

struct sample {
	unsigned char bytes[4096];
	size_t len;
	/* Where each frame starts: the order the writer wrote them in. */
	size_t at_reasons, at_addrs, at_snapshot, at_cgroup, at_conn, at_reset, at_release,
		at_counters, at_sockets, at_finish, at_open, at_end;
	struct tw_conn conn, open_conn;
	struct tw_reset reset;
};

/*
 * Header (offset 1000 ns, fin_timeout 30 s), RST reasons (0 NOT_SPECIFIED,
 * 12 TCP_ABORT_ON_LINGER), local addresses (10.0.0.1, ::1) at 10, a
 * start-up walk (2 ESTABLISHED, 7 TIME_WAIT; 3 namespaces, 1234 ns) at 10,
 * the path of cgroup 5 (/system.slice/x.service) at 100, a closed
 * connection in it at 100, its late reset at
 * 105, a release at 20000000, counters {3, 1, 0} at 20000000, sockets
 * (TIME_WAIT 40, CLOSE_WAIT 2) at 30000000, finish at
 * 30000000, a connection still open at 30000001, end.
 */
void sample_make(struct sample *s);
/* The bytes as a stream: fmemopen(), which the caller fcloses. */
FILE *sample_open(const unsigned char *bytes, size_t len);
/* The bytes as a file at path (a mkstemp() template, filled in); the caller unlinks it. */
void sample_save(const unsigned char *bytes, size_t len, char *path);

struct captured {
	char path[32];
	int saved;
	char text[512];
};

/* stderr goes to a file from capture_stderr() until captured_text(), which returns it. */
void capture_stderr(struct captured *c);
const char *captured_text(struct captured *c);

#endif
