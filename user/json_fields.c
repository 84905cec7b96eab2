// SPDX-License-Identifier: GPL-2.0
#include "json_fields.h"

#include <string.h>
#include "addr.h"
#include "json.h"
#include "timefmt.h"

void json_add_endpoints(struct strbuf *sb, const struct tw_endpoints *ep)
{
	char laddr[ADDR_IP_STRLEN], raddr[ADDR_IP_STRLEN];

	addr_format(laddr, ep->family, ep->laddr);
	addr_format(raddr, ep->family, ep->raddr);
	json_add_name_or_null(sb, "family", addr_family_name(ep->family));
	json_add_name_or_null(sb, "laddr", laddr);
	json_add_u64(sb, "lport", ep->lport);
	json_add_name_or_null(sb, "raddr", raddr);
	json_add_u64(sb, "rport", ep->rport);
}

void json_add_owner(struct strbuf *sb, const struct tw_owner *owner, bool known)
{
	json_add_u64_or_null(sb, "pid", known, owner->tgid);
	json_add_u64_or_null(sb, "tid", known, owner->pid);
	json_add_key(sb, "comm");
	if (known)
		json_add_string(sb, owner->comm, sizeof(owner->comm));
	else
		strbuf_adds(sb, "null");
	strbuf_addc(sb, ',');
}

void json_add_time(struct strbuf *sb, const char *key, int64_t unix_ns)
{
	json_add_key(sb, key);
	strbuf_addc(sb, '"');
	timefmt_rfc3339(sb, unix_ns);
	strbuf_adds(sb, "\",");
}

void json_add_cgroup(struct strbuf *sb, __u64 cgroup_id, const char *cgroup)
{
	json_add_u64(sb, "cgroup_id", cgroup_id);
	json_add_str_or_null(sb, "cgroup", cgroup);
}
