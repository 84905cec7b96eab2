// SPDX-License-Identifier: GPL-2.0
#include "errno_name.h"

#include <errno.h>
#include <stddef.h>

/*
 * Where sk_err comes from: tcp_reset() (ECONNREFUSED, EPIPE, ECONNRESET),
 * tcp_write_err() (ETIMEDOUT or the soft error an ICMP left), icmp_err_convert[]
 * and icmpv6_err_convert() (the unreachables, EMSGSIZE, EACCES, EPROTO, ...),
 * tcp_abort() (ECONNABORTED, `ss -K`), and what routing, netfilter or memory
 * pressure make a connect() fail with.
 */
static const char *const names[] = {
	[ETIMEDOUT] = "ETIMEDOUT",
	[ECONNREFUSED] = "ECONNREFUSED",
	[ECONNRESET] = "ECONNRESET",
	[EPIPE] = "EPIPE",
	[ECONNABORTED] = "ECONNABORTED",
	[EHOSTUNREACH] = "EHOSTUNREACH",
	[ENETUNREACH] = "ENETUNREACH",
	[EHOSTDOWN] = "EHOSTDOWN",
	[ENONET] = "ENONET",
	[ENETDOWN] = "ENETDOWN",
	[EPROTO] = "EPROTO",
	[ENOPROTOOPT] = "ENOPROTOOPT",
	[EOPNOTSUPP] = "EOPNOTSUPP",
	[EMSGSIZE] = "EMSGSIZE",
	[EACCES] = "EACCES",
	[EPERM] = "EPERM",
	[ENOMEM] = "ENOMEM",
	[ENOBUFS] = "ENOBUFS",
	[EADDRNOTAVAIL] = "EADDRNOTAVAIL",
	[EADDRINUSE] = "EADDRINUSE",
};

const char *errno_name(int err)
{
	long e = err < 0 ? -(long)err : err;

	return e < (long)(sizeof(names) / sizeof(names[0])) ? names[e] : NULL;
}
