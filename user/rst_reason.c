// SPDX-License-Identifier: GPL-2.0
/* The table; rst_reason_btf.c fills it from the kernel. No libbpf here. */
#include "rst_reason.h"

#include <stdio.h>

/* The longest name in 6.18, TCP_DISCONNECT_WITH_DATA, is 24 bytes; longer ones are cut. */
#define RST_REASON_NAME_LEN 48

static char names[RST_REASON_MAX][RST_REASON_NAME_LEN];

void rst_reason_set(unsigned int value, const char *name)
{
	if (value >= RST_REASON_MAX)
		return;
	snprintf(names[value], sizeof(names[value]), "%s", name ? name : "");
}

const char *rst_reason_name(unsigned int value)
{
	return value < RST_REASON_MAX && names[value][0] ? names[value] : NULL;
}
