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
 * The hashed bytes: seed, the lesser endpoint's address, the other's, the
 * IP protocol, a zero byte, the lesser endpoint's port, the other's; every
 * number in network byte order, so 40 bytes for IPv6, 16 for IPv4.
 */
#define COMMUNITY_ID_INPUT_MAX (2 + 16 + 16 + 1 + 1 + 2 + 2)
#define COMMUNITY_ID_MEMO_SLOTS 64

/*
 * The IDs hashed last, by the bytes hashed. Both ends of a connection
 * between two local sockets are one flow, and their records come close
 * together: the second end's ID costs a comparison instead of a SHA-1 and
 * a base64. A slot is named by the two ports; a collision only costs the
 * hash.
 */
struct community_id_memo {
	struct {
		uint8_t input[COMMUNITY_ID_INPUT_MAX];
		uint8_t len; /* 0: empty */
		char id[COMMUNITY_ID_STRLEN];
	} slot[COMMUNITY_ID_MEMO_SLOTS];
};

/*
 * The Community ID of the TCP flow between ep's two ends, with `seed`,
 * taken from memo when it is there and left there otherwise.
 * A dual-stack socket's IPv4 connection (::ffff:a.b.c.d at both ends) is
 * hashed as the IPv4 flow it is on the wire. 0, or -EINVAL when the record
 * lacks part of the 4-tuple (a port or an address of 0: a connect() the
 * kernel gave up before it chose the local port), and then out is "".
 */
int community_id_tcp(struct community_id_memo *memo, char out[COMMUNITY_ID_STRLEN],
		     const struct tw_endpoints *ep, uint16_t seed);

#endif
