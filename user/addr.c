// SPDX-License-Identifier: GPL-2.0
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include "digits.h"

static const __u8 v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool addr_is_v4_mapped(const __u8 a[16])
{
	return memcmp(a, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

static bool is_zero(const __u8 a[16])
{
	static const __u8 zero[16];

	return memcmp(a, zero, 16) == 0;
}

static void unmap(__u8 a[16])
{
	memmove(a, a + 12, 4);
	memset(a + 4, 0, 12);
}

void addr_unmap_endpoints(struct tw_endpoints *ep)
{
	bool l_ok, r_ok;

	if (ep->family != AF_INET6)
		return;
	l_ok = addr_is_v4_mapped(ep->laddr) || is_zero(ep->laddr);
	r_ok = addr_is_v4_mapped(ep->raddr) || is_zero(ep->raddr);
	/* Both zero is an unbound IPv6 socket, not an IPv4 one. */
	if (!l_ok || !r_ok || (is_zero(ep->laddr) && is_zero(ep->raddr)))
		return;
	unmap(ep->laddr);
	unmap(ep->raddr);
	ep->family = AF_INET;
}

/* Dotted quad without inet_ntop(), which goes through sprintf() for IPv4. */
static void format_v4(char *out, const __u8 a[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		__u8 b = a[i];

		if (b >= 100)
			*out++ = (char)('0' + b / 100);
		if (b >= 10)
			*out++ = (char)('0' + b / 10 % 10);
		*out++ = (char)('0' + b % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
}

void addr_format(char out[ADDR_IP_STRLEN], __u16 family, const __u8 a[16])
{
	if (family != AF_INET6)
		format_v4(out, a);
	else if (!inet_ntop(AF_INET6, a, out, ADDR_IP_STRLEN))
		snprintf(out, ADDR_IP_STRLEN, "?");
}

void addr_format_port(char out[ADDR_STRLEN], __u16 family, const __u8 a[16], __u16 port)
{
	char *p = out;

	if (family == AF_INET6)
		*p++ = '[';
	addr_format(p, family, a);
	p += strlen(p);
	if (family == AF_INET6)
		*p++ = ']';
	*p++ = ':';
	*digits_write(p, port) = '\0';
}

const char *addr_family_name(__u16 family)
{
	return family == AF_INET6 ? "ipv6" : "ipv4";
}
