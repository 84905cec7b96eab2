// SPDX-License-Identifier: GPL-2.0
#include "output_stuck.h"

#include <inttypes.h>
#include "addr.h"
#include "json.h"
#include "json_fields.h"
#include "stuck.h"
#include "tcp_state.h"
#include "text_fields.h"
#include "timefmt.h"

static bool owner_known(const struct tw_stuck *s)
{
	return s->flags & TW_CONN_OWNER_KNOWN;
}

static bool orphan(const struct tw_stuck *s)
{
	return s->flags & TW_CONN_ORPHAN;
}

void output_stuck_json(struct strbuf *sb, const struct tw_stuck *s, enum conn_open open,
		       int64_t real_minus_mono_ns, const char *community_id, const char *cgroup)
{
	strbuf_adds(sb, "{\"type\":\"stuck\",");
	json_add_time(sb, "ts", timefmt_unix_ns(s->ts_ns, real_minus_mono_ns));
	json_add_u64(sb, "sock", s->cookie);
	json_add_name_or_null(sb, "community_id", community_id);
	json_add_endpoints(sb, &s->ep);
	json_add_owner(sb, &s->owner, owner_known(s));
	json_add_name_or_null(sb, "state", tcp_state_name(s->state));
	json_add_u64(sb, "age_ns", stuck_age_ns(s));
	json_add_name_or_null(sb, "age_from", stuck_age_from_name(s->age_from));
	json_add_time(sb, "since_ts", timefmt_unix_ns(s->state_start_ns, real_minus_mono_ns));
	json_add_name_or_null(sb, "open", conn_open_name(open));
	json_add_time(sb, "start_ts", timefmt_unix_ns(s->start_ns, real_minus_mono_ns));
	json_add_u64(sb, "netns", s->netns);
	json_add_cgroup(sb, s->cgroup_id, cgroup);
	json_add_key(sb, "orphan");
	strbuf_adds(sb, orphan(s) ? "true}\n" : "false}\n");
}

void output_stuck_text(struct strbuf *sb, const struct tw_stuck *s, enum conn_open open,
		       int64_t real_minus_mono_ns)
{
	char local[ADDR_STRLEN], remote[ADDR_STRLEN];
	uint64_t ms = stuck_age_ns(s) / 1000000;

	addr_format_port(local, s->ep.family, s->ep.laddr, s->ep.lport);
	addr_format_port(remote, s->ep.family, s->ep.raddr, s->ep.rport);
	timefmt_clock(sb, timefmt_unix_ns(s->ts_ns, real_minus_mono_ns));
	strbuf_addf(sb, " STUCK %s %s%" PRIu64 ".%03" PRIu64 " s ", tcp_state_name(s->state),
		    stuck_age_exact(s) ? "" : "at least ", ms / 1000, ms % 1000);
	text_add_owner_words(sb, &s->owner, owner_known(s));
	strbuf_addf(sb, " %s -> %s open %s%s\n", local, remote, conn_open_name(open),
		    orphan(s) ? ", orphan" : "");
}
