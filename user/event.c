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
