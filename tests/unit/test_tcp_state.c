// SPDX-License-Identifier: GPL-2.0
/* State names as the kernel spells them (include/net/tcp_states.h). */
#include "unit.h"

#include <limits.h>
#include <linux/types.h>
#include "tcp_state.h"
#include "tcpwave.h"

TEST(test_tcp_state_names_match_kernel_spelling)
{
	CHECK_STR(tcp_state_name(TW_ESTABLISHED), "ESTABLISHED");
	CHECK_STR(tcp_state_name(TW_SYN_SENT), "SYN_SENT");
	CHECK_STR(tcp_state_name(TW_SYN_RECV), "SYN_RECV");
	CHECK_STR(tcp_state_name(TW_FIN_WAIT1), "FIN_WAIT1");
	CHECK_STR(tcp_state_name(TW_FIN_WAIT2), "FIN_WAIT2");
	CHECK_STR(tcp_state_name(TW_TIME_WAIT), "TIME_WAIT");
	CHECK_STR(tcp_state_name(TW_CLOSE), "CLOSE");
	CHECK_STR(tcp_state_name(TW_CLOSE_WAIT), "CLOSE_WAIT");
	CHECK_STR(tcp_state_name(TW_LAST_ACK), "LAST_ACK");
	CHECK_STR(tcp_state_name(TW_LISTEN), "LISTEN");
	CHECK_STR(tcp_state_name(TW_CLOSING), "CLOSING");
	CHECK_STR(tcp_state_name(TW_NEW_SYN_RECV), "NEW_SYN_RECV");
}

TEST(test_tcp_state_numbers_match_kernel)
{
	CHECK_INT(TW_ESTABLISHED, 1);
	CHECK_INT(TW_CLOSE, 7);
	CHECK_INT(TW_NEW_SYN_RECV, 12);
}

TEST(test_tcp_state_out_of_range_is_question_mark)
{
	CHECK_STR(tcp_state_name(0), "?");
	CHECK_STR(tcp_state_name(TW_STATE_MAX), "?");
	CHECK_STR(tcp_state_name(255), "?");
	CHECK_STR(tcp_state_name(UINT_MAX), "?");
}
