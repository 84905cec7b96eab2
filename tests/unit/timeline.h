/* SPDX-License-Identifier: GPL-2.0 */
/* Connection records built the way the kernel side builds them, for tests of what reads them. */
#ifndef TCPWAVE_UNIT_TIMELINE_H
#define TCPWAVE_UNIT_TIMELINE_H

#include <linux/types.h>
#include "tcpwave.h"

#define MS 1000000ull

struct step {
	__u8 state;
	__u64 t_ns;
};

/* A finished connection that went through steps (offsets from its start). */
static inline struct tw_conn timeline(__u8 first_old_state, const struct step *steps, int n,
				      __u32 flags)
{
	struct tw_conn c = { .type = TW_REC_CONN, .first_old_state = first_old_state };
	int i;

	for (i = 0; i < n; i++) {
		c.step_state[i] = steps[i].state;
		c.step_ns[i] = steps[i].t_ns;
	}
	c.nsteps = n;
	c.flags = flags | TW_CONN_OWNER_KNOWN | TW_CONN_COUNTERS_KNOWN;
	c.tw_max = 262144;
	return c;
}

#define TIMELINE(first, flags, ...)                                                                \
	timeline(first, (const struct step[]){ __VA_ARGS__ },                                      \
		 sizeof((const struct step[]){ __VA_ARGS__ }) / sizeof(struct step), flags)

#endif
