// SPDX-License-Identifier: GPL-2.0
#include "tcp_state.h"
#include <linux/types.h>
#include "tcpwave.h"

static const char *const names[TW_STATE_MAX] = {
	[TW_ESTABLISHED] = "ESTABLISHED", [TW_SYN_SENT] = "SYN_SENT",
	[TW_SYN_RECV] = "SYN_RECV",	  [TW_FIN_WAIT1] = "FIN_WAIT1",
	[TW_FIN_WAIT2] = "FIN_WAIT2",	  [TW_TIME_WAIT] = "TIME_WAIT",
	[TW_CLOSE] = "CLOSE",		  [TW_CLOSE_WAIT] = "CLOSE_WAIT",
	[TW_LAST_ACK] = "LAST_ACK",	  [TW_LISTEN] = "LISTEN",
	[TW_CLOSING] = "CLOSING",	  [TW_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

const char *tcp_state_name(unsigned int state)
{
	return state < TW_STATE_MAX && names[state] ? names[state] : "?";
}
