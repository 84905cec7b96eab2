/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filters on records: -p, -c, -P, --lport, --rport, --laddr, --raddr, -4,
 * -6, --netns, --cgroup. Parsed here, and applied here to every record that
 * userspace gets, with the rules the kernel side applies before records
 * leave (bpf/filter.bpf.h): live, the kernel has already filtered and this
 * only confirms; on a replayed recording this is the only filter.
 *
 * Different filters combine with AND, the values of one filter with OR.
 * A port or address that is 0 is not known yet (connect() picks its local
 * port after its first transition; a listener has no remote end), and an
 * owner not known yet is not known: the verdict is pending until it is, or
 * until the connection's end, when what is still unknown matches nothing.
 */
#ifndef TCPWAVE_FILTER_H
#define TCPWAVE_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "tcpwave.h"

/* Values one filter takes; the kernel's maps are sized to what was given. */
#define FILTER_VALUES_MAX 64
#define FILTER_CGROUP_PATH_MAX 512

enum filter_verdict {
	FILTER_PENDING,
	FILTER_PASS,
	FILTER_DROP,
};

struct filter_cidr {
	__u16 family; /* AF_INET or AF_INET6 */
	__u8 prefix; /* bits */
	__u8 addr[16]; /* host bits cleared */
};

struct filter_cgroup {
	/* as given; cgroup_path_find() makes it canonical: relative to the cgroup v2 root */
	char path[FILTER_CGROUP_PATH_MAX];
	uint64_t id; /* cgroup id (kernfs node id), for the kernel */
	uint32_t level; /* depth below the root (0) */
};

struct filter {
	__u32 pids[FILTER_VALUES_MAX];
	unsigned int npids;
	char comms[FILTER_VALUES_MAX][TW_COMM_LEN]; /* NUL-padded */
	unsigned int ncomms;
	__u16 ports[FILTER_VALUES_MAX]; /* -P: either end */
	unsigned int nports;
	__u16 lports[FILTER_VALUES_MAX];
	unsigned int nlports;
	__u16 rports[FILTER_VALUES_MAX];
	unsigned int nrports;
	struct filter_cidr laddrs[FILTER_VALUES_MAX];
	unsigned int nladdrs;
	struct filter_cidr raddrs[FILTER_VALUES_MAX];
	unsigned int nraddrs;
	bool ipv4; /* -4; options_parse() refuses it with -6 */
	bool ipv6;
	__u32 netns[FILTER_VALUES_MAX];
	unsigned int nnetns;
	struct filter_cgroup cgroups[TW_CGROUPS_MAX];
	unsigned int ncgroups;
	/*
	 * The records come from a kernel that applied these filters: a fact
	 * that can no longer be checked (a cgroup removed since) rejects none.
	 */
	bool kernel_applied;
};

/*
 * One option's value into f. 0; -EINVAL for a value that is not one,
 * -ENOSPC past FILTER_VALUES_MAX (TW_CGROUPS_MAX cgroups). A value given
 * twice counts once.
 */
int filter_add_pid(struct filter *f, const char *s);
/* An exact process name (comm): 1 to TW_COMM_LEN - 1 bytes. */
int filter_add_comm(struct filter *f, const char *s);
/* "80" or "80,443,8080"; which is TW_PORT_EITHER, TW_PORT_LOCAL or TW_PORT_REMOTE. */
int filter_add_ports(struct filter *f, unsigned int which, const char *s);
/*
 * "10.0.0.0/8", "2001:db8::/32", or an address alone (all its bits). An
 * IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) is the IPv4 prefix it maps,
 * and -ERANGE when shorter than /96; any other IPv6 prefix, ::/0 too, is
 * IPv6 only. end is TW_ADDR_LOCAL or TW_ADDR_REMOTE.
 */
int filter_add_cidr(struct filter *f, unsigned int end, const char *s);
/* A network namespace inode (ls -iL /proc/PID/ns/net). */
int filter_add_netns(struct filter *f, const char *s);
/* An absolute path; cgroup_path_find() resolves it. */
int filter_add_cgroup(struct filter *f, const char *s);

/* Which filters are on: TW_F_*, as the kernel side takes them. */
__u32 filter_flags(const struct filter *f);

/* The tuple filters on endpoints (as decoded), netns and cgroup path (NULL: unknown). */
enum filter_verdict filter_tuple(const struct filter *f, const struct tw_endpoints *ep, __u32 netns,
				 const char *cgroup, bool final);
/* The owner filters; known says whether owner is valid. */
enum filter_verdict filter_owner(const struct filter *f, const struct tw_owner *owner, bool known,
				 bool final);
/* A connection record (complete, or still open at the end: final either way). */
bool filter_match_conn(const struct filter *f, const struct tw_conn *c, const char *cgroup);

/* Is cgroup path `path` the subtree `tree` or below it ("/a/b" is under "/a" and "/"). */
bool filter_cgroup_under(const char *path, const char *tree);

/* A prefix for the kernel's tries, with every end it applies to (TW_ADDR_*). */
struct filter_lpm_entry {
	__u8 prefix;
	__u8 addr[16];
	__u8 ends;
};

/*
 * The trie entries for one family: each prefix given, with the ends of
 * every prefix given that contains it (a trie lookup finds only the
 * longest). out has room for 2 * FILTER_VALUES_MAX; returns the count.
 */
unsigned int filter_lpm_entries(const struct filter *f, __u16 family,
				struct filter_lpm_entry *out);

struct filter_port_entry {
	__u16 port;
	__u8 ends; /* TW_PORT_* */
};

/* The port map's entries; out has room for 3 * FILTER_VALUES_MAX. Returns the count. */
unsigned int filter_port_entries(const struct filter *f, struct filter_port_entry *out);

/*
 * --events: transitions decided in order, per socket. One whose verdict is
 * pending waits (up to TW_HELD_MAX per socket, as in the kernel) and shares
 * the fate of the socket's next transition that is decided.
 */
#define FILTER_STREAM_BUCKETS 1024

struct filter_held;

struct filter_stream {
	const struct filter *f;
	struct filter_held *buckets[FILTER_STREAM_BUCKETS];
	uint64_t filtered; /* transitions dropped */
	uint64_t held_dropped; /* pending transitions that found no room (or memory) */
};

void filter_stream_init(struct filter_stream *s, const struct filter *f);
/*
 * Take transition e (cgroup: its socket's cgroup path, NULL if unknown) and
 * put in out the transitions to hand on now, in order: those held for its
 * socket, then e. Returns how many (0 to TW_HELD_MAX + 1).
 */
unsigned int filter_stream_push(struct filter_stream *s, const struct tw_state_event *e,
				const char *cgroup, struct tw_state_event out[TW_HELD_MAX + 1]);
/* Forget what is still held: its sockets never got a verdict. */
void filter_stream_free(struct filter_stream *s);

#endif
