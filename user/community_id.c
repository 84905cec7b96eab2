// SPDX-License-Identifier: GPL-2.0
#include "community_id.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include "addr.h"

_Static_assert(COMMUNITY_ID_STRLEN == 2 + BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1,
	       "COMMUNITY_ID_STRLEN holds \"1:\", the base64 of a SHA-1 and a NUL");

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static bool all_zero(const uint8_t *a, size_t len)
{
	while (len--)
		if (*a++)
			return false;
	return true;
}

/* The bytes to hash for ep's flow, and their length; -EINVAL if ep lacks part of its 4-tuple. */
static int hash_input(uint8_t in[COMMUNITY_ID_INPUT_MAX], const struct tw_endpoints *ep_in,
		      uint16_t seed)
{
	struct tw_endpoints ep = *ep_in;
	const uint8_t *first_addr, *second_addr;
	uint16_t first_port, second_port;
	uint8_t *p = in;
	size_t alen;
	int cmp;

	/* What the wire carries: IPv4 packets, whatever the socket's family. */
	addr_unmap_endpoints(&ep);
	alen = ep.family == AF_INET6 ? 16 : 4;
	if (!ep.lport || !ep.rport || all_zero(ep.laddr, alen) || all_zero(ep.raddr, alen))
		return -EINVAL;

	/* The numerically smaller address goes first; with equal addresses, the smaller port. */
	cmp = memcmp(ep.laddr, ep.raddr, alen);
	if (cmp < 0 || (cmp == 0 && ep.lport <= ep.rport)) {
		first_addr = ep.laddr;
		first_port = ep.lport;
		second_addr = ep.raddr;
		second_port = ep.rport;
	} else {
		first_addr = ep.raddr;
		first_port = ep.rport;
		second_addr = ep.laddr;
		second_port = ep.lport;
	}
	put_be16(p, seed);
	p += 2;
	memcpy(p, first_addr, alen);
	p += alen;
	memcpy(p, second_addr, alen);
	p += alen;
	*p++ = IPPROTO_TCP;
	*p++ = 0;
	put_be16(p, first_port);
	p += 2;
	put_be16(p, second_port);
	p += 2;
	return (int)(p - in);
}

static void hash_to_id(char out[COMMUNITY_ID_STRLEN], const uint8_t *in, size_t len)
{
	uint8_t digest[SHA1_DIGEST_SIZE];
	struct sha1_ctx sha;

	sha1_init(&sha);
	sha1_update(&sha, len, in);
	sha1_digest(&sha, sizeof(digest), digest);
	memcpy(out, "1:", 2);
	base64_encode_raw(out + 2, sizeof(digest), digest);
	out[2 + BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = '\0';
}

int community_id_tcp(struct community_id_memo *memo, char out[COMMUNITY_ID_STRLEN],
		     const struct tw_endpoints *ep, uint16_t seed)
{
	uint8_t in[COMMUNITY_ID_INPUT_MAX];
	int len = hash_input(in, ep, seed);
	unsigned int k;

	out[0] = '\0';
	if (len < 0)
		return len;
	/* The ports are the input's last four bytes, and what varies most between flows. */
	k = (in[len - 1] ^ in[len - 3] ^ (in[len - 2] << 3) ^ (in[len - 4] << 3)) %
	    COMMUNITY_ID_MEMO_SLOTS;
	if (memo->slot[k].len != len || memcmp(memo->slot[k].input, in, (size_t)len)) {
		hash_to_id(memo->slot[k].id, in, (size_t)len);
		memcpy(memo->slot[k].input, in, (size_t)len);
		memo->slot[k].len = (uint8_t)len;
	}
	memcpy(out, memo->slot[k].id, COMMUNITY_ID_STRLEN);
	return 0;
}
