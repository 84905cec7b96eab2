/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Community ID flow hash, version 1 (corelight/community-id-spec): the
 * string that Zeek, Suricata, Wireshark, Arkime and Elastic log for a flow,
 * so that their records and tcpwave's join on one string comparison.
 */
#ifndef TCPWAVE_COMMUNITY_ID_H
#define TCPWAVE_COMMUNITY_ID_H

#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

/* "1:" and the base64 of a 20-byte SHA-1 (28 characters), NUL-terminated. */
#define COMMUNITY_ID_STRLEN 31

/*
 * The Community ID of the TCP flow between ep's two ends, with `seed`.
 * A dual-stack socket's IPv4 connection (::ffff:a.b.c.d at both ends) is
 * hashed as the IPv4 flow it is on the wire. 0, or -EINVAL when the record
 * lacks part of the 4-tuple (a port or an address of 0: a connect() the
 * kernel gave up before it chose the local port), and then out is "".
 */
int community_id_tcp(char out[COMMUNITY_ID_STRLEN], const struct tw_endpoints *ep, uint16_t seed);

#endif
