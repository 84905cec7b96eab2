/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Connection records: one per connection, printed from its timeline (struct
 * tw_conn), what the classifier made of it (struct conn_verdict) and what
 * held it up (struct diagnosis), as an NDJSON line, a table line or a
 * multi-line timeline. Nothing is decided here.
 *
 * ts_mono_ns is when the record was reported (CLOCK_MONOTONIC);
 * real_minus_mono_ns turns the kernel's monotonic times into wall-clock time.
 */
#ifndef TCPWAVE_OUTPUT_CONN_H
#define TCPWAVE_OUTPUT_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include "conn.h"
#include "diagnosis.h"
#include "strbuf.h"

/*
 * What joins a record to other tools' records of the same connection:
 * community_id.h and zeek_state.h compute them, the JSON record prints them.
 */
struct conn_join {
	const char *community_id; /* NULL where the 4-tuple is not known */
	const char *conn_state;	  /* Zeek's code: "SF", "REJ", ... */
};

/*
 * {"type":"conn",...}\n: the keys and their order are a contract with log
 * pipelines. cgroup is the socket's cgroup v2 path (NULL: not known).
 */
void output_conn_json(struct strbuf *sb, const struct tw_conn *c, const struct conn_verdict *v,
		      const struct diagnosis *d, const struct conn_join *join,
		      uint64_t ts_mono_ns, int64_t real_minus_mono_ns, const char *cgroup);

/* Column titles for output_conn_table(). */
void output_conn_table_header(struct strbuf *sb);
/* One aligned line; durations in ms, "-" where they do not apply; the diagnosis last. */
void output_conn_table(struct strbuf *sb, const struct tw_conn *c, const struct conn_verdict *v,
		       const struct diagnosis *d, uint64_t ts_mono_ns, int64_t real_minus_mono_ns);

/*
 * A header line (start time, endpoints, owner, how it opened and closed),
 * one line per step (offset, state, time in it, what happened), a line per
 * diagnosis, then an empty line. `color` adds ANSI SGR codes; without it
 * there are none.
 */
void output_conn_timeline(struct strbuf *sb, const struct tw_conn *c, const struct conn_verdict *v,
			  const struct diagnosis *d, uint64_t ts_mono_ns,
			  int64_t real_minus_mono_ns, bool color);

#endif
