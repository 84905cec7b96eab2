// SPDX-License-Identifier: GPL-2.0
#include "stuck.h"

#define MS 1000000ull
#define CHECK_MIN_NS (10 * MS)
#define CHECK_MAX_NS (1000 * MS)

uint64_t stuck_check_interval_ns(uint64_t stuck_ns)
{
	uint64_t every = stuck_ns / 4;

	if (every < CHECK_MIN_NS)
		return CHECK_MIN_NS;
	return every > CHECK_MAX_NS ? CHECK_MAX_NS : every;
}

enum conn_open stuck_open(const struct tw_stuck *s)
{
	struct tw_conn c = {
		.type = TW_REC_CONN,
		.nsteps = 1,
		.first_old_state = s->first_old_state,
		.flags = TW_CONN_OPEN,
		.step_state = { s->first_state },
	};
	struct conn_env env = { 0 };
	struct conn_verdict v;

	conn_classify(&c, &env, &v);
	return v.open;
}

uint64_t stuck_age_ns(const struct tw_stuck *s)
{
	return s->ts_ns > s->state_start_ns ? s->ts_ns - s->state_start_ns : 0;
}

bool stuck_age_exact(const struct tw_stuck *s)
{
	return s->age_from == TW_AGE_TRANSITION;
}

const char *stuck_age_from_name(__u8 age_from)
{
	static const char *const names[TW_AGE_MAX] = {
		[TW_AGE_TRANSITION] = "transition",
		[TW_AGE_LAST_ACK] = "last_ack",
		[TW_AGE_TIMEWAIT] = "timewait_entry",
		[TW_AGE_FIRST_SEEN] = "first_seen",
	};

	return age_from < TW_AGE_MAX ? names[age_from] : "?";
}
