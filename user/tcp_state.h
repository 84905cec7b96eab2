/* SPDX-License-Identifier: GPL-2.0 */
/* TCP state names as the kernel spells them, without the TCP_ prefix. */
#ifndef TCPWAVE_TCP_STATE_H
#define TCPWAVE_TCP_STATE_H

/* "ESTABLISHED" ... "NEW_SYN_RECV"; "UNKNOWN(n)" is never returned: "?" instead. */
const char *tcp_state_name(unsigned int state);

#endif
