/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stuck: what a struct tw_stuck record means, and how often the kernel's
 * sockets are checked for one. Pure C: no BPF, no I/O.
 */
#ifndef TCPWAVE_STUCK_H
#define TCPWAVE_STUCK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "conn.h"
#include "tcpwave.h"

/*
 * The time between checks for --stuck stuck_ns: a quarter of it, so a
 * connection is reported at most 25% late, but at least 10 ms apart and at
 * most 1 s (a check walks every connection's state).
 */
uint64_t stuck_check_interval_ns(uint64_t stuck_ns);
/* How the connection opened, by the rules of conn_classify(). */
enum conn_open stuck_open(const struct tw_stuck *s);
/* How long the connection has been in its state when found: a lower bound unless exact. */
uint64_t stuck_age_ns(const struct tw_stuck *s);
/* Whether tcpwave saw the state begin (else the age is a lower bound). */
bool stuck_age_exact(const struct tw_stuck *s);
/* "transition", "last_ack", "timewait_entry", "first_seen" (enum tw_age_from), or "?". */
const char *stuck_age_from_name(__u8 age_from);

#endif
