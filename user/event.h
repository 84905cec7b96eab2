/* SPDX-License-Identifier: GPL-2.0 */
/* Records as they come off the ring buffer, checked and normalised. */
#ifndef TCPWAVE_EVENT_H
#define TCPWAVE_EVENT_H

#include <stddef.h>
#include <linux/types.h>
#include "tcpwave.h"

/*
 * Copy the ring buffer record at data into *out, after checking its size
 * and type; v4-mapped endpoints become IPv4. 0, or -EINVAL for a record
 * that is not a well-formed state event.
 */
int event_decode_state(const void *data, size_t size, struct tw_state_event *out);
/* The same for a connection record; also checks its step count. */
int event_decode_conn(const void *data, size_t size, struct tw_conn *out);
int event_decode_reset(const void *data, size_t size, struct tw_reset *out);
/* A stuck connection: its states and age source in range. */
int event_decode_stuck(const void *data, size_t size, struct tw_stuck *out);
/* The end of a watched FIN_WAIT2 hand-over: its kind in range, its times in order. */
int event_decode_handover_end(const void *data, size_t size, struct tw_handover_end *out);
/* The record type at data (TW_REC_*), or 0 when there is none. */
int event_type(const void *data, size_t size);
/* The cgroup id a record carries (transitions, connections, stuck ones), or 0. */
__u64 event_cgroup_id(const void *data, size_t size);

#endif
