/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stuck's records (struct tw_stuck): a connection still sitting in a
 * close state, as an NDJSON line or one line of text. Nothing is decided
 * here; `open` is what stuck_open() made of the connection.
 */
#ifndef TCPWAVE_OUTPUT_STUCK_H
#define TCPWAVE_OUTPUT_STUCK_H

#include <stdint.h>
#include "conn.h"
#include "strbuf.h"

/*
 * {"type":"stuck",...}\n: the keys and their order are a contract, as for
 * "conn". community_id is the flow's Community ID, cgroup the socket's
 * cgroup v2 path; either NULL when not known.
 */
void output_stuck_json(struct strbuf *sb, const struct tw_stuck *s, enum conn_open open,
		       int64_t real_minus_mono_ns, const char *community_id, const char *cgroup);
/*
 * "22:13:20.123456 STUCK CLOSE_WAIT 4.200 s pid 1234 (nginx) 10.0.0.1:80 ->
 * 10.0.0.2:43210 open passive\n", with "at least" before an age that is a
 * lower bound and ", orphan" after one its application has closed.
 */
void output_stuck_text(struct strbuf *sb, const struct tw_stuck *s, enum conn_open open,
		       int64_t real_minus_mono_ns);

#endif
