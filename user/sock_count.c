// SPDX-License-Identifier: GPL-2.0
#include "sock_count.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* More than a dump batch can hold: netlink_dump() fills at most 32 KiB (max_recvmsg_len). */
#define DUMP_BUF_BYTES (64 * 1024)

static int send_request(int fd, int family, uint32_t states)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = (__u32)family,
		},
		.req = {
			.sdiag_family = (__u8)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = states,
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* Count one batch of answers; 1 when the dump is done, 0 for more, or -errno. */
static int count_batch(const void *buf, size_t len, uint64_t counts[TW_STATE_MAX])
{
	const struct nlmsghdr *nlh;
	const struct inet_diag_msg *m;
	const struct nlmsgerr *e;

	for (nlh = buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
		switch (nlh->nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR:
			e = NLMSG_DATA(nlh);
			return e->error ? e->error : -EPROTO;
		case SOCK_DIAG_BY_FAMILY:
			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				return -EPROTO;
			m = NLMSG_DATA(nlh);
			if (m->idiag_state < TW_STATE_MAX)
				counts[m->idiag_state]++;
			break;
		}
	}
	return 0;
}

static int dump_family(int fd, int family, uint32_t states, uint64_t counts[TW_STATE_MAX])
{
	static char buf[DUMP_BUF_BYTES] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;
	int err;

	err = send_request(fd, family, states);
	while (!err) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPROTO;
		err = count_batch(buf, (size_t)n, counts);
	}
	return err < 0 ? err : 0;
}

int sock_count_states(uint32_t states, uint64_t counts[TW_STATE_MAX])
{
	int fd, err;

	memset(counts, 0, TW_STATE_MAX * sizeof(counts[0]));
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	err = dump_family(fd, AF_INET, states, counts);
	if (!err)
		err = dump_family(fd, AF_INET6, states, counts);
	close(fd);
	return err;
}
