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

int event_decode_handover_end(const void *data, size_t size, struct tw_handover_end *out)
{
	if (size < sizeof(*out))
		return -EINVAL;
	memcpy(out, data, sizeof(*out));
	if (out->type != TW_REC_HANDOVER_END || out->end < TW_HANDOVER_PEER_FIN ||
	    out->end > TW_HANDOVER_GONE || out->ts_ns < out->seen_ns)
		return -EINVAL;
	addr_unmap_endpoints(&out->ep);
	return 0;
}

int event_type(const void *data, size_t size)
{
	return size ? *(const __u8 *)data : 0;
}

__u64 event_cgroup_id(const void *data, size_t size)
{
	size_t at;
	__u64 id;

	switch (event_type(data, size)) {
	case TW_REC_STATE:
		at = offsetof(struct tw_state_event, cgroup_id);
		break;
	case TW_REC_CONN:
		at = offsetof(struct tw_conn, cgroup_id);
		break;
	case TW_REC_STUCK:
		at = offsetof(struct tw_stuck, cgroup_id);
		break;
	default:
		return 0;
	}
	if (size < at + sizeof(id))
		return 0;
	memcpy(&id, (const char *)data + at, sizeof(id));
	return id;
}
