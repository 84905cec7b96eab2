/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How many TCP sockets the kernel holds in given states now, as `ss` counts
 * them: NETLINK_SOCK_DIAG dumps (inet_diag), IPv4 and IPv6. Only tcpwave's
 * own network namespace: a netlink socket sees the namespace it was made in.
 */
#ifndef TCPWAVE_SOCK_COUNT_H
#define TCPWAVE_SOCK_COUNT_H

#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

/*
 * counts[state] for each state in the mask (1 << TW_TIME_WAIT | ...); the
 * kernel filters by state, so only those sockets cross. A timewait socket
 * counts in its substate, TIME_WAIT or FIN_WAIT2, as ss shows it. 0 or -errno.
 */
int sock_count_states(uint32_t states, uint64_t counts[TW_STATE_MAX]);

#endif
