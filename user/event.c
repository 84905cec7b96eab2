// SPDX-License-Identifier: GPL-2.0
#include "event.h"

#include <errno.h>
#include <string.h>
#include "addr.h"

int event_decode_state(const void *data, size_t size, struct tw_state_event *out)
{
	if (size < sizeof(*out))
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	if (out->type != TW_REC_STATE || out->old_state >= TW_STATE_MAX ||
	    out->new_state >= TW_STATE_MAX)
		return -EINVAL;
	addr_unmap_endpoints(&out->ep);
	return 0;
}

int event_decode_conn(const void *data, size_t size, struct tw_conn *out)
{
	int i;

	if (size < sizeof(*out))
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	if (out->type != TW_REC_CONN || out->nsteps > TW_STEPS_MAX ||
	    out->first_old_state >= TW_STATE_MAX)
		return -EINVAL;
	for (i = 0; i < out->nsteps; i++)
		if (out->step_state[i] >= TW_STATE_MAX)
			return -EINVAL;
	addr_unmap_endpoints(&out->ep);
	return 0;
}

int event_decode_stuck(const void *data, size_t size, struct tw_stuck *out)
{
	if (size < sizeof(*out))
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	if (out->type != TW_REC_STUCK || out->state >= TW_STATE_MAX ||
	    out->age_from >= TW_AGE_MAX || out->first_old_state >= TW_STATE_MAX ||
	    out->first_state >= TW_STATE_MAX)
		return -EINVAL;
	addr_unmap_endpoints(&out->ep);
	return 0;
}

int event_decode_reset(const void *data, size_t size, struct tw_reset *out)
{
	if (size < sizeof(*out))
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	return out->type == TW_REC_RESET ? 0 : -EINVAL;
}

int event_type(const void *data, size_t size)
{
	return size ? *(const __u8 *)data : 0;
}
