// SPDX-License-Identifier: GPL-2.0
#include "output_events.h"

#include <inttypes.h>
#include "addr.h"
#include "json.h"
#include "json_fields.h"
#include "text_fields.h"
#include "tcp_state.h"
#include "timefmt.h"

enum { COL_TIME = 16, COL_ADDR = 24, COL_TRANSITION = 27 };

void output_events_text_header(struct strbuf *sb)
{
	strbuf_addf(sb, "%-*s%-*s%-*s%-*s%-*s%-*s%s\n", COL_TIME, "TIME", TEXT_COL_PID, "PID",
		    TEXT_COL_COMM, "COMM", COL_ADDR, "LOCAL", COL_ADDR, "REMOTE", COL_TRANSITION,
		    "TRANSITION", "MS");
}

void output_event_text(struct strbuf *sb, const struct tw_state_event *e,
		       int64_t real_minus_mono_ns)
{
	char local[ADDR_STRLEN], remote[ADDR_STRLEN];
	size_t start;

	addr_format_port(local, e->ep.family, e->ep.laddr, e->ep.lport);
	addr_format_port(remote, e->ep.family, e->ep.raddr, e->ep.rport);

	start = sb->len;
	timefmt_clock(sb, timefmt_unix_ns(e->ts_ns, real_minus_mono_ns));
	start = text_end_column(sb, start, COL_TIME);
	start = text_add_owner(sb, &e->owner, e->flags & TW_EV_OWNER_KNOWN, start);
	strbuf_adds(sb, local);
	start = text_end_column(sb, start, COL_ADDR);
	strbuf_adds(sb, remote);
	start = text_end_column(sb, start, COL_ADDR);
	strbuf_adds(sb, tcp_state_name(e->old_state));
	strbuf_adds(sb, " -> ");
	strbuf_adds(sb, tcp_state_name(e->new_state));
	text_end_column(sb, start, COL_TRANSITION);
	if (e->flags & TW_EV_DUR_KNOWN)
		strbuf_addf(sb, "%.3f", (double)e->dur_ns / 1e6);
	else
		strbuf_addc(sb, '-');
	/* The socket's records before this one are not all there. */
	if (e->flags & TW_EV_LOST_BEFORE)
		strbuf_adds(sb, " (events lost before)");
	strbuf_addc(sb, '\n');
}

void output_event_json(struct strbuf *sb, const struct tw_state_event *e,
		       int64_t real_minus_mono_ns, const char *cgroup)
{
	strbuf_adds(sb, "{\"type\":\"state\",\"ts\":\"");
	timefmt_rfc3339(sb, timefmt_unix_ns(e->ts_ns, real_minus_mono_ns));
	strbuf_adds(sb, "\",");
	json_add_u64(sb, "mono_ns", e->ts_ns);
	json_add_u64(sb, "sock", e->cookie);
	json_add_endpoints(sb, &e->ep);
	json_add_name_or_null(sb, "old", tcp_state_name(e->old_state));
	json_add_name_or_null(sb, "new", tcp_state_name(e->new_state));
	json_add_u64_or_null(sb, "dur_ns", e->flags & TW_EV_DUR_KNOWN, e->dur_ns);
	json_add_owner(sb, &e->owner, e->flags & TW_EV_OWNER_KNOWN);
	json_add_bool(sb, "process_ctx", e->flags & TW_EV_PROCESS_CTX);
	json_add_bool(sb, "lost_events", e->flags & TW_EV_LOST_BEFORE);
	json_add_u64(sb, "netns", e->netns);
	json_add_cgroup(sb, e->cgroup_id, cgroup);
	json_end_record(sb);
}

void output_lost_json(struct strbuf *sb, int64_t unix_ns, const char *reason, uint64_t count,
		      uint64_t total)
{
	strbuf_adds(sb, "{\"type\":\"lost\",\"ts\":\"");
	timefmt_rfc3339(sb, unix_ns);
	strbuf_addf(sb, "\",\"reason\":\"%s\",\"count\":%" PRIu64 ",\"total\":%" PRIu64 "}\n",
		    reason, count, total);
}
