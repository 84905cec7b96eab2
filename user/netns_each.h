/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Run something once in each network namespace of the host. The BPF tcp
 * iterator shows only the sockets of the namespace its reader is in
 * (bpf_iter_tcp: seq_file_net()), and tcpwave traces them all.
 */
#ifndef TCPWAVE_NETNS_EACH_H
#define TCPWAVE_NETNS_EACH_H

struct netns_each_result {
	unsigned int visited; /* namespaces fn ran in */
	unsigned int unreachable; /* namespaces setns() refused (no CAP_SYS_ADMIN over them) */
};

/*
 * fn(ctx) in the caller's own namespace, then in each other one that a
 * process is in (/proc/PID/ns/net) or that has a name (/run/netns, `ip
 * netns`), then back home. A namespace only a thread or a socket keeps alive
 * is not found. Stops at fn's first error and returns it; -errno when the
 * way home fails (the caller cannot go on in a stranger's namespace).
 */
int netns_each(int (*fn)(void *ctx), void *ctx, struct netns_each_result *res);

#endif
