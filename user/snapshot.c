// SPDX-License-Identifier: GPL-2.0
#include "snapshot.h"

#include <inttypes.h>
#include "tcp_state.h"

uint64_t snapshot_connections(const struct tw_snapshot_counts *c)
{
	uint64_t n = (uint64_t)c->known + c->untracked;
	int s;

	for (s = 0; s < TW_STATE_MAX; s++)
		n += c->conns[s];
	return n;
}

/* "5 TIME_WAIT" or "1 FIN_WAIT2 orphan": the plural adds an s to the last word only. */
static void add_count(struct strbuf *sb, const char *sep, uint64_t n, const char *what,
		      const char *plural)
{
	strbuf_addf(sb, "%s%" PRIu64 " %s%s", sep, n, what, n == 1 ? "" : plural);
}

void snapshot_describe(struct strbuf *sb, const struct tw_snapshot_counts *c,
		       unsigned int namespaces, uint64_t took_ns)
{
	const char *sep = " (";
	int s;

	add_count(sb, "start-up walk: ", snapshot_connections(c), "connection", "s");
	for (s = 0; s < TW_STATE_MAX; s++) {
		if (!c->conns[s])
			continue;
		add_count(sb, sep, c->conns[s], tcp_state_name(s), "");
		sep = ", ";
	}
	if (sep[0] == ',')
		strbuf_addc(sb, ')');
	add_count(sb, ", ", c->known, "already traced", "");
	add_count(sb, ", ", c->untracked, "untracked", "");
	if (c->owners_dropped)
		add_count(sb, ", ", c->owners_dropped, "owner", "s not recorded (table full)");
	add_count(sb, "; ", c->time_wait, "TIME_WAIT", "");
	add_count(sb, ", ", c->fin_wait2, "FIN_WAIT2 orphan", "s");
	add_count(sb, ", ", c->requests, "handshake", "s");
	add_count(sb, ", ", c->listeners, "listener", "s");
	add_count(sb, "; ", namespaces, "network namespace", "s");
	strbuf_addf(sb, ", %" PRIu64 ".%03" PRIu64 " ms", took_ns / 1000000, took_ns / 1000 % 1000);
}
