/* SPDX-License-Identifier: GPL-2.0 */
/* Socket addresses as people read them: 10.0.0.1:80, [2001:db8::1]:443. */
#ifndef TCPWAVE_ADDR_H
#define TCPWAVE_ADDR_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcpwave.h"

/* Long enough for any IPv6 address (INET6_ADDRSTRLEN). */
#define ADDR_IP_STRLEN 46
/* ... with "[", "]:" and a port of 5 digits (1 + 2 + 5): nothing truncates. */
#define ADDR_STRLEN (ADDR_IP_STRLEN + 8)

/* An IPv4 address that a dual-stack socket carries as ::ffff:a.b.c.d. */
bool addr_is_v4_mapped(const __u8 a[16]);
/*
 * Rewrite a dual-stack socket's endpoints that are both v4-mapped (or zero)
 * as the IPv4 connection they are, so that they read and join as IPv4.
 */
void addr_unmap_endpoints(struct tw_endpoints *ep);
/* "10.0.0.1" or "2001:db8::1". */
void addr_format(char out[ADDR_IP_STRLEN], __u16 family, const __u8 a[16]);
/* "10.0.0.1:80" or "[2001:db8::1]:443". */
void addr_format_port(char out[ADDR_STRLEN], __u16 family, const __u8 a[16], __u16 port);
/* "ipv4" or "ipv6". */
const char *addr_family_name(__u16 family);

#endif
