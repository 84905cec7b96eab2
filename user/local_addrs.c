// SPDX-License-Identifier: GPL-2.0
#include "local_addrs.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "tcpwave.h"

bool local_addrs_is_loopback(__u16 family, const __u8 addr[16])
{
	return (family == AF_INET || family == AF_INET6) && tw_is_loopback(family, addr);
}

void local_addrs_add(struct local_addrs *l, __u16 family, const __u8 addr[16])
{
	struct local_addr *a;

	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		a = realloc(l->addrs, cap * sizeof(*a));
		if (!a) {
			fputs("tcpwave: out of memory\n", stderr);
			exit(1);
		}
		l->addrs = a;
		l->cap = cap;
	}
	a = &l->addrs[l->count++];
	a->family = family;
	memcpy(a->addr, addr, 16);
}

bool local_addrs_contains(const struct local_addrs *l, __u16 family, const __u8 addr[16])
{
	size_t i;

	for (i = 0; i < l->count; i++)
		if (l->addrs[i].family == family && memcmp(l->addrs[i].addr, addr, 16) == 0)
			return true;
	return false;
}

int local_addrs_read(struct local_addrs *l)
{
	struct ifaddrs *all, *ifa;
	__u8 addr[16];

	if (getifaddrs(&all))
		return -errno;
	l->count = 0;
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		const struct sockaddr *sa = ifa->ifa_addr;

		if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
			continue;
		memset(addr, 0, sizeof(addr));
		if (sa->sa_family == AF_INET)
			memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		else
			memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		local_addrs_add(l, sa->sa_family, addr);
	}
	freeifaddrs(all);
	return 0;
}

/* The same addresses in the same order: getifaddrs() lists them as the kernel keeps them. */
static bool same_addrs(const struct local_addr *a, size_t na, const struct local_addrs *l)
{
	return na == l->count && (!na || !memcmp(a, l->addrs, na * sizeof(*a)));
}

bool local_addrs_refresh(struct local_addrs *l, uint64_t now_ns)
{
	struct local_addr *before;
	size_t nbefore = l->count;
	bool first = !l->read_ns, changed;

	if (l->recorded || (!first && now_ns - l->read_ns < LOCAL_ADDRS_MAX_AGE_NS))
		return false;
	l->read_ns = now_ns ? now_ns : 1;
	before = nbefore ? malloc(nbefore * sizeof(*before)) : NULL;
	if (nbefore && !before)
		return false; /* no memory to compare: keep what there is, try again later */
	if (nbefore)
		memcpy(before, l->addrs, nbefore * sizeof(*before));
	/* Failed, it keeps what it had and tries again after the same age. */
	if (local_addrs_read(l)) {
		free(before);
		return false;
	}
	changed = first || !same_addrs(before, nbefore, l);
	free(before);
	return changed;
}

bool local_addrs_is_local(const struct local_addrs *l, __u16 family, const __u8 addr[16])
{
	return local_addrs_is_loopback(family, addr) || local_addrs_contains(l, family, addr);
}

void local_addrs_free(struct local_addrs *l)
{
	free(l->addrs);
	memset(l, 0, sizeof(*l));
}
