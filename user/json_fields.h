/* SPDX-License-Identifier: GPL-2.0 */
/* JSON fields that transition and connection records share, written once. */
#ifndef TCPWAVE_JSON_FIELDS_H
#define TCPWAVE_JSON_FIELDS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "strbuf.h"
#include "tcpwave.h"

/* "family":"ipv4","laddr":"..","lport":N,"raddr":"..","rport":N, */
void json_add_endpoints(struct strbuf *sb, const struct tw_endpoints *ep);
/* "key":"2026-11-25T04:19:00.123456789Z", for ns since the Unix epoch. */
void json_add_time(struct strbuf *sb, const char *key, int64_t unix_ns);
/* "pid":N,"tid":N,"comm":"..", with nulls when the owner is not known. */
void json_add_owner(struct strbuf *sb, const struct tw_owner *owner, bool known);
/*
 * "cgroup_id":N,"cgroup":"/system.slice/x.service", the cgroup v2 path null
 * when it is not known or the cgroup is gone.
 */
void json_add_cgroup(struct strbuf *sb, __u64 cgroup_id, const char *cgroup);

#endif
