/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether a peer can be on this host, judged by its address: loopback, or an
 * address of an interface in tcpwave's network namespace (getifaddrs()),
 * read again when older than LOCAL_ADDRS_MAX_AGE_NS so that new ones count;
 * or, in a replay, the tracing host's addresses as the recording gives them.
 * A peer in another namespace counts when we reach it by one of our own
 * addresses (a container reaching the host by its bridge address); the
 * addresses inside other namespaces are not read.
 */
#ifndef TCPWAVE_LOCAL_ADDRS_H
#define TCPWAVE_LOCAL_ADDRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#define LOCAL_ADDRS_MAX_AGE_NS (10 * 1000 * 1000 * 1000ull)

struct local_addr {
	__u16 family; /* AF_INET or AF_INET6 */
	__u8 addr[16]; /* IPv4 in the first 4 bytes, as in struct tw_endpoints */
};

struct local_addrs {
	struct local_addr *addrs;
	size_t count, cap;
	uint64_t read_ns; /* CLOCK_MONOTONIC when last read; 0: never */
	bool recorded; /* a recording's: this host's are never read */
};

/* 127.0.0.0/8 or ::1 (tw_is_loopback(), the rule the kernel side uses too). */
bool local_addrs_is_loopback(__u16 family, const __u8 addr[16]);
void local_addrs_add(struct local_addrs *l, __u16 family, const __u8 addr[16]);
bool local_addrs_contains(const struct local_addrs *l, __u16 family, const __u8 addr[16]);
/* Replace the set with this namespace's interface addresses: 0 or -errno. */
int local_addrs_read(struct local_addrs *l);
/*
 * Read the interface addresses again when they are older than
 * LOCAL_ADDRS_MAX_AGE_NS at now_ns (never for recorded ones): true when the
 * set changed. Addresses that cannot be read are kept until the next try.
 */
bool local_addrs_refresh(struct local_addrs *l, uint64_t now_ns);
/* Loopback, or one of the addresses as last refreshed. */
bool local_addrs_is_local(const struct local_addrs *l, __u16 family, const __u8 addr[16]);
void local_addrs_free(struct local_addrs *l);

#endif
